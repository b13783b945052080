/* Guards of the network layer found by an outside test and by review:
 * martian sources (a land SYN, RFC 1122 §3.2.1.3 (g), RFC 4291 §2.5.3),
 * malformed IPv4 options (RFC 791 §3.1), no ICMPv6 error about an ICMPv6
 * error or a Redirect (RFC 4443 §2.4 (e.1), (e.2)), no reassembly-timeout
 * error about a first fragment that came in a link-layer group frame
 * (RFC 4443 §2.4 (e.4), (e.5)), and every fragment of a reply kept while
 * its next hop is resolved (RFC 4861 §7.2.2). */
#include <errno.h>

#include "net/frag.h"
#include "net_frames.h"
#include "unit.h"

static struct nf_cap cap;
static synack_prng rng;

static synack_addr us4(void)
{
	return synack_addr_ipv4(10, 0, 0, 2);
}
static synack_addr peer4(void)
{
	return synack_addr_ipv4(10, 0, 0, 1);
}
static synack_addr us6(void)
{
	return nf_ip6_global();
}
static synack_addr peer6(void)
{
	return nf_ip6("2001:db8::1");
}
static synack_addr us(bool v6)
{
	return v6 ? us6() : us4();
}
static synack_addr peer(bool v6)
{
	return v6 ? peer6() : peer4();
}

/* A dual-stack host, 10.0.0.2/24 and 2001:db8::2/64, raw IP or Ethernet
 * (nothing captured yet: the ARP announcement is forgotten). */
static synack_stack *mk(bool eth)
{
	synack_stack_config cfg;
	synack_stack *st;
	nf_config(&cfg, &cap, &rng, eth);
	cfg.addr6 = us6();
	cfg.prefix6_len = 64;
	CHECK_EQ(synack_stack_create(&cfg, 0, &st), 0);
	cap.n = 0;
	return st;
}

/* An IP packet (the family of d) from s to d carrying l4[0..n). */
static size_t ip_pkt(uint8_t *f, size_t fcap, const synack_addr *s, const synack_addr *d, uint8_t proto,
		     const uint8_t *l4, size_t n)
{
	struct bbuf b = bbuf_make(f, fcap);
	if (d->family == SYNACK_AF_INET6)
		wire_ipv6_emit(&b, s, d, proto, 64, n);
	else
		wire_ipv4_emit(&b, s, d, proto, 64, 1, 0, n);
	bbuf_put(&b, l4, n);
	return nf_fits(&b);
}

/* Hand the IP packet pkt[0..n) to the stack, in an Ethernet frame from
 * the peer to dst_mac on an Ethernet link. */
static void input(synack_stack *st, bool eth, const uint8_t *dst_mac, const uint8_t *pkt, size_t n,
		  synack_time_t now)
{
	static uint8_t f[NF_LEN];
	if (!eth) {
		synack_stack_input(st, pkt, n, now);
		return;
	}
	uint16_t type = (pkt[0] >> 4) == 6 ? WIRE_ETH_IPV6 : WIRE_ETH_IPV4;
	synack_stack_input(st, f, nf_eth(f, sizeof f, dst_mac, NF_MAC_PEER, type, pkt, n), now);
}

/* A Neighbor Solicitation from src for target (RFC 4861 §4.3), to the
 * target's solicited-node group, on an Ethernet stack; with the peer's
 * link-layer address unless src is :: (DAD). */
static void solicit_in(synack_stack *st, const synack_addr *src, const synack_addr *target, synack_time_t now)
{
	synack_addr sn;
	uint8_t m[64], f[256], smac[6];
	wire_ip6_solicited_node(&sn, target);
	wire_eth_ipv6_mcast(smac, &sn);
	struct bbuf b = bbuf_make(m, sizeof m);
	bool dad = wire_ip6_is_unspecified(src);
	wire_nd_emit(&b, src, &sn, WIRE_ND_NS, 0, target, dad ? NULL : NF_MAC_PEER);
	size_t n = nf_fits(&b);
	struct bbuf p = bbuf_make(f, sizeof f);
	wire_ipv6_emit(&p, src, &sn, WIRE_PROTO_ICMPV6, 255, n);
	bbuf_put(&p, m, n);
	input(st, true, smac, f, nf_fits(&p), now);
}

