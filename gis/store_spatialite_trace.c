/*
 * store_spatialite_trace.c -- reading one utility network for tracing.
 *
 * Like layer_scan, but only the rows of one network, and node references
 * as the referenced nodes' row ids rather than their ext_ids: a trace of
 * a city's water network then reads a quarter of the utility rows and ties
 * every line end to its node by a binary search over row ids instead of a
 * subquery and a text lookup per end (0.1 s instead of 1.2 s for the
 * generated city at scale 1).
 */
#include <stdio.h>
#include <string.h>

#include "store_spatialite_int.h"

/* SELECT t.id, <fields>, t.geom FROM t WHERE +network = ?1 ORDER BY t.id */
static int build_select(char *sql, size_t n, const tgis_layer_def *def)
{
  size_t used;
  int k = snprintf(sql, n, "SELECT t.id");
  if (k < 0 || (size_t)k >= n)
    return -1;
  used = (size_t)k;
  for (int i = 0; i < def->n_fields; i++) {
    const tgis_field_def *f = &def->fields[i];
    if (f->flags & TGIS_FIELD_PRIVATE)
      k = snprintf(sql + used, n - used, ", NULL");
    else
      k = snprintf(sql + used, n - used, ", t.%s", f->name);
    if (k < 0 || (size_t)k >= n - used)
      return -1;
    used += (size_t)k;
  }
  /* "+t.network": not through the (network, ext_id) index, whose rows come
   * out of id order and need a sort; one pass over the table in id order
   * is three times cheaper for a network of a quarter of the rows. */
  k = snprintf(sql + used, n - used,
               ", t.geom FROM \"%s\" AS t WHERE +t.network = ?1 ORDER BY t.id", def->table);
  return k < 0 || (size_t)k >= n - used ? -1 : 0;
}

tgis_status tgis_sl__network_scan(tgis_store *base, tgis_layer layer, const char *network,
                                  tgis_feature_cb cb, void *payload)
{
  sl_store *s = (sl_store *)base;
  const tgis_layer_def *def = tgis_layer__def(layer);
  sqlite3_stmt *stmt = NULL;
  char sql[1024];

  if (layer != TGIS_LAYER_UTILITY_NODES && layer != TGIS_LAYER_UTILITY_LINES)
    return tgis__fail(s->base.ctx, TGIS_EINVAL, "network_scan: %s is not a utility layer",
                      def ? def->table : "(bad layer)");
  if (build_select(sql, sizeof sql, def))
    return tgis__fail(s->base.ctx, TGIS_EINVAL, "statement for %s too long", def->table);
  if (sqlite3_prepare_v2(s->db, sql, -1, &stmt, NULL) != SQLITE_OK)
    return tgis__fail(s->base.ctx, TGIS_EDB, "%s: cannot read %s: %s", s->path, def->table,
                      sqlite3_errmsg(s->db));
  sqlite3_bind_text(stmt, 1, network, -1, SQLITE_STATIC);
  return tgis_sl__emit_rows(s, def, stmt, TGIS_SL_EMIT_REF_IDS, cb, payload);
}
