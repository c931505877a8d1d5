/*
 * server_json.c -- the server's JSON routes: the theme list with legends,
 * TileJSON, feature info at a point, search, health and statistics.
 * Personal fields are never read (the store does not select them), so no
 * reply can carry a PINFL.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "server_int.h"
#include "store.h"
#include "geom.h"

#define INFO_MAX 8
#define SEARCH_MAX 50

static char *to_text(json_object *o)
{
  char *s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                                        JSON_C_TO_STRING_NOSLASHESCAPE));
  json_object_put(o);
  return s;
}

static json_object *colour(const tgis_rgba *c)
{
  char b[16];
  if (c->a == 255)
    snprintf(b, sizeof b, "#%02x%02x%02x", c->r, c->g, c->b);
  else
    snprintf(b, sizeof b, "#%02x%02x%02x%02x", c->r, c->g, c->b, c->a);
  return json_object_new_string(b);
}

static const char *str_or_empty(json_object *o, const char *key)
{
  json_object *v;
  return json_object_object_get_ex(o, key, &v) && v ? json_object_get_string(v) : "";
}

/* One legend entry, in words a planner reads ("roads-service" becomes
 * "roads service"), once: layers drawn twice (casing and fill, symbol
 * sizes by zoom) give the same entry. */
static void legend_add(json_object *arr, const char *label, const tgis_rgba *fill,
                       const tgis_rgba *stroke, const char *kind, const char *layer)
{
  json_object *e = json_object_new_object();
  char words[128];
  size_t i;

  tgis__strlcpy(words, label, sizeof words);
  for (i = 0; words[i]; i++)
    if (words[i] == '-' || words[i] == '_')
      words[i] = ' ';
  json_object_object_add(e, "label", json_object_new_string(words));
  json_object_object_add(e, "fill", fill ? colour(fill) : NULL);
  json_object_object_add(e, "stroke", stroke ? colour(stroke) : NULL);
  json_object_object_add(e, "kind", json_object_new_string(kind));
  json_object_object_add(e, "layer", json_object_new_string(layer));
  for (i = 0; i < json_object_array_length(arr); i++) {
    json_object *o = json_object_array_get_idx(arr, i);
    if (strcmp(str_or_empty(o, "label"), words) == 0 &&
        strcmp(str_or_empty(o, "fill"), str_or_empty(e, "fill")) == 0 &&
        strcmp(str_or_empty(o, "stroke"), str_or_empty(e, "stroke")) == 0) {
      json_object_put(e);
      return;
    }
  }
  json_object_array_add(arr, e);
}

/* Legend entries of one paint: a colour, or one per class. */
static void legend_paint(json_object *arr, const tgis_style_layer *l, const tgis_style_paint *p,
                         const char *kind, int is_fill)
{
  char label[128];
  if (p->kind == TGIS_PAINT_COLOUR) {
    legend_add(arr, l->id, is_fill ? &p->colour : NULL, is_fill ? NULL : &p->colour, kind,
               l->source);
    return;
  }
  for (size_t i = 0; i < p->n_classes; i++) {
    const tgis_style_class *c = &p->classes[i];
    if (p->kind == TGIS_PAINT_MATCH)
      snprintf(label, sizeof label, "%s", c->value);
    else {
      /* Travel times read as minutes; other numbers keep their name. */
      int minutes = strcmp(p->attribute, "travel_min") == 0;
      const char *what = minutes ? "" : p->attribute, *unit = minutes ? " min" : "";
      if (isinf(c->min))
        snprintf(label, sizeof label, "%s under %g%s", what, c->max, unit);
      else if (isinf(c->max))
        snprintf(label, sizeof label, "%s %g%s and more", what, c->min, unit);
      else
        snprintf(label, sizeof label, "%s %g to %g%s", what, c->min, c->max, unit);
    }
    legend_add(arr, label, is_fill ? &c->colour : NULL, is_fill ? NULL : &c->colour, kind,
               l->source);
  }
  if (p->has_default && p->kind == TGIS_PAINT_CLASSES)
    legend_add(arr, "no data", is_fill ? &p->fallback : NULL, is_fill ? NULL : &p->fallback,
               kind, l->source);
}

