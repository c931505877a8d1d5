/*
 * roads.c -- the road network: classes, names, one-way couplets, bridges,
 * and the road features themselves.
 *
 * Every lattice edge between two points in the city is a street. Streets
 * are written as "runs" of up to GEN_RUN_EDGES edges along one line, with
 * a vertex at every lattice point they pass, so that two streets that
 * cross always share the crossing's exact coordinate (the analytics node
 * the graph at shared vertices). Classes follow the line index: every 16th
 * line primary, every 4th secondary, the rest residential; ring sides are
 * trunk, as are the diagonals. In the centre, secondary streets are
 * one-way couplets (digitised in the direction of travel).
 *
 * Bridges are the exception on purpose: a bridge spans three edges of a
 * primary or secondary street over two perpendicular ground streets and
 * has vertices only at its ends, so it meets the network there and
 * nowhere else; it replaces the ground edges of its line.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen_int.h"

#define GEN_RUN_EDGES 8          /* longest run, in lattice edges */
#define GEN_ONEWAY_M 5000.0      /* half-size of the one-way centre */

static const char *const class_names[GEN_RC_COUNT] = {
  "trunk", "primary", "secondary", "tertiary", "residential", "service",
};
static const int class_speed[GEN_RC_COUNT] = { 80, 70, 60, 50, 40, 20 };

/* Street names of Tashkent-like flavour. */
static const char *const street_names[] = {
  "Navoiy", "Bobur", "Furqat", "Abdulla Qodiriy", "Cho'lpon", "Beruniy",
  "Qoratosh", "Bunyodkor", "Farg'ona yo'li", "Bog'ishamol", "Sebzor",
  "Kichik Beshyog'och", "Shota Rustaveli", "Muqimiy", "Usmon Nosir", "Nukus",
  "Afrosiyob", "Ahmad Donish", "Lutfiy", "Kamolon", "Samarqand Darvoza",
  "Zarqaynar", "Gulobod", "Bodomzor", "Qushbegi", "Oybek", "Chimboy",
  "Sag'bon", "Labzak", "Nurafshon", "Qatortol", "Farhod", "Mahtumquli",
  "Qorasaroy", "Istiqlol", "Choshtepa", "Qo'yliq", "Parkent", "Ziyolilar",
  "Temur Malik", "Ko'kcha", "Turkiston", "Said Baraka", "Bog'i Eram",
  "Olmazor", "Yunusobod", "Mirobod", "Yakkasaroy", "Sirg'ali", "Chilonzor",
  "Yangiobod", "Bektemir", "Uchtepa", "Shifokorlar", "Talabalar", "Mehnat",
  "Do'stlik", "Tinchlik", "Yoshlik", "Guliston", "Navro'z", "Bahor",
  "Chinor", "Lola",
};
#define N_STREET_NAMES (sizeof street_names / sizeof street_names[0])

static const char *const ring_names[2] = { "Kichik halqa yo'li", "Katta halqa yo'li" };
static const char *const radial_names[4] = {
  "Amir Temur shoh ko'chasi",      /* north-east */
  "Farobiy shoh ko'chasi",         /* north-west */
  "Bunyodkor shoh ko'chasi",       /* south-west */
  "Mustaqillik shoh ko'chasi",     /* south-east */
};

enum { DIR_H, DIR_V, DIR_D1, DIR_D2 };

/* Per direction: step, edge flag, bridged flag. */
static const struct {
  int di, dj;
  uint32_t edge, bridged;
} dirs[4] = {
  { 1, 0, GEN_P_H, GEN_P_HBR },
  { 0, 1, GEN_P_V, GEN_P_VBR },
  { 1, 1, GEN_P_D1, 0 },
  { 1, -1, GEN_P_D2, 0 },
};

typedef struct edge_attr {
  gen_road_class cls;
  int oneway;              /* -1, 0, +1: direction of travel along dir */
  int name_kind;           /* 0 line, 1 ring, 2 radial */
  int name_ref;            /* lattice line index, ring or radial number */
  int vertical;            /* for line names: the line runs north-south */
} edge_attr;

