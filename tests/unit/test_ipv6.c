/* IPv6: wire formats (header, extension headers, ICMPv6, ND), input
 * checks and their counters, ICMPv6 echo and errors (rate-limited),
 * Neighbor Discovery on virtual time, ICMP and ICMPv6 errors reaching TCP,
 * and TCP over IPv6 between two stacks on a raw IP and an Ethernet link. */
#include "harness.h"
#include "net_frames.h"
#include "unit.h"

static struct nf_cap cap;
static synack_prng rng;

static synack_addr us6(void)
{
	return nf_ip6("2001:db8::2");
}
static synack_addr peer6(void)
{
	return nf_ip6("2001:db8::1");
}
static synack_addr peer_ll(void)
{
	return nf_ip6("fe80::1");
}

/* An IPv6-only stack (2001:db8::2/64) on a raw IP or Ethernet link. */
static synack_stack *mk6(bool eth)
{
	synack_stack_config cfg;
	synack_stack *st;
	nf_config(&cfg, &cap, &rng, eth);
	cfg.addr = (synack_addr){0};
	cfg.addr6 = us6();
	cfg.prefix6_len = 64;
	CHECK_EQ(synack_stack_create(&cfg, 0, &st), 0);
	cap.n = 0;
	return st;
}

TEST(ipv6_parse_emit_and_errors)
{
	uint8_t f[128];
	synack_addr s = peer6(), d = us6();
	struct bbuf b = bbuf_make(f, sizeof f);
	CHECK_EQ(wire_ipv6_emit(&b, &s, &d, WIRE_PROTO_TCP, 64, 20), 40);
	CHECK_EQ(b.len, 40);
	struct wire_ipv6 ip;
	CHECK_EQ(wire_ipv6_parse(f, 60, &ip), 0);
	CHECK_EQ(ip.next, WIRE_PROTO_TCP);
	CHECK_EQ(ip.hop_limit, 64);
	CHECK_EQ(ip.payload_len, 20);
	CHECK(synack_addr_equal(&ip.src, &s) && synack_addr_equal(&ip.dst, &d));
	CHECK_EQ(wire_ipv6_parse(f, 70, &ip), 0); /* trailing link padding */
	CHECK_EQ(ip.payload_len, 20);
	CHECK_EQ(wire_ipv6_parse(f, 39, &ip), SYNACK_DROP_IP_TRUNCATED);
	CHECK_EQ(wire_ipv6_parse(f, 59, &ip), SYNACK_DROP_IP_LENGTH);
	f[0] = 0x40;
	CHECK_EQ(wire_ipv6_parse(f, 60, &ip), SYNACK_DROP_IP_VERSION);
	synack_addr sn, a = nf_ip6("2001:db8::12:3456"), want = nf_ip6("ff02::1:ff12:3456");
	wire_ip6_solicited_node(&sn, &a);
	CHECK(synack_addr_equal(&sn, &want));
	CHECK(wire_ip6_is_linklocal(&(synack_addr){.family = 6, .bytes = {0xfe, 0x80}}));
	synack_addr p1 = nf_ip6("2001:db8:0:1::1"), p2 = nf_ip6("2001:db8:0:1:ffff::");
	CHECK(wire_addr_prefix_match(&p1, &p2, 64));
	CHECK(!wire_addr_prefix_match(&p1, &p2, 65));
}

TEST(ipv6_extension_headers)
{
	struct wire_ipv6_ext x;
	/* Hop-by-Hop: next TCP, one PadN of 4 bytes */
	uint8_t hbh[8] = {WIRE_PROTO_TCP, 0, 1, 4, 0, 0, 0, 0};
	CHECK_EQ(wire_ipv6_ext_parse(WIRE_PROTO_HOPOPTS, hbh, 8, &x), 0);
	CHECK_EQ(x.next, WIRE_PROTO_TCP);
	CHECK_EQ(x.len, 8);
	CHECK_EQ(x.bad_option, 0);
	uint8_t unk[8] = {WIRE_PROTO_TCP, 0, 0x87, 2, 0, 0, 0, 0}; /* action 10 */
	CHECK_EQ(wire_ipv6_ext_parse(WIRE_PROTO_DSTOPTS, unk, 8, &x), 0);
	CHECK_EQ(x.bad_option, 2);
	CHECK_EQ(x.bad_action, 2);
	uint8_t skip[8] = {WIRE_PROTO_TCP, 0, 0x07, 2, 0, 0, 0, 0}; /* action 00: skipped */
	CHECK_EQ(wire_ipv6_ext_parse(WIRE_PROTO_DSTOPTS, skip, 8, &x), 0);
	CHECK_EQ(x.bad_option, 0);
	uint8_t over[8] = {WIRE_PROTO_TCP, 0, 1, 9, 0, 0, 0, 0}; /* PadN past the header */
	CHECK_EQ(wire_ipv6_ext_parse(WIRE_PROTO_DSTOPTS, over, 8, &x), SYNACK_DROP_IP6_EXT_HEADER);
	uint8_t big[8] = {WIRE_PROTO_TCP, 1, 1, 4, 0, 0, 0, 0}; /* 16 bytes in an 8-byte buffer */
	CHECK_EQ(wire_ipv6_ext_parse(WIRE_PROTO_DSTOPTS, big, 8, &x), SYNACK_DROP_IP6_EXT_HEADER);
	uint8_t rh[8] = {WIRE_PROTO_TCP, 0, 0, 1, 0, 0, 0, 0};
	CHECK_EQ(wire_ipv6_ext_parse(WIRE_PROTO_ROUTING, rh, 8, &x), 0);
	CHECK_EQ(x.segments_left, 1);
	uint8_t fh[8] = {WIRE_PROTO_ICMPV6, 0, 0x00, 0x11, 0xde, 0xad, 0xbe, 0xef}; /* offset 2, M */
	CHECK_EQ(wire_ipv6_ext_parse(WIRE_PROTO_FRAGMENT, fh, 8, &x), 0);
	CHECK_EQ(x.frag_offset, 2);
	CHECK(x.frag_more);
	CHECK_EQ(x.frag_id, 0xdeadbeef);
	CHECK_EQ(wire_ipv6_ext_parse(WIRE_PROTO_FRAGMENT, fh, 7, &x), SYNACK_DROP_IP6_EXT_HEADER);
}

