/*
 * store_spatialite_int.h -- the SpatiaLite store's state, shared by its
 * files (private to gis/).
 */
#ifndef TGIS_STORE_SPATIALITE_INT_H
#define TGIS_STORE_SPATIALITE_INT_H

#include <sqlite3.h>

#include "tgis_int.h"

#define SL_SCAN_SLOTS 4

/* Prepared once per store, on first use, finalised at close. */
typedef struct sl_layer_stmts {
  sqlite3_stmt *insert;
  sqlite3_stmt *update[2];      /* by the key, by the alternative key */
  sqlite3_stmt *old_extent[2];
  /* Window scans (read path), one statement per set of fields read: a
   * theme asks each layer for one or two sets. */
  sqlite3_stmt *scan_window[SL_SCAN_SLOTS];
  uint32_t scan_fields[SL_SCAN_SLOTS];
  unsigned scan_next;           /* slot to reuse when all are taken */
} sl_layer_stmts;

/* A layer in bulk mode: its triggers, dropped until bulk_end. */
typedef struct sl_bulk {
  int active;
  int64_t min_id;         /* lowest row id the run wrote: where to look */
  char **trigger_sql;
  int n_triggers;
} sl_bulk;

typedef struct sl_store {
  tgis_store base;
  sqlite3 *db;
  void *cache;            /* SpatiaLite's per-connection state */
  char *path;
  sl_layer_stmts layer[TGIS_LAYER_COUNT];
  sl_bulk bulk[TGIS_LAYER_COUNT];
  sqlite3_stmt *owner_put, *owner_del;
  sqlite3_stmt *reject_ins, *change_ins;
  sqlite3_stmt *run_ins, *run_upd;
  unsigned char *blob;    /* geometry encoding buffer, reused */
  size_t blob_cap;
  struct sl_results *results; /* coverage statements, on first use */
} sl_store;

/* store_spatialite_write.c */
void tgis_sl__finalize_writer(sl_store *s);
tgis_status tgis_sl__run_open(tgis_store *st, const tgis_run_desc *desc, int64_t *run_id);
tgis_status tgis_sl__run_close(tgis_store *st, int64_t run_id, const tgis_run_counts *c,
                               const char *status, const char *message);
tgis_status tgis_sl__layer_clear(tgis_store *st, tgis_layer layer);
tgis_status tgis_sl__row_write(tgis_store *st, tgis_layer layer, int upsert, int64_t run_id,
                               const tgis_value *values, const tgis_geombuf *geom,
                               tgis_write_result *res);
tgis_status tgis_sl__reject_add(tgis_store *st, int64_t run_id, tgis_layer layer,
                                int64_t source_fid, const char *action, const char *field,
                                const char *reason);
tgis_status tgis_sl__change_add(tgis_store *st, int64_t run_id, tgis_layer layer,
                                const tgis_extent *box);
tgis_status tgis_sl__layer_refresh(tgis_store *st, tgis_layer layer,
                                   const tgis_extent *run_extent, int replaced);

/* store_spatialite_read.c */
/* Finalise the read path's kept statements (at close). */
void tgis_sl__finalize_reader(sl_store *s);
tgis_status tgis_sl__layer_scan(tgis_store *st, tgis_layer layer, const tgis_extent *window,
                                tgis_feature_cb cb, void *payload);
tgis_status tgis_sl__layer_scan_fields(tgis_store *st, tgis_layer layer,
                                       const tgis_extent *window, uint32_t fields,
                                       const tgis_scan_outer *outer, tgis_feature_cb cb,
                                       void *payload);
/* Flags of tgis_sl__emit_rows(). */
#define TGIS_SL_EMIT_KEEP    1u  /* reset the statement for reuse instead of finalizing it */
#define TGIS_SL_EMIT_REF_IDS 2u  /* node-reference columns hold row ids (read as integers) */

/* Step through a prepared SELECT of the shape "id, <the layer's fields in
 * catalogue order>, geom", calling cb with each row as a feature. */
tgis_status tgis_sl__emit_rows(sl_store *s, const tgis_layer_def *def, sqlite3_stmt *stmt,
                              unsigned flags, tgis_feature_cb cb, void *payload);
