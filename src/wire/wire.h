/* Stateless parse and emit of Ethernet, ARP, IPv4, IPv6 (and its extension
 * headers), ICMP, ICMPv6, Neighbor Discovery and TCP headers, and Internet
 * checksums (RFC 1071). Parsers validate lengths once and return a small
 * struct whose pointers refer into the caller's buffer; they never read past
 * `len`. Parse functions return 0 on success or a SYNACK_DROP_* counter id
 * (enum synack_counter) naming why the frame must be dropped.
 *
 * Emitters append to a bounded byte builder (struct bbuf, src/base) and
 * return the bytes they wrote, or 0 when the message did not fit: then
 * nothing was written and the builder's sticky overflow flag is set, so the
 * caller drops the frame (counted) instead of writing past its buffer. */
#ifndef SYNACK_WIRE_H
#define SYNACK_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/base.h"
#include "synack/stack.h"

/* ---- byte order helpers (unaligned-safe) ---- */
static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}
static inline uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}
static inline void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* ---- checksums (RFC 1071) ---- */
/* Add len bytes to a running 32-bit one's-complement accumulator. Odd
 * lengths are padded with a zero byte; only the last chunk may be odd. */
uint32_t wire_csum_add(uint32_t sum, const void *data, size_t len);
/* Fold and complement: the value to store in a checksum field. */
uint16_t wire_csum_finish(uint32_t sum);
/* The sum of n32 32-bit words at p (an IPv4 header: 5 to 15 words), inline:
 * what wire_csum_add(0, p, 4 * n32) gives. Native words summed with their
 * carries in 64 bits, folded to 16 and byte-swapped back on a little-endian
 * host, as wire_csum_add does (checksum.c). */
static inline uint32_t wire_csum_words(const uint8_t *p, size_t n32)
{
	uint64_t s = 0;
	for (size_t i = 0; i < n32; i++) {
		uint32_t w;
		memcpy(&w, p + 4 * i, 4);
		s += w;
	}
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffffffffu) + (s >> 32);
	uint32_t v = (uint32_t)s;
	v = (v & 0xffff) + (v >> 16);
	v = (v & 0xffff) + (v >> 16);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	v = ((v >> 8) | (v << 8)) & 0xffff;
#endif
	return v;
}
/* The pseudo-header sum for TCP/UDP over IPv4 (RFC 9293 §3.1) or IPv6
 * (RFC 8200 §8.1), not complemented. */
uint32_t wire_pseudo_sum(const synack_addr *src, const synack_addr *dst, uint8_t proto, uint32_t len);

/* ---- Ethernet II (RFC 894 framing; IEEE 802.3 addresses) ---- */
enum { WIRE_ETH_HDR = 14, WIRE_ETH_ALEN = 6 };
enum { WIRE_ETH_IPV4 = 0x0800, WIRE_ETH_ARP = 0x0806, WIRE_ETH_IPV6 = 0x86dd };
struct wire_eth {
	uint8_t dst[WIRE_ETH_ALEN], src[WIRE_ETH_ALEN];
	uint16_t type;
	const uint8_t *payload;
	size_t payload_len; /* everything after the header, padding included */
};
/* Validates the length only (SYNACK_DROP_ETH_TRUNCATED). */
int wire_eth_parse(const uint8_t *buf, size_t len, struct wire_eth *out);
/* Append the 14-byte header. Returns 14 (0 if it did not fit). */
size_t wire_eth_emit(struct bbuf *b, const uint8_t dst[6], const uint8_t src[6], uint16_t type);
/* The group bit (IEEE 802.3 §3.2.3): multicast and broadcast addresses. */
static inline bool wire_mac_is_group(const uint8_t *m)
{
	return m[0] & 1;
}
/* RFC 2464 §7: the Ethernet address an IPv6 multicast address maps to
 * (33:33 followed by its last four bytes). */
void wire_eth_ipv6_mcast(uint8_t mac[6], const synack_addr *group);

