/* Ethernet and ARP: the wire formats, frame acceptance and its drop
 * counters, ARP answers and learning (RFC 826), the announcement at
 * creation, and the neighbour cache on virtual time: resolution with a
 * bounded queue, failure, expiry and NUD probes, routing through a
 * gateway; then TCP between two stacks over an Ethernet memlink. */
#include "harness.h"
#include "net_frames.h"
#include "unit.h"

static struct nf_cap cap;
static synack_prng rng;

static synack_stack *mk(void)
{
	synack_stack_config cfg;
	synack_stack *st;
	nf_config(&cfg, &cap, &rng, true);
	CHECK_EQ(synack_stack_create(&cfg, 0, &st), 0);
	return st;
}

static const synack_addr *peer4(void)
{
	static synack_addr a;
	a = synack_addr_ipv4(10, 0, 0, 1);
	return &a;
}

TEST(eth_parse_emit_roundtrip)
{
	uint8_t f[64], payload[4] = {1, 2, 3, 4};
	size_t n = nf_eth(f, sizeof f, NF_BCAST, NF_MAC_PEER, WIRE_ETH_IPV6, payload, 4);
	struct wire_eth e;
	CHECK_EQ(wire_eth_parse(f, n, &e), 0);
	CHECK_MEM(e.dst, NF_BCAST, 6);
	CHECK_MEM(e.src, NF_MAC_PEER, 6);
	CHECK_EQ(e.type, WIRE_ETH_IPV6);
	CHECK_EQ(e.payload_len, 4);
	CHECK_EQ(e.payload[3], 4);
	CHECK_EQ(wire_eth_parse(f, 13, &e), SYNACK_DROP_ETH_TRUNCATED);
	CHECK(wire_mac_is_group(NF_BCAST) && !wire_mac_is_group(NF_MAC_US));
	synack_addr g = nf_ip6("ff02::1:ff12:3456");
	uint8_t m[6], want[6] = {0x33, 0x33, 0xff, 0x12, 0x34, 0x56};
	wire_eth_ipv6_mcast(m, &g);
	CHECK_MEM(m, want, 6);
}

TEST(arp_parse_emit_roundtrip_and_malformed)
{
	uint8_t f[64];
	size_t n = nf_arp(f, sizeof f, WIRE_ARP_REQUEST, NF_MAC_PEER, *peer4(), NF_BCAST,
			  synack_addr_ipv4(10, 0, 0, 2), NF_BCAST);
	struct wire_arp a;
	CHECK_EQ(n, 42);
	CHECK_EQ(wire_arp_parse(f + 14, 28, &a), 0);
	CHECK_EQ(a.op, WIRE_ARP_REQUEST);
	CHECK(synack_addr_equal(&a.spa, peer4()));
	CHECK_EQ(a.tpa.bytes[3], 2);
	CHECK_MEM(a.sha, NF_MAC_PEER, 6);
	CHECK_EQ(wire_arp_parse(f + 14, 27, &a), SYNACK_DROP_ARP_MALFORMED);
	f[14 + 7] = 3; /* opcode 3 */
	CHECK_EQ(wire_arp_parse(f + 14, 28, &a), SYNACK_DROP_ARP_MALFORMED);
	f[14 + 7] = 1;
	f[14 + 5] = 16; /* protocol length 16 */
	CHECK_EQ(wire_arp_parse(f + 14, 28, &a), SYNACK_DROP_ARP_MALFORMED);
}

TEST(create_announces_ipv4_address)
{
	synack_stack *st = mk();
	CHECK_EQ(cap.n, 1);
	struct wire_eth e;
	struct wire_arp a;
	CHECK_EQ(wire_eth_parse(cap.f[0], cap.len[0], &e), 0);
	CHECK_MEM(e.dst, NF_BCAST, 6);
	CHECK_MEM(e.src, NF_MAC_US, 6);
	CHECK_EQ(e.type, WIRE_ETH_ARP);
	CHECK_EQ(wire_arp_parse(e.payload, e.payload_len, &a), 0);
	CHECK_EQ(a.op, WIRE_ARP_REQUEST); /* RFC 5227 §3 announcement */
	CHECK(synack_addr_equal(&a.spa, &a.tpa));
	CHECK_EQ(a.spa.bytes[3], 2);
	CHECK_EQ(synack_stack_counter(st, SYNACK_CNT_ARP_OUT), 1);
	synack_stack_destroy(st);
}

