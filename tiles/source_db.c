/*
 * source_db.c -- the tile source over a tgis database: each query reads a
 * layer through the store's spatial index, moves the geometries to Web
 * Mercator with a transformation fitted to the query's window (merc.h),
 * drops vertices closer than the renderer's tolerance, and hands each
 * feature over with its attributes as text.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "tgis_int.h"
#include "store.h"
#include "geom.h"
#include "merc.h"
#include "source_db.h"
#include "tiles_int.h"

#define MAX_FIELDS TGIS_SOURCE_MAX_KEYS
#define VALUE_BYTES 64            /* a number, or room for a short text */

/* Fits kept (see FIT_CELL): a map view or a seeding pass comes back to a
 * cell for each of its tiles, a few cells apart. */
#define FIT_SLOTS 16

/* A fit made: its tolerance, cell, and the extent (database CRS) it was
 * checked over. */
typedef struct fit_slot {
  int used;
  uint64_t last_use;              /* for replacing the least recently used */
  double tolerance, ix, iy;
  tgis_extent extent;
  tgis_merc_fit fit;
} fit_slot;

struct tgis_source_db {
  tgis_ctx *ctx;
  tgis_store *store;
  tgis_merc merc;
  tgis_geombuf g;                 /* the feature being emitted, in 3857 */
  tgis_source_db_stats stats;
  int64_t coverage_run;           /* run the "coverage" layer shows; 0 latest */
  fit_slot fits[FIT_SLOTS];
  uint64_t fit_clock;
};

/* One query in flight. */
typedef struct query {
  tgis_source_db *s;
  const tgis_layer_def *def;
  tgis_merc_fit fit;
  double tolerance;
  const tgis_extent *bbox;
  tgis_feature_emit emit;
  tgis_feature_want want;         /* the caller's, for rows outside the core */
  tgis_extent core;               /* EPSG:3857 */
  void *payload;
  size_t n_attrs;
  int field_of[MAX_FIELDS];       /* attribute i is catalogue field field_of[i]; -1 null */
  const char *const *keys;        /* the caller's list, or own_keys */
  const char *own_keys[MAX_FIELDS];
  char text[MAX_FIELDS][VALUE_BYTES];
  const char *values[MAX_FIELDS];
} query;

tgis_status tgis_source_db_new(tgis_source_db **out, tgis_ctx *ctx)
{
  tgis_source_db *s;
  tgis_store *store;
  tgis_db_info info;
  tgis_status st;

  *out = NULL;
  if ((st = tgis__require_store(ctx, &store)) != TGIS_OK ||
      (st = tgis_db_info_get(&info, ctx)) != TGIS_OK)
    return st;
  if (!(s = tgis__calloc(ctx, 1, sizeof *s)))
    return TGIS_ENOMEM;
  s->ctx = ctx;
  s->store = store;
  tgis_geombuf_init(&s->g, ctx);
  if ((st = tgis_merc_open(&s->merc, ctx, info.srid)) != TGIS_OK) {
    tgis_source_db_free(s);
    return st;
  }
  *out = s;
  return TGIS_OK;
}

void tgis_source_db_free(tgis_source_db *s)
{
  if (!s)
    return;
  tgis_merc_close(&s->merc);
  tgis_geombuf_free(&s->g);
  tgis__free(s->ctx, s);
}

const tgis_source_db_stats *tgis_source_db_last_stats(const tgis_source_db *s)
{
  return &s->stats;
}

tgis_merc *tgis_source_db_merc(tgis_source_db *s)
{
  return &s->merc;
}

/* Drop the vertices of each part that lie within `tol` of the last one
 * kept, keeping every part's ends; a ring keeps at least 4 points and a line
 * 2, or stays as it was. */
