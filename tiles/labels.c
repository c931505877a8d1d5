/*
 * labels.c -- label candidates, placement and drawing (see render.c's
 * header for how placement stays the same across tile edges).
 *
 * Text: Cairo maps a label's text to glyphs and gives each glyph's outline
 * once per scratch (face, size, glyph); the outlines are placed and turned
 * along the label and filled by the exact-area rasteriser (raster.c) into
 * a mask; the halo is that mask dilated. Widths come from character
 * advances cached per scratch.
 */
#include <assert.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "render_int.h"

/* A cache table (open addressing, an all-zero entry is empty) started
 * over with `cap` entries, all empty: reallocated when the size changes. */
static int restart_cache(tgis_ctx *ctx, void *tabp, size_t *have, size_t cap, size_t size)
{
  void **tab = tabp;
  if (cap != *have) {
    void *t = tgis__realloc(ctx, *tab, cap * size);
    if (!t)
      return -1;
    *tab = t;
    *have = cap;
  }
  memset(*tab, 0, cap * size);
  return 0;
}

/* ---- label candidates ---------------------------------------------------- */

static uint32_t hash_text(const char *s, int font)
{
  uint32_t h = 2166136261u ^ (uint32_t)font;
  for (; *s; s++)
    h = (h ^ (uint8_t)*s) * 16777619u;
  return h;
}

/* Is s well-formed UTF-8 of characters Cairo accepts? Cairo puts a font
 * that measured anything else, and a context that drew it, into an error
 * state for good: every later label of the scratch would vanish. */
