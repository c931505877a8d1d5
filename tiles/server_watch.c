/*
 * server_watch.c -- keeps the tile cache current: a thread that, every
 * poll interval, reads the boxes committed imports wrote to the change
 * log since it last looked and drops the cached tiles they touch (at every
 * zoom, with a margin for labels and wide strokes drawn across tile
 * edges), and drops the coverage theme when a new coverage run appears.
 */
#include <errno.h>
#include <math.h>
#include <string.h>
#include <time.h>

#include "server_int.h"
#include "store.h"
#include "merc.h"

/* Pixels around a tile that a feature outside it may still paint: labels
 * reach furthest. */
#define MARGIN_PX 96.0

typedef struct watch_pass {
  tgis_server *s;
  tgis_merc *merc;
  int64_t last;
  size_t dropped;
  int record_only;                /* the first pass: just learn where the log ends */
} watch_pass;

static tgis_status on_change(int64_t id, const char *layer, const tgis_extent *box,
                             void *payload)
{
  watch_pass *w = payload;
  double xy[8] = { box->minx, box->miny, box->maxx, box->miny,
                   box->maxx, box->maxy, box->minx, box->maxy };
  (void)layer;
  w->last = id;
  if (w->record_only)
    return TGIS_OK;
  if (tgis_merc_points(w->merc, 0, xy, 4) == TGIS_OK) {
    tgis_extent m = { fmin(xy[0], xy[6]), fmin(xy[1], xy[3]), fmax(xy[2], xy[4]),
                      fmax(xy[5], xy[7]) };
    w->dropped += tgis_tile_cache_invalidate(w->s->cache, &m, MARGIN_PX);
  }
  return TGIS_OK;
}

static int64_t latest_coverage_run(tgis_store *store)
{
  tgis_coverage_summary sum;
  if (!store->vt->coverage_run_get ||
      store->vt->coverage_run_get(store, 0, NULL, &sum) != TGIS_OK)
    return 0;
  return sum.run_id;
}

/* One look at the database. */
static void watch_once(tgis_server *s, tgis_ctx *ctx, tgis_merc *merc, int first)
{
  tgis_store *store = tgis__store(ctx);
  watch_pass w = { s, merc, 0, 0, first };
  int64_t run;

  pthread_mutex_lock(&s->stop_mu);
  w.last = s->last_change;
  pthread_mutex_unlock(&s->stop_mu);
  if (store->vt->changes_since(store, w.last, on_change, &w) != TGIS_OK)
    return;                       /* a busy moment: try again next time */
  run = latest_coverage_run(store);
  pthread_mutex_lock(&s->stop_mu);
  s->last_change = w.last;
  if (run != s->last_coverage_run) {
    int theme = server_theme_index(s, "coverage");
    if (!first && theme >= 0)
      tgis_tile_cache_invalidate_theme(s->cache, (unsigned)theme);
    s->last_coverage_run = run;
  }
  pthread_mutex_unlock(&s->stop_mu);
}

static void *watcher(void *arg)
{
  tgis_server *s = arg;
  tgis_ctx *ctx = NULL;
  tgis_merc merc;
  tgis_db_info info;

  memset(&merc, 0, sizeof merc);
  if (tgis__ctx_reader(&ctx, s->ctx) != TGIS_OK || tgis_db_info_get(&info, ctx) != TGIS_OK ||
      tgis_merc_open(&merc, ctx, info.srid) != TGIS_OK)
    goto out;
  for (;;) {
    struct timespec until;
    int stop;
    pthread_mutex_lock(&s->stop_mu);
    clock_gettime(CLOCK_REALTIME, &until);
    double t = until.tv_sec + until.tv_nsec * 1e-9 + s->poll_seconds;
    until.tv_sec = (time_t)t;
    until.tv_nsec = (long)((t - (double)until.tv_sec) * 1e9);
    while (!s->stopping)
      if (pthread_cond_timedwait(&s->stop_cv, &s->stop_mu, &until) == ETIMEDOUT)
        break;
    stop = s->stopping;
    pthread_mutex_unlock(&s->stop_mu);
    if (stop)
      break;
    watch_once(s, ctx, &merc, 0);
  }
out:
  tgis_merc_close(&merc);
  tgis_close(ctx);
  return NULL;
}

tgis_status server_watch_start(tgis_server *s)
{
  tgis_ctx *ctx = NULL;
  tgis_merc merc;
  tgis_db_info info;
  tgis_status st;

  if (!s->has_db || s->mb_theme[0])
    return TGIS_OK;
  /* Learn where the log ends now, so that the first pass drops nothing. */
  memset(&merc, 0, sizeof merc);
  if ((st = tgis__ctx_reader(&ctx, s->ctx)) != TGIS_OK)
    return st;
  if ((st = tgis_db_info_get(&info, ctx)) == TGIS_OK &&
      (st = tgis_merc_open(&merc, ctx, info.srid)) == TGIS_OK)
    watch_once(s, ctx, &merc, 1);
  tgis_merc_close(&merc);
  tgis_close(ctx);
  if (st != TGIS_OK)
    return st;
  if (pthread_create(&s->watcher, NULL, watcher, s) != 0)
    return tgis__fail(s->ctx, TGIS_ENOMEM, "cannot start the change watcher");
  s->watching = 1;
  return TGIS_OK;
}

void server_watch_stop(tgis_server *s)
{
  if (!s->watching)
    return;
  pthread_mutex_lock(&s->stop_mu);
  s->stopping = 1;
  pthread_cond_broadcast(&s->stop_cv);
  pthread_mutex_unlock(&s->stop_mu);
  pthread_join(s->watcher, NULL);
  s->watching = 0;
}
