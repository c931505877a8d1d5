/*
 * parcels.c -- land parcels: their shapes, identifiers, owners and
 * residents, written block by block.
 *
 * A private residential block is split into two rows of 4-6 houses with
 * small gaps; any other block is one parcel. Parcels are never held in
 * memory: the writer re-derives each block's parcels from the lattice and
 * the per-block hashes while streaming. Residents are calibrated before
 * writing so the total meets 3,000,000 x scale: every populated parcel
 * draws a "low" and a "high" count plus a 16-bit selector, and takes the
 * high count when the selector is below its threshold. A histogram of the
 * selectors gives the total for every threshold at once, so the best one
 * is found exactly in one pass: one threshold for houses and flats
 * together first; then, since the few multifamily blocks of a small city
 * move the total in steps of hundreds, the houses' threshold alone.
 *
 * Cadastre numbers are 10:BB:CC:DD:EE:FFFF: BB the district's position in
 * tgis_districts(), CC/DD/EE a per-district block counter, FFFF the parcel
 * within the block.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen_int.h"

#define GEN_SEL_BINS 65536u
#define GEN_MAHALLA_M 600.0       /* neighbourhood (address) cell */
#define GEN_MAX_LOTS 12

static int64_t cell_key(int i, int j)
{
  return (int64_t)(((uint64_t)(uint32_t)i << 32) | (uint32_t)j);
}

/* Residents of parcel k of cell (i, j) for the calibration thresholds. */
static int parcel_residents(const gen_state *g, gen_use use, int i, int j, int k,
                            const uint32_t threshold[2], uint32_t *sel_out)
{
  uint64_t h = tgis_gen__hash(g->seed, GEN_S_RESIDENTS, cell_key(i, j), k);
  uint32_t sel = (uint32_t)(h >> 48);
  int high = sel < threshold[use == GEN_USE_MULTIFAMILY];
  if (sel_out)
    *sel_out = sel;
  switch (use) {
  case GEN_USE_RESIDENTIAL:
    return high ? 2 + (int)((h >> 8) % 7) : 2 + (((h >> 8) & 7) == 0);
  case GEN_USE_MULTIFAMILY:
    return high ? 100 + (int)((h >> 8) % 501) : 100 + (int)((h >> 8) % 101);
  default:
    return 0;
  }
}

int64_t tgis_gen__cell_residents(const gen_state *g, int gi, int gj)
{
  const gen_layout *lay = &g->lay;
  gen_use use = (gen_use)lay->buse[GEN_CELL(lay, gi, gj)];
  int n = tgis_gen__cell_parcels(g, gi, gj);
  int64_t sum = 0;
  if (use != GEN_USE_RESIDENTIAL && use != GEN_USE_MULTIFAMILY)
    return 0;
  for (int k = 0; k < n; k++)
    sum += parcel_residents(g, use, gi + lay->imin, gj + lay->jmin, k,
                            g->parcels.threshold, NULL);
  return sum;
}

void tgis_gen__address_code(const gen_state *g, int gi, int gj, char *buf)
{
  const gen_layout *lay = &g->lay;
  int d = lay->bdist[GEN_CELL(lay, gi, gj)];
  double x = tgis_gen__x(lay, gi) + lay->L / 2.0 - g->city.cx;
  double y = tgis_gen__y(lay, gj) + lay->L / 2.0 - g->city.cy;
  uint64_t h = tgis_gen__hash(g->seed, GEN_S_MAHALLA, (int64_t)floor(x / GEN_MAHALLA_M),
                              (int64_t)floor(y / GEN_MAHALLA_M));
  char *p = tgis_gen__put_str(buf, g->city.d[d < 0 ? 0 : d].soato);
  tgis_gen__put_uint(p, 1 + h % 999, 3);
}

static double setback(double L)
{
  return fmin(fmax(0.08 * L, 2.0), 12.0);
}

void tgis_gen__cell_lot(const gen_state *g, int gi, int gj, double *x0,
                        double *y0, double *x1, double *y1)
{
  const gen_layout *lay = &g->lay;
  double s = setback(lay->L);
  *x0 = tgis_gen__x(lay, gi) + s;
  *y0 = tgis_gen__y(lay, gj) + s;
  *x1 = tgis_gen__x(lay, gi + 1) - s;
  *y1 = tgis_gen__y(lay, gj + 1) - s;
}

