/*
 * test_store.c -- the SpatiaLite store: creation, schema, migrations, and
 * refusing what is not ours without changing a byte of it.
 */
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>
#include <spatialite.h>

#include "tgis_int.h"
#include "geom.h"
#include "harness.h"

/* ---- helpers ------------------------------------------------------------ */

static char *slurp(const char *path, long *len)
{
  FILE *f = fopen(path, "rb");
  char *buf;
  if (!f)
    return NULL;
  fseek(f, 0, SEEK_END);
  *len = ftell(f);
  fseek(f, 0, SEEK_SET);
  buf = malloc(*len + 1);
  if (buf && fread(buf, 1, *len, f) != (size_t)*len) {
    free(buf);
    buf = NULL;
  }
  fclose(f);
  return buf;
}

static int same_bytes(const char *a_data, long a_len, const char *path)
{
  long len;
  char *now = slurp(path, &len);
  int same = now && len == a_len && memcmp(now, a_data, len) == 0;
  free(now);
  return same;
}

static tgis_status open_path(tgis_ctx **ctx, const char *path, unsigned flags, int srid)
{
  tgis_options o = TGIS_OPTIONS_INIT;
  o.flags = flags;
  o.srid = srid;
  return tgis_open(ctx, path, &o);
}

/* A new tgis database at the scratch path `name`; 0 on success. */
static int fresh_db(char *path, size_t n, const char *name)
{
  tgis_ctx *ctx = NULL;
  tgis_status st;
  harness_path(path, n, name);
  st = open_path(&ctx, path, TGIS_OPEN_CREATE, 0);
  if (st != TGIS_OK)
    fprintf(stderr, "%s: %s\n", name, ctx ? tgis_errmsg(ctx) : "out of memory");
  tgis_close(ctx);
  return st == TGIS_OK ? 0 : -1;
}

/* A raw connection with SpatiaLite, to look behind the library's back. */
typedef struct raw_db {
  sqlite3 *db;
  void *cache;
} raw_db;

static int raw_open(raw_db *r, const char *path)
{
  r->cache = NULL;
  if (sqlite3_open(path, &r->db) != SQLITE_OK)
    return -1;
  r->cache = spatialite_alloc_connection();
  spatialite_init_ex(r->db, r->cache, 0);
  return 0;
}

static void raw_close(raw_db *r)
{
  sqlite3_close(r->db);
  spatialite_cleanup_ex(r->cache);
}

static long long raw_int(raw_db *r, const char *sql)
{
  sqlite3_stmt *s;
  long long v = -12345;
  if (sqlite3_prepare_v2(r->db, sql, -1, &s, NULL) == SQLITE_OK &&
      sqlite3_step(s) == SQLITE_ROW)
    v = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  return v;
}

