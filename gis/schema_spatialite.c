/*
 * schema_spatialite.c -- the tgis schema for SpatiaLite, as numbered
 * migrations.
 *
 * Each migration is literal SQL that never changes once released; a new
 * version of the schema is a new migration appended to the list, so every
 * database, however old, reaches the current schema by the same steps. The
 * caller runs them inside one transaction: a migration that fails leaves the
 * database as it was. Geometry columns take the database's metric SRID
 * through the bound parameter :srid.
 *
 * Personal data: owners' PINFL live only in parcel_owners, which no tile,
 * report or log query reads.
 */
#include <stdio.h>
#include <string.h>

#include "schema_spatialite_int.h"

typedef struct migration {
  int version;
  const char *what;
  const char *const *sql;   /* statements, NULL-terminated */
} migration;

static const char *const migration_1[] = {
  /* Key/value facts about the database: schema_version, srid, created_by. */
  "CREATE TABLE tgis_meta ("
  "  key   TEXT PRIMARY KEY,"
  "  value TEXT NOT NULL)",

  "CREATE TABLE import_runs ("
  "  id            INTEGER PRIMARY KEY,"
  "  source        TEXT NOT NULL,"
  "  layer         TEXT,"
  "  mode          TEXT NOT NULL CHECK (mode IN ('append','upsert','replace')),"
  "  started_at    TEXT NOT NULL,"
  "  finished_at   TEXT,"
  "  features_read INTEGER NOT NULL DEFAULT 0,"
  "  inserted      INTEGER NOT NULL DEFAULT 0,"
  "  updated       INTEGER NOT NULL DEFAULT 0,"
  "  repaired      INTEGER NOT NULL DEFAULT 0,"
  "  rejected      INTEGER NOT NULL DEFAULT 0,"
  "  status        TEXT NOT NULL"
  "                CHECK (status IN ('running','ok','failed','cancelled')),"
  "  message       TEXT)",

  /* One row per feature an import rejected or repaired, with the reason. */
  "CREATE TABLE import_rejects ("
  "  id         INTEGER PRIMARY KEY,"
  "  run_id     INTEGER NOT NULL REFERENCES import_runs(id) ON DELETE CASCADE,"
  "  layer      TEXT NOT NULL,"
  "  source_fid INTEGER,"
  "  action     TEXT NOT NULL CHECK (action IN ('rejected','repaired','warning')),"
  "  field      TEXT,"
  "  reason     TEXT NOT NULL)",

  "CREATE TABLE districts ("
  "  id      INTEGER PRIMARY KEY,"
  "  soato   TEXT NOT NULL UNIQUE,"
  "  name    TEXT NOT NULL,"
  "  name_ru TEXT,"
  "  import_run INTEGER REFERENCES import_runs(id))",
  "SELECT AddGeometryColumn('districts', 'geom', :srid, 'MULTIPOLYGON', 'XY', 1)",
  "SELECT CreateSpatialIndex('districts', 'geom')",

  "CREATE TABLE parcels ("
  "  id           INTEGER PRIMARY KEY,"
  "  cadastre     TEXT UNIQUE,"     /* NULL only for parcels from other sources */
  "  ext_id       TEXT UNIQUE,"     /* the source's id where no cadastre exists */
  "  land_use     TEXT NOT NULL CHECK (land_use IN ('residential','multifamily',"
  "               'commercial','industrial','public','green','other')),"
  "  area_m2      REAL NOT NULL DEFAULT 0 CHECK (area_m2 >= 0),"
  "  residents    INTEGER NOT NULL DEFAULT 0 CHECK (residents >= 0),"
  "  district     TEXT,"            /* SOATO code of the district */
  "  address_code TEXT,"            /* SOATO code of the address */
  "  owner_tin    TEXT,"            /* legal-entity owner */
  "  import_run   INTEGER REFERENCES import_runs(id),"
  "  CHECK (cadastre IS NOT NULL OR ext_id IS NOT NULL))",
  "SELECT AddGeometryColumn('parcels', 'geom', :srid, 'MULTIPOLYGON', 'XY', 1)",
  "SELECT CreateSpatialIndex('parcels', 'geom')",
  "CREATE INDEX parcels_district ON parcels(district)",

  /* Personal data, kept apart: no tile, report or log reads this table. */
  "CREATE TABLE parcel_owners ("
  "  parcel_id INTEGER PRIMARY KEY REFERENCES parcels(id) ON DELETE CASCADE,"
  "  pinfl     TEXT NOT NULL CHECK (length(pinfl) = 14))",

  "CREATE TABLE roads ("
  "  id         INTEGER PRIMARY KEY,"
  "  ext_id     TEXT UNIQUE,"
  "  class      TEXT NOT NULL,"
  "  name       TEXT,"
  "  oneway     INTEGER NOT NULL DEFAULT 0 CHECK (oneway IN (-1, 0, 1)),"
  "  maxspeed   REAL CHECK (maxspeed > 0),"
  "  level      INTEGER NOT NULL DEFAULT 0,"
  "  import_run INTEGER REFERENCES import_runs(id))",
  "SELECT AddGeometryColumn('roads', 'geom', :srid, 'LINESTRING', 'XY', 1)",
  "SELECT CreateSpatialIndex('roads', 'geom')",

  "CREATE TABLE utility_nodes ("
  "  id         INTEGER PRIMARY KEY,"
  "  ext_id     TEXT NOT NULL,"
  "  network    TEXT NOT NULL CHECK (network IN ('gas','power','water','heat')),"
  "  kind       TEXT NOT NULL CHECK (kind IN ('source','junction','valve',"
  "             'switch','substation','consumer')),"
  "  name       TEXT,"
  "  import_run INTEGER REFERENCES import_runs(id),"
  "  UNIQUE (network, ext_id))",
  "SELECT AddGeometryColumn('utility_nodes', 'geom', :srid, 'POINT', 'XY', 1)",
  "SELECT CreateSpatialIndex('utility_nodes', 'geom')",

  "CREATE TABLE utility_lines ("
  "  id          INTEGER PRIMARY KEY,"
  "  ext_id      TEXT NOT NULL,"
  "  network     TEXT NOT NULL CHECK (network IN ('gas','power','water','heat')),"
  "  kind        TEXT NOT NULL DEFAULT 'main' CHECK (kind IN ('main','service')),"
  "  from_node   INTEGER REFERENCES utility_nodes(id),"
  "  to_node     INTEGER REFERENCES utility_nodes(id),"
  "  diameter_mm REAL,"
  "  voltage_kv  REAL,"
  "  import_run  INTEGER REFERENCES import_runs(id),"
  "  UNIQUE (network, ext_id))",
  "SELECT AddGeometryColumn('utility_lines', 'geom', :srid, 'LINESTRING', 'XY', 1)",
  "SELECT CreateSpatialIndex('utility_lines', 'geom')",
  "CREATE INDEX utility_lines_from ON utility_lines(from_node)",
  "CREATE INDEX utility_lines_to ON utility_lines(to_node)",

  "CREATE TABLE facilities ("
  "  id           INTEGER PRIMARY KEY,"
  "  ext_id       TEXT UNIQUE,"
  "  kind         TEXT NOT NULL CHECK (kind IN ('polyclinic','school')),"
  "  name         TEXT NOT NULL,"
  "  capacity     INTEGER CHECK (capacity >= 0),"
  "  address_code TEXT,"
  "  import_run   INTEGER REFERENCES import_runs(id))",
  "SELECT AddGeometryColumn('facilities', 'geom', :srid, 'POINT', 'XY', 1)",
  "SELECT CreateSpatialIndex('facilities', 'geom')",
  "CREATE INDEX facilities_kind ON facilities(kind)",
  NULL,
};

