/*
 * cmd_report.c -- `tgis report coverage DB ... -o DIR`: a coverage run as
 * report.html, summary.json and CSV files for analysts. A thin layer over
 * tgis_report_coverage(), which runs the analysis too unless --run names a
 * stored run.
 */
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "progress.h"

static void help(FILE *out)
{
  fprintf(out,
    "usage: tgis report coverage DB [options] -o DIR\n"
    "\n"
    "Run a coverage analysis (as `tgis coverage` does, stored under a new run\n"
    "id) or take a stored run (--run), and write a report of it into DIR:\n"
    "\n"
    "  report.html     one self-contained page: the headline numbers, a map of\n"
    "                  travel times, the covered share of every district, the\n"
    "                  worst-served districts, overloaded facilities, suggested\n"
    "                  sites and the run's parameters; opens in any browser,\n"
    "                  prints on A4\n"
    "  summary.json    the run's numbers, districts and sites\n"
    "  parcels.csv     every parcel: nearest facility, minutes, metres, covered,\n"
    "                  E2SFCA (named by cadastre number; no personal data)\n"
    "  districts.csv   per district: residents, covered, share, E2SFCA\n"
    "  facilities.csv  per facility: capacity, catchment, load\n"
    "\n"
    "DIR is created if missing; files of an earlier report there are replaced,\n"
    "each only once its new version is complete.\n"
    "\n"
    "Options:\n"
    "  -o, --output DIR  the report directory (required)\n"
    "  --run ID          report stored run ID (or 'latest') instead of running\n"
    "                    an analysis; the analysis options below do not apply\n"
    "  --facility KIND   polyclinic (default) or school\n"
    "  --mode MODE       walk (default) or drive\n"
    "  --minutes N       the threshold, minutes (default 15)\n"
    "  --method M        network (default) or radius\n"
    "  --radius METRES   radius method: the radius (default: --minutes at the\n"
    "                    walking speed; required in drive mode)\n"
    "  --walk-kmh K      walking speed (default 5)\n"
    "  --max-snap M      snap distance limit, metres (default 500)\n"
    "  --sites K         also pick K new sites that would cover the most\n"
    "                    residents not yet covered (public-land parcels)\n"
    "  --map-px N        the map's longer side, 600 to 4096 pixels (default 1200)\n"
    "  --styles DIR      map themes (default: the installed themes)\n"
    "  -q, --quiet       no progress and no summary\n"
    "  -h, --help        show this help\n"
    "\n"
    "Exit status: 0 success, 1 failure (the message names the file or run),\n"
    "2 bad usage.\n");
}

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
  (void)sig;
  interrupted = 1;
}

static int on_progress(const char *stage, int64_t done, int64_t total, void *payload)
{
  cli_progress *p = payload;
  if (interrupted)
    return 1;
  cli_progress_update(p, stage, total > 0 ? (double)done / (double)total : 0.0);
  return 0;
}

static double mib(int64_t bytes) { return (double)bytes / (1024.0 * 1024.0); }

