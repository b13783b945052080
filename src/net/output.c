/* Output: source selection, the IP header, the route to the next hop and
 * the link header. net_send() is the only way a packet leaves:
 *
 *   txbuf: [NET_HEADROOM: Ethernet header][IP header][L4 message]
 *
 * TCP and ICMP write their message at net_l4_buffer(); net_send() writes
 * the IP header in front of it and, on Ethernet, the link header in front
 * of that, so nothing is copied unless the next hop must be resolved first
 * (then neigh.c keeps a copy). */
#include <errno.h>
#include <string.h>

#include "net/net.h"
#include "wire/wire.h"

bool net_is_local(const synack_stack *st, const synack_addr *a)
{
	if (a->family == SYNACK_AF_INET6)
		return addr_eq(a, &st->cfg.addr6) || addr_eq(a, &st->net->ll6);
	return a->family == SYNACK_AF_INET && addr_eq(a, &st->cfg.addr);
}

/* RFC 6724 §5 reduced to what one interface with one global and one
 * link-local address needs: rule 2 (appropriate scope) picks the
 * link-local address for link-local and link-scope multicast
 * destinations, the global one for everything else. */
bool net_source_for(const synack_stack *st, const synack_addr *dst, synack_addr *src)
{
	if (dst->family == SYNACK_AF_INET && st->cfg.addr.family == SYNACK_AF_INET) {
		*src = st->cfg.addr;
		return true;
	}
	if (dst->family != SYNACK_AF_INET6)
		return false;
	bool link_scope =
	    wire_ip6_is_linklocal(dst) || (wire_ip6_is_multicast(dst) && (dst->bytes[1] & 0x0f) <= 2);
	if (link_scope && st->net->ll6.family == SYNACK_AF_INET6) {
		*src = st->net->ll6;
		return true;
	}
	if (st->cfg.addr6.family == SYNACK_AF_INET6) {
		*src = st->cfg.addr6;
		return true;
	}
	return false;
}

/* A message that did not fit its frame: never sent, always counted, and
 * fatal in debug and test builds, where it can only mean a bug. */
int net_tx_overflow(synack_stack *st)
{
	stack_drop(st, SYNACK_DROP_TX_OVERFLOW);
	SYNACK_DEBUG_FAIL("a frame did not fit the frame buffer");
	return -EMSGSIZE;
}

/* The one way to the link: the packet at frame[0..len), with the data
 * pieces of o after it (tx_iov), or offloaded work m (tx_meta), or plain
 * (tx). A refusal is counted. */
static int link_out(synack_stack *st, const uint8_t *frame, size_t len, const synack_tx_meta *m,
		    const struct net_ip_opts *o)
{
	const synack_stack_config *c = &st->cfg;
	int err;
	if (o && o->ndata) {
		synack_iov v[3] = {{frame, len}};
		int n = 1;
		for (int i = 0; i < o->ndata && n < 3; i++)
			v[n++] = o->data[i];
		err = c->tx_iov(c->tx_ctx, v, n, m);
	} else {
		err = m ? c->tx_meta(c->tx_ctx, frame, len, m) : c->tx(c->tx_ctx, frame, len);
	}
	if (err < 0)
		stack_count(st, SYNACK_CNT_TX_ERRORS);
	return err < 0 ? err : 0;
}

int net_link_tx(synack_stack *st, const uint8_t *frame, size_t len)
{
	return link_out(st, frame, len, NULL, NULL);
}

int net_eth_tx(synack_stack *st, uint8_t *frame, const uint8_t *dst_mac, uint16_t type, size_t payload_len)
{
	struct bbuf b = bbuf_make(frame, WIRE_ETH_HDR);
	if (!wire_eth_emit(&b, dst_mac, st->cfg.mac, type))
		return net_tx_overflow(st);
	int err = net_link_tx(st, frame, WIRE_ETH_HDR + payload_len);
	if (!err && type != WIRE_ETH_ARP)
		stack_count(st, SYNACK_CNT_IP_OUT);
	return err;
}

/* Group destinations map to a group MAC without resolution: IPv6
 * multicast (RFC 2464 §7), IPv4 multicast (RFC 1112 §6.4), broadcast. */
static bool group_mac(const synack_stack *st, const synack_addr *dst, uint8_t mac[6])
{
	if (dst->family == SYNACK_AF_INET6) {
		if (!wire_ip6_is_multicast(dst))
			return false;
		wire_eth_ipv6_mcast(mac, dst);
		return true;
	}
	const uint8_t *b = dst->bytes;
	if ((b[0] & 0xf0) == 0xe0) {
		const uint8_t m[6] = {0x01, 0x00, 0x5e, b[1] & 0x7f, b[2], b[3]};
		memcpy(mac, m, 6);
		return true;
	}
	if (rd32(b) == 0xffffffffu) {
		memset(mac, 0xff, 6);
		return true;
	}
	return false;
}

