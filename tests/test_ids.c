/*
 * test_ids.c -- the identifier validators and the district table.
 *
 * Every worked example of docs/identifiers.md, every failure class of each
 * identifier kind with the reason it gives, and a property test over 10,000
 * generated PINFLs. PINFL reasons are also checked never to echo a run of
 * the value's digits, since a PINFL is personal data.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "tgis.h"
#include "harness.h"

/* True if `reason` contains any 3-character run of `value`: enough to catch
 * a reason that quotes the value or a part of it, while single check digits,
 * positions and lengths ("13 digits") stay allowed. */
static int quotes_value(const char *reason, const char *value)
{
  size_t n = strlen(value);
  for (size_t i = 0; i + 3 <= n; i++) {
    char run[4];
    memcpy(run, value + i, 3);
    run[3] = '\0';
    if (strstr(reason, run))
      return 1;
  }
  return 0;
}

/* Validate `value` expecting rejection with a reason containing `needle`;
 * the rejected value must not be copied to `normalized`. */
#define ASSERT_INVALID(kind, value, needle)                                \
  do {                                                                    \
    tgis_id_check c_;                                                     \
    ASSERT_EQ(tgis_id_validate(&c_, (kind), (value)), TGIS_ID_INVALID);   \
    ASSERT_EQ(c_.verdict, TGIS_ID_INVALID);                               \
    ASSERT_STR_EQ(c_.normalized, "");                                     \
    ASSERT_CONTAINS(c_.reason, (needle));                                 \
  } while (0)

#define ASSERT_VALID(kind, value, norm)                                   \
  do {                                                                    \
    tgis_id_check c_;                                                     \
    ASSERT_EQ(tgis_id_validate(&c_, (kind), (value)), TGIS_ID_VALID);     \
    ASSERT_EQ(c_.verdict, TGIS_ID_VALID);                                 \
    ASSERT_STR_EQ(c_.normalized, (norm));                                 \
    ASSERT_STR_EQ(c_.reason, "");                                         \
  } while (0)

/* A PINFL rejection whose reason must not quote the value. */
#define ASSERT_PINFL_INVALID(value, needle)                               \
  do {                                                                    \
    tgis_id_check p_;                                                     \
    ASSERT_EQ(tgis_id_validate(&p_, TGIS_ID_PINFL, (value)),              \
              TGIS_ID_INVALID);                                           \
    ASSERT_STR_EQ(p_.normalized, "");                                     \
    ASSERT_CONTAINS(p_.reason, (needle));                                 \
    ASSERT(!quotes_value(p_.reason, (value)));                            \
  } while (0)

/* ---- common ------------------------------------------------------------- */

static void test_ids__missing_value_is_invalid(void)
{
  for (int k = 0; k < TGIS_ID_KIND_COUNT; k++) {
    ASSERT_INVALID((tgis_id_kind)k, NULL, "missing value");
    ASSERT_INVALID((tgis_id_kind)k, "", "missing value");
  }
}

static void test_ids__unknown_kind_is_invalid(void)
{
  ASSERT_INVALID(TGIS_ID_KIND_COUNT, "31210932040247", "unknown identifier kind");
  ASSERT_INVALID((tgis_id_kind)-1, "31210932040247", "unknown identifier kind");
}

/* Far longer than normalized[32] and reason[160]: must be rejected without
 * overflowing either (ASan would catch a write past them). */
static void test_ids__overlong_input_does_not_overflow(void)
{
  static char digits[5000], letters[5000], colons[5000];
  memset(digits, '7', sizeof digits - 1);
  memset(letters, 'A', sizeof letters - 1);
  for (size_t i = 0; i < sizeof colons - 1; i++)
    colons[i] = (i % 3 == 2) ? ':' : '1';
  ASSERT_INVALID(TGIS_ID_PINFL, digits, "wrong length: 4999 digits, expected 14");
  ASSERT_INVALID(TGIS_ID_TIN, digits, "wrong length: 4999 digits, expected 9");
  ASSERT_INVALID(TGIS_ID_SOATO, digits, "wrong length: 4999 digits");
  ASSERT_INVALID(TGIS_ID_VIN, letters, "wrong length: 4999 characters, expected 17");
  ASSERT_INVALID(TGIS_ID_CADASTRE, colons, "expected 6, 7 or 8 colon-separated groups");
}

