/*
 * test_import.c -- the importer on real GDAL drivers and real files: the
 * Tashkent districts through a mapping file, GeoJSON parcels with every kind
 * of defect, modes, transactions, CRS handling against cs2cs, encodings,
 * malformed mapping files, and the real OpenStreetMap extract.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cpl_string.h>
#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>
#include <sqlite3.h>
#include <spatialite.h>

#include <json-c/json.h>

#include "tgis.h"
#include "generate.h"
#include "harness.h"

#ifndef TGIS_SOURCE_DIR
#error "TGIS_SOURCE_DIR must name the source tree"
#endif

/* ---- helpers ------------------------------------------------------------------ */

static void write_file(const char *path, const char *text)
{
  FILE *f = fopen(path, "w");
  if (f) {
    fputs(text, f);
    fclose(f);
  }
}

static tgis_ctx *new_db(const char *name)
{
  char path[512];
  tgis_options o = TGIS_OPTIONS_INIT;
  tgis_ctx *ctx = NULL;
  harness_path(path, sizeof path, name);
  unlink(path);
  o.flags = TGIS_OPEN_CREATE;
  if (tgis_open(&ctx, path, &o) != TGIS_OK) {
    fprintf(stderr, "cannot create %s: %s\n", path, ctx ? tgis_errmsg(ctx) : "?");
    tgis_close(ctx);
    return NULL;
  }
  return ctx;
}

/* One integer from the test database through a plain SQLite connection. */
static long long q_int(const char *db_name, const char *sql)
{
  char path[512];
  sqlite3 *db;
  sqlite3_stmt *s;
  long long v = -1;
  void *cache = spatialite_alloc_connection();
  harness_path(path, sizeof path, db_name);
  if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
    return -2;
  spatialite_init_ex(db, cache, 0);
  if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
    v = sqlite3_column_int64(s, 0);
  else
    fprintf(stderr, "query failed: %s: %s\n", sql, sqlite3_errmsg(db));
  sqlite3_finalize(s);
  sqlite3_close(db);
  spatialite_cleanup_ex(cache);
  return v;
}

static void q_text(const char *db_name, const char *sql, char *out, size_t n)
{
  char path[512];
  sqlite3 *db;
  sqlite3_stmt *s;
  void *cache = spatialite_alloc_connection();
  out[0] = '\0';
  harness_path(path, sizeof path, db_name);
  if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
    return;
  spatialite_init_ex(db, cache, 0);
  if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW &&
      sqlite3_column_text(s, 0))
    snprintf(out, n, "%s", (const char *)sqlite3_column_text(s, 0));
  sqlite3_finalize(s);
  sqlite3_close(db);
  spatialite_cleanup_ex(cache);
}

static const char districts_mapping[] =
  "# The real district boundaries: names to SOATO codes.\n"
  "layers:\n"
  "  - target: districts\n"
  "    fields:\n"
  "      soato:\n"
  "        source: ADM2_EN\n"
  "        strict: true\n"
  "        values:\n"
  "          Uchtepa district: \"1726262\"\n"
  "          Bektemir district: \"1726264\"\n"
  "          Yunusobod district: \"1726266\"\n"
  "          Mirzo Ulugbek district: \"1726269\"\n"
  "          Mirobod district: \"1726273\"\n"
  "          Shayxontohur district: \"1726277\"\n"
  "          Olmazor district: \"1726280\"\n"
  "          Sergeli district: \"1726283\"\n"
  "          Yakkasaroy district: \"1726287\"\n"
  "          Yashnobod district: \"1726290\"\n"
  "          Yangihayot district: \"1726292\"\n"
  "          Chilonzor district: \"1726294\"\n"
  "      name: ADM2_UZ\n"
  "      name_ru: ADM2_RU\n";

static tgis_status import_districts(tgis_ctx *ctx, tgis_import_result *res)
{
  char mapping[512];
  tgis_import_options o = TGIS_IMPORT_OPTIONS_INIT;
  harness_path(mapping, sizeof mapping, "districts.yaml");
  write_file(mapping, districts_mapping);
  o.mapping = mapping;
  return tgis_import(res, ctx, TGIS_SOURCE_DIR "/data/tashkent/tashkent_districts.geojson", &o);
}

/* Parcels near Amir Timur square (lon 69.2797, lat 41.3111), one per
 * defect class, as GeoJSON. */
