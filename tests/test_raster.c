/*
 * test_raster.c -- the exact-area scanline rasteriser (tiles/raster.c).
 *
 * Coverage is checked against references computed here independently:
 * exact overlap areas for rectangles, 16x16 point sampling per pixel with
 * the nonzero rule for polygons, and distance to the line for round
 * strokes. Painting opaque white over transparent pixels leaves the
 * coverage in the alpha channel.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "tgis.h"
#include "raster.h"

#define W 48
#define H 40
#define SS 16

static const tgis_rgba white = { 255, 255, 255, 255 };

typedef struct canvas {
  uint32_t px[W * H];
} canvas;

static double alpha_at(const canvas *c, int x, int y) { return (c->px[y * W + x] >> 24) / 255.0; }

/* Winding number of point (x, y) around ring xy (n points). */
static int winding(const double *xy, size_t n, double x, double y)
{
  int wn = 0;
  for (size_t i = 0, j = n - 1; i < n; j = i++) {
    double x0 = xy[2 * j], y0 = xy[2 * j + 1], x1 = xy[2 * i], y1 = xy[2 * i + 1];
    double side = (x1 - x0) * (y - y0) - (x - x0) * (y1 - y0);
    if (y0 <= y && y1 > y && side > 0)
      wn++;
    else if (y1 <= y && y0 > y && side < 0)
      wn--;
  }
  return wn;
}

/* Share of pixel (px, py) inside the rings (nonzero over all of them). */
static double sampled_fill(const double *const *rings, const size_t *ns, int nr, int px, int py)
{
  int in = 0;
  for (int sy = 0; sy < SS; sy++)
    for (int sx = 0; sx < SS; sx++) {
      double x = px + (sx + 0.5) / SS, y = py + (sy + 0.5) / SS;
      int wn = 0;
      for (int r = 0; r < nr; r++)
        wn += winding(rings[r], ns[r], x, y);
      in += wn != 0;
    }
  return in / (double)(SS * SS);
}

static double seg_dist(double x, double y, const double *a, const double *b)
{
  double dx = b[0] - a[0], dy = b[1] - a[1], l2 = dx * dx + dy * dy, t = 0;
  if (l2 > 0)
    t = ((x - a[0]) * dx + (y - a[1]) * dy) / l2;
  t = t < 0 ? 0 : t > 1 ? 1 : t;
  return hypot(x - a[0] - t * dx, y - a[1] - t * dy);
}

/* Share of pixel (px, py) within hw of the line (round joins and caps). */
static double sampled_stroke(const double *xy, size_t n, int closed, double hw, int px, int py)
{
  int in = 0;
  size_t nseg = closed ? n : n - 1;
  for (int sy = 0; sy < SS; sy++)
    for (int sx = 0; sx < SS; sx++) {
      double x = px + (sx + 0.5) / SS, y = py + (sy + 0.5) / SS, d = 1e300;
      for (size_t i = 0; i < nseg; i++)
        d = fmin(d, seg_dist(x, y, xy + 2 * i, xy + 2 * ((i + 1) % n)));
      in += d <= hw;
    }
  return in / (double)(SS * SS);
}

static tgis_raster *new_raster(tgis_ctx **ctx)
{
  tgis_raster *ra = NULL;
  if (tgis_open(ctx, NULL, NULL) != TGIS_OK || tgis_raster_new(&ra, *ctx) != TGIS_OK)
    return NULL;
  return ra;
}

static void paint(tgis_raster *ra, canvas *c, tgis_rgba colour)
{
  tgis_raster_paint(ra, (uint8_t *)c->px, W * 4, colour);
}

/* Every pixel of a rectangle with fractional sides has its exact overlap. */
static void test_raster__rectangle_is_exact(void)
{
  tgis_ctx *ctx = NULL;
  tgis_raster *ra = new_raster(&ctx);
  canvas c;
  const double x0 = 2.25, y0 = 3.5, x1 = 10.75, y1 = 7.125;
  const double rect[] = { x0, y0, x1, y0, x1, y1, x0, y1 };
  ASSERT(ra != NULL);
  memset(&c, 0, sizeof c);
  ASSERT_EQ(tgis_raster_begin(ra, W, H), TGIS_OK);
  tgis_raster_ring(ra, rect, 4);
  paint(ra, &c, white);
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++) {
      double ox = fmax(0, fmin(x + 1, x1) - fmax(x, x0));
      double oy = fmax(0, fmin(y + 1, y1) - fmax(y, y0));
      ASSERT_NEAR(alpha_at(&c, x, y), ox * oy, 1.0 / 255 + 1e-9);
    }
  tgis_raster_free(ra);
  tgis_close(ctx);
}

