/* IPv6 input (RFC 8200): header checks, the extension header chain,
 * fragments, and ICMPv6 (RFC 4443): echo, errors for TCP, and the Neighbor
 * Discovery messages handed to nd.c.
 *
 * Implementation notes. The chain is walked once, header by header, with
 * the offset of the Next Header field that named the current header kept
 * for Parameter Problem pointers (RFC 4443 §3.4). Every header consumes at
 * least 8 bytes inside the Payload Length, so the walk is bounded by the
 * packet. A reassembled datagram continues the walk on the reassembly
 * buffer, with ICMP errors about it disabled (its bytes are not a packet
 * anyone sent). */
#include <string.h>

#include "net/frag.h"
#include "net/net.h"
#include "net/ping.h"
#include "wire/wire.h"

struct ip6_pkt {
	const struct wire_ipv6 *ip;
	const uint8_t *pkt; /* the IPv6 header, or NULL for a reassembled datagram */
	size_t pkt_len;
	bool l2_group;
	bool in_frag; /* carried in a Fragment header (reassembled or atomic) */
};

bool net_ip6_joined(const synack_stack *st, const synack_addr *group)
{
	synack_addr g;
	wire_ip6_all_nodes(&g);
	if (synack_addr_equal(group, &g))
		return true;
	const synack_addr *own[2] = {&st->net->ll6, &st->cfg.addr6};
	for (int i = 0; i < 2; i++) {
		if (own[i]->family != SYNACK_AF_INET6)
			continue;
		wire_ip6_solicited_node(&g, own[i]);
		if (synack_addr_equal(group, &g))
			return true;
	}
	return false;
}

static void param_problem(synack_stack *st, const struct ip6_pkt *p, uint8_t code, size_t pointer)
{
	if (p->pkt)
		icmp6_send_error(st, p->pkt, p->pkt_len, WIRE_ICMP6_PARAM_PROBLEM, code, (uint32_t)pointer,
				 p->l2_group);
}

/* RFC 4443 §4.2: the reply goes back to the requester, from the address
 * the request was sent to, or for a multicast request from a unicast
 * address of ours. */
static void echo(synack_stack *st, const struct wire_ipv6 *ip, const struct wire_icmp *ic)
{
	synack_addr src = ip->dst;
	if (wire_ip6_is_multicast(&ip->dst) && !net_source_for(st, &ip->src, &src)) {
		stack_drop(st, SYNACK_DROP_IP_NOT_FOR_US);
		return;
	}
	if (ic->code != 0) {
		stack_drop(st, SYNACK_DROP_ICMP_TYPE);
		return;
	}
	int err;
	if (ic->body_len + 8 > net_l4_mtu(st, &ip->src)) { /* a reassembled request: answer in fragments */
		uint8_t h[8] = {WIRE_ICMP6_ECHO_REPLY, 0, 0, 0};
		memcpy(h + 4, ic->rest, 4);
		uint32_t s = wire_pseudo_sum(&src, &ip->src, WIRE_PROTO_ICMPV6, (uint32_t)(8 + ic->body_len));
		wr16(h + 2, wire_csum_finish(wire_csum_add(wire_csum_add(s, h, 8), ic->body, ic->body_len)));
		err =
		    net_send_fragmented(st, &src, &ip->src, WIRE_PROTO_ICMPV6, h, 8, ic->body, ic->body_len);
	} else {
		struct bbuf out = net_l4_buffer(st, &ip->src);
		wire_icmp6_emit(&out, &src, &ip->src, WIRE_ICMP6_ECHO_REPLY, 0, ic->rest, ic->body,
				ic->body_len);
		err = net_send(st, &src, &ip->src, WIRE_PROTO_ICMPV6, &out);
	}
	if (err == 0)
		stack_count(st, SYNACK_CNT_ICMP_ECHO_REPLIES);
}

/* RFC 4443 §3: the errors TCP cares about, mapped like their ICMPv4
 * counterparts (port unreachable and "unrecognized Next Header" are the
 * protocol-level refusals). */
static void icmp6_error(synack_stack *st, const struct wire_icmp *ic)
{
	struct net_icmp_err e = {.type = ic->type, .code = ic->code};
	switch (ic->type) {
	case WIRE_ICMP6_DEST_UNREACH:
		e.kind = ic->code == WIRE_ICMP6_PORT_UNREACH ? NET_ICMP_PROTO_UNREACH : NET_ICMP_UNREACH;
		break;
	case WIRE_ICMP6_PACKET_TOO_BIG:
		e.kind = NET_ICMP_FRAG_NEEDED;
		e.mtu = rd32(ic->rest);
		break;
	case WIRE_ICMP6_TIME_EXCEEDED:
		e.kind = NET_ICMP_TIME_EXCEEDED;
		break;
	default:
		e.kind =
		    ic->code == WIRE_ICMP6_PP_NEXT_HEADER ? NET_ICMP_PROTO_UNREACH : NET_ICMP_PARAM_PROBLEM;
		break;
	}
	net_icmp_to_upper(st, &e, SYNACK_AF_INET6, ic->body, ic->body_len);
}

