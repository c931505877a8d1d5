/*
 * trace_load.c -- one utility network read through the store into arrays.
 *
 * Two reads of the store's network_scan: the network's nodes, in row id
 * order, then its lines, whose from/to references come back as the nodes'
 * row ids and are resolved by binary search over the nodes' rows. A
 * reference that is missing, or names no node of this network, is left for
 * trace_graph.c to tie by geometry. Ids the caller cannot find in the
 * network are looked for in the others by tgis_trace__probe(), a full read
 * made only on that error path, so the message can say "that id is a gas
 * line".
 */
#include <string.h>

#include "trace.h"
#include "layers.h"

static const char *const networks[] = { "gas", "power", "water", "heat" };
static const char *const kinds[TGIS_TK_COUNT] = {
  "source", "junction", "valve", "switch", "substation", "consumer", "implicit",
};

const char *tgis_trace__kind_name(tgis_trace_kind k)
{
  return (unsigned)k < TGIS_TK_COUNT ? kinds[k] : "unknown";
}

int tgis_trace__network_index(const char *name)
{
  for (int i = 0; name && i < 4; i++)
    if (strcmp(networks[i], name) == 0)
      return i;
  return -1;
}

const char *tgis_trace__network_name(int i)
{
  return i >= 0 && i < 4 ? networks[i] : NULL;
}

uint32_t tgis_trace__find_node(const tgis_trace_net *g, const char *ext_id)
{
  /* Looked up a few times per run: a scan beats keeping a hash. */
  for (uint32_t u = 0; ext_id && u < g->n_features; u++)
    if (strcmp(g->names + g->node_name[u], ext_id) == 0)
      return u;
  return TGIS_TRACE__NONE;
}

/* The node of row id `row`: nodes are read in row order. */
static uint32_t node_of_row(const tgis_trace_net *g, int64_t row)
{
  uint32_t lo = 0, hi = g->n_features;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    if (g->node_row[mid] < row)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < g->n_features && g->node_row[lo] == row ? lo : TGIS_TRACE__NONE;
}

uint32_t tgis_trace__find_line(const tgis_trace_net *g, const char *ext_id)
{
  for (uint32_t l = 0; ext_id && l < g->n_lines; l++)
    if (strcmp(g->names + g->line_name[l], ext_id) == 0)
      return l;
  return TGIS_TRACE__NONE;
}

typedef struct loader {
  tgis_trace_net *g;
  int f_ext, f_net, f_kind, f_from, f_to;
} loader;

static int grow(tgis_ctx *ctx, void **p, size_t n, size_t size)
{
  void *q = tgis__realloc(ctx, *p, n * size);
  if (!q)
    return -1;
  *p = q;
  return 0;
}

/* Copy an ext_id into the names arena; its offset, or NONE on failure. */
static uint32_t add_name(tgis_trace_net *g, const char *s)
{
  size_t len = strlen(s) + 1;
  uint32_t off;
  if (g->n_names + len > g->cap_names) {
    size_t cap = g->cap_names ? 2 * g->cap_names : 65536;
    while (cap < g->n_names + len)
      cap *= 2;
    if (cap > UINT32_MAX || grow(g->ctx, (void **)&g->names, cap, 1))
      return TGIS_TRACE__NONE;
    g->cap_names = cap;
  }
  off = (uint32_t)g->n_names;
  memcpy(g->names + off, s, len);
  g->n_names += len;
  return off;
}

static int grow_nodes(tgis_trace_net *g, uint32_t need)
{
  uint32_t cap = g->cap_nodes ? g->cap_nodes : 1024;
  tgis_ctx *ctx = g->ctx;
  if (need <= g->cap_nodes)
    return 0;
  while (cap < need)
    cap *= 2;
  if (grow(ctx, (void **)&g->node_row, cap, sizeof *g->node_row) ||
      grow(ctx, (void **)&g->node_name, cap, sizeof *g->node_name) ||
      grow(ctx, (void **)&g->node_kind, cap, sizeof *g->node_kind) ||
      grow(ctx, (void **)&g->node_xy, cap, 2 * sizeof *g->node_xy))
    return -1;
  g->cap_nodes = cap;
  return 0;
}

