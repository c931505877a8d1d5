/*
 * report_html.c -- report.html of a coverage run: one self-contained page
 * (inline CSS, the map as a PNG data: URI, the district chart as inline
 * SVG drawn here, no script, no external resource) that reads on screen
 * and prints on A4.
 *
 * Reading order: what was asked and the headline numbers; the map of
 * travel times with its legend (the bands of the coverage theme, with the
 * residents in each); the covered share of every district as bars, worst
 * first; the worst-served districts; the overloaded facilities; where to
 * build next; the run's parameters. All text from the database is
 * escaped; numbers group thousands with a narrow no-break space.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_int.h"

#define NNBSP "\xe2\x80\xaf"  /* U+202F, the thousands separator */
#define DASH "\xe2\x80\x94"   /* U+2014, for "no value" */

/* ---- numbers ------------------------------------------------------------------ */

/* 1234567 -> "1 234 567" (narrow no-break spaces). */
static const char *fmt_int(char *buf, size_t n, int64_t v)
{
  char digits[24];
  size_t nd, k = 0;
  int neg = v < 0;
  snprintf(digits, sizeof digits, "%llu",
           neg ? 0ULL - (unsigned long long)v : (unsigned long long)v);
  nd = strlen(digits);
  if (neg && k + 1 < n)
    buf[k++] = '-';
  for (size_t i = 0; i < nd && k + 4 < n; i++) {
    if (i > 0 && (nd - i) % 3 == 0) {
      memcpy(buf + k, NNBSP, 3);
      k += 3;
    }
    buf[k++] = digits[i];
  }
  buf[k] = '\0';
  return buf;
}

/* A share 0..1 as "67.3%"; NaN as a dash. */
static const char *fmt_pct(char *buf, size_t n, double share)
{
  if (!isfinite(share))
    snprintf(buf, n, DASH);
  else
    snprintf(buf, n, "%.1f%%", 100.0 * share);
  return buf;
}

static double ratio(int64_t a, int64_t b) { return b > 0 ? (double)a / (double)b : NAN; }

/* Rotating buffers, so one printf can format several numbers: each
 * argument is a call of its own (indeterminately sequenced, never at the
 * same time) and takes the next buffer. */
typedef struct numbufs {
  char b[8][48];
  int i;
} numbufs;

static const char *nb_int(numbufs *n, int64_t v)
{
  n->i = (n->i + 1) % 8;
  return fmt_int(n->b[n->i], sizeof n->b[0], v);
}

static const char *nb_pct(numbufs *n, double v)
{
  n->i = (n->i + 1) % 8;
  return fmt_pct(n->b[n->i], sizeof n->b[0], v);
}

/* An index for people: whole and grouped from 100 up ("1 330"), else
 * three significant digits ("97.3", "0.452"). */
static const char *nb_index(numbufs *n, double v)
{
  if (fabs(v) >= 100 && fabs(v) < 1e15)
    return nb_int(n, (int64_t)llround(v));
  n->i = (n->i + 1) % 8;
  snprintf(n->b[n->i], sizeof n->b[0], "%.3g", v);
  return n->b[n->i];
}

#define NUMBUFS numbufs nb = { .i = 0 }
#define I(v) nb_int(&nb, (v))
#define P(v) nb_pct(&nb, (v))
#define I_IDX(v) nb_index(&nb, (v))

/* Bar colour of a covered share: red to green in five steps. */
static const char *share_colour(double s)
{
  if (!isfinite(s))
    return "#bbbbbb";
  return s < 0.25 ? "#d7191c" : s < 0.5 ? "#f08a3c" : s < 0.75 ? "#e3c341"
         : s < 0.9 ? "#8cc665" : "#1a9641";
}

/* ---- words ---------------------------------------------------------------------- */

static const char *kind_phrase(const char *kind)
{
  if (strcmp(kind, "polyclinic") == 0)
    return "a family polyclinic";
  if (strcmp(kind, "school") == 0)
    return "a school";
  return NULL;
}

static const char *kind_plural(const char *kind)
{
  if (strcmp(kind, "polyclinic") == 0)
    return "Family polyclinics";
  if (strcmp(kind, "school") == 0)
    return "Schools";
  return NULL;
}

