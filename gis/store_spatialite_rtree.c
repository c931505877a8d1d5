/*
 * store_spatialite_rtree.c -- packing a layer's R-tree in one pass.
 *
 * SpatiaLite indexes a layer with an SQLite rtree virtual table,
 * idx_<table>_geom(pkid, xmin, xmax, ymin, ymax), whose module inserts one
 * box at a time: it reads nodes through the blob API, splits and reinserts
 * (R*-tree), 15-25 us a box. After an import that wrote a large part of a
 * layer tgis instead reads every box of the layer, packs them with
 * Sort-Tile-Recursive (Leutenegger, Lopez, Edgington 1997) and writes the
 * nodes straight into the shadow tables the module keeps (SQLite
 * ext/rtree/rtree.c, the same from 3.40 to 3.53):
 *
 *   <idx>_node(nodeno INTEGER PRIMARY KEY, data)   one blob per node, root = 1
 *   <idx>_rowid(rowid INTEGER PRIMARY KEY, nodeno) the leaf of every row
 *   <idx>_parent(nodeno INTEGER PRIMARY KEY, parentnode)  of every other node
 *
 * A node blob is a 4-byte header -- the tree depth (meaningful in the root
 * only) and the cell count, 16-bit big-endian each -- and cells of a 64-bit
 * big-endian rowid (a child's node number above the leaves) and four
 * big-endian float32 coordinates in column order. Every blob has the node
 * size the module takes from the root's blob when it connects (at creation
 * page size - 64, capped at 51 cells: 1228 bytes for two dimensions); the
 * unused tail is zero. Coordinates are rounded outward to float32 exactly as
 * the module's rtreeValueDown()/rtreeValueUp() do, so the leaves hold what
 * an INSERT would have stored. The module keeps no node between statements
 * (it reads them afresh through the blob API), so the connection uses the
 * new tree at once; test_rtree.c checks this inside one transaction.
 *
 * Leaves are packed to 90%: a full leaf makes the first later insert into
 * it split or reinsert, which measured 40% dearer trigger inserts for the
 * next 20,000 rows; at 90% they cost what they cost in an inserted tree.
 *
 * All memory is taken before the first shadow row is touched, and the
 * writes run in a savepoint: a failure leaves the index as it was.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_spatialite_int.h"

#define RT_CELL 24             /* 8-byte id + four float32 */
#define RT_MAX_CELLS 51        /* RTREE_MAXCELLS: newer modules call more corrupt */
#define RT_MIN_NODE 448        /* smallest node the module accepts (512 - 64) */
#define RT_LEAF_SLACK 5        /* cells left free in each packed leaf */
#define RT_COORD_MAX 1e38      /* beyond this float32 rounding is not defined */
#define RT_BATCH 64            /* rowid map rows per INSERT */

/* A box to pack: 20 bytes, so a million sort fast. */
typedef struct rt_box {
  uint32_t pos;                /* leaves: the row's index in ids[] (read order);
                                  above: index of the node in its level */
  float c[4];                  /* xmin, xmax, ymin, ymax, rounded outward */
} rt_box;

typedef struct rt_build {
  sl_store *s;
  const char *table;
  char idx[96];                /* idx_<table>_geom */
  int node_size;               /* bytes per node blob */
  size_t cap;                  /* cells per node */
  unsigned char *buf;          /* one node being written */
  int64_t next_node;           /* number of the next node (root is 1) */
  const int64_t *ids;          /* row ids in read (ascending) order */
  uint32_t *leaf_of;           /* leaf node of each row, by read order */
  sqlite3_stmt *put_node, *put_rowid, *put_rowids, *put_parent;
} rt_build;

static tgis_status rt_db_error(rt_build *b, const char *what)
{
  return tgis__fail(b->s->base.ctx, TGIS_EDB, "%s: %s: %s: %s", b->s->path, b->table, what,
                    sqlite3_errmsg(b->s->db));
}

/* ---- float32 as the module stores it -------------------------------------- */

/* rtreeValueDown/Up: the nearest float, moved outward by a relative 2^-23
 * when it lies inside. Computed as SQLite computes it, so that a packed
 * leaf and an inserted one hold the same bits. */
#define RT_TOWARDS (1.0 - 1.0 / 8388608.0)
#define RT_AWAY    (1.0 + 1.0 / 8388608.0)

static float round_down(double d)
{
  float f = (float)d;
  if (f > d)
    f = (float)(d * (d < 0 ? RT_AWAY : RT_TOWARDS));
  return f;
}

