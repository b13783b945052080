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

size_t wire_icmp_emit(struct bbuf *b, uint8_t type, uint8_t code, const uint8_t rest[4], const uint8_t *body,
		      size_t body_len)
{
	uint8_t r[4];
	memcpy(r, rest, 4); /* rest may point into the buffer too */
	uint8_t *m = body_len <= SIZE_MAX - ICMP_HDR ? bbuf_reserve(b, ICMP_HDR + body_len) : NULL;
	if (!m) {
		b->overflow = true;
		return 0;
	}
	if (body_len)
		memmove(m + ICMP_HDR, body, body_len); /* body may alias that space */
	struct bbuf h = bbuf_make(m, ICMP_HDR);	       /* m holds header and body: taken whole */
	bbuf_u8(&h, type);
	bbuf_u8(&h, code);
	bbuf_u16(&h, 0);
	bbuf_put(&h, r, 4);
	wr16(m + 2, wire_csum_finish(wire_csum_add(0, m, ICMP_HDR + body_len)));
	return ICMP_HDR + body_len;
}
