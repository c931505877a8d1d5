/*
 * idgen.c -- synthetic owner identifiers that pass the city's validators.
 *
 * A PINFL is built from its parts (century digit 3-6, a real birth date,
 * district and serial not 000) and its check digit is then found by asking
 * tgis_id_validate(): the generator never keeps a second copy of the
 * algorithm, so the two cannot drift apart. A TIN is 9 digits starting
 * 2-7 (its check digit is not published, so the format is all there is).
 */

#include "gen_int.h"

static int days_in_month(int month, int year)
{
  static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
  int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return days[month - 1] + (month == 2 && leap);
}

tgis_status tgis_gen__pinfl(tgis_ctx *ctx, uint64_t h, char *buf)
{
  uint64_t a = tgis_gen__mix(h), b = tgis_gen__mix(a);
  int century = 3 + (int)(a % 4);              /* 3/4: 1900s, 5/6: 2000s */
  int year = century <= 4 ? 1935 + (int)((a >> 8) % 65) : 2000 + (int)((a >> 8) % 7);
  int month = 1 + (int)((a >> 24) % 12);
  int day = 1 + (int)((a >> 32) % (uint64_t)days_in_month(month, year));
  int district = 1 + (int)(b % 999);
  int serial = 1 + (int)((b >> 16) % 999);
  static const int weight[3] = { 7, 3, 1 };
  tgis_id_check chk;
  char *p = buf;
  int sum = 0;

  p = tgis_gen__put_uint(p, (uint64_t)century, 1);
  p = tgis_gen__put_uint(p, (uint64_t)day, 2);
  p = tgis_gen__put_uint(p, (uint64_t)month, 2);
  p = tgis_gen__put_uint(p, (uint64_t)(year % 100), 2);
  p = tgis_gen__put_uint(p, (uint64_t)district, 3);
  p = tgis_gen__put_uint(p, (uint64_t)serial, 3);
  /* The published rule gives the check digit; the validator confirms it
   * (one call, on its fast path). Should they ever disagree, the
   * validator wins: try every digit. */
  for (int i = 0; i < 13; i++)
    sum += (buf[i] - '0') * weight[i % 3];
  p[0] = (char)('0' + sum % 10);
  p[1] = '\0';
  if (tgis_id_validate(&chk, TGIS_ID_PINFL, buf) == TGIS_ID_VALID)
    return TGIS_OK;
  for (char d = '0'; d <= '9'; d++) {
    buf[13] = d;
    if (tgis_id_validate(&chk, TGIS_ID_PINFL, buf) == TGIS_ID_VALID)
      return TGIS_OK;
  }
  buf[0] = '\0';
  return tgis__fail(ctx, TGIS_EINVAL,
                    "generator: no check digit makes a valid PINFL (validator changed?)");
}

void tgis_gen__tin(uint64_t h, char *buf)
{
  uint64_t a = tgis_gen__mix(h ^ 0x54494eull);
  char *p = tgis_gen__put_uint(buf, 2 + a % 6, 1);
  tgis_gen__put_uint(p, (a >> 8) % 100000000, 8);
}
