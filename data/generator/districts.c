/*
 * districts.c -- the real district boundaries the synthetic city is laid
 * out in.
 *
 * data/tashkent/tashkent_districts.geojson is compiled into the library
 * (embed.c turns it into districts_geojson.c), so the generator needs no
 * source tree at run time. It is read through a private /vsimem/ file with
 * OGR. Each feature's geometry is a GeometryCollection holding one
 * MultiPolygon of one polygon without holes: it is unwrapped, kept in
 * lon/lat for the districts layer, and its outer ring is projected to UTM
 * for the lattice. Features are matched to tgis_districts() (and so to
 * their SOATO codes) by a normalised name. The lattice asks which parts of
 * a horizontal line are inside a district with tgis_gen__crossings().
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cpl_conv.h>
#include <cpl_error.h>
#include <cpl_vsi.h>

#include "gen_int.h"

/* districts_geojson.c, generated at build time. */
extern const unsigned char tgis_gen__districts_geojson[];
extern const size_t tgis_gen__districts_geojson_len;

/* Amir Timur square. */
#define GEN_CENTRE_LON 69.2797
#define GEN_CENTRE_LAT 41.3111

/*
 * Lower-case letters only, apostrophes (ASCII or UTF-8) dropped, the words
 * "district" and "tumani" dropped: "Mirzo Ulug'bek tumani" and
 * "Mirzo Ulugbek district" both become "mirzoulugbek".
 */
static void normalise_name(const char *in, char *out, size_t n)
{
  char word[64];
  size_t wl = 0, ol = 0;
  const char *p = in;

  out[0] = '\0';
  for (;;) {
    unsigned char c = (unsigned char)*p;
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
      if (wl + 1 < sizeof word)
        word[wl++] = (char)(c | 0x20);
    } else if (c == '\'' || c == '`' || c >= 0x80) {
      /* an apostrophe (or a multi-byte one): part of the word, dropped */
    } else {
      word[wl] = '\0';
      if (wl && strcmp(word, "district") != 0 && strcmp(word, "tumani") != 0 &&
          ol + wl < n) {
        memcpy(out + ol, word, wl);
        ol += wl;
        out[ol] = '\0';
      }
      wl = 0;
      if (c == '\0')
        break;
    }
    p++;
  }
}

static int match_district(const char *name)
{
  char want[96], have[96];
  size_t n;
  const tgis_district_ref *refs = tgis_districts(&n);

  if (!name)
    return -1;
  normalise_name(name, want, sizeof want);
  for (size_t i = 0; i < n && i < GEN_NDIST; i++) {
    normalise_name(refs[i].name, have, sizeof have);
    if (want[0] && strcmp(want, have) == 0)
      return (int)i;
  }
  return -1;
}

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

size_t tgis_gen__crossings(const gen_district *d, double y, double *xs,
                           size_t cap)
{
  size_t k = 0;
  if (y < d->miny || y > d->maxy)
    return 0;
  for (size_t i = 0; i + 1 < d->n; i++) {
    double x1 = d->xy[2 * i], y1 = d->xy[2 * i + 1];
    double x2 = d->xy[2 * i + 2], y2 = d->xy[2 * i + 3];
    /* Half-open on y so a vertex exactly on the line counts once. */
    if ((y1 <= y) != (y2 <= y)) {
      if (k < cap)
        xs[k] = x1 + (y - y1) * (x2 - x1) / (y2 - y1);
      k++;
    }
  }
  if (k > cap)
    k = cap & ~(size_t)1;
  qsort(xs, k, sizeof *xs, cmp_double);
  return k;
}