/* ---- ARP for IPv4 over Ethernet (RFC 826) ---- */
enum { WIRE_ARP_LEN = 28, WIRE_ARP_REQUEST = 1, WIRE_ARP_REPLY = 2 };
struct wire_arp {
	uint16_t op;
	uint8_t sha[WIRE_ETH_ALEN], tha[WIRE_ETH_ALEN];
	synack_addr spa, tpa;
};
/* Accepts only hardware type 1 (Ethernet), protocol 0x0800, lengths 6 and
 * 4, opcode request or reply; else SYNACK_DROP_ARP_MALFORMED. */
int wire_arp_parse(const uint8_t *buf, size_t len, struct wire_arp *out);
/* Append a 28-byte ARP packet. Returns 28 (0 if it did not fit). */
size_t wire_arp_emit(struct bbuf *b, const struct wire_arp *a);

/* ---- IPv4 (RFC 791) ---- */
enum { WIRE_IPV4_HDR = 20, WIRE_PROTO_ICMP = 1, WIRE_PROTO_TCP = 6, WIRE_PROTO_UDP = 17 };
struct wire_ipv4 {
	uint8_t hdr_len; /* bytes, 20..60 */
	uint8_t tos;
	uint16_t total_len;
	uint16_t id;
	uint16_t frag; /* flags (3 bits) and fragment offset (13 bits) */
	uint8_t ttl, proto;
	synack_addr src, dst;
	const uint8_t *payload;
	size_t payload_len; /* total_len - hdr_len (link padding excluded) */
};
#define WIRE_IPV4_MF	  0x2000
#define WIRE_IPV4_DF	  0x4000
#define WIRE_IPV4_OFFMASK 0x1fff
/* Validates version, IHL, total length against the frame, header checksum
 * and the option list (RFC 791 §3.1: every option's length inside the
 * header, the minimum lengths and pointers of the defined options, each at
 * most once; else SYNACK_DROP_IP_OPTIONS); options are then skipped.
 * Fragments parse fine: the caller decides (is_fragment). */
int wire_ipv4_parse(const uint8_t *buf, size_t len, struct wire_ipv4 *out);
static inline bool wire_ipv4_is_fragment(const struct wire_ipv4 *ip)
{
	return (ip->frag & (WIRE_IPV4_MF | WIRE_IPV4_OFFMASK)) != 0;
}
/* Append a 20-byte header (no options) with checksum. payload_len is the
 * number of bytes that will follow (at most 65515). frag: flags and
 * fragment offset (RFC 791 §3.1), e.g. WIRE_IPV4_DF. Returns 20 (0 if it
 * did not fit or payload_len is too large). */
size_t wire_ipv4_emit(struct bbuf *b, const synack_addr *src, const synack_addr *dst, uint8_t proto,
		      uint8_t ttl, uint16_t id, uint16_t frag, size_t payload_len);

/* ---- ECN (RFC 3168 §5): the low two bits of the IPv4 TOS octet and of
 * the IPv6 Traffic Class ---- */
enum { WIRE_ECN_NOT_ECT = 0, WIRE_ECN_ECT1 = 1, WIRE_ECN_ECT0 = 2, WIRE_ECN_CE = 3, WIRE_ECN_MASK = 3 };
/* Set the ECN field of the header at h (as wire_ipv4_emit or
 * wire_ipv6_emit wrote it); the IPv4 header checksum is recomputed. */
void wire_ipv4_set_ecn(uint8_t *h, uint8_t ecn);
void wire_ipv6_set_ecn(uint8_t *h, uint8_t ecn);

/* ---- IPv6 (RFC 8200) ---- */
enum { WIRE_IPV6_HDR = 40, WIRE_IPV6_MIN_MTU = 1280 };
enum {
	WIRE_PROTO_HOPOPTS = 0,
	WIRE_PROTO_ROUTING = 43,
	WIRE_PROTO_FRAGMENT = 44,
	WIRE_PROTO_ICMPV6 = 58,
	WIRE_PROTO_NONE = 59,
	WIRE_PROTO_DSTOPTS = 60,
};
struct wire_ipv6 {
	uint8_t tclass;
	uint32_t flow;
	uint8_t next, hop_limit;
	synack_addr src, dst;
	const uint8_t *payload;
	size_t payload_len; /* Payload Length (bytes past it in the frame are link padding) */
};
/* Validates the length (SYNACK_DROP_IP_TRUNCATED), the version
 * (SYNACK_DROP_IP_VERSION) and the payload length against the frame
 * (SYNACK_DROP_IP_LENGTH; jumbograms are not supported). */
