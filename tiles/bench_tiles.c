/*
 * bench_tiles.c -- throughput of the tile renderer over a real database.
 *
 * Not a test: bench/tiles.sh runs it on a generated city next to MapServer
 * and Mapnik. It renders a fixed list of tiles ("z x y" per line, from
 * --tiles FILE) of one theme through the public tgis_tiles_render(), so
 * every figure includes what a server pays per tile: the R-tree query in
 * SQLite, decoding the blobs, the fitted UTM -> Web Mercator transform,
 * drawing, labels and PNG encoding.
 *
 * Each thread opens its own read-only context and renders the whole list
 * (--rounds times). Per-core throughput is tiles over the CPU time of the
 * rendering threads (CLOCK_THREAD_CPUTIME_ID), so other load on the machine
 * does not inflate it; wall-clock throughput over all threads is printed
 * too. One untimed pass over the list first warms SQLite's page cache and
 * the fonts, as a server's would be.
 *
 *   bench_tiles DB --tiles FILE [--theme base] [--threads N] [--rounds N]
 *               [--styles DIR] [--scale 1|2] [--out DIR] [--profile]
 *
 * --out DIR writes each tile as DIR/z-x-y.png (first thread, first round);
 * --profile skips the warm-up pass and prints nothing but the figures
 * (for perf and callgrind).
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tgis.h"
#include "render.h"
#include "tiles_int.h"

#define MAX_THREADS 16

typedef struct tile { int z, x, y; } tile;

typedef struct job {
  const char *db, *styles, *theme, *out;
  const tile *tiles;
  size_t n_tiles;
  int rounds, scale, warm;
  /* results */
  double cpu_ms, wall_ms;
  double query, draw, label, encode;
  double bytes;
  size_t count, features, labels, palette;
  tgis_status st;
  char err[512];
} job;

