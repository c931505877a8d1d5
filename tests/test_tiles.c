/*
 * test_tiles.c -- tiles from a real database: the fitted UTM -> Web
 * Mercator transformation against PROJ, the database source against SQL,
 * rendered parcels against gdal_rasterize (after GDAL's own reprojection),
 * the map image, and the server's tile cache (bound, LRU, references,
 * invalidation by box).
 */
#include <math.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gdal.h>
#include <sqlite3.h>

#include "tgis_int.h"
#include "generate.h"
#include "merc.h"
#include "source_db.h"
#include "tile_cache.h"
#include "render.h"
#include "png_tile.h"
#include "harness.h"


static char db_path[512];


static void tile_at(double lon, double lat, int z, int *x, int *y)
{
  double n = ldexp(1.0, z), r = lat * M_PI / 180;
  *x = (int)floor((lon + 180) / 360 * n);
  *y = (int)floor((1 - log(tan(r) + 1 / cos(r)) / M_PI) / 2 * n);
}

/* A generated city, imported once for the whole file. */
static void make_city(void)
{
  char gpkg[512];
  tgis_ctx *gen = NULL, *ctx = NULL;
  tgis_gen_options go = TGIS_GEN_OPTIONS_INIT;
  tgis_options o = TGIS_OPTIONS_INIT;

  harness_path(gpkg, sizeof gpkg, "tiles.gpkg");
  harness_path(db_path, sizeof db_path, "tiles.sqlite");
  unlink(gpkg);
  unlink(db_path);
  ASSERT_EQ(tgis_open(&gen, NULL, NULL), TGIS_OK);
  go.scale = 0.01;
  go.seed = 11;
  go.manifest_path = NULL;
  ASSERT_OK_CTX(gen, tgis_generate(gen, gpkg, &go));
  tgis_close(gen);
  o.flags = TGIS_OPEN_CREATE;
  ASSERT_OK_CTX(ctx, tgis_open(&ctx, db_path, &o));
  ASSERT_OK_CTX(ctx, tgis_import(NULL, ctx, gpkg, NULL));
  tgis_close(ctx);
}

static tgis_ctx *open_ro(void)
{
  tgis_ctx *ctx = NULL;
  tgis_options o = TGIS_OPTIONS_INIT;
  o.flags = TGIS_OPEN_READONLY;
  if (tgis_open(&ctx, db_path, &o) != TGIS_OK) {
    HARNESS_FAIL("open %s: %s", db_path, tgis_errmsg(ctx));
    tgis_close(ctx);
    return NULL;
  }
  return ctx;
}

/* ---- the fitted transformation ---------------------------------------------- */

