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

/**
 * Choose the coverage run the result layer "coverage" (the coverage theme)
 * shows: run_id > 0 that run, 0 the latest one (the default). Where the
 * run does not exist, or no run does, the layer is empty. Cannot fail.
 */
void tgis_tiles_set_coverage_run(tgis_tiles *t, int64_t run_id);

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

/* ------------------------------------------------------------------------ */
/* Tile server                                                               */
/* ------------------------------------------------------------------------ */

/**
 * An HTTP server for planners: the web map viewer at /, TileJSON and PNG
 * tiles per theme (/tiles/THEME/Z/X/Y.png and @2x.png), feature info
 * (/info?lon=&lat=), search (/search?q=), /themes.json, /healthz and
 * /stats. Tiles are kept in a bounded in-memory cache with ETags; a thread
 * watches the database and drops the cached tiles every committed import
 * touched, so planners see current data. Workers read the database through
 * their own read-only connections. See docs/server.md.
 */
typedef struct tgis_server tgis_server;

/** Options of tgis_server_start(); initialise with TGIS_SERVER_OPTIONS_INIT. */
typedef struct tgis_server_options {
  unsigned int version;        /**< TGIS_SERVER_OPTIONS_VERSION */
  const char *bind;            /**< IPv4 address to listen on; "127.0.0.1" */
  int port;                    /**< 8080; 0 picks a free port (tgis_server_port()) */
  int threads;                 /**< request threads; 0: two per core */
  size_t cache_bytes;          /**< bound of the tile cache; 256 MiB */
  const char *styles_dir;      /**< NULL: the installed themes */
  const char *viewer_dir;      /**< the viewer's files; NULL: installed */
  const char *vendor_dir;      /**< npm packages (leaflet); NULL: installed */
  const char *mbtiles;         /**< serve the tiles of this MBTiles file
                                    instead of rendering (its theme only) */
  double poll_seconds;         /**< how often to look for committed changes; 1 */
} tgis_server_options;

#define TGIS_SERVER_OPTIONS_VERSION 1
#define TGIS_SERVER_OPTIONS_INIT \
  { TGIS_SERVER_OPTIONS_VERSION, "127.0.0.1", 8080, 0, (size_t)256 << 20, NULL, NULL, \
    NULL, NULL, 1.0 }

/**
 * Start serving in background threads.
 * @param[out] out  stop with tgis_server_stop(); NULL on failure
 * @param ctx       with the database to serve (its path is reopened
 *                  read-only by every worker); must outlive the server.
 *                  With opts->mbtiles it may have no database (no /info,
 *                  no /search then).
 * @return TGIS_OK; TGIS_EINVAL (bad options or address); TGIS_EIO (cannot
 *         listen: the port is taken); TGIS_EPARSE (a bad style);
 *         TGIS_ENOTFOUND (no themes, no MBTiles file); TGIS_ENOMEM.
 */
tgis_status tgis_server_start(tgis_server **out, tgis_ctx *ctx, const tgis_server_options *opts);

/** The port the server listens on. */
int tgis_server_port(const tgis_server *s);

/** Stop serving, wait for the threads, free everything. NULL is ignored. */
void tgis_server_stop(tgis_server *s);

/** Free memory the library handed to the caller. If p is NULL nothing occurs. */
void tgis_free(tgis_ctx *ctx, void *p);

/* ------------------------------------------------------------------------ */
/* Coverage analytics                                                        */
/* ------------------------------------------------------------------------ */

/*
 * Which residents reach a facility of a kind (family polyclinics, schools)
 * within a time, along the road network or within a straight-line radius;
 * the share covered per district; each facility's catchment and load; the
 * capacity-aware E2SFCA accessibility index; and where new facilities would
 * cover the most residents. Results go to the coverage_* tables of the
 * database, keyed by run (docs/coverage.md), and stay in memory in a
 * tgis_coverage_result for the caller.
 */

/** How residents travel to a facility. */
typedef enum tgis_travel_mode {
  TGIS_TRAVEL_WALK = 0,  /**< walkable roads, both ways, at walk_kmh */
  TGIS_TRAVEL_DRIVE = 1  /**< drivable roads at their speed (class or
                              maxspeed), oneway respected */
} tgis_travel_mode;

