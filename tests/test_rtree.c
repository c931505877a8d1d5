/*
 * test_rtree.c -- the packed R-tree: the shadow tables it writes are the
 * ones SQLite's rtree module would read, window queries find what a brute
 * force over the layer finds, SpatiaLite's triggers keep working on it, and
 * the store packs only when a run wrote a large part of a layer.
 *
 * Set TGIS_RTREE_BENCH=1 (or a number of boxes) to time packing a million
 * boxes against the module's INSERT ... SELECT (test_rtree__bench_million).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <sqlite3.h>
#include <spatialite.h>

#include "store_spatialite_int.h"
#include "layers.h"
#include "harness.h"

#define NODE_BYTES 1228  /* 4 + 51 cells of 24 bytes: SQLite's 2-D node */
#define NODE_CELLS 51
#define LEAF_CELLS 46    /* packed leaves: 90% */

/* Stop the test when a helper failed (helpers ASSERT and return). */
#define CHECK(call)                \
  do {                             \
    call;                          \
    if (harness_cur_failed)        \
      return;                      \
  } while (0)

/* ---- boxes ---------------------------------------------------------------- */

typedef struct box {
  double x0, y0, x1, y1;
  int alive;
} box;

/* The layer's rows by id: boxes[id]. */
typedef struct boxset {
  box *b;
  int64_t n_ids;          /* ids 1..n_ids-1 used */
  int64_t cap;
} boxset;

static uint64_t rng = 88172645463325252ull;

static double rnd(void)
{
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (double)(rng >> 11) / 9007199254740992.0;
}

/* A box: mostly Tashkent in UTM 42N with fractional metres; some near the
 * origin with negative coordinates (the other rounding branch); widths from
 * a millimetre (one float32 step at these magnitudes) to a kilometre. */
static int uniform_boxes;  /* instead: 1..10 m boxes over a 10 km square */

static box random_box(void)
{
  box b;
  double w, h, r = rnd();
  if (uniform_boxes) {
    b.x0 = 500000 + rnd() * 10000;
    b.y0 = 4560000 + rnd() * 10000;
    b.x1 = b.x0 + 1 + rnd() * 9;
    b.y1 = b.y0 + 1 + rnd() * 9;
    b.alive = 1;
    return b;
  }
  if (r < 0.85) {
    b.x0 = 480000 + rnd() * 60000;
    b.y0 = 4560000 + rnd() * 40000;
  } else {
    b.x0 = -3000 + rnd() * 6000;
    b.y0 = -3000 + rnd() * 6000;
  }
  r = rnd();
  w = r < 0.1 ? 0.001 : r < 0.9 ? 1 + rnd() * 60 : rnd() * 1000;
  h = r < 0.1 ? 0.001 : r < 0.9 ? 1 + rnd() * 60 : rnd() * 1000;
  b.x1 = b.x0 + w + 0.001;
  b.y1 = b.y0 + h + 0.001;
  b.alive = 1;
  return b;
}

static void set_init(boxset *s)
{
  s->b = NULL;
  s->n_ids = 1;
  s->cap = 0;
}

static void set_put(boxset *s, int64_t id, box b)
{
  if (id >= s->cap) {
    int64_t cap = s->cap ? s->cap : 1024;
    while (cap <= id)
      cap *= 2;
    s->b = realloc(s->b, (size_t)cap * sizeof *s->b);
    memset(s->b + s->cap, 0, (size_t)(cap - s->cap) * sizeof *s->b);
    s->cap = cap;
  }
  s->b[id] = b;
  if (id >= s->n_ids)
    s->n_ids = id + 1;
}

static int64_t set_alive(const boxset *s)
{
  int64_t n = 0;
  for (int64_t i = 1; i < s->n_ids; i++)
    n += s->b[i].alive;
  return n;
}

/* ---- databases ------------------------------------------------------------ */

typedef struct log_capture {
  int packed;             /* "packed the spatial index" lines */
} log_capture;

static void capture_log(tgis_log_level level, const char *msg, void *payload)
{
  log_capture *c = payload;
  (void)level;
  if (strstr(msg, "packed the spatial index"))
    c->packed++;
}

static tgis_status open_db(tgis_ctx **ctx, const char *name, const tgis_allocator *a,
                           log_capture *cap)
{
  char path[512];
  tgis_options o = TGIS_OPTIONS_INIT;
  harness_path(path, sizeof path, name);
  remove(path);
  o.flags = TGIS_OPEN_CREATE;
  o.allocator = a;
  if (cap) {
    o.log_fn = capture_log;
    o.log_payload = cap;
    o.log_level = TGIS_LOG_DEBUG;
  }
  return tgis_open(ctx, path, &o);
}

static sl_store *store_of(tgis_ctx *ctx) { return (sl_store *)tgis__store(ctx); }
static sqlite3 *db_of(tgis_ctx *ctx) { return store_of(ctx)->db; }

static int64_t q_int(sqlite3 *db, const char *sql)
{
  sqlite3_stmt *s;
  int64_t v = -12345;
  if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
    v = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  return v;
}

static void q_text(sqlite3 *db, const char *sql, char *out, size_t n)
{
  sqlite3_stmt *s;
  out[0] = '\0';
  if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW &&
      sqlite3_column_text(s, 0))
    snprintf(out, n, "%s", (const char *)sqlite3_column_text(s, 0));
  else
    snprintf(out, n, "(error: %s)", sqlite3_errmsg(db));
  sqlite3_finalize(s);
}

/* Insert n random parcels with plain SQL on `db` (triggers as they are);
 * their boxes go into the set. */
