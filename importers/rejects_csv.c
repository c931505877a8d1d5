/*
 * rejects_csv.c -- the rejects and repairs of an import as CSV (RFC 4180),
 * for analysts who fix the source: layer, source_fid, action, field, reason.
 */
#include <errno.h>
#include <string.h>

#include "import_int.h"

static void put_field(FILE *f, const char *s)
{
  if (!s)
    return;
  if (!strpbrk(s, ",\"\r\n")) {
    fputs(s, f);
    return;
  }
  fputc('"', f);
  for (; *s; s++) {
    if (*s == '"')
      fputc('"', f);
    fputc(*s, f);
  }
  fputc('"', f);
}

tgis_status tgis_rejects__open(FILE **out, tgis_ctx *ctx, const char *path)
{
  *out = NULL;
  if (!path)
    return TGIS_OK;
  if (!(*out = fopen(path, "w")))
    return tgis__fail(ctx, TGIS_EIO, "%s: cannot write the rejects file: %s", path,
                      strerror(errno));
  fputs("layer,source_fid,action,field,reason\n", *out);
  return TGIS_OK;
}

void tgis_rejects__write(FILE *f, const char *layer, int64_t fid, const char *action,
                         const char *field, const char *reason)
{
  if (!f)
    return;
  fprintf(f, "%s,%lld,%s,", layer, (long long)fid, action);
  put_field(f, field);
  fputc(',', f);
  put_field(f, reason);
  fputc('\n', f);
}