TEST(icmpv6_and_nd_formats)
{
	uint8_t m[128];
	synack_addr s = peer6(), d = us6(), t = us6();
	const uint8_t rest[4] = {0, 1, 0, 2};
	struct bbuf b = bbuf_make(m, sizeof m);
	size_t n = wire_icmp6_emit(&b, &s, &d, WIRE_ICMP6_ECHO_REQUEST, 0, rest, (const uint8_t *)"abcd", 4);
	CHECK_EQ(n, 12);
	struct wire_icmp ic;
	CHECK_EQ(wire_icmp6_parse(&s, &d, m, n, &ic), 0);
	CHECK_EQ(ic.type, WIRE_ICMP6_ECHO_REQUEST);
	CHECK_EQ(ic.body_len, 4);
	CHECK_EQ(wire_icmp6_parse(&d, &s, m, n, &ic), 0); /* the pseudo header sum is symmetric */
	synack_addr other = nf_ip6("2001:db8::3");
	CHECK_EQ(wire_icmp6_parse(&other, &d, m, n, &ic), SYNACK_DROP_ICMP_CHECKSUM);
	CHECK_EQ(wire_icmp6_parse(&s, &d, m, 7, &ic), SYNACK_DROP_ICMP_TRUNCATED);
	/* NS with a source link-layer option */
	b = bbuf_make(m, sizeof m);
	n = wire_nd_emit(&b, &s, &d, WIRE_ND_NS, 0, &t, NF_MAC_PEER);
	CHECK_EQ(n, 32);
	struct wire_nd nd;
	CHECK_EQ(wire_icmp6_parse(&s, &d, m, n, &ic), 0);
	CHECK_EQ(wire_nd_parse(&ic, &nd), 0);
	CHECK(nd.has_lla);
	CHECK_MEM(nd.lla, NF_MAC_PEER, 6);
	CHECK(synack_addr_equal(&nd.target, &t));
	/* NA flags, no option */
	b = bbuf_make(m, sizeof m);
	n = wire_nd_emit(&b, &s, &d, WIRE_ND_NA, WIRE_NA_SOLICITED | WIRE_NA_OVERRIDE, &t, NULL);
	CHECK_EQ(n, 24);
	CHECK_EQ(wire_icmp6_parse(&s, &d, m, n, &ic), 0);
	CHECK_EQ(wire_nd_parse(&ic, &nd), 0);
	CHECK_EQ(nd.flags, WIRE_NA_SOLICITED | WIRE_NA_OVERRIDE);
	CHECK(!nd.has_lla);
	/* invalid: zero-length option, multicast target, short, code */
	b = bbuf_make(m, sizeof m);
	n = wire_nd_emit(&b, &s, &d, WIRE_ND_NS, 0, &t, NF_MAC_PEER);
	m[24 + 1] = 0;
	wire_icmp6_parse(&s, &d, m, n, &ic); /* checksum now wrong: parse the view anyway */
	ic = (struct wire_icmp){.type = WIRE_ND_NS, .body = m + 8, .body_len = n - 8};
	CHECK_EQ(wire_nd_parse(&ic, &nd), SYNACK_DROP_ND_INVALID);
	m[24 + 1] = 2; /* 16 bytes: past the end */
	CHECK_EQ(wire_nd_parse(&ic, &nd), SYNACK_DROP_ND_INVALID);
	m[24 + 1] = 1;
	CHECK_EQ(wire_nd_parse(&ic, &nd), 0);
	m[8] = 0xff;
	CHECK_EQ(wire_nd_parse(&ic, &nd), SYNACK_DROP_ND_INVALID);
	m[8] = 0x20;
	ic.body_len = 15;
	CHECK_EQ(wire_nd_parse(&ic, &nd), SYNACK_DROP_ND_INVALID);
	ic.body_len = n - 8;
	ic.code = 1;
	CHECK_EQ(wire_nd_parse(&ic, &nd), SYNACK_DROP_ND_INVALID);
}

TEST(ipv6_only_stack_and_addresses)
{
	synack_stack *st = mk6(false);
	CHECK_EQ(st->net->ll6.family, SYNACK_AF_INET6);
	CHECK(wire_ip6_is_linklocal(&st->net->ll6));
	synack_addr src, ll = peer_ll(), g = peer6();
	CHECK(net_source_for(st, &ll, &src) && synack_addr_equal(&src, &st->net->ll6));
	CHECK(net_source_for(st, &g, &src) && synack_addr_equal(&src, &st->cfg.addr6));
	synack_addr v4 = synack_addr_ipv4(10, 0, 0, 1);
	CHECK(!net_source_for(st, &v4, &src));
	CHECK(net_is_local(st, &st->net->ll6));
	CHECK_EQ(net_l4_mtu(st, &g), 1460);
	/* an IPv4 packet is not for an IPv6-only stack */
	uint8_t f[64] = {0x45};
	synack_stack_input(st, f, 40, 1);
	CHECK_EQ(synack_stack_counter(st, SYNACK_DROP_IP_VERSION), 1);
	synack_endpoint dst = {.addr = v4, .port = 80};
	synack_tcp *c;
	CHECK_EQ(synack_tcp_connect(st, &dst, NULL, &c), -EAFNOSUPPORT);
	synack_stack_destroy(st);
	/* Ethernet: modified EUI-64 link-local (RFC 4291 Appendix A) */
	st = mk6(true);
	synack_addr want = nf_ip6("fe80::ff:fe00:2");
	CHECK(synack_addr_equal(&st->net->ll6, &want));
	synack_stack_destroy(st);
}

TEST(ipv6_config_is_validated)
{
	synack_stack_config cfg;
	synack_stack *st;
	nf_config(&cfg, &cap, &rng, false);
	cfg.addr6 = nf_ip6("ff02::1");
	CHECK_EQ(synack_stack_create(&cfg, 0, &st), -EINVAL);
	cfg.addr6 = us6();
	cfg.prefix6_len = 129;
	CHECK_EQ(synack_stack_create(&cfg, 0, &st), -EINVAL);
	cfg.prefix6_len = 64;
	cfg.mtu = 1200; /* below the IPv6 minimum link MTU */
	CHECK_EQ(synack_stack_create(&cfg, 0, &st), -EINVAL);
	cfg.mtu = 1500;
	cfg.gateway6 = nf_ip6("2001:db9::1"); /* off-link */
	CHECK_EQ(synack_stack_create(&cfg, 0, &st), -EINVAL);
	cfg.gateway6 = nf_ip6("fe80::1");
	CHECK_EQ(synack_stack_create(&cfg, 0, &st), 0);
	synack_stack_destroy(st);
	cfg.gateway6 = synack_addr_ipv4(10, 0, 0, 1);
	CHECK_EQ(synack_stack_create(&cfg, 0, &st), -EINVAL);
}

TEST(icmpv6_echo_is_answered)
{
	synack_stack *st = mk6(false);
	uint8_t f[256], body[56];
	for (int i = 0; i < 56; i++)
		body[i] = (uint8_t)i;
	synack_addr s = peer6(), d = us6();
	const uint8_t rest[4] = {0x12, 0x34, 0, 9};
	size_t n = nf_icmp6(f, sizeof f, &s, &d, 57, WIRE_ICMP6_ECHO_REQUEST, 0, rest, body, 56);
	synack_stack_input(st, f, n, 5);
	CHECK_EQ(cap.n, 1);
	struct wire_ipv6 ip;
	struct wire_icmp ic;
	CHECK_EQ(wire_ipv6_parse(cap.f[0], cap.len[0], &ip), 0);
	CHECK_EQ(ip.hop_limit, 64);
	CHECK(synack_addr_equal(&ip.src, &d) && synack_addr_equal(&ip.dst, &s));
	CHECK_EQ(wire_icmp6_parse(&ip.src, &ip.dst, ip.payload, ip.payload_len, &ic), 0);
	CHECK_EQ(ic.type, WIRE_ICMP6_ECHO_REPLY);
	CHECK_MEM(ic.rest, rest, 4);
	CHECK_MEM(ic.body, body, 56);
	/* to all-nodes: answered from our link-local address (link-local requester) */
	synack_addr ll = peer_ll(), all;
	wire_ip6_all_nodes(&all);
	n = nf_icmp6(f, sizeof f, &ll, &all, 1, WIRE_ICMP6_ECHO_REQUEST, 0, rest, body, 8);
	synack_stack_input(st, f, n, 6);
	CHECK_EQ(cap.n, 2);
	CHECK_EQ(wire_ipv6_parse(cap.f[1], cap.len[1], &ip), 0);
	CHECK(synack_addr_equal(&ip.src, &st->net->ll6));
	CHECK_EQ(synack_stack_counter(st, SYNACK_CNT_ICMP_ECHO_REPLIES), 2);
	CHECK_EQ(synack_stack_drops(st), 0);
	synack_stack_destroy(st);
}