static void insert_rows(sqlite3 *db, boxset *set, int64_t n)
{
  sqlite3_stmt *s = NULL;
  static int64_t serial;
  ASSERT_EQ(sqlite3_prepare_v2(db,
      "INSERT INTO parcels(ext_id, land_use, geom) VALUES (?1, 'residential', "
      "CastToMultiPolygon(BuildMbr(?2, ?3, ?4, ?5, 32642)))", -1, &s, NULL), SQLITE_OK);
  for (int64_t i = 0; i < n; i++) {
    char ext[32];
    box b = random_box();
    snprintf(ext, sizeof ext, "e%lld", (long long)++serial);
    sqlite3_bind_text(s, 1, ext, -1, SQLITE_TRANSIENT);
    sqlite3_bind_double(s, 2, b.x0);
    sqlite3_bind_double(s, 3, b.y0);
    sqlite3_bind_double(s, 4, b.x1);
    sqlite3_bind_double(s, 5, b.y1);
    if (sqlite3_step(s) != SQLITE_DONE) {
      HARNESS_FAIL("insert: %s", sqlite3_errmsg(db));
      break;
    }
    sqlite3_reset(s);
    set_put(set, sqlite3_last_insert_rowid(db), b);
  }
  sqlite3_finalize(s);
}

/* Delete every k-th live row with plain SQL (triggers as they are). */
static void delete_rows(sqlite3 *db, boxset *set, int k)
{
  sqlite3_stmt *s = NULL;
  int i = 0;
  ASSERT_EQ(sqlite3_prepare_v2(db, "DELETE FROM parcels WHERE id = ?1", -1, &s, NULL), SQLITE_OK);
  for (int64_t id = 1; id < set->n_ids; id++) {
    if (!set->b[id].alive || ++i % k)
      continue;
    sqlite3_bind_int64(s, 1, id);
    if (sqlite3_step(s) != SQLITE_DONE) {
      HARNESS_FAIL("delete: %s", sqlite3_errmsg(db));
      break;
    }
    sqlite3_reset(s);
    set->b[id].alive = 0;
  }
  sqlite3_finalize(s);
}

/* Move every k-th live row somewhere else (an UPDATE through the triggers). */
static void move_rows(sqlite3 *db, boxset *set, int k)
{
  sqlite3_stmt *s = NULL;
  int i = 0;
  ASSERT_EQ(sqlite3_prepare_v2(db, "UPDATE parcels SET geom = "
      "CastToMultiPolygon(BuildMbr(?2, ?3, ?4, ?5, 32642)) WHERE id = ?1", -1, &s, NULL),
      SQLITE_OK);
  for (int64_t id = 1; id < set->n_ids; id++) {
    box b;
    if (!set->b[id].alive || ++i % k)
      continue;
    b = random_box();
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_double(s, 2, b.x0);
    sqlite3_bind_double(s, 3, b.y0);
    sqlite3_bind_double(s, 4, b.x1);
    sqlite3_bind_double(s, 5, b.y1);
    if (sqlite3_step(s) != SQLITE_DONE) {
      HARNESS_FAIL("update: %s", sqlite3_errmsg(db));
      break;
    }
    sqlite3_reset(s);
    set->b[id] = b;
  }
  sqlite3_finalize(s);
}

/* n rows without the triggers (as an import writes them), then the packed
 * index, in one transaction. */
static void load_packed(tgis_ctx *ctx, boxset *set, int64_t n)
{
  tgis_store *st = tgis__store(ctx);
  ASSERT_OK_CTX(ctx, tgis_store_begin(st));
  ASSERT_OK_CTX(ctx, st->vt->bulk_begin(st, TGIS_LAYER_PARCELS));
  CHECK(insert_rows(db_of(ctx), set, n));
  ASSERT_OK_CTX(ctx, tgis_sl__rtree_rebuild(store_of(ctx), TGIS_LAYER_PARCELS));
  ASSERT_OK_CTX(ctx, st->vt->bulk_end(st, TGIS_LAYER_PARCELS, 0));  /* triggers back */
  ASSERT_OK_CTX(ctx, tgis_store_commit(st));
}

/* ---- checks --------------------------------------------------------------- */

static void check_rtreecheck(sqlite3 *db)
{
  char text[512];
  q_text(db, "SELECT rtreecheck('idx_parcels_geom')", text, sizeof text);
  ASSERT_STR_EQ(text, "ok");
}

