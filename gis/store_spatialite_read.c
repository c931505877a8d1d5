/*
 * store_spatialite_read.c -- reading layers back: every feature of a layer,
 * or those whose box meets a window, through the R-tree.
 *
 * Tiles ask for windows, analytics for whole layers; both get the same
 * plain-array geometry (decoded straight from SpatiaLite blobs) and the
 * attribute values in catalogue order. Personal data (owners' PINFLs) is
 * never selected: the statement is built from the catalogue without its
 * private fields, so no caller can ask for them.
 */
#include <stdio.h>
#include <string.h>

#include "store_spatialite_int.h"

/* Every field of a layer, as a field mask. */
#define ALL_FIELDS UINT32_MAX

/* SELECT id, <fields>, geom FROM t [window] -- built from the catalogue,
 * with only the fields of `fields` (bit i: field i), in catalogue order. */
static int build_select(char *sql, size_t n, const tgis_layer_def *def, int window,
                        uint32_t fields)
{
  size_t used;
  int k = snprintf(sql, n, "SELECT t.id");
  if (k < 0 || (size_t)k >= n)
    return -1;
  used = (size_t)k;
  for (int i = 0; i < def->n_fields; i++) {
    const tgis_field_def *f = &def->fields[i];
    if (!(fields >> i & 1u))
      continue;
    if (f->flags & TGIS_FIELD_PRIVATE)
      k = snprintf(sql + used, n - used, ", NULL");
    else if (f->flags & TGIS_FIELD_NODE_REF)
      k = snprintf(sql + used, n - used,
                   ", (SELECT ext_id FROM utility_nodes WHERE id = t.%s)", f->name);
    else
      k = snprintf(sql + used, n - used, ", t.%s", f->name);
    if (k < 0 || (size_t)k >= n - used)
      return -1;
    used += (size_t)k;
  }
  if (window)
    k = snprintf(sql + used, n - used,
                 ", t.geom FROM \"idx_%s_geom\" AS i JOIN \"%s\" AS t ON t.id = i.pkid "
                 "WHERE i.xmin <= ?3 AND i.xmax >= ?1 AND i.ymin <= ?4 AND i.ymax >= ?2",
                 def->table, def->table);
  else
    k = snprintf(sql + used, n - used, ", t.geom FROM \"%s\" AS t ORDER BY t.id", def->table);
  return k < 0 || (size_t)k >= n - used ? -1 : 0;
}

/* Whether the box a geometry blob records (database CRS), set in `box`,
 * misses `core`; 0 when the blob is not one to read it from. */
static int blob_misses(const unsigned char *blob, int len, const tgis_extent *core,
                       tgis_extent *box)
{
  static const uint16_t one = 1;
  double b[4];

  if (len < 44 || blob[0] != 0x00 || blob[1] != 0x01 || blob[38] != 0x7C ||
      *(const unsigned char *)&one != 1)
    return 0;                     /* not little-endian SpatiaLite, here and there */
  memcpy(b, blob + 6, sizeof b);  /* minx, miny, maxx, maxy */
  box->minx = b[0];
  box->miny = b[1];
  box->maxx = b[2];
  box->maxy = b[3];
  return b[2] < core->minx || b[0] > core->maxx || b[3] < core->miny || b[1] > core->maxy;
}

/* tgis_sl__emit_rows() over a SELECT of only the fields of `fields` (as
 * build_select() makes it): the others are null. With `outer`, rows it
 * leaves out are skipped before their geometry is decoded. */
