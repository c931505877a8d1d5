/*
 * wkb.c -- fuzz the importer's geometry reader, tgis_src__geometry(),
 * through OGR: arbitrary bytes go to OGR_G_CreateFromWkb(), and a geometry
 * OGR accepts is read with each wanted dimension (0 points, 1 lines,
 * 2 polygons). tgis_src__geometry() re-exports it as ISO WKB (linearising
 * curves) and parses that with its own reader, the code under test.
 */
#include <stdint.h>
#include <string.h>

#include <cpl_error.h>
#include <ogr_api.h>

#include "fuzz_ctx.h"
#include "geom.h"
#include "import_int.h"

/* Curves linearised from arbitrary arcs can be huge; inputs beyond this are
 * not interesting to the parser and only slow the fuzzer. */
#define WKB_MAX_INPUT (64 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static int quiet;
  tgis_ctx *ctx = fuzz_ctx();
  OGRGeometryH geom = NULL;
  unsigned char *wkb = NULL;
  size_t wkb_cap = 0;
  tgis_geombuf g;

  if (size > WKB_MAX_INPUT)
    return 0;
  if (!quiet) {                  /* OGR's complaints about bad WKB: noise */
    CPLSetErrorHandler(CPLQuietErrorHandler);
    quiet = 1;
  }
  if (OGR_G_CreateFromWkb(data, NULL, &geom, (int)size) != OGRERR_NONE || !geom) {
    if (geom)
      OGR_G_DestroyGeometry(geom);
    return 0;
  }
  tgis_geombuf_init(&g, ctx);
  for (int want = 0; want <= 2; want++) {
    tgis_src_shape info;
    tgis_status st = tgis_src__geometry(&g, ctx, geom, want, &info, &wkb, &wkb_cap);
    FUZZ_CHECK(st == TGIS_OK || st == TGIS_EPARSE || st == TGIS_ENOTSUP);
    if (st == TGIS_OK) {
      FUZZ_CHECK((info.dims_seen & ~7u) == 0);
      FUZZ_CHECK(info.n_dropped >= 0);
      /* Parts and polygons add up to the points collected. */
      {
        size_t pts = 0, parts = 0;
        for (size_t i = 0; i < g.n_parts; i++)
          pts += g.parts[i];
        for (size_t i = 0; i < g.n_polys; i++)
          parts += g.polys[i];
        FUZZ_CHECK(want == 0 || pts == g.n_points);
        FUZZ_CHECK(want != 2 || parts == g.n_parts);
      }
    }
  }
  tgis_geombuf_free(&g);
  tgis__free(ctx, wkb);
  OGR_G_DestroyGeometry(geom);
  return 0;
}
