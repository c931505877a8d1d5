/*
 * trace_parcels.c -- which parcels the cut-off consumers serve.
 *
 * The rule (docs/trace.md): a parcel is served, in one network, by the
 * network's consumer node nearest to it -- distance from the node to the
 * parcel's polygon, 0 when the node lies inside -- if that node is within
 * the serving radius; ties go to the node of lower row id. A parcel with no
 * consumer within the radius is not on the network.
 *
 * Only parcels near a cut-off consumer can be served by one, so parcels are
 * read through the store's R-tree by windows: the cut-off consumers are
 * grouped into square tiles, and each tile's window is the box of its
 * consumers grown by the radius. A parcel read by two windows is decided
 * twice, the same way, and kept once. For each parcel the nearest consumer
 * among all of the network's consumers is found through a point grid of
 * cell = radius / 4, searching outwards (a quarter of the radius, then
 * four times that, up to the radius); the point-in-polygon and
 * point-to-segment tests run on the decoded polygon itself.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "trace.h"
#include "layers.h"

/* Tiles of cut-off consumers: one R-tree window each (parcels near a
 * tile's edge are read twice: bigger tiles, fewer of those). */
#define TILE_M 2000.0

static inline double dmin(double a, double b) { return a < b ? a : b; }
static inline double dmax(double a, double b) { return a > b ? a : b; }

/* Squared distance from p to segment ab. */
static double seg_d2(double px, double py, double ax, double ay, double bx, double by)
{
  double dx = bx - ax, dy = by - ay, t = 0, len2 = dx * dx + dy * dy, ex, ey;
  if (len2 > 0) {
    t = ((px - ax) * dx + (py - ay) * dy) / len2;
    t = t < 0 ? 0 : t > 1 ? 1 : t;
  }
  ex = ax + t * dx - px;
  ey = ay + t * dy - py;
  return ex * ex + ey * ey;
}

