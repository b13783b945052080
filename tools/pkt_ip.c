/* The script runner's IP level: the fields packetdrill writes after a
 * packet's direction ("(tos 0x10)", "(ttl 64)", "(flowlabel 0x12345)", the
 * ECN tags "[noecn]" "[ect0]" "[ect1]" "[ce]" "[ect01]"), set on the
 * packets the script sends and checked on those synack sends; and ICMP or
 * ICMPv6 lines ("icmp unreachable port_unreachable [1:1(0)]", "icmp
 * unreachable frag_needed mtu 1200 [...]"): an inbound one injects the
 * error from the script's host, quoting the IP header and the first 20
 * bytes of the TCP segment synack sent at the sequence numbers in
 * brackets (RFC 792 asks for 8, RFC 4443 §3 for as much as fits); an
 * outbound one expects synack to send that type and code. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pkt_run_internal.h"
#include "wire/wire.h"

/* ---- names ---- */

struct icmp_name {
	const char *name;
	int v4, v6; /* -1: none in that family */
};

/* packetdrill's names; an IPv4 name in an IPv6 script means its ICMPv6
 * counterpart (RFC 4443 §3.1: host unreachable is address unreachable;
 * fragmentation needed is Packet Too Big, §3.2). */
static const struct icmp_name icmp_types[] = {
    {"echo_reply", 0, 129},	  {"unreachable", 3, 1},     {"source_quench", 4, -1},
    {"redirect", 5, 137},	  {"echo_request", 8, 128},  {"time_exceeded", 11, 3},
    {"parameter_problem", 12, 4}, {"packet_too_big", -1, 2},
};
static const struct icmp_name icmp_codes[] = {
    {"net_unreachable", 0, 0},
    {"host_unreachable", 1, 3},
    {"protocol_unreachable", 2, 4},
    {"port_unreachable", 3, 4},
    {"frag_needed", 4, 0},
    {"source_route_failed", 5, -1},
    {"net_unknown", 6, 0},
    {"host_unknown", 7, 3},
    {"source_host_isolated", 8, -1},
    {"net_prohibited", 9, 1},
    {"host_prohibited", 10, 1},
    {"net_unreachable_for_tos", 11, -1},
    {"host_unreachable_for_tos", 12, -1},
    {"packet_filtered", 13, 1},
    {"no_route", 0, 0},
    {"admin_prohibited", 13, 1},
    {"beyond_scope", -1, 2},
    {"address_unreachable", 1, 3},
    {"ttl_exceeded", 0, 0},
    {"frag_reassembly_time_exceeded", 1, 1},
};

/* A name from the table, or a number; -1 if neither. */
static int icmp_lookup(const struct icmp_name *t, size_t n, const char *s, bool v6)
{
	if (s[0] >= '0' && s[0] <= '9') {
		unsigned long v = strtoul(s, NULL, 0);
		return v <= 255 ? (int)v : -1;
	}
	for (size_t i = 0; i < n; i++)
		if (!strcmp(t[i].name, s))
			return v6 ? t[i].v6 : t[i].v4;
	return -1;
}

/* The type and code a line names, for the script's family. */
static bool icmp_resolve(struct runner *r, const struct pkt_packet *p, bool v6, int *type, int *code)
{
	*type = icmp_lookup(icmp_types, sizeof icmp_types / sizeof icmp_types[0], p->icmp_type, v6);
	*code = p->icmp_code[0]
		    ? icmp_lookup(icmp_codes, sizeof icmp_codes / sizeof icmp_codes[0], p->icmp_code, v6)
		    : 0;
	if (v6 && *type == WIRE_ICMP6_DEST_UNREACH && !strcmp(p->icmp_code, "frag_needed"))
		*type = WIRE_ICMP6_PACKET_TOO_BIG;
	if (*type < 0 || *code < 0)
		return failf(r, "icmp %s %s: no such ICMP%s type and code", p->icmp_type, p->icmp_code,
			     v6 ? "v6" : "");
	return true;
}

/* ---- IP fields ---- */

