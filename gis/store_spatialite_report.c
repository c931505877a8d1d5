/*
 * store_spatialite_report.c -- the SpatiaLite store's reads of one stored
 * coverage run for reports: its districts, facilities, sites and parcel
 * rows, each joined with the few public attributes a report prints (the
 * district's name, the facility's name and point, the parcel's cadastre
 * number, district and residents).
 *
 * A report reads each table once, so the statements are prepared per call
 * rather than kept. The parcel rows of a run of a million parcels stream
 * out in parcel id order along the (run_id, parcel_id) key. A NULL value
 * reads as NaN. parcel_owners is never named here.
 */
#include <math.h>
#include <string.h>

#include "store_spatialite_int.h"

static tgis_status db_fail(sl_store *s, const char *what)
{
  return tgis__fail(s->base.ctx, TGIS_EDB, "%s: %s: %s", s->path, what,
                    sqlite3_errmsg(s->db));
}

static double col_real(sqlite3_stmt *q, int i)
{
  return sqlite3_column_type(q, i) == SQLITE_NULL ? NAN : sqlite3_column_double(q, i);
}

static const char *col_text(sqlite3_stmt *q, int i)
{
  return (const char *)sqlite3_column_text(q, i);
}

/* Prepare `sql` with the run bound to ?1. */
static tgis_status prepare_run(sl_store *s, sqlite3_stmt **q, const char *sql, int64_t run_id,
                               const char *what)
{
  if (sqlite3_prepare_v2(s->db, sql, -1, q, NULL) != SQLITE_OK) {
    *q = NULL;
    return db_fail(s, what);
  }
  sqlite3_bind_int64(*q, 1, run_id);
  return TGIS_OK;
}

/* After the row loop: the loop's status, or the step's failure. */
static tgis_status finish(sl_store *s, sqlite3_stmt *q, tgis_status st, int rc,
                          const char *what)
{
  if (st == TGIS_OK && rc != SQLITE_DONE)
    st = db_fail(s, what);
  sqlite3_finalize(q);
  return st;
}

tgis_status tgis_sl__coverage_districts_read(tgis_store *base, int64_t run_id,
                                             tgis_coverage_district_cb cb, void *payload)
{
  sl_store *s = (sl_store *)base;
  sqlite3_stmt *q;
  tgis_status st;
  int rc = SQLITE_DONE;

  if ((st = prepare_run(s, &q,
        "SELECT c.soato, c.parcels, c.residents, c.covered_residents, "
        "c.unreachable_residents, c.share, c.e2sfca, d.name "
        "FROM coverage_districts AS c LEFT JOIN districts AS d ON d.soato = c.soato "
        "WHERE c.run_id = ?1 ORDER BY c.soato IS NULL, c.soato", run_id,
        "cannot read coverage_districts")) != TGIS_OK)
    return st;
  while (st == TGIS_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
    tgis_coverage_district d;
    const char *soato = col_text(q, 0);
    memset(&d, 0, sizeof d);
    if (soato)
      tgis__strlcpy(d.soato, soato, sizeof d.soato);
    d.parcels = sqlite3_column_int64(q, 1);
    d.residents = sqlite3_column_int64(q, 2);
    d.covered_residents = sqlite3_column_int64(q, 3);
    d.unreachable_residents = sqlite3_column_int64(q, 4);
    d.share = col_real(q, 5);
    d.e2sfca = col_real(q, 6);
    st = cb(&d, col_text(q, 7), payload);
  }
  return finish(s, q, st, rc, "reading coverage_districts");
}

