/*
 * coverage.c -- tgis_coverage_run(): who reaches a facility of a kind
 * within a time, from the options to the stored result tables.
 *
 * The run checks its options before any work, reads the layers, finds
 * every parcel's nearest facility (by network or by radius), computes the
 * E2SFCA index, sums districts and facilities, and writes it all in one
 * transaction. Each stage is its own file (coverage_int.h); this one holds
 * the order, the checks, progress and cancellation, and the accessors.
 */
#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "coverage_int.h"
#include "layers.h"

double cov__now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

tgis_status cov__progress(cov_run *r, const char *stage, int64_t done, int64_t total)
{
  if (!r->cancel && r->o.progress && r->o.progress(stage, done, total, r->o.progress_payload))
    r->cancel = 1;
  if (r->cancel)
    return tgis__fail(r->ctx, TGIS_ECANCELLED, "coverage run cancelled while %s", stage);
  return TGIS_OK;
}

void tgis_coverage_result_free(tgis_coverage_result *r)
{
  tgis_ctx *ctx;
  if (!r)
    return;
  ctx = r->ctx;
  tgis__free(ctx, r->pxy);
  tgis__free(ctx, r->parcels);
  tgis__free(ctx, r->pfac);
  tgis__free(ctx, r->districts);
  tgis__free(ctx, r->fxy);
  tgis__free(ctx, r->facilities);
  for (size_t i = 0; r->fac_names && i < r->n_fac; i++)
    tgis__free(ctx, r->fac_names[i]);
  tgis__free(ctx, r->fac_names);
  tgis__free(ctx, r->cand);
  tgis__free(ctx, r->labels);
  tgis_network__free(&r->roads);
  tgis_graph_components_free(r->comps);
  tgis_snap_index_free(r->ix);
  tgis_graph_free(r->g);
  tgis__free(ctx, r->psnap);
  tgis__free(ctx, r->fsnap);
  tgis__free(ctx, r->sites);
  tgis__free(ctx, r->site_labels);
  tgis__free(ctx, r);
}

/* Is `kind` one of the facility kinds of the catalogue? Lists them in
 * `names` for the message. */
static int known_kind(const char *kind, char *names, size_t n)
{
  const tgis_layer_def *def = tgis_layer__def(TGIS_LAYER_FACILITIES);
  const char *const *allowed = def->fields[tgis_layer__field(def, "kind")].allowed;
  size_t used = 0;
  int found = 0;

  names[0] = '\0';
  for (size_t i = 0; allowed[i]; i++) {
    int k = snprintf(names + used, n - used, "%s%s", i ? ", " : "", allowed[i]);
    if (k > 0 && (size_t)k < n - used)
      used += (size_t)k;
    found |= kind && strcmp(kind, allowed[i]) == 0;
  }
  return found;
}

static tgis_status check_options(tgis_ctx *ctx, const tgis_coverage_options *o)
{
  char kinds[128];

  if (o->version != TGIS_COVERAGE_OPTIONS_VERSION)
    return tgis__fail(ctx, TGIS_EINVAL, "coverage options version %u, this library knows %d",
                      o->version, TGIS_COVERAGE_OPTIONS_VERSION);
  if (!known_kind(o->facility_kind, kinds, sizeof kinds))
    return tgis__fail(ctx, TGIS_EINVAL, "unknown facility kind '%s' (known: %s)",
                      o->facility_kind ? o->facility_kind : "(none)", kinds);
  if ((unsigned)o->mode > TGIS_TRAVEL_DRIVE)
    return tgis__fail(ctx, TGIS_EINVAL, "travel mode %d is not walk or drive", (int)o->mode);
  if ((unsigned)o->method > TGIS_COVERAGE_RADIUS)
    return tgis__fail(ctx, TGIS_EINVAL, "coverage method %d is not network or radius",
                      (int)o->method);
  if (!(o->minutes > 0) || !isfinite(o->minutes))
    return tgis__fail(ctx, TGIS_EINVAL, "minutes %g: the threshold must be > 0", o->minutes);
  if (!(o->walk_kmh > 0) || !isfinite(o->walk_kmh))
    return tgis__fail(ctx, TGIS_EINVAL, "walking speed %g km/h, must be > 0", o->walk_kmh);
  if (!(o->max_snap_m > 0) || !isfinite(o->max_snap_m))
    return tgis__fail(ctx, TGIS_EINVAL, "max snap distance %g m, must be > 0", o->max_snap_m);
  if (o->method == TGIS_COVERAGE_RADIUS) {
    if (!(o->radius_m >= 0) || !isfinite(o->radius_m))
      return tgis__fail(ctx, TGIS_EINVAL, "radius %g m, must be > 0", o->radius_m);
    if (o->radius_m == 0 && o->mode == TGIS_TRAVEL_DRIVE)
      return tgis__fail(ctx, TGIS_EINVAL,
                        "radius method in drive mode: give the radius (no speed turns "
                        "minutes into metres)");
  }
  return TGIS_OK;
}

