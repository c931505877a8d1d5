/*
 * cmd_coverage.c -- `tgis coverage DB --facility KIND ...`: who reaches a
 * polyclinic or a school within a time, per district and per facility,
 * and (with --sites) where new ones would cover the most residents.
 * A thin layer over tgis_coverage_run() and tgis_coverage_sites().
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "progress.h"

static void help(FILE *out)
{
  fprintf(out,
    "usage: tgis coverage [options] DB --facility KIND\n"
    "\n"
    "Find every parcel's nearest facility of KIND (polyclinic, school) and the\n"
    "travel time and distance to it; the residents covered within the\n"
    "threshold per district; each facility's catchment residents and its\n"
    "load against capacity; the E2SFCA accessibility index per parcel and\n"
    "district. Results go to the coverage_* tables of DB under a new run id\n"
    "(docs/coverage.md); a short summary goes to stdout.\n"
    "\n"
    "Parcels and facilities are snapped to the nearest road they can use;\n"
    "a parcel further than --max-snap from every road is unreachable (kept,\n"
    "and counted). Driving times run from the parcel to the facility, with\n"
    "oneway streets respected; both ends add the walk between door and road.\n"
    "\n"
    "Options:\n"
    "  --facility KIND   polyclinic or school (required)\n"
    "  --mode MODE       walk (default) or drive\n"
    "  --minutes N       the threshold, minutes (default 15)\n"
    "  --method M        network (default): travel time along the roads;\n"
    "                    radius: straight-line distance from the centroid\n"
    "  --radius METRES   radius method: the radius (default: --minutes at\n"
    "                    the walking speed; required in drive mode)\n"
    "  --walk-kmh K      walking speed (default 5)\n"
    "  --max-snap M      snap distance limit, metres (default 500)\n"
    "  --sites K         also pick K new sites that cover the most residents\n"
    "                    not covered yet (greedy maximal covering)\n"
    "  --candidates FILE candidate sites for --sites: CSV lines x,y[,label]\n"
    "                    in the database CRS; default: public-land parcels\n"
    "  --dry-run         compute and print, write nothing\n"
    "  --json            print the summary as JSON\n"
    "  -q, --quiet       no progress and no summary\n"
    "  -h, --help        show this help\n"
    "\n"
    "Exit status: 0 success, 1 failure (nothing is written), 2 bad usage.\n");
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

/* ---- candidate file -------------------------------------------------------- */

typedef struct cands {
  double *xy;
  char **labels;
  size_t n, cap;
} cands;

static void cands_free(cands *c)
{
  for (size_t i = 0; i < c->n; i++)
    free(c->labels[i]);
  free(c->labels);
  free(c->xy);
  memset(c, 0, sizeof *c);
}

/* Read "x,y[,label]" lines; '#' comments, blank lines and a header line
 * (first field not a number) are skipped. */
static int cands_read(cands *c, const char *path)
{
  FILE *f = fopen(path, "r");
  char line[1024];
  int lineno = 0;

  if (!f) {
    cli_error("coverage", "%s: %s", path, strerror(errno));
    return -1;
  }
  while (fgets(line, sizeof line, f)) {
    char *p = line, *end, *label;
    double x, y;
    lineno++;
    line[strcspn(line, "\r\n")] = '\0';
    while (*p == ' ' || *p == '\t')
      p++;
    if (!*p || *p == '#')
      continue;
    x = strtod(p, &end);
    if (end == p || *end != ',') {
      if (lineno == 1)
        continue;  /* a header */
      cli_error("coverage", "%s:%d: expected x,y[,label]", path, lineno);
      goto fail;
    }
    p = end + 1;
    y = strtod(p, &end);
    if (end == p || (*end && *end != ',') || !isfinite(x) || !isfinite(y)) {
      cli_error("coverage", "%s:%d: expected x,y[,label]", path, lineno);
      goto fail;
    }
    label = *end == ',' ? end + 1 : NULL;
    if (c->n == c->cap) {
      size_t cap = c->cap ? 2 * c->cap : 64;
      double *xy = realloc(c->xy, 2 * cap * sizeof *xy);
      char **lb;
      if (!xy)
        goto nomem;
      c->xy = xy;
      if (!(lb = realloc(c->labels, cap * sizeof *lb)))
        goto nomem;
      c->labels = lb;
      c->cap = cap;
    }
    c->xy[2 * c->n] = x;
    c->xy[2 * c->n + 1] = y;
    c->labels[c->n] = label ? strdup(label) : NULL;
    if (label && !c->labels[c->n])
      goto nomem;
    c->n++;
  }
  fclose(f);
  if (c->n == 0) {
    cli_error("coverage", "%s: no candidate sites", path);
    return -1;
  }
  return 0;
nomem:
  cli_error("coverage", "out of memory reading %s", path);
fail:
  fclose(f);
  return -1;
}

