/*
 * label_heap.h -- the priority queue of the multi-source searches
 * (module-internal): a binary heap of (cost, facility, node) labels ordered
 * by cost, then by facility, so that between equal costs the lower
 * facility wins whatever the order of sources and arcs. No decrease-key:
 * an improved label is pushed again and the outdated entry is skipped when
 * it surfaces (lazy deletion).
 */
#ifndef TGIS_ANALYTICS_LABEL_HEAP_H
#define TGIS_ANALYTICS_LABEL_HEAP_H

#include <stddef.h>
#include <stdint.h>

#include "tgis_int.h"

typedef struct heap_item {
  double cost;
  int32_t facility;
  uint32_t node;
} heap_item;

typedef struct heap {
  tgis_ctx *ctx;      /* allocator */
  heap_item *a;
  size_t n, cap;
} heap;

static inline int item_less(const heap_item *x, const heap_item *y)
{
  return x->cost < y->cost || (x->cost == y->cost && x->facility < y->facility);
}

/* Push a label; -1 when out of memory (the heap is unchanged). */
static inline int heap_push(heap *h, double cost, int32_t facility, uint32_t node)
{
  size_t i;
  heap_item it = { cost, facility, node };
  if (h->n == h->cap) {
    size_t ncap = h->cap ? h->cap * 2 : 4096;
    heap_item *na = tgis__realloc(h->ctx, h->a, ncap * sizeof *na);
    if (!na)
      return -1;
    h->a = na;
    h->cap = ncap;
  }
  /* Sift up: move parents down until the item fits. */
  i = h->n++;
  while (i > 0) {
    size_t p = (i - 1) / 2;
    if (!item_less(&it, &h->a[p]))
      break;
    h->a[i] = h->a[p];
    i = p;
  }
  h->a[i] = it;
  return 0;
}

/* Take the least label; the heap must not be empty. */
static inline heap_item heap_pop(heap *h)
{
  heap_item top = h->a[0], last = h->a[--h->n];
  size_t i = 0, n = h->n;
  /* Sift the last item down from the root. */
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= n)
      break;
    if (c + 1 < n && item_less(&h->a[c + 1], &h->a[c]))
      c++;
    if (!item_less(&h->a[c], &last))
      break;
    h->a[i] = h->a[c];
    i = c;
  }
  if (n)
    h->a[i] = last;
  return top;
}

#endif /* TGIS_ANALYTICS_LABEL_HEAP_H */
