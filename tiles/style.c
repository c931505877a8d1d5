/*
 * style.c -- reading a theme's YAML file into a checked, immutable style.
 *
 * libyaml loads the file into a node tree whose every node carries its
 * position (a "mark"), so each error can name the file, the line and the
 * key path, e.g. "base.yaml:14: layers[2].stroke: '#12345' is not a
 * colour". The walk below knows the whole format: a key it does not expect
 * is an error, not something skipped, so a typo in a style never silently
 * draws nothing. Aliases are followed, but only into the fixed shape of the
 * format, so no input makes the walk deeper than a few levels.
 */
#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "tgis_int.h"
#include "style.h"

#define MAX_STYLE_BYTES (1024 * 1024)
#define MAX_LAYERS 256
#define MAX_FILTER_VALUES 256
#define MAX_CLASSES 64
#define PATH_MAX_LEN 160

typedef struct parser {
  tgis_ctx *ctx;
  const char *file;          /* base name, for messages */
  yaml_document_t *doc;
  tgis_style *style;
} parser;

/* ---- errors -------------------------------------------------------------- */

static size_t line_of(const yaml_node_t *n) { return n ? n->start_mark.line + 1 : 1; }

static tgis_status fail_at(parser *p, const yaml_node_t *n, const char *path, const char *fmt, ...)
    TGIS_PRINTF(4, 5);

static tgis_status fail_at(parser *p, const yaml_node_t *n, const char *path, const char *fmt, ...)
{
  char what[TGIS_ERRMSG_MAX / 2];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  return tgis__fail(p->ctx, TGIS_EPARSE, "%s:%zu: %s%s%s", p->file, line_of(n),
                    path ? path : "", path && path[0] ? ": " : "", what);
}

static tgis_status nomem(parser *p, const char *path)
{
  return tgis__fail(p->ctx, TGIS_ENOMEM, "%s: %s: out of memory", p->file, path);
}

/* ---- scalars ------------------------------------------------------------- */

static yaml_node_t *node(parser *p, int idx) { return yaml_document_get_node(p->doc, idx); }

static const char *node_kind(const yaml_node_t *n)
{
  switch (n->type) {
  case YAML_SCALAR_NODE: return "a value";
  case YAML_SEQUENCE_NODE: return "a list";
  case YAML_MAPPING_NODE: return "a mapping";
  default: return "nothing";
  }
}

/* A plain scalar that YAML reads as null: empty, ~ or null. */
static int is_null(const yaml_node_t *n)
{
  const char *v;
  if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
    return 0;
  v = (const char *)n->data.scalar.value;
  return !v[0] || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") ||
         !strcmp(v, "NULL");
}

/* The text of a scalar, refusing nulls and embedded NULs. */
static tgis_status scalar(const char **out, parser *p, const yaml_node_t *n, const char *path)
{
  if (n->type != YAML_SCALAR_NODE)
    return fail_at(p, n, path, "expected a value, found %s", node_kind(n));
  if (is_null(n))
    return fail_at(p, n, path, "missing value (quote colours: \"#rrggbb\", an unquoted # starts a comment)");
  if (strlen((const char *)n->data.scalar.value) != n->data.scalar.length)
    return fail_at(p, n, path, "value contains a NUL byte");
  *out = (const char *)n->data.scalar.value;
  return TGIS_OK;
}

static tgis_status get_string(char **out, parser *p, const yaml_node_t *n, const char *path)
{
  const char *v;
  tgis_status st = scalar(&v, p, n, path);
  if (st)
    return st;
  if (strlen(v) > 256)
    return fail_at(p, n, path, "text longer than 256 bytes");
  tgis__free(p->ctx, *out);   /* a duplicate key was refused already; be safe */
  if (!(*out = tgis__strdup(p->ctx, v)))
    return nomem(p, path);
  return TGIS_OK;
}

static tgis_status get_number(double *out, parser *p, const yaml_node_t *n, const char *path,
                              double lo, double hi)
{
  const char *v;
  char *end;
  double d;
  tgis_status st = scalar(&v, p, n, path);
  if (st)
    return st;
  errno = 0;
  d = strtod(v, &end);
  if (end == v || *end || v[0] == ' ' || v[0] == '\t')
    return fail_at(p, n, path, "'%.40s' is not a number", v);
  if (errno == ERANGE || !isfinite(d) || d < lo || d > hi)
    return fail_at(p, n, path, "%.40s is out of range (%g to %g)", v, lo, hi);
  *out = d;
  return TGIS_OK;
}

static tgis_status get_int(int *out, parser *p, const yaml_node_t *n, const char *path,
                           int lo, int hi)
{
  double d;
  tgis_status st = get_number(&d, p, n, path, lo, hi);
  if (st)
    return st;
  if (d != floor(d))
    return fail_at(p, n, path, "%g is not a whole number", d);
  *out = (int)d;
  return TGIS_OK;
}

