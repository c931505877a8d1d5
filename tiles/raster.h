/*
 * raster.h -- exact-area scanline rasteriser for fills and wide strokes.
 *
 * The renderer's polygons (parcels by the thousand) and wide strokes (road
 * casings and fills) go through this instead of Cairo, which costs several
 * times as much for them (tiles/bench_render, callgrind): Cairo's default
 * rasteriser samples 15 sub-rows per pixel row, while this one computes,
 * for every pixel an edge crosses, the exact area the edge leaves covered
 * (FreeType's and AGG's cell method, in 24.8 fixed point), so fills are
 * both cheaper and exact. Between cells of a row the coverage is constant:
 * solid runs are written as runs.
 *
 * Use: tgis_raster_begin() for the surface size, then edges from
 * tgis_raster_ring() (a polygon ring; shells one way round, holes the
 * other) or tgis_raster_stroke() (a line or ring widened into pieces), then
 * tgis_raster_paint() composites everything added since begin in one
 * colour, nonzero winding: overlapping pieces are painted once, so a
 * semi-transparent stroke does not darken where its pieces overlap.
 *
 * A tgis_raster belongs to one thread; it keeps its buffers between
 * paints.
 */
#ifndef TGIS_TILES_RASTER_H
#define TGIS_TILES_RASTER_H

#include <stddef.h>
#include <stdint.h>

#include "tgis.h"
#include "style.h"

typedef struct tgis_raster tgis_raster;

/**
 * Create a rasteriser.
 * @param[out] out  freed with tgis_raster_free()
 * @param ctx       allocations; must outlive the rasteriser
 * @return TGIS_OK or TGIS_ENOMEM.
 */
tgis_status tgis_raster_new(tgis_raster **out, tgis_ctx *ctx);

/** Free the rasteriser. If ra is NULL nothing occurs. */
void tgis_raster_free(tgis_raster *ra);

/**
 * Start a new shape for a w x h surface (pixels), dropping any edges not
 * painted. The rasteriser keeps a coverage cell per pixel (8 bytes): a new
 * size allocates.
 * @return TGIS_OK, TGIS_EINVAL (w or h negative or above
 *         TGIS_RASTER_MAX_SIDE), TGIS_ENOMEM.
 */
tgis_status tgis_raster_begin(tgis_raster *ra, int w, int h);

/** Largest surface side tgis_raster_begin() takes. */
#define TGIS_RASTER_MAX_SIDE 4096

/**
 * Add a closed polygon ring of n points (x, y pairs, pixels, y down; the
 * closing edge is implied). Edges outside the surface cost nearly nothing.
 * A ring with a non-finite coordinate is left out whole.
 */
void tgis_raster_ring(tgis_raster *ra, const double *xy, size_t n);

/** How a stroke is widened: the style's join and cap, the miter limit as
 *  Cairo's (ratio of miter length to width), flattening tolerance in px. */
typedef struct tgis_raster_pen {
  double width;
  tgis_line_join join;
  tgis_line_cap cap;
  double miter_limit;
  double tolerance;
} tgis_raster_pen;

/**
 * Add the area a pen of `pen->width` covers along a line of n points
 * (closed: a ring, joined all round, no caps). The area is made of one
 * quadrilateral per segment, the outer side of each join and the caps, all
 * one way round, so the nonzero paint covers their union. Zero-length
 * segments are skipped; a line with a non-finite point is left out whole.
 */
void tgis_raster_stroke(tgis_raster *ra, const double *xy, size_t n, int closed,
                        const tgis_raster_pen *pen);

/**
 * Composite `colour` (straight alpha) OVER premultiplied ARGB32 pixels
 * (Cairo's CAIRO_FORMAT_ARGB32: native-endian 0xAARRGGBB, `stride` bytes a
 * row, the size given to begin) with the coverage of everything added
 * since begin (nonzero winding), then start over with no edges.
 */
void tgis_raster_paint(tgis_raster *ra, uint8_t *argb, int stride, tgis_rgba colour);

/**
 * Write the coverage (0..255) of everything added since begin into an
 * 8-bit mask (`stride` bytes a row, the size given to begin), keeping the
 * larger of it and what the mask holds, then start over with no edges.
 */
void tgis_raster_paint_mask(tgis_raster *ra, uint8_t *mask, int stride);

/* ---- premultiplied pixel arithmetic, shared with the renderer ----------- */

/** a * b / 255 rounded, for two 8-bit lanes at once (bits 0-7 and 16-23 of
 *  `lanes`), b 0..255: the same as (a * b + 127) / 255 in each lane, as
 *  t = a * b + 128 stays below 2^16 and (t + (t >> 8)) >> 8 rounds alike. */
static inline uint32_t tgis_mul_div255_2x(uint32_t lanes, uint32_t b)
{
  uint32_t t = lanes * b + 0x00800080u;
  return ((t + ((t >> 8) & 0x00ff00ffu)) >> 8) & 0x00ff00ffu;
}

/**
 * Coverage 0..255 kept in 33 levels (multiples of 8, and 255): a step of
 * 1.6 % is below what an 8-bit palette tile keeps anyway, while the fewer
 * distinct edge colours make tiles about 14 % smaller and their PNG
 * encoding as much cheaper (bench_tiles).
 */
static inline uint32_t tgis_coverage_level(uint32_t c)
{
  return c >= 252 ? 255 : (c + 4) & ~7u;
}

/** `colour` (straight alpha) as a premultiplied 0xAARRGGBB pixel. */
static inline uint32_t tgis_premultiply(tgis_rgba colour)
{
  uint32_t a = colour.a;
  return a << 24 | ((colour.r * a + 127) / 255) << 16 | ((colour.g * a + 127) / 255) << 8 |
         (colour.b * a + 127) / 255;
}

/** Premultiplied `src` scaled by coverage c (0..255). */
static inline uint32_t tgis_scale(uint32_t src, uint32_t c)
{
  return tgis_mul_div255_2x(src & 0x00ff00ffu, c) |
         tgis_mul_div255_2x((src >> 8) & 0x00ff00ffu, c) << 8;
}

/** Source pixel `src` (premultiplied 0xAARRGGBB) OVER `dst`. */
static inline uint32_t tgis_over(uint32_t src, uint32_t dst)
{
  uint32_t inv = 255 - (src >> 24);
  uint32_t rb = (src & 0x00ff00ffu) + tgis_mul_div255_2x(dst & 0x00ff00ffu, inv);
  uint32_t ag = ((src >> 8) & 0x00ff00ffu) + tgis_mul_div255_2x((dst >> 8) & 0x00ff00ffu, inv);
  return rb | ag << 8;   /* no lane overflows: a channel stays within its alpha */
}

#endif /* TGIS_TILES_RASTER_H */