static gen_road_class line_class(int idx)
{
  int a = abs(idx);
  return a % 16 == 0 ? GEN_RC_PRIMARY : a % 4 == 0 ? GEN_RC_SECONDARY : GEN_RC_RESIDENTIAL;
}

/* One-way couplets: secondary streets inside the central square. */
static int edge_oneway(const gen_layout *lay, int dir, int i, int j)
{
  int line = dir == DIR_H ? j : i, along = dir == DIR_H ? i : j;
  double D = GEN_ONEWAY_M;
  if (line_class(line) != GEN_RC_SECONDARY)
    return 0;
  if (fabs(line * lay->L) > D || fabs(along * lay->L) > D ||
      fabs((along + 1) * lay->L) > D)
    return 0;
  return (tgis_gen__fdiv(line, 4) % 2 != 0) ? 1 : -1;
}

/* Attributes of the edge leaving lattice point (i, j) in `dir`; 0 if there
 * is no ground road there. */
static int edge_at(const gen_layout *lay, int dir, int i, int j, edge_attr *a)
{
  int gi = i - lay->imin, gj = j - lay->jmin;
  uint32_t f;
  if (gi < 0 || gj < 0 || gi >= lay->nx || gj >= lay->ny)
    return 0;
  f = lay->flags[GEN_PT(lay, gi, gj)];
  if (!(f & dirs[dir].edge) || (f & dirs[dir].bridged))
    return 0;
  memset(a, 0, sizeof *a);
  switch (dir) {
  case DIR_H:
  case DIR_V:
    if (f & (dir == DIR_H ? GEN_P_HRING : GEN_P_VRING)) {
      a->cls = GEN_RC_TRUNK;
      a->name_kind = 1;
      a->name_ref = (f & (dir == DIR_H ? GEN_P_HRING2 : GEN_P_VRING2)) ? 1 : 0;
    } else {
      a->vertical = dir == DIR_V;
      a->name_ref = dir == DIR_H ? j : i;
      a->cls = line_class(a->name_ref);
      a->oneway = edge_oneway(lay, dir, i, j);
    }
    break;
  case DIR_D1:
    a->cls = GEN_RC_TRUNK;
    if (f & GEN_P_D1RING) {
      a->name_kind = 1;
      a->name_ref = (f & GEN_P_D1RING2) ? 1 : 0;
    } else {
      a->name_kind = 2;
      a->name_ref = i >= 0 ? 0 : 2;
    }
    break;
  default:
    a->cls = GEN_RC_TRUNK;
    if (f & GEN_P_D2RING) {
      a->name_kind = 1;
      a->name_ref = (f & GEN_P_D2RING2) ? 1 : 0;
    } else {
      a->name_kind = 2;
      a->name_ref = i < 0 ? 1 : 3;
    }
    break;
  }
  return 1;
}

static int same_attr(const edge_attr *a, const edge_attr *b)
{
  return a->cls == b->cls && a->oneway == b->oneway && a->name_kind == b->name_kind &&
         a->name_ref == b->name_ref && a->vertical == b->vertical;
}

static void road_name(const gen_state *g, const edge_attr *a, char *buf, size_t n)
{
  uint64_t h;
  int base, lane;
  switch (a->name_kind) {
  case 1:
    snprintf(buf, n, "%s", ring_names[a->name_ref]);
    return;
  case 2:
    snprintf(buf, n, "%s", radial_names[a->name_ref]);
    return;
  default:
    /* Lanes take the name of the secondary street below them. */
    base = 4 * tgis_gen__fdiv(a->name_ref, 4);
    lane = a->name_ref - base;
    h = tgis_gen__hash(g->seed, GEN_S_NAMES, a->vertical, base);
    if (lane == 0)
      snprintf(buf, n, "%s ko'chasi", street_names[h % N_STREET_NAMES]);
    else
      snprintf(buf, n, "%s %d-tor ko'chasi", street_names[h % N_STREET_NAMES], lane);
  }
}

/* ---- bridges ------------------------------------------------------------ */

static uint32_t flags_at(const gen_layout *lay, int gi, int gj)
{
  if (gi < 0 || gj < 0 || gi >= lay->nx || gj >= lay->ny)
    return 0;
  return lay->flags[GEN_PT(lay, gi, gj)];
}

