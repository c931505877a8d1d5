/*
 * hstore.c -- fuzz tgis_src__hstore_get(), the reader of OSM "other_tags"
 * text ("k"=>"v","k2"=>NULL).
 *
 * Input layout: byte 0 picks the output buffer's size (1..64, or 1024 as
 * tgis_src__value() uses); the key runs to the first NUL after it and the
 * hstore text is the rest (up to its own first NUL). Both are copied to
 * buffers of exactly their length, and the output buffer is allocated at
 * exactly its size, so AddressSanitizer sees any overrun.
 */
#include <stdint.h>
#include <string.h>

#include "fuzz_ctx.h"
#include "import_int.h"

static char *dup_n(const uint8_t *p, size_t n)
{
  char *s = malloc(n + 1);
  if (s) {
    memcpy(s, p, n);
    s[n] = '\0';
  }
  return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const uint8_t *nul;
  size_t len, klen;
  char *key, *text, *buf;
  const char *v;

  if (size < 1)
    return 0;
  len = data[0] == 0xFF ? 1024 : (size_t)(data[0] % 64) + 1;
  data++, size--;
  nul = memchr(data, '\0', size);
  klen = nul ? (size_t)(nul - data) : size;
  key = dup_n(data, klen);
  text = nul ? dup_n(nul + 1, size - klen - 1) : dup_n((const uint8_t *)"", 0);
  buf = malloc(len);
  if (key && text && buf) {
    v = tgis_src__hstore_get(text, key, buf, len);
    if (v) {
      FUZZ_CHECK(v == buf);
      FUZZ_CHECK(memchr(buf, '\0', len) != NULL);
    }
    /* An empty text and a NULL text hold no key. */
    FUZZ_CHECK(tgis_src__hstore_get("", key, buf, len) == NULL);
    FUZZ_CHECK(tgis_src__hstore_get(NULL, key, buf, len) == NULL);
  }
  free(key);
  free(text);
  free(buf);
  return 0;
}