static double clock_ms(clockid_t id)
{
  struct timespec ts;
  clock_gettime(id, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void write_tile(const char *dir, const tile *t, const unsigned char *png, size_t len)
{
  char path[1024];
  FILE *f;
  snprintf(path, sizeof path, "%s/%d-%d-%d.png", dir, t->z, t->x, t->y);
  if (!(f = fopen(path, "wb")))
    return;
  fwrite(png, 1, len, f);
  fclose(f);
}

static void *run_job(void *arg)
{
  job *j = arg;
  tgis_options o = TGIS_OPTIONS_INIT;
  tgis_ctx *ctx = NULL;
  tgis_tiles *t = NULL;
  double c0, w0;

  o.flags = TGIS_OPEN_READONLY;
  if ((j->st = tgis_open(&ctx, j->db, &o)) != TGIS_OK ||
      (j->st = tgis_tiles_open(&t, ctx, j->styles)) != TGIS_OK)
    goto done;
  for (int pass = j->warm ? 0 : 1; pass <= j->rounds; pass++) {
    int timed = pass > 0;
    for (size_t i = 0; i < j->n_tiles; i++) {
      const tile *tl = &j->tiles[i];
      unsigned char *png = NULL;
      size_t len = 0;
      const tgis_render_stats *s;
      c0 = clock_ms(CLOCK_THREAD_CPUTIME_ID);
      w0 = clock_ms(CLOCK_MONOTONIC);
      if ((j->st = tgis_tiles_render(t, j->theme, tl->z, tl->x, tl->y, j->scale, &png, &len)) !=
          TGIS_OK)
        goto done;
      if (!timed) {
        tgis_free(ctx, png);
        continue;
      }
      j->cpu_ms += clock_ms(CLOCK_THREAD_CPUTIME_ID) - c0;
      j->wall_ms += clock_ms(CLOCK_MONOTONIC) - w0;
      s = tgis_render_last_stats(tgis_tiles__scratch(t));
      j->query += s->query_ms;
      j->draw += s->draw_ms;
      j->label += s->label_ms;
      j->encode += s->encode_ms;
      j->features += s->features;
      j->labels += s->labels;
      j->palette += (size_t)s->png.palette;
      j->bytes += (double)len;
      j->count++;
      if (j->out && pass == 1)
        write_tile(j->out, tl, png, len);
      tgis_free(ctx, png);
    }
  }
done:
  if (j->st != TGIS_OK)
    snprintf(j->err, sizeof j->err, "%s", ctx ? tgis_errmsg(ctx) : "out of memory");
  tgis_tiles_close(t);
  tgis_close(ctx);
  return NULL;
}

static int read_tiles(const char *path, tile **out, size_t *n)
{
  FILE *f = fopen(path, "r");
  tile *v = NULL;
  size_t cap = 0;
  int z, x, y;
  *n = 0;
  if (!f) {
    fprintf(stderr, "%s: %s\n", path, strerror(errno));
    return -1;
  }
  while (fscanf(f, "%d %d %d", &z, &x, &y) == 3) {
    if (*n == cap) {
      tile *p = realloc(v, (cap = cap ? 2 * cap : 256) * sizeof *v);
      if (!p) {
        free(v);
        fclose(f);
        return -1;
      }
      v = p;
    }
    v[(*n)++] = (tile){ z, x, y };
  }
  fclose(f);
  if (*n == 0) {
    fprintf(stderr, "%s: no tiles (lines of \"z x y\")\n", path);
    free(v);
    return -1;
  }
  *out = v;
  return 0;
}

static int usage(const char *argv0)
{
  fprintf(stderr, "usage: %s DB --tiles FILE [--theme base] [--threads N] [--rounds N] "
                  "[--styles DIR] [--scale 1|2] [--out DIR] [--profile]\n", argv0);
  return 2;
}

int main(int argc, char **argv)
{
  const char *db = NULL, *list = NULL;
  job proto;
  job jobs[MAX_THREADS];
  pthread_t th[MAX_THREADS];
  tile *tiles = NULL;
  size_t n_tiles = 0;
  int threads = 1, profile = 0, rc = 1;

  memset(&proto, 0, sizeof proto);
  proto.theme = "base";
  proto.rounds = 2;
  proto.scale = 1;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--tiles") && i + 1 < argc) list = argv[++i];
    else if (!strcmp(argv[i], "--theme") && i + 1 < argc) proto.theme = argv[++i];
    else if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--rounds") && i + 1 < argc) proto.rounds = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--styles") && i + 1 < argc) proto.styles = argv[++i];
    else if (!strcmp(argv[i], "--scale") && i + 1 < argc) proto.scale = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--out") && i + 1 < argc) proto.out = argv[++i];
    else if (!strcmp(argv[i], "--profile")) profile = 1;
    else if (argv[i][0] != '-' && !db) db = argv[i];
    else return usage(argv[0]);
  }
  if (!db || !list || threads < 1 || threads > MAX_THREADS || proto.rounds < 1)
    return usage(argv[0]);
  if (read_tiles(list, &tiles, &n_tiles))
    return 1;
  proto.db = db;
  proto.tiles = tiles;
  proto.n_tiles = n_tiles;
  proto.warm = !profile;
  for (int t = 0; t < threads; t++) {
    jobs[t] = proto;
    if (t > 0)
      jobs[t].out = NULL;
  }
  if (threads == 1) {
    run_job(&jobs[0]);
  } else {
    for (int t = 0; t < threads; t++)
      if (pthread_create(&th[t], NULL, run_job, &jobs[t])) {
        fprintf(stderr, "cannot start thread %d\n", t);
        return 1;
      }
    for (int t = 0; t < threads; t++)
      pthread_join(th[t], NULL);
  }
  {
    double cpu = 0, busy = 0, q = 0, d = 0, l = 0, e = 0, b = 0;
    size_t n = 0, feat = 0, lab = 0, pal = 0;
    for (int t = 0; t < threads; t++) {
      if (jobs[t].st != TGIS_OK) {
        fprintf(stderr, "thread %d: %s\n", t, jobs[t].err);
        goto done;
      }
      cpu += jobs[t].cpu_ms;
      busy = fmax(busy, jobs[t].wall_ms);
      q += jobs[t].query; d += jobs[t].draw; l += jobs[t].label; e += jobs[t].encode;
      b += jobs[t].bytes; n += jobs[t].count; feat += jobs[t].features;
      lab += jobs[t].labels; pal += jobs[t].palette;
    }
    /* One line of key=value figures for the driver, then a readable one. */
    printf("tiles=%zu threads=%d cpu_ms=%.1f wall_ms=%.1f per_core=%.1f wall_rate=%.1f "
           "query_ms=%.3f draw_ms=%.3f label_ms=%.3f encode_ms=%.3f avg_bytes=%.0f "
           "features=%.1f labels=%.2f palette_pct=%.0f\n",
           n, threads, cpu, busy, n / (cpu / 1e3), n / (busy / 1e3), q / n, d / n, l / n, e / n,
           b / n, (double)feat / n, (double)lab / n, 100.0 * pal / n);
    if (!profile)
      fprintf(stderr, "%zu tiles (%zu distinct x %d rounds) on %d thread(s): %.1f tiles/s per "
                      "core, %.1f tiles/s wall; per tile query %.2f, draw %.2f, labels %.2f, "
                      "encode %.2f ms; %.1f KB\n",
              n, n_tiles, proto.rounds, threads, n / (cpu / 1e3), n / (busy / 1e3), q / n, d / n,
              l / n, e / n, b / n / 1024);
  }
  rc = 0;
done:
  free(tiles);
  return rc;
}