static float round_up(double d)
{
  float f = (float)d;
  if (f < d)
    f = (float)(d * (d < 0 ? RT_TOWARDS : RT_AWAY));
  return f;
}

/* ---- sorting ---------------------------------------------------------------- */

/* By centre (twice the centre: same order); ties by position, so the order
 * is total and a rebuild reproducible whatever qsort does with equals. */
static int cmp_centre(const rt_box *p, const rt_box *q, int axis)
{
  double a = (double)p->c[axis] + p->c[axis + 1];
  double b = (double)q->c[axis] + q->c[axis + 1];
  if (a != b)
    return a < b ? -1 : 1;
  return (p->pos > q->pos) - (p->pos < q->pos);
}

static int cmp_x(const void *a, const void *b) { return cmp_centre(a, b, 0); }
static int cmp_y(const void *a, const void *b) { return cmp_centre(a, b, 2); }

/* ---- writing ------------------------------------------------------------------ */

static void put_be16(unsigned char *p, unsigned v)
{
  p[0] = (unsigned char)(v >> 8);
  p[1] = (unsigned char)v;
}

static void put_be32(unsigned char *p, uint32_t v)
{
  p[0] = (unsigned char)(v >> 24);
  p[1] = (unsigned char)(v >> 16);
  p[2] = (unsigned char)(v >> 8);
  p[3] = (unsigned char)v;
}

static void put_be64(unsigned char *p, uint64_t v)
{
  put_be32(p, (uint32_t)(v >> 32));
  put_be32(p + 4, (uint32_t)v);
}

static tgis_status step_reset(rt_build *b, sqlite3_stmt *stmt, const char *what)
{
  int rc = sqlite3_step(stmt);
  sqlite3_reset(stmt);
  if (rc != SQLITE_DONE)
    return rt_db_error(b, what);
  return TGIS_OK;
}

static tgis_status put_parent(rt_build *b, int64_t child, int64_t parent)
{
  sqlite3_bind_int64(b->put_parent, 1, child);
  sqlite3_bind_int64(b->put_parent, 2, parent);
  return step_reset(b, b->put_parent, "cannot write the parent map");
}

/* The id a cell holds: the row's id in a leaf, else the child's number
 * (the level below was numbered from `base` in order). */
static int64_t cell_id(const rt_build *b, const rt_box *x, int leaf, int64_t base)
{
  return leaf ? b->ids[x->pos] : base + x->pos;
}

/* Write node `nodeno` holding cells[0..n); its bounding box into box[4]. */
static tgis_status write_node(rt_build *b, int64_t nodeno, int depth, const rt_box *cells,
                              size_t n, int leaf, int64_t base, float box[4])
{
  unsigned char *p = b->buf + 4;
  memset(b->buf, 0, (size_t)b->node_size);
  memset(box, 0, 4 * sizeof *box);
  put_be16(b->buf, (unsigned)depth);
  put_be16(b->buf + 2, (unsigned)n);
  for (size_t i = 0; i < n; i++, p += RT_CELL) {
    const float *c = cells[i].c;
    put_be64(p, (uint64_t)cell_id(b, &cells[i], leaf, base));
    for (int k = 0; k < 4; k++) {
      uint32_t u;
      memcpy(&u, &c[k], sizeof u);
      put_be32(p + 8 + 4 * k, u);
    }
    if (i == 0) {
      memcpy(box, c, 4 * sizeof *box);
    } else {
      box[0] = c[0] < box[0] ? c[0] : box[0];
      box[1] = c[1] > box[1] ? c[1] : box[1];
      box[2] = c[2] < box[2] ? c[2] : box[2];
      box[3] = c[3] > box[3] ? c[3] : box[3];
    }
  }
  sqlite3_bind_int64(b->put_node, 1, nodeno);
  sqlite3_bind_blob(b->put_node, 2, b->buf, b->node_size, SQLITE_STATIC);
  return step_reset(b, b->put_node, "cannot write an index node");
}

/* Link a node's cells to it: the rows of a leaf (noted for the rowid map,
 * written in id order later), the children of an inner node. */
static tgis_status link_cells(rt_build *b, const rt_box *cells, size_t n, int leaf,
                              int64_t base, int64_t nodeno)
{
  tgis_status st = TGIS_OK;
  for (size_t i = 0; i < n && st == TGIS_OK; i++) {
    if (leaf)
      b->leaf_of[cells[i].pos] = (uint32_t)nodeno;
    else
      st = put_parent(b, base + cells[i].pos, nodeno);
  }
  return st;
}