static int cmp_i64(const void *a, const void *b)
{
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

/* float32 keeps 24 bits and the module moves a rounded value one more step
 * outward: 2^-22 of the magnitude covers both. */
static double slack(double v) { return fabs(v) * (1.0 / 4194304.0) + 1e-30; }

/* For `n_windows` random windows the R-tree's answer is the brute-force
 * answer, give or take boxes within float32 rounding of the window. */
static void check_queries(sqlite3 *db, const boxset *set, int n_windows)
{
  sqlite3_stmt *q = NULL;
  int64_t *got = NULL, n_alive = set_alive(set);
  size_t cap = 0;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT pkid FROM idx_parcels_geom "
      "WHERE xmax >= ?1 AND xmin <= ?2 AND ymax >= ?3 AND ymin <= ?4", -1, &q, NULL), SQLITE_OK);
  ASSERT_EQ(q_int(db, "SELECT count(*) FROM idx_parcels_geom"), n_alive);
  for (int w = 0; w < n_windows; w++) {
    double wx0, wy0, wx1, wy1, size = w % 5 == 0 ? 0 : pow(10, rnd() * 4);
    size_t n = 0;
    int64_t exact = 0;
    if (set->n_ids > 1 && w % 2 == 0) {
      /* Around a row's corner: windows that touch boxes exactly. */
      const box *b = &set->b[1 + (int64_t)(rnd() * (double)(set->n_ids - 1))];
      wx0 = w % 4 == 0 ? b->x1 : b->x0 - size;
      wy0 = w % 4 == 0 ? b->y1 : b->y0 - size;
    } else {
      wx0 = w % 3 ? 480000 + rnd() * 60000 : -3000 + rnd() * 6000;
      wy0 = w % 3 ? 4560000 + rnd() * 40000 : -3000 + rnd() * 6000;
    }
    wx1 = wx0 + size;
    wy1 = wy0 + size * rnd();
    sqlite3_bind_double(q, 1, wx0);
    sqlite3_bind_double(q, 2, wx1);
    sqlite3_bind_double(q, 3, wy0);
    sqlite3_bind_double(q, 4, wy1);
    while (sqlite3_step(q) == SQLITE_ROW) {
      if (n == cap) {
        cap = cap ? cap * 2 : 1024;
        got = realloc(got, cap * sizeof *got);
      }
      got[n++] = sqlite3_column_int64(q, 0);
    }
    sqlite3_reset(q);
    if (n)
      qsort(got, n, sizeof *got, cmp_i64);
    for (int64_t id = 1; id < set->n_ids; id++) {
      const box *b = &set->b[id];
      if (b->alive && b->x1 >= wx0 && b->x0 <= wx1 && b->y1 >= wy0 && b->y0 <= wy1) {
        exact++;
        if (!n || !bsearch(&id, got, n, sizeof *got, cmp_i64)) {
          HARNESS_FAIL("window %d: row %lld missing", w, (long long)id);
          goto out;
        }
      }
    }
    for (size_t i = 0; i < n; i++) {
      const box *b;
      if (got[i] <= 0 || got[i] >= set->n_ids || !set->b[got[i]].alive ||
          (i && got[i] == got[i - 1])) {
        HARNESS_FAIL("window %d: row %lld is no live row or twice", w, (long long)got[i]);
        goto out;
      }
      b = &set->b[got[i]];
      if (!(b->x1 + slack(b->x1) >= wx0 && b->x0 - slack(b->x0) <= wx1 &&
            b->y1 + slack(b->y1) >= wy0 && b->y0 - slack(b->y0) <= wy1)) {
        HARNESS_FAIL("window %d: row %lld lies outside", w, (long long)got[i]);
        goto out;
      }
    }
    if ((int64_t)n < exact) {
      HARNESS_FAIL("window %d: %zu found, %lld expected", w, n, (long long)exact);
      goto out;
    }
  }
out:
  free(got);
  sqlite3_finalize(q);
}

/* Nodes of a packed tree of n boxes: leaves of 46 cells (90%), inner
 * nodes and the root of up to 51. */
static int64_t packed_nodes(int64_t n, int *depth)
{
  int64_t nodes = 1;
  *depth = 0;
  while (n > NODE_CELLS) {
    int64_t cap = *depth ? NODE_CELLS : LEAF_CELLS;
    n = (n + cap - 1) / cap;
    nodes += n;
    ++*depth;
  }
  return nodes;
}

static uint32_t be16(const unsigned char *p) { return (uint32_t)p[0] << 8 | p[1]; }

/* Every node blob as SQLite lays it out: full size, header, cells in
 * range, zero tail, leaves and inner nodes at the right depth. */
static void check_node_blobs(sqlite3 *db, int64_t n_boxes)
{
  sqlite3_stmt *s = NULL;
  int depth, root_depth = -1;
  int64_t nodes = 0, cells = 0, expect = packed_nodes(n_boxes, &depth);
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT nodeno, data FROM idx_parcels_geom_node "
                                   "ORDER BY nodeno", -1, &s, NULL), SQLITE_OK);
  while (sqlite3_step(s) == SQLITE_ROW) {
    const unsigned char *p = sqlite3_column_blob(s, 1);
    int64_t nodeno = sqlite3_column_int64(s, 0);
    int len = sqlite3_column_bytes(s, 1);
    uint32_t n;
    if (len != NODE_BYTES) {
      HARNESS_FAIL("node %lld has %d bytes", (long long)nodeno, len);
      break;
    }
    n = be16(p + 2);
    if (nodeno == 1)
      root_depth = (int)be16(p);
    else if (be16(p) != 0 || n < NODE_CELLS / 3) {
      HARNESS_FAIL("node %lld: depth field %u, %u cells", (long long)nodeno, be16(p), n);
      break;
    }
    for (int i = 4 + 24 * (int)n; i < len; i++)
      if (p[i]) {
        HARNESS_FAIL("node %lld: byte %d of the unused tail is not zero", (long long)nodeno, i);
        goto out;
      }
    if (n > NODE_CELLS) {
      HARNESS_FAIL("node %lld: %u cells", (long long)nodeno, n);
      break;
    }
    nodes++;
    cells += n;
  }
  ASSERT_EQ(root_depth, depth);
  ASSERT_EQ(nodes, expect);
  ASSERT_EQ(cells, n_boxes + nodes - 1);  /* a cell per box and per non-root node */
  ASSERT_EQ(q_int(db, "SELECT count(*) FROM idx_parcels_geom_rowid"), n_boxes);
  ASSERT_EQ(q_int(db, "SELECT count(*) FROM idx_parcels_geom_parent"), nodes - 1);
out:
  sqlite3_finalize(s);
}

/* FNV-1a over the three shadow tables in key order. */
static uint64_t shadow_hash(sqlite3 *db)
{
  static const char *const sql[] = {
    "SELECT nodeno, data FROM idx_parcels_geom_node ORDER BY nodeno",
    "SELECT rowid, nodeno FROM idx_parcels_geom_rowid ORDER BY rowid",
    "SELECT nodeno, parentnode FROM idx_parcels_geom_parent ORDER BY nodeno",
  };
  uint64_t h = 14695981039346656037ull;
  for (int t = 0; t < 3; t++) {
    sqlite3_stmt *s = NULL;
    sqlite3_prepare_v2(db, sql[t], -1, &s, NULL);
    while (sqlite3_step(s) == SQLITE_ROW) {
      int64_t k = sqlite3_column_int64(s, 0);
      const unsigned char *p = (const unsigned char *)&k;
      int n = 8;
      for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < n; i++)
          h = (h ^ p[i]) * 1099511628211ull;
        if (sqlite3_column_type(s, 1) == SQLITE_BLOB) {
          p = sqlite3_column_blob(s, 1);
          n = sqlite3_column_bytes(s, 1);
        } else {
          k = sqlite3_column_int64(s, 1);
          p = (const unsigned char *)&k;
          n = 8;
        }
      }
    }
    sqlite3_finalize(s);
    h = (h ^ 0xff) * 1099511628211ull;
  }
  return h;
}

