/*
 * gen_int.h -- what the generator's modules share: the state of one
 * generation run and the functions each stage offers the others.
 *
 * A run works in metric UTM 42N (EPSG:32642) on a square lattice of
 * spacing L centred on Amir Timur square; lattice point (i, j) lies at
 * (x0 + i*L, y0 + j*L). Arrays over the lattice are indexed by grid
 * coordinates gi = i - imin, gj = j - jmin. A "cell" (block) is named by
 * its lower-left lattice point. Everything random comes from rng.c, keyed
 * by the seed and a stream per stage, so no stage depends on the order in
 * which another drew its numbers. Nothing here is global: all state lives
 * in a gen_state on the caller's stack.
 */
#ifndef TGIS_GEN_INT_H
#define TGIS_GEN_INT_H

#include <stddef.h>
#include <stdint.h>

#include <gdal.h>
#include <ogr_api.h>
#include <proj.h>

#include "generate.h"
#include "tgis_int.h"

/* ---- random numbers (rng.c) -------------------------------------------- */

/** Independent random streams, one per use; values are part of the
 *  output's definition, so never renumber them. */
enum gen_stream {
  GEN_S_ZONE = 1,       /* low-frequency zone noise */
  GEN_S_INDUSTRY,       /* industrial cluster noise */
  GEN_S_PARKS,          /* park cluster noise */
  GEN_S_LANDUSE,        /* per-block land use draw */
  GEN_S_BLOCK,          /* per-block parcel split */
  GEN_S_RESIDENTS,      /* per-parcel residents */
  GEN_S_OWNER,          /* per-parcel owner identifiers */
  GEN_S_MAHALLA,        /* address codes */
  GEN_S_NAMES,          /* street names */
  GEN_S_BRIDGES,        /* bridge placement */
  GEN_S_UTIL,           /* utility sources and loops (+ network) */
  GEN_S_UTIL_KIND,      /* utility node kinds */
  GEN_S_FACILITIES,     /* facility placement and capacity */
  GEN_S_DEFECTS,        /* defect choice */
  GEN_S_SHAPE           /* parcel widths */
};

/** xoshiro256** state: a sequential stream. */
typedef struct gen_rng {
  uint64_t s[4];
} gen_rng;

/** splitmix64 finaliser: a bijective 64-bit mix. */
uint64_t tgis_gen__mix(uint64_t z);
/** A hash of (seed, stream, a, b): the random draw of one entity. */
uint64_t tgis_gen__hash(uint64_t seed, uint32_t stream, int64_t a, int64_t b);
/** [0, 1) from the top 53 bits of a hash. */
double tgis_gen__unit(uint64_t h);
/** Seed a sequential stream. */
void tgis_gen__rng_seed(gen_rng *r, uint64_t seed, uint32_t stream);
uint64_t tgis_gen__rng_next(gen_rng *r);
/** [0, 1). */
double tgis_gen__rng_unit(gen_rng *r);
/** Uniform integer in [0, n); n > 0. */
uint64_t tgis_gen__rng_below(gen_rng *r, uint64_t n);
/** Smooth value noise in [0, 1) over the plane, features about `cell`
 *  metres across. */
double tgis_gen__noise(uint64_t seed, uint32_t stream, double x, double y,
                       double cell);

/* ---- text (fmt.c) ------------------------------------------------------ */

/** Write v in decimal, zero-padded to `width` digits, at p; NUL-terminate;
 *  return the end. The caller provides the room. */
char *tgis_gen__put_uint(char *p, uint64_t v, int width);
/** Copy s to p (with its NUL); return the end. */
char *tgis_gen__put_str(char *p, const char *s);

/* ---- progress (progress.c) --------------------------------------------- */

typedef struct gen_progress {
  tgis_gen_progress_fn fn;
  void *payload;
  const char *stage;     /* stage of the last report */
  double last_time;      /* monotonic seconds of the last report */
} gen_progress;

/** Report `fraction` of `stage`; rate-limited except at 0 and 1. */
void tgis_gen__progress(gen_progress *p, const char *stage, double fraction);

/* ---- districts (districts.c) ------------------------------------------- */

#define GEN_NDIST 12

typedef struct gen_district {
  const char *soato;     /* from tgis_districts() (static) */
  const char *name;      /* Latin Uzbek, from tgis_districts() */
  char *name_ru;         /* ADM2_RU, owned */
  OGRGeometryH geom_ll;  /* the MultiPolygon in lon/lat, owned */
  double *xy;            /* outer ring in UTM, closed, x/y pairs, owned */
  size_t n;              /* points in xy */
  double minx, miny, maxx, maxy;  /* UTM bounds */
} gen_district;

