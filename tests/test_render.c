/*
 * test_render.c -- the tile renderer: styles, drawing, labels, PNG.
 *
 * Correctness is checked against an independent rasteriser: the same
 * parcels are burned by GDAL's own `gdal_rasterize` command and the filled
 * pixels must overlap (IoU >= 0.97). Golden tiles in tests/golden/ catch
 * material changes of the drawing (TGIS_UPDATE_GOLDEN=1 rewrites them);
 * the label tests check that neighbouring tiles agree pixel for pixel.
 */
#include <math.h>
#include <pthread.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

/* GDAL's headers use enumerators beyond int, which -Wpedantic flags. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>
#pragma GCC diagnostic pop

#include "tgis_int.h"
#include "geom.h"
#include "render.h"
#include "harness.h"

#ifndef TGIS_STYLES_DIR
#define TGIS_STYLES_DIR "data/styles"
#endif
#ifndef TGIS_GOLDEN_DIR
#define TGIS_GOLDEN_DIR "tests/golden"
#endif


/* ---- helpers ------------------------------------------------------------- */

typedef struct rng { uint64_t s; } rng;
static double rnd(rng *r)
{
  r->s = r->s * 6364136223846793005ULL + 1442695040888963407ULL;
  return (double)(r->s >> 11) / 9007199254740992.0;
}

/* Tashkent: the tile of zoom z that holds 69.2797 E, 41.3111 N. */
static void city_tile(int z, int *x, int *y)
{
  double mx = 69.2797 * M_PI / 180 * 6378137.0;
  double my = log(tan(M_PI / 4 + 41.3111 * M_PI / 360)) * 6378137.0;
  double span = 2 * TGIS_MERC_HALF / ldexp(1.0, z);
  *x = (int)floor((mx + TGIS_MERC_HALF) / span);
  *y = (int)floor((TGIS_MERC_HALF - my) / span);
}

static tgis_status add_ring(tgis_source_mem *m, tgis_geombuf *g, const char *layer, int64_t id,
                            const double *xy, int n, size_t na, const char *const *k,
                            const char *const *v)
{
  tgis_geombuf_reset(g, TGIS_GEOM_POLYGON);
  for (int i = 0; i <= n; i++)
    if (tgis_geombuf_add_point(g, xy[2 * (i % n)], xy[2 * (i % n) + 1]))
      return TGIS_ENOMEM;
  if (tgis_geombuf_end_part(g) || tgis_geombuf_end_poly(g))
    return TGIS_ENOMEM;
  return tgis_source_mem_add(m, layer, id, g, na, k, v);
}

static tgis_status add_line(tgis_source_mem *m, tgis_geombuf *g, const char *layer, int64_t id,
                            const double *xy, int n, size_t na, const char *const *k,
                            const char *const *v)
{
  tgis_geombuf_reset(g, TGIS_GEOM_LINESTRING);
  for (int i = 0; i < n; i++)
    if (tgis_geombuf_add_point(g, xy[2 * i], xy[2 * i + 1]))
      return TGIS_ENOMEM;
  if (tgis_geombuf_end_part(g))
    return TGIS_ENOMEM;
  return tgis_source_mem_add(m, layer, id, g, na, k, v);
}

static tgis_status add_pt(tgis_source_mem *m, tgis_geombuf *g, const char *layer, int64_t id,
                          double x, double y, size_t na, const char *const *k,
                          const char *const *v)
{
  tgis_geombuf_reset(g, TGIS_GEOM_POINT);
  if (tgis_geombuf_add_point(g, x, y))
    return TGIS_ENOMEM;
  return tgis_source_mem_add(m, layer, id, g, na, k, v);
}

static tgis_status parse(tgis_style **s, tgis_ctx *ctx, const char *name, const char *text)
{
  return tgis_style_parse(s, ctx, name, text, strlen(text));
}

static int write_file(const char *path, const void *data, size_t n)
{
  FILE *f = fopen(path, "wb");
  int ok = f && fwrite(data, 1, n, f) == n;
  if (f)
    ok &= fclose(f) == 0;
  return ok ? 0 : -1;
}

static uint8_t *read_file(const char *path, size_t *n)
{
  FILE *f = fopen(path, "rb");
  uint8_t *buf = NULL;
  long len;
  if (!f)
    return NULL;
  if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0 &&
      (buf = malloc((size_t)len)) && fread(buf, 1, (size_t)len, f) == (size_t)len) {
    *n = (size_t)len;
  } else {
    free(buf);
    buf = NULL;
  }
  fclose(f);
  return buf;
}

/* Run a command without a shell; returns its exit status or -1. */

/* A copy of an image's pixels (the scratch's are overwritten by the next
 * render). */
static uint8_t *copy_pixels(const tgis_image *img)
{
  uint8_t *p = malloc((size_t)img->height * img->stride);
  if (p)
    memcpy(p, img->rgba, (size_t)img->height * img->stride);
  return p;
}

/* ---- styles -------------------------------------------------------------- */

static void test_render__themes_load(void)
{
  static const char *const themes[] = { "base", "utilities", "facilities", "coverage" };
  tgis_ctx *ctx = NULL;
  ASSERT_OK_CTX(ctx, tgis_open(&ctx, NULL, NULL));
  for (size_t i = 0; i < sizeof themes / sizeof *themes; i++) {
    char path[512];
    tgis_style *s = NULL;
    snprintf(path, sizeof path, "%s/%s.yaml", TGIS_STYLES_DIR, themes[i]);
    ASSERT_OK_CTX(ctx, tgis_style_load(&s, ctx, path));
    ASSERT_STR_EQ(s->name, themes[i]);
    ASSERT(s->n_layers > 0);
    ASSERT(s->title != NULL);
    /* Overlays are transparent, the base map is not. */
    ASSERT_EQ(s->has_background, i == 0);
    tgis_style_free(s);
  }
  tgis_close(ctx);
}

static void test_render__style_values_parse(void)
{
  tgis_ctx *ctx = NULL;
  tgis_style *s = NULL;
  const tgis_style_layer *l;
  ASSERT_OK_CTX(ctx, tgis_open(&ctx, NULL, NULL));
  ASSERT_OK_CTX(ctx, parse(&s, ctx, "t.yaml",
    "background: \"#abc\"\n"
    "layers:\n"
    "  - source: roads\n"
    "    min_zoom: 12\n"
    "    filter: { class: [primary, trunk], oneway: '1' }\n"
    "    stroke: \"#11223380\"\n"
    "    stroke_width: [[12, 1], [16, 5]]\n"
    "    casing: { width: 1, color: \"#000\" }\n"
    "    dash: [4, 2]\n"
    "    label: { attribute: name, priority: 3, halo: ~ }\n"
    "  - source: coverage\n"
    "    fill: { attribute: t, classes: [{max: 5, colour: \"#010203\"}, {min: 5, colour: \"#040506\"}], default: \"#070809\" }\n"));
  ASSERT_EQ(s->n_layers, 2);
  ASSERT(s->has_background);
  ASSERT_EQ(s->background.r, 0xaa);
  l = &s->layers[0];
  ASSERT_STR_EQ(l->source, "roads");
  ASSERT_EQ(l->min_zoom, 12);
  ASSERT_EQ(l->max_zoom, 22);
  ASSERT_EQ(l->n_filters, 2);
  ASSERT_EQ(l->filters[0].n_values, 2);
  ASSERT_STR_EQ(l->filters[1].values[0], "1");
  ASSERT_EQ(l->stroke.colour.a, 0x80);
  ASSERT_NEAR(tgis_style_num_at(&l->stroke_width, 14), 3, 1e-9);
  ASSERT_NEAR(tgis_style_num_at(&l->stroke_width, 10), 1, 1e-9);
  ASSERT_NEAR(tgis_style_num_at(&l->stroke_width, 20), 5, 1e-9);
  ASSERT(l->has_casing);
  ASSERT_EQ(l->n_dash, 2);
  ASSERT_EQ(l->label.priority, 3);
  ASSERT_EQ(l->label.halo.a, 0);
  ASSERT_EQ(l->label.min_zoom, 12);   /* the layer's by default */
  l = &s->layers[1];
  ASSERT_EQ(l->fill.kind, TGIS_PAINT_CLASSES);
  ASSERT_EQ(l->fill.n_classes, 2);
  ASSERT(isinf(l->fill.classes[0].min));
  ASSERT_EQ(l->fill.fallback.b, 9);
  ASSERT_STR_EQ(l->id, "layers[1]");
  tgis_style_free(s);
  tgis_close(ctx);
}

typedef struct bad_style {
  const char *text;
  const char *want;       /* the message must contain this */
} bad_style;

