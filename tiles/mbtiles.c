/*
 * mbtiles.c -- reading and writing MBTiles 1.3 with SQLite.
 */
#include <string.h>

#include <sqlite3.h>

#include "tgis_int.h"
#include "mbtiles.h"

struct tgis_mbtiles {
  tgis_ctx *ctx;
  sqlite3 *db;
  sqlite3_stmt *put, *get;
  char path[512];
};

static tgis_status db_fail(tgis_mbtiles *m, const char *what)
{
  return tgis__fail(m->ctx, TGIS_EIO, "%s: %s: %s", m->path, what, sqlite3_errmsg(m->db));
}

static const char schema[] =
  "CREATE TABLE IF NOT EXISTS metadata (name TEXT PRIMARY KEY, value TEXT);"
  "CREATE TABLE IF NOT EXISTS tiles (zoom_level INTEGER, tile_column INTEGER,"
  " tile_row INTEGER, tile_data BLOB);"
  "CREATE UNIQUE INDEX IF NOT EXISTS tile_index ON tiles (zoom_level, tile_column, tile_row);";

tgis_status tgis_mbtiles_open(tgis_mbtiles **out, tgis_ctx *ctx, const char *path, int writable)
{
  tgis_mbtiles *m;
  tgis_status st = TGIS_OK;
  int flags = writable ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READONLY;

  *out = NULL;
  if (!(m = tgis__calloc(ctx, 1, sizeof *m)))
    return TGIS_ENOMEM;
  m->ctx = ctx;
  tgis__strlcpy(m->path, path, sizeof m->path);
  if (sqlite3_open_v2(path, &m->db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
    st = m->db ? db_fail(m, "cannot open")
               : tgis__fail(ctx, TGIS_EIO, "%s: cannot open", path);
    goto fail;
  }
  sqlite3_busy_timeout(m->db, 5000);
  if (writable && sqlite3_exec(m->db, schema, NULL, NULL, NULL) != SQLITE_OK) {
    st = db_fail(m, "cannot create the MBTiles tables");
    goto fail;
  }
  if (sqlite3_prepare_v2(m->db,
                         "SELECT tile_data FROM tiles WHERE zoom_level = ?1 AND tile_column = ?2"
                         " AND tile_row = ?3", -1, &m->get, NULL) != SQLITE_OK) {
    st = tgis__fail(ctx, TGIS_EPARSE, "%s: not an MBTiles file (%s)", path, sqlite3_errmsg(m->db));
    goto fail;
  }
  if (writable && sqlite3_prepare_v2(m->db,
                                     "INSERT OR REPLACE INTO tiles (zoom_level, tile_column,"
                                     " tile_row, tile_data) VALUES (?1, ?2, ?3, ?4)",
                                     -1, &m->put, NULL) != SQLITE_OK) {
    st = db_fail(m, "cannot prepare");
    goto fail;
  }
  *out = m;
  return TGIS_OK;
fail:
  tgis_mbtiles_close(m);
  return st;
}

void tgis_mbtiles_close(tgis_mbtiles *m)
{
  if (!m)
    return;
  sqlite3_finalize(m->put);
  sqlite3_finalize(m->get);
  if (m->db && !sqlite3_get_autocommit(m->db))
    sqlite3_exec(m->db, "ROLLBACK", NULL, NULL, NULL);
  sqlite3_close(m->db);
  tgis__free(m->ctx, m);
}

tgis_status tgis_mbtiles_meta_set(tgis_mbtiles *m, const char *name, const char *value)
{
  sqlite3_stmt *s;
  int rc;
  if (sqlite3_prepare_v2(m->db, "INSERT OR REPLACE INTO metadata (name, value) VALUES (?1, ?2)",
                         -1, &s, NULL) != SQLITE_OK)
    return db_fail(m, "metadata");
  sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 2, value, -1, SQLITE_STATIC);
  rc = sqlite3_step(s);
  sqlite3_finalize(s);
  return rc == SQLITE_DONE ? TGIS_OK : db_fail(m, "metadata");
}