typedef struct gen_city {
  gen_district d[GEN_NDIST];  /* in the order of tgis_districts() */
  double minx, miny, maxx, maxy;
  double area_m2;             /* sum of district areas (UTM) */
  double cx, cy;              /* centre (Amir Timur square) in UTM */
  double clon, clat;          /* the same in lon/lat */
} gen_city;

typedef struct gen_state gen_state;

/** Load the embedded boundaries, match them to tgis_districts(). */
tgis_status tgis_gen__city_load(gen_state *g);
void tgis_gen__city_free(gen_state *g);

/**
 * Crossings of the horizontal line at `y` with a district's ring, sorted;
 * between crossing 2k and 2k+1 the line is inside. Returns the number of
 * crossings (even), at most `cap` stored.
 */
size_t tgis_gen__crossings(const gen_district *d, double y, double *xs,
                           size_t cap);

/* ---- lattice (lattice.c) ----------------------------------------------- */

typedef enum gen_use {
  GEN_USE_NONE = 0,          /* no parcels: outside, or crossed by a road */
  GEN_USE_RESIDENTIAL,       /* private houses: 2 rows of 4-6 parcels */
  GEN_USE_MULTIFAMILY,
  GEN_USE_COMMERCIAL,
  GEN_USE_INDUSTRIAL,
  GEN_USE_PUBLIC,
  GEN_USE_GREEN,
  GEN_USE_COUNT
} gen_use;

/** Land-use names as written, indexed by gen_use. */
extern const char *const tgis_gen__use_names[GEN_USE_COUNT];

/* Per lattice point flags (gen_layout.flags). Edges are stored at their
 * first point: H to (i+1, j), V to (i, j+1), D1 to (i+1, j+1),
 * D2 to (i+1, j-1). */
#define GEN_P_IN        0x00001u  /* the point is inside the city */
#define GEN_P_H         0x00002u  /* horizontal street edge */
#define GEN_P_V         0x00004u  /* vertical street edge */
#define GEN_P_D1        0x00008u  /* diagonal edge north-east */
#define GEN_P_D2        0x00010u  /* diagonal edge south-east */
#define GEN_P_HBR       0x00020u  /* H edge carried by a bridge */
#define GEN_P_VBR       0x00040u  /* V edge carried by a bridge */
#define GEN_P_HRING     0x00080u  /* H edge belongs to a ring road */
#define GEN_P_VRING     0x00100u  /* V edge belongs to a ring road */
#define GEN_P_HRING2    0x00200u  /* ... the outer ring */
#define GEN_P_VRING2    0x00400u
#define GEN_P_D1RING    0x00800u  /* D1 edge belongs to a ring (else radial) */
#define GEN_P_D2RING    0x01000u
#define GEN_P_D1RING2   0x02000u  /* ... the outer ring */
#define GEN_P_D2RING2   0x04000u
#define GEN_P_ONDIAG    0x08000u  /* a diagonal road passes the point */
#define GEN_P_HBRSTART  0x10000u  /* a bridge starts here, eastwards */
#define GEN_P_VBRSTART  0x20000u  /* a bridge starts here, northwards */

typedef struct gen_layout {
  double L;              /* lattice spacing, metres */
  double x0, y0;         /* UTM of lattice point (0, 0) */
  int imin, jmin;        /* lattice index of grid column / row 0 */
  int nx, ny;            /* grid size in points */
  uint32_t *flags;       /* nx*ny GEN_P_* */
  int8_t *bdist;         /* (nx-1)*(ny-1) district of a cell, -1 none */
  uint8_t *buse;         /* (nx-1)*(ny-1) gen_use of a cell */
  int ring_a[2], ring_b[2];  /* octagon rings, lattice units */
  size_t nblocks;        /* cells with parcels */
  size_t nparcels;
  size_t blocks_by_use[GEN_USE_COUNT];
  size_t parcels_by_use[GEN_USE_COUNT];
  size_t diag_cells;     /* cells given to diagonal roads */
} gen_layout;

#define GEN_PT(lay, gi, gj) ((size_t)(gj) * (size_t)(lay)->nx + (size_t)(gi))
#define GEN_CELL(lay, gi, gj) ((size_t)(gj) * (size_t)((lay)->nx - 1) + (size_t)(gi))

