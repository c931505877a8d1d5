/*
 * test_graph.c -- the road graph: noding with levels, edges, the walk and
 * drive adjacency, components, multi-source Dijkstra (against a naive one),
 * snapping (against brute force), error and allocation-failure paths.
 *
 * Hand-built graphs use 36 km/h (10 m/s) for driving, so 100 m takes 10 s,
 * and the default 5 km/h for walking, so 100 m takes 72 s.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "tgis.h"
#include "harness.h"
#include "../analytics/graph.h"

#define WALK TGIS_MODE_WALK
#define DRIVE TGIS_MODE_DRIVE

static tgis_road_in road(const double *xy, uint32_t n, int64_t id)
{
  tgis_road_in r;
  memset(&r, 0, sizeof r);
  r.xy = xy;
  r.n = n;
  r.oneway = 0;
  r.level = 0;
  r.drive_kmh = 36.0;
  r.walkable = 1;
  r.id = id;
  return r;
}

/* The node at exactly (x, y), or TGIS_GRAPH_NONE. */
static uint32_t node_at(const tgis_graph *g, double x, double y)
{
  for (uint32_t u = 0; u < g->n_nodes; u++)
    if (g->node_xy[2 * u] == x && g->node_xy[2 * u + 1] == y)
      return u;
  return TGIS_GRAPH_NONE;
}

/* Edges touching node u (a loop counts twice). */
static uint32_t degree(const tgis_graph *g, uint32_t u)
{
  uint32_t d = 0;
  for (uint32_t e = 0; e < g->n_edges; e++)
    d += (g->edge_from[e] == u) + (g->edge_to[e] == u);
  return d;
}

/* One search from a single node, facility 0. */
static tgis_status search_from(double *cost, int32_t *fac, const tgis_graph *g,
                               tgis_mode mode, uint32_t node)
{
  tgis_graph_source s = { node, 0.0, 0 };
  return tgis_graph_dijkstra(cost, fac, g, mode, &s, 1, INFINITY);
}

static tgis_ctx *open_ctx(void)
{
  tgis_ctx *ctx = NULL;
  if (tgis_open(&ctx, NULL, NULL) != TGIS_OK) {
    tgis_close(ctx);
    return NULL;
  }
  return ctx;
}

/* ---- noding ----------------------------------------------------------- */

static const double plus_a[] = { -100, 0, 0, 0, 100, 0 };
static const double plus_b[] = { 0, -100, 0, 0, 0, 100 };

static void test_graph__plus_crossing_is_one_node_of_degree_4(void)
{
  tgis_ctx *ctx = open_ctx();
  tgis_graph *g = NULL;
  tgis_road_in r[2] = { road(plus_a, 3, 1), road(plus_b, 3, 2) };
  uint32_t c;
  ASSERT(ctx);
  ASSERT_OK_CTX(ctx, tgis_graph_build(&g, ctx, r, 2, NULL));
  ASSERT_EQ(g->n_nodes, 5);
  ASSERT_EQ(g->n_edges, 4);
  c = node_at(g, 0, 0);
  ASSERT(c != TGIS_GRAPH_NONE);
  ASSERT_EQ(degree(g, c), 4);
  ASSERT_EQ(g->csr[WALK].offsets[c + 1] - g->csr[WALK].offsets[c], 4);
  ASSERT_EQ(g->csr[DRIVE].offsets[c + 1] - g->csr[DRIVE].offsets[c], 4);
  ASSERT_EQ(g->csr[WALK].n_arcs, 8);
  for (uint32_t e = 0; e < g->n_edges; e++) {
    ASSERT_NEAR(g->edge_len[e], 100.0, 1e-12);
    ASSERT_EQ(g->edge_geom_n[e], 2);
    ASSERT_EQ(g->road_id[g->edge_road[e]], e < 2 ? 1 : 2);
  }
  tgis_graph_free(g);
  tgis_graph_free(NULL);  /* a no-op */
  tgis_close(ctx);
}

static void test_graph__crossing_at_different_levels_does_not_connect(void)
{
  tgis_ctx *ctx = open_ctx();
  tgis_graph *g = NULL;
  tgis_graph_components *cc = NULL;
  tgis_road_in r[2] = { road(plus_a, 3, 1), road(plus_b, 3, 2) };
  ASSERT(ctx);
  r[1].level = 1;  /* a bridge over road 1 */
  ASSERT_OK_CTX(ctx, tgis_graph_build(&g, ctx, r, 2, NULL));
  ASSERT_EQ(g->n_nodes, 4);
  ASSERT_EQ(g->n_edges, 2);
  ASSERT(node_at(g, 0, 0) == TGIS_GRAPH_NONE);
  ASSERT_EQ(g->edge_geom_n[0], 3);  /* the crossing vertex stays geometry */
  ASSERT_OK_CTX(ctx, tgis_graph_components_find(&cc, g, WALK));
  ASSERT_EQ(cc->count, 2);
  ASSERT_EQ(cc->size[0], 2);
  ASSERT_EQ(cc->size[1], 2);
  tgis_graph_components_free(cc);
  tgis_graph_free(g);
  tgis_close(ctx);
}

static void test_graph__different_levels_meet_at_an_end_vertex(void)
{
  static const double ramp[] = { 0, -100, 0, 0 };  /* ends on road 1 */
  tgis_ctx *ctx = open_ctx();
  tgis_graph *g = NULL;
  tgis_road_in r[2] = { road(plus_a, 3, 1), road(ramp, 2, 2) };
  uint32_t c;
  ASSERT(ctx);
  r[1].level = 1;
  ASSERT_OK_CTX(ctx, tgis_graph_build(&g, ctx, r, 2, NULL));
  ASSERT_EQ(g->n_nodes, 4);
  ASSERT_EQ(g->n_edges, 3);
  c = node_at(g, 0, 0);
  ASSERT(c != TGIS_GRAPH_NONE);
  ASSERT_EQ(degree(g, c), 3);

  /* The same with the ground road ending in the bridge's middle. */
  tgis_graph_free(g);
  g = NULL;
  r[0].level = 1;
  r[1].level = 0;
  r[0].id = 3;
  ASSERT_OK_CTX(ctx, tgis_graph_build(&g, ctx, r, 2, NULL));
  ASSERT_EQ(g->n_nodes, 4);
  ASSERT_EQ(degree(g, node_at(g, 0, 0)), 3);
  tgis_graph_free(g);
  tgis_close(ctx);
}

static void test_graph__bridge_meets_the_ground_at_its_ends(void)
{
  /* West street, a bridge, east street; a street passes under the bridge's
   * middle vertex, another crosses the west end of the bridge. */
  static const double west[] = { -100, 0, 0, 0 };
  static const double bridge[] = { 0, 0, 50, 0, 100, 0 };
  static const double east[] = { 100, 0, 200, 0 };
  static const double under[] = { 50, -50, 50, 0, 50, 50 };
  static const double across[] = { 0, -50, 0, 0, 0, 50 };
  tgis_ctx *ctx = open_ctx();
  tgis_graph *g = NULL;
  tgis_graph_components *cc = NULL;
  tgis_road_in r[5] = { road(west, 2, 1), road(bridge, 3, 2), road(east, 2, 3),
                        road(under, 3, 4), road(across, 3, 5) };
  double cost[16];
  int32_t fac[16];
  uint32_t w, e, o;
  ASSERT(ctx);
  r[1].level = 1;
  ASSERT_OK_CTX(ctx, tgis_graph_build(&g, ctx, r, 5, NULL));
  /* Nodes: -100,0; 0,0; 100,0; 200,0; 50,-50; 50,50; 0,-50; 0,50. */
  ASSERT_EQ(g->n_nodes, 8);
  ASSERT(node_at(g, 50, 0) == TGIS_GRAPH_NONE);
  ASSERT_EQ(degree(g, node_at(g, 0, 0)), 4);
  w = node_at(g, -100, 0);
  e = node_at(g, 200, 0);
  o = node_at(g, 50, 50);
  ASSERT_OK_CTX(ctx, search_from(cost, fac, g, DRIVE, w));
  ASSERT_NEAR(cost[e], 30.0, 1e-9);
  ASSERT(isinf(cost[o]));
  ASSERT_EQ(fac[o], -1);
  ASSERT_OK_CTX(ctx, tgis_graph_components_find(&cc, g, WALK));
  ASSERT_EQ(cc->count, 2);
  ASSERT_EQ(cc->size[0], 6);
  ASSERT_EQ(cc->size[1], 2);
  ASSERT_EQ(cc->comp[w], 0);
  ASSERT_EQ(cc->comp[o], 1);
  tgis_graph_components_free(cc);
  tgis_graph_free(g);
  tgis_close(ctx);
}

