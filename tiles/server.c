/*
 * server.c -- the tile server's daemon (libmicrohttpd, a pool of request
 * threads), its worker slots, the routing and the static files.
 *
 * Every request thread checks a slot out for the time it reads or draws:
 * a slot is a read-only context on the database with its own renderer, so
 * no database connection or Cairo surface is ever shared between threads.
 * Cached tiles need no slot at all.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <microhttpd.h>

#include "server_int.h"

#define MAX_URL 2048
#define MAX_STATIC_BYTES (8 << 20)

/* ---- replies ------------------------------------------------------------- */

void server_reply_error(server_reply *r, int status, const char *fmt, ...)
{
  char msg[512], *json;
  size_t n = 0;
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if ((json = malloc(2 * sizeof msg + 32))) {
    n = (size_t)sprintf(json, "{\"error\": \"");
    for (const char *p = msg; *p; p++) {
      unsigned char c = (unsigned char)*p;
      if (c == '"' || c == '\\')
        json[n++] = '\\', json[n++] = (char)c;
      else if (c >= 0x20)
        json[n++] = (char)c;
    }
    n += (size_t)sprintf(json + n, "\"}\n");
  }
  memset(r, 0, sizeof *r);
  r->status = status;
  r->type = "application/json";
  r->body = (unsigned char *)json;
  r->len = json ? n : 0;
  r->cache_control = "no-store";
}

void server_reply_json(server_reply *r, char *json)
{
  memset(r, 0, sizeof *r);
  r->status = json ? 200 : 500;
  r->type = "application/json";
  r->body = (unsigned char *)(json ? json : strdup("{\"error\": \"out of memory\"}\n"));
  r->len = r->body ? strlen((char *)r->body) : 0;
  r->cache_control = "no-cache";
}

/* ---- slots ---------------------------------------------------------------- */

server_slot *server_slot_take(tgis_server *s)
{
  server_slot *slot = NULL;
  pthread_mutex_lock(&s->slot_mu);
  for (;;) {
    for (int i = 0; i < s->n_slots; i++)
      if (!s->slots[i].busy) {
        slot = &s->slots[i];
        slot->busy = 1;
        break;
      }
    if (slot)
      break;
    pthread_cond_wait(&s->slot_free, &s->slot_mu);
  }
  pthread_mutex_unlock(&s->slot_mu);
  return slot;
}

void server_slot_give(tgis_server *s, server_slot *slot)
{
  pthread_mutex_lock(&s->slot_mu);
  slot->busy = 0;
  pthread_cond_signal(&s->slot_free);
  pthread_mutex_unlock(&s->slot_mu);
}

int server_theme_index(const tgis_server *s, const char *name)
{
  for (size_t i = 0; i < s->n_themes; i++)
    if (strcmp(s->themes[i]->name, name) == 0)
      return (int)i;
  return -1;
}

/* ---- static files ---------------------------------------------------------- */

/* A path segment we serve: letters, digits, '.', '-', '_', not starting
 * with '.', so "..", hidden files and separators never pass. */
static int safe_segment(const char *p, size_t n)
{
  if (n == 0 || n > 128 || p[0] == '.')
    return 0;
  for (size_t i = 0; i < n; i++) {
    char c = p[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
          c == '.' || c == '-' || c == '_'))
      return 0;
  }
  return 1;
}

/* A relative path of at most `max_seg` safe segments. */
static int safe_path(const char *p, int max_seg)
{
  int seg = 0;
  while (*p) {
    const char *slash = strchr(p, '/');
    size_t n = slash ? (size_t)(slash - p) : strlen(p);
    if (!safe_segment(p, n) || ++seg > max_seg)
      return 0;
    p += n + (slash ? 1 : 0);
    if (slash && !*p)
      return 0;
  }
  return seg > 0;
}

