/*
 * cmd_validate.c -- `tgis validate KIND VALUE...`: check identifiers by the
 * city's rules and say why each failing one fails.
 *
 * PINFL is personal data: it is never echoed; a PINFL is shown by its
 * position in the input instead.
 */
#include <getopt.h>
#include <string.h>

#include "cli.h"

static void help(FILE *out)
{
  fprintf(out,
    "usage: tgis validate [--quiet] KIND VALUE...\n"
    "       tgis validate [--quiet] KIND -      (one value per line on stdin)\n"
    "\n"
    "Check identifiers. KIND is one of:\n"
    "  pinfl     individuals, 14 digits with a check digit (personal data:\n"
    "            never echoed; values are shown as 'pinfl #N')\n"
    "  tin       legal entities, 9 digits, first digit 2-7 (spaces stripped)\n"
    "  cadastre  real estate, AA:BB:CC:DD:EE:FFFF[:GGGG[:HHH]]\n"
    "  soato     geographic (address) code, 17... of 4, 7 or 10 digits\n"
    "  vin       vehicles, 17 characters, ISO 3779 check digit\n"
    "\n"
    "Prints one line per value: valid, warning (accepted) or invalid, with\n"
    "the reason. Exit status 1 if any value is invalid.\n"
    "\n"
    "Options:\n"
    "  -q, --quiet  print nothing, only set the exit status\n"
    "  -h, --help   show this help\n");
}

/* One value: print its verdict; returns 1 if invalid. */
static int check_one(tgis_id_kind kind, const char *value, long index, int quiet)
{
  tgis_id_check chk;
  static const char *const verdicts[] = { "valid", "warning", "invalid" };
  tgis_id_verdict v = tgis_id_validate(&chk, kind, value);

  if (!quiet) {
    if (kind == TGIS_ID_PINFL)
      printf("pinfl #%ld: %s", index, verdicts[v]);
    else
      printf("%s: %s", value, verdicts[v]);
    if (chk.reason[0])
      printf(": %s", chk.reason);
    putchar('\n');
  }
  return v == TGIS_ID_INVALID;
}

static int run(int argc, char **argv)
{
  static const struct option longopts[] = {
    { "quiet", no_argument, NULL, 'q' },
    { NULL, 0, NULL, 0 },
  };
  tgis_id_kind kind;
  int c, quiet = 0, bad = 0;
  long n = 0;

  opterr = 0;
  while ((c = getopt_long(argc, argv, ":q", longopts, NULL)) != -1) {
    if (c != 'q')
      return cli_usage("validate", "unknown option '%s'", argv[optind - 1]);
    quiet = 1;
  }
  if (argc - optind < 2)
    return cli_usage("validate", "expected a kind and at least one value");
  if (tgis_id_kind_from_name(&kind, argv[optind]) != TGIS_OK)
    return cli_usage("validate", "unknown kind '%s' (pinfl, tin, cadastre, soato, vin)",
                     argv[optind]);
  if (argc - optind == 2 && strcmp(argv[optind + 1], "-") == 0) {
    char line[4096];
    while (fgets(line, sizeof line, stdin)) {
      size_t len = strcspn(line, "\r\n");
      if (line[len] == '\0' && !feof(stdin)) {
        /* Longer than any identifier: report it, skip the rest of it. */
        int ch;
        while ((ch = getchar()) != EOF && ch != '\n')
          ;
      }
      line[len] = '\0';
      bad |= check_one(kind, line, ++n, quiet);
    }
    return bad ? CLI_FAIL : CLI_OK;
  }
  for (int i = optind + 1; i < argc; i++)
    bad |= check_one(kind, argv[i], ++n, quiet);
  return bad ? CLI_FAIL : CLI_OK;
}

const cli_cmd cmd_validate = { "validate", "check PINFL, TIN, cadastre, SOATO or VIN values",
                               run, help };
