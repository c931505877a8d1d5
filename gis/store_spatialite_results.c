/*
 * store_spatialite_results.c -- the SpatiaLite store's side of coverage
 * analytics: whole-layer reads of parcels and facilities as points, the
 * result tables of a run (schema 3), and the read the coverage map theme
 * makes of them.
 *
 * Parcels come out as their area-weighted centroid, computed here from the
 * decoded blob (no GEOS, no SQL function per row), so a million parcels
 * read in one pass. Result rows go in through statements prepared once per
 * store and bound per row, inside the caller's transaction; a run's parcel
 * rows arrive in parcel order and append to the (run_id, parcel_id) key.
 * A NaN value is written as NULL ("no value") and read back as NaN.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "store_spatialite_int.h"

#define NOW_SQL "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')"

/* Parcel rows per INSERT statement (8 parameters each, far below
 * SQLite's limit of 32766). */
#define PARCEL_ROWS 64

struct sl_results {
  sqlite3_stmt *run_ins, *run_upd;
  sqlite3_stmt *parcel_ins, *parcel_ins_many, *district_ins, *facility_ins;
  sqlite3_stmt *site_del, *site_ins;
  sqlite3_stmt *latest, *scan[2];   /* scan: whole layer, window */
  tgis_geombuf geom;                /* scan's decoding buffer */
  int geom_init;
};

static tgis_status db_fail(sl_store *s, const char *what)
{
  return tgis__fail(s->base.ctx, TGIS_EDB, "%s: %s: %s", s->path, what,
                    sqlite3_errmsg(s->db));
}

void tgis_sl__results_free(sl_store *s)
{
  struct sl_results *r = s->results;
  if (!r)
    return;
  sqlite3_finalize(r->run_ins);
  sqlite3_finalize(r->run_upd);
  sqlite3_finalize(r->parcel_ins);
  sqlite3_finalize(r->parcel_ins_many);
  sqlite3_finalize(r->district_ins);
  sqlite3_finalize(r->facility_ins);
  sqlite3_finalize(r->site_del);
  sqlite3_finalize(r->site_ins);
  sqlite3_finalize(r->latest);
  sqlite3_finalize(r->scan[0]);
  sqlite3_finalize(r->scan[1]);
  if (r->geom_init)
    tgis_geombuf_free(&r->geom);
  tgis__free(s->base.ctx, r);
  s->results = NULL;
}

/* The statement in `slot`, prepared on first use. */
static tgis_status stmt(sl_store *s, sqlite3_stmt **slot, const char *sql)
{
  if (*slot)
    return TGIS_OK;
  if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, slot, NULL) != SQLITE_OK)
    return tgis__fail(s->base.ctx, TGIS_EDB, "%s: cannot prepare \"%.60s...\": %s", s->path,
                      sql, sqlite3_errmsg(s->db));
  return TGIS_OK;
}

/* Statement slots live in s->results, which ensure() allocates: take
 * their address only after it. */
#define SLOT(s, name) (&(s)->results->name)
static tgis_status ensure(sl_store *s)
{
  if (!s->results && !(s->results = tgis__calloc(s->base.ctx, 1, sizeof *s->results)))
    return tgis__fail(s->base.ctx, TGIS_ENOMEM, "out of memory preparing coverage statements");
  return TGIS_OK;
}

static void bind_real(sqlite3_stmt *st, int i, double v)
{
  if (isnan(v) || isinf(v))
    sqlite3_bind_null(st, i);
  else
    sqlite3_bind_double(st, i, v);
}

static double col_real(sqlite3_stmt *st, int i)
{
  return sqlite3_column_type(st, i) == SQLITE_NULL ? NAN : sqlite3_column_double(st, i);
}

static tgis_status step_done(sl_store *s, sqlite3_stmt *st, const char *what)
{
  int rc = sqlite3_step(st);
  tgis_status ret = rc == SQLITE_DONE ? TGIS_OK : db_fail(s, what);
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  return ret;
}

static tgis_status require_writing(sl_store *s)
{
  if (s->base.readonly)
    return tgis__fail(s->base.ctx, TGIS_EREADONLY, "%s: opened read-only", s->path);
  if (!s->base.in_transaction)
    return tgis__fail(s->base.ctx, TGIS_EINVAL,
                      "%s: coverage results are written inside a transaction", s->path);
  return TGIS_OK;
}

