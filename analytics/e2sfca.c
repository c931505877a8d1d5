/*
 * e2sfca.c -- the enhanced two-step floating catchment area index (Luo &
 * Qi 2009): capacity-aware accessibility per parcel.
 *
 * Step 1, per facility j: R_j = S_j / sum_k P_k W(d_kj) over the parcels k
 * within the threshold d0 of j (S_j its capacity, P_k residents).
 * Step 2, per parcel i: A_i = sum_j R_j W(d_ij) over the facilities within
 * d0 of i. W is stepped over the thirds of the threshold: 1.00 up to d0/3,
 * 0.68 up to 2 d0/3, 0.22 up to d0 (the Gaussian-derived weights of the
 * original paper), 0 beyond. Distances are the run's own: travel time
 * along the network (door to door), or straight-line metres.
 *
 * Both steps need the same catchment, so each facility's search is run
 * once and its catchment visited twice. A facility without capacity
 * supplies 0; one nobody can
 * reach has no ratio (NaN). By construction sum_i P_i A_i = sum_j S_j over
 * the facilities with someone in reach, which the tests check.
 */
#include <math.h>

#include "coverage_int.h"

double cov__weight(double cost, double limit)
{
  if (!(cost <= limit))
    return 0.0;
  if (cost <= limit / 3.0)
    return COV_W1;
  if (cost <= 2.0 * limit / 3.0)
    return COV_W2;
  return COV_W3;
}

typedef struct pass {
  double limit;
  const double *res;  /* residents by slot */
  double *acc;        /* A_i by slot */
  double demand;      /* step 1: sum P_k W(d_kj) */
  double ratio;       /* step 2: R_j to add */
} pass;

static void add_demand(uint32_t parcel, uint32_t slot, double cost, void *payload)
{
  pass *p = payload;
  (void)parcel;
  p->demand += p->res[slot] * cov__weight(cost, p->limit);
}

static void add_access(uint32_t parcel, uint32_t slot, double cost, void *payload)
{
  pass *p = payload;
  (void)parcel;
  p->acc[slot] += p->ratio * cov__weight(cost, p->limit);
}

tgis_status cov__e2sfca(cov_run *r)
{
  cov_reach *rc = NULL;
  pass ps = { r->limit, NULL, NULL, 0, 0 };
  double *res = NULL, t0 = cov__now();
  size_t n_slots;
  tgis_status st;

  if ((st = cov__progress(r, "e2sfca", 0, (int64_t)r->n_fac)) != TGIS_OK ||
      (st = cov__reach_new(&rc, r, NULL)) != TGIS_OK)
    return st;
  /* Residents and the index by slot, the reach's own order: a visit reads
   * and adds in step with it instead of jumping about the parcels. */
  n_slots = cov__reach_slots(rc);
  if (!(res = tgis__malloc(r->ctx, (n_slots + 1) * sizeof *res)) ||
      !(ps.acc = tgis__calloc(r->ctx, n_slots + 1, sizeof *ps.acc))) {
    st = tgis__fail(r->ctx, TGIS_ENOMEM, "out of memory for the E2SFCA index");
    goto done;
  }
  for (size_t k = 0; k < n_slots; k++)
    res[k] = (double)r->parcels[cov__reach_slot_parcel(rc, (uint32_t)k)].residents;
  ps.res = res;
  for (size_t j = 0; j < r->n_fac; j++) {
    tgis_coverage_facility *f = &r->facilities[j];
    double supply = f->capacity > 0 ? (double)f->capacity : 0.0;

    /* One search, two visits of its catchment: sum the demand, then hand
     * the ratio out. Recomputing a parcel's cost is cheaper than keeping
     * a catchment of a million (parcel, weight) pairs in drive mode. */
    if ((st = cov__reach_search(rc, r->fsnap ? &r->fsnap[j] : NULL, r->fxy[2 * j],
                                r->fxy[2 * j + 1])) != TGIS_OK)
      goto done;
    ps.demand = 0;
    cov__reach_each(rc, add_demand, &ps);
    if (ps.demand > 0) {
      ps.ratio = supply / ps.demand;
      f->ratio = ps.ratio;
      cov__reach_each(rc, add_access, &ps);
    }  /* else nobody in reach: no ratio */
    if ((st = cov__progress(r, "e2sfca", (int64_t)j + 1, (int64_t)r->n_fac)) != TGIS_OK)
      goto done;
  }
  for (size_t k = 0; k < n_slots; k++)
    r->parcels[cov__reach_slot_parcel(rc, (uint32_t)k)].e2sfca = ps.acc[k];
done:
  tgis__free(r->ctx, res);
  tgis__free(r->ctx, ps.acc);
  cov__reach_free(rc);
  r->sum.timing.e2sfca += cov__now() - t0;
  return st;
}