static void thin(tgis_geombuf *g, double tol)
{
  size_t in = 0, out = 0;
  double t2 = tol * tol;

  if (tol <= 0 || g->n_parts == 0)
    return;
  for (size_t p = 0; p < g->n_parts; p++) {
    size_t n = g->parts[p], start = out, keep_min = g->type == TGIS_GEOM_LINESTRING ||
                                                     g->type == TGIS_GEOM_MULTILINESTRING ? 2 : 4;
    double *xy = g->xy;
    for (size_t i = 0; i < n; i++) {
      size_t k = in + i;
      if (i > 0 && i < n - 1) {
        double dx = xy[2 * k] - xy[2 * (out - 1)], dy = xy[2 * k + 1] - xy[2 * (out - 1) + 1];
        if (dx * dx + dy * dy < t2)
          continue;
      }
      xy[2 * out] = xy[2 * k];
      xy[2 * out + 1] = xy[2 * k + 1];
      out++;
    }
    if (out - start < keep_min) {       /* too few left: keep the part whole */
      memmove(xy + 2 * start, xy + 2 * in, 2 * n * sizeof *xy);
      out = start + n;
    }
    g->parts[p] = (uint32_t)(out - start);
    in += n;
  }
  g->n_points = out;
}

/* Digits of u (at least `width` of them, zero-padded) at the end of p;
 * returns where they start. */
static char *put_digits(char *p, uint64_t u, int width)
{
  do {
    *--p = (char)('0' + u % 10);
    u /= 10;
  } while (--width > 0 || u);
  return p;
}

/* v as "%" PRId64 would print it. */
static void format_int(char *buf, int64_t v)
{
  char tmp[24], *end = tmp + sizeof tmp, *p;
  uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
  size_t n;
  p = put_digits(end, u, 1);
  if (v < 0)
    *--p = '-';
  n = (size_t)(end - p);
  memcpy(buf, p, n);
  buf[n] = '\0';
}

/*
 * v as "%.15g" prints it, without going through printf for the common
 * case (about 20 times faster; the attributes of every feature of a tile
 * are formatted, parcel areas among them). Fixed notation for 1e-4 <= |v|
 * < 1e15: the value scaled to 15 significant digits in long double (64-bit
 * mantissa, 10^k exact), rounded to nearest; a value whose rounding is
 * within reach of the scaling's error, and everything else, goes to
 * snprintf, so the text is always printf's.
 */
/* 10^(k-1) for k = 0..20, the scales format_real() needs (10^0..10^19
 * are exact in long double; 10^-1 is correctly rounded, as powl gives it). */
static const long double pow10l_tab[] = {
  1e-1L, 1e0L, 1e1L, 1e2L, 1e3L, 1e4L, 1e5L, 1e6L, 1e7L, 1e8L, 1e9L, 1e10L,
  1e11L, 1e12L, 1e13L, 1e14L, 1e15L, 1e16L, 1e17L, 1e18L, 1e19L
};

/* 10^k for -1 <= k <= 19. */
static long double pow10_scale(int k)
{
  return pow10l_tab[k + 1];
}

/* floor(log10(a)) for 1e-4 <= a < 1e15, give or take one (format_real()
 * corrects it): a search of the powers of ten instead of log10(). */
static int decade(double a)
{
  static const double p10[] = { 1e-4, 1e-3, 1e-2, 1e-1, 1e0, 1e1, 1e2, 1e3, 1e4, 1e5,
                                1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14 };
  int lo = 0, hi = (int)(sizeof p10 / sizeof p10[0]) - 1;

  while (lo < hi) {               /* the last power <= a */
    int mid = (lo + hi + 1) / 2;
    if (p10[mid] <= a)
      lo = mid;
    else
      hi = mid - 1;
  }
  return lo - 4;
}