/* ---- PINFL -------------------------------------------------------------- */

static void test_ids__pinfl_worked_examples(void)
{
  ASSERT_VALID(TGIS_ID_PINFL, "31210932040247", "31210932040247");
  ASSERT_VALID(TGIS_ID_PINFL, "31210632040244", "31210632040244");
  ASSERT_PINFL_INVALID("31210632040245", "check digit is 5, expected 4");
  ASSERT_PINFL_INVALID("30101990123458", "check digit is 8, expected 0");
}

static void test_ids__pinfl_wrong_length(void)
{
  ASSERT_PINFL_INVALID("3121093204024", "wrong length: 13 digits, expected 14");
  ASSERT_PINFL_INVALID("312109320402477", "wrong length: 15 digits, expected 14");
  ASSERT_PINFL_INVALID("3", "wrong length: 1 digits, expected 14");
}

static void test_ids__pinfl_non_digit_is_not_stripped(void)
{
  ASSERT_PINFL_INVALID("3121 093204024", "contains a non-digit character at position 5");
  ASSERT_PINFL_INVALID("3121-0932-0402-47", "contains a non-digit character at position 5");
  ASSERT_PINFL_INVALID(" 31210932040247", "contains a non-digit character at position 1");
  ASSERT_PINFL_INVALID("31210932040247 ", "contains a non-digit character at position 15");
  ASSERT_PINFL_INVALID("3121093204024x", "contains a non-digit character at position 14");
}

static void test_ids__pinfl_century_digit(void)
{
  /* Same date, district and serial; check digits recomputed for each. */
  ASSERT_PINFL_INVALID("01210932040246", "century digit must be 1-6");
  ASSERT_PINFL_INVALID("71210932040245", "century digit must be 1-6");
  ASSERT_PINFL_INVALID("81210932040242", "century digit must be 1-6");
  ASSERT_PINFL_INVALID("91210932040249", "century digit must be 1-6");
  /* 1..6 all accepted, odd and even alike. */
  ASSERT_VALID(TGIS_ID_PINFL, "11210932040243", "11210932040243");
  ASSERT_VALID(TGIS_ID_PINFL, "21210932040240", "21210932040240");
  ASSERT_VALID(TGIS_ID_PINFL, "41210932040244", "41210932040244");
  ASSERT_VALID(TGIS_ID_PINFL, "51210932040241", "51210932040241");
  ASSERT_VALID(TGIS_ID_PINFL, "61210932040248", "61210932040248");
}

static void test_ids__pinfl_birth_date(void)
{
  /* 29 Feb: 2000 leap (century 5), 1900 not (century 3), 1800 not (1). */
  ASSERT_VALID(TGIS_ID_PINFL, "52902000010010", "52902000010010");
  ASSERT_PINFL_INVALID("32902000010016", "birth date is not a real date");
  ASSERT_PINFL_INVALID("12902000010012", "birth date is not a real date");
  ASSERT_VALID(TGIS_ID_PINFL, "32902960010017", "32902960010017");   /* 1996 */
  ASSERT_PINFL_INVALID("52902010010017", "birth date is not a real date"); /* 2001 */
  /* 31 Apr, 30 Feb, day 00, month 00 and 13, day 32. */
  ASSERT_PINFL_INVALID("33104930010017", "birth date is not a real date");
  ASSERT_PINFL_INVALID("33002930010010", "birth date is not a real date");
  ASSERT_PINFL_INVALID("30001930010018", "birth date is not a real date");
  ASSERT_PINFL_INVALID("30100930010016", "birth date is not a real date");
  ASSERT_PINFL_INVALID("30113930010012", "birth date is not a real date");
  ASSERT_PINFL_INVALID("33201930010019", "birth date is not a real date");
  /* Last days of the month are real. */
  ASSERT_VALID(TGIS_ID_PINFL, "33112990010010", "33112990010010");
  ASSERT_VALID(TGIS_ID_PINFL, "33004930010016", "33004930010016");
}

