/*
 * png.c -- PNG encoding of tiles with libpng, tuned for map tiles.
 *
 * A rendered tile is mostly flat colour with anti-aliased edges. The
 * encoder first counts its colours exactly (a small hash table that gives
 * up past 256); up to 256 it writes a palette image of 1, 2, 4 or 8 bits,
 * unfiltered, which is both smaller and several times faster to compress
 * than RGBA. Beyond 256 it reduces the colours with a median cut that
 * keeps the most common colours exact, and writes the palette only if the
 * result stays above a PSNR floor; otherwise RGB(A) with the sub filter.
 * The zlib level is the caller's; the default, 2, costs half of level 6's
 * time for tiles about 15% larger (tiles/bench_render --png-sweep).
 *
 * libpng reports errors by longjmp; that is confined to write_png(), which
 * touches nothing but libpng and the output buffer.
 */
#include <assert.h>
#include <math.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <png.h>

#include "tgis_int.h"
#include "png_tile.h"

#define QHBITS 14
#define QHSIZE (1 << QHBITS) /* quantiser histogram */
#define QMAX_DISTINCT 8192   /* more distinct colours: truecolour */

/* ---- output buffer and libpng callbacks ---------------------------------- */

typedef struct encoder {
  tgis_ctx *ctx;
  uint8_t *data;
  size_t len, cap;
  int oom;
  char msg[200];
} encoder;

static void on_write(png_structp png, png_bytep data, size_t n)
{
  encoder *e = png_get_io_ptr(png);
  if (e->len + n > e->cap) {
    size_t cap = e->cap ? e->cap : 16384;
    uint8_t *p;
    while (cap < e->len + n)
      cap *= 2;
    if (!(p = tgis__realloc(e->ctx, e->data, cap))) {
      e->oom = 1;
      png_error(png, "out of memory");
    }
    e->data = p;
    e->cap = cap;
  }
  memcpy(e->data + e->len, data, n);
  e->len += n;
}

static void on_flush(png_structp png) { (void)png; }

static void on_error(png_structp png, png_const_charp msg)
{
  encoder *e = png_get_error_ptr(png);
  snprintf(e->msg, sizeof e->msg, "%s", msg);
  png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp msg) { (void)png; (void)msg; }

typedef struct png_job {
  int width, height;
  int colour_type;           /* PNG_COLOR_TYPE_* */
  int bit_depth;
  int strip_alpha;           /* RGBA rows written as RGB */
  int filter;                /* PNG_FILTER_* mask */
  int level;
  int rle;                   /* Z_RLE strategy */
  const png_color *plte;
  int n_plte;
  const png_byte *trns;
  int n_trns;
  png_bytep *rows;
} png_job;

/* The only function that may be left by longjmp. */
static int write_png(encoder *e, const png_job *j)
{
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, e, on_error, on_warning);
  png_infop info = NULL;
  if (!png) {
    snprintf(e->msg, sizeof e->msg, "cannot create the libpng writer");
    return -1;
  }
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    return -1;
  }
  if (!(info = png_create_info_struct(png)))
    png_error(png, "cannot create the libpng info");
  png_set_write_fn(png, e, on_write, on_flush);
  png_set_compression_level(png, j->level);
  if (j->rle)
    png_set_compression_strategy(png, 3 /* Z_RLE */);
  png_set_compression_buffer_size(png, 65536);  /* fewer, larger IDAT chunks */
  png_set_filter(png, PNG_FILTER_TYPE_BASE, j->filter);
  png_set_IHDR(png, info, (png_uint_32)j->width, (png_uint_32)j->height, j->bit_depth,
               j->colour_type, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_BASE,
               PNG_FILTER_TYPE_BASE);
  if (j->plte)
    png_set_PLTE(png, info, j->plte, j->n_plte);
  if (j->trns && j->n_trns > 0)
    png_set_tRNS(png, info, j->trns, j->n_trns, NULL);
  png_write_info(png, info);
  if (j->bit_depth < 8)
    png_set_packing(png);
  if (j->strip_alpha)
    png_set_filler(png, 0, PNG_FILLER_AFTER);
  png_write_image(png, j->rows);
  png_write_end(png, info);
  png_destroy_write_struct(&png, &info);
  return 0;
}

