/*
 * schema_spatialite_int.h -- the SpatiaLite schema and its migrations
 * (private to gis/).
 */
#ifndef TGIS_SCHEMA_SPATIALITE_INT_H
#define TGIS_SCHEMA_SPATIALITE_INT_H

#include <sqlite3.h>
#include "tgis_int.h"

/** SQLite application_id of a tgis database: 'TGIS'. */
#define TGIS_APPLICATION_ID 0x54474953

/**
 * Bring the schema from version `from` (0 = a new, empty database) to `to`,
 * inside the caller's transaction. `srid` is used when creating geometry
 * columns (from == 0).
 */
tgis_status tgis_schema__migrate(tgis_ctx *ctx, sqlite3 *db, const char *path,
                                 int from, int to, int srid);

#endif
