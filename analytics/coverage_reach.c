/*
 * coverage_reach.c -- every parcel within the threshold of one point: the
 * catchment of a facility (E2SFCA) or of a candidate site (siting).
 *
 * Network: a single-source search bounded by the threshold, on arrays as
 * large as the graph but reset only where the search went (a walk
 * catchment touches a few thousand of the city's nodes), then the parcels
 * on the edges at the reached nodes, each costed exactly as the nearest-
 * facility pass costs it (tgis_snap_cost with the access walk). Parcels are
 * listed per edge and edges per end node, so a search reads only the edges
 * that hold parcels of interest.
 *
 * Radius: a uniform grid of the parcels' centroids, cells half the radius.
 */
#include <math.h>
#include <string.h>

#include "coverage_int.h"

typedef struct hitem {
  double cost;
  uint32_t node;
} hitem;

/* A parcel on an edge, with what its cost needs: the time along the edge
 * from each end (INFINITY where the mode may not leave that way) and the
 * walk to the door. Entries are grouped by edge. */
typedef struct entry {
  double ta, tb, acc;
  uint32_t parcel;
} entry;

struct cov_reach {
  cov_run *r;
  /* network */
  uint32_t *edge_start;                 /* CSR edge -> entries */
  entry *ent;
  uint32_t *node_start, *node_edges;    /* CSR node -> edges with entries */
  uint32_t *stamp, cur;                 /* edge seen in visit `cur` */
  double *cost;                         /* n_nodes, INFINITY outside the search */
  uint32_t *touched;
  size_t n_touched;
  hitem *heap;
  size_t n_heap, cap_heap;
  /* radius */
  double minx, miny, cell;
  uint32_t nx, ny;
  uint32_t *cell_start, *cell_parcels;
  double cx, cy;                        /* the last search's point */
  int have_point;
};

void cov__reach_free(cov_reach *rc)
{
  tgis_ctx *ctx;
  if (!rc)
    return;
  ctx = rc->r->ctx;
  tgis__free(ctx, rc->edge_start);
  tgis__free(ctx, rc->ent);
  tgis__free(ctx, rc->node_start);
  tgis__free(ctx, rc->node_edges);
  tgis__free(ctx, rc->stamp);
  tgis__free(ctx, rc->cost);
  tgis__free(ctx, rc->touched);
  tgis__free(ctx, rc->heap);
  tgis__free(ctx, rc->cell_start);
  tgis__free(ctx, rc->cell_parcels);
  tgis__free(ctx, rc);
}

static tgis_status build_network(cov_reach *rc, const uint8_t *include)
{
  cov_run *r = rc->r;
  const tgis_graph *g = r->g;
  tgis_ctx *ctx = r->ctx;

  if (!(rc->edge_start = tgis__calloc(ctx, (size_t)g->n_edges + 2, sizeof *rc->edge_start)) ||
      !(rc->node_start = tgis__calloc(ctx, (size_t)g->n_nodes + 2, sizeof *rc->node_start)) ||
      !(rc->stamp = tgis__calloc(ctx, (size_t)g->n_edges + 1, sizeof *rc->stamp)) ||
      !(rc->cost = tgis__malloc(ctx, ((size_t)g->n_nodes + 1) * sizeof *rc->cost)) ||
      !(rc->touched = tgis__malloc(ctx, ((size_t)g->n_nodes + 1) * sizeof *rc->touched)))
    return TGIS_ENOMEM;
  for (uint32_t v = 0; v < g->n_nodes; v++)
    rc->cost[v] = INFINITY;
  /* Parcels per edge: count, prefix sums, fill (counting sort). */
  for (size_t i = 0; i < r->n_parcels; i++)
    if (r->psnap[i].edge >= 0 && (!include || include[i]))
      rc->edge_start[r->psnap[i].edge + 1]++;
  for (uint32_t e = 0; e < g->n_edges; e++)
    rc->edge_start[e + 1] += rc->edge_start[e];
  if (!(rc->ent = tgis__malloc(ctx, ((size_t)rc->edge_start[g->n_edges] + 1) * sizeof *rc->ent)))
    return TGIS_ENOMEM;
  for (size_t i = 0; i < r->n_parcels; i++) {
    const tgis_snap *sn = &r->psnap[i];
    uint32_t e;
    entry *en;
    if (sn->edge < 0 || (include && !include[i]))
      continue;
    e = (uint32_t)sn->edge;
    en = &rc->ent[rc->edge_start[e]++];
    /* The arithmetic of tgis_snap_cost(), term by term. */
    en->parcel = (uint32_t)i;
    en->ta = tgis_graph_edge_allows(g, e, r->mode, 1)
             ? tgis_graph_edge_seconds(g, e, r->mode, sn->t * g->edge_len[e]) : INFINITY;
    en->tb = tgis_graph_edge_allows(g, e, r->mode, 0)
             ? tgis_graph_edge_seconds(g, e, r->mode, (1.0 - sn->t) * g->edge_len[e]) : INFINITY;
    en->acc = tgis_graph_walk_seconds(g, sn->dist);
  }
  /* The fill advanced each start to the next edge's: shift back. */
  memmove(rc->edge_start + 1, rc->edge_start, (size_t)g->n_edges * sizeof *rc->edge_start);
  rc->edge_start[0] = 0;

  /* Edges with parcels per end node (both ends; a loop once). */
  for (uint32_t e = 0; e < g->n_edges; e++) {
    if (rc->edge_start[e + 1] == rc->edge_start[e])
      continue;
    rc->node_start[g->edge_from[e] + 1]++;
    if (g->edge_to[e] != g->edge_from[e])
      rc->node_start[g->edge_to[e] + 1]++;
  }
  for (uint32_t v = 0; v < g->n_nodes; v++)
    rc->node_start[v + 1] += rc->node_start[v];
  if (!(rc->node_edges = tgis__malloc(ctx, ((size_t)rc->node_start[g->n_nodes] + 1) *
                                                sizeof *rc->node_edges)))
    return TGIS_ENOMEM;
  for (uint32_t e = 0; e < g->n_edges; e++) {
    if (rc->edge_start[e + 1] == rc->edge_start[e])
      continue;
    rc->node_edges[rc->node_start[g->edge_from[e]]++] = e;
    if (g->edge_to[e] != g->edge_from[e])
      rc->node_edges[rc->node_start[g->edge_to[e]]++] = e;
  }
  memmove(rc->node_start + 1, rc->node_start, (size_t)g->n_nodes * sizeof *rc->node_start);
  rc->node_start[0] = 0;
  return TGIS_OK;
}

