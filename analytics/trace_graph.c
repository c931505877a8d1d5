/*
 * trace_graph.c -- tying line ends to nodes, and the adjacency.
 *
 * A line names its end nodes by reference. Where a reference is missing
 * (null in the source, or naming no node of this network), the end is tied
 * by geometry: to the nearest node feature within the join tolerance of
 * the line's first (from) or last (to) vertex. Ends that find no node are
 * grouped -- ends within the tolerance of each other, transitively -- and
 * each group becomes an implicit junction, so lines digitised end to end
 * without a node still connect; a lone end becomes a dangling implicit
 * node. Only end points join: a line end touching another line's middle
 * is not a connection (docs/trace.md).
 *
 * The adjacency is CSR over nodes: for node u, the lines incident to it in
 * line order, a self-loop line listed twice.
 */
#include <math.h>
#include <string.h>

#include "trace.h"

/* Line ends beyond this are "no geometry" (trace_load.c). */
#define NO_XY 1e299

typedef struct nearest {
  const tgis_trace_net *g;
  double x, y, tol2, best_d2;
  uint32_t best;
} nearest;

static int on_node(uint32_t u, void *payload)
{
  nearest *q = payload;
  double dx = q->g->node_xy[2 * u] - q->x, dy = q->g->node_xy[2 * u + 1] - q->y;
  double d2 = dx * dx + dy * dy;
  if (d2 <= q->tol2 && (d2 < q->best_d2 || (d2 == q->best_d2 && u < q->best))) {
    q->best_d2 = d2;
    q->best = u;
  }
  return 0;
}

/* Union-find over unmatched ends, with path halving. */
static uint32_t find(uint32_t *parent, uint32_t k)
{
  while (parent[k] != k) {
    parent[k] = parent[parent[k]];
    k = parent[k];
  }
  return k;
}

typedef struct grouping {
  const double *xy;
  uint32_t *parent;
  uint32_t self;
  double tol2;
} grouping;

static int on_end(uint32_t k, void *payload)
{
  grouping *q = payload;
  double dx = q->xy[2 * k] - q->xy[2 * q->self], dy = q->xy[2 * k + 1] - q->xy[2 * q->self + 1];
  if (k != q->self && dx * dx + dy * dy <= q->tol2) {
    uint32_t a = find(q->parent, k), b = find(q->parent, q->self);
    /* The lower index is the root: the junction sits at the first end. */
    if (a < b)
      q->parent[b] = a;
    else if (b < a)
      q->parent[a] = b;
  }
  return 0;
}

/* Ends no node claims: group them into implicit junctions. */
static tgis_status group_ends(tgis_trace_net *g, const uint32_t *ends, uint32_t m, double tol)
{
  tgis_ctx *ctx = g->ctx;
  double *xy = tgis__malloc(ctx, 2 * (size_t)(m ? m : 1) * sizeof *xy);
  uint32_t *parent = tgis__malloc(ctx, (size_t)(m ? m : 1) * sizeof *parent);
  uint32_t *made = tgis__malloc(ctx, (size_t)(m ? m : 1) * sizeof *made);
  tgis_trace_grid gr;
  tgis_status st = TGIS_OK;
  grouping q;

  memset(&gr, 0, sizeof gr);
  if (!xy || !parent || !made) {
    st = tgis__fail(ctx, TGIS_ENOMEM, "out of memory joining line ends");
    goto done;
  }
  for (uint32_t k = 0; k < m; k++) {
    uint32_t l = ends[k] >> 1, e = ends[k] & 1;
    xy[2 * k] = g->line_xy[4 * l + 2 * e];
    xy[2 * k + 1] = g->line_xy[4 * l + 2 * e + 1];
    parent[k] = k;
    made[k] = TGIS_TRACE__NONE;
  }
  if ((st = tgis_trace__grid_build(&gr, ctx, xy, NULL, m, tol)) != TGIS_OK)
    goto done;
  q.xy = xy;
  q.parent = parent;
  q.tol2 = tol * tol;
  for (uint32_t k = 0; k < m; k++) {
    if (fabs(xy[2 * k]) > NO_XY)
      continue;
    q.self = k;
    tgis_trace__grid_query(&gr, xy[2 * k] - tol, xy[2 * k + 1] - tol, xy[2 * k] + tol,
                           xy[2 * k + 1] + tol, on_end, &q);
  }
  /* Roots first: parent[] becomes each end's root, made[] counts a group. */
  for (uint32_t k = 0; k < m; k++) {
    parent[k] = fabs(xy[2 * k]) > NO_XY ? k : find(parent, k);
    made[k] = 0;
  }
  for (uint32_t k = 0; k < m; k++)
    made[parent[k]]++;
  for (uint32_t k = 0; k < m; k++)
    g->n_joined += made[parent[k]] > 1;   /* meets another line's end */
  for (uint32_t k = 0; k < m; k++)
    if (parent[k] == k)
      made[k] = TGIS_TRACE__NONE;
  /* One implicit junction per group, at its first end (roots come first). */
  for (uint32_t k = 0; k < m; k++) {
    uint32_t r = parent[k], l = ends[k] >> 1, e = ends[k] & 1, u;
    if (made[r] == TGIS_TRACE__NONE) {
      u = g->n_nodes;
      if (tgis_trace__grow_nodes(g, u + 1)) {
        st = tgis__fail(ctx, TGIS_ENOMEM, "out of memory joining line ends");
        goto done;
      }
      g->node_row[u] = 0;
      g->node_name[u] = TGIS_TRACE__NONE;
      g->node_kind[u] = TGIS_TK_IMPLICIT;
      g->node_xy[2 * u] = xy[2 * r];
      g->node_xy[2 * u + 1] = xy[2 * r + 1];
      g->n_nodes++;
      g->n_implicit++;
      made[r] = u;
    }
    g->line_end[e][l] = made[r];
  }
done:
  tgis_trace__grid_free(&gr);
  tgis__free(ctx, xy);
  tgis__free(ctx, parent);
  tgis__free(ctx, made);
  return st;
}

