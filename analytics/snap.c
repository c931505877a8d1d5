/*
 * snap.c -- putting points (parcels, facilities) onto the road network.
 *
 * A uniform grid over the segments of the edges one travel mode can use:
 * each segment is listed in every cell its line passes through (not every
 * cell of its bounding box, which for a long diagonal would be a square of
 * them), in CSR form (cell_start, then segment ids). A point looks at the
 * cells in square rings around its own and stops once the nearest segment
 * found is closer than anything the next ring could hold, or the ring is
 * beyond max_snap_m. Cells are about one segment long, so a point next to
 * a road reads a handful of cells.
 *
 * A segment is named by the index of its first point in the graph's
 * geom_xy; the point-to-edge table turns the winner into an edge and a
 * fraction along it. Travel times to a snapped point, and from a snapped
 * facility, use the same per-edge arithmetic as the adjacency's weights.
 */
#include <assert.h>
#include <math.h>
#include <string.h>

#include "graph.h"

struct tgis_snap_index {
  tgis_ctx *ctx;                  /* the graph's; kept so freeing the index
                                     never touches the graph */
  const tgis_graph *g;
  tgis_mode mode;
  double minx, miny, maxx, maxy;  /* of the indexed segments */
  double cell, inv_cell;
  uint32_t nx, ny;
  uint32_t n_seg;                 /* indexed segments */
  uint32_t *cell_start;           /* nx * ny + 1 */
  uint32_t *seg;                  /* segment (first point) ids by cell */
  uint32_t *pt_edge;              /* n_points: edge of the segment starting
                                     at a point; set only for indexed ones */
  double max_snap;
  tgis_graph_progress_fn progress;
  void *progress_payload;
  const volatile int *cancel;
};

void tgis_snap_index_free(tgis_snap_index *idx)
{
  tgis_ctx *ctx;
  if (!idx)
    return;
  ctx = idx->ctx;
  tgis__free(ctx, idx->cell_start);
  tgis__free(ctx, idx->seg);
  tgis__free(ctx, idx->pt_edge);
  tgis__free(ctx, idx);
}

/* fmin/fmax are library calls unless NaNs are ruled out; none reach here. */
static inline double dmin(double a, double b) { return a < b ? a : b; }
static inline double dmax(double a, double b) { return a > b ? a : b; }

static inline uint32_t cell_of(double v, double min, double inv, uint32_t n)
{
  double f = (v - min) * inv;
  if (!(f > 0))
    return 0;
  return f >= n ? n - 1 : (uint32_t)f;
}

/* Visit the cells the segment (x1,y1)-(x2,y2) passes through, column by
 * column: within each column's slab of x the segment spans an interval of
 * y. With seg_out NULL count them into cnt[]; otherwise write p at the
 * cursor cnt[] of each cell.
 *
 * The search needs only that the boxes of a segment's cells cover it, so a
 * segment running along a cell border is listed on one side only (cells
 * are half-open), which keeps a grid-aligned street in one row of cells.
 * Rounding may shave a sliver of 1e-12 m off a cell: harmless. */
static void rasterize(const tgis_snap_index *ix, uint32_t p, double x1, double y1,
                      double x2, double y2, uint32_t *cnt, uint32_t *seg_out)
{
  double lox = dmin(x1, x2), hix = dmax(x1, x2);
  uint32_t i0 = cell_of(lox, ix->minx, ix->inv_cell, ix->nx);
  uint32_t i1 = cell_of(hix, ix->minx, ix->inv_cell, ix->nx);
  double dx = x2 - x1, dy = y2 - y1;
  for (uint32_t i = i0; i <= i1; i++) {
    double ya = y1, yb = y2;
    if (i0 != i1 && dx != 0) {
      double sx0 = dmax(lox, ix->minx + i * ix->cell);
      double sx1 = dmin(hix, ix->minx + (i + 1) * ix->cell);
      ya = y1 + (sx0 - x1) / dx * dy;
      yb = y1 + (sx1 - x1) / dx * dy;
    }
    uint32_t j0 = cell_of(dmin(ya, yb), ix->miny, ix->inv_cell, ix->ny);
    uint32_t j1 = cell_of(dmax(ya, yb), ix->miny, ix->inv_cell, ix->ny);
    for (uint32_t j = j0; j <= j1; j++) {
      size_t c = (size_t)j * ix->nx + i;
      if (seg_out)
        seg_out[cnt[c]++] = p;
      else
        cnt[c]++;
    }
  }
}

