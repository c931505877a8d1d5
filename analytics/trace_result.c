/*
 * trace_result.c -- a trace's result: the lists the public accessors
 * return, built once from the per-node marks of the passes, and the
 * accessors themselves.
 *
 * Every string the lists point to lives in the result: node and line ids
 * in the network's names (taken over from the graph, so nothing is
 * copied), parcels' cadastre numbers and ext_ids in the hits' text, kinds
 * in static tables.
 */
#include <assert.h>
#include <string.h>

#include "trace.h"

static void node_item(tgis_trace_node *o, const tgis_trace_net *g, const char *names, uint32_t u)
{
  o->id = names + g->node_name[u];
  o->kind = tgis_trace__kind_name((tgis_trace_kind)g->node_kind[u]);
  o->x = g->node_xy[2 * u];
  o->y = g->node_xy[2 * u + 1];
}

static void line_item(tgis_trace_line *o, const tgis_trace_net *g, const char *names, uint32_t l)
{
  uint32_t a = g->line_end[0][l], b = g->line_end[1][l];
  o->id = names + g->line_name[l];
  o->kind = g->line_service[l] ? "service" : "main";
  o->from = g->node_name[a] == TGIS_TRACE__NONE ? NULL : names + g->node_name[a];
  o->to = g->node_name[b] == TGIS_TRACE__NONE ? NULL : names + g->node_name[b];
}

/* Node features marked in `mark` (and, with only_consumers, consumers). */
static tgis_status node_list(tgis_trace_node **out, size_t *n, tgis_trace_result *r,
                             const tgis_trace_net *g, const uint8_t *mark, int only_consumers)
{
  size_t k = 0;
  *n = 0;
  for (uint32_t u = 0; u < g->n_features; u++)
    k += mark[u] && (!only_consumers || g->node_kind[u] == TGIS_TK_CONSUMER);
  if (!k)
    return TGIS_OK;
  if (!(*out = tgis__malloc(r->ctx, k * sizeof **out)))
    return tgis__fail(r->ctx, TGIS_ENOMEM, "out of memory listing nodes");
  for (uint32_t u = 0; u < g->n_features; u++)
    if (mark[u] && (!only_consumers || g->node_kind[u] == TGIS_TK_CONSUMER))
      node_item(&(*out)[(*n)++], g, r->names, u);
  return TGIS_OK;
}

static tgis_status line_list(tgis_trace_line **out, size_t *n, tgis_trace_result *r,
                             const tgis_trace_net *g, const uint8_t *mark)
{
  size_t k = 0;
  *n = 0;
  for (uint32_t l = 0; l < g->n_lines; l++)
    k += mark[l] != 0;
  if (!k)
    return TGIS_OK;
  if (!(*out = tgis__malloc(r->ctx, k * sizeof **out)))
    return tgis__fail(r->ctx, TGIS_ENOMEM, "out of memory listing lines");
  for (uint32_t l = 0; l < g->n_lines; l++)
    if (mark[l])
      line_item(&(*out)[(*n)++], g, r->names, l);
  return TGIS_OK;
}

/* Did consumer u lose supply in scenario sc: cut off, or the failed node? */
static int lost(const tgis_trace_marks *m, int sc, uint32_t u)
{
  return m->cut_node[sc][u] || (u == m->failed_node && m->failed_fed);
}

static tgis_status parcel_list(tgis_trace_result *r, int sc, const tgis_trace_net *g,
                               const tgis_trace_marks *m, const tgis_trace_hits *h)
{
  tgis_trace_parcel *p;
  size_t k = 0;
  for (size_t i = 0; i < h->n; i++)
    k += lost(m, sc, h->hit[i].consumer);
  if (!k)
    return TGIS_OK;
  if (!(p = r->parcels[sc] = tgis__malloc(r->ctx, k * sizeof *p)))
    return tgis__fail(r->ctx, TGIS_ENOMEM, "out of memory listing parcels");
  for (size_t i = 0; i < h->n; i++) {
    const tgis_trace_hit *hit = &h->hit[i];
    if (!lost(m, sc, hit->consumer))
      continue;
    p->cadastre = hit->cadastre == TGIS_TRACE__NONE ? NULL : r->text + hit->cadastre;
    p->ext_id = hit->ext_id == TGIS_TRACE__NONE ? NULL : r->text + hit->ext_id;
    p->residents = hit->residents;
    p->consumer = r->names + g->node_name[hit->consumer];
    p->distance_m = hit->distance;
    r->totals[sc].residents += hit->residents;
    p++;
  }
  r->n_parcels[sc] = k;
  return TGIS_OK;
}

