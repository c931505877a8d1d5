/*
 * store_spatialite_write.c -- the SpatiaLite store's write path: import runs,
 * rows, rejects and the change log.
 *
 * Statements are built once per layer from the layer catalogue (table and
 * column names are constants of the catalogue, never input), prepared on
 * first use and kept until the store closes; every value is bound. Geometry
 * is encoded straight into SpatiaLite's blob format. A refused row (a
 * duplicate key, a failed constraint) is an outcome the importer records as
 * a reject; only a failing database is an error.
 */
#include <stdio.h>
#include <string.h>

#include "store_spatialite_int.h"

#define NOW_SQL "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"

/* ---- statement building ---------------------------------------------------- */

typedef struct sqlbuf {
  char s[2048];
  size_t n;
  int overflow;
} sqlbuf;

static void put(sqlbuf *b, const char *fmt, ...) TGIS_PRINTF(2, 3);
static void put(sqlbuf *b, const char *fmt, ...)
{
  va_list ap;
  int k;
  if (b->overflow)
    return;
  va_start(ap, fmt);
  k = vsnprintf(b->s + b->n, sizeof b->s - b->n, fmt, ap);
  va_end(ap);
  if (k < 0 || (size_t)k >= sizeof b->s - b->n)
    b->overflow = 1;
  else
    b->n += (size_t)k;
}

static int scope_field(const tgis_layer_def *def)
{
  for (int i = 0; i < def->n_fields; i++)
    if (def->fields[i].flags & TGIS_FIELD_SCOPE)
      return i;
  return -1;
}

static int key_field(const tgis_layer_def *def, unsigned flag)
{
  for (int i = 0; i < def->n_fields; i++)
    if (def->fields[i].flags & flag)
      return i;
  return -1;
}

/* The value expression of field i: its parameter, or a node lookup. */
static void put_value(sqlbuf *b, const tgis_layer_def *def, int i)
{
  if (def->fields[i].flags & TGIS_FIELD_NODE_REF)
    put(b, "(SELECT id FROM utility_nodes WHERE network = ?%d AND ext_id = ?%d)",
        scope_field(def) + 1, i + 1);
  else
    put(b, "?%d", i + 1);
}

static int has_node_refs(const tgis_layer_def *def)
{
  for (int i = 0; i < def->n_fields; i++)
    if (def->fields[i].flags & TGIS_FIELD_NODE_REF)
      return 1;
  return 0;
}

/* Only node references need RETURNING (to see which did not resolve); the
 * id of other rows comes cheaper from last_insert_rowid or the key lookup. */
static void put_returning(sqlbuf *b, const tgis_layer_def *def)
{
  if (!has_node_refs(def))
    return;
  put(b, " RETURNING id");
  for (int i = 0; i < def->n_fields; i++)
    if (def->fields[i].flags & TGIS_FIELD_NODE_REF)
      put(b, ", %s", def->fields[i].name);
}

static void build_insert(sqlbuf *b, const tgis_layer_def *def)
{
  int run = def->n_fields + 1, geom = def->n_fields + 2;
  put(b, "INSERT INTO %s (", def->table);
  for (int i = 0; i < def->n_fields; i++)
    if (!(def->fields[i].flags & TGIS_FIELD_PRIVATE))
      put(b, "%s, ", def->fields[i].name);
  put(b, "import_run, geom) VALUES (");
  for (int i = 0; i < def->n_fields; i++) {
    if (def->fields[i].flags & TGIS_FIELD_PRIVATE)
      continue;
    put_value(b, def, i);
    put(b, ", ");
  }
  put(b, "?%d, ?%d)", run, geom);
  put_returning(b, def);
}

/* WHERE clause matching the row's key (KEY, else ALT_KEY) and scope. */
static void put_key_match(sqlbuf *b, const tgis_layer_def *def, int key)
{
  int scope = scope_field(def);
  put(b, " WHERE %s = ?%d", def->fields[key].name, key + 1);
  if (scope >= 0)
    put(b, " AND %s = ?%d", def->fields[scope].name, scope + 1);
}