static void format_real(char *buf, double v)
{
  double a = fabs(v);
  int e;
  long double s;
  uint64_t q;
  char digits[16], *p = buf;

  if (!(a >= 1e-4 && a < 1e15))
    goto slow;
  e = decade(a);
  s = (long double)a * pow10_scale(14 - e);
  if (s >= 1e15L) {
    e++;
    s = (long double)a * pow10_scale(14 - e);
  } else if (s < 1e14L) {
    e--;
    s = (long double)a * pow10_scale(14 - e);
  }
  if (!(s >= 1e14L && s < 1e15L))
    goto slow;
  q = (uint64_t)s;
  {
    long double frac = s - (long double)q;
    if (fabsl(frac - 0.5L) < 1e-3L)
      goto slow;                  /* a tie, or too close to call */
    if (frac > 0.5L)
      q++;
  }
  if (q >= 1000000000000000ULL)
    goto slow;                    /* rounded up into the next decade */
  put_digits(digits + 15, q, 15);
  {
    int nd = 15, int_digits = e + 1;
    while (nd > (int_digits > 0 ? int_digits : 0) && digits[nd - 1] == '0')
      nd--;                       /* %g drops trailing zeros of the fraction */
    if (v < 0)
      *p++ = '-';
    if (int_digits > 0) {
      memcpy(p, digits, (size_t)int_digits);
      p += int_digits;
      if (nd > int_digits) {
        *p++ = '.';
        memcpy(p, digits + int_digits, (size_t)(nd - int_digits));
        p += nd - int_digits;
      }
    } else {
      *p++ = '0';
      *p++ = '.';
      for (int i = 0; i < -int_digits; i++)
        *p++ = '0';
      memcpy(p, digits, (size_t)nd);
      p += nd;
    }
    *p = '\0';
  }
  return;
slow:
  snprintf(buf, VALUE_BYTES, "%.15g", v);
}

static void format_value(char *buf, const tgis_field_def *f, const tgis_value *v,
                         const char **value)
{
  if (v->is_null) {
    *value = NULL;
    return;
  }
  switch (f->type) {
  case TGIS_FT_INT:
    format_int(buf, v->i);
    *value = buf;
    break;
  case TGIS_FT_REAL:
    format_real(buf, v->d);
    *value = buf;
    break;
  default:
    *value = v->s;                /* borrowed from the row, valid for the call */
    break;
  }
}

/* The view of a row's attributes (its geometry is not set). */
static void view_attrs(query *q, const tgis_feature *f, tgis_feature_view *view)
{
  for (size_t i = 0; i < q->n_attrs; i++) {
    int k = q->field_of[i];
    if (k < 0)
      q->values[i] = NULL;        /* asked for, but no such field */
    else
      format_value(q->text[i], &q->def->fields[k], &f->values[k], &q->values[i]);
  }
  view->id = f->id;
  view->geom = NULL;
  view->n_attrs = q->n_attrs;
  view->keys = q->keys;
  view->values = q->values;
}

/* Whether the image through `f` of the box `b` (database CRS) can meet
 * `core` (EPSG:3857). The fit is a quadratic, so over the box it is its
 * value at the centre, plus the Jacobian there times the offset, plus the
 * quadratic terms of the offset: bounding each gives a box that holds the
 * image of every point of b, with no sampling. */
static int fit_box_meets(const tgis_merc_fit *f, const tgis_extent *b, const tgis_extent *core)
{
  double u = (0.5 * (b->minx + b->maxx) - f->cx) * f->inv_s;
  double v = (0.5 * (b->miny + b->maxy) - f->cy) * f->inv_s;
  double hu = 0.5 * (b->maxx - b->minx) * f->inv_s, hv = 0.5 * (b->maxy - b->miny) * f->inv_s;
  double c[2], r[2];

  for (int k = 0; k < 2; k++) {
    const double *a = k ? f->ay : f->ax;
    double ju = a[1] + 2 * a[3] * u + a[4] * v, jv = a[2] + a[4] * u + 2 * a[5] * v;
    c[k] = a[0] + a[1] * u + a[2] * v + a[3] * u * u + a[4] * u * v + a[5] * v * v;
    r[k] = fabs(ju) * hu + fabs(jv) * hv + fabs(a[3]) * hu * hu + fabs(a[4]) * hu * hv +
           fabs(a[5]) * hv * hv;
    r[k] += 1e-9 * (fabs(c[k]) + r[k]);   /* rounding */
  }
  return c[0] - r[0] <= core->maxx && c[0] + r[0] >= core->minx &&
         c[1] - r[1] <= core->maxy && c[1] + r[1] >= core->miny;
}