/* ---- exact colour count -------------------------------------------------- */

static uint32_t load_px(const uint8_t *p)
{
  /* Every fully transparent pixel is the same colour. */
  if (p[3] == 0)
    return 0;
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The pixels to encode: straight RGBA bytes, or Cairo's premultiplied
 * native-endian ARGB words (the renderer's own surface: colours are counted
 * on those directly, and only palette entries are un-premultiplied). */
typedef struct pixels {
  const uint8_t *data;
  size_t stride;
  int w, h;
  int argb;
} pixels;

/* A pixel as a colour key: RGBA bytes r | g<<8 | b<<16 | a<<24, or the ARGB
 * word b | g<<8 | r<<16 | a<<24 premultiplied. Channel k is byte k either
 * way, alpha is byte 3; invisible pixels are all 0. */
static inline uint32_t px_key(const pixels *p, const uint8_t *row, int x)
{
  uint32_t v;
  if (!p->argb)
    return load_px(row + 4 * x);
  memcpy(&v, row + 4 * x, 4);
  return v >> 24 ? v : 0;
}

/* A key as straight RGBA (r | g<<8 | b<<16 | a<<24). */
static uint32_t key_rgba(uint32_t v, int argb)
{
  uint32_t a = v >> 24, r, g, b;
  if (!argb || a == 0)
    return v;
  r = (v >> 16) & 255;
  g = (v >> 8) & 255;
  b = v & 255;
  if (a != 255) {
    r = (r * 255 + a / 2) / a;
    g = (g * 255 + a / 2) / a;
    b = (b * 255 + a / 2) / a;
  }
  return r | g << 8 | b << 16 | a << 24;
}

void tgis_png__argb_to_rgba(uint8_t *dst, size_t dst_stride, const uint8_t *src,
                            size_t src_stride, int w, int h)
{
  for (int y = 0; y < h; y++) {
    const uint8_t *s = src + (size_t)y * src_stride;
    uint8_t *d = dst + (size_t)y * dst_stride;
    for (int x = 0; x < w; x++, d += 4) {
      uint32_t v, a;
      memcpy(&v, s + 4 * (size_t)x, 4);
      a = v >> 24;
      if (a == 255) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        /* Opaque, most pixels: reorder the bytes, one store. */
        uint32_t o = ((v >> 16) & 0xffu) | (v & 0xff00u) | ((v & 0xffu) << 16) | 0xff000000u;
        memcpy(d, &o, 4);
#else
        d[0] = (uint8_t)(v >> 16);
        d[1] = (uint8_t)(v >> 8);
        d[2] = (uint8_t)v;
        d[3] = 255;
#endif
      } else if (a == 0) {
        memset(d, 0, 4);
      } else {
        uint32_t o = key_rgba(v, 1);
        d[0] = (uint8_t)o;
        d[1] = (uint8_t)(o >> 8);
        d[2] = (uint8_t)(o >> 16);
        d[3] = (uint8_t)a;
      }
    }
  }
}

/* ---- quantiser ----------------------------------------------------------- */

/* A slot of the colour hash table: the key beside its histogram position,
 * so that a probe is one load. */
typedef struct qslot {
  uint32_t v;
  int32_t id;                /* -1: empty */
} qslot;

typedef struct qcolour {
  uint32_t v;                /* RGBA as in load_px */
  uint32_t count;
  uint8_t c[4];
  int16_t slot;              /* palette index it maps to */
  uint16_t id;               /* position in the histogram */
} qcolour;

typedef struct qbox {
  int lo, hi;                /* colours [lo, hi) of the working array */
  uint64_t weight;           /* pixels */
  uint64_t sum[4], sum2[4];  /* per channel: sum of v and v^2 over pixels */
  int axis;                  /* channel of widest spread */
  double score;              /* squared error around the mean; -1: cannot split */
} qbox;

static void box_sum(qbox *b, const qcolour *cs)
{
  memset(b->sum, 0, sizeof b->sum);
  memset(b->sum2, 0, sizeof b->sum2);
  b->weight = 0;
  for (int i = b->lo; i < b->hi; i++) {
    uint64_t n = cs[i].count;
    b->weight += n;
    for (int ch = 0; ch < 4; ch++) {
      uint64_t v = cs[i].c[ch];
      b->sum[ch] += v * n;
      b->sum2[ch] += v * v * n;
    }
  }
}