/* Can a bridge start at grid point (gi, gj) along dir (DIR_H or DIR_V)? */
static int bridge_fits(const gen_layout *lay, int dir, int gi, int gj)
{
  int di = dirs[dir].di, dj = dirs[dir].dj, pdir = dir == DIR_H ? DIR_V : DIR_H;
  int pi = dirs[pdir].di, pj = dirs[pdir].dj;
  uint32_t ring = dir == DIR_H ? GEN_P_HRING : GEN_P_VRING;
  int line = dir == DIR_H ? gj + lay->jmin : gi + lay->imin;
  gen_road_class cls = line_class(line);

  if (cls != GEN_RC_PRIMARY && cls != GEN_RC_SECONDARY)
    return 0;
  /* A gap of one edge to any other bridge on the line. */
  if (flags_at(lay, gi - di, gj - dj) & dirs[dir].bridged ||
      flags_at(lay, gi + 3 * di, gj + 3 * dj) & dirs[dir].bridged)
    return 0;
  for (int k = 0; k <= 3; k++) {
    int x = gi + k * di, y = gj + k * dj;
    uint32_t f = flags_at(lay, x, y);
    uint32_t fb = flags_at(lay, x - pi, y - pj);
    if (!(f & GEN_P_IN))
      return 0;
    /* No perpendicular bridge touches any of the four points. */
    if ((f & dirs[pdir].bridged) || (fb & dirs[pdir].bridged))
      return 0;
    if (k < 3) {
      if (!(f & dirs[dir].edge) || (f & dirs[dir].bridged) || (f & ring) ||
          edge_oneway(lay, dir, x + lay->imin, y + lay->jmin))
        return 0;
    }
    if (k == 1 || k == 2) {
      /* It must pass over a street crossing from both sides, and over
       * nothing else (a diagonal would cross it without a vertex). */
      if ((f & GEN_P_ONDIAG) || !(f & dirs[pdir].edge) || !(fb & dirs[pdir].edge))
        return 0;
    }
  }
  return 1;
}

tgis_status tgis_gen__roads_plan(gen_state *g)
{
  gen_layout *lay = &g->lay;
  gen_roads *r = &g->roads;
  size_t want = (size_t)fmax(3.0, round(24.0 * sqrt(g->scale)));
  size_t tries = 5000 * want;
  gen_rng rng;

  memset(r, 0, sizeof *r);
  r->bridges = tgis__calloc(g->ctx, want, sizeof *r->bridges);
  r->bridge_fids = tgis__calloc(g->ctx, want, sizeof *r->bridge_fids);
  if (!r->bridges || !r->bridge_fids)
    return tgis__fail(g->ctx, TGIS_ENOMEM, "roads: out of memory");
  tgis_gen__rng_seed(&rng, g->seed, GEN_S_BRIDGES);
  for (size_t t = 0; t < tries && r->nbridges < want; t++) {
    int dir = (int)tgis_gen__rng_below(&rng, 2) ? DIR_V : DIR_H;
    int gi = (int)tgis_gen__rng_below(&rng, (uint64_t)lay->nx);
    int gj = (int)tgis_gen__rng_below(&rng, (uint64_t)lay->ny);
    if (!bridge_fits(lay, dir, gi, gj))
      continue;
    for (int k = 0; k < 3; k++)
      lay->flags[GEN_PT(lay, gi + k * dirs[dir].di, gj + k * dirs[dir].dj)] |=
          dirs[dir].bridged;
    lay->flags[GEN_PT(lay, gi, gj)] |= dir == DIR_H ? GEN_P_HBRSTART : GEN_P_VBRSTART;
    r->bridges[r->nbridges].gi = gi;
    r->bridges[r->nbridges].gj = gj;
    r->bridges[r->nbridges].vertical = dir == DIR_V;
    r->nbridges++;
  }
  return TGIS_OK;
}

void tgis_gen__roads_free(gen_state *g)
{
  tgis__free(g->ctx, g->roads.bridges);
  tgis__free(g->ctx, g->roads.bridge_fids);
  g->roads.bridges = NULL;
  g->roads.bridge_fids = NULL;
}

/* ---- writing ------------------------------------------------------------ */