TEST(arp_request_for_us_is_answered_and_learnt)
{
	synack_stack *st = mk();
	uint8_t f[64];
	cap.n = 0;
	size_t n = nf_arp(f, sizeof f, WIRE_ARP_REQUEST, NF_MAC_PEER, *peer4(), NF_BCAST,
			  synack_addr_ipv4(10, 0, 0, 2), NF_BCAST);
	synack_stack_input(st, f, n, 100);
	CHECK_EQ(cap.n, 1);
	struct wire_eth e;
	struct wire_arp a;
	CHECK_EQ(wire_eth_parse(cap.f[0], cap.len[0], &e), 0);
	CHECK_MEM(e.dst, NF_MAC_PEER, 6); /* unicast reply */
	CHECK_EQ(wire_arp_parse(e.payload, e.payload_len, &a), 0);
	CHECK_EQ(a.op, WIRE_ARP_REPLY);
	CHECK_MEM(a.sha, NF_MAC_US, 6);
	CHECK_MEM(a.tha, NF_MAC_PEER, 6);
	CHECK(synack_addr_equal(&a.tpa, peer4()));
	uint8_t mac[6];
	CHECK_EQ(neigh_state_of(st, peer4(), mac), NEIGH_STALE); /* RFC 4861 §7.2.3 semantics */
	CHECK_MEM(mac, NF_MAC_PEER, 6);
	CHECK_EQ(synack_stack_drops(st), 0);
	/* a request that is not for us: RFC 826 merge updates the known
	 * sender, nothing is answered */
	uint8_t other[6] = {0x02, 0, 0, 0, 0, 9};
	n = nf_arp(f, sizeof f, WIRE_ARP_REQUEST, other, *peer4(), NF_BCAST, synack_addr_ipv4(10, 0, 0, 7),
		   NF_BCAST);
	synack_stack_input(st, f, n, 200);
	CHECK_EQ(cap.n, 1);
	CHECK_EQ(neigh_state_of(st, peer4(), mac), NEIGH_STALE);
	CHECK_MEM(mac, other, 6);
	/* an unknown sender asking for someone else: not learnt, dropped */
	n = nf_arp(f, sizeof f, WIRE_ARP_REQUEST, other, synack_addr_ipv4(10, 0, 0, 8), NF_BCAST,
		   synack_addr_ipv4(10, 0, 0, 7), NF_BCAST);
	synack_stack_input(st, f, n, 300);
	CHECK_EQ(neigh_state_of(st, &(synack_addr){0}, NULL), -1);
	CHECK_EQ(synack_stack_counter(st, SYNACK_DROP_ARP_NOT_FOR_US), 1);
	synack_stack_destroy(st);
}

static void expect_drop(const uint8_t *f, size_t n, enum synack_counter id)
{
	synack_stack *st = mk();
	cap.n = 0;
	synack_stack_input(st, f, n, 10);
	if (cap.n != 0 || synack_stack_counter(st, id) != 1 || synack_stack_drops(st) != 1)
		unit_fail(__FILE__, __LINE__, "expected one %s drop, got %llu (drops %llu, sent %d)",
			  synack_counter_name(id), (unsigned long long)synack_stack_counter(st, id),
			  (unsigned long long)synack_stack_drops(st), cap.n);
	synack_stack_destroy(st);
}

