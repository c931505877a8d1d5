/*
 * store_spatialite.c -- the embedded storage backend: one SpatiaLite file.
 *
 * Opening is careful about what it is given. A missing file is created only
 * when asked; a file that is not a database, or a database some other
 * program made, is refused before anything is written to it; a file whose
 * write bits are all off is treated as read-only even for root, who could
 * otherwise write it. The journal is WAL so readers (the tile server) never
 * wait for a writer (an import). Schema creation and migrations run in one
 * transaction, and a file this call created is removed again if they fail.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>
#include <spatialite.h>
#include <proj.h>

#include "store_spatialite_int.h"
#include "schema_spatialite_int.h"

static const tgis_store_vtable sl_vtable;

static tgis_status db_fail(sl_store *s, const char *what)
{
  return tgis__fail(s->base.ctx, TGIS_EDB, "%s: %s: %s", s->path, what,
                    sqlite3_errmsg(s->db));
}

/* Run one statement that returns no rows we need. */
static tgis_status exec1(sl_store *s, const char *sql)
{
  char *err = NULL;
  if (sqlite3_exec(s->db, sql, NULL, NULL, &err) != SQLITE_OK) {
    tgis_status st = tgis__fail(s->base.ctx, TGIS_EDB, "%s: %s: %s", s->path,
                                sql, err ? err : sqlite3_errmsg(s->db));
    sqlite3_free(err);
    return st;
  }
  return TGIS_OK;
}

/* First column of a one-row query as an integer. */
static tgis_status query_int(sl_store *s, const char *sql, sqlite3_int64 *out)
{
  sqlite3_stmt *stmt = NULL;
  int rc = sqlite3_prepare_v2(s->db, sql, -1, &stmt, NULL);
  if (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    *out = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    return TGIS_OK;
  }
  sqlite3_finalize(stmt);
  if ((rc & 0xff) == SQLITE_NOTADB)
    return tgis__fail(s->base.ctx, TGIS_EDB, "%s: file is not a database", s->path);
  return db_fail(s, "cannot read the database");
}

/* tgis_meta value for `key` as an integer; 0 if absent. */
static tgis_status meta_int(sl_store *s, const char *key, int *out)
{
  sqlite3_stmt *stmt = NULL;
  int rc = sqlite3_prepare_v2(s->db, "SELECT value FROM tgis_meta WHERE key = ?1",
                              -1, &stmt, NULL);
  *out = 0;
  if (rc == SQLITE_OK) {
    sqlite3_bind_text(stmt, 1, key, -1, SQLITE_STATIC);
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW)
      *out = sqlite3_column_int(stmt, 0);
  }
  sqlite3_finalize(stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return db_fail(s, "cannot read tgis_meta");
  return TGIS_OK;
}

static void sl_free(sl_store *s)
{
  tgis_ctx *ctx = s->base.ctx;
  /* The reader first: the writer clears all of s->layer, the reader's
   * kept statements with it, which would then stay unfinalised and make
   * sqlite3_close() fail (SQLITE_BUSY), leaking the connection. */
  tgis_sl__finalize_reader(s);
  tgis_sl__finalize_writer(s);
  tgis_sl__results_free(s);
  if (s->db)
    sqlite3_close(s->db);
  if (s->cache)
    spatialite_cleanup_ex(s->cache);
  tgis__free(ctx, s->path);
  tgis__free(ctx, s);
}

static void remove_db_files(const char *path)
{
  char side[4096];
  unlink(path);
  snprintf(side, sizeof side, "%s-wal", path);
  unlink(side);
  snprintf(side, sizeof side, "%s-shm", path);
  unlink(side);
  snprintf(side, sizeof side, "%s-journal", path);
  unlink(side);
}

/* Is the SRID a projected CRS in metres? Coverage distances depend on it. */
static tgis_status check_metric_srid(sl_store *s, int srid)
{
  tgis_ctx *ctx = s->base.ctx;
  char code[32];
  PJ *crs;
  tgis_status st = TGIS_OK;

  snprintf(code, sizeof code, "EPSG:%d", srid);
  crs = proj_create(tgis__proj(ctx), code);
  if (!crs)
    return tgis__fail(ctx, TGIS_EPROJ, "%s: unknown CRS %s", s->path, code);
  if (proj_get_type(crs) != PJ_TYPE_PROJECTED_CRS) {
    st = tgis__fail(ctx, TGIS_EINVAL,
                    "%s: %s (%s) is not a projected CRS; tgis stores geometry "
                    "in metres (default EPSG:%d)", s->path, code,
                    proj_get_name(crs), TGIS_DEFAULT_SRID);
  } else {
    PJ *cs = proj_crs_get_coordinate_system(tgis__proj(ctx), crs);
    const char *unit = NULL;
    double factor = 0;
    if (!cs || !proj_cs_get_axis_info(tgis__proj(ctx), cs, 0, NULL, NULL, NULL,
                                      &factor, &unit, NULL, NULL) ||
        factor != 1.0)
      st = tgis__fail(ctx, TGIS_EINVAL, "%s: %s (%s) is not in metres (unit %s)",
                      s->path, code, proj_get_name(crs), unit ? unit : "unknown");
    proj_destroy(cs);
  }
  proj_destroy(crs);
  return st;
}