static json_object *theme_object(tgis_server *s, const tgis_style *st, const char *host)
{
  json_object *t = json_object_new_object(), *legend = json_object_new_array();
  char url[512];
  int minz = 22;

  for (size_t i = 0; i < st->n_layers; i++) {
    const tgis_style_layer *l = &st->layers[i];
    minz = l->min_zoom < minz ? l->min_zoom : minz;
    if (l->symbol != TGIS_SYMBOL_NONE && l->symbol_fill.kind != TGIS_PAINT_NONE)
      legend_paint(legend, l, &l->symbol_fill, "point", 1);
    else if (l->fill.kind != TGIS_PAINT_NONE)
      legend_paint(legend, l, &l->fill, "fill", 1);
    else if (l->stroke.kind != TGIS_PAINT_NONE)
      legend_paint(legend, l, &l->stroke, "line", 0);
  }
  json_object_object_add(t, "name", json_object_new_string(st->name));
  json_object_object_add(t, "title", json_object_new_string(st->title ? st->title : st->name));
  json_object_object_add(t, "overlay", json_object_new_boolean(!st->has_background));
  json_object_object_add(t, "minzoom", json_object_new_int(minz < 10 ? minz : 10));
  json_object_object_add(t, "maxzoom", json_object_new_int(20));
  /* Relative: the page that asks knows its own origin (also behind a
   * proxy). */
  snprintf(url, sizeof url, "/tiles/%s.json", st->name);
  (void)host;
  json_object_object_add(t, "tilejson", json_object_new_string(url));
  json_object_object_add(t, "legend", legend);
  (void)s;
  return t;
}

/* A number printed with `decimals` digits after the point (json-c would
 * print every digit of the double). */
static json_object *num(double v, int decimals)
{
  char b[48];
  snprintf(b, sizeof b, "%.*f", decimals, v);
  return json_object_new_double_s(v, b);
}

static json_object *doubles(const double *v, int n)
{
  json_object *a = json_object_new_array();
  for (int i = 0; i < n; i++)
    json_object_array_add(a, num(v[i], 6));
  return a;
}

void server_themes_json(tgis_server *s, const char *host, server_reply *r)
{
  json_object *o = json_object_new_object(), *arr = json_object_new_array();
  for (size_t i = 0; i < s->n_themes; i++)
    if (!s->mb_theme[0] || strcmp(s->themes[i]->name, s->mb_theme) == 0)
      json_object_array_add(arr, theme_object(s, s->themes[i], host));
  json_object_object_add(o, "themes", arr);
  json_object_object_add(o, "center", doubles(s->center, 2));
  json_object_object_add(o, "zoom", json_object_new_int((int)s->center[2]));
  json_object_object_add(o, "bounds", doubles(s->bounds, 4));
  json_object_object_add(o, "info", json_object_new_boolean(s->has_db && !s->mb_theme[0]));
  server_reply_json(r, to_text(o));
}

void server_tilejson(tgis_server *s, const char *theme, const char *host, server_reply *r)
{
  int i = server_theme_index(s, theme);
  json_object *o, *tiles;
  char url[512];
  double center[3] = { s->center[0], s->center[1], s->center[2] };

  if (i < 0 || (s->mb_theme[0] && strcmp(theme, s->mb_theme) != 0)) {
    server_reply_error(r, 404, "no theme '%s'", theme);
    return;
  }
  o = json_object_new_object();
  tiles = json_object_new_array();
  snprintf(url, sizeof url, "%s%s/tiles/%s/{z}/{x}/{y}.png", host ? "http://" : "",
           host ? host : "", theme);
  json_object_array_add(tiles, json_object_new_string(url));
  json_object_object_add(o, "tilejson", json_object_new_string("3.0.0"));
  json_object_object_add(o, "name", json_object_new_string(theme));
  json_object_object_add(o, "description",
                         json_object_new_string(s->themes[i]->title ? s->themes[i]->title : theme));
  json_object_object_add(o, "scheme", json_object_new_string("xyz"));
  json_object_object_add(o, "tiles", tiles);
  json_object_object_add(o, "minzoom", json_object_new_int(0));
  json_object_object_add(o, "maxzoom", json_object_new_int(22));
  json_object_object_add(o, "bounds", doubles(s->bounds, 4));
  json_object_object_add(o, "center", doubles(center, 3));
  json_object_object_add(o, "attribution", json_object_new_string("tgis &mdash; Tashkent city data"));
  json_object_object_add(o, "vector_layers", json_object_new_array());
  server_reply_json(r, to_text(o));
}

/* ---- feature info -------------------------------------------------------- */