/* The next hop: the destination itself when on-link (link-local, or inside
 * our prefix), else the gateway of its family (RFC 1122 §3.3.1.1, RFC 4861
 * §5.2 with the default router configured instead of learned). */
static bool next_hop(const synack_stack *st, const synack_addr *dst, synack_addr *nh)
{
	const synack_stack_config *c = &st->cfg;
	bool v6 = dst->family == SYNACK_AF_INET6;
	const synack_addr *own = v6 ? &c->addr6 : &c->addr;
	const synack_addr *gw = v6 ? &c->gateway6 : &c->gateway;
	if ((v6 && wire_ip6_is_linklocal(dst)) ||
	    (own->family == dst->family &&
	     wire_addr_prefix_match(own, dst, v6 ? c->prefix6_len : c->prefix_len))) {
		*nh = *dst;
		return true;
	}
	if (gw->family != dst->family)
		return false;
	*nh = *gw;
	return true;
}

/* Send the IP packet at buf + NET_HEADROOM (ip_len bytes, and o's data
 * pieces after them) towards dst; m: work offloaded to the link (raw IP
 * links only), or NULL. */
static int ip_output(synack_stack *st, const synack_addr *dst, uint8_t *buf, size_t ip_len,
		     const synack_tx_meta *m, const struct net_ip_opts *o)
{
	if (!net_is_ethernet(st)) {
		int err = link_out(st, buf + NET_HEADROOM, ip_len, m, o);
		if (!err)
			stack_count(st, SYNACK_CNT_IP_OUT);
		return err;
	}
	uint8_t mac[6];
	uint16_t type = dst->family == SYNACK_AF_INET6 ? WIRE_ETH_IPV6 : WIRE_ETH_IPV4;
	if (group_mac(st, dst, mac))
		return net_eth_tx(st, buf, mac, type, ip_len);
	synack_addr nh;
	if (!next_hop(st, dst, &nh)) {
		stack_drop(st, SYNACK_DROP_NO_ROUTE);
		return -ENETUNREACH;
	}
	return neigh_output(st, &nh, buf, ip_len);
}

/* The TOS octet (RFC 791, RFC 2474) of the IPv4 header at ip, with its
 * checksum redone, or the Traffic Class of the IPv6 header (RFC 8200 §7). */
static void set_tos(uint8_t *ip, bool v6, uint8_t tos)
{
	if (v6) {
		ip[0] = (uint8_t)((ip[0] & 0xf0) | tos >> 4);
		ip[1] = (uint8_t)((ip[1] & 0x0f) | (tos & 0x0f) << 4);
		return;
	}
	ip[1] = tos;
	ip[10] = ip[11] = 0;
	wr16(ip + 10, wire_csum_finish(wire_csum_words(ip, WIRE_IPV4_HDR / 4)));
}

int net_send_opts(synack_stack *st, const synack_addr *src, const synack_addr *dst, uint8_t proto,
		  const struct net_ip_opts *o, const struct bbuf *l4)
{
	/* only a whole message, built where net_l4_buffer() said */
	struct bbuf b = bbuf_make(st->net->txbuf + NET_HEADROOM, net_ip_hdr(dst));
	uint8_t ttl = o && o->ttl ? o->ttl : st->cfg.ttl;
	bool v6 = dst->family == SYNACK_AF_INET6;
	bool gso = o && o->gso_size;
	size_t l4_len = l4->len + (o && o->ndata ? o->data_len : 0);
	if (o && o->ndata && (!o->csum_partial || !st->cfg.tx_iov || net_is_ethernet(st)))
		return net_tx_overflow(st); /* pieces only to a link that takes them */
	if (!bbuf_ok(l4) || l4->p != b.p + b.cap ||
	    l4_len > (gso ? net_l4_gso_max(st, dst) : net_l4_mtu(st, dst)))
		return net_tx_overflow(st);
	if (v6) /* RFC 8200 §3: Hop Limit from the configured default */
		wire_ipv6_emit(&b, src, dst, proto, ttl, l4_len);
	else /* RFC 791: Identification only matters for fragments; DF is set
	      * on TCP (path MTU discovery, RFC 1191), so a counter is enough. */
		wire_ipv4_emit(&b, src, dst, proto, ttl, st->net->ip_id++,
			       proto == WIRE_PROTO_TCP ? WIRE_IPV4_DF : 0, l4_len);
	if (!bbuf_ok(&b))
		return net_tx_overflow(st);
	if (o && (o->tos || o->ecn))
		set_tos(b.p, v6, (uint8_t)((o->tos & 0xfc) | (o->ecn & 3)));
	synack_tx_meta m = {0};
	if (o && o->csum_partial) /* the transport header follows ours; TCP's checksum is at 16 */
		m = (synack_tx_meta){
		    .gso_size = o->gso_size, .csum_start = (uint16_t)b.len, .csum_offset = 16};
	return ip_output(st, dst, st->net->txbuf, b.len + l4->len, m.csum_start ? &m : NULL, o);
}

