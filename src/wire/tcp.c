/* TCP header and option parse/emit (RFC 9293 §3.1, §3.2; RFC 7323; RFC 2018).
 *
 * Implementation notes. The option list is walked once, strictly inside the
 * data offset: EOL ends it, NOP is one byte, every other kind must have a
 * length byte >= 2 that stays inside the header (RFC 9293 §3.1, "Options";
 * RFC 1122 §4.2.2.5 asks to skip unknown options by their length). Known
 * options with a wrong length make the segment malformed, as Linux does for
 * its own receive path; a repeated option overwrites the earlier one. The
 * emitter writes the layout Linux uses, each piece 4-byte aligned, so the
 * list needs no trailing padding:
 *   MSS          02 04 mm mm
 *   SACKOK+TS    04 02 08 0a <tsval> <tsecr>   or  01 01 08 0a ... (TS only)
 *   SACKOK       01 01 04 02                   (without TS)
 *   WS           01 03 03 ws
 *   SACK         01 01 05 <2+8n> <blocks>      (blocks cut to what fits) */
#include <string.h>

#include "wire/wire.h"

/* Is olen the only valid length for this kind? Unknown kinds accept any. */
static bool opt_len_ok(uint8_t kind, uint8_t olen)
{
	switch (kind) {
	case WIRE_TCPOPT_MSS: /* RFC 9293 §3.2 */
		return olen == 4;
	case WIRE_TCPOPT_WSCALE: /* RFC 7323 §2.2 */
		return olen == 3;
	case WIRE_TCPOPT_SACK_OK: /* RFC 2018 §2 */
		return olen == 2;
	case WIRE_TCPOPT_TS: /* RFC 7323 §3.2 */
		return olen == 10;
	case WIRE_TCPOPT_SACK: /* RFC 2018 §3: 2 + 8n, n in 1..4 */
		return olen >= 10 && (olen - 2) % 8 == 0 && (olen - 2) / 8 <= WIRE_TCP_MAX_SACK;
	default:
		return true;
	}
}

/* Store one option whose length was validated; p points at its kind. */
static void opt_store(struct wire_tcp_opts *o, const uint8_t *p, uint8_t olen)
{
	switch (p[0]) {
	case WIRE_TCPOPT_MSS:
		o->has_mss = 1;
		o->mss = rd16(p + 2);
		break;
	case WIRE_TCPOPT_WSCALE:
		/* RFC 7323 §2.3: the receiver clamps values > 14; we only keep
		 * them non-negative (-1 means absent) by saturating at 127. */
		o->wscale = (int8_t)(p[2] > 127 ? 127 : p[2]);
		break;
	case WIRE_TCPOPT_SACK_OK:
		o->sack_ok = 1;
		break;
	case WIRE_TCPOPT_TS:
		o->has_ts = 1;
		o->ts_val = rd32(p + 2);
		o->ts_ecr = rd32(p + 6);
		break;
	case WIRE_TCPOPT_SACK:
		o->nsack = (uint8_t)((olen - 2) / 8);
		for (unsigned i = 0; i < o->nsack; i++) {
			o->sack[i][0] = rd32(p + 2 + 8 * i);
			o->sack[i][1] = rd32(p + 6 + 8 * i);
		}
		break;
	}
}

/* Walk the option bytes p[0..len). Returns 0 or SYNACK_DROP_TCP_OPTIONS. */
static int opts_parse(const uint8_t *p, size_t len, struct wire_tcp_opts *o)
{
	size_t i = 0;
	memset(o, 0, sizeof *o);
	o->wscale = -1;
	while (i < len) {
		uint8_t kind = p[i];
		if (kind == WIRE_TCPOPT_EOL)
			break;
		if (kind == WIRE_TCPOPT_NOP) {
			i++;
			continue;
		}
		if (len - i < 2)
			return SYNACK_DROP_TCP_OPTIONS; /* no room for the length byte */
		uint8_t olen = p[i + 1];
		if (olen < 2 || olen > len - i || !opt_len_ok(kind, olen))
			return SYNACK_DROP_TCP_OPTIONS;
		opt_store(o, p + i, olen);
		i += olen;
	}
	return 0;
}