/** How "within reach" is measured. */
typedef enum tgis_coverage_method {
  TGIS_COVERAGE_NETWORK = 0, /**< travel time along the roads */
  TGIS_COVERAGE_RADIUS = 1   /**< straight-line distance, no roads */
} tgis_coverage_method;

/** Default distance beyond which a parcel or facility is not snapped to a
 * road (and a parcel is reported unreachable), metres. */
#define TGIS_COVERAGE_DEFAULT_SNAP_M 500.0

/** tgis_coverage_options.flags: compute only, write nothing (run_id 0). */
#define TGIS_COVERAGE_DRY_RUN 0x1u

typedef struct tgis_coverage_options {
  unsigned int version;          /**< TGIS_COVERAGE_OPTIONS_VERSION */
  const char *facility_kind;     /**< "polyclinic" or "school" */
  tgis_travel_mode mode;
  double minutes;                /**< the threshold, > 0: covered if the
                                      nearest facility is this close */
  tgis_coverage_method method;
  double radius_m;               /**< radius method: the radius, metres;
                                      0: `minutes` at walk_kmh (walk mode
                                      only). Ignored by the network method. */
  double walk_kmh;               /**< walking speed, > 0 (also of the walk
                                      between door and road in drive mode) */
  double max_snap_m;             /**< snap distance limit, > 0 */
  unsigned int flags;            /**< TGIS_COVERAGE_* */
  tgis_progress_fn progress;     /**< may be NULL; non-zero return cancels */
  void *progress_payload;
} tgis_coverage_options;

#define TGIS_COVERAGE_OPTIONS_VERSION 1
#define TGIS_COVERAGE_OPTIONS_INIT \
  { TGIS_COVERAGE_OPTIONS_VERSION, "polyclinic", TGIS_TRAVEL_WALK, 15.0, \
    TGIS_COVERAGE_NETWORK, 0.0, 5.0, TGIS_COVERAGE_DEFAULT_SNAP_M, 0, NULL, NULL }

/** Where the time of a run went, seconds of wall time. */
typedef struct tgis_coverage_timing {
  double load;       /**< reading roads, parcels, facilities */
  double graph;      /**< noding, adjacency, components */
  double snap;       /**< snap index, parcels and facilities */
  double search;     /**< nearest facility: Dijkstra and per-parcel cost */
  double e2sfca;     /**< the accessibility index */
  double aggregate;  /**< districts and facilities */
  double write;      /**< result tables, commit included */
} tgis_coverage_timing;

/** A coverage run: its parameters and headline numbers (one row of
 * coverage_runs). */
typedef struct tgis_coverage_summary {
  int64_t run_id;                 /**< 0 for a dry run */
  char facility_kind[16];
  tgis_travel_mode mode;
  tgis_coverage_method method;
  double minutes;
  double radius_m;                /**< radius method: the radius used; else 0 */
  double walk_kmh, max_snap_m;
  char created[32];               /**< UTC, ISO 8601 */
  int64_t parcels, residents;     /**< all parcels of the layer, their residents */
  int64_t covered_parcels, covered_residents;
  double covered_share;           /**< covered_residents / residents; NaN when
                                       nobody lives in the city */
  int64_t unreachable_parcels;    /**< no facility reachable: not snapped
                                       within max_snap_m, or on a piece of
                                       network no facility reaches */
  int64_t unreachable_residents;
  int64_t unsnapped_parcels;      /**< of those, not snapped (network method) */
  int64_t facilities;             /**< of the kind */
  int64_t facilities_unsnapped;   /**< not snapped to a road: reach nobody */
  int64_t facilities_overloaded;  /**< catchment residents above capacity */
  int64_t network_nodes, network_edges; /**< of the graph (network method) */
  int64_t components;             /**< connected pieces of the mode's network;
                                       more than 1 is a data problem to see */
  int64_t off_main_parcels;       /**< parcels snapped to a piece other than
                                       the largest */
  double e2sfca;                  /**< residents-weighted mean of the parcels' */
  double seconds;                 /**< wall time of the run */
  tgis_coverage_timing timing;    /**< of this process's run; zeros when read
                                       back from the database */
} tgis_coverage_summary;