/* A row whose box (database CRS) misses the core's window. Boxes do not
 * turn with the grid (north differs by a fraction of a degree), so the
 * 3857 box of a long feature may still meet the core: then it is needed
 * whatever its attributes. Else the caller decides by them. */
static int want_row(const tgis_feature *f, const tgis_extent *box, void *payload)
{
  query *q = payload;
  tgis_feature_view view;

  if (q->fit.exact || fit_box_meets(&q->fit, box, &q->core))
    return 1;                     /* PROJ point by point: no bound at hand, keep it */
  view_attrs(q, f, &view);
  return q->want(&view, q->payload);
}

static tgis_status on_feature(const tgis_feature *f, void *payload)
{
  query *q = payload;
  tgis_source_db *s = q->s;
  tgis_feature_view view;
  tgis_status st;

  if (f->geom->n_points == 0)
    return TGIS_OK;
  if ((st = tgis_geombuf_copy(&s->g, f->geom)) != TGIS_OK ||
      (st = tgis_merc_apply(&s->merc, &q->fit, s->g.xy, s->g.n_points)) != TGIS_OK)
    return st;
  size_t before = s->g.n_points;
  thin(&s->g, q->tolerance);
  s->stats.points += before;
  s->stats.points_kept += s->g.n_points;
  s->stats.features++;

  view_attrs(q, f, &view);
  view.geom = &s->g;
  return q->emit(&view, q->payload);
}

/* Fits are made per cell of a grid in EPSG:3857 whose cells are FIT_CELL
 * times the tolerance wide (four tiles of 256 pixels), each over its cell
 * and the ring of cells around it. A query uses the fit of the cell of its
 * box's centre when that covers its window: the layers of one tile, which
 * ask for different boxes (a layer with labels asks for about three times
 * the width of one without), share one fit, and the fit a box gets does
 * not depend on the queries before it (a tile seeded is the tile rendered
 * alone, byte for byte). Over those 12 tiles the fit's error stays near
 * 1 mm at z15; it is checked over the whole extent. */
#define FIT_CELL 2048.0

/* The point (x, y) of the database CRS that `fit` takes to (mx, my):
 * Newton's method on the quadratic, from the fit's centre. */
static void fit_inverse(const tgis_merc_fit *f, double mx, double my, double *x, double *y)
{
  double u = 0, v = 0;

  for (int it = 0; it < 6; it++) {
    double uu = u * u, uv = u * v, vv = v * v;
    double ex = f->ax[0] + f->ax[1] * u + f->ax[2] * v + f->ax[3] * uu + f->ax[4] * uv +
                f->ax[5] * vv - mx;
    double ey = f->ay[0] + f->ay[1] * u + f->ay[2] * v + f->ay[3] * uu + f->ay[4] * uv +
                f->ay[5] * vv - my;
    double a = f->ax[1] + 2 * f->ax[3] * u + f->ax[4] * v, b = f->ax[2] + f->ax[4] * u + 2 * f->ax[5] * v;
    double c = f->ay[1] + 2 * f->ay[3] * u + f->ay[4] * v, d = f->ay[2] + f->ay[4] * u + 2 * f->ay[5] * v;
    double det = a * d - b * c;
    if (det == 0)
      break;
    double du = (d * ex - b * ey) / det, dv = (a * ey - c * ex) / det;
    u -= du;
    v -= dv;
    /* Converged (quadratically: two or three steps from the centre); a
     * further step would move the point by far less than a micrometre. */
    if (fabs(du) < 1e-13 && fabs(dv) < 1e-13)
      break;
  }
  *x = f->cx + u / f->inv_s;
  *y = f->cy + v / f->inv_s;
}

