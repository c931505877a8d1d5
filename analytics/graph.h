/*
 * graph.h -- the road network as compressed arrays (module-internal).
 *
 * The computational core of network analytics, on plain arrays: no database
 * here. The caller reads the roads layer into tgis_road_in records (metres
 * of one projected CRS) and gets back a noded graph with, per travel mode, a
 * CSR adjacency; on it run connected components, a multi-source Dijkstra
 * from all facilities at once, and the snapping of points (parcels,
 * facilities) to edges through a uniform grid.
 *
 * Travel costs are seconds, as doubles (with floats, long paths drift by
 * milliseconds and equal times stop comparing equal).
 *
 * Costs are outbound: the Dijkstra gives the time *from* the facilities to
 * every node, and tgis_snap_cost() the time from them to a snapped point,
 * arriving along the allowed direction of a oneway edge. Walking ignores
 * oneway, so walk costs are symmetric. For driving times *to* the
 * facilities, build the graph with every road's oneway negated: that is
 * the reversed drive network, and the same calls then give inbound times.
 *
 * Threading: a graph belongs to the context it was built with, and like the
 * context is used by one thread at a time: every call allocates and
 * reports through that context. The searches never modify the graph or
 * the snap index.
 */
#ifndef TGIS_ANALYTICS_GRAPH_H
#define TGIS_ANALYTICS_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#include "tgis_int.h"

/* ------------------------------------------------------------------------ */
/* Input and options                                                        */
/* ------------------------------------------------------------------------ */

/** A travel mode: which roads are usable, at what speed, in which way. */
typedef enum tgis_mode {
  TGIS_MODE_WALK = 0,  /**< walkable roads, both ways, at walk_kmh */
  TGIS_MODE_DRIVE = 1, /**< roads with drive_kmh > 0, oneway respected */
  TGIS_MODE_COUNT = 2
} tgis_mode;

/** "No node", "no component", "not a node": an index that is not one. */
#define TGIS_GRAPH_NONE UINT32_MAX

/** One road (a linestring) as read from the roads layer. Borrowed. */
typedef struct tgis_road_in {
  const double *xy;  /**< n vertices x0,y0,x1,y1... in metres (projected CRS) */
  uint32_t n;        /**< number of vertices, >= 2 */
  int oneway;        /**< 0 both ways, 1 only in digitised direction, -1 only
                          against it (driving only; walking ignores it) */
  int level;         /**< 0 ground; != 0 bridge/tunnel (layer) */
  double drive_kmh;  /**< driving speed; <= 0 means not drivable */
  int walkable;      /**< 0 for motorways/trunk without sidewalk */
  int64_t id;        /**< caller's road id, kept for reporting */
} tgis_road_in;

/**
 * Progress of a long operation: `stage` names the step ("noding",
 * "edges", "adjacency", "snap index", "snapping"), `fraction` runs from 0 to
 * 1 within it. Called from the working thread; must not call back into the
 * same context. To stop, set the options' cancel flag (also from here).
 * (The public tgis_progress_fn of tgis.h counts units and cancels by its
 * return value; the public analytics entry points adapt it to this.)
 */
typedef void (*tgis_graph_progress_fn)(const char *stage, double fraction,
                                 void *payload);

/** Options of tgis_graph_build(). */
typedef struct tgis_graph_options {
  unsigned int version;        /**< TGIS_GRAPH_OPTIONS_VERSION */
  double walk_kmh;             /**< walking speed, > 0; default 5 km/h */
  tgis_graph_progress_fn progress;   /**< NULL: no progress reports */
  void *progress_payload;      /**< passed to progress */
  const volatile int *cancel;  /**< NULL, or a flag another thread (or the
                                    progress callback) sets non-zero to stop
                                    the build with TGIS_ECANCELLED */
} tgis_graph_options;

#define TGIS_GRAPH_OPTIONS_VERSION 1
#define TGIS_GRAPH_OPTIONS_INIT \
  { TGIS_GRAPH_OPTIONS_VERSION, 5.0, NULL, NULL, NULL }

/* ------------------------------------------------------------------------ */
/* The graph                                                                */
/* ------------------------------------------------------------------------ */

/**
 * One mode's adjacency in compressed sparse row form: the arcs leaving node
 * u are [offsets[u], offsets[u+1]). Arcs of a node follow edge order, so
 * every traversal is deterministic. Self-loop edges have no arcs.
 */