/* An ICMP (d IPv4) or ICMPv6 echo request from s to d. */
static size_t echo_pkt(uint8_t *f, size_t fcap, const synack_addr *s, const synack_addr *d)
{
	const uint8_t rest[4] = {0, 1, 0, 1};
	uint8_t m[64];
	struct bbuf b = bbuf_make(m, sizeof m);
	if (d->family == SYNACK_AF_INET6)
		wire_icmp6_emit(&b, s, d, WIRE_ICMP6_ECHO_REQUEST, 0, rest, (const uint8_t *)"martian!", 8);
	else
		wire_icmp_emit(&b, WIRE_ICMP_ECHO_REQUEST, 0, rest, (const uint8_t *)"martian!", 8);
	uint8_t proto = d->family == SYNACK_AF_INET6 ? WIRE_PROTO_ICMPV6 : WIRE_PROTO_ICMP;
	return ip_pkt(f, fcap, s, d, proto, m, nf_fits(&b));
}

/* ---- 1. martian sources ---- */

/* A SYN from s:sport to d:dport, checksummed, inside its IP header. */
static size_t syn_pkt(uint8_t *f, size_t fcap, const synack_addr *s, const synack_addr *d, uint16_t sport,
		      uint16_t dport)
{
	struct wire_tcp t = {
	    .sport = sport, .dport = dport, .seq = 1000, .flags = SYNACK_TCP_SYN, .wnd = 65535};
	t.opt.wscale = -1;
	uint8_t seg[64];
	struct bbuf b = bbuf_make(seg, sizeof seg);
	size_t n = wire_tcp_emit(&b, &t, 0);
	wire_tcp_set_csum(seg, n, s, d);
	return ip_pkt(f, fcap, s, d, WIRE_PROTO_TCP, seg, nf_fits(&b));
}

/* The land attack: a SYN whose source address and port are the
 * listener's own. No half-open connection, nothing sent, ever. */
static void land_case(bool v6, bool eth)
{
	synack_stack *st = mk(eth);
	synack_addr a = us(v6);
	synack_endpoint ep = {.addr = a, .port = 80};
	synack_tcp *l, *c = NULL;
	CHECK_EQ(synack_tcp_listen(st, &ep, 4, &l), 0);
	uint8_t f[128];
	input(st, eth, NF_MAC_US, f, syn_pkt(f, sizeof f, &a, &a, 80, 80), 10);
	synack_stack_poll(st, SYNACK_SEC(30)); /* no SYN-ACK retransmissions either */
	CHECK_EQ(cap.n, 0);
	CHECK_EQ(synack_stack_counter(st, SYNACK_DROP_IP_MARTIAN), 1);
	CHECK_EQ(synack_stack_drops(st), 1);
	CHECK_EQ(synack_stack_counter(st, SYNACK_CNT_TCP_PASSIVE_OPENS), 0);
	CHECK_EQ(synack_tcp_accept(l, &c), -EAGAIN);
	synack_stack_destroy(st);
}

TEST(land_syn_ipv4_raw_is_dropped)
{
	land_case(false, false);
}
TEST(land_syn_ipv6_raw_is_dropped)
{
	land_case(true, false);
}
TEST(land_syn_ipv4_ethernet_is_dropped)
{
	land_case(false, true);
}
TEST(land_syn_ipv6_ethernet_is_dropped)
{
	land_case(true, true);
}

/* One packet from src to dst on a fresh Ethernet stack: a martian drop,
 * nothing sent. */
static void expect_martian(const synack_addr *src, const synack_addr *dst, bool own_ll)
{
	synack_stack *st = mk(true);
	synack_addr s = own_ll ? st->net->ll6 : *src;
	uint8_t f[256];
	input(st, true, NF_MAC_US, f, echo_pkt(f, sizeof f, &s, dst), 10);
	if (cap.n != 0 || synack_stack_counter(st, SYNACK_DROP_IP_MARTIAN) != 1 ||
	    synack_stack_drops(st) != 1)
		unit_fail(__FILE__, __LINE__, "%s source: martian %llu, drops %llu, sent %d",
			  own_ll ? "link-local" : synack_addr_format(src, (char[64]){0}, 64),
			  (unsigned long long)synack_stack_counter(st, SYNACK_DROP_IP_MARTIAN),
			  (unsigned long long)synack_stack_drops(st), cap.n);
	synack_stack_destroy(st);
}