tgis_status tgis_trace__result_fill(tgis_trace_result *r, tgis_trace_net *g,
                                    const tgis_trace_marks *m, tgis_trace_hits *hits)
{
  tgis_status st;

  r->names = g->names;
  g->names = NULL;
  r->text = hits->text;
  hits->text = NULL;
  for (int sc = 0; sc < 2; sc++) {
    if ((st = node_list(&r->nodes[sc], &r->n_nodes[sc], r, g, m->cut_node[sc], 0)) ||
        (st = node_list(&r->consumers[sc], &r->n_consumers[sc], r, g, m->cut_node[sc], 1)) ||
        (st = line_list(&r->lines[sc], &r->n_lines[sc], r, g, m->cut_line[sc])) ||
        (st = parcel_list(r, sc, g, m, hits)))
      return st;
    r->totals[sc].nodes = r->n_nodes[sc];
    r->totals[sc].lines = r->n_lines[sc];
    r->totals[sc].consumers = r->n_consumers[sc];
    r->totals[sc].parcels = r->n_parcels[sc];
  }
  if ((st = node_list(&r->valves, &r->n_valves, r, g, m->to_close, 0)) ||
      (st = node_list(&r->seg_nodes, &r->n_seg_nodes, r, g, m->seg_node, 0)) ||
      (st = line_list(&r->seg_lines, &r->n_seg_lines, r, g, m->seg_line)))
    return st;
  return TGIS_OK;
}

void tgis_trace_info_get(tgis_trace_info *out, const tgis_trace_result *r)
{
  assert(out && r);
  *out = r->info;
}

void tgis_trace_totals_get(tgis_trace_totals *out, const tgis_trace_result *r,
                           tgis_trace_scenario sc)
{
  assert(out && r && (unsigned)sc < 2);
  *out = r->totals[sc];
}

#define RETURN_LIST(arr, cnt) \
  do {                        \
    assert(r && n);           \
    *n = (cnt);               \
    return *n ? (arr) : NULL; \
  } while (0)

const tgis_trace_node *tgis_trace_nodes(const tgis_trace_result *r, tgis_trace_scenario sc,
                                        size_t *n)
{
  assert((unsigned)sc < 2);
  RETURN_LIST(r->nodes[sc], r->n_nodes[sc]);
}

const tgis_trace_node *tgis_trace_consumers(const tgis_trace_result *r,
                                            tgis_trace_scenario sc, size_t *n)
{
  assert((unsigned)sc < 2);
  RETURN_LIST(r->consumers[sc], r->n_consumers[sc]);
}

const tgis_trace_line *tgis_trace_lines(const tgis_trace_result *r, tgis_trace_scenario sc,
                                        size_t *n)
{
  assert((unsigned)sc < 2);
  RETURN_LIST(r->lines[sc], r->n_lines[sc]);
}

const tgis_trace_parcel *tgis_trace_parcels(const tgis_trace_result *r,
                                            tgis_trace_scenario sc, size_t *n)
{
  assert((unsigned)sc < 2);
  RETURN_LIST(r->parcels[sc], r->n_parcels[sc]);
}

const tgis_trace_node *tgis_trace_valves(const tgis_trace_result *r, size_t *n)
{
  RETURN_LIST(r->valves, r->n_valves);
}

const tgis_trace_node *tgis_trace_segment_nodes(const tgis_trace_result *r, size_t *n)
{
  RETURN_LIST(r->seg_nodes, r->n_seg_nodes);
}

const tgis_trace_line *tgis_trace_segment_lines(const tgis_trace_result *r, size_t *n)
{
  RETURN_LIST(r->seg_lines, r->n_seg_lines);
}

void tgis_trace_result_free(tgis_trace_result *r)
{
  tgis_ctx *ctx;
  if (!r)
    return;
  ctx = r->ctx;
  for (int sc = 0; sc < 2; sc++) {
    tgis__free(ctx, r->nodes[sc]);
    tgis__free(ctx, r->consumers[sc]);
    tgis__free(ctx, r->lines[sc]);
    tgis__free(ctx, r->parcels[sc]);
  }
  tgis__free(ctx, r->valves);
  tgis__free(ctx, r->seg_nodes);
  tgis__free(ctx, r->seg_lines);
  tgis__free(ctx, r->names);
  tgis__free(ctx, r->text);
  tgis__free(ctx, r->network);
  tgis__free(ctx, r->failed_id);
  tgis__free(ctx, r);
}
