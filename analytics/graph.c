/*
 * graph.c -- building the road graph: noding, edges and the CSR adjacency.
 *
 * Noding finds the vertices where roads meet. Every vertex is rounded to a
 * 1 cm grid (relative to the first vertex, so the keys fit in 32 bits) and
 * counted in an open-addressing hash table of the rounded coordinates,
 * sized from the vertex count; each slot remembers how many vertices fall on
 * it, whether one of them is a road's end, and whether they are on more
 * than one level. A second, small table counts vertices per level for the
 * rare coordinates where roads of different levels pass without an end
 * (a bridge over a street): only vertices of the same level meet there.
 *
 * Three passes over the vertices: (1) count them into the table, remembering
 * each vertex's slot; (2) decide which vertices are nodes and number the
 * nodes in input order; (3) walk each road from node to node to make the
 * edges, in a sequential sweep. The adjacency of each mode is then filled
 * with one counting pass and one filling pass.
 */
#include <assert.h>
#include <math.h>
#include <string.h>

#include "graph.h"

/* ---- the coordinate table ---------------------------------------------- */

#define INFO_END   0x80000000u  /* a road's first or last vertex is here */
#define INFO_MIXED 0x40000000u  /* vertices of more than one level are here */
#define INFO_NODE  0x20000000u  /* aux is now the node id (no longer a level) */
#define INFO_COUNT 0x1fffffffu  /* vertices here, saturating; 0 = empty slot */

typedef struct coord_slot {
  int32_t kx, ky;  /* rounded centimetres from the origin */
  uint32_t info;   /* INFO_* */
  int32_t aux;     /* level of the first vertex; then the node id */
} coord_slot;

/* Per-level counts at a mixed-level coordinate. count 0 = empty. */
typedef struct level_slot {
  uint32_t slot;   /* coord_slot index */
  int32_t level;
  uint32_t count;
  uint32_t node;   /* TGIS_GRAPH_NONE until numbered */
} level_slot;

typedef struct noder {
  tgis_ctx *ctx;
  coord_slot *tab;
  uint32_t cap;
  level_slot *lv;
  uint32_t lv_cap, lv_used;  /* lv_cap a power of two, or 0 */
} noder;

