/*
 * source.h -- where the tile renderer reads its features from.
 *
 * The renderer never talks to a database itself: it asks a tgis_tile_source
 * for the features of a layer whose box meets a query box, and the source
 * calls back once per feature with a borrowed view of it. The database
 * source (SpatiaLite or PostGIS, through the spatial index) lives with the
 * server; tgis_source_mem below keeps features in memory for tests and
 * benchmarks.
 */
#ifndef TGIS_TILES_SOURCE_H
#define TGIS_TILES_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "tgis.h"
#include "geom.h"

/** One feature as a source hands it to the renderer; everything borrowed,
 *  valid only during the emit call. */
typedef struct tgis_feature_view {
  int64_t id;
  const tgis_geombuf *geom;          /* EPSG:3857 metres */
  size_t n_attrs;
  const char *const *keys;           /* attribute names, e.g. "class", "land_use", "name", "network", "kind", "travel_min" */
  const char *const *values;         /* as text; NULL = null */
} tgis_feature_view;

/**
 * Receives one feature. A status other than TGIS_OK stops the query, and
 * the source returns that status.
 */
typedef tgis_status (*tgis_feature_emit)(const tgis_feature_view *f, void *payload);

/** Most keys a query may ask for (see tgis_tile_source.query). */
#define TGIS_SOURCE_MAX_KEYS 16

/**
 * Whether a feature outside a query's core box is needed, told by its id
 * and attributes before its geometry is read (the view's geom is NULL).
 * Called with the query's payload.
 */
typedef int (*tgis_feature_want)(const tgis_feature_view *f, void *payload);

/**
 * What a query needs beyond a core box: a feature whose box does not meet
 * `core` (EPSG:3857) is needed only if `want` says so. The renderer asks
 * for a wide box to place labels the same way in every tile, but outside
 * the drawn area only labelled features matter. A hint: a source may skip
 * the others, or emit them anyway.
 */
typedef struct tgis_source_outer {
  tgis_extent core;
  tgis_feature_want want;
} tgis_source_outer;

typedef struct tgis_tile_source {
  /* Emit every feature of `layer` (a table name: "parcels", "roads", "utility_lines", "utility_nodes", "facilities", "districts", or a result layer like "coverage") whose box meets `bbox` (EPSG:3857). `tolerance` is the simplification the renderer accepts (metres), may be ignored.
   *
   * `keys` names the attributes the caller reads, NULL-terminated, at most TGIS_SOURCE_MAX_KEYS of them (more: TGIS_EINVAL); NULL asks for every attribute. With a list, each feature's view has exactly those keys in that order (n_attrs is the list's length, keys[i] is the list's i-th pointer), and the source reads only those: a key the layer does not have (or keeps private) is a null value, not an error, as a missing attribute always reads in a style.
   *
   * `outer`, if not NULL, says which features outside a core box are needed (see tgis_source_outer); its terms should name keys of the list. */
  tgis_status (*query)(void *self, const char *layer, const tgis_extent *bbox, double tolerance,
                       const char *const *keys, const tgis_source_outer *outer,
                       tgis_feature_emit emit, void *payload);
  void *self;
} tgis_tile_source;

/* ---- in-memory source (source_mem.c) ------------------------------------ */

/** Features kept in memory, by layer, with a grid index per layer. */
typedef struct tgis_source_mem tgis_source_mem;

/**
 * Create an empty in-memory source.
 * @param[out] out  owned by the caller, freed with tgis_source_mem_free()
 * @param ctx       allocations and errors; must outlive the source
 * @return TGIS_OK or TGIS_ENOMEM.
 */
tgis_status tgis_source_mem_new(tgis_source_mem **out, tgis_ctx *ctx);

/** Free the source and every feature in it. If m is NULL nothing occurs. */
void tgis_source_mem_free(tgis_source_mem *m);

/**
 * Copy a feature into `layer` (created on first use). Keys and values are
 * copied; a NULL value stays a null. Adding to an indexed layer drops its
 * index until tgis_source_mem_index() is called again.
 * @return TGIS_OK, TGIS_ENOMEM, TGIS_EINVAL (empty geometry or layer name).
 */
tgis_status tgis_source_mem_add(tgis_source_mem *m, const char *layer, int64_t id,
                                const tgis_geombuf *geom, size_t n_attrs,
                                const char *const *keys, const char *const *values);

/**
 * Build the grid index of every layer. Queries work without it (by a scan)
 * but are slow on large layers.
 * @return TGIS_OK or TGIS_ENOMEM.
 */
tgis_status tgis_source_mem_index(tgis_source_mem *m);

/** Number of features in `layer` (0 for an unknown layer). */
size_t tgis_source_mem_count(const tgis_source_mem *m, const char *layer);

/**
 * The source interface over `m`, borrowed from it.
 *
 * Threading: once the features are added, any number of threads may query
 * at the same time (queries only read). A query of an unknown layer emits
 * nothing and succeeds, like a result table that was never written.
 */
tgis_tile_source tgis_source_mem_source(tgis_source_mem *m);

#endif /* TGIS_TILES_SOURCE_H */
