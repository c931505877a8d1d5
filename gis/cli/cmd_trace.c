/*
 * cmd_trace.c -- `tgis trace DB --network NET --fail ID`: what a failure in
 * a utility network cuts off, and the valves that isolate it. A thin layer
 * over tgis_trace_run(); docs/trace.md has the rules.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define MAX_CLOSED 256

static void help(FILE *out)
{
  fprintf(out,
    "usage: tgis trace DB --network gas|power|water|heat --fail ID [options]\n"
    "\n"
    "Trace a failure in a utility network: the nodes, lines, consumers,\n"
    "parcels and residents cut off from every source by the failed line or\n"
    "node, and the valves (power: switches) to close to isolate it, with what\n"
    "closing them cuts off in turn. Opens DB read-only. See docs/trace.md.\n"
    "\n"
    "Options:\n"
    "  --network NET    gas, power, water or heat (required)\n"
    "  --fail ID        ext_id of the failed line or node (required)\n"
    "  --closed ID      a valve or switch that is already closed; repeatable\n"
    "  --radius M       a parcel is served by the nearest consumer node within\n"
    "                   M metres of it (default 200)\n"
    "  --tolerance M    line ends without a node reference join what lies\n"
    "                   within M metres (default 0.5)\n"
    "  --list           also list the ids of everything cut off\n"
    "  --json           everything, machine-readable\n"
    "  -h, --help       show this help\n"
    "\n"
    "Parcels are named by cadastre number. Exit status: 0 success, 1 the\n"
    "trace failed (unknown id, no sources, unreadable database), 2 bad usage.\n");
}

/* ---- JSON -------------------------------------------------------------------- */

static void json_str(const char *s)
{
  if (!s) {
    fputs("null", stdout);
    return;
  }
  putchar('"');
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\')
      printf("\\%c", c);
    else if (c < 0x20)
      printf("\\u%04x", c);
    else
      putchar(c);
  }
  putchar('"');
}

static void json_nodes(const char *key, const tgis_trace_node *v, size_t n, const char *indent)
{
  printf("%s\"%s\": [", indent, key);
  for (size_t i = 0; i < n; i++) {
    printf("%s\n%s  {\"id\": ", i ? "," : "", indent);
    json_str(v[i].id);
    printf(", \"kind\": \"%s\", \"x\": %.3f, \"y\": %.3f}", v[i].kind, v[i].x, v[i].y);
  }
  printf("%s%s]", n ? "\n" : "", n ? indent : "");
}

static void json_lines(const char *key, const tgis_trace_line *v, size_t n, const char *indent)
{
  printf("%s\"%s\": [", indent, key);
  for (size_t i = 0; i < n; i++) {
    printf("%s\n%s  {\"id\": ", i ? "," : "", indent);
    json_str(v[i].id);
    printf(", \"kind\": \"%s\", \"from\": ", v[i].kind);
    json_str(v[i].from);
    printf(", \"to\": ");
    json_str(v[i].to);
    putchar('}');
  }
  printf("%s%s]", n ? "\n" : "", n ? indent : "");
}

static void json_scenario(const tgis_trace_result *r, tgis_trace_scenario sc)
{
  tgis_trace_totals t;
  const tgis_trace_node *nv;
  const tgis_trace_line *lv;
  const tgis_trace_parcel *p;
  size_t n;

  tgis_trace_totals_get(&t, r, sc);
  printf("  \"%s\": {\n", sc == TGIS_TRACE_FAILURE ? "failure" : "isolation");
  printf("    \"totals\": {\"nodes\": %zu, \"lines\": %zu, \"consumers\": %zu, "
         "\"parcels\": %zu, \"residents\": %lld},\n",
         t.nodes, t.lines, t.consumers, t.parcels, (long long)t.residents);
  nv = tgis_trace_nodes(r, sc, &n);
  json_nodes("nodes", nv, n, "    ");
  printf(",\n");
  lv = tgis_trace_lines(r, sc, &n);
  json_lines("lines", lv, n, "    ");
  printf(",\n    \"consumers\": [");
  {
    const tgis_trace_node *c = tgis_trace_consumers(r, sc, &n);
    for (size_t i = 0; i < n; i++) {
      printf("%s", i ? ", " : "");
      json_str(c[i].id);
    }
  }
  printf("],\n    \"parcels\": [");
  p = tgis_trace_parcels(r, sc, &n);
  for (size_t i = 0; i < n; i++) {
    printf("%s\n      {\"cadastre\": ", i ? "," : "");
    json_str(p[i].cadastre);
    printf(", \"ext_id\": ");
    json_str(p[i].ext_id);
    printf(", \"residents\": %lld, \"consumer\": ", (long long)p[i].residents);
    json_str(p[i].consumer);
    printf(", \"distance_m\": %.2f}", p[i].distance_m);
  }
  printf("%s]\n  }", n ? "\n    " : "");
}

