/*
 * tgis.h -- the public interface of libtgis, the Tashkent city GIS library.
 *
 * This is the only header a library user includes. Everything it declares is
 * prefixed tgis_/TGIS_, every handle is opaque, and no third-party type
 * (SQLite, GEOS, PROJ, GDAL, libpng) appears here.
 *
 * Threading: a tgis_ctx belongs to one thread at a time. Open one context per
 * thread; two contexts share nothing mutable, so they may be used in parallel.
 * Functions that take no context (identifier validators, name lookups) are
 * pure and may be called from any thread.
 *
 * Errors: every fallible call returns a tgis_status; 0 is success, negative is
 * an error, and tgis_errmsg() gives one line naming what failed (file, layer,
 * feature, field). The library never prints and never exits.
 */
#ifndef TGIS_H
#define TGIS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TGIS_VERSION_STRING "0.1.0"

/** Schema version this library creates and migrates databases to. */
#define TGIS_SCHEMA_VERSION 3

/** Default metric CRS of a new database: WGS 84 / UTM zone 42N. */
#define TGIS_DEFAULT_SRID 32642

/* ------------------------------------------------------------------------ */
/* Status codes                                                              */
/* ------------------------------------------------------------------------ */

#define TGIS_STATUS_MAP(X)                                   \
  X(OK,          0, "success")                               \
  X(ENOMEM,     -1, "out of memory")                         \
  X(EINVAL,     -2, "invalid argument")                      \
  X(ENOTFOUND,  -3, "not found")                             \
  X(EPARSE,     -4, "malformed input")                       \
  X(EIO,        -5, "I/O error")                             \
  X(EGEOS,      -6, "geometry engine error")                 \
  X(EPROJ,      -7, "coordinate transform error")            \
  X(EDB,        -8, "database error")                        \
  X(ENOTSUP,    -9, "not supported")                         \
  X(ESCHEMA,   -10, "incompatible database schema")          \
  X(ECANCELLED,-11, "cancelled")                             \
  X(EREADONLY, -12, "database is read-only")                 \
  X(EEXISTS,   -13, "already exists")

typedef enum tgis_status {
#define TGIS__STATUS_ENUM(name, val, msg) TGIS_##name = val,
  TGIS_STATUS_MAP(TGIS__STATUS_ENUM)
#undef TGIS__STATUS_ENUM
} tgis_status;

/**
 * Static text for a status code, such as "out of memory".
 * @return never NULL; "unknown status" for a code not in TGIS_STATUS_MAP.
 */
const char *tgis_status_str(tgis_status st);

/** The library's version, "MAJOR.MINOR.PATCH". Static text. */
const char *tgis_version(void);

/* ------------------------------------------------------------------------ */
/* Context                                                                   */
/* ------------------------------------------------------------------------ */

typedef struct tgis_ctx tgis_ctx;

typedef enum tgis_log_level {
  TGIS_LOG_DEBUG = 0,
  TGIS_LOG_INFO  = 1,
  TGIS_LOG_WARN  = 2,
  TGIS_LOG_ERROR = 3,
  TGIS_LOG_NONE  = 4
} tgis_log_level;

/**
 * A log sink. Receives GEOS notices, PROJ and GDAL warnings and the
 * library's own messages at or above tgis_options.log_level. `msg` is one
 * line without a trailing newline, valid only during the call. Messages
 * never contain personal data (PINFL).
 */
typedef void (*tgis_log_fn)(tgis_log_level level, const char *msg,
                            void *payload);

/**
 * Memory functions for the library's own allocations (not those made inside
 * SQLite, GEOS, PROJ or GDAL). All three must be set, or the whole struct
 * left NULL for the C library's. Tests use this to fail allocation N.
 */
typedef struct tgis_allocator {
  void *(*malloc_fn)(size_t size, void *payload);
  void *(*realloc_fn)(void *ptr, size_t size, void *payload);
  void  (*free_fn)(void *ptr, void *payload);
  void   *payload;
} tgis_allocator;

/** Flags for tgis_options.flags. */
#define TGIS_OPEN_READONLY 0x1u  /**< never write; fails on a missing file */
#define TGIS_OPEN_CREATE   0x2u  /**< create and initialise a missing file */
#define TGIS_OPEN_NO_MIGRATE 0x4u /**< fail with TGIS_ESCHEMA instead of
                                       migrating an older schema */