static void test_render__style_errors_name_file_line_and_key(void)
{
  static const bad_style cases[] = {
    { "", "bad.yaml:1: empty style" },
    { "# only a comment\n", "bad.yaml:1: empty style" },
    { "layers: [\n", "bad.yaml:2: YAML" },
    { "layers:\n  - source: x\n   fill: \"#fff\"\n", "bad.yaml:3: YAML" },
    { "- a\n- b\n", "bad.yaml:1: expected a mapping" },
    { "title: x\n", "layers: missing" },
    { "layers: 5\n", "bad.yaml:1: layers: expected a list" },
    { "layers: []\n", "bad.yaml:1: layers: 0 layers" },
    { "layers:\n  - fill: \"#fff\"\n", "bad.yaml:2: layers[0]: a layer needs a 'source'" },
    { "layers:\n  - source: parcels\n", "layers[0]: the layer draws nothing" },
    { "layers:\n  - source: parcels\n    fil: \"#fff\"\n", "bad.yaml:3: layers[0].fil: unknown key" },
    { "layers:\n  - source: parcels\n    fill: \"#fff\"\n    fill: \"#000\"\n", "bad.yaml:4: layers[0]: fill: duplicate key" },
    { "bogus: 1\nlayers:\n  - source: p\n    fill: \"#fff\"\n", "bad.yaml:1: bogus: unknown key" },
    { "layers:\n  - source: parcels\n    fill: \"#12345\"\n", "bad.yaml:3: layers[0].fill: '#12345' is not a colour" },
    { "layers:\n  - source: parcels\n    fill: \"#ggg\"\n", "layers[0].fill: '#ggg' is not a colour" },
    { "layers:\n  - source: parcels\n    fill: #fff\n", "bad.yaml:3: layers[0].fill: missing value (quote colours" },
    { "layers:\n  - source: parcels\n    fill: [1, 2]\n", "layers[0].fill: expected a mapping, found a list" },
    { "layers:\n  - source: roads\n    stroke: \"#fff\"\n    min_zoom: 16\n    max_zoom: 12\n",
      "bad.yaml:5: layers[0]: min_zoom 16 is above max_zoom 12" },
    { "layers:\n  - source: roads\n    stroke: \"#fff\"\n    min_zoom: 23\n", "layers[0].min_zoom: 23 is out of range" },
    { "layers:\n  - source: roads\n    stroke: \"#fff\"\n    min_zoom: -1\n", "layers[0].min_zoom: -1 is out of range" },
    { "layers:\n  - source: roads\n    stroke: \"#fff\"\n    min_zoom: 3.5\n", "layers[0].min_zoom: 3.5 is not a whole number" },
    { "layers:\n  - source: roads\n    stroke: \"#fff\"\n    min_zoom: twelve\n", "layers[0].min_zoom: 'twelve' is not a number" },
    { "layers:\n  - source: roads\n    stroke: \"#fff\"\n    stroke_width: 1e400\n", "bad.yaml:4: layers[0].stroke_width: 1e400 is out of range" },
    { "layers:\n  - source: roads\n    stroke: \"#fff\"\n    stroke_width: 99999999999999999999999\n", "layers[0].stroke_width: 99999999999999999999999 is out of range" },
    { "layers:\n  - source: roads\n    stroke: \"#fff\"\n    stroke_width: nan\n", "layers[0].stroke_width: nan is out of range" },
    { "layers:\n  - source: roads\n    stroke: \"#fff\"\n    stroke_width: [[14, 1], [12, 2]]\n", "layers[0].stroke_width[1]: zoom stops must increase" },
    { "layers:\n  - source: roads\n    stroke: \"#fff\"\n    stroke_width: [[14, 1, 3]]\n", "layers[0].stroke_width[0]: a zoom stop is a pair" },
    { "layers:\n  - source: roads\n    stroke: \"#fff\"\n    stroke_width: {a: 1}\n", "layers[0].stroke_width: expected a value, found a mapping" },
    { "layers:\n  - source: roads\n    casing: {width: 1, colour: \"#000\"}\n    label: {attribute: n}\n", "a casing needs a stroke" },
    { "layers:\n  - source: roads\n    stroke: \"#fff\"\n    casing: {width: 1}\n", "bad.yaml:4: layers[0].casing: a casing needs 'width' and 'colour'" },
    { "layers:\n  - source: roads\n    stroke: \"#fff\"\n    dash: [1, 2, 3]\n", "layers[0].dash: 3 dash lengths" },
    { "layers:\n  - source: roads\n    stroke: \"#fff\"\n    line_cap: pointy\n", "layers[0].line_cap: 'pointy' is not one of butt, round, square" },
    { "layers:\n  - source: n\n    symbol: {shape: star, size: 4, fill: \"#fff\"}\n", "layers[0].symbol.shape: 'star' is not one of" },
    { "layers:\n  - source: n\n    symbol: {fill: \"#fff\"}\n", "layers[0].symbol: a symbol needs a 'size'" },
    { "layers:\n  - source: n\n    label: {size: 10}\n", "layers[0].label: a label needs an 'attribute'" },
    { "layers:\n  - source: n\n    label: {attribute: name, size: 1000}\n", "layers[0].label.size: 1000 is out of range" },
    { "layers:\n  - source: n\n    label: {attribute: name, bold: maybe}\n", "layers[0].label.bold: 'maybe' is not true or false" },
    { "layers:\n  - source: n\n    label: {attribute: name, repeat_distance: 1000}\n", "layers[0].label.repeat_distance: 1000 is out of range" },
    { "layers:\n  - source: p\n    filter: {}\n    fill: \"#fff\"\n", "layers[0].filter: empty filter" },
    { "layers:\n  - source: p\n    filter: {a: []}\n    fill: \"#fff\"\n", "layers[0].filter.a: 0 values" },
    { "layers:\n  - source: p\n    filter: {a: [x, {b: 1}]}\n    fill: \"#fff\"\n", "layers[0].filter.a[1]: expected a value, found a mapping" },
    { "layers:\n  - source: p\n    fill: {attribute: t}\n", "layers[0].fill: a colour by attribute needs" },
    { "layers:\n  - source: p\n    fill: {attribute: t, classes: [{min: 5, max: 1, colour: \"#fff\"}]}\n", "layers[0].fill.classes[0]: min 5 is not below max 1" },
    { "layers:\n  - source: p\n    fill: {attribute: t, classes: [{max: 1}]}\n", "layers[0].fill.classes[0]: a class needs a colour" },
    { "layers:\n  - source: p\n    fill: {attribute: t, values: {a: \"#fff\", b: red}}\n", "layers[0].fill.values.b: 'red' is not a colour" },
    { "layers:\n  - source: p\n    fill: {attribute: t, values: {a: \"#fff\"}, classes: []}\n", "give either 'classes' or 'values'" },
    { "layers:\n  - source: p\n    fill: \"#fff\"\n---\nlayers: []\n", "bad.yaml:5: a second YAML document" },
    { "layers:\n  - &a {source: p, fill: \"#fff\", bogus: *a}\n", "layers[0].bogus: unknown key" },
    { "layers:\n  - source: p\n    fill: !!binary \"#fff\"\n    stroke: \"#fff\"\n    stroke_width: \"x\"\n", "layers[0].stroke_width: 'x' is not a number" },
  };
  tgis_ctx *ctx = NULL;
  ASSERT_OK_CTX(ctx, tgis_open(&ctx, NULL, NULL));
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    tgis_style *s = (tgis_style *)1;
    tgis_status st = parse(&s, ctx, "dir/bad.yaml", cases[i].text);
    if (st != TGIS_EPARSE || s != NULL || !strstr(tgis_errmsg(ctx), cases[i].want)) {
      HARNESS_FAIL("case %zu: status %d, message \"%s\", wanted \"%s\"", i, st,
                   tgis_errmsg(ctx), cases[i].want);
      tgis_style_free(s == (tgis_style *)1 ? NULL : s);
      tgis_close(ctx);
      return;
    }
    /* Every message starts with file:line. */
    ASSERT(strncmp(tgis_errmsg(ctx), "bad.yaml:", 9) == 0);
  }
  tgis_close(ctx);
}

static void test_render__style_file_errors(void)
{
  tgis_ctx *ctx = NULL;
  tgis_style *s = NULL;
  char path[512];
  ASSERT_OK_CTX(ctx, tgis_open(&ctx, NULL, NULL));
  ASSERT_EQ(tgis_style_load(&s, ctx, "/nonexistent/none.yaml"), TGIS_ENOTFOUND);
  ASSERT_CONTAINS(tgis_errmsg(ctx), "none.yaml");
  /* Binary junk: an error with a line, never a crash. */
  harness_path(path, sizeof path, "junk.yaml");
  {
    uint8_t junk[4096];
    rng r = { 7 };
    for (size_t i = 0; i < sizeof junk; i++)
      junk[i] = (uint8_t)(rnd(&r) * 256);
    ASSERT_EQ(write_file(path, junk, sizeof junk), 0);
  }
  ASSERT_EQ(tgis_style_load(&s, ctx, path), TGIS_EPARSE);
  ASSERT_CONTAINS(tgis_errmsg(ctx), "junk.yaml:");
  ASSERT(s == NULL);
  tgis_close(ctx);
}

/* Fail allocation N for N = 1, 2, ... until parsing succeeds: every
 * failure is TGIS_ENOMEM and leaks nothing (ASan checks). */
typedef struct oom_alloc { int countdown; } oom_alloc;
static void *oom_malloc(size_t n, void *p)
{
  oom_alloc *fa = p;
  if (fa->countdown >= 0 && fa->countdown-- == 0)
    return NULL;
  return malloc(n);
}
static void *oom_realloc(void *ptr, size_t n, void *p)
{
  oom_alloc *fa = p;
  if (fa->countdown >= 0 && fa->countdown-- == 0)
    return NULL;
  return realloc(ptr, n);
}
static void oom_free(void *ptr, void *p) { (void)p; free(ptr); }

static void test_render__out_of_memory_is_reported(void)
{
  const char *text =
    "layers:\n"
    "  - source: parcels\n"
    "    filter: { land_use: [a, b] }\n"
    "    fill: { attribute: land_use, values: { a: \"#fff\", b: \"#000\" } }\n"
    "    label: { attribute: name }\n";
  oom_alloc fa = { -1 };
  tgis_allocator al = { oom_malloc, oom_realloc, oom_free, &fa };
  tgis_options o = TGIS_OPTIONS_INIT;
  tgis_ctx *ctx = NULL;
  int n;
  o.allocator = &al;
  ASSERT_OK_CTX(ctx, tgis_open(&ctx, NULL, &o));
  for (n = 0; n < 200; n++) {
    tgis_style *s = NULL;
    tgis_status st;
    fa.countdown = n;
    st = parse(&s, ctx, "oom.yaml", text);
    fa.countdown = -1;
    if (st == TGIS_OK) {
      tgis_style_free(s);
      break;
    }
    ASSERT_EQ(st, TGIS_ENOMEM);
    ASSERT(s == NULL);
  }
  ASSERT(n > 3 && n < 200);
  /* The same for a render. */
  {
    tgis_style *s = NULL;
    tgis_source_mem *m = NULL;
    tgis_geombuf g;
    tgis_extent b;
    int x, y;
    const char *k[] = { "land_use", "name" }, *v[] = { "a", "Parcel" };
    city_tile(16, &x, &y);
    tgis_render_tile_bounds(&b, 16, x, y);
    ASSERT_OK_CTX(ctx, parse(&s, ctx, "oom.yaml", text));
    ASSERT_OK_CTX(ctx, tgis_source_mem_new(&m, ctx));
    tgis_geombuf_init(&g, ctx);
    for (int i = 0; i < 20; i++) {
      double q[8] = { b.minx + i * 30, b.miny + 100, b.minx + i * 30 + 25, b.miny + 100,
                      b.minx + i * 30 + 25, b.miny + 300, b.minx + i * 30, b.miny + 300 };
      ASSERT_OK_CTX(ctx, add_ring(m, &g, "parcels", i, q, 4, 2, k, v));
    }
    tgis_geombuf_free(&g);
    tgis_tile_source src = tgis_source_mem_source(m);
    for (n = 0; n < 400; n++) {
      tgis_render_scratch *r = NULL;
      tgis_image img;
      tgis_status st;
      fa.countdown = n;
      st = tgis_render_scratch_new(&r, ctx);
      if (st == TGIS_OK)
        st = tgis_render_tile(&img, r, s, &src, 16, x, y, NULL);
      fa.countdown = -1;
      tgis_render_scratch_free(r);
      if (st == TGIS_OK)
        break;
      if (st != TGIS_ENOMEM) {
        HARNESS_FAIL("allocation %d: status %d: %s", n, st, tgis_errmsg(ctx));
        break;
      }
    }
    tgis_source_mem_free(m);
    tgis_style_free(s);
    ASSERT(n > 3 && n < 400);
  }
  tgis_close(ctx);
}

/* ---- the in-memory source ------------------------------------------------ */

typedef struct counter { int n; int64_t seen[64]; } counter;
static tgis_status count_feature(const tgis_feature_view *f, void *payload)
{
  counter *c = payload;
  if (c->n < 64)
    c->seen[c->n] = f->id;
  c->n++;
  return TGIS_OK;
}

static void test_render__mem_source_emits_each_feature_once(void)
{
  tgis_ctx *ctx = NULL;
  tgis_source_mem *m = NULL;
  tgis_geombuf g;
  tgis_tile_source src;
  const char *k[] = { "kind" }, *v[] = { "x" };
  counter c;
  ASSERT_OK_CTX(ctx, tgis_open(&ctx, NULL, NULL));
  ASSERT_OK_CTX(ctx, tgis_source_mem_new(&m, ctx));
  tgis_geombuf_init(&g, ctx);
  /* Many small squares and one big one spanning every grid cell. */
  for (int i = 0; i < 400; i++) {
    double x = (i % 20) * 100.0, y = (i / 20) * 100.0;
    double q[8] = { x, y, x + 10, y, x + 10, y + 10, x, y + 10 };
    ASSERT_OK_CTX(ctx, add_ring(m, &g, "a", i, q, 4, 1, k, v));
  }
  {
    double q[8] = { -5, -5, 2000, -5, 2000, 2000, -5, 2000 };
    ASSERT_OK_CTX(ctx, add_ring(m, &g, "a", 999, q, 4, 1, k, v));
  }
  tgis_geombuf_free(&g);
  src = tgis_source_mem_source(m);
  for (int indexed = 0; indexed < 2; indexed++) {
    tgis_extent q = { 150, 150, 1020, 420 };
    int big = 0;
    if (indexed)
      ASSERT_OK_CTX(ctx, tgis_source_mem_index(m));
    memset(&c, 0, sizeof c);
    ASSERT_OK_CTX(ctx, src.query(src.self, "a", &q, 0, NULL, NULL, count_feature, &c));
    /* x in 200..1000 (9 columns) by y in 200..400 (3 rows), and the big one */
    ASSERT_EQ(c.n, 9 * 3 + 1);
    for (int i = 0; i < c.n && i < 64; i++)
      big += c.seen[i] == 999;
    ASSERT_EQ(big, 1);
    memset(&c, 0, sizeof c);
    ASSERT_OK_CTX(ctx, src.query(src.self, "missing", &q, 0, NULL, NULL, count_feature, &c));
    ASSERT_EQ(c.n, 0);
  }
  ASSERT_EQ(tgis_source_mem_count(m, "a"), 401);
  tgis_source_mem_free(m);
  tgis_close(ctx);
}

/* A query with a key list gets exactly those keys, in that order, by the
 * very pointers given; a key the feature lacks is a null. */
typedef struct key_check {
  int n, bad;
  const char *const *want;
  size_t n_want;
} key_check;

static tgis_status check_keys(const tgis_feature_view *f, void *payload)
{
  key_check *c = payload;
  c->n++;
  if (f->n_attrs != c->n_want) {
    c->bad++;
    return TGIS_OK;
  }
  for (size_t i = 0; i < f->n_attrs; i++) {
    const char *v = f->values[i];
    const char *expect = strcmp(c->want[i], "kind") == 0 ? "x"
                       : strcmp(c->want[i], "name") == 0 ? (f->id % 2 ? NULL : "Nomi")
                       : NULL;
    c->bad += f->keys[i] != c->want[i];
    c->bad += expect ? !v || strcmp(v, expect) != 0 : v != NULL;
  }
  return TGIS_OK;
}