static tgis_status get_bool(int *out, parser *p, const yaml_node_t *n, const char *path)
{
  const char *v;
  tgis_status st = scalar(&v, p, n, path);
  if (st)
    return st;
  if (!strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "True"))
    *out = 1;
  else if (!strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "False"))
    *out = 0;
  else
    return fail_at(p, n, path, "'%.40s' is not true or false", v);
  return TGIS_OK;
}

static int hexval(char c)
{
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

int tgis_style_parse_colour(tgis_rgba *out, const char *s)
{
  size_t n = strlen(s);
  int d[8];
  if (s[0] != '#' || (n != 4 && n != 7 && n != 9))
    return -1;
  for (size_t i = 1; i < n; i++)
    if ((d[i - 1] = hexval(s[i])) < 0)
      return -1;
  if (n == 4) {
    out->r = (uint8_t)(d[0] * 17);
    out->g = (uint8_t)(d[1] * 17);
    out->b = (uint8_t)(d[2] * 17);
    out->a = 255;
  } else {
    out->r = (uint8_t)(d[0] * 16 + d[1]);
    out->g = (uint8_t)(d[2] * 16 + d[3]);
    out->b = (uint8_t)(d[4] * 16 + d[5]);
    out->a = n == 9 ? (uint8_t)(d[6] * 16 + d[7]) : 255;
  }
  return 0;
}

static tgis_status get_colour(tgis_rgba *out, parser *p, const yaml_node_t *n, const char *path)
{
  const char *v;
  tgis_status st = scalar(&v, p, n, path);
  if (st)
    return st;
  if (tgis_style_parse_colour(out, v))
    return fail_at(p, n, path, "'%.40s' is not a colour (#rgb, #rrggbb or #rrggbbaa)", v);
  return TGIS_OK;
}

static tgis_status get_enum(int *out, parser *p, const yaml_node_t *n, const char *path,
                            const char *const *names, const char *expect)
{
  const char *v;
  tgis_status st = scalar(&v, p, n, path);
  if (st)
    return st;
  for (int i = 0; names[i]; i++)
    if (!strcmp(v, names[i])) {
      *out = i;
      return TGIS_OK;
    }
  return fail_at(p, n, path, "'%.40s' is not one of %s", v, expect);
}

/* ---- structure helpers --------------------------------------------------- */

typedef struct kv {
  const char *key;
  yaml_node_t *knode, *vnode;
} kv;

/* Check `n` is a mapping with string keys, no key twice; give its pairs. */
static tgis_status mapping(parser *p, yaml_node_t *n, const char *path, kv *pairs, size_t max,
                           size_t *count)
{
  size_t k = 0;
  if (n->type != YAML_MAPPING_NODE)
    return fail_at(p, n, path, "expected a mapping, found %s", node_kind(n));
  for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
    yaml_node_t *kn = node(p, pr->key), *vn = node(p, pr->value);
    const char *key;
    tgis_status st;
    if (!kn || !vn)
      return fail_at(p, n, path, "broken mapping");
    if ((st = scalar(&key, p, kn, path)))
      return st;
    for (size_t j = 0; j < k; j++)
      if (!strcmp(pairs[j].key, key))
        return fail_at(p, kn, path, "%s: duplicate key", key);
    if (k == max)
      return fail_at(p, kn, path, "%s: too many keys (at most %zu)", key, max);
    pairs[k].key = key;
    pairs[k].knode = kn;
    pairs[k].vnode = vn;
    k++;
  }
  *count = k;
  return TGIS_OK;
}

/* A key path into a PATH_MAX_LEN buffer; a very deep one is cut short. */
static void path_fmt(char *buf, const char *fmt, ...) TGIS_PRINTF(2, 3);

static void path_fmt(char *buf, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, PATH_MAX_LEN, fmt, ap);
  va_end(ap);
}

static void join_path(char *buf, const char *path, const char *key)
{
  path_fmt(buf, "%s%s%s", path, path[0] ? "." : "", key);
}

static tgis_status unknown_key(parser *p, const kv *e, const char *path)
{
  char sub[PATH_MAX_LEN];
  join_path(sub, path, e->key);
  return fail_at(p, e->knode, sub, "unknown key");
}

static int key_is(const char *key, const char *a) { return !strcmp(key, a); }
static int colour_key(const char *key) { return !strcmp(key, "colour") || !strcmp(key, "color"); }

/* ---- values -------------------------------------------------------------- */