static void title(rpt_file *f, const tgis_coverage_summary *s)
{
  const char *phrase = kind_phrase(s->facility_kind);
  char buf[48];
  if (s->method == TGIS_COVERAGE_RADIUS) {
    rpt_puts(f, "Who lives within ");
    rpt_puts(f, fmt_int(buf, sizeof buf, (int64_t)llround(s->radius_m)));
    rpt_puts(f, "\xc2\xa0m of ");
  } else {
    rpt_puts(f, "Who reaches ");
  }
  if (phrase) {
    rpt_puts(f, phrase);
  } else {
    rpt_puts(f, "a facility of kind \xe2\x80\x9c");
    rpt_html(f, s->facility_kind);
    rpt_puts(f, "\xe2\x80\x9d");
  }
  if (s->method == TGIS_COVERAGE_RADIUS)
    rpt_puts(f, " in a straight line");
  else
    rpt_printf(f, " within %g\xc2\xa0minutes %s", s->minutes,
               s->mode == TGIS_TRAVEL_DRIVE ? "by car" : "on foot");
}

/* ---- style ------------------------------------------------------------------------ */

static const char css[] =
  ":root{--ink:#1f2328;--muted:#59636e;--rule:#d5dae0;--soft:#f4f6f8;--bad:#b3261e}\n"
  "*{box-sizing:border-box}\n"
  "html{-webkit-text-size-adjust:100%}\n"
  "body{margin:0;color:var(--ink);background:#fff;font:16px/1.55 system-ui,-apple-system,"
  "\"Segoe UI\",Roboto,\"Noto Sans\",\"Helvetica Neue\",Arial,sans-serif}\n"
  "main{max-width:62rem;margin:0 auto;padding:2.2rem 1.5rem 3rem}\n"
  "h1{font-size:2rem;line-height:1.2;margin:.3rem 0 .5rem;font-weight:700;letter-spacing:-.01em}\n"
  "h2{font-size:1.3rem;line-height:1.3;margin:2.4rem 0 .7rem;padding-bottom:.3rem;"
  "border-bottom:1px solid var(--rule)}\n"
  "p{margin:.5rem 0;max-width:46rem}\n"
  ".kicker{text-transform:uppercase;letter-spacing:.07em;font-size:.78rem;color:var(--muted);"
  "margin:0}\n"
  ".sub{color:var(--muted);margin:0}\n"
  ".cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(11rem,1fr));gap:.8rem;"
  "margin:1.6rem 0 .6rem}\n"
  ".card{border:1px solid var(--rule);border-radius:8px;padding:.8rem 1rem;background:#fff}\n"
  ".card .num{font-size:1.75rem;font-weight:700;line-height:1.15;"
  "font-variant-numeric:tabular-nums}\n"
  ".card .lbl{font-weight:600;margin-top:.15rem}\n"
  ".card .detail{color:var(--muted);font-size:.86rem}\n"
  ".card.main{background:var(--soft)}\n"
  ".warn{border-left:4px solid var(--bad);background:#fdf3f2;padding:.6rem .9rem;margin:1rem 0;"
  "max-width:none}\n"
  "figure{margin:0}\n"
  "figure img{display:block;max-width:100%;height:auto;border:1px solid var(--rule);"
  "border-radius:4px}\n"
  "figcaption{color:var(--muted);font-size:.88rem;margin-top:.4rem}\n"
  ".legend{width:auto;min-width:24rem;margin-top:.8rem}\n"
  "table{border-collapse:collapse;width:100%;font-size:.93rem}\n"
  "th,td{padding:.38rem .65rem;border-bottom:1px solid var(--rule);text-align:left;"
  "vertical-align:top}\n"
  "thead th{border-bottom:2px solid var(--ink);font-weight:600;vertical-align:bottom}\n"
  "td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\n"
  "tbody tr:nth-child(even){background:var(--soft)}\n"
  ".sw{display:inline-block;width:.95em;height:.95em;border:1px solid rgba(0,0,0,.25);"
  "border-radius:2px;vertical-align:-.12em;margin-right:.45em}\n"
  ".note{color:var(--muted);font-size:.88rem}\n"
  ".bad{color:var(--bad);font-weight:600}\n"
  "svg.chart{display:block;width:100%;max-width:760px;height:auto;"
  "font-family:inherit}\n"
  "svg.chart text{font-size:13px;fill:#1f2328}\n"
  "svg.chart .axis{fill:#59636e;font-size:11px}\n"
  "dl.params{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1.5rem;margin:0}\n"
  "dl.params dt{color:var(--muted)}\n"
  "dl.params dd{margin:0;font-variant-numeric:tabular-nums}\n"
  "footer{margin-top:2.5rem;padding-top:.8rem;border-top:1px solid var(--rule);"
  "color:var(--muted);font-size:.85rem}\n"
  "code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.9em}\n"
  "@media print{@page{size:A4;margin:14mm}body{font-size:10.5pt}"
  "main{max-width:none;padding:0}h2{break-after:avoid}"
  "figure,svg.chart,.cards,tr,dl.params{break-inside:avoid}"
  ".card,.card.main,tbody tr:nth-child(even){background:none}}\n";

