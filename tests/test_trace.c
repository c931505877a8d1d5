/*
 * test_trace.c -- utility network tracing (tgis_trace_*) on real SpatiaLite
 * databases: hand-built networks with known answers (a tree, a loop,
 * valves bounding a segment, two sources, lines without node references),
 * the generated city checked against an independent computation written
 * here (fixpoint reachability and valve walk over the rows read with plain
 * SQL, parcels' consumers chosen by SpatiaLite's ST_Distance), the errors,
 * and out-of-memory at every allocation.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>
#include <spatialite.h>

#include "tgis_int.h"
#include "generate.h"
#include "harness.h"

#define X0 520000.0
#define Y0 4570000.0

/* ---- building small networks through the store ------------------------------ */

typedef struct tnode {
  const char *id, *kind;
  double x, y;                 /* metres from (X0, Y0) */
} tnode;

typedef struct tline {
  const char *id, *from, *to;  /* NULL: no reference */
  int explicit_xy;             /* else drawn between the referenced nodes */
  double xy[4];
} tline;

typedef struct tparcel {
  const char *cadastre;
  double x, y, half;           /* a square around (x, y) */
  int64_t residents;
} tparcel;

typedef struct tnet {
  const char *network;
  const tnode *nodes;
  size_t n_nodes;
  const tline *lines;
  size_t n_lines;
} tnet;

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const tnode *find_tnode(const tnet *t, const char *id)
{
  for (size_t i = 0; id && i < t->n_nodes; i++)
    if (strcmp(t->nodes[i].id, id) == 0)
      return &t->nodes[i];
  return NULL;
}

static tgis_status put_nets(tgis_ctx *ctx, const tnet *nets, size_t n_nets,
                            const tparcel *parcels, size_t n_parcels)
{
  tgis_store *st = tgis__store(ctx);
  tgis_run_desc d = { "test_trace", TGIS_LAYER_UTILITY_NODES, "append" };
  tgis_value v[TGIS_MAX_FIELDS];
  tgis_write_result wr;
  tgis_geombuf g;
  tgis_status rc;
  int64_t run;

  tgis_geombuf_init(&g, ctx);
  if ((rc = tgis_store_begin(st)) || (rc = st->vt->run_open(st, &d, &run)))
    goto done;
  for (size_t k = 0; k < n_nets; k++) {
    const tnet *t = &nets[k];
    for (size_t i = 0; i < t->n_nodes; i++) {
      memset(v, 0, sizeof v);
      v[0].s = t->nodes[i].id;
      v[1].s = t->network;
      v[2].s = t->nodes[i].kind;
      v[3].is_null = 1;
      tgis_geombuf_reset(&g, TGIS_GEOM_POINT);
      tgis_geombuf_add_point(&g, X0 + t->nodes[i].x, Y0 + t->nodes[i].y);
      if ((rc = st->vt->row_write(st, TGIS_LAYER_UTILITY_NODES, 0, run, v, &g, &wr)))
        goto done;
      if (wr.outcome != TGIS_WRITE_INSERTED) {
        rc = tgis__fail(ctx, TGIS_EDB, "node %s: %s", t->nodes[i].id, wr.why);
        goto done;
      }
    }
    for (size_t i = 0; i < t->n_lines; i++) {
      const tline *l = &t->lines[i];
      const tnode *a = find_tnode(t, l->from), *b = find_tnode(t, l->to);
      memset(v, 0, sizeof v);
      v[0].s = l->id;
      v[1].s = t->network;
      v[2].s = "main";
      v[3].is_null = !l->from;
      v[3].s = l->from;
      v[4].is_null = !l->to;
      v[4].s = l->to;
      v[5].is_null = v[6].is_null = 1;
      tgis_geombuf_reset(&g, TGIS_GEOM_LINESTRING);
      if (l->explicit_xy) {
        tgis_geombuf_add_point(&g, X0 + l->xy[0], Y0 + l->xy[1]);
        tgis_geombuf_add_point(&g, X0 + l->xy[2], Y0 + l->xy[3]);
      } else {
        tgis_geombuf_add_point(&g, X0 + a->x, Y0 + a->y);
        tgis_geombuf_add_point(&g, X0 + b->x, Y0 + b->y);
      }
      tgis_geombuf_end_part(&g);
      if ((rc = st->vt->row_write(st, TGIS_LAYER_UTILITY_LINES, 0, run, v, &g, &wr)))
        goto done;
      if (wr.outcome != TGIS_WRITE_INSERTED || wr.unresolved) {
        rc = tgis__fail(ctx, TGIS_EDB, "line %s: not written as meant", l->id);
        goto done;
      }
    }
  }
  for (size_t i = 0; i < n_parcels; i++) {
    const tparcel *p = &parcels[i];
    double x = X0 + p->x, y = Y0 + p->y, h = p->half;
    memset(v, 0, sizeof v);
    v[0].s = p->cadastre;
    v[1].is_null = 1;
    v[2].s = "residential";
    v[3].d = 4 * h * h;
    v[4].i = p->residents;
    for (int f = 5; f < 9; f++)
      v[f].is_null = 1;
    tgis_geombuf_reset(&g, TGIS_GEOM_MULTIPOLYGON);
    tgis_geombuf_add_point(&g, x - h, y - h);
    tgis_geombuf_add_point(&g, x + h, y - h);
    tgis_geombuf_add_point(&g, x + h, y + h);
    tgis_geombuf_add_point(&g, x - h, y + h);
    tgis_geombuf_add_point(&g, x - h, y - h);
    tgis_geombuf_end_part(&g);
    tgis_geombuf_end_poly(&g);
    if ((rc = st->vt->row_write(st, TGIS_LAYER_PARCELS, 0, run, v, &g, &wr)))
      goto done;
  }
  rc = tgis_store_commit(st);
done:
  if (rc && st->in_transaction)
    tgis_store_rollback(st);
  tgis_geombuf_free(&g);
  return rc;
}

/* A fresh database at scratch path `name` holding the networks. */
static tgis_status make_db(tgis_ctx **ctx, const char *name, const tnet *nets, size_t n_nets,
                           const tparcel *parcels, size_t n_parcels)
{
  char path[512];
  tgis_options o = TGIS_OPTIONS_INIT;
  tgis_status rc;
  harness_path(path, sizeof path, name);
  unlink(path);
  o.flags = TGIS_OPEN_CREATE;
  if ((rc = tgis_open(ctx, path, &o)) != TGIS_OK)
    return rc;
  return put_nets(*ctx, nets, n_nets, parcels, n_parcels);
}

/* ---- reading results as sorted id lists ------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* "a,b,c": the ids sorted, in a static buffer per slot. */
static const char *join_ids(int slot, const char **ids, size_t n)
{
  static char buf[4][8192];
  size_t used = 0;
  qsort(ids, n, sizeof *ids, cmp_str);
  buf[slot][0] = '\0';
  for (size_t i = 0; i < n; i++)
    used += (size_t)snprintf(buf[slot] + used, sizeof buf[slot] - used, "%s%s",
                             i ? "," : "", ids[i]);
  return buf[slot];
}