/** One parcel's result (a row of coverage_parcels). */
typedef struct tgis_coverage_parcel {
  int64_t parcel_id;
  int64_t facility_id;  /**< nearest facility; 0 when none is reachable */
  double seconds;       /**< travel time to it, door to door; NaN when
                             unreachable (and for the radius method in
                             drive mode, which has no speed) */
  double metres;        /**< trip length (network: along the roads plus
                             both access legs; radius: straight); NaN when
                             unreachable */
  double snap_m;        /**< centroid to road, metres; NaN when not snapped
                             or for the radius method */
  double e2sfca;        /**< accessibility index, facility capacity per
                             resident (docs/coverage.md); 0 if none in reach */
  int64_t residents;
  int32_t district;     /**< index into the run's districts, -1 for none */
  uint8_t covered;      /**< nearest facility within the threshold */
  uint8_t reachable;    /**< some facility is reachable at all */
} tgis_coverage_parcel;

/** One district's result (a row of coverage_districts). */
typedef struct tgis_coverage_district {
  char soato[16];               /**< SOATO code; "" for parcels without one */
  int64_t parcels, residents;
  int64_t covered_residents, unreachable_residents;
  double share;                 /**< covered_residents / residents; NaN if 0 */
  double e2sfca;                /**< residents-weighted mean of its parcels' */
} tgis_coverage_district;

/** One facility's result (a row of coverage_facilities). */
typedef struct tgis_coverage_facility {
  int64_t facility_id;
  const char *name;             /**< owned by the result */
  int64_t capacity;             /**< -1 when the database has none */
  double x, y;                  /**< database CRS */
  double snap_m;                /**< to the road; NaN unsnapped or radius */
  int64_t catchment_parcels;    /**< covered parcels it is nearest to */
  int64_t catchment_residents;  /**< their residents */
  double load;                  /**< catchment_residents / capacity; NaN
                                     when capacity is unknown or 0 */
  double ratio;                 /**< E2SFCA supply/demand ratio R_j: capacity
                                     over the distance-weighted residents in
                                     reach; NaN when nobody is in reach */
} tgis_coverage_facility;

/** A suggested new site (a row of coverage_sites). */
typedef struct tgis_coverage_site {
  int rank;                     /**< 1 = picked first */
  int64_t parcel_id;            /**< the candidate parcel; 0 for a given point */
  const char *label;            /**< given label, or the parcel's cadastre
                                     number (or ext_id); owned by the result */
  double x, y;                  /**< database CRS */
  int64_t gain_residents;       /**< uncovered residents it newly covers,
                                     given the sites ranked before it */
  int64_t covered_residents;    /**< residents covered with this site and
                                     all before it */
} tgis_coverage_site;

/** The result of a run. Opaque; read it with the accessors below. */
typedef struct tgis_coverage_result tgis_coverage_result;

/**
 * Run a coverage analysis over the open database.
 *
 * Network method: builds the road graph for the mode (driving times run
 * from the parcel to the facility, with oneway streets in their legal
 * direction), snaps every parcel's centroid and every facility of the kind
 * to the nearest usable road within max_snap_m, and finds each parcel's
 * nearest facility by travel time in one multi-source search; the walk
 * between door and road is added at walk_kmh at both ends. Radius method:
 * the nearest facility by straight-line distance from the centroid.
 * Then per district the residents and covered share, per facility its
 * catchment and load against capacity, and E2SFCA per parcel and district
 * (weights 1.00, 0.68, 0.22 over the three thirds of the threshold). A
 * parcel that cannot be snapped is kept, as unreachable.
 *
 * The results are written to the coverage_* tables in one transaction
 * (unless TGIS_COVERAGE_DRY_RUN): on any failure nothing is written.
 *
 * @param[out] out  the result, freed with tgis_coverage_result_free(); it
 *                  belongs to ctx and must not outlive it. NULL on failure.
 * @param opts      NULL for TGIS_COVERAGE_OPTIONS_INIT; not retained
 * @return TGIS_OK; TGIS_EINVAL (no database, unknown facility kind, no
 *         facility of the kind, a road layer without edges the mode can
 *         use, minutes or a radius <= 0, bad options); TGIS_EREADONLY
 *         (a database opened read-only, unless dry run); TGIS_ECANCELLED;
 *         TGIS_ENOMEM; TGIS_EDB.
 */
