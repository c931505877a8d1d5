/*
 * utilities.c -- gas, power, water and heat networks: nodes and lines.
 *
 * Mains follow the streets on a coarser lattice (every 2nd line), each
 * network offset a few metres from the centreline so that no two overlap.
 * A network's topology is a spanning forest grown breadth-first from its
 * sources over that mains lattice (deterministic: sources in order,
 * neighbours east, north, west, south), plus a few loop-closing mains.
 * Every mains lattice point the forest reaches is a node, and every mains
 * line runs between two adjacent nodes, from the parent (upstream) to the
 * child. Each populated 2x2-block group gets a consumer node near its
 * centre, joined by a service line from the nearest mains node. Heat is
 * laid only in the centre, where the multifamily housing is.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen_int.h"

#define GEN_HEAT_RADIUS_M 4500.0
#define GEN_SOURCE_CANDIDATES 16
#define GEN_NEAREST_RINGS 8

enum gen_unode_kind {
  GEN_UK_SOURCE, GEN_UK_JUNCTION, GEN_UK_VALVE, GEN_UK_SWITCH,
  GEN_UK_SUBSTATION, GEN_UK_CONSUMER, GEN_UK_COUNT
};

static const char *const unode_kinds[GEN_UK_COUNT] = {
  "source", "junction", "valve", "switch", "substation", "consumer",
};

static const char *const net_names[GEN_NET_COUNT] = { "gas", "power", "water", "heat" };
static const double net_offset[GEN_NET_COUNT] = { 1.0, -1.0, 2.0, -2.0 };
static const char *const source_names[GEN_NET_COUNT] = {
  "Gaz taqsimlash stansiyasi", "Podstansiya 110/10 kV", "Suv inshooti",
  "Issiqlik markazi",
};
/* Mains diameters by depth band (near the source first); services. */
static const int main_diameter[GEN_NET_COUNT][3] = {
  { 500, 300, 150 }, { 0, 0, 0 }, { 800, 500, 250 }, { 600, 400, 200 },
};
static const int service_diameter[GEN_NET_COUNT] = { 32, 0, 50, 80 };

typedef struct net_build {
  gen_state *g;
  gen_network *net;
  int id;                   /* GEN_NET_* */
  int32_t *node_at;         /* per lattice point: node index or -1 */
  uint8_t *populated;       /* per 2x2 group */
  int gx0, gy0, ngx, ngy;   /* group index range */
} net_build;

static int in_region(const net_build *b, int i, int j)
{
  const gen_layout *lay = &b->g->lay;
  int gi = i - lay->imin, gj = j - lay->jmin;
  if (gi < 0 || gj < 0 || gi >= lay->nx || gj >= lay->ny)
    return 0;
  if (!(lay->flags[GEN_PT(lay, gi, gj)] & GEN_P_IN))
    return 0;
  if (b->id == GEN_NET_HEAT && hypot(i * lay->L, j * lay->L) > GEN_HEAT_RADIUS_M)
    return 0;
  return 1;
}

/* Is there a main from mains point (i, j) to (i + 2di, j + 2dj)? It follows
 * the two street edges between them. */
static int main_ok(const net_build *b, int i, int j, int di, int dj)
{
  return in_region(b, i, j) && in_region(b, i + 2 * di, j + 2 * dj) &&
         in_region(b, i + di, j + dj);
}

static double node_x(const gen_state *g, const gen_network *n, const gen_unode *u)
{
  return tgis_gen__x(&g->lay, u->gi) + n->offset;
}
static double node_y(const gen_state *g, const gen_network *n, const gen_unode *u)
{
  return tgis_gen__y(&g->lay, u->gj) + n->offset;
}

static int32_t *node_slot(const net_build *b, int i, int j)
{
  const gen_layout *lay = &b->g->lay;
  return &b->node_at[GEN_PT(lay, i - lay->imin, j - lay->jmin)];
}