/* One level of STR: items[0..n) into P = ceil(n / cap) nodes numbered from
 * b->next_node. Sorted by x, cut into ceil(sqrt(P)) vertical slabs of whole
 * nodes, each slab sorted by y and cut into its nodes. Node j takes items
 * [j*n/P, (j+1)*n/P): sizes differ by one at most, so no node is left
 * nearly empty. out[j] gets node j's box, ready for the level above. */
static tgis_status pack_level(rt_build *b, rt_box *items, size_t n, size_t cap, int leaf,
                              int64_t base, rt_box *out, size_t *n_out)
{
  size_t P = (n + cap - 1) / cap;
  size_t S = (size_t)ceil(sqrt((double)P));
  int64_t first = b->next_node;
  tgis_status st = TGIS_OK;

  qsort(items, n, sizeof *items, cmp_x);
  for (size_t s = 0; s < S && st == TGIS_OK; s++) {
    size_t j0 = s * P / S, j1 = (s + 1) * P / S;
    size_t i0 = j0 * n / P, i1 = j1 * n / P;
    qsort(items + i0, i1 - i0, sizeof *items, cmp_y);
    for (size_t j = j0; j < j1 && st == TGIS_OK; j++) {
      size_t a = j * n / P, e = (j + 1) * n / P;
      int64_t nodeno = first + (int64_t)j;
      out[j].pos = (uint32_t)j;
      st = write_node(b, nodeno, 0, items + a, e - a, leaf, base, out[j].c);
      if (st == TGIS_OK)
        st = link_cells(b, items + a, e - a, leaf, base, nodeno);
    }
  }
  b->next_node = first + (int64_t)P;
  *n_out = P;
  return st;
}

/* The rowid map in id order (appends to its b-tree), RT_BATCH rows a
 * statement: one step per row cost as much as the b-tree insert. */
static tgis_status write_rowids(rt_build *b, size_t n)
{
  size_t i = 0;
  tgis_status st = TGIS_OK;
  for (; i + RT_BATCH <= n && st == TGIS_OK; i += RT_BATCH) {
    for (int k = 0; k < RT_BATCH; k++) {
      sqlite3_bind_int64(b->put_rowids, 2 * k + 1, b->ids[i + (size_t)k]);
      sqlite3_bind_int64(b->put_rowids, 2 * k + 2, b->leaf_of[i + (size_t)k]);
    }
    st = step_reset(b, b->put_rowids, "cannot write the rowid map");
  }
  for (; i < n && st == TGIS_OK; i++) {
    sqlite3_bind_int64(b->put_rowid, 1, b->ids[i]);
    sqlite3_bind_int64(b->put_rowid, 2, b->leaf_of[i]);
    st = step_reset(b, b->put_rowid, "cannot write the rowid map");
  }
  return st;
}

/* Levels below the root for n boxes (the root holds up to cap cells) and
 * the nodes they take. */
static int plan_levels(size_t n, size_t leaf_cap, size_t cap, size_t *n_upper)
{
  int depth = 0;
  *n_upper = 0;
  while (n > cap) {
    size_t c = depth ? cap : leaf_cap;
    n = (n + c - 1) / c;
    *n_upper += n;
    depth++;
  }
  return depth;
}

/* The packed tree, into emptied shadow tables. */
static tgis_status write_tree(rt_build *b, rt_box *boxes, size_t n, rt_box *upper, int depth)
{
  tgis_status st = TGIS_OK;
  rt_box *items = boxes;
  int64_t base = 0;
  size_t m = n;
  float root_box[4];

  b->next_node = 2;
  for (int level = 0; level < depth && st == TGIS_OK; level++) {
    int64_t first = b->next_node;
    size_t p;
    st = pack_level(b, items, m, level ? b->cap : b->cap - RT_LEAF_SLACK, level == 0, base,
                    upper, &p);
    items = upper;
    upper += p;
    m = p;
    base = first;
  }
  if (st == TGIS_OK)
    st = write_node(b, 1, depth, items, m, depth == 0, base, root_box);
  if (st == TGIS_OK)
    st = link_cells(b, items, m, depth == 0, base, 1);
  if (st == TGIS_OK)
    st = write_rowids(b, n);
  return st;
}

/* ---- reading ------------------------------------------------------------------ */

