/*
 * test_threads.c -- contexts in different threads share nothing mutable.
 *
 * Each thread opens its own context: half create and fill their own
 * database, half read one shared file; all validate identifiers and provoke
 * errors of their own. A context's last error must be its own, never a
 * neighbour's. Run under ThreadSanitizer to see races as well.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "tgis.h"
#include "harness.h"

#define N_THREADS 4
#define ROUNDS 25

typedef struct worker {
  int id;
  char path[512];
  const char *shared;
  int failures;
  char why[256];
} worker;

static void note(worker *w, const char *what)
{
  if (!w->failures++)
    snprintf(w->why, sizeof w->why, "thread %d: %s", w->id, what);
}

static void *work(void *arg)
{
  worker *w = arg;
  tgis_options o = TGIS_OPTIONS_INIT;
  tgis_ctx *own = NULL, *shared = NULL;
  char bad_path[600];

  o.flags = TGIS_OPEN_CREATE;
  if (tgis_open(&own, w->path, &o) != TGIS_OK) {
    note(w, own ? tgis_errmsg(own) : "cannot open own database");
    tgis_close(own);
    return NULL;
  }
  o.flags = TGIS_OPEN_READONLY;
  if (tgis_open(&shared, w->shared, &o) != TGIS_OK) {
    note(w, shared ? tgis_errmsg(shared) : "cannot open shared database");
    goto done;
  }
  snprintf(bad_path, sizeof bad_path, "%s.missing-%d", w->path, w->id);
  for (int i = 0; i < ROUNDS; i++) {
    tgis_layer_info li;
    tgis_id_check chk;
    tgis_ctx *bad = NULL;

    /* An error in a throwaway context names this thread's path only. */
    o.flags = 0;
    if (tgis_open(&bad, bad_path, &o) != TGIS_ENOTFOUND ||
        !strstr(tgis_errmsg(bad), bad_path))
      note(w, "error message of another context");
    tgis_close(bad);

    if (tgis_layer_info_get(&li, shared, TGIS_LAYER_PARCELS) != TGIS_OK ||
        li.count != 0 || tgis_errmsg(shared)[0] != '\0')
      note(w, "shared read failed or saw a foreign error");
    if (tgis_layer_info_get(&li, own, (tgis_layer)99) != TGIS_EINVAL ||
        !strstr(tgis_errmsg(own), "99"))
      note(w, "own error lost");
    if (tgis_errmsg(shared)[0] != '\0')
      note(w, "error leaked into the shared context");
    if (tgis_id_validate(&chk, TGIS_ID_PINFL, "31210932040247") != TGIS_ID_VALID ||
        tgis_id_validate(&chk, TGIS_ID_PINFL, "31210632040245") != TGIS_ID_INVALID)
      note(w, "identifier verdict changed under threads");
  }
done:
  tgis_close(shared);
  tgis_close(own);
  return NULL;
}

static void test_threads__contexts_share_nothing(void)
{
  pthread_t tid[N_THREADS];
  worker w[N_THREADS];
  char shared[512];
  tgis_options o = TGIS_OPTIONS_INIT;
  tgis_ctx *ctx = NULL;

  harness_path(shared, sizeof shared, "shared.sqlite");
  o.flags = TGIS_OPEN_CREATE;
  ASSERT_OK_CTX(ctx, tgis_open(&ctx, shared, &o));
  tgis_close(ctx);

  for (int i = 0; i < N_THREADS; i++) {
    char name[64];
    memset(&w[i], 0, sizeof w[i]);
    w[i].id = i;
    w[i].shared = shared;
    snprintf(name, sizeof name, "thread-%d.sqlite", i);
    harness_path(w[i].path, sizeof w[i].path, name);
    ASSERT_EQ(pthread_create(&tid[i], NULL, work, &w[i]), 0);
  }
  for (int i = 0; i < N_THREADS; i++)
    pthread_join(tid[i], NULL);
  for (int i = 0; i < N_THREADS; i++) {
    if (w[i].failures)
      HARNESS_FAIL("%d failures, first: %s", w[i].failures, w[i].why);
    ASSERT_EQ(w[i].failures, 0);
  }
}

int main(void)
{
  RUN(test_threads__contexts_share_nothing);
  return harness_report();
}
