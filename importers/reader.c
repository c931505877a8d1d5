/*
 * reader.c -- the reading side of an import, on a thread of its own.
 *
 * Reading a source with OGR, mapping its fields, reprojecting and checking
 * every feature costs about as much as writing it to SQLite, so the two run
 * in parallel: this thread turns features into prepared items (values,
 * geometry in the database CRS, a verdict) and hands them over in batches
 * through a small ring; the import's own thread writes them. The reader has
 * a context of its own (GEOS, PROJ, error message), as the library's rule
 * of one context per thread requires; it touches neither the database nor
 * the importer's counters. GDAL's messages on this thread go to a handler of
 * its own (GDAL keeps handlers per thread).
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <cpl_error.h>

#include "import_int.h"
#include "layers.h"

#define BATCH_ITEMS 256
#define N_BATCHES 4

typedef struct batch {
  tgis_item items[BATCH_ITEMS];
  int n;
} batch;

struct tgis_reader {
  tgis_ctx *owner;             /* the importer's context: allocated r */
  tgis_ctx *ctx;               /* the reader's own context */
  tgis_reader_config cfg;
  tgis_src_field sf[TGIS_MAX_FIELDS];
  char scratch[TGIS_MAX_FIELDS][256];
  /* Fields the checks look at, found once per layer, -1 if absent. */
  int f_area, f_residents, f_cadastre, f_ext_id, f_land_use;
  tgis_reproject rp;
  unsigned char *wkb;
  size_t wkb_cap;
  batch batches[N_BATCHES];
  pthread_t thread;
  int started;

  pthread_mutex_t mu;
  pthread_cond_t cv;
  int filled;                  /* batches handed over, not yet taken back */
  int head, tail;              /* next to fill, next to give */
  int taken;                   /* the consumer holds batches[tail - 1] */
  int done;                    /* the reader has finished (or failed) */
  int stop;                    /* the consumer wants it to stop */
  tgis_status status;
  char errmsg[TGIS_ERRMSG_MAX];
  char gdal_error[512];
  int gdal_warnings;
};

/* ---- preparing one feature ---------------------------------------------------- */

/* Append text to the item's buffer; its offset, or -1 when out of memory. */
static ptrdiff_t keep_text(tgis_reader *r, tgis_item *it, size_t *used, const char *s)
{
  size_t n = strlen(s) + 1;
  if (*used + n > it->text_cap) {
    size_t cap = it->text_cap ? it->text_cap : 512;
    char *p;
    while (cap < *used + n)
      cap *= 2;
    if (!(p = tgis__realloc(r->ctx, it->text, cap)))
      return -1;
    it->text = p;
    it->text_cap = cap;
  }
  memcpy(it->text + *used, s, n);
  *used += n;
  return (ptrdiff_t)(*used - n);
}

/* Text value of a target field by the rule: source, prefix, value map. */
static const char *rule_value(tgis_reader *r, OGRFeatureH f, const tgis_field_rule *fr,
                              const tgis_src_field *sf, char *buf, size_t len,
                              const char *field, tgis_verdict *v)
{
  char raw[1024];
  const char *text = NULL;
  if (fr->constant)
    return fr->constant;
  if (fr->source)
    text = tgis_src__value(f, sf, r->cfg.recode, raw, sizeof raw);
  if (!text)
    return fr->fallback;
  if (fr->n_values) {
    for (int k = 0; k < fr->n_values; k++)
      if (strcmp(fr->values[k].from, text) == 0)
        return fr->values[k].to;
    if (fr->strict) {
      tgis_verdict__reject(v, field, "%s: source value '%.60s' has no mapping", field, text);
      return NULL;
    }
    if (fr->fallback)
      return fr->fallback;
  }
  if (!fr->prefix)
    return tgis__strlcpy(buf, text, len);
  tgis__strlcpy(buf, fr->prefix, len);
  tgis__strlcpy(buf + strlen(buf), text, len - strlen(buf));
  return buf;
}

/* OSM buildings: residents from the footprint. A house of 30 m² or more
 * holds 4; an apartment building one resident per 30 m² of floor area
 * (footprint times building:levels, 5 when unknown); other buildings none. */
