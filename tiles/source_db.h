/*
 * source_db.h -- the tile source over a tgis database (module-internal).
 *
 * Reads the layers of the database of a context through its store and the
 * spatial index, in Web Mercator (see merc.h for how). A source belongs to
 * its context and thread: a server gives each worker its own read-only
 * context and source.
 */
#ifndef TGIS_TILES_SOURCE_DB_H
#define TGIS_TILES_SOURCE_DB_H

#include <stddef.h>

#include "tgis.h"
#include "source.h"
#include "merc.h"

typedef struct tgis_source_db tgis_source_db;

/** Counters since the source was made. */
typedef struct tgis_source_db_stats {
  size_t queries;           /**< layer queries */
  size_t exact_queries;     /**< of which transformed by PROJ point by point */
  size_t features;          /**< features emitted */
  size_t points;            /**< their vertices as stored */
  size_t points_kept;       /**< after dropping those within the tolerance */
  double max_fit_err;       /**< largest check error of a fitted window, m */
} tgis_source_db_stats;

/**
 * A source over ctx's database.
 * @param[out] out  freed with tgis_source_db_free(); NULL on failure
 * @param ctx       with a database; must outlive the source
 * @return TGIS_OK, TGIS_EINVAL (no database), TGIS_EPROJ, TGIS_ENOMEM.
 */
tgis_status tgis_source_db_new(tgis_source_db **out, tgis_ctx *ctx);

/** Free a source. If s is NULL nothing occurs. */
void tgis_source_db_free(tgis_source_db *s);

/**
 * The source interface over `s`. Layers are the tables of the catalogue
 * ("parcels", "roads", ...); attributes are their fields by name, numbers
 * as text; personal fields are never offered. An unknown layer emits
 * nothing and succeeds.
 */
tgis_tile_source tgis_source_db_source(tgis_source_db *s);

/** Counters of the source; borrowed. */
const tgis_source_db_stats *tgis_source_db_last_stats(const tgis_source_db *s);

/** The source's transformations (for the server's coordinates). */
tgis_merc *tgis_source_db_merc(tgis_source_db *s);

#endif /* TGIS_TILES_SOURCE_DB_H */
