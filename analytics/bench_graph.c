/*
 * bench_graph.c -- timing the network core on a synthetic city of
 * Tashkent's size (a benchmark, not a test).
 *
 * The city is a 354 x 354 grid of 100 m blocks: about 250,000 roads of 8
 * vertices each (2M vertices), every tenth street a trunk road (80 km/h,
 * no sidewalk), some oneways and footways, and elevated roads that pass
 * over the streets on mid-road vertices (the level rule of the noding).
 * About 1M parcels lie in the blocks, in block order as a store would hand
 * them out; 62 polyclinics are placed at random. Everything runs on one
 * core, and the whole question -- graph, snap the parcels, search from the
 * polyclinics, time per parcel -- is timed end to end.
 *
 * Usage: bench_graph [grid_n [parcels_per_block [snap_cell_m]]]
 *        (defaults 354, 8 and 0 = the index's own choice)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "tgis_int.h"
#include "../analytics/graph.h"

#define BLOCK 100.0
#define PER_ROAD 8  /* vertices per road */
#define N_FACILITIES 62

static uint64_t rng = 88172645463325252ULL;
static uint32_t next_u32(void)
{
  rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
  return (uint32_t)(rng >> 33);
}
static double next_unit(void) { return next_u32() / 2147483648.0; }

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);  /* CPU time: steadier on a busy machine */
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Interior vertex k (1..PER_ROAD-2) of a block side starting at a. The
 * elevated roads use the same arithmetic to land exactly on these. */
static double along(double a, int k) { return a + k * (BLOCK / (PER_ROAD - 1)); }