static int run_coverage(int argc, char **argv)
{
  static const struct option longopts[] = {
    { "output", required_argument, NULL, 'o' },
    { "run", required_argument, NULL, 'R' },
    { "facility", required_argument, NULL, 'f' },
    { "mode", required_argument, NULL, 'm' },
    { "minutes", required_argument, NULL, 'n' },
    { "method", required_argument, NULL, 'M' },
    { "radius", required_argument, NULL, 'r' },
    { "walk-kmh", required_argument, NULL, 'w' },
    { "max-snap", required_argument, NULL, 's' },
    { "sites", required_argument, NULL, 'k' },
    { "map-px", required_argument, NULL, 'p' },
    { "styles", required_argument, NULL, 'S' },
    { "quiet", no_argument, NULL, 'q' },
    { NULL, 0, NULL, 0 },
  };
  tgis_coverage_options co = TGIS_COVERAGE_OPTIONS_INIT;
  tgis_report_options ro = TGIS_REPORT_OPTIONS_INIT;
  tgis_report_info info;
  cli_progress prog;
  struct sigaction sa, old;
  const char *dir = NULL, *analysis_opt = NULL;
  int64_t run_id = 0;
  int c, idx, quiet = 0, stored = 0, rc = CLI_OK;
  long l;
  tgis_ctx *ctx;

  opterr = 0;
  optind = 1;
  while ((c = getopt_long(argc, argv, ":o:q", longopts, &idx)) != -1) {
    if (c > 0 && strchr("fmnMrwsk", c))
      analysis_opt = longopts[idx].name;   /* all long-only */
    switch (c) {
    case 'o': dir = optarg; break;
    case 'R':
      stored = 1;
      if (!strcmp(optarg, "latest"))
        run_id = 0;
      else if (cli_parse_long(optarg, 1, LONG_MAX, &l))
        return cli_usage("report", "--run: '%s' is not a run id (or 'latest')", optarg);
      else
        run_id = l;
      break;
    case 'f': co.facility_kind = optarg; break;
    case 'm': case 'M': case 'n': case 'r': case 'w': case 's':
      if ((rc = cli_coverage_option("report", c, optarg, &co)) != CLI_OK)
        return rc;
      break;
    case 'k':
      if (cli_parse_long(optarg, 1, 10000, &l))
        return cli_usage("report", "--sites: '%s' is not a count from 1 to 10000", optarg);
      ro.sites = (int)l;
      break;
    case 'p':
      if (cli_parse_long(optarg, 600, 4096, &l))
        return cli_usage("report", "--map-px: '%s' is not a size from 600 to 4096", optarg);
      ro.map_px = (int)l;
      break;
    case 'S': ro.styles_dir = optarg; break;
    case 'q': quiet = 1; break;
    case ':':
      return cli_usage("report", "option '%s' needs a value", argv[optind - 1]);
    default:
      return cli_usage("report", "unknown option '%s'", argv[optind - 1]);
    }
  }
  if (argc - optind != 1)
    return cli_usage("report", "expected one database path");
  if (!dir)
    return cli_usage("report", "-o DIR is required");
  if (stored && analysis_opt)
    return cli_usage("report", "--%s applies to a new analysis, not to --run", analysis_opt);
  if (!stored)
    ro.analysis = &co;
  if (cli_open(&ctx, "report", argv[optind], stored ? TGIS_OPEN_READONLY : 0, 0))
    return CLI_FAIL;

  cli_progress_init(&prog, !quiet && cli_stderr_is_tty());
  ro.progress = on_progress;
  ro.progress_payload = &prog;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigint;
  sigaction(SIGINT, &sa, &old);
  if (tgis_report_coverage(&info, ctx, run_id, dir, &ro) != TGIS_OK) {
    cli_progress_done(&prog);
    cli_error("report", "%s", tgis_errmsg(ctx));
    rc = CLI_FAIL;
  } else {
    cli_progress_done(&prog);
    if (!quiet) {
      printf("report of coverage run %lld in %s\n", (long long)info.run_id, dir);
      printf("  report.html     map %dx%d px, %lld districts, %lld sites\n", info.map_width,
             info.map_height, (long long)info.districts, (long long)info.sites);
      printf("  parcels.csv     %lld parcels\n", (long long)info.parcels);
      printf("  districts.csv   %lld districts\n", (long long)info.districts);
      printf("  facilities.csv  %lld facilities, %lld overloaded\n",
             (long long)info.facilities, (long long)info.overloaded);
      printf("  summary.json\n");
      printf("%.2f MiB in %.2f s\n", mib(info.bytes), info.seconds);
    }
  }
  sigaction(SIGINT, &old, NULL);
  tgis_close(ctx);
  return rc;
}

static int run(int argc, char **argv)
{
  if (argc < 2)
    return cli_usage("report", "which report? (coverage)");
  if (strcmp(argv[1], "coverage") == 0)
    return run_coverage(argc - 1, argv + 1);
  return cli_usage("report", "'%s' is not a report (coverage)", argv[1]);
}

const cli_cmd cmd_report = { "report",
                             "coverage report: HTML with map and chart, CSV, JSON",
                             run, help };