tgis_status tgis_snap_index_build(tgis_snap_index **out, const tgis_graph *g,
                                  tgis_mode mode, const tgis_snap_options *opts)
{
  static const tgis_snap_options defaults = TGIS_SNAP_OPTIONS_INIT;
  const tgis_snap_options *o = opts ? opts : &defaults;
  tgis_ctx *ctx = g->ctx;
  tgis_snap_index *ix = NULL;
  double total_len = 0;
  uint64_t n_seg = 0, n_entries = 0;
  size_t n_cells;
  tgis_status st = TGIS_OK;

  assert(out && g);
  *out = NULL;
  tgis__clear_error(ctx);
  if (o->version != TGIS_SNAP_OPTIONS_VERSION)
    return tgis__fail(ctx, TGIS_EINVAL, "snap options version %u, this library knows %d",
                      o->version, TGIS_SNAP_OPTIONS_VERSION);
  if ((unsigned)mode >= TGIS_MODE_COUNT)
    return tgis__fail(ctx, TGIS_EINVAL, "travel mode %d is not walk or drive", (int)mode);
  if (!(o->cell_m >= 0 && isfinite(o->cell_m)))
    return tgis__fail(ctx, TGIS_EINVAL, "snap cell size %g m, must be >= 0", o->cell_m);
  if (!(o->max_snap_m >= 0))
    return tgis__fail(ctx, TGIS_EINVAL, "max snap distance %g m, must be >= 0",
                      o->max_snap_m);

  if (!(ix = tgis__calloc(ctx, 1, sizeof *ix)))
    goto nomem;
  ix->ctx = ctx;
  ix->g = g;
  ix->mode = mode;
  ix->max_snap = o->max_snap_m;
  ix->progress = o->progress;
  ix->progress_payload = o->progress_payload;
  ix->cancel = o->cancel;
  if (o->progress)
    o->progress("snap index", 0.0, o->progress_payload);
  if (!(ix->pt_edge = tgis__malloc(ctx, (size_t)g->n_points * sizeof *ix->pt_edge)))
    goto nomem;

  /* Extent and mean length of the usable segments. */
  ix->minx = ix->miny = INFINITY;
  ix->maxx = ix->maxy = -INFINITY;
  for (uint32_t e = 0; e < g->n_edges; e++) {
    uint32_t off = g->edge_geom_off[e], n = g->edge_geom_n[e];
    if (tgis_graph_edge_kmh(g, e, mode) <= 0)
      continue;
    for (uint32_t p = off; p < off + n; p++) {
      double x = g->geom_xy[2 * p], y = g->geom_xy[2 * p + 1];
      ix->minx = dmin(ix->minx, x);
      ix->maxx = dmax(ix->maxx, x);
      ix->miny = dmin(ix->miny, y);
      ix->maxy = dmax(ix->maxy, y);
      if (p + 1 < off + n)
        ix->pt_edge[p] = e;
    }
    n_seg += n - 1;
    total_len += g->edge_len[e];
  }
  ix->n_seg = (uint32_t)n_seg;
  if (n_seg == 0) {
    ix->nx = ix->ny = 0;
    if (!(ix->cell_start = tgis__calloc(ctx, 1, sizeof *ix->cell_start)) ||
        !(ix->seg = tgis__malloc(ctx, sizeof *ix->seg)))
      goto nomem;
    goto built;
  }

  /* Cell size: as asked, or the larger of the mean segment length and the
   * side of a square holding one segment on average (as many cells as
   * segments: in a city, where the blocks between streets are empty, finer
   * cells only add empty ones to look at). Then enlarged until there are at
   * most about 4 cells per segment. */
  {
    double w = ix->maxx - ix->minx, h = ix->maxy - ix->miny;
    double limit = 4.0 * (double)n_seg + 4096.0, cells;
    ix->cell = o->cell_m > 0 ? o->cell_m
                             : dmax(total_len / (double)n_seg, sqrt(w * h / (double)n_seg));
    if (!(ix->cell > 0))
      ix->cell = dmax(dmax(w, h), 1.0);  /* a point, or one line of zero width */
    for (;;) {
      cells = (floor(w / ix->cell) + 1) * (floor(h / ix->cell) + 1);
      if (cells <= limit)
        break;
      ix->cell *= sqrt(cells / limit) * 1.01;
    }
    ix->inv_cell = 1.0 / ix->cell;
    ix->nx = (uint32_t)(floor(w / ix->cell) + 1);
    ix->ny = (uint32_t)(floor(h / ix->cell) + 1);
  }
  n_cells = (size_t)ix->nx * ix->ny;

  /* Count entries per cell, turn counts into starts, fill, shift back. */
  if (!(ix->cell_start = tgis__calloc(ctx, n_cells + 1, sizeof *ix->cell_start)))
    goto nomem;
  for (uint32_t e = 0; e < g->n_edges; e++) {
    uint32_t off = g->edge_geom_off[e], n = g->edge_geom_n[e];
    if (tgis_graph_edge_kmh(g, e, mode) <= 0)
      continue;
    for (uint32_t p = off; p + 1 < off + n; p++)
      rasterize(ix, p, g->geom_xy[2 * p], g->geom_xy[2 * p + 1],
                g->geom_xy[2 * p + 2], g->geom_xy[2 * p + 3], ix->cell_start, NULL);
  }
  for (size_t c = 0; c < n_cells; c++) {
    uint32_t k = ix->cell_start[c];
    ix->cell_start[c] = (uint32_t)n_entries;
    n_entries += k;
    if (n_entries >= UINT32_MAX) {
      st = tgis__fail(ctx, TGIS_EINVAL, "too many segments to index for snapping");
      goto done;
    }
  }
  if (o->progress)
    o->progress("snap index", 0.5, o->progress_payload);
  if (o->cancel && *o->cancel) {
    st = tgis__fail(ctx, TGIS_ECANCELLED, "snap index build cancelled");
    goto done;
  }
  if (!(ix->seg = tgis__malloc(ctx, n_entries * sizeof *ix->seg)))
    goto nomem;
  for (uint32_t e = 0; e < g->n_edges; e++) {
    uint32_t off = g->edge_geom_off[e], n = g->edge_geom_n[e];
    if (tgis_graph_edge_kmh(g, e, mode) <= 0)
      continue;
    for (uint32_t p = off; p + 1 < off + n; p++)
      rasterize(ix, p, g->geom_xy[2 * p], g->geom_xy[2 * p + 1],
                g->geom_xy[2 * p + 2], g->geom_xy[2 * p + 3], ix->cell_start, ix->seg);
  }
  memmove(ix->cell_start + 1, ix->cell_start, n_cells * sizeof *ix->cell_start);
  ix->cell_start[0] = 0;

built:
  if (o->progress)
    o->progress("snap index", 1.0, o->progress_payload);
  *out = ix;
  ix = NULL;
  goto done;
nomem:
  st = tgis__fail(ctx, TGIS_ENOMEM, "out of memory building the snap index");
done:
  tgis_snap_index_free(ix);
  return st;
}