static void print_json(const tgis_trace_result *r)
{
  tgis_trace_info in;
  const tgis_trace_node *v, *nv;
  const tgis_trace_line *lv;
  size_t n;

  tgis_trace_info_get(&in, r);
  printf("{\n  \"network\": ");
  json_str(in.network);
  printf(",\n  \"failed\": {\"id\": ");
  json_str(in.failed_id);
  printf(", \"type\": \"%s\", \"kind\": \"%s\"},\n", in.failed_is_line ? "line" : "node",
         in.failed_kind);
  printf("  \"graph\": {\"nodes\": %zu, \"lines\": %zu, \"sources\": %zu, \"valves\": %zu, "
         "\"joined_ends\": %zu, \"implicit_junctions\": %zu, \"unfed_before\": %zu},\n",
         in.nodes, in.lines, in.sources, in.valves, in.joined_ends, in.implicit_junctions,
         in.unfed_before);
  json_scenario(r, TGIS_TRACE_FAILURE);
  printf(",\n");
  json_scenario(r, TGIS_TRACE_ISOLATION);
  printf(",\n");
  v = tgis_trace_valves(r, &n);
  json_nodes("valves_to_close", v, n, "  ");
  printf(",\n  \"segment\": {\n");
  nv = tgis_trace_segment_nodes(r, &n);
  json_nodes("nodes", nv, n, "    ");
  printf(",\n");
  lv = tgis_trace_segment_lines(r, &n);
  json_lines("lines", lv, n, "    ");
  printf("\n  },\n  \"seconds\": %.4f\n}\n", in.seconds);
}

/* ---- text --------------------------------------------------------------------- */

static void list_ids(const char *label, const tgis_trace_node *v, size_t n)
{
  printf("%s (%zu):", label, n);
  for (size_t i = 0; i < n; i++)
    printf(" %s", v[i].id);
  putchar('\n');
}

static void list_scenario(const tgis_trace_result *r, tgis_trace_scenario sc, const char *title)
{
  const tgis_trace_node *nv;
  const tgis_trace_line *l;
  const tgis_trace_parcel *p;
  size_t n;

  printf("\n%s\n", title);
  nv = tgis_trace_nodes(r, sc, &n);
  list_ids("  nodes", nv, n);
  l = tgis_trace_lines(r, sc, &n);
  printf("  lines (%zu):", n);
  for (size_t i = 0; i < n; i++)
    printf(" %s", l[i].id);
  putchar('\n');
  nv = tgis_trace_consumers(r, sc, &n);
  list_ids("  consumers", nv, n);
  p = tgis_trace_parcels(r, sc, &n);
  printf("  parcels (%zu):\n", n);
  for (size_t i = 0; i < n; i++)
    printf("    %-24s %6lld residents  via %s\n",
           p[i].cadastre ? p[i].cadastre : p[i].ext_id ? p[i].ext_id : "(no id)",
           (long long)p[i].residents, p[i].consumer);
}