static void build_update(sqlbuf *b, const tgis_layer_def *def, int key)
{
  int run = def->n_fields + 1, geom = def->n_fields + 2;
  put(b, "UPDATE %s SET ", def->table);
  for (int i = 0; i < def->n_fields; i++) {
    if ((def->fields[i].flags & TGIS_FIELD_PRIVATE) || i == key)
      continue;
    put(b, "%s = ", def->fields[i].name);
    put_value(b, def, i);
    put(b, ", ");
  }
  put(b, "import_run = ?%d, geom = ?%d", run, geom);
  put_key_match(b, def, key);
  put(b, " AND import_run IS NOT ?%d", run);
  put_returning(b, def);
}

static void build_old_extent(sqlbuf *b, const tgis_layer_def *def, int key)
{
  put(b, "SELECT MbrMinX(geom), MbrMinY(geom), MbrMaxX(geom), MbrMaxY(geom), id FROM %s",
      def->table);
  put_key_match(b, def, key);
}

static tgis_status prepare(sl_store *s, sqlite3_stmt **out, const char *sql)
{
  if (*out)
    return TGIS_OK;
  if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, out, NULL) != SQLITE_OK)
    return tgis__fail(s->base.ctx, TGIS_EDB, "%s: cannot prepare \"%.60s...\": %s", s->path,
                      sql, sqlite3_errmsg(s->db));
  return TGIS_OK;
}

/* Statements of one layer; update/old_extent by the key in use. Layers with
 * an alternative key keep a second pair, built on demand below. */
static tgis_status layer_stmt(sl_store *s, tgis_layer layer, int which, int key,
                              sqlite3_stmt **out)
{
  const tgis_layer_def *def = tgis_layer__def(layer);
  sl_layer_stmts *ls = &s->layer[layer];
  int alt = key != key_field(def, TGIS_FIELD_KEY);
  sqlite3_stmt **slot = which == 0 ? &ls->insert
                      : which == 1 ? &ls->update[alt] : &ls->old_extent[alt];
  sqlbuf b = { .n = 0, .overflow = 0 };
  tgis_status st;

  if (!*slot) {
    if (which == 0)
      build_insert(&b, def);
    else if (which == 1)
      build_update(&b, def, key);
    else
      build_old_extent(&b, def, key);
    if (b.overflow)
      return tgis__fail(s->base.ctx, TGIS_EINVAL, "statement for %s too long", def->table);
    if ((st = prepare(s, slot, b.s)) != TGIS_OK)
      return st;
  }
  *out = *slot;
  return TGIS_OK;
}

void tgis_sl__finalize_writer(sl_store *s)
{
  for (int i = 0; i < TGIS_LAYER_COUNT; i++) {
    sqlite3_finalize(s->layer[i].insert);
    for (int k = 0; k < 2; k++) {
      sqlite3_finalize(s->layer[i].update[k]);
      sqlite3_finalize(s->layer[i].old_extent[k]);
    }
  }
  sqlite3_finalize(s->owner_put);
  sqlite3_finalize(s->owner_del);
  sqlite3_finalize(s->reject_ins);
  sqlite3_finalize(s->change_ins);
  sqlite3_finalize(s->run_ins);
  sqlite3_finalize(s->run_upd);
  memset(s->layer, 0, sizeof s->layer);
  s->owner_put = s->owner_del = s->reject_ins = s->change_ins = NULL;
  s->run_ins = s->run_upd = NULL;
  tgis__free(s->base.ctx, s->blob);
  s->blob = NULL;
  s->blob_cap = 0;
  tgis_sl__bulk_reset(s);
}

/* Step a statement to its end; reset it. Returns the first step's code. */
static int step_done(sqlite3_stmt *stmt)
{
  int rc = sqlite3_step(stmt), first = rc;
  while (rc == SQLITE_ROW)
    rc = sqlite3_step(stmt);
  if (first == SQLITE_ROW && rc != SQLITE_DONE)
    first = rc;
  sqlite3_reset(stmt);
  sqlite3_clear_bindings(stmt);
  return first;
}

static tgis_status db_error(sl_store *s, const char *what)
{
  return tgis__fail(s->base.ctx, TGIS_EDB, "%s: %s: %s", s->path, what, sqlite3_errmsg(s->db));
}

/* ---- runs ------------------------------------------------------------------ */

