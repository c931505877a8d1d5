/*
 * manifest.c -- the JSON record of what a run generated and what it broke.
 *
 * The manifest is the ground truth the tests, importers and analytics are
 * checked against: feature counts per layer (all and valid), residents,
 * facilities, the lattice, per-network statistics and every injected
 * defect with its layer, field and fids. It is written by hand rather
 * than through a JSON library so that key order and number formatting are
 * fixed: the same run always gives the same bytes. Doubles are printed with
 * the fewest digits that read back to the same value.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen_int.h"

#define JSON_MAX_DEPTH 16

typedef struct jbuf {
  tgis_ctx *ctx;
  char *s;
  size_t len, cap;
  int oom;
  int depth;
  int first[JSON_MAX_DEPTH];   /* nothing written yet at this level */
  int inline_[JSON_MAX_DEPTH]; /* an array kept on one line */
} jbuf;

static void put(jbuf *b, const char *fmt, ...) TGIS_PRINTF(2, 3);

static void put(jbuf *b, const char *fmt, ...)
{
  va_list ap;
  int n;
  if (b->oom)
    return;
  for (;;) {
    va_start(ap, fmt);
    n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
      b->oom = 1;
      return;
    }
    if (b->s && b->len + (size_t)n < b->cap) {
      b->len += (size_t)n;
      return;
    }
    {
      size_t cap = b->cap ? b->cap * 2 : 4096;
      char *ns;
      while (cap < b->len + (size_t)n + 1)
        cap *= 2;
      ns = tgis__realloc(b->ctx, b->s, cap);
      if (!ns) {
        b->oom = 1;
        return;
      }
      b->s = ns;
      b->cap = cap;
    }
  }
}

static void put_string(jbuf *b, const char *s)
{
  put(b, "\"");
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\')
      put(b, "\\%c", *p);
    else if (*p < 0x20)
      put(b, "\\u%04x", *p);
    else
      put(b, "%c", *p);
  }
  put(b, "\"");
}

static void put_double(jbuf *b, double v)
{
  char tmp[40];
  if (!isfinite(v)) {
    put(b, "null");
    return;
  }
  for (int prec = 15; prec <= 17; prec++) {
    snprintf(tmp, sizeof tmp, "%.*g", prec, v);
    if (strtod(tmp, NULL) == v)
      break;
  }
  put(b, "%s", tmp);
}

/* Start a member (with its key, inside an object) or an element. */
static void item(jbuf *b, const char *key)
{
  int d = b->depth, first = b->first[d];
  b->first[d] = 0;
  if (!first)
    put(b, b->inline_[d] ? ", " : ",");
  if (!b->inline_[d])
    put(b, "\n%*s", 2 * d, "");
  if (key) {
    put_string(b, key);
    put(b, ": ");
  }
}

static void open_(jbuf *b, const char *key, char brace, int one_line)
{
  item(b, key);
  put(b, "%c", brace);
  if (b->depth + 1 < JSON_MAX_DEPTH) {
    b->depth++;
    b->first[b->depth] = 1;
    b->inline_[b->depth] = one_line || b->inline_[b->depth - 1];
  }
}

static void close_(jbuf *b, char brace)
{
  int empty = b->first[b->depth], one_line = b->inline_[b->depth];
  b->depth--;
  if (!empty && !one_line)
    put(b, "\n%*s", 2 * b->depth, "");
  put(b, "%c", brace);
}

static void obj(jbuf *b, const char *key) { open_(b, key, '{', 0); }
static void obj_end(jbuf *b) { close_(b, '}'); }
static void arr(jbuf *b, const char *key, int one_line) { open_(b, key, '[', one_line); }
static void arr_end(jbuf *b) { close_(b, ']'); }

static void kv_int(jbuf *b, const char *key, int64_t v)
{
  item(b, key);
  put(b, "%" PRId64, v);
}

static void kv_uint(jbuf *b, const char *key, uint64_t v)
{
  item(b, key);
  put(b, "%" PRIu64, v);
}

static void kv_num(jbuf *b, const char *key, double v)
{
  item(b, key);
  put_double(b, v);
}

static void kv_str(jbuf *b, const char *key, const char *v)
{
  item(b, key);
  put_string(b, v);
}

/* ---- sections ----------------------------------------------------------- */

