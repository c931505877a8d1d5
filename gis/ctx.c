/*
 * ctx.c -- the context handle: the one place tgis keeps state.
 *
 * A tgis_ctx owns a GEOS context, a PROJ context, an optional store (the
 * database), the allocator and log sink chosen by the caller, and the last
 * error. There is no global mutable state anywhere in the library, so two
 * contexts in two threads never meet. GEOS and PROJ report through
 * callbacks that receive the context as user data, the pattern SpatiaLite
 * uses in its connection cache.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <geos_c.h>
#include <proj.h>

#include "tgis_int.h"

struct tgis_ctx {
  tgis_allocator alloc;
  tgis_log_fn log_fn;
  void *log_payload;
  tgis_log_level log_level;
  GEOSContextHandle_t geos;
  PJ_CONTEXT *proj;
  tgis_store *store;
  char *db_path;           /* as opened, for workers' own read-only contexts */
  tgis_status errcode;
  char errmsg[TGIS_ERRMSG_MAX];
};

static void *std_malloc(size_t n, void *payload) { (void)payload; return malloc(n); }
static void *std_realloc(void *p, size_t n, void *payload)
{ (void)payload; return realloc(p, n); }
static void std_free(void *p, void *payload) { (void)payload; free(p); }

static const tgis_allocator std_allocator = { std_malloc, std_realloc, std_free, NULL };

const char *tgis_status_str(tgis_status st)
{
  switch (st) {
#define TGIS__STATUS_CASE(name, val, msg) case TGIS_##name: return msg;
    TGIS_STATUS_MAP(TGIS__STATUS_CASE)
#undef TGIS__STATUS_CASE
  }
  return "unknown status";
}

const char *tgis_version(void) { return TGIS_VERSION_STRING; }

/* ---- errors and logging ------------------------------------------------ */

static void vset_error(tgis_ctx *ctx, tgis_status st, const char *fmt, va_list ap)
{
  ctx->errcode = st;
  vsnprintf(ctx->errmsg, sizeof ctx->errmsg, fmt, ap);
  /* One line: a caller's message may carry a newline from an engine. */
  for (char *p = ctx->errmsg; *p; p++)
    if (*p == '\n' || *p == '\r')
      *p = ' ';
}

tgis_status tgis__fail(tgis_ctx *ctx, tgis_status st, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vset_error(ctx, st, fmt, ap);
  va_end(ap);
  return st;
}

tgis_status tgis__fail_ctx(tgis_ctx *ctx, tgis_status st, const char *fmt, ...)
{
  char what[TGIS_ERRMSG_MAX / 2];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  if (ctx->errmsg[0] == '\0') {
    tgis__fail(ctx, st, "%s", what);
  } else {
    /* Copy first: source and destination must not overlap. */
    char engine[TGIS_ERRMSG_MAX];
    memcpy(engine, ctx->errmsg, sizeof engine);
    tgis__fail(ctx, st, "%s: %s", what, engine);
  }
  return st;
}

void tgis__clear_error(tgis_ctx *ctx)
{
  ctx->errcode = TGIS_OK;
  ctx->errmsg[0] = '\0';
}

int tgis__log_enabled(const tgis_ctx *ctx, tgis_log_level level)
{
  return ctx->log_fn != NULL && level >= ctx->log_level && level < TGIS_LOG_NONE;
}

void tgis__log(tgis_ctx *ctx, tgis_log_level level, const char *fmt, ...)
{
  char line[TGIS_ERRMSG_MAX];
  va_list ap;
  if (!tgis__log_enabled(ctx, level))
    return;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  for (char *p = line; *p; p++)
    if (*p == '\n' || *p == '\r')
      *p = ' ';
  ctx->log_fn(level, line, ctx->log_payload);
}

const char *tgis_errmsg(const tgis_ctx *ctx)
{
  assert(ctx);
  return ctx->errmsg;
}

tgis_status tgis_errcode(const tgis_ctx *ctx)
{
  assert(ctx);
  return ctx->errcode;
}

/* ---- allocation --------------------------------------------------------- */

void *tgis__malloc(tgis_ctx *ctx, size_t n)
{
  return ctx->alloc.malloc_fn(n ? n : 1, ctx->alloc.payload);
}

