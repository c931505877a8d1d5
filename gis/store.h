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

/* Rows of a window scan whose box does not meet `core` (database CRS) are
 * read only if want(f, box, payload) says so, asked with the row's id,
 * values and box and a NULL geometry before the geometry is decoded. */
typedef struct tgis_scan_outer {
  tgis_extent core;
  int (*want)(const tgis_feature *f, const tgis_extent *box, void *payload);
  void *payload;
} tgis_scan_outer;

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

/* ---- coverage analytics (schema 3) ---------------------------------------- */

/* A parcel as analytics read it: borrowed, valid only during the callback. */
typedef struct tgis_parcel_rec {
  int64_t id;
  int has_point;             /* 0 for an empty geometry */
  double x, y;               /* area-weighted centroid, database CRS */
  int64_t residents;
  const char *district;      /* SOATO code, or NULL */
  const char *land_use;
  const char *label;         /* public parcels (candidate sites): cadastre
                                number, else ext_id; NULL for the others */
} tgis_parcel_rec;

typedef tgis_status (*tgis_parcel_cb)(const tgis_parcel_rec *p, void *payload);

/* A facility as analytics read it: borrowed, valid only during the callback. */
typedef struct tgis_facility_rec {
  int64_t id;
  int has_point;             /* 0 for an empty geometry */
  double x, y;               /* database CRS */
  const char *kind;
  const char *name;
  int64_t capacity;          /* -1 when NULL */
} tgis_facility_rec;

typedef tgis_status (*tgis_facility_cb)(const tgis_facility_rec *f, void *payload);

/* A parcel with its result in one run, for the coverage map theme:
 * borrowed, valid only during the callback. */
typedef struct tgis_coverage_feature {
  int64_t parcel_id;
  const tgis_geombuf *geom;  /* database CRS, as layer_scan gives it */
  double minutes;            /* travel time to the nearest facility; NaN when
                                unreachable, without a time (radius method in
                                drive mode) or not in the run */
  int in_run;                /* 0: the parcel came after the run */
  int reachable;             /* some facility is reachable */
  int covered;               /* within the run's threshold */
} tgis_coverage_feature;

typedef tgis_status (*tgis_coverage_feature_cb)(const tgis_coverage_feature *f,
                                                void *payload);

/* ---- reports: a stored coverage run read back ------------------------------ */

/* A district row of a run and the district's name (NULL if unknown). */
typedef tgis_status (*tgis_coverage_district_cb)(const tgis_coverage_district *d,
                                                 const char *name, void *payload);
/* A facility row of a run (its name borrowed like the row). */
typedef tgis_status (*tgis_coverage_facility_cb)(const tgis_coverage_facility *f,
                                                 void *payload);
/* A site row of a run (its label borrowed like the row). */
typedef tgis_status (*tgis_coverage_site_cb)(const tgis_coverage_site *s, void *payload);

/* A parcel's row of a run with what a report prints of it: borrowed,
 * valid only during the callback. No personal data. */
typedef struct tgis_coverage_parcel_row {
  int64_t parcel_id;
  const char *cadastre;      /* NULL when it has none */
  const char *district;      /* SOATO code, or NULL */
  int64_t residents;         /* as the parcels layer has them; -1 for a
                                parcel deleted since the run */
  int64_t facility_id;       /* nearest facility; 0 when none is reachable */
  const char *facility_name; /* NULL when none, or deleted since */
  double seconds, metres;    /* NaN when not stored (unreachable) */
  double snap_m;             /* NaN when not snapped, or radius method */
  double e2sfca;
  int covered, reachable;    /* 0 or 1 */
} tgis_coverage_parcel_row;

typedef tgis_status (*tgis_coverage_parcel_row_cb)(const tgis_coverage_parcel_row *p,
                                                   void *payload);

/* One row of the change log: a box (database CRS) a committed import
 * changed in `layer`. */