static void test_tiles__fit_is_exact_to_a_hundredth_of_a_pixel(void)
{
  tgis_ctx *ctx = NULL;
  tgis_merc m;
  double worst_px = 0;
  uint64_t seed = 42;

  ASSERT_EQ(tgis_open(&ctx, NULL, NULL), TGIS_OK);
  ASSERT_OK_CTX(ctx, tgis_merc_open(&m, ctx, 32642));
  for (int z = 8; z <= 20; z++) {
    for (int k = 0; k < 6; k++) {
      int x, y;
      tgis_extent b, w;
      tgis_merc_fit fit;
      double res = 2 * TGIS_MERC_HALF / (256 * ldexp(1.0, z));
      seed = seed * 6364136223846793005ull + 1442695040888963407ull;
      double lon = 69.15 + 0.25 * (double)(seed >> 40) / (1 << 24);
      double lat = 41.20 + 0.20 * (double)((seed >> 16) & 0xffffff) / (1 << 24);
      tile_at(lon, lat, z, &x, &y);
      ASSERT_OK_CTX(ctx, tgis_render_tile_bounds(&b, z, x, y));
      ASSERT_OK_CTX(ctx, tgis_merc_window(&m, &b, &w));
      ASSERT_OK_CTX(ctx, tgis_merc_fit_window(&m, &w, 0.05 * res, &fit));
      ASSERT(!fit.exact);         /* the city's tiles never need PROJ per point */
      /* 200 points of the window: fitted against exact. */
      for (int i = 0; i < 200; i++) {
        double p[2], q[2];
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        p[0] = q[0] = w.minx + (w.maxx - w.minx) * (double)(seed >> 40) / (1 << 24);
        p[1] = q[1] = w.miny + (w.maxy - w.miny) * (double)((seed >> 16) & 0xffffff) / (1 << 24);
        ASSERT_OK_CTX(ctx, tgis_merc_apply(&m, &fit, p, 1));
        ASSERT_OK_CTX(ctx, tgis_merc_points(&m, 0, q, 1));
        worst_px = fmax(worst_px, hypot(p[0] - q[0], p[1] - q[1]) / res);
      }
      /* The window covers the tile: its corners map inside or on it. */
      double c[8] = { w.minx, w.miny, w.maxx, w.miny, w.maxx, w.maxy, w.minx, w.maxy };
      ASSERT_OK_CTX(ctx, tgis_merc_points(&m, 0, c, 4));
      ASSERT(fmin(c[0], c[6]) <= b.minx && fmax(c[2], c[4]) >= b.maxx);
      ASSERT(fmin(c[1], c[3]) <= b.miny && fmax(c[5], c[7]) >= b.maxy);
    }
  }
  printf("     worst fitted-vs-PROJ error over z8-z20: %.5f px\n", worst_px);
  ASSERT(worst_px < 0.01);
  tgis_merc_close(&m);
  tgis_close(ctx);
}

static void test_tiles__a_window_too_wide_falls_back_to_proj(void)
{
  tgis_ctx *ctx = NULL;
  tgis_merc m;
  tgis_merc_fit fit;
  tgis_extent b, w;
  double p[2] = { 300000, 4400000 }, q[2] = { 300000, 4400000 };

  ASSERT_EQ(tgis_open(&ctx, NULL, NULL), TGIS_OK);
  ASSERT_OK_CTX(ctx, tgis_merc_open(&m, ctx, 32642));
  ASSERT_OK_CTX(ctx, tgis_render_tile_bounds(&b, 3, 5, 2));   /* a continent */
  ASSERT_OK_CTX(ctx, tgis_merc_window(&m, &b, &w));
  ASSERT_OK_CTX(ctx, tgis_merc_fit_window(&m, &w, 0.05 * 2 * TGIS_MERC_HALF / (256 * 8), &fit));
  ASSERT(fit.exact);
  ASSERT_OK_CTX(ctx, tgis_merc_apply(&m, &fit, p, 1));
  ASSERT_OK_CTX(ctx, tgis_merc_points(&m, 0, q, 1));
  ASSERT_NEAR(p[0], q[0], 1e-6);
  ASSERT_NEAR(p[1], q[1], 1e-6);
  tgis_merc_close(&m);
  ASSERT_EQ(tgis_merc_open(&m, ctx, 999999), TGIS_EPROJ);
  tgis_close(ctx);
}

/* ---- the database source ---------------------------------------------------- */

typedef struct counter {
  size_t n, with_cadastre, private_keys;
  tgis_extent box;
} counter;

static tgis_status count_feature(const tgis_feature_view *f, void *payload)
{
  counter *c = payload;
  c->n++;
  for (size_t i = 0; i < f->n_attrs; i++) {
    c->with_cadastre += strcmp(f->keys[i], "cadastre") == 0 && f->values[i];
    c->private_keys += strstr(f->keys[i], "pinfl") != NULL;
  }
  for (size_t i = 0; i < f->geom->n_points; i++) {
    c->box.minx = fmin(c->box.minx, f->geom->xy[2 * i]);
    c->box.maxx = fmax(c->box.maxx, f->geom->xy[2 * i]);
  }
  return TGIS_OK;
}

