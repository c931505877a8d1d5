/*
 * trace.c -- tgis_trace_run(): what a failure in a utility network cuts
 * off, and what isolating it does.
 *
 * The run: check the options; read the network (trace_load.c, which also
 * ties line ends and builds the adjacency); find the failed element and
 * the valves given as closed, with errors that name the id; then three
 * reachability passes from the sources -- before the failure, with the
 * failed element out, and with the isolated segment out and its boundary
 * valves closed -- and the isolation walk between them (trace_walk.c).
 * An element is cut off in a scenario when it was live before and is not
 * now. The parcels of the cut-off consumers come from trace_parcels.c and
 * the lists from trace_result.c. docs/trace.md states the rules.
 */
#include <assert.h>
#include <math.h>
#include <string.h>
#include <time.h>

#include "trace.h"

static double now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static tgis_status check_options(tgis_ctx *ctx, const tgis_trace_options *o, int *net)
{
  if (!o || o->version != TGIS_TRACE_OPTIONS_VERSION)
    return tgis__fail(ctx, TGIS_EINVAL, "options of an unknown version");
  if (!o->network)
    return tgis__fail(ctx, TGIS_EINVAL, "no network given (gas, power, water or heat)");
  if ((*net = tgis_trace__network_index(o->network)) < 0)
    return tgis__fail(ctx, TGIS_EINVAL,
                      "unknown network '%s' (gas, power, water or heat)", o->network);
  if (!o->fail_id || !*o->fail_id)
    return tgis__fail(ctx, TGIS_EINVAL, "no failed element given (a line or node id)");
  if (!(o->join_tolerance_m >= 0) || !isfinite(o->join_tolerance_m))
    return tgis__fail(ctx, TGIS_EINVAL, "join tolerance %g m is not >= 0",
                      o->join_tolerance_m);
  if (!(o->serve_radius_m >= 0) || !isfinite(o->serve_radius_m))
    return tgis__fail(ctx, TGIS_EINVAL, "serving radius %g m is not >= 0",
                      o->serve_radius_m);
  if (o->n_closed && !o->closed)
    return tgis__fail(ctx, TGIS_EINVAL, "%zu closed valves but no list", o->n_closed);
  return TGIS_OK;
}

/* "no such id" or "that id is in another network", naming it. */
static tgis_status unknown_id(tgis_ctx *ctx, const char *what, const char *id, const char *net,
                              int net_is_empty)
{
  const char *empty = net_is_empty ? " (the database has no nodes of that network)" : "";
  int other = -1, line = 0;
  tgis_status rc = tgis_trace__probe(ctx, id, &other, &line);
  if (rc != TGIS_OK)
    return rc;
  if (other >= 0)
    return tgis__fail(ctx, TGIS_EINVAL, "%s%s%s is a %s of the %s network, not of %s%s",
                      what, *what ? " " : "", id, line ? "line" : "node",
                      tgis_trace__network_name(other), net, empty);
  return tgis__fail(ctx, TGIS_EINVAL, "%s%s%s: no line or node of the %s network has "
                    "this id%s", what, *what ? " " : "", id, net, empty);
}

/* Per-node and per-line arrays of a run, in one allocation. */
typedef struct run_arrays {
  uint8_t *block;
  uint8_t *state, *live_before, *live_fail, *live_iso, *boundary;    /* nodes */
  uint8_t *line_out, *line_before, *line_fail, *line_iso;            /* lines */
  tgis_trace_marks m;
  tgis_trace_scratch s;
} run_arrays;

static tgis_status arrays_alloc(run_arrays *a, tgis_ctx *ctx, size_t nn, size_t nl)
{
  uint8_t *p;
  /* 9 node arrays + 7 line arrays of bytes, then the queue (aligned). */
  size_t bytes = 9 * nn + 7 * nl;
  bytes = (bytes + 7) & ~(size_t)7;
  memset(a, 0, sizeof *a);
  if (!(a->block = p = tgis__malloc(ctx, bytes + (nn ? nn : 1) * sizeof(uint32_t))))
    return tgis__fail(ctx, TGIS_ENOMEM, "out of memory for the passes");
  a->state = p;                  p += nn;
  a->live_before = p;            p += nn;
  a->live_fail = p;              p += nn;
  a->live_iso = p;               p += nn;
  a->boundary = p;               p += nn;
  a->m.cut_node[0] = p;          p += nn;
  a->m.cut_node[1] = p;          p += nn;
  a->m.seg_node = p;             p += nn;
  a->m.to_close = p;             p += nn;
  a->line_out = p;               p += nl;
  a->line_before = p;            p += nl;
  a->line_fail = p;              p += nl;
  a->line_iso = p;               p += nl;
  a->m.cut_line[0] = p;          p += nl;
  a->m.cut_line[1] = p;          p += nl;
  a->m.seg_line = p;
  a->m.live_before = a->live_before;
  a->s.queue = (uint32_t *)(void *)(a->block + bytes);
  return TGIS_OK;
}

