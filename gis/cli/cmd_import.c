/*
 * cmd_import.c -- `tgis import DB SOURCE`: load a source GDAL reads into
 * the database, all or nothing, and say what was rejected and why.
 */
#include <getopt.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include "cli.h"

static void help(FILE *out)
{
  fprintf(out,
    "usage: tgis import [options] DB SOURCE\n"
    "\n"
    "Import SOURCE (anything GDAL/OGR reads: GeoPackage, Shapefile or zipped\n"
    "Shapefile, GeoJSON, CSV with WKT or lon/lat columns, OSM .pbf/.osm,\n"
    "FlatGeobuf) into DB. Features are reprojected to the database CRS,\n"
    "validated and repaired; what cannot be stored is kept in import_rejects\n"
    "with the feature id, the field and the reason. The whole run is one\n"
    "transaction: an error, Ctrl-C or a crash leaves DB as it was.\n"
    "\n"
    "A source with tgis layer names (the output of `tgis generate`) imports\n"
    "all its layers; OSM files use the built-in OSM mapping; any other source\n"
    "needs --layer (fields named as tgis fields) or a --mapping file.\n"
    "\n"
    "Options:\n"
    "  --layer KIND         target layer: districts, parcels, roads,\n"
    "                       utility_lines, utility_nodes, facilities\n"
    "  --source-layer NAME  the source layer to read\n"
    "  --mapping M          a mapping file (YAML), or 'tgis' / 'osm'\n"
    "  --s-srs CRS          CRS of the source (EPSG:28412, WKT, PROJ string)\n"
    "                       when it has none or a wrong one\n"
    "  --encoding ENC       text encoding of the source, e.g. CP1251\n"
    "  --mode MODE          append (default): new features, a key already\n"
    "                       stored is rejected; upsert: update by key, add\n"
    "                       the rest; replace: empty the layer first\n"
    "  --rejects FILE.csv   also write rejects and repairs to FILE.csv\n"
    "  --json               print the summary as JSON\n"
    "  -q, --quiet          no progress and no summary\n"
    "  -h, --help           show this help\n");
}

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
  (void)sig;
  interrupted = 1;
}

typedef struct progress_state {
  int tty;
  struct timespec start, last;
} progress_state;

static double since(const struct timespec *a, const struct timespec *b)
{
  return (double)(b->tv_sec - a->tv_sec) + (b->tv_nsec - a->tv_nsec) / 1e9;
}

static int on_progress(const char *stage, int64_t done, int64_t total, void *payload)
{
  progress_state *p = payload;
  struct timespec now;
  double t, rate;
  if (interrupted)
    return 1;
  if (!p->tty)
    return 0;
  clock_gettime(CLOCK_MONOTONIC, &now);
  if (since(&p->last, &now) < 0.2)
    return 0;
  p->last = now;
  t = since(&p->start, &now);
  rate = t > 0 ? done / t : 0;
  fprintf(stderr, "\r\033[K%-14s %10lld features  %8.0f/s", stage, (long long)done, rate);
  if (total > 0 && rate > 0)
    fprintf(stderr, "  %5.1f%%  ETA %.0fs", 100.0 * done / total, (total - done) / rate);
  fflush(stderr);
  return 0;
}

static int parse_mode(const char *s, tgis_import_mode *out)
{
  if (!strcmp(s, "append")) *out = TGIS_IMPORT_APPEND;
  else if (!strcmp(s, "upsert")) *out = TGIS_IMPORT_UPSERT;
  else if (!strcmp(s, "replace")) *out = TGIS_IMPORT_REPLACE;
  else return -1;
  return 0;
}

