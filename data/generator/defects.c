/*
 * defects.c -- which features are broken on purpose, and the record of
 * where they ended up.
 *
 * Each parcel defect kind gets max(2, round(0.0005 x parcels)) victims,
 * chosen by a dedicated random stream among the parcels that can carry it
 * (a bad PINFL needs a private owner, a bad TIN a legal one). No parcel
 * carries two defects, and parcel 0 carries none, so a duplicated cadastre
 * number always has a clean original before it. Parcel and facility
 * defects replace normal features; road defects are extra features after
 * the real network (roads.c), so the network stays whole. The writers
 * record the fid of every defect they write; the manifest lists them.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gen_int.h"

const gen_defect_info tgis_gen__defect_info[GEN_D_COUNT] = {
  { "parcel_self_intersection",   TGIS_LAYER_PARCELS,    "geom" },
  { "parcel_wrong_geometry_type", TGIS_LAYER_PARCELS,    "geom" },
  { "parcel_empty_geometry",      TGIS_LAYER_PARCELS,    "geom" },
  { "parcel_null_geometry",       TGIS_LAYER_PARCELS,    "geom" },
  { "parcel_outside_city",        TGIS_LAYER_PARCELS,    "geom" },
  { "parcel_bad_cadastre",        TGIS_LAYER_PARCELS,    "cadastre" },
  { "parcel_duplicate_cadastre",  TGIS_LAYER_PARCELS,    "cadastre" },
  { "parcel_bad_pinfl",           TGIS_LAYER_PARCELS,    "owner_pinfl" },
  { "parcel_bad_tin",             TGIS_LAYER_PARCELS,    "owner_tin" },
  { "parcel_bad_address_code",    TGIS_LAYER_PARCELS,    "address_code" },
  { "road_empty_geometry",        TGIS_LAYER_ROADS,      "geom" },
  { "road_null_geometry",         TGIS_LAYER_ROADS,      "geom" },
  { "road_outside_city",          TGIS_LAYER_ROADS,      "geom" },
  { "facility_bad_address_code",  TGIS_LAYER_FACILITIES, "address_code" },
};

static int cmp_pick(const void *a, const void *b)
{
  const gen_defect_pick *p = a, *q = b;
  return (p->index > q->index) - (p->index < q->index);
}

/* Can parcel `index` carry defect `kind`? */
static int fits(const gen_state *g, gen_defect kind, size_t index)
{
  gen_use use = (gen_use)g->lay.buse[tgis_gen__parcel_block(g, index)->cell];
  if (kind == GEN_D_BAD_PINFL)
    return use == GEN_USE_RESIDENTIAL;
  if (kind == GEN_D_BAD_TIN)
    return use != GEN_USE_RESIDENTIAL && use != GEN_USE_GREEN;
  return 1;
}

static tgis_status alloc_fids(gen_state *g, gen_defect kind, size_t n)
{
  gen_defects *d = &g->defects;
  d->planned[kind] = n;
  d->fids[kind] = tgis__calloc(g->ctx, n ? n : 1, sizeof(int64_t));
  if (!d->fids[kind])
    return tgis__fail(g->ctx, TGIS_ENOMEM, "defects: out of memory");
  return TGIS_OK;
}

tgis_status tgis_gen__defects_plan(gen_state *g)
{
  gen_defects *d = &g->defects;
  size_t N = g->parcels.nparcels;
  size_t per_kind = (size_t)fmax(2.0, round(0.0005 * (double)N));
  uint64_t *taken = NULL;
  gen_rng rng;
  tgis_status st = TGIS_OK;
  size_t nf;

  d->parcels = tgis__calloc(g->ctx, per_kind * 10 + 1, sizeof *d->parcels);
  taken = tgis__calloc(g->ctx, N / 64 + 1, sizeof *taken);
  if (!d->parcels || !taken) {
    st = tgis__fail(g->ctx, TGIS_ENOMEM, "defects: out of memory");
    goto done;
  }
  tgis_gen__rng_seed(&rng, g->seed, GEN_S_DEFECTS);
  for (int kind = GEN_D_SELF_INTERSECTION; kind <= GEN_D_BAD_ADDRESS_CODE; kind++) {
    size_t got = 0;
    /* Parcel 0 stays clean; with one parcel there is nothing to break. */
    for (size_t tries = 0; N > 1 && got < per_kind && tries < 200000; tries++) {
      size_t idx = 1 + (size_t)tgis_gen__rng_below(&rng, N - 1);
      if (taken[idx / 64] & (1ull << (idx % 64)) || !fits(g, (gen_defect)kind, idx))
        continue;
      taken[idx / 64] |= 1ull << (idx % 64);
      d->parcels[d->nparcels].index = (uint32_t)idx;
      d->parcels[d->nparcels].kind = (uint8_t)kind;
      d->nparcels++;
      got++;
    }
    if ((st = alloc_fids(g, (gen_defect)kind, got)) != TGIS_OK)
      goto done;
  }
  qsort(d->parcels, d->nparcels, sizeof *d->parcels, cmp_pick);

  /* Facilities with an address code of a district that does not exist. */
  nf = (size_t)fmax(2.0, round(0.01 * (double)g->fac.n));
  if (nf > g->fac.n)
    nf = g->fac.n;
  for (size_t got = 0, tries = 0; got < nf && tries < 100000; tries++) {
    gen_facility *f = &g->fac.f[tgis_gen__rng_below(&rng, g->fac.n)];
    if (f->bad_address)
      continue;
    f->bad_address = 1;
    got++;
  }
  st = alloc_fids(g, GEN_D_FACILITY_BAD_ADDRESS_CODE, nf);

done:
  tgis__free(g->ctx, taken);
  return st;
}

gen_defect tgis_gen__defect_for_parcel(gen_state *g, size_t index)
{
  gen_defects *d = &g->defects;
  while (d->parcel_next < d->nparcels && d->parcels[d->parcel_next].index < index)
    d->parcel_next++;
  if (d->parcel_next < d->nparcels && d->parcels[d->parcel_next].index == index)
    return (gen_defect)d->parcels[d->parcel_next].kind;
  return GEN_D_NONE;
}

void tgis_gen__defect_record(gen_state *g, gen_defect kind, int64_t fid)
{
  gen_defects *d = &g->defects;
  if (d->fids[kind] && d->nfids[kind] < d->planned[kind])
    d->fids[kind][d->nfids[kind]++] = fid;
}

void tgis_gen__defects_free(gen_state *g)
{
  gen_defects *d = &g->defects;
  tgis__free(g->ctx, d->parcels);
  d->parcels = NULL;
  for (int k = 0; k < GEN_D_COUNT; k++) {
    tgis__free(g->ctx, d->fids[k]);
    d->fids[k] = NULL;
  }
}
