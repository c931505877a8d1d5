/*
 * ogr_source.c -- reading features from any OGR source: field values (with
 * alternatives, OSM hstore tags and text recoding) and geometry, parsed from
 * ISO WKB straight into plain arrays.
 *
 * Geometry of the wanted dimension is collected from whatever the source
 * holds (a polygon, a multipolygon, the polygons of a collection); parts of
 * other dimensions are counted, so the validator can say "wrong geometry
 * type" or "dropped 2 parts".
 */
#include <string.h>

#include <cpl_string.h>

#include "import_int.h"

/* ---- fields ------------------------------------------------------------------ */

void tgis_src__resolve(tgis_src_field *out, OGRFeatureDefnH defn, const char *source,
                       char *scratch, size_t scratch_len)
{
  char *p, *save = NULL;
  memset(out, 0, sizeof *out);
  if (!source)
    return;
  snprintf(scratch, scratch_len, "%s", source);
  for (p = strtok_r(scratch, "|", &save); p && out->n_alt < 4; p = strtok_r(NULL, "|", &save)) {
    int k = out->n_alt++;
    char *colon = strchr(p, ':');
    out->index[k] = OGR_FD_GetFieldIndex(defn, p);
    out->hstore_key[k] = NULL;
    if (out->index[k] < 0 && colon) {
      /* "field:key": the key of an hstore-like field (OSM other_tags). */
      *colon = '\0';
      out->index[k] = OGR_FD_GetFieldIndex(defn, p);
      out->hstore_key[k] = colon + 1;
    }
  }
}

/* Parse one quoted hstore token at *p into buf; advances *p. */
static int hstore_token(const char **p, char *buf, size_t len)
{
  const char *s = *p;
  size_t n = 0;
  if (*s != '"')
    return -1;
  for (s++; *s && *s != '"'; s++) {
    if (*s == '\\' && s[1])
      s++;
    if (n + 1 < len)
      buf[n++] = *s;
  }
  if (*s != '"')
    return -1;
  buf[n] = '\0';
  *p = s + 1;
  return 0;
}

const char *tgis_src__hstore_get(const char *hstore, const char *key, char *buf, size_t len)
{
  const char *p = hstore;
  char k[256];
  while (p && *p) {
    while (*p == ' ' || *p == ',')
      p++;
    if (!*p || hstore_token(&p, k, sizeof k))
      return NULL;
    if (strncmp(p, "=>", 2) != 0)
      return NULL;
    p += 2;
    if (strncmp(p, "NULL", 4) == 0) {
      p += 4;
      if (strcmp(k, key) == 0)
        return NULL;
      continue;
    }
    if (strcmp(k, key) == 0)
      return hstore_token(&p, buf, len) == 0 ? buf : NULL;
    if (hstore_token(&p, buf, len))
      return NULL;
  }
  return NULL;
}

const char *tgis_src__value(OGRFeatureH f, const tgis_src_field *sf, const char *encoding,
                            char *buf, size_t len)
{
  for (int k = 0; k < sf->n_alt; k++) {
    const char *text;
    if (sf->index[k] < 0 || !OGR_F_IsFieldSetAndNotNull(f, sf->index[k]))
      continue;
    text = OGR_F_GetFieldAsString(f, sf->index[k]);
    if (sf->hstore_key[k]) {
      char tmp[1024];
      text = tgis_src__hstore_get(text, sf->hstore_key[k], tmp, sizeof tmp);
      if (!text)
        continue;
      tgis__strlcpy(buf, tmp, len);
    } else {
      tgis__strlcpy(buf, text, len);
    }
    if (encoding) {
      char *utf8 = CPLRecode(buf, encoding, CPL_ENC_UTF8);
      tgis__strlcpy(buf, utf8, len);
      CPLFree(utf8);
    }
    /* Trim surrounding blanks: agencies' files are full of them. */
    {
      char *s = buf, *e;
      while (*s == ' ' || *s == '\t')
        s++;
      e = s + strlen(s);
      while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
        *--e = '\0';
      if (s != buf)
        memmove(buf, s, strlen(s) + 1);
    }
    if (buf[0])
      return buf;
  }
  return NULL;
}

/* ---- geometry from ISO WKB ------------------------------------------------------ */

typedef struct wkb_reader {
  const unsigned char *p, *end;
  int want;                 /* dimension collected: 0, 1 or 2 */
  tgis_src_shape *info;
  tgis_geombuf *g;
} wkb_reader;

static int rd_u32(wkb_reader *r, int le, uint32_t *v)
{
  if (r->end - r->p < 4)
    return -1;
  if (le)
    *v = (uint32_t)r->p[0] | (uint32_t)r->p[1] << 8 | (uint32_t)r->p[2] << 16 |
         (uint32_t)r->p[3] << 24;
  else
    *v = (uint32_t)r->p[3] | (uint32_t)r->p[2] << 8 | (uint32_t)r->p[1] << 16 |
         (uint32_t)r->p[0] << 24;
  r->p += 4;
  return 0;
}

static int rd_f64(wkb_reader *r, int le, double *v)
{
  unsigned char b[8];
  if (r->end - r->p < 8)
    return -1;
  for (int i = 0; i < 8; i++)
    b[i] = le ? r->p[i] : r->p[7 - i];
  memcpy(v, b, 8);
  r->p += 8;
  return 0;
}