static const char parcels_geojson[] =
  "{\"type\":\"FeatureCollection\",\"features\":["
  /* 1: good, owner PINFL and TIN with spaces */
  "{\"type\":\"Feature\",\"id\":1,\"properties\":{\"cadastre\":\"10:03:07:01:03:0012\","
  "\"land_use\":\"residential\",\"residents\":5,\"district\":\"1726273\","
  "\"address_code\":\"1726273001\",\"owner_tin\":\"305 652 539\","
  "\"owner_pinfl\":\"31210932040247\"},"
  "\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[69.2790,41.3110],[69.2793,41.3110],"
  "[69.2793,41.3112],[69.2790,41.3112],[69.2790,41.3110]]]}},"
  /* 2: bow-tie, repaired */
  "{\"type\":\"Feature\",\"id\":2,\"properties\":{\"cadastre\":\"10:03:07:01:03:0013\","
  "\"land_use\":\"commercial\",\"residents\":0},"
  "\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[69.2800,41.3110],[69.2803,41.3112],"
  "[69.2803,41.3110],[69.2800,41.3112],[69.2800,41.3110]]]}},"
  /* 3: a point in the parcels layer */
  "{\"type\":\"Feature\",\"id\":3,\"properties\":{\"cadastre\":\"10:03:07:01:03:0014\","
  "\"land_use\":\"residential\"},\"geometry\":{\"type\":\"Point\",\"coordinates\":[69.28,41.31]}},"
  /* 4: null geometry */
  "{\"type\":\"Feature\",\"id\":4,\"properties\":{\"cadastre\":\"10:03:07:01:03:0015\","
  "\"land_use\":\"residential\"},\"geometry\":null},"
  /* 5: malformed cadastre number */
  "{\"type\":\"Feature\",\"id\":5,\"properties\":{\"cadastre\":\"10:03:7:01:03:0016\","
  "\"land_use\":\"residential\"},"
  "\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[69.2810,41.3110],[69.2813,41.3110],"
  "[69.2813,41.3112],[69.2810,41.3112],[69.2810,41.3110]]]}},"
  /* 6: duplicate of 1's cadastre number */
  "{\"type\":\"Feature\",\"id\":6,\"properties\":{\"cadastre\":\"10:03:07:01:03:0012\","
  "\"land_use\":\"residential\"},"
  "\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[69.2820,41.3110],[69.2823,41.3110],"
  "[69.2823,41.3112],[69.2820,41.3112],[69.2820,41.3110]]]}},"
  /* 7: PINFL with a wrong check digit */
  "{\"type\":\"Feature\",\"id\":7,\"properties\":{\"cadastre\":\"10:03:07:01:03:0017\","
  "\"land_use\":\"residential\",\"owner_pinfl\":\"31210632040245\"},"
  "\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[69.2830,41.3110],[69.2833,41.3110],"
  "[69.2833,41.3112],[69.2830,41.3112],[69.2830,41.3110]]]}},"
  /* 8: outside the city (Samarkand) */
  "{\"type\":\"Feature\",\"id\":8,\"properties\":{\"cadastre\":\"10:03:07:01:03:0018\","
  "\"land_use\":\"residential\"},"
  "\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[66.9600,39.6500],[66.9603,39.6500],"
  "[66.9603,39.6502],[66.9600,39.6502],[66.9600,39.6500]]]}},"
  /* 9: unknown land use */
  "{\"type\":\"Feature\",\"id\":9,\"properties\":{\"cadastre\":\"10:03:07:01:03:0019\","
  "\"land_use\":\"castle\"},"
  "\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[69.2840,41.3110],[69.2843,41.3110],"
  "[69.2843,41.3112],[69.2840,41.3112],[69.2840,41.3110]]]}},"
  /* 10: empty polygon */
  "{\"type\":\"Feature\",\"id\":10,\"properties\":{\"cadastre\":\"10:03:07:01:03:0020\","
  "\"land_use\":\"residential\"},\"geometry\":{\"type\":\"GeometryCollection\",\"geometries\":[]}},"
  /* 11: bad TIN */
  "{\"type\":\"Feature\",\"id\":11,\"properties\":{\"cadastre\":\"10:03:07:01:03:0021\","
  "\"land_use\":\"industrial\",\"owner_tin\":\"105652539\"},"
  "\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[69.2850,41.3110],[69.2853,41.3110],"
  "[69.2853,41.3112],[69.2850,41.3112],[69.2850,41.3110]]]}}"
  "]}";

static tgis_status import_parcels(tgis_ctx *ctx, tgis_import_result *res, tgis_import_mode mode,
                                  const char *rejects)
{
  char path[512];
  tgis_import_options o = TGIS_IMPORT_OPTIONS_INIT;
  harness_path(path, sizeof path, "parcels.geojson");
  write_file(path, parcels_geojson);
  o.layer = TGIS_LAYER_PARCELS;
  o.mode = mode;
  o.rejects_csv = rejects;
  return tgis_import(res, ctx, path, &o);
}

/* ---- tests ----------------------------------------------------------------------- */