static const char *node_ids(int slot, const tgis_trace_node *v, size_t n)
{
  const char *ids[256];
  for (size_t i = 0; i < n && i < 256; i++)
    ids[i] = v[i].id;
  return join_ids(slot, ids, n < 256 ? n : 256);
}

static const char *line_ids(int slot, const tgis_trace_line *v, size_t n)
{
  const char *ids[256];
  for (size_t i = 0; i < n && i < 256; i++)
    ids[i] = v[i].id;
  return join_ids(slot, ids, n < 256 ? n : 256);
}

static const char *parcel_ids(int slot, const tgis_trace_parcel *v, size_t n)
{
  const char *ids[256];
  for (size_t i = 0; i < n && i < 256; i++)
    ids[i] = v[i].cadastre;
  return join_ids(slot, ids, n < 256 ? n : 256);
}

#define NODES(r, sc) (tgis_trace_nodes(r, sc, &n_), node_ids(0, tgis_trace_nodes(r, sc, &n_), n_))
#define LINES(r, sc) (tgis_trace_lines(r, sc, &n_), line_ids(1, tgis_trace_lines(r, sc, &n_), n_))
#define CONSUMERS(r, sc) \
  (tgis_trace_consumers(r, sc, &n_), node_ids(2, tgis_trace_consumers(r, sc, &n_), n_))
#define PARCELS(r, sc) \
  (tgis_trace_parcels(r, sc, &n_), parcel_ids(3, tgis_trace_parcels(r, sc, &n_), n_))
#define VALVES(r) (tgis_trace_valves(r, &n_), node_ids(0, tgis_trace_valves(r, &n_), n_))
#define SEG_NODES(r) \
  (tgis_trace_segment_nodes(r, &n_), node_ids(1, tgis_trace_segment_nodes(r, &n_), n_))
#define SEG_LINES(r) \
  (tgis_trace_segment_lines(r, &n_), line_ids(2, tgis_trace_segment_lines(r, &n_), n_))

static tgis_status trace(tgis_trace_result **r, tgis_ctx *ctx, const char *net, const char *id)
{
  tgis_trace_options o = TGIS_TRACE_OPTIONS_INIT;
  o.network = net;
  o.fail_id = id;
  return tgis_trace_run(r, ctx, &o);
}

/* ---- hand-built networks ------------------------------------------------------ */

/*   S --l1-- A --l2-- B --l3-- C1
 *            |
 *            l4
 *            |
 *            D --l6-- C3
 *            |
 *            l5
 *            |
 *            C2        (P4 lies 60 m past C2, P5 far from everything) */
static const tnode tree_nodes[] = {
  { "S", "source", 0, 0 },     { "A", "junction", 100, 0 }, { "B", "junction", 200, 0 },
  { "C1", "consumer", 300, 0 }, { "D", "junction", 100, 100 },
  { "C2", "consumer", 100, 200 }, { "C3", "consumer", 200, 100 },
};
static const tline tree_lines[] = {
  { "l1", "S", "A", 0, { 0 } }, { "l2", "A", "B", 0, { 0 } }, { "l3", "B", "C1", 0, { 0 } },
  { "l4", "A", "D", 0, { 0 } }, { "l5", "D", "C2", 0, { 0 } }, { "l6", "D", "C3", 0, { 0 } },
};
static const tparcel tree_parcels[] = {
  { "10:01:01:01:01:0001", 300, 0, 20, 5 }, { "10:01:01:01:01:0002", 100, 200, 20, 10 },
  { "10:01:01:01:01:0003", 200, 100, 20, 20 }, { "10:01:01:01:01:0004", 100, 280, 20, 7 },
  { "10:01:01:01:01:0005", 2000, 2000, 20, 1000 },
};

static void test_trace__tree_line_cuts_exactly_its_subtree(void)
{
  tnet net = { "water", tree_nodes, N(tree_nodes), tree_lines, N(tree_lines) };
  tgis_ctx *ctx = NULL;
  tgis_trace_result *r = NULL;
  tgis_trace_totals t;
  tgis_trace_info in;
  size_t n_;

  ASSERT_OK_CTX(ctx, make_db(&ctx, "tree.sqlite", &net, 1, tree_parcels, N(tree_parcels)));
  ASSERT_OK_CTX(ctx, trace(&r, ctx, "water", "l4"));
  tgis_trace_info_get(&in, r);
  ASSERT_STR_EQ(in.failed_id, "l4");
  ASSERT_EQ(in.failed_is_line, 1);
  ASSERT_STR_EQ(in.failed_kind, "main");
  ASSERT_EQ(in.nodes, 7);
  ASSERT_EQ(in.lines, 6);
  ASSERT_EQ(in.sources, 1);
  ASSERT_EQ(in.unfed_before, 0);
  ASSERT_EQ(in.joined_ends, 0);
  ASSERT_STR_EQ(NODES(r, TGIS_TRACE_FAILURE), "C2,C3,D");
  ASSERT_STR_EQ(LINES(r, TGIS_TRACE_FAILURE), "l5,l6");
  ASSERT_STR_EQ(CONSUMERS(r, TGIS_TRACE_FAILURE), "C2,C3");
  /* P4 is served by C2, its nearest consumer; P5 by none within 200 m. */
  ASSERT_STR_EQ(PARCELS(r, TGIS_TRACE_FAILURE),
                "10:01:01:01:01:0002,10:01:01:01:01:0003,10:01:01:01:01:0004");
  tgis_trace_totals_get(&t, r, TGIS_TRACE_FAILURE);
  ASSERT_EQ(t.nodes, 3);
  ASSERT_EQ(t.lines, 2);
  ASSERT_EQ(t.consumers, 2);
  ASSERT_EQ(t.parcels, 3);
  ASSERT_EQ(t.residents, 37);
  {
    const tgis_trace_parcel *p = tgis_trace_parcels(r, TGIS_TRACE_FAILURE, &n_);
    ASSERT_STR_EQ(p[2].consumer, "C2");
    ASSERT_NEAR(p[2].distance_m, 60, 1e-9);
    ASSERT_NEAR(p[0].distance_m, 0, 0);     /* C2 lies inside P2 */
  }
  /* No valve anywhere: isolating means shutting the whole network. */
  ASSERT(tgis_trace_valves(r, &n_) == NULL && n_ == 0);
  ASSERT_STR_EQ(SEG_NODES(r), "A,B,C1,C2,C3,D,S");
  ASSERT_STR_EQ(NODES(r, TGIS_TRACE_ISOLATION), "A,B,C1,C2,C3,D,S");
  ASSERT_STR_EQ(LINES(r, TGIS_TRACE_ISOLATION), "l1,l2,l3,l5,l6");
  tgis_trace_totals_get(&t, r, TGIS_TRACE_ISOLATION);
  ASSERT_EQ(t.residents, 42);
  tgis_trace_result_free(r);

  /* A failed node takes its lines with it; it is not listed itself. */
  ASSERT_OK_CTX(ctx, trace(&r, ctx, "water", "D"));
  tgis_trace_info_get(&in, r);
  ASSERT_EQ(in.failed_is_line, 0);
  ASSERT_STR_EQ(in.failed_kind, "junction");
  ASSERT_STR_EQ(NODES(r, TGIS_TRACE_FAILURE), "C2,C3");
  ASSERT_STR_EQ(LINES(r, TGIS_TRACE_FAILURE), "l5,l6");
  tgis_trace_result_free(r);

  /* The main at the source cuts off everything downstream. */
  ASSERT_OK_CTX(ctx, trace(&r, ctx, "water", "l1"));
  ASSERT_STR_EQ(NODES(r, TGIS_TRACE_FAILURE), "A,B,C1,C2,C3,D");
  ASSERT_STR_EQ(LINES(r, TGIS_TRACE_FAILURE), "l2,l3,l4,l5,l6");
  tgis_trace_totals_get(&t, r, TGIS_TRACE_FAILURE);
  ASSERT_EQ(t.residents, 42);
  tgis_trace_result_free(r);

  /* A failed consumer: its own parcels lose supply, nothing else. */
  ASSERT_OK_CTX(ctx, trace(&r, ctx, "water", "C1"));
  ASSERT_STR_EQ(NODES(r, TGIS_TRACE_FAILURE), "");
  ASSERT_STR_EQ(PARCELS(r, TGIS_TRACE_FAILURE), "10:01:01:01:01:0001");
  tgis_trace_totals_get(&t, r, TGIS_TRACE_FAILURE);
  ASSERT_EQ(t.residents, 5);
  tgis_trace_result_free(r);
  tgis_close(ctx);
}

