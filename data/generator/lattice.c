/*
 * lattice.c -- the street lattice and its blocks: where the city's roads
 * and parcels can go.
 *
 * The lattice is a square grid of spacing L centred on Amir Timur square.
 * A point is in the city if it lies inside one of the districts (slivers
 * between adjacent districts narrower than GEN_MERGE_GAP count as inside);
 * an edge between two such points is a street. On top come two octagonal
 * ring roads and four radial arterials made of 45-degree lattice diagonals:
 * a diagonal meets the grid's lines only at lattice points, so every
 * crossing is a shared vertex, and the ring octagons are sized so that
 * they meet the radials at lattice points too. A cell whose four corners
 * are in the city and that no diagonal crosses is a block; its centre
 * decides its district, and its land use comes from the distance to the
 * centre plus smooth noise.
 *
 * L is chosen here: the parcel count of a lattice is cheap to compute, so
 * L is refined until the count meets the target (1,050,000 x scale).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gen_int.h"

#define GEN_RING1_M 3000.0     /* inner ring road radius */
#define GEN_RING2_M 8000.0     /* outer ring road radius */
#define GEN_MERGE_GAP 25.0     /* metres of sliver between districts */
#define GEN_L_MIN 8.0
#define GEN_L_MAX 3000.0
#define GEN_DIAG_MARK 0xffu    /* buse value while building: diagonal cell */

const char *const tgis_gen__use_names[GEN_USE_COUNT] = {
  NULL, "residential", "multifamily", "commercial", "industrial", "public", "green",
};

typedef struct span {
  double x0, x1;
  int d;
} span;

static int cmp_span(const void *a, const void *b)
{
  const span *p = a, *q = b;
  if (p->x0 != q->x0)
    return (p->x0 > q->x0) - (p->x0 < q->x0);
  return (p->d > q->d) - (p->d < q->d);
}

/* Spans of the line at y inside each district, sorted by start. */
static size_t row_spans(const gen_city *c, double y, double *xs, size_t xcap,
                        span *sp)
{
  size_t ns = 0;
  for (int k = 0; k < GEN_NDIST; k++) {
    size_t n = tgis_gen__crossings(&c->d[k], y, xs, xcap);
    for (size_t i = 0; i + 1 < n; i += 2) {
      sp[ns].x0 = xs[i];
      sp[ns].x1 = xs[i + 1];
      sp[ns].d = k;
      ns++;
    }
  }
  qsort(sp, ns, sizeof *sp, cmp_span);
  return ns;
}

static uint32_t *pt(gen_layout *lay, int i, int j)
{
  int gi = i - lay->imin, gj = j - lay->jmin;
  if (gi < 0 || gj < 0 || gi >= lay->nx || gj >= lay->ny)
    return NULL;
  return &lay->flags[GEN_PT(lay, gi, gj)];
}

static int is_in(gen_layout *lay, int i, int j)
{
  uint32_t *p = pt(lay, i, j);
  return p && (*p & GEN_P_IN);
}

/* A diagonal road edge from (i, j) to (i+di, j+dj), if both ends are in
 * the city. `ring` is 0 for a radial, 1 or 2 for a ring. */
static void add_diag(gen_layout *lay, int i, int j, int di, int dj, int ring)
{
  uint32_t *a, *b;
  int up;
  if (!is_in(lay, i, j) || !is_in(lay, i + di, j + dj))
    return;
  if (di < 0) {  /* store at the western end */
    i += di;
    j += dj;
    dj = -dj;
  }
  a = pt(lay, i, j);
  b = pt(lay, i + 1, j + dj);
  up = dj > 0;
  *a |= up ? GEN_P_D1 : GEN_P_D2;
  if (ring)
    *a |= up ? GEN_P_D1RING : GEN_P_D2RING;
  if (ring == 2)
    *a |= up ? GEN_P_D1RING2 : GEN_P_D2RING2;
  *a |= GEN_P_ONDIAG;
  *b |= GEN_P_ONDIAG;
  /* The cell the edge crosses. */
  lay->buse[GEN_CELL(lay, i - lay->imin, (up ? j : j - 1) - lay->jmin)] = GEN_DIAG_MARK;
}