TEST(bad_frames_are_counted)
{
	uint8_t f[128];
	synack_addr us = synack_addr_ipv4(10, 0, 0, 2);
	size_t n = nf_arp(f, sizeof f, WIRE_ARP_REQUEST, NF_MAC_PEER, *peer4(), NF_BCAST, us, NF_BCAST);
	expect_drop(f, 10, SYNACK_DROP_ETH_TRUNCATED);
	f[0] = 0x02; /* unicast to someone else */
	f[5] = 0x77;
	expect_drop(f, n, SYNACK_DROP_ETH_NOT_FOR_US);
	n = nf_arp(f, sizeof f, WIRE_ARP_REQUEST, NF_MAC_PEER, *peer4(), NF_BCAST, us, NF_BCAST);
	f[12] = 0x88; /* ethertype 0x8806 */
	expect_drop(f, n, SYNACK_DROP_ETH_TYPE);
	n = nf_arp(f, sizeof f, WIRE_ARP_REQUEST, NF_MAC_PEER, *peer4(), NF_BCAST, us, NF_BCAST);
	f[6] |= 1; /* group source */
	expect_drop(f, n, SYNACK_DROP_ETH_BAD_SOURCE);
	n = nf_arp(f, sizeof f, WIRE_ARP_REQUEST, NF_MAC_PEER, *peer4(), NF_BCAST, us, NF_BCAST);
	expect_drop(f, n - 1, SYNACK_DROP_ARP_MALFORMED);
	n = nf_arp(f, sizeof f, WIRE_ARP_REQUEST, NF_MAC_PEER, synack_addr_ipv4(224, 0, 0, 1), NF_BCAST, us,
		   NF_BCAST);
	expect_drop(f, n, SYNACK_DROP_ARP_BAD_SOURCE);
	uint8_t mc[6] = {0x01, 0x00, 0x5e, 0, 0, 1}; /* IPv4 multicast group we did not join */
	n = nf_arp(f, sizeof f, WIRE_ARP_REQUEST, NF_MAC_PEER, *peer4(), NF_BCAST, us, mc);
	expect_drop(f, n, SYNACK_DROP_ETH_NOT_FOR_US);
}

/* Deliver an ARP reply from the peer to us. */
static void arp_reply(synack_stack *st, const synack_addr *from, const uint8_t *mac, synack_time_t now)
{
	uint8_t f[64];
	size_t n = nf_arp(f, sizeof f, WIRE_ARP_REPLY, mac, *from, NF_MAC_US, synack_addr_ipv4(10, 0, 0, 2),
			  NF_MAC_US);
	synack_stack_input(st, f, n, now);
}

static void expect_arp_request(int i, const synack_addr *target, const uint8_t *dst_mac)
{
	struct wire_eth e;
	struct wire_arp a;
	CHECK_EQ(wire_eth_parse(cap.f[i], cap.len[i], &e), 0);
	CHECK_MEM(e.dst, dst_mac, 6);
	CHECK_EQ(e.type, WIRE_ETH_ARP);
	CHECK_EQ(wire_arp_parse(e.payload, e.payload_len, &a), 0);
	CHECK_EQ(a.op, WIRE_ARP_REQUEST);
	CHECK(synack_addr_equal(&a.tpa, target));
}

/* The ICMP echo sequence number of the IPv4 frame i. */
static int echo_seq(int i)
{
	struct wire_eth e;
	struct wire_ipv4 ip;
	if (wire_eth_parse(cap.f[i], cap.len[i], &e) || e.type != WIRE_ETH_IPV4 ||
	    wire_ipv4_parse(e.payload, e.payload_len, &ip) || ip.proto != WIRE_PROTO_ICMP)
		return -1;
	return rd16(ip.payload + 6);
}

TEST(resolution_queues_then_flushes)
{
	synack_stack *st = mk();
	cap.n = 0;
	CHECK_EQ(synack_stack_ping(st, peer4(), 1, 1, 8), 0);
	CHECK_EQ(cap.n, 1);
	expect_arp_request(0, peer4(), NF_BCAST);
	CHECK_EQ(neigh_state_of(st, peer4(), NULL), NEIGH_INCOMPLETE);
	CHECK_EQ(synack_stack_next_deadline(st), SYNACK_SEC(1)); /* RFC 4861 RETRANS_TIMER */
	CHECK_EQ(synack_stack_counter(st, SYNACK_CNT_NEIGH_QUEUED), 1);
	arp_reply(st, peer4(), NF_MAC_PEER, 500);
	CHECK_EQ(cap.n, 2);
	struct wire_eth e;
	CHECK_EQ(wire_eth_parse(cap.f[1], cap.len[1], &e), 0);
	CHECK_MEM(e.dst, NF_MAC_PEER, 6);
	CHECK_MEM(e.src, NF_MAC_US, 6);
	CHECK_EQ(echo_seq(1), 1);
	CHECK_EQ(neigh_state_of(st, peer4(), NULL), NEIGH_REACHABLE);
	/* resolved: the next packet leaves at once */
	CHECK_EQ(synack_stack_ping(st, peer4(), 1, 2, 8), 0);
	CHECK_EQ(cap.n, 3);
	CHECK_EQ(echo_seq(2), 2);
	CHECK_EQ(synack_stack_drops(st), 0);
	CHECK_EQ(synack_stack_counter(st, SYNACK_CNT_NEIGH_RESOLVED), 1);
	synack_stack_destroy(st);
}