/* ---- centroids -------------------------------------------------------------- */

/* Area-weighted centroid of a (multi)polygon: shells add, holes subtract,
 * whatever their orientation. Coordinates are taken relative to the first
 * point, so metre-scale parcels far from the origin keep their precision.
 * A geometry of no area gives the mean of its points. */
static int centroid(const tgis_geombuf *g, double *cx, double *cy)
{
  double ox, oy, a = 0, mx = 0, my = 0, sx = 0, sy = 0;
  size_t pt = 0, part = 0;

  if (g->n_points == 0)
    return 0;
  ox = g->xy[0];
  oy = g->xy[1];
  if (g->type == TGIS_GEOM_POLYGON || g->type == TGIS_GEOM_MULTIPOLYGON) {
    size_t n_polys = g->n_polys ? g->n_polys : (g->n_parts ? 1 : 0);
    for (size_t p = 0; p < n_polys; p++) {
      uint32_t rings = g->n_polys ? g->polys[p] : (uint32_t)g->n_parts;
      for (uint32_t r = 0; r < rings; r++, part++) {
        uint32_t n = g->parts[part];
        double ra = 0, rx = 0, ry = 0;
        for (uint32_t k = 0; k + 1 < n; k++) {
          double x0 = g->xy[2 * (pt + k)] - ox, y0 = g->xy[2 * (pt + k) + 1] - oy;
          double x1 = g->xy[2 * (pt + k + 1)] - ox, y1 = g->xy[2 * (pt + k + 1) + 1] - oy;
          double c = x0 * y1 - x1 * y0;
          ra += c;
          rx += (x0 + x1) * c;
          ry += (y0 + y1) * c;
        }
        pt += n;
        /* Make the shell positive and its holes negative. */
        if ((r == 0) != (ra > 0)) {
          ra = -ra;
          rx = -rx;
          ry = -ry;
        }
        a += ra;
        mx += rx;
        my += ry;
      }
    }
  }
  if (a != 0 && isfinite(a)) {
    *cx = ox + mx / (3.0 * a);
    *cy = oy + my / (3.0 * a);
    return 1;
  }
  for (size_t i = 0; i < g->n_points; i++) {
    sx += g->xy[2 * i] - ox;
    sy += g->xy[2 * i + 1] - oy;
  }
  *cx = ox + sx / (double)g->n_points;
  *cy = oy + sy / (double)g->n_points;
  return 1;
}

/* ---- whole-layer reads -------------------------------------------------------- */

/* PRAGMA mmap_size: its value, or set it. */
static sqlite3_int64 mmap_size(sl_store *s, sqlite3_int64 set)
{
  sqlite3_stmt *q = NULL;
  sqlite3_int64 v = 0;
  char sql[64];
  if (set >= 0)
    snprintf(sql, sizeof sql, "PRAGMA mmap_size = %lld", (long long)set);
  else
    snprintf(sql, sizeof sql, "PRAGMA mmap_size");
  if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
    v = sqlite3_column_int64(q, 0);
  sqlite3_finalize(q);
  return v;
}