double tgis_trace__point_polygon_distance(const tgis_geombuf *poly, double x, double y)
{
  size_t ring = 0, pt = 0, n_polys = poly->n_polys ? poly->n_polys : 1;
  double best = HUGE_VAL;

  for (size_t p = 0; p < n_polys; p++) {
    size_t rings = poly->n_polys ? poly->polys[p] : poly->n_parts;
    int inside = 0;
    for (size_t r = 0; r < rings && ring < poly->n_parts; r++, ring++) {
      const double *xy = poly->xy + 2 * pt;
      size_t n = poly->parts[ring];
      for (size_t i = 0, j = n ? n - 1 : 0; i < n; j = i++) {
        double xi = xy[2 * i], yi = xy[2 * i + 1], xj = xy[2 * j], yj = xy[2 * j + 1];
        if ((yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi)
          inside = !inside;
        best = dmin(best, seg_d2(x, y, xj, yj, xi, yi));
      }
      pt += n;
    }
    if (inside)
      return 0;
  }
  return sqrt(best);
}

typedef struct pscan {
  const tgis_trace_net *g;
  const uint8_t *cut;
  double radius;
  tgis_trace_grid consumers;
  tgis_trace_hits *out;
  int f_cad, f_ext, f_res;
  /* the parcel being decided */
  const tgis_geombuf *geom;
  double minx, miny, maxx, maxy;
  double reach;          /* the search's current distance */
  double best_d;
  uint32_t best;
} pscan;

static int on_consumer(uint32_t u, void *payload)
{
  pscan *P = payload;
  const tgis_trace_net *g = P->g;
  double x = g->node_xy[2 * u], y = g->node_xy[2 * u + 1], d;
  /* Distance to the parcel's box: a bound from below. */
  double bx = dmax(dmax(P->minx - x, x - P->maxx), 0), by = dmax(dmax(P->miny - y, y - P->maxy), 0);
  if (bx * bx + by * by > P->reach * P->reach)
    return 0;
  d = tgis_trace__point_polygon_distance(P->geom, x, y);
  if (d <= P->radius &&
      (d < P->best_d || (d == P->best_d && g->node_row[u] < g->node_row[P->best]))) {
    P->best_d = d;
    P->best = u;
  }
  return 0;
}

static uint32_t add_text(tgis_trace_hits *h, const char *s)
{
  size_t len;
  uint32_t off;
  if (!s)
    return TGIS_TRACE__NONE;
  len = strlen(s) + 1;
  if (h->n_text + len > h->cap_text) {
    size_t cap = h->cap_text ? 2 * h->cap_text : 4096;
    char *p;
    while (cap < h->n_text + len)
      cap *= 2;
    if (cap > UINT32_MAX || !(p = tgis__realloc(h->ctx, h->text, cap)))
      return TGIS_TRACE__NONE - 1;
    h->text = p;
    h->cap_text = cap;
  }
  off = (uint32_t)h->n_text;
  memcpy(h->text + off, s, len);
  h->n_text += len;
  return off;
}

static tgis_status on_parcel(const tgis_feature *f, void *payload)
{
  pscan *P = payload;
  tgis_trace_hits *h = P->out;
  const tgis_geombuf *geo = f->geom;
  const tgis_value *v = f->values;
  tgis_trace_hit *hit;
  tgis_extent e;

  if (geo->n_points == 0)
    return TGIS_OK;
  e = tgis_geombuf_extent(geo);
  P->geom = geo;
  P->minx = e.minx;
  P->miny = e.miny;
  P->maxx = e.maxx;
  P->maxy = e.maxy;
  P->best_d = HUGE_VAL;
  P->best = TGIS_TRACE__NONE;
  /* Nearest first: a consumer outside the box grown by `reach` is farther
   * than `reach` from the parcel, so a hit within it is the nearest. */
  for (P->reach = dmin(P->consumers.cell, P->radius);; P->reach = dmin(4 * P->reach, P->radius)) {
    tgis_trace__grid_query(&P->consumers, e.minx - P->reach, e.miny - P->reach,
                           e.maxx + P->reach, e.maxy + P->reach, on_consumer, P);
    if (P->best_d <= P->reach || P->reach >= P->radius)
      break;
  }
  if (P->best == TGIS_TRACE__NONE || !P->cut[P->best])
    return TGIS_OK;
  if (h->n == h->cap) {
    size_t cap = h->cap ? 2 * h->cap : 256;
    tgis_trace_hit *p = tgis__realloc(h->ctx, h->hit, cap * sizeof *p);
    if (!p)
      return tgis__fail(h->ctx, TGIS_ENOMEM, "out of memory listing parcels");
    h->hit = p;
    h->cap = cap;
  }
  hit = &h->hit[h->n];
  hit->parcel_row = f->id;
  hit->consumer = P->best;
  hit->distance = P->best_d;
  hit->residents = v[P->f_res].is_null ? 0 : v[P->f_res].i;
  hit->cadastre = add_text(h, v[P->f_cad].is_null ? NULL : v[P->f_cad].s);
  hit->ext_id = add_text(h, v[P->f_ext].is_null ? NULL : v[P->f_ext].s);
  if (hit->cadastre == TGIS_TRACE__NONE - 1 || hit->ext_id == TGIS_TRACE__NONE - 1)
    return tgis__fail(h->ctx, TGIS_ENOMEM, "out of memory listing parcels");
  h->n++;
  return TGIS_OK;
}

static int cmp_hit(const void *a, const void *b)
{
  const tgis_trace_hit *x = a, *y = b;
  return x->parcel_row < y->parcel_row ? -1 : x->parcel_row > y->parcel_row;
}

tgis_status tgis_trace__parcels(tgis_trace_hits *out, const tgis_trace_net *g,
                                const uint8_t *cut, double radius)
{
  const tgis_layer_def *def = tgis_layer__def(TGIS_LAYER_PARCELS);
  tgis_ctx *ctx = g->ctx;
  tgis_trace_grid tiles;
  uint32_t *all = NULL, *cutc = NULL, n_all = 0, n_cut = 0;
  tgis_store *store;
  tgis_status st;
  pscan P;

  memset(out, 0, sizeof *out);
  memset(&tiles, 0, sizeof tiles);
  memset(&P, 0, sizeof P);
  out->ctx = ctx;
  if ((st = tgis__require_store(ctx, &store)) != TGIS_OK)
    return st;
  for (uint32_t u = 0; u < g->n_features; u++) {
    n_all += g->node_kind[u] == TGIS_TK_CONSUMER;
    n_cut += g->node_kind[u] == TGIS_TK_CONSUMER && cut[u];
  }
  if (n_cut == 0)
    return TGIS_OK;
  all = tgis__malloc(ctx, (size_t)n_all * sizeof *all);
  cutc = tgis__malloc(ctx, (size_t)n_cut * sizeof *cutc);
  if (!all || !cutc) {
    st = tgis__fail(ctx, TGIS_ENOMEM, "out of memory finding parcels");
    goto done;
  }
  n_all = n_cut = 0;
  for (uint32_t u = 0; u < g->n_features; u++) {
    if (g->node_kind[u] != TGIS_TK_CONSUMER)
      continue;
    all[n_all++] = u;
    if (cut[u])
      cutc[n_cut++] = u;
  }
  P.g = g;
  P.cut = cut;
  P.radius = radius;
  P.out = out;
  P.f_cad = tgis_layer__field(def, "cadastre");
  P.f_ext = tgis_layer__field(def, "ext_id");
  P.f_res = tgis_layer__field(def, "residents");
  if ((st = tgis_trace__grid_build(&P.consumers, ctx, g->node_xy, all, n_all,
                                   dmax(radius / 4, 1))) != TGIS_OK ||
      (st = tgis_trace__grid_build(&tiles, ctx, g->node_xy, cutc, n_cut,
                                   dmax(TILE_M, 8 * radius))) != TGIS_OK)
    goto done;
  /* One window per tile: the grid's entries run tile by tile. */
  for (uint32_t k = 0; k < tiles.n;) {
    tgis_extent w = { HUGE_VAL, HUGE_VAL, -HUGE_VAL, -HUGE_VAL };
    uint32_t j = k;
    for (; j < tiles.n && tiles.key[j] == tiles.key[k]; j++) {
      uint32_t u = tiles.item[j];
      w.minx = dmin(w.minx, g->node_xy[2 * u]);
      w.miny = dmin(w.miny, g->node_xy[2 * u + 1]);
      w.maxx = dmax(w.maxx, g->node_xy[2 * u]);
      w.maxy = dmax(w.maxy, g->node_xy[2 * u + 1]);
    }
    w.minx -= radius;
    w.miny -= radius;
    w.maxx += radius;
    w.maxy += radius;
    if ((st = store->vt->layer_scan(store, TGIS_LAYER_PARCELS, &w, on_parcel, &P)) != TGIS_OK)
      goto done;
    k = j;
  }
  /* Sort by parcel and keep one of each. */
  if (out->n) {
    qsort(out->hit, out->n, sizeof *out->hit, cmp_hit);
    size_t w = 1;
    for (size_t r = 1; r < out->n; r++)
      if (out->hit[r].parcel_row != out->hit[w - 1].parcel_row)
        out->hit[w++] = out->hit[r];
    out->n = w;
  }
done:
  tgis_trace__grid_free(&P.consumers);
  tgis_trace__grid_free(&tiles);
  tgis__free(ctx, all);
  tgis__free(ctx, cutc);
  return st;
}

void tgis_trace__hits_free(tgis_trace_hits *h)
{
  if (!h || !h->ctx)
    return;
  tgis__free(h->ctx, h->hit);
  tgis__free(h->ctx, h->text);
  memset(h, 0, sizeof *h);
}
