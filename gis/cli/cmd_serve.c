/*
 * cmd_serve.c -- `tgis serve DB`: the tile server and map viewer until
 * Ctrl-C.
 */
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static void help(FILE *out)
{
  fprintf(out,
    "usage: tgis serve DB [--bind 127.0.0.1] [--port 8080] [options]\n"
    "       tgis serve --mbtiles FILE [DB] [options]\n"
    "\n"
    "Serve the map viewer at /, tiles at /tiles/THEME/Z/X/Y.png (and @2x.png),\n"
    "TileJSON at /tiles/THEME.json, feature info at /info?lon=..&lat=.., search\n"
    "at /search?q=.., /themes.json, /healthz and /stats. DB is opened read-only;\n"
    "tiles that a later import changes are re-rendered (the server looks for\n"
    "committed imports every --poll seconds). Stop with Ctrl-C.\n"
    "\n"
    "Options:\n"
    "  --bind ADDR     IPv4 address to listen on (default 127.0.0.1; 0.0.0.0 for all)\n"
    "  --port N        TCP port (default 8080; 0 picks a free one)\n"
    "  --threads N     request threads (default: two per core)\n"
    "  --cache-mb N    memory bound of the tile cache (default 256)\n"
    "  --styles DIR    theme files (default: the installed themes)\n"
    "  --viewer-dir DIR  the viewer's files (default: installed)\n"
    "  --vendor-dir DIR  npm packages holding leaflet (default: installed)\n"
    "  --mbtiles FILE  serve this seeded tile set instead of rendering\n"
    "  --poll SECONDS  how often to look for committed imports (default 1)\n"
    "  -h, --help      show this help\n");
}

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
  (void)sig;
  stop_requested = 1;
}

static int run(int argc, char **argv)
{
  static const struct option longopts[] = {
    { "bind", required_argument, NULL, 'b' },
    { "port", required_argument, NULL, 'p' },
    { "threads", required_argument, NULL, 't' },
    { "cache-mb", required_argument, NULL, 'c' },
    { "styles", required_argument, NULL, 'S' },
    { "viewer-dir", required_argument, NULL, 'V' },
    { "vendor-dir", required_argument, NULL, 'N' },
    { "mbtiles", required_argument, NULL, 'm' },
    { "poll", required_argument, NULL, 'P' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  tgis_server_options so = TGIS_SERVER_OPTIONS_INIT;
  tgis_server *srv = NULL;
  tgis_ctx *ctx = NULL;
  struct sigaction sa;
  tgis_status st;
  long v;
  double d;
  int c, rc;

  optind = 1;
  while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
    switch (c) {
    case 'b': so.bind = optarg; break;
    case 'S': so.styles_dir = optarg; break;
    case 'V': so.viewer_dir = optarg; break;
    case 'N': so.vendor_dir = optarg; break;
    case 'm': so.mbtiles = optarg; break;
    case 'p':
      if (cli_parse_long(optarg, 0, 65535, &v))
        return cli_usage("serve", "--port '%s': must be 0 to 65535", optarg);
      so.port = (int)v;
      break;
    case 't':
      if (cli_parse_long(optarg, 1, 64, &v))
        return cli_usage("serve", "--threads '%s': must be 1 to 64", optarg);
      so.threads = (int)v;
      break;
    case 'c':
      if (cli_parse_long(optarg, 1, 1 << 20, &v))
        return cli_usage("serve", "--cache-mb '%s': must be 1 to 1048576", optarg);
      so.cache_bytes = (size_t)v << 20;
      break;
    case 'P':
      if (cli_parse_double(optarg, &d) || !(d >= 0.05 && d <= 3600))
        return cli_usage("serve", "--poll '%s': seconds, 0.05 to 3600", optarg);
      so.poll_seconds = d;
      break;
    case 'h': help(stdout); return CLI_OK;
    default: return cli_usage("serve", "bad option");
    }
  }
  if (argc - optind > 1 || (argc - optind == 0 && !so.mbtiles))
    return cli_usage("serve", "expected one DB (or --mbtiles FILE)");
  if (so.mbtiles && access(so.mbtiles, R_OK) != 0) {
    cli_error("serve", "%s: no such MBTiles file", so.mbtiles);
    return CLI_FAIL;
  }
  if (argc - optind == 1) {
    if ((rc = cli_open(&ctx, "serve", argv[optind], TGIS_OPEN_READONLY, 0)) != CLI_OK)
      return rc;
  } else if (tgis_open(&ctx, NULL, NULL) != TGIS_OK) {
    cli_error("serve", "out of memory");
    tgis_close(ctx);
    return CLI_FAIL;
  }
  if ((st = tgis_server_start(&srv, ctx, &so)) != TGIS_OK) {
    cli_error("serve", "%s", tgis_errmsg(ctx));
    tgis_close(ctx);
    return CLI_FAIL;
  }
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
  printf("tgis: serving %s at http://%s:%d/ (Ctrl-C stops)\n",
         so.mbtiles ? so.mbtiles : argv[optind], so.bind, tgis_server_port(srv));
  fflush(stdout);
  while (!stop_requested)
    pause();
  tgis_server_stop(srv);
  tgis_close(ctx);
  fprintf(stderr, "tgis serve: stopped\n");
  return CLI_OK;
}

const cli_cmd cmd_serve = { "serve", "serve map tiles and the web map viewer over HTTP", run, help };