tgis_status tgis_sl__parcels_read(tgis_store *base, tgis_parcel_cb cb, void *payload)
{
  sl_store *s = (sl_store *)base;
  sqlite3_stmt *q = NULL;
  tgis_geombuf g;
  tgis_status st = TGIS_OK;
  sqlite3_int64 mmap_was;
  int rc;

  /* The whole table, read through a memory map instead of read(): the
   * pages are not copied, a quarter less CPU for a million parcels. The
   * connection's setting comes back after (SQLite caps the size). */
  mmap_was = mmap_size(s, -1);
  mmap_size(s, (sqlite3_int64)1 << 31);
  if (sqlite3_prepare_v2(s->db,
        "SELECT id, residents, district, land_use, "
        "CASE WHEN land_use = 'public' THEN coalesce(cadastre, ext_id) END, geom "
        "FROM parcels ORDER BY id", -1, &q, NULL) != SQLITE_OK) {
    st = db_fail(s, "cannot read parcels");
    mmap_size(s, mmap_was);
    return st;
  }
  tgis_geombuf_init(&g, s->base.ctx);
  while (st == TGIS_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
    tgis_parcel_rec p;
    const void *blob = sqlite3_column_blob(q, 5);
    int n = sqlite3_column_bytes(q, 5);
    p.id = sqlite3_column_int64(q, 0);
    p.residents = sqlite3_column_int64(q, 1);
    p.district = (const char *)sqlite3_column_text(q, 2);
    p.land_use = (const char *)sqlite3_column_text(q, 3);
    p.label = (const char *)sqlite3_column_text(q, 4);
    p.x = p.y = NAN;
    p.has_point = 0;
    if (blob) {
      if ((st = tgis_sl__blob_decode(&g, blob, (size_t)n, NULL)) != TGIS_OK) {
        st = tgis__fail(s->base.ctx, st == TGIS_ENOMEM ? TGIS_ENOMEM : TGIS_EPARSE,
                        "%s: parcels feature %lld: unreadable geometry", s->path,
                        (long long)p.id);
        break;
      }
      p.has_point = centroid(&g, &p.x, &p.y);
    }
    st = cb(&p, payload);
  }
  if (st == TGIS_OK && rc != SQLITE_DONE)
    st = db_fail(s, "reading parcels");
  sqlite3_finalize(q);
  tgis_geombuf_free(&g);
  mmap_size(s, mmap_was);
  return st;
}

tgis_status tgis_sl__facilities_read(tgis_store *base, const char *kind, tgis_facility_cb cb,
                                     void *payload)
{
  sl_store *s = (sl_store *)base;
  sqlite3_stmt *q = NULL;
  tgis_geombuf g;
  tgis_status st = TGIS_OK;
  int rc;

  if (sqlite3_prepare_v2(s->db,
        "SELECT id, kind, name, capacity, geom FROM facilities "
        "WHERE ?1 IS NULL OR kind = ?1 ORDER BY id", -1, &q, NULL) != SQLITE_OK)
    return db_fail(s, "cannot read facilities");
  if (kind)
    sqlite3_bind_text(q, 1, kind, -1, SQLITE_STATIC);
  tgis_geombuf_init(&g, s->base.ctx);
  while (st == TGIS_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
    tgis_facility_rec f;
    const void *blob = sqlite3_column_blob(q, 4);
    int n = sqlite3_column_bytes(q, 4);
    f.id = sqlite3_column_int64(q, 0);
    f.kind = (const char *)sqlite3_column_text(q, 1);
    f.name = (const char *)sqlite3_column_text(q, 2);
    f.capacity = sqlite3_column_type(q, 3) == SQLITE_NULL ? -1 : sqlite3_column_int64(q, 3);
    f.x = f.y = NAN;
    f.has_point = 0;
    if (blob) {
      if ((st = tgis_sl__blob_decode(&g, blob, (size_t)n, NULL)) != TGIS_OK) {
        st = tgis__fail(s->base.ctx, st == TGIS_ENOMEM ? TGIS_ENOMEM : TGIS_EPARSE,
                        "%s: facilities feature %lld: unreadable geometry", s->path,
                        (long long)f.id);
        break;
      }
      if (g.n_points > 0) {
        f.x = g.xy[0];
        f.y = g.xy[1];
        f.has_point = 1;
      }
    }
    st = cb(&f, payload);
  }
  if (st == TGIS_OK && rc != SQLITE_DONE)
    st = db_fail(s, "reading facilities");
  sqlite3_finalize(q);
  tgis_geombuf_free(&g);
  return st;
}

/* ---- runs ----------------------------------------------------------------------- */

static const char *mode_name(tgis_travel_mode m) { return m == TGIS_TRAVEL_DRIVE ? "drive" : "walk"; }
static const char *method_name(tgis_coverage_method m)
{
  return m == TGIS_COVERAGE_RADIUS ? "radius" : "network";
}