static int64_t estimate_residents(OGRFeatureH f, const char *land_use, double area)
{
  OGRFeatureDefnH defn = OGR_F_GetDefnRef(f);
  int tags = OGR_FD_GetFieldIndex(defn, "other_tags");
  double levels = 5;
  if (strcmp(land_use, "residential") == 0)
    return area >= 30 ? 4 : 0;
  if (strcmp(land_use, "multifamily") != 0)
    return 0;
  if (tags >= 0 && OGR_F_IsFieldSetAndNotNull(f, tags)) {
    char buf[64];
    const char *lv = tgis_src__hstore_get(OGR_F_GetFieldAsString(f, tags), "building:levels",
                                          buf, sizeof buf);
    if (lv && atof(lv) >= 1 && atof(lv) < 200)
      levels = atof(lv);
  }
  return (int64_t)floor(area * levels / 30.0);
}

static void check_city(const tgis_reader *r, const tgis_geombuf *g, tgis_verdict *v)
{
  const tgis_extent *c = &r->cfg.city;
  tgis_extent e;
  if (!r->cfg.have_city || r->cfg.rule->target == TGIS_LAYER_DISTRICTS)
    return;
  e = tgis_geombuf_extent(g);
  if (e.maxx < c->minx || e.minx > c->maxx || e.maxy < c->miny || e.miny > c->maxy) {
    double dx = fmax(0, fmax(c->minx - e.maxx, e.minx - c->maxx));
    double dy = fmax(0, fmax(c->miny - e.maxy, e.miny - c->maxy));
    tgis_verdict__reject(v, "geom", "outside the city: %.1f km beyond its extent",
                         hypot(dx, dy) / 1000.0);
  }
}

/* Map, check and reproject one feature into `it`. A fault of the feature is
 * a verdict; only an engine failing (memory, GEOS) is an error status. */
static tgis_status prepare(tgis_reader *r, OGRFeatureH f, tgis_item *it)
{
  const tgis_layer_rule *rule = r->cfg.rule;
  const tgis_layer_def *def = tgis_layer__def(rule->target);
  char text[1024], store[1024];
  ptrdiff_t off[TGIS_MAX_FIELDS];
  size_t used = 0;
  OGRGeometryH geom = OGR_F_GetGeometryRef(f);
  tgis_verdict *v = &it->v;
  tgis_src_shape shape;
  tgis_status st;
  int area_field = r->f_area, residents_field = r->f_residents;
  int want = tgis_layer__dim(rule->target), residents_given = 0;

  it->fid = OGR_F_GetFID(f);
  memset(v, 0, sizeof *v);
  for (int i = 0; i < def->n_fields; i++) {
    const char *t = rule_value(r, f, &rule->fields[i], &r->sf[i], text, sizeof text,
                               def->fields[i].name, v);
    off[i] = -1;
    if (def->fields[i].flags & TGIS_FIELD_DERIVED)
      t = NULL;
    if (i == residents_field)
      residents_given = t != NULL;
    if (v->rejected)
      return TGIS_OK;
    tgis_validate__field(&it->vals[i], &def->fields[i], t, store, sizeof store, v);
    if (v->rejected)
      return TGIS_OK;
    if (!it->vals[i].is_null && def->fields[i].type == TGIS_FT_TEXT &&
        (off[i] = keep_text(r, it, &used, it->vals[i].s)) < 0)
      return tgis__fail(r->ctx, TGIS_ENOMEM, "out of memory reading a feature");
  }
  /* The buffer is final now: point the text values into it. */
  for (int i = 0; i < def->n_fields; i++)
    if (off[i] >= 0)
      it->vals[i].s = it->text + off[i];
  if (rule->target == TGIS_LAYER_PARCELS && it->vals[r->f_cadastre].is_null &&
      it->vals[r->f_ext_id].is_null) {
    tgis_verdict__reject(v, "cadastre", "neither a cadastre number nor a source id");
    return TGIS_OK;
  }

  if (!geom) {
    tgis_verdict__reject(v, "geom", "null geometry");
    return TGIS_OK;
  }
  if (rule->point_from_area && OGR_GT_Flatten(OGR_G_GetGeometryType(geom)) != wkbPoint)
    want = 2;
  st = tgis_src__geometry(&it->g, r->ctx, geom, want, &shape, &r->wkb, &r->wkb_cap);
  if (st == TGIS_EPARSE || st == TGIS_ENOTSUP) {
    tgis_verdict__reject(v, "geom", "%s", tgis_errmsg(r->ctx));
    tgis__clear_error(r->ctx);
    return TGIS_OK;
  }
  if (st != TGIS_OK)
    return st;
  tgis_validate__shape(&it->g, &shape, want == 2 ? TGIS_LAYER_PARCELS : rule->target, v);
  if (v->rejected)
    return TGIS_OK;
  if (tgis_reproject__apply(&r->rp, r->ctx, &it->g) != TGIS_OK) {
    tgis_verdict__reject(v, "geom", "cannot transform from %s to EPSG:%d", r->rp.src_name,
                         r->cfg.srid);
    tgis__clear_error(r->ctx);
    return TGIS_OK;
  }
  check_city(r, &it->g, v);
  if (v->rejected)
    return TGIS_OK;
  if ((st = tgis_validate__geometry(&it->g, r->ctx, want == 2 ? TGIS_LAYER_PARCELS : rule->target,
                                    v)) != TGIS_OK || v->rejected)
    return st;
  if (want == 2 && tgis_layer__dim(rule->target) == 0 &&
      (st = tgis_validate__inner_point(&it->g, r->ctx)) != TGIS_OK)
    return st;
  if (area_field >= 0) {
    it->vals[area_field].is_null = 0;
    it->vals[area_field].d = tgis_geombuf_area(&it->g);
  }
  if (rule->estimate_residents && residents_field >= 0 && !residents_given) {
    it->vals[residents_field].is_null = 0;
    it->vals[residents_field].i =
        estimate_residents(f, it->vals[r->f_land_use].s,
                           tgis_geombuf_area(&it->g));
  }
  return TGIS_OK;
}