static void test_graph__vertices_equal_to_a_centimetre_meet(void)
{
  static const double a[] = { 0, 0, 100.001, 0.002 };
  static const double b[] = { 100.0, 0.0, 200, 0 };
  static const double c[] = { 200.02, 0, 300, 0 };  /* 2 cm off: no */
  tgis_ctx *ctx = open_ctx();
  tgis_graph *g = NULL;
  tgis_road_in r[3] = { road(a, 2, 1), road(b, 2, 2), road(c, 2, 3) };
  uint32_t m;
  ASSERT(ctx);
  ASSERT_OK_CTX(ctx, tgis_graph_build(&g, ctx, r, 3, NULL));
  ASSERT_EQ(g->n_nodes, 5);
  m = node_at(g, 100.001, 0.002);  /* the first vertex's coordinates */
  ASSERT(m != TGIS_GRAPH_NONE);
  ASSERT_EQ(degree(g, m), 2);
  /* Road 2's geometry starts exactly on the node. */
  ASSERT(g->geom_xy[2 * g->edge_geom_off[1]] == 100.001);
  ASSERT(g->geom_xy[2 * g->edge_geom_off[1] + 1] == 0.002);
  tgis_graph_free(g);
  tgis_close(ctx);
}

static void test_graph__interior_vertices_are_edge_geometry(void)
{
  /* An L-shaped road, crossed in its second leg by another road. */
  static const double l[] = { 0, 0, 30, 0, 100, 0, 100, 40, 100, 100 };
  static const double x[] = { 50, 40, 100, 40, 150, 40 };
  tgis_ctx *ctx = open_ctx();
  tgis_graph *g = NULL;
  tgis_road_in r[2] = { road(l, 5, 7), road(x, 3, 8) };
  ASSERT(ctx);
  ASSERT_OK_CTX(ctx, tgis_graph_build(&g, ctx, r, 2, NULL));
  ASSERT_EQ(g->n_nodes, 5);
  ASSERT_EQ(g->n_edges, 4);
  ASSERT_EQ(g->n_points, 8);
  ASSERT_EQ(g->edge_geom_off[0], 0);
  ASSERT_EQ(g->edge_geom_n[0], 4);
  ASSERT_NEAR(g->edge_len[0], 140.0, 1e-12);
  ASSERT_EQ(g->edge_geom_off[1], 3);
  ASSERT_EQ(g->edge_geom_n[1], 2);
  ASSERT_NEAR(g->edge_len[1], 60.0, 1e-12);
  ASSERT_EQ(g->edge_from[1], g->edge_to[0]);
  ASSERT_NEAR(g->geom_m[4], 200.0, 1e-12);
  tgis_graph_free(g);
  tgis_close(ctx);
}

static void test_graph__same_level_meets_where_levels_mix(void)
{
  /* Two ground streets and a bridge all pass through (0,0) mid-road: the
   * streets meet there, the bridge flies over them. */
  static const double a[] = { -100, 0, 0, 0, 100, 0 };
  static const double b[] = { 0, -100, 0, 0, 0, 100 };
  static const double c[] = { -100, -100, 0, 0, 100, 100 };
  tgis_ctx *ctx = open_ctx();
  tgis_graph *g = NULL;
  tgis_graph_components *cc = NULL;
  tgis_road_in r[3] = { road(c, 3, 3), road(a, 3, 1), road(b, 3, 2) };
  uint32_t m;
  ASSERT(ctx);
  r[0].level = 2;
  ASSERT_OK_CTX(ctx, tgis_graph_build(&g, ctx, r, 3, NULL));
  ASSERT_EQ(g->n_nodes, 7);
  ASSERT_EQ(g->n_edges, 5);
  m = node_at(g, 0, 0);
  ASSERT(m != TGIS_GRAPH_NONE);
  ASSERT_EQ(degree(g, m), 4);
  ASSERT_EQ(g->edge_geom_n[0], 3);  /* the bridge is one edge */
  ASSERT_OK_CTX(ctx, tgis_graph_components_find(&cc, g, WALK));
  ASSERT_EQ(cc->count, 2);
  ASSERT_EQ(cc->size[0], 5);
  tgis_graph_components_free(cc);
  tgis_graph_free(g);
  tgis_close(ctx);
}

static void test_graph__many_level_crossings(void)
{
  /* 20 elevated roads west-east over 20 ground streets south-north, every
   * crossing a shared mid-road vertex: no crossing is a node. */
  enum { K = 20 };
  static double xy[2 * K][2 * (K + 2)];
  static tgis_road_in r[2 * K];
  tgis_ctx *ctx = open_ctx();
  tgis_graph *g = NULL;
  tgis_graph_components *cc = NULL;
  ASSERT(ctx);
  for (int k = 0; k < K; k++) {
    for (int i = 0; i < K + 2; i++) {
      double t = (i - 1) * 10.0 + 5.0;  /* -5, 5, 15, ... */
      xy[k][2 * i] = t;                  /* elevated: y = 10k + 5 */
      xy[k][2 * i + 1] = k * 10.0 + 5.0;
      xy[K + k][2 * i] = k * 10.0 + 5.0; /* ground: x = 10k + 5 */
      xy[K + k][2 * i + 1] = t;
    }
    r[k] = road(xy[k], K + 2, 100 + k);
    r[k].level = 1;
    r[K + k] = road(xy[K + k], K + 2, 200 + k);
  }
  ASSERT_OK_CTX(ctx, tgis_graph_build(&g, ctx, r, 2 * K, NULL));
  ASSERT_EQ(g->n_nodes, 4 * K);
  ASSERT_EQ(g->n_edges, 2 * K);
  ASSERT_OK_CTX(ctx, tgis_graph_components_find(&cc, g, DRIVE));
  ASSERT_EQ(cc->count, 2 * K);
  tgis_graph_components_free(cc);
  tgis_graph_free(g);
  /* On one level they make a grid. */
  for (int k = 0; k < K; k++)
    r[k].level = 0;
  ASSERT_OK_CTX(ctx, tgis_graph_build(&g, ctx, r, 2 * K, NULL));
  ASSERT_EQ(g->n_nodes, 4 * K + K * K);
  ASSERT_EQ(g->n_edges, 2 * K * (K + 1));
  tgis_graph_free(g);
  tgis_close(ctx);
}

static void test_graph__ring_road_is_a_loop_edge(void)
{
  static const double ring[] = { 0, 0, 100, 0, 100, 100, 0, 0 };
  tgis_ctx *ctx = open_ctx();
  tgis_graph *g = NULL;
  tgis_graph_components *cc = NULL;
  tgis_snap_index *ix = NULL;
  tgis_road_in r[1] = { road(ring, 4, 1) };
  const double pt[] = { 100, 50 };
  double cost[1];
  int32_t fac[1];
  tgis_snap s;
  ASSERT(ctx);
  ASSERT_OK_CTX(ctx, tgis_graph_build(&g, ctx, r, 1, NULL));
  ASSERT_EQ(g->n_nodes, 1);
  ASSERT_EQ(g->n_edges, 1);
  ASSERT_EQ(g->edge_from[0], g->edge_to[0]);
  ASSERT_EQ(g->csr[WALK].n_arcs, 0);
  ASSERT_OK_CTX(ctx, tgis_graph_components_find(&cc, g, WALK));
  ASSERT_EQ(cc->count, 1);
  ASSERT_EQ(cc->size[0], 1);
  ASSERT_OK_CTX(ctx, tgis_snap_index_build(&ix, g, DRIVE, NULL));
  ASSERT_OK_CTX(ctx, tgis_snap_points(&s, ix, pt, 1));
  ASSERT_NEAR(s.t, 150.0 / (200 + sqrt(2) * 100), 1e-12);
  ASSERT_OK_CTX(ctx, search_from(cost, fac, g, DRIVE, 0));
  /* The shorter way round: 150 m forward, not 191.4 m backward. */
  ASSERT_NEAR(tgis_snap_cost(NULL, g, DRIVE, cost, fac, &s, 0), 15.0, 1e-9);
  r[0].oneway = -1;
  tgis_snap_index_free(ix);
  ix = NULL;
  tgis_graph_free(g);
  g = NULL;
  ASSERT_OK_CTX(ctx, tgis_graph_build(&g, ctx, r, 1, NULL));
  ASSERT_NEAR(tgis_snap_cost(NULL, g, DRIVE, cost, fac, &s, 0),
              5 + 10 * sqrt(2), 1e-9);
  tgis_snap_index_free(ix);
  tgis_graph_components_free(cc);
  tgis_graph_free(g);
  tgis_close(ctx);
}

