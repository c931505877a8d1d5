/*
 * test_generator.c -- the synthetic city generator (data/generator).
 *
 * One small city (scale 0.002) is generated once and read back with OGR;
 * every test checks the file against the manifest or against the rules the
 * generator promises: exact counts, valid identifiers except the injected
 * ones (which fail for the right reason), shared vertices at crossings,
 * bridges without them, connected utility networks, determinism, and the
 * refusal to overwrite.
 */
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <gdal.h>
#include <geos_c.h>
#include <json-c/json.h>
#include <ogr_api.h>

#include "generate.h"
#include "harness.h"
#include "tgis.h"
#include "tgis_int.h"

#define SCALE 0.002

static char city_path[512];
static json_object *manifest;   /* of city_path */

/* ---- helpers ------------------------------------------------------------ */

static int read_file(const char *path, char **buf, size_t *len)
{
  FILE *fp = fopen(path, "rb");
  long n;
  if (!fp)
    return -1;
  fseek(fp, 0, SEEK_END);
  n = ftell(fp);
  fseek(fp, 0, SEEK_SET);
  *buf = malloc((size_t)n + 1);
  if (!*buf || fread(*buf, 1, (size_t)n, fp) != (size_t)n) {
    fclose(fp);
    free(*buf);
    return -1;
  }
  (*buf)[n] = '\0';
  *len = (size_t)n;
  fclose(fp);
  return 0;
}

static int same_bytes(const char *a, const char *b)
{
  char *x = NULL, *y = NULL;
  size_t nx, ny;
  int same;
  if (read_file(a, &x, &nx) || read_file(b, &y, &ny)) {
    free(x);
    return -1;
  }
  same = nx == ny && memcmp(x, y, nx) == 0;
  free(x);
  free(y);
  return same;
}

static tgis_status generate(const char *path, double scale, uint64_t seed, tgis_ctx **ctx_out)
{
  tgis_gen_options o = TGIS_GEN_OPTIONS_INIT;
  tgis_ctx *ctx;
  tgis_status st;
  o.scale = scale;
  o.seed = seed;
  if (tgis_open(&ctx, NULL, NULL) != TGIS_OK)
    return TGIS_ENOMEM;
  st = tgis_generate(ctx, path, &o);
  if (st != TGIS_OK)
    fprintf(stderr, "tgis_generate(%s): %s\n", path, tgis_errmsg(ctx));
  if (ctx_out)
    *ctx_out = ctx;
  else
    tgis_close(ctx);
  return st;
}

/* The shared city and its manifest, made on first use. */
static int city(void)
{
  char mpath[600], *text = NULL;
  size_t len;
  if (manifest)
    return 0;
  harness_path(city_path, sizeof city_path, "city.gpkg");
  if (generate(city_path, SCALE, 1, NULL) != TGIS_OK)
    return -1;
  snprintf(mpath, sizeof mpath, "%s.manifest.json", city_path);
  if (read_file(mpath, &text, &len))
    return -1;
  manifest = json_tokener_parse(text);
  free(text);
  return manifest ? 0 : -1;
}

static json_object *jget(json_object *o, const char *path)
{
  char buf[256], *save = NULL, *key;
  snprintf(buf, sizeof buf, "%s", path);
  for (key = strtok_r(buf, ".", &save); key && o; key = strtok_r(NULL, ".", &save))
    if (!json_object_object_get_ex(o, key, &o))
      return NULL;
  return o;
}

static int64_t jint(const char *path)
{
  json_object *o = jget(manifest, path);
  return o ? json_object_get_int64(o) : -1;
}

static GDALDatasetH open_city(void)
{
  return GDALOpenEx(city_path, GDAL_OF_VECTOR | GDAL_OF_READONLY, NULL, NULL, NULL);
}

/* The defect kind (manifest key) of a feature, or NULL. */
static const char *defect_of(const char *layer, int64_t fid)
{
  json_object *defects = jget(manifest, "defects");
  json_object_object_foreach(defects, kind, d) {
    json_object *l, *fids;
    if (!json_object_object_get_ex(d, "layer", &l) ||
        strcmp(json_object_get_string(l), layer) != 0 ||
        !json_object_object_get_ex(d, "fids", &fids))
      continue;
    for (size_t i = 0; i < json_object_array_length(fids); i++)
      if (json_object_get_int64(json_object_array_get_idx(fids, i)) == fid)
        return kind;
  }
  return NULL;
}