/*   S --r1-- A
 *   |        |
 *   r4       r2
 *   |        |
 *   C --r3-- B --k1-- K */
static void test_trace__loop_failing_one_line_cuts_nothing(void)
{
  static const tnode nodes[] = {
    { "S", "source", 0, 0 }, { "A", "junction", 100, 0 }, { "B", "junction", 100, 100 },
    { "C", "junction", 0, 100 }, { "K", "consumer", 200, 100 },
  };
  static const tline lines[] = {
    { "r1", "S", "A", 0, { 0 } }, { "r2", "A", "B", 0, { 0 } }, { "r3", "B", "C", 0, { 0 } },
    { "r4", "C", "S", 0, { 0 } }, { "k1", "B", "K", 0, { 0 } },
  };
  tnet net = { "gas", nodes, N(nodes), lines, N(lines) };
  tgis_ctx *ctx = NULL;
  tgis_trace_result *r = NULL;
  tgis_trace_totals t;
  size_t n_;

  ASSERT_OK_CTX(ctx, make_db(&ctx, "loop.sqlite", &net, 1, NULL, 0));
  for (int i = 0; i < 4; i++) {
    ASSERT_OK_CTX(ctx, trace(&r, ctx, "gas", lines[i].id));
    tgis_trace_totals_get(&t, r, TGIS_TRACE_FAILURE);
    ASSERT_EQ(t.nodes, 0);
    ASSERT_EQ(t.lines, 0);
    ASSERT_EQ(t.consumers, 0);
    tgis_trace_result_free(r);
    r = NULL;
  }
  ASSERT_OK_CTX(ctx, trace(&r, ctx, "gas", "B"));
  ASSERT_STR_EQ(NODES(r, TGIS_TRACE_FAILURE), "K");
  ASSERT_STR_EQ(LINES(r, TGIS_TRACE_FAILURE), "k1");
  tgis_trace_result_free(r);
  tgis_close(ctx);
}

/*   S1 --l1-- V1 --l2-- A --l3-- B --l4-- V2 --l5-- C --l8-- S2
 *                       |                         |
 *                       l7                        l6
 *                       |                         |
 *                       K2                        K1 */
static const tnode valve_nodes[] = {
  { "S1", "source", 0, 0 },     { "V1", "valve", 100, 0 },     { "A", "junction", 200, 0 },
  { "B", "junction", 300, 0 },  { "V2", "valve", 400, 0 },     { "C", "junction", 500, 0 },
  { "K1", "consumer", 500, 100 }, { "K2", "consumer", 200, 100 }, { "S2", "source", 600, 0 },
};
static const tline valve_lines[] = {
  { "l1", "S1", "V1", 0, { 0 } }, { "l2", "V1", "A", 0, { 0 } }, { "l3", "A", "B", 0, { 0 } },
  { "l4", "B", "V2", 0, { 0 } },  { "l5", "V2", "C", 0, { 0 } }, { "l6", "C", "K1", 0, { 0 } },
  { "l7", "A", "K2", 0, { 0 } },  { "l8", "S2", "C", 0, { 0 } },
};
static const tparcel valve_parcels[] = {
  { "10:02:01:01:01:0001", 200, 110, 30, 12 }, { "10:02:01:01:01:0002", 500, 110, 30, 8 },
};

static void test_trace__valves_isolate_a_segment(void)
{
  tnet net = { "heat", valve_nodes, N(valve_nodes), valve_lines, N(valve_lines) };
  tgis_ctx *ctx = NULL;
  tgis_trace_result *r = NULL;
  tgis_trace_totals t;
  size_t n_;

  ASSERT_OK_CTX(ctx, make_db(&ctx, "valves.sqlite", &net, 1, valve_parcels, N(valve_parcels)));
  ASSERT_OK_CTX(ctx, trace(&r, ctx, "heat", "l3"));
  /* Fed from both sides: the break itself cuts nothing off... */
  tgis_trace_totals_get(&t, r, TGIS_TRACE_FAILURE);
  ASSERT_EQ(t.nodes + t.lines + t.parcels, 0);
  /* ...but isolating it closes V1 and V2 and drains A, B and K2. */
  ASSERT_STR_EQ(VALVES(r), "V1,V2");
  ASSERT_STR_EQ(SEG_NODES(r), "A,B,K2");
  ASSERT_STR_EQ(SEG_LINES(r), "l2,l3,l4,l7");
  ASSERT_STR_EQ(NODES(r, TGIS_TRACE_ISOLATION), "A,B,K2");
  ASSERT_STR_EQ(LINES(r, TGIS_TRACE_ISOLATION), "l2,l4,l7");
  ASSERT_STR_EQ(CONSUMERS(r, TGIS_TRACE_ISOLATION), "K2");
  ASSERT_STR_EQ(PARCELS(r, TGIS_TRACE_ISOLATION), "10:02:01:01:01:0001");
  tgis_trace_totals_get(&t, r, TGIS_TRACE_ISOLATION);
  ASSERT_EQ(t.residents, 12);
  {
    const tgis_trace_node *v = tgis_trace_valves(r, &n_);
    ASSERT_STR_EQ(v[0].kind, "valve");
    ASSERT_NEAR(v[0].x, X0 + 100, 1e-6);
  }
  tgis_trace_result_free(r);
  r = NULL;

  /* With V2 already closed, B hangs on A alone: the break cuts it off,
   * and only V1 is left to close. */
  {
    const char *closed[] = { "V2" };
    tgis_trace_options o = TGIS_TRACE_OPTIONS_INIT;
    o.network = "heat";
    o.fail_id = "l3";
    o.closed = closed;
    o.n_closed = 1;
    ASSERT_OK_CTX(ctx, tgis_trace_run(&r, ctx, &o));
    ASSERT_STR_EQ(NODES(r, TGIS_TRACE_FAILURE), "B");
    ASSERT_STR_EQ(LINES(r, TGIS_TRACE_FAILURE), "l4");
    ASSERT_STR_EQ(VALVES(r), "V1");
    tgis_trace_result_free(r);
    r = NULL;
  }

  /* A failed valve cannot be closed: the walk passes it. */
  ASSERT_OK_CTX(ctx, trace(&r, ctx, "heat", "V1"));
  ASSERT_STR_EQ(VALVES(r), "V2");
  ASSERT_STR_EQ(SEG_NODES(r), "A,B,K2,S1,V1");
  ASSERT_STR_EQ(NODES(r, TGIS_TRACE_FAILURE), "");   /* S2 feeds all */
  ASSERT_STR_EQ(NODES(r, TGIS_TRACE_ISOLATION), "A,B,K2,S1");
  tgis_trace_result_free(r);
  tgis_close(ctx);
}