/** Choose L so the parcel count meets the target; build the lattice. */
tgis_status tgis_gen__layout_build(gen_state *g);
void tgis_gen__layout_free(gen_state *g);
/** Parcels in a residential block's two rows. */
void tgis_gen__block_rows(const gen_state *g, int i, int j, int *n1, int *n2);
/** Number of parcels of a cell (0 for GEN_USE_NONE). */
int tgis_gen__cell_parcels(const gen_state *g, int gi, int gj);

/* ---- roads (roads.c) --------------------------------------------------- */

typedef enum gen_road_class {
  GEN_RC_TRUNK = 0, GEN_RC_PRIMARY, GEN_RC_SECONDARY, GEN_RC_TERTIARY,
  GEN_RC_RESIDENTIAL, GEN_RC_SERVICE, GEN_RC_COUNT
} gen_road_class;

typedef struct gen_bridge {
  int32_t gi, gj;        /* first point */
  uint8_t vertical;      /* 0: spans eastwards, 1: northwards */
} gen_bridge;

typedef struct gen_roads {
  gen_bridge *bridges;
  size_t nbridges;
  size_t edges;            /* lattice edges with a road (incl. bridged) */
  size_t oneway_edges;
  size_t features;         /* normal road features written */
  size_t oneway_features;
  size_t trunk_features;
  int64_t *bridge_fids;    /* nbridges */
  double cross_lon, cross_lat;  /* the centre crossing as written */
} gen_roads;

/** Pick bridges; must run after the layout. */
tgis_status tgis_gen__roads_plan(gen_state *g);
/** Write every road feature (runs, diagonals, bridges, then defects). */
tgis_status tgis_gen__roads_write(gen_state *g);
void tgis_gen__roads_free(gen_state *g);

/* ---- parcels (parcels.c) ----------------------------------------------- */

typedef struct gen_blockref {
  uint32_t cell;          /* GEN_CELL index */
  uint32_t first;         /* index of its first parcel */
} gen_blockref;

typedef struct gen_parcels {
  gen_blockref *blocks;   /* cells with parcels, in writing order */
  size_t nblocks;
  size_t nparcels;
  uint32_t threshold[2];  /* residents calibration (houses, multifamily),
                             see parcels.c */
  int64_t residents_target;
  int64_t residents_total;   /* all parcels as written */
  int64_t residents_valid;   /* parcels without any defect */
  size_t private_parcels, legal_parcels;
} gen_parcels;

/** Index the blocks and calibrate residents; after the layout. */
tgis_status tgis_gen__parcels_plan(gen_state *g);
/** Residents of all parcels of a cell. */
int64_t tgis_gen__cell_residents(const gen_state *g, int gi, int gj);
/** The block of parcel `index` (binary search). */
const gen_blockref *tgis_gen__parcel_block(const gen_state *g, size_t index);
/** Write the parcels layer, injecting the planned defects. */
tgis_status tgis_gen__parcels_write(gen_state *g);
void tgis_gen__parcels_free(gen_state *g);
/** 10-digit address code of the cell's neighbourhood, into buf[11]. */
void tgis_gen__address_code(const gen_state *g, int gi, int gj, char *buf);
/** UTM rectangle of the one parcel of a non-residential cell. */
void tgis_gen__cell_lot(const gen_state *g, int gi, int gj, double *x0,
                        double *y0, double *x1, double *y1);

/* ---- identifiers (idgen.c) --------------------------------------------- */

/** A valid PINFL from hash `h`, into buf[15]. */
tgis_status tgis_gen__pinfl(tgis_ctx *ctx, uint64_t h, char *buf);
/** A valid TIN from hash `h`, into buf[10]. */
void tgis_gen__tin(uint64_t h, char *buf);

/* ---- defects (defects.c) ----------------------------------------------- */

typedef enum gen_defect {
  GEN_D_SELF_INTERSECTION = 0,
  GEN_D_WRONG_GEOMETRY_TYPE,
  GEN_D_EMPTY_GEOMETRY,
  GEN_D_NULL_GEOMETRY,
  GEN_D_OUTSIDE_CITY,
  GEN_D_BAD_CADASTRE,
  GEN_D_DUPLICATE_CADASTRE,
  GEN_D_BAD_PINFL,
  GEN_D_BAD_TIN,
  GEN_D_BAD_ADDRESS_CODE,
  GEN_D_ROAD_EMPTY_GEOMETRY,
  GEN_D_ROAD_NULL_GEOMETRY,
  GEN_D_ROAD_OUTSIDE_CITY,
  GEN_D_FACILITY_BAD_ADDRESS_CODE,
  GEN_D_COUNT,
  GEN_D_NONE = 255
} gen_defect;