/* ---- the thread ------------------------------------------------------------------- */

static void on_gdal_error(CPLErr cls, CPLErrorNum num, const char *msg)
{
  tgis_reader *r = CPLGetErrorHandlerUserData();
  (void)num;
  if (cls >= CE_Failure)
    tgis__strlcpy(r->gdal_error, msg, sizeof r->gdal_error);
  else if (cls == CE_Warning)
    r->gdal_warnings++;
}

/* Wait for a free batch; NULL when told to stop. */
static batch *claim(tgis_reader *r)
{
  batch *b = NULL;
  pthread_mutex_lock(&r->mu);
  while (!r->stop && r->filled + r->taken >= N_BATCHES)
    pthread_cond_wait(&r->cv, &r->mu);
  if (!r->stop)
    b = &r->batches[r->head];
  pthread_mutex_unlock(&r->mu);
  return b;
}

static void hand_over(tgis_reader *r)
{
  pthread_mutex_lock(&r->mu);
  r->head = (r->head + 1) % N_BATCHES;
  r->filled++;
  pthread_cond_broadcast(&r->cv);
  pthread_mutex_unlock(&r->mu);
}

static void finish(tgis_reader *r, tgis_status st)
{
  pthread_mutex_lock(&r->mu);
  r->status = st;
  if (st != TGIS_OK)
    tgis__strlcpy(r->errmsg, tgis_errmsg(r->ctx), sizeof r->errmsg);
  r->done = 1;
  pthread_cond_broadcast(&r->cv);
  pthread_mutex_unlock(&r->mu);
}

static void *run(void *arg)
{
  tgis_reader *r = arg;
  tgis_status st = TGIS_OK;
  batch *b = NULL;
  OGRFeatureH f;

  CPLPushErrorHandlerEx(on_gdal_error, r);
  OGR_L_ResetReading(r->cfg.layer);
  while (st == TGIS_OK && (f = OGR_L_GetNextFeature(r->cfg.layer)) != NULL) {
    if (!b) {
      if (!(b = claim(r))) {
        OGR_F_Destroy(f);
        break;
      }
      b->n = 0;
    }
    st = prepare(r, f, &b->items[b->n]);
    OGR_F_Destroy(f);
    if (st == TGIS_OK && ++b->n == BATCH_ITEMS) {
      hand_over(r);
      b = NULL;
    }
  }
  if (st == TGIS_OK && r->gdal_error[0] && CPLGetLastErrorType() >= CE_Failure)
    st = tgis__fail(r->ctx, TGIS_EIO, "%s: read error: %s", r->cfg.what, r->gdal_error);
  if (st == TGIS_OK && b && b->n > 0)
    hand_over(r);
  CPLPopErrorHandler();
  finish(r, st);
  return NULL;
}

