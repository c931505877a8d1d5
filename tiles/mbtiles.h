/*
 * mbtiles.h -- MBTiles 1.3 files: a tile set in one SQLite file
 * (module-internal).
 *
 * MBTiles is a file format of its own (an SQLite schema fixed by the
 * specification), not the city database, so it is written here rather
 * than through the store. Rows follow the TMS scheme: tile_row counts from
 * the south, so XYZ y becomes (2^z - 1 - y).
 */
#ifndef TGIS_TILES_MBTILES_H
#define TGIS_TILES_MBTILES_H

#include <stddef.h>
#include <stdint.h>

#include "tgis.h"

typedef struct tgis_mbtiles tgis_mbtiles;

/**
 * Open an MBTiles file; `writable` creates it (and its tables) if missing.
 * @return TGIS_OK, TGIS_EIO (cannot open), TGIS_EPARSE (not an MBTiles
 *         file: no tiles table), TGIS_ENOMEM.
 */
tgis_status tgis_mbtiles_open(tgis_mbtiles **out, tgis_ctx *ctx, const char *path, int writable);

/** Close it (a transaction still open is rolled back). NULL is ignored. */
void tgis_mbtiles_close(tgis_mbtiles *m);

/** Set one metadata value (insert or replace). */
tgis_status tgis_mbtiles_meta_set(tgis_mbtiles *m, const char *name, const char *value);

/** Read one metadata value into buf; TGIS_ENOTFOUND if absent. */
tgis_status tgis_mbtiles_meta_get(tgis_mbtiles *m, const char *name, char *buf, size_t len);

tgis_status tgis_mbtiles_begin(tgis_mbtiles *m);
tgis_status tgis_mbtiles_commit(tgis_mbtiles *m);

/** Store tile z/x/y (XYZ numbering), replacing one already there. */
tgis_status tgis_mbtiles_put(tgis_mbtiles *m, int z, int x, int y, const void *data, size_t len);

/**
 * Read tile z/x/y (XYZ numbering).
 * @param[out] data  owned by the caller: tgis_free(ctx, *data)
 * @return TGIS_OK, TGIS_ENOTFOUND, TGIS_EIO, TGIS_ENOMEM.
 */
tgis_status tgis_mbtiles_get(tgis_mbtiles *m, int z, int x, int y, unsigned char **data,
                             size_t *len);

/**
 * Call `cb` for every tile stored at zooms z0..z1 (XYZ numbering): how a
 * resumed seed learns what is done.
 */
tgis_status tgis_mbtiles_each(tgis_mbtiles *m, int z0, int z1,
                              void (*cb)(int z, int x, int y, void *payload), void *payload);

#endif /* TGIS_TILES_MBTILES_H */