static void test_ids__pinfl_district_and_serial_not_zero(void)
{
  ASSERT_PINFL_INVALID("31210930000010", "district code must not be zero");
  ASSERT_PINFL_INVALID("31210932040007", "serial number must not be zero");
}

static void test_ids__pinfl_reason_never_quotes_digits(void)
{
  tgis_id_check c;
  static const char *const bad[] = {
    "31210632040245", "3121093204024", "3121x932040247", "71210932040245",
    "33104930010017", "31210930000010", "31210932040007", "30101990123458",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    ASSERT_EQ(tgis_id_validate(&c, TGIS_ID_PINFL, bad[i]), TGIS_ID_INVALID);
    ASSERT(c.reason[0] != '\0');
    ASSERT(!quotes_value(c.reason, bad[i]));
  }
  tgis_id_validate(&c, TGIS_ID_PINFL, "31210632040245");
  ASSERT(strstr(c.reason, "3121") == NULL);
  ASSERT(strstr(c.reason, "0632040") == NULL);
}

/* A deterministic LCG (Knuth's MMIX constants): the same 10,000 PINFLs on
 * every run and every platform. */
static uint32_t lcg_next(uint64_t *state, uint32_t bound)
{
  *state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
  return (uint32_t)((*state >> 33) % bound);
}

static int pinfl_check_digit(const char *p)
{
  static const int weight[3] = { 7, 3, 1 };
  int sum = 0;
  for (int i = 0; i < 13; i++)
    sum += (p[i] - '0') * weight[i % 3];
  return sum % 10;
}

