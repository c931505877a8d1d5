/*
 * merc.c -- the database CRS to Web Mercator: PROJ for exact points, a
 * quadratic fitted per window for the vertices of a tile.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <proj.h>

#include "tgis_int.h"
#include "merc.h"

/* Sample grid of the fit (G x G points) and of its check (the centres of
 * the fit grid's cells: points the fit never saw). */
#define FIT_GRID 5

static PJ *make_op(tgis_ctx *ctx, int srid, const char *target)
{
  PJ_CONTEXT *pc = (PJ_CONTEXT *)tgis__proj(ctx);
  char src[32];
  PJ *op, *norm;

  snprintf(src, sizeof src, "EPSG:%d", srid);
  if (!(op = proj_create_crs_to_crs(pc, src, target, NULL)))
    return NULL;
  norm = proj_normalize_for_visualization(pc, op);
  proj_destroy(op);
  return norm;
}

tgis_status tgis_merc_open(tgis_merc *m, tgis_ctx *ctx, int srid)
{
  memset(m, 0, sizeof *m);
  m->ctx = ctx;
  m->srid = srid;
  if (!(m->to_merc = make_op(ctx, srid, "EPSG:3857")) ||
      !(m->to_lonlat = make_op(ctx, srid, "EPSG:4326"))) {
    tgis_merc_close(m);
    return tgis__fail(ctx, TGIS_EPROJ, "EPSG:%d: no transformation to Web Mercator", srid);
  }
  return TGIS_OK;
}

void tgis_merc_close(tgis_merc *m)
{
  if (m->to_merc)
    proj_destroy(m->to_merc);
  if (m->to_lonlat)
    proj_destroy(m->to_lonlat);
  m->to_merc = m->to_lonlat = NULL;
}

static tgis_status trans(tgis_merc *m, void *pj, int inverse, double *xy, size_t n)
{
  if (n == 0)
    return TGIS_OK;
  proj_trans_generic(pj, inverse ? PJ_INV : PJ_FWD, xy, 2 * sizeof(double), n, xy + 1,
                     2 * sizeof(double), n, NULL, 0, 0, NULL, 0, 0);
  for (size_t i = 0; i < 2 * n; i++)
    if (!isfinite(xy[i]) || fabs(xy[i]) > 1e15)
      return tgis__fail(m->ctx, TGIS_EPROJ, "EPSG:%d: point %.3f %.3f cannot be transformed",
                        m->srid, xy[i & ~(size_t)1], xy[i | 1]);
  return TGIS_OK;
}

tgis_status tgis_merc_points(tgis_merc *m, int inverse, double *xy, size_t n)
{
  return trans(m, m->to_merc, inverse, xy, n);
}

tgis_status tgis_merc_lonlat(tgis_merc *m, int inverse, double *xy, size_t n)
{
  return trans(m, m->to_lonlat, inverse, xy, n);
}

tgis_status tgis_merc_window(tgis_merc *m, const tgis_extent *box, tgis_extent *native)
{
  enum { K = 8 };                /* points per edge */
  double xy[4 * K * 2];
  size_t n = 0;
  tgis_status st;

  for (int i = 0; i < K; i++) {
    double t = (double)i / K;
    double x = box->minx + t * (box->maxx - box->minx);
    double y = box->miny + t * (box->maxy - box->miny);
    double xr = box->maxx - t * (box->maxx - box->minx);
    double yr = box->maxy - t * (box->maxy - box->miny);
    xy[n++] = x;         xy[n++] = box->miny;
    xy[n++] = box->maxx; xy[n++] = y;
    xy[n++] = xr;        xy[n++] = box->maxy;
    xy[n++] = box->minx; xy[n++] = yr;
  }
  if ((st = trans(m, m->to_merc, 1, xy, n / 2)) != TGIS_OK)
    return st;
  native->minx = native->maxx = xy[0];
  native->miny = native->maxy = xy[1];
  for (size_t i = 2; i < n; i += 2) {
    native->minx = fmin(native->minx, xy[i]);
    native->maxx = fmax(native->maxx, xy[i]);
    native->miny = fmin(native->miny, xy[i + 1]);
    native->maxy = fmax(native->maxy, xy[i + 1]);
  }
  /* The edges bulge between samples by far less than this. */
  double pad = 1e-3 * fmax(native->maxx - native->minx, native->maxy - native->miny);
  native->minx -= pad;
  native->miny -= pad;
  native->maxx += pad;
  native->maxy += pad;
  return TGIS_OK;
}

static void terms(double u, double v, double t[6])
{
  t[0] = 1;
  t[1] = u;
  t[2] = v;
  t[3] = u * u;
  t[4] = u * v;
  t[5] = v * v;
}

/* Solve the 6x6 system a x = b by Gaussian elimination with partial
 * pivoting; 0 if singular. a and b are overwritten. */