static json_object *properties(const tgis_layer_def *def, const tgis_feature *f)
{
  json_object *p = json_object_new_object();
  for (int i = 0; i < def->n_fields; i++) {
    const tgis_field_def *fd = &def->fields[i];
    const tgis_value *v = &f->values[i];
    json_object *j = NULL;
    if (fd->flags & TGIS_FIELD_PRIVATE)
      continue;
    if (!v->is_null)
      j = fd->type == TGIS_FT_TEXT ? json_object_new_string(v->s)
        : fd->type == TGIS_FT_INT  ? json_object_new_int64(v->i)
                                   : num(v->d, 2);
    json_object_object_add(p, fd->name, j);
  }
  return p;
}

/* Is (x, y) inside the polygons (even-odd over every ring)? */
static int point_in(const tgis_geombuf *g, double x, double y)
{
  size_t off = 0;
  int in = 0;
  for (size_t r = 0; r < g->n_parts; r++) {
    const double *p = g->xy + 2 * off;
    size_t n = g->parts[r];
    for (size_t i = 0, j = n - 1; i < n; j = i++)
      if ((p[2 * i + 1] > y) != (p[2 * j + 1] > y) &&
          x < (p[2 * j] - p[2 * i]) * (y - p[2 * i + 1]) / (p[2 * j + 1] - p[2 * i + 1]) + p[2 * i])
        in = !in;
    off += n;
  }
  return in;
}

/* Distance from (x, y) to the lines or points of g. */
static double distance_to(const tgis_geombuf *g, double x, double y)
{
  double best = INFINITY;
  size_t off = 0;
  if (g->n_parts == 0) {
    for (size_t i = 0; i < g->n_points; i++)
      best = fmin(best, hypot(g->xy[2 * i] - x, g->xy[2 * i + 1] - y));
    return best;
  }
  for (size_t r = 0; r < g->n_parts; r++) {
    const double *p = g->xy + 2 * off;
    for (size_t i = 0; i + 1 < g->parts[r]; i++) {
      double ax = p[2 * i], ay = p[2 * i + 1], bx = p[2 * i + 2], by = p[2 * i + 3];
      double dx = bx - ax, dy = by - ay, l2 = dx * dx + dy * dy;
      double t = l2 > 0 ? ((x - ax) * dx + (y - ay) * dy) / l2 : 0;
      t = t < 0 ? 0 : t > 1 ? 1 : t;
      best = fmin(best, hypot(ax + t * dx - x, ay + t * dy - y));
    }
    off += g->parts[r];
  }
  return best;
}

typedef struct info_q {
  const tgis_layer_def *def;
  double x, y, reach;
  int polygons;
  json_object *best;              /* polygons: all hits; else the nearest */
  double best_d;
  int n;
} info_q;

static json_object *feature_json(const tgis_layer_def *def, const tgis_feature *f, double d)
{
  json_object *o = json_object_new_object();
  json_object_object_add(o, "layer", json_object_new_string(def->table));
  json_object_object_add(o, "id", json_object_new_int64(f->id));
  if (d >= 0)
    json_object_object_add(o, "distance_m", num(d, 1));
  json_object_object_add(o, "properties", properties(def, f));
  return o;
}

static tgis_status on_info(const tgis_feature *f, void *payload)
{
  info_q *q = payload;
  if (f->geom->n_points == 0)
    return TGIS_OK;
  if (q->polygons) {
    if (q->n < INFO_MAX && point_in(f->geom, q->x, q->y)) {
      json_object_array_add(q->best, feature_json(q->def, f, -1));
      q->n++;
    }
    return TGIS_OK;
  }
  double d = distance_to(f->geom, q->x, q->y);
  if (d <= q->reach && d < q->best_d) {
    json_object_put(q->best);
    q->best = feature_json(q->def, f, d);
    q->best_d = d;
  }
  return TGIS_OK;
}

static int parse_num(const char *s, double *v)
{
  char *end;
  if (!s || !*s || strlen(s) > 32)
    return -1;
  *v = strtod(s, &end);
  return *end || !isfinite(*v) ? -1 : 0;
}