tgis_status tgis_sl__feature_find(tgis_store *st, tgis_layer layer, const char *field,
                                  const char *text, int substring, int limit,
                                  tgis_feature_cb cb, void *payload);
tgis_status tgis_sl__changes_since(tgis_store *st, int64_t after, tgis_change_cb cb,
                                   void *payload);

/* store_spatialite_trace.c: one utility network, references as row ids. */
tgis_status tgis_sl__network_scan(tgis_store *st, tgis_layer layer, const char *network,
                                  tgis_feature_cb cb, void *payload);

/* store_spatialite_bulk.c */
tgis_status tgis_sl__bulk_begin(tgis_store *st, tgis_layer layer);
tgis_status tgis_sl__bulk_end(tgis_store *st, tgis_layer layer, int64_t run_id);
/* Forget bulk state after a rollback (the DDL was rolled back with it). */
void tgis_sl__bulk_reset(sl_store *s);

/* store_spatialite_rtree.c */
/* Rebuild the layer's R-tree from all its rows, packed (STR), writing the
 * rtree's shadow tables directly inside the open transaction. On failure
 * (TGIS_ENOMEM, TGIS_EDB) the index is left as it was. */
tgis_status tgis_sl__rtree_rebuild(sl_store *s, tgis_layer layer);


/* store_spatialite_results.c: coverage analytics (schema 3). */
void tgis_sl__results_free(sl_store *s);
tgis_status tgis_sl__parcels_read(tgis_store *st, tgis_parcel_cb cb, void *payload);
tgis_status tgis_sl__facilities_read(tgis_store *st, const char *kind, tgis_facility_cb cb,
                                     void *payload);
tgis_status tgis_sl__coverage_run_open(tgis_store *st, tgis_coverage_summary *s);
tgis_status tgis_sl__coverage_run_close(tgis_store *st, const tgis_coverage_summary *s);
tgis_status tgis_sl__coverage_parcels_put(tgis_store *st, int64_t run_id,
                                          const tgis_coverage_parcel *rows, size_t n);
tgis_status tgis_sl__coverage_districts_put(tgis_store *st, int64_t run_id,
                                            const tgis_coverage_district *rows, size_t n);
tgis_status tgis_sl__coverage_facilities_put(tgis_store *st, int64_t run_id,
                                             const tgis_coverage_facility *rows, size_t n);
tgis_status tgis_sl__coverage_sites_put(tgis_store *st, int64_t run_id,
                                        const tgis_coverage_site *rows, size_t n);
tgis_status tgis_sl__coverage_run_get(tgis_store *st, int64_t run_id, const char *kind,
                                      tgis_coverage_summary *out);
tgis_status tgis_sl__coverage_scan(tgis_store *st, int64_t run_id, const char *kind,
                                   const tgis_extent *window, tgis_coverage_feature_cb cb,
                                   void *payload);

/* store_spatialite_report.c: a stored coverage run read back for reports. */
tgis_status tgis_sl__coverage_districts_read(tgis_store *st, int64_t run_id,
                                             tgis_coverage_district_cb cb, void *payload);
tgis_status tgis_sl__coverage_facilities_read(tgis_store *st, int64_t run_id,
                                              tgis_coverage_facility_cb cb, void *payload);
tgis_status tgis_sl__coverage_sites_read(tgis_store *st, int64_t run_id,
                                         tgis_coverage_site_cb cb, void *payload);
tgis_status tgis_sl__coverage_parcels_read(tgis_store *st, int64_t run_id,
                                           tgis_coverage_parcel_row_cb cb, void *payload);

/* spatialite_blob.c: SpatiaLite's BLOB-Geometry format. */

/** Size of the blob for g. */
size_t tgis_sl__blob_size(const tgis_geombuf *g);
/** Encode g (of type POINT, LINESTRING, POLYGON, MULTI*) into buf of at
 * least tgis_sl__blob_size(g) bytes; returns the bytes written. */
size_t tgis_sl__blob_encode(unsigned char *buf, const tgis_geombuf *g, int srid);
/** Decode a blob into g (reset first). TGIS_EPARSE on a malformed blob. */
tgis_status tgis_sl__blob_decode(tgis_geombuf *g, const unsigned char *blob, size_t n,
                                 int *srid);

#endif
