/*
 * import.c -- tgis_import(): one source into the database, all or nothing.
 *
 * A run opens the source with GDAL, picks a mapping, and for every mapped
 * source layer lets a reader thread (reader.c) read, map, reproject and
 * check the features while this thread writes them or records why not --
 * all inside one transaction that commits only when every layer went
 * through. A failure or a cancel rolls everything back and then logs the
 * failed runs in a small transaction of their own, so import_runs tells
 * what happened either way. GDAL's messages are routed into the context
 * through a thread-local error handler; nothing is printed.
 */
#include <math.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cpl_error.h>
#include <cpl_string.h>

#include "import_int.h"
#include "layers.h"

#define CITY_MARGIN_M 2000.0     /* how far outside the districts is still the city */
#define CHANGE_CELL_M 1000.0     /* grid of the change log */
#define PROGRESS_EVERY 2048

typedef struct importer {
  tgis_ctx *ctx;
  tgis_store *st;
  const tgis_import_options *o;
  const char *source;
  GDALDatasetH ds;
  const char *recode;          /* encoding we recode from, or NULL */
  tgis_mapping map;
  FILE *rejects;
  tgis_import_result *res;
  int run_open[TGIS_LAYER_COUNT];
  int run_done[TGIS_LAYER_COUNT];
  tgis_run_counts counts[TGIS_LAYER_COUNT];
  tgis_change_cells changes[TGIS_LAYER_COUNT];
  int cleared[TGIS_LAYER_COUNT];
  int have_city;
  tgis_extent city;
  tgis_geombuf part;            /* one part of a multi-part line */
  int64_t done, total;
  char gdal_error[512];
} importer;

/* ---- GDAL messages ------------------------------------------------------------ */

static void on_gdal_error(CPLErr cls, CPLErrorNum num, const char *msg)
{
  importer *im = CPLGetErrorHandlerUserData();
  (void)num;
  if (cls >= CE_Failure)
    snprintf(im->gdal_error, sizeof im->gdal_error, "%s", msg);
  else if (cls == CE_Warning)
    tgis__log(im->ctx, TGIS_LOG_WARN, "GDAL: %s", msg);
  else
    tgis__log(im->ctx, TGIS_LOG_DEBUG, "GDAL: %s", msg);
}

/* ---- opening ------------------------------------------------------------------- */

static int ends_with(const char *s, const char *suffix)
{
  size_t n = strlen(s), k = strlen(suffix);
  return n >= k && strcasecmp(s + n - k, suffix) == 0;
}

static tgis_status open_source(importer *im)
{
  char path[4096];
  char **open_opts = NULL;
  const char *drv;

  if (ends_with(im->source, ".zip") && strncmp(im->source, "/vsi", 4) != 0)
    snprintf(path, sizeof path, "/vsizip/%s", im->source);
  else if (ends_with(im->source, ".gz") && strncmp(im->source, "/vsi", 4) != 0)
    snprintf(path, sizeof path, "/vsigzip/%s", im->source);
  else
    snprintf(path, sizeof path, "%s", im->source);
  if (ends_with(im->source, ".geojson") || ends_with(im->source, ".json")) {
    /* "10:03:07:01:03:0012" must stay text, not become a time of day. */
    open_opts = CSLAddString(open_opts, "DATE_AS_STRING=YES");
  }
  if (ends_with(im->source, ".csv")) {
    /* A CSV carries geometry as WKT or as longitude/latitude columns. */
    open_opts = CSLAddString(open_opts, "GEOM_POSSIBLE_NAMES=WKT,wkt,geom,geometry,the_geom");
    open_opts = CSLAddString(open_opts, "X_POSSIBLE_NAMES=lon,longitude,lng,x,X");
    open_opts = CSLAddString(open_opts, "Y_POSSIBLE_NAMES=lat,latitude,y,Y");
    open_opts = CSLAddString(open_opts, "KEEP_GEOM_COLUMNS=NO");
  }
  if (im->o->encoding && (ends_with(im->source, ".shp") || ends_with(im->source, ".zip") ||
                          ends_with(im->source, ".dbf")))
    open_opts = CSLSetNameValue(open_opts, "ENCODING", im->o->encoding);
  im->ds = GDALOpenEx(path, GDAL_OF_VECTOR | GDAL_OF_READONLY, NULL,
                      (const char *const *)open_opts, NULL);
  CSLDestroy(open_opts);
  if (!im->ds)
    return tgis__fail(im->ctx, access(im->source, F_OK) == 0 ? TGIS_EIO : TGIS_ENOTFOUND,
                      "%s: cannot open as a vector source: %s", im->source,
                      im->gdal_error[0] ? im->gdal_error : "no such file or unknown format");
  drv = GDALGetDriverShortName(GDALGetDatasetDriver(im->ds));
  /* The Shapefile driver recodes itself; others' text we recode. */
  im->recode = im->o->encoding && strcmp(drv, "ESRI Shapefile") != 0 ? im->o->encoding : NULL;
  return TGIS_OK;
}