/* The ECN codepoint (RFC 3168 §5) of a tag; -1 for none or [ect01]. */
static int ecn_bits(const char *tag)
{
	static const char *const tags[] = {"[noecn]", "[ect1]", "[ect0]", "[ce]"};
	for (int i = 0; i < 4; i++)
		if (!strcmp(tag, tags[i]))
			return i;
	return -1;
}

void pkt_ip_header(struct runner *r, const struct pkt_packet *p, uint8_t *frame, uint8_t proto, size_t len)
{
	bool v6 = r->remote.family == SYNACK_AF_INET6;
	struct bbuf ip = bbuf_make(frame, v6 ? WIRE_IPV6_HDR : WIRE_IPV4_HDR);
	uint8_t ttl = p->has_ttl ? p->ttl : 64, tos = p->has_tos ? p->tos : 0;
	if (ecn_bits(p->ecn) >= 0)
		tos = (uint8_t)((tos & ~3) | ecn_bits(p->ecn));
	else if (!strcmp(p->ecn, "[ect01]"))
		tos = (uint8_t)((tos & ~3) | 2);
	if (v6) { /* RFC 8200 §3: version, traffic class, flow label */
		wire_ipv6_emit(&ip, &r->remote, &r->local, proto, ttl, len);
		wr32(frame, 6u << 28 | (uint32_t)tos << 20 | (p->has_flowlabel ? p->flowlabel : 0));
		return;
	}
	wire_ipv4_emit(&ip, &r->remote, &r->local, proto, ttl, 0, WIRE_IPV4_DF, len);
	frame[1] = tos;
	frame[10] = frame[11] = 0;
	wr16(frame + 10, wire_csum_finish(wire_csum_add(0, frame, WIRE_IPV4_HDR)));
}

struct ip_seen {
	uint8_t tos, ttl, proto;
	uint32_t flow;
	const uint8_t *l4;
	size_t l4_len;
};

static bool frame_ip(const uint8_t *f, size_t len, struct ip_seen *s)
{
	struct wire_ipv4 ip;
	struct wire_ipv6 ip6;
	if (len && f[0] >> 4 == 6) {
		if (wire_ipv6_parse(f, len, &ip6))
			return false;
		*s = (struct ip_seen){ip6.tclass, ip6.hop_limit, ip6.next,
				      ip6.flow,	  ip6.payload,	 ip6.payload_len};
		return true;
	}
	if (wire_ipv4_parse(f, len, &ip))
		return false;
	*s = (struct ip_seen){ip.tos, ip.ttl, ip.proto, 0, ip.payload, ip.payload_len};
	return true;
}

static bool ecn_ok(struct runner *r, const char *tag, uint8_t tos)
{
	static const char *const names[] = {"[noecn]", "[ect1]", "[ect0]", "[ce]"};
	int want = ecn_bits(tag), got = tos & 3;
	if (!tag[0] || want == got || (!strcmp(tag, "[ect01]") && (got == 1 || got == 2)))
		return true;
	return failf(r, "synack sent the packet with ECN %s, expected %s", names[got], tag);
}

bool pkt_ip_fields_ok(struct runner *r, const struct pkt_packet *p, const uint8_t *frame, size_t len)
{
	struct ip_seen s;
	if (!frame_ip(frame, len, &s))
		return failf(r, "synack sent a packet whose IP header does not parse");
	if (!ecn_ok(r, p->ecn, s.tos))
		return false;
	if (p->has_tos && s.tos != p->tos)
		return failf(r, "synack sent the packet with tos 0x%02x, expected 0x%02x", s.tos, p->tos);
	if (p->has_ttl && s.ttl != p->ttl)
		return failf(r, "synack sent the packet with ttl %u, expected %u", s.ttl, p->ttl);
	if (p->has_flowlabel && s.flow != p->flowlabel)
		return failf(r, "synack sent the packet with flowlabel 0x%05x, expected 0x%05x", s.flow,
			     p->flowlabel);
	return true;
}

/* ---- ICMP lines ---- */

/* The start of the segment synack sent at the quoted sequence numbers:
 * its IP header (as synack sent it: local to remote, TCP) and a 20-byte
 * TCP header. Without a quote, the oldest unacknowledged sequence number
 * of the connection. Returns the length. */