static void test_trace__two_sources_feed_around_a_failure(void)
{
  static const tnode nodes[] = {
    { "S1", "source", 0, 0 }, { "A", "switch", 100, 0 }, { "S2", "source", 200, 0 },
    { "K", "consumer", 100, 100 },
  };
  static const tline lines[] = {
    { "m1", "S1", "A", 0, { 0 } }, { "m2", "A", "S2", 0, { 0 } }, { "k", "A", "K", 0, { 0 } },
  };
  tnet net = { "power", nodes, N(nodes), lines, N(lines) };
  tgis_ctx *ctx = NULL;
  tgis_trace_result *r = NULL;
  size_t n_;

  ASSERT_OK_CTX(ctx, make_db(&ctx, "two.sqlite", &net, 1, NULL, 0));
  ASSERT_OK_CTX(ctx, trace(&r, ctx, "power", "m1"));
  ASSERT_STR_EQ(NODES(r, TGIS_TRACE_FAILURE), "");
  ASSERT_STR_EQ(VALVES(r), "A");                 /* power: switches isolate */
  ASSERT_STR_EQ(SEG_NODES(r), "S1");
  /* Closing switch A also cuts K off S2: A reaches K only through itself. */
  ASSERT_STR_EQ(NODES(r, TGIS_TRACE_ISOLATION), "K,S1");
  tgis_trace_result_free(r);
  ASSERT_OK_CTX(ctx, trace(&r, ctx, "power", "S1"));
  ASSERT_STR_EQ(NODES(r, TGIS_TRACE_FAILURE), "");
  tgis_trace_result_free(r);
  ASSERT_OK_CTX(ctx, trace(&r, ctx, "power", "A"));
  ASSERT_STR_EQ(NODES(r, TGIS_TRACE_FAILURE), "K");
  tgis_trace_result_free(r);
  tgis_close(ctx);
}

/* Lines without node references, tied by their end points:
 *   S --m1--> A --m2--> (x) --m3--> K --m4--> (dangling)        Z
 * m1 ends 0.3 m from A; m2 and m3 meet 0.1 m apart with no node there. */
static void test_trace__missing_references_join_by_end_points(void)
{
  static const tnode nodes[] = {
    { "S", "source", 0, 0 }, { "A", "junction", 100, 0 }, { "K", "consumer", 300, 0 },
    { "Z", "consumer", 500, 0 },
  };
  static const tline lines[] = {
    { "m1", "S", NULL, 1, { 0, 0, 100.3, 0 } },
    { "m2", NULL, NULL, 1, { 100, 0.2, 200, 0 } },
    { "m3", NULL, NULL, 1, { 200.1, 0, 300, 0 } },
    { "m4", "K", NULL, 1, { 300, 0, 400, 0 } },
  };
  tnet net = { "water", nodes, N(nodes), lines, N(lines) };
  tgis_ctx *ctx = NULL;
  tgis_trace_result *r = NULL;
  tgis_trace_info in;
  tgis_trace_options o = TGIS_TRACE_OPTIONS_INIT;
  size_t n_;

  ASSERT_OK_CTX(ctx, make_db(&ctx, "refs.sqlite", &net, 1, NULL, 0));
  ASSERT_OK_CTX(ctx, trace(&r, ctx, "water", "m2"));
  tgis_trace_info_get(&in, r);
  ASSERT_EQ(in.joined_ends, 5);          /* m1 to A, m2 to A, m2-m3, m3 to K */
  ASSERT_EQ(in.implicit_junctions, 2);   /* m2/m3, and m4's dangling end */
  ASSERT_EQ(in.unfed_before, 1);         /* Z: nothing reaches it */
  ASSERT_STR_EQ(NODES(r, TGIS_TRACE_FAILURE), "K");
  ASSERT_STR_EQ(LINES(r, TGIS_TRACE_FAILURE), "m3,m4");
  {
    const tgis_trace_line *l = tgis_trace_lines(r, TGIS_TRACE_FAILURE, &n_);
    ASSERT(l[0].from == NULL);           /* the implicit junction */
    ASSERT_STR_EQ(l[0].to, "K");
    ASSERT_STR_EQ(l[1].from, "K");
    ASSERT(l[1].to == NULL);
  }
  tgis_trace_result_free(r);
  r = NULL;
  ASSERT_OK_CTX(ctx, trace(&r, ctx, "water", "m1"));
  ASSERT_STR_EQ(NODES(r, TGIS_TRACE_FAILURE), "A,K");
  ASSERT_STR_EQ(LINES(r, TGIS_TRACE_FAILURE), "m2,m3,m4");
  tgis_trace_result_free(r);
  r = NULL;

  /* A tolerance of 5 cm leaves m1 short of A: A and K were never fed. */
  o.network = "water";
  o.fail_id = "m1";
  o.join_tolerance_m = 0.05;
  ASSERT_OK_CTX(ctx, tgis_trace_run(&r, ctx, &o));
  tgis_trace_info_get(&in, r);
  ASSERT_EQ(in.unfed_before, 3);
  ASSERT_STR_EQ(NODES(r, TGIS_TRACE_FAILURE), "");
  tgis_trace_result_free(r);
  tgis_close(ctx);
}