/* Take the outer ring of the first polygon of `mp` into d (UTM). */
static tgis_status take_ring(gen_state *g, gen_district *d, OGRGeometryH mp,
                             const char *what)
{
  OGRGeometryH poly = OGR_G_GetGeometryCount(mp) > 0 ?
                      OGR_G_GetGeometryRef(mp, 0) : NULL;
  OGRGeometryH ring = poly && OGR_G_GetGeometryCount(poly) > 0 ?
                      OGR_G_GetGeometryRef(poly, 0) : NULL;
  int n = ring ? OGR_G_GetPointCount(ring) : 0;
  double area = 0.0;

  if (n < 4)
    return tgis__fail(g->ctx, TGIS_EPARSE,
                      "embedded district boundaries: %s has no polygon", what);
  d->xy = tgis__malloc(g->ctx, sizeof(double) * 2 * (size_t)n);
  if (!d->xy)
    return tgis__fail(g->ctx, TGIS_ENOMEM, "district boundaries: out of memory");
  d->n = (size_t)n;
  OGR_G_GetPoints(ring, d->xy, 2 * sizeof(double), d->xy + 1,
                  2 * sizeof(double), NULL, 0);
  if (proj_trans_generic(g->pj, PJ_INV, d->xy, 2 * sizeof(double), d->n,
                         d->xy + 1, 2 * sizeof(double), d->n, NULL, 0, 0,
                         NULL, 0, 0) != d->n)
    return tgis__fail_ctx(g->ctx, TGIS_EPROJ, "district %s: cannot project to UTM", what);
  d->minx = d->miny = HUGE_VAL;
  d->maxx = d->maxy = -HUGE_VAL;
  for (size_t i = 0; i < d->n; i++) {
    double x = d->xy[2 * i], y = d->xy[2 * i + 1];
    if (!isfinite(x) || !isfinite(y))
      return tgis__fail(g->ctx, TGIS_EPROJ, "district %s: cannot project to UTM", what);
    if (x < d->minx) d->minx = x;
    if (x > d->maxx) d->maxx = x;
    if (y < d->miny) d->miny = y;
    if (y > d->maxy) d->maxy = y;
    if (i + 1 < d->n)
      area += x * d->xy[2 * i + 3] - d->xy[2 * i + 2] * y;
  }
  /* Close the ring if the file did not. */
  if (d->xy[0] != d->xy[2 * (d->n - 1)] || d->xy[1] != d->xy[2 * d->n - 1])
    return tgis__fail(g->ctx, TGIS_EPARSE,
                      "embedded district boundaries: ring of %s is not closed", what);
  g->city.area_m2 += fabs(area) / 2.0;
  return TGIS_OK;
}

static tgis_status take_feature(gen_state *g, OGRFeatureH f)
{
  const char *en = OGR_F_GetFieldAsString(f, OGR_F_GetFieldIndex(f, "ADM2_EN"));
  const char *uz = OGR_F_GetFieldAsString(f, OGR_F_GetFieldIndex(f, "ADM2_UZ"));
  const char *ru = OGR_F_GetFieldAsString(f, OGR_F_GetFieldIndex(f, "ADM2_RU"));
  OGRGeometryH geom = OGR_F_GetGeometryRef(f), mp;
  gen_district *d;
  size_t nref;
  const tgis_district_ref *refs = tgis_districts(&nref);
  int k = match_district(en);

  if (k < 0)
    k = match_district(uz);
  if (k < 0)
    return tgis__fail(g->ctx, TGIS_EPARSE,
                      "embedded district boundaries: \"%s\" is not a district of tgis_districts()",
                      en ? en : "(no name)");
  d = &g->city.d[k];
  if (d->geom_ll)
    return tgis__fail(g->ctx, TGIS_EPARSE,
                      "embedded district boundaries: %s appears twice", refs[k].name);
  d->soato = refs[k].soato;
  d->name = refs[k].name;

  /* Unwrap GeometryCollection(MultiPolygon) to the MultiPolygon. */
  while (geom && wkbFlatten(OGR_G_GetGeometryType(geom)) == wkbGeometryCollection &&
         OGR_G_GetGeometryCount(geom) == 1)
    geom = OGR_G_GetGeometryRef(geom, 0);
  if (!geom || (wkbFlatten(OGR_G_GetGeometryType(geom)) != wkbMultiPolygon &&
                wkbFlatten(OGR_G_GetGeometryType(geom)) != wkbPolygon))
    return tgis__fail(g->ctx, TGIS_EPARSE,
                      "embedded district boundaries: %s is not a (multi)polygon", d->name);
  mp = OGR_G_ForceToMultiPolygon(OGR_G_Clone(geom));
  if (!mp)
    return tgis__fail(g->ctx, TGIS_ENOMEM, "district boundaries: out of memory");
  OGR_G_FlattenTo2D(mp);
  d->geom_ll = mp;
  d->name_ru = tgis__strdup(g->ctx, ru ? ru : "");
  if (!d->name_ru)
    return tgis__fail(g->ctx, TGIS_ENOMEM, "district boundaries: out of memory");
  return take_ring(g, d, mp, d->name);
}

