/* Ethernet II input (RFC 894): accept frames for our MAC, broadcast, and
 * the IPv6 multicast groups we joined (RFC 2464 §7), then demultiplex by
 * ethertype. */
#include <string.h>

#include "net/net.h"
#include "wire/wire.h"

static bool dst_ok(const synack_stack *st, const uint8_t *mac)
{
	static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	if (memcmp(mac, st->cfg.mac, 6) == 0 || memcmp(mac, bcast, 6) == 0)
		return true;
	if (mac[0] != 0x33 || mac[1] != 0x33)
		return false;
	/* RFC 2464 §7: the group's low 32 bits; compare with the groups we
	 * listen to (all-nodes and our solicited-node groups) */
	synack_addr g = {.family = SYNACK_AF_INET6};
	g.bytes[0] = 0xff;
	g.bytes[1] = 0x02;
	memcpy(g.bytes + 12, mac + 2, 4);
	if (mac[2] == 0xff)
		g.bytes[11] = 0x01;
	return net_ip6_joined(st, &g);
}

void eth_input(synack_stack *st, const uint8_t *frame, size_t len)
{
	struct wire_eth eh;
	int drop = wire_eth_parse(frame, len, &eh);
	if (!drop && !dst_ok(st, eh.dst))
		drop = SYNACK_DROP_ETH_NOT_FOR_US;
	/* a group source is invalid; our own source is our frame looped back */
	if (!drop && (wire_mac_is_group(eh.src) || memcmp(eh.src, st->cfg.mac, 6) == 0))
		drop = SYNACK_DROP_ETH_BAD_SOURCE;
	if (drop) {
		stack_drop(st, (enum synack_counter)drop);
		return;
	}
	bool group = wire_mac_is_group(eh.dst);
	switch (eh.type) {
	case WIRE_ETH_ARP:
		arp_input(st, eh.payload, eh.payload_len);
		break;
	case WIRE_ETH_IPV4:
		stack_count(st, SYNACK_CNT_IP_IN);
		ipv4_input(st, eh.payload, eh.payload_len, group);
		break;
	case WIRE_ETH_IPV6:
		stack_count(st, SYNACK_CNT_IP_IN);
		ipv6_input(st, eh.payload, eh.payload_len, group);
		break;
	default:
		stack_drop(st, SYNACK_DROP_ETH_TYPE);
		break;
	}
}
