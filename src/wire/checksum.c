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
#include "wire/wire.h"

/* End-around carry from 64 to 32 bits (RFC 1071 §2 (B)). */
static uint32_t fold64(uint64_t s)
{
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffffffffu) + (s >> 32);
	return (uint32_t)s;
}

uint32_t wire_csum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t s = sum;
	while (len >= 4) {
		s += rd32(p);
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		s += rd16(p);
		p += 2;
		len -= 2;
	}
	if (len) /* RFC 1071 §4.1: an odd byte is padded with a zero byte */
		s += (uint32_t)p[0] << 8;
	return fold64(s);
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
	size_t alen = src->family == SYNACK_AF_INET6 ? 16 : 4;
	uint64_t s = 0;
	s += wire_csum_add(0, src->bytes, alen);
	s += wire_csum_add(0, dst->bytes, alen);
	s += (len >> 16) + (len & 0xffff); /* IPv4 lengths fit 16 bits: same sum */
	s += proto;
	return fold64(s);
}