TEST(resolution_queue_is_bounded)
{
	synack_stack *st = mk();
	size_t bytes0, blocks0;
	synack_stack_memory(st, &bytes0, &blocks0);
	cap.n = 0;
	for (int i = 1; i <= 5; i++)
		CHECK_EQ(synack_stack_ping(st, peer4(), 1, (uint16_t)i, 100), 0);
	CHECK_EQ(cap.n, 1); /* one request only */
	CHECK_EQ(synack_stack_counter(st, SYNACK_DROP_NEIGH_QUEUE_FULL),
		 0); /* bounded in bytes (test_net_guard) */
	arp_reply(st, peer4(), NF_MAC_PEER, 10);
	CHECK_EQ(cap.n, 6); /* RFC 4861 §7.2.2: all of them, in order */
	for (int i = 1; i <= 5; i++)
		CHECK_EQ(echo_seq(i), i);
	size_t bytes1, blocks1;
	synack_stack_memory(st, &bytes1, &blocks1);
	CHECK_EQ(bytes1, bytes0);
	CHECK_EQ(blocks1, blocks0);
	synack_stack_destroy(st);
}

TEST(resolution_failure_drops_queue_and_tells_tcp)
{
	synack_stack *st = mk();
	cap.n = 0;
	synack_endpoint dst = {.addr = *peer4(), .port = 80};
	synack_tcp *c;
	CHECK_EQ(synack_tcp_connect(st, &dst, NULL, &c), 0);
	CHECK_EQ(cap.n, 1);
	synack_time_t t = 0;
	for (int i = 0; i < 3; i++) { /* MAX_MULTICAST_SOLICIT requests, 1 s apart */
		synack_time_t d = synack_stack_next_deadline(st);
		CHECK_EQ(d, t + SYNACK_SEC(1));
		t = d;
		synack_stack_poll(st, t);
	}
	/* three requests, then the entry failed at 3 s: the SYN and its
	 * retransmission (1 s) dropped, and TCP told: a connection attempt
	 * whose next hop does not answer ends at once with EHOSTUNREACH */
	int requests = 0;
	for (int i = 0; i < cap.n; i++)
		requests += rd16(cap.f[i] + 12) == WIRE_ETH_ARP;
	CHECK_EQ(requests, 3);
	CHECK_EQ(synack_stack_counter(st, SYNACK_DROP_NEIGH_UNRESOLVED), 2);
	CHECK_EQ(synack_stack_counter(st, SYNACK_CNT_TCP_ICMP_HARD), 1);
	CHECK_EQ(synack_tcp_state(c), SYNACK_TCP_CLOSED);
	CHECK_EQ(synack_tcp_error(c), -EHOSTUNREACH);
	synack_tcp_close(c);
	synack_stack_destroy(st);
}

TEST(entries_expire_and_are_probed)
{
	synack_stack *st = mk();
	cap.n = 0;
	synack_stack_ping(st, peer4(), 1, 1, 8);
	arp_reply(st, peer4(), NF_MAC_PEER, 0);
	CHECK_EQ(neigh_state_of(st, peer4(), NULL), NEIGH_REACHABLE);
	synack_stack_poll(st, SYNACK_SEC(60)); /* ARP reachable time */
	CHECK_EQ(neigh_state_of(st, peer4(), NULL), NEIGH_STALE);
	cap.n = 0;
	synack_stack_ping(st, peer4(), 1, 2, 8); /* sent at once, entry to DELAY */
	CHECK_EQ(cap.n, 1);
	CHECK_EQ(echo_seq(0), 2);
	CHECK_EQ(neigh_state_of(st, peer4(), NULL), NEIGH_DELAY);
	CHECK_EQ(synack_stack_next_deadline(st), SYNACK_SEC(65));
	synack_stack_poll(st, SYNACK_SEC(65));
	CHECK_EQ(neigh_state_of(st, peer4(), NULL), NEIGH_PROBE);
	CHECK_EQ(cap.n, 2);
	expect_arp_request(1, peer4(), NF_MAC_PEER); /* unicast probe */
	arp_reply(st, peer4(), NF_MAC_PEER, SYNACK_SEC(65) + 100);
	CHECK_EQ(neigh_state_of(st, peer4(), NULL), NEIGH_REACHABLE);
	/* reachable -> stale -> (unused) garbage collected */
	synack_stack_poll(st, SYNACK_SEC(130));
	CHECK_EQ(neigh_state_of(st, peer4(), NULL), NEIGH_STALE);
	synack_stack_poll(st, SYNACK_SEC(1000));
	CHECK_EQ(neigh_state_of(st, peer4(), NULL), -1);
	CHECK_EQ(synack_stack_next_deadline(st), SYNACK_TIME_NEVER);
	synack_stack_destroy(st);
}