void server_info(tgis_server *s, server_arg_fn arg, void *conn, server_reply *r)
{
  static const struct { tgis_layer layer; double reach_px; int min_zoom; } asks[] = {
    { TGIS_LAYER_FACILITIES, 10, 0 }, { TGIS_LAYER_UTILITY_NODES, 6, 17 },
    { TGIS_LAYER_ROADS, 6, 0 }, { TGIS_LAYER_UTILITY_LINES, 4, 17 },
    { TGIS_LAYER_PARCELS, 0, 0 }, { TGIS_LAYER_DISTRICTS, 0, 0 },
  };
  double lon, lat, z = 17, xy[2];
  json_object *features;
  server_slot *slot;
  tgis_store *store;
  tgis_status st = TGIS_OK;

  if (!s->has_db || s->mb_theme[0]) {
    server_reply_error(r, 501, "feature info needs the database (not an MBTiles file)");
    return;
  }
  if (parse_num(arg(conn, "lon"), &lon) || parse_num(arg(conn, "lat"), &lat) ||
      lon < -180 || lon > 180 || lat < -85.06 || lat > 85.06) {
    server_reply_error(r, 400, "want lon and lat in degrees (lon=69.27&lat=41.31)");
    return;
  }
  if (arg(conn, "z") && (parse_num(arg(conn, "z"), &z) || z < 0 || z > 22)) {
    server_reply_error(r, 400, "z must be a zoom 0..22");
    return;
  }
  slot = server_slot_take(s);
  store = tgis__store(slot->ctx);
  xy[0] = lon;
  xy[1] = lat;
  if ((st = tgis_merc_lonlat(tgis_source_db_merc(tgis_tiles__source(slot->tiles)), 1, xy, 1))
      != TGIS_OK) {
    server_slot_give(s, slot);
    server_reply_error(r, 400, "lon/lat outside the database CRS");
    return;
  }
  /* Metres of the ground per pixel at this zoom and latitude. */
  double px = 2 * TGIS_MERC_HALF / (256.0 * pow(2, z)) * cos(lat * M_PI / 180);
  features = json_object_new_array();
  for (size_t i = 0; i < sizeof asks / sizeof asks[0] && st == TGIS_OK; i++) {
    info_q q;
    if (z < asks[i].min_zoom)
      continue;
    memset(&q, 0, sizeof q);
    q.def = tgis_layer__def(asks[i].layer);
    q.x = xy[0];
    q.y = xy[1];
    q.reach = asks[i].reach_px * px;
    q.polygons = asks[i].reach_px == 0;
    q.best_d = INFINITY;
    if (q.polygons)
      q.best = json_object_new_array();
    tgis_extent w = { q.x - q.reach, q.y - q.reach, q.x + q.reach, q.y + q.reach };
    st = store->vt->layer_scan(store, asks[i].layer, &w, on_info, &q);
    if (q.polygons) {
      for (size_t k = 0; k < json_object_array_length(q.best); k++)
        json_object_array_add(features, json_object_get(json_object_array_get_idx(q.best, k)));
      json_object_put(q.best);
    } else if (q.best)
      json_object_array_add(features, q.best);
  }
  if (st != TGIS_OK) {
    server_reply_error(r, 500, "%s", tgis_errmsg(slot->ctx));
    json_object_put(features);
  } else {
    json_object *o = json_object_new_object();
    json_object_object_add(o, "lon", num(lon, 7));
    json_object_object_add(o, "lat", num(lat, 7));
    json_object_object_add(o, "features", features);
    server_reply_json(r, to_text(o));
  }
  server_slot_give(s, slot);
}

/* ---- search ------------------------------------------------------------------ */

typedef struct search_q {
  tgis_merc *merc;
  const tgis_layer_def *def;
  const char *label_field;
  json_object *results;
  int n, limit;
} search_q;

static tgis_status on_found(const tgis_feature *f, void *payload)
{
  search_q *q = payload;
  tgis_extent e = tgis_geombuf_extent(f->geom);
  double xy[6] = { 0.5 * (e.minx + e.maxx), 0.5 * (e.miny + e.maxy), e.minx, e.miny, e.maxx,
                   e.maxy };
  int fi = tgis_layer__field(q->def, q->label_field);
  json_object *o;

  if (q->n >= q->limit || f->geom->n_points == 0 || fi < 0 || f->values[fi].is_null)
    return TGIS_OK;
  if (tgis_merc_lonlat(q->merc, 0, xy, 3) != TGIS_OK)
    return TGIS_OK;
  o = json_object_new_object();
  json_object_object_add(o, "layer", json_object_new_string(q->def->table));
  json_object_object_add(o, "id", json_object_new_int64(f->id));
  json_object_object_add(o, "label", json_object_new_string(f->values[fi].s));
  json_object_object_add(o, "lon", num(xy[0], 7));
  json_object_object_add(o, "lat", num(xy[1], 7));
  json_object_object_add(o, "bbox", f->geom->n_points > 1 ? doubles(xy + 2, 4) : NULL);
  json_object_array_add(q->results, o);
  q->n++;
  return TGIS_OK;
}