static tgis_status choose_mapping(importer *im)
{
  const char *name = im->o->mapping;
  const char *drv = GDALGetDriverShortName(GDALGetDatasetDriver(im->ds));
  tgis_status st;

  if (name) {
    st = tgis_mapping__builtin(&im->map, im->ctx, name);
    if (st == TGIS_ENOTFOUND)
      st = tgis_mapping__load(&im->map, im->ctx, name);
    return st;
  }
  if (strcmp(drv, "OSM") == 0)
    return tgis_mapping__builtin(&im->map, im->ctx, "osm");
  for (int i = 0; i < TGIS_LAYER_COUNT; i++)
    if (GDALDatasetGetLayerByName(im->ds, tgis_layer_name((tgis_layer)i)))
      return tgis_mapping__builtin(&im->map, im->ctx, "tgis");
  if (im->o->layer >= 0)
    return tgis_mapping__identity(&im->map, im->ctx, (tgis_layer)im->o->layer);
  return tgis__fail(im->ctx, TGIS_ENOTFOUND,
                    "%s: cannot tell which tgis layer its layers hold; give --layer "
                    "(parcels, roads, ...) or a --mapping file", im->source);
}

/* The OGR layer a rule reads; NULL (no error) when a built-in rule's layer
 * is simply absent from this source. */
static tgis_status rule_layer(importer *im, const tgis_layer_rule *r, OGRLayerH *out)
{
  const char *name = im->o->source_layer ? im->o->source_layer : r->source_layer;
  int builtin = strcmp(im->map.name, "tgis") == 0 || strcmp(im->map.name, "osm") == 0;

  *out = NULL;
  if (!name) {
    int n = GDALDatasetGetLayerCount(im->ds);
    if (n != 1)
      return tgis__fail(im->ctx, TGIS_EINVAL, "%s: %d layers; name the one to read with "
                        "--source-layer", im->source, n);
    *out = GDALDatasetGetLayer(im->ds, 0);
    return TGIS_OK;
  }
  *out = GDALDatasetGetLayerByName(im->ds, name);
  if (!*out && !(builtin && !im->o->source_layer))
    return tgis__fail(im->ctx, TGIS_ENOTFOUND, "%s: no layer '%s'", im->source, name);
  return TGIS_OK;
}

/* ---- one feature ----------------------------------------------------------------- */

static tgis_status record_note(importer *im, tgis_layer layer, int64_t fid, const char *action,
                               const char *field, const char *reason)
{
  tgis_import_counts *c = &im->res->layers[layer];
  tgis_rejects__write(im->rejects, tgis_layer_name(layer), fid, action, field, reason);
  return im->st->vt->reject_add(im->st, c->run_id, layer, fid, action, field, reason);
}

static tgis_status reject(importer *im, tgis_layer layer, int64_t fid, const tgis_verdict *v)
{
  im->counts[layer].rejected++;
  return record_note(im, layer, fid, "rejected", v->field, v->reason);
}

