/*
 * gpkg_writer.c -- the GeoPackage the generator writes, through GDAL's OGR
 * C API.
 *
 * One dataset, six layers in EPSG:4326 (lon/lat order), one transaction
 * for the whole run. Each layer keeps one feature object that is reset and
 * refilled for every row: every field is set (to a value or to null) each
 * time, so the driver reuses one prepared INSERT. Geometries are built from
 * UTM coordinates and transformed to lon/lat with PROJ just before they
 * are handed to the feature, so no more than one geometry exists at a time.
 * Fids are assigned explicitly (1, 2, ...) so the manifest can name them.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <cpl_conv.h>
#include <cpl_error.h>
#include <ogr_srs_api.h>

#include "gen_int.h"

typedef struct field_def {
  const char *name;
  OGRFieldType type;
} field_def;

static const field_def districts_fields[] = {
  { "soato", OFTString }, { "name", OFTString }, { "name_ru", OFTString }, { NULL, 0 },
};
static const field_def parcels_fields[] = {
  { "cadastre", OFTString }, { "land_use", OFTString }, { "area_m2", OFTReal },
  { "residents", OFTInteger }, { "district", OFTString }, { "address_code", OFTString },
  { "owner_tin", OFTString }, { "owner_pinfl", OFTString }, { NULL, 0 },
};
static const field_def roads_fields[] = {
  { "ext_id", OFTString }, { "class", OFTString }, { "name", OFTString },
  { "oneway", OFTInteger }, { "maxspeed", OFTInteger }, { "level", OFTInteger },
  { NULL, 0 },
};
static const field_def lines_fields[] = {
  { "ext_id", OFTString }, { "network", OFTString }, { "from_node", OFTString },
  { "to_node", OFTString }, { "kind", OFTString }, { "diameter_mm", OFTInteger },
  { "voltage_kv", OFTReal }, { NULL, 0 },
};
static const field_def nodes_fields[] = {
  { "ext_id", OFTString }, { "network", OFTString }, { "kind", OFTString },
  { "name", OFTString }, { NULL, 0 },
};
static const field_def facilities_fields[] = {
  { "ext_id", OFTString }, { "kind", OFTString }, { "name", OFTString },
  { "capacity", OFTInteger }, { "address_code", OFTString }, { NULL, 0 },
};

/*
 * Indexed by tgis_layer. The bulk layers get no RTree spatial index:
 * SQLite builds an RTree at about 15 us a row, which at full scale is 26 s
 * of a 36 s run (and 100 MB) for an index nothing downstream uses: the
 * importers read the file sequentially. The small layers keep theirs.
 * `ogrinfo city.gpkg -sql "SELECT CreateSpatialIndex('parcels','geom')"`
 * adds one afterwards.
 */
static const struct {
  OGRwkbGeometryType type;
  const field_def *fields;
  int spatial_index;
} layer_defs[TGIS_LAYER_COUNT] = {
  { wkbMultiPolygon, districts_fields, 1 },
  { wkbMultiPolygon, parcels_fields, 0 },
  { wkbLineString, roads_fields, 1 },
  { wkbLineString, lines_fields, 0 },
  { wkbPoint, nodes_fields, 0 },
  { wkbPoint, facilities_fields, 1 },
};

static const char *gdal_msg(const gen_writer *w)
{
  return w->gdal_err[0] ? w->gdal_err : "unknown GDAL error";
}