void *tgis__calloc(tgis_ctx *ctx, size_t count, size_t size)
{
  void *p;
  if (size && count > SIZE_MAX / size)
    return NULL;
  p = tgis__malloc(ctx, count * size);
  if (p)
    memset(p, 0, count * size);
  return p;
}

void *tgis__realloc(tgis_ctx *ctx, void *p, size_t n)
{
  return ctx->alloc.realloc_fn(p, n ? n : 1, ctx->alloc.payload);
}

void tgis__free(tgis_ctx *ctx, void *p)
{
  if (p)
    ctx->alloc.free_fn(p, ctx->alloc.payload);
}

char *tgis__strdup(tgis_ctx *ctx, const char *s)
{
  size_t n = strlen(s) + 1;
  char *d = tgis__malloc(ctx, n);
  if (d)
    memcpy(d, s, n);
  return d;
}

/* ---- engines ------------------------------------------------------------ */

static void on_geos_error(const char *msg, void *ud)
{
  tgis__fail(ud, TGIS_EGEOS, "GEOS: %s", msg);
}

static void on_geos_notice(const char *msg, void *ud)
{
  tgis__log(ud, TGIS_LOG_DEBUG, "GEOS: %s", msg);
}

static void on_proj_log(void *ud, int level, const char *msg)
{
  if (level == PJ_LOG_ERROR)
    tgis__fail(ud, TGIS_EPROJ, "PROJ: %s", msg);
  else
    tgis__log(ud, TGIS_LOG_DEBUG, "PROJ: %s", msg);
}

struct GEOSContextHandle_HS *tgis__geos(tgis_ctx *ctx) { return ctx->geos; }
struct pj_ctx *tgis__proj(tgis_ctx *ctx) { return ctx->proj; }
tgis_store *tgis__store(tgis_ctx *ctx) { return ctx->store; }

tgis_status tgis__require_store(tgis_ctx *ctx, tgis_store **out)
{
  *out = ctx->store;
  if (!ctx->store)
    return tgis__fail(ctx, TGIS_EINVAL, "the context was opened without a database");
  return TGIS_OK;
}

/* ---- open and close ----------------------------------------------------- */

static tgis_status check_options(const tgis_options *o, char *why, size_t n)
{
  if (o->version != TGIS_OPTIONS_VERSION) {
    snprintf(why, n, "options version %u, this library knows %d",
             o->version, TGIS_OPTIONS_VERSION);
    return TGIS_EINVAL;
  }
  if ((o->flags & TGIS_OPEN_READONLY) && (o->flags & TGIS_OPEN_CREATE)) {
    snprintf(why, n, "TGIS_OPEN_READONLY and TGIS_OPEN_CREATE exclude each other");
    return TGIS_EINVAL;
  }
  if (o->allocator && (!o->allocator->malloc_fn || !o->allocator->realloc_fn ||
                       !o->allocator->free_fn)) {
    snprintf(why, n, "an allocator needs malloc_fn, realloc_fn and free_fn");
    return TGIS_EINVAL;
  }
  if (o->srid < 0) {
    snprintf(why, n, "srid %d is negative", o->srid);
    return TGIS_EINVAL;
  }
  return TGIS_OK;
}

