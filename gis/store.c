/*
 * store.c -- picks the storage backend a database URI names.
 *
 * "postgresql://..." and "PG:..." name a PostGIS database; anything else is
 * a path to a SpatiaLite file. Only the SpatiaLite backend is built today;
 * the PostGIS one fills the same tgis_store_vtable (see store.h).
 */
#include <string.h>

#include "tgis_int.h"

static int is_postgis_uri(const char *uri)
{
  return strncmp(uri, "postgresql://", 13) == 0 ||
         strncmp(uri, "postgres://", 11) == 0 || strncmp(uri, "PG:", 3) == 0;
}

tgis_status tgis_store__open(tgis_store **out, tgis_ctx *ctx, const char *uri,
                             unsigned flags, int srid)
{
  *out = NULL;
  if (uri[0] == '\0')
    return tgis__fail(ctx, TGIS_EINVAL, "empty database path");
  if (is_postgis_uri(uri))
    return tgis__fail(ctx, TGIS_ENOTSUP,
                      "PostGIS backend is not built into this tgis; "
                      "use a SpatiaLite file path");
  return tgis_store__open_spatialite(out, ctx, uri, flags, srid,
                                     TGIS_SCHEMA_VERSION);
}