typedef struct tgis_options {
  unsigned int version;        /**< TGIS_OPTIONS_VERSION */
  unsigned int flags;          /**< TGIS_OPEN_* */
  int srid;                    /**< metric CRS of a new database; 0 = default */
  tgis_log_fn log_fn;          /**< NULL: silent */
  void *log_payload;           /**< passed to log_fn */
  tgis_log_level log_level;    /**< lowest level passed to log_fn */
  const tgis_allocator *allocator; /**< NULL: malloc/realloc/free; copied */
} tgis_options;

#define TGIS_OPTIONS_VERSION 1
#define TGIS_OPTIONS_INIT \
  { TGIS_OPTIONS_VERSION, 0, 0, NULL, NULL, TGIS_LOG_WARN, NULL }

/**
 * Open a context, and with it a tgis database.
 *
 * `path` names a SpatiaLite file. With TGIS_OPEN_CREATE a missing file is
 * created with the current schema in `opts->srid` (WAL journal, spatial
 * metadata, spatial indexes); an existing tgis database of an older schema
 * is migrated in one transaction unless TGIS_OPEN_READONLY or
 * TGIS_OPEN_NO_MIGRATE is set. A file that is not a database, or a database
 * of another program, is refused and left untouched. A path starting with
 * "postgresql://" or "PG:" selects the PostGIS backend where it is built.
 *
 * `path` may be NULL: the context then has no database, for work that needs
 * only the geometry and CRS engines.
 *
 * @param[out] out  the new context. Set even on failure (except
 *                  TGIS_ENOMEM, when it is NULL) so tgis_errmsg() can say
 *                  why; the caller always releases it with tgis_close().
 * @param opts      NULL for defaults; copied, need not outlive the call.
 * @return TGIS_OK, TGIS_ENOMEM, TGIS_EINVAL (bad options), TGIS_ENOTFOUND
 *         (missing file without TGIS_OPEN_CREATE), TGIS_EDB (not a database,
 *         locked, cannot be created), TGIS_ESCHEMA (another program's
 *         database, or a schema newer than this library), TGIS_EREADONLY,
 *         TGIS_EPROJ (unknown srid), TGIS_ENOTSUP (backend not built).
 */
tgis_status tgis_open(tgis_ctx **out, const char *path,
                      const tgis_options *opts);

/**
 * Close a context: finalise statements, close the database, free the GEOS
 * and PROJ contexts. A transaction still open is rolled back.
 * If ctx is NULL nothing occurs.
 */
void tgis_close(tgis_ctx *ctx);

/**
 * One line describing the last failure on `ctx`, naming what failed.
 * @return never NULL ("" after success); valid until the next call on ctx.
 */
const char *tgis_errmsg(const tgis_ctx *ctx);

/** Status of the last failure on `ctx`, TGIS_OK if none. */
tgis_status tgis_errcode(const tgis_ctx *ctx);

/* ------------------------------------------------------------------------ */
/* Schema and layers                                                         */
/* ------------------------------------------------------------------------ */

/** The city's layers, one table each in the database. */
typedef enum tgis_layer {
  TGIS_LAYER_DISTRICTS = 0,
  TGIS_LAYER_PARCELS,
  TGIS_LAYER_ROADS,
  TGIS_LAYER_UTILITY_LINES,
  TGIS_LAYER_UTILITY_NODES,
  TGIS_LAYER_FACILITIES,
  TGIS_LAYER_COUNT
} tgis_layer;

/** Table name of a layer ("parcels"); NULL for a value out of range. */
const char *tgis_layer_name(tgis_layer layer);

/**
 * Look a layer up by its table name.
 * @return TGIS_OK or TGIS_ENOTFOUND.
 */
tgis_status tgis_layer_from_name(tgis_layer *out, const char *name);

/** An axis-aligned box in the database CRS (or the CRS a call names). */
typedef struct tgis_extent {
  double minx, miny, maxx, maxy;
} tgis_extent;

/** What tgis_db_info() reports of a database. */
typedef struct tgis_db_info {
  int schema_version;    /**< the database's schema version */
  int srid;              /**< its metric CRS, e.g. 32642 */
  char crs_name[128];    /**< e.g. "WGS 84 / UTM zone 42N" */
  char backend[16];      /**< "spatialite" or "postgis" */
} tgis_db_info;