tgis_status tgis_coverage_run(tgis_coverage_result **out, tgis_ctx *ctx,
                              const tgis_coverage_options *opts);

/** The run's parameters and headline numbers; borrowed from r. */
const tgis_coverage_summary *tgis_coverage_result_summary(const tgis_coverage_result *r);

/** Every parcel's result, in parcel id order; borrowed from r.
 * @param[out] n  number of entries */
const tgis_coverage_parcel *tgis_coverage_result_parcels(const tgis_coverage_result *r,
                                                         size_t *n);

/** Per-district results, in SOATO order ("" last); borrowed from r. */
const tgis_coverage_district *tgis_coverage_result_districts(const tgis_coverage_result *r,
                                                             size_t *n);

/** Per-facility results, in facility id order; borrowed from r. */
const tgis_coverage_facility *tgis_coverage_result_facilities(const tgis_coverage_result *r,
                                                              size_t *n);

/** The sites of the last tgis_coverage_sites() on r, in rank order; n = 0
 * before one. Borrowed from r. */
const tgis_coverage_site *tgis_coverage_result_sites(const tgis_coverage_result *r,
                                                     size_t *n);

/** Free a result. If r is NULL nothing occurs. */
void tgis_coverage_result_free(tgis_coverage_result *r);

typedef struct tgis_coverage_site_options {
  unsigned int version;         /**< TGIS_COVERAGE_SITE_OPTIONS_VERSION */
  int k;                        /**< sites to pick, >= 1 */
  const double *candidates;     /**< n_candidates points x0,y0,x1,y1... in
                                     the database CRS; NULL: every parcel
                                     with land_use 'public' (its centroid) */
  const char *const *labels;    /**< NULL, or a label per candidate point */
  size_t n_candidates;
  tgis_progress_fn progress;    /**< may be NULL; non-zero return cancels */
  void *progress_payload;
} tgis_coverage_site_options;

#define TGIS_COVERAGE_SITE_OPTIONS_VERSION 1
#define TGIS_COVERAGE_SITE_OPTIONS_INIT \
  { TGIS_COVERAGE_SITE_OPTIONS_VERSION, 5, NULL, NULL, 0, NULL, NULL }

/**
 * Where to build next: a greedy maximal-covering location analysis on the
 * run `r`. Picks up to k candidates one at a time, each the one that
 * covers the most residents not yet covered (by the run's facilities or
 * the sites picked before it), by the run's method, mode and threshold;
 * equal gains go to the earlier candidate. Stops early when no candidate
 * covers anyone more. The sites replace those of an earlier call on r, in
 * the result and (unless r was a dry run) in coverage_sites, in one
 * transaction.
 *
 * @param r     a result of tgis_coverage_run() on the same ctx
 * @param opts  NULL for TGIS_COVERAGE_SITE_OPTIONS_INIT
 * @return TGIS_OK; TGIS_EINVAL (k < 1, no candidates, a non-finite
 *         candidate point); TGIS_ECANCELLED; TGIS_ENOMEM; TGIS_EDB.
 */
tgis_status tgis_coverage_sites(tgis_ctx *ctx, tgis_coverage_result *r,
                                const tgis_coverage_site_options *opts);

/**
 * Read a stored run's summary back (its timing is zero).
 * @param run_id        the run, or 0 for the latest one
 * @param facility_kind with run_id 0: the latest of this kind; NULL: of any
 * @return TGIS_OK, TGIS_ENOTFOUND (no such run), TGIS_EINVAL (no database),
 *         TGIS_EDB.
 */
tgis_status tgis_coverage_run_get(tgis_coverage_summary *out, tgis_ctx *ctx,
                                  int64_t run_id, const char *facility_kind);

/* ------------------------------------------------------------------------ */
/* Utility tracing                                                           */
/* ------------------------------------------------------------------------ */

