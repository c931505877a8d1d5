/*
 * coverage_network.c -- the nearest facility of every parcel along the
 * roads: graph, snapping, one multi-source search, a cost per parcel.
 *
 * Driving times run from the parcel to the facility (the trip a resident
 * makes), so in drive mode the graph is built with every oneway reversed:
 * the search from the facilities over the reversed network gives the times
 * towards them (graph.h). Walking ignores oneway either way.
 *
 * The search is graph.h's multi-source Dijkstra with the trip's length in
 * metres carried along the shortest-time path. Both ends add the straight
 * access walk between door and road, in time and in metres.
 */
#include <math.h>
#include <string.h>

#include "coverage_int.h"
#include "label_heap.h"

static void graph_progress(const char *stage, double fraction, void *payload)
{
  cov_run *r = payload;
  /* A cancel request sets r->cancel, which the graph code looks at. */
  (void)cov__progress(r, stage, (int64_t)(fraction * 1000.0), 1000);
}

static tgis_status nomem(cov_run *r, const char *what)
{
  return tgis__fail(r->ctx, TGIS_ENOMEM, "out of memory %s", what);
}

/* ---- the search --------------------------------------------------------------- */

/*
 * tgis_graph_dijkstra() with the trip's metres carried along: the same
 * labels (cost, facility) compared the same way, so the same costs and
 * facilities (the tests hold the two to each other); a node's metres are
 * those of the path that set its final label.
 */
static tgis_status search(cov_run *r, double *cost, int32_t *fac, double *node_m,
                          const tgis_graph_source *src, const double *src_m, size_t n_src)
{
  const tgis_graph *g = r->g;
  const tgis_graph_csr *csr = &g->csr[r->mode];
  heap h = { r->ctx, NULL, 0, 0 };
  tgis_status st = TGIS_OK;

  for (uint32_t v = 0; v < g->n_nodes; v++) {
    cost[v] = INFINITY;
    fac[v] = -1;
    node_m[v] = NAN;
  }
  for (size_t k = 0; k < n_src; k++) {
    uint32_t v = src[k].node;
    double c = src[k].cost;
    int32_t f = src[k].facility;
    if (c < cost[v] || (c == cost[v] && f < fac[v])) {
      cost[v] = c;
      fac[v] = f;
      node_m[v] = src_m[k];
      if (heap_push(&h, c, f, v))
        goto nomem;
    }
  }
  while (h.n) {
    heap_item it = heap_pop(&h);
    uint32_t u = it.node;
    if (it.cost != cost[u] || it.facility != fac[u])
      continue;  /* outdated */
    for (uint32_t k = csr->offsets[u], end = csr->offsets[u + 1]; k < end; k++) {
      uint32_t v = csr->targets[k];
      double c = it.cost + csr->weights[k];
      if (c < cost[v] || (c == cost[v] && it.facility < fac[v])) {
        cost[v] = c;
        fac[v] = it.facility;
        node_m[v] = node_m[u] + g->edge_len[csr->edge[k]];
        if (heap_push(&h, c, it.facility, v))
          goto nomem;
      }
    }
  }
  goto done;
nomem:
  st = nomem(r, "in the travel-time search");
done:
  tgis__free(r->ctx, h.a);
  return st;
}

/* The time, facility and metres of a snapped parcel: tgis_snap_cost() with
 * the trip length alongside, by the same choice of edge end. */
static double parcel_cost(const cov_run *r, const double *cost, const int32_t *fac,
                          const double *node_m, const tgis_snap *s, int32_t *f_out,
                          double *m_out)
{
  const tgis_graph *g = r->g;
  double best = INFINITY, bm = NAN, len;
  int32_t bf = -1;
  uint32_t e;

  *f_out = -1;
  *m_out = NAN;
  if (s->edge < 0)
    return INFINITY;
  e = (uint32_t)s->edge;
  len = g->edge_len[e];
  if (tgis_graph_edge_allows(g, e, r->mode, 1)) {
    uint32_t a = g->edge_from[e];
    best = cost[a] + tgis_graph_edge_seconds(g, e, r->mode, s->t * len);
    bf = fac[a];
    bm = node_m[a] + s->t * len;
  }
  if (tgis_graph_edge_allows(g, e, r->mode, 0)) {
    uint32_t b = g->edge_to[e];
    double c = cost[b] + tgis_graph_edge_seconds(g, e, r->mode, (1.0 - s->t) * len);
    if (c < best || (c == best && fac[b] < bf)) {
      best = c;
      bf = fac[b];
      bm = node_m[b] + (1.0 - s->t) * len;
    }
  }
  if (best == INFINITY)
    return INFINITY;
  *f_out = bf;
  *m_out = bm + s->dist;
  return best + tgis_graph_walk_seconds(g, s->dist);
}

