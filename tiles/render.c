/*
 * render.c -- draws a tile: query, transform, batch, rasterise, labels.
 *
 * The style's layers are taken in groups of consecutive layers that read
 * the same source layer; each group is one query. Every feature the source
 * emits is checked against each layer of the group (zoom, filter), moved
 * into pixels once, with vertices closer than half a pixel dropped, and
 * filed into a batch keyed by (pass, layer, colour class). A batch becomes
 * one fill or stroke: a few dozen paints per tile instead of one per
 * feature. Within a group all fills come first, then casings, strokes and
 * point symbols, so road casings never cover the junctions of other roads.
 *
 * Coordinates: a point's global pixel position at scale 1 is computed from
 * metres by one formula, and the image's pixels are that minus an integer
 * origin, times the scale. The two subtractions are exact for a city far
 * from the antimeridian, so neighbouring tiles see the very same fractional
 * positions, and draw their shared pixels identically.
 *
 * Labels (labels.c): every label of the area is a candidate with a box,
 * an anchor in global pixels and a rank from tile-independent keys (style
 * priority, feature length or area, layer, id, position). A candidate is drawn if no
 * higher-ranked candidate overlaps it (or repeats its text too near).
 * Unlike greedy placement this depends only on candidates within reach of
 * the label itself, so with the query extended by three label reaches
 * both tiles of a label crossing their edge take the same decision.
 *
 * Where Cairo is slow for map work (tiles/bench_render, tiles/bench_raster)
 * our own rasterisers stand in: fills, wide strokes and dashes go through
 * the exact-area scanline rasteriser (raster.c), hairlines (strokes up to
 * 1.5 px, i.e. parcel outlines) are drawn by distance-based coverage into
 * a mask, label glyphs are Cairo's outlines (cached) filled by raster.c
 * into a mask, and label halos are that mask dilated, not stroked glyph
 * outlines. Point symbols stay Cairo's.
 */
#include <assert.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cairo.h>

#include "render_int.h"

/* ---- small helpers ------------------------------------------------------- */

/* CPU time of this thread: per-core figures that other load does not
 * inflate. */
static double now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}



static int filters_pass(const tgis_style_layer *l, const tgis_feature_view *f)
{
  for (size_t i = 0; i < l->n_filters; i++) {
    const char *v = attr(f, l->filters[i].key);
    size_t j;
    if (!v)
      return 0;
    for (j = 0; j < l->filters[i].n_values; j++)
      if (strcmp(v, l->filters[i].values[j]) == 0)
        break;
    if (j == l->filters[i].n_values)
      return 0;
  }
  return 1;
}

/* Colour class of a feature: 0 for a constant colour, the class index for
 * classes (n_classes for the default), -1 when not painted. */
static int paint_class(const tgis_style_paint *p, const tgis_feature_view *f)
{
  const char *v;
  char *end;
  double d;
  switch (p->kind) {
  case TGIS_PAINT_NONE:
    return -1;
  case TGIS_PAINT_COLOUR:
    return 0;
  case TGIS_PAINT_CLASSES:
    v = attr(f, p->attribute);
    if (v && *v) {
      d = strtod(v, &end);
      if (!*end && isfinite(d))
        for (size_t i = 0; i < p->n_classes; i++)
          if (d >= p->classes[i].min && d < p->classes[i].max)
            return (int)i;
    }
    return p->has_default ? (int)p->n_classes : -1;
  case TGIS_PAINT_MATCH:
    v = attr(f, p->attribute);
    if (v)
      for (size_t i = 0; i < p->n_classes; i++)
        if (strcmp(v, p->classes[i].value) == 0)
          return (int)i;
    return p->has_default ? (int)p->n_classes : -1;
  }
  return -1;
}

static tgis_rgba paint_colour(const tgis_style_paint *p, int cls)
{
  if (p->kind == TGIS_PAINT_COLOUR)
    return p->colour;
  if (p->kind == TGIS_PAINT_CLASSES || p->kind == TGIS_PAINT_MATCH)
    return (size_t)cls < p->n_classes ? p->classes[cls].colour : p->fallback;
  return (tgis_rgba){ 0, 0, 0, 0 };
}

static void set_colour(cairo_t *cr, tgis_rgba c)
{
  cairo_set_source_rgba(cr, c.r / 255.0, c.g / 255.0, c.b / 255.0, c.a / 255.0);
}



/* ---- geometry into pixels ------------------------------------------------ */

/* Append one run of points (a ring or a line) in image pixels, dropping
 * vertices within half a pixel of the last one kept. Returns the number of
 * points kept. */
static size_t add_run(frame *fr, const double *xy, size_t n, int closed)
{
  tgis_render_scratch *r = fr->r;
  double *out = r->pts + 2 * r->n_pts;
  double s = fr->scale, lx = 0, ly = 0;
  size_t kept = 0;
  if (closed && n > 1 && xy[0] == xy[2 * (n - 1)] && xy[1] == xy[2 * (n - 1) + 1])
    n--;   /* Cairo closes the ring itself */
  for (size_t i = 0; i < n; i++) {
    double x = (gpx(fr, xy[2 * i]) - fr->ox) * s;
    double y = (gpy(fr, xy[2 * i + 1]) - fr->oy) * s;
    x = x < -COORD_LIMIT ? -COORD_LIMIT : x > COORD_LIMIT ? COORD_LIMIT : x;
    y = y < -COORD_LIMIT ? -COORD_LIMIT : y > COORD_LIMIT ? COORD_LIMIT : y;
    if (kept > 0 && fabs(x - lx) < 0.5 && fabs(y - ly) < 0.5) {
      /* A line keeps its true end: move the last kept vertex there. */
      if (!closed && i == n - 1 && kept > 1) {
        out[2 * (kept - 1)] = x;
        out[2 * (kept - 1) + 1] = y;
      }
      continue;
    }
    out[2 * kept] = lx = x;
    out[2 * kept + 1] = ly = y;
    kept++;
  }
  return kept;
}

static tgis_status push_ring(frame *fr, size_t kept, int closed, int want_ccw)
{
  tgis_render_scratch *r = fr->r;
  rring *rg;
  if (kept < (closed ? 3u : 2u))
    return TGIS_OK;
  if (closed) {
    /* Shells one way round, holes the other: then a nonzero fill of many
     * polygons in one path keeps holes and merges overlaps. */
    double *p = r->pts + 2 * r->n_pts, a = 0;
    for (size_t i = 0, j = kept - 1; i < kept; j = i++)
      a += (p[2 * j] - p[2 * i]) * (p[2 * j + 1] + p[2 * i + 1]);
    if ((a > 0) != want_ccw) {
      for (size_t i = 0, j = kept - 1; i < j; i++, j--) {
        double tx = p[2 * i], ty = p[2 * i + 1];
        p[2 * i] = p[2 * j];
        p[2 * i + 1] = p[2 * j + 1];
        p[2 * j] = tx;
        p[2 * j + 1] = ty;
      }
    }
  }
  if (reserve(r->ctx, &r->rings, &r->cap_rings, r->n_rings + 1, sizeof *r->rings))
    return TGIS_ENOMEM;
  rg = &r->rings[r->n_rings++];
  rg->off = (uint32_t)r->n_pts;
  rg->n = (uint32_t)kept;
  rg->closed = closed;
  r->n_pts += kept;
  return TGIS_OK;
}

