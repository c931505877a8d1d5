/*
 * harness.h -- a small test harness in the manner of libuv's test/task.h.
 *
 * Each test binary lists its tests in main() with RUN(); a failed ASSERT ends
 * that test and the binary goes on with the next. The binary ends with the
 * line "N passed, N failed" and exits 1 if any failed (77 = skip, for meson).
 */
#ifndef TGIS_TEST_HARNESS_H
#define TGIS_TEST_HARNESS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <spawn.h>
#include <sys/wait.h>

static int harness_passed, harness_failed, harness_cur_failed;
static const char *harness_cur = "";

#define HARNESS_FAIL(...)                                                 \
  do {                                                                    \
    fprintf(stderr, "%s:%d: %s: ", __FILE__, __LINE__, harness_cur);      \
    fprintf(stderr, __VA_ARGS__);                                         \
    fputc('\n', stderr);                                                  \
    harness_cur_failed = 1;                                               \
  } while (0)

#define ASSERT(cond)                                                      \
  do {                                                                    \
    if (!(cond)) {                                                        \
      HARNESS_FAIL("assertion failed: %s", #cond);                        \
      return;                                                             \
    }                                                                     \
  } while (0)

#define ASSERT_EQ(a, b)                                                   \
  do {                                                                    \
    long long a_ = (long long)(a), b_ = (long long)(b);                   \
    if (a_ != b_) {                                                       \
      HARNESS_FAIL("%s == %s: %lld != %lld", #a, #b, a_, b_);             \
      return;                                                             \
    }                                                                     \
  } while (0)

#define ASSERT_NEAR(a, b, tol)                                            \
  do {                                                                    \
    double a_ = (double)(a), b_ = (double)(b);                            \
    if (!(a_ - b_ <= (tol) && b_ - a_ <= (tol))) {                        \
      HARNESS_FAIL("%s ~ %s: %.9g vs %.9g (tolerance %g)", #a, #b, a_, b_,\
                   (double)(tol));                                        \
      return;                                                             \
    }                                                                     \
  } while (0)

#define ASSERT_STR_EQ(a, b)                                               \
  do {                                                                    \
    const char *a_ = (a), *b_ = (b);                                      \
    if (!a_ || !b_ || strcmp(a_, b_) != 0) {                              \
      HARNESS_FAIL("%s == %s: \"%s\" != \"%s\"", #a, #b,                  \
                   a_ ? a_ : "(null)", b_ ? b_ : "(null)");               \
      return;                                                             \
    }                                                                     \
  } while (0)

#define ASSERT_CONTAINS(hay, needle)                                      \
  do {                                                                    \
    const char *h_ = (hay), *n_ = (needle);                               \
    if (!h_ || !strstr(h_, n_)) {                                         \
      HARNESS_FAIL("\"%s\" does not contain \"%s\"", h_ ? h_ : "(null)",  \
                   n_);                                                   \
      return;                                                             \
    }                                                                     \
  } while (0)

/* A tgis call that must succeed; on failure show the context's message. */
#define ASSERT_OK_CTX(ctx, expr)                                          \
  do {                                                                    \
    int st_ = (expr);                                                     \
    if (st_ != 0) {                                                       \
      HARNESS_FAIL("%s: status %d: %s", #expr, st_,                       \
                   (ctx) ? tgis_errmsg(ctx) : "(no context)");            \
      return;                                                             \
    }                                                                     \
  } while (0)

#define RUN(fn)                                                           \
  do {                                                                    \
    harness_cur = #fn;                                                    \
    harness_cur_failed = 0;                                               \
    fn();                                                                 \
    if (harness_cur_failed) {                                             \
      harness_failed++;                                                   \
      printf("FAIL %s\n", #fn);                                           \
    } else {                                                              \
      harness_passed++;                                                   \
      printf("ok   %s\n", #fn);                                           \
    }                                                                     \
    fflush(stdout);                                                       \
  } while (0)

extern char **environ;

/* Run a program (found on PATH) with argv and wait: its exit status, or -1
 * when it could not run or died of a signal. */
static inline int harness_run(char *const argv[])
{
  pid_t pid;
  int status;
  if (posix_spawnp(&pid, argv[0], NULL, NULL, argv, environ) != 0)
    return -1;
  if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
    return -1;
  return WEXITSTATUS(status);
}

static inline int harness_report(void)
{
  printf("%d passed, %d failed\n", harness_passed, harness_failed);
  return harness_failed ? 1 : 0;
}

/* A fresh, empty scratch directory for this test binary; never removed
 * while the binary runs, so a failure leaves its files to look at. */
static inline const char *harness_tmpdir(void)
{
  static char dir[256];
  if (!dir[0]) {
    const char *base = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/tgis-test-XXXXXX", base ? base : "/tmp");
    if (!mkdtemp(dir)) {
      perror("mkdtemp");
      exit(1);
    }
  }
  return dir;
}

/* dir/name in a static buffer of its own per call site (copy it). */
static inline const char *harness_path(char *buf, size_t n, const char *name)
{
  snprintf(buf, n, "%s/%s", harness_tmpdir(), name);
  return buf;
}

/* An allocator (for tgis_options.allocator) that fails the Nth allocation
 * and counts what is live, for out-of-memory tests: SQLite's faultsim. */
typedef struct harness_fault {
  int fail_at, calls, live;
} harness_fault;

static inline void *harness_fault_malloc(size_t n, void *payload)
{
  harness_fault *f = payload;
  if (++f->calls == f->fail_at)
    return NULL;
  f->live++;
  return malloc(n);
}

static inline void *harness_fault_realloc(void *p, size_t n, void *payload)
{
  harness_fault *f = payload;
  if (++f->calls == f->fail_at)
    return NULL;
  if (!p)
    f->live++;
  return realloc(p, n);
}

static inline void harness_fault_free(void *p, void *payload)
{
  harness_fault *f = payload;
  if (p)
    f->live--;
  free(p);
}

#endif /* TGIS_TEST_HARNESS_H */
