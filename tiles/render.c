/*
 * render.c -- draws a tile: query, transform, batch, rasterise, labels.
 *
 * The style's layers are taken in groups of consecutive layers that read
 * the same source layer; each group is one query. Every feature the source
 * emits is checked against each layer of the group (zoom, filter), moved
 * into pixels once, with vertices closer than half a pixel dropped, and
 * filed into a batch keyed by (pass, layer, colour class). A batch becomes
 * one fill or stroke: a few dozen paints per tile instead of one per
 * feature. Within a group all fills come first,
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

#include "tgis_int.h"
#include "raster.h"
#include "render.h"

/* Length of (dx, dy): libm's hypot() guards against overflow at a cost
 * that showed in profiles; pixel coordinates here stay far below it. */
static inline double dist(double dx, double dy) { return sqrt(dx * dx + dy * dy); }

enum { PASS_FILL, PASS_CASING, PASS_STROKE, PASS_SYMBOL, N_PASS };

#define MAX_FONTS 16
#define LABEL_CELL 64.0
#define COORD_LIMIT 4.0e6    /* keep Cairo's 24.8 fixed point in range */
#define FONT_FAMILY "DejaVu Sans"
#define HAIRLINE 1.5         /* device px: strokes up to this are hairlines */
#define LMARGIN 16           /* label mask beyond the image: the widest halo */
#define GLYPH_POOL_MAX (1u << 20)   /* cached outline points before starting over */
#define ADVANCE_MAX (1u << 16)      /* cached character advances before starting over */

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
  int ink[4];                /* x0, y0, x1, y1: label mask pixels it drew */
} cand;

typedef struct mentry {
  size_t text;               /* offset in the text pool; SIZE_MAX = empty */
  uint32_t hash;
  int font;
  double width;
} mentry;

typedef struct aentry {
  double size;               /* font size at scale 1; 0 = empty */
  uint32_t cp;               /* a character */
  int bold;
  double advance;
} aentry;

typedef struct gentry {
  double size;               /* font size in device px; 0 = empty */
  unsigned long index;       /* glyph index in the face */
  int bold;
  size_t off, n;             /* points gpts[2*off ..] */
} gentry;

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
  tgis_raster *raster;       /* fills and wide strokes */
  uint8_t *hair;             /* hairline and halo coverage, w*h, kept zero */
  double *dpts;              /* one dash of a dashed line */
  size_t cap_dpts;
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
  aentry *acache;            /* character advances, kept across renders */
  size_t acap, acount;
  gentry *gcache;            /* glyph outlines, kept across renders */
  size_t gcap, gcount;
  double *gpts;              /* their points; NAN, NAN ends a contour */
  size_t n_gpts, cap_gpts;
  double *lpts;              /* one label's outline in mask pixels */
  size_t cap_lpts;
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
    src_rb[cov] = tgis_mul_div255_2x(s_rb, tgis_coverage_level(cov));
    src_ag[cov] = tgis_mul_div255_2x(s_ag, tgis_coverage_level(cov));
  }
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
        uint32_t cov = mr[x], inv, v, sag;
        if (!cov)
          continue;
        mr[x] = 0;
        /* source = colour * coverage (premultiplied), OVER the pixel; no
         * lane overflows, as every channel stays within its alpha. */
        sag = src_ag[cov];
        inv = 255 - (sag >> 16);
        v = d[x];
        d[x] = (src_rb[cov] + tgis_mul_div255_2x(v & 0x00ff00ffu, inv)) |
               (sag + tgis_mul_div255_2x((v >> 8) & 0x00ff00ffu, inv)) << 8;
      }
    }
  }
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
  dp.n = 0;
  dp.period = 0;
  if (dashed) {
    for (int i = 0; i < l->n_dash && i < 8; i++) {
      dp.len[i] = dp.len[i + l->n_dash] = l->dash[i] * fr->scale;
      dp.period += 2 * dp.len[i];
    }
    dp.n = l->n_dash % 2 ? 2 * l->n_dash : l->n_dash;
    if (l->n_dash % 2 == 0)
      dp.period /= 2;
    if (!(dp.period > 0))
      dp.n = 0;   /* all zero: drawn solid */
  }
  if (s.hair ? hair_buffer(r) : tgis_raster_begin(r->raster, r->sw, r->sh))
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
      composite_mask(r, r->hair, r->sw, b->colour, &s.bb);
    return TGIS_OK;
  }
  cairo_surface_flush(r->surface);
  tgis_raster_paint(r->raster, cairo_image_surface_get_data(r->surface),
                    cairo_image_surface_get_stride(r->surface), b->colour);
  cairo_surface_mark_dirty(r->surface);
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
  cairo_surface_flush(r->surface);
  tgis_raster_paint(r->raster, cairo_image_surface_get_data(r->surface),
                    cairo_image_surface_get_stride(r->surface), b->colour);
  cairo_surface_mark_dirty(r->surface);
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

