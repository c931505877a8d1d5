/*
 * node_times.c -- tgis's own node-to-node travel times, for the coverage
 * benchmark's agreement check (bench/coverage.sh); not part of the library.
 *
 * The tgis CLI reports door-to-door times per parcel (snapped to edges),
 * not node times. To compare tgis's graph and search with SpatiaLite's
 * VirtualRouting exactly, this probe builds tgis's walk graph from the
 * database (tgis_network__load + tgis_graph_build, the same calls
 * `tgis coverage` makes) and runs tgis's multi-source Dijkstra from the
 * nodes the SQL route snapped the facilities to, each with the same start
 * cost (the facility's access walk). It prints one line per graph node:
 *
 *     kx ky cost facility
 *
 * kx, ky: the node's coordinate in whole centimetres (round half up, the
 * key the SQL noding uses too); cost: seconds, "inf" when unreached;
 * facility: the index of the nearest source, -1 when unreached. A first
 * line "# nodes N edges E walk_edges W" gives the graph's size.
 *
 * usage: node_times DB SOURCES   (SOURCES: lines "x y start_seconds")
 *
 * It uses the module-internal headers (analytics/graph.h, network.h), so it
 * is built against a build directory: see bench/coverage.sh.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "tgis_int.h"
#include "graph.h"
#include "network.h"

static long long key(double v) { return (long long)floor(v * 100.0 + 0.5); }

int main(int argc, char **argv)
{
  tgis_ctx *ctx = NULL;
  tgis_network_roads roads = { 0 };
  tgis_graph *g = NULL;
  tgis_graph_source *src = NULL;
  double *cost = NULL, x, y, c;
  int32_t *fac = NULL;
  size_t n_src = 0, cap = 0;
  uint32_t walk_edges = 0;
  tgis_options o = TGIS_OPTIONS_INIT;
  FILE *f;
  int rc = 1;

  if (argc != 3) {
    fprintf(stderr, "usage: node_times DB SOURCES\n");
    return 2;
  }
  o.flags = TGIS_OPEN_READONLY;
  if (tgis_open(&ctx, argv[1], &o) != TGIS_OK ||
      tgis_network__load(&roads, ctx) != TGIS_OK ||
      tgis_graph_build(&g, ctx, roads.roads, roads.n, NULL) != TGIS_OK) {
    fprintf(stderr, "node_times: %s\n", ctx ? tgis_errmsg(ctx) : "out of memory");
    goto done;
  }
  if (!(f = fopen(argv[2], "r"))) {
    perror(argv[2]);
    goto done;
  }
  while (fscanf(f, "%lf %lf %lf", &x, &y, &c) == 3) {
    uint32_t best = TGIS_GRAPH_NONE;
    double bd = INFINITY;
    for (uint32_t v = 0; v < g->n_nodes; v++) {
      double dx = g->node_xy[2 * v] - x, dy = g->node_xy[2 * v + 1] - y;
      double d = dx * dx + dy * dy;
      if (d < bd) {
        bd = d;
        best = v;
      }
    }
    if (best == TGIS_GRAPH_NONE || bd > 0.02 * 0.02) {
      fprintf(stderr, "node_times: source %zu (%.2f %.2f) is not a tgis node (nearest %.3f m)\n",
              n_src, x, y, sqrt(bd));
      fclose(f);
      goto done;
    }
    if (n_src == cap) {
      cap = cap ? 2 * cap : 64;
      if (!(src = realloc(src, cap * sizeof *src))) {
        fclose(f);
        goto done;
      }
    }
    src[n_src].node = best;
    src[n_src].cost = c;
    src[n_src].facility = (int32_t)n_src;
    n_src++;
  }
  fclose(f);
  if (!(cost = malloc(((size_t)g->n_nodes + 1) * sizeof *cost)) ||
      !(fac = malloc(((size_t)g->n_nodes + 1) * sizeof *fac)))
    goto done;
  if (tgis_graph_dijkstra(cost, fac, g, TGIS_MODE_WALK, src, n_src, INFINITY) != TGIS_OK) {
    fprintf(stderr, "node_times: %s\n", tgis_errmsg(ctx));
    goto done;
  }
  for (uint32_t e = 0; e < g->n_edges; e++)
    walk_edges += tgis_graph_edge_kmh(g, e, TGIS_MODE_WALK) > 0;
  printf("# nodes %u edges %u walk_edges %u\n", g->n_nodes, g->n_edges, walk_edges);
  for (uint32_t v = 0; v < g->n_nodes; v++) {
    printf("%lld %lld ", key(g->node_xy[2 * v]), key(g->node_xy[2 * v + 1]));
    if (isfinite(cost[v]))
      printf("%.6f %d\n", cost[v], fac[v]);
    else
      printf("inf -1\n");
  }
  rc = 0;
done:
  free(src);
  free(cost);
  free(fac);
  tgis_graph_free(g);
  tgis_network__free(&roads);
  tgis_close(ctx);
  return rc;
}