TEST(martian_sources_are_dropped_for_every_protocol)
{
	synack_addr u4 = us4(), u6 = us6();
	synack_addr lo = synack_addr_ipv4(127, 0, 0, 1), lo2 = synack_addr_ipv4(127, 200, 1, 9);
	synack_addr lo6 = nf_ip6("::1");
	expect_martian(&lo, &u4, false); /* RFC 1122 §3.2.1.3 (g) */
	expect_martian(&lo2, &u4, false);
	expect_martian(&u4, &u4, false);  /* ICMP from ourselves */
	expect_martian(&lo6, &u6, false); /* RFC 4291 §2.5.3 */
	expect_martian(&u6, &u6, false);
	expect_martian(NULL, &u6, true); /* our link-local address */
	/* Neighbor Discovery from our own address is martian too */
	synack_stack *st = mk(true);
	solicit_in(st, &u6, &u6, 10);
	CHECK_EQ(cap.n, 0);
	CHECK_EQ(synack_stack_counter(st, SYNACK_DROP_IP_MARTIAN), 1);
	/* ... but Duplicate Address Detection from :: is not ours: answered */
	synack_addr unspec = {.family = SYNACK_AF_INET6};
	solicit_in(st, &unspec, &u6, 20); /* RFC 4861 §7.1.1: no source link-layer option */
	CHECK_EQ(cap.n, 1);
	CHECK_EQ(synack_stack_counter(st, SYNACK_CNT_ND_IN), 1);
	CHECK_EQ(synack_stack_drops(st), 1);
	/* and a neighbour's echo request still is */
	synack_addr p4 = peer4();
	uint8_t f[256];
	input(st, true, NF_MAC_US, f, echo_pkt(f, sizeof f, &p4, &u4), 30);
	CHECK_EQ(synack_stack_counter(st, SYNACK_CNT_NEIGH_QUEUED), 1); /* the reply waits for ARP */
	CHECK_EQ(synack_stack_drops(st), 1);
	synack_stack_destroy(st);
}

/* ---- 2. IPv4 options ---- */

/* An echo request from the peer whose header carries opts[0..olen) (a
 * multiple of 4), checksummed. */
static size_t echo_opts(uint8_t *f, size_t fcap, const uint8_t *opts, size_t olen)
{
	synack_addr s = peer4(), d = us4();
	const uint8_t rest[4] = {0, 2, 0, 2};
	uint8_t m[32];
	struct bbuf mb = bbuf_make(m, sizeof m);
	size_t n = wire_icmp_emit(&mb, WIRE_ICMP_ECHO_REQUEST, 0, rest, (const uint8_t *)"options!", 8);
	struct bbuf b = bbuf_make(f, fcap);
	uint8_t *h = bbuf_reserve(&b, WIRE_IPV4_HDR);
	bbuf_put(&b, opts, olen);
	bbuf_put(&b, m, nf_fits(&mb));
	struct bbuf hb = bbuf_make(h, h ? WIRE_IPV4_HDR : 0);
	if (!nf_fits(&b) || !wire_ipv4_emit(&hb, &s, &d, WIRE_PROTO_ICMP, 64, 3, 0, olen + n))
		return 0;
	h[0] = (uint8_t)(0x40 | (WIRE_IPV4_HDR + olen) / 4);
	wr16(h + 10, 0);
	wr16(h + 10, wire_csum_finish(wire_csum_add(0, h, WIRE_IPV4_HDR + olen)));
	return b.len;
}

struct opt_case {
	const char *what;
	uint8_t len;
	uint8_t o[40];
};

/* RFC 791 §3.1: the length octet, the defined options' lengths and pointers, each option once */
static const struct opt_case bad_opts[] = {
    {"timestamp of length 0", 4, {0x44, 0, 0, 0}},
    {"length 1", 4, {0x44, 1, 0, 0}},
    {"length past the header", 4, {0x07, 8, 4, 0}},
    {"no room for the length byte", 4, {1, 1, 1, 0x83}},
    {"record route of length 2", 4, {0x07, 2, 0, 0}},
    {"record route pointer 3", 4, {0x07, 3, 3, 0}},
    {"loose source route pointer 3", 8, {0x83, 7, 3, 1, 2, 3, 4, 0}},
    {"strict source route of length 2", 4, {0x89, 2, 1, 0}},
    {"timestamp of length 3", 4, {0x44, 3, 5, 0}},
    {"timestamp pointer 4", 4, {0x44, 4, 4, 0}},
    {"stream id of length 3", 4, {0x88, 3, 0, 1}},
    {"stream id of length 5", 8, {0x88, 5, 0, 0, 0, 0, 0, 0}},
    {"security of length 2", 4, {0x82, 2, 0, 0}},
    {"record route twice", 8, {0x07, 3, 4, 0x07, 3, 4, 0, 0}},
};

