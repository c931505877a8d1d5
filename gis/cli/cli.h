/*
 * cli.h -- shared pieces of the tgis command-line tool.
 *
 * The CLI is a thin layer: it parses arguments, calls the library and
 * prints. Exit codes: 0 success, 1 a failed operation or check, 2 bad usage.
 */
#ifndef TGIS_CLI_H
#define TGIS_CLI_H

#include <stdio.h>
#include "tgis.h"

#define CLI_OK    0
#define CLI_FAIL  1
#define CLI_USAGE 2

typedef struct cli_cmd {
  const char *name;
  const char *summary;                   /* one line for `tgis --help` */
  int (*run)(int argc, char **argv);     /* argv[0] is the command name */
  void (*help)(FILE *out);
} cli_cmd;

/* Print "tgis CMD: message" to stderr. */
void cli_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Report bad usage of a command and point at its --help; returns 2. */
int cli_usage(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Open a database with a stderr logger; on failure print the library's
 * message and return CLI_FAIL (the context is closed then). */
int cli_open(tgis_ctx **out, const char *cmd, const char *path,
             unsigned flags, int srid);

/* Is stderr a terminal (for progress bars)? */
int cli_stderr_is_tty(void);

/* Parse a whole decimal integer / number; 0 on success. */
int cli_parse_long(const char *s, long min, long max, long *out);
int cli_parse_double(const char *s, double *out);

/* One of the analysis options shared by `coverage` and `report coverage`
 * (getopt letters m, M, n, r, w, s) into o: CLI_OK, CLI_USAGE after
 * reporting a bad value, or -1 when c is not one of them. */
int cli_coverage_option(const char *cmd, int c, const char *arg, tgis_coverage_options *o);

/* The subcommands. */
extern const cli_cmd cmd_init;
extern const cli_cmd cmd_info;
extern const cli_cmd cmd_validate;
extern const cli_cmd cmd_generate;
extern const cli_cmd cmd_import;
extern const cli_cmd cmd_coverage;
extern const cli_cmd cmd_trace;
extern const cli_cmd cmd_report;
extern const cli_cmd cmd_tiles;
extern const cli_cmd cmd_serve;

#endif