static void print_summary(const tgis_import_result *r, int json)
{
  int64_t total = 0;
  int first = 1;
  for (int i = 0; i < TGIS_LAYER_COUNT; i++)
    total += r->layers[i].read;
  if (json) {
    printf("{\"seconds\": %.3f, \"features_per_second\": %.0f, \"layers\": {",
           r->seconds, r->seconds > 0 ? total / r->seconds : 0.0);
    for (int i = 0; i < TGIS_LAYER_COUNT; i++) {
      const tgis_import_counts *c = &r->layers[i];
      if (!c->run_id)
        continue;
      printf("%s\"%s\": {\"run_id\": %lld, \"read\": %lld, \"inserted\": %lld, "
             "\"updated\": %lld, \"repaired\": %lld, \"rejected\": %lld}",
             first ? "" : ", ", tgis_layer_name((tgis_layer)i), (long long)c->run_id,
             (long long)c->read, (long long)c->inserted, (long long)c->updated,
             (long long)c->repaired, (long long)c->rejected);
      first = 0;
    }
    printf("}}\n");
    return;
  }
  printf("%-14s %10s %10s %10s %10s %10s\n", "layer", "read", "inserted", "updated",
         "repaired", "rejected");
  for (int i = 0; i < TGIS_LAYER_COUNT; i++) {
    const tgis_import_counts *c = &r->layers[i];
    if (!c->run_id)
      continue;
    printf("%-14s %10lld %10lld %10lld %10lld %10lld\n", tgis_layer_name((tgis_layer)i),
           (long long)c->read, (long long)c->inserted, (long long)c->updated,
           (long long)c->repaired, (long long)c->rejected);
  }
  printf("%lld features in %.2f s (%.0f features/s)\n", (long long)total, r->seconds,
         r->seconds > 0 ? total / r->seconds : 0.0);
}

static int run(int argc, char **argv)
{
  static const struct option longopts[] = {
    { "layer", required_argument, NULL, 'l' },
    { "source-layer", required_argument, NULL, 'S' },
    { "mapping", required_argument, NULL, 'm' },
    { "s-srs", required_argument, NULL, 's' },
    { "encoding", required_argument, NULL, 'e' },
    { "mode", required_argument, NULL, 'M' },
    { "rejects", required_argument, NULL, 'r' },
    { "json", no_argument, NULL, 'j' },
    { "quiet", no_argument, NULL, 'q' },
    { NULL, 0, NULL, 0 },
  };
  tgis_import_options opts = TGIS_IMPORT_OPTIONS_INIT;
  tgis_import_result res;
  progress_state prog;
  struct sigaction sa, old;
  int c, json = 0, quiet = 0, rc = CLI_OK;
  tgis_ctx *ctx;
  tgis_status st;

  opterr = 0;
  while ((c = getopt_long(argc, argv, ":q", longopts, NULL)) != -1) {
    switch (c) {
    case 'l': {
      tgis_layer l;
      if (tgis_layer_from_name(&l, optarg) != TGIS_OK)
        return cli_usage("import", "--layer: '%s' is not a tgis layer", optarg);
      opts.layer = (int)l;
      break;
    }
    case 'S': opts.source_layer = optarg; break;
    case 'm': opts.mapping = optarg; break;
    case 's': opts.s_srs = optarg; break;
    case 'e': opts.encoding = optarg; break;
    case 'M':
      if (parse_mode(optarg, &opts.mode))
        return cli_usage("import", "--mode: '%s' is not append, upsert or replace", optarg);
      break;
    case 'r': opts.rejects_csv = optarg; break;
    case 'j': json = 1; break;
    case 'q': quiet = 1; break;
    case ':':
      return cli_usage("import", "option '%s' needs a value", argv[optind - 1]);
    default:
      return cli_usage("import", "unknown option '%s'", argv[optind - 1]);
    }
  }
  if (argc - optind != 2)
    return cli_usage("import", "expected a database and a source");
  if (cli_open(&ctx, "import", argv[optind], 0, 0))
    return CLI_FAIL;

  memset(&prog, 0, sizeof prog);
  prog.tty = !quiet && !json && cli_stderr_is_tty();
  clock_gettime(CLOCK_MONOTONIC, &prog.start);
  opts.progress = on_progress;
  opts.progress_payload = &prog;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigint;
  sigaction(SIGINT, &sa, &old);
  sigaction(SIGTERM, &sa, NULL);

  st = tgis_import(&res, ctx, argv[optind + 1], &opts);
  sigaction(SIGINT, &old, NULL);
  if (prog.tty)
    fprintf(stderr, "\r\033[K");
  if (st != TGIS_OK) {
    cli_error("import", "%s", tgis_errmsg(ctx));
    fprintf(stderr, "tgis import: nothing was imported; %s is as it was\n", argv[optind]);
    rc = CLI_FAIL;
  } else if (!quiet) {
    print_summary(&res, json);
  }
  tgis_close(ctx);
  return rc;
}

const cli_cmd cmd_import = { "import", "load layers from any GDAL/OGR source", run, help };
