/* Neighbor Discovery (RFC 4861) for a host on an Ethernet link: Neighbor
 * Solicitations answered for our addresses (§7.2.3, §7.2.4), Neighbor
 * Advertisements fed to the neighbour cache (§7.2.5), and the
 * solicitations the cache asks for (§7.2.2, §7.3.3). Router discovery,
 * redirects and Duplicate Address Detection (RFC 4862 §5.4) are not done:
 * addresses and the default router are configured; a DAD probe from
 * another node for one of our addresses is answered as §7.2.4 says. */
#include <string.h>

#include "net/net.h"
#include "wire/wire.h"

/* Build the IPv6 header in front of an ND message already at txbuf's L4
 * position and send it to mac (hop limit 255, RFC 4861 §7.1). */
static void nd_tx(synack_stack *st, const synack_addr *src, const synack_addr *dst, const uint8_t *mac,
		  const struct bbuf *l4)
{
	struct bbuf ip = bbuf_make(st->net->txbuf + NET_HEADROOM, WIRE_IPV6_HDR);
	wire_ipv6_emit(&ip, src, dst, WIRE_PROTO_ICMPV6, 255, l4->len);
	if (!bbuf_ok(&ip) || !bbuf_ok(l4)) {
		net_tx_overflow(st);
		return;
	}
	int err;
	if (mac)
		err = net_eth_tx(st, st->net->txbuf, mac, WIRE_ETH_IPV6, WIRE_IPV6_HDR + l4->len);
	else /* unicast to a neighbour: through the cache, never through a router */
		err = neigh_output(st, dst, st->net->txbuf, WIRE_IPV6_HDR + l4->len);
	if (!err)
		stack_count(st, SYNACK_CNT_ND_OUT);
}

/* RFC 4861 §7.2.2: to the solicited-node group (resolution) or to the
 * neighbour itself (NUD probe), from the address that fits the target,
 * always with our link-layer address. */
void nd_solicit(synack_stack *st, const synack_addr *target, const uint8_t *mac)
{
	synack_addr src, dst = *target;
	uint8_t group[6];
	if (!net_source_for(st, target, &src))
		src = st->net->ll6;
	if (!mac) {
		wire_ip6_solicited_node(&dst, target);
		wire_eth_ipv6_mcast(group, &dst);
		mac = group;
	}
	struct bbuf l4 = net_l4_buffer(st, &dst);
	wire_nd_emit(&l4, &src, &dst, WIRE_ND_NS, 0, target, st->cfg.mac);
	nd_tx(st, &src, &dst, mac, &l4);
}

/* RFC 4861 §7.2.4: a solicited advertisement from the target address,
 * Override set, our link-layer address included; to all-nodes with S
 * clear when the solicitation came from the unspecified address. */
static void advertise(synack_stack *st, const synack_addr *target, const synack_addr *to)
{
	synack_addr dst;
	uint8_t group[6], flags = WIRE_NA_OVERRIDE;
	const uint8_t *mac = NULL;
	if (wire_ip6_is_unspecified(to)) {
		wire_ip6_all_nodes(&dst);
		wire_eth_ipv6_mcast(group, &dst);
		mac = group;
	} else {
		dst = *to;
		flags |= WIRE_NA_SOLICITED;
	}
	struct bbuf l4 = net_l4_buffer(st, &dst);
	wire_nd_emit(&l4, target, &dst, WIRE_ND_NA, flags, target, st->cfg.mac);
	nd_tx(st, target, &dst, mac, &l4);
}

static void solicitation(synack_stack *st, const struct wire_ipv6 *ip, const struct wire_nd *nd)
{
	bool dad = wire_ip6_is_unspecified(&ip->src);
	synack_addr group;
	wire_ip6_solicited_node(&group, &nd->target);
	/* RFC 4861 §7.1.1: from ::, only to the solicited-node group and
	 * without a source link-layer option */
	if (dad && (!synack_addr_equal(&ip->dst, &group) || nd->has_lla)) {
		stack_drop(st, SYNACK_DROP_ND_INVALID);
		return;
	}
	if (!net_is_local(st, &nd->target)) {
		stack_drop(st, SYNACK_DROP_ND_NOT_FOR_US);
		return;
	}
	stack_count(st, SYNACK_CNT_ND_IN);
	if (nd->has_lla) /* §7.2.3: create or update the solicitor's entry */
		neigh_learn(st, &ip->src, nd->lla, true);
	advertise(st, &nd->target, &ip->src);
}

static void advertisement(synack_stack *st, const struct wire_ipv6 *ip, const struct wire_nd *nd)
{
	bool solicited = nd->flags & WIRE_NA_SOLICITED;
	if (solicited && wire_ip6_is_multicast(&ip->dst)) { /* §7.1.2 */
		stack_drop(st, SYNACK_DROP_ND_INVALID);
		return;
	}
	/* §7.2.5: no entry, nothing to do; an advertisement for one of our
	 * own addresses would be a duplicate (no DAD here: ignored) */
	if (net_is_local(st, &nd->target) || !neigh_advert(st, &nd->target, nd->has_lla ? nd->lla : NULL,
							   solicited, nd->flags & WIRE_NA_OVERRIDE)) {
		stack_drop(st, SYNACK_DROP_ND_NOT_FOR_US);
		return;
	}
	stack_count(st, SYNACK_CNT_ND_IN);
}

void nd_input(synack_stack *st, const struct wire_ipv6 *ip, const struct wire_icmp *ic)
{
	struct wire_nd nd;
	if (!net_is_ethernet(st)) {
		stack_drop(st, SYNACK_DROP_ND_IGNORED); /* no link-layer addresses to resolve */
		return;
	}
	int drop = ip->hop_limit != 255 ? SYNACK_DROP_ND_INVALID : wire_nd_parse(ic, &nd); /* §7.1 */
	if (drop) {
		stack_drop(st, (enum synack_counter)drop);
		return;
	}
	if (ic->type == WIRE_ND_NS)
		solicitation(st, ip, &nd);
	else
		advertisement(st, ip, &nd);
}