/**
 * Describe the open database.
 * @return TGIS_OK, TGIS_EINVAL (context without database), TGIS_EDB.
 */
tgis_status tgis_db_info_get(tgis_db_info *out, tgis_ctx *ctx);

/**
 * The schema version of the open database.
 * @param[out] out  the version stored in the database
 * @return TGIS_OK, TGIS_EINVAL (no database), TGIS_EDB.
 */
tgis_status tgis_schema_version(int *out, tgis_ctx *ctx);

/** What tgis_layer_info_get() reports of a layer. */
typedef struct tgis_layer_info {
  tgis_layer layer;
  int64_t count;          /**< number of features */
  int has_extent;         /**< 0 for an empty layer */
  tgis_extent extent;     /**< in the database CRS */
  char geometry_type[24]; /**< e.g. "MULTIPOLYGON" */
} tgis_layer_info;

/**
 * Feature count and extent of one layer.
 * @return TGIS_OK, TGIS_EINVAL (bad layer, no database), TGIS_EDB.
 */
tgis_status tgis_layer_info_get(tgis_layer_info *out, tgis_ctx *ctx,
                                tgis_layer layer);

/* ------------------------------------------------------------------------ */
/* Identifiers                                                               */
/* ------------------------------------------------------------------------ */

/** The city's mandated identifiers. */
typedef enum tgis_id_kind {
  TGIS_ID_PINFL = 0,   /**< individuals, 14 digits; personal data */
  TGIS_ID_TIN,         /**< legal entities, 9 digits */
  TGIS_ID_CADASTRE,    /**< real estate, AA:BB:CC:DD:EE:FFFF[:GGGG[:HHH]] */
  TGIS_ID_SOATO,       /**< geographic (address) code */
  TGIS_ID_VIN,         /**< vehicles, ISO 3779 */
  TGIS_ID_KIND_COUNT
} tgis_id_kind;

typedef enum tgis_id_verdict {
  TGIS_ID_VALID   = 0,
  TGIS_ID_WARNING = 1, /**< accepted, but `reason` says what looks wrong */
  TGIS_ID_INVALID = 2
} tgis_id_verdict;

/** The outcome of a validation. */
typedef struct tgis_id_check {
  tgis_id_verdict verdict;
  char normalized[32]; /**< the value as stored (separators removed); ""
                            when the format is wrong */
  char reason[160];    /**< why it fails or warns, "" when valid. Never
                            quotes the value itself (it may be a PINFL). */
} tgis_id_check;

/**
 * Validate an identifier by the city's rules (docs/identifiers.md).
 * Pure: no context, thread-safe.
 * @param[out] out  the verdict, normalised value and reason
 * @param value     NUL-terminated text; NULL is invalid ("missing")
 * @return out->verdict
 */
tgis_id_verdict tgis_id_validate(tgis_id_check *out, tgis_id_kind kind,
                                 const char *value);

/** Name of an identifier kind ("pinfl", "tin", ...); NULL if out of range. */
const char *tgis_id_kind_name(tgis_id_kind kind);

/**
 * Look an identifier kind up by name (case-insensitive).
 * @return TGIS_OK or TGIS_ENOTFOUND.
 */
tgis_status tgis_id_kind_from_name(tgis_id_kind *out, const char *name);

/** A district of Tashkent city in the SOATO classifier. */
typedef struct tgis_district_ref {
  const char *soato;  /**< 7 digits, e.g. "1726262" */
  const char *name;   /**< Latin Uzbek name, e.g. "Uchtepa" */
} tgis_district_ref;

/**
 * The city's districts, a static read-only table.
 * @param[out] n  number of entries (12)
 */
const tgis_district_ref *tgis_districts(size_t *n);

/** The district with this 7-digit SOATO code, or NULL. */
const tgis_district_ref *tgis_district_by_soato(const char *soato);

/* ------------------------------------------------------------------------ */
/* Import                                                                    */
/* ------------------------------------------------------------------------ */

typedef enum tgis_import_mode {
  TGIS_IMPORT_APPEND = 0,  /**< add features; a key already stored is rejected */
  TGIS_IMPORT_UPSERT,      /**< update features with the same key, add the rest */
  TGIS_IMPORT_REPLACE      /**< empty the target layer first */
} tgis_import_mode;