static void test_trace__errors_name_the_id(void)
{
  static const tnode water_nodes[] = {
    { "w-s", "source", 0, 0 }, { "w-j", "junction", 100, 0 },
  };
  static const tline water_lines[] = { { "w-l", "w-s", "w-j", 0, { 0 } } };
  static const tnode gas_nodes[] = {   /* no source */
    { "g-a", "junction", 0, 10 }, { "g-b", "valve", 100, 10 },
  };
  static const tline gas_lines[] = { { "g-l", "g-a", "g-b", 0, { 0 } } };
  tnet nets[] = {
    { "water", water_nodes, N(water_nodes), water_lines, N(water_lines) },
    { "gas", gas_nodes, N(gas_nodes), gas_lines, N(gas_lines) },
  };
  tgis_ctx *ctx = NULL, *nodb = NULL;
  tgis_trace_result *r = (tgis_trace_result *)(uintptr_t)1;
  tgis_trace_options o = TGIS_TRACE_OPTIONS_INIT;
  const char *closed[1];

  ASSERT_OK_CTX(ctx, make_db(&ctx, "errors.sqlite", nets, 2, NULL, 0));
  ASSERT_EQ(trace(&r, ctx, "sewage", "w-l"), TGIS_EINVAL);
  ASSERT(r == NULL);
  ASSERT_CONTAINS(tgis_errmsg(ctx), "unknown network 'sewage'");
  ASSERT_EQ(trace(&r, ctx, NULL, "w-l"), TGIS_EINVAL);
  ASSERT_CONTAINS(tgis_errmsg(ctx), "no network");
  ASSERT_EQ(trace(&r, ctx, "water", NULL), TGIS_EINVAL);
  ASSERT_EQ(trace(&r, ctx, "water", ""), TGIS_EINVAL);
  ASSERT_CONTAINS(tgis_errmsg(ctx), "no failed element");
  ASSERT_EQ(trace(&r, ctx, "water", "w-nope"), TGIS_EINVAL);
  ASSERT_CONTAINS(tgis_errmsg(ctx), "w-nope: no line or node of the water network");
  ASSERT_EQ(trace(&r, ctx, "water", "g-l"), TGIS_EINVAL);
  ASSERT_CONTAINS(tgis_errmsg(ctx), "g-l is a line of the gas network, not of water");
  ASSERT_EQ(trace(&r, ctx, "water", "g-b"), TGIS_EINVAL);
  ASSERT_CONTAINS(tgis_errmsg(ctx), "g-b is a node of the gas network");
  ASSERT_EQ(trace(&r, ctx, "gas", "g-l"), TGIS_EINVAL);
  ASSERT_CONTAINS(tgis_errmsg(ctx), "g-l: the gas network has no source node");
  ASSERT_EQ(trace(&r, ctx, "heat", "w-l"), TGIS_EINVAL);
  ASSERT_CONTAINS(tgis_errmsg(ctx), "w-l is a line of the water network, not of heat "
                                    "(the database has no nodes of that network)");
  ASSERT_EQ(trace(&r, ctx, "heat", "h-1"), TGIS_EINVAL);
  ASSERT_CONTAINS(tgis_errmsg(ctx), "h-1: no line or node of the heat network");

  o.network = "water";
  o.fail_id = "w-l";
  o.closed = closed;
  o.n_closed = 1;
  closed[0] = "w-j";
  ASSERT_EQ(tgis_trace_run(&r, ctx, &o), TGIS_EINVAL);
  ASSERT_CONTAINS(tgis_errmsg(ctx), "closed valve w-j is a junction, not a valve");
  closed[0] = "w-l";
  ASSERT_EQ(tgis_trace_run(&r, ctx, &o), TGIS_EINVAL);
  ASSERT_CONTAINS(tgis_errmsg(ctx), "closed valve w-l is a line");
  closed[0] = "g-b";
  ASSERT_EQ(tgis_trace_run(&r, ctx, &o), TGIS_EINVAL);
  ASSERT_CONTAINS(tgis_errmsg(ctx), "closed valve g-b is a node of the gas network");
  o.n_closed = 0;
  o.serve_radius_m = -1;
  ASSERT_EQ(tgis_trace_run(&r, ctx, &o), TGIS_EINVAL);
  ASSERT_CONTAINS(tgis_errmsg(ctx), "serving radius");
  o.serve_radius_m = NAN;
  ASSERT_EQ(tgis_trace_run(&r, ctx, &o), TGIS_EINVAL);
  o.serve_radius_m = 0;
  o.join_tolerance_m = -0.5;
  ASSERT_EQ(tgis_trace_run(&r, ctx, &o), TGIS_EINVAL);
  ASSERT_CONTAINS(tgis_errmsg(ctx), "join tolerance");
  o.join_tolerance_m = 0;
  o.version = 99;
  ASSERT_EQ(tgis_trace_run(&r, ctx, &o), TGIS_EINVAL);
  ASSERT(r == NULL);
  o.version = TGIS_TRACE_OPTIONS_VERSION;
  ASSERT_OK_CTX(ctx, tgis_trace_run(&r, ctx, &o));   /* and the context still works */
  tgis_trace_result_free(r);
  tgis_trace_result_free(NULL);

  ASSERT_EQ(tgis_open(&nodb, NULL, NULL), TGIS_OK);
  ASSERT_EQ(trace(&r, nodb, "water", "w-l"), TGIS_EINVAL);
  ASSERT_CONTAINS(tgis_errmsg(nodb), "without a database");
  tgis_close(nodb);
  tgis_close(ctx);
}

static void test_trace__out_of_memory_at_every_allocation(void)
{
  char path[512];
  harness_fault fa = { 0, 0, 0 };
  tgis_allocator a = { harness_fault_malloc, harness_fault_realloc, harness_fault_free, &fa };
  tgis_options o = TGIS_OPTIONS_INIT;
  tgis_ctx *ctx = NULL;
  tnet net = { "heat", valve_nodes, N(valve_nodes), valve_lines, N(valve_lines) };
  int n, ok = 0;

  ASSERT_OK_CTX(ctx, make_db(&ctx, "oom.sqlite", &net, 1, valve_parcels, N(valve_parcels)));
  tgis_close(ctx);
  ctx = NULL;
  harness_path(path, sizeof path, "oom.sqlite");
  o.allocator = &a;
  ASSERT_OK_CTX(ctx, tgis_open(&ctx, path, &o));
  for (n = 1; n < 1000 && !ok; n++) {
    tgis_trace_result *r = NULL;
    int live = fa.live;
    tgis_status st;
    fa.fail_at = fa.calls + n;
    st = trace(&r, ctx, "heat", "l3");
    fa.fail_at = 0;
    if (st == TGIS_OK) {
      size_t k;
      ok = 1;
      tgis_trace_valves(r, &k);
      ASSERT_EQ(k, 2);
    } else {
      ASSERT_EQ(st, TGIS_ENOMEM);
      ASSERT(r == NULL);
      ASSERT(tgis_errmsg(ctx)[0] != '\0');
    }
    tgis_trace_result_free(r);
    ASSERT_EQ(fa.live, live);
  }
  ASSERT(ok);
  ASSERT(n > 10);
  tgis_close(ctx);
  ASSERT_EQ(fa.live, 0);
}

/* ---- the generated city, against an independent computation ------------------ */

static char city_db[512];
static int city_ready;

static int city(void)
{
  char gpkg[512];
  tgis_ctx *gen = NULL, *ctx = NULL;
  tgis_gen_options go = TGIS_GEN_OPTIONS_INIT;
  tgis_options o = TGIS_OPTIONS_INIT;
  int ok = 0;

  if (city_ready)
    return city_ready > 0;
  city_ready = -1;
  harness_path(gpkg, sizeof gpkg, "city.gpkg");
  harness_path(city_db, sizeof city_db, "city.sqlite");
  unlink(gpkg);
  unlink(city_db);
  go.scale = 0.005;
  go.seed = 11;
  go.manifest_path = NULL;
  if (tgis_open(&gen, NULL, NULL) != TGIS_OK || tgis_generate(gen, gpkg, &go) != TGIS_OK) {
    fprintf(stderr, "generate: %s\n", gen ? tgis_errmsg(gen) : "out of memory");
    goto done;
  }
  o.flags = TGIS_OPEN_CREATE;
  if (tgis_open(&ctx, city_db, &o) != TGIS_OK || tgis_import(NULL, ctx, gpkg, NULL) != TGIS_OK) {
    fprintf(stderr, "import: %s\n", ctx ? tgis_errmsg(ctx) : "out of memory");
    goto done;
  }
  ok = 1;
  city_ready = 1;
done:
  tgis_close(gen);
  tgis_close(ctx);
  return ok;
}