static void print_text(const tgis_trace_result *r, int list)
{
  tgis_trace_info in;
  tgis_trace_totals t[2];
  const tgis_trace_node *v, *nv;
  size_t n, sn, sl;

  tgis_trace_info_get(&in, r);
  tgis_trace_totals_get(&t[0], r, TGIS_TRACE_FAILURE);
  tgis_trace_totals_get(&t[1], r, TGIS_TRACE_ISOLATION);
  printf("%s network: %zu nodes, %zu lines, %zu sources, %zu valves/switches\n", in.network,
         in.nodes, in.lines, in.sources, in.valves);
  if (in.joined_ends || in.implicit_junctions)
    printf("  %zu line ends joined by geometry, %zu implicit junctions\n", in.joined_ends,
           in.implicit_junctions);
  if (in.unfed_before)
    printf("  %zu nodes were not fed by any source before the failure\n", in.unfed_before);
  printf("failed: %s (%s %s)\n\n", in.failed_id, in.failed_kind,
         in.failed_is_line ? "line" : "node");
  printf("%-22s %8s %8s %10s %8s %10s\n", "cut off", "nodes", "lines", "consumers",
         "parcels", "residents");
  for (int sc = 0; sc < 2; sc++)
    printf("%-22s %8zu %8zu %10zu %8zu %10lld\n",
           sc ? "while isolating" : "by the failure", t[sc].nodes, t[sc].lines,
           t[sc].consumers, t[sc].parcels, (long long)t[sc].residents);
  v = tgis_trace_valves(r, &n);
  tgis_trace_segment_nodes(r, &sn);
  tgis_trace_segment_lines(r, &sl);
  if (n) {
    printf("\nvalves to close (%zu):", n);
    for (size_t i = 0; i < n; i++)
      printf(" %s", v[i].id);
    printf("\n");
  } else {
    printf("\nno valve isolates it: its whole connected part must be shut\n");
  }
  printf("isolated segment: %zu nodes, %zu lines\n", sn, sl);
  /* No valve between a source and the failure: the source is shut. */
  nv = tgis_trace_segment_nodes(r, &sn);
  n = 0;
  for (size_t i = 0; i < sn; i++)
    if (strcmp(nv[i].kind, "source") == 0)
      printf("%s %s", n++ ? "" : "sources shut with the segment:", nv[i].id);
  if (n)
    putchar('\n');
  if (list) {
    list_scenario(r, TGIS_TRACE_FAILURE, "cut off by the failure:");
    list_scenario(r, TGIS_TRACE_ISOLATION, "cut off while isolating:");
    nv = tgis_trace_segment_nodes(r, &n);
    list_ids("\nsegment nodes", nv, n);
  }
  printf("time: %.3f s\n", in.seconds);
}

static int run(int argc, char **argv)
{
  static const struct option longopts[] = {
    { "network", required_argument, NULL, 'n' },
    { "fail", required_argument, NULL, 'f' },
    { "closed", required_argument, NULL, 'c' },
    { "radius", required_argument, NULL, 'r' },
    { "tolerance", required_argument, NULL, 't' },
    { "list", no_argument, NULL, 'l' },
    { "json", no_argument, NULL, 'j' },
    { NULL, 0, NULL, 0 },
  };
  const char *closed[MAX_CLOSED];
  tgis_trace_options o = TGIS_TRACE_OPTIONS_INIT;
  tgis_trace_result *r = NULL;
  tgis_ctx *ctx;
  int c, json = 0, list = 0, rc = CLI_OK;

  opterr = 0;
  while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
    switch (c) {
    case 'n': o.network = optarg; break;
    case 'f': o.fail_id = optarg; break;
    case 'c':
      if (o.n_closed == MAX_CLOSED)
        return cli_usage("trace", "at most %d --closed valves", MAX_CLOSED);
      closed[o.n_closed++] = optarg;
      break;
    case 'r':
      if (cli_parse_double(optarg, &o.serve_radius_m) || !(o.serve_radius_m > 0))
        return cli_usage("trace", "--radius '%s' is not a positive number of metres", optarg);
      break;
    case 't':
      if (cli_parse_double(optarg, &o.join_tolerance_m) || !(o.join_tolerance_m > 0))
        return cli_usage("trace", "--tolerance '%s' is not a positive number of metres",
                         optarg);
      break;
    case 'l': list = 1; break;
    case 'j': json = 1; break;
    case ':': return cli_usage("trace", "option '%s' needs a value", argv[optind - 1]);
    default: return cli_usage("trace", "unknown option '%s'", argv[optind - 1]);
    }
  }
  if (argc - optind != 1)
    return cli_usage("trace", "expected one database path");
  if (!o.network)
    return cli_usage("trace", "--network is required (gas, power, water or heat)");
  if (!o.fail_id)
    return cli_usage("trace", "--fail is required (the id of a line or node)");
  o.closed = closed;
  if (cli_open(&ctx, "trace", argv[optind], TGIS_OPEN_READONLY, 0))
    return CLI_FAIL;
  if (tgis_trace_run(&r, ctx, &o) != TGIS_OK) {
    cli_error("trace", "%s", tgis_errmsg(ctx));
    rc = CLI_FAIL;
  } else if (json) {
    print_json(r);
  } else {
    print_text(r, list);
  }
  tgis_trace_result_free(r);
  tgis_close(ctx);
  return rc;
}

const cli_cmd cmd_trace = { "trace", "what a utility failure cuts off; valves to isolate it",
                            run, help };