static tgis_status emit_fields(sl_store *s, const tgis_layer_def *def, sqlite3_stmt *stmt,
                               unsigned flags, uint32_t fields, const tgis_scan_outer *outer,
                               tgis_feature_cb cb, void *payload)
{
  int keep = (flags & TGIS_SL_EMIT_KEEP) != 0;
  tgis_value vals[TGIS_MAX_FIELDS];
  tgis_geombuf g;
  tgis_status st = TGIS_OK;
  int rc = SQLITE_DONE, n_read = 0, read[TGIS_MAX_FIELDS];

  memset(vals, 0, sizeof vals);
  for (int i = 0; i < def->n_fields; i++) {
    vals[i].is_null = 1;          /* stays so where the field is not read */
    if (fields >> i & 1u)
      read[n_read++] = i;         /* field read[k] is column k + 1 */
  }
  int geom_col = n_read + 1;
  tgis_geombuf_init(&g, s->base.ctx);
  while (st == TGIS_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    tgis_feature f;
    tgis_extent box;
    const void *blob = sqlite3_column_blob(stmt, geom_col);
    int blob_len = sqlite3_column_bytes(stmt, geom_col);

    for (int k = 0; k < n_read; k++) {
      int i = read[k], col = k + 1;
      memset(&vals[i], 0, sizeof vals[i]);
      if ((flags & TGIS_SL_EMIT_REF_IDS) && (def->fields[i].flags & TGIS_FIELD_NODE_REF)) {
        vals[i].is_null = sqlite3_column_type(stmt, col) == SQLITE_NULL;
        vals[i].i = sqlite3_column_int64(stmt, col);   /* the node's row id */
        continue;
      }
      if (def->fields[i].type == TGIS_FT_TEXT) {
        /* NULL only for a null (one call instead of two per text field) */
        vals[i].s = (const char *)sqlite3_column_text(stmt, col);
        vals[i].is_null = vals[i].s == NULL;
        continue;
      }
      vals[i].is_null = sqlite3_column_type(stmt, col) == SQLITE_NULL;
      if (vals[i].is_null)
        continue;
      if (def->fields[i].type == TGIS_FT_INT)
        vals[i].i = sqlite3_column_int64(stmt, col);
      else
        vals[i].d = sqlite3_column_double(stmt, col);
    }
    f.id = sqlite3_column_int64(stmt, 0);
    f.values = vals;
    if (outer && blob && blob_misses(blob, blob_len, &outer->core, &box)) {
      f.geom = NULL;
      if (!outer->want(&f, &box, outer->payload))
        continue;                 /* not wanted: its geometry is never decoded */
    }
    f.geom = &g;
    if (!blob) {
      tgis_geombuf_reset(&g, def->geom_type);
    } else if ((st = tgis_sl__blob_decode(&g, blob, (size_t)blob_len, NULL)) != TGIS_OK) {
      if (st == TGIS_ENOMEM)
        st = tgis__fail(s->base.ctx, TGIS_ENOMEM, "%s: %s feature %lld: out of memory "
                        "decoding its geometry", s->path, def->table, (long long)f.id);
      else
        st = tgis__fail(s->base.ctx, TGIS_EPARSE, "%s: %s feature %lld: unreadable geometry",
                        s->path, def->table, (long long)f.id);
      break;
    }
    st = cb(&f, payload);
  }
  if (st == TGIS_OK && rc != SQLITE_DONE)
    st = tgis__fail(s->base.ctx, TGIS_EDB, "%s: reading %s: %s", s->path, def->table,
                    sqlite3_errmsg(s->db));
  if (keep) {
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
  } else {
    sqlite3_finalize(stmt);
  }
  tgis_geombuf_free(&g);
  return st;
}

tgis_status tgis_sl__emit_rows(sl_store *s, const tgis_layer_def *def, sqlite3_stmt *stmt,
                              unsigned flags, tgis_feature_cb cb, void *payload)
{
  return emit_fields(s, def, stmt, flags, ALL_FIELDS, NULL, cb, payload);
}

/* The scan of a layer, by window or not, reading the fields of `fields`,
 * with `outer` (window scans only) leaving rows out. */
