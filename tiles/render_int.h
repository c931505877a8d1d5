/*
 * render_int.h -- what the renderer's files share: the scratch, the frame of
 * a render, batches and label candidates, and small helpers. Internal to
 * tiles/: render.c draws (query, batches, fills, lines), labels.c places
 * and draws the labels.
 */
#ifndef TGIS_TILES_RENDER_INT_H
#define TGIS_TILES_RENDER_INT_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include <cairo.h>

#include "tgis_int.h"
#include "raster.h"
#include "render.h"

/* Length of (dx, dy): libm's hypot() guards against overflow at a cost
 * that showed in profiles; pixel coordinates here stay far below it. */
static inline double dist(double dx, double dy) { return sqrt(dx * dx + dy * dy); }

enum { PASS_FILL, PASS_CASING, PASS_STROKE, PASS_SYMBOL, N_PASS };

#define MAX_FONTS 16
#define LABEL_CELL 64.0
#define COORD_LIMIT 4.0e6    /* keep Cairo's 24.8 fixed point in range */
#define FONT_FAMILY "DejaVu Sans"
#define HAIRLINE 1.5         /* device px: strokes up to this are hairlines */
#define LMARGIN 16           /* label mask beyond the image: the widest halo */
#define GLYPH_POOL_MAX (1u << 20)   /* cached outline points before starting over */
#define ADVANCE_MAX (1u << 16)      /* cached character advances before starting over */

typedef struct rring {
  uint32_t off, n;           /* points in pts[2*off ..] */
  int closed;
} rring;

typedef struct ritem {
  uint32_t batch, ring0, nrings;
} ritem;

typedef struct rbatch {
  uint32_t layer;
  int pass, cls;
  tgis_rgba colour;
  uint32_t count, first;     /* items in sorted[first .. first+count) */
} rbatch;

typedef struct label_font {
  double size;
  int bold;
  cairo_scaled_font_t *sf;   /* scale 1, for measuring */
  double ascent, descent;
} label_font;

typedef struct cand {
  uint32_t layer;
  int priority;
  double weight;             /* length or area: longer roads win */
  int64_t id;
  double ax, ay;             /* anchor, global px at scale 1 */
  double cx, cy;             /* centre of the text box */
  double cosa, sina;         /* text direction */
  double hw, hh;             /* half sizes of the padded box */
  double tw;                 /* advance width of the text */
  double minx, miny, maxx, maxy;  /* bounding box of the padded box */
  size_t text;               /* offset in the text pool */
  const char *textp;         /* resolved once the pool stops moving */
  int font;
  int drawn;
  int ink[4];                /* x0, y0, x1, y1: label mask pixels it drew */
} cand;

typedef struct mentry {
  size_t text;               /* offset in the text pool; SIZE_MAX = empty */
  uint32_t hash;
  int font;
  double width;
} mentry;

typedef struct aentry {
  double size;               /* font size at scale 1; 0 = empty */
  uint32_t cp;               /* a character */
  int bold;
  double advance;
} aentry;

typedef struct gentry {
  double size;               /* font size in device px; 0 = empty */
  unsigned long index;       /* glyph index in the face */
  int bold;
  size_t off, n;             /* points gpts[2*off ..] */
} gentry;

typedef struct layer_state {
  int draw, label;           /* active at this zoom */
  double stroke_w, casing_w, symbol_size;   /* scale 1 px */
  int font;
} layer_state;

struct tgis_render_scratch {
  tgis_ctx *ctx;
  cairo_surface_t *surface;
  cairo_t *cr;
  int sw, sh;
  cairo_surface_t *lmask;    /* A8: label text coverage, kept all zero */
  cairo_t *lcr;
  tgis_raster *raster;       /* fills and wide strokes */
  uint8_t *hair;             /* hairline and halo coverage, w*h, kept zero */
  double *dpts;              /* one dash of a dashed line */
  size_t cap_dpts;
  size_t cap_hair;
  int hair_w, hair_h;
  uint8_t *rgba;
  size_t rgba_cap;
  double *pts;
  size_t n_pts, cap_pts;
  rring *rings;
  size_t n_rings, cap_rings;
  ritem *items, *sorted;
  size_t n_items, cap_items, cap_sorted;
  rbatch *batches;
  size_t n_batches, cap_batches;
  uint32_t *border;
  size_t cap_border;
  int *bidx;
  size_t cap_bidx;
  layer_state *ls;
  size_t cap_ls;
  cand *cands;
  size_t n_cands, cap_cands;
  char *text;
  size_t n_text, cap_text;
  mentry *mcache;
  size_t mcap, mcount;
  aentry *acache;            /* character advances, kept across renders */
  size_t acap, acount;
  gentry *gcache;            /* glyph outlines, kept across renders */
  size_t gcap, gcount;
  double *gpts;              /* their points; NAN, NAN ends a contour */
  size_t n_gpts, cap_gpts;
  double *lpts;              /* one label's outline in mask pixels */
  size_t cap_lpts;
  uint32_t *gstart, *gitems;
  size_t cap_gstart, cap_gitems;
  cairo_font_face_t *face[2];
  label_font fonts[MAX_FONTS];
  int n_fonts;
  tgis_render_stats stats;
};

