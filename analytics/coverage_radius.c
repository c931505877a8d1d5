/*
 * coverage_radius.c -- the nearest facility of every parcel as the crow
 * flies, from the parcel's centroid.
 *
 * The facilities are sorted by x; a parcel looks outward from its own x in
 * both directions and stops on a side once the gap in x alone exceeds the
 * best distance found. With a few hundred facilities that is a handful of
 * distance computations a parcel. Equal distances go to the lower facility
 * index (id order), as in the network method.
 */
#include <math.h>
#include <stdlib.h>

#include "coverage_int.h"

typedef struct fpt {
  double x, y;
  int32_t i;
} fpt;

static int cmp_fpt(const void *a, const void *b)
{
  const fpt *p = a, *q = b;
  if (p->x != q->x)
    return p->x < q->x ? -1 : 1;
  return p->i < q->i ? -1 : (p->i > q->i);
}

static inline void consider(const fpt *f, double px, double py, double *best2, int32_t *bi)
{
  double dx = f->x - px, dy = f->y - py, d2 = dx * dx + dy * dy;
  if (d2 < *best2 || (d2 == *best2 && f->i < *bi)) {
    *best2 = d2;
    *bi = f->i;
  }
}

tgis_status cov__radius(cov_run *r)
{
  fpt *fs;
  size_t n = 0;
  double mps = r->o.walk_kmh / 3.6, t0 = cov__now();
  tgis_status st;

  if ((st = cov__progress(r, "searching", 0, (int64_t)r->n_parcels)) != TGIS_OK)
    return st;
  if (!(fs = tgis__malloc(r->ctx, r->n_fac * sizeof *fs)))
    return tgis__fail(r->ctx, TGIS_ENOMEM, "out of memory sorting facilities");
  for (size_t i = 0; i < r->n_fac; i++) {
    if (!isfinite(r->fxy[2 * i]) || !isfinite(r->fxy[2 * i + 1])) {
      r->sum.facilities_unsnapped++;
      continue;
    }
    fs[n].x = r->fxy[2 * i];
    fs[n].y = r->fxy[2 * i + 1];
    fs[n++].i = (int32_t)i;
  }
  qsort(fs, n, sizeof *fs, cmp_fpt);

  for (size_t i = 0; i < r->n_parcels; i++) {
    tgis_coverage_parcel *p = &r->parcels[i];
    double px = r->pxy[2 * i], py = r->pxy[2 * i + 1], best2 = INFINITY, d;
    size_t lo = 0, hi = n;
    int32_t bi = -1;

    if (n == 0 || !isfinite(px) || !isfinite(py))
      continue;  /* unreachable */
    while (lo < hi) {  /* first facility with x >= px */
      size_t mid = lo + (hi - lo) / 2;
      if (fs[mid].x < px)
        lo = mid + 1;
      else
        hi = mid;
    }
    for (size_t k = lo; k < n; k++) {
      double dx = fs[k].x - px;
      if (dx * dx > best2)
        break;
      consider(&fs[k], px, py, &best2, &bi);
    }
    for (size_t k = lo; k-- > 0;) {
      double dx = px - fs[k].x;
      if (dx * dx > best2)
        break;
      consider(&fs[k], px, py, &best2, &bi);
    }
    d = sqrt(best2);
    p->reachable = 1;
    p->metres = d;
    p->seconds = r->mode == TGIS_MODE_WALK ? d / mps : NAN;
    p->facility_id = r->facilities[bi].facility_id;
    r->pfac[i] = bi;
    p->covered = d <= r->limit;
  }
  tgis__free(r->ctx, fs);
  r->sum.timing.search += cov__now() - t0;
  return cov__progress(r, "searching", (int64_t)r->n_parcels, (int64_t)r->n_parcels);
}
