/* Tests of the fault-injection decorator (src/link/impair.c): every
 * impairment on virtual time, the bounds, and memory through a counted
 * allocator. */
#include "synack/impair.h"
#include "unit.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#define LOG_MAX 200000

/* What came out of one direction, in order. */
struct sink {
	size_t n;
	synack_time_t now; /* the test's clock, read when a frame comes out */
	synack_time_t when[LOG_MAX];
	uint32_t id[LOG_MAX]; /* first 4 bytes of the frame */
	uint8_t last[64];     /* the last frame's bytes (up to 64) */
	size_t last_len;
};

static void sink_put(struct sink *s, const uint8_t *frame, size_t len, synack_time_t now)
{
	if (s->n < LOG_MAX) {
		memcpy(&s->id[s->n], frame, len < 4 ? len : 4);
		s->when[s->n] = now;
		s->n++;
	}
	s->last_len = len < sizeof s->last ? len : sizeof s->last;
	memcpy(s->last, frame, s->last_len);
}

static int sink_tx(void *ctx, const uint8_t *frame, size_t len)
{
	struct sink *s = ctx;
	sink_put(s, frame, len, s->now);
	return 0;
}

static void sink_rx(void *ctx, const uint8_t *frame, size_t len, synack_time_t now)
{
	sink_put(ctx, frame, len, now);
}

/* A counted allocator: live blocks and bytes. */
struct counted {
	long blocks, peak;
	long long bytes;
};

static void *c_alloc(void *ctx, size_t size)
{
	struct counted *c = ctx;
	void *p = malloc(size);
	if (p) {
		c->blocks++;
		c->bytes += (long long)size;
		if (c->blocks > c->peak)
			c->peak = c->blocks;
	}
	return p;
}

static void c_free(void *ctx, void *p, size_t size)
{
	struct counted *c = ctx;
	c->blocks--;
	c->bytes -= (long long)size;
	free(p);
}

static struct sink *sink_new(void)
{
	struct sink *s = calloc(1, sizeof *s);
	CHECK(s != NULL);
	return s;
}

static synack_impairer *make(const synack_impair *tx, uint64_t seed, struct sink *out,
			     const synack_allocator *a)
{
	synack_impairer_config cfg = {.seed = seed, .tx = sink_tx, .tx_ctx = out, .alloc = a};
	if (tx)
		cfg.dir[SYNACK_IMPAIR_TX] = *tx;
	synack_impairer *im = NULL;
	CHECK_EQ(synack_impairer_create(&cfg, &im), 0);
	return im;
}

/* Send one frame of len bytes numbered id at time t. */
static int send_at(synack_impairer *im, struct sink *s, synack_time_t t, uint32_t id, size_t len)
{
	uint8_t f[1500];
	memset(f, (int)(id & 0xff), sizeof f);
	memcpy(f, &id, 4);
	s->now = t;
	synack_impairer_set_time(im, t);
	return synack_impairer_tx(im, f, len);
}

/* Flush at every deadline up to `until`, the sink's clock following. */
static void run_until(synack_impairer *im, struct sink *s, synack_time_t until)
{
	synack_time_t t;
	while ((t = synack_impairer_next_deadline(im)) <= until) {
		s->now = t;
		synack_impairer_flush(im, t);
	}
}

/* ---- tests ---- */

TEST(impair_rejects_bad_config)
{
	struct sink s = {0};
	synack_impairer *im = NULL;
	synack_impairer_config cfg = {.tx = sink_tx, .tx_ctx = &s};
	cfg.dir[0].loss = 1.5;
	CHECK_EQ(synack_impairer_create(&cfg, &im), -EINVAL);
	cfg.dir[0].loss = 0;
	cfg.dir[1].delay = -1;
	CHECK_EQ(synack_impairer_create(&cfg, &im), -EINVAL);
	cfg.dir[1].delay = 0;
	cfg.tx = NULL;
	CHECK_EQ(synack_impairer_create(&cfg, &im), -EINVAL);
	CHECK(im == NULL);
	CHECK(!synack_impair_active(&cfg.dir[0]));
}