/* Transform a feature's geometry into rings[*ring0 .. +*nrings]. */
static tgis_status transform(frame *fr, const tgis_geombuf *g, uint32_t *ring0, uint32_t *nrings)
{
  tgis_render_scratch *r = fr->r;
  tgis_status st;
  size_t pt = 0, part = 0;
  *ring0 = (uint32_t)r->n_rings;
  if (r->n_pts + g->n_points > UINT32_MAX ||
      reserve(r->ctx, &r->pts, &r->cap_pts, r->n_pts + g->n_points + 1, 2 * sizeof(double)))
    return TGIS_ENOMEM;
  switch (g->type) {
  case TGIS_GEOM_POINT:
  case TGIS_GEOM_MULTIPOINT: {
    /* Every point is a symbol: no thinning. */
    double *out = r->pts + 2 * r->n_pts;
    for (size_t i = 0; i < g->n_points; i++) {
      out[2 * i] = (gpx(fr, g->xy[2 * i]) - fr->ox) * fr->scale;
      out[2 * i + 1] = (gpy(fr, g->xy[2 * i + 1]) - fr->oy) * fr->scale;
    }
    if (reserve(r->ctx, &r->rings, &r->cap_rings, r->n_rings + 1, sizeof *r->rings))
      return TGIS_ENOMEM;
    r->rings[r->n_rings++] = (rring){ (uint32_t)r->n_pts, (uint32_t)g->n_points, 0 };
    r->n_pts += g->n_points;
    break;
  }
  case TGIS_GEOM_LINESTRING:
  case TGIS_GEOM_MULTILINESTRING:
    if (g->n_parts == 0) {
      if ((st = push_ring(fr, add_run(fr, g->xy, g->n_points, 0), 0, 0)))
        return st;
      break;
    }
    for (part = 0; part < g->n_parts && pt + g->parts[part] <= g->n_points; part++) {
      if ((st = push_ring(fr, add_run(fr, g->xy + 2 * pt, g->parts[part], 0), 0, 0)))
        return st;
      pt += g->parts[part];
    }
    break;
  case TGIS_GEOM_POLYGON:
  case TGIS_GEOM_MULTIPOLYGON: {
    size_t npoly = g->n_polys ? g->n_polys : 1;
    for (size_t p = 0; p < npoly; p++) {
      size_t nr = g->n_polys ? g->polys[p] : g->n_parts;
      for (size_t k = 0; k < nr && part < g->n_parts; k++, part++) {
        if (pt + g->parts[part] > g->n_points)
          break;
        if ((st = push_ring(fr, add_run(fr, g->xy + 2 * pt, g->parts[part], 1), 1, k == 0)))
          return st;
        pt += g->parts[part];
      }
    }
    break;
  }
  default:
    break;
  }
  *nrings = (uint32_t)(r->n_rings - *ring0);
  return TGIS_OK;
}

/* ---- batches ------------------------------------------------------------- */

static tgis_status add_item(frame *fr, size_t li, int pass, int cls, tgis_rgba colour,
                            uint32_t ring0, uint32_t nrings)
{
  tgis_render_scratch *r = fr->r;
  int *slot = &r->bidx[((li - fr->g0) * N_PASS + (size_t)pass) * (size_t)fr->cls_stride + (size_t)cls];
  if (*slot < 0) {
    if (reserve(r->ctx, &r->batches, &r->cap_batches, r->n_batches + 1, sizeof *r->batches))
      return TGIS_ENOMEM;
    r->batches[r->n_batches] = (rbatch){ (uint32_t)li, pass, cls, colour, 0, 0 };
    *slot = (int)r->n_batches++;
  }
  if (reserve(r->ctx, &r->items, &r->cap_items, r->n_items + 1, sizeof *r->items))
    return TGIS_ENOMEM;
  r->items[r->n_items++] = (ritem){ (uint32_t)*slot, ring0, nrings };
  r->batches[*slot].count++;
  return TGIS_OK;
}

static int batch_cmp(const rbatch *a, const rbatch *b)
{
  if (a->pass != b->pass)
    return a->pass - b->pass;
  if (a->layer != b->layer)
    return a->layer < b->layer ? -1 : 1;
  return a->cls - b->cls;
}

static void path_symbols(cairo_t *cr, const tgis_render_scratch *r, const ritem *it,
                         tgis_symbol_shape shape, double half)
{
  for (uint32_t k = 0; k < it->nrings; k++) {
    const rring *rg = &r->rings[it->ring0 + k];
    const double *p = r->pts + 2 * (size_t)rg->off;
    for (uint32_t i = 0; i < rg->n; i++) {
      double x = p[2 * i], y = p[2 * i + 1];
      if (shape == TGIS_SYMBOL_SQUARE) {
        cairo_rectangle(cr, x - half, y - half, 2 * half, 2 * half);
      } else {
        cairo_new_sub_path(cr);
        cairo_arc(cr, x, y, half, 0, 2 * M_PI);
      }
    }
  }
}

/* The pen of a point symbol's outline. */
static void set_line(cairo_t *cr, const tgis_style_layer *l, double width)
{
  static const cairo_line_cap_t caps[] = { CAIRO_LINE_CAP_BUTT, CAIRO_LINE_CAP_ROUND,
                                           CAIRO_LINE_CAP_SQUARE };
  static const cairo_line_join_t joins[] = { CAIRO_LINE_JOIN_ROUND, CAIRO_LINE_JOIN_MITER,
                                             CAIRO_LINE_JOIN_BEVEL };
  cairo_set_line_width(cr, width);
  cairo_set_line_cap(cr, caps[l->cap]);
  cairo_set_line_join(cr, joins[l->join]);
}

/* ---- hairlines ----------------------------------------------------------- */

