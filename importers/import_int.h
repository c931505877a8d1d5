/*
 * import_int.h -- the importer's pieces (private to importers/).
 *
 * The pipeline for one feature: read it from OGR (ogr_source.c), map the
 * source's fields to the target layer's (mapping.c), reproject the geometry
 * (reproject.c), check and repair it and convert the attributes
 * (validate.c), then write it through the store; import.c drives the run.
 */
#ifndef TGIS_IMPORT_INT_H
#define TGIS_IMPORT_INT_H

#include <stdio.h>

#include <gdal.h>
#include <ogr_api.h>
#include <proj.h>

#include "tgis_int.h"

/* ---- mapping ---------------------------------------------------------------- */

typedef struct tgis_value_pair {
  const char *from, *to;
} tgis_value_pair;

/* How one target field gets its value. */
typedef struct tgis_field_rule {
  const char *source;          /* source field; "a|b" = first non-empty of a, b;
                                  "other_tags:k" = key k of an OSM hstore field */
  const char *constant;        /* a fixed value instead of a source */
  const char *prefix;          /* prepended to a non-empty value (OSM ids) */
  const tgis_value_pair *values; /* source value -> target value */
  int n_values;
  int strict;                  /* a value not in `values` is rejected */
  const char *fallback;        /* value when the source is empty, or (not
                                  strict) its value is not in `values` */
} tgis_field_rule;

typedef struct tgis_layer_rule {
  const char *source_layer;    /* OGR layer name; NULL = the source's only layer */
  const char *where;           /* OGR attribute filter, or NULL */
  tgis_layer target;
  tgis_field_rule fields[TGIS_MAX_FIELDS];  /* by target field index */
  int point_from_area;         /* a polygon feeds a point layer by its inner point */
  int estimate_residents;      /* residents from building footprint (OSM) */
} tgis_layer_rule;

/* A mapping file's strings, freed as one list. */
typedef struct tgis_chunk {
  struct tgis_chunk *next;
  char data[];
} tgis_chunk;

typedef struct tgis_mapping {
  char name[256];
  tgis_layer_rule *rules;
  int n_rules;
  tgis_chunk *arena;           /* strings and pairs of a loaded file */
} tgis_mapping;

/** A built-in mapping by name ("tgis", "osm"); TGIS_ENOTFOUND otherwise. */
tgis_status tgis_mapping__builtin(tgis_mapping *out, tgis_ctx *ctx, const char *name);
/** Load a mapping file (YAML, see docs/mapping.md). */
tgis_status tgis_mapping__load(tgis_mapping *out, tgis_ctx *ctx, const char *path);
/** A mapping that reads the source's only layer into `target`, taking
 * fields whose names match the target's. */
tgis_status tgis_mapping__identity(tgis_mapping *out, tgis_ctx *ctx, tgis_layer target);
void tgis_mapping__free(tgis_mapping *m, tgis_ctx *ctx);

/* ---- OGR source -------------------------------------------------------------- */

/* Field lookups of one source layer, resolved once. */
typedef struct tgis_src_field {
  int index[4];                /* OGR field index per '|' alternative, -1 if absent */
  const char *hstore_key[4];   /* for "other_tags:k" alternatives */
  int n_alt;
} tgis_src_field;

/** Resolve a rule's source names against a layer definition; a field the
 * source does not have gets index -1 (its value is then null). */
void tgis_src__resolve(tgis_src_field *out, OGRFeatureDefnH defn, const char *source,
                       char *scratch, size_t scratch_len);

/**
 * Text of the source value for a rule (after alternatives and hstore keys),
 * into buf; returns NULL when null or empty. Recodes from `encoding` to
 * UTF-8 if given.
 */
const char *tgis_src__value(OGRFeatureH f, const tgis_src_field *sf, const char *encoding,
                            char *buf, size_t len);

/** Value of key in an OSM hstore text ("k"=>"v","k2"=>"v2"), into buf. */
const char *tgis_src__hstore_get(const char *hstore, const char *key, char *buf, size_t len);

/* What a source geometry held. */
typedef struct tgis_src_shape {
  unsigned dims_seen;          /* 1 points, 2 lines, 4 polygons */
  int n_dropped;               /* parts of another dimension in a collection */
  int top_type;                /* OGC code of the source geometry */
} tgis_src_shape;

/**
 * Read an OGR geometry into g, collecting the parts of dimension `want`
 * (0 points, 1 lines, 2 polygons) as POINT/MULTIPOINT, LINESTRING/
 * MULTILINESTRING or MULTIPOLYGON; curves are linearised. `wkb` is a scratch
 * buffer the caller keeps across features. TGIS_EPARSE if malformed.
 */
tgis_status tgis_src__geometry(tgis_geombuf *g, tgis_ctx *ctx, OGRGeometryH geom, int want,
                               tgis_src_shape *info, unsigned char **wkb, size_t *wkb_cap);

/* ---- reprojection ------------------------------------------------------------ */

typedef struct tgis_reproject {
  PJ *pj;                      /* NULL when source and target are the same */
  char src_name[128];
} tgis_reproject;

/**
 * Prepare a transform from the layer's CRS (or `s_srs` when given) to EPSG:srid.
 * TGIS_EPROJ with a message naming the source when it has no CRS and none
 * is given, or PROJ cannot build the transform.
 */
