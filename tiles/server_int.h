/*
 * server_int.h -- the parts of the tile server (module-internal).
 *
 * server.c       the daemon, worker slots, routing, static files
 * server_tiles.c tiles: parse the path, cache, render or read MBTiles
 * server_json.c  /themes.json, TileJSON, /info, /search, /healthz, /stats
 * server_watch.c the thread that invalidates tiles after imports
 */
#ifndef TGIS_TILES_SERVER_INT_H
#define TGIS_TILES_SERVER_INT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "tgis_int.h"
#include "tiles_int.h"
#include "tile_cache.h"
#include "mbtiles.h"

#define SERVER_MAX_THEMES 32
#define SERVER_MAX_SLOTS 64

/** What one request thread needs to read and draw; checked out per request. */
typedef struct server_slot {
  tgis_ctx *ctx;                  /* read-only context on the database */
  tgis_tiles *tiles;              /* renderer (NULL when serving MBTiles) */
  tgis_mbtiles *mb;               /* MBTiles reader (NULL when rendering) */
  int busy;
} server_slot;

/** A response to send: status, content type, bytes. */
typedef struct server_reply {
  int status;
  const char *type;
  unsigned char *body;            /* malloc'd, or borrowed from `tile` */
  size_t len;
  const tgis_cached_tile *tile;   /* a cache reference held by the body */
  char etag[24];
  const char *cache_control;
  int not_modified;
} server_reply;

struct tgis_server {
  tgis_ctx *ctx;                  /* the caller's: options, errors */
  struct MHD_Daemon *daemon;
  int port;
  char viewer_dir[1024], vendor_dir[1024];
  tgis_tile_cache *cache;
  /* Themes, parsed once and shared read-only by every slot's renderer
   * (and read for names and legends). */
  tgis_style *themes[SERVER_MAX_THEMES];
  size_t n_themes;
  char mb_theme[64];              /* the theme an MBTiles file holds */
  int has_db;
  double center[3], bounds[4];    /* lon, lat, zoom; w, s, e, n */
  server_slot slots[SERVER_MAX_SLOTS];
  int n_slots;
  pthread_mutex_t slot_mu;
  pthread_cond_t slot_free;
  /* The watcher. */
  pthread_t watcher;
  int watching, stopping;
  pthread_mutex_t stop_mu;
  pthread_cond_t stop_cv;
  double poll_seconds;
  int64_t last_change;
  int64_t last_coverage_run;
  uint64_t requests, errors;      /* under slot_mu */
};

/** Take a free slot (waits); give it back. */
server_slot *server_slot_take(tgis_server *s);
void server_slot_give(tgis_server *s, server_slot *slot);

/** Index of a theme by name, or -1. */
int server_theme_index(const tgis_server *s, const char *name);

/** A JSON error reply {"error": msg}. */
void server_reply_error(server_reply *r, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/** A JSON reply from text (taken over: malloc'd). */
void server_reply_json(server_reply *r, char *json);

/** GET /tiles/... for a path after "/tiles/"; if_none_match may be NULL. */
void server_tiles_get(tgis_server *s, const char *rest, const char *if_none_match,
                      server_reply *r);

/** The JSON routes; `q` reads a query argument (NULL if absent). */
typedef const char *(*server_arg_fn)(void *conn, const char *name);
void server_themes_json(tgis_server *s, const char *host, server_reply *r);
void server_tilejson(tgis_server *s, const char *theme, const char *host, server_reply *r);
void server_info(tgis_server *s, server_arg_fn arg, void *conn, server_reply *r);
void server_search(tgis_server *s, server_arg_fn arg, void *conn, server_reply *r);
void server_healthz(tgis_server *s, server_reply *r);
void server_stats(tgis_server *s, server_reply *r);

/** Start and stop the watcher thread (no-op without a database). */
tgis_status server_watch_start(tgis_server *s);
void server_watch_stop(tgis_server *s);

#endif /* TGIS_TILES_SERVER_INT_H */
