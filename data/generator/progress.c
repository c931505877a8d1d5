/*
 * progress.c -- rate-limited progress reports to the caller's callback.
 *
 * Stages report as often as they like; the caller hears at most about ten
 * reports a second, plus the start (0) and end (1) of every stage. The
 * clock only decides whether to call back, never what is generated.
 */
#include <string.h>
#include <time.h>

#include "gen_int.h"

static double now_seconds(void)
{
  struct timespec ts;
  if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
    return 0.0;
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void tgis_gen__progress(gen_progress *p, const char *stage, double fraction)
{
  double t;
  if (!p->fn)
    return;
  if (fraction < 0.0)
    fraction = 0.0;
  if (fraction > 1.0)
    fraction = 1.0;
  t = now_seconds();
  if (fraction > 0.0 && fraction < 1.0 && p->stage && strcmp(stage, p->stage) == 0 &&
      t - p->last_time < 0.1)
    return;
  p->stage = stage;
  p->last_time = t;
  p->fn(stage, fraction, p->payload);
}
