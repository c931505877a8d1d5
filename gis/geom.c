/*
 * geom.c -- the plain-array geometry buffer and the measures tgis needs
 * on it (extent, area, length, a fast validity test for simple parcels).
 */
#include <math.h>
#include <string.h>

#include "tgis_int.h"
#include "geom.h"

void tgis_geombuf_init(tgis_geombuf *g, tgis_ctx *ctx)
{
  memset(g, 0, sizeof *g);
  g->ctx = ctx;
}

void tgis_geombuf_reset(tgis_geombuf *g, tgis_geom_type type)
{
  g->type = type;
  g->n_points = g->n_parts = g->n_polys = 0;
}

void tgis_geombuf_free(tgis_geombuf *g)
{
  if (!g)
    return;
  tgis__free(g->ctx, g->xy);
  tgis__free(g->ctx, g->parts);
  tgis__free(g->ctx, g->polys);
  memset(g, 0, sizeof *g);
}

/* Grow an array to hold at least `need` elements of `size` bytes. */
static int grow(tgis_ctx *ctx, void **arr, size_t *cap, size_t need, size_t size)
{
  size_t n = *cap ? *cap : 16;
  void *p;
  if (need <= *cap)
    return 0;
  while (n < need)
    n *= 2;
  p = tgis__realloc(ctx, *arr, n * size);
  if (!p)
    return -1;
  *arr = p;
  *cap = n;
  return 0;
}

tgis_status tgis_geombuf_add_point(tgis_geombuf *g, double x, double y)
{
  if (grow(g->ctx, (void **)&g->xy, &g->cap_points, g->n_points + 1, 2 * sizeof(double)))
    return TGIS_ENOMEM;
  g->xy[2 * g->n_points] = x;
  g->xy[2 * g->n_points + 1] = y;
  g->n_points++;
  return TGIS_OK;
}

/* Points not yet assigned to a part. */
static size_t points_in_parts(const tgis_geombuf *g)
{
  size_t n = 0;
  for (size_t i = 0; i < g->n_parts; i++)
    n += g->parts[i];
  return n;
}

static size_t parts_in_polys(const tgis_geombuf *g)
{
  size_t n = 0;
  for (size_t i = 0; i < g->n_polys; i++)
    n += g->polys[i];
  return n;
}

tgis_status tgis_geombuf_end_part(tgis_geombuf *g)
{
  if (grow(g->ctx, (void **)&g->parts, &g->cap_parts, g->n_parts + 1, sizeof(uint32_t)))
    return TGIS_ENOMEM;
  g->parts[g->n_parts] = (uint32_t)(g->n_points - points_in_parts(g));
  g->n_parts++;
  return TGIS_OK;
}

tgis_status tgis_geombuf_end_poly(tgis_geombuf *g)
{
  if (grow(g->ctx, (void **)&g->polys, &g->cap_polys, g->n_polys + 1, sizeof(uint32_t)))
    return TGIS_ENOMEM;
  g->polys[g->n_polys] = (uint32_t)(g->n_parts - parts_in_polys(g));
  g->n_polys++;
  return TGIS_OK;
}

tgis_status tgis_geombuf_copy(tgis_geombuf *dst, const tgis_geombuf *src)
{
  if (grow(dst->ctx, (void **)&dst->xy, &dst->cap_points, src->n_points, 2 * sizeof(double)) ||
      grow(dst->ctx, (void **)&dst->parts, &dst->cap_parts, src->n_parts, sizeof(uint32_t)) ||
      grow(dst->ctx, (void **)&dst->polys, &dst->cap_polys, src->n_polys, sizeof(uint32_t)))
    return TGIS_ENOMEM;
  dst->type = src->type;
  dst->n_points = src->n_points;
  dst->n_parts = src->n_parts;
  dst->n_polys = src->n_polys;
  if (src->n_points)
    memcpy(dst->xy, src->xy, src->n_points * 2 * sizeof(double));
  if (src->n_parts)
    memcpy(dst->parts, src->parts, src->n_parts * sizeof(uint32_t));
  if (src->n_polys)
    memcpy(dst->polys, src->polys, src->n_polys * sizeof(uint32_t));
  return TGIS_OK;
}

tgis_extent tgis_geombuf_extent(const tgis_geombuf *g)
{
  tgis_extent e = { 0, 0, 0, 0 };
  if (g->n_points == 0)
    return e;
  e.minx = e.maxx = g->xy[0];
  e.miny = e.maxy = g->xy[1];
  for (size_t i = 1; i < g->n_points; i++) {
    double x = g->xy[2 * i], y = g->xy[2 * i + 1];
    if (x < e.minx) e.minx = x;
    if (x > e.maxx) e.maxx = x;
    if (y < e.miny) e.miny = y;
    if (y > e.maxy) e.maxy = y;
  }
  return e;
}