static tgis_status tie_ends(tgis_trace_net *g, double tol)
{
  tgis_ctx *ctx = g->ctx;
  uint32_t *ends, m = 0, left = 0;
  tgis_trace_grid gr;
  tgis_status st;

  for (uint32_t l = 0; l < g->n_lines; l++)
    m += (g->line_end[0][l] == TGIS_TRACE__NONE) + (g->line_end[1][l] == TGIS_TRACE__NONE);
  if (m == 0)
    return TGIS_OK;
  if (!(ends = tgis__malloc(ctx, (size_t)m * sizeof *ends)))
    return tgis__fail(ctx, TGIS_ENOMEM, "out of memory joining line ends");
  if ((st = tgis_trace__grid_build(&gr, ctx, g->node_xy, NULL, g->n_features, tol)) !=
      TGIS_OK) {
    tgis__free(ctx, ends);
    return st;
  }
  for (uint32_t l = 0; l < g->n_lines; l++) {
    for (uint32_t e = 0; e < 2; e++) {
      nearest q;
      if (g->line_end[e][l] != TGIS_TRACE__NONE)
        continue;
      q.g = g;
      q.x = g->line_xy[4 * l + 2 * e];
      q.y = g->line_xy[4 * l + 2 * e + 1];
      q.tol2 = tol * tol;
      q.best_d2 = HUGE_VAL;
      q.best = TGIS_TRACE__NONE;
      if (fabs(q.x) <= NO_XY)
        tgis_trace__grid_query(&gr, q.x - tol, q.y - tol, q.x + tol, q.y + tol, on_node, &q);
      if (q.best != TGIS_TRACE__NONE) {
        g->line_end[e][l] = q.best;
        g->n_joined++;
      } else {
        ends[left++] = 2 * l + e;
      }
    }
  }
  tgis_trace__grid_free(&gr);
  st = left ? group_ends(g, ends, left, tol) : TGIS_OK;
  tgis__free(ctx, ends);
  return st;
}

static tgis_status adjacency(tgis_trace_net *g)
{
  tgis_ctx *ctx = g->ctx;
  uint32_t *off, *adj, *fill;

  off = tgis__calloc(ctx, (size_t)g->n_nodes + 1, sizeof *off);
  adj = tgis__malloc(ctx, (2 * (size_t)g->n_lines + 1) * sizeof *adj);
  fill = tgis__malloc(ctx, ((size_t)g->n_nodes + 1) * sizeof *fill);
  if (!off || !adj || !fill) {
    tgis__free(ctx, off);
    tgis__free(ctx, adj);
    tgis__free(ctx, fill);
    return tgis__fail(ctx, TGIS_ENOMEM, "out of memory building the adjacency");
  }
  for (uint32_t l = 0; l < g->n_lines; l++) {
    off[g->line_end[0][l] + 1]++;
    off[g->line_end[1][l] + 1]++;
  }
  for (uint32_t u = 0; u < g->n_nodes; u++)
    off[u + 1] += off[u];
  memcpy(fill, off, ((size_t)g->n_nodes + 1) * sizeof *fill);
  for (uint32_t l = 0; l < g->n_lines; l++) {
    adj[fill[g->line_end[0][l]]++] = l;
    adj[fill[g->line_end[1][l]]++] = l;
  }
  tgis__free(ctx, fill);
  g->adj_off = off;
  g->adj_line = adj;
  return TGIS_OK;
}

tgis_status tgis_trace__build(tgis_trace_net *g, double tol)
{
  tgis_status st;
  if ((st = tie_ends(g, tol)) != TGIS_OK)
    return st;
  return adjacency(g);
}