/* tgis_merc_window() through the fit instead of PROJ: the same samples of
 * the box's edges, the same padding. */
static void fit_window(const tgis_merc_fit *f, const tgis_extent *box, tgis_extent *native)
{
  enum { K = 8 };                /* points per edge, as tgis_merc_window() */
  double w = box->maxx - box->minx, h = box->maxy - box->miny;

  for (int i = 0; i < K; i++) {
    double t = (double)i / K;
    double pts[4][2] = { { box->minx + t * w, box->miny }, { box->maxx, box->miny + t * h },
                         { box->maxx - t * w, box->maxy }, { box->minx, box->maxy - t * h } };
    for (int k = 0; k < 4; k++) {
      double x, y;
      fit_inverse(f, pts[k][0], pts[k][1], &x, &y);
      if (i == 0 && k == 0) {
        native->minx = native->maxx = x;
        native->miny = native->maxy = y;
      } else {
        native->minx = fmin(native->minx, x);
        native->maxx = fmax(native->maxx, x);
        native->miny = fmin(native->miny, y);
        native->maxy = fmax(native->maxy, y);
      }
    }
  }
  double pad = 1e-3 * fmax(native->maxx - native->minx, native->maxy - native->miny);
  native->minx -= pad;
  native->miny -= pad;
  native->maxx += pad;
  native->maxy += pad;
}

/* The window (database CRS) of `bbox`, and the transformation for it
 * (see FIT_CELL; a box wider than a cell gets a fit of its own window);
 * with `core`, its window too. Counts the query in the stats. */
static tgis_status window_fit(tgis_source_db *s, const tgis_extent *bbox, const tgis_extent *core,
                              double tolerance, tgis_extent *window, tgis_extent *core_window,
                              tgis_merc_fit *fit)
{
  double c = FIT_CELL * (tolerance > 0 ? tolerance : 0.01);
  double ix = floor(0.5 * (bbox->minx + bbox->maxx) / c);
  double iy = floor(0.5 * (bbox->miny + bbox->maxy) / c);
  double fit_tol = tolerance > 0 ? 0.1 * tolerance : 0.01;
  fit_slot *f = NULL;
  tgis_status st;

  for (int i = 0; i < FIT_SLOTS && !f; i++)
    if (s->fits[i].used && s->fits[i].tolerance == tolerance && s->fits[i].ix == ix &&
        s->fits[i].iy == iy)
      f = &s->fits[i];
  if (!f) {
    tgis_extent cell = { (ix - 1) * c, (iy - 1) * c, (ix + 2) * c, (iy + 2) * c };
    f = &s->fits[0];
    for (int i = 1; i < FIT_SLOTS && f->used; i++)
      if (!s->fits[i].used || s->fits[i].last_use < f->last_use)
        f = &s->fits[i];
    f->used = 0;
    /* A tenth of the renderer's tolerance (half a pixel): the fit is
     * invisible. */
    if ((st = tgis_merc_window(&s->merc, &cell, &f->extent)) != TGIS_OK ||
        (st = tgis_merc_fit_window(&s->merc, &f->extent, fit_tol, &f->fit)) != TGIS_OK)
      return st;
    f->used = 1;
    f->tolerance = tolerance;
    f->ix = ix;
    f->iy = iy;
  }
  f->last_use = ++s->fit_clock;
  /* Inside the cell's ring, the window through the fit (to a millimetre of
   * PROJ's, well within its padding). */
  for (int k = 0; k < 2; k++) {
    const tgis_extent *b = k ? core : bbox;
    tgis_extent *w = k ? core_window : window;
    if (!b)
      continue;
    if (!f->fit.exact && b->minx >= (ix - 1) * c && b->miny >= (iy - 1) * c &&
        b->maxx <= (ix + 2) * c && b->maxy <= (iy + 2) * c)
      fit_window(&f->fit, b, w);
    else if ((st = tgis_merc_window(&s->merc, b, w)) != TGIS_OK)
      return st;
  }
  if (window->minx >= f->extent.minx && window->miny >= f->extent.miny &&
      window->maxx <= f->extent.maxx && window->maxy <= f->extent.maxy)
    *fit = f->fit;
  else if ((st = tgis_merc_fit_window(&s->merc, window, fit_tol, fit)) != TGIS_OK)
    return st;
  s->stats.queries++;
  s->stats.exact_queries += fit->exact;
  s->stats.max_fit_err = fmax(s->stats.max_fit_err, fit->exact ? 0 : fit->max_err);
  return TGIS_OK;
}

