/* IPv4 input (RFC 791, RFC 1122 §3.2.1) and ICMP (RFC 792): echo, and the
 * errors about our own packets that TCP must hear of. */
#include <string.h>

#include "net/frag.h"
#include "net/net.h"
#include "net/ping.h"
#include "wire/wire.h"

/* RFC 1122 §3.2.1.3: a source that is broadcast, multicast, loopback-less
 * "this network" or limited broadcast must be discarded. */
static bool bad_source(const synack_stack *st, const synack_addr *a)
{
	const uint8_t *b = a->bytes;
	uint32_t v = rd32(b);
	if (v == 0 || v == 0xffffffffu || (b[0] & 0xf0) == 0xe0)
		return true;
	uint32_t plen = st->cfg.prefix_len;
	if (plen > 0 && plen < 31) {
		uint32_t host = ~0u >> plen;
		uint32_t net = rd32(st->cfg.addr.bytes) & ~host;
		if ((v & ~host) == net && (v & host) == host)
			return true; /* directed broadcast of our subnet */
	}
	return false;
}

/* RFC 1122 §3.2.1.3 (g): { 127, <any> } "MUST NOT appear outside a
 * host"; and a packet from one of our own addresses did not come from
 * another host either (a land attack, or our own packet looped back). */
static bool martian_source(const synack_stack *st, const synack_addr *a)
{
	return a->bytes[0] == 127 || net_is_local(st, a);
}

static void icmp_echo(synack_stack *st, const struct wire_ipv4 *ip, const struct wire_icmp *ic)
{
	if (ic->code != 0) {
		stack_drop(st, SYNACK_DROP_ICMP_TYPE);
		return;
	}
	int err;
	if (ip->payload_len > net_l4_mtu(st, &ip->src)) { /* a reassembled request: answer in fragments */
		uint8_t h[8] = {WIRE_ICMP_ECHO_REPLY, 0, 0, 0};
		memcpy(h + 4, ic->rest, 4);
		wr16(h + 2, wire_csum_finish(wire_csum_add(wire_csum_add(0, h, 8), ic->body, ic->body_len)));
		err = net_send_fragmented(st, &ip->dst, &ip->src, WIRE_PROTO_ICMP, h, 8, ic->body,
					  ic->body_len);
	} else {
		struct bbuf out = net_l4_buffer(st, &ip->src);
		wire_icmp_emit(&out, WIRE_ICMP_ECHO_REPLY, 0, ic->rest, ic->body, ic->body_len);
		err = net_send(st, &ip->dst, &ip->src, WIRE_PROTO_ICMP, &out);
	}
	if (err == 0)
		stack_count(st, SYNACK_CNT_ICMP_ECHO_REPLIES);
}

/* RFC 792 / RFC 1122 §3.2.2.1: which TCP-relevant error this is. Codes 2
 * and 3 (protocol, port) are hard in SYN-SENT (RFC 1122 §4.2.3.9); code 4
 * carries the next-hop MTU (RFC 1191 §4). */
static void icmp_error(synack_stack *st, const struct wire_icmp *ic)
{
	struct net_icmp_err e = {.type = ic->type, .code = ic->code};
	switch (ic->type) {
	case WIRE_ICMP_DEST_UNREACH:
		e.kind = NET_ICMP_UNREACH;
		if (ic->code == WIRE_ICMP_PROTO_UNREACH || ic->code == WIRE_ICMP_PORT_UNREACH)
			e.kind = NET_ICMP_PROTO_UNREACH;
		if (ic->code == WIRE_ICMP_FRAG_NEEDED) {
			e.kind = NET_ICMP_FRAG_NEEDED;
			e.mtu = rd16(ic->rest + 2);
		}
		break;
	case WIRE_ICMP_TIME_EXCEEDED:
		e.kind = NET_ICMP_TIME_EXCEEDED;
		break;
	default:
		e.kind = NET_ICMP_PARAM_PROBLEM;
		break;
	}
	net_icmp_to_upper(st, &e, SYNACK_AF_INET, ic->body, ic->body_len);
}