/* The parcels of a cell as rectangles x0,y0,x1,y1; returns how many. */
static int cell_lots(const gen_state *g, int gi, int gj, double lots[][4])
{
  const gen_layout *lay = &g->lay;
  int i = gi + lay->imin, j = gj + lay->jmin, rows[2], n = 0;
  double x0, y0, x1, y1, gap = fmin(fmax(0.02 * lay->L, 0.5), 4.0);

  tgis_gen__cell_lot(g, gi, gj, &x0, &y0, &x1, &y1);
  if (lay->buse[GEN_CELL(lay, gi, gj)] != GEN_USE_RESIDENTIAL) {
    lots[0][0] = x0;
    lots[0][1] = y0;
    lots[0][2] = x1;
    lots[0][3] = y1;
    return 1;
  }
  tgis_gen__block_rows(g, i, j, &rows[0], &rows[1]);
  for (int r = 0; r < 2; r++) {
    double ym = (y0 + y1) / 2.0;
    double ry0 = r ? ym + gap / 2.0 : y0, ry1 = r ? y1 : ym - gap / 2.0;
    double w[6], wsum = 0.0, avail = (x1 - x0) - gap * (rows[r] - 1), x = x0;
    for (int k = 0; k < rows[r]; k++) {
      w[k] = 0.8 + 0.4 * tgis_gen__unit(tgis_gen__hash(g->seed, GEN_S_SHAPE,
                                                      cell_key(i, j), r * 8 + k));
      wsum += w[k];
    }
    for (int k = 0; k < rows[r]; k++) {
      double xe = k + 1 == rows[r] ? x1 : x + avail * w[k] / wsum;
      lots[n][0] = x;
      lots[n][1] = ry0;
      lots[n][2] = xe;
      lots[n][3] = ry1;
      n++;
      x = xe + gap;
    }
  }
  return n;
}

tgis_status tgis_gen__parcels_plan(gen_state *g)
{
  static const uint32_t none[2] = { 0, 0 }, all[2] = { GEN_SEL_BINS, GEN_SEL_BINS };
  const gen_layout *lay = &g->lay;
  gen_parcels *p = &g->parcels;
  int64_t *diff[2] = { NULL, NULL }, base = 0, run, best, target, flats;
  size_t nb = 0;
  uint32_t first = 0;

  memset(p, 0, sizeof *p);
  p->blocks = tgis__malloc(g->ctx, (lay->nblocks ? lay->nblocks : 1) * sizeof *p->blocks);
  diff[0] = tgis__calloc(g->ctx, GEN_SEL_BINS, sizeof *diff[0]);
  diff[1] = tgis__calloc(g->ctx, GEN_SEL_BINS, sizeof *diff[1]);
  if (!p->blocks || !diff[0] || !diff[1]) {
    tgis__free(g->ctx, diff[0]);
    tgis__free(g->ctx, diff[1]);
    return tgis__fail(g->ctx, TGIS_ENOMEM, "parcels: out of memory");
  }
  for (int gj = 0; gj + 1 < lay->ny; gj++) {
    for (int gi = 0; gi + 1 < lay->nx; gi++) {
      size_t cell = GEN_CELL(lay, gi, gj);
      gen_use use = (gen_use)lay->buse[cell];
      int n = tgis_gen__cell_parcels(g, gi, gj);
      if (use == GEN_USE_NONE)
        continue;
      p->blocks[nb].cell = (uint32_t)cell;
      p->blocks[nb].first = first;
      nb++;
      first += (uint32_t)n;
      if (use == GEN_USE_RESIDENTIAL)
        p->private_parcels += (size_t)n;
      else if (use != GEN_USE_GREEN)
        p->legal_parcels += (size_t)n;
      if (use != GEN_USE_RESIDENTIAL && use != GEN_USE_MULTIFAMILY)
        continue;
      for (int k = 0; k < n; k++) {
        uint32_t sel;
        int lo = parcel_residents(g, use, gi + lay->imin, gj + lay->jmin, k, none, &sel);
        int hi = parcel_residents(g, use, gi + lay->imin, gj + lay->jmin, k, all, NULL);
        base += lo;
        diff[use == GEN_USE_MULTIFAMILY][sel] += hi - lo;
      }
    }
  }
  p->nblocks = nb;
  p->nparcels = first;

  /* One threshold for all: the total closest to the target. */
  target = p->residents_target = (int64_t)llround(3000000.0 * g->scale);
  run = best = base;
  for (uint32_t t = 1; t <= GEN_SEL_BINS; t++) {
    run += diff[0][t - 1] + diff[1][t - 1];
    if (llabs(run - target) < llabs(best - target)) {
      best = run;
      p->threshold[0] = p->threshold[1] = t;
    }
  }
  /* Then the houses' threshold alone, the flats' fixed. */
  flats = 0;
  for (uint32_t t = 0; t < p->threshold[1]; t++)
    flats += diff[1][t];
  run = base + flats;
  if (llabs(run - target) < llabs(best - target)) {
    best = run;
    p->threshold[0] = 0;
  }
  for (uint32_t t = 1; t <= GEN_SEL_BINS; t++) {
    run += diff[0][t - 1];
    if (llabs(run - target) < llabs(best - target)) {
      best = run;
      p->threshold[0] = t;
    }
  }
  p->residents_total = best;
  tgis__free(g->ctx, diff[0]);
  tgis__free(g->ctx, diff[1]);
  return TGIS_OK;
}