static void raw_text(raw_db *r, const char *sql, char *out, size_t n)
{
  sqlite3_stmt *s;
  out[0] = '\0';
  if (sqlite3_prepare_v2(r->db, sql, -1, &s, NULL) == SQLITE_OK &&
      sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
    snprintf(out, n, "%s", (const char *)sqlite3_column_text(s, 0));
  sqlite3_finalize(s);
}

static int raw_exec(raw_db *r, const char *sql)
{
  return sqlite3_exec(r->db, sql, NULL, NULL, NULL);
}

/* ---- tests -------------------------------------------------------------- */

static void test_store__create_gives_current_schema_in_utm42n(void)
{
  char path[512], text[64];
  tgis_ctx *ctx = NULL;
  tgis_db_info info;
  int version;
  raw_db r;

  harness_path(path, sizeof path, "new.sqlite");
  ASSERT_OK_CTX(ctx, open_path(&ctx, path, TGIS_OPEN_CREATE, 0));
  ASSERT_OK_CTX(ctx, tgis_schema_version(&version, ctx));
  ASSERT_EQ(version, TGIS_SCHEMA_VERSION);
  ASSERT_OK_CTX(ctx, tgis_db_info_get(&info, ctx));
  ASSERT_EQ(info.srid, 32642);
  ASSERT_CONTAINS(info.crs_name, "UTM zone 42N");
  ASSERT_STR_EQ(info.backend, "spatialite");
  for (int i = 0; i < TGIS_LAYER_COUNT; i++) {
    tgis_layer_info li;
    ASSERT_OK_CTX(ctx, tgis_layer_info_get(&li, ctx, (tgis_layer)i));
    ASSERT_EQ(li.count, 0);
    ASSERT_EQ(li.has_extent, 0);
  }
  tgis_close(ctx);

  ASSERT_EQ(raw_open(&r, path), 0);
  raw_text(&r, "PRAGMA journal_mode", text, sizeof text);
  ASSERT_STR_EQ(text, "wal");
  ASSERT_EQ(raw_int(&r, "PRAGMA application_id"), 0x54474953);
  /* Every layer is registered with its type and SRID and has an R-tree. */
  ASSERT_EQ(raw_int(&r, "SELECT count(*) FROM geometry_columns WHERE srid = 32642 "
                        "AND spatial_index_enabled = 1"), TGIS_LAYER_COUNT);
  ASSERT_EQ(raw_int(&r, "SELECT geometry_type FROM geometry_columns "
                        "WHERE f_table_name = 'parcels'"), 6);  /* MULTIPOLYGON */
  ASSERT_EQ(raw_int(&r, "SELECT count(*) FROM sqlite_master WHERE name = 'idx_roads_geom'"), 1);
  ASSERT_EQ(raw_int(&r, "SELECT count(*) FROM sqlite_master WHERE name = 'parcel_owners'"), 1);
  ASSERT_EQ(raw_int(&r, "SELECT count(*) FROM sqlite_master WHERE name = 'change_log'"), 1);
  raw_close(&r);
}

static void test_store__constraints_guard_the_layers(void)
{
  char path[512];
  raw_db r;

  ASSERT_EQ(fresh_db(path, sizeof path, "constraints.sqlite"), 0);
  ASSERT_EQ(raw_open(&r, path), 0);
  raw_exec(&r, "PRAGMA foreign_keys = ON");
  ASSERT_EQ(raw_exec(&r, "INSERT INTO parcels(cadastre, land_use, geom) VALUES "
      "('10:03:07:01:03:0012', 'residential', "
      "CastToMultiPolygon(GeomFromText('POLYGON((0 0,10 0,10 10,0 10,0 0))', 32642)))"),
      SQLITE_OK);
  /* Duplicate cadastre number, unknown land use, negative residents,
   * wrong geometry type, wrong SRID, a PINFL of the wrong length. */
  ASSERT(raw_exec(&r, "INSERT INTO parcels(cadastre, land_use, geom) VALUES "
      "('10:03:07:01:03:0012', 'residential', "
      "CastToMultiPolygon(GeomFromText('POLYGON((0 0,1 0,1 1,0 0))', 32642)))") != SQLITE_OK);
  ASSERT(raw_exec(&r, "INSERT INTO parcels(cadastre, land_use, geom) VALUES "
      "('10:03:07:01:03:0013', 'castle', "
      "CastToMultiPolygon(GeomFromText('POLYGON((0 0,1 0,1 1,0 0))', 32642)))") != SQLITE_OK);
  ASSERT(raw_exec(&r, "INSERT INTO parcels(cadastre, land_use, residents, geom) VALUES "
      "('10:03:07:01:03:0014', 'residential', -3, "
      "CastToMultiPolygon(GeomFromText('POLYGON((0 0,1 0,1 1,0 0))', 32642)))") != SQLITE_OK);
  ASSERT(raw_exec(&r, "INSERT INTO parcels(cadastre, land_use, geom) VALUES "
      "('10:03:07:01:03:0015', 'residential', GeomFromText('POINT(1 1)', 32642))") != SQLITE_OK);
  ASSERT(raw_exec(&r, "INSERT INTO parcels(cadastre, land_use, geom) VALUES "
      "('10:03:07:01:03:0016', 'residential', "
      "CastToMultiPolygon(GeomFromText('POLYGON((0 0,1 0,1 1,0 0))', 4326)))") != SQLITE_OK);
  ASSERT(raw_exec(&r, "INSERT INTO parcel_owners(parcel_id, pinfl) VALUES (1, '123')") != SQLITE_OK);
  ASSERT_EQ(raw_exec(&r, "INSERT INTO parcel_owners(parcel_id, pinfl) VALUES "
                         "(1, '31210932040247')"), SQLITE_OK);
  ASSERT_EQ(raw_int(&r, "SELECT count(*) FROM parcels"), 1);
  raw_close(&r);
}

static void test_store__layer_info_counts_and_extent(void)
{
  char path[512];
  tgis_ctx *ctx = NULL;
  tgis_layer_info li;
  raw_db r;

  ASSERT_EQ(fresh_db(path, sizeof path, "extent.sqlite"), 0);
  ASSERT_EQ(raw_open(&r, path), 0);
  ASSERT_EQ(raw_exec(&r,
      "INSERT INTO roads(ext_id, class, geom) VALUES "
      "('a', 'primary', GeomFromText('LINESTRING(500000 4570000, 500100 4570050)', 32642)),"
      "('b', 'residential', GeomFromText('LINESTRING(499000 4571000, 499500 4572000)', 32642))"),
      SQLITE_OK);
  raw_close(&r);

  ASSERT_OK_CTX(ctx, open_path(&ctx, path, TGIS_OPEN_READONLY, 0));
  ASSERT_OK_CTX(ctx, tgis_layer_info_get(&li, ctx, TGIS_LAYER_ROADS));
  ASSERT_EQ(li.count, 2);
  ASSERT(li.has_extent);
  ASSERT_STR_EQ(li.geometry_type, "LINESTRING");
  /* The R-tree keeps float32 boxes: within a metre at UTM magnitudes. */
  ASSERT_NEAR(li.extent.minx, 499000, 1.0);
  ASSERT_NEAR(li.extent.miny, 4570000, 1.0);
  ASSERT_NEAR(li.extent.maxx, 500100, 1.0);
  ASSERT_NEAR(li.extent.maxy, 4572000, 1.0);
  ASSERT_EQ(tgis_layer_info_get(&li, ctx, TGIS_LAYER_COUNT), TGIS_EINVAL);
  tgis_close(ctx);
}

static void test_store__other_srid_and_bad_srids(void)
{
  char path[512];
  tgis_ctx *ctx = NULL;
  tgis_db_info info;

  harness_path(path, sizeof path, "utm43.sqlite");
  ASSERT_OK_CTX(ctx, open_path(&ctx, path, TGIS_OPEN_CREATE, 32643));
  ASSERT_OK_CTX(ctx, tgis_db_info_get(&info, ctx));
  ASSERT_EQ(info.srid, 32643);
  tgis_close(ctx);

  /* Geographic degrees are no metric CRS; nothing is left behind. */
  harness_path(path, sizeof path, "wgs84.sqlite");
  ASSERT_EQ(open_path(&ctx, path, TGIS_OPEN_CREATE, 4326), TGIS_EINVAL);
  ASSERT_CONTAINS(tgis_errmsg(ctx), "not a projected CRS");
  ASSERT_CONTAINS(tgis_errmsg(ctx), "wgs84.sqlite");
  tgis_close(ctx);
  ASSERT(access(path, F_OK) != 0);

  harness_path(path, sizeof path, "nosuchcrs.sqlite");
  ASSERT_EQ(open_path(&ctx, path, TGIS_OPEN_CREATE, 999999), TGIS_EPROJ);
  ASSERT_CONTAINS(tgis_errmsg(ctx), "EPSG:999999");
  tgis_close(ctx);
  ASSERT(access(path, F_OK) != 0);
}

static void test_store__missing_file_is_not_created_unasked(void)
{
  char path[512];
  tgis_ctx *ctx = NULL;
  harness_path(path, sizeof path, "missing.sqlite");
  ASSERT_EQ(open_path(&ctx, path, 0, 0), TGIS_ENOTFOUND);
  ASSERT_CONTAINS(tgis_errmsg(ctx), "missing.sqlite: no such database");
  tgis_close(ctx);
  ASSERT_EQ(open_path(&ctx, path, TGIS_OPEN_READONLY, 0), TGIS_ENOTFOUND);
  tgis_close(ctx);
  ASSERT(access(path, F_OK) != 0);
}

static void test_store__text_file_is_refused_untouched(void)
{
  char path[512];
  const char text[] = "parcel,residents\n10:03:07:01:03:0012,5\n"
                      "this is a CSV file, not a database, padded to look "
                      "like it might hold a header page of some kind......\n";
  tgis_ctx *ctx = NULL;
  FILE *f;

  harness_path(path, sizeof path, "notadb.csv");
  f = fopen(path, "wb");
  ASSERT(f != NULL);
  fwrite(text, 1, sizeof text - 1, f);
  fclose(f);
  ASSERT_EQ(open_path(&ctx, path, TGIS_OPEN_CREATE, 0), TGIS_EDB);
  ASSERT_CONTAINS(tgis_errmsg(ctx), "notadb.csv: file is not a database");
  tgis_close(ctx);
  ASSERT(same_bytes(text, sizeof text - 1, path));
}

static void test_store__another_programs_database_is_refused_untouched(void)
{
  char path[512], wal[520];
  tgis_ctx *ctx = NULL;
  char *before;
  long len;
  raw_db r;

  harness_path(path, sizeof path, "other.sqlite");
  ASSERT_EQ(raw_open(&r, path), 0);
  ASSERT_EQ(raw_exec(&r, "CREATE TABLE invoices(id INTEGER PRIMARY KEY, total REAL);"
                         "INSERT INTO invoices(total) VALUES (12.5)"), SQLITE_OK);
  raw_close(&r);
  before = slurp(path, &len);
  ASSERT(before != NULL);
  ASSERT_EQ(open_path(&ctx, path, TGIS_OPEN_CREATE, 0), TGIS_ESCHEMA);
  ASSERT_CONTAINS(tgis_errmsg(ctx), "not a tgis database");
  ASSERT_CONTAINS(tgis_errmsg(ctx), "1 tables");
  tgis_close(ctx);
  ASSERT_EQ(open_path(&ctx, path, TGIS_OPEN_READONLY, 0), TGIS_ESCHEMA);
  tgis_close(ctx);
  ASSERT(same_bytes(before, len, path));
  snprintf(wal, sizeof wal, "%s-wal", path);
  ASSERT(access(wal, F_OK) != 0);
  free(before);
}

static void test_store__empty_file_needs_create(void)
{
  char path[512];
  tgis_ctx *ctx = NULL;
  FILE *f;

  harness_path(path, sizeof path, "empty.sqlite");
  f = fopen(path, "wb");
  ASSERT(f != NULL);
  fclose(f);
  ASSERT_EQ(open_path(&ctx, path, 0, 0), TGIS_ESCHEMA);
  ASSERT_CONTAINS(tgis_errmsg(ctx), "empty database");
  tgis_close(ctx);
  ASSERT_OK_CTX(ctx, open_path(&ctx, path, TGIS_OPEN_CREATE, 0));
  tgis_close(ctx);
}

static void test_store__read_only_file_is_not_written(void)
{
  char path[512];
  tgis_ctx *ctx = NULL;
  tgis_layer_info li;
  char *before;
  long len;

  ASSERT_EQ(fresh_db(path, sizeof path, "readonly.sqlite"), 0);
  ASSERT_EQ(chmod(path, 0444), 0);
  before = slurp(path, &len);
  ASSERT(before != NULL);

  ASSERT_EQ(open_path(&ctx, path, 0, 0), TGIS_EREADONLY);
  ASSERT_CONTAINS(tgis_errmsg(ctx), "readonly.sqlite: file is read-only");
  tgis_close(ctx);

  ASSERT_OK_CTX(ctx, open_path(&ctx, path, TGIS_OPEN_READONLY, 0));
  ASSERT_OK_CTX(ctx, tgis_layer_info_get(&li, ctx, TGIS_LAYER_PARCELS));
  ASSERT_EQ(tgis_store_begin(tgis__store(ctx)), TGIS_EREADONLY);
  tgis_close(ctx);
  ASSERT(same_bytes(before, len, path));
  free(before);
  chmod(path, 0644);
}

static void test_store__directory_is_refused(void)
{
  tgis_ctx *ctx = NULL;
  ASSERT_EQ(open_path(&ctx, harness_tmpdir(), TGIS_OPEN_CREATE, 0), TGIS_EINVAL);
  ASSERT_CONTAINS(tgis_errmsg(ctx), "is a directory");
  tgis_close(ctx);
}

static void test_store__older_schema_is_migrated_in_place(void)
{
  char path[512];
  tgis_ctx *ctx = NULL;
  tgis_store *st = NULL;
  int version;
  raw_db r;

  harness_path(path, sizeof path, "v1.sqlite");
  ASSERT_OK_CTX(ctx, tgis_open(&ctx, NULL, NULL));
  ASSERT_OK_CTX(ctx, tgis_store__open_spatialite(&st, ctx, path, TGIS_OPEN_CREATE,
                                                 32642, 1));
  tgis_store_close(st);
  tgis_close(ctx);

  ASSERT_EQ(raw_open(&r, path), 0);
  ASSERT_EQ(raw_int(&r, "SELECT value FROM tgis_meta WHERE key = 'schema_version'"), 1);
  ASSERT_EQ(raw_int(&r, "SELECT count(*) FROM sqlite_master WHERE name = 'change_log'"), 0);
  ASSERT_EQ(raw_exec(&r, "INSERT INTO facilities(ext_id, kind, name, capacity, geom) VALUES "
                         "('f1', 'school', 'School No. 1', 900, "
                         "GeomFromText('POINT(500000 4570000)', 32642))"), SQLITE_OK);
  raw_close(&r);

  /* Read-only and no-migrate opens refuse and say how to migrate. */
  ASSERT_EQ(open_path(&ctx, path, TGIS_OPEN_READONLY, 0), TGIS_ESCHEMA);
  ASSERT_CONTAINS(tgis_errmsg(ctx), "schema version 1 is older than 3");
  tgis_close(ctx);
  ASSERT_EQ(open_path(&ctx, path, TGIS_OPEN_NO_MIGRATE, 0), TGIS_ESCHEMA);
  tgis_close(ctx);

  ASSERT_OK_CTX(ctx, open_path(&ctx, path, 0, 0));
  ASSERT_OK_CTX(ctx, tgis_schema_version(&version, ctx));
  ASSERT_EQ(version, TGIS_SCHEMA_VERSION);
  tgis_close(ctx);

  ASSERT_EQ(raw_open(&r, path), 0);
  ASSERT_EQ(raw_int(&r, "SELECT count(*) FROM sqlite_master WHERE name = 'change_log'"), 1);
  ASSERT_EQ(raw_int(&r, "SELECT capacity FROM facilities WHERE ext_id = 'f1'"), 900);
  ASSERT_EQ(raw_int(&r, "SELECT count(*) FROM sqlite_master WHERE name LIKE 'coverage_%'"), 7);
  raw_close(&r);
}

static void test_store__newer_schema_is_refused(void)
{
  char path[512];
  tgis_ctx *ctx = NULL;
  raw_db r;

  ASSERT_EQ(fresh_db(path, sizeof path, "future.sqlite"), 0);
  ASSERT_EQ(raw_open(&r, path), 0);
  ASSERT_EQ(raw_exec(&r, "UPDATE tgis_meta SET value = '99' WHERE key = 'schema_version'"),
            SQLITE_OK);
  raw_close(&r);
  ASSERT_EQ(open_path(&ctx, path, 0, 0), TGIS_ESCHEMA);
  ASSERT_CONTAINS(tgis_errmsg(ctx), "schema version 99 was written by a newer tgis");
  tgis_close(ctx);
}

static void test_store__rollback_leaves_nothing(void)
{
  char path[512];
  tgis_ctx *ctx = NULL;
  tgis_store *st;
  tgis_layer_info li;
  raw_db r;

  harness_path(path, sizeof path, "tx.sqlite");
  ASSERT_OK_CTX(ctx, open_path(&ctx, path, TGIS_OPEN_CREATE, 0));
  st = tgis__store(ctx);
  ASSERT_OK_CTX(ctx, tgis_store_begin(st));
  ASSERT_EQ(tgis_store_begin(st), TGIS_EINVAL);
  ASSERT_CONTAINS(tgis_errmsg(ctx), "already open");

  /* A second writer cannot get in while the transaction is open. */
  ASSERT_EQ(raw_open(&r, path), 0);
  sqlite3_busy_timeout(r.db, 10);
  ASSERT(raw_exec(&r, "INSERT INTO districts(soato, name, geom) VALUES ('1726262', "
                      "'Uchtepa', CastToMultiPolygon(GeomFromText("
                      "'POLYGON((0 0,1 0,1 1,0 0))', 32642)))") != SQLITE_OK);
  raw_close(&r);
  ASSERT_OK_CTX(ctx, tgis_store_rollback(st));
  ASSERT_OK_CTX(ctx, tgis_layer_info_get(&li, ctx, TGIS_LAYER_DISTRICTS));
  ASSERT_EQ(li.count, 0);
  tgis_close(ctx);
}

static void test_store__postgis_uri_is_not_built_yet(void)
{
  tgis_ctx *ctx = NULL;
  ASSERT_EQ(open_path(&ctx, "postgresql://localhost/tgis", 0, 0), TGIS_ENOTSUP);
  ASSERT_CONTAINS(tgis_errmsg(ctx), "PostGIS backend");
  tgis_close(ctx);
  ASSERT_EQ(open_path(&ctx, "", 0, 0), TGIS_EINVAL);
  tgis_close(ctx);
}


/* ---- writing and reading back through the store ------------------------------- */

typedef struct scan_log {
  int n;
  int64_t ids[16];
  char cadastre[16][32];
  int private_null;
  double area[16];
  size_t points[16], polys[16];
  char from_node[16][32];
} scan_log;

static tgis_status on_parcel(const tgis_feature *f, void *payload)
{
  scan_log *l = payload;
  if (l->n >= 16)
    return TGIS_EINVAL;
  l->ids[l->n] = f->id;
  snprintf(l->cadastre[l->n], sizeof l->cadastre[0], "%s", f->values[0].s ? f->values[0].s : "");
  l->private_null += f->values[8].is_null;  /* owner_pinfl */
  l->area[l->n] = tgis_geombuf_area(f->geom);
  l->points[l->n] = f->geom->n_points;
  l->polys[l->n] = f->geom->n_polys;
  l->n++;
  return TGIS_OK;
}

static tgis_status on_line(const tgis_feature *f, void *payload)
{
  scan_log *l = payload;
  snprintf(l->from_node[l->n], sizeof l->from_node[0], "%s", f->values[3].s ? f->values[3].s : "");
  l->points[l->n] = f->geom->n_points;
  l->n++;
  return TGIS_OK;
}

static void square(tgis_geombuf *g, double x, double y, double side, int hole)
{
  tgis_geombuf_add_point(g, x, y);
  tgis_geombuf_add_point(g, x + side, y);
  tgis_geombuf_add_point(g, x + side, y + side);
  tgis_geombuf_add_point(g, x, y + side);
  tgis_geombuf_add_point(g, x, y);
  tgis_geombuf_end_part(g);
  if (hole) {
    tgis_geombuf_add_point(g, x + 1, y + 1);
    tgis_geombuf_add_point(g, x + 1, y + 2);
    tgis_geombuf_add_point(g, x + 2, y + 2);
    tgis_geombuf_add_point(g, x + 2, y + 1);
    tgis_geombuf_add_point(g, x + 1, y + 1);
    tgis_geombuf_end_part(g);
  }
  tgis_geombuf_end_poly(g);
}

static void test_store__rows_written_read_back_exactly(void)
{
  char path[512];
  tgis_ctx *ctx = NULL;
  tgis_store *st;
  tgis_geombuf g;
  tgis_value v[TGIS_MAX_FIELDS];
  tgis_write_result wr;
  tgis_run_desc d = { "test", TGIS_LAYER_PARCELS, "append" };
  tgis_run_counts c = { 0, 0, 0, 0, 0 };
  tgis_extent window = { 500040, 4570000, 500060, 4570100 };
  scan_log log;
  int64_t run;
  const char *cads[3] = { "10:01:01:01:01:0001", "10:01:01:01:01:0002", "10:01:01:01:01:0003" };

  harness_path(path, sizeof path, "scan.sqlite");
  ASSERT_OK_CTX(ctx, open_path(&ctx, path, TGIS_OPEN_CREATE, 0));
  st = tgis__store(ctx);
  tgis_geombuf_init(&g, ctx);
  ASSERT_OK_CTX(ctx, tgis_store_begin(st));
  ASSERT_OK_CTX(ctx, st->vt->run_open(st, &d, &run));
  for (int k = 0; k < 3; k++) {
    memset(v, 0, sizeof v);
    for (int i = 0; i < TGIS_MAX_FIELDS; i++)
      v[i].is_null = 1;
    v[0].is_null = 0; v[0].s = cads[k];          /* cadastre */
    v[2].is_null = 0; v[2].s = "residential";    /* land_use */
    v[3].is_null = 0; v[3].d = 100;              /* area_m2 */
    v[4].is_null = 0; v[4].i = 4;                /* residents */
    v[8].is_null = 0; v[8].s = "31210932040247"; /* owner_pinfl */
    tgis_geombuf_reset(&g, TGIS_GEOM_MULTIPOLYGON);
    square(&g, 500000 + 50 * k, 4570000, 10, k == 1);
    if (k == 2)
      square(&g, 500200, 4570000, 5, 0);         /* a second polygon */
    ASSERT_OK_CTX(ctx, st->vt->row_write(st, TGIS_LAYER_PARCELS, 0, run, v, &g, &wr));
    ASSERT_EQ(wr.outcome, TGIS_WRITE_INSERTED);
  }
  ASSERT_OK_CTX(ctx, st->vt->run_close(st, run, &c, "ok", NULL));
  ASSERT_OK_CTX(ctx, tgis_store_commit(st));

  memset(&log, 0, sizeof log);
  ASSERT_OK_CTX(ctx, st->vt->layer_scan(st, TGIS_LAYER_PARCELS, NULL, on_parcel, &log));
  ASSERT_EQ(log.n, 3);
  ASSERT_STR_EQ(log.cadastre[1], cads[1]);
  ASSERT_EQ(log.private_null, 3);               /* the PINFL is never read back */
  ASSERT_NEAR(log.area[0], 100, 1e-9);
  ASSERT_NEAR(log.area[1], 99, 1e-9);           /* the hole */
  ASSERT_NEAR(log.area[2], 125, 1e-9);
  ASSERT_EQ(log.points[1], 10);
  ASSERT_EQ(log.polys[2], 2);

  /* The window meets only the second parcel (x 500050..500060). */
  memset(&log, 0, sizeof log);
  ASSERT_OK_CTX(ctx, st->vt->layer_scan(st, TGIS_LAYER_PARCELS, &window, on_parcel, &log));
  ASSERT_EQ(log.n, 1);
  ASSERT_STR_EQ(log.cadastre[0], cads[1]);
  /* The owner went to parcel_owners, out of the parcels table. */
  tgis_geombuf_free(&g);
  tgis_close(ctx);
  {
    raw_db r;
    ASSERT_EQ(raw_open(&r, path), 0);
    ASSERT_EQ(raw_int(&r, "SELECT count(*) FROM parcel_owners"), 3);
    ASSERT_EQ(raw_int(&r, "SELECT ST_IsValid(geom) FROM parcels WHERE cadastre = "
                          "'10:01:01:01:01:0002'"), 1);
    ASSERT_EQ(raw_int(&r, "SELECT ST_NumGeometries(geom) FROM parcels WHERE cadastre = "
                          "'10:01:01:01:01:0003'"), 2);
    raw_close(&r);
  }
}

static void test_store__node_references_resolve_both_ways(void)
{
  char path[512];
  tgis_ctx *ctx = NULL;
  tgis_store *st;
  tgis_geombuf g;
  tgis_value v[TGIS_MAX_FIELDS];
  tgis_write_result wr;
  tgis_run_desc d = { "test", TGIS_LAYER_UTILITY_NODES, "append" };
  scan_log log;
  int64_t run;

  harness_path(path, sizeof path, "nodes.sqlite");
  ASSERT_OK_CTX(ctx, open_path(&ctx, path, TGIS_OPEN_CREATE, 0));
  st = tgis__store(ctx);
  tgis_geombuf_init(&g, ctx);
  ASSERT_OK_CTX(ctx, tgis_store_begin(st));
  ASSERT_OK_CTX(ctx, st->vt->run_open(st, &d, &run));
  for (int k = 0; k < 2; k++) {
    memset(v, 0, sizeof v);
    v[0].s = k ? "w-2" : "w-1";
    v[1].s = "water";
    v[2].s = k ? "valve" : "source";
    v[3].is_null = 1;
    tgis_geombuf_reset(&g, TGIS_GEOM_POINT);
    tgis_geombuf_add_point(&g, 500000 + 100 * k, 4570000);
    ASSERT_OK_CTX(ctx, st->vt->row_write(st, TGIS_LAYER_UTILITY_NODES, 0, run, v, &g, &wr));
  }
  memset(v, 0, sizeof v);
  v[0].s = "l-1"; v[1].s = "water"; v[2].s = "main";
  v[3].s = "w-1"; v[4].s = "w-9";                /* the second node does not exist */
  v[5].d = 300; v[6].is_null = 1;
  tgis_geombuf_reset(&g, TGIS_GEOM_LINESTRING);
  tgis_geombuf_add_point(&g, 500000, 4570000);
  tgis_geombuf_add_point(&g, 500100, 4570000);
  tgis_geombuf_end_part(&g);
  ASSERT_OK_CTX(ctx, st->vt->row_write(st, TGIS_LAYER_UTILITY_LINES, 0, run, v, &g, &wr));
  ASSERT_EQ(wr.outcome, TGIS_WRITE_INSERTED);
  ASSERT_EQ(wr.unresolved, 1u << 4);             /* to_node */
  ASSERT_OK_CTX(ctx, tgis_store_commit(st));
  memset(&log, 0, sizeof log);
  ASSERT_OK_CTX(ctx, st->vt->layer_scan(st, TGIS_LAYER_UTILITY_LINES, NULL, on_line, &log));
  ASSERT_EQ(log.n, 1);
  ASSERT_STR_EQ(log.from_node[0], "w-1");
  ASSERT_EQ(log.points[0], 2);
  tgis_geombuf_free(&g);
  tgis_close(ctx);
}

int main(void)
{
  RUN(test_store__create_gives_current_schema_in_utm42n);
  RUN(test_store__constraints_guard_the_layers);
  RUN(test_store__layer_info_counts_and_extent);
  RUN(test_store__other_srid_and_bad_srids);
  RUN(test_store__missing_file_is_not_created_unasked);
  RUN(test_store__text_file_is_refused_untouched);
  RUN(test_store__another_programs_database_is_refused_untouched);
  RUN(test_store__empty_file_needs_create);
  RUN(test_store__read_only_file_is_not_written);
  RUN(test_store__directory_is_refused);
  RUN(test_store__older_schema_is_migrated_in_place);
  RUN(test_store__newer_schema_is_refused);
  RUN(test_store__rollback_leaves_nothing);
  RUN(test_store__postgis_uri_is_not_built_yet);
  RUN(test_store__rows_written_read_back_exactly);
  RUN(test_store__node_references_resolve_both_ways);
  spatialite_shutdown();
  return harness_report();
}