/* A number or a list of [zoom, value] stops. */
static tgis_status get_num(tgis_style_num *out, parser *p, yaml_node_t *n, const char *path,
                           double lo, double hi)
{
  memset(out, 0, sizeof *out);
  if (n->type != YAML_SEQUENCE_NODE)
    return get_number(&out->v[0], p, n, path, lo, hi);
  yaml_node_item_t *it = n->data.sequence.items.start;
  size_t count = (size_t)(n->data.sequence.items.top - it);
  if (count == 0)
    return fail_at(p, n, path, "empty list of zoom stops");
  if (count > TGIS_STYLE_MAX_STOPS)
    return fail_at(p, n, path, "%zu zoom stops, at most %d", count, TGIS_STYLE_MAX_STOPS);
  for (size_t i = 0; i < count; i++) {
    char sub[PATH_MAX_LEN];
    yaml_node_t *s = node(p, it[i]), *zn, *vn;
    tgis_status st;
    path_fmt(sub, "%s[%zu]", path, i);
    if (!s || s->type != YAML_SEQUENCE_NODE ||
        s->data.sequence.items.top - s->data.sequence.items.start != 2)
      return fail_at(p, s ? s : n, sub, "a zoom stop is a pair [zoom, value]");
    zn = node(p, s->data.sequence.items.start[0]);
    vn = node(p, s->data.sequence.items.start[1]);
    if (!zn || !vn)
      return fail_at(p, s, sub, "broken stop");
    if ((st = get_number(&out->z[i], p, zn, sub, 0, TGIS_STYLE_MAX_ZOOM)) ||
        (st = get_number(&out->v[i], p, vn, sub, lo, hi)))
      return st;
    if (i > 0 && out->z[i] <= out->z[i - 1])
      return fail_at(p, zn, sub, "zoom stops must increase (%g after %g)", out->z[i], out->z[i - 1]);
  }
  out->n = (int)count;
  return TGIS_OK;
}

double tgis_style_num_at(const tgis_style_num *n, double z)
{
  if (n->n == 0)
    return n->v[0];
  if (z <= n->z[0])
    return n->v[0];
  for (int i = 1; i < n->n; i++)
    if (z <= n->z[i]) {
      double t = (z - n->z[i - 1]) / (n->z[i] - n->z[i - 1]);
      return n->v[i - 1] + t * (n->v[i] - n->v[i - 1]);
    }
  return n->v[n->n - 1];
}

/* Add `key` to the set keys[0..*n) unless it is NULL or already in it. */
static int add_key(const char *key, const char **keys, size_t *n, size_t cap)
{
  if (!key)
    return 0;
  for (size_t i = 0; i < *n; i++)
    if (strcmp(keys[i], key) == 0)
      return 0;
  if (*n >= cap)
    return -1;
  keys[(*n)++] = key;
  return 0;
}

/* The attribute a paint reads, if any. */
static const char *paint_key(const tgis_style_paint *p)
{
  return p->kind == TGIS_PAINT_CLASSES || p->kind == TGIS_PAINT_MATCH ? p->attribute : NULL;
}

int tgis_style_layer_keys(const tgis_style_layer *l, const char **keys, size_t *n, size_t cap)
{
  int rc = 0;
  for (size_t i = 0; i < l->n_filters; i++)
    rc |= add_key(l->filters[i].key, keys, n, cap);
  rc |= add_key(paint_key(&l->fill), keys, n, cap);
  rc |= add_key(paint_key(&l->stroke), keys, n, cap);
  rc |= add_key(paint_key(&l->symbol_fill), keys, n, cap);
  rc |= add_key(l->label.attribute, keys, n, cap);
  return rc;
}

static tgis_status get_classes(tgis_style_paint *out, parser *p, yaml_node_t *n, const char *path)
{
  yaml_node_item_t *it;
  size_t count;
  if (n->type != YAML_SEQUENCE_NODE)
    return fail_at(p, n, path, "expected a list of classes, found %s", node_kind(n));
  it = n->data.sequence.items.start;
  count = (size_t)(n->data.sequence.items.top - it);
  if (count == 0 || count > MAX_CLASSES)
    return fail_at(p, n, path, "%zu classes, need 1 to %d", count, MAX_CLASSES);
  if (!(out->classes = tgis__calloc(p->ctx, count, sizeof *out->classes)))
    return nomem(p, path);
  out->n_classes = count;
  for (size_t i = 0; i < count; i++) {
    char sub[PATH_MAX_LEN], key[PATH_MAX_LEN];
    kv e[4];
    size_t ne;
    int have_colour = 0;
    tgis_style_class *c = &out->classes[i];
    yaml_node_t *cn = node(p, it[i]);
    tgis_status st;
    path_fmt(sub, "%s[%zu]", path, i);
    if (!cn)
      return fail_at(p, n, sub, "broken class");
    if ((st = mapping(p, cn, sub, e, 4, &ne)))
      return st;
    c->min = -INFINITY;
    c->max = INFINITY;
    for (size_t k = 0; k < ne; k++) {
      join_path(key, sub, e[k].key);
      if (key_is(e[k].key, "min"))
        st = get_number(&c->min, p, e[k].vnode, key, -1e15, 1e15);
      else if (key_is(e[k].key, "max"))
        st = get_number(&c->max, p, e[k].vnode, key, -1e15, 1e15);
      else if (colour_key(e[k].key)) {
        st = get_colour(&c->colour, p, e[k].vnode, key);
        have_colour = 1;
      } else
        st = unknown_key(p, &e[k], sub);
      if (st)
        return st;
    }
    if (!have_colour)
      return fail_at(p, cn, sub, "a class needs a colour");
    if (!(c->min < c->max))
      return fail_at(p, cn, sub, "min %g is not below max %g", c->min, c->max);
  }
  return TGIS_OK;
}