static const char *const migration_2[] = {
  /* The boxes each committed import changed, so a tile server can drop
   * exactly the cached tiles they touch. */
  "CREATE TABLE change_log ("
  "  id         INTEGER PRIMARY KEY,"
  "  run_id     INTEGER REFERENCES import_runs(id) ON DELETE CASCADE,"
  "  layer      TEXT NOT NULL,"
  "  minx REAL NOT NULL, miny REAL NOT NULL,"
  "  maxx REAL NOT NULL, maxy REAL NOT NULL,"
  "  changed_at TEXT NOT NULL)",
  "CREATE INDEX import_rejects_run ON import_rejects(run_id)",
  NULL,
};

static const char *const migration_3[] = {
  /* Coverage analytics (docs/coverage.md): one row per run with its
   * parameters and headline numbers, and the run's results per parcel,
   * district, facility and suggested site, deleted with the run. Plain
   * SQL types and no SpatiaLite function, so a PostGIS backend keeps the
   * same tables; result rows carry ids, not geometry (the coverage theme
   * joins parcels). Parcel and facility ids are not foreign keys: a run is
   * a snapshot, kept when the layers change. NULL means "no value"
   * (unreachable, not snapped, unknown). */
  "CREATE TABLE coverage_runs ("
  "  id            INTEGER PRIMARY KEY,"
  "  facility_kind TEXT NOT NULL,"
  "  mode          TEXT NOT NULL CHECK (mode IN ('walk','drive')),"
  "  method        TEXT NOT NULL CHECK (method IN ('network','radius')),"
  "  minutes       REAL NOT NULL CHECK (minutes > 0),"
  "  radius_m      REAL,"                  /* radius method only */
  "  walk_kmh      REAL NOT NULL,"
  "  max_snap_m    REAL NOT NULL,"
  "  created_at    TEXT NOT NULL,"
  "  parcels               INTEGER NOT NULL DEFAULT 0,"
  "  residents             INTEGER NOT NULL DEFAULT 0,"
  "  covered_parcels       INTEGER NOT NULL DEFAULT 0,"
  "  covered_residents     INTEGER NOT NULL DEFAULT 0,"
  "  covered_share         REAL,"
  "  unreachable_parcels   INTEGER NOT NULL DEFAULT 0,"
  "  unreachable_residents INTEGER NOT NULL DEFAULT 0,"
  "  unsnapped_parcels     INTEGER NOT NULL DEFAULT 0,"
  "  facilities            INTEGER NOT NULL DEFAULT 0,"
  "  facilities_unsnapped  INTEGER NOT NULL DEFAULT 0,"
  "  facilities_overloaded INTEGER NOT NULL DEFAULT 0,"
  "  network_nodes         INTEGER NOT NULL DEFAULT 0,"
  "  network_edges         INTEGER NOT NULL DEFAULT 0,"
  "  components            INTEGER NOT NULL DEFAULT 0,"
  "  off_main_parcels      INTEGER NOT NULL DEFAULT 0,"
  "  e2sfca                REAL,"
  "  seconds               REAL)",
  "CREATE INDEX coverage_runs_kind ON coverage_runs(facility_kind, id)",

  /* A million rows a run: keyed by (run, parcel) without a rowid, written
   * in parcel order, so each insert appends and a tile's lookup is one
   * descent of the key. No foreign key and no CHECK: each costs a lookup
   * or an expression per row (a third of the write time between them);
   * tgis writes 0/1 flags only, and deletes a run's rows with the run. */
  "CREATE TABLE coverage_parcels ("
  "  run_id      INTEGER NOT NULL,"       /* coverage_runs(id) */
  "  parcel_id   INTEGER NOT NULL,"
  "  facility_id INTEGER,"                 /* nearest; NULL: none reachable */
  "  seconds     REAL,"
  "  metres      REAL,"
  "  snap_m      REAL,"
  "  covered     INTEGER NOT NULL,"        /* 0 or 1 */
  "  reachable   INTEGER NOT NULL,"        /* 0 or 1 */
  "  e2sfca      REAL NOT NULL DEFAULT 0,"
  "  PRIMARY KEY (run_id, parcel_id)) WITHOUT ROWID",
  "CREATE TRIGGER coverage_runs_delete AFTER DELETE ON coverage_runs BEGIN "
  "  DELETE FROM coverage_parcels WHERE run_id = old.id; END",

  "CREATE TABLE coverage_districts ("
  "  run_id                INTEGER NOT NULL REFERENCES coverage_runs(id) ON DELETE CASCADE,"
  "  soato                 TEXT,"          /* NULL: parcels without a district */
  "  parcels               INTEGER NOT NULL,"
  "  residents             INTEGER NOT NULL,"
  "  covered_residents     INTEGER NOT NULL,"
  "  unreachable_residents INTEGER NOT NULL,"
  "  share                 REAL,"
  "  e2sfca                REAL,"
  "  UNIQUE (run_id, soato))",

  "CREATE TABLE coverage_facilities ("
  "  run_id              INTEGER NOT NULL REFERENCES coverage_runs(id) ON DELETE CASCADE,"
  "  facility_id         INTEGER NOT NULL,"
  "  capacity            INTEGER,"
  "  snap_m              REAL,"
  "  catchment_parcels   INTEGER NOT NULL,"
  "  catchment_residents INTEGER NOT NULL,"
  "  load_ratio          REAL,"            /* catchment / capacity */
  "  e2sfca_ratio        REAL,"            /* R_j of E2SFCA */
  "  PRIMARY KEY (run_id, facility_id))",

  "CREATE TABLE coverage_sites ("
  "  run_id            INTEGER NOT NULL REFERENCES coverage_runs(id) ON DELETE CASCADE,"
  "  rank              INTEGER NOT NULL CHECK (rank >= 1),"
  "  parcel_id         INTEGER,"           /* NULL: a given point */
  "  label             TEXT,"
  "  x                 REAL NOT NULL,"     /* database CRS */
  "  y                 REAL NOT NULL,"
  "  gain_residents    INTEGER NOT NULL,"
  "  covered_residents INTEGER NOT NULL,"
  "  PRIMARY KEY (run_id, rank))",
  NULL,
};