/* ---- the search ----------------------------------------------------------- */

typedef struct nearest {
  double px, py;
  double best2;    /* squared distance to beat (or tie) */
  uint32_t best_p; /* segment, TGIS_GRAPH_NONE if none yet */
  double best_s;   /* fraction along that segment */
} nearest;

static inline void scan_cell(nearest *nr, const tgis_snap_index *ix, size_t c)
{
  const double *xy = ix->g->geom_xy;
  for (uint32_t k = ix->cell_start[c], end = ix->cell_start[c + 1]; k < end; k++) {
    uint32_t p = ix->seg[k];
    double x1 = xy[2 * p], y1 = xy[2 * p + 1];
    double dx = xy[2 * p + 2] - x1, dy = xy[2 * p + 3] - y1;
    double l2 = dx * dx + dy * dy, s = 0, qx, qy, d2;
    if (l2 > 0) {
      s = ((nr->px - x1) * dx + (nr->py - y1) * dy) / l2;
      s = s < 0 ? 0 : (s > 1 ? 1 : s);
    }
    qx = nr->px - (x1 + s * dx);
    qy = nr->py - (y1 + s * dy);
    d2 = qx * qx + qy * qy;
    /* Equal distances (a point on a node) go to the first segment. */
    if (d2 < nr->best2 || (d2 == nr->best2 && p < nr->best_p)) {
      nr->best2 = d2;
      nr->best_p = p;
      nr->best_s = s;
    }
  }
}

