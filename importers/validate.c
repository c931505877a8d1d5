/*
 * validate.c -- what makes a feature fit to store: its geometry's type and
 * validity (repaired with GEOSMakeValid where possible) and each attribute's
 * type, enumeration and identifier rules.
 *
 * A verdict collects one reject reason (the first fault) or a few notes
 * (repairs, warnings) that are stored beside the row. Reasons never quote a
 * PINFL: identifier reasons come from tgis_id_validate, which does not.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <geos_c.h>

#include "import_int.h"
#include "layers.h"

void tgis_verdict__reject(tgis_verdict *v, const char *field, const char *fmt, ...)
{
  va_list ap;
  if (v->rejected)
    return;  /* the first fault is the one reported */
  v->rejected = 1;
  v->field = field;
  va_start(ap, fmt);
  vsnprintf(v->reason, sizeof v->reason, fmt, ap);
  va_end(ap);
}

void tgis_verdict__note(tgis_verdict *v, const char *action, const char *field,
                        const char *fmt, ...)
{
  va_list ap;
  if (v->n_notes >= (int)(sizeof v->notes / sizeof v->notes[0]))
    return;
  v->notes[v->n_notes].action = action;
  v->notes[v->n_notes].field = field;
  va_start(ap, fmt);
  vsnprintf(v->notes[v->n_notes].reason, sizeof v->notes[0].reason, fmt, ap);
  va_end(ap);
  v->n_notes++;
}

/* ---- geometry -------------------------------------------------------------------- */

static const char *type_name(int ogc)
{
  static const char *const names[] = { "GEOMETRY", "POINT", "LINESTRING", "POLYGON",
                                       "MULTIPOINT", "MULTILINESTRING", "MULTIPOLYGON",
                                       "GEOMETRYCOLLECTION" };
  return ogc >= 0 && ogc <= 7 ? names[ogc] : "GEOMETRY";
}

void tgis_validate__shape(const tgis_geombuf *g, const tgis_src_shape *info,
                          tgis_layer target, tgis_verdict *v)
{
  static const char *const wants[] = { "a point", "a line", "polygons" };
  int dim = tgis_layer__dim(target);
  if (g->n_points == 0) {
    if (info->dims_seen & ~(1u << dim))
      tgis_verdict__reject(v, "geom", "wrong geometry type: %s, %s needs %s",
                           type_name(info->top_type), tgis_layer_name(target), wants[dim]);
    else
      tgis_verdict__reject(v, "geom", "empty geometry");
    return;
  }
  if (dim == 0 && g->n_points > 1) {
    tgis_verdict__reject(v, "geom", "%zu points where %s needs one", g->n_points,
                         tgis_layer_name(target));
    return;
  }
  if (info->n_dropped > 0)
    tgis_verdict__note(v, "repaired", "geom", "dropped %d part%s of another geometry type",
                       info->n_dropped, info->n_dropped == 1 ? "" : "s");
}

tgis_status tgis_validate__inner_point(tgis_geombuf *g, tgis_ctx *ctx)
{
  GEOSContextHandle_t h = tgis__geos(ctx);
  GEOSGeometry *area = NULL, *pt = NULL;
  tgis_status st = tgis_geom__to_geos(&area, ctx, g);
  if (st != TGIS_OK)
    return st;
  pt = GEOSPointOnSurface_r(h, area);
  GEOSGeom_destroy_r(h, area);
  if (!pt)
    return tgis__fail_ctx(ctx, TGIS_EGEOS, "cannot find a point inside the area");
  st = tgis_geom__from_geos(g, ctx, pt, TGIS_GEOM_POINT, NULL);
  GEOSGeom_destroy_r(h, pt);
  return st;
}

/* Lines need two distinct points; GEOS has nothing to repair there. */
static void check_line(const tgis_geombuf *g, tgis_verdict *v)
{
  size_t pt = 0;
  for (size_t k = 0; k < g->n_parts; k++) {
    int distinct = 0;
    for (uint32_t i = 1; i < g->parts[k] && !distinct; i++)
      distinct = g->xy[2 * (pt + i)] != g->xy[2 * pt] || g->xy[2 * (pt + i) + 1] != g->xy[2 * pt + 1];
    if (!distinct) {
      tgis_verdict__reject(v, "geom", "degenerate line: fewer than two distinct points");
      return;
    }
    pt += g->parts[k];
  }
}

