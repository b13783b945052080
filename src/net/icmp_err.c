/* ICMP and ICMPv6 errors: those about our packets go to TCP (RFC 1122
 * §3.2.2, RFC 4443 §3, RFC 5927 for what TCP then checks), and the ICMPv6
 * errors this stack sends itself (RFC 4443 §2.4). */
#include <string.h>

#include "net/net.h"
#include "wire/wire.h"

/* RFC 792: the quote is the original IPv4 header and at least 8 bytes of
 * its payload; only a first fragment (offset 0) quotes a TCP header. */
static bool quote_v4(const uint8_t *q, size_t len, struct net_icmp_err *e)
{
	if (len < WIRE_IPV4_HDR || (q[0] >> 4) != 4)
		return false;
	size_t hl = (size_t)(q[0] & 0x0f) * 4;
	if (hl < WIRE_IPV4_HDR || len < hl + 8 || q[9] != WIRE_PROTO_TCP || (rd16(q + 6) & WIRE_IPV4_OFFMASK))
		return false;
	e->src = (synack_addr){.family = SYNACK_AF_INET};
	e->dst = (synack_addr){.family = SYNACK_AF_INET};
	memcpy(e->src.bytes, q + 12, 4);
	memcpy(e->dst.bytes, q + 16, 4);
	e->l4 = q + hl;
	e->l4_len = len - hl;
	return true;
}

/* RFC 4443 §3: as much of the invoking packet as fits; walk its extension
 * headers (RFC 8200 §4) to the TCP header. */
static bool quote_v6(const uint8_t *q, size_t len, struct net_icmp_err *e)
{
	if (len < WIRE_IPV6_HDR || (q[0] >> 4) != 6)
		return false;
	uint8_t next = q[6];
	size_t off = WIRE_IPV6_HDR;
	while (wire_ipv6_is_ext(next)) {
		struct wire_ipv6_ext x;
		if (wire_ipv6_ext_parse(next, q + off, len - off, &x) ||
		    (next == WIRE_PROTO_FRAGMENT && x.frag_offset != 0))
			return false;
		next = x.next;
		off += x.len;
	}
	if (next != WIRE_PROTO_TCP || len < off + 8)
		return false;
	e->src = (synack_addr){.family = SYNACK_AF_INET6};
	e->dst = (synack_addr){.family = SYNACK_AF_INET6};
	memcpy(e->src.bytes, q + 8, 16);
	memcpy(e->dst.bytes, q + 24, 16);
	e->l4 = q + off;
	e->l4_len = len - off;
	return true;
}

void net_icmp_to_tcp(synack_stack *st, struct net_icmp_err *e, int family, const uint8_t *quote, size_t len)
{
	bool ok = family == SYNACK_AF_INET ? quote_v4(quote, len, e) : quote_v6(quote, len, e);
	if (!ok || !net_is_local(st, &e->src)) {
		net_drop(st, SYNACK_DROP_ICMP_QUOTE);
		return;
	}
	net_count(st, SYNACK_CNT_ICMP_ERRORS_IN);
	tcp_icmp_error(st, e);
}

/* RFC 4443 §2.4 (c): as much of the invoking packet as fits without the
 * error exceeding the minimum IPv6 MTU. */
enum { ICMP6_ERR_MAX_QUOTE = WIRE_IPV6_MIN_MTU - WIRE_IPV6_HDR - 8 };

void icmp6_send_error(synack_stack *st, const uint8_t *pkt, size_t len, uint8_t type, uint8_t code,
		      uint32_t param, bool l2_group)
{
	struct wire_ipv6 ip = {.src.family = SYNACK_AF_INET6, .dst.family = SYNACK_AF_INET6};
	if (len < WIRE_IPV6_HDR)
		return;
	memcpy(ip.src.bytes, pkt + 8, 16);
	memcpy(ip.dst.bytes, pkt + 24, 16);
	/* RFC 4443 §2.4 (e): never about multicast (IP or link layer) or
	 * from a source that does not name a single node */
	if (l2_group || wire_ip6_is_multicast(&ip.dst) || wire_ip6_is_multicast(&ip.src) ||
	    wire_ip6_is_unspecified(&ip.src) || !net_is_local(st, &ip.dst))
		return;
	if (!net_icmp_rate_ok(st))
		return;
	size_t n = MIN(len, (size_t)ICMP6_ERR_MAX_QUOTE);
	n = MIN(n, net_l4_mtu(st, &ip.src) - 8);
	uint8_t rest[4];
	wr32(rest, param);
	uint8_t *out = net_l4_buffer(st, &ip.src);
	size_t m = wire_icmp6_emit(out, &ip.dst, &ip.src, type, code, rest, pkt, n);
	if (net_send(st, &ip.dst, &ip.src, WIRE_PROTO_ICMPV6, m) == 0)
		net_count(st, SYNACK_CNT_ICMP_ERRORS_OUT);
}

/* RFC 8200 §4.5: a reassembly that timed out after its first fragment
 * arrived is reported with Time Exceeded, code 1, quoting that fragment
 * (its saved headers, then the start of its data). */
void icmp6_reassembly_timeout(synack_stack *st, const uint8_t *hdr, size_t hdr_len, const uint8_t *data,
			      size_t data_len)
{
	uint8_t q[ICMP6_ERR_MAX_QUOTE];
	if (hdr_len < WIRE_IPV6_HDR || hdr_len > sizeof q)
		return;
	size_t n = MIN(data_len, sizeof q - hdr_len);
	memcpy(q, hdr, hdr_len);
	memcpy(q + hdr_len, data, n);
	icmp6_send_error(st, q, hdr_len + n, WIRE_ICMP6_TIME_EXCEEDED, 1, 0, false);
}
