/*
 * bench_render.c -- throughput of the tile renderer on a synthetic city.
 *
 * Not a test: it builds a Tashkent-sized street lattice in memory (about
 * 100,000 parcels, 18,000 road segments with names, utilities, facilities,
 * districts), renders a fixed list of z15-z16 tiles of the base theme and
 * prints tiles/s per core, milliseconds per tile split into query, draw,
 * labels and PNG encoding (CPU time of the rendering thread, so other load
 * on the machine does not distort them), and the average PNG size. With --threads N it
 * renders on N threads at once (one context and scratch each) to show how
 * seeding scales; with --out DIR it writes a few tiles of every theme.
 *
 *   bench_render [--styles DIR] [--threads N] [--rounds N] [--level L]
 *                [--palette auto|exact|never] [--scale 1|2] [--out DIR]
 *                [--png-sweep]
 *
 * --png-sweep renders the tiles once and encodes them with several PNG
 * settings, printing time, size and palette use of each.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tgis_int.h"
#include "geom.h"
#include "render.h"

#ifndef TGIS_STYLES_DIR
#define TGIS_STYLES_DIR "data/styles"
#endif

#define BLOCK_W 210.0        /* metres (EPSG:3857) */
#define BLOCK_H 170.0
#define ROAD_GAP 14.0
#define NB 92                /* blocks per side: 92*92*12 = 101,568 parcels */

typedef struct rng { uint64_t s; } rng;
static double rnd(rng *r)
{
  r->s = r->s * 6364136223846793005ULL + 1442695040888963407ULL;
  return (double)(r->s >> 11) / 9007199254740992.0;
}

static double now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* CPU time of the calling thread: the per-core figures are not inflated by
 * other load on the machine. */
static double cpu_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* City centre: 69.2797 E, 41.3111 N in Web Mercator metres. */
static void centre(double *x, double *y)
{
  *x = 69.2797 * M_PI / 180 * 6378137.0;
  *y = log(tan(M_PI / 4 + 41.3111 * M_PI / 360)) * 6378137.0;
}

static const char *const street_names[] = {
  "Amir Temur", "Navoiy", "Bobur", "Shota Rustaveli", "Mustaqillik", "Furqat",
  "Chilonzor", "Bunyodkor", "Qatortol", "Muqimiy", "Olmazor", "Beshyog'och",
  "Yunusobod", "Labzak", "Oqqo'rg'on", "Nukus", "Afrosiyob", "Sharof Rashidov",
  "Taras Shevchenko", "Kichik halqa", "Zarqaynar", "Farg'ona yo'li", "Bog'ishamol",
  "Istiqbol", "Mirobod", "Usmon Nosir", "Qushbegi", "Sebzor", "Gulsanam", "Ipakyo'li",
};

typedef struct city {
  tgis_source_mem *mem;
  double x0, y0;             /* south-west corner */
  size_t parcels, roads;
} city;

static tgis_status add_poly(city *c, tgis_geombuf *g, const char *layer, int64_t id,
                            const double *xy, int n, size_t na, const char **k, const char **v)
{
  tgis_status st;
  tgis_geombuf_reset(g, TGIS_GEOM_POLYGON);
  for (int i = 0; i <= n; i++)
    if ((st = tgis_geombuf_add_point(g, xy[2 * (i % n)], xy[2 * (i % n) + 1])))
      return st;
  if ((st = tgis_geombuf_end_part(g)) || (st = tgis_geombuf_end_poly(g)))
    return st;
  return tgis_source_mem_add(c->mem, layer, id, g, na, k, (const char *const *)v);
}