/* ---- sections ---------------------------------------------------------------------- */

static void cards(rpt_file *f, const rpt_data *r)
{
  const tgis_coverage_summary *s = &r->sum;
  NUMBUFS;

  rpt_puts(f, "<section class=\"cards\" aria-label=\"Headline numbers\">\n");
  rpt_printf(f, "<div class=\"card main\"><div class=\"num\">%s</div>"
                "<div class=\"lbl\">of residents covered</div>", P(s->covered_share));
  rpt_printf(f, "<div class=\"detail\">%s of %s residents, in %s of %s parcels</div></div>\n",
             I(s->covered_residents), I(s->residents), I(s->covered_parcels), I(s->parcels));
  rpt_printf(f, "<div class=\"card\"><div class=\"num\">%s</div>"
                "<div class=\"lbl\">residents not covered</div>"
                "<div class=\"detail\">%s of all residents</div></div>\n",
             I(s->residents - s->covered_residents),
             P(ratio(s->residents - s->covered_residents, s->residents)));
  rpt_printf(f, "<div class=\"card\"><div class=\"num\">%s</div>"
                "<div class=\"lbl\">residents who reach none</div>"
                "<div class=\"detail\">%s parcels", I(s->unreachable_residents),
             I(s->unreachable_parcels));
  if (s->method == TGIS_COVERAGE_NETWORK)
    rpt_printf(f, "; %s not within %g\xc2\xa0m of a road", I(s->unsnapped_parcels),
               s->max_snap_m);
  rpt_puts(f, "</div></div>\n");
  rpt_printf(f, "<div class=\"card\"><div class=\"num%s\">%s</div>"
                "<div class=\"lbl\">overloaded facilities</div>"
                "<div class=\"detail\">of %s; catchment above capacity</div></div>\n",
             s->facilities_overloaded ? " bad" : "", I(s->facilities_overloaded),
             I(s->facilities));
  rpt_puts(f, "<div class=\"card\"><div class=\"num\">");
  if (isfinite(s->e2sfca))
    rpt_puts(f, I_IDX(s->e2sfca * 1000.0));
  else
    rpt_puts(f, DASH);
  rpt_puts(f, "</div><div class=\"lbl\">E2SFCA accessibility</div>"
              "<div class=\"detail\">capacity per 1\xe2\x80\xaf" "000 residents, city mean"
              "</div></div>\n</section>\n");
  if (s->components > 1)
    rpt_printf(f, "<p class=\"warn\">The %s network has %s separate pieces: %s parcels are on "
                  "pieces other than the largest and may be cut off by missing links. Check "
                  "the road data.</p>\n", s->mode == TGIS_TRAVEL_DRIVE ? "driving" : "walking",
               I(s->components), I(s->off_main_parcels));
  if (s->facilities_unsnapped > 0)
    rpt_printf(f, "<p class=\"warn\">%s facilities are not within %g\xc2\xa0m of a usable road "
                  "and reach nobody.</p>\n", I(s->facilities_unsnapped), s->max_snap_m);
}