const gen_blockref *tgis_gen__parcel_block(const gen_state *g, size_t index)
{
  const gen_parcels *p = &g->parcels;
  size_t lo = 0, hi = p->nblocks;
  /* The last block whose first parcel is <= index. */
  while (hi - lo > 1) {
    size_t mid = lo + (hi - lo) / 2;
    if (p->blocks[mid].first <= index)
      lo = mid;
    else
      hi = mid;
  }
  return &p->blocks[lo];
}

void tgis_gen__parcels_free(gen_state *g)
{
  tgis__free(g->ctx, g->parcels.blocks);
  g->parcels.blocks = NULL;
}

/* ---- writing ------------------------------------------------------------ */

static void rect_ring(const double r[4], double *xy)
{
  const double x0 = r[0], y0 = r[1], x1 = r[2], y1 = r[3];
  const double pts[10] = { x0, y0, x1, y0, x1, y1, x0, y1, x0, y0 };
  memcpy(xy, pts, sizeof pts);
}

/* Geometry of a parcel, broken as `defect` asks. `ll` holds its corners
 * in lon/lat: south-west, south-east, north-east, north-west. */
static tgis_status parcel_geometry(gen_state *g, OGRFeatureH f, const double r[4],
                                   const double ll[8], gen_defect defect, int *quiet)
{
  static const int normal[5] = { 0, 1, 2, 3, 0 }, bowtie[5] = { 0, 2, 1, 3, 0 };
  double xy[10];
  *quiet = 0;
  switch (defect) {
  case GEN_D_SELF_INTERSECTION:
  case GEN_D_NONE:
  case GEN_D_BAD_CADASTRE:
  case GEN_D_DUPLICATE_CADASTRE:
  case GEN_D_BAD_PINFL:
  case GEN_D_BAD_TIN:
  case GEN_D_BAD_ADDRESS_CODE: {
    /* A bow-tie has two corners swapped. */
    const int *order = defect == GEN_D_SELF_INTERSECTION ? bowtie : normal;
    for (int k = 0; k < 5; k++) {
      xy[2 * k] = ll[2 * order[k]];
      xy[2 * k + 1] = ll[2 * order[k] + 1];
    }
    return tgis_gen__set_polygon_ll(&g->w, f, xy, 5);
  }
  case GEN_D_WRONG_GEOMETRY_TYPE:
    /* A point or a line in the MultiPolygon layer: GeoPackage stores it,
     * with a warning we do not want to hear. */
    *quiet = 1;
    if (g->defects.nfids[defect] % 2 == 0)
      return tgis_gen__set_point(&g->w, f, (r[0] + r[2]) / 2.0, (r[1] + r[3]) / 2.0);
    xy[0] = r[0];
    xy[1] = r[1];
    xy[2] = r[2];
    xy[3] = r[3];
    return tgis_gen__set_line(&g->w, f, xy, 2);
  case GEN_D_EMPTY_GEOMETRY: {
    OGRGeometryH empty = OGR_G_CreateGeometry(wkbMultiPolygon);
    if (!empty)
      return tgis__fail(g->ctx, TGIS_ENOMEM, "%s: out of memory", g->path);
    OGR_F_SetGeometryDirectly(f, empty);
    return TGIS_OK;
  }
  case GEN_D_NULL_GEOMETRY:
    return TGIS_OK;
  case GEN_D_OUTSIDE_CITY: {
    /* Moved 50 km east, out of the city into the Tashkent region. */
    double moved[4] = { r[0] + 50000.0, r[1], r[2] + 50000.0, r[3] };
    rect_ring(moved, xy);
    return tgis_gen__set_polygon(&g->w, f, xy, 5);
  }
  default:
    return TGIS_OK;  /* road and facility kinds never reach parcels */
  }
}