static tgis_status add_line(city *c, tgis_geombuf *g, const char *layer, int64_t id,
                            double ax, double ay, double bx, double by, int bend, rng *r,
                            size_t na, const char **k, const char **v)
{
  tgis_status st;
  tgis_geombuf_reset(g, TGIS_GEOM_LINESTRING);
  if ((st = tgis_geombuf_add_point(g, ax, ay)))
    return st;
  for (int i = 1; i < bend; i++) {
    double t = (double)i / bend;
    if ((st = tgis_geombuf_add_point(g, ax + t * (bx - ax) + (rnd(r) - 0.5) * 2,
                                     ay + t * (by - ay) + (rnd(r) - 0.5) * 2)))
      return st;
  }
  if ((st = tgis_geombuf_add_point(g, bx, by)) || (st = tgis_geombuf_end_part(g)))
    return st;
  return tgis_source_mem_add(c->mem, layer, id, g, na, k, (const char *const *)v);
}

static tgis_status add_point(city *c, tgis_geombuf *g, const char *layer, int64_t id, double x,
                             double y, size_t na, const char **k, const char **v)
{
  tgis_status st;
  tgis_geombuf_reset(g, TGIS_GEOM_POINT);
  if ((st = tgis_geombuf_add_point(g, x, y)))
    return st;
  return tgis_source_mem_add(c->mem, layer, id, g, na, k, (const char *const *)v);
}

static const char *road_class(int i)
{
  if (i % 23 == 11) return "trunk";
  if (i % 10 == 5) return "primary";
  if (i % 5 == 0) return "secondary";
  if (i % 2 == 0) return "tertiary";
  return "residential";
}