static void map_section(rpt_file *f, const rpt_data *r)
{
  int64_t total = 0;
  NUMBUFS;

  for (int b = 0; b < RPT_BANDS; b++)
    total += r->band_residents[b];
  rpt_puts(f, "<section id=\"map\">\n<h2>Travel time to the nearest facility</h2>\n<figure>\n");
  rpt_printf(f, "<img src=\"data:image/png;base64,");
  rpt_base64(f, r->png, r->png_len);
  rpt_printf(f, "\" width=\"%d\" height=\"%d\" alt=\"Map of the city's parcels coloured by "
                "travel time to the nearest facility\">\n", r->map_w, r->map_h);
  rpt_puts(f, "<figcaption>Each parcel coloured by the time from its door to the nearest ");
  rpt_html(f, r->sum.facility_kind);
  rpt_puts(f, " (drawn by tgis's tile renderer, themes <code>base</code> and "
              "<code>coverage</code>).");
  if (r->sum.method == TGIS_COVERAGE_RADIUS && r->sum.mode == TGIS_TRAVEL_WALK)
    rpt_printf(f, " Radius method: the straight-line distance at %g\xc2\xa0km/h.",
               r->sum.walk_kmh);
  rpt_puts(f, "</figcaption>\n</figure>\n");
  rpt_puts(f, "<table class=\"legend\">\n<thead><tr><th>Travel time</th><th class=\"n\">Parcels"
              "</th><th class=\"n\">Residents</th><th class=\"n\">Share</th></tr></thead>\n"
              "<tbody>\n");
  for (int b = 0; b < RPT_BANDS; b++) {
    if (b == RPT_BAND_NO_TIME && r->band_parcels[b] == 0)
      continue;
    rpt_printf(f, "<tr><td><span class=\"sw\" style=\"background:%s\"></span>%s</td>"
                  "<td class=\"n\">%s</td><td class=\"n\">%s</td><td class=\"n\">%s</td>"
                  "</tr>\n", rpt_band_colour[b], rpt_band_label[b], I(r->band_parcels[b]),
               I(r->band_residents[b]), P(ratio(r->band_residents[b], total)));
  }
  rpt_printf(f, "</tbody>\n</table>\n<p class=\"note\">Covered means within the threshold of "
                "%g\xc2\xa0minutes", r->sum.minutes);
  if (r->sum.method == TGIS_COVERAGE_RADIUS)
    rpt_printf(f, " (here: within %g\xc2\xa0m)", r->sum.radius_m);
  rpt_puts(f, ".</p>\n</section>\n");
}

/* Districts, worst share first (no residents last), then most uncovered. */
static int by_share(const void *a, const void *b)
{
  const rpt_district *x = *(const rpt_district *const *)a, *y = *(const rpt_district *const *)b;
  int fx = isfinite(x->d.share), fy = isfinite(y->d.share);
  if (fx != fy)
    return fy - fx;
  if (fx && x->d.share != y->d.share)
    return x->d.share < y->d.share ? -1 : 1;
  int64_t ux = x->d.residents - x->d.covered_residents, uy = y->d.residents - y->d.covered_residents;
  if (ux != uy)
    return ux > uy ? -1 : 1;
  return strcmp(x->d.soato, y->d.soato);
}

