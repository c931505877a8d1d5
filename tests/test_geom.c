/*
 * test_geom.c -- plain-array geometry: measures, the fast validity test
 * against GEOS, and the GEOS round trip.
 */
#include <math.h>

#include <geos_c.h>

#include "tgis_int.h"
#include "geom.h"
#include "harness.h"

static void ring(tgis_geombuf *g, const double *xy, size_t n)
{
  for (size_t i = 0; i < n; i++)
    tgis_geombuf_add_point(g, xy[2 * i], xy[2 * i + 1]);
  tgis_geombuf_end_part(g);
}

static void test_geom__area_extent_length(void)
{
  tgis_ctx *ctx = NULL;
  tgis_geombuf g;
  const double shell[] = { 0, 0, 10, 0, 10, 10, 0, 10, 0, 0 };
  const double hole[] = { 2, 2, 2, 4, 4, 4, 4, 2, 2, 2 };
  const double other[] = { 20, 20, 30, 20, 30, 25, 20, 20 };

  ASSERT_EQ(tgis_open(&ctx, NULL, NULL), TGIS_OK);
  tgis_geombuf_init(&g, ctx);
  tgis_geombuf_reset(&g, TGIS_GEOM_MULTIPOLYGON);
  ring(&g, shell, 5);
  ring(&g, hole, 5);
  tgis_geombuf_end_poly(&g);
  ring(&g, other, 4);
  tgis_geombuf_end_poly(&g);
  ASSERT_EQ(g.n_polys, 2);
  ASSERT_EQ(g.polys[0], 2);
  ASSERT_EQ(g.polys[1], 1);
  ASSERT_NEAR(tgis_geombuf_area(&g), 100 - 4 + 25, 1e-9);
  ASSERT_NEAR(tgis_geombuf_length(&g), 40 + 8 + (10 + 5 + hypot(10, 5)), 1e-9);
  tgis_extent e = tgis_geombuf_extent(&g);
  ASSERT_NEAR(e.minx, 0, 0);
  ASSERT_NEAR(e.maxx, 30, 0);
  ASSERT_NEAR(e.maxy, 25, 0);
  ASSERT(!tgis_geombuf_is_empty(&g));
  tgis_geombuf_reset(&g, TGIS_GEOM_POINT);
  ASSERT(tgis_geombuf_is_empty(&g));
  ASSERT_NEAR(tgis_geombuf_area(&g), 0, 0);
  tgis_geombuf_free(&g);
  tgis_geombuf_free(NULL);
  tgis_close(ctx);
}

static int geos_valid(tgis_ctx *ctx, const tgis_geombuf *g)
{
  GEOSGeometry *geom = NULL;
  int v;
  if (tgis_geom__to_geos(&geom, ctx, g) != TGIS_OK)
    return 0;
  v = GEOSisValid_r(tgis__geos(ctx), geom);
  GEOSGeom_destroy_r(tgis__geos(ctx), geom);
  return v == 1;
}

static void test_geom__fast_validity_never_contradicts_geos(void)
{
  tgis_ctx *ctx = NULL;
  tgis_geombuf g;
  unsigned long long s = 42;
  int fast_yes = 0, geos_yes = 0;

  ASSERT_EQ(tgis_open(&ctx, NULL, NULL), TGIS_OK);
  tgis_geombuf_init(&g, ctx);
  for (int k = 0; k < 20000; k++) {
    int n = 3 + (int)((s >> 33) % 6);
    tgis_geombuf_reset(&g, TGIS_GEOM_MULTIPOLYGON);
    double x0 = 0, y0 = 0;
    for (int i = 0; i < n; i++) {
      double x, y;
      s = s * 6364136223846793005ULL + 1442695040888963407ULL;
      if (k % 3 == 0) {
        /* A star-shaped ring around the origin: mostly valid. */
        double ang = 2 * M_PI * i / n, r = 5 + (double)((s >> 40) % 100) / 10;
        x = 500000 + r * cos(ang);
        y = 4570000 + r * sin(ang);
      } else {
        /* Random vertices on a small integer grid: many collinear,
         * repeated and crossing cases. */
        x = 500000 + (double)((s >> 33) % 5);
        y = 4570000 + (double)((s >> 45) % 5);
      }
      if (i == 0) { x0 = x; y0 = y; }
      tgis_geombuf_add_point(&g, x, y);
    }
    tgis_geombuf_add_point(&g, x0, y0);
    tgis_geombuf_end_part(&g);
    tgis_geombuf_end_poly(&g);
    int fast = tgis_geombuf_simple_polygon_valid(&g);
    int full = geos_valid(ctx, &g);
    fast_yes += fast;
    geos_yes += full;
    if (fast && !full) {
      HARNESS_FAIL("case %d: fast test says valid, GEOS says invalid", k);
      break;
    }
  }
  tgis_geombuf_free(&g);
  tgis_close(ctx);
  ASSERT(!harness_cur_failed);
  /* The fast path must actually decide most valid parcels. */
  ASSERT(fast_yes > geos_yes / 2);
  ASSERT(geos_yes > 1000);
}