int main(int argc, char **argv)
{
  int n = argc > 1 ? atoi(argv[1]) : 354;
  int per_block = argc > 2 ? atoi(argv[2]) : 8;
  tgis_snap_options so = TGIS_SNAP_OPTIONS_INIT;
  tgis_ctx *ctx = NULL;
  tgis_graph *g = NULL;
  tgis_graph_components *cw = NULL, *cd = NULL;
  tgis_snap_index *iw = NULL;
  tgis_road_in *roads = NULL;
  double *xy = NULL, *parcels = NULL, *cost = NULL;
  int32_t *fac = NULL;
  tgis_snap *snaps = NULL;
  size_t n_roads = 0, n_xy = 0, n_parcels, cap_roads;
  int rc = 1;
  double t0, t_build, t_comp, t_index, t_snap, t_fac, t_dij, t_cost, t_dij_drive;

  so.cell_m = argc > 3 ? atof(argv[3]) : 0.0;
  if (n < 3 || per_block < 1) {
    fprintf(stderr, "usage: bench_graph [grid_n>=3 [parcels_per_block>=1]]\n");
    return 2;
  }
  if (tgis_open(&ctx, NULL, NULL) != TGIS_OK) {
    fprintf(stderr, "tgis_open failed\n");
    return 1;
  }

  /* ---- the synthetic city ---- */
  size_t n_elevated = (size_t)(n / 10) * (size_t)(n / 10);
  cap_roads = 2 * (size_t)n * (n - 1) + n_elevated;
  roads = calloc(cap_roads, sizeof *roads);
  xy = malloc(cap_roads * 2 * (PER_ROAD) * sizeof *xy);
  if (!roads || !xy)
    goto out;
  for (int dir = 0; dir < 2; dir++)
    for (int j = 0; j < n - (dir == 1); j++)
      for (int i = 0; i < n - (dir == 0); i++) {
        tgis_road_in *r = &roads[n_roads++];
        double x0 = i * BLOCK, y0 = j * BLOCK, *p = &xy[n_xy];
        for (int k = 0; k < PER_ROAD; k++) {
          double a = dir == 0 ? x0 : y0, v = k == PER_ROAD - 1 ? a + BLOCK : along(a, k);
          p[2 * k] = dir == 0 ? v : x0;
          p[2 * k + 1] = dir == 0 ? y0 : v;
        }
        n_xy += 2 * PER_ROAD;
        r->xy = p;
        r->n = PER_ROAD;
        r->id = (int64_t)n_roads;
        r->walkable = 1;
        r->drive_kmh = 40;
        if ((dir == 0 ? j : i) % 10 == 5) {  /* a trunk road */
          r->drive_kmh = 80;
          r->walkable = 0;
        } else if (next_u32() % 20 == 0) {
          r->drive_kmh = 0;                 /* a footway */
        } else if (next_u32() % 10 == 0) {
          r->oneway = next_u32() % 2 ? 1 : -1;
        }
      }
  /* Elevated roads west to east over five blocks, at 3/7 of a block north of
   * a street, so they cross five north-south streets on their mid-road
   * vertices; they come down on ground vertices at both ends. */
  for (size_t e = 0; e < n_elevated; e++) {
    int i = (int)(next_u32() % (uint32_t)(n - 6)) + 1;
    int j = (int)(next_u32() % (uint32_t)(n - 1));
    tgis_road_in *r = &roads[n_roads++];
    double *p = &xy[n_xy], y = along(j * BLOCK, 3);
    for (int k = 0; k < 6; k++) {
      p[2 * k] = (i + k) * BLOCK;
      p[2 * k + 1] = y;
    }
    n_xy += 12;
    r->xy = p;
    r->n = 6;
    r->id = (int64_t)n_roads;
    r->level = 1;
    r->drive_kmh = 60;
    r->walkable = 0;
  }

  n_parcels = (size_t)(n - 1) * (n - 1) * per_block;
  parcels = malloc(n_parcels * 2 * sizeof *parcels);
  snaps = malloc(n_parcels * sizeof *snaps);
  if (!parcels || !snaps)
    goto out;
  {
    size_t k = 0;
    for (int j = 0; j < n - 1; j++)
      for (int i = 0; i < n - 1; i++)
        for (int q = 0; q < per_block; q++) {
          parcels[2 * k] = i * BLOCK + 8 + next_unit() * (BLOCK - 16);
          parcels[2 * k + 1] = j * BLOCK + 8 + next_unit() * (BLOCK - 16);
          k++;
        }
  }

  /* ---- the work ---- */
  double start = now();
  t0 = start;
  if (tgis_graph_build(&g, ctx, roads, n_roads, NULL) != TGIS_OK)
    goto fail;
  t_build = now() - t0;

  t0 = now();
  if (tgis_graph_components_find(&cw, g, TGIS_MODE_WALK) != TGIS_OK ||
      tgis_graph_components_find(&cd, g, TGIS_MODE_DRIVE) != TGIS_OK)
    goto fail;
  t_comp = now() - t0;

  t0 = now();
  if (tgis_snap_index_build(&iw, g, TGIS_MODE_WALK, &so) != TGIS_OK)
    goto fail;
  t_index = now() - t0;

  t0 = now();
  if (tgis_snap_points(snaps, iw, parcels, n_parcels) != TGIS_OK)
    goto fail;
  t_snap = now() - t0;

  /* 62 polyclinics at random parcels' places. */
  tgis_graph_source src[2 * N_FACILITIES];
  size_t n_src = 0;
  t0 = now();
  for (int f = 0; f < N_FACILITIES; f++) {
    size_t k = next_u32() % n_parcels;
    tgis_snap s;
    if (tgis_snap_points(&s, iw, &parcels[2 * k], 1) != TGIS_OK)
      goto fail;
    n_src += tgis_snap_sources(&src[n_src], g, TGIS_MODE_WALK, &s, f, TGIS_SNAP_ADD_ACCESS);
  }
  t_fac = now() - t0;

  cost = malloc((size_t)g->n_nodes * sizeof *cost);
  fac = malloc((size_t)g->n_nodes * sizeof *fac);
  if (!cost || !fac)
    goto out;
  t0 = now();
  if (tgis_graph_dijkstra(cost, fac, g, TGIS_MODE_WALK, src, n_src, INFINITY) != TGIS_OK)
    goto fail;
  t_dij = now() - t0;

  t0 = now();
  size_t within15 = 0, unsnapped = 0;
  double sum_snap = 0, max_snap = 0;
  for (size_t k = 0; k < n_parcels; k++) {
    int32_t f;
    double c = tgis_snap_cost(&f, g, TGIS_MODE_WALK, cost, fac, &snaps[k], TGIS_SNAP_ADD_ACCESS);
    within15 += c <= 15 * 60;
    if (snaps[k].edge < 0) {
      unsnapped++;
    } else {
      sum_snap += snaps[k].dist;
      max_snap = fmax(max_snap, snaps[k].dist);
    }
  }
  t_cost = now() - t0;
  double total = now() - start;

  /* The same parcels in random order (no locality between neighbours). */
  double t_snap_random;
  {
    double *shuffled = malloc(n_parcels * 2 * sizeof *shuffled);
    if (!shuffled)
      goto out;
    memcpy(shuffled, parcels, n_parcels * 2 * sizeof *shuffled);
    for (size_t k = n_parcels - 1; k > 0; k--) {
      size_t j = ((uint64_t)next_u32() << 31 ^ next_u32()) % (k + 1);
      double tx = shuffled[2 * k], ty = shuffled[2 * k + 1];
      shuffled[2 * k] = shuffled[2 * j];
      shuffled[2 * k + 1] = shuffled[2 * j + 1];
      shuffled[2 * j] = tx;
      shuffled[2 * j + 1] = ty;
    }
    t0 = now();
    tgis_status st = tgis_snap_points(snaps, iw, shuffled, n_parcels);
    t_snap_random = now() - t0;
    free(shuffled);
    if (st != TGIS_OK)
      goto fail;
  }

  /* Driving, for comparison (same sources' nodes, drive graph). */
  for (size_t i = 0; i < n_src; i++)
    src[i].cost = 0;
  t0 = now();
  if (tgis_graph_dijkstra(cost, fac, g, TGIS_MODE_DRIVE, src, n_src, INFINITY) != TGIS_OK)
    goto fail;
  t_dij_drive = now() - t0;

  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  printf("city: %zu roads, %u vertices, %zu parcels, %d facilities (%zu sources)\n",
         n_roads, g->n_points, n_parcels, N_FACILITIES, n_src);
  printf("graph: %u nodes, %u edges; walk %u arcs, drive %u arcs\n",
         g->n_nodes, g->n_edges, g->csr[TGIS_MODE_WALK].n_arcs,
         g->csr[TGIS_MODE_DRIVE].n_arcs);
  printf("components: walk %u (largest %u nodes), drive %u (largest %u)\n",
         cw->count, cw->count ? cw->size[0] : 0, cd->count, cd->count ? cd->size[0] : 0);
  printf("build graph            %8.3f s\n", t_build);
  printf("components (2 modes)   %8.3f s\n", t_comp);
  printf("snap index (walk)      %8.3f s\n", t_index);
  printf("snap %zu parcels   %8.3f s\n", n_parcels, t_snap);
  printf("snap 62 facilities     %8.3f s\n", t_fac);
  printf("dijkstra walk          %8.3f s\n", t_dij);
  printf("cost per parcel        %8.3f s\n", t_cost);
  printf("TOTAL (walk question)  %8.3f s\n", total);
  printf("dijkstra drive         %8.3f s\n", t_dij_drive);
  printf("snap, random order     %8.3f s\n", t_snap_random);
  printf("parcels within 15 min walk: %zu (%.1f%%); unsnapped %zu; snap distance "
         "mean %.1f m, max %.1f m\n", within15, 100.0 * within15 / n_parcels, unsnapped,
         sum_snap / (double)(n_parcels - unsnapped), max_snap);
  printf("peak RSS %.0f MB\n", ru.ru_maxrss / 1024.0);
  rc = 0;
  goto out;

fail:
  fprintf(stderr, "bench_graph: %s\n", tgis_errmsg(ctx));
out:
  tgis_snap_index_free(iw);
  tgis_graph_components_free(cw);
  tgis_graph_components_free(cd);
  tgis_graph_free(g);
  tgis_close(ctx);
  free(roads);
  free(xy);
  free(parcels);
  free(snaps);
  free(cost);
  free(fac);
  return rc;
}