tgis_status tgis_sl__coverage_run_open(tgis_store *base, tgis_coverage_summary *sum)
{
  sl_store *s = (sl_store *)base;
  sqlite3_stmt *q;
  tgis_status st;
  int rc;

  if ((st = require_writing(s)) != TGIS_OK || (st = ensure(s)) != TGIS_OK ||
      (st = stmt(s, SLOT(s, run_ins),
                 "INSERT INTO coverage_runs (facility_kind, mode, method, minutes, radius_m, "
                 "walk_kmh, max_snap_m, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
                 NOW_SQL ") RETURNING id, created_at")) != TGIS_OK)
    return st;
  q = s->results->run_ins;
  sqlite3_bind_text(q, 1, sum->facility_kind, -1, SQLITE_STATIC);
  sqlite3_bind_text(q, 2, mode_name(sum->mode), -1, SQLITE_STATIC);
  sqlite3_bind_text(q, 3, method_name(sum->method), -1, SQLITE_STATIC);
  sqlite3_bind_double(q, 4, sum->minutes);
  if (sum->method == TGIS_COVERAGE_RADIUS)
    sqlite3_bind_double(q, 5, sum->radius_m);
  sqlite3_bind_double(q, 6, sum->walk_kmh);
  sqlite3_bind_double(q, 7, sum->max_snap_m);
  rc = sqlite3_step(q);
  if (rc == SQLITE_ROW) {
    sum->run_id = sqlite3_column_int64(q, 0);
    snprintf(sum->created, sizeof sum->created, "%s",
             (const char *)sqlite3_column_text(q, 1));
    rc = sqlite3_step(q);
  }
  st = rc == SQLITE_DONE ? TGIS_OK : db_fail(s, "cannot record the coverage run");
  sqlite3_reset(q);
  sqlite3_clear_bindings(q);
  return st;
}

tgis_status tgis_sl__coverage_run_close(tgis_store *base, const tgis_coverage_summary *sum)
{
  sl_store *s = (sl_store *)base;
  sqlite3_stmt *q;
  tgis_status st;
  int i = 1;

  if ((st = require_writing(s)) != TGIS_OK || (st = ensure(s)) != TGIS_OK ||
      (st = stmt(s, SLOT(s, run_upd),
                 "UPDATE coverage_runs SET parcels = ?1, residents = ?2, covered_parcels = ?3, "
                 "covered_residents = ?4, covered_share = ?5, unreachable_parcels = ?6, "
                 "unreachable_residents = ?7, unsnapped_parcels = ?8, facilities = ?9, "
                 "facilities_unsnapped = ?10, facilities_overloaded = ?11, "
                 "network_nodes = ?12, network_edges = ?13, components = ?14, "
                 "off_main_parcels = ?15, e2sfca = ?16, seconds = ?17 WHERE id = ?18")) != TGIS_OK)
    return st;
  q = s->results->run_upd;
  sqlite3_bind_int64(q, i++, sum->parcels);
  sqlite3_bind_int64(q, i++, sum->residents);
  sqlite3_bind_int64(q, i++, sum->covered_parcels);
  sqlite3_bind_int64(q, i++, sum->covered_residents);
  bind_real(q, i++, sum->covered_share);
  sqlite3_bind_int64(q, i++, sum->unreachable_parcels);
  sqlite3_bind_int64(q, i++, sum->unreachable_residents);
  sqlite3_bind_int64(q, i++, sum->unsnapped_parcels);
  sqlite3_bind_int64(q, i++, sum->facilities);
  sqlite3_bind_int64(q, i++, sum->facilities_unsnapped);
  sqlite3_bind_int64(q, i++, sum->facilities_overloaded);
  sqlite3_bind_int64(q, i++, sum->network_nodes);
  sqlite3_bind_int64(q, i++, sum->network_edges);
  sqlite3_bind_int64(q, i++, sum->components);
  sqlite3_bind_int64(q, i++, sum->off_main_parcels);
  bind_real(q, i++, sum->e2sfca);
  bind_real(q, i++, sum->seconds);
  sqlite3_bind_int64(q, i++, sum->run_id);
  if ((st = step_done(s, q, "cannot record the coverage run's numbers")) != TGIS_OK)
    return st;
  if (sqlite3_changes(s->db) != 1)
    return tgis__fail(s->base.ctx, TGIS_ENOTFOUND, "%s: no coverage run %lld", s->path,
                      (long long)sum->run_id);
  return TGIS_OK;
}