static void test_tiles__source_reads_what_sql_finds(void)
{
  tgis_ctx *ctx = open_ro();
  tgis_source_db *s = NULL;
  tgis_tile_source src;
  tgis_extent b, w;
  counter c;
  sqlite3 *db;
  sqlite3_stmt *st;
  int x, y, sql_n = -1;

  if (!ctx)
    return;
  ASSERT_OK_CTX(ctx, tgis_source_db_new(&s, ctx));
  src = tgis_source_db_source(s);
  tile_at(69.255, 41.31, 15, &x, &y);
  ASSERT_OK_CTX(ctx, tgis_render_tile_bounds(&b, 15, x, y));
  memset(&c, 0, sizeof c);
  c.box.minx = INFINITY;
  c.box.maxx = -INFINITY;
  ASSERT_OK_CTX(ctx, src.query(src.self, "parcels", &b, 0.5, NULL, NULL, count_feature, &c));
  printf("     parcels in the tile: %zu\n", c.n);
  ASSERT(c.n > 5);
  ASSERT_EQ(c.private_keys, 0);   /* the personal field is not even named */
  ASSERT(c.with_cadastre > 0);
  /* Coordinates are Web Mercator near the tile. */
  ASSERT(c.box.minx > b.minx - 2000 && c.box.maxx < b.maxx + 2000);

  /* The same window counted by SQL over the R-tree. */
  ASSERT_OK_CTX(ctx, tgis_merc_window(tgis_source_db_merc(s), &b, &w));
  ASSERT_EQ(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT count(*) FROM idx_parcels_geom WHERE xmin <= ?3 AND "
                               "xmax >= ?1 AND ymin <= ?4 AND ymax >= ?2", -1, &st, NULL),
            SQLITE_OK);
  sqlite3_bind_double(st, 1, w.minx);
  sqlite3_bind_double(st, 2, w.miny);
  sqlite3_bind_double(st, 3, w.maxx);
  sqlite3_bind_double(st, 4, w.maxy);
  if (sqlite3_step(st) == SQLITE_ROW)
    sql_n = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  ASSERT_EQ((long)c.n, (long)sql_n);

  memset(&c, 0, sizeof c);
  ASSERT_OK_CTX(ctx, src.query(src.self, "no_such_layer", &b, 0.5, NULL, NULL, count_feature, &c));
  ASSERT_EQ(c.n, 0);
  tgis_source_db_free(s);
  tgis_close(ctx);
}

/* Features of one query as (id, land_use, area_m2), values copied. */
typedef struct parcel_rows {
  size_t n, bad;
  const char *const *want;        /* the list asked; NULL: all */
  int64_t id[4096];
  char use[4096][32], area[4096][32];
} parcel_rows;

static tgis_status keep_parcel(const tgis_feature_view *f, void *payload)
{
  parcel_rows *p = payload;
  const char *use = NULL, *area = NULL;
  if (p->n >= 4096)
    return TGIS_OK;
  if (p->want) {
    /* Exactly the keys asked, by the very pointers, in order. */
    size_t n = 0;
    while (p->want[n])
      n++;
    if (f->n_attrs != n)
      p->bad++;
    for (size_t i = 0; i < f->n_attrs && i < n; i++) {
      p->bad += f->keys[i] != p->want[i];
      if (strcmp(p->want[i], "no_such_field") == 0 || strstr(p->want[i], "pinfl"))
        p->bad += f->values[i] != NULL;   /* unknown or private: null */
    }
  }
  for (size_t i = 0; i < f->n_attrs; i++) {
    if (!use && strcmp(f->keys[i], "land_use") == 0)
      use = f->values[i];
    if (!area && strcmp(f->keys[i], "area_m2") == 0)
      area = f->values[i];
  }
  p->id[p->n] = f->id;
  snprintf(p->use[p->n], sizeof p->use[0], "%s", use ? use : "(null)");
  snprintf(p->area[p->n], sizeof p->area[0], "%s", area ? area : "(null)");
  p->n++;
  return TGIS_OK;
}

