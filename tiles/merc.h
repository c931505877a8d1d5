/*
 * merc.h -- from the database CRS to Web Mercator and back, fast enough to
 * run per tile.
 *
 * Geometries are stored once, in the database's metric CRS (EPSG:32642 by
 * default). A tile needs them in Web Mercator. Instead of a second copy of
 * every layer in EPSG:3857 (kept in sync with every import), a tile query
 * fits, over the small window it reads, a quadratic polynomial to PROJ's
 * exact transformation and applies that to the vertices: twelve
 * multiply-adds a point instead of a PROJ call. Over a window of a few
 * kilometres the polynomial is exact to millimetres; the fit is checked
 * against PROJ at points it was not fitted on, and a window where it is not
 * within the caller's tolerance is transformed point by point by PROJ.
 *
 * A tgis_merc belongs to one context and thread, like the context.
 */
#ifndef TGIS_TILES_MERC_H
#define TGIS_TILES_MERC_H

#include <stddef.h>

#include "tgis.h"

typedef struct tgis_merc {
  tgis_ctx *ctx;
  int srid;                  /* the database CRS */
  void *to_merc;             /* PJ *: database CRS -> EPSG:3857 */
  void *to_lonlat;           /* PJ *: database CRS -> EPSG:4326 (lon, lat) */
} tgis_merc;

/** A transformation fitted over one window. */
typedef struct tgis_merc_fit {
  double cx, cy, inv_s;      /* normalisation: u = (x - cx) * inv_s */
  double ax[6], ay[6];       /* x' = a0 + a1 u + a2 v + a3 u^2 + a4 uv + a5 v^2 */
  int exact;                 /* the fit was not good enough: use PROJ */
  double max_err;            /* metres (EPSG:3857) at the check points */
} tgis_merc_fit;

/**
 * Prepare the transformations of a database in CRS `srid`.
 * @return TGIS_OK, TGIS_EPROJ (unknown CRS; message in ctx).
 */
tgis_status tgis_merc_open(tgis_merc *m, tgis_ctx *ctx, int srid);

/** Release what tgis_merc_open() made. Safe on a zeroed struct. */
void tgis_merc_close(tgis_merc *m);

/**
 * The window of the database CRS that covers `box` (EPSG:3857): the box's
 * edges are transformed at several points each, so a curved image of an
 * edge is still inside.
 * @return TGIS_OK or TGIS_EPROJ.
 */
tgis_status tgis_merc_window(tgis_merc *m, const tgis_extent *box, tgis_extent *native);

/**
 * Fit the transformation over `native` (database CRS) and check it:
 * `tolerance` metres of EPSG:3857 is the error allowed (a fraction of a
 * pixel); beyond it `fit->exact` is set.
 * @return TGIS_OK or TGIS_EPROJ.
 */
tgis_status tgis_merc_fit_window(tgis_merc *m, const tgis_extent *native, double tolerance,
                                 tgis_merc_fit *fit);

/**
 * Transform n points in place (x0, y0, x1, y1, ...) from the database CRS
 * to EPSG:3857 with `fit`, or through PROJ when it is exact.
 * @return TGIS_OK or TGIS_EPROJ.
 */
tgis_status tgis_merc_apply(tgis_merc *m, const tgis_merc_fit *fit, double *xy, size_t n);

/**
 * Exact transformations of n points in place, through PROJ: database CRS to
 * Web Mercator (`inverse` 0) or back (1).
 */
tgis_status tgis_merc_points(tgis_merc *m, int inverse, double *xy, size_t n);

/** The same between the database CRS and longitude/latitude (degrees). */
tgis_status tgis_merc_lonlat(tgis_merc *m, int inverse, double *xy, size_t n);

#endif /* TGIS_TILES_MERC_H */