static const migration migrations[] = {
  { 1, "city layers, import log", migration_1 },
  { 2, "change log for tile invalidation", migration_2 },
  { 3, "coverage analytics results", migration_3 },
};

/* Run the statements of one migration, binding :srid where one names it. */
static tgis_status exec_migration(tgis_ctx *ctx, sqlite3 *db, const char *path,
                                  const migration *m, int srid)
{
  for (const char *const *sql = m->sql; *sql; sql++) {
    sqlite3_stmt *stmt = NULL;
    int idx, rc = sqlite3_prepare_v2(db, *sql, -1, &stmt, NULL);
    if (rc == SQLITE_OK) {
      if ((idx = sqlite3_bind_parameter_index(stmt, ":srid")) > 0)
        sqlite3_bind_int(stmt, idx, srid);
      while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        /* Only SpatiaLite calls return rows here; they report failure as 0. */
        if (sqlite3_column_type(stmt, 0) == SQLITE_INTEGER &&
            sqlite3_column_int(stmt, 0) == 0) {
          sqlite3_finalize(stmt);
          return tgis__fail(ctx, TGIS_EDB, "%s: migration %d (%s): %.60s... failed",
                            path, m->version, m->what, *sql);
        }
      }
    }
    if (rc != SQLITE_DONE) {
      tgis__fail(ctx, TGIS_EDB, "%s: migration %d (%s): %s", path, m->version,
                 m->what, sqlite3_errmsg(db));
      sqlite3_finalize(stmt);
      return TGIS_EDB;
    }
    sqlite3_finalize(stmt);
  }
  return TGIS_OK;
}