static void expect_drop6(bool eth, const uint8_t *f, size_t n, enum synack_counter id, int sent)
{
	synack_stack *st = mk6(eth);
	synack_stack_input(st, f, n, 10);
	if (cap.n != sent || synack_stack_counter(st, id) != 1 || synack_stack_drops(st) != 1)
		unit_fail(__FILE__, __LINE__, "expected one %s drop, got %llu (drops %llu, sent %d)",
			  synack_counter_name(id), (unsigned long long)synack_stack_counter(st, id),
			  (unsigned long long)synack_stack_drops(st), cap.n);
	synack_stack_destroy(st);
}

/* An echo request with `ext` (8 bytes, its Next Header patched to ICMPv6)
 * between the IPv6 header and the ICMPv6 message, in f[0..size). */
static size_t with_ext(uint8_t *f, size_t size, uint8_t type, const uint8_t ext[8])
{
	synack_addr s = peer6(), d = us6();
	const uint8_t rest[4] = {0};
	struct bbuf b = bbuf_make(f, size);
	uint8_t *ip = bbuf_reserve(&b, WIRE_IPV6_HDR);
	uint8_t *x = bbuf_reserve(&b, 8);
	size_t m = wire_icmp6_emit(&b, &s, &d, WIRE_ICMP6_ECHO_REQUEST, 0, rest, NULL, 0);
	struct bbuf h = bbuf_make(ip, WIRE_IPV6_HDR);
	if (!nf_fits(&b) || !wire_ipv6_emit(&h, &s, &d, type, 64, 8 + m))
		return 0;
	memcpy(x, ext, 8);
	x[0] = WIRE_PROTO_ICMPV6;
	return b.len;
}

TEST(ipv6_input_checks_are_counted)
{
	uint8_t f[256];
	synack_addr s = peer6(), d = us6();
	const uint8_t rest[4] = {0};
	size_t n = nf_icmp6(f, sizeof f, &s, &d, 64, WIRE_ICMP6_ECHO_REQUEST, 0, rest, NULL, 0);
	expect_drop6(false, f, n - 1, SYNACK_DROP_IP_LENGTH, 0);
	synack_addr other = nf_ip6("2001:db8::99");
	n = nf_icmp6(f, sizeof f, &s, &other, 64, WIRE_ICMP6_ECHO_REQUEST, 0, rest, NULL, 0);
	expect_drop6(false, f, n, SYNACK_DROP_IP_NOT_FOR_US, 0);
	synack_addr mc = nf_ip6("ff02::1");
	n = nf_icmp6(f, sizeof f, &mc, &d, 64, WIRE_ICMP6_ECHO_REQUEST, 0, rest, NULL, 0);
	expect_drop6(false, f, n, SYNACK_DROP_IP_BAD_SOURCE, 0);
	n = nf_icmp6(f, sizeof f, &s, &d, 64, 200, 0, rest, NULL, 0); /* unknown informational */
	expect_drop6(false, f, n, SYNACK_DROP_ICMP_TYPE, 0);
	n = nf_icmp6(f, sizeof f, &s, &d, 64, WIRE_ICMP6_ECHO_REQUEST, 0, rest, NULL, 0);
	f[42] ^= 1;
	expect_drop6(false, f, n, SYNACK_DROP_ICMP_CHECKSUM, 0);
	n = nf_icmp6(f, sizeof f, &s, &d, 255, WIRE_ND_RA, 0, rest, NULL, 0);
	expect_drop6(false, f, n, SYNACK_DROP_ND_IGNORED, 0);
	/* extension headers: skipped, refused with a Parameter Problem */
	const uint8_t pad[8] = {0, 0, 1, 4, 0, 0, 0, 0};
	n = with_ext(f, sizeof f, WIRE_PROTO_DSTOPTS, pad);
	synack_stack *st = mk6(false);
	synack_stack_input(st, f, n, 10);
	CHECK_EQ(synack_stack_counter(st, SYNACK_CNT_ICMP_ECHO_REPLIES), 1);
	synack_stack_destroy(st);
	const uint8_t rh[8] = {0, 0, 0, 1, 0, 0, 0, 0}; /* segments left 1 */
	n = with_ext(f, sizeof f, WIRE_PROTO_ROUTING, rh);
	expect_drop6(false, f, n, SYNACK_DROP_IP6_EXT_HEADER, 1);
	const uint8_t opt[8] = {0, 0, 0x80, 2, 0, 0, 0, 0}; /* unknown option, action 10 */
	n = with_ext(f, sizeof f, WIRE_PROTO_HOPOPTS, opt);
	expect_drop6(false, f, n, SYNACK_DROP_IP6_EXT_HEADER, 1);
	const uint8_t opt1[8] = {0, 0, 0x40, 2, 0, 0, 0, 0}; /* action 01: silent */
	n = with_ext(f, sizeof f, WIRE_PROTO_HOPOPTS, opt1);
	expect_drop6(false, f, n, SYNACK_DROP_IP6_EXT_HEADER, 0);
	n = with_ext(f, sizeof f, WIRE_PROTO_DSTOPTS, pad);
	f[40] = WIRE_PROTO_HOPOPTS; /* Hop-by-Hop not first */
	expect_drop6(false, f, n, SYNACK_DROP_IP6_EXT_HEADER, 1);
}

TEST(unknown_next_header_gets_rate_limited_parameter_problem)
{
	synack_stack *st = mk6(false);
	uint8_t f[128] = {0};
	synack_addr s = peer6(), d = us6();
	struct bbuf b = bbuf_make(f, sizeof f);
	CHECK_EQ(wire_ipv6_emit(&b, &s, &d, 253, 64, 8), 40);
	synack_stack_input(st, f, 48, 10);
	CHECK_EQ(cap.n, 1);
	struct wire_ipv6 ip;
	struct wire_icmp ic;
	CHECK_EQ(wire_ipv6_parse(cap.f[0], cap.len[0], &ip), 0);
	CHECK_EQ(wire_icmp6_parse(&ip.src, &ip.dst, ip.payload, ip.payload_len, &ic), 0);
	CHECK_EQ(ic.type, WIRE_ICMP6_PARAM_PROBLEM);
	CHECK_EQ(ic.code, WIRE_ICMP6_PP_NEXT_HEADER);
	CHECK_EQ(rd32(ic.rest), 6); /* the IPv6 header's Next Header field */
	CHECK_EQ(ic.body_len, 48);
	CHECK_MEM(ic.body, f, 48);
	for (int i = 0; i < 30; i++)
		synack_stack_input(st, f, 48, 20);
	CHECK_EQ(cap.n, 10); /* burst of ten */
	CHECK_EQ(synack_stack_counter(st, SYNACK_CNT_ICMP_RATE_LIMITED), 21);
	synack_stack_input(st, f, 48, SYNACK_SEC(1) + 20);
	CHECK_EQ(cap.n, 11);
	CHECK_EQ(synack_stack_counter(st, SYNACK_DROP_IP_PROTO), 32);
	/* never about a multicast destination */
	synack_addr all;
	wire_ip6_all_nodes(&all);
	b = bbuf_make(f, sizeof f);
	CHECK_EQ(wire_ipv6_emit(&b, &s, &all, 253, 64, 8), 40);
	synack_stack_input(st, f, 48, SYNACK_SEC(3));
	CHECK_EQ(cap.n, 11);
	synack_stack_destroy(st);
}

