/*
 * fmt.c -- tiny text writers for the identifiers written a million times.
 *
 * snprintf() is a measurable share of the run at full scale (cadastre
 * numbers, address codes, PINFLs, ext_ids); these append fixed-width
 * decimal digits and plain strings and nothing else.
 */
#include <string.h>

#include "gen_int.h"

char *tgis_gen__put_uint(char *p, uint64_t v, int width)
{
  char tmp[24];
  int n = 0;
  do {
    tmp[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v && n < (int)sizeof tmp);
  while (n < width && n < (int)sizeof tmp)
    tmp[n++] = '0';
  while (n > 0)
    *p++ = tmp[--n];
  *p = '\0';
  return p;
}

char *tgis_gen__put_str(char *p, const char *s)
{
  size_t n = strlen(s);
  memcpy(p, s, n + 1);
  return p + n;
}