static tgis_status set_meta(tgis_ctx *ctx, sqlite3 *db, const char *path,
                            const char *key, const char *value)
{
  sqlite3_stmt *stmt = NULL;
  int rc = sqlite3_prepare_v2(db,
      "INSERT INTO tgis_meta(key, value) VALUES (?1, ?2) "
      "ON CONFLICT(key) DO UPDATE SET value = excluded.value", -1, &stmt, NULL);
  if (rc == SQLITE_OK) {
    sqlite3_bind_text(stmt, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, value, -1, SQLITE_STATIC);
    rc = sqlite3_step(stmt);
  }
  sqlite3_finalize(stmt);
  if (rc != SQLITE_DONE)
    return tgis__fail(ctx, TGIS_EDB, "%s: cannot record %s: %s", path, key,
                      sqlite3_errmsg(db));
  return TGIS_OK;
}

tgis_status tgis_schema__migrate(tgis_ctx *ctx, sqlite3 *db, const char *path,
                                 int from, int to, int srid)
{
  char buf[32];
  tgis_status st;

  if (from == 0) {
    /* Spatial metadata first: geometry columns register into it. */
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(db, "SELECT InitSpatialMetadata(0)", -1, &stmt, NULL);
    if (rc == SQLITE_OK)
      rc = sqlite3_step(stmt);
    if (rc != SQLITE_ROW || sqlite3_column_int(stmt, 0) != 1) {
      tgis__fail(ctx, TGIS_EDB, "%s: cannot initialise spatial metadata: %s",
                 path, sqlite3_errmsg(db));
      sqlite3_finalize(stmt);
      return TGIS_EDB;
    }
    sqlite3_finalize(stmt);
  }
  for (size_t i = 0; i < sizeof migrations / sizeof migrations[0]; i++) {
    const migration *m = &migrations[i];
    if (m->version <= from || m->version > to)
      continue;
    if ((st = exec_migration(ctx, db, path, m, srid)) != TGIS_OK)
      return st;
    tgis__log(ctx, TGIS_LOG_INFO, "%s: schema migrated to version %d (%s)",
              path, m->version, m->what);
  }
  if (from == 0) {
    snprintf(buf, sizeof buf, "%d", srid);
    if ((st = set_meta(ctx, db, path, "srid", buf)) != TGIS_OK ||
        (st = set_meta(ctx, db, path, "created_by", "tgis " TGIS_VERSION_STRING)) != TGIS_OK)
      return st;
  }
  snprintf(buf, sizeof buf, "%d", to);
  return set_meta(ctx, db, path, "schema_version", buf);
}