/* Node size of the existing table, as the module reads it on connect. */
static tgis_status read_node_size(rt_build *b)
{
  sqlite3_stmt *stmt = NULL;
  char sql[192];
  int rc;
  snprintf(sql, sizeof sql, "SELECT length(data) FROM \"%s_node\" WHERE nodeno = 1", b->idx);
  rc = sqlite3_prepare_v2(b->s->db, sql, -1, &stmt, NULL);
  if (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW)
    b->node_size = sqlite3_column_int(stmt, 0);
  sqlite3_finalize(stmt);
  if (rc == SQLITE_DONE || (rc == SQLITE_ROW && b->node_size < RT_MIN_NODE))
    return tgis__fail(b->s->base.ctx, TGIS_EDB, "%s: %s: the spatial index has no valid root node",
                      b->s->path, b->table);
  if (rc != SQLITE_ROW)
    return rt_db_error(b, "cannot read the spatial index");
  b->cap = (size_t)(b->node_size - 4) / RT_CELL;
  if (b->cap > RT_MAX_CELLS)
    b->cap = RT_MAX_CELLS;
  return TGIS_OK;
}

/* Grow the two read arrays to hold `want` rows. */
static int grow(tgis_ctx *ctx, rt_box **boxes, int64_t **ids, size_t want)
{
  rt_box *p;
  int64_t *q;
  if (want > UINT32_MAX)  /* positions are 32-bit; j * n stays in 64 bits */
    return 0;
  if (!(p = tgis__realloc(ctx, *boxes, want * sizeof *p)))
    return 0;
  *boxes = p;
  if (!(q = tgis__realloc(ctx, *ids, want * sizeof *q)))
    return 0;
  *ids = q;
  return 1;
}

/* Every indexable box of the layer, in id order. Rows whose geometry has
 * no MBR (not a geometry blob) or absurd coordinates get no entry, as
 * SpatiaLite's own triggers (RTreeAlign) leave them out. */
static tgis_status read_boxes(rt_build *b, rt_box **boxes_out, int64_t **ids_out, size_t *n_out)
{
  tgis_ctx *ctx = b->s->base.ctx;
  sqlite3_stmt *stmt = NULL;
  rt_box *boxes = NULL;
  int64_t *ids = NULL;
  size_t n = 0, cap = 0;
  tgis_status st = TGIS_OK;
  char sql[256];
  int rc;

  snprintf(sql, sizeof sql,
           "SELECT id, MbrMinX(geom), MbrMaxX(geom), MbrMinY(geom), MbrMaxY(geom) "
           "FROM \"%s\" WHERE geom IS NOT NULL ORDER BY id", b->table);
  if (sqlite3_prepare_v2(b->s->db, sql, -1, &stmt, NULL) != SQLITE_OK)
    return rt_db_error(b, "cannot read the layer's boxes");
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    double c[4];
    int ok = 1;
    for (int k = 0; k < 4; k++) {
      ok = ok && sqlite3_column_type(stmt, k + 1) != SQLITE_NULL;
      c[k] = sqlite3_column_double(stmt, k + 1);
      ok = ok && fabs(c[k]) <= RT_COORD_MAX;  /* false for NaN too */
    }
    if (!ok || c[0] > c[1] || c[2] > c[3])
      continue;
    if (n == cap) {
      cap = cap ? cap * 2 : 4096;
      if (!grow(ctx, &boxes, &ids, cap)) {
        st = tgis__fail(ctx, TGIS_ENOMEM, "%s: %s: out of memory reading %zu boxes for the "
                        "spatial index", b->s->path, b->table, n);
        break;
      }
    }
    ids[n] = sqlite3_column_int64(stmt, 0);
    boxes[n].pos = (uint32_t)n;
    boxes[n].c[0] = round_down(c[0]);
    boxes[n].c[1] = round_up(c[1]);
    boxes[n].c[2] = round_down(c[2]);
    boxes[n].c[3] = round_up(c[3]);
    n++;
  }
  if (st == TGIS_OK && rc != SQLITE_DONE)
    st = rt_db_error(b, "cannot read the layer's boxes");
  sqlite3_finalize(stmt);
  *boxes_out = boxes;
  *ids_out = ids;
  *n_out = n;
  return st;
}

