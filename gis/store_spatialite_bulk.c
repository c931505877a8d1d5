/*
 * store_spatialite_bulk.c -- bulk loading into SpatiaLite layers.
 *
 * SpatiaLite keeps a geometry column with six triggers per table: a type
 * and SRID check that on failure rolls back the WHOLE transaction (RAISE
 * ROLLBACK -- fatal for an all-or-nothing import), R-tree maintenance
 * through RTreeAlign(), which prepares a statement per row, and a per-row
 * update of geometry_columns_time. For an import tgis drops them inside its
 * transaction (the writer guarantees type and SRID), brings the R-tree up
 * to date at the end -- the run's rows in one INSERT ... SELECT, or after a
 * large run the whole tree packed anew -- and re-creates the same triggers
 * from their saved SQL before commit. Other connections never see the table
 * without its triggers: the DDL commits or rolls back with the rows.
 */
#include <stdio.h>
#include <string.h>

#include "store_spatialite_int.h"

static tgis_status db_error(sl_store *s, const char *what)
{
  return tgis__fail(s->base.ctx, TGIS_EDB, "%s: %s: %s", s->path, what, sqlite3_errmsg(s->db));
}

static void free_bulk(sl_store *s, sl_bulk *b)
{
  for (int i = 0; i < b->n_triggers; i++)
    tgis__free(s->base.ctx, b->trigger_sql[i]);
  tgis__free(s->base.ctx, b->trigger_sql);
  memset(b, 0, sizeof *b);
}

void tgis_sl__bulk_reset(sl_store *s)
{
  for (int i = 0; i < TGIS_LAYER_COUNT; i++)
    free_bulk(s, &s->bulk[i]);
}

tgis_status tgis_sl__bulk_begin(tgis_store *base, tgis_layer layer)
{
  sl_store *s = (sl_store *)base;
  sl_bulk *b = &s->bulk[layer];
  sqlite3_stmt *stmt = NULL;
  tgis_status st = TGIS_OK;
  int rc;

  if (b->active)
    return TGIS_OK;
  rc = sqlite3_prepare_v2(s->db, "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                          "AND tbl_name = ?1 ORDER BY name", -1, &stmt, NULL);
  if (rc != SQLITE_OK)
    return db_error(s, "cannot list the layer's triggers");
  sqlite3_bind_text(stmt, 1, tgis_layer_name(layer), -1, SQLITE_STATIC);
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    char **grown = tgis__realloc(s->base.ctx, b->trigger_sql, (size_t)(b->n_triggers + 1) * sizeof *grown);
    const char *sql = (const char *)sqlite3_column_text(stmt, 1);
    if (!grown || !sql || !(grown[b->n_triggers] = tgis__strdup(s->base.ctx, sql))) {
      if (grown)
        b->trigger_sql = grown;
      st = tgis__fail(s->base.ctx, TGIS_ENOMEM, "out of memory saving triggers");
      break;
    }
    b->trigger_sql = grown;
    b->n_triggers++;
  }
  sqlite3_finalize(stmt);
  if (st == TGIS_OK && rc != SQLITE_DONE)
    st = db_error(s, "cannot list the layer's triggers");
  for (int i = 0; st == TGIS_OK && i < b->n_triggers; i++) {
    /* "CREATE TRIGGER "name" ..." -> DROP TRIGGER "name" */
    const char *q = strchr(b->trigger_sql[i], '"');
    const char *e = q ? strchr(q + 1, '"') : NULL;
    char drop[256];
    if (!q || !e || e - q > 200) {
      st = tgis__fail(s->base.ctx, TGIS_EDB, "%s: unexpected trigger on %s", s->path,
                      tgis_layer_name(layer));
      break;
    }
    snprintf(drop, sizeof drop, "DROP TRIGGER %.*s", (int)(e - q + 1), q);
    if (sqlite3_exec(s->db, drop, NULL, NULL, NULL) != SQLITE_OK)
      st = db_error(s, "cannot suspend a trigger");
  }
  if (st != TGIS_OK) {
    free_bulk(s, b);
    return st;
  }
  b->active = 1;
  return TGIS_OK;
}

/* The run's rows into the R-tree, in one statement; rows it updated are
 * replaced (same pkid). */
static tgis_status fill_rtree(sl_store *s, tgis_layer layer, int64_t run_id, int64_t min_id)
{
  const char *t = tgis_layer_name(layer);
  sqlite3_stmt *stmt = NULL;
  char sql[384];
  int rc;
  snprintf(sql, sizeof sql,
           "INSERT OR REPLACE INTO \"idx_%s_geom\" (pkid, xmin, xmax, ymin, ymax) "
           "SELECT id, MbrMinX(geom), MbrMaxX(geom), MbrMinY(geom), MbrMaxY(geom) "
           "FROM \"%s\" WHERE id >= ?2 AND import_run = ?1 AND geom IS NOT NULL", t, t);
  rc = sqlite3_prepare_v2(s->db, sql, -1, &stmt, NULL);
  if (rc == SQLITE_OK) {
    sqlite3_bind_int64(stmt, 1, run_id);
    sqlite3_bind_int64(stmt, 2, min_id);
    rc = sqlite3_step(stmt);
  }
  sqlite3_finalize(stmt);
  if (rc != SQLITE_DONE)
    return db_error(s, "cannot fill the spatial index");
  return TGIS_OK;
}