static void test_render__mem_source_gives_only_the_keys_asked(void)
{
  tgis_ctx *ctx = NULL;
  tgis_source_mem *m = NULL;
  tgis_geombuf g;
  tgis_tile_source src;
  const char *k3[] = { "extra", "kind", "name" }, *v3[] = { "e", "x", "Nomi" };
  const char *k2[] = { "kind", "extra" }, *v2[] = { "x", "e" };
  const char *const want[] = { "name", "missing", "kind", "name", NULL };
  const char *const none[] = { NULL };
  const char *many[TGIS_SOURCE_MAX_KEYS + 2];
  tgis_extent q = { -10, -10, 1000, 1000 };
  key_check c;
  ASSERT_OK_CTX(ctx, tgis_open(&ctx, NULL, NULL));
  ASSERT_OK_CTX(ctx, tgis_source_mem_new(&m, ctx));
  tgis_geombuf_init(&g, ctx);
  /* Even ids have a name; odd ones lack the key (not a null value). */
  for (int i = 0; i < 20; i++) {
    double x = (i % 5) * 100.0, y = (i / 5) * 100.0;
    double r[8] = { x, y, x + 10, y, x + 10, y + 10, x, y + 10 };
    if (i % 2)
      ASSERT_OK_CTX(ctx, add_ring(m, &g, "a", i, r, 4, 2, k2, v2));
    else
      ASSERT_OK_CTX(ctx, add_ring(m, &g, "a", i, r, 4, 3, k3, v3));
  }
  tgis_geombuf_free(&g);
  src = tgis_source_mem_source(m);
  for (int indexed = 0; indexed < 2; indexed++) {
    if (indexed)
      ASSERT_OK_CTX(ctx, tgis_source_mem_index(m));
    memset(&c, 0, sizeof c);
    c.want = want;
    c.n_want = 4;
    ASSERT_OK_CTX(ctx, src.query(src.self, "a", &q, 0, want, NULL, check_keys, &c));
    ASSERT_EQ(c.n, 20);
    ASSERT_EQ(c.bad, 0);
    /* An empty list: every feature, no attributes. */
    memset(&c, 0, sizeof c);
    c.want = none;
    ASSERT_OK_CTX(ctx, src.query(src.self, "a", &q, 0, none, NULL, check_keys, &c));
    ASSERT_EQ(c.n, 20);
    ASSERT_EQ(c.bad, 0);
  }
  /* More keys than a source takes: refused, nothing emitted. */
  for (int i = 0; i < TGIS_SOURCE_MAX_KEYS + 1; i++)
    many[i] = "kind";
  many[TGIS_SOURCE_MAX_KEYS + 1] = NULL;
  memset(&c, 0, sizeof c);
  ASSERT_EQ(src.query(src.self, "a", &q, 0, many, NULL, check_keys, &c), TGIS_EINVAL);
  ASSERT_EQ(c.n, 0);
  many[TGIS_SOURCE_MAX_KEYS] = NULL;     /* exactly the most: fine */
  c.want = many;
  c.n_want = TGIS_SOURCE_MAX_KEYS;
  ASSERT_OK_CTX(ctx, src.query(src.self, "a", &q, 0, many, NULL, check_keys, &c));
  ASSERT_EQ(c.n, 20);
  ASSERT_EQ(c.bad, 0);
  tgis_source_mem_free(m);
  tgis_close(ctx);
}

/* ---- bad input ----------------------------------------------------------- */

static void test_render__bad_tiles_are_refused(void)
{
  tgis_ctx *ctx = NULL;
  tgis_style *s = NULL;
  tgis_source_mem *m = NULL;
  tgis_render_scratch *r = NULL;
  tgis_tile_source src;
  tgis_render_options o = TGIS_RENDER_OPTIONS_INIT;
  tgis_image img;
  uint8_t *png = NULL;
  size_t len = 0;
  tgis_extent b;
  ASSERT_OK_CTX(ctx, tgis_open(&ctx, NULL, NULL));
  ASSERT_OK_CTX(ctx, parse(&s, ctx, "t.yaml", "layers:\n  - source: p\n    fill: \"#fff\"\n"));
  ASSERT_OK_CTX(ctx, tgis_source_mem_new(&m, ctx));
  ASSERT_OK_CTX(ctx, tgis_render_scratch_new(&r, ctx));
  src = tgis_source_mem_source(m);

  ASSERT_EQ(tgis_render_tile(&img, r, s, &src, 23, 0, 0, NULL), TGIS_EINVAL);
  ASSERT_CONTAINS(tgis_errmsg(ctx), "zoom 23 outside 0..22");
  ASSERT_EQ(tgis_render_tile(&img, r, s, &src, -1, 0, 0, NULL), TGIS_EINVAL);
  ASSERT_EQ(tgis_render_tile(&img, r, s, &src, 3, 8, 0, NULL), TGIS_EINVAL);
  ASSERT_CONTAINS(tgis_errmsg(ctx), "tile 3/8/0: x and y must be 0..7");
  ASSERT_EQ(tgis_render_tile(&img, r, s, &src, 3, 0, -1, NULL), TGIS_EINVAL);
  ASSERT_CONTAINS(tgis_errmsg(ctx), "3/0/-1");
  ASSERT_EQ(tgis_render_tile(&img, r, s, &src, 22, 4194304, 0, NULL), TGIS_EINVAL);
  ASSERT_EQ(tgis_render_tile(&img, r, NULL, &src, 3, 0, 0, NULL), TGIS_EINVAL);
  ASSERT_CONTAINS(tgis_errmsg(ctx), "no style");
  ASSERT(img.rgba == NULL);
  ASSERT_EQ(tgis_render_tile_png(&png, &len, r, NULL, &src, 3, 0, 0, NULL, NULL), TGIS_EINVAL);
  ASSERT(png == NULL && len == 0);
  o.scale = 3;
  ASSERT_EQ(tgis_render_tile(&img, r, s, &src, 3, 0, 0, &o), TGIS_EINVAL);
  ASSERT_CONTAINS(tgis_errmsg(ctx), "scale 3");
  o.scale = 1;
  o.gutter = 1000;
  ASSERT_EQ(tgis_render_tile(&img, r, s, &src, 3, 0, 0, &o), TGIS_EINVAL);
  ASSERT_CONTAINS(tgis_errmsg(ctx), "gutter 1000");
  o.gutter = 0;
  o.version = 7;
  ASSERT_EQ(tgis_render_tile(&img, r, s, &src, 3, 0, 0, &o), TGIS_EINVAL);
  ASSERT_EQ(tgis_render_tile_bounds(&b, 23, 0, 0), TGIS_EINVAL);
  /* The extremes are fine. */
  ASSERT_OK_CTX(ctx, tgis_render_tile(&img, r, s, &src, 0, 0, 0, NULL));
  ASSERT_EQ(img.width, 256);
  ASSERT_OK_CTX(ctx, tgis_render_tile(&img, r, s, &src, 22, 4194303, 4194303, NULL));
  ASSERT_OK_CTX(ctx, tgis_render_tile_bounds(&b, 1, 1, 0));
  ASSERT_NEAR(b.minx, 0, 1e-6);
  ASSERT_NEAR(b.maxy, TGIS_MERC_HALF, 1e-6);
  ASSERT_NEAR(b.miny, 0, 1e-6);
  tgis_render_scratch_free(r);
  tgis_source_mem_free(m);
  tgis_style_free(s);
  tgis_close(ctx);
}

/* ---- correctness against gdal_rasterize ---------------------------------- */

/* ~300 parcel-like polygons (quads and pentagons, some rotated) filling the
 * tile's extent. */
static tgis_status make_parcels(tgis_source_mem *m, tgis_geombuf *g, const tgis_extent *b,
                                OGRLayerH lyr, rng *r)
{
  const int nx = 20, ny = 15;
  double cw = (b->maxx - b->minx) / nx, ch = (b->maxy - b->miny) / ny;
  const char *k[] = { "land_use" }, *v[] = { "residential" };
  int64_t id = 1;
  for (int j = 0; j < ny; j++) {
    for (int i = 0; i < nx; i++, id++) {
      double cx = b->minx + (i + 0.5) * cw, cy = b->miny + (j + 0.5) * ch;
      double a = (rnd(r) - 0.5) * 0.8, hw = cw * (0.3 + 0.15 * rnd(r)), hh = ch * (0.3 + 0.15 * rnd(r));
      double xy[10], ca = cos(a), sa = sin(a);
      int n = rnd(r) < 0.3 ? 5 : 4;
      for (int k2 = 0; k2 < n; k2++) {
        double px, py;
        if (n == 4) {
          px = (k2 == 0 || k2 == 3) ? -hw : hw;
          py = k2 < 2 ? -hh : hh;
        } else {
          double t = 2 * M_PI * k2 / 5;
          px = hw * cos(t);
          py = hh * sin(t);
        }
        px *= 1 + (rnd(r) - 0.5) * 0.2;
        py *= 1 + (rnd(r) - 0.5) * 0.2;
        xy[2 * k2] = cx + px * ca - py * sa;
        xy[2 * k2 + 1] = cy + px * sa + py * ca;
      }
      /* Counter-clockwise: GDAL does not care, the renderer must not either. */
      tgis_status st = add_ring(m, g, "parcels", id, xy, n, 1, k, v);
      if (st)
        return st;
      {
        OGRGeometryH poly = OGR_G_CreateGeometry(wkbPolygon);
        OGRGeometryH ring = OGR_G_CreateGeometry(wkbLinearRing);
        OGRFeatureH f = OGR_F_Create(OGR_L_GetLayerDefn(lyr));
        for (int k2 = 0; k2 <= n; k2++)
          OGR_G_AddPoint_2D(ring, xy[2 * (k2 % n)], xy[2 * (k2 % n) + 1]);
        OGR_G_AddGeometryDirectly(poly, ring);
        OGR_F_SetGeometryDirectly(f, poly);
        if (OGR_L_CreateFeature(lyr, f) != OGRERR_NONE) {
          OGR_F_Destroy(f);
          return TGIS_EIO;
        }
        OGR_F_Destroy(f);
      }
    }
  }
  return TGIS_OK;
}

static void iou_at_zoom(int z, double *iou_out)
{
  tgis_ctx *ctx = NULL;
  tgis_style *s = NULL;
  tgis_source_mem *m = NULL;
  tgis_render_scratch *r = NULL;
  tgis_tile_source src;
  tgis_geombuf g;
  tgis_extent b;
  tgis_image img;
  GDALDatasetH ds = NULL, out = NULL;
  OGRSpatialReferenceH srs = NULL;
  OGRLayerH lyr;
  uint8_t burn[256 * 256];
  char gpkg[512], tif[512], te[4][64];
  int x, y, rc;
  long both = 0, either = 0;
  rng rg = { (uint64_t)z * 7919 };

  *iou_out = -1;
  city_tile(z, &x, &y);
  ASSERT_OK_CTX(ctx, tgis_open(&ctx, NULL, NULL));
  ASSERT_OK_CTX(ctx, tgis_render_tile_bounds(&b, z, x, y));
  ASSERT_OK_CTX(ctx, parse(&s, ctx, "iou.yaml",
                           "layers:\n  - source: parcels\n    fill: \"#000000\"\n"));
  ASSERT_OK_CTX(ctx, tgis_source_mem_new(&m, ctx));

  GDALAllRegister();
  snprintf(gpkg, sizeof gpkg, "%s/parcels-z%d.gpkg", harness_tmpdir(), z);
  snprintf(tif, sizeof tif, "%s/parcels-z%d.tif", harness_tmpdir(), z);
  remove(gpkg);
  remove(tif);
  ds = GDALCreate(GDALGetDriverByName("GPKG"), gpkg, 0, 0, 0, GDT_Unknown, NULL);
  ASSERT(ds != NULL);
  srs = OSRNewSpatialReference(NULL);
  OSRImportFromEPSG(srs, 3857);
  lyr = GDALDatasetCreateLayer(ds, "parcels", srs, wkbPolygon, NULL);
  ASSERT(lyr != NULL);
  tgis_geombuf_init(&g, ctx);
  ASSERT_OK_CTX(ctx, make_parcels(m, &g, &b, lyr, &rg));
  tgis_geombuf_free(&g);
  GDALClose(ds);
  OSRDestroySpatialReference(srs);
  ASSERT_OK_CTX(ctx, tgis_source_mem_index(m));
  ASSERT_EQ(tgis_source_mem_count(m, "parcels"), 300);

  snprintf(te[0], sizeof te[0], "%.6f", b.minx);
  snprintf(te[1], sizeof te[1], "%.6f", b.miny);
  snprintf(te[2], sizeof te[2], "%.6f", b.maxx);
  snprintf(te[3], sizeof te[3], "%.6f", b.maxy);
  {
    char *argv[] = { "gdal_rasterize", "-q", "-l", "parcels", "-burn", "255", "-ot", "Byte",
                     "-init", "0", "-te", te[0], te[1], te[2], te[3], "-ts", "256", "256",
                     "-of", "GTiff", gpkg, tif, NULL };
    rc = harness_run(argv);
  }
  if (rc != 0)
    HARNESS_FAIL("gdal_rasterize failed (%d): is gdal-bin installed?", rc);
  ASSERT(rc == 0);
  out = GDALOpen(tif, GA_ReadOnly);
  ASSERT(out != NULL);
  ASSERT_EQ(GDALGetRasterXSize(out), 256);
  rc = GDALRasterIO(GDALGetRasterBand(out, 1), GF_Read, 0, 0, 256, 256, burn, 256, 256,
                    GDT_Byte, 0, 0);
  GDALClose(out);
  ASSERT_EQ(rc, CE_None);

  ASSERT_OK_CTX(ctx, tgis_render_scratch_new(&r, ctx));
  src = tgis_source_mem_source(m);
  ASSERT_OK_CTX(ctx, tgis_render_tile(&img, r, s, &src, z, x, y, NULL));
  for (int py = 0; py < 256; py++)
    for (int px = 0; px < 256; px++) {
      int ours = img.rgba[(size_t)py * img.stride + 4 * (size_t)px + 3] >= 128;
      int theirs = burn[py * 256 + px] != 0;
      both += ours && theirs;
      either += ours || theirs;
    }
  *iou_out = either ? (double)both / (double)either : 0;
  tgis_render_scratch_free(r);
  tgis_source_mem_free(m);
  tgis_style_free(s);
  tgis_close(ctx);
}