static size_t quote_build(struct runner *r, const struct pkt_packet *p, bool v6, uint8_t *q, size_t cap)
{
	struct bbuf b = bbuf_make(q, cap);
	synack_tcp_info info = {0};
	synack_tcp *c = synack_socket_tcp(r->socks, r->last_fd);
	uint32_t seq = r->isn + p->seq_start;
	if (!p->has_seq && c && !synack_tcp_get_info(c, &info))
		seq = info.snd_una;
	size_t tcp_len = WIRE_TCP_HDR + p->len;
	if (v6)
		wire_ipv6_emit(&b, &r->local, &r->remote, WIRE_PROTO_TCP, 64, tcp_len);
	else
		wire_ipv4_emit(&b, &r->local, &r->remote, WIRE_PROTO_TCP, 64, 0, WIRE_IPV4_DF, tcp_len);
	uint8_t *t = bbuf_reserve(&b, WIRE_TCP_HDR);
	if (!t)
		return 0;
	memset(t, 0, WIRE_TCP_HDR);
	wr16(t, r->local_port);
	wr16(t + 2, r->remote_port);
	wr32(t + 4, seq);
	t[12] = WIRE_TCP_HDR / 4 << 4;
	t[13] = SYNACK_TCP_ACK;
	return b.len;
}

bool pkt_inbound_icmp(struct runner *r, const struct pkt_packet *p)
{
	static uint8_t frame[WIRE_IPV6_HDR + 8 + WIRE_IPV6_HDR + WIRE_TCP_HDR];
	uint8_t quote[WIRE_IPV6_HDR + WIRE_TCP_HDR], rest[4] = {0};
	bool v6 = r->remote.family == SYNACK_AF_INET6;
	size_t iph = v6 ? WIRE_IPV6_HDR : WIRE_IPV4_HDR;
	int type, code;
	if (!icmp_resolve(r, p, v6, &type, &code))
		return false;
	size_t qlen = quote_build(r, p, v6, quote, sizeof quote);
	if (v6 && type == WIRE_ICMP6_PACKET_TOO_BIG)
		wr32(rest, p->mtu); /* RFC 4443 §3.2 */
	else if (!v6 && type == WIRE_ICMP_DEST_UNREACH && code == WIRE_ICMP_FRAG_NEEDED)
		wr16(rest + 2, (uint16_t)p->mtu); /* RFC 1191 §4: Next-Hop MTU */
	struct bbuf b = bbuf_make(frame + iph, sizeof frame - iph);
	if (v6)
		wire_icmp6_emit(&b, &r->remote, &r->local, (uint8_t)type, (uint8_t)code, rest, quote, qlen);
	else
		wire_icmp_emit(&b, (uint8_t)type, (uint8_t)code, rest, quote, qlen);
	if (!qlen || !bbuf_ok(&b))
		return failf(r, "the ICMP message does not fit a frame");
	pkt_ip_header(r, p, frame, v6 ? WIRE_PROTO_ICMPV6 : WIRE_PROTO_ICMP, b.len);
	synack_stack_input(r->st, frame, iph + b.len, r->now);
	return true;
}

bool pkt_outbound_icmp(struct runner *r, const struct pkt_packet *p, const uint8_t *frame, size_t len)
{
	struct ip_seen s;
	bool v6 = r->remote.family == SYNACK_AF_INET6;
	int type, code;
	if (!icmp_resolve(r, p, v6, &type, &code))
		return false;
	if (!frame_ip(frame, len, &s) || s.proto != (v6 ? WIRE_PROTO_ICMPV6 : WIRE_PROTO_ICMP) ||
	    s.l4_len < 8)
		return failf(r, "expected icmp %s %s; synack sent something else", p->icmp_type,
			     p->icmp_code);
	if (s.l4[0] != type || s.l4[1] != code)
		return failf(r, "expected icmp %s %s (type %d code %d); synack sent type %u code %u",
			     p->icmp_type, p->icmp_code, type, code, s.l4[0], s.l4[1]);
	return pkt_ip_fields_ok(r, p, frame, len);
}
