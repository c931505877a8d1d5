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
 * once: its (parcel, weight) pairs are kept just long enough to add R_j to
 * the parcels. A facility without capacity supplies 0; one nobody can
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

typedef struct pair {
  uint32_t parcel;
  double weight;
} pair;

typedef struct collector {
  cov_run *r;
  pair *a;
  size_t n, cap;
  int failed;
} collector;

static void collect(uint32_t parcel, double cost, void *payload)
{
  collector *c = payload;
  if (c->failed)
    return;
  if (c->n == c->cap) {
    size_t cap = c->cap ? 2 * c->cap : 4096;
    pair *a = tgis__realloc(c->r->ctx, c->a, cap * sizeof *a);
    if (!a) {
      c->failed = 1;
      return;
    }
    c->a = a;
    c->cap = cap;
  }
  c->a[c->n].parcel = parcel;
  c->a[c->n++].weight = cov__weight(cost, c->r->limit);
}

tgis_status cov__e2sfca(cov_run *r)
{
  collector c = { r, NULL, 0, 0, 0 };
  cov_reach *rc = NULL;
  double t0 = cov__now();
  tgis_status st;

  if ((st = cov__progress(r, "e2sfca", 0, (int64_t)r->n_fac)) != TGIS_OK ||
      (st = cov__reach_new(&rc, r, NULL)) != TGIS_OK)
    return st;
  for (size_t j = 0; j < r->n_fac; j++) {
    tgis_coverage_facility *f = &r->facilities[j];
    double demand = 0, supply = f->capacity > 0 ? (double)f->capacity : 0.0, ratio;

    c.n = 0;
    if ((st = cov__reach_visit(rc, r->fsnap ? &r->fsnap[j] : NULL, r->fxy[2 * j],
                               r->fxy[2 * j + 1], collect, &c)) != TGIS_OK)
      goto done;
    if (c.failed) {
      st = tgis__fail(r->ctx, TGIS_ENOMEM, "out of memory in the E2SFCA catchments");
      goto done;
    }
    for (size_t k = 0; k < c.n; k++)
      demand += (double)r->parcels[c.a[k].parcel].residents * c.a[k].weight;
    if (!(demand > 0))
      continue;  /* nobody in reach: no ratio */
    ratio = supply / demand;
    f->ratio = ratio;
    for (size_t k = 0; k < c.n; k++)
      r->parcels[c.a[k].parcel].e2sfca += ratio * c.a[k].weight;
    if ((st = cov__progress(r, "e2sfca", (int64_t)j + 1, (int64_t)r->n_fac)) != TGIS_OK)
      goto done;
  }
  st = cov__progress(r, "e2sfca", (int64_t)r->n_fac, (int64_t)r->n_fac);
done:
  tgis__free(r->ctx, c.a);
  cov__reach_free(rc);
  r->sum.timing.e2sfca += cov__now() - t0;
  return st;
}