static void test_render__matches_gdal_rasterize_at_z15(void)
{
  double iou;
  iou_at_zoom(15, &iou);
  if (harness_cur_failed)
    return;
  printf("     IoU with gdal_rasterize at z15: %.4f\n", iou);
  ASSERT(iou >= 0.97);
}

static void test_render__matches_gdal_rasterize_at_z17(void)
{
  double iou;
  iou_at_zoom(17, &iou);
  if (harness_cur_failed)
    return;
  printf("     IoU with gdal_rasterize at z17: %.4f\n", iou);
  ASSERT(iou >= 0.97);
}

/* ---- the fixture: a little of everything --------------------------------- */

typedef struct fixture {
  tgis_ctx *ctx;
  tgis_style *style;
  tgis_source_mem *mem;
  tgis_tile_source src;
  int z, x, y;
} fixture;

static void fixture_free(fixture *f)
{
  tgis_source_mem_free(f->mem);
  tgis_style_free(f->style);
  tgis_close(f->ctx);
  memset(f, 0, sizeof *f);
}

/* Parcels by land use and travel time, three named roads (one along the
 * tile's east edge), a district edge and two facilities. */
static tgis_status fixture_init(fixture *f)
{
  static const char *const uses[] = { "residential", "multifamily", "commercial",
                                      "industrial", "public", "green" };
  const char *pk[] = { "land_use", "travel_min" }, *rk[] = { "class", "name" };
  const char *fk[] = { "kind", "name" }, *dk[] = { "name" };
  tgis_geombuf g;
  tgis_extent b;
  tgis_status st;
  char path[512], tm[16];
  double w, h;
  int64_t id = 1;

  memset(f, 0, sizeof *f);
  if ((st = tgis_open(&f->ctx, NULL, NULL)))
    return st;
  snprintf(path, sizeof path, "%s/fixture.yaml", TGIS_GOLDEN_DIR);
  if ((st = tgis_style_load(&f->style, f->ctx, path)) ||
      (st = tgis_source_mem_new(&f->mem, f->ctx)))
    return st;
  f->z = 16;
  city_tile(16, &f->x, &f->y);
  tgis_render_tile_bounds(&b, f->z, f->x, f->y);
  w = b.maxx - b.minx;
  h = b.maxy - b.miny;
  tgis_geombuf_init(&g, f->ctx);
  /* A 6x4 block of parcels in the south-west, slightly skewed. */
  for (int j = 0; j < 4; j++)
    for (int i = 0; i < 6; i++) {
      double x0 = b.minx + w * (0.04 + i * 0.075), y0 = b.miny + h * (0.06 + j * 0.1);
      double q[8] = { x0, y0, x0 + w * 0.07, y0 + h * 0.01, x0 + w * 0.072, y0 + h * 0.095,
                      x0 + w * 0.002, y0 + h * 0.09 };
      const char *v[2];
      v[0] = uses[(i + 2 * j) % 6];
      snprintf(tm, sizeof tm, "%d", (i * 7 + j * 5) % 40);
      v[1] = (i + j) % 7 == 3 ? NULL : tm;
      if ((st = add_ring(f->mem, &g, "parcels", id++, q, 4, 2, pk, v)))
        goto done;
    }
  {
    /* A horizontal primary across the tile, a diagonal residential, and a
     * tertiary along the east edge (its name crosses into x+1). */
    double a[] = { b.minx - w * 0.2, b.miny + h * 0.55, b.minx + w * 0.5, b.miny + h * 0.56,
                   b.maxx + w * 0.2, b.miny + h * 0.54 };
    double d[] = { b.minx + w * 0.55, b.miny - h * 0.1, b.minx + w * 0.8, b.miny + h * 0.5 };
    double e[] = { b.maxx - w * 0.03, b.miny + h * 0.6, b.maxx - w * 0.01, b.maxy + h * 0.1 };
    const char *v1[] = { "primary", "Amir Temur shoh ko'chasi" };
    const char *v2[] = { "residential", "Bog'ishamol" };
    const char *v3[] = { "tertiary", "Qatortol ko'chasi" };
    if ((st = add_line(f->mem, &g, "roads", id++, a, 3, 2, rk, v1)) ||
        (st = add_line(f->mem, &g, "roads", id++, d, 2, 2, rk, v2)) ||
        (st = add_line(f->mem, &g, "roads", id++, e, 2, 2, rk, v3)))
      goto done;
  }
  {
    double q[8] = { b.minx + w * 0.62, b.miny - h, b.maxx + w, b.miny - h, b.maxx + w,
                    b.miny + h * 0.3, b.minx + w * 0.62, b.miny + h * 0.3 };
    const char *v[] = { "Yakkasaroy" };
    if ((st = add_ring(f->mem, &g, "districts", id++, q, 4, 1, dk, v)))
      goto done;
  }
  {
    const char *v1[] = { "polyclinic", "12-oilaviy poliklinika" };
    const char *v2[] = { "school", "64-maktab" };
    if ((st = add_pt(f->mem, &g, "facilities", id++, b.minx + w * 0.15, b.miny + h * 0.8, 2, fk, v1)) ||
        (st = add_pt(f->mem, &g, "facilities", id++, b.minx + w * 0.6, b.miny + h * 0.75, 2, fk, v2)))
      goto done;
  }
  st = tgis_source_mem_index(f->mem);
  f->src = tgis_source_mem_source(f->mem);
done:
  tgis_geombuf_free(&g);
  return st;
}

/* Compare an image with a golden PNG by decoded pixels: a pixel differs if
 * a channel is off by more than 40; at most 0.3% may differ and the mean
 * channel difference stays under 1. TGIS_UPDATE_GOLDEN=1 writes it. */
static void check_golden(tgis_ctx *ctx, const tgis_image *img, const char *name)
{
  char path[512], actual[512];
  uint8_t *data = NULL, *png = NULL;
  size_t n = 0, len = 0, differ = 0;
  double sum = 0, npx;
  tgis_image gold;
  snprintf(path, sizeof path, "%s/%s", TGIS_GOLDEN_DIR, name);
  ASSERT_OK_CTX(ctx, tgis_png_encode(&png, &len, ctx, img, NULL, NULL));
  if (getenv("TGIS_UPDATE_GOLDEN")) {
    ASSERT_EQ(write_file(path, png, len), 0);
    printf("     wrote %s\n", path);
  }
  harness_path(actual, sizeof actual, name);
  write_file(actual, png, len);   /* to look at after a failure */
  tgis_png_free(ctx, png);
  data = read_file(path, &n);
  if (!data)
    HARNESS_FAIL("cannot read %s (TGIS_UPDATE_GOLDEN=1 writes it)", path);
  ASSERT(data != NULL);
  if (tgis_png_decode(&gold, ctx, data, n)) {
    free(data);
    HARNESS_FAIL("%s: %s", path, tgis_errmsg(ctx));
    return;
  }
  free(data);
  if (gold.width != img->width || gold.height != img->height) {
    tgis_png_free(ctx, gold.rgba);
    HARNESS_FAIL("%s is %dx%d, the render %dx%d", name, gold.width, gold.height, img->width,
                 img->height);
    return;
  }
  for (int y = 0; y < img->height; y++)
    for (int x = 0; x < img->width; x++) {
      const uint8_t *a = img->rgba + (size_t)y * img->stride + 4 * (size_t)x;
      const uint8_t *b = gold.rgba + (size_t)y * gold.stride + 4 * (size_t)x;
      int worst = 0;
      for (int c = 0; c < 4; c++) {
        int d = abs((int)a[c] - (int)b[c]);
        sum += d;
        worst = d > worst ? d : worst;
      }
      differ += worst > 40;
    }
  tgis_png_free(ctx, gold.rgba);
  npx = (double)img->width * img->height;
  if (differ > npx * 0.003 || sum / (npx * 4) > 1.0)
    HARNESS_FAIL("%s: %zu pixels differ, mean difference %.2f (render in %s)", name, differ,
                 sum / (npx * 4), actual);
}

static void test_render__golden_tiles(void)
{
  fixture f;
  tgis_render_scratch *r = NULL;
  tgis_render_options o = TGIS_RENDER_OPTIONS_INIT;
  tgis_image img;
  const tgis_render_stats *st;
  ASSERT_OK_CTX(f.ctx, fixture_init(&f));
  ASSERT_OK_CTX(f.ctx, tgis_render_scratch_new(&r, f.ctx));
  ASSERT_OK_CTX(f.ctx, tgis_render_tile(&img, r, f.style, &f.src, f.z, f.x, f.y, NULL));
  st = tgis_render_last_stats(r);
  ASSERT(st->labels >= 4);   /* two roads, two facilities at least */
  check_golden(f.ctx, &img, "fixture-z16.png");
  if (harness_cur_failed)
    goto done;
  o.scale = 2;
  ASSERT_OK_CTX(f.ctx, tgis_render_tile(&img, r, f.style, &f.src, f.z, f.x, f.y, &o));
  check_golden(f.ctx, &img, "fixture-z16@2x.png");
  if (harness_cur_failed)
    goto done;
  /* The parent tile: smaller, no labels at z15 for residential roads. */
  ASSERT_OK_CTX(f.ctx, tgis_render_tile(&img, r, f.style, &f.src, f.z - 1, f.x / 2, f.y / 2, NULL));
  check_golden(f.ctx, &img, "fixture-z15.png");
done:
  tgis_render_scratch_free(r);
  fixture_free(&f);
}

/* Renders differ from the golden when the drawing changes: a control. */
static void test_render__golden_check_sees_a_change(void)
{
  fixture f;
  tgis_render_scratch *r = NULL;
  tgis_image img;
  char path[512];
  size_t n = 0;
  uint8_t *data;
  tgis_image gold;
  long differ = 0;
  ASSERT_OK_CTX(f.ctx, fixture_init(&f));
  ASSERT_OK_CTX(f.ctx, tgis_render_scratch_new(&r, f.ctx));
  /* Drop the roads from the style: the render must differ materially. */
  for (size_t i = 0; i < f.style->n_layers; i++)
    if (strcmp(f.style->layers[i].source, "roads") == 0)
      f.style->layers[i].min_zoom = 22;
  ASSERT_OK_CTX(f.ctx, tgis_render_tile(&img, r, f.style, &f.src, f.z, f.x, f.y, NULL));
  snprintf(path, sizeof path, "%s/fixture-z16.png", TGIS_GOLDEN_DIR);
  data = read_file(path, &n);
  ASSERT(data != NULL);
  ASSERT_OK_CTX(f.ctx, tgis_png_decode(&gold, f.ctx, data, n));
  free(data);
  for (size_t i = 0; i < (size_t)img.width * (size_t)img.height * 4; i += 4)
    for (int c = 0; c < 4; c++)
      if (abs((int)img.rgba[i + (size_t)c] - (int)gold.rgba[i + (size_t)c]) > 40) {
        differ++;
        break;
      }
  tgis_png_free(f.ctx, gold.rgba);
  ASSERT(differ > 256 * 256 * 0.003);
  tgis_render_scratch_free(r);
  fixture_free(&f);
}

