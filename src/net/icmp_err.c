/* ICMP and ICMPv6 errors: those about our packets go to the protocol that
 * sent them, through its registered entry point (RFC 1122 §3.2.2, RFC 4443
 * §3; RFC 5927 for what TCP then checks), and the ICMPv6 errors this stack
 * sends itself (RFC 4443 §2.4). */
#include <string.h>

#include "net/frag.h"
#include "net/net.h"
#include "wire/wire.h"

/* RFC 792: the quote is the original IPv4 header and at least 8 bytes of
 * its payload; only a first fragment (offset 0) quotes the upper header. */
static bool quote_v4(const uint8_t *q, size_t len, struct net_icmp_err *e)
{
	if (len < WIRE_IPV4_HDR || (q[0] >> 4) != 4)
		return false;
	size_t hl = (size_t)(q[0] & 0x0f) * 4;
	if (hl < WIRE_IPV4_HDR || len < hl + 8 || (rd16(q + 6) & WIRE_IPV4_OFFMASK))
		return false;
	e->proto = q[9];
	e->src = (synack_addr){.family = SYNACK_AF_INET};
	e->dst = (synack_addr){.family = SYNACK_AF_INET};
	memcpy(e->src.bytes, q + 12, 4);
	memcpy(e->dst.bytes, q + 16, 4);
	e->l4 = q + hl;
	e->l4_len = len - hl;
	return true;
}

/* Walk the extension headers of the IPv6 packet q[0..len) (len >= 40) to
 * its upper-layer header (RFC 8200 §4): its type in *next, its offset in
 * *off (<= len; len when nothing of it is in the packet). false if a
 * header is truncated or malformed. Behind a non-first fragment the
 * upper-layer header is elsewhere: *next is the Fragment header's Next
 * Header and *off is len. */
static bool upper_layer(const uint8_t *q, size_t len, uint8_t *next, size_t *off)
{
	uint8_t nh = q[6];
	size_t o = WIRE_IPV6_HDR;
	while (wire_ipv6_is_ext(nh) && o < len) {
		struct wire_ipv6_ext x;
		if (wire_ipv6_ext_parse(nh, q + o, len - o, &x))
			return false;
		o = nh == WIRE_PROTO_FRAGMENT && x.frag_offset != 0 ? len : o + x.len;
		nh = x.next;
	}
	*next = nh;
	*off = o;
	return true;
}

/* RFC 4443 §3: as much of the invoking packet as fits; walk its extension
 * headers (RFC 8200 §4) to the upper-layer header. */
static bool quote_v6(const uint8_t *q, size_t len, struct net_icmp_err *e)
{
	uint8_t next;
	size_t off;
	if (len < WIRE_IPV6_HDR || (q[0] >> 4) != 6 || !upper_layer(q, len, &next, &off))
		return false;
	if (len < off + 8)
		return false;
	e->proto = next;
	e->src = (synack_addr){.family = SYNACK_AF_INET6};
	e->dst = (synack_addr){.family = SYNACK_AF_INET6};
	memcpy(e->src.bytes, q + 8, 16);
	memcpy(e->dst.bytes, q + 24, 16);
	e->l4 = q + off;
	e->l4_len = len - off;
	return true;
}

void net_icmp_to_upper(synack_stack *st, struct net_icmp_err *e, int family, const uint8_t *quote, size_t len)
{
	bool ok = family == SYNACK_AF_INET ? quote_v4(quote, len, e) : quote_v6(quote, len, e);
	const struct net_proto *p = ok ? net_proto_find(st, e->proto) : NULL;
	if (!p || !p->error || !net_is_local(st, &e->src)) {
		stack_drop(st, SYNACK_DROP_ICMP_QUOTE);
		return;
	}
	stack_count(st, SYNACK_CNT_ICMP_ERRORS_IN);
	p->error(st, e);
}

/* RFC 4443 §2.4 (c): as much of the invoking packet as fits without the
 * error exceeding the minimum IPv6 MTU. */