static void test_geom__bowtie_is_not_fast_valid(void)
{
  tgis_ctx *ctx = NULL;
  tgis_geombuf g;
  const double bowtie[] = { 0, 0, 10, 10, 10, 0, 0, 10, 0, 0 };
  const double square[] = { 0, 0, 10, 0, 10, 10, 0, 10, 0, 0 };
  const double open[] = { 0, 0, 10, 0, 10, 10, 0, 10 };

  ASSERT_EQ(tgis_open(&ctx, NULL, NULL), TGIS_OK);
  tgis_geombuf_init(&g, ctx);
  tgis_geombuf_reset(&g, TGIS_GEOM_POLYGON);
  ring(&g, bowtie, 5);
  tgis_geombuf_end_poly(&g);
  ASSERT_EQ(tgis_geombuf_simple_polygon_valid(&g), 0);
  ASSERT_EQ(geos_valid(ctx, &g), 0);
  tgis_geombuf_reset(&g, TGIS_GEOM_POLYGON);
  ring(&g, square, 5);
  tgis_geombuf_end_poly(&g);
  ASSERT_EQ(tgis_geombuf_simple_polygon_valid(&g), 1);
  tgis_geombuf_reset(&g, TGIS_GEOM_POLYGON);
  ring(&g, open, 4);
  tgis_geombuf_end_poly(&g);
  ASSERT_EQ(tgis_geombuf_simple_polygon_valid(&g), 0);
  tgis_geombuf_free(&g);
  tgis_close(ctx);
}

static void test_geom__geos_round_trip_keeps_parts(void)
{
  tgis_ctx *ctx = NULL;
  tgis_geombuf g, back;
  GEOSGeometry *geom = NULL;
  const double shell[] = { 0, 0, 10, 0, 10, 10, 0, 10, 0, 0 };
  const double hole[] = { 2, 2, 2, 4, 4, 4, 4, 2, 2, 2 };
  int dropped = -1;

  ASSERT_EQ(tgis_open(&ctx, NULL, NULL), TGIS_OK);
  tgis_geombuf_init(&g, ctx);
  tgis_geombuf_init(&back, ctx);
  tgis_geombuf_reset(&g, TGIS_GEOM_MULTIPOLYGON);
  ring(&g, shell, 5);
  ring(&g, hole, 5);
  tgis_geombuf_end_poly(&g);
  ASSERT_OK_CTX(ctx, tgis_geom__to_geos(&geom, ctx, &g));
  ASSERT_OK_CTX(ctx, tgis_geom__from_geos(&back, ctx, geom, TGIS_GEOM_MULTIPOLYGON, &dropped));
  GEOSGeom_destroy_r(tgis__geos(ctx), geom);
  ASSERT_EQ(dropped, 0);
  ASSERT_EQ(back.n_points, 10);
  ASSERT_EQ(back.n_parts, 2);
  ASSERT_EQ(back.n_polys, 1);
  ASSERT_NEAR(tgis_geombuf_area(&back), 96, 1e-9);

  /* A collection of a polygon and a line, read as polygons: line dropped. */
  geom = GEOSGeomFromWKT_r(tgis__geos(ctx),
      "GEOMETRYCOLLECTION(POLYGON((0 0,1 0,1 1,0 0)),LINESTRING(5 5,6 6))");
  ASSERT(geom != NULL);
  ASSERT_OK_CTX(ctx, tgis_geom__from_geos(&back, ctx, geom, TGIS_GEOM_MULTIPOLYGON, &dropped));
  GEOSGeom_destroy_r(tgis__geos(ctx), geom);
  ASSERT_EQ(dropped, 1);
  ASSERT_EQ(back.n_polys, 1);
  ASSERT_NEAR(tgis_geombuf_area(&back), 0.5, 1e-12);

  tgis_geombuf_free(&g);
  tgis_geombuf_free(&back);
  tgis_close(ctx);
}

int main(void)
{
  RUN(test_geom__area_extent_length);
  RUN(test_geom__fast_validity_never_contradicts_geos);
  RUN(test_geom__bowtie_is_not_fast_valid);
  RUN(test_geom__geos_round_trip_keeps_parts);
  return harness_report();
}