int wire_ipv6_parse(const uint8_t *buf, size_t len, struct wire_ipv6 *out);
/* Append the 40-byte header (payload_len at most 65535; no jumbograms).
 * Returns 40 (0 if it did not fit or payload_len is too large). */
size_t wire_ipv6_emit(struct bbuf *b, const synack_addr *src, const synack_addr *dst, uint8_t next,
		      uint8_t hop_limit, size_t payload_len);
static inline bool wire_ipv6_is_ext(uint8_t next)
{
	return next == WIRE_PROTO_HOPOPTS || next == WIRE_PROTO_ROUTING || next == WIRE_PROTO_FRAGMENT ||
	       next == WIRE_PROTO_DSTOPTS;
}
/* One extension header (RFC 8200 §4.3-§4.6). */
struct wire_ipv6_ext {
	uint8_t next;			     /* Next Header of this header */
	size_t len;			     /* bytes this header occupies */
	uint8_t routing_type, segments_left; /* Routing */
	uint16_t frag_offset;		     /* Fragment: 8-octet units */
	bool frag_more;
	uint32_t frag_id;
	size_t bad_option;  /* options: offset (in this header) of an option to refuse, 0 if none */
	uint8_t bad_action; /* its action bits (RFC 8200 §4.2): 1 discard, 2 and 3 discard + ICMP */
};
/* Parse the extension header of type `type` at buf[0..len). Returns 0 or
 * SYNACK_DROP_IP6_EXT_HEADER (truncated, or options running past the
 * header). Unknown options with action "skip" are skipped; the first with
 * another action is reported in bad_option/bad_action. */
int wire_ipv6_ext_parse(uint8_t type, const uint8_t *buf, size_t len, struct wire_ipv6_ext *out);
/* Address classes (RFC 4291 §2.4). */
static inline bool wire_ip6_is_multicast(const synack_addr *a)
{
	return a->bytes[0] == 0xff;
}
static inline bool wire_ip6_is_linklocal(const synack_addr *a)
{
	return a->bytes[0] == 0xfe && (a->bytes[1] & 0xc0) == 0x80;
}
bool wire_ip6_is_unspecified(const synack_addr *a);
bool wire_ip6_is_loopback(const synack_addr *a);
/* RFC 4291 §2.7.1: ff02::1:ffXX:XXXX for the last three bytes of a. */
void wire_ip6_solicited_node(synack_addr *out, const synack_addr *a);
/* ff02::1, all nodes on the link (RFC 4291 §2.7.1). */
void wire_ip6_all_nodes(synack_addr *out);
/* True if a and b agree on their first plen bits (same family assumed). */
bool wire_addr_prefix_match(const synack_addr *a, const synack_addr *b, unsigned plen);

/* Append an IPv6 Fragment header (RFC 8200 §4.5): offset in 8-octet units.
 * Returns 8 (0 if it did not fit). */
size_t wire_ipv6_frag_emit(struct bbuf *b, uint8_t next, uint16_t offset, bool more, uint32_t id);

