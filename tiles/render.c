/*
 * render.c -- draws a tile: query, transform, batch, Cairo, labels.
 *
 * The style's layers are taken in groups of consecutive layers that read
 * the same source layer; each group is one query. Every feature the source
 * emits is checked against each layer of the group (zoom, filter), moved
 * into pixels once, with vertices closer than half a pixel dropped, and
 * filed into a batch keyed by (pass, layer, colour class). A batch becomes
 * one Cairo path and one fill or stroke: a few dozen Cairo operations per
 * tile instead of one per feature. Within a group all fills come first,
 * then casings, strokes and point symbols, so road casings never cover the
 * junctions of other roads.
 *
 * Coordinates: a point's global pixel position at scale 1 is computed from
 * metres by one formula, and the image's pixels are that minus an integer
 * origin, times the scale. The two subtractions are exact for a city far
 * from the antimeridian, so neighbouring tiles see the very same fractional
 * positions, and draw their shared pixels identically.
 *
 * Labels: every label of the area is a candidate with a box, an anchor in
 * global pixels and a rank from tile-independent keys (style priority,
 * feature length or area, layer, id, position). A candidate is drawn if no
 * higher-ranked candidate overlaps it (or repeats its text too near).
 * Unlike greedy placement this depends only on candidates within reach of
 * the label itself, so with the query extended by three label reaches
 * both tiles of a label crossing their edge take the same decision.
 *
 * Where Cairo is slow for map work, measured with tiles/bench_render, two
 * small rasterisers stand in: hairlines (strokes up to 1.5 px, i.e. parcel
 * outlines) are drawn by distance-based coverage into a mask, and label
 * halos are the glyph mask dilated, not stroked glyph outlines. Fills,
 * wide strokes, symbols and glyphs stay Cairo's.
 */
#include <assert.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cairo.h>

#include "tgis_int.h"
#include "render.h"

enum { PASS_FILL, PASS_CASING, PASS_STROKE, PASS_SYMBOL, N_PASS };

#define MAX_FONTS 16
#define LABEL_CELL 64.0
#define COORD_LIMIT 4.0e6    /* keep Cairo's 24.8 fixed point in range */
#define FONT_FAMILY "DejaVu Sans"
#define HAIRLINE 1.5         /* device px: strokes up to this are hairlines */
#define LMARGIN 16           /* label mask beyond the image: the widest halo */

typedef struct rring {
  uint32_t off, n;           /* points in pts[2*off ..] */
  int closed;
} rring;

typedef struct ritem {
  uint32_t batch, ring0, nrings;
} ritem;

typedef struct rbatch {
  uint32_t layer;
  int pass, cls;
  tgis_rgba colour;
  uint32_t count, first;     /* items in sorted[first .. first+count) */
} rbatch;

typedef struct label_font {
  double size;
  int bold;
  cairo_scaled_font_t *sf;   /* scale 1, for measuring */
  double ascent, descent;
} label_font;

typedef struct cand {
  uint32_t layer;
  int priority;
  double weight;             /* length or area: longer roads win */
  int64_t id;
  double ax, ay;             /* anchor, global px at scale 1 */
  double cx, cy;             /* centre of the text box */
  double cosa, sina;         /* text direction */
  double hw, hh;             /* half sizes of the padded box */
  double tw;                 /* advance width of the text */
  double minx, miny, maxx, maxy;  /* bounding box of the padded box */
  size_t text;               /* offset in the text pool */
  const char *textp;         /* resolved once the pool stops moving */
  int font;
  int drawn;
} cand;

typedef struct mentry {
  size_t text;               /* offset in the text pool; SIZE_MAX = empty */
  uint32_t hash;
  int font;
  double width;
} mentry;

typedef struct layer_state {
  int draw, label;           /* active at this zoom */
  double stroke_w, casing_w, symbol_size;   /* scale 1 px */
  int font;
} layer_state;

struct tgis_render_scratch {
  tgis_ctx *ctx;
  cairo_surface_t *surface;
  cairo_t *cr;
  int sw, sh;
  cairo_surface_t *lmask;    /* A8: label text coverage, kept all zero */
  cairo_t *lcr;
  uint8_t *hair;             /* hairline and halo coverage, w*h, kept zero */
  size_t cap_hair;
  int hair_w, hair_h;
  uint8_t *rgba;
  size_t rgba_cap;
  double *pts;
  size_t n_pts, cap_pts;
  rring *rings;
  size_t n_rings, cap_rings;
  ritem *items, *sorted;
  size_t n_items, cap_items, cap_sorted;
  rbatch *batches;
  size_t n_batches, cap_batches;
  uint32_t *border;
  size_t cap_border;
  int *bidx;
  size_t cap_bidx;
  layer_state *ls;
  size_t cap_ls;
  cand *cands;
  size_t n_cands, cap_cands;
  char *text;
  size_t n_text, cap_text;
  mentry *mcache;
  size_t mcap, mcount;
  uint32_t *gstart, *gitems;
  size_t cap_gstart, cap_gitems;
  cairo_font_face_t *face[2];
  label_font fonts[MAX_FONTS];
  int n_fonts;
  tgis_render_stats stats;
};

typedef struct frame {
  tgis_render_scratch *r;
  const tgis_style *style;
  int z, scale;
  double k;                  /* scale-1 pixels per metre */
  double ox, oy;             /* global px of the image's top-left corner */
  double iw, ih;             /* image size at scale 1 */
  size_t g0, g1;             /* the group: layers [g0, g1) */
  int cls_stride;
  tgis_extent draw_px;       /* global px where geometry shows */
  tgis_extent label_px;      /* global px where label candidates matter */
} frame;

