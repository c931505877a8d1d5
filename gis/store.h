/*
 * store.h -- the storage interface: every SQL statement of tgis lives behind
 * it.
 *
 * A backend (SpatiaLite today, PostGIS next) fills a tgis_store_vtable.
 * Modules above gis/ call the tgis_store_* wrappers below and never write SQL
 * of their own, so adding a backend touches gis/ only. Each backend keeps
 * its prepared statements for the life of the store.
 */
#ifndef TGIS_STORE_H
#define TGIS_STORE_H

#include "tgis.h"

typedef struct tgis_store tgis_store;

typedef struct tgis_store_vtable {
  const char *name;                                   /* "spatialite" */
  void (*close)(tgis_store *st);
  tgis_status (*begin)(tgis_store *st);
  tgis_status (*commit)(tgis_store *st);
  tgis_status (*rollback)(tgis_store *st);
  tgis_status (*schema_version)(tgis_store *st, int *out);
  tgis_status (*migrate)(tgis_store *st, int target);
  tgis_status (*db_info)(tgis_store *st, tgis_db_info *out);
  tgis_status (*layer_info)(tgis_store *st, tgis_layer layer,
                            tgis_layer_info *out);
} tgis_store_vtable;

/* The common head of every backend's store struct. */
struct tgis_store {
  const tgis_store_vtable *vt;
  tgis_ctx *ctx;          /* errors and allocation go here */
  int in_transaction;     /* begin() seen without commit/rollback */
  int readonly;
};

/**
 * Open the backend that `uri` names (see tgis_open()).
 * @param flags  TGIS_OPEN_*
 * @param srid   metric CRS for a database being created
 */
tgis_status tgis_store__open(tgis_store **out, tgis_ctx *ctx, const char *uri,
                             unsigned flags, int srid);

/**
 * The SpatiaLite backend (store_spatialite.c).
 * @param schema_version  version to create or migrate to: always
 *                        TGIS_SCHEMA_VERSION, except in migration tests that
 *                        need an older database
 */
tgis_status tgis_store__open_spatialite(tgis_store **out, tgis_ctx *ctx,
                                        const char *path, unsigned flags,
                                        int srid, int schema_version);

static inline void tgis_store_close(tgis_store *st)
{ if (st) st->vt->close(st); }
static inline tgis_status tgis_store_begin(tgis_store *st)
{ return st->vt->begin(st); }
static inline tgis_status tgis_store_commit(tgis_store *st)
{ return st->vt->commit(st); }
static inline tgis_status tgis_store_rollback(tgis_store *st)
{ return st->vt->rollback(st); }

#endif /* TGIS_STORE_H */
