/*
 * raster.c -- exact-area scanline rasteriser (see raster.h).
 *
 * Every edge is cut at pixel-row and pixel-column lines; each piece adds to
 * the cell (pixel) it lies in its signed height `cover` and `area`, twice
 * the area between the piece and the cell's left side (times cover's
 * sign), both in 24.8 fixed point. Sweeping a row left to right, the
 * running sum of covers is the winding (times 256) of the pixels between
 * cells, and a cell's own pixel is covered by (sum + cover) - area / 512.
 * Shared end points of pieces are computed once and rounded once, so the
 * covers of a closed ring sum to exactly zero in every row and nothing
 * leaks past its right end.
 *
 * Cells live in a buffer of one per pixel with a bitmap of those touched:
 * no sorting, and the sweep visits touched cells only, clearing them.
 */
#include <limits.h>
#include <math.h>
#include <string.h>

#include "tgis_int.h"
#include "raster.h"

/* Length of (dx, dy): libm's hypot() guards against overflow at a cost
 * that showed in profiles; pixel coordinates here stay far below it. */
static inline double dist(double dx, double dy) { return sqrt(dx * dx + dy * dy); }

#define ONE 256                 /* 24.8 fixed point */
#define FULL (ONE * ONE * 2)    /* (cover << 9) of a fully covered pixel */
#define MAX_ARC 64              /* points of a round join or cap at most */

typedef struct acc_cell {
  int32_t cover, area;
} acc_cell;

struct tgis_raster {
  tgis_ctx *ctx;
  int w, h, words;              /* surface; 64-bit words of a bitmap row */
  acc_cell *acc;                /* w * h, all zero between paints */
  uint64_t *touched;            /* a bit per cell with something in it */
  size_t cap, cap_words;        /* cells and bitmap words allocated */
  int ymin, ymax;               /* rows touched since begin */
  uint32_t scaled[257];         /* paint colour by coverage index */
};

tgis_status tgis_raster_new(tgis_raster **out, tgis_ctx *ctx)
{
  tgis_raster *ra = tgis__calloc(ctx, 1, sizeof *ra);
  *out = ra;
  if (!ra)
    return TGIS_ENOMEM;
  ra->ctx = ctx;
  return TGIS_OK;
}

void tgis_raster_free(tgis_raster *ra)
{
  if (!ra)
    return;
  tgis__free(ra->ctx, ra->acc);
  tgis__free(ra->ctx, ra->touched);
  tgis__free(ra->ctx, ra);
}

tgis_status tgis_raster_begin(tgis_raster *ra, int w, int h)
{
  if (w < 0 || h < 0 || w > TGIS_RASTER_MAX_SIDE || h > TGIS_RASTER_MAX_SIDE)
    return TGIS_EINVAL;
  if (ra->acc && ra->ymin <= ra->ymax) {
    /* Edges added but never painted: clear what they touched, in the
     * layout they were added in. */
    memset(ra->acc + (size_t)ra->ymin * (size_t)ra->w, 0,
           (size_t)(ra->ymax - ra->ymin + 1) * (size_t)ra->w * sizeof *ra->acc);
    memset(ra->touched + (size_t)ra->ymin * (size_t)ra->words, 0,
           (size_t)(ra->ymax - ra->ymin + 1) * (size_t)ra->words * sizeof *ra->touched);
  }
  ra->ymin = INT_MAX;
  ra->ymax = -1;
  if (w != ra->w || h != ra->h || !ra->acc) {
    size_t cells = (size_t)w * (size_t)h, words = (size_t)(w + 63) / 64 * (size_t)h;
    if (cells > ra->cap || words > ra->cap_words || !ra->acc) {
      tgis__free(ra->ctx, ra->acc);
      tgis__free(ra->ctx, ra->touched);
      ra->acc = tgis__calloc(ra->ctx, cells ? cells : 1, sizeof *ra->acc);
      ra->touched = tgis__calloc(ra->ctx, words ? words : 1, sizeof *ra->touched);
      if (!ra->acc || !ra->touched) {
        tgis__free(ra->ctx, ra->acc);
        tgis__free(ra->ctx, ra->touched);
        ra->acc = NULL;
        ra->touched = NULL;
        ra->cap = ra->cap_words = 0;
        ra->w = ra->h = ra->words = 0;
        return TGIS_ENOMEM;
      }
      ra->cap = cells;
      ra->cap_words = words;
    }
    /* Every cell is zero between shapes whatever the layout, so a size
     * the buffers already hold needs no clearing. */
    ra->w = w;
    ra->h = h;
    ra->words = (w + 63) / 64;
  }
  return TGIS_OK;
}

