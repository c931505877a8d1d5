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
#include "geom.h"
#include "layers.h"

typedef struct tgis_store tgis_store;

/* What one import run (one target layer of one source) is. */
typedef struct tgis_run_desc {
  const char *source;        /* path or URI as given */
  tgis_layer layer;
  const char *mode;          /* "append", "upsert", "replace" */
} tgis_run_desc;

/* Counters of a run, as import_runs keeps them. */
typedef struct tgis_run_counts {
  int64_t read, inserted, updated, repaired, rejected;
} tgis_run_counts;

/* A feature as read back: borrowed, valid only during the callback. */
typedef struct tgis_feature {
  int64_t id;
  const tgis_value *values;  /* the layer's n_fields, catalogue order; private
                                fields (PINFL) are always null */
  const tgis_geombuf *geom;  /* in the database CRS; empty if null */
} tgis_feature;

/* Called for each feature read; a non-OK status stops the scan and is
 * returned by it. */
typedef tgis_status (*tgis_feature_cb)(const tgis_feature *f, void *payload);

typedef enum tgis_write_outcome {
  TGIS_WRITE_INSERTED = 0,
  TGIS_WRITE_UPDATED,
  TGIS_WRITE_DUPLICATE,      /* key already stored (append) or already
                                written by this run (upsert) */
  TGIS_WRITE_REFUSED         /* a constraint of the table refused the row */
} tgis_write_outcome;

typedef struct tgis_write_result {
  tgis_write_outcome outcome;
  int64_t id;                /* row id written */
  int has_old_extent;        /* an update: where the old geometry was */
  tgis_extent old_extent;
  unsigned unresolved;       /* bit i: field i (a node reference) not found */
  char why[256];             /* for DUPLICATE/REFUSED: the constraint said */
} tgis_write_result;

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
  /* Every feature of a layer in id order, or (window != NULL) those whose
   * box meets the window, found through the spatial index. */
  tgis_status (*layer_scan)(tgis_store *st, tgis_layer layer, const tgis_extent *window,
                            tgis_feature_cb cb, void *payload);

  /* -- writing (inside begin/commit) -- */
  /* Record a run as 'running'; its id tags rows, rejects and changes. */
  tgis_status (*run_open)(tgis_store *st, const tgis_run_desc *desc, int64_t *run_id);
  /* Final counters and status ('ok', 'failed', 'cancelled'). */
  tgis_status (*run_close)(tgis_store *st, int64_t run_id, const tgis_run_counts *c,
                           const char *status, const char *message);
  /* Delete every feature of a layer (replace mode). */
  tgis_status (*layer_clear)(tgis_store *st, tgis_layer layer);
  /* Insert a row, or with `upsert` update the row with the same key.
   * `values` has the layer's n_fields in catalogue order; `geom` is in the
   * database CRS and of the layer's type. Refusals are outcomes, not
   * errors: only a failing database returns an error status. */
  tgis_status (*row_write)(tgis_store *st, tgis_layer layer, int upsert, int64_t run_id,
                           const tgis_value *values, const tgis_geombuf *geom,
                           tgis_write_result *res);
  tgis_status (*reject_add)(tgis_store *st, int64_t run_id, tgis_layer layer,
                            int64_t source_fid, const char *action, const char *field,
                            const char *reason);
  tgis_status (*change_add)(tgis_store *st, int64_t run_id, tgis_layer layer,
                            const tgis_extent *box);
  /* Bring a layer's statistics up to date after a run that wrote rows
   * within `run_extent` (NULL: none); `replaced` if the layer was emptied
   * first. */
  tgis_status (*layer_refresh)(tgis_store *st, tgis_layer layer,
                               const tgis_extent *run_extent, int replaced);
  /* Bulk loading inside the open transaction: the backend may suspend its
   * per-row machinery (triggers) and bring its indexes up to date for the
   * rows of run `run_id` at bulk_end. A rollback ends bulk mode too. */
  tgis_status (*bulk_begin)(tgis_store *st, tgis_layer layer);
  tgis_status (*bulk_end)(tgis_store *st, tgis_layer layer, int64_t run_id);
} tgis_store_vtable;

/* The common head of every backend's store struct. */
struct tgis_store {
  const tgis_store_vtable *vt;
  tgis_ctx *ctx;          /* errors and allocation go here */
  int in_transaction;     /* begin() seen without commit/rollback */
  int readonly;
  int srid;               /* metric CRS of the stored geometry */
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