/* One network as plain SQL reads it: rows, kinds, references as row ids. */
typedef struct ref_net {
  size_t nn, nl;
  int64_t *node_row;
  char **node_id;
  int *is_source, *is_valve, *is_consumer;
  size_t *la, *lb;        /* line ends as node indexes */
  char **line_id;
  int *line_main;
} ref_net;

static void ref_free(ref_net *R)
{
  for (size_t i = 0; i < R->nn; i++)
    free(R->node_id[i]);
  for (size_t i = 0; i < R->nl; i++)
    free(R->line_id[i]);
  free(R->node_row);
  free(R->node_id);
  free(R->is_source);
  free(R->is_valve);
  free(R->is_consumer);
  free(R->la);
  free(R->lb);
  free(R->line_id);
  free(R->line_main);
  memset(R, 0, sizeof *R);
}

static size_t ref_node_of_row(const ref_net *R, int64_t row)
{
  for (size_t i = 0; i < R->nn; i++)
    if (R->node_row[i] == row)
      return i;
  return (size_t)-1;
}

static int ref_load(ref_net *R, sqlite3 *db, const char *net)
{
  sqlite3_stmt *s = NULL;
  size_t cap;
  memset(R, 0, sizeof *R);
  if (sqlite3_prepare_v2(db, "SELECT id, ext_id, kind FROM utility_nodes WHERE network = ?1",
                         -1, &s, NULL) != SQLITE_OK)
    return -1;
  sqlite3_bind_text(s, 1, net, -1, SQLITE_STATIC);
  cap = 100000;
  R->node_row = calloc(cap, sizeof *R->node_row);
  R->node_id = calloc(cap, sizeof *R->node_id);
  R->is_source = calloc(cap, sizeof(int));
  R->is_valve = calloc(cap, sizeof(int));
  R->is_consumer = calloc(cap, sizeof(int));
  while (sqlite3_step(s) == SQLITE_ROW && R->nn < cap) {
    const char *kind = (const char *)sqlite3_column_text(s, 2);
    R->node_row[R->nn] = sqlite3_column_int64(s, 0);
    R->node_id[R->nn] = strdup((const char *)sqlite3_column_text(s, 1));
    R->is_source[R->nn] = strcmp(kind, "source") == 0;
    R->is_valve[R->nn] = strcmp(kind, "valve") == 0 || strcmp(kind, "switch") == 0;
    R->is_consumer[R->nn] = strcmp(kind, "consumer") == 0;
    R->nn++;
  }
  sqlite3_finalize(s);
  if (sqlite3_prepare_v2(db, "SELECT ext_id, from_node, to_node, kind FROM utility_lines "
                         "WHERE network = ?1", -1, &s, NULL) != SQLITE_OK)
    return -1;
  sqlite3_bind_text(s, 1, net, -1, SQLITE_STATIC);
  R->la = calloc(cap, sizeof *R->la);
  R->lb = calloc(cap, sizeof *R->lb);
  R->line_id = calloc(cap, sizeof *R->line_id);
  R->line_main = calloc(cap, sizeof(int));
  while (sqlite3_step(s) == SQLITE_ROW && R->nl < cap) {
    R->line_id[R->nl] = strdup((const char *)sqlite3_column_text(s, 0));
    R->la[R->nl] = ref_node_of_row(R, sqlite3_column_int64(s, 1));
    R->lb[R->nl] = ref_node_of_row(R, sqlite3_column_int64(s, 2));
    R->line_main[R->nl] = strcmp((const char *)sqlite3_column_text(s, 3), "main") == 0;
    if (R->la[R->nl] == (size_t)-1 || R->lb[R->nl] == (size_t)-1)
      return -1;        /* the generator always references both ends */
    R->nl++;
  }
  sqlite3_finalize(s);
  return 0;
}

/* Fixpoint reachability: state 0 pass, 1 out, 2 closed valve. */
static void ref_reach(const ref_net *R, const int *state, const int *line_out, int *live,
                      int *line_live)
{
  int changed = 1;
  for (size_t i = 0; i < R->nn; i++)
    live[i] = R->is_source[i] && state[i] != 1;
  while (changed) {
    changed = 0;
    for (size_t l = 0; l < R->nl; l++) {
      size_t a = R->la[l], b = R->lb[l];
      if (line_out[l])
        continue;
      if (live[a] && state[a] == 0 && !live[b] && state[b] != 1)
        live[b] = changed = 1;
      if (live[b] && state[b] == 0 && !live[a] && state[a] != 1)
        live[a] = changed = 1;
    }
  }
  for (size_t l = 0; l < R->nl; l++) {
    size_t a = R->la[l], b = R->lb[l];
    line_live[l] = !line_out[l] && ((live[a] && state[a] == 0) || (live[b] && state[b] == 0));
  }
}

/* Sorted, comma-joined names of the marked entries (malloc'd). */
static char *ref_join(char **names, const int *mark, size_t n)
{
  const char **v = malloc((n ? n : 1) * sizeof *v);
  size_t k = 0, len = 1;
  char *out;
  for (size_t i = 0; i < n; i++)
    if (mark[i]) {
      v[k++] = names[i];
      len += strlen(names[i]) + 1;
    }
  qsort(v, k, sizeof *v, cmp_str);
  out = malloc(len);
  out[0] = '\0';
  for (size_t i = 0; i < k; i++) {
    if (i)
      strcat(out, ",");
    strcat(out, v[i]);
  }
  free(v);
  return out;
}

static char *got_nodes(const tgis_trace_node *v, size_t n)
{
  const char **ids = malloc((n ? n : 1) * sizeof *ids);
  size_t len = 1;
  char *out;
  for (size_t i = 0; i < n; i++) {
    ids[i] = v[i].id;
    len += strlen(v[i].id) + 1;
  }
  qsort(ids, n, sizeof *ids, cmp_str);
  out = malloc(len);
  out[0] = '\0';
  for (size_t i = 0; i < n; i++) {
    if (i)
      strcat(out, ",");
    strcat(out, ids[i]);
  }
  free(ids);
  return out;
}

static char *got_lines(const tgis_trace_line *v, size_t n)
{
  tgis_trace_node *tmp = malloc((n ? n : 1) * sizeof *tmp);
  char *out;
  for (size_t i = 0; i < n; i++)
    tmp[i].id = v[i].id;
  out = got_nodes(tmp, n);
  free(tmp);
  return out;
}

/* Parcels' consumers by SpatiaLite: for every parcel and every consumer
 * within `radius` of it, ST_Distance (GEOS) in SQL; the nearest, ties to the
 * lower row id, chosen here. Returns the number of parcels (in id order)
 * and fills parallel arrays; consumer 0 = none within the radius. */
