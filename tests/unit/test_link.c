/* Tests of the in-memory link (src/link/memlink.c) and the pcap writer and
 * tap (src/link/pcap.c). */
#include "synack/link.h"
#include "unit.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

/* ---- helpers ---- */

#define LOG_MAX 200000

/* What one port received, in order. */
struct rxlog {
	size_t n;
	synack_time_t when[LOG_MAX];
	uint32_t id[LOG_MAX];	/* first 4 bytes of the frame */
	uint64_t hash[LOG_MAX]; /* FNV-1a of the whole frame */
};

static uint64_t fnv1a(const uint8_t *p, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

static void log_rx(void *ctx, const uint8_t *frame, size_t len, synack_time_t now)
{
	struct rxlog *lg = ctx;
	if (lg->n >= LOG_MAX)
		return;
	memcpy(&lg->id[lg->n], frame, len < 4 ? len : 4);
	lg->when[lg->n] = now;
	lg->hash[lg->n] = fnv1a(frame, len);
	lg->n++;
}

static struct rxlog *log_new(void)
{
	return calloc(1, sizeof(struct rxlog));
}

/* A frame whose first four bytes are id and the rest a pattern of it. */
static void make_frame(uint8_t *buf, size_t len, uint32_t id)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(id * 31 + i);
	memcpy(buf, &id, len < 4 ? len : 4);
}

static int send_id(synack_memlink *l, int port, uint32_t id, size_t len)
{
	uint8_t buf[2048];
	make_frame(buf, len, id);
	return synack_memlink_tx(synack_memlink_port(l, port), buf, len);
}

static synack_memlink *link_new(uint64_t seed, const synack_impair *d0, const synack_impair *d1)
{
	synack_memlink *l = NULL;
	int err = synack_memlink_create(seed, d0, d1, &l);
	CHECK_EQ(err, 0);
	return l;
}

/* sent + duplicated == delivered + lost + queue_drops + in flight. */
static void check_conservation(synack_memlink *l, int port, uint64_t in_flight)
{
	synack_link_stats s;
	synack_memlink_stats(l, port, &s);
	CHECK_EQ(s.sent + s.duplicated, s.delivered + s.lost + s.queue_drops + in_flight);
}

/* ---- perfect link ---- */

TEST(null_impairment_delivers_at_once)
{
	synack_memlink *l = link_new(1, NULL, NULL);
	struct rxlog *lg = log_new();
	synack_memlink_attach(l, 1, log_rx, lg);
	synack_memlink_set_time(l, 500);
	CHECK_EQ(send_id(l, 0, 7, 40), 0);
	CHECK_EQ(synack_memlink_next_deadline(l), 500);
	CHECK_EQ(synack_memlink_deliver(l, 500), 1);
	CHECK_EQ(lg->n, 1);
	CHECK_EQ(lg->id[0], 7);
	CHECK_EQ(lg->when[0], 500);
	CHECK_EQ(synack_memlink_next_deadline(l), SYNACK_TIME_NEVER);
	synack_memlink_destroy(l);
	free(lg);
}

TEST(perfect_link_in_order_with_delay)
{
	synack_impair im = {.delay = SYNACK_MSEC(5)};
	synack_memlink *l = link_new(1, &im, &im);
	struct rxlog *at1 = log_new(), *at0 = log_new();
	synack_memlink_attach(l, 1, log_rx, at1);
	synack_memlink_attach(l, 0, log_rx, at0);
	for (uint32_t i = 0; i < 10; i++) {
		synack_memlink_set_time(l, i * 100);
		CHECK_EQ(send_id(l, 0, i, 60 + i), 0);
	}
	CHECK_EQ(send_id(l, 1, 99, 60), 0); /* at 900, the other way */
	CHECK_EQ(synack_memlink_in_flight(l), 11);
	CHECK_EQ(synack_memlink_next_deadline(l), 5000);
	CHECK_EQ(synack_memlink_deliver(l, 4999), 0);
	CHECK_EQ(synack_memlink_deliver(l, 5000), 1);
	CHECK_EQ(synack_memlink_deliver(l, 6000), 10);
	CHECK_EQ(at1->n, 10);
	for (uint32_t i = 0; i < at1->n; i++) {
		uint8_t want[128];
		make_frame(want, 60 + i, i);
		CHECK_EQ(at1->id[i], i);
		CHECK_EQ(at1->when[i], 5000 + i * 100);
		CHECK_EQ(at1->hash[i], fnv1a(want, 60 + i));
	}
	CHECK_EQ(at0->n, 1);
	CHECK_EQ(at0->when[0], 5900);
	synack_link_stats s;
	synack_memlink_stats(l, 0, &s);
	CHECK_EQ(s.sent, 10);
	CHECK_EQ(s.delivered, 10);
	CHECK_EQ(s.bytes, 10 * 60 + 45);
	CHECK_EQ(s.lost + s.duplicated + s.reordered + s.corrupted + s.queue_drops, 0);
	synack_memlink_destroy(l);
	free(at1);
	free(at0);
}