static const tgis_layer_def *layer_by_name(const char *name, tgis_layer *layer)
{
  for (int l = 0; l < TGIS_LAYER_COUNT; l++) {
    const tgis_layer_def *def = tgis_layer__def((tgis_layer)l);
    if (def && strcmp(def->table, name) == 0) {
      *layer = (tgis_layer)l;
      return def;
    }
  }
  return NULL;
}

/* ---- the result layer "coverage" ------------------------------------------ */

/* Each parcel of a coverage run with travel_min, the minutes to its
 * nearest facility as text (NULL when no facility is reachable), read
 * through the store's coverage_scan. Parcels imported after the run, and
 * those reachable without a time (radius method in drive mode), are not
 * emitted. No run at all: an empty layer, as the theme expects. */

typedef struct cov_query {
  tgis_source_db *s;
  tgis_merc_fit fit;
  double tolerance;
  const char *const *keys;        /* as asked; NULL: the one, travel_min */
  size_t n_keys;
  tgis_feature_emit emit;
  void *payload;
  tgis_status emit_status;        /* the emitter's, to tell it from the scan's */
  char text[VALUE_BYTES];
} cov_query;

static tgis_status on_coverage(const tgis_coverage_feature *f, void *payload)
{
  static const char *const all_keys[] = { "travel_min" };
  cov_query *q = payload;
  tgis_source_db *s = q->s;
  tgis_feature_view view;
  const char *values[MAX_FIELDS], *minutes = NULL;
  tgis_status st;

  if (!f->in_run || f->geom->n_points == 0 || (f->reachable && !isfinite(f->minutes)))
    return TGIS_OK;
  if ((st = tgis_geombuf_copy(&s->g, f->geom)) != TGIS_OK ||
      (st = tgis_merc_apply(&s->merc, &q->fit, s->g.xy, s->g.n_points)) != TGIS_OK)
    return st;
  size_t before = s->g.n_points;
  thin(&s->g, q->tolerance);
  s->stats.points += before;
  s->stats.points_kept += s->g.n_points;
  s->stats.features++;
  if (f->reachable) {
    snprintf(q->text, sizeof q->text, "%.2f", f->minutes);
    minutes = q->text;
  }
  view.id = f->parcel_id;
  view.geom = &s->g;
  if (q->keys) {
    for (size_t i = 0; i < q->n_keys; i++)
      values[i] = strcmp(q->keys[i], all_keys[0]) == 0 ? minutes : NULL;
    view.n_attrs = q->n_keys;
    view.keys = q->keys;
  } else {
    values[0] = minutes;
    view.n_attrs = 1;
    view.keys = all_keys;
  }
  view.values = values;
  return q->emit_status = q->emit(&view, q->payload);
}

