/*
 * layers.h -- the catalogue of the city's layers (module-to-module): table
 * names, geometry types and attribute fields, shared by every backend and
 * module so a layer and its fields are named one way everywhere.
 */
#ifndef TGIS_LAYERS_H
#define TGIS_LAYERS_H

#include <stdint.h>

#include "tgis.h"
#include "geom.h"

typedef enum tgis_field_type {
  TGIS_FT_TEXT = 0,
  TGIS_FT_INT,
  TGIS_FT_REAL
} tgis_field_type;

#define TGIS_FIELD_REQUIRED 0x1u  /* a row without it is rejected */
#define TGIS_FIELD_KEY      0x2u  /* the layer's identifier (upsert key) */
#define TGIS_FIELD_PRIVATE  0x4u  /* personal data: stored apart, never shown */
#define TGIS_FIELD_NODE_REF 0x8u  /* ext_id of a utility node, resolved on write */
#define TGIS_FIELD_DERIVED  0x10u /* computed from the geometry on import */
#define TGIS_FIELD_ALT_KEY  0x20u /* identifier used when the KEY is null */
#define TGIS_FIELD_SCOPE    0x40u /* the key is unique within this field */

#define TGIS_NO_ID (-1)

typedef struct tgis_field_def {
  const char *name;
  tgis_field_type type;
  unsigned flags;                /* TGIS_FIELD_* */
  const char *const *allowed;    /* NULL-terminated enumeration, or NULL */
  int id_kind;                   /* tgis_id_kind checked on import, or TGIS_NO_ID */
  const char *dflt;              /* value of a field the source leaves empty */
} tgis_field_def;

#define TGIS_MAX_FIELDS 12

typedef struct tgis_layer_def {
  const char *table;             /* table name, also the public layer name */
  const char *geometry_type;     /* OGC type name of the geom column */
  tgis_geom_type geom_type;      /* the same as a code */
  const tgis_field_def *fields;  /* attribute columns, in table order */
  int n_fields;
} tgis_layer_def;

/** The definition of a layer, or NULL when out of range. */
const tgis_layer_def *tgis_layer__def(tgis_layer layer);

/** Dimension of a layer's geometry: 2 polygons, 1 lines, 0 points. */
int tgis_layer__dim(tgis_layer layer);

/** Index of a field of the layer by name, or -1. */
int tgis_layer__field(const tgis_layer_def *def, const char *name);

/** Layers in the order a multi-layer import must write them (nodes before
 * the lines that reference them). */
extern const tgis_layer tgis_layer__import_order[TGIS_LAYER_COUNT];

/** One attribute value of a row; its type is the field's. */
typedef struct tgis_value {
  int is_null;
  int64_t i;
  double d;
  const char *s;
} tgis_value;

#endif /* TGIS_LAYERS_H */