/* {value: colour, ...} for a match paint. */
static tgis_status get_values(tgis_style_paint *out, parser *p, yaml_node_t *n, const char *path)
{
  yaml_node_pair_t *pr;
  size_t count, i = 0;
  if (n->type != YAML_MAPPING_NODE)
    return fail_at(p, n, path, "expected a mapping of value: colour, found %s", node_kind(n));
  count = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
  if (count == 0 || count > MAX_CLASSES)
    return fail_at(p, n, path, "%zu values, need 1 to %d", count, MAX_CLASSES);
  if (!(out->classes = tgis__calloc(p->ctx, count, sizeof *out->classes)))
    return nomem(p, path);
  out->n_classes = count;
  for (pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++, i++) {
    yaml_node_t *kn = node(p, pr->key), *vn = node(p, pr->value);
    char key[PATH_MAX_LEN];
    tgis_status st;
    if (!kn || !vn)
      return fail_at(p, n, path, "broken mapping");
    if ((st = get_string(&out->classes[i].value, p, kn, path)))
      return st;
    for (size_t j = 0; j < i; j++)
      if (!strcmp(out->classes[j].value, out->classes[i].value))
        return fail_at(p, kn, path, "%s: duplicate key", out->classes[i].value);
    join_path(key, path, out->classes[i].value);
    if ((st = get_colour(&out->classes[i].colour, p, vn, key)))
      return st;
  }
  return TGIS_OK;
}

/* A colour, or {attribute, classes | values, default}. */
static tgis_status get_paint(tgis_style_paint *out, parser *p, yaml_node_t *n, const char *path)
{
  kv e[4];
  size_t ne;
  tgis_status st;
  yaml_node_t *table = NULL;
  if (n->type == YAML_SCALAR_NODE) {
    out->kind = TGIS_PAINT_COLOUR;
    return get_colour(&out->colour, p, n, path);
  }
  if ((st = mapping(p, n, path, e, 4, &ne)))
    return st;
  for (size_t k = 0; k < ne; k++) {
    char key[PATH_MAX_LEN];
    join_path(key, path, e[k].key);
    if (key_is(e[k].key, "attribute")) {
      st = get_string(&out->attribute, p, e[k].vnode, key);
    } else if (key_is(e[k].key, "classes") || key_is(e[k].key, "values")) {
      if (table)
        return fail_at(p, e[k].knode, key, "give either 'classes' or 'values', not both");
      table = e[k].vnode;
      out->kind = key_is(e[k].key, "classes") ? TGIS_PAINT_CLASSES : TGIS_PAINT_MATCH;
      st = out->kind == TGIS_PAINT_CLASSES ? get_classes(out, p, table, key)
                                           : get_values(out, p, table, key);
    } else if (key_is(e[k].key, "default")) {
      st = get_colour(&out->fallback, p, e[k].vnode, key);
      out->has_default = 1;
    } else {
      st = unknown_key(p, &e[k], path);
    }
    if (st)
      return st;
  }
  if (!out->attribute || !table)
    return fail_at(p, n, path, "a colour by attribute needs 'attribute' and 'classes' or 'values'");
  return TGIS_OK;
}

static tgis_status get_filter(tgis_style_layer *l, parser *p, yaml_node_t *n, const char *path)
{
  kv e[16];
  size_t ne;
  tgis_status st;
  if ((st = mapping(p, n, path, e, 16, &ne)))
    return st;
  if (ne == 0)
    return fail_at(p, n, path, "empty filter");
  if (!(l->filters = tgis__calloc(p->ctx, ne, sizeof *l->filters)))
    return nomem(p, path);
  l->n_filters = ne;
  for (size_t k = 0; k < ne; k++) {
    char key[PATH_MAX_LEN];
    tgis_style_filter *f = &l->filters[k];
    yaml_node_t *v = e[k].vnode;
    join_path(key, path, e[k].key);
    if (!(f->key = tgis__strdup(p->ctx, e[k].key)))
      return nomem(p, key);
    if (v->type == YAML_SEQUENCE_NODE) {
      yaml_node_item_t *it = v->data.sequence.items.start;
      size_t count = (size_t)(v->data.sequence.items.top - it);
      if (count == 0 || count > MAX_FILTER_VALUES)
        return fail_at(p, v, key, "%zu values, need 1 to %d", count, MAX_FILTER_VALUES);
      if (!(f->values = tgis__calloc(p->ctx, count, sizeof *f->values)))
        return nomem(p, key);
      f->n_values = count;
      for (size_t i = 0; i < count; i++) {
        yaml_node_t *vn = node(p, it[i]);
        char sub[PATH_MAX_LEN];
        path_fmt(sub, "%s[%zu]", key, i);
        if (!vn)
          return fail_at(p, v, sub, "broken list");
        if ((st = get_string(&f->values[i], p, vn, sub)))
          return st;
      }
    } else {
      if (!(f->values = tgis__calloc(p->ctx, 1, sizeof *f->values)))
        return nomem(p, key);
      f->n_values = 1;
      if ((st = get_string(&f->values[0], p, v, key)))
        return st;
    }
  }
  return TGIS_OK;
}