typedef struct frame {
  tgis_render_scratch *r;
  const tgis_style *style;
  int z, scale;
  double k;                  /* scale-1 pixels per metre */
  double ox, oy;             /* global px of the image's top-left corner */
  double iw, ih;             /* image size at scale 1 */
  size_t g0, g1;             /* the group: layers [g0, g1) */
  int cls_stride;
  tgis_extent draw_px;       /* global px where geometry shows */
  tgis_extent label_px;      /* global px where label candidates matter */
} frame;

typedef struct hair_box { int x0, y0, x1, y1; } hair_box;

/* Grow *arr to hold `need` elements of `size` bytes. */
static inline int reserve(tgis_ctx *ctx, void *arrp, size_t *cap, size_t need, size_t size)
{
  void **arr = arrp;
  size_t n = *cap ? *cap : 64;
  void *p;
  if (need <= *cap)
    return 0;
  while (n < need)
    n *= 2;
  if (n > SIZE_MAX / size || !(p = tgis__realloc(ctx, *arr, n * size)))
    return -1;
  *arr = p;
  *cap = n;
  return 0;
}

static inline const char *attr(const tgis_feature_view *f, const char *key)
{
  /* The source names the keys render_group() asked for by the very
   * pointers it was given, the style's own strings: most lookups end at a
   * pointer comparison. */
  for (size_t i = 0; i < f->n_attrs; i++)
    if (f->keys[i] == key)
      return f->values[i];
  for (size_t i = 0; i < f->n_attrs; i++)
    if (f->keys[i] && strcmp(f->keys[i], key) == 0)
      return f->values[i];
  return NULL;
}

static inline int boxes_meet(const tgis_extent *a, const tgis_extent *b)
{
  return a->minx <= b->maxx && b->minx <= a->maxx && a->miny <= b->maxy && b->miny <= a->maxy;
}

/* Global pixel position (scale 1) of a point in metres. */
static inline double gpx(const frame *fr, double mx) { return (mx + TGIS_MERC_HALF) * fr->k; }
static inline double gpy(const frame *fr, double my) { return (TGIS_MERC_HALF - my) * fr->k; }

/* floor() for pixel indices, without a call into libm. */
static inline int ifloor(double v)
{
  int i = (int)v;
  return i - (v < i);
}


/* ---- between render.c and labels.c ---------------------------------------- */

/** The hairline and halo mask, sized to the surface and all zero. */
tgis_status tgis_render__hair_buffer(tgis_render_scratch *r);

/** Composite `colour` through coverage mask m (row stride mstride) into
 *  the surface within box bb, clearing the mask there. */
void tgis_render__composite_mask(tgis_render_scratch *r, uint8_t *m, int mstride,
                                 tgis_rgba colour, const hair_box *bb);

/** The index in r->fonts of the label font of a size and weight, made on
 *  first use. */
tgis_status tgis_render__font_for(int *out, tgis_render_scratch *r, double size, int bold);

/** File the label candidate of feature f for layer li, if it has one that
 *  may show. */
tgis_status tgis_render__add_candidate(frame *fr, size_t li, const tgis_feature_view *f);

/** Decide which candidates are drawn (rank, overlap, repeats). */
tgis_status tgis_render__place_labels(frame *fr);

/** Draw the placed labels with their halos. */
tgis_status tgis_render__draw_labels(frame *fr);

#endif /* TGIS_TILES_RENDER_INT_H */