/* Thousands of mutated themes (bytes flipped, inserted, dropped, the file
 * cut short): each parses or fails with "file:line:", never crashes. */
static void test_render__mutated_styles_never_crash(void)
{
  static const char *const themes[] = { "base", "utilities", "facilities", "coverage" };
  static const char *const tokens[] = { ":", "- ", "[", "]", "{", "}", "\"", "#", "&a ", "*a",
                                        "\n  ", "1e999", "-7", "~", "\t", "!!str ", "\xc3" };
  tgis_ctx *ctx = NULL;
  rng r = { 2024 };
  int ok = 0, failed = 0;
  fixture f;
  tgis_render_scratch *rs = NULL;
  ASSERT_OK_CTX(f.ctx, fixture_init(&f));
  ctx = f.ctx;
  ASSERT_OK_CTX(ctx, tgis_render_scratch_new(&rs, ctx));
  for (int t = 0; t < 4; t++) {
    char path[512];
    size_t n = 0;
    uint8_t *orig;
    snprintf(path, sizeof path, "%s/%s.yaml", TGIS_STYLES_DIR, themes[t]);
    orig = read_file(path, &n);
    ASSERT(orig != NULL);
    for (int iter = 0; iter < 600; iter++) {
      char *buf = malloc(n + 64);
      size_t len = n;
      tgis_style *st = NULL;
      tgis_status rc;
      ASSERT(buf != NULL);
      memcpy(buf, orig, n);
      for (int k = 0, edits = 1 + (int)(rnd(&r) * 4); k < edits; k++) {
        size_t at = (size_t)(rnd(&r) * (double)len);
        double what = rnd(&r);
        if (what < 0.3) {
          buf[at] = (char)(rnd(&r) * 256);
        } else if (what < 0.6 && len + 8 < n + 64) {
          const char *tok = tokens[(int)(rnd(&r) * (sizeof tokens / sizeof *tokens))];
          size_t tl = strlen(tok);
          memmove(buf + at + tl, buf + at, len - at);
          memcpy(buf + at, tok, tl);
          len += tl;
        } else if (what < 0.9 && len > 1) {
          size_t cut = 1 + (size_t)(rnd(&r) * 8);
          if (at + cut > len)
            cut = len - at;
          memmove(buf + at, buf + at + cut, len - at - cut);
          len -= cut;
        } else {
          len = at;
        }
      }
      rc = tgis_style_parse(&st, ctx, "mut.yaml", buf, len);
      free(buf);
      if (rc == TGIS_OK) {
        /* Whatever the parser accepts, the renderer draws. */
        tgis_image img;
        tgis_render_options o = TGIS_RENDER_OPTIONS_INIT;
        o.scale = 1 + ok % 2;
        ok++;
        rc = tgis_render_tile(&img, rs, st, &f.src, f.z - ok % 3, f.x >> (ok % 3), f.y >> (ok % 3), &o);
        tgis_style_free(st);
        if (rc != TGIS_OK) {
          HARNESS_FAIL("a parsed style failed to render: %s", tgis_errmsg(ctx));
          break;
        }
      } else if (rc == TGIS_EPARSE && strncmp(tgis_errmsg(ctx), "mut.yaml:", 9) == 0) {
        failed++;
      } else {
        HARNESS_FAIL("status %d, message \"%s\"", rc, tgis_errmsg(ctx));
        break;
      }
    }
    free(orig);
    if (harness_cur_failed)
      break;
  }
  tgis_render_scratch_free(rs);
  fixture_free(&f);
  printf("     %d mutated themes parsed and rendered, %d refused with file:line\n", ok, failed);
  ASSERT(failed > 1000);
}

/* ---- labels across tile edges -------------------------------------------- */

/*
 * Render tiles (x, y) and (x+1, y) with a gutter of 64 px and compare the
 * 128 columns both images cover. Labels must be placed alike: no pixel may
 * differ by more than 32 levels (a label moved, missing or extra differs
 * by ~200 over hundreds of pixels). Smaller differences are allowed on a
 * few edge pixels: Cairo's exact rasteriser takes a faster path for pixel
 * rows where no edge starts or ends, and where the surface boundary cuts
 * an edge differs between the two images, so an anti-aliased edge can
 * shift by a fraction of a pixel.
 */
static void compare_neighbours(fixture *f, int scale, long *text_px)
{
  tgis_render_scratch *r = NULL;
  tgis_render_options o = TGIS_RENDER_OPTIONS_INIT;
  tgis_image a, b;
  uint8_t *left = NULL;
  int g = 64, s = scale, worst = 0;
  long mism = 0, shared;
  *text_px = 0;
  o.gutter = g;
  o.scale = scale;
  ASSERT_OK_CTX(f->ctx, tgis_render_scratch_new(&r, f->ctx));
  ASSERT_OK_CTX(f->ctx, tgis_render_tile(&a, r, f->style, &f->src, f->z, f->x, f->y, &o));
  ASSERT(a.width == (256 + 2 * g) * s);
  left = copy_pixels(&a);
  ASSERT(left != NULL);
  a.rgba = left;
  ASSERT_OK_CTX(f->ctx, tgis_render_tile(&b, r, f->style, &f->src, f->z, f->x + 1, f->y, &o));
  /* Column c of b is column c + 256*s of a. */
  for (int y = 0; y < a.height; y++)
    for (int c = 0; c < 2 * g * s; c++) {
      const uint8_t *pa = a.rgba + (size_t)y * a.stride + 4 * (size_t)(c + 256 * s);
      const uint8_t *pb = b.rgba + (size_t)y * b.stride + 4 * (size_t)c;
      int d = 0;
      for (int k = 0; k < 4; k++)
        d = abs((int)pa[k] - (int)pb[k]) > d ? abs((int)pa[k] - (int)pb[k]) : d;
      worst = d > worst ? d : worst;
      mism += d > 0;
      /* dark text pixels */
      *text_px += pa[0] < 90 && pa[1] < 90 && pa[2] < 90 && pa[3] == 255;
    }
  free(left);
  tgis_render_scratch_free(r);
  shared = (long)a.height * 2 * g * s;
  if (getenv("TGIS_DEBUG_EDGE"))
    printf("     scale %d: %ld of %ld shared pixels differ, by at most %d\n", s, mism, shared, worst);
  if (worst > 32 || mism > shared / 50)
    HARNESS_FAIL("%ld of %ld shared pixels differ between neighbouring tiles, by up to %d",
                 mism, shared, worst);
}

static void test_render__edge_label_same_in_both_tiles(void)
{
  fixture f;
  long text_px;
  ASSERT_OK_CTX(f.ctx, fixture_init(&f));
  compare_neighbours(&f, 1, &text_px);
  /* The shared strip holds the east-edge road's name. */
  if (!harness_cur_failed && text_px < 30)
    HARNESS_FAIL("only %ld text pixels in the shared strip: no label there", text_px);
  if (!harness_cur_failed)
    compare_neighbours(&f, 2, &text_px);
  fixture_free(&f);
}

/* Many named roads and points crowding each other: whatever wins, it wins
 * the same way in both tiles. */
static void test_render__crowded_labels_agree_across_tiles(void)
{
  fixture f;
  tgis_geombuf g;
  tgis_extent b;
  rng r = { 99 };
  long text_px;
  const char *rk[] = { "class", "name" }, *fk[] = { "kind", "name" };
  char name[64];
  ASSERT_OK_CTX(f.ctx, fixture_init(&f));
  tgis_render_tile_bounds(&b, f.z, f.x, f.y);
  tgis_geombuf_init(&g, f.ctx);
  for (int i = 0; i < 150; i++) {
    double w = b.maxx - b.minx, cx = b.maxx + (rnd(&r) - 0.5) * w, cy = b.miny + rnd(&r) * w;
    double a = rnd(&r) * M_PI, len = w * (0.1 + 0.3 * rnd(&r));
    double xy[4] = { cx - cos(a) * len / 2, cy - sin(a) * len / 2, cx + cos(a) * len / 2,
                     cy + sin(a) * len / 2 };
    const char *v[2];
    v[0] = i % 3 ? "residential" : "primary";
    snprintf(name, sizeof name, "Ko'cha %d", i % 40);
    v[1] = name;
    ASSERT_OK_CTX(f.ctx, add_line(f.mem, &g, "roads", 1000 + i, xy, 2, 2, rk, v));
    v[0] = "school";
    snprintf(name, sizeof name, "%d-maktab", i);
    ASSERT_OK_CTX(f.ctx, add_pt(f.mem, &g, "facilities", 2000 + i, cx + w * 0.05, cy, 2, fk, v));
  }
  tgis_geombuf_free(&g);
  ASSERT_OK_CTX(f.ctx, tgis_source_mem_index(f.mem));
  compare_neighbours(&f, 1, &text_px);
  ASSERT(text_px > 100);
  fixture_free(&f);
}

static void test_render__overlapping_labels_draw_one(void)
{
  fixture f;
  tgis_render_scratch *r = NULL;
  tgis_image img;
  tgis_geombuf g;
  tgis_extent b;
  const char *fk[] = { "kind", "name" };
  const char *v1[] = { "polyclinic", "Birinchi poliklinika" };
  const char *v2[] = { "polyclinic", "Ikkinchi poliklinika" };
  tgis_style *s = NULL;
  ASSERT_OK_CTX(f.ctx, fixture_init(&f));
  /* A source with only two facilities, 3 px apart. */
  tgis_source_mem_free(f.mem);
  ASSERT_OK_CTX(f.ctx, tgis_source_mem_new(&f.mem, f.ctx));
  tgis_render_tile_bounds(&b, f.z, f.x, f.y);
  tgis_geombuf_init(&g, f.ctx);
  {
    double px = (b.maxx - b.minx) / 256;
    ASSERT_OK_CTX(f.ctx, add_pt(f.mem, &g, "facilities", 1, b.minx + 60 * px, b.maxy - 100 * px, 2, fk, v1));
    ASSERT_OK_CTX(f.ctx, add_pt(f.mem, &g, "facilities", 2, b.minx + 62 * px, b.maxy - 103 * px, 2, fk, v2));
  }
  tgis_geombuf_free(&g);
  f.src = tgis_source_mem_source(f.mem);
  ASSERT_OK_CTX(f.ctx, tgis_render_scratch_new(&r, f.ctx));
  ASSERT_OK_CTX(f.ctx, tgis_render_tile(&img, r, f.style, &f.src, f.z, f.x, f.y, NULL));
  ASSERT_EQ(tgis_render_last_stats(r)->label_candidates, 2);
  ASSERT_EQ(tgis_render_last_stats(r)->labels, 1);
  /* Far apart, both are drawn. */
  tgis_source_mem_free(f.mem);
  ASSERT_OK_CTX(f.ctx, tgis_source_mem_new(&f.mem, f.ctx));
  tgis_geombuf_init(&g, f.ctx);
  {
    double px = (b.maxx - b.minx) / 256;
    ASSERT_OK_CTX(f.ctx, add_pt(f.mem, &g, "facilities", 1, b.minx + 60 * px, b.maxy - 100 * px, 2, fk, v1));
    ASSERT_OK_CTX(f.ctx, add_pt(f.mem, &g, "facilities", 2, b.minx + 60 * px, b.maxy - 160 * px, 2, fk, v2));
  }
  tgis_geombuf_free(&g);
  f.src = tgis_source_mem_source(f.mem);
  ASSERT_OK_CTX(f.ctx, tgis_render_tile(&img, r, f.style, &f.src, f.z, f.x, f.y, NULL));
  ASSERT_EQ(tgis_render_last_stats(r)->labels, 2);
  tgis_render_scratch_free(r);
  tgis_style_free(s);
  fixture_free(&f);
}

/* Glyphs beyond the image or a label's box stay in the renderer's label
 * mask until it clears them: a scratch that drew other tiles (labels
 * crossing their edges, rotated, at @2x) renders a tile exactly as a new
 * scratch does. */
