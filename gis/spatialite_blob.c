/*
 * spatialite_blob.c -- SpatiaLite's BLOB-Geometry format, written and read
 * directly from plain arrays.
 *
 * Encoding ourselves spares a WKB round trip through GeomFromWKB() per row
 * on import, and decoding spares a GEOS or gaia object per feature when a
 * tile or a graph reads geometry. The layout (little-endian here):
 *   0x00 | 0x01 | srid:int32 | mbr: 4 doubles | 0x7C | class:int32 | body | 0xFE
 * A body is x,y for a point; n:int32 + points for a line; rings:int32 +
 * (n:int32 + points)* for a polygon; a multi type is n:int32 followed by
 * n times (0x69 | class:int32 | body). Z, M and ZM classes (+1000, +2000,
 * +3000) are read with their extra ordinates skipped; compressed classes
 * are refused.
 */
#include <math.h>
#include <string.h>

#include "store_spatialite_int.h"
#include "geom.h"

#define BLOB_START 0x00
#define BLOB_LITTLE 0x01
#define BLOB_MBR_END 0x7C
#define BLOB_ENTITY 0x69
#define BLOB_END 0xFE

static unsigned char *put_i32(unsigned char *p, int32_t v) { memcpy(p, &v, 4); return p + 4; }
static unsigned char *put_f64(unsigned char *p, double v) { memcpy(p, &v, 8); return p + 8; }

static size_t poly_body_size(const tgis_geombuf *g, size_t poly, size_t part0)
{
  size_t n = 4;
  for (uint32_t r = 0; r < g->polys[poly]; r++)
    n += 4 + (size_t)g->parts[part0 + r] * 16;
  return n;
}

size_t tgis_sl__blob_size(const tgis_geombuf *g)
{
  size_t n = 1 + 1 + 4 + 32 + 1 + 4 + 1, part = 0;
  switch (g->type) {
  case TGIS_GEOM_POINT:
    return n + 16;
  case TGIS_GEOM_LINESTRING:
    return n + 4 + (g->n_parts ? (size_t)g->parts[0] * 16 : 0);
  case TGIS_GEOM_POLYGON:
    return n + (g->n_polys ? poly_body_size(g, 0, 0) : 4);
  case TGIS_GEOM_MULTIPOINT:
    return n + 4 + g->n_points * (1 + 4 + 16);
  case TGIS_GEOM_MULTILINESTRING:
    n += 4;
    for (size_t i = 0; i < g->n_parts; i++)
      n += 1 + 4 + 4 + (size_t)g->parts[i] * 16;
    return n;
  case TGIS_GEOM_MULTIPOLYGON:
    n += 4;
    for (size_t i = 0; i < g->n_polys; i++) {
      n += 1 + 4 + poly_body_size(g, i, part);
      part += g->polys[i];
    }
    return n;
  default:
    return 0;
  }
}

/* Points `first` .. first + n of g. An empty buffer may have no array at
 * all: neither copy from nor offset a NULL pointer (found by fuzzing). */
static unsigned char *put_points(unsigned char *p, const tgis_geombuf *g, size_t first, uint32_t n)
{
  if (n == 0)
    return p;
  memcpy(p, g->xy + 2 * first, (size_t)n * 16);
  return p + (size_t)n * 16;
}

static unsigned char *put_poly(unsigned char *p, const tgis_geombuf *g, size_t poly,
                               size_t *part, size_t *pt)
{
  uint32_t rings = g->polys[poly];
  p = put_i32(p, (int32_t)rings);
  for (uint32_t r = 0; r < rings; r++) {
    uint32_t n = g->parts[*part];
    p = put_i32(p, (int32_t)n);
    p = put_points(p, g, *pt, n);
    *pt += n;
    (*part)++;
  }
  return p;
}

size_t tgis_sl__blob_encode(unsigned char *buf, const tgis_geombuf *g, int srid)
{
  tgis_extent e = tgis_geombuf_extent(g);
  unsigned char *p = buf;
  size_t part = 0, pt = 0;

  *p++ = BLOB_START;
  *p++ = BLOB_LITTLE;
  p = put_i32(p, srid);
  p = put_f64(p, e.minx);
  p = put_f64(p, e.miny);
  p = put_f64(p, e.maxx);
  p = put_f64(p, e.maxy);
  *p++ = BLOB_MBR_END;
  p = put_i32(p, (int32_t)g->type);
  switch (g->type) {
  case TGIS_GEOM_POINT:
    if (g->n_points) {
      p = put_points(p, g, 0, 1);
    } else {
      p = put_f64(p, NAN);  /* an empty point, as WKB writes it */
      p = put_f64(p, NAN);
    }
    break;
  case TGIS_GEOM_LINESTRING: {
    uint32_t n = g->n_parts ? g->parts[0] : 0;
    p = put_i32(p, (int32_t)n);
    p = put_points(p, g, 0, n);
    break;
  }
  case TGIS_GEOM_POLYGON:
    if (g->n_polys)
      p = put_poly(p, g, 0, &part, &pt);
    else
      p = put_i32(p, 0);
    break;
  case TGIS_GEOM_MULTIPOINT:
    p = put_i32(p, (int32_t)g->n_points);
    for (size_t i = 0; i < g->n_points; i++) {
      *p++ = BLOB_ENTITY;
      p = put_i32(p, TGIS_GEOM_POINT);
      p = put_points(p, g, i, 1);
    }
    break;
  case TGIS_GEOM_MULTILINESTRING:
    p = put_i32(p, (int32_t)g->n_parts);
    for (size_t i = 0; i < g->n_parts; i++) {
      *p++ = BLOB_ENTITY;
      p = put_i32(p, TGIS_GEOM_LINESTRING);
      p = put_i32(p, (int32_t)g->parts[i]);
      p = put_points(p, g, pt, g->parts[i]);
      pt += g->parts[i];
    }
    break;
  case TGIS_GEOM_MULTIPOLYGON:
    p = put_i32(p, (int32_t)g->n_polys);
    for (size_t i = 0; i < g->n_polys; i++) {
      *p++ = BLOB_ENTITY;
      p = put_i32(p, TGIS_GEOM_POLYGON);
      p = put_poly(p, g, i, &part, &pt);
    }
    break;
  default:
    return 0;
  }
  *p++ = BLOB_END;
  return (size_t)(p - buf);
}

