/*
 * coverage_aggregate.c -- the per-parcel results summed up: per district
 * (residents, covered share, E2SFCA), per facility (catchment and load)
 * and for the whole run.
 *
 * A facility's catchment is the covered parcels it is nearest to, so every
 * covered resident counts once, at the facility they would go to; its load
 * is that over its capacity. District and city E2SFCA are residents-
 * weighted means of the parcels' index.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "coverage_int.h"

static int cmp_soato(const void *a, const void *b)
{
  const tgis_coverage_district *x = a, *y = b;
  if (!x->soato[0] || !y->soato[0])
    return !x->soato[0] - !y->soato[0];  /* "" last */
  return strcmp(x->soato, y->soato);
}

/* Sort the districts by SOATO code and renumber the parcels' references. */
static tgis_status sort_districts(cov_run *r)
{
  int32_t *map;
  size_t n = r->n_districts;

  if (n < 2)
    return TGIS_OK;
  if (!(map = tgis__malloc(r->ctx, n * sizeof *map)))
    return tgis__fail(r->ctx, TGIS_ENOMEM, "out of memory sorting districts");
  /* Tag each with its old index in `parcels` (unused so far), sort, map. */
  for (size_t d = 0; d < n; d++)
    r->districts[d].parcels = (int64_t)d;
  qsort(r->districts, n, sizeof *r->districts, cmp_soato);
  for (size_t d = 0; d < n; d++) {
    map[r->districts[d].parcels] = (int32_t)d;
    r->districts[d].parcels = 0;
  }
  for (size_t i = 0; i < r->n_parcels; i++)
    r->parcels[i].district = map[r->parcels[i].district];
  tgis__free(r->ctx, map);
  return TGIS_OK;
}

tgis_status cov__aggregate(cov_run *r)
{
  tgis_coverage_summary *s = &r->sum;
  double *dist_pa, city_pa = 0, t0 = cov__now();
  tgis_status st;

  if ((st = sort_districts(r)) != TGIS_OK)
    return st;
  if (!(dist_pa = tgis__calloc(r->ctx, r->n_districts + 1, sizeof *dist_pa)))
    return tgis__fail(r->ctx, TGIS_ENOMEM, "out of memory summing districts");
  for (size_t i = 0; i < r->n_parcels; i++) {
    const tgis_coverage_parcel *p = &r->parcels[i];
    tgis_coverage_district *d = &r->districts[p->district];
    double pa = (double)p->residents * p->e2sfca;

    s->parcels++;
    s->residents += p->residents;
    d->parcels++;
    d->residents += p->residents;
    dist_pa[p->district] += pa;
    city_pa += pa;
    if (p->covered) {
      tgis_coverage_facility *f = &r->facilities[r->pfac[i]];
      s->covered_parcels++;
      s->covered_residents += p->residents;
      d->covered_residents += p->residents;
      f->catchment_parcels++;
      f->catchment_residents += p->residents;
    }
    if (!p->reachable) {
      s->unreachable_parcels++;
      s->unreachable_residents += p->residents;
      d->unreachable_residents += p->residents;
    }
  }
  for (size_t k = 0; k < r->n_districts; k++) {
    tgis_coverage_district *d = &r->districts[k];
    d->share = d->residents > 0 ? (double)d->covered_residents / (double)d->residents : NAN;
    d->e2sfca = d->residents > 0 ? dist_pa[k] / (double)d->residents : NAN;
  }
  for (size_t j = 0; j < r->n_fac; j++) {
    tgis_coverage_facility *f = &r->facilities[j];
    f->load = f->capacity > 0 ? (double)f->catchment_residents / (double)f->capacity : NAN;
    s->facilities_overloaded += f->load > 1.0;
  }
  s->facilities = (int64_t)r->n_fac;
  s->covered_share = s->residents > 0 ? (double)s->covered_residents / (double)s->residents
                                      : NAN;
  s->e2sfca = s->residents > 0 ? city_pa / (double)s->residents : NAN;
  tgis__free(r->ctx, dist_pa);
  s->timing.aggregate += cov__now() - t0;
  return TGIS_OK;
}