static void test_render__labels_leave_no_trace_in_the_scratch(void)
{
  fixture f;
  tgis_render_scratch *used = NULL, *fresh = NULL;
  tgis_render_options o = TGIS_RENDER_OPTIONS_INIT;
  tgis_image a, b;
  uint8_t *first = NULL;
  ASSERT_OK_CTX(f.ctx, fixture_init(&f));
  ASSERT_OK_CTX(f.ctx, tgis_render_scratch_new(&used, f.ctx));
  ASSERT_OK_CTX(f.ctx, tgis_render_scratch_new(&fresh, f.ctx));
  ASSERT_OK_CTX(f.ctx, tgis_render_tile(&a, fresh, f.style, &f.src, f.z, f.x + 1, f.y, NULL));
  ASSERT(tgis_render_last_stats(fresh)->labels >= 1);
  first = copy_pixels(&a);
  ASSERT(first != NULL);
  ASSERT_OK_CTX(f.ctx, tgis_render_tile(&b, used, f.style, &f.src, f.z, f.x, f.y, NULL));
  ASSERT(tgis_render_last_stats(used)->labels >= 4);
  o.scale = 2;
  ASSERT_OK_CTX(f.ctx, tgis_render_tile(&b, used, f.style, &f.src, f.z, f.x, f.y, &o));
  ASSERT_OK_CTX(f.ctx, tgis_render_tile(&b, used, f.style, &f.src, f.z, f.x + 1, f.y, NULL));
  ASSERT_EQ(b.height, a.height);
  for (int y = 0; y < b.height; y++)
    ASSERT_EQ(memcmp(first + (size_t)y * a.stride, b.rgba + (size_t)y * b.stride, 4 * (size_t)b.width), 0);
  free(first);
  /* A name across the east edge, then another at the same place: the
   * first one's glyphs beyond the edge must not show in the second's
   * halo. */
  {
    static const char *const names[] = { "Birinchi poliklinika WWW", "Ikki ill" };
    const char *fk[] = { "kind", "name" };
    tgis_source_mem *m[2] = { NULL, NULL };
    tgis_tile_source src[2];
    tgis_geombuf g;
    tgis_extent bb;
    tgis_render_tile_bounds(&bb, f.z, f.x, f.y);
    tgis_geombuf_init(&g, f.ctx);
    for (int i = 0; i < 2; i++) {
      const char *v[] = { "polyclinic", names[i] };
      double px = (bb.maxx - bb.minx) / 256;
      ASSERT_OK_CTX(f.ctx, tgis_source_mem_new(&m[i], f.ctx));
      ASSERT_OK_CTX(f.ctx, add_pt(m[i], &g, "facilities", 1, bb.maxx - 12 * px, bb.maxy - 120 * px,
                                  2, fk, v));
      ASSERT_OK_CTX(f.ctx, tgis_source_mem_index(m[i]));
      src[i] = tgis_source_mem_source(m[i]);
    }
    tgis_geombuf_free(&g);
    ASSERT_OK_CTX(f.ctx, tgis_render_tile(&a, fresh, f.style, &src[1], f.z, f.x, f.y, NULL));
    ASSERT_EQ(tgis_render_last_stats(fresh)->labels, 1);
    first = copy_pixels(&a);
    ASSERT(first != NULL);
    ASSERT_OK_CTX(f.ctx, tgis_render_tile(&b, used, f.style, &src[0], f.z, f.x, f.y, NULL));
    ASSERT_EQ(tgis_render_last_stats(used)->labels, 1);
    ASSERT_OK_CTX(f.ctx, tgis_render_tile(&b, used, f.style, &src[1], f.z, f.x, f.y, NULL));
    for (int y = 0; y < b.height; y++)
      ASSERT_EQ(memcmp(first + (size_t)y * a.stride, b.rgba + (size_t)y * b.stride, 4 * (size_t)b.width), 0);
    free(first);
    tgis_source_mem_free(m[0]);
    tgis_source_mem_free(m[1]);
  }
  tgis_render_scratch_free(used);
  tgis_render_scratch_free(fresh);
  fixture_free(&f);
}

/* Text pixels (dark, opaque) in a tile. */
static long dark_pixels(const tgis_image *img)
{
  long n = 0;
  for (int y = 0; y < img->height; y++)
    for (int x = 0; x < img->width; x++) {
      const uint8_t *p = img->rgba + (size_t)y * img->stride + 4 * (size_t)x;
      n += p[3] > 200 && p[0] < 110 && p[1] < 110 && p[2] < 110;
    }
  return n;
}

/* Names the font cannot draw (blanks only, a private-use character, bytes
 * that are not UTF-8) draw nothing harmful, and the scratch still draws
 * the labels of the next tile as a new one would. */
static void test_render__odd_label_text(void)
{
  static const char *const names[] = { "   ", "\xee\x80\x80\xee\x80\x81 x", "bad \xff\xfe name",
                                       "\xc3", "ok \xe2\x80\x8b name" };
  fixture f;
  tgis_render_scratch *r = NULL, *fresh = NULL;
  tgis_image img;
  tgis_geombuf g;
  tgis_extent b;
  tgis_source_mem *odd = NULL;
  tgis_tile_source src;
  const char *fk[] = { "kind", "name" };
  long want, got;
  uint8_t *ref = NULL;
  ASSERT_OK_CTX(f.ctx, fixture_init(&f));
  ASSERT_OK_CTX(f.ctx, tgis_source_mem_new(&odd, f.ctx));
  tgis_render_tile_bounds(&b, f.z, f.x, f.y);
  tgis_geombuf_init(&g, f.ctx);
  for (int i = 0; i < 5; i++) {
    const char *v[] = { "polyclinic", names[i] };
    double px = (b.maxx - b.minx) / 256;
    ASSERT_OK_CTX(f.ctx, add_pt(odd, &g, "facilities", 1 + i, b.minx + 40 * px,
                                b.maxy - (30 + 45 * i) * px, 2, fk, v));
  }
  tgis_geombuf_free(&g);
  ASSERT_OK_CTX(f.ctx, tgis_source_mem_index(odd));
  src = tgis_source_mem_source(odd);
  ASSERT_OK_CTX(f.ctx, tgis_render_scratch_new(&r, f.ctx));
  ASSERT_OK_CTX(f.ctx, tgis_render_scratch_new(&fresh, f.ctx));
  ASSERT_OK_CTX(f.ctx, tgis_render_tile(&img, r, f.style, &src, f.z, f.x, f.y, NULL));
  /* The three names in UTF-8 are placed; the two others are no labels. */
  ASSERT_EQ(tgis_render_last_stats(r)->label_candidates, 3);
  ASSERT_EQ(tgis_render_last_stats(r)->labels, 3);
  ASSERT_OK_CTX(f.ctx, tgis_render_tile(&img, fresh, f.style, &f.src, f.z, f.x, f.y, NULL));
  want = dark_pixels(&img);
  ref = copy_pixels(&img);
  ASSERT(ref != NULL);
  ASSERT_OK_CTX(f.ctx, tgis_render_tile(&img, r, f.style, &f.src, f.z, f.x, f.y, NULL));
  got = dark_pixels(&img);
  ASSERT(want > 100);
  ASSERT_EQ(got, want);
  for (int y = 0; y < img.height; y++)
    ASSERT_EQ(memcmp(ref + (size_t)y * img.stride, img.rgba + (size_t)y * img.stride, 4 * (size_t)img.width), 0);
  free(ref);
  tgis_render_scratch_free(r);
  tgis_render_scratch_free(fresh);
  tgis_source_mem_free(odd);
  fixture_free(&f);
}

/* ---- @2x ----------------------------------------------------------------- */

static void test_render__scale_2_has_the_same_content(void)
{
  fixture f;
  tgis_render_scratch *r = NULL;
  tgis_render_options o = TGIS_RENDER_OPTIONS_INIT;
  tgis_image one, two;
  uint8_t *p1 = NULL;
  double sum = 0;
  long far = 0;
  ASSERT_OK_CTX(f.ctx, fixture_init(&f));
  ASSERT_OK_CTX(f.ctx, tgis_render_scratch_new(&r, f.ctx));
  ASSERT_OK_CTX(f.ctx, tgis_render_tile(&one, r, f.style, &f.src, f.z, f.x, f.y, NULL));
  ASSERT_EQ(tgis_render_last_stats(r)->labels >= 4, 1);
  size_t labels1 = tgis_render_last_stats(r)->labels;
  p1 = copy_pixels(&one);
  ASSERT(p1 != NULL);
  o.scale = 2;
  ASSERT_OK_CTX(f.ctx, tgis_render_tile(&two, r, f.style, &f.src, f.z, f.x, f.y, &o));
  ASSERT_EQ(two.width, 512);
  ASSERT_EQ(two.height, 512);
  /* The same labels are placed at both scales. */
  ASSERT_EQ(tgis_render_last_stats(r)->labels, labels1);
  /* Downsample 2x2 and compare (premultiplied, so transparency counts). */
  for (int y = 0; y < 256; y++)
    for (int x = 0; x < 256; x++) {
      double acc[4] = { 0, 0, 0, 0 }, d = 0;
      for (int k = 0; k < 4; k++) {
        const uint8_t *q = two.rgba + (size_t)(2 * y + k / 2) * two.stride + 4 * (size_t)(2 * x + k % 2);
        for (int c = 0; c < 3; c++)
          acc[c] += q[c] * (q[3] / 255.0) / 4;
        acc[3] += q[3] / 4.0;
      }
      const uint8_t *p = p1 + (size_t)y * one.stride + 4 * (size_t)x;
      for (int c = 0; c < 3; c++)
        d = fmax(d, fabs(acc[c] - p[c] * (p[3] / 255.0)));
      d = fmax(d, fabs(acc[3] - p[3]));
      sum += d;
      far += d > 64;
    }
  free(p1);
  tgis_render_scratch_free(r);
  fixture_free(&f);
  printf("     @2x vs 1x: mean largest channel difference %.2f, %ld pixels beyond 64\n",
         sum / 65536, far);
  ASSERT(sum / 65536 < 6.0);
  ASSERT(far < 65536 / 50);
}

/* ---- PNG ----------------------------------------------------------------- */

static void png_roundtrip(tgis_ctx *ctx, const tgis_image *img, const tgis_png_options *o,
                          tgis_png_info *info, int *exact, double *psnr)
{
  uint8_t *png = NULL;
  size_t len = 0;
  tgis_image back;
  double sse = 0;
  *exact = 0;
  ASSERT_OK_CTX(ctx, tgis_png_encode(&png, &len, ctx, img, o, info));
  ASSERT(len > 8 && memcmp(png, "\x89PNG", 4) == 0);
  ASSERT_OK_CTX(ctx, tgis_png_decode(&back, ctx, png, len));
  tgis_png_free(ctx, png);
  ASSERT_EQ(back.width, img->width);
  *exact = 1;
  for (int y = 0; y < img->height; y++)
    for (int x = 0; x < img->width; x++) {
      const uint8_t *a = img->rgba + (size_t)y * img->stride + 4 * (size_t)x;
      const uint8_t *b = back.rgba + (size_t)y * back.stride + 4 * (size_t)x;
      if (a[3] == 0 && b[3] == 0)
        continue;   /* invisible colours need not survive */
      for (int c = 0; c < 4; c++) {
        double d = (double)a[c] - b[c];
        sse += d * d;
        if (d != 0)
          *exact = 0;
      }
    }
  *psnr = sse > 0 ? 10 * log10(255.0 * 255.0 * img->width * img->height * 4 / sse) : INFINITY;
  tgis_png_free(ctx, back.rgba);
}