/* A malformed cadastre number, unique like its source. */
static void break_cadastre(char *cad, size_t n, int variant)
{
  switch (variant % 3) {
  case 0:                                   /* 10-03-07-01-03-0012 */
    for (char *c = cad; *c; c++)
      if (*c == ':')
        *c = '-';
    break;
  case 1: {                                 /* a 5-digit parcel group */
    size_t len = strlen(cad);
    if (len + 1 < n) {
      memmove(cad + len - 3, cad + len - 4, 5);
      cad[len - 4] = '0';
    }
    break;
  }
  default:                                  /* letter O for zero */
    for (char *c = cad + strlen(cad) - 4; *c == '0'; c++)
      *c = 'O';
  }
}

static void break_tin(char *tin, uint64_t h)
{
  static const char bad_first[4] = { '0', '1', '8', '9' };
  switch (h % 3) {
  case 0:
    tin[0] = bad_first[(h >> 8) % 4];
    break;
  case 1:
    tin[8] = '\0';                          /* 8 digits */
    break;
  default:
    tin[9] = (char)('0' + (h >> 8) % 10);  /* 10 digits */
    tin[10] = '\0';
  }
}

typedef struct parcel_writer {
  char last_clean[40];       /* latest well-formed, unique cadastre */
} parcel_writer;

