/*
 * source_mem.c -- an in-memory feature source for tests and benchmarks.
 *
 * Features are copied into an arena of large blocks (coordinates, rings,
 * attribute strings), so adding a hundred thousand parcels costs a few
 * hundred allocations and pointers handed out in views never move. Each
 * layer keeps its features in an array and, once indexed, a uniform grid in
 * compressed-row form: cell c holds items[start[c] .. start[c+1]). A feature
 * spanning several cells is listed in each; a query reports it only from the
 * first cell of the overlap of its box and the query box, so no per-query
 * "seen" marks are needed and concurrent queries only read.
 */
#include <assert.h>
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "tgis_int.h"
#include "source.h"

#define ARENA_BLOCK (256 * 1024)
#define MAX_KEYS_PER_LAYER 64

typedef struct arena_block {
  struct arena_block *next;
  size_t used, cap;
  max_align_t data[];
} arena_block;

typedef struct mem_feature {
  int64_t id;
  tgis_geombuf geom;           /* arrays point into the arena; ctx NULL */
  tgis_extent box;
  size_t n_attrs;
  const char **keys;           /* interned per layer */
  const char **values;
} mem_feature;

typedef struct mem_layer {
  char *name;
  mem_feature *feat;
  size_t n, cap;
  const char *keys[MAX_KEYS_PER_LAYER]; /* interned attribute names */
  size_t n_keys;
  tgis_extent extent;
  /* grid index; start == NULL when not indexed */
  double gx0, gy0, cell;
  size_t nx, ny;
  uint32_t *start;             /* nx*ny + 1 offsets into items */
  uint32_t *items;             /* feature indices */
} mem_layer;

struct tgis_source_mem {
  tgis_ctx *ctx;
  arena_block *blocks;
  mem_layer *layers;
  size_t n_layers, cap_layers;
};

/* ---- arena --------------------------------------------------------------- */

static void *arena_alloc(tgis_source_mem *m, size_t n)
{
  const size_t align = sizeof(max_align_t);
  arena_block *b = m->blocks;
  n = (n + align - 1) / align * align;
  if (!b || b->cap - b->used < n) {
    size_t cap = n > ARENA_BLOCK ? n : ARENA_BLOCK;
    b = tgis__malloc(m->ctx, sizeof *b + cap);
    if (!b)
      return NULL;
    b->cap = cap;
    b->used = 0;
    /* A block bigger than the standard one goes behind the current block so
     * the current one keeps filling. */
    if (m->blocks && cap > ARENA_BLOCK) {
      b->next = m->blocks->next;
      m->blocks->next = b;
    } else {
      b->next = m->blocks;
      m->blocks = b;
    }
  }
  void *p = (char *)b->data + b->used;
  b->used += n;
  return p;
}

static char *arena_strdup(tgis_source_mem *m, const char *s)
{
  size_t n = strlen(s) + 1;
  char *d = arena_alloc(m, n);
  if (d)
    memcpy(d, s, n);
  return d;
}

/* ---- lifetime ------------------------------------------------------------ */

tgis_status tgis_source_mem_new(tgis_source_mem **out, tgis_ctx *ctx)
{
  tgis_source_mem *m;
  assert(out && ctx);
  *out = NULL;
  if (!(m = tgis__calloc(ctx, 1, sizeof *m)))
    return tgis__fail(ctx, TGIS_ENOMEM, "allocating a memory source");
  m->ctx = ctx;
  *out = m;
  return TGIS_OK;
}

static void drop_index(tgis_ctx *ctx, mem_layer *l)
{
  tgis__free(ctx, l->start);
  tgis__free(ctx, l->items);
  l->start = l->items = NULL;
}

void tgis_source_mem_free(tgis_source_mem *m)
{
  if (!m)
    return;
  for (size_t i = 0; i < m->n_layers; i++) {
    tgis__free(m->ctx, m->layers[i].name);
    tgis__free(m->ctx, m->layers[i].feat);
    drop_index(m->ctx, &m->layers[i]);
  }
  tgis__free(m->ctx, m->layers);
  for (arena_block *b = m->blocks, *next; b; b = next) {
    next = b->next;
    tgis__free(m->ctx, b);
  }
  tgis__free(m->ctx, m);
}

static mem_layer *find_layer(const tgis_source_mem *m, const char *name)
{
  for (size_t i = 0; i < m->n_layers; i++)
    if (strcmp(m->layers[i].name, name) == 0)
      return &m->layers[i];
  return NULL;
}

