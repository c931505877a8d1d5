/*
 * tgis_int.h -- the core's interface for the other tgis modules.
 *
 * importers/, tiles/ and analytics/ include this header (never the
 * file-private *_int headers inside gis/). It exposes the pieces of a
 * context a module needs: error reporting, logging, allocation, the GEOS and
 * PROJ handles, and the storage interface. Library users never see it.
 */
#ifndef TGIS_INT_H
#define TGIS_INT_H

#include <stdarg.h>
#include <string.h>
#include "tgis.h"
#include "store.h"

#if defined(__GNUC__)
#define TGIS_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define TGIS_PRINTF(fmt, args)
#endif

#define TGIS_ERRMSG_MAX 1024

/* Opaque handles of the engines, without their headers. */
struct GEOSContextHandle_HS;
struct pj_ctx;

/**
 * Record a failure on ctx: its status and a one-line message.
 * @return st, so callers can `return tgis__fail(ctx, TGIS_EDB, ...)`.
 */
tgis_status tgis__fail(tgis_ctx *ctx, tgis_status st, const char *fmt, ...)
    TGIS_PRINTF(3, 4);

/**
 * Keep the status and message already set by an engine's error handler
 * (GEOS, PROJ), but prefix the message with what we were doing. If no
 * message was set, `what` becomes the message.
 */
tgis_status tgis__fail_ctx(tgis_ctx *ctx, tgis_status st, const char *fmt, ...)
    TGIS_PRINTF(3, 4);

/** Clear the last error (called at the start of public entry points). */
void tgis__clear_error(tgis_ctx *ctx);

/** Log through the context's sink if `level` passes its threshold. */
void tgis__log(tgis_ctx *ctx, tgis_log_level level, const char *fmt, ...)
    TGIS_PRINTF(3, 4);

/** True if a message at `level` would reach the sink (check before work). */
int tgis__log_enabled(const tgis_ctx *ctx, tgis_log_level level);

/* Allocation through the context's allocator. NULL on failure, no message:
 * the caller reports TGIS_ENOMEM with what it was allocating. */
void *tgis__malloc(tgis_ctx *ctx, size_t n);
void *tgis__calloc(tgis_ctx *ctx, size_t count, size_t size);
void *tgis__realloc(tgis_ctx *ctx, void *p, size_t n);
void  tgis__free(tgis_ctx *ctx, void *p);
char *tgis__strdup(tgis_ctx *ctx, const char *s);

/** Copy src into dst of `len` bytes, truncating; returns dst. A cheap
 * snprintf("%s") for hot paths. */
static inline char *tgis__strlcpy(char *dst, const char *src, size_t len)
{
  size_t n = strlen(src);
  if (n >= len)
    n = len - 1;
  memcpy(dst, src, n);
  dst[n] = '\0';
  return dst;
}

/** The context's GEOS handle (GEOSContextHandle_t). Never NULL. */
struct GEOSContextHandle_HS *tgis__geos(tgis_ctx *ctx);

/** The context's PROJ context (PJ_CONTEXT *). Never NULL. */
struct pj_ctx *tgis__proj(tgis_ctx *ctx);

/**
 * A new context without a database for a worker thread of `parent`'s
 * operation: the same allocator, its own GEOS, PROJ and error message, no
 * log sink (a sink may not expect calls from other threads).
 */
tgis_status tgis__ctx_sibling(tgis_ctx **out, tgis_ctx *parent);

/**
 * A new context on the database of `parent`, opened read-only, with the
 * same allocator and no log sink: for the worker threads of a server or a
 * tile seeder, each reading through its own connection. On failure
 * parent's message says why.
 */
tgis_status tgis__ctx_reader(tgis_ctx **out, tgis_ctx *parent);

/** The context's store, or NULL for a context opened without a database. */
tgis_store *tgis__store(tgis_ctx *ctx);

/** Fail with TGIS_EINVAL unless the context has a database. */
tgis_status tgis__require_store(tgis_ctx *ctx, tgis_store **out);

#endif /* TGIS_INT_H */