TEST(equal_times_keep_send_order)
{
	synack_impair im = {.delay = 10};
	synack_memlink *l = link_new(3, &im, &im);
	struct rxlog *lg = log_new();
	synack_memlink_attach(l, 1, log_rx, lg);
	for (uint32_t i = 0; i < 1000; i++)
		CHECK_EQ(send_id(l, 0, i, 20), 0);
	CHECK_EQ(synack_memlink_deliver(l, 10), 1000);
	for (uint32_t i = 0; i < lg->n; i++)
		CHECK_EQ(lg->id[i], i);
	synack_memlink_destroy(l);
	free(lg);
}

TEST(invalid_arguments)
{
	synack_memlink *l = NULL;
	synack_impair bad = {.loss = 1.5};
	CHECK_EQ(synack_memlink_create(1, &bad, NULL, &l), -EINVAL);
	bad = (synack_impair){.delay = -1};
	CHECK_EQ(synack_memlink_create(1, NULL, &bad, &l), -EINVAL);
	l = link_new(1, NULL, NULL);
	uint8_t big[70000] = {0};
	CHECK_EQ(synack_memlink_tx(synack_memlink_port(l, 0), big, 0), -EINVAL);
	CHECK_EQ(synack_memlink_tx(synack_memlink_port(l, 0), big, sizeof(big)), -EMSGSIZE);
	CHECK_EQ(synack_memlink_tx(synack_memlink_port(l, 1), big, 65535), 0);
	CHECK(synack_memlink_port(l, 2) == NULL);
	CHECK_EQ(synack_memlink_tx(NULL, big, 10), -EINVAL);
	synack_memlink_destroy(l); /* the 65535-byte frame is still in flight */
}

/* ---- determinism ---- */

static const synack_impair rough = {
    .loss = 0.05,
    .duplicate = 0.05,
    .reorder = 0.05,
    .corrupt = 0.05,
    .delay = SYNACK_MSEC(10),
    .jitter = SYNACK_MSEC(3),
    .reorder_delay = SYNACK_MSEC(8),
    .rate_bps = 50000000,
};

/* Both ports send 2,000 frames of varied sizes over 2 s of virtual time. */
static void run_rough(uint64_t seed, bool dir1_traffic, struct rxlog *at0, struct rxlog *at1)
{
	synack_memlink *l = link_new(seed, &rough, &rough);
	synack_memlink_attach(l, 0, log_rx, at0);
	synack_memlink_attach(l, 1, log_rx, at1);
	for (uint32_t i = 0; i < 2000; i++) {
		synack_time_t t = i * 1000;
		synack_memlink_deliver(l, t);
		send_id(l, 0, i, 40 + i % 1400);
		if (dir1_traffic)
			send_id(l, 1, 100000 + i, 40 + (i * 7) % 1400);
	}
	synack_memlink_deliver(l, SYNACK_SEC(100));
	CHECK_EQ(synack_memlink_in_flight(l), 0);
	check_conservation(l, 0, 0);
	check_conservation(l, 1, 0);
	synack_memlink_destroy(l);
}

static bool logs_equal(const struct rxlog *a, const struct rxlog *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (a->when[i] != b->when[i] || a->hash[i] != b->hash[i])
			return false;
	return true;
}