/* Into a mask: the same exact coverage, in 255ths, and never below what
 * the mask held. */
static void test_raster__mask_keeps_the_larger(void)
{
  tgis_ctx *ctx = NULL;
  tgis_raster *ra = new_raster(&ctx);
  uint8_t mask[W * H];
  const double x0 = 2.25, y0 = 3.5, x1 = 10.75, y1 = 7.125;
  const double rect[] = { x0, y0, x1, y0, x1, y1, x0, y1 };
  ASSERT(ra != NULL);
  memset(mask, 0, sizeof mask);
  mask[4 * W + 2] = 200;   /* covered 0.75 * 0.5 by the rectangle: stays 200 */
  mask[20 * W + 20] = 77;  /* outside it: stays */
  ASSERT_EQ(tgis_raster_begin(ra, W, H), TGIS_OK);
  tgis_raster_ring(ra, rect, 4);
  tgis_raster_paint_mask(ra, mask, W);
  ASSERT_EQ(mask[4 * W + 2], 200);
  ASSERT_EQ(mask[20 * W + 20], 77);
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++) {
      double ox = fmax(0, fmin(x + 1, x1) - fmax(x, x0));
      double oy = fmax(0, fmin(y + 1, y1) - fmax(y, y0));
      if ((y == 4 && x == 2) || (y == 20 && x == 20))
        continue;
      ASSERT_NEAR(mask[y * W + x] / 255.0, ox * oy, 1.0 / 255 + 1e-9);
    }
  /* Different sizes, one after another, share the buffers. */
  ASSERT_EQ(tgis_raster_begin(ra, 7, 5), TGIS_OK);
  tgis_raster_ring(ra, rect, 4);
  ASSERT_EQ(tgis_raster_begin(ra, W, H), TGIS_OK);
  memset(mask, 0, sizeof mask);
  tgis_raster_paint_mask(ra, mask, W);
  for (int i = 0; i < W * H; i++)
    ASSERT_EQ(mask[i], 0);
  tgis_raster_free(ra);
  tgis_close(ctx);
}

/* Triangles, a self-intersecting star (nonzero: its centre is filled), a
 * shell with a hole, a sliver, shapes crossing every side of the surface
 * and one around it: all as 256 samples a pixel see them. */
static void test_raster__polygons_match_point_sampling(void)
{
  static const double tri[] = { 3.3, 2.1, 30.7, 9.4, 11.2, 31.9 };
  static const double star[] = { 24, 2, 31, 34, 4, 14, 44, 14, 17, 34 };
  static const double shell[] = { 5.5, 5.5, 40.25, 5.5, 40.25, 35.75, 5.5, 35.75 };
  static const double hole[] = { 15.1, 12.9, 15.1, 25.3, 30.6, 25.3, 30.6, 12.9 };
  static const double sliver[] = { 1, 1, 46, 3.2, 46, 3.45 };
  static const double left[] = { -30.5, 4.2, 12.3, 9.9, 7.7, 20.1, -12, 38.6 };
  static const double right[] = { 30.2, 6.6, 95.5, 2.2, 60.1, 39.3, 36.4, 25.8 };
  static const double top_bottom[] = { 20.6, -50.2, 27.3, -50.2, 29.9, 95.1, 18.2, 95.1 };
  static const double around[] = { -1e5, -1e5, 1e5, -1e5, 1e5, 1e5, -1e5, 1e5 };
  static const double diamond[] = { 24, -10, 58, 20, 24, 50, -10, 20 };
  struct {
    const double *rings[2];
    size_t n[2];
    int nr;
  } cases[] = {
    { { tri }, { 3 }, 1 },           { { star }, { 5 }, 1 },
    { { shell, hole }, { 4, 4 }, 2 }, { { sliver }, { 3 }, 1 },
    { { left }, { 4 }, 1 },          { { right }, { 4 }, 1 },
    { { top_bottom }, { 4 }, 1 },    { { around }, { 4 }, 1 },
    { { diamond }, { 4 }, 1 },
  };
  tgis_ctx *ctx = NULL;
  tgis_raster *ra = new_raster(&ctx);
  ASSERT(ra != NULL);
  for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
    canvas c;
    double worst = 0, sum = 0;
    memset(&c, 0, sizeof c);
    ASSERT_EQ(tgis_raster_begin(ra, W, H), TGIS_OK);
    for (int r = 0; r < cases[k].nr; r++)
      tgis_raster_ring(ra, cases[k].rings[r], cases[k].n[r]);
    paint(ra, &c, white);
    for (int y = 0; y < H; y++)
      for (int x = 0; x < W; x++) {
        double d = fabs(alpha_at(&c, x, y) - sampled_fill(cases[k].rings, cases[k].n,
                                                          cases[k].nr, x, y));
        worst = fmax(worst, d);
        sum += d;
      }
    /* Sampling itself is off by up to 1/16 where an edge crosses a pixel. */
    if (worst > 0.07 || sum / (W * H) > 0.004)
      HARNESS_FAIL("case %zu: worst %.4f, mean %.5f", k, worst, sum / (W * H));
  }
  tgis_raster_free(ra);
  tgis_close(ctx);
}