static const char *mime_of(const char *path)
{
  static const struct { const char *ext, *type; } types[] = {
    { ".html", "text/html; charset=utf-8" }, { ".js", "text/javascript; charset=utf-8" },
    { ".css", "text/css; charset=utf-8" },   { ".png", "image/png" },
    { ".svg", "image/svg+xml" },             { ".json", "application/json" },
    { ".map", "application/json" },          { ".ico", "image/x-icon" },
  };
  const char *dot = strrchr(path, '.');
  for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
    if (strcmp(dot, types[i].ext) == 0)
      return types[i].type;
  return "application/octet-stream";
}

static void serve_file(const char *dir, const char *rel, server_reply *r)
{
  char path[2048];
  struct stat sb;
  unsigned char *buf;
  int fd;
  ssize_t got;
  size_t n = 0;

  snprintf(path, sizeof path, "%s/%s", dir, rel);
  if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &sb) != 0 ||
      !S_ISREG(sb.st_mode) || sb.st_size > MAX_STATIC_BYTES) {
    if (fd >= 0)
      close(fd);
    server_reply_error(r, 404, "no file /%s", rel);
    return;
  }
  if (!(buf = malloc((size_t)sb.st_size + 1))) {
    close(fd);
    server_reply_error(r, 500, "out of memory");
    return;
  }
  while (n < (size_t)sb.st_size && (got = read(fd, buf + n, (size_t)sb.st_size - n)) > 0)
    n += (size_t)got;
  close(fd);
  memset(r, 0, sizeof *r);
  r->status = 200;
  r->type = mime_of(rel);
  r->body = buf;
  r->len = n;
  r->cache_control = "no-cache";
  tgis_tile_etag(r->etag, buf, n);
}

/* ---- routing ----------------------------------------------------------------- */

typedef struct request_ctx {
  struct MHD_Connection *conn;
} request_ctx;

static const char *arg_of(void *conn, const char *name)
{
  return MHD_lookup_connection_value((struct MHD_Connection *)conn, MHD_GET_ARGUMENT_KIND, name);
}

/* The Host header if it looks like one, for absolute URLs in TileJSON. */
static const char *host_of(struct MHD_Connection *c)
{
  const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");
  if (!h || strlen(h) > 255)
    return NULL;
  for (const char *p = h; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
          *p == '.' || *p == ':' || *p == '-' || *p == '[' || *p == ']'))
      return NULL;
  return h;
}

static enum MHD_Result add_len(void *cls, enum MHD_ValueKind kind, const char *key,
                               const char *value)
{
  size_t *n = cls;
  (void)kind;
  *n += strlen(key) + (value ? strlen(value) : 0) + 2;
  return MHD_YES;
}

static void route(tgis_server *s, struct MHD_Connection *c, const char *url, server_reply *r)
{
  size_t n = strlen(url);

  MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, add_len, &n);
  if (n > MAX_URL) {
    server_reply_error(r, 414, "URL of %zu bytes is too long (at most %d)", n, MAX_URL);
  } else if (strcmp(url, "/") == 0 || strcmp(url, "/index.html") == 0) {
    serve_file(s->viewer_dir, "index.html", r);
  } else if (strncmp(url, "/static/", 8) == 0) {
    if (safe_path(url + 8, 2))
      serve_file(s->viewer_dir, url + 8, r);
    else
      server_reply_error(r, 400, "bad file name");
  } else if (strncmp(url, "/vendor/leaflet/", 16) == 0) {
    char dir[1100];
    snprintf(dir, sizeof dir, "%s/leaflet/dist", s->vendor_dir);
    if (safe_path(url + 16, 2))
      serve_file(dir, url + 16, r);
    else
      server_reply_error(r, 400, "bad file name");
  } else if (strcmp(url, "/themes.json") == 0) {
    server_themes_json(s, host_of(c), r);
  } else if (strncmp(url, "/tiles/", 7) == 0) {
    const char *rest = url + 7, *dot = strrchr(rest, '.');
    if (!strchr(rest, '/') && dot && strcmp(dot, ".json") == 0) {
      char theme[64];
      size_t tn = (size_t)(dot - rest);
      if (tn == 0 || tn >= sizeof theme || !safe_segment(rest, tn)) {
        server_reply_error(r, 400, "bad theme name");
        return;
      }
      memcpy(theme, rest, tn);
      theme[tn] = '\0';
      server_tilejson(s, theme, host_of(c), r);
    } else
      server_tiles_get(s, rest, MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                            MHD_HTTP_HEADER_IF_NONE_MATCH), r);
  } else if (strcmp(url, "/info") == 0) {
    server_info(s, arg_of, c, r);
  } else if (strcmp(url, "/search") == 0) {
    server_search(s, arg_of, c, r);
  } else if (strcmp(url, "/healthz") == 0) {
    server_healthz(s, r);
  } else if (strcmp(url, "/stats") == 0) {
    server_stats(s, r);
  } else {
    server_reply_error(r, 404, "no such page");
  }
}

