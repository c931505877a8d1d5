/*
 * coverage_opts.c -- the analysis options `tgis coverage` and `tgis report
 * coverage` share (--mode, --method, --minutes, --radius, --walk-kmh,
 * --max-snap), parsed in one place.
 */
#include <math.h>
#include <string.h>

#include "cli.h"

/* A number > 0 from `arg`, or a usage error naming the option. */
static int positive(const char *cmd, const char *opt, const char *what, const char *arg,
                    double *out)
{
  double v;
  if (cli_parse_double(arg, &v) || !(v > 0) || !isfinite(v))
    return cli_usage(cmd, "%s: '%s' is not %s > 0", opt, arg, what);
  *out = v;
  return CLI_OK;
}

int cli_coverage_option(const char *cmd, int c, const char *arg, tgis_coverage_options *o)
{
  switch (c) {
  case 'm':
    if (!strcmp(arg, "walk"))
      o->mode = TGIS_TRAVEL_WALK;
    else if (!strcmp(arg, "drive"))
      o->mode = TGIS_TRAVEL_DRIVE;
    else
      return cli_usage(cmd, "--mode: '%s' is not walk or drive", arg);
    return CLI_OK;
  case 'M':
    if (!strcmp(arg, "network"))
      o->method = TGIS_COVERAGE_NETWORK;
    else if (!strcmp(arg, "radius"))
      o->method = TGIS_COVERAGE_RADIUS;
    else
      return cli_usage(cmd, "--method: '%s' is not network or radius", arg);
    return CLI_OK;
  case 'n': return positive(cmd, "--minutes", "a number", arg, &o->minutes);
  case 'r': return positive(cmd, "--radius", "a distance", arg, &o->radius_m);
  case 'w': return positive(cmd, "--walk-kmh", "a speed", arg, &o->walk_kmh);
  case 's': return positive(cmd, "--max-snap", "a distance", arg, &o->max_snap_m);
  default: return -1;
  }
}