size_t tgis_source_mem_count(const tgis_source_mem *m, const char *layer)
{
  const mem_layer *l = find_layer(m, layer);
  return l ? l->n : 0;
}

/* ---- adding -------------------------------------------------------------- */

static mem_layer *get_layer(tgis_source_mem *m, const char *name)
{
  mem_layer *l = find_layer(m, name);
  if (l)
    return l;
  if (m->n_layers == m->cap_layers) {
    size_t cap = m->cap_layers ? 2 * m->cap_layers : 8;
    mem_layer *p = tgis__realloc(m->ctx, m->layers, cap * sizeof *p);
    if (!p)
      return NULL;
    m->layers = p;
    m->cap_layers = cap;
  }
  l = &m->layers[m->n_layers];
  memset(l, 0, sizeof *l);
  if (!(l->name = tgis__strdup(m->ctx, name)))
    return NULL;
  m->n_layers++;
  return l;
}

static const char *intern_key(tgis_source_mem *m, mem_layer *l, const char *key)
{
  for (size_t i = 0; i < l->n_keys; i++)
    if (strcmp(l->keys[i], key) == 0)
      return l->keys[i];
  /* Past the table's size keys are simply copied per feature. */
  const char *k = arena_strdup(m, key);
  if (k && l->n_keys < MAX_KEYS_PER_LAYER)
    l->keys[l->n_keys++] = k;
  return k;
}

tgis_status tgis_source_mem_add(tgis_source_mem *m, const char *layer, int64_t id,
                                const tgis_geombuf *geom, size_t n_attrs,
                                const char *const *keys, const char *const *values)
{
  mem_layer *l;
  mem_feature *f;
  assert(m && layer && geom);
  if (!layer[0] || geom->n_points == 0)
    return tgis__fail(m->ctx, TGIS_EINVAL, "memory source: feature %lld of '%s' is empty",
                      (long long)id, layer);
  if (!(l = get_layer(m, layer)))
    goto nomem;
  if (l->n == l->cap) {
    size_t cap = l->cap ? 2 * l->cap : 64;
    mem_feature *p = tgis__realloc(m->ctx, l->feat, cap * sizeof *p);
    if (!p)
      goto nomem;
    l->feat = p;
    l->cap = cap;
  }
  f = &l->feat[l->n];
  memset(f, 0, sizeof *f);
  f->id = id;
  f->geom.type = geom->type;
  f->geom.n_points = f->geom.cap_points = geom->n_points;
  f->geom.n_parts = f->geom.cap_parts = geom->n_parts;
  f->geom.n_polys = f->geom.cap_polys = geom->n_polys;
  if (!(f->geom.xy = arena_alloc(m, geom->n_points * 2 * sizeof(double))))
    goto nomem;
  memcpy(f->geom.xy, geom->xy, geom->n_points * 2 * sizeof(double));
  if (geom->n_parts) {
    if (!(f->geom.parts = arena_alloc(m, geom->n_parts * sizeof(uint32_t))))
      goto nomem;
    memcpy(f->geom.parts, geom->parts, geom->n_parts * sizeof(uint32_t));
  }
  if (geom->n_polys) {
    if (!(f->geom.polys = arena_alloc(m, geom->n_polys * sizeof(uint32_t))))
      goto nomem;
    memcpy(f->geom.polys, geom->polys, geom->n_polys * sizeof(uint32_t));
  }
  f->box = tgis_geombuf_extent(geom);
  if (n_attrs) {
    if (!(f->keys = arena_alloc(m, n_attrs * sizeof *f->keys)) ||
        !(f->values = arena_alloc(m, n_attrs * sizeof *f->values)))
      goto nomem;
    for (size_t i = 0; i < n_attrs; i++) {
      if (!(f->keys[i] = intern_key(m, l, keys[i])))
        goto nomem;
      f->values[i] = NULL;
      if (values[i] && !(f->values[i] = arena_strdup(m, values[i])))
        goto nomem;
    }
    f->n_attrs = n_attrs;
  }
  if (l->n == 0) {
    l->extent = f->box;
  } else {
    l->extent.minx = fmin(l->extent.minx, f->box.minx);
    l->extent.miny = fmin(l->extent.miny, f->box.miny);
    l->extent.maxx = fmax(l->extent.maxx, f->box.maxx);
    l->extent.maxy = fmax(l->extent.maxy, f->box.maxy);
  }
  l->n++;
  drop_index(m->ctx, l);
  return TGIS_OK;
nomem:
  /* Arena memory of a half-added feature stays until the source is freed. */
  return tgis__fail(m->ctx, TGIS_ENOMEM, "memory source: adding feature %lld to '%s'",
                    (long long)id, layer);
}

