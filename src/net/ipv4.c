/* IPv4 input and output (RFC 791) and ICMP echo (RFC 792). Fragments are
 * dropped and counted until reassembly arrives with the real-link work. */
#include <string.h>

#include "net/net.h"
#include "wire/wire.h"

bool net_is_local(const synack_stack *st, const synack_addr *a)
{
	return synack_addr_equal(a, &st->cfg.addr);
}

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

static void icmp_echo(synack_stack *st, const struct wire_ipv4 *ip)
{
	struct wire_icmp ic;
	int drop = wire_icmp_parse(ip->payload, ip->payload_len, &ic);
	if (drop) {
		net_drop(st, (enum synack_counter)drop);
		return;
	}
	if (ic.type != WIRE_ICMP_ECHO_REQUEST || ic.code != 0) {
		net_drop(st, SYNACK_DROP_ICMP_TYPE); /* errors for TCP: real-link issue */
		return;
	}
	if (ip->payload_len > net_l4_mtu(st, &ip->src)) {
		net_drop(st, SYNACK_DROP_IP_LENGTH);
		return;
	}
	uint8_t *out = net_l4_buffer(st, &ip->src);
	size_t n = wire_icmp_emit(out, WIRE_ICMP_ECHO_REPLY, 0, ic.rest, ic.body, ic.body_len);
	if (net_send(st, &ip->dst, &ip->src, WIRE_PROTO_ICMP, n) == 0)
		net_count(st, SYNACK_CNT_ICMP_ECHO_REPLIES);
}

void ipv4_input(synack_stack *st, const uint8_t *frame, size_t len)
{
	struct wire_ipv4 ip;
	int drop = wire_ipv4_parse(frame, len, &ip);
	if (drop) {
		net_drop(st, (enum synack_counter)drop);
		return;
	}
	if (wire_ipv4_is_fragment(&ip)) {
		net_drop(st, SYNACK_DROP_IP_FRAGMENT);
		return;
	}
	if (!net_is_local(st, &ip.dst)) {
		net_drop(st, SYNACK_DROP_IP_NOT_FOR_US);
		return;
	}
	if (bad_source(st, &ip.src)) {
		net_drop(st, SYNACK_DROP_IP_BAD_SOURCE);
		return;
	}
	struct net_rx rx = {.src = ip.src, .dst = ip.dst, .ttl = ip.ttl, .l4 = ip.payload, .l4_len = ip.payload_len};
	switch (ip.proto) {
	case WIRE_PROTO_TCP:
		tcp_input(st, &rx);
		break;
	case WIRE_PROTO_ICMP:
		icmp_echo(st, &ip);
		break;
	default:
		net_drop(st, SYNACK_DROP_IP_PROTO);
		break;
	}
}

bool net_source_for(const synack_stack *st, const synack_addr *dst, synack_addr *src)
{
	if (dst->family == SYNACK_AF_INET && st->cfg.addr.family == SYNACK_AF_INET) {
		*src = st->cfg.addr;
		return true;
	}
	if (dst->family == SYNACK_AF_INET6 && st->cfg.addr6.family == SYNACK_AF_INET6) {
		*src = st->cfg.addr6;
		return true;
	}
	return false;
}

size_t net_l4_mtu(const synack_stack *st, const synack_addr *dst)
{
	return st->cfg.mtu - WIRE_IPV4_HDR;
}

uint8_t *net_l4_buffer(synack_stack *st, const synack_addr *dst) { return st->txbuf + WIRE_IPV4_HDR; }

int net_send(synack_stack *st, const synack_addr *src, const synack_addr *dst, uint8_t proto, size_t l4_len)
{
	/* RFC 791: Identification only matters for fragments; DF is set on TCP
	 * (path MTU discovery, RFC 1191), so a simple counter is enough. */
	size_t n = wire_ipv4_emit(st->txbuf, src, dst, proto, st->cfg.ttl, st->ip_id++,
				  proto == WIRE_PROTO_TCP, l4_len);
	int err = st->cfg.tx(st->cfg.tx_ctx, st->txbuf, n + l4_len);
	if (err < 0) {
		net_count(st, SYNACK_CNT_TX_ERRORS);
		return err;
	}
	net_count(st, SYNACK_CNT_IP_OUT);
	return 0;
}
