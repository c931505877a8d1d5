/*
 * seed.c -- rendering a tile set into MBTiles with several threads.
 *
 * The calling thread lists the tiles, skips those an earlier run stored,
 * and writes; workers, each with its own read-only context and renderer,
 * take tiles from the list and hand back PNGs through a small bounded
 * queue. Commits every BATCH tiles make an interrupted seed resumable.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tgis_int.h"
#include "mbtiles.h"
#include "merc.h"
#include "tiles_int.h"

#define BATCH 256
#define QUEUE 64
#define MAX_JOBS 64

typedef struct done_png {
  int z, x, y;
  unsigned char *png;
  size_t len;
} done_png;

typedef struct seed {
  tgis_ctx *ctx;                 /* the caller's: allocator and errors */
  const tgis_seed_options *o;
  tgis_style *themes[32];        /* parsed once, shared by the workers */
  size_t n_themes;
  uint64_t *todo;                /* packed z/x/y */
  size_t n_todo, next;           /* next: first not yet taken */
  done_png queue[QUEUE];
  size_t q_head, q_len;
  int stop;                      /* set by the writer: cancel or failure */
  int running;                   /* workers still running */
  tgis_status worker_status;
  char worker_msg[512];
  pthread_mutex_t mu;
  pthread_cond_t can_put, can_take;
} seed;

static uint64_t pack(int z, int x, int y)
{
  return (uint64_t)z << 48 | (uint64_t)x << 24 | (uint64_t)y;
}

static void unpack(uint64_t k, int *z, int *x, int *y)
{
  *z = (int)(k >> 48);
  *x = (int)(k >> 24 & 0xffffff);
  *y = (int)(k & 0xffffff);
}

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int lon_to_x(double lon, int z)
{
  int n = 1 << z, x = (int)floor((lon + 180.0) / 360.0 * n);
  return x < 0 ? 0 : x >= n ? n - 1 : x;
}

static int lat_to_y(double lat, int z)
{
  int n = 1 << z;
  double r = lat * M_PI / 180.0;
  int y = (int)floor((1.0 - log(tan(r) + 1.0 / cos(r)) / M_PI) / 2.0 * n);
  return y < 0 ? 0 : y >= n ? n - 1 : y;
}

static void worker_fail(seed *s, tgis_status st, const char *msg)
{
  pthread_mutex_lock(&s->mu);
  if (s->worker_status == TGIS_OK) {
    s->worker_status = st;
    tgis__strlcpy(s->worker_msg, msg, sizeof s->worker_msg);
  }
  s->stop = 1;
  pthread_cond_broadcast(&s->can_take);
  pthread_mutex_unlock(&s->mu);
}

