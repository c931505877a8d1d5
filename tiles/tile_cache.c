/*
 * tile_cache.c -- a byte-bounded LRU of rendered tiles, shared by threads.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tile_cache.h"

#define MERC_HALF 20037508.342789244
#define ENTRY_OVERHEAD 128        /* bytes charged per entry beyond its PNG */

typedef struct entry {
  tgis_cached_tile tile;          /* first: the public view */
  tgis_tile_key key;
  uint64_t hash;
  unsigned refs;                  /* the cache's own counts one while linked */
  struct entry *hnext;            /* hash chain */
  struct entry *prev, *next;      /* LRU: head most recent */
} entry;

struct tgis_tile_cache {
  pthread_mutex_t mu;
  entry **buckets;
  size_t n_buckets;               /* power of two */
  entry *head, *tail;
  size_t entries, bytes, max_bytes;
  uint64_t generation;
  uint64_t hits, misses, inserts, evictions, invalidated;
};

static uint64_t key_hash(const tgis_tile_key *k)
{
  uint64_t h = (uint64_t)k->theme * 0x9E3779B97F4A7C15ull;
  h ^= ((uint64_t)k->scale << 8 | k->z) + 0x632BE59BD9B4E019ull + (h << 6) + (h >> 2);
  h ^= ((uint64_t)k->x << 32 | k->y) * 0xBF58476D1CE4E5B9ull;
  h ^= h >> 31;
  return h * 0x94D049BB133111EBull;
}

static int key_eq(const tgis_tile_key *a, const tgis_tile_key *b)
{
  return a->theme == b->theme && a->scale == b->scale && a->z == b->z && a->x == b->x &&
         a->y == b->y;
}

void tgis_tile_etag(char out[24], const unsigned char *b, size_t n)
{
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < n; i++) {
    h ^= b[i];
    h *= 0x100000001b3ull;
  }
  snprintf(out, 24, "\"%016llx\"", (unsigned long long)h);
}

tgis_tile_cache *tgis_tile_cache_new(size_t max_bytes)
{
  tgis_tile_cache *c = calloc(1, sizeof *c);
  if (!c)
    return NULL;
  c->n_buckets = 1024;
  if (!(c->buckets = calloc(c->n_buckets, sizeof *c->buckets))) {
    free(c);
    return NULL;
  }
  c->max_bytes = max_bytes;
  pthread_mutex_init(&c->mu, NULL);
  return c;
}

static void entry_free(entry *e)
{
  free(e->tile.png);
  free(e);
}

void tgis_tile_cache_free(tgis_tile_cache *c)
{
  if (!c)
    return;
  for (entry *e = c->head, *n; e; e = n) {
    n = e->next;
    entry_free(e);
  }
  free(c->buckets);
  pthread_mutex_destroy(&c->mu);
  free(c);
}

static void lru_unlink(tgis_tile_cache *c, entry *e)
{
  if (e->prev)
    e->prev->next = e->next;
  else
    c->head = e->next;
  if (e->next)
    e->next->prev = e->prev;
  else
    c->tail = e->prev;
  e->prev = e->next = NULL;
}

static void lru_push_front(tgis_tile_cache *c, entry *e)
{
  e->prev = NULL;
  e->next = c->head;
  if (c->head)
    c->head->prev = e;
  c->head = e;
  if (!c->tail)
    c->tail = e;
}

/* Unlink an entry from the table and the list; free it unless a response
 * still holds it (the last release frees it then). Under the mutex. */
static void drop(tgis_tile_cache *c, entry *e)
{
  entry **p = &c->buckets[e->hash & (c->n_buckets - 1)];
  while (*p != e)
    p = &(*p)->hnext;
  *p = e->hnext;
  lru_unlink(c, e);
  c->entries--;
  c->bytes -= e->tile.len + ENTRY_OVERHEAD;
  if (--e->refs == 0)
    entry_free(e);
}

static void grow(tgis_tile_cache *c)
{
  size_t n = c->n_buckets * 2;
  entry **b = calloc(n, sizeof *b);
  if (!b)
    return;                       /* longer chains, still correct */
  for (size_t i = 0; i < c->n_buckets; i++)
    for (entry *e = c->buckets[i], *nx; e; e = nx) {
      nx = e->hnext;
      e->hnext = b[e->hash & (n - 1)];
      b[e->hash & (n - 1)] = e;
    }
  free(c->buckets);
  c->buckets = b;
  c->n_buckets = n;
}