/* Closed valves stop flow in every scenario. */
static void set_closed(const run_arrays *a, const uint32_t *closed, size_t n_closed)
{
  for (size_t i = 0; i < n_closed; i++)
    if (a->state[closed[i]] == TGIS_TRACE__PASS)
      a->state[closed[i]] = TGIS_TRACE__STOP;
}

static void passes(run_arrays *a, const tgis_trace_net *g, uint32_t fl, uint32_t fn,
                   const uint32_t *closed, size_t n_closed)
{
  size_t nn = g->n_nodes, nl = g->n_lines;

  /* Before. */
  memset(a->state, TGIS_TRACE__PASS, nn);
  memset(a->line_out, 0, nl);
  set_closed(a, closed, n_closed);
  tgis_trace__reach(g, a->state, a->line_out, a->live_before, a->line_before, &a->s);

  /* The failure. */
  if (fn != TGIS_TRACE__NONE)
    a->state[fn] = TGIS_TRACE__OUT;
  if (fl != TGIS_TRACE__NONE)
    a->line_out[fl] = 1;
  tgis_trace__reach(g, a->state, a->line_out, a->live_fail, a->line_fail, &a->s);

  /* Isolating it: the segment out, its boundary valves closed. */
  tgis_trace__isolate(g, fl, fn, a->m.seg_node, a->m.seg_line, a->boundary, &a->s);
  memset(a->m.to_close, 0, nn);
  for (size_t u = 0; u < nn; u++) {
    if (a->m.seg_node[u])
      a->state[u] = TGIS_TRACE__OUT;
    else if (a->boundary[u]) {
      a->m.to_close[u] = a->state[u] == TGIS_TRACE__PASS;
      a->state[u] = TGIS_TRACE__STOP;
    }
  }
  for (size_t l = 0; l < nl; l++)
    a->line_out[l] |= a->m.seg_line[l];
  tgis_trace__reach(g, a->state, a->line_out, a->live_iso, a->line_iso, &a->s);

  for (size_t u = 0; u < nn; u++) {
    a->m.cut_node[0][u] = a->live_before[u] && !a->live_fail[u];
    a->m.cut_node[1][u] = a->live_before[u] && !a->live_iso[u];
  }
  for (size_t l = 0; l < nl; l++) {
    a->m.cut_line[0][l] = a->line_before[l] && !a->line_fail[l];
    a->m.cut_line[1][l] = a->line_before[l] && !a->line_iso[l];
  }
  /* The failed element is reported as such, not among what it cuts off. */
  a->m.failed_node = fn;
  a->m.failed_fed = fn != TGIS_TRACE__NONE && a->live_before[fn];
  if (fn != TGIS_TRACE__NONE)
    a->m.cut_node[0][fn] = a->m.cut_node[1][fn] = 0;
  if (fl != TGIS_TRACE__NONE)
    a->m.cut_line[0][fl] = a->m.cut_line[1][fl] = 0;
}