static void release_tile(void *cls)
{
  void **pair = cls;
  tgis_tile_cache_release(pair[0], pair[1]);
  free(pair);
}

static enum MHD_Result send_reply(tgis_server *s, struct MHD_Connection *c, server_reply *r,
                                  int head)
{
  struct MHD_Response *resp;
  enum MHD_Result ret;
  const char *inm = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);
  int status = r->status;

  if (r->etag[0] && inm && status == 200 && strstr(inm, r->etag))
    status = 304;
  if (status == 304 || head) {
    resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    if (r->tile)
      tgis_tile_cache_release(s->cache, r->tile);
    else
      free(r->body);
  } else if (r->tile) {
    void **pair = malloc(2 * sizeof *pair);
    if (pair) {
      pair[0] = s->cache;
      pair[1] = (void *)(uintptr_t)r->tile;
      resp = MHD_create_response_from_buffer_with_free_callback_cls(r->len, r->body,
                                                                    release_tile, pair);
    } else {
      resp = MHD_create_response_from_buffer(r->len, r->body, MHD_RESPMEM_MUST_COPY);
      tgis_tile_cache_release(s->cache, r->tile);
    }
  } else {
    resp = MHD_create_response_from_buffer(r->len, r->body, MHD_RESPMEM_MUST_FREE);
  }
  if (!resp)
    return MHD_NO;
  if (r->type && status != 304)
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->type);
  if (r->etag[0])
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, r->etag);
  if (r->cache_control)
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, r->cache_control);
  MHD_add_response_header(resp, MHD_HTTP_HEADER_ACCESS_CONTROL_ALLOW_ORIGIN, "*");
  MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
  ret = MHD_queue_response(c, (unsigned)status, resp);
  MHD_destroy_response(resp);
  return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_size, void **con_cls)
{
  tgis_server *s = cls;
  server_reply r;
  int head = strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
  static int first_call_marker;

  (void)version;
  (void)upload_data;
  if (*con_cls == NULL) {         /* headers only so far */
    *con_cls = &first_call_marker;
    return MHD_YES;
  }
  if (*upload_size) {             /* no request bodies: drop them */
    *upload_size = 0;
    return MHD_YES;
  }
  memset(&r, 0, sizeof r);
  if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && !head)
    server_reply_error(&r, 405, "method %s not allowed: GET or HEAD", method);
  else
    route(s, c, url, &r);
  pthread_mutex_lock(&s->slot_mu);
  s->requests++;
  s->errors += r.status >= 400;
  pthread_mutex_unlock(&s->slot_mu);
  return send_reply(s, c, &r, head);
}

/* ---- start and stop ---------------------------------------------------------- */