/* ---- tests -------------------------------------------------------------------- */

/* What the module made at creation: one root of 1228 zero bytes (page size
 * 4096 less 64 would be 4032, but 2-D nodes are capped at 51 cells), no
 * auxiliary columns. The packed tree of nothing is the same root. */
static void test_rtree__format_is_what_sqlite_creates(void)
{
  tgis_ctx *ctx = NULL;
  char text[512];
  sqlite3 *db;

  ASSERT_OK_CTX(ctx, open_db(&ctx, "format.sqlite", NULL, NULL));
  db = db_of(ctx);
  ASSERT_EQ(q_int(db, "PRAGMA page_size"), 4096);
  q_text(db, "SELECT sql FROM sqlite_master WHERE name = 'idx_parcels_geom'", text, sizeof text);
  ASSERT_STR_EQ(text, "CREATE VIRTUAL TABLE \"idx_parcels_geom\" USING rtree(pkid, xmin, xmax, "
                      "ymin, ymax)");
  q_text(db, "SELECT sql FROM sqlite_master WHERE name = 'idx_parcels_geom_rowid'", text,
         sizeof text);
  ASSERT_STR_EQ(text, "CREATE TABLE \"idx_parcels_geom_rowid\"(rowid INTEGER PRIMARY KEY,nodeno)");
  ASSERT_EQ(q_int(db, "SELECT count(*) FROM idx_parcels_geom_node"), 1);
  ASSERT_EQ(q_int(db, "SELECT data = zeroblob(1228) FROM idx_parcels_geom_node WHERE nodeno = 1"),
            1);

  ASSERT_OK_CTX(ctx, tgis_store_begin(tgis__store(ctx)));
  ASSERT_OK_CTX(ctx, tgis_sl__rtree_rebuild(store_of(ctx), TGIS_LAYER_PARCELS));
  ASSERT_OK_CTX(ctx, tgis_store_commit(tgis__store(ctx)));
  ASSERT_EQ(q_int(db, "SELECT count(*) FROM idx_parcels_geom_node"), 1);
  ASSERT_EQ(q_int(db, "SELECT data = zeroblob(1228) FROM idx_parcels_geom_node WHERE nodeno = 1"),
            1);
  CHECK(check_rtreecheck(db));
  tgis_close(ctx);
}

/* Around every capacity edge (51 cells a node, 46 in a packed leaf, 2346
 * boxes in one level of packed leaves under the root):
 * rtreecheck passes, the layout is packed, queries agree with brute force. */
static void test_rtree__sizes_agree_with_brute_force(void)
{
  static const int64_t sizes[] = {
    0, 1, 46, 47, 50, 51, 52, 166, 167, 168, 2346, 2347, 5000, 100000
  };
  for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
    tgis_ctx *ctx = NULL;
    char name[64];
    boxset set;
    set_init(&set);
    snprintf(name, sizeof name, "sizes-%lld.sqlite", (long long)sizes[i]);
    ASSERT_OK_CTX(ctx, open_db(&ctx, name, NULL, NULL));
    load_packed(ctx, &set, sizes[i]);
    if (!harness_cur_failed)
      check_rtreecheck(db_of(ctx));
    if (!harness_cur_failed)
      check_node_blobs(db_of(ctx), sizes[i]);
    if (!harness_cur_failed)
      check_queries(db_of(ctx), &set, sizes[i] > 10000 ? 300 : 150);
    tgis_close(ctx);
    free(set.b);
    if (harness_cur_failed) {
      fprintf(stderr, "  (with %lld boxes)\n", (long long)sizes[i]);
      return;
    }
  }
}

/* The leaves hold the very floats the module stores for each row: the same
 * outward rounding, bit for bit, as its own INSERT ... SELECT. */
static void test_rtree__leaves_match_the_modules_rounding(void)
{
  tgis_ctx *ctx = NULL;
  sqlite3_stmt *s = NULL;
  double *before = NULL;
  int64_t n = 3000, i = 0;
  boxset set;
  sqlite3 *db;

  set_init(&set);
  ASSERT_OK_CTX(ctx, open_db(&ctx, "rounding.sqlite", NULL, NULL));
  db = db_of(ctx);
  ASSERT_OK_CTX(ctx, tgis_store_begin(tgis__store(ctx)));
  CHECK(insert_rows(db, &set, n));  /* through the triggers (RTreeAlign) */
  ASSERT_EQ(sqlite3_exec(db, "DELETE FROM idx_parcels_geom; INSERT INTO idx_parcels_geom "
      "(pkid, xmin, xmax, ymin, ymax) SELECT id, MbrMinX(geom), MbrMaxX(geom), MbrMinY(geom), "
      "MbrMaxY(geom) FROM parcels", NULL, NULL, NULL), SQLITE_OK);
  before = malloc((size_t)n * 5 * sizeof *before);
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT pkid, xmin, xmax, ymin, ymax FROM idx_parcels_geom "
                                   "ORDER BY pkid", -1, &s, NULL), SQLITE_OK);
  while (sqlite3_step(s) == SQLITE_ROW && i < n) {
    for (int k = 0; k < 5; k++)
      before[5 * i + k] = sqlite3_column_double(s, k);
    i++;
  }
  sqlite3_reset(s);
  ASSERT_EQ(i, n);
  ASSERT_OK_CTX(ctx, tgis_sl__rtree_rebuild(store_of(ctx), TGIS_LAYER_PARCELS));
  i = 0;
  while (sqlite3_step(s) == SQLITE_ROW && i < n) {
    for (int k = 0; k < 5; k++)
      if (memcmp(&before[5 * i + k], &(double){ sqlite3_column_double(s, k) }, sizeof(double))) {
        HARNESS_FAIL("row %lld column %d: %.17g inserted, %.17g packed", (long long)before[5 * i],
                     k, before[5 * i + k], sqlite3_column_double(s, k));
        i = n + 1;
        break;
      }
    i++;
  }
  sqlite3_finalize(s);
  free(before);
  free(set.b);
  ASSERT_EQ(i, n);
  ASSERT_OK_CTX(ctx, tgis_store_commit(tgis__store(ctx)));
  tgis_close(ctx);
}