/* ---- small helpers ------------------------------------------------------- */

/* CPU time of this thread: per-core figures that other load does not
 * inflate. */
static double now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Grow *arr to hold `need` elements of `size` bytes. */
static int reserve(tgis_ctx *ctx, void *arrp, size_t *cap, size_t need, size_t size)
{
  void **arr = arrp;
  size_t n = *cap ? *cap : 64;
  void *p;
  if (need <= *cap)
    return 0;
  while (n < need)
    n *= 2;
  if (n > SIZE_MAX / size || !(p = tgis__realloc(ctx, *arr, n * size)))
    return -1;
  *arr = p;
  *cap = n;
  return 0;
}

static const char *attr(const tgis_feature_view *f, const char *key)
{
  /* The source names the keys render_group() asked for by the very
   * pointers it was given, the style's own strings: most lookups end at a
   * pointer comparison. */
  for (size_t i = 0; i < f->n_attrs; i++)
    if (f->keys[i] == key)
      return f->values[i];
  for (size_t i = 0; i < f->n_attrs; i++)
    if (f->keys[i] && strcmp(f->keys[i], key) == 0)
      return f->values[i];
  return NULL;
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

static int boxes_meet(const tgis_extent *a, const tgis_extent *b)
{
  return a->minx <= b->maxx && b->minx <= a->maxx && a->miny <= b->maxy && b->miny <= a->maxy;
}

/* Global pixel position (scale 1) of a point in metres. */
static double gpx(const frame *fr, double mx) { return (mx + TGIS_MERC_HALF) * fr->k; }
static double gpy(const frame *fr, double my) { return (TGIS_MERC_HALF - my) * fr->k; }

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

static void path_rings(cairo_t *cr, const tgis_render_scratch *r, const ritem *it)
{
  for (uint32_t k = 0; k < it->nrings; k++) {
    const rring *rg = &r->rings[it->ring0 + k];
    const double *p = r->pts + 2 * (size_t)rg->off;
    cairo_move_to(cr, p[0], p[1]);
    for (uint32_t i = 1; i < rg->n; i++)
      cairo_line_to(cr, p[2 * i], p[2 * i + 1]);
    if (rg->closed)
      cairo_close_path(cr);
  }
}

/*
 * The rings of an item as a path for a wide stroke, leaving out the
 * segments that lie wholly beyond one side of `box` (the image grown by
 * more than anything a stroke draws beyond its line: half its width, caps
 * and joins). A long road crossing a tile is mostly outside it; Cairo's
 * stroker would still build the outline of every segment. Where a segment
 * is left out the line is broken, and the caps at the break are outside
 * the image too. Not for dashed lines: a break restarts the dash pattern.
 */
static int seg_outside(const double *a, const double *b, const tgis_extent *box)
{
  return (a[0] < box->minx && b[0] < box->minx) || (a[0] > box->maxx && b[0] > box->maxx) ||
         (a[1] < box->miny && b[1] < box->miny) || (a[1] > box->maxy && b[1] > box->maxy);
}

static void path_rings_clipped(cairo_t *cr, const tgis_render_scratch *r, const ritem *it,
                               const tgis_extent *box)
{
  for (uint32_t k = 0; k < it->nrings; k++) {
    const rring *rg = &r->rings[it->ring0 + k];
    const double *p = r->pts + 2 * (size_t)rg->off;
    uint32_t nseg = rg->closed ? rg->n : rg->n - 1, first = 0;
    int down = 0;
    if (rg->closed) {
      /* A ring starts after a segment left out, so that it is broken only
       * outside the image; a ring wholly in view stays closed. */
      while (first < nseg && !seg_outside(p + 2 * first, p + 2 * ((first + 1) % rg->n), box))
        first++;
      if (first == nseg) {
        path_rings(cr, r, &(ritem){ 0, it->ring0 + k, 1 });
        continue;
      }
      first++;
    }
    for (uint32_t j = 0; j < nseg; j++) {
      uint32_t i = (first + j) % nseg;
      const double *a = p + 2 * i, *b = p + 2 * ((i + 1) % rg->n);
      if (seg_outside(a, b, box)) {
        down = 0;
        continue;
      }
      if (!down) {
        cairo_move_to(cr, a[0], a[1]);
        down = 1;
      }
      cairo_line_to(cr, b[0], b[1]);
    }
  }
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

static void set_line(cairo_t *cr, const tgis_style_layer *l, double width, int scale, int dashed)
{
  static const cairo_line_cap_t caps[] = { CAIRO_LINE_CAP_BUTT, CAIRO_LINE_CAP_ROUND,
                                           CAIRO_LINE_CAP_SQUARE };
  static const cairo_line_join_t joins[] = { CAIRO_LINE_JOIN_ROUND, CAIRO_LINE_JOIN_MITER,
                                             CAIRO_LINE_JOIN_BEVEL };
  cairo_set_line_width(cr, width);
  cairo_set_line_cap(cr, caps[l->cap]);
  cairo_set_line_join(cr, joins[l->join]);
  if (dashed && l->n_dash) {
    double d[8];
    for (int i = 0; i < l->n_dash; i++)
      d[i] = l->dash[i] * scale;
    cairo_set_dash(cr, d, l->n_dash, 0);
  } else {
    cairo_set_dash(cr, NULL, 0, 0);
  }
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
typedef struct hair_box { int x0, y0, x1, y1; } hair_box;

/* floor() for pixel indices, without a call into libm. */
static inline int ifloor(double v)
{
  int i = (int)v;
  return i - (v < i);
}

static void hair_segment(uint8_t *m, int w, int h, hair_box *bb, double x0, double y0,
                         double x1, double y1, double width)
{
  double dx = x1 - x0, dy = y1 - y0, len = hypot(dx, dy), reach = width / 2 + 0.5;
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
    for (int q = b0; q <= b1; q++) {
      int x = major_x ? a : q, y = major_x ? q : a;
      double px = x + 0.5 - x0, py = y + 0.5 - y0;
      double t = px * ux + py * uy, d, cov;
      if (t >= 0 && t <= len) {
        d = fabs(px * uy - py * ux);          /* to the line itself */
      } else {
        double ex = t < 0 ? px : x + 0.5 - x1, ey = t < 0 ? py : y + 0.5 - y1;
        d = sqrt(ex * ex + ey * ey);          /* to the nearer end */
      }
      cov = 0.5 + width / 2 - d;
      if (cov > 0) {
        uint8_t v = (uint8_t)((cov > cmax ? cmax : cov) * 255 + 0.5);
        uint8_t *p = m + (size_t)y * (size_t)w + (size_t)x;
        if (v > *p)
          *p = v;
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
static tgis_status hair_buffer(tgis_render_scratch *r)
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

/* a * b / 255 rounded, for two 8-bit lanes at once (bits 0-7 and 16-23 of
 * `lanes`), b 0..255: the same as (a * b + 127) / 255 in each lane, as
 * t = a * b + 128 stays below 2^16 and (t + (t >> 8)) >> 8 rounds alike. */
static inline uint32_t mul_div255_2x(uint32_t lanes, uint32_t b)
{
  uint32_t t = lanes * b + 0x00800080u;
  return ((t + ((t >> 8) & 0x00ff00ffu)) >> 8) & 0x00ff00ffu;
}

/* Composite `colour` through a coverage mask (row stride `mstride`) into
 * Cairo's premultiplied ARGB pixels within box bb, clearing the mask there
 * as it goes. */
static void composite_mask(tgis_render_scratch *r, uint8_t *m, int mstride, tgis_rgba colour,
                           const hair_box *bb)
{
  uint8_t *dst;
  int sstride;
  uint32_t ca = colour.a, s_rb, s_ag, src_rb[256], src_ag[256];
  cairo_surface_flush(r->surface);
  dst = cairo_image_surface_get_data(r->surface);
  sstride = cairo_image_surface_get_stride(r->surface);
  /* The colour premultiplied, as lanes: red and blue, alpha and green;
   * then scaled by every coverage, once per call rather than per pixel. */
  s_rb = ((colour.r * ca + 127) / 255) << 16 | (colour.b * ca + 127) / 255;
  s_ag = ca << 16 | (colour.g * ca + 127) / 255;
  for (uint32_t cov = 0; cov < 256; cov++) {
    src_rb[cov] = mul_div255_2x(s_rb, cov);
    src_ag[cov] = mul_div255_2x(s_ag, cov);
  }
  for (int y = bb->y0; y <= bb->y1; y++) {
    uint8_t *mr = m + (size_t)y * (size_t)mstride;
    uint32_t *d = (uint32_t *)(void *)(dst + (size_t)y * (size_t)sstride);
    for (int x = bb->x0; x <= bb->x1; x++) {
      uint32_t cov = mr[x], inv, v, sag;
      if (!cov) {
        /* Most of a hairline mask is empty: skip it eight at a time. */
        uint64_t eight;
        while (x + 8 <= bb->x1) {
          memcpy(&eight, mr + x + 1, 8);
          if (eight)
            break;
          x += 8;
        }
        continue;
      }
      mr[x] = 0;
      /* source = colour * coverage (premultiplied), OVER the pixel; no
       * lane overflows, as every channel stays within its alpha. */
      sag = src_ag[cov];
      inv = 255 - (sag >> 16);
      v = d[x];
      d[x] = (src_rb[cov] + mul_div255_2x(v & 0x00ff00ffu, inv)) |
             (sag + mul_div255_2x((v >> 8) & 0x00ff00ffu, inv)) << 8;
    }
  }
  cairo_surface_mark_dirty(r->surface);
}

static tgis_status draw_hairlines(frame *fr, const rbatch *b, tgis_rgba colour, double width)
{
  tgis_render_scratch *r = fr->r;
  int w = r->sw, h = r->sh;
  hair_box bb = { w, h, -1, -1 };
  uint8_t *m;
  if (hair_buffer(r))
    return TGIS_ENOMEM;
  m = r->hair;
  for (uint32_t k = 0; k < b->count; k++) {
    const ritem *it = &r->sorted[b->first + k];
    for (uint32_t q = 0; q < it->nrings; q++) {
      const rring *rg = &r->rings[it->ring0 + q];
      const double *p = r->pts + 2 * (size_t)rg->off;
      uint32_t nseg = rg->closed ? rg->n : rg->n - 1;
      for (uint32_t i = 0; i < nseg; i++) {
        const double *a = p + 2 * i, *c = p + 2 * ((i + 1) % rg->n);
        if (fmax(a[0], c[0]) < -2 || fmin(a[0], c[0]) > w + 2 || fmax(a[1], c[1]) < -2 ||
            fmin(a[1], c[1]) > h + 2)
          continue;   /* wholly outside the image */
        hair_segment(m, w, h, &bb, a[0], a[1], c[0], c[1], width);
      }
    }
  }
  if (bb.x1 < 0)
    return TGIS_OK;
  composite_mask(r, r->hair, r->sw, colour, &bb);
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
    cairo_new_path(cr);
    if (b->pass == PASS_SYMBOL) {
      double half = ls->symbol_size * s / 2;
      cairo_set_antialias(cr, CAIRO_ANTIALIAS_DEFAULT);
      for (uint32_t k = 0; k < b->count; k++)
        path_symbols(cr, r, &r->sorted[b->first + k], l->symbol, half);
      if (b->colour.a) {
        set_colour(cr, b->colour);
        cairo_fill_preserve(cr);
      }
      if (l->symbol_stroke_width > 0 && l->symbol_stroke.a) {
        set_colour(cr, l->symbol_stroke);
        set_line(cr, l, l->symbol_stroke_width * s, fr->scale, 0);
        cairo_stroke(cr);
      }
      cairo_new_path(cr);
      continue;
    }
    if (b->pass == PASS_CASING || b->pass == PASS_STROKE) {
      width = (b->pass == PASS_CASING ? ls->stroke_w + 2 * ls->casing_w : ls->stroke_w) * s;
      if (width <= HAIRLINE && (b->pass == PASS_CASING || l->n_dash == 0)) {
        if (draw_hairlines(fr, b, b->colour, width))
          return TGIS_ENOMEM;
        continue;
      }
    }
    if (b->pass != PASS_FILL && !(b->pass == PASS_STROKE && l->n_dash)) {
      /* Beyond half the width, round caps and joins reach no further; a
       * miter join at most miter limit (Cairo's 10) times half the width. */
      double m = (l->join == TGIS_JOIN_MITER ? 5 : 1) * width + 2;
      tgis_extent box = { -m, -m, r->sw + m, r->sh + m };
      for (uint32_t k = 0; k < b->count; k++)
        path_rings_clipped(cr, r, &r->sorted[b->first + k], &box);
    } else {
      for (uint32_t k = 0; k < b->count; k++)
        path_rings(cr, r, &r->sorted[b->first + k]);
    }
    set_colour(cr, b->colour);
    /* Exact coverage for fills: with Cairo's 4x4-sample rasteriser one
     * edge pixel in eight lands on the wrong side of 50%. Dashed hairlines
     * take the 4x4 one, alike to the eye at that width. */
    cairo_set_antialias(cr, b->pass != PASS_FILL && width <= HAIRLINE ? CAIRO_ANTIALIAS_FAST
                                                                      : CAIRO_ANTIALIAS_DEFAULT);
    switch (b->pass) {
    case PASS_FILL:
      cairo_set_fill_rule(cr, CAIRO_FILL_RULE_WINDING);
      cairo_fill(cr);
      break;
    case PASS_CASING:
      set_line(cr, l, width, fr->scale, 0);
      cairo_stroke(cr);
      break;
    default:
      set_line(cr, l, width, fr->scale, 1);
      cairo_stroke(cr);
      break;
    }
  }
  return TGIS_OK;
}

/* ---- label candidates ---------------------------------------------------- */

static uint32_t hash_text(const char *s, int font)
{
  uint32_t h = 2166136261u ^ (uint32_t)font;
  for (; *s; s++)
    h = (h ^ (uint8_t)*s) * 16777619u;
  return h;
}

static tgis_status add_text(size_t *off, tgis_render_scratch *r, const char *s, size_t n)
{
  if (reserve(r->ctx, &r->text, &r->cap_text, r->n_text + n + 1, 1))
    return TGIS_ENOMEM;
  memcpy(r->text + r->n_text, s, n);
  r->text[r->n_text + n] = '\0';
  *off = r->n_text;
  r->n_text += n + 1;
  return TGIS_OK;
}

static tgis_status font_for(int *out, tgis_render_scratch *r, double size, int bold)
{
  cairo_font_options_t *fo;
  cairo_matrix_t fm, ctm;
  cairo_font_extents_t fe;
  label_font *lf;
  for (int i = 0; i < r->n_fonts; i++)
    if (r->fonts[i].size == size && r->fonts[i].bold == bold) {
      *out = i;
      return TGIS_OK;
    }
  if (r->n_fonts == MAX_FONTS)
    return tgis__fail(r->ctx, TGIS_EINVAL, "render: more than %d label fonts in one style",
                      MAX_FONTS);
  if (!(fo = cairo_font_options_create()))
    return TGIS_ENOMEM;
  /* Unhinted outlines and linear advances: a label measures the same at
   * scale 1 and 2 and wherever it is drawn. */
  cairo_font_options_set_hint_style(fo, CAIRO_HINT_STYLE_NONE);
  cairo_font_options_set_hint_metrics(fo, CAIRO_HINT_METRICS_OFF);
  cairo_matrix_init_scale(&fm, size, size);
  cairo_matrix_init_identity(&ctm);
  lf = &r->fonts[r->n_fonts];
  lf->sf = cairo_scaled_font_create(r->face[bold ? 1 : 0], &fm, &ctm, fo);
  cairo_font_options_destroy(fo);
  if (cairo_scaled_font_status(lf->sf)) {
    cairo_scaled_font_destroy(lf->sf);
    lf->sf = NULL;
    return tgis__fail(r->ctx, TGIS_ENOMEM, "render: cannot load the label font");
  }
  cairo_scaled_font_extents(lf->sf, &fe);
  lf->size = size;
  lf->bold = bold;
  lf->ascent = fe.ascent;
  lf->descent = fe.descent;
  *out = r->n_fonts++;
  return TGIS_OK;
}

/* Width of a text at scale 1, measured once per render and text. */
static tgis_status measure(double *w, tgis_render_scratch *r, int font, const char *s)
{
  uint32_t h = hash_text(s, font);
  size_t mask, i;
  cairo_text_extents_t te;
  tgis_status st;
  if (r->mcount * 2 >= r->mcap) {
    size_t cap = r->mcap ? r->mcap * 2 : 256;
    mentry *m = tgis__malloc(r->ctx, cap * sizeof *m);
    if (!m)
      return TGIS_ENOMEM;
    for (i = 0; i < cap; i++)
      m[i].text = SIZE_MAX;
    for (size_t j = 0; j < r->mcap; j++) {
      if (r->mcache[j].text == SIZE_MAX)
        continue;
      for (i = r->mcache[j].hash & (cap - 1); m[i].text != SIZE_MAX; i = (i + 1) & (cap - 1))
        ;
      m[i] = r->mcache[j];
    }
    tgis__free(r->ctx, r->mcache);
    r->mcache = m;
    r->mcap = cap;
  }
  mask = r->mcap - 1;
  for (i = h & mask; r->mcache[i].text != SIZE_MAX; i = (i + 1) & mask) {
    const mentry *e = &r->mcache[i];
    if (e->hash == h && e->font == font && strcmp(r->text + e->text, s) == 0) {
      *w = e->width;
      return TGIS_OK;
    }
  }
  cairo_scaled_font_text_extents(r->fonts[font].sf, s, &te);
  r->mcache[i].hash = h;
  r->mcache[i].font = font;
  r->mcache[i].width = te.x_advance;
  if ((st = add_text(&r->mcache[i].text, r, s, strlen(s))))
    return st;
  r->mcount++;
  *w = te.x_advance;
  return TGIS_OK;
}

/* Point at distance s along a run of global pixel points. */
static void point_along(const frame *fr, const double *xy, size_t n, double s, double *x, double *y)
{
  for (size_t i = 1; i < n; i++) {
    double x0 = gpx(fr, xy[2 * i - 2]), y0 = gpy(fr, xy[2 * i - 1]);
    double x1 = gpx(fr, xy[2 * i]), y1 = gpy(fr, xy[2 * i + 1]);
    double d = hypot(x1 - x0, y1 - y0);
    if (s <= d || i == n - 1) {
      double t = d > 0 ? fmin(fmax(s / d, 0), 1) : 0;
      *x = x0 + t * (x1 - x0);
      *y = y0 + t * (y1 - y0);
      return;
    }
    s -= d;
  }
  *x = gpx(fr, xy[0]);
  *y = gpy(fr, xy[1]);
}

static double run_length(const frame *fr, const double *xy, size_t n)
{
  double len = 0;
  for (size_t i = 1; i < n; i++)
    len += hypot(gpx(fr, xy[2 * i]) - gpx(fr, xy[2 * i - 2]),
                 gpy(fr, xy[2 * i + 1]) - gpy(fr, xy[2 * i - 1]));
  return len;
}

static tgis_status add_candidate(frame *fr, size_t li, const tgis_feature_view *f)
{
  tgis_render_scratch *r = fr->r;
  const tgis_style_layer *l = &fr->style->layers[li];
  const tgis_style_label *lb = &l->label;
  const layer_state *ls = &r->ls[li];
  const tgis_geombuf *g = f->geom;
  const char *text = attr(f, lb->attribute);
  const label_font *lf;
  cand c;
  double w, h, ex, ey, halo;
  tgis_status st;
  size_t len;

  if (!text || !text[0] || (len = strlen(text)) > 200 || g->n_points == 0)
    return TGIS_OK;
  if ((st = measure(&w, r, ls->font, text)))
    return st;
  lf = &r->fonts[ls->font];
  memset(&c, 0, sizeof c);
  c.layer = (uint32_t)li;
  c.priority = lb->priority;
  c.id = f->id;
  c.font = ls->font;
  c.tw = w;
  c.cosa = 1;
  halo = lb->halo.a ? lb->halo_width : 0;
  h = lf->ascent + lf->descent;
  c.hw = w / 2 + halo + lb->padding;
  c.hh = h / 2 + halo + lb->padding;

  if (g->type == TGIS_GEOM_LINESTRING || g->type == TGIS_GEOM_MULTILINESTRING) {
    /* Along the longest part, centred at its middle, if it fits straight. */
    size_t best = 0, best_n = g->n_points, pt = 0;
    double best_len = -1, x0, y0, x1, y1, chord, ang;
    if (g->n_parts == 0) {
      best_len = run_length(fr, g->xy, g->n_points);
    } else {
      for (size_t p = 0; p < g->n_parts && pt + g->parts[p] <= g->n_points; p++) {
        double pl = run_length(fr, g->xy + 2 * pt, g->parts[p]);
        if (pl > best_len) {
          best_len = pl;
          best = pt;
          best_n = g->parts[p];
        }
        pt += g->parts[p];
      }
    }
    /* Roads come split at junctions: a name may run past the ends of a
     * straight piece at least half as long as the text. */
    double span = fmin(w, best_len);
    if (best_n < 2 || best_len < 0.5 * w)
      return TGIS_OK;
    point_along(fr, g->xy + 2 * best, best_n, best_len / 2, &c.ax, &c.ay);
    point_along(fr, g->xy + 2 * best, best_n, (best_len - span) / 2, &x0, &y0);
    point_along(fr, g->xy + 2 * best, best_n, (best_len + span) / 2, &x1, &y1);
    chord = hypot(x1 - x0, y1 - y0);
    if (chord < 0.92 * span || chord <= 0)
      return TGIS_OK;     /* the line bends under the text */
    ang = atan2(y1 - y0, x1 - x0);
    if (ang > M_PI / 2)
      ang -= M_PI;
    else if (ang <= -M_PI / 2)
      ang += M_PI;
    c.cosa = cos(ang);
    c.sina = sin(ang);
    c.cx = c.ax;
    c.cy = c.ay;
    c.weight = best_len;
  } else if (g->type == TGIS_GEOM_POLYGON || g->type == TGIS_GEOM_MULTIPOLYGON) {
    /* At the centroid of the largest shell, if the text fits its width. */
    size_t npoly = g->n_polys ? g->n_polys : 1, part = 0, pt = 0;
    double best_a = -1, bx = 0, by = 0, bw = 0;
    for (size_t p = 0; p < npoly; p++) {
      size_t nr = g->n_polys ? g->polys[p] : g->n_parts;
      for (size_t k = 0; k < nr && part < g->n_parts; k++, part++) {
        size_t n = g->parts[part];
        if (pt + n > g->n_points)
          break;
        if (k == 0 && n >= 3) {
          const double *q = g->xy + 2 * pt;
          double a = 0, sx = 0, sy = 0, minx = INFINITY, maxx = -INFINITY;
          for (size_t i = 0, j = n - 1; i < n; j = i++) {
            double xi = gpx(fr, q[2 * i]), yi = gpy(fr, q[2 * i + 1]);
            double xj = gpx(fr, q[2 * j]), yj = gpy(fr, q[2 * j + 1]);
            double cr = xj * yi - xi * yj;
            a += cr;
            sx += (xi + xj) * cr;
            sy += (yi + yj) * cr;
            minx = fmin(minx, xi);
            maxx = fmax(maxx, xi);
          }
          if (fabs(a) > best_a && a != 0) {
            best_a = fabs(a);
            bx = sx / (3 * a);
            by = sy / (3 * a);
            bw = maxx - minx;
          }
        }
        pt += n;
      }
    }
    if (best_a <= 0 || bw < w)
      return TGIS_OK;
    c.ax = c.cx = bx;
    c.ay = c.cy = by;
    c.weight = best_a / 2;
  } else {
    /* Points: beside the symbol, or on the point. */
    double rad = l->symbol ? ls->symbol_size / 2 + l->symbol_stroke_width / 2 + 2 : 0;
    c.ax = c.cx = gpx(fr, g->xy[0]);
    c.ay = c.cy = gpy(fr, g->xy[1]);
    tgis_label_place place = lb->placement;
    if (place == TGIS_LABEL_AUTO)
      place = l->symbol ? TGIS_LABEL_RIGHT : TGIS_LABEL_CENTER;
    if (place == TGIS_LABEL_RIGHT)
      c.cx += rad + c.hw;
    else if (place == TGIS_LABEL_ABOVE)
      c.cy -= rad + c.hh;
  }
  ex = fabs(c.cosa) * c.hw + fabs(c.sina) * c.hh;
  ey = fabs(c.sina) * c.hw + fabs(c.cosa) * c.hh;
  c.minx = c.cx - ex;
  c.maxx = c.cx + ex;
  c.miny = c.cy - ey;
  c.maxy = c.cy + ey;
  /* Too long to place the same way in every tile it touches. */
  if (c.ax - c.minx > TGIS_STYLE_LABEL_REACH || c.maxx - c.ax > TGIS_STYLE_LABEL_REACH ||
      c.ay - c.miny > TGIS_STYLE_LABEL_REACH || c.maxy - c.ay > TGIS_STYLE_LABEL_REACH)
    return TGIS_OK;
  {
    tgis_extent box = { c.minx, c.miny, c.maxx, c.maxy };
    if (!boxes_meet(&box, &fr->label_px))
      return TGIS_OK;
  }
  if ((st = add_text(&c.text, r, text, len)))
    return st;
  if (reserve(r->ctx, &r->cands, &r->cap_cands, r->n_cands + 1, sizeof *r->cands))
    return TGIS_ENOMEM;
  r->cands[r->n_cands++] = c;
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
    if (ls->label && (st = add_candidate(fr, li, f)))
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

/* ---- label placement ----------------------------------------------------- */

static int cand_cmp(const void *pa, const void *pb)
{
  const cand *a = pa, *b = pb;
  int t;
  if (a->priority != b->priority)
    return a->priority > b->priority ? -1 : 1;
  if (a->weight != b->weight)
    return a->weight > b->weight ? -1 : 1;
  if (a->layer != b->layer)
    return a->layer < b->layer ? -1 : 1;
  if (a->id != b->id)
    return a->id < b->id ? -1 : 1;
  if (a->ay != b->ay)
    return a->ay < b->ay ? -1 : 1;
  if (a->ax != b->ax)
    return a->ax < b->ax ? -1 : 1;
  t = strcmp(a->textp, b->textp);
  return t;
}

/* Do the two padded, rotated boxes overlap? (separating axes) */
static int cand_overlap(const cand *a, const cand *b)
{
  const cand *box[2] = { a, b };
  double dx = b->cx - a->cx, dy = b->cy - a->cy;
  if (a->maxx <= b->minx || b->maxx <= a->minx || a->maxy <= b->miny || b->maxy <= a->miny)
    return 0;
  for (int i = 0; i < 2; i++) {
    for (int axis = 0; axis < 2; axis++) {
      double ux = axis ? -box[i]->sina : box[i]->cosa, uy = axis ? box[i]->cosa : box[i]->sina;
      double ra = fabs(a->cosa * ux + a->sina * uy) * a->hw + fabs(-a->sina * ux + a->cosa * uy) * a->hh;
      double rb = fabs(b->cosa * ux + b->sina * uy) * b->hw + fabs(-b->sina * ux + b->cosa * uy) * b->hh;
      if (fabs(dx * ux + dy * uy) >= ra + rb)
        return 0;
    }
  }
  return 1;
}

static tgis_status place_labels(frame *fr)
{
  tgis_render_scratch *r = fr->r;
  size_t n = r->n_cands, nx, ny, total = 0;
  double gx0 = INFINITY, gy0 = INFINITY, gx1 = -INFINITY, gy1 = -INFINITY;
  tgis_extent img = { fr->ox, fr->oy, fr->ox + fr->iw, fr->oy + fr->ih };

  for (size_t i = 0; i < n; i++)
    r->cands[i].textp = r->text + r->cands[i].text;
  qsort(r->cands, n, sizeof *r->cands, cand_cmp);   /* index = rank */
  for (size_t i = 0; i < n; i++) {
    gx0 = fmin(gx0, r->cands[i].minx);
    gy0 = fmin(gy0, r->cands[i].miny);
    gx1 = fmax(gx1, r->cands[i].maxx);
    gy1 = fmax(gy1, r->cands[i].maxy);
  }
  nx = (size_t)fmin(256, floor((gx1 - gx0) / LABEL_CELL) + 1);
  ny = (size_t)fmin(256, floor((gy1 - gy0) / LABEL_CELL) + 1);
  if (reserve(r->ctx, &r->gstart, &r->cap_gstart, nx * ny + 1, sizeof *r->gstart))
    return TGIS_ENOMEM;
  memset(r->gstart, 0, (nx * ny + 1) * sizeof *r->gstart);
#define CELLX(v) ((size_t)fmin((double)(nx - 1), fmax(0.0, floor(((v) - gx0) / LABEL_CELL))))
#define CELLY(v) ((size_t)fmin((double)(ny - 1), fmax(0.0, floor(((v) - gy0) / LABEL_CELL))))
  for (size_t i = 0; i < n; i++) {
    const cand *c = &r->cands[i];
    for (size_t y = CELLY(c->miny); y <= CELLY(c->maxy); y++)
      for (size_t x = CELLX(c->minx); x <= CELLX(c->maxx); x++)
        r->gstart[y * nx + x + 1]++, total++;
  }
  for (size_t c = 0; c < nx * ny; c++)
    r->gstart[c + 1] += r->gstart[c];
  if (reserve(r->ctx, &r->gitems, &r->cap_gitems, total + 1, sizeof *r->gitems))
    return TGIS_ENOMEM;
  /* Fill back to front so each cell lists candidates by rank. */
  for (size_t i = n; i-- > 0;) {
    const cand *c = &r->cands[i];
    for (size_t y = CELLY(c->miny); y <= CELLY(c->maxy); y++)
      for (size_t x = CELLX(c->minx); x <= CELLX(c->maxx); x++)
        r->gitems[--r->gstart[y * nx + x + 1]] = (uint32_t)i;
  }
  /* gstart[c+1] now marks the start of cell c; shift back. */
  for (size_t c = 0; c < nx * ny; c++)
    r->gstart[c] = r->gstart[c + 1];
  r->gstart[nx * ny] = (uint32_t)total;

  for (size_t i = 0; i < n; i++) {
    cand *c = &r->cands[i];
    const tgis_style_label *lb = &fr->style->layers[c->layer].label;
    tgis_extent box = { c->minx, c->miny, c->maxx, c->maxy };
    double rep = lb->repeat_distance;
    int hidden = 0;
    c->drawn = 0;
    if (!boxes_meet(&box, &img))
      continue;   /* not in this image: its fate is another tile's */
    size_t x0 = CELLX(fmin(c->minx, c->ax - rep)), x1 = CELLX(fmax(c->maxx, c->ax + rep));
    size_t y0 = CELLY(fmin(c->miny, c->ay - rep)), y1 = CELLY(fmax(c->maxy, c->ay + rep));
    for (size_t y = y0; y <= y1 && !hidden; y++) {
      for (size_t x = x0; x <= x1 && !hidden; x++) {
        size_t cell = y * nx + x;
        uint32_t end = cell + 1 < nx * ny ? r->gstart[cell + 1] : (uint32_t)total;
        for (uint32_t k = r->gstart[cell]; k < end; k++) {
          const cand *d = &r->cands[r->gitems[k]];
          if (r->gitems[k] >= i)
            break;   /* the rest rank lower */
          if (cand_overlap(c, d) ||
              (rep > 0 && d->layer == c->layer && hypot(d->ax - c->ax, d->ay - c->ay) < rep &&
               strcmp(d->textp, c->textp) == 0)) {
            hidden = 1;
            break;
          }
        }
      }
    }
    c->drawn = !hidden;
  }
#undef CELLX
#undef CELLY
  return TGIS_OK;
}

/*
 * Labels of one layer: Cairo fills all their glyph outlines into an A8
 * mask at once; each label's halo is that mask dilated by the halo width
 * (the largest coverage within a small disc), composited under the text.
 * Stroking glyph outlines for the halo cost Cairo more than everything
 * else a label needs.
 */
static tgis_status draw_labels(frame *fr)
{
  tgis_render_scratch *r = fr->r;
  cairo_t *lc = r->lcr;
  double s = fr->scale;
  int w = r->sw, h = r->sh;
  if (hair_buffer(r))
    return TGIS_ENOMEM;
  for (size_t li = 0; li < fr->style->n_layers; li++) {
    const tgis_style_label *lb = &fr->style->layers[li].label;
    const label_font *lf;
    uint8_t *tm;
    int ts, any = 0, off[64][2], noff = 0;
    if (!r->ls[li].label)
      continue;
    lf = &r->fonts[r->ls[li].font];
    cairo_new_path(lc);
    cairo_set_font_face(lc, r->face[lf->bold ? 1 : 0]);
    cairo_set_font_size(lc, lf->size * s);
    for (size_t i = 0; i < r->n_cands; i++) {
      const cand *c = &r->cands[i];
      if (!c->drawn || c->layer != li)
        continue;
      cairo_identity_matrix(lc);
      cairo_translate(lc, (c->cx - fr->ox) * s + LMARGIN, (c->cy - fr->oy) * s + LMARGIN);
      if (c->sina != 0)
        cairo_rotate(lc, atan2(c->sina, c->cosa));
      cairo_move_to(lc, -c->tw * s / 2, (lf->ascent - lf->descent) * s / 2);
      cairo_text_path(lc, c->textp);
      r->stats.labels++;
      any = 1;
    }
    cairo_identity_matrix(lc);
    if (!any)
      continue;
    cairo_fill(lc);
    cairo_surface_flush(r->lmask);
    ts = cairo_image_surface_get_stride(r->lmask);
    /* tm: the image's pixel (0, 0); the mask goes LMARGIN beyond it, so
     * a halo at the image's edge sees the glyphs just outside. */
    tm = cairo_image_surface_get_data(r->lmask) + (size_t)LMARGIN * (size_t)ts + LMARGIN;
    if (lb->halo.a && lb->halo_width > 0) {
      double rad = lb->halo_width * s;
      int ir = (int)ceil(rad) < LMARGIN ? (int)ceil(rad) : LMARGIN;
      for (int dy = -ir; dy <= ir; dy++)
        for (int dx = -ir; dx <= ir && noff < 64; dx++)
          if (dx * dx + dy * dy <= rad * rad + 0.5) {
            off[noff][0] = dx;
            off[noff][1] = dy;
            noff++;
          }
    }
    for (size_t i = 0; i < r->n_cands; i++) {
      const cand *c = &r->cands[i];
      hair_box bb;
      if (!c->drawn || c->layer != li)
        continue;
      bb.x0 = ifloor((c->minx - fr->ox) * s);
      bb.y0 = ifloor((c->miny - fr->oy) * s);
      bb.x1 = ifloor((c->maxx - fr->ox) * s);
      bb.y1 = ifloor((c->maxy - fr->oy) * s);
      bb.x0 = bb.x0 < 0 ? 0 : bb.x0;
      bb.y0 = bb.y0 < 0 ? 0 : bb.y0;
      bb.x1 = bb.x1 >= w ? w - 1 : bb.x1;
      bb.y1 = bb.y1 >= h ? h - 1 : bb.y1;
      if (bb.x0 > bb.x1 || bb.y0 > bb.y1)
        continue;
      if (noff) {
        for (int y = bb.y0; y <= bb.y1; y++)
          for (int x = bb.x0; x <= bb.x1; x++) {
            uint8_t m = 0;
            for (int k = 0; k < noff; k++) {
              uint8_t v = tm[(ptrdiff_t)(y + off[k][1]) * ts + x + off[k][0]];
              m = v > m ? v : m;
            }
            r->hair[(size_t)y * (size_t)w + (size_t)x] = m;
          }
        composite_mask(r, r->hair, w, lb->halo, &bb);
      }
    }
    /* The text over every halo of the layer; clears the text mask. */
    for (size_t i = 0; i < r->n_cands; i++) {
      const cand *c = &r->cands[i];
      hair_box bb;
      if (!c->drawn || c->layer != li)
        continue;
      bb.x0 = ifloor((c->minx - fr->ox) * s) - 1;
      bb.y0 = ifloor((c->miny - fr->oy) * s) - 1;
      bb.x1 = ifloor((c->maxx - fr->ox) * s) + 1;
      bb.y1 = ifloor((c->maxy - fr->oy) * s) + 1;
      bb.x0 = bb.x0 < 0 ? 0 : bb.x0;
      bb.y0 = bb.y0 < 0 ? 0 : bb.y0;
      bb.x1 = bb.x1 >= w ? w - 1 : bb.x1;
      bb.y1 = bb.y1 >= h ? h - 1 : bb.y1;
      if (bb.x0 <= bb.x1 && bb.y0 <= bb.y1)
        composite_mask(r, tm, ts, lb->colour, &bb);
    }
    /* Glyphs beyond the image stay in the margin: clear it all. */
    memset(cairo_image_surface_get_data(r->lmask), 0,
           (size_t)ts * (size_t)cairo_image_surface_get_height(r->lmask));
    cairo_surface_mark_dirty(r->lmask);
  }
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
  tgis__free(ctx, r->rgba);
  tgis__free(ctx, r->hair);
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
    if (ls->label && (st = font_for(&ls->font, r, l->label.size, l->label.bold)))
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
    if ((st = place_labels(&fr)) || (st = draw_labels(&fr)))
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