static void box_score(qbox *b)
{
  double best = -1;
  for (int ch = 0; ch < 4; ch++) {
    double s = (double)b->sum[ch];
    double var = (double)b->sum2[ch] - s * s / (double)b->weight;
    if (var > best) {
      best = var;
      b->axis = ch;
    }
  }
  b->score = b->hi - b->lo > 1 && best > 0 ? best : -1;
}

/* Split box b at the weighted median of its widest channel: a histogram of
 * the channel and one partition pass, no sorting. Returns the cut index. */
static int split_box(qcolour *cs, const qbox *b)
{
  uint32_t hist[256] = { 0 };   /* a box has at most 2^28 pixels */
  uint64_t half = b->weight / 2, acc = 0;
  int ch = b->axis, m = 255, top = 0, lo = b->lo, hi = b->hi - 1;
  for (int i = b->lo; i < b->hi; i++) {
    int v = cs[i].c[ch];
    hist[v] += cs[i].count;
    m = v < m ? v : m;         /* the scan starts at the smallest value */
    top = v > top ? v : top;
  }
  while (m < 255 && acc + hist[m] <= half)
    acc += hist[m++];
  if (m >= top)      /* keep the largest value on the right */
    m = top - 1;
  while (lo <= hi) {
    if (cs[lo].c[ch] <= m) {
      lo++;
    } else {
      qcolour t = cs[lo];
      cs[lo] = cs[hi];
      cs[hi--] = t;
    }
  }
  return lo;
}

/* Box a is split before box b: the larger score, on a tie the earlier box
 * (so the queue picks what a scan for the first maximum would). */
static int box_before(const qbox *boxes, int a, int b)
{
  return boxes[a].score > boxes[b].score || (boxes[a].score == boxes[b].score && a < b);
}

/* The splittable boxes are a binary heap of their indices, best first. */
static void box_push(int *q, int *nq, const qbox *boxes, int i)
{
  int k = (*nq)++;
  while (k > 0 && box_before(boxes, i, q[(k - 1) / 2])) {
    q[k] = q[(k - 1) / 2];
    k = (k - 1) / 2;
  }
  q[k] = i;
}

static int box_pop(int *q, int *nq, const qbox *boxes)
{
  int top = q[0], last = q[--*nq], k = 0;
  for (;;) {
    int c = 2 * k + 1;
    if (c >= *nq)
      break;
    if (c + 1 < *nq && box_before(boxes, q[c + 1], q[c]))
      c++;
    if (!box_before(boxes, q[c], last))
      break;
    q[k] = q[c];
    k = c;
  }
  q[k] = last;   /* when the heap is now empty this rewrites the old top: harmless */
  return top;
}

/*
 * Reduce `cs` (n distinct colours) to at most `max` palette entries. The
 * `keep` most frequent colours (the flat fills and strokes of the map) get
 * their own exact entries; the rest (anti-aliased edges, text) are split
 * by median cut on the channel of widest spread, each box becoming its
 * weighted mean. Writes pal[], sets cs[i].slot, returns the entry count.
 * *sse is the squared error of the palette over all four channels, counted
 * per pixel (from the box sums, exact). The cut reorders a copy of the
 * colours in `work` (room for n), each knowing its place in cs by its id.
 */
