/* The network layer through the public API: IPv4 validation drops (one
 * counter per reason, nothing sent), ICMP echo replies, TTL on output. */
#include <errno.h>
#include <string.h>

#include "synack/synack.h"
#include "unit.h"
#include "wire/wire.h"

struct cap {
	uint8_t frame[2048];
	size_t len;
	int count;
};

static int cap_tx(void *ctx, const uint8_t *frame, size_t len)
{
	struct cap *c = ctx;
	c->count++;
	c->len = len < sizeof c->frame ? len : sizeof c->frame;
	memcpy(c->frame, frame, c->len);
	return 0;
}

static synack_prng rng;

static synack_stack *mk(struct cap *c)
{
	synack_stack_config cfg;
	synack_stack *st;
	synack_stack_config_init(&cfg);
	cfg.addr = synack_addr_ipv4(10, 0, 0, 2);
	synack_prng_seed(&rng, 1);
	cfg.rng = (synack_rng){synack_prng_fill, &rng};
	cfg.tx = cap_tx;
	cfg.tx_ctx = c;
	memset(c, 0, sizeof *c);
	CHECK_EQ(synack_stack_create(&cfg, 0, &st), 0);
	return st;
}

/* An ICMP echo request from 10.0.0.1 to 10.0.0.2, built in buf[0..cap). */
static size_t echo_request(uint8_t *buf, size_t cap, size_t payload)
{
	synack_addr src = synack_addr_ipv4(10, 0, 0, 1), dst = synack_addr_ipv4(10, 0, 0, 2);
	uint8_t body[1500];
	for (size_t i = 0; i < payload; i++)
		body[i] = (uint8_t)i;
	const uint8_t rest[4] = {0x12, 0x34, 0x00, 0x07};
	struct bbuf b = bbuf_make(buf, cap);
	uint8_t *ip = bbuf_reserve(&b, WIRE_IPV4_HDR);
	size_t n = wire_icmp_emit(&b, WIRE_ICMP_ECHO_REQUEST, 0, rest, body, payload);
	struct bbuf h = bbuf_make(ip, ip ? WIRE_IPV4_HDR : 0);
	wire_ipv4_emit(&h, &src, &dst, WIRE_PROTO_ICMP, 33, 99, 0, n);
	if (!bbuf_ok(&b) || !bbuf_ok(&h))
		unit_fail(__FILE__, __LINE__, "echo request of %zu bytes does not fit", payload);
	return bbuf_ok(&b) ? b.len : 0;
}

TEST(icmp_echo_is_answered)
{
	struct cap c;
	synack_stack *st = mk(&c);
	uint8_t f[1600];
	size_t n = echo_request(f, sizeof f, 56);
	synack_stack_input(st, f, n, 10);
	CHECK_EQ(c.count, 1);
	struct wire_ipv4 ip;
	CHECK_EQ(wire_ipv4_parse(c.frame, c.len, &ip), 0);
	CHECK_EQ(ip.ttl, 64);
	CHECK_EQ(ip.proto, WIRE_PROTO_ICMP);
	CHECK_EQ(ip.dst.bytes[3], 1);
	struct wire_icmp ic;
	CHECK_EQ(wire_icmp_parse(ip.payload, ip.payload_len, &ic), 0);
	CHECK_EQ(ic.type, WIRE_ICMP_ECHO_REPLY);
	CHECK_EQ(ic.rest[1], 0x34);
	CHECK_EQ(ic.rest[3], 0x07);
	CHECK_EQ(ic.body_len, 56);
	CHECK_MEM(ic.body, f + 28, 56);
	CHECK_EQ(synack_stack_counter(st, SYNACK_CNT_ICMP_ECHO_REPLIES), 1);
	synack_stack_destroy(st);
}

static void expect_drop(uint8_t *f, size_t n, enum synack_counter id)
{
	struct cap c;
	synack_stack *st = mk(&c);
	synack_stack_input(st, f, n, 10);
	if (c.count != 0 || synack_stack_counter(st, id) != 1 || synack_stack_drops(st) != 1)
		unit_fail(__FILE__, __LINE__, "expected one %s drop, got %llu (total drops %llu, sent %d)",
			  synack_counter_name(id), (unsigned long long)synack_stack_counter(st, id),
			  (unsigned long long)synack_stack_drops(st), c.count);
	synack_stack_destroy(st);
}