static void add_rings(gen_layout *lay)
{
  for (int r = 0; r < 2; r++) {
    double R = r ? GEN_RING2_M : GEN_RING1_M;
    int a = (int)lround(R / lay->L), b;
    uint32_t hf = GEN_P_HRING | (r ? GEN_P_HRING2 : 0);
    uint32_t vf = GEN_P_VRING | (r ? GEN_P_VRING2 : 0);
    if (a < 1)
      a = 1;
    if (r == 1 && a < lay->ring_a[0] + 2)
      a = lay->ring_a[0] + 2;
    /* A regular octagon has its diagonal sides at a*(sqrt 2 - 1) from the
     * axes; a + b must be even so the radials cross at lattice points. */
    b = (int)lround((double)a * (M_SQRT2 - 1.0));
    if ((a + b) % 2 != 0)
      b = b + 1 <= a ? b + 1 : b - 1;
    lay->ring_a[r] = a;
    lay->ring_b[r] = b;
    for (int t = -b; t < b; t++) {
      uint32_t *p;
      if ((p = pt(lay, a, t)) && (*p & GEN_P_V)) *p |= vf;
      if ((p = pt(lay, -a, t)) && (*p & GEN_P_V)) *p |= vf;
      if ((p = pt(lay, t, a)) && (*p & GEN_P_H)) *p |= hf;
      if ((p = pt(lay, t, -a)) && (*p & GEN_P_H)) *p |= hf;
    }
    for (int t = 0; t < a - b; t++) {
      add_diag(lay, a - t, b + t, -1, 1, r + 1);     /* north-east side */
      add_diag(lay, -b - t, a - t, -1, -1, r + 1);   /* north-west */
      add_diag(lay, -a + t, -b - t, 1, -1, r + 1);   /* south-west */
      add_diag(lay, b + t, -a + t, 1, 1, r + 1);     /* south-east */
    }
  }
}

static void add_radials(gen_layout *lay)
{
  static const int dir[4][2] = { { 1, 1 }, { -1, 1 }, { -1, -1 }, { 1, -1 } };
  int reach = lay->nx + lay->ny;
  for (int r = 0; r < 4; r++)
    for (int k = 0; k < reach; k++)
      add_diag(lay, k * dir[r][0], k * dir[r][1], dir[r][0], dir[r][1], 0);
}

static gen_use land_use(const gen_state *g, const gen_layout *lay, int i, int j)
{
  /* Cumulative shares: residential, multifamily, commercial, public,
   * green; industrial takes the rest. */
  static const double share[3][5] = {
    { 0.30, 0.46, 0.74, 0.88, 1.00 },   /* core */
    { 0.70, 0.715, 0.805, 0.905, 0.965 }, /* inner city */
    { 0.66, 0.66, 0.72, 0.81, 0.88 },   /* outskirts */
  };
  static const gen_use order[5] = {
    GEN_USE_RESIDENTIAL, GEN_USE_MULTIFAMILY, GEN_USE_COMMERCIAL,
    GEN_USE_PUBLIC, GEN_USE_GREEN,
  };
  double x = lay->x0 + ((double)i + 0.5) * lay->L;
  double y = lay->y0 + ((double)j + 0.5) * lay->L;
  double d = hypot(x - g->city.cx, y - g->city.cy) / 1000.0;
  double zone = d + (tgis_gen__noise(g->seed, GEN_S_ZONE, x, y, 2000.0) - 0.5) * 3.0;
  double ind = tgis_gen__noise(g->seed, GEN_S_INDUSTRY, x, y, 2500.0);
  double park = tgis_gen__noise(g->seed, GEN_S_PARKS, x, y, 1200.0);
  uint64_t h = tgis_gen__hash(g->seed, GEN_S_LANDUSE, i, j);
  double u = tgis_gen__unit(h);
  double u2 = (double)(h & 0xffff) / 65536.0;
  const double *s;

  if (park > 0.70 && u2 < 0.8)
    return GEN_USE_GREEN;
  if (zone > 3.5 && ind > 0.68 && u2 < 0.8)
    return GEN_USE_INDUSTRIAL;
  s = share[zone < 2.5 ? 0 : zone < 6.5 ? 1 : 2];
  for (int k = 0; k < 5; k++)
    if (u < s[k])
      return order[k];
  return GEN_USE_INDUSTRIAL;
}

void tgis_gen__block_rows(const gen_state *g, int i, int j, int *n1, int *n2)
{
  uint64_t h = tgis_gen__hash(g->seed, GEN_S_BLOCK, i, j);
  *n1 = 4 + (int)(h % 3);
  *n2 = 4 + (int)((h >> 8) % 3);
}