static const struct opt_case good_opts[] = {
    {"no-ops and end of list", 4, {1, 1, 1, 0}},
    {"garbage after end of list", 4, {0, 0x44, 0, 0}},
    {"record route, one slot", 8, {0x07, 7, 4, 0, 0, 0, 0, 0}},
    {"timestamp, two slots", 12, {0x44, 12, 5, 0}},
    {"timestamp, full", 4, {0x44, 4, 5, 0x10}},
    {"stream id", 4, {0x88, 4, 0x12, 0x34}},
    {"security", 12, {0x82, 11}},
    {"security of length 4 (RFC 1108)", 4, {0x82, 4, 0, 0}},
    {"router alert", 4, {0x94, 4, 0, 0}},
    {"unknown option of length 2", 4, {0x99, 2, 1, 0}},
    {"loose source route, exhausted", 8, {0x83, 7, 8, 1, 2, 3, 4, 0}},
    {"forty bytes of no-ops", 40, {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
				   1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}},
};

TEST(malformed_ipv4_options_are_dropped)
{
	uint8_t f[256];
	for (size_t i = 0; i < ARRAY_LEN(bad_opts); i++) {
		const struct opt_case *k = &bad_opts[i];
		size_t n = echo_opts(f, sizeof f, k->o, k->len);
		struct wire_ipv4 ip;
		int got = wire_ipv4_parse(f, n, &ip);
		synack_stack *st = mk(false);
		synack_stack_input(st, f, n, 10);
		if (got != SYNACK_DROP_IP_OPTIONS || cap.n != 0 ||
		    synack_stack_counter(st, SYNACK_DROP_IP_OPTIONS) != 1 || synack_stack_drops(st) != 1)
			unit_fail(__FILE__, __LINE__, "%s: parse %d, drop_ip_options %llu, sent %d", k->what,
				  got, (unsigned long long)synack_stack_counter(st, SYNACK_DROP_IP_OPTIONS),
				  cap.n);
		synack_stack_destroy(st);
	}
}

TEST(well_formed_ipv4_options_are_skipped)
{
	uint8_t f[256];
	for (size_t i = 0; i < ARRAY_LEN(good_opts); i++) {
		const struct opt_case *k = &good_opts[i];
		size_t n = echo_opts(f, sizeof f, k->o, k->len);
		struct wire_ipv4 ip;
		int got = wire_ipv4_parse(f, n, &ip);
		synack_stack *st = mk(false);
		synack_stack_input(st, f, n, 10);
		if (got != 0 || ip.hdr_len != 20 + k->len || ip.payload_len != 16 || cap.n != 1 ||
		    synack_stack_drops(st) != 0)
			unit_fail(__FILE__, __LINE__, "%s: parse %d, header %u, sent %d, drops %llu", k->what,
				  got, ip.hdr_len, cap.n, (unsigned long long)synack_stack_drops(st));
		synack_stack_destroy(st);
	}
}

/* ---- 3a. no ICMPv6 error about an ICMPv6 error or a Redirect ---- */

/* An IPv6 packet from the peer with a Destination Options header holding
 * an unknown option of action 10 (RFC 8200 §4.2: discard, Parameter
 * Problem even to multicast), then header `next` with body[0..blen). */
static size_t behind_bad_option(uint8_t *f, size_t fcap, uint8_t next, const uint8_t *body, size_t blen)
{
	synack_addr s = peer6(), d = us6();
	const uint8_t dst[8] = {next, 0, 0x87, 2, 0, 0, 0, 0};
	struct bbuf b = bbuf_make(f, fcap);
	wire_ipv6_emit(&b, &s, &d, WIRE_PROTO_DSTOPTS, 64, 8 + blen);
	bbuf_put(&b, dst, 8);
	bbuf_put(&b, body, blen);
	return nf_fits(&b);
}

/* ICMPv6 type/code behind the bad option: how many Parameter Problems. */
static int pp_for_icmp6(uint8_t type, size_t cut)
{
	synack_addr s = peer6(), d = us6();
	uint8_t m[128], f[256];
	const uint8_t rest[4] = {0};
	struct bbuf b = bbuf_make(m, sizeof m);
	size_t n = wire_icmp6_emit(&b, &s, &d, type, 0, rest, (const uint8_t *)"0123456789abcdef", 16);
	synack_stack *st = mk(false);
	synack_stack_input(st, f, behind_bad_option(f, sizeof f, WIRE_PROTO_ICMPV6, m, n - cut), 10);
	int sent = cap.n;
	CHECK_EQ(synack_stack_counter(st, SYNACK_DROP_IP6_EXT_HEADER), 1);
	CHECK_EQ(synack_stack_counter(st, SYNACK_CNT_ICMP_RATE_LIMITED), 0);
	struct wire_ipv6 ip;
	struct wire_icmp ic;
	if (sent == 1 && (wire_ipv6_parse(cap.f[0], cap.len[0], &ip) ||
			  wire_icmp6_parse(&ip.src, &ip.dst, ip.payload, ip.payload_len, &ic) ||
			  ic.type != WIRE_ICMP6_PARAM_PROBLEM || ic.code != WIRE_ICMP6_PP_OPTION))
		sent = -1;
	synack_stack_destroy(st);
	return sent;
}

