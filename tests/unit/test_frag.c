/* src/net/frag: IPv4/IPv6 reassembly in every order, RFC 5722 overlap
 * rejection, duplicates, timeouts on virtual time, memory limits, and a
 * seeded random comparison against a small model. Every test ends with the
 * counted allocator back at zero. */
#include <errno.h>
#include <stdlib.h>

#include "net/frag.h"
#include "unit.h"

struct fx {
	struct mem m;
	uint64_t c[SYNACK_COUNTER_COUNT];
	struct frag_table *ft;
	struct frag_done out;
	synack_time_t now;
	uint8_t data[65536]; /* the datagram being cut into fragments */
};

static struct fx *fx_new(const struct frag_limits *lim)
{
	struct frag_limits def;
	struct fx *f = calloc(1, sizeof *f);
	if (!lim) {
		frag_limits_default(&def);
		lim = &def;
	}
	mem_init(&f->m, NULL);
	CHECK_EQ(frag_table_create(&f->m, lim, f->c, &f->ft), 0);
	for (size_t i = 0; i < sizeof f->data; i++)
		f->data[i] = (uint8_t)(i * 131 + (i >> 8) * 7 + 1);
	return f;
}

static void fx_free(struct fx *f)
{
	frag_table_destroy(f->ft);
	CHECK_EQ(f->m.blocks, 0);
	CHECK_EQ(f->m.bytes, 0);
	free(f);
}

static struct frag_key key4(uint32_t id)
{
	struct frag_key k = {.family = SYNACK_AF_INET, .proto = 17, .id = id & 0xffff};
	k.src = synack_addr_ipv4(192, 0, 2, 1);
	k.dst = synack_addr_ipv4(192, 0, 2, 2);
	return k;
}

static struct frag_key key6(uint32_t id)
{
	struct frag_key k = {.family = SYNACK_AF_INET6, .proto = 17, .id = id};
	k.src.family = k.dst.family = SYNACK_AF_INET6;
	k.src.bytes[0] = k.dst.bytes[0] = 0x20;
	k.src.bytes[1] = k.dst.bytes[1] = 0x01;
	k.src.bytes[15] = 1;
	k.dst.bytes[15] = 2;
	return k;
}

/* Offer bytes [off, off + len) of `src`; off in bytes (a multiple of 8). */
static int offer_from(struct fx *f, const struct frag_key *k, const uint8_t *src, uint32_t off, size_t len,
		      bool more)
{
	struct frag_in in = {
	    .offset = (uint16_t)(off / 8),
	    .more = more,
	    .data = src + off,
	    .len = len,
	    .max_end = k->family == SYNACK_AF_INET ? 65535 - 20 : 65535,
	};
	return frag_input(f->ft, f->now, k, &in, &f->out);
}

static int offer(struct fx *f, const struct frag_key *k, uint32_t off, size_t len, bool more)
{
	return offer_from(f, k, f->data, off, len, more);
}

static void check_done(struct fx *f, const struct frag_key *k, size_t len)
{
	CHECK_EQ(f->out.len, len);
	CHECK_EQ(f->out.key.id, k->id);
	CHECK_EQ(f->out.key.family, k->family);
	CHECK_MEM(f->out.data, f->data, len);
}

TEST(frag_in_order)
{
	struct fx *f = fx_new(NULL);
	struct frag_key k = key4(1);
	CHECK_EQ(offer(f, &k, 0, 1480, true), FRAG_QUEUED);
	CHECK_EQ(offer(f, &k, 1480, 1480, true), FRAG_QUEUED);
	CHECK_EQ(frag_datagrams(f->ft), 1);
	CHECK_EQ(offer(f, &k, 2960, 40, false), FRAG_DONE);
	check_done(f, &k, 3000);
	CHECK_EQ(f->out.key.proto, 17);
	CHECK_EQ(f->c[SYNACK_CNT_FRAG_REASSEMBLED], 1);
	CHECK_EQ(frag_datagrams(f->ft), 0);
	CHECK_EQ(frag_next_deadline(f->ft), SYNACK_TIME_NEVER);
	frag_release(f->ft);
	CHECK_EQ(frag_bytes(f->ft), 0);
	fx_free(f);
}

