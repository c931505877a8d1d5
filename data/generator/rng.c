/*
 * rng.c -- the generator's random numbers: counter-based hashes, a
 * sequential stream and smooth value noise.
 *
 * Most draws are hashes of (seed, stream, a, b), where a and b name the
 * entity (a lattice cell, a parcel): the value of one block never depends
 * on how many numbers another stage drew, so the layout search can
 * evaluate a lattice many times and the writer re-derive a block's
 * parcels while streaming. Where order is natural (choosing defects,
 * sources, facilities) a xoshiro256** stream seeded by splitmix64 is used.
 * Both are fully specified here, so output never depends on the C
 * library's rand().
 */
#include <math.h>

#include "gen_int.h"

uint64_t tgis_gen__mix(uint64_t z)
{
  z += 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

uint64_t tgis_gen__hash(uint64_t seed, uint32_t stream, int64_t a, int64_t b)
{
  uint64_t h = tgis_gen__mix(seed ^ tgis_gen__mix((uint64_t)stream));
  h = tgis_gen__mix(h + (uint64_t)a);
  return tgis_gen__mix(h ^ ((uint64_t)b * 0xd6e8feb86659fd93ull));
}

double tgis_gen__unit(uint64_t h)
{
  return (double)(h >> 11) * (1.0 / 9007199254740992.0);
}

static uint64_t rotl(uint64_t x, int k)
{
  return (x << k) | (x >> (64 - k));
}

void tgis_gen__rng_seed(gen_rng *r, uint64_t seed, uint32_t stream)
{
  uint64_t z = tgis_gen__hash(seed, stream, -1, -1);
  for (int i = 0; i < 4; i++) {
    z += 0x9e3779b97f4a7c15ull;
    r->s[i] = tgis_gen__mix(z);
  }
}

uint64_t tgis_gen__rng_next(gen_rng *r)
{
  uint64_t *s = r->s;
  uint64_t result = rotl(s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

double tgis_gen__rng_unit(gen_rng *r)
{
  return tgis_gen__unit(tgis_gen__rng_next(r));
}

uint64_t tgis_gen__rng_below(gen_rng *r, uint64_t n)
{
  /* Rejection keeps it unbiased; the loop almost never repeats. */
  uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  uint64_t x;
  do
    x = tgis_gen__rng_next(r);
  while (x >= limit);
  return x % n;
}

static double smooth(double t)
{
  return t * t * (3.0 - 2.0 * t);
}

double tgis_gen__noise(uint64_t seed, uint32_t stream, double x, double y,
                       double cell)
{
  double fx = x / cell, fy = y / cell;
  double ix = floor(fx), iy = floor(fy);
  double tx = smooth(fx - ix), ty = smooth(fy - iy);
  int64_t a = (int64_t)ix, b = (int64_t)iy;
  double v00 = tgis_gen__unit(tgis_gen__hash(seed, stream, a, b));
  double v10 = tgis_gen__unit(tgis_gen__hash(seed, stream, a + 1, b));
  double v01 = tgis_gen__unit(tgis_gen__hash(seed, stream, a, b + 1));
  double v11 = tgis_gen__unit(tgis_gen__hash(seed, stream, a + 1, b + 1));
  double v0 = v00 + (v10 - v00) * tx, v1 = v01 + (v11 - v01) * tx;
  return v0 + (v1 - v0) * ty;
}