tgis_status tgis_sl__coverage_facilities_read(tgis_store *base, int64_t run_id,
                                              tgis_coverage_facility_cb cb, void *payload)
{
  sl_store *s = (sl_store *)base;
  sqlite3_stmt *q;
  tgis_geombuf g;
  tgis_status st;
  int rc = SQLITE_DONE;

  if ((st = prepare_run(s, &q,
        "SELECT c.facility_id, f.name, c.capacity, c.snap_m, c.catchment_parcels, "
        "c.catchment_residents, c.load_ratio, c.e2sfca_ratio, f.geom "
        "FROM coverage_facilities AS c LEFT JOIN facilities AS f ON f.id = c.facility_id "
        "WHERE c.run_id = ?1 ORDER BY c.facility_id", run_id,
        "cannot read coverage_facilities")) != TGIS_OK)
    return st;
  tgis_geombuf_init(&g, s->base.ctx);
  while (st == TGIS_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
    tgis_coverage_facility f;
    const void *blob = sqlite3_column_blob(q, 8);
    int n = sqlite3_column_bytes(q, 8);
    const char *name = col_text(q, 1);
    memset(&f, 0, sizeof f);
    f.facility_id = sqlite3_column_int64(q, 0);
    f.name = name ? name : "";
    f.capacity = sqlite3_column_type(q, 2) == SQLITE_NULL ? -1 : sqlite3_column_int64(q, 2);
    f.snap_m = col_real(q, 3);
    f.catchment_parcels = sqlite3_column_int64(q, 4);
    f.catchment_residents = sqlite3_column_int64(q, 5);
    f.load = col_real(q, 6);
    f.ratio = col_real(q, 7);
    f.x = f.y = NAN;
    if (blob) {
      if ((st = tgis_sl__blob_decode(&g, blob, (size_t)n, NULL)) != TGIS_OK) {
        st = tgis__fail(s->base.ctx, st == TGIS_ENOMEM ? TGIS_ENOMEM : TGIS_EPARSE,
                        "%s: facilities feature %lld: unreadable geometry", s->path,
                        (long long)f.facility_id);
        break;
      }
      if (g.n_points > 0) {
        f.x = g.xy[0];
        f.y = g.xy[1];
      }
    }
    st = cb(&f, payload);
  }
  tgis_geombuf_free(&g);
  return finish(s, q, st, rc, "reading coverage_facilities");
}

tgis_status tgis_sl__coverage_sites_read(tgis_store *base, int64_t run_id,
                                         tgis_coverage_site_cb cb, void *payload)
{
  sl_store *s = (sl_store *)base;
  sqlite3_stmt *q;
  tgis_status st;
  int rc = SQLITE_DONE;

  if ((st = prepare_run(s, &q,
        "SELECT rank, parcel_id, label, x, y, gain_residents, covered_residents "
        "FROM coverage_sites WHERE run_id = ?1 ORDER BY rank", run_id,
        "cannot read coverage_sites")) != TGIS_OK)
    return st;
  while (st == TGIS_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
    tgis_coverage_site x;
    x.rank = sqlite3_column_int(q, 0);
    x.parcel_id = sqlite3_column_type(q, 1) == SQLITE_NULL ? 0 : sqlite3_column_int64(q, 1);
    x.label = col_text(q, 2);
    x.x = sqlite3_column_double(q, 3);
    x.y = sqlite3_column_double(q, 4);
    x.gain_residents = sqlite3_column_int64(q, 5);
    x.covered_residents = sqlite3_column_int64(q, 6);
    st = cb(&x, payload);
  }
  return finish(s, q, st, rc, "reading coverage_sites");
}

tgis_status tgis_sl__coverage_parcels_read(tgis_store *base, int64_t run_id,
                                           tgis_coverage_parcel_row_cb cb, void *payload)
{
  sl_store *s = (sl_store *)base;
  sqlite3_stmt *q;
  tgis_status st;
  int rc = SQLITE_DONE;

  /* Driven by the run's rows (a parcel deleted since keeps its row); the
   * joins are lookups by primary key. */
  if ((st = prepare_run(s, &q,
        "SELECT c.parcel_id, p.cadastre, p.district, p.residents, c.facility_id, f.name, "
        "c.seconds, c.metres, c.snap_m, c.e2sfca, c.covered, c.reachable, p.id IS NOT NULL "
        "FROM coverage_parcels AS c "
        "LEFT JOIN parcels AS p ON p.id = c.parcel_id "
        "LEFT JOIN facilities AS f ON f.id = c.facility_id "
        "WHERE c.run_id = ?1 ORDER BY c.parcel_id", run_id,
        "cannot read coverage_parcels")) != TGIS_OK)
    return st;
  while (st == TGIS_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
    tgis_coverage_parcel_row p;
    p.parcel_id = sqlite3_column_int64(q, 0);
    p.cadastre = col_text(q, 1);
    p.district = col_text(q, 2);
    p.residents = sqlite3_column_int(q, 12) ? sqlite3_column_int64(q, 3) : -1;
    p.facility_id = sqlite3_column_type(q, 4) == SQLITE_NULL ? 0 : sqlite3_column_int64(q, 4);
    p.facility_name = col_text(q, 5);
    p.seconds = col_real(q, 6);
    p.metres = col_real(q, 7);
    p.snap_m = col_real(q, 8);
    p.e2sfca = col_real(q, 9);
    p.covered = sqlite3_column_int(q, 10) != 0;
    p.reachable = sqlite3_column_int(q, 11) != 0;
    st = cb(&p, payload);
  }
  return finish(s, q, st, rc, "reading coverage_parcels");
}
