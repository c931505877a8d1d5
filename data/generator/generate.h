/*
 * generate.h -- the deterministic synthetic city generator behind
 * `tgis generate`.
 *
 * tgis_generate() writes a Tashkent-like city as a GeoPackage in EPSG:4326:
 * the twelve real district boundaries, a street lattice with ring roads,
 * radial arterials and bridges, parcels with owners and residents, four
 * utility networks, polyclinics and schools, and a known set of injected
 * defects. Next to it goes a JSON manifest that records the exact feature
 * counts, residents and every defect (layer, fid, kind, field), so that
 * importers and analytics can be checked against it.
 *
 * The same seed and scale always give byte-identical GeoPackage and
 * manifest files. The generator keeps no global state: two threads may
 * generate at the same time with two contexts.
 */
#ifndef TGIS_GENERATE_H
#define TGIS_GENERATE_H

#include <stdint.h>

#include "tgis.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Version of the generator's output; recorded in the manifest. */
#define TGIS_GEN_VERSION 1

/**
 * Progress of a running generation.
 *
 * Called at most about ten times a second, and at the start and end of each
 * stage. `stage` is static text: "districts", "layout", "roads", "parcels",
 * "utilities", "facilities", "writing" or "manifest". `fraction` runs from
 * 0 to 1 within a stage. The callback must not call back into the context.
 */
typedef void (*tgis_gen_progress_fn)(const char *stage, double fraction,
                                     void *payload);

/** Options of tgis_generate(); initialise with TGIS_GEN_OPTIONS_INIT. */
typedef struct tgis_gen_options {
  unsigned int version;            /**< TGIS_GEN_OPTIONS_VERSION */
  double scale;                    /**< 1.0 = full city (about 1,050,000
                                        parcels, 3 million residents);
                                        must be > 0 and <= 4 */
  uint64_t seed;                   /**< random seed; any value */
  const char *manifest_path;       /**< NULL: "<output path>.manifest.json" */
  tgis_gen_progress_fn progress;   /**< may be NULL */
  void *progress_payload;          /**< passed to progress */
} tgis_gen_options;

#define TGIS_GEN_OPTIONS_VERSION 1
#define TGIS_GEN_OPTIONS_INIT \
  { TGIS_GEN_OPTIONS_VERSION, 0.01, 1, NULL, NULL, NULL }

/**
 * Generate the synthetic city.
 *
 * Writes `gpkg_path` (a new GeoPackage, EPSG:4326, layers districts,
 * parcels, roads, utility_nodes, utility_lines, facilities) and the
 * manifest. Both appear only when everything succeeded: a failure leaves
 * neither the output nor any half-written file behind. An existing output
 * file is never replaced (TGIS_EEXISTS); delete it first to regenerate. An
 * existing manifest file at the manifest path is replaced.
 *
 * @param ctx        a context; it need not have a database
 *                   (tgis_open(&ctx, NULL, NULL)). Errors are reported on
 *                   it, naming the file.
 * @param gpkg_path  the GeoPackage to create
 * @param opts       NULL for TGIS_GEN_OPTIONS_INIT; not retained
 * @return TGIS_OK; TGIS_EINVAL (bad options, scale out of range);
 *         TGIS_EEXISTS (the output exists); TGIS_EIO (cannot create or
 *         write a file); TGIS_EPROJ (coordinate transformation);
 *         TGIS_EPARSE (embedded district data unusable); TGIS_ENOMEM.
 *
 * Threading: uses only `ctx` and local state; safe to run in parallel with
 * other contexts (the outputs are the same as when run alone). Calls
 * GDALAllRegister() if the GPKG or GeoJSON driver is missing, which GDAL
 * does not allow concurrently: a threaded program registers the drivers
 * once before. Sets GDAL configuration options thread-locally for the
 * duration of the call and restores them.
 */
tgis_status tgis_generate(tgis_ctx *ctx, const char *gpkg_path,
                          const tgis_gen_options *opts);

#ifdef __cplusplus
}
#endif

#endif /* TGIS_GENERATE_H */