static int median_cut(qcolour *cs, qcolour *work, int n, int keep, int max, uint32_t *pal,
                      qbox *boxes, uint64_t *sse)
{
  int np = 0, nb = 0, heap[256], nh = 0, queue[256], nq = 0;
  qcolour *hist_cs = cs;
  if (keep > n)
    keep = n;
  /* The `keep` largest counts, by a min-heap of indices. */
  for (int i = 0; i < n; i++) {
    int k;
    if (nh < keep) {
      k = nh++;
      while (k > 0 && cs[heap[(k - 1) / 2]].count > cs[i].count) {
        heap[k] = heap[(k - 1) / 2];
        k = (k - 1) / 2;
      }
      heap[k] = i;
    } else if (keep > 0 && cs[i].count > cs[heap[0]].count) {
      k = 0;
      for (;;) {
        int c = 2 * k + 1;
        if (c >= nh)
          break;
        if (c + 1 < nh && cs[heap[c + 1]].count < cs[heap[c]].count)
          c++;
        if (cs[heap[c]].count >= cs[i].count)
          break;
        heap[k] = heap[c];
        k = c;
      }
      heap[k] = i;
    }
  }
  for (int i = 0; i < n; i++)
    cs[i].slot = -1;
  for (int i = 0; i < nh; i++) {
    work[np] = cs[heap[i]];
    work[np].id = (uint16_t)heap[i];
    cs[heap[i]].slot = (int16_t)np;
    pal[np] = work[np].v;
    np++;
  }
  {
    int k = np;
    for (int i = 0; i < n; i++)
      if (cs[i].slot < 0) {
        work[k] = cs[i];
        work[k++].id = (uint16_t)i;
      }
  }
  cs = work;    /* the boxes are ranges of it */
  if (np < n) {
    boxes[nb].lo = np;
    boxes[nb].hi = n;
    box_sum(&boxes[nb], cs);
    box_score(&boxes[nb++]);
  }
  if (nb > 0 && boxes[0].score > 0)
    queue[nq++] = 0;
  while (np + nb < max && nq > 0) {
    int cut;
    qbox *b, *c, *small, *large;
    b = &boxes[box_pop(queue, &nq, boxes)];
    cut = split_box(cs, b);
    c = &boxes[nb++];
    c->lo = cut;
    c->hi = b->hi;
    b->hi = cut;
    /* Sum the smaller half; the other is the parent minus it. */
    small = b->hi - b->lo <= c->hi - c->lo ? b : c;
    large = small == b ? c : b;
    {
      const qbox parent = *b;   /* its sums are still the whole box's */
      box_sum(small, cs);
      large->weight = parent.weight - small->weight;
      for (int ch = 0; ch < 4; ch++) {
        large->sum[ch] = parent.sum[ch] - small->sum[ch];
        large->sum2[ch] = parent.sum2[ch] - small->sum2[ch];
      }
    }
    box_score(b);
    box_score(c);
    if (b->score > 0)
      box_push(queue, &nq, boxes, (int)(b - boxes));
    if (c->score > 0)
      box_push(queue, &nq, boxes, (int)(c - boxes));
  }
  *sse = 0;
  for (int i = 0; i < nb; i++) {
    const qbox *b = &boxes[i];
    uint32_t v = 0;
    for (int k = b->lo; k < b->hi; k++)
      hist_cs[cs[k].id].slot = (int16_t)np;
    for (int ch = 0; ch < 4; ch++)   /* the mean, rounded half up */
      v |= (uint32_t)((2 * b->sum[ch] + b->weight) / (2 * b->weight)) << (8 * ch);
    if ((v >> 24) == 0)
      v = 0;
    /* sum over the box of n (c - p)^2 = sum2 - 2 p sum + p^2 weight */
    for (int ch = 0; ch < 4; ch++) {
      uint64_t p = (v >> (8 * ch)) & 255;
      *sse += b->sum2[ch] + p * p * b->weight - 2 * p * b->sum[ch];
    }
    pal[np++] = v;
  }
  return np;
}

/* A run of equal pixels in a row: its colour (histogram position) and
 * length. */
typedef struct qrun {
  uint16_t id, len;
} qrun;

/* The runs of a tile: row y is runs[row_end[y - 1] .. row_end[y]), or,
 * when same[y], a copy of row y - 1. */
typedef struct qruns {
  qrun *runs;
  size_t n, cap;
  uint32_t *row_end;
  uint8_t *same;
} qruns;

/* The histogram pass of make_palette(), for one pixel format (a constant
 * when inlined, so the loop is specialised). Works by runs: a row equal to
 * the one above counts that row's runs again; otherwise each run of equal
 * pixels is looked up once. (Taking the id of a run from the pixel above
 * when they match, instead of the lookup, cost more than it saved once a
 * probe was one multiply and one load.)
 * Returns the number of colours, -1 past `max`, -2 out of memory. */