/* One integer from a one-row query on the layer, params bound as ?1..?n. */
static tgis_status query_int(sl_store *s, tgis_layer layer, const char *sql,
                             const int64_t *params, int n, int64_t *out)
{
  sqlite3_stmt *stmt = NULL;
  int rc = sqlite3_prepare_v2(s->db, sql, -1, &stmt, NULL);
  if (rc == SQLITE_OK) {
    for (int i = 0; i < n; i++)
      sqlite3_bind_int64(stmt, i + 1, params[i]);
    if ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
      *out = sqlite3_column_int64(stmt, 0);
  }
  sqlite3_finalize(stmt);
  if (rc != SQLITE_ROW)
    return tgis__fail(s->base.ctx, TGIS_EDB, "%s: %s: cannot count the run's rows: %s", s->path,
                      tgis_layer_name(layer), sqlite3_errmsg(s->db));
  return TGIS_OK;
}

/* Bring the index up to date for the run. The module's INSERT costs 15-20
 * us a run row; packing (store_spatialite_rtree.c) costs 1.5-2 us a row of
 * the whole layer and gives a tighter tree, so it wins from about a tenth
 * of the layer: pack when the run wrote a quarter of it or more (measured
 * in test_rtree.c, bench_million). Not from a fixed row count: 10,000 new
 * rows in a layer of a million insert in 0.2 s where packing takes 2 s.
 * Both counts are cheap: max(id) bounds the layer in one index step and
 * the run's ids lie in [min_id, max(id)]; counting the run's rows stops at
 * the threshold, inside the range the INSERT path scans anyway. */
#define PACK_SHARE 4
static tgis_status index_run(sl_store *s, tgis_layer layer, int64_t run_id, int64_t min_id)
{
  const char *t = tgis_layer_name(layer);
  int64_t max_id = 0, threshold, run_rows = 0;
  char sql[256];
  tgis_status st;

  snprintf(sql, sizeof sql, "SELECT coalesce(max(id), 0) FROM \"%s\"", t);
  if ((st = query_int(s, layer, sql, NULL, 0, &max_id)) != TGIS_OK)
    return st;
  threshold = (max_id + PACK_SHARE - 1) / PACK_SHARE;
  if (threshold < 1)
    threshold = 1;
  if (max_id - min_id + 1 >= threshold) {
    int64_t params[3] = { run_id, min_id, threshold };
    snprintf(sql, sizeof sql, "SELECT count(*) FROM (SELECT 1 FROM \"%s\" "
             "WHERE id >= ?2 AND import_run = ?1 LIMIT ?3)", t);
    if ((st = query_int(s, layer, sql, params, 3, &run_rows)) != TGIS_OK)
      return st;
  }
  if (run_rows >= threshold)
    return tgis_sl__rtree_rebuild(s, layer);
  return fill_rtree(s, layer, run_id, min_id);
}

tgis_status tgis_sl__bulk_end(tgis_store *base, tgis_layer layer, int64_t run_id)
{
  sl_store *s = (sl_store *)base;
  sl_bulk *b = &s->bulk[layer];
  sqlite3_stmt *stmt = NULL;
  tgis_status st;

  if (!b->active)
    return TGIS_OK;
  st = b->min_id ? index_run(s, layer, run_id, b->min_id) : TGIS_OK;
  for (int i = 0; st == TGIS_OK && i < b->n_triggers; i++)
    if (sqlite3_exec(s->db, b->trigger_sql[i], NULL, NULL, NULL) != SQLITE_OK)
      st = db_error(s, "cannot restore a trigger");
  if (st == TGIS_OK) {
    /* What the per-row time triggers would have written, once. */
    int rc = sqlite3_prepare_v2(s->db,
        "UPDATE geometry_columns_time SET last_insert = strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), "
        "last_update = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') "
        "WHERE f_table_name = ?1 AND f_geometry_column = 'geom'", -1, &stmt, NULL);
    if (rc == SQLITE_OK) {
      sqlite3_bind_text(stmt, 1, tgis_layer_name(layer), -1, SQLITE_STATIC);
      rc = sqlite3_step(stmt);
    }
    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE)
      st = db_error(s, "cannot update geometry_columns_time");
  }
  free_bulk(s, b);
  return st;
}
