/*
 * layers.c -- the catalogue of the city's layers: tables, geometry types and
 * the attribute fields with their types, enumerations and identifiers. The
 * schema (schema_spatialite.c) and this table describe the same columns; the
 * store test checks that they agree.
 */
#include <string.h>

#include "tgis_int.h"
#include "layers.h"

static const char *const land_uses[] = {
  "residential", "multifamily", "commercial", "industrial", "public", "green", "other", NULL
};
static const char *const networks[] = { "gas", "power", "water", "heat", NULL };
static const char *const node_kinds[] = {
  "source", "junction", "valve", "switch", "substation", "consumer", NULL
};
static const char *const line_kinds[] = { "main", "service", NULL };
static const char *const facility_kinds[] = { "polyclinic", "school", NULL };
static const char *const road_classes[] = {
  "motorway", "trunk", "primary", "secondary", "tertiary", "unclassified", "residential",
  "living_street", "service", "pedestrian", "footway", "path", "cycleway", "steps",
  "track", NULL
};

#define REQ TGIS_FIELD_REQUIRED
#define KEY TGIS_FIELD_KEY

static const tgis_field_def district_fields[] = {
  { "soato",   TGIS_FT_TEXT, REQ | KEY, NULL, TGIS_ID_SOATO, NULL },
  { "name",    TGIS_FT_TEXT, REQ,       NULL, TGIS_NO_ID, NULL },
  { "name_ru", TGIS_FT_TEXT, 0,         NULL, TGIS_NO_ID, NULL },
};

static const tgis_field_def parcel_fields[] = {
  { "cadastre",     TGIS_FT_TEXT, KEY,       NULL, TGIS_ID_CADASTRE, NULL },
  { "ext_id",       TGIS_FT_TEXT, TGIS_FIELD_ALT_KEY, NULL, TGIS_NO_ID, NULL },
  { "land_use",     TGIS_FT_TEXT, REQ,       land_uses, TGIS_NO_ID, NULL },
  { "area_m2",      TGIS_FT_REAL, TGIS_FIELD_DERIVED, NULL, TGIS_NO_ID, NULL },
  { "residents",    TGIS_FT_INT,  0,         NULL, TGIS_NO_ID, "0" },
  { "district",     TGIS_FT_TEXT, 0,         NULL, TGIS_ID_SOATO, NULL },
  { "address_code", TGIS_FT_TEXT, 0,         NULL, TGIS_ID_SOATO, NULL },
  { "owner_tin",    TGIS_FT_TEXT, 0,         NULL, TGIS_ID_TIN, NULL },
  /* Personal data: goes to parcel_owners, never to the parcels table. */
  { "owner_pinfl",  TGIS_FT_TEXT, TGIS_FIELD_PRIVATE, NULL, TGIS_ID_PINFL, NULL },
};

static const tgis_field_def road_fields[] = {
  { "ext_id",   TGIS_FT_TEXT, KEY, NULL, TGIS_NO_ID, NULL },
  { "class",    TGIS_FT_TEXT, REQ, road_classes, TGIS_NO_ID, NULL },
  { "name",     TGIS_FT_TEXT, 0,   NULL, TGIS_NO_ID, NULL },
  { "oneway",   TGIS_FT_INT,  0,   NULL, TGIS_NO_ID, "0" },
  { "maxspeed", TGIS_FT_REAL, 0,   NULL, TGIS_NO_ID, NULL },
  { "level",    TGIS_FT_INT,  0,   NULL, TGIS_NO_ID, "0" },
};

static const tgis_field_def utility_line_fields[] = {
  { "ext_id",      TGIS_FT_TEXT, REQ | KEY, NULL, TGIS_NO_ID, NULL },
  { "network",     TGIS_FT_TEXT, REQ | TGIS_FIELD_SCOPE, networks, TGIS_NO_ID, NULL },
  { "kind",        TGIS_FT_TEXT, 0,   line_kinds, TGIS_NO_ID, "main" },
  { "from_node",   TGIS_FT_TEXT, TGIS_FIELD_NODE_REF, NULL, TGIS_NO_ID, NULL },
  { "to_node",     TGIS_FT_TEXT, TGIS_FIELD_NODE_REF, NULL, TGIS_NO_ID, NULL },
  { "diameter_mm", TGIS_FT_REAL, 0,   NULL, TGIS_NO_ID, NULL },
  { "voltage_kv",  TGIS_FT_REAL, 0,   NULL, TGIS_NO_ID, NULL },
};

static const tgis_field_def utility_node_fields[] = {
  { "ext_id",  TGIS_FT_TEXT, REQ | KEY, NULL, TGIS_NO_ID, NULL },
  { "network", TGIS_FT_TEXT, REQ | TGIS_FIELD_SCOPE, networks, TGIS_NO_ID, NULL },
  { "kind",    TGIS_FT_TEXT, REQ, node_kinds, TGIS_NO_ID, NULL },
  { "name",    TGIS_FT_TEXT, 0,   NULL, TGIS_NO_ID, NULL },
};

static const tgis_field_def facility_fields[] = {
  { "ext_id",       TGIS_FT_TEXT, KEY, NULL, TGIS_NO_ID, NULL },
  { "kind",         TGIS_FT_TEXT, REQ, facility_kinds, TGIS_NO_ID, NULL },
  { "name",         TGIS_FT_TEXT, REQ, NULL, TGIS_NO_ID, NULL },
  { "capacity",     TGIS_FT_INT,  0,   NULL, TGIS_NO_ID, NULL },
  { "address_code", TGIS_FT_TEXT, 0,   NULL, TGIS_ID_SOATO, NULL },
};

#define FIELDS(a) a, (int)(sizeof a / sizeof a[0])

static const tgis_layer_def layer_defs[TGIS_LAYER_COUNT] = {
  { "districts",     "MULTIPOLYGON", TGIS_GEOM_MULTIPOLYGON, FIELDS(district_fields) },
  { "parcels",       "MULTIPOLYGON", TGIS_GEOM_MULTIPOLYGON, FIELDS(parcel_fields) },
  { "roads",         "LINESTRING",   TGIS_GEOM_LINESTRING,   FIELDS(road_fields) },
  { "utility_lines", "LINESTRING",   TGIS_GEOM_LINESTRING,   FIELDS(utility_line_fields) },
  { "utility_nodes", "POINT",        TGIS_GEOM_POINT,        FIELDS(utility_node_fields) },
  { "facilities",    "POINT",        TGIS_GEOM_POINT,        FIELDS(facility_fields) },
};

const tgis_layer tgis_layer__import_order[TGIS_LAYER_COUNT] = {
  TGIS_LAYER_DISTRICTS, TGIS_LAYER_PARCELS, TGIS_LAYER_ROADS,
  TGIS_LAYER_UTILITY_NODES, TGIS_LAYER_UTILITY_LINES, TGIS_LAYER_FACILITIES,
};

const tgis_layer_def *tgis_layer__def(tgis_layer layer)
{
  if ((unsigned)layer >= TGIS_LAYER_COUNT)
    return NULL;
  return &layer_defs[layer];
}

int tgis_layer__dim(tgis_layer layer)
{
  switch (layer_defs[layer].geom_type) {
  case TGIS_GEOM_MULTIPOLYGON: return 2;
  case TGIS_GEOM_LINESTRING: return 1;
  default: return 0;
  }
}

int tgis_layer__field(const tgis_layer_def *def, const char *name)
{
  for (int i = 0; i < def->n_fields; i++)
    if (strcmp(def->fields[i].name, name) == 0)
      return i;
  return -1;
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
