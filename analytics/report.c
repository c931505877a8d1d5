/*
 * report.c -- tgis_report_coverage(): a coverage run as a directory of
 * files an analyst can read and forward.
 *
 * The order: check the options and that the directory takes files; run
 * the analysis if asked (so a bad directory costs no analysis); read the
 * run back through the store -- its summary, districts, facilities and
 * sites into memory, its parcel rows streamed straight into parcels.csv
 * while the travel-time bands are counted; render the map with the tile
 * renderer (themes base + coverage, pinned to this run); then write
 * districts.csv, facilities.csv, summary.json and, last, report.html.
 * Every file goes through report_out.c (temporary name, rename), so each
 * is either whole and new or as it was.
 *
 * Numbers are formatted in the C locale whatever the caller's, so a
 * decimal comma never breaks a CSV.
 */
#include <assert.h>
#include <locale.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "report_int.h"

#define DEFAULT_MAP_PX 1200
#define MIN_MAP_PX 600      /* below it the zoom drops under the coverage theme's 11 */
#define DEFAULT_TABLE_ROWS 8

const char *const rpt_band_label[RPT_BANDS] = {
  "0\u20135 min", "5\u201310 min", "10\u201315 min", "15\u201330 min", "30 min and more",
  "unreachable", "reachable, no time",
};
/* data/styles/coverage.yaml's classes, without their alpha. */
const char *const rpt_band_colour[RPT_BANDS] = {
  "#1a9641", "#a6d96a", "#ffffbf", "#fdae61", "#d7191c", "#d7191c", "#bbbbbb",
};

const char *rpt_mode_name(tgis_travel_mode m) { return m == TGIS_TRAVEL_DRIVE ? "drive" : "walk"; }
const char *rpt_method_name(tgis_coverage_method m)
{
  return m == TGIS_COVERAGE_RADIUS ? "radius" : "network";
}

const char *rpt_district_label(const rpt_district *d)
{
  if (d->name && *d->name)
    return d->name;
  return d->d.soato[0] ? d->d.soato : "(no district)";
}

/* ---- progress ---------------------------------------------------------------- */

typedef struct rpt_run {
  rpt_data r;
  const tgis_report_options *o;
  const char *dir;
  int64_t bytes;
} rpt_run;

static tgis_status progress(rpt_run *x, const char *stage, int64_t done, int64_t total)
{
  if (x->o->progress && x->o->progress(stage, done, total, x->o->progress_payload))
    return tgis__fail(x->r.ctx, TGIS_ECANCELLED, "report cancelled while %s", stage);
  return TGIS_OK;
}

/* ---- reading the run ------------------------------------------------------------- */

static tgis_status on_district(const tgis_coverage_district *d, const char *name, void *payload)
{
  rpt_data *r = payload;
  rpt_district *e;
  if (r->n_districts == r->cap_districts) {
    size_t cap = r->cap_districts ? 2 * r->cap_districts : 16;
    rpt_district *p = tgis__realloc(r->ctx, r->districts, cap * sizeof *p);
    if (!p)
      return tgis__fail(r->ctx, TGIS_ENOMEM, "out of memory reading districts");
    r->districts = p;
    r->cap_districts = cap;
  }
  e = &r->districts[r->n_districts];
  e->d = *d;
  e->name = NULL;
  if (!name && d->soato[0]) {
    const tgis_district_ref *ref = tgis_district_by_soato(d->soato);
    name = ref ? ref->name : NULL;
  }
  if (name && !(e->name = tgis__strdup(r->ctx, name)))
    return tgis__fail(r->ctx, TGIS_ENOMEM, "out of memory reading districts");
  r->n_districts++;
  return TGIS_OK;
}