static tgis_status initialise(sl_store *s, int srid, int version)
{
  tgis_status st;
  char sql[64];

  if ((st = check_metric_srid(s, srid)) != TGIS_OK)
    return st;
  if ((st = exec1(s, "BEGIN IMMEDIATE")) != TGIS_OK)
    return st;
  snprintf(sql, sizeof sql, "PRAGMA application_id = %d", TGIS_APPLICATION_ID);
  if ((st = exec1(s, sql)) != TGIS_OK ||
      (st = tgis_schema__migrate(s->base.ctx, s->db, s->path, 0, version, srid)) != TGIS_OK) {
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return st;
  }
  return exec1(s, "COMMIT");
}

static tgis_status migrate_to(sl_store *s, int from, int to, unsigned flags)
{
  tgis_status st;
  int srid;

  if (from > TGIS_SCHEMA_VERSION)
    return tgis__fail(s->base.ctx, TGIS_ESCHEMA,
                      "%s: schema version %d was written by a newer tgis "
                      "(this one knows %d)", s->path, from, TGIS_SCHEMA_VERSION);
  if (from >= to)
    return TGIS_OK;
  if (flags & (TGIS_OPEN_READONLY | TGIS_OPEN_NO_MIGRATE))
    return tgis__fail(s->base.ctx, TGIS_ESCHEMA,
                      "%s: schema version %d is older than %d; open it "
                      "read-write to migrate", s->path, from, to);
  if ((st = meta_int(s, "srid", &srid)) != TGIS_OK)
    return st;
  if ((st = exec1(s, "BEGIN IMMEDIATE")) != TGIS_OK)
    return st;
  st = tgis_schema__migrate(s->base.ctx, s->db, s->path, from, to, srid);
  if (st != TGIS_OK) {
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return st;
  }
  return exec1(s, "COMMIT");
}

/* Decide what the file is before anything is written to it. */
static tgis_status check_identity(sl_store *s, unsigned flags, int *empty)
{
  sqlite3_int64 app_id, tables;
  tgis_status st;

  if ((st = query_int(s, "PRAGMA application_id", &app_id)) != TGIS_OK ||
      (st = query_int(s, "SELECT count(*) FROM sqlite_master", &tables)) != TGIS_OK)
    return st;
  *empty = app_id == 0 && tables == 0;
  if (*empty) {
    if (flags & TGIS_OPEN_CREATE)
      return TGIS_OK;
    return tgis__fail(s->base.ctx, TGIS_ESCHEMA,
                      "%s: empty database, not initialised by tgis "
                      "(create it with `tgis init`)", s->path);
  }
  if (app_id != TGIS_APPLICATION_ID)
    return tgis__fail(s->base.ctx, TGIS_ESCHEMA,
                      "%s: not a tgis database (application_id 0x%08llx, "
                      "%lld tables); refusing to touch it", s->path,
                      (unsigned long long)(sqlite3_uint64)app_id, (long long)tables);
  return TGIS_OK;
}

