/*
 * ids.c -- validation of the city's five mandated identifiers.
 *
 * PINFL (individuals), TIN (legal entities), cadastre numbers (real estate),
 * SOATO geographic codes (addresses) and VINs (vehicles) are checked by the
 * rules of docs/identifiers.md. Each check gives a verdict, the value as it
 * would be stored, and one line saying what is wrong. Where no rule is
 * published (the TIN check digit, SOATO outside Tashkent) only the format
 * is checked: an invented rule would reject real identifiers.
 *
 * A PINFL is personal data. No reason ever quotes the value or a run of its
 * digits, for any kind: reasons name positions, lengths, groups and at most
 * a single check digit. The normalised value is filled only for a value that
 * is accepted (valid or warning), so a rejected PINFL is not copied either.
 *
 * Everything here is pure: no allocation, no context, no mutable state, so
 * the functions may be called from any thread. Input of any length is safe:
 * lengths are checked before anything is copied into the fixed buffers.
 */
#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tgis.h"

#if defined(__GNUC__)
#define IDS_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define IDS_PRINTF(fmt, args)
#endif

static const char *const kind_names[] = {
  "pinfl", "tin", "cadastre", "soato", "vin",
};

_Static_assert(sizeof kind_names / sizeof kind_names[0] == TGIS_ID_KIND_COUNT,
               "one name per tgis_id_kind");

/* ---- verdicts ----------------------------------------------------------- */

static tgis_id_verdict reject(tgis_id_check *out, const char *fmt, ...)
    IDS_PRINTF(2, 3);
static tgis_id_verdict warn(tgis_id_check *out, const char *fmt, ...)
    IDS_PRINTF(2, 3);

static tgis_id_verdict reject(tgis_id_check *out, const char *fmt, ...)
{
  va_list ap;
  out->verdict = TGIS_ID_INVALID;
  out->normalized[0] = '\0';
  va_start(ap, fmt);
  vsnprintf(out->reason, sizeof out->reason, fmt, ap);
  va_end(ap);
  return out->verdict;
}

/* Only after accept(): a warned value is still stored. */
static tgis_id_verdict warn(tgis_id_check *out, const char *fmt, ...)
{
  va_list ap;
  out->verdict = TGIS_ID_WARNING;
  va_start(ap, fmt);
  vsnprintf(out->reason, sizeof out->reason, fmt, ap);
  va_end(ap);
  return out->verdict;
}

static tgis_id_verdict accept(tgis_id_check *out, const char *norm, size_t len)
{
  /* Callers have checked the length; every accepted form is < 32 bytes. */
  assert(len < sizeof out->normalized);
  memcpy(out->normalized, norm, len);
  out->normalized[len] = '\0';
  out->reason[0] = '\0';
  out->verdict = TGIS_ID_VALID;
  return out->verdict;
}

/* ASCII only: identifiers are never localised, and <ctype.h> follows the
 * locale and is undefined for negative chars. */