/*
 * What a failure in a utility network (gas, power, water, heat) cuts off,
 * and which valves (in power: switches) isolate it. docs/trace.md gives
 * the rules; in short:
 *
 * The network is a graph of its nodes and lines, a line joining the nodes
 * its from/to references name; where a reference is missing, the line's
 * end is tied to the node within the join tolerance of its end point, or
 * to other line ends there (an implicit junction, not listed). Supply
 * flows from every "source" node along lines, through every node but a
 * closed valve.
 *
 * Two scenarios, each compared with the network before the failure:
 *  - TGIS_TRACE_FAILURE: the failed element (a line, or a node with its
 *    lines) is out of service;
 *  - TGIS_TRACE_ISOLATION: the valve-isolation trace walks from the failed
 *    element through everything but valves/switches; the valves it meets
 *    are closed, the segment it walked is taken out of service, and what
 *    the closed valves cut off with it is lost too -- always at least as
 *    much as the failure itself cuts off.
 * An element other than the failed one is "cut off" when a source reached
 * it before and none does now (the isolated segment's elements are). The
 * failed element is reported as such, not in the lists. Parcels: each is
 * served by its nearest consumer node of the network within the serving
 * radius of its polygon (0 inside); the parcels of the cut-off consumers,
 * and of the failed node if it is a fed consumer, are cut off, and their
 * residents summed. Parcels are named by cadastre number; no personal data
 * is read.
 */

typedef struct tgis_trace_result tgis_trace_result;

typedef struct tgis_trace_options {
  unsigned int version;       /**< TGIS_TRACE_OPTIONS_VERSION */
  const char *network;        /**< "gas", "power", "water" or "heat" */
  const char *fail_id;        /**< ext_id of the failed line or node */
  const char *const *closed;  /**< ext_ids of valves/switches already closed
                                   (normally-open points); may be NULL */
  size_t n_closed;            /**< entries in `closed` */
  double join_tolerance_m;    /**< line ends without a node reference join a
                                   node or each other within this; 0: 0.5 m */
  double serve_radius_m;      /**< a parcel's consumer is the nearest within
                                   this of its polygon; 0: 200 m */
} tgis_trace_options;

#define TGIS_TRACE_OPTIONS_VERSION 1
#define TGIS_TRACE_OPTIONS_INIT \
  { TGIS_TRACE_OPTIONS_VERSION, NULL, NULL, NULL, 0, 0.0, 0.0 }

/** The two outcomes a trace reports. */
typedef enum tgis_trace_scenario {
  TGIS_TRACE_FAILURE = 0,     /**< cut off by the failure itself */
  TGIS_TRACE_ISOLATION = 1    /**< cut off while isolating it */
} tgis_trace_scenario;

/** A node of the network as a trace lists it. Borrowed from the result. */
typedef struct tgis_trace_node {
  const char *id;             /**< ext_id */
  const char *kind;           /**< "source", "junction", "valve", "switch",
                                   "substation" or "consumer" */
  double x, y;                /**< in the database CRS */
} tgis_trace_node;

/** A line of the network as a trace lists it. Borrowed from the result. */
typedef struct tgis_trace_line {
  const char *id;             /**< ext_id */
  const char *kind;           /**< "main" or "service" */
  const char *from, *to;      /**< end nodes' ext_ids; NULL where the end is
                                   an implicit junction */
} tgis_trace_line;

/** A parcel served by a cut-off consumer. Borrowed from the result. */
typedef struct tgis_trace_parcel {
  const char *cadastre;       /**< cadastre number; NULL if it has none */
  const char *ext_id;         /**< the source's id; NULL if none */
  int64_t residents;
  const char *consumer;       /**< ext_id of the consumer node serving it */
  double distance_m;          /**< from that node to the parcel (0 inside) */
} tgis_trace_parcel;

/** Counts of one scenario. */
typedef struct tgis_trace_totals {
  size_t nodes;               /**< node features cut off (consumers included) */
  size_t lines;
  size_t consumers;
  size_t parcels;
  int64_t residents;          /**< sum over those parcels */
} tgis_trace_totals;