tgis_status tgis_store__open_spatialite(tgis_store **out, tgis_ctx *ctx,
                                        const char *path, unsigned flags,
                                        int srid, int version)
{
  struct stat sb;
  int exists, empty = 0, oflags, rc;
  tgis_status st;
  sl_store *s;

  *out = NULL;
  exists = stat(path, &sb) == 0;
  if (!exists && errno != ENOENT)
    return tgis__fail(ctx, TGIS_EIO, "%s: %s", path, strerror(errno));
  if (!exists && !(flags & TGIS_OPEN_CREATE))
    return tgis__fail(ctx, TGIS_ENOTFOUND,
                      "%s: no such database (create it with `tgis init`)", path);
  if (exists && S_ISDIR(sb.st_mode))
    return tgis__fail(ctx, TGIS_EINVAL, "%s: is a directory, not a database", path);
  if (exists && !(flags & TGIS_OPEN_READONLY) && (sb.st_mode & 0222) == 0)
    return tgis__fail(ctx, TGIS_EREADONLY,
                      "%s: file is read-only; open it read-only, or make it "
                      "writable to change it", path);

  s = tgis__calloc(ctx, 1, sizeof *s);
  if (!s || !(s->path = tgis__strdup(ctx, path))) {
    tgis__free(ctx, s);
    return tgis__fail(ctx, TGIS_ENOMEM, "%s: out of memory opening the database", path);
  }
  s->base.vt = &sl_vtable;
  s->base.ctx = ctx;
  s->base.readonly = (flags & TGIS_OPEN_READONLY) != 0;

  oflags = SQLITE_OPEN_EXRESCODE | SQLITE_OPEN_NOMUTEX |
           (s->base.readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) |
           (!exists ? SQLITE_OPEN_CREATE : 0);
  rc = sqlite3_open_v2(path, &s->db, oflags, NULL);
  if (rc != SQLITE_OK) {
    st = tgis__fail(ctx, TGIS_EDB, "%s: cannot open: %s", path,
                    s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
    goto fail;
  }
  s->cache = spatialite_alloc_connection();
  if (!s->cache) {
    st = tgis__fail(ctx, TGIS_ENOMEM, "%s: cannot allocate SpatiaLite state", path);
    goto fail;
  }
  spatialite_init_ex(s->db, s->cache, 0);
  sqlite3_busy_timeout(s->db, 5000);

  if ((st = check_identity(s, flags, &empty)) != TGIS_OK)
    goto fail;
  if (!s->base.readonly && sqlite3_db_readonly(s->db, "main") == 1) {
    st = tgis__fail(ctx, TGIS_EREADONLY, "%s: cannot write the file; open it read-only", path);
    goto fail;
  }
  if (!s->base.readonly &&
      ((st = exec1(s, "PRAGMA journal_mode = WAL")) != TGIS_OK ||
       (st = exec1(s, "PRAGMA synchronous = NORMAL")) != TGIS_OK))
    goto fail;
  /* A 64 MiB page cache keeps a large import's indexes in memory instead of
   * spilling dirty pages to the WAL mid-transaction; memory stays bounded.
   * Readers (a server has one per worker) keep 8 MiB each: the kernel's
   * page cache holds the file once for all of them. */
  if ((st = exec1(s, "PRAGMA foreign_keys = ON")) != TGIS_OK ||
      (st = exec1(s, s->base.readonly ? "PRAGMA cache_size = -8192"
                                      : "PRAGMA cache_size = -65536")) != TGIS_OK)
    goto fail;

  if (empty) {
    st = initialise(s, srid, version);
  } else {
    int have;
    if ((st = meta_int(s, "schema_version", &have)) == TGIS_OK)
      st = migrate_to(s, have, version, flags);
  }
  if (st != TGIS_OK || (st = meta_int(s, "srid", &s->base.srid)) != TGIS_OK)
    goto fail;
  *out = &s->base;
  return TGIS_OK;

fail:
  sl_free(s);
  if (!exists)
    remove_db_files(path);
  return st;
}

/* ---- vtable ------------------------------------------------------------- */

static void sl_close(tgis_store *base)
{
  sl_store *s = (sl_store *)base;
  if (base->in_transaction)
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
  tgis_sl__bulk_reset(s);
  sl_free(s);
}

static tgis_status sl_begin(tgis_store *base)
{
  sl_store *s = (sl_store *)base;
  tgis_status st;
  if (base->readonly)
    return tgis__fail(base->ctx, TGIS_EREADONLY, "%s: opened read-only", s->path);
  if (base->in_transaction)
    return tgis__fail(base->ctx, TGIS_EINVAL, "%s: a transaction is already open", s->path);
  if ((st = exec1(s, "BEGIN IMMEDIATE")) != TGIS_OK)
    return st;
  /* Foreign keys checked at commit: a statement then cannot abort half-way
   * on one, and SQLite spares a statement journal per row. */
  if ((st = exec1(s, "PRAGMA defer_foreign_keys = ON")) != TGIS_OK) {
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return st;
  }
  base->in_transaction = 1;
  return TGIS_OK;
}

static tgis_status sl_commit(tgis_store *base)
{
  tgis_status st = exec1((sl_store *)base, "COMMIT");
  if (st == TGIS_OK)
    base->in_transaction = 0;
  return st;
}

static tgis_status sl_rollback(tgis_store *base)
{
  base->in_transaction = 0;
  tgis_sl__bulk_reset((sl_store *)base);  /* the dropped triggers come back */
  return exec1((sl_store *)base, "ROLLBACK");
}

static tgis_status sl_schema_version(tgis_store *base, int *out)
{
  return meta_int((sl_store *)base, "schema_version", out);
}

static tgis_status sl_migrate(tgis_store *base, int target)
{
  sl_store *s = (sl_store *)base;
  int have;
  tgis_status st = meta_int(s, "schema_version", &have);
  if (st != TGIS_OK)
    return st;
  return migrate_to(s, have, target, base->readonly ? TGIS_OPEN_READONLY : 0);
}

static tgis_status sl_db_info(tgis_store *base, tgis_db_info *out)
{
  sl_store *s = (sl_store *)base;
  sqlite3_stmt *stmt = NULL;
  tgis_status st;
  int rc;

  snprintf(out->backend, sizeof out->backend, "spatialite");
  if ((st = meta_int(s, "schema_version", &out->schema_version)) != TGIS_OK ||
      (st = meta_int(s, "srid", &out->srid)) != TGIS_OK)
    return st;
  rc = sqlite3_prepare_v2(s->db, "SELECT ref_sys_name FROM spatial_ref_sys WHERE srid = ?1",
                          -1, &stmt, NULL);
  if (rc == SQLITE_OK) {
    sqlite3_bind_int(stmt, 1, out->srid);
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW && sqlite3_column_text(stmt, 0))
      snprintf(out->crs_name, sizeof out->crs_name, "%s",
               (const char *)sqlite3_column_text(stmt, 0));
  }
  sqlite3_finalize(stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return db_fail(s, "cannot read spatial_ref_sys");
  return TGIS_OK;
}

static tgis_status sl_layer_info(tgis_store *base, tgis_layer layer, tgis_layer_info *out)
{
  sl_store *s = (sl_store *)base;
  const tgis_layer_def *def = tgis_layer__def(layer);
  sqlite3_stmt *stmt = NULL;
  char sql[256];
  tgis_status st;
  sqlite3_int64 n;
  int rc;

  /* Table names come from the fixed layer catalogue, never from input. */
  snprintf(sql, sizeof sql, "SELECT count(*) FROM \"%s\"", def->table);
  if ((st = query_int(s, sql, &n)) != TGIS_OK)
    return st;
  out->count = n;
  snprintf(out->geometry_type, sizeof out->geometry_type, "%s", def->geometry_type);
  if (n == 0)
    return TGIS_OK;
  /* The R-tree holds every box; its bounds are float32, rounded outward. */
  snprintf(sql, sizeof sql,
           "SELECT min(xmin), min(ymin), max(xmax), max(ymax) FROM \"idx_%s_geom\"",
           def->table);
  rc = sqlite3_prepare_v2(s->db, sql, -1, &stmt, NULL);
  if (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW &&
      sqlite3_column_type(stmt, 0) != SQLITE_NULL) {
    out->has_extent = 1;
    out->extent.minx = sqlite3_column_double(stmt, 0);
    out->extent.miny = sqlite3_column_double(stmt, 1);
    out->extent.maxx = sqlite3_column_double(stmt, 2);
    out->extent.maxy = sqlite3_column_double(stmt, 3);
  }
  sqlite3_finalize(stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return db_fail(s, "cannot read the spatial index");
  return TGIS_OK;
}

static const tgis_store_vtable sl_vtable = {
  "spatialite",
  sl_close,
  sl_begin,
  sl_commit,
  sl_rollback,
  sl_schema_version,
  sl_migrate,
  sl_db_info,
  sl_layer_info,
  tgis_sl__layer_scan,
  tgis_sl__run_open,
  tgis_sl__run_close,
  tgis_sl__layer_clear,
  tgis_sl__row_write,
  tgis_sl__reject_add,
  tgis_sl__change_add,
  tgis_sl__layer_refresh,
  tgis_sl__bulk_begin,
  tgis_sl__bulk_end,
  /* Later ops by name: independent of the order they were added in. */
  .parcels_read = tgis_sl__parcels_read,
  .facilities_read = tgis_sl__facilities_read,
  .coverage_run_open = tgis_sl__coverage_run_open,
  .coverage_run_close = tgis_sl__coverage_run_close,
  .coverage_parcels_put = tgis_sl__coverage_parcels_put,
  .coverage_districts_put = tgis_sl__coverage_districts_put,
  .coverage_facilities_put = tgis_sl__coverage_facilities_put,
  .coverage_sites_put = tgis_sl__coverage_sites_put,
  .coverage_run_get = tgis_sl__coverage_run_get,
  .coverage_scan = tgis_sl__coverage_scan,
  .feature_find = tgis_sl__feature_find,
  .changes_since = tgis_sl__changes_since,
  .layer_scan_fields = tgis_sl__layer_scan_fields,
  .network_scan = tgis_sl__network_scan,
  .coverage_districts_read = tgis_sl__coverage_districts_read,
  .coverage_facilities_read = tgis_sl__coverage_facilities_read,
  .coverage_sites_read = tgis_sl__coverage_sites_read,
  .coverage_parcels_read = tgis_sl__coverage_parcels_read,
};