/* ---- output -------------------------------------------------------------------- */

static const char *mode_str(tgis_travel_mode m) { return m == TGIS_TRAVEL_DRIVE ? "drive" : "walk"; }
static const char *method_str(tgis_coverage_method m)
{
  return m == TGIS_COVERAGE_RADIUS ? "radius" : "network";
}

static void json_str(const char *s)
{
  putchar('"');
  for (; s && *s; s++) {
    if (*s == '"' || *s == '\\')
      printf("\\%c", *s);
    else if ((unsigned char)*s < 0x20)
      printf("\\u%04x", *s);
    else
      putchar(*s);
  }
  putchar('"');
}

static void json_num(double v)
{
  if (isfinite(v))
    printf("%.6g", v);
  else
    printf("null");
}

static void print_json(const tgis_coverage_result *res)
{
  const tgis_coverage_summary *s = tgis_coverage_result_summary(res);
  const tgis_coverage_district *d;
  const tgis_coverage_facility *f;
  const tgis_coverage_site *st;
  size_t nd, nf, ns;

  d = tgis_coverage_result_districts(res, &nd);
  f = tgis_coverage_result_facilities(res, &nf);
  st = tgis_coverage_result_sites(res, &ns);
  printf("{\"run_id\": %lld, \"facility\": ", (long long)s->run_id);
  json_str(s->facility_kind);
  printf(", \"mode\": \"%s\", \"method\": \"%s\", \"minutes\": ", mode_str(s->mode),
         method_str(s->method));
  json_num(s->minutes);
  printf(", \"radius_m\": ");
  json_num(s->method == TGIS_COVERAGE_RADIUS ? s->radius_m : NAN);
  printf(",\n \"parcels\": %lld, \"residents\": %lld, \"covered_parcels\": %lld, "
         "\"covered_residents\": %lld, \"covered_share\": ",
         (long long)s->parcels, (long long)s->residents, (long long)s->covered_parcels,
         (long long)s->covered_residents);
  json_num(s->covered_share);
  printf(",\n \"unreachable_parcels\": %lld, \"unreachable_residents\": %lld, "
         "\"unsnapped_parcels\": %lld,\n \"facilities\": %lld, \"facilities_unsnapped\": %lld, "
         "\"facilities_overloaded\": %lld,\n \"network_nodes\": %lld, \"network_edges\": %lld, "
         "\"components\": %lld, \"off_main_parcels\": %lld, \"e2sfca\": ",
         (long long)s->unreachable_parcels, (long long)s->unreachable_residents,
         (long long)s->unsnapped_parcels, (long long)s->facilities,
         (long long)s->facilities_unsnapped, (long long)s->facilities_overloaded,
         (long long)s->network_nodes, (long long)s->network_edges, (long long)s->components,
         (long long)s->off_main_parcels);
  json_num(s->e2sfca);
  printf(",\n \"seconds\": %.3f, \"timing\": {\"load\": %.3f, \"graph\": %.3f, \"snap\": %.3f, "
         "\"search\": %.3f, \"e2sfca\": %.3f, \"aggregate\": %.3f, \"write\": %.3f},\n",
         s->seconds, s->timing.load, s->timing.graph, s->timing.snap, s->timing.search,
         s->timing.e2sfca, s->timing.aggregate, s->timing.write);
  printf(" \"districts\": [");
  for (size_t i = 0; i < nd; i++) {
    const tgis_district_ref *ref = tgis_district_by_soato(d[i].soato);
    printf("%s\n  {\"soato\": ", i ? "," : "");
    if (d[i].soato[0])
      json_str(d[i].soato);
    else
      printf("null");
    printf(", \"name\": ");
    if (ref)
      json_str(ref->name);
    else
      printf("null");
    printf(", \"parcels\": %lld, \"residents\": %lld, \"covered_residents\": %lld, "
           "\"unreachable_residents\": %lld, \"share\": ", (long long)d[i].parcels,
           (long long)d[i].residents, (long long)d[i].covered_residents,
           (long long)d[i].unreachable_residents);
    json_num(d[i].share);
    printf(", \"e2sfca\": ");
    json_num(d[i].e2sfca);
    printf("}");
  }
  printf("],\n \"facilities_detail\": [");
  for (size_t i = 0; i < nf; i++) {
    printf("%s\n  {\"id\": %lld, \"name\": ", i ? "," : "", (long long)f[i].facility_id);
    json_str(f[i].name);
    printf(", \"capacity\": ");
    if (f[i].capacity >= 0)
      printf("%lld", (long long)f[i].capacity);
    else
      printf("null");
    printf(", \"catchment_residents\": %lld, \"load\": ", (long long)f[i].catchment_residents);
    json_num(f[i].load);
    printf(", \"e2sfca_ratio\": ");
    json_num(f[i].ratio);
    printf(", \"snap_m\": ");
    json_num(f[i].snap_m);
    printf("}");
  }
  printf("],\n \"sites\": [");
  for (size_t i = 0; i < ns; i++) {
    printf("%s\n  {\"rank\": %d, \"parcel_id\": ", i ? "," : "", st[i].rank);
    if (st[i].parcel_id > 0)
      printf("%lld", (long long)st[i].parcel_id);
    else
      printf("null");
    printf(", \"label\": ");
    if (st[i].label)
      json_str(st[i].label);
    else
      printf("null");
    printf(", \"x\": %.3f, \"y\": %.3f, \"gain_residents\": %lld, \"covered_residents\": %lld}",
           st[i].x, st[i].y, (long long)st[i].gain_residents,
           (long long)st[i].covered_residents);
  }
  printf("]}\n");
}

