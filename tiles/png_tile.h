/*
 * png_tile.h -- PNG encoding of rendered tiles, tuned for speed and size.
 *
 * Encoding dominates the time of a simple tile, so the encoder picks its
 * settings for map tiles: a fast zlib level (2), no row filter for palette
 * images, and an 8-bit (or smaller) palette whenever the tile has at most
 * 256 colours, or its colours reduce to 256 without a visible change.
 */
#ifndef TGIS_TILES_PNG_TILE_H
#define TGIS_TILES_PNG_TILE_H

#include <stddef.h>
#include <stdint.h>

#include "tgis.h"

/** An image, straight (not premultiplied) 8-bit RGBA, rows top down. */
typedef struct tgis_image {
  int width, height;
  size_t stride;          /**< bytes per row */
  uint8_t *rgba;
} tgis_image;

typedef enum tgis_png_palette {
  TGIS_PNG_PALETTE_AUTO = 0,   /**< exact palette when <= 256 colours, else
                                    a quantised one if it keeps min_psnr */
  TGIS_PNG_PALETTE_EXACT,      /**< palette only when <= 256 colours */
  TGIS_PNG_PALETTE_NEVER       /**< always truecolour */
} tgis_png_palette;

typedef enum tgis_png_filter {
  TGIS_PNG_FILTER_AUTO = 0,    /**< none for palettes, sub for truecolour */
  TGIS_PNG_FILTER_NONE,
  TGIS_PNG_FILTER_SUB,
  TGIS_PNG_FILTER_UP,
  TGIS_PNG_FILTER_PAETH,
  TGIS_PNG_FILTER_ALL          /**< libpng's per-row heuristic (slow) */
} tgis_png_filter;

typedef enum tgis_png_strategy {
  TGIS_PNG_STRATEGY_DEFAULT = 0,  /**< zlib's default (filtered for RGB) */
  TGIS_PNG_STRATEGY_RLE           /**< Z_RLE: runs only, fastest */
} tgis_png_strategy;

/** Encoder settings; initialise with TGIS_PNG_OPTIONS_INIT. */
typedef struct tgis_png_options {
  unsigned int version;        /**< TGIS_PNG_OPTIONS_VERSION */
  int level;                   /**< zlib level 0..9 */
  tgis_png_filter filter;
  tgis_png_palette palette;
  double min_psnr;             /**< dB a quantised palette must keep */
  tgis_png_strategy strategy;
} tgis_png_options;

#define TGIS_PNG_OPTIONS_VERSION 1
#define TGIS_PNG_OPTIONS_INIT \
  { TGIS_PNG_OPTIONS_VERSION, 2, TGIS_PNG_FILTER_AUTO, TGIS_PNG_PALETTE_AUTO, 42.0, \
    TGIS_PNG_STRATEGY_DEFAULT }

/** What the encoder chose. */
typedef struct tgis_png_info {
  int palette;                 /**< 1 if written with a palette */
  int quantised;               /**< 1 if that palette is not exact */
  int colours;                 /**< palette entries, 0 for truecolour */
  int bit_depth;               /**< 1, 2, 4 or 8 */
  double psnr;                 /**< of a quantised palette, dB; else inf */
} tgis_png_info;

/**
 * Encode an image as PNG in memory.
 * @param[out] out      the bytes, owned by the caller: tgis_png_free()
 * @param[out] out_len  their number
 * @param info          what was chosen; may be NULL
 * @return TGIS_OK, TGIS_EINVAL (bad options or size), TGIS_ENOMEM,
 *         TGIS_EIO (libpng failed; the message says why).
 */
tgis_status tgis_png_encode(uint8_t **out, size_t *out_len, tgis_ctx *ctx, const tgis_image *img,
                            const tgis_png_options *opts, tgis_png_info *info);

/**
 * Decode a PNG into straight RGBA (for tests and tools).
 * @param[out] out  rgba owned by the caller: tgis_png_free(ctx, out->rgba)
 * @return TGIS_OK, TGIS_EPARSE (not a PNG), TGIS_ENOMEM.
 */
tgis_status tgis_png_decode(tgis_image *out, tgis_ctx *ctx, const uint8_t *png, size_t len);

/**
 * Module-internal: encode Cairo's premultiplied native-endian ARGB32
 * pixels directly, as tgis_png_encode() does RGBA (the renderer's PNG path
 * skips converting every pixel).
 */
tgis_status tgis_png__encode_argb(uint8_t **out, size_t *out_len, tgis_ctx *ctx,
                                  const uint8_t *argb, size_t stride, int w, int h,
                                  const tgis_png_options *opts, tgis_png_info *info);

/** Module-internal: premultiplied ARGB32 rows into straight RGBA rows. */
void tgis_png__argb_to_rgba(uint8_t *dst, size_t dst_stride, const uint8_t *src,
                            size_t src_stride, int w, int h);

/** Free memory returned by this module. If p is NULL nothing occurs. */
void tgis_png_free(tgis_ctx *ctx, void *p);

#endif /* TGIS_TILES_PNG_TILE_H */