/* One road feature. xy NULL: null geometry, or an empty one if n == 1. */
static tgis_status write_road(gen_state *g, const double *xy, size_t n,
                              const edge_attr *a, const char *name, int oneway,
                              int level, int64_t *fid_out)
{
  gen_writer *w = &g->w;
  OGRFeatureH f = tgis_gen__feature(w, TGIS_LAYER_ROADS);
  char ext[32];
  tgis_status st;

  ext[0] = 'r';
  tgis_gen__put_uint(ext + 1, (uint64_t)OGR_F_GetFID(f), 1);
  tgis_gen__set_str(f, GEN_F_R_EXT_ID, ext);
  tgis_gen__set_str(f, GEN_F_R_CLASS, class_names[a->cls]);
  tgis_gen__set_str(f, GEN_F_R_NAME, name);
  OGR_F_SetFieldInteger(f, GEN_F_R_ONEWAY, oneway);
  OGR_F_SetFieldInteger(f, GEN_F_R_MAXSPEED, class_speed[a->cls]);
  OGR_F_SetFieldInteger(f, GEN_F_R_LEVEL, level);
  if (xy && (st = tgis_gen__set_line(w, f, xy, n)) != TGIS_OK)
    return st;
  if (!xy && n == 1) {  /* asked for an empty geometry */
    OGRGeometryH empty = OGR_G_CreateGeometry(wkbLineString);
    if (!empty)
      return tgis__fail(g->ctx, TGIS_ENOMEM, "%s: out of memory", g->path);
    OGR_F_SetGeometryDirectly(f, empty);
  }
  return tgis_gen__write(w, TGIS_LAYER_ROADS, 0, fid_out);
}

/* Emit all runs in direction `dir`. */
static tgis_status write_runs(gen_state *g, int dir, double *xy)
{
  const gen_layout *lay = &g->lay;
  gen_roads *r = &g->roads;
  int di = dirs[dir].di, dj = dirs[dir].dj;
  char name[128];
  tgis_status st;

  for (int gj = 0; gj < lay->ny; gj++) {
    if ((gj & 63) == 0)
      tgis_gen__progress(&g->prog, "roads",
                         (dir + (double)gj / lay->ny) / 5.0);
    for (int gi = 0; gi < lay->nx; gi++) {
      int i = gi + lay->imin, j = gj + lay->jmin;
      edge_attr a, prev, next;
      size_t len = 0;
      /* Start only where the previous edge is absent or different. */
      if (!edge_at(lay, dir, i, j, &a))
        continue;
      if (edge_at(lay, dir, i - di, j - dj, &prev) && same_attr(&prev, &a))
        continue;
      /* Walk the whole stretch, emitting a run every GEN_RUN_EDGES. */
      for (;;) {
        int ok = edge_at(lay, dir, i + (int)len * di, j + (int)len * dj, &next) &&
                 same_attr(&next, &a);
        if (ok)
          len++;
        if (len > 0 && (!ok || len == GEN_RUN_EDGES)) {
          int i0 = i, j0 = j;
          for (size_t k = 0; k <= len; k++) {
            size_t at = a.oneway < 0 ? len - k : k;  /* digitise as driven */
            xy[2 * at] = lay->x0 + (double)(i0 + (int)k * di) * lay->L;
            xy[2 * at + 1] = lay->y0 + (double)(j0 + (int)k * dj) * lay->L;
          }
          road_name(g, &a, name, sizeof name);
          if ((st = write_road(g, xy, len + 1, &a, name, a.oneway != 0, 0, NULL)) != TGIS_OK)
            return st;
          r->features++;
          r->edges += len;
          if (a.oneway) {
            r->oneway_features++;
            r->oneway_edges += len;
          }
          if (a.cls == GEN_RC_TRUNK)
            r->trunk_features++;
          i += (int)len * di;
          j += (int)len * dj;
          len = 0;
        }
        if (!ok)
          break;
      }
    }
  }
  return TGIS_OK;
}