typedef struct tgis_graph_csr {
  uint32_t *offsets;  /**< n_nodes + 1 */
  uint32_t *targets;  /**< n_arcs: head node of each arc */
  double *weights;    /**< n_arcs: travel time in seconds */
  uint32_t *edge;     /**< n_arcs: the edge each arc runs along */
  uint32_t n_arcs;
} tgis_graph_csr;

/**
 * A noded road graph. All fields are read-only for the caller.
 *
 * Nodes are the road vertices shared by several roads (equal after rounding
 * to a 1 cm grid) and every road's first and last vertex; at one coordinate,
 * vertices of roads of equal level meet, and a road's end vertex meets every
 * road there whatever its level (a bridge meets the ground at its ends, not
 * in its middle). Other vertices are edge geometry.
 *
 * A vertex repeated in a row (within the centimetre) counts once, so a
 * digitising stutter neither makes a node nor a zero-length edge.
 *
 * Edges run between consecutive nodes along one road, in its digitised
 * direction. Their geometry is the points [geom_off, geom_off + geom_n) of
 * geom_xy, both end nodes included; consecutive edges of a road share their
 * common node point. A node's point in geom_xy is exactly its node_xy.
 */
typedef struct tgis_graph {
  tgis_ctx *ctx;          /**< allocator and error reports */
  double walk_kmh;        /**< the walking speed the graph was built with */

  uint32_t n_nodes;
  double *node_xy;        /**< 2 * n_nodes */

  uint32_t n_edges;
  uint32_t *edge_from;    /**< start node (first point of the geometry) */
  uint32_t *edge_to;      /**< end node */
  double *edge_len;       /**< metres, along the geometry */
  uint32_t *edge_road;    /**< index of the road in the input array */
  uint32_t *edge_geom_off;/**< first point in geom_xy */
  uint32_t *edge_geom_n;  /**< number of points, >= 2 */

  uint32_t n_points;
  double *geom_xy;        /**< 2 * n_points: every input vertex, road by road */
  double *geom_m;         /**< n_points: distance from the road's first vertex */

  uint32_t n_roads;
  int64_t *road_id;       /**< the caller's id of each road */
  int8_t *road_oneway;    /**< -1, 0, 1 as given */
  uint8_t *road_walkable; /**< 0 or 1 */
  double *road_drive_kmh; /**< as given; <= 0 not drivable */

  tgis_graph_csr csr[TGIS_MODE_COUNT];
} tgis_graph;

/**
 * Build the graph of `n_roads` roads: noding, edges, and the walk and drive
 * adjacency.
 *
 * Node numbers follow the order in which the roads and their vertices are
 * given, so the same input always gives the same graph.
 *
 * @param[out] out  the graph, owned by the caller: tgis_graph_free(). NULL on
 *                  failure.
 * @param roads     borrowed; not referenced after the call
 * @param opts      NULL for TGIS_GRAPH_OPTIONS_INIT
 * @return TGIS_OK; TGIS_EINVAL for a bad road, naming its id and what is
 *         wrong ("road 17: 1 vertex, need at least 2", a non-finite
 *         coordinate, oneway not -1/0/1, a NaN speed, coordinates further
 *         than 20,000 km apart) or bad options; TGIS_ENOMEM; TGIS_ECANCELLED.
 *         Zero roads give an empty graph.
 */
tgis_status tgis_graph_build(tgis_graph **out, tgis_ctx *ctx,
                             const tgis_road_in *roads, size_t n_roads,
                             const tgis_graph_options *opts);

/** Free a graph. If g is NULL nothing occurs. */
void tgis_graph_free(tgis_graph *g);

/**
 * Speed of edge `e` in `mode`, km/h, or 0 if the mode cannot use the edge.
 */
double tgis_graph_edge_kmh(const tgis_graph *g, uint32_t e, tgis_mode mode);

/**
 * May `mode` travel along edge `e` in its digitised direction (forward != 0)
 * or against it (forward == 0)? False for an edge the mode cannot use.
 */
int tgis_graph_edge_allows(const tgis_graph *g, uint32_t e, tgis_mode mode,
                           int forward);

/**
 * Seconds to travel `metres` along edge `e` in `mode`: the same arithmetic
 * as the arc weights, so a whole edge costs exactly its arc's weight.
 * INFINITY for an edge the mode cannot use.
 */