TEST(impair_none_passes_at_once)
{
	struct sink *s = sink_new();
	synack_impairer *im = make(NULL, 1, s, NULL);
	for (uint32_t i = 0; i < 100; i++)
		CHECK_EQ(send_at(im, s, i, i, 100), 0);
	CHECK_EQ(s->n, 100);
	CHECK_EQ(synack_impairer_next_deadline(im), SYNACK_TIME_NEVER);
	for (uint32_t i = 0; i < 100; i++)
		CHECK_EQ(s->id[i], i);
	synack_impairer_destroy(im);
	free(s);
}

static void run_mix(uint64_t seed, struct sink *s)
{
	synack_impair m = {.loss = 0.1,
			   .duplicate = 0.05,
			   .reorder = 0.05,
			   .corrupt = 0.05,
			   .delay = 1000,
			   .jitter = 500,
			   .reorder_delay = 3000,
			   .queue_limit = 100000};
	synack_impairer *im = make(&m, seed, s, NULL);
	for (uint32_t i = 0; i < 10000; i++)
		send_at(im, s, (synack_time_t)i * 10, i, 200);
	run_until(im, s, SYNACK_TIME_NEVER - 1);
	synack_impairer_destroy(im);
}

TEST(impair_seeded_reproducible)
{
	struct sink *a = sink_new(), *b = sink_new(), *c = sink_new();
	run_mix(42, a);
	run_mix(42, b);
	run_mix(43, c);
	CHECK(a->n > 8000);
	CHECK_EQ(a->n, b->n);
	CHECK_MEM(a->id, b->id, a->n * sizeof a->id[0]);
	CHECK_MEM(a->when, b->when, a->n * sizeof a->when[0]);
	CHECK(a->n != c->n || memcmp(a->id, c->id, a->n * sizeof a->id[0]) != 0);
	free(a);
	free(b);
	free(c);
}

TEST(impair_loss_rate_100k)
{
	struct sink *s = sink_new();
	synack_impair m = {.loss = 0.05};
	synack_impairer *im = make(&m, 7, s, NULL);
	for (uint32_t i = 0; i < 100000; i++)
		send_at(im, s, i, i, 64);
	synack_impair_stats st;
	synack_impairer_stats(im, SYNACK_IMPAIR_TX, &st);
	CHECK_EQ(st.offered, 100000);
	CHECK_EQ(st.lost + st.passed, 100000);
	CHECK_EQ(s->n, st.passed);
	/* 5% of 100,000: sigma is 69 frames; allow 4.3 sigma. */
	CHECK(st.lost >= 4700 && st.lost <= 5300);
	CHECK_EQ(st.burst_lost, 0);
	synack_impairer_destroy(im);
	free(s);
}

/* Mean length of runs of consecutive lost frames (ids missing in order). */
static double mean_gap_run(const struct sink *s, uint32_t total)
{
	uint64_t runs = 0, lost = 0;
	uint32_t expect = 0;
	for (size_t i = 0; i <= s->n; i++) {
		uint32_t id = i < s->n ? s->id[i] : total;
		if (id > expect) {
			runs++;
			lost += id - expect;
		}
		expect = id + 1;
	}
	return runs ? (double)lost / (double)runs : 0;
}

TEST(impair_burst_loss_clusters)
{
	struct sink *s = sink_new(), *r = sink_new();
	/* Bad state 1/(1+25) of the time, bursts of 4 frames on average. */
	synack_impair ge = {.p_good_to_bad = 0.01, .p_bad_to_good = 0.25, .loss_in_bad = 1.0};
	synack_impair rnd = {.loss = 0.0385};
	synack_impairer *im = make(&ge, 9, s, NULL), *ir = make(&rnd, 9, r, NULL);
	for (uint32_t i = 0; i < 100000; i++) {
		send_at(im, s, i, i, 64);
		send_at(ir, r, i, i, 64);
	}
	synack_impair_stats st;
	synack_impairer_stats(im, SYNACK_IMPAIR_TX, &st);
	CHECK(st.lost >= 3000 && st.lost <= 4700);
	CHECK_EQ(st.burst_lost, st.lost);
	double burst = mean_gap_run(s, 100000), random = mean_gap_run(r, 100000);
	CHECK(burst > 3.0 && burst < 5.0);
	CHECK(random < 1.2);
	synack_impairer_destroy(im);
	synack_impairer_destroy(ir);
	free(s);
	free(r);
}