typedef tgis_status (*tgis_change_cb)(int64_t id, const char *layer, const tgis_extent *box,
                                      void *payload);

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

  /* -- coverage analytics (schema 3); writes inside begin/commit -- */
  /* Every parcel in id order with its centroid, residents, district and
   * land use (whole layer, for analytics). */
  tgis_status (*parcels_read)(tgis_store *st, tgis_parcel_cb cb, void *payload);
  /* Every facility of `kind` (NULL: all) in id order. */
  tgis_status (*facilities_read)(tgis_store *st, const char *kind, tgis_facility_cb cb,
                                 void *payload);
  /* Record a run (its parameters from `s`: facility_kind, mode, method,
   * minutes, radius_m, walk_kmh, max_snap_m); sets s->run_id and
   * s->created. Its numbers are written by coverage_run_close. */
  tgis_status (*coverage_run_open)(tgis_store *st, tgis_coverage_summary *s);
  /* The headline numbers of run s->run_id. */
  tgis_status (*coverage_run_close)(tgis_store *st, const tgis_coverage_summary *s);
  /* Result rows of a run, in batches (any number of calls). Parcels should
   * come in parcel id order. Districts name their SOATO code ("" = NULL). */
  tgis_status (*coverage_parcels_put)(tgis_store *st, int64_t run_id,
                                      const tgis_coverage_parcel *rows, size_t n);
  tgis_status (*coverage_districts_put)(tgis_store *st, int64_t run_id,
                                        const tgis_coverage_district *rows, size_t n);
  tgis_status (*coverage_facilities_put)(tgis_store *st, int64_t run_id,
                                         const tgis_coverage_facility *rows, size_t n);
  /* Replace the run's sites with these. */
  tgis_status (*coverage_sites_put)(tgis_store *st, int64_t run_id,
                                    const tgis_coverage_site *rows, size_t n);
  /* A run's summary (timing zero): run_id > 0 that run; 0 the latest one,
   * of `facility_kind` unless it is NULL. TGIS_ENOTFOUND when there is none. */
  tgis_status (*coverage_run_get)(tgis_store *st, int64_t run_id, const char *facility_kind,
                                  tgis_coverage_summary *out);
  /* Parcels whose box meets `window` (NULL: all, in id order), through the
   * parcels' R-tree, each with its result in a run chosen as by
   * coverage_run_get (ENOTFOUND when there is none). For the coverage
   * theme; one read transaction. */
  tgis_status (*coverage_scan)(tgis_store *st, int64_t run_id, const char *facility_kind,
                               const tgis_extent *window, tgis_coverage_feature_cb cb,
                               void *payload);

  /* -- for the tile server -- */
  /* Features of a layer whose text `field` starts with `text` (substring
   * 0, through the column's index where it has one) or contains it
   * (substring 1), at most `limit`, ordered by that field. Private fields
   * cannot be searched. */
  tgis_status (*feature_find)(tgis_store *st, tgis_layer layer, const char *field,
                              const char *text, int substring, int limit,
                              tgis_feature_cb cb, void *payload);
  /* The boxes committed imports changed (change_log) with an id above
   * `after`, in id order. */
  tgis_status (*changes_since)(tgis_store *st, int64_t after, tgis_change_cb cb,
                               void *payload);
  /* layer_scan by window reading only the fields whose bit is set in
   * `fields` (bit i: catalogue field i); the others come back null, so a
   * tile reads the one or two columns its style looks at. Private fields
   * stay null whatever the bits say. With `outer`, rows whose box does not
   * meet outer->core are left out unless outer->want() keeps them. */
  tgis_status (*layer_scan_fields)(tgis_store *st, tgis_layer layer, const tgis_extent *window,
                                   uint32_t fields, const tgis_scan_outer *outer,
                                   tgis_feature_cb cb, void *payload);

  /* -- utility tracing -- */
  /* The rows of one utility network (layer TGIS_LAYER_UTILITY_NODES or
   * TGIS_LAYER_UTILITY_LINES, where network = `network`) in id order, as
   * layer_scan gives them -- except node references: their value holds the
   * referenced node's row id in `i` (is_null when unset, `s` NULL), so a
   * trace ties line ends to nodes without a text lookup per end.
   * TGIS_EINVAL for another layer. */
  tgis_status (*network_scan)(tgis_store *st, tgis_layer layer, const char *network,
                              tgis_feature_cb cb, void *payload);

  /* -- reports: the result tables of one stored coverage run read back
   *    (store_spatialite_report.c). `run_id` names an existing run (check
   *    it with coverage_run_get first): an unknown id reads no rows. Rows
   *    are borrowed, valid only during the callback; a non-OK status from
   *    the callback stops the read and is returned. Personal data
   *    (parcel_owners) is never read. -- */
  /* The run's districts in SOATO order, the row of parcels without a
   * district (soato "") last; `name` is the district's name in the
   * districts layer, NULL where the layer has none. */
  tgis_status (*coverage_districts_read)(tgis_store *st, int64_t run_id,
                                         tgis_coverage_district_cb cb, void *payload);
  /* The run's facilities in facility id order, with the name and point the
   * facilities layer has now (name "" and x, y NaN for a facility deleted
   * since) and the capacity the run used. */
  tgis_status (*coverage_facilities_read)(tgis_store *st, int64_t run_id,
                                          tgis_coverage_facility_cb cb, void *payload);
  /* The run's suggested sites in rank order (none before a siting). */
  tgis_status (*coverage_sites_read)(tgis_store *st, int64_t run_id,
                                     tgis_coverage_site_cb cb, void *payload);
  /* The run's parcel rows in parcel id order, each with the parcel's
   * public attributes and its nearest facility's name. */
  tgis_status (*coverage_parcels_read)(tgis_store *st, int64_t run_id,
                                       tgis_coverage_parcel_row_cb cb, void *payload);
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