/* ---- result rows ---------------------------------------------------------------- */

/* Bind row p at parameters base+1 .. base+8 (the run is ?1). */
static void bind_parcel(sqlite3_stmt *q, int base, const tgis_coverage_parcel *p)
{
  sqlite3_bind_int64(q, base + 1, p->parcel_id);
  if (p->facility_id > 0)
    sqlite3_bind_int64(q, base + 2, p->facility_id);
  else
    sqlite3_bind_null(q, base + 2);
  bind_real(q, base + 3, p->seconds);
  bind_real(q, base + 4, p->metres);
  bind_real(q, base + 5, p->snap_m);
  sqlite3_bind_int(q, base + 6, p->covered != 0);
  sqlite3_bind_int(q, base + 7, p->reachable != 0);
  sqlite3_bind_double(q, base + 8, isfinite(p->e2sfca) ? p->e2sfca : 0.0);
}

/* INSERT of `rows` rows sharing the run parameter ?1. */
static tgis_status parcel_stmt(sl_store *s, sqlite3_stmt **slot, int rows)
{
  char sql[PARCEL_ROWS * 48 + 256];
  size_t n;
  if (*slot)
    return TGIS_OK;
  n = (size_t)snprintf(sql, sizeof sql, "INSERT INTO coverage_parcels (run_id, parcel_id, "
                       "facility_id, seconds, metres, snap_m, covered, reachable, e2sfca) VALUES ");
  for (int k = 0; k < rows && n < sizeof sql; k++) {
    int b = 8 * k + 1;
    n += (size_t)snprintf(sql + n, sizeof sql - n, "%s(?1,?%d,?%d,?%d,?%d,?%d,?%d,?%d,?%d)",
                          k ? "," : "", b + 1, b + 2, b + 3, b + 4, b + 5, b + 6, b + 7, b + 8);
  }
  if (n >= sizeof sql)
    return tgis__fail(s->base.ctx, TGIS_EINVAL, "coverage insert statement too long");
  return stmt(s, slot, sql);
}

tgis_status tgis_sl__coverage_parcels_put(tgis_store *base, int64_t run_id,
                                          const tgis_coverage_parcel *rows, size_t n)
{
  sl_store *s = (sl_store *)base;
  tgis_status st;
  size_t k = 0;

  if ((st = require_writing(s)) != TGIS_OK || (st = ensure(s)) != TGIS_OK ||
      (st = parcel_stmt(s, SLOT(s, parcel_ins), 1)) != TGIS_OK ||
      (st = parcel_stmt(s, SLOT(s, parcel_ins_many), PARCEL_ROWS)) != TGIS_OK)
    return st;
  /* PARCEL_ROWS rows a statement while there are that many, then one by
   * one: a statement's step, reset and setup cost more than the row. The
   * run is bound once; every other parameter is rebound each time. */
  while (k < n) {
    int many = n - k >= PARCEL_ROWS, count = many ? PARCEL_ROWS : 1;
    sqlite3_stmt *q = many ? s->results->parcel_ins_many : s->results->parcel_ins;
    sqlite3_bind_int64(q, 1, run_id);
    for (int j = 0; j < count; j++)
      bind_parcel(q, 1 + 8 * j, &rows[k + (size_t)j]);
    if (sqlite3_step(q) != SQLITE_DONE) {
      st = tgis__fail(s->base.ctx, TGIS_EDB, "%s: coverage run %lld, parcels %lld..: %s",
                      s->path, (long long)run_id, (long long)rows[k].parcel_id,
                      sqlite3_errmsg(s->db));
      sqlite3_reset(q);
      sqlite3_clear_bindings(q);
      return st;
    }
    sqlite3_reset(q);
    k += (size_t)count;
  }
  return TGIS_OK;
}