TEST(no_parameter_problem_about_icmpv6_errors)
{
	CHECK_EQ(pp_for_icmp6(WIRE_ICMP6_ECHO_REQUEST, 0), 1); /* informational: answered */
	CHECK_EQ(pp_for_icmp6(WIRE_ICMP6_DEST_UNREACH, 0), 0); /* RFC 4443 §2.4 (e.1) */
	CHECK_EQ(pp_for_icmp6(WIRE_ICMP6_PACKET_TOO_BIG, 0), 0);
	CHECK_EQ(pp_for_icmp6(WIRE_ICMP6_PARAM_PROBLEM, 0), 0);
	CHECK_EQ(pp_for_icmp6(127, 0), 0);			/* any type below 128 */
	CHECK_EQ(pp_for_icmp6(WIRE_ND_REDIRECT, 0), 0);		/* RFC 4443 §2.4 (e.2) */
	CHECK_EQ(pp_for_icmp6(WIRE_ICMP6_ECHO_REQUEST, 24), 0); /* no readable ICMPv6 type */
	/* another upper layer behind the same option: answered */
	uint8_t f[256], seg[20] = {0};
	synack_stack *st = mk(false);
	synack_stack_input(st, f, behind_bad_option(f, sizeof f, WIRE_PROTO_TCP, seg, sizeof seg), 10);
	CHECK_EQ(cap.n, 1);
	synack_stack_destroy(st);
	/* a chain that cannot be walked past the option is no known error: answered */
	const uint8_t cut[4] = {WIRE_PROTO_ICMPV6, 0, 1, 0};
	st = mk(false);
	synack_stack_input(st, f, behind_bad_option(f, sizeof f, WIRE_PROTO_DSTOPTS, cut, sizeof cut), 10);
	CHECK_EQ(cap.n, 1);
	synack_stack_destroy(st);
	/* ICMPv6 behind a non-first fragment: its type cannot be read, so silence */
	const uint8_t frag[16] = {WIRE_PROTO_ICMPV6, 0, 0, 8 | 1, 0, 0, 0, 7, 1, 0, 0, 0, 0, 0, 0, 0};
	st = mk(false);
	synack_stack_input(st, f, behind_bad_option(f, sizeof f, WIRE_PROTO_FRAGMENT, frag, sizeof frag), 10);
	CHECK_EQ(cap.n, 0);
	CHECK_EQ(synack_stack_counter(st, SYNACK_DROP_IP6_EXT_HEADER), 1);
	synack_stack_destroy(st);
}

/* ---- 3b. reassembly timeout and link-layer group frames ---- */

/* Teach an Ethernet stack the peer's MAC (a solicitation for our global
 * address), so that what it sends the peer leaves at once. */
static void learn_peer6(synack_stack *st)
{
	synack_addr s = peer6(), d = us6();
	solicit_in(st, &s, &d, 1);
	CHECK_EQ(cap.n, 1); /* the advertisement */
	cap.n = 0;
}

/* The first fragment of an echo request, alone, in a unicast or group
 * frame; the reassembly times out. Returns the Time Exceeded sent. */