static tgis_status build_grid(cov_reach *rc, const uint8_t *include)
{
  cov_run *r = rc->r;
  tgis_ctx *ctx = r->ctx;
  double maxx = -INFINITY, maxy = -INFINITY, w, h, cells, limit;
  size_t n = 0, n_cells;

  rc->minx = rc->miny = INFINITY;
  for (size_t i = 0; i < r->n_parcels; i++) {
    double x = r->pxy[2 * i], y = r->pxy[2 * i + 1];
    if (!isfinite(x) || !isfinite(y) || (include && !include[i]))
      continue;
    rc->minx = x < rc->minx ? x : rc->minx;
    rc->miny = y < rc->miny ? y : rc->miny;
    maxx = x > maxx ? x : maxx;
    maxy = y > maxy ? y : maxy;
    n++;
  }
  if (n == 0) {
    rc->minx = rc->miny = 0;
    maxx = maxy = 0;
  }
  w = maxx - rc->minx;
  h = maxy - rc->miny;
  rc->cell = r->limit > 0 ? r->limit / 2 : 1.0;
  limit = 4.0 * (double)n + 4096.0;
  for (;;) {
    cells = (floor(w / rc->cell) + 1) * (floor(h / rc->cell) + 1);
    if (cells <= limit)
      break;
    rc->cell *= sqrt(cells / limit) * 1.01;
  }
  rc->nx = (uint32_t)(floor(w / rc->cell) + 1);
  rc->ny = (uint32_t)(floor(h / rc->cell) + 1);
  n_cells = (size_t)rc->nx * rc->ny;
  if (!(rc->cell_start = tgis__calloc(ctx, n_cells + 2, sizeof *rc->cell_start)) ||
      !(rc->cell_parcels = tgis__malloc(ctx, (n + 1) * sizeof *rc->cell_parcels)))
    return TGIS_ENOMEM;
  for (int pass = 0; pass < 2; pass++) {
    for (size_t i = 0; i < r->n_parcels; i++) {
      double x = r->pxy[2 * i], y = r->pxy[2 * i + 1];
      size_t c;
      if (!isfinite(x) || !isfinite(y) || (include && !include[i]))
        continue;
      c = (size_t)((y - rc->miny) / rc->cell) * rc->nx + (size_t)((x - rc->minx) / rc->cell);
      if (pass == 0)
        rc->cell_start[c + 1]++;
      else
        rc->cell_parcels[rc->cell_start[c]++] = (uint32_t)i;
    }
    if (pass == 0) {
      for (size_t c = 0; c < n_cells; c++)
        rc->cell_start[c + 1] += rc->cell_start[c];
    } else {
      memmove(rc->cell_start + 1, rc->cell_start, n_cells * sizeof *rc->cell_start);
      rc->cell_start[0] = 0;
    }
  }
  return TGIS_OK;
}