tgis_status tgis_gen__city_load(gen_state *g)
{
  static const char *const drivers[] = { "GeoJSON", NULL };
  char name[96];
  GByte *copy;
  VSILFILE *fp;
  GDALDatasetH ds = NULL;
  OGRLayerH lyr;
  OGRFeatureH f;
  tgis_status st = TGIS_OK;
  gen_city *c = &g->city;
  double clon = GEN_CENTRE_LON, clat = GEN_CENTRE_LAT;

  /* A name of our own: /vsimem/ is process-wide, and two generators may
   * run in two threads. The state's address is unique while we run. */
  snprintf(name, sizeof name, "/vsimem/tgis-generator-%p/districts.geojson", (void *)g);
  copy = VSIMalloc(tgis_gen__districts_geojson_len);
  if (!copy)
    return tgis__fail(g->ctx, TGIS_ENOMEM, "district boundaries: out of memory");
  memcpy(copy, tgis_gen__districts_geojson, tgis_gen__districts_geojson_len);
  fp = VSIFileFromMemBuffer(name, copy, (vsi_l_offset)tgis_gen__districts_geojson_len,
                            TRUE);
  if (!fp) {
    VSIFree(copy);
    return tgis__fail(g->ctx, TGIS_ENOMEM, "district boundaries: cannot map into /vsimem/");
  }
  VSIFCloseL(fp);

  ds = GDALOpenEx(name, GDAL_OF_VECTOR | GDAL_OF_READONLY | GDAL_OF_INTERNAL,
                  (const char *const *)drivers, NULL, NULL);
  if (!ds || !(lyr = GDALDatasetGetLayer(ds, 0))) {
    st = tgis__fail(g->ctx, TGIS_EPARSE, "embedded district boundaries: cannot read: %s",
                    CPLGetLastErrorMsg());
    goto done;
  }
  OGR_L_ResetReading(lyr);
  while (st == TGIS_OK && (f = OGR_L_GetNextFeature(lyr)) != NULL) {
    st = take_feature(g, f);
    OGR_F_Destroy(f);
  }
  if (st != TGIS_OK)
    goto done;
  for (int k = 0; k < GEN_NDIST; k++) {
    if (!c->d[k].geom_ll) {
      size_t n;
      st = tgis__fail(g->ctx, TGIS_EPARSE,
                      "embedded district boundaries: no boundary for %s",
                      tgis_districts(&n)[k].name);
      goto done;
    }
  }

  c->minx = c->miny = HUGE_VAL;
  c->maxx = c->maxy = -HUGE_VAL;
  for (int k = 0; k < GEN_NDIST; k++) {
    const gen_district *d = &c->d[k];
    c->minx = fmin(c->minx, d->minx);
    c->miny = fmin(c->miny, d->miny);
    c->maxx = fmax(c->maxx, d->maxx);
    c->maxy = fmax(c->maxy, d->maxy);
  }
  if (proj_trans_generic(g->pj, PJ_INV, &clon, sizeof clon, 1, &clat, sizeof clat, 1,
                         NULL, 0, 0, NULL, 0, 0) != 1 || !isfinite(clon)) {
    st = tgis__fail_ctx(g->ctx, TGIS_EPROJ, "cannot project the city centre");
    goto done;
  }
  c->cx = clon;
  c->cy = clat;
  c->clon = GEN_CENTRE_LON;
  c->clat = GEN_CENTRE_LAT;

done:
  if (ds)
    GDALClose(ds);
  VSIUnlink(name);
  return st;
}

void tgis_gen__city_free(gen_state *g)
{
  for (int k = 0; k < GEN_NDIST; k++) {
    gen_district *d = &g->city.d[k];
    if (d->geom_ll)
      OGR_G_DestroyGeometry(d->geom_ll);
    tgis__free(g->ctx, d->name_ru);
    tgis__free(g->ctx, d->xy);
    d->geom_ll = NULL;
    d->name_ru = NULL;
    d->xy = NULL;
  }
}