/* After a packed rebuild SpatiaLite's own triggers insert, move and delete
 * rows (from another connection) and the tree stays right. */
static void test_rtree__triggers_keep_a_packed_tree_right(void)
{
  tgis_ctx *ctx = NULL;
  sqlite3 *raw = NULL;
  void *cache;
  char path[512];
  boxset set;

  set_init(&set);
  ASSERT_OK_CTX(ctx, open_db(&ctx, "triggers.sqlite", NULL, NULL));
  load_packed(ctx, &set, 20000);
  tgis_close(ctx);
  if (harness_cur_failed)
    return;

  harness_path(path, sizeof path, "triggers.sqlite");
  ASSERT_EQ(sqlite3_open(path, &raw), SQLITE_OK);
  cache = spatialite_alloc_connection();
  spatialite_init_ex(raw, cache, 0);
  sqlite3_exec(raw, "BEGIN", NULL, NULL, NULL);
  insert_rows(raw, &set, 3000);
  if (!harness_cur_failed)
    delete_rows(raw, &set, 3);
  if (!harness_cur_failed)
    move_rows(raw, &set, 10);
  sqlite3_exec(raw, "COMMIT", NULL, NULL, NULL);
  if (!harness_cur_failed)
    check_rtreecheck(raw);
  if (!harness_cur_failed)
    check_queries(raw, &set, 200);
  sqlite3_close(raw);
  spatialite_cleanup_ex(cache);
  free(set.b);
}

/* The connection that rebuilds may have used the index earlier in the same
 * transaction (triggers, queries, a replace's DELETE); it must see the new
 * tree at once, and keep it right with more writes before the commit. */
static void test_rtree__same_transaction_sees_the_new_tree(void)
{
  tgis_ctx *ctx = NULL;
  tgis_store *st;
  boxset set;
  sqlite3 *db;

  set_init(&set);
  ASSERT_OK_CTX(ctx, open_db(&ctx, "sametx.sqlite", NULL, NULL));
  st = tgis__store(ctx);
  db = db_of(ctx);
  ASSERT_OK_CTX(ctx, tgis_store_begin(st));
  CHECK(insert_rows(db, &set, 4000));     /* the module writes nodes */
  CHECK(check_queries(db, &set, 20));     /* and reads them */
  CHECK(delete_rows(db, &set, 4));
  ASSERT_OK_CTX(ctx, tgis_sl__rtree_rebuild(store_of(ctx), TGIS_LAYER_PARCELS));
  CHECK(check_queries(db, &set, 100));
  CHECK(insert_rows(db, &set, 1500));
  CHECK(delete_rows(db, &set, 5));
  CHECK(move_rows(db, &set, 7));
  CHECK(check_rtreecheck(db));
  CHECK(check_queries(db, &set, 100));
  ASSERT_OK_CTX(ctx, tgis_sl__rtree_rebuild(store_of(ctx), TGIS_LAYER_PARCELS));
  CHECK(check_node_blobs(db, set_alive(&set)));
  CHECK(insert_rows(db, &set, 100));
  ASSERT_OK_CTX(ctx, tgis_store_commit(st));
  CHECK(check_rtreecheck(db));
  CHECK(check_queries(db, &set, 100));
  tgis_close(ctx);
  free(set.b);
}

/* Packing is a function of the layer's rows: twice gives the same bytes. */
static void test_rtree__rebuilding_twice_gives_the_same_tree(void)
{
  tgis_ctx *ctx = NULL;
  uint64_t h1, h2;
  boxset set;

  set_init(&set);
  ASSERT_OK_CTX(ctx, open_db(&ctx, "twice.sqlite", NULL, NULL));
  load_packed(ctx, &set, 7000);
  free(set.b);
  if (harness_cur_failed)
    return;
  h1 = shadow_hash(db_of(ctx));
  ASSERT_OK_CTX(ctx, tgis_store_begin(tgis__store(ctx)));
  ASSERT_OK_CTX(ctx, tgis_sl__rtree_rebuild(store_of(ctx), TGIS_LAYER_PARCELS));
  ASSERT_OK_CTX(ctx, tgis_store_commit(tgis__store(ctx)));
  h2 = shadow_hash(db_of(ctx));
  ASSERT(h1 == h2);
  tgis_close(ctx);
}

/* An allocator that fails the Nth allocation (0: none) and counts what is
 * live, as in test_ctx.c. */
typedef struct fault_alloc {
  int fail_at, calls, live;
} fault_alloc;

static void *fa_malloc(size_t n, void *payload)
{
  fault_alloc *f = payload;
  if (++f->calls == f->fail_at)
    return NULL;
  f->live++;
  return malloc(n);
}

static void *fa_realloc(void *p, size_t n, void *payload)
{
  fault_alloc *f = payload;
  if (++f->calls == f->fail_at)
    return NULL;
  if (!p)
    f->live++;
  return realloc(p, n);
}

static void fa_free(void *p, void *payload)
{
  fault_alloc *f = payload;
  if (p)
    f->live--;
  free(p);
}

/* Allocation N fails for N = 1, 2, ... until the rebuild succeeds: each
 * failure is TGIS_ENOMEM naming file and layer, leaks nothing, leaves the
 * index as it was and the transaction open for more work or a rollback. */