static tgis_status grow_forest(net_build *b)
{
  gen_state *g = b->g;
  gen_network *net = b->net;
  const gen_layout *lay = &g->lay;
  static const int nb[4][2] = { { 1, 0 }, { 0, 1 }, { -1, 0 }, { 0, -1 } };
  size_t nmains = 0, want, head;
  int32_t *pts = NULL;
  gen_rng rng;

  /* Every mains point of the region, as candidates for sources. */
  for (int gj = 0; gj < lay->ny; gj++)
    for (int gi = 0; gi < lay->nx; gi++)
      if (tgis_gen__fmod(gi + lay->imin, 2) == 0 && tgis_gen__fmod(gj + lay->jmin, 2) == 0 &&
          in_region(b, gi + lay->imin, gj + lay->jmin))
        nmains++;
  net->nodes = tgis__calloc(g->ctx, nmains ? nmains : 1, sizeof *net->nodes);
  pts = tgis__malloc(g->ctx, (nmains ? nmains : 1) * 2 * sizeof *pts);
  if (!net->nodes || !pts) {
    tgis__free(g->ctx, pts);
    return tgis__fail(g->ctx, TGIS_ENOMEM, "%s network: out of memory", net->name);
  }
  nmains = 0;
  for (int gj = 0; gj < lay->ny; gj++)
    for (int gi = 0; gi < lay->nx; gi++)
      if (tgis_gen__fmod(gi + lay->imin, 2) == 0 && tgis_gen__fmod(gj + lay->jmin, 2) == 0 &&
          in_region(b, gi + lay->imin, gj + lay->jmin)) {
        pts[2 * nmains] = gi;
        pts[2 * nmains + 1] = gj;
        nmains++;
      }

  /* Sources, spread by best-candidate sampling. */
  want = (size_t)fmax(2.0, round(8.0 * sqrt(g->scale)));
  if (want > nmains)
    want = nmains;
  tgis_gen__rng_seed(&rng, g->seed ^ (uint64_t)b->id, GEN_S_UTIL);
  while (net->nnodes < want) {
    size_t best = SIZE_MAX;
    double best_d = -1.0;
    for (int c = 0; c < GEN_SOURCE_CANDIDATES; c++) {
      size_t k = (size_t)tgis_gen__rng_below(&rng, nmains);
      double dmin = HUGE_VAL;
      if (*node_slot(b, pts[2 * k] + lay->imin, pts[2 * k + 1] + lay->jmin) >= 0)
        continue;
      for (size_t s = 0; s < net->nnodes; s++) {
        double dx = (double)(net->nodes[s].gi - pts[2 * k]);
        double dy = (double)(net->nodes[s].gj - pts[2 * k + 1]);
        dmin = fmin(dmin, dx * dx + dy * dy);
      }
      if (dmin > best_d) {
        best_d = dmin;
        best = k;
      }
    }
    if (best == SIZE_MAX)
      continue;
    net->nodes[net->nnodes].gi = pts[2 * best];
    net->nodes[net->nnodes].gj = pts[2 * best + 1];
    net->nodes[net->nnodes].parent = -1;
    *node_slot(b, pts[2 * best] + lay->imin, pts[2 * best + 1] + lay->jmin) =
        (int32_t)net->nnodes;
    net->nnodes++;
  }
  net->nsources = net->nnodes;
  tgis__free(g->ctx, pts);

  /* Breadth-first from all sources at once: the node array is the queue. */
  for (head = 0; head < net->nnodes; head++) {
    const gen_unode *u = &net->nodes[head];
    int i = u->gi + lay->imin, j = u->gj + lay->jmin;
    for (int d = 0; d < 4; d++) {
      int32_t *slot;
      gen_unode *v;
      if (!main_ok(b, i, j, nb[d][0], nb[d][1]))
        continue;
      slot = node_slot(b, i + 2 * nb[d][0], j + 2 * nb[d][1]);
      if (*slot >= 0)
        continue;
      *slot = (int32_t)net->nnodes;
      v = &net->nodes[net->nnodes++];
      v->gi = u->gi + 2 * nb[d][0];
      v->gj = u->gj + 2 * nb[d][1];
      v->parent = (int32_t)head;
      v->depth = (uint16_t)(u->depth < UINT16_MAX ? u->depth + 1 : UINT16_MAX);
      u = &net->nodes[head];
    }
  }

  /* Node kinds: ~1/3 valves (power: switches), some substations. */
  for (size_t k = 0; k < net->nnodes; k++) {
    gen_unode *u = &net->nodes[k];
    uint64_t h = tgis_gen__hash(g->seed, GEN_S_UTIL_KIND, b->id * 1000003 + u->gi, u->gj);
    if (k < net->nsources)
      u->kind = GEN_UK_SOURCE;
    else if (b->id == GEN_NET_POWER && h % 10 == 0)
      u->kind = GEN_UK_SUBSTATION;
    else if ((h >> 8) % 3 == 0)
      u->kind = b->id == GEN_NET_POWER ? GEN_UK_SWITCH : GEN_UK_VALVE;
    else
      u->kind = GEN_UK_JUNCTION;
    if (u->kind == GEN_UK_SUBSTATION)
      net->nsubstations++;
    else if (u->kind == GEN_UK_VALVE || u->kind == GEN_UK_SWITCH)
      net->nvalves++;
  }
  return TGIS_OK;
}