static int solve6(double a[6][6], double b[6], double x[6])
{
  for (int c = 0; c < 6; c++) {
    int p = c;
    for (int r = c + 1; r < 6; r++)
      if (fabs(a[r][c]) > fabs(a[p][c]))
        p = r;
    if (fabs(a[p][c]) < 1e-300)
      return 0;
    if (p != c) {
      for (int k = 0; k < 6; k++) {
        double t = a[c][k];
        a[c][k] = a[p][k];
        a[p][k] = t;
      }
      double t = b[c];
      b[c] = b[p];
      b[p] = t;
    }
    for (int r = c + 1; r < 6; r++) {
      double f = a[r][c] / a[c][c];
      for (int k = c; k < 6; k++)
        a[r][k] -= f * a[c][k];
      b[r] -= f * b[c];
    }
  }
  for (int c = 5; c >= 0; c--) {
    double s = b[c];
    for (int k = c + 1; k < 6; k++)
      s -= a[c][k] * x[k];
    x[c] = s / a[c][c];
  }
  return 1;
}

static void eval(const tgis_merc_fit *f, double x, double y, double *ox, double *oy)
{
  double u = (x - f->cx) * f->inv_s, v = (y - f->cy) * f->inv_s;
  double uu = u * u, uv = u * v, vv = v * v;
  *ox = f->ax[0] + f->ax[1] * u + f->ax[2] * v + f->ax[3] * uu + f->ax[4] * uv + f->ax[5] * vv;
  *oy = f->ay[0] + f->ay[1] * u + f->ay[2] * v + f->ay[3] * uu + f->ay[4] * uv + f->ay[5] * vv;
}

tgis_status tgis_merc_fit_window(tgis_merc *m, const tgis_extent *native, double tolerance,
                                 tgis_merc_fit *fit)
{
  double pts[FIT_GRID * FIT_GRID * 2], chk[(FIT_GRID - 1) * (FIT_GRID - 1) * 2];
  double ata[6][6] = { { 0 } }, atx[6] = { 0 }, aty[6] = { 0 };
  double w = native->maxx - native->minx, h = native->maxy - native->miny;
  size_t n = 0, nc = 0;
  tgis_status st;

  memset(fit, 0, sizeof *fit);
  fit->cx = 0.5 * (native->minx + native->maxx);
  fit->cy = 0.5 * (native->miny + native->maxy);
  fit->inv_s = 2.0 / fmax(fmax(w, h), 1e-6);
  for (int j = 0; j < FIT_GRID; j++)
    for (int i = 0; i < FIT_GRID; i++) {
      pts[n++] = native->minx + w * i / (FIT_GRID - 1);
      pts[n++] = native->miny + h * j / (FIT_GRID - 1);
      if (i < FIT_GRID - 1 && j < FIT_GRID - 1) {
        chk[nc++] = native->minx + w * (i + 0.5) / (FIT_GRID - 1);
        chk[nc++] = native->miny + h * (j + 0.5) / (FIT_GRID - 1);
      }
    }
  double src[FIT_GRID * FIT_GRID * 2], src_chk[(FIT_GRID - 1) * (FIT_GRID - 1) * 2];
  memcpy(src, pts, sizeof src);
  memcpy(src_chk, chk, sizeof src_chk);
  if ((st = trans(m, m->to_merc, 0, pts, n / 2)) != TGIS_OK ||
      (st = trans(m, m->to_merc, 0, chk, nc / 2)) != TGIS_OK)
    return st;

  for (size_t p = 0; p < n; p += 2) {
    double t[6];
    terms((src[p] - fit->cx) * fit->inv_s, (src[p + 1] - fit->cy) * fit->inv_s, t);
    for (int r = 0; r < 6; r++) {
      for (int c = 0; c < 6; c++)
        ata[r][c] += t[r] * t[c];
      atx[r] += t[r] * pts[p];
      aty[r] += t[r] * pts[p + 1];
    }
  }
  double a2[6][6];
  memcpy(a2, ata, sizeof a2);
  if (!solve6(ata, atx, fit->ax) || !solve6(a2, aty, fit->ay)) {
    fit->exact = 1;
    return TGIS_OK;
  }
  for (size_t p = 0; p < nc; p += 2) {
    double x, y;
    eval(fit, src_chk[p], src_chk[p + 1], &x, &y);
    fit->max_err = fmax(fit->max_err, hypot(x - chk[p], y - chk[p + 1]));
  }
  for (size_t p = 0; p < n; p += 2) {
    double x, y;
    eval(fit, src[p], src[p + 1], &x, &y);
    fit->max_err = fmax(fit->max_err, hypot(x - pts[p], y - pts[p + 1]));
  }
  fit->exact = !(fit->max_err <= tolerance);
  return TGIS_OK;
}

tgis_status tgis_merc_apply(tgis_merc *m, const tgis_merc_fit *fit, double *xy, size_t n)
{
  if (fit->exact)
    return trans(m, m->to_merc, 0, xy, n);
  for (size_t i = 0; i < 2 * n; i += 2)
    eval(fit, xy[i], xy[i + 1], &xy[i], &xy[i + 1]);
  return TGIS_OK;
}
