/*
 * geom_geos.c -- between plain-array geometry and GEOS (reentrant API).
 *
 * Used where topology matters: validity, repair, overlay. Coordinates move
 * through GEOSCoordSeq_copyFromBuffer_r / copyToBuffer_r, one call per
 * ring, not one per point.
 */
#include <geos_c.h>

#include "tgis_int.h"
#include "geom.h"

static GEOSCoordSequence *seq_from(GEOSContextHandle_t h, const double *xy, uint32_t n)
{
  return GEOSCoordSeq_copyFromBuffer_r(h, xy, n, 0, 0);
}

/* One polygon from rings [part, part + n_rings), points from xy. */
static GEOSGeometry *polygon_from(GEOSContextHandle_t h, const tgis_geombuf *g,
                                  size_t part, uint32_t n_rings, size_t *pt)
{
  GEOSGeometry *shell = NULL, **holes = NULL, *poly = NULL;
  uint32_t made = 0;

  if (n_rings == 0)
    return GEOSGeom_createEmptyPolygon_r(h);
  if (n_rings > 1 && !(holes = tgis__calloc(g->ctx, n_rings - 1, sizeof *holes)))
    return NULL;
  for (uint32_t r = 0; r < n_rings; r++) {
    uint32_t n = g->parts[part + r];
    GEOSCoordSequence *s = seq_from(h, g->xy + 2 * *pt, n);
    GEOSGeometry *ring = s ? GEOSGeom_createLinearRing_r(h, s) : NULL;
    *pt += n;
    if (!ring)
      goto fail;
    if (r == 0)
      shell = ring;
    else
      holes[made++] = ring;
  }
  poly = GEOSGeom_createPolygon_r(h, shell, holes, made);
  if (!poly)
    goto fail;
  tgis__free(g->ctx, holes);
  return poly;
fail:
  if (shell)
    GEOSGeom_destroy_r(h, shell);
  for (uint32_t i = 0; i < made; i++)
    GEOSGeom_destroy_r(h, holes[i]);
  tgis__free(g->ctx, holes);
  return NULL;
}

tgis_status tgis_geom__to_geos(struct GEOSGeom_t **out, tgis_ctx *ctx,
                               const tgis_geombuf *g)
{
  GEOSContextHandle_t h = tgis__geos(ctx);
  GEOSGeometry *geom = NULL, **members = NULL;
  size_t pt = 0, part = 0, n_members = 0;

  *out = NULL;
  switch (g->type) {
  case TGIS_GEOM_POINT:
    geom = g->n_points ? GEOSGeom_createPointFromXY_r(h, g->xy[0], g->xy[1])
                       : GEOSGeom_createEmptyPoint_r(h);
    break;
  case TGIS_GEOM_LINESTRING:
    if (g->n_parts == 0)
      geom = GEOSGeom_createEmptyLineString_r(h);
    else {
      GEOSCoordSequence *s = seq_from(h, g->xy, g->parts[0]);
      geom = s ? GEOSGeom_createLineString_r(h, s) : NULL;
    }
    break;
  case TGIS_GEOM_POLYGON:
    geom = polygon_from(h, g, 0, g->n_polys ? g->polys[0] : 0, &pt);
    break;
  case TGIS_GEOM_MULTILINESTRING:
  case TGIS_GEOM_MULTIPOLYGON: {
    int is_poly = g->type == TGIS_GEOM_MULTIPOLYGON;
    size_t n = is_poly ? g->n_polys : g->n_parts;
    if (n && !(members = tgis__calloc(ctx, n, sizeof *members)))
      return tgis__fail(ctx, TGIS_ENOMEM, "out of memory converting a geometry");
    for (size_t i = 0; i < n; i++) {
      if (is_poly) {
        members[i] = polygon_from(h, g, part, g->polys[i], &pt);
        part += g->polys[i];
      } else {
        GEOSCoordSequence *s = seq_from(h, g->xy + 2 * pt, g->parts[i]);
        members[i] = s ? GEOSGeom_createLineString_r(h, s) : NULL;
        pt += g->parts[i];
      }
      if (!members[i])
        goto fail;
      n_members++;
    }
    geom = GEOSGeom_createCollection_r(h, is_poly ? GEOS_MULTIPOLYGON : GEOS_MULTILINESTRING,
                                       members, (unsigned)n_members);
    if (!geom)
      goto fail;
    tgis__free(ctx, members);
    break;
  }
  default:
    return tgis__fail(ctx, TGIS_EINVAL, "geometry type %d is not supported", (int)g->type);
  }
  if (!geom)
    return tgis__fail_ctx(ctx, TGIS_EGEOS, "cannot build the geometry");
  *out = geom;
  return TGIS_OK;

fail:
  for (size_t i = 0; i < n_members; i++)
    GEOSGeom_destroy_r(h, members[i]);
  tgis__free(ctx, members);
  return tgis__fail_ctx(ctx, TGIS_EGEOS, "cannot build the geometry");
}