/* Distance along one axis from v to the cell [lo, lo + cell]. */
static inline double gap(double v, double lo, double cell)
{
  return v < lo ? lo - v : (v > lo + cell ? v - lo - cell : 0.0);
}

/* Scan row j of the grid, columns [a, b] clipped to it, skipping cells
 * further from the point than the best segment so far. */
static inline void scan_row(nearest *nr, const tgis_snap_index *ix, int64_t j,
                            int64_t a, int64_t b)
{
  double gy, gy2;
  if (j < 0 || j >= ix->ny)
    return;
  gy = gap(nr->py, ix->miny + (double)j * ix->cell, ix->cell);
  gy2 = gy * gy;
  if (gy2 > nr->best2)
    return;
  if (a < 0)
    a = 0;
  if (b >= ix->nx)
    b = (int64_t)ix->nx - 1;
  for (int64_t i = a; i <= b; i++) {
    double gx = gap(nr->px, ix->minx + (double)i * ix->cell, ix->cell);
    if (gx * gx + gy2 <= nr->best2)
      scan_cell(nr, ix, (size_t)j * ix->nx + (size_t)i);
  }
}

static void snap_one(tgis_snap *out, const tgis_snap_index *ix, double px, double py)
{
  const tgis_graph *g = ix->g;
  nearest nr;
  double fx, fy, gx, gy;
  int64_t ci, cj;

  out->edge = -1;
  out->t = 0;
  out->dist = INFINITY;
  out->x = out->y = NAN;
  if (ix->n_seg == 0 || !isfinite(px) || !isfinite(py))
    return;
  /* Quick refusal of points far outside the network. */
  gx = px < ix->minx ? ix->minx - px : (px > ix->maxx ? px - ix->maxx : 0);
  gy = py < ix->miny ? ix->miny - py : (py > ix->maxy ? py - ix->maxy : 0);
  if (gx * gx + gy * gy > ix->max_snap * ix->max_snap)
    return;

  nr.px = px;
  nr.py = py;
  nr.best2 = ix->max_snap * ix->max_snap;
  nr.best_p = TGIS_GRAPH_NONE;
  nr.best_s = 0;
  fx = (px - ix->minx) * ix->inv_cell;  /* in cells; may be outside the grid */
  fy = (py - ix->miny) * ix->inv_cell;
  ci = (int64_t)floor(fx);
  cj = (int64_t)floor(fy);
  for (int64_t r = 0;; r++) {
    if (r > 0) {
      /* Everything in ring r or beyond lies outside the square of cells
       * [ci-r+1, ci+r-1], at least this far from the point. */
      double bx = dmin(fx - (double)(ci - r + 1), (double)(ci + r) - fx);
      double by = dmin(fy - (double)(cj - r + 1), (double)(cj + r) - fy);
      double b = dmin(bx, by) * ix->cell;
      if (b * b > nr.best2)
        break;
    }
    if (r == 0) {
      scan_row(&nr, ix, cj, ci, ci);
    } else {
      scan_row(&nr, ix, cj - r, ci - r, ci + r);
      scan_row(&nr, ix, cj + r, ci - r, ci + r);
      for (int64_t j = cj - r + 1; j <= cj + r - 1; j++) {
        scan_row(&nr, ix, j, ci - r, ci - r);
        scan_row(&nr, ix, j, ci + r, ci + r);
      }
    }
    if (ci - r <= 0 && cj - r <= 0 && ci + r >= (int64_t)ix->nx - 1 &&
        cj + r >= (int64_t)ix->ny - 1)
      break;  /* the whole grid has been seen */
  }
  if (nr.best_p == TGIS_GRAPH_NONE)
    return;

  {
    uint32_t p = nr.best_p, e = ix->pt_edge[p];
    const double *xy = g->geom_xy;
    double len = g->edge_len[e];
    double along = g->geom_m[p] - g->geom_m[g->edge_geom_off[e]] +
                   nr.best_s * (g->geom_m[p + 1] - g->geom_m[p]);
    double t = len > 0 ? along / len : 0;
    out->edge = (int32_t)e;
    out->t = t < 0 ? 0 : (t > 1 ? 1 : t);
    out->dist = sqrt(nr.best2);
    out->x = xy[2 * p] + nr.best_s * (xy[2 * p + 2] - xy[2 * p]);
    out->y = xy[2 * p + 1] + nr.best_s * (xy[2 * p + 3] - xy[2 * p + 1]);
  }
}