const tgis_cached_tile *tgis_tile_cache_get(tgis_tile_cache *c, const tgis_tile_key *k)
{
  uint64_t h = key_hash(k);
  entry *e;
  pthread_mutex_lock(&c->mu);
  for (e = c->buckets[h & (c->n_buckets - 1)]; e; e = e->hnext)
    if (e->hash == h && key_eq(&e->key, k))
      break;
  if (e) {
    e->refs++;
    lru_unlink(c, e);
    lru_push_front(c, e);
    c->hits++;
  } else
    c->misses++;
  pthread_mutex_unlock(&c->mu);
  return e ? &e->tile : NULL;
}

void tgis_tile_cache_release(tgis_tile_cache *c, const tgis_cached_tile *t)
{
  entry *e = (entry *)(uintptr_t)t;  /* the tile is the entry's first member */
  if (!t)
    return;
  pthread_mutex_lock(&c->mu);
  int last = --e->refs == 0;
  pthread_mutex_unlock(&c->mu);
  if (last)
    entry_free(e);
}

uint64_t tgis_tile_cache_generation(tgis_tile_cache *c)
{
  pthread_mutex_lock(&c->mu);
  uint64_t g = c->generation;
  pthread_mutex_unlock(&c->mu);
  return g;
}

const tgis_cached_tile *tgis_tile_cache_put(tgis_tile_cache *c, const tgis_tile_key *k,
                                            uint64_t gen, const unsigned char *png,
                                            size_t len)
{
  entry *e, *old;
  uint64_t h = key_hash(k);

  if (len + ENTRY_OVERHEAD > c->max_bytes / 4)
    return NULL;                  /* a few giant tiles must not flush all */
  if (!(e = calloc(1, sizeof *e)) || !(e->tile.png = malloc(len ? len : 1))) {
    free(e);
    return NULL;
  }
  memcpy(e->tile.png, png, len);
  e->tile.len = len;
  tgis_tile_etag(e->tile.etag, png, len);
  e->key = *k;
  e->hash = h;
  e->refs = 2;                    /* the cache's and the caller's */

  pthread_mutex_lock(&c->mu);
  if (gen != c->generation) {
    pthread_mutex_unlock(&c->mu);
    entry_free(e);
    return NULL;
  }
  for (old = c->buckets[h & (c->n_buckets - 1)]; old; old = old->hnext)
    if (old->hash == h && key_eq(&old->key, k))
      break;
  if (old)
    drop(c, old);                 /* two threads rendered it: keep the newer */
  while (c->tail && c->bytes + len + ENTRY_OVERHEAD > c->max_bytes) {
    drop(c, c->tail);
    c->evictions++;
  }
  if (c->entries + 1 > 2 * c->n_buckets)
    grow(c);
  e->hnext = c->buckets[h & (c->n_buckets - 1)];
  c->buckets[h & (c->n_buckets - 1)] = e;
  lru_push_front(c, e);
  c->entries++;
  c->bytes += len + ENTRY_OVERHEAD;
  c->inserts++;
  pthread_mutex_unlock(&c->mu);
  return &e->tile;
}

size_t tgis_tile_cache_invalidate(tgis_tile_cache *c, const tgis_extent *box, double margin_px)
{
  size_t n = 0;
  pthread_mutex_lock(&c->mu);
  c->generation++;
  for (entry *e = c->head, *nx; e; e = nx) {
    nx = e->next;
    double size = 2 * MERC_HALF / (double)(1u << e->key.z);
    double m = margin_px * size / 256.0;
    double minx = -MERC_HALF + e->key.x * size - m, maxx = minx + size + 2 * m;
    double maxy = MERC_HALF - e->key.y * size + m, miny = maxy - size - 2 * m;
    if (minx <= box->maxx && maxx >= box->minx && miny <= box->maxy && maxy >= box->miny) {
      drop(c, e);
      n++;
    }
  }
  c->invalidated += n;
  pthread_mutex_unlock(&c->mu);
  return n;
}

size_t tgis_tile_cache_invalidate_theme(tgis_tile_cache *c, unsigned theme)
{
  size_t n = 0;
  pthread_mutex_lock(&c->mu);
  c->generation++;
  for (entry *e = c->head, *nx; e; e = nx) {
    nx = e->next;
    if (e->key.theme == theme) {
      drop(c, e);
      n++;
    }
  }
  c->invalidated += n;
  pthread_mutex_unlock(&c->mu);
  return n;
}

void tgis_tile_cache_stats_get(tgis_tile_cache *c, tgis_tile_cache_stats *out)
{
  pthread_mutex_lock(&c->mu);
  out->entries = c->entries;
  out->bytes = c->bytes;
  out->max_bytes = c->max_bytes;
  out->hits = c->hits;
  out->misses = c->misses;
  out->inserts = c->inserts;
  out->evictions = c->evictions;
  out->invalidated = c->invalidated;
  pthread_mutex_unlock(&c->mu);
}