/* n points of `dims` ordinates; kept when `keep`. */
static tgis_status rd_points(wkb_reader *r, int le, uint32_t n, int dims, int keep)
{
  if ((size_t)(r->end - r->p) / ((size_t)dims * 8) < n)
    return TGIS_EPARSE;
  for (uint32_t i = 0; i < n; i++) {
    double x, y;
    if (rd_f64(r, le, &x) || rd_f64(r, le, &y))
      return TGIS_EPARSE;
    r->p += (size_t)(dims - 2) * 8;
    if (keep && tgis_geombuf_add_point(r->g, x, y) != TGIS_OK)
      return TGIS_ENOMEM;
  }
  return TGIS_OK;
}

static tgis_status rd_geometry(wkb_reader *r, int depth)
{
  uint32_t type, n;
  int le, dims, base, keep;
  tgis_status st;

  if (depth > 32 || r->p >= r->end)
    return TGIS_EPARSE;
  le = *r->p++ == 1;
  if (rd_u32(r, le, &type))
    return TGIS_EPARSE;
  base = (int)(type % 1000);
  dims = type / 1000 == 0 ? 2 : type / 1000 == 3 ? 4 : 3;
  if (type / 1000 > 3 || base < 1 || base > 7)
    return TGIS_ENOTSUP;
  if (depth == 0)
    r->info->top_type = base;
  switch (base) {
  case 1:                                   /* point */
    r->info->dims_seen |= 1;
    keep = r->want == 0;
    {
      /* An empty point is NaN NaN in WKB. */
      const unsigned char *at = r->p;
      double x, y;
      if (rd_f64(r, le, &x) || rd_f64(r, le, &y))
        return TGIS_EPARSE;
      r->p = at;
      if (x != x && y != y) {
        r->p += (size_t)dims * 8;
        return TGIS_OK;
      }
    }
    if (!keep)
      r->info->n_dropped += depth > 0;
    if ((st = rd_points(r, le, 1, dims, keep)) != TGIS_OK)
      return st;
    return keep ? tgis_geombuf_end_part(r->g) : TGIS_OK;
  case 2:                                   /* line */
  case 3:                                   /* polygon */
    r->info->dims_seen |= base == 2 ? 2u : 4u;
    keep = r->want == base - 1;
    if (rd_u32(r, le, &n))
      return TGIS_EPARSE;
    if (n == 0)
      return TGIS_OK;
    if (!keep)
      r->info->n_dropped += depth > 0;
    if (base == 2) {
      if ((st = rd_points(r, le, n, dims, keep)) != TGIS_OK)
        return st;
      return keep ? tgis_geombuf_end_part(r->g) : TGIS_OK;
    }
    for (uint32_t i = 0; i < n; i++) {
      uint32_t m;
      if (rd_u32(r, le, &m))
        return TGIS_EPARSE;
      if ((st = rd_points(r, le, m, dims, keep)) != TGIS_OK)
        return st;
      if (keep && (st = tgis_geombuf_end_part(r->g)) != TGIS_OK)
        return st;
    }
    return keep ? tgis_geombuf_end_poly(r->g) : TGIS_OK;
  default:                                  /* multi types and collections */
    if (rd_u32(r, le, &n))
      return TGIS_EPARSE;
    if (n > (uint32_t)(r->end - r->p))
      return TGIS_EPARSE;
    for (uint32_t i = 0; i < n; i++)
      if ((st = rd_geometry(r, depth + 1)) != TGIS_OK)
        return st;
    return TGIS_OK;
  }
}

tgis_status tgis_src__geometry(tgis_geombuf *g, tgis_ctx *ctx, OGRGeometryH geom, int want,
                               tgis_src_shape *info, unsigned char **wkb, size_t *wkb_cap)
{
  OGRGeometryH linear = NULL;
  wkb_reader r;
  size_t n;
  tgis_status st;

  memset(info, 0, sizeof *info);
  tgis_geombuf_reset(g, want == 2 ? TGIS_GEOM_MULTIPOLYGON
                      : want == 1 ? TGIS_GEOM_MULTILINESTRING : TGIS_GEOM_MULTIPOINT);
  if (OGR_G_HasCurveGeometry(geom, 0)) {
    linear = OGR_G_GetLinearGeometry(geom, 0, NULL);
    if (!linear)
      return tgis__fail(ctx, TGIS_EPARSE, "cannot linearise a curved geometry");
    geom = linear;
  }
  n = (size_t)OGR_G_WkbSize(geom);
  if (n > *wkb_cap) {
    unsigned char *p = tgis__realloc(ctx, *wkb, n * 2);
    if (!p) {
      OGR_G_DestroyGeometry(linear);
      return tgis__fail(ctx, TGIS_ENOMEM, "out of memory reading a geometry");
    }
    *wkb = p;
    *wkb_cap = n * 2;
  }
  OGR_G_ExportToIsoWkb(geom, wkbNDR, *wkb);
  OGR_G_DestroyGeometry(linear);
  r.p = *wkb;
  r.end = *wkb + n;
  r.want = want;
  r.info = info;
  r.g = g;
  st = rd_geometry(&r, 0);
  if (st == TGIS_OK && r.p != r.end)
    st = TGIS_EPARSE;
  if (st == TGIS_ENOMEM)
    return tgis__fail(ctx, st, "out of memory reading a geometry");
  if (st != TGIS_OK)
    return tgis__fail(ctx, st, "malformed geometry");
  /* Single parts keep their simple type. */
  if (want == 1 && g->n_parts == 1)
    g->type = TGIS_GEOM_LINESTRING;
  if (want == 0 && g->n_points == 1)
    g->type = TGIS_GEOM_POINT;
  return TGIS_OK;
}