static int64_t defects_in(const char *layer)
{
  int64_t n = 0;
  json_object *defects = jget(manifest, "defects");
  json_object_object_foreach(defects, kind, d) {
    json_object *l, *c;
    (void)kind;
    if (json_object_object_get_ex(d, "layer", &l) &&
        strcmp(json_object_get_string(l), layer) == 0 &&
        json_object_object_get_ex(d, "count", &c))
      n += json_object_get_int64(c);
  }
  return n;
}

static const char *fstr(OGRFeatureH f, const char *field)
{
  int i = OGR_F_GetFieldIndex(f, field);
  if (i < 0 || !OGR_F_IsFieldSetAndNotNull(f, i))
    return NULL;
  return OGR_F_GetFieldAsString(f, i);
}

static int64_t fint(OGRFeatureH f, const char *field)
{
  return OGR_F_GetFieldAsInteger64(f, OGR_F_GetFieldIndex(f, field));
}

static int count_files(const char *dir, const char *prefix)
{
  DIR *d = opendir(dir);
  struct dirent *e;
  int n = 0;
  if (!d)
    return -1;
  while ((e = readdir(d)) != NULL)
    if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
      n++;
  closedir(d);
  return n;
}

/* ---- tests -------------------------------------------------------------- */

static void test_generator__invalid_scale(void)
{
  static const double bad[] = { 0.0, -1.0, 5.0, 4.0000001 };
  char path[512];
  tgis_ctx *ctx;
  struct stat sb;

  harness_path(path, sizeof path, "bad-scale.gpkg");
  ASSERT_OK_CTX(NULL, tgis_open(&ctx, NULL, NULL));
  for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
    tgis_gen_options o = TGIS_GEN_OPTIONS_INIT;
    o.scale = bad[k];
    ASSERT_EQ(tgis_generate(ctx, path, &o), TGIS_EINVAL);
    ASSERT_CONTAINS(tgis_errmsg(ctx), "scale");
    ASSERT_CONTAINS(tgis_errmsg(ctx), "must be > 0 and <= 4");
    ASSERT(stat(path, &sb) != 0);
  }
  {
    tgis_gen_options o = TGIS_GEN_OPTIONS_INIT;
    o.version = 99;
    ASSERT_EQ(tgis_generate(ctx, path, &o), TGIS_EINVAL);
    ASSERT_CONTAINS(tgis_errmsg(ctx), "version");
  }
  tgis_close(ctx);
}

static void test_generator__deterministic(void)
{
  char a[512], b[512], c[512], ma[600], mb[600], mc[600];
  ASSERT(city() == 0);
  snprintf(a, sizeof a, "%s", city_path);
  harness_path(b, sizeof b, "again.gpkg");
  harness_path(c, sizeof c, "other-seed.gpkg");
  ASSERT_EQ(generate(b, SCALE, 1, NULL), TGIS_OK);
  ASSERT_EQ(generate(c, SCALE, 2, NULL), TGIS_OK);
  snprintf(ma, sizeof ma, "%s.manifest.json", a);
  snprintf(mb, sizeof mb, "%s.manifest.json", b);
  snprintf(mc, sizeof mc, "%s.manifest.json", c);
  ASSERT_EQ(same_bytes(a, b), 1);
  ASSERT_EQ(same_bytes(ma, mb), 1);
  ASSERT_EQ(same_bytes(a, c), 0);
  ASSERT_EQ(same_bytes(ma, mc), 0);
}