static void test_rtree__allocation_failure_is_enomem_and_changes_nothing(void)
{
  fault_alloc fa = { 0, 0, 0 };
  tgis_allocator a = { fa_malloc, fa_realloc, fa_free, &fa };
  tgis_ctx *ctx = NULL;
  tgis_store *st;
  uint64_t h0;
  int n, failures = 0;
  boxset set;
  sqlite3 *db;

  set_init(&set);
  ASSERT_OK_CTX(ctx, open_db(&ctx, "oom.sqlite", &a, NULL));
  st = tgis__store(ctx);
  db = db_of(ctx);
  load_packed(ctx, &set, 9000);  /* more than one growth of the box array */
  if (harness_cur_failed)
    return;
  h0 = shadow_hash(db);
  ASSERT_OK_CTX(ctx, tgis_store_begin(st));
  CHECK(insert_rows(db, &set, 10));  /* so a successful rebuild differs */
  for (n = 1; n < 50; n++) {
    int live = fa.live;
    tgis_status s;
    fa.fail_at = fa.calls + n;
    s = tgis_sl__rtree_rebuild(store_of(ctx), TGIS_LAYER_PARCELS);
    fa.fail_at = 0;
    ASSERT_EQ(fa.live, live);
    if (s == TGIS_OK)
      break;
    failures++;
    ASSERT_EQ(s, TGIS_ENOMEM);
    ASSERT_CONTAINS(tgis_errmsg(ctx), "oom.sqlite: parcels: out of memory");
    /* Still the tree of before plus the ten rows the triggers added. */
    CHECK(check_rtreecheck(db));
    ASSERT_EQ(q_int(db, "SELECT count(*) FROM idx_parcels_geom_rowid"), 9010);
  }
  ASSERT(failures >= 3);  /* the box array twice, the node buffer, the levels */
  CHECK(check_rtreecheck(db));
  CHECK(check_node_blobs(db, 9010));
  ASSERT(shadow_hash(db) != h0);
  CHECK(insert_rows(db, &set, 5));
  ASSERT_OK_CTX(ctx, tgis_store_rollback(st));
  ASSERT(shadow_hash(db) == h0);
  ASSERT_EQ(q_int(db, "SELECT count(*) FROM parcels"), 9000);
  tgis_close(ctx);
  ASSERT_EQ(fa.live, 0);
  free(set.b);
}

/* A broken index is a database error naming the file and the layer. */
static void test_rtree__missing_root_is_edb_naming_file_and_layer(void)
{
  tgis_ctx *ctx = NULL;

  ASSERT_OK_CTX(ctx, open_db(&ctx, "noroot.sqlite", NULL, NULL));
  ASSERT_OK_CTX(ctx, tgis_store_begin(tgis__store(ctx)));
  ASSERT_EQ(sqlite3_exec(db_of(ctx), "DELETE FROM idx_roads_geom_node", NULL, NULL, NULL),
            SQLITE_OK);
  ASSERT_EQ(tgis_sl__rtree_rebuild(store_of(ctx), TGIS_LAYER_ROADS), TGIS_EDB);
  ASSERT_CONTAINS(tgis_errmsg(ctx), "noroot.sqlite: roads: the spatial index has no valid root");
  ASSERT_OK_CTX(ctx, tgis_store_rollback(tgis__store(ctx)));
  ASSERT_EQ(q_int(db_of(ctx), "SELECT count(*) FROM idx_roads_geom_node"), 1);
  tgis_close(ctx);
}

static float be_float(const unsigned char *p)
{
  uint32_t u = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
  float f;
  memcpy(&f, &u, sizeof f);
  return f;
}

/* STR's tiles: over evenly spread boxes the leaves are near-square tiles,
 * so their perimeters add up to about 4 a sqrt(P) for P leaves over a
 * square of side a -- where leaves cut in one direction only (strips) add
 * up to 2 a P. */
static void test_rtree__leaves_tile_the_plane(void)
{
  tgis_ctx *ctx = NULL;
  sqlite3_stmt *s = NULL;
  double margins = 0, a = 10000;
  int64_t leaves = 0;
  boxset set;

  set_init(&set);
  uniform_boxes = 1;
  ASSERT_OK_CTX(ctx, open_db(&ctx, "tiles.sqlite", NULL, NULL));
  load_packed(ctx, &set, 50000);
  uniform_boxes = 0;
  free(set.b);
  if (harness_cur_failed)
    return;
  ASSERT_EQ(sqlite3_prepare_v2(db_of(ctx), "SELECT data FROM idx_parcels_geom_node WHERE nodeno "
      "IN (SELECT nodeno FROM idx_parcels_geom_rowid)", -1, &s, NULL), SQLITE_OK);
  while (sqlite3_step(s) == SQLITE_ROW) {
    const unsigned char *p = sqlite3_column_blob(s, 0);
    float x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
    for (uint32_t i = 0, n = be16(p + 2); i < n; i++) {
      const unsigned char *c = p + 4 + 24 * i + 8;
      x0 = fminf(x0, be_float(c));
      x1 = fmaxf(x1, be_float(c + 4));
      y0 = fminf(y0, be_float(c + 8));
      y1 = fmaxf(y1, be_float(c + 12));
    }
    margins += 2.0 * ((x1 - x0) + (y1 - y0));
    leaves++;
  }
  sqlite3_finalize(s);
  ASSERT_EQ(leaves, (50000 + LEAF_CELLS - 1) / LEAF_CELLS);
  ASSERT(margins < 1.5 * 4 * a * sqrt((double)leaves));
  tgis_close(ctx);
}

enum { APPEND, UPSERT, REPLACE };

/* One run through the store's bulk API: n parcels named prefix<i * stride>,
 * appended, upserted (the names exist: updates) or replacing the layer. */