/*
 * Thin strokes (parcel outlines: most of the edges of a tile) are drawn by
 * this small rasteriser instead of Cairo's stroker, which costs about ten
 * times as much for them (tiles/bench_render). Each pixel near a segment
 * gets the coverage of a box filter across a line of width w at distance d
 * from the pixel centre, clamp(0.5 + w/2 - d, 0, min(1, w)), in a coverage
 * mask; overlapping segments take the maximum, so a shared parcel edge is
 * not darkened twice (the union, as a Cairo stroke of one path gives).
 * The mask is then composited once in the batch's colour, over the pixels
 * it touched only.
 */

static void hair_segment(uint8_t *m, int w, int h, hair_box *bb, double x0, double y0,
                         double x1, double y1, double width)
{
  double dx = x1 - x0, dy = y1 - y0, len = dist(dx, dy), reach = width / 2 + 0.5;
  double cmax = width < 1 ? width : 1, ux = 1, uy = 0, slope, across, lo, hi;
  int major_x = fabs(dx) >= fabs(dy), a0, a1, lim_a, lim_b, lo_b = INT_MAX, hi_b = INT_MIN;
  if (len > 1e-9) {
    ux = dx / len;
    uy = dy / len;
  }
  /* Walk the major axis pixel by pixel; across it, the pixels within
   * reach of the line. */
  lo = major_x ? fmin(x0, x1) : fmin(y0, y1);
  hi = major_x ? fmax(x0, x1) : fmax(y0, y1);
  lim_a = major_x ? w : h;
  lim_b = major_x ? h : w;
  a0 = ifloor(lo - reach);
  a1 = ifloor(hi + reach);
  a0 = a0 < 0 ? 0 : a0;
  a1 = a1 >= lim_a ? lim_a - 1 : a1;
  if (a0 > a1)
    return;
  slope = major_x ? (dx != 0 ? dy / dx : 0) : (dy != 0 ? dx / dy : 0);
  across = len > 1e-9 ? reach * len / fabs(major_x ? dx : dy) : reach;
  for (int a = a0; a <= a1; a++) {
    double ca = a + 0.5, cm;
    int b0, b1;
    double cc = ca < lo ? lo : ca > hi ? hi : ca;
    cm = major_x ? y0 + (cc - x0) * slope : x0 + (cc - y0) * slope;
    b0 = ifloor(cm - across);
    b1 = ifloor(cm + across);
    b0 = b0 < 0 ? 0 : b0;
    b1 = b1 >= lim_b ? lim_b - 1 : b1;
    {
      /* Along the column, the pixel centre's position along the line (t)
       * and across it (n) change by constant steps. */
      double px0 = (major_x ? a : b0) + 0.5 - x0, py0 = (major_x ? b0 : a) + 0.5 - y0;
      double t = px0 * ux + py0 * uy, n = px0 * uy - py0 * ux;
      double dt = major_x ? uy : ux, dn = major_x ? -ux : uy, c0 = 0.5 + width / 2;
      for (int q = b0; q <= b1; q++, t += dt, n += dn) {
        double d, cov;
        if (t >= 0 && t <= len) {
          d = fabs(n);                          /* to the line itself */
        } else {
          int x = major_x ? a : q, y = major_x ? q : a;
          double ex = t < 0 ? x + 0.5 - x0 : x + 0.5 - x1, ey = t < 0 ? y + 0.5 - y0 : y + 0.5 - y1;
          d = sqrt(ex * ex + ey * ey);          /* to the nearer end */
        }
        cov = c0 - d;
        if (cov > 0) {
          uint8_t v = (uint8_t)((cov > cmax ? cmax : cov) * 255 + 0.5);
          uint8_t *p = major_x ? m + (size_t)q * (size_t)w + (size_t)a
                               : m + (size_t)a * (size_t)w + (size_t)q;
          if (v > *p)
            *p = v;
        }
      }
    }
    lo_b = b0 < lo_b ? b0 : lo_b;
    hi_b = b1 > hi_b ? b1 : hi_b;
  }
  /* The box grows once per segment, by every column walked. */
  if (major_x) {
    if (a0 < bb->x0) bb->x0 = a0;
    if (a1 > bb->x1) bb->x1 = a1;
    if (lo_b < bb->y0) bb->y0 = lo_b;
    if (hi_b > bb->y1) bb->y1 = hi_b;
  } else {
    if (a0 < bb->y0) bb->y0 = a0;
    if (a1 > bb->y1) bb->y1 = a1;
    if (lo_b < bb->x0) bb->x0 = lo_b;
    if (hi_b > bb->x1) bb->x1 = hi_b;
  }
}

/* The hairline mask, sized to the surface and all zero. */
tgis_status tgis_render__hair_buffer(tgis_render_scratch *r)
{
  if (reserve(r->ctx, &r->hair, &r->cap_hair, (size_t)r->sw * (size_t)r->sh, 1))
    return TGIS_ENOMEM;
  if (r->hair_w != r->sw || r->hair_h != r->sh) {
    memset(r->hair, 0, (size_t)r->sw * (size_t)r->sh);
    r->hair_w = r->sw;
    r->hair_h = r->sh;
  }
  return TGIS_OK;
}

/* Composite `colour` through a coverage mask (row stride `mstride`) into
 * Cairo's premultiplied ARGB pixels within box bb, clearing the mask there
 * as it goes. */
void tgis_render__composite_mask(tgis_render_scratch *r, uint8_t *m, int mstride, tgis_rgba colour,
                                 const hair_box *bb)
{
  uint8_t *dst;
  int sstride;
  uint32_t src = tgis_premultiply(colour), tab[256];
  cairo_surface_flush(r->surface);
  dst = cairo_image_surface_get_data(r->surface);
  sstride = cairo_image_surface_get_stride(r->surface);
  /* The colour at every coverage, once per call rather than per pixel. */
  for (uint32_t cov = 0; cov < 256; cov++)
    tab[cov] = tgis_scale(src, tgis_coverage_level(cov));
  for (int y = bb->y0; y <= bb->y1; y++) {
    uint8_t *mr = m + (size_t)y * (size_t)mstride;
    uint32_t *d = (uint32_t *)(void *)(dst + (size_t)y * (size_t)sstride);
    for (int x8 = bb->x0; x8 <= bb->x1; x8 += 8) {
      /* Most of a hairline mask is empty: skip it eight at a time. */
      int end = x8 + 8 <= bb->x1 + 1 ? x8 + 8 : bb->x1 + 1;
      uint64_t eight = 0;
      if (end - x8 == 8) {
        memcpy(&eight, mr + x8, 8);
        if (!eight)
          continue;
      }
      for (int x = x8; x < end; x++) {
        if (!mr[x])
          continue;
        d[x] = tgis_over(tab[mr[x]], d[x]);
        mr[x] = 0;
      }
    }
  }
  cairo_surface_mark_dirty(r->surface);
}

