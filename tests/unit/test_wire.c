/* Tests of src/wire: RFC 1071 checksums, IPv4, ICMP and TCP parse/emit,
 * and that every emitter stays inside its byte builder (struct bbuf).
 * Known values (checksums of the frames below) were computed independently
 * with a few lines of Python summing 16-bit words, not with this code.
 * Parsers are always handed a heap copy of exactly `len` bytes, so the
 * sanitizer build catches any read past the end. */
#include "synack/stack.h"
#include "wire/wire.h"
#include "unit.h"

#include <stdlib.h>

/* ---- helpers ---- */

/* Reference one's-complement sum over 16-bit words (RFC 1071 §4.1). */
static uint16_t ref_csum(const uint8_t *p, size_t len)
{
	uint64_t s = 0;
	for (size_t i = 0; i + 1 < len; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		s += (uint32_t)p[len - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static uint16_t csum(const void *p, size_t len)
{
	return wire_csum_finish(wire_csum_add(0, p, len));
}

/* Parse from an exact-size heap copy so ASan sees any overread. */
static int ipv4_parse_copy(const uint8_t *buf, size_t len, struct wire_ipv4 *out)
{
	uint8_t *c = malloc(len ? len : 1);
	memcpy(c, buf, len);
	int r = wire_ipv4_parse(c, len, out);
	free(c);
	return r;
}

static int tcp_parse_copy(const uint8_t *buf, size_t len, struct wire_tcp *out)
{
	uint8_t *c = malloc(len ? len : 1);
	memcpy(c, buf, len);
	int r = wire_tcp_parse(c, len, out);
	free(c);
	return r;
}

static int icmp_parse_copy(const uint8_t *buf, size_t len, struct wire_icmp *out)
{
	uint8_t *c = malloc(len ? len : 1);
	memcpy(c, buf, len);
	int r = wire_icmp_parse(c, len, out);
	free(c);
	return r;
}

static void ip_fix_csum(uint8_t *ip)
{
	size_t hl = (size_t)(ip[0] & 15) * 4;
	wr16(ip + 10, 0);
	wr16(ip + 10, csum(ip, hl));
}

/* A SYN from 10.0.0.1:40000 to 10.0.0.2:80 as Linux sends it: MSS 1460,
 * SACK-permitted, timestamps (1, 0), window scale 7. Checksums 0x0a74 (IP)
 * and 0x33cf (TCP) were computed by hand (Python), not by synack. */
static const uint8_t syn_frame[60] = {
    /* IPv4: v4 IHL 5, tos 0, len 60, id 0x1c46, DF, ttl 64, TCP */
    0x45,
    0x00,
    0x00,
    0x3c,
    0x1c,
    0x46,
    0x40,
    0x00,
    0x40,
    0x06,
    0x0a,
    0x74,
    0x0a,
    0x00,
    0x00,
    0x01,
    0x0a,
    0x00,
    0x00,
    0x02,
    /* TCP: 40000 -> 80, seq 0x12345678, ack 0, doff 10, SYN, wnd 64240 */
    0x9c,
    0x40,
    0x00,
    0x50,
    0x12,
    0x34,
    0x56,
    0x78,
    0x00,
    0x00,
    0x00,
    0x00,
    0xa0,
    0x02,
    0xfa,
    0xf0,
    0x33,
    0xcf,
    0x00,
    0x00,
    /* MSS 1460; SACKOK + TS(1, 0); NOP WS 7 */
    0x02,
    0x04,
    0x05,
    0xb4,
    0x04,
    0x02,
    0x08,
    0x0a,
    0x00,
    0x00,
    0x00,
    0x01,
    0x00,
    0x00,
    0x00,
    0x00,
    0x01,
    0x03,
    0x03,
    0x07,
};

static synack_addr a1(void)
{
	return synack_addr_ipv4(10, 0, 0, 1);
}
static synack_addr a2(void)
{
	return synack_addr_ipv4(10, 0, 0, 2);
}

static synack_addr a6(uint8_t last)
{
	synack_addr a;
	memset(&a, 0, sizeof a);
	a.family = SYNACK_AF_INET6;
	a.bytes[0] = 0x20;
	a.bytes[1] = 0x01;
	a.bytes[2] = 0x0d;
	a.bytes[3] = 0xb8;
	a.bytes[15] = last;
	return a;
}

/* A TCP segment with the given option bytes (a multiple of 4) and no data. */
static size_t tcp_with_opts(uint8_t *seg, const uint8_t *opts, size_t olen)
{
	memcpy(seg, syn_frame + 20, 20);
	seg[12] = (uint8_t)((20 + olen) / 4 << 4);
	memcpy(seg + 20, opts, olen);
	return 20 + olen;
}

static int parse_opts(const uint8_t *opts, size_t olen, struct wire_tcp *t)
{
	uint8_t seg[60];
	size_t n = tcp_with_opts(seg, opts, olen);
	return tcp_parse_copy(seg, n, t);
}

/* ---- checksums ---- */

TEST(csum_rfc1071_example)
{
	/* RFC 1071 §3: 00 01 f2 03 f4 f5 f6 f7 sums to 0xddf2. */
	static const uint8_t b[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
	uint32_t s = wire_csum_add(0, b, sizeof b);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	CHECK_EQ(s, 0xddf2);
	CHECK_EQ(wire_csum_finish(s), 0x220d);
	CHECK_EQ(ref_csum(b, sizeof b), 0x220d);
}

TEST(csum_odd_lengths)
{
	static const uint8_t b[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7, 0xab};
	CHECK_EQ(csum(b, 9), 0x770c); /* last byte padded with zero */
	CHECK_EQ(csum(b + 8, 1), 0x54ff);
	CHECK_EQ(csum(b, 0), 0xffff);
	CHECK_EQ(csum(b, 3), ref_csum(b, 3));
}

TEST(csum_ipv4_header_example)
{
	/* The classic 192.168.0.1 -> 192.168.0.199 UDP header: checksum b861. */
	uint8_t h[20] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
			 0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
	CHECK_EQ(csum(h, 20), 0);
	h[10] = h[11] = 0;
	CHECK_EQ(csum(h, 20), 0xb861);
}

/* The inline word sum (IPv4 headers, the IPv4 pseudo header) is the
 * general one: every header length, random contents, and all-ones words
 * whose carries pile up. */
TEST(csum_words_equals_csum_add)
{
	synack_prng r;
	synack_prng_seed(&r, 11);
	uint8_t b[60];
	for (int round = 0; round < 200; round++) {
		if (round == 0)
			memset(b, 0xff, sizeof b);
		else
			synack_prng_fill(&r, b, sizeof b);
		for (size_t n = 1; n <= 15; n++) {
			CHECK_EQ(wire_csum_words(b, n), wire_csum_add(0, b, 4 * n));
			CHECK_EQ(wire_csum_finish(wire_csum_words(b, n)), ref_csum(b, 4 * n));
		}
	}
	uint8_t h[20] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
			 0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
	CHECK_EQ(wire_csum_finish(wire_csum_words(h, 5)), 0xb861);
	/* the pseudo header: 12 bytes summed the long way */
	synack_addr a = synack_addr_ipv4(10, 0, 0, 1), d = synack_addr_ipv4(192, 168, 255, 254);
	uint8_t ph[12] = {10, 0, 0, 1, 192, 168, 255, 254, 0, 6, 0x05, 0xdc};
	CHECK_EQ(wire_csum_finish(wire_pseudo_sum(&a, &d, 6, 1500)), ref_csum(ph, sizeof ph));
}

TEST(csum_incremental_equals_one_shot)
{
	synack_prng r;
	synack_prng_seed(&r, 7);
	uint8_t b[301];
	synack_prng_fill(&r, b, sizeof b);
	for (size_t len = 0; len <= sizeof b; len++) {
		uint16_t one = csum(b, len);
		CHECK_EQ(one, ref_csum(b, len));
		for (size_t cut = 0; cut <= len; cut += 2) {
			uint32_t s = wire_csum_add(0, b, cut);
			CHECK_EQ(wire_csum_finish(wire_csum_add(s, b + cut, len - cut)), one);
		}
		/* three pieces, the first two even */
		size_t c1 = (len / 3) & ~(size_t)1, c2 = (2 * len / 3) & ~(size_t)1;
		uint32_t s = wire_csum_add(wire_csum_add(0, b, c1), b + c1, c2 - c1);
		CHECK_EQ(wire_csum_finish(wire_csum_add(s, b + c2, len - c2)), one);
	}
}

TEST(csum_large_buffer_no_overflow)
{
	size_t len = 200001;
	uint8_t *b = malloc(len);
	memset(b, 0xff, len);
	CHECK_EQ(csum(b, len), ref_csum(b, len));
	synack_prng r;
	synack_prng_seed(&r, 3);
	synack_prng_fill(&r, b, len);
	CHECK_EQ(csum(b, len), ref_csum(b, len));
	/* a large starting accumulator still folds right */
	uint32_t s = wire_csum_add(0xffffffffu, b, len);
	CHECK_EQ(wire_csum_finish(s),
		 wire_csum_finish(wire_csum_add(wire_csum_add(0, b, len), "\xff\xff\xff\xff", 4)));
	free(b);
}

TEST(pseudo_sum_ipv4_and_ipv6)
{
	synack_addr s = a1(), d = a2();
	/* 0a00 + 0001 + 0a00 + 0002 + 0006 + 0028 */
	uint32_t p = wire_pseudo_sum(&s, &d, WIRE_PROTO_TCP, 40);
	CHECK_EQ(wire_csum_finish(p), (uint16_t) ~(0x0a00 + 0x0001 + 0x0a00 + 0x0002 + 0x0006 + 0x0028));
	synack_addr s6 = a6(1), d6 = a6(2);
	/* RFC 8200 §8.1: 2001+0db8+0001 + 2001+0db8+0002 + len(32 bit) + 6 */
	uint32_t q = wire_pseudo_sum(&s6, &d6, WIRE_PROTO_TCP, 0x10028);
	uint32_t want = 0x2001 + 0x0db8 + 0x0001 + 0x2001 + 0x0db8 + 0x0002 + 0x0001 + 0x0028 + 0x0006;
	CHECK_EQ(wire_csum_finish(q), wire_csum_finish(want));
}

/* ---- IPv4 ---- */

TEST(ipv4_parse_real_syn)
{
	struct wire_ipv4 ip;
	CHECK_EQ(ipv4_parse_copy(syn_frame, sizeof syn_frame, &ip), 0);
	CHECK_EQ(ip.hdr_len, 20);
	CHECK_EQ(ip.tos, 0);
	CHECK_EQ(ip.total_len, 60);
	CHECK_EQ(ip.id, 0x1c46);
	CHECK_EQ(ip.frag, WIRE_IPV4_DF);
	CHECK(!wire_ipv4_is_fragment(&ip));
	CHECK_EQ(ip.ttl, 64);
	CHECK_EQ(ip.proto, WIRE_PROTO_TCP);
	synack_addr s = a1(), d = a2();
	CHECK(synack_addr_equal(&ip.src, &s));
	CHECK(synack_addr_equal(&ip.dst, &d));
	CHECK_EQ(ip.payload_len, 40);
	CHECK_EQ(ipv4_parse_copy(syn_frame, sizeof syn_frame, &ip), 0);
}

TEST(ipv4_payload_points_into_frame)
{
	struct wire_ipv4 ip;
	CHECK_EQ(wire_ipv4_parse(syn_frame, sizeof syn_frame, &ip), 0);
	CHECK(ip.payload == syn_frame + 20);
}

TEST(ipv4_trailing_padding_ignored)
{
	uint8_t f[80];
	memset(f, 0xee, sizeof f);
	memcpy(f, syn_frame, 60);
	struct wire_ipv4 ip;
	CHECK_EQ(ipv4_parse_copy(f, sizeof f, &ip), 0);
	CHECK_EQ(ip.payload_len, 40);
}

TEST(ipv4_with_options)
{
	uint8_t f[64];
	memcpy(f, syn_frame, 20);
	f[0] = 0x46;
	wr16(f + 2, 64);
	f[20] = 1; /* NOP NOP NOP EOL */
	f[21] = 1;
	f[22] = 1;
	f[23] = 0;
	memcpy(f + 24, syn_frame + 20, 40);
	ip_fix_csum(f);
	struct wire_ipv4 ip;
	CHECK_EQ(wire_ipv4_parse(f, sizeof f, &ip), 0);
	CHECK_EQ(ip.hdr_len, 24);
	CHECK(ip.payload == f + 24);
	CHECK_EQ(ip.payload_len, 40);
}

TEST(ipv4_reject_truncated)
{
	struct wire_ipv4 ip;
	for (size_t n = 0; n < 20; n++)
		CHECK_EQ(ipv4_parse_copy(syn_frame, n, &ip), SYNACK_DROP_IP_TRUNCATED);
	/* header complete but total length beyond the frame */
	for (size_t n = 20; n < 60; n++)
		CHECK_EQ(ipv4_parse_copy(syn_frame, n, &ip), SYNACK_DROP_IP_LENGTH);
}

TEST(ipv4_reject_version)
{
	uint8_t f[60];
	struct wire_ipv4 ip;
	for (int v = 0; v < 16; v++) {
		if (v == 4)
			continue;
		memcpy(f, syn_frame, 60);
		f[0] = (uint8_t)(v << 4 | 5);
		ip_fix_csum(f);
		CHECK_EQ(ipv4_parse_copy(f, 60, &ip), SYNACK_DROP_IP_VERSION);
	}
}

TEST(ipv4_reject_ihl)
{
	uint8_t f[60];
	struct wire_ipv4 ip;
	for (int ihl = 0; ihl < 5; ihl++) {
		memcpy(f, syn_frame, 60);
		f[0] = (uint8_t)(0x40 | ihl);
		CHECK_EQ(ipv4_parse_copy(f, 60, &ip), SYNACK_DROP_IP_HDRLEN);
	}
	/* IHL 15 (60 bytes) in a 40-byte frame, and IHL 6 in a 20-byte one */
	memcpy(f, syn_frame, 60);
	f[0] = 0x4f;
	CHECK_EQ(ipv4_parse_copy(f, 40, &ip), SYNACK_DROP_IP_HDRLEN);
	f[0] = 0x46;
	CHECK_EQ(ipv4_parse_copy(f, 20, &ip), SYNACK_DROP_IP_HDRLEN);
}

TEST(ipv4_reject_total_length)
{
	uint8_t f[60];
	struct wire_ipv4 ip;
	memcpy(f, syn_frame, 60);
	wr16(f + 2, 61); /* too big */
	ip_fix_csum(f);
	CHECK_EQ(ipv4_parse_copy(f, 60, &ip), SYNACK_DROP_IP_LENGTH);
	wr16(f + 2, 19); /* below the header */
	ip_fix_csum(f);
	CHECK_EQ(ipv4_parse_copy(f, 60, &ip), SYNACK_DROP_IP_LENGTH);
	f[0] = 0x46;	      /* 24-byte header, total 23 */
	memset(f + 20, 1, 4); /* its options: four NOPs (a valid list) */
	wr16(f + 2, 23);
	ip_fix_csum(f);
	CHECK_EQ(ipv4_parse_copy(f, 60, &ip), SYNACK_DROP_IP_LENGTH);
	wr16(f + 2, 24); /* header only: fine, empty payload */
	ip_fix_csum(f);
	CHECK_EQ(ipv4_parse_copy(f, 60, &ip), 0);
	CHECK_EQ(ip.payload_len, 0);
}

TEST(ipv4_reject_checksum)
{
	uint8_t f[60];
	struct wire_ipv4 ip;
	for (int i = 0; i < 20; i++) {
		if (i == 0 || i == 2 || i == 3)
			continue; /* those fail earlier checks */
		memcpy(f, syn_frame, 60);
		f[i] ^= 0x10;
		CHECK_EQ(ipv4_parse_copy(f, 60, &ip), SYNACK_DROP_IP_CHECKSUM);
	}
	/* the payload is not covered */
	memcpy(f, syn_frame, 60);
	f[40] ^= 0xff;
	CHECK_EQ(ipv4_parse_copy(f, 60, &ip), 0);
}

TEST(ipv4_fragment_flags)
{
	uint8_t f[60];
	struct wire_ipv4 ip;
	memcpy(f, syn_frame, 60);
	wr16(f + 6, WIRE_IPV4_MF);
	ip_fix_csum(f);
	CHECK_EQ(ipv4_parse_copy(f, 60, &ip), 0);
	CHECK(wire_ipv4_is_fragment(&ip));
	wr16(f + 6, WIRE_IPV4_DF | 5);
	ip_fix_csum(f);
	CHECK_EQ(ipv4_parse_copy(f, 60, &ip), 0);
	CHECK(wire_ipv4_is_fragment(&ip));
	CHECK_EQ(ip.frag & WIRE_IPV4_OFFMASK, 5);
}

TEST(ipv4_emit_roundtrip)
{
	uint8_t f[60];
	synack_addr s = a1(), d = a2();
	struct bbuf b = bbuf_make(f, sizeof f);
	CHECK_EQ(wire_ipv4_emit(&b, &s, &d, WIRE_PROTO_TCP, 64, 0x1c46, WIRE_IPV4_DF, 40), 20);
	CHECK_EQ(b.len, 20);
	CHECK_MEM(f, syn_frame, 20); /* identical to the hand-built header */
	memcpy(f + 20, syn_frame + 20, 40);
	struct wire_ipv4 ip;
	CHECK_EQ(ipv4_parse_copy(f, 60, &ip), 0);
	CHECK(synack_addr_equal(&ip.src, &s));
	CHECK(synack_addr_equal(&ip.dst, &d));
	b = bbuf_make(f, sizeof f);
	CHECK_EQ(wire_ipv4_emit(&b, &d, &s, WIRE_PROTO_ICMP, 1, 7, 0, 0), 20);
	CHECK_EQ(ipv4_parse_copy(f, 20, &ip), 0);
	CHECK_EQ(ip.frag, 0);
	CHECK_EQ(ip.ttl, 1);
	CHECK_EQ(ip.id, 7);
	CHECK_EQ(ip.proto, WIRE_PROTO_ICMP);
	CHECK_EQ(ip.total_len, 20);
	CHECK(synack_addr_equal(&ip.src, &d));
}

/* ---- TCP ---- */

TEST(tcp_parse_real_syn)
{
	struct wire_tcp t;
	CHECK_EQ(tcp_parse_copy(syn_frame + 20, 40, &t), 0);
	CHECK_EQ(t.sport, 40000);
	CHECK_EQ(t.dport, 80);
	CHECK_EQ(t.seq, 0x12345678);
	CHECK_EQ(t.ack, 0);
	CHECK_EQ(t.hdr_len, 40);
	CHECK_EQ(t.flags, SYNACK_TCP_SYN);
	CHECK_EQ(t.wnd, 64240);
	CHECK_EQ(t.csum, 0x33cf);
	CHECK_EQ(t.urp, 0);
	CHECK_EQ(t.opt.has_mss, 1);
	CHECK_EQ(t.opt.mss, 1460);
	CHECK_EQ(t.opt.sack_ok, 1);
	CHECK_EQ(t.opt.has_ts, 1);
	CHECK_EQ(t.opt.ts_val, 1);
	CHECK_EQ(t.opt.ts_ecr, 0);
	CHECK_EQ(t.opt.wscale, 7);
	CHECK_EQ(t.opt.nsack, 0);
	CHECK_EQ(t.payload_len, 0);
	synack_addr s = a1(), d = a2();
	CHECK(wire_tcp_csum_ok(&s, &d, syn_frame + 20, 40));
	CHECK(wire_tcp_csum_ok(&d, &s, syn_frame + 20, 40)); /* the sum is symmetric in the addresses */
	synack_addr x = synack_addr_ipv4(10, 0, 0, 3);
	CHECK(!wire_tcp_csum_ok(&s, &x, syn_frame + 20, 40));
}

TEST(tcp_emit_matches_real_syn)
{
	struct wire_tcp t;
	memset(&t, 0, sizeof t);
	t.sport = 40000;
	t.dport = 80;
	t.seq = 0x12345678;
	t.flags = SYNACK_TCP_SYN;
	t.wnd = 64240;
	t.opt = (struct wire_tcp_opts){
	    .has_mss = 1, .mss = 1460, .sack_ok = 1, .has_ts = 1, .ts_val = 1, .wscale = 7};
	uint8_t seg[60];
	memset(seg, 0xaa, sizeof seg);
	struct bbuf b = bbuf_make(seg, sizeof seg);
	CHECK_EQ(wire_tcp_emit(&b, &t, 0), 40);
	CHECK_EQ(b.len, 40);
	CHECK_EQ(t.hdr_len, 40);
	CHECK_EQ(seg[40], 0xaa);
	CHECK_EQ(rd16(seg + 16), 0);
	synack_addr s = a1(), d = a2();
	wire_tcp_set_csum(seg, 40, &s, &d);
	CHECK_MEM(seg, syn_frame + 20, 40);
}

TEST(tcp_payload)
{
	uint8_t seg[64];
	memcpy(seg, syn_frame + 20, 40);
	memcpy(seg + 40, "hello", 5);
	struct wire_tcp t;
	CHECK_EQ(tcp_parse_copy(seg, 45, &t), 0);
	CHECK_EQ(t.payload_len, 5);
	CHECK_EQ(wire_tcp_parse(seg, 45, &t), 0);
	CHECK(t.payload == seg + 40);
	CHECK_MEM(t.payload, "hello", 5);
}

TEST(tcp_reject_truncated)
{
	struct wire_tcp t;
	for (size_t n = 0; n < 20; n++)
		CHECK_EQ(tcp_parse_copy(syn_frame + 20, n, &t), SYNACK_DROP_TCP_TRUNCATED);
	for (size_t n = 20; n < 40; n++) /* doff 10 beyond the segment */
		CHECK_EQ(tcp_parse_copy(syn_frame + 20, n, &t), SYNACK_DROP_TCP_TRUNCATED);
	uint8_t seg[40];
	memcpy(seg, syn_frame + 20, 40);
	for (int doff = 0; doff < 5; doff++) {
		seg[12] = (uint8_t)(doff << 4);
		CHECK_EQ(tcp_parse_copy(seg, 40, &t), SYNACK_DROP_TCP_TRUNCATED);
	}
	seg[12] = 0xf0; /* 60 bytes > 40 */
	CHECK_EQ(tcp_parse_copy(seg, 40, &t), SYNACK_DROP_TCP_TRUNCATED);
	seg[12] = 0x50;
	CHECK_EQ(tcp_parse_copy(seg, 20, &t), 0);
	CHECK_EQ(t.opt.has_mss, 0);
	CHECK_EQ(t.opt.wscale, -1);
}

static int opts_verdict(const uint8_t *o, size_t n)
{
	struct wire_tcp t;
	return parse_opts(o, n, &t);
}

TEST(tcp_reject_bad_option_lengths)
{
	const int bad = SYNACK_DROP_TCP_OPTIONS;
	static const uint8_t len0[] = {30, 0, 1, 1};
	static const uint8_t len1[] = {30, 1, 1, 1};
	static const uint8_t past[] = {1, 1, 30, 8};		    /* needs 8, 2 left */
	static const uint8_t past2[] = {2, 4, 5, 180, 8, 10, 0, 0}; /* TS cut */
	static const uint8_t nolen[] = {1, 1, 1, 30};		    /* length byte missing */
	static const uint8_t mss3[] = {2, 3, 5, 1};
	static const uint8_t mss5[] = {2, 5, 5, 180, 0, 1, 1, 1};
	static const uint8_t ws4[] = {3, 4, 7, 0};
	static const uint8_t ws2[] = {3, 2, 1, 1};
	static const uint8_t sack9[] = {1, 1, 5, 9, 0, 0, 0, 1, 0, 0, 0, 0};
	static const uint8_t sack2[] = {1, 1, 5, 2};
	static const uint8_t sack11[] = {1, 5, 11, 0, 0, 0, 1, 0, 0, 0, 2, 0};
	static const uint8_t ts9[] = {1, 1, 1, 8, 9, 0, 0, 0, 1, 0, 0, 0};
	static const uint8_t ts11[] = {1, 8, 11, 0, 0, 0, 1, 0, 0, 0, 0, 0};
	static const uint8_t sackok3[] = {4, 3, 0, 0};
	CHECK_EQ(opts_verdict(len0, 4), bad);
	CHECK_EQ(opts_verdict(len1, 4), bad);
	CHECK_EQ(opts_verdict(past, 4), bad);
	CHECK_EQ(opts_verdict(past2, 8), bad);
	CHECK_EQ(opts_verdict(nolen, 4), bad);
	CHECK_EQ(opts_verdict(mss3, 4), bad);
	CHECK_EQ(opts_verdict(mss5, 8), bad);
	CHECK_EQ(opts_verdict(ws4, 4), bad);
	CHECK_EQ(opts_verdict(ws2, 4), bad);
	CHECK_EQ(opts_verdict(sack9, 12), bad);
	CHECK_EQ(opts_verdict(sack2, 4), bad);
	CHECK_EQ(opts_verdict(sack11, 12), bad);
	CHECK_EQ(opts_verdict(ts9, 12), bad);
	CHECK_EQ(opts_verdict(ts11, 12), bad);
	CHECK_EQ(opts_verdict(sackok3, 4), bad);
}

TEST(tcp_reject_option_length_zero_loops_not)
{
	/* a zero length must not make the walk spin in place */
	uint8_t o[40];
	memset(o, 0, sizeof o);
	o[0] = 8;
	CHECK_EQ(opts_verdict(o, 40), SYNACK_DROP_TCP_OPTIONS);
}

TEST(tcp_options_eol_early)
{
	/* MSS, EOL, then garbage that must be ignored (RFC 9293 §3.1) */
	static const uint8_t o[] = {2, 4, 1, 0, 0, 3, 1, 0xff, 8, 1, 2, 3};
	struct wire_tcp t;
	CHECK_EQ(parse_opts(o, sizeof o, &t), 0);
	CHECK_EQ(t.opt.has_mss, 1);
	CHECK_EQ(t.opt.mss, 256);
	CHECK_EQ(t.opt.wscale, -1);
	CHECK_EQ(t.opt.has_ts, 0);
	static const uint8_t eol_first[] = {0, 2, 4, 5};
	CHECK_EQ(parse_opts(eol_first, 4, &t), 0);
	CHECK_EQ(t.opt.has_mss, 0);
}

TEST(tcp_options_nop_runs_and_unknown)
{
	/* NOP x3, MSS, NOP, unknown kind 30 len 6, WS unaligned, NOP x5,
	 * SACKOK, TS, NOP x2, SACK one block */
	static const uint8_t o[] = {1,	1, 1, 2, 4, 0x05, 0xb4, 1, 30, 6,  9, 9, 9, 9, 3, 3,
				    14, 1, 1, 1, 1, 1,	  4,	2, 8,  10, 0, 0, 0, 5, 0, 0,
				    0,	6, 1, 1, 5, 10,	  0,	0, 0,  7,  0, 0, 0, 8};
	/* 46 bytes: too many for one header; split the check in two */
	struct wire_tcp t;
	CHECK_EQ(parse_opts(o, 20, &t), 0);
	CHECK_EQ(t.opt.mss, 1460);
	CHECK_EQ(t.opt.wscale, 14);
	CHECK_EQ(t.opt.has_ts, 0);
	CHECK_EQ(parse_opts(o + 18, 28, &t), 0); /* 1 1 1 1 | SACKOK TS | 1 1 SACK */
	CHECK_EQ(t.opt.sack_ok, 1);
	CHECK_EQ(t.opt.has_ts, 1);
	CHECK_EQ(t.opt.ts_val, 5);
	CHECK_EQ(t.opt.ts_ecr, 6);
	CHECK_EQ(t.opt.nsack, 1);
	CHECK_EQ(t.opt.sack[0][0], 7);
	CHECK_EQ(t.opt.sack[0][1], 8);
	uint8_t all_nop[40];
	memset(all_nop, 1, sizeof all_nop);
	CHECK_EQ(parse_opts(all_nop, 40, &t), 0);
	CHECK_EQ(t.opt.has_mss + t.opt.sack_ok + t.opt.has_ts + t.opt.nsack, 0);
	static const uint8_t unk[] = {30, 6, 1, 2, 3, 4, 2, 4, 0, 100, 0, 0};
	CHECK_EQ(parse_opts(unk, sizeof unk, &t), 0);
	CHECK_EQ(t.opt.mss, 100);
	static const uint8_t unk_end[] = {1, 1, 30, 2}; /* unknown, empty, ends the header */
	CHECK_EQ(parse_opts(unk_end, 4, &t), 0);
}

TEST(tcp_options_packed_without_padding)
{
	/* MSS, WS, SACKOK, TS back to back, then NOP (19 + 1 bytes) */
	static const uint8_t o[] = {2, 4, 2, 0, 3, 3, 2, 4, 2, 8, 10, 1, 2, 3, 4, 5, 6, 7, 8, 1};
	struct wire_tcp t;
	CHECK_EQ(parse_opts(o, sizeof o, &t), 0);
	CHECK_EQ(t.opt.mss, 512);
	CHECK_EQ(t.opt.wscale, 2);
	CHECK_EQ(t.opt.sack_ok, 1);
	CHECK_EQ(t.opt.ts_val, 0x01020304);
	CHECK_EQ(t.opt.ts_ecr, 0x05060708);
}

TEST(tcp_options_wscale_large_saturates)
{
	static const uint8_t o[] = {1, 3, 3, 200};
	struct wire_tcp t;
	CHECK_EQ(parse_opts(o, 4, &t), 0);
	CHECK_EQ(t.opt.wscale, 127); /* > 14: kept large, caller clamps */
	static const uint8_t o2[] = {1, 3, 3, 15};
	CHECK_EQ(parse_opts(o2, 4, &t), 0);
	CHECK_EQ(t.opt.wscale, 15);
}

TEST(tcp_options_four_sack_blocks)
{
	uint8_t o[36] = {1, 1, 5, 34};
	for (int i = 0; i < 8; i++)
		wr32(o + 4 + 4 * i, (uint32_t)(1000 * (i + 1)));
	struct wire_tcp t;
	CHECK_EQ(parse_opts(o, 36, &t), 0);
	CHECK_EQ(t.opt.nsack, 4);
	CHECK_EQ(t.opt.sack[3][0], 7000);
	CHECK_EQ(t.opt.sack[3][1], 8000);
}

/* wire_tcp_opts_emit into a fresh builder over buf[0..cap), the whole of
 * it as room; the builder must agree with the returned length. */
static size_t opts_emit(uint8_t *buf, size_t cap, struct wire_tcp_opts *o)
{
	struct bbuf b = bbuf_make(buf, cap);
	size_t n = wire_tcp_opts_emit(&b, o, cap);
	CHECK_EQ(b.len, n);
	CHECK(bbuf_ok(&b));
	return n;
}

TEST(tcp_opts_emit_layouts)
{
	uint8_t b[40];
	struct wire_tcp_opts o = {.wscale = -1};
	CHECK_EQ(opts_emit(b, sizeof b, &o), 0);
	o.has_ts = 1;
	o.ts_val = 0x11223344;
	o.ts_ecr = 0x55667788;
	CHECK_EQ(opts_emit(b, sizeof b, &o), 12);
	static const uint8_t ts[] = {1, 1, 8, 10, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88};
	CHECK_MEM(b, ts, 12);
	o.sack_ok = 1;
	CHECK_EQ(opts_emit(b, sizeof b, &o), 12);
	CHECK(b[0] == 4 && b[1] == 2 && b[2] == 8 && b[3] == 10);
	o.has_ts = 0;
	CHECK_EQ(opts_emit(b, sizeof b, &o), 4);
	CHECK(b[0] == 1 && b[1] == 1 && b[2] == 4 && b[3] == 2);
	o = (struct wire_tcp_opts){.wscale = 9};
	CHECK_EQ(opts_emit(b, sizeof b, &o), 4);
	CHECK(b[0] == 1 && b[1] == 3 && b[2] == 3 && b[3] == 9);
	o = (struct wire_tcp_opts){.wscale = -1, .nsack = 1, .sack = {{10, 20}}};
	CHECK_EQ(opts_emit(b, sizeof b, &o), 12);
	static const uint8_t sk[] = {1, 1, 5, 10, 0, 0, 0, 10, 0, 0, 0, 20};
	CHECK_MEM(b, sk, 12);
	o = (struct wire_tcp_opts){.has_mss = 1, .mss = 1460, .wscale = -1};
	CHECK_EQ(opts_emit(b, sizeof b, &o), 4);
	CHECK(b[0] == 2 && b[1] == 4 && b[2] == 5 && b[3] == 0xb4);
}

TEST(tcp_opts_emit_cuts_sack)
{
	uint8_t b[64];
	struct wire_tcp_opts o = {.wscale = -1, .has_ts = 1, .nsack = 4};
	for (int i = 0; i < 4; i++) {
		o.sack[i][0] = (uint32_t)i * 100;
		o.sack[i][1] = (uint32_t)i * 100 + 50;
	}
	memset(b, 0xcc, sizeof b);
	CHECK_EQ(opts_emit(b, sizeof b, &o), 40); /* TS 12 + 4 + 3 blocks */
	CHECK_EQ(b[40], 0xcc);
	CHECK_EQ(b[15], 26);
	o.has_mss = 1;
	o.wscale = 3;
	o.sack_ok = 1;
	CHECK_EQ(opts_emit(b, sizeof b, &o), 40); /* 20 + 4 + 2 blocks */
	CHECK_EQ(b[23], 18);
	o.nsack = 200; /* nonsense count: still bounded */
	CHECK(opts_emit(b, sizeof b, &o) <= 40);
	o = (struct wire_tcp_opts){.wscale = -1, .nsack = 4};
	CHECK_EQ(opts_emit(b, sizeof b, &o), 36);
}

/* How many SACK blocks the emitter should keep: 40 bytes minus the rest. */
static unsigned sack_fit(const struct wire_tcp_opts *o)
{
	size_t used = (o->has_mss ? 4 : 0) + (o->has_ts ? 12 : o->sack_ok ? 4 : 0) + (o->wscale >= 0 ? 4 : 0);
	size_t fit = (40 - used - 4) / 8;
	return (unsigned)(o->nsack < fit ? o->nsack : fit);
}

TEST(tcp_opts_roundtrip_every_combination)
{
	for (unsigned m = 0; m < 16 * 5; m++) {
		struct wire_tcp_opts o = {.wscale = -1};
		o.has_mss = m & 1;
		o.mss = (uint16_t)(536 + m);
		if (m & 2)
			o.wscale = (int8_t)(m % 15);
		o.sack_ok = (m >> 2) & 1;
		o.has_ts = (m >> 3) & 1;
		o.ts_val = 0xdeadbeef + m;
		o.ts_ecr = 0x01020304 * m;
		o.nsack = (uint8_t)(m / 16);
		for (unsigned i = 0; i < o.nsack; i++) {
			o.sack[i][0] = 1000 * i + m;
			o.sack[i][1] = 1000 * i + m + 500;
		}
		uint8_t b[40];
		unsigned want = sack_fit(&o);
		size_t n = opts_emit(b, sizeof b, &o);
		CHECK(n <= 40);
		CHECK_EQ(n % 4, 0);
		struct wire_tcp t;
		CHECK_EQ(parse_opts(b, n, &t), 0);
		CHECK_EQ(t.opt.has_mss, o.has_mss);
		if (o.has_mss)
			CHECK_EQ(t.opt.mss, o.mss);
		CHECK_EQ(t.opt.wscale, o.wscale);
		CHECK_EQ(t.opt.sack_ok, o.sack_ok);
		CHECK_EQ(t.opt.has_ts, o.has_ts);
		if (o.has_ts) {
			CHECK_EQ(t.opt.ts_val, o.ts_val);
			CHECK_EQ(t.opt.ts_ecr, o.ts_ecr);
		}
		CHECK_EQ(t.opt.nsack, want);
		CHECK_EQ(o.nsack, want); /* the emitter says how many it wrote */
		for (unsigned i = 0; i < t.opt.nsack; i++) {
			CHECK_EQ(t.opt.sack[i][0], o.sack[i][0]);
			CHECK_EQ(t.opt.sack[i][1], o.sack[i][1]);
		}
	}
}

TEST(tcp_emit_parse_roundtrip_header)
{
	struct wire_tcp t, u;
	memset(&t, 0, sizeof t);
	t.sport = 1;
	t.dport = 65535;
	t.seq = 0xfffffff0;
	t.ack = 0x80000001;
	t.flags = 0xff;
	t.wnd = 1234;
	t.urp = 77;
	t.opt.wscale = -1;
	t.opt.has_ts = 1;
	t.opt.ts_val = 42;
	uint8_t seg[64];
	struct bbuf b = bbuf_make(seg, sizeof seg);
	size_t hl = wire_tcp_emit(&b, &t, 3);
	CHECK_EQ(hl, 32);
	CHECK_EQ(b.len, 32);
	memcpy(seg + hl, "xyz", 3);
	synack_addr s = a1(), d = a2();
	wire_tcp_set_csum(seg, hl + 3, &s, &d);
	CHECK(wire_tcp_csum_ok(&s, &d, seg, hl + 3));
	CHECK_EQ(tcp_parse_copy(seg, hl + 3, &u), 0);
	CHECK_EQ(u.sport, 1);
	CHECK_EQ(u.dport, 65535);
	CHECK_EQ(u.seq, 0xfffffff0);
	CHECK_EQ(u.ack, 0x80000001);
	CHECK_EQ(u.flags, 0xff);
	CHECK_EQ(u.wnd, 1234);
	CHECK_EQ(u.urp, 77);
	CHECK_EQ(u.hdr_len, 32);
	CHECK_EQ(u.payload_len, 3);
	CHECK_EQ(u.opt.ts_val, 42);
}

/* Set the checksum, check it validates, then that every flipped byte fails. */
static void check_csum_detects(const synack_addr *s, const synack_addr *d, size_t len)
{
	uint8_t seg[64];
	memcpy(seg, syn_frame + 20, 40);
	memcpy(seg + 40, "abcdefghijklmnopqrstuvwx", 24);
	wire_tcp_set_csum(seg, len, s, d);
	CHECK(wire_tcp_csum_ok(s, d, seg, len));
	for (size_t i = 0; i < len; i++) {
		seg[i] ^= 0x01;
		CHECK(!wire_tcp_csum_ok(s, d, seg, len));
		seg[i] ^= 0x01;
	}
	synack_addr other = *d;
	other.bytes[other.family == SYNACK_AF_INET6 ? 15 : 3] ^= 0x40;
	CHECK(!wire_tcp_csum_ok(s, &other, seg, len));
}

TEST(tcp_csum_ipv4)
{
	synack_addr s = a1(), d = a2();
	check_csum_detects(&s, &d, 40);
	check_csum_detects(&s, &d, 41); /* odd length */
	check_csum_detects(&s, &d, 64);
	uint8_t seg[40];
	memcpy(seg, syn_frame + 20, 40);
	wire_tcp_set_csum(seg, 40, &s, &d);
	CHECK_EQ(rd16(seg + 16), 0x33cf); /* the hand-computed value */
}

TEST(tcp_csum_ipv6)
{
	synack_addr s = a6(1), d = a6(2);
	check_csum_detects(&s, &d, 40);
	check_csum_detects(&s, &d, 43);
	uint8_t seg[40];
	memcpy(seg, syn_frame + 20, 40);
	wire_tcp_set_csum(seg, 40, &s, &d);
	CHECK_EQ(rd16(seg + 16), 0xec5c); /* 2001:db8::1 -> ::2, hand-computed */
	/* the IPv4 sum of the same bytes differs: the pseudo header matters */
	synack_addr s4 = a1(), d4 = a2();
	CHECK(!wire_tcp_csum_ok(&s4, &d4, seg, 40));
}

/* ---- ICMP ---- */

TEST(icmp_echo_emit_known_value)
{
	static const uint8_t rest[4] = {0x12, 0x34, 0x00, 0x01};
	uint8_t b[16];
	struct bbuf w = bbuf_make(b, sizeof b);
	CHECK_EQ(wire_icmp_emit(&w, WIRE_ICMP_ECHO_REQUEST, 0, rest, (const uint8_t *)"abcdefg", 7), 15);
	CHECK_EQ(w.len, 15);
	CHECK_EQ(b[0], 8);
	CHECK_EQ(b[1], 0);
	CHECK_EQ(rd16(b + 2), 0x549d); /* hand-computed */
	CHECK_MEM(b + 4, rest, 4);
	CHECK_MEM(b + 8, "abcdefg", 7);
}

TEST(icmp_echo_parse)
{
	static const uint8_t rest[4] = {0xbe, 0xef, 0x00, 0x2a};
	uint8_t b[64];
	struct bbuf w = bbuf_make(b, sizeof b);
	size_t n = wire_icmp_emit(&w, WIRE_ICMP_ECHO_REQUEST, 0, rest, (const uint8_t *)"ping!", 5);
	CHECK_EQ(n, 13);
	struct wire_icmp ic;
	CHECK_EQ(icmp_parse_copy(b, n, &ic), 0);
	CHECK_EQ(ic.type, WIRE_ICMP_ECHO_REQUEST);
	CHECK_EQ(ic.code, 0);
	CHECK_MEM(ic.rest, rest, 4);
	CHECK_EQ(ic.body_len, 5);
	CHECK_EQ(wire_icmp_parse(b, n, &ic), 0);
	CHECK(ic.body == b + 8);
	for (size_t i = 0; i < n; i++) {
		b[i] ^= 0x80;
		CHECK_EQ(icmp_parse_copy(b, n, &ic), SYNACK_DROP_ICMP_CHECKSUM);
		b[i] ^= 0x80;
	}
	for (size_t i = 0; i < 8; i++)
		CHECK_EQ(icmp_parse_copy(b, i, &ic), SYNACK_DROP_ICMP_TRUNCATED);
	/* header only */
	w = bbuf_make(b, sizeof b);
	n = wire_icmp_emit(&w, WIRE_ICMP_ECHO_REPLY, 0, rest, NULL, 0);
	CHECK_EQ(n, 8);
	CHECK_EQ(icmp_parse_copy(b, n, &ic), 0);
	CHECK_EQ(ic.body_len, 0);
}

TEST(icmp_echo_reply_in_place)
{
	/* turn a request into a reply in the same buffer (body aliases buf+8,
	 * rest aliases buf+4) */
	static const uint8_t rest[4] = {1, 2, 3, 4};
	uint8_t b[32];
	struct bbuf w = bbuf_make(b, sizeof b);
	size_t n = wire_icmp_emit(&w, WIRE_ICMP_ECHO_REQUEST, 0, rest, (const uint8_t *)"0123456789", 10);
	CHECK_EQ(n, 18);
	struct wire_icmp ic;
	CHECK_EQ(wire_icmp_parse(b, n, &ic), 0);
	w = bbuf_make(b, sizeof b);
	CHECK_EQ(wire_icmp_emit(&w, WIRE_ICMP_ECHO_REPLY, 0, b + 4, ic.body, ic.body_len), n);
	CHECK_EQ(wire_icmp_parse(b, n, &ic), 0);
	CHECK_EQ(ic.type, WIRE_ICMP_ECHO_REPLY);
	CHECK_MEM(ic.rest, rest, 4);
	CHECK_MEM(ic.body, "0123456789", 10);
}

/* ---- every emitter is bounded: it writes nothing past the builder's
 * capacity, returns 0 and sets the sticky flag when the message does not
 * fit, and does nothing once the flag is set ---- */

enum { CANARY = 0x5c, GUARD_LEN = 320 };

static bool canary_intact(const uint8_t *buf, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		if (buf[i] != CANARY)
			return false;
	return true;
}

static const uint8_t mac_a[6] = {0x02, 0, 0, 0, 0, 1}, mac_b[6] = {0x02, 0, 0, 0, 0, 2};
static const uint8_t rest4[4] = {0x12, 0x34, 0x56, 0x78};

static size_t em_eth(struct bbuf *b)
{
	return wire_eth_emit(b, mac_a, mac_b, WIRE_ETH_IPV4);
}

static size_t em_arp(struct bbuf *b)
{
	struct wire_arp a = {.op = WIRE_ARP_REQUEST, .spa = a1(), .tpa = a2()};
	memcpy(a.sha, mac_a, 6);
	return wire_arp_emit(b, &a);
}

static size_t em_ipv4(struct bbuf *b)
{
	synack_addr s = a1(), d = a2();
	return wire_ipv4_emit(b, &s, &d, WIRE_PROTO_TCP, 64, 1, WIRE_IPV4_MF | 185, 40);
}

static size_t em_ipv6(struct bbuf *b)
{
	synack_addr s = a6(1), d = a6(2);
	return wire_ipv6_emit(b, &s, &d, WIRE_PROTO_TCP, 64, 20);
}

static size_t em_ipv6_frag(struct bbuf *b)
{
	return wire_ipv6_frag_emit(b, WIRE_PROTO_TCP, 185, true, 0xdeadbeef);
}

static size_t em_icmp(struct bbuf *b)
{
	return wire_icmp_emit(b, WIRE_ICMP_ECHO_REQUEST, 0, rest4, (const uint8_t *)"abcdefg", 7);
}

static size_t em_icmp6(struct bbuf *b)
{
	synack_addr s = a6(1), d = a6(2);
	return wire_icmp6_emit(b, &s, &d, WIRE_ICMP6_ECHO_REQUEST, 0, rest4, (const uint8_t *)"abcdefg", 7);
}

static size_t em_nd_ns(struct bbuf *b)
{
	synack_addr s = a6(1), d = a6(2);
	return wire_nd_emit(b, &s, &d, WIRE_ND_NS, 0, &d, mac_a);
}

static size_t em_nd_na(struct bbuf *b)
{
	synack_addr s = a6(1), d = a6(2);
	return wire_nd_emit(b, &s, &d, WIRE_ND_NA, WIRE_NA_SOLICITED, &s, NULL);
}

/* A TCP header with every option a SYN carries (no SACK blocks). */
static size_t em_tcp_syn(struct bbuf *b)
{
	struct wire_tcp t = {.sport = 40000, .dport = 80, .seq = 1, .flags = SYNACK_TCP_SYN, .wnd = 65535};
	t.opt = (struct wire_tcp_opts){
	    .has_mss = 1, .mss = 1460, .sack_ok = 1, .has_ts = 1, .ts_val = 1, .wscale = 7};
	return wire_tcp_emit(b, &t, 0);
}

/* A data segment's header: timestamps and four SACK blocks, 100 bytes of
 * payload to leave room for. */
static size_t em_tcp_sack(struct bbuf *b)
{
	struct wire_tcp t = {
	    .sport = 80, .dport = 40000, .seq = 7, .ack = 9, .flags = SYNACK_TCP_ACK, .wnd = 512};
	t.opt = (struct wire_tcp_opts){.wscale = -1, .has_ts = 1, .ts_val = 5, .ts_ecr = 6, .nsack = 4};
	for (uint32_t i = 0; i < 4; i++) {
		t.opt.sack[i][0] = 1000 * i + 100;
		t.opt.sack[i][1] = 1000 * i + 200;
	}
	return wire_tcp_emit(b, &t, 100);
}

struct emitter {
	const char *name;
	size_t (*fn)(struct bbuf *b);
	size_t need;	/* the smallest capacity it fits in */
	size_t payload; /* bytes it must leave free after itself (TCP) */
};

static const struct emitter emitters[] = {
    {"eth", em_eth, 14, 0},
    {"arp", em_arp, 28, 0},
    {"ipv4", em_ipv4, 20, 0},
    {"ipv6", em_ipv6, 40, 0},
    {"ipv6 fragment", em_ipv6_frag, 8, 0},
    {"icmp", em_icmp, 15, 0},
    {"icmp6", em_icmp6, 15, 0},
    {"nd ns", em_nd_ns, 32, 0},
    {"nd na", em_nd_na, 24, 0},
    {"tcp syn options", em_tcp_syn, 40, 0},
    {"tcp ts+sack", em_tcp_sack, 20 + 12 + 100, 100}, /* SACK blocks are cut, TS is not */
};

/* Emit with `cap` bytes of room after `pre` bytes already in the builder. */
static void check_emit_at(const struct emitter *e, size_t pre, size_t cap)
{
	uint8_t buf[GUARD_LEN];
	memset(buf, CANARY, sizeof buf);
	struct bbuf b = bbuf_make(buf, pre + cap);
	bbuf_zero(&b, pre);
	size_t n = e->fn(&b);
	if (cap >= e->need && (n == 0 || !bbuf_ok(&b) || b.len != pre + n || n + e->payload > cap))
		unit_fail(__FILE__, __LINE__, "%s, room %zu after %zu: returned %zu, len %zu, overflow %d",
			  e->name, cap, pre, n, b.len, b.overflow);
	if (cap < e->need && (n != 0 || bbuf_ok(&b) || b.len != pre))
		unit_fail(__FILE__, __LINE__, "%s, room %zu (needs %zu): returned %zu, len %zu, overflow %d",
			  e->name, cap, e->need, n, b.len, b.overflow);
	/* nothing past the capacity, nor past what it says it wrote */
	if (!canary_intact(buf, cap >= e->need ? pre + n : pre + cap, sizeof buf))
		unit_fail(__FILE__, __LINE__, "%s, room %zu after %zu: wrote past its end", e->name, cap,
			  pre);
}

/* Once the flag is set, the emitter and any later write are no-ops. */
static void check_sticky(const struct emitter *e)
{
	uint8_t buf[GUARD_LEN], snap[GUARD_LEN];
	memset(buf, CANARY, sizeof buf);
	struct bbuf b = bbuf_make(buf, sizeof buf - 1);
	CHECK(bbuf_reserve(&b, sizeof buf) == NULL);
	if (e->fn(&b) != 0 || bbuf_ok(&b) || b.len != 0 || !canary_intact(buf, 0, sizeof buf))
		unit_fail(__FILE__, __LINE__, "%s wrote into an overflowed builder", e->name);
	/* overflowed by the emitter itself: what would still fit (a byte)
	 * is refused too */
	b = bbuf_make(buf, e->need - 1);
	e->fn(&b);
	size_t len = b.len;
	memcpy(snap, buf, sizeof buf);
	if (em_ipv6_frag(&b) != 0 || em_eth(&b) != 0 || bbuf_ok(&b) || b.len != len)
		unit_fail(__FILE__, __LINE__, "%s: a write after its overflow went through", e->name);
	bbuf_u8(&b, 1);
	bbuf_put(&b, "x", 1);
	if (b.len != len || memcmp(snap, buf, sizeof buf) != 0)
		unit_fail(__FILE__, __LINE__, "%s: bytes written after the overflow", e->name);
}

TEST(emitters_are_bounded)
{
	for (size_t i = 0; i < ARRAY_LEN(emitters); i++) {
		const struct emitter *e = &emitters[i];
		for (size_t pre = 0; pre <= 5; pre += 5)
			for (size_t cap = 0; cap <= e->need + 64; cap++)
				check_emit_at(e, pre, cap);
		check_sticky(e);
	}
}

TEST(emitters_refuse_lengths_their_fields_cannot_hold)
{
	uint8_t buf[64];
	synack_addr s = a1(), d = a2(), s6 = a6(1), d6 = a6(2);
	struct bbuf b = bbuf_make(buf, sizeof buf);
	CHECK_EQ(wire_ipv4_emit(&b, &s, &d, WIRE_PROTO_TCP, 64, 1, 0, 65515), 20); /* Total Length 65535 */
	CHECK_EQ(rd16(buf + 2), 65535);
	b = bbuf_make(buf, sizeof buf);
	CHECK_EQ(wire_ipv4_emit(&b, &s, &d, WIRE_PROTO_TCP, 64, 1, 0, 65516), 0);
	CHECK(!bbuf_ok(&b));
	b = bbuf_make(buf, sizeof buf);
	CHECK_EQ(wire_ipv6_emit(&b, &s6, &d6, WIRE_PROTO_TCP, 64, 65535), 40);
	b = bbuf_make(buf, sizeof buf);
	CHECK_EQ(wire_ipv6_emit(&b, &s6, &d6, WIRE_PROTO_TCP, 64, 65536), 0);
	CHECK(!bbuf_ok(&b));
	b = bbuf_make(buf, sizeof buf); /* a body length that wraps the sum: refused, not read */
	CHECK_EQ(wire_icmp_emit(&b, WIRE_ICMP_ECHO_REQUEST, 0, rest4, buf, SIZE_MAX - 3), 0);
	CHECK(!bbuf_ok(&b));
	b = bbuf_make(buf, sizeof buf);
	CHECK_EQ(wire_icmp6_emit(&b, &s6, &d6, WIRE_ICMP6_ECHO_REQUEST, 0, rest4, buf, SIZE_MAX), 0);
	CHECK(!bbuf_ok(&b));
}

/* The TCP segment of sack_cut_case: fixed options `kind`, four SACK blocks. */
static struct wire_tcp sack_segment(const struct wire_tcp_opts *kind)
{
	struct wire_tcp t = {.sport = 80,
			     .dport = 4000,
			     .seq = 0x01020304,
			     .ack = 0xfffffff0,
			     .flags = SYNACK_TCP_ACK,
			     .wnd = 100};
	t.opt = *kind;
	t.opt.nsack = 4;
	for (uint32_t i = 0; i < 4; i++) {
		t.opt.sack[i][0] = 0xfffff000 + 3000 * i;
		t.opt.sack[i][1] = 0xfffff000 + 3000 * i + 1448;
	}
	return t;
}

/* SACK blocks that fit beside `fixed` option bytes in `room` (RFC 2018 §3). */
static unsigned sack_blocks_fitting(size_t fixed, size_t room)
{
	room = MIN(room, (size_t)WIRE_TCP_MAX_OPTS) - fixed;
	return room < 4 + 8 ? 0 : (unsigned)MIN((room - 4) / 8, 4);
}

static void check_parsed_sack(const struct wire_tcp *t, const uint8_t *seg, size_t hl)
{
	struct wire_tcp u;
	CHECK_EQ(tcp_parse_copy(seg, hl, &u), 0);
	CHECK_EQ(u.hdr_len, hl);
	CHECK_EQ(u.seq, t->seq);
	CHECK_EQ(u.ack, t->ack);
	CHECK_EQ(u.flags, t->flags);
	CHECK_EQ(u.opt.has_mss, t->opt.has_mss);
	CHECK_EQ(u.opt.wscale, t->opt.wscale);
	CHECK_EQ(u.opt.has_ts, t->opt.has_ts);
	CHECK_EQ(u.opt.ts_val, t->opt.has_ts ? t->opt.ts_val : 0);
	CHECK_EQ(u.opt.nsack, t->opt.nsack);
	for (unsigned i = 0; i < u.opt.nsack; i++) {
		CHECK_EQ(u.opt.sack[i][0], t->opt.sack[i][0]);
		CHECK_EQ(u.opt.sack[i][1], t->opt.sack[i][1]);
	}
}

/* wire_tcp_emit with `cap` bytes and payload bytes to leave free: the
 * first blocks that fit, or an overflow when the fixed options do not. */
static void sack_cut_case(const struct wire_tcp_opts *kind, size_t payload, size_t cap)
{
	uint8_t buf[700];
	memset(buf, CANARY, sizeof buf);
	struct wire_tcp t = sack_segment(kind);
	struct wire_tcp_opts none = *kind;
	size_t fixed = wire_tcp_opts_len(&none);
	struct bbuf b = bbuf_make(buf, cap);
	size_t hl = wire_tcp_emit(&b, &t, payload);
	if (cap < WIRE_TCP_HDR + fixed + payload) {
		CHECK_EQ(hl, 0);
		CHECK(!bbuf_ok(&b));
		CHECK(canary_intact(buf, 0, sizeof buf)); /* nothing written at all */
		return;
	}
	unsigned k = sack_blocks_fitting(fixed, cap - WIRE_TCP_HDR - payload);
	CHECK_EQ(t.opt.nsack, k);
	CHECK_EQ(hl, WIRE_TCP_HDR + fixed + (k ? 4 + 8 * k : 0));
	CHECK_EQ(t.hdr_len, hl);
	CHECK_EQ(b.len, hl);
	CHECK_EQ(hl % 4, 0);
	CHECK(hl + payload <= cap);
	CHECK(canary_intact(buf, hl, sizeof buf));
	check_parsed_sack(&t, buf, hl);
}

TEST(tcp_emit_cuts_sack_blocks_to_fit)
{
	static const struct wire_tcp_opts kinds[] = {
	    {.wscale = -1},
	    {.wscale = -1, .has_ts = 1, .ts_val = 7, .ts_ecr = 9},
	    {.wscale = 7, .has_mss = 1, .mss = 1460, .sack_ok = 1, .has_ts = 1, .ts_val = 7},
	};
	static const size_t payloads[] = {0, 1, 536};
	for (size_t i = 0; i < ARRAY_LEN(kinds); i++)
		for (size_t j = 0; j < ARRAY_LEN(payloads); j++)
			for (size_t cap = 0; cap <= WIRE_TCP_HDR + 44 + payloads[j]; cap++)
				sack_cut_case(&kinds[i], payloads[j], cap);
	/* all four fit beside nothing else; a full-sized segment cuts them */
	uint8_t buf[1500];
	struct wire_tcp t = sack_segment(&kinds[0]);
	struct bbuf b = bbuf_make(buf, sizeof buf);
	CHECK_EQ(wire_tcp_emit(&b, &t, 1000), 20 + 36);
	CHECK_EQ(t.opt.nsack, 4);
	t = sack_segment(&kinds[1]);
	b = bbuf_make(buf, sizeof buf);
	CHECK_EQ(wire_tcp_emit(&b, &t, 1500 - 20 - 12 - 12), 20 + 12 + 12); /* one block beside TS */
	CHECK_EQ(t.opt.nsack, 1);
	t = sack_segment(&kinds[1]);
	b = bbuf_make(buf, sizeof buf);
	CHECK_EQ(wire_tcp_emit(&b, &t, 1500 - 20 - 12), 20 + 12); /* a full MSS: none */
	CHECK_EQ(t.opt.nsack, 0);
	t = sack_segment(&kinds[1]);
	b = bbuf_make(buf, sizeof buf);
	CHECK_EQ(wire_tcp_emit(&b, &t, 1500 - 20 - 12 + 1), 0); /* TS cannot be cut: overflow */
	CHECK(!bbuf_ok(&b));
	CHECK_EQ(b.len, 0); /* and nothing taken */
	t = sack_segment(&kinds[1]);
	b = bbuf_make(buf, sizeof buf);
	CHECK_EQ(wire_tcp_emit(&b, &t, SIZE_MAX - 10), 0); /* a payload length that wraps the sum */
	CHECK(!bbuf_ok(&b));
}

static struct wire_tcp_opts random_opts(synack_prng *r)
{
	uint64_t x = synack_prng_next(r);
	struct wire_tcp_opts o = {.wscale = -1};
	o.has_mss = x & 1;
	o.mss = (uint16_t)(x >> 8);
	if (x & 2)
		o.wscale = (int8_t)((x >> 24) % 15);
	o.sack_ok = (x >> 2) & 1;
	o.has_ts = (x >> 3) & 1;
	o.ts_val = (uint32_t)synack_prng_next(r);
	o.ts_ecr = (uint32_t)synack_prng_next(r);
	o.nsack = (uint8_t)((x >> 32) % 7); /* 5 and 6: more than the array; at most 4 are used */
	for (unsigned i = 0; i < WIRE_TCP_MAX_SACK; i++) {
		o.sack[i][0] = (uint32_t)synack_prng_next(r);
		o.sack[i][1] = (uint32_t)synack_prng_next(r);
	}
	return o;
}

TEST(tcp_opts_len_matches_emit)
{
	synack_prng r;
	synack_prng_seed(&r, 2018);
	for (int i = 0; i < 20000; i++) {
		struct wire_tcp_opts o = random_opts(&r), w = o;
		size_t len = wire_tcp_opts_len(&o);
		uint8_t buf[64];
		memset(buf, CANARY, sizeof buf);
		struct bbuf b = bbuf_make(buf, sizeof buf);
		CHECK_EQ(wire_tcp_opts_emit(&b, &w, WIRE_TCP_MAX_OPTS), len);
		CHECK_EQ(b.len, len);
		CHECK(len <= WIRE_TCP_MAX_OPTS && len % 4 == 0);
		CHECK(canary_intact(buf, len, sizeof buf));
		CHECK_EQ(wire_tcp_opts_len(&w), len); /* w.nsack now says what was written */
		/* less room: fewer SACK blocks, or nothing when the rest does not fit */
		size_t room = (size_t)synack_prng_below(&r, WIRE_TCP_MAX_OPTS + 1);
		struct wire_tcp_opts none = o;
		none.nsack = 0;
		w = o;
		b = bbuf_make(buf, sizeof buf);
		size_t n = wire_tcp_opts_emit(&b, &w, room);
		if (room < wire_tcp_opts_len(&none)) {
			CHECK(n == 0 && !bbuf_ok(&b) && b.len == 0);
			continue;
		}
		CHECK(n <= room && bbuf_ok(&b) && b.len == n);
		CHECK_EQ(n, wire_tcp_opts_len(&w));
		unsigned fit = sack_blocks_fitting(wire_tcp_opts_len(&none), room);
		CHECK_EQ(w.nsack, MIN(MIN(o.nsack, WIRE_TCP_MAX_SACK), fit));
	}
}

/* ---- robustness: random bytes never crash, verdicts are stable ---- */

TEST(parsers_random_input)
{
	synack_prng r;
	synack_prng_seed(&r, 99);
	uint8_t b[128];
	for (int i = 0; i < 20000; i++) {
		size_t len = (size_t)synack_prng_below(&r, sizeof b + 1);
		synack_prng_fill(&r, b, len);
		if (i & 1) { /* plausible headers reach deeper */
			b[0] = (uint8_t)(0x45 + (i & 3));
			if (len > 12)
				b[12] = (uint8_t)(0x50 + (i & 0xa0));
		}
		struct wire_ipv4 ip;
		struct wire_tcp t;
		struct wire_icmp ic;
		int v = ipv4_parse_copy(b, len, &ip);
		CHECK(v == 0 || (v > SYNACK_DROP_FIRST_ && v < SYNACK_DROP_LAST_));
		if (v == 0)
			CHECK(ip.payload_len <= len - ip.hdr_len);
		v = tcp_parse_copy(b, len, &t);
		CHECK(v == 0 || v == SYNACK_DROP_TCP_TRUNCATED || v == SYNACK_DROP_TCP_OPTIONS);
		if (v == 0)
			CHECK(t.hdr_len + t.payload_len == len && t.opt.nsack <= 4);
		v = icmp_parse_copy(b, len, &ic);
		CHECK(v == 0 || v == SYNACK_DROP_ICMP_TRUNCATED || v == SYNACK_DROP_ICMP_CHECKSUM);
	}
}
