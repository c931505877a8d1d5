/*
 * bench_raster.c -- the renderer's own rasteriser against Cairo, same shapes.
 *
 * Not a test: a busy 256x256 tile as in ../shared/reference/performance-
 * notes.md (300 parcel quads in land-use colours with translucent outlines,
 * 60 wide road polylines with casings, round joins) is drawn many times by
 * Cairo (image surface, ARGB32, default anti-aliasing, nonzero fills, one
 * path per colour as the renderer batches them) and by tiles/raster.c. It
 * prints milliseconds per tile for each (CPU time), the ratio, and how far
 * the two images are apart (the rasteriser keeps coverage in 33 levels).
 *
 *   bench_raster [--rounds N]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cairo.h>

#include "tgis.h"
#include "raster.h"

#define SIZE 256
#define N_PARCELS 300
#define N_ROADS 60
#define ROAD_PTS 6
#define N_COLOURS 5

typedef struct scene {
  double parcel[N_PARCELS][8];
  int parcel_colour[N_PARCELS];
  double road[N_ROADS][2 * ROAD_PTS];
} scene;

static const tgis_rgba colours[N_COLOURS] = {
  { 246, 232, 177, 255 }, { 236, 201, 135, 255 }, { 239, 181, 169, 255 },
  { 184, 212, 236, 255 }, { 196, 226, 173, 255 },
};
static const tgis_rgba outline = { 168, 153, 130, 102 };
static const tgis_rgba casing = { 159, 149, 132, 255 };
static const tgis_rgba fill = { 255, 255, 255, 255 };

static double rnd(uint64_t *s)
{
  *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
  return (double)(*s >> 11) / 9007199254740992.0;
}

static double cpu_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void make_scene(scene *sc)
{
  uint64_t s = 42;
  for (int i = 0; i < N_PARCELS; i++) {
    /* 20 x 15 lattice of slightly skewed quads, 12.8 x 17 px cells. */
    double cx = (i % 20) * 12.8 + 1, cy = (i / 20) * 17.0 + 1, k = rnd(&s) * 2;
    double q[8] = { cx + k, cy, cx + 11.5, cy + k, cx + 11.5 - k, cy + 15.5, cx, cy + 15.5 - k };
    memcpy(sc->parcel[i], q, sizeof q);
    sc->parcel_colour[i] = (int)(rnd(&s) * N_COLOURS);
  }
  for (int i = 0; i < N_ROADS; i++) {
    double x = rnd(&s) * SIZE * 1.4 - 50, y = rnd(&s) * SIZE * 1.4 - 50, a = rnd(&s) * 6.283;
    for (int k = 0; k < ROAD_PTS; k++) {
      sc->road[i][2 * k] = x;
      sc->road[i][2 * k + 1] = y;
      a += (rnd(&s) - 0.5) * 0.8;
      x += cos(a) * 30;
      y += sin(a) * 30;
    }
  }
}

static void cairo_colour(cairo_t *cr, tgis_rgba c)
{
  cairo_set_source_rgba(cr, c.r / 255.0, c.g / 255.0, c.b / 255.0, c.a / 255.0);
}

static void draw_cairo(cairo_t *cr, const scene *sc)
{
  cairo_set_operator(cr, CAIRO_OPERATOR_SOURCE);
  cairo_set_source_rgba(cr, 0.886, 0.871, 0.839, 1);
  cairo_paint(cr);
  cairo_set_operator(cr, CAIRO_OPERATOR_OVER);
  cairo_set_tolerance(cr, 0.25);
  for (int c = 0; c < N_COLOURS; c++) {
    for (int i = 0; i < N_PARCELS; i++) {
      if (sc->parcel_colour[i] != c)
        continue;
      cairo_move_to(cr, sc->parcel[i][0], sc->parcel[i][1]);
      for (int k = 1; k < 4; k++)
        cairo_line_to(cr, sc->parcel[i][2 * k], sc->parcel[i][2 * k + 1]);
      cairo_close_path(cr);
    }
    cairo_colour(cr, colours[c]);
    cairo_fill(cr);
  }
  for (int i = 0; i < N_PARCELS; i++) {
    cairo_move_to(cr, sc->parcel[i][0], sc->parcel[i][1]);
    for (int k = 1; k < 4; k++)
      cairo_line_to(cr, sc->parcel[i][2 * k], sc->parcel[i][2 * k + 1]);
    cairo_close_path(cr);
  }
  cairo_colour(cr, outline);
  cairo_set_line_width(cr, 1.6);
  cairo_set_line_join(cr, CAIRO_LINE_JOIN_MITER);
  cairo_stroke(cr);
  cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
  cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
  for (int pass = 0; pass < 2; pass++) {
    for (int i = 0; i < N_ROADS; i++) {
      cairo_move_to(cr, sc->road[i][0], sc->road[i][1]);
      for (int k = 1; k < ROAD_PTS; k++)
        cairo_line_to(cr, sc->road[i][2 * k], sc->road[i][2 * k + 1]);
    }
    cairo_colour(cr, pass ? fill : casing);
    cairo_set_line_width(cr, pass ? 5.5 : 7.1);
    cairo_stroke(cr);
  }
  cairo_surface_flush(cairo_get_target(cr));
}

