/*
 * siting.c -- where to build next: greedy maximal covering location.
 *
 * Each round picks the candidate that would newly cover the most residents
 * not covered yet (by the run's facilities or an earlier pick), by the
 * run's own measure of reach; greedy is within 1 - 1/e of the best K-set
 * for this (submodular) objective. Gains only shrink as sites are added,
 * so the search is lazy (CELF, Leskovec et al. 2007): candidates wait in a
 * heap under their last known gain, and only the one on top is re-costed;
 * if it stays on top it is picked. Heap order is (gain desc, candidate
 * asc), so equal gains go to the earlier candidate, exactly as an eager
 * greedy would.
 *
 * Only parcels with residents that the run left uncovered are indexed for
 * the catchment searches, and a candidate further (straight-line) from all
 * of them than anyone could travel within the threshold gains nothing
 * without a search.
 */
#include <assert.h>
#include <math.h>
#include <string.h>

#include "coverage_int.h"

typedef struct cand {
  double x, y;
  tgis_snap snap;           /* network method */
  int64_t parcel_id;        /* 0 for a given point */
  const char *label;
} cand;

typedef struct hentry {
  int64_t gain;
  uint32_t c;
  uint32_t round;           /* the number of picks its gain is computed for */
} hentry;

typedef struct siting {
  cov_run *r;
  cand *c;
  size_t n;
  cov_reach *reach;
  uint8_t *taken;           /* parcels covered by a picked site */
  int64_t sum;              /* gain accumulator of a visit */
  int mark;                 /* the visit marks what it covers */
  /* straight-line pruning grid over the uncovered parcels */
  double bound, gx0, gy0;
  uint32_t gnx, gny;
  uint8_t *gcell;
} siting;

static int before(const hentry *a, const hentry *b)
{
  return a->gain > b->gain || (a->gain == b->gain && a->c < b->c);
}

static void sift_down(hentry *h, size_t n, size_t i)
{
  hentry x = h[i];
  for (;;) {
    size_t k = 2 * i + 1;
    if (k >= n)
      break;
    if (k + 1 < n && before(&h[k + 1], &h[k]))
      k++;
    if (!before(&h[k], &x))
      break;
    h[i] = h[k];
    i = k;
  }
  h[i] = x;
}

static void on_reached(uint32_t p, uint32_t slot, double cost, void *payload)
{
  siting *S = payload;
  (void)slot;
  (void)cost;
  if (S->taken[p])
    return;
  S->sum += S->r->parcels[p].residents;
  if (S->mark)
    S->taken[p] = 1;
}

/* Could any uncovered parcel lie within reach of (x, y)? */
static int may_gain(const siting *S, double x, double y)
{
  int64_t ci, cj;
  if (!S->gcell)
    return 1;
  ci = (int64_t)floor((x - S->gx0) / S->bound);
  cj = (int64_t)floor((y - S->gy0) / S->bound);
  for (int64_t j = cj - 1; j <= cj + 1; j++)
    for (int64_t i = ci - 1; i <= ci + 1; i++)
      if (i >= 0 && j >= 0 && i < S->gnx && j < S->gny && S->gcell[(size_t)j * S->gnx + (size_t)i])
        return 1;
  return 0;
}

static tgis_status gain_of(siting *S, uint32_t c, int mark, int64_t *gain)
{
  const cand *k = &S->c[c];
  tgis_status st;
  *gain = 0;
  if (!isfinite(k->x) || !may_gain(S, k->x, k->y))
    return TGIS_OK;
  S->sum = 0;
  S->mark = mark;
  st = cov__reach_visit(S->reach, &k->snap, k->x, k->y, on_reached, S);
  *gain = S->sum;
  return st;
}

/* A grid of cells `bound` wide marking the uncovered parcels: a candidate
 * whose 3 x 3 cells hold none is further than `bound` from all of them. */
