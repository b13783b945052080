/* src/base: small building blocks of the core. None of them reads a clock,
 * touches a file descriptor or keeps mutable global state. */
#ifndef SYNACK_BASE_H
#define SYNACK_BASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "synack/types.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
/* MIN and MAX evaluate each argument once (MIN(f(), g()) calls each
 * function once): _Generic picks the inline function of the arguments'
 * common type, the type the usual arithmetic conversions give (a) + (b),
 * which is also the type of the result. */
/* (kept by hand: clang-format 14 scatters the _Generic list) */
/* clang-format off */
#define SYNACK_MINMAX(T, name)                                                                  \
	static inline T min_##name(T a, T b) { return a < b ? a : b; }                          \
	static inline T max_##name(T a, T b) { return a > b ? a : b; }
SYNACK_MINMAX(int, int)
SYNACK_MINMAX(unsigned, uint)
SYNACK_MINMAX(long, long)
SYNACK_MINMAX(unsigned long, ulong)
SYNACK_MINMAX(long long, llong)
SYNACK_MINMAX(unsigned long long, ullong)
SYNACK_MINMAX(double, double)
#undef SYNACK_MINMAX
#define SYNACK_PICK_(x, f)                                                                      \
	_Generic((x), int: f##_int, unsigned: f##_uint, long: f##_long, unsigned long: f##_ulong,       \
		 long long: f##_llong, unsigned long long: f##_ullong, double: f##_double)
#define MIN(a, b) SYNACK_PICK_((a) + (b), min)((a), (b))
#define MAX(a, b) SYNACK_PICK_((a) + (b), max)((a), (b))
/* clang-format on */
/* synack_addr_equal inline, for the lookups of every segment: the 16
 * address bytes as two words. */
static inline bool addr_eq(const synack_addr *a, const synack_addr *b)
{
	uint64_t x[2], y[2];
	__builtin_memcpy(x, a->bytes, 16);
	__builtin_memcpy(y, b->bytes, 16);
	return a->family == b->family && ((x[0] ^ y[0]) | (x[1] ^ y[1])) == 0;
}
#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

/* An internal invariant broken (a bug, never bad input): the caller has
 * already counted and recovered; debug and test builds (-DSYNACK_DEBUG:
 * SAN=1, the fuzz targets) stop at once so the bug cannot go unseen. */
#ifdef SYNACK_DEBUG
void synack_debug_fail(const char *file, int line, const char *what) __attribute__((noreturn));
#define SYNACK_DEBUG_FAIL(what) synack_debug_fail(__FILE__, __LINE__, what)
#else
#define SYNACK_DEBUG_FAIL(what) ((void)0)
#endif

/* ---- counted allocator: every block is accounted so tests can assert that
 * everything came back (DESIGN.md principle 3). ---- */
enum { MEM_CACHE_SLOTS = 4, MEM_CACHE_MIN = 4096, MEM_CACHE_BYTES = 8u << 20 };
struct mem {
	synack_allocator a;
	size_t bytes, blocks;
	/* large data buffers given back, kept for the next of the same size
	 * (mem_buf_get); counted in bytes and blocks */
	struct {
		void *p;
		size_t size;
	} cache[MEM_CACHE_SLOTS];
	size_t ncache, cached;
};
void mem_init(struct mem *m, const synack_allocator *a);
void *mem_alloc(struct mem *m, size_t size);	 /* zeroed; NULL on failure */
void *mem_alloc_raw(struct mem *m, size_t size); /* not zeroed (data buffers) */
void mem_free(struct mem *m, void *p, size_t size);
/* Data buffers (the rings): like mem_alloc_raw and mem_free, but a freed
 * buffer of MEM_CACHE_MIN bytes or more is kept (up to MEM_CACHE_SLOTS of
 * them, MEM_CACHE_BYTES in all) for the next one of the same size. A bulk
 * sender whose send queue runs dry between the application's writes would
 * otherwise give megabytes back to the OS and fault them in again each
 * time: with TSO that was half the CPU of a TUN transfer. A short
 * connection's first ring buffers (4 KiB, ring.c) are kept too: crr
 * allocated and freed four per connection. mem_buf_drain frees what is
 * kept (when the stack goes). */
void *mem_buf_get(struct mem *m, size_t size, size_t *got); /* *got: its size, size..2 * size */
void mem_buf_put(struct mem *m, void *p, size_t size);
void mem_buf_drain(struct mem *m);

/* ---- SipHash-2-4 (Aumasson, Bernstein) for ISNs and hash tables ---- */
uint64_t siphash24(const uint8_t key[16], const void *data, size_t len);
/* SipHash-1-3: keyed, for hash-table indexes only (not a PRF to rely on). */
uint64_t siphash13(const uint8_t key[16], const void *data, size_t len);

/* ---- indexed binary min-heap of deadlines. Items embed a heap_node (4
 * bytes: an item out of the heap costs no more); the deadline lives in the
 * heap's array beside the item's address, so sifting reads no item. ---- */
struct heap_node {
	uint32_t index; /* position + 1; 0 = not in the heap */
};
struct heap_ent {
	synack_time_t when;
	struct heap_node *n;
};
struct heap {
	struct heap_ent *v;
	uint32_t len, cap;
};
/* Insert, move or remove (when == SYNACK_TIME_NEVER) a node. -ENOMEM on
 * failure to grow (the node is then left out). */
int heap_set(struct heap *h, struct mem *m, struct heap_node *n, synack_time_t when);
/* Room for one more item, so that the next insert cannot fail: 0 or -ENOMEM. */
int heap_reserve(struct heap *h, struct mem *m);
static inline struct heap_node *heap_top(const struct heap *h)
{
	return h->len ? h->v[0].n : NULL;
}
/* The earliest deadline, SYNACK_TIME_NEVER when empty. */
static inline synack_time_t heap_top_when(const struct heap *h)
{
	return h->len ? h->v[0].when : SYNACK_TIME_NEVER;
}
/* n's deadline, SYNACK_TIME_NEVER when not in the heap. */
static inline synack_time_t heap_when(const struct heap *h, const struct heap_node *n)
{
	return n->index ? h->v[n->index - 1].when : SYNACK_TIME_NEVER;
}
void heap_free(struct heap *h, struct mem *m);

/* ---- deadline queue: deadlines that come in order (each no earlier than
 * the one before, as a TIME-WAIT's entry time + 2*MSL), so the earliest is
 * the oldest: push, pop and removal are O(1) and touch no other item (a
 * heap's sift writes the index of every item it moves, each a cache miss
 * when the items are many). A removed item leaves a hole the front skips.
 * Items embed the same heap_node (index = array position + 1). ---- */
struct dlq {
	struct heap_ent *v;
	uint32_t head, len, cap; /* len counts holes too, from head */
	uint32_t live;		 /* items in the queue */
};
/* Room for one more item, so that the next push cannot fail: 0 or -ENOMEM. */
int dlq_reserve(struct dlq *q, struct mem *m);
/* Append n (not in the queue; after dlq_reserve) with deadline `when`,
 * raised to the last deadline in the queue if earlier, so that the queue
 * stays in order. Returns the deadline n got. */
synack_time_t dlq_push(struct dlq *q, struct heap_node *n, synack_time_t when);
/* Take n out (nothing if it is not in); shrinks the array when a quarter full. */
void dlq_remove(struct dlq *q, struct mem *m, struct heap_node *n);
/* The i-th entry from the front (i < len), NULL for a hole. */
static inline struct heap_node *dlq_at(const struct dlq *q, uint32_t i)
{
	return q->v[(q->head + i) & (q->cap - 1)].n;
}
static inline struct heap_node *dlq_top(const struct dlq *q)
{
	return q->len ? dlq_at(q, 0) : NULL; /* (the front is never a hole) */
}
static inline synack_time_t dlq_top_when(const struct dlq *q)
{
	return q->len ? q->v[q->head].when : SYNACK_TIME_NEVER;
}
/* The latest deadline in the queue, 0 when empty (no push is raised). */
static inline synack_time_t dlq_last_when(const struct dlq *q)
{
	return q->len ? q->v[(q->head + q->len - 1) & (q->cap - 1)].when : 0;
}
static inline synack_time_t dlq_when(const struct dlq *q, const struct heap_node *n)
{
	return n->index ? q->v[n->index - 1].when : SYNACK_TIME_NEVER;
}
void dlq_free(struct dlq *q, struct mem *m);

/* ---- byte ring with a fixed capacity, allocated on first use and freed
 * when empty (idle connections hold no buffers). Offsets are relative to
 * the ring's head (the oldest byte). ---- */
struct ring {
	uint8_t *buf;
	uint32_t cap;  /* capacity when allocated */
	uint32_t head; /* index of the oldest byte */
	uint32_t len;  /* contiguous bytes from head */
	uint32_t hint; /* the size it had when last freed: a ring that runs dry
			* between bursts takes that again, not RING_FIRST */
};
/* The bytes from offset off on in one piece: their start in *p, their
 * count (up to the wrap or the end) returned. */
uint32_t ring_view(const struct ring *r, uint32_t off, const uint8_t **p);
/* Append up to n bytes; returns how many fit (cap - len). */
uint32_t ring_push(struct ring *r, struct mem *m, uint32_t cap, const void *src, uint32_t n);
/* Write n bytes at offset off >= len (beyond the data, for out-of-order
 * bytes); off + n <= cap. Does not change len. */
int ring_write_at(struct ring *r, struct mem *m, uint32_t cap, uint32_t off, const void *src, uint32_t n);
/* Copy n bytes starting at offset off (off + n <= cap, region valid). */
void ring_peek(const struct ring *r, uint32_t off, void *dst, uint32_t n);
/* Drop n bytes from the head; frees the buffer when it becomes empty and
 * keep_ooo is false. */
void ring_consume(struct ring *r, struct mem *m, uint32_t n, bool keep);
/* Extend len by n (bytes already written with ring_write_at). */
static inline void ring_extend(struct ring *r, uint32_t n)
{
	r->len += n;
}
void ring_free(struct ring *r, struct mem *m);
/* A larger capacity for an allocated ring, contents (to the old capacity,
 * out-of-order bytes included) kept at their offsets; 0 or -ENOMEM. An
 * unallocated ring takes the new size when first used. */
int ring_grow(struct ring *r, struct mem *m, uint32_t cap);

/* ---- bounded byte builder (bbuf.c): a pointer, a capacity, a length and a
 * sticky overflow flag. A write that would pass the capacity writes
 * nothing and sets the flag; later writes are no-ops. Check bbuf_ok()
 * once before the bytes are used. Borrowed memory: the builder never
 * allocates. ---- */
struct bbuf {
	uint8_t *p;    /* start of the buffer */
	size_t cap;    /* bytes available at p */
	size_t len;    /* bytes written */
	bool overflow; /* sticky: something did not fit */
};
static inline struct bbuf bbuf_make(void *p, size_t cap)
{
	return (struct bbuf){.p = p, .cap = cap};
}
static inline bool bbuf_ok(const struct bbuf *b)
{
	return !b->overflow;
}
/* Bytes that still fit (0 once overflowed). */
static inline size_t bbuf_room(const struct bbuf *b)
{
	return b->overflow ? 0 : b->cap - b->len;
}
/* n bytes at the end, to be filled by the caller; NULL (and the flag set)
 * if they do not fit. Inline: every header field of every segment passes
 * here. */
static inline uint8_t *bbuf_reserve(struct bbuf *b, size_t n)
{
	if (b->overflow || n > b->cap - b->len) {
		b->overflow = true;
		return NULL;
	}
	uint8_t *p = b->p + b->len;
	b->len += n;
	return p;
}
/* Append n bytes (src may point into the buffer itself), or n zero bytes. */
static inline void bbuf_put(struct bbuf *b, const void *src, size_t n)
{
	uint8_t *p = bbuf_reserve(b, n);
	if (p && n)
		__builtin_memmove(p, src, n); /* src may alias the buffer (quoting a packet) */
}
static inline void bbuf_zero(struct bbuf *b, size_t n)
{
	uint8_t *p = bbuf_reserve(b, n);
	if (p && n)
		__builtin_memset(p, 0, n);
}
/* Take n bytes at the end whole, for a fixed-size header, and return a
 * builder over exactly them; if they do not fit, nothing is taken and the
 * returned builder is already overflowed (so is b). */
static inline struct bbuf bbuf_sub(struct bbuf *b, size_t n)
{
	uint8_t *p = bbuf_reserve(b, n);
	struct bbuf s = {.p = p, .cap = p ? n : 0, .overflow = !p};
	return s;
}
/* Append v big-endian in width bytes (1..8). */
static inline void bbuf_be(struct bbuf *b, uint64_t v, unsigned width)
{
	uint8_t *p = bbuf_reserve(b, width);
	if (!p)
		return;
	for (unsigned i = 0; i < width; i++)
		p[i] = (uint8_t)(v >> (8 * (width - 1 - i)));
}
static inline void bbuf_u8(struct bbuf *b, uint8_t v)
{
	bbuf_be(b, v, 1);
}
static inline void bbuf_u16(struct bbuf *b, uint16_t v)
{
	bbuf_be(b, v, 2);
}
static inline void bbuf_u24(struct bbuf *b, uint32_t v)
{
	bbuf_be(b, v, 3);
}
static inline void bbuf_u32(struct bbuf *b, uint32_t v)
{
	bbuf_be(b, v, 4);
}
/* A vector with a width-byte length prefix (TLS's <0..2^8-1> ... <0..2^24-1>):
 * open reserves the prefix and returns a mark; close writes the length of
 * what was appended since. Content longer than the prefix can express is an
 * overflow. */
size_t bbuf_vec_open(struct bbuf *b, unsigned width);
void bbuf_vec_close(struct bbuf *b, size_t mark, unsigned width);

/* ---- bounded byte reader: the parsing twin of the builder. A pointer, a
 * length, an offset and a sticky error flag. A read past the end returns
 * zeros (or NULL), reads nothing and sets the flag; later reads fail too.
 * Check brd_ok() (or brd_done(): ok and every byte consumed) once after a
 * structure has been read. TLS vectors open as sub-readers, so no parser
 * computes a length by hand. Borrowed memory. ---- */
struct brd {
	const uint8_t *p; /* start of the bytes */
	size_t len;	  /* bytes at p */
	size_t off;	  /* bytes consumed */
	bool bad;	  /* sticky: a read did not fit */
};
static inline struct brd brd_make(const void *p, size_t len)
{
	return (struct brd){.p = (const uint8_t *)p, .len = len};
}
static inline bool brd_ok(const struct brd *r)
{
	return !r->bad;
}
static inline size_t brd_left(const struct brd *r)
{
	return r->bad ? 0 : r->len - r->off;
}
/* ok and nothing left over: a structure parsed exactly. */
static inline bool brd_done(const struct brd *r)
{
	return !r->bad && r->off == r->len;
}
/* n bytes in place, or NULL (and the flag set) if fewer remain. */
static inline const uint8_t *brd_take(struct brd *r, size_t n)
{
	if (r->bad || n > r->len - r->off) {
		r->bad = true;
		return NULL;
	}
	const uint8_t *q = r->p + r->off;
	r->off += n;
	return q;
}
/* A big-endian integer of width bytes (1..8); 0 on failure. */
static inline uint64_t brd_be(struct brd *r, unsigned width)
{
	const uint8_t *q = brd_take(r, width);
	uint64_t v = 0;
	for (unsigned i = 0; q && i < width; i++)
		v = v << 8 | q[i];
	return v;
}
static inline uint8_t brd_u8(struct brd *r)
{
	return (uint8_t)brd_be(r, 1);
}
static inline uint16_t brd_u16(struct brd *r)
{
	return (uint16_t)brd_be(r, 2);
}
static inline uint32_t brd_u24(struct brd *r)
{
	return (uint32_t)brd_be(r, 3);
}
static inline uint32_t brd_u32(struct brd *r)
{
	return (uint32_t)brd_be(r, 4);
}
/* The next n bytes as a reader of their own (failed if they are not all
 * there; so is r). */
static inline struct brd brd_sub(struct brd *r, size_t n)
{
	const uint8_t *q = brd_take(r, n);
	return (struct brd){.p = q, .len = q ? n : 0, .bad = !q};
}
/* A vector with a width-byte length prefix, as a reader over its content. */
static inline struct brd brd_vec(struct brd *r, unsigned width)
{
	size_t n = (size_t)brd_be(r, width);
	return brd_sub(r, n);
}

/* ---- hash table of nodes keyed by a 64-bit hash: open addressing,
 * linear probing, 8-byte slots. A slot holds the node's address with the
 * hash's top 8 bits and the entry's distance from its home slot in the
 * pointer's unused top 16 (user addresses fit in 48 bits on x86-64 and
 * arm64), so a lookup reads the slot array and touches only the node whose
 * tag matches, and a removal reads no node (with a million connections,
 * following a chain through cold TCBs was a cache miss each). Linux and
 * glibc never place a heap allocation above 2^48 unless an mmap() hint asks
 * for it (5-level paging); a node there is refused (-ENOMEM). ---- */
struct hnode {
	uint64_t hash;
};
struct htab {
	uint64_t *s;   /* 0: empty; else tag << 56 | distance << 48 | address */
	uint32_t mask; /* slots - 1 (power of two), 0 when unallocated */
	uint32_t count;
};
int htab_insert(struct htab *t, struct mem *m, struct hnode *n, uint64_t hash);
void htab_remove(struct htab *t, struct mem *m, struct hnode *n);
/* First node with this hash (iterate with htab_next for collisions). */
struct hnode *htab_first(const struct htab *t, uint64_t hash);
struct hnode *htab_next(const struct htab *t, struct hnode *n, uint64_t hash);
/* Start loading the slot a lookup of this hash reads first (several
 * lookups' cache misses then overlap). */
static inline void htab_prefetch(const struct htab *t, uint64_t hash)
{
	if (t->mask)
		__builtin_prefetch(&t->s[hash & t->mask]);
}
void htab_free(struct htab *t, struct mem *m);

#endif