TEST(ipv6_fragments_are_reassembled)
{
	synack_stack *st = mk6(false);
	synack_addr s = peer6(), d = us6();
	uint8_t icmp[1024], body[1000];
	for (int i = 0; i < 1000; i++)
		body[i] = (uint8_t)(i * 3);
	const uint8_t rest[4] = {0, 7, 0, 1};
	struct bbuf ib = bbuf_make(icmp, sizeof icmp);
	size_t m = wire_icmp6_emit(&ib, &s, &d, WIRE_ICMP6_ECHO_REQUEST, 0, rest, body, 1000);
	CHECK_EQ(m, 1008);
	uint8_t f[1200];
	size_t cut = 512;
	for (int part = 1; part >= 0; part--) { /* last fragment first */
		size_t off = part ? cut : 0, len = part ? m - cut : cut;
		uint8_t fh[8] = {WIRE_PROTO_ICMPV6, 0, 0, 0, 0, 0, 0x12, 0x34};
		wr16(fh + 2, (uint16_t)(off | (part ? 0 : 1)));
		struct bbuf b = bbuf_make(f, sizeof f);
		wire_ipv6_emit(&b, &s, &d, WIRE_PROTO_FRAGMENT, 64, 8 + len);
		bbuf_put(&b, fh, 8);
		bbuf_put(&b, icmp + off, len);
		synack_stack_input(st, f, nf_fits(&b), 10);
	}
	CHECK_EQ(synack_stack_counter(st, SYNACK_CNT_FRAG_REASSEMBLED), 1);
	CHECK_EQ(synack_stack_counter(st, SYNACK_CNT_ICMP_ECHO_REPLIES), 1);
	CHECK_EQ(cap.n, 1);
	CHECK_EQ(cap.len[0], 40 + m);
	synack_stack_destroy(st);
}

/* ---- Neighbor Discovery on an Ethernet link ---- */

static size_t nd_frame(uint8_t *f, size_t size, const synack_addr *src, const synack_addr *dst,
		       const uint8_t *eth_dst, uint8_t hop, uint8_t type, uint8_t flags,
		       const synack_addr *target, const uint8_t *lla)
{
	uint8_t m[64];
	struct bbuf mb = bbuf_make(m, sizeof m);
	size_t n = wire_nd_emit(&mb, src, dst, type, flags, target, lla);
	struct bbuf b = bbuf_make(f, size);
	wire_eth_emit(&b, eth_dst, NF_MAC_PEER, WIRE_ETH_IPV6);
	wire_ipv6_emit(&b, src, dst, WIRE_PROTO_ICMPV6, hop, n);
	bbuf_put(&b, m, nf_fits(&mb));
	return nf_fits(&b);
}

/* Parse ND message i: its IPv6 header and the ND view. */
static bool nd_out(int i, struct wire_ipv6 *ip, struct wire_icmp *ic, struct wire_nd *nd)
{
	struct wire_eth e;
	return !wire_eth_parse(cap.f[i], cap.len[i], &e) && e.type == WIRE_ETH_IPV6 &&
	       !wire_ipv6_parse(e.payload, e.payload_len, ip) && ip->next == WIRE_PROTO_ICMPV6 &&
	       !wire_icmp6_parse(&ip->src, &ip->dst, ip->payload, ip->payload_len, ic) &&
	       !wire_nd_parse(ic, nd);
}

TEST(nd_solicitation_is_answered)
{
	synack_stack *st = mk6(true);
	uint8_t f[128], smac[6];
	synack_addr s = peer6(), d = us6(), sn;
	wire_ip6_solicited_node(&sn, &d);
	wire_eth_ipv6_mcast(smac, &sn);
	size_t n = nd_frame(f, sizeof f, &s, &sn, smac, 255, WIRE_ND_NS, 0, &d, NF_MAC_PEER);
	synack_stack_input(st, f, n, 10);
	CHECK_EQ(cap.n, 1);
	struct wire_ipv6 ip;
	struct wire_icmp ic;
	struct wire_nd nd;
	CHECK(nd_out(0, &ip, &ic, &nd));
	CHECK_MEM(cap.f[0], NF_MAC_PEER, 6); /* to the solicitor's MAC, learnt */
	CHECK_EQ(ic.type, WIRE_ND_NA);
	CHECK_EQ(ip.hop_limit, 255);
	CHECK(synack_addr_equal(&ip.src, &d) && synack_addr_equal(&ip.dst, &s));
	CHECK_EQ(nd.flags, WIRE_NA_SOLICITED | WIRE_NA_OVERRIDE);
	CHECK(nd.has_lla);
	CHECK_MEM(nd.lla, NF_MAC_US, 6);
	CHECK(synack_addr_equal(&nd.target, &d));
	CHECK_EQ(neigh_state_of(st, &s, NULL), NEIGH_DELAY); /* STALE, then used for the NA */
	/* DAD probe from :: for our address: NA to all-nodes, S clear */
	synack_addr unspec = {.family = SYNACK_AF_INET6};
	n = nd_frame(f, sizeof f, &unspec, &sn, smac, 255, WIRE_ND_NS, 0, &d, NULL);
	synack_stack_input(st, f, n, 20);
	CHECK_EQ(cap.n, 2);
	CHECK(nd_out(1, &ip, &ic, &nd));
	CHECK_EQ(nd.flags, WIRE_NA_OVERRIDE);
	CHECK_EQ(ip.dst.bytes[15], 1);
	CHECK_EQ(cap.f[1][0], 0x33);
	CHECK_EQ(synack_stack_drops(st), 0);
	/* hop limit 254, target not ours, RS */
	n = nd_frame(f, sizeof f, &s, &sn, smac, 254, WIRE_ND_NS, 0, &d, NF_MAC_PEER);
	synack_stack_input(st, f, n, 30);
	CHECK_EQ(synack_stack_counter(st, SYNACK_DROP_ND_INVALID), 1);
	synack_addr other = nf_ip6("2001:db8::77");
	n = nd_frame(f, sizeof f, &s, &d, NF_MAC_US, 255, WIRE_ND_NS, 0, &other, NF_MAC_PEER);
	synack_stack_input(st, f, n, 40);
	CHECK_EQ(synack_stack_counter(st, SYNACK_DROP_ND_NOT_FOR_US), 1);
	/* a multicast MAC group we did not join */
	uint8_t g[6] = {0x33, 0x33, 0xff, 0x00, 0x00, 0x77};
	n = nd_frame(f, sizeof f, &s, &sn, g, 255, WIRE_ND_NS, 0, &d, NF_MAC_PEER);
	synack_stack_input(st, f, n, 50);
	CHECK_EQ(synack_stack_counter(st, SYNACK_DROP_ETH_NOT_FOR_US), 1);
	CHECK_EQ(cap.n, 2);
	synack_stack_destroy(st);
}

