/*
 * test_ctx.c -- the context handle: options, errors, logging, allocation
 * failure, layer names.
 */
#include <string.h>
#include <unistd.h>

#include "tgis.h"
#include "harness.h"

static void test_ctx__status_strings_cover_every_code(void)
{
#define CHECK_CODE(name, val, msg) ASSERT_STR_EQ(tgis_status_str(TGIS_##name), msg);
  TGIS_STATUS_MAP(CHECK_CODE)
#undef CHECK_CODE
  ASSERT_STR_EQ(tgis_status_str((tgis_status)-999), "unknown status");
  ASSERT_STR_EQ(tgis_version(), TGIS_VERSION_STRING);
}

static void test_ctx__open_without_database(void)
{
  tgis_ctx *ctx = NULL;
  tgis_db_info info;
  ASSERT_EQ(tgis_open(&ctx, NULL, NULL), TGIS_OK);
  ASSERT(ctx != NULL);
  ASSERT_STR_EQ(tgis_errmsg(ctx), "");
  ASSERT_EQ(tgis_errcode(ctx), TGIS_OK);
  ASSERT_EQ(tgis_db_info_get(&info, ctx), TGIS_EINVAL);
  ASSERT_CONTAINS(tgis_errmsg(ctx), "without a database");
  ASSERT_EQ(tgis_errcode(ctx), TGIS_EINVAL);
  tgis_close(ctx);
  tgis_close(NULL);  /* a no-op */
}

static void test_ctx__bad_options_are_refused_with_a_reason(void)
{
  tgis_options o = TGIS_OPTIONS_INIT;
  tgis_ctx *ctx = NULL;

  o.version = 99;
  ASSERT_EQ(tgis_open(&ctx, NULL, &o), TGIS_EINVAL);
  ASSERT_CONTAINS(tgis_errmsg(ctx), "options version 99");
  tgis_close(ctx);

  o = (tgis_options)TGIS_OPTIONS_INIT;
  o.flags = TGIS_OPEN_READONLY | TGIS_OPEN_CREATE;
  ASSERT_EQ(tgis_open(&ctx, NULL, &o), TGIS_EINVAL);
  ASSERT_CONTAINS(tgis_errmsg(ctx), "exclude each other");
  tgis_close(ctx);

  tgis_allocator half = { NULL, NULL, NULL, NULL };
  o = (tgis_options)TGIS_OPTIONS_INIT;
  o.allocator = &half;
  ASSERT_EQ(tgis_open(&ctx, NULL, &o), TGIS_EINVAL);
  ASSERT_CONTAINS(tgis_errmsg(ctx), "allocator");
  tgis_close(ctx);
}

typedef struct log_capture {
  int count;
  int saw_migration;
} log_capture;

static void capture_log(tgis_log_level level, const char *msg, void *payload)
{
  log_capture *c = payload;
  c->count++;
  if (level == TGIS_LOG_INFO && strstr(msg, "schema migrated to version"))
    c->saw_migration = 1;
  if (strchr(msg, '\n'))
    c->count += 1000;  /* one line per message, always */
}

static void test_ctx__log_sink_gets_messages_at_its_level(void)
{
  char path[512];
  log_capture cap = { 0, 0 };
  tgis_options o = TGIS_OPTIONS_INIT;
  tgis_ctx *ctx = NULL;

  o.flags = TGIS_OPEN_CREATE;
  o.log_fn = capture_log;
  o.log_payload = &cap;
  o.log_level = TGIS_LOG_INFO;
  harness_path(path, sizeof path, "log.sqlite");
  ASSERT_OK_CTX(ctx, tgis_open(&ctx, path, &o));
  tgis_close(ctx);
  ASSERT(cap.saw_migration);
  ASSERT(cap.count >= TGIS_SCHEMA_VERSION && cap.count < 1000);

  /* At WARN the same work is silent. */
  cap.count = 0;
  o.flags = 0;
  o.log_level = TGIS_LOG_WARN;
  ASSERT_OK_CTX(ctx, tgis_open(&ctx, path, &o));
  tgis_close(ctx);
  ASSERT_EQ(cap.count, 0);
}


static void test_ctx__allocation_failure_is_enomem_without_leaks(void)
{
  char path[512];
  int n, succeeded = 0;
  harness_path(path, sizeof path, "oom.sqlite");
  for (n = 1; n < 50 && !succeeded; n++) {
    harness_fault fa = { n, 0, 0 };
    tgis_allocator a = { harness_fault_malloc, harness_fault_realloc, harness_fault_free, &fa };
    tgis_options o = TGIS_OPTIONS_INIT;
    tgis_ctx *ctx = NULL;
    tgis_status st;
    o.flags = TGIS_OPEN_CREATE;
    o.allocator = &a;
    st = tgis_open(&ctx, path, &o);
    if (st == TGIS_OK) {
      succeeded = 1;
      ASSERT(fa.calls < n);  /* no allocation was failed */
    } else {
      ASSERT_EQ(st, TGIS_ENOMEM);
      ASSERT(ctx == NULL || strstr(tgis_errmsg(ctx), "memory") != NULL);
      ASSERT(access(path, F_OK) != 0);  /* nothing half-created */
    }
    tgis_close(ctx);
    ASSERT_EQ(fa.live, 0);
  }
  ASSERT(succeeded);
  ASSERT(n > 2);  /* at least the context and the store were exercised */
}

static void test_ctx__layer_names_round_trip(void)
{
  tgis_layer l;
  for (int i = 0; i < TGIS_LAYER_COUNT; i++) {
    const char *name = tgis_layer_name((tgis_layer)i);
    ASSERT(name != NULL);
    ASSERT_EQ(tgis_layer_from_name(&l, name), TGIS_OK);
    ASSERT_EQ(l, i);
  }
  ASSERT_STR_EQ(tgis_layer_name(TGIS_LAYER_PARCELS), "parcels");
  ASSERT_STR_EQ(tgis_layer_name(TGIS_LAYER_UTILITY_NODES), "utility_nodes");
  ASSERT(tgis_layer_name(TGIS_LAYER_COUNT) == NULL);
  ASSERT(tgis_layer_name((tgis_layer)-1) == NULL);
  ASSERT_EQ(tgis_layer_from_name(&l, "parcel_owners"), TGIS_ENOTFOUND);
  ASSERT_EQ(tgis_layer_from_name(&l, NULL), TGIS_ENOTFOUND);
}

int main(void)
{
  RUN(test_ctx__status_strings_cover_every_code);
  RUN(test_ctx__open_without_database);
  RUN(test_ctx__bad_options_are_refused_with_a_reason);
  RUN(test_ctx__log_sink_gets_messages_at_its_level);
  RUN(test_ctx__allocation_failure_is_enomem_without_leaks);
  RUN(test_ctx__layer_names_round_trip);
  return harness_report();
}
