/* src/base: SipHash vectors, heap order under random operations, ring
 * wrap-around and lazy allocation, hash table, PRNG determinism. */
#include <errno.h>
#include <stdlib.h>

#include "base/base.h"
#include "unit.h"

TEST(siphash_reference_vectors)
{
	/* SipHash paper, Appendix A: key 00..0f, message 00..0e */
	uint8_t key[16], msg[64];
	for (int i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	for (int i = 0; i < 64; i++)
		msg[i] = (uint8_t)i;
	CHECK(siphash24(key, msg, 15) == 0xa129ca6149be45e5ull);
	CHECK(siphash24(key, msg, 0) == 0x726fdb47dd0e0e31ull);
	CHECK(siphash24(key, msg, 8) == 0x93f5f5799a932462ull);
}

/* SipHash-1-3 (the table index) has no published vectors: it is the same
 * function with one compression and three finalization rounds, so it must
 * differ from 2-4, depend on every input bit and on the key, and each
 * byte of a 12-byte IPv4 tuple must move the slot. */
TEST(siphash13_depends_on_every_bit_and_the_key)
{
	uint8_t key[16] = {0}, msg[12] = {0};
	uint64_t base = siphash13(key, msg, sizeof msg);
	CHECK(base != siphash24(key, msg, sizeof msg));
	CHECK(base == siphash13(key, msg, sizeof msg));
	for (int bit = 0; bit < 96; bit++) {
		msg[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		uint64_t h = siphash13(key, msg, sizeof msg);
		msg[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		/* a flipped input bit flips about half the output bits */
		int d = __builtin_popcountll(h ^ base);
		CHECK(d > 12 && d < 52);
	}
	key[15] = 1;
	CHECK(siphash13(key, msg, sizeof msg) != base);
}

struct item {
	struct heap_node n;
	int id;
};

TEST(heap_keeps_minimum_under_random_operations)
{
	struct mem m;
	struct heap h = {0};
	struct item it[500];
	synack_prng p;
	mem_init(&m, NULL);
	synack_prng_seed(&p, 7);
	for (int i = 0; i < 500; i++) {
		it[i].id = i;
		it[i].n.index = 0;
		CHECK_EQ(heap_set(&h, &m, &it[i].n, (synack_time_t)synack_prng_below(&p, 100000)), 0);
	}
	for (int round = 0; round < 5000; round++) {
		struct item *x = &it[synack_prng_below(&p, 500)];
		synack_time_t w = synack_prng_below(&p, 4) == 0
				      ? SYNACK_TIME_NEVER
				      : (synack_time_t)synack_prng_below(&p, 100000);
		heap_set(&h, &m, &x->n, w);
		synack_time_t min = SYNACK_TIME_NEVER;
		for (int i = 0; i < 500; i++)
			if (it[i].n.index && heap_when(&h, &it[i].n) < min)
				min = heap_when(&h, &it[i].n);
		struct heap_node *top = heap_top(&h);
		CHECK_EQ(heap_top_when(&h), min);
		CHECK_EQ(top ? heap_when(&h, top) : SYNACK_TIME_NEVER, min);
	}
	/* emptied, it gives its array back down to the first 64 entries */
	for (int i = 0; i < 500; i++) {
		heap_set(&h, &m, &it[i].n, SYNACK_TIME_NEVER);
		CHECK_EQ(it[i].n.index, 0);
		CHECK(h.len * 4 >= h.cap || h.cap == 64);
	}
	CHECK_EQ(h.len, 0);
	CHECK_EQ(h.cap, 64);
	heap_free(&h, &m);
	CHECK_EQ(m.blocks, 0);
}

/* The deadline queue against a model: pushes (in order, or earlier than
 * the last: raised to it), removals anywhere and pops at the front, with
 * the array wrapping, growing, closing up its holes and shrinking. Every
 * item in the queue has its own deadline at its index; the front is the
 * oldest item in the queue and no item's deadline is below one pushed
 * before it. */
TEST(deadline_queue_keeps_order_under_random_operations)
{
	struct mem m;
	struct dlq q = {0};
	static struct item it[3000];
	static synack_time_t want[3000];
	static uint32_t order[3000]; /* push order of each item */
	synack_prng p;
	mem_init(&m, NULL);
	synack_prng_seed(&p, 11);
	synack_time_t clock = 0;
	uint32_t pushes = 0, max_cap = 0;
	for (int round = 0; round < 40000; round++) {
		struct item *x = &it[synack_prng_below(&p, 3000)];
		uint32_t op = synack_prng_below(&p, 8);
		if (!x->n.index && op < 5) {
			CHECK_EQ(dlq_reserve(&q, &m), 0);
			synack_time_t w = clock + synack_prng_below(&p, 50);
			if (op == 0 && clock > 100)
				w = clock - 100; /* earlier than the last: raised */
			synack_time_t last = q.len ? q.v[(q.head + q.len - 1) & (q.cap - 1)].when : 0;
			synack_time_t got = dlq_push(&q, &x->n, w);
			CHECK_EQ(got, MAX(w, last));
			want[x - it] = got;
			order[x - it] = pushes++;
			clock = MAX(clock, w);
		} else if (x->n.index && op < 7) {
			dlq_remove(&q, &m, &x->n);
			CHECK_EQ(x->n.index, 0);
		} else if (q.len && op == 7) { /* pop the front */
			dlq_remove(&q, &m, dlq_top(&q));
		}
		max_cap = MAX(max_cap, q.cap);
		uint32_t live = 0, first = UINT32_MAX;
		struct heap_node *oldest = NULL;
		for (int i = 0; i < 3000; i++) {
			if (!it[i].n.index)
				continue;
			live++;
			CHECK_EQ(dlq_when(&q, &it[i].n), want[i]);
			if (order[i] < first) {
				first = order[i];
				oldest = &it[i].n;
			}
		}
		CHECK_EQ(q.live, live);
		CHECK(dlq_top(&q) == oldest);
		CHECK(!q.len || dlq_at(&q, q.len - 1) != NULL); /* no hole at either end */
		synack_time_t prev = 0;
		for (uint32_t i = 0; i < q.len; i++) {
			CHECK(q.v[(q.head + i) & (q.cap - 1)].when >= prev);
			prev = q.v[(q.head + i) & (q.cap - 1)].when;
		}
	}
	CHECK(max_cap >= 1024); /* it grew, and wrapped on the way */
	for (int i = 0; i < 3000; i++)
		dlq_remove(&q, &m, &it[i].n);
	CHECK_EQ(q.len, 0);
	CHECK_EQ(q.cap, 64); /* it shrank back */
	CHECK_EQ(dlq_top_when(&q), SYNACK_TIME_NEVER);
	dlq_free(&q, &m);
	CHECK_EQ(m.blocks, 0);
}

static bool dlq_fail; /* the allocator below refuses while set */

static void *dlq_alloc(void *ctx, size_t size)
{
	(void)ctx;
	return dlq_fail ? NULL : malloc(size);
}

static void dlq_release(void *ctx, void *p, size_t size)
{
	(void)ctx;
	(void)size;
	free(p);
}

/* The deadline queue's other paths: a full array half of holes is closed
 * up in place (same size, same order, every index right); with no memory a
 * full queue refuses one more and stays as it was; emptied to a quarter,
 * it shrinks at once. */
TEST(deadline_queue_closes_holes_and_survives_no_memory)
{
	struct mem m;
	struct dlq q = {0};
	static struct item it[128];
	synack_allocator a = {.alloc = dlq_alloc, .free = dlq_release};
	mem_init(&m, &a);
	dlq_fail = false;
	for (int i = 0; i < 64; i++) {
		CHECK_EQ(dlq_reserve(&q, &m), 0);
		CHECK_EQ(dlq_push(&q, &it[i].n, (synack_time_t)(100 + i)), (synack_time_t)(100 + i));
	}
	CHECK_EQ(q.cap, 64u);
	for (int i = 1; i < 63; i += 2) /* 31 holes inside */
		dlq_remove(&q, &m, &it[i].n);
	dlq_remove(&q, &m, &it[2].n);
	CHECK_EQ(q.len, 64u);
	CHECK_EQ(q.live, 32u);
	CHECK_EQ(dlq_reserve(&q, &m), 0); /* full, half holes: closed up */
	CHECK_EQ(q.cap, 64u);
	CHECK_EQ(q.len, 32u);
	synack_time_t prev = 0;
	for (uint32_t i = 0; i < q.len; i++) {
		struct heap_node *n = dlq_at(&q, i);
		CHECK(n != NULL);
		CHECK(dlq_when(&q, n) > prev);
		prev = dlq_when(&q, n);
	}
	for (int i = 0; i < 64; i++)
		CHECK_EQ(dlq_when(&q, &it[i].n),
			 (i % 2 == 1 && i < 63) || i == 2 ? SYNACK_TIME_NEVER : (synack_time_t)(100 + i));
	/* fill it again, then no memory: the next reserve fails, nothing moves */
	for (int i = 64; i < 96; i++) {
		CHECK_EQ(dlq_reserve(&q, &m), 0);
		dlq_push(&q, &it[i].n, (synack_time_t)(100 + i));
	}
	CHECK_EQ(q.len, 64u);
	dlq_fail = true;
	CHECK_EQ(dlq_reserve(&q, &m), -ENOMEM);
	CHECK_EQ(q.len, 64u);
	CHECK_EQ(q.cap, 64u);
	CHECK_EQ(dlq_top_when(&q), (synack_time_t)100);
	CHECK_EQ(dlq_when(&q, &it[95].n), (synack_time_t)195);
	dlq_fail = false;
	CHECK_EQ(dlq_reserve(&q, &m), 0);
	CHECK_EQ(q.cap, 128u);
	/* a quarter full: half the array (a hole at the front goes too) */
	for (int i = 0; i < 96; i++)
		if (it[i].n.index && dlq_when(&q, &it[i].n) < 170)
			dlq_remove(&q, &m, &it[i].n);
	CHECK(q.len * 4 > q.cap || q.cap == 64);
	CHECK_EQ(q.cap, 64u);
	CHECK_EQ(dlq_top_when(&q), (synack_time_t)170);
	for (int i = 0; i < 96; i++)
		dlq_remove(&q, &m, &it[i].n);
	dlq_free(&q, &m);
	CHECK_EQ(m.blocks, 0);
}

TEST(ring_wraps_and_frees_when_empty)
{
	struct mem m;
	struct ring r = {0};
	uint8_t in[100], out[100];
	mem_init(&m, NULL);
	for (int i = 0; i < 100; i++)
		in[i] = (uint8_t)i;
	CHECK_EQ(m.blocks, 0);
	CHECK_EQ(ring_push(&r, &m, 64, in, 100), 64);
	CHECK_EQ(m.blocks, 1);
	ring_consume(&r, &m, 50, false);
	CHECK_EQ(ring_push(&r, &m, 64, in, 40), 40); /* wraps */
	ring_peek(&r, 0, out, 14);
	CHECK_MEM(out, in + 50, 14);
	ring_peek(&r, 14, out, 40);
	CHECK_MEM(out, in, 40);
	/* out-of-order write beyond the data, then extend over it */
	ring_consume(&r, &m, 54, true);
	CHECK_EQ(r.len, 0);
	CHECK_EQ(ring_write_at(&r, &m, 64, 10, in, 20), 0);
	CHECK_EQ(ring_write_at(&r, &m, 64, 60, in, 20), -ERANGE);
	CHECK_EQ(ring_push(&r, &m, 64, in + 90, 10), 10);
	ring_extend(&r, 20);
	ring_peek(&r, 10, out, 20);
	CHECK_MEM(out, in, 20);
	ring_consume(&r, &m, 30, false);
	CHECK_EQ(m.blocks, 0); /* idle rings hold no buffer */
}

/* The buffer grows with the bytes, not to the limit at once: a few bytes
 * take 4 KiB of a 1 MiB ring; more bytes double it; an out-of-order write
 * far ahead grows it too, and bytes already held -- the data and the
 * out-of-order bytes beyond it, wrapped around the old buffer -- keep their
 * offsets through each growth. A ring that ran dry takes its last size
 * again when bytes come back. */
TEST(ring_grows_with_its_bytes)
{
	struct mem m;
	struct ring r = {0};
	static uint8_t in[200000], out[200000];
	mem_init(&m, NULL);
	for (size_t i = 0; i < sizeof in; i++)
		in[i] = (uint8_t)(i * 7 + i / 251);
	uint32_t limit = 1u << 20;
	CHECK_EQ(ring_push(&r, &m, limit, in, 10), 10);
	CHECK_EQ(m.bytes, 4096u);
	/* wrap inside the 4 KiB buffer, then hold bytes ahead of the data */
	CHECK_EQ(ring_push(&r, &m, limit, in + 10, 4000), 4000);
	ring_consume(&r, &m, 3000, true);
	CHECK_EQ(ring_push(&r, &m, limit, in + 4010, 2000), 2000); /* 3010 bytes, wrapped */
	CHECK_EQ(r.cap, 4096u);
	CHECK_EQ(ring_write_at(&r, &m, limit, r.len + 50, in + 9000, 30), 0); /* ahead, in the 4 KiB */
	CHECK_EQ(r.cap, 4096u);
	/* far ahead: the ring grows to hold it, the rest stays where it was */
	CHECK_EQ(ring_write_at(&r, &m, limit, 100000, in + 100000, 1000), 0);
	CHECK_EQ(r.cap, 131072u);
	CHECK_EQ(m.bytes, 131072u + 4096u); /* and the 4 KiB block, kept for reuse */
	ring_peek(&r, 0, out, 3010);
	CHECK_MEM(out, in + 3000, 3010);
	ring_peek(&r, 3010 + 50, out, 30);
	CHECK_MEM(out, in + 9000, 30);
	ring_peek(&r, 100000, out, 1000);
	CHECK_MEM(out, in + 100000, 1000);
	/* never past the limit: writes beyond it are refused, pushes cut */
	CHECK_EQ(ring_write_at(&r, &m, limit, limit - 10, in, 20), -ERANGE);
	ring_consume(&r, &m, r.len, false);
	/* kept for reuse (4 KiB and more): the 128 KiB block and the 4 KiB
	 * one it grew from */
	CHECK_EQ(m.blocks, 2);
	CHECK_EQ(m.ncache, 2u);
	CHECK_EQ(m.cached, 131072u + 4096u);
	/* run dry and filled again: the size it had, at once, the same block */
	CHECK_EQ(ring_push(&r, &m, limit, in, 10), 10);
	CHECK_EQ(r.cap, 131072u);
	CHECK_EQ(m.blocks, 2);
	CHECK_EQ(m.ncache, 1u);
	ring_consume(&r, &m, r.len, false);
	mem_buf_drain(&m);
	CHECK_EQ(m.bytes, 0u);
	/* a limit that is no power of two: rounded up to a quarter of the
	 * next one (5000 -> 6144 of 8192), so a limit auto-tuning raises in
	 * small steps does not reallocate at each */
	CHECK_EQ(ring_push(&r, &m, 5000, in, sizeof in), 5000);
	CHECK_EQ(r.cap, 6144u);
	ring_peek(&r, 0, out, 5000);
	CHECK_MEM(out, in, 5000);
	CHECK_EQ(ring_push(&r, &m, 5100, in + 5000, 100), 100); /* the limit creeps up: no new block */
	CHECK_EQ(r.cap, 6144u);
	ring_free(&r, &m);
	CHECK_EQ(m.ncache, 1u); /* kept for reuse */
	mem_buf_drain(&m);
	CHECK_EQ(m.bytes, 0u);
}

TEST(mem_keeps_a_few_large_buffers)
{
	struct mem m;
	size_t got;
	mem_init(&m, NULL);
	void *small = mem_buf_get(&m, MEM_CACHE_MIN - 1, &got);
	mem_buf_put(&m, small, MEM_CACHE_MIN - 1); /* below MEM_CACHE_MIN: freed */
	CHECK_EQ(m.blocks, 0);
	void *b[MEM_CACHE_SLOTS + 1];
	for (size_t i = 0; i <= MEM_CACHE_SLOTS; i++)
		b[i] = mem_buf_get(&m, (size_t)65536 << (i % 2), &got);
	for (size_t i = 0; i <= MEM_CACHE_SLOTS; i++)
		mem_buf_put(&m, b[i], (size_t)65536 << (i % 2));
	/* one too many: the smallest kept one went */
	CHECK_EQ(m.ncache, (size_t)MEM_CACHE_SLOTS);
	CHECK_EQ(m.blocks, (size_t)MEM_CACHE_SLOTS);
	CHECK_EQ(m.cached, (size_t)2 * 65536 + 2 * 131072);
	/* a request takes the smallest that fits, up to twice its size */
	void *p = mem_buf_get(&m, 100000, &got);
	CHECK_EQ(got, 131072u);
	mem_buf_put(&m, p, got);
	p = mem_buf_get(&m, 30000, &got); /* 64 KiB would be more than twice: a new block */
	CHECK_EQ(got, 30000u);
	mem_free(&m, p, got);
	/* never more than MEM_CACHE_BYTES, never one larger than that */
	p = mem_buf_get(&m, MEM_CACHE_BYTES + 1, &got);
	mem_buf_put(&m, p, got);
	CHECK_EQ(m.ncache, (size_t)MEM_CACHE_SLOTS);
	p = mem_buf_get(&m, MEM_CACHE_BYTES / 2, &got);
	mem_buf_put(&m, p, got);
	CHECK(m.cached <= MEM_CACHE_BYTES);
	mem_buf_drain(&m);
	CHECK_EQ(m.bytes, 0u);
	CHECK_EQ(m.blocks, 0);
}

struct hitem {
	struct hnode hn;
	int key;
};

TEST(htab_insert_find_remove_grow)
{
	struct mem m;
	struct htab t = {0};
	static struct hitem items[2000];
	mem_init(&m, NULL);
	for (int i = 0; i < 2000; i++) {
		items[i].key = i;
		CHECK_EQ(htab_insert(&t, &m, &items[i].hn, (uint64_t)i * 2654435761u), 0);
	}
	CHECK_EQ(t.count, 2000);
	for (int i = 0; i < 2000; i += 2)
		htab_remove(&t, &m, &items[i].hn);
	for (int i = 0; i < 2000; i++) {
		struct hnode *n = htab_first(&t, (uint64_t)i * 2654435761u);
		CHECK((n != NULL) == (i % 2 == 1));
	}
	htab_free(&t, &m);
	CHECK_EQ(m.blocks, 0);
}

/* Random inserts and removals against a model, with hashes crowded into
 * few home slots (long probe clusters that wrap around the end) and
 * repeated (several nodes under one hash, iterated with htab_next): after
 * every step each node is found exactly when it is in the model. */
TEST(htab_probing_survives_clusters_and_equal_hashes)
{
	struct mem m;
	struct htab t = {0};
	enum { N = 600 };
	static struct hitem items[N];
	bool in[N] = {false};
	synack_prng p;
	mem_init(&m, NULL);
	synack_prng_seed(&p, 42);
	/* hash: 64 distinct values, all homed in the last slots of the table */
	for (int step = 0; step < 20000; step++) {
		uint64_t r;
		synack_prng_fill(&p, &r, sizeof r);
		int i = (int)(r % N);
		uint64_t h = ((uint64_t)(i % 64) << 40) | (0xfffffff0u + (uint32_t)(i % 7));
		if (in[i]) {
			htab_remove(&t, &m, &items[i].hn);
			in[i] = false;
		} else {
			items[i].key = i;
			if (htab_insert(&t, &m, &items[i].hn, h) != 0)
				break;
			in[i] = true;
		}
		if (step % 97)
			continue;
		size_t count = 0;
		for (int k = 0; k < N; k++) {
			uint64_t hk = ((uint64_t)(k % 64) << 40) | (0xfffffff0u + (uint32_t)(k % 7));
			bool found = false;
			for (struct hnode *n = htab_first(&t, hk); n; n = htab_next(&t, n, hk))
				found |= n == &items[k].hn;
			if (found != in[k]) {
				CHECK(!"node found when absent, or lost");
				htab_free(&t, &m);
				return;
			}
			count += in[k];
		}
		CHECK_EQ(t.count, count);
		/* each slot's distance from its home is exact, or 255 for farther
		 * (the clusters here are hundreds of slots long) */
		for (uint32_t j = 0; t.mask && j <= t.mask; j++) {
			if (!t.s[j])
				continue;
			const struct hnode *n =
			    (const struct hnode *)(uintptr_t)(t.s[j] & ((UINT64_C(1) << 48) - 1));
			uint32_t d = (j - ((uint32_t)n->hash & t.mask)) & t.mask;
			if (((t.s[j] >> 48) & 0xff) != (d < 255 ? d : 255)) {
				CHECK(!"a slot's distance from its home is wrong");
				htab_free(&t, &m);
				return;
			}
		}
		CHECK(t.count * 2 <= (size_t)t.mask + 1);		      /* never more than half full */
		CHECK(t.mask < 64 || t.count * 8 > (size_t)(t.mask + 1) / 2); /* nor sparse */
	}
	for (int k = 0; k < N; k++)
		if (in[k])
			htab_remove(&t, &m, &items[k].hn);
	CHECK_EQ(t.count, 0u);
	htab_free(&t, &m);
	CHECK_EQ(m.blocks, 0);
}

TEST(prng_is_deterministic)
{
	synack_prng a, b;
	synack_prng_seed(&a, 42);
	synack_prng_seed(&b, 42);
	for (int i = 0; i < 100; i++)
		CHECK(synack_prng_next(&a) == synack_prng_next(&b));
	synack_prng_seed(&b, 43);
	CHECK(synack_prng_next(&a) != synack_prng_next(&b));
	for (int i = 0; i < 1000; i++) {
		CHECK(synack_prng_below(&a, 7) < 7);
		double u = synack_prng_unit(&a);
		CHECK(u >= 0 && u < 1);
	}
}

/* The bounded builder: exact fits, one byte too many, stickiness, and
 * back-patched vectors (the TLS engine builds every vector this way). */
TEST(bbuf_writes_nothing_past_its_capacity)
{
	uint8_t mem[16];
	memset(mem, 0xa5, sizeof mem);
	struct bbuf b = bbuf_make(mem, 8);
	bbuf_u32(&b, 0x01020304);
	bbuf_u16(&b, 0x0506);
	bbuf_u8(&b, 7);
	CHECK(bbuf_ok(&b));
	CHECK_EQ(bbuf_room(&b), 1);
	bbuf_u16(&b, 0x0809); /* one byte too many: nothing written */
	CHECK(!bbuf_ok(&b));
	CHECK_EQ(b.len, 7);
	CHECK_EQ(bbuf_room(&b), 0);
	bbuf_u8(&b, 9); /* sticky: even a write that would fit is refused */
	CHECK_EQ(b.len, 7);
	CHECK(bbuf_reserve(&b, 0) == NULL);
	static const uint8_t want[7] = {1, 2, 3, 4, 5, 6, 7};
	CHECK_MEM(mem, want, 7);
	for (size_t i = 7; i < sizeof mem; i++)
		CHECK_EQ(mem[i], 0xa5);
}

TEST(bbuf_reserve_put_zero_and_big_endian)
{
	uint8_t mem[32];
	struct bbuf b = bbuf_make(mem, sizeof mem);
	uint8_t *p = bbuf_reserve(&b, 3);
	CHECK(p == mem);
	memcpy(p, "abc", 3);
	bbuf_put(&b, "de", 2);
	bbuf_zero(&b, 2);
	bbuf_u24(&b, 0x0a0b0c);
	bbuf_be(&b, 0x1122334455667788ull, 8);
	CHECK(bbuf_ok(&b));
	static const uint8_t want[] = {'a',  'b',  'c',	 'd',  'e',  0,	   0,	 0x0a, 0x0b,
				       0x0c, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88};
	CHECK_EQ(b.len, sizeof want);
	CHECK_MEM(mem, want, sizeof want);
	/* a source inside the buffer itself (quoting a packet in place) */
	bbuf_put(&b, mem, 5);
	CHECK_MEM(mem + sizeof want, "abcde", 5);
	/* a huge request cannot wrap the length arithmetic */
	CHECK(bbuf_reserve(&b, SIZE_MAX) == NULL);
	CHECK(!bbuf_ok(&b));
}

TEST(brd_reads_nothing_past_its_end)
{
	static const uint8_t in[] = {0x01, 0x02, 0x03, 0x00, 0x02, 'h', 'i', 0xff};
	struct brd r = brd_make(in, sizeof in);
	CHECK_EQ(brd_u8(&r), 1);
	CHECK_EQ(brd_u16(&r), 0x0203);
	struct brd v = brd_vec(&r, 2);
	CHECK(brd_ok(&v));
	CHECK_EQ(brd_left(&v), 2);
	const uint8_t *hi = brd_take(&v, 2);
	CHECK(hi && hi[0] == 'h' && hi[1] == 'i');
	CHECK(brd_done(&v));
	CHECK(!brd_done(&r));	  /* one byte left */
	CHECK_EQ(brd_u16(&r), 0); /* only one byte: fails, sticky */
	CHECK(!brd_ok(&r));
	CHECK_EQ(brd_left(&r), 0);
	CHECK_EQ(brd_u8(&r), 0);
	/* a vector whose length passes the end fails the reader and itself */
	static const uint8_t lie[] = {0x00, 0x05, 'a', 'b'};
	r = brd_make(lie, sizeof lie);
	v = brd_vec(&r, 2);
	CHECK(!brd_ok(&v));
	CHECK(!brd_ok(&r));
	CHECK(brd_take(&v, 0) == NULL);
	/* a 24-bit length and an empty reader */
	static const uint8_t u24[] = {0x00, 0x00, 0x01, 0x7f};
	r = brd_make(u24, sizeof u24);
	v = brd_vec(&r, 3);
	CHECK_EQ(brd_u8(&v), 0x7f);
	CHECK(brd_done(&v) && brd_done(&r));
	r = brd_make(NULL, 0);
	CHECK(brd_done(&r));
	CHECK_EQ(brd_u32(&r), 0);
	CHECK(!brd_ok(&r));
}

TEST(bbuf_vectors_back_patch_their_length)
{
	uint8_t mem[300];
	struct bbuf b = bbuf_make(mem, sizeof mem);
	size_t outer = bbuf_vec_open(&b, 2);
	bbuf_u8(&b, 0xee);
	size_t inner = bbuf_vec_open(&b, 1);
	bbuf_put(&b, "xyz", 3);
	bbuf_vec_close(&b, inner, 1);
	size_t empty = bbuf_vec_open(&b, 3);
	bbuf_vec_close(&b, empty, 3);
	bbuf_vec_close(&b, outer, 2);
	CHECK(bbuf_ok(&b));
	static const uint8_t want[] = {0, 8, 0xee, 3, 'x', 'y', 'z', 0, 0, 0};
	CHECK_EQ(b.len, sizeof want);
	CHECK_MEM(mem, want, sizeof want);
	/* 256 bytes in a vector with a one-byte length: an overflow */
	b = bbuf_make(mem, sizeof mem);
	size_t v = bbuf_vec_open(&b, 1);
	bbuf_zero(&b, 256);
	bbuf_vec_close(&b, v, 1);
	CHECK(!bbuf_ok(&b));
	/* 255 fit */
	b = bbuf_make(mem, sizeof mem);
	v = bbuf_vec_open(&b, 1);
	bbuf_zero(&b, 255);
	bbuf_vec_close(&b, v, 1);
	CHECK(bbuf_ok(&b));
	CHECK_EQ(mem[0], 255);
	/* a prefix that does not fit leaves the builder failed, close is a no-op */
	b = bbuf_make(mem, 1);
	v = bbuf_vec_open(&b, 2);
	bbuf_vec_close(&b, v, 2);
	CHECK(!bbuf_ok(&b));
	CHECK_EQ(b.len, 0);
}