static void test_graph__repeated_vertices_are_one_vertex(void)
{
  /* Digitising stutters: a vertex twice in a row, mid-road, at a junction,
   * and at the road's end (within a centimetre). */
  static const double a[] = { 0, 0, 20, 0, 20, 0, 50, 0, 50, 0, 100, 0, 100, 0.001 };
  static const double b[] = { 50, 0, 50, 50 };
  static const double c[] = { 0, 0, 0, 0 };  /* a road of one point */
  static const double d[] = { 200, 0, 200, 0, 250, 0 };
  tgis_ctx *ctx = open_ctx();
  tgis_graph *g = NULL;
  tgis_road_in r[4] = { road(a, 7, 1), road(b, 2, 2), road(d, 3, 4), road(c, 2, 3) };
  ASSERT(ctx);
  ASSERT_OK_CTX(ctx, tgis_graph_build(&g, ctx, r, 3, NULL));
  ASSERT_EQ(g->n_nodes, 6);
  ASSERT_EQ(g->n_edges, 4);
  ASSERT_NEAR(g->edge_len[3], 50.0, 1e-12);
  for (uint32_t e = 0; e < g->n_edges; e++)
    ASSERT(g->edge_from[e] != g->edge_to[e]);
  ASSERT_NEAR(g->edge_len[0], 50.0, 1e-12);
  ASSERT_NEAR(g->edge_len[1], 50.0 + 0.001, 1e-12);
  ASSERT_EQ(degree(g, node_at(g, 50, 0)), 3);
  tgis_graph_free(g);
  g = NULL;
  ASSERT_OK_CTX(ctx, tgis_graph_build(&g, ctx, r, 4, NULL));
  ASSERT_EQ(g->n_nodes, 6);  /* the point road sits on (0,0) */
  ASSERT_EQ(g->n_edges, 5);
  ASSERT_EQ(g->edge_from[4], g->edge_to[4]);
  ASSERT_NEAR(g->edge_len[4], 0.0, 0);
  tgis_graph_free(g);
  tgis_close(ctx);
}

static void test_graph__empty_input_is_an_empty_graph(void)
{
  tgis_ctx *ctx = open_ctx();
  tgis_graph *g = NULL;
  tgis_graph_components *cc = NULL;
  ASSERT(ctx);
  ASSERT_OK_CTX(ctx, tgis_graph_build(&g, ctx, NULL, 0, NULL));
  ASSERT_EQ(g->n_nodes, 0);
  ASSERT_EQ(g->n_edges, 0);
  ASSERT_OK_CTX(ctx, tgis_graph_components_find(&cc, g, DRIVE));
  ASSERT_EQ(cc->count, 0);
  tgis_graph_components_free(cc);
  tgis_graph_free(g);
  tgis_close(ctx);
}

/* ---- travel times ------------------------------------------------------- */

/* P(0,0) -> Q(100,0) oneway, and a two-way detour P-(0,100)-(100,100)-Q. */
static const double ow_direct[] = { 0, 0, 100, 0 };
static const double ow_detour[] = { 0, 0, 0, 100, 100, 100, 100, 0 };

static void test_graph__oneway_respected_in_drive_ignored_in_walk(void)
{
  tgis_ctx *ctx = open_ctx();
  tgis_graph *g = NULL;
  tgis_road_in r[2] = { road(ow_direct, 2, 1), road(ow_detour, 4, 2) };
  double cost[2];
  int32_t fac[2];
  uint32_t p, q;
  ASSERT(ctx);
  r[0].oneway = 1;
  ASSERT_OK_CTX(ctx, tgis_graph_build(&g, ctx, r, 2, NULL));
  p = node_at(g, 0, 0);
  q = node_at(g, 100, 0);
  ASSERT_OK_CTX(ctx, search_from(cost, fac, g, DRIVE, p));
  ASSERT_NEAR(cost[q], 10.0, 1e-9);
  ASSERT_OK_CTX(ctx, search_from(cost, fac, g, DRIVE, q));
  ASSERT_NEAR(cost[p], 30.0, 1e-9);
  ASSERT_EQ(fac[p], 0);
  ASSERT_OK_CTX(ctx, search_from(cost, fac, g, WALK, q));
  ASSERT_NEAR(cost[p], 72.0, 1e-9);
  ASSERT_OK_CTX(ctx, search_from(cost, fac, g, WALK, p));
  ASSERT_NEAR(cost[q], 72.0, 1e-9);
  tgis_graph_free(g);

  /* Against the digitised direction: the direct road only goes Q -> P. */
  g = NULL;
  r[0].oneway = -1;
  ASSERT_OK_CTX(ctx, tgis_graph_build(&g, ctx, r, 2, NULL));
  ASSERT_OK_CTX(ctx, search_from(cost, fac, g, DRIVE, p));
  ASSERT_NEAR(cost[q], 30.0, 1e-9);
  ASSERT_OK_CTX(ctx, search_from(cost, fac, g, DRIVE, q));
  ASSERT_NEAR(cost[p], 10.0, 1e-9);
  tgis_graph_free(g);
  tgis_close(ctx);
}

static void test_graph__walk_speed_and_unusable_roads(void)
{
  static const double fw[] = { 100, 100, 100, 200 };  /* a footway */
  tgis_ctx *ctx = open_ctx();
  tgis_graph *g = NULL;
  tgis_graph_options o = TGIS_GRAPH_OPTIONS_INIT;
  tgis_graph_components *cc = NULL;
  tgis_road_in r[3] = { road(ow_direct, 2, 1), road(ow_detour, 4, 2), road(fw, 2, 3) };
  double cost[5];
  int32_t fac[5];
  ASSERT(ctx);
  r[0].walkable = 0;     /* a motorway */
  r[2].drive_kmh = 0.0;  /* a footway */
  o.walk_kmh = 4.0;
  ASSERT_OK_CTX(ctx, tgis_graph_build(&g, ctx, r, 3, &o));
  ASSERT_OK_CTX(ctx, search_from(cost, fac, g, WALK, node_at(g, 0, 0)));
  ASSERT_NEAR(cost[node_at(g, 100, 0)], 300 * 0.9, 1e-9);
  /* The footway ends on the detour's corner vertex, which makes it a node. */
  ASSERT_NEAR(cost[node_at(g, 100, 200)], 300 * 0.9, 1e-9);
  ASSERT_OK_CTX(ctx, search_from(cost, fac, g, DRIVE, node_at(g, 0, 0)));
  ASSERT(isinf(cost[node_at(g, 100, 200)]));
  ASSERT_OK_CTX(ctx, tgis_graph_components_find(&cc, g, DRIVE));
  ASSERT_EQ(cc->count, 1);
  ASSERT_EQ(cc->n_outside, 1);
  ASSERT_EQ(cc->comp[node_at(g, 100, 200)], TGIS_GRAPH_NONE);
  tgis_graph_components_free(cc);
  tgis_graph_free(g);

  o.walk_kmh = 0;
  g = NULL;
  ASSERT_EQ(tgis_graph_build(&g, ctx, r, 3, &o), TGIS_EINVAL);
  ASSERT_CONTAINS(tgis_errmsg(ctx), "walking speed");
  ASSERT(g == NULL);
  tgis_close(ctx);
}

static void test_graph__disconnected_parts_are_counted_and_unreached(void)
{
  /* A chain of 3 roads, a pair, and a lone road. */
  static const double a[] = { 0, 0, 100, 0 }, b[] = { 100, 0, 200, 0 };
  static const double c[] = { 200, 0, 300, 0 }, d[] = { 0, 500, 100, 500 };
  static const double e[] = { 100, 500, 100, 600 }, f[] = { 900, 900, 950, 950 };
  tgis_ctx *ctx = open_ctx();
  tgis_graph *g = NULL;
  tgis_graph_components *cc = NULL;
  tgis_road_in r[6] = { road(f, 2, 6), road(a, 2, 1), road(b, 2, 2),
                        road(c, 2, 3), road(d, 2, 4), road(e, 2, 5) };
  double cost[9];
  int32_t fac[9];
  ASSERT(ctx);
  ASSERT_OK_CTX(ctx, tgis_graph_build(&g, ctx, r, 6, NULL));
  ASSERT_EQ(g->n_nodes, 9);
  ASSERT_OK_CTX(ctx, tgis_graph_components_find(&cc, g, WALK));
  ASSERT_EQ(cc->count, 3);
  ASSERT_EQ(cc->size[0], 4);
  ASSERT_EQ(cc->size[1], 3);
  ASSERT_EQ(cc->size[2], 2);
  ASSERT_EQ(cc->n_outside, 0);
  ASSERT_EQ(cc->comp[node_at(g, 300, 0)], 0);
  ASSERT_EQ(cc->comp[node_at(g, 100, 600)], 1);
  ASSERT_EQ(cc->comp[node_at(g, 900, 900)], 2);
  ASSERT_OK_CTX(ctx, search_from(cost, fac, g, DRIVE, node_at(g, 0, 0)));
  ASSERT_NEAR(cost[node_at(g, 300, 0)], 30.0, 1e-9);
  for (uint32_t u = 0; u < g->n_nodes; u++)
    if (cc->comp[u] != 0) {
      ASSERT(cost[u] == INFINITY);
      ASSERT_EQ(fac[u], -1);
    }
  tgis_graph_components_free(cc);
  tgis_graph_components_free(NULL);
  tgis_graph_free(g);
  tgis_close(ctx);
}

