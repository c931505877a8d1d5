/*
 * coverage_write.c -- a run's results into the coverage_* tables, in one
 * transaction: the run's row, a million parcel rows through one prepared
 * statement, the districts and facilities, then the run's numbers. Any
 * failure rolls all of it back, so a table never holds half a run.
 */
#include "coverage_int.h"

/* Rows handed to the store per call (and per progress report). */
#define BATCH 65536

tgis_status cov__write(cov_run *r)
{
  tgis_store *st;
  tgis_status rc;
  double t0 = cov__now();

  if (r->o.flags & TGIS_COVERAGE_DRY_RUN)
    return TGIS_OK;
  if ((rc = tgis__require_store(r->ctx, &st)) != TGIS_OK ||
      (rc = cov__progress(r, "writing", 0, (int64_t)r->n_parcels)) != TGIS_OK ||
      (rc = tgis_store_begin(st)) != TGIS_OK)
    return rc;
  if ((rc = st->vt->coverage_run_open(st, &r->sum)) != TGIS_OK)
    goto fail;
  for (size_t i = 0; i < r->n_parcels; i += BATCH) {
    size_t n = r->n_parcels - i < BATCH ? r->n_parcels - i : BATCH;
    if ((rc = st->vt->coverage_parcels_put(st, r->sum.run_id, r->parcels + i, n)) != TGIS_OK ||
        (rc = cov__progress(r, "writing", (int64_t)(i + n), (int64_t)r->n_parcels)) != TGIS_OK)
      goto fail;
  }
  if ((rc = st->vt->coverage_districts_put(st, r->sum.run_id, r->districts,
                                           r->n_districts)) != TGIS_OK ||
      (rc = st->vt->coverage_facilities_put(st, r->sum.run_id, r->facilities,
                                            r->n_fac)) != TGIS_OK)
    goto fail;
  r->sum.timing.write += cov__now() - t0;
  r->sum.seconds = cov__now() - r->t_start;
  if ((rc = st->vt->coverage_run_close(st, &r->sum)) != TGIS_OK ||
      (rc = tgis_store_commit(st)) != TGIS_OK)
    goto fail;
  r->sum.timing.write = cov__now() - t0;
  return TGIS_OK;

fail:
  tgis_store_rollback(st);  /* keeps the first error's message */
  r->sum.run_id = 0;
  r->sum.created[0] = '\0';
  return rc;
}
