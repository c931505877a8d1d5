/*
 * facilities.c -- polyclinics and schools on public blocks.
 *
 * max(3, round(62 x scale)) family polyclinics and max(5, round(520 x
 * scale)) schools, each on its own 'public' block. Sites are spread out by
 * best-candidate sampling: of a dozen random free public blocks, take the
 * one farthest from the facilities of the same kind placed so far.
 * Capacities scatter around an even share of the residents (schools: of
 * the 18% of school age) by U(0.6, 1.4), so some facilities end up
 * overloaded and some idle, which is what the coverage analytics look for.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "gen_int.h"

#define GEN_FAC_CANDIDATES 12

static const char *const kind_names[2] = { "polyclinic", "school" };

static void cell_centre(const gen_state *g, uint32_t cell, double *x, double *y)
{
  int nc = g->lay.nx - 1;
  double x0, y0, x1, y1;
  tgis_gen__cell_lot(g, (int)(cell % (uint32_t)nc), (int)(cell / (uint32_t)nc),
                     &x0, &y0, &x1, &y1);
  *x = (x0 + x1) / 2.0;
  *y = (y0 + y1) / 2.0;
}

void tgis_gen__facilities_wanted(double scale, size_t *poly, size_t *school)
{
  *poly = (size_t)fmax(3.0, round(62.0 * scale));
  *school = (size_t)fmax(5.0, round(520.0 * scale));
}

tgis_status tgis_gen__facilities_plan(gen_state *g)
{
  gen_facilities *fa = &g->fac;
  const gen_parcels *p = &g->parcels;
  uint32_t *pub = NULL;
  uint8_t *used = NULL;
  size_t npub = 0, nfree;
  gen_rng rng;
  tgis_status st = TGIS_OK;

  memset(fa, 0, sizeof *fa);
  tgis_gen__facilities_wanted(g->scale, &fa->wanted_poly, &fa->wanted_school);
  fa->f = tgis__calloc(g->ctx, fa->wanted_poly + fa->wanted_school, sizeof *fa->f);
  pub = tgis__malloc(g->ctx, (p->nblocks ? p->nblocks : 1) * sizeof *pub);
  used = tgis__calloc(g->ctx, p->nblocks ? p->nblocks : 1, 1);
  if (!fa->f || !pub || !used) {
    st = tgis__fail(g->ctx, TGIS_ENOMEM, "facilities: out of memory");
    goto done;
  }
  for (size_t b = 0; b < p->nblocks; b++)
    if (g->lay.buse[p->blocks[b].cell] == GEN_USE_PUBLIC)
      pub[npub++] = p->blocks[b].cell;
  nfree = npub;

  tgis_gen__rng_seed(&rng, g->seed, GEN_S_FACILITIES);
  for (int kind = 0; kind < 2; kind++) {
    size_t want = kind ? fa->wanted_school : fa->wanted_poly;
    size_t first = fa->n;
    double share = (kind ? 0.18 : 1.0) * (double)p->residents_total / (double)want;
    for (size_t k = 0; k < want && nfree > 0; k++) {
      size_t best = SIZE_MAX;
      double best_d = -1.0;
      for (int c = 0; c < GEN_FAC_CANDIDATES; c++) {
        size_t cand = SIZE_MAX;
        double x, y, dmin = HUGE_VAL;
        for (int t = 0; t < 64 && cand == SIZE_MAX; t++) {
          size_t u = (size_t)tgis_gen__rng_below(&rng, npub);
          if (!used[u])
            cand = u;
        }
        if (cand == SIZE_MAX) {  /* few free blocks left: take the first */
          for (size_t u = 0; u < npub && cand == SIZE_MAX; u++)
            if (!used[u])
              cand = u;
        }
        cell_centre(g, pub[cand], &x, &y);
        for (size_t q = first; q < fa->n; q++) {
          double qx, qy;
          cell_centre(g, fa->f[q].cell, &qx, &qy);
          dmin = fmin(dmin, (qx - x) * (qx - x) + (qy - y) * (qy - y));
        }
        if (dmin > best_d) {
          best_d = dmin;
          best = cand;
        }
      }
      used[best] = 1;
      nfree--;
      fa->f[fa->n].cell = pub[best];
      fa->f[fa->n].kind = (uint8_t)kind;
      fa->f[fa->n].number = (int)k + 1;
      fa->f[fa->n].capacity =
          (int)fmax(10.0, round(share * (0.6 + 0.8 * tgis_gen__rng_unit(&rng)) / 10.0) * 10.0);
      fa->n++;
    }
    if (kind)
      fa->nschool = fa->n - first;
    else
      fa->npoly = fa->n - first;
  }

done:
  tgis__free(g->ctx, pub);
  tgis__free(g->ctx, used);
  return st;
}

tgis_status tgis_gen__facilities_write(gen_state *g)
{
  gen_facilities *fa = &g->fac;
  int nc = g->lay.nx - 1;
  tgis_status st;

  tgis_gen__progress(&g->prog, "facilities", 0.0);
  for (size_t k = 0; k < fa->n; k++) {
    const gen_facility *fc = &fa->f[k];
    OGRFeatureH f = tgis_gen__feature(&g->w, TGIS_LAYER_FACILITIES);
    char ext[32], name[64], addr[16];
    double x, y;
    int64_t fid;

    snprintf(ext, sizeof ext, "%s-%d", kind_names[fc->kind], fc->number);
    if (fc->kind == 0)
      snprintf(name, sizeof name, "Oilaviy poliklinika No. %d", fc->number);
    else
      snprintf(name, sizeof name, "School No. %d", fc->number);
    tgis_gen__address_code(g, (int)(fc->cell % (uint32_t)nc), (int)(fc->cell / (uint32_t)nc),
                           addr);
    if (fc->bad_address)
      memcpy(addr, "1726999", 7);
    tgis_gen__set_str(f, GEN_F_F_EXT_ID, ext);
    tgis_gen__set_str(f, GEN_F_F_KIND, kind_names[fc->kind]);
    tgis_gen__set_str(f, GEN_F_F_NAME, name);
    OGR_F_SetFieldInteger(f, GEN_F_F_CAPACITY, fc->capacity);
    tgis_gen__set_str(f, GEN_F_F_ADDRESS, addr);
    cell_centre(g, fc->cell, &x, &y);
    if ((st = tgis_gen__set_point(&g->w, f, x, y)) != TGIS_OK ||
        (st = tgis_gen__write(&g->w, TGIS_LAYER_FACILITIES, 0, &fid)) != TGIS_OK)
      return st;
    if (fc->bad_address)
      tgis_gen__defect_record(g, GEN_D_FACILITY_BAD_ADDRESS_CODE, fid);
  }
  tgis_gen__progress(&g->prog, "facilities", 1.0);
  return TGIS_OK;
}

void tgis_gen__facilities_free(gen_state *g)
{
  tgis__free(g->ctx, g->fac.f);
  g->fac.f = NULL;
}