tgis_status tgis_sl__run_open(tgis_store *base, const tgis_run_desc *d, int64_t *run_id)
{
  sl_store *s = (sl_store *)base;
  tgis_status st = prepare(s, &s->run_ins,
      "INSERT INTO import_runs(source, layer, mode, started_at, status) "
      "VALUES (?1, ?2, ?3, " NOW_SQL ", 'running')");
  if (st != TGIS_OK)
    return st;
  sqlite3_bind_text(s->run_ins, 1, d->source, -1, SQLITE_STATIC);
  sqlite3_bind_text(s->run_ins, 2, tgis_layer_name(d->layer), -1, SQLITE_STATIC);
  sqlite3_bind_text(s->run_ins, 3, d->mode, -1, SQLITE_STATIC);
  if (step_done(s->run_ins) != SQLITE_DONE)
    return db_error(s, "cannot record the import run");
  *run_id = sqlite3_last_insert_rowid(s->db);
  return TGIS_OK;
}

tgis_status tgis_sl__run_close(tgis_store *base, int64_t run_id, const tgis_run_counts *c,
                               const char *status, const char *message)
{
  sl_store *s = (sl_store *)base;
  tgis_status st = prepare(s, &s->run_upd,
      "UPDATE import_runs SET finished_at = " NOW_SQL ", features_read = ?2, inserted = ?3, "
      "updated = ?4, repaired = ?5, rejected = ?6, status = ?7, message = ?8 WHERE id = ?1");
  if (st != TGIS_OK)
    return st;
  sqlite3_bind_int64(s->run_upd, 1, run_id);
  sqlite3_bind_int64(s->run_upd, 2, c->read);
  sqlite3_bind_int64(s->run_upd, 3, c->inserted);
  sqlite3_bind_int64(s->run_upd, 4, c->updated);
  sqlite3_bind_int64(s->run_upd, 5, c->repaired);
  sqlite3_bind_int64(s->run_upd, 6, c->rejected);
  sqlite3_bind_text(s->run_upd, 7, status, -1, SQLITE_STATIC);
  sqlite3_bind_text(s->run_upd, 8, message, -1, SQLITE_STATIC);
  if (step_done(s->run_upd) != SQLITE_DONE)
    return db_error(s, "cannot finish the import run");
  return TGIS_OK;
}

tgis_status tgis_sl__layer_clear(tgis_store *base, tgis_layer layer)
{
  sl_store *s = (sl_store *)base;
  char sql[128];
  snprintf(sql, sizeof sql, "DELETE FROM %s", tgis_layer_name(layer));
  if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
    return db_error(s, "cannot clear the layer");
  if (s->bulk[layer].active) {
    /* Without the triggers the index is ours to empty. */
    snprintf(sql, sizeof sql, "DELETE FROM \"idx_%s_geom\"", tgis_layer_name(layer));
    if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
      return db_error(s, "cannot clear the spatial index");
  }
  return TGIS_OK;
}

/* ---- rows ------------------------------------------------------------------ */

static void bind_values(sqlite3_stmt *stmt, const tgis_layer_def *def, const tgis_value *v,
                        int64_t run_id, const void *blob, size_t blob_len)
{
  int n_params = sqlite3_bind_parameter_count(stmt);
  for (int i = 0; i < def->n_fields && i < n_params; i++) {
    if (def->fields[i].flags & TGIS_FIELD_PRIVATE)
      continue;
    if (v[i].is_null)
      sqlite3_bind_null(stmt, i + 1);
    else if (def->fields[i].type == TGIS_FT_TEXT)
      sqlite3_bind_text(stmt, i + 1, v[i].s, -1, SQLITE_STATIC);
    else if (def->fields[i].type == TGIS_FT_INT)
      sqlite3_bind_int64(stmt, i + 1, v[i].i);
    else
      sqlite3_bind_double(stmt, i + 1, v[i].d);
  }
  if (def->n_fields + 1 <= n_params)
    sqlite3_bind_int64(stmt, def->n_fields + 1, run_id);
  if (def->n_fields + 2 <= n_params)
    sqlite3_bind_blob(stmt, def->n_fields + 2, blob, (int)blob_len, SQLITE_STATIC);
}