static void na_in(synack_stack *st, const synack_addr *from, uint8_t flags, const uint8_t *lla,
		  synack_time_t now)
{
	uint8_t f[128];
	synack_addr d = us6();
	size_t n = nd_frame(f, sizeof f, from, &d, NF_MAC_US, 255, WIRE_ND_NA, flags, from, lla);
	synack_stack_input(st, f, n, now);
}

TEST(nd_resolution_and_nud)
{
	synack_stack *st = mk6(true);
	synack_addr p = peer6();
	CHECK_EQ(synack_stack_ping(st, &p, 1, 1, 8), 0);
	CHECK_EQ(cap.n, 1);
	struct wire_ipv6 ip;
	struct wire_icmp ic;
	struct wire_nd nd;
	CHECK(nd_out(0, &ip, &ic, &nd));
	CHECK_EQ(ic.type, WIRE_ND_NS);
	uint8_t smac[6] = {0x33, 0x33, 0xff, 0x00, 0x00, 0x01};
	CHECK_MEM(cap.f[0], smac, 6); /* solicited-node group of ::1 */
	CHECK(synack_addr_equal(&nd.target, &p));
	CHECK(nd.has_lla && memcmp(nd.lla, NF_MAC_US, 6) == 0);
	CHECK_EQ(ip.hop_limit, 255);
	CHECK_EQ(neigh_state_of(st, &p, NULL), NEIGH_INCOMPLETE);
	/* an unsolicited NA for someone else is ignored */
	synack_addr other = nf_ip6("2001:db8::5");
	na_in(st, &other, WIRE_NA_OVERRIDE, NF_MAC_PEER, 10);
	CHECK_EQ(synack_stack_counter(st, SYNACK_DROP_ND_NOT_FOR_US), 1);
	/* the solicited NA resolves and flushes the echo request */
	na_in(st, &p, WIRE_NA_SOLICITED | WIRE_NA_OVERRIDE, NF_MAC_PEER, 20);
	CHECK_EQ(neigh_state_of(st, &p, NULL), NEIGH_REACHABLE);
	CHECK_EQ(cap.n, 2);
	CHECK_MEM(cap.f[1], NF_MAC_PEER, 6);
	/* RFC 4861 §7.2.5: O clear and a different address: REACHABLE -> STALE, address kept */
	uint8_t mac2[6] = {0x02, 0, 0, 0, 0, 0x42}, mac[6];
	na_in(st, &p, WIRE_NA_SOLICITED, mac2, 30);
	CHECK_EQ(neigh_state_of(st, &p, mac), NEIGH_STALE);
	CHECK_MEM(mac, NF_MAC_PEER, 6);
	/* O set: the address is replaced; S set: REACHABLE */
	na_in(st, &p, WIRE_NA_SOLICITED | WIRE_NA_OVERRIDE, mac2, 40);
	CHECK_EQ(neigh_state_of(st, &p, mac), NEIGH_REACHABLE);
	CHECK_MEM(mac, mac2, 6);
	/* ReachableTime runs out (15..45 s), then use -> DELAY -> PROBE (unicast NS) */
	synack_time_t t;
	do { /* the deadline is a lower bound: poll until the entry moves */
		t = synack_stack_next_deadline(st);
		synack_stack_poll(st, t);
	} while (neigh_state_of(st, &p, NULL) == NEIGH_REACHABLE && t < SYNACK_SEC(100));
	CHECK(t >= SYNACK_SEC(15) && t <= SYNACK_SEC(45) + 40);
	CHECK_EQ(neigh_state_of(st, &p, NULL), NEIGH_STALE);
	cap.n = 0;
	synack_stack_ping(st, &p, 1, 2, 8);
	CHECK_EQ(neigh_state_of(st, &p, NULL), NEIGH_DELAY);
	synack_stack_poll(st, t + SYNACK_SEC(5));
	CHECK_EQ(neigh_state_of(st, &p, NULL), NEIGH_PROBE);
	CHECK_EQ(cap.n, 2);
	CHECK(nd_out(1, &ip, &ic, &nd));
	CHECK_EQ(ic.type, WIRE_ND_NS);
	CHECK_MEM(cap.f[1], mac2, 6);
	CHECK(synack_addr_equal(&ip.dst, &p));
	na_in(st, &p, WIRE_NA_SOLICITED, NULL, t + SYNACK_SEC(5) + 10); /* no option: still confirms */
	CHECK_EQ(neigh_state_of(st, &p, NULL), NEIGH_REACHABLE);
	/* a solicited NA to a multicast destination is invalid */
	uint8_t f[128];
	synack_addr all;
	wire_ip6_all_nodes(&all);
	uint8_t amac[6] = {0x33, 0x33, 0, 0, 0, 1};
	size_t n = nd_frame(f, sizeof f, &p, &all, amac, 255, WIRE_ND_NA, WIRE_NA_SOLICITED, &p, NULL);
	synack_stack_input(st, f, n, t + SYNACK_SEC(6));
	CHECK_EQ(synack_stack_counter(st, SYNACK_DROP_ND_INVALID), 1);
	synack_stack_destroy(st);
}

/* ---- ICMP and ICMPv6 errors reaching TCP ---- */

struct fake {
	synack_stack *st;
	synack_tcp *c;
	synack_addr us, peer;
	bool v6;
};

static size_t iphl(const struct fake *k)
{
	return k->v6 ? 40 : 20;
}

/* Connect to peer:80 and answer the SYN by hand (MSS 1460, no options). */
static void fake_establish(struct fake *k, bool v6)
{
	synack_stack_config cfg;
	memset(k, 0, sizeof *k);
	k->v6 = v6;
	nf_config(&cfg, &cap, &rng, false);
	cfg.addr6 = us6();
	cfg.prefix6_len = 64;
	CHECK_EQ(synack_stack_create(&cfg, 0, &k->st), 0);
	k->us = v6 ? us6() : cfg.addr;
	k->peer = v6 ? peer6() : synack_addr_ipv4(10, 0, 0, 1);
	cap.n = 0;
	synack_endpoint dst = {.addr = k->peer, .port = 80};
	CHECK_EQ(synack_tcp_connect(k->st, &dst, NULL, &k->c), 0);
	CHECK_EQ(cap.n, 1);
	struct wire_tcp syn;
	CHECK_EQ(wire_tcp_parse(cap.f[0] + iphl(k), cap.len[0] - iphl(k), &syn), 0);
	struct wire_tcp h = {.sport = 80,
			     .dport = syn.sport,
			     .seq = 5000,
			     .ack = syn.seq + 1,
			     .flags = SYNACK_TCP_SYN | SYNACK_TCP_ACK,
			     .wnd = 65535};
	h.opt.wscale = -1;
	h.opt.has_mss = 1;
	h.opt.mss = 1460;
	uint8_t f[128];
	struct bbuf b = bbuf_make(f + iphl(k), sizeof f - iphl(k));
	size_t hl = wire_tcp_emit(&b, &h, 0);
	CHECK_EQ(hl, 24);
	wire_tcp_set_csum(f + iphl(k), hl, &k->peer, &k->us);
	struct bbuf ib = bbuf_make(f, sizeof f);
	if (v6)
		wire_ipv6_emit(&ib, &k->peer, &k->us, WIRE_PROTO_TCP, 64, hl);
	else
		wire_ipv4_emit(&ib, &k->peer, &k->us, WIRE_PROTO_TCP, 64, 1, 0, hl);
	CHECK_EQ(ib.len, iphl(k));
	synack_stack_input(k->st, f, iphl(k) + hl, 100);
	CHECK_EQ(synack_tcp_state(k->c), SYNACK_TCP_ESTABLISHED);
}