TEST(same_seed_same_deliveries)
{
	struct rxlog *a0 = log_new(), *a1 = log_new(), *b0 = log_new(), *b1 = log_new();
	run_rough(42, true, a0, a1);
	run_rough(42, true, b0, b1);
	CHECK(a1->n > 1500);
	CHECK(logs_equal(a0, b0));
	CHECK(logs_equal(a1, b1));
	/* A different seed gives a different run. */
	memset(b0, 0, sizeof(*b0));
	memset(b1, 0, sizeof(*b1));
	run_rough(43, true, b0, b1);
	CHECK(!logs_equal(a1, b1));
	CHECK(!logs_equal(a0, b0));
	/* One direction's fate does not depend on the other's traffic. */
	memset(b0, 0, sizeof(*b0));
	memset(b1, 0, sizeof(*b1));
	run_rough(42, false, b0, b1);
	CHECK(logs_equal(a1, b1));
	CHECK_EQ(b0->n, 0);
	free(a0);
	free(a1);
	free(b0);
	free(b1);
}

/* ---- impairments ---- */

/* Send n frames of len bytes from port 0, delivering as we go. */
static void send_many(synack_memlink *l, uint32_t n, size_t len)
{
	for (uint32_t i = 0; i < n; i++) {
		CHECK_EQ(send_id(l, 0, i, len), 0);
		if (i % 1000 == 999)
			synack_memlink_deliver(l, 0);
	}
	synack_memlink_deliver(l, SYNACK_SEC(1000));
}

TEST(loss_rate_within_bound)
{
	synack_impair im = {.loss = 0.10};
	synack_memlink *l = link_new(7, &im, NULL);
	struct rxlog *lg = log_new();
	synack_memlink_attach(l, 1, log_rx, lg);
	send_many(l, 100000, 40);
	synack_link_stats s;
	synack_memlink_stats(l, 0, &s);
	/* Binomial(100000, 0.1): sd = 94.9; allow six of them. */
	CHECK(s.lost > 10000 - 570 && s.lost < 10000 + 570);
	CHECK_EQ(s.delivered, 100000 - s.lost);
	CHECK_EQ(lg->n, s.delivered);
	for (size_t i = 1; i < lg->n; i++)
		CHECK(lg->id[i] > lg->id[i - 1]);
	check_conservation(l, 0, 0);
	synack_memlink_destroy(l);
	free(lg);
}

TEST(duplication_count)
{
	synack_impair im = {.duplicate = 0.2};
	synack_memlink *l = link_new(11, &im, NULL);
	struct rxlog *lg = log_new();
	synack_memlink_attach(l, 1, log_rx, lg);
	send_many(l, 10000, 40);
	synack_link_stats s;
	synack_memlink_stats(l, 0, &s);
	/* Binomial(10000, 0.2): sd = 40; allow six of them. */
	CHECK(s.duplicated > 2000 - 240 && s.duplicated < 2000 + 240);
	CHECK_EQ(s.delivered, 10000 + s.duplicated);
	CHECK_EQ(lg->n, s.delivered);
	/* Every frame arrives once or twice, duplicates right after (in order). */
	uint64_t twice = 0;
	for (size_t i = 1; i < lg->n; i++) {
		CHECK(lg->id[i] >= lg->id[i - 1]);
		twice += lg->id[i] == lg->id[i - 1];
	}
	CHECK_EQ(twice, s.duplicated);
	synack_memlink_destroy(l);
	free(lg);
}

TEST(reordering_reorders)
{
	synack_impair im = {.reorder = 0.1, .delay = SYNACK_MSEC(1), .reorder_delay = SYNACK_MSEC(5)};
	synack_memlink *l = link_new(5, &im, NULL);
	struct rxlog *lg = log_new();
	synack_memlink_attach(l, 1, log_rx, lg);
	for (uint32_t i = 0; i < 1000; i++) {
		synack_memlink_deliver(l, i * 100);
		CHECK_EQ(send_id(l, 0, i, 40), 0);
	}
	synack_memlink_deliver(l, SYNACK_SEC(1));
	synack_link_stats s;
	synack_memlink_stats(l, 0, &s);
	CHECK(s.reordered > 50 && s.reordered < 150);
	CHECK_EQ(lg->n, 1000);
	/* Count frames that arrive after a later-sent one. */
	uint64_t late = 0;
	uint32_t max_id = 0;
	bool seen[1000] = {false};
	for (size_t i = 0; i < lg->n; i++) {
		late += lg->id[i] < max_id;
		max_id = lg->id[i] > max_id ? lg->id[i] : max_id;
		CHECK(lg->id[i] < 1000 && !seen[lg->id[i]]);
		seen[lg->id[i] % 1000] = true;
	}
	/* Every held-back frame is overtaken (5 ms later, 50 frames pass it). */
	CHECK_EQ(late, s.reordered);
	synack_memlink_destroy(l);
	free(lg);
}