static tgis_status build_city(city *c, tgis_ctx *ctx)
{
  static const char *const uses[] = { "residential", "residential", "residential", "multifamily",
                                      "multifamily", "commercial", "industrial", "public",
                                      "green", "other" };
  static const char *const nets[] = { "gas", "power", "water", "heat" };
  tgis_geombuf g;
  rng r = { 42 };
  tgis_status st = TGIS_OK;
  double cx, cy;
  int64_t id = 1;
  char name[96], tm[32];
  const char *pk[] = { "land_use", "cadastre", "travel_min" };
  const char *rk[] = { "class", "name" };
  const char *uk[] = { "network", "kind", "name" };
  const char *fk[] = { "kind", "name" };
  const char *dk[] = { "name" };

  tgis_geombuf_init(&g, ctx);
  if ((st = tgis_source_mem_new(&c->mem, ctx)))
    return st;
  centre(&cx, &cy);
  c->x0 = cx - NB * BLOCK_W / 2;
  c->y0 = cy - NB * BLOCK_H / 2;

  /* Parcels: each block is two rows of six, with jittered corners. */
  for (int by = 0; by < NB; by++) {
    for (int bx = 0; bx < NB; bx++) {
      double x0 = c->x0 + bx * BLOCK_W + ROAD_GAP / 2, y0 = c->y0 + by * BLOCK_H + ROAD_GAP / 2;
      double w = (BLOCK_W - ROAD_GAP) / 6, h = (BLOCK_H - ROAD_GAP) / 2;
      int zone = (int)(rnd(&r) * 10);
      for (int py = 0; py < 2; py++) {
        for (int px = 0; px < 6; px++) {
          double q[8], j = 2.5;
          const char *v[3];
          q[0] = x0 + px * w + rnd(&r) * j;        q[1] = y0 + py * h + rnd(&r) * j;
          q[2] = x0 + (px + 1) * w - rnd(&r) * j;  q[3] = y0 + py * h + rnd(&r) * j;
          q[4] = x0 + (px + 1) * w - rnd(&r) * j;  q[5] = y0 + (py + 1) * h - rnd(&r) * j;
          q[6] = x0 + px * w + rnd(&r) * j;        q[7] = y0 + (py + 1) * h - rnd(&r) * j;
          v[0] = rnd(&r) < 0.7 ? uses[zone] : uses[(int)(rnd(&r) * 10)];
          snprintf(name, sizeof name, "10:%02d:%02d:%02d:01:%04d", bx % 12, by % 50, px, (int)(id % 10000));
          v[1] = name;
          snprintf(tm, sizeof tm, "%.1f", hypot(bx - NB / 2.0, by - NB / 2.0) * 0.9 + rnd(&r) * 6);
          v[2] = rnd(&r) < 0.03 ? NULL : tm;
          if ((st = add_poly(c, &g, "parcels", id, q, 4, 3, pk, v)) ||
              (st = add_poly(c, &g, "coverage", id, q, 4, 3, pk, v)))
            goto done;
          id++;
          c->parcels++;
        }
      }
    }
  }
  /* Roads along the lattice, one feature per block edge, named by line. */
  for (int dir = 0; dir < 2; dir++) {
    for (int i = 0; i <= NB; i++) {
      for (int s = 0; s < NB; s++) {
        double ax, ay, bx, by;
        const char *v[2];
        if (dir == 0) {
          ax = bx = c->x0 + i * BLOCK_W;
          ay = c->y0 + s * BLOCK_H;
          by = ay + BLOCK_H;
        } else {
          ay = by = c->y0 + i * BLOCK_H;
          ax = c->x0 + s * BLOCK_W;
          bx = ax + BLOCK_W;
        }
        v[0] = road_class(i);
        snprintf(name, sizeof name, "%s %s", street_names[(i * 7 + dir * 13) % 30],
                 dir ? "ko'chasi" : "shoh ko'chasi");
        v[1] = strcmp(v[0], "residential") == 0 && i % 4 == 1 ? NULL : name;
        if ((st = add_line(c, &g, "roads", id++, ax, ay, bx, by, 3, &r, 2, rk, v)))
          goto done;
        c->roads++;
        /* Utility mains along every other street, offset from the axis. */
        if ((i + dir) % 2 == 0) {
          const char *u[3] = { nets[(i + s) % 4], "main", NULL };
          double o = 4 + 2 * ((i + s) % 4);
          if ((st = add_line(c, &g, "utility_lines", id++, ax + (dir ? 0 : o), ay + (dir ? o : 0),
                             bx + (dir ? 0 : o), by + (dir ? o : 0), 1, &r, 3, uk, u)))
            goto done;
          u[1] = "junction";
          if ((st = add_point(c, &g, "utility_nodes", id++, ax + (dir ? 0 : o), ay + (dir ? o : 0), 3, uk, u)))
            goto done;
          if (s % 5 == 2) {
            u[1] = nets[(i + s) % 4] == nets[1] ? "substation" : "source";
            snprintf(name, sizeof name, "%s %d", u[1][0] == 's' && u[1][1] == 'u' ? "PS" : "GRP", (int)(id % 997));
            u[2] = name;
            if ((st = add_point(c, &g, "utility_nodes", id++, (ax + bx) / 2 + (dir ? 0 : o + 10),
                                (ay + by) / 2 + (dir ? o + 10 : 0), 3, uk, u)))
              goto done;
          }
        }
      }
    }
  }
  /* Facilities: a polyclinic every few blocks, schools more often. */
  for (int k = 0; k < 1200; k++) {
    const char *v[2];
    int poly = k % 4 == 0;
    v[0] = poly ? "polyclinic" : "school";
    snprintf(name, sizeof name, poly ? "%d-oilaviy poliklinika" : "%d-maktab", k / (poly ? 4 : 1) + 1);
    v[1] = name;
    if ((st = add_point(c, &g, "facilities", id++, c->x0 + rnd(&r) * NB * BLOCK_W,
                        c->y0 + rnd(&r) * NB * BLOCK_H, 2, fk, v)))
      goto done;
  }
  /* Districts: a 3x3 patchwork over the lattice. */
  {
    static const char *const dn[] = { "Uchtepa", "Chilonzor", "Yakkasaroy", "Shayxontohur",
                                      "Mirobod", "Yashnobod", "Olmazor", "Yunusobod",
                                      "Mirzo Ulug'bek" };
    for (int k = 0; k < 9; k++) {
      double w = NB * BLOCK_W / 3, h = NB * BLOCK_H / 3, q[8];
      const char *v[1] = { dn[k] };
      q[0] = c->x0 + (k % 3) * w;       q[1] = c->y0 + (k / 3) * h;
      q[2] = q[0] + w;                  q[3] = q[1];
      q[4] = q[2];                      q[5] = q[1] + h;
      q[6] = q[0];                      q[7] = q[5];
      if ((st = add_poly(c, &g, "districts", id++, q, 4, 1, dk, v)))
        goto done;
    }
  }
  st = tgis_source_mem_index(c->mem);
done:
  tgis_geombuf_free(&g);
  return st;
}