static tgis_status coverage_query(tgis_source_db *s, const tgis_extent *bbox,
                                  double tolerance, const char *const *keys, size_t n_keys,
                                  tgis_feature_emit emit, void *payload)
{
  cov_query q;
  tgis_extent window;
  tgis_status st;

  memset(&q, 0, sizeof q);
  q.s = s;
  q.tolerance = tolerance;
  q.keys = keys;
  q.n_keys = n_keys;
  q.emit = emit;
  q.payload = payload;
  if ((st = window_fit(s, bbox, NULL, tolerance, &window, NULL, &q.fit)) != TGIS_OK)
    return st;
  st = s->store->vt->coverage_scan(s->store, s->coverage_run, NULL, &window, on_coverage, &q);
  if (st == TGIS_ENOTFOUND && q.emit_status == TGIS_OK) {
    tgis__clear_error(s->ctx);    /* no such run: nothing to draw */
    return TGIS_OK;
  }
  return st;
}

void tgis_tiles_set_coverage_run(tgis_tiles *t, int64_t run_id)
{
  tgis_tiles__source(t)->coverage_run = run_id > 0 ? run_id : 0;
}

static tgis_status db_query(void *self, const char *layer_name, const tgis_extent *bbox,
                            double tolerance, const char *const *keys,
                            const tgis_source_outer *outer, tgis_feature_emit emit, void *payload)
{
  tgis_source_db *s = self;
  query q;
  tgis_extent window;
  tgis_layer layer;
  tgis_status st;
  size_t n_keys = 0;
  uint32_t fields = 0;
  tgis_scan_outer so;

  if (keys) {
    while (keys[n_keys] && n_keys <= MAX_FIELDS)
      n_keys++;
    if (n_keys > MAX_FIELDS)
      return tgis__fail(s->ctx, TGIS_EINVAL, "layer %s: more than %d attributes asked for",
                        layer_name, MAX_FIELDS);
  }
  if (strcmp(layer_name, "coverage") == 0)
    return coverage_query(s, bbox, tolerance, keys, n_keys, emit, payload);
  memset(&q, 0, sizeof q);
  if (!(q.def = layer_by_name(layer_name, &layer)))
    return TGIS_OK;               /* nothing stored under that name: nothing to draw */
  q.s = s;
  q.tolerance = tolerance;
  q.bbox = bbox;
  q.emit = emit;
  q.payload = payload;
  if (keys) {
    /* Only the fields asked for are read and formatted; a private field
     * reads as a missing one. */
    for (size_t k = 0; k < n_keys; k++) {
      int i = tgis_layer__field(q.def, keys[k]);
      if (i >= 0 && (q.def->fields[i].flags & TGIS_FIELD_PRIVATE))
        i = -1;
      q.field_of[k] = i;
      if (i >= 0)
        fields |= UINT32_C(1) << i;
    }
    q.n_attrs = n_keys;
    q.keys = keys;
  } else {
    for (int i = 0; i < q.def->n_fields && q.n_attrs < MAX_FIELDS; i++) {
      if (q.def->fields[i].flags & TGIS_FIELD_PRIVATE)
        continue;                 /* never even named to the renderer */
      q.field_of[q.n_attrs] = i;
      q.own_keys[q.n_attrs++] = q.def->fields[i].name;
      fields |= UINT32_C(1) << i;
    }
    q.keys = q.own_keys;
  }
  if (outer && !outer->want)
    outer = NULL;
  q.want = outer ? outer->want : NULL;
  if (outer)
    q.core = outer->core;
  so.want = want_row;
  so.payload = &q;
  if ((st = window_fit(s, bbox, outer ? &outer->core : NULL, tolerance, &window,
                       outer ? &so.core : NULL, &q.fit)) != TGIS_OK)
    return st;
  return s->store->vt->layer_scan_fields(s->store, layer, &window, fields, outer ? &so : NULL,
                                         on_feature, &q);
}

tgis_tile_source tgis_source_db_source(tgis_source_db *s)
{
  tgis_tile_source src = { db_query, s };
  return src;
}