static size_t sql_parcel_consumers(sqlite3 *db, const char *net, double radius,
                                   int64_t **consumer, int64_t **residents, char ***cadastre)
{
  static const char *parcels_sql =
    "SELECT id, cadastre, residents FROM parcels ORDER BY id";
  static const char *pairs_sql =
    "SELECT p.id, c.id, ST_Distance(c.geom, p.geom) AS d FROM parcels p "
    "CROSS JOIN idx_utility_nodes_geom i ON i.xmin <= MbrMaxX(p.geom) + ?2 "
    "  AND i.xmax >= MbrMinX(p.geom) - ?2 AND i.ymin <= MbrMaxY(p.geom) + ?2 "
    "  AND i.ymax >= MbrMinY(p.geom) - ?2 "
    "CROSS JOIN utility_nodes c ON c.id = i.pkid "
    "WHERE c.network = ?1 AND c.kind = 'consumer' AND d <= ?2";
  sqlite3_stmt *s = NULL;
  size_t n = 0, cap = 1 << 16;
  int64_t *pid = calloc(cap, sizeof *pid);
  double *best = calloc(cap, sizeof *best);

  *consumer = calloc(cap, sizeof **consumer);
  *residents = calloc(cap, sizeof **residents);
  *cadastre = calloc(cap, sizeof **cadastre);
  if (sqlite3_prepare_v2(db, parcels_sql, -1, &s, NULL) != SQLITE_OK)
    goto fail;
  while (sqlite3_step(s) == SQLITE_ROW && n < cap) {
    pid[n] = sqlite3_column_int64(s, 0);
    (*cadastre)[n] = strdup((const char *)sqlite3_column_text(s, 1));
    (*residents)[n] = sqlite3_column_int64(s, 2);
    best[n] = HUGE_VAL;
    n++;
  }
  sqlite3_finalize(s);
  if (sqlite3_prepare_v2(db, pairs_sql, -1, &s, NULL) != SQLITE_OK)
    goto fail;
  sqlite3_bind_text(s, 1, net, -1, SQLITE_STATIC);
  sqlite3_bind_double(s, 2, radius);
  while (sqlite3_step(s) == SQLITE_ROW) {
    int64_t p = sqlite3_column_int64(s, 0), c = sqlite3_column_int64(s, 1);
    double d = sqlite3_column_double(s, 2);
    size_t lo = 0, hi = n;
    while (lo < hi) {                      /* parcels are in id order */
      size_t mid = (lo + hi) / 2;
      if (pid[mid] < p)
        lo = mid + 1;
      else
        hi = mid;
    }
    if (lo < n && pid[lo] == p &&
        (d < best[lo] || (d == best[lo] && c < (*consumer)[lo]))) {
      best[lo] = d;
      (*consumer)[lo] = c;
    }
  }
  sqlite3_finalize(s);
  free(pid);
  free(best);
  return n;
fail:
  fprintf(stderr, "sql: %s\n", sqlite3_errmsg(db));
  free(pid);
  free(best);
  return 0;
}

typedef struct city_case {
  size_t checked, downstream_checked, with_valves, parcels;
} city_case;

/* One failure in the generated city: the trace against the reference. */
static void check_failure(tgis_ctx *ctx, const ref_net *R, const char *net, int is_line,
                          size_t k, size_t np, const int64_t *pc, const int64_t *pres,
                          char **pcad, city_case *cc)
{
  tgis_trace_options o = TGIS_TRACE_OPTIONS_INIT;
  tgis_trace_result *r = NULL;
  tgis_trace_totals t;
  size_t nn = R->nn, nl = R->nl, n;
  int *state = calloc(nn, sizeof(int)), *lout = calloc(nl, sizeof(int));
  int *before = calloc(nn, sizeof(int)), *lbefore = calloc(nl, sizeof(int));
  int *after = calloc(nn, sizeof(int)), *lafter = calloc(nl, sizeof(int));
  int *cut = calloc(nn, sizeof(int)), *lcut = calloc(nl, sizeof(int));
  int *seg = calloc(nn, sizeof(int)), *lseg = calloc(nl, sizeof(int));
  int *bound = calloc(nn, sizeof(int)), *lost = calloc(nn, sizeof(int));
  int *pmark = calloc(np ? np : 1, sizeof(int));
  const char *id = is_line ? R->line_id[k] : R->node_id[k];
  char *want = NULL, *got = NULL;
  int64_t want_res = 0;
  int changed = 1;

  o.network = net;
  o.fail_id = id;
  o.serve_radius_m = 300;
  ASSERT_OK_CTX(ctx, tgis_trace_run(&r, ctx, &o));

  ref_reach(R, state, lout, before, lbefore);
  if (is_line)
    lout[k] = 1;
  else
    state[k] = 1;
  ref_reach(R, state, lout, after, lafter);
  for (size_t i = 0; i < nn; i++)
    cut[i] = before[i] && !after[i] && !(!is_line && i == k);
  for (size_t l = 0; l < nl; l++)
    lcut[l] = lbefore[l] && !lafter[l] && !(is_line && l == k);

#define COMPARE(wantx, gotx, what)                                                   \
  do {                                                                               \
    want = (wantx);                                                                  \
    got = (gotx);                                                                    \
    if (strcmp(want, got) != 0) {                                                    \
      HARNESS_FAIL("%s %s: %s: want [%.300s] got [%.300s]", net, id, what, want, got); \
      goto done;                                                                     \
    }                                                                                \
    free(want);                                                                      \
    free(got);                                                                       \
    want = got = NULL;                                                               \
  } while (0)

  {
    const tgis_trace_node *v = tgis_trace_nodes(r, TGIS_TRACE_FAILURE, &n);
    COMPARE(ref_join(R->node_id, cut, nn), got_nodes(v, n), "failure nodes");
  }
  {
    const tgis_trace_line *v = tgis_trace_lines(r, TGIS_TRACE_FAILURE, &n);
    COMPARE(ref_join(R->line_id, lcut, nl), got_lines(v, n), "failure lines");
  }

  /* "Exactly the downstream part": a main whose descendants (following
   * the generator's from -> to direction) no other line enters cuts off
   * just those. */
  if (is_line && R->line_main[k]) {
    int *down = calloc(nn, sizeof(int)), grow = 1, closed = 1;
    down[R->lb[k]] = 1;
    while (grow) {
      grow = 0;
      for (size_t l = 0; l < nl; l++)
        if (l != k && down[R->la[l]] && !down[R->lb[l]])
          down[R->lb[l]] = grow = 1;
    }
    for (size_t l = 0; l < nl; l++)
      if (l != k && down[R->la[l]] != down[R->lb[l]])
        closed = 0;
    if (closed && before[R->la[k]]) {
      const tgis_trace_node *v = tgis_trace_nodes(r, TGIS_TRACE_FAILURE, &n);
      want = ref_join(R->node_id, down, nn);
      free(down);
      COMPARE(want, got_nodes(v, n), "downstream part");
      cc->downstream_checked++;
    } else {
      free(down);
    }
  }

  /* The valve walk as a fixpoint: segment lines, their non-valve ends. */
  if (is_line) {
    lseg[k] = 1;
  } else {
    seg[k] = 1;
  }
  while (changed) {
    changed = 0;
    for (size_t l = 0; l < nl; l++) {
      size_t a = R->la[l], b = R->lb[l];
      if (!lseg[l] && ((seg[a] && (!R->is_valve[a] || (!is_line && a == k))) ||
                       (seg[b] && (!R->is_valve[b] || (!is_line && b == k)))))
        lseg[l] = changed = 1;
      if (lseg[l]) {
        for (int e = 0; e < 2; e++) {
          size_t v = e ? b : a;
          if (!seg[v] && !R->is_valve[v])
            seg[v] = changed = 1;
          if (R->is_valve[v] && !(!is_line && v == k))
            bound[v] = 1;
        }
      }
    }
  }
  for (size_t i = 0; i < nn; i++)
    if (bound[i] && seg[i] && !(!is_line && i == k))
      seg[i] = 0;                       /* a valve is boundary, not segment */
  {
    const tgis_trace_node *v = tgis_trace_valves(r, &n);
    COMPARE(ref_join(R->node_id, bound, nn), got_nodes(v, n), "valves");
    cc->with_valves += n > 0;
  }
  {
    const tgis_trace_node *v = tgis_trace_segment_nodes(r, &n);
    COMPARE(ref_join(R->node_id, seg, nn), got_nodes(v, n), "segment nodes");
  }
  {
    const tgis_trace_line *v = tgis_trace_segment_lines(r, &n);
    COMPARE(ref_join(R->line_id, lseg, nl), got_lines(v, n), "segment lines");
  }
  for (size_t i = 0; i < nn; i++)
    state[i] = seg[i] ? 1 : bound[i] ? 2 : 0;
  for (size_t l = 0; l < nl; l++)
    lout[l] = lseg[l];
  ref_reach(R, state, lout, after, lafter);
  for (size_t i = 0; i < nn; i++)
    cut[i] = before[i] && !after[i] && !(!is_line && i == k);
  for (size_t l = 0; l < nl; l++)
    lcut[l] = lbefore[l] && !lafter[l] && !(is_line && l == k);
  {
    const tgis_trace_node *v = tgis_trace_nodes(r, TGIS_TRACE_ISOLATION, &n);
    COMPARE(ref_join(R->node_id, cut, nn), got_nodes(v, n), "isolation nodes");
  }
  {
    const tgis_trace_line *v = tgis_trace_lines(r, TGIS_TRACE_ISOLATION, &n);
    COMPARE(ref_join(R->line_id, lcut, nl), got_lines(v, n), "isolation lines");
  }

  /* Parcels and residents against SpatiaLite's choice of consumer: those
   * of the failure's cut-off consumers (and the failed one). */
  for (size_t i = 0; i < nn; i++)
    state[i] = 0;
  for (size_t l = 0; l < nl; l++)
    lout[l] = 0;
  if (is_line)
    lout[k] = 1;
  else
    state[k] = 1;
  ref_reach(R, state, lout, after, lafter);
  for (size_t i = 0; i < nn; i++)
    lost[i] = R->is_consumer[i] && before[i] && !after[i];
  for (size_t p = 0; p < np; p++) {
    size_t c;
    if (!pc[p] || (c = ref_node_of_row(R, pc[p])) == (size_t)-1 || !lost[c])
      continue;
    pmark[p] = 1;
    want_res += pres[p];
  }
  {
    const tgis_trace_parcel *v = tgis_trace_parcels(r, TGIS_TRACE_FAILURE, &n);
    tgis_trace_node *tmp = malloc((n ? n : 1) * sizeof *tmp);
    for (size_t i = 0; i < n; i++)
      tmp[i].id = v[i].cadastre;
    want = ref_join(pcad, pmark, np);
    got = got_nodes(tmp, n);
    free(tmp);
    COMPARE(want, got, "failure parcels");
  }
  tgis_trace_totals_get(&t, r, TGIS_TRACE_FAILURE);
  if (t.residents != want_res) {
    HARNESS_FAIL("%s %s: residents %lld, SQL says %lld", net, id, (long long)t.residents,
                 (long long)want_res);
    goto done;
  }
  cc->parcels += t.parcels;
  cc->checked++;
done:
#undef COMPARE
  free(want);
  free(got);
  tgis_trace_result_free(r);
  free(state); free(lout); free(before); free(lbefore); free(after); free(lafter);
  free(cut); free(lcut); free(seg); free(lseg); free(bound); free(lost); free(pmark);
}