int tgis_gen__cell_parcels(const gen_state *g, int gi, int gj)
{
  const gen_layout *lay = &g->lay;
  int n1, n2;
  switch ((gen_use)lay->buse[GEN_CELL(lay, gi, gj)]) {
  case GEN_USE_NONE:
    return 0;
  case GEN_USE_RESIDENTIAL:
    tgis_gen__block_rows(g, gi + lay->imin, gj + lay->jmin, &n1, &n2);
    return n1 + n2;
  default:
    return 1;
  }
}

void tgis_gen__layout_free(gen_state *g)
{
  gen_layout *lay = &g->lay;
  tgis__free(g->ctx, lay->flags);
  tgis__free(g->ctx, lay->bdist);
  tgis__free(g->ctx, lay->buse);
  lay->flags = NULL;
  lay->bdist = NULL;
  lay->buse = NULL;
}

/* Points in the city, from the merged district spans of each row. */
static void mark_inside(const gen_city *c, gen_layout *lay, double *xs,
                        size_t xcap, span *sp)
{
  for (int gj = 0; gj < lay->ny; gj++) {
    double y = tgis_gen__y(lay, gj);
    size_t ns = row_spans(c, y, xs, xcap, sp), m = 0;
    /* Merge spans that touch, overlap or leave only a sliver between. */
    for (size_t k = 0; k < ns; k++) {
      if (m > 0 && sp[k].x0 - sp[m - 1].x1 < GEN_MERGE_GAP)
        sp[m - 1].x1 = fmax(sp[m - 1].x1, sp[k].x1);
      else
        sp[m++] = sp[k];
    }
    for (size_t k = 0; k < m; k++) {
      int g0 = (int)ceil((sp[k].x0 - lay->x0) / lay->L) - lay->imin;
      int g1 = (int)floor((sp[k].x1 - lay->x0) / lay->L) - lay->imin;
      for (int gi = g0 < 0 ? 0 : g0; gi <= g1 && gi < lay->nx; gi++)
        lay->flags[GEN_PT(lay, gi, gj)] |= GEN_P_IN;
    }
  }
}

/* The district of each cell, by its centre; a centre in a sliver takes a
 * district within GEN_MERGE_GAP. */
static void mark_districts(const gen_city *c, gen_layout *lay, double *xs,
                           size_t xcap, span *sp)
{
  for (int gj = 0; gj + 1 < lay->ny; gj++) {
    double y = tgis_gen__y(lay, gj) + lay->L / 2.0;
    size_t ns = row_spans(c, y, xs, xcap, sp);
    for (int pass = 0; pass < 2; pass++) {
      double grow = pass ? GEN_MERGE_GAP : 0.0;
      for (size_t k = 0; k < ns; k++) {
        double x0 = sp[k].x0 - grow, x1 = sp[k].x1 + grow;
        int g0 = (int)ceil((x0 - lay->x0) / lay->L - 0.5) - lay->imin;
        int g1 = (int)floor((x1 - lay->x0) / lay->L - 0.5) - lay->imin;
        for (int gi = g0 < 0 ? 0 : g0; gi <= g1 && gi + 1 < lay->nx; gi++) {
          int8_t *bd = &lay->bdist[GEN_CELL(lay, gi, gj)];
          if (*bd < 0)
            *bd = (int8_t)sp[k].d;
        }
      }
    }
  }
}

static void mark_blocks(const gen_state *g, gen_layout *lay)
{
  memset(lay->blocks_by_use, 0, sizeof lay->blocks_by_use);
  memset(lay->parcels_by_use, 0, sizeof lay->parcels_by_use);
  lay->nblocks = lay->nparcels = lay->diag_cells = 0;
  for (int gj = 0; gj + 1 < lay->ny; gj++) {
    for (int gi = 0; gi + 1 < lay->nx; gi++) {
      size_t cell = GEN_CELL(lay, gi, gj);
      uint32_t need = GEN_P_IN;
      int corners = (lay->flags[GEN_PT(lay, gi, gj)] & need) &&
                    (lay->flags[GEN_PT(lay, gi + 1, gj)] & need) &&
                    (lay->flags[GEN_PT(lay, gi, gj + 1)] & need) &&
                    (lay->flags[GEN_PT(lay, gi + 1, gj + 1)] & need);
      gen_use use;
      int n;
      if (lay->buse[cell] == GEN_DIAG_MARK) {
        lay->buse[cell] = GEN_USE_NONE;
        lay->diag_cells++;
        continue;
      }
      if (!corners || lay->bdist[cell] < 0) {
        lay->buse[cell] = GEN_USE_NONE;
        continue;
      }
      use = land_use(g, lay, gi + lay->imin, gj + lay->jmin);
      lay->buse[cell] = (uint8_t)use;
      n = tgis_gen__cell_parcels(g, gi, gj);
      lay->nblocks++;
      lay->nparcels += (size_t)n;
      lay->blocks_by_use[use]++;
      lay->parcels_by_use[use] += (size_t)n;
    }
  }
}

