/*
 * report_out.c -- how a report's files reach the disk: each is written
 * under a temporary name in the output directory and renamed over its
 * final name only when it is complete and synced, so a reader (or a
 * report that fails half-way) never sees a partial file. Also the
 * escaping the formats need: CSV fields (RFC 4180), JSON strings and
 * numbers, HTML text, base64 for the inline map.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "report_int.h"

/* "a" + "/" + "b" through the context's allocator. */
static char *join(tgis_ctx *ctx, const char *a, const char *b, const char *c)
{
  size_t na = strlen(a), nb = strlen(b), nc = c ? strlen(c) : 0;
  char *p = tgis__malloc(ctx, na + nb + nc + 2);
  if (!p)
    return NULL;
  memcpy(p, a, na);
  p[na] = '/';
  memcpy(p + na + 1, b, nb);
  memcpy(p + na + 1 + nb, c ? c : "", nc);
  p[na + 1 + nb + nc] = '\0';
  return p;
}

tgis_status rpt_dir_prepare(tgis_ctx *ctx, const char *dir)
{
  struct stat sb;
  rpt_file probe;
  tgis_status st;
  char *p;

  if (!dir || !*dir)
    return tgis__fail(ctx, TGIS_EINVAL, "report: no output directory");
  if (!(p = tgis__strdup(ctx, dir)))
    return tgis__fail(ctx, TGIS_ENOMEM, "out of memory");
  /* mkdir -p: each ancestor in turn, an existing one is fine. */
  for (char *s = p + 1;; s++) {
    if (*s != '/' && *s != '\0')
      continue;
    char c = *s;
    *s = '\0';
    if (mkdir(p, 0777) != 0 && errno != EEXIST) {
      int e = errno;
      st = tgis__fail(ctx, TGIS_EIO, "%s: cannot create directory: %s", p, strerror(e));
      tgis__free(ctx, p);
      return st;
    }
    *s = c;
    if (!c)
      break;
  }
  tgis__free(ctx, p);
  if (stat(dir, &sb) != 0)
    return tgis__fail(ctx, TGIS_EIO, "%s: %s", dir, strerror(errno));
  if (!S_ISDIR(sb.st_mode))
    return tgis__fail(ctx, TGIS_EIO, "%s: not a directory", dir);
  /* Writable in the only way that counts: a file can be made there (root
   * passes access() on a read-only mount too). */
  if ((st = rpt_file_open(&probe, ctx, dir, "write-test")) != TGIS_OK)
    return st;
  rpt_file_abort(&probe);
  return TGIS_OK;
}

#define BUF_BYTES (256 * 1024)

