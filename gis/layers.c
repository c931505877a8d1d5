/*
 * layers.c -- the catalogue of the city's layers: table names and geometry
 * types, shared by every backend and module so a layer is named one way.
 */
#include <string.h>

#include "tgis_int.h"
#include "layers.h"

static const tgis_layer_def layer_defs[TGIS_LAYER_COUNT] = {
  { "districts",     "MULTIPOLYGON" },
  { "parcels",       "MULTIPOLYGON" },
  { "roads",         "LINESTRING"   },
  { "utility_lines", "LINESTRING"   },
  { "utility_nodes", "POINT"        },
  { "facilities",    "POINT"        },
};

const tgis_layer_def *tgis_layer__def(tgis_layer layer)
{
  if ((unsigned)layer >= TGIS_LAYER_COUNT)
    return NULL;
  return &layer_defs[layer];
}

const char *tgis_layer_name(tgis_layer layer)
{
  const tgis_layer_def *d = tgis_layer__def(layer);
  return d ? d->table : NULL;
}

tgis_status tgis_layer_from_name(tgis_layer *out, const char *name)
{
  for (int i = 0; i < TGIS_LAYER_COUNT; i++) {
    if (name && strcmp(name, layer_defs[i].table) == 0) {
      *out = (tgis_layer)i;
      return TGIS_OK;
    }
  }
  return TGIS_ENOTFOUND;
}
