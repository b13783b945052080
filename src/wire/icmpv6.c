/* ICMPv6 (RFC 4443) and the Neighbor Solicitation / Advertisement formats
 * of Neighbor Discovery (RFC 4861 §4.3, §4.4, §4.6.1). */
#include <string.h>

#include "wire/wire.h"

enum { ICMP6_HDR = 8, ND_MIN = 24, ND_LLA_OPT = 8 };

/* RFC 4443 §2.3: the checksum covers the pseudo header (RFC 8200 §8.1). */
int wire_icmp6_parse(const synack_addr *src, const synack_addr *dst, const uint8_t *buf, size_t len,
		     struct wire_icmp *out)
{
	if (len < ICMP6_HDR)
		return SYNACK_DROP_ICMP_TRUNCATED;
	uint32_t s = wire_pseudo_sum(src, dst, WIRE_PROTO_ICMPV6, (uint32_t)len);
	if (wire_csum_finish(wire_csum_add(s, buf, len)) != 0)
		return SYNACK_DROP_ICMP_CHECKSUM;
	out->type = buf[0];
	out->code = buf[1];
	memcpy(out->rest, buf + 4, 4);
	out->body = buf + ICMP6_HDR;
	out->body_len = len - ICMP6_HDR;
	return 0;
}

size_t wire_icmp6_emit(struct bbuf *b, const synack_addr *src, const synack_addr *dst, uint8_t type,
		       uint8_t code, const uint8_t rest[4], const uint8_t *body, size_t body_len)
{
	size_t n = wire_icmp_emit(b, type, code, rest, body, body_len);
	if (!n)
		return 0;
	/* the same message, its checksum over the pseudo header too */
	uint8_t *m = b->p + b->len - n;
	uint32_t s = wire_pseudo_sum(src, dst, WIRE_PROTO_ICMPV6, (uint32_t)n);
	wr16(m + 2, 0);
	wr16(m + 2, wire_csum_finish(wire_csum_add(s, m, n)));
	return n;
}

/* RFC 4861 §4.6: options are type, length in 8-octet units (never 0),
 * value. The link-layer address options (§4.6.1) are 8 bytes on Ethernet. */
static int nd_options(const uint8_t *p, size_t len, uint8_t want, struct wire_nd *out)
{
	while (len) {
		if (len < 2 || p[1] == 0 || (size_t)p[1] * 8 > len)
			return SYNACK_DROP_ND_INVALID;
		size_t olen = (size_t)p[1] * 8;
		if (p[0] == want) {
			if (olen != ND_LLA_OPT)
				return SYNACK_DROP_ND_INVALID;
			out->has_lla = true;
			memcpy(out->lla, p + 2, WIRE_ETH_ALEN);
		}
		p += olen;
		len -= olen;
	}
	return 0;
}

int wire_nd_parse(const struct wire_icmp *ic, struct wire_nd *out)
{
	memset(out, 0, sizeof *out);
	if (ic->code != 0 || ic->body_len + ICMP6_HDR < ND_MIN)
		return SYNACK_DROP_ND_INVALID;
	out->target.family = SYNACK_AF_INET6;
	memcpy(out->target.bytes, ic->body, 16);
	if (wire_ip6_is_multicast(&out->target))
		return SYNACK_DROP_ND_INVALID;
	out->flags = ic->type == WIRE_ND_NA ? ic->rest[0] & 0xe0 : 0;
	uint8_t want = ic->type == WIRE_ND_NS ? WIRE_ND_OPT_SLLA : WIRE_ND_OPT_TLLA;
	return nd_options(ic->body + 16, ic->body_len - 16, want, out);
}

size_t wire_nd_emit(struct bbuf *b, const synack_addr *src, const synack_addr *dst, uint8_t type,
		    uint8_t flags, const synack_addr *target, const uint8_t *lla)
{
	uint8_t rest[4] = {flags, 0, 0, 0};
	uint8_t body[16 + ND_LLA_OPT];
	struct bbuf w = bbuf_make(body, sizeof body);
	bbuf_put(&w, target->bytes, 16);
	if (lla) { /* RFC 4861 §4.6.1: type, length 1 (8 octets), address */
		bbuf_u8(&w, type == WIRE_ND_NS ? WIRE_ND_OPT_SLLA : WIRE_ND_OPT_TLLA);
		bbuf_u8(&w, 1);
		bbuf_put(&w, lla, WIRE_ETH_ALEN);
	}
	return wire_icmp6_emit(b, src, dst, type, 0, rest, body, w.len);
}