enum { ICMP6_ERR_MAX_QUOTE = WIRE_IPV6_MIN_MTU - WIRE_IPV6_HDR - 8 };

/* RFC 4443 §2.4 (e.1), (e.2): no error about an ICMPv6 error message
 * (type below 128) or a Redirect. The invoking packet pkt[0..len) is
 * walked to its upper-layer header. ICMPv6 whose type is not there to
 * read (truncated, or behind a non-first fragment) cannot be told from an
 * error and is treated as one; a chain that cannot be walked is not
 * ICMPv6 as far as anyone can tell (Linux's is_ineligible, the same). */
static bool about_error(const uint8_t *pkt, size_t len)
{
	uint8_t next;
	size_t off;
	if (!upper_layer(pkt, len, &next, &off) || next != WIRE_PROTO_ICMPV6)
		return false;
	return off >= len || pkt[off] < WIRE_ICMP6_ECHO_REQUEST || pkt[off] == WIRE_ND_REDIRECT;
}

/* RFC 4443 §2.4 (e): may an error about pkt[0..len) be sent at all? ip
 * gets its addresses. */
static bool error_allowed(const synack_stack *st, const uint8_t *pkt, size_t len, bool l2_group,
			  struct wire_ipv6 *ip)
{
	if (len < WIRE_IPV6_HDR)
		return false;
	*ip = (struct wire_ipv6){.src.family = SYNACK_AF_INET6, .dst.family = SYNACK_AF_INET6};
	memcpy(ip->src.bytes, pkt + 8, 16);
	memcpy(ip->dst.bytes, pkt + 24, 16);
	/* (e.3)-(e.6): never about multicast (IP or link layer) or from a
	 * source that does not name a single node */
	if (l2_group || wire_ip6_is_multicast(&ip->dst) || wire_ip6_is_multicast(&ip->src) ||
	    wire_ip6_is_unspecified(&ip->src) || !net_is_local(st, &ip->dst))
		return false;
	return !about_error(pkt, len);
}

void icmp6_send_error(synack_stack *st, const uint8_t *pkt, size_t len, uint8_t type, uint8_t code,
		      uint32_t param, bool l2_group)
{
	struct wire_ipv6 ip;
	if (!error_allowed(st, pkt, len, l2_group, &ip) || !net_icmp_rate_ok(st))
		return;
	size_t n = MIN(len, (size_t)ICMP6_ERR_MAX_QUOTE);
	n = MIN(n, net_l4_mtu(st, &ip.src) - 8);
	uint8_t rest[4];
	wr32(rest, param);
	struct bbuf out = net_l4_buffer(st, &ip.src);
	wire_icmp6_emit(&out, &ip.dst, &ip.src, type, code, rest, pkt, n);
	if (net_send(st, &ip.dst, &ip.src, WIRE_PROTO_ICMPV6, &out) == 0)
		stack_count(st, SYNACK_CNT_ICMP_ERRORS_OUT);
}

/* RFC 8200 §4.5: a reassembly that timed out after its first fragment
 * arrived is reported with Time Exceeded, code 1, quoting that fragment
 * (its saved headers, then the start of its data), under the rules of
 * every ICMPv6 error: not when that fragment came in a link-layer group
 * frame (RFC 4443 §2.4 (e.4), (e.5)). */
void icmp6_reassembly_timeout(synack_stack *st, const struct frag_done *d)
{
	uint8_t q[ICMP6_ERR_MAX_QUOTE];
	if (d->hdr_len < WIRE_IPV6_HDR || d->hdr_len > sizeof q)
		return;
	size_t n = MIN(d->len, sizeof q - d->hdr_len);
	memcpy(q, d->hdr, d->hdr_len);
	memcpy(q + d->hdr_len, d->data, n);
	icmp6_send_error(st, q, d->hdr_len + n, WIRE_ICMP6_TIME_EXCEEDED, 1, 0, d->l2_group);
}
