/*
 * progress.h -- terminal progress line for long CLI commands.
 */
#ifndef TGIS_CLI_PROGRESS_H
#define TGIS_CLI_PROGRESS_H

#include <stdio.h>

typedef struct cli_progress {
  int enabled;         /* draw only on a terminal */
  int drawn;
  double start, stage_start, last_draw;
  char stage[32];
} cli_progress;

void cli_progress_init(cli_progress *p, int enabled);
/* Show `stage` at `fraction` (0..1) done; rate-limited. */
void cli_progress_update(cli_progress *p, const char *stage, double fraction);
/* Clear the line. */
void cli_progress_done(cli_progress *p);
/* Seconds since init. */
double cli_progress_elapsed(const cli_progress *p);

#endif