/* ---- cells --------------------------------------------------------------- */

/* Fixed point of a coordinate known to be >= 0. */
static inline int32_t fix(double v) { return (int32_t)(v * ONE + 0.5); }

/* Round to the nearest integer, halves away from zero. */
static inline int32_t iround(double v) { return (int32_t)(v < 0 ? v - 0.5 : v + 0.5); }

/* Add a piece of height `cover` (signed) whose end points lie fx0 and fx1
 * to the right of the column's left side: it covers cover * (fx0 + fx1) / 2
 * of the cell to its left. Columns beyond the right side count for
 * nothing. */
static inline void cell_add(tgis_raster *ra, int col, int row, int32_t cover, int32_t fx0,
                            int32_t fx1)
{
  acc_cell *c;
  if (col >= ra->w || cover == 0)
    return;
  c = &ra->acc[(size_t)row * (size_t)ra->w + (size_t)col];
  c->cover += cover;
  c->area += cover * (fx0 + fx1);
  ra->touched[(size_t)row * (size_t)ra->words + (size_t)(col >> 6)] |= 1ull << (col & 63);
}

/* A piece within pixel row `row` over more than one column: x in fixed
 * point (0 .. w*ONE), y in fixed point within the row (0 .. ONE), ya <= yb;
 * cut at column lines. */
static void hline_cols(tgis_raster *ra, int row, int32_t xa, int32_t ya, int32_t xb, int32_t yb,
                       int dir)
{
  int ca = xa >> 8, cb = xb >> 8;
  int32_t cx = xa, cy = ya;
  double dydx;
  /* Every column line crossed is computed once and ends one piece and
   * starts the next: the covers add up to yb - ya exactly. */
  dydx = (double)(yb - ya) / (double)(xb - xa);
  if (xb > xa) {
    for (int c = ca; c < cb; c++) {
      int32_t bx = (c + 1) * ONE, by = ya + iround((bx - xa) * dydx);
      cell_add(ra, c, row, (by - cy) * dir, cx - c * ONE, ONE);
      cx = bx;
      cy = by;
    }
    cell_add(ra, cb, row, (yb - cy) * dir, 0, xb - cb * ONE);
  } else {
    for (int c = ca; c > cb; c--) {
      int32_t bx = c * ONE, by = ya + iround((bx - xa) * dydx);
      cell_add(ra, c, row, (by - cy) * dir, cx - c * ONE, 0);
      cx = bx;
      cy = by;
    }
    cell_add(ra, cb, row, (yb - cy) * dir, ONE, xb - cb * ONE);
  }
}

/* A piece within pixel row `row`; most lie in one column (steep edges). */
static inline void hline(tgis_raster *ra, int row, int32_t xa, int32_t ya, int32_t xb,
                         int32_t yb, int dir)
{
  int ca = xa >> 8;
  if (ya == yb)
    return;
  if (ca == xb >> 8)
    cell_add(ra, ca, row, (yb - ya) * dir, xa - ca * ONE, xb - ca * ONE);
  else
    hline_cols(ra, row, xa, ya, xb, yb, dir);
}

/* An edge within the surface, in fixed point: cut at row lines. */
static void edge_fixed(tgis_raster *ra, int32_t x0, int32_t y0, int32_t x1, int32_t y1)
{
  int dir = 1, r0, r1;
  if (y0 == y1)
    return;
  if (y0 > y1) {
    int32_t t = x0;
    x0 = x1;
    x1 = t;
    t = y0;
    y0 = y1;
    y1 = t;
    dir = -1;
  }
  r0 = y0 >> 8;
  r1 = (y1 - 1) >> 8;
  if (r0 < ra->ymin)
    ra->ymin = r0;
  if (r1 > ra->ymax)
    ra->ymax = r1;
  if (r0 == r1) {
    hline(ra, r0, x0, y0 - r0 * ONE, x1, y1 - r0 * ONE, dir);
    return;
  }
  {
    double dxdy = (double)(x1 - x0) / (double)(y1 - y0);
    int32_t xa = x0, ya = y0 - r0 * ONE;
    for (int r = r0; r < r1; r++) {
      int32_t xb = x0 + iround(((r + 1) * ONE - y0) * dxdy);
      hline(ra, r, xa, ya, xb, ONE, dir);
      xa = xb;
      ya = 0;
    }
    hline(ra, r1, xa, ya, x1, y1 - r1 * ONE, dir);
  }
}