static void test_graph__equal_cost_tie_goes_to_lower_facility(void)
{
  static const double a[] = { 0, 0, 100, 0, 200, 0 };
  tgis_ctx *ctx = open_ctx();
  tgis_graph *g = NULL;
  tgis_road_in r[1] = { road(a, 3, 1) };
  double cost[4];
  int32_t fac[4];
  uint32_t w, m, e;
  ASSERT(ctx);
  ASSERT_OK_CTX(ctx, tgis_graph_build(&g, ctx, r, 1, NULL));
  ASSERT_EQ(g->n_nodes, 2);  /* the middle vertex is geometry */
  tgis_graph_free(g);
  g = NULL;
  /* Make the middle a node by ending a second road there. */
  static const double stub[] = { 100, 0, 100, 50 };
  tgis_road_in r2[2] = { road(a, 3, 1), road(stub, 2, 2) };
  ASSERT_OK_CTX(ctx, tgis_graph_build(&g, ctx, r2, 2, NULL));
  w = node_at(g, 0, 0);
  m = node_at(g, 100, 0);
  e = node_at(g, 200, 0);
  {
    tgis_graph_source s[2] = { { e, 0.0, 3 }, { w, 0.0, 5 } };
    tgis_graph_source t[2] = { { w, 0.0, 5 }, { e, 0.0, 3 } };
    ASSERT_OK_CTX(ctx, tgis_graph_dijkstra(cost, fac, g, DRIVE, s, 2, INFINITY));
    ASSERT_NEAR(cost[m], 10.0, 1e-12);
    ASSERT_EQ(fac[m], 3);
    ASSERT_EQ(fac[w], 5);
    ASSERT_OK_CTX(ctx, tgis_graph_dijkstra(cost, fac, g, DRIVE, t, 2, INFINITY));
    ASSERT_EQ(fac[m], 3);
    /* Two sources on one node: the cheaper, then the lower index. */
    tgis_graph_source u[3] = { { w, 2.0, 0 }, { w, 1.0, 9 }, { w, 1.0, 4 } };
    ASSERT_OK_CTX(ctx, tgis_graph_dijkstra(cost, fac, g, DRIVE, u, 3, INFINITY));
    ASSERT_NEAR(cost[w], 1.0, 0);
    ASSERT_EQ(fac[w], 4);
    ASSERT_EQ(fac[e], 4);
  }
  tgis_graph_free(g);
  tgis_close(ctx);
}

static void test_graph__cutoff_is_honoured(void)
{
  static const double a[] = { 0, 0, 100, 0 }, b[] = { 100, 0, 200, 0 };
  static const double c[] = { 200, 0, 300, 0 };
  tgis_ctx *ctx = open_ctx();
  tgis_graph *g = NULL;
  tgis_road_in r[3] = { road(a, 2, 1), road(b, 2, 2), road(c, 2, 3) };
  tgis_graph_source s = { 0, 5.0, 1 };
  double cost[4];
  int32_t fac[4];
  ASSERT(ctx);
  ASSERT_OK_CTX(ctx, tgis_graph_build(&g, ctx, r, 3, NULL));
  s.node = node_at(g, 0, 0);
  ASSERT_OK_CTX(ctx, tgis_graph_dijkstra(cost, fac, g, DRIVE, &s, 1, 25.0));
  ASSERT_NEAR(cost[node_at(g, 100, 0)], 15.0, 1e-12);
  ASSERT_NEAR(cost[node_at(g, 200, 0)], 25.0, 1e-12);  /* on the cutoff: kept */
  ASSERT(cost[node_at(g, 300, 0)] == INFINITY);
  ASSERT_EQ(fac[node_at(g, 300, 0)], -1);
  ASSERT_EQ(fac[node_at(g, 200, 0)], 1);
  ASSERT_OK_CTX(ctx, tgis_graph_dijkstra(cost, fac, g, DRIVE, &s, 1, 4.0));
  ASSERT(cost[s.node] == INFINITY);  /* the source itself is beyond */
  tgis_graph_free(g);
  tgis_close(ctx);
}

/* ---- snapping ------------------------------------------------------------ */

static void test_graph__snap_beside_the_middle_of_an_edge(void)
{
  static const double a[] = { 0, 0, 30, 0, 100, 0 };
  tgis_ctx *ctx = open_ctx();
  tgis_graph *g = NULL;
  tgis_snap_index *ix = NULL;
  tgis_road_in r[1] = { road(a, 3, 1) };
  const double pts[] = { 50, 10, 15, -3, -30, 40, 100, 0 };
  tgis_snap s[4];
  ASSERT(ctx);
  ASSERT_OK_CTX(ctx, tgis_graph_build(&g, ctx, r, 1, NULL));
  ASSERT_OK_CTX(ctx, tgis_snap_index_build(&ix, g, WALK, NULL));
  ASSERT_OK_CTX(ctx, tgis_snap_points(s, ix, pts, 4));
  ASSERT_EQ(s[0].edge, 0);
  ASSERT_NEAR(s[0].t, 0.5, 1e-12);
  ASSERT_NEAR(s[0].dist, 10.0, 1e-12);
  ASSERT_NEAR(s[0].x, 50.0, 1e-12);
  ASSERT_NEAR(s[0].y, 0.0, 1e-12);
  ASSERT_NEAR(s[1].t, 0.15, 1e-12);
  ASSERT_NEAR(s[1].dist, 3.0, 1e-12);
  ASSERT_NEAR(s[2].t, 0.0, 0);  /* beyond the start: the end point */
  ASSERT_NEAR(s[2].dist, 50.0, 1e-12);
  ASSERT_NEAR(s[3].t, 1.0, 0);
  ASSERT_NEAR(s[3].dist, 0.0, 0);
  tgis_snap_index_free(ix);
  tgis_snap_index_free(NULL);
  tgis_graph_free(g);
  tgis_close(ctx);
}

static void test_graph__points_beyond_max_snap_stay_unsnapped(void)
{
  static const double a[] = { 0, 0, 100, 0 };
  tgis_ctx *ctx = open_ctx();
  tgis_graph *g = NULL;
  tgis_snap_index *ix = NULL;
  tgis_snap_options so = TGIS_SNAP_OPTIONS_INIT;
  tgis_road_in r[1] = { road(a, 2, 1) };
  const double pts[] = { 50, 501, 50, 499, 1e6, 1e6, NAN, 0, 50, 500 };
  tgis_snap s[5];
  double cost[2] = { 0, 0 };
  ASSERT(ctx);
  ASSERT_OK_CTX(ctx, tgis_graph_build(&g, ctx, r, 1, NULL));
  ASSERT_OK_CTX(ctx, tgis_snap_index_build(&ix, g, DRIVE, NULL));
  ASSERT_OK_CTX(ctx, tgis_snap_points(s, ix, pts, 5));
  ASSERT_EQ(s[0].edge, -1);
  ASSERT(isinf(s[0].dist));
  ASSERT(isinf(tgis_snap_cost(NULL, g, DRIVE, cost, NULL, &s[0], 0)));
  ASSERT_EQ(s[1].edge, 0);
  ASSERT_NEAR(s[1].dist, 499.0, 1e-9);
  ASSERT_EQ(s[2].edge, -1);
  ASSERT_EQ(s[3].edge, -1);
  ASSERT_EQ(s[4].edge, 0);  /* exactly at the limit: snapped */
  tgis_snap_index_free(ix);
  ix = NULL;

  so.max_snap_m = 20.0;
  so.cell_m = 3.0;
  ASSERT_OK_CTX(ctx, tgis_snap_index_build(&ix, g, DRIVE, &so));
  ASSERT_OK_CTX(ctx, tgis_snap_points(s, ix, pts, 2));
  ASSERT_EQ(s[1].edge, -1);
  tgis_snap_index_free(ix);
  tgis_graph_free(g);
  tgis_close(ctx);
}