static tgis_status get_casing(tgis_style_layer *l, parser *p, yaml_node_t *n, const char *path)
{
  kv e[2];
  size_t ne;
  int have_w = 0, have_c = 0;
  tgis_status st;
  if ((st = mapping(p, n, path, e, 2, &ne)))
    return st;
  for (size_t k = 0; k < ne; k++) {
    char key[PATH_MAX_LEN];
    join_path(key, path, e[k].key);
    if (key_is(e[k].key, "width")) {
      st = get_num(&l->casing_width, p, e[k].vnode, key, 0, TGIS_STYLE_MAX_PX);
      have_w = 1;
    } else if (colour_key(e[k].key)) {
      st = get_colour(&l->casing_colour, p, e[k].vnode, key);
      have_c = 1;
    } else
      st = unknown_key(p, &e[k], path);
    if (st)
      return st;
  }
  if (!have_w || !have_c)
    return fail_at(p, n, path, "a casing needs 'width' and 'colour'");
  l->has_casing = 1;
  return TGIS_OK;
}

static tgis_status get_symbol(tgis_style_layer *l, parser *p, yaml_node_t *n, const char *path)
{
  static const char *const shapes[] = { "none", "circle", "square", NULL };
  kv e[5];
  size_t ne;
  int shape = TGIS_SYMBOL_CIRCLE, have_size = 0, have_stroke = 0;
  tgis_status st;
  if ((st = mapping(p, n, path, e, 5, &ne)))
    return st;
  l->symbol_stroke_width = 1;
  for (size_t k = 0; k < ne; k++) {
    char key[PATH_MAX_LEN];
    join_path(key, path, e[k].key);
    if (key_is(e[k].key, "shape"))
      st = get_enum(&shape, p, e[k].vnode, key, shapes, "circle, square");
    else if (key_is(e[k].key, "size")) {
      st = get_num(&l->symbol_size, p, e[k].vnode, key, 0.5, 64);
      have_size = 1;
    } else if (key_is(e[k].key, "fill"))
      st = get_paint(&l->symbol_fill, p, e[k].vnode, key);
    else if (key_is(e[k].key, "stroke")) {
      st = get_colour(&l->symbol_stroke, p, e[k].vnode, key);
      have_stroke = 1;
    } else if (key_is(e[k].key, "stroke_width"))
      st = get_number(&l->symbol_stroke_width, p, e[k].vnode, key, 0, 16);
    else
      st = unknown_key(p, &e[k], path);
    if (st)
      return st;
  }
  if (!have_size)
    return fail_at(p, n, path, "a symbol needs a 'size'");
  if (shape == TGIS_SYMBOL_NONE)
    return fail_at(p, n, path, "shape 'none': leave the symbol out instead");
  if (l->symbol_fill.kind == TGIS_PAINT_NONE && !have_stroke)
    return fail_at(p, n, path, "a symbol needs a 'fill' or a 'stroke'");
  if (!have_stroke)
    l->symbol_stroke_width = 0;
  l->symbol = (tgis_symbol_shape)shape;
  return TGIS_OK;
}