static inline __attribute__((always_inline)) int histogram(tgis_ctx *ctx, const pixels *img,
                                                           int argb, qslot *table,
                                                           qcolour *cs, qruns *rs, int max)
{
  size_t w = (size_t)img->w, h = (size_t)img->h, last_start = 0, last_end = 0;
  pixels p = *img;
  int n = 0;
  p.argb = argb;
  for (size_t y = 0; y < h; y++) {
    const uint8_t *row = p.data + y * p.stride, *up = row - p.stride;
    size_t x = 0, row_start;
    qrun *out;
    if (y > 0 && memcmp(row, up, w * 4) == 0) {
      for (size_t r = last_start; r < last_end; r++)
        cs[rs->runs[r].id].count += rs->runs[r].len;
      rs->same[y] = 1;
      rs->row_end[y] = (uint32_t)rs->n;
      continue;
    }
    rs->same[y] = 0;
    if (rs->cap - rs->n < w) {
      size_t cap = rs->cap * 2 > rs->n + w ? rs->cap * 2 : rs->n + w;
      qrun *q = tgis__realloc(ctx, rs->runs, cap * sizeof *q);
      if (!q)
        return -2;
      rs->runs = q;
      rs->cap = cap;
    }
    row_start = rs->n;
    out = rs->runs + rs->n;
    while (x < w) {
      uint32_t raw, v, hh;
      size_t x2 = x + 1;
      memcpy(&raw, row + 4 * x, 4);
      while (x2 < w) {
        uint32_t o;
        memcpy(&o, row + 4 * x2, 4);
        if (o != raw)
          break;
        x2++;
      }
      v = argb ? (raw >> 24 ? raw : 0) : load_px(row + 4 * x);
      /* Fibonacci hashing: the top bits of the product. */
      hh = (v * 0x9e3779b1u) >> (32 - QHBITS);
      while (table[hh].v != v && table[hh].id >= 0)
        hh = (hh + 1) & (QHSIZE - 1);
      if (table[hh].id < 0) {
        if (n == max)
          return -1;
        table[hh].v = v;
        table[hh].id = n;
        cs[n].v = v;
        cs[n].count = 0;
        for (int ch = 0; ch < 4; ch++)
          cs[n].c[ch] = (uint8_t)(v >> (8 * ch));
        n++;
      }
      cs[table[hh].id].count += (uint32_t)(x2 - x);
      out->id = (uint16_t)table[hh].id;
      out->len = (uint16_t)(x2 - x);
      out++;
      x = x2;
    }
    rs->n = (size_t)(out - rs->runs);
    last_start = row_start;
    last_end = rs->n;
    rs->row_end[y] = (uint32_t)rs->n;
  }
  return n;
}

/*
 * Palette indices for an image: one pass counts the distinct colours in a
 * hash table (a run of equal pixels, or a row equal to the one above,
 * is looked up once: most pixels of a map) and notes the runs' colours;
 * up to 256 colours the palette is exact, beyond that median_cut() makes
 * one and *psnr says how close it is. Returns the palette size, 0 when
 * there are too many colours to try (or exact_only and more than 256),
 * -1 when out of memory. idx has room for w * h + 16 bytes.
 */