static void test_tiles__source_reads_only_the_keys_asked(void)
{
  tgis_ctx *ctx = open_ro();
  tgis_source_db *s = NULL;
  tgis_tile_source src;
  parcel_rows *all = NULL, *some = NULL;
  const char *const want[] = { "area_m2", "no_such_field", "owner_pinfl", "land_use",
                               "area_m2", NULL };
  const char *const none[] = { NULL };
  const char *many[TGIS_SOURCE_MAX_KEYS + 2];
  tgis_extent b;
  int x, y;

  if (!ctx)
    return;
  all = calloc(1, sizeof *all);
  some = calloc(1, sizeof *some);
  ASSERT(all && some);
  ASSERT_OK_CTX(ctx, tgis_source_db_new(&s, ctx));
  src = tgis_source_db_source(s);
  tile_at(69.255, 41.31, 15, &x, &y);
  ASSERT_OK_CTX(ctx, tgis_render_tile_bounds(&b, 15, x, y));
  ASSERT_OK_CTX(ctx, src.query(src.self, "parcels", &b, 0.5, NULL, NULL, keep_parcel, all));
  some->want = want;
  ASSERT_OK_CTX(ctx, src.query(src.self, "parcels", &b, 0.5, want, NULL, keep_parcel, some));
  ASSERT(all->n > 5);
  ASSERT_EQ(some->n, all->n);
  ASSERT_EQ(some->bad, 0);
  /* The values asked for are those of the full read, feature by feature. */
  for (size_t i = 0; i < some->n; i++) {
    size_t j = 0;
    while (j < all->n && all->id[j] != some->id[i])
      j++;
    ASSERT(j < all->n);
    ASSERT_STR_EQ(some->use[i], all->use[j]);
    ASSERT_STR_EQ(some->area[i], all->area[j]);
    ASSERT(strcmp(some->use[i], "(null)") != 0);
  }
  /* Again (the kept statement for this set), and an empty list: every
   * feature, no attributes. */
  memset(some, 0, sizeof *some);
  some->want = want;
  ASSERT_OK_CTX(ctx, src.query(src.self, "parcels", &b, 0.5, want, NULL, keep_parcel, some));
  ASSERT_EQ(some->n, all->n);
  ASSERT_EQ(some->bad, 0);
  memset(some, 0, sizeof *some);
  some->want = none;
  ASSERT_OK_CTX(ctx, src.query(src.self, "parcels", &b, 0.5, none, NULL, keep_parcel, some));
  ASSERT_EQ(some->n, all->n);
  ASSERT_EQ(some->bad, 0);
  /* More sets of fields than the store keeps statements for, in turn. */
  for (int round = 0; round < 2; round++) {
    static const char *const sets[][3] = { { "land_use", NULL }, { "area_m2", NULL },
                                           { "residents", NULL }, { "district", NULL },
                                           { "cadastre", "land_use", NULL } };
    for (size_t k = 0; k < sizeof sets / sizeof sets[0]; k++) {
      memset(some, 0, sizeof *some);
      some->want = sets[k];
      ASSERT_OK_CTX(ctx, src.query(src.self, "parcels", &b, 0.5, sets[k], NULL, keep_parcel, some));
      ASSERT_EQ(some->n, all->n);
      ASSERT_EQ(some->bad, 0);
    }
  }
  /* Too many keys: refused with a message, nothing emitted. */
  for (int i = 0; i < TGIS_SOURCE_MAX_KEYS + 1; i++)
    many[i] = "land_use";
  many[TGIS_SOURCE_MAX_KEYS + 1] = NULL;
  memset(some, 0, sizeof *some);
  ASSERT_EQ(src.query(src.self, "parcels", &b, 0.5, many, NULL, keep_parcel, some), TGIS_EINVAL);
  ASSERT_EQ(some->n, 0);
  ASSERT_CONTAINS(tgis_errmsg(ctx), "attributes");
  tgis_source_db_free(s);
  tgis_close(ctx);
  free(all);
  free(some);
}

/* ---- the outer hint ------------------------------------------------------------ */

typedef struct outer_log {
  size_t n, wanted_calls, bad;
  int accept;                     /* what want says */
  tgis_extent core;
  int64_t id[4096];
  int meets_core[4096];
} outer_log;