tgis_status tgis_trace_run(tgis_trace_result **out, tgis_ctx *ctx,
                           const tgis_trace_options *opts)
{
  double t0 = now_s();
  tgis_trace_net g;
  tgis_trace_hits hits;
  tgis_trace_result *r = NULL;
  run_arrays a;
  uint32_t fl = TGIS_TRACE__NONE, fn = TGIS_TRACE__NONE, *closed = NULL;
  int net = -1;
  tgis_store *st;
  tgis_status rc;

  assert(out && ctx);
  *out = NULL;
  memset(&g, 0, sizeof g);
  memset(&hits, 0, sizeof hits);
  memset(&a, 0, sizeof a);
  tgis__clear_error(ctx);
  if ((rc = check_options(ctx, opts, &net)) != TGIS_OK ||
      (rc = tgis__require_store(ctx, &st)) != TGIS_OK)
    return rc;

  closed = tgis__malloc(ctx, (opts->n_closed ? opts->n_closed : 1) * sizeof *closed);
  if ((r = tgis__calloc(ctx, 1, sizeof *r)) != NULL)
    r->ctx = ctx;
  if (!closed || !r) {
    rc = tgis__fail(ctx, TGIS_ENOMEM, "out of memory tracing");
    goto done;
  }
  if ((rc = tgis_trace__load(&g, ctx, net,
                             opts->join_tolerance_m > 0 ? opts->join_tolerance_m
                                                        : TGIS_TRACE__JOIN_TOL_M)) != TGIS_OK)
    goto done;

  fn = tgis_trace__find_node(&g, opts->fail_id);
  fl = tgis_trace__find_line(&g, opts->fail_id);
  if (fn == TGIS_TRACE__NONE && fl == TGIS_TRACE__NONE) {
    rc = unknown_id(ctx, "", opts->fail_id, opts->network, g.n_features == 0);
    goto done;
  }
  if (fn != TGIS_TRACE__NONE && fl != TGIS_TRACE__NONE) {
    rc = tgis__fail(ctx, TGIS_EINVAL, "%s names both a node and a line of the %s "
                    "network", opts->fail_id, opts->network);
    goto done;
  }
  for (size_t i = 0; i < opts->n_closed; i++) {
    const char *id = opts->closed[i] ? opts->closed[i] : "(null)";
    uint32_t u = tgis_trace__find_node(&g, opts->closed[i]);
    if (u == TGIS_TRACE__NONE) {
      if (tgis_trace__find_line(&g, opts->closed[i]) != TGIS_TRACE__NONE)
        rc = tgis__fail(ctx, TGIS_EINVAL, "closed valve %s is a line, not a valve", id);
      else
        rc = unknown_id(ctx, "closed valve", id, opts->network, 0);
      goto done;
    }
    if (!tgis_trace__is_valve(g.node_kind[u])) {
      rc = tgis__fail(ctx, TGIS_EINVAL, "closed valve %s is a %s, not a valve or switch",
                      id, tgis_trace__kind_name((tgis_trace_kind)g.node_kind[u]));
      goto done;
    }
    closed[i] = u;
  }
  if (g.n_sources == 0) {
    rc = tgis__fail(ctx, TGIS_EINVAL, "%s: the %s network has no source node, so "
                    "nothing is fed to be cut off", opts->fail_id, opts->network);
    goto done;
  }

  if ((rc = arrays_alloc(&a, ctx, g.n_nodes, g.n_lines)) != TGIS_OK)
    goto done;
  passes(&a, &g, fl, fn, closed, opts->n_closed);
  /* Parcels lose supply with the cut-off consumers, and with the failed
   * node if it is a consumer that was fed (marked for the search only). */
  if (a.m.failed_fed)
    a.m.cut_node[TGIS_TRACE_ISOLATION][fn] = 1;
  rc = tgis_trace__parcels(&hits, &g, a.m.cut_node[TGIS_TRACE_ISOLATION],
                           opts->serve_radius_m > 0 ? opts->serve_radius_m
                                                    : TGIS_TRACE__SERVE_RADIUS_M);
  if (fn != TGIS_TRACE__NONE)
    a.m.cut_node[TGIS_TRACE_ISOLATION][fn] = 0;
  if (rc != TGIS_OK)
    goto done;

  r->network = tgis__strdup(ctx, opts->network);
  r->failed_id = tgis__strdup(ctx, opts->fail_id);
  if (!r->network || !r->failed_id) {
    rc = tgis__fail(ctx, TGIS_ENOMEM, "out of memory tracing");
    goto done;
  }
  r->info.network = r->network;
  r->info.failed_id = r->failed_id;
  r->info.failed_is_line = fl != TGIS_TRACE__NONE;
  r->info.failed_kind = fl != TGIS_TRACE__NONE
                            ? (g.line_service[fl] ? "service" : "main")
                            : tgis_trace__kind_name((tgis_trace_kind)g.node_kind[fn]);
  r->info.nodes = g.n_features;
  r->info.lines = g.n_lines;
  r->info.sources = g.n_sources;
  r->info.joined_ends = g.n_joined;
  r->info.implicit_junctions = g.n_implicit;
  for (uint32_t u = 0; u < g.n_features; u++) {
    r->info.valves += tgis_trace__is_valve(g.node_kind[u]);
    r->info.unfed_before += !a.live_before[u];
  }
  if ((rc = tgis_trace__result_fill(r, &g, &a.m, &hits)) != TGIS_OK)
    goto done;
  r->info.seconds = now_s() - t0;
  *out = r;
  r = NULL;
done:
  tgis_trace_result_free(r);
  tgis_trace__hits_free(&hits);
  tgis_trace__net_free(&g);
  tgis__free(ctx, a.block);
  tgis__free(ctx, closed);
  return rc;
}
