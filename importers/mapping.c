/*
 * mapping.c -- how a source's layers and fields become tgis layers and
 * fields: the built-in mappings ("tgis" for the generator's GeoPackage and
 * any source that already uses tgis names, "osm" for GDAL's OSM driver) and
 * the identity mapping of a single-layer source.
 *
 * OSM rules (documented in docs/mapping.md):
 *  - roads from `lines` with highway=*, class by a value map (links join
 *    their road's class), oneway yes/1/true -> 1, -1/reverse -> -1, maxspeed
 *    numeric, level from the layer tag or bridge=yes -> 1;
 *  - facilities from amenity=clinic|doctors|hospital (polyclinic) and
 *    amenity=school, as points or as the inner point of their areas;
 *  - utility lines from power=line|minor_line|cable and man_made=pipeline
 *    (network by substance), utility nodes from power=substation;
 *  - parcels from building areas where no cadastre exists, residents
 *    estimated from the footprint (see estimate_residents in import.c).
 */
#include <string.h>

#include "import_int.h"
#include "layers.h"

static tgis_status rules_alloc(tgis_mapping *m, tgis_ctx *ctx, int n, const char *name)
{
  memset(m, 0, sizeof *m);
  snprintf(m->name, sizeof m->name, "%s", name);
  m->rules = tgis__calloc(ctx, (size_t)n, sizeof *m->rules);
  if (!m->rules)
    return tgis__fail(ctx, TGIS_ENOMEM, "out of memory building the %s mapping", name);
  m->n_rules = n;
  return TGIS_OK;
}

/* Every stored field of the target takes the source field of its name. */
static void identity_fields(tgis_layer_rule *r)
{
  const tgis_layer_def *def = tgis_layer__def(r->target);
  for (int i = 0; i < def->n_fields; i++)
    if (!(def->fields[i].flags & TGIS_FIELD_DERIVED))
      r->fields[i].source = def->fields[i].name;
}

static tgis_status builtin_tgis(tgis_mapping *m, tgis_ctx *ctx)
{
  tgis_status st = rules_alloc(m, ctx, TGIS_LAYER_COUNT, "tgis");
  if (st != TGIS_OK)
    return st;
  for (int i = 0; i < TGIS_LAYER_COUNT; i++) {
    tgis_layer_rule *r = &m->rules[i];
    r->target = tgis_layer__import_order[i];
    r->source_layer = tgis_layer_name(r->target);
    identity_fields(r);
  }
  return TGIS_OK;
}

tgis_status tgis_mapping__identity(tgis_mapping *out, tgis_ctx *ctx, tgis_layer target)
{
  tgis_status st = rules_alloc(out, ctx, 1, "identity");
  if (st != TGIS_OK)
    return st;
  out->rules[0].target = target;
  identity_fields(&out->rules[0]);
  return TGIS_OK;
}

/* ---- OpenStreetMap ----------------------------------------------------------- */

static const tgis_value_pair osm_highway[] = {
  { "motorway", "motorway" }, { "motorway_link", "motorway" },
  { "trunk", "trunk" }, { "trunk_link", "trunk" },
  { "primary", "primary" }, { "primary_link", "primary" },
  { "secondary", "secondary" }, { "secondary_link", "secondary" },
  { "tertiary", "tertiary" }, { "tertiary_link", "tertiary" },
  { "unclassified", "unclassified" }, { "residential", "residential" },
  { "living_street", "living_street" }, { "service", "service" },
  { "pedestrian", "pedestrian" }, { "footway", "footway" }, { "path", "path" },
  { "cycleway", "cycleway" }, { "steps", "steps" }, { "track", "track" },
};

static const tgis_value_pair osm_oneway[] = {
  { "yes", "1" }, { "true", "1" }, { "1", "1" }, { "-1", "-1" }, { "reverse", "-1" },
  { "no", "0" }, { "false", "0" }, { "0", "0" }, { "alternating", "0" },
  { "reversible", "0" },
};