static int time_exceeded_after(bool group)
{
	static const uint8_t all_nodes_mac[6] = {0x33, 0x33, 0, 0, 0, 1};
	synack_stack *st = mk(true);
	learn_peer6(st);
	synack_addr s = peer6(), d = us6();
	static uint8_t msg[2100], f[1500];
	const uint8_t rest[4] = {0};
	struct bbuf mb = bbuf_make(msg, sizeof msg);
	wire_icmp6_emit(&mb, &s, &d, WIRE_ICMP6_ECHO_REQUEST, 0, rest, msg + 100, 2000);
	struct bbuf b = bbuf_make(f, sizeof f);
	wire_ipv6_emit(&b, &s, &d, WIRE_PROTO_FRAGMENT, 64, 8 + 1000);
	wire_ipv6_frag_emit(&b, WIRE_PROTO_ICMPV6, 0, true, 42);
	bbuf_put(&b, msg, 1000);
	input(st, true, group ? all_nodes_mac : NF_MAC_US, f, nf_fits(&b), 10);
	CHECK_EQ(cap.n, 0);
	synack_stack_poll(st, 10 + SYNACK_SEC(60)); /* RFC 8200 §4.5: 60 s */
	CHECK_EQ(synack_stack_counter(st, SYNACK_DROP_FRAG_TIMEOUT), 1);
	int te = 0;
	for (int i = 0; i < cap.n && i < NF_MAX; i++) {
		struct wire_ipv6 ip;
		struct wire_icmp ic;
		size_t n;
		const uint8_t *p = nf_ip(&cap, i, true, &n);
		if (!wire_ipv6_parse(p, n, &ip) && ip.next == WIRE_PROTO_ICMPV6 &&
		    !wire_icmp6_parse(&ip.src, &ip.dst, ip.payload, ip.payload_len, &ic) &&
		    ic.type == WIRE_ICMP6_TIME_EXCEEDED && ic.code == 1)
			te++;
	}
	CHECK_EQ(synack_stack_counter(st, SYNACK_CNT_ICMP_ERRORS_OUT), te);
	synack_stack_destroy(st);
	return te;
}

/* The table keeps the frame kind of the offset-0 fragment (RFC 4443 §2.4
 * (e.4), (e.5) apply to the fragment the error would quote). */
static bool expired_group(bool first_group, bool second_group)
{
	struct mem m;
	static uint64_t counters[SYNACK_COUNTER_COUNT];
	struct frag_table *ft;
	struct frag_limits lim;
	struct frag_done d = {0};
	struct frag_key k = {.family = SYNACK_AF_INET6, .proto = WIRE_PROTO_ICMPV6, .id = 3};
	static const uint8_t data[64];
	k.src = peer6();
	k.dst = us6();
	mem_init(&m, NULL);
	frag_limits_default(&lim);
	CHECK_EQ(frag_table_create(&m, &lim, counters, &ft), 0);
	struct frag_in a = {
	    .offset = 2, .more = true, .data = data, .len = 16, .max_end = 65535, .l2_group = second_group};
	struct frag_in b = {
	    .offset = 0, .more = true, .data = data, .len = 16, .max_end = 65535, .l2_group = first_group};
	CHECK_EQ(frag_input(ft, 0, &k, &a, &d), FRAG_QUEUED); /* the later piece first */
	CHECK_EQ(frag_input(ft, 1, &k, &b, &d), FRAG_QUEUED);
	CHECK_EQ(frag_expire(ft, SYNACK_SEC(61), &d), 1);
	bool group = d.l2_group;
	frag_table_destroy(ft);
	CHECK_EQ(m.blocks, 0);
	return group;
}

TEST(reassembly_keeps_the_first_fragments_frame_kind)
{
	CHECK(expired_group(true, false));
	CHECK(!expired_group(false, true));
	CHECK(!expired_group(false, false));
}

TEST(reassembly_timeout_error_follows_the_group_frame_rule)
{
	CHECK_EQ(time_exceeded_after(false), 1); /* RFC 8200 §4.5 */
	CHECK_EQ(time_exceeded_after(true), 0);	 /* RFC 4443 §2.4 (e.4), (e.5) */
}

/* ---- 3c. a fragmented reply behind an unresolved neighbour ---- */

/* Send msg[0..n) from the peer in fragments of 1400 bytes (Ethernet). */
static void fragments_in(synack_stack *st, bool v6, const uint8_t *msg, size_t n)
{
	synack_addr s = peer(v6), d = us(v6);
	static uint8_t f[1600];
	for (size_t off = 0; off < n; off += 1400) {
		size_t len = MIN((size_t)1400, n - off);
		size_t k = nf_fragment(f, sizeof f, &s, &d, v6 ? WIRE_PROTO_ICMPV6 : WIRE_PROTO_ICMP, msg,
				       off, len, off + len < n, 1234);
		input(st, true, NF_MAC_US, f, k, 10);
	}
}

/* Reassemble the IP fragments among the captured frames (to the peer's
 * MAC); returns the message length, 0 if incomplete. */