static tgis_status write_parcel(gen_state *g, parcel_writer *pw, const gen_blockref *b,
                                int k, const double lot[4], const double ll[8],
                                uint32_t counter)
{
  const gen_layout *lay = &g->lay;
  gen_parcels *p = &g->parcels;
  int gi = (int)(b->cell % (uint32_t)(lay->nx - 1)), gj = (int)(b->cell / (uint32_t)(lay->nx - 1));
  int i = gi + lay->imin, j = gj + lay->jmin;
  gen_use use = (gen_use)lay->buse[b->cell];
  int d = lay->bdist[b->cell];
  size_t index = b->first + (size_t)k;
  gen_defect defect = tgis_gen__defect_for_parcel(g, index);
  OGRFeatureH f = tgis_gen__feature(&g->w, TGIS_LAYER_PARCELS);
  uint64_t oh = tgis_gen__hash(g->seed, GEN_S_OWNER, cell_key(i, j), k);
  char cad[40] = "", addr[16], tin[16], pinfl[16];
  int residents = parcel_residents(g, use, i, j, k, p->threshold, NULL), quiet;
  int64_t fid;
  tgis_status st;

  {
    char *c = tgis_gen__put_str(cad, "10:");
    c = tgis_gen__put_uint(c, (uint64_t)d + 1, 2);
    *c++ = ':';
    c = tgis_gen__put_uint(c, counter / 10000 % 100, 2);
    *c++ = ':';
    c = tgis_gen__put_uint(c, counter / 100 % 100, 2);
    *c++ = ':';
    c = tgis_gen__put_uint(c, counter % 100, 2);
    *c++ = ':';
    tgis_gen__put_uint(c, (uint64_t)k + 1, 4);
  }
  tgis_gen__address_code(g, gi, gj, addr);

  if (defect == GEN_D_BAD_CADASTRE)
    break_cadastre(cad, sizeof cad, (int)g->defects.nfids[defect]);
  else if (defect == GEN_D_DUPLICATE_CADASTRE)
    memcpy(cad, pw->last_clean, sizeof pw->last_clean);
  else
    memcpy(pw->last_clean, cad, sizeof pw->last_clean);
  if (defect == GEN_D_BAD_ADDRESS_CODE)
    memcpy(addr, "1726999", 7);             /* no such district */

  tgis_gen__set_str(f, GEN_F_P_CADASTRE, cad);
  tgis_gen__set_str(f, GEN_F_P_LAND_USE, tgis_gen__use_names[use]);
  OGR_F_SetFieldDouble(f, GEN_F_P_AREA,
                       round((lot[2] - lot[0]) * (lot[3] - lot[1]) * 100.0) / 100.0);
  OGR_F_SetFieldInteger(f, GEN_F_P_RESIDENTS, residents);
  tgis_gen__set_str(f, GEN_F_P_DISTRICT, g->city.d[d].soato);
  tgis_gen__set_str(f, GEN_F_P_ADDRESS, addr);
  if (use == GEN_USE_RESIDENTIAL) {
    if ((st = tgis_gen__pinfl(g->ctx, oh, pinfl)) != TGIS_OK)
      return st;
    if (defect == GEN_D_BAD_PINFL)          /* wrong check digit */
      pinfl[13] = (char)('0' + (pinfl[13] - '0' + 1 + (int)((oh >> 40) % 9)) % 10);
    tgis_gen__set_str(f, GEN_F_P_PINFL, pinfl);
  } else if (use != GEN_USE_GREEN) {
    tgis_gen__tin(oh, tin);
    if (defect == GEN_D_BAD_TIN)
      break_tin(tin, oh >> 20);
    tgis_gen__set_str(f, GEN_F_P_TIN, tin);
  }
  if ((st = parcel_geometry(g, f, lot, ll, defect, &quiet)) != TGIS_OK)
    return st;
  if ((st = tgis_gen__write(&g->w, TGIS_LAYER_PARCELS, quiet, &fid)) != TGIS_OK)
    return st;
  p->residents_total += residents;
  if (defect == GEN_D_NONE)
    p->residents_valid += residents;
  else
    tgis_gen__defect_record(g, defect, fid);
  return TGIS_OK;
}

tgis_status tgis_gen__parcels_write(gen_state *g)
{
  const gen_layout *lay = &g->lay;
  gen_parcels *p = &g->parcels;
  parcel_writer pw;
  double lots[GEN_MAX_LOTS][4], ll[GEN_MAX_LOTS * 8];
  uint32_t counters[GEN_NDIST] = { 0 };
  tgis_status st;

  memset(&pw, 0, sizeof pw);
  p->residents_total = p->residents_valid = 0;
  tgis_gen__progress(&g->prog, "parcels", 0.0);
  for (size_t b = 0; b < p->nblocks; b++) {
    const gen_blockref *br = &p->blocks[b];
    int gi = (int)(br->cell % (uint32_t)(lay->nx - 1));
    int gj = (int)(br->cell / (uint32_t)(lay->nx - 1));
    int n = cell_lots(g, gi, gj, lots);
    uint32_t counter = ++counters[lay->bdist[br->cell]];
    if ((b & 1023) == 0)
      tgis_gen__progress(&g->prog, "parcels", (double)b / (double)p->nblocks);
    /* All corners of the block in one transformation. */
    for (int k = 0; k < n; k++) {
      const double *r = lots[k];
      const double c[8] = { r[0], r[1], r[2], r[1], r[2], r[3], r[0], r[3] };
      memcpy(ll + 8 * k, c, sizeof c);
    }
    if ((st = tgis_gen__to_lonlat(&g->w, ll, 4 * (size_t)n)) != TGIS_OK)
      return st;
    for (int k = 0; k < n; k++)
      if ((st = write_parcel(g, &pw, br, k, lots[k], ll + 8 * k, counter)) != TGIS_OK)
        return st;
  }
  tgis_gen__progress(&g->prog, "parcels", 1.0);
  return TGIS_OK;
}