static tgis_status get_label(tgis_style_layer *l, parser *p, yaml_node_t *n, const char *path)
{
  static const char *const places[] = { "auto", "center", "right", "above", NULL };
  tgis_style_label *lb = &l->label;
  kv e[13];
  size_t ne;
  int have_minz = 0, have_maxz = 0, place = 0;
  tgis_status st;
  if ((st = mapping(p, n, path, e, 13, &ne)))
    return st;
  lb->size = 11;
  lb->colour = (tgis_rgba){ 0x33, 0x33, 0x33, 255 };
  lb->halo = (tgis_rgba){ 255, 255, 255, 255 };
  lb->halo_width = 1.5;
  lb->padding = 2;
  for (size_t k = 0; k < ne; k++) {
    char key[PATH_MAX_LEN];
    const char *kk = e[k].key;
    yaml_node_t *v = e[k].vnode;
    join_path(key, path, kk);
    if (key_is(kk, "attribute"))
      st = get_string(&lb->attribute, p, v, key);
    else if (key_is(kk, "size"))
      st = get_number(&lb->size, p, v, key, 4, 48);
    else if (key_is(kk, "bold"))
      st = get_bool(&lb->bold, p, v, key);
    else if (colour_key(kk))
      st = get_colour(&lb->colour, p, v, key);
    else if (key_is(kk, "halo"))
      st = is_null(v) ? (lb->halo.a = 0, TGIS_OK) : get_colour(&lb->halo, p, v, key);
    else if (key_is(kk, "halo_width"))
      st = get_number(&lb->halo_width, p, v, key, 0, 8);
    else if (key_is(kk, "min_zoom")) {
      st = get_int(&lb->min_zoom, p, v, key, 0, TGIS_STYLE_MAX_ZOOM);
      have_minz = 1;
    } else if (key_is(kk, "max_zoom")) {
      st = get_int(&lb->max_zoom, p, v, key, 0, TGIS_STYLE_MAX_ZOOM);
      have_maxz = 1;
    } else if (key_is(kk, "priority"))
      st = get_int(&lb->priority, p, v, key, -1000, 1000);
    else if (key_is(kk, "padding"))
      st = get_number(&lb->padding, p, v, key, 0, 16);
    else if (key_is(kk, "repeat_distance"))
      st = get_number(&lb->repeat_distance, p, v, key, 0, 2 * TGIS_STYLE_LABEL_REACH);
    else if (key_is(kk, "placement"))
      st = get_enum(&place, p, v, key, places, "auto, center, right, above");
    else
      st = unknown_key(p, &e[k], path);
    if (st)
      return st;
  }
  if (!lb->attribute)
    return fail_at(p, n, path, "a label needs an 'attribute'");
  lb->placement = (tgis_label_place)place;
  if (!have_minz)
    lb->min_zoom = l->min_zoom;
  if (!have_maxz)
    lb->max_zoom = l->max_zoom;
  if (lb->min_zoom > lb->max_zoom)
    return fail_at(p, n, path, "min_zoom %d is above max_zoom %d", lb->min_zoom, lb->max_zoom);
  return TGIS_OK;
}

/* ---- layers -------------------------------------------------------------- */

static tgis_status get_layer(tgis_style_layer *l, parser *p, yaml_node_t *n, const char *path)
{
  static const char *const caps[] = { "butt", "round", "square", NULL };
  static const char *const joins[] = { "round", "miter", "bevel", NULL };
  kv e[20];
  size_t ne;
  int cap = -1, join = TGIS_JOIN_ROUND, have_width = 0;
  yaml_node_t *zoom_node = n, *casing_node = NULL;
  tgis_status st;
  if ((st = mapping(p, n, path, e, 20, &ne)))
    return st;
  l->min_zoom = 0;
  l->max_zoom = TGIS_STYLE_MAX_ZOOM;
  /* Zoom range first: the label's defaults depend on it. */
  for (size_t k = 0; k < ne; k++) {
    char key[PATH_MAX_LEN];
    join_path(key, path, e[k].key);
    if (key_is(e[k].key, "min_zoom")) {
      st = get_int(&l->min_zoom, p, e[k].vnode, key, 0, TGIS_STYLE_MAX_ZOOM);
      zoom_node = e[k].knode;
    } else if (key_is(e[k].key, "max_zoom")) {
      st = get_int(&l->max_zoom, p, e[k].vnode, key, 0, TGIS_STYLE_MAX_ZOOM);
      zoom_node = e[k].knode;
    }
    if (st)
      return st;
  }
  if (l->min_zoom > l->max_zoom)
    return fail_at(p, zoom_node, path, "min_zoom %d is above max_zoom %d", l->min_zoom, l->max_zoom);
  for (size_t k = 0; k < ne; k++) {
    char key[PATH_MAX_LEN];
    const char *kk = e[k].key;
    yaml_node_t *v = e[k].vnode;
    join_path(key, path, kk);
    if (key_is(kk, "min_zoom") || key_is(kk, "max_zoom"))
      continue;
    if (key_is(kk, "id"))
      st = get_string(&l->id, p, v, key);
    else if (key_is(kk, "source"))
      st = get_string(&l->source, p, v, key);
    else if (key_is(kk, "filter"))
      st = get_filter(l, p, v, key);
    else if (key_is(kk, "fill"))
      st = get_paint(&l->fill, p, v, key);
    else if (key_is(kk, "stroke"))
      st = get_paint(&l->stroke, p, v, key);
    else if (key_is(kk, "stroke_width")) {
      st = get_num(&l->stroke_width, p, v, key, 0, TGIS_STYLE_MAX_PX / 4);
      have_width = 1;
    } else if (key_is(kk, "dash")) {
      yaml_node_item_t *it;
      size_t count;
      if (v->type != YAML_SEQUENCE_NODE)
        st = fail_at(p, v, key, "expected a list of on/off lengths, found %s", node_kind(v));
      else if ((count = (size_t)(v->data.sequence.items.top - (it = v->data.sequence.items.start))) < 2 ||
               count > 8 || count % 2)
        st = fail_at(p, v, key, "%zu dash lengths, need 2, 4, 6 or 8", count);
      else
        for (size_t i = 0; i < count && !st; i++) {
          yaml_node_t *dn = node(p, it[i]);
          st = dn ? get_number(&l->dash[i], p, dn, key, 0.5, TGIS_STYLE_MAX_PX)
                  : fail_at(p, v, key, "broken list");
        }
      l->n_dash = st ? 0 : (int)(v->data.sequence.items.top - v->data.sequence.items.start);
    } else if (key_is(kk, "line_cap"))
      st = get_enum(&cap, p, v, key, caps, "butt, round, square");
    else if (key_is(kk, "line_join"))
      st = get_enum(&join, p, v, key, joins, "round, miter, bevel");
    else if (key_is(kk, "casing")) {
      st = get_casing(l, p, v, key);
      casing_node = v;
    } else if (key_is(kk, "symbol"))
      st = get_symbol(l, p, v, key);
    else if (key_is(kk, "label"))
      st = get_label(l, p, v, key);
    else
      st = unknown_key(p, &e[k], path);
    if (st)
      return st;
  }
  if (!l->source)
    return fail_at(p, n, path, "a layer needs a 'source'");
  if (l->fill.kind == TGIS_PAINT_NONE && l->stroke.kind == TGIS_PAINT_NONE &&
      l->symbol == TGIS_SYMBOL_NONE && !l->label.attribute)
    return fail_at(p, n, path, "the layer draws nothing: give a fill, stroke, symbol or label");
  if (l->has_casing && l->stroke.kind == TGIS_PAINT_NONE)
    return fail_at(p, casing_node, path, "a casing needs a stroke");
  if (!have_width) {
    l->stroke_width.n = 0;
    l->stroke_width.v[0] = 1;
  }
  /* Lines end round by default; outlines of polygons never show their caps. */
  l->cap = cap < 0 ? TGIS_CAP_ROUND : (tgis_line_cap)cap;
  l->join = (tgis_line_join)join;
  if (!l->id) {
    if (!(l->id = tgis__strdup(p->ctx, path)))
      return nomem(p, path);
  }
  return TGIS_OK;
}