static tgis_status add_seq(tgis_geombuf *g, GEOSContextHandle_t h, const GEOSCoordSequence *s)
{
  unsigned int n = 0;
  tgis_status st;
  if (!GEOSCoordSeq_getSize_r(h, s, &n))
    return TGIS_EGEOS;
  for (unsigned int i = 0; i < n; i++) {
    double x, y;
    if (!GEOSCoordSeq_getXY_r(h, s, i, &x, &y))
      return TGIS_EGEOS;
    if ((st = tgis_geombuf_add_point(g, x, y)) != TGIS_OK)
      return st;
  }
  return tgis_geombuf_end_part(g);
}

/* Append the parts of `geom` that fit `want`; count the others. */
static tgis_status collect(tgis_geombuf *g, GEOSContextHandle_t h, const GEOSGeometry *geom,
                           tgis_geom_type want, int *dropped)
{
  int type = GEOSGeomTypeId_r(h, geom);
  tgis_status st;

  if (GEOSisEmpty_r(h, geom) == 1)
    return TGIS_OK;
  switch (type) {
  case GEOS_POINT:
    if (want != TGIS_GEOM_POINT && want != TGIS_GEOM_MULTIPOINT)
      break;
    {
      double x, y;
      if (!GEOSGeomGetX_r(h, geom, &x) || !GEOSGeomGetY_r(h, geom, &y))
        return TGIS_EGEOS;
      return tgis_geombuf_add_point(g, x, y);
    }
  case GEOS_LINESTRING:
  case GEOS_LINEARRING:
    if (want != TGIS_GEOM_LINESTRING && want != TGIS_GEOM_MULTILINESTRING)
      break;
    return add_seq(g, h, GEOSGeom_getCoordSeq_r(h, geom));
  case GEOS_POLYGON: {
    int holes = GEOSGetNumInteriorRings_r(h, geom);
    if (want != TGIS_GEOM_POLYGON && want != TGIS_GEOM_MULTIPOLYGON)
      break;
    if ((st = add_seq(g, h, GEOSGeom_getCoordSeq_r(h, GEOSGetExteriorRing_r(h, geom)))) != TGIS_OK)
      return st;
    for (int i = 0; i < holes; i++)
      if ((st = add_seq(g, h, GEOSGeom_getCoordSeq_r(h, GEOSGetInteriorRingN_r(h, geom, i)))) != TGIS_OK)
        return st;
    return tgis_geombuf_end_poly(g);
  }
  case GEOS_MULTIPOINT:
  case GEOS_MULTILINESTRING:
  case GEOS_MULTIPOLYGON:
  case GEOS_GEOMETRYCOLLECTION: {
    int n = GEOSGetNumGeometries_r(h, geom);
    for (int i = 0; i < n; i++)
      if ((st = collect(g, h, GEOSGetGeometryN_r(h, geom, i), want, dropped)) != TGIS_OK)
        return st;
    return TGIS_OK;
  }
  default:
    break;
  }
  if (dropped)
    (*dropped)++;
  return TGIS_OK;
}

tgis_status tgis_geom__from_geos(tgis_geombuf *g, tgis_ctx *ctx,
                                 const struct GEOSGeom_t *geom,
                                 tgis_geom_type want, int *dropped)
{
  tgis_status st;
  if (dropped)
    *dropped = 0;
  tgis_geombuf_reset(g, want);
  st = collect(g, tgis__geos(ctx), geom, want, dropped);
  if (st == TGIS_ENOMEM)
    return tgis__fail(ctx, st, "out of memory reading a geometry");
  if (st != TGIS_OK)
    return tgis__fail_ctx(ctx, st, "cannot read the geometry");
  return TGIS_OK;
}