/* What the rasteriser holds, painted in `colour` into the surface. */
static void paint_surface(tgis_render_scratch *r, tgis_rgba colour)
{
  cairo_surface_flush(r->surface);
  tgis_raster_paint(r->raster, cairo_image_surface_get_data(r->surface),
                    cairo_image_surface_get_stride(r->surface), colour);
  cairo_surface_mark_dirty(r->surface);
}

/* Where a batch's lines go: thin ones into the hairline mask, wide ones to
 * the exact-area rasteriser's stroker. */
typedef struct line_sink {
  tgis_render_scratch *r;
  int hair;
  double width;
  hair_box bb;
  tgis_raster_pen pen;
} line_sink;

static void sink_line(line_sink *s, const double *p, size_t n, int closed)
{
  int w = s->r->sw, h = s->r->sh;
  size_t nseg = closed ? n : n - 1;
  if (n < 2)
    return;
  if (!s->hair) {
    tgis_raster_stroke(s->r->raster, p, n, closed, &s->pen);
    return;
  }
  for (size_t i = 0; i < nseg; i++) {
    const double *a = p + 2 * i, *c = p + 2 * ((i + 1) % n);
    if (fmax(a[0], c[0]) < -2 || fmin(a[0], c[0]) > w + 2 || fmax(a[1], c[1]) < -2 ||
        fmin(a[1], c[1]) > h + 2)
      continue;   /* wholly outside the image */
    hair_segment(s->r->hair, w, h, &s->bb, a[0], a[1], c[0], c[1], s->width);
  }
}

/* A dash as a hairline: the hairline's ends reach half its width beyond
 * its end points (round), so a butt-capped dash is trimmed by as much at
 * each end, or its gaps would close up. */
static void dash_sink(line_sink *s, double *p, size_t n)
{
  if (s->hair && s->pen.cap == TGIS_CAP_BUTT && n >= 2) {
    double cut = s->width / 2;
    for (int end = 0; end < 2; end++) {
      double *a = end ? p + 2 * (n - 1) : p, *b = end ? p + 2 * (n - 2) : p + 2;
      double dx = b[0] - a[0], dy = b[1] - a[1], len = dist(dx, dy);
      double t = len > 0 ? fmin(cut, (n == 2 ? len / 2 : len)) / len : 0;
      a[0] += dx * t;
      a[1] += dy * t;
    }
  }
  sink_line(s, p, n, 0);
}

/* The dash pattern of a line: on/off lengths in px, doubled when odd (the
 * second round swaps on and off), as Cairo takes it. */
typedef struct dash_pattern {
  double len[16];
  int n;
  double period;
} dash_pattern;

/*
 * A line cut into its dashes, each handed to the sink as a line of its
 * own; the pattern starts afresh at every line, from its first point.
 * Segments wholly outside the image only advance the pattern: a long road
 * beyond the tile costs no dashes.
 */
static tgis_status dash_line(line_sink *s, const dash_pattern *dp, const double *p, size_t n,
                             int closed)
{
  tgis_render_scratch *r = s->r;
  size_t nseg = closed ? n : n - 1, m = 0;
  double left = dp->len[0], margin = s->width + 2;
  int idx = 0, on = 1;
  if (n < 2)
    return TGIS_OK;
  if (reserve(r->ctx, &r->dpts, &r->cap_dpts, n + 2, 2 * sizeof(double)))
    return TGIS_ENOMEM;
#define DASH_PUT(x, y) (r->dpts[2 * m] = (x), r->dpts[2 * m + 1] = (y), m++)
  DASH_PUT(p[0], p[1]);
  for (size_t i = 0; i < nseg; i++) {
    const double *a = p + 2 * i, *c = p + 2 * ((i + 1) % n);
    double dx = c[0] - a[0], dy = c[1] - a[1], len = dist(dx, dy), t = 0;
    if (!(len > 0))
      continue;
    if (fmax(a[0], c[0]) < -margin || fmin(a[0], c[0]) > r->sw + margin ||
        fmax(a[1], c[1]) < -margin || fmin(a[1], c[1]) > r->sh + margin) {
      /* Outside: end the dash here, step the pattern on by the length. */
      double rest = len;
      if (on) {
        DASH_PUT(c[0], c[1]);
        dash_sink(s, r->dpts, m);
      }
      if (rest >= left) {
        rest -= left;
        idx = (idx + 1) % dp->n;
        on = !on;
        rest = fmod(rest, dp->period);
        while (rest >= dp->len[idx]) {
          rest -= dp->len[idx];
          idx = (idx + 1) % dp->n;
          on = !on;
        }
        left = dp->len[idx] - rest;
      } else {
        left -= rest;
      }
      m = 0;
      DASH_PUT(c[0], c[1]);
      continue;
    }
    while (len - t > left) {
      double x, y;
      t += left;
      x = a[0] + dx * (t / len);
      y = a[1] + dy * (t / len);
      if (on) {
        DASH_PUT(x, y);
        dash_sink(s, r->dpts, m);
      }
      m = 0;
      DASH_PUT(x, y);
      on = !on;
      idx = (idx + 1) % dp->n;
      left = dp->len[idx];
    }
    left -= len - t;
    DASH_PUT(c[0], c[1]);   /* at most a point a segment: n + 2 reserved */
  }
  if (on)
    dash_sink(s, r->dpts, m);
#undef DASH_PUT
  return TGIS_OK;
}

/* Strokes of a batch: hairlines up to HAIRLINE px wide, the rasteriser's
 * stroker beyond; dashed or solid. */
static tgis_status draw_lines(frame *fr, const rbatch *b, const tgis_style_layer *l, double width,
                              int dashed)
{
  tgis_render_scratch *r = fr->r;
  line_sink s;
  dash_pattern dp;
  memset(&s, 0, sizeof s);
  s.r = r;
  s.width = width;
  s.hair = width <= HAIRLINE;
  s.bb = (hair_box){ r->sw, r->sh, -1, -1 };
  s.pen = (tgis_raster_pen){ width, l->join, l->cap, 10.0, 0.25 };
  dp.n = dashed ? (l->n_dash % 2 ? 2 * l->n_dash : l->n_dash) : 0;
  dp.period = 0;
  for (int i = 0; i < dp.n; i++)
    dp.period += dp.len[i] = l->dash[i % l->n_dash] * fr->scale;
  if (!(dp.period > 0))
    dp.n = 0;   /* solid, or all zero: drawn solid */
  if (s.hair ? tgis_render__hair_buffer(r) : tgis_raster_begin(r->raster, r->sw, r->sh))
    return TGIS_ENOMEM;
  for (uint32_t k = 0; k < b->count; k++) {
    const ritem *it = &r->sorted[b->first + k];
    for (uint32_t q = 0; q < it->nrings; q++) {
      const rring *rg = &r->rings[it->ring0 + q];
      const double *p = r->pts + 2 * (size_t)rg->off;
      if (dp.n == 0)
        sink_line(&s, p, rg->n, rg->closed);
      else if (dash_line(&s, &dp, p, rg->n, rg->closed))
        return TGIS_ENOMEM;
    }
  }
  if (s.hair) {
    if (s.bb.x1 >= 0)
      tgis_render__composite_mask(r, r->hair, r->sw, b->colour, &s.bb);
    return TGIS_OK;
  }
  paint_surface(r, b->colour);
  return TGIS_OK;
}