static tgis_status get_style(parser *p, yaml_node_t *root)
{
  tgis_style *s = p->style;
  kv e[6];
  size_t ne;
  yaml_node_t *layers = NULL;
  tgis_status st;
  if ((st = mapping(p, root, "", e, 6, &ne)))
    return st;
  for (size_t k = 0; k < ne; k++) {
    const char *kk = e[k].key;
    yaml_node_t *v = e[k].vnode;
    if (key_is(kk, "name")) {
      char *name = NULL;
      st = get_string(&name, p, v, kk);
      tgis__free(p->ctx, name);  /* the file name is the theme's name */
    } else if (key_is(kk, "title"))
      st = get_string(&s->title, p, v, kk);
    else if (key_is(kk, "background")) {
      st = is_null(v) ? TGIS_OK : get_colour(&s->background, p, v, kk);
      s->has_background = !is_null(v);
    } else if (key_is(kk, "layers"))
      layers = v;
    else
      st = unknown_key(p, &e[k], "");
    if (st)
      return st;
  }
  if (!layers)
    return fail_at(p, root, "layers", "missing: a style needs a list of layers");
  if (layers->type != YAML_SEQUENCE_NODE)
    return fail_at(p, layers, "layers", "expected a list, found %s", node_kind(layers));
  yaml_node_item_t *it = layers->data.sequence.items.start;
  size_t count = (size_t)(layers->data.sequence.items.top - it);
  if (count == 0 || count > MAX_LAYERS)
    return fail_at(p, layers, "layers", "%zu layers, need 1 to %d", count, MAX_LAYERS);
  if (!(s->layers = tgis__calloc(p->ctx, count, sizeof *s->layers)))
    return nomem(p, "layers");
  s->n_layers = count;
  for (size_t i = 0; i < count; i++) {
    char path[PATH_MAX_LEN];
    yaml_node_t *ln = node(p, it[i]);
    path_fmt(path, "layers[%zu]", i);
    if (!ln)
      return fail_at(p, layers, path, "broken list");
    if ((st = get_layer(&s->layers[i], p, ln, path)))
      return st;
  }
  return TGIS_OK;
}

/* ---- entry points -------------------------------------------------------- */

static void free_paint(tgis_ctx *ctx, tgis_style_paint *pt)
{
  for (size_t i = 0; i < pt->n_classes; i++)
    tgis__free(ctx, pt->classes[i].value);
  tgis__free(ctx, pt->attribute);
  tgis__free(ctx, pt->classes);
}

void tgis_style_free(tgis_style *s)
{
  if (!s)
    return;
  tgis_ctx *ctx = s->ctx;
  for (size_t i = 0; i < s->n_layers; i++) {
    tgis_style_layer *l = &s->layers[i];
    tgis__free(ctx, l->id);
    tgis__free(ctx, l->source);
    for (size_t f = 0; f < l->n_filters; f++) {
      for (size_t v = 0; v < l->filters[f].n_values; v++)
        tgis__free(ctx, l->filters[f].values[v]);
      tgis__free(ctx, l->filters[f].values);
      tgis__free(ctx, l->filters[f].key);
    }
    tgis__free(ctx, l->filters);
    free_paint(ctx, &l->fill);
    free_paint(ctx, &l->stroke);
    free_paint(ctx, &l->symbol_fill);
    tgis__free(ctx, l->label.attribute);
  }
  tgis__free(ctx, s->layers);
  tgis__free(ctx, s->name);
  tgis__free(ctx, s->title);
  tgis__free(ctx, s);
}