typedef struct gen_defect_info {
  const char *name;       /* manifest key */
  tgis_layer layer;
  const char *field;      /* "geom" or the attribute */
} gen_defect_info;

extern const gen_defect_info tgis_gen__defect_info[GEN_D_COUNT];

typedef struct gen_defect_pick {
  uint32_t index;         /* parcel (or facility) index */
  uint8_t kind;           /* gen_defect */
} gen_defect_pick;

typedef struct gen_defects {
  gen_defect_pick *parcels;     /* sorted by index */
  size_t nparcels;
  size_t planned[GEN_D_COUNT];  /* how many of each kind */
  int64_t *fids[GEN_D_COUNT];   /* filled while writing */
  size_t nfids[GEN_D_COUNT];
  size_t parcel_next;           /* cursor while writing parcels */
} gen_defects;

/** Choose the parcels and facilities to break; after parcels and
 *  facilities are planned. */
tgis_status tgis_gen__defects_plan(gen_state *g);
/** Record that feature `fid` carries defect `kind`. */
void tgis_gen__defect_record(gen_state *g, gen_defect kind, int64_t fid);
/** The defect planned for parcel `index`; call with increasing indexes. */
gen_defect tgis_gen__defect_for_parcel(gen_state *g, size_t index);
void tgis_gen__defects_free(gen_state *g);

/* ---- facilities (facilities.c) ----------------------------------------- */

typedef struct gen_facility {
  uint32_t cell;          /* GEN_CELL of its public block */
  uint8_t kind;           /* 0 polyclinic, 1 school */
  uint8_t bad_address;    /* defect planned */
  int number;             /* "No. 12" */
  int capacity;
} gen_facility;

typedef struct gen_facilities {
  gen_facility *f;
  size_t n, npoly, nschool;
  size_t wanted_poly, wanted_school;
} gen_facilities;

/** How many polyclinics and schools the scale asks for. */
void tgis_gen__facilities_wanted(double scale, size_t *poly, size_t *school);
tgis_status tgis_gen__facilities_plan(gen_state *g);
tgis_status tgis_gen__facilities_write(gen_state *g);
void tgis_gen__facilities_free(gen_state *g);

/* ---- utilities (utilities.c) ------------------------------------------- */

enum { GEN_NET_GAS, GEN_NET_POWER, GEN_NET_WATER, GEN_NET_HEAT, GEN_NET_COUNT };

typedef struct gen_unode {
  int32_t gi, gj;         /* lattice point (grid) */
  int32_t parent;         /* node index, -1 for a source */
  uint16_t depth;         /* BFS depth from its source */
  uint8_t kind;           /* gen_unode_kind in utilities.c */
} gen_unode;

typedef struct gen_consumer {
  double x, y;            /* UTM */
  int32_t node;           /* mains node it hangs off */
} gen_consumer;

typedef struct gen_loop {
  int32_t a, b;           /* node indexes of a closing main */
} gen_loop;

typedef struct gen_network {
  const char *name;       /* "gas", ... */
  double offset;          /* metres from the street centreline */
  gen_unode *nodes;       /* forest nodes in BFS order; sources first */
  size_t nnodes, nsources;
  gen_consumer *cons;
  size_t ncons;
  gen_loop *loops;
  size_t nloops;
  int64_t loop_line0;     /* line number of the first loop main */
  size_t nsubstations, nvalves;
} gen_network;

tgis_status tgis_gen__utilities_plan(gen_state *g);
tgis_status tgis_gen__utilities_write(gen_state *g);
void tgis_gen__utilities_free(gen_state *g);

/* ---- GeoPackage writer (gpkg_writer.c) --------------------------------- */

/* Field indexes, in creation order. */
enum { GEN_F_D_SOATO, GEN_F_D_NAME, GEN_F_D_NAME_RU };
enum { GEN_F_P_CADASTRE, GEN_F_P_LAND_USE, GEN_F_P_AREA, GEN_F_P_RESIDENTS,
       GEN_F_P_DISTRICT, GEN_F_P_ADDRESS, GEN_F_P_TIN, GEN_F_P_PINFL };
enum { GEN_F_R_EXT_ID, GEN_F_R_CLASS, GEN_F_R_NAME, GEN_F_R_ONEWAY,
       GEN_F_R_MAXSPEED, GEN_F_R_LEVEL };
enum { GEN_F_N_EXT_ID, GEN_F_N_NETWORK, GEN_F_N_KIND, GEN_F_N_NAME };
enum { GEN_F_L_EXT_ID, GEN_F_L_NETWORK, GEN_F_L_FROM, GEN_F_L_TO, GEN_F_L_KIND,
       GEN_F_L_DIAMETER, GEN_F_L_VOLTAGE };