static int make_palette(tgis_ctx *ctx, const pixels *img, int exact_only, uint32_t *pal,
                        uint8_t *idx, double *psnr)
{
  qcolour *cs = NULL, *tmp = NULL;
  qslot *table = NULL;
  qruns rs = { NULL, 0, 0, NULL, NULL };
  qbox *boxes = NULL;
  int n = 0, np = -1;
  size_t w = (size_t)img->w, h = (size_t)img->h;
  double sse = 0;
  uint64_t box_sse = 0;
  uint8_t remap[256];        /* palette entry -> its index in the PNG */
  *psnr = INFINITY;
  if (!(table = tgis__malloc(ctx, QHSIZE * sizeof *table)) ||
      !(cs = tgis__malloc(ctx, QMAX_DISTINCT * sizeof *cs)) ||
      !(rs.row_end = tgis__malloc(ctx, h * sizeof *rs.row_end)) ||
      !(rs.same = tgis__malloc(ctx, h)) ||
      !(rs.runs = tgis__malloc(ctx, (rs.cap = w * (h < 128 ? h : 128)) * sizeof *rs.runs)))
    goto done;
  memset(table, 0xff, QHSIZE * sizeof *table);   /* id -1: empty */
  {
    int max = exact_only ? 256 : QMAX_DISTINCT;
    n = img->argb ? histogram(ctx, img, 1, table, cs, &rs, max)
                  : histogram(ctx, img, 0, table, cs, &rs, max);
    if (n == -2)
      goto done;
    if (n < 0) {
      np = 0;
      goto done;
    }
  }
  if (n <= 256) {
    for (int i = 0; i < n; i++) {
      pal[i] = cs[i].v;
      cs[i].slot = (int16_t)i;
    }
    np = n;
  } else {
    if (!(tmp = tgis__malloc(ctx, (size_t)n * sizeof *tmp)) ||
        !(boxes = tgis__malloc(ctx, 256 * sizeof *boxes))) {
      np = -1;
      goto done;
    }
    np = median_cut(cs, tmp, n, 64, 256, pal, boxes, &box_sse);
    /* Error over the colours, weighted by their pixels (premultiplied, so
     * differences hidden by transparency do not count). ARGB keys are
     * premultiplied already: the boxes' sums give it. */
    if (img->argb)
      sse = (double)box_sse;
    for (int i = 0; i < n && !img->argb; i++) {
      uint32_t p = pal[cs[i].slot];
      double a0 = cs[i].c[3] / 255.0, a1 = (double)(p >> 24) / 255.0, da;
      for (int ch = 0; ch < 3; ch++) {
        double d = cs[i].c[ch] * a0 - (double)((p >> (8 * ch)) & 255) * a1;
        sse += d * d * cs[i].count;
      }
      da = (double)cs[i].c[3] - (double)(p >> 24);
      sse += da * da * cs[i].count;
    }
    {
      double mse = sse / ((double)w * (double)h * 4);
      *psnr = mse > 0 ? 10 * log10(255.0 * 255.0 / mse) : INFINITY;
    }
  }
  {
    /* Translucent entries first, so that tRNS can stop at the last of
     * them; remap[] is applied where the index patterns are built. */
    uint32_t sorted[256];
    int k = 0;
    for (int pass = 0; pass < 2; pass++)
      for (int i = 0; i < np; i++)
        if (((pal[i] >> 24) != 255) == !pass) {
          remap[i] = (uint8_t)k;
          sorted[k++] = pal[i];
        }
    memcpy(pal, sorted, (size_t)np * sizeof *pal);
  }
  {
    /* Each colour's index repeated in 8 bytes, in the hash table's memory,
     * which is done with. */
    uint64_t *pat = (uint64_t *)(void *)table;
    const qrun *run = rs.runs;
    _Static_assert(QHSIZE * sizeof(qslot) >= QMAX_DISTINCT * sizeof(uint64_t),
                   "the patterns fit in the hash table");
    for (int i = 0; i < n; i++)
      pat[i] = remap[cs[i].slot] * 0x0101010101010101ull;
    for (size_t y = 0; y < h; y++) {
      uint8_t *d = idx + y * w;
      const qrun *end = rs.runs + rs.row_end[y];   /* a local: d's stores may alias */
      if (rs.same[y]) {
        memcpy(d, d - w, w);
        continue;
      }
      for (; run < end; run++) {
        uint64_t eight = pat[run->id];
        size_t len = run->len;
        if (len <= 16) {
          /* Two 8-byte stores; idx has room for 16 past its end. */
          memcpy(d, &eight, 8);
          memcpy(d + 8, &eight, 8);
        } else {
          memset(d, (uint8_t)eight, len);
        }
        d += len;
      }
    }
  }
done:
  tgis__free(ctx, table);
  tgis__free(ctx, cs);
  tgis__free(ctx, tmp);
  tgis__free(ctx, rs.runs);
  tgis__free(ctx, rs.row_end);
  tgis__free(ctx, rs.same);
  tgis__free(ctx, boxes);
  return np;
}

/* ---- encoder ------------------------------------------------------------- */