/* Read RETURNING id[, node refs] and note references that did not resolve. */
static void read_returning(sqlite3_stmt *stmt, const tgis_layer_def *def, const tgis_value *v,
                           tgis_write_result *res)
{
  int col = 1;
  res->id = sqlite3_column_int64(stmt, 0);
  for (int i = 0; i < def->n_fields; i++) {
    if (!(def->fields[i].flags & TGIS_FIELD_NODE_REF))
      continue;
    if (!v[i].is_null && sqlite3_column_type(stmt, col) == SQLITE_NULL)
      res->unresolved |= 1u << i;
    col++;
  }
}

/* Run an insert or update; sets the outcome from SQLite's answer. */
static tgis_status run_write(sl_store *s, sqlite3_stmt *stmt, const tgis_layer_def *def,
                             const tgis_value *v, tgis_write_result *res, int *changed)
{
  int rc = sqlite3_step(stmt);
  *changed = 0;
  if (rc == SQLITE_ROW) {
    *changed = 1;
    read_returning(stmt, def, v, res);
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
      ;
  }
  if (rc == SQLITE_DONE) {
    if (!has_node_refs(def) && sqlite3_changes(s->db) > 0) {
      /* No RETURNING: an insert's id is the last rowid; an update keeps
       * the id find_old() read. */
      *changed = 1;
      if (sqlite3_stmt_readonly(stmt) == 0 && !res->id)
        res->id = sqlite3_last_insert_rowid(s->db);
    }
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    return TGIS_OK;
  }
  if ((rc & 0xff) == SQLITE_CONSTRAINT) {
    res->outcome = rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY
                 ? TGIS_WRITE_DUPLICATE : TGIS_WRITE_REFUSED;
    snprintf(res->why, sizeof res->why, "%s", sqlite3_errmsg(s->db));
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    return TGIS_OK;
  }
  sqlite3_reset(stmt);
  sqlite3_clear_bindings(stmt);
  return db_error(s, "cannot write the row");
}

static tgis_status write_owner(sl_store *s, int64_t parcel_id, const tgis_value *pinfl)
{
  tgis_status st;
  if (pinfl->is_null) {
    if ((st = prepare(s, &s->owner_del, "DELETE FROM parcel_owners WHERE parcel_id = ?1")) != TGIS_OK)
      return st;
    sqlite3_bind_int64(s->owner_del, 1, parcel_id);
    if (step_done(s->owner_del) != SQLITE_DONE)
      return db_error(s, "cannot clear the parcel owner");
    return TGIS_OK;
  }
  if ((st = prepare(s, &s->owner_put,
         "INSERT INTO parcel_owners(parcel_id, pinfl) VALUES (?1, ?2) "
         "ON CONFLICT(parcel_id) DO UPDATE SET pinfl = excluded.pinfl")) != TGIS_OK)
    return st;
  sqlite3_bind_int64(s->owner_put, 1, parcel_id);
  sqlite3_bind_text(s->owner_put, 2, pinfl->s, -1, SQLITE_STATIC);
  /* Never echo the value: the error names the parcel only. */
  if (step_done(s->owner_put) != SQLITE_DONE)
    return tgis__fail(s->base.ctx, TGIS_EDB, "%s: cannot store the owner of parcel %lld",
                      s->path, (long long)parcel_id);
  return TGIS_OK;
}