tgis_status tgis_sl__coverage_districts_put(tgis_store *base, int64_t run_id,
                                            const tgis_coverage_district *rows, size_t n)
{
  sl_store *s = (sl_store *)base;
  sqlite3_stmt *q;
  tgis_status st;

  if ((st = require_writing(s)) != TGIS_OK || (st = ensure(s)) != TGIS_OK ||
      (st = stmt(s, SLOT(s, district_ins),
                 "INSERT INTO coverage_districts (run_id, soato, parcels, residents, "
                 "covered_residents, unreachable_residents, share, e2sfca) "
                 "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")) != TGIS_OK)
    return st;
  q = s->results->district_ins;
  for (size_t k = 0; k < n; k++) {
    const tgis_coverage_district *d = &rows[k];
    sqlite3_bind_int64(q, 1, run_id);
    if (d->soato[0])
      sqlite3_bind_text(q, 2, d->soato, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 3, d->parcels);
    sqlite3_bind_int64(q, 4, d->residents);
    sqlite3_bind_int64(q, 5, d->covered_residents);
    sqlite3_bind_int64(q, 6, d->unreachable_residents);
    bind_real(q, 7, d->share);
    bind_real(q, 8, d->e2sfca);
    if ((st = step_done(s, q, "cannot write a coverage district")) != TGIS_OK)
      return st;
  }
  return TGIS_OK;
}

tgis_status tgis_sl__coverage_facilities_put(tgis_store *base, int64_t run_id,
                                             const tgis_coverage_facility *rows, size_t n)
{
  sl_store *s = (sl_store *)base;
  sqlite3_stmt *q;
  tgis_status st;

  if ((st = require_writing(s)) != TGIS_OK || (st = ensure(s)) != TGIS_OK ||
      (st = stmt(s, SLOT(s, facility_ins),
                 "INSERT INTO coverage_facilities (run_id, facility_id, capacity, snap_m, "
                 "catchment_parcels, catchment_residents, load_ratio, e2sfca_ratio) "
                 "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")) != TGIS_OK)
    return st;
  q = s->results->facility_ins;
  for (size_t k = 0; k < n; k++) {
    const tgis_coverage_facility *f = &rows[k];
    sqlite3_bind_int64(q, 1, run_id);
    sqlite3_bind_int64(q, 2, f->facility_id);
    if (f->capacity >= 0)
      sqlite3_bind_int64(q, 3, f->capacity);
    bind_real(q, 4, f->snap_m);
    sqlite3_bind_int64(q, 5, f->catchment_parcels);
    sqlite3_bind_int64(q, 6, f->catchment_residents);
    bind_real(q, 7, f->load);
    bind_real(q, 8, f->ratio);
    if ((st = step_done(s, q, "cannot write a coverage facility")) != TGIS_OK)
      return st;
  }
  return TGIS_OK;
}

tgis_status tgis_sl__coverage_sites_put(tgis_store *base, int64_t run_id,
                                        const tgis_coverage_site *rows, size_t n)
{
  sl_store *s = (sl_store *)base;
  sqlite3_stmt *q;
  tgis_status st;

  if ((st = require_writing(s)) != TGIS_OK || (st = ensure(s)) != TGIS_OK ||
      (st = stmt(s, SLOT(s, site_del), "DELETE FROM coverage_sites WHERE run_id = ?1")) != TGIS_OK ||
      (st = stmt(s, SLOT(s, site_ins),
                 "INSERT INTO coverage_sites (run_id, rank, parcel_id, label, x, y, "
                 "gain_residents, covered_residents) "
                 "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")) != TGIS_OK)
    return st;
  sqlite3_bind_int64(s->results->site_del, 1, run_id);
  if ((st = step_done(s, s->results->site_del, "cannot replace coverage sites")) != TGIS_OK)
    return st;
  q = s->results->site_ins;
  for (size_t k = 0; k < n; k++) {
    const tgis_coverage_site *x = &rows[k];
    sqlite3_bind_int64(q, 1, run_id);
    sqlite3_bind_int(q, 2, x->rank);
    if (x->parcel_id > 0)
      sqlite3_bind_int64(q, 3, x->parcel_id);
    if (x->label)
      sqlite3_bind_text(q, 4, x->label, -1, SQLITE_STATIC);
    sqlite3_bind_double(q, 5, x->x);
    sqlite3_bind_double(q, 6, x->y);
    sqlite3_bind_int64(q, 7, x->gain_residents);
    sqlite3_bind_int64(q, 8, x->covered_residents);
    if ((st = step_done(s, q, "cannot write a coverage site")) != TGIS_OK)
      return st;
  }
  return TGIS_OK;
}