static void test_graph__snapping_uses_only_edges_of_the_mode(void)
{
  static const double street[] = { 0, 0, 100, 0 };
  static const double footway[] = { 0, 20, 100, 20 };
  tgis_ctx *ctx = open_ctx();
  tgis_graph *g = NULL;
  tgis_snap_index *ix = NULL;
  tgis_road_in r[2] = { road(street, 2, 1), road(footway, 2, 2) };
  const double pt[] = { 40, 18 };
  tgis_snap s;
  ASSERT(ctx);
  r[0].walkable = 0;
  r[1].drive_kmh = -1;
  ASSERT_OK_CTX(ctx, tgis_graph_build(&g, ctx, r, 2, NULL));
  ASSERT_OK_CTX(ctx, tgis_snap_index_build(&ix, g, DRIVE, NULL));
  ASSERT_OK_CTX(ctx, tgis_snap_points(&s, ix, pt, 1));
  ASSERT_EQ(g->road_id[g->edge_road[s.edge]], 1);
  ASSERT_NEAR(s.dist, 18.0, 1e-12);
  tgis_snap_index_free(ix);
  ix = NULL;
  ASSERT_OK_CTX(ctx, tgis_snap_index_build(&ix, g, WALK, NULL));
  ASSERT_OK_CTX(ctx, tgis_snap_points(&s, ix, pt, 1));
  ASSERT_EQ(g->road_id[g->edge_road[s.edge]], 2);
  ASSERT_NEAR(s.dist, 2.0, 1e-12);
  tgis_snap_index_free(ix);
  tgis_graph_free(g);
  /* Nothing drivable: an empty index, every point unsnapped. */
  ix = NULL;
  g = NULL;
  ASSERT_OK_CTX(ctx, tgis_graph_build(&g, ctx, &r[1], 1, NULL));
  ASSERT_OK_CTX(ctx, tgis_snap_index_build(&ix, g, DRIVE, NULL));
  ASSERT_OK_CTX(ctx, tgis_snap_points(&s, ix, pt, 1));
  ASSERT_EQ(s.edge, -1);
  tgis_snap_index_free(ix);
  tgis_graph_free(g);
  tgis_close(ctx);
}

static void test_graph__cost_to_a_point_on_a_oneway_edge(void)
{
  tgis_ctx *ctx = open_ctx();
  tgis_graph *g = NULL;
  tgis_snap_index *ix = NULL;
  tgis_road_in r[2] = { road(ow_direct, 2, 1), road(ow_detour, 4, 2) };
  const double pt[] = { 50, -4 };
  double cost[2];
  int32_t fac[2], f;
  tgis_snap s;
  ASSERT(ctx);
  r[0].oneway = 1;
  ASSERT_OK_CTX(ctx, tgis_graph_build(&g, ctx, r, 2, NULL));
  ASSERT_OK_CTX(ctx, tgis_snap_index_build(&ix, g, DRIVE, NULL));
  ASSERT_OK_CTX(ctx, tgis_snap_points(&s, ix, pt, 1));
  ASSERT_EQ(s.edge, 0);
  ASSERT_NEAR(s.t, 0.5, 1e-12);
  /* From Q a car must go round to P (30 s), then half the edge (5 s). */
  {
    tgis_graph_source src = { node_at(g, 100, 0), 0.0, 7 };
    ASSERT_OK_CTX(ctx, tgis_graph_dijkstra(cost, fac, g, DRIVE, &src, 1, INFINITY));
  }
  ASSERT_NEAR(tgis_snap_cost(&f, g, DRIVE, cost, fac, &s, 0), 35.0, 1e-9);
  ASSERT_EQ(f, 7);
  /* The 4 m from the road to the door at 5 km/h: 2.88 s. */
  ASSERT_NEAR(tgis_snap_cost(&f, g, DRIVE, cost, fac, &s, TGIS_SNAP_ADD_ACCESS),
              35.0 + 2.88, 1e-9);
  /* Walking goes straight back from Q: 36 s. */
  ASSERT_OK_CTX(ctx, search_from(cost, fac, g, WALK, node_at(g, 100, 0)));
  ASSERT_NEAR(tgis_snap_cost(&f, g, WALK, cost, fac, &s, 0), 36.0, 1e-9);
  ASSERT_EQ(f, 0);
  tgis_snap_index_free(ix);
  tgis_graph_free(g);
  tgis_close(ctx);
}

static void test_graph__snapped_facility_leaves_in_the_allowed_direction(void)
{
  tgis_ctx *ctx = open_ctx();
  tgis_graph *g = NULL;
  tgis_snap_index *ix = NULL;
  tgis_road_in r[2] = { road(ow_direct, 2, 1), road(ow_detour, 4, 2) };
  const double pt[] = { 25, 3 };
  tgis_graph_source src[2];
  double cost[2];
  int32_t fac[2];
  uint32_t p, q;
  tgis_snap s;
  ASSERT(ctx);
  r[0].oneway = 1;
  ASSERT_OK_CTX(ctx, tgis_graph_build(&g, ctx, r, 2, NULL));
  p = node_at(g, 0, 0);
  q = node_at(g, 100, 0);
  ASSERT_OK_CTX(ctx, tgis_snap_index_build(&ix, g, DRIVE, NULL));
  ASSERT_OK_CTX(ctx, tgis_snap_points(&s, ix, pt, 1));
  ASSERT_NEAR(s.t, 0.25, 1e-12);
  ASSERT_EQ(tgis_snap_sources(src, g, DRIVE, &s, 2, 0), 1);
  ASSERT_EQ(src[0].node, q);
  ASSERT_NEAR(src[0].cost, 7.5, 1e-12);
  ASSERT_EQ(src[0].facility, 2);
  ASSERT_OK_CTX(ctx, tgis_graph_dijkstra(cost, fac, g, DRIVE, src, 1, INFINITY));
  ASSERT_NEAR(cost[p], 37.5, 1e-9);  /* round by the detour */
  ASSERT_EQ(tgis_snap_sources(src, g, WALK, &s, 2, TGIS_SNAP_ADD_ACCESS), 2);
  ASSERT_EQ(src[0].node, p);
  ASSERT_NEAR(src[0].cost, 18.0 + 2.16, 1e-12);
  ASSERT_EQ(src[1].node, q);
  ASSERT_NEAR(src[1].cost, 54.0 + 2.16, 1e-12);
  {
    tgis_snap none = s;
    none.edge = -1;
    ASSERT_EQ(tgis_snap_sources(src, g, WALK, &none, 2, 0), 0);
  }
  tgis_snap_index_free(ix);
  tgis_graph_free(g);
  tgis_close(ctx);
}

/* ---- properties on a random grid city ------------------------------------ */

#define GRID 30
#define GV (GRID * GRID)

static uint64_t lcg_state;
static uint32_t lcg(void)
{
  lcg_state = lcg_state * 6364136223846793005ULL + 1442695040888963407ULL;
  return (uint32_t)(lcg_state >> 33);
}
static double lcg_unit(void) { return lcg() / 2147483648.0; }

typedef struct grid_city {
  tgis_road_in roads[2 * GRID * (GRID - 1)];
  double xy[2 * GRID * (GRID - 1)][10];  /* up to 5 vertices */
  uint32_t a[2 * GRID * (GRID - 1)], b[2 * GRID * (GRID - 1)];  /* grid ends */
  double len[2 * GRID * (GRID - 1)];
  size_t n;
} grid_city;

/* Blocks of 100 m; each road one block, digitised either way, with up to 3
 * wiggling interior vertices; random oneways, speeds and walkability. */
