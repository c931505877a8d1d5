/*
 * coverage_int.h -- what the coverage files share (module-internal).
 *
 * A coverage run is one struct, tgis_coverage_result, filled stage by
 * stage: coverage_input.c reads the parcels and facilities, then either
 * coverage_network.c (graph, snapping, multi-source search) or
 * coverage_radius.c finds each parcel's nearest facility, e2sfca.c adds
 * the accessibility index, coverage_aggregate.c sums districts and
 * facilities, coverage_write.c stores the tables. The result keeps what
 * the siting (siting.c) needs: the graph, the snaps, the parcels.
 *
 * Costs are seconds for the network method and metres for the radius
 * method; `limit` is the threshold in the same unit, so E2SFCA and the
 * siting work on either through coverage_reach.c.
 */
#ifndef TGIS_ANALYTICS_COVERAGE_INT_H
#define TGIS_ANALYTICS_COVERAGE_INT_H

#include "graph.h"
#include "network.h"

/** Weights of E2SFCA's three sub-zones (docs/coverage.md). */
#define COV_W1 1.00
#define COV_W2 0.68
#define COV_W3 0.22

/** A public parcel as a candidate site. */
typedef struct cov_cand {
  uint32_t parcel;                /* index into the parcels */
  size_t label;                   /* offset of its label in labels */
} cov_cand;

struct tgis_coverage_result {
  tgis_ctx *ctx;
  tgis_coverage_options o;        /* facility_kind points into kind[] */
  char kind[16];
  tgis_coverage_summary sum;
  tgis_mode mode;                 /* the graph's travel mode */
  double limit;                   /* threshold: seconds or metres */
  volatile int cancel;            /* set when the progress callback asks */
  double t_start;                 /* cov__now() at the start of the run */

  /* Parcels (layer order = parcel id order). */
  size_t n_parcels;
  double *pxy;                    /* 2n centroids; NaN without geometry */
  tgis_coverage_parcel *parcels;  /* the per-parcel results */
  int32_t *pfac;                  /* nearest facility's index, -1 none */

  /* Districts: interned SOATO codes, sorted at aggregation. */
  tgis_coverage_district *districts;
  size_t n_districts, cap_districts;

  /* Facilities of the kind. */
  size_t n_fac;
  double *fxy;                    /* 2n */
  tgis_coverage_facility *facilities;

  /* Candidate sites: public parcels. */
  struct cov_cand *cand;
  size_t n_cand, cap_cand;
  char *labels;                   /* their labels, NUL-terminated, back to back */
  size_t labels_len, labels_cap;
  char **fac_names;               /* n_fac, owned (facilities[i].name) */

  /* Network method. */
  tgis_network_roads roads;
  tgis_graph *g;
  tgis_snap_index *ix;
  tgis_snap *psnap;               /* n_parcels */
  tgis_snap *fsnap;               /* n_fac */
  tgis_graph_components *comps;   /* of the mode's network */

  /* Sites of the last tgis_coverage_sites(). */
  tgis_coverage_site *sites;
  size_t n_sites;
  char *site_labels;              /* their labels, NUL-separated */
};

typedef struct tgis_coverage_result cov_run;

/* coverage.c */
/** Report progress; TGIS_ECANCELLED (with a message) when the caller's
 * callback asks to stop. */
tgis_status cov__progress(cov_run *r, const char *stage, int64_t done, int64_t total);
/** Seconds of a monotonic clock. */
double cov__now(void);

/* coverage_input.c */
/** Read the parcels and the facilities of r->kind; TGIS_EINVAL when there
 * is no facility of the kind. */
tgis_status cov__load(cov_run *r);

/* coverage_network.c */
/** Graph, snapping and the nearest facility of every parcel by travel time. */
tgis_status cov__network(cov_run *r);

/* coverage_radius.c */
/** The nearest facility of every parcel by straight-line distance. */
tgis_status cov__radius(cov_run *r);

/* e2sfca.c */
/** The E2SFCA index of every parcel and each facility's ratio. */
tgis_status cov__e2sfca(cov_run *r);
/** Weight of a cost within the threshold `limit`: 1.00, 0.68, 0.22 over
 * its thirds, 0 beyond it. */
double cov__weight(double cost, double limit);

/* coverage_aggregate.c */
/** Districts, facilities' catchments and the summary's counts. */
tgis_status cov__aggregate(cov_run *r);

/* coverage_write.c */
/** Write the run's tables in one transaction; sets r->sum.run_id. */
tgis_status cov__write(cov_run *r);

/* coverage_reach.c: every parcel within the threshold of a point. */
typedef struct cov_reach cov_reach;
/** Called for each parcel in reach with its cost (seconds or metres) and
 * its slot: a number of its own in the reach, 0 .. cov__reach_slots() - 1,
 * laid out so that visits run through slots mostly in order (callers keep
 * per-slot arrays rather than jump about the parcels). */
typedef void (*cov_visit_fn)(uint32_t parcel, uint32_t slot, double cost, void *payload);
/**
 * Prepare searches over the parcels with include[i] != 0 (include NULL:
 * all) by r's method.
 */
tgis_status cov__reach_new(cov_reach **out, cov_run *r, const uint8_t *include);
/**
 * Find what is within r->limit of a point: by network from its snap (an
 * unsnapped point reaches nobody), or by radius from (x, y). The parcels
 * found are then visited by cov__reach_each(), as often as needed, until
 * the next search.
 */
tgis_status cov__reach_search(cov_reach *rc, const tgis_snap *snap, double x, double y);
/** Visit each parcel in reach of the last search once, in no particular
 * order, with its cost, computed as the nearest-facility pass computes it. */
void cov__reach_each(cov_reach *rc, cov_visit_fn fn, void *payload);
/** Number of slots (the parcels included), and the parcel of a slot. */
size_t cov__reach_slots(const cov_reach *rc);
uint32_t cov__reach_slot_parcel(const cov_reach *rc, uint32_t slot);
/** A search and one visit. */
tgis_status cov__reach_visit(cov_reach *rc, const tgis_snap *snap, double x, double y,
                             cov_visit_fn fn, void *payload);
/** Free a reach. If rc is NULL nothing occurs. */
void cov__reach_free(cov_reach *rc);

#endif /* TGIS_ANALYTICS_COVERAGE_INT_H */