static tgis_status write_one(importer *im, tgis_layer target, int64_t fid, tgis_value *vals,
                             const tgis_geombuf *g, const tgis_verdict *v)
{
  const tgis_layer_def *def = tgis_layer__def(target);
  tgis_import_counts *c = &im->res->layers[target];
  tgis_write_result wr;
  tgis_status st;
  int repaired = 0;
  tgis_extent box;

  st = im->st->vt->row_write(im->st, target, im->o->mode == TGIS_IMPORT_UPSERT, c->run_id,
                             vals, g, &wr);
  if (st != TGIS_OK)
    return st;
  if (wr.outcome == TGIS_WRITE_DUPLICATE || wr.outcome == TGIS_WRITE_REFUSED) {
    tgis_verdict dv = { 0 };
    int key = -1;
    for (int i = 0; i < def->n_fields; i++)
      if ((def->fields[i].flags & TGIS_FIELD_KEY) && !vals[i].is_null)
        key = i;
    for (int i = 0; key < 0 && i < def->n_fields; i++)
      if (def->fields[i].flags & TGIS_FIELD_ALT_KEY)
        key = i;
    if (wr.outcome == TGIS_WRITE_DUPLICATE && key >= 0)
      tgis_verdict__reject(&dv, def->fields[key].name, "duplicate %s '%.60s' (%s)",
                           def->fields[key].name, vals[key].s ? vals[key].s : "",
                           wr.why);
    else
      tgis_verdict__reject(&dv, NULL, "refused by the database: %s", wr.why);
    return reject(im, target, fid, &dv);
  }
  if (wr.outcome == TGIS_WRITE_INSERTED)
    im->counts[target].inserted++;
  else
    im->counts[target].updated++;
  for (int i = 0; i < v->n_notes; i++) {
    repaired |= strcmp(v->notes[i].action, "repaired") == 0;
    if ((st = record_note(im, target, fid, v->notes[i].action, v->notes[i].field,
                          v->notes[i].reason)) != TGIS_OK)
      return st;
  }
  for (int i = 0; wr.unresolved && i < def->n_fields; i++) {
    char why[256];
    if (!(wr.unresolved & (1u << i)))
      continue;
    snprintf(why, sizeof why, "%s: node '%.60s' not found in %s", def->fields[i].name,
             vals[i].s, tgis_layer_name(TGIS_LAYER_UTILITY_NODES));
    if ((st = record_note(im, target, fid, "warning", def->fields[i].name, why)) != TGIS_OK)
      return st;
  }
  im->counts[target].repaired += repaired;
  box = tgis_geombuf_extent(g);
  if ((st = tgis_changes__add(&im->changes[target], im->ctx, &box)) != TGIS_OK)
    return st;
  if (wr.has_old_extent)
    return tgis_changes__add(&im->changes[target], im->ctx, &wr.old_extent);
  return TGIS_OK;
}

/* Write each part of a multi-part line as its own road or pipe. */
static tgis_status write_parts(importer *im, tgis_layer target, int64_t fid, tgis_value *vals,
                               const tgis_geombuf *g, tgis_verdict *v)
{
  const tgis_layer_def *def = tgis_layer__def(target);
  int key = -1;
  size_t pt = 0;
  char id[1100];
  const char *base_id = NULL;
  tgis_status st = TGIS_OK;

  for (int i = 0; i < def->n_fields; i++)
    if (def->fields[i].flags & TGIS_FIELD_KEY)
      key = i;
  if (key >= 0 && !vals[key].is_null)
    base_id = vals[key].s;
  tgis_verdict__note(v, "repaired", "geom", "a line of %zu parts, stored as %zu features",
                     g->n_parts, g->n_parts);
  for (size_t k = 0; k < g->n_parts && st == TGIS_OK; k++) {
    tgis_geombuf_reset(&im->part, TGIS_GEOM_LINESTRING);
    for (uint32_t i = 0; i < g->parts[k] && st == TGIS_OK; i++)
      st = tgis_geombuf_add_point(&im->part, g->xy[2 * (pt + i)], g->xy[2 * (pt + i) + 1]);
    pt += g->parts[k];
    if (st == TGIS_OK)
      st = tgis_geombuf_end_part(&im->part);
    if (st != TGIS_OK)
      return tgis__fail(im->ctx, TGIS_ENOMEM, "out of memory splitting a line");
    if (base_id) {
      snprintf(id, sizeof id, "%s/%zu", base_id, k + 1);
      vals[key].s = id;
    }
    st = write_one(im, target, fid, vals, &im->part, v);
    v->n_notes = 0;  /* the notes go with the first part only */
  }
  return st;
}