TEST(impair_delay_jitter_release_times)
{
	struct sink *s = sink_new();
	synack_impair m = {.delay = SYNACK_MSEC(10), .jitter = SYNACK_MSEC(2)};
	synack_impairer *im = make(&m, 3, s, NULL);
	for (uint32_t i = 0; i < 1000; i++) {
		CHECK_EQ(send_at(im, s, (synack_time_t)i * 100, i, 100), 0);
		run_until(im, s, (synack_time_t)i * 100);
	}
	CHECK_EQ(synack_impairer_held(im, SYNACK_IMPAIR_TX) > 0, 1);
	run_until(im, s, SYNACK_TIME_NEVER - 1);
	CHECK_EQ(s->n, 1000);
	bool spread = false;
	for (size_t k = 0; k < s->n; k++) {
		synack_time_t sent = (synack_time_t)s->id[k] * 100;
		CHECK_EQ(s->id[k], k); /* jitter keeps the order */
		CHECK(s->when[k] >= sent + SYNACK_MSEC(10));
		CHECK(s->when[k] <= sent + SYNACK_MSEC(12));
		if (k && s->when[k] - sent > SYNACK_MSEC(11))
			spread = true;
	}
	CHECK(spread);
	synack_impair_stats st;
	synack_impairer_stats(im, SYNACK_IMPAIR_TX, &st);
	CHECK_EQ(st.delayed, 1000);
	synack_impairer_destroy(im);
	free(s);
}

TEST(impair_rx_direction_delayed_to_rx_fn)
{
	struct sink *s = sink_new(), *out = sink_new();
	synack_impairer_config cfg = {.seed = 1, .tx = sink_tx, .tx_ctx = s};
	cfg.dir[SYNACK_IMPAIR_RX].delay = 5000;
	synack_impairer *im = NULL;
	CHECK_EQ(synack_impairer_create(&cfg, &im), 0);
	synack_impairer_set_rx(im, sink_rx, out);
	uint8_t f[40] = {1, 2, 3, 4};
	synack_impairer_rx(im, f, sizeof f, 100);
	CHECK_EQ(out->n, 0);
	CHECK_EQ(synack_impairer_next_deadline(im), 5100);
	CHECK_EQ(synack_impairer_flush(im, 5099), 0);
	CHECK_EQ(synack_impairer_flush(im, 5200), 1);
	CHECK_EQ(out->n, 1);
	CHECK_EQ(out->when[0], 5200); /* handed over at the flush's time */
	CHECK_EQ(s->n, 0);	      /* nothing went the other way */
	synack_impairer_destroy(im);
	free(s);
	free(out);
}

TEST(impair_rate_limit_timing)
{
	struct sink *s = sink_new();
	synack_impair m = {.rate_bps = 8000000}; /* one byte a microsecond */
	synack_impairer *im = make(&m, 1, s, NULL);
	for (uint32_t i = 0; i < 10; i++)
		CHECK_EQ(send_at(im, s, 0, i, 1000), 0);
	run_until(im, s, SYNACK_TIME_NEVER - 1);
	CHECK_EQ(s->n, 10);
	for (size_t k = 0; k < 10; k++)
		CHECK_EQ(s->when[k], (synack_time_t)(k + 1) * 1000);
	/* An idle link starts afresh: a frame at 20 ms leaves at 20.5 ms. */
	send_at(im, s, 20000, 10, 500);
	run_until(im, s, SYNACK_TIME_NEVER - 1);
	CHECK_EQ(s->when[10], 20500);
	synack_impairer_destroy(im);
	free(s);
}

TEST(impair_queue_bound_counted_drops)
{
	struct sink *s = sink_new();
	synack_impair m = {.rate_bps = 8000000, .queue_limit = 10};
	synack_impairer *im = make(&m, 1, s, NULL);
	int drops = 0;
	for (uint32_t i = 0; i < 15; i++)
		drops += send_at(im, s, 0, i, 1000) == -ENOBUFS;
	CHECK_EQ(drops, 5);
	CHECK_EQ(synack_impairer_held(im, SYNACK_IMPAIR_TX), 10);
	synack_impair_stats st;
	synack_impairer_stats(im, SYNACK_IMPAIR_TX, &st);
	CHECK_EQ(st.queue_drops, 5);
	run_until(im, s, SYNACK_TIME_NEVER - 1);
	CHECK_EQ(s->n, 10);
	for (size_t k = 0; k < 10; k++)
		CHECK_EQ(s->id[k], k); /* the tail was dropped */
	synack_impairer_stats(im, SYNACK_IMPAIR_TX, &st);
	CHECK_EQ(st.offered + st.duplicated, st.passed + st.lost + st.queue_drops);
	synack_impairer_destroy(im);
	free(s);
}

