/* The network layer's life: its half of the configuration, its state
 * (st->net), the table of upper protocols, frames in and timers. The
 * composition root (src/stack) calls these; nothing here knows which
 * protocols sit above. */
#include <errno.h>
#include <string.h>

#include "net/frag.h"
#include "net/net.h"
#include "wire/wire.h"

static bool mac_ok(const uint8_t *m)
{
	static const uint8_t zero[6];
	return !wire_mac_is_group(m) && memcmp(m, zero, 6) != 0;
}

/* The IPv4 half: no address at all, or a unicast address with its prefix
 * and an optional on-link gateway (RFC 1122 §3.3.1.1). */
static int v4_check(const synack_stack_config *cfg)
{
	if (cfg->addr.family == SYNACK_AF_NONE)
		return cfg->gateway.family == SYNACK_AF_NONE ? 0 : -EINVAL; /* a gateway without an address */
	uint32_t a = rd32(cfg->addr.bytes);
	if (cfg->addr.family != SYNACK_AF_INET || cfg->prefix_len > 32 || a == 0 || (a >> 28) == 0xe ||
	    a == 0xffffffffu)
		return -EINVAL; /* not a unicast IPv4 address */
	if (cfg->gateway.family == SYNACK_AF_NONE)
		return 0;
	if (cfg->gateway.family != SYNACK_AF_INET ||
	    !wire_addr_prefix_match(&cfg->gateway, &cfg->addr, cfg->prefix_len))
		return -EINVAL; /* RFC 1122 §3.3.1.1: the gateway must be on-link */
	return 0;
}

/* The IPv6 half: an optional global address with its prefix (RFC 4291
 * unicast, RFC 8200 §5 MTU of at least 1280) and gateway (link-local, as
 * routers advertise themselves, or inside our prefix). */
static int v6_check(const synack_stack_config *cfg)
{
	const synack_addr *a = &cfg->addr6, *g = &cfg->gateway6;
	if (a->family != SYNACK_AF_NONE &&
	    (a->family != SYNACK_AF_INET6 || cfg->prefix6_len > 128 || wire_ip6_is_multicast(a) ||
	     wire_ip6_is_unspecified(a) || wire_ip6_is_loopback(a) || cfg->mtu < WIRE_IPV6_MIN_MTU))
		return -EINVAL;
	if (g->family == SYNACK_AF_NONE)
		return 0;
	if (g->family != SYNACK_AF_INET6 || wire_ip6_is_multicast(g) || wire_ip6_is_unspecified(g))
		return -EINVAL;
	if (!wire_ip6_is_linklocal(g) &&
	    (a->family != SYNACK_AF_INET6 || !wire_addr_prefix_match(g, a, cfg->prefix6_len)))
		return -EINVAL; /* an off-link router cannot be the next hop */
	return 0;
}

int net_config_check(const synack_stack_config *cfg)
{
	if (cfg->addr.family == SYNACK_AF_NONE && cfg->addr6.family == SYNACK_AF_NONE)
		return -EAFNOSUPPORT; /* no address of any family */
	if (cfg->mtu < 68 || cfg->ttl == 0 || cfg->link > SYNACK_LINK_ETHERNET)
		return -EINVAL; /* RFC 791: every host takes 68-byte packets */
	if (cfg->link == SYNACK_LINK_ETHERNET && !mac_ok(cfg->mac))
		return -EINVAL; /* a group or all-zero MAC cannot be a station's */
	/* offloads: known bits, a function to take them and a raw IP link
	 * (the Ethernet path and its neighbour queue carry no metadata); TSO
	 * needs the checksum offload and room for at least one MTU */
	if ((cfg->offload & ~(uint32_t)(SYNACK_OFFLOAD_TX_CSUM | SYNACK_OFFLOAD_TSO)) ||
	    (cfg->offload && (!cfg->tx_meta || cfg->link != SYNACK_LINK_RAW_IP)))
		return -EINVAL;
	if ((cfg->offload & SYNACK_OFFLOAD_TSO) &&
	    (!(cfg->offload & SYNACK_OFFLOAD_TX_CSUM) || cfg->gso_max > 65535 ||
	     (cfg->gso_max && cfg->gso_max < cfg->mtu)))
		return -EINVAL;
	int err = v4_check(cfg);
	return err ? err : v6_check(cfg);
}

/* RFC 4291 §2.5.1, Appendix A: fe80::/64 with the modified EUI-64
 * interface identifier of the MAC on Ethernet; on a raw IP link (no MAC) a
 * random identifier (RFC 7217 spirit) from the stack's source. IPv6 is on
 * when an address is configured, and always on Ethernet links whose MTU
 * carries IPv6. */