static int filter_mask(tgis_png_filter f, int palette)
{
  switch (f) {
  case TGIS_PNG_FILTER_NONE: return PNG_FILTER_NONE;
  case TGIS_PNG_FILTER_SUB: return PNG_FILTER_SUB;
  case TGIS_PNG_FILTER_UP: return PNG_FILTER_UP;
  case TGIS_PNG_FILTER_PAETH: return PNG_FILTER_PAETH;
  case TGIS_PNG_FILTER_ALL: return PNG_ALL_FILTERS;
  case TGIS_PNG_FILTER_AUTO: break;
  }
  return palette ? PNG_FILTER_NONE : PNG_FILTER_SUB;
}

static tgis_status encode(uint8_t **out, size_t *out_len, tgis_ctx *ctx, const pixels *img,
                          const tgis_png_options *opts, tgis_png_info *info)
{
  tgis_png_options o = TGIS_PNG_OPTIONS_INIT;
  tgis_png_info inf = { 0, 0, 0, 8, INFINITY };
  encoder e;
  png_job j;
  uint32_t pal[256];
  uint8_t *idx = NULL, *rgba = NULL;
  png_bytep *rows = NULL;
  png_color plte[256];
  png_byte trns[256];
  int n = 0, opaque = 1;
  tgis_status st = TGIS_OK;

  assert(out && out_len && ctx && img);
  *out = NULL;
  *out_len = 0;
  memset(&e, 0, sizeof e);
  e.ctx = ctx;
  if (opts)
    o = *opts;
  if (o.version != TGIS_PNG_OPTIONS_VERSION)
    return tgis__fail(ctx, TGIS_EINVAL, "png: options version %u, expected %d", o.version,
                      TGIS_PNG_OPTIONS_VERSION);
  if (o.level < 0 || o.level > 9)
    return tgis__fail(ctx, TGIS_EINVAL, "png: zlib level %d outside 0..9", o.level);
  if (img->w <= 0 || img->h <= 0 || img->w > 16384 || img->h > 16384 ||
      img->stride < (size_t)img->w * 4 || !img->data)
    return tgis__fail(ctx, TGIS_EINVAL, "png: bad image %dx%d", img->w, img->h);

  if (!(rows = tgis__malloc(ctx, (size_t)img->h * sizeof *rows)))
    goto nomem;
  if (o.palette != TGIS_PNG_PALETTE_NEVER) {
    if (!(idx = tgis__malloc(ctx, (size_t)img->w * (size_t)img->h + 16)))
      goto nomem;
    double psnr;
    n = make_palette(ctx, img, o.palette == TGIS_PNG_PALETTE_EXACT, pal, idx, &psnr);
    if (n < 0)
      goto nomem;
    if (n > 256 || (n > 0 && isfinite(psnr))) {
      if (psnr >= o.min_psnr) {
        inf.quantised = 1;
        inf.psnr = psnr;
      } else {
        n = 0;
      }
    }
  }
  memset(&j, 0, sizeof j);
  j.width = img->w;
  j.height = img->h;
  j.level = o.level;
  j.rle = o.strategy == TGIS_PNG_STRATEGY_RLE;
  j.rows = rows;
  if (n > 0) {
    /* make_palette() put the translucent entries first. */
    int nt = 0;
    for (int i = 0; i < n; i++) {
      uint32_t c = key_rgba(pal[i], img->argb);
      plte[i].red = (png_byte)c;
      plte[i].green = (png_byte)(c >> 8);
      plte[i].blue = (png_byte)(c >> 16);
      trns[i] = (png_byte)(c >> 24);
      if (trns[i] != 255)
        nt = i + 1;
    }
    j.colour_type = PNG_COLOR_TYPE_PALETTE;
    j.bit_depth = n <= 2 ? 1 : n <= 4 ? 2 : n <= 16 ? 4 : 8;
    j.plte = plte;
    j.n_plte = n;
    j.trns = nt ? trns : NULL;
    j.n_trns = nt;
    j.filter = filter_mask(o.filter, 1);
    for (int y = 0; y < img->h; y++)
      rows[y] = idx + (size_t)y * (size_t)img->w;
    inf.palette = 1;
    inf.colours = n;
    inf.bit_depth = j.bit_depth;
  } else {
    const uint8_t *base = img->data;
    size_t stride = img->stride;
    if (img->argb) {
      /* Truecolour wants straight RGBA rows. */
      if (!(rgba = tgis__malloc(ctx, (size_t)img->w * (size_t)img->h * 4)))
        goto nomem;
      tgis_png__argb_to_rgba(rgba, (size_t)img->w * 4, img->data, img->stride, img->w, img->h);
      base = rgba;
      stride = (size_t)img->w * 4;
    }
    for (int y = 0; y < img->h && opaque; y++) {
      const uint8_t *row = base + (size_t)y * stride;
      for (int x = 0; x < img->w; x++)
        if (row[4 * x + 3] != 255) {
          opaque = 0;
          break;
        }
    }
    j.colour_type = opaque ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_RGB_ALPHA;
    j.strip_alpha = opaque;
    j.bit_depth = 8;
    j.filter = filter_mask(o.filter, 0);
    for (int y = 0; y < img->h; y++)
      rows[y] = (png_bytep)(uintptr_t)(base + (size_t)y * stride);   /* libpng only reads */
    inf.quantised = 0;
    inf.psnr = INFINITY;
  }
  if (write_png(&e, &j)) {
    if (e.oom)
      goto nomem;
    st = tgis__fail(ctx, TGIS_EIO, "png: %s", e.msg);
    goto done;
  }
  *out = e.data;
  *out_len = e.len;
  e.data = NULL;
  if (info)
    *info = inf;
  goto done;
nomem:
  st = tgis__fail(ctx, TGIS_ENOMEM, "png: out of memory encoding a %dx%d image", img->w,
                  img->h);
done:
  tgis__free(ctx, e.data);
  tgis__free(ctx, idx);
  tgis__free(ctx, rgba);
  tgis__free(ctx, rows);
  return st;
}