/* Fills: the exact-area rasteriser, straight into the surface's pixels. */
static tgis_status draw_fills(frame *fr, const rbatch *b)
{
  tgis_render_scratch *r = fr->r;
  if (tgis_raster_begin(r->raster, r->sw, r->sh))
    return TGIS_ENOMEM;
  for (uint32_t k = 0; k < b->count; k++) {
    const ritem *it = &r->sorted[b->first + k];
    for (uint32_t q = 0; q < it->nrings; q++) {
      const rring *rg = &r->rings[it->ring0 + q];
      /* An open line closes, as in Cairo. */
      tgis_raster_ring(r->raster, r->pts + 2 * (size_t)rg->off, rg->n);
    }
  }
  paint_surface(r, b->colour);
  return TGIS_OK;
}

/* Draw the group's batches: by pass, then layer, then colour class. */
static tgis_status draw_batches(frame *fr)
{
  tgis_render_scratch *r = fr->r;
  cairo_t *cr = r->cr;
  size_t nb = r->n_batches, pos = 0;
  if (nb == 0)
    return TGIS_OK;
  if (reserve(r->ctx, &r->border, &r->cap_border, nb, sizeof *r->border) ||
      reserve(r->ctx, &r->sorted, &r->cap_sorted, r->n_items, sizeof *r->sorted))
    return TGIS_ENOMEM;
  /* Batches are few (tens): insertion sort into drawing order. */
  for (size_t i = 0; i < nb; i++) {
    size_t j = i;
    while (j > 0 && batch_cmp(&r->batches[r->border[j - 1]], &r->batches[i]) > 0) {
      r->border[j] = r->border[j - 1];
      j--;
    }
    r->border[j] = (uint32_t)i;
  }
  for (size_t i = 0; i < nb; i++) {
    rbatch *b = &r->batches[r->border[i]];
    b->first = (uint32_t)pos;
    pos += b->count;
    b->count = 0;
  }
  for (size_t i = 0; i < r->n_items; i++) {
    rbatch *b = &r->batches[r->items[i].batch];
    r->sorted[b->first + b->count++] = r->items[i];
  }
  for (size_t i = 0; i < nb; i++) {
    const rbatch *b = &r->batches[r->border[i]];
    const tgis_style_layer *l = &fr->style->layers[b->layer];
    const layer_state *ls = &r->ls[b->layer];
    double s = fr->scale, width = 0;
    if (b->pass == PASS_SYMBOL) {
      double half = ls->symbol_size * s / 2;
      cairo_new_path(cr);
      for (uint32_t k = 0; k < b->count; k++)
        path_symbols(cr, r, &r->sorted[b->first + k], l->symbol, half);
      if (b->colour.a) {
        set_colour(cr, b->colour);
        cairo_fill_preserve(cr);
      }
      if (l->symbol_stroke_width > 0 && l->symbol_stroke.a) {
        set_colour(cr, l->symbol_stroke);
        set_line(cr, l, l->symbol_stroke_width * s);
        cairo_stroke(cr);
      }
      cairo_new_path(cr);
      continue;
    }
    if (b->pass == PASS_FILL) {
      if (draw_fills(fr, b))
        return TGIS_ENOMEM;
      continue;
    }
    /* Casings are solid; a stroke takes its layer's dashes. */
    width = (b->pass == PASS_CASING ? ls->stroke_w + 2 * ls->casing_w : ls->stroke_w) * s;
    if (draw_lines(fr, b, l, width, b->pass == PASS_STROKE && l->n_dash > 0))
      return TGIS_ENOMEM;
  }
  return TGIS_OK;
}

/* ---- feature callback ---------------------------------------------------- */

static tgis_status on_feature(const tgis_feature_view *f, void *payload)
{
  frame *fr = payload;
  tgis_render_scratch *r = fr->r;
  const tgis_geombuf *g = f->geom;
  tgis_extent m, px;
  int is_point, is_line, is_poly, in_draw, ready = 0;
  uint32_t ring0 = 0, nrings = 0;
  tgis_status st;

  r->stats.features++;
  if (!g || g->n_points == 0)
    return TGIS_OK;
  m = tgis_geombuf_extent(g);
  px.minx = gpx(fr, m.minx);
  px.maxx = gpx(fr, m.maxx);
  px.miny = gpy(fr, m.maxy);
  px.maxy = gpy(fr, m.miny);
  is_point = g->type == TGIS_GEOM_POINT || g->type == TGIS_GEOM_MULTIPOINT;
  is_line = g->type == TGIS_GEOM_LINESTRING || g->type == TGIS_GEOM_MULTILINESTRING;
  is_poly = g->type == TGIS_GEOM_POLYGON || g->type == TGIS_GEOM_MULTIPOLYGON;
  /* Geometry smaller than half an output pixel is left out, points never. */
  in_draw = boxes_meet(&px, &fr->draw_px) &&
            (is_point || fmax(px.maxx - px.minx, px.maxy - px.miny) * fr->scale >= 0.5);

  for (size_t li = fr->g0; li < fr->g1; li++) {
    const tgis_style_layer *l = &fr->style->layers[li];
    const layer_state *ls = &r->ls[li];
    int drew = 0;
    if ((!ls->draw || !in_draw) && !ls->label)
      continue;
    if (!filters_pass(l, f))
      continue;
    if (ls->draw && in_draw) {
      int cls[N_PASS] = { -1, -1, -1, -1 };
      if (is_poly)
        cls[PASS_FILL] = paint_class(&l->fill, f);
      if (is_poly || is_line) {
        cls[PASS_STROKE] = ls->stroke_w > 0 ? paint_class(&l->stroke, f) : -1;
        if (l->has_casing && cls[PASS_STROKE] >= 0)
          cls[PASS_CASING] = 0;
      }
      if (is_point && l->symbol)
        cls[PASS_SYMBOL] = l->symbol_fill.kind == TGIS_PAINT_NONE ? 0 : paint_class(&l->symbol_fill, f);
      for (int pass = 0; pass < N_PASS; pass++) {
        tgis_rgba col;
        if (cls[pass] < 0)
          continue;
        if (!ready) {
          if ((st = transform(fr, g, &ring0, &nrings)))
            return tgis__fail(r->ctx, st, "render: out of memory for feature %lld", (long long)f->id);
          ready = 1;
        }
        if (nrings == 0)
          break;
        col = pass == PASS_FILL ? paint_colour(&l->fill, cls[pass])
            : pass == PASS_CASING ? l->casing_colour
            : pass == PASS_STROKE ? paint_colour(&l->stroke, cls[pass])
            : paint_colour(&l->symbol_fill, cls[pass]);
        if ((st = add_item(fr, li, pass, cls[pass], col, ring0, nrings)))
          return tgis__fail(r->ctx, st, "render: out of memory for feature %lld", (long long)f->id);
        drew = 1;
      }
      r->stats.drawn += (size_t)drew;
    }
    if (ls->label && (st = tgis_render__add_candidate(fr, li, f)))
      return st == TGIS_ENOMEM ? tgis__fail(r->ctx, st, "render: out of memory for labels") : st;
  }
  return TGIS_OK;
}