/* An ICMP(v6) error from a router quoting captured frame i. */
static void icmp_err_in(struct fake *k, int i, uint8_t type, uint8_t code, uint32_t mtu, synack_time_t now)
{
	uint8_t f[1500], rest[4] = {0};
	synack_addr router = k->v6 ? nf_ip6("2001:db8:1::1") : synack_addr_ipv4(192, 0, 2, 1);
	size_t q = k->v6 ? MIN(cap.len[i], 1232) : 28, n;
	if (k->v6) {
		wr32(rest, mtu);
		n = nf_icmp6(f, sizeof f, &router, &k->us, 64, type, code, rest, cap.f[i], q);
	} else {
		wr16(rest + 2, (uint16_t)mtu);
		struct bbuf m = bbuf_make(f + 20, sizeof f - 20), h = bbuf_make(f, sizeof f);
		n = 20 + wire_icmp_emit(&m, type, code, rest, cap.f[i], q);
		wire_ipv4_emit(&h, &router, &k->us, WIRE_PROTO_ICMP, 64, 2, 0, n - 20);
		CHECK(bbuf_ok(&m) && bbuf_ok(&h));
	}
	synack_stack_input(k->st, f, n, now);
}

static void pmtu_case(bool v6)
{
	struct fake k;
	fake_establish(&k, v6);
	synack_tcp_info info;
	synack_tcp_get_info(k.c, &info);
	CHECK_EQ(info.mss, v6 ? 1440 : 1460);
	static uint8_t data[4000];
	int first = cap.n;
	CHECK_EQ(synack_tcp_send(k.c, data, sizeof data), (ssize_t)sizeof data);
	synack_stack_poll(k.st, 200);
	CHECK(cap.n > first);
	CHECK(cap.len[first] > 1000);
	uint32_t mtu = v6 ? 1280 : 1000;
	if (v6)
		icmp_err_in(&k, first, WIRE_ICMP6_PACKET_TOO_BIG, 0, mtu, 300);
	else
		icmp_err_in(&k, first, WIRE_ICMP_DEST_UNREACH, WIRE_ICMP_FRAG_NEEDED, mtu, 300);
	synack_tcp_get_info(k.c, &info);
	CHECK_EQ(info.mss, mtu - iphl(&k) - 20);
	CHECK_EQ(synack_stack_counter(k.st, SYNACK_CNT_TCP_PMTU_LOWERED), 1);
	CHECK_EQ(synack_stack_counter(k.st, SYNACK_CNT_ICMP_ERRORS_IN), 1);
	CHECK(cap.len[cap.n - 1] <= mtu); /* resent at the new size */
	/* a quote of a packet that is not ours */
	cap.f[first][v6 ? 8 : 12] ^= 0x40;
	icmp_err_in(&k, first, v6 ? WIRE_ICMP6_PACKET_TOO_BIG : WIRE_ICMP_DEST_UNREACH,
		    v6 ? 0 : WIRE_ICMP_FRAG_NEEDED, mtu, 400);
	CHECK_EQ(synack_stack_counter(k.st, SYNACK_DROP_ICMP_QUOTE), 1);
	synack_stack_destroy(k.st);
}

TEST(fragmentation_needed_lowers_mss_ipv4)
{
	pmtu_case(false);
}
TEST(packet_too_big_lowers_mss_ipv6)
{
	pmtu_case(true);
}

/* One forged report of a tiny MTU quoting an in-flight sequence number
 * must not shrink the connection to 28-byte segments for good: the path
 * MTU is clamped at 552 (IPv4, as Linux's min_pmtu) or 1280 (IPv6). */
static void pmtu_clamp_case(bool v6, uint32_t reported)
{
	struct fake k;
	fake_establish(&k, v6);
	static uint8_t data[8000];
	int first = cap.n;
	CHECK_EQ(synack_tcp_send(k.c, data, sizeof data), (ssize_t)sizeof data);
	synack_stack_poll(k.st, 200);
	CHECK(cap.n > first);
	if (v6)
		icmp_err_in(&k, first, WIRE_ICMP6_PACKET_TOO_BIG, 0, reported, 300);
	else
		icmp_err_in(&k, first, WIRE_ICMP_DEST_UNREACH, WIRE_ICMP_FRAG_NEEDED, reported, 300);
	uint32_t floor = v6 ? 1280 : 552;
	synack_tcp_info info;
	synack_tcp_get_info(k.c, &info);
	CHECK_EQ(synack_stack_counter(k.st, SYNACK_CNT_TCP_PMTU_CLAMPED), 1);
	if (v6) { /* 1280 is already the minimum it had reason to lower to */
		CHECK_EQ(info.mss, floor - iphl(&k) - 20);
	} else {
		CHECK_EQ(info.mss, floor - 20 - 20);
		CHECK_EQ(synack_stack_counter(k.st, SYNACK_CNT_TCP_PMTU_LOWERED), 1);
	}
	for (int i = first + 1; i < cap.n && i < NF_MAX; i++) /* resent segments: floor-sized, never less */
		CHECK(cap.len[i] <= 1500);
	CHECK_EQ(cap.len[cap.n - 1], floor); /* resent at the floor, not at 68 bytes */
	synack_stack_destroy(k.st);
}

TEST(tiny_mtu_report_is_clamped_to_552_ipv4)
{
	pmtu_clamp_case(false, 68);
}
TEST(mtu_report_of_1_is_clamped_to_552_ipv4)
{
	pmtu_clamp_case(false, 1);
}
TEST(tiny_mtu_report_is_clamped_to_1280_ipv6)
{
	pmtu_clamp_case(true, 500);
}

static void refused_case(bool v6)
{
	synack_stack_config cfg;
	struct fake k = {.v6 = v6};
	nf_config(&cfg, &cap, &rng, false);
	cfg.addr6 = us6();
	cfg.prefix6_len = 64;
	CHECK_EQ(synack_stack_create(&cfg, 0, &k.st), 0);
	k.us = v6 ? us6() : cfg.addr;
	k.peer = v6 ? peer6() : synack_addr_ipv4(10, 0, 0, 1);
	synack_endpoint dst = {.addr = k.peer, .port = 80};
	cap.n = 0;
	CHECK_EQ(synack_tcp_connect(k.st, &dst, NULL, &k.c), 0);
	if (v6)
		icmp_err_in(&k, 0, WIRE_ICMP6_DEST_UNREACH, WIRE_ICMP6_PORT_UNREACH, 0, 50);
	else
		icmp_err_in(&k, 0, WIRE_ICMP_DEST_UNREACH, WIRE_ICMP_PORT_UNREACH, 0, 50);
	CHECK_EQ(synack_tcp_state(k.c), SYNACK_TCP_CLOSED);
	CHECK_EQ(synack_tcp_error(k.c), -ECONNREFUSED);
	CHECK_EQ(synack_stack_counter(k.st, SYNACK_CNT_TCP_ICMP_HARD), 1);
	synack_stack_destroy(k.st);
}

