/*
 * network.c -- the roads layer as graph input: one pass over the store,
 * coordinates copied into one array, attributes turned into speeds.
 *
 * Speeds by class are city defaults for Tashkent's streets, used where a
 * road has no maxspeed; they are documented in network.h so an analyst can
 * tell where a travel time comes from.
 */
#include <string.h>

#include "network.h"
#include "layers.h"

typedef struct class_speed {
  const char *cls;
  double kmh;
} class_speed;

static const class_speed speeds[] = {
  { "motorway", 90 }, { "trunk", 70 }, { "primary", 60 }, { "secondary", 50 },
  { "tertiary", 40 }, { "unclassified", 40 }, { "residential", 30 }, { "service", 20 },
  { "track", 15 }, { "living_street", 10 }, { "pedestrian", 0 }, { "footway", 0 },
  { "path", 0 }, { "cycleway", 0 }, { "steps", 0 },
};

double tgis_network__drive_kmh(const char *road_class, int has_maxspeed, double maxspeed)
{
  double kmh = 30;
  for (size_t i = 0; road_class && i < sizeof speeds / sizeof speeds[0]; i++)
    if (strcmp(speeds[i].cls, road_class) == 0)
      kmh = speeds[i].kmh;
  if (kmh > 0 && has_maxspeed && maxspeed > 0)
    kmh = maxspeed;
  return kmh;
}

int tgis_network__walkable(const char *road_class)
{
  return !road_class || strcmp(road_class, "motorway") != 0;
}

typedef struct loader {
  tgis_network_roads *r;
  int f_class, f_oneway, f_maxspeed, f_level;
} loader;

static tgis_status on_road(const tgis_feature *f, void *payload)
{
  loader *L = payload;
  tgis_network_roads *r = L->r;
  const tgis_geombuf *g = f->geom;
  const tgis_value *v = f->values;
  tgis_road_in *in;
  size_t need = 2 * g->n_points;

  if (g->n_points < 2) {
    r->skipped++;
    return TGIS_OK;
  }
  if (r->n == r->cap) {
    size_t cap = r->cap ? 2 * r->cap : 1024;
    tgis_road_in *p = tgis__realloc(r->ctx, r->roads, cap * sizeof *p);
    if (!p)
      return tgis__fail(r->ctx, TGIS_ENOMEM, "out of memory reading roads");
    r->roads = p;
    r->cap = cap;
  }
  if (r->n_xy + need > r->cap_xy) {
    size_t cap = r->cap_xy ? 2 * r->cap_xy : 16384;
    double *p;
    while (cap < r->n_xy + need)
      cap *= 2;
    if (!(p = tgis__realloc(r->ctx, r->xy, cap * sizeof *p)))
      return tgis__fail(r->ctx, TGIS_ENOMEM, "out of memory reading roads");
    r->xy = p;
    r->cap_xy = cap;
  }
  memcpy(r->xy + r->n_xy, g->xy, need * sizeof(double));
  in = &r->roads[r->n++];
  memset(in, 0, sizeof *in);
  /* Offsets for now: the array may still move; pointers are set at the end. */
  in->xy = (const double *)(uintptr_t)r->n_xy;
  in->n = (uint32_t)g->n_points;
  in->oneway = v[L->f_oneway].is_null ? 0 : (int)v[L->f_oneway].i;
  in->level = v[L->f_level].is_null ? 0 : (int)v[L->f_level].i;
  in->drive_kmh = tgis_network__drive_kmh(v[L->f_class].s, !v[L->f_maxspeed].is_null,
                                          v[L->f_maxspeed].d);
  in->walkable = tgis_network__walkable(v[L->f_class].s);
  in->id = f->id;
  r->n_xy += need;
  return TGIS_OK;
}

tgis_status tgis_network__load(tgis_network_roads *out, tgis_ctx *ctx)
{
  const tgis_layer_def *def = tgis_layer__def(TGIS_LAYER_ROADS);
  loader L;
  tgis_store *st;
  tgis_status rc;

  memset(out, 0, sizeof *out);
  out->ctx = ctx;
  if ((rc = tgis__require_store(ctx, &st)) != TGIS_OK)
    return rc;
  L.r = out;
  L.f_class = tgis_layer__field(def, "class");
  L.f_oneway = tgis_layer__field(def, "oneway");
  L.f_maxspeed = tgis_layer__field(def, "maxspeed");
  L.f_level = tgis_layer__field(def, "level");
  if ((rc = st->vt->layer_scan(st, TGIS_LAYER_ROADS, NULL, on_road, &L)) != TGIS_OK)
    return rc;
  for (size_t i = 0; i < out->n; i++)
    out->roads[i].xy = out->xy + (size_t)(uintptr_t)out->roads[i].xy;
  return TGIS_OK;
}

void tgis_network__free(tgis_network_roads *r)
{
  if (!r || !r->ctx)
    return;
  tgis__free(r->ctx, r->roads);
  tgis__free(r->ctx, r->xy);
  memset(r, 0, sizeof *r);
}