static size_t join_reply(bool v6, uint8_t *msg, int *frags)
{
	size_t total = 0, got = 0;
	*frags = 0;
	for (int i = 0; i < cap.n && i < NF_MAX; i++) {
		size_t n, off, len;
		const uint8_t *p = nf_ip(&cap, i, true, &n), *data;
		bool more;
		struct wire_ipv6 ip6;
		struct wire_ipv6_ext x;
		struct wire_ipv4 ip4;
		if (memcmp(cap.f[i], NF_MAC_PEER, 6) != 0)
			continue;
		if (v6) {
			if (wire_ipv6_parse(p, n, &ip6) || ip6.next != WIRE_PROTO_FRAGMENT ||
			    wire_ipv6_ext_parse(ip6.next, ip6.payload, ip6.payload_len, &x))
				continue;
			off = x.frag_offset * 8u, more = x.frag_more, data = ip6.payload + 8,
			len = ip6.payload_len - 8;
		} else {
			if (wire_ipv4_parse(p, n, &ip4) || !wire_ipv4_is_fragment(&ip4))
				continue;
			off = (ip4.frag & WIRE_IPV4_OFFMASK) * 8u, more = ip4.frag & WIRE_IPV4_MF,
			data = ip4.payload, len = ip4.payload_len;
		}
		memcpy(msg + off, data, len);
		got += len;
		(*frags)++;
		if (!more)
			total = off + len;
	}
	return got == total ? total : 0;
}

/* Resolve the peer: an ARP reply or a solicited Neighbor Advertisement. */
static void resolve_peer(synack_stack *st, bool v6)
{
	uint8_t f[256];
	if (!v6) {
		size_t n =
		    nf_arp(f, sizeof f, WIRE_ARP_REPLY, NF_MAC_PEER, peer4(), NF_MAC_US, us4(), NF_MAC_US);
		synack_stack_input(st, f, n, 500);
		return;
	}
	synack_addr s = peer6(), d = us6();
	uint8_t m[64];
	struct bbuf b = bbuf_make(m, sizeof m);
	wire_nd_emit(&b, &s, &d, WIRE_ND_NA, WIRE_NA_SOLICITED | WIRE_NA_OVERRIDE, &s, NF_MAC_PEER);
	size_t n = nf_fits(&b);
	struct bbuf p = bbuf_make(f, sizeof f);
	wire_ipv6_emit(&p, &s, &d, WIRE_PROTO_ICMPV6, 255, n);
	bbuf_put(&p, m, n);
	input(st, true, NF_MAC_US, f, nf_fits(&p), 500);
}

static void fragmented_reply_case(bool v6)
{
	synack_stack *st = mk(true);
	static uint8_t body[10000], msg[10100], back[10100];
	for (size_t i = 0; i < sizeof body; i++)
		body[i] = (uint8_t)(i * 7 + 3);
	synack_addr s = peer(v6), d = us(v6);
	const uint8_t rest[4] = {0x55, 0xaa, 0, 3};
	struct bbuf b = bbuf_make(msg, sizeof msg);
	size_t m = v6 ? wire_icmp6_emit(&b, &s, &d, WIRE_ICMP6_ECHO_REQUEST, 0, rest, body, sizeof body)
		      : wire_icmp_emit(&b, WIRE_ICMP_ECHO_REQUEST, 0, rest, body, sizeof body);
	CHECK_EQ(m, 8 + sizeof body);
	fragments_in(st, v6, msg, m);
	CHECK_EQ(synack_stack_counter(st, SYNACK_CNT_FRAG_REASSEMBLED), 1);
	CHECK_EQ(cap.n, 1); /* only the ARP request / Neighbor Solicitation */
	CHECK_EQ(neigh_state_of(st, &s, NULL), NEIGH_INCOMPLETE);
	resolve_peer(st, v6);
	int frags;
	size_t n = join_reply(v6, back, &frags);
	CHECK_EQ(frags, 7); /* 10008 bytes in 1480 (IPv4) or 1448 (IPv6) byte pieces */
	CHECK_EQ(cap.n, 1 + 7);
	CHECK_EQ(n, m);
	struct wire_icmp ic;
	if (n != m || (v6 ? wire_icmp6_parse(&d, &s, back, n, &ic) : wire_icmp_parse(back, n, &ic)) != 0) {
		CHECK(!"the reply does not reassemble");
		synack_stack_destroy(st);
		return;
	}
	CHECK_EQ(ic.type, v6 ? WIRE_ICMP6_ECHO_REPLY : WIRE_ICMP_ECHO_REPLY);
	CHECK_MEM(ic.rest, rest, 4);
	CHECK_EQ(ic.body_len, sizeof body);
	CHECK_MEM(ic.body, body, sizeof body);
	CHECK_EQ(synack_stack_drops(st), 0);
	synack_stack_destroy(st);
}

TEST(fragmented_reply_waits_whole_for_arp)
{
	fragmented_reply_case(false);
}
TEST(fragmented_reply_waits_whole_for_nd)
{
	fragmented_reply_case(true);
}