static void test_generator__counts_match_manifest(void)
{
  GDALDatasetH ds;
  ASSERT(city() == 0);
  ASSERT((ds = open_city()) != NULL);
  for (int id = 0; id < TGIS_LAYER_COUNT; id++) {
    const char *name = tgis_layer_name((tgis_layer)id);
    char key[128];
    OGRLayerH lyr = GDALDatasetGetLayerByName(ds, name);
    ASSERT(lyr != NULL);
    snprintf(key, sizeof key, "layers.%s.features", name);
    ASSERT_EQ(OGR_L_GetFeatureCount(lyr, TRUE), jint(key));
    snprintf(key, sizeof key, "layers.%s.valid", name);
    ASSERT_EQ(jint(key) + defects_in(name), OGR_L_GetFeatureCount(lyr, TRUE));
  }
  /* The parcel count meets its target within 3%. */
  ASSERT_EQ(jint("parcels.count"), jint("layers.parcels.features"));
  ASSERT_EQ(jint("parcels.target"), (int64_t)llround(1050000.0 * SCALE));
  ASSERT(llabs(jint("parcels.count") - jint("parcels.target")) <= jint("parcels.target") * 3 / 100);
  /* Facilities as promised for the scale. */
  ASSERT_EQ(jint("facilities.polyclinics"), 3);
  ASSERT_EQ(jint("facilities.schools"), 5);
  ASSERT_EQ(jint("layers.facilities.features"), 8);
  /* At least two of every defect kind. */
  {
    json_object *defects = jget(manifest, "defects");
    ASSERT(defects != NULL);
    json_object_object_foreach(defects, kind, d) {
      json_object *cnt, *fids;
      (void)kind;
      ASSERT(json_object_object_get_ex(d, "count", &cnt));
      ASSERT(json_object_object_get_ex(d, "fids", &fids));
      ASSERT(json_object_get_int64(cnt) >= 2);
      ASSERT_EQ(json_object_array_length(fids), json_object_get_int64(cnt));
    }
  }
  GDALClose(ds);
}

static void test_generator__districts(void)
{
  GDALDatasetH ds;
  OGRLayerH lyr;
  OGRFeatureH f;
  size_t n;
  const tgis_district_ref *refs = tgis_districts(&n);
  int seen[32] = { 0 };

  ASSERT(city() == 0);
  ASSERT((ds = open_city()) != NULL);
  ASSERT((lyr = GDALDatasetGetLayerByName(ds, "districts")) != NULL);
  ASSERT_EQ(OGR_L_GetFeatureCount(lyr, TRUE), 12);
  OGR_L_ResetReading(lyr);
  while ((f = OGR_L_GetNextFeature(lyr)) != NULL) {
    const char *soato = fstr(f, "soato");
    const tgis_district_ref *d = tgis_district_by_soato(soato);
    OGRGeometryH g = OGR_F_GetGeometryRef(f);
    int ok = d && strcmp(fstr(f, "name"), d->name) == 0 && fstr(f, "name_ru") &&
             g && wkbFlatten(OGR_G_GetGeometryType(g)) == wkbMultiPolygon;
    if (d)
      seen[d - refs]++;
    OGR_F_Destroy(f);
    ASSERT(ok);
  }
  for (size_t k = 0; k < n; k++)
    ASSERT_EQ(seen[k], 1);
  GDALClose(ds);
}

static void check_id(tgis_id_kind kind, const char *value, const char *defect,
                     const char *bad_kind, const char *reason, int *failures)
{
  tgis_id_check chk;
  tgis_id_verdict v = tgis_id_validate(&chk, kind, value);
  if (defect && strcmp(defect, bad_kind) == 0) {
    if (v != TGIS_ID_INVALID || (reason && !strstr(chk.reason, reason))) {
      fprintf(stderr, "  %s: expected invalid (%s), got %d \"%s\"\n", bad_kind,
              reason ? reason : "any", (int)v, chk.reason);
      (*failures)++;
    }
  } else if (v != TGIS_ID_VALID) {
    fprintf(stderr, "  %s %s: %s\n", tgis_id_kind_name(kind), value ? "set" : "NULL",
            chk.reason);
    (*failures)++;
  }
}

