/*
 * trace.h -- utility network tracing (module-internal).
 *
 * One network (gas, power, water or heat) of a database as plain arrays:
 * its nodes and lines read through the store, line ends tied to nodes by
 * their node references (or, where a reference is missing, by coincident
 * end points), and an undirected CSR adjacency of node -> incident lines.
 * On it run two passes: reachability from the sources with some elements
 * out of service and some valves closed, and the valve-isolation walk from
 * a failed element. Parcels are tied to consumer nodes through the parcels'
 * R-tree. trace.c turns the passes into the public tgis_trace_result; the
 * semantics are in docs/trace.md.
 *
 * Every array is allocated once for the whole network (no per-node
 * allocation); indexes are uint32_t, TGIS_TRACE__NONE for "none".
 */
#ifndef TGIS_ANALYTICS_TRACE_H
#define TGIS_ANALYTICS_TRACE_H

#include <stddef.h>
#include <stdint.h>

#include "tgis_int.h"

#define TGIS_TRACE__NONE UINT32_MAX

/** Default tolerances (docs/trace.md). */
#define TGIS_TRACE__JOIN_TOL_M 0.5
#define TGIS_TRACE__SERVE_RADIUS_M 200.0

/** Node kinds, in the catalogue's order, then the junctions tracing makes. */
typedef enum tgis_trace_kind {
  TGIS_TK_SOURCE = 0,
  TGIS_TK_JUNCTION,
  TGIS_TK_VALVE,
  TGIS_TK_SWITCH,
  TGIS_TK_SUBSTATION,
  TGIS_TK_CONSUMER,
  TGIS_TK_IMPLICIT,      /**< where line ends meet without a node feature */
  TGIS_TK_COUNT
} tgis_trace_kind;

/** Name of a node kind ("valve"; "implicit" for a made junction). */
const char *tgis_trace__kind_name(tgis_trace_kind k);

/** Valves and switches are what can be closed. */
static inline int tgis_trace__is_valve(uint8_t k)
{
  return k == TGIS_TK_VALVE || k == TGIS_TK_SWITCH;
}

/** Index of a network name in gas, power, water, heat; -1 if none. */
int tgis_trace__network_index(const char *name);

/** Name of network i (0..3). */
const char *tgis_trace__network_name(int i);

/** One network in memory. All fields are read-only after tgis_trace__load. */
typedef struct tgis_trace_net {
  tgis_ctx *ctx;
  int network;              /**< index of tgis_trace__network_name() */

  /* Nodes: the features first (in row id order), then implicit junctions. */
  uint32_t n_nodes, n_features, cap_nodes;
  int64_t *node_row;        /**< store row id; 0 for an implicit junction */
  uint32_t *node_name;      /**< offset of its ext_id in `names`; NONE if implicit */
  uint8_t *node_kind;       /**< tgis_trace_kind */
  double *node_xy;          /**< 2 per node */

  /* Lines, in row id order. */
  uint32_t n_lines, cap_lines;
  int64_t *line_row;
  uint32_t *line_name;      /**< offset of its ext_id in `names` */
  uint8_t *line_service;    /**< 1 for a service line, 0 for a main */
  uint32_t *line_end[2];    /**< from and to node (every line has both) */
  double *line_xy;          /**< 4 per line: first and last vertex */

  /* ext_ids of nodes and lines, NUL-terminated, one after another. */
  char *names;
  size_t n_names, cap_names;

  /* Adjacency: lines incident to node u are adj_line[adj_off[u]..adj_off[u+1]). */
  uint32_t *adj_off;        /**< n_nodes + 1 */
  uint32_t *adj_line;       /**< 2 * n_lines */

  uint32_t n_sources;
  uint32_t n_joined;        /**< line ends tied by geometry (to a node or
                                 to another line's end) */
  uint32_t n_implicit;      /**< implicit junctions made */
} tgis_trace_net;

/**
 * Read network `network` (index) of ctx's database through the store's
 * network_scan and build its graph: node references resolved, missing ones
 * joined by coincident end points within `join_tol` metres, adjacency built.
 * @param[out] g filled; release with tgis_trace__net_free() also on failure
 * @return TGIS_OK, TGIS_EINVAL (no database), TGIS_ENOMEM, TGIS_EDB,
 *         TGIS_EPARSE (an unreadable geometry).
 */
tgis_status tgis_trace__load(tgis_trace_net *g, tgis_ctx *ctx, int network, double join_tol);

