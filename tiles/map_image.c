/*
 * map_image.c -- one picture of an area for a report: the tiles of the
 * zoom that fits it into the asked size, rendered theme over theme and
 * cut to the area.
 */
#include <math.h>
#include <string.h>

#include "tgis_int.h"
#include "png_tile.h"
#include "tiles_int.h"

#define MAX_TILES_A_SIDE 16

/* Straight-alpha "over": src drawn on dst. */
static void blend_over(uint8_t *d, const uint8_t *s)
{
  unsigned sa = s[3], da = d[3];
  if (sa == 255 || da == 0) {
    if (sa)
      memcpy(d, s, 4);
    return;
  }
  if (sa == 0)
    return;
  double a = sa / 255.0, b = da / 255.0 * (1 - a), oa = a + b;
  for (int c = 0; c < 3; c++)
    d[c] = (uint8_t)lround((s[c] * a + d[c] * b) / oa);
  d[3] = (uint8_t)lround(oa * 255);
}

tgis_status tgis_tiles_map_image(tgis_tiles *t, const char *const *themes, size_t n_themes,
                                 const tgis_extent *box, int max_px,
                                 unsigned char **png, size_t *png_len)
{
  tgis_ctx *ctx = tgis_tiles__ctx(t);
  tgis_merc *merc = tgis_source_db_merc(tgis_tiles__source(t));
  tgis_extent area, m;
  tgis_image img = { 0, 0, 0, NULL };
  tgis_status st;
  double xy[8];
  int z;

  *png = NULL;
  *png_len = 0;
  if (max_px < 16 || max_px > 4096)
    return tgis__fail(ctx, TGIS_EINVAL, "map image of %d px: must be 16 to 4096", max_px);
  for (size_t i = 0; i < n_themes; i++)
    if (!tgis_tiles__theme(t, themes[i]))
      return tgis__fail(ctx, TGIS_ENOTFOUND, "no theme '%s'", themes[i]);
  if (box)
    area = *box;
  else {
    tgis_layer_info li;
    if ((st = tgis_layer_info_get(&li, ctx, TGIS_LAYER_PARCELS)) != TGIS_OK)
      return st;
    if (li.count == 0)
      return tgis__fail(ctx, TGIS_EINVAL, "map image: no parcels to frame");
    area = li.extent;
  }
  xy[0] = area.minx; xy[1] = area.miny;
  xy[2] = area.maxx; xy[3] = area.miny;
  xy[4] = area.maxx; xy[5] = area.maxy;
  xy[6] = area.minx; xy[7] = area.maxy;
  if ((st = tgis_merc_points(merc, 0, xy, 4)) != TGIS_OK)
    return st;
  m.minx = fmin(xy[0], xy[6]);
  m.maxx = fmax(xy[2], xy[4]);
  m.miny = fmin(xy[1], xy[3]);
  m.maxy = fmax(xy[5], xy[7]);
  double span = fmax(m.maxx - m.minx, m.maxy - m.miny);
  if (!(span > 0))
    return tgis__fail(ctx, TGIS_EINVAL, "map image: the area is empty");

  /* The deepest zoom whose pixels fit the area into max_px, and whose
   * tiles stay a handful. */
  for (z = 19; z > 0; z--) {
    double res = 2 * TGIS_MERC_HALF / (TGIS_TILE_SIZE * (double)(1 << z));
    if (span / res <= max_px)
      break;
  }
  double res = 2 * TGIS_MERC_HALF / (TGIS_TILE_SIZE * (double)(1 << z));
  int n = 1 << z;
  int tx0 = (int)floor((m.minx + TGIS_MERC_HALF) / (TGIS_TILE_SIZE * res));
  int tx1 = (int)floor((m.maxx + TGIS_MERC_HALF) / (TGIS_TILE_SIZE * res));
  int ty0 = (int)floor((TGIS_MERC_HALF - m.maxy) / (TGIS_TILE_SIZE * res));
  int ty1 = (int)floor((TGIS_MERC_HALF - m.miny) / (TGIS_TILE_SIZE * res));
  tx0 = tx0 < 0 ? 0 : tx0;
  ty0 = ty0 < 0 ? 0 : ty0;
  tx1 = tx1 >= n ? n - 1 : tx1;
  ty1 = ty1 >= n ? n - 1 : ty1;
  if (tx1 - tx0 >= MAX_TILES_A_SIDE || ty1 - ty0 >= MAX_TILES_A_SIDE)
    return tgis__fail(ctx, TGIS_EINVAL, "map image: area too large");

  /* Pixel window of the area within the mosaic. */
  double ox = -TGIS_MERC_HALF + tx0 * TGIS_TILE_SIZE * res;
  double oy = TGIS_MERC_HALF - ty0 * TGIS_TILE_SIZE * res;
  int px0 = (int)floor((m.minx - ox) / res), py0 = (int)floor((oy - m.maxy) / res);
  img.width = (int)ceil((m.maxx - ox) / res) - px0;
  img.height = (int)ceil((oy - m.miny) / res) - py0;
  img.stride = (size_t)img.width * 4;
  if (!(img.rgba = tgis__calloc(ctx, (size_t)img.height, img.stride)))
    return TGIS_ENOMEM;

  for (size_t k = 0; k < n_themes; k++) {
    tgis_tile_source src = tgis_source_db_source(tgis_tiles__source(t));
    const tgis_style *style = tgis_tiles__theme(t, themes[k]);
    for (int ty = ty0; ty <= ty1; ty++)
      for (int tx = tx0; tx <= tx1; tx++) {
        tgis_image tile;
        if ((st = tgis_render_tile(&tile, tgis_tiles__scratch(t), style, &src, z, tx, ty,
                                   NULL)) != TGIS_OK)
          goto done;
        for (int r = 0; r < tile.height; r++) {
          int y = (ty - ty0) * TGIS_TILE_SIZE + r - py0;
          if (y < 0 || y >= img.height)
            continue;
          for (int c = 0; c < tile.width; c++) {
            int x = (tx - tx0) * TGIS_TILE_SIZE + c - px0;
            if (x >= 0 && x < img.width)
              blend_over(img.rgba + (size_t)y * img.stride + 4 * (size_t)x,
                         tile.rgba + (size_t)r * tile.stride + 4 * (size_t)c);
          }
        }
      }
  }
  st = tgis_png_encode(png, png_len, ctx, &img, NULL, NULL);
done:
  tgis__free(ctx, img.rgba);
  return st;
}