static void test_import__real_districts_through_a_mapping_file(void)
{
  tgis_ctx *ctx = new_db("districts.sqlite");
  tgis_import_result res;
  tgis_layer_info li;
  ASSERT(ctx != NULL);
  ASSERT_OK_CTX(ctx, import_districts(ctx, &res));
  ASSERT_EQ(res.layers[TGIS_LAYER_DISTRICTS].read, 12);
  ASSERT_EQ(res.layers[TGIS_LAYER_DISTRICTS].inserted, 12);
  ASSERT_EQ(res.layers[TGIS_LAYER_DISTRICTS].rejected, 0);
  ASSERT_OK_CTX(ctx, tgis_layer_info_get(&li, ctx, TGIS_LAYER_DISTRICTS));
  ASSERT_EQ(li.count, 12);
  tgis_close(ctx);
  /* 415 km² in all, as the source says; Chilonzor is in the south-west. */
  long long km2 = q_int("districts.sqlite", "SELECT CAST(sum(ST_Area(geom)) / 1e6 AS INTEGER) "
                                            "FROM districts");
  ASSERT(km2 >= 405 && km2 <= 425);
  ASSERT_EQ(q_int("districts.sqlite", "SELECT count(*) FROM districts WHERE soato = '1726294' "
                                      "AND name = 'Chilonzor tumani'"), 1);
  ASSERT_EQ(q_int("districts.sqlite", "SELECT count(*) FROM import_runs WHERE layer = "
                                      "'districts' AND status = 'ok' AND inserted = 12"), 1);
  ASSERT(q_int("districts.sqlite", "SELECT count(*) FROM change_log WHERE layer = 'districts'")
         >= 12);
}

static void test_import__every_defect_gets_its_reason(void)
{
  tgis_ctx *ctx = new_db("parcels.sqlite");
  tgis_import_result res;
  char rejects[512], text[512];
  FILE *f;
  int lines = 0;

  ASSERT(ctx != NULL);
  ASSERT_OK_CTX(ctx, import_districts(ctx, &res));
  harness_path(rejects, sizeof rejects, "rejects.csv");
  ASSERT_OK_CTX(ctx, import_parcels(ctx, &res, TGIS_IMPORT_APPEND, rejects));
  ASSERT_EQ(res.layers[TGIS_LAYER_PARCELS].read, 11);
  ASSERT_EQ(res.layers[TGIS_LAYER_PARCELS].inserted, 2);   /* 1 and the repaired 2 */
  ASSERT_EQ(res.layers[TGIS_LAYER_PARCELS].repaired, 1);
  ASSERT_EQ(res.layers[TGIS_LAYER_PARCELS].rejected, 9);
  tgis_close(ctx);

#define REASON(fid, field, needle)                                                   \
  do {                                                                               \
    q_text("parcels.sqlite", "SELECT field || ': ' || reason FROM import_rejects "   \
           "WHERE layer = 'parcels' AND source_fid = " #fid, text, sizeof text);      \
    ASSERT_CONTAINS(text, field);                                                    \
    ASSERT_CONTAINS(text, needle);                                                   \
  } while (0)
  REASON(2, "geom", "repaired with MakeValid");
  REASON(3, "geom", "wrong geometry type: POINT");
  REASON(4, "geom", "null geometry");
  REASON(5, "cadastre", "group 3");
  REASON(6, "cadastre", "duplicate cadastre '10:03:07:01:03:0012'");
  REASON(7, "owner_pinfl", "check digit");
  REASON(8, "geom", "outside the city");
  REASON(9, "land_use", "'castle' is not one of");
  REASON(10, "geom", "empty geometry");
  REASON(11, "owner_tin", "first digit");
#undef REASON
  /* The PINFL is stored apart and never appears in a reason. */
  ASSERT_EQ(q_int("parcels.sqlite", "SELECT count(*) FROM parcel_owners"), 1);
  ASSERT_EQ(q_int("parcels.sqlite", "SELECT count(*) FROM pragma_table_info('parcels') "
                                    "WHERE name LIKE '%pinfl%'"), 0);
  ASSERT_EQ(q_int("parcels.sqlite", "SELECT count(*) FROM import_rejects WHERE reason LIKE "
                                    "'%3121063204%' OR reason LIKE '%3121093204%'"), 0);
  /* Identifiers are stored normalised; the area is computed in metres. */
  q_text("parcels.sqlite", "SELECT owner_tin FROM parcels WHERE cadastre = '10:03:07:01:03:0012'",
         text, sizeof text);
  ASSERT_STR_EQ(text, "305652539");
  ASSERT(q_int("parcels.sqlite", "SELECT CAST(area_m2 AS INTEGER) FROM parcels WHERE "
                                 "cadastre = '10:03:07:01:03:0012'") > 500);
  ASSERT_EQ(q_int("parcels.sqlite", "SELECT ST_IsValid(geom) FROM parcels WHERE "
                                    "cadastre = '10:03:07:01:03:0013'"), 1);
  /* The CSV holds the same rows, one line each plus a header. */
  f = fopen(rejects, "r");
  ASSERT(f != NULL);
  while (fgets(text, sizeof text, f))
    lines++;
  fclose(f);
  ASSERT_EQ(lines, 1 + 9 + 1);
}

static void test_import__modes_append_upsert_replace(void)
{
  tgis_ctx *ctx = new_db("modes.sqlite");
  tgis_import_result res;
  ASSERT(ctx != NULL);
  ASSERT_OK_CTX(ctx, import_districts(ctx, &res));
  ASSERT_OK_CTX(ctx, import_parcels(ctx, &res, TGIS_IMPORT_APPEND, NULL));
  /* The same file again: append refuses the known keys. */
  ASSERT_OK_CTX(ctx, import_parcels(ctx, &res, TGIS_IMPORT_APPEND, NULL));
  ASSERT_EQ(res.layers[TGIS_LAYER_PARCELS].inserted, 0);
  ASSERT_EQ(res.layers[TGIS_LAYER_PARCELS].rejected, 11);
  /* Upsert updates them; the duplicate inside the file is still refused. */
  ASSERT_OK_CTX(ctx, import_parcels(ctx, &res, TGIS_IMPORT_UPSERT, NULL));
  ASSERT_EQ(res.layers[TGIS_LAYER_PARCELS].updated, 2);
  ASSERT_EQ(res.layers[TGIS_LAYER_PARCELS].inserted, 0);
  ASSERT_EQ(res.layers[TGIS_LAYER_PARCELS].rejected, 9);
  ASSERT_OK_CTX(ctx, import_parcels(ctx, &res, TGIS_IMPORT_REPLACE, NULL));
  ASSERT_EQ(res.layers[TGIS_LAYER_PARCELS].inserted, 2);
  tgis_close(ctx);
  ASSERT_EQ(q_int("modes.sqlite", "SELECT count(*) FROM parcels"), 2);
  ASSERT_EQ(q_int("modes.sqlite", "SELECT count(*) FROM import_runs WHERE layer = 'parcels'"), 4);
  ASSERT_EQ(q_int("modes.sqlite", "SELECT count(*) FROM parcel_owners"), 1);
  /* Bulk loading put SpatiaLite's triggers back and kept the index whole. */
  ASSERT_EQ(q_int("modes.sqlite", "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' "
                                  "AND tbl_name = 'parcels'"), 8);
  ASSERT_EQ(q_int("modes.sqlite", "SELECT count(*) FROM idx_parcels_geom"), 2);
  ASSERT_EQ(q_int("modes.sqlite", "SELECT count(*) FROM parcels p JOIN idx_parcels_geom i "
                                  "ON i.pkid = p.id WHERE i.xmin <= MbrMinX(p.geom) + 0.01 AND "
                                  "i.xmax >= MbrMaxX(p.geom) - 0.01"), 2);
  ASSERT_EQ(q_int("modes.sqlite", "SELECT row_count FROM geometry_columns_statistics "
                                  "WHERE f_table_name = 'parcels'"), 2);
  ASSERT_EQ(q_int("modes.sqlite", "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' "
                                  "AND tbl_name = 'districts'"), 8);

  /* Replacing with nothing empties the layer, and the area it covered is
   * logged as changed, so tiles showing the old parcels are dropped. */
  {
    char path[512], sql[256];
    tgis_import_options o = TGIS_IMPORT_OPTIONS_INIT;
    harness_path(path, sizeof path, "modes.sqlite");
    ASSERT_OK_CTX(ctx, tgis_open(&ctx, path, NULL));
    harness_path(path, sizeof path, "none.geojson");
    write_file(path, "{\"type\":\"FeatureCollection\",\"features\":[]}");
    o.layer = TGIS_LAYER_PARCELS;
    o.mode = TGIS_IMPORT_REPLACE;
    ASSERT_OK_CTX(ctx, tgis_import(&res, ctx, path, &o));
    tgis_close(ctx);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM change_log WHERE run_id = %lld AND "
             "minx < 524000 AND maxx > 523000", (long long)res.layers[TGIS_LAYER_PARCELS].run_id);
    ASSERT_EQ(q_int("modes.sqlite", "SELECT count(*) FROM parcels"), 0);
    ASSERT(q_int("modes.sqlite", sql) >= 1);
  }
}