static void test_render__png_roundtrip(void)
{
  tgis_ctx *ctx = NULL;
  tgis_image img;
  tgis_png_options o = TGIS_PNG_OPTIONS_INIT;
  tgis_png_info info;
  uint8_t *buf;
  int exact;
  double psnr;
  fixture f;
  ASSERT_OK_CTX(ctx, tgis_open(&ctx, NULL, NULL));
  buf = malloc(200 * 300 * 4);
  ASSERT(buf != NULL);
  img.width = 200;
  img.height = 150;
  img.stride = 200 * 4 * 2;   /* a stride wider than the row */
  img.rgba = buf;
  /* 3 colours, one transparent: a 2-bit palette, exact. */
  for (int y = 0; y < 150; y++)
    for (int x = 0; x < 200; x++) {
      uint8_t *p = buf + (size_t)y * img.stride + 4 * (size_t)x;
      int k = (x / 10 + y / 10) % 3;
      p[0] = (uint8_t)(k * 100); p[1] = 50; p[2] = (uint8_t)(200 - k * 50); p[3] = k == 2 ? 0 : 255;
      if (k == 2)
        p[0] = p[1] = p[2] = 0;
    }
  png_roundtrip(ctx, &img, &o, &info, &exact, &psnr);
  if (harness_cur_failed)
    goto done;
  ASSERT(info.palette && !info.quantised);
  ASSERT_EQ(info.colours, 3);
  ASSERT_EQ(info.bit_depth, 2);
  ASSERT(exact);
  /* 250 colours with translucency: an exact 8-bit palette. */
  for (int y = 0; y < 150; y++)
    for (int x = 0; x < 200; x++) {
      uint8_t *p = buf + (size_t)y * img.stride + 4 * (size_t)x;
      int k = (x * 7 + y * 13) % 250;
      p[0] = (uint8_t)k; p[1] = (uint8_t)(255 - k); p[2] = (uint8_t)(k * 3); p[3] = (uint8_t)(k < 40 ? 100 + k : 255);
    }
  png_roundtrip(ctx, &img, &o, &info, &exact, &psnr);
  if (harness_cur_failed)
    goto done;
  ASSERT(info.palette && !info.quantised);
  ASSERT_EQ(info.colours, 250);
  ASSERT_EQ(info.bit_depth, 8);
  ASSERT(exact);
  /* Truecolour when asked. */
  o.palette = TGIS_PNG_PALETTE_NEVER;
  png_roundtrip(ctx, &img, &o, &info, &exact, &psnr);
  if (harness_cur_failed)
    goto done;
  ASSERT(!info.palette);
  ASSERT(exact);
  /* A gradient of 60,000 colours: too many to quantise well -> RGB. */
  o.palette = TGIS_PNG_PALETTE_AUTO;
  for (int y = 0; y < 150; y++)
    for (int x = 0; x < 200; x++) {
      uint8_t *p = buf + (size_t)y * img.stride + 4 * (size_t)x;
      p[0] = (uint8_t)x; p[1] = (uint8_t)(y * 1.7); p[2] = (uint8_t)((x * y) % 251); p[3] = 255;
    }
  png_roundtrip(ctx, &img, &o, &info, &exact, &psnr);
  if (harness_cur_failed)
    goto done;
  ASSERT(!info.palette);
  ASSERT(exact);
  /* A rendered tile (anti-aliased: hundreds of colours) is quantised and
   * keeps its PSNR; level 0..9 and every filter work. */
  ASSERT_OK_CTX(ctx, fixture_init(&f));
  {
    tgis_render_scratch *r = NULL;
    tgis_image tile;
    ASSERT_OK_CTX(f.ctx, tgis_render_scratch_new(&r, f.ctx));
    ASSERT_OK_CTX(f.ctx, tgis_render_tile(&tile, r, f.style, &f.src, f.z, f.x, f.y, NULL));
    png_roundtrip(ctx, &tile, &o, &info, &exact, &psnr);
    if (!harness_cur_failed) {
      printf("     rendered tile: %s palette of %d colours, PSNR %.1f dB (encoder's %.1f)\n",
             info.quantised ? "quantised" : "exact", info.colours, psnr, info.psnr);
      if (info.quantised) {
        if (psnr < o.min_psnr - 0.5)
          HARNESS_FAIL("quantised tile PSNR %.1f below %.1f", psnr, o.min_psnr);
      } else if (!exact) {
        HARNESS_FAIL("an exact palette changed pixels");
      }
    }
    for (int level = 0; level <= 9 && !harness_cur_failed; level += 3)
      for (int flt = TGIS_PNG_FILTER_AUTO; flt <= TGIS_PNG_FILTER_ALL && !harness_cur_failed; flt++) {
        tgis_png_options q = TGIS_PNG_OPTIONS_INIT;
        q.level = level;
        q.filter = (tgis_png_filter)flt;
        q.palette = TGIS_PNG_PALETTE_NEVER;
        png_roundtrip(ctx, &tile, &q, &info, &exact, &psnr);
        if (!harness_cur_failed && !exact)
          HARNESS_FAIL("level %d filter %d changed pixels", level, flt);
      }
    tgis_render_scratch_free(r);
  }
  fixture_free(&f);
  /* Bad options and images are refused. */
  {
    uint8_t *png = NULL;
    size_t len = 0;
    tgis_png_options q = TGIS_PNG_OPTIONS_INIT;
    q.level = 11;
    ASSERT_EQ(tgis_png_encode(&png, &len, ctx, &img, &q, NULL), TGIS_EINVAL);
    ASSERT_CONTAINS(tgis_errmsg(ctx), "level 11");
    img.width = 0;
    ASSERT_EQ(tgis_png_encode(&png, &len, ctx, &img, NULL, NULL), TGIS_EINVAL);
    ASSERT_EQ(tgis_png_decode(&img, ctx, (const uint8_t *)"not a png at all", 16), TGIS_EPARSE);
  }
done:
  free(buf);
  tgis_close(ctx);
}

/* The quantiser on premultiplied ARGB, with a run at every pixel (more
 * runs than its first buffer holds) and 3,000 colours: the PSNR it reports
 * (from its boxes' sums) must be the one of the decoded image, which for
 * opaque pixels is the same measure; and the same pixels at another stride
 * encode to the same bytes. */
static void test_render__png_argb_quantised_psnr_is_exact(void)
{
  enum { W = 300, H = 200 };
  tgis_ctx *ctx = NULL;
  uint8_t *argb = NULL, *argb2 = NULL, *png = NULL, *png2 = NULL;
  size_t stride = W * 4 + 12, len = 0, len2 = 0;
  tgis_png_info info, info2;
  tgis_image back = { 0, 0, 0, NULL };
  double sse = 0, psnr;
  ASSERT_OK_CTX(ctx, tgis_open(&ctx, NULL, NULL));
  argb = malloc(stride * H);
  argb2 = malloc((size_t)W * 4 * H);
  ASSERT(argb != NULL && argb2 != NULL);
  if (harness_cur_failed)
    goto done;
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++) {
      uint32_t r = (uint32_t)((x * 7 + y) % 60), g = (uint32_t)((x * 3 + y * 5) % 50);
      uint32_t v = 0xff000000u | r << 16 | g << 8 | 77u;
      memcpy(argb + (size_t)y * stride + 4 * (size_t)x, &v, 4);
      memcpy(argb2 + ((size_t)y * W + (size_t)x) * 4, &v, 4);
    }
  ASSERT_OK_CTX(ctx, tgis_png__encode_argb(&png, &len, ctx, argb, stride, W, H, NULL, &info));
  if (harness_cur_failed)
    goto done;
  ASSERT(info.palette && info.quantised);
  ASSERT_EQ(info.colours, 256);
  ASSERT(isfinite(info.psnr) && info.psnr >= 42.0);
  ASSERT_OK_CTX(ctx, tgis_png_decode(&back, ctx, png, len));
  if (harness_cur_failed)
    goto done;
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++) {
      const uint8_t *b = back.rgba + (size_t)y * back.stride + 4 * (size_t)x;
      uint32_t v;
      memcpy(&v, argb + (size_t)y * stride + 4 * (size_t)x, 4);
      for (int c = 0; c < 4; c++) {
        double d = (double)((v >> (c == 3 ? 24 : 16 - 8 * c)) & 255) - b[c];
        sse += d * d;
      }
    }
  psnr = 10 * log10(255.0 * 255.0 * W * H * 4 / sse);
  ASSERT_NEAR(psnr, info.psnr, 1e-9);
  ASSERT_OK_CTX(ctx, tgis_png__encode_argb(&png2, &len2, ctx, argb2, (size_t)W * 4, W, H, NULL,
                                           &info2));
  if (harness_cur_failed)
    goto done;
  ASSERT_EQ(len2, len);
  ASSERT(len2 == len && memcmp(png2, png, len) == 0);
done:
  tgis_png_free(ctx, png);
  tgis_png_free(ctx, png2);
  tgis_png_free(ctx, back.rgba);
  free(argb);
  free(argb2);
  tgis_close(ctx);
}

/* tgis_render_tile_png() encodes Cairo's premultiplied pixels directly:
 * decoded, it must match tgis_render_tile()'s RGBA (exactly for an exact
 * palette or truecolour, within the PSNR floor for a quantised one), also
 * for a transparent overlay with translucent colours. */
static void test_render__tile_png_matches_rgba(void)
{
  fixture f;
  tgis_render_scratch *r = NULL;
  tgis_style *overlay = NULL;
  ASSERT_OK_CTX(f.ctx, fixture_init(&f));
  ASSERT_OK_CTX(f.ctx, tgis_render_scratch_new(&r, f.ctx));
  ASSERT_OK_CTX(f.ctx, parse(&overlay, f.ctx, "overlay.yaml",
    "layers:\n"
    "  - source: parcels\n"
    "    fill: { attribute: travel_min, classes: [{max: 10, colour: \"#1a964180\"}, {min: 10, colour: \"#d7191cc0\"}], default: \"#00000040\" }\n"
    "    stroke: \"#ffffff99\"\n"
    "  - source: roads\n"
    "    stroke: \"#2c7cc4b0\"\n"
    "    stroke_width: 3\n"
    "    label: { attribute: name }\n"));
  for (int k = 0; k < 4; k++) {
    const tgis_style *st = k < 2 ? f.style : overlay;
    tgis_png_options po = TGIS_PNG_OPTIONS_INIT;
    tgis_image img, back;
    uint8_t *rgba = NULL, *png = NULL;
    size_t len = 0;
    double sse = 0, psnr;
    const tgis_render_stats *rs;
    if (k % 2)
      po.palette = TGIS_PNG_PALETTE_NEVER;
    ASSERT_OK_CTX(f.ctx, tgis_render_tile(&img, r, st, &f.src, f.z, f.x, f.y, NULL));
    rgba = copy_pixels(&img);
    ASSERT(rgba != NULL);
    if (tgis_render_tile_png(&png, &len, r, st, &f.src, f.z, f.x, f.y, NULL, &po) ||
        tgis_png_decode(&back, f.ctx, png, len)) {
      free(rgba);
      tgis_png_free(f.ctx, png);
      HARNESS_FAIL("%s", tgis_errmsg(f.ctx));
      break;
    }
    rs = tgis_render_last_stats(r);
    for (size_t i = 0; i < 256 * 256 * 4; i += 4) {
      if (rgba[i + 3] == 0 && back.rgba[i + 3] == 0)
        continue;
      for (int c = 0; c < 4; c++) {
        double d = (double)rgba[i + (size_t)c] - back.rgba[i + (size_t)c];
        /* colour differences under low alpha are invisible: weigh them */
        if (c < 3)
          d *= rgba[i + 3] / 255.0;
        sse += d * d;
      }
    }
    psnr = sse > 0 ? 10 * log10(255.0 * 255.0 * 256 * 256 * 4 / sse) : INFINITY;
    printf("     %s, %s: %s, PSNR %.1f dB, %zu bytes\n", k < 2 ? "base fixture" : "overlay",
           k % 2 ? "truecolour" : "auto", rs->png.palette ? (rs->png.quantised ? "quantised palette"
           : "exact palette") : "truecolour", psnr, len);
    free(rgba);
    tgis_png_free(f.ctx, png);
    tgis_png_free(f.ctx, back.rgba);
    if (k % 2 || !rs->png.quantised)
      ASSERT(psnr > 50);   /* un-premultiplying rounds a little under alpha */
    else
      ASSERT(psnr >= po.min_psnr - 1);
  }
  tgis_style_free(overlay);
  tgis_render_scratch_free(r);
  fixture_free(&f);
}

/* One scratch, as a server worker uses it: every theme in turn, again and
 * again, gives the same pixels each time. */
static void test_render__one_scratch_renders_every_theme(void)
{
  static const char *const themes[] = { "base", "utilities", "facilities", "coverage" };
  fixture f;
  tgis_render_scratch *r = NULL;
  tgis_style *st[4] = { NULL, NULL, NULL, NULL };
  uint8_t *first[4] = { NULL, NULL, NULL, NULL };
  ASSERT_OK_CTX(f.ctx, fixture_init(&f));
  ASSERT_OK_CTX(f.ctx, tgis_render_scratch_new(&r, f.ctx));
  for (int t = 0; t < 4; t++) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s.yaml", TGIS_STYLES_DIR, themes[t]);
    if (tgis_style_load(&st[t], f.ctx, path))
      HARNESS_FAIL("%s", tgis_errmsg(f.ctx));
  }
  for (int round = 0; round < 3 && !harness_cur_failed; round++)
    for (int t = 0; t < 4 && !harness_cur_failed; t++) {
      tgis_image img;
      tgis_render_options o = TGIS_RENDER_OPTIONS_INIT;
      o.scale = 1 + (round == 1);
      if (tgis_render_tile(&img, r, st[t], &f.src, f.z, f.x, f.y, &o)) {
        HARNESS_FAIL("%s: %s", themes[t], tgis_errmsg(f.ctx));
        break;
      }
      if (round == 0)
        first[t] = copy_pixels(&img);
      else if (round == 2 && (!first[t] || memcmp(first[t], img.rgba, 256 * 256 * 4) != 0))
        HARNESS_FAIL("%s renders differently the third time", themes[t]);
    }
  for (int t = 0; t < 4; t++) {
    free(first[t]);
    tgis_style_free(st[t]);
  }
  tgis_render_scratch_free(r);
  fixture_free(&f);
}