/* A few mains between forest nodes that are not parent and child. */
static tgis_status close_loops(net_build *b)
{
  gen_state *g = b->g;
  gen_network *net = b->net;
  const gen_layout *lay = &g->lay;
  size_t want = (size_t)fmax(2.0, round(10.0 * sqrt(g->scale)));
  gen_rng rng;

  net->loops = tgis__calloc(g->ctx, want, sizeof *net->loops);
  if (!net->loops)
    return tgis__fail(g->ctx, TGIS_ENOMEM, "%s network: out of memory", net->name);
  if (net->nnodes < 2)
    return TGIS_OK;
  tgis_gen__rng_seed(&rng, g->seed ^ ((uint64_t)b->id << 32), GEN_S_UTIL);
  for (size_t t = 0; t < 2000 * want && net->nloops < want; t++) {
    int32_t a = (int32_t)tgis_gen__rng_below(&rng, net->nnodes), c;
    int d = (int)tgis_gen__rng_below(&rng, 2);
    const gen_unode *u = &net->nodes[a];
    int i = u->gi + lay->imin, j = u->gj + lay->jmin, dup = 0;
    if (!main_ok(b, i, j, d == 0, d == 1))
      continue;
    c = *node_slot(b, i + 2 * (d == 0), j + 2 * (d == 1));
    if (c < 0 || net->nodes[c].parent == a || u->parent == c)
      continue;
    for (size_t k = 0; k < net->nloops; k++)
      dup |= net->loops[k].a == a && net->loops[k].b == c;
    if (dup)
      continue;
    net->loops[net->nloops].a = a;
    net->loops[net->nloops].b = c;
    net->nloops++;
  }
  return TGIS_OK;
}

