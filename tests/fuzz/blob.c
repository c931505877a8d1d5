/*
 * blob.c -- fuzz tgis_sl__blob_decode(), the SpatiaLite BLOB-Geometry
 * reader, with arbitrary bytes.
 *
 * A blob that decodes is encoded again with tgis_sl__blob_encode() and the
 * result decoded once more: the second decode must succeed and give the
 * same type, SRID, structure and coordinate bits (Z and M are dropped by
 * the first decode, so the comparison is between the two decoded forms).
 */
#include <stdint.h>
#include <string.h>

#include "fuzz_ctx.h"
#include "geom.h"
#include "store_spatialite_int.h"

static int same(const tgis_geombuf *a, const tgis_geombuf *b)
{
  return a->type == b->type && a->n_points == b->n_points && a->n_parts == b->n_parts &&
         a->n_polys == b->n_polys &&
         (!a->n_points || !memcmp(a->xy, b->xy, a->n_points * 2 * sizeof(double))) &&
         (!a->n_parts || !memcmp(a->parts, b->parts, a->n_parts * sizeof(uint32_t))) &&
         (!a->n_polys || !memcmp(a->polys, b->polys, a->n_polys * sizeof(uint32_t)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  tgis_ctx *ctx = fuzz_ctx();
  tgis_geombuf g, g2;
  unsigned char *blob = malloc(size ? size : 1);
  int srid = 0, srid2 = 0;

  if (!blob)
    return 0;
  memcpy(blob, data, size);   /* exactly `size` bytes: overreads are caught */
  tgis_geombuf_init(&g, ctx);
  tgis_geombuf_init(&g2, ctx);
  if (tgis_sl__blob_decode(&g, blob, size, &srid) == TGIS_OK) {
    size_t n = tgis_sl__blob_size(&g), written;
    unsigned char *again;
    FUZZ_CHECK(g.type >= TGIS_GEOM_POINT && g.type <= TGIS_GEOM_MULTIPOLYGON);
    FUZZ_CHECK(n > 0);
    again = malloc(n);
    if (again) {
      written = tgis_sl__blob_encode(again, &g, srid);
      FUZZ_CHECK(written == n);
      FUZZ_CHECK(tgis_sl__blob_decode(&g2, again, written, &srid2) == TGIS_OK);
      FUZZ_CHECK(srid2 == srid);
      FUZZ_CHECK(same(&g, &g2));
      free(again);
    }
  }
  /* Decoding without asking for the SRID is allowed too. */
  (void)tgis_sl__blob_decode(&g2, blob, size, NULL);
  tgis_geombuf_free(&g);
  tgis_geombuf_free(&g2);
  free(blob);
  return 0;
}
