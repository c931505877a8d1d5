/*
 * tiles_int.h -- what the parts of the tiles module share beyond the
 * public tgis_tiles_*() (the server, the seeder and the map image).
 */
#ifndef TGIS_TILES_INT_H
#define TGIS_TILES_INT_H

#include <stddef.h>

#include "tgis.h"
#include "style.h"
#include "render.h"
#include "source_db.h"

/** Default data directory for "styles", "viewer" or "vendor" (npm
 *  packages): the installed one if present, else the source tree's. */
const char *tgis_tiles__default_dir(const char *what);

/** Load every *.yaml of `dir` in name order into themes[0..*n). On
 *  failure none is kept. */
tgis_status tgis_tiles__load_themes(tgis_ctx *ctx, const char *dir, tgis_style **themes,
                                    size_t max, size_t *n);

/** A renderer drawing `themes` that the caller loaded and keeps: styles
 *  are read-only, so every worker of a server or seeder shares one parsed
 *  copy. The themes must outlive the renderer. */
tgis_status tgis_tiles__open_shared(tgis_tiles **out, tgis_ctx *ctx,
                                    tgis_style *const *themes, size_t n);

/** A theme of the renderer by name, or NULL. */
const tgis_style *tgis_tiles__theme(const tgis_tiles *t, const char *name);

/** The renderer's scratch and source (same thread as the renderer). */
tgis_render_scratch *tgis_tiles__scratch(tgis_tiles *t);
tgis_source_db *tgis_tiles__source(tgis_tiles *t);

/** The renderer's context. */
tgis_ctx *tgis_tiles__ctx(tgis_tiles *t);

#endif /* TGIS_TILES_INT_H */
