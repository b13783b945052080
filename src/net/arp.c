/* ARP (RFC 826) for our IPv4 address on an Ethernet link: requests
 * answered, the sender learnt by the packet reception algorithm's merge
 * rule, our own requests for the neighbour cache, and the announcement
 * sent at creation (RFC 5227 §3). */
#include <string.h>

#include "net/net.h"
#include "wire/wire.h"

static const uint8_t broadcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static void arp_tx(synack_stack *st, const struct wire_arp *a, const uint8_t *dst_mac)
{
	struct bbuf b = bbuf_make(st->net->txbuf + NET_HEADROOM, st->cfg.mtu);
	if (!wire_arp_emit(&b, a)) {
		net_tx_overflow(st);
		return;
	}
	if (net_eth_tx(st, st->net->txbuf, dst_mac, WIRE_ETH_ARP, b.len) == 0)
		stack_count(st, SYNACK_CNT_ARP_OUT);
}

void arp_solicit(synack_stack *st, const synack_addr *target, const uint8_t *mac)
{
	struct wire_arp a = {.op = WIRE_ARP_REQUEST, .spa = st->cfg.addr, .tpa = *target};
	memcpy(a.sha, st->cfg.mac, 6);
	arp_tx(st, &a, mac ? mac : broadcast);
}

/* RFC 5227 §3: an ARP Announcement is a request whose sender and target
 * protocol addresses are both ours, broadcast. */
void arp_announce(synack_stack *st)
{
	arp_solicit(st, &st->cfg.addr, NULL);
}

static bool bad_sender(const struct wire_arp *a)
{
	const uint8_t *b = a->spa.bytes;
	return wire_mac_is_group(a->sha) || (b[0] & 0xf0) == 0xe0 || rd32(b) == 0xffffffffu;
}

/* RFC 826 "Packet Reception": merge the sender into an existing entry;
 * if we are the target, add it when new, and answer a request. A sender
 * of 0.0.0.0 is a probe (RFC 5227 §2.1.1): answered, never learnt. */
void arp_input(synack_stack *st, const uint8_t *pkt, size_t len)
{
	struct wire_arp a;
	int drop = wire_arp_parse(pkt, len, &a);
	if (!drop && bad_sender(&a))
		drop = SYNACK_DROP_ARP_BAD_SOURCE;
	if (drop) {
		stack_drop(st, (enum synack_counter)drop);
		return;
	}
	bool for_us = st->cfg.addr.family == SYNACK_AF_INET && synack_addr_equal(&a.tpa, &st->cfg.addr);
	bool learn = rd32(a.spa.bytes) != 0 && !net_is_local(st, &a.spa);
	bool merged = false;
	if (learn && for_us && a.op == WIRE_ARP_REPLY) /* the answer to our request */
		merged = neigh_advert(st, &a.spa, a.sha, true, true);
	if (learn && !merged)
		merged = neigh_learn(st, &a.spa, a.sha, for_us);
	if (!for_us) {
		if (merged)
			stack_count(st, SYNACK_CNT_ARP_IN);
		else
			stack_drop(st, SYNACK_DROP_ARP_NOT_FOR_US);
		return;
	}
	stack_count(st, SYNACK_CNT_ARP_IN);
	if (a.op != WIRE_ARP_REQUEST)
		return;
	struct wire_arp r = {.op = WIRE_ARP_REPLY, .spa = st->cfg.addr, .tpa = a.spa};
	memcpy(r.sha, st->cfg.mac, 6);
	memcpy(r.tha, a.sha, 6);
	arp_tx(st, &r, a.sha);
}