/* `layer` passes through as a number; a bridge without one is level 1. */
static const tgis_value_pair osm_level[] = {
  { "yes", "1" }, { "viaduct", "1" }, { "aqueduct", "1" }, { "boardwalk", "1" },
  { "movable", "1" }, { "no", "0" },
};

static const tgis_value_pair osm_amenity[] = {
  { "clinic", "polyclinic" }, { "doctors", "polyclinic" }, { "hospital", "polyclinic" },
  { "school", "school" },
};

static const tgis_value_pair osm_power_line[] = {
  { "line", "power" }, { "minor_line", "power" }, { "cable", "power" },
};

static const tgis_value_pair osm_substance[] = {
  { "gas", "gas" }, { "natural_gas", "gas" }, { "water", "water" },
  { "drinking_water", "water" }, { "hot_water", "heat" }, { "heat", "heat" },
  { "steam", "heat" },
};

static const tgis_value_pair osm_building[] = {
  { "house", "residential" }, { "detached", "residential" },
  { "semidetached_house", "residential" }, { "terrace", "residential" },
  { "residential", "residential" }, { "bungalow", "residential" },
  { "apartments", "multifamily" }, { "dormitory", "multifamily" },
  { "commercial", "commercial" }, { "retail", "commercial" }, { "office", "commercial" },
  { "hotel", "commercial" }, { "supermarket", "commercial" }, { "kiosk", "commercial" },
  { "industrial", "industrial" }, { "warehouse", "industrial" }, { "factory", "industrial" },
  { "school", "public" }, { "hospital", "public" }, { "public", "public" },
  { "civic", "public" }, { "government", "public" }, { "university", "public" },
  { "church", "public" }, { "mosque", "public" }, { "train_station", "public" },
  { "kindergarten", "public" }, { "college", "public" },
};

static void set(tgis_layer_rule *r, const char *field, const char *source)
{
  int i = tgis_layer__field(tgis_layer__def(r->target), field);
  r->fields[i].source = source;
}

static tgis_field_rule *field(tgis_layer_rule *r, const char *name)
{
  return &r->fields[tgis_layer__field(tgis_layer__def(r->target), name)];
}