/* Whether a feature outside the drawn area matters: only for a label, so
 * only if a labelled layer of the group takes it (on_feature() asks the
 * same of it). */
static int want_outer(const tgis_feature_view *f, void *payload)
{
  const frame *fr = payload;
  for (size_t li = fr->g0; li < fr->g1; li++)
    if (fr->r->ls[li].label && filters_pass(&fr->style->layers[li], f))
      return 1;
  return 0;
}

/* ---- groups -------------------------------------------------------------- */

static tgis_status render_group(frame *fr, const tgis_tile_source *src, size_t g0, size_t g1)
{
  tgis_render_scratch *r = fr->r;
  const tgis_style *s = fr->style;
  double gm = 0, lm = 0, margin, t0;
  int any = 0, stride = 1, all_keys = 0;
  const char *keys[TGIS_SOURCE_MAX_KEYS + 1];
  size_t n_keys = 0;
  tgis_source_outer outer;
  tgis_extent q;
  tgis_status st;

  for (size_t li = g0; li < g1; li++) {
    const tgis_style_layer *l = &s->layers[li];
    const layer_state *ls = &r->ls[li];
    /* The source reads only the attributes the active layers look at
     * (filters, paints, labels): for parcels one column of ten. */
    if ((ls->draw || ls->label) &&
        tgis_style_layer_keys(l, keys, &n_keys, TGIS_SOURCE_MAX_KEYS) != 0)
      all_keys = 1;
    if (ls->draw) {
      gm = fmax(gm, ls->stroke_w / 2 + (l->has_casing ? ls->casing_w : 0));
      if (l->symbol)
        gm = fmax(gm, ls->symbol_size / 2 + l->symbol_stroke_width);
      stride = (int)fmax(stride, (double)l->fill.n_classes + 1);
      stride = (int)fmax(stride, (double)l->stroke.n_classes + 1);
      stride = (int)fmax(stride, (double)l->symbol_fill.n_classes + 1);
      any = 1;
    }
    if (ls->label) {
      lm = 3 * TGIS_STYLE_LABEL_REACH + 2;
      any = 1;
    }
  }
  if (!any)
    return TGIS_OK;
  gm += 2;   /* anti-aliasing */
  fr->g0 = g0;
  fr->g1 = g1;
  fr->cls_stride = stride;
  fr->draw_px = (tgis_extent){ fr->ox - gm, fr->oy - gm, fr->ox + fr->iw + gm, fr->oy + fr->ih + gm };
  fr->label_px = (tgis_extent){ fr->ox - lm, fr->oy - lm, fr->ox + fr->iw + lm, fr->oy + fr->ih + lm };
  margin = fmax(gm, lm);
  q.minx = (fr->ox - margin) / fr->k - TGIS_MERC_HALF;
  q.maxx = (fr->ox + fr->iw + margin) / fr->k - TGIS_MERC_HALF;
  q.maxy = TGIS_MERC_HALF - (fr->oy - margin) / fr->k;
  q.miny = TGIS_MERC_HALF - (fr->oy + fr->ih + margin) / fr->k;
  /* The drawn area, a pixel wider against rounding between pixels and
   * metres: beyond it the source may skip what want_outer() refuses. */
  outer.core.minx = (fr->ox - gm - 1) / fr->k - TGIS_MERC_HALF;
  outer.core.maxx = (fr->ox + fr->iw + gm + 1) / fr->k - TGIS_MERC_HALF;
  outer.core.maxy = TGIS_MERC_HALF - (fr->oy - gm - 1) / fr->k;
  outer.core.miny = TGIS_MERC_HALF - (fr->oy + fr->ih + gm + 1) / fr->k;
  outer.want = want_outer;

  size_t nslots = (g1 - g0) * N_PASS * (size_t)stride;
  if (reserve(r->ctx, &r->bidx, &r->cap_bidx, nslots, sizeof *r->bidx))
    return tgis__fail(r->ctx, TGIS_ENOMEM, "render: out of memory");
  for (size_t i = 0; i < nslots; i++)
    r->bidx[i] = -1;
  r->n_pts = r->n_rings = r->n_items = r->n_batches = 0;

  keys[n_keys] = NULL;
  t0 = now_ms();
  st = src->query(src->self, s->layers[g0].source, &q, 0.5 / (fr->k * fr->scale),
                  all_keys ? NULL : keys, lm > gm + 1 ? &outer : NULL, on_feature, fr);
  r->stats.query_ms += now_ms() - t0;
  if (st) {
    if (tgis_errcode(r->ctx) == TGIS_OK)
      tgis__fail(r->ctx, st, "render: source layer '%s': %s", s->layers[g0].source,
                 tgis_status_str(st));
    return st;
  }
  t0 = now_ms();
  st = draw_batches(fr);
  r->stats.draw_ms += now_ms() - t0;
  if (st)
    return tgis__fail(r->ctx, st, "render: out of memory drawing '%s'", s->layers[g0].source);
  return TGIS_OK;
}

/* ---- scratch ------------------------------------------------------------- */