static void draw_own(tgis_raster *ra, uint8_t *px, int stride, const scene *sc)
{
  tgis_raster_pen pen = { 1.6, TGIS_JOIN_MITER, TGIS_CAP_BUTT, 10, 0.25 };
  uint32_t bg = 0xffe2ded6u;
  for (int y = 0; y < SIZE; y++)
    for (int x = 0; x < SIZE; x++)
      ((uint32_t *)(void *)(px + (size_t)y * (size_t)stride))[x] = bg;
  for (int c = 0; c < N_COLOURS; c++) {
    tgis_raster_begin(ra, SIZE, SIZE);
    for (int i = 0; i < N_PARCELS; i++)
      if (sc->parcel_colour[i] == c)
        tgis_raster_ring(ra, sc->parcel[i], 4);
    tgis_raster_paint(ra, px, stride, colours[c]);
  }
  tgis_raster_begin(ra, SIZE, SIZE);
  for (int i = 0; i < N_PARCELS; i++)
    tgis_raster_stroke(ra, sc->parcel[i], 4, 1, &pen);
  tgis_raster_paint(ra, px, stride, outline);
  pen.join = TGIS_JOIN_ROUND;
  pen.cap = TGIS_CAP_ROUND;
  for (int pass = 0; pass < 2; pass++) {
    pen.width = pass ? 5.5 : 7.1;
    tgis_raster_begin(ra, SIZE, SIZE);
    for (int i = 0; i < N_ROADS; i++)
      tgis_raster_stroke(ra, sc->road[i], ROAD_PTS, 0, &pen);
    tgis_raster_paint(ra, px, stride, pass ? fill : casing);
  }
}

int main(int argc, char **argv)
{
  int rounds = 400;
  scene sc;
  tgis_ctx *ctx = NULL;
  tgis_raster *ra = NULL;
  cairo_surface_t *a, *b;
  cairo_t *cr;
  double t0, t_cairo, t_own, sum = 0;
  int worst = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--rounds") && i + 1 < argc) {
      rounds = atoi(argv[++i]);
    } else {
      fprintf(stderr, "usage: %s [--rounds N]\n", argv[0]);
      return 2;
    }
  }
  if (rounds < 1 || tgis_open(&ctx, NULL, NULL) || tgis_raster_new(&ra, ctx))
    return 1;
  make_scene(&sc);
  a = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, SIZE, SIZE);
  b = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, SIZE, SIZE);
  cr = cairo_create(a);
  draw_cairo(cr, &sc);   /* warm both up */
  draw_own(ra, cairo_image_surface_get_data(b), cairo_image_surface_get_stride(b), &sc);
  t0 = cpu_ms();
  for (int i = 0; i < rounds; i++)
    draw_cairo(cr, &sc);
  t_cairo = (cpu_ms() - t0) / rounds;
  t0 = cpu_ms();
  for (int i = 0; i < rounds; i++)
    draw_own(ra, cairo_image_surface_get_data(b), cairo_image_surface_get_stride(b), &sc);
  t_own = (cpu_ms() - t0) / rounds;
  for (int y = 0; y < SIZE; y++)
    for (int x = 0; x < SIZE * 4; x++) {
      int d = abs(cairo_image_surface_get_data(a)[y * cairo_image_surface_get_stride(a) + x] -
                  cairo_image_surface_get_data(b)[y * cairo_image_surface_get_stride(b) + x]);
      sum += d;
      worst = d > worst ? d : worst;
    }
  printf("busy tile: %d parcels with outlines, %d roads with casings, %dx%d\n", N_PARCELS,
         N_ROADS, SIZE, SIZE);
  printf("cairo_ms=%.3f own_ms=%.3f ratio=%.2f mean_channel_diff=%.3f max_channel_diff=%d\n",
         t_cairo, t_own, t_cairo / t_own, sum / (SIZE * SIZE * 4.0), worst);
  cairo_destroy(cr);
  cairo_surface_destroy(a);
  cairo_surface_destroy(b);
  tgis_raster_free(ra);
  tgis_close(ctx);
  return 0;
}