static tgis_status open_slots(tgis_server *s, const tgis_server_options *o)
{
  tgis_status st = TGIS_OK;
  for (int i = 0; i < s->n_slots && st == TGIS_OK; i++) {
    server_slot *slot = &s->slots[i];
    if (s->has_db) {
      if ((st = tgis__ctx_reader(&slot->ctx, s->ctx)) != TGIS_OK)
        break;
    } else if ((st = tgis_open(&slot->ctx, NULL, NULL)) != TGIS_OK) {
      st = tgis__fail(s->ctx, st, "cannot create a worker context");
      break;
    }
    if (o->mbtiles) {
      if ((st = tgis_mbtiles_open(&slot->mb, slot->ctx, o->mbtiles, 0)) != TGIS_OK)
        tgis__fail(s->ctx, st, "%s", tgis_errmsg(slot->ctx));
    } else if ((st = tgis_tiles__open_shared(&slot->tiles, slot->ctx, s->themes,
                                             s->n_themes)) != TGIS_OK)
      tgis__fail(s->ctx, st, "%s", tgis_errmsg(slot->ctx));
  }
  return st;
}

/* Centre and bounds for the viewer: the parcels' extent in degrees, or an
 * MBTiles file's metadata. */
static void find_area(tgis_server *s, server_slot *slot)
{
  s->bounds[0] = 69.10; s->bounds[1] = 41.17; s->bounds[2] = 69.45; s->bounds[3] = 41.42;
  s->center[2] = 12;
  if (s->has_db) {
    tgis_layer_info li;
    tgis_source_db *src = tgis_tiles__source(slot->tiles);
    if (tgis_layer_info_get(&li, slot->ctx, TGIS_LAYER_PARCELS) == TGIS_OK && li.has_extent) {
      double xy[4] = { li.extent.minx, li.extent.miny, li.extent.maxx, li.extent.maxy };
      if (tgis_merc_lonlat(tgis_source_db_merc(src), 0, xy, 2) == TGIS_OK)
        memcpy(s->bounds, xy, sizeof xy);
    }
  } else if (slot->mb) {
    char v[256];
    double b[4];
    if (tgis_mbtiles_meta_get(slot->mb, "bounds", v, sizeof v) == TGIS_OK &&
        sscanf(v, "%lf,%lf,%lf,%lf", &b[0], &b[1], &b[2], &b[3]) == 4)
      memcpy(s->bounds, b, sizeof b);
    if (tgis_mbtiles_meta_get(slot->mb, "minzoom", v, sizeof v) == TGIS_OK)
      s->center[2] = atoi(v) > 12 ? atoi(v) : 12;
  }
  s->center[0] = 0.5 * (s->bounds[0] + s->bounds[2]);
  s->center[1] = 0.5 * (s->bounds[1] + s->bounds[3]);
}

static int default_threads(void)
{
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  n = n < 1 ? 2 : 2 * n;
  return n > SERVER_MAX_SLOTS ? SERVER_MAX_SLOTS : (int)n;
}

