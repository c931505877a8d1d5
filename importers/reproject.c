/*
 * reproject.c -- moving source coordinates into the database CRS with PROJ.
 *
 * The transform is built once per source layer with
 * proj_create_crs_to_crs_from_pj, which picks the best operation for the
 * area (as cs2cs does), and normalised to x = easting/longitude so axis
 * order never depends on the CRS's definition. Coordinates are transformed
 * in place, a whole geometry per call.
 */
#include <math.h>
#include <string.h>

#include <cpl_conv.h>
#include <ogr_srs_api.h>

#include "import_int.h"

tgis_status tgis_reproject__init(tgis_reproject *r, tgis_ctx *ctx, OGRLayerH layer,
                                 const char *s_srs, int srid, const char *what)
{
  PJ_CONTEXT *pc = (PJ_CONTEXT *)tgis__proj(ctx);
  PJ *src = NULL, *dst = NULL, *op = NULL;
  char *wkt = NULL;
  char target[32];
  tgis_status st = TGIS_OK;

  memset(r, 0, sizeof *r);
  if (s_srs) {
    src = proj_create(pc, s_srs);
    if (!src)
      return tgis__fail_ctx(ctx, TGIS_EPROJ, "%s: --s-srs '%s' is not a CRS PROJ knows", what, s_srs);
  } else {
    OGRSpatialReferenceH srs = OGR_L_GetSpatialRef(layer);
    const char *opts[] = { "FORMAT=WKT2_2019", NULL };
    if (!srs)
      return tgis__fail(ctx, TGIS_EPROJ, "%s: the source has no CRS; give it with --s-srs "
                        "(e.g. --s-srs EPSG:4326)", what);
    if (OSRExportToWktEx(srs, &wkt, opts) != OGRERR_NONE || !(src = proj_create(pc, wkt))) {
      CPLFree(wkt);
      return tgis__fail_ctx(ctx, TGIS_EPROJ, "%s: cannot read the source's CRS", what);
    }
    CPLFree(wkt);
  }
  snprintf(r->src_name, sizeof r->src_name, "%s", proj_get_name(src) ? proj_get_name(src) : "?");
  snprintf(target, sizeof target, "EPSG:%d", srid);
  if (!(dst = proj_create(pc, target))) {
    st = tgis__fail_ctx(ctx, TGIS_EPROJ, "%s: cannot create %s", what, target);
    goto done;
  }
  if (proj_is_equivalent_to(src, dst, PJ_COMP_EQUIVALENT))
    goto done;  /* nothing to do */
  op = proj_create_crs_to_crs_from_pj(pc, src, dst, NULL, NULL);
  if (!op) {
    st = tgis__fail_ctx(ctx, TGIS_EPROJ, "%s: no transformation from %s to %s", what,
                        r->src_name, target);
    goto done;
  }
  r->pj = proj_normalize_for_visualization(pc, op);
  proj_destroy(op);
  if (!r->pj)
    st = tgis__fail_ctx(ctx, TGIS_EPROJ, "%s: cannot normalise the transformation", what);
done:
  proj_destroy(src);
  proj_destroy(dst);
  return st;
}

tgis_status tgis_reproject__apply(tgis_reproject *r, tgis_ctx *ctx, tgis_geombuf *g)
{
  size_t n = g->n_points;
  if (!r->pj || n == 0)
    return TGIS_OK;
  proj_trans_generic(r->pj, PJ_FWD, g->xy, 2 * sizeof(double), n, g->xy + 1,
                     2 * sizeof(double), n, NULL, 0, 0, NULL, 0, 0);
  for (size_t i = 0; i < 2 * n; i++)
    if (!isfinite(g->xy[i]))
      return TGIS_EPROJ;  /* the caller rejects the feature, naming it */
  return TGIS_OK;
}

void tgis_reproject__free(tgis_reproject *r)
{
  if (r && r->pj)
    proj_destroy(r->pj);
  if (r)
    r->pj = NULL;
}