double tgis_graph_edge_seconds(const tgis_graph *g, uint32_t e,
                               tgis_mode mode, double metres);

/** Seconds to cover `metres` at the graph's walking speed. */
double tgis_graph_walk_seconds(const tgis_graph *g, double metres);

/* ------------------------------------------------------------------------ */
/* Connected components                                                     */
/* ------------------------------------------------------------------------ */

/**
 * The undirected connected components of one mode's network. Only nodes
 * touched by an edge the mode can use belong to it; the others (a node of
 * footways only, in drive mode) have no component.
 */
typedef struct tgis_graph_components {
  tgis_ctx *ctx;
  tgis_mode mode;
  uint32_t count;      /**< number of components */
  uint32_t *size;      /**< count: nodes in each, largest first (ties: the
                            component of the lower node first) */
  uint32_t *comp;      /**< n_nodes: component of each node, or
                            TGIS_GRAPH_NONE outside the mode's network */
  uint32_t n_outside;  /**< nodes outside the mode's network */
} tgis_graph_components;

/**
 * Find the connected components of `mode` (oneway ignored: a component is
 * a piece of network cut off from the rest, not a strongly connected set).
 * Component 0 is the main network; every other one is a disconnected piece
 * the analyst should look at.
 * @param[out] out  owned by the caller: tgis_graph_components_free(); NULL on
 *                  failure
 * @return TGIS_OK, TGIS_EINVAL (bad mode), TGIS_ENOMEM.
 */
tgis_status tgis_graph_components_find(tgis_graph_components **out,
                                       const tgis_graph *g, tgis_mode mode);

/** Free components. If c is NULL nothing occurs. */
void tgis_graph_components_free(tgis_graph_components *c);

/* ------------------------------------------------------------------------ */
/* Multi-source Dijkstra                                                    */
/* ------------------------------------------------------------------------ */

/** A start of the search: a facility reaches `node` at `cost` seconds. */
typedef struct tgis_graph_source {
  uint32_t node;     /**< graph node */
  double cost;       /**< initial cost in seconds, >= 0 */
  int32_t facility;  /**< caller's facility index, >= 0 */
} tgis_graph_source;

/**
 * Travel time from the nearest source to every node, in one search from all
 * sources at once.
 *
 * A node's result is the least cost over all sources; between equal costs
 * the lower facility index wins, whatever the order of `sources`. A
 * facility may have several sources (tgis_snap_sources() gives two).
 *
 * @param[out] cost      n_nodes: seconds, INFINITY when unreached
 * @param[out] facility  n_nodes: the nearest facility, -1 when unreached
 * @param cutoff_s  nodes further than this are not expanded and are
 *                  reported unreached; INFINITY for no cutoff
 * @return TGIS_OK; TGIS_EINVAL for no sources, a source node out of range,
 *         a negative or NaN cost, a negative facility, a NaN or negative
 *         cutoff, a bad mode; TGIS_ENOMEM. The outputs are filled as
 *         unreached on failure.
 */
tgis_status tgis_graph_dijkstra(double *cost, int32_t *facility,
                                const tgis_graph *g, tgis_mode mode,
                                const tgis_graph_source *sources,
                                size_t n_sources, double cutoff_s);

/* ------------------------------------------------------------------------ */
/* Snapping points to edges                                                 */
/* ------------------------------------------------------------------------ */

/** Default distance beyond which a point is not snapped, metres. */
#define TGIS_SNAP_DEFAULT_MAX_M 500.0

/** Options of tgis_snap_index_build(). */
typedef struct tgis_snap_options {
  unsigned int version;       /**< TGIS_SNAP_OPTIONS_VERSION */
  double cell_m;              /**< grid cell size, metres; 0: the larger of
                                   the mean segment length and the cell
                                   size that gives as many cells as
                                   segments. Either is enlarged where the
                                   grid would have over 4 cells per segment
                                   (plus 4096). */
  double max_snap_m;          /**< points further than this from every usable
                                   edge stay unsnapped; default 500 m */
  tgis_graph_progress_fn progress;  /**< NULL: no progress reports */
  void *progress_payload;     /**< passed to progress */
  const volatile int *cancel; /**< NULL, or non-zero to stop: TGIS_ECANCELLED */
} tgis_snap_options;

