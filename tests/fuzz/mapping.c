/*
 * mapping.c -- fuzz tgis_mapping__load(): the input as a mapping file.
 *
 * The loader reads a path, so each input is written to a fresh file under
 * /tmp (mkstemp) that is removed before returning; nothing is added to the
 * library for fuzzing.
 */
#include <stdint.h>
#include <unistd.h>

#include "fuzz_ctx.h"
#include "import_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char path[] = "/tmp/tgis-fuzz-mapping-XXXXXX";
  tgis_mapping m;
  tgis_ctx *ctx = fuzz_ctx();
  int fd = mkstemp(path);
  size_t off = 0;

  if (fd < 0) {
    perror("fuzz_mapping: mkstemp");
    abort();
  }
  while (off < size) {
    ssize_t w = write(fd, data + off, size - off);
    if (w <= 0) {
      perror("fuzz_mapping: write");
      abort();
    }
    off += (size_t)w;
  }
  close(fd);
  if (tgis_mapping__load(&m, ctx, path) == TGIS_OK) {
    FUZZ_CHECK(m.n_rules >= 0 && (m.n_rules == 0 || m.rules != NULL));
    for (int i = 0; i < m.n_rules; i++) {
      const tgis_layer_rule *r = &m.rules[i];
      for (int f = 0; f < TGIS_MAX_FIELDS; f++)
        FUZZ_CHECK(r->fields[f].n_values >= 0 &&
                   (r->fields[f].n_values == 0 || r->fields[f].values != NULL));
    }
    tgis_mapping__free(&m, ctx);
  } else {
    FUZZ_CHECK(tgis_errmsg(ctx)[0] != '\0');
  }
  unlink(path);
  return 0;
}