/*
 * An edge in pixels. Inside the surface it goes straight to fixed point.
 * Otherwise it is clipped to the rows of the surface, and cut where it
 * crosses x = 0 and x = w: what lies left of the surface counts as if on
 * its left side (it still winds every pixel right of it), what lies right
 * of it counts for nothing.
 */
static void add_edge(tgis_raster *ra, double x0, double y0, double x1, double y1)
{
  double w = ra->w, h = ra->h, dx = x1 - x0, dy = y1 - y0, xs[4], ys[4];
  int k = 0;
  if (x0 >= 0 && x1 >= 0 && x0 <= w && x1 <= w && y0 >= 0 && y1 >= 0 && y0 <= h && y1 <= h) {
    edge_fixed(ra, fix(x0), fix(y0), fix(x1), fix(y1));
    return;
  }
  if (dy == 0 || (y0 <= 0 && y1 <= 0) || (y0 >= h && y1 >= h) || (x0 >= w && x1 >= w))
    return;
  /* The part with 0 <= y <= h, from parameter t0 to t1; its ends on a
   * row line get that line's y exactly. */
  {
    double ta = (0 - y0) / dy, tb = (h - y0) / dy;
    double t0 = dy > 0 ? ta : tb, t1 = dy > 0 ? tb : ta;
    int c0 = t0 > 0, c1 = t1 < 1;
    t0 = c0 ? t0 : 0;
    t1 = c1 ? t1 : 1;

    xs[k] = c0 ? x0 + dx * t0 : x0;
    ys[k++] = c0 ? (dy > 0 ? 0 : h) : y0;
    /* Cuts at x = 0 and x = w inside it, in order. */
    if (dx != 0) {
      double u = (0 - x0) / dx, v = (w - x0) / dx, lo = u < v ? u : v, hi = u < v ? v : u;
      double xlo = u < v ? 0 : w, xhi = u < v ? w : 0;
      if (lo > t0 && lo < t1) {

        xs[k] = xlo;
        ys[k++] = y0 + dy * lo;
      }
      if (hi > t0 && hi < t1) {

        xs[k] = xhi;
        ys[k++] = y0 + dy * hi;
      }
    }

    xs[k] = c1 ? x0 + dx * t1 : x1;
    ys[k++] = c1 ? (dy > 0 ? h : 0) : y1;
  }
  for (int i = 0; i + 1 < k; i++) {
    double mid = (xs[i] + xs[i + 1]) / 2;
    double ya = ys[i] < 0 ? 0 : ys[i] > h ? h : ys[i];
    double yb = ys[i + 1] < 0 ? 0 : ys[i + 1] > h ? h : ys[i + 1];
    if (mid >= w)
      continue;
    if (mid <= 0) {
      edge_fixed(ra, 0, fix(ya), 0, fix(yb));
    } else {
      double xa = xs[i] < 0 ? 0 : xs[i] > w ? w : xs[i];
      double xb = xs[i + 1] < 0 ? 0 : xs[i + 1] > w ? w : xs[i + 1];
      edge_fixed(ra, fix(xa), fix(ya), fix(xb), fix(yb));
    }
  }
}

static int box_outside(const tgis_raster *ra, const double *xy, size_t n)
{
  double minx = xy[0], maxx = xy[0], miny = xy[1], maxy = xy[1];
  for (size_t i = 1; i < n; i++) {
    double x = xy[2 * i], y = xy[2 * i + 1];
    minx = x < minx ? x : minx;
    maxx = x > maxx ? x : maxx;
    miny = y < miny ? y : miny;
    maxy = y > maxy ? y : maxy;
  }
  /* A closed ring wholly left of the surface winds nothing either: its
   * edges on x = 0 cancel. */
  return maxx <= 0 || minx >= ra->w || maxy <= 0 || miny >= ra->h;
}