static tgis_status build_graph(cov_run *r)
{
  tgis_graph_options go = TGIS_GRAPH_OPTIONS_INIT;
  const char *mode_name = r->mode == TGIS_MODE_DRIVE ? "drive" : "walk";
  uint32_t usable = 0;
  tgis_status st;
  double t0 = cov__now();

  if ((st = tgis_network__load(&r->roads, r->ctx)) != TGIS_OK)
    return st;
  if (r->mode == TGIS_MODE_DRIVE)
    for (size_t i = 0; i < r->roads.n; i++)
      r->roads.roads[i].oneway = -r->roads.roads[i].oneway;
  r->sum.timing.load += cov__now() - t0;
  t0 = cov__now();

  go.walk_kmh = r->o.walk_kmh;
  go.progress = graph_progress;
  go.progress_payload = r;
  go.cancel = &r->cancel;
  if ((st = tgis_graph_build(&r->g, r->ctx, r->roads.roads, r->roads.n, &go)) != TGIS_OK)
    return st;
  for (uint32_t e = 0; e < r->g->n_edges; e++)
    usable += tgis_graph_edge_kmh(r->g, e, r->mode) > 0;
  if (usable == 0)
    return tgis__fail(r->ctx, TGIS_EINVAL, "roads: no edges to %s on (%zu roads, %u edges)",
                      mode_name, r->roads.n, r->g->n_edges);
  if ((st = tgis_graph_components_find(&r->comps, r->g, r->mode)) != TGIS_OK)
    return st;
  r->sum.network_nodes = r->g->n_nodes;
  r->sum.network_edges = r->g->n_edges;
  r->sum.components = r->comps->count;
  r->sum.timing.graph += cov__now() - t0;
  return TGIS_OK;
}

static tgis_status snap_all(cov_run *r)
{
  tgis_snap_options so = TGIS_SNAP_OPTIONS_INIT;
  tgis_status st;
  double t0 = cov__now();

  so.max_snap_m = r->o.max_snap_m;
  so.progress = graph_progress;
  so.progress_payload = r;
  so.cancel = &r->cancel;
  if ((st = tgis_snap_index_build(&r->ix, r->g, r->mode, &so)) != TGIS_OK)
    return st;
  if (!(r->psnap = tgis__malloc(r->ctx, (r->n_parcels + 1) * sizeof *r->psnap)) ||
      !(r->fsnap = tgis__malloc(r->ctx, r->n_fac * sizeof *r->fsnap)))
    return nomem(r, "snapping");
  if ((st = tgis_snap_points(r->psnap, r->ix, r->pxy, r->n_parcels)) != TGIS_OK ||
      (st = tgis_snap_points(r->fsnap, r->ix, r->fxy, r->n_fac)) != TGIS_OK)
    return st;
  for (size_t i = 0; i < r->n_fac; i++)
    if (r->fsnap[i].edge >= 0)
      r->facilities[i].snap_m = r->fsnap[i].dist;
    else
      r->sum.facilities_unsnapped++;
  r->sum.timing.snap += cov__now() - t0;
  return TGIS_OK;
}

tgis_status cov__network(cov_run *r)
{
  const tgis_graph *g;
  tgis_graph_source *src = NULL;
  double *src_m = NULL, *cost = NULL, *node_m = NULL, t0;
  int32_t *fac = NULL;
  size_t n_src = 0;
  tgis_status st;

  if ((st = build_graph(r)) != TGIS_OK || (st = snap_all(r)) != TGIS_OK)
    return st;
  g = r->g;
  t0 = cov__now();
  if ((st = cov__progress(r, "searching", 0, 0)) != TGIS_OK)
    return st;
  if (!(src = tgis__malloc(r->ctx, 2 * r->n_fac * sizeof *src)) ||
      !(src_m = tgis__malloc(r->ctx, 2 * r->n_fac * sizeof *src_m)) ||
      !(cost = tgis__malloc(r->ctx, ((size_t)g->n_nodes + 1) * sizeof *cost)) ||
      !(node_m = tgis__malloc(r->ctx, ((size_t)g->n_nodes + 1) * sizeof *node_m)) ||
      !(fac = tgis__malloc(r->ctx, ((size_t)g->n_nodes + 1) * sizeof *fac))) {
    st = nomem(r, "searching the network");
    goto done;
  }
  for (size_t i = 0; i < r->n_fac; i++) {
    const tgis_snap *s = &r->fsnap[i];
    size_t k = tgis_snap_sources(src + n_src, g, r->mode, s, (int32_t)i, TGIS_SNAP_ADD_ACCESS);
    size_t j = n_src;
    /* The same ends, in the same order, as tgis_snap_sources() writes. */
    if (k && tgis_graph_edge_allows(g, (uint32_t)s->edge, r->mode, 0))
      src_m[j++] = s->dist + s->t * g->edge_len[s->edge];
    if (k && tgis_graph_edge_allows(g, (uint32_t)s->edge, r->mode, 1))
      src_m[j++] = s->dist + (1.0 - s->t) * g->edge_len[s->edge];
    n_src += k;
  }
  /* No source at all (no facility reaches a road): everyone unreachable. */
  if ((st = search(r, cost, fac, node_m, src, src_m, n_src)) != TGIS_OK)
    goto done;

  for (size_t i = 0; i < r->n_parcels; i++) {
    tgis_coverage_parcel *p = &r->parcels[i];
    const tgis_snap *s = &r->psnap[i];
    int32_t f;
    double m, c;
    if (s->edge < 0) {
      r->sum.unsnapped_parcels++;
      continue;  /* stays unreachable, with no snap distance */
    }
    p->snap_m = s->dist;
    if (r->comps->comp[g->edge_from[s->edge]] != 0)
      r->sum.off_main_parcels++;
    c = parcel_cost(r, cost, fac, node_m, s, &f, &m);
    if (c == INFINITY)
      continue;
    p->reachable = 1;
    p->seconds = c;
    p->metres = m;
    p->facility_id = r->facilities[f].facility_id;
    r->pfac[i] = f;
    p->covered = c <= r->limit;
  }
  r->sum.timing.search += cov__now() - t0;
  st = cov__progress(r, "searching", 1, 1);

done:
  tgis__free(r->ctx, src);
  tgis__free(r->ctx, src_m);
  tgis__free(r->ctx, cost);
  tgis__free(r->ctx, node_m);
  tgis__free(r->ctx, fac);
  return st;
}