static tgis_status on_facility(const tgis_coverage_facility *f, void *payload)
{
  rpt_data *r = payload;
  tgis_coverage_facility *e;
  if (r->n_facilities == r->cap_facilities) {
    size_t cap = r->cap_facilities ? 2 * r->cap_facilities : 64;
    tgis_coverage_facility *p = tgis__realloc(r->ctx, r->facilities, cap * sizeof *p);
    if (!p)
      return tgis__fail(r->ctx, TGIS_ENOMEM, "out of memory reading facilities");
    r->facilities = p;
    r->cap_facilities = cap;
  }
  e = &r->facilities[r->n_facilities];
  *e = *f;
  if (!(e->name = tgis__strdup(r->ctx, f->name ? f->name : "")))
    return tgis__fail(r->ctx, TGIS_ENOMEM, "out of memory reading facilities");
  r->n_facilities++;
  r->overloaded += f->load > 1.0;
  return TGIS_OK;
}

static tgis_status on_site(const tgis_coverage_site *s, void *payload)
{
  rpt_data *r = payload;
  tgis_coverage_site *e;
  if (r->n_sites == r->cap_sites) {
    size_t cap = r->cap_sites ? 2 * r->cap_sites : 16;
    tgis_coverage_site *p = tgis__realloc(r->ctx, r->sites, cap * sizeof *p);
    if (!p)
      return tgis__fail(r->ctx, TGIS_ENOMEM, "out of memory reading sites");
    r->sites = p;
    r->cap_sites = cap;
  }
  e = &r->sites[r->n_sites];
  *e = *s;
  e->label = NULL;
  if (s->label && !(e->label = tgis__strdup(r->ctx, s->label)))
    return tgis__fail(r->ctx, TGIS_ENOMEM, "out of memory reading sites");
  r->n_sites++;
  return TGIS_OK;
}

static void data_free(rpt_data *r)
{
  for (size_t i = 0; i < r->n_districts; i++)
    tgis__free(r->ctx, r->districts[i].name);
  tgis__free(r->ctx, r->districts);
  for (size_t i = 0; i < r->n_facilities; i++)
    tgis__free(r->ctx, (void *)(uintptr_t)r->facilities[i].name);  /* owned here */
  tgis__free(r->ctx, r->facilities);
  for (size_t i = 0; i < r->n_sites; i++)
    tgis__free(r->ctx, (void *)(uintptr_t)r->sites[i].label);
  tgis__free(r->ctx, r->sites);
  tgis_free(r->ctx, r->png);
}

/* ---- parcels.csv, streamed ------------------------------------------------------- */

typedef struct parcel_pass {
  rpt_run *x;
  rpt_file *f;
  int64_t total;
} parcel_pass;

/* The band the coverage theme paints a parcel in: its minutes as the
 * tile source gives them (two decimals), against the style's classes. */
static int band_of(const tgis_coverage_parcel_row *p)
{
  double m;
  if (!p->reachable)
    return RPT_BAND_UNREACHABLE;
  if (!isfinite(p->seconds))
    return RPT_BAND_NO_TIME;
  m = round(p->seconds / 60.0 * 100.0) / 100.0;
  return m < 5 ? 0 : m < 10 ? 1 : m < 15 ? 2 : m < 30 ? 3 : 4;
}

