/*
 * coverage_input.c -- the parcels and facilities of a coverage run, read
 * once through the store into plain arrays.
 *
 * Every parcel is kept, also one without geometry or residents: it is
 * reported (unreachable, or with no one living there), never dropped.
 * Districts are interned as they come (a dozen SOATO codes); public
 * parcels are remembered with their label as the default candidate sites.
 */
#include <math.h>
#include <string.h>

#include "coverage_int.h"

static tgis_status nomem(cov_run *r, const char *what)
{
  return tgis__fail(r->ctx, TGIS_ENOMEM, "out of memory reading %s", what);
}

static int grow(cov_run *r, void **p, size_t *cap, size_t need, size_t size)
{
  size_t c = *cap ? *cap : 64;
  void *q;
  if (need <= *cap)
    return 0;
  while (c < need)
    c *= 2;
  if (!(q = tgis__realloc(r->ctx, *p, c * size)))
    return -1;
  *p = q;
  *cap = c;
  return 0;
}

/* Index of district `soato` (NULL or "": the no-district entry). */
static int32_t district_index(cov_run *r, const char *soato, int32_t *last)
{
  const char *key = soato ? soato : "";
  if (*last >= 0 && strcmp(r->districts[*last].soato, key) == 0)
    return *last;
  for (size_t i = 0; i < r->n_districts; i++)
    if (strcmp(r->districts[i].soato, key) == 0)
      return *last = (int32_t)i;
  if (strlen(key) >= sizeof r->districts[0].soato)
    return -2;
  if (grow(r, (void **)&r->districts, &r->cap_districts, r->n_districts + 1,
           sizeof *r->districts))
    return -1;
  memset(&r->districts[r->n_districts], 0, sizeof r->districts[0]);
  tgis__strlcpy(r->districts[r->n_districts].soato, key, sizeof r->districts[0].soato);
  return *last = (int32_t)r->n_districts++;
}

typedef struct parcel_loader {
  cov_run *r;
  size_t cap, cap_xy;
  int32_t last_district;
  int64_t tick;
} parcel_loader;

static tgis_status add_candidate(cov_run *r, uint32_t parcel, const char *label)
{
  size_t len = label ? strlen(label) : 0;
  if (grow(r, (void **)&r->cand, &r->cap_cand, r->n_cand + 1, sizeof *r->cand) ||
      grow(r, (void **)&r->labels, &r->labels_cap, r->labels_len + len + 1, 1))
    return nomem(r, "candidate sites");
  r->cand[r->n_cand].parcel = parcel;
  r->cand[r->n_cand].label = r->labels_len;
  if (len)
    memcpy(r->labels + r->labels_len, label, len);
  r->labels[r->labels_len + len] = '\0';
  r->labels_len += len + 1;
  r->n_cand++;
  return TGIS_OK;
}

static tgis_status on_parcel(const tgis_parcel_rec *p, void *payload)
{
  parcel_loader *L = payload;
  cov_run *r = L->r;
  size_t i = r->n_parcels;
  tgis_coverage_parcel *row;
  int32_t d;
  tgis_status st;

  if (grow(r, (void **)&r->parcels, &L->cap, i + 1, sizeof *r->parcels) ||
      grow(r, (void **)&r->pxy, &L->cap_xy, 2 * (i + 1), sizeof *r->pxy))
    return nomem(r, "parcels");
  if (i >= UINT32_MAX - 1)
    return tgis__fail(r->ctx, TGIS_EINVAL, "more than %u parcels", UINT32_MAX - 1);
  if ((d = district_index(r, p->district, &L->last_district)) == -1)
    return nomem(r, "districts");
  if (d == -2)
    return tgis__fail(r->ctx, TGIS_EINVAL, "parcels feature %lld: district code too long",
                      (long long)p->id);
  row = &r->parcels[i];
  memset(row, 0, sizeof *row);
  row->parcel_id = p->id;
  row->seconds = row->metres = row->snap_m = NAN;
  row->residents = p->residents > 0 ? p->residents : 0;
  row->district = d;
  r->pxy[2 * i] = p->has_point ? p->x : NAN;
  r->pxy[2 * i + 1] = p->has_point ? p->y : NAN;
  if (p->has_point && p->land_use && strcmp(p->land_use, "public") == 0 &&
      (st = add_candidate(r, (uint32_t)i, p->label)) != TGIS_OK)
    return st;
  r->n_parcels++;
  if (++L->tick % 65536 == 0)
    return cov__progress(r, "reading parcels", L->tick, 0);
  return TGIS_OK;
}

typedef struct fac_loader {
  cov_run *r;
  size_t cap, cap_xy, cap_names;
} fac_loader;

static tgis_status on_facility(const tgis_facility_rec *f, void *payload)
{
  fac_loader *L = payload;
  cov_run *r = L->r;
  size_t i = r->n_fac;
  tgis_coverage_facility *row;
  char *name;

  if (grow(r, (void **)&r->facilities, &L->cap, i + 1, sizeof *r->facilities) ||
      grow(r, (void **)&r->fxy, &L->cap_xy, 2 * (i + 1), sizeof *r->fxy) ||
      grow(r, (void **)&r->fac_names, &L->cap_names, i + 1, sizeof *r->fac_names))
    return nomem(r, "facilities");
  if (i >= INT32_MAX)
    return tgis__fail(r->ctx, TGIS_EINVAL, "too many facilities");
  r->fac_names[i] = NULL;
  if (!(name = tgis__strdup(r->ctx, f->name ? f->name : "")))
    return nomem(r, "facilities");
  r->fac_names[i] = name;
  row = &r->facilities[i];
  memset(row, 0, sizeof *row);
  row->facility_id = f->id;
  row->name = name;
  row->capacity = f->capacity;
  row->x = f->has_point ? f->x : NAN;
  row->y = f->has_point ? f->y : NAN;
  row->snap_m = row->load = row->ratio = NAN;
  r->fxy[2 * i] = row->x;
  r->fxy[2 * i + 1] = row->y;
  r->n_fac++;
  return TGIS_OK;
}

tgis_status cov__load(cov_run *r)
{
  tgis_store *st;
  parcel_loader pl = { r, 0, 0, -1, 0 };
  fac_loader fl = { r, 0, 0, 0 };
  tgis_status rc;

  if ((rc = tgis__require_store(r->ctx, &st)) != TGIS_OK)
    return rc;
  if ((rc = st->vt->facilities_read(st, r->kind, on_facility, &fl)) != TGIS_OK)
    return rc;
  if (r->n_fac == 0)
    return tgis__fail(r->ctx, TGIS_EINVAL, "facilities: no %s in the database", r->kind);
  if ((rc = cov__progress(r, "reading parcels", 0, 0)) != TGIS_OK ||
      (rc = st->vt->parcels_read(st, on_parcel, &pl)) != TGIS_OK)
    return rc;
  return cov__progress(r, "reading parcels", (int64_t)r->n_parcels, (int64_t)r->n_parcels);
}