static inline uint64_t mix64(uint64_t h)
{
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

/* The slot where (kx, ky) is or would go. The table is never full (its
 * capacity exceeds the vertex count), so the probe ends. */
static inline uint32_t coord_find(const noder *nd, int32_t kx, int32_t ky)
{
  uint64_t h = mix64(((uint64_t)(uint32_t)kx << 32) | (uint32_t)ky);
  /* Multiply-shift range reduction: the capacity need not be a power of 2. */
  uint32_t i = (uint32_t)(((h & 0xffffffffu) * (uint64_t)nd->cap) >> 32);
  for (;;) {
    const coord_slot *s = &nd->tab[i];
    if (s->info == 0 || (s->kx == kx && s->ky == ky))
      return i;
    if (++i == nd->cap)
      i = 0;
  }
}

static level_slot *level_find(const noder *nd, uint32_t slot, int32_t level)
{
  uint32_t mask = nd->lv_cap - 1;
  uint32_t i = (uint32_t)mix64(((uint64_t)slot << 32) | (uint32_t)level) & mask;
  for (;;) {
    level_slot *s = &nd->lv[i];
    if (s->count == 0 || (s->slot == slot && s->level == level))
      return s;
    i = (i + 1) & mask;
  }
}

/* Add `count` vertices of `level` at coordinate slot `slot`. */
static tgis_status level_add(noder *nd, uint32_t slot, int32_t level,
                             uint32_t count)
{
  level_slot *s;
  if ((nd->lv_used + 1) * 2 > nd->lv_cap) {
    uint32_t ncap = nd->lv_cap ? nd->lv_cap * 2 : 64;
    level_slot *old = nd->lv;
    uint32_t ocap = nd->lv_cap;
    level_slot *nt = tgis__calloc(nd->ctx, ncap, sizeof *nt);
    if (!nt)
      return TGIS_ENOMEM;
    nd->lv = nt;
    nd->lv_cap = ncap;
    for (uint32_t i = 0; i < ocap; i++)
      if (old[i].count)
        *level_find(nd, old[i].slot, old[i].level) = old[i];
    tgis__free(nd->ctx, old);
  }
  s = level_find(nd, slot, level);
  if (s->count == 0) {
    s->slot = slot;
    s->level = level;
    s->node = TGIS_GRAPH_NONE;
    nd->lv_used++;
  }
  s->count = (s->count > INFO_COUNT - count) ? INFO_COUNT : s->count + count;
  return TGIS_OK;
}

/* Round a coordinate to whole centimetres from the origin. Fails for NaN,
 * infinities and anything more than ~21,000 km from the origin. */
static inline int coord_key(int32_t *out, double v, int64_t origin)
{
  double s = v * 100.0;
  int64_t k;
  if (!(s > -9e15 && s < 9e15))
    return -1;
  /* Round half away from zero; truncating conversion is a single insn. */
  k = (int64_t)(s + (s >= 0 ? 0.5 : -0.5)) - origin;
  if (k < -(int64_t)INT32_MAX || k > (int64_t)INT32_MAX)
    return -2;
  *out = (int32_t)k;
  return 0;
}

/* ---- progress ----------------------------------------------------------- */

static tgis_status report(tgis_ctx *ctx, const tgis_graph_options *o,
                          const char *stage, double fraction)
{
  if (o->progress)
    o->progress(stage, fraction, o->progress_payload);
  if (o->cancel && *o->cancel)
    return tgis__fail(ctx, TGIS_ECANCELLED, "graph build cancelled during %s",
                      stage);
  return TGIS_OK;
}

#define TICK_VERTICES (1u << 18)

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

/* ---- the passes ---------------------------------------------------------- */

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

/* Pass 1: copy the coordinates, count them into the table, and note each
 * vertex's slot in vid[]. */
static tgis_status count_vertices(noder *nd, tgis_graph *g, uint32_t *vid,
                                  const tgis_road_in *roads,
                                  const tgis_graph_options *o)
{
  tgis_ctx *ctx = nd->ctx;
  int64_t ox = 0, oy = 0;
  uint32_t v = 0, next_tick = TICK_VERTICES;
  tgis_status st;

  if (g->n_roads) {
    double x0 = roads[0].xy[0] * 100.0, y0 = roads[0].xy[1] * 100.0;
    /* A bad first vertex is reported by the loop below. */
    if (x0 > -9e15 && x0 < 9e15 && y0 > -9e15 && y0 < 9e15) {
      ox = (int64_t)(x0 + (x0 >= 0 ? 0.5 : -0.5));
      oy = (int64_t)(y0 + (y0 >= 0 ? 0.5 : -0.5));
    }
  }
  for (uint32_t r = 0; r < g->n_roads; r++) {
    const tgis_road_in *rd = &roads[r];
    int32_t level = rd->level;
    if (v >= next_tick) {
      if ((st = report(ctx, o, "noding", 0.5 * v / g->n_points)) != TGIS_OK)
        return st;
      next_tick += TICK_VERTICES;
    }
    for (uint32_t i = 0; i < rd->n; i++, v++) {
      double x = rd->xy[2 * i], y = rd->xy[2 * i + 1];
      int32_t kx, ky;
      int bad = coord_key(&kx, x, ox);
      if (!bad)
        bad = coord_key(&ky, y, oy);
      if (bad == -1)
        return tgis__fail(ctx, TGIS_EINVAL,
                          "road %lld: vertex %u has a non-finite or huge coordinate",
                          (long long)rd->id, i);
      if (bad)
        return tgis__fail(ctx, TGIS_EINVAL,
                          "road %lld: vertex %u is over 20,000 km from the first "
                          "road's first vertex; coordinates must be metres in one "
                          "projected CRS", (long long)rd->id, i);
      g->geom_xy[2 * v] = x;
      g->geom_xy[2 * v + 1] = y;

      uint32_t s = coord_find(nd, kx, ky);
      coord_slot *cs = &nd->tab[s];
      uint32_t end = (i == 0 || i + 1 == rd->n) ? INFO_END : 0;
      if (cs->info == 0) {
        cs->kx = kx;
        cs->ky = ky;
        cs->info = 1 | end;
        cs->aux = level;
      } else {
        uint32_t c = cs->info & INFO_COUNT;
        if (c < INFO_COUNT)
          cs->info++;
        cs->info |= end;
        if (cs->info & INFO_MIXED) {
          if (level_add(nd, s, level, 1) != TGIS_OK)
            goto nomem;
        } else if (cs->aux != level) {
          /* Until now every vertex here was on the first one's level. */
          cs->info |= INFO_MIXED;
          if (level_add(nd, s, cs->aux, c) != TGIS_OK ||
              level_add(nd, s, level, 1) != TGIS_OK)
            goto nomem;
        }
      }
      vid[v] = s;
    }
  }
  return TGIS_OK;
nomem:
  return tgis__fail(ctx, TGIS_ENOMEM, "out of memory noding the roads");
}

/* Pass 2: replace each vertex's slot in vid[] by its node id, or
 * TGIS_GRAPH_NONE for a vertex that is only geometry; count the edges. */
static tgis_status number_nodes(noder *nd, tgis_graph *g, uint32_t *vid,
                                const tgis_road_in *roads,
                                const tgis_graph_options *o, uint32_t *n_edges)
{
  uint32_t v = 0, n_nodes = 0, edges = 0, next_tick = TICK_VERTICES;
  tgis_status st;
  for (uint32_t r = 0; r < g->n_roads; r++) {
    uint32_t n = roads[r].n, road_nodes = 0;
    if (v >= next_tick) {
      if ((st = report(nd->ctx, o, "noding", 0.5 + 0.5 * v / g->n_points)) != TGIS_OK)
        return st;
      next_tick += TICK_VERTICES;
    }
    for (uint32_t i = 0; i < n; i++, v++) {
      uint32_t s = vid[v];
      coord_slot *cs = &nd->tab[s];
      uint32_t info = cs->info, node = TGIS_GRAPH_NONE;
      if ((info & INFO_END) || (!(info & INFO_MIXED) && (info & INFO_COUNT) >= 2)) {
        /* A road ends here (everything here meets it), or all vertices
         * here are on one level. */
        if (!(info & INFO_NODE)) {
          cs->info = info | INFO_NODE;
          cs->aux = (int32_t)n_nodes++;
        }
        node = (uint32_t)cs->aux;
      } else if (info & INFO_MIXED) {
        level_slot *ls = level_find(nd, s, roads[r].level);
        if (ls->count >= 2) {
          if (ls->node == TGIS_GRAPH_NONE)
            ls->node = n_nodes++;
          node = ls->node;
        }
      }
      vid[v] = node;
      road_nodes += node != TGIS_GRAPH_NONE;
    }
    edges += road_nodes - 1;  /* both ends are nodes: road_nodes >= 2 */
  }
  g->n_nodes = n_nodes;
  *n_edges = edges;
  return TGIS_OK;
}

/* Pass 3: node coordinates, distances along the roads, and the edges. */
static tgis_status make_edges(tgis_graph *g, const uint32_t *vid,
                              const tgis_road_in *roads,
                              const tgis_graph_options *o)
{
  uint32_t v = 0, next_node = 0, e = 0, next_tick = TICK_VERTICES;
  double *xy = g->geom_xy, *m = g->geom_m;
  tgis_status st;
  for (uint32_t r = 0; r < g->n_roads; r++) {
    uint32_t n = roads[r].n, prev = v;
    if (v >= next_tick) {
      if ((st = report(g->ctx, o, "edges", (double)v / g->n_points)) != TGIS_OK)
        return st;
      next_tick += TICK_VERTICES;
    }
    for (uint32_t i = 0; i < n; i++, v++) {
      uint32_t node = vid[v];
      if (node != TGIS_GRAPH_NONE) {
        /* Nodes are numbered at their first vertex, in vertex order. */
        if (node == next_node) {
          g->node_xy[2 * node] = xy[2 * v];
          g->node_xy[2 * node + 1] = xy[2 * v + 1];
          next_node++;
        } else {
          xy[2 * v] = g->node_xy[2 * node];
          xy[2 * v + 1] = g->node_xy[2 * node + 1];
        }
      }
      if (i == 0) {
        m[v] = 0;
      } else {
        double dx = xy[2 * v] - xy[2 * v - 2], dy = xy[2 * v + 1] - xy[2 * v - 1];
        m[v] = m[v - 1] + sqrt(dx * dx + dy * dy);
      }
      if (node != TGIS_GRAPH_NONE && i > 0) {
        g->edge_from[e] = vid[prev];
        g->edge_to[e] = node;
        g->edge_len[e] = m[v] - m[prev];
        g->edge_road[e] = r;
        g->edge_geom_off[e] = prev;
        g->edge_geom_n[e] = v - prev + 1;
        e++;
        prev = v;
      }
    }
  }
  assert(e == g->n_edges && next_node == g->n_nodes);
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

#define ALLOC_ARRAY(p, n) \
  ((p) = tgis__malloc(ctx, (size_t)(n) * sizeof *(p))) == NULL

tgis_status tgis_graph_build(tgis_graph **out, tgis_ctx *ctx,
                             const tgis_road_in *roads, size_t n_roads,
                             const tgis_graph_options *opts)
{
  static const tgis_graph_options defaults = TGIS_GRAPH_OPTIONS_INIT;
  const tgis_graph_options *o = opts ? opts : &defaults;
  noder nd;
  tgis_graph *g = NULL;
  uint32_t *vid = NULL, n_points = 0, n_edges = 0;
  tgis_status st;

  assert(out && ctx && (roads || n_roads == 0));
  *out = NULL;
  memset(&nd, 0, sizeof nd);
  nd.ctx = ctx;
  tgis__clear_error(ctx);

  if (o->version != TGIS_GRAPH_OPTIONS_VERSION)
    return tgis__fail(ctx, TGIS_EINVAL, "graph options version %u, this library knows %d",
                      o->version, TGIS_GRAPH_OPTIONS_VERSION);
  if (!(o->walk_kmh > 0 && isfinite(o->walk_kmh)))
    return tgis__fail(ctx, TGIS_EINVAL, "walking speed %g km/h, must be positive",
                      o->walk_kmh);
  if ((st = check_roads(ctx, roads, n_roads, &n_points)) != TGIS_OK)
    return st;
  if ((st = report(ctx, o, "noding", 0.0)) != TGIS_OK)
    return st;

  if (!(g = tgis__calloc(ctx, 1, sizeof *g)))
    goto nomem;
  g->ctx = ctx;
  g->walk_kmh = o->walk_kmh;
  g->n_roads = (uint32_t)n_roads;
  g->n_points = n_points;
  if (ALLOC_ARRAY(g->road_id, n_roads) || ALLOC_ARRAY(g->road_oneway, n_roads) ||
      ALLOC_ARRAY(g->road_walkable, n_roads) || ALLOC_ARRAY(g->road_drive_kmh, n_roads) ||
      ALLOC_ARRAY(g->geom_xy, 2 * (size_t)n_points) || ALLOC_ARRAY(g->geom_m, n_points) ||
      ALLOC_ARRAY(vid, n_points))
    goto nomem;
  for (size_t r = 0; r < n_roads; r++) {
    g->road_id[r] = roads[r].id;
    g->road_oneway[r] = (int8_t)roads[r].oneway;
    g->road_walkable[r] = roads[r].walkable != 0;
    g->road_drive_kmh[r] = roads[r].drive_kmh;
  }

  /* Load at most 2/3: short probes, and always an empty slot. */
  nd.cap = n_points + n_points / 2 + 16;
  if (!(nd.tab = tgis__calloc(ctx, nd.cap, sizeof *nd.tab)))
    goto nomem;
  if ((st = count_vertices(&nd, g, vid, roads, o)) != TGIS_OK)
    goto done;
  if ((st = number_nodes(&nd, g, vid, roads, o, &n_edges)) != TGIS_OK)
    goto done;
  tgis__free(ctx, nd.tab);
  nd.tab = NULL;
  tgis__free(ctx, nd.lv);
  nd.lv = NULL;

  g->n_edges = n_edges;
  if (ALLOC_ARRAY(g->node_xy, 2 * (size_t)g->n_nodes) ||
      ALLOC_ARRAY(g->edge_from, n_edges) || ALLOC_ARRAY(g->edge_to, n_edges) ||
      ALLOC_ARRAY(g->edge_len, n_edges) || ALLOC_ARRAY(g->edge_road, n_edges) ||
      ALLOC_ARRAY(g->edge_geom_off, n_edges) || ALLOC_ARRAY(g->edge_geom_n, n_edges))
    goto nomem;
  if ((st = report(ctx, o, "edges", 0.0)) != TGIS_OK ||
      (st = make_edges(g, vid, roads, o)) != TGIS_OK)
    goto done;
  tgis__free(ctx, vid);
  vid = NULL;

  for (int m = 0; m < TGIS_MODE_COUNT; m++) {
    if ((st = report(ctx, o, "adjacency", (double)m / TGIS_MODE_COUNT)) != TGIS_OK)
      goto done;
    if ((st = build_csr(g, (tgis_mode)m)) != TGIS_OK) {
      if (st == TGIS_ENOMEM)
        goto nomem;
      goto done;
    }
  }
  if ((st = report(ctx, o, "adjacency", 1.0)) != TGIS_OK)
    goto done;
  *out = g;
  g = NULL;
  st = TGIS_OK;
  goto done;

nomem:
  st = tgis__fail(ctx, TGIS_ENOMEM, "out of memory building the road graph "
                  "(%zu roads, %u vertices)", n_roads, n_points);
done:
  tgis__free(ctx, nd.tab);
  tgis__free(ctx, nd.lv);
  tgis__free(ctx, vid);
  tgis_graph_free(g);
  return st;
}
