/*
 * layers.h -- per-layer facts every backend needs (module-to-module).
 */
#ifndef TGIS_LAYERS_H
#define TGIS_LAYERS_H

#include "tgis.h"

typedef struct tgis_layer_def {
  const char *table;          /* table name, also the public layer name */
  const char *geometry_type;  /* OGC type name of the geom column */
} tgis_layer_def;

/** The definition of a layer, or NULL when out of range. */
const tgis_layer_def *tgis_layer__def(tgis_layer layer);

#endif /* TGIS_LAYERS_H */