tgis_status cov__reach_new(cov_reach **out, cov_run *r, const uint8_t *include)
{
  cov_reach *rc;
  tgis_status st;

  *out = NULL;
  if (!(rc = tgis__calloc(r->ctx, 1, sizeof *rc)))
    return tgis__fail(r->ctx, TGIS_ENOMEM, "out of memory preparing catchment searches");
  rc->r = r;
  st = r->o.method == TGIS_COVERAGE_NETWORK ? build_network(rc, include)
                                            : build_grid(rc, include);
  if (st != TGIS_OK) {
    cov__reach_free(rc);
    return tgis__fail(r->ctx, TGIS_ENOMEM, "out of memory preparing catchment searches");
  }
  *out = rc;
  return TGIS_OK;
}

/* ---- the bounded search ------------------------------------------------------- */

static int heap_push(cov_reach *rc, double cost, uint32_t node)
{
  size_t i;
  if (rc->n_heap == rc->cap_heap) {
    size_t cap = rc->cap_heap ? 2 * rc->cap_heap : 1024;
    hitem *h = tgis__realloc(rc->r->ctx, rc->heap, cap * sizeof *h);
    if (!h)
      return -1;
    rc->heap = h;
    rc->cap_heap = cap;
  }
  i = rc->n_heap++;
  while (i > 0) {
    size_t p = (i - 1) / 2;
    if (rc->heap[p].cost <= cost)
      break;
    rc->heap[i] = rc->heap[p];
    i = p;
  }
  rc->heap[i].cost = cost;
  rc->heap[i].node = node;
  return 0;
}

static hitem heap_pop(cov_reach *rc)
{
  hitem top = rc->heap[0], last = rc->heap[--rc->n_heap];
  size_t i = 0, n = rc->n_heap;
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= n)
      break;
    if (c + 1 < n && rc->heap[c + 1].cost < rc->heap[c].cost)
      c++;
    if (!(rc->heap[c].cost < last.cost))
      break;
    rc->heap[i] = rc->heap[c];
    i = c;
  }
  if (n)
    rc->heap[i] = last;
  return top;
}

/* Lower node v's cost to c if that improves it. */
static int relax(cov_reach *rc, uint32_t v, double c)
{
  if (!(c < rc->cost[v]))
    return 0;
  if (rc->cost[v] == INFINITY)
    rc->touched[rc->n_touched++] = v;
  rc->cost[v] = c;
  return heap_push(rc, c, v);
}

/* Forget the last search: its nodes back to INFINITY. */
static void reset(cov_reach *rc)
{
  for (size_t t = 0; t < rc->n_touched; t++)
    rc->cost[rc->touched[t]] = INFINITY;
  rc->n_touched = 0;
  rc->n_heap = 0;
  rc->have_point = 0;
}

static tgis_status search_network(cov_reach *rc, const tgis_snap *snap)
{
  cov_run *r = rc->r;
  const tgis_graph *g = r->g;
  const tgis_graph_csr *csr = &g->csr[r->mode];
  tgis_graph_source src[2];
  size_t k = tgis_snap_sources(src, g, r->mode, snap, 0, TGIS_SNAP_ADD_ACCESS);

  for (size_t i = 0; i < k; i++)
    if (src[i].cost <= r->limit && relax(rc, src[i].node, src[i].cost))
      goto nomem;
  while (rc->n_heap) {
    hitem it = heap_pop(rc);
    uint32_t u = it.node;
    if (it.cost != rc->cost[u])
      continue;
    for (uint32_t a = csr->offsets[u], end = csr->offsets[u + 1]; a < end; a++) {
      double c = it.cost + csr->weights[a];
      if (c <= r->limit && relax(rc, csr->targets[a], c))
        goto nomem;
    }
  }
  return TGIS_OK;
nomem:
  reset(rc);
  return tgis__fail(r->ctx, TGIS_ENOMEM, "out of memory in a catchment search");
}

/* The entries of edge e, costed from its ends' times ca and cb. */
static inline void each_entry(const cov_reach *rc, uint32_t e, double ca, double cb,
                              double limit, cov_visit_fn fn, void *payload)
{
  for (uint32_t j = rc->edge_start[e]; j < rc->edge_start[e + 1]; j++) {
    const entry *en = &rc->ent[j];
    double c = ca + en->ta, c2 = cb + en->tb;
    if (c2 < c)
      c = c2;
    c += en->acc;
    if (c <= limit)
      fn(en->parcel, j, c, payload);
  }
}