tgis_status tgis_open(tgis_ctx **out, const char *path, const tgis_options *opts)
{
  static const tgis_options defaults = TGIS_OPTIONS_INIT;
  const tgis_options *o = opts ? opts : &defaults;
  const tgis_allocator *a = o->allocator ? o->allocator : &std_allocator;
  char why[160] = "";
  tgis_status st;
  tgis_ctx *ctx;

  assert(out);
  *out = NULL;
  st = check_options(o, why, sizeof why);
  if (st == TGIS_EINVAL)
    a = &std_allocator;  /* the given one may be half-filled */

  ctx = a->malloc_fn(sizeof *ctx, a->payload);
  if (!ctx)
    return TGIS_ENOMEM;
  memset(ctx, 0, sizeof *ctx);
  ctx->alloc = *a;
  ctx->log_fn = o->log_fn;
  ctx->log_payload = o->log_payload;
  ctx->log_level = o->log_level;
  *out = ctx;
  if (st != TGIS_OK)
    return tgis__fail(ctx, st, "tgis_options: %s", why);

  ctx->geos = GEOS_init_r();
  ctx->proj = proj_context_create();
  if (!ctx->geos || !ctx->proj)
    return tgis__fail(ctx, TGIS_ENOMEM, "cannot create the GEOS and PROJ contexts");
  GEOSContext_setErrorMessageHandler_r(ctx->geos, on_geos_error, ctx);
  GEOSContext_setNoticeMessageHandler_r(ctx->geos, on_geos_notice, ctx);
  proj_log_func(ctx->proj, ctx, on_proj_log);
  proj_log_level(ctx->proj, PJ_LOG_ERROR);

  if (path == NULL)
    return TGIS_OK;
  if (!(ctx->db_path = tgis__strdup(ctx, path)))
    return tgis__fail(ctx, TGIS_ENOMEM, "%s: out of memory", path);
  return tgis_store__open(&ctx->store, ctx, path, o->flags,
                          o->srid ? o->srid : TGIS_DEFAULT_SRID);
}

tgis_status tgis__ctx_sibling(tgis_ctx **out, tgis_ctx *parent)
{
  tgis_options o = TGIS_OPTIONS_INIT;
  tgis_status st;
  o.allocator = &parent->alloc;
  o.log_level = TGIS_LOG_NONE;
  st = tgis_open(out, NULL, &o);
  if (st != TGIS_OK) {
    tgis_close(*out);
    *out = NULL;
  }
  return st;
}

tgis_status tgis__ctx_reader(tgis_ctx **out, tgis_ctx *parent)
{
  tgis_options o = TGIS_OPTIONS_INIT;
  tgis_status st;

  *out = NULL;
  if (!parent->store || !parent->db_path)
    return tgis__fail(parent, TGIS_EINVAL, "no database is open");
  o.allocator = &parent->alloc;
  o.log_level = TGIS_LOG_NONE;
  o.flags = TGIS_OPEN_READONLY;
  st = tgis_open(out, parent->db_path, &o);
  if (st != TGIS_OK) {
    tgis__fail(parent, st, "%s", tgis_errmsg(*out));
    tgis_close(*out);
    *out = NULL;
  }
  return st;
}

void tgis_close(tgis_ctx *ctx)
{
  tgis_allocator a;
  if (!ctx)
    return;
  tgis_store_close(ctx->store);
  if (ctx->db_path)
    tgis__free(ctx, ctx->db_path);
  if (ctx->proj)
    proj_context_destroy(ctx->proj);
  if (ctx->geos)
    GEOS_finish_r(ctx->geos);
  a = ctx->alloc;
  a.free_fn(ctx, a.payload);
}

/* ---- database-level queries (dispatch to the store) --------------------- */

tgis_status tgis_db_info_get(tgis_db_info *out, tgis_ctx *ctx)
{
  tgis_store *st;
  tgis_status rc;
  assert(out && ctx);
  memset(out, 0, sizeof *out);
  tgis__clear_error(ctx);
  if ((rc = tgis__require_store(ctx, &st)) != TGIS_OK)
    return rc;
  return st->vt->db_info(st, out);
}

tgis_status tgis_schema_version(int *out, tgis_ctx *ctx)
{
  tgis_store *st;
  tgis_status rc;
  assert(out && ctx);
  *out = 0;
  tgis__clear_error(ctx);
  if ((rc = tgis__require_store(ctx, &st)) != TGIS_OK)
    return rc;
  return st->vt->schema_version(st, out);
}

tgis_status tgis_layer_info_get(tgis_layer_info *out, tgis_ctx *ctx, tgis_layer layer)
{
  tgis_store *st;
  tgis_status rc;
  assert(out && ctx);
  memset(out, 0, sizeof *out);
  tgis__clear_error(ctx);
  if ((unsigned)layer >= TGIS_LAYER_COUNT)
    return tgis__fail(ctx, TGIS_EINVAL, "layer %d is not a tgis layer", (int)layer);
  if ((rc = tgis__require_store(ctx, &st)) != TGIS_OK)
    return rc;
  out->layer = layer;
  return st->vt->layer_info(st, layer, out);
}