static int all_finite(const double *xy, size_t n)
{
  for (size_t i = 0; i < 2 * n; i++)
    if (!isfinite(xy[i]))
      return 0;
  return 1;
}

void tgis_raster_ring(tgis_raster *ra, const double *xy, size_t n)
{
  if (n < 3 || !all_finite(xy, n) || box_outside(ra, xy, n))
    return;
  for (size_t i = 0, j = n - 1; i < n; j = i++)
    add_edge(ra, xy[2 * j], xy[2 * j + 1], xy[2 * i], xy[2 * i + 1]);
}

/* ---- strokes ------------------------------------------------------------- */

/* A convex piece of a stroke, turned so that every piece winds the same
 * way and overlapping pieces add up instead of cancelling. */
static void piece(tgis_raster *ra, const double *xy, size_t n)
{
  double a = 0;
  if (box_outside(ra, xy, n))
    return;
  for (size_t i = 0, j = n - 1; i < n; j = i++)
    a += xy[2 * j] * xy[2 * i + 1] - xy[2 * i] * xy[2 * j + 1];
  if (a >= 0) {
    for (size_t i = 0, j = n - 1; i < n; j = i++)
      add_edge(ra, xy[2 * j], xy[2 * j + 1], xy[2 * i], xy[2 * i + 1]);
  } else {
    for (size_t i = 0, j = n - 1; i < n; j = i++)
      add_edge(ra, xy[2 * i], xy[2 * i + 1], xy[2 * j], xy[2 * j + 1]);
  }
}

/* The quadrilateral of a segment a-b widened by normal (nx, ny) both ways:
 * taken round a-n, b-n, b+n, a+n it winds as piece() turns pieces. */
static void quad(tgis_raster *ra, double ax, double ay, double bx, double by, double nx,
                 double ny)
{
  double x0 = ax - nx, y0 = ay - ny, x1 = bx - nx, y1 = by - ny;
  double x2 = bx + nx, y2 = by + ny, x3 = ax + nx, y3 = ay + ny;
  double anx = fabs(nx), any = fabs(ny);
  if (fmax(ax, bx) + anx <= 0 || fmin(ax, bx) - anx >= ra->w || fmax(ay, by) + any <= 0 ||
      fmin(ay, by) - any >= ra->h)
    return;
  add_edge(ra, x0, y0, x1, y1);
  add_edge(ra, x1, y1, x2, y2);
  add_edge(ra, x2, y2, x3, y3);
  add_edge(ra, x3, y3, x0, y0);
}

/* Points of an arc of radius hw around (cx, cy) from direction (ux, uy)
 * turning by `sweep` radians (either way), both ends included, after a
 * first point (cx, cy) when `centre`. Returns the number of points. */
static size_t arc(double *out, int centre, double cx, double cy, double ux, double uy,
                  double sweep, double hw, double tol)
{
  size_t k = 0;
  int steps;
  double step, c, s;
  if (centre) {
    out[k++] = cx;
    out[k++] = cy;
  }
  /* Segments short enough that the chord stays within tol of the arc. */
  step = tol < hw ? 2 * acos(1 - tol / hw) : M_PI / 2;
  steps = (int)ceil(fabs(sweep) / step);
  steps = steps < 1 ? 1 : steps > MAX_ARC - 2 ? MAX_ARC - 2 : steps;
  c = cos(sweep / steps);
  s = sin(sweep / steps);
  for (int i = 0; i <= steps; i++) {
    out[k++] = cx + ux * hw;
    out[k++] = cy + uy * hw;
    if (i < steps) {
      double nx = ux * c - uy * s;
      uy = ux * s + uy * c;
      ux = nx;
    }
  }
  return k / 2;
}