static void test_ids__pinfl_property_generated_are_valid_and_check_digit_matters(void)
{
  static const int days_in[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
  static const int century[3] = { 1800, 1900, 2000 };
  uint64_t state = 20220412;  /* resolution No.177 of 12.04.2022 */
  tgis_id_check c;

  for (int n = 0; n < 10000; n++) {
    char p[15];
    int cent = 1 + (int)lcg_next(&state, 6);
    int yy = (int)lcg_next(&state, 100);
    int year = century[(cent - 1) / 2] + yy;
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    int month = 1 + (int)lcg_next(&state, 12);
    int day = 1 + (int)lcg_next(&state, (uint32_t)(days_in[month - 1] + (month == 2 && leap)));
    int district = 1 + (int)lcg_next(&state, 999);
    int serial = 1 + (int)lcg_next(&state, 999);
    int check;

    /* Written digit by digit: every field is in range by construction. */
    p[0] = (char)('0' + cent);
    p[1] = (char)('0' + day / 10);
    p[2] = (char)('0' + day % 10);
    p[3] = (char)('0' + month / 10);
    p[4] = (char)('0' + month % 10);
    p[5] = (char)('0' + yy / 10);
    p[6] = (char)('0' + yy % 10);
    p[7] = (char)('0' + district / 100);
    p[8] = (char)('0' + district / 10 % 10);
    p[9] = (char)('0' + district % 10);
    p[10] = (char)('0' + serial / 100);
    p[11] = (char)('0' + serial / 10 % 10);
    p[12] = (char)('0' + serial % 10);
    p[14] = '\0';
    check = pinfl_check_digit(p);
    p[13] = (char)('0' + check);
    if (tgis_id_validate(&c, TGIS_ID_PINFL, p) != TGIS_ID_VALID) {
      HARNESS_FAIL("generated PINFL #%d rejected: %s", n, c.reason);
      return;
    }
    ASSERT_STR_EQ(c.normalized, p);

    for (int other = 0; other < 10; other++) {
      if (other == check)
        continue;
      p[13] = (char)('0' + other);
      ASSERT_EQ(tgis_id_validate(&c, TGIS_ID_PINFL, p), TGIS_ID_INVALID);
      ASSERT_CONTAINS(c.reason, "check digit is");
      ASSERT_STR_EQ(c.normalized, "");
      ASSERT(!quotes_value(c.reason, p));
    }
  }
}

/* ---- TIN ---------------------------------------------------------------- */

static void test_ids__tin_valid_and_spaces_stripped(void)
{
  ASSERT_VALID(TGIS_ID_TIN, "305652539", "305652539");
  ASSERT_VALID(TGIS_ID_TIN, "305 652 539", "305652539");
  ASSERT_VALID(TGIS_ID_TIN, " 305652539 ", "305652539");
  ASSERT_VALID(TGIS_ID_TIN, "200000000", "200000000");
  ASSERT_VALID(TGIS_ID_TIN, "799999999", "799999999");
}

static void test_ids__tin_first_digit_must_be_2_to_7(void)
{
  ASSERT_INVALID(TGIS_ID_TIN, "005652539", "first digit must be 2-7");
  ASSERT_INVALID(TGIS_ID_TIN, "105652539", "first digit must be 2-7");
  ASSERT_INVALID(TGIS_ID_TIN, "805652539", "first digit must be 2-7");
  ASSERT_INVALID(TGIS_ID_TIN, "905 652 539", "first digit must be 2-7");
}

static void test_ids__tin_wrong_length(void)
{
  ASSERT_INVALID(TGIS_ID_TIN, "30565253", "wrong length: 8 digits, expected 9");
  ASSERT_INVALID(TGIS_ID_TIN, "3056525391", "wrong length: 10 digits, expected 9");
  ASSERT_INVALID(TGIS_ID_TIN, "305 652 5391", "wrong length: 10 digits, expected 9");
  ASSERT_INVALID(TGIS_ID_TIN, "   ", "missing value");
}

static void test_ids__tin_other_separators_are_rejected(void)
{
  ASSERT_INVALID(TGIS_ID_TIN, "305-652-539", "contains a non-digit character at position 4");
  ASSERT_INVALID(TGIS_ID_TIN, "305\t652539", "contains a non-digit character at position 4");
  ASSERT_INVALID(TGIS_ID_TIN, "30565253X", "contains a non-digit character at position 9");
}

/* ---- Cadastre ----------------------------------------------------------- */

static void test_ids__cadastre_valid_forms(void)
{
  ASSERT_VALID(TGIS_ID_CADASTRE, "10:03:07:01:03:0012", "10:03:07:01:03:0012");
  ASSERT_VALID(TGIS_ID_CADASTRE, "10:03:07:01:03:0012:0001", "10:03:07:01:03:0012:0001");
  ASSERT_VALID(TGIS_ID_CADASTRE, "10:03:07:01:03:0012:0001:001",
               "10:03:07:01:03:0012:0001:001");
}

static void test_ids__cadastre_group_widths(void)
{
  ASSERT_INVALID(TGIS_ID_CADASTRE, "1:03:07:01:03:0012", "group 1 (region) must be 2 digits, found 1");
  ASSERT_INVALID(TGIS_ID_CADASTRE, "10:003:07:01:03:0012", "group 2 (district) must be 2 digits, found 3");
  ASSERT_INVALID(TGIS_ID_CADASTRE, "10:03:7:01:03:0012", "group 3 (cadastral zone) must be 2 digits");
  ASSERT_INVALID(TGIS_ID_CADASTRE, "10:03:07:001:03:0012", "group 4 (massiv) must be 2 digits");
  ASSERT_INVALID(TGIS_ID_CADASTRE, "10:03:07:01:3:0012", "group 5 (quarter) must be 2 digits");
  ASSERT_INVALID(TGIS_ID_CADASTRE, "10:03:07:01:03:012", "group 6 (land parcel) must be 4 digits, found 3");
  ASSERT_INVALID(TGIS_ID_CADASTRE, "10:03:07:01:03:00012", "group 6 (land parcel) must be 4 digits, found 5");
  ASSERT_INVALID(TGIS_ID_CADASTRE, "10:03:07:01:03:0012:01", "group 7 (building) must be 4 digits, found 2");
  ASSERT_INVALID(TGIS_ID_CADASTRE, "10:03:07:01:03:0012:0001:01",
                 "group 8 (part of building) must be 3 digits, found 2");
  ASSERT_INVALID(TGIS_ID_CADASTRE, "10:03:07:01:03:0012:0001:0001",
                 "group 8 (part of building) must be 3 digits, found 4");
}

static void test_ids__cadastre_wrong_separators(void)
{
  ASSERT_INVALID(TGIS_ID_CADASTRE, "10-03-07-01-03-0012", "character at position 3 is neither a digit nor ':'");
  ASSERT_INVALID(TGIS_ID_CADASTRE, "10.03.07.01.03.0012", "position 3");
  ASSERT_INVALID(TGIS_ID_CADASTRE, "10:03:07:01:03/0012", "position 15");
  ASSERT_INVALID(TGIS_ID_CADASTRE, " 10:03:07:01:03:0012", "position 1");
  ASSERT_INVALID(TGIS_ID_CADASTRE, "10:03:07:01:03:001A", "position 19");
}

static void test_ids__cadastre_group_count(void)
{
  ASSERT_INVALID(TGIS_ID_CADASTRE, "10:03:07:01:03", "expected 6, 7 or 8 colon-separated groups, found 5");
  ASSERT_INVALID(TGIS_ID_CADASTRE, "10:03:07:01:03:0012:0001:001:001",
                 "expected 6, 7 or 8 colon-separated groups, found 9");
  ASSERT_INVALID(TGIS_ID_CADASTRE, "1003070103001", "found 1");
}

static void test_ids__cadastre_trailing_colon_and_part_without_building(void)
{
  ASSERT_INVALID(TGIS_ID_CADASTRE, "10:03:07:01:03:0012:", "group 7 (building) must be 4 digits, found 0");
  ASSERT_INVALID(TGIS_ID_CADASTRE, "10:03:07:01:03:0012:0001:", "group 8 (part of building) must be 3 digits, found 0");
  /* A part of a building (HHH) only after a building (GGGG). */
  ASSERT_INVALID(TGIS_ID_CADASTRE, "10:03:07:01:03:0012::001", "group 7 (building) must be 4 digits, found 0");
  ASSERT_INVALID(TGIS_ID_CADASTRE, "10:03:07:01:03:0012:001", "group 7 (building) must be 4 digits, found 3");
  ASSERT_INVALID(TGIS_ID_CADASTRE, ":10:03:07:01:03:0012", "group 1 (region) must be 2 digits, found 0");
}

/* ---- SOATO -------------------------------------------------------------- */

static void test_ids__soato_valid_codes(void)
{
  ASSERT_VALID(TGIS_ID_SOATO, "1726", "1726");           /* the city */
  ASSERT_VALID(TGIS_ID_SOATO, "1726262", "1726262");     /* Uchtepa */
  ASSERT_VALID(TGIS_ID_SOATO, "1726294", "1726294");     /* Chilonzor */
  ASSERT_VALID(TGIS_ID_SOATO, "1726294501", "1726294501");
  /* Other regions: format only. */
  ASSERT_VALID(TGIS_ID_SOATO, "1703", "1703");
  ASSERT_VALID(TGIS_ID_SOATO, "1703202", "1703202");
  ASSERT_VALID(TGIS_ID_SOATO, "1727404551", "1727404551");
}

static void test_ids__soato_every_district_is_valid(void)
{
  size_t n;
  const tgis_district_ref *d = tgis_districts(&n);
  for (size_t i = 0; i < n; i++)
    ASSERT_VALID(TGIS_ID_SOATO, d[i].soato, d[i].soato);
}

static void test_ids__soato_prefix_must_be_17(void)
{
  ASSERT_INVALID(TGIS_ID_SOATO, "1826262", "must start with 17 (Uzbekistan)");
  ASSERT_INVALID(TGIS_ID_SOATO, "2726", "must start with 17");
  ASSERT_INVALID(TGIS_ID_SOATO, "7126262001", "must start with 17");
}

static void test_ids__soato_wrong_length(void)
{
  ASSERT_INVALID(TGIS_ID_SOATO, "17", "wrong length: 2 digits, expected 4, 7 or 10");
  ASSERT_INVALID(TGIS_ID_SOATO, "17262", "wrong length: 5 digits, expected 4, 7 or 10");
  ASSERT_INVALID(TGIS_ID_SOATO, "17262620", "wrong length: 8 digits");
  ASSERT_INVALID(TGIS_ID_SOATO, "17262620011", "wrong length: 11 digits");
}

static void test_ids__soato_non_digit(void)
{
  ASSERT_INVALID(TGIS_ID_SOATO, "17 26 262", "contains a non-digit character at position 3");
  ASSERT_INVALID(TGIS_ID_SOATO, "1726-262", "contains a non-digit character at position 5");
}

static void test_ids__soato_unknown_tashkent_district(void)
{
  ASSERT_INVALID(TGIS_ID_SOATO, "1726263", "unknown Tashkent district");
  ASSERT_INVALID(TGIS_ID_SOATO, "1726200", "unknown Tashkent district");
  ASSERT_INVALID(TGIS_ID_SOATO, "1726263001", "unknown Tashkent district");
}

/* ---- VIN ---------------------------------------------------------------- */

static void test_ids__vin_worked_examples(void)
{
  ASSERT_VALID(TGIS_ID_VIN, "1J9RP1A36A1644345", "1J9RP1A36A1644345");
  ASSERT_VALID(TGIS_ID_VIN, "1M8GDM9AXKP042788", "1M8GDM9AXKP042788");  /* check X */
}

static void test_ids__vin_lowercase_is_normalized(void)
{
  ASSERT_VALID(TGIS_ID_VIN, "1j9rp1a36a1644345", "1J9RP1A36A1644345");
  ASSERT_VALID(TGIS_ID_VIN, "1m8gdm9axkp042788", "1M8GDM9AXKP042788");
}

static void test_ids__vin_forbidden_letters(void)
{
  ASSERT_INVALID(TGIS_ID_VIN, "1J9RP1A36I1644345", "letter I at position 10 is not allowed");
  ASSERT_INVALID(TGIS_ID_VIN, "1J9RP1A36A164434O", "letter O at position 17 is not allowed");
  ASSERT_INVALID(TGIS_ID_VIN, "QJ9RP1A36A1644345", "letter Q at position 1 is not allowed");
  ASSERT_INVALID(TGIS_ID_VIN, "1J9RP1A36a164434o", "letter O at position 17");
}

static void test_ids__vin_other_characters(void)
{
  ASSERT_INVALID(TGIS_ID_VIN, "1J9RP1A3-A1644345", "character at position 9 is not a letter A-Z or digit");
  ASSERT_INVALID(TGIS_ID_VIN, "1J9RP1A36A164434 ", "position 17");
}

static void test_ids__vin_wrong_length(void)
{
  ASSERT_INVALID(TGIS_ID_VIN, "1J9RP1A36A164434", "wrong length: 16 characters, expected 17");
  ASSERT_INVALID(TGIS_ID_VIN, "1J9RP1A36A16443455", "wrong length: 18 characters, expected 17");
}

static void test_ids__vin_north_american_check_failure_is_invalid(void)
{
  ASSERT_INVALID(TGIS_ID_VIN, "1J9RP1A37A1644345", "check digit (position 9) is 7, expected 6");
  ASSERT_INVALID(TGIS_ID_VIN, "1M8GDM9A1KP042788", "check digit (position 9) is 1, expected X");
  /* 5 is still North America (first characters 1-5). */
  ASSERT_INVALID(TGIS_ID_VIN, "5J9RP1A36A1644345", "check digit (position 9)");
}

static void test_ids__vin_other_check_failure_is_warning(void)
{
  tgis_id_check c;
  /* A European VIN with a letter in position 9, as many makers write. */
  ASSERT_EQ(tgis_id_validate(&c, TGIS_ID_VIN, "WVWZZZ1JZ3W386752"), TGIS_ID_WARNING);
  ASSERT_EQ(c.verdict, TGIS_ID_WARNING);
  ASSERT_STR_EQ(c.normalized, "WVWZZZ1JZ3W386752");
  ASSERT_CONTAINS(c.reason, "check digit (position 9) is Z, expected");
  ASSERT_CONTAINS(c.reason, "North American");
  /* Lower case is normalised for a warned VIN too. */
  ASSERT_EQ(tgis_id_validate(&c, TGIS_ID_VIN, "wvwzzz1jz3w386752"), TGIS_ID_WARNING);
  ASSERT_STR_EQ(c.normalized, "WVWZZZ1JZ3W386752");
  /* 6 and later first characters are not North American. */
  ASSERT_EQ(tgis_id_validate(&c, TGIS_ID_VIN, "6J9RP1A36A1644345"), TGIS_ID_WARNING);
  ASSERT_EQ(tgis_id_validate(&c, TGIS_ID_VIN, "XTA21099073071234"), TGIS_ID_WARNING);
}

static void test_ids__vin_other_passing_check_is_valid(void)
{
  /* 1J9RP1A36A1644345 with W first: weight 8 moves the sum by (6-1)*8 = 40,
   * so the check digit becomes (6 + 40) mod 11 = 2. */
  ASSERT_VALID(TGIS_ID_VIN, "WJ9RP1A32A1644345", "WJ9RP1A32A1644345");
}

/* ---- kind names --------------------------------------------------------- */

static void test_ids__kind_name_round_trip(void)
{
  static const char *const names[] = { "pinfl", "tin", "cadastre", "soato", "vin" };
  tgis_id_kind k;
  ASSERT_EQ(sizeof names / sizeof names[0], TGIS_ID_KIND_COUNT);
  for (int i = 0; i < TGIS_ID_KIND_COUNT; i++) {
    ASSERT_STR_EQ(tgis_id_kind_name((tgis_id_kind)i), names[i]);
    k = TGIS_ID_KIND_COUNT;
    ASSERT_EQ(tgis_id_kind_from_name(&k, tgis_id_kind_name((tgis_id_kind)i)), TGIS_OK);
    ASSERT_EQ(k, i);
  }
  ASSERT(tgis_id_kind_name(TGIS_ID_KIND_COUNT) == NULL);
  ASSERT(tgis_id_kind_name((tgis_id_kind)-1) == NULL);
}

static void test_ids__kind_from_name_is_case_insensitive(void)
{
  tgis_id_kind k = TGIS_ID_PINFL;
  ASSERT_EQ(tgis_id_kind_from_name(&k, "VIN"), TGIS_OK);
  ASSERT_EQ(k, TGIS_ID_VIN);
  ASSERT_EQ(tgis_id_kind_from_name(&k, "Pinfl"), TGIS_OK);
  ASSERT_EQ(k, TGIS_ID_PINFL);
  ASSERT_EQ(tgis_id_kind_from_name(&k, "CaDaStRe"), TGIS_OK);
  ASSERT_EQ(k, TGIS_ID_CADASTRE);
  ASSERT_EQ(tgis_id_kind_from_name(&k, "SOATO"), TGIS_OK);
  ASSERT_EQ(k, TGIS_ID_SOATO);
  ASSERT_EQ(tgis_id_kind_from_name(&k, "tIn"), TGIS_OK);
  ASSERT_EQ(k, TGIS_ID_TIN);
}

static void test_ids__kind_from_name_unknown(void)
{
  tgis_id_kind k = TGIS_ID_SOATO;
  ASSERT_EQ(tgis_id_kind_from_name(&k, "bogus"), TGIS_ENOTFOUND);
  ASSERT_EQ(tgis_id_kind_from_name(&k, ""), TGIS_ENOTFOUND);
  ASSERT_EQ(tgis_id_kind_from_name(&k, NULL), TGIS_ENOTFOUND);
  ASSERT_EQ(tgis_id_kind_from_name(&k, "pinf"), TGIS_ENOTFOUND);
  ASSERT_EQ(tgis_id_kind_from_name(&k, "pinfl2"), TGIS_ENOTFOUND);
  ASSERT_EQ(tgis_id_kind_from_name(&k, " vin"), TGIS_ENOTFOUND);
  ASSERT_EQ(k, TGIS_ID_SOATO);  /* untouched on failure */
}

/* ---- districts ---------------------------------------------------------- */

static void test_ids__districts_table(void)
{
  static const char *const names[12] = {
    "Uchtepa", "Bektemir", "Yunusobod", "Mirzo Ulug'bek", "Mirobod", "Shayxontohur",
    "Olmazor", "Sergeli", "Yakkasaroy", "Yashnobod", "Yangihayot", "Chilonzor",
  };
  size_t n = 0;
  const tgis_district_ref *d = tgis_districts(&n);
  ASSERT(d != NULL);
  ASSERT_EQ(n, 12);
  for (size_t i = 0; i < n; i++) {
    ASSERT_EQ(strlen(d[i].soato), 7);
    ASSERT(strncmp(d[i].soato, "1726", 4) == 0);
    ASSERT_STR_EQ(d[i].name, names[i]);
    if (i > 0)
      ASSERT(strcmp(d[i - 1].soato, d[i].soato) < 0);
  }
}

static void test_ids__district_by_soato(void)
{
  size_t n;
  const tgis_district_ref *d = tgis_districts(&n);
  for (size_t i = 0; i < n; i++)
    ASSERT(tgis_district_by_soato(d[i].soato) == &d[i]);
  ASSERT_STR_EQ(tgis_district_by_soato("1726262")->name, "Uchtepa");
  ASSERT_STR_EQ(tgis_district_by_soato("1726269")->name, "Mirzo Ulug'bek");
  ASSERT_STR_EQ(tgis_district_by_soato("1726294")->name, "Chilonzor");
}

static void test_ids__district_by_soato_unknown(void)
{
  ASSERT(tgis_district_by_soato("1726263") == NULL);
  ASSERT(tgis_district_by_soato("1726261") == NULL);   /* below the first */
  ASSERT(tgis_district_by_soato("1726299") == NULL);   /* above the last */
  ASSERT(tgis_district_by_soato("172626") == NULL);
  ASSERT(tgis_district_by_soato("17262620") == NULL);
  ASSERT(tgis_district_by_soato("1726262001") == NULL);
  ASSERT(tgis_district_by_soato("") == NULL);
  ASSERT(tgis_district_by_soato(NULL) == NULL);
}

int main(void)
{
  RUN(test_ids__missing_value_is_invalid);
  RUN(test_ids__unknown_kind_is_invalid);
  RUN(test_ids__overlong_input_does_not_overflow);

  RUN(test_ids__pinfl_worked_examples);
  RUN(test_ids__pinfl_wrong_length);
  RUN(test_ids__pinfl_non_digit_is_not_stripped);
  RUN(test_ids__pinfl_century_digit);
  RUN(test_ids__pinfl_birth_date);
  RUN(test_ids__pinfl_district_and_serial_not_zero);
  RUN(test_ids__pinfl_reason_never_quotes_digits);
  RUN(test_ids__pinfl_property_generated_are_valid_and_check_digit_matters);

  RUN(test_ids__tin_valid_and_spaces_stripped);
  RUN(test_ids__tin_first_digit_must_be_2_to_7);
  RUN(test_ids__tin_wrong_length);
  RUN(test_ids__tin_other_separators_are_rejected);

  RUN(test_ids__cadastre_valid_forms);
  RUN(test_ids__cadastre_group_widths);
  RUN(test_ids__cadastre_wrong_separators);
  RUN(test_ids__cadastre_group_count);
  RUN(test_ids__cadastre_trailing_colon_and_part_without_building);

  RUN(test_ids__soato_valid_codes);
  RUN(test_ids__soato_every_district_is_valid);
  RUN(test_ids__soato_prefix_must_be_17);
  RUN(test_ids__soato_wrong_length);
  RUN(test_ids__soato_non_digit);
  RUN(test_ids__soato_unknown_tashkent_district);

  RUN(test_ids__vin_worked_examples);
  RUN(test_ids__vin_lowercase_is_normalized);
  RUN(test_ids__vin_forbidden_letters);
  RUN(test_ids__vin_other_characters);
  RUN(test_ids__vin_wrong_length);
  RUN(test_ids__vin_north_american_check_failure_is_invalid);
  RUN(test_ids__vin_other_check_failure_is_warning);
  RUN(test_ids__vin_other_passing_check_is_valid);

  RUN(test_ids__kind_name_round_trip);
  RUN(test_ids__kind_from_name_is_case_insensitive);
  RUN(test_ids__kind_from_name_unknown);

  RUN(test_ids__districts_table);
  RUN(test_ids__district_by_soato);
  RUN(test_ids__district_by_soato_unknown);

  return harness_report();
}