static int popcount_diff(const uint8_t *a, const uint8_t *b, size_t n)
{
	int bits = 0;
	for (size_t i = 0; i < n; i++)
		bits += __builtin_popcount((unsigned)(a[i] ^ b[i]));
	return bits;
}

TEST(impair_corrupt_flips_one_bit)
{
	struct sink *s = sink_new();
	synack_impair m = {.corrupt = 1.0};
	synack_impairer *im = make(&m, 5, s, NULL);
	for (uint32_t i = 0; i < 500; i++) {
		uint8_t f[64];
		for (size_t k = 0; k < sizeof f; k++)
			f[k] = (uint8_t)(i * 31 + k);
		s->now = i;
		synack_impairer_set_time(im, i);
		CHECK_EQ(synack_impairer_tx(im, f, sizeof f), 0);
		CHECK_EQ(s->n, i + 1);
		CHECK_EQ(s->last_len, sizeof f);
		CHECK_EQ(popcount_diff(f, s->last, sizeof f), 1);
	}
	synack_impair_stats st;
	synack_impairer_stats(im, SYNACK_IMPAIR_TX, &st);
	CHECK_EQ(st.corrupted, 500);
	synack_impairer_destroy(im);
	free(s);
}

TEST(impair_duplicate_delivers_twice)
{
	struct sink *s = sink_new();
	synack_impair m = {.duplicate = 1.0};
	synack_impairer *im = make(&m, 5, s, NULL);
	for (uint32_t i = 0; i < 100; i++)
		send_at(im, s, i, i, 80);
	CHECK_EQ(s->n, 200);
	for (size_t k = 0; k < 200; k++)
		CHECK_EQ(s->id[k], k / 2);
	synack_impair_stats st;
	synack_impairer_stats(im, SYNACK_IMPAIR_TX, &st);
	CHECK_EQ(st.duplicated, 100);
	CHECK_EQ(st.passed, 200);
	synack_impairer_destroy(im);
	free(s);
}

TEST(impair_reorder_overtaken)
{
	struct sink *s = sink_new();
	synack_impair m = {.reorder = 0.2, .reorder_delay = 1000};
	synack_impairer *im = make(&m, 8, s, NULL);
	for (uint32_t i = 0; i < 1000; i++) {
		send_at(im, s, (synack_time_t)i * 100, i, 80);
		run_until(im, s, (synack_time_t)i * 100);
	}
	run_until(im, s, SYNACK_TIME_NEVER - 1);
	CHECK_EQ(s->n, 1000);
	size_t out_of_order = 0;
	for (size_t k = 1; k < s->n; k++)
		out_of_order += s->id[k] < s->id[k - 1];
	synack_impair_stats st;
	synack_impairer_stats(im, SYNACK_IMPAIR_TX, &st);
	CHECK(st.reordered >= 150 && st.reordered <= 250);
	CHECK(out_of_order > 100);
	synack_impairer_destroy(im);
	free(s);
}

TEST(impair_no_leak_counted_allocator)
{
	struct counted c = {0};
	synack_allocator a = {.alloc = c_alloc, .free = c_free, .ctx = &c};
	struct sink *s = sink_new();
	synack_impair m = {
	    .delay = 5000, .duplicate = 0.3, .corrupt = 0.3, .reorder = 0.2, .reorder_delay = 100};
	synack_impairer *im = make(&m, 2, s, &a);
	for (uint32_t i = 0; i < 2000; i++)
		send_at(im, s, (synack_time_t)i * 10, i, 1000);
	CHECK(synack_impairer_held(im, SYNACK_IMPAIR_TX) > 100);
	run_until(im, s, 15000); /* some out, many still held */
	CHECK(c.peak > 500);
	synack_impairer_destroy(im); /* frees what is held */
	CHECK_EQ(c.blocks, 0);
	CHECK_EQ(c.bytes, 0);
	free(s);
}