/** The network and the failed element. */
typedef struct tgis_trace_info {
  const char *network;        /**< as given */
  const char *failed_id;      /**< as given */
  int failed_is_line;         /**< 1 a line, 0 a node */
  const char *failed_kind;    /**< line kind ("main"/"service") or node kind */
  size_t nodes, lines;        /**< node and line features of the network */
  size_t sources, valves;     /**< of them: sources; valves and switches */
  size_t joined_ends;         /**< line ends tied by geometry (reference
                                   missing or naming no node of the network) */
  size_t implicit_junctions;  /**< made where such ends met without a node */
  size_t unfed_before;        /**< node features no source reached even
                                   before the failure (not counted as cut) */
  double seconds;             /**< wall time of the trace */
} tgis_trace_info;

/**
 * Trace a failure in one utility network of the open database.
 *
 * Reads the network's nodes and lines and the parcels near its cut-off
 * consumers through the store; writes nothing.
 *
 * @param[out] out  the result, freed with tgis_trace_result_free(); NULL on
 *                  failure
 * @param opts      network and failed element are required; copied
 * @return TGIS_OK; TGIS_EINVAL with a message naming the id: no database,
 *         an unknown network, a network the database has no nodes of, no
 *         fail_id, an id that is in no network or in another network, a
 *         closed id that is not a valve or switch of the network, a network
 *         without a source, a tolerance or radius < 0; TGIS_ENOMEM;
 *         TGIS_EDB; TGIS_EPARSE (an unreadable stored geometry).
 *
 * Fast enough to call per click: one read of the network, a few R-tree
 * windows of parcels, breadth-first passes over compressed arrays.
 * The result allocates through ctx: free it before closing ctx.
 */
tgis_status tgis_trace_run(tgis_trace_result **out, tgis_ctx *ctx,
                           const tgis_trace_options *opts);

/** The network and the failed element. Cannot fail. */
void tgis_trace_info_get(tgis_trace_info *out, const tgis_trace_result *r);

/** Counts of what a scenario cuts off. Cannot fail. */
void tgis_trace_totals_get(tgis_trace_totals *out, const tgis_trace_result *r,
                           tgis_trace_scenario sc);

/**
 * The node features a scenario cuts off (consumers included), in the
 * order of their rows.
 * @param[out] n  number of entries
 * @return borrowed array, valid until tgis_trace_result_free(); NULL if n is 0
 */
const tgis_trace_node *tgis_trace_nodes(const tgis_trace_result *r,
                                        tgis_trace_scenario sc, size_t *n);

/** Of tgis_trace_nodes(), the consumers. Same rules. */
const tgis_trace_node *tgis_trace_consumers(const tgis_trace_result *r,
                                            tgis_trace_scenario sc, size_t *n);

/** The lines a scenario cuts off, in row order. Same rules. */
const tgis_trace_line *tgis_trace_lines(const tgis_trace_result *r,
                                        tgis_trace_scenario sc, size_t *n);

/** The parcels a scenario cuts off, in row order. Same rules. */
const tgis_trace_parcel *tgis_trace_parcels(const tgis_trace_result *r,
                                            tgis_trace_scenario sc, size_t *n);

/**
 * The valves (in power: switches) to close to isolate the failed element:
 * the boundary of the isolation walk, less those already closed. Empty
 * when no valve bounds the failed element's part of the network: isolating
 * it then means shutting that whole part. Same rules.
 */
const tgis_trace_node *tgis_trace_valves(const tgis_trace_result *r, size_t *n);

/** The isolated segment's node features (the failed node among them):
 * what is drained once the valves are closed. */
const tgis_trace_node *tgis_trace_segment_nodes(const tgis_trace_result *r, size_t *n);

/** The isolated segment's lines (the failed line among them). */
const tgis_trace_line *tgis_trace_segment_lines(const tgis_trace_result *r, size_t *n);

/** Free a trace result. If r is NULL nothing occurs. */
void tgis_trace_result_free(tgis_trace_result *r);

/* ------------------------------------------------------------------------ */
/* Reports                                                                   */
/* ------------------------------------------------------------------------ */