/* ---- index --------------------------------------------------------------- */

static size_t cell_of(double v, double origin, double cell, size_t n)
{
  double c = floor((v - origin) / cell);
  if (!(c > 0))          /* also NaN */
    return 0;
  if (c >= (double)n)
    return n - 1;
  return (size_t)c;
}

static tgis_status index_layer(tgis_source_mem *m, mem_layer *l)
{
  double w = l->extent.maxx - l->extent.minx, h = l->extent.maxy - l->extent.miny;
  size_t total = 0, ncell;
  drop_index(m->ctx, l);
  if (l->n == 0)
    return TGIS_OK;
  /* About four features per cell; a square grid of at most 2048 a side. */
  double cell = sqrt(fmax(w * h, 1.0) / fmax((double)l->n / 4.0, 1.0));
  if (cell < 1e-3)
    cell = 1e-3;
  l->gx0 = l->extent.minx;
  l->gy0 = l->extent.miny;
  l->nx = (size_t)fmin(2048, floor(w / cell) + 1);
  l->ny = (size_t)fmin(2048, floor(h / cell) + 1);
  l->cell = fmax(w / (double)l->nx, h / (double)l->ny) * (1 + 1e-9);
  if (l->cell <= 0)
    l->cell = 1;
  ncell = l->nx * l->ny;
  if (!(l->start = tgis__calloc(m->ctx, ncell + 1, sizeof *l->start)))
    goto nomem;
  for (size_t i = 0; i < l->n; i++) {
    const tgis_extent *b = &l->feat[i].box;
    size_t x0 = cell_of(b->minx, l->gx0, l->cell, l->nx), x1 = cell_of(b->maxx, l->gx0, l->cell, l->nx);
    size_t y0 = cell_of(b->miny, l->gy0, l->cell, l->ny), y1 = cell_of(b->maxy, l->gy0, l->cell, l->ny);
    for (size_t y = y0; y <= y1; y++)
      for (size_t x = x0; x <= x1; x++)
        l->start[y * l->nx + x + 1]++;
    total += (x1 - x0 + 1) * (y1 - y0 + 1);
  }
  if (total > UINT32_MAX)
    return tgis__fail(m->ctx, TGIS_EINVAL, "memory source: layer '%s' too large to index", l->name);
  for (size_t c = 0; c < ncell; c++)
    l->start[c + 1] += l->start[c];
  if (!(l->items = tgis__malloc(m->ctx, (total ? total : 1) * sizeof *l->items)))
    goto nomem;
  {
    /* Fill by a running cursor per cell: reuse start[] shifted by one. */
    uint32_t *cur = tgis__malloc(m->ctx, ncell * sizeof *cur);
    if (!cur)
      goto nomem;
    memcpy(cur, l->start, ncell * sizeof *cur);
    for (size_t i = 0; i < l->n; i++) {
      const tgis_extent *b = &l->feat[i].box;
      size_t x0 = cell_of(b->minx, l->gx0, l->cell, l->nx), x1 = cell_of(b->maxx, l->gx0, l->cell, l->nx);
      size_t y0 = cell_of(b->miny, l->gy0, l->cell, l->ny), y1 = cell_of(b->maxy, l->gy0, l->cell, l->ny);
      for (size_t y = y0; y <= y1; y++)
        for (size_t x = x0; x <= x1; x++)
          l->items[cur[y * l->nx + x]++] = (uint32_t)i;
    }
    tgis__free(m->ctx, cur);
  }
  return TGIS_OK;
nomem:
  drop_index(m->ctx, l);
  return tgis__fail(m->ctx, TGIS_ENOMEM, "memory source: indexing layer '%s'", l->name);
}

tgis_status tgis_source_mem_index(tgis_source_mem *m)
{
  for (size_t i = 0; i < m->n_layers; i++) {
    tgis_status st = index_layer(m, &m->layers[i]);
    if (st)
      return st;
  }
  return TGIS_OK;
}

/* ---- query --------------------------------------------------------------- */