tgis_status tgis_render_scratch_new(tgis_render_scratch **out, tgis_ctx *ctx)
{
  tgis_render_scratch *r;
  assert(out && ctx);
  *out = NULL;
  if (!(r = tgis__calloc(ctx, 1, sizeof *r)))
    return tgis__fail(ctx, TGIS_ENOMEM, "render: out of memory");
  r->ctx = ctx;
  if (tgis_raster_new(&r->raster, ctx)) {
    tgis_render_scratch_free(r);
    return tgis__fail(ctx, TGIS_ENOMEM, "render: out of memory");
  }
  r->face[0] = cairo_toy_font_face_create(FONT_FAMILY, CAIRO_FONT_SLANT_NORMAL,
                                          CAIRO_FONT_WEIGHT_NORMAL);
  r->face[1] = cairo_toy_font_face_create(FONT_FAMILY, CAIRO_FONT_SLANT_NORMAL,
                                          CAIRO_FONT_WEIGHT_BOLD);
  if (cairo_font_face_status(r->face[0]) || cairo_font_face_status(r->face[1])) {
    tgis_render_scratch_free(r);
    return tgis__fail(ctx, TGIS_ENOMEM, "render: cannot create the label font");
  }
  *out = r;
  return TGIS_OK;
}

void tgis_render_scratch_free(tgis_render_scratch *r)
{
  if (!r)
    return;
  tgis_ctx *ctx = r->ctx;
  if (r->cr)
    cairo_destroy(r->cr);
  if (r->surface)
    cairo_surface_destroy(r->surface);
  if (r->lcr)
    cairo_destroy(r->lcr);
  if (r->lmask)
    cairo_surface_destroy(r->lmask);
  for (int i = 0; i < r->n_fonts; i++)
    cairo_scaled_font_destroy(r->fonts[i].sf);
  for (int i = 0; i < 2; i++)
    if (r->face[i])
      cairo_font_face_destroy(r->face[i]);
  tgis_raster_free(r->raster);
  tgis__free(ctx, r->rgba);
  tgis__free(ctx, r->hair);
  tgis__free(ctx, r->dpts);
  tgis__free(ctx, r->pts);
  tgis__free(ctx, r->rings);
  tgis__free(ctx, r->items);
  tgis__free(ctx, r->sorted);
  tgis__free(ctx, r->batches);
  tgis__free(ctx, r->border);
  tgis__free(ctx, r->bidx);
  tgis__free(ctx, r->ls);
  tgis__free(ctx, r->cands);
  tgis__free(ctx, r->text);
  tgis__free(ctx, r->mcache);
  tgis__free(ctx, r->acache);
  tgis__free(ctx, r->gcache);
  tgis__free(ctx, r->gpts);
  tgis__free(ctx, r->lpts);
  tgis__free(ctx, r->gstart);
  tgis__free(ctx, r->gitems);
  tgis__free(ctx, r);
}

const tgis_render_stats *tgis_render_last_stats(const tgis_render_scratch *r) { return &r->stats; }

static tgis_status ensure_surface(tgis_render_scratch *r, int w, int h)
{
  cairo_font_options_t *fo;
  if (r->surface && r->sw == w && r->sh == h)
    return TGIS_OK;
  if (r->cr)
    cairo_destroy(r->cr);
  if (r->surface)
    cairo_surface_destroy(r->surface);
  if (r->lcr)
    cairo_destroy(r->lcr);
  if (r->lmask)
    cairo_surface_destroy(r->lmask);
  r->cr = r->lcr = NULL;
  r->lmask = NULL;
  r->sw = r->sh = 0;
  r->surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, w, h);
  if (cairo_surface_status(r->surface)) {
    cairo_surface_destroy(r->surface);
    r->surface = NULL;
    return TGIS_ENOMEM;
  }

  r->cr = cairo_create(r->surface);
  if (cairo_status(r->cr))
    return TGIS_ENOMEM;
  r->lmask = cairo_image_surface_create(CAIRO_FORMAT_A8, w + 2 * LMARGIN, h + 2 * LMARGIN);
  if (cairo_surface_status(r->lmask))
    return TGIS_ENOMEM;
  r->lcr = cairo_create(r->lmask);
  if (cairo_status(r->lcr))
    return TGIS_ENOMEM;
  cairo_set_tolerance(r->lcr, 0.25);
  fo = cairo_font_options_create();
  cairo_font_options_set_hint_style(fo, CAIRO_HINT_STYLE_NONE);
  cairo_font_options_set_hint_metrics(fo, CAIRO_HINT_METRICS_OFF);
  cairo_font_options_set_antialias(fo, CAIRO_ANTIALIAS_GRAY);
  cairo_set_font_options(r->cr, fo);
  cairo_set_font_options(r->lcr, fo);
  cairo_font_options_destroy(fo);
  r->sw = w;
  r->sh = h;
  return TGIS_OK;
}

/* ---- entry points -------------------------------------------------------- */

tgis_status tgis_render_tile_bounds(tgis_extent *out, int z, int x, int y)
{
  double span, n;
  if (z < 0 || z > TGIS_STYLE_MAX_ZOOM)
    return TGIS_EINVAL;
  n = ldexp(1.0, z);
  if (x < 0 || y < 0 || x >= n || y >= n)
    return TGIS_EINVAL;
  span = 2 * TGIS_MERC_HALF / n;
  out->minx = -TGIS_MERC_HALF + x * span;
  out->maxx = -TGIS_MERC_HALF + (x + 1) * span;
  out->maxy = TGIS_MERC_HALF - y * span;
  out->miny = TGIS_MERC_HALF - (y + 1) * span;
  return TGIS_OK;
}

