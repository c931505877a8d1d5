/*
 * mapping_yaml.c -- load a mapping file (YAML, read with libyaml's document
 * API so every error can name its line).
 *
 *   layers:
 *     - target: parcels            # a tgis layer
 *       source: KADASTR_2024       # OGR layer; omit for a one-layer source
 *       where: "STATUS <> 'archived'"   # OGR attribute filter (optional)
 *       point_from_area: false     # areas feed point layers by inner point
 *       fields:
 *         cadastre: KAD_NOMER      # source field
 *         land_use:
 *           source: VID_ISP        # or "A|B": first non-empty of A, B
 *           values: { "Жилой": residential, "Торговый": commercial }
 *           strict: true           # a value not listed is rejected
 *           fallback: other        # value when empty or not listed
 *         district: { constant: "1726262" }
 *         ext_id: { source: ID, prefix: "kad-" }
 *
 * Errors name the file, the line and the key: "m.yaml:7: layers[0].fields:
 * 'landuse' is not a field of parcels".
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include <yaml.h>

#include "import_int.h"
#include "layers.h"

typedef struct loader {
  tgis_ctx *ctx;
  const char *path;
  yaml_document_t doc;
  tgis_mapping *m;
  tgis_chunk *chunks;
} loader;

static void *arena_alloc(loader *L, size_t n)
{
  tgis_chunk *c = tgis__malloc(L->ctx, sizeof *c + n);
  if (!c)
    return NULL;
  c->next = L->chunks;
  L->chunks = c;
  memset(c->data, 0, n);
  return c->data;
}

static tgis_status fail_at(loader *L, yaml_node_t *node, const char *where, const char *fmt, ...)
    TGIS_PRINTF(4, 5);
static tgis_status fail_at(loader *L, yaml_node_t *node, const char *where, const char *fmt, ...)
{
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return tgis__fail(L->ctx, TGIS_EPARSE, "%s:%lu: %s: %s", L->path,
                    node ? (unsigned long)node->start_mark.line + 1 : 0UL, where, msg);
}

static const char *scalar(yaml_node_t *n)
{
  return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static const char *keep(loader *L, const char *s)
{
  size_t n = strlen(s) + 1;
  char *d = arena_alloc(L, n);
  if (d)
    memcpy(d, s, n);
  return d;
}

static tgis_status want_scalar(loader *L, yaml_node_t *n, const char *where, const char **out)
{
  if (!scalar(n))
    return fail_at(L, n, where, "expected a text value");
  if (!(*out = keep(L, scalar(n))))
    return tgis__fail(L->ctx, TGIS_ENOMEM, "%s: out of memory", L->path);
  return TGIS_OK;
}

static tgis_status want_bool(loader *L, yaml_node_t *n, const char *where, int *out)
{
  const char *s = scalar(n);
  if (s && (!strcmp(s, "true") || !strcmp(s, "yes"))) { *out = 1; return TGIS_OK; }
  if (s && (!strcmp(s, "false") || !strcmp(s, "no"))) { *out = 0; return TGIS_OK; }
  return fail_at(L, n, where, "expected true or false");
}

static tgis_status load_values(loader *L, yaml_node_t *n, const char *where, tgis_field_rule *f)
{
  yaml_node_pair_t *p;
  tgis_value_pair *pairs;
  int i = 0;
  if (n->type != YAML_MAPPING_NODE)
    return fail_at(L, n, where, "expected a mapping of source value: target value");
  f->n_values = (int)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
  pairs = arena_alloc(L, sizeof *pairs * (size_t)(f->n_values ? f->n_values : 1));
  if (!pairs)
    return tgis__fail(L->ctx, TGIS_ENOMEM, "%s: out of memory", L->path);
  for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++, i++) {
    yaml_node_t *k = yaml_document_get_node(&L->doc, p->key);
    yaml_node_t *v = yaml_document_get_node(&L->doc, p->value);
    tgis_status st;
    if ((st = want_scalar(L, k, where, &pairs[i].from)) != TGIS_OK ||
        (st = want_scalar(L, v, where, &pairs[i].to)) != TGIS_OK)
      return st;
  }
  f->values = pairs;
  return TGIS_OK;
}

static tgis_status load_field(loader *L, yaml_node_t *n, const char *where, tgis_field_rule *f)
{
  yaml_node_pair_t *p;
  tgis_status st;

  if (n->type == YAML_SCALAR_NODE)
    return want_scalar(L, n, where, &f->source);
  if (n->type != YAML_MAPPING_NODE)
    return fail_at(L, n, where, "expected a source field name or a mapping");
  for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
    yaml_node_t *k = yaml_document_get_node(&L->doc, p->key);
    yaml_node_t *v = yaml_document_get_node(&L->doc, p->value);
    const char *key = scalar(k);
    char sub[512];
    snprintf(sub, sizeof sub, "%.200s.%.200s", where, key ? key : "?");
    if (!key)
      return fail_at(L, k, where, "keys must be text");
    if (!strcmp(key, "source")) st = want_scalar(L, v, sub, &f->source);
    else if (!strcmp(key, "constant")) st = want_scalar(L, v, sub, &f->constant);
    else if (!strcmp(key, "prefix")) st = want_scalar(L, v, sub, &f->prefix);
    else if (!strcmp(key, "fallback")) st = want_scalar(L, v, sub, &f->fallback);
    else if (!strcmp(key, "strict")) st = want_bool(L, v, sub, &f->strict);
    else if (!strcmp(key, "values")) st = load_values(L, v, sub, f);
    else
      return fail_at(L, k, where, "unknown key '%s' (source, constant, prefix, values, "
                     "strict, fallback)", key);
    if (st != TGIS_OK)
      return st;
  }
  if (!f->source && !f->constant && !f->fallback)
    return fail_at(L, n, where, "needs a source, a constant or a fallback");
  return TGIS_OK;
}

static tgis_status load_fields(loader *L, yaml_node_t *n, const char *where, tgis_layer_rule *r)
{
  const tgis_layer_def *def = tgis_layer__def(r->target);
  yaml_node_pair_t *p;
  tgis_status st;

  if (n->type != YAML_MAPPING_NODE)
    return fail_at(L, n, where, "expected a mapping of tgis field: source");
  for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
    yaml_node_t *k = yaml_document_get_node(&L->doc, p->key);
    const char *name = scalar(k);
    char sub[512];
    int i = name ? tgis_layer__field(def, name) : -1;
    if (i < 0 || (def->fields[i].flags & TGIS_FIELD_DERIVED)) {
      char list[512] = "";
      for (int j = 0; j < def->n_fields; j++)
        if (!(def->fields[j].flags & TGIS_FIELD_DERIVED))
          snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s",
                   j ? ", " : "", def->fields[j].name);
      return fail_at(L, k, where, "'%s' is not a field of %s (%s)", name ? name : "?",
                     def->table, list);
    }
    snprintf(sub, sizeof sub, "%.200s.%.200s", where, name);
    if ((st = load_field(L, yaml_document_get_node(&L->doc, p->value), sub, &r->fields[i])) != TGIS_OK)
      return st;
  }
  return TGIS_OK;
}

static tgis_status load_layer(loader *L, yaml_node_t *n, const char *where, tgis_layer_rule *r)
{
  yaml_node_pair_t *p;
  yaml_node_t *fields = NULL;
  int have_target = 0;
  tgis_status st;

  if (n->type != YAML_MAPPING_NODE)
    return fail_at(L, n, where, "expected a mapping with target, source, fields");
  for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
    yaml_node_t *k = yaml_document_get_node(&L->doc, p->key);
    yaml_node_t *v = yaml_document_get_node(&L->doc, p->value);
    const char *key = scalar(k);
    char sub[512];
    snprintf(sub, sizeof sub, "%.200s.%.200s", where, key ? key : "?");
    if (!key)
      return fail_at(L, k, where, "keys must be text");
    if (!strcmp(key, "target")) {
      tgis_layer t;
      if (!scalar(v) || tgis_layer_from_name(&t, scalar(v)) != TGIS_OK)
        return fail_at(L, v, sub, "'%s' is not a tgis layer (districts, parcels, roads, "
                       "utility_lines, utility_nodes, facilities)", scalar(v) ? scalar(v) : "?");
      r->target = t;
      have_target = 1;
      continue;
    }
    if (!strcmp(key, "source")) st = want_scalar(L, v, sub, &r->source_layer);
    else if (!strcmp(key, "where")) st = want_scalar(L, v, sub, &r->where);
    else if (!strcmp(key, "point_from_area")) st = want_bool(L, v, sub, &r->point_from_area);
    else if (!strcmp(key, "fields")) { fields = v; st = TGIS_OK; }
    else
      return fail_at(L, k, where, "unknown key '%s' (target, source, where, "
                     "point_from_area, fields)", key);
    if (st != TGIS_OK)
      return st;
  }
  if (!have_target)
    return fail_at(L, n, where, "needs a target layer");
  if (!fields)
    return fail_at(L, n, where, "needs fields");
  {
    char sub[512];
    snprintf(sub, sizeof sub, "%s.fields", where);
    return load_fields(L, fields, sub, r);
  }
}

static tgis_status load_doc(loader *L)
{
  yaml_node_t *root = yaml_document_get_root_node(&L->doc), *layers = NULL;
  yaml_node_pair_t *p;
  yaml_node_item_t *it;
  tgis_status st;
  int i = 0;

  if (!root || root->type != YAML_MAPPING_NODE)
    return fail_at(L, root, "(top)", "expected a mapping with 'layers'");
  for (p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
    yaml_node_t *k = yaml_document_get_node(&L->doc, p->key);
    if (!scalar(k) || strcmp(scalar(k), "layers") != 0)
      return fail_at(L, k, "(top)", "unknown key '%s' (layers)", scalar(k) ? scalar(k) : "?");
    layers = yaml_document_get_node(&L->doc, p->value);
  }
  if (!layers || layers->type != YAML_SEQUENCE_NODE ||
      layers->data.sequence.items.top == layers->data.sequence.items.start)
    return fail_at(L, layers ? layers : root, "layers", "expected a list of one or more layers");
  L->m->n_rules = (int)(layers->data.sequence.items.top - layers->data.sequence.items.start);
  L->m->rules = tgis__calloc(L->ctx, (size_t)L->m->n_rules, sizeof *L->m->rules);
  if (!L->m->rules)
    return tgis__fail(L->ctx, TGIS_ENOMEM, "%s: out of memory", L->path);
  for (it = layers->data.sequence.items.start; it < layers->data.sequence.items.top; it++, i++) {
    char where[64];
    snprintf(where, sizeof where, "layers[%d]", i);
    if ((st = load_layer(L, yaml_document_get_node(&L->doc, *it), where, &L->m->rules[i])) != TGIS_OK)
      return st;
  }
  return TGIS_OK;
}

tgis_status tgis_mapping__load(tgis_mapping *out, tgis_ctx *ctx, const char *path)
{
  loader L;
  yaml_parser_t parser;
  tgis_status st;
  FILE *f;

  memset(&L, 0, sizeof L);
  L.ctx = ctx;
  L.path = path;
  L.m = out;
  memset(out, 0, sizeof *out);
  snprintf(out->name, sizeof out->name, "%s", path);
  if (!(f = fopen(path, "rb")))
    return tgis__fail(ctx, errno == ENOENT ? TGIS_ENOTFOUND : TGIS_EIO, "%s: %s", path,
                      strerror(errno));
  if (!yaml_parser_initialize(&parser)) {
    fclose(f);
    return tgis__fail(ctx, TGIS_ENOMEM, "%s: cannot start the YAML parser", path);
  }
  yaml_parser_set_input_file(&parser, f);
  if (!yaml_parser_load(&parser, &L.doc)) {
    st = tgis__fail(ctx, TGIS_EPARSE, "%s:%lu: %s", path,
                    (unsigned long)parser.problem_mark.line + 1,
                    parser.problem ? parser.problem : "malformed YAML");
    yaml_parser_delete(&parser);
    fclose(f);
    return st;
  }
  st = load_doc(&L);
  yaml_document_delete(&L.doc);
  yaml_parser_delete(&parser);
  fclose(f);
  out->arena = L.chunks;
  if (st != TGIS_OK)
    tgis_mapping__free(out, ctx);
  return st;
}