tgis_status tgis_validate__geometry(tgis_geombuf *g, tgis_ctx *ctx, tgis_layer target,
                                    tgis_verdict *v)
{
  GEOSContextHandle_t h = tgis__geos(ctx);
  GEOSGeometry *geom = NULL, *fixed = NULL;
  char *why = NULL;
  tgis_status st;
  int valid, dropped = 0;

  if (tgis_layer__dim(target) == 1) {
    check_line(g, v);
    return TGIS_OK;
  }
  if (tgis_layer__dim(target) == 0 || tgis_geombuf_simple_polygon_valid(g))
    return TGIS_OK;

  if (tgis_geom__to_geos(&geom, ctx, g) != TGIS_OK) {
    /* A ring GEOS cannot even build (too few points, not closed). */
    tgis_verdict__reject(v, "geom", "invalid polygon: %s", tgis_errmsg(ctx));
    tgis__clear_error(ctx);
    return TGIS_OK;
  }
  valid = GEOSisValid_r(h, geom);
  if (valid == 1)
    goto done;
  if (valid == 2) {
    st = tgis__fail_ctx(ctx, TGIS_EGEOS, "validity check failed");
    GEOSGeom_destroy_r(h, geom);
    return st;
  }
  why = GEOSisValidReason_r(h, geom);
  fixed = GEOSMakeValid_r(h, geom);
  if (!fixed) {
    tgis_verdict__reject(v, "geom", "invalid polygon (%s) and MakeValid failed", why ? why : "?");
    tgis__clear_error(ctx);
    goto done;
  }
  if ((st = tgis_geom__from_geos(g, ctx, fixed, TGIS_GEOM_MULTIPOLYGON, &dropped)) != TGIS_OK)
    goto fail;
  if (g->n_points == 0 || tgis_geombuf_area(g) <= 0)
    tgis_verdict__reject(v, "geom", "invalid polygon (%s); repair leaves no area", why ? why : "?");
  else
    tgis_verdict__note(v, "repaired", "geom", "invalid polygon (%s): repaired with MakeValid",
                       why ? why : "?");
done:
  if (why)
    GEOSFree_r(h, why);
  GEOSGeom_destroy_r(h, fixed);
  GEOSGeom_destroy_r(h, geom);
  return TGIS_OK;
fail:
  if (why)
    GEOSFree_r(h, why);
  GEOSGeom_destroy_r(h, fixed);
  GEOSGeom_destroy_r(h, geom);
  return st;
}

/* ---- attributes ------------------------------------------------------------------- */

void tgis_validate__field(tgis_value *out, const tgis_field_def *def, const char *text,
                          char *store, size_t store_len, tgis_verdict *v)
{
  memset(out, 0, sizeof *out);
  if (!text)
    text = def->dflt;
  out->is_null = text == NULL;
  if (!text) {
    if (def->flags & TGIS_FIELD_REQUIRED)
      tgis_verdict__reject(v, def->name, "%s is missing", def->name);
    return;
  }
  if (def->type == TGIS_FT_INT || def->type == TGIS_FT_REAL) {
    char *end;
    double d;
    errno = 0;
    d = strtod(text, &end);
    /* "50 km/h", "80 mph": a number with a unit is common in OSM. */
    while (*end == ' ')
      end++;
    if (end == text || errno || !isfinite(d) || (*end && !isalpha((unsigned char)*end))) {
      tgis_verdict__reject(v, def->name, "%s: '%.40s' is not a number", def->name, text);
      return;
    }
    if (strncmp(end, "mph", 3) == 0)
      d *= 1.609344;
    if (def->type == TGIS_FT_INT) {
      if (d != floor(d) || fabs(d) > 9e15) {
        tgis_verdict__reject(v, def->name, "%s: '%.40s' is not a whole number", def->name, text);
        return;
      }
      out->i = (int64_t)d;
    }
    out->d = d;
    return;
  }
  tgis__strlcpy(store, text, store_len);
  out->s = store;
  if (def->allowed) {
    int ok = 0;
    for (const char *const *a = def->allowed; *a && !ok; a++)
      ok = strcmp(*a, text) == 0;
    if (!ok) {
      char list[256] = "";
      for (const char *const *a = def->allowed; *a; a++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s",
                 a == def->allowed ? "" : ", ", *a);
      tgis_verdict__reject(v, def->name, "%s: '%.40s' is not one of %s", def->name, text, list);
      return;
    }
  }
  if (def->id_kind != TGIS_NO_ID) {
    tgis_id_check chk;
    tgis_id_verdict verdict = tgis_id_validate(&chk, (tgis_id_kind)def->id_kind, text);
    if (verdict == TGIS_ID_INVALID) {
      if (def->id_kind == TGIS_ID_PINFL)
        tgis_verdict__reject(v, def->name, "%s: invalid PINFL: %s", def->name, chk.reason);
      else
        tgis_verdict__reject(v, def->name, "%s: '%.40s' is not a valid %s: %s", def->name, text,
                             tgis_id_kind_name((tgis_id_kind)def->id_kind), chk.reason);
      return;
    }
    if (verdict == TGIS_ID_WARNING)
      tgis_verdict__note(v, "warning", def->name, "%s: %s", def->name, chk.reason);
    tgis__strlcpy(store, chk.normalized, store_len);
  }
}