TEST(probe_without_answer_deletes_entry)
{
	synack_stack *st = mk();
	synack_stack_ping(st, peer4(), 1, 1, 8);
	arp_reply(st, peer4(), NF_MAC_PEER, 0);
	synack_stack_poll(st, SYNACK_SEC(60));
	synack_stack_ping(st, peer4(), 1, 2, 8);
	cap.n = 0;
	for (synack_time_t t = SYNACK_SEC(65); t <= SYNACK_SEC(68); t += SYNACK_SEC(1))
		synack_stack_poll(st, t);
	CHECK_EQ(cap.n, 3); /* MAX_UNICAST_SOLICIT probes */
	CHECK_EQ(neigh_state_of(st, peer4(), NULL), -1);
	synack_stack_destroy(st);
}

TEST(gateway_and_no_route)
{
	synack_stack_config cfg;
	synack_stack *st;
	nf_config(&cfg, &cap, &rng, true);
	CHECK_EQ(synack_stack_create(&cfg, 0, &st), 0);
	cap.n = 0;
	synack_addr far = synack_addr_ipv4(192, 0, 2, 1);
	CHECK_EQ(synack_stack_ping(st, &far, 1, 1, 8), -ENETUNREACH);
	CHECK_EQ(synack_stack_counter(st, SYNACK_DROP_NO_ROUTE), 1);
	CHECK_EQ(cap.n, 0);
	synack_stack_destroy(st);
	cfg.gateway = synack_addr_ipv4(10, 0, 0, 254);
	CHECK_EQ(synack_stack_create(&cfg, 0, &st), 0);
	cap.n = 0;
	CHECK_EQ(synack_stack_ping(st, &far, 1, 1, 8), 0);
	expect_arp_request(0, &cfg.gateway, NF_BCAST); /* the gateway is resolved, not far */
	synack_stack_destroy(st);
	cfg.gateway = synack_addr_ipv4(10, 0, 1, 254); /* off-link gateway */
	CHECK_EQ(synack_stack_create(&cfg, 0, &st), -EINVAL);
}

TEST(config_validates_link_fields)
{
	synack_stack_config cfg;
	synack_stack *st;
	nf_config(&cfg, &cap, &rng, true);
	cfg.mac[0] = 0x01; /* group address */
	CHECK_EQ(synack_stack_create(&cfg, 0, &st), -EINVAL);
	memset(cfg.mac, 0, 6);
	CHECK_EQ(synack_stack_create(&cfg, 0, &st), -EINVAL);
	memcpy(cfg.mac, NF_MAC_US, 6);
	cfg.link = 7;
	CHECK_EQ(synack_stack_create(&cfg, 0, &st), -EINVAL);
	cfg.link = SYNACK_LINK_ETHERNET;
	cfg.addr = synack_addr_ipv4(224, 0, 0, 1);
	CHECK_EQ(synack_stack_create(&cfg, 0, &st), -EINVAL);
}

static void eth_configs(synack_stack_config *c0, synack_stack_config *c1)
{
	synack_stack_config *c[2] = {c0, c1};
	for (int i = 0; i < 2; i++) {
		synack_stack_config_init(c[i]);
		c[i]->link = SYNACK_LINK_ETHERNET;
		c[i]->addr = synack_addr_ipv4(10, 0, 0, (uint8_t)(i + 1));
		uint8_t mac[6] = {0x02, 0x00, 0x5e, 0x10, 0x00, (uint8_t)(i + 1)};
		memcpy(c[i]->mac, mac, 6);
	}
}