/* ---- the attributes the renderer asks for ---------------------------------- */

/* A source over the fixture's that records the key list of each query and
 * then ignores it, handing over every attribute, as a source that knows
 * nothing of the hint would. */
typedef struct recording_source {
  tgis_tile_source inner;
  int pass_keys;                  /* 0: ask the inner source for all */
  char parcels[128], roads[128];  /* the lists asked, "a,b" */
} recording_source;

static tgis_status recording_query(void *self, const char *layer, const tgis_extent *bbox,
                                   double tolerance, const char *const *keys,
                                   const tgis_source_outer *outer, tgis_feature_emit emit,
                                   void *payload)
{
  recording_source *rs = self;
  char *out = strcmp(layer, "parcels") == 0 ? rs->parcels
            : strcmp(layer, "roads") == 0 ? rs->roads : NULL;
  if (out) {
    out[0] = '\0';
    for (size_t i = 0; keys && keys[i]; i++) {
      if (i)
        strncat(out, ",", 127 - strlen(out));
      strncat(out, keys[i], 127 - strlen(out));
    }
    if (!keys)
      strcpy(out, "(all)");
  }
  return rs->inner.query(rs->inner.self, layer, bbox, tolerance, rs->pass_keys ? keys : NULL,
                         rs->pass_keys ? outer : NULL, emit, payload);
}

static void test_render__renderer_asks_only_for_the_keys_it_reads(void)
{
  fixture f;
  tgis_render_scratch *r = NULL;
  recording_source rs;
  tgis_tile_source src;
  tgis_image img;
  uint8_t *with = NULL, *without = NULL;
  ASSERT_OK_CTX(f.ctx, fixture_init(&f));
  ASSERT_OK_CTX(f.ctx, tgis_render_scratch_new(&r, f.ctx));
  memset(&rs, 0, sizeof rs);
  rs.inner = f.src;
  src.query = recording_query;
  src.self = &rs;
  for (int pass = 0; pass < 2; pass++) {
    rs.pass_keys = pass == 0;
    ASSERT_OK_CTX(f.ctx, tgis_render_tile(&img, r, f.style, &src, f.z, f.x, f.y, NULL));
    if (pass == 0)
      with = copy_pixels(&img);
    else
      without = copy_pixels(&img);
  }
  ASSERT(with && without);
  /* Fill by land use, then travel time; road filters by class and labels
   * by name. */
  ASSERT_STR_EQ(rs.parcels, "land_use,travel_min");
  ASSERT_STR_EQ(rs.roads, "class,name");
  /* The same pixels whether the source honours the list or not. */
  ASSERT(memcmp(with, without, (size_t)img.height * (size_t)img.stride) == 0);
  free(with);
  free(without);
  tgis_render_scratch_free(r);
  fixture_free(&f);
}

/* ---- generalisation and threads ------------------------------------------ */

/* A dashed hairline keeps its pattern along the line, from the line's
 * first point, also when that point lies far outside the tile (the
 * pattern is stepped on over the segments beyond it), and its butt-capped
 * gaps stay open. */
static void test_render__dashes_keep_their_pattern(void)
{
  static const double starts[] = { 10.0, -10000.25 };
  tgis_ctx *ctx = NULL;
  tgis_style *s = NULL;
  tgis_render_scratch *r = NULL;
  int tx, ty, z = 16;
  const char *k[] = { "kind" }, *v[] = { "x" };
  ASSERT_OK_CTX(ctx, tgis_open(&ctx, NULL, NULL));
  ASSERT_OK_CTX(ctx, parse(&s, ctx, "dash.yaml",
    "layers:\n  - source: l\n    stroke: \"#000\"\n    stroke_width: 1\n"
    "    dash: [6, 3]\n    line_cap: butt\n"));
  ASSERT_OK_CTX(ctx, tgis_render_scratch_new(&r, ctx));
  city_tile(z, &tx, &ty);
  for (int c = 0; c < 2; c++) {
    tgis_source_mem *m = NULL;
    tgis_tile_source src;
    tgis_geombuf g;
    tgis_image img;
    double kpx = TGIS_TILE_SIZE * ldexp(1.0, z) / (2 * TGIS_MERC_HALF), x0 = starts[c];
    double my = TGIS_MERC_HALF - (ty * 256.0 + 128.5) / kpx;
    /* Points in tile pixels along row 128 (its centre), as metres; the
     * second line has a segment wholly beyond the tile. */
    double px[] = { x0, x0 / 2, -20, 250 }, xy[8];
    int n = 0, on = 0, off = 0;
    for (int i = c == 0 ? 2 : 0; i < 4; i++) {
      xy[2 * n] = (tx * 256.0 + (n == 0 ? x0 : px[i])) / kpx - TGIS_MERC_HALF;
      xy[2 * n + 1] = my;
      n++;
    }
    ASSERT_OK_CTX(ctx, tgis_source_mem_new(&m, ctx));
    tgis_geombuf_init(&g, ctx);
    ASSERT_OK_CTX(ctx, add_line(m, &g, "l", 1, xy, n, 1, k, v));
    tgis_geombuf_free(&g);
    src = tgis_source_mem_source(m);
    ASSERT_OK_CTX(ctx, tgis_render_tile(&img, r, s, &src, z, tx, ty, NULL));
    for (int x = 20; x < 240; x++) {
      double phase = fmod(x + 0.5 - x0, 9.0);
      int a = img.rgba[128 * img.stride + 4 * x + 3];
      if (phase >= 1 && phase <= 5) {
        if (a < 200)
          HARNESS_FAIL("start %.2f: x %d, %.2f px into a dash: alpha %d", x0, x, phase, a);
        on++;
      } else if (phase >= 6.75 && phase <= 8.25) {
        if (a > 40)
          HARNESS_FAIL("start %.2f: x %d, %.2f px into a gap: alpha %d", x0, x, phase - 6, a);
        off++;
      }
    }
    if (on < 90 || off < 20)
      HARNESS_FAIL("start %.2f: %d pixels checked in dashes, %d in gaps", x0, on, off);
    tgis_source_mem_free(m);
    if (harness_cur_failed)
      break;
  }
  tgis_render_scratch_free(r);
  tgis_style_free(s);
  tgis_close(ctx);
}

static void test_render__tiny_features_are_skipped(void)
{
  tgis_ctx *ctx = NULL;
  tgis_style *s = NULL;
  tgis_source_mem *m = NULL;
  tgis_render_scratch *r = NULL;
  tgis_tile_source src;
  tgis_geombuf g;
  tgis_extent b;
  tgis_image img;
  int x, y;
  const char *k[] = { "kind" }, *v[] = { "x" };
  ASSERT_OK_CTX(ctx, tgis_open(&ctx, NULL, NULL));
  ASSERT_OK_CTX(ctx, parse(&s, ctx, "t.yaml",
    "layers:\n  - source: p\n    fill: \"#000\"\n  - source: n\n    symbol: {size: 4, fill: \"#000\"}\n"));
  ASSERT_OK_CTX(ctx, tgis_source_mem_new(&m, ctx));
  city_tile(12, &x, &y);
  tgis_render_tile_bounds(&b, 12, x, y);
  tgis_geombuf_init(&g, ctx);
  {
    /* At z12 a pixel is ~38 m: a 10 m parcel is skipped, a 200 m one and
     * a point are drawn. */
    double cx = (b.minx + b.maxx) / 2, cy = (b.miny + b.maxy) / 2;
    double small[8] = { cx, cy, cx + 10, cy, cx + 10, cy + 10, cx, cy + 10 };
    double big[8] = { cx + 500, cy, cx + 700, cy, cx + 700, cy + 200, cx + 500, cy + 200 };
    ASSERT_OK_CTX(ctx, add_ring(m, &g, "p", 1, small, 4, 1, k, v));
    ASSERT_OK_CTX(ctx, add_ring(m, &g, "p", 2, big, 4, 1, k, v));
    ASSERT_OK_CTX(ctx, add_pt(m, &g, "n", 3, cx - 500, cy, 1, k, v));
  }
  tgis_geombuf_free(&g);
  src = tgis_source_mem_source(m);
  ASSERT_OK_CTX(ctx, tgis_render_scratch_new(&r, ctx));
  ASSERT_OK_CTX(ctx, tgis_render_tile(&img, r, s, &src, 12, x, y, NULL));
  ASSERT_EQ(tgis_render_last_stats(r)->features, 3);
  ASSERT_EQ(tgis_render_last_stats(r)->drawn, 2);
  tgis_render_scratch_free(r);
  tgis_source_mem_free(m);
  tgis_style_free(s);
  tgis_close(ctx);
}

typedef struct thread_job {
  fixture *f;
  uint8_t *pixels;
  tgis_status st;
} thread_job;

static void *render_in_thread(void *arg)
{
  thread_job *j = arg;
  tgis_ctx *ctx = NULL;
  tgis_render_scratch *r = NULL;
  tgis_image img;
  if ((j->st = tgis_open(&ctx, NULL, NULL)) || (j->st = tgis_render_scratch_new(&r, ctx)))
    goto done;
  for (int i = 0; i < 5 && !j->st; i++)
    j->st = tgis_render_tile(&img, r, j->f->style, &j->f->src, j->f->z, j->f->x, j->f->y, NULL);
  if (!j->st)
    j->pixels = copy_pixels(&img);
done:
  tgis_render_scratch_free(r);
  tgis_close(ctx);
  return NULL;
}

static void test_render__threads_share_style_and_source(void)
{
  fixture f;
  thread_job jobs[3];
  pthread_t th[3];
  ASSERT_OK_CTX(f.ctx, fixture_init(&f));
  memset(jobs, 0, sizeof jobs);
  for (int i = 0; i < 3; i++) {
    jobs[i].f = &f;
    ASSERT_EQ(pthread_create(&th[i], NULL, render_in_thread, &jobs[i]), 0);
  }
  for (int i = 0; i < 3; i++)
    pthread_join(th[i], NULL);
  for (int i = 0; i < 3; i++) {
    ASSERT_EQ(jobs[i].st, TGIS_OK);
    ASSERT(jobs[i].pixels != NULL);
  }
  ASSERT(memcmp(jobs[0].pixels, jobs[1].pixels, 256 * 256 * 4) == 0);
  ASSERT(memcmp(jobs[0].pixels, jobs[2].pixels, 256 * 256 * 4) == 0);
  for (int i = 0; i < 3; i++)
    free(jobs[i].pixels);
  fixture_free(&f);
}

int main(void)
{
  RUN(test_render__themes_load);
  RUN(test_render__style_values_parse);
  RUN(test_render__style_errors_name_file_line_and_key);
  RUN(test_render__style_file_errors);
  RUN(test_render__mutated_styles_never_crash);
  RUN(test_render__out_of_memory_is_reported);
  RUN(test_render__mem_source_emits_each_feature_once);
  RUN(test_render__bad_tiles_are_refused);
  RUN(test_render__matches_gdal_rasterize_at_z15);
  RUN(test_render__matches_gdal_rasterize_at_z17);
  RUN(test_render__golden_tiles);
  RUN(test_render__golden_check_sees_a_change);
  RUN(test_render__edge_label_same_in_both_tiles);
  RUN(test_render__crowded_labels_agree_across_tiles);
  RUN(test_render__overlapping_labels_draw_one);
  RUN(test_render__labels_leave_no_trace_in_the_scratch);
  RUN(test_render__odd_label_text);
  RUN(test_render__scale_2_has_the_same_content);
  RUN(test_render__png_roundtrip);
  RUN(test_render__png_argb_quantised_psnr_is_exact);
  RUN(test_render__tile_png_matches_rgba);
  RUN(test_render__mem_source_gives_only_the_keys_asked);
  RUN(test_render__renderer_asks_only_for_the_keys_it_reads);
  RUN(test_render__tiny_features_are_skipped);
  RUN(test_render__dashes_keep_their_pattern);
  RUN(test_render__threads_share_style_and_source);
  RUN(test_render__one_scratch_renders_every_theme);
  return harness_report();
}