static double pct(int64_t a, int64_t b) { return b > 0 ? 100.0 * (double)a / (double)b : 0.0; }

static void print_text(const tgis_coverage_result *res)
{
  const tgis_coverage_summary *s = tgis_coverage_result_summary(res);
  const tgis_coverage_district *d;
  const tgis_coverage_site *st;
  size_t nd, ns;

  d = tgis_coverage_result_districts(res, &nd);
  st = tgis_coverage_result_sites(res, &ns);
  if (s->run_id)
    printf("coverage run %lld: ", (long long)s->run_id);
  else
    printf("coverage (dry run, nothing written): ");
  printf("%s, %s %g min, %s", s->facility_kind, mode_str(s->mode), s->minutes,
         method_str(s->method));
  if (s->method == TGIS_COVERAGE_RADIUS)
    printf(" %.0f m", s->radius_m);
  printf("\n");
  printf("residents    %lld of %lld covered (%.1f%%), in %lld of %lld parcels\n",
         (long long)s->covered_residents, (long long)s->residents,
         pct(s->covered_residents, s->residents), (long long)s->covered_parcels,
         (long long)s->parcels);
  printf("unreachable  %lld parcels, %lld residents", (long long)s->unreachable_parcels,
         (long long)s->unreachable_residents);
  if (s->method == TGIS_COVERAGE_NETWORK)
    printf(" (%lld not within %.0f m of a road)", (long long)s->unsnapped_parcels,
           s->max_snap_m);
  printf("\n");
  printf("facilities   %lld, %lld overloaded, %lld not reachable\n", (long long)s->facilities,
         (long long)s->facilities_overloaded, (long long)s->facilities_unsnapped);
  if (s->method == TGIS_COVERAGE_NETWORK)
    printf("network      %lld nodes, %lld edges, %lld component%s (%lld parcels off the "
           "largest)\n", (long long)s->network_nodes, (long long)s->network_edges,
           (long long)s->components, s->components == 1 ? "" : "s",
           (long long)s->off_main_parcels);
  printf("e2sfca       %.4g capacity per 1000 residents (city mean)\n", s->e2sfca * 1000.0);
  printf("\n%-8s %-20s %10s %10s %7s %10s\n", "soato", "district", "residents", "covered",
         "share", "e2sfca/1k");
  for (size_t i = 0; i < nd; i++) {
    const tgis_district_ref *ref = tgis_district_by_soato(d[i].soato);
    printf("%-8s %-20s %10lld %10lld %6.1f%% %10.4g\n", d[i].soato[0] ? d[i].soato : "-",
           ref ? ref->name : (d[i].soato[0] ? "?" : "(no district)"), (long long)d[i].residents,
           (long long)d[i].covered_residents, pct(d[i].covered_residents, d[i].residents),
           isfinite(d[i].e2sfca) ? d[i].e2sfca * 1000.0 : 0.0);
  }
  if (ns) {
    printf("\n%-4s %-28s %12s %12s %10s\n", "site", "label", "x", "y", "gain");
    for (size_t i = 0; i < ns; i++)
      printf("%-4d %-28s %12.1f %12.1f %10lld\n", st[i].rank, st[i].label ? st[i].label : "-",
             st[i].x, st[i].y, (long long)st[i].gain_residents);
  }
  printf("\n%.2f s (load %.2f, graph %.2f, snap %.2f, search %.2f, e2sfca %.2f, "
         "write %.2f)\n", s->seconds, s->timing.load, s->timing.graph, s->timing.snap,
         s->timing.search, s->timing.e2sfca, s->timing.write);
}