/* "dir/base.yaml" -> "base.yaml" */
static const char *base_name(const char *path)
{
  const char *slash = strrchr(path, '/');
  return slash ? slash + 1 : path;
}

tgis_status tgis_style_parse(tgis_style **out, tgis_ctx *ctx, const char *name,
                             const char *text, size_t len)
{
  yaml_parser_t yp;
  yaml_document_t doc;
  int have_parser = 0, have_doc = 0;
  parser p;
  tgis_style *s = NULL;
  tgis_status st = TGIS_OK;
  yaml_node_t *root;
  const char *file = base_name(name);

  assert(out && ctx && name && (text || len == 0));
  *out = NULL;
  p.ctx = ctx;
  p.file = file;
  p.doc = &doc;
  if (len > MAX_STYLE_BYTES) {
    st = tgis__fail(ctx, TGIS_EPARSE, "%s: %zu bytes, a style is at most %d", file, len,
                    MAX_STYLE_BYTES);
    goto done;
  }
  if (!(s = tgis__calloc(ctx, 1, sizeof *s))) {
    st = tgis__fail(ctx, TGIS_ENOMEM, "%s: out of memory", file);
    goto done;
  }
  s->ctx = ctx;
  p.style = s;
  {
    /* The theme's name: the file name without its extension. */
    size_t n = strlen(file);
    const char *dot = strrchr(file, '.');
    if (dot && dot != file)
      n = (size_t)(dot - file);
    if (!(s->name = tgis__malloc(ctx, n + 1))) {
      st = tgis__fail(ctx, TGIS_ENOMEM, "%s: out of memory", file);
      goto done;
    }
    memcpy(s->name, file, n);
    s->name[n] = '\0';
  }
  if (!yaml_parser_initialize(&yp)) {
    st = tgis__fail(ctx, TGIS_ENOMEM, "%s: cannot start the YAML parser", file);
    goto done;
  }
  have_parser = 1;
  yaml_parser_set_input_string(&yp, (const unsigned char *)(text ? text : ""), len);
  if (!yaml_parser_load(&yp, &doc)) {
    st = tgis__fail(ctx, TGIS_EPARSE, "%s:%zu: YAML: %s%s%s", file,
                    (size_t)yp.problem_mark.line + 1, yp.problem ? yp.problem : "error",
                    yp.context ? " " : "", yp.context ? yp.context : "");
    goto done;
  }
  have_doc = 1;
  if (!(root = yaml_document_get_root_node(&doc))) {
    st = tgis__fail(ctx, TGIS_EPARSE, "%s:1: empty style: expected a mapping with 'layers'", file);
    goto done;
  }
  if ((st = get_style(&p, root)))
    goto done;
  {
    /* One document per file: a second one is most likely a mistake. */
    yaml_document_t extra;
    if (!yaml_parser_load(&yp, &extra)) {
      st = tgis__fail(ctx, TGIS_EPARSE, "%s:%zu: YAML: %s", file,
                      (size_t)yp.problem_mark.line + 1, yp.problem ? yp.problem : "error");
      goto done;
    }
    root = yaml_document_get_root_node(&extra);
    if (root) {
      size_t line = root->start_mark.line + 1;
      yaml_document_delete(&extra);
      st = tgis__fail(ctx, TGIS_EPARSE, "%s:%zu: a second YAML document; a style is one", file, line);
      goto done;
    }
    yaml_document_delete(&extra);
  }
  *out = s;
  s = NULL;
done:
  if (have_doc)
    yaml_document_delete(&doc);
  if (have_parser)
    yaml_parser_delete(&yp);
  tgis_style_free(s);
  return st;
}

tgis_status tgis_style_load(tgis_style **out, tgis_ctx *ctx, const char *path)
{
  FILE *f = NULL;
  char *buf = NULL;
  size_t len = 0;
  tgis_status st;
  assert(out && ctx && path);
  *out = NULL;
  if (!(f = fopen(path, "rb")))
    return tgis__fail(ctx, errno == ENOENT ? TGIS_ENOTFOUND : TGIS_EIO, "%s: cannot open: %s",
                      path, strerror(errno));
  if (!(buf = tgis__malloc(ctx, MAX_STYLE_BYTES + 1))) {
    st = tgis__fail(ctx, TGIS_ENOMEM, "%s: out of memory", path);
    goto done;
  }
  len = fread(buf, 1, MAX_STYLE_BYTES + 1, f);
  if (ferror(f)) {
    st = tgis__fail(ctx, TGIS_EIO, "%s: cannot read", path);
    goto done;
  }
  st = tgis_style_parse(out, ctx, path, buf, len);
done:
  tgis__free(ctx, buf);
  fclose(f);
  return st;
}
