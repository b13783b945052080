/* IPv4 header parse and emit (RFC 791 §3.1). Options are not interpreted,
 * but their list is validated (a malformed list drops the datagram, as
 * Linux's ip_options_compile does) and then skipped with the IHL. */
#include <string.h>

#include "wire/wire.h"

/* RFC 791 §3.1 option types: copied flag, class and number in one octet. */
enum {
	OPT_EOL = 0,
	OPT_NOP = 1,
	OPT_RR = 7,
	OPT_TS = 68,
	OPT_SEC = 130,
	OPT_LSRR = 131,
	OPT_SID = 136,
	OPT_SSRR = 137,
};

static void addr4(synack_addr *a, const uint8_t *p)
{
	memset(a, 0, sizeof *a);
	a->family = SYNACK_AF_INET;
	memcpy(a->bytes, p, 4);
}

/* RFC 791 §3.1: the rules of one option with a length byte, at o[0..len)
 * (len >= 2, inside the header). Security is at least 3 bytes (RFC 1108
 * §2 made RFC 791's fixed 11 variable) and Stream ID 4;
 * the route options carry a pointer whose "smallest legal value ... is
 * 4", the Internet Timestamp one whose "smallest legal value is 5".
 * Returns the option's bit for the "appears at most once" rule (0 for an
 * option without one), or -1 if it is malformed. */
static int option_check(const uint8_t *o, size_t len)
{
	switch (o[0]) {
	case OPT_SEC:
		return len >= 3 ? 1 << 0 : -1;
	case OPT_SID:
		return len == 4 ? 1 << 1 : -1;
	case OPT_RR:
		return len >= 3 && o[2] >= 4 ? 1 << 2 : -1;
	case OPT_LSRR:
		return len >= 3 && o[2] >= 4 ? 1 << 3 : -1;
	case OPT_SSRR:
		return len >= 3 && o[2] >= 4 ? 1 << 4 : -1;
	case OPT_TS:
		return len >= 4 && o[2] >= 5 ? 1 << 5 : -1;
	default: /* unknown here: skipped by its length */
		return 0;
	}
}

/* RFC 791 §3.1 "Options": End of Option List and No Operation are single
 * octets; every other option has a length octet counting itself and the
 * type, at least 2 and not past the header. EOL ends the list (the rest is
 * padding). The six options RFC 791 defines appear at most once. */
static bool options_ok(const uint8_t *o, size_t len)
{
	unsigned seen = 0;
	size_t i = 0;
	while (i < len && o[i] != OPT_EOL) {
		if (o[i] == OPT_NOP) {
			i++;
			continue;
		}
		if (len - i < 2 || o[i + 1] < 2 || o[i + 1] > len - i)
			return false;
		int bit = option_check(o + i, o[i + 1]);
		if (bit < 0 || (seen & (unsigned)bit))
			return false;
		seen |= (unsigned)bit;
		i += o[i + 1];
	}
	return true;
}

/* RFC 791 §3.1 and RFC 1122 §3.2.1: version, IHL, total length, header
 * checksum and the option list are checked in that order; the first
 * failure names the drop. */
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
	if (wire_csum_finish(wire_csum_words(buf, hl / 4)) != 0)
		return SYNACK_DROP_IP_CHECKSUM;
	if (!options_ok(buf + WIRE_IPV4_HDR, hl - WIRE_IPV4_HDR))
		return SYNACK_DROP_IP_OPTIONS;
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

size_t wire_ipv4_emit(struct bbuf *b, const synack_addr *src, const synack_addr *dst, uint8_t proto,
		      uint8_t ttl, uint16_t id, uint16_t frag, size_t payload_len)
{
	if (payload_len > 0xffff - WIRE_IPV4_HDR) { /* RFC 791 §3.1: Total Length is 16 bits */
		b->overflow = true;
		return 0;
	}
	struct bbuf w = bbuf_sub(b, WIRE_IPV4_HDR);
	uint8_t *h = w.p;
	if (!h)
		return 0;
	bbuf_u8(&w, 0x45); /* version 4, IHL 5: no options */
	bbuf_u8(&w, 0);
	bbuf_u16(&w, (uint16_t)(WIRE_IPV4_HDR + payload_len));
	bbuf_u16(&w, id);
	bbuf_u16(&w, frag);
	bbuf_u8(&w, ttl);
	bbuf_u8(&w, proto);
	bbuf_u16(&w, 0);
	bbuf_put(&w, src->bytes, 4);
	bbuf_put(&w, dst->bytes, 4);
	wr16(h + 10, wire_csum_finish(wire_csum_words(h, WIRE_IPV4_HDR / 4)));
	return WIRE_IPV4_HDR;
}

/* RFC 3168 §5: ECN is bits 6 and 7 of the TOS octet; the header checksum
 * covers it, so it is computed again over the 20-byte header we emit. */
void wire_ipv4_set_ecn(uint8_t *h, uint8_t ecn)
{
	h[1] = (uint8_t)((h[1] & ~WIRE_ECN_MASK) | (ecn & WIRE_ECN_MASK));
	wr16(h + 10, 0);
	wr16(h + 10, wire_csum_finish(wire_csum_words(h, h[0] & 0x0f)));
}