static int cancel_after_one(const char *stage, int64_t done, int64_t total, void *payload)
{
  (void)stage; (void)done; (void)total;
  return ++*(int *)payload >= 1;
}

static void test_import__cancel_leaves_nothing_but_the_log(void)
{
  tgis_ctx *ctx = new_db("cancel.sqlite");
  tgis_import_options o = TGIS_IMPORT_OPTIONS_INIT;
  tgis_import_result res;
  char mapping[512];
  int calls = 0;
  ASSERT(ctx != NULL);
  harness_path(mapping, sizeof mapping, "districts.yaml");
  write_file(mapping, districts_mapping);
  o.mapping = mapping;
  o.progress = cancel_after_one;
  o.progress_payload = &calls;
  ASSERT_EQ(tgis_import(&res, ctx, TGIS_SOURCE_DIR "/data/tashkent/tashkent_districts.geojson",
                        &o), TGIS_ECANCELLED);
  ASSERT_CONTAINS(tgis_errmsg(ctx), "cancelled");
  tgis_close(ctx);
  ASSERT_EQ(q_int("cancel.sqlite", "SELECT count(*) FROM districts"), 0);
  ASSERT_EQ(q_int("cancel.sqlite", "SELECT count(*) FROM change_log"), 0);
  ASSERT_EQ(q_int("cancel.sqlite", "SELECT count(*) FROM import_runs WHERE status = 'cancelled' "
                                   "AND features_read = 12 AND message LIKE '%cancelled%'"), 1);
}