static void bulk_run(tgis_ctx *ctx, boxset *set, int n, const char *prefix, int stride, int mode)
{
  static const char *const modes[] = { "append", "upsert", "replace" };
  tgis_store *st = tgis__store(ctx);
  const tgis_layer_def *def = tgis_layer__def(TGIS_LAYER_PARCELS);
  tgis_run_desc d = { "test", TGIS_LAYER_PARCELS, modes[mode] };
  tgis_run_counts counts = { n, n, 0, 0, 0 };
  tgis_value v[TGIS_MAX_FIELDS];
  tgis_write_result res;
  tgis_geombuf g;
  int64_t run;
  char ext[32];

  tgis_geombuf_init(&g, ctx);
  memset(v, 0, sizeof v);
  for (int i = 0; i < def->n_fields; i++)
    v[i].is_null = 1;
  v[tgis_layer__field(def, "ext_id")] = (tgis_value){ 0, 0, 0, ext };
  v[tgis_layer__field(def, "land_use")] = (tgis_value){ 0, 0, 0, "residential" };
  v[tgis_layer__field(def, "area_m2")] = (tgis_value){ 0, 0, 100, NULL };
  v[tgis_layer__field(def, "residents")] = (tgis_value){ 0, 0, 0, NULL };
  ASSERT_OK_CTX(ctx, tgis_store_begin(st));
  ASSERT_OK_CTX(ctx, st->vt->run_open(st, &d, &run));
  ASSERT_OK_CTX(ctx, st->vt->bulk_begin(st, TGIS_LAYER_PARCELS));
  if (mode == REPLACE) {
    ASSERT_OK_CTX(ctx, st->vt->layer_clear(st, TGIS_LAYER_PARCELS));
    for (int64_t id = 1; id < set->n_ids; id++)
      set->b[id].alive = 0;
  }
  for (int i = 0; i < n; i++) {
    box b = random_box();
    snprintf(ext, sizeof ext, "%s%d", prefix, i * stride);
    tgis_geombuf_reset(&g, TGIS_GEOM_MULTIPOLYGON);
    tgis_geombuf_add_point(&g, b.x0, b.y0);
    tgis_geombuf_add_point(&g, b.x1, b.y0);
    tgis_geombuf_add_point(&g, b.x1, b.y1);
    tgis_geombuf_add_point(&g, b.x0, b.y1);
    tgis_geombuf_add_point(&g, b.x0, b.y0);
    tgis_geombuf_end_part(&g);
    tgis_geombuf_end_poly(&g);
    ASSERT_OK_CTX(ctx, st->vt->row_write(st, TGIS_LAYER_PARCELS, mode == UPSERT, run, v, &g,
                                         &res));
    ASSERT_EQ(res.outcome, mode == UPSERT ? TGIS_WRITE_UPDATED : TGIS_WRITE_INSERTED);
    set_put(set, res.id, b);
  }
  ASSERT_OK_CTX(ctx, st->vt->bulk_end(st, TGIS_LAYER_PARCELS, run));
  ASSERT_OK_CTX(ctx, st->vt->run_close(st, run, &counts, "ok", NULL));
  ASSERT_OK_CTX(ctx, tgis_store_commit(st));
  tgis_geombuf_free(&g);
}

/* After each run the tree is right: rtreecheck, queries, and the layout of
 * a packed tree when it was packed. */
static void check_after_run(sqlite3 *db, const boxset *set, int packed)
{
  if (packed)
    CHECK(check_node_blobs(db, set_alive(set)));
  CHECK(check_rtreecheck(db));
  CHECK(check_queries(db, set, 120));
}

/* bulk_end packs after a run that wrote a quarter of the layer or more --
 * new rows or updated ones, wherever their ids lie -- and inserts the run's
 * rows otherwise; the tree is right either way. */
static void test_rtree__bulk_end_packs_only_large_runs(void)
{
  log_capture cap = { 0 };
  tgis_ctx *ctx = NULL;
  int64_t nodes;
  int depth;
  boxset set;
  sqlite3 *db;

  set_init(&set);
  ASSERT_OK_CTX(ctx, open_db(&ctx, "bulk.sqlite", NULL, &cap));
  db = db_of(ctx);
  CHECK(bulk_run(ctx, &set, 12000, "a", 1, APPEND));   /* all of the layer */
  ASSERT_EQ(cap.packed, 1);
  CHECK(check_after_run(db, &set, 1));
  nodes = q_int(db, "SELECT count(*) FROM idx_parcels_geom_node");
  ASSERT_EQ(nodes, packed_nodes(12000, &depth));

  CHECK(bulk_run(ctx, &set, 300, "b", 1, APPEND));     /* 2.4%: inserted into it */
  ASSERT_EQ(cap.packed, 1);
  ASSERT(q_int(db, "SELECT count(*) FROM idx_parcels_geom_node") >= nodes);
  CHECK(check_after_run(db, &set, 0));

  CHECK(bulk_run(ctx, &set, 300, "a", 40, UPSERT));    /* moved, ids from 1 */
  ASSERT_EQ(cap.packed, 1);
  CHECK(check_after_run(db, &set, 0));

  CHECK(bulk_run(ctx, &set, 5000, "c", 1, APPEND));    /* 29%: packed */
  ASSERT_EQ(cap.packed, 2);
  CHECK(check_after_run(db, &set, 1));

  CHECK(bulk_run(ctx, &set, 6000, "a", 2, UPSERT));    /* 35%, all old ids */
  ASSERT_EQ(cap.packed, 3);
  CHECK(check_after_run(db, &set, 1));

  CHECK(bulk_run(ctx, &set, 3000, "d", 1, REPLACE));   /* all of it again */
  ASSERT_EQ(cap.packed, 4);
  CHECK(check_after_run(db, &set, 1));
  ASSERT_EQ(q_int(db, "SELECT count(*) FROM parcels"), 3000);
  tgis_close(ctx);
  free(set.b);
}

/* ---- measurement ------------------------------------------------------------- */