static tgis_status build_prune_grid(siting *S, const uint8_t *include)
{
  cov_run *r = S->r;
  double maxx = -INFINITY, maxy = -INFINITY, vmax = r->o.walk_kmh;

  if (r->o.method == TGIS_COVERAGE_RADIUS) {
    S->bound = r->limit;
  } else {
    for (size_t i = 0; r->mode == TGIS_MODE_DRIVE && i < r->roads.n; i++)
      if (r->roads.roads[i].drive_kmh > vmax)
        vmax = r->roads.roads[i].drive_kmh;
    /* No trip is shorter than the straight line, nor faster than vmax. */
    S->bound = r->limit * vmax / 3.6;
  }
  S->gx0 = S->gy0 = INFINITY;
  for (size_t i = 0; i < r->n_parcels; i++) {
    if (!include[i] || !isfinite(r->pxy[2 * i]))
      continue;
    S->gx0 = fmin(S->gx0, r->pxy[2 * i]);
    S->gy0 = fmin(S->gy0, r->pxy[2 * i + 1]);
    maxx = fmax(maxx, r->pxy[2 * i]);
    maxy = fmax(maxy, r->pxy[2 * i + 1]);
  }
  if (!(S->bound > 0) || !isfinite(S->gx0) ||
      (maxx - S->gx0) / S->bound * (maxy - S->gy0) / S->bound > 1e7)
    return TGIS_OK;  /* nothing uncovered, or too fine a grid: no pruning */
  S->gnx = (uint32_t)floor((maxx - S->gx0) / S->bound) + 1;
  S->gny = (uint32_t)floor((maxy - S->gy0) / S->bound) + 1;
  if (!(S->gcell = tgis__calloc(r->ctx, (size_t)S->gnx * S->gny, 1)))
    return tgis__fail(r->ctx, TGIS_ENOMEM, "out of memory preparing the siting");
  for (size_t i = 0; i < r->n_parcels; i++) {
    if (!include[i] || !isfinite(r->pxy[2 * i]))
      continue;
    S->gcell[(size_t)floor((r->pxy[2 * i + 1] - S->gy0) / S->bound) * S->gnx +
             (size_t)floor((r->pxy[2 * i] - S->gx0) / S->bound)] = 1;
  }
  return TGIS_OK;
}

static tgis_status candidates(siting *S, const tgis_coverage_site_options *o)
{
  cov_run *r = S->r;
  size_t n = o->candidates ? o->n_candidates : r->n_cand;
  double *xy = NULL;
  tgis_snap *sn = NULL;
  tgis_status st = TGIS_OK;

  if (n == 0)
    return tgis__fail(r->ctx, TGIS_EINVAL, o->candidates ? "no candidate sites given"
                      : "no candidate sites: no parcel has land use 'public'");
  if (n >= UINT32_MAX)
    return tgis__fail(r->ctx, TGIS_EINVAL, "%zu candidate sites, too many", n);
  if (!(S->c = tgis__calloc(r->ctx, n, sizeof *S->c)))
    return tgis__fail(r->ctx, TGIS_ENOMEM, "out of memory for %zu candidate sites", n);
  S->n = n;
  if (!o->candidates) {
    for (size_t i = 0; i < n; i++) {
      uint32_t p = r->cand[i].parcel;
      S->c[i].x = r->pxy[2 * p];
      S->c[i].y = r->pxy[2 * p + 1];
      S->c[i].parcel_id = r->parcels[p].parcel_id;
      S->c[i].label = r->labels + r->cand[i].label;
      if (r->psnap)
        S->c[i].snap = r->psnap[p];
      else
        S->c[i].snap.edge = -1;
    }
    return TGIS_OK;
  }
  for (size_t i = 0; i < n; i++) {
    if (!isfinite(o->candidates[2 * i]) || !isfinite(o->candidates[2 * i + 1]))
      return tgis__fail(r->ctx, TGIS_EINVAL, "candidate site %zu: not a finite point", i + 1);
    S->c[i].x = o->candidates[2 * i];
    S->c[i].y = o->candidates[2 * i + 1];
    S->c[i].label = o->labels ? o->labels[i] : NULL;
    S->c[i].snap.edge = -1;
  }
  if (r->o.method != TGIS_COVERAGE_NETWORK)
    return TGIS_OK;
  if (!(xy = tgis__malloc(r->ctx, 2 * n * sizeof *xy)) ||
      !(sn = tgis__malloc(r->ctx, n * sizeof *sn))) {
    st = tgis__fail(r->ctx, TGIS_ENOMEM, "out of memory snapping candidate sites");
    goto done;
  }
  memcpy(xy, o->candidates, 2 * n * sizeof *xy);
  if ((st = tgis_snap_points(sn, r->ix, xy, n)) != TGIS_OK)
    goto done;
  for (size_t i = 0; i < n; i++)
    S->c[i].snap = sn[i];
done:
  tgis__free(r->ctx, xy);
  tgis__free(r->ctx, sn);
  return st;
}