/* The echo sequence number of captured frame i (an IPv4 echo request), or
 * -1. */
static int echo_seq(int i)
{
	struct wire_ipv4 ip;
	size_t n;
	const uint8_t *p = nf_ip(&cap, i, true, &n);
	if (i >= NF_MAX || rd16(cap.f[i] + 12) != WIRE_ETH_IPV4 || wire_ipv4_parse(p, n, &ip) ||
	    ip.proto != WIRE_PROTO_ICMP || ip.payload_len < 8)
		return -1;
	return rd16(ip.payload + 6);
}

/* RFC 4861 §7.2.2: the new arrival replaces the oldest; here the bound
 * that overflows is the bytes (large pings), then the packet count (small
 * ones). Everything allocated comes back. */
TEST(resolution_queue_is_bounded_in_bytes_and_packets)
{
	synack_stack *st = mk(true);
	size_t bytes0, blocks0, bytes1, blocks1;
	synack_stack_memory(st, &bytes0, &blocks0);
	synack_addr p = peer4();
	int per = NEIGH_QUEUE_BYTES / (NEIGH_QUEUE_PKT_COST + 20 + 8 + 1400);
	CHECK(per + 1 < NF_MAX);
	for (int i = 1; i <= per + 5; i++)
		CHECK_EQ(synack_stack_ping(st, &p, 1, (uint16_t)i, 1400), 0);
	CHECK_EQ(synack_stack_counter(st, SYNACK_DROP_NEIGH_QUEUE_FULL), 5);
	CHECK(st->net->neigh.queued <= NEIGH_QUEUE_BYTES);
	resolve_peer(st, false);
	CHECK_EQ(cap.n, 1 + per);
	CHECK_EQ(echo_seq(1), 6); /* the oldest five were replaced */
	CHECK_EQ(echo_seq(per), per + 5);
	CHECK_EQ(st->net->neigh.queued, 0);
	synack_stack_memory(st, &bytes1, &blocks1);
	CHECK_EQ(bytes1, bytes0);
	CHECK_EQ(blocks1, blocks0);
	synack_stack_destroy(st);
	st = mk(true);
	for (int i = 1; i <= NEIGH_QUEUE_PKTS + 2; i++)
		CHECK_EQ(synack_stack_ping(st, &p, 1, (uint16_t)i, 8), 0);
	CHECK_EQ(synack_stack_counter(st, SYNACK_DROP_NEIGH_QUEUE_FULL), 2);
	resolve_peer(st, false);
	CHECK_EQ(cap.n, 1 + NEIGH_QUEUE_PKTS);
	CHECK_EQ(echo_seq(1), 3);
	synack_stack_destroy(st);
}

/* Several unresolved neighbours share NEIGH_QUEUE_BYTES_ALL: past it, new
 * packets are dropped (counted); when resolution fails every queued packet
 * is dropped as unresolved and every byte comes back. */
TEST(resolution_queues_share_a_global_bound)
{
	synack_stack *st = mk(true);
	size_t bytes0, blocks0, bytes1, blocks1;
	synack_stack_memory(st, &bytes0, &blocks0);
	int per = NEIGH_QUEUE_BYTES / (NEIGH_QUEUE_PKT_COST + 20 + 8 + 1400), sent = 0;
	for (uint8_t h = 11; h <= 15; h++) {
		synack_addr p = synack_addr_ipv4(10, 0, 0, h);
		for (int i = 1; i <= per; i++, sent++)
			synack_stack_ping(st, &p, h, (uint16_t)i, 1400);
	}
	uint64_t queued = synack_stack_counter(st, SYNACK_CNT_NEIGH_QUEUED);
	uint64_t full = synack_stack_counter(st, SYNACK_DROP_NEIGH_QUEUE_FULL);
	CHECK(st->net->neigh.queued <= NEIGH_QUEUE_BYTES_ALL);
	CHECK(full > 0);
	CHECK_EQ(queued + full, (uint64_t)sent);
	CHECK_EQ(cap.n, 5); /* one ARP request each */
	for (synack_time_t t; (t = synack_stack_next_deadline(st)) <= SYNACK_SEC(10);)
		synack_stack_poll(st, t); /* three requests each, no answer */
	CHECK_EQ(synack_stack_counter(st, SYNACK_DROP_NEIGH_UNRESOLVED), queued);
	CHECK_EQ(st->net->neigh.queued, 0);
	synack_stack_memory(st, &bytes1, &blocks1);
	CHECK_EQ(bytes1, bytes0);
	CHECK_EQ(blocks1, blocks0);
	synack_stack_destroy(st);
}