static tgis_status on_parcel(const tgis_coverage_parcel_row *p, void *payload)
{
  parcel_pass *pp = payload;
  rpt_data *r = &pp->x->r;
  rpt_file *f = pp->f;
  int b = band_of(p);

  r->band_parcels[b]++;
  r->band_residents[b] += p->residents > 0 ? p->residents : 0;
  rpt_int(f, p->parcel_id);
  rpt_write(f, ",", 1);
  rpt_csv(f, p->cadastre);
  rpt_write(f, ",", 1);
  rpt_csv(f, p->district);
  rpt_write(f, ",", 1);
  if (p->residents >= 0)
    rpt_int(f, p->residents);
  rpt_write(f, ",", 1);
  if (p->facility_id > 0)
    rpt_int(f, p->facility_id);
  rpt_write(f, ",", 1);
  rpt_csv(f, p->facility_name);
  rpt_write(f, ",", 1);
  rpt_fixed(f, p->seconds / 60.0, 2);
  rpt_write(f, ",", 1);
  rpt_fixed(f, p->metres, 1);
  rpt_write(f, ",", 1);
  rpt_fixed(f, p->snap_m, 1);
  rpt_write(f, p->covered ? ",1" : ",0", 2);
  rpt_write(f, p->reachable ? ",1," : ",0,", 3);
  rpt_general(f, p->e2sfca, 9);
  rpt_puts(f, "\n");
  if (f->err)   /* a full disk: stop now, the commit names the file */
    return tgis__fail(r->ctx, TGIS_EIO, "%s: cannot write: %s", f->path, strerror(f->err));
  if (++r->parcel_rows % 65536 == 0)
    return progress(pp->x, "parcels", r->parcel_rows, pp->total);
  return TGIS_OK;
}

static tgis_status write_parcels(rpt_run *x, tgis_store *store)
{
  rpt_file f;
  parcel_pass pp = { x, &f, x->r.sum.parcels };
  tgis_status st;

  if ((st = rpt_file_open(&f, x->r.ctx, x->dir, "parcels.csv")) != TGIS_OK)
    return st;
  rpt_puts(&f, "parcel_id,cadastre,district,residents,facility_id,facility,minutes,metres,"
               "snap_m,covered,reachable,e2sfca\n");
  st = store->vt->coverage_parcels_read(store, x->r.sum.run_id, on_parcel, &pp);
  if (st == TGIS_OK && (st = progress(x, "parcels", x->r.parcel_rows, pp.total)) == TGIS_OK) {
    x->bytes += f.bytes;
    return rpt_file_commit(&f);
  }
  rpt_file_abort(&f);
  return st;
}

/* ---- districts.csv, facilities.csv ------------------------------------------------- */

static tgis_status write_districts(rpt_run *x)
{
  rpt_data *r = &x->r;
  rpt_file f;
  tgis_status st;

  if ((st = rpt_file_open(&f, r->ctx, x->dir, "districts.csv")) != TGIS_OK)
    return st;
  rpt_puts(&f, "soato,name,parcels,residents,covered_residents,unreachable_residents,share,"
               "e2sfca\n");
  for (size_t i = 0; i < r->n_districts; i++) {
    const tgis_coverage_district *d = &r->districts[i].d;
    rpt_csv(&f, d->soato);
    rpt_puts(&f, ",");
    rpt_csv(&f, r->districts[i].name);
    rpt_printf(&f, ",%lld,%lld,%lld,%lld,", (long long)d->parcels, (long long)d->residents,
               (long long)d->covered_residents, (long long)d->unreachable_residents);
    rpt_general(&f, d->share, 15);
    rpt_puts(&f, ",");
    rpt_general(&f, d->e2sfca, 15);
    rpt_puts(&f, "\n");
  }
  x->bytes += f.bytes;
  return rpt_file_commit(&f);
}

static tgis_status write_facilities(rpt_run *x)
{
  rpt_data *r = &x->r;
  rpt_file f;
  tgis_status st;

  if ((st = rpt_file_open(&f, r->ctx, x->dir, "facilities.csv")) != TGIS_OK)
    return st;
  rpt_puts(&f, "facility_id,name,capacity,catchment_parcels,catchment_residents,load,"
               "overloaded,e2sfca_ratio,snap_m,x,y\n");
  for (size_t i = 0; i < r->n_facilities; i++) {
    const tgis_coverage_facility *c = &r->facilities[i];
    rpt_printf(&f, "%lld,", (long long)c->facility_id);
    rpt_csv(&f, c->name);
    rpt_puts(&f, ",");
    if (c->capacity >= 0)
      rpt_printf(&f, "%lld", (long long)c->capacity);
    rpt_printf(&f, ",%lld,%lld,", (long long)c->catchment_parcels,
               (long long)c->catchment_residents);
    rpt_general(&f, c->load, 15);
    rpt_printf(&f, ",%d,", c->load > 1.0);
    rpt_general(&f, c->ratio, 15);
    rpt_puts(&f, ",");
    rpt_fixed(&f, c->snap_m, 1);
    rpt_puts(&f, ",");
    rpt_fixed(&f, c->x, 2);
    rpt_puts(&f, ",");
    rpt_fixed(&f, c->y, 2);
    rpt_puts(&f, "\n");
  }
  x->bytes += f.bytes;
  return rpt_file_commit(&f);
}