/* Store one prepared feature, or record why not. */
static tgis_status commit_item(importer *im, tgis_layer target, tgis_item *it)
{
  im->counts[target].read++;
  if (it->v.rejected)
    return reject(im, target, it->fid, &it->v);
  if (tgis_layer__dim(target) == 1 && it->g.n_parts > 1)
    return write_parts(im, target, it->fid, it->vals, &it->g, &it->v);
  return write_one(im, target, it->fid, it->vals, &it->g, &it->v);
}

/* ---- one rule (a source layer into a target layer) ------------------------------- */

static tgis_status city_extent(importer *im)
{
  tgis_layer_info li;
  tgis_status st = im->st->vt->layer_info(im->st, TGIS_LAYER_DISTRICTS, &li);
  if (st != TGIS_OK)
    return st;
  im->have_city = li.count > 0 && li.has_extent;
  if (im->have_city) {
    im->city.minx = li.extent.minx - CITY_MARGIN_M;
    im->city.miny = li.extent.miny - CITY_MARGIN_M;
    im->city.maxx = li.extent.maxx + CITY_MARGIN_M;
    im->city.maxy = li.extent.maxy + CITY_MARGIN_M;
  } else {
    tgis__log(im->ctx, TGIS_LOG_INFO, "no districts loaded: the city extent check is off");
  }
  return TGIS_OK;
}

static tgis_status open_run(importer *im, tgis_layer target)
{
  static const char *const modes[] = { "append", "upsert", "replace" };
  tgis_run_desc d = { im->source, target, modes[im->o->mode] };
  tgis_status st;
  if (im->run_open[target])
    return TGIS_OK;
  if ((st = im->st->vt->run_open(im->st, &d, &im->res->layers[target].run_id)) != TGIS_OK)
    return st;
  im->run_open[target] = 1;
  tgis_changes__init(&im->changes[target], CHANGE_CELL_M);
  if ((st = im->st->vt->bulk_begin(im->st, target)) != TGIS_OK)
    return st;
  if (im->o->mode == TGIS_IMPORT_REPLACE && !im->cleared[target]) {
    tgis_layer_info li;
    im->cleared[target] = 1;
    /* What disappears changes the map too: the old extent goes to the log. */
    if ((st = im->st->vt->layer_info(im->st, target, &li)) != TGIS_OK)
      return st;
    if (li.has_extent &&
        (st = tgis_changes__add(&im->changes[target], im->ctx, &li.extent)) != TGIS_OK)
      return st;
    return im->st->vt->layer_clear(im->st, target);
  }
  return TGIS_OK;
}

static tgis_status progress(importer *im, const char *stage)
{
  if (im->o->progress && im->o->progress(stage, im->done, im->total, im->o->progress_payload))
    return tgis__fail(im->ctx, TGIS_ECANCELLED, "%s: import cancelled", im->source);
  return TGIS_OK;
}