tgis_status tgis_coverage_run(tgis_coverage_result **out, tgis_ctx *ctx,
                              const tgis_coverage_options *opts)
{
  static const tgis_coverage_options defaults = TGIS_COVERAGE_OPTIONS_INIT;
  const tgis_coverage_options *o = opts ? opts : &defaults;
  tgis_coverage_result *r;
  tgis_store *store;
  tgis_status st;

  assert(out && ctx);
  *out = NULL;
  tgis__clear_error(ctx);
  if ((st = tgis__require_store(ctx, &store)) != TGIS_OK ||
      (st = check_options(ctx, o)) != TGIS_OK)
    return st;
  if (store->readonly && !(o->flags & TGIS_COVERAGE_DRY_RUN))
    return tgis__fail(ctx, TGIS_EREADONLY,
                      "the database is open read-only: a coverage run writes its results "
                      "(or use a dry run)");
  if (!(r = tgis__calloc(ctx, 1, sizeof *r)))
    return tgis__fail(ctx, TGIS_ENOMEM, "out of memory starting a coverage run");
  r->ctx = ctx;
  r->t_start = cov__now();
  r->o = *o;
  tgis__strlcpy(r->kind, o->facility_kind, sizeof r->kind);
  r->o.facility_kind = r->kind;
  r->mode = o->mode == TGIS_TRAVEL_DRIVE ? TGIS_MODE_DRIVE : TGIS_MODE_WALK;
  tgis__strlcpy(r->sum.facility_kind, r->kind, sizeof r->sum.facility_kind);
  r->sum.mode = o->mode;
  r->sum.method = o->method;
  r->sum.minutes = o->minutes;
  r->sum.walk_kmh = o->walk_kmh;
  r->sum.max_snap_m = o->max_snap_m;
  if (o->method == TGIS_COVERAGE_RADIUS) {
    r->sum.radius_m = o->radius_m > 0 ? o->radius_m : o->minutes * 60.0 * o->walk_kmh / 3.6;
    r->limit = r->sum.radius_m;
  } else {
    r->limit = o->minutes * 60.0;
  }

  {
    double t0 = cov__now();
    if ((st = cov__load(r)) != TGIS_OK)
      goto fail;
    r->sum.timing.load += cov__now() - t0;
  }
  if (!(r->pfac = tgis__malloc(ctx, (r->n_parcels + 1) * sizeof *r->pfac))) {
    st = tgis__fail(ctx, TGIS_ENOMEM, "out of memory for %zu parcels", r->n_parcels);
    goto fail;
  }
  for (size_t i = 0; i < r->n_parcels; i++)
    r->pfac[i] = -1;
  st = o->method == TGIS_COVERAGE_NETWORK ? cov__network(r) : cov__radius(r);
  if (st != TGIS_OK || (st = cov__e2sfca(r)) != TGIS_OK ||
      (st = cov__aggregate(r)) != TGIS_OK || (st = cov__write(r)) != TGIS_OK)
    goto fail;
  r->sum.seconds = cov__now() - r->t_start;
  r->o.progress = NULL;  /* the caller's payload may not outlive the call */
  r->o.progress_payload = NULL;
  *out = r;
  return TGIS_OK;

fail:
  tgis_coverage_result_free(r);
  return st;
}

const tgis_coverage_summary *tgis_coverage_result_summary(const tgis_coverage_result *r)
{
  assert(r);
  return &r->sum;
}

const tgis_coverage_parcel *tgis_coverage_result_parcels(const tgis_coverage_result *r,
                                                         size_t *n)
{
  assert(r && n);
  *n = r->n_parcels;
  return r->parcels;
}

const tgis_coverage_district *tgis_coverage_result_districts(const tgis_coverage_result *r,
                                                             size_t *n)
{
  assert(r && n);
  *n = r->n_districts;
  return r->districts;
}

const tgis_coverage_facility *tgis_coverage_result_facilities(const tgis_coverage_result *r,
                                                              size_t *n)
{
  assert(r && n);
  *n = r->n_fac;
  return r->facilities;
}

const tgis_coverage_site *tgis_coverage_result_sites(const tgis_coverage_result *r, size_t *n)
{
  assert(r && n);
  *n = r->n_sites;
  return r->sites;
}

tgis_status tgis_coverage_run_get(tgis_coverage_summary *out, tgis_ctx *ctx, int64_t run_id,
                                  const char *facility_kind)
{
  tgis_store *st;
  tgis_status rc;

  assert(out && ctx);
  memset(out, 0, sizeof *out);
  tgis__clear_error(ctx);
  if ((rc = tgis__require_store(ctx, &st)) != TGIS_OK)
    return rc;
  return st->vt->coverage_run_get(st, run_id, facility_kind, out);
}