tgis_status rpt_file_open(rpt_file *f, tgis_ctx *ctx, const char *dir, const char *name)
{
  char suffix[48];
  int fd = -1, e = 0;

  memset(f, 0, sizeof *f);
  f->ctx = ctx;
  f->fd = -1;
  if (!(f->path = join(ctx, dir, name, NULL)))
    return tgis__fail(ctx, TGIS_ENOMEM, "out of memory");
  /* A name of our own in the same directory (rename must not cross file
   * systems), made with the umask's permissions, unlike mkstemp's 0600. */
  for (int n = 0; n < 100 && fd < 0; n++) {
    char *dot;
    snprintf(suffix, sizeof suffix, ".tmp-%ld-%d", (long)getpid(), n);
    tgis__free(ctx, f->tmp);
    if (!(dot = tgis__malloc(ctx, strlen(name) + 2))) {
      f->tmp = NULL;
      goto nomem;
    }
    dot[0] = '.';
    memcpy(dot + 1, name, strlen(name) + 1);
    f->tmp = join(ctx, dir, dot, suffix);
    tgis__free(ctx, dot);
    if (!f->tmp)
      goto nomem;
    fd = open(f->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    e = errno;
    if (fd < 0 && e != EEXIST)
      break;
  }
  if (fd < 0) {
    tgis_status st = tgis__fail(ctx, TGIS_EIO, "%s: cannot create: %s", f->path, strerror(e));
    tgis__free(ctx, f->tmp);
    tgis__free(ctx, f->path);
    memset(f, 0, sizeof *f);
    f->fd = -1;
    return st;
  }
  f->fd = fd;
  if (!(f->buf = tgis__malloc(ctx, BUF_BYTES))) {
    rpt_file_abort(f);
    return tgis__fail(ctx, TGIS_ENOMEM, "out of memory");
  }
  f->cap = BUF_BYTES;
  return TGIS_OK;
nomem:
  tgis__free(ctx, f->tmp);
  tgis__free(ctx, f->path);
  memset(f, 0, sizeof *f);
  f->fd = -1;
  return tgis__fail(ctx, TGIS_ENOMEM, "out of memory");
}

/* Write p[0..n) to the descriptor, through short writes and signals. */
static void write_all(rpt_file *f, const char *p, size_t n)
{
  while (n > 0 && !f->err) {
    ssize_t k = write(f->fd, p, n);
    if (k < 0) {
      if (errno != EINTR)
        f->err = errno;
      continue;
    }
    p += k;
    n -= (size_t)k;
  }
}

static void flush(rpt_file *f)
{
  write_all(f, f->buf, f->len);
  f->len = 0;
}

void rpt_file_abort(rpt_file *f)
{
  if (f->fd >= 0) {
    close(f->fd);
    f->fd = -1;
  }
  if (f->buf) {
    tgis__free(f->ctx, f->buf);
    f->buf = NULL;
  }
  if (f->tmp) {
    unlink(f->tmp);
    tgis__free(f->ctx, f->tmp);
    f->tmp = NULL;
  }
  if (f->path) {
    tgis__free(f->ctx, f->path);
    f->path = NULL;
  }
}

tgis_status rpt_file_commit(rpt_file *f)
{
  tgis_status st = TGIS_OK;
  int e = f->err;

  if (!e) {
    flush(f);
    e = f->err;
  }
  if (!e && fsync(f->fd) != 0 && errno != EINVAL)
    e = errno;                      /* EINVAL: a file system without sync */
  if (close(f->fd) != 0 && !e)
    e = errno;
  f->fd = -1;
  if (e) {
    st = tgis__fail(f->ctx, TGIS_EIO, "%s: cannot write: %s", f->path, strerror(e));
  } else if (rename(f->tmp, f->path) != 0) {
    e = errno;
    st = tgis__fail(f->ctx, TGIS_EIO, "%s: cannot replace: %s", f->path, strerror(e));
  } else {
    tgis__free(f->ctx, f->tmp);
    f->tmp = NULL;                  /* renamed: nothing to remove */
  }
  rpt_file_abort(f);
  return st;
}

void rpt_write(rpt_file *f, const void *p, size_t n)
{
  if (f->err || n == 0)
    return;
  f->bytes += (int64_t)n;
  if (f->len + n > f->cap) {
    flush(f);
    if (n >= f->cap) {              /* a large piece (the map): straight through */
      write_all(f, p, n);
      return;
    }
  }
  memcpy(f->buf + f->len, p, n);
  f->len += n;
}

void rpt_int(rpt_file *f, int64_t v)
{
  char tmp[24], *p = tmp + sizeof tmp;
  uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
  do {
    *--p = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  if (v < 0)
    *--p = '-';
  rpt_write(f, p, (size_t)(tmp + sizeof tmp - p));
}

void rpt_fixed(rpt_file *f, double v, int decimals)
{
  static const double scale[] = { 1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6 };
  double a, s, r;
  uint64_t q;
  char tmp[48], *p = tmp + sizeof tmp;

  if (!isfinite(v))
    return;
  if (decimals < 0 || decimals > 6)
    decimals = 6;
  a = fabs(v);
  s = a * scale[decimals];
  r = floor(s);
  /* The fast way rounds the scaled value; printf rounds the exact binary
   * value. They agree unless the scaled value sits at a half, where the
   * scaling's own error could tip it: give those to printf, as very large
   * values. */
  if (!(s < 1e15) || fabs(s - r - 0.5) < 1e-6) {
    rpt_printf(f, "%.*f", decimals, v);
    return;
  }
  q = (uint64_t)r + (s - r > 0.5);
  for (int d = 0; d < decimals; d++) {
    *--p = (char)('0' + q % 10);
    q /= 10;
  }
  if (decimals)
    *--p = '.';
  do {
    *--p = (char)('0' + q % 10);
    q /= 10;
  } while (q);
  if (signbit(v))
    *--p = '-';                     /* as printf: "-0.00" for -0.001 */
  rpt_write(f, p, (size_t)(tmp + sizeof tmp - p));
}

void rpt_general(rpt_file *f, double v, int digits)
{
  if (!isfinite(v))
    return;
  if (v == 0) {
    rpt_write(f, "0", 1);           /* most parcels' index: no printf */
    return;
  }
  rpt_printf(f, "%.*g", digits, v);
}

void rpt_puts(rpt_file *f, const char *s)
{
  rpt_write(f, s, strlen(s));
}

void rpt_printf(rpt_file *f, const char *fmt, ...)
{
  char buf[512];
  va_list ap;
  int n;

  va_start(ap, fmt);
  n = vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (n < 0) {
    if (!f->err)
      f->err = EINVAL;
    return;
  }
  /* Callers format numbers and short words; a longer result is a bug. */
  rpt_write(f, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

void rpt_csv(rpt_file *f, const char *s)
{
  size_t n;
  if (!s)
    return;
  n = strlen(s);
  if (n == 0 || (!strpbrk(s, ",\"\r\n") && s[0] != ' ' && s[n - 1] != ' ')) {
    rpt_write(f, s, n);
    return;
  }
  rpt_write(f, "\"", 1);
  for (const char *q; (q = strchr(s, '"')); s = q + 1) {
    rpt_write(f, s, (size_t)(q - s) + 1);
    rpt_write(f, "\"", 1);          /* the quote again */
  }
  rpt_puts(f, s);
  rpt_write(f, "\"", 1);
}

void rpt_json_str(rpt_file *f, const char *s)
{
  const char *run;
  if (!s) {
    rpt_puts(f, "null");
    return;
  }
  rpt_write(f, "\"", 1);
  for (run = s; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c >= 0x20 && c != '"' && c != '\\')
      continue;
    rpt_write(f, run, (size_t)(s - run));
    if (c == '"' || c == '\\')
      rpt_printf(f, "\\%c", c);
    else if (c == '\n')
      rpt_puts(f, "\\n");
    else if (c == '\t')
      rpt_puts(f, "\\t");
    else
      rpt_printf(f, "\\u%04x", c);
    run = s + 1;
  }
  rpt_write(f, run, (size_t)(s - run));
  rpt_write(f, "\"", 1);
}

void rpt_json_num(rpt_file *f, double v)
{
  if (isfinite(v))
    rpt_printf(f, "%.17g", v);
  else
    rpt_puts(f, "null");
}

void rpt_html(rpt_file *f, const char *s)
{
  const char *run;
  if (!s)
    return;
  for (run = s; *s; s++) {
    const char *esc;
    switch (*s) {
    case '&': esc = "&amp;"; break;
    case '<': esc = "&lt;"; break;
    case '>': esc = "&gt;"; break;
    case '"': esc = "&quot;"; break;
    case '\'': esc = "&#39;"; break;
    default: continue;
    }
    rpt_write(f, run, (size_t)(s - run));
    rpt_puts(f, esc);
    run = s + 1;
  }
  rpt_write(f, run, (size_t)(s - run));
}

void rpt_base64(rpt_file *f, const unsigned char *p, size_t n)
{
  static const char abc[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  char buf[4096];
  size_t k = 0;

  for (size_t i = 0; i < n; i += 3) {
    unsigned v = (unsigned)p[i] << 16;
    if (i + 1 < n)
      v |= (unsigned)p[i + 1] << 8;
    if (i + 2 < n)
      v |= p[i + 2];
    buf[k++] = abc[(v >> 18) & 63];
    buf[k++] = abc[(v >> 12) & 63];
    buf[k++] = i + 1 < n ? abc[(v >> 6) & 63] : '=';
    buf[k++] = i + 2 < n ? abc[v & 63] : '=';
    if (k + 4 > sizeof buf) {
      rpt_write(f, buf, k);
      k = 0;
    }
  }
  rpt_write(f, buf, k);
}