static int utf8_ok(const char *s)
{
  const uint8_t *p = (const uint8_t *)s;
  while (*p) {
    uint32_t c = *p, min;
    int n = c < 0x80 ? 0 : (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2 : (c & 0xf8) == 0xf0 ? 3 : -1;
    if (n < 0)
      return 0;
    min = n == 1 ? 0x80 : n == 2 ? 0x800 : 0x10000;
    c &= 0x7f >> n;
    for (int i = 1; i <= n; i++) {
      if ((p[i] & 0xc0) != 0x80)
        return 0;
      c = c << 6 | (p[i] & 0x3f);
    }
    if (n && (c < min || c >= 0x110000 || (c & 0xfffff800) == 0xd800 ||
              (c >= 0xfdd0 && c <= 0xfdef) || (c & 0xfffe) == 0xfffe))
      return 0;
    p += n + 1;
  }
  return 1;
}

static tgis_status add_text(size_t *off, tgis_render_scratch *r, const char *s, size_t n)
{
  if (reserve(r->ctx, &r->text, &r->cap_text, r->n_text + n + 1, 1))
    return TGIS_ENOMEM;
  memcpy(r->text + r->n_text, s, n);
  r->text[r->n_text + n] = '\0';
  *off = r->n_text;
  r->n_text += n + 1;
  return TGIS_OK;
}

tgis_status tgis_render__font_for(int *out, tgis_render_scratch *r, double size, int bold)
{
  cairo_font_options_t *fo;
  cairo_matrix_t fm, ctm;
  cairo_font_extents_t fe;
  label_font *lf;
  for (int i = 0; i < r->n_fonts; i++)
    if (r->fonts[i].size == size && r->fonts[i].bold == bold) {
      *out = i;
      return TGIS_OK;
    }
  if (r->n_fonts == MAX_FONTS)
    return tgis__fail(r->ctx, TGIS_EINVAL, "render: more than %d label fonts in one style",
                      MAX_FONTS);
  if (!(fo = cairo_font_options_create()))
    return TGIS_ENOMEM;
  /* Unhinted outlines and linear advances: a label measures the same at
   * scale 1 and 2 and wherever it is drawn. */
  cairo_font_options_set_hint_style(fo, CAIRO_HINT_STYLE_NONE);
  cairo_font_options_set_hint_metrics(fo, CAIRO_HINT_METRICS_OFF);
  cairo_matrix_init_scale(&fm, size, size);
  cairo_matrix_init_identity(&ctm);
  lf = &r->fonts[r->n_fonts];
  lf->sf = cairo_scaled_font_create(r->face[bold ? 1 : 0], &fm, &ctm, fo);
  cairo_font_options_destroy(fo);
  if (cairo_scaled_font_status(lf->sf)) {
    cairo_scaled_font_destroy(lf->sf);
    lf->sf = NULL;
    return tgis__fail(r->ctx, TGIS_ENOMEM, "render: cannot load the label font");
  }
  cairo_scaled_font_extents(lf->sf, &fe);
  lf->size = size;
  lf->bold = bold;
  lf->ascent = fe.ascent;
  lf->descent = fe.descent;
  *out = r->n_fonts++;
  return TGIS_OK;
}

/* The advance of the character cp, UTF-8 bytes u[0 .. n), in a label
 * font: measured by Cairo once per scratch, face, size and character. */
static tgis_status char_advance(double *adv, tgis_render_scratch *r, const label_font *lf,
                                uint32_t cp, const char *u, size_t n)
{
  uint32_t h = (cp * 2654435761u) ^ (uint32_t)(lf->size * 64) ^ (uint32_t)lf->bold;
  size_t mask, i;
  cairo_text_extents_t te;
  char one[5];
  if (r->acount * 2 >= r->acap || r->acount >= ADVANCE_MAX) {
    /* Start over rather than rehash: a few texts refill it. */
    size_t cap = r->acount < ADVANCE_MAX ? (r->acap ? r->acap * 2 : 256) : r->acap;
    if (restart_cache(r->ctx, &r->acache, &r->acap, cap, sizeof *r->acache))
      return TGIS_ENOMEM;
    r->acount = 0;
  }
  mask = r->acap - 1;
  h ^= h >> 16;
  for (i = h & mask; r->acache[i].size != 0; i = (i + 1) & mask) {
    const aentry *e = &r->acache[i];
    if (e->cp == cp && e->size == lf->size && e->bold == lf->bold) {
      *adv = e->advance;
      return TGIS_OK;
    }
  }
  memcpy(one, u, n);
  one[n] = '\0';
  /* One glyph at x = 0: its extents' advance is the glyph's advance, the
   * very number Cairo adds up in cairo_scaled_font_text_extents. */
  cairo_scaled_font_text_extents(lf->sf, one, &te);
  r->acache[i].size = lf->size;
  r->acache[i].cp = cp;
  r->acache[i].bold = lf->bold;
  r->acache[i].advance = te.x_advance;
  r->acount++;
  *adv = te.x_advance;
  return TGIS_OK;
}

/* Width of a text at scale 1, measured once per render and text. */
static tgis_status measure(double *w, tgis_render_scratch *r, int font, const char *s)
{
  uint32_t h = hash_text(s, font);
  size_t mask, i;
  tgis_status st;
  if (r->mcount * 2 >= r->mcap) {
    size_t cap = r->mcap ? r->mcap * 2 : 256;
    mentry *m = tgis__malloc(r->ctx, cap * sizeof *m);
    if (!m)
      return TGIS_ENOMEM;
    for (i = 0; i < cap; i++)
      m[i].text = SIZE_MAX;
    for (size_t j = 0; j < r->mcap; j++) {
      if (r->mcache[j].text == SIZE_MAX)
        continue;
      for (i = r->mcache[j].hash & (cap - 1); m[i].text != SIZE_MAX; i = (i + 1) & (cap - 1))
        ;
      m[i] = r->mcache[j];
    }
    tgis__free(r->ctx, r->mcache);
    r->mcache = m;
    r->mcap = cap;
  }
  mask = r->mcap - 1;
  for (i = h & mask; r->mcache[i].text != SIZE_MAX; i = (i + 1) & mask) {
    const mentry *e = &r->mcache[i];
    if (e->hash == h && e->font == font && strcmp(r->text + e->text, s) == 0) {
      *w = e->width;
      return TGIS_OK;
    }
  }
  {
    /* Cairo's text extents add the glyphs' advances from x = 0, left to
     * right, as here: the same sum, without mapping the text to glyphs
     * and looking each one up again for every text. s is UTF-8 (see
     * utf8_ok). */
    const uint8_t *p = (const uint8_t *)s;
    double x = 0, a;
    while (*p) {
      uint32_t cp = *p;
      size_t n = cp < 0x80 ? 1 : cp < 0xe0 ? 2 : cp < 0xf0 ? 3 : 4;
      cp &= n == 1 ? 0x7f : 0x7f >> n;
      for (size_t k = 1; k < n; k++)
        cp = cp << 6 | (p[k] & 0x3f);
      if ((st = char_advance(&a, r, &r->fonts[font], cp, (const char *)p, n)))
        return st;
      x += a;
      p += n;
    }
    *w = x;
  }
  r->mcache[i].hash = h;
  r->mcache[i].font = font;
  r->mcache[i].width = *w;
  if ((st = add_text(&r->mcache[i].text, r, s, strlen(s))))
    return st;
  r->mcount++;
  return TGIS_OK;
}

/* Point at distance s along a run of global pixel points. */
static void point_along(const frame *fr, const double *xy, size_t n, double s, double *x, double *y)
{
  for (size_t i = 1; i < n; i++) {
    double x0 = gpx(fr, xy[2 * i - 2]), y0 = gpy(fr, xy[2 * i - 1]);
    double x1 = gpx(fr, xy[2 * i]), y1 = gpy(fr, xy[2 * i + 1]);
    double d = dist(x1 - x0, y1 - y0);
    if (s <= d || i == n - 1) {
      double t = d > 0 ? fmin(fmax(s / d, 0), 1) : 0;
      *x = x0 + t * (x1 - x0);
      *y = y0 + t * (y1 - y0);
      return;
    }
    s -= d;
  }
  *x = gpx(fr, xy[0]);
  *y = gpy(fr, xy[1]);
}

static double run_length(const frame *fr, const double *xy, size_t n)
{
  double len = 0;
  for (size_t i = 1; i < n; i++)
    len += dist(gpx(fr, xy[2 * i]) - gpx(fr, xy[2 * i - 2]),
                 gpy(fr, xy[2 * i + 1]) - gpy(fr, xy[2 * i - 1]));
  return len;
}

tgis_status tgis_render__add_candidate(frame *fr, size_t li, const tgis_feature_view *f)
{
  tgis_render_scratch *r = fr->r;
  const tgis_style_layer *l = &fr->style->layers[li];
  const tgis_style_label *lb = &l->label;
  const layer_state *ls = &r->ls[li];
  const tgis_geombuf *g = f->geom;
  const char *text = attr(f, lb->attribute);
  const label_font *lf;
  cand c;
  double w, h, ex, ey, halo;
  tgis_status st;
  size_t len;

  if (!text || !text[0] || (len = strlen(text)) > 200 || g->n_points == 0 || !utf8_ok(text))
    return TGIS_OK;
  if ((st = measure(&w, r, ls->font, text)))
    return st;
  lf = &r->fonts[ls->font];
  memset(&c, 0, sizeof c);
  c.layer = (uint32_t)li;
  c.priority = lb->priority;
  c.id = f->id;
  c.font = ls->font;
  c.tw = w;
  c.cosa = 1;
  halo = lb->halo.a ? lb->halo_width : 0;
  h = lf->ascent + lf->descent;
  c.hw = w / 2 + halo + lb->padding;
  c.hh = h / 2 + halo + lb->padding;

  if (g->type == TGIS_GEOM_LINESTRING || g->type == TGIS_GEOM_MULTILINESTRING) {
    /* Along the longest part, centred at its middle, if it fits straight. */
    size_t best = 0, best_n = g->n_points, pt = 0;
    double best_len = -1, x0, y0, x1, y1, chord, ang;
    if (g->n_parts == 0) {
      best_len = run_length(fr, g->xy, g->n_points);
    } else {
      for (size_t p = 0; p < g->n_parts && pt + g->parts[p] <= g->n_points; p++) {
        double pl = run_length(fr, g->xy + 2 * pt, g->parts[p]);
        if (pl > best_len) {
          best_len = pl;
          best = pt;
          best_n = g->parts[p];
        }
        pt += g->parts[p];
      }
    }
    /* Roads come split at junctions: a name may run past the ends of a
     * straight piece at least half as long as the text. */
    double span = fmin(w, best_len);
    if (best_n < 2 || best_len < 0.5 * w)
      return TGIS_OK;
    point_along(fr, g->xy + 2 * best, best_n, best_len / 2, &c.ax, &c.ay);
    point_along(fr, g->xy + 2 * best, best_n, (best_len - span) / 2, &x0, &y0);
    point_along(fr, g->xy + 2 * best, best_n, (best_len + span) / 2, &x1, &y1);
    chord = dist(x1 - x0, y1 - y0);
    if (chord < 0.92 * span || chord <= 0)
      return TGIS_OK;     /* the line bends under the text */
    ang = atan2(y1 - y0, x1 - x0);
    if (ang > M_PI / 2)
      ang -= M_PI;
    else if (ang <= -M_PI / 2)
      ang += M_PI;
    c.cosa = cos(ang);
    c.sina = sin(ang);
    c.cx = c.ax;
    c.cy = c.ay;
    c.weight = best_len;
  } else if (g->type == TGIS_GEOM_POLYGON || g->type == TGIS_GEOM_MULTIPOLYGON) {
    /* At the centroid of the largest shell, if the text fits its width. */
    size_t npoly = g->n_polys ? g->n_polys : 1, part = 0, pt = 0;
    double best_a = -1, bx = 0, by = 0, bw = 0;
    for (size_t p = 0; p < npoly; p++) {
      size_t nr = g->n_polys ? g->polys[p] : g->n_parts;
      for (size_t k = 0; k < nr && part < g->n_parts; k++, part++) {
        size_t n = g->parts[part];
        if (pt + n > g->n_points)
          break;
        if (k == 0 && n >= 3) {
          const double *q = g->xy + 2 * pt;
          double a = 0, sx = 0, sy = 0, minx = INFINITY, maxx = -INFINITY;
          for (size_t i = 0, j = n - 1; i < n; j = i++) {
            double xi = gpx(fr, q[2 * i]), yi = gpy(fr, q[2 * i + 1]);
            double xj = gpx(fr, q[2 * j]), yj = gpy(fr, q[2 * j + 1]);
            double cr = xj * yi - xi * yj;
            a += cr;
            sx += (xi + xj) * cr;
            sy += (yi + yj) * cr;
            minx = fmin(minx, xi);
            maxx = fmax(maxx, xi);
          }
          if (fabs(a) > best_a && a != 0) {
            best_a = fabs(a);
            bx = sx / (3 * a);
            by = sy / (3 * a);
            bw = maxx - minx;
          }
        }
        pt += n;
      }
    }
    if (best_a <= 0 || bw < w)
      return TGIS_OK;
    c.ax = c.cx = bx;
    c.ay = c.cy = by;
    c.weight = best_a / 2;
  } else {
    /* Points: beside the symbol, or on the point. */
    double rad = l->symbol ? ls->symbol_size / 2 + l->symbol_stroke_width / 2 + 2 : 0;
    c.ax = c.cx = gpx(fr, g->xy[0]);
    c.ay = c.cy = gpy(fr, g->xy[1]);
    tgis_label_place place = lb->placement;
    if (place == TGIS_LABEL_AUTO)
      place = l->symbol ? TGIS_LABEL_RIGHT : TGIS_LABEL_CENTER;
    if (place == TGIS_LABEL_RIGHT)
      c.cx += rad + c.hw;
    else if (place == TGIS_LABEL_ABOVE)
      c.cy -= rad + c.hh;
  }
  ex = fabs(c.cosa) * c.hw + fabs(c.sina) * c.hh;
  ey = fabs(c.sina) * c.hw + fabs(c.cosa) * c.hh;
  c.minx = c.cx - ex;
  c.maxx = c.cx + ex;
  c.miny = c.cy - ey;
  c.maxy = c.cy + ey;
  /* Too long to place the same way in every tile it touches. */
  if (c.ax - c.minx > TGIS_STYLE_LABEL_REACH || c.maxx - c.ax > TGIS_STYLE_LABEL_REACH ||
      c.ay - c.miny > TGIS_STYLE_LABEL_REACH || c.maxy - c.ay > TGIS_STYLE_LABEL_REACH)
    return TGIS_OK;
  {
    tgis_extent box = { c.minx, c.miny, c.maxx, c.maxy };
    if (!boxes_meet(&box, &fr->label_px))
      return TGIS_OK;
  }
  if ((st = add_text(&c.text, r, text, len)))
    return st;
  if (reserve(r->ctx, &r->cands, &r->cap_cands, r->n_cands + 1, sizeof *r->cands))
    return TGIS_ENOMEM;
  r->cands[r->n_cands++] = c;
  return TGIS_OK;
}

/* ---- label placement ----------------------------------------------------- */

static int cand_cmp(const void *pa, const void *pb)
{
  const cand *a = pa, *b = pb;
  int t;
  if (a->priority != b->priority)
    return a->priority > b->priority ? -1 : 1;
  if (a->weight != b->weight)
    return a->weight > b->weight ? -1 : 1;
  if (a->layer != b->layer)
    return a->layer < b->layer ? -1 : 1;
  if (a->id != b->id)
    return a->id < b->id ? -1 : 1;
  if (a->ay != b->ay)
    return a->ay < b->ay ? -1 : 1;
  if (a->ax != b->ax)
    return a->ax < b->ax ? -1 : 1;
  t = strcmp(a->textp, b->textp);
  return t;
}

/* Do the two padded, rotated boxes overlap? (separating axes) */
static int cand_overlap(const cand *a, const cand *b)
{
  const cand *box[2] = { a, b };
  double dx = b->cx - a->cx, dy = b->cy - a->cy;
  if (a->maxx <= b->minx || b->maxx <= a->minx || a->maxy <= b->miny || b->maxy <= a->miny)
    return 0;
  for (int i = 0; i < 2; i++) {
    for (int axis = 0; axis < 2; axis++) {
      double ux = axis ? -box[i]->sina : box[i]->cosa, uy = axis ? box[i]->cosa : box[i]->sina;
      double ra = fabs(a->cosa * ux + a->sina * uy) * a->hw + fabs(-a->sina * ux + a->cosa * uy) * a->hh;
      double rb = fabs(b->cosa * ux + b->sina * uy) * b->hw + fabs(-b->sina * ux + b->cosa * uy) * b->hh;
      if (fabs(dx * ux + dy * uy) >= ra + rb)
        return 0;
    }
  }
  return 1;
}

tgis_status tgis_render__place_labels(frame *fr)
{
  tgis_render_scratch *r = fr->r;
  size_t n = r->n_cands, nx, ny, total = 0;
  double gx0 = INFINITY, gy0 = INFINITY, gx1 = -INFINITY, gy1 = -INFINITY;
  tgis_extent img = { fr->ox, fr->oy, fr->ox + fr->iw, fr->oy + fr->ih };

  for (size_t i = 0; i < n; i++)
    r->cands[i].textp = r->text + r->cands[i].text;
  qsort(r->cands, n, sizeof *r->cands, cand_cmp);   /* index = rank */
  for (size_t i = 0; i < n; i++) {
    gx0 = fmin(gx0, r->cands[i].minx);
    gy0 = fmin(gy0, r->cands[i].miny);
    gx1 = fmax(gx1, r->cands[i].maxx);
    gy1 = fmax(gy1, r->cands[i].maxy);
  }
  nx = (size_t)fmin(256, floor((gx1 - gx0) / LABEL_CELL) + 1);
  ny = (size_t)fmin(256, floor((gy1 - gy0) / LABEL_CELL) + 1);
  if (reserve(r->ctx, &r->gstart, &r->cap_gstart, nx * ny + 1, sizeof *r->gstart))
    return TGIS_ENOMEM;
  memset(r->gstart, 0, (nx * ny + 1) * sizeof *r->gstart);
#define CELLX(v) ((size_t)fmin((double)(nx - 1), fmax(0.0, floor(((v) - gx0) / LABEL_CELL))))
#define CELLY(v) ((size_t)fmin((double)(ny - 1), fmax(0.0, floor(((v) - gy0) / LABEL_CELL))))
  for (size_t i = 0; i < n; i++) {
    const cand *c = &r->cands[i];
    for (size_t y = CELLY(c->miny); y <= CELLY(c->maxy); y++)
      for (size_t x = CELLX(c->minx); x <= CELLX(c->maxx); x++)
        r->gstart[y * nx + x + 1]++, total++;
  }
  for (size_t c = 0; c < nx * ny; c++)
    r->gstart[c + 1] += r->gstart[c];
  if (reserve(r->ctx, &r->gitems, &r->cap_gitems, total + 1, sizeof *r->gitems))
    return TGIS_ENOMEM;
  /* Fill back to front so each cell lists candidates by rank. */
  for (size_t i = n; i-- > 0;) {
    const cand *c = &r->cands[i];
    for (size_t y = CELLY(c->miny); y <= CELLY(c->maxy); y++)
      for (size_t x = CELLX(c->minx); x <= CELLX(c->maxx); x++)
        r->gitems[--r->gstart[y * nx + x + 1]] = (uint32_t)i;
  }
  /* gstart[c+1] now marks the start of cell c; shift back. */
  for (size_t c = 0; c < nx * ny; c++)
    r->gstart[c] = r->gstart[c + 1];
  r->gstart[nx * ny] = (uint32_t)total;

  for (size_t i = 0; i < n; i++) {
    cand *c = &r->cands[i];
    const tgis_style_label *lb = &fr->style->layers[c->layer].label;
    tgis_extent box = { c->minx, c->miny, c->maxx, c->maxy };
    double rep = lb->repeat_distance;
    int hidden = 0;
    c->drawn = 0;
    if (!boxes_meet(&box, &img))
      continue;   /* not in this image: its fate is another tile's */
    size_t x0 = CELLX(fmin(c->minx, c->ax - rep)), x1 = CELLX(fmax(c->maxx, c->ax + rep));
    size_t y0 = CELLY(fmin(c->miny, c->ay - rep)), y1 = CELLY(fmax(c->maxy, c->ay + rep));
    for (size_t y = y0; y <= y1 && !hidden; y++) {
      for (size_t x = x0; x <= x1 && !hidden; x++) {
        size_t cell = y * nx + x;
        uint32_t end = cell + 1 < nx * ny ? r->gstart[cell + 1] : (uint32_t)total;
        for (uint32_t k = r->gstart[cell]; k < end; k++) {
          const cand *d = &r->cands[r->gitems[k]];
          if (r->gitems[k] >= i)
            break;   /* the rest rank lower */
          if (cand_overlap(c, d) ||
              (rep > 0 && d->layer == c->layer && dist(d->ax - c->ax, d->ay - c->ay) < rep &&
               strcmp(d->textp, c->textp) == 0)) {
            hidden = 1;
            break;
          }
        }
      }
    }
    c->drawn = !hidden;
  }
#undef CELLX
#undef CELLY
  return TGIS_OK;
}

/* The outline of a glyph of the face (bold or not) at a size in device
 * pixels, flattened by Cairo at the label context's tolerance, with the
 * glyph's origin at (0, 0): *pts until the next call. Cached in the
 * scratch, as loading an outline costs more than drawing it. */
static tgis_status glyph_outline(const double **pts, size_t *n, tgis_render_scratch *r, int bold,
                                 double size, unsigned long index)
{
  cairo_t *lc = r->lcr;
  cairo_glyph_t g = { index, 0, 0 };
  cairo_path_t *path;
  size_t mask, i, need;
  uint64_t sb;
  uint32_t h;
  memcpy(&sb, &size, sizeof sb);
  h = (uint32_t)(index * 2654435761u) ^ (uint32_t)(sb >> 32) ^ (uint32_t)sb ^ (uint32_t)bold;
  h ^= h >> 15;
  if (r->gcount * 2 >= r->gcap || r->n_gpts > GLYPH_POOL_MAX) {
    /* Start over rather than rehash: the cache refills in one label. */
    size_t cap = r->gcount * 2 >= r->gcap && r->n_gpts <= GLYPH_POOL_MAX
                 ? (r->gcap ? r->gcap * 2 : 512) : r->gcap;
    if (restart_cache(r->ctx, &r->gcache, &r->gcap, cap, sizeof *r->gcache))
      return TGIS_ENOMEM;
    r->gcount = r->n_gpts = 0;
  }
  mask = r->gcap - 1;
  for (i = h & mask; r->gcache[i].size != 0; i = (i + 1) & mask) {
    const gentry *e = &r->gcache[i];
    if (e->index == index && e->size == size && e->bold == bold) {
      *pts = r->gpts + 2 * e->off;
      *n = e->n;
      return TGIS_OK;
    }
  }
  cairo_new_path(lc);
  cairo_glyph_path(lc, &g, 1);
  path = cairo_copy_path_flat(lc);
  cairo_new_path(lc);
  if (!path || path->status != CAIRO_STATUS_SUCCESS) {
    cairo_path_destroy(path);
    return TGIS_ENOMEM;
  }
  /* At most a point per data slot and an end per contour. */
  need = r->n_gpts + 2 * (size_t)path->num_data + 2;
  if (reserve(r->ctx, &r->gpts, &r->cap_gpts, 2 * need, sizeof *r->gpts)) {
    cairo_path_destroy(path);
    return TGIS_ENOMEM;
  }
  gentry *e = &r->gcache[i];
  e->off = r->n_gpts;
  for (int k = 0, open = 0; k < path->num_data; k += path->data[k].header.length) {
    const cairo_path_data_t *d = &path->data[k];
    double *q = r->gpts + 2 * r->n_gpts;
    if (d->header.type == CAIRO_PATH_MOVE_TO || d->header.type == CAIRO_PATH_CLOSE_PATH) {
      if (open) {
        q[0] = q[1] = NAN;
        r->n_gpts++;
        q += 2;
      }
      open = 0;
    }
    if (d->header.type == CAIRO_PATH_MOVE_TO || d->header.type == CAIRO_PATH_LINE_TO) {
      q[0] = d[1].point.x;
      q[1] = d[1].point.y;
      r->n_gpts++;
      open = 1;
    }
    if (k + d->header.length >= path->num_data && open) {
      r->gpts[2 * r->n_gpts] = r->gpts[2 * r->n_gpts + 1] = NAN;
      r->n_gpts++;
    }
  }
  cairo_path_destroy(path);
  e->size = size;
  e->index = index;
  e->bold = bold;
  e->n = r->n_gpts - e->off;
  r->gcount++;
  *pts = r->gpts + 2 * e->off;
  *n = e->n;
  return TGIS_OK;
}


/*
 * One label's glyphs into the label mask (row stride ts, mw x mh): the
 * cached outlines placed, turned and moved as Cairo would draw the text,
 * then filled by the exact-area rasteriser (raster.c, nonzero) into the
 * mask, the larger coverage kept. Cairo's own fill of glyph paths cost
 * several times as much, and text drawn under a rotated matrix made it
 * build a font and load every outline anew for each angle. Records the
 * pixels written in c->ink.
 */
static tgis_status label_raster(frame *fr, cand *c, const label_font *lf, uint8_t *mdata, int ts,
                                int mw, int mh)
{
  tgis_render_scratch *r = fr->r;
  double s = fr->scale, size = lf->size * s;
  double tx = (c->cx - fr->ox) * s + LMARGIN, ty = (c->cy - fr->oy) * s + LMARGIN;
  double ox = -c->tw * s / 2, oy = (lf->ascent - lf->descent) * s / 2;
  double ang = c->sina != 0 ? atan2(c->sina, c->cosa) : 0, ca = cos(ang), sa = sin(ang);
  double minx = INFINITY, miny = INFINITY, maxx = -INFINITY, maxy = -INFINITY;
  cairo_scaled_font_t *sf = cairo_get_scaled_font(r->lcr);
  cairo_glyph_t *glyphs = NULL;
  int ng = 0, bx, by;
  size_t np = 0;
  tgis_status st = TGIS_OK;

  c->ink[0] = c->ink[1] = 0;
  c->ink[2] = c->ink[3] = -1;
  switch (cairo_scaled_font_text_to_glyphs(sf, 0, 0, c->textp, -1, &glyphs, &ng, NULL, NULL, NULL)) {
  case CAIRO_STATUS_SUCCESS:
    break;
  case CAIRO_STATUS_NO_MEMORY:
    return TGIS_ENOMEM;
  default:
    return TGIS_OK;   /* text the font cannot map: nothing to draw */
  }
  for (int k = 0; k < ng; k++) {
    const double *g;
    size_t n;
    if ((st = glyph_outline(&g, &n, r, lf->bold, size, glyphs[k].index)))
      goto done;
    if (reserve(r->ctx, &r->lpts, &r->cap_lpts, 2 * (np + n), sizeof *r->lpts)) {
      st = TGIS_ENOMEM;
      goto done;
    }
    for (size_t i = 0; i < n; i++) {
      double *q = r->lpts + 2 * (np + i);
      double ux = ox + glyphs[k].x + g[2 * i], uy = oy + glyphs[k].y + g[2 * i + 1];
      if (isnan(g[2 * i])) {
        q[0] = q[1] = NAN;
        continue;
      }
      q[0] = tx + ca * ux - sa * uy;
      q[1] = ty + sa * ux + ca * uy;
      minx = q[0] < minx ? q[0] : minx;
      maxx = q[0] > maxx ? q[0] : maxx;
      miny = q[1] < miny ? q[1] : miny;
      maxy = q[1] > maxy ? q[1] : maxy;
    }
    np += n;
  }
  if (np == 0 || !(maxx > minx) || !(maxy > miny))
    goto done;
  /* The contours through the exact-area rasteriser, straight into the
   * mask (the larger coverage kept); the ink box is what it may touch. */
  if (tgis_raster_begin(r->raster, mw, mh)) {
    st = TGIS_ENOMEM;
    goto done;
  }
  for (size_t i = 0, first = 0; i <= np; i++)
    if (i == np || isnan(r->lpts[2 * i])) {
      if (i > first)
        tgis_raster_ring(r->raster, r->lpts + 2 * first, i - first);
      first = i + 1;
    }
  tgis_raster_paint_mask(r->raster, mdata, ts);
  bx = ifloor(minx);
  by = ifloor(miny);
  c->ink[0] = bx > 0 ? bx : 0;
  c->ink[1] = by > 0 ? by : 0;
  c->ink[2] = ifloor(maxx) + 1 < mw - 1 ? ifloor(maxx) + 1 : mw - 1;
  c->ink[3] = (int)ceil(maxy) < mh - 1 ? (int)ceil(maxy) : mh - 1;
done:
  cairo_glyph_free(glyphs);
  return st;
}

/* The halo's coverage over box bb: the largest text coverage within the
 * disc offsets off[], a row of the box and an offset at a time, so the
 * inner loop is a byte maximum over contiguous memory with no index
 * arithmetic. */
static void halo_spread(uint8_t *out, int ostride, const uint8_t *tm, int ts, const hair_box *bb,
                        int (*off)[2], int noff)
{
  size_t n = (size_t)(bb->x1 - bb->x0 + 1);
  for (int y = bb->y0; y <= bb->y1; y++) {
    uint8_t *o = out + (size_t)y * (size_t)ostride + bb->x0;
    for (int k = 0; k < noff; k++) {
      const uint8_t *t = tm + (ptrdiff_t)(y + off[k][1]) * ts + bb->x0 + off[k][0];
      if (k == 0)
        memcpy(o, t, n);
      else
        for (size_t x = 0; x < n; x++)
          o[x] = t[x] > o[x] ? t[x] : o[x];
    }
  }
}

/*
 * Labels of one layer: their glyphs are filled into an A8 mask; each
 * label's halo is that mask dilated by the halo width
 * (the largest coverage within a small disc), composited under the text.
 * Stroking glyph outlines for the halo cost Cairo more than everything
 * else a label needs.
 */
tgis_status tgis_render__draw_labels(frame *fr)
{
  tgis_render_scratch *r = fr->r;
  cairo_t *lc = r->lcr;
  double s = fr->scale;
  int w = r->sw, h = r->sh;
  int mw = cairo_image_surface_get_width(r->lmask), mh = cairo_image_surface_get_height(r->lmask);
  tgis_status st;
  if (tgis_render__hair_buffer(r))
    return TGIS_ENOMEM;
  for (size_t li = 0; li < fr->style->n_layers; li++) {
    const tgis_style_label *lb = &fr->style->layers[li].label;
    const label_font *lf;
    uint8_t *tm, *mdata;
    int ts, any = 0, off[64][2], noff = 0;
    if (!r->ls[li].label)
      continue;
    lf = &r->fonts[r->ls[li].font];
    cairo_identity_matrix(lc);
    cairo_set_font_face(lc, r->face[lf->bold ? 1 : 0]);
    cairo_set_font_size(lc, lf->size * s);
    cairo_surface_flush(r->lmask);
    ts = cairo_image_surface_get_stride(r->lmask);
    mdata = cairo_image_surface_get_data(r->lmask);
    for (size_t i = 0; i < r->n_cands; i++) {
      cand *c = &r->cands[i];
      if (!c->drawn || c->layer != li)
        continue;
      if ((st = label_raster(fr, c, lf, mdata, ts, mw, mh)))
        return st;
      r->stats.labels++;
      any = 1;
    }
    if (!any)
      continue;
    /* tm: the image's pixel (0, 0); the mask goes LMARGIN beyond it, so
     * a halo at the image's edge sees the glyphs just outside. */
    tm = mdata + (size_t)LMARGIN * (size_t)ts + LMARGIN;
    if (lb->halo.a && lb->halo_width > 0) {
      double rad = lb->halo_width * s;
      int ir = (int)ceil(rad) < LMARGIN ? (int)ceil(rad) : LMARGIN;
      for (int dy = -ir; dy <= ir; dy++)
        for (int dx = -ir; dx <= ir && noff < 64; dx++)
          if (dx * dx + dy * dy <= rad * rad + 0.5) {
            off[noff][0] = dx;
            off[noff][1] = dy;
            noff++;
          }
    }
    for (size_t i = 0; i < r->n_cands; i++) {
      const cand *c = &r->cands[i];
      hair_box bb;
      if (!c->drawn || c->layer != li)
        continue;
      bb.x0 = ifloor((c->minx - fr->ox) * s);
      bb.y0 = ifloor((c->miny - fr->oy) * s);
      bb.x1 = ifloor((c->maxx - fr->ox) * s);
      bb.y1 = ifloor((c->maxy - fr->oy) * s);
      bb.x0 = bb.x0 < 0 ? 0 : bb.x0;
      bb.y0 = bb.y0 < 0 ? 0 : bb.y0;
      bb.x1 = bb.x1 >= w ? w - 1 : bb.x1;
      bb.y1 = bb.y1 >= h ? h - 1 : bb.y1;
      if (bb.x0 > bb.x1 || bb.y0 > bb.y1)
        continue;
      if (noff) {
        halo_spread(r->hair, w, tm, ts, &bb, off, noff);
        tgis_render__composite_mask(r, r->hair, w, lb->halo, &bb);
      }
    }
    /* The text over every halo of the layer; clears the text mask. */
    for (size_t i = 0; i < r->n_cands; i++) {
      const cand *c = &r->cands[i];
      hair_box bb;
      if (!c->drawn || c->layer != li)
        continue;
      bb.x0 = ifloor((c->minx - fr->ox) * s) - 1;
      bb.y0 = ifloor((c->miny - fr->oy) * s) - 1;
      bb.x1 = ifloor((c->maxx - fr->ox) * s) + 1;
      bb.y1 = ifloor((c->maxy - fr->oy) * s) + 1;
      bb.x0 = bb.x0 < 0 ? 0 : bb.x0;
      bb.y0 = bb.y0 < 0 ? 0 : bb.y0;
      bb.x1 = bb.x1 >= w ? w - 1 : bb.x1;
      bb.y1 = bb.y1 >= h ? h - 1 : bb.y1;
      if (bb.x0 <= bb.x1 && bb.y0 <= bb.y1)
        tgis_render__composite_mask(r, tm, ts, lb->colour, &bb);
    }
    /* Glyphs beyond the image, or beyond a label's box, stay in the mask:
     * clear where each label's glyphs may be, not the whole mask. */
    for (size_t i = 0; i < r->n_cands; i++) {
      const cand *c = &r->cands[i];
      if (!c->drawn || c->layer != li)
        continue;
      for (int y = c->ink[1]; y <= c->ink[3] && c->ink[0] <= c->ink[2]; y++)
        memset(mdata + (size_t)y * (size_t)ts + c->ink[0], 0, (size_t)(c->ink[2] - c->ink[0] + 1));
    }
    cairo_surface_mark_dirty(r->lmask);
  }
  return TGIS_OK;
}

