/*
 * tgis.c -- entry point of the tgis command-line tool: dispatches to the
 * subcommands in the git style (`tgis CMD [options]`) and holds the few
 * helpers they share.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>
#include <spatialite.h>

#include "cli.h"

static const cli_cmd *const commands[] = {
  &cmd_init, &cmd_info, &cmd_import, &cmd_validate, &cmd_generate,
  &cmd_coverage,
  &cmd_trace,
  &cmd_report,
  &cmd_tiles, &cmd_serve,
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

void cli_error(const char *cmd, const char *fmt, ...)
{
  va_list ap;
  fprintf(stderr, "tgis %s: ", cmd);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
}

int cli_usage(const char *cmd, const char *fmt, ...)
{
  va_list ap;
  fprintf(stderr, "tgis %s: ", cmd);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, "\nTry 'tgis %s --help'.\n", cmd);
  return CLI_USAGE;
}

static void stderr_log(tgis_log_level level, const char *msg, void *payload)
{
  static const char *const names[] = { "debug", "info", "warning", "error" };
  (void)payload;
  fprintf(stderr, "tgis: %s: %s\n", names[level < 4 ? level : 3], msg);
}

int cli_open(tgis_ctx **out, const char *cmd, const char *path,
             unsigned flags, int srid)
{
  tgis_options opts = TGIS_OPTIONS_INIT;
  tgis_status st;
  const char *verbose = getenv("TGIS_VERBOSE");

  opts.flags = flags;
  opts.srid = srid;
  opts.log_fn = stderr_log;
  opts.log_level = verbose && *verbose ? TGIS_LOG_DEBUG : TGIS_LOG_WARN;
  st = tgis_open(out, path, &opts);
  if (st != TGIS_OK) {
    cli_error(cmd, "%s", *out ? tgis_errmsg(*out) : tgis_status_str(st));
    tgis_close(*out);
    *out = NULL;
    return CLI_FAIL;
  }
  return CLI_OK;
}

int cli_stderr_is_tty(void) { return isatty(STDERR_FILENO); }

int cli_parse_long(const char *s, long min, long max, long *out)
{
  char *end;
  long v;
  errno = 0;
  v = strtol(s, &end, 10);
  if (errno || end == s || *end || v < min || v > max)
    return -1;
  *out = v;
  return 0;
}

int cli_parse_double(const char *s, double *out)
{
  char *end;
  double v;
  errno = 0;
  v = strtod(s, &end);
  if (errno || end == s || *end)
    return -1;
  *out = v;
  return 0;
}

static void main_help(FILE *out)
{
  fprintf(out,
    "usage: tgis COMMAND [options] [args]\n"
    "\n"
    "tgis: the geographic information system of Tashkent's Digital Capital\n"
    "center. One SpatiaLite database holds the city's layers.\n"
    "\n"
    "Commands:\n");
  for (size_t i = 0; i < N_COMMANDS; i++)
    fprintf(out, "  %-10s %s\n", commands[i]->name, commands[i]->summary);
  fprintf(out,
    "\n"
    "Options:\n"
    "  -h, --help     show this help; `tgis COMMAND --help` for a command\n"
    "  -V, --version  print the version\n"
    "\n"
    "Exit status: 0 success, 1 a failed operation or check, 2 bad usage.\n"
    "Set TGIS_VERBOSE=1 to see the library's debug log on stderr.\n");
}

static const cli_cmd *find_command(const char *name)
{
  for (size_t i = 0; i < N_COMMANDS; i++)
    if (strcmp(commands[i]->name, name) == 0)
      return commands[i];
  return NULL;
}

int main(int argc, char **argv)
{
  const cli_cmd *cmd;
  int rc;

  if (argc < 2) {
    main_help(stderr);
    return CLI_USAGE;
  }
  if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
    main_help(stdout);
    return CLI_OK;
  }
  if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
    printf("tgis %s (schema %d)\n", tgis_version(), TGIS_SCHEMA_VERSION);
    return CLI_OK;
  }
  if (!strcmp(argv[1], "help")) {
    if (argc < 3) {
      main_help(stdout);
      return CLI_OK;
    }
    if (!(cmd = find_command(argv[2]))) {
      fprintf(stderr, "tgis: '%s' is not a tgis command. See 'tgis --help'.\n", argv[2]);
      return CLI_USAGE;
    }
    cmd->help(stdout);
    return CLI_OK;
  }
  if (!(cmd = find_command(argv[1]))) {
    fprintf(stderr, "tgis: '%s' is not a tgis command. See 'tgis --help'.\n", argv[1]);
    return CLI_USAGE;
  }
  for (int i = 2; i < argc; i++) {
    if (!strcmp(argv[i], "--"))
      break;
    if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
      cmd->help(stdout);
      return CLI_OK;
    }
  }
  rc = cmd->run(argc - 1, argv + 1);
  spatialite_shutdown();
  return rc;
}