/* Render into the scratch's Cairo surface (premultiplied ARGB). */
static tgis_status render(tgis_render_scratch *r, const tgis_style *style,
                          const tgis_tile_source *src, int z, int x, int y,
                          const tgis_render_options *opts)
{
  tgis_render_options o = TGIS_RENDER_OPTIONS_INIT;
  tgis_ctx *ctx;
  frame fr;
  tgis_extent bounds;
  tgis_status st = TGIS_OK;
  int w, h;
  double t0;

  assert(r && src);
  ctx = r->ctx;
  memset(&r->stats, 0, sizeof r->stats);
  tgis__clear_error(ctx);
  if (opts)
    o = *opts;
  if (o.version != TGIS_RENDER_OPTIONS_VERSION)
    return tgis__fail(ctx, TGIS_EINVAL, "render: options version %u, expected %d", o.version,
                      TGIS_RENDER_OPTIONS_VERSION);
  if (!style)
    return tgis__fail(ctx, TGIS_EINVAL, "render: no style given");
  if (z < 0 || z > TGIS_STYLE_MAX_ZOOM)
    return tgis__fail(ctx, TGIS_EINVAL, "render: zoom %d outside 0..%d", z, TGIS_STYLE_MAX_ZOOM);
  if (tgis_render_tile_bounds(&bounds, z, x, y))
    return tgis__fail(ctx, TGIS_EINVAL, "render: tile %d/%d/%d: x and y must be 0..%ld at zoom %d",
                      z, x, y, (1L << z) - 1, z);
  if (o.scale != 1 && o.scale != 2)
    return tgis__fail(ctx, TGIS_EINVAL, "render: scale %d, expected 1 or 2", o.scale);
  if (o.gutter < 0 || o.gutter > TGIS_RENDER_MAX_GUTTER)
    return tgis__fail(ctx, TGIS_EINVAL, "render: gutter %d outside 0..%d", o.gutter,
                      TGIS_RENDER_MAX_GUTTER);

  w = h = (TGIS_TILE_SIZE + 2 * o.gutter) * o.scale;
  if (ensure_surface(r, w, h))
    return tgis__fail(ctx, TGIS_ENOMEM, "render: cannot create a %dx%d surface", w, h);
  if (reserve(ctx, &r->ls, &r->cap_ls, style->n_layers, sizeof *r->ls))
    return tgis__fail(ctx, TGIS_ENOMEM, "render: out of memory");

  memset(&fr, 0, sizeof fr);
  fr.r = r;
  fr.style = style;
  fr.z = z;
  fr.scale = o.scale;
  fr.k = TGIS_TILE_SIZE * ldexp(1.0, z) / (2 * TGIS_MERC_HALF);
  fr.ox = (double)x * TGIS_TILE_SIZE - o.gutter;
  fr.oy = (double)y * TGIS_TILE_SIZE - o.gutter;
  fr.iw = fr.ih = TGIS_TILE_SIZE + 2 * o.gutter;
  r->n_cands = r->n_text = r->mcount = 0;
  for (size_t i = 0; i < r->mcap; i++)
    r->mcache[i].text = SIZE_MAX;

  {
    /* A scratch that renders many themes: make room for this style's
     * label fonts (indices are taken below, after any clearing). */
    size_t need = 0;
    for (size_t li = 0; li < style->n_layers; li++)
      need += style->layers[li].label.attribute != NULL;
    if ((size_t)r->n_fonts + need > MAX_FONTS) {
      for (int i = 0; i < r->n_fonts; i++)
        cairo_scaled_font_destroy(r->fonts[i].sf);
      r->n_fonts = 0;
    }
  }
  for (size_t li = 0; li < style->n_layers; li++) {
    const tgis_style_layer *l = &style->layers[li];
    layer_state *ls = &r->ls[li];
    memset(ls, 0, sizeof *ls);
    ls->draw = z >= l->min_zoom && z <= l->max_zoom &&
               (l->fill.kind || l->stroke.kind || l->symbol);
    ls->label = l->label.attribute && z >= l->label.min_zoom && z <= l->label.max_zoom;
    ls->stroke_w = tgis_style_num_at(&l->stroke_width, z);
    ls->casing_w = l->has_casing ? tgis_style_num_at(&l->casing_width, z) : 0;
    ls->symbol_size = l->symbol ? tgis_style_num_at(&l->symbol_size, z) : 0;
    if (ls->label && (st = tgis_render__font_for(&ls->font, r, l->label.size, l->label.bold)))
      return st;
  }

  t0 = now_ms();
  cairo_identity_matrix(r->cr);
  cairo_reset_clip(r->cr);
  cairo_set_operator(r->cr, CAIRO_OPERATOR_SOURCE);
  if (style->has_background)
    set_colour(r->cr, style->background);
  else
    cairo_set_source_rgba(r->cr, 0, 0, 0, 0);
  cairo_paint(r->cr);
  cairo_set_operator(r->cr, CAIRO_OPERATOR_OVER);
  cairo_set_antialias(r->cr, CAIRO_ANTIALIAS_DEFAULT);
  /* A quarter pixel is close enough for round joins, caps and glyph
   * curves, and flattens them into far fewer segments than the default. */
  cairo_set_tolerance(r->cr, 0.25);
  r->stats.draw_ms += now_ms() - t0;

  for (size_t g0 = 0, g1; g0 < style->n_layers; g0 = g1) {
    for (g1 = g0 + 1; g1 < style->n_layers &&
                      strcmp(style->layers[g1].source, style->layers[g0].source) == 0; g1++)
      ;
    if ((st = render_group(&fr, src, g0, g1)))
      return st;
  }

  t0 = now_ms();
  r->stats.label_candidates = r->n_cands;
  if (r->n_cands) {
    if ((st = tgis_render__place_labels(&fr)) || (st = tgis_render__draw_labels(&fr)))
      return tgis__fail(ctx, st, "render: out of memory placing labels");
  }
  cairo_surface_flush(r->surface);
  r->stats.label_ms += now_ms() - t0;
  if (cairo_status(r->cr))
    return tgis__fail(ctx, TGIS_ENOMEM, "render: cairo: %s",
                      cairo_status_to_string(cairo_status(r->cr)));

  return TGIS_OK;
}

tgis_status tgis_render_tile(tgis_image *out, tgis_render_scratch *r, const tgis_style *style,
                             const tgis_tile_source *src, int z, int x, int y,
                             const tgis_render_options *opts)
{
  tgis_status st;
  size_t n;
  double t0;
  assert(out);
  memset(out, 0, sizeof *out);
  if ((st = render(r, style, src, z, x, y, opts)))
    return st;
  n = (size_t)r->sw * (size_t)r->sh * 4;
  if (reserve(r->ctx, &r->rgba, &r->rgba_cap, n, 1))
    return tgis__fail(r->ctx, TGIS_ENOMEM, "render: out of memory");
  t0 = now_ms();
  tgis_png__argb_to_rgba(r->rgba, (size_t)r->sw * 4, cairo_image_surface_get_data(r->surface),
                         (size_t)cairo_image_surface_get_stride(r->surface), r->sw, r->sh);
  r->stats.convert_ms = now_ms() - t0;
  out->width = r->sw;
  out->height = r->sh;
  out->stride = (size_t)r->sw * 4;
  out->rgba = r->rgba;
  return TGIS_OK;
}

tgis_status tgis_render_tile_png(uint8_t **png, size_t *png_len, tgis_render_scratch *r,
                                 const tgis_style *style, const tgis_tile_source *src,
                                 int z, int x, int y, const tgis_render_options *opts,
                                 const tgis_png_options *popts)
{
  tgis_status st;
  double t0;
  assert(png && png_len);
  *png = NULL;
  *png_len = 0;
  if ((st = render(r, style, src, z, x, y, opts)))
    return st;
  /* Straight from Cairo's pixels: the encoder counts colours on them and
   * converts only palette entries. */
  t0 = now_ms();
  st = tgis_png__encode_argb(png, png_len, r->ctx, cairo_image_surface_get_data(r->surface),
                             (size_t)cairo_image_surface_get_stride(r->surface), r->sw, r->sh,
                             popts, &r->stats.png);
  r->stats.encode_ms = now_ms() - t0;
  return st;
}