/**
 * Where a feature with ext_id `id` is among all utility nodes and lines (a
 * full read: for error messages only).
 * @param[out] net      its network's index, or -1 if there is none
 * @param[out] is_line  1 if it is a line
 * @return TGIS_OK, TGIS_EINVAL (no database), TGIS_EDB, TGIS_ENOMEM.
 */
tgis_status tgis_trace__probe(tgis_ctx *ctx, const char *id, int *net, int *is_line);

/** Free the network's arrays. If g is NULL nothing occurs. */
void tgis_trace__net_free(tgis_trace_net *g);

/** ext_id of node u, or NULL for an implicit junction. */
static inline const char *tgis_trace__node_id(const tgis_trace_net *g, uint32_t u)
{
  return g->node_name[u] == TGIS_TRACE__NONE ? NULL : g->names + g->node_name[u];
}

/** ext_id of line l. */
static inline const char *tgis_trace__line_id(const tgis_trace_net *g, uint32_t l)
{
  return g->names + g->line_name[l];
}

/** The node with this ext_id, or TGIS_TRACE__NONE. */
uint32_t tgis_trace__find_node(const tgis_trace_net *g, const char *ext_id);

/** The line with this ext_id, or TGIS_TRACE__NONE. */
uint32_t tgis_trace__find_line(const tgis_trace_net *g, const char *ext_id);

/* ---- graph building (trace_graph.c) --------------------------------------- */

/** Room for `need` nodes in every node array (trace_load.c).
 * @return 0, or -1 when out of memory. */
int tgis_trace__grow_nodes(tgis_trace_net *g, uint32_t need);

/**
 * Tie every line end whose reference is missing (line_end NONE) to the
 * nearest node within `tol` metres of it; ends with no node near are
 * grouped (ends within `tol` of each other, transitively) into implicit
 * junctions appended to the nodes. Then build the adjacency.
 * @return TGIS_OK, TGIS_ENOMEM.
 */
tgis_status tgis_trace__build(tgis_trace_net *g, double tol);

/* ---- a static point index (trace_grid.c) ----------------------------------- */

/** Points in square cells, sorted by cell: built once, queried by box. */
typedef struct tgis_trace_grid {
  tgis_ctx *ctx;
  double cell;
  uint32_t n;
  uint64_t *key;            /**< n: cell key of each entry, ascending */
  uint32_t *item;           /**< n: the caller's point index */
} tgis_trace_grid;

/**
 * Index points xy[2*idx[k]], k < n (idx NULL: k itself) in cells of `cell`
 * metres.
 * @return TGIS_OK, TGIS_ENOMEM.
 */
tgis_status tgis_trace__grid_build(tgis_trace_grid *gr, tgis_ctx *ctx, const double *xy,
                                   const uint32_t *idx, uint32_t n, double cell);

/** Free a grid. If gr is NULL nothing occurs. */
void tgis_trace__grid_free(tgis_trace_grid *gr);

/** Called for each indexed point in the cells a query box meets; return
 * non-zero to stop. */
typedef int (*tgis_trace_grid_cb)(uint32_t item, void *payload);

/** Every point in the cells that meet [minx,maxx] x [miny,maxy] (a superset
 * of the points in the box: the caller checks distances). */
void tgis_trace__grid_query(const tgis_trace_grid *gr, double minx, double miny,
                            double maxx, double maxy, tgis_trace_grid_cb cb,
                            void *payload);

/* ---- passes (trace_walk.c) -------------------------------------------------- */

/** State of a node in a reachability pass. */
enum {
  TGIS_TRACE__PASS = 0,     /**< flow passes through it */
  TGIS_TRACE__OUT = 1,      /**< out of service: never reached */
  TGIS_TRACE__STOP = 2      /**< a closed valve: reached, never passed */
};

/** Scratch of a pass, sized for the network once. */
typedef struct tgis_trace_scratch {
  uint32_t *queue;          /**< n_nodes */
} tgis_trace_scratch;

/**
 * Reachability from every source whose state is not OUT. A node is live
 * when reached; a line is live when flow enters it from a live node that
 * passes (so a line behind a closed valve is not).
 * @param node_state  per node: TGIS_TRACE__PASS, _OUT or _STOP
 * @param line_out    per line: non-zero if out of service
 * @param[out] node_live, line_live  per node / line: 1 if reached
 */
void tgis_trace__reach(const tgis_trace_net *g, const uint8_t *node_state,
                       const uint8_t *line_out, uint8_t *node_live, uint8_t *line_live,
                       tgis_trace_scratch *s);