/* Neighbours sharing an edge at a fractional x, painted together, leave
 * no seam: the shared pixels are fully covered. */
static void test_raster__shared_edges_leave_no_seam(void)
{
  static const double a[] = { 4.3, 5.1, 20.37, 7.9, 18.81, 30.2, 6.2, 28.7 };
  static const double b[] = { 20.37, 7.9, 41.5, 6.6, 40.2, 33.3, 18.81, 30.2 };
  tgis_ctx *ctx = NULL;
  tgis_raster *ra = new_raster(&ctx);
  canvas c;
  ASSERT(ra != NULL);
  memset(&c, 0, sizeof c);
  ASSERT_EQ(tgis_raster_begin(ra, W, H), TGIS_OK);
  tgis_raster_ring(ra, a, 4);
  tgis_raster_ring(ra, b, 4);
  paint(ra, &c, white);
  for (int y = 10; y < 28; y++)
    for (int x = 17; x < 22; x++)
      ASSERT_EQ(c.px[y * W + x] >> 24, 255);
  tgis_raster_free(ra);
  tgis_close(ctx);
}

/* Round strokes are the points within half the width of the line. */
static void test_raster__round_strokes_match_distance(void)
{
  static const double zig[] = { 3.2, 30.5, 14.7, 6.1, 22.3, 33.9, 43.6, 12.4, 44.1, 36.2 };
  static const double ring[] = { 8.5, 8.5, 38.2, 10.1, 30.4, 31.7, 12.6, 27.3 };
  static const double widths[] = { 1.6, 4.0, 9.5 };
  tgis_ctx *ctx = NULL;
  tgis_raster *ra = new_raster(&ctx);
  ASSERT(ra != NULL);
  for (int closed = 0; closed < 2; closed++)
    for (size_t k = 0; k < 3; k++) {
      const double *xy = closed ? ring : zig;
      size_t n = closed ? 4 : 5;
      tgis_raster_pen pen = { widths[k], TGIS_JOIN_ROUND, TGIS_CAP_ROUND, 10, 0.05 };
      canvas c;
      double worst = 0, sum = 0;
      memset(&c, 0, sizeof c);
      ASSERT_EQ(tgis_raster_begin(ra, W, H), TGIS_OK);
      tgis_raster_stroke(ra, xy, n, closed, &pen);
      paint(ra, &c, white);
      for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
          double d = fabs(alpha_at(&c, x, y) - sampled_stroke(xy, n, closed, widths[k] / 2, x, y));
          worst = fmax(worst, d);
          sum += d;
        }
      /* Pieces overlap inside a join: where both cover part of a pixel
       * (the inner corner of a sharp turn), the pixel is counted twice. */
      if (worst > 0.25 || sum / (W * H) > 0.002)
        HARNESS_FAIL("closed %d width %.1f: worst %.4f, mean %.5f", closed, widths[k], worst,
                     sum / (W * H));
    }
  tgis_raster_free(ra);
  tgis_close(ctx);
}

/* A translucent line crossing itself is painted once where its pieces
 * overlap: never darker than its colour. */
