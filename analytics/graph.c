/*
 * graph.c -- building the road graph: checks, the noding (noding.c), and
 * the CSR adjacency of each travel mode; speeds and directions per edge.
 *
 * The adjacency of a mode is filled with one counting pass and one filling
 * pass over the edges, in edge order, so arcs of a node always come in the
 * same order and every traversal is deterministic. Weights are seconds,
 * computed by the one function (tgis_graph_edge_seconds) that snapping also
 * uses, so a whole edge costs exactly its arc's weight.
 */
#include <assert.h>
#include <math.h>
#include <string.h>

#include "graph_int.h"

/* ---- progress ----------------------------------------------------------- */

tgis_status tgis_graph__report(tgis_ctx *ctx, const tgis_graph_options *o,
                               const char *stage, double fraction)
{
  if (o->progress)
    o->progress(stage, fraction, o->progress_payload);
  if (o->cancel && *o->cancel)
    return tgis__fail(ctx, TGIS_ECANCELLED, "graph build cancelled during %s",
                      stage);
  return TGIS_OK;
}

/* ---- speeds and directions ---------------------------------------------- */

double tgis_graph_edge_kmh(const tgis_graph *g, uint32_t e, tgis_mode mode)
{
  uint32_t r = g->edge_road[e];
  if (mode == TGIS_MODE_WALK)
    return g->road_walkable[r] ? g->walk_kmh : 0.0;
  if (mode == TGIS_MODE_DRIVE)
    return g->road_drive_kmh[r] > 0 ? g->road_drive_kmh[r] : 0.0;
  return 0.0;
}

int tgis_graph_edge_allows(const tgis_graph *g, uint32_t e, tgis_mode mode,
                           int forward)
{
  int ow;
  if (tgis_graph_edge_kmh(g, e, mode) <= 0)
    return 0;
  if (mode == TGIS_MODE_WALK)
    return 1;
  ow = g->road_oneway[g->edge_road[e]];
  return ow == 0 || (forward ? ow > 0 : ow < 0);
}

double tgis_graph_edge_seconds(const tgis_graph *g, uint32_t e,
                               tgis_mode mode, double metres)
{
  double kmh = tgis_graph_edge_kmh(g, e, mode);
  return kmh > 0 ? metres * 3.6 / kmh : INFINITY;
}

double tgis_graph_walk_seconds(const tgis_graph *g, double metres)
{
  return metres * 3.6 / g->walk_kmh;
}

/* ---- free ---------------------------------------------------------------- */

void tgis_graph_free(tgis_graph *g)
{
  tgis_ctx *ctx;
  if (!g)
    return;
  ctx = g->ctx;
  for (int m = 0; m < TGIS_MODE_COUNT; m++) {
    tgis__free(ctx, g->csr[m].offsets);
    tgis__free(ctx, g->csr[m].targets);
    tgis__free(ctx, g->csr[m].weights);
    tgis__free(ctx, g->csr[m].edge);
  }
  tgis__free(ctx, g->node_xy);
  tgis__free(ctx, g->edge_from);
  tgis__free(ctx, g->edge_to);
  tgis__free(ctx, g->edge_len);
  tgis__free(ctx, g->edge_road);
  tgis__free(ctx, g->edge_geom_off);
  tgis__free(ctx, g->edge_geom_n);
  tgis__free(ctx, g->geom_xy);
  tgis__free(ctx, g->geom_m);
  tgis__free(ctx, g->road_id);
  tgis__free(ctx, g->road_oneway);
  tgis__free(ctx, g->road_walkable);
  tgis__free(ctx, g->road_drive_kmh);
  tgis__free(ctx, g);
}

/* ---- build ----------------------------------------------------------------- */

/* Check the per-road fields and count the vertices. */
static tgis_status check_roads(tgis_ctx *ctx, const tgis_road_in *roads,
                               size_t n_roads, uint32_t *n_points)
{
  uint64_t total = 0;
  if (n_roads > (size_t)INT32_MAX)
    return tgis__fail(ctx, TGIS_EINVAL, "%zu roads, at most %d supported",
                      n_roads, INT32_MAX);
  for (size_t r = 0; r < n_roads; r++) {
    const tgis_road_in *rd = &roads[r];
    long long id = (long long)rd->id;
    if (rd->n < 2)
      return tgis__fail(ctx, TGIS_EINVAL, "road %lld: %u vert%s, need at least 2",
                        id, rd->n, rd->n == 1 ? "ex" : "ices");
    if (!rd->xy)
      return tgis__fail(ctx, TGIS_EINVAL, "road %lld: no coordinates", id);
    if (rd->oneway < -1 || rd->oneway > 1)
      return tgis__fail(ctx, TGIS_EINVAL,
                        "road %lld: oneway %d, must be -1, 0 or 1", id, rd->oneway);
    if (!isfinite(rd->drive_kmh))
      return tgis__fail(ctx, TGIS_EINVAL,
                        "road %lld: drive speed is not a finite number", id);
    total += rd->n;
  }
  if (total >= (uint64_t)INT32_MAX)
    return tgis__fail(ctx, TGIS_EINVAL, "%llu road vertices, at most %d supported",
                      (unsigned long long)total, INT32_MAX - 1);
  *n_points = (uint32_t)total;
  return TGIS_OK;
}

/* One mode's adjacency: count arcs per node, turn the counts into starts,
 * fill in edge order (each start advancing to the next node's start), then
 * shift the starts back into place. */
