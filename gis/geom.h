/*
 * geom.h -- geometry as plain arrays of doubles (module-to-module).
 *
 * The hot paths of tgis (importing a million parcels, drawing a tile,
 * building a road graph) never make a GEOS or OGR object per feature; they
 * read and write coordinates in a tgis_geombuf. GEOS is used where its
 * topology is needed (validity, repair, overlay) through the converters
 * below.
 *
 * Layout: all points in xy[0..2*n_points); `parts` holds the number of
 * points of each ring (polygons) or line (linestrings); `polys` holds the
 * number of rings of each polygon (first ring the shell). A POINT has one
 * point and no parts; a LINESTRING one part; a MULTIPOLYGON n_polys polygons.
 * A buffer is reused across features: reset keeps its memory.
 */
#ifndef TGIS_GEOM_H
#define TGIS_GEOM_H

#include <stddef.h>
#include <stdint.h>

#include "tgis.h"

/* OGC simple-feature type codes (as in WKB). */
typedef enum tgis_geom_type {
  TGIS_GEOM_NONE = 0,
  TGIS_GEOM_POINT = 1,
  TGIS_GEOM_LINESTRING = 2,
  TGIS_GEOM_POLYGON = 3,
  TGIS_GEOM_MULTIPOINT = 4,
  TGIS_GEOM_MULTILINESTRING = 5,
  TGIS_GEOM_MULTIPOLYGON = 6
} tgis_geom_type;

typedef struct tgis_geombuf {
  tgis_geom_type type;
  double *xy;            /* 2 * n_points doubles */
  size_t n_points, cap_points;
  uint32_t *parts;       /* points per ring / line */
  size_t n_parts, cap_parts;
  uint32_t *polys;       /* rings per polygon */
  size_t n_polys, cap_polys;
  tgis_ctx *ctx;         /* allocator */
} tgis_geombuf;

/** Start an empty buffer that allocates through ctx. */
void tgis_geombuf_init(tgis_geombuf *g, tgis_ctx *ctx);
/** Empty it for the next feature, keeping its memory. */
void tgis_geombuf_reset(tgis_geombuf *g, tgis_geom_type type);
/** Free its memory. If g is NULL nothing occurs. */
void tgis_geombuf_free(tgis_geombuf *g);

/** Append a point to the current part. TGIS_ENOMEM on failure. */
tgis_status tgis_geombuf_add_point(tgis_geombuf *g, double x, double y);
/** Close the current part: the points added since the last part. */
tgis_status tgis_geombuf_end_part(tgis_geombuf *g);
/** Close the current polygon: the parts added since the last polygon. */
tgis_status tgis_geombuf_end_poly(tgis_geombuf *g);
/** Copy src into dst (same ctx). */
tgis_status tgis_geombuf_copy(tgis_geombuf *dst, const tgis_geombuf *src);

/** Bounding box of all points; zeros for an empty buffer. */
tgis_extent tgis_geombuf_extent(const tgis_geombuf *g);
/** Is there nothing in it (no points)? */
int tgis_geombuf_is_empty(const tgis_geombuf *g);
/** Area of polygons (shells minus holes, planar); 0 for other types. */
double tgis_geombuf_area(const tgis_geombuf *g);
/** Planar length of lines and ring perimeters. */
double tgis_geombuf_length(const tgis_geombuf *g);

/**
 * Validity of a polygon or multipolygon by a fast exact test that needs no
 * GEOS: returns 1 if every ring is closed, has at least 4 points, no zero
 * area and no self-touching or crossing segments, and the geometry is a
 * single polygon without holes (the common parcel). Returns 0 when it
 * cannot decide (holes, several polygons, many vertices) or sees a fault:
 * ask GEOS then. Never says "valid" for what GEOS calls invalid.
 */
int tgis_geombuf_simple_polygon_valid(const tgis_geombuf *g);

#endif /* TGIS_GEOM_H */

/* ---- GEOS converters (geom_geos.c) --------------------------------------- */

struct GEOSGeom_t;

/**
 * Build a GEOS geometry (GEOSGeometry *) of g with the context's handle.
 * @param[out] out  owned by the caller: GEOSGeom_destroy_r(tgis__geos(ctx), *out)
 * @return TGIS_OK, TGIS_ENOMEM, TGIS_EGEOS (e.g. a ring of too few points)
 */
tgis_status tgis_geom__to_geos(struct GEOSGeom_t **out, tgis_ctx *ctx,
                               const tgis_geombuf *g);

/**
 * Read a GEOS geometry into g (reset first). Collections are flattened into
 * the multi type of `want` (TGIS_GEOM_MULTIPOLYGON keeps only polygonal
 * parts, TGIS_GEOM_LINESTRING/MULTILINESTRING only lines, POINT points);
 * the number of parts of other dimensions that were dropped goes to
 * *dropped (may be NULL).
 */
tgis_status tgis_geom__from_geos(tgis_geombuf *g, tgis_ctx *ctx,
                                 const struct GEOSGeom_t *geom,
                                 tgis_geom_type want, int *dropped);