/* RFC 9293 §3.1: fixed header, then options up to the data offset. */
int wire_tcp_parse(const uint8_t *buf, size_t len, struct wire_tcp *out)
{
	if (len < WIRE_TCP_HDR)
		return SYNACK_DROP_TCP_TRUNCATED;
	size_t hl = (size_t)(buf[12] >> 4) * 4;
	if (hl < WIRE_TCP_HDR || hl > len)
		return SYNACK_DROP_TCP_TRUNCATED;
	int drop = opts_parse(buf + WIRE_TCP_HDR, hl - WIRE_TCP_HDR, &out->opt);
	if (drop)
		return drop;
	out->sport = rd16(buf);
	out->dport = rd16(buf + 2);
	out->seq = rd32(buf + 4);
	out->ack = rd32(buf + 8);
	out->hdr_len = (uint8_t)hl;
	out->flags = buf[13];
	out->wnd = rd16(buf + 14);
	out->csum = rd16(buf + 16);
	out->urp = rd16(buf + 18);
	out->payload = buf + hl;
	out->payload_len = len - hl;
	return 0;
}

/* RFC 9293 §3.1: the checksum covers the pseudo header and the segment. */
bool wire_tcp_csum_ok(const synack_addr *src, const synack_addr *dst, const uint8_t *seg, size_t len)
{
	uint32_t s = wire_pseudo_sum(src, dst, WIRE_PROTO_TCP, (uint32_t)len);
	return wire_csum_finish(wire_csum_add(s, seg, len)) == 0;
}

static uint8_t *put4(uint8_t *p, uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	p[0] = a;
	p[1] = b;
	p[2] = c;
	p[3] = d;
	return p + 4;
}

/* RFC 2018 §3: as many blocks as fit in the room left (40 - used). */
static uint8_t *put_sack(uint8_t *p, const struct wire_tcp_opts *o, size_t used)
{
	size_t room = WIRE_TCP_MAX_OPTS - used;
	size_t n = o->nsack < WIRE_TCP_MAX_SACK ? o->nsack : WIRE_TCP_MAX_SACK;
	if (room < 4 + 8)
		return p;
	if (n > (room - 4) / 8)
		n = (room - 4) / 8;
	p = put4(p, WIRE_TCPOPT_NOP, WIRE_TCPOPT_NOP, WIRE_TCPOPT_SACK, (uint8_t)(2 + 8 * n));
	for (size_t i = 0; i < n; i++) {
		wr32(p, o->sack[i][0]);
		wr32(p + 4, o->sack[i][1]);
		p += 8;
	}
	return p;
}

size_t wire_tcp_opts_emit(uint8_t *buf, const struct wire_tcp_opts *o)
{
	uint8_t *p = buf;
	if (o->has_mss) /* RFC 9293 §3.7.1 */
		p = put4(p, WIRE_TCPOPT_MSS, 4, (uint8_t)(o->mss >> 8), (uint8_t)o->mss);
	if (o->has_ts) { /* RFC 7323 §3.2, sharing its padding with SACK-permitted */
		if (o->sack_ok)
			p = put4(p, WIRE_TCPOPT_SACK_OK, 2, WIRE_TCPOPT_TS, 10);
		else
			p = put4(p, WIRE_TCPOPT_NOP, WIRE_TCPOPT_NOP, WIRE_TCPOPT_TS, 10);
		wr32(p, o->ts_val);
		wr32(p + 4, o->ts_ecr);
		p += 8;
	} else if (o->sack_ok) { /* RFC 2018 §2 */
		p = put4(p, WIRE_TCPOPT_NOP, WIRE_TCPOPT_NOP, WIRE_TCPOPT_SACK_OK, 2);
	}
	if (o->wscale >= 0) /* RFC 7323 §2.2 */
		p = put4(p, WIRE_TCPOPT_NOP, WIRE_TCPOPT_WSCALE, 3, (uint8_t)o->wscale);
	if (o->nsack)
		p = put_sack(p, o, (size_t)(p - buf));
	return (size_t)(p - buf);
}

size_t wire_tcp_emit(uint8_t *buf, const struct wire_tcp *t)
{
	size_t hl = WIRE_TCP_HDR + wire_tcp_opts_emit(buf + WIRE_TCP_HDR, &t->opt);
	wr16(buf, t->sport);
	wr16(buf + 2, t->dport);
	wr32(buf + 4, t->seq);
	wr32(buf + 8, t->ack);
	buf[12] = (uint8_t)(hl / 4 << 4);
	buf[13] = t->flags;
	wr16(buf + 14, t->wnd);
	wr16(buf + 16, 0);
	wr16(buf + 18, t->urp);
	return hl;
}

void wire_tcp_set_csum(uint8_t *seg, size_t len, const synack_addr *src, const synack_addr *dst)
{
	wr16(seg + 16, 0);
	uint32_t s = wire_pseudo_sum(src, dst, WIRE_PROTO_TCP, (uint32_t)len);
	wr16(seg + 16, wire_csum_finish(wire_csum_add(s, seg, len)));
}
