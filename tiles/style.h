/*
 * style.h -- map styles: what to draw, in what order, in what colours.
 *
 * A style is one YAML file per theme (data/styles/README.md describes the
 * format). tgis_style_load() parses and checks it once into an immutable
 * tgis_style that any number of render threads then read without locks. The
 * structure is visible to the renderer (render.c); nothing else should need
 * more than the functions below.
 */
#ifndef TGIS_TILES_STYLE_H
#define TGIS_TILES_STYLE_H

#include <stddef.h>
#include <stdint.h>

#include "tgis.h"

/** Deepest zoom a style or a tile may name. */
#define TGIS_STYLE_MAX_ZOOM 22
/** Most stops in a zoom -> value table. */
#define TGIS_STYLE_MAX_STOPS 16
/** Largest width, size or distance a style may give, in pixels. */
#define TGIS_STYLE_MAX_PX 256.0
/** Farthest a label's box may reach from its anchor, pixels at scale 1:
 *  longer labels are not drawn. It bounds the area the renderer must look
 *  at to place labels the same way in neighbouring tiles. */
#define TGIS_STYLE_LABEL_REACH 100.0

/** A colour, straight (not premultiplied) alpha. */
typedef struct tgis_rgba {
  uint8_t r, g, b, a;
} tgis_rgba;

/** A value that is a constant or a table of zoom stops, interpolated
 *  linearly between stops and held constant beyond them. */
typedef struct tgis_style_num {
  int n;                          /* 0: constant `v[0]` */
  double z[TGIS_STYLE_MAX_STOPS];
  double v[TGIS_STYLE_MAX_STOPS];
} tgis_style_num;

/** A colour class: a numeric range min <= value < max, or (match) one
 *  text value. */
typedef struct tgis_style_class {
  double min, max;                /* -inf / +inf when open */
  char *value;                    /* MATCH: the attribute's text */
  tgis_rgba colour;
} tgis_style_class;

typedef enum tgis_paint_kind {
  TGIS_PAINT_NONE = 0,
  TGIS_PAINT_COLOUR,              /* one colour */
  TGIS_PAINT_CLASSES,             /* ranges of a numeric attribute */
  TGIS_PAINT_MATCH                /* values of a text attribute */
} tgis_paint_kind;

/** A fill or stroke colour: none, constant, or by attribute. */
typedef struct tgis_style_paint {
  tgis_paint_kind kind;
  tgis_rgba colour;               /* COLOUR */
  char *attribute;                /* CLASSES, MATCH: the attribute */
  tgis_style_class *classes;      /* checked in order */
  size_t n_classes;
  int has_default;                /* colour for null/unmatched values */
  tgis_rgba fallback;
} tgis_style_paint;

/** Attribute `key` equals one of `values` (compared as text). */
typedef struct tgis_style_filter {
  char *key;
  char **values;
  size_t n_values;
} tgis_style_filter;

typedef enum tgis_symbol_shape {
  TGIS_SYMBOL_NONE = 0,
  TGIS_SYMBOL_CIRCLE,
  TGIS_SYMBOL_SQUARE
} tgis_symbol_shape;

typedef enum tgis_label_place {
  TGIS_LABEL_AUTO = 0,            /* lines: along; polygons: centre; points:
                                     right of a symbol, else centre */
  TGIS_LABEL_CENTER,
  TGIS_LABEL_RIGHT,
  TGIS_LABEL_ABOVE
} tgis_label_place;

typedef struct tgis_style_label {
  char *attribute;                /* NULL: no label */
  double size;                    /* font size, px */
  int bold;
  tgis_rgba colour;
  tgis_rgba halo;                 /* a = 0: no halo */
  double halo_width;              /* px */
  int min_zoom, max_zoom;
  int priority;                   /* higher wins a collision */
  double padding;                 /* px kept free around the text */
  double repeat_distance;         /* same text nearer than this: one drawn */
  tgis_label_place placement;
} tgis_style_label;

typedef enum tgis_line_cap { TGIS_CAP_BUTT = 0, TGIS_CAP_ROUND, TGIS_CAP_SQUARE } tgis_line_cap;
typedef enum tgis_line_join { TGIS_JOIN_ROUND = 0, TGIS_JOIN_MITER, TGIS_JOIN_BEVEL } tgis_line_join;

typedef struct tgis_style_layer {
  char *id;                       /* for messages; "layers[i]" if not given */
  char *source;                   /* source layer (table) name */
  int min_zoom, max_zoom;
  tgis_style_filter *filters;     /* all must hold */
  size_t n_filters;
  tgis_style_paint fill;
  tgis_style_paint stroke;
  tgis_style_num stroke_width;
  double dash[8];                 /* on/off lengths, px; n_dash 0 = solid */
  int n_dash;
  tgis_line_cap cap;
  tgis_line_join join;
  int has_casing;
  tgis_style_num casing_width;    /* added on each side of the stroke */
  tgis_rgba casing_colour;
  tgis_symbol_shape symbol;
  tgis_style_num symbol_size;     /* diameter / side, px */
  tgis_style_paint symbol_fill;
  tgis_rgba symbol_stroke;
  double symbol_stroke_width;
  tgis_style_label label;
} tgis_style_layer;

/** A parsed theme. Immutable once loaded. */
typedef struct tgis_style {
  char *name;                     /* file name without .yaml */
  char *title;                    /* human title, may be NULL */
  int has_background;
  tgis_rgba background;
  tgis_style_layer *layers;       /* drawn in order */
  size_t n_layers;
  tgis_ctx *ctx;                  /* allocator; must outlive the style */
} tgis_style;

/**
 * Load and check a style file.
 *
 * Every error names the file (its base name), the line and the key:
 * "base.yaml:14: layers[2].stroke: '#12345' is not a colour". Unknown keys,
 * wrong types, bad colours, zoom ranges and values out of range are errors.
 *
 * @param[out] out  the style, owned by the caller (tgis_style_free()); NULL
 *                  on failure
 * @param ctx       allocations and the error message; must outlive the style
 * @return TGIS_OK, TGIS_EIO (cannot read), TGIS_EPARSE (bad YAML or bad
 *         style), TGIS_ENOMEM.
 *
 * Threading: the result is never modified; share it read-only between
 * threads (each with its own context for rendering).
 */
tgis_status tgis_style_load(tgis_style **out, tgis_ctx *ctx, const char *path);

/**
 * Parse a style from memory; as tgis_style_load(), with `name` standing for
 * the file name in messages (e.g. "base.yaml").
 */
tgis_status tgis_style_parse(tgis_style **out, tgis_ctx *ctx, const char *name,
                             const char *text, size_t len);

/** Free a style. If s is NULL nothing occurs. */
void tgis_style_free(tgis_style *s);

/** Value of a zoom-dependent number at zoom z. */
double tgis_style_num_at(const tgis_style_num *n, double z);

/**
 * Add the attribute keys layer `l` reads (its filters' keys, the attributes
 * of its class or match paints, its label's attribute) to the set
 * keys[0..*n), each key once (compared as text). The pointers are borrowed
 * from the style.
 * @return 0, or -1 if the set would need more than `cap` keys (it then
 *         holds the first `cap`; the caller should ask for all attributes).
 */
int tgis_style_layer_keys(const tgis_style_layer *l, const char **keys, size_t *n, size_t cap);

/**
 * Parse "#rgb", "#rrggbb" or "#rrggbbaa".
 * @return 0 on success, -1 if `s` is not a colour.
 */
int tgis_style_parse_colour(tgis_rgba *out, const char *s);

#endif /* TGIS_TILES_STYLE_H */
