/* Ethernet II framing (RFC 894) and ARP for IPv4 over Ethernet (RFC 826). */
#include <string.h>

#include "wire/wire.h"

int wire_eth_parse(const uint8_t *buf, size_t len, struct wire_eth *out)
{
	if (len < WIRE_ETH_HDR)
		return SYNACK_DROP_ETH_TRUNCATED;
	memcpy(out->dst, buf, WIRE_ETH_ALEN);
	memcpy(out->src, buf + 6, WIRE_ETH_ALEN);
	out->type = rd16(buf + 12);
	out->payload = buf + WIRE_ETH_HDR;
	out->payload_len = len - WIRE_ETH_HDR;
	return 0;
}

size_t wire_eth_emit(struct bbuf *b, const uint8_t dst[6], const uint8_t src[6], uint16_t type)
{
	struct bbuf h = bbuf_sub(b, WIRE_ETH_HDR);
	bbuf_put(&h, dst, WIRE_ETH_ALEN);
	bbuf_put(&h, src, WIRE_ETH_ALEN);
	bbuf_u16(&h, type);
	return bbuf_ok(&h) ? h.len : 0;
}

/* RFC 2464 §7: 33:33 and the low-order 32 bits of the group address. */
void wire_eth_ipv6_mcast(uint8_t mac[6], const synack_addr *group)
{
	mac[0] = 0x33;
	mac[1] = 0x33;
	memcpy(mac + 2, group->bytes + 12, 4);
}

enum { ARP_HTYPE_ETHER = 1 };

static void addr4(synack_addr *a, const uint8_t *p)
{
	memset(a, 0, sizeof *a);
	a->family = SYNACK_AF_INET;
	memcpy(a->bytes, p, 4);
}

/* RFC 826 "Packet format": ar$hrd, ar$pro, ar$hln, ar$pln, ar$op, then
 * sender hardware/protocol and target hardware/protocol addresses. */
int wire_arp_parse(const uint8_t *buf, size_t len, struct wire_arp *out)
{
	if (len < WIRE_ARP_LEN || rd16(buf) != ARP_HTYPE_ETHER || rd16(buf + 2) != WIRE_ETH_IPV4 ||
	    buf[4] != WIRE_ETH_ALEN || buf[5] != 4)
		return SYNACK_DROP_ARP_MALFORMED;
	out->op = rd16(buf + 6);
	if (out->op != WIRE_ARP_REQUEST && out->op != WIRE_ARP_REPLY)
		return SYNACK_DROP_ARP_MALFORMED;
	memcpy(out->sha, buf + 8, WIRE_ETH_ALEN);
	addr4(&out->spa, buf + 14);
	memcpy(out->tha, buf + 18, WIRE_ETH_ALEN);
	addr4(&out->tpa, buf + 24);
	return 0;
}

size_t wire_arp_emit(struct bbuf *b, const struct wire_arp *a)
{
	struct bbuf h = bbuf_sub(b, WIRE_ARP_LEN);
	bbuf_u16(&h, ARP_HTYPE_ETHER);
	bbuf_u16(&h, WIRE_ETH_IPV4);
	bbuf_u8(&h, WIRE_ETH_ALEN);
	bbuf_u8(&h, 4);
	bbuf_u16(&h, a->op);
	bbuf_put(&h, a->sha, WIRE_ETH_ALEN);
	bbuf_put(&h, a->spa.bytes, 4);
	bbuf_put(&h, a->tha, WIRE_ETH_ALEN);
	bbuf_put(&h, a->tpa.bytes, 4);
	return bbuf_ok(&h) ? h.len : 0;
}