static void chart(rpt_file *f, const rpt_data *r, const rpt_district *const *order)
{
  const double left = 200, bar_w = 400, row = 28, bar_h = 18, top = 30;
  const double width = left + bar_w + 150;
  const double bottom = top + row * (double)r->n_districts;  /* of the last row */
  const double height = bottom + 24;
  double city = r->sum.covered_share;
  NUMBUFS;

  rpt_printf(f, "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" "
                "viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" height=\"%.0f\" role=\"img\" "
                "aria-labelledby=\"chart-title\">\n<title id=\"chart-title\">Share of residents "
                "covered, by district</title>\n", width, height, width, height);
  for (int t = 0; t <= 4; t++) {
    double x = left + bar_w * t / 4.0;
    rpt_printf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#d5dae0\"/>"
                  "<text class=\"axis\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%d%%</text>\n",
               x, top - 6, x, bottom, x, top - 12, 25 * t);
  }
  for (size_t i = 0; i < r->n_districts; i++) {
    const rpt_district *d = order[i];
    double y = top + row * (double)i, s = d->d.share;
    double w = isfinite(s) ? bar_w * fmin(fmax(s, 0), 1) : 0;
    rpt_printf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", left - 10,
               y + bar_h / 2 + 5);
    rpt_html(f, rpt_district_label(d));
    rpt_printf(f, "</text>\n<rect class=\"track\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                  "height=\"%.1f\" fill=\"#eef1f4\"/>\n", left, y + 2, bar_w, bar_h);
    rpt_printf(f, "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.2f\" height=\"%.1f\" "
                  "fill=\"%s\" data-soato=\"", left, y + 2, w, bar_h, share_colour(s));
    rpt_html(f, d->d.soato);
    rpt_puts(f, "\" data-share=\"");
    if (isfinite(s))
      rpt_printf(f, "%.6f", s);
    rpt_puts(f, "\"><title>");
    rpt_html(f, rpt_district_label(d));
    rpt_printf(f, ": %s covered (%s of %s residents)</title></rect>\n", P(s),
               I(d->d.covered_residents), I(d->d.residents));
    rpt_printf(f, "<text x=\"%.1f\" y=\"%.1f\">%s<tspan class=\"axis\" dx=\"8\">%s res.</tspan>"
                  "</text>\n", left + bar_w + 8, y + bar_h / 2 + 5, P(s), I(d->d.residents));
  }
  if (isfinite(city)) {
    double x = left + bar_w * fmin(fmax(city, 0), 1);
    rpt_printf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#1f2328\" "
                  "stroke-width=\"1.5\" stroke-dasharray=\"4 3\"/>\n<text class=\"axis\" "
                  "x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">city %s</text>\n",
               x, top - 2, x, bottom + 4, x, bottom + 17, P(city));
  }
  rpt_puts(f, "</svg>\n");
}

static void districts_section(rpt_file *f, const rpt_data *r, const rpt_district *const *order)
{
  size_t rows = 0;
  NUMBUFS;

  rpt_puts(f, "<section id=\"districts\">\n<h2>Covered share by district</h2>\n"
              "<p class=\"note\">Share of each district's residents within the threshold, worst "
              "first; the dashed line is the city as a whole.</p>\n");
  chart(f, r, order);
  rpt_puts(f, "</section>\n<section id=\"worst\">\n<h2>Worst-served districts</h2>\n");
  rpt_puts(f, "<table>\n<thead><tr><th>District</th><th>SOATO</th><th class=\"n\">Residents</th>"
              "<th class=\"n\">Covered</th><th class=\"n\">Not covered</th><th class=\"n\">Share"
              "</th><th class=\"n\">Reach none</th><th class=\"n\">E2SFCA per 1\xe2\x80\xaf"
              "000</th></tr></thead>\n<tbody>\n");
  for (size_t i = 0; i < r->n_districts && rows < (size_t)r->table_rows; i++) {
    const rpt_district *d = order[i];
    if (d->d.residents == 0)
      continue;
    rows++;
    rpt_puts(f, "<tr><td>");
    rpt_html(f, rpt_district_label(d));
    rpt_puts(f, "</td><td>");
    rpt_html(f, d->d.soato[0] ? d->d.soato : DASH);
    rpt_printf(f, "</td><td class=\"n\">%s</td><td class=\"n\">%s</td><td class=\"n\">%s</td>"
                  "<td class=\"n\">%s</td><td class=\"n\">%s</td><td class=\"n\">",
               I(d->d.residents), I(d->d.covered_residents),
               I(d->d.residents - d->d.covered_residents), P(d->d.share),
               I(d->d.unreachable_residents));
    if (isfinite(d->d.e2sfca))
      rpt_puts(f, I_IDX(d->d.e2sfca * 1000.0));
    else
      rpt_puts(f, DASH);
    rpt_puts(f, "</td></tr>\n");
  }
  rpt_puts(f, "</tbody>\n</table>\n");
  if (r->n_districts > rows)
    rpt_printf(f, "<p class=\"note\">%zu of %zu districts shown; all are in "
                  "<code>districts.csv</code>.</p>\n", rows, r->n_districts);
  rpt_puts(f, "</section>\n");
}