static int64_t defects_in(const gen_state *g, tgis_layer layer)
{
  int64_t n = 0;
  for (int k = 0; k < GEN_D_COUNT; k++)
    if (tgis_gen__defect_info[k].layer == layer)
      n += (int64_t)g->defects.nfids[k];
  return n;
}

static void layers_section(jbuf *b, const gen_state *g)
{
  obj(b, "layers");
  for (int id = 0; id < TGIS_LAYER_COUNT; id++) {
    obj(b, tgis_layer_name((tgis_layer)id));
    kv_int(b, "features", g->w.count[id]);
    kv_int(b, "valid", g->w.count[id] - defects_in(g, (tgis_layer)id));
    obj_end(b);
  }
  obj_end(b);
}

static void lattice_section(jbuf *b, const gen_state *g)
{
  const gen_layout *lay = &g->lay;
  obj(b, "lattice");
  kv_num(b, "spacing_m", lay->L);
  arr(b, "origin_utm", 1);
  kv_num(b, NULL, lay->x0);
  kv_num(b, NULL, lay->y0);
  arr_end(b);
  kv_int(b, "columns", lay->nx);
  kv_int(b, "rows", lay->ny);
  kv_int(b, "blocks", (int64_t)lay->nblocks);
  kv_int(b, "diagonal_cells", (int64_t)lay->diag_cells);
  arr(b, "ring_roads", 0);
  for (int r = 0; r < 2; r++) {
    obj(b, NULL);
    kv_int(b, "a", lay->ring_a[r]);
    kv_int(b, "b", lay->ring_b[r]);
    obj_end(b);
  }
  arr_end(b);
  obj_end(b);
}

static void parcels_section(jbuf *b, const gen_state *g)
{
  obj(b, "parcels");
  kv_int(b, "target", (int64_t)g->target_parcels);
  kv_int(b, "count", (int64_t)g->parcels.nparcels);
  kv_int(b, "blocks", (int64_t)g->parcels.nblocks);
  obj(b, "by_land_use");
  for (int u = 1; u < GEN_USE_COUNT; u++)
    kv_int(b, tgis_gen__use_names[u], (int64_t)g->lay.parcels_by_use[u]);
  obj_end(b);
  obj_end(b);
  obj(b, "residents");
  kv_int(b, "target", g->parcels.residents_target);
  kv_int(b, "total", g->parcels.residents_total);
  kv_int(b, "valid", g->parcels.residents_valid);
  obj_end(b);
}

static void roads_section(jbuf *b, const gen_state *g)
{
  const gen_roads *r = &g->roads;
  obj(b, "roads");
  kv_int(b, "features", (int64_t)r->features);
  kv_int(b, "segments", (int64_t)r->edges);
  kv_int(b, "oneway_segments", (int64_t)r->oneway_edges);
  kv_int(b, "oneway_features", (int64_t)r->oneway_features);
  kv_int(b, "trunk_features", (int64_t)r->trunk_features);
  arr(b, "bridge_fids", 1);
  for (size_t k = 0; k < r->nbridges; k++)
    kv_int(b, NULL, r->bridge_fids[k]);
  arr_end(b);
  obj_end(b);
}

static void facilities_section(jbuf *b, const gen_state *g)
{
  int64_t poly = 0, school = 0;
  for (size_t k = 0; k < g->fac.n; k++) {
    if (g->fac.f[k].kind)
      school += g->fac.f[k].capacity;
    else
      poly += g->fac.f[k].capacity;
  }
  obj(b, "facilities");
  kv_int(b, "polyclinics", (int64_t)g->fac.npoly);
  kv_int(b, "schools", (int64_t)g->fac.nschool);
  kv_int(b, "polyclinic_capacity", poly);
  kv_int(b, "school_capacity", school);
  obj_end(b);
}