int tgis_trace__grow_nodes(tgis_trace_net *g, uint32_t need)
{
  return grow_nodes(g, need);
}

static int grow_lines(tgis_trace_net *g, uint32_t need)
{
  uint32_t cap = g->cap_lines ? g->cap_lines : 1024;
  tgis_ctx *ctx = g->ctx;
  if (need <= g->cap_lines)
    return 0;
  while (cap < need)
    cap *= 2;
  if (grow(ctx, (void **)&g->line_row, cap, sizeof *g->line_row) ||
      grow(ctx, (void **)&g->line_name, cap, sizeof *g->line_name) ||
      grow(ctx, (void **)&g->line_service, cap, sizeof *g->line_service) ||
      grow(ctx, (void **)&g->line_end[0], cap, sizeof *g->line_end[0]) ||
      grow(ctx, (void **)&g->line_end[1], cap, sizeof *g->line_end[1]) ||
      grow(ctx, (void **)&g->line_xy, cap, 4 * sizeof *g->line_xy))
    return -1;
  g->cap_lines = cap;
  return 0;
}

static tgis_status on_node(const tgis_feature *f, void *payload)
{
  loader *L = payload;
  tgis_trace_net *g = L->g;
  const tgis_value *v = f->values;
  const char *kind = v[L->f_kind].s;
  uint32_t u = g->n_nodes;
  int k;

  if (v[L->f_ext].is_null)
    return TGIS_OK;           /* a NOT NULL column: cannot happen */
  if (grow_nodes(g, u + 1) ||
      (g->node_name[u] = add_name(g, v[L->f_ext].s)) == TGIS_TRACE__NONE)
    return tgis__fail(g->ctx, TGIS_ENOMEM, "out of memory reading utility_nodes");
  for (k = 0; k < TGIS_TK_IMPLICIT; k++)
    if (!v[L->f_kind].is_null && strcmp(kind, kinds[k]) == 0)
      break;
  if (k == TGIS_TK_IMPLICIT)
    k = TGIS_TK_JUNCTION;     /* the schema's CHECK allows no other kind */
  g->node_kind[u] = (uint8_t)k;
  g->node_row[u] = f->id;
  if (tgis_geombuf_is_empty(f->geom)) {
    /* Far away: no line end is ever joined to it by geometry. */
    g->node_xy[2 * u] = g->node_xy[2 * u + 1] = 1e300;
  } else {
    g->node_xy[2 * u] = f->geom->xy[0];
    g->node_xy[2 * u + 1] = f->geom->xy[1];
  }
  g->n_sources += k == TGIS_TK_SOURCE;
  g->n_nodes++;
  return TGIS_OK;
}

static tgis_status on_line(const tgis_feature *f, void *payload)
{
  loader *L = payload;
  tgis_trace_net *g = L->g;
  const tgis_value *v = f->values;
  const tgis_geombuf *geo = f->geom;
  uint32_t l = g->n_lines;

  if (v[L->f_ext].is_null)
    return TGIS_OK;
  if (grow_lines(g, l + 1) ||
      (g->line_name[l] = add_name(g, v[L->f_ext].s)) == TGIS_TRACE__NONE)
    return tgis__fail(g->ctx, TGIS_ENOMEM, "out of memory reading utility_lines");
  g->line_row[l] = f->id;
  g->line_service[l] = !v[L->f_kind].is_null && strcmp(v[L->f_kind].s, "service") == 0;
  /* References come as row ids (network_scan). */
  g->line_end[0][l] = v[L->f_from].is_null ? TGIS_TRACE__NONE : node_of_row(g, v[L->f_from].i);
  g->line_end[1][l] = v[L->f_to].is_null ? TGIS_TRACE__NONE : node_of_row(g, v[L->f_to].i);
  if (geo->n_points >= 1) {
    size_t last = geo->n_points - 1;
    g->line_xy[4 * l] = geo->xy[0];
    g->line_xy[4 * l + 1] = geo->xy[1];
    g->line_xy[4 * l + 2] = geo->xy[2 * last];
    g->line_xy[4 * l + 3] = geo->xy[2 * last + 1];
  } else {
    /* No geometry: it can be tied by its references only. */
    for (int i = 0; i < 4; i++)
      g->line_xy[4 * l + i] = 1e300;
  }
  g->n_lines++;
  return TGIS_OK;
}