/* ---- the consumer's side ------------------------------------------------------------ */

tgis_status tgis_reader__start(tgis_reader **out, tgis_ctx *ctx, const tgis_reader_config *cfg)
{
  const tgis_layer_def *def = tgis_layer__def(cfg->rule->target);
  OGRFeatureDefnH defn = OGR_L_GetLayerDefn(cfg->layer);
  tgis_reader *r;
  tgis_status st;

  *out = NULL;
  if (!(r = tgis__calloc(ctx, 1, sizeof *r)))
    return tgis__fail(ctx, TGIS_ENOMEM, "out of memory starting the reader");
  r->owner = ctx;
  r->cfg = *cfg;
  pthread_mutex_init(&r->mu, NULL);
  pthread_cond_init(&r->cv, NULL);
  if ((st = tgis__ctx_sibling(&r->ctx, ctx)) != TGIS_OK) {
    tgis_reader__finish(r);
    return tgis__fail(ctx, st, "cannot create the reader's context");
  }
  for (int k = 0; k < N_BATCHES; k++)
    for (int i = 0; i < BATCH_ITEMS; i++)
      tgis_geombuf_init(&r->batches[k].items[i].g, r->ctx);
  for (int i = 0; i < def->n_fields; i++)
    tgis_src__resolve(&r->sf[i], defn, cfg->rule->fields[i].source, r->scratch[i],
                      sizeof r->scratch[i]);
  r->f_area = tgis_layer__field(def, "area_m2");
  r->f_residents = tgis_layer__field(def, "residents");
  r->f_cadastre = tgis_layer__field(def, "cadastre");
  r->f_ext_id = tgis_layer__field(def, "ext_id");
  r->f_land_use = tgis_layer__field(def, "land_use");
  /* PROJ objects belong to a context: build the transform on the reader's. */
  if ((st = tgis_reproject__init(&r->rp, r->ctx, cfg->layer, cfg->s_srs, cfg->srid,
                                 cfg->what)) != TGIS_OK) {
    tgis__fail(ctx, st, "%s", tgis_errmsg(r->ctx));
    tgis_reader__finish(r);
    return st;
  }
  if (pthread_create(&r->thread, NULL, run, r) != 0) {
    tgis_reader__finish(r);
    return tgis__fail(ctx, TGIS_ENOMEM, "cannot start the reading thread");
  }
  r->started = 1;
  *out = r;
  return TGIS_OK;
}

tgis_status tgis_reader__next(tgis_reader *r, tgis_ctx *ctx, tgis_item **items, int *n)
{
  tgis_status st = TGIS_OK;
  *items = NULL;
  *n = 0;
  pthread_mutex_lock(&r->mu);
  if (r->taken) {
    /* The batch given last time is free again. */
    r->taken = 0;
    pthread_cond_broadcast(&r->cv);
  }
  while (!r->filled && !r->done)
    pthread_cond_wait(&r->cv, &r->mu);
  if (r->filled) {
    batch *b = &r->batches[r->tail];
    r->tail = (r->tail + 1) % N_BATCHES;
    r->filled--;
    r->taken = 1;
    *items = b->items;
    *n = b->n;
  } else if (r->status != TGIS_OK) {
    st = tgis__fail(ctx, r->status, "%s", r->errmsg);
  }
  pthread_mutex_unlock(&r->mu);
  return st;
}

int tgis_reader__finish(tgis_reader *r)
{
  int warnings;
  if (!r)
    return 0;
  if (r->started) {
    pthread_mutex_lock(&r->mu);
    r->stop = 1;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    pthread_join(r->thread, NULL);
  }
  warnings = r->gdal_warnings;
  tgis_reproject__free(&r->rp);
  for (int k = 0; k < N_BATCHES; k++) {
    for (int i = 0; i < BATCH_ITEMS; i++) {
      tgis_geombuf_free(&r->batches[k].items[i].g);
      if (r->ctx)
        tgis__free(r->ctx, r->batches[k].items[i].text);
    }
  }
  if (r->ctx)
    tgis__free(r->ctx, r->wkb);
  pthread_cond_destroy(&r->cv);
  pthread_mutex_destroy(&r->mu);
  tgis_close(r->ctx);
  tgis__free(r->owner, r);
  return warnings;
}