static tgis_status scan(sl_store *s, tgis_layer layer, const tgis_extent *window,
                        uint32_t fields, const tgis_scan_outer *outer, tgis_feature_cb cb,
                        void *payload)
{
  const tgis_layer_def *def = tgis_layer__def(layer);
  sl_layer_stmts *ls = &s->layer[layer];
  sqlite3_stmt *stmt = NULL, **cached = NULL;
  int keep = 0;
  char sql[2048];

  /* Bits beyond the layer's fields mean nothing: one mask, one statement. */
  if (def->n_fields < 32)
    fields &= (UINT32_C(1) << def->n_fields) - 1;
  /* A window query is what every tile asks, several times a tile: its
   * statement, one per set of fields, is prepared once per store and kept
   * (preparing it cost about 5% of a tile). A scan nested in another's
   * callback on the same layer, with the kept one still running, prepares
   * its own. */
  if (window) {
    unsigned free_slot = SL_SCAN_SLOTS;
    for (unsigned i = 0; i < SL_SCAN_SLOTS && !cached; i++) {
      if (!ls->scan_window[i])
        free_slot = free_slot < SL_SCAN_SLOTS ? free_slot : i;
      else if (ls->scan_fields[i] == fields)
        cached = &ls->scan_window[i];
    }
    if (!cached) {
      /* A new set: a free slot, else the oldest one not running. */
      unsigned i = free_slot;
      for (unsigned k = 0; i == SL_SCAN_SLOTS && k < SL_SCAN_SLOTS; k++) {
        unsigned j = (ls->scan_next + k) % SL_SCAN_SLOTS;
        if (!sqlite3_stmt_busy(ls->scan_window[j])) {
          i = j;
          ls->scan_next = (j + 1) % SL_SCAN_SLOTS;
        }
      }
      if (i < SL_SCAN_SLOTS) {
        sqlite3_finalize(ls->scan_window[i]);
        ls->scan_window[i] = NULL;
        ls->scan_fields[i] = fields;
        cached = &ls->scan_window[i];
      }
    }
  }
  if (cached && *cached && !sqlite3_stmt_busy(*cached)) {
    stmt = *cached;
    keep = 1;
  } else {
    if (build_select(sql, sizeof sql, def, window != NULL, fields))
      return tgis__fail(s->base.ctx, TGIS_EINVAL, "statement for %s too long", def->table);
    if (sqlite3_prepare_v3(s->db, sql, -1, cached && !*cached ? SQLITE_PREPARE_PERSISTENT : 0,
                           &stmt, NULL) != SQLITE_OK)
      return tgis__fail(s->base.ctx, TGIS_EDB, "%s: cannot read %s: %s", s->path, def->table,
                        sqlite3_errmsg(s->db));
    if (cached && !*cached) {
      *cached = stmt;
      keep = 1;
    }
  }
  if (window) {
    sqlite3_bind_double(stmt, 1, window->minx);
    sqlite3_bind_double(stmt, 2, window->miny);
    sqlite3_bind_double(stmt, 3, window->maxx);
    sqlite3_bind_double(stmt, 4, window->maxy);
  }
  return emit_fields(s, def, stmt, keep ? TGIS_SL_EMIT_KEEP : 0, fields, window ? outer : NULL,
                     cb, payload);
}

tgis_status tgis_sl__layer_scan(tgis_store *base, tgis_layer layer, const tgis_extent *window,
                                tgis_feature_cb cb, void *payload)
{
  return scan((sl_store *)base, layer, window, ALL_FIELDS, NULL, cb, payload);
}

tgis_status tgis_sl__layer_scan_fields(tgis_store *base, tgis_layer layer,
                                       const tgis_extent *window, uint32_t fields,
                                       const tgis_scan_outer *outer, tgis_feature_cb cb,
                                       void *payload)
{
  return scan((sl_store *)base, layer, window, fields, outer, cb, payload);
}

void tgis_sl__finalize_reader(sl_store *s)
{
  for (int i = 0; i < TGIS_LAYER_COUNT; i++) {
    for (int k = 0; k < SL_SCAN_SLOTS; k++) {
      sqlite3_finalize(s->layer[i].scan_window[k]);
      s->layer[i].scan_window[k] = NULL;
    }
  }
}