static tgis_status prepare_writers(rt_build *b)
{
  char sql[4][1536];
  sqlite3_stmt **slot[4] = { &b->put_node, &b->put_rowid, &b->put_rowids, &b->put_parent };
  size_t len;
  snprintf(sql[0], sizeof sql[0], "INSERT INTO \"%s_node\"(nodeno, data) VALUES (?1, ?2)", b->idx);
  snprintf(sql[1], sizeof sql[1], "INSERT INTO \"%s_rowid\"(rowid, nodeno) VALUES (?1, ?2)",
           b->idx);
  len = (size_t)snprintf(sql[2], sizeof sql[2], "INSERT INTO \"%s_rowid\"(rowid, nodeno) VALUES "
                         "(?,?)", b->idx);
  for (int k = 1; k < RT_BATCH && len + 7 < sizeof sql[2]; k++)
    len += (size_t)snprintf(sql[2] + len, sizeof sql[2] - len, ",(?,?)");
  snprintf(sql[3], sizeof sql[3],
           "INSERT INTO \"%s_parent\"(nodeno, parentnode) VALUES (?1, ?2)", b->idx);
  for (int i = 0; i < 4; i++)
    if (sqlite3_prepare_v2(b->s->db, sql[i], -1, slot[i], NULL) != SQLITE_OK)
      return rt_db_error(b, "cannot prepare the spatial index writes");
  return TGIS_OK;
}

static tgis_status exec_sql(rt_build *b, const char *sql, const char *what)
{
  if (sqlite3_exec(b->s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
    return rt_db_error(b, what);
  return TGIS_OK;
}

/* ---- entry point ---------------------------------------------------------------- */

tgis_status tgis_sl__rtree_rebuild(sl_store *s, tgis_layer layer)
{
  tgis_ctx *ctx = s->base.ctx;
  rt_build b;
  rt_box *boxes = NULL, *upper = NULL;
  int64_t *ids = NULL;
  size_t n = 0, n_upper = 0;
  int depth = 0, in_savepoint = 0;
  char sql[384];
  tgis_status st;

  memset(&b, 0, sizeof b);
  b.s = s;
  b.table = tgis_layer_name(layer);
  snprintf(b.idx, sizeof b.idx, "idx_%s_geom", b.table);
  if ((st = read_node_size(&b)) != TGIS_OK ||
      (st = read_boxes(&b, &boxes, &ids, &n)) != TGIS_OK)
    goto done;

  depth = plan_levels(n, b.cap - RT_LEAF_SLACK, b.cap, &n_upper);
  b.ids = ids;
  b.buf = tgis__malloc(ctx, (size_t)b.node_size);
  b.leaf_of = tgis__malloc(ctx, n * sizeof *b.leaf_of);
  upper = tgis__malloc(ctx, n_upper * sizeof *upper);
  if (!b.buf || !b.leaf_of || !upper) {
    st = tgis__fail(ctx, TGIS_ENOMEM, "%s: %s: out of memory packing the spatial index",
                    s->path, b.table);
    goto done;
  }
  if ((st = prepare_writers(&b)) != TGIS_OK)
    goto done;

  if ((st = exec_sql(&b, "SAVEPOINT tgis_rtree", "cannot open a savepoint")) != TGIS_OK)
    goto done;
  in_savepoint = 1;
  snprintf(sql, sizeof sql, "DELETE FROM \"%s_node\"; DELETE FROM \"%s_rowid\"; "
           "DELETE FROM \"%s_parent\"", b.idx, b.idx, b.idx);
  if ((st = exec_sql(&b, sql, "cannot empty the spatial index")) != TGIS_OK ||
      (st = write_tree(&b, boxes, n, upper, depth)) != TGIS_OK ||
      (st = exec_sql(&b, "RELEASE tgis_rtree", "cannot release the savepoint")) != TGIS_OK)
    goto done;
  in_savepoint = 0;
  tgis__log(ctx, TGIS_LOG_DEBUG, "%s: packed the spatial index: %zu boxes, %lld nodes, depth %d",
            b.table, n, (long long)b.next_node - 1, depth);

done:
  sqlite3_finalize(b.put_node);
  sqlite3_finalize(b.put_rowid);
  sqlite3_finalize(b.put_rowids);
  sqlite3_finalize(b.put_parent);
  if (in_savepoint) {
    /* Leave the index as it was; the error already set is the one to keep. */
    sqlite3_exec(s->db, "ROLLBACK TO tgis_rtree; RELEASE tgis_rtree", NULL, NULL, NULL);
  }
  tgis__free(ctx, upper);
  tgis__free(ctx, b.leaf_of);
  tgis__free(ctx, b.buf);
  tgis__free(ctx, ids);
  tgis__free(ctx, boxes);
  return st;
}