static tgis_status build_csr(tgis_graph *g, tgis_mode mode)
{
  tgis_ctx *ctx = g->ctx;
  tgis_graph_csr *c = &g->csr[mode];
  uint64_t n_arcs = 0;
  uint32_t *off;

  c->offsets = off = tgis__calloc(ctx, (size_t)g->n_nodes + 1, sizeof *off);
  if (!off)
    return TGIS_ENOMEM;
  for (uint32_t e = 0; e < g->n_edges; e++) {
    uint32_t a = g->edge_from[e], b = g->edge_to[e];
    if (a == b)
      continue;  /* a loop never shortens a path */
    if (tgis_graph_edge_allows(g, e, mode, 1)) {
      off[a]++;
      n_arcs++;
    }
    if (tgis_graph_edge_allows(g, e, mode, 0)) {
      off[b]++;
      n_arcs++;
    }
  }
  if (n_arcs >= UINT32_MAX)
    return tgis__fail(ctx, TGIS_EINVAL, "%llu arcs, too many for one graph",
                      (unsigned long long)n_arcs);
  c->n_arcs = (uint32_t)n_arcs;
  c->targets = tgis__malloc(ctx, n_arcs * sizeof *c->targets);
  c->weights = tgis__malloc(ctx, n_arcs * sizeof *c->weights);
  c->edge = tgis__malloc(ctx, n_arcs * sizeof *c->edge);
  if (!c->targets || !c->weights || !c->edge)
    return TGIS_ENOMEM;

  uint32_t sum = 0;
  for (uint32_t u = 0; u < g->n_nodes; u++) {
    uint32_t k = off[u];
    off[u] = sum;
    sum += k;
  }
  for (uint32_t e = 0; e < g->n_edges; e++) {
    uint32_t a = g->edge_from[e], b = g->edge_to[e];
    double w;
    if (a == b)
      continue;
    w = tgis_graph_edge_seconds(g, e, mode, g->edge_len[e]);
    if (tgis_graph_edge_allows(g, e, mode, 1)) {
      uint32_t k = off[a]++;
      c->targets[k] = b;
      c->weights[k] = w;
      c->edge[k] = e;
    }
    if (tgis_graph_edge_allows(g, e, mode, 0)) {
      uint32_t k = off[b]++;
      c->targets[k] = a;
      c->weights[k] = w;
      c->edge[k] = e;
    }
  }
  memmove(off + 1, off, (size_t)g->n_nodes * sizeof *off);
  off[0] = 0;
  return TGIS_OK;
}

/* ---- build ----------------------------------------------------------------- */

tgis_status tgis_graph_build(tgis_graph **out, tgis_ctx *ctx,
                             const tgis_road_in *roads, size_t n_roads,
                             const tgis_graph_options *opts)
{
  static const tgis_graph_options defaults = TGIS_GRAPH_OPTIONS_INIT;
  const tgis_graph_options *o = opts ? opts : &defaults;
  tgis_graph *g = NULL;
  uint32_t n_points = 0;
  tgis_status st;

  assert(out && ctx && (roads || n_roads == 0));
  *out = NULL;
  tgis__clear_error(ctx);

  if (o->version != TGIS_GRAPH_OPTIONS_VERSION)
    return tgis__fail(ctx, TGIS_EINVAL, "graph options version %u, this library knows %d",
                      o->version, TGIS_GRAPH_OPTIONS_VERSION);
  if (!(o->walk_kmh > 0 && isfinite(o->walk_kmh)))
    return tgis__fail(ctx, TGIS_EINVAL, "walking speed %g km/h, must be positive",
                      o->walk_kmh);
  if ((st = check_roads(ctx, roads, n_roads, &n_points)) != TGIS_OK)
    return st;
  if ((st = tgis_graph__report(ctx, o, "noding", 0.0)) != TGIS_OK)
    return st;

  if (!(g = tgis__calloc(ctx, 1, sizeof *g)))
    goto nomem;
  g->ctx = ctx;
  g->walk_kmh = o->walk_kmh;
  g->n_roads = (uint32_t)n_roads;
  g->n_points = n_points;
  if (!(g->road_id = tgis__malloc(ctx, n_roads * sizeof *g->road_id)) ||
      !(g->road_oneway = tgis__malloc(ctx, n_roads * sizeof *g->road_oneway)) ||
      !(g->road_walkable = tgis__malloc(ctx, n_roads * sizeof *g->road_walkable)) ||
      !(g->road_drive_kmh = tgis__malloc(ctx, n_roads * sizeof *g->road_drive_kmh)) ||
      !(g->geom_xy = tgis__malloc(ctx, 2 * (size_t)n_points * sizeof *g->geom_xy)) ||
      !(g->geom_m = tgis__malloc(ctx, (size_t)n_points * sizeof *g->geom_m)))
    goto nomem;
  for (size_t r = 0; r < n_roads; r++) {
    g->road_id[r] = roads[r].id;
    g->road_oneway[r] = (int8_t)roads[r].oneway;
    g->road_walkable[r] = roads[r].walkable != 0;
    g->road_drive_kmh[r] = roads[r].drive_kmh;
  }

  if ((st = tgis_graph__node_roads(g, roads, o)) != TGIS_OK)
    goto done;
  for (int m = 0; m < TGIS_MODE_COUNT; m++) {
    if ((st = tgis_graph__report(ctx, o, "adjacency", (double)m / TGIS_MODE_COUNT)) != TGIS_OK)
      goto done;
    if ((st = build_csr(g, (tgis_mode)m)) != TGIS_OK) {
      if (st == TGIS_ENOMEM)
        goto nomem;
      goto done;
    }
  }
  if ((st = tgis_graph__report(ctx, o, "adjacency", 1.0)) != TGIS_OK)
    goto done;
  *out = g;
  g = NULL;
  st = TGIS_OK;
  goto done;

nomem:
  st = tgis__fail(ctx, TGIS_ENOMEM, "out of memory building the road graph "
                  "(%zu roads, %u vertices)", n_roads, n_points);
done:
  tgis_graph_free(g);
  return st;
}