static int outer_want(const tgis_feature_view *f, void *payload)
{
  outer_log *o = payload;
  o->wanted_calls++;
  o->bad += f->geom != NULL || f->n_attrs != 1 || strcmp(f->keys[0], "class") != 0;
  return o->accept;
}

static tgis_status outer_emit(const tgis_feature_view *f, void *payload)
{
  outer_log *o = payload;
  tgis_extent e = tgis_geombuf_extent(f->geom);
  if (o->n < 4096) {
    o->id[o->n] = f->id;
    o->meets_core[o->n] = e.minx <= o->core.maxx && e.maxx >= o->core.minx &&
                          e.miny <= o->core.maxy && e.maxy >= o->core.miny;
  }
  o->n++;
  return TGIS_OK;
}

/* A source that hands every query on without its keys and outer hint. */
static tgis_status plain_query(void *self, const char *layer, const tgis_extent *bbox,
                               double tolerance, const char *const *keys,
                               const tgis_source_outer *outer, tgis_feature_emit emit,
                               void *payload)
{
  const tgis_tile_source *inner = self;
  (void)keys;
  (void)outer;
  return inner->query(inner->self, layer, bbox, tolerance, NULL, NULL, emit, payload);
}

static void test_tiles__outer_hint_leaves_out_only_what_the_tile_ignores(void)
{
  tgis_ctx *ctx = open_ro();
  tgis_source_db *s = NULL;
  tgis_tile_source src, plain;
  tgis_style *style = NULL;
  tgis_render_scratch *r = NULL;
  tgis_image img;
  outer_log *all = NULL, *some = NULL;
  const char *const keys[] = { "class", NULL };
  tgis_source_outer outer;
  uint8_t *with = NULL;
  size_t n_with, n_without;
  tgis_extent b;
  int x, y;

  if (!ctx)
    return;
  all = calloc(1, sizeof *all);
  some = calloc(1, sizeof *some);
  ASSERT(all && some);
  ASSERT_OK_CTX(ctx, tgis_source_db_new(&s, ctx));
  src = tgis_source_db_source(s);
  tile_at(69.255, 41.31, 15, &x, &y);
  ASSERT_OK_CTX(ctx, tgis_render_tile_bounds(&b, 15, x, y));
  /* The core: the tile's middle ninth. */
  outer.core.minx = b.minx + (b.maxx - b.minx) / 3;
  outer.core.maxx = b.maxx - (b.maxx - b.minx) / 3;
  outer.core.miny = b.miny + (b.maxy - b.miny) / 3;
  outer.core.maxy = b.maxy - (b.maxy - b.miny) / 3;
  outer.want = outer_want;
  all->core = some->core = outer.core;
  ASSERT_OK_CTX(ctx, src.query(src.self, "roads", &b, 0.5, keys, NULL, outer_emit, all));
  printf("     roads in the tile: %zu\n", all->n);
  ASSERT(all->n > 5 && all->n < 4096);
  /* Wanting everything outside the core: all of them. */
  some->accept = 1;
  ASSERT_OK_CTX(ctx, src.query(src.self, "roads", &b, 0.5, keys, &outer, outer_emit, some));
  ASSERT_EQ(some->n, all->n);
  ASSERT(some->wanted_calls > 0);
  ASSERT_EQ(some->bad, 0);
  /* Wanting nothing there: those whose box meets the core stay (a long
   * road slanting past it among them), some others go. */
  memset(some, 0, sizeof *some);
  some->core = outer.core;
  ASSERT_OK_CTX(ctx, src.query(src.self, "roads", &b, 0.5, keys, &outer, outer_emit, some));
  printf("     of which meet the middle or are kept: %zu\n", some->n);
  ASSERT(some->n < all->n);
  ASSERT_EQ(some->bad, 0);
  for (size_t i = 0; i < all->n; i++) {
    size_t j = 0;
    if (!all->meets_core[i])
      continue;
    while (j < some->n && some->id[j] != all->id[i])
      j++;
    ASSERT(j < some->n);          /* a feature meeting the core is never left out */
  }

  /* A base-theme tile, with the hints and without them: the same pixels,
   * from fewer features. */
  {
    char path[512];
    snprintf(path, sizeof path, "%s/base.yaml", TGIS_STYLES_DIR);
    ASSERT_OK_CTX(ctx, tgis_style_load(&style, ctx, path));
  }
  ASSERT_OK_CTX(ctx, tgis_render_scratch_new(&r, ctx));
  tile_at(69.255, 41.31, 16, &x, &y);
  ASSERT_OK_CTX(ctx, tgis_render_tile(&img, r, style, &src, 16, x, y, NULL));
  n_with = tgis_render_last_stats(r)->features;
  ASSERT((with = malloc((size_t)img.height * img.stride)) != NULL);
  memcpy(with, img.rgba, (size_t)img.height * img.stride);
  plain.query = plain_query;
  plain.self = &src;
  ASSERT_OK_CTX(ctx, tgis_render_tile(&img, r, style, &plain, 16, x, y, NULL));
  n_without = tgis_render_last_stats(r)->features;
  printf("     features read for a z16 tile: %zu with the hints, %zu without\n", n_with,
         n_without);
  ASSERT(n_with <= n_without);
  ASSERT(memcmp(with, img.rgba, (size_t)img.height * img.stride) == 0);
  free(with);
  tgis_render_scratch_free(r);
  tgis_style_free(style);
  tgis_source_db_free(s);
  tgis_close(ctx);
  free(all);
  free(some);
}