/* One consumer per populated 2x2-block group, off the nearest mains node. */
static tgis_status add_consumers(net_build *b)
{
  gen_state *g = b->g;
  gen_network *net = b->net;
  const gen_layout *lay = &g->lay;
  size_t cap = 0;

  for (int k = 0; k < b->ngx * b->ngy; k++)
    cap += b->populated[k] != 0;
  net->cons = tgis__calloc(g->ctx, cap ? cap : 1, sizeof *net->cons);
  if (!net->cons)
    return tgis__fail(g->ctx, TGIS_ENOMEM, "%s network: out of memory", net->name);
  for (int J = b->gy0; J < b->gy0 + b->ngy; J++) {
    for (int I = b->gx0; I < b->gx0 + b->ngx; I++) {
      double cx, cy, best_d = HUGE_VAL;
      int32_t best = -1;
      if (!b->populated[(J - b->gy0) * b->ngx + (I - b->gx0)])
        continue;
      if (b->id == GEN_NET_HEAT &&
          hypot((2 * I + 1) * lay->L, (2 * J + 1) * lay->L) > GEN_HEAT_RADIUS_M)
        continue;
      cx = lay->x0 + ((double)(2 * I + 1) + 0.3) * lay->L + net->offset;
      cy = lay->y0 + ((double)(2 * J + 1) + 0.3) * lay->L + net->offset;
      /* Square rings of mains points around the group; one ring past the
       * first hit, so the nearest is found. */
      for (int r = 0, stop = GEN_NEAREST_RINGS; r <= stop; r++) {
        for (int a = -r; a <= r + 1; a++) {
          for (int c = -r; c <= r + 1; c++) {
            int i = 2 * (I + a), j = 2 * (J + c);
            int gi = i - lay->imin, gj = j - lay->jmin;
            int32_t n;
            double dx, dy;
            if ((a > -r && a < r + 1 && c > -r && c < r + 1) ||
                gi < 0 || gj < 0 || gi >= lay->nx || gj >= lay->ny)
              continue;
            n = *node_slot(b, i, j);
            if (n < 0)
              continue;
            dx = node_x(g, net, &net->nodes[n]) - cx;
            dy = node_y(g, net, &net->nodes[n]) - cy;
            if (dx * dx + dy * dy < best_d) {
              best_d = dx * dx + dy * dy;
              best = n;
            }
          }
        }
        if (best >= 0 && stop > r + 1)
          stop = r + 1;
      }
      if (best < 0)
        continue;  /* no mains near: the group goes without */
      net->cons[net->ncons].x = cx;
      net->cons[net->ncons].y = cy;
      net->cons[net->ncons].node = best;
      net->ncons++;
    }
  }
  return TGIS_OK;
}

tgis_status tgis_gen__utilities_plan(gen_state *g)
{
  const gen_layout *lay = &g->lay;
  net_build b;
  size_t npts = (size_t)lay->nx * (size_t)lay->ny;
  tgis_status st = TGIS_OK;

  memset(&b, 0, sizeof b);
  b.g = g;
  b.gx0 = tgis_gen__fdiv(lay->imin, 2);
  b.gy0 = tgis_gen__fdiv(lay->jmin, 2);
  b.ngx = tgis_gen__fdiv(lay->imin + lay->nx - 1, 2) - b.gx0 + 1;
  b.ngy = tgis_gen__fdiv(lay->jmin + lay->ny - 1, 2) - b.gy0 + 1;
  b.node_at = tgis__malloc(g->ctx, npts * sizeof *b.node_at);
  b.populated = tgis__calloc(g->ctx, (size_t)b.ngx * (size_t)b.ngy, 1);
  if (!b.node_at || !b.populated) {
    st = tgis__fail(g->ctx, TGIS_ENOMEM, "utilities: out of memory");
    goto done;
  }
  /* Which 2x2 groups have residents. */
  for (int gj = 0; gj + 1 < lay->ny; gj++) {
    for (int gi = 0; gi + 1 < lay->nx; gi++) {
      int I = tgis_gen__fdiv(gi + lay->imin, 2), J = tgis_gen__fdiv(gj + lay->jmin, 2);
      uint8_t *pop = &b.populated[(J - b.gy0) * b.ngx + (I - b.gx0)];
      if (!*pop && tgis_gen__cell_residents(g, gi, gj) > 0)
        *pop = 1;
    }
  }
  for (int id = 0; id < GEN_NET_COUNT; id++) {
    gen_network *net = &g->net[id];
    tgis_gen__progress(&g->prog, "layout", 0.8 + 0.2 * id / GEN_NET_COUNT);
    memset(net, 0, sizeof *net);
    net->name = net_names[id];
    net->offset = net_offset[id] * fmin(fmax(0.04 * lay->L, 1.0), 3.0);
    b.net = net;
    b.id = id;
    for (size_t k = 0; k < npts; k++)
      b.node_at[k] = -1;
    if ((st = grow_forest(&b)) != TGIS_OK || (st = close_loops(&b)) != TGIS_OK ||
        (st = add_consumers(&b)) != TGIS_OK)
      goto done;
  }
done:
  tgis__free(g->ctx, b.node_at);
  tgis__free(g->ctx, b.populated);
  return st;
}