/* ---- decoding ------------------------------------------------------------ */

typedef struct reader {
  const unsigned char *p, *end;
  int dims;            /* ordinates per point: 2, 3 or 4 */
} reader;

static int get_i32(reader *r, int32_t *v)
{
  if (r->end - r->p < 4)
    return -1;
  memcpy(v, r->p, 4);
  r->p += 4;
  return 0;
}

static tgis_status get_points(reader *r, tgis_geombuf *g, int32_t n)
{
  size_t stride = (size_t)r->dims * 8;
  if (n < 0 || (size_t)(r->end - r->p) / stride < (size_t)n)
    return TGIS_EPARSE;
  for (int32_t i = 0; i < n; i++) {
    double xy[2];
    memcpy(xy, r->p, 16);
    r->p += stride;
    if (tgis_geombuf_add_point(g, xy[0], xy[1]) != TGIS_OK)
      return TGIS_ENOMEM;
  }
  return TGIS_OK;
}

static tgis_status get_line(reader *r, tgis_geombuf *g)
{
  int32_t n;
  tgis_status st;
  if (get_i32(r, &n))
    return TGIS_EPARSE;
  if ((st = get_points(r, g, n)) != TGIS_OK)
    return st;
  return tgis_geombuf_end_part(g);
}

static tgis_status get_poly(reader *r, tgis_geombuf *g)
{
  int32_t rings;
  tgis_status st;
  if (get_i32(r, &rings) || rings < 0)
    return TGIS_EPARSE;
  for (int32_t i = 0; i < rings; i++)
    if ((st = get_line(r, g)) != TGIS_OK)
      return st;
  return tgis_geombuf_end_poly(g);
}

/* Split a class code into its base type and ordinate count. */
static int class_dims(int32_t cls, int *base)
{
  if (cls >= 1 && cls <= 7) { *base = cls; return 2; }
  if (cls >= 1001 && cls <= 1007) { *base = cls - 1000; return 3; }
  if (cls >= 2001 && cls <= 2007) { *base = cls - 2000; return 3; }
  if (cls >= 3001 && cls <= 3007) { *base = cls - 3000; return 4; }
  return -1;
}

static tgis_status get_body(reader *r, tgis_geombuf *g, int base)
{
  switch (base) {
  case TGIS_GEOM_POINT: {
    tgis_status st = get_points(r, g, 1);
    return st;
  }
  case TGIS_GEOM_LINESTRING:
    return get_line(r, g);
  case TGIS_GEOM_POLYGON:
    return get_poly(r, g);
  default:
    return TGIS_EPARSE;
  }
}

tgis_status tgis_sl__blob_decode(tgis_geombuf *g, const unsigned char *blob, size_t n,
                                 int *srid)
{
  reader r = { blob, blob + n, 2 };
  int32_t cls, v, count;
  int base;
  tgis_status st;

  if (n < 44 || blob[0] != BLOB_START || blob[1] != BLOB_LITTLE || blob[38] != BLOB_MBR_END ||
      blob[n - 1] != BLOB_END)
    return TGIS_EPARSE;
  memcpy(&v, blob + 2, 4);
  if (srid)
    *srid = v;
  r.p = blob + 39;
  r.end = blob + n - 1;
  if (get_i32(&r, &cls) || (r.dims = class_dims(cls, &base)) < 0)
    return TGIS_EPARSE;
  tgis_geombuf_reset(g, (tgis_geom_type)base);
  if (base <= 3) {
    st = get_body(&r, g, base);
  } else if (base == 7) {
    return TGIS_ENOTSUP;  /* tgis layers hold no collections */
  } else {
    if (get_i32(&r, &count) || count < 0)
      return TGIS_EPARSE;
    st = TGIS_OK;
    for (int32_t i = 0; i < count && st == TGIS_OK; i++) {
      int member_base;
      if (r.p >= r.end || *r.p++ != BLOB_ENTITY || get_i32(&r, &cls) ||
          (r.dims = class_dims(cls, &member_base)) < 0 || member_base != base - 3)
        return TGIS_EPARSE;
      st = get_body(&r, g, member_base);
    }
  }
  if (st == TGIS_OK && r.p != r.end)
    return TGIS_EPARSE;
  return st;
}