static void make_grid_city(grid_city *c, uint64_t seed)
{
  lcg_state = seed;
  c->n = 0;
  for (int dir = 0; dir < 2; dir++)
    for (int i = 0; i < GRID - (dir == 0); i++)
      for (int j = 0; j < GRID - (dir == 1); j++) {
        size_t k = c->n++;
        uint32_t a = (uint32_t)(j * GRID + i);
        uint32_t b = dir == 0 ? a + 1 : a + GRID;
        uint32_t inner = lcg() % 4, nv = 0;
        double *xy = c->xy[k], len = 0;
        if (lcg() % 2) {
          uint32_t t = a;
          a = b;
          b = t;
        }
        double ax = (a % GRID) * 100.0, ay = (a / GRID) * 100.0;
        double bx = (b % GRID) * 100.0, by = (b / GRID) * 100.0;
        xy[nv * 2] = ax;
        xy[nv * 2 + 1] = ay;
        nv++;
        for (uint32_t v = 1; v <= inner; v++) {
          double f = (double)v / (inner + 1), off = (lcg_unit() - 0.5) * 30.0;
          xy[nv * 2] = ax + f * (bx - ax) + (dir == 1 ? off : 0);
          xy[nv * 2 + 1] = ay + f * (by - ay) + (dir == 0 ? off : 0);
          nv++;
        }
        xy[nv * 2] = bx;
        xy[nv * 2 + 1] = by;
        nv++;
        for (uint32_t v = 1; v < nv; v++) {
          double dx = xy[2 * v] - xy[2 * v - 2], dy = xy[2 * v + 1] - xy[2 * v - 1];
          len += sqrt(dx * dx + dy * dy);
        }
        c->roads[k] = road(xy, nv, (int64_t)k + 1000);
        uint32_t ow = lcg() % 8;
        c->roads[k].oneway = ow < 2 ? 1 : (ow < 3 ? -1 : 0);
        c->roads[k].drive_kmh = lcg() % 10 == 0 ? 0.0 : 20.0 + lcg() % 61;
        c->roads[k].walkable = lcg() % 10 != 0;
        c->a[k] = a;
        c->b[k] = b;
        c->len[k] = len;
      }
}

/* Dijkstra as in a textbook: O(V^2) over a weight matrix built from the
 * road definitions (not from the graph), labels compared as (cost,
 * facility). */
static void naive_dijkstra(double *cost, int32_t *fac, const grid_city *c,
                           tgis_mode mode, const uint32_t *src_node,
                           const double *src_cost, const int32_t *src_fac,
                           int n_src, double cutoff)
{
  static double w[GV][GV];
  static char done[GV];
  for (int u = 0; u < GV; u++) {
    cost[u] = INFINITY;
    fac[u] = -1;
    done[u] = 0;
    for (int v = 0; v < GV; v++)
      w[u][v] = INFINITY;
  }
  for (size_t k = 0; k < c->n; k++) {
    const tgis_road_in *r = &c->roads[k];
    double kmh = mode == WALK ? (r->walkable ? 5.0 : 0) : r->drive_kmh;
    int fwd, bwd;
    if (kmh <= 0)
      continue;
    fwd = mode == WALK || r->oneway >= 0;
    bwd = mode == WALK || r->oneway <= 0;
    if (fwd)
      w[c->a[k]][c->b[k]] = c->len[k] * 3.6 / kmh;
    if (bwd)
      w[c->b[k]][c->a[k]] = c->len[k] * 3.6 / kmh;
  }
  for (int i = 0; i < n_src; i++) {
    uint32_t u = src_node[i];
    if (src_cost[i] <= cutoff &&
        (src_cost[i] < cost[u] || (src_cost[i] == cost[u] && src_fac[i] < fac[u]))) {
      cost[u] = src_cost[i];
      fac[u] = src_fac[i];
    }
  }
  for (;;) {
    int u = -1;
    for (int v = 0; v < GV; v++)
      if (!done[v] && cost[v] < INFINITY &&
          (u < 0 || cost[v] < cost[u] || (cost[v] == cost[u] && fac[v] < fac[u])))
        u = v;
    if (u < 0)
      break;
    done[u] = 1;
    for (int v = 0; v < GV; v++) {
      double cv = cost[u] + w[u][v];
      if (done[v] || w[u][v] == INFINITY || cv > cutoff)
        continue;
      if (cv < cost[v] || (cv == cost[v] && fac[u] < fac[v])) {
        cost[v] = cv;
        fac[v] = fac[u];
      }
    }
  }
}

static void test_graph__dijkstra_equals_naive_on_random_grid(void)
{
  static grid_city city;
  static double cost[GV], ref_cost[GV];
  static int32_t fac[GV], ref_fac[GV];
  uint32_t node_of[GV];
  tgis_ctx *ctx = open_ctx();
  ASSERT(ctx);
  for (uint64_t seed = 1; seed <= 4; seed++) {
    tgis_graph *g = NULL;
    make_grid_city(&city, seed);
    ASSERT_OK_CTX(ctx, tgis_graph_build(&g, ctx, city.roads, city.n, NULL));
    ASSERT_EQ(g->n_nodes, GV);
    ASSERT_EQ(g->n_edges, city.n);
    for (uint32_t u = 0; u < GV; u++)
      node_of[u] = node_at(g, (u % GRID) * 100.0, (u / GRID) * 100.0);
    for (uint32_t u = 0; u < GV; u++)
      ASSERT(node_of[u] != TGIS_GRAPH_NONE);
    for (int mode = 0; mode < TGIS_MODE_COUNT; mode++)
      for (int cut = 0; cut < 2; cut++) {
        tgis_graph_source src[6];
        uint32_t sn[6];
        double sc[6];
        int32_t sf[6];
        double cutoff = cut ? 200.0 : INFINITY;
        for (int i = 0; i < 6; i++) {
          sn[i] = lcg() % GV;
          sc[i] = (lcg() % 3 == 0) ? 0.0 : lcg_unit() * 60.0;
          sf[i] = (int32_t)(lcg() % 4);
          src[i].node = node_of[sn[i]];
          src[i].cost = sc[i];
          src[i].facility = sf[i];
        }
        if (mode == WALK)
          cutoff *= 8;
        ASSERT_OK_CTX(ctx, tgis_graph_dijkstra(cost, fac, g, (tgis_mode)mode, src, 6, cutoff));
        naive_dijkstra(ref_cost, ref_fac, &city, (tgis_mode)mode, sn, sc, sf, 6, cutoff);
        int reached = 0;
        for (uint32_t u = 0; u < GV; u++) {
          double got = cost[node_of[u]];
          if (ref_cost[u] == INFINITY) {
            ASSERT(got == INFINITY);
          } else {
            ASSERT_NEAR(got, ref_cost[u], 1e-6);
            reached++;
          }
          ASSERT_EQ(fac[node_of[u]], ref_fac[u]);
        }
        ASSERT(reached > 20);
      }
    tgis_graph_free(g);
  }
  tgis_close(ctx);
}

static void test_graph__snap_equals_brute_force_on_random_grid(void)
{
  static grid_city city;
  tgis_ctx *ctx = open_ctx();
  tgis_graph *g = NULL;
  ASSERT(ctx);
  make_grid_city(&city, 99);
  ASSERT_OK_CTX(ctx, tgis_graph_build(&g, ctx, city.roads, city.n, NULL));
  for (int mode = 0; mode < TGIS_MODE_COUNT; mode++)
    for (int cfg = 0; cfg < 3; cfg++) {
      tgis_snap_index *ix = NULL;
      tgis_snap_options so = TGIS_SNAP_OPTIONS_INIT;
      enum { NP = 2000 };
      static double pts[2 * NP];
      static tgis_snap s[NP];
      so.cell_m = cfg == 0 ? 0.0 : (cfg == 1 ? 7.0 : 260.0);
      so.max_snap_m = cfg == 1 ? 40.0 : 500.0;
      ASSERT_OK_CTX(ctx, tgis_snap_index_build(&ix, g, (tgis_mode)mode, &so));
      for (int i = 0; i < NP; i++) {
        if (cfg == 2) {  /* in rows: the input order is kept */
          pts[2 * i] = -300 + (i % 50) * 72.0 + lcg_unit();
          pts[2 * i + 1] = -300 + (i / 50) * 90.0 + lcg_unit();
        } else {         /* at random: visited in tiles */
          pts[2 * i] = -300 + lcg_unit() * 3600;
          pts[2 * i + 1] = -300 + lcg_unit() * 3600;
        }
      }
      ASSERT_OK_CTX(ctx, tgis_snap_points(s, ix, pts, NP));
      for (int i = 0; i < NP; i++) {
        double best = INFINITY;
        int32_t be = -1;
        for (uint32_t e = 0; e < g->n_edges; e++) {
          uint32_t off = g->edge_geom_off[e];
          if (tgis_graph_edge_kmh(g, e, (tgis_mode)mode) <= 0)
            continue;
          for (uint32_t p = off; p + 1 < off + g->edge_geom_n[e]; p++) {
            const double *q = &g->geom_xy[2 * p];
            double dx = q[2] - q[0], dy = q[3] - q[1];
            double t = ((pts[2 * i] - q[0]) * dx + (pts[2 * i + 1] - q[1]) * dy) /
                       (dx * dx + dy * dy);
            t = t < 0 ? 0 : (t > 1 ? 1 : t);
            double d = hypot(pts[2 * i] - q[0] - t * dx, pts[2 * i + 1] - q[1] - t * dy);
            if (d < best) {
              best = d;
              be = (int32_t)e;
            }
          }
        }
        if (best > so.max_snap_m) {
          ASSERT_EQ(s[i].edge, -1);
          continue;
        }
        ASSERT_NEAR(s[i].dist, best, 1e-9);
        if (s[i].edge != be) {  /* only on an exact tie (a shared node) */
          ASSERT(s[i].t == 0 || s[i].t == 1);
        }
        ASSERT(s[i].t >= 0 && s[i].t <= 1);
        ASSERT_NEAR(hypot(s[i].x - pts[2 * i], s[i].y - pts[2 * i + 1]), s[i].dist, 1e-9);
      }
      tgis_snap_index_free(ix);
    }
  tgis_graph_free(g);
  tgis_close(ctx);
}