int tgis_geombuf_is_empty(const tgis_geombuf *g) { return g->n_points == 0; }

/* Signed shoelace area of n points starting at p (closed or not). */
static double ring_area(const double *p, size_t n)
{
  double a = 0;
  if (n < 3)
    return 0;
  for (size_t i = 0, j = n - 1; i < n; j = i++)
    a += (p[2 * j] - p[2 * i]) * (p[2 * j + 1] + p[2 * i + 1]);
  return a / 2;
}

double tgis_geombuf_area(const tgis_geombuf *g)
{
  double area = 0;
  size_t part = 0, pt = 0;
  if (g->type != TGIS_GEOM_POLYGON && g->type != TGIS_GEOM_MULTIPOLYGON)
    return 0;
  for (size_t p = 0; p < g->n_polys; p++) {
    for (uint32_t r = 0; r < g->polys[p]; r++, part++) {
      double a = fabs(ring_area(g->xy + 2 * pt, g->parts[part]));
      area += r == 0 ? a : -a;
      pt += g->parts[part];
    }
  }
  return area;
}

double tgis_geombuf_length(const tgis_geombuf *g)
{
  double len = 0;
  size_t pt = 0;
  for (size_t k = 0; k < g->n_parts; k++) {
    for (uint32_t i = 1; i < g->parts[k]; i++) {
      const double *a = g->xy + 2 * (pt + i - 1), *b = a + 2;
      len += hypot(b[0] - a[0], b[1] - a[1]);
    }
    pt += g->parts[k];
  }
  return len;
}

/* Orientation of c relative to segment ab: >0 left, <0 right, 0 collinear.
 * Exact for the doubles involved as long as the products do not round; for
 * parcels in metres (values < 1e7, spans < 1e4) they do not matter: a
 * near-zero result is treated as "cannot decide". */
static double orient(const double *a, const double *b, const double *c)
{
  return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]);
}

/* Do closed segments ab and cd share any point? Returns -1 when too close to
 * call (the caller asks GEOS). */
static int segments_meet(const double *a, const double *b, const double *c, const double *d)
{
  double scale = fabs(b[0] - a[0]) + fabs(b[1] - a[1]) + fabs(d[0] - c[0]) + fabs(d[1] - c[1]);
  double eps = scale * scale * 1e-12;
  double o1 = orient(a, b, c), o2 = orient(a, b, d);
  double o3 = orient(c, d, a), o4 = orient(c, d, b);
  if (fabs(o1) <= eps || fabs(o2) <= eps || fabs(o3) <= eps || fabs(o4) <= eps)
    return -1;
  return ((o1 > 0) != (o2 > 0)) && ((o3 > 0) != (o4 > 0));
}

int tgis_geombuf_simple_polygon_valid(const tgis_geombuf *g)
{
  const double *p;
  size_t n;

  if ((g->type != TGIS_GEOM_POLYGON && g->type != TGIS_GEOM_MULTIPOLYGON) ||
      g->n_polys != 1 || g->n_parts != 1)
    return 0;
  n = g->parts[0];
  p = g->xy;
  /* Closed, at least a triangle, few enough vertices for the O(n^2) test. */
  if (n < 4 || n > 64 || p[0] != p[2 * (n - 1)] || p[1] != p[2 * (n - 1) + 1])
    return 0;
  if (!isfinite(ring_area(p, n)) || ring_area(p, n) == 0)
    return 0;
  /* Every pair of non-adjacent segments must stay apart; adjacent ones may
   * share only their common vertex (no spikes: checked by orientation). */
  for (size_t i = 0; i + 1 < n; i++) {
    const double *a = p + 2 * i, *b = a + 2;
    if (a[0] == b[0] && a[1] == b[1])
      return 0;  /* repeated point: valid for GEOS, but let it decide */
    for (size_t j = i + 2; j + 1 < n; j++) {
      if (i == 0 && j == n - 2)
        continue;  /* first and last segments are adjacent */
      int m = segments_meet(a, b, p + 2 * j, p + 2 * j + 2);
      if (m != 0)
        return 0;
    }
  }
  /* Adjacent segments folding back on themselves make a spike. */
  for (size_t i = 0; i + 1 < n; i++) {
    const double *a = p + 2 * (i == 0 ? n - 2 : i - 1), *b = p + 2 * i, *c = p + 2 * (i + 1);
    double o = orient(a, b, c);
    if (o == 0 && ((c[0] - b[0]) * (a[0] - b[0]) + (c[1] - b[1]) * (a[1] - b[1])) > 0)
      return 0;
  }
  return 1;
}