TEST(port_unreachable_refuses_connect_ipv4)
{
	refused_case(false);
}
TEST(port_unreachable_refuses_connect_ipv6)
{
	refused_case(true);
}

/* ---- TCP over IPv6 between two stacks ---- */

static void v6_configs(synack_stack_config *c0, synack_stack_config *c1, bool eth)
{
	synack_stack_config *c[2] = {c0, c1};
	for (int i = 0; i < 2; i++) {
		synack_stack_config_init(c[i]);
		c[i]->addr6 = i ? us6() : peer6();
		c[i]->prefix6_len = 64;
		if (eth) {
			c[i]->link = SYNACK_LINK_ETHERNET;
			uint8_t mac[6] = {0x02, 0x00, 0x5e, 0x10, 0x00, (uint8_t)(i + 1)};
			memcpy(c[i]->mac, mac, 6);
		}
	}
}

static void v6_transfer(synack_sim *sim, const synack_addr *server)
{
	synack_endpoint sep = {.addr = *server, .port = 443};
	synack_tcp *l, *c, *s = NULL;
	CHECK_EQ(synack_tcp_listen(sim->stack[1], &sep, 4, &l), 0);
	CHECK_EQ(synack_tcp_connect(sim->stack[0], &sep, NULL, &c), 0);
	CHECK(H_RUN_UNTIL(sim, synack_tcp_state(c) == SYNACK_TCP_ESTABLISHED && synack_tcp_accept(l, &s) == 0,
			  SYNACK_SEC(10)));
	if (!s)
		return;
	synack_endpoint le, re;
	synack_tcp_endpoints(c, &le, &re);
	CHECK_EQ(le.addr.family, SYNACK_AF_INET6);
	CHECK_EQ(h_transfer(sim, c, s, 250000, SYNACK_SEC(30)), 250000);
	CHECK_EQ(h_transfer(sim, s, c, 50000, SYNACK_SEC(30)), 50000);
	synack_tcp_info ci;
	synack_tcp_get_info(c, &ci);
	CHECK_EQ(ci.mss, 1440 - 12);
}

TEST(tcp_over_ipv6_raw_link)
{
	synack_stack_config c0, c1;
	v6_configs(&c0, &c1, false);
	synack_sim sim;
	CHECK_EQ(synack_sim_init(&sim, 3, NULL, &c0, &c1), 0);
	synack_addr srv = us6();
	v6_transfer(&sim, &srv);
	for (int i = 0; i < 2; i++)
		CHECK_EQ(synack_stack_drops(sim.stack[i]), 0);
	synack_sim_destroy(&sim);
}

TEST(tcp_over_ipv6_ethernet_with_nd)
{
	synack_stack_config c0, c1;
	v6_configs(&c0, &c1, true);
	synack_sim sim;
	CHECK_EQ(synack_sim_init(&sim, 4, NULL, &c0, &c1), 0);
	synack_addr srv = us6();
	v6_transfer(&sim, &srv);
	CHECK(synack_stack_counter(sim.stack[0], SYNACK_CNT_ND_OUT) >= 1);
	CHECK(synack_stack_counter(sim.stack[1], SYNACK_CNT_ND_OUT) >= 1);
	CHECK_EQ(synack_stack_counter(sim.stack[0], SYNACK_CNT_NEIGH_RESOLVED), 1);
	/* and to the link-local address */
	synack_addr ll = sim.stack[1]->net->ll6;
	v6_transfer(&sim, &ll);
	synack_sim_destroy(&sim);
}

TEST(tcp_over_ipv6_lossy_ethernet)
{
	synack_stack_config c0, c1;
	v6_configs(&c0, &c1, true);
	synack_impair imp = {.loss = 0.05, .delay = SYNACK_MSEC(5), .duplicate = 0.01};
	for (uint64_t seed = 1; seed <= 6; seed++) {
		synack_sim sim;
		CHECK_EQ(synack_sim_init(&sim, seed, &imp, &c0, &c1), 0);
		synack_addr srv = us6();
		synack_endpoint sep = {.addr = srv, .port = 80};
		synack_tcp *l, *c, *s = NULL;
		CHECK_EQ(synack_tcp_listen(sim.stack[1], &sep, 4, &l), 0);
		CHECK_EQ(synack_tcp_connect(sim.stack[0], &sep, NULL, &c), 0);
		CHECK(H_RUN_UNTIL(
		    &sim, synack_tcp_state(c) == SYNACK_TCP_ESTABLISHED && synack_tcp_accept(l, &s) == 0,
		    SYNACK_SEC(60)));
		if (s)
			CHECK_EQ(h_transfer(&sim, c, s, 150000, SYNACK_SEC(120)), 150000);
		synack_sim_destroy(&sim);
	}
}

/* ---- large echo requests: reassembled, answered in fragments ---- */

/* Send msg[0..n) from peer to us in fragments of `chunk` bytes. */
static void send_in_fragments(synack_stack *st, bool v6, const uint8_t *msg, size_t n, size_t chunk)
{
	synack_addr s = v6 ? peer6() : synack_addr_ipv4(10, 0, 0, 1),
		    d = v6 ? us6() : synack_addr_ipv4(10, 0, 0, 2);
	uint8_t f[1600];
	for (size_t off = 0; off < n; off += chunk) {
		size_t len = MIN(chunk, n - off);
		size_t k = nf_fragment(f, sizeof f, &s, &d, v6 ? WIRE_PROTO_ICMPV6 : WIRE_PROTO_ICMP, msg,
				       off, len, off + len < n, 77);
		synack_stack_input(st, f, k, 10);
	}
}

/* Put the captured fragments back together; returns the message length. */
static size_t join_fragments(bool v6, uint8_t *msg)
{
	size_t total = 0;
	for (int i = 0; i < cap.n; i++) {
		size_t off, len;
		bool more;
		const uint8_t *data;
		if (v6) {
			struct wire_ipv6 ip;
			struct wire_ipv6_ext x;
			if (wire_ipv6_parse(cap.f[i], cap.len[i], &ip) || ip.next != WIRE_PROTO_FRAGMENT ||
			    wire_ipv6_ext_parse(ip.next, ip.payload, ip.payload_len, &x))
				return 0;
			off = x.frag_offset * 8u, more = x.frag_more, data = ip.payload + 8,
			len = ip.payload_len - 8;
		} else {
			struct wire_ipv4 ip;
			if (wire_ipv4_parse(cap.f[i], cap.len[i], &ip))
				return 0;
			off = (ip.frag & WIRE_IPV4_OFFMASK) * 8u, more = ip.frag & WIRE_IPV4_MF,
			data = ip.payload, len = ip.payload_len;
		}
		CHECK(cap.len[i] <= 1500);
		memcpy(msg + off, data, len);
		if (!more)
			total = off + len;
	}
	return total;
}

