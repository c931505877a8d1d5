/*
 * style.c -- fuzz the map-style parser, tgis_style_parse() (the in-memory
 * form of tgis_style_load()), and the colour parser on the same bytes.
 *
 * The input is copied to a buffer of exactly its size, so a read past the
 * text is caught by AddressSanitizer. A parsed style is walked through
 * tgis_style_num_at() at every zoom to touch its tables.
 */
#include <stdint.h>
#include <string.h>

#include "fuzz_ctx.h"
#include "style.h"

static void walk(const tgis_style *s)
{
  for (size_t i = 0; i < s->n_layers; i++) {
    const tgis_style_layer *l = &s->layers[i];
    FUZZ_CHECK(l->min_zoom <= l->max_zoom);
    for (int z = 0; z <= TGIS_STYLE_MAX_ZOOM; z++) {
      (void)tgis_style_num_at(&l->stroke_width, z);
      (void)tgis_style_num_at(&l->casing_width, z);
      (void)tgis_style_num_at(&l->symbol_size, z);
    }
    FUZZ_CHECK(l->n_dash >= 0 && l->n_dash <= 8);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  tgis_ctx *ctx = fuzz_ctx();
  tgis_style *s = NULL;
  char *text = malloc(size ? size : 1);
  if (!text)
    return 0;
  memcpy(text, data, size);
  if (tgis_style_parse(&s, ctx, "fuzz.yaml", text, size) == TGIS_OK) {
    FUZZ_CHECK(s != NULL);
    walk(s);
    tgis_style_free(s);
  } else {
    FUZZ_CHECK(s == NULL);
  }
  free(text);

  /* The colour parser takes a NUL-terminated string. */
  if (size <= 64) {
    char colour[65];
    tgis_rgba c;
    memcpy(colour, data, size);
    colour[size] = '\0';
    (void)tgis_style_parse_colour(&c, colour);
  }
  return 0;
}