static void icmp6_input(synack_stack *st, const struct ip6_pkt *p, const uint8_t *msg, size_t len)
{
	const struct wire_ipv6 *ip = p->ip;
	struct wire_icmp ic;
	int drop = wire_icmp6_parse(&ip->src, &ip->dst, msg, len, &ic);
	if (!drop && wire_ip6_is_unspecified(&ip->src) && ic.type != WIRE_ND_NS)
		drop = SYNACK_DROP_IP_BAD_SOURCE; /* only DAD may come from :: (RFC 4861 §7.1.1) */
	if (drop) {
		stack_drop(st, (enum synack_counter)drop);
		return;
	}
	switch (ic.type) {
	case WIRE_ICMP6_ECHO_REQUEST:
		echo(st, ip, &ic);
		break;
	case WIRE_ICMP6_ECHO_REPLY:
		ping_reply_input(st, &ip->src, ip->hop_limit, msg, len);
		break;
	case WIRE_ICMP6_DEST_UNREACH:
	case WIRE_ICMP6_PACKET_TOO_BIG:
	case WIRE_ICMP6_TIME_EXCEEDED:
	case WIRE_ICMP6_PARAM_PROBLEM:
		icmp6_error(st, &ic);
		break;
	case WIRE_ND_NS:
	case WIRE_ND_NA:
		if (p->in_frag) { /* RFC 6980 §5: fragmented ND is silently discarded */
			stack_drop(st, SYNACK_DROP_IP6_EXT_HEADER);
			break;
		}
		nd_input(st, ip, &ic);
		break;
	case WIRE_ND_RS:
	case WIRE_ND_RA:
	case WIRE_ND_REDIRECT: /* a host with configured addresses and router */
		stack_drop(st, SYNACK_DROP_ND_IGNORED);
		break;
	default:
		stack_drop(st, SYNACK_DROP_ICMP_TYPE);
		break;
	}
}

/* The upper-layer header `next` at l4[0..len); nh_ptr is the offset of the
 * Next Header field that named it (for Parameter Problem). */
static void upper(synack_stack *st, const struct ip6_pkt *p, uint8_t next, const uint8_t *l4, size_t len,
		  size_t nh_ptr)
{
	const struct wire_ipv6 *ip = p->ip;
	if (next == WIRE_PROTO_ICMPV6) {
		icmp6_input(st, p, l4, len);
		return;
	}
	if (wire_ip6_is_unspecified(&ip->src)) {
		stack_drop(st, SYNACK_DROP_IP_BAD_SOURCE);
		return;
	}
	const struct net_proto *up = net_proto_find(st, next);
	if (up) {
		if (wire_ip6_is_multicast(&ip->dst)) { /* no multicast upper protocol registers here */
			stack_drop(st, SYNACK_DROP_IP_MULTICAST_L4);
			return;
		}
		struct net_rx rx = {.src = ip->src,
				    .dst = ip->dst,
				    .ttl = ip->hop_limit,
				    .ecn = ip->tclass & WIRE_ECN_MASK,
				    .l4 = l4,
				    .l4_len = len,
				    .csum_ok = st->net->rx_csum_ok};
		up->input(st, &rx);
		return;
	}
	/* RFC 8200 §4: an unrecognized Next Header gets Parameter Problem
	 * code 1; No Next Header (§4.7) and UDP (no sockets) are dropped. */
	if (next != WIRE_PROTO_NONE && next != WIRE_PROTO_UDP)
		param_problem(st, p, WIRE_ICMP6_PP_NEXT_HEADER, nh_ptr);
	stack_drop(st, SYNACK_DROP_IP_PROTO);
}

static void walk(synack_stack *st, const struct ip6_pkt *p, uint8_t next, const uint8_t *data, size_t len,
		 size_t base);

/* RFC 8200 §4.5 through frag.c; an atomic fragment (offset 0, M 0) is
 * processed at once (RFC 6946). */