static void test_raster__translucent_stroke_paints_once(void)
{
  static const double loop[] = { 4, 20, 40, 20, 30, 4, 22, 36, 16, 2 };
  tgis_raster_pen pen = { 6, TGIS_JOIN_ROUND, TGIS_CAP_BUTT, 10, 0.25 };
  tgis_rgba half = { 255, 0, 0, 128 };
  tgis_ctx *ctx = NULL;
  tgis_raster *ra = new_raster(&ctx);
  canvas c;
  int full = 0;
  ASSERT(ra != NULL);
  memset(&c, 0, sizeof c);
  ASSERT_EQ(tgis_raster_begin(ra, W, H), TGIS_OK);
  tgis_raster_stroke(ra, loop, 5, 0, &pen);
  paint(ra, &c, half);
  for (int i = 0; i < W * H; i++) {
    ASSERT(c.px[i] >> 24 <= 128);
    full += c.px[i] >> 24 == 128;
  }
  ASSERT(full > 200);
  tgis_raster_free(ra);
  tgis_close(ctx);
}

/* A right-angle turn: a miter fills the outer corner square, a bevel cuts
 * it in half, a round join lies between. */
static void test_raster__joins(void)
{
  static const double turn[] = { 4, 30.5, 30.5, 30.5, 30.5, 4 };
  static const tgis_line_join joins[] = { TGIS_JOIN_MITER, TGIS_JOIN_ROUND, TGIS_JOIN_BEVEL };
  double corner[3];
  tgis_ctx *ctx = NULL;
  tgis_raster *ra = new_raster(&ctx);
  ASSERT(ra != NULL);
  for (int k = 0; k < 3; k++) {
    tgis_raster_pen pen = { 8, joins[k], TGIS_CAP_BUTT, 10, 0.1 };
    canvas c;
    memset(&c, 0, sizeof c);
    ASSERT_EQ(tgis_raster_begin(ra, W, H), TGIS_OK);
    tgis_raster_stroke(ra, turn, 3, 0, &pen);
    paint(ra, &c, white);
    /* The outer corner square runs from (30.5, 30.5) to (34.5, 34.5). */
    corner[k] = 0;
    for (int y = 31; y < 34; y++)
      for (int x = 31; x < 34; x++)
        corner[k] += alpha_at(&c, x, y);
    /* The straight parts are exact: a 8 px band. */
    ASSERT_NEAR(alpha_at(&c, 15, 26), 0.5, 1.0 / 255);
    ASSERT_NEAR(alpha_at(&c, 15, 27), 1.0, 1.0 / 255);
    ASSERT_NEAR(alpha_at(&c, 15, 34), 0.5, 1.0 / 255);
    ASSERT_NEAR(alpha_at(&c, 15, 35), 0.0, 1.0 / 255);
  }
  ASSERT_NEAR(corner[0], 9.0, 0.02);
  ASSERT(corner[2] < corner[1] && corner[1] < corner[0]);
  /* The bevel cuts the square in half, less the diagonal's own pixels. */
  ASSERT_NEAR(corner[2], 9.0 - 4.5 - 0.25, 0.3);
  tgis_raster_free(ra);
  tgis_close(ctx);
}

/* Coordinates that are not numbers, or beyond any surface, and degenerate
 * shapes: nothing crashes, nothing bad is painted. */