tgis_status tgis_png_encode(uint8_t **out, size_t *out_len, tgis_ctx *ctx, const tgis_image *img,
                            const tgis_png_options *opts, tgis_png_info *info)
{
  pixels px;
  assert(img);
  px.data = img->rgba;
  px.stride = img->stride;
  px.w = img->width;
  px.h = img->height;
  px.argb = 0;
  return encode(out, out_len, ctx, &px, opts, info);
}

tgis_status tgis_png__encode_argb(uint8_t **out, size_t *out_len, tgis_ctx *ctx,
                                  const uint8_t *argb, size_t stride, int w, int h,
                                  const tgis_png_options *opts, tgis_png_info *info)
{
  pixels px;
  px.data = argb;
  px.stride = stride;
  px.w = w;
  px.h = h;
  px.argb = 1;
  return encode(out, out_len, ctx, &px, opts, info);
}

tgis_status tgis_png_decode(tgis_image *out, tgis_ctx *ctx, const uint8_t *png, size_t len)
{
  png_image im;
  uint8_t *buf = NULL;
  assert(out && ctx);
  memset(out, 0, sizeof *out);
  memset(&im, 0, sizeof im);
  im.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&im, png, len))
    return tgis__fail(ctx, TGIS_EPARSE, "png: %s", im.message);
  im.format = PNG_FORMAT_RGBA;
  if (im.width > 16384 || im.height > 16384) {
    png_image_free(&im);
    return tgis__fail(ctx, TGIS_EPARSE, "png: %ux%u is too large", im.width, im.height);
  }
  if (!(buf = tgis__malloc(ctx, PNG_IMAGE_SIZE(im)))) {
    png_image_free(&im);
    return tgis__fail(ctx, TGIS_ENOMEM, "png: out of memory decoding");
  }
  if (!png_image_finish_read(&im, NULL, buf, 0, NULL)) {
    tgis__free(ctx, buf);
    return tgis__fail(ctx, TGIS_EPARSE, "png: %s", im.message);
  }
  out->width = (int)im.width;
  out->height = (int)im.height;
  out->stride = (size_t)im.width * 4;
  out->rgba = buf;
  return TGIS_OK;
}

void tgis_png_free(tgis_ctx *ctx, void *p) { tgis__free(ctx, p); }