/* ---- summary.json ---------------------------------------------------------------- */

static void json_int(rpt_file *f, const char *key, int64_t v, int comma)
{
  rpt_printf(f, "    \"%s\": %lld%s\n", key, (long long)v, comma ? "," : "");
}

static void json_real(rpt_file *f, const char *key, double v, int comma)
{
  rpt_printf(f, "    \"%s\": ", key);
  rpt_json_num(f, v);
  rpt_puts(f, comma ? ",\n" : "\n");
}

static tgis_status write_summary(rpt_run *x)
{
  rpt_data *r = &x->r;
  const tgis_coverage_summary *s = &r->sum;
  rpt_file f;
  tgis_status st;

  if ((st = rpt_file_open(&f, r->ctx, x->dir, "summary.json")) != TGIS_OK)
    return st;
  /* "run": the run's row of coverage_runs, under its column names. */
  rpt_puts(&f, "{\n  \"run\": {\n");
  json_int(&f, "id", s->run_id, 1);
  rpt_puts(&f, "    \"facility_kind\": ");
  rpt_json_str(&f, s->facility_kind);
  rpt_printf(&f, ",\n    \"mode\": \"%s\",\n    \"method\": \"%s\",\n", rpt_mode_name(s->mode),
             rpt_method_name(s->method));
  json_real(&f, "minutes", s->minutes, 1);
  json_real(&f, "radius_m", s->method == TGIS_COVERAGE_RADIUS ? s->radius_m : NAN, 1);
  json_real(&f, "walk_kmh", s->walk_kmh, 1);
  json_real(&f, "max_snap_m", s->max_snap_m, 1);
  rpt_puts(&f, "    \"created_at\": ");
  rpt_json_str(&f, s->created);
  rpt_puts(&f, ",\n");
  json_int(&f, "parcels", s->parcels, 1);
  json_int(&f, "residents", s->residents, 1);
  json_int(&f, "covered_parcels", s->covered_parcels, 1);
  json_int(&f, "covered_residents", s->covered_residents, 1);
  json_real(&f, "covered_share", s->covered_share, 1);
  json_int(&f, "unreachable_parcels", s->unreachable_parcels, 1);
  json_int(&f, "unreachable_residents", s->unreachable_residents, 1);
  json_int(&f, "unsnapped_parcels", s->unsnapped_parcels, 1);
  json_int(&f, "facilities", s->facilities, 1);
  json_int(&f, "facilities_unsnapped", s->facilities_unsnapped, 1);
  json_int(&f, "facilities_overloaded", s->facilities_overloaded, 1);
  json_int(&f, "network_nodes", s->network_nodes, 1);
  json_int(&f, "network_edges", s->network_edges, 1);
  json_int(&f, "components", s->components, 1);
  json_int(&f, "off_main_parcels", s->off_main_parcels, 1);
  json_real(&f, "e2sfca", s->e2sfca, 1);
  json_real(&f, "seconds", s->seconds, 0);

  rpt_puts(&f, "  },\n  \"report\": {\n    \"generated_at\": ");
  rpt_json_str(&f, r->generated);
  rpt_puts(&f, ",\n    \"tgis_version\": ");
  rpt_json_str(&f, tgis_version());
  rpt_printf(&f, ",\n    \"crs\": \"EPSG:%d\",\n", r->db.srid);
  rpt_printf(&f, "    \"map\": {\"width\": %d, \"height\": %d, \"themes\": [\"base\", "
                 "\"coverage\"]},\n", r->map_w, r->map_h);
  rpt_puts(&f, "    \"files\": [\"report.html\", \"summary.json\", \"parcels.csv\", "
               "\"districts.csv\", \"facilities.csv\"]\n  },\n");

  rpt_puts(&f, "  \"travel_time_bands\": [");
  for (int b = 0; b < RPT_BANDS; b++) {
    rpt_puts(&f, b ? ",\n    {\"band\": " : "\n    {\"band\": ");
    rpt_json_str(&f, rpt_band_label[b]);
    rpt_printf(&f, ", \"parcels\": %lld, \"residents\": %lld}", (long long)r->band_parcels[b],
               (long long)r->band_residents[b]);
  }
  rpt_puts(&f, "\n  ],\n  \"districts\": [");
  for (size_t i = 0; i < r->n_districts; i++) {
    const tgis_coverage_district *d = &r->districts[i].d;
    rpt_puts(&f, i ? ",\n    {\"soato\": " : "\n    {\"soato\": ");
    rpt_json_str(&f, d->soato[0] ? d->soato : NULL);
    rpt_puts(&f, ", \"name\": ");
    rpt_json_str(&f, r->districts[i].name);
    rpt_printf(&f, ", \"parcels\": %lld, \"residents\": %lld, \"covered_residents\": %lld, "
                   "\"unreachable_residents\": %lld, \"share\": ", (long long)d->parcels,
               (long long)d->residents, (long long)d->covered_residents,
               (long long)d->unreachable_residents);
    rpt_json_num(&f, d->share);
    rpt_puts(&f, ", \"e2sfca\": ");
    rpt_json_num(&f, d->e2sfca);
    rpt_puts(&f, "}");
  }
  rpt_puts(&f, "\n  ],\n  \"facilities_overloaded\": [");
  for (size_t i = 0, k = 0; i < r->n_facilities; i++) {
    const tgis_coverage_facility *c = &r->facilities[i];
    if (!(c->load > 1.0))
      continue;
    rpt_printf(&f, "%s\n    {\"facility_id\": %lld, \"name\": ", k++ ? "," : "",
               (long long)c->facility_id);
    rpt_json_str(&f, c->name);
    rpt_printf(&f, ", \"capacity\": %lld, \"catchment_residents\": %lld, \"load\": ",
               (long long)c->capacity, (long long)c->catchment_residents);
    rpt_json_num(&f, c->load);
    rpt_puts(&f, "}");
  }
  rpt_puts(&f, "\n  ],\n  \"sites\": [");
  for (size_t i = 0; i < r->n_sites; i++) {
    const tgis_coverage_site *t = &r->sites[i];
    rpt_printf(&f, "%s\n    {\"rank\": %d, \"parcel_id\": ", i ? "," : "", t->rank);
    if (t->parcel_id > 0)
      rpt_printf(&f, "%lld", (long long)t->parcel_id);
    else
      rpt_puts(&f, "null");
    rpt_puts(&f, ", \"label\": ");
    rpt_json_str(&f, t->label);
    rpt_puts(&f, ", \"x\": ");
    rpt_json_num(&f, t->x);
    rpt_puts(&f, ", \"y\": ");
    rpt_json_num(&f, t->y);
    rpt_printf(&f, ", \"gain_residents\": %lld, \"covered_residents\": %lld}",
               (long long)t->gain_residents, (long long)t->covered_residents);
  }
  rpt_puts(&f, "\n  ]\n}\n");
  x->bytes += f.bytes;
  return rpt_file_commit(&f);
}