tgis_status tgis_server_start(tgis_server **out, tgis_ctx *ctx, const tgis_server_options *opts)
{
  static const tgis_server_options defaults = TGIS_SERVER_OPTIONS_INIT;
  const tgis_server_options *o = opts ? opts : &defaults;
  struct sockaddr_in addr;
  tgis_server *s;
  tgis_status st;

  *out = NULL;
  if (o->version != TGIS_SERVER_OPTIONS_VERSION || o->port < 0 || o->port > 65535 ||
      o->threads < 0 || o->threads > SERVER_MAX_SLOTS || o->cache_bytes < (1 << 20) ||
      !(o->poll_seconds > 0))
    return tgis__fail(ctx, TGIS_EINVAL, "server options: port 0..65535, threads 0..%d, cache "
                      ">= 1 MiB, poll > 0", SERVER_MAX_SLOTS);
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((uint16_t)o->port);
  if (inet_pton(AF_INET, o->bind ? o->bind : "127.0.0.1", &addr.sin_addr) != 1)
    return tgis__fail(ctx, TGIS_EINVAL, "'%s': not an IPv4 address to listen on", o->bind);
  if (!(s = calloc(1, sizeof *s)))
    return TGIS_ENOMEM;
  s->ctx = ctx;
  s->has_db = tgis__store(ctx) != NULL;
  s->poll_seconds = o->poll_seconds;
  s->n_slots = o->threads ? o->threads : default_threads();
  pthread_mutex_init(&s->slot_mu, NULL);
  pthread_cond_init(&s->slot_free, NULL);
  pthread_mutex_init(&s->stop_mu, NULL);
  pthread_cond_init(&s->stop_cv, NULL);
  snprintf(s->viewer_dir, sizeof s->viewer_dir, "%s",
           o->viewer_dir ? o->viewer_dir : tgis_tiles__default_dir("viewer"));
  snprintf(s->vendor_dir, sizeof s->vendor_dir, "%s",
           o->vendor_dir ? o->vendor_dir : tgis_tiles__default_dir("vendor"));

  if (!s->has_db && !o->mbtiles) {
    st = tgis__fail(ctx, TGIS_EINVAL, "nothing to serve: no database and no MBTiles file");
    goto fail;
  }
  if ((st = tgis_tiles__load_themes(ctx, o->styles_dir ? o->styles_dir
                                                       : tgis_tiles__default_dir("styles"),
                                    s->themes, SERVER_MAX_THEMES, &s->n_themes)) != TGIS_OK)
    goto fail;
  if (!(s->cache = tgis_tile_cache_new(o->cache_bytes))) {
    st = TGIS_ENOMEM;
    goto fail;
  }
  if ((st = open_slots(s, o)) != TGIS_OK)
    goto fail;
  if (o->mbtiles) {
    /* The file holds one theme: the one it was seeded with, else "base". */
    char v[128] = "";
    const char *t;
    tgis__strlcpy(s->mb_theme, "base", sizeof s->mb_theme);
    if (tgis_mbtiles_meta_get(s->slots[0].mb, "tgis_seed", v, sizeof v) == TGIS_OK &&
        strncmp(v, "theme=", 6) == 0 && (t = v + 6)) {
      size_t n = strcspn(t, ";");
      if (n > 0 && n < sizeof s->mb_theme) {
        memcpy(s->mb_theme, t, n);
        s->mb_theme[n] = '\0';
      }
    }
  }
  find_area(s, &s->slots[0]);
  if ((st = server_watch_start(s)) != TGIS_OK)
    goto fail;

  s->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
                               MHD_USE_TURBO,
                               (uint16_t)o->port, NULL, NULL, on_request, s,
                               MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
                               MHD_OPTION_THREAD_POOL_SIZE, (unsigned)(s->n_slots < 2 ? 2 : s->n_slots),
                               MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
                               MHD_OPTION_CONNECTION_LIMIT, (unsigned)4096,
                               MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(256 << 10),
                               MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1,
                               MHD_OPTION_END);
  if (!s->daemon) {
    st = tgis__fail(ctx, TGIS_EIO, "cannot listen on %s:%d (%s)", o->bind ? o->bind : "127.0.0.1",
                    o->port, errno ? strerror(errno) : "address in use?");
    goto fail;
  }
  {
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di ? di->port : o->port;
  }
  *out = s;
  return TGIS_OK;
fail:
  tgis_server_stop(s);
  return st;
}

int tgis_server_port(const tgis_server *s)
{
  return s->port;
}

void tgis_server_stop(tgis_server *s)
{
  if (!s)
    return;
  if (s->daemon)
    MHD_stop_daemon(s->daemon);
  server_watch_stop(s);
  for (int i = 0; i < s->n_slots; i++) {
    tgis_tiles_close(s->slots[i].tiles);
    tgis_mbtiles_close(s->slots[i].mb);
    tgis_close(s->slots[i].ctx);
  }
  for (size_t i = 0; i < s->n_themes; i++)
    tgis_style_free(s->themes[i]);
  tgis_tile_cache_free(s->cache);
  pthread_cond_destroy(&s->stop_cv);
  pthread_mutex_destroy(&s->stop_mu);
  pthread_cond_destroy(&s->slot_free);
  pthread_mutex_destroy(&s->slot_mu);
  free(s);
}