tgis_status tgis_trace__load(tgis_trace_net *g, tgis_ctx *ctx, int network, double join_tol)
{
  const tgis_layer_def *nd = tgis_layer__def(TGIS_LAYER_UTILITY_NODES);
  const tgis_layer_def *ld = tgis_layer__def(TGIS_LAYER_UTILITY_LINES);
  const char *name = tgis_trace__network_name(network);
  tgis_store *st;
  tgis_status rc;
  loader L;

  memset(g, 0, sizeof *g);
  g->ctx = ctx;
  g->network = network;
  if ((rc = tgis__require_store(ctx, &st)) != TGIS_OK)
    return rc;
  memset(&L, 0, sizeof L);
  L.g = g;
  L.f_ext = tgis_layer__field(nd, "ext_id");
  L.f_net = tgis_layer__field(nd, "network");
  L.f_kind = tgis_layer__field(nd, "kind");
  if ((rc = st->vt->network_scan(st, TGIS_LAYER_UTILITY_NODES, name, on_node, &L)) != TGIS_OK)
    return rc;
  g->n_features = g->n_nodes;
  L.f_ext = tgis_layer__field(ld, "ext_id");
  L.f_net = tgis_layer__field(ld, "network");
  L.f_kind = tgis_layer__field(ld, "kind");
  L.f_from = tgis_layer__field(ld, "from_node");
  L.f_to = tgis_layer__field(ld, "to_node");
  if ((rc = st->vt->network_scan(st, TGIS_LAYER_UTILITY_LINES, name, on_line, &L)) != TGIS_OK)
    return rc;
  return tgis_trace__build(g, join_tol);
}

/* ---- where else an id is ------------------------------------------------------ */

typedef struct prober {
  const char *id;
  int f_ext, f_net, is_line;
  int *net, *line;
} prober;

static tgis_status on_probe(const tgis_feature *f, void *payload)
{
  prober *P = payload;
  const tgis_value *v = f->values;
  if (*P->net < 0 && !v[P->f_ext].is_null && !v[P->f_net].is_null &&
      strcmp(v[P->f_ext].s, P->id) == 0) {
    *P->net = tgis_trace__network_index(v[P->f_net].s);
    *P->line = P->is_line;
  }
  return TGIS_OK;
}

tgis_status tgis_trace__probe(tgis_ctx *ctx, const char *id, int *net, int *is_line)
{
  tgis_store *st;
  tgis_status rc;
  prober P;

  *net = -1;
  *is_line = 0;
  if ((rc = tgis__require_store(ctx, &st)) != TGIS_OK)
    return rc;
  P.id = id;
  P.net = net;
  P.line = is_line;
  for (int k = 0; k < 2 && *net < 0; k++) {
    tgis_layer layer = k ? TGIS_LAYER_UTILITY_LINES : TGIS_LAYER_UTILITY_NODES;
    const tgis_layer_def *def = tgis_layer__def(layer);
    P.f_ext = tgis_layer__field(def, "ext_id");
    P.f_net = tgis_layer__field(def, "network");
    P.is_line = k;
    if ((rc = st->vt->layer_scan(st, layer, NULL, on_probe, &P)) != TGIS_OK)
      return rc;
  }
  return TGIS_OK;
}

void tgis_trace__net_free(tgis_trace_net *g)
{
  tgis_ctx *ctx;
  if (!g || !(ctx = g->ctx))
    return;
  tgis__free(ctx, g->node_row);
  tgis__free(ctx, g->node_name);
  tgis__free(ctx, g->node_kind);
  tgis__free(ctx, g->node_xy);
  tgis__free(ctx, g->line_row);
  tgis__free(ctx, g->line_name);
  tgis__free(ctx, g->line_service);
  tgis__free(ctx, g->line_end[0]);
  tgis__free(ctx, g->line_end[1]);
  tgis__free(ctx, g->line_xy);
  tgis__free(ctx, g->names);
  tgis__free(ctx, g->adj_off);
  tgis__free(ctx, g->adj_line);
  memset(g, 0, sizeof *g);
}