static void each_network(cov_reach *rc, cov_visit_fn fn, void *payload)
{
  const tgis_graph *g = rc->r->g;
  double limit = rc->r->limit;

  if (rc->n_touched > g->n_nodes / 8) {
    /* A catchment of much of the city (driving): run through every edge
     * in order, so the entries and the caller's slot arrays stream. */
    for (uint32_t e = 0; e < g->n_edges; e++) {
      double ca, cb;
      if (rc->edge_start[e + 1] == rc->edge_start[e])
        continue;
      ca = rc->cost[g->edge_from[e]];
      cb = rc->cost[g->edge_to[e]];
      if (ca != INFINITY || cb != INFINITY)
        each_entry(rc, e, ca, cb, limit, fn, payload);
    }
    return;
  }
  if (++rc->cur == 0) {  /* the stamps wrapped: start again */
    memset(rc->stamp, 0, (size_t)g->n_edges * sizeof *rc->stamp);
    rc->cur = 1;
  }
  for (size_t t = 0; t < rc->n_touched; t++) {
    uint32_t u = rc->touched[t];
    for (uint32_t q = rc->node_start[u]; q < rc->node_start[u + 1]; q++) {
      uint32_t e = rc->node_edges[q];
      double ca, cb;
      if (rc->stamp[e] == rc->cur)
        continue;
      rc->stamp[e] = rc->cur;
      ca = rc->cost[g->edge_from[e]];
      cb = rc->cost[g->edge_to[e]];
      each_entry(rc, e, ca, cb, limit, fn, payload);
    }
  }
}

static void each_radius(const cov_reach *rc, cov_visit_fn fn, void *payload)
{
  cov_run *r = rc->r;
  double x = rc->cx, y = rc->cy, lim = r->limit, lim2 = lim * lim;
  int64_t i0, i1, j0, j1;

  if (!rc->have_point)
    return;
  i0 = (int64_t)floor((x - lim - rc->minx) / rc->cell);
  i1 = (int64_t)floor((x + lim - rc->minx) / rc->cell);
  j0 = (int64_t)floor((y - lim - rc->miny) / rc->cell);
  j1 = (int64_t)floor((y + lim - rc->miny) / rc->cell);
  if (i0 < 0) i0 = 0;
  if (j0 < 0) j0 = 0;
  if (i1 >= rc->nx) i1 = (int64_t)rc->nx - 1;
  if (j1 >= rc->ny) j1 = (int64_t)rc->ny - 1;
  for (int64_t j = j0; j <= j1; j++) {
    for (int64_t i = i0; i <= i1; i++) {
      size_t c = (size_t)j * rc->nx + (size_t)i;
      for (uint32_t k = rc->cell_start[c]; k < rc->cell_start[c + 1]; k++) {
        uint32_t p = rc->cell_parcels[k];
        double dx = r->pxy[2 * p] - x, dy = r->pxy[2 * p + 1] - y, d2 = dx * dx + dy * dy;
        if (d2 <= lim2) {
          double d = sqrt(d2);
          if (d <= lim)
            fn(p, k, d, payload);
        }
      }
    }
  }
}

tgis_status cov__reach_search(cov_reach *rc, const tgis_snap *snap, double x, double y)
{
  reset(rc);
  if (rc->r->o.method == TGIS_COVERAGE_NETWORK)
    return snap && snap->edge >= 0 ? search_network(rc, snap) : TGIS_OK;
  rc->cx = x;
  rc->cy = y;
  rc->have_point = isfinite(x) && isfinite(y);
  return TGIS_OK;
}

void cov__reach_each(cov_reach *rc, cov_visit_fn fn, void *payload)
{
  if (rc->r->o.method == TGIS_COVERAGE_NETWORK)
    each_network(rc, fn, payload);
  else
    each_radius(rc, fn, payload);
}

size_t cov__reach_slots(const cov_reach *rc)
{
  if (rc->r->o.method == TGIS_COVERAGE_NETWORK)
    return rc->edge_start[rc->r->g->n_edges];
  return rc->cell_start[(size_t)rc->nx * rc->ny];
}

uint32_t cov__reach_slot_parcel(const cov_reach *rc, uint32_t slot)
{
  return rc->r->o.method == TGIS_COVERAGE_NETWORK ? rc->ent[slot].parcel
                                                  : rc->cell_parcels[slot];
}

tgis_status cov__reach_visit(cov_reach *rc, const tgis_snap *snap, double x, double y,
                             cov_visit_fn fn, void *payload)
{
  tgis_status st = cov__reach_search(rc, snap, x, y);
  if (st == TGIS_OK)
    cov__reach_each(rc, fn, payload);
  return st;
}