static void test_import__source_without_crs_needs_s_srs(void)
{
  tgis_ctx *ctx = new_db("csv.sqlite");
  tgis_import_options o = TGIS_IMPORT_OPTIONS_INIT;
  tgis_import_result res;
  char csv[512];
  ASSERT(ctx != NULL);
  harness_path(csv, sizeof csv, "clinics.csv");
  write_file(csv, "ext_id,kind,name,capacity,lon,lat\n"
                  "p1,polyclinic,Oilaviy poliklinika No. 1,40000,69.2797,41.3111\n"
                  "s1,school,School No. 110,1200,69.2401,41.2856\n"
                  "s2,school,,900,69.25,41.29\n");
  o.layer = TGIS_LAYER_FACILITIES;
  ASSERT_EQ(tgis_import(&res, ctx, csv, &o), TGIS_EPROJ);
  ASSERT_CONTAINS(tgis_errmsg(ctx), "clinics.csv");
  ASSERT_CONTAINS(tgis_errmsg(ctx), "--s-srs");
  o.s_srs = "EPSG:4326";
  ASSERT_OK_CTX(ctx, tgis_import(&res, ctx, csv, &o));
  ASSERT_EQ(res.layers[TGIS_LAYER_FACILITIES].inserted, 2);
  ASSERT_EQ(res.layers[TGIS_LAYER_FACILITIES].rejected, 1);  /* a school without a name */
  /* The same clinics as WKT geometry in a CSV. */
  harness_path(csv, sizeof csv, "clinics_wkt.csv");
  write_file(csv, "WKT,ext_id,kind,name,capacity\n"
                  "\"POINT (69.2797 41.3111)\",p2,polyclinic,Oilaviy poliklinika No. 2,30000\n"
                  "\"LINESTRING (69.2 41.3,69.3 41.3)\",p3,polyclinic,A line is no clinic,1\n");
  ASSERT_OK_CTX(ctx, tgis_import(&res, ctx, csv, &o));
  ASSERT_EQ(res.layers[TGIS_LAYER_FACILITIES].inserted, 1);
  ASSERT_EQ(res.layers[TGIS_LAYER_FACILITIES].rejected, 1);
  tgis_close(ctx);
  /* Amir Timur square in UTM 42N. */
  ASSERT_EQ(q_int("csv.sqlite", "SELECT count(*) FROM facilities WHERE ext_id IN ('p1', 'p2') AND "
                                "abs(ST_X(geom) - 523350) < 200 AND abs(ST_Y(geom) - 4573240) < 200"), 2);
  /* The failed first attempt is in the log too, with its reason. */
  ASSERT_EQ(q_int("csv.sqlite", "SELECT count(*) FROM import_runs WHERE status = 'failed' "
                                "AND message LIKE '%--s-srs%'"), 1);
  ASSERT_EQ(q_int("csv.sqlite", "SELECT count(*) FROM import_runs WHERE status = 'ok'"), 2);
}

/* Run cs2cs on one coordinate; the reference for the GK test. */
static int cs2cs(const char *from, const char *to, double x, double y, double *ox, double *oy)
{
  char cmd[256];
  FILE *p;
  int ok;
  snprintf(cmd, sizeof cmd, "echo '%.3f %.3f' | cs2cs -f '%%.4f' %s %s", x, y, from, to);
  if (!(p = popen(cmd, "r")))
    return -1;
  ok = fscanf(p, "%lf %lf", ox, oy) == 2;
  pclose(p);
  return ok ? 0 : -1;
}

/* A Shapefile of one point with three text fields, in EPSG:epsg, its DBF
 * written in `encoding` (NULL: UTF-8). Returns 0 on success. */
static int write_point_shapefile(const char *shp, int epsg, const char *encoding,
                                 const char *const names[3], const char *const values[3],
                                 double x, double y)
{
  char **opts = encoding ? CSLSetNameValue(NULL, "ENCODING", encoding) : NULL;
  char layer_name[256];
  const char *base = strrchr(shp, '/') ? strrchr(shp, '/') + 1 : shp;
  OGRSpatialReferenceH srs = OSRNewSpatialReference(NULL);
  GDALDatasetH ds;
  OGRLayerH lyr;
  OGRFeatureH f;
  OGRGeometryH pt;
  int rc = -1;

  GDALAllRegister();
  snprintf(layer_name, sizeof layer_name, "%.*s", (int)strcspn(base, "."), base);
  OSRImportFromEPSG(srs, epsg);
  OSRSetAxisMappingStrategy(srs, OAMS_TRADITIONAL_GIS_ORDER);
  ds = GDALCreate(GDALGetDriverByName("ESRI Shapefile"), shp, 0, 0, 0, GDT_Unknown, NULL);
  if (ds && (lyr = GDALDatasetCreateLayer(ds, layer_name, srs, wkbPoint, opts)) != NULL) {
    for (int i = 0; i < 3; i++) {
      OGRFieldDefnH fd = OGR_Fld_Create(names[i], OFTString);
      OGR_L_CreateField(lyr, fd, 1);
      OGR_Fld_Destroy(fd);
    }
    f = OGR_F_Create(OGR_L_GetLayerDefn(lyr));
    for (int i = 0; i < 3; i++)
      OGR_F_SetFieldString(f, i, values[i]);
    pt = OGR_G_CreateGeometry(wkbPoint);
    OGR_G_SetPoint_2D(pt, 0, x, y);
    OGR_F_SetGeometryDirectly(f, pt);
    rc = OGR_L_CreateFeature(lyr, f) == OGRERR_NONE ? 0 : -1;
    OGR_F_Destroy(f);
  }
  if (ds)
    GDALClose(ds);
  CSLDestroy(opts);
  OSRDestroySpatialReference(srs);
  return rc;
}