TEST(jitter_stays_in_order_and_in_bounds)
{
	synack_impair im = {.delay = 1000, .jitter = 500};
	synack_memlink *l = link_new(9, &im, NULL);
	struct rxlog *lg = log_new();
	synack_memlink_attach(l, 1, log_rx, lg);
	for (uint32_t i = 0; i < 2000; i++) {
		synack_memlink_deliver(l, i * 50);
		CHECK_EQ(send_id(l, 0, i, 40), 0);
	}
	synack_memlink_deliver(l, SYNACK_SEC(1));
	CHECK_EQ(lg->n, 2000);
	bool varied = false;
	for (uint32_t i = 0; i < lg->n; i++) {
		synack_time_t sent = (synack_time_t)i * 50, lat = lg->when[i] - sent;
		CHECK_EQ(lg->id[i], i);
		CHECK(lat >= 1000 && lat <= 1500);
		varied |= lat != 1000 && lat != lg->when[0];
	}
	CHECK(varied);
	synack_memlink_destroy(l);
	free(lg);
}

/* Receives on port 1 and compares with the frame that was sent. */
struct corrupt_check {
	uint32_t expect_id, frames, one_bit, bad;
};

static void check_one_bit(void *ctx, const uint8_t *frame, size_t len, synack_time_t now)
{
	struct corrupt_check *c = ctx;
	uint8_t want[2048];
	int bits = 0;
	(void)now;
	make_frame(want, len, c->expect_id);
	for (size_t i = 0; i < len; i++)
		bits += __builtin_popcount(frame[i] ^ want[i]);
	c->frames++;
	c->one_bit += bits == 1;
	c->bad += bits > 1;
}

TEST(corruption_flips_exactly_one_bit)
{
	synack_impair im = {.corrupt = 1.0};
	synack_memlink *l = link_new(13, &im, NULL);
	struct corrupt_check c = {0};
	synack_memlink_attach(l, 1, check_one_bit, &c);
	for (uint32_t i = 0; i < 1000; i++) {
		CHECK_EQ(send_id(l, 0, i, 1000), 0);
		c.expect_id = i;
		synack_memlink_deliver(l, 0);
		CHECK_EQ(c.frames, i + 1);
	}
	CHECK_EQ(c.one_bit, 1000);
	CHECK_EQ(c.bad, 0);
	synack_link_stats s;
	synack_memlink_stats(l, 0, &s);
	CHECK_EQ(s.corrupted, 1000);
	synack_memlink_destroy(l);
}

TEST(corruption_of_a_short_frame_is_one_bit)
{
	synack_impair im = {.corrupt = 1.0};
	synack_memlink *l = link_new(17, &im, NULL);
	struct rxlog *lg = log_new();
	synack_memlink_attach(l, 1, log_rx, lg);
	uint8_t zero[3] = {0};
	uint8_t seen_bits[24] = {0};
	for (int i = 0; i < 500; i++) {
		CHECK_EQ(synack_memlink_tx(synack_memlink_port(l, 0), zero, 3), 0);
		synack_memlink_deliver(l, 0);
		uint32_t got = lg->id[lg->n - 1] & 0xffffff;
		CHECK_EQ(__builtin_popcount(got), 1);
		seen_bits[__builtin_ctz(got | 1u << 31) % 24] = 1;
	}
	int distinct = 0;
	for (int i = 0; i < 24; i++)
		distinct += seen_bits[i];
	CHECK_EQ(distinct, 24); /* every bit position can be hit */
	synack_memlink_destroy(l);
	free(lg);
}