static double now_ms(void)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static double time_queries(sqlite3 *db, int n)
{
  sqlite3_stmt *q = NULL;
  double t0 = now_ms();
  int64_t hits = 0;
  sqlite3_prepare_v2(db, "SELECT count(*) FROM idx_parcels_geom "
      "WHERE xmax >= ?1 AND xmin <= ?2 AND ymax >= ?3 AND ymin <= ?4", -1, &q, NULL);
  for (int i = 0; i < n; i++) {
    double x = 480000 + rnd() * 60000, y = 4560000 + rnd() * 40000;
    sqlite3_bind_double(q, 1, x);
    sqlite3_bind_double(q, 2, x + 250);
    sqlite3_bind_double(q, 3, y);
    sqlite3_bind_double(q, 4, y + 250);
    if (sqlite3_step(q) == SQLITE_ROW)
      hits += sqlite3_column_int64(q, 0);
    sqlite3_reset(q);
  }
  sqlite3_finalize(q);
  (void)hits;
  return (now_ms() - t0) / n * 1e3;
}

/* Milliseconds for k rows through the triggers, kept or rolled back. */
static double time_trigger_rows(tgis_ctx *ctx, boxset *set, int64_t k, int keep)
{
  tgis_store *st = tgis__store(ctx);
  int64_t first = set->n_ids;
  double t0;
  if (tgis_store_begin(st) != TGIS_OK)
    return -1;
  t0 = now_ms();
  insert_rows(db_of(ctx), set, k);
  t0 = now_ms() - t0;
  if (keep) {
    tgis_store_commit(st);
  } else {
    tgis_store_rollback(st);
    for (int64_t id = first; id < set->n_ids; id++)
      set->b[id].alive = 0;
  }
  return t0;
}

/* A million boxes (or TGIS_RTREE_BENCH=<n>): the module's INSERT ... SELECT
 * (what bulk_end did before) against packing; the query speed of each tree
 * and the cost of trigger inserts into each. */
static void test_rtree__bench_million(void)
{
  int64_t n = atoll(getenv("TGIS_RTREE_BENCH")), k = 20000;
  tgis_ctx *ctx = NULL;
  tgis_store *st;
  double t0, t_insert, t_pack, t_read, q_insert, q_pack, k_insert, k_pack;
  boxset set;
  sqlite3 *db;

  if (n < 1000)
    n = 1000000;
  set_init(&set);
  ASSERT_OK_CTX(ctx, open_db(&ctx, "bench.sqlite", NULL, NULL));
  st = tgis__store(ctx);
  db = db_of(ctx);
  ASSERT_OK_CTX(ctx, tgis_store_begin(st));
  ASSERT_OK_CTX(ctx, st->vt->bulk_begin(st, TGIS_LAYER_PARCELS));
  CHECK(insert_rows(db, &set, n));
  ASSERT_OK_CTX(ctx, st->vt->bulk_end(st, TGIS_LAYER_PARCELS, 0));
  ASSERT_OK_CTX(ctx, tgis_store_commit(st));

  t0 = now_ms();
  ASSERT_EQ(q_int(db, "SELECT count(MbrMinX(geom) + MbrMaxX(geom) + MbrMinY(geom) + "
                      "MbrMaxY(geom)) FROM parcels"), n);
  t_read = now_ms() - t0;
  ASSERT_OK_CTX(ctx, tgis_store_begin(st));
  t0 = now_ms();
  ASSERT_EQ(sqlite3_exec(db, "INSERT OR REPLACE INTO idx_parcels_geom (pkid, xmin, xmax, ymin, "
      "ymax) SELECT id, MbrMinX(geom), MbrMaxX(geom), MbrMinY(geom), MbrMaxY(geom) FROM parcels "
      "WHERE geom IS NOT NULL", NULL, NULL, NULL), SQLITE_OK);
  t_insert = now_ms() - t0;
  ASSERT_OK_CTX(ctx, tgis_store_commit(st));
  q_insert = time_queries(db, 20000);
  k_insert = time_trigger_rows(ctx, &set, k, 0);

  ASSERT_OK_CTX(ctx, tgis_store_begin(st));
  t0 = now_ms();
  ASSERT_OK_CTX(ctx, tgis_sl__rtree_rebuild(store_of(ctx), TGIS_LAYER_PARCELS));
  t_pack = now_ms() - t0;
  ASSERT_OK_CTX(ctx, tgis_store_commit(st));
  q_pack = time_queries(db, 20000);
  k_pack = time_trigger_rows(ctx, &set, k, 1);
  CHECK(check_rtreecheck(db));

  printf("  %lld boxes: INSERT ... SELECT %.0f ms (%.2f us/row), packed %.0f ms (%.2f us/row; "
         "reading the MBRs alone %.0f ms)\n", (long long)n, t_insert, t_insert * 1e3 / n, t_pack,
         t_pack * 1e3 / n, t_read);
  printf("  250 m window query: %.1f us on the inserted tree, %.1f us on the packed one\n",
         q_insert, q_pack);
  printf("  %lld rows through the triggers: %.1f us/row into the inserted tree, %.1f into the "
         "packed one\n", (long long)k, k_insert * 1e3 / k, k_pack * 1e3 / k);
  tgis_close(ctx);
  free(set.b);
}

int main(void)
{
  RUN(test_rtree__format_is_what_sqlite_creates);
  RUN(test_rtree__sizes_agree_with_brute_force);
  RUN(test_rtree__leaves_match_the_modules_rounding);
  RUN(test_rtree__leaves_tile_the_plane);
  RUN(test_rtree__triggers_keep_a_packed_tree_right);
  RUN(test_rtree__same_transaction_sees_the_new_tree);
  RUN(test_rtree__rebuilding_twice_gives_the_same_tree);
  RUN(test_rtree__allocation_failure_is_enomem_and_changes_nothing);
  RUN(test_rtree__missing_root_is_edb_naming_file_and_layer);
  RUN(test_rtree__bulk_end_packs_only_large_runs);
  if (getenv("TGIS_RTREE_BENCH") && *getenv("TGIS_RTREE_BENCH"))
    RUN(test_rtree__bench_million);
  spatialite_shutdown();
  return harness_report();
}