/* Keep the picks in the result, labels copied, replacing earlier ones. */
static tgis_status keep_sites(cov_run *r, const tgis_coverage_site *picks, size_t n)
{
  size_t len = 0;
  tgis_coverage_site *sites = NULL;
  char *labels = NULL, *p;

  for (size_t i = 0; i < n; i++)
    len += picks[i].label ? strlen(picks[i].label) + 1 : 0;
  if ((n && !(sites = tgis__malloc(r->ctx, n * sizeof *sites))) ||
      !(labels = tgis__malloc(r->ctx, len + 1))) {
    tgis__free(r->ctx, sites);
    return tgis__fail(r->ctx, TGIS_ENOMEM, "out of memory keeping the sites");
  }
  p = labels;
  for (size_t i = 0; i < n; i++) {
    sites[i] = picks[i];
    if (picks[i].label) {
      size_t k = strlen(picks[i].label) + 1;
      memcpy(p, picks[i].label, k);
      sites[i].label = p;
      p += k;
    }
  }
  tgis__free(r->ctx, r->sites);
  tgis__free(r->ctx, r->site_labels);
  r->sites = sites;
  r->site_labels = labels;
  r->n_sites = n;
  return TGIS_OK;
}

static tgis_status store_sites(cov_run *r, const tgis_coverage_site *picks, size_t n)
{
  tgis_store *st;
  tgis_status rc;
  if (r->sum.run_id <= 0)
    return TGIS_OK;  /* a dry run wrote no run to attach them to */
  if ((rc = tgis__require_store(r->ctx, &st)) != TGIS_OK || (rc = tgis_store_begin(st)) != TGIS_OK)
    return rc;
  if ((rc = st->vt->coverage_sites_put(st, r->sum.run_id, picks, n)) != TGIS_OK ||
      (rc = tgis_store_commit(st)) != TGIS_OK) {
    tgis_store_rollback(st);
    return rc;
  }
  return TGIS_OK;
}