static tgis_status create_layer(gen_writer *w, tgis_layer id, OGRSpatialReferenceH srs)
{
  const char *name = tgis_layer_name(id);
  char *opts[] = { (char *)"GEOMETRY_NAME=geom", (char *)"FID=fid",
                   layer_defs[id].spatial_index ? (char *)"SPATIAL_INDEX=YES"
                                                : (char *)"SPATIAL_INDEX=NO",
                   NULL };
  OGRLayerH lyr = GDALDatasetCreateLayer(w->ds, name, srs, layer_defs[id].type, opts);

  if (!lyr)
    return tgis__fail(w->ctx, TGIS_EIO, "%s: cannot create layer %s: %s", w->display, name,
                      gdal_msg(w));
  for (const field_def *fd = layer_defs[id].fields; fd->name; fd++) {
    OGRFieldDefnH fdef = OGR_Fld_Create(fd->name, fd->type);
    OGRErr err;
    if (!fdef)
      return tgis__fail(w->ctx, TGIS_ENOMEM, "%s: out of memory", w->display);
    err = OGR_L_CreateField(lyr, fdef, TRUE);
    OGR_Fld_Destroy(fdef);
    if (err != OGRERR_NONE)
      return tgis__fail(w->ctx, TGIS_EIO, "%s: cannot create field %s.%s: %s", w->display,
                        name, fd->name, gdal_msg(w));
  }
  w->lyr[id] = lyr;
  w->feat[id] = OGR_F_Create(OGR_L_GetLayerDefn(lyr));
  if (!w->feat[id])
    return tgis__fail(w->ctx, TGIS_ENOMEM, "%s: out of memory", w->display);
  return TGIS_OK;
}

static tgis_status make_shared_geometries(gen_writer *w)
{
  OGRGeometryH poly;
  w->mpoly = OGR_G_CreateGeometry(wkbMultiPolygon);
  w->line = OGR_G_CreateGeometry(wkbLineString);
  w->point = OGR_G_CreateGeometry(wkbPoint);
  poly = OGR_G_CreateGeometry(wkbPolygon);
  w->mpoly_ring = OGR_G_CreateGeometry(wkbLinearRing);
  if (!w->mpoly || !w->line || !w->point || !poly || !w->mpoly_ring ||
      OGR_G_AddGeometryDirectly(poly, w->mpoly_ring) != OGRERR_NONE) {
    if (poly)
      OGR_G_DestroyGeometry(poly);
    else if (w->mpoly_ring)
      OGR_G_DestroyGeometry(w->mpoly_ring);
    w->mpoly_ring = NULL;
    return tgis__fail(w->ctx, TGIS_ENOMEM, "%s: out of memory", w->display);
  }
  if (OGR_G_AddGeometryDirectly(w->mpoly, poly) != OGRERR_NONE) {
    OGR_G_DestroyGeometry(poly);
    return tgis__fail(w->ctx, TGIS_ENOMEM, "%s: out of memory", w->display);
  }
  /* Within the multipolygon, the ring is owned by it; keep a handle. */
  w->mpoly_ring = OGR_G_GetGeometryRef(OGR_G_GetGeometryRef(w->mpoly, 0), 0);
  return TGIS_OK;
}

tgis_status tgis_gen__writer_open(gen_writer *w, tgis_ctx *ctx, const char *file,
                                  const char *display, PJ *pj)
{
  GDALDriverH drv = GDALGetDriverByName("GPKG");
  OGRSpatialReferenceH srs = NULL;
  tgis_status st = TGIS_OK;

  w->ctx = ctx;
  w->display = display;
  w->pj = pj;
  w->gdal_err[0] = '\0';
  if (!drv)
    return tgis__fail(ctx, TGIS_ENOTSUP, "%s: cannot create: GDAL has no GPKG driver",
                      display);
  w->ds = GDALCreate(drv, file, 0, 0, 0, GDT_Unknown, NULL);
  if (!w->ds)
    return tgis__fail(ctx, TGIS_EIO, "%s: cannot create: %s", display, gdal_msg(w));
  srs = OSRNewSpatialReference(NULL);
  if (!srs || OSRImportFromEPSG(srs, 4326) != OGRERR_NONE) {
    st = tgis__fail(ctx, TGIS_EPROJ, "%s: EPSG:4326 unknown to GDAL: %s", display,
                    gdal_msg(w));
    goto done;
  }
  OSRSetAxisMappingStrategy(srs, OAMS_TRADITIONAL_GIS_ORDER);
  if ((st = make_shared_geometries(w)) != TGIS_OK)
    goto done;
  for (int id = 0; id < TGIS_LAYER_COUNT; id++)
    if ((st = create_layer(w, (tgis_layer)id, srs)) != TGIS_OK)
      goto done;
  if (GDALDatasetStartTransaction(w->ds, FALSE) != OGRERR_NONE) {
    st = tgis__fail(ctx, TGIS_EIO, "%s: cannot start a transaction: %s", display,
                    gdal_msg(w));
    goto done;
  }
  w->in_transaction = 1;
done:
  if (srs)
    OSRRelease(srs);
  return st;
}

