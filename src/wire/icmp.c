/* ICMPv4 header parse and emit (RFC 792). */
#include <string.h>

#include "wire/wire.h"

enum { ICMP_HDR = 8 };

/* RFC 792: the checksum covers the whole ICMP message. */
int wire_icmp_parse(const uint8_t *buf, size_t len, struct wire_icmp *out)
{
	if (len < ICMP_HDR)
		return SYNACK_DROP_ICMP_TRUNCATED;
	if (wire_csum_finish(wire_csum_add(0, buf, len)) != 0)
		return SYNACK_DROP_ICMP_CHECKSUM;
	out->type = buf[0];
	out->code = buf[1];
	memcpy(out->rest, buf + 4, 4);
	out->body = buf + ICMP_HDR;
	out->body_len = len - ICMP_HDR;
	return 0;
}

size_t wire_icmp_emit(uint8_t *buf, uint8_t type, uint8_t code, const uint8_t rest[4], const uint8_t *body,
		      size_t body_len)
{
	uint8_t r[4];
	memcpy(r, rest, 4); /* rest may point into buf too */
	if (body_len)
		memmove(buf + ICMP_HDR, body, body_len); /* body may alias buf + 8 */
	buf[0] = type;
	buf[1] = code;
	wr16(buf + 2, 0);
	memcpy(buf + 4, r, 4);
	wr16(buf + 2, wire_csum_finish(wire_csum_add(0, buf, ICMP_HDR + body_len)));
	return ICMP_HDR + body_len;
}