static tgis_status builtin_osm(tgis_mapping *m, tgis_ctx *ctx)
{
  tgis_layer_rule *r;
  tgis_field_rule *f;
  tgis_status st = rules_alloc(m, ctx, 8, "osm");
  if (st != TGIS_OK)
    return st;

  r = &m->rules[0];                       /* roads */
  r->source_layer = "lines";
  r->where = "highway IS NOT NULL";
  r->target = TGIS_LAYER_ROADS;
  f = field(r, "ext_id"); f->source = "osm_id"; f->prefix = "w";
  f = field(r, "class"); f->source = "highway"; f->values = osm_highway;
  f->n_values = (int)(sizeof osm_highway / sizeof osm_highway[0]); f->strict = 1;
  set(r, "name", "name");
  f = field(r, "oneway"); f->source = "other_tags:oneway"; f->values = osm_oneway;
  f->n_values = (int)(sizeof osm_oneway / sizeof osm_oneway[0]); f->strict = 1;
  set(r, "maxspeed", "other_tags:maxspeed");
  f = field(r, "level"); f->source = "other_tags:layer|other_tags:bridge";
  f->values = osm_level; f->n_values = (int)(sizeof osm_level / sizeof osm_level[0]);

  for (int k = 0; k < 2; k++) {           /* facilities: nodes and areas */
    r = &m->rules[1 + k];
    r->source_layer = k == 0 ? "points" : "multipolygons";
    /* GDAL's OSM layers keep amenity as a field of areas only. */
    r->where = k == 0 ? "other_tags LIKE '%\"amenity\"=>\"clinic\"%' OR "
                        "other_tags LIKE '%\"amenity\"=>\"doctors\"%' OR "
                        "other_tags LIKE '%\"amenity\"=>\"hospital\"%' OR "
                        "other_tags LIKE '%\"amenity\"=>\"school\"%'"
                      : "amenity IN ('clinic', 'doctors', 'hospital', 'school')";
    r->target = TGIS_LAYER_FACILITIES;
    r->point_from_area = k == 1;
    f = field(r, "ext_id");
    f->source = k == 0 ? "osm_id" : "osm_way_id|osm_id";
    f->prefix = k == 0 ? "n" : "a";
    f = field(r, "kind"); f->source = "amenity|other_tags:amenity"; f->values = osm_amenity;
    f->n_values = (int)(sizeof osm_amenity / sizeof osm_amenity[0]); f->strict = 1;
    set(r, "name", "name|other_tags:name:en|amenity|other_tags:amenity");
  }

  r = &m->rules[3];                       /* power lines */
  r->source_layer = "lines";
  r->where = "other_tags LIKE '%\"power\"=>\"%'";
  r->target = TGIS_LAYER_UTILITY_LINES;
  f = field(r, "ext_id"); f->source = "osm_id"; f->prefix = "w";
  f = field(r, "network"); f->source = "other_tags:power"; f->values = osm_power_line;
  f->n_values = (int)(sizeof osm_power_line / sizeof osm_power_line[0]); f->strict = 1;
  f = field(r, "kind"); f->constant = "main";

  r = &m->rules[4];                       /* pipelines */
  r->source_layer = "lines";
  r->where = "man_made = 'pipeline'";
  r->target = TGIS_LAYER_UTILITY_LINES;
  f = field(r, "ext_id"); f->source = "osm_id"; f->prefix = "w";
  f = field(r, "network"); f->source = "other_tags:substance|other_tags:type";
  f->values = osm_substance;
  f->n_values = (int)(sizeof osm_substance / sizeof osm_substance[0]); f->strict = 1;
  f = field(r, "kind"); f->constant = "main";
  set(r, "diameter_mm", "other_tags:diameter");

  for (int k = 0; k < 2; k++) {           /* substations: nodes and areas */
    r = &m->rules[5 + k];
    r->source_layer = k == 0 ? "points" : "multipolygons";
    r->where = "other_tags LIKE '%\"power\"=>\"substation\"%'";
    r->target = TGIS_LAYER_UTILITY_NODES;
    r->point_from_area = k == 1;
    f = field(r, "ext_id");
    f->source = k == 0 ? "osm_id" : "osm_way_id|osm_id";
    f->prefix = k == 0 ? "n" : "a";
    f = field(r, "network"); f->constant = "power";
    f = field(r, "kind"); f->constant = "substation";
    set(r, "name", "name");
  }

  r = &m->rules[7];                       /* buildings as parcels */
  r->source_layer = "multipolygons";
  r->where = "building IS NOT NULL";
  r->target = TGIS_LAYER_PARCELS;
  r->estimate_residents = 1;
  f = field(r, "ext_id"); f->source = "osm_way_id|osm_id";
  f->prefix = "a";
  f = field(r, "land_use"); f->source = "building"; f->values = osm_building;
  f->n_values = (int)(sizeof osm_building / sizeof osm_building[0]);
  /* Buildings of other kinds (garage, shed, yes...) are "other". */
  f->fallback = "other";
  return TGIS_OK;
}

tgis_status tgis_mapping__builtin(tgis_mapping *out, tgis_ctx *ctx, const char *name)
{
  memset(out, 0, sizeof *out);
  if (strcmp(name, "tgis") == 0)
    return builtin_tgis(out, ctx);
  if (strcmp(name, "osm") == 0)
    return builtin_osm(out, ctx);
  return TGIS_ENOTFOUND;
}

void tgis_mapping__free(tgis_mapping *m, tgis_ctx *ctx)
{
  if (!m)
    return;
  tgis__free(ctx, m->rules);
  for (tgis_chunk *c = m->arena, *next; c; c = next) {
    next = c->next;
    tgis__free(ctx, c);
  }
  memset(m, 0, sizeof *m);
}
