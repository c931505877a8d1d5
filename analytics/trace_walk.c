/*
 * trace_walk.c -- the two passes of a trace over the adjacency, both
 * breadth-first with one queue array and mark arrays sized once.
 *
 * Reachability: from every source that is in service at once, through
 * lines in service and nodes that pass flow. A closed valve is reached
 * (the water stands against it) but passes nothing on; an element out of
 * service is never reached.
 *
 * Isolation: the classic valve trace. From the failed element, over every
 * line and through every node that is not a valve (or, in power, a
 * switch); the valves met form the boundary that must be closed, what was
 * walked is the isolated segment. Valve state does not matter to the walk:
 * a valve already closed is met like any other.
 */
#include <string.h>

#include "trace.h"

void tgis_trace__reach(const tgis_trace_net *g, const uint8_t *node_state,
                       const uint8_t *line_out, uint8_t *node_live, uint8_t *line_live,
                       tgis_trace_scratch *s)
{
  uint32_t *q = s->queue, head = 0, tail = 0;

  memset(node_live, 0, g->n_nodes);
  memset(line_live, 0, g->n_lines);
  for (uint32_t u = 0; u < g->n_nodes; u++) {
    if (g->node_kind[u] == TGIS_TK_SOURCE && node_state[u] != TGIS_TRACE__OUT) {
      node_live[u] = 1;
      q[tail++] = u;
    }
  }
  while (head < tail) {
    uint32_t u = q[head++];
    if (node_state[u] != TGIS_TRACE__PASS)
      continue;            /* a closed valve: reached, not passed */
    for (uint32_t a = g->adj_off[u]; a < g->adj_off[u + 1]; a++) {
      uint32_t l = g->adj_line[a], v;
      if (line_out[l])
        continue;
      line_live[l] = 1;
      v = g->line_end[0][l] == u ? g->line_end[1][l] : g->line_end[0][l];
      if (!node_live[v] && node_state[v] != TGIS_TRACE__OUT) {
        node_live[v] = 1;
        q[tail++] = v;
      }
    }
  }
}

void tgis_trace__isolate(const tgis_trace_net *g, uint32_t line, uint32_t node,
                         uint8_t *seg_node, uint8_t *seg_line, uint8_t *boundary,
                         tgis_trace_scratch *s)
{
  uint32_t *q = s->queue, head = 0, tail = 0;

  memset(seg_node, 0, g->n_nodes);
  memset(seg_line, 0, g->n_lines);
  memset(boundary, 0, g->n_nodes);
  if (line != TGIS_TRACE__NONE) {
    seg_line[line] = 1;
    for (int e = 0; e < 2; e++) {
      uint32_t v = g->line_end[e][line];
      if (tgis_trace__is_valve(g->node_kind[v]))
        boundary[v] = 1;
      else if (!seg_node[v]) {
        seg_node[v] = 1;
        q[tail++] = v;
      }
    }
  } else {
    seg_node[node] = 1;    /* a failed valve is passed: it cannot close */
    q[tail++] = node;
  }
  while (head < tail) {
    uint32_t u = q[head++];
    for (uint32_t a = g->adj_off[u]; a < g->adj_off[u + 1]; a++) {
      uint32_t l = g->adj_line[a], v;
      if (seg_line[l])
        continue;
      seg_line[l] = 1;
      v = g->line_end[0][l] == u ? g->line_end[1][l] : g->line_end[0][l];
      if (seg_node[v] || boundary[v])
        continue;
      if (tgis_trace__is_valve(g->node_kind[v]))
        boundary[v] = 1;
      else {
        seg_node[v] = 1;
        q[tail++] = v;
      }
    }
  }
}