/* ---- rendered parcels against gdal_rasterize -------------------------------------- */

static void iou_at(int z, double *iou)
{
  tgis_ctx *ctx = open_ro();
  tgis_tiles *t = NULL;
  char dir[512], style[600], gpkg[512], tif[600], te[4][40];
  unsigned char *png = NULL;
  size_t len = 0;
  tgis_image img;
  tgis_extent b;
  uint8_t burn[256 * 256];
  GDALDatasetH out;
  long both = 0, either = 0;
  int x, y, rc;
  FILE *f;

  *iou = -1;
  if (!ctx)
    return;
  harness_path(dir, sizeof dir, "iou-styles");
  mkdir(dir, 0755);
  snprintf(style, sizeof style, "%s/fill.yaml", dir);
  ASSERT((f = fopen(style, "w")) != NULL);
  fputs("layers:\n  - source: parcels\n    fill: \"#000000\"\n", f);
  fclose(f);
  ASSERT_OK_CTX(ctx, tgis_tiles_open(&t, ctx, dir));
  tile_at(69.255, 41.31, z, &x, &y);
  ASSERT_OK_CTX(ctx, tgis_tiles_render(t, "fill", z, x, y, 1, &png, &len));
  ASSERT_OK_CTX(ctx, tgis_png_decode(&img, ctx, png, len));
  tgis_free(ctx, png);

  /* GDAL reprojects the stored parcels itself, then burns them. */
  harness_path(gpkg, sizeof gpkg, "parcels3857.gpkg");
  snprintf(tif, sizeof tif, "%s/iou-z%d.tif", dir, z);
  unlink(gpkg);
  {
    char *argv[] = { "ogr2ogr", "-q", "-f", "GPKG", "-t_srs", "EPSG:3857", gpkg, db_path,
                     "parcels", NULL };
    ASSERT_EQ(harness_run(argv), 0);
  }
  ASSERT_OK_CTX(ctx, tgis_render_tile_bounds(&b, z, x, y));
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
  ASSERT_EQ(rc, 0);
  GDALAllRegister();
  ASSERT((out = GDALOpen(tif, GA_ReadOnly)) != NULL);
  rc = GDALRasterIO(GDALGetRasterBand(out, 1), GF_Read, 0, 0, 256, 256, burn, 256, 256,
                    GDT_Byte, 0, 0);
  GDALClose(out);
  ASSERT_EQ(rc, CE_None);
  for (int py = 0; py < 256; py++)
    for (int px = 0; px < 256; px++) {
      int ours = img.rgba[(size_t)py * img.stride + 4 * (size_t)px + 3] >= 128;
      int theirs = burn[py * 256 + px] != 0;
      both += ours && theirs;
      either += ours || theirs;
    }
  *iou = either ? (double)both / (double)either : 0;
  ASSERT(either > 256 * 256 / 10);          /* the tile really has parcels */
  tgis_png_free(ctx, img.rgba);
  tgis_tiles_close(t);
  tgis_close(ctx);
}