/* ---- the run ------------------------------------------------------------- */

typedef struct tile { int z, x, y; } tile;

typedef struct job {
  const tgis_style *style;
  tgis_tile_source src;
  const tile *tiles;
  size_t n_tiles;
  int rounds, scale;
  tgis_png_options popts;
  /* results */
  double query, draw, label, convert, encode, wall;
  double bytes;
  size_t count, palette, quantised;
  double min_psnr;
  tgis_status st;
  char err[256];
} job;

static void *run_job(void *arg)
{
  job *j = arg;
  tgis_ctx *ctx = NULL;
  tgis_render_scratch *r = NULL;
  tgis_render_options ro = TGIS_RENDER_OPTIONS_INIT;
  double t0;
  j->min_psnr = INFINITY;
  if ((j->st = tgis_open(&ctx, NULL, NULL)) || (j->st = tgis_render_scratch_new(&r, ctx)))
    goto done;
  ro.scale = j->scale;
  t0 = now_ms();
  for (int round = 0; round < j->rounds; round++) {
    for (size_t i = 0; i < j->n_tiles; i++) {
      uint8_t *png = NULL;
      size_t len = 0;
      const tgis_render_stats *s;
      if ((j->st = tgis_render_tile_png(&png, &len, r, j->style, &j->src, j->tiles[i].z,
                                        j->tiles[i].x, j->tiles[i].y, &ro, &j->popts)))
        goto done;
      s = tgis_render_last_stats(r);
      j->query += s->query_ms;
      j->draw += s->draw_ms;
      j->label += s->label_ms;
      j->convert += s->convert_ms;
      j->encode += s->encode_ms;
      j->bytes += (double)len;
      j->palette += (size_t)s->png.palette;
      j->quantised += (size_t)s->png.quantised;
      if (s->png.quantised && s->png.psnr < j->min_psnr)
        j->min_psnr = s->png.psnr;
      j->count++;
      tgis_png_free(ctx, png);
    }
  }
  j->wall = now_ms() - t0;
done:
  if (j->st && ctx)
    snprintf(j->err, sizeof j->err, "%s", tgis_errmsg(ctx));
  tgis_render_scratch_free(r);
  tgis_close(ctx);
  return NULL;
}

