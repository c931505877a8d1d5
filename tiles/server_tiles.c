/*
 * server_tiles.c -- GET /tiles/THEME/Z/X/Y.png (and @2x.png): strict
 * parsing, the cache, and on a miss a render (or an MBTiles read) on a
 * checked-out slot.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server_int.h"

/* A decimal number of 1..8 digits without sign or leading zeros. */
static int parse_uint(const char *p, size_t n, uint32_t *out)
{
  uint32_t v = 0;
  if (n == 0 || n > 8 || (n > 1 && p[0] == '0'))
    return -1;
  for (size_t i = 0; i < n; i++) {
    if (p[i] < '0' || p[i] > '9')
      return -1;
    v = v * 10 + (uint32_t)(p[i] - '0');
  }
  *out = v;
  return 0;
}

typedef struct tile_req {
  char theme[64];
  uint32_t z, x, y;
  int scale;
} tile_req;

/* "THEME/Z/X/Y.png" or "THEME/Z/X/Y@2x.png"; a message on failure. */
static const char *parse_tile_path(const char *p, tile_req *t)
{
  const char *s1 = strchr(p, '/'), *s2, *s3, *end;
  size_t n;

  if (!s1 || (size_t)(s1 - p) >= sizeof t->theme || s1 == p)
    return "want /tiles/THEME/Z/X/Y.png";
  memcpy(t->theme, p, (size_t)(s1 - p));
  t->theme[s1 - p] = '\0';
  for (const char *c = t->theme; *c; c++)
    if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_' || *c == '-'))
      return "bad theme name";
  if (!(s2 = strchr(s1 + 1, '/')) || !(s3 = strchr(s2 + 1, '/')))
    return "want /tiles/THEME/Z/X/Y.png";
  n = strlen(s3 + 1);
  if (n > 7 && strcmp(s3 + 1 + n - 7, "@2x.png") == 0) {
    t->scale = 2;
    end = s3 + 1 + n - 7;
  } else if (n > 4 && strcmp(s3 + 1 + n - 4, ".png") == 0) {
    t->scale = 1;
    end = s3 + 1 + n - 4;
  } else
    return "tiles are .png or @2x.png";
  if (parse_uint(s1 + 1, (size_t)(s2 - s1 - 1), &t->z) ||
      parse_uint(s2 + 1, (size_t)(s3 - s2 - 1), &t->x) ||
      parse_uint(s3 + 1, (size_t)(end - s3 - 1), &t->y))
    return "Z, X and Y must be plain decimal numbers";
  if (t->z > 22)
    return "zoom beyond 22";
  if (t->x >= (1u << t->z) || t->y >= (1u << t->z))
    return "x or y outside the zoom";
  return NULL;
}

void server_tiles_get(tgis_server *s, const char *rest, const char *if_none_match,
                      server_reply *r)
{
  tile_req t;
  tgis_tile_key key;
  const tgis_cached_tile *hit;
  const char *why;
  int theme;

  (void)if_none_match;            /* send_reply compares the ETag */
  if ((why = parse_tile_path(rest, &t))) {
    server_reply_error(r, 400, "/tiles/%.80s: %s", rest, why);
    return;
  }
  theme = server_theme_index(s, t.theme);
  if (s->mb_theme[0] ? strcmp(t.theme, s->mb_theme) != 0 : theme < 0) {
    server_reply_error(r, 404, "no theme '%s'", t.theme);
    return;
  }
  key.theme = (uint16_t)(theme < 0 ? SERVER_MAX_THEMES : theme);
  key.scale = (uint8_t)t.scale;
  key.z = (uint8_t)t.z;
  key.x = t.x;
  key.y = t.y;

  memset(r, 0, sizeof *r);
  r->type = "image/png";
  r->cache_control = "public, max-age=30";
  if (!(hit = tgis_tile_cache_get(s->cache, &key))) {
    uint64_t gen = tgis_tile_cache_generation(s->cache);
    server_slot *slot = server_slot_take(s);
    unsigned char *png = NULL;
    size_t len = 0;
    tgis_status st;
    if (slot->mb) {
      st = t.scale == 1 ? tgis_mbtiles_get(slot->mb, (int)t.z, (int)t.x, (int)t.y, &png, &len)
                        : TGIS_ENOTFOUND;
    } else
      st = tgis_tiles_render(slot->tiles, t.theme, (int)t.z, (int)t.x, (int)t.y, t.scale, &png,
                             &len);
    if (st != TGIS_OK) {
      if (st == TGIS_ENOTFOUND)
        server_reply_error(r, 404, "tile %u/%u/%u not in the tile set", t.z, t.x, t.y);
      else
        server_reply_error(r, 500, "tile %u/%u/%u: %s", t.z, t.x, t.y, tgis_errmsg(slot->ctx));
      server_slot_give(s, slot);
      return;
    }
    hit = tgis_tile_cache_put(s->cache, &key, gen, png, len);
    if (!hit) {                   /* not cached: send our own copy */
      r->status = 200;
      r->body = malloc(len ? len : 1);
      if (r->body)
        memcpy(r->body, png, len);
      r->len = r->body ? len : 0;
      tgis_tile_etag(r->etag, png, len);
    }
    tgis_free(slot->ctx, png);
    server_slot_give(s, slot);
    if (!hit) {
      if (!r->body)
        server_reply_error(r, 500, "out of memory");
      return;
    }
  }
  r->status = 200;
  r->tile = hit;
  r->body = hit->png;
  r->len = hit->len;
  memcpy(r->etag, hit->etag, sizeof r->etag);
}