/* The outer side of the join at v, from segment direction u1 to u2. */
static void join(tgis_raster *ra, const tgis_raster_pen *pen, double hw, double vx, double vy,
                 double u1x, double u1y, double u2x, double u2y)
{
  double cross = u1x * u2y - u1y * u2x, dot = fmax(-1, fmin(1, u1x * u2x + u1y * u2y));
  double side = cross >= 0 ? -1 : 1;  /* the outer side's normal, as a multiple of (-uy, ux) */
  double n1x = -u1y * side, n1y = u1x * side, n2x = -u2y * side, n2y = u2x * side;
  double pts[2 * (MAX_ARC + 1)], half_cos = sqrt((1 + dot) / 2);   /* cos(turn / 2) */
  size_t k;
  /* Nearly straight on: the gap is below the fixed point's resolution. */
  if (dot > 0 && hw * fabs(cross) < 1.0 / 512)
    return;
  if (pen->join == TGIS_JOIN_ROUND) {
    double theta;
    /* Where the arc stays within tolerance of its chord, a triangle. */
    if (hw * (1 - half_cos) <= pen->tolerance) {
      double t[6] = { vx, vy, vx + n1x * hw, vy + n1y * hw, vx + n2x * hw, vy + n2y * hw };
      piece(ra, t, 3);
      return;
    }
    theta = atan2(fabs(cross), dot);
    k = arc(pts, 1, vx, vy, n1x, n1y, cross >= 0 ? theta : -theta, hw, pen->tolerance);
    piece(ra, pts, k);
    return;
  }
  {
    if (pen->join == TGIS_JOIN_MITER && half_cos > 0 && 1 / half_cos <= pen->miter_limit) {
      double mx = n1x + n2x, my = n1y + n2y, ml = dist(mx, my), d = hw / half_cos;
      double q[8] = { vx, vy, vx + n1x * hw, vy + n1y * hw, vx + mx / ml * d, vy + my / ml * d,
                      vx + n2x * hw, vy + n2y * hw };
      piece(ra, q, 4);
    } else {
      double t[6] = { vx, vy, vx + n1x * hw, vy + n1y * hw, vx + n2x * hw, vy + n2y * hw };
      piece(ra, t, 3);
    }
  }
}

/* The cap at end point (ex, ey) of a line leaving in direction (dx, dy). */
static void cap(tgis_raster *ra, const tgis_raster_pen *pen, double hw, double ex, double ey,
                double dx, double dy)
{
  double nx = -dy * hw, ny = dx * hw;
  if (pen->cap == TGIS_CAP_SQUARE) {
    double q[8] = { ex + nx, ey + ny, ex + nx + dx * hw, ey + ny + dy * hw,
                    ex - nx + dx * hw, ey - ny + dy * hw, ex - nx, ey - ny };
    piece(ra, q, 4);
  } else if (pen->cap == TGIS_CAP_ROUND) {
    double pts[2 * (MAX_ARC + 1)];
    /* From the left normal round through the direction to the right. */
    size_t k = arc(pts, 0, ex, ey, -dy, dx, -M_PI, hw, pen->tolerance);
    piece(ra, pts, k);
  }
}

void tgis_raster_stroke(tgis_raster *ra, const double *xy, size_t n, int closed,
                        const tgis_raster_pen *pen)
{
  double hw = pen->width / 2, fx = 0, fy = 0, px = 0, py = 0;
  size_t nseg, first = SIZE_MAX, last = SIZE_MAX;
  if (n < 2 || !(hw > 0) || !all_finite(xy, n))
    return;
  nseg = closed ? n : n - 1;
  for (size_t i = 0; i < nseg; i++) {
    const double *a = xy + 2 * i, *b = xy + 2 * ((i + 1) % n);
    double dx = b[0] - a[0], dy = b[1] - a[1], len = dist(dx, dy), ux, uy, nx, ny;
    if (!(len > 1e-9))
      continue;
    ux = dx / len;
    uy = dy / len;
    nx = -uy * hw;
    ny = ux * hw;
    quad(ra, a[0], a[1], b[0], b[1], nx, ny);
    if (last != SIZE_MAX)
      join(ra, pen, hw, a[0], a[1], px, py, ux, uy);
    else {
      first = i;
      fx = ux;
      fy = uy;
    }
    last = i;
    px = ux;
    py = uy;
  }
  if (last == SIZE_MAX)
    return;
  if (closed) {
    join(ra, pen, hw, xy[2 * first], xy[2 * first + 1], px, py, fx, fy);
  } else {
    const double *e = xy + 2 * ((last + 1) % n);
    cap(ra, pen, hw, xy[2 * first], xy[2 * first + 1], -fx, -fy);
    cap(ra, pen, hw, e[0], e[1], px, py);
  }
}

/* ---- sweep and paint ----------------------------------------------------- */