static tgis_status write_bridges(gen_state *g)
{
  const gen_layout *lay = &g->lay;
  gen_roads *r = &g->roads;
  char name[128];
  tgis_status st;

  for (size_t b = 0; b < r->nbridges; b++) {
    const gen_bridge *br = &r->bridges[b];
    int dir = br->vertical ? DIR_V : DIR_H;
    edge_attr a;
    double xy[4];
    memset(&a, 0, sizeof a);
    a.vertical = br->vertical;
    a.name_ref = br->vertical ? br->gi + lay->imin : br->gj + lay->jmin;
    a.cls = line_class(a.name_ref);
    xy[0] = tgis_gen__x(lay, br->gi);
    xy[1] = tgis_gen__y(lay, br->gj);
    xy[2] = tgis_gen__x(lay, br->gi + 3 * dirs[dir].di);
    xy[3] = tgis_gen__y(lay, br->gj + 3 * dirs[dir].dj);
    road_name(g, &a, name, sizeof name);
    if ((st = write_road(g, xy, 2, &a, name, 0, 1, &r->bridge_fids[b])) != TGIS_OK)
      return st;
    r->features++;
    r->edges += 3;
  }
  return TGIS_OK;
}

/* Extra, broken roads after the real ones: empty, null, far away. */
static tgis_status write_defects(gen_state *g)
{
  static const gen_defect kinds[3] = {
    GEN_D_ROAD_EMPTY_GEOMETRY, GEN_D_ROAD_NULL_GEOMETRY, GEN_D_ROAD_OUTSIDE_CITY,
  };
  gen_defects *d = &g->defects;
  edge_attr a;
  tgis_status st;
  size_t n = (size_t)fmax(2.0, round(0.0005 * (double)g->roads.features));
  char name[128];

  memset(&a, 0, sizeof a);
  a.cls = GEN_RC_RESIDENTIAL;
  for (int k = 0; k < 3; k++) {
    d->planned[kinds[k]] = n;
    d->fids[kinds[k]] = tgis__calloc(g->ctx, n, sizeof(int64_t));
    if (!d->fids[kinds[k]])
      return tgis__fail(g->ctx, TGIS_ENOMEM, "roads: out of memory");
    for (size_t m = 0; m < n; m++) {
      int64_t fid;
      a.name_ref = (int)m + 1;
      road_name(g, &a, name, sizeof name);
      if (kinds[k] == GEN_D_ROAD_OUTSIDE_CITY) {
        /* 50 km east of the centre: in the Tashkent region, not the city. */
        double xy[4];
        xy[0] = g->city.cx + 50000.0 + 400.0 * (double)m;
        xy[1] = g->city.cy + 2000.0;
        xy[2] = xy[0] + 300.0;
        xy[3] = xy[1];
        st = write_road(g, xy, 2, &a, name, 0, 0, &fid);
      } else if (kinds[k] == GEN_D_ROAD_EMPTY_GEOMETRY) {
        st = write_road(g, NULL, 1, &a, name, 0, 0, &fid);
      } else {
        st = write_road(g, NULL, 0, &a, name, 0, 0, &fid);
      }
      if (st != TGIS_OK)
        return st;
      tgis_gen__defect_record(g, kinds[k], fid);
    }
  }
  return TGIS_OK;
}

tgis_status tgis_gen__roads_write(gen_state *g)
{
  gen_roads *r = &g->roads;
  double *xy = NULL;
  double c[2];
  tgis_status st;

  xy = tgis__malloc(g->ctx, sizeof(double) * 2 * (GEN_RUN_EDGES + 1));
  if (!xy)
    return tgis__fail(g->ctx, TGIS_ENOMEM, "roads: out of memory");
  tgis_gen__progress(&g->prog, "roads", 0.0);
  for (int dir = 0; dir < 4; dir++)
    if ((st = write_runs(g, dir, xy)) != TGIS_OK)
      goto done;
  if ((st = write_bridges(g)) != TGIS_OK || (st = write_defects(g)) != TGIS_OK)
    goto done;
  /* The centre crossing, exactly as every road through it has it. */
  c[0] = g->lay.x0;
  c[1] = g->lay.y0;
  if ((st = tgis_gen__to_lonlat(&g->w, c, 1)) != TGIS_OK)
    goto done;
  r->cross_lon = c[0];
  r->cross_lat = c[1];
  tgis_gen__progress(&g->prog, "roads", 1.0);
done:
  tgis__free(g->ctx, xy);
  return st;
}