static tgis_status import_rule(importer *im, const tgis_layer_rule *r, OGRLayerH layer)
{
  const tgis_layer_def *def = tgis_layer__def(r->target);
  tgis_reader_config cfg;
  tgis_reader *reader = NULL;
  char what[512];
  tgis_item *items;
  tgis_status st;
  int n, warnings;

  snprintf(what, sizeof what, "%s, layer %s", im->source, OGR_L_GetName(layer));
  if ((st = open_run(im, r->target)) != TGIS_OK ||
      (st = city_extent(im)) != TGIS_OK)
    return st;
  if (OGR_L_SetAttributeFilter(layer, r->where) != OGRERR_NONE)
    return tgis__fail(im->ctx, TGIS_EPARSE, "%s: bad filter \"%s\": %s", what,
                      r->where ? r->where : "", im->gdal_error);
  memset(&cfg, 0, sizeof cfg);
  cfg.rule = r;
  cfg.layer = layer;
  cfg.what = what;
  cfg.recode = im->recode;
  cfg.s_srs = im->o->s_srs;
  cfg.srid = im->st->srid;
  cfg.have_city = im->have_city;
  cfg.city = im->city;
  /* Reading and checking run on the reader's thread; writing runs here. */
  if ((st = tgis_reader__start(&reader, im->ctx, &cfg)) != TGIS_OK)
    return st;
  while ((st = tgis_reader__next(reader, im->ctx, &items, &n)) == TGIS_OK && n > 0) {
    for (int i = 0; i < n && st == TGIS_OK; i++) {
      st = commit_item(im, r->target, &items[i]);
      if (st == TGIS_OK && ++im->done % PROGRESS_EVERY == 0)
        st = progress(im, def->table);
    }
    if (st != TGIS_OK)
      break;
  }
  warnings = tgis_reader__finish(reader);
  if (warnings)
    tgis__log(im->ctx, TGIS_LOG_WARN, "%s: GDAL gave %d warning%s while reading", what,
              warnings, warnings == 1 ? "" : "s");
  if (st == TGIS_OK)
    st = progress(im, def->table);
  return st;
}

/* ---- the run ------------------------------------------------------------------------ */

static int64_t count_features(importer *im)
{
  int64_t total = 0;
  for (int i = 0; i < im->map.n_rules; i++) {
    OGRLayerH layer = NULL;
    GIntBig n;
    if (rule_layer(im, &im->map.rules[i], &layer) != TGIS_OK || !layer)
      continue;
    n = OGR_L_GetFeatureCount(layer, 0);
    if (n < 0)
      return 0;  /* unknown (e.g. OSM): progress without a total */
    total += n;
  }
  tgis__clear_error(im->ctx);
  return total;
}

/* A target layer is done when no later rule feeds it: bring its index and
 * statistics up to date and close its run (inside the transaction), so the
 * layers after it see it whole -- the city extent comes from districts. */
static tgis_status finish_layer(importer *im, tgis_layer l)
{
  const tgis_change_cells *c = &im->changes[l];
  int64_t run = im->res->layers[l].run_id;
  tgis_status st;
  if (!im->run_open[l] || im->run_done[l])
    return TGIS_OK;
  im->run_done[l] = 1;
  if ((st = im->st->vt->bulk_end(im->st, l, run)) != TGIS_OK ||
      (st = tgis_changes__write(&im->changes[l], im->ctx, im->st, run, l)) != TGIS_OK ||
      (st = im->st->vt->run_close(im->st, run, &im->counts[l], "ok", NULL)) != TGIS_OK)
    return st;
  return im->st->vt->layer_refresh(im->st, l, c->any ? &c->all : NULL, im->cleared[l]);
}

static tgis_status run_rules(importer *im)
{
  tgis_status st;
  int matched = 0;
  for (int i = 0; i < im->map.n_rules; i++) {
    const tgis_layer_rule *r = &im->map.rules[i];
    OGRLayerH layer;
    if (im->o->layer >= 0 && (int)r->target != im->o->layer)
      continue;
    if ((st = rule_layer(im, r, &layer)) != TGIS_OK)
      return st;
    if (!layer)
      continue;
    matched++;
    if ((st = import_rule(im, r, layer)) != TGIS_OK)
      return st;
    {
      int later = 0;
      for (int j = i + 1; j < im->map.n_rules; j++)
        later |= im->map.rules[j].target == r->target;
      if (!later && (st = finish_layer(im, r->target)) != TGIS_OK)
        return st;
    }
  }
  if (!matched)
    return tgis__fail(im->ctx, TGIS_ENOTFOUND, "%s: no layer of the source maps to %s "
                      "(mapping %s)", im->source,
                      im->o->layer >= 0 ? tgis_layer_name((tgis_layer)im->o->layer)
                                        : "a tgis layer", im->map.name);
  return TGIS_OK;
}