#define SNAP_TICK ((size_t)1 << 16)
#define TILE_SHIFT 4         /* tiles of 16 x 16 cells */
#define SORT_MIN_POINTS 1024 /* fewer points are snapped in input order */

/* Snap the points in the sequence order[0..n) (order NULL: input order), reporting
 * progress and looking at the cancel flag every SNAP_TICK points. On
 * cancel, every point not yet done is marked unsnapped. */
static tgis_status snap_in_order(tgis_snap *out, const tgis_snap_index *idx,
                                 const double *xy, size_t n, const uint32_t *order)
{
  for (size_t k = 0; k < n; k++) {
    size_t i = order ? order[k] : k;
    if (k % SNAP_TICK == 0) {
      if (idx->progress)
        idx->progress("snapping", (double)k / (double)n, idx->progress_payload);
      if (idx->cancel && *idx->cancel) {
        for (size_t q = k; q < n; q++)
          snap_one(&out[order ? order[q] : q], idx, NAN, NAN);
        return tgis__fail(idx->ctx, TGIS_ECANCELLED,
                          "snapping cancelled after %zu of %zu points", k, n);
      }
    }
    snap_one(&out[i], idx, xy[2 * i], xy[2 * i + 1]);
  }
  if (idx->progress)
    idx->progress("snapping", 1.0, idx->progress_payload);
  return TGIS_OK;
}

tgis_status tgis_snap_points(tgis_snap *out, const tgis_snap_index *idx,
                             const double *xy, size_t n)
{
  tgis_ctx *ctx = idx->ctx;
  uint32_t *tile = NULL, *order = NULL, *tile_start = NULL;
  size_t tx, ty, n_tiles;
  tgis_status st;

  assert(out && idx && (xy || n == 0));
  tgis__clear_error(ctx);
  if (n < SORT_MIN_POINTS || idx->n_seg == 0)
    return snap_in_order(out, idx, xy, n, NULL);
  if (n > UINT32_MAX)
    return tgis__fail(ctx, TGIS_EINVAL, "%zu points, at most %u at a time", n, UINT32_MAX);

  /* Visit the points tile by tile (a counting sort on the tile), so that
   * consecutive searches read the same part of the index and geometry: in
   * random input order nearly every search misses the caches, and a city's
   * million parcels take six times as long. Each result still goes to its
   * own place in out[]. */
  tx = ((size_t)idx->nx >> TILE_SHIFT) + 1;
  ty = ((size_t)idx->ny >> TILE_SHIFT) + 1;
  n_tiles = tx * ty;
  if (!(tile = tgis__malloc(ctx, n * sizeof *tile)) ||
      !(order = tgis__malloc(ctx, n * sizeof *order)) ||
      !(tile_start = tgis__calloc(ctx, n_tiles + 1, sizeof *tile_start))) {
    st = tgis__fail(ctx, TGIS_ENOMEM, "out of memory ordering %zu points to snap", n);
    goto done;
  }
  size_t same = 0;
  for (size_t i = 0; i < n; i++) {
    uint32_t cx = cell_of(xy[2 * i], idx->minx, idx->inv_cell, idx->nx);
    uint32_t cy = cell_of(xy[2 * i + 1], idx->miny, idx->inv_cell, idx->ny);
    size_t t = (size_t)(cy >> TILE_SHIFT) * tx + (cx >> TILE_SHIFT);
    tile[i] = (uint32_t)t;
    tile_start[t + 1]++;
    same += i > 0 && tile[i - 1] == t;
  }
  if (same >= n / 2) {
    /* Already in spatial order (as a store hands parcels out): keep it,
     * and write out[] in sequence. */
    st = snap_in_order(out, idx, xy, n, NULL);
    goto done;
  }
  for (size_t t = 0; t < n_tiles; t++)
    tile_start[t + 1] += tile_start[t];
  for (size_t i = 0; i < n; i++)
    order[tile_start[tile[i]]++] = (uint32_t)i;
  st = snap_in_order(out, idx, xy, n, order);

done:
  tgis__free(ctx, tile);
  tgis__free(ctx, order);
  tgis__free(ctx, tile_start);
  return st;
}

