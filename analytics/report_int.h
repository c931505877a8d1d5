/*
 * report_int.h -- the parts of the coverage report (report*.c) share:
 * the run as read back, and an output file written under a temporary name
 * and renamed into place when complete. Private to analytics/.
 */
#ifndef TGIS_REPORT_INT_H
#define TGIS_REPORT_INT_H

#include <stdio.h>

#include "tgis_int.h"

/* ---- one output file (report_out.c) ---------------------------------------- */

/* A file being written: DIR/.NAME.tmp-PID-N until rpt_file_commit()
 * renames it to DIR/NAME. Output collects in a buffer of its own and goes
 * to the descriptor in large writes (a million CSV rows are many small
 * pieces). Write errors are remembered (with errno) and reported once, by
 * the commit, naming the file. */
typedef struct rpt_file {
  tgis_ctx *ctx;
  char *path;              /* DIR/NAME */
  char *tmp;               /* the temporary name; NULL when none is open */
  int fd;                  /* -1 when none is open */
  char *buf;
  size_t len, cap;
  int err;                 /* errno of the first failed write, 0 if none */
  int64_t bytes;           /* written so far */
} rpt_file;

/**
 * Create `dir` and its parents where missing, and check that a file can
 * be created in it.
 * @return TGIS_OK, TGIS_EIO (message "DIR: why"), TGIS_ENOMEM.
 */
tgis_status rpt_dir_prepare(tgis_ctx *ctx, const char *dir);

/**
 * Start writing DIR/NAME under a temporary name in DIR.
 * @return TGIS_OK, TGIS_EIO (message names the file), TGIS_ENOMEM. On
 *         failure `f` holds nothing to release (rpt_file_abort is a no-op).
 */
tgis_status rpt_file_open(rpt_file *f, tgis_ctx *ctx, const char *dir, const char *name);

/**
 * Flush, sync and close the file, and rename it to its final name.
 * @return TGIS_OK or TGIS_EIO (the temporary file is removed).
 */
tgis_status rpt_file_commit(rpt_file *f);

/** Close and remove an uncommitted file; then free its names. Safe to
 *  call on a committed or never-opened file. */
void rpt_file_abort(rpt_file *f);

void rpt_write(rpt_file *f, const void *p, size_t n);
void rpt_puts(rpt_file *f, const char *s);
void rpt_printf(rpt_file *f, const char *fmt, ...) TGIS_PRINTF(2, 3);

/** A whole number. */
void rpt_int(rpt_file *f, int64_t v);
/** v with `decimals` (0..6) digits after the point, as "%.*f" prints it;
 *  nothing when v is NaN or infinite. */
void rpt_fixed(rpt_file *f, double v, int decimals);
/** v to `digits` significant digits, as "%.*g" prints it; nothing when
 *  v is NaN or infinite. */
void rpt_general(rpt_file *f, double v, int digits);

/** A CSV field (RFC 4180): quoted, with quotes doubled, when it holds a
 *  comma, a quote, CR or LF, or starts or ends with a space. NULL: empty. */
void rpt_csv(rpt_file *f, const char *s);
/** A JSON string, escaped; NULL writes null. */
void rpt_json_str(rpt_file *f, const char *s);
/** A JSON number exact to the double (%.17g); NaN or infinity: null. */
void rpt_json_num(rpt_file *f, double v);
/** Text escaped for HTML content and attribute values; NULL: nothing. */
void rpt_html(rpt_file *f, const char *s);
/** Bytes in base64 (RFC 4648, no line breaks). */
void rpt_base64(rpt_file *f, const unsigned char *p, size_t n);

/* ---- the run as read back (report.c) ---------------------------------------- */

/* Travel-time bands of the coverage theme (data/styles/coverage.yaml):
 * 0-5, 5-10, 10-15, 15-30, 30+ minutes, then unreachable, then reachable
 * without a time (radius method in drive mode). */
#define RPT_BANDS 7
#define RPT_BAND_UNREACHABLE 5
#define RPT_BAND_NO_TIME 6

typedef struct rpt_district {
  tgis_coverage_district d;
  char *name;              /* the layer's, the city table's, or NULL */
} rpt_district;

typedef struct rpt_data {
  tgis_ctx *ctx;
  tgis_coverage_summary sum;
  tgis_db_info db;
  char generated[32];      /* when the report was made, UTC ISO 8601 */
  int table_rows;
  rpt_district *districts;
  size_t n_districts, cap_districts;
  tgis_coverage_facility *facilities;  /* names owned (tgis__strdup) */
  size_t n_facilities, cap_facilities;
  tgis_coverage_site *sites;           /* labels owned */
  size_t n_sites, cap_sites;
  int64_t overloaded;
  /* from the pass over the parcel rows */
  int64_t parcel_rows;
  int64_t band_parcels[RPT_BANDS], band_residents[RPT_BANDS];
  /* the map */
  unsigned char *png;      /* tgis_free(ctx, png) */
  size_t png_len;
  int map_w, map_h;
} rpt_data;

/** Name a district for people: its name, else its SOATO code, else
 *  "(no district)". */
const char *rpt_district_label(const rpt_district *d);

/** Travel mode and method names as stored ("walk", "network"). */
const char *rpt_mode_name(tgis_travel_mode m);
const char *rpt_method_name(tgis_coverage_method m);

/** Display names of the bands ("0–5 min", ...) and their colours. */
extern const char *const rpt_band_label[RPT_BANDS];
extern const char *const rpt_band_colour[RPT_BANDS];

/* ---- report.html (report_html.c) ---------------------------------------------- */

/** Write report.html of `r` (everything read, the map rendered). */
tgis_status rpt_write_html(rpt_data *r, const char *dir, int64_t *bytes);

#endif /* TGIS_REPORT_INT_H */
