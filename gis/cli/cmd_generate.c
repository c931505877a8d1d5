/*
 * cmd_generate.c -- `tgis generate`: write the synthetic city as a
 * GeoPackage plus a manifest of what it made and what it broke on purpose.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "generate.h"
#include "progress.h"

static void help(FILE *out)
{
  fprintf(out,
    "usage: tgis generate [--scale S] [--seed N] [--manifest FILE] [--force] -o CITY.gpkg\n"
    "\n"
    "Write a deterministic, Tashkent-like synthetic city as a GeoPackage in\n"
    "EPSG:4326, one layer per tgis layer (districts, parcels, roads,\n"
    "utility_lines, utility_nodes, facilities), laid out inside the real\n"
    "district boundaries. A known number of defects of each kind is injected\n"
    "(invalid polygons, wrong geometry types, empty and null geometries,\n"
    "features outside the city, bad and duplicate identifiers) and listed in\n"
    "a JSON manifest, so importers can be checked against it.\n"
    "Same seed and scale give byte-identical files.\n"
    "\n"
    "Options:\n"
    "  --scale S        size of the city: 1 = full city (>= 1,000,000 parcels,\n"
    "                   ~3 million residents, 62 polyclinics); default 0.01;\n"
    "                   0 < S <= 4\n"
    "  --seed N         random seed (default 1)\n"
    "  -o, --output F   the GeoPackage to write (required)\n"
    "  --manifest FILE  where the manifest goes (default F.manifest.json)\n"
    "  --force          replace existing output files\n"
    "  -q, --quiet      no progress line and no summary\n"
    "  -h, --help       show this help\n");
}

static void on_progress(const char *stage, double fraction, void *payload)
{
  cli_progress_update(payload, stage, fraction);
}

static int run(int argc, char **argv)
{
  static const struct option longopts[] = {
    { "scale", required_argument, NULL, 's' },
    { "seed", required_argument, NULL, 'e' },
    { "output", required_argument, NULL, 'o' },
    { "manifest", required_argument, NULL, 'm' },
    { "force", no_argument, NULL, 'f' },
    { "quiet", no_argument, NULL, 'q' },
    { NULL, 0, NULL, 0 },
  };
  tgis_gen_options opts = TGIS_GEN_OPTIONS_INIT;
  const char *output = NULL;
  char manifest[4096];
  int c, force = 0, quiet = 0, rc = CLI_OK;
  cli_progress progress;
  tgis_ctx *ctx;
  struct stat sb;

  opterr = 0;
  while ((c = getopt_long(argc, argv, ":o:q", longopts, NULL)) != -1) {
    switch (c) {
    case 's':
      if (cli_parse_double(optarg, &opts.scale))
        return cli_usage("generate", "--scale: '%s' is not a number", optarg);
      break;
    case 'e': {
      char *end;
      opts.seed = strtoull(optarg, &end, 10);
      if (end == optarg || *end || optarg[0] == '-')
        return cli_usage("generate", "--seed: '%s' is not a whole number", optarg);
      break;
    }
    case 'o': output = optarg; break;
    case 'm': opts.manifest_path = optarg; break;
    case 'f': force = 1; break;
    case 'q': quiet = 1; break;
    case ':':
      return cli_usage("generate", "option '%s' needs a value", argv[optind - 1]);
    default:
      return cli_usage("generate", "unknown option '%s'", argv[optind - 1]);
    }
  }
  if (optind != argc)
    return cli_usage("generate", "unexpected argument '%s'", argv[optind]);
  if (!output)
    return cli_usage("generate", "no output file (-o CITY.gpkg)");
  if (!(opts.scale > 0 && opts.scale <= 4))
    return cli_usage("generate", "--scale must be > 0 and <= 4");

  snprintf(manifest, sizeof manifest, "%s.manifest.json", output);
  if (!opts.manifest_path)
    opts.manifest_path = manifest;
  if (stat(output, &sb) == 0 || stat(opts.manifest_path, &sb) == 0) {
    if (!force) {
      cli_error("generate", "%s exists; use --force to replace it",
                stat(output, &sb) == 0 ? output : opts.manifest_path);
      return CLI_FAIL;
    }
    unlink(output);
    unlink(opts.manifest_path);
  }

  if (cli_open(&ctx, "generate", NULL, 0, 0))
    return CLI_FAIL;
  cli_progress_init(&progress, !quiet && cli_stderr_is_tty());
  opts.progress = on_progress;
  opts.progress_payload = &progress;
  if (tgis_generate(ctx, output, &opts) != TGIS_OK) {
    cli_progress_done(&progress);
    cli_error("generate", "%s", tgis_errmsg(ctx));
    rc = CLI_FAIL;
  } else {
    cli_progress_done(&progress);
    if (!quiet && stat(output, &sb) == 0)
      fprintf(stderr, "wrote %s (%.1f MiB) and %s in %.1f s (scale %g, seed %" PRIu64 ")\n",
              output, sb.st_size / 1048576.0, opts.manifest_path,
              cli_progress_elapsed(&progress), opts.scale, opts.seed);
  }
  tgis_close(ctx);
  return rc;
}

const cli_cmd cmd_generate = { "generate", "write the synthetic city as a GeoPackage",
                               run, help };