/**
 * The valve-isolation walk: from the failed line (`line` != NONE) or node,
 * over lines and nodes without passing through a valve or switch (the
 * failed node itself is passed even when it is one).
 * @param[out] seg_node  per node: 1 inside the isolated segment
 * @param[out] seg_line  per line: 1 inside the isolated segment
 * @param[out] boundary  per node: 1 for a valve the walk stopped at
 */
void tgis_trace__isolate(const tgis_trace_net *g, uint32_t line, uint32_t node,
                         uint8_t *seg_node, uint8_t *seg_line, uint8_t *boundary,
                         tgis_trace_scratch *s);

/* ---- parcels (trace_parcels.c) ----------------------------------------------- */

/** A parcel tied to a cut-off consumer. */
typedef struct tgis_trace_hit {
  int64_t parcel_row;       /**< the parcel's row id */
  uint32_t consumer;        /**< node index of its consumer */
  uint32_t cadastre;        /**< offset in the hits' text, NONE if null */
  uint32_t ext_id;          /**< offset in the hits' text, NONE if null */
  int64_t residents;
  double distance;          /**< metres from the consumer to the parcel */
} tgis_trace_hit;

/** The parcels a set of consumers serves. */
typedef struct tgis_trace_hits {
  tgis_ctx *ctx;
  tgis_trace_hit *hit;      /**< sorted by parcel row id, one per parcel */
  size_t n, cap;
  char *text;               /**< cadastre numbers and ext_ids */
  size_t n_text, cap_text;
} tgis_trace_hits;

/**
 * Parcels whose serving consumer (the network's nearest consumer node
 * within `radius` metres of the parcel's polygon, ties to the lower row
 * id) is marked in `cut`. Parcels are read by windows around the marked
 * consumers through the store's R-tree.
 * @param cut  per node: non-zero for the consumers of interest
 * @param[out] out  filled; release with tgis_trace__hits_free() also on failure
 * @return TGIS_OK, TGIS_ENOMEM, TGIS_EDB, TGIS_EPARSE.
 */
tgis_status tgis_trace__parcels(tgis_trace_hits *out, const tgis_trace_net *g,
                                const uint8_t *cut, double radius);

/** Free hits. If h is NULL nothing occurs. */
void tgis_trace__hits_free(tgis_trace_hits *h);

/**
 * Distance from (x, y) to a polygon or multipolygon: 0 inside (even-odd over
 * each polygon's rings), else to the nearest ring segment.
 */
double tgis_trace__point_polygon_distance(const tgis_geombuf *poly, double x, double y);

/* ---- the result (trace_result.c) --------------------------------------------- */

/** What the passes found, per node and line, for building the result. */
typedef struct tgis_trace_marks {
  uint8_t *cut_node[2], *cut_line[2];   /**< per scenario: 1 if cut off */
  uint8_t *seg_node, *seg_line;          /**< the isolated segment */
  uint8_t *to_close;                     /**< boundary valves not yet closed */
  uint8_t *live_before;                  /**< per node: fed before the failure */
  uint32_t failed_node;                  /**< the failed node, or NONE */
  int failed_fed;                        /**< it was fed before the failure */
} tgis_trace_marks;

struct tgis_trace_result {
  tgis_ctx *ctx;
  char *names;                  /**< the network's ext_ids (taken from the net) */
  char *text;                   /**< parcels' cadastre numbers and ext_ids */
  char *network, *failed_id;    /**< copies of the options' */
  tgis_trace_info info;
  tgis_trace_totals totals[2];
  tgis_trace_node *nodes[2], *consumers[2], *valves, *seg_nodes;
  size_t n_nodes[2], n_consumers[2], n_valves, n_seg_nodes;
  tgis_trace_line *lines[2], *seg_lines;
  size_t n_lines[2], n_seg_lines;
  tgis_trace_parcel *parcels[2];
  size_t n_parcels[2];
};

/**
 * Fill r's lists and totals from the marks; takes the net's names and the
 * hits' text (the net and hits are left without them).
 * @param hits  the parcels of the isolation scenario's cut-off consumers
 * @return TGIS_OK, TGIS_ENOMEM.
 */
tgis_status tgis_trace__result_fill(tgis_trace_result *r, tgis_trace_net *g,
                                    const tgis_trace_marks *m, tgis_trace_hits *hits);

#endif /* TGIS_ANALYTICS_TRACE_H */
