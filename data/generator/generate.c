/*
 * generate.c -- tgis_generate(): one run of the synthetic city generator,
 * stage by stage.
 *
 * The run plans everything that needs a global view first (the lattice
 * spacing, bridges, residents calibration, facility sites, defect victims,
 * utility forests: plain arrays, no geometries), then streams the features
 * into a GeoPackage in one transaction, then writes the manifest. Both
 * files are written under temporary names next to the output and appear
 * under their real names only when everything succeeded; the GeoPackage is
 * published with link(2), which refuses to replace a file that appeared in
 * the meantime. GDAL settings that make the output reproducible
 * (OGR_CURRENT_DATE) or fast (no journal, no fsync: a failed run is
 * deleted anyway) are set thread-locally and restored afterwards.
 */
#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cpl_conv.h>
#include <cpl_error.h>

#include "gen_int.h"

/* GDAL settings for the run: a fixed timestamp for gpkg_contents; no
 * journal or fsync (the file is private until it is complete); a 32 MB
 * page cache (SQLite spills to the file beyond it: a larger cache only
 * costs memory, 400 MB at full scale, and was slower); no background RTree
 * thread, which GDAL uses only on machines with several cores and which
 * gives different bytes. Measured: none of these changes the output. */
static const char *const config_keys[] = {
  "OGR_CURRENT_DATE", "OGR_SQLITE_JOURNAL", "OGR_SQLITE_SYNCHRONOUS", "OGR_SQLITE_CACHE",
  "OGR_GPKG_ALLOW_THREADED_RTREE",
};
static const char *const config_values[] = {
  "2024-01-01T00:00:00.000Z", "OFF", "OFF", "32", "NO",
};
#define N_CONFIG (sizeof config_keys / sizeof config_keys[0])

static void CPL_STDCALL on_gdal_error(CPLErr cls, CPLErrorNum num, const char *msg)
{
  gen_writer *w = CPLGetErrorHandlerUserData();
  (void)num;
  if (cls >= CE_Failure)
    snprintf(w->gdal_err, sizeof w->gdal_err, "%s", msg);
  else if (w->ctx)
    tgis__log(w->ctx, cls == CE_Debug ? TGIS_LOG_DEBUG : TGIS_LOG_WARN, "GDAL: %s", msg);
}

static tgis_status check_options(tgis_ctx *ctx, const tgis_gen_options *o)
{
  if (o->version != TGIS_GEN_OPTIONS_VERSION)
    return tgis__fail(ctx, TGIS_EINVAL, "tgis_gen_options: version %u, this library knows %d",
                      o->version, TGIS_GEN_OPTIONS_VERSION);
  if (!(o->scale > 0.0 && o->scale <= 4.0))
    return tgis__fail(ctx, TGIS_EINVAL,
                      "scale %g is out of range: it must be > 0 and <= 4 (1 = the full city)",
                      o->scale);
  return TGIS_OK;
}

static tgis_status make_transform(gen_state *g)
{
  PJ_CONTEXT *pc = (PJ_CONTEXT *)tgis__proj(g->ctx);
  PJ *raw = proj_create_crs_to_crs(pc, "EPSG:32642", "EPSG:4326", NULL);
  if (!raw)
    return tgis__fail_ctx(g->ctx, TGIS_EPROJ, "cannot set up EPSG:32642 to EPSG:4326");
  g->pj = proj_normalize_for_visualization(pc, raw);
  proj_destroy(raw);
  if (!g->pj)
    return tgis__fail_ctx(g->ctx, TGIS_EPROJ, "cannot set up EPSG:32642 to EPSG:4326");
  return TGIS_OK;
}

static void remove_partial(const char *file)
{
  static const char *const suffixes[] = { "", "-journal", "-wal", "-shm" };
  char name[4200];
  for (size_t k = 0; k < sizeof suffixes / sizeof suffixes[0]; k++) {
    snprintf(name, sizeof name, "%s%s", file, suffixes[k]);
    unlink(name);
  }
}

/* Give the finished GeoPackage its name, never replacing a file. */
static tgis_status publish(gen_state *g, const char *tmp, const char *path)
{
  struct stat sb;
  if (link(tmp, path) == 0) {
    unlink(tmp);
    return TGIS_OK;
  }
  if (errno == EEXIST)
    return tgis__fail(g->ctx, TGIS_EEXISTS, "%s: already exists; not overwriting it", path);
  /* A file system without hard links: check, then rename. */
  if (stat(path, &sb) == 0)
    return tgis__fail(g->ctx, TGIS_EEXISTS, "%s: already exists; not overwriting it", path);
  if (rename(tmp, path) != 0)
    return tgis__fail(g->ctx, TGIS_EIO, "%s: cannot create: %s", path, strerror(errno));
  return TGIS_OK;
}