static int is_digit(char c) { return c >= '0' && c <= '9'; }
static int is_upper(char c) { return c >= 'A' && c <= 'Z'; }
static char to_upper(char c) { return (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c; }

/* 1-based position of the first non-digit, 0 if all are digits. */
static size_t first_non_digit(const char *v, size_t len)
{
  for (size_t i = 0; i < len; i++)
    if (!is_digit(v[i]))
      return i + 1;
  return 0;
}

/* ---- PINFL -------------------------------------------------------------- */

static int is_leap(int year)
{
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

static int is_real_date(int year, int month, int day)
{
  static const int days_in[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
  int last;
  if (month < 1 || month > 12 || day < 1)
    return 0;
  last = days_in[month - 1] + (month == 2 && is_leap(year));
  return day <= last;
}

static tgis_id_verdict check_pinfl(tgis_id_check *out, const char *v, size_t len)
{
  /* Century of birth for first digits 1/2, 3/4, 5/6 (odd male, even female). */
  static const int century[3] = { 1800, 1900, 2000 };
  static const int weight[3] = { 7, 3, 1 };
  int d[14], sum = 0, check;
  size_t bad;

  /* Separators are not stripped: a PINFL is always written as 14 digits,
   * and anything else in it means the field holds something else. */
  if ((bad = first_non_digit(v, len)) != 0)
    return reject(out, "contains a non-digit character at position %zu", bad);
  if (len != 14)
    return reject(out, "wrong length: %zu digits, expected 14", len);
  for (int i = 0; i < 14; i++)
    d[i] = v[i] - '0';

  if (d[0] < 1 || d[0] > 6)
    return reject(out, "century digit must be 1-6");
  if (!is_real_date(century[(d[0] - 1) / 2] + d[5] * 10 + d[6],
                    d[3] * 10 + d[4], d[1] * 10 + d[2]))
    return reject(out, "birth date is not a real date");
  /* "must not be zero", not "000": the reason may not echo the digits. */
  if (d[7] == 0 && d[8] == 0 && d[9] == 0)
    return reject(out, "district code must not be zero");
  if (d[10] == 0 && d[11] == 0 && d[12] == 0)
    return reject(out, "serial number must not be zero");

  for (int i = 0; i < 13; i++)
    sum += d[i] * weight[i % 3];
  check = sum % 10;
  if (d[13] != check)
    return reject(out, "check digit is %d, expected %d", d[13], check);
  return accept(out, v, len);
}

/* ---- TIN ---------------------------------------------------------------- */

static tgis_id_verdict check_tin(tgis_id_check *out, const char *v, size_t len)
{
  char digits[9];
  size_t n = 0;

  /* Printed TINs group digits with spaces ("305 652 539"); drop them. */
  for (size_t i = 0; i < len; i++) {
    if (v[i] == ' ')
      continue;
    if (!is_digit(v[i]))
      return reject(out, "contains a non-digit character at position %zu", i + 1);
    if (n < sizeof digits)
      digits[n] = v[i];
    n++;  /* keep counting past the buffer, to report the real length */
  }
  if (n == 0)
    return reject(out, "missing value");
  if (n != 9)
    return reject(out, "wrong length: %zu digits, expected 9", n);
  if (digits[0] < '2' || digits[0] > '7')
    return reject(out, "first digit must be 2-7");
  /* Digit 9 is a check digit, but its algorithm is not published. */
  return accept(out, digits, n);
}

/* ---- Cadastre number ---------------------------------------------------- */

static const struct cadastre_group {
  const char *name;
  size_t width;
} cadastre_groups[8] = {
  { "region", 2 },
  { "district", 2 },
  { "cadastral zone", 2 },
  { "massiv", 2 },
  { "quarter", 2 },
  { "land parcel", 4 },
  { "building", 4 },
  { "part of building", 3 },
};

/* By hand, the regex
 *   ^[0-9]{2}:[0-9]{2}:[0-9]{2}:[0-9]{2}:[0-9]{2}:[0-9]{4}(:[0-9]{4}(:[0-9]{3})?)?$
 * so that the reason can name the group that is wrong. */
static tgis_id_verdict check_cadastre(tgis_id_check *out, const char *v, size_t len)
{
  size_t groups = 1, start = 0;

  for (size_t i = 0; i < len; i++) {
    if (v[i] == ':')
      groups++;
    else if (!is_digit(v[i]))
      return reject(out, "character at position %zu is neither a digit nor ':'", i + 1);
  }
  /* A parcel has 6 groups, a building 7, a part of a building 8. */
  if (groups < 6 || groups > 8)
    return reject(out, "expected 6, 7 or 8 colon-separated groups, found %zu", groups);

  for (size_t g = 0; g < groups; g++) {
    const char *colon = memchr(v + start, ':', len - start);
    size_t end = colon ? (size_t)(colon - v) : len;
    if (end - start != cadastre_groups[g].width)
      return reject(out, "group %zu (%s) must be %zu digits, found %zu", g + 1,
                    cadastre_groups[g].name, cadastre_groups[g].width, end - start);
    start = end + 1;
  }
  return accept(out, v, len);  /* at most 28 characters by now */
}

/* ---- SOATO -------------------------------------------------------------- */

static tgis_id_verdict check_soato(tgis_id_check *out, const char *v, size_t len)
{
  size_t bad;

  if ((bad = first_non_digit(v, len)) != 0)
    return reject(out, "contains a non-digit character at position %zu", bad);
  /* Region (4), district (7) or settlement (10). */
  if (len != 4 && len != 7 && len != 10)
    return reject(out, "wrong length: %zu digits, expected 4, 7 or 10", len);
  if (v[0] != '1' || v[1] != '7')
    return reject(out, "must start with 17 (Uzbekistan)");
  /* Only Tashkent's districts are known; elsewhere only the format is. */
  if (len >= 7 && memcmp(v, "1726", 4) == 0) {
    char district[8];
    memcpy(district, v, 7);
    district[7] = '\0';
    if (!tgis_district_by_soato(district))
      return reject(out, "unknown Tashkent district");
  }
  return accept(out, v, len);
}

/* ---- VIN ---------------------------------------------------------------- */

/* ISO 3779 transliteration for A..Z; 0 marks I, O and Q, which never occur. */
static const int vin_letter_value[26] = {
  1, 2, 3, 4, 5, 6, 7, 8, 0, 1, 2, 3, 4, 5, 0, 7, 0, 9, 2, 3, 4, 5, 6, 7, 8, 9,
};

static const int vin_weight[17] = {
  8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2,
};

static tgis_id_verdict check_vin(tgis_id_check *out, const char *v, size_t len)
{
  char vin[17];
  char expected;
  int sum = 0;

  for (size_t i = 0; i < len; i++) {
    char c = to_upper(v[i]);
    if (c == 'I' || c == 'O' || c == 'Q')
      return reject(out, "letter %c at position %zu is not allowed (no I, O or Q in a VIN)",
                    c, i + 1);
    if (!is_digit(c) && !is_upper(c))
      return reject(out, "character at position %zu is not a letter A-Z or digit", i + 1);
  }
  if (len != 17)
    return reject(out, "wrong length: %zu characters, expected 17", len);

  for (int i = 0; i < 17; i++) {
    vin[i] = to_upper(v[i]);
    sum += (is_digit(vin[i]) ? vin[i] - '0' : vin_letter_value[vin[i] - 'A']) * vin_weight[i];
  }
  expected = (char)(sum % 11 == 10 ? 'X' : '0' + sum % 11);
  if (vin[8] == expected)
    return accept(out, vin, 17);

  /* 49 CFR 565.15 makes the check digit mandatory in North America only;
   * other makers may use position 9 for something else. */
  if (vin[0] >= '1' && vin[0] <= '5')
    return reject(out, "check digit (position 9) is %c, expected %c", vin[8], expected);
  accept(out, vin, 17);
  return warn(out, "check digit (position 9) is %c, expected %c; "
              "required only for North American VINs", vin[8], expected);
}

/* ---- public ------------------------------------------------------------- */

tgis_id_verdict tgis_id_validate(tgis_id_check *out, tgis_id_kind kind,
                                 const char *value)
{
  size_t len;

  assert(out);
  memset(out, 0, sizeof *out);
  if ((unsigned)kind >= TGIS_ID_KIND_COUNT)
    return reject(out, "unknown identifier kind");
  if (!value || !*value)
    return reject(out, "missing value");
  len = strlen(value);

  switch (kind) {
  case TGIS_ID_PINFL:    return check_pinfl(out, value, len);
  case TGIS_ID_TIN:      return check_tin(out, value, len);
  case TGIS_ID_CADASTRE: return check_cadastre(out, value, len);
  case TGIS_ID_SOATO:    return check_soato(out, value, len);
  case TGIS_ID_VIN:      return check_vin(out, value, len);
  case TGIS_ID_KIND_COUNT: break;
  }
  return reject(out, "unknown identifier kind");
}

const char *tgis_id_kind_name(tgis_id_kind kind)
{
  if ((unsigned)kind >= TGIS_ID_KIND_COUNT)
    return NULL;
  return kind_names[kind];
}

/* ASCII case-insensitive equality, independent of the locale. */
static int name_eq(const char *a, const char *b)
{
  for (; *a && *b; a++, b++) {
    char ca = *a >= 'A' && *a <= 'Z' ? (char)(*a - 'A' + 'a') : *a;
    if (ca != *b)
      return 0;
  }
  return *a == *b;
}

tgis_status tgis_id_kind_from_name(tgis_id_kind *out, const char *name)
{
  assert(out);
  if (!name)
    return TGIS_ENOTFOUND;
  for (int k = 0; k < TGIS_ID_KIND_COUNT; k++) {
    if (name_eq(name, kind_names[k])) {  /* kind_names are lower case */
      *out = (tgis_id_kind)k;
      return TGIS_OK;
    }
  }
  return TGIS_ENOTFOUND;
}