static void link_local_init(synack_stack *st)
{
	const synack_stack_config *c = &st->cfg;
	uint8_t *b = st->net->ll6.bytes;
	bool eth = c->link == SYNACK_LINK_ETHERNET;
	if (!(eth && c->mtu >= WIRE_IPV6_MIN_MTU) && c->addr6.family != SYNACK_AF_INET6)
		return;
	st->net->ll6.family = SYNACK_AF_INET6;
	b[0] = 0xfe;
	b[1] = 0x80;
	if (eth) {
		const uint8_t *m = c->mac;
		const uint8_t iid[8] = {m[0] ^ 0x02, m[1], m[2], 0xff, 0xfe, m[3], m[4], m[5]};
		memcpy(b + 8, iid, 8);
		return;
	}
	c->rng.fill(c->rng.ctx, b + 8, 8);
	b[8] &= (uint8_t)~0x02; /* "local" scope identifier: u bit 0 */
	b[15] |= 1;		/* never all zero (the subnet-router anycast) */
}

int net_init(synack_stack *st)
{
	struct frag_limits lim;
	struct net *n = mem_alloc(&st->mem, sizeof *n);
	if (!n)
		return -ENOMEM;
	st->net = n;
	n->txbuf = mem_alloc(&st->mem, net_txbuf_size(st));
	n->icmp_tokens = 10;
	n->icmp_refill = st->now;
	frag_limits_default(&lim);
	link_local_init(st);
	if (!n->txbuf || neigh_init(st) < 0)
		return -ENOMEM;
	return frag_table_create(&st->mem, &lim, st->counters, &n->frag);
}

void net_fini(synack_stack *st)
{
	struct net *n = st->net;
	if (!n)
		return;
	neigh_fini(st);
	frag_table_destroy(n->frag);
	mem_free(&st->mem, n->txbuf, net_txbuf_size(st));
	mem_free(&st->mem, n, sizeof *n);
	st->net = NULL;
}

int net_proto_add(synack_stack *st, const struct net_proto *p)
{
	struct net *n = st->net;
	if (net_proto_find(st, p->proto))
		return -EEXIST;
	if (n->nproto == NET_PROTO_MAX)
		return -ENOSPC;
	n->proto[n->nproto++] = p;
	return 0;
}

const struct net_proto *net_proto_find(const synack_stack *st, uint8_t proto)
{
	const struct net *n = st->net;
	for (uint32_t i = 0; i < n->nproto; i++)
		if (n->proto[i]->proto == proto)
			return n->proto[i];
	return NULL;
}

void net_start(synack_stack *st)
{
	/* RFC 5227 §3: announce our IPv4 address (this may transmit) */
	if (net_is_ethernet(st) && st->cfg.addr.family == SYNACK_AF_INET)
		arp_announce(st);
}

/* A raw IP link: the version nibble picks the family. */
static void ip_input(synack_stack *st, const uint8_t *frame, size_t len)
{
	stack_count(st, SYNACK_CNT_IP_IN);
	if (len < 1) {
		stack_drop(st, SYNACK_DROP_IP_TRUNCATED);
		return;
	}
	switch (frame[0] >> 4) {
	case 4:
		ipv4_input(st, frame, len, false);
		break;
	case 6:
		ipv6_input(st, frame, len, false);
		break;
	default:
		stack_drop(st, SYNACK_DROP_IP_VERSION);
		break;
	}
}

void net_input(synack_stack *st, const uint8_t *frame, size_t len, uint32_t flags)
{
	stack_count(st, SYNACK_CNT_LINK_IN);
	st->net->rx_csum_ok = (flags & SYNACK_RX_CSUM_OK) != 0;
	if (net_is_ethernet(st))
		eth_input(st, frame, len);
	else
		ip_input(st, frame, len);
	st->net->rx_csum_ok = false;
}

/* Network timers: the neighbour cache, then reassembly deadlines. */
void net_poll(synack_stack *st)
{
	struct frag_done d;
	neigh_poll(st);
	if (!st->net->frag)
		return;
	while (frag_expire(st->net->frag, st->now, &d) == 1)
		if (d.key.family == SYNACK_AF_INET6) /* (IPv4: RFC 1122 §3.3.2 leaves it optional) */
			icmp6_reassembly_timeout(st, &d);
}

synack_time_t net_next_deadline(const synack_stack *st)
{
	synack_time_t t = neigh_next_deadline(st);
	synack_time_t f = st->net->frag ? frag_next_deadline(st->net->frag) : SYNACK_TIME_NEVER;
	return f < t ? f : t;
}
