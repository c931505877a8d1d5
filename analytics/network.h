/*
 * network.h -- the roads layer of a database as graph input
 * (module-internal).
 *
 * Reads every road through the store and turns its attributes into what
 * tgis_graph_build() takes: a driving speed from the road's class or its
 * maxspeed, walkability from the class, oneway and level as stored.
 */
#ifndef TGIS_ANALYTICS_NETWORK_H
#define TGIS_ANALYTICS_NETWORK_H

#include "graph.h"

/** The roads of a database, owning the coordinates the records point to. */
typedef struct tgis_network_roads {
  tgis_ctx *ctx;
  tgis_road_in *roads;     /**< n records; their xy point into `xy` */
  size_t n, cap;
  double *xy;              /**< every road's vertices, road after road */
  size_t n_xy, cap_xy;     /**< doubles used / allocated */
  size_t skipped;          /**< roads with fewer than 2 vertices (empty) */
} tgis_network_roads;

/**
 * Driving speed of a road: its maxspeed when set (> 0), else the class
 * default -- motorway 90, trunk 70, primary 60, secondary 50, tertiary and
 * unclassified 40, residential 30, service 20, track 15, living_street 10
 * km/h; pedestrian, footway, path, cycleway and steps are not drivable (0).
 * An unknown class drives at 30.
 */
double tgis_network__drive_kmh(const char *road_class, int has_maxspeed, double maxspeed);

/** Whether people walk along a road of this class (all but motorways). */
int tgis_network__walkable(const char *road_class);

/**
 * Read the roads layer of ctx's database.
 * @param[out] out  filled; release with tgis_network__free() also on failure
 * @return TGIS_OK, TGIS_EINVAL (no database), TGIS_ENOMEM, TGIS_EDB.
 */
tgis_status tgis_network__load(tgis_network_roads *out, tgis_ctx *ctx);

/** Free what tgis_network__load() allocated. If r is NULL nothing occurs. */
void tgis_network__free(tgis_network_roads *r);

#endif
