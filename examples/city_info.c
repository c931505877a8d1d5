/* city_info.c -- open a tgis database, import a source, print the layers. */
#include <stdio.h>
#include <tgis.h>

int main(int argc, char **argv)
{
  tgis_options opts = TGIS_OPTIONS_INIT;
  tgis_import_options imp = TGIS_IMPORT_OPTIONS_INIT;
  tgis_ctx *ctx;
  tgis_layer_info li;

  if (argc < 2)
    return fprintf(stderr, "usage: city_info DB [SOURCE]\n"), 2;
  opts.flags = TGIS_OPEN_CREATE;              /* create DB if missing */
  if (tgis_open(&ctx, argv[1], &opts) != TGIS_OK)
    goto fail;
  if (argc > 2 && tgis_import(NULL, ctx, argv[2], &imp) != TGIS_OK)
    goto fail;                                /* nothing was imported */
  for (int i = 0; i < TGIS_LAYER_COUNT; i++) {
    if (tgis_layer_info_get(&li, ctx, (tgis_layer)i) != TGIS_OK)
      goto fail;
    printf("%-14s %lld\n", tgis_layer_name((tgis_layer)i), (long long)li.count);
  }
  tgis_close(ctx);
  return 0;
fail:
  fprintf(stderr, "city_info: %s\n", ctx ? tgis_errmsg(ctx) : "out of memory");
  tgis_close(ctx);
  return 1;
}