/* ---- errors -------------------------------------------------------------- */

static void test_graph__road_with_one_vertex_is_einval(void)
{
  static const double a[] = { 0, 0, 100, 0 };
  tgis_ctx *ctx = open_ctx();
  tgis_graph *g = NULL;
  tgis_road_in r[2] = { road(a, 2, 16), road(a, 1, 17) };
  ASSERT(ctx);
  ASSERT_EQ(tgis_graph_build(&g, ctx, r, 2, NULL), TGIS_EINVAL);
  ASSERT(g == NULL);
  ASSERT_STR_EQ(tgis_errmsg(ctx), "road 17: 1 vertex, need at least 2");
  r[1].n = 2;
  r[1].oneway = 2;
  ASSERT_EQ(tgis_graph_build(&g, ctx, r, 2, NULL), TGIS_EINVAL);
  ASSERT_CONTAINS(tgis_errmsg(ctx), "road 17: oneway 2");
  r[1].oneway = 0;
  r[1].drive_kmh = NAN;
  ASSERT_EQ(tgis_graph_build(&g, ctx, r, 2, NULL), TGIS_EINVAL);
  ASSERT_CONTAINS(tgis_errmsg(ctx), "road 17: drive speed");
  tgis_close(ctx);
}

static void test_graph__nan_or_distant_coordinate_is_einval(void)
{
  static const double a[] = { 0, 0, 100, 0 };
  static const double b[] = { 0, 0, 50, NAN, 100, 0 };
  static const double far[] = { 0, 0, 3e7, 0 };
  tgis_ctx *ctx = open_ctx();
  tgis_graph *g = NULL;
  tgis_road_in r[2] = { road(a, 2, 1), road(b, 3, 42) };
  ASSERT(ctx);
  ASSERT_EQ(tgis_graph_build(&g, ctx, r, 2, NULL), TGIS_EINVAL);
  ASSERT(g == NULL);
  ASSERT_CONTAINS(tgis_errmsg(ctx), "road 42: vertex 1 has a non-finite");
  r[1] = road(far, 2, 43);
  ASSERT_EQ(tgis_graph_build(&g, ctx, r, 2, NULL), TGIS_EINVAL);
  ASSERT_CONTAINS(tgis_errmsg(ctx), "road 43: vertex 1 is over 20,000 km");
  /* Far from 0 but close together is fine (a false easting). */
  static const double fe[] = { 1.35e7, 4.6e6, 1.35e7 + 100, 4.6e6 };
  r[0] = road(fe, 2, 44);
  ASSERT_OK_CTX(ctx, tgis_graph_build(&g, ctx, r, 1, NULL));
  ASSERT_NEAR(g->edge_len[0], 100.0, 1e-6);
  tgis_graph_free(g);
  tgis_close(ctx);
}

static void test_graph__bad_search_input_is_einval(void)
{
  static const double a[] = { 0, 0, 100, 0 };
  tgis_ctx *ctx = open_ctx();
  tgis_graph *g = NULL;
  tgis_road_in r[1] = { road(a, 2, 1) };
  tgis_graph_source s = { 0, 0.0, 0 };
  tgis_snap_index *ix = NULL;
  tgis_snap_options so = TGIS_SNAP_OPTIONS_INIT;
  double cost[2];
  int32_t fac[2];
  ASSERT(ctx);
  ASSERT_OK_CTX(ctx, tgis_graph_build(&g, ctx, r, 1, NULL));
  ASSERT_EQ(tgis_graph_dijkstra(cost, fac, g, DRIVE, &s, 0, INFINITY), TGIS_EINVAL);
  ASSERT_STR_EQ(tgis_errmsg(ctx), "no sources to search from");
  ASSERT(cost[0] == INFINITY && fac[0] == -1);
  s.node = 2;
  ASSERT_EQ(tgis_graph_dijkstra(cost, fac, g, DRIVE, &s, 1, INFINITY), TGIS_EINVAL);
  ASSERT_CONTAINS(tgis_errmsg(ctx), "source 0: node 2, the graph has 2 nodes");
  s.node = 0;
  s.cost = NAN;
  ASSERT_EQ(tgis_graph_dijkstra(cost, fac, g, DRIVE, &s, 1, INFINITY), TGIS_EINVAL);
  ASSERT_CONTAINS(tgis_errmsg(ctx), "initial cost");
  s.cost = 0;
  s.facility = -1;
  ASSERT_EQ(tgis_graph_dijkstra(cost, fac, g, DRIVE, &s, 1, INFINITY), TGIS_EINVAL);
  ASSERT_CONTAINS(tgis_errmsg(ctx), "facility -1");
  s.facility = 0;
  ASSERT_EQ(tgis_graph_dijkstra(cost, fac, g, DRIVE, &s, 1, -1.0), TGIS_EINVAL);
  ASSERT_CONTAINS(tgis_errmsg(ctx), "cutoff");
  ASSERT_EQ(tgis_graph_dijkstra(cost, fac, g, (tgis_mode)5, &s, 1, INFINITY), TGIS_EINVAL);
  so.max_snap_m = NAN;
  ASSERT_EQ(tgis_snap_index_build(&ix, g, WALK, &so), TGIS_EINVAL);
  ASSERT_CONTAINS(tgis_errmsg(ctx), "max snap distance");
  ASSERT(ix == NULL);
  tgis_graph_free(g);
  tgis_close(ctx);
}

/* ---- progress, cancel, allocation failure --------------------------------- */

typedef struct progress_log {
  int calls;
  int cancel;
  double last;
} progress_log;

static void on_progress(const char *stage, double fraction, void *payload)
{
  progress_log *p = payload;
  (void)stage;
  p->calls++;
  p->last = fraction;
  if (p->calls == 2)
    p->cancel = 1;
}

static void test_graph__cancel_flag_stops_the_build(void)
{
  static grid_city city;
  tgis_ctx *ctx = open_ctx();
  tgis_graph *g = NULL;
  tgis_graph_options o = TGIS_GRAPH_OPTIONS_INIT;
  progress_log pl = { 0, 0, 0 };
  ASSERT(ctx);
  make_grid_city(&city, 5);
  o.progress = on_progress;
  o.progress_payload = &pl;
  o.cancel = &pl.cancel;
  ASSERT_EQ(tgis_graph_build(&g, ctx, city.roads, city.n, &o), TGIS_ECANCELLED);
  ASSERT(g == NULL);
  ASSERT_CONTAINS(tgis_errmsg(ctx), "cancelled");
  ASSERT_EQ(pl.calls, 2);
  /* Without cancelling, progress reaches 1. */
  o.cancel = NULL;
  pl.calls = 0;
  ASSERT_OK_CTX(ctx, tgis_graph_build(&g, ctx, city.roads, city.n, &o));
  ASSERT(pl.calls >= 3);
  ASSERT_NEAR(pl.last, 1.0, 0);
  {
    tgis_snap_options so = TGIS_SNAP_OPTIONS_INIT;
    tgis_snap_index *ix = NULL;
    const double pts[] = { 10, 10, 20, 20 };
    tgis_snap s[2];
    so.progress = on_progress;
    so.progress_payload = &pl;
    so.cancel = &pl.cancel;
    pl.calls = 0;
    pl.cancel = 0;
    pl.calls = 1;  /* the next report sets the flag */
    ASSERT_EQ(tgis_snap_index_build(&ix, g, WALK, &so), TGIS_ECANCELLED);
    ASSERT_CONTAINS(tgis_errmsg(ctx), "snap index build cancelled");
    ASSERT(ix == NULL);
    pl.calls = -1;  /* the flag is set by the index's last report */
    pl.cancel = 0;
    ASSERT_OK_CTX(ctx, tgis_snap_index_build(&ix, g, WALK, &so));
    ASSERT(pl.cancel);  /* so snapping stops at once */
    ASSERT_EQ(tgis_snap_points(s, ix, pts, 2), TGIS_ECANCELLED);
    ASSERT_CONTAINS(tgis_errmsg(ctx), "snapping cancelled after 0 of 2");
    ASSERT_EQ(s[0].edge, -1);
    ASSERT_EQ(s[1].edge, -1);
    tgis_snap_index_free(ix);
  }
  tgis_graph_free(g);
  tgis_close(ctx);
}

