/*
 * ids.c -- fuzz tgis_id_validate(): any bytes as a NUL-terminated value
 * (the input up to its first NUL), validated as every kind.
 *
 * Checks besides the sanitizers: the verdict returned is the one stored and
 * one of the three, both output strings end inside their arrays, a valid
 * value has no reason, and an all-digit value of 8 or more digits (a PINFL,
 * personal data) is never quoted in the reason.
 */
#include <stdint.h>
#include <string.h>

#include "fuzz_ctx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char *value = malloc(size + 1);
  size_t digits = 0;
  if (!value)
    return 0;
  memcpy(value, data, size);
  value[size] = '\0';
  for (const char *s = value; *s >= '0' && *s <= '9'; s++)
    digits++;

  for (int k = 0; k < TGIS_ID_KIND_COUNT; k++) {
    tgis_id_check c;
    tgis_id_verdict v;
    memset(&c, 0xA5, sizeof c);   /* garbage in: every field must be set */
    v = tgis_id_validate(&c, (tgis_id_kind)k, value);
    FUZZ_CHECK(v == c.verdict);
    FUZZ_CHECK(v == TGIS_ID_VALID || v == TGIS_ID_WARNING || v == TGIS_ID_INVALID);
    FUZZ_CHECK(memchr(c.normalized, '\0', sizeof c.normalized) != NULL);
    FUZZ_CHECK(memchr(c.reason, '\0', sizeof c.reason) != NULL);
    FUZZ_CHECK(v != TGIS_ID_VALID || c.reason[0] == '\0');
    if (digits >= 8 && digits == strlen(value))
      FUZZ_CHECK(strstr(c.reason, value) == NULL);
  }
  {
    tgis_id_check c;
    tgis_id_validate(&c, TGIS_ID_PINFL, NULL);
    FUZZ_CHECK(c.verdict == TGIS_ID_INVALID);
  }
  {
    tgis_id_kind kind;
    if (tgis_id_kind_from_name(&kind, value) == TGIS_OK)
      FUZZ_CHECK(kind >= 0 && kind < TGIS_ID_KIND_COUNT && tgis_id_kind_name(kind) != NULL);
  }
  free(value);
  return 0;
}