static void test_import__pulkovo_gauss_kruger_lands_where_cs2cs_puts_it(void)
{
  static const char *const names[3] = { "ext_id", "network", "kind" };
  static const char *const values[3] = { "v1", "water", "valve" };
  tgis_ctx *ctx = new_db("gk.sqlite");
  tgis_import_options o = TGIS_IMPORT_OPTIONS_INIT;
  tgis_import_result res;
  char shp[512], buf[128];
  double gx = 12523300.0, gy = 4578600.0, ux, uy, sx, sy;

  ASSERT(ctx != NULL);
  harness_path(shp, sizeof shp, "gk_nodes.shp");
  /* Pulkovo 1942 / Gauss-Kruger zone 12, easting first as GIS files store it. */
  ASSERT_EQ(write_point_shapefile(shp, 28412, NULL, names, values, gx, gy), 0);
  o.layer = TGIS_LAYER_UTILITY_NODES;
  ASSERT_OK_CTX(ctx, tgis_import(&res, ctx, shp, &o));
  ASSERT_EQ(res.layers[TGIS_LAYER_UTILITY_NODES].inserted, 1);
  tgis_close(ctx);
  /* EPSG:28412's axes are northing, easting; EPSG:32642's easting, northing. */
  ASSERT_EQ(cs2cs("EPSG:28412", "EPSG:32642", gy, gx, &ux, &uy), 0);
  q_text("gk.sqlite", "SELECT printf('%.4f %.4f', ST_X(geom), ST_Y(geom)) FROM utility_nodes",
         buf, sizeof buf);
  ASSERT_EQ(sscanf(buf, "%lf %lf", &sx, &sy), 2);
  ASSERT_NEAR(sx, ux, 1.0);
  ASSERT_NEAR(sy, uy, 1.0);
}

static void test_import__cp1251_shapefile_with_encoding(void)
{
  static const char *const names[3] = { "ext_id", "kind", "name" };
  static const char *const values[3] = { "p7", "polyclinic", "Семейная поликлиника №7" };
  tgis_ctx *ctx = new_db("cp1251.sqlite");
  tgis_import_options o = TGIS_IMPORT_OPTIONS_INIT;
  tgis_import_result res;
  char shp[512], cpg[512], text[256];

  ASSERT(ctx != NULL);
  harness_path(shp, sizeof shp, "clinics_ru.shp");
  ASSERT_EQ(write_point_shapefile(shp, 4326, "CP1251", names, values, 69.2797, 41.3111), 0);
  /* Agencies' files come without the .cpg that would name the encoding. */
  harness_path(cpg, sizeof cpg, "clinics_ru.cpg");
  unlink(cpg);

  o.layer = TGIS_LAYER_FACILITIES;
  o.encoding = "CP1251";
  ASSERT_OK_CTX(ctx, tgis_import(&res, ctx, shp, &o));
  ASSERT_EQ(res.layers[TGIS_LAYER_FACILITIES].inserted, 1);
  tgis_close(ctx);
  q_text("cp1251.sqlite", "SELECT name FROM facilities", text, sizeof text);
  ASSERT_STR_EQ(text, "Семейная поликлиника №7");
}

static void test_import__malformed_mapping_files_name_line_and_key(void)
{
  tgis_ctx *ctx = new_db("badmap.sqlite");
  tgis_import_options o = TGIS_IMPORT_OPTIONS_INIT;
  char path[512];
  struct { const char *text, *expect; } cases[] = {
    { "layers:\n  - target: parcels\n    fields:\n      landuse: VID\n",
      "badmap.yaml:4: layers[0].fields: 'landuse' is not a field of parcels" },
    { "layers:\n  - target: castles\n    fields: {}\n", "badmap.yaml:2: layers[0].target" },
    { "layers:\n  - target: parcels\n    colour: red\n    fields: {}\n",
      "badmap.yaml:3: layers[0]: unknown key 'colour'" },
    { "layers: [\n", "badmap.yaml:2:" },
    { "", "expected a mapping with 'layers'" },
    { "layers:\n  - target: roads\n    fields:\n      class: { values: [1, 2] }\n",
      "layers[0].fields.class.values: expected a mapping" },
    { "layers:\n  - target: roads\n    fields:\n      oneway: { strict: maybe }\n",
      "layers[0].fields.oneway.strict: expected true or false" },
  };
  ASSERT(ctx != NULL);
  harness_path(path, sizeof path, "badmap.yaml");
  o.mapping = path;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    write_file(path, cases[i].text);
    ASSERT_EQ(tgis_import(NULL, ctx, TGIS_SOURCE_DIR "/data/tashkent/tashkent_districts.geojson",
                          &o), TGIS_EPARSE);
    ASSERT_CONTAINS(tgis_errmsg(ctx), cases[i].expect);
  }
  tgis_close(ctx);
}