static void test_generator__identifiers(void)
{
  GDALDatasetH ds;
  OGRLayerH lyr;
  OGRFeatureH f;
  int failures = 0, checked_bad = 0;

  ASSERT(city() == 0);
  ASSERT((ds = open_city()) != NULL);
  ASSERT((lyr = GDALDatasetGetLayerByName(ds, "parcels")) != NULL);
  OGR_L_ResetReading(lyr);
  while ((f = OGR_L_GetNextFeature(lyr)) != NULL) {
    const char *d = defect_of("parcels", OGR_F_GetFID(f));
    const char *use = fstr(f, "land_use"), *tin = fstr(f, "owner_tin");
    const char *pinfl = fstr(f, "owner_pinfl");
    int private_ = use && strcmp(use, "residential") == 0;
    int legal = use && !private_ && strcmp(use, "green") != 0;

    check_id(TGIS_ID_CADASTRE, fstr(f, "cadastre"), d, "parcel_bad_cadastre", NULL, &failures);
    check_id(TGIS_ID_SOATO, fstr(f, "address_code"), d, "parcel_bad_address_code",
             "unknown Tashkent district", &failures);
    check_id(TGIS_ID_SOATO, fstr(f, "district"), NULL, "", NULL, &failures);
    if (strlen(fstr(f, "district")) != 7 || strlen(fstr(f, "address_code")) != 10 ||
        (!(d && strcmp(d, "parcel_bad_address_code") == 0) &&
         strncmp(fstr(f, "district"), fstr(f, "address_code"), 7) != 0))
      failures++;
    /* Owners: a PINFL for private houses, a TIN for legal entities. */
    if (private_ != (pinfl != NULL) || legal != (tin != NULL))
      failures++;
    if (pinfl)
      check_id(TGIS_ID_PINFL, pinfl, d, "parcel_bad_pinfl", "check digit", &failures);
    if (tin) {
      tgis_id_check chk;
      check_id(TGIS_ID_TIN, tin, d, "parcel_bad_tin", NULL, &failures);
      if (d && strcmp(d, "parcel_bad_tin") == 0 &&
          tgis_id_validate(&chk, TGIS_ID_TIN, tin) == TGIS_ID_INVALID &&
          !strstr(chk.reason, "first digit") && !strstr(chk.reason, "wrong length"))
        failures++;
    }
    if (d && (strcmp(d, "parcel_bad_cadastre") == 0 || strcmp(d, "parcel_bad_pinfl") == 0 ||
              strcmp(d, "parcel_bad_tin") == 0 || strcmp(d, "parcel_bad_address_code") == 0))
      checked_bad++;
    OGR_F_Destroy(f);
  }
  ASSERT_EQ(failures, 0);
  ASSERT_EQ(checked_bad, jint("defects.parcel_bad_cadastre.count") +
                         jint("defects.parcel_bad_pinfl.count") +
                         jint("defects.parcel_bad_tin.count") +
                         jint("defects.parcel_bad_address_code.count"));

  /* Facilities: address codes, except the injected ones. */
  ASSERT((lyr = GDALDatasetGetLayerByName(ds, "facilities")) != NULL);
  OGR_L_ResetReading(lyr);
  while ((f = OGR_L_GetNextFeature(lyr)) != NULL) {
    const char *d = defect_of("facilities", OGR_F_GetFID(f));
    check_id(TGIS_ID_SOATO, fstr(f, "address_code"), d, "facility_bad_address_code",
             "unknown Tashkent district", &failures);
    if (fint(f, "capacity") <= 0)
      failures++;
    OGR_F_Destroy(f);
  }
  ASSERT_EQ(failures, 0);
  GDALClose(ds);
}