void tgis_gen__utilities_free(gen_state *g)
{
  for (int id = 0; id < GEN_NET_COUNT; id++) {
    gen_network *net = &g->net[id];
    tgis__free(g->ctx, net->nodes);
    tgis__free(g->ctx, net->cons);
    tgis__free(g->ctx, net->loops);
    net->nodes = NULL;
    net->cons = NULL;
    net->loops = NULL;
  }
}

/* ---- writing ------------------------------------------------------------ */

static tgis_status write_node(gen_state *g, int id, size_t k, int kind,
                              const char *name, double x, double y)
{
  OGRFeatureH f = tgis_gen__feature(&g->w, TGIS_LAYER_UTILITY_NODES);
  char ext[48];
  tgis_status st;
  tgis_gen__put_uint(tgis_gen__put_str(tgis_gen__put_str(ext, net_names[id]), "-n"), k + 1, 1);
  tgis_gen__set_str(f, GEN_F_N_EXT_ID, ext);
  tgis_gen__set_str(f, GEN_F_N_NETWORK, net_names[id]);
  tgis_gen__set_str(f, GEN_F_N_KIND, unode_kinds[kind]);
  tgis_gen__set_str(f, GEN_F_N_NAME, name);
  if ((st = tgis_gen__set_point(&g->w, f, x, y)) != TGIS_OK)
    return st;
  return tgis_gen__write(&g->w, TGIS_LAYER_UTILITY_NODES, 0, NULL);
}

static tgis_status write_nodes(gen_state *g, int id)
{
  gen_network *net = &g->net[id];
  size_t nsub = 0;
  char name[64];
  tgis_status st;

  for (size_t k = 0; k < net->nnodes; k++) {
    const gen_unode *u = &net->nodes[k];
    const char *nm = NULL;
    if (u->kind == GEN_UK_SOURCE) {
      snprintf(name, sizeof name, "%s No. %zu", source_names[id], k + 1);
      nm = name;
    } else if (u->kind == GEN_UK_SUBSTATION) {
      snprintf(name, sizeof name, "TP-%zu", ++nsub);
      nm = name;
    }
    if ((st = write_node(g, id, k, u->kind, nm, node_x(g, net, u), node_y(g, net, u))) !=
        TGIS_OK)
      return st;
  }
  for (size_t c = 0; c < net->ncons; c++)
    if ((st = write_node(g, id, net->nnodes + c, GEN_UK_CONSUMER, NULL,
                         net->cons[c].x, net->cons[c].y)) != TGIS_OK)
      return st;
  return TGIS_OK;
}

