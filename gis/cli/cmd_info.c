/*
 * cmd_info.c -- `tgis info DB`: what a database holds.
 */
#include <getopt.h>

#include "cli.h"

static void help(FILE *out)
{
  fprintf(out,
    "usage: tgis info [--json] DB\n"
    "\n"
    "Print the schema version, CRS, and for every layer its feature count,\n"
    "geometry type and extent (in the database CRS, from the spatial index).\n"
    "Opens DB read-only.\n"
    "\n"
    "Options:\n"
    "  --json      machine-readable output\n"
    "  -h, --help  show this help\n");
}

static void print_text(const char *path, const tgis_db_info *db,
                       const tgis_layer_info *layers)
{
  printf("database  %s\n", path);
  printf("backend   %s\n", db->backend);
  printf("schema    %d\n", db->schema_version);
  printf("crs       EPSG:%d %s\n\n", db->srid, db->crs_name);
  printf("%-14s %10s  %-13s %s\n", "layer", "features", "geometry", "extent");
  for (int i = 0; i < TGIS_LAYER_COUNT; i++) {
    const tgis_layer_info *l = &layers[i];
    printf("%-14s %10lld  %-13s ", tgis_layer_name(l->layer), (long long)l->count,
           l->geometry_type);
    if (l->has_extent)
      printf("%.1f %.1f %.1f %.1f\n", l->extent.minx, l->extent.miny,
             l->extent.maxx, l->extent.maxy);
    else
      printf("(empty)\n");
  }
}

static void print_json(const char *path, const tgis_db_info *db,
                       const tgis_layer_info *layers)
{
  printf("{\n  \"database\": \"");
  for (const char *p = path; *p; p++) {
    if (*p == '"' || *p == '\\')
      printf("\\%c", *p);
    else if ((unsigned char)*p < 0x20)
      printf("\\u%04x", *p);
    else
      putchar(*p);
  }
  printf("\",\n  \"backend\": \"%s\",\n  \"schema_version\": %d,\n"
         "  \"srid\": %d,\n  \"crs_name\": \"%s\",\n  \"layers\": {\n",
         db->backend, db->schema_version, db->srid, db->crs_name);
  for (int i = 0; i < TGIS_LAYER_COUNT; i++) {
    const tgis_layer_info *l = &layers[i];
    printf("    \"%s\": {\"count\": %lld, \"geometry_type\": \"%s\", \"extent\": ",
           tgis_layer_name(l->layer), (long long)l->count, l->geometry_type);
    if (l->has_extent)
      printf("[%.3f, %.3f, %.3f, %.3f]}", l->extent.minx, l->extent.miny,
             l->extent.maxx, l->extent.maxy);
    else
      printf("null}");
    printf("%s\n", i + 1 < TGIS_LAYER_COUNT ? "," : "");
  }
  printf("  }\n}\n");
}

static int run(int argc, char **argv)
{
  static const struct option longopts[] = {
    { "json", no_argument, NULL, 'j' },
    { NULL, 0, NULL, 0 },
  };
  tgis_layer_info layers[TGIS_LAYER_COUNT];
  tgis_db_info db;
  tgis_ctx *ctx;
  int c, json = 0, rc = CLI_OK;

  opterr = 0;
  while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
    if (c != 'j')
      return cli_usage("info", "unknown option '%s'", argv[optind - 1]);
    json = 1;
  }
  if (argc - optind != 1)
    return cli_usage("info", "expected one database path");
  if (cli_open(&ctx, "info", argv[optind], TGIS_OPEN_READONLY, 0))
    return CLI_FAIL;
  if (tgis_db_info_get(&db, ctx) != TGIS_OK) {
    cli_error("info", "%s", tgis_errmsg(ctx));
    rc = CLI_FAIL;
    goto done;
  }
  for (int i = 0; i < TGIS_LAYER_COUNT; i++) {
    if (tgis_layer_info_get(&layers[i], ctx, (tgis_layer)i) != TGIS_OK) {
      cli_error("info", "%s", tgis_errmsg(ctx));
      rc = CLI_FAIL;
      goto done;
    }
  }
  if (json)
    print_json(argv[optind], &db, layers);
  else
    print_text(argv[optind], &db, layers);
done:
  tgis_close(ctx);
  return rc;
}

const cli_cmd cmd_info = { "info", "show layers, counts, extent, CRS and schema version",
                           run, help };