/* ---- costs at snapped points ----------------------------------------------- */

double tgis_snap_cost(int32_t *facility, const tgis_graph *g, tgis_mode mode,
                      const double *node_cost, const int32_t *node_facility,
                      const tgis_snap *s, unsigned int flags)
{
  double best = INFINITY;
  int32_t bf = -1;
  uint32_t e;

  if (facility)
    *facility = -1;
  if (s->edge < 0 || (uint32_t)s->edge >= g->n_edges)
    return INFINITY;
  e = (uint32_t)s->edge;
  /* Arriving forward: from edge_from, the part of the edge before the point. */
  if (tgis_graph_edge_allows(g, e, mode, 1)) {
    uint32_t a = g->edge_from[e];
    double c = node_cost[a] + tgis_graph_edge_seconds(g, e, mode, s->t * g->edge_len[e]);
    best = c;
    bf = node_facility ? node_facility[a] : -1;
  }
  if (tgis_graph_edge_allows(g, e, mode, 0)) {
    uint32_t b = g->edge_to[e];
    double c = node_cost[b] +
               tgis_graph_edge_seconds(g, e, mode, (1.0 - s->t) * g->edge_len[e]);
    int32_t f = node_facility ? node_facility[b] : -1;
    if (c < best || (c == best && f < bf)) {
      best = c;
      bf = f;
    }
  }
  if (best == INFINITY)
    return INFINITY;
  if (flags & TGIS_SNAP_ADD_ACCESS)
    best += tgis_graph_walk_seconds(g, s->dist);
  if (facility)
    *facility = bf;
  return best;
}

size_t tgis_snap_sources(tgis_graph_source out[2], const tgis_graph *g,
                         tgis_mode mode, const tgis_snap *s, int32_t facility,
                         unsigned int flags)
{
  size_t k = 0;
  double access;
  uint32_t e;

  if (s->edge < 0 || (uint32_t)s->edge >= g->n_edges)
    return 0;
  e = (uint32_t)s->edge;
  access = (flags & TGIS_SNAP_ADD_ACCESS) ? tgis_graph_walk_seconds(g, s->dist) : 0.0;
  /* Leaving against the edge reaches edge_from; along it, edge_to. */
  if (tgis_graph_edge_allows(g, e, mode, 0)) {
    out[k].node = g->edge_from[e];
    out[k].cost = access + tgis_graph_edge_seconds(g, e, mode, s->t * g->edge_len[e]);
    out[k].facility = facility;
    k++;
  }
  if (tgis_graph_edge_allows(g, e, mode, 1)) {
    out[k].node = g->edge_to[e];
    out[k].cost = access +
                  tgis_graph_edge_seconds(g, e, mode, (1.0 - s->t) * g->edge_len[e]);
    out[k].facility = facility;
    k++;
  }
  return k;
}