static void icmp_input(synack_stack *st, const struct wire_ipv4 *ip)
{
	struct wire_icmp ic;
	int drop = wire_icmp_parse(ip->payload, ip->payload_len, &ic);
	if (drop) {
		stack_drop(st, (enum synack_counter)drop);
		return;
	}
	switch (ic.type) {
	case WIRE_ICMP_ECHO_REQUEST:
		icmp_echo(st, ip, &ic);
		break;
	case WIRE_ICMP_ECHO_REPLY:
		ping_reply_input(st, &ip->src, ip->ttl, ip->payload, ip->payload_len);
		break;
	case WIRE_ICMP_DEST_UNREACH:
	case WIRE_ICMP_TIME_EXCEEDED:
	case WIRE_ICMP_PARAM_PROBLEM:
		icmp_error(st, &ic);
		break;
	default:
		stack_drop(st, SYNACK_DROP_ICMP_TYPE);
		break;
	}
}

/* The protocol layer of a complete (maybe reassembled) datagram. */
static void ipv4_deliver(synack_stack *st, const struct wire_ipv4 *ip)
{
	struct net_rx rx = {.src = ip->src,
			    .dst = ip->dst,
			    .ttl = ip->ttl,
			    .ecn = ip->tos & WIRE_ECN_MASK,
			    .l4 = ip->payload,
			    .l4_len = ip->payload_len,
			    .csum_ok = st->net->rx_csum_ok};
	if (ip->proto == WIRE_PROTO_ICMP) {
		icmp_input(st, ip);
		return;
	}
	const struct net_proto *p = net_proto_find(st, ip->proto);
	if (p)
		p->input(st, &rx);
	else
		stack_drop(st, SYNACK_DROP_IP_PROTO);
}

/* RFC 791 §3.2 / RFC 1122 §3.3.2: reassemble through frag.c, then deliver
 * the whole datagram as if it had arrived in one piece. */
static void ipv4_fragment(synack_stack *st, const struct wire_ipv4 *ip, const uint8_t *frame, bool l2_group)
{
	if (!st->net->frag) {
		stack_drop(st, SYNACK_DROP_IP_FRAGMENT);
		return;
	}
	st->net->rx_csum_ok = false; /* the link vouched for this piece, not the others */
	struct frag_key k = {
	    .family = SYNACK_AF_INET, .proto = ip->proto, .id = ip->id, .src = ip->src, .dst = ip->dst};
	struct frag_in in = {.offset = ip->frag & WIRE_IPV4_OFFMASK,
			     .more = ip->frag & WIRE_IPV4_MF,
			     .data = ip->payload,
			     .len = ip->payload_len,
			     .max_end = 65535u - ip->hdr_len,
			     .hdr = frame,
			     .hdr_len = ip->hdr_len,
			     .l2_group = l2_group};
	struct frag_done d;
	int r = frag_input(st->net->frag, st->now, &k, &in, &d);
	if (r == FRAG_QUEUED)
		return;
	if (r != FRAG_DONE) {
		stack_drop(st, (enum synack_counter)r);
		return;
	}
	struct wire_ipv4 whole = *ip;
	whole.frag = 0;
	whole.payload = d.data;
	whole.payload_len = d.len;
	whole.total_len = (uint16_t)MIN(65535u, ip->hdr_len + d.len);
	ipv4_deliver(st, &whole);
	frag_release(st->net->frag);
}

void ipv4_input(synack_stack *st, const uint8_t *frame, size_t len, bool l2_group)
{
	struct wire_ipv4 ip;
	int drop = st->cfg.addr.family != SYNACK_AF_INET ? SYNACK_DROP_IP_VERSION /* an IPv6-only stack */
							 : wire_ipv4_parse(frame, len, &ip);
	if (!drop && !net_is_local(st, &ip.dst))
		drop = SYNACK_DROP_IP_NOT_FOR_US;
	if (!drop && bad_source(st, &ip.src))
		drop = SYNACK_DROP_IP_BAD_SOURCE;
	if (!drop && martian_source(st, &ip.src))
		drop = SYNACK_DROP_IP_MARTIAN;
	if (drop) {
		stack_drop(st, (enum synack_counter)drop);
		return;
	}
	if (wire_ipv4_is_fragment(&ip)) {
		ipv4_fragment(st, &ip, frame, l2_group);
		return;
	}
	ipv4_deliver(st, &ip);
}
