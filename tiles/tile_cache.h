/*
 * tile_cache.h -- rendered tiles kept in memory, within a byte bound
 * (module-internal).
 *
 * A hash table over (theme, scale, z, x, y) with a least-recently-used
 * list; inserting beyond the bound evicts from the cold end. Entries are
 * reference-counted so a response can send a tile's bytes while another
 * thread evicts or invalidates it. Invalidation drops the tiles whose area
 * meets a box, at every zoom. One mutex guards it: a lookup is a hash
 * probe and two pointer moves, far shorter than sending the bytes.
 */
#ifndef TGIS_TILES_TILE_CACHE_H
#define TGIS_TILES_TILE_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "tgis.h"

typedef struct tgis_tile_cache tgis_tile_cache;

/** A cached tile; bytes and etag are immutable while it is referenced. */
typedef struct tgis_cached_tile {
  unsigned char *png;
  size_t len;
  char etag[24];                /**< "\"<16 hex digits>\"" */
} tgis_cached_tile;

/** Key of a tile: theme index, scale, z, x, y. */
typedef struct tgis_tile_key {
  uint16_t theme;
  uint8_t scale, z;
  uint32_t x, y;
} tgis_tile_key;

typedef struct tgis_tile_cache_stats {
  size_t entries, bytes, max_bytes;
  uint64_t hits, misses, inserts, evictions, invalidated;
} tgis_tile_cache_stats;

/**
 * A cache holding at most `max_bytes` of tiles (bytes of PNG plus the
 * entry overhead). Allocates with the standard allocator: it is shared by
 * the server's threads, not owned by one context.
 * @return NULL when out of memory.
 */
tgis_tile_cache *tgis_tile_cache_new(size_t max_bytes);

/** Free the cache (no tile may still be referenced). NULL is ignored. */
void tgis_tile_cache_free(tgis_tile_cache *c);

/**
 * Find a tile; on a hit it is referenced (release with
 * tgis_tile_cache_release()) and becomes the most recent.
 */
const tgis_cached_tile *tgis_tile_cache_get(tgis_tile_cache *c, const tgis_tile_key *k);

/** Drop a reference taken by get or put. */
void tgis_tile_cache_release(tgis_tile_cache *c, const tgis_cached_tile *t);

/**
 * Store a copy of a tile unless the cache's generation moved past `gen`
 * (an invalidation happened while it was being rendered: it may be stale).
 * Returns the entry, referenced, or NULL (not stored: stale, too big for
 * the bound, out of memory); the caller then sends its own bytes.
 */
const tgis_cached_tile *tgis_tile_cache_put(tgis_tile_cache *c, const tgis_tile_key *k,
                                            uint64_t gen, const unsigned char *png,
                                            size_t len);

/** The generation now: take it before rendering a tile to put. */
uint64_t tgis_tile_cache_generation(tgis_tile_cache *c);

/**
 * Drop every tile, of every theme and zoom, whose area grown by
 * `margin_px` pixels meets `box` (EPSG:3857 metres), and advance the
 * generation. Returns the number dropped.
 */
size_t tgis_tile_cache_invalidate(tgis_tile_cache *c, const tgis_extent *box, double margin_px);

/** Drop every tile of a theme (e.g. when its results table changed). */
size_t tgis_tile_cache_invalidate_theme(tgis_tile_cache *c, unsigned theme);

/** Counters. */
void tgis_tile_cache_stats_get(tgis_tile_cache *c, tgis_tile_cache_stats *out);

/** The ETag of bytes: a 64-bit FNV-1a hash, quoted. */
void tgis_tile_etag(char out[24], const unsigned char *b, size_t n);

#endif /* TGIS_TILES_TILE_CACHE_H */