static void networks_section(jbuf *b, const gen_state *g)
{
  char id[48];
  obj(b, "networks");
  for (int n = 0; n < GEN_NET_COUNT; n++) {
    const gen_network *net = &g->net[n];
    obj(b, net->name);
    kv_int(b, "nodes", (int64_t)(net->nnodes + net->ncons));
    kv_int(b, "lines", (int64_t)(net->nnodes - net->nsources + net->nloops + net->ncons));
    kv_int(b, "mains_nodes", (int64_t)net->nnodes);
    kv_int(b, "consumers", (int64_t)net->ncons);
    kv_int(b, "mains", (int64_t)(net->nnodes - net->nsources + net->nloops));
    kv_int(b, "services", (int64_t)net->ncons);
    kv_int(b, n == GEN_NET_POWER ? "switches" : "valves", (int64_t)net->nvalves);
    if (n == GEN_NET_POWER)
      kv_int(b, "substations", (int64_t)net->nsubstations);
    kv_num(b, "offset_m", net->offset);
    arr(b, "sources", 1);
    for (size_t k = 0; k < net->nsources; k++) {
      snprintf(id, sizeof id, "%s-n%zu", net->name, k + 1);
      kv_str(b, NULL, id);
    }
    arr_end(b);
    arr(b, "loop_links", 0);
    for (size_t k = 0; k < net->nloops; k++) {
      obj(b, NULL);
      snprintf(id, sizeof id, "%s-l%" PRId64, net->name, net->loop_line0 + (int64_t)k);
      kv_str(b, "line", id);
      snprintf(id, sizeof id, "%s-n%d", net->name, (int)net->loops[k].a + 1);
      kv_str(b, "from", id);
      snprintf(id, sizeof id, "%s-n%d", net->name, (int)net->loops[k].b + 1);
      kv_str(b, "to", id);
      obj_end(b);
    }
    arr_end(b);
    obj_end(b);
  }
  obj_end(b);
}

static void defects_section(jbuf *b, const gen_state *g)
{
  obj(b, "defects");
  for (int k = 0; k < GEN_D_COUNT; k++) {
    const gen_defect_info *in = &tgis_gen__defect_info[k];
    obj(b, in->name);
    kv_str(b, "layer", tgis_layer_name(in->layer));
    kv_str(b, "field", in->field);
    kv_int(b, "count", (int64_t)g->defects.nfids[k]);
    arr(b, "fids", 1);
    for (size_t m = 0; m < g->defects.nfids[k]; m++)
      kv_int(b, NULL, g->defects.fids[k][m]);
    arr_end(b);
    obj_end(b);
  }
  obj_end(b);
}

tgis_status tgis_gen__manifest_write(gen_state *g, const char *file, const char *display)
{
  jbuf b;
  FILE *fp;
  tgis_status st = TGIS_OK;

  memset(&b, 0, sizeof b);
  b.ctx = g->ctx;
  b.first[0] = 1;
  put(&b, "{");
  b.depth = 1;
  b.first[1] = 1;
  kv_str(&b, "generator", "tgis synthetic city");
  kv_int(&b, "generator_version", TGIS_GEN_VERSION);
  kv_str(&b, "tgis_version", tgis_version());
  kv_uint(&b, "seed", g->seed);
  kv_num(&b, "scale", g->scale);
  kv_str(&b, "crs", "EPSG:4326");
  kv_str(&b, "work_crs", "EPSG:32642");
  kv_num(&b, "city_area_km2", round(g->city.area_m2 / 1e4) / 100.0);
  arr(&b, "centre_crossing", 1);
  kv_num(&b, NULL, g->roads.cross_lon);
  kv_num(&b, NULL, g->roads.cross_lat);
  arr_end(&b);
  layers_section(&b, g);
  lattice_section(&b, g);
  parcels_section(&b, g);
  roads_section(&b, g);
  facilities_section(&b, g);
  networks_section(&b, g);
  defects_section(&b, g);
  b.depth = 0;
  put(&b, "\n}\n");
  if (b.oom) {
    st = tgis__fail(g->ctx, TGIS_ENOMEM, "%s: out of memory", display);
    goto done;
  }

  tgis_gen__progress(&g->prog, "manifest", 0.0);
  fp = fopen(file, "wb");
  if (!fp) {
    st = tgis__fail(g->ctx, TGIS_EIO, "%s: cannot create: %s", display, strerror(errno));
    goto done;
  }
  if (fwrite(b.s, 1, b.len, fp) != b.len) {
    st = tgis__fail(g->ctx, TGIS_EIO, "%s: cannot write: %s", display, strerror(errno));
    fclose(fp);
    goto done;
  }
  if (fclose(fp) != 0)
    st = tgis__fail(g->ctx, TGIS_EIO, "%s: cannot write: %s", display, strerror(errno));
  tgis_gen__progress(&g->prog, "manifest", 1.0);
done:
  tgis__free(g->ctx, b.s);
  return st;
}