/* Where the row with this key is now; 0 if there is none. */
static tgis_status find_old(sl_store *s, tgis_layer layer, int key, const tgis_value *v,
                            tgis_write_result *res, int *found)
{
  const tgis_layer_def *def = tgis_layer__def(layer);
  int scope = scope_field(def), rc;
  sqlite3_stmt *stmt;
  tgis_status st = layer_stmt(s, layer, 2, key, &stmt);
  if (st != TGIS_OK)
    return st;
  sqlite3_bind_text(stmt, key + 1, v[key].s, -1, SQLITE_STATIC);
  if (scope >= 0)
    sqlite3_bind_text(stmt, scope + 1, v[scope].s, -1, SQLITE_STATIC);
  rc = sqlite3_step(stmt);
  *found = rc == SQLITE_ROW;
  if (*found)
    res->id = sqlite3_column_int64(stmt, 4);
  if (*found && sqlite3_column_type(stmt, 0) != SQLITE_NULL) {
    res->has_old_extent = 1;
    res->old_extent.minx = sqlite3_column_double(stmt, 0);
    res->old_extent.miny = sqlite3_column_double(stmt, 1);
    res->old_extent.maxx = sqlite3_column_double(stmt, 2);
    res->old_extent.maxy = sqlite3_column_double(stmt, 3);
  }
  sqlite3_reset(stmt);
  sqlite3_clear_bindings(stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return db_error(s, "cannot look up the key");
  return TGIS_OK;
}

tgis_status tgis_sl__row_write(tgis_store *base, tgis_layer layer, int upsert, int64_t run_id,
                               const tgis_value *v, const tgis_geombuf *geom,
                               tgis_write_result *res)
{
  sl_store *s = (sl_store *)base;
  const tgis_layer_def *def = tgis_layer__def(layer);
  int key = key_field(def, TGIS_FIELD_KEY), found = 0, changed = 0;
  size_t need = tgis_sl__blob_size(geom), len;
  sqlite3_stmt *stmt;
  tgis_status st;

  memset(res, 0, sizeof *res);
  if (need > s->blob_cap) {
    unsigned char *p = tgis__realloc(s->base.ctx, s->blob, need * 2);
    if (!p)
      return tgis__fail(s->base.ctx, TGIS_ENOMEM, "out of memory encoding a geometry");
    s->blob = p;
    s->blob_cap = need * 2;
  }
  len = tgis_sl__blob_encode(s->blob, geom, s->base.srid);

  if (key >= 0 && v[key].is_null) {
    int alt = key_field(def, TGIS_FIELD_ALT_KEY);
    key = alt >= 0 && !v[alt].is_null ? alt : -1;
  }
  if (upsert && key >= 0) {
    if ((st = find_old(s, layer, key, v, res, &found)) != TGIS_OK)
      return st;
    if (found) {
      if ((st = layer_stmt(s, layer, 1, key, &stmt)) != TGIS_OK)
        return st;
      bind_values(stmt, def, v, run_id, s->blob, len);
      if ((st = run_write(s, stmt, def, v, res, &changed)) != TGIS_OK)
        return st;
      if (res->outcome == TGIS_WRITE_INSERTED && !changed) {
        /* The row exists and this run wrote it already. */
        res->outcome = TGIS_WRITE_DUPLICATE;
        snprintf(res->why, sizeof res->why, "%s appears twice in this source",
                 def->fields[key].name);
        return TGIS_OK;
      }
      if (res->outcome == TGIS_WRITE_INSERTED)
        res->outcome = TGIS_WRITE_UPDATED;
    }
  }
  if (!found) {
    if ((st = layer_stmt(s, layer, 0, key, &stmt)) != TGIS_OK)
      return st;
    bind_values(stmt, def, v, run_id, s->blob, len);
    if ((st = run_write(s, stmt, def, v, res, &changed)) != TGIS_OK)
      return st;
  }
  if ((res->outcome == TGIS_WRITE_INSERTED || res->outcome == TGIS_WRITE_UPDATED) &&
      s->bulk[layer].active && (!s->bulk[layer].min_id || res->id < s->bulk[layer].min_id))
    s->bulk[layer].min_id = res->id;
  if ((res->outcome == TGIS_WRITE_INSERTED || res->outcome == TGIS_WRITE_UPDATED) &&
      layer == TGIS_LAYER_PARCELS) {
    int pinfl = tgis_layer__field(def, "owner_pinfl");
    if ((st = write_owner(s, res->id, &v[pinfl])) != TGIS_OK)
      return st;
  }
  return TGIS_OK;
}

/* ---- rejects, changes, statistics ------------------------------------------ */

tgis_status tgis_sl__reject_add(tgis_store *base, int64_t run_id, tgis_layer layer,
                                int64_t source_fid, const char *action, const char *field,
                                const char *reason)
{
  sl_store *s = (sl_store *)base;
  tgis_status st = prepare(s, &s->reject_ins,
      "INSERT INTO import_rejects(run_id, layer, source_fid, action, field, reason) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  if (st != TGIS_OK)
    return st;
  sqlite3_bind_int64(s->reject_ins, 1, run_id);
  sqlite3_bind_text(s->reject_ins, 2, tgis_layer_name(layer), -1, SQLITE_STATIC);
  sqlite3_bind_int64(s->reject_ins, 3, source_fid);
  sqlite3_bind_text(s->reject_ins, 4, action, -1, SQLITE_STATIC);
  if (field)
    sqlite3_bind_text(s->reject_ins, 5, field, -1, SQLITE_STATIC);
  sqlite3_bind_text(s->reject_ins, 6, reason, -1, SQLITE_STATIC);
  if (step_done(s->reject_ins) != SQLITE_DONE)
    return db_error(s, "cannot record a rejected feature");
  return TGIS_OK;
}

tgis_status tgis_sl__change_add(tgis_store *base, int64_t run_id, tgis_layer layer,
                                const tgis_extent *box)
{
  sl_store *s = (sl_store *)base;
  tgis_status st = prepare(s, &s->change_ins,
      "INSERT INTO change_log(run_id, layer, minx, miny, maxx, maxy, changed_at) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, " NOW_SQL ")");
  if (st != TGIS_OK)
    return st;
  sqlite3_bind_int64(s->change_ins, 1, run_id);
  sqlite3_bind_text(s->change_ins, 2, tgis_layer_name(layer), -1, SQLITE_STATIC);
  sqlite3_bind_double(s->change_ins, 3, box->minx);
  sqlite3_bind_double(s->change_ins, 4, box->miny);
  sqlite3_bind_double(s->change_ins, 5, box->maxx);
  sqlite3_bind_double(s->change_ins, 6, box->maxy);
  if (step_done(s->change_ins) != SQLITE_DONE)
    return db_error(s, "cannot record a changed area");
  return TGIS_OK;
}

/* SpatiaLite's UpdateLayerStatistics() reads every geometry of the layer;
 * after an import the count is one index walk and the extent is the old one
 * grown by the run's (or the run's alone after a replace). */
tgis_status tgis_sl__layer_refresh(tgis_store *base, tgis_layer layer,
                                   const tgis_extent *run_extent, int replaced)
{
  sl_store *s = (sl_store *)base;
  const char *t = tgis_layer_name(layer);
  sqlite3_stmt *stmt = NULL;
  char sql[2048];
  int rc;

  snprintf(sql, sizeof sql,
    "INSERT INTO geometry_columns_statistics (f_table_name, f_geometry_column, last_verified, "
    "  row_count, extent_min_x, extent_min_y, extent_max_x, extent_max_y) "
    "SELECT ?1, 'geom', strftime('%%Y-%%m-%%dT%%H:%%M:%%fZ', 'now'), (SELECT count(*) FROM \"%s\"), "
    "  ?2, ?3, ?4, ?5 WHERE 1 "
    "ON CONFLICT (f_table_name, f_geometry_column) DO UPDATE SET "
    "  last_verified = excluded.last_verified, row_count = excluded.row_count, "
    "  extent_min_x = CASE WHEN ?6 OR extent_min_x IS NULL THEN excluded.extent_min_x "
    "                 ELSE min(extent_min_x, coalesce(excluded.extent_min_x, extent_min_x)) END, "
    "  extent_min_y = CASE WHEN ?6 OR extent_min_y IS NULL THEN excluded.extent_min_y "
    "                 ELSE min(extent_min_y, coalesce(excluded.extent_min_y, extent_min_y)) END, "
    "  extent_max_x = CASE WHEN ?6 OR extent_max_x IS NULL THEN excluded.extent_max_x "
    "                 ELSE max(extent_max_x, coalesce(excluded.extent_max_x, extent_max_x)) END, "
    "  extent_max_y = CASE WHEN ?6 OR extent_max_y IS NULL THEN excluded.extent_max_y "
    "                 ELSE max(extent_max_y, coalesce(excluded.extent_max_y, extent_max_y)) END",
    t);
  rc = sqlite3_prepare_v2(s->db, sql, -1, &stmt, NULL);
  if (rc == SQLITE_OK) {
    sqlite3_bind_text(stmt, 1, t, -1, SQLITE_STATIC);
    if (run_extent) {
      sqlite3_bind_double(stmt, 2, run_extent->minx);
      sqlite3_bind_double(stmt, 3, run_extent->miny);
      sqlite3_bind_double(stmt, 4, run_extent->maxx);
      sqlite3_bind_double(stmt, 5, run_extent->maxy);
    }
    sqlite3_bind_int(stmt, 6, replaced);
    rc = sqlite3_step(stmt);
  }
  sqlite3_finalize(stmt);
  if (rc != SQLITE_DONE)
    return db_error(s, "cannot update the layer statistics");
  return TGIS_OK;
}
