/* IPv4 header parse and emit (RFC 791 §3.1). Options are not interpreted:
 * they are covered by the header checksum and skipped with the IHL. */
#include <string.h>

#include "wire/wire.h"

static void addr4(synack_addr *a, const uint8_t *p)
{
	memset(a, 0, sizeof *a);
	a->family = SYNACK_AF_INET;
	memcpy(a->bytes, p, 4);
}

/* RFC 791 §3.1 and RFC 1122 §3.2.1: version, IHL, total length and header
 * checksum are checked in that order; the first failure names the drop. */
int wire_ipv4_parse(const uint8_t *buf, size_t len, struct wire_ipv4 *out)
{
	if (len < WIRE_IPV4_HDR)
		return SYNACK_DROP_IP_TRUNCATED;
	if (buf[0] >> 4 != 4)
		return SYNACK_DROP_IP_VERSION;
	size_t hl = (size_t)(buf[0] & 0x0f) * 4;
	if (hl < WIRE_IPV4_HDR || hl > len)
		return SYNACK_DROP_IP_HDRLEN;
	uint16_t total = rd16(buf + 2);
	if (total < hl || total > len) /* bytes past total_len are link padding */
		return SYNACK_DROP_IP_LENGTH;
	if (wire_csum_finish(wire_csum_add(0, buf, hl)) != 0)
		return SYNACK_DROP_IP_CHECKSUM;
	out->hdr_len = (uint8_t)hl;
	out->tos = buf[1];
	out->total_len = total;
	out->id = rd16(buf + 4);
	out->frag = rd16(buf + 6);
	out->ttl = buf[8];
	out->proto = buf[9];
	addr4(&out->src, buf + 12);
	addr4(&out->dst, buf + 16);
	out->payload = buf + hl;
	out->payload_len = total - hl;
	return 0;
}

size_t wire_ipv4_emit(uint8_t *buf, const synack_addr *src, const synack_addr *dst, uint8_t proto,
		      uint8_t ttl, uint16_t id, bool df, size_t payload_len)
{
	buf[0] = 0x45; /* version 4, IHL 5: no options */
	buf[1] = 0;
	wr16(buf + 2, (uint16_t)(WIRE_IPV4_HDR + payload_len));
	wr16(buf + 4, id);
	wr16(buf + 6, df ? WIRE_IPV4_DF : 0);
	buf[8] = ttl;
	buf[9] = proto;
	wr16(buf + 10, 0);
	memcpy(buf + 12, src->bytes, 4);
	memcpy(buf + 16, dst->bytes, 4);
	wr16(buf + 10, wire_csum_finish(wire_csum_add(0, buf, WIRE_IPV4_HDR)));
	return WIRE_IPV4_HDR;
}

void wire_ipv4_set_frag(uint8_t *hdr, uint16_t frag)
{
	size_t hl = (size_t)(hdr[0] & 0x0f) * 4;
	wr16(hdr + 6, frag);
	wr16(hdr + 10, 0);
	wr16(hdr + 10, wire_csum_finish(wire_csum_add(0, hdr, hl)));
}