tgis_status tgis_mbtiles_meta_get(tgis_mbtiles *m, const char *name, char *buf, size_t len)
{
  sqlite3_stmt *s;
  tgis_status st = TGIS_ENOTFOUND;
  if (sqlite3_prepare_v2(m->db, "SELECT value FROM metadata WHERE name = ?1", -1, &s, NULL)
      != SQLITE_OK)
    return db_fail(m, "metadata");
  sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
  if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0)) {
    tgis__strlcpy(buf, (const char *)sqlite3_column_text(s, 0), len);
    st = TGIS_OK;
  }
  sqlite3_finalize(s);
  return st;
}

tgis_status tgis_mbtiles_begin(tgis_mbtiles *m)
{
  return sqlite3_exec(m->db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK ? TGIS_OK
                                                                      : db_fail(m, "begin");
}

tgis_status tgis_mbtiles_commit(tgis_mbtiles *m)
{
  return sqlite3_exec(m->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK ? TGIS_OK
                                                                       : db_fail(m, "commit");
}

tgis_status tgis_mbtiles_put(tgis_mbtiles *m, int z, int x, int y, const void *data, size_t len)
{
  int rc;
  sqlite3_bind_int(m->put, 1, z);
  sqlite3_bind_int(m->put, 2, x);
  sqlite3_bind_int(m->put, 3, (1 << z) - 1 - y);
  sqlite3_bind_blob(m->put, 4, data, (int)len, SQLITE_STATIC);
  rc = sqlite3_step(m->put);
  sqlite3_reset(m->put);
  return rc == SQLITE_DONE ? TGIS_OK : db_fail(m, "cannot store a tile");
}

tgis_status tgis_mbtiles_get(tgis_mbtiles *m, int z, int x, int y, unsigned char **data,
                             size_t *len)
{
  tgis_status st = TGIS_ENOTFOUND;
  int rc;
  *data = NULL;
  *len = 0;
  if (z < 0 || z > 30)
    return TGIS_ENOTFOUND;
  sqlite3_bind_int(m->get, 1, z);
  sqlite3_bind_int(m->get, 2, x);
  sqlite3_bind_int(m->get, 3, (1 << z) - 1 - y);
  rc = sqlite3_step(m->get);
  if (rc == SQLITE_ROW) {
    int n = sqlite3_column_bytes(m->get, 0);
    const void *b = sqlite3_column_blob(m->get, 0);
    if (!(*data = tgis__malloc(m->ctx, n > 0 ? (size_t)n : 1)))
      st = TGIS_ENOMEM;
    else {
      if (n > 0)
        memcpy(*data, b, (size_t)n);
      *len = (size_t)n;
      st = TGIS_OK;
    }
  } else if (rc != SQLITE_DONE)
    st = db_fail(m, "cannot read a tile");
  sqlite3_reset(m->get);
  return st;
}

tgis_status tgis_mbtiles_each(tgis_mbtiles *m, int z0, int z1,
                              void (*cb)(int z, int x, int y, void *payload), void *payload)
{
  sqlite3_stmt *s;
  int rc;
  if (sqlite3_prepare_v2(m->db, "SELECT zoom_level, tile_column, tile_row FROM tiles"
                                " WHERE zoom_level BETWEEN ?1 AND ?2", -1, &s, NULL) != SQLITE_OK)
    return db_fail(m, "cannot list tiles");
  sqlite3_bind_int(s, 1, z0);
  sqlite3_bind_int(s, 2, z1);
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    int z = sqlite3_column_int(s, 0);
    cb(z, sqlite3_column_int(s, 1), (1 << z) - 1 - sqlite3_column_int(s, 2), payload);
  }
  sqlite3_finalize(s);
  return rc == SQLITE_DONE ? TGIS_OK : db_fail(m, "cannot list tiles");
}
