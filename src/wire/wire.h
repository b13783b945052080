/* Stateless parse and emit of IPv4, ICMP and TCP headers, and Internet
 * checksums (RFC 1071). Parsers validate lengths once and return a small
 * struct whose pointers refer into the caller's buffer; they never read past
 * `len`. Parse functions return 0 on success or a SYNACK_DROP_* counter id
 * (enum synack_counter) naming why the frame must be dropped. */
#ifndef SYNACK_WIRE_H
#define SYNACK_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "synack/stack.h"

/* ---- byte order helpers (unaligned-safe) ---- */
static inline uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void wr16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

/* ---- checksums (RFC 1071) ---- */
/* Add len bytes to a running 32-bit one's-complement accumulator. Odd
 * lengths are padded with a zero byte; only the last chunk may be odd. */
uint32_t wire_csum_add(uint32_t sum, const void *data, size_t len);
/* Fold and complement: the value to store in a checksum field. */
uint16_t wire_csum_finish(uint32_t sum);
/* The pseudo-header sum for TCP/UDP over IPv4 (RFC 9293 §3.1) or IPv6
 * (RFC 8200 §8.1), not complemented. */
uint32_t wire_pseudo_sum(const synack_addr *src, const synack_addr *dst, uint8_t proto, uint32_t len);

/* ---- IPv4 (RFC 791) ---- */
enum { WIRE_IPV4_HDR = 20, WIRE_PROTO_ICMP = 1, WIRE_PROTO_TCP = 6, WIRE_PROTO_UDP = 17 };
struct wire_ipv4 {
	uint8_t hdr_len;      /* bytes, 20..60 */
	uint8_t tos;
	uint16_t total_len;
	uint16_t id;
	uint16_t frag;        /* flags (3 bits) and fragment offset (13 bits) */
	uint8_t ttl, proto;
	synack_addr src, dst;
	const uint8_t *payload;
	size_t payload_len;   /* total_len - hdr_len (link padding excluded) */
};
#define WIRE_IPV4_MF 0x2000
#define WIRE_IPV4_DF 0x4000
#define WIRE_IPV4_OFFMASK 0x1fff
/* Validates version, IHL, total length against the frame, header checksum;
 * options are skipped (length checked). Fragments parse fine: the caller
 * decides (is_fragment). */
int wire_ipv4_parse(const uint8_t *buf, size_t len, struct wire_ipv4 *out);
static inline bool wire_ipv4_is_fragment(const struct wire_ipv4 *ip)
{
	return (ip->frag & (WIRE_IPV4_MF | WIRE_IPV4_OFFMASK)) != 0;
}
/* Write a 20-byte header (no options) with checksum. payload_len is the
 * number of bytes that will follow. Returns 20. */
size_t wire_ipv4_emit(uint8_t *buf, const synack_addr *src, const synack_addr *dst, uint8_t proto,
		      uint8_t ttl, uint16_t id, bool df, size_t payload_len);

/* ---- ICMPv4 (RFC 792) ---- */
enum { WIRE_ICMP_ECHO_REPLY = 0, WIRE_ICMP_DEST_UNREACH = 3, WIRE_ICMP_ECHO_REQUEST = 8,
       WIRE_ICMP_TIME_EXCEEDED = 11 };
struct wire_icmp {
	uint8_t type, code;
	uint8_t rest[4];        /* id+seq for echo; unused/MTU for errors */
	const uint8_t *body;    /* after the 8-byte header */
	size_t body_len;
};
/* Validates length (>= 8) and checksum over the whole message. */
int wire_icmp_parse(const uint8_t *buf, size_t len, struct wire_icmp *out);
/* Writes an 8-byte ICMP header followed by body (copied; may alias buf+8),
 * checksum included. Returns 8 + body_len. */
size_t wire_icmp_emit(uint8_t *buf, uint8_t type, uint8_t code, const uint8_t rest[4], const uint8_t *body,
		      size_t body_len);

/* ---- TCP (RFC 9293 §3.1, options RFC 9293 §3.2, RFC 7323, RFC 2018) ---- */
enum { WIRE_TCP_HDR = 20, WIRE_TCP_MAX_OPTS = 40, WIRE_TCP_MAX_SACK = 4 };
enum {
	WIRE_TCPOPT_EOL = 0, WIRE_TCPOPT_NOP = 1, WIRE_TCPOPT_MSS = 2, WIRE_TCPOPT_WSCALE = 3,
	WIRE_TCPOPT_SACK_OK = 4, WIRE_TCPOPT_SACK = 5, WIRE_TCPOPT_TS = 8,
};
struct wire_tcp_opts {
	uint16_t mss;           /* valid if has_mss */
	uint8_t has_mss;
	int8_t wscale;          /* -1 absent; values > 14 are kept as received, saturated at 127 (caller clamps, RFC 7323 §2.3) */
	uint8_t sack_ok;
	uint8_t has_ts;
	uint32_t ts_val, ts_ecr;
	uint8_t nsack;          /* SACK blocks present (<= 4) */
	uint32_t sack[WIRE_TCP_MAX_SACK][2]; /* left, right edges */
};
struct wire_tcp {
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t hdr_len;        /* bytes, 20..60 */
	uint8_t flags;          /* enum synack_tcp_flag */
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
/* Encode options (those present in o), padded with NOP/EOL to a multiple of
 * 4 bytes. Layout like Linux: MSS, SACK-permitted+TS combined as
 * "NOP NOP TS" or "SACKOK TS", "NOP WS", "NOP NOP SACK...". Returns bytes
 * written (<= 40); SACK blocks are cut to what fits. */
size_t wire_tcp_opts_emit(uint8_t *buf, const struct wire_tcp_opts *o);
/* Write the header (t->hdr_len ignored, computed from options) with the
 * checksum field zero. Returns header length. */
size_t wire_tcp_emit(uint8_t *buf, const struct wire_tcp *t);
/* Compute and store the checksum of the segment seg[0..len) (header+data). */
void wire_tcp_set_csum(uint8_t *seg, size_t len, const synack_addr *src, const synack_addr *dst);

#endif
