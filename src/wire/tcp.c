/* TCP header and option parse/emit (RFC 9293 §3.1, §3.2; RFC 7323; RFC 2018).
 *
 * Implementation notes. The option list is walked once, strictly inside the
 * data offset: EOL ends it, NOP is one byte, every other kind must have a
 * length byte >= 2 that stays inside the header (RFC 9293 §3.1, "Options";
 * RFC 1122 §4.2.2.5 asks to skip unknown options by their length). Known
 * options with a wrong length make the segment malformed, as Linux does for
 * its own receive path; a repeated option overwrites the earlier one. The
 * emitter writes the layout Linux uses, each piece 4-byte aligned, so the
 * list needs no trailing padding, through a bounded builder: the options
 * that must go out are written whole or not at all, SACK blocks only as
 * many as fit in the room the caller leaves:
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

static void put4(struct bbuf *b, uint8_t a, uint8_t c, uint8_t d, uint8_t e)
{
	uint8_t *q = bbuf_reserve(b, 4);
	if (!q)
		return;
	q[0] = a;
	q[1] = c;
	q[2] = d;
	q[3] = e;
}

/* RFC 2018 §3: as many blocks as fit in `room` bytes (none if not one);
 * o->nsack becomes the number written. */
static void put_sack(struct bbuf *b, struct wire_tcp_opts *o, size_t room)
{
	size_t n = o->nsack < WIRE_TCP_MAX_SACK ? o->nsack : WIRE_TCP_MAX_SACK;
	if (n > (room < 4 ? 0 : (room - 4) / 8))
		n = room < 4 ? 0 : (room - 4) / 8;
	o->nsack = (uint8_t)n;
	if (n == 0)
		return;
	put4(b, WIRE_TCPOPT_NOP, WIRE_TCPOPT_NOP, WIRE_TCPOPT_SACK, (uint8_t)(2 + 8 * n));
	for (size_t i = 0; i < n; i++) {
		bbuf_u32(b, o->sack[i][0]);
		bbuf_u32(b, o->sack[i][1]);
	}
}

/* The options every segment of this kind must carry (all but SACK). */
static void put_fixed(struct bbuf *b, const struct wire_tcp_opts *o)
{
	if (o->has_mss) /* RFC 9293 §3.7.1 */
		put4(b, WIRE_TCPOPT_MSS, 4, (uint8_t)(o->mss >> 8), (uint8_t)o->mss);
	if (o->has_ts) { /* RFC 7323 §3.2, sharing its padding with SACK-permitted */
		if (o->sack_ok)
			put4(b, WIRE_TCPOPT_SACK_OK, 2, WIRE_TCPOPT_TS, 10);
		else
			put4(b, WIRE_TCPOPT_NOP, WIRE_TCPOPT_NOP, WIRE_TCPOPT_TS, 10);
		bbuf_u32(b, o->ts_val);
		bbuf_u32(b, o->ts_ecr);
	} else if (o->sack_ok) { /* RFC 2018 §2 */
		put4(b, WIRE_TCPOPT_NOP, WIRE_TCPOPT_NOP, WIRE_TCPOPT_SACK_OK, 2);
	}
	if (o->wscale >= 0) /* RFC 7323 §2.2 */
		put4(b, WIRE_TCPOPT_NOP, WIRE_TCPOPT_WSCALE, 3, (uint8_t)o->wscale);
}

size_t wire_tcp_opts_emit(struct bbuf *b, struct wire_tcp_opts *o, size_t room)
{
	/* built aside first: options that do not fit write nothing at all */
	uint8_t tmp[WIRE_TCP_MAX_OPTS];
	struct bbuf w = bbuf_make(tmp, room < sizeof tmp ? room : sizeof tmp);
	put_fixed(&w, o);
	if (o->nsack && bbuf_ok(&w))
		put_sack(&w, o, w.cap - w.len);
	if (!bbuf_ok(&w)) {
		b->overflow = true; /* the options this segment needs do not fit */
		return 0;
	}
	bbuf_put(b, tmp, w.len);
	return bbuf_ok(b) ? w.len : 0;
}

size_t wire_tcp_opts_len(const struct wire_tcp_opts *o)
{
	uint8_t tmp[WIRE_TCP_MAX_OPTS];
	struct bbuf w = bbuf_make(tmp, sizeof tmp);
	struct wire_tcp_opts copy = *o;
	return wire_tcp_opts_emit(&w, &copy, sizeof tmp);
}

size_t wire_tcp_emit(struct bbuf *b, struct wire_tcp *t, size_t payload_len)
{
	size_t room = bbuf_room(b);
	if (payload_len > room || room - payload_len < WIRE_TCP_HDR) { /* no wrap-around */
		b->overflow = true;
		return 0;
	}
	size_t start = b->len;
	struct bbuf w = bbuf_sub(b, WIRE_TCP_HDR);
	size_t ol = wire_tcp_opts_emit(b, &t->opt, room - WIRE_TCP_HDR - payload_len);
	if (!bbuf_ok(b)) {
		b->len = start; /* the options did not fit: take nothing */
		return 0;
	}
	size_t hl = WIRE_TCP_HDR + ol;
	t->hdr_len = (uint8_t)hl;
	bbuf_u16(&w, t->sport);
	bbuf_u16(&w, t->dport);
	bbuf_u32(&w, t->seq);
	bbuf_u32(&w, t->ack);
	bbuf_u8(&w, (uint8_t)(hl / 4 << 4));
	bbuf_u8(&w, t->flags);
	bbuf_u16(&w, t->wnd);
	bbuf_u16(&w, 0); /* checksum: wire_tcp_set_csum once the data is in */
	bbuf_u16(&w, t->urp);
	return hl;
}

void wire_tcp_set_partial_csum(uint8_t *seg, size_t len, const synack_addr *src, const synack_addr *dst)
{
	uint32_t s = wire_pseudo_sum(src, dst, WIRE_PROTO_TCP, (uint32_t)len);
	wr16(seg + 16, (uint16_t)~wire_csum_finish(s));
}

void wire_tcp_set_csum(uint8_t *seg, size_t len, const synack_addr *src, const synack_addr *dst)
{
	wr16(seg + 16, 0);
	uint32_t s = wire_pseudo_sum(src, dst, WIRE_PROTO_TCP, (uint32_t)len);
	wr16(seg + 16, wire_csum_finish(wire_csum_add(s, seg, len)));
}