static void large_echo_case(bool v6)
{
	synack_stack_config cfg;
	synack_stack *st;
	nf_config(&cfg, &cap, &rng, false);
	cfg.addr6 = us6();
	cfg.prefix6_len = 64;
	CHECK_EQ(synack_stack_create(&cfg, 0, &st), 0);
	static uint8_t body[4000], msg[4100], back[4100];
	for (int i = 0; i < 4000; i++)
		body[i] = (uint8_t)(i * 13 + 1);
	synack_addr s = v6 ? peer6() : synack_addr_ipv4(10, 0, 0, 1), d = v6 ? us6() : cfg.addr;
	const uint8_t rest[4] = {0xab, 0xcd, 0, 1};
	struct bbuf b = bbuf_make(msg, sizeof msg);
	size_t m = v6 ? wire_icmp6_emit(&b, &s, &d, WIRE_ICMP6_ECHO_REQUEST, 0, rest, body, sizeof body)
		      : wire_icmp_emit(&b, WIRE_ICMP_ECHO_REQUEST, 0, rest, body, sizeof body);
	CHECK_EQ(m, 8 + sizeof body);
	cap.n = 0;
	send_in_fragments(st, v6, msg, m, 1400);
	CHECK_EQ(synack_stack_counter(st, SYNACK_CNT_FRAG_REASSEMBLED), 1);
	CHECK_EQ(synack_stack_counter(st, SYNACK_CNT_ICMP_ECHO_REPLIES), 1);
	CHECK_EQ(cap.n, 3);
	size_t n = join_fragments(v6, back);
	CHECK_EQ(n, m);
	struct wire_icmp ic;
	CHECK_EQ(v6 ? wire_icmp6_parse(&d, &s, back, n, &ic) : wire_icmp_parse(back, n, &ic), 0);
	CHECK_EQ(ic.type, v6 ? WIRE_ICMP6_ECHO_REPLY : WIRE_ICMP_ECHO_REPLY);
	CHECK_MEM(ic.rest, rest, 4);
	CHECK_EQ(ic.body_len, sizeof body);
	CHECK_MEM(ic.body, body, sizeof body);
	CHECK_EQ(synack_stack_drops(st), 0);
	synack_stack_destroy(st);
}

TEST(large_echo_is_answered_in_fragments_ipv4)
{
	large_echo_case(false);
}
TEST(large_echo_is_answered_in_fragments_ipv6)
{
	large_echo_case(true);
}

TEST(reassembly_timeout_sends_time_exceeded_ipv6)
{
	synack_stack *st = mk6(false);
	static uint8_t msg[3000];
	synack_addr s = peer6(), d = us6();
	const uint8_t rest[4] = {0};
	struct bbuf mb = bbuf_make(msg, sizeof msg);
	size_t m = wire_icmp6_emit(&mb, &s, &d, WIRE_ICMP6_ECHO_REQUEST, 0, rest, msg + 8, 2000);
	uint8_t f[1500]; /* the first fragment only (M set) */
	struct bbuf b = bbuf_make(f, sizeof f);
	wire_ipv6_emit(&b, &s, &d, WIRE_PROTO_FRAGMENT, 64, 8 + 1400);
	wire_ipv6_frag_emit(&b, WIRE_PROTO_ICMPV6, 0, true, 99);
	bbuf_put(&b, msg, 1400);
	CHECK(m > 1400);
	CHECK_EQ(nf_fits(&b), 48 + 1400);
	synack_stack_input(st, f, 48 + 1400, 10);
	CHECK_EQ(cap.n, 0);
	synack_time_t t = synack_stack_next_deadline(st);
	CHECK_EQ(t, 10 + SYNACK_SEC(60)); /* RFC 8200 §4.5 */
	synack_stack_poll(st, t);
	CHECK_EQ(cap.n, 1);
	struct wire_ipv6 ip;
	struct wire_icmp ic;
	if (cap.n != 1 || wire_ipv6_parse(cap.f[0], cap.len[0], &ip) ||
	    wire_icmp6_parse(&ip.src, &ip.dst, ip.payload, ip.payload_len, &ic)) {
		CHECK(!"no valid ICMPv6 error");
		synack_stack_destroy(st);
		return;
	}
	CHECK_EQ(ic.type, WIRE_ICMP6_TIME_EXCEEDED);
	CHECK_EQ(ic.code, 1);
	CHECK(synack_addr_equal(&ip.dst, &s));
	CHECK_EQ(ic.body[40], WIRE_PROTO_ICMPV6); /* the quoted Fragment header's Next Header */
	CHECK_EQ(ic.body[6], WIRE_PROTO_FRAGMENT);
	CHECK_EQ(synack_stack_counter(st, SYNACK_DROP_FRAG_TIMEOUT), 1);
	synack_stack_destroy(st);
}

/* A Fragment header inside a reassembled datagram is dropped, not fed back
 * into the reassembly table while its buffer is being read (found by review
 * as a use-after-free; ASan runs this test too). */
static void input_copy(synack_stack *st, const uint8_t *f, size_t n)
{
	uint8_t *h = malloc(n); /* exact size: ASan sees any overread */
	memcpy(h, f, n);
	synack_stack_input(st, h, n, 10);
	free(h);
}

static void nested_fragment_case(bool atomic)
{
	synack_stack_config cfg;
	synack_stack *st;
	nf_config(&cfg, &cap, &rng, false);
	cfg.addr = (synack_addr){0};
	cfg.addr6 = us6();
	cfg.prefix6_len = 64;
	CHECK_EQ(synack_stack_create(&cfg, 0, &st), 0);
	synack_addr s = peer6(), d = cfg.addr6;
	static uint8_t inner[2048], body[1000], f[1600];
	const uint8_t rest[4] = {0, 1, 0, 1};
	memset(body, 0x41, sizeof body);
	struct bbuf ib = bbuf_make(inner, sizeof inner);
	wire_ipv6_frag_emit(&ib, WIRE_PROTO_ICMPV6, 0, !atomic, 5);
	size_t m =
	    8 + wire_icmp6_emit(&ib, &s, &d, WIRE_ICMP6_ECHO_REQUEST, 0, rest, body, atomic ? 200 : 1000);
	CHECK_EQ(nf_fits(&ib), m);
	if (!atomic)
		m = 8 + 1000;
	size_t first = 16;
	struct bbuf b = bbuf_make(f, sizeof f);
	wire_ipv6_emit(&b, &s, &d, WIRE_PROTO_FRAGMENT, 64, 8 + first);
	wire_ipv6_frag_emit(&b, WIRE_PROTO_FRAGMENT, 0, true, 77);
	bbuf_put(&b, inner, first);
	input_copy(st, f, nf_fits(&b));
	b = bbuf_make(f, sizeof f);
	wire_ipv6_emit(&b, &s, &d, WIRE_PROTO_FRAGMENT, 64, 8 + m - first);
	wire_ipv6_frag_emit(&b, WIRE_PROTO_FRAGMENT, first / 8, false, 77);
	bbuf_put(&b, inner + first, m - first);
	input_copy(st, f, nf_fits(&b));
	CHECK_EQ(synack_stack_counter(st, SYNACK_CNT_FRAG_REASSEMBLED), 1);
	CHECK_EQ(synack_stack_counter(st, SYNACK_DROP_IP6_EXT_HEADER), 1);
	CHECK_EQ(synack_stack_counter(st, SYNACK_CNT_ICMP_ECHO_REPLIES), 0);
	synack_stack_destroy(st);
}

TEST(nested_fragment_header_is_dropped)
{
	nested_fragment_case(true);
	nested_fragment_case(false);
}