TEST(rate_limit_serialises)
{
	/* 1,000 frames of 1,250 bytes at 10 Mbit/s: 1 ms each, 1 s in all. */
	synack_impair im = {.rate_bps = 10000000, .delay = SYNACK_MSEC(2)};
	synack_memlink *l = link_new(19, &im, NULL);
	struct rxlog *lg = log_new();
	synack_memlink_attach(l, 1, log_rx, lg);
	for (uint32_t i = 0; i < 1000; i++)
		CHECK_EQ(send_id(l, 0, i, 1250), 0);
	CHECK_EQ(synack_memlink_deliver(l, SYNACK_MSEC(2)), 0);
	CHECK_EQ(synack_memlink_deliver(l, SYNACK_MSEC(503)), 501);
	CHECK_EQ(synack_memlink_deliver(l, SYNACK_SEC(10)), 499);
	CHECK_EQ(lg->n, 1000);
	for (uint32_t i = 0; i < lg->n; i++) {
		CHECK_EQ(lg->id[i], i);
		CHECK_EQ(lg->when[i], SYNACK_MSEC(2) + (i + 1) * 1000);
	}
	/* An idle link starts the next frame at once. */
	synack_memlink_set_time(l, SYNACK_SEC(20));
	CHECK_EQ(send_id(l, 0, 5000, 1250), 0);
	CHECK_EQ(synack_memlink_next_deadline(l), SYNACK_SEC(20) + SYNACK_MSEC(3));
	synack_memlink_destroy(l);
	free(lg);
}

TEST(rate_limit_does_not_drift)
{
	/* 100 bytes at 3 Mbit/s take 266.67 us: arrivals round up, sums stay exact. */
	synack_impair im = {.rate_bps = 3000000};
	synack_memlink *l = link_new(23, &im, NULL);
	struct rxlog *lg = log_new();
	synack_memlink_attach(l, 1, log_rx, lg);
	for (uint32_t i = 0; i < 3000; i++)
		CHECK_EQ(send_id(l, 0, i, 100), 0);
	synack_memlink_deliver(l, SYNACK_SEC(10));
	CHECK_EQ(lg->n, 3000);
	CHECK_EQ(lg->when[0], 267);
	CHECK_EQ(lg->when[1], 534);
	CHECK_EQ(lg->when[2], 800);
	CHECK_EQ(lg->when[2999], SYNACK_MSEC(800));
	synack_memlink_destroy(l);
	free(lg);
}

TEST(queue_limit_tail_drop)
{
	synack_impair im = {.queue_limit = 10, .delay = SYNACK_MSEC(1), .duplicate = 1.0};
	synack_memlink *l = link_new(29, &im, NULL);
	struct rxlog *lg = log_new();
	synack_memlink_attach(l, 1, log_rx, lg);
	/* Each frame is duplicated: five frames fill the ten places. */
	int ok = 0, dropped = 0;
	for (uint32_t i = 0; i < 15; i++) {
		int err = send_id(l, 0, i, 40);
		ok += err == 0;
		dropped += err == -ENOBUFS;
	}
	CHECK_EQ(ok, 5);
	CHECK_EQ(dropped, 10);
	CHECK_EQ(synack_memlink_in_flight(l), 10);
	synack_link_stats s;
	synack_memlink_stats(l, 0, &s);
	CHECK_EQ(s.queue_drops, 10);
	CHECK_EQ(s.duplicated, 5);
	check_conservation(l, 0, 10);
	CHECK_EQ(synack_memlink_deliver(l, SYNACK_MSEC(1)), 10);
	CHECK_EQ(lg->n, 10);
	CHECK_EQ(lg->id[9], 4);
	CHECK_EQ(send_id(l, 0, 100, 40), 0); /* room again */
	synack_memlink_destroy(l);
	free(lg);
}

TEST(default_queue_limit_is_4096)
{
	synack_memlink *l = link_new(31, NULL, NULL);
	for (uint32_t i = 0; i < 4096; i++)
		CHECK_EQ(send_id(l, 0, i, 20), 0);
	CHECK_EQ(send_id(l, 0, 4096, 20), -ENOBUFS);
	CHECK_EQ(send_id(l, 1, 0, 20), 0); /* the other direction has its own */
	CHECK_EQ(synack_memlink_in_flight(l), 4097);
	synack_memlink_destroy(l);
}

/* ---- frames sent from inside rx ---- */

struct echo {
	synack_memlink *link;
	int port;
	uint32_t got, limit;
	synack_time_t last;
	bool bad_time;
};

/* Answers every frame with a frame of its own, up to a limit, and sends a
 * burst now and then so the link's heap has to grow during delivery. */