static int by_load(const void *a, const void *b)
{
  const tgis_coverage_facility *x = *(const tgis_coverage_facility *const *)a;
  const tgis_coverage_facility *y = *(const tgis_coverage_facility *const *)b;
  int fx = isfinite(x->load), fy = isfinite(y->load);
  if (fx != fy)
    return fy - fx;
  if (fx && x->load != y->load)
    return x->load > y->load ? -1 : 1;
  return x->facility_id < y->facility_id ? -1 : x->facility_id > y->facility_id;
}

static void facility_rows(rpt_file *f, const tgis_coverage_facility *const *order, size_t n)
{
  NUMBUFS;
  rpt_puts(f, "<table>\n<thead><tr><th>Facility</th><th class=\"n\">Id</th>"
              "<th class=\"n\">Capacity</th><th class=\"n\">Catchment residents</th>"
              "<th class=\"n\">Load</th><th class=\"n\">Over capacity by</th></tr></thead>\n"
              "<tbody>\n");
  for (size_t i = 0; i < n; i++) {
    const tgis_coverage_facility *c = order[i];
    rpt_puts(f, "<tr><td>");
    rpt_html(f, c->name && *c->name ? c->name : "(deleted since the run)");
    rpt_printf(f, "</td><td class=\"n\">%lld</td><td class=\"n\">%s</td><td class=\"n\">%s"
                  "</td><td class=\"n%s\">%s</td><td class=\"n\">%s</td></tr>\n",
               (long long)c->facility_id, c->capacity >= 0 ? I(c->capacity) : DASH,
               I(c->catchment_residents), c->load > 1.0 ? " bad" : "", P(c->load),
               c->load > 1.0 ? I(c->catchment_residents - c->capacity) : DASH);
  }
  rpt_puts(f, "</tbody>\n</table>\n");
}

static tgis_status facilities_section(rpt_file *f, const rpt_data *r)
{
  const tgis_coverage_facility **order = NULL;
  size_t n_known = 0, unknown = 0;
  const char *plural = kind_plural(r->sum.facility_kind);

  if (r->n_facilities &&
      !(order = tgis__malloc(r->ctx, r->n_facilities * sizeof *order)))
    return tgis__fail(r->ctx, TGIS_ENOMEM, "out of memory writing report.html");
  rpt_puts(f, "<section id=\"facilities\">\n<h2>Overloaded facilities</h2>\n"
              "<p class=\"note\">A facility's catchment is the residents of the covered parcels "
              "it is nearest to; its load is the catchment over its capacity.</p>\n");
  if (r->n_facilities == 0) {
    rpt_puts(f, "<p>The run has no facilities.</p>\n</section>\n");
    return TGIS_OK;
  }
  for (size_t i = 0; i < r->n_facilities; i++) {
    order[i] = &r->facilities[i];
    n_known += isfinite(r->facilities[i].load);
    unknown += r->facilities[i].capacity < 0;
  }
  qsort(order, r->n_facilities, sizeof *order, by_load);
  if (r->overloaded > 0) {
    facility_rows(f, order, (size_t)r->overloaded);
  } else {
    size_t n = n_known < (size_t)r->table_rows ? n_known : (size_t)r->table_rows;
    rpt_puts(f, "<p>No facility serves more residents than its capacity.");
    if (n) {
      rpt_puts(f, " The busiest:</p>\n");
      facility_rows(f, order, n);
    } else {
      rpt_puts(f, "</p>\n");
    }
  }
  rpt_printf(f, "<p class=\"note\">%s in the run: %zu", plural ? plural : "Facilities",
             r->n_facilities);
  if (unknown)
    rpt_printf(f, ", %zu without a known capacity", unknown);
  rpt_puts(f, "; all are in <code>facilities.csv</code>.</p>\n</section>\n");
  tgis__free(r->ctx, order);
  return TGIS_OK;
}