static void fragment(synack_stack *st, const struct ip6_pkt *p, const struct wire_ipv6_ext *x,
		     const uint8_t *hdr, size_t len, size_t base)
{
	if (!st->net->frag) {
		stack_drop(st, SYNACK_DROP_IP_FRAGMENT);
		return;
	}
	st->net->rx_csum_ok = false; /* the link vouched for this piece, not the others */
	const uint8_t *start = p->ip->payload - WIRE_IPV6_HDR;
	struct frag_key k = {.family = SYNACK_AF_INET6,
			     .proto = x->next,
			     .id = x->frag_id,
			     .src = p->ip->src,
			     .dst = p->ip->dst};
	struct frag_in in = {.offset = x->frag_offset,
			     .more = x->frag_more,
			     .data = hdr + 8,
			     .len = len - 8,
			     .max_end = 65535u - (base - WIRE_IPV6_HDR),
			     .hdr = start,
			     .hdr_len = base + 8,
			     .l2_group = p->l2_group};
	struct frag_done d;
	int r = frag_input(st->net->frag, st->now, &k, &in, &d);
	if (r == FRAG_QUEUED)
		return;
	if (r != FRAG_DONE) {
		stack_drop(st, (enum synack_counter)r);
		return;
	}
	struct ip6_pkt whole = {.ip = p->ip, .pkt = NULL, .l2_group = p->l2_group};
	if (x->frag_offset == 0 && !x->frag_more)
		whole = *p; /* atomic: still the packet as sent */
	whole.in_frag = true;
	walk(st, &whole, d.key.proto, d.data, d.len, base + 8);
	frag_release(st->net->frag);
}

/* Walk from the header `next` at data[0..len), which sits at offset base
 * of the packet (for pointers). RFC 8200 §4.1: Hop-by-Hop only first. */
static void walk(synack_stack *st, const struct ip6_pkt *p, uint8_t next, const uint8_t *data, size_t len,
		 size_t base)
{
	size_t nh_ptr = 6, off = 0;
	while (wire_ipv6_is_ext(next)) {
		struct wire_ipv6_ext x;
		int drop = SYNACK_DROP_IP6_EXT_HEADER;
		if (next == WIRE_PROTO_HOPOPTS && base + off != WIRE_IPV6_HDR)
			param_problem(st, p, WIRE_ICMP6_PP_NEXT_HEADER, nh_ptr);
		else if ((drop = wire_ipv6_ext_parse(next, data + off, len - off, &x)) != 0)
			;		 /* truncated or malformed: counted below */
		else if (x.bad_option) { /* RFC 8200 §4.2 actions 01, 10, 11 */
			if (x.bad_action >= 2)
				param_problem(st, p, WIRE_ICMP6_PP_OPTION, base + off + x.bad_option);
			drop = SYNACK_DROP_IP6_EXT_HEADER;
		} else if (next == WIRE_PROTO_ROUTING && x.segments_left) {
			/* §4.4: no routing type is recognized (RH0 is deprecated, RFC 5095) */
			param_problem(st, p, WIRE_ICMP6_PP_HEADER, base + off + 2);
			drop = SYNACK_DROP_IP6_EXT_HEADER;
		}
		if (drop) {
			stack_drop(st, (enum synack_counter)drop);
			return;
		}
		if (next == WIRE_PROTO_FRAGMENT) {
			/* one Fragment header per packet: a second one, inside
			 * reassembled data, would reenter the reassembly table
			 * while its buffer is being read */
			if (p->in_frag) {
				stack_drop(st, SYNACK_DROP_IP6_EXT_HEADER);
				return;
			}
			fragment(st, p, &x, data + off, len - off, base + off);
			return;
		}
		nh_ptr = base + off;
		next = x.next;
		off += x.len;
	}
	upper(st, p, next, data + off, len - off, nh_ptr);
}

static bool ipv6_on(const synack_stack *st)
{
	return st->net->ll6.family == SYNACK_AF_INET6 || st->cfg.addr6.family == SYNACK_AF_INET6;
}

void ipv6_input(synack_stack *st, const uint8_t *frame, size_t len, bool l2_group)
{
	struct wire_ipv6 ip;
	int drop = ipv6_on(st) ? wire_ipv6_parse(frame, len, &ip) : SYNACK_DROP_IP_VERSION;
	if (!drop && !net_is_local(st, &ip.dst) &&
	    !(wire_ip6_is_multicast(&ip.dst) && net_ip6_joined(st, &ip.dst)))
		drop = SYNACK_DROP_IP_NOT_FOR_US;
	if (!drop && wire_ip6_is_multicast(&ip.src)) /* RFC 4291 §2.7: never a source */
		drop = SYNACK_DROP_IP_BAD_SOURCE;
	/* RFC 4291 §2.5.3: ::1 is never the source of a packet from outside
	 * the node; neither is one of our own addresses (a land attack or a
	 * looped packet). The unspecified address of DAD is not ours. */
	if (!drop && (wire_ip6_is_loopback(&ip.src) || net_is_local(st, &ip.src)))
		drop = SYNACK_DROP_IP_MARTIAN;
	if (drop) {
		stack_drop(st, (enum synack_counter)drop);
		return;
	}
	struct ip6_pkt p = {
	    .ip = &ip, .pkt = frame, .pkt_len = WIRE_IPV6_HDR + ip.payload_len, .l2_group = l2_group};
	walk(st, &p, ip.next, ip.payload, ip.payload_len, WIRE_IPV6_HDR);
}