static void test_import__bad_sources_are_clear_errors(void)
{
  tgis_ctx *ctx = new_db("badsrc.sqlite");
  tgis_import_options o = TGIS_IMPORT_OPTIONS_INIT;
  char path[512];
  ASSERT(ctx != NULL);
  ASSERT_EQ(tgis_import(NULL, ctx, "/nonexistent/city.gpkg", &o), TGIS_ENOTFOUND);
  ASSERT_CONTAINS(tgis_errmsg(ctx), "/nonexistent/city.gpkg");
  harness_path(path, sizeof path, "garbage.geojson");
  write_file(path, "{\"type\": \"FeatureCollection\", \"features\": [ {\"type\": ");
  ASSERT(tgis_import(NULL, ctx, path, &o) != TGIS_OK);
  ASSERT_CONTAINS(tgis_errmsg(ctx), "garbage.geojson");
  /* A source whose layer names say nothing, and no --layer. */
  harness_path(path, sizeof path, "things.geojson");
  write_file(path, "{\"type\":\"FeatureCollection\",\"features\":[]}");
  ASSERT_EQ(tgis_import(NULL, ctx, path, &o), TGIS_ENOTFOUND);
  ASSERT_CONTAINS(tgis_errmsg(ctx), "--layer");
  o.version = 77;
  ASSERT_EQ(tgis_import(NULL, ctx, path, &o), TGIS_EINVAL);
  tgis_close(ctx);
}

static void test_import__real_openstreetmap_extract(void)
{
  tgis_ctx *ctx = new_db("osm.sqlite");
  tgis_import_options o = TGIS_IMPORT_OPTIONS_INIT;
  tgis_import_result res;
  ASSERT(ctx != NULL);
  /* Monaco is in UTM zone 32; store it in a metric CRS of its own. */
  tgis_close(ctx);
  {
    char path[512];
    tgis_options oo = TGIS_OPTIONS_INIT;
    harness_path(path, sizeof path, "osm.sqlite");
    unlink(path);
    oo.flags = TGIS_OPEN_CREATE;
    oo.srid = 32632;
    ASSERT_OK_CTX(ctx, tgis_open(&ctx, path, &oo));
  }
  ASSERT_OK_CTX(ctx, tgis_import(&res, ctx, TGIS_SOURCE_DIR "/data/osm/monaco_2016.osm.pbf", &o));
  for (int i = 0; i < TGIS_LAYER_COUNT; i++)
    printf("  osm %-14s read %6lld inserted %6lld repaired %4lld rejected %5lld\n",
           tgis_layer_name((tgis_layer)i), (long long)res.layers[i].read,
           (long long)res.layers[i].inserted, (long long)res.layers[i].repaired,
           (long long)res.layers[i].rejected);
  ASSERT(res.layers[TGIS_LAYER_ROADS].inserted > 2500);
  ASSERT(res.layers[TGIS_LAYER_PARCELS].inserted > 20000);
  ASSERT(res.layers[TGIS_LAYER_FACILITIES].inserted >= 16);
  tgis_close(ctx);
  /* Known features by name. */
  ASSERT_EQ(q_int("osm.sqlite", "SELECT count(*) FROM facilities WHERE kind = 'school' AND "
                                "name = 'Lycée Albert-1er'"), 1);
  ASSERT_EQ(q_int("osm.sqlite", "SELECT count(*) FROM facilities WHERE kind = 'polyclinic' AND "
                                "name = 'Centre Cardio Thoracique de Monaco'"), 1);
  ASSERT(q_int("osm.sqlite", "SELECT count(*) FROM roads WHERE name = 'Boulevard Albert 1er'") >= 1);
  ASSERT(q_int("osm.sqlite", "SELECT count(*) FROM roads WHERE oneway = 1") > 100);
  ASSERT(q_int("osm.sqlite", "SELECT count(*) FROM roads WHERE level > 0") > 10);
  ASSERT(q_int("osm.sqlite", "SELECT count(*) FROM utility_lines WHERE network = 'power'") >= 1);
  /* Residents follow the documented estimate from the footprint. */
  ASSERT(q_int("osm.sqlite", "SELECT sum(residents) FROM parcels") > 0);
  ASSERT_EQ(q_int("osm.sqlite", "SELECT count(*) FROM parcels WHERE land_use = 'residential' "
                                "AND area_m2 >= 30 AND residents != 4"), 0);
  ASSERT_EQ(q_int("osm.sqlite", "SELECT count(*) FROM parcels WHERE land_use = 'multifamily' "
                                "AND residents < CAST(area_m2 / 30 AS INTEGER)"), 0);
  ASSERT_EQ(q_int("osm.sqlite", "SELECT count(*) FROM parcels WHERE land_use NOT IN "
                                "('residential', 'multifamily') AND residents != 0"), 0);
  ASSERT(q_int("osm.sqlite", "SELECT count(*) FROM parcels WHERE cadastre IS NULL AND "
                             "ext_id LIKE 'a%'") > 20000);
}


