/*
 * standalone.c -- replay a fuzz target's corpus without libFuzzer (after
 * libgit2's fuzzers/standalone_driver.c).
 *
 *   fuzz_<target> CORPUS_DIR
 *
 * Calls LLVMFuzzerTestOneInput() once per regular file of CORPUS_DIR (in
 * name order, so runs are repeatable) and ends with "N passed, 0 failed".
 * A target has no way to fail but to crash: in the sanitizer build
 * AddressSanitizer or UndefinedBehaviorSanitizer aborts the process on the
 * file being replayed, whose name is printed first. Exit 1 if the
 * directory cannot be read or holds no input.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int read_file(const char *path, uint8_t **out, size_t *size)
{
  FILE *f = fopen(path, "rb");
  uint8_t *buf = NULL;
  size_t cap = 0, n = 0;
  if (!f)
    return -1;
  for (;;) {
    if (n == cap) {
      uint8_t *p = realloc(buf, cap ? cap * 2 : 4096);
      if (!p) {
        free(buf);
        fclose(f);
        return -1;
      }
      buf = p;
      cap = cap ? cap * 2 : 4096;
    }
    size_t r = fread(buf + n, 1, cap - n, f);
    n += r;
    if (r == 0)
      break;
  }
  if (ferror(f)) {
    free(buf);
    fclose(f);
    return -1;
  }
  fclose(f);
  *out = buf;
  *size = n;
  return 0;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
  return strcmp((*a)->d_name, (*b)->d_name);
}

int main(int argc, char **argv)
{
  struct dirent **names;
  int n, passed = 0, failed = 0;

  if (argc != 2) {
    fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
    return 2;
  }
  if ((n = scandir(argv[1], &names, NULL, by_name)) < 0) {
    perror(argv[1]);
    printf("0 passed, 1 failed\n");
    return 1;
  }
  for (int i = 0; i < n; i++) {
    char path[4096];
    struct stat sb;
    uint8_t *data;
    size_t size;
    snprintf(path, sizeof path, "%s/%s", argv[1], names[i]->d_name);
    free(names[i]);
    if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
      continue;
    if (read_file(path, &data, &size) != 0) {
      fprintf(stderr, "%s: cannot read\n", path);
      failed++;
      continue;
    }
    fprintf(stderr, "replay %s (%zu bytes)\n", path, size);
    LLVMFuzzerTestOneInput(data, size);
    free(data);
    passed++;
  }
  free(names);
  if (passed + failed == 0) {
    fprintf(stderr, "%s: no inputs\n", argv[1]);
    failed = 1;
  }
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