tgis_status tgis_reproject__init(tgis_reproject *r, tgis_ctx *ctx, OGRLayerH layer,
                                 const char *s_srs, int srid, const char *what);
/** Transform g in place; TGIS_EPROJ if a point cannot be transformed. */
tgis_status tgis_reproject__apply(tgis_reproject *r, tgis_ctx *ctx, tgis_geombuf *g);
void tgis_reproject__free(tgis_reproject *r);

/* ---- validation ---------------------------------------------------------------- */

/* What the checks decided about one feature. */
typedef struct tgis_verdict {
  int rejected;
  const char *field;           /* the field at fault, "geom" for geometry */
  char reason[512];
  int n_notes;                 /* repairs and warnings, stored with the row */
  struct {
    const char *action;        /* "repaired" or "warning" */
    const char *field;
    char reason[256];
  } notes[4];
} tgis_verdict;

void tgis_verdict__reject(tgis_verdict *v, const char *field, const char *fmt, ...)
    TGIS_PRINTF(3, 4);
void tgis_verdict__note(tgis_verdict *v, const char *action, const char *field,
                        const char *fmt, ...) TGIS_PRINTF(4, 5);

/**
 * Judge what tgis_src__geometry() collected for the target layer: empty or
 * of the wrong type is a reject; parts of another dimension that were
 * dropped are a repair note. Lines with several parts are left for the
 * caller to split.
 */
void tgis_validate__shape(const tgis_geombuf *g, const tgis_src_shape *info,
                          tgis_layer target, tgis_verdict *v);

/** Replace an area in g by a point inside it (GEOSPointOnSurface). */
tgis_status tgis_validate__inner_point(tgis_geombuf *g, tgis_ctx *ctx);

/** Validity of polygons (fast path, then GEOS) with repair by
 * GEOSMakeValid; degenerate lines rejected. */
tgis_status tgis_validate__geometry(tgis_geombuf *g, tgis_ctx *ctx, tgis_layer target,
                                    tgis_verdict *v);

/**
 * Convert one text value to the field's type and check it (enumeration,
 * identifier). `out` points into `store` for text (normalised). A value
 * that fails is a reject; an identifier warning is a note.
 */
void tgis_validate__field(tgis_value *out, const tgis_field_def *def, const char *text,
                          char *store, size_t store_len, tgis_verdict *v);

/* ---- the reading thread (reader.c) ------------------------------------------------- */

/* One source feature, prepared for writing: values, geometry in the
 * database CRS, and the verdict (a reject, or notes of repairs). */
typedef struct tgis_item {
  int64_t fid;
  tgis_verdict v;
  tgis_value vals[TGIS_MAX_FIELDS];  /* text values point into `text` */
  char *text;
  size_t text_cap;
  tgis_geombuf g;
} tgis_item;

typedef struct tgis_reader_config {
  const tgis_layer_rule *rule;
  OGRLayerH layer;             /* filter already set; read only by the reader */
  const char *what;            /* "source, layer X", for messages */
  const char *recode;          /* source text encoding to recode, or NULL */
  const char *s_srs;           /* CRS override, or NULL */
  int srid;                    /* the database CRS */
  int have_city;               /* features outside `city` are rejected */
  tgis_extent city;
} tgis_reader_config;

typedef struct tgis_reader tgis_reader;

/** Start reading a layer on a thread of its own (with its own context). */
tgis_status tgis_reader__start(tgis_reader **out, tgis_ctx *ctx, const tgis_reader_config *cfg);
/**
 * The next batch of prepared items, valid until the next call; *n == 0 at
 * the end. A failure of the reader comes back as its status, with its
 * message set on ctx.
 */
tgis_status tgis_reader__next(tgis_reader *r, tgis_ctx *ctx, tgis_item **items, int *n);
/** Stop the reader if it still runs, wait for it, free it. Returns the
 * number of GDAL warnings it saw. If r is NULL nothing occurs. */
int tgis_reader__finish(tgis_reader *r);

/* ---- changed areas ------------------------------------------------------------- */

/* Cells of a coarse grid that a run's features touched, for tile
 * invalidation; written to change_log at the end of the run. */
typedef struct tgis_change_cells {
  int64_t *cells;
  size_t n, cap;
  tgis_extent *boxes;          /* features larger than many cells */
  size_t n_boxes, cap_boxes;
  double size;                 /* cell size, metres */
  int overflow;                /* too many: fall back to one box */
  tgis_extent all;
  int any;
} tgis_change_cells;

void tgis_changes__init(tgis_change_cells *c, double cell_size);
tgis_status tgis_changes__add(tgis_change_cells *c, tgis_ctx *ctx, const tgis_extent *e);
tgis_status tgis_changes__write(tgis_change_cells *c, tgis_ctx *ctx, tgis_store *st,
                                int64_t run_id, tgis_layer layer);
void tgis_changes__free(tgis_change_cells *c, tgis_ctx *ctx);

/* ---- rejects file ------------------------------------------------------------ */

/** Open the CSV and write its header; NULL path = no file. */
tgis_status tgis_rejects__open(FILE **out, tgis_ctx *ctx, const char *path);
void tgis_rejects__write(FILE *f, const char *layer, int64_t fid, const char *action,
                         const char *field, const char *reason);

#endif /* TGIS_IMPORT_INT_H */