typedef struct cand {
  uint64_t key;
  uint32_t cell;
} cand;

static int cmp_cand(const void *a, const void *b)
{
  const cand *p = a, *q = b;
  if (p->key != q->key)
    return (p->key > q->key) - (p->key < q->key);
  return (p->cell > q->cell) - (p->cell < q->cell);
}

/*
 * Every polyclinic and school needs a public block of its own. A small
 * city may draw too few; then turn other blocks public, in a random order
 * of the seed: first parks, industry and commerce, then houses (never
 * multifamily blocks, which hold most of a small city's residents).
 */
static tgis_status ensure_public(gen_state *g, gen_layout *lay)
{
  size_t poly, school, need, ncand = 0, ncells = (size_t)(lay->nx - 1) * (size_t)(lay->ny - 1);
  cand *c;

  tgis_gen__facilities_wanted(g->scale, &poly, &school);
  need = (poly + school) * 3 / 2;  /* some choice left for spreading them */
  if (lay->blocks_by_use[GEN_USE_PUBLIC] >= need)
    return TGIS_OK;
  if (!(c = tgis__malloc(g->ctx, (lay->nblocks ? lay->nblocks : 1) * sizeof *c)))
    return tgis__fail(g->ctx, TGIS_ENOMEM, "lattice: out of memory");
  for (size_t cell = 0; cell < ncells; cell++) {
    gen_use use = (gen_use)lay->buse[cell];
    int i = (int)(cell % (size_t)(lay->nx - 1)) + lay->imin;
    int j = (int)(cell / (size_t)(lay->nx - 1)) + lay->jmin;
    if (use == GEN_USE_NONE || use == GEN_USE_PUBLIC || use == GEN_USE_MULTIFAMILY)
      continue;
    /* Houses sort after everything else. */
    c[ncand].key = (tgis_gen__hash(g->seed, GEN_S_LANDUSE, i, j ^ 0x5a5a) >> 1) |
                   (use == GEN_USE_RESIDENTIAL ? 1ull << 63 : 0);
    c[ncand].cell = (uint32_t)cell;
    ncand++;
  }
  qsort(c, ncand, sizeof *c, cmp_cand);
  for (size_t k = 0; k < ncand && lay->blocks_by_use[GEN_USE_PUBLIC] < need; k++) {
    size_t cell = c[k].cell;
    int gi = (int)(cell % (size_t)(lay->nx - 1)), gj = (int)(cell / (size_t)(lay->nx - 1));
    gen_use use = (gen_use)lay->buse[cell];
    size_t n = (size_t)tgis_gen__cell_parcels(g, gi, gj);
    lay->blocks_by_use[use]--;
    lay->parcels_by_use[use] -= n;
    lay->nparcels -= n;
    lay->buse[cell] = GEN_USE_PUBLIC;
    lay->blocks_by_use[GEN_USE_PUBLIC]++;
    lay->parcels_by_use[GEN_USE_PUBLIC]++;
    lay->nparcels++;
  }
  tgis__free(g->ctx, c);
  return TGIS_OK;
}