/* Take a feature's geometry back: ours are kept, others destroyed. */
static void take_back(gen_writer *w, OGRFeatureH f)
{
  OGRGeometryH g = OGR_F_StealGeometry(f);
  if (g && g != w->mpoly && g != w->line && g != w->point)
    OGR_G_DestroyGeometry(g);
}

static void release(gen_writer *w)
{
  for (int id = 0; id < TGIS_LAYER_COUNT; id++) {
    if (w->feat[id]) {
      take_back(w, w->feat[id]);
      OGR_F_Destroy(w->feat[id]);
    }
    w->feat[id] = NULL;
    w->lyr[id] = NULL;
  }
  if (w->mpoly)
    OGR_G_DestroyGeometry(w->mpoly);
  if (w->line)
    OGR_G_DestroyGeometry(w->line);
  if (w->point)
    OGR_G_DestroyGeometry(w->point);
  w->mpoly = w->mpoly_ring = w->line = w->point = NULL;
  tgis__free(w->ctx, w->buf);
  w->buf = NULL;
  w->cap = 0;
}

tgis_status tgis_gen__writer_finish(gen_writer *w)
{
  tgis_status st = TGIS_OK;
  if (w->in_transaction && GDALDatasetCommitTransaction(w->ds) != OGRERR_NONE)
    st = tgis__fail(w->ctx, TGIS_EIO, "%s: cannot commit: %s", w->display, gdal_msg(w));
  w->in_transaction = 0;
  release(w);
  /* Closing builds the spatial indexes and flushes; failures there only
   * show through the error handler. */
  w->gdal_err[0] = '\0';
  GDALClose(w->ds);
  w->ds = NULL;
  if (st == TGIS_OK && w->gdal_err[0])
    st = tgis__fail(w->ctx, TGIS_EIO, "%s: cannot finish writing: %s", w->display,
                    w->gdal_err);
  return st;
}

void tgis_gen__writer_abort(gen_writer *w)
{
  if (!w->ctx)
    return;
  if (w->ds && w->in_transaction)
    GDALDatasetRollbackTransaction(w->ds);
  w->in_transaction = 0;
  release(w);
  if (w->ds)
    GDALClose(w->ds);
  w->ds = NULL;
}

OGRFeatureH tgis_gen__feature(gen_writer *w, tgis_layer layer)
{
  OGRFeatureH f = w->feat[layer];
  int n = OGR_F_GetFieldCount(f);
  OGR_F_SetFID(f, (GIntBig)(w->count[layer] + 1));
  for (int i = 0; i < n; i++)
    OGR_F_SetFieldNull(f, i);
  take_back(w, f);
  return f;
}

void tgis_gen__set_str(OGRFeatureH f, int field, const char *s)
{
  if (s)
    OGR_F_SetFieldString(f, field, s);
  else
    OGR_F_SetFieldNull(f, field);
}

tgis_status tgis_gen__to_lonlat(gen_writer *w, double *xy, size_t n)
{
  if (proj_trans_generic(w->pj, PJ_FWD, xy, 2 * sizeof(double), n, xy + 1,
                         2 * sizeof(double), n, NULL, 0, 0, NULL, 0, 0) != n)
    return tgis__fail_ctx(w->ctx, TGIS_EPROJ, "%s: cannot transform to EPSG:4326",
                          w->display);
  for (size_t i = 0; i < 2 * n; i++)
    if (!isfinite(xy[i]) || xy[i] == HUGE_VAL)
      return tgis__fail(w->ctx, TGIS_EPROJ, "%s: cannot transform to EPSG:4326",
                        w->display);
  return TGIS_OK;
}