/* ---- ICMPv4 (RFC 792) ---- */
enum {
	WIRE_ICMP_ECHO_REPLY = 0,
	WIRE_ICMP_DEST_UNREACH = 3,
	WIRE_ICMP_ECHO_REQUEST = 8,
	WIRE_ICMP_TIME_EXCEEDED = 11,
	WIRE_ICMP_PARAM_PROBLEM = 12
};
enum { WIRE_ICMP_PROTO_UNREACH = 2, WIRE_ICMP_PORT_UNREACH = 3, WIRE_ICMP_FRAG_NEEDED = 4 };
struct wire_icmp {
	uint8_t type, code;
	uint8_t rest[4];     /* id+seq for echo; unused/MTU for errors */
	const uint8_t *body; /* after the 8-byte header */
	size_t body_len;
};
/* Validates length (>= 8) and checksum over the whole message. */
int wire_icmp_parse(const uint8_t *buf, size_t len, struct wire_icmp *out);
/* Append an 8-byte ICMP header followed by body (copied; body and rest may
 * point into the builder's buffer), checksum included. Returns 8 + body_len
 * (0 if it did not fit). */
size_t wire_icmp_emit(struct bbuf *b, uint8_t type, uint8_t code, const uint8_t rest[4], const uint8_t *body,
		      size_t body_len);

/* ---- ICMPv6 (RFC 4443) and Neighbor Discovery (RFC 4861) ---- */
enum {
	WIRE_ICMP6_DEST_UNREACH = 1,
	WIRE_ICMP6_PACKET_TOO_BIG = 2,
	WIRE_ICMP6_TIME_EXCEEDED = 3,
	WIRE_ICMP6_PARAM_PROBLEM = 4,
	WIRE_ICMP6_ECHO_REQUEST = 128,
	WIRE_ICMP6_ECHO_REPLY = 129,
	WIRE_ND_RS = 133,
	WIRE_ND_RA = 134,
	WIRE_ND_NS = 135,
	WIRE_ND_NA = 136,
	WIRE_ND_REDIRECT = 137,
};
enum { WIRE_ICMP6_PORT_UNREACH = 4 };
enum { WIRE_ICMP6_PP_HEADER = 0, WIRE_ICMP6_PP_NEXT_HEADER = 1, WIRE_ICMP6_PP_OPTION = 2 };
/* Parse an ICMPv6 message (same view as ICMPv4: rest holds bytes 4..7).
 * The checksum covers the RFC 8200 §8.1 pseudo header (RFC 4443 §2.3). */
int wire_icmp6_parse(const synack_addr *src, const synack_addr *dst, const uint8_t *buf, size_t len,
		     struct wire_icmp *out);
/* Like wire_icmp_emit, with the pseudo-header checksum. */
size_t wire_icmp6_emit(struct bbuf *b, const synack_addr *src, const synack_addr *dst, uint8_t type,
		       uint8_t code, const uint8_t rest[4], const uint8_t *body, size_t body_len);

enum { WIRE_ND_OPT_SLLA = 1, WIRE_ND_OPT_TLLA = 2 };
enum { WIRE_NA_ROUTER = 0x80, WIRE_NA_SOLICITED = 0x40, WIRE_NA_OVERRIDE = 0x20 };
/* A Neighbor Solicitation or Advertisement (RFC 4861 §4.3, §4.4). */
struct wire_nd {
	synack_addr target;
	uint8_t flags; /* NA: R, S, O bits (first byte of rest) */
	bool has_lla;  /* the Source (NS) / Target (NA) link-layer address option */
	uint8_t lla[WIRE_ETH_ALEN];
};
/* Validate and read an NS/NA body (RFC 4861 §7.1.1, §7.1.2: code 0, at
 * least 24 bytes, target not multicast, every option with a non-zero
 * length inside the message; a link-layer option must be 8 bytes).
 * Returns 0 or SYNACK_DROP_ND_INVALID. Hop limit and addresses are the
 * caller's checks. */
int wire_nd_parse(const struct wire_icmp *ic, struct wire_nd *out);
/* Append a complete NS or NA (ICMPv6 header, target, optional link-layer
 * option when lla != NULL) with its checksum. Returns its length (0 if it
 * did not fit). */
size_t wire_nd_emit(struct bbuf *b, const synack_addr *src, const synack_addr *dst, uint8_t type,
		    uint8_t flags, const synack_addr *target, const uint8_t *lla);

