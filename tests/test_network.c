/*
 * test_network.c -- the roads of a real database as graph input: the
 * generated city imported, read back, noded and checked for connectivity.
 */
#include <string.h>
#include <unistd.h>

#include "tgis_int.h"
#include "generate.h"
#include "../analytics/network.h"
#include "harness.h"

static void test_network__speeds_by_class_and_maxspeed(void)
{
  ASSERT_NEAR(tgis_network__drive_kmh("primary", 0, 0), 60, 0);
  ASSERT_NEAR(tgis_network__drive_kmh("primary", 1, 80), 80, 0);
  ASSERT_NEAR(tgis_network__drive_kmh("residential", 1, 0), 30, 0);  /* 0 is no limit */
  ASSERT_NEAR(tgis_network__drive_kmh("footway", 1, 50), 0, 0);      /* never drivable */
  ASSERT_NEAR(tgis_network__drive_kmh("castle_road", 0, 0), 30, 0);
  ASSERT_NEAR(tgis_network__drive_kmh(NULL, 0, 0), 30, 0);
  ASSERT(!tgis_network__walkable("motorway"));
  ASSERT(tgis_network__walkable("trunk"));
  ASSERT(tgis_network__walkable("footway"));
}

static void test_network__generated_city_is_one_network(void)
{
  char gpkg[512], db[512];
  tgis_ctx *gen = NULL, *ctx = NULL;
  tgis_gen_options go = TGIS_GEN_OPTIONS_INIT;
  tgis_options o = TGIS_OPTIONS_INIT;
  tgis_network_roads roads;
  tgis_graph *g = NULL;
  tgis_graph_components *walk = NULL, *drive = NULL;
  tgis_layer_info li;
  int bridges = 0;

  harness_path(gpkg, sizeof gpkg, "net.gpkg");
  harness_path(db, sizeof db, "net.sqlite");
  unlink(gpkg);
  unlink(db);
  ASSERT_EQ(tgis_open(&gen, NULL, NULL), TGIS_OK);
  go.scale = 0.005;
  go.seed = 5;
  go.manifest_path = NULL;
  ASSERT_OK_CTX(gen, tgis_generate(gen, gpkg, &go));
  tgis_close(gen);
  o.flags = TGIS_OPEN_CREATE;
  ASSERT_OK_CTX(ctx, tgis_open(&ctx, db, &o));
  ASSERT_OK_CTX(ctx, tgis_import(NULL, ctx, gpkg, NULL));

  ASSERT_OK_CTX(ctx, tgis_network__load(&roads, ctx));
  ASSERT_OK_CTX(ctx, tgis_layer_info_get(&li, ctx, TGIS_LAYER_ROADS));
  ASSERT_EQ((int64_t)roads.n, li.count);
  ASSERT_EQ(roads.skipped, 0);
  for (size_t i = 0; i < roads.n; i++) {
    ASSERT(roads.roads[i].n >= 2);
    ASSERT(roads.roads[i].drive_kmh > 0);       /* the generator has no footways */
    bridges += roads.roads[i].level != 0;
  }
  ASSERT(bridges >= 3);

  ASSERT_OK_CTX(ctx, tgis_graph_build(&g, ctx, roads.roads, roads.n, NULL));
  ASSERT(g->n_edges >= roads.n);
  ASSERT_OK_CTX(ctx, tgis_graph_components_find(&walk, g, TGIS_MODE_WALK));
  ASSERT_OK_CTX(ctx, tgis_graph_components_find(&drive, g, TGIS_MODE_DRIVE));
  /* A city's streets are one network; pieces cut off by the ragged city
   * edge may exist, but they are small. */
  ASSERT(walk->count >= 1);
  ASSERT((double)walk->size[0] >= 0.95 * g->n_nodes);
  ASSERT_EQ(drive->size[0], walk->size[0]);
  tgis_graph_components_free(walk);
  tgis_graph_components_free(drive);
  tgis_graph_free(g);
  tgis_network__free(&roads);
  tgis_close(ctx);
}

static void test_network__no_database_is_a_clear_error(void)
{
  tgis_ctx *ctx = NULL;
  tgis_network_roads roads;
  ASSERT_EQ(tgis_open(&ctx, NULL, NULL), TGIS_OK);
  ASSERT_EQ(tgis_network__load(&roads, ctx), TGIS_EINVAL);
  ASSERT_CONTAINS(tgis_errmsg(ctx), "without a database");
  tgis_network__free(&roads);
  tgis_close(ctx);
}

int main(void)
{
  RUN(test_network__speeds_by_class_and_maxspeed);
  RUN(test_network__generated_city_is_one_network);
  RUN(test_network__no_database_is_a_clear_error);
  return harness_report();
}