static void sites_section(rpt_file *f, const rpt_data *r)
{
  const tgis_coverage_summary *s = &r->sum;
  int64_t before = s->covered_residents;
  NUMBUFS;

  rpt_puts(f, "<section id=\"sites\">\n<h2>Where to build next</h2>\n");
  if (r->n_sites == 0) {
    rpt_puts(f, "<p>No sites were picked for this run. <code>tgis report coverage --sites K"
                "</code> (or <code>tgis coverage --sites K</code>) picks the K candidate sites "
                "that would cover the most residents not yet covered.</p>\n</section>\n");
    return;
  }
  rpt_printf(f, "<p>Picked one at a time by greedy maximal covering: each site newly covers the "
                "most residents not covered by the existing facilities and the sites above it, "
                "within the same threshold. Coordinates in EPSG:%d.</p>\n", r->db.srid);
  rpt_puts(f, "<table>\n<thead><tr><th class=\"n\">Rank</th><th>Site</th><th class=\"n\">Parcel"
              "</th><th class=\"n\">x</th><th class=\"n\">y</th><th class=\"n\">Newly covered "
              "residents</th><th class=\"n\">Gain</th><th class=\"n\">Covered after</th>"
              "</tr></thead>\n<tbody>\n");
  for (size_t i = 0; i < r->n_sites; i++) {
    const tgis_coverage_site *t = &r->sites[i];
    double gain = ratio(t->covered_residents - before, s->residents);
    rpt_printf(f, "<tr><td class=\"n\">%d</td><td>", t->rank);
    rpt_html(f, t->label ? t->label : DASH);
    rpt_puts(f, "</td><td class=\"n\">");
    if (t->parcel_id > 0)
      rpt_printf(f, "%lld", (long long)t->parcel_id);
    else
      rpt_puts(f, DASH);
    rpt_printf(f, "</td><td class=\"n\">%.1f</td><td class=\"n\">%.1f</td><td class=\"n\">%s"
                  "</td><td class=\"n\">", t->x, t->y, I(t->gain_residents));
    if (isfinite(gain))
      rpt_printf(f, "+%.1f\xc2\xa0pp", 100.0 * gain);
    else
      rpt_puts(f, DASH);
    rpt_printf(f, "</td><td class=\"n\">%s</td></tr>\n",
               P(ratio(t->covered_residents, s->residents)));
    before = t->covered_residents;
  }
  rpt_puts(f, "</tbody>\n</table>\n</section>\n");
}

static void param(rpt_file *f, const char *name, const char *value)
{
  rpt_printf(f, "<dt>%s</dt><dd>", name);
  rpt_html(f, value);
  rpt_puts(f, "</dd>\n");
}

static void params_section(rpt_file *f, const rpt_data *r)
{
  const tgis_coverage_summary *s = &r->sum;
  char v[160];
  NUMBUFS;

  rpt_puts(f, "<section id=\"params\">\n<h2>The run</h2>\n<dl class=\"params\">\n");
  snprintf(v, sizeof v, "%lld", (long long)s->run_id);
  param(f, "Run", v);
  param(f, "Computed", s->created);
  param(f, "Facility kind", s->facility_kind);
  param(f, "Travel mode", s->mode == TGIS_TRAVEL_DRIVE ? "drive (oneway streets respected)"
                                                       : "walk");
  param(f, "Method", s->method == TGIS_COVERAGE_RADIUS ? "radius: straight-line distance"
                                                       : "network: travel time along the roads");
  snprintf(v, sizeof v, "%g minutes", s->minutes);
  param(f, "Threshold", v);
  if (s->method == TGIS_COVERAGE_RADIUS) {
    snprintf(v, sizeof v, "%g m", s->radius_m);
    param(f, "Radius", v);
  }
  snprintf(v, sizeof v, "%g km/h", s->walk_kmh);
  param(f, "Walking speed", v);
  if (s->method == TGIS_COVERAGE_NETWORK) {
    snprintf(v, sizeof v, "%g m", s->max_snap_m);
    param(f, "Snap distance limit", v);
    snprintf(v, sizeof v, "%s nodes, %s edges, %s component%s", I(s->network_nodes),
             I(s->network_edges), I(s->components), s->components == 1 ? "" : "s");
    param(f, "Road network", v);
    snprintf(v, sizeof v, "%s not within the snap limit, %s off the largest piece",
             I(s->unsnapped_parcels), I(s->off_main_parcels));
    param(f, "Parcels off the network", v);
  }
  snprintf(v, sizeof v, "%s parcels, %s residents", I(s->parcels), I(s->residents));
  param(f, "City", v);
  snprintf(v, sizeof v, "%s, %s not snapped to a road", I(s->facilities),
           I(s->facilities_unsnapped));
  param(f, "Facilities", v);
  if (isfinite(s->seconds)) {
    snprintf(v, sizeof v, "%.2f s", s->seconds);
    param(f, "Run time", v);
  }
  snprintf(v, sizeof v, "EPSG:%d %s", r->db.srid, r->db.crs_name);
  param(f, "Coordinates", v);
  snprintf(v, sizeof v, "%s by tgis %s", r->generated, tgis_version());
  param(f, "Report made", v);
  rpt_puts(f, "</dl>\n</section>\n");
}