static void test_raster__bad_input(void)
{
  const double nan_ring[] = { 1, 1, NAN, 5, 9, 9 };
  const double inf_ring[] = { 1, 1, INFINITY, 5, 9, 9 };
  const double huge[] = { -1e300, -1e300, 1e300, -1e300, 1e300, 1e300, -1e300, 1e300 };
  const double far_line[] = { -1e12, 20.5, 1e12, 20.5 };
  const double dot[] = { 5, 5, 5, 5, 5, 5 };
  tgis_raster_pen pen = { 3, TGIS_JOIN_MITER, TGIS_CAP_SQUARE, 10, 0.25 };
  tgis_raster_pen zero = { 0, TGIS_JOIN_ROUND, TGIS_CAP_ROUND, 10, 0.25 };
  tgis_ctx *ctx = NULL;
  tgis_raster *ra = new_raster(&ctx);
  canvas c;
  ASSERT(ra != NULL);
  ASSERT_EQ(tgis_raster_begin(ra, -1, 10), TGIS_EINVAL);
  ASSERT_EQ(tgis_raster_begin(ra, 10, TGIS_RASTER_MAX_SIDE + 1), TGIS_EINVAL);

  memset(&c, 0, sizeof c);
  ASSERT_EQ(tgis_raster_begin(ra, W, H), TGIS_OK);
  tgis_raster_ring(ra, nan_ring, 3);
  tgis_raster_ring(ra, inf_ring, 3);
  tgis_raster_ring(ra, dot, 3);
  tgis_raster_ring(ra, dot, 2);
  tgis_raster_stroke(ra, nan_ring, 3, 0, &pen);
  tgis_raster_stroke(ra, dot, 3, 0, &pen);
  tgis_raster_stroke(ra, far_line, 2, 0, &zero);
  paint(ra, &c, white);
  for (int i = 0; i < W * H; i++)
    ASSERT_EQ(c.px[i], 0);

  /* A polygon around everything, however far, covers every pixel. */
  ASSERT_EQ(tgis_raster_begin(ra, W, H), TGIS_OK);
  tgis_raster_ring(ra, huge, 4);
  paint(ra, &c, white);
  for (int i = 0; i < W * H; i++)
    ASSERT_EQ(c.px[i], 0xffffffffu);

  /* A line from far away to far away: a 3 px band, square caps unseen. */
  memset(&c, 0, sizeof c);
  ASSERT_EQ(tgis_raster_begin(ra, W, H), TGIS_OK);
  tgis_raster_stroke(ra, far_line, 2, 0, &pen);
  paint(ra, &c, white);
  for (int x = 0; x < W; x++) {
    ASSERT_EQ(c.px[18 * W + x], 0);
    ASSERT_EQ(c.px[19 * W + x] >> 24, 255);
    ASSERT_EQ(c.px[21 * W + x] >> 24, 255);
    ASSERT_EQ(c.px[22 * W + x], 0);
  }

  /* Edges added and never painted are dropped by the next begin. */
  ASSERT_EQ(tgis_raster_begin(ra, W, H), TGIS_OK);
  tgis_raster_ring(ra, huge, 4);
  ASSERT_EQ(tgis_raster_begin(ra, W, H), TGIS_OK);
  memset(&c, 0, sizeof c);
  paint(ra, &c, white);
  for (int i = 0; i < W * H; i++)
    ASSERT_EQ(c.px[i], 0);

  /* An empty surface takes shapes and paints nothing. */
  ASSERT_EQ(tgis_raster_begin(ra, 0, 0), TGIS_OK);
  tgis_raster_ring(ra, huge, 4);
  tgis_raster_stroke(ra, far_line, 2, 0, &pen);
  paint(ra, &c, white);
  tgis_raster_free(ra);
  tgis_close(ctx);
}

/* The buffers of a new size cannot be allocated: begin says so, leaks
 * nothing, and works again once memory is there. */
static void test_raster__out_of_memory(void)
{
  for (int n = 1; n < 20; n++) {
    harness_fault fault = { 0, 0, 0 };
    tgis_allocator al = { harness_fault_malloc, harness_fault_realloc, harness_fault_free,
                          &fault };
    tgis_options oo = TGIS_OPTIONS_INIT;
    tgis_ctx *ctx = NULL;
    tgis_raster *ra = NULL;
    tgis_status st;
    oo.allocator = &al;
    ASSERT_EQ(tgis_open(&ctx, NULL, &oo), TGIS_OK);
    fault.fail_at = fault.calls + n;
    st = tgis_raster_new(&ra, ctx);
    if (st == TGIS_OK) {
      st = tgis_raster_begin(ra, W, H);
      if (st == TGIS_ENOMEM) {
        fault.fail_at = 0;
        ASSERT_EQ(tgis_raster_begin(ra, W, H), TGIS_OK);
      }
    }
    ASSERT(st == TGIS_OK || st == TGIS_ENOMEM);
    tgis_raster_free(ra);
    tgis_close(ctx);
    ASSERT_EQ(fault.live, 0);
    if (st == TGIS_OK)
      return;
  }
  HARNESS_FAIL("never succeeded");
}

int main(void)
{
  RUN(test_raster__rectangle_is_exact);
  RUN(test_raster__mask_keeps_the_larger);
  RUN(test_raster__polygons_match_point_sampling);
  RUN(test_raster__shared_edges_leave_no_seam);
  RUN(test_raster__round_strokes_match_distance);
  RUN(test_raster__translucent_stroke_paints_once);
  RUN(test_raster__joins);
  RUN(test_raster__bad_input);
  RUN(test_raster__out_of_memory);
  return harness_report();
}