/**
 * Progress of a long operation: `done` of `total` units of `stage`
 * (total is 0 when unknown). Return non-zero to cancel: the operation then
 * stops, undoes what it did and returns TGIS_ECANCELLED.
 */
typedef int (*tgis_progress_fn)(const char *stage, int64_t done, int64_t total,
                                void *payload);

typedef struct tgis_import_options {
  unsigned int version;        /**< TGIS_IMPORT_OPTIONS_VERSION */
  int layer;                   /**< tgis_layer to load; -1: every layer the
                                    mapping finds in the source */
  const char *source_layer;    /**< OGR layer to read; NULL: as mapped */
  const char *mapping;         /**< mapping file, or a built-in: "tgis" (the
                                    generator's layers) or "osm"; NULL: guess
                                    from the source */
  const char *s_srs;           /**< CRS of the source ("EPSG:28412", WKT,
                                    PROJ string) when it has none or it is
                                    wrong */
  const char *encoding;        /**< text encoding of the source ("CP1251");
                                    NULL: what the driver reports */
  tgis_import_mode mode;
  const char *rejects_csv;     /**< also write rejects and repairs here */
  tgis_progress_fn progress;   /**< may be NULL */
  void *progress_payload;
} tgis_import_options;

#define TGIS_IMPORT_OPTIONS_VERSION 1
#define TGIS_IMPORT_OPTIONS_INIT \
  { TGIS_IMPORT_OPTIONS_VERSION, -1, NULL, NULL, NULL, NULL, \
    TGIS_IMPORT_APPEND, NULL, NULL, NULL }

/** Counts of one target layer of an import. */
typedef struct tgis_import_counts {
  int64_t run_id;     /**< its row in import_runs; 0 if the layer was not imported */
  int64_t read;       /**< source features read */
  int64_t inserted;
  int64_t updated;
  int64_t repaired;   /**< stored after a repair (also counted as inserted/updated) */
  int64_t rejected;   /**< not stored; import_rejects says why */
} tgis_import_counts;

typedef struct tgis_import_result {
  tgis_import_counts layers[TGIS_LAYER_COUNT]; /**< by tgis_layer */
  double seconds;                              /**< wall time of the run */
} tgis_import_result;

/**
 * Import a source any GDAL/OGR driver reads into the open database, in one
 * transaction: all of it or none of it. Features are reprojected to the
 * database CRS, validated (geometry type, emptiness, validity with repair,
 * city extent, required fields, enumerations, identifiers) and either
 * stored or rejected with a reason in import_rejects. Each target layer's
 * run is logged in import_runs, also when the import fails.
 *
 * @param[out] out  counts per layer (may be NULL)
 * @return TGIS_OK; TGIS_ENOTFOUND (no source, no layer maps), TGIS_EIO
 *         (unreadable source), TGIS_EPARSE (bad mapping file), TGIS_EPROJ
 *         (no or unknown CRS), TGIS_EREADONLY, TGIS_ECANCELLED, TGIS_EDB.
 *         On any error the database is as it was, but for the failed runs'
 *         rows in import_runs.
 */
tgis_status tgis_import(tgis_import_result *out, tgis_ctx *ctx, const char *source,
                        const tgis_import_options *opts);

/* ------------------------------------------------------------------------ */
/* Map tiles                                                                 */
/* ------------------------------------------------------------------------ */

/**
 * A tile renderer over the database of one context: the themes of a
 * styles directory (one YAML file each, see data/styles/README.md), read
 * once, and the layers read through the spatial index. Tiles are PNG, XYZ
 * scheme, Web Mercator, 256 px (512 at scale 2). Like its context, a
 * renderer is used by one thread at a time; a server makes one per worker.
 */
typedef struct tgis_tiles tgis_tiles;

/**
 * Open a renderer.
 * @param[out] out    freed with tgis_tiles_close(); NULL on failure
 * @param ctx         with a database; must outlive the renderer
 * @param styles_dir  directory of *.yaml themes; NULL: the installed
 *                    themes (or, in a build tree, data/styles)
 * @return TGIS_OK, TGIS_EINVAL (no database), TGIS_ENOTFOUND (no themes),
 *         TGIS_EPARSE (a bad style: file, line and key in the message),
 *         TGIS_EPROJ, TGIS_ENOMEM.
 */