void server_search(tgis_server *s, server_arg_fn arg, void *conn, server_reply *r)
{
  const char *text = arg(conn, "q"), *lim = arg(conn, "limit");
  double limit = 10;
  server_slot *slot;
  tgis_store *store;
  search_q q;
  tgis_status st = TGIS_OK;
  int digits = 1;

  if (!s->has_db || s->mb_theme[0]) {
    server_reply_error(r, 501, "search needs the database (not an MBTiles file)");
    return;
  }
  if (!text || !*text || strlen(text) > 100) {
    server_reply_error(r, 400, "want q: a cadastre number (or its start) or part of a facility "
                               "name, 1 to 100 bytes");
    return;
  }
  if (lim && (parse_num(lim, &limit) || limit < 1 || limit > SEARCH_MAX || limit != floor(limit))) {
    server_reply_error(r, 400, "limit must be 1 to %d", SEARCH_MAX);
    return;
  }
  for (const char *p = text; *p; p++)
    digits &= isdigit((unsigned char)*p) || *p == ':';
  slot = server_slot_take(s);
  store = tgis__store(slot->ctx);
  memset(&q, 0, sizeof q);
  q.merc = tgis_source_db_merc(tgis_tiles__source(slot->tiles));
  q.results = json_object_new_array();
  q.limit = (int)limit;
  if (digits) {                   /* a cadastre number: prefix through its index */
    q.def = tgis_layer__def(TGIS_LAYER_PARCELS);
    q.label_field = "cadastre";
    st = store->vt->feature_find(store, TGIS_LAYER_PARCELS, "cadastre", text, 0, q.limit,
                                 on_found, &q);
  }
  if (st == TGIS_OK && q.n < q.limit) {
    q.def = tgis_layer__def(TGIS_LAYER_FACILITIES);
    q.label_field = "name";
    st = store->vt->feature_find(store, TGIS_LAYER_FACILITIES, "name", text, 1, q.limit - q.n,
                                 on_found, &q);
  }
  if (st != TGIS_OK) {
    server_reply_error(r, 500, "%s", tgis_errmsg(slot->ctx));
    json_object_put(q.results);
  } else {
    json_object *o = json_object_new_object();
    json_object_object_add(o, "query", json_object_new_string(text));
    json_object_object_add(o, "results", q.results);
    server_reply_json(r, to_text(o));
  }
  server_slot_give(s, slot);
}

/* ---- health and statistics ------------------------------------------------------ */

void server_healthz(tgis_server *s, server_reply *r)
{
  json_object *o = json_object_new_object();
  json_object_object_add(o, "status", json_object_new_string("ok"));
  json_object_object_add(o, "version", json_object_new_string(tgis_version()));
  json_object_object_add(o, "mode", json_object_new_string(s->mb_theme[0] ? "mbtiles" : "database"));
  json_object_object_add(o, "threads", json_object_new_int(s->n_slots));
  server_reply_json(r, to_text(o));
}

void server_stats(tgis_server *s, server_reply *r)
{
  tgis_tile_cache_stats cs;
  json_object *o = json_object_new_object();
  uint64_t req, err;

  tgis_tile_cache_stats_get(s->cache, &cs);
  pthread_mutex_lock(&s->slot_mu);
  req = s->requests;
  err = s->errors;
  pthread_mutex_unlock(&s->slot_mu);
  json_object_object_add(o, "requests", json_object_new_int64((int64_t)req));
  json_object_object_add(o, "errors", json_object_new_int64((int64_t)err));
  json_object_object_add(o, "cache_entries", json_object_new_int64((int64_t)cs.entries));
  json_object_object_add(o, "cache_bytes", json_object_new_int64((int64_t)cs.bytes));
  json_object_object_add(o, "cache_max_bytes", json_object_new_int64((int64_t)cs.max_bytes));
  json_object_object_add(o, "cache_hits", json_object_new_int64((int64_t)cs.hits));
  json_object_object_add(o, "cache_misses", json_object_new_int64((int64_t)cs.misses));
  json_object_object_add(o, "cache_evictions", json_object_new_int64((int64_t)cs.evictions));
  json_object_object_add(o, "cache_invalidated", json_object_new_int64((int64_t)cs.invalidated));
  pthread_mutex_lock(&s->stop_mu);
  int64_t last = s->last_change;
  pthread_mutex_unlock(&s->stop_mu);
  json_object_object_add(o, "last_change", json_object_new_int64(last));
  server_reply_json(r, to_text(o));
}