TEST(tcp_over_ethernet_with_arp)
{
	synack_stack_config c0, c1;
	eth_configs(&c0, &c1);
	synack_sim sim;
	CHECK_EQ(synack_sim_init(&sim, 11, NULL, &c0, &c1), 0);
	synack_tcp *l, *c, *s;
	CHECK_EQ(h_establish(&sim, 80, &l, &c, &s), 0);
	CHECK_EQ(h_transfer(&sim, c, s, 300000, SYNACK_SEC(30)), 300000);
	CHECK_EQ(h_transfer(&sim, s, c, 100000, SYNACK_SEC(30)), 100000);
	for (int i = 0; i < 2; i++) {
		CHECK(synack_stack_counter(sim.stack[i], SYNACK_CNT_ARP_OUT) >= 1);
		/* the other side's announcement is the only frame not used */
		CHECK(synack_stack_drops(sim.stack[i]) <= 1);
	}
	CHECK_EQ(synack_stack_counter(sim.stack[0], SYNACK_CNT_NEIGH_RESOLVED), 1);
	synack_tcp_info ci;
	synack_tcp_get_info(c, &ci);
	CHECK_EQ(ci.mss, 1460 - 12);
	synack_sim_destroy(&sim);
}

TEST(tcp_over_lossy_ethernet)
{
	synack_stack_config c0, c1;
	eth_configs(&c0, &c1);
	synack_impair imp = {
	    .loss = 0.05, .delay = SYNACK_MSEC(5), .reorder = 0.02, .reorder_delay = SYNACK_MSEC(3)};
	for (uint64_t seed = 1; seed <= 8; seed++) {
		synack_sim sim;
		CHECK_EQ(synack_sim_init(&sim, seed, &imp, &c0, &c1), 0);
		synack_tcp *l, *c, *s;
		CHECK_EQ(h_establish(&sim, 80, &l, &c, &s), 0);
		CHECK_EQ(h_transfer(&sim, c, s, 200000, SYNACK_SEC(120)), 200000);
		synack_sim_destroy(&sim);
	}
}

/* Hostile input: mutated ARP, IPv4, IPv6, ND and fragment frames never
 * crash, never leak, and every frame that is not used is counted. */
TEST(mutated_frames_are_survived)
{
	synack_stack_config cfg;
	synack_stack *st;
	nf_config(&cfg, &cap, &rng, true);
	cfg.addr6 = nf_ip6_global();
	cfg.prefix6_len = 64;
	CHECK_EQ(synack_stack_create(&cfg, 0, &st), 0);
	size_t bytes0, blocks0;
	synack_stack_memory(st, &bytes0, &blocks0);
	synack_prng p;
	synack_prng_seed(&p, 99);
	uint8_t seeds[4][256], f[300];
	size_t len[4];
	nf_seed_frames(seeds, len, &cfg);
	for (int i = 0; i < 40000; i++) {
		int k = (int)synack_prng_below(&p, 4);
		size_t n = len[k];
		memcpy(f, seeds[k], n);
		for (int j = (int)synack_prng_below(&p, 4); j >= 0; j--)
			f[synack_prng_below(&p, n)] ^= (uint8_t)(1u << synack_prng_below(&p, 8));
		if (synack_prng_below(&p, 8) == 0)
			n = (size_t)synack_prng_below(&p, n + 1);
		synack_stack_input(st, f, n, (synack_time_t)i * 1000);
	}
	for (int i = 0; i < 1000 && synack_stack_next_deadline(st) != SYNACK_TIME_NEVER; i++)
		synack_stack_poll(st, synack_stack_next_deadline(st));
	CHECK_EQ(synack_stack_next_deadline(st), SYNACK_TIME_NEVER); /* everything expired */
	CHECK(synack_stack_drops(st) > 0);
	size_t bytes1, blocks1;
	synack_stack_memory(st, &bytes1, &blocks1);
	CHECK_EQ(blocks1, blocks0);
	synack_stack_destroy(st);
}