static tgis_status write_line(gen_state *g, int id, size_t number, size_t from,
                              size_t to, int service, int depth, const double xy[4])
{
  OGRFeatureH f = tgis_gen__feature(&g->w, TGIS_LAYER_UTILITY_LINES);
  char ext[48], fn[48], tn[48];
  int band = depth < 4 ? 0 : depth < 12 ? 1 : 2;
  tgis_status st;

  tgis_gen__put_uint(tgis_gen__put_str(tgis_gen__put_str(ext, net_names[id]), "-l"), number, 1);
  tgis_gen__put_uint(tgis_gen__put_str(tgis_gen__put_str(fn, net_names[id]), "-n"), from + 1, 1);
  tgis_gen__put_uint(tgis_gen__put_str(tgis_gen__put_str(tn, net_names[id]), "-n"), to + 1, 1);
  tgis_gen__set_str(f, GEN_F_L_EXT_ID, ext);
  tgis_gen__set_str(f, GEN_F_L_NETWORK, net_names[id]);
  tgis_gen__set_str(f, GEN_F_L_FROM, fn);
  tgis_gen__set_str(f, GEN_F_L_TO, tn);
  tgis_gen__set_str(f, GEN_F_L_KIND, service ? "service" : "main");
  if (id == GEN_NET_POWER)
    OGR_F_SetFieldDouble(f, GEN_F_L_VOLTAGE, service ? 0.4 : 10.0);
  else
    OGR_F_SetFieldInteger(f, GEN_F_L_DIAMETER,
                          service ? service_diameter[id] : main_diameter[id][band]);
  if ((st = tgis_gen__set_line(&g->w, f, xy, 2)) != TGIS_OK)
    return st;
  return tgis_gen__write(&g->w, TGIS_LAYER_UTILITY_LINES, 0, NULL);
}

static tgis_status write_lines(gen_state *g, int id)
{
  gen_network *net = &g->net[id];
  size_t number = 0;
  double xy[4];
  tgis_status st;

  for (size_t k = net->nsources; k < net->nnodes; k++) {
    const gen_unode *u = &net->nodes[k], *p = &net->nodes[u->parent];
    xy[0] = node_x(g, net, p);
    xy[1] = node_y(g, net, p);
    xy[2] = node_x(g, net, u);
    xy[3] = node_y(g, net, u);
    if ((st = write_line(g, id, ++number, (size_t)u->parent, k, 0, p->depth, xy)) != TGIS_OK)
      return st;
  }
  net->loop_line0 = (int64_t)number + 1;
  for (size_t k = 0; k < net->nloops; k++) {
    const gen_unode *a = &net->nodes[net->loops[k].a], *c = &net->nodes[net->loops[k].b];
    xy[0] = node_x(g, net, a);
    xy[1] = node_y(g, net, a);
    xy[2] = node_x(g, net, c);
    xy[3] = node_y(g, net, c);
    if ((st = write_line(g, id, ++number, (size_t)net->loops[k].a, (size_t)net->loops[k].b,
                         0, a->depth < c->depth ? a->depth : c->depth, xy)) != TGIS_OK)
      return st;
  }
  for (size_t c = 0; c < net->ncons; c++) {
    const gen_unode *u = &net->nodes[net->cons[c].node];
    xy[0] = node_x(g, net, u);
    xy[1] = node_y(g, net, u);
    xy[2] = net->cons[c].x;
    xy[3] = net->cons[c].y;
    if ((st = write_line(g, id, ++number, (size_t)net->cons[c].node, net->nnodes + c, 1,
                         0, xy)) != TGIS_OK)
      return st;
  }
  return TGIS_OK;
}

tgis_status tgis_gen__utilities_write(gen_state *g)
{
  tgis_status st;
  tgis_gen__progress(&g->prog, "utilities", 0.0);
  for (int id = 0; id < GEN_NET_COUNT; id++) {
    tgis_gen__progress(&g->prog, "utilities", 0.5 * id / GEN_NET_COUNT);
    if ((st = write_nodes(g, id)) != TGIS_OK)
      return st;
  }
  for (int id = 0; id < GEN_NET_COUNT; id++) {
    tgis_gen__progress(&g->prog, "utilities", 0.5 + 0.5 * id / GEN_NET_COUNT);
    if ((st = write_lines(g, id)) != TGIS_OK)
      return st;
  }
  tgis_gen__progress(&g->prog, "utilities", 1.0);
  return TGIS_OK;
}