/* After a rollback: log the runs that failed, keeping the error message. */
static void log_failed_runs(importer *im, tgis_status why)
{
  char msg[TGIS_ERRMSG_MAX];
  const char *status = why == TGIS_ECANCELLED ? "cancelled" : "failed";
  static const char *const modes[] = { "append", "upsert", "replace" };

  snprintf(msg, sizeof msg, "%s", tgis_errmsg(im->ctx));
  if (tgis_store_begin(im->st) != TGIS_OK)
    goto restore;
  for (int i = 0; i < TGIS_LAYER_COUNT; i++) {
    tgis_run_desc d = { im->source, (tgis_layer)i, modes[im->o->mode] };
    int64_t id;
    if (!im->run_open[i])
      continue;
    if (im->st->vt->run_open(im->st, &d, &id) != TGIS_OK ||
        im->st->vt->run_close(im->st, id, &im->counts[i], status, msg) != TGIS_OK) {
      tgis_store_rollback(im->st);
      goto restore;
    }
    im->res->layers[i].run_id = id;
  }
  if (tgis_store_commit(im->st) != TGIS_OK)
    tgis_store_rollback(im->st);
restore:
  tgis__fail(im->ctx, why, "%s", msg);
}

tgis_status tgis_import(tgis_import_result *out, tgis_ctx *ctx, const char *source,
                        const tgis_import_options *opts)
{
  static const tgis_import_options defaults = TGIS_IMPORT_OPTIONS_INIT;
  tgis_import_result scratch;
  struct timespec t0, t1;
  importer im;
  tgis_status st;

  memset(&im, 0, sizeof im);
  im.ctx = ctx;
  im.o = opts ? opts : &defaults;
  im.source = source;
  im.res = out ? out : &scratch;
  memset(im.res, 0, sizeof *im.res);
  clock_gettime(CLOCK_MONOTONIC, &t0);
  tgis__clear_error(ctx);

  if (im.o->version != TGIS_IMPORT_OPTIONS_VERSION)
    return tgis__fail(ctx, TGIS_EINVAL, "tgis_import_options version %u, this library knows %d",
                      im.o->version, TGIS_IMPORT_OPTIONS_VERSION);
  if (im.o->layer >= TGIS_LAYER_COUNT || im.o->layer < -1 ||
      (unsigned)im.o->mode > TGIS_IMPORT_REPLACE)
    return tgis__fail(ctx, TGIS_EINVAL, "bad import options (layer %d, mode %d)",
                      im.o->layer, (int)im.o->mode);
  if ((st = tgis__require_store(ctx, &im.st)) != TGIS_OK)
    return st;
  if (im.st->readonly)
    return tgis__fail(ctx, TGIS_EREADONLY, "the database was opened read-only");

  GDALAllRegister();
  CPLPushErrorHandlerEx(on_gdal_error, &im);
  tgis_geombuf_init(&im.part, ctx);

  if ((st = open_source(&im)) != TGIS_OK || (st = choose_mapping(&im)) != TGIS_OK ||
      (st = tgis_rejects__open(&im.rejects, ctx, im.o->rejects_csv)) != TGIS_OK)
    goto done;
  im.total = count_features(&im);
  if ((st = tgis_store_begin(im.st)) != TGIS_OK)
    goto done;
  if ((st = run_rules(&im)) == TGIS_OK && (st = tgis_store_commit(im.st)) == TGIS_OK) {
    for (int i = 0; i < TGIS_LAYER_COUNT; i++) {
      tgis_import_counts *c = &im.res->layers[i];
      c->read = im.counts[i].read;
      c->inserted = im.counts[i].inserted;
      c->updated = im.counts[i].updated;
      c->repaired = im.counts[i].repaired;
      c->rejected = im.counts[i].rejected;
    }
    goto done;
  }
  tgis_store_rollback(im.st);
  log_failed_runs(&im, st);

done:
  if (im.rejects)
    fclose(im.rejects);
  for (int i = 0; i < TGIS_LAYER_COUNT; i++)
    tgis_changes__free(&im.changes[i], ctx);
  tgis_mapping__free(&im.map, ctx);
  tgis_geombuf_free(&im.part);
  if (im.ds)
    GDALClose(im.ds);
  CPLPopErrorHandler();
  clock_gettime(CLOCK_MONOTONIC, &t1);
  im.res->seconds = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
  return st;
}
