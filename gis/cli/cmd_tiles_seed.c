/*
 * cmd_tiles_seed.c -- `tgis tiles seed`: a tile set into MBTiles, with a
 * progress bar; Ctrl-C stops after committing what is rendered.
 */
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "progress.h"

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
  (void)sig;
  interrupted = 1;
}

static int on_progress(const char *stage, int64_t done, int64_t total, void *payload)
{
  cli_progress *p = payload;
  (void)stage;
  if (interrupted)
    return 1;
  cli_progress_update(p, "seeding", total > 0 ? (double)done / (double)total : 0);
  return 0;
}

static int parse_zooms(const char *s, int *a, int *b)
{
  char buf[32], *dash;
  long v0, v1;
  if (strlen(s) >= sizeof buf)
    return -1;
  strcpy(buf, s);
  if ((dash = strchr(buf, '-')))
    *dash++ = '\0';
  if (cli_parse_long(buf, 0, 22, &v0) || (dash && cli_parse_long(dash, 0, 22, &v1)))
    return -1;
  *a = (int)v0;
  *b = dash ? (int)v1 : (int)v0;
  return *a <= *b ? 0 : -1;
}

static int parse_bbox(const char *s, double b[4])
{
  char buf[256], *tok, *save = NULL;
  int n = 0;
  if (strlen(s) >= sizeof buf)
    return -1;
  strcpy(buf, s);
  for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    if (n == 4 || cli_parse_double(tok, &b[n]))
      return -1;
    n++;
  }
  return n == 4 ? 0 : -1;
}

int cli_tiles_seed(int argc, char **argv);

int cli_tiles_seed(int argc, char **argv)
{
  static const struct option longopts[] = {
    { "theme", required_argument, NULL, 't' },
    { "zoom", required_argument, NULL, 'z' },
    { "bbox", required_argument, NULL, 'b' },
    { "scale", required_argument, NULL, 's' },
    { "jobs", required_argument, NULL, 'j' },
    { "styles", required_argument, NULL, 'S' },
    { "output", required_argument, NULL, 'o' },
    { "quiet", no_argument, NULL, 'q' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  tgis_seed_options so = TGIS_SEED_OPTIONS_INIT;
  tgis_seed_result res;
  const char *out = NULL;
  int c, rc, quiet = 0, have_zoom = 0;
  long v;
  tgis_ctx *ctx;
  cli_progress prog;
  struct sigaction sa, old_int, old_term;
  tgis_status st;

  optind = 1;
  while ((c = getopt_long(argc, argv, "o:j:qh", longopts, NULL)) != -1) {
    switch (c) {
    case 't': so.theme = optarg; break;
    case 'S': so.styles_dir = optarg; break;
    case 'o': out = optarg; break;
    case 'q': quiet = 1; break;
    case 'z':
      if (parse_zooms(optarg, &so.min_zoom, &so.max_zoom))
        return cli_usage("tiles seed", "--zoom '%s': want A-B or A, zooms 0..22, A <= B", optarg);
      have_zoom = 1;
      break;
    case 'b':
      if (parse_bbox(optarg, so.bbox))
        return cli_usage("tiles seed", "--bbox '%s': want W,S,E,N in degrees", optarg);
      so.has_bbox = 1;
      break;
    case 's':
      if (cli_parse_long(optarg, 1, 2, &v))
        return cli_usage("tiles seed", "--scale '%s': must be 1 or 2", optarg);
      so.scale = (int)v;
      break;
    case 'j':
      if (cli_parse_long(optarg, 1, 64, &v))
        return cli_usage("tiles seed", "--jobs '%s': must be 1 to 64", optarg);
      so.jobs = (int)v;
      break;
    case 'h':
      fprintf(stdout, "usage: tgis tiles seed DB --zoom A-B [options] -o FILE.mbtiles\n"
                      "See 'tgis tiles --help'.\n");
      return CLI_OK;
    default: return cli_usage("tiles seed", "bad option");
    }
  }
  if (argc - optind != 1)
    return cli_usage("tiles seed", "expected one DB");
  if (!out)
    return cli_usage("tiles seed", "no output file (-o FILE.mbtiles)");
  if (!have_zoom)
    return cli_usage("tiles seed", "no zooms (--zoom 10-16)");
  if ((rc = cli_open(&ctx, "tiles seed", argv[optind], TGIS_OPEN_READONLY, 0)) != CLI_OK)
    return rc;

  cli_progress_init(&prog, !quiet && cli_stderr_is_tty());
  so.progress = on_progress;
  so.progress_payload = &prog;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, &old_int);
  sigaction(SIGTERM, &sa, &old_term);
  st = tgis_tiles_seed(&res, ctx, out, &so);
  sigaction(SIGINT, &old_int, NULL);
  sigaction(SIGTERM, &old_term, NULL);
  cli_progress_done(&prog);

  if (st != TGIS_OK) {
    cli_error("tiles seed", "%s", tgis_errmsg(ctx));
    rc = CLI_FAIL;
  } else
    rc = CLI_OK;
  if (!quiet && (st == TGIS_OK || st == TGIS_ECANCELLED))
    printf("%s: %lld tiles (z%d-%d, theme %s): %lld rendered now, %lld already there; "
           "%.1f MB in %.1f s, %.0f tiles/s on %d threads\n", out, (long long)res.tiles,
           so.min_zoom, so.max_zoom, so.theme, (long long)res.rendered, (long long)res.already,
           res.bytes / 1e6, res.seconds, res.seconds > 0 ? res.rendered / res.seconds : 0.0,
           res.jobs);
  tgis_close(ctx);
  return rc;
}