enum { GEN_F_F_EXT_ID, GEN_F_F_KIND, GEN_F_F_NAME, GEN_F_F_CAPACITY,
       GEN_F_F_ADDRESS };

typedef struct gen_writer {
  tgis_ctx *ctx;
  const char *display;            /* the path the user named, for messages */
  GDALDatasetH ds;
  OGRLayerH lyr[TGIS_LAYER_COUNT];
  OGRFeatureH feat[TGIS_LAYER_COUNT];
  int64_t count[TGIS_LAYER_COUNT];   /* features written */
  PJ *pj;                         /* UTM -> lon/lat (borrowed) */
  double *buf;                    /* transform scratch, x/y pairs */
  size_t cap;                     /* points buf holds */
  char gdal_err[512];             /* last GDAL failure message */
  int in_transaction;
  /* Geometries lent to the features and taken back after each insert, so
   * the common shapes are not allocated per feature. */
  OGRGeometryH mpoly, mpoly_ring, line, point;
} gen_writer;

/** Create the GeoPackage with its six layers and open a transaction. */
tgis_status tgis_gen__writer_open(gen_writer *w, tgis_ctx *ctx,
                                  const char *file, const char *display,
                                  PJ *pj);
/** Commit and close; w->ds is NULL afterwards, whatever the outcome. */
tgis_status tgis_gen__writer_finish(gen_writer *w);
/** Close without committing (after a failure). NULL-safe. */
void tgis_gen__writer_abort(gen_writer *w);
/** The layer's reusable feature, reset: next fid, every field null, no
 *  geometry. */
OGRFeatureH tgis_gen__feature(gen_writer *w, tgis_layer layer);
/** Set a string field; NULL makes it null. */
void tgis_gen__set_str(OGRFeatureH f, int field, const char *s);
/** Geometries from UTM coordinates (transformed to lon/lat). `xy` holds
 *  x/y pairs; a ring must be closed. The feature takes the geometry. */
tgis_status tgis_gen__set_polygon(gen_writer *w, OGRFeatureH f,
                                  const double *xy, size_t n);
/** The same from lon/lat coordinates. */
tgis_status tgis_gen__set_polygon_ll(gen_writer *w, OGRFeatureH f,
                                     const double *ll, size_t n);
tgis_status tgis_gen__set_line(gen_writer *w, OGRFeatureH f,
                               const double *xy, size_t n);
tgis_status tgis_gen__set_point(gen_writer *w, OGRFeatureH f, double x,
                                double y);
/** Transform x/y pairs from UTM to lon/lat in place. */
tgis_status tgis_gen__to_lonlat(gen_writer *w, double *xy, size_t n);
/** Insert the feature. `quiet` swallows GDAL warnings (wrong geometry
 *  type on purpose). Sets *fid when not NULL. */
tgis_status tgis_gen__write(gen_writer *w, tgis_layer layer, int quiet,
                            int64_t *fid);
/** Write the districts layer from the city. */
tgis_status tgis_gen__districts_write(gen_state *g);

/* ---- manifest (manifest.c) --------------------------------------------- */

/** Write the manifest JSON to `file`. */
tgis_status tgis_gen__manifest_write(gen_state *g, const char *file,
                                     const char *display);

/* ---- the run ------------------------------------------------------------ */

struct gen_state {
  tgis_ctx *ctx;
  uint64_t seed;
  double scale;
  const char *path;         /* output as the user named it */
  size_t target_parcels;
  PJ *pj;                   /* EPSG:32642 -> EPSG:4326 lon/lat */
  gen_progress prog;
  gen_city city;
  gen_layout lay;
  gen_roads roads;
  gen_parcels parcels;
  gen_defects defects;
  gen_facilities fac;
  gen_network net[GEN_NET_COUNT];
  gen_writer w;
};

/** Lattice index to UTM. */
static inline double tgis_gen__x(const gen_layout *lay, int gi)
{
  return lay->x0 + (double)(gi + lay->imin) * lay->L;
}
static inline double tgis_gen__y(const gen_layout *lay, int gj)
{
  return lay->y0 + (double)(gj + lay->jmin) * lay->L;
}

/** Floor division and modulo for negative lattice indexes. */
static inline int tgis_gen__fdiv(int a, int b)
{
  return a >= 0 ? a / b : -((-a + b - 1) / b);
}
static inline int tgis_gen__fmod(int a, int b)
{
  return a - tgis_gen__fdiv(a, b) * b;
}

#endif /* TGIS_GEN_INT_H */
