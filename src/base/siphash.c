/* SipHash-c-d, written from the paper "SipHash: a fast short-input PRF"
 * (Aumasson and Bernstein, 2012), §2: SipHash-2-4 for what must be a PRF
 * (ISNs, SYN cookies), SipHash-1-3 for hash-table indexes, as Rust's
 * standard HashMap uses it: keyed, so an attacker cannot aim tuples at one
 * slot, at about half the rounds (the connection lookup of every segment
 * was a fifth of the CRR job's time). */
#include <string.h>

#include "base/base.h"

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

static uint64_t le64(const uint8_t *p)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
#else
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
#endif
}

static void sipround(uint64_t v[4])
{
	v[0] += v[1];
	v[1] = ROTL(v[1], 13);
	v[1] ^= v[0];
	v[0] = ROTL(v[0], 32);
	v[2] += v[3];
	v[3] = ROTL(v[3], 16);
	v[3] ^= v[2];
	v[0] += v[3];
	v[3] = ROTL(v[3], 21);
	v[3] ^= v[0];
	v[2] += v[1];
	v[1] = ROTL(v[1], 17);
	v[1] ^= v[2];
	v[2] = ROTL(v[2], 32);
}

static inline uint64_t siphash_cd(const uint8_t key[16], const void *data, size_t len, int c, int d)
{
	const uint8_t *in = data;
	uint64_t k0 = le64(key), k1 = le64(key + 8);
	uint64_t v[4] = {k0 ^ 0x736f6d6570736575ull, k1 ^ 0x646f72616e646f6dull, k0 ^ 0x6c7967656e657261ull,
			 k1 ^ 0x7465646279746573ull};
	size_t full = len & ~(size_t)7;
	for (size_t i = 0; i < full; i += 8) {
		uint64_t m = le64(in + i);
		v[3] ^= m;
		for (int r = 0; r < c; r++)
			sipround(v);
		v[0] ^= m;
	}
	uint8_t last[8] = {0};
	memcpy(last, in + full, len - full);
	uint64_t b = ((uint64_t)len << 56) | le64(last);
	v[3] ^= b;
	for (int r = 0; r < c; r++)
		sipround(v);
	v[0] ^= b;
	v[2] ^= 0xff;
	for (int r = 0; r < d; r++)
		sipround(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

uint64_t siphash24(const uint8_t key[16], const void *data, size_t len)
{
	return siphash_cd(key, data, len, 2, 4);
}

uint64_t siphash13(const uint8_t key[16], const void *data, size_t len)
{
	return siphash_cd(key, data, len, 1, 3);
}