/* ---- the command ------------------------------------------------------------------ */

static int run(int argc, char **argv)
{
  static const struct option longopts[] = {
    { "facility", required_argument, NULL, 'f' },
    { "mode", required_argument, NULL, 'm' },
    { "minutes", required_argument, NULL, 'n' },
    { "method", required_argument, NULL, 'M' },
    { "radius", required_argument, NULL, 'r' },
    { "walk-kmh", required_argument, NULL, 'w' },
    { "max-snap", required_argument, NULL, 's' },
    { "sites", required_argument, NULL, 'k' },
    { "candidates", required_argument, NULL, 'c' },
    { "dry-run", no_argument, NULL, 'd' },
    { "json", no_argument, NULL, 'j' },
    { "quiet", no_argument, NULL, 'q' },
    { NULL, 0, NULL, 0 },
  };
  tgis_coverage_options o = TGIS_COVERAGE_OPTIONS_INIT;
  tgis_coverage_site_options so = TGIS_COVERAGE_SITE_OPTIONS_INIT;
  tgis_coverage_result *res = NULL;
  cli_progress prog;
  cands cand;
  struct sigaction sa, old;
  const char *facility = NULL, *cand_path = NULL;
  long sites = 0;
  int c, json = 0, quiet = 0, rc = CLI_OK;
  tgis_ctx *ctx;

  memset(&cand, 0, sizeof cand);
  opterr = 0;
  optind = 1;
  while ((c = getopt_long(argc, argv, ":q", longopts, NULL)) != -1) {
    switch (c) {
    case 'f': facility = optarg; break;
    case 'm': case 'M': case 'n': case 'r': case 'w': case 's':
      if ((rc = cli_coverage_option("coverage", c, optarg, &o)) != CLI_OK)
        return rc;
      break;
    case 'k':
      if (cli_parse_long(optarg, 1, 10000, &sites))
        return cli_usage("coverage", "--sites: '%s' is not a count from 1 to 10000", optarg);
      break;
    case 'c': cand_path = optarg; break;
    case 'd': o.flags |= TGIS_COVERAGE_DRY_RUN; break;
    case 'j': json = 1; break;
    case 'q': quiet = 1; break;
    case ':':
      return cli_usage("coverage", "option '%s' needs a value", argv[optind - 1]);
    default:
      return cli_usage("coverage", "unknown option '%s'", argv[optind - 1]);
    }
  }
  if (argc - optind != 1)
    return cli_usage("coverage", "expected one database path");
  if (!facility)
    return cli_usage("coverage", "--facility is required (polyclinic or school)");
  if (cand_path && !sites)
    return cli_usage("coverage", "--candidates needs --sites K");
  o.facility_kind = facility;
  if (cand_path && cands_read(&cand, cand_path))
    return CLI_FAIL;
  if (cli_open(&ctx, "coverage", argv[optind],
               (o.flags & TGIS_COVERAGE_DRY_RUN) ? TGIS_OPEN_READONLY : 0, 0)) {
    cands_free(&cand);
    return CLI_FAIL;
  }

  cli_progress_init(&prog, !quiet && !json && cli_stderr_is_tty());
  o.progress = so.progress = on_progress;
  o.progress_payload = so.progress_payload = &prog;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigint;
  sigaction(SIGINT, &sa, &old);

  if (tgis_coverage_run(&res, ctx, &o) != TGIS_OK) {
    cli_progress_done(&prog);
    cli_error("coverage", "%s", tgis_errmsg(ctx));
    fprintf(stderr, "tgis coverage: nothing was written\n");
    rc = CLI_FAIL;
    goto done;
  }
  if (sites) {
    so.k = (int)sites;
    if (cand.n) {
      so.candidates = cand.xy;
      so.labels = (const char *const *)cand.labels;
      so.n_candidates = cand.n;
    }
    if (tgis_coverage_sites(ctx, res, &so) != TGIS_OK) {
      cli_progress_done(&prog);
      cli_error("coverage", "%s", tgis_errmsg(ctx));
      if (tgis_coverage_result_summary(res)->run_id)
        fprintf(stderr, "tgis coverage: run %lld is stored, without sites\n",
                (long long)tgis_coverage_result_summary(res)->run_id);
      rc = CLI_FAIL;
      goto done;
    }
  }
  cli_progress_done(&prog);
  if (!quiet) {
    if (json)
      print_json(res);
    else
      print_text(res);
  }
done:
  sigaction(SIGINT, &old, NULL);
  tgis_coverage_result_free(res);
  tgis_close(ctx);
  cands_free(&cand);
  return rc;
}

const cli_cmd cmd_coverage = { "coverage",
                               "who reaches a polyclinic or school in time; where to build",
                               run, help };
