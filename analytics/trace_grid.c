/*
 * trace_grid.c -- a static point index: points sorted by the square cell
 * they fall in, found again by binary search on the cell key.
 *
 * Tracing needs "which points are near here" in two places -- line ends
 * looking for a node (cells of the join tolerance) and parcels looking for
 * their consumer (cells of the serving radius) -- over point sets built
 * once. Two arrays and a sort do it, without a hash table or a cell array
 * sized by the extent.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "trace.h"

typedef struct entry {
  uint64_t key;
  uint32_t item;
} entry;

/* Cell coordinates fit 32 bits for any metric CRS and cell >= 1 mm; biased
 * by 2^31 they order as unsigned, x cell first. */
static uint64_t cell_key(int64_t cx, int64_t cy)
{
  return ((uint64_t)(cx + 2147483648LL) << 32) | (uint64_t)(cy + 2147483648LL);
}

static int64_t cell_coord(double v, double cell)
{
  double c = floor(v / cell);
  if (c < -2147483647.0)
    return -2147483647;
  if (c > 2147483646.0)
    return 2147483646;
  return (int64_t)c;
}

static int cmp_entry(const void *a, const void *b)
{
  const entry *x = a, *y = b;
  if (x->key != y->key)
    return x->key < y->key ? -1 : 1;
  return x->item < y->item ? -1 : x->item > y->item;
}

tgis_status tgis_trace__grid_build(tgis_trace_grid *gr, tgis_ctx *ctx, const double *xy,
                                   const uint32_t *idx, uint32_t n, double cell)
{
  entry *e;

  memset(gr, 0, sizeof *gr);
  gr->ctx = ctx;
  gr->cell = cell;
  if (!(e = tgis__malloc(ctx, (n ? n : 1) * sizeof *e)))
    return tgis__fail(ctx, TGIS_ENOMEM, "out of memory indexing points");
  for (uint32_t k = 0; k < n; k++) {
    uint32_t p = idx ? idx[k] : k;
    e[k].key = cell_key(cell_coord(xy[2 * p], cell), cell_coord(xy[2 * p + 1], cell));
    e[k].item = p;
  }
  qsort(e, n, sizeof *e, cmp_entry);
  gr->key = tgis__malloc(ctx, (n ? n : 1) * sizeof *gr->key);
  gr->item = tgis__malloc(ctx, (n ? n : 1) * sizeof *gr->item);
  if (!gr->key || !gr->item) {
    tgis__free(ctx, e);
    return tgis__fail(ctx, TGIS_ENOMEM, "out of memory indexing points");
  }
  for (uint32_t k = 0; k < n; k++) {
    gr->key[k] = e[k].key;
    gr->item[k] = e[k].item;
  }
  gr->n = n;
  tgis__free(ctx, e);
  return TGIS_OK;
}

void tgis_trace__grid_free(tgis_trace_grid *gr)
{
  if (!gr || !gr->ctx)
    return;
  tgis__free(gr->ctx, gr->key);
  tgis__free(gr->ctx, gr->item);
  memset(gr, 0, sizeof *gr);
}

/* First entry with key >= k. */
static uint32_t lower_bound(const tgis_trace_grid *gr, uint64_t k)
{
  uint32_t lo = 0, hi = gr->n;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    if (gr->key[mid] < k)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

void tgis_trace__grid_query(const tgis_trace_grid *gr, double minx, double miny,
                            double maxx, double maxy, tgis_trace_grid_cb cb,
                            void *payload)
{
  int64_t cx0 = cell_coord(minx, gr->cell), cx1 = cell_coord(maxx, gr->cell);
  int64_t cy0 = cell_coord(miny, gr->cell), cy1 = cell_coord(maxy, gr->cell);

  if (!gr->n)
    return;
  /* Keys order by x cell then y cell: one run of keys per column. */
  for (int64_t cx = cx0; cx <= cx1; cx++) {
    uint32_t k = lower_bound(gr, cell_key(cx, cy0));
    uint64_t end = cell_key(cx, cy1);
    for (; k < gr->n && gr->key[k] <= end; k++)
      if (cb(gr->item[k], payload))
        return;
  }
}