tgis_status tgis_sl__feature_find(tgis_store *base, tgis_layer layer, const char *field,
                                  const char *text, int substring, int limit,
                                  tgis_feature_cb cb, void *payload)
{
  sl_store *s = (sl_store *)base;
  const tgis_layer_def *def = tgis_layer__def(layer);
  int fi = def ? tgis_layer__field(def, field) : -1;
  sqlite3_stmt *stmt = NULL;
  char sql[2300], *tail, hi[512], pat[520];
  size_t used, n = strlen(text);

  if (fi < 0 || def->fields[fi].type != TGIS_FT_TEXT ||
      (def->fields[fi].flags & TGIS_FIELD_PRIVATE) || n == 0 || n >= sizeof hi - 1 || limit < 1)
    return tgis__fail(s->base.ctx, TGIS_EINVAL, "cannot search %s by '%s'",
                      def ? def->table : "?", field);
  /* build_select() without a window ends in " ORDER BY t.id": cut it off. */
  if (build_select(sql, sizeof sql - 200, def, 0, ALL_FIELDS) || !(tail = strstr(sql, " ORDER BY t.id")))
    return tgis__fail(s->base.ctx, TGIS_EINVAL, "statement for %s too long", def->table);
  used = (size_t)(tail - sql);
  /* A prefix is a range on the column, so its index answers it; a
   * substring is a LIKE over the (small) layer. */
  if (substring)
    snprintf(sql + used, sizeof sql - used,
             " WHERE t.%s LIKE ?1 ESCAPE '\\' ORDER BY t.%s LIMIT %d", field, field, limit);
  else
    snprintf(sql + used, sizeof sql - used,
             " WHERE t.%s >= ?1 AND t.%s < ?2 ORDER BY t.%s LIMIT %d", field, field, field, limit);
  if (sqlite3_prepare_v2(s->db, sql, -1, &stmt, NULL) != SQLITE_OK)
    return tgis__fail(s->base.ctx, TGIS_EDB, "%s: cannot search %s: %s", s->path, def->table,
                      sqlite3_errmsg(s->db));
  if (substring) {
    size_t k = 0;
    pat[k++] = '%';
    for (size_t i = 0; i < n && k < sizeof pat - 3; i++) {
      if (text[i] == '%' || text[i] == '_' || text[i] == '\\')
        pat[k++] = '\\';
      pat[k++] = text[i];
    }
    pat[k++] = '%';
    pat[k] = '\0';
    sqlite3_bind_text(stmt, 1, pat, -1, SQLITE_TRANSIENT);
  } else {
    memcpy(hi, text, n);
    hi[n] = (char)0x7f;           /* above every character of an identifier */
    hi[n + 1] = '\0';
    sqlite3_bind_text(stmt, 1, text, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(stmt, 2, hi, -1, SQLITE_TRANSIENT);
  }
  return tgis_sl__emit_rows(s, def, stmt, 0, cb, payload);
}

tgis_status tgis_sl__changes_since(tgis_store *base, int64_t after, tgis_change_cb cb,
                                   void *payload)
{
  sl_store *s = (sl_store *)base;
  sqlite3_stmt *stmt = NULL;
  tgis_status st = TGIS_OK;
  int rc = SQLITE_DONE;

  if (sqlite3_prepare_v2(s->db, "SELECT id, layer, minx, miny, maxx, maxy FROM change_log"
                                " WHERE id > ?1 ORDER BY id", -1, &stmt, NULL) != SQLITE_OK)
    return tgis__fail(s->base.ctx, TGIS_EDB, "%s: cannot read change_log: %s", s->path,
                      sqlite3_errmsg(s->db));
  sqlite3_bind_int64(stmt, 1, after);
  while (st == TGIS_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    tgis_extent box = { sqlite3_column_double(stmt, 2), sqlite3_column_double(stmt, 3),
                        sqlite3_column_double(stmt, 4), sqlite3_column_double(stmt, 5) };
    const char *layer = (const char *)sqlite3_column_text(stmt, 1);
    st = cb(sqlite3_column_int64(stmt, 0), layer ? layer : "", &box, payload);
  }
  if (st == TGIS_OK && rc != SQLITE_DONE)
    st = tgis__fail(s->base.ctx, TGIS_EDB, "%s: reading change_log: %s", s->path,
                    sqlite3_errmsg(s->db));
  sqlite3_finalize(stmt);
  return st;
}