/* Build the whole lattice for spacing L into g->lay. */
static tgis_status build_at(gen_state *g, double L)
{
  const gen_city *c = &g->city;
  gen_layout *lay = &g->lay;
  size_t xcap = 0, npts, ncells;
  double *xs = NULL;
  span *sp = NULL;
  tgis_status st = TGIS_OK;

  tgis_gen__layout_free(g);
  memset(lay, 0, sizeof *lay);
  lay->L = L;
  lay->x0 = c->cx;
  lay->y0 = c->cy;
  lay->imin = (int)floor((c->minx - c->cx) / L) - 1;
  lay->jmin = (int)floor((c->miny - c->cy) / L) - 1;
  lay->nx = (int)ceil((c->maxx - c->cx) / L) + 2 - lay->imin;
  lay->ny = (int)ceil((c->maxy - c->cy) / L) + 2 - lay->jmin;
  npts = (size_t)lay->nx * (size_t)lay->ny;
  ncells = (size_t)(lay->nx - 1) * (size_t)(lay->ny - 1);

  for (int k = 0; k < GEN_NDIST; k++)
    xcap += c->d[k].n;
  lay->flags = tgis__calloc(g->ctx, npts, sizeof *lay->flags);
  lay->bdist = tgis__malloc(g->ctx, ncells);
  lay->buse = tgis__calloc(g->ctx, ncells, 1);
  xs = tgis__malloc(g->ctx, xcap * sizeof *xs);
  sp = tgis__malloc(g->ctx, xcap * sizeof *sp);
  if (!lay->flags || !lay->bdist || !lay->buse || !xs || !sp) {
    st = tgis__fail(g->ctx, TGIS_ENOMEM, "lattice of %d x %d points: out of memory",
                    lay->nx, lay->ny);
    goto done;
  }
  memset(lay->bdist, 0xff, ncells);  /* -1: no district */

  mark_inside(c, lay, xs, xcap, sp);
  mark_districts(c, lay, xs, xcap, sp);
  for (int gj = 0; gj < lay->ny; gj++) {
    for (int gi = 0; gi < lay->nx; gi++) {
      uint32_t *p = &lay->flags[GEN_PT(lay, gi, gj)];
      if (!(*p & GEN_P_IN))
        continue;
      if (gi + 1 < lay->nx && (lay->flags[GEN_PT(lay, gi + 1, gj)] & GEN_P_IN))
        *p |= GEN_P_H;
      if (gj + 1 < lay->ny && (lay->flags[GEN_PT(lay, gi, gj + 1)] & GEN_P_IN))
        *p |= GEN_P_V;
    }
  }
  add_rings(lay);
  add_radials(lay);
  mark_blocks(g, lay);
  st = ensure_public(g, lay);

done:
  tgis__free(g->ctx, xs);
  tgis__free(g->ctx, sp);
  return st;
}

tgis_status tgis_gen__layout_build(gen_state *g)
{
  double target = (double)g->target_parcels;
  double L, best_L = 0.0, best_err = HUGE_VAL, prev = -1.0;
  tgis_status st;
  const int max_iter = 16;

  /* About 6.9 parcels a block (2/3 of blocks hold ~10 houses). */
  L = sqrt(g->city.area_m2 * 6.9 / (target > 1.0 ? target : 1.0));
  for (int it = 0; it < max_iter; it++) {
    double err, next;
    L = fmin(fmax(L, GEN_L_MIN), GEN_L_MAX);
    L = round(L * 100.0) / 100.0;  /* a spacing the manifest can state */
    if (L == prev)
      break;
    tgis_gen__progress(&g->prog, "layout", 0.6 * it / max_iter);
    if ((st = build_at(g, L)) != TGIS_OK)
      return st;
    prev = L;
    err = fabs((double)g->lay.nparcels - target);
    if (err < best_err) {
      best_err = err;
      best_L = L;
    }
    if (err <= 0.002 * target + 1.0)
      break;
    next = g->lay.nparcels ? L * sqrt((double)g->lay.nparcels / target) : L / 2.0;
    L = next;
  }
  /* Small cities move in steps of whole blocks, and the update above can
   * hop between two counts on either side of the target: scan finely
   * around the best spacing so far. */
  if (best_err > 0.005 * target) {
    double centre = best_L;
    for (int k = -25; k <= 25; k++) {
      double err;
      L = round(centre * (1.0 + 0.002 * k) * 100.0) / 100.0;
      if (k == 0 || L < GEN_L_MIN || L > GEN_L_MAX)
        continue;
      if ((st = build_at(g, L)) != TGIS_OK)
        return st;
      err = fabs((double)g->lay.nparcels - target);
      if (err < best_err) {
        best_err = err;
        best_L = L;
      }
    }
  }
  if (best_L != g->lay.L && (st = build_at(g, best_L)) != TGIS_OK)
    return st;
  return TGIS_OK;
}