static tgis_status run(gen_state *g, const char *tmp_gpkg, const char *tmp_manifest,
                       const char *manifest)
{
  tgis_status st;

  tgis_gen__progress(&g->prog, "districts", 0.0);
  if ((st = make_transform(g)) != TGIS_OK || (st = tgis_gen__city_load(g)) != TGIS_OK)
    return st;
  tgis_gen__progress(&g->prog, "districts", 1.0);
  /* Everything that needs the whole city at once, as plain arrays. */
  tgis_gen__progress(&g->prog, "layout", 0.0);
  if ((st = tgis_gen__layout_build(g)) != TGIS_OK ||
      (st = tgis_gen__roads_plan(g)) != TGIS_OK ||
      (st = tgis_gen__parcels_plan(g)) != TGIS_OK ||
      (st = tgis_gen__facilities_plan(g)) != TGIS_OK ||
      (st = tgis_gen__defects_plan(g)) != TGIS_OK ||
      (st = tgis_gen__utilities_plan(g)) != TGIS_OK)
    return st;
  tgis_gen__progress(&g->prog, "layout", 1.0);

  if ((st = tgis_gen__writer_open(&g->w, g->ctx, tmp_gpkg, g->path, g->pj)) != TGIS_OK ||
      (st = tgis_gen__districts_write(g)) != TGIS_OK ||
      (st = tgis_gen__roads_write(g)) != TGIS_OK ||
      (st = tgis_gen__parcels_write(g)) != TGIS_OK ||
      (st = tgis_gen__utilities_write(g)) != TGIS_OK ||
      (st = tgis_gen__facilities_write(g)) != TGIS_OK)
    return st;
  tgis_gen__progress(&g->prog, "writing", 0.0);
  if ((st = tgis_gen__writer_finish(&g->w)) != TGIS_OK)
    return st;
  tgis_gen__progress(&g->prog, "writing", 1.0);
  return tgis_gen__manifest_write(g, tmp_manifest, manifest);
}

tgis_status tgis_generate(tgis_ctx *ctx, const char *gpkg_path, const tgis_gen_options *opts)
{
  static const tgis_gen_options defaults = TGIS_GEN_OPTIONS_INIT;
  const tgis_gen_options *o = opts ? opts : &defaults;
  char manifest[4096], tmp_gpkg[4200], tmp_manifest[4200];
  const char *mpath;
  char *saved[N_CONFIG];
  struct stat sb;
  gen_state g;
  tgis_status st;

  assert(ctx && gpkg_path);
  tgis__clear_error(ctx);
  if ((st = check_options(ctx, o)) != TGIS_OK)
    return st;
  if (!gpkg_path[0])
    return tgis__fail(ctx, TGIS_EINVAL, "no output file named");
  if (stat(gpkg_path, &sb) == 0)
    return tgis__fail(ctx, TGIS_EEXISTS, "%s: already exists; not overwriting it", gpkg_path);
  if ((size_t)snprintf(manifest, sizeof manifest, "%s.manifest.json", gpkg_path) >=
      sizeof manifest)
    return tgis__fail(ctx, TGIS_EINVAL, "output path too long");
  /* Partial files carry the pid, so two processes never share them. */
  snprintf(tmp_gpkg, sizeof tmp_gpkg, "%s.%ld.partial.gpkg", gpkg_path, (long)getpid());
  mpath = o->manifest_path ? o->manifest_path : manifest;
  snprintf(tmp_manifest, sizeof tmp_manifest, "%s.%ld.partial", mpath, (long)getpid());

  memset(&g, 0, sizeof g);
  g.ctx = ctx;
  g.seed = o->seed;
  g.scale = o->scale;
  g.path = gpkg_path;
  g.target_parcels = (size_t)llround(1050000.0 * o->scale);
  g.prog.fn = o->progress;
  g.prog.payload = o->progress_payload;
  g.w.ctx = ctx;  /* GDAL warnings reach the log from the start */

  /* Registering drivers is not thread-safe in GDAL: only when needed. */
  if (!GDALGetDriverByName("GPKG") || !GDALGetDriverByName("GeoJSON"))
    GDALAllRegister();
  CPLPushErrorHandlerEx(on_gdal_error, &g.w);
  for (size_t k = 0; k < N_CONFIG; k++) {
    const char *old = CPLGetThreadLocalConfigOption(config_keys[k], NULL);
    saved[k] = old ? CPLStrdup(old) : NULL;
    CPLSetThreadLocalConfigOption(config_keys[k], config_values[k]);
  }

  remove_partial(tmp_gpkg);
  st = run(&g, tmp_gpkg, tmp_manifest, mpath);
  if (st == TGIS_OK && (st = publish(&g, tmp_gpkg, gpkg_path)) == TGIS_OK) {
    if (rename(tmp_manifest, mpath) != 0) {
      st = tgis__fail(ctx, TGIS_EIO, "%s: cannot create: %s", mpath, strerror(errno));
      unlink(gpkg_path);
    }
  }
  if (st != TGIS_OK) {
    tgis_gen__writer_abort(&g.w);
    remove_partial(tmp_gpkg);
    unlink(tmp_manifest);
  }

  tgis_gen__utilities_free(&g);
  tgis_gen__defects_free(&g);
  tgis_gen__facilities_free(&g);
  tgis_gen__parcels_free(&g);
  tgis_gen__roads_free(&g);
  tgis_gen__layout_free(&g);
  tgis_gen__city_free(&g);
  if (g.pj)
    proj_destroy(g.pj);
  for (size_t k = 0; k < N_CONFIG; k++) {
    CPLSetThreadLocalConfigOption(config_keys[k], saved[k]);
    CPLFree(saved[k]);
  }
  CPLPopErrorHandler();
  return st;
}