static void test_tiles__database_tiles_match_gdal_rasterize(void)
{
  for (int z = 15; z <= 17; z += 2) {
    double iou;
    iou_at(z, &iou);
    printf("     IoU with ogr2ogr -t_srs EPSG:3857 + gdal_rasterize at z%d: %.4f\n", z, iou);
    ASSERT(iou >= 0.97);
  }
}

static void test_tiles__map_image_frames_the_city(void)
{
  tgis_ctx *ctx = open_ro();
  tgis_tiles *t = NULL;
  const char *themes[] = { "base", "facilities" }, *bad[] = { "nope" };
  unsigned char *png = NULL;
  size_t len = 0;
  tgis_image img;

  if (!ctx)
    return;
  ASSERT_OK_CTX(ctx, tgis_tiles_open(&t, ctx, NULL));
  ASSERT(tgis_tiles_theme_count(t) >= 4);
  ASSERT_OK_CTX(ctx, tgis_tiles_map_image(t, themes, 2, NULL, 600, &png, &len));
  ASSERT_OK_CTX(ctx, tgis_png_decode(&img, ctx, png, len));
  ASSERT(img.width <= 600 && img.height <= 600);
  ASSERT(img.width > 300 || img.height > 300);   /* the deepest zoom that fits */
  tgis_png_free(ctx, img.rgba);
  tgis_free(ctx, png);
  ASSERT_EQ(tgis_tiles_map_image(t, bad, 1, NULL, 600, &png, &len), TGIS_ENOTFOUND);
  ASSERT_EQ(tgis_tiles_map_image(t, themes, 1, NULL, 5, &png, &len), TGIS_EINVAL);
  ASSERT_EQ(tgis_tiles_render(t, "nope", 10, 0, 0, 1, &png, &len), TGIS_ENOTFOUND);
  ASSERT_EQ(tgis_tiles_render(t, "base", 23, 0, 0, 1, &png, &len), TGIS_EINVAL);
  ASSERT_EQ(tgis_tiles_render(t, "base", 2, 4, 0, 1, &png, &len), TGIS_EINVAL);
  ASSERT_EQ(tgis_tiles_render(t, "base", 2, 0, 0, 3, &png, &len), TGIS_EINVAL);
  tgis_tiles_close(t);
  tgis_close(ctx);
}

/* ---- the tile cache ------------------------------------------------------------ */

static tgis_tile_key key(int z, int x, int y)
{
  tgis_tile_key k = { 0, 1, (uint8_t)z, (uint32_t)x, (uint32_t)y };
  return k;
}

static void test_tiles__cache_bound_lru_and_references(void)
{
  tgis_tile_cache *c = tgis_tile_cache_new(64 * 1024);
  tgis_tile_cache_stats s;
  unsigned char buf[4000];
  const tgis_cached_tile *held = NULL, *t;

  ASSERT(c != NULL);
  memset(buf, 7, sizeof buf);
  for (int i = 0; i < 100; i++) {
    tgis_tile_key k = key(15, i, 0);
    buf[0] = (unsigned char)i;
    t = tgis_tile_cache_put(c, &k, tgis_tile_cache_generation(c), buf, sizeof buf);
    ASSERT(t != NULL);
    if (i == 90) {
      held = t;                   /* kept across evictions below */
      continue;
    }
    tgis_tile_cache_release(c, t);
    /* Touch tile 95.. as soon as they exist: recently used survive. */
  }
  tgis_tile_cache_stats_get(c, &s);
  ASSERT(s.bytes <= 64 * 1024);
  ASSERT(s.evictions > 0);
  {
    tgis_tile_key old = key(15, 0, 0), fresh = key(15, 99, 0);
    ASSERT(tgis_tile_cache_get(c, &old) == NULL);       /* the coldest went first */
    t = tgis_tile_cache_get(c, &fresh);
    ASSERT(t != NULL && t->len == sizeof buf && t->png[0] == 99);
    ASSERT_EQ(t->etag[0], '"');
    tgis_tile_cache_release(c, t);
  }
  /* Evict everything: the held tile's bytes stay readable until released. */
  for (int i = 100; i < 140; i++) {
    tgis_tile_key k = key(15, i, 0);
    t = tgis_tile_cache_put(c, &k, tgis_tile_cache_generation(c), buf, sizeof buf);
    tgis_tile_cache_release(c, t);
  }
  ASSERT(held != NULL && held->png[0] == 90);
  tgis_tile_cache_release(c, held);
  /* A tile too large for the bound is not cached. */
  {
    static unsigned char big[40000];
    tgis_tile_key k = key(15, 1000, 0);
    ASSERT(tgis_tile_cache_put(c, &k, tgis_tile_cache_generation(c), big, sizeof big) == NULL);
  }
  tgis_tile_cache_free(c);
}