static void *worker(void *arg)
{
  seed *s = arg;
  tgis_ctx *ctx = NULL;
  tgis_tiles *t = NULL;
  tgis_status st;

  if ((st = tgis__ctx_reader(&ctx, s->ctx)) != TGIS_OK) {
    worker_fail(s, st, "cannot open the database for a worker");
    goto out;
  }
  if ((st = tgis_tiles__open_shared(&t, ctx, s->themes, s->n_themes)) != TGIS_OK) {
    worker_fail(s, st, tgis_errmsg(ctx));
    goto out;
  }
  for (;;) {
    done_png d;
    pthread_mutex_lock(&s->mu);
    if (s->stop || s->next >= s->n_todo) {
      pthread_mutex_unlock(&s->mu);
      break;
    }
    unpack(s->todo[s->next++], &d.z, &d.x, &d.y);
    pthread_mutex_unlock(&s->mu);

    if ((st = tgis_tiles_render(t, s->o->theme, d.z, d.x, d.y, s->o->scale, &d.png, &d.len))
        != TGIS_OK) {
      char msg[512];
      snprintf(msg, sizeof msg, "tile %d/%d/%d: %s", d.z, d.x, d.y, tgis_errmsg(ctx));
      worker_fail(s, st, msg);
      break;
    }
    /* The bytes were allocated through ctx, whose allocator is the
     * caller's: the writer frees them with its own context. */
    pthread_mutex_lock(&s->mu);
    while (s->q_len == QUEUE && !s->stop)
      pthread_cond_wait(&s->can_put, &s->mu);
    if (s->stop) {
      pthread_mutex_unlock(&s->mu);
      tgis_free(ctx, d.png);
      break;
    }
    s->queue[(s->q_head + s->q_len++) % QUEUE] = d;
    pthread_cond_signal(&s->can_take);
    pthread_mutex_unlock(&s->mu);
  }
out:
  tgis_tiles_close(t);
  tgis_close(ctx);
  pthread_mutex_lock(&s->mu);
  s->running--;
  pthread_cond_broadcast(&s->can_take);
  pthread_mutex_unlock(&s->mu);
  return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

typedef struct done_set {
  uint64_t *k;
  size_t n, cap;
  tgis_ctx *ctx;
  int oom;
} done_set;

static void on_stored(int z, int x, int y, void *payload)
{
  done_set *d = payload;
  if (d->n == d->cap) {
    size_t cap = d->cap ? 2 * d->cap : 1024;
    uint64_t *k = tgis__realloc(d->ctx, d->k, cap * sizeof *k);
    if (!k) {
      d->oom = 1;
      return;
    }
    d->k = k;
    d->cap = cap;
  }
  d->k[d->n++] = pack(z, x, y);
}

/* The area in degrees: the options' or the parcels' extent. */
static tgis_status area_of(tgis_ctx *ctx, const tgis_seed_options *o, double b[4])
{
  tgis_layer_info li;
  tgis_db_info info;
  tgis_merc m;
  tgis_status st;
  double xy[8];

  if (o->has_bbox) {
    memcpy(b, o->bbox, sizeof o->bbox);
    if (!(b[0] >= -180 && b[2] <= 180 && b[0] < b[2] && b[1] >= -85.06 && b[3] <= 85.06 &&
          b[1] < b[3]))
      return tgis__fail(ctx, TGIS_EINVAL, "bbox %g,%g,%g,%g: want W,S,E,N in degrees, W < E, S < N",
                        b[0], b[1], b[2], b[3]);
    return TGIS_OK;
  }
  if ((st = tgis_layer_info_get(&li, ctx, TGIS_LAYER_PARCELS)) != TGIS_OK ||
      (st = tgis_db_info_get(&info, ctx)) != TGIS_OK)
    return st;
  if (!li.has_extent)
    return tgis__fail(ctx, TGIS_EINVAL, "no parcels to take the area from: give a bbox");
  if ((st = tgis_merc_open(&m, ctx, info.srid)) != TGIS_OK)
    return st;
  xy[0] = li.extent.minx; xy[1] = li.extent.miny;
  xy[2] = li.extent.maxx; xy[3] = li.extent.miny;
  xy[4] = li.extent.maxx; xy[5] = li.extent.maxy;
  xy[6] = li.extent.minx; xy[7] = li.extent.maxy;
  st = tgis_merc_lonlat(&m, 0, xy, 4);
  tgis_merc_close(&m);
  b[0] = fmin(xy[0], xy[6]);
  b[1] = fmin(xy[1], xy[3]);
  b[2] = fmax(xy[2], xy[4]);
  b[3] = fmax(xy[5], xy[7]);
  return st;
}

static tgis_status write_metadata(tgis_mbtiles *mb, const tgis_seed_options *o,
                                  const double b[4], const char *key)
{
  char v[256];
  tgis_status st;
  int overlay = strcmp(o->theme, "base") != 0;

  snprintf(v, sizeof v, "%.6f,%.6f,%.6f,%.6f", b[0], b[1], b[2], b[3]);
  if ((st = tgis_mbtiles_meta_set(mb, "bounds", v)) != TGIS_OK)
    return st;
  snprintf(v, sizeof v, "%.6f,%.6f,%d", 0.5 * (b[0] + b[2]), 0.5 * (b[1] + b[3]),
           o->min_zoom > 12 ? o->min_zoom : (o->max_zoom < 12 ? o->max_zoom : 12));
  if ((st = tgis_mbtiles_meta_set(mb, "center", v)) != TGIS_OK)
    return st;
  snprintf(v, sizeof v, "tgis %s", o->theme);
  if ((st = tgis_mbtiles_meta_set(mb, "name", v)) != TGIS_OK ||
      (st = tgis_mbtiles_meta_set(mb, "format", "png")) != TGIS_OK ||
      (st = tgis_mbtiles_meta_set(mb, "type", overlay ? "overlay" : "baselayer")) != TGIS_OK ||
      (st = tgis_mbtiles_meta_set(mb, "version", "1.0")) != TGIS_OK ||
      (st = tgis_mbtiles_meta_set(mb, "description",
                                  "Tashkent city layers rendered by tgis")) != TGIS_OK ||
      (st = tgis_mbtiles_meta_set(mb, "attribution", "tgis; city data of Tashkent")) != TGIS_OK ||
      (st = tgis_mbtiles_meta_set(mb, "tgis_seed", key)) != TGIS_OK)
    return st;
  snprintf(v, sizeof v, "%d", o->min_zoom);
  if ((st = tgis_mbtiles_meta_set(mb, "minzoom", v)) != TGIS_OK)
    return st;
  snprintf(v, sizeof v, "%d", o->max_zoom);
  return tgis_mbtiles_meta_set(mb, "maxzoom", v);
}

static int default_jobs(void)
{
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n < 1 ? 1 : n > MAX_JOBS ? MAX_JOBS : (int)n;
}

tgis_status tgis_tiles_seed(tgis_seed_result *out, tgis_ctx *ctx, const char *path,
                            const tgis_seed_options *opts)
{
  static const tgis_seed_options defaults = TGIS_SEED_OPTIONS_INIT;
  const tgis_seed_options *o = opts ? opts : &defaults;
  tgis_seed_options oo = *o;
  tgis_seed_result r;
  tgis_mbtiles *mb = NULL;
  done_set done = { NULL, 0, 0, ctx, 0 };
  pthread_t threads[MAX_JOBS];
  int n_threads = 0, in_tx = 0, cancelled = 0;
  double b[4] = { 0, 0, 0, 0 }, t0 = now();
  char key[128], old[128];
  tgis_status st;
  seed s;

  memset(&r, 0, sizeof r);
  memset(&s, 0, sizeof s);
  if (out)
    *out = r;
  if (!oo.theme)
    oo.theme = "base";
  if (oo.version != TGIS_SEED_OPTIONS_VERSION || oo.min_zoom < 0 || oo.max_zoom > 22 ||
      oo.min_zoom > oo.max_zoom || (oo.scale != 1 && oo.scale != 2) || oo.jobs < 0 ||
      oo.jobs > MAX_JOBS)
    return tgis__fail(ctx, TGIS_EINVAL, "seed options: zooms %d-%d (0..22), scale %d (1, 2), "
                      "jobs %d (0..%d)", oo.min_zoom, oo.max_zoom, oo.scale, oo.jobs, MAX_JOBS);
  /* The themes, once for every worker: a bad style or theme fails before
   * any file is touched. */
  if ((st = tgis_tiles__load_themes(ctx, oo.styles_dir ? oo.styles_dir
                                                       : tgis_tiles__default_dir("styles"),
                                    s.themes, sizeof s.themes / sizeof s.themes[0],
                                    &s.n_themes)) != TGIS_OK)
    return st;
  {
    size_t i = 0;
    while (i < s.n_themes && strcmp(s.themes[i]->name, oo.theme) != 0)
      i++;
    if (i == s.n_themes) {
      st = tgis__fail(ctx, TGIS_ENOTFOUND, "no theme '%s'", oo.theme);
      goto done;
    }
  }
  if ((st = area_of(ctx, &oo, b)) != TGIS_OK)
    goto done;

  s.ctx = ctx;
  s.o = &oo;
  /* The tile list, zoom by zoom. */
  for (int z = oo.min_zoom; z <= oo.max_zoom; z++)
    r.tiles += (int64_t)(lon_to_x(b[2], z) - lon_to_x(b[0], z) + 1) *
               (lat_to_y(b[1], z) - lat_to_y(b[3], z) + 1);
  if (r.tiles > 50000000) {
    st = tgis__fail(ctx, TGIS_EINVAL, "%lld tiles: too many for one seed; narrow the zooms "
                      "or the area", (long long)r.tiles);
    goto done;
  }

  if ((st = tgis_mbtiles_open(&mb, ctx, path, 1)) != TGIS_OK)
    return st;
  snprintf(key, sizeof key, "theme=%s;scale=%d", oo.theme, oo.scale);
  if (tgis_mbtiles_meta_get(mb, "tgis_seed", old, sizeof old) == TGIS_OK && strcmp(old, key)) {
    st = tgis__fail(ctx, TGIS_EINVAL, "%s: seeded with %s, not %s; use another file", path, old,
                    key);
    goto done;
  }
  if ((st = tgis_mbtiles_each(mb, oo.min_zoom, oo.max_zoom, on_stored, &done)) != TGIS_OK)
    goto done;
  if (done.oom) {
    st = TGIS_ENOMEM;
    goto done;
  }
  if (done.n > 1)
    qsort(done.k, done.n, sizeof *done.k, cmp_u64);
  if (!(s.todo = tgis__malloc(ctx, (size_t)(r.tiles ? r.tiles : 1) * sizeof *s.todo))) {
    st = TGIS_ENOMEM;
    goto done;
  }
  for (int z = oo.min_zoom; z <= oo.max_zoom; z++)
    for (int x = lon_to_x(b[0], z); x <= lon_to_x(b[2], z); x++)
      for (int y = lat_to_y(b[3], z); y <= lat_to_y(b[1], z); y++) {
        uint64_t k = pack(z, x, y);
        if (done.n && bsearch(&k, done.k, done.n, sizeof k, cmp_u64))
          r.already++;
        else
          s.todo[s.n_todo++] = k;
      }
  if ((st = tgis_mbtiles_begin(mb)) != TGIS_OK)
    goto done;
  in_tx = 1;
  if ((st = write_metadata(mb, &oo, b, key)) != TGIS_OK)
    goto done;

  r.jobs = oo.jobs ? oo.jobs : default_jobs();
  pthread_mutex_init(&s.mu, NULL);
  pthread_cond_init(&s.can_put, NULL);
  pthread_cond_init(&s.can_take, NULL);
  for (int i = 0; i < r.jobs && (size_t)i < s.n_todo; i++) {
    if (pthread_create(&threads[n_threads], NULL, worker, &s) != 0)
      break;
    n_threads++;
  }
  s.running = n_threads;
  if (n_threads == 0 && s.n_todo > 0)
    st = tgis__fail(ctx, TGIS_ENOMEM, "cannot start a rendering thread");

  /* The writer: store what the workers hand over. */
  int64_t in_batch = 0;
  if (oo.progress && oo.progress("tiles", r.already, r.tiles, oo.progress_payload))
    cancelled = 1;
  while (st == TGIS_OK && !cancelled) {
    done_png d;
    pthread_mutex_lock(&s.mu);
    while (s.q_len == 0 && s.running > 0 && !s.stop)
      pthread_cond_wait(&s.can_take, &s.mu);
    if (s.q_len == 0) {
      pthread_mutex_unlock(&s.mu);
      break;                     /* all done, or a worker failed */
    }
    d = s.queue[s.q_head];
    s.q_head = (s.q_head + 1) % QUEUE;
    s.q_len--;
    pthread_cond_signal(&s.can_put);
    pthread_mutex_unlock(&s.mu);

    st = tgis_mbtiles_put(mb, d.z, d.x, d.y, d.png, d.len);
    r.bytes += (int64_t)d.len;
    tgis_free(ctx, d.png);
    if (st != TGIS_OK)
      break;
    r.rendered++;
    if (++in_batch == BATCH) {
      if ((st = tgis_mbtiles_commit(mb)) != TGIS_OK || (st = tgis_mbtiles_begin(mb)) != TGIS_OK)
        break;
      in_batch = 0;
    }
    if (oo.progress && oo.progress("tiles", r.already + r.rendered, r.tiles,
                                   oo.progress_payload))
      cancelled = 1;
  }

  /* Stop the workers, drop what they still hold, keep what is stored. */
  pthread_mutex_lock(&s.mu);
  s.stop = 1;
  pthread_cond_broadcast(&s.can_put);
  pthread_mutex_unlock(&s.mu);
  for (int i = 0; i < n_threads; i++)
    pthread_join(threads[i], NULL);
  while (s.q_len) {
    tgis_free(ctx, s.queue[s.q_head].png);
    s.q_head = (s.q_head + 1) % QUEUE;
    s.q_len--;
  }
  if (st == TGIS_OK && s.worker_status != TGIS_OK)
    st = tgis__fail(ctx, s.worker_status, "%s", s.worker_msg);
  if (st == TGIS_OK || cancelled) {
    tgis_status c = tgis_mbtiles_commit(mb);
    in_tx = 0;
    if (st == TGIS_OK)
      st = c;
  }
  if (st == TGIS_OK && cancelled)
    st = tgis__fail(ctx, TGIS_ECANCELLED, "seed cancelled after %lld of %lld tiles; run it again "
                    "to go on", (long long)(r.already + r.rendered), (long long)r.tiles);
  pthread_cond_destroy(&s.can_take);
  pthread_cond_destroy(&s.can_put);
  pthread_mutex_destroy(&s.mu);
done:
  if (in_tx && st != TGIS_OK && st != TGIS_ECANCELLED)
    tgis_mbtiles_commit(mb);     /* tiles stored before a failure are good */
  tgis_mbtiles_close(mb);
  tgis__free(ctx, s.todo);
  tgis__free(ctx, done.k);
  for (size_t i = 0; i < s.n_themes; i++)
    tgis_style_free(s.themes[i]);
  r.seconds = now() - t0;
  if (out)
    *out = r;
  return st;
}