/* ---- the page ------------------------------------------------------------------------ */

tgis_status rpt_write_html(rpt_data *r, const char *dir, int64_t *bytes)
{
  const rpt_district **order = NULL;
  rpt_file f;
  tgis_status st;

  if (r->n_districts && !(order = tgis__malloc(r->ctx, r->n_districts * sizeof *order)))
    return tgis__fail(r->ctx, TGIS_ENOMEM, "out of memory writing report.html");
  for (size_t i = 0; i < r->n_districts; i++)
    order[i] = &r->districts[i];
  if (r->n_districts)
    qsort(order, r->n_districts, sizeof *order, by_share);
  if ((st = rpt_file_open(&f, r->ctx, dir, "report.html")) != TGIS_OK) {
    tgis__free(r->ctx, order);
    return st;
  }
  rpt_puts(&f, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
               "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
  rpt_printf(&f, "<meta name=\"generator\" content=\"tgis %s\">\n<title>", tgis_version());
  title(&f, &r->sum);
  rpt_printf(&f, " \xe2\x80\x94 coverage run %lld</title>\n<style>\n", (long long)r->sum.run_id);
  rpt_puts(&f, css);
  rpt_puts(&f, "</style>\n</head>\n<body>\n<main>\n<header>\n<p class=\"kicker\">Digital "
               "Capital center \xc2\xb7 service coverage report</p>\n<h1>");
  title(&f, &r->sum);
  rpt_printf(&f, "</h1>\n<p class=\"sub\">Coverage run %lld, computed %s", (long long)r->sum.run_id,
             r->sum.created);
  rpt_puts(&f, "</p>\n</header>\n");
  cards(&f, r);
  map_section(&f, r);
  districts_section(&f, r, order);
  if ((st = facilities_section(&f, r)) != TGIS_OK)
    goto fail;
  sites_section(&f, r);
  params_section(&f, r);
  rpt_puts(&f, "<footer>\n<p>With this page: <code>summary.json</code> (the run's numbers), "
               "<code>parcels.csv</code> (every parcel's nearest facility, time and distance), "
               "<code>districts.csv</code>, <code>facilities.csv</code>.</p>\n<p>E2SFCA "
               "(enhanced two-step floating catchment area): a facility's capacity shared among "
               "the residents in reach, weighted 1.00, 0.68 and 0.22 over the three thirds of "
               "the threshold, summed per parcel and averaged over residents; shown per "
               "1\xe2\x80\xaf" "000 residents.</p>\n<p>This report holds no personal data: "
               "parcels are named by cadastre number only.</p>\n</footer>\n</main>\n</body>\n"
               "</html>\n");
  tgis__free(r->ctx, order);
  *bytes += f.bytes;
  return rpt_file_commit(&f);
fail:
  tgis__free(r->ctx, order);
  rpt_file_abort(&f);
  return st;
}