tgis_status tgis_tiles_open(tgis_tiles **out, tgis_ctx *ctx, const char *styles_dir);

/** Close a renderer. If t is NULL nothing occurs. */
void tgis_tiles_close(tgis_tiles *t);

/** Number of themes, and the name of theme i (e.g. "base"), or NULL. */
size_t tgis_tiles_theme_count(const tgis_tiles *t);
const char *tgis_tiles_theme_name(const tgis_tiles *t, size_t i);

/**
 * Render tile z/x/y of `theme` as PNG.
 * @param[out] png  the bytes, freed with tgis_free(ctx, *png)
 * @param scale     1, or 2 for a 512 px HiDPI tile of the same area
 * @return TGIS_OK; TGIS_ENOTFOUND (no such theme); TGIS_EINVAL (z outside
 *         0..22, x or y outside the zoom, bad scale); TGIS_EDB; TGIS_ENOMEM.
 */
tgis_status tgis_tiles_render(tgis_tiles *t, const char *theme, int z, int x, int y,
                              int scale, unsigned char **png, size_t *png_len);

/**
 * Render a map image of the area `box` (database CRS; NULL: the extent of
 * the parcels) with `themes` drawn over each other in order, at most
 * `max_px` pixels on its longer side. For reports.
 * @param[out] png  the bytes, freed with tgis_free(ctx, *png)
 * @return as tgis_tiles_render().
 */
tgis_status tgis_tiles_map_image(tgis_tiles *t, const char *const *themes, size_t n_themes,
                                 const tgis_extent *box, int max_px,
                                 unsigned char **png, size_t *png_len);

/** Options of tgis_tiles_seed(); initialise with TGIS_SEED_OPTIONS_INIT. */
typedef struct tgis_seed_options {
  unsigned int version;        /**< TGIS_SEED_OPTIONS_VERSION */
  const char *theme;           /**< theme to render; default "base" */
  int min_zoom, max_zoom;      /**< zooms to seed, 0..22 */
  int has_bbox;                /**< 0: the extent of the parcels */
  double bbox[4];              /**< west, south, east, north in degrees */
  int scale;                   /**< 1, or 2 for HiDPI tiles */
  int jobs;                    /**< rendering threads; 0: one per core */
  const char *styles_dir;      /**< NULL: the installed themes */
  tgis_progress_fn progress;   /**< tiles done of total; may be NULL */
  void *progress_payload;
} tgis_seed_options;

#define TGIS_SEED_OPTIONS_VERSION 1
#define TGIS_SEED_OPTIONS_INIT \
  { TGIS_SEED_OPTIONS_VERSION, "base", 10, 16, 0, { 0, 0, 0, 0 }, 1, 0, NULL, NULL, NULL }

/** What a seed did. */
typedef struct tgis_seed_result {
  int64_t tiles;               /**< tiles of the zooms over the area */
  int64_t already;             /**< found in the file from an earlier run */
  int64_t rendered;            /**< rendered and stored by this run */
  int64_t bytes;               /**< PNG bytes stored by this run */
  double seconds;              /**< wall time */
  int jobs;                    /**< threads used */
} tgis_seed_result;

/**
 * Render every tile of the zooms over the area into an MBTiles 1.3 file
 * (created if missing; rows in the TMS scheme, metadata filled). Workers
 * render in parallel, each with its own read-only connection; tiles are
 * committed in batches, so an interrupted seed (cancel, crash, kill) keeps
 * what it committed and a new run with the same options renders only what
 * is missing. A file seeded with other options (theme, scale) is refused.
 * @param ctx  with the database to render
 * @return TGIS_OK; TGIS_EINVAL (bad options, a file of another seed);
 *         TGIS_ENOTFOUND (no such theme); TGIS_EIO (the file);
 *         TGIS_ECANCELLED (what was committed stays); TGIS_EDB; TGIS_ENOMEM.
 */
tgis_status tgis_tiles_seed(tgis_seed_result *out, tgis_ctx *ctx, const char *mbtiles,
                            const tgis_seed_options *opts);

/** Free memory the library handed to the caller. If p is NULL nothing occurs. */
void tgis_free(tgis_ctx *ctx, void *p);

#ifdef __cplusplus
}
#endif

#endif /* TGIS_H */