int net_send_ttl(synack_stack *st, const synack_addr *src, const synack_addr *dst, uint8_t proto, uint8_t ttl,
		 const struct bbuf *l4)
{
	return net_send_opts(st, src, dst, proto, &(struct net_ip_opts){.ttl = ttl}, l4);
}

int net_send(synack_stack *st, const synack_addr *src, const synack_addr *dst, uint8_t proto,
	     const struct bbuf *l4)
{
	return net_send_opts(st, src, dst, proto, NULL, l4);
}

/* RFC 4443 §2.4 (f): a token bucket, ICMP_ERR_RATE errors a second with
 * bursts of ICMP_ERR_BURST. Applied to every ICMP error this stack sends. */
enum { ICMP_ERR_BURST = 10 };
#define ICMP_ERR_INTERVAL SYNACK_MSEC(100)

bool net_icmp_rate_ok(synack_stack *st)
{
	if (st->now - st->net->icmp_refill >= ICMP_ERR_INTERVAL) {
		synack_time_t n = (st->now - st->net->icmp_refill) / ICMP_ERR_INTERVAL;
		st->net->icmp_tokens = (uint32_t)MIN((synack_time_t)ICMP_ERR_BURST, st->net->icmp_tokens + n);
		st->net->icmp_refill += n * ICMP_ERR_INTERVAL;
	}
	if (!st->net->icmp_tokens) {
		stack_count(st, SYNACK_CNT_ICMP_RATE_LIMITED);
		return false;
	}
	st->net->icmp_tokens--;
	return true;
}

/* Append bytes [off, off + n) of the message hdr|body. */
static void copy_span(struct bbuf *b, size_t off, size_t n, const uint8_t *hdr, size_t hlen,
		      const uint8_t *body)
{
	if (off < hlen) {
		size_t k = MIN(n, hlen - off);
		bbuf_put(b, hdr + off, k);
		n -= k;
		off += k;
	}
	if (n)
		bbuf_put(b, body + (off - hlen), n);
}

/* One fragment: bytes [off, off + n) of the message, more to follow or
 * not. RFC 791 §3.2 (offset in the IPv4 header) / RFC 8200 §4.5 (a
 * Fragment header after the IPv6 header). */
static int send_fragment(synack_stack *st, const synack_addr *src, const synack_addr *dst, uint8_t proto,
			 const uint8_t *hdr, size_t hlen, const uint8_t *body, size_t off, size_t n,
			 bool more, uint32_t id)
{
	struct bbuf b = bbuf_make(st->net->txbuf + NET_HEADROOM, st->cfg.mtu);
	if (dst->family == SYNACK_AF_INET6) {
		wire_ipv6_emit(&b, src, dst, WIRE_PROTO_FRAGMENT, st->cfg.ttl, 8 + n);
		wire_ipv6_frag_emit(&b, proto, (uint16_t)(off / 8), more, id);
	} else {
		uint16_t frag = (uint16_t)((more ? WIRE_IPV4_MF : 0) | off / 8);
		wire_ipv4_emit(&b, src, dst, proto, st->cfg.ttl, (uint16_t)id, frag, n);
	}
	copy_span(&b, off, n, hdr, hlen, body);
	if (!bbuf_ok(&b))
		return net_tx_overflow(st);
	return ip_output(st, dst, st->net->txbuf, b.len, NULL, NULL);
}

int net_send_fragmented(synack_stack *st, const synack_addr *src, const synack_addr *dst, uint8_t proto,
			const uint8_t *hdr, size_t hlen, const uint8_t *body, size_t blen)
{
	bool v6 = dst->family == SYNACK_AF_INET6;
	size_t total = hlen + blen;
	size_t chunk = (st->cfg.mtu - (v6 ? WIRE_IPV6_HDR + 8 : WIRE_IPV4_HDR)) & ~(size_t)7;
	uint32_t id = v6 ? ++st->net->ip6_id : st->net->ip_id++;
	if (total > 65535 - (v6 ? 8 : WIRE_IPV4_HDR))
		return -EMSGSIZE;
	for (size_t off = 0; off < total; off += chunk) {
		size_t n = MIN(chunk, total - off);
		int err = send_fragment(st, src, dst, proto, hdr, hlen, body, off, n, off + n < total, id);
		if (err)
			return err;
	}
	return 0;
}
