/*
 * dijkstra.c -- travel time from the nearest of many facilities to every
 * node, in one search.
 *
 * All sources go into the queue at once; a node's label is the pair (cost,
 * facility) compared lexicographically, so between equal costs the lower
 * facility index wins no matter in which order sources or arcs come. The
 * queue is a binary heap without decrease-key: an improved label is pushed
 * again and the outdated entry is skipped when it surfaces (lazy deletion),
 * which is simpler and in practice faster than an indexed heap. Labels only
 * ever improve strictly, so a popped entry equal to its node's label is
 * final.
 */
#include <assert.h>
#include <math.h>

#include "graph.h"
#include "label_heap.h"


/* Is (c, f) a better label than node v's? */
static inline int improves(double c, int32_t f, const double *cost,
                           const int32_t *facility, uint32_t v)
{
  return c < cost[v] || (c == cost[v] && f < facility[v]);
}

tgis_status tgis_graph_dijkstra(double *cost, int32_t *facility,
                                const tgis_graph *g, tgis_mode mode,
                                const tgis_graph_source *sources,
                                size_t n_sources, double cutoff_s)
{
  tgis_ctx *ctx = g->ctx;
  const tgis_graph_csr *csr;
  heap h = { ctx, NULL, 0, 0 };
  tgis_status st = TGIS_OK;

  assert(cost && facility && g && (sources || n_sources == 0));
  tgis__clear_error(ctx);
  for (uint32_t u = 0; u < g->n_nodes; u++) {
    cost[u] = INFINITY;
    facility[u] = -1;
  }
  if ((unsigned)mode >= TGIS_MODE_COUNT)
    return tgis__fail(ctx, TGIS_EINVAL, "travel mode %d is not walk or drive", (int)mode);
  if (n_sources == 0)
    return tgis__fail(ctx, TGIS_EINVAL, "no sources to search from");
  if (isnan(cutoff_s) || cutoff_s < 0)
    return tgis__fail(ctx, TGIS_EINVAL, "cutoff %g s, must be >= 0 (INFINITY for none)",
                      cutoff_s);
  for (size_t i = 0; i < n_sources; i++) {
    const tgis_graph_source *s = &sources[i];
    if (s->node >= g->n_nodes)
      return tgis__fail(ctx, TGIS_EINVAL, "source %zu: node %u, the graph has %u nodes",
                        i, s->node, g->n_nodes);
    if (!(s->cost >= 0))
      return tgis__fail(ctx, TGIS_EINVAL, "source %zu: initial cost %g s, must be >= 0",
                        i, s->cost);
    if (s->facility < 0)
      return tgis__fail(ctx, TGIS_EINVAL, "source %zu: facility %d, must be >= 0",
                        i, (int)s->facility);
  }

  csr = &g->csr[mode];
  for (size_t i = 0; i < n_sources; i++) {
    const tgis_graph_source *s = &sources[i];
    if (s->cost > cutoff_s || !improves(s->cost, s->facility, cost, facility, s->node))
      continue;
    cost[s->node] = s->cost;
    facility[s->node] = s->facility;
    if (heap_push(&h, s->cost, s->facility, s->node) != 0)
      goto nomem;
  }

  while (h.n) {
    heap_item it = heap_pop(&h);
    uint32_t u = it.node;
    if (it.cost != cost[u] || it.facility != facility[u])
      continue;  /* outdated: u was reached better since */
    for (uint32_t k = csr->offsets[u], end = csr->offsets[u + 1]; k < end; k++) {
      uint32_t v = csr->targets[k];
      double c = it.cost + csr->weights[k];
      if (c > cutoff_s || !improves(c, it.facility, cost, facility, v))
        continue;
      cost[v] = c;
      facility[v] = it.facility;
      if (heap_push(&h, c, it.facility, v) != 0)
        goto nomem;
    }
  }
  goto done;

nomem:
  st = tgis__fail(ctx, TGIS_ENOMEM, "out of memory in the travel-time search");
  for (uint32_t u = 0; u < g->n_nodes; u++) {
    cost[u] = INFINITY;
    facility[u] = -1;
  }
done:
  tgis__free(ctx, h.a);
  return st;
}