static void test_tiles__cache_invalidates_by_box_at_every_zoom(void)
{
  tgis_tile_cache *c = tgis_tile_cache_new(16 << 20);
  unsigned char b[10] = { 1 };
  int x15, y15, x10, y10;
  tgis_extent box, tb;

  tile_at(69.27, 41.30, 15, &x15, &y15);
  tile_at(69.27, 41.30, 10, &x10, &y10);
  for (int dx = -3; dx <= 3; dx++) {
    tgis_tile_key k = key(15, x15 + dx, y15);
    tgis_tile_cache_release(c, tgis_tile_cache_put(c, &k, tgis_tile_cache_generation(c), b, 10));
  }
  {
    tgis_tile_key k = key(10, x10, y10);
    tgis_tile_cache_release(c, tgis_tile_cache_put(c, &k, tgis_tile_cache_generation(c), b, 10));
  }
  /* A 10 m box in the middle of tile x15: it, and the z10 tile over it. */
  ASSERT_EQ(tgis_render_tile_bounds(&tb, 15, x15, y15), TGIS_OK);
  box.minx = 0.5 * (tb.minx + tb.maxx) - 5;
  box.maxx = box.minx + 10;
  box.miny = 0.5 * (tb.miny + tb.maxy) - 5;
  box.maxy = box.miny + 10;
  uint64_t gen = tgis_tile_cache_generation(c);
  ASSERT_EQ(tgis_tile_cache_invalidate(c, &box, 0), 2);
  {
    tgis_tile_key k = key(15, x15, y15), left = key(15, x15 - 1, y15);
    const tgis_cached_tile *t = tgis_tile_cache_get(c, &left);
    ASSERT(tgis_tile_cache_get(c, &k) == NULL);
    ASSERT(t != NULL);
    tgis_tile_cache_release(c, t);
    /* A render that started before the invalidation is not cached. */
    ASSERT(tgis_tile_cache_put(c, &k, gen, b, 10) == NULL);
  }
  /* With a margin of a whole tile, the neighbours go too. */
  ASSERT_EQ(tgis_tile_cache_invalidate(c, &box, 256), 2);
  ASSERT_EQ(tgis_tile_cache_invalidate_theme(c, 0), 4);
  tgis_tile_cache_free(c);
}

int main(void)
{
  make_city();
  RUN(test_tiles__fit_is_exact_to_a_hundredth_of_a_pixel);
  RUN(test_tiles__a_window_too_wide_falls_back_to_proj);
  RUN(test_tiles__source_reads_what_sql_finds);
  RUN(test_tiles__source_reads_only_the_keys_asked);
  RUN(test_tiles__outer_hint_leaves_out_only_what_the_tile_ignores);
  RUN(test_tiles__database_tiles_match_gdal_rasterize);
  RUN(test_tiles__map_image_frames_the_city);
  RUN(test_tiles__cache_bound_lru_and_references);
  RUN(test_tiles__cache_invalidates_by_box_at_every_zoom);
  return harness_report();
}