static int boxes_meet(const tgis_extent *a, const tgis_extent *b)
{
  return a->minx <= b->maxx && b->minx <= a->maxx && a->miny <= b->maxy && b->miny <= a->maxy;
}

/* The keys a query asks for (NULL: all), each with its interned name in
 * the layer: features name an interned key by that very pointer. */
typedef struct mem_want {
  const char *const *keys;
  size_t n;
  const char *interned[TGIS_SOURCE_MAX_KEYS];   /* NULL: not interned */
} mem_want;

static tgis_status emit_feature(const mem_feature *f, const mem_want *w,
                                tgis_feature_emit emit, void *payload)
{
  tgis_feature_view v;
  const char *values[TGIS_SOURCE_MAX_KEYS];
  v.id = f->id;
  v.geom = &f->geom;
  if (!w->keys) {
    v.n_attrs = f->n_attrs;
    v.keys = f->keys;
    v.values = f->values;
    return emit(&v, payload);
  }
  for (size_t k = 0; k < w->n; k++) {
    const char *ik = w->interned[k];
    values[k] = NULL;             /* a key the feature lacks reads as null */
    for (size_t i = 0; i < f->n_attrs; i++) {
      if (ik ? f->keys[i] == ik : strcmp(f->keys[i], w->keys[k]) == 0) {
        values[k] = f->values[i];
        break;
      }
    }
  }
  v.n_attrs = w->n;
  v.keys = w->keys;
  v.values = values;
  return emit(&v, payload);
}

static tgis_status mem_query(void *self, const char *layer, const tgis_extent *bbox,
                             double tolerance, const char *const *keys,
                             const tgis_source_outer *outer, tgis_feature_emit emit,
                             void *payload)
{
  const tgis_source_mem *m = self;
  const mem_layer *l = find_layer(m, layer);
  mem_want w;
  tgis_status st;
  (void)tolerance;   /* features are kept at full detail */
  (void)outer;       /* a hint: the grid finds features cheaply enough */
  w.keys = keys;
  w.n = 0;
  if (keys) {
    while (keys[w.n] && w.n <= TGIS_SOURCE_MAX_KEYS)
      w.n++;
    /* No message: m->ctx is shared by concurrent queries; the caller's
     * own context names the failing layer. */
    if (w.n > TGIS_SOURCE_MAX_KEYS)
      return TGIS_EINVAL;
  }
  if (!l || l->n == 0 || !boxes_meet(bbox, &l->extent))
    return TGIS_OK;
  for (size_t k = 0; k < w.n; k++) {
    w.interned[k] = NULL;
    for (size_t i = 0; i < l->n_keys && !w.interned[k]; i++)
      if (strcmp(l->keys[i], keys[k]) == 0)
        w.interned[k] = l->keys[i];
  }
  if (!l->start) {
    for (size_t i = 0; i < l->n; i++)
      if (boxes_meet(bbox, &l->feat[i].box) && (st = emit_feature(&l->feat[i], &w, emit, payload)))
        return st;
    return TGIS_OK;
  }
  size_t qx0 = cell_of(bbox->minx, l->gx0, l->cell, l->nx), qx1 = cell_of(bbox->maxx, l->gx0, l->cell, l->nx);
  size_t qy0 = cell_of(bbox->miny, l->gy0, l->cell, l->ny), qy1 = cell_of(bbox->maxy, l->gy0, l->cell, l->ny);
  for (size_t y = qy0; y <= qy1; y++) {
    for (size_t x = qx0; x <= qx1; x++) {
      size_t c = y * l->nx + x;
      for (uint32_t k = l->start[c]; k < l->start[c + 1]; k++) {
        const mem_feature *f = &l->feat[l->items[k]];
        size_t fx0, fy0;
        if (!boxes_meet(bbox, &f->box))
          continue;
        /* Report from the first cell shared by the feature and the query. */
        fx0 = cell_of(f->box.minx, l->gx0, l->cell, l->nx);
        fy0 = cell_of(f->box.miny, l->gy0, l->cell, l->ny);
        if (x != (fx0 > qx0 ? fx0 : qx0) || y != (fy0 > qy0 ? fy0 : qy0))
          continue;
        if ((st = emit_feature(f, &w, emit, payload)))
          return st;
      }
    }
  }
  return TGIS_OK;
}

tgis_tile_source tgis_source_mem_source(tgis_source_mem *m)
{
  tgis_tile_source s;
  s.query = mem_query;
  s.self = m;
  return s;
}
