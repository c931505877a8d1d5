/*
 * fuzz_ctx.h -- the one context a fuzz target reuses across inputs.
 *
 * A fuzz target runs millions of inputs in one process, and opening a
 * context (GEOS and PROJ handles) per input would make it slow. So each
 * target keeps one context without a database, created on the first input
 * and left for the process's end: the only global mutable state of a fuzz
 * target, acceptable here and nowhere in the library. It stays reachable,
 * so LeakSanitizer does not report it.
 */
#ifndef TGIS_FUZZ_CTX_H
#define TGIS_FUZZ_CTX_H

#include <stdio.h>
#include <stdlib.h>

#include "tgis.h"

static inline tgis_ctx *fuzz_ctx(void)
{
  static tgis_ctx *ctx;
  if (!ctx && tgis_open(&ctx, NULL, NULL) != TGIS_OK) {
    fprintf(stderr, "fuzz: cannot open a context: %s\n", ctx ? tgis_errmsg(ctx) : "no memory");
    abort();
  }
  return ctx;
}

/* An invariant of the code under test does not hold: a finding. */
#define FUZZ_CHECK(cond)                                                  \
  do {                                                                    \
    if (!(cond)) {                                                        \
      fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", __FILE__,     \
              __LINE__, #cond);                                           \
      abort();                                                            \
    }                                                                     \
  } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
