/*
 * districts.c -- the twelve districts of Tashkent city in the SOATO
 * classifier.
 *
 * The table is the one in docs/identifiers.md: the 7-digit SOATO code
 * (17 Uzbekistan, 26 Tashkent city, 3-digit unit) and the district's name
 * in Latin Uzbek. It is static read-only data, sorted by code so a lookup
 * can stop early and so tgis_districts() lists the districts in a stable
 * order. The SOATO validator in ids.c uses it to reject codes of districts
 * that do not exist.
 */
#include <assert.h>
#include <string.h>

#include "tgis.h"

static const tgis_district_ref districts[] = {
  { "1726262", "Uchtepa" },
  { "1726264", "Bektemir" },
  { "1726266", "Yunusobod" },
  { "1726269", "Mirzo Ulug'bek" },
  { "1726273", "Mirobod" },
  { "1726277", "Shayxontohur" },
  { "1726280", "Olmazor" },
  { "1726283", "Sergeli" },
  { "1726287", "Yakkasaroy" },
  { "1726290", "Yashnobod" },
  { "1726292", "Yangihayot" },
  { "1726294", "Chilonzor" },
};

#define N_DISTRICTS (sizeof districts / sizeof districts[0])

const tgis_district_ref *tgis_districts(size_t *n)
{
  assert(n);
  *n = N_DISTRICTS;
  return districts;
}

const tgis_district_ref *tgis_district_by_soato(const char *soato)
{
  if (!soato)
    return NULL;
  for (size_t i = 0; i < N_DISTRICTS; i++) {
    int cmp = strcmp(districts[i].soato, soato);
    if (cmp == 0)
      return &districts[i];
    if (cmp > 0)
      break;  /* sorted: every later code is larger still */
  }
  return NULL;
}