/* ---- reading runs back ------------------------------------------------------------ */

/* The run a reader asks for: run_id itself if it exists, or the latest (of
 * a kind). */
static tgis_status resolve_run(sl_store *s, int64_t run_id, const char *kind, int64_t *out)
{
  sqlite3_stmt *q;
  tgis_status st;
  int rc;

  if ((st = ensure(s)) != TGIS_OK ||
      (st = stmt(s, SLOT(s, latest),
                 "SELECT id FROM coverage_runs WHERE (?1 > 0 AND id = ?1) OR "
                 "(?1 <= 0 AND (?2 IS NULL OR facility_kind = ?2)) "
                 "ORDER BY id DESC LIMIT 1")) != TGIS_OK)
    return st;
  q = s->results->latest;
  sqlite3_bind_int64(q, 1, run_id);
  if (kind)
    sqlite3_bind_text(q, 2, kind, -1, SQLITE_STATIC);
  rc = sqlite3_step(q);
  *out = rc == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
  sqlite3_reset(q);
  sqlite3_clear_bindings(q);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return db_fail(s, "cannot read coverage_runs");
  if (rc == SQLITE_DONE) {
    if (run_id > 0)
      return tgis__fail(s->base.ctx, TGIS_ENOTFOUND, "%s: no coverage run %lld", s->path,
                        (long long)run_id);
    return tgis__fail(s->base.ctx, TGIS_ENOTFOUND, "%s: no coverage run%s%s yet (run `tgis "
                      "coverage`)", s->path, kind ? " of " : "", kind ? kind : "");
  }
  return TGIS_OK;
}

tgis_status tgis_sl__coverage_run_get(tgis_store *base, int64_t run_id, const char *kind,
                                      tgis_coverage_summary *out)
{
  sl_store *s = (sl_store *)base;
  sqlite3_stmt *q = NULL;
  tgis_status st;
  int64_t id;
  int rc, i = 0;

  memset(out, 0, sizeof *out);
  if ((st = resolve_run(s, run_id, kind, &id)) != TGIS_OK)
    return st;
  if (sqlite3_prepare_v2(s->db,
        "SELECT id, facility_kind, mode, method, minutes, radius_m, walk_kmh, max_snap_m, "
        "created_at, parcels, residents, covered_parcels, covered_residents, covered_share, "
        "unreachable_parcels, unreachable_residents, unsnapped_parcels, facilities, "
        "facilities_unsnapped, facilities_overloaded, network_nodes, network_edges, "
        "components, off_main_parcels, e2sfca, seconds FROM coverage_runs WHERE id = ?1",
        -1, &q, NULL) != SQLITE_OK)
    return db_fail(s, "cannot read coverage_runs");
  sqlite3_bind_int64(q, 1, id);
  rc = sqlite3_step(q);
  if (rc == SQLITE_ROW) {
    out->run_id = sqlite3_column_int64(q, i++);
    snprintf(out->facility_kind, sizeof out->facility_kind, "%s",
             (const char *)sqlite3_column_text(q, i++));
    out->mode = strcmp((const char *)sqlite3_column_text(q, i++), "drive") == 0
                ? TGIS_TRAVEL_DRIVE : TGIS_TRAVEL_WALK;
    out->method = strcmp((const char *)sqlite3_column_text(q, i++), "radius") == 0
                  ? TGIS_COVERAGE_RADIUS : TGIS_COVERAGE_NETWORK;
    out->minutes = sqlite3_column_double(q, i++);
    out->radius_m = sqlite3_column_double(q, i++);  /* NULL reads as 0 */
    out->walk_kmh = sqlite3_column_double(q, i++);
    out->max_snap_m = sqlite3_column_double(q, i++);
    snprintf(out->created, sizeof out->created, "%s",
             (const char *)sqlite3_column_text(q, i++));
    out->parcels = sqlite3_column_int64(q, i++);
    out->residents = sqlite3_column_int64(q, i++);
    out->covered_parcels = sqlite3_column_int64(q, i++);
    out->covered_residents = sqlite3_column_int64(q, i++);
    out->covered_share = col_real(q, i++);
    out->unreachable_parcels = sqlite3_column_int64(q, i++);
    out->unreachable_residents = sqlite3_column_int64(q, i++);
    out->unsnapped_parcels = sqlite3_column_int64(q, i++);
    out->facilities = sqlite3_column_int64(q, i++);
    out->facilities_unsnapped = sqlite3_column_int64(q, i++);
    out->facilities_overloaded = sqlite3_column_int64(q, i++);
    out->network_nodes = sqlite3_column_int64(q, i++);
    out->network_edges = sqlite3_column_int64(q, i++);
    out->components = sqlite3_column_int64(q, i++);
    out->off_main_parcels = sqlite3_column_int64(q, i++);
    out->e2sfca = col_real(q, i++);
    out->seconds = col_real(q, i++);
  }
  st = rc == SQLITE_ROW ? TGIS_OK : db_fail(s, "cannot read coverage_runs");
  sqlite3_finalize(q);
  return st;
}