static int write_samples(const char *dir, const char *styles, const city *c, tgis_ctx *ctx)
{
  static const char *const themes[] = { "base", "utilities", "facilities", "coverage" };
  static const int zs[] = { 11, 12, 13, 14, 15, 16, 17, 18 };
  tgis_render_scratch *r = NULL;
  tgis_tile_source src = tgis_source_mem_source(c->mem);
  double cx, cy;
  int rc = 0;
  centre(&cx, &cy);
  if (tgis_render_scratch_new(&r, ctx))
    return 1;
  for (size_t t = 0; t < sizeof themes / sizeof *themes; t++) {
    char path[512];
    tgis_style *style = NULL;
    snprintf(path, sizeof path, "%s/%s.yaml", styles, themes[t]);
    if (tgis_style_load(&style, ctx, path)) {
      fprintf(stderr, "%s\n", tgis_errmsg(ctx));
      rc = 1;
      break;
    }
    for (size_t k = 0; k < sizeof zs / sizeof *zs; k++) {
      int z = zs[k];
      double n = ldexp(1.0, z), span = 2 * TGIS_MERC_HALF / n;
      int x = (int)floor((cx + 300 + TGIS_MERC_HALF) / span);
      int y = (int)floor((TGIS_MERC_HALF - cy - 200) / span);
      for (int scale = 1; scale <= 2; scale++) {
        tgis_render_options ro = TGIS_RENDER_OPTIONS_INIT;
        uint8_t *png = NULL;
        size_t len;
        FILE *f;
        ro.scale = scale;
        ro.gutter = scale == 1 ? 128 : 0;   /* a wider view at scale 1 */
        if (tgis_render_tile_png(&png, &len, r, style, &src, z, x, y, &ro, NULL)) {
          fprintf(stderr, "%s\n", tgis_errmsg(ctx));
          rc = 1;
          continue;
        }
        snprintf(path, sizeof path, "%s/%s-%d-%d-%d%s.png", dir, themes[t], z, x, y,
                 scale == 2 ? "@2x" : "-wide");
        {
          const tgis_render_stats *s = tgis_render_last_stats(r);
          printf("%s: %zu features, %zu drawn, %zu/%zu labels, %zu bytes, %.1f ms\n", path,
                 s->features, s->drawn, s->labels, s->label_candidates, len,
                 s->query_ms + s->draw_ms + s->label_ms + s->encode_ms);
        }
        if ((f = fopen(path, "wb"))) {
          fwrite(png, 1, len, f);
          fclose(f);
        }
        tgis_png_free(ctx, png);
      }
    }
    tgis_style_free(style);
  }
  tgis_render_scratch_free(r);
  return rc;
}

/* Render the tiles once, then encode the same images with several
 * settings: time, size and how many needed a quantised palette. */
static int png_sweep(const tgis_style *style, const city *c, const tile *tiles, size_t n)
{
  static const struct { const char *name; int level; tgis_png_filter filter; tgis_png_palette pal;
                        tgis_png_strategy strat; } sets[] = {
    { "RGB, level 6, libpng's filter heuristic", 6, TGIS_PNG_FILTER_ALL, TGIS_PNG_PALETTE_NEVER, 0 },
    { "RGB, level 6, sub filter", 6, TGIS_PNG_FILTER_SUB, TGIS_PNG_PALETTE_NEVER, 0 },
    { "RGB, level 1, sub filter", 1, TGIS_PNG_FILTER_SUB, TGIS_PNG_PALETTE_NEVER, 0 },
    { "RGB, level 1, no filter, RLE", 1, TGIS_PNG_FILTER_NONE, TGIS_PNG_PALETTE_NEVER, TGIS_PNG_STRATEGY_RLE },
    { "palette, level 9", 9, TGIS_PNG_FILTER_NONE, TGIS_PNG_PALETTE_AUTO, 0 },
    { "palette, level 6", 6, TGIS_PNG_FILTER_NONE, TGIS_PNG_PALETTE_AUTO, 0 },
    { "palette, level 3", 3, TGIS_PNG_FILTER_NONE, TGIS_PNG_PALETTE_AUTO, 0 },
    { "palette, level 2", 2, TGIS_PNG_FILTER_NONE, TGIS_PNG_PALETTE_AUTO, 0 },
    { "palette, level 1", 1, TGIS_PNG_FILTER_NONE, TGIS_PNG_PALETTE_AUTO, 0 },
    { "palette, level 1, RLE", 1, TGIS_PNG_FILTER_NONE, TGIS_PNG_PALETTE_AUTO, TGIS_PNG_STRATEGY_RLE },
    { "palette, level 6, up filter", 6, TGIS_PNG_FILTER_UP, TGIS_PNG_PALETTE_AUTO, 0 },
  };
  tgis_ctx *ctx = NULL;
  tgis_render_scratch *r = NULL;
  tgis_tile_source src = tgis_source_mem_source(c->mem);
  tgis_image *imgs = calloc(n, sizeof *imgs);
  int rc = 1;
  if (!imgs || tgis_open(&ctx, NULL, NULL) || tgis_render_scratch_new(&r, ctx))
    goto done;
  for (size_t i = 0; i < n; i++) {
    tgis_image img;
    if (tgis_render_tile(&img, r, style, &src, tiles[i].z, tiles[i].x, tiles[i].y, NULL))
      goto done;
    imgs[i] = img;
    if (!(imgs[i].rgba = malloc((size_t)img.height * img.stride)))
      goto done;
    memcpy(imgs[i].rgba, img.rgba, (size_t)img.height * img.stride);
  }
  printf("%-42s %9s %9s %8s %9s\n", "PNG settings (same tiles)", "ms/tile", "KB/tile", "palette", "min PSNR");
  for (size_t k = 0; k < sizeof sets / sizeof *sets; k++) {
    tgis_png_options o = TGIS_PNG_OPTIONS_INIT;
    double t = 0, bytes = 0, mp = INFINITY;
    size_t pal = 0;
    o.level = sets[k].level;
    o.filter = sets[k].filter;
    o.palette = sets[k].pal;
    o.strategy = sets[k].strat;
    for (int round = 0; round < 3; round++)
      for (size_t i = 0; i < n; i++) {
        uint8_t *png = NULL;
        size_t len;
        tgis_png_info info;
        double t0 = cpu_ms();
        if (tgis_png_encode(&png, &len, ctx, &imgs[i], &o, &info))
          goto done;
        t += cpu_ms() - t0;
        bytes += (double)len;
        pal += (size_t)info.palette;
        if (info.quantised && info.psnr < mp)
          mp = info.psnr;
        tgis_png_free(ctx, png);
      }
    printf("%-42s %9.2f %9.1f %7zu%% %9.1f\n", sets[k].name, t / (3.0 * n), bytes / (3.0 * n) / 1024,
           pal * 100 / (3 * n), mp);
  }
  rc = 0;
done:
  for (size_t i = 0; imgs && i < n; i++)
    free(imgs[i].rgba);
  free(imgs);
  tgis_render_scratch_free(r);
  tgis_close(ctx);
  return rc;
}

