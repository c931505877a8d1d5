/*
 * progress.c -- a one-line progress display on stderr for long commands.
 *
 * On a terminal it redraws one line (stage, percent, elapsed, ETA) at most
 * ten times a second; elsewhere it stays silent so logs and pipes get only
 * the final summary.
 */
#include <string.h>
#include <time.h>

#include "progress.h"

static double now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

void cli_progress_init(cli_progress *p, int enabled)
{
  memset(p, 0, sizeof *p);
  p->enabled = enabled;
  p->start = p->stage_start = now_s();
}

void cli_progress_update(cli_progress *p, const char *stage, double fraction)
{
  double t;
  if (!p->enabled)
    return;
  t = now_s();
  if (strncmp(p->stage, stage, sizeof p->stage - 1) != 0) {
    snprintf(p->stage, sizeof p->stage, "%s", stage);
    p->stage_start = t;
  } else if (t - p->last_draw < 0.1 && fraction < 1.0) {
    return;
  }
  p->last_draw = t;
  if (fraction < 0) fraction = 0;
  if (fraction > 1) fraction = 1;
  fprintf(stderr, "\r\033[K%-12s %5.1f%%  %6.1fs", p->stage, fraction * 100.0,
          t - p->start);
  if (fraction > 0.02 && fraction < 1.0)
    fprintf(stderr, "  ETA %.0fs", (t - p->stage_start) * (1.0 - fraction) / fraction);
  fflush(stderr);
  p->drawn = 1;
}

void cli_progress_done(cli_progress *p)
{
  if (p->enabled && p->drawn)
    fprintf(stderr, "\r\033[K");
}

double cli_progress_elapsed(const cli_progress *p) { return now_s() - p->start; }
