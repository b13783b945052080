/* xoshiro256** (Blackman and Vigna), seeded through splitmix64. A
 * deterministic generator for simulations, tests and the demo. */
#include "synack/types.h"

#include <string.h>

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

void synack_prng_seed(synack_prng *p, uint64_t seed)
{
	uint64_t x = seed;
	for (int i = 0; i < 4; i++)
		p->s[i] = splitmix64(&x);
}

uint64_t synack_prng_next(synack_prng *p)
{
	uint64_t *s = p->s;
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

uint64_t synack_prng_below(synack_prng *p, uint64_t bound)
{
	/* Rejection sampling removes modulo bias. */
	uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
	uint64_t v;
	do
		v = synack_prng_next(p);
	while (v >= limit);
	return v % bound;
}

double synack_prng_unit(synack_prng *p)
{
	return (double)(synack_prng_next(p) >> 11) * 0x1.0p-53;
}

void synack_prng_fill(void *ctx, void *buf, size_t len)
{
	synack_prng *p = ctx;
	uint8_t *out = buf;
	while (len) {
		uint64_t v = synack_prng_next(p);
		size_t n = len < 8 ? len : 8;
		memcpy(out, &v, n);
		out += n;
		len -= n;
	}
}