static void test_trace__generated_city_matches_reference(void)
{
  static const char *const nets[] = { "water", "gas", "power", "heat" };
  tgis_ctx *ctx = NULL;
  tgis_options o = TGIS_OPTIONS_INIT;
  sqlite3 *db = NULL;
  void *cache = NULL;
  city_case cc;

  ASSERT(city());
  o.flags = TGIS_OPEN_READONLY;
  ASSERT_OK_CTX(ctx, tgis_open(&ctx, city_db, &o));
  ASSERT_EQ(sqlite3_open_v2(city_db, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
  cache = spatialite_alloc_connection();
  spatialite_init_ex(db, cache, 0);
  memset(&cc, 0, sizeof cc);
  for (size_t w = 0; w < 4 && !harness_cur_failed; w++) {
    const char *net = nets[w];
    ref_net R;
    int64_t *pc = NULL, *pres = NULL;
    char **pcad = NULL;
    size_t np, cases = 0;

    ASSERT_EQ(ref_load(&R, db, net), 0);
    ASSERT(R.nn > 50);
    np = sql_parcel_consumers(db, net, 300, &pc, &pres, &pcad);
    ASSERT(np > 1000);
    /* Mains at the sources, every 37th line, every 53rd node. */
    for (size_t l = 0; l < R.nl && !harness_cur_failed; l++) {
      int at_source = R.line_main[l] && (R.is_source[R.la[l]] || R.is_source[R.lb[l]]);
      if (at_source || l % 37 == 5) {
        check_failure(ctx, &R, net, 1, l, np, pc, pres, pcad, &cc);
        cases++;
      }
    }
    for (size_t i = 0; i < R.nn && !harness_cur_failed; i += 53) {
      check_failure(ctx, &R, net, 0, i, np, pc, pres, pcad, &cc);
      cases++;
    }
    for (size_t p = 0; p < np; p++)
      free(pcad[p]);
    free(pc);
    free(pres);
    free(pcad);
    ref_free(&R);
    if (!harness_cur_failed && cases < 10)
      HARNESS_FAIL("%s: only %zu cases", net, cases);
  }
  printf("     %zu failures checked, %zu against the downstream subtree, %zu with valves, "
         "%zu parcels\n", cc.checked, cc.downstream_checked, cc.with_valves, cc.parcels);
  ASSERT(cc.downstream_checked >= 20);
  ASSERT(cc.with_valves >= 20);
  ASSERT(cc.parcels >= 100);
  sqlite3_close(db);
  spatialite_cleanup_ex(cache);
  tgis_close(ctx);
}

int main(void)
{
  RUN(test_trace__tree_line_cuts_exactly_its_subtree);
  RUN(test_trace__loop_failing_one_line_cuts_nothing);
  RUN(test_trace__valves_isolate_a_segment);
  RUN(test_trace__two_sources_feed_around_a_failure);
  RUN(test_trace__missing_references_join_by_end_points);
  RUN(test_trace__errors_name_the_id);
  RUN(test_trace__out_of_memory_at_every_allocation);
  RUN(test_trace__generated_city_matches_reference);
  spatialite_shutdown();
  return harness_report();
}
