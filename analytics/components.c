/*
 * components.c -- connected pieces of one mode's road network.
 *
 * A disconnected piece (a street whose junction was digitised a metre off,
 * a footway island) is a data problem the analyst must see, so components
 * are counted undirected, over the edges the mode can use: union-find with
 * path halving over the edge list (no adjacency needed), then the roots are
 * numbered by first node and renumbered largest first, so component 0 is
 * the main network and the numbering is the same on every run.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"

static inline uint32_t find_root(uint32_t *parent, uint32_t u)
{
  while (parent[u] != u) {
    parent[u] = parent[parent[u]];
    u = parent[u];
  }
  return u;
}

void tgis_graph_components_free(tgis_graph_components *c)
{
  if (!c)
    return;
  tgis__free(c->ctx, c->size);
  tgis__free(c->ctx, c->comp);
  tgis__free(c->ctx, c);
}

typedef struct comp_order {
  uint32_t size, first;  /* first = provisional id, ascending by first node */
} comp_order;

static int by_size_desc(const void *pa, const void *pb)
{
  const comp_order *a = pa, *b = pb;
  if (a->size != b->size)
    return a->size > b->size ? -1 : 1;
  return a->first < b->first ? -1 : a->first > b->first;
}

tgis_status tgis_graph_components_find(tgis_graph_components **out,
                                       const tgis_graph *g, tgis_mode mode)
{
  tgis_ctx *ctx = g->ctx;
  tgis_graph_components *c = NULL;
  uint32_t *parent = NULL, *renum = NULL;
  comp_order *order = NULL;
  uint32_t n = g->n_nodes, count = 0;
  tgis_status st = TGIS_OK;

  assert(out && g);
  *out = NULL;
  tgis__clear_error(ctx);
  if ((unsigned)mode >= TGIS_MODE_COUNT)
    return tgis__fail(ctx, TGIS_EINVAL, "travel mode %d is not walk or drive", (int)mode);

  if (!(c = tgis__calloc(ctx, 1, sizeof *c)))
    goto nomem;
  c->ctx = ctx;
  c->mode = mode;
  if (!(c->comp = tgis__malloc(ctx, (size_t)n * sizeof *c->comp)) ||
      !(parent = tgis__malloc(ctx, (size_t)n * sizeof *parent)))
    goto nomem;

  /* comp[] marks the nodes in the mode's network while parent[] links them. */
  for (uint32_t u = 0; u < n; u++) {
    parent[u] = u;
    c->comp[u] = TGIS_GRAPH_NONE;
  }
  for (uint32_t e = 0; e < g->n_edges; e++) {
    uint32_t a, b;
    if (tgis_graph_edge_kmh(g, e, mode) <= 0)
      continue;
    a = g->edge_from[e];
    b = g->edge_to[e];
    c->comp[a] = c->comp[b] = 0;
    a = find_root(parent, a);
    b = find_root(parent, b);
    /* The lower node becomes the root: roots are the first node of each
     * component, which keeps the numbering below independent of edge order. */
    if (a < b)
      parent[b] = a;
    else if (b < a)
      parent[a] = b;
  }

  /* Provisional ids in order of each component's first node: its root,
   * which find_root() reaches before any other member. */
  for (uint32_t u = 0; u < n; u++) {
    uint32_t r;
    if (c->comp[u] == TGIS_GRAPH_NONE) {
      c->n_outside++;
      continue;
    }
    r = find_root(parent, u);
    if (r == u)
      c->comp[u] = count++;
    else
      c->comp[u] = c->comp[r];
  }
  c->count = count;

  if (!(order = tgis__calloc(ctx, (size_t)count + 1, sizeof *order)) ||
      !(renum = tgis__malloc(ctx, ((size_t)count + 1) * sizeof *renum)) ||
      !(c->size = tgis__malloc(ctx, ((size_t)count + 1) * sizeof *c->size)))
    goto nomem;
  for (uint32_t k = 0; k < count; k++)
    order[k].first = k;
  for (uint32_t u = 0; u < n; u++)
    if (c->comp[u] != TGIS_GRAPH_NONE)
      order[c->comp[u]].size++;
  qsort(order, count, sizeof *order, by_size_desc);
  for (uint32_t k = 0; k < count; k++) {
    renum[order[k].first] = k;
    c->size[k] = order[k].size;
  }
  for (uint32_t u = 0; u < n; u++)
    if (c->comp[u] != TGIS_GRAPH_NONE)
      c->comp[u] = renum[c->comp[u]];

  *out = c;
  c = NULL;
  goto done;

nomem:
  st = tgis__fail(ctx, TGIS_ENOMEM, "out of memory finding the network's components");
done:
  tgis__free(ctx, parent);
  tgis__free(ctx, renum);
  tgis__free(ctx, order);
  tgis_graph_components_free(c);
  return st;
}
