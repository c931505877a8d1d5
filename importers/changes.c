/*
 * changes.c -- the areas a run changed, as cells of a coarse grid.
 *
 * A tile server drops the cached tiles that meet a changed area. One box for
 * the whole run would drop the whole city after an update of ten parcels
 * spread across it; a set of 1 km cells drops only what was touched. A
 * feature larger than many cells, or a run touching a great many, falls
 * back to boxes that are still correct, only coarser.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "import_int.h"

#define MAX_CELLS_PER_FEATURE 64
#define MAX_CELLS 1000000

void tgis_changes__init(tgis_change_cells *c, double cell_size)
{
  memset(c, 0, sizeof *c);
  c->size = cell_size;
}

static void grow_all(tgis_change_cells *c, const tgis_extent *e)
{
  if (!c->any) {
    c->all = *e;
    c->any = 1;
    return;
  }
  if (e->minx < c->all.minx) c->all.minx = e->minx;
  if (e->miny < c->all.miny) c->all.miny = e->miny;
  if (e->maxx > c->all.maxx) c->all.maxx = e->maxx;
  if (e->maxy > c->all.maxy) c->all.maxy = e->maxy;
}

/* Cell ids pack two signed 32-bit grid indexes. */
static int64_t cell_id(int64_t ix, int64_t iy)
{
  return (int64_t)((uint64_t)(uint32_t)ix << 32 | (uint32_t)iy);
}

tgis_status tgis_changes__add(tgis_change_cells *c, tgis_ctx *ctx, const tgis_extent *e)
{
  int64_t x0 = (int64_t)floor(e->minx / c->size), x1 = (int64_t)floor(e->maxx / c->size);
  int64_t y0 = (int64_t)floor(e->miny / c->size), y1 = (int64_t)floor(e->maxy / c->size);

  grow_all(c, e);
  if (c->overflow)
    return TGIS_OK;
  if (c->n + c->n_boxes >= MAX_CELLS) {
    c->overflow = 1;  /* the whole box stands for this run */
    return TGIS_OK;
  }
  if ((x1 - x0 + 1) * (y1 - y0 + 1) > MAX_CELLS_PER_FEATURE) {
    /* A district or a long pipe: its own box. */
    if (c->n_boxes == c->cap_boxes) {
      size_t cap = c->cap_boxes ? c->cap_boxes * 2 : 16;
      tgis_extent *p = tgis__realloc(ctx, c->boxes, cap * sizeof *p);
      if (!p)
        return tgis__fail(ctx, TGIS_ENOMEM, "out of memory recording changed areas");
      c->boxes = p;
      c->cap_boxes = cap;
    }
    c->boxes[c->n_boxes++] = *e;
    return TGIS_OK;
  }
  for (int64_t ix = x0; ix <= x1; ix++) {
    for (int64_t iy = y0; iy <= y1; iy++) {
      int64_t id = cell_id(ix, iy);
      /* Features arrive in spatial runs: skip the cell just added. */
      if (c->n && c->cells[c->n - 1] == id)
        continue;
      if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 1024;
        int64_t *p = tgis__realloc(ctx, c->cells, cap * sizeof *p);
        if (!p)
          return tgis__fail(ctx, TGIS_ENOMEM, "out of memory recording changed areas");
        c->cells = p;
        c->cap = cap;
      }
      c->cells[c->n++] = id;
    }
  }
  return TGIS_OK;
}

static int cmp_i64(const void *a, const void *b)
{
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

tgis_status tgis_changes__write(tgis_change_cells *c, tgis_ctx *ctx, tgis_store *st,
                                int64_t run_id, tgis_layer layer)
{
  tgis_status rc;
  (void)ctx;
  if (!c->any)
    return TGIS_OK;
  if (c->overflow)
    return st->vt->change_add(st, run_id, layer, &c->all);
  for (size_t i = 0; i < c->n_boxes; i++)
    if ((rc = st->vt->change_add(st, run_id, layer, &c->boxes[i])) != TGIS_OK)
      return rc;
  qsort(c->cells, c->n, sizeof *c->cells, cmp_i64);
  for (size_t i = 0; i < c->n; i++) {
    tgis_extent box;
    int32_t ix, iy;
    if (i && c->cells[i] == c->cells[i - 1])
      continue;
    ix = (int32_t)(uint32_t)((uint64_t)c->cells[i] >> 32);
    iy = (int32_t)(uint32_t)c->cells[i];
    box.minx = ix * c->size;
    box.miny = iy * c->size;
    box.maxx = box.minx + c->size;
    box.maxy = box.miny + c->size;
    if ((rc = st->vt->change_add(st, run_id, layer, &box)) != TGIS_OK)
      return rc;
  }
  return TGIS_OK;
}

void tgis_changes__free(tgis_change_cells *c, tgis_ctx *ctx)
{
  tgis__free(ctx, c->cells);
  tgis__free(ctx, c->boxes);
  memset(c, 0, sizeof *c);
}