/* Copy n UTM points into the scratch buffer and transform them. */
static tgis_status transformed(gen_writer *w, const double *xy, size_t n, double **out)
{
  if (n > w->cap) {
    size_t cap = n < 64 ? 64 : n;
    double *nb = tgis__realloc(w->ctx, w->buf, cap * 2 * sizeof *nb);
    if (!nb)
      return tgis__fail(w->ctx, TGIS_ENOMEM, "%s: out of memory", w->display);
    w->buf = nb;
    w->cap = cap;
  }
  memcpy(w->buf, xy, n * 2 * sizeof *xy);
  *out = w->buf;
  return tgis_gen__to_lonlat(w, w->buf, n);
}

tgis_status tgis_gen__set_polygon_ll(gen_writer *w, OGRFeatureH f, const double *ll,
                                     size_t n)
{
  take_back(w, f);
  OGR_G_SetPoints(w->mpoly_ring, (int)n, ll, 2 * sizeof(double), ll + 1,
                  2 * sizeof(double), NULL, 0);
  OGR_F_SetGeometryDirectly(f, w->mpoly);
  return TGIS_OK;
}

tgis_status tgis_gen__set_polygon(gen_writer *w, OGRFeatureH f, const double *xy,
                                  size_t n)
{
  double *ll = NULL;
  tgis_status st = transformed(w, xy, n, &ll);
  if (st != TGIS_OK)
    return st;
  return tgis_gen__set_polygon_ll(w, f, ll, n);
}

tgis_status tgis_gen__set_line(gen_writer *w, OGRFeatureH f, const double *xy, size_t n)
{
  double *ll = NULL;
  tgis_status st = transformed(w, xy, n, &ll);
  if (st != TGIS_OK)
    return st;
  take_back(w, f);
  OGR_G_SetPoints(w->line, (int)n, ll, 2 * sizeof(double), ll + 1, 2 * sizeof(double),
                  NULL, 0);
  OGR_F_SetGeometryDirectly(f, w->line);
  return TGIS_OK;
}

tgis_status tgis_gen__set_point(gen_writer *w, OGRFeatureH f, double x, double y)
{
  double xy[2] = { x, y };
  tgis_status st = tgis_gen__to_lonlat(w, xy, 1);
  if (st != TGIS_OK)
    return st;
  take_back(w, f);
  OGR_G_SetPoint_2D(w->point, 0, xy[0], xy[1]);
  OGR_F_SetGeometryDirectly(f, w->point);
  return TGIS_OK;
}

tgis_status tgis_gen__write(gen_writer *w, tgis_layer layer, int quiet, int64_t *fid)
{
  OGRFeatureH f = w->feat[layer];
  OGRErr err;
  if (quiet)
    CPLPushErrorHandler(CPLQuietErrorHandler);
  err = OGR_L_CreateFeature(w->lyr[layer], f);
  if (quiet)
    CPLPopErrorHandler();
  /* No feature keeps a shared geometry between calls. */
  take_back(w, f);
  if (err != OGRERR_NONE)
    return tgis__fail(w->ctx, TGIS_EIO, "%s: cannot write feature %lld of layer %s: %s",
                      w->display, (long long)(w->count[layer] + 1), tgis_layer_name(layer),
                      gdal_msg(w));
  w->count[layer]++;
  if (fid)
    *fid = (int64_t)OGR_F_GetFID(f);
  return TGIS_OK;
}

tgis_status tgis_gen__districts_write(gen_state *g)
{
  tgis_status st;
  for (int k = 0; k < GEN_NDIST; k++) {
    const gen_district *d = &g->city.d[k];
    OGRFeatureH f = tgis_gen__feature(&g->w, TGIS_LAYER_DISTRICTS);
    OGRGeometryH geom = OGR_G_Clone(d->geom_ll);
    if (!geom)
      return tgis__fail(g->ctx, TGIS_ENOMEM, "%s: out of memory", g->path);
    tgis_gen__set_str(f, GEN_F_D_SOATO, d->soato);
    tgis_gen__set_str(f, GEN_F_D_NAME, d->name);
    tgis_gen__set_str(f, GEN_F_D_NAME_RU, d->name_ru);
    OGR_F_SetGeometryDirectly(f, geom);
    if ((st = tgis_gen__write(&g->w, TGIS_LAYER_DISTRICTS, 0, NULL)) != TGIS_OK)
      return st;
  }
  return TGIS_OK;
}