static int cmp_str(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_generator__duplicate_cadastre(void)
{
  GDALDatasetH ds;
  OGRLayerH lyr;
  OGRFeatureH f;
  char **seen;
  size_t n = 0, cap;
  int64_t dups = 0, listed_dups = 0;

  ASSERT(city() == 0);
  ASSERT((ds = open_city()) != NULL);
  ASSERT((lyr = GDALDatasetGetLayerByName(ds, "parcels")) != NULL);
  cap = (size_t)OGR_L_GetFeatureCount(lyr, TRUE);
  ASSERT((seen = calloc(cap, sizeof *seen)) != NULL);
  OGR_L_ResetReading(lyr);
  while ((f = OGR_L_GetNextFeature(lyr)) != NULL && n < cap) {
    const char *d = defect_of("parcels", OGR_F_GetFID(f));
    seen[n++] = strdup(fstr(f, "cadastre"));
    listed_dups += d && strcmp(d, "parcel_duplicate_cadastre") == 0;
    OGR_F_Destroy(f);
  }
  qsort(seen, n, sizeof *seen, cmp_str);
  for (size_t i = 1; i < n; i++)
    dups += strcmp(seen[i - 1], seen[i]) == 0;
  for (size_t i = 0; i < n; i++)
    free(seen[i]);
  free(seen);
  GDALClose(ds);
  ASSERT_EQ(dups, jint("defects.parcel_duplicate_cadastre.count"));
  ASSERT_EQ(listed_dups, dups);
}

/* GEOS validity through the context's handle: 1 valid, 0 invalid. */
static int geos_valid(tgis_ctx *ctx, OGRGeometryH g)
{
  GEOSContextHandle_t h = (GEOSContextHandle_t)tgis__geos(ctx);
  size_t n = (size_t)OGR_G_WkbSize(g);
  unsigned char *wkb = malloc(n);
  GEOSWKBReader *r = GEOSWKBReader_create_r(h);
  GEOSGeometry *geom;
  int valid = -1;
  if (wkb && r && OGR_G_ExportToWkb(g, wkbNDR, wkb) == OGRERR_NONE &&
      (geom = GEOSWKBReader_read_r(h, r, wkb, n)) != NULL) {
    valid = GEOSisValid_r(h, geom);
    GEOSGeom_destroy_r(h, geom);
  }
  if (r)
    GEOSWKBReader_destroy_r(h, r);
  free(wkb);
  return valid;
}

static void test_generator__geometry_defects(void)
{
  GDALDatasetH ds;
  OGRLayerH lyr, dl;
  OGRFeatureH f;
  OGREnvelope city_env;
  tgis_ctx *ctx;
  int failures = 0;
  const char *layers[2] = { "parcels", "roads" };

  ASSERT(city() == 0);
  ASSERT_OK_CTX(NULL, tgis_open(&ctx, NULL, NULL));
  ASSERT((ds = open_city()) != NULL);
  ASSERT((dl = GDALDatasetGetLayerByName(ds, "districts")) != NULL);
  ASSERT(OGR_L_GetExtent(dl, &city_env, TRUE) == OGRERR_NONE);
  for (int k = 0; k < 2; k++) {
    ASSERT((lyr = GDALDatasetGetLayerByName(ds, layers[k])) != NULL);
    OGR_L_ResetReading(lyr);
    while ((f = OGR_L_GetNextFeature(lyr)) != NULL) {
      const char *d = defect_of(layers[k], OGR_F_GetFID(f));
      OGRGeometryH g = OGR_F_GetGeometryRef(f);
      OGREnvelope e;
      int bad = 0;
      if (g && !OGR_G_IsEmpty(g))
        OGR_G_GetEnvelope(g, &e);
      if (d && strstr(d, "null_geometry")) {
        bad = g != NULL;
      } else if (d && strstr(d, "empty_geometry")) {
        bad = !g || !OGR_G_IsEmpty(g);
      } else if (d && strstr(d, "outside_city")) {
        bad = !g || OGR_G_IsEmpty(g) || !(e.MinX > city_env.MaxX || e.MaxX < city_env.MinX ||
                                          e.MinY > city_env.MaxY || e.MaxY < city_env.MinY);
      } else if (d && strcmp(d, "parcel_wrong_geometry_type") == 0) {
        OGRwkbGeometryType t = g ? wkbFlatten(OGR_G_GetGeometryType(g)) : wkbUnknown;
        bad = t != wkbPoint && t != wkbLineString;
      } else if (d && strcmp(d, "parcel_self_intersection") == 0) {
        bad = !g || geos_valid(ctx, g) != 0;
      } else {
        /* A normal feature: in the city, of the layer's type, valid. */
        OGRwkbGeometryType want = k ? wkbLineString : wkbMultiPolygon;
        bad = !g || OGR_G_IsEmpty(g) || wkbFlatten(OGR_G_GetGeometryType(g)) != want ||
              e.MinX < city_env.MinX || e.MaxX > city_env.MaxX ||
              e.MinY < city_env.MinY || e.MaxY > city_env.MaxY ||
              (k == 0 && geos_valid(ctx, g) != 1);
      }
      if (bad) {
        fprintf(stderr, "  %s fid %lld (%s) is not as promised\n", layers[k],
                (long long)OGR_F_GetFID(f), d ? d : "normal");
        failures++;
      }
      OGR_F_Destroy(f);
    }
  }
  GDALClose(ds);
  tgis_close(ctx);
  ASSERT_EQ(failures, 0);
}

static void test_generator__residents(void)
{
  GDALDatasetH ds;
  OGRLayerH lyr;
  OGRFeatureH f;
  int64_t total = 0, valid = 0, target;

  ASSERT(city() == 0);
  ASSERT((ds = open_city()) != NULL);
  ASSERT((lyr = GDALDatasetGetLayerByName(ds, "parcels")) != NULL);
  OGR_L_ResetReading(lyr);
  while ((f = OGR_L_GetNextFeature(lyr)) != NULL) {
    int64_t r = fint(f, "residents");
    const char *use = fstr(f, "land_use");
    total += r;
    if (!defect_of("parcels", OGR_F_GetFID(f)))
      valid += r;
    /* Private 2-8, multifamily 100-600, nobody elsewhere. */
    if (strcmp(use, "residential") == 0 ? (r < 2 || r > 8) :
        strcmp(use, "multifamily") == 0 ? (r < 100 || r > 600) : r != 0)
      total = INT64_MIN / 2;
    OGR_F_Destroy(f);
  }
  GDALClose(ds);
  target = jint("residents.target");
  ASSERT_EQ(target, (int64_t)llround(3000000.0 * SCALE));
  ASSERT_EQ(total, jint("residents.total"));
  ASSERT_EQ(valid, jint("residents.valid"));
  ASSERT(llabs(total - target) <= target / 50);
}

/* Does any level-0 road feature other than `skip` have a vertex within
 * `tol` of (x, y)? Exact match when tol is 0. */
static int ground_vertex_near(OGRLayerH lyr, double x, double y, double tol, int64_t skip,
                              int *count)
{
  OGRFeatureH f;
  int found = 0;
  *count = 0;
  OGR_L_ResetReading(lyr);
  while ((f = OGR_L_GetNextFeature(lyr)) != NULL) {
    OGRGeometryH g = OGR_F_GetGeometryRef(f);
    if (g && OGR_F_GetFID(f) != skip && fint(f, "level") == 0) {
      int hit = 0;
      for (int i = 0; i < OGR_G_GetPointCount(g); i++) {
        double dx = OGR_G_GetX(g, i) - x, dy = OGR_G_GetY(g, i) - y;
        if (tol == 0.0 ? (dx == 0.0 && dy == 0.0) : (fabs(dx) <= tol && fabs(dy) <= tol))
          hit = 1;
      }
      *count += hit;
      found |= hit;
    }
    OGR_F_Destroy(f);
  }
  return found;
}

static void test_generator__roads_share_vertices(void)
{
  GDALDatasetH ds;
  OGRLayerH lyr;
  json_object *cross, *bridges;
  double cx, cy;
  int n;

  ASSERT(city() == 0);
  ASSERT((ds = open_city()) != NULL);
  ASSERT((lyr = GDALDatasetGetLayerByName(ds, "roads")) != NULL);
  /* The centre crossing: two primary streets and two radials meet there,
   * and every one of them has the crossing's exact coordinate. */
  ASSERT((cross = jget(manifest, "centre_crossing")) != NULL);
  cx = json_object_get_double(json_object_array_get_idx(cross, 0));
  cy = json_object_get_double(json_object_array_get_idx(cross, 1));
  ASSERT(ground_vertex_near(lyr, cx, cy, 0.0, -1, &n));
  ASSERT(n >= 4);

  /* Bridges: two vertices, on the ground network at both ends, and over
   * ground crossings at 1/3 and 2/3 where they have no vertex. */
  ASSERT((bridges = jget(manifest, "roads.bridge_fids")) != NULL);
  ASSERT(json_object_array_length(bridges) >= 3);
  for (size_t b = 0; b < json_object_array_length(bridges); b++) {
    int64_t fid = json_object_get_int64(json_object_array_get_idx(bridges, b));
    OGRFeatureH f = OGR_L_GetFeature(lyr, fid);
    OGRGeometryH g;
    double x0, y0, x1, y1;
    ASSERT(f != NULL);
    g = OGR_F_GetGeometryRef(f);
    ASSERT(g && OGR_G_GetPointCount(g) == 2);
    ASSERT_EQ(fint(f, "level"), 1);
    x0 = OGR_G_GetX(g, 0);
    y0 = OGR_G_GetY(g, 0);
    x1 = OGR_G_GetX(g, 1);
    y1 = OGR_G_GetY(g, 1);
    OGR_F_Destroy(f);
    ASSERT(ground_vertex_near(lyr, x0, y0, 0.0, fid, &n));
    ASSERT(ground_vertex_near(lyr, x1, y1, 0.0, fid, &n));
    for (int t = 1; t <= 2; t++) {
      /* ~1 m in degrees: the lattice is hundreds of metres. */
      ASSERT(ground_vertex_near(lyr, x0 + (x1 - x0) * t / 3.0, y0 + (y1 - y0) * t / 3.0,
                                1e-5, fid, &n));
    }
  }
  GDALClose(ds);
}

typedef struct unode {
  char *id;
  char kind[16];
  int reached;
} unode;

static int cmp_unode(const void *a, const void *b)
{
  return strcmp(((const unode *)a)->id, ((const unode *)b)->id);
}

static unode *find_node(unode *nodes, size_t n, const char *id)
{
  unode key;
  key.id = (char *)(uintptr_t)id;
  return bsearch(&key, nodes, n, sizeof *nodes, cmp_unode);
}

static void test_generator__utility_networks(void)
{
  static const char *const nets[4] = { "gas", "power", "water", "heat" };
  GDALDatasetH ds;
  OGRLayerH nl, ll;
  int failures = 0;

  ASSERT(city() == 0);
  ASSERT((ds = open_city()) != NULL);
  ASSERT((nl = GDALDatasetGetLayerByName(ds, "utility_nodes")) != NULL);
  ASSERT((ll = GDALDatasetGetLayerByName(ds, "utility_lines")) != NULL);
  for (int k = 0; k < 4; k++) {
    char filter[64], key[96];
    size_t n = 0, m = 0, cap;
    unode *nodes;
    char (*edges)[2][32];
    OGRFeatureH f;
    int changed = 1;

    snprintf(filter, sizeof filter, "network = '%s'", nets[k]);
    OGR_L_SetAttributeFilter(nl, filter);
    OGR_L_SetAttributeFilter(ll, filter);
    snprintf(key, sizeof key, "networks.%s.nodes", nets[k]);
    ASSERT_EQ(OGR_L_GetFeatureCount(nl, TRUE), jint(key));
    snprintf(key, sizeof key, "networks.%s.lines", nets[k]);
    ASSERT_EQ(OGR_L_GetFeatureCount(ll, TRUE), jint(key));
    cap = (size_t)OGR_L_GetFeatureCount(nl, TRUE) + 1;
    ASSERT((nodes = calloc(cap, sizeof *nodes)) != NULL);
    OGR_L_ResetReading(nl);
    while ((f = OGR_L_GetNextFeature(nl)) != NULL && n < cap) {
      nodes[n].id = strdup(fstr(f, "ext_id"));
      snprintf(nodes[n].kind, sizeof nodes[n].kind, "%s", fstr(f, "kind"));
      nodes[n].reached = strcmp(nodes[n].kind, "source") == 0;
      n++;
      OGR_F_Destroy(f);
    }
    qsort(nodes, n, sizeof *nodes, cmp_unode);
    cap = (size_t)OGR_L_GetFeatureCount(ll, TRUE) + 1;
    ASSERT((edges = calloc(cap, sizeof *edges)) != NULL);
    OGR_L_ResetReading(ll);
    while ((f = OGR_L_GetNextFeature(ll)) != NULL && m < cap) {
      const char *from = fstr(f, "from_node"), *to = fstr(f, "to_node");
      if (!from || !to || !find_node(nodes, n, from) || !find_node(nodes, n, to)) {
        fprintf(stderr, "  %s line %s: from/to node missing\n", nets[k], fstr(f, "ext_id"));
        failures++;
      } else {
        snprintf(edges[m][0], 32, "%s", from);
        snprintf(edges[m][1], 32, "%s", to);
        m++;
      }
      OGR_F_Destroy(f);
    }
    /* Flood from the sources over the lines (either direction). */
    while (changed) {
      changed = 0;
      for (size_t e = 0; e < m; e++) {
        unode *a = find_node(nodes, n, edges[e][0]), *b = find_node(nodes, n, edges[e][1]);
        if (a->reached != b->reached) {
          a->reached = b->reached = 1;
          changed = 1;
        }
      }
    }
    for (size_t i = 0; i < n; i++) {
      if (strcmp(nodes[i].kind, "consumer") == 0 && !nodes[i].reached) {
        fprintf(stderr, "  %s consumer %s is not reached from a source\n", nets[k],
                nodes[i].id);
        failures++;
      }
      free(nodes[i].id);
    }
    free(nodes);
    free(edges);
    /* Loop links are lines between the nodes the manifest names. */
    snprintf(key, sizeof key, "networks.%s.loop_links", nets[k]);
    {
      json_object *loops = jget(manifest, key);
      ASSERT(loops != NULL);
      for (size_t i = 0; i < json_object_array_length(loops); i++) {
        json_object *lk = json_object_array_get_idx(loops, i);
        char q[256];
        snprintf(q, sizeof q, "ext_id = '%s' AND from_node = '%s' AND to_node = '%s'",
                 json_object_get_string(jget(lk, "line")),
                 json_object_get_string(jget(lk, "from")),
                 json_object_get_string(jget(lk, "to")));
        OGR_L_SetAttributeFilter(ll, q);
        if (OGR_L_GetFeatureCount(ll, TRUE) != 1)
          failures++;
      }
    }
  }
  OGR_L_SetAttributeFilter(nl, NULL);
  OGR_L_SetAttributeFilter(ll, NULL);
  GDALClose(ds);
  ASSERT_EQ(failures, 0);
}

static void test_generator__refuses_to_overwrite(void)
{
  char path[512], *after = NULL;
  size_t na;
  tgis_ctx *ctx;
  tgis_gen_options o = TGIS_GEN_OPTIONS_INIT;
  FILE *fp;

  harness_path(path, sizeof path, "existing.gpkg");
  ASSERT((fp = fopen(path, "wb")) != NULL);
  fputs("not to be touched\n", fp);
  fclose(fp);
  o.scale = SCALE;
  ASSERT_OK_CTX(NULL, tgis_open(&ctx, NULL, NULL));
  ASSERT_EQ(tgis_generate(ctx, path, &o), TGIS_EEXISTS);
  ASSERT_CONTAINS(tgis_errmsg(ctx), "existing.gpkg");
  ASSERT_CONTAINS(tgis_errmsg(ctx), "exists");
  tgis_close(ctx);
  ASSERT(read_file(path, &after, &na) == 0);
  ASSERT_STR_EQ(after, "not to be touched\n");
  free(after);
  /* No manifest, no partial files. */
  ASSERT_EQ(count_files(harness_tmpdir(), "existing.gpkg"), 1);
}

static void test_generator__failure_leaves_nothing(void)
{
  char dir[512], path[600];
  tgis_ctx *ctx;
  tgis_gen_options o = TGIS_GEN_OPTIONS_INIT;

  /* A directory that is not there: creating the file fails. */
  harness_path(dir, sizeof dir, "no-such-dir");
  snprintf(path, sizeof path, "%s/city.gpkg", dir);
  o.scale = SCALE;
  ASSERT_OK_CTX(NULL, tgis_open(&ctx, NULL, NULL));
  ASSERT_EQ(tgis_generate(ctx, path, &o), TGIS_EIO);
  ASSERT_CONTAINS(tgis_errmsg(ctx), "city.gpkg");
  tgis_close(ctx);
  ASSERT_EQ(count_files(harness_tmpdir(), "no-such-dir"), 0);
}

int main(void)
{
  GDALAllRegister();
  RUN(test_generator__invalid_scale);
  RUN(test_generator__deterministic);
  RUN(test_generator__counts_match_manifest);
  RUN(test_generator__districts);
  RUN(test_generator__identifiers);
  RUN(test_generator__duplicate_cadastre);
  RUN(test_generator__geometry_defects);
  RUN(test_generator__residents);
  RUN(test_generator__roads_share_vertices);
  RUN(test_generator__utility_networks);
  RUN(test_generator__refuses_to_overwrite);
  RUN(test_generator__failure_leaves_nothing);
  if (manifest)
    json_object_put(manifest);
  return harness_report();
}
