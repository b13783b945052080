/* IPv6 header and extension headers (RFC 8200), address classes (RFC 4291).
 *
 * Implementation notes. Extension headers are parsed one at a time so the
 * network layer can walk the chain with its own policy (which header may
 * come where, what a fragment header means); this file only guarantees
 * that every length it reports lies inside the buffer. Options in the
 * Hop-by-Hop and Destination Options headers are walked per RFC 8200 §4.2:
 * Pad1 is one byte, every other option has a length byte, and an unknown
 * option's two high-order type bits say what to do with the packet. */
#include <string.h>

#include "wire/wire.h"

static void addr6(synack_addr *a, const uint8_t *p)
{
	a->family = SYNACK_AF_INET6;
	memcpy(a->bytes, p, 16);
}

/* RFC 8200 §3: version 6, Payload Length counting what follows the
 * 40-byte header (extension headers included). */
int wire_ipv6_parse(const uint8_t *buf, size_t len, struct wire_ipv6 *out)
{
	if (len < WIRE_IPV6_HDR)
		return SYNACK_DROP_IP_TRUNCATED;
	if (buf[0] >> 4 != 6)
		return SYNACK_DROP_IP_VERSION;
	size_t plen = rd16(buf + 4);
	if (plen > len - WIRE_IPV6_HDR)
		return SYNACK_DROP_IP_LENGTH;
	uint32_t first = rd32(buf);
	out->tclass = (uint8_t)(first >> 20);
	out->flow = first & 0xfffff;
	out->next = buf[6];
	out->hop_limit = buf[7];
	addr6(&out->src, buf + 8);
	addr6(&out->dst, buf + 24);
	out->payload = buf + WIRE_IPV6_HDR;
	out->payload_len = plen;
	return 0;
}

size_t wire_ipv6_emit(struct bbuf *b, const synack_addr *src, const synack_addr *dst, uint8_t next,
		      uint8_t hop_limit, size_t payload_len)
{
	if (payload_len > 0xffff) { /* RFC 8200 §3: Payload Length is 16 bits */
		b->overflow = true;
		return 0;
	}
	struct bbuf h = bbuf_sub(b, WIRE_IPV6_HDR);
	bbuf_u32(&h, 6u << 28); /* traffic class 0, flow label 0 (RFC 6437 allows it) */
	bbuf_u16(&h, (uint16_t)payload_len);
	bbuf_u8(&h, next);
	bbuf_u8(&h, hop_limit);
	bbuf_put(&h, src->bytes, 16);
	bbuf_put(&h, dst->bytes, 16);
	return bbuf_ok(&h) ? h.len : 0;
}

/* RFC 3168 §5 / RFC 8200 §7: ECN is the low two bits of the Traffic
 * Class, which spans bits 4..11 of the first word: byte 1's high nibble. */
void wire_ipv6_set_ecn(uint8_t *h, uint8_t ecn)
{
	h[1] = (uint8_t)((h[1] & ~(WIRE_ECN_MASK << 4)) | (ecn & WIRE_ECN_MASK) << 4);
}

/* RFC 8200 §4.2: walk the TLV options of a Hop-by-Hop or Destination
 * Options header (p[2..len)). */
static int options_walk(const uint8_t *p, size_t len, struct wire_ipv6_ext *out)
{
	size_t i = 2;
	while (i < len) {
		uint8_t type = p[i];
		if (type == 0) { /* Pad1 */
			i++;
			continue;
		}
		if (len - i < 2 || (size_t)p[i + 1] + 2 > len - i)
			return SYNACK_DROP_IP6_EXT_HEADER;
		/* PadN (1) and Router Alert (5, RFC 2711) are understood;
		 * the rest are unknown to a host like this one */
		if (type != 1 && type != 5 && (type >> 6) != 0 && !out->bad_option) {
			out->bad_option = i;
			out->bad_action = (uint8_t)(type >> 6);
		}
		i += (size_t)p[i + 1] + 2;
	}
	return 0;
}

int wire_ipv6_ext_parse(uint8_t type, const uint8_t *buf, size_t len, struct wire_ipv6_ext *out)
{
	memset(out, 0, sizeof *out);
	if (len < 8)
		return SYNACK_DROP_IP6_EXT_HEADER;
	out->next = buf[0];
	if (type == WIRE_PROTO_FRAGMENT) { /* RFC 8200 §4.5: fixed 8 bytes */
		out->len = 8;
		out->frag_offset = rd16(buf + 2) >> 3;
		out->frag_more = buf[3] & 1;
		out->frag_id = rd32(buf + 4);
		return 0;
	}
	out->len = ((size_t)buf[1] + 1) * 8; /* in 8-octet units, not counting the first 8 */
	if (out->len > len)
		return SYNACK_DROP_IP6_EXT_HEADER;
	if (type == WIRE_PROTO_ROUTING) { /* RFC 8200 §4.4 */
		out->routing_type = buf[2];
		out->segments_left = buf[3];
		return 0;
	}
	return options_walk(buf, out->len, out);
}

bool wire_ip6_is_unspecified(const synack_addr *a)
{
	static const uint8_t zero[16];
	return memcmp(a->bytes, zero, 16) == 0;
}

bool wire_ip6_is_loopback(const synack_addr *a)
{
	static const uint8_t one[16] = {[15] = 1};
	return memcmp(a->bytes, one, 16) == 0;
}

void wire_ip6_solicited_node(synack_addr *out, const synack_addr *a)
{
	static const uint8_t pfx[13] = {0xff, 0x02, [11] = 0x01, [12] = 0xff};
	out->family = SYNACK_AF_INET6;
	memcpy(out->bytes, pfx, 13);
	memcpy(out->bytes + 13, a->bytes + 13, 3);
}

void wire_ip6_all_nodes(synack_addr *out)
{
	memset(out, 0, sizeof *out);
	out->family = SYNACK_AF_INET6;
	out->bytes[0] = 0xff;
	out->bytes[1] = 0x02;
	out->bytes[15] = 1;
}

bool wire_addr_prefix_match(const synack_addr *a, const synack_addr *b, unsigned plen)
{
	unsigned full = plen / 8, rest = plen % 8;
	if (full > 16)
		return false;
	if (memcmp(a->bytes, b->bytes, full) != 0)
		return false;
	if (!rest)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return ((a->bytes[full] ^ b->bytes[full]) & mask) == 0;
}

size_t wire_ipv6_frag_emit(struct bbuf *b, uint8_t next, uint16_t offset, bool more, uint32_t id)
{
	struct bbuf h = bbuf_sub(b, 8);
	bbuf_u8(&h, next);
	bbuf_u8(&h, 0);
	bbuf_u16(&h, (uint16_t)(offset << 3 | (more ? 1 : 0)));
	bbuf_u32(&h, id);
	return bbuf_ok(&h) ? h.len : 0;
}