static void cancel_at_third(const char *stage, double fraction, void *payload)
{
  progress_log *p = payload;
  (void)stage;
  p->last = fraction;
  if (++p->calls == 3)
    p->cancel = 1;
}

static void test_graph__large_build_reports_progress_and_cancels_midway(void)
{
  /* 1,200 parallel roads of 300 vertices: 360,000 vertices, past the
   * reporting interval of 262,144. */
  enum { NR = 1200, NV = 300 };
  double *xy = malloc(sizeof(double) * 2 * NR * NV);
  tgis_road_in *r = malloc(sizeof *r * NR);
  tgis_ctx *ctx = open_ctx();
  tgis_graph *g = NULL;
  tgis_graph_options o = TGIS_GRAPH_OPTIONS_INIT;
  progress_log pl = { 0, 0, 0 };
  ASSERT(ctx && xy && r);
  for (int k = 0; k < NR; k++) {
    for (int i = 0; i < NV; i++) {
      xy[2 * (k * NV + i)] = i * 10.0;
      xy[2 * (k * NV + i) + 1] = k * 10.0;
    }
    r[k] = road(&xy[2 * k * NV], NV, k);
  }
  o.progress = cancel_at_third;
  o.progress_payload = &pl;
  o.cancel = &pl.cancel;
  /* Reports: noding 0, noding midway (the third call cancels there). */
  pl.calls = 1;
  ASSERT_EQ(tgis_graph_build(&g, ctx, r, NR, &o), TGIS_ECANCELLED);
  ASSERT_CONTAINS(tgis_errmsg(ctx), "cancelled during noding");
  ASSERT(pl.last > 0 && pl.last < 0.5);
  o.cancel = NULL;
  pl.calls = 0;
  ASSERT_OK_CTX(ctx, tgis_graph_build(&g, ctx, r, NR, &o));
  ASSERT(pl.calls >= 7);  /* 0, two in each pass, adjacency */
  ASSERT_EQ(g->n_nodes, 2 * NR);
  ASSERT_EQ(g->n_edges, NR);
  tgis_graph_free(g);
  tgis_close(ctx);
  free(xy);
  free(r);
}


static void test_graph__allocation_failure_is_enomem_without_leaks(void)
{
  static grid_city city;
  /* Roads crossing the grid on another level add the per-level table. */
  static const double b1[] = { 50, 0, 50, 50, 50, 100, 50, 200, 50, 300 };
  static const double b2[] = { 0, 50, 50, 50, 100, 50, 200, 50 };
  static tgis_road_in roads[2 * GRID * (GRID - 1) + 2];
  harness_fault fa = { 0, 0, 0 };
  tgis_allocator a = { harness_fault_malloc, harness_fault_realloc, harness_fault_free, &fa };
  tgis_options o = TGIS_OPTIONS_INIT;
  tgis_ctx *ctx = NULL;
  enum { NPTS = 3000 };
  static double pts[2 * NPTS];
  static tgis_snap snaps[NPTS];
  int stage, n, base;
  make_grid_city(&city, 7);
  for (int i = 0; i < 2 * NPTS; i++)
    pts[i] = lcg_unit() * 2900;
  memcpy(roads, city.roads, city.n * sizeof *roads);
  roads[city.n] = road(b1, 5, 1);
  roads[city.n + 1] = road(b2, 4, 2);
  roads[city.n].level = 1;
  roads[city.n + 1].level = -1;
  o.allocator = &a;
  ASSERT_OK_CTX(ctx, tgis_open(&ctx, NULL, &o));
  base = fa.live;

  /* 0: the build; 1: components; 2: snap index; 3: Dijkstra; 4: snapping
   * points in random order (which sorts them). */
  for (stage = 0; stage < 5; stage++) {
    int succeeded = 0;
    for (n = 1; n < 200 && !succeeded; n++) {
      tgis_graph *g = NULL;
      tgis_graph_components *cc = NULL;
      tgis_snap_index *ix = NULL;
      tgis_status st;
      static double cost[GV + 64];
      static int32_t fac[GV + 64];
      tgis_graph_source s = { 0, 0.0, 0 };
      fa.fail_at = stage == 0 ? fa.calls + n : 0;
      st = tgis_graph_build(&g, ctx, roads, city.n + 2, NULL);
      if (stage > 0) {
        ASSERT_OK_CTX(ctx, st);
        fa.fail_at = fa.calls + n;
        if (stage == 1)
          st = tgis_graph_components_find(&cc, g, WALK);
        else if (stage == 2)
          st = tgis_snap_index_build(&ix, g, DRIVE, NULL);
        else if (stage == 3)
          st = tgis_graph_dijkstra(cost, fac, g, WALK, &s, 1, INFINITY);
        else {
          fa.fail_at = 0;
          ASSERT_OK_CTX(ctx, tgis_snap_index_build(&ix, g, DRIVE, NULL));
          fa.fail_at = fa.calls + n;
          st = tgis_snap_points(snaps, ix, pts, NPTS);
        }
      }
      if (st == TGIS_OK) {
        succeeded = 1;
        ASSERT(fa.calls < fa.fail_at);  /* no allocation was failed */
      } else {
        ASSERT_EQ(st, TGIS_ENOMEM);
        ASSERT_CONTAINS(tgis_errmsg(ctx), "out of memory");
        ASSERT(stage != 0 || g == NULL);
        ASSERT(cc == NULL && (ix == NULL || stage == 4));
      }
      fa.fail_at = 0;
      tgis_snap_index_free(ix);
      tgis_graph_components_free(cc);
      tgis_graph_free(g);
      ASSERT_EQ(fa.live, base);
    }
    ASSERT(succeeded);
    ASSERT(n > 2);
  }
  tgis_close(ctx);
  ASSERT_EQ(fa.live, 0);
}

int main(void)
{
  RUN(test_graph__plus_crossing_is_one_node_of_degree_4);
  RUN(test_graph__crossing_at_different_levels_does_not_connect);
  RUN(test_graph__different_levels_meet_at_an_end_vertex);
  RUN(test_graph__bridge_meets_the_ground_at_its_ends);
  RUN(test_graph__vertices_equal_to_a_centimetre_meet);
  RUN(test_graph__interior_vertices_are_edge_geometry);
  RUN(test_graph__same_level_meets_where_levels_mix);
  RUN(test_graph__many_level_crossings);
  RUN(test_graph__ring_road_is_a_loop_edge);
  RUN(test_graph__repeated_vertices_are_one_vertex);
  RUN(test_graph__empty_input_is_an_empty_graph);
  RUN(test_graph__oneway_respected_in_drive_ignored_in_walk);
  RUN(test_graph__walk_speed_and_unusable_roads);
  RUN(test_graph__disconnected_parts_are_counted_and_unreached);
  RUN(test_graph__equal_cost_tie_goes_to_lower_facility);
  RUN(test_graph__cutoff_is_honoured);
  RUN(test_graph__snap_beside_the_middle_of_an_edge);
  RUN(test_graph__points_beyond_max_snap_stay_unsnapped);
  RUN(test_graph__snapping_uses_only_edges_of_the_mode);
  RUN(test_graph__cost_to_a_point_on_a_oneway_edge);
  RUN(test_graph__snapped_facility_leaves_in_the_allowed_direction);
  RUN(test_graph__dijkstra_equals_naive_on_random_grid);
  RUN(test_graph__snap_equals_brute_force_on_random_grid);
  RUN(test_graph__road_with_one_vertex_is_einval);
  RUN(test_graph__nan_or_distant_coordinate_is_einval);
  RUN(test_graph__bad_search_input_is_einval);
  RUN(test_graph__cancel_flag_stops_the_build);
  RUN(test_graph__large_build_reports_progress_and_cancels_midway);
  RUN(test_graph__allocation_failure_is_enomem_without_leaks);
  return harness_report();
}