/* ---- the map ------------------------------------------------------------------------ */

static uint32_t be32(const unsigned char *p)
{
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static tgis_status render_map(rpt_run *x)
{
  static const char *const themes[] = { "base", "coverage" };
  rpt_data *r = &x->r;
  tgis_tiles *t = NULL;
  tgis_status st;
  int px = x->o->map_px ? x->o->map_px : DEFAULT_MAP_PX;

  if ((st = tgis_tiles_open(&t, r->ctx, x->o->styles_dir)) != TGIS_OK)
    return tgis__fail_ctx(r->ctx, st, "report.html: the map");
  tgis_tiles_set_coverage_run(t, r->sum.run_id);
  st = tgis_tiles_map_image(t, themes, 2, NULL, px, &r->png, &r->png_len);
  tgis_tiles_close(t);
  if (st != TGIS_OK)
    return tgis__fail_ctx(r->ctx, st, "report.html: the map");
  if (r->png_len < 24 || memcmp(r->png + 12, "IHDR", 4) != 0)
    return tgis__fail(r->ctx, TGIS_EIO, "report.html: the map: the renderer gave no PNG");
  r->map_w = (int)be32(r->png + 16);
  r->map_h = (int)be32(r->png + 20);
  return TGIS_OK;
}

/* ---- the whole report ---------------------------------------------------------------- */

static tgis_status check_options(tgis_ctx *ctx, const tgis_report_options *o, int64_t run_id)
{
  if (o->version != TGIS_REPORT_OPTIONS_VERSION)
    return tgis__fail(ctx, TGIS_EINVAL, "report options version %u, this library knows %d",
                      o->version, TGIS_REPORT_OPTIONS_VERSION);
  if (run_id < 0)
    return tgis__fail(ctx, TGIS_EINVAL, "report: run id %lld is not a run", (long long)run_id);
  if (run_id > 0 && o->analysis)
    return tgis__fail(ctx, TGIS_EINVAL, "report: a stored run or an analysis, not both");
  if (o->sites < 0 || (o->sites > 0 && !o->analysis))
    return tgis__fail(ctx, TGIS_EINVAL, "report: sites are picked only with a new analysis");
  if (o->map_px && (o->map_px < MIN_MAP_PX || o->map_px > 4096))
    return tgis__fail(ctx, TGIS_EINVAL, "report: map of %d px: must be %d to 4096", o->map_px,
                      MIN_MAP_PX);
  if (o->table_rows < 0)
    return tgis__fail(ctx, TGIS_EINVAL, "report: %d table rows", o->table_rows);
  if (o->analysis && (o->analysis->flags & TGIS_COVERAGE_DRY_RUN))
    return tgis__fail(ctx, TGIS_EINVAL, "report: a dry run stores nothing to report");
  return TGIS_OK;
}

/* Run the analysis (and siting) of opts; its run id goes to *run_id. */
static tgis_status analyse(rpt_run *x, int64_t *run_id)
{
  tgis_ctx *ctx = x->r.ctx;
  tgis_coverage_options co = *x->o->analysis;
  tgis_coverage_result *res = NULL;
  tgis_status st;

  co.progress = x->o->progress;
  co.progress_payload = x->o->progress_payload;
  if ((st = tgis_coverage_run(&res, ctx, &co)) != TGIS_OK)
    return st;
  *run_id = tgis_coverage_result_summary(res)->run_id;
  if (x->o->sites > 0) {
    tgis_coverage_site_options so = TGIS_COVERAGE_SITE_OPTIONS_INIT;
    so.k = x->o->sites;
    so.progress = x->o->progress;
    so.progress_payload = x->o->progress_payload;
    if ((st = tgis_coverage_sites(ctx, res, &so)) != TGIS_OK)
      tgis__fail_ctx(ctx, st, "coverage run %lld is stored, without sites", (long long)*run_id);
  }
  tgis_coverage_result_free(res);
  return st;
}

static double now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static tgis_status report(rpt_run *x, tgis_store *store, int64_t run_id)
{
  rpt_data *r = &x->r;
  tgis_status st;
  struct tm tm;
  time_t now = time(NULL);

  if ((st = progress(x, "checking", 0, 0)) != TGIS_OK ||
      (st = rpt_dir_prepare(r->ctx, x->dir)) != TGIS_OK)
    return st;
  if (x->o->analysis && (st = analyse(x, &run_id)) != TGIS_OK)
    return st;
  if ((st = progress(x, "reading", 0, 0)) != TGIS_OK ||
      (st = store->vt->coverage_run_get(store, run_id, NULL, &r->sum)) != TGIS_OK ||
      (st = tgis_db_info_get(&r->db, r->ctx)) != TGIS_OK ||
      (st = store->vt->coverage_districts_read(store, r->sum.run_id, on_district, r)) != TGIS_OK ||
      (st = store->vt->coverage_facilities_read(store, r->sum.run_id, on_facility, r)) != TGIS_OK ||
      (st = store->vt->coverage_sites_read(store, r->sum.run_id, on_site, r)) != TGIS_OK)
    return st;
  gmtime_r(&now, &tm);
  strftime(r->generated, sizeof r->generated, "%Y-%m-%dT%H:%M:%SZ", &tm);

  if ((st = write_parcels(x, store)) != TGIS_OK ||
      (st = progress(x, "map", 0, 1)) != TGIS_OK || (st = render_map(x)) != TGIS_OK ||
      (st = progress(x, "writing", 0, 4)) != TGIS_OK || (st = write_districts(x)) != TGIS_OK ||
      (st = write_facilities(x)) != TGIS_OK || (st = write_summary(x)) != TGIS_OK)
    return st;
  if ((st = progress(x, "writing", 3, 4)) != TGIS_OK ||
      (st = rpt_write_html(r, x->dir, &x->bytes)) != TGIS_OK)
    return st;
  return progress(x, "writing", 4, 4);
}

tgis_status tgis_report_coverage(tgis_report_info *out, tgis_ctx *ctx, int64_t run_id,
                                 const char *dir, const tgis_report_options *opts)
{
  static const tgis_report_options defaults = TGIS_REPORT_OPTIONS_INIT;
  rpt_run x;
  tgis_store *store;
  tgis_status st;
  locale_t c_locale, old_locale = (locale_t)0;
  double t0 = now_s();

  assert(ctx);
  if (out)
    memset(out, 0, sizeof *out);
  tgis__clear_error(ctx);
  memset(&x, 0, sizeof x);
  x.o = opts ? opts : &defaults;
  x.dir = dir;
  x.r.ctx = ctx;
  if ((st = tgis__require_store(ctx, &store)) != TGIS_OK ||
      (st = check_options(ctx, x.o, run_id)) != TGIS_OK)
    return st;
  x.r.table_rows = x.o->table_rows ? x.o->table_rows : DEFAULT_TABLE_ROWS;

  /* This thread formats in the C locale for the call (uselocale is
   * per thread; the caller's setting comes back after). */
  if ((c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0)) != (locale_t)0)
    old_locale = uselocale(c_locale);
  st = report(&x, store, run_id);
  if (c_locale != (locale_t)0) {
    uselocale(old_locale);
    freelocale(c_locale);
  }
  if (st == TGIS_OK && out) {
    out->run_id = x.r.sum.run_id;
    out->map_width = x.r.map_w;
    out->map_height = x.r.map_h;
    out->parcels = x.r.parcel_rows;
    out->districts = (int64_t)x.r.n_districts;
    out->facilities = (int64_t)x.r.n_facilities;
    out->overloaded = x.r.overloaded;
    out->sites = (int64_t)x.r.n_sites;
    out->bytes = x.bytes;
    out->seconds = now_s() - t0;
  }
  data_free(&x.r);
  return st;
}