#define TGIS_SNAP_OPTIONS_VERSION 1
#define TGIS_SNAP_OPTIONS_INIT \
  { TGIS_SNAP_OPTIONS_VERSION, 0.0, TGIS_SNAP_DEFAULT_MAX_M, NULL, NULL, NULL }

/** Where a point lies on the network. An unsnapped point has edge -1,
 * t 0, dist INFINITY and x, y NaN. */
typedef struct tgis_snap {
  int32_t edge;  /**< graph edge, or -1: nothing usable within max_snap_m
                      (or a non-finite point) */
  double t;      /**< 0..1 along the edge by length from edge_from */
  double dist;   /**< metres from the point to the snapped point */
  double x, y;   /**< the snapped point, on the edge's geometry */
} tgis_snap;

/** A grid over the segments of the edges one mode can use. Opaque. */
typedef struct tgis_snap_index tgis_snap_index;

/**
 * Index the segments of the edges `mode` can use (a oneway street is usable
 * for driving; a footway is not).
 * @param[out] out  owned by the caller: tgis_snap_index_free(); it borrows
 *                  `g`, which must outlive it. NULL on failure.
 * @param opts      NULL for TGIS_SNAP_OPTIONS_INIT
 * @return TGIS_OK, TGIS_EINVAL (bad mode or options), TGIS_ENOMEM,
 *         TGIS_ECANCELLED.
 */
tgis_status tgis_snap_index_build(tgis_snap_index **out, const tgis_graph *g,
                                  tgis_mode mode,
                                  const tgis_snap_options *opts);

/** Free an index. If idx is NULL nothing occurs. */
void tgis_snap_index_free(tgis_snap_index *idx);

/**
 * Snap points to their nearest usable segment within max_snap_m. Every
 * point gets a result; the ones that cannot be snapped have edge -1. Equal
 * distances go to the segment first in geom_xy, so results do not depend on
 * the grid. The input may be in any order: large batches are visited in
 * spatial order internally (an index array of 8 bytes a point), so random
 * order costs little.
 * @param[out] out  n results, out[i] for point i
 * @param xy        n points x0,y0,x1,y1... in the graph's CRS
 * @return TGIS_OK, TGIS_ENOMEM, TGIS_ECANCELLED (the cancel flag of the
 *         index's options; every point not yet done is then unsnapped).
 */
tgis_status tgis_snap_points(tgis_snap *out, const tgis_snap_index *idx,
                             const double *xy, size_t n);

/** Add the snap distance, walked at the graph's walk speed, to a cost. */
#define TGIS_SNAP_ADD_ACCESS 0x1u

/**
 * Travel time from the sources to a snapped point, given the node costs of
 * tgis_graph_dijkstra(): the least of cost(edge_from) + the time along the
 * edge to the point and cost(edge_to) + the time back along it, counting
 * only the directions `mode` allows (on a oneway edge a car arrives from
 * one end only). With TGIS_SNAP_ADD_ACCESS the snap distance at walking
 * speed is added (the walk from the road to the door).
 *
 * A source on the same edge as the point is reached only through the
 * edge's end nodes.
 *
 * @param[out] facility  may be NULL; the nearest facility (equal costs: the
 *                       lower index), -1 when unreachable
 * @param node_cost      n_nodes costs from tgis_graph_dijkstra()
 * @param node_facility  n_nodes facilities from it; may be NULL
 * @return seconds; INFINITY for an unsnapped point, an edge `mode` cannot
 *         use, or ends that were not reached.
 */
double tgis_snap_cost(int32_t *facility, const tgis_graph *g, tgis_mode mode,
                      const double *node_cost, const int32_t *node_facility,
                      const tgis_snap *s, unsigned int flags);

/**
 * The sources of a facility snapped onto an edge: its edge's end nodes,
 * with the time from the snapped point to each, leaving only along the
 * directions `mode` allows. With TGIS_SNAP_ADD_ACCESS the snap distance at
 * walking speed is added to both.
 * @param[out] out  room for 2 sources
 * @return how many were written: 2 for a two-way edge, 1 for a oneway
 *         edge, 0 for an unsnapped facility or an edge `mode` cannot use.
 */
size_t tgis_snap_sources(tgis_graph_source out[2], const tgis_graph *g,
                         tgis_mode mode, const tgis_snap *s, int32_t facility,
                         unsigned int flags);

#endif /* TGIS_ANALYTICS_GRAPH_H */