/* ---- TCP (RFC 9293 §3.1, options RFC 9293 §3.2, RFC 7323, RFC 2018) ---- */
enum { WIRE_TCP_HDR = 20, WIRE_TCP_MAX_OPTS = 40, WIRE_TCP_MAX_SACK = 4 };
enum {
	WIRE_TCPOPT_EOL = 0,
	WIRE_TCPOPT_NOP = 1,
	WIRE_TCPOPT_MSS = 2,
	WIRE_TCPOPT_WSCALE = 3,
	WIRE_TCPOPT_SACK_OK = 4,
	WIRE_TCPOPT_SACK = 5,
	WIRE_TCPOPT_TS = 8,
};
struct wire_tcp_opts {
	uint16_t mss; /* valid if has_mss */
	uint8_t has_mss;
	int8_t wscale; /* -1 absent; values > 14 are kept as received, saturated at 127 (caller clamps, RFC
			  7323 §2.3) */
	uint8_t sack_ok;
	uint8_t has_ts;
	uint32_t ts_val, ts_ecr;
	uint8_t nsack;			     /* SACK blocks present (<= 4) */
	uint32_t sack[WIRE_TCP_MAX_SACK][2]; /* left, right edges */
};
struct wire_tcp {
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t hdr_len; /* bytes, 20..60 */
	uint8_t flags;	 /* enum synack_tcp_flag */
	uint16_t wnd;
	uint16_t csum, urp;
	struct wire_tcp_opts opt;
	const uint8_t *payload;
	size_t payload_len;
};
/* Parses header and options. Rejects: len < 20 or data offset < 5 or beyond
 * len (SYNACK_DROP_TCP_TRUNCATED); an option whose length byte is < 2 or runs
 * past the header, or a known option with the wrong length (MSS 4, WS 3,
 * SACK-permitted 2, TS 10, SACK 2+8n with n 1..4) (SYNACK_DROP_TCP_OPTIONS).
 * Unknown options with a valid length are skipped; EOL ends the list. Does
 * not check the checksum (wire_tcp_csum_ok needs the addresses). */
int wire_tcp_parse(const uint8_t *buf, size_t len, struct wire_tcp *out);
/* True if the TCP checksum of seg[0..len) is right for these addresses. */
bool wire_tcp_csum_ok(const synack_addr *src, const synack_addr *dst, const uint8_t *seg, size_t len);
/* Append the options present in o, each piece 4-byte aligned. Layout like
 * Linux: MSS, SACK-permitted+TS combined as "NOP NOP TS" or "SACKOK TS",
 * "NOP WS", "NOP NOP SACK...". At most `room` bytes (<= 40) are used: SACK
 * blocks are cut to what fits (RFC 2018 §3) and o->nsack set to the number
 * written; if the other options do not fit in room, nothing is written and
 * the builder overflows. Returns the bytes written. */
size_t wire_tcp_opts_emit(struct bbuf *b, struct wire_tcp_opts *o, size_t room);
/* The number of option bytes wire_tcp_opts_emit would write for o with the
 * whole 40 bytes available. */
size_t wire_tcp_opts_len(const struct wire_tcp_opts *o);
/* Append the header (t->hdr_len ignored, computed from the options) with
 * the checksum field zero, keeping payload_len bytes of room after it:
 * SACK blocks that would eat into that room are left out (fewer blocks,
 * never a larger segment). t->hdr_len and t->opt.nsack are set to what was
 * written. Returns the header length, 0 if the header and payload_len
 * bytes cannot fit (the builder then overflows). */
size_t wire_tcp_emit(struct bbuf *b, struct wire_tcp *t, size_t payload_len);
/* Compute and store the checksum of the segment seg[0..len) (header+data). */
void wire_tcp_set_csum(uint8_t *seg, size_t len, const synack_addr *src, const synack_addr *dst);
/* For a link that completes the checksum (SYNACK_OFFLOAD_TX_CSUM, a
 * virtio-net NEEDS_CSUM packet): the pseudo-header sum alone, folded and
 * not complemented, which the link's sum over the segment finishes. */
void wire_tcp_set_partial_csum(uint8_t *seg, size_t len, const synack_addr *src, const synack_addr *dst);

#endif