/* ---- label candidates ---------------------------------------------------- */

static uint32_t hash_text(const char *s, int font)
{
  uint32_t h = 2166136261u ^ (uint32_t)font;
  for (; *s; s++)
    h = (h ^ (uint8_t)*s) * 16777619u;
  return h;
}

/* Is s well-formed UTF-8 of characters Cairo accepts? Cairo puts a font
 * that measured anything else, and a context that drew it, into an error
 * state for good: every later label of the scratch would vanish. */
static int utf8_ok(const char *s)
{
  const uint8_t *p = (const uint8_t *)s;
  while (*p) {
    uint32_t c = *p, min;
    int n = c < 0x80 ? 0 : (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2 : (c & 0xf8) == 0xf0 ? 3 : -1;
    if (n < 0)
      return 0;
    min = n == 1 ? 0x80 : n == 2 ? 0x800 : 0x10000;
    c &= 0x7f >> n;
    for (int i = 1; i <= n; i++) {
      if ((p[i] & 0xc0) != 0x80)
        return 0;
      c = c << 6 | (p[i] & 0x3f);
    }
    if (n && (c < min || c >= 0x110000 || (c & 0xfffff800) == 0xd800 ||
              (c >= 0xfdd0 && c <= 0xfdef) || (c & 0xfffe) == 0xfffe))
      return 0;
    p += n + 1;
  }
  return 1;
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

/* The advance of the character cp, UTF-8 bytes u[0 .. n), in a label
 * font: measured by Cairo once per scratch, face, size and character. */
static tgis_status char_advance(double *adv, tgis_render_scratch *r, const label_font *lf,
                                uint32_t cp, const char *u, size_t n)
{
  uint32_t h = (cp * 2654435761u) ^ (uint32_t)(lf->size * 64) ^ (uint32_t)lf->bold;
  size_t mask, i;
  cairo_text_extents_t te;
  char one[5];
  if (r->acount * 2 >= r->acap || r->acount >= ADVANCE_MAX) {
    /* Start over rather than rehash: a few texts refill it. */
    size_t cap = r->acount < ADVANCE_MAX ? (r->acap ? r->acap * 2 : 256) : r->acap;
    if (cap != r->acap) {
      aentry *e = tgis__realloc(r->ctx, r->acache, cap * sizeof *e);
      if (!e)
        return TGIS_ENOMEM;
      r->acache = e;
      r->acap = cap;
    }
    for (i = 0; i < r->acap; i++)
      r->acache[i].size = 0;
    r->acount = 0;
  }
  mask = r->acap - 1;
  h ^= h >> 16;
  for (i = h & mask; r->acache[i].size != 0; i = (i + 1) & mask) {
    const aentry *e = &r->acache[i];
    if (e->cp == cp && e->size == lf->size && e->bold == lf->bold) {
      *adv = e->advance;
      return TGIS_OK;
    }
  }
  memcpy(one, u, n);
  one[n] = '\0';
  /* One glyph at x = 0: its extents' advance is the glyph's advance, the
   * very number Cairo adds up in cairo_scaled_font_text_extents. */
  cairo_scaled_font_text_extents(lf->sf, one, &te);
  r->acache[i].size = lf->size;
  r->acache[i].cp = cp;
  r->acache[i].bold = lf->bold;
  r->acache[i].advance = te.x_advance;
  r->acount++;
  *adv = te.x_advance;
  return TGIS_OK;
}

/* Width of a text at scale 1, measured once per render and text. */
static tgis_status measure(double *w, tgis_render_scratch *r, int font, const char *s)
{
  uint32_t h = hash_text(s, font);
  size_t mask, i;
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
  {
    /* Cairo's text extents add the glyphs' advances from x = 0, left to
     * right, as here: the same sum, without mapping the text to glyphs
     * and looking each one up again for every text. s is UTF-8 (see
     * utf8_ok). */
    const uint8_t *p = (const uint8_t *)s;
    double x = 0, a;
    while (*p) {
      uint32_t cp = *p;
      size_t n = cp < 0x80 ? 1 : cp < 0xe0 ? 2 : cp < 0xf0 ? 3 : 4;
      cp &= n == 1 ? 0x7f : 0x7f >> n;
      for (size_t k = 1; k < n; k++)
        cp = cp << 6 | (p[k] & 0x3f);
      if ((st = char_advance(&a, r, &r->fonts[font], cp, (const char *)p, n)))
        return st;
      x += a;
      p += n;
    }
    *w = x;
  }
  r->mcache[i].hash = h;
  r->mcache[i].font = font;
  r->mcache[i].width = *w;
  if ((st = add_text(&r->mcache[i].text, r, s, strlen(s))))
    return st;
  r->mcount++;
  return TGIS_OK;
}

/* Point at distance s along a run of global pixel points. */
static void point_along(const frame *fr, const double *xy, size_t n, double s, double *x, double *y)
{
  for (size_t i = 1; i < n; i++) {
    double x0 = gpx(fr, xy[2 * i - 2]), y0 = gpy(fr, xy[2 * i - 1]);
    double x1 = gpx(fr, xy[2 * i]), y1 = gpy(fr, xy[2 * i + 1]);
    double d = dist(x1 - x0, y1 - y0);
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
    len += dist(gpx(fr, xy[2 * i]) - gpx(fr, xy[2 * i - 2]),
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

  if (!text || !text[0] || (len = strlen(text)) > 200 || g->n_points == 0 || !utf8_ok(text))
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
    chord = dist(x1 - x0, y1 - y0);
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
              (rep > 0 && d->layer == c->layer && dist(d->ax - c->ax, d->ay - c->ay) < rep &&
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

/* The outline of a glyph of the face (bold or not) at a size in device
 * pixels, flattened by Cairo at the label context's tolerance, with the
 * glyph's origin at (0, 0): *pts until the next call. Cached in the
 * scratch, as loading an outline costs more than drawing it. */
static tgis_status glyph_outline(const double **pts, size_t *n, tgis_render_scratch *r, int bold,
                                 double size, unsigned long index)
{
  cairo_t *lc = r->lcr;
  cairo_glyph_t g = { index, 0, 0 };
  cairo_path_t *path;
  size_t mask, i, need;
  uint64_t sb;
  uint32_t h;
  memcpy(&sb, &size, sizeof sb);
  h = (uint32_t)(index * 2654435761u) ^ (uint32_t)(sb >> 32) ^ (uint32_t)sb ^ (uint32_t)bold;
  h ^= h >> 15;
  if (r->gcount * 2 >= r->gcap || r->n_gpts > GLYPH_POOL_MAX) {
    /* Start over rather than rehash: the cache refills in one label. */
    size_t cap = r->gcount * 2 >= r->gcap && r->n_gpts <= GLYPH_POOL_MAX
                 ? (r->gcap ? r->gcap * 2 : 512) : r->gcap;
    if (cap != r->gcap) {
      gentry *e = tgis__realloc(r->ctx, r->gcache, cap * sizeof *e);
      if (!e)
        return TGIS_ENOMEM;
      r->gcache = e;
      r->gcap = cap;
    }
    for (i = 0; i < r->gcap; i++)
      r->gcache[i].size = 0;
    r->gcount = r->n_gpts = 0;
  }
  mask = r->gcap - 1;
  for (i = h & mask; r->gcache[i].size != 0; i = (i + 1) & mask) {
    const gentry *e = &r->gcache[i];
    if (e->index == index && e->size == size && e->bold == bold) {
      *pts = r->gpts + 2 * e->off;
      *n = e->n;
      return TGIS_OK;
    }
  }
  cairo_new_path(lc);
  cairo_glyph_path(lc, &g, 1);
  path = cairo_copy_path_flat(lc);
  cairo_new_path(lc);
  if (!path || path->status != CAIRO_STATUS_SUCCESS) {
    cairo_path_destroy(path);
    return TGIS_ENOMEM;
  }
  /* At most a point per data slot and an end per contour. */
  need = r->n_gpts + 2 * (size_t)path->num_data + 2;
  if (reserve(r->ctx, &r->gpts, &r->cap_gpts, 2 * need, sizeof *r->gpts)) {
    cairo_path_destroy(path);
    return TGIS_ENOMEM;
  }
  gentry *e = &r->gcache[i];
  e->off = r->n_gpts;
  for (int k = 0, open = 0; k < path->num_data; k += path->data[k].header.length) {
    const cairo_path_data_t *d = &path->data[k];
    double *q = r->gpts + 2 * r->n_gpts;
    if (d->header.type == CAIRO_PATH_MOVE_TO || d->header.type == CAIRO_PATH_CLOSE_PATH) {
      if (open) {
        q[0] = q[1] = NAN;
        r->n_gpts++;
        q += 2;
      }
      open = 0;
    }
    if (d->header.type == CAIRO_PATH_MOVE_TO || d->header.type == CAIRO_PATH_LINE_TO) {
      q[0] = d[1].point.x;
      q[1] = d[1].point.y;
      r->n_gpts++;
      open = 1;
    }
    if (k + d->header.length >= path->num_data && open) {
      r->gpts[2 * r->n_gpts] = r->gpts[2 * r->n_gpts + 1] = NAN;
      r->n_gpts++;
    }
  }
  cairo_path_destroy(path);
  e->size = size;
  e->index = index;
  e->bold = bold;
  e->n = r->n_gpts - e->off;
  r->gcount++;
  *pts = r->gpts + 2 * e->off;
  *n = e->n;
  return TGIS_OK;
}


/*
 * One label's glyphs into the label mask (row stride ts, mw x mh): the
 * cached outlines placed, turned and moved as Cairo would draw the text,
 * then filled by the exact-area rasteriser (raster.c, nonzero) into the
 * mask, the larger coverage kept. Cairo's own fill of glyph paths cost
 * several times as much, and text drawn under a rotated matrix made it
 * build a font and load every outline anew for each angle. Records the
 * pixels written in c->ink.
 */
static tgis_status label_raster(frame *fr, cand *c, const label_font *lf, uint8_t *mdata, int ts,
                                int mw, int mh)
{
  tgis_render_scratch *r = fr->r;
  double s = fr->scale, size = lf->size * s;
  double tx = (c->cx - fr->ox) * s + LMARGIN, ty = (c->cy - fr->oy) * s + LMARGIN;
  double ox = -c->tw * s / 2, oy = (lf->ascent - lf->descent) * s / 2;
  double ang = c->sina != 0 ? atan2(c->sina, c->cosa) : 0, ca = cos(ang), sa = sin(ang);
  double minx = INFINITY, miny = INFINITY, maxx = -INFINITY, maxy = -INFINITY;
  cairo_scaled_font_t *sf = cairo_get_scaled_font(r->lcr);
  cairo_glyph_t *glyphs = NULL;
  int ng = 0, bx, by;
  size_t np = 0;
  tgis_status st = TGIS_OK;

  c->ink[0] = c->ink[1] = 0;
  c->ink[2] = c->ink[3] = -1;
  switch (cairo_scaled_font_text_to_glyphs(sf, 0, 0, c->textp, -1, &glyphs, &ng, NULL, NULL, NULL)) {
  case CAIRO_STATUS_SUCCESS:
    break;
  case CAIRO_STATUS_NO_MEMORY:
    return TGIS_ENOMEM;
  default:
    return TGIS_OK;   /* text the font cannot map: nothing to draw */
  }
  for (int k = 0; k < ng; k++) {
    const double *g;
    size_t n;
    if ((st = glyph_outline(&g, &n, r, lf->bold, size, glyphs[k].index)))
      goto done;
    if (reserve(r->ctx, &r->lpts, &r->cap_lpts, 2 * (np + n), sizeof *r->lpts)) {
      st = TGIS_ENOMEM;
      goto done;
    }
    for (size_t i = 0; i < n; i++) {
      double *q = r->lpts + 2 * (np + i);
      double ux = ox + glyphs[k].x + g[2 * i], uy = oy + glyphs[k].y + g[2 * i + 1];
      if (isnan(g[2 * i])) {
        q[0] = q[1] = NAN;
        continue;
      }
      q[0] = tx + ca * ux - sa * uy;
      q[1] = ty + sa * ux + ca * uy;
      minx = q[0] < minx ? q[0] : minx;
      maxx = q[0] > maxx ? q[0] : maxx;
      miny = q[1] < miny ? q[1] : miny;
      maxy = q[1] > maxy ? q[1] : maxy;
    }
    np += n;
  }
  if (np == 0 || !(maxx > minx) || !(maxy > miny))
    goto done;
  /* The contours through the exact-area rasteriser, straight into the
   * mask (the larger coverage kept); the ink box is what it may touch. */
  if (tgis_raster_begin(r->raster, mw, mh)) {
    st = TGIS_ENOMEM;
    goto done;
  }
  for (size_t i = 0, first = 0; i <= np; i++)
    if (i == np || isnan(r->lpts[2 * i])) {
      if (i > first)
        tgis_raster_ring(r->raster, r->lpts + 2 * first, i - first);
      first = i + 1;
    }
  tgis_raster_paint_mask(r->raster, mdata, ts);
  bx = ifloor(minx);
  by = ifloor(miny);
  c->ink[0] = bx > 0 ? bx : 0;
  c->ink[1] = by > 0 ? by : 0;
  c->ink[2] = ifloor(maxx) + 1 < mw - 1 ? ifloor(maxx) + 1 : mw - 1;
  c->ink[3] = (int)ceil(maxy) < mh - 1 ? (int)ceil(maxy) : mh - 1;
done:
  cairo_glyph_free(glyphs);
  return st;
}

/* The halo's coverage over box bb: the largest text coverage within the
 * disc offsets off[], a row of the box and an offset at a time, so the
 * inner loop is a byte maximum over contiguous memory with no index
 * arithmetic. */
static void halo_spread(uint8_t *out, int ostride, const uint8_t *tm, int ts, const hair_box *bb,
                        int (*off)[2], int noff)
{
  size_t n = (size_t)(bb->x1 - bb->x0 + 1);
  for (int y = bb->y0; y <= bb->y1; y++) {
    uint8_t *o = out + (size_t)y * (size_t)ostride + bb->x0;
    for (int k = 0; k < noff; k++) {
      const uint8_t *t = tm + (ptrdiff_t)(y + off[k][1]) * ts + bb->x0 + off[k][0];
      if (k == 0)
        memcpy(o, t, n);
      else
        for (size_t x = 0; x < n; x++)
          o[x] = t[x] > o[x] ? t[x] : o[x];
    }
  }
}

/*
 * Labels of one layer: their glyphs are filled into an A8 mask; each
 * label's halo is that mask dilated by the halo width
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
  int mw = cairo_image_surface_get_width(r->lmask), mh = cairo_image_surface_get_height(r->lmask);
  tgis_status st;
  if (hair_buffer(r))
    return TGIS_ENOMEM;
  for (size_t li = 0; li < fr->style->n_layers; li++) {
    const tgis_style_label *lb = &fr->style->layers[li].label;
    const label_font *lf;
    uint8_t *tm, *mdata;
    int ts, any = 0, off[64][2], noff = 0;
    if (!r->ls[li].label)
      continue;
    lf = &r->fonts[r->ls[li].font];
    cairo_identity_matrix(lc);
    cairo_set_font_face(lc, r->face[lf->bold ? 1 : 0]);
    cairo_set_font_size(lc, lf->size * s);
    cairo_surface_flush(r->lmask);
    ts = cairo_image_surface_get_stride(r->lmask);
    mdata = cairo_image_surface_get_data(r->lmask);
    for (size_t i = 0; i < r->n_cands; i++) {
      cand *c = &r->cands[i];
      if (!c->drawn || c->layer != li)
        continue;
      if ((st = label_raster(fr, c, lf, mdata, ts, mw, mh)))
        return st;
      r->stats.labels++;
      any = 1;
    }
    if (!any)
      continue;
    /* tm: the image's pixel (0, 0); the mask goes LMARGIN beyond it, so
     * a halo at the image's edge sees the glyphs just outside. */
    tm = mdata + (size_t)LMARGIN * (size_t)ts + LMARGIN;
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
        halo_spread(r->hair, w, tm, ts, &bb, off, noff);
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
    /* Glyphs beyond the image, or beyond a label's box, stay in the mask:
     * clear where each label's glyphs may be, not the whole mask. */
    for (size_t i = 0; i < r->n_cands; i++) {
      const cand *c = &r->cands[i];
      if (!c->drawn || c->layer != li)
        continue;
      for (int y = c->ink[1]; y <= c->ink[3] && c->ink[0] <= c->ink[2]; y++)
        memset(mdata + (size_t)y * (size_t)ts + c->ink[0], 0, (size_t)(c->ink[2] - c->ink[0] + 1));
    }
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