tgis_status tgis_coverage_sites(tgis_ctx *ctx, tgis_coverage_result *r,
                                const tgis_coverage_site_options *opts)
{
  static const tgis_coverage_site_options defaults = TGIS_COVERAGE_SITE_OPTIONS_INIT;
  const tgis_coverage_site_options *o = opts ? opts : &defaults;
  siting S;
  uint8_t *include = NULL;
  hentry *heap = NULL;
  tgis_coverage_site *picks = NULL;
  size_t n_heap = 0, n_picks = 0;
  uint32_t round = 0;
  int64_t covered;
  tgis_status st;

  assert(ctx && r && r->ctx == ctx);
  tgis__clear_error(ctx);
  memset(&S, 0, sizeof S);
  S.r = r;
  if (o->version != TGIS_COVERAGE_SITE_OPTIONS_VERSION)
    return tgis__fail(ctx, TGIS_EINVAL, "site options version %u, this library knows %d",
                      o->version, TGIS_COVERAGE_SITE_OPTIONS_VERSION);
  if (o->k < 1)
    return tgis__fail(ctx, TGIS_EINVAL, "%d sites asked for, need at least 1", o->k);
  r->o.progress = o->progress;
  r->o.progress_payload = o->progress_payload;
  r->cancel = 0;
  if ((st = candidates(&S, o)) != TGIS_OK)
    goto done;
  if (!(include = tgis__calloc(ctx, r->n_parcels + 1, 1)) ||
      !(S.taken = tgis__calloc(ctx, r->n_parcels + 1, 1)) ||
      !(heap = tgis__malloc(ctx, S.n * sizeof *heap)) ||
      !(picks = tgis__calloc(ctx, (size_t)o->k, sizeof *picks))) {
    st = tgis__fail(ctx, TGIS_ENOMEM, "out of memory for the siting");
    goto done;
  }
  for (size_t i = 0; i < r->n_parcels; i++)
    include[i] = !r->parcels[i].covered && r->parcels[i].residents > 0;
  if ((st = build_prune_grid(&S, include)) != TGIS_OK ||
      (st = cov__reach_new(&S.reach, r, include)) != TGIS_OK)
    goto done;

  /* Every candidate's gain on the run as it is. */
  for (size_t c = 0; c < S.n; c++) {
    int64_t g;
    if (c % 256 == 0 && (st = cov__progress(r, "siting", (int64_t)c, (int64_t)S.n)) != TGIS_OK)
      goto done;
    if ((st = gain_of(&S, (uint32_t)c, 0, &g)) != TGIS_OK)
      goto done;
    if (g > 0) {
      heap[n_heap].gain = g;
      heap[n_heap].c = (uint32_t)c;
      heap[n_heap++].round = 0;
    }
  }
  for (size_t i = n_heap / 2; i-- > 0;)
    sift_down(heap, n_heap, i);

  covered = r->sum.covered_residents;
  while (n_picks < (size_t)o->k && n_heap > 0) {
    hentry top = heap[0];
    if (top.round != round) {
      /* Stale: re-cost it where it stands and let it sink. */
      if ((st = gain_of(&S, top.c, 0, &heap[0].gain)) != TGIS_OK)
        goto done;
      heap[0].round = round;
      if (heap[0].gain == 0) {
        heap[0] = heap[--n_heap];
        if (n_heap == 0)
          break;
      }
      sift_down(heap, n_heap, 0);
      continue;
    }
    /* Fresh and on top: pick it, and mark what it covers. */
    {
      tgis_coverage_site *s = &picks[n_picks];
      const cand *k = &S.c[top.c];
      int64_t g;
      if ((st = gain_of(&S, top.c, 1, &g)) != TGIS_OK)
        goto done;
      assert(g == top.gain);
      covered += g;
      s->rank = (int)n_picks + 1;
      s->parcel_id = k->parcel_id;
      s->label = k->label;
      s->x = k->x;
      s->y = k->y;
      s->gain_residents = g;
      s->covered_residents = covered;
      n_picks++;
      round++;
    }
    heap[0] = heap[--n_heap];
    if (n_heap)
      sift_down(heap, n_heap, 0);
    if ((st = cov__progress(r, "siting", (int64_t)S.n, (int64_t)S.n)) != TGIS_OK)
      goto done;
  }
  if ((st = store_sites(r, picks, n_picks)) != TGIS_OK)
    goto done;
  st = keep_sites(r, picks, n_picks);

done:
  r->o.progress = NULL;
  r->o.progress_payload = NULL;
  cov__reach_free(S.reach);
  tgis__free(ctx, S.c);
  tgis__free(ctx, S.taken);
  tgis__free(ctx, S.gcell);
  tgis__free(ctx, include);
  tgis__free(ctx, heap);
  tgis__free(ctx, picks);
  return st;
}
