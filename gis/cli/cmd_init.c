/*
 * cmd_init.c -- `tgis init DB`: create an empty tgis database.
 */
#include <getopt.h>
#include <sys/stat.h>

#include "cli.h"

static void help(FILE *out)
{
  fprintf(out,
    "usage: tgis init [--srid N] DB\n"
    "\n"
    "Create DB, a new SpatiaLite file with the tgis schema (version %d):\n"
    "districts, parcels, roads, utility_lines, utility_nodes, facilities,\n"
    "the import log and spatial indexes. Geometry is stored in one metric CRS.\n"
    "An existing file is never overwritten.\n"
    "\n"
    "Options:\n"
    "  --srid N    EPSG code of a projected CRS in metres (default %d,\n"
    "              WGS 84 / UTM zone 42N, which covers Tashkent)\n"
    "  -h, --help  show this help\n",
    TGIS_SCHEMA_VERSION, TGIS_DEFAULT_SRID);
}

static int run(int argc, char **argv)
{
  static const struct option longopts[] = {
    { "srid", required_argument, NULL, 's' },
    { NULL, 0, NULL, 0 },
  };
  long srid = TGIS_DEFAULT_SRID;
  struct stat sb;
  tgis_ctx *ctx;
  int c;

  opterr = 0;
  while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
    switch (c) {
    case 's':
      if (cli_parse_long(optarg, 1, 999999, &srid))
        return cli_usage("init", "--srid: '%s' is not an EPSG code", optarg);
      break;
    case ':':
      return cli_usage("init", "option '%s' needs a value", argv[optind - 1]);
    default:
      return cli_usage("init", "unknown option '%s'", argv[optind - 1]);
    }
  }
  if (argc - optind != 1)
    return cli_usage("init", "expected one database path");
  if (stat(argv[optind], &sb) == 0) {
    cli_error("init", "%s: already exists; not overwriting it "
              "(`tgis info %s` shows what it holds)", argv[optind], argv[optind]);
    return CLI_FAIL;
  }
  if (cli_open(&ctx, "init", argv[optind], TGIS_OPEN_CREATE, (int)srid))
    return CLI_FAIL;
  printf("created %s (schema %d, EPSG:%ld)\n", argv[optind], TGIS_SCHEMA_VERSION, srid);
  tgis_close(ctx);
  return CLI_OK;
}

const cli_cmd cmd_init = { "init", "create a new tgis database", run, help };