int main(int argc, char **argv)
{
  const char *styles = TGIS_STYLES_DIR, *out = NULL;
  int threads = 1, rounds = 3, scale = 1, sweep = 0;
  tgis_png_options popts = TGIS_PNG_OPTIONS_INIT;
  tgis_ctx *ctx = NULL;
  tgis_style *style = NULL;
  city c = { 0 };
  tile tiles[128];
  size_t n_tiles = 0;
  job jobs[16];
  pthread_t th[16];
  char path[512];
  double t0, cx, cy;
  int rc = 1;

  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--styles") && i + 1 < argc) styles = argv[++i];
    else if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--rounds") && i + 1 < argc) rounds = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--level") && i + 1 < argc) popts.level = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--scale") && i + 1 < argc) scale = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--out") && i + 1 < argc) out = argv[++i];
    else if (!strcmp(argv[i], "--png-sweep")) sweep = 1;
    else if (!strcmp(argv[i], "--palette") && i + 1 < argc) {
      const char *p = argv[++i];
      popts.palette = !strcmp(p, "never") ? TGIS_PNG_PALETTE_NEVER
                    : !strcmp(p, "exact") ? TGIS_PNG_PALETTE_EXACT : TGIS_PNG_PALETTE_AUTO;
    } else {
      fprintf(stderr, "usage: %s [--styles DIR] [--threads N] [--rounds N] [--level L] "
                      "[--palette auto|exact|never] [--scale 1|2] [--out DIR] [--png-sweep]\n", argv[0]);
      return 2;
    }
  }
  if (threads < 1 || threads > 16 || rounds < 1)
    return 2;
  if (tgis_open(&ctx, NULL, NULL)) {
    fprintf(stderr, "cannot open a context\n");
    return 1;
  }
  t0 = now_ms();
  if (build_city(&c, ctx)) {
    fprintf(stderr, "building the city: %s\n", tgis_errmsg(ctx));
    goto done;
  }
  printf("city: %zu parcels, %zu road segments, built and indexed in %.0f ms\n", c.parcels,
         c.roads, now_ms() - t0);
  if (out) {
    rc = write_samples(out, styles, &c, ctx);
    goto done;
  }
  snprintf(path, sizeof path, "%s/base.yaml", styles);
  if (tgis_style_load(&style, ctx, path)) {
    fprintf(stderr, "%s\n", tgis_errmsg(ctx));
    goto done;
  }
  /* A fixed list: 8x4 tiles at z16 and 4x4 at z15 around the centre. */
  centre(&cx, &cy);
  for (int z = 15; z <= 16; z++) {
    double span = 2 * TGIS_MERC_HALF / ldexp(1.0, z);
    int x0 = (int)floor((cx + TGIS_MERC_HALF) / span), y0 = (int)floor((TGIS_MERC_HALF - cy) / span);
    int nx = z == 16 ? 8 : 4, ny = z == 16 ? 8 : 4;
    for (int dy = 0; dy < ny; dy++)
      for (int dx = 0; dx < nx; dx++)
        tiles[n_tiles++] = (tile){ z, x0 - nx / 2 + dx, y0 - ny / 2 + dy };
  }
  if (sweep) {
    rc = png_sweep(style, &c, tiles, n_tiles);
    goto done;
  }
  for (int t = 0; t < threads; t++) {
    memset(&jobs[t], 0, sizeof jobs[t]);
    jobs[t].style = style;
    jobs[t].src = tgis_source_mem_source(c.mem);
    jobs[t].tiles = tiles;
    jobs[t].n_tiles = n_tiles;
    jobs[t].rounds = rounds;
    jobs[t].scale = scale;
    jobs[t].popts = popts;
  }
  t0 = now_ms();
  if (threads == 1) {
    run_job(&jobs[0]);
  } else {
    for (int t = 0; t < threads; t++)
      pthread_create(&th[t], NULL, run_job, &jobs[t]);
    for (int t = 0; t < threads; t++)
      pthread_join(th[t], NULL);
  }
  {
    double wall = now_ms() - t0, q = 0, d = 0, l = 0, cv = 0, e = 0, b = 0, mp = INFINITY;
    size_t n = 0, pal = 0, qu = 0;
    for (int t = 0; t < threads; t++) {
      if (jobs[t].st) {
        fprintf(stderr, "thread %d: %s\n", t, jobs[t].err);
        goto done;
      }
      q += jobs[t].query; d += jobs[t].draw; l += jobs[t].label; cv += jobs[t].convert;
      e += jobs[t].encode; b += jobs[t].bytes; n += jobs[t].count;
      pal += jobs[t].palette; qu += jobs[t].quantised;
      if (jobs[t].min_psnr < mp) mp = jobs[t].min_psnr;
    }
    printf("tiles: %zu (%zu distinct z15-z16 tiles x %d rounds), theme base, scale %d, "
           "zlib level %d, %d thread(s)\n", n, n_tiles, rounds, scale, popts.level, threads);
    printf("per tile: query %.2f ms, draw %.2f ms, labels %.2f ms, encode %.2f ms, "
           "total %.2f ms\n", q / n, d / n, l / n, e / n, (q + d + l + cv + e) / n);
    printf("png: average %.1f KB, %zu%% palette (%zu%% quantised, lowest PSNR %.1f dB)\n",
           b / n / 1024, pal * 100 / n, qu * 100 / n, mp);
    printf("throughput: %.1f tiles/s per core (CPU time), %.1f tiles/s wall-clock on %d "
           "thread(s)\n", n / ((q + d + l + cv + e) / 1000), n / (wall / 1000), threads);
  }
  rc = 0;
done:
  tgis_style_free(style);
  tgis_source_mem_free(c.mem);
  tgis_close(ctx);
  return rc;
}