static void echo_rx(void *ctx, const uint8_t *frame, size_t len, synack_time_t now)
{
	struct echo *e = ctx;
	uint32_t id;
	memcpy(&id, frame, 4);
	e->bad_time |= now < e->last;
	e->last = now;
	if (++e->got >= e->limit)
		return;
	int bursts = id % 16 == 0 ? 200 : 1;
	for (int i = 0; i < bursts; i++)
		send_id(e->link, e->port, id + 1, len);
}

TEST(tx_from_rx_callback)
{
	synack_impair im = {.delay = 300, .jitter = 100, .duplicate = 0.1};
	synack_memlink *l = link_new(37, &im, &im);
	struct echo e0 = {.link = l, .port = 0, .limit = 5000};
	struct echo e1 = {.link = l, .port = 1, .limit = 5000};
	synack_memlink_attach(l, 0, echo_rx, &e0);
	synack_memlink_attach(l, 1, echo_rx, &e1);
	CHECK_EQ(send_id(l, 0, 1, 64), 0);
	synack_time_t t = 0;
	while (synack_memlink_next_deadline(l) != SYNACK_TIME_NEVER && t < SYNACK_SEC(100)) {
		t = synack_memlink_next_deadline(l);
		synack_memlink_deliver(l, t);
	}
	CHECK(e0.got >= e0.limit && e1.got >= e1.limit);
	CHECK(!e0.bad_time && !e1.bad_time);
	CHECK_EQ(synack_memlink_in_flight(l), 0);
	check_conservation(l, 0, 0);
	check_conservation(l, 1, 0);
	synack_memlink_destroy(l);
}

TEST(zero_delay_reply_in_same_deliver_call)
{
	synack_memlink *l = link_new(41, NULL, NULL);
	struct echo e0 = {.link = l, .port = 0, .limit = 10};
	struct echo e1 = {.link = l, .port = 1, .limit = 10};
	synack_memlink_attach(l, 0, echo_rx, &e0);
	synack_memlink_attach(l, 1, echo_rx, &e1);
	synack_memlink_set_time(l, 77);
	CHECK_EQ(send_id(l, 0, 1, 64), 0);
	/* Ping-pong until the ninth reply: 19 deliveries (1 + bursts), all at 77. */
	size_t n = synack_memlink_deliver(l, 77);
	CHECK(n >= 19);
	CHECK_EQ(e0.last, 77);
	CHECK_EQ(synack_memlink_in_flight(l), 0);
	synack_memlink_destroy(l);
}

TEST(reply_stamped_at_arrival_time)
{
	synack_impair im = {.delay = 1000};
	synack_memlink *l = link_new(43, &im, &im);
	struct echo e1 = {.link = l, .port = 1, .limit = 2};
	struct rxlog *lg = log_new();
	synack_memlink_attach(l, 1, echo_rx, &e1);
	synack_memlink_attach(l, 0, log_rx, lg);
	CHECK_EQ(send_id(l, 0, 3, 64), 0);
	/* The frame arrives at 1000; its reply leaves then and, being due by
	 * 5000, arrives in the same call. */
	CHECK_EQ(synack_memlink_deliver(l, 5000), 2);
	CHECK_EQ(e1.last, 1000);
	CHECK_EQ(lg->n, 1);
	CHECK_EQ(lg->when[0], 2000);
	CHECK_EQ(synack_memlink_next_deadline(l), SYNACK_TIME_NEVER);
	synack_memlink_destroy(l);
	free(lg);
}

TEST(destroy_frees_frames_in_flight)
{
	synack_impair im = {.delay = SYNACK_SEC(1), .duplicate = 0.5};
	synack_memlink *l = link_new(47, &im, &im);
	for (uint32_t i = 0; i < 3000; i++) {
		send_id(l, 0, i, 1500);
		send_id(l, 1, i, 100);
	}
	CHECK(synack_memlink_in_flight(l) > 6000);
	synack_memlink_destroy(l); /* LeakSanitizer checks under ASan */
}

/* ---- pcap ---- */

struct pcap_rec {
	uint32_t sec, usec, incl, orig;
	uint8_t data[2048];
};

static char *tmp_pcap(void)
{
	static char path[64];
	snprintf(path, sizeof(path), "/tmp/synack-test-link-XXXXXX");
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	if (fd >= 0)
		close(fd);
	return path;
}