/* Index into the paint's colour table of a pixel value (cover << 9 minus
 * area, either sign): its coverage in 256ths, 256 for full. */
static inline uint32_t cov_index(int32_t v)
{
  uint32_t a = (uint32_t)(v < 0 ? -v : v);
  return a >= FULL ? 256 : a >> 9;
}

/* A run of pixels under premultiplied `src` (the colour at the run's
 * coverage). */
static void span(uint32_t *row, int x, int len, uint32_t src)
{
  if ((src >> 24) == 255) {
    for (int i = 0; i < len; i++)
      row[x + i] = src;
    return;
  }
  for (int i = 0; i < len; i++)
    row[x + i] = tgis_over(src, row[x + i]);
}

/* Coverage runs into a mask: the larger of the old and the new value. */
static void span_mask(uint8_t *row, int x, int len, uint32_t c)
{
  for (int i = 0; i < len; i++)
    row[x + i] = row[x + i] > c ? row[x + i] : (uint8_t)c;
}

/*
 * The sweep: every touched row left to right, cells cleared as they are
 * read. Into ARGB pixels through the colour table `tab`, or (to_mask) as
 * coverage into an 8-bit mask; inlined into each caller with to_mask a
 * constant.
 */
static inline __attribute__((always_inline)) void sweep(tgis_raster *ra, uint8_t *base,
                                                        int stride, const uint32_t *tab,
                                                        int to_mask)
{
  for (int y = ra->ymin; y <= ra->ymax; y++) {
    uint8_t *line = base + (size_t)y * (size_t)stride;
    uint32_t *row = (uint32_t *)(void *)line;
    uint64_t *bits = ra->touched + (size_t)y * (size_t)ra->words;
    acc_cell *cells = ra->acc + (size_t)y * (size_t)ra->w;
    int32_t acc = 0;
    int next = 0;
    for (int wi = 0; wi < ra->words; wi++) {
      uint64_t m = bits[wi];
      bits[wi] = 0;
      while (m) {
        int x = wi * 64 + __builtin_ctzll(m);
        int32_t cover = cells[x].cover, area = cells[x].area;
        uint32_t c;
        m &= m - 1;
        cells[x].cover = cells[x].area = 0;
        if (acc != 0 && x > next) {
          if (to_mask)
            span_mask(line, next, x - next, tab[cov_index(acc * 2 * ONE)]);
          else
            span(row, next, x - next, tab[cov_index(acc * 2 * ONE)]);
        }
        if ((c = tab[cov_index((acc + cover) * 2 * ONE - area)]) != 0) {
          if (to_mask)
            line[x] = line[x] > c ? line[x] : (uint8_t)c;
          else
            row[x] = c >= 0xff000000u ? c : tgis_over(c, row[x]);
        }
        acc += cover;
        next = x + 1;
      }
    }
    if (acc != 0 && next < ra->w) {
      if (to_mask)
        span_mask(line, next, ra->w - next, tab[cov_index(acc * 2 * ONE)]);
      else
        span(row, next, ra->w - next, tab[cov_index(acc * 2 * ONE)]);
    }
  }
  ra->ymin = INT_MAX;
  ra->ymax = -1;
}

void tgis_raster_paint(tgis_raster *ra, uint8_t *argb, int stride, tgis_rgba colour)
{
  uint32_t ca = colour.a, src, *tab = ra->scaled, level = 256, scaled = 0;
  if (ca == 0) {
    tgis_raster_begin(ra, ra->w, ra->h);   /* nothing to paint: drop the cells */
    return;
  }
  src = tgis_premultiply(colour);
  /* The colour at every coverage index, once per paint rather than per
   * pixel (a multiply for each of the 33 coverage levels). */
  for (uint32_t k = 0; k <= 256; k++) {
    uint32_t c = tgis_coverage_level((k * 255 + 128) >> 8);
    if (c != level)
      scaled = tgis_scale(src, level = c);
    tab[k] = scaled;
  }
  sweep(ra, argb, stride, tab, 0);
}

void tgis_raster_paint_mask(tgis_raster *ra, uint8_t *mask, int stride)
{
  uint32_t *tab = ra->scaled;
  for (uint32_t k = 0; k <= 256; k++)
    tab[k] = (k * 255 + 128) >> 8;
  sweep(ra, mask, stride, tab, 1);
}