TEST(frag_reverse_order_last_first)
{
	struct fx *f = fx_new(NULL);
	struct frag_key k = key6(77);
	CHECK_EQ(offer(f, &k, 8 * 1000, 5, false), FRAG_QUEUED);
	for (int i = 999; i > 0; i -= 1)
		if (i % 100 == 0)
			CHECK_EQ(offer(f, &k, (uint32_t)i * 8, 800, true), FRAG_QUEUED);
	CHECK_EQ(offer(f, &k, 0, 800, true), FRAG_DONE);
	check_done(f, &k, 8005);
	fx_free(f);
}

/* Shuffle n fragments of `size` bytes (the last may be shorter) and offer
 * them: exactly the final one completes. */
static void shuffled(struct fx *f, const struct frag_key *k, size_t total, uint32_t size, uint64_t seed)
{
	uint32_t n = (uint32_t)((total + size - 1) / size), order[1024];
	synack_prng p;
	synack_prng_seed(&p, seed);
	for (uint32_t i = 0; i < n; i++)
		order[i] = i;
	for (uint32_t i = n - 1; i > 0; i--) {
		uint32_t j = (uint32_t)synack_prng_below(&p, i + 1), t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	for (uint32_t i = 0; i < n; i++) {
		uint32_t off = order[i] * size;
		bool last = order[i] == n - 1;
		int r = offer(f, k, off, last ? total - off : size, !last);
		CHECK_EQ(r, i == n - 1 ? FRAG_DONE : FRAG_QUEUED);
	}
	check_done(f, k, total);
}

TEST(frag_random_order)
{
	for (uint64_t seed = 1; seed <= 50; seed++) {
		struct fx *f = fx_new(NULL);
		struct frag_key k = key4((uint32_t)seed);
		shuffled(f, &k, 100 + seed * 1237 % 30000, 8 * (uint32_t)(30 + seed * 7 % 180), seed);
		fx_free(f);
	}
}

TEST(frag_full_size_datagrams)
{
	struct fx *f = fx_new(NULL);
	struct frag_key k4 = key4(9), k6 = key6(9);
	shuffled(f, &k4, 65515, 1480, 3);
	shuffled(f, &k6, 65535, 1232, 4);
	fx_free(f);
}

TEST(frag_tiny_fragments)
{
	struct frag_limits lim;
	frag_limits_default(&lim);
	struct fx *f = fx_new(&lim);
	struct frag_key k = key4(5);
	/* 128 fragments of 8 bytes: exactly the per-datagram limit */
	shuffled(f, &k, 1024, 8, 11);
	/* 129: the datagram is discarded, its 128 queued fragments counted */
	for (uint32_t i = 0; i < 128; i++)
		CHECK_EQ(offer(f, &k, i * 8, 8, true), FRAG_QUEUED);
	CHECK_EQ(offer(f, &k, 128 * 8, 1, false), SYNACK_DROP_FRAG_TOO_MANY);
	CHECK_EQ(f->c[SYNACK_DROP_FRAG_TOO_MANY], 128);
	CHECK_EQ(frag_datagrams(f->ft), 0);
	fx_free(f);
}

TEST(frag_zero_length_last_fragment)
{
	struct fx *f = fx_new(NULL);
	struct frag_key k = key4(6);
	CHECK_EQ(offer(f, &k, 16, 0, false), FRAG_QUEUED);
	CHECK_EQ(offer(f, &k, 0, 16, true), FRAG_DONE);
	check_done(f, &k, 16);
	fx_free(f);
}

TEST(frag_unfragmented_offer_is_passed_through)
{
	/* RFC 6946: an atomic fragment is processed alone, without copying */
	struct fx *f = fx_new(NULL);
	struct frag_key k = key6(3);
	CHECK_EQ(offer(f, &k, 0, 96, true), FRAG_QUEUED);
	CHECK_EQ(offer(f, &k, 0, 60, false), FRAG_DONE);
	CHECK(f->out.data == f->data);
	CHECK_EQ(f->out.len, 60);
	CHECK_EQ(frag_datagrams(f->ft), 1); /* the queue is untouched */
	fx_free(f);
}

TEST(frag_odd_length_middle_fragment)
{
	struct fx *f = fx_new(NULL);
	struct frag_key k = key4(7);
	CHECK_EQ(offer(f, &k, 0, 16, true), FRAG_QUEUED);
	CHECK_EQ(offer(f, &k, 16, 12, true), SYNACK_DROP_FRAG_BAD_LENGTH);
	CHECK_EQ(offer(f, &k, 16, 0, true), SYNACK_DROP_FRAG_BAD_LENGTH);
	/* the datagram is unharmed: the real middle and last complete it */
	CHECK_EQ(offer(f, &k, 16, 16, true), FRAG_QUEUED);
	CHECK_EQ(offer(f, &k, 32, 3, false), FRAG_DONE);
	check_done(f, &k, 35);
	fx_free(f);
}

/* Queue a then b; expect b to be an overlap that discards the datagram. */
static void overlap_case(uint32_t a_off, size_t a_len, bool a_more, uint32_t b_off, size_t b_len, bool b_more)
{
	struct fx *f = fx_new(NULL);
	struct frag_key k = key4(8);
	CHECK_EQ(offer(f, &k, a_off, a_len, a_more), FRAG_QUEUED);
	CHECK_EQ(offer(f, &k, b_off, b_len, b_more), SYNACK_DROP_FRAG_OVERLAP);
	CHECK_EQ(f->c[SYNACK_DROP_FRAG_OVERLAP], 1); /* a; the caller counts b */
	CHECK_EQ(frag_datagrams(f->ft), 0);
	/* RFC 5722: the whole datagram went; a clean retry starts afresh */
	CHECK_EQ(offer(f, &k, 0, 64, true), FRAG_QUEUED);
	CHECK_EQ(offer(f, &k, 64, 10, false), FRAG_DONE);
	check_done(f, &k, 74);
	fx_free(f);
}

TEST(frag_overlap_discards_datagram)
{
	overlap_case(0, 64, true, 56, 64, true);   /* partial, after */
	overlap_case(56, 64, true, 0, 64, true);   /* partial, before */
	overlap_case(0, 128, true, 32, 32, true);  /* new inside old */
	overlap_case(32, 32, true, 0, 128, true);  /* old inside new */
	overlap_case(0, 64, true, 0, 32, true);	   /* same start, shorter */
	overlap_case(64, 64, true, 64, 72, false); /* same start, longer last */
	overlap_case(0, 64, true, 32, 0, false);   /* empty last inside data */
}

TEST(frag_overlap_other_cases)
{
	struct fx *f = fx_new(NULL);
	struct frag_key k = key6(8);
	uint8_t other[64];
	memset(other, 0xee, sizeof other);
	/* same place, different bytes: not a duplicate (RFC 8200 4.5) */
	CHECK_EQ(offer(f, &k, 0, 32, true), FRAG_QUEUED);
	CHECK_EQ(offer(f, &k, 32, 32, true), FRAG_QUEUED);
	CHECK_EQ(offer_from(f, &k, other, 32, 32, true), SYNACK_DROP_FRAG_OVERLAP);
	CHECK_EQ(f->c[SYNACK_DROP_FRAG_OVERLAP], 2);
	/* the containing fragment spans two queued ones */
	CHECK_EQ(offer(f, &k, 0, 16, true), FRAG_QUEUED);
	CHECK_EQ(offer(f, &k, 32, 16, true), FRAG_QUEUED);
	CHECK_EQ(offer(f, &k, 8, 48, true), SYNACK_DROP_FRAG_OVERLAP);
	CHECK_EQ(f->c[SYNACK_DROP_FRAG_OVERLAP], 4);
	fx_free(f);
}

TEST(frag_exact_duplicates_accepted)
{
	struct fx *f = fx_new(NULL);
	struct frag_key k = key4(10);
	CHECK_EQ(offer(f, &k, 0, 512, true), FRAG_QUEUED);
	CHECK_EQ(offer(f, &k, 0, 512, true), SYNACK_DROP_FRAG_DUPLICATE);
	CHECK_EQ(offer(f, &k, 1024, 100, false), FRAG_QUEUED);
	CHECK_EQ(offer(f, &k, 1024, 100, false), SYNACK_DROP_FRAG_DUPLICATE);
	CHECK_EQ(offer(f, &k, 512, 512, true), FRAG_DONE);
	check_done(f, &k, 1124);
	CHECK_EQ(f->c[SYNACK_DROP_FRAG_OVERLAP], 0);
	/* a late duplicate after completion starts a new datagram that times out */
	CHECK_EQ(offer(f, &k, 0, 512, true), FRAG_QUEUED);
	fx_free(f);
}

TEST(frag_inconsistent_end)
{
	struct fx *f = fx_new(NULL);
	struct frag_key k = key4(11);
	CHECK_EQ(offer(f, &k, 80, 20, false), FRAG_QUEUED);
	CHECK_EQ(offer(f, &k, 104, 8, true), SYNACK_DROP_FRAG_INCONSISTENT); /* beyond 100 */
	CHECK_EQ(f->c[SYNACK_DROP_FRAG_INCONSISTENT], 1);
	CHECK_EQ(offer(f, &k, 80, 20, false), FRAG_QUEUED);
	CHECK_EQ(offer(f, &k, 104, 20, false), SYNACK_DROP_FRAG_INCONSISTENT); /* second last */
	CHECK_EQ(offer(f, &k, 64, 8, true), FRAG_QUEUED);
	CHECK_EQ(offer(f, &k, 8, 8, false), SYNACK_DROP_FRAG_INCONSISTENT); /* data beyond it */
	CHECK_EQ(offer(f, &k, 64, 8, true), FRAG_QUEUED);
	CHECK_EQ(offer(f, &k, 64, 0, false), SYNACK_DROP_FRAG_INCONSISTENT); /* empty, at a start */
	CHECK_EQ(f->c[SYNACK_DROP_FRAG_INCONSISTENT], 4);
	CHECK_EQ(frag_datagrams(f->ft), 0);
	fx_free(f);
}

TEST(frag_too_big)
{
	struct fx *f = fx_new(NULL);
	struct frag_key k4 = key4(12), k6 = key6(12);
	/* IPv4: 20-byte header + 65,496 + 24 = 65,540 > 65,535 (ping of death) */
	CHECK_EQ(offer(f, &k4, 65496, 24, false), SYNACK_DROP_FRAG_TOO_BIG);
	CHECK_EQ(offer(f, &k4, 65496, 19, false), FRAG_QUEUED);
	/* IPv6 (no unfragmentable extension headers): Payload Length <= 65,535 */
	CHECK_EQ(offer(f, &k6, 65528, 8, false), SYNACK_DROP_FRAG_TOO_BIG);
	CHECK_EQ(offer(f, &k6, 65528, 7, false), FRAG_QUEUED);
	struct frag_in in = {.offset = 8192, .more = true, .data = f->data, .len = 8, .max_end = 65535};
	CHECK_EQ(frag_input(f->ft, 0, &k6, &in, &f->out), SYNACK_DROP_FRAG_TOO_BIG);
	in = (struct frag_in){.offset = 1, .more = false, .data = f->data, .len = 100, .max_end = 100};
	CHECK_EQ(frag_input(f->ft, 0, &k6, &in, &f->out), SYNACK_DROP_FRAG_TOO_BIG);
	CHECK_EQ(frag_datagrams(f->ft), 2);
	fx_free(f);
}

TEST(frag_timeout_and_icmp_report)
{
	struct fx *f = fx_new(NULL);
	struct frag_key a = key4(20), b = key4(21), c = key6(22);
	uint8_t hdr[20] = {0x45, 0, 0, 0, 0, 20, 0x20, 0, 64, 17};
	struct frag_in in = {.offset = 0,
			     .more = true,
			     .data = f->data,
			     .len = 64,
			     .max_end = 65515,
			     .hdr = hdr,
			     .hdr_len = sizeof hdr};
	f->now = SYNACK_SEC(100);
	CHECK_EQ(frag_input(f->ft, f->now, &a, &in, &f->out), FRAG_QUEUED);
	CHECK_EQ(offer(f, &a, 128, 10, false), FRAG_QUEUED);
	f->now += SYNACK_SEC(1);
	CHECK_EQ(offer(f, &b, 64, 64, true), FRAG_QUEUED); /* no fragment zero */
	CHECK_EQ(offer(f, &c, 64, 64, true), FRAG_QUEUED);
	CHECK_EQ(frag_next_deadline(f->ft), SYNACK_SEC(130));
	/* RFC 8200 4.5: 60 s from the first-arriving fragment, not restarted */
	CHECK_EQ(frag_expire(f->ft, SYNACK_SEC(130) - 1, &f->out), 0);
	CHECK_EQ(frag_datagrams(f->ft), 3);
	CHECK_EQ(frag_expire(f->ft, SYNACK_SEC(131), &f->out), 1);
	CHECK_EQ(f->out.key.id, 20);
	CHECK_EQ(f->out.len, 64);
	CHECK_EQ(f->out.hdr_len, 20);
	CHECK_MEM(f->out.hdr, hdr, 20);
	CHECK_MEM(f->out.data, f->data, 64);
	CHECK_EQ(frag_expire(f->ft, SYNACK_SEC(131), &f->out), 0); /* b goes silently */
	CHECK_EQ(f->c[SYNACK_DROP_FRAG_TIMEOUT], 3);
	CHECK_EQ(frag_datagrams(f->ft), 1);
	CHECK_EQ(frag_next_deadline(f->ft), SYNACK_SEC(161));
	CHECK_EQ(frag_expire(f->ft, SYNACK_SEC(161), &f->out), 0);
	CHECK_EQ(f->c[SYNACK_DROP_FRAG_TIMEOUT], 4);
	CHECK_EQ(frag_bytes(f->ft), 0);
	fx_free(f);
}

TEST(frag_stale_datagram_not_joined)
{
	struct fx *f = fx_new(NULL);
	struct frag_key k = key4(23);
	CHECK_EQ(offer(f, &k, 0, 64, true), FRAG_QUEUED);
	f->now = SYNACK_SEC(30);
	/* the caller missed frag_expire: the old half must not be used */
	CHECK_EQ(offer(f, &k, 64, 10, false), FRAG_QUEUED);
	CHECK_EQ(f->c[SYNACK_DROP_FRAG_TIMEOUT], 1);
	CHECK_EQ(frag_next_deadline(f->ft), SYNACK_SEC(60));
	fx_free(f);
}

TEST(frag_limit_datagrams_evicts_oldest)
{
	struct frag_limits lim;
	frag_limits_default(&lim);
	lim.max_datagrams = 4;
	struct fx *f = fx_new(&lim);
	struct frag_key k[5];
	for (uint32_t i = 0; i < 5; i++) {
		k[i] = key4(100 + i);
		CHECK_EQ(offer(f, &k[i], 0, 800, true), FRAG_QUEUED);
		CHECK_EQ(offer(f, &k[i], 800, 800, true), FRAG_QUEUED);
	}
	CHECK_EQ(frag_datagrams(f->ft), 4);
	CHECK_EQ(f->c[SYNACK_DROP_FRAG_EVICTED], 2);
	CHECK_EQ(offer(f, &k[4], 1600, 1, false), FRAG_DONE);
	CHECK_EQ(offer(f, &k[1], 1600, 1, false), FRAG_DONE);
	CHECK_EQ(offer(f, &k[0], 1600, 1, false), FRAG_QUEUED); /* k[0] had gone */
	fx_free(f);
}

TEST(frag_limit_bytes)
{
	struct frag_limits lim;
	frag_limits_default(&lim);
	lim.max_bytes = 48 * 1024;
	struct fx *f = fx_new(&lim);
	struct frag_key a = key4(30), b = key4(31), c = key6(32);
	/* last first: the buffer is sized exactly, 30,000 bytes */
	CHECK_EQ(offer(f, &a, 29600, 400, false), FRAG_QUEUED);
	CHECK(frag_bytes(f->ft) <= lim.max_bytes);
	CHECK_EQ(offer(f, &b, 29600, 400, false), FRAG_QUEUED); /* evicts a */
	CHECK_EQ(f->c[SYNACK_DROP_FRAG_EVICTED], 1);
	CHECK_EQ(frag_datagrams(f->ft), 1);
	CHECK(frag_bytes(f->ft) <= lim.max_bytes);
	/* a datagram larger than the whole budget cannot be queued */
	CHECK_EQ(offer(f, &c, 60000, 8, true), SYNACK_DROP_FRAG_NO_MEMORY);
	CHECK_EQ(f->c[SYNACK_DROP_FRAG_EVICTED], 2);
	CHECK_EQ(frag_datagrams(f->ft), 0);
	/* growth by doubling falls back to the exact need near the budget */
	for (uint32_t off = 0; off < 40000; off += 1000)
		CHECK_EQ(offer(f, &c, off, 1000, true), FRAG_QUEUED);
	CHECK(frag_bytes(f->ft) <= lim.max_bytes);
	CHECK_EQ(offer(f, &c, 40000, 1, false), FRAG_DONE);
	check_done(f, &c, 40001);
	fx_free(f);
}

TEST(frag_families_and_protocols_do_not_mix)
{
	struct fx *f = fx_new(NULL);
	struct frag_key a = key4(40), b = key6(40), c = key4(40), d;
	c.proto = 6;			     /* IPv4: protocol is part of the key (RFC 791) */
	memcpy(b.src.bytes, a.src.bytes, 4); /* even with alike bytes */
	memset(b.src.bytes + 4, 0, 12);
	memcpy(b.dst.bytes, a.dst.bytes, 4);
	memset(b.dst.bytes + 4, 0, 12);
	d = b;
	d.proto = 44; /* IPv6: Next Header is not (RFC 8200 4.5) */
	CHECK_EQ(offer(f, &a, 0, 64, true), FRAG_QUEUED);
	CHECK_EQ(offer(f, &b, 0, 128, true), FRAG_QUEUED);
	CHECK_EQ(offer(f, &c, 0, 32, true), FRAG_QUEUED);
	CHECK_EQ(frag_datagrams(f->ft), 3);
	CHECK_EQ(offer(f, &d, 128, 8, false), FRAG_DONE);
	check_done(f, &b, 136);
	CHECK_EQ(f->out.key.proto, 17); /* from the offset-0 fragment */
	CHECK_EQ(offer(f, &c, 32, 8, false), FRAG_DONE);
	check_done(f, &c, 40);
	CHECK_EQ(f->out.key.proto, 6);
	CHECK_EQ(offer(f, &a, 64, 1, false), FRAG_DONE);
	check_done(f, &a, 65);
	fx_free(f);
}

TEST(frag_bad_limits_and_keys)
{
	struct mem m;
	struct frag_limits lim;
	struct frag_table *ft;
	uint64_t c[SYNACK_COUNTER_COUNT] = {0};
	mem_init(&m, NULL);
	frag_limits_default(&lim);
	lim.max_datagrams = 0;
	CHECK_EQ(frag_table_create(&m, &lim, c, &ft), -EINVAL);
	frag_limits_default(&lim);
	lim.max_bytes = 100;
	CHECK_EQ(frag_table_create(&m, &lim, c, &ft), -EINVAL);
	CHECK(ft == NULL);
	frag_limits_default(&lim);
	CHECK_EQ(frag_table_create(&m, &lim, c, &ft), 0);
	struct frag_key k = key4(1);
	k.family = SYNACK_AF_INET6;
	struct frag_in in = {
	    .offset = 1, .more = true, .data = (const uint8_t *)"01234567", .len = 8, .max_end = 65535};
	struct frag_done out;
	CHECK_EQ(frag_input(ft, 0, &k, &in, &out), SYNACK_DROP_IP_VERSION);
	frag_table_destroy(ft);
	frag_table_destroy(NULL);
	CHECK_EQ(m.blocks, 0);
}

TEST(frag_destroy_counts_pending)
{
	struct fx *f = fx_new(NULL);
	struct frag_key k = key4(50);
	CHECK_EQ(offer(f, &k, 0, 64, true), FRAG_QUEUED);
	CHECK_EQ(offer(f, &k, 128, 64, true), FRAG_QUEUED);
	CHECK_EQ(offer(f, &k, 0, 64, true), SYNACK_DROP_FRAG_DUPLICATE);
	frag_table_destroy(f->ft);
	f->ft = NULL;
	CHECK_EQ(f->c[SYNACK_DROP_FRAG_TIMEOUT], 2);
	fx_free(f);
}

/* ---- seeded random sequences checked against a model ----
 * The model keeps, per key, the list of queued fragments and the bytes they
 * carried, applies the documented rules in the simplest way, and predicts
 * every return value and every counter. */

#define MODEL_KEYS 3
#define MODEL_MAXF 128

struct mfrag {
	uint32_t off, len;
	bool more;
	bool corrupt;
};

struct mdg {
	bool alive, has_last;
	synack_time_t deadline;
	uint32_t n, total, received;
	uint32_t s[MODEL_MAXF], e[MODEL_MAXF];
	uint8_t bytes[65536];
};

struct model {
	struct mdg d[MODEL_KEYS];
	uint64_t c[SYNACK_COUNTER_COUNT]; /* expected counters */
	uint64_t offered, delivered_frames, atomic;
};

static void model_discard(struct model *mo, struct mdg *d, enum synack_counter why)
{
	mo->c[why] += d->n;
	d->alive = false;
}

static int model_check(const struct mdg *d, uint32_t s, uint32_t e, bool more, const uint8_t *p)
{
	for (uint32_t i = 0; i < d->n; i++) {
		if (d->s[i] == s && d->e[i] == e)
			return memcmp(d->bytes + s, p, e - s) ? SYNACK_DROP_FRAG_OVERLAP
							      : SYNACK_DROP_FRAG_DUPLICATE;
		if (s < d->e[i] && d->s[i] < e)
			return SYNACK_DROP_FRAG_OVERLAP;
	}
	for (uint32_t i = 0; i < d->n; i++)
		if (d->e[i] > e && !more)
			return SYNACK_DROP_FRAG_INCONSISTENT;
	if (d->has_last && (more ? e > d->total : e != d->total))
		return SYNACK_DROP_FRAG_INCONSISTENT;
	return d->n >= MODEL_MAXF ? SYNACK_DROP_FRAG_TOO_MANY : 0;
}

static int model_offer(struct model *mo, int key, synack_time_t now, uint32_t s, uint32_t len, bool more,
		       const uint8_t *p)
{
	struct mdg *d = &mo->d[key];
	uint32_t e = s + len;
	mo->offered++;
	if (e > 65515)
		return SYNACK_DROP_FRAG_TOO_BIG;
	if (more && (len == 0 || len % 8))
		return SYNACK_DROP_FRAG_BAD_LENGTH;
	if (s == 0 && !more) {
		mo->atomic++;
		return FRAG_DONE;
	}
	if (d->alive && d->deadline <= now)
		model_discard(mo, d, SYNACK_DROP_FRAG_TIMEOUT);
	if (!d->alive) {
		memset(d, 0, offsetof(struct mdg, bytes));
		d->alive = true;
		d->deadline = now + SYNACK_SEC(key == 1 ? 60 : 30); /* key 1 is IPv6 */
	}
	int r = model_check(d, s, e, more, p);
	if (r == SYNACK_DROP_FRAG_OVERLAP || r == SYNACK_DROP_FRAG_INCONSISTENT ||
	    r == SYNACK_DROP_FRAG_TOO_MANY)
		model_discard(mo, d, (enum synack_counter)r);
	if (r)
		return r;
	memcpy(d->bytes + s, p, len);
	d->s[d->n] = s;
	d->e[d->n++] = e;
	d->received += len;
	if (!more) {
		d->has_last = true;
		d->total = e;
	}
	if (!d->has_last || d->received != d->total)
		return FRAG_QUEUED;
	mo->c[SYNACK_CNT_FRAG_REASSEMBLED]++;
	mo->delivered_frames += d->n;
	d->alive = false;
	return FRAG_DONE;
}

/* Cut a datagram of `total` bytes into fragments of `size`, add duplicates
 * and hostile fragments, and shuffle (or not). Returns the count. */
static uint32_t make_sequence(synack_prng *p, struct mfrag *v, uint32_t cap, int *keys, int key)
{
	uint64_t r = synack_prng_below(p, 16);
	uint32_t total = 1 + (uint32_t)(r == 0 ? 65400 + synack_prng_below(p, 200)
					       : synack_prng_below(p, r < 3 ? 65535 : 3000));
	uint32_t size = 8 * (1 + (uint32_t)synack_prng_below(p, synack_prng_below(p, 8) ? 200 : 8));
	uint32_t n = 0;
	for (uint32_t off = 0; off < total && n < cap; off += size) {
		uint32_t len = MIN(size, total - off);
		v[n] = (struct mfrag){off, len, off + len < total, false};
		keys[n++] = key;
		if (!synack_prng_below(p, 10) && n < cap) { /* duplicate */
			v[n] = v[n - 1];
			keys[n] = key;
			n++;
		}
	}
	for (int i = 0; i < 2 && n < cap; i++)
		if (!synack_prng_below(p, 6)) { /* hostile or odd fragment */
			uint32_t off = 8 * (uint32_t)synack_prng_below(p, total / 8 + 2);
			uint32_t len = (uint32_t)synack_prng_below(p, 2 * size + 2);
			v[n] = (struct mfrag){off, len, synack_prng_below(p, 2) != 0,
					      synack_prng_below(p, 2) != 0};
			keys[n++] = key;
		}
	return n;
}

static void shuffle_seq(synack_prng *p, struct mfrag *v, int *keys, uint32_t n)
{
	for (uint32_t i = n - 1; n > 1 && i > 0; i--) {
		uint32_t j = (uint32_t)synack_prng_below(p, i + 1);
		struct mfrag t = v[i];
		int tk = keys[i];
		v[i] = v[j];
		v[j] = t;
		keys[i] = keys[j];
		keys[j] = tk;
	}
}

static void run_scenario(struct fx *f, struct model *mo, uint64_t seed, struct mfrag *v, int *keys)
{
	synack_prng p;
	uint8_t junk[2048];
	struct frag_key k[MODEL_KEYS];
	uint32_t n = 0;
	synack_prng_seed(&p, seed);
	synack_prng_fill(&p, junk, sizeof junk);
	for (int i = 0; i < MODEL_KEYS; i++) {
		k[i] = i == 1 ? key6((uint32_t)seed) : key4((uint32_t)seed + (uint32_t)i);
		n += make_sequence(&p, v + n, 4096 - n, keys + n, i);
	}
	if (synack_prng_below(&p, 4))
		shuffle_seq(&p, v, keys, n);
	for (uint32_t i = 0; i < n; i++) {
		const struct frag_key *key = &k[keys[i]];
		const uint8_t *data = v[i].corrupt && v[i].len <= sizeof junk ? junk : f->data + v[i].off;
		if (!synack_prng_below(&p, 40))
			f->now += SYNACK_SEC(synack_prng_below(&p, 20));
		struct frag_in in = {.offset = (uint16_t)(v[i].off / 8),
				     .more = v[i].more,
				     .data = data,
				     .len = v[i].len,
				     .max_end = 65515};
		int want = model_offer(mo, keys[i], f->now, v[i].off, v[i].len, v[i].more, in.data);
		int got = frag_input(f->ft, f->now, key, &in, &f->out);
		if (got != want)
			unit_fail(__FILE__, __LINE__, "seed %" PRIu64 " step %u: got %d want %d", seed, i,
				  got, want);
		if (got > FRAG_DONE)
			f->c[got]++; /* the caller's count */
		if (want > FRAG_DONE)
			mo->c[want]++;
		if (got == FRAG_DONE && want == FRAG_DONE && (in.offset || in.more)) {
			CHECK_EQ(f->out.len, mo->d[keys[i]].total);
			CHECK_MEM(f->out.data, mo->d[keys[i]].bytes, f->out.len);
		}
	}
}

TEST(frag_random_sequences_match_model)
{
	struct fx *f = fx_new(NULL);
	struct model *mo = calloc(1, sizeof *mo);
	struct mfrag *v = calloc(4096, sizeof *v);
	int *keys = calloc(4096, sizeof *keys);
	for (uint64_t seed = 1; seed <= 3000; seed++) {
		frag_table_destroy(f->ft);
		for (int i = 0; i < MODEL_KEYS; i++)
			if (mo->d[i].alive)
				model_discard(mo, &mo->d[i], SYNACK_DROP_FRAG_TIMEOUT);
		CHECK_EQ(f->m.blocks, 0);
		struct frag_limits lim;
		frag_limits_default(&lim);
		CHECK_EQ(frag_table_create(&f->m, &lim, f->c, &f->ft), 0);
		run_scenario(f, mo, seed, v, keys);
	}
	uint64_t drops = 0;
	for (int id = SYNACK_DROP_FIRST_ + 1; id < SYNACK_DROP_LAST_; id++) {
		CHECK_EQ(f->c[id] - mo->c[id], 0);
		drops += f->c[id];
	}
	CHECK_EQ(f->c[SYNACK_CNT_FRAG_REASSEMBLED], mo->c[SYNACK_CNT_FRAG_REASSEMBLED]);
	CHECK(f->c[SYNACK_CNT_FRAG_REASSEMBLED] > 1000);
	CHECK(f->c[SYNACK_DROP_FRAG_OVERLAP] > 100);
	/* Every fragment offered was delivered, dropped and counted once, or is
	 * still queued (counted as a timeout at destroy below). */
	uint64_t queued = 0;
	for (int i = 0; i < MODEL_KEYS; i++)
		queued += mo->d[i].alive ? mo->d[i].n : 0;
	CHECK_EQ(mo->offered, drops + mo->delivered_frames + mo->atomic + queued);
	free(v);
	free(keys);
	free(mo);
	fx_free(f);
}
