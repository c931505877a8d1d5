/*
 * cmd_tiles.c -- `tgis tiles render|seed`: one tile to a file, or a tile
 * set into MBTiles.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void help(FILE *out)
{
  fprintf(out,
    "usage: tgis tiles render DB Z/X/Y [--theme T] [--scale 2] [--styles DIR] -o FILE.png\n"
    "       tgis tiles seed DB --zoom 10-16 [--bbox W,S,E,N] [--theme T[,T..]]\n"
    "                       [--scale 2] [--jobs N] [--styles DIR] -o FILE.mbtiles\n"
    "\n"
    "render  draws one 256x256 tile (512x512 with --scale 2) of Z/X/Y in the XYZ\n"
    "        scheme (Web Mercator, y from the north) and writes it as PNG.\n"
    "seed    renders every tile of the zooms over the area into an MBTiles 1.3\n"
    "        file (one per theme; with several themes FILE gets -THEME before\n"
    "        .mbtiles). An interrupted seed resumes where it stopped when run\n"
    "        again with the same arguments.\n"
    "\n"
    "Options:\n"
    "  --theme T     a theme of the styles directory (default: base)\n"
    "  --scale N     1 or 2 (HiDPI)\n"
    "  --styles DIR  directory of theme files (default: the installed themes)\n"
    "  --zoom A-B    zoom levels to seed, 0..22 (or one zoom)\n"
    "  --bbox W,S,E,N  area to seed in degrees (default: the parcels' extent)\n"
    "  --jobs N      rendering threads (default: the number of cores)\n"
    "  -o FILE       output file\n"
    "  -h, --help    show this help\n"
    "DB is opened read-only.\n");
}

/* Parse "Z/X/Y" strictly. */
static int parse_zxy(const char *s, int *z, int *x, int *y)
{
  char buf[64], *p1, *p2;
  long v[3];
  if (strlen(s) >= sizeof buf)
    return -1;
  strcpy(buf, s);
  if (!(p1 = strchr(buf, '/')) || !(p2 = strchr(p1 + 1, '/')))
    return -1;
  *p1++ = '\0';
  *p2++ = '\0';
  if (cli_parse_long(buf, 0, 22, &v[0]) || cli_parse_long(p1, 0, (1L << v[0]) - 1, &v[1]) ||
      cli_parse_long(p2, 0, (1L << v[0]) - 1, &v[2]))
    return -1;
  *z = (int)v[0];
  *x = (int)v[1];
  *y = (int)v[2];
  return 0;
}

static int write_file(const char *path, const unsigned char *b, size_t n)
{
  FILE *f = strcmp(path, "-") == 0 ? stdout : fopen(path, "wb");
  if (!f)
    return -1;
  size_t w = fwrite(b, 1, n, f);
  int bad = w != n || (f == stdout ? fflush(f) : fclose(f)) != 0;
  return bad ? -1 : 0;
}

static int render(int argc, char **argv)
{
  static const struct option longopts[] = {
    { "theme", required_argument, NULL, 't' },
    { "scale", required_argument, NULL, 's' },
    { "styles", required_argument, NULL, 'S' },
    { "output", required_argument, NULL, 'o' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  const char *theme = "base", *styles = NULL, *out = NULL;
  long scale = 1;
  int c, z, x, y, rc = CLI_OK;
  tgis_ctx *ctx;
  tgis_tiles *t = NULL;
  unsigned char *png = NULL;
  size_t len = 0;
  tgis_status st;

  optind = 1;
  while ((c = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
    switch (c) {
    case 't': theme = optarg; break;
    case 'S': styles = optarg; break;
    case 'o': out = optarg; break;
    case 's':
      if (cli_parse_long(optarg, 1, 2, &scale))
        return cli_usage("tiles render", "--scale '%s': must be 1 or 2", optarg);
      break;
    case 'h': help(stdout); return CLI_OK;
    default: return cli_usage("tiles render", "bad option");
    }
  }
  if (argc - optind != 2)
    return cli_usage("tiles render", "expected DB and Z/X/Y");
  if (parse_zxy(argv[optind + 1], &z, &x, &y))
    return cli_usage("tiles render", "'%s': not a tile Z/X/Y (z 0..22, x and y 0..2^z-1)",
                     argv[optind + 1]);
  if (!out)
    return cli_usage("tiles render", "no output file (-o FILE.png, or - for stdout)");
  if ((rc = cli_open(&ctx, "tiles render", argv[optind], TGIS_OPEN_READONLY, 0)) != CLI_OK)
    return rc;
  if ((st = tgis_tiles_open(&t, ctx, styles)) != TGIS_OK ||
      (st = tgis_tiles_render(t, theme, z, x, y, (int)scale, &png, &len)) != TGIS_OK) {
    cli_error("tiles render", "%s", tgis_errmsg(ctx));
    rc = CLI_FAIL;
  } else if (write_file(out, png, len)) {
    cli_error("tiles render", "%s: cannot write", out);
    rc = CLI_FAIL;
  }
  tgis_free(ctx, png);
  tgis_tiles_close(t);
  tgis_close(ctx);
  return rc;
}

int cli_tiles_seed(int argc, char **argv);

static int run(int argc, char **argv)
{
  if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
    help(argc < 2 ? stderr : stdout);
    return argc < 2 ? CLI_USAGE : CLI_OK;
  }
  if (strcmp(argv[1], "render") == 0)
    return render(argc - 1, argv + 1);
  if (strcmp(argv[1], "seed") == 0)
    return cli_tiles_seed(argc - 1, argv + 1);
  return cli_usage("tiles", "unknown subcommand '%s' (render, seed)", argv[1]);
}

const cli_cmd cmd_tiles = { "tiles", "render a map tile, or seed tiles into MBTiles", run, help };