/*
 * Reports an analyst can read and forward (docs/report.md). A coverage
 * report is a directory of files:
 *  - report.html, self-contained (no external resource): the run's
 *    parameters and headline numbers; a map of travel times drawn by the
 *    tile renderer (themes "base" and "coverage", tgis_tiles_map_image())
 *    inline as a PNG data: URI; a chart of the covered share per district
 *    as inline SVG; tables of the worst-served districts, the overloaded
 *    facilities (catchment against capacity) and the suggested sites with
 *    their marginal gain. Printable.
 *  - summary.json: the run's row of coverage_runs, the districts and sites;
 *  - parcels.csv, districts.csv, facilities.csv: the run's result rows with
 *    names (RFC 4180 quoting, UTF-8).
 * Everything is read back from the run's result tables through the store,
 * so the report of a run shows the numbers the CLI and the coverage map
 * theme show. No personal data (PINFL) is read or written.
 */

typedef struct tgis_report_options {
  unsigned int version;          /**< TGIS_REPORT_OPTIONS_VERSION */
  const tgis_coverage_options *analysis; /**< with run_id 0: run this
                                      analysis first (once the directory is
                                      known to be writable) and report the
                                      new run; NULL: report the latest
                                      stored run. Its progress fields are
                                      ignored (this struct's are used). */
  int sites;                     /**< with `analysis`: also pick this many
                                      new sites among the public-land
                                      parcels (tgis_coverage_sites()) */
  const char *styles_dir;        /**< themes for the map; NULL: installed */
  int map_px;                    /**< the map's longer side, 600..4096 px
                                      (the coverage theme starts at zoom 11);
                                      0: 1200 */
  int table_rows;                /**< rows of the worst-served districts
                                      and busiest facilities tables; 0: 8 */
  tgis_progress_fn progress;     /**< may be NULL; non-zero return cancels */
  void *progress_payload;
} tgis_report_options;

#define TGIS_REPORT_OPTIONS_VERSION 1
#define TGIS_REPORT_OPTIONS_INIT \
  { TGIS_REPORT_OPTIONS_VERSION, NULL, 0, NULL, 0, 0, NULL, NULL }

/** What a report wrote. */
typedef struct tgis_report_info {
  int64_t run_id;                /**< the run reported */
  int map_width, map_height;     /**< the map image, px */
  int64_t parcels;               /**< rows of parcels.csv */
  int64_t districts;             /**< rows of districts.csv (bars of the chart) */
  int64_t facilities;            /**< rows of facilities.csv */
  int64_t overloaded;            /**< of them, catchment above capacity */
  int64_t sites;                 /**< suggested sites in the report */
  int64_t bytes;                 /**< of all files written */
  double seconds;                /**< wall time, analysis included */
} tgis_report_info;

/**
 * Write a coverage report into `dir`: report.html, summary.json,
 * parcels.csv, districts.csv and facilities.csv.
 *
 * Each file is written under a temporary name in `dir` and renamed into
 * place once complete, so a failure leaves every file either as it was or
 * whole and new, and no temporary file behind. The directory (and its
 * parents) is created if missing, and checked writable before any work.
 * Reads the database only, unless opts->analysis runs an analysis.
 *
 * @param[out] out  what was written; may be NULL
 * @param run_id    the stored run to report; 0: see opts->analysis
 * @param dir       the output directory
 * @param opts      NULL for TGIS_REPORT_OPTIONS_INIT; not retained
 * @return TGIS_OK; TGIS_ENOTFOUND (no such run, no run at all, no theme
 *         "base" or "coverage"); TGIS_EIO (the directory or a file cannot
 *         be created or written: the message names it and says why);
 *         TGIS_EINVAL (no database, bad options, run_id with an analysis,
 *         and the analysis's own: unknown facility kind, none of the
 *         kind...); TGIS_EPARSE (a bad style); TGIS_EREADONLY (an analysis
 *         on a read-only database); TGIS_ECANCELLED; TGIS_ENOMEM; TGIS_EDB.
 *         The message names the file or the run.
 */
tgis_status tgis_report_coverage(tgis_report_info *out, tgis_ctx *ctx, int64_t run_id,
                                 const char *dir, const tgis_report_options *opts);

#ifdef __cplusplus
}
#endif

#endif /* TGIS_H */
