/* The Internet checksum (RFC 1071) and the TCP/UDP pseudo-header sums.
 *
 * Implementation notes. The accumulator is a 32-bit value that callers
 * chain through wire_csum_add(); inside one call 32-bit big-endian words are
 * summed into a 64-bit register and folded back to 32 bits on return. Since
 * 2^16 = 1 (mod 2^16 - 1), summing 32-bit words and folding gives the same
 * one's-complement sum as summing 16-bit words (RFC 1071 §2 (C), "parallel
 * summation"), and folding 64 -> 32 bits keeps the value modulo 0xffff, so a
 * sum computed in pieces equals the one-shot sum as long as every piece but
 * the last has an even length. */
#include <string.h>

#include "wire/wire.h"

/* End-around carry from 64 to 32 bits (RFC 1071 §2 (B)). */
static uint32_t fold64(uint64_t s)
{
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffffffffu) + (s >> 32);
	return (uint32_t)s;
}

/* The bytes are summed as native 64-bit words with end-around carry and the
 * folded 16-bit result is byte-swapped back on a little-endian host: the
 * one's-complement sum is independent of byte order up to that swap
 * (RFC 1071 §2 (B)). An odd tail byte lands where the zero pad says. */
uint32_t wire_csum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t s = 0, w;
	while (len >= 8) {
		memcpy(&w, p, 8);
		s += w;
		s += s < w; /* carry around */
		p += 8;
		len -= 8;
	}
	if (len) {
		/* the tail in fixed-size pieces: a memcpy of a variable length
		 * is a library call, the most of a 20-byte header's sum */
		uint8_t b[8] = {0};
		size_t o = 0;
		if (len & 4) {
			memcpy(b, p, 4);
			o = 4;
		}
		if (len & 2) {
			memcpy(b + o, p + o, 2);
			o += 2;
		}
		if (len & 1)
			b[o] = p[o];
		memcpy(&w, b, 8);
		s += w;
		s += s < w;
	}
	uint32_t v = fold64(s);
	v = (v & 0xffff) + (v >> 16);
	v = (v & 0xffff) + (v >> 16);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	v = ((v >> 8) | (v << 8)) & 0xffff;
#endif
	return fold64((uint64_t)sum + v);
}

uint16_t wire_csum_finish(uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* RFC 9293 §3.1: source, destination, zero, PTCL, TCP length (12 bytes).
 * RFC 8200 §8.1: source, destination, 32-bit upper-layer length, three zero
 * bytes and Next Header (40 bytes). */
uint32_t wire_pseudo_sum(const synack_addr *src, const synack_addr *dst, uint8_t proto, uint32_t len)
{
	uint64_t s = 0;
	if (src->family == SYNACK_AF_INET6) {
		s += wire_csum_add(0, src->bytes, 16);
		s += wire_csum_add(0, dst->bytes, 16);
	} else { /* (every segment sent: no call for 8 bytes) */
		uint8_t a[8];
		memcpy(a, src->bytes, 4);
		memcpy(a + 4, dst->bytes, 4);
		s += wire_csum_words(a, 2);
	}
	s += (len >> 16) + (len & 0xffff); /* IPv4 lengths fit 16 bits: same sum */
	s += proto;
	return fold64(s);
}
