/*
 * graph_int.h -- what graph.c and noding.c share; nothing else includes it.
 */
#ifndef TGIS_ANALYTICS_GRAPH_INT_H
#define TGIS_ANALYTICS_GRAPH_INT_H

#include "graph.h"

/** Progress every this many vertices (and a look at the cancel flag). */
#define TGIS_GRAPH__TICK (1u << 18)

/**
 * Report progress and look at the cancel flag.
 * @return TGIS_OK, or TGIS_ECANCELLED with a message naming the stage.
 */
tgis_status tgis_graph__report(tgis_ctx *ctx, const tgis_graph_options *o,
                               const char *stage, double fraction);

/**
 * Node the roads into `g`, whose roads, n_points, geom_xy and geom_m are
 * allocated: fills geom_xy, geom_m, the nodes and the edges. On failure
 * the arrays it allocated stay in `g` for tgis_graph_free().
 * @return TGIS_OK, TGIS_EINVAL (a bad coordinate, naming the road),
 *         TGIS_ENOMEM, TGIS_ECANCELLED.
 */
tgis_status tgis_graph__node_roads(tgis_graph *g, const tgis_road_in *roads,
                                   const tgis_graph_options *o);

#endif /* TGIS_ANALYTICS_GRAPH_INT_H */