static bool read_rec(FILE *f, struct pcap_rec *r)
{
	uint32_t h[4];
	if (fread(h, sizeof(h), 1, f) != 1)
		return false;
	r->sec = h[0];
	r->usec = h[1];
	r->incl = h[2];
	r->orig = h[3];
	return r->incl <= sizeof(r->data) && fread(r->data, r->incl, 1, f) == 1;
}

static void check_pcap_header(FILE *f)
{
	uint8_t h[24];
	uint32_t magic, snaplen, linktype;
	uint16_t major, minor;
	CHECK(fread(h, sizeof(h), 1, f) == 1);
	memcpy(&magic, h, 4);
	memcpy(&major, h + 4, 2);
	memcpy(&minor, h + 6, 2);
	memcpy(&snaplen, h + 16, 4);
	memcpy(&linktype, h + 20, 4);
	CHECK_EQ(magic, 0xa1b2c3d4u);
	CHECK_EQ(major, 2);
	CHECK_EQ(minor, 4);
	CHECK_EQ(snaplen, 65535);
	CHECK_EQ(linktype, 101);
}

/* A minimal IPv4/UDP packet (checksums zero: tshark accepts it). */
static size_t make_ipv4_udp(uint8_t *p, uint32_t id)
{
	static const uint8_t ip[20] = {0x45, 0, 0, 32, 0, 0, 0x40, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2};
	static const uint8_t udp[8] = {0x30, 0x39, 0, 53, 0, 12, 0, 0}; /* 12345 -> 53 */
	memcpy(p, ip, sizeof(ip));
	memcpy(p + 20, udp, sizeof(udp));
	p[4] = (uint8_t)(id >> 8);
	p[5] = (uint8_t)id;
	memcpy(p + 28, &id, 4);
	return 32;
}

static void run_tshark(const char *path)
{
	if (system("command -v tshark >/dev/null 2>&1") != 0) {
		printf("    SKIP: tshark not installed, pcap not checked by its reader\n");
		return;
	}
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "tshark -r %s >/dev/null 2>&1", path);
	CHECK_EQ(system(cmd), 0);
	snprintf(cmd, sizeof(cmd), "test \"$(tshark -r %s 2>/dev/null | grep -c 10.0.0.1)\" = 5", path);
	CHECK_EQ(system(cmd), 0);
}

TEST(pcap_records_every_frame_sent)
{
	char *path = tmp_pcap();
	synack_pcap *p = NULL;
	CHECK_EQ(synack_pcap_open(path, &p), 0);
	synack_impair im = {.loss = 1.0, .delay = 10}; /* nothing arrives */
	synack_memlink *l = link_new(53, &im, NULL);
	synack_memlink_set_pcap(l, p);
	uint8_t pkt[64];
	for (uint32_t i = 0; i < 5; i++) {
		synack_memlink_set_time(l, SYNACK_SEC(3) + i * 250);
		size_t n = make_ipv4_udp(pkt, i);
		CHECK_EQ(synack_memlink_tx(synack_memlink_port(l, 0), pkt, n), 0);
	}
	CHECK_EQ(synack_memlink_deliver(l, SYNACK_SEC(10)), 0);
	synack_memlink_destroy(l);
	CHECK_EQ(synack_pcap_close(p), 0);

	FILE *f = fopen(path, "rb");
	CHECK(f != NULL);
	if (f) {
		struct pcap_rec r;
		check_pcap_header(f);
		for (uint32_t i = 0; i < 5; i++) {
			CHECK(read_rec(f, &r));
			CHECK_EQ(r.sec, 3);
			CHECK_EQ(r.usec, i * 250);
			CHECK_EQ(r.incl, 32);
			CHECK_EQ(r.orig, 32);
			make_ipv4_udp(pkt, i);
			CHECK_MEM(r.data, pkt, 32);
		}
		CHECK(!read_rec(f, &r));
		fclose(f);
	}
	run_tshark(path);
	unlink(path);
}

static int count_tx(void *ctx, const uint8_t *frame, size_t len)
{
	(void)frame;
	(*(int *)ctx)++;
	return len > 40 ? -EMSGSIZE : 0;
}