TEST(ipv4_bad_frames_are_counted)
{
	uint8_t f[1600];
	size_t n = echo_request(f, sizeof f, 8);
	expect_drop(f, 10, SYNACK_DROP_IP_TRUNCATED);
	f[0] = 0x65;
	expect_drop(f, n, SYNACK_DROP_IP_VERSION);
	n = echo_request(f, sizeof f, 8);
	f[0] = 0x44; /* IHL 4 */
	expect_drop(f, n, SYNACK_DROP_IP_HDRLEN);
	n = echo_request(f, sizeof f, 8);
	f[10] ^= 1;
	expect_drop(f, n, SYNACK_DROP_IP_CHECKSUM);
	n = echo_request(f, sizeof f, 8);
	expect_drop(f, n - 1, SYNACK_DROP_IP_LENGTH); /* total length beyond frame */
}

static void refresh_ipv4_csum(uint8_t *f)
{
	wr16(f + 10, 0);
	wr16(f + 10, wire_csum_finish(wire_csum_add(0, f, 20)));
}

TEST(ipv4_unwanted_frames_are_counted)
{
	uint8_t f[1600];
	size_t n = echo_request(f, sizeof f, 9); /* 17 bytes: a non-last fragment must be a multiple of 8 */
	wr16(f + 6, WIRE_IPV4_MF);
	refresh_ipv4_csum(f);
	expect_drop(f, n, SYNACK_DROP_FRAG_BAD_LENGTH);
	n = echo_request(f, sizeof f, 8);
	f[19] = 3; /* 10.0.0.3 */
	refresh_ipv4_csum(f);
	expect_drop(f, n, SYNACK_DROP_IP_NOT_FOR_US);
	n = echo_request(f, sizeof f, 8);
	f[12] = 224; /* multicast source */
	refresh_ipv4_csum(f);
	expect_drop(f, n, SYNACK_DROP_IP_BAD_SOURCE);
	n = echo_request(f, sizeof f, 8);
	f[9] = 17; /* UDP */
	refresh_ipv4_csum(f);
	expect_drop(f, n, SYNACK_DROP_IP_PROTO);
	n = echo_request(f, sizeof f, 8);
	f[21] ^= 0x40; /* ICMP checksum */
	expect_drop(f, n, SYNACK_DROP_ICMP_CHECKSUM);
	n = echo_request(f, sizeof f, 8);
	f[20] = 13; /* timestamp request: not handled */
	wr16(f + 22, 0);
	wr16(f + 22, wire_csum_finish(wire_csum_add(0, f + 20, n - 20)));
	expect_drop(f, n, SYNACK_DROP_ICMP_TYPE);
}

TEST(link_padding_is_ignored)
{
	struct cap c;
	synack_stack *st = mk(&c);
	uint8_t f[1600];
	size_t n = echo_request(f, sizeof f, 8);
	memset(f + n, 0xee, 10); /* Ethernet-style trailing padding */
	synack_stack_input(st, f, n + 10, 10);
	CHECK_EQ(c.count, 1);
	CHECK_EQ(synack_stack_drops(st), 0);
	synack_stack_destroy(st);
}

TEST(counter_names_are_unique_and_documented)
{
	for (int i = 0; i < SYNACK_COUNTER_COUNT; i++) {
		CHECK(strlen(synack_counter_doc((enum synack_counter)i)) > 3);
		for (int j = i + 1; j < SYNACK_COUNTER_COUNT; j++)
			CHECK(strcmp(synack_counter_name((enum synack_counter)i),
				     synack_counter_name((enum synack_counter)j)) != 0);
	}
	CHECK(strncmp(synack_counter_name(SYNACK_DROP_TCP_CHECKSUM), "drop_", 5) == 0);
}

TEST(config_is_validated)
{
	synack_stack_config cfg;
	synack_stack *st;
	synack_stack_config_init(&cfg);
	CHECK_EQ(synack_stack_create(&cfg, 0, &st), -EINVAL); /* no tx, no rng */
	cfg.tx = cap_tx;
	cfg.rng = (synack_rng){synack_prng_fill, &rng};
	CHECK_EQ(synack_stack_create(&cfg, 0, &st), -EAFNOSUPPORT); /* no address */
	cfg.addr = synack_addr_ipv4(10, 0, 0, 2);
	cfg.mtu = 20;
	CHECK_EQ(synack_stack_create(&cfg, 0, &st), -EINVAL);
	CHECK(st == NULL);
}

TEST(addr_parse_and_format)
{
	synack_addr a;
	char buf[64];
	CHECK_EQ(synack_addr_parse("192.168.1.20", &a), 0);
	CHECK_EQ(a.family, SYNACK_AF_INET);
	CHECK(strcmp(synack_addr_format(&a, buf, sizeof buf), "192.168.1.20") == 0);
	CHECK_EQ(synack_addr_parse("fe80::1", &a), 0);
	CHECK_EQ(a.family, SYNACK_AF_INET6);
	CHECK_EQ(synack_addr_parse("10.0.0.300", &a), -EINVAL);
	CHECK_EQ(synack_addr_parse("", &a), -EINVAL);
}