/* Every defect the generator injected comes out as a reject (or, for a
 * self-intersection, a repair) of the same feature and field. */
static void test_import__generated_city_defects_match_manifest(void)
{
  tgis_ctx *gen = NULL, *ctx = new_db("city.sqlite");
  tgis_gen_options go = TGIS_GEN_OPTIONS_INIT;
  tgis_import_result res;
  char gpkg[512], manifest[512], sql[512];
  json_object *root, *defects, *layers;
  int64_t total_rejected = 0, expect_rejected = 0, repaired_in[TGIS_LAYER_COUNT] = { 0 };

  ASSERT(ctx != NULL);
  harness_path(gpkg, sizeof gpkg, "city.gpkg");
  harness_path(manifest, sizeof manifest, "city.gpkg.manifest.json");
  unlink(gpkg);
  unlink(manifest);
  ASSERT_EQ(tgis_open(&gen, NULL, NULL), TGIS_OK);
  go.scale = 0.005;
  go.seed = 11;
  ASSERT_OK_CTX(gen, tgis_generate(gen, gpkg, &go));
  tgis_close(gen);
  ASSERT_OK_CTX(ctx, tgis_import(&res, ctx, gpkg, NULL));
  tgis_close(ctx);

  root = json_object_from_file(manifest);
  ASSERT(root != NULL);
  ASSERT(json_object_object_get_ex(root, "defects", &defects));
  ASSERT(json_object_object_get_ex(root, "layers", &layers));
  json_object_object_foreach(defects, kind, d) {
    json_object *jl, *jf, *fids;
    const char *layer, *field;
    int repaired = strstr(kind, "self_intersection") != NULL;
    ASSERT(json_object_object_get_ex(d, "layer", &jl));
    ASSERT(json_object_object_get_ex(d, "field", &jf));
    ASSERT(json_object_object_get_ex(d, "fids", &fids));
    layer = json_object_get_string(jl);
    field = json_object_get_string(jf);
    ASSERT(json_object_array_length(fids) > 0);
    for (size_t i = 0; i < json_object_array_length(fids); i++) {
      long long fid = json_object_get_int64(json_object_array_get_idx(fids, i));
      snprintf(sql, sizeof sql, "SELECT count(*) FROM import_rejects WHERE layer = '%s' AND "
               "source_fid = %lld AND field = '%s' AND action = '%s'", layer, fid, field,
               repaired ? "repaired" : "rejected");
      if (q_int("city.sqlite", sql) != 1)
        HARNESS_FAIL("defect %s: %s feature %lld has no '%s' row for field %s", kind, layer,
                     fid, repaired ? "repaired" : "rejected", field);
      ASSERT(!harness_cur_failed);
    }
    if (!repaired) {
      expect_rejected += (int64_t)json_object_array_length(fids);
    } else {
      tgis_layer l;
      ASSERT_EQ(tgis_layer_from_name(&l, layer), TGIS_OK);
      repaired_in[l] += (int64_t)json_object_array_length(fids);
    }
  }
  /* Nothing else was rejected, and every valid or repaired feature was
   * stored (the manifest does not count a repairable polygon as valid). */
  for (int i = 0; i < TGIS_LAYER_COUNT; i++) {
    json_object *jl, *jv;
    total_rejected += res.layers[i].rejected;
    ASSERT(json_object_object_get_ex(layers, tgis_layer_name((tgis_layer)i), &jl));
    ASSERT(json_object_object_get_ex(jl, "valid", &jv));
    ASSERT_EQ(res.layers[i].inserted, json_object_get_int64(jv) + repaired_in[i]);
    ASSERT_EQ(res.layers[i].repaired, repaired_in[i]);
  }
  ASSERT_EQ(total_rejected, expect_rejected);
  json_object_put(root);
}

int main(void)
{
  RUN(test_import__real_districts_through_a_mapping_file);
  RUN(test_import__every_defect_gets_its_reason);
  RUN(test_import__modes_append_upsert_replace);
  RUN(test_import__cancel_leaves_nothing_but_the_log);
  RUN(test_import__source_without_crs_needs_s_srs);
  RUN(test_import__pulkovo_gauss_kruger_lands_where_cs2cs_puts_it);
  RUN(test_import__cp1251_shapefile_with_encoding);
  RUN(test_import__malformed_mapping_files_name_line_and_key);
  RUN(test_import__bad_sources_are_clear_errors);
  RUN(test_import__real_openstreetmap_extract);
  RUN(test_import__generated_city_defects_match_manifest);
  return harness_report();
}