tgis_status tgis_sl__coverage_scan(tgis_store *base, int64_t run_id, const char *kind,
                                   const tgis_extent *window, tgis_coverage_feature_cb cb,
                                   void *payload)
{
  sl_store *s = (sl_store *)base;
  struct sl_results *r;
  sqlite3_stmt *q;
  tgis_status st;
  int64_t id;
  int rc;

  if ((st = resolve_run(s, run_id, kind, &id)) != TGIS_OK)
    return st;
  r = s->results;
  if (window)
    st = stmt(s, &r->scan[1],
              "SELECT p.id, p.geom, c.seconds, c.reachable, c.covered "
              "FROM \"idx_parcels_geom\" AS i JOIN parcels AS p ON p.id = i.pkid "
              "LEFT JOIN coverage_parcels AS c ON c.run_id = ?5 AND c.parcel_id = p.id "
              "WHERE i.xmin <= ?3 AND i.xmax >= ?1 AND i.ymin <= ?4 AND i.ymax >= ?2");
  else
    st = stmt(s, &r->scan[0],
              "SELECT p.id, p.geom, c.seconds, c.reachable, c.covered FROM parcels AS p "
              "LEFT JOIN coverage_parcels AS c ON c.run_id = ?5 AND c.parcel_id = p.id "
              "ORDER BY p.id");
  if (st != TGIS_OK)
    return st;
  q = r->scan[window != NULL];
  if (window) {
    sqlite3_bind_double(q, 1, window->minx);
    sqlite3_bind_double(q, 2, window->miny);
    sqlite3_bind_double(q, 3, window->maxx);
    sqlite3_bind_double(q, 4, window->maxy);
  }
  sqlite3_bind_int64(q, 5, id);
  if (!r->geom_init) {
    tgis_geombuf_init(&r->geom, s->base.ctx);
    r->geom_init = 1;
  }
  while (st == TGIS_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
    tgis_coverage_feature f;
    const void *blob = sqlite3_column_blob(q, 1);
    int n = sqlite3_column_bytes(q, 1);
    f.parcel_id = sqlite3_column_int64(q, 0);
    f.in_run = sqlite3_column_type(q, 3) != SQLITE_NULL;
    f.reachable = f.in_run && sqlite3_column_int(q, 3) != 0;
    f.covered = f.in_run && sqlite3_column_int(q, 4) != 0;
    f.minutes = f.reachable ? col_real(q, 2) / 60.0 : NAN;
    f.geom = &r->geom;
    if (!blob) {
      tgis_geombuf_reset(&r->geom, TGIS_GEOM_MULTIPOLYGON);
    } else if ((st = tgis_sl__blob_decode(&r->geom, blob, (size_t)n, NULL)) != TGIS_OK) {
      st = tgis__fail(s->base.ctx, st == TGIS_ENOMEM ? TGIS_ENOMEM : TGIS_EPARSE,
                      "%s: parcels feature %lld: unreadable geometry", s->path,
                      (long long)f.parcel_id);
      break;
    }
    st = cb(&f, payload);
  }
  if (st == TGIS_OK && rc != SQLITE_DONE)
    st = db_fail(s, "reading coverage results");
  sqlite3_reset(q);
  sqlite3_clear_bindings(q);
  return st;
}