TEST(pcap_tap_records_then_forwards)
{
	char *path = tmp_pcap();
	synack_pcap *p = NULL;
	CHECK_EQ(synack_pcap_open(path, &p), 0);
	int calls = 0;
	synack_time_t clock = SYNACK_USEC(1500001);
	synack_pcap_tap tap = {.inner = count_tx, .inner_ctx = &calls, .pcap = p, .clock = &clock};
	uint8_t pkt[64];
	size_t n = make_ipv4_udp(pkt, 9);
	CHECK_EQ(synack_pcap_tap_tx(&tap, pkt, n), 0);
	clock += 2;
	CHECK_EQ(synack_pcap_tap_tx(&tap, pkt, 50), -EMSGSIZE); /* the inner result */
	CHECK_EQ(calls, 2);
	CHECK_EQ(synack_pcap_close(p), 0);
	FILE *f = fopen(path, "rb");
	CHECK(f != NULL);
	if (f) {
		struct pcap_rec r;
		check_pcap_header(f);
		CHECK(read_rec(f, &r));
		CHECK_EQ(r.sec, 1);
		CHECK_EQ(r.usec, 500001);
		CHECK_EQ(r.incl, 32);
		CHECK_MEM(r.data, pkt, 32);
		CHECK(read_rec(f, &r));
		CHECK_EQ(r.usec, 500003);
		CHECK_EQ(r.orig, 50);
		CHECK(!read_rec(f, &r));
		fclose(f);
	}
	unlink(path);
}

TEST(pcap_snaplen_truncates_records)
{
	char *path = tmp_pcap();
	synack_pcap *p = NULL;
	CHECK_EQ(synack_pcap_open(path, &p), 0);
	static uint8_t big[70000];
	CHECK_EQ(synack_pcap_write(p, 0, big, sizeof(big)), 0);
	CHECK_EQ(synack_pcap_close(p), 0);
	FILE *f = fopen(path, "rb");
	CHECK(f != NULL);
	if (f) {
		uint32_t h[4];
		fseek(f, 24, SEEK_SET);
		CHECK(fread(h, sizeof(h), 1, f) == 1);
		CHECK_EQ(h[2], 65535);
		CHECK_EQ(h[3], 70000);
		fseek(f, 0, SEEK_END);
		CHECK_EQ(ftell(f), 24 + 16 + 65535);
		fclose(f);
	}
	unlink(path);
}

TEST(pcap_errors_are_reported)
{
	synack_pcap *p = NULL;
	CHECK_EQ(synack_pcap_open("/nonexistent-dir/x.pcap", &p), -ENOENT);
	CHECK(p == NULL);
	if (access("/dev/full", W_OK) != 0) {
		printf("    SKIP: /dev/full not writable, write errors not checked\n");
		return;
	}
	CHECK_EQ(synack_pcap_open("/dev/full", &p), 0); /* buffered so far */
	static uint8_t frame[60000];
	int err = 0;
	for (int i = 0; i < 10 && err == 0; i++)
		err = synack_pcap_write(p, 0, frame, sizeof(frame));
	CHECK_EQ(err, -ENOSPC);
	CHECK_EQ(synack_pcap_write(p, 0, frame, 10), -ENOSPC); /* sticky */
	CHECK_EQ(synack_pcap_close(p), -ENOSPC);
}

/* Two receivers answering each other with zero delay forever. */
static void bounce_rx(void *ctx, const uint8_t *frame, size_t len, synack_time_t now)
{
	(void)now;
	synack_memlink_tx(ctx, frame, len);
}

TEST(endless_zero_delay_ping_pong_is_bounded)
{
	synack_memlink *l = link_new(59, NULL, NULL);
	synack_memlink_attach(l, 0, bounce_rx, synack_memlink_port(l, 0));
	synack_memlink_attach(l, 1, bounce_rx, synack_memlink_port(l, 1));
	synack_memlink_set_time(l, 10);
	CHECK_EQ(send_id(l, 0, 1, 40), 0);
	size_t n = synack_memlink_deliver(l, 10);
	CHECK(n >= 1000 && n <= 10000000);	       /* returns, having delivered a bounded number */
	CHECK_EQ(synack_memlink_next_deadline(l), 10); /* and says more is due */
	CHECK_EQ(synack_memlink_in_flight(l), 1);
	synack_memlink_destroy(l);
}
