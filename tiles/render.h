/*
 * render.h -- drawing one map tile from a style and a feature source.
 *
 * Tiles follow the XYZ scheme in Web Mercator (EPSG:3857): tile (0, 0) is
 * the north-west corner, each is 256x256 pixels, or 512x512 at scale 2 with
 * the same map content. A render queries the source around the tile, draws
 * with Cairo (anti-aliased) and places labels so that a label crossing a
 * tile edge is drawn the same way in both tiles.
 *
 * A tgis_render_scratch holds what one render needs (the Cairo surface,
 * coordinate and label buffers) and is reused from tile to tile; it belongs
 * to one thread. The style and the source are shared read-only.
 */
#ifndef TGIS_TILES_RENDER_H
#define TGIS_TILES_RENDER_H

#include <stddef.h>
#include <stdint.h>

#include "tgis.h"
#include "style.h"
#include "source.h"
#include "png_tile.h"

/** Tile size in pixels at scale 1. */
#define TGIS_TILE_SIZE 256
/** Half the width of the Web Mercator world, metres. */
#define TGIS_MERC_HALF 20037508.342789244
/** Widest gutter a render may draw around its tile, pixels at scale 1. */
#define TGIS_RENDER_MAX_GUTTER 256

typedef struct tgis_render_scratch tgis_render_scratch;

/** Options of a render; initialise with TGIS_RENDER_OPTIONS_INIT. */
typedef struct tgis_render_options {
  unsigned int version;   /**< TGIS_RENDER_OPTIONS_VERSION */
  int scale;              /**< 1, or 2 for @2x tiles */
  int gutter;             /**< pixels (at scale 1) drawn beyond each tile
                               edge, 0 to TGIS_RENDER_MAX_GUTTER: for
                               metatiles and for comparing neighbours */
} tgis_render_options;

#define TGIS_RENDER_OPTIONS_VERSION 1
#define TGIS_RENDER_OPTIONS_INIT { TGIS_RENDER_OPTIONS_VERSION, 1, 0 }

/** Where the time of the last render went (CPU time of the rendering
 *  thread), and what it drew. */
typedef struct tgis_render_stats {
  double query_ms;        /**< source queries and preparing geometry */
  double draw_ms;         /**< Cairo: fills, strokes, symbols */
  double label_ms;        /**< label placement and text */
  double convert_ms;      /**< premultiplied ARGB -> RGBA */
  double encode_ms;       /**< PNG, for tgis_render_tile_png() */
  size_t features;        /**< features the source emitted */
  size_t drawn;           /**< feature/layer pairs drawn */
  size_t label_candidates;
  size_t labels;          /**< labels drawn */
  tgis_png_info png;      /**< what tgis_render_tile_png() wrote */
} tgis_render_stats;

/**
 * Create a scratch for renders on one thread.
 * @param[out] out  freed with tgis_render_scratch_free()
 * @param ctx       errors and allocations of renders with this scratch;
 *                  must outlive it
 * @return TGIS_OK or TGIS_ENOMEM.
 */
tgis_status tgis_render_scratch_new(tgis_render_scratch **out, tgis_ctx *ctx);

/** Free a scratch. If r is NULL nothing occurs. */
void tgis_render_scratch_free(tgis_render_scratch *r);

/** Figures of the last render on `r`. Borrowed from r. */
const tgis_render_stats *tgis_render_last_stats(const tgis_render_scratch *r);

/**
 * Web Mercator bounds of tile z/x/y (XYZ scheme), metres.
 * @return TGIS_OK or TGIS_EINVAL (z outside 0..22, x or y outside the zoom).
 */
tgis_status tgis_render_tile_bounds(tgis_extent *out, int z, int x, int y);

/**
 * Render tile z/x/y.
 *
 * @param[out] out  the image: (256 + 2 * gutter) * scale pixels a side.
 *                  Its pixels belong to `r` and stay valid until the next
 *                  render on it.
 * @param r         the scratch; its context receives the error message
 * @param style     the theme; NULL is refused with TGIS_EINVAL
 * @param src       the features
 * @param opts      NULL for TGIS_RENDER_OPTIONS_INIT
 * @return TGIS_OK; TGIS_EINVAL (no style, z > 22, x/y outside the zoom, bad
 *         scale or gutter); TGIS_ENOMEM; any status the source returns.
 */
tgis_status tgis_render_tile(tgis_image *out, tgis_render_scratch *r, const tgis_style *style,
                             const tgis_tile_source *src, int z, int x, int y,
                             const tgis_render_options *opts);

/**
 * Render tile z/x/y and encode it as PNG.
 * @param[out] png      the file's bytes, owned by the caller, freed with
 *                      tgis_png_free(ctx, *png)
 * @param[out] png_len  their number
 * @param popts         NULL for TGIS_PNG_OPTIONS_INIT
 * @return as tgis_render_tile(), and TGIS_EIO when libpng fails.
 */
tgis_status tgis_render_tile_png(uint8_t **png, size_t *png_len, tgis_render_scratch *r,
                                 const tgis_style *style, const tgis_tile_source *src,
                                 int z, int x, int y, const tgis_render_options *opts,
                                 const tgis_png_options *popts);

#endif /* TGIS_TILES_RENDER_H */
