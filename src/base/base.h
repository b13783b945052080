/* src/base: small building blocks of the core. None of them reads a clock,
 * touches a file descriptor or keeps mutable global state. */
#ifndef SYNACK_BASE_H
#define SYNACK_BASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "synack/types.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

/* ---- counted allocator: every block is accounted so tests can assert that
 * everything came back (DESIGN.md principle 3). ---- */
struct mem {
	synack_allocator a;
	size_t bytes, blocks;
};
void mem_init(struct mem *m, const synack_allocator *a);
void *mem_alloc(struct mem *m, size_t size);  /* zeroed; NULL on failure */
void *mem_alloc_raw(struct mem *m, size_t size); /* not zeroed (data buffers) */
void mem_free(struct mem *m, void *p, size_t size);

/* ---- SipHash-2-4 (Aumasson, Bernstein) for ISNs and hash tables ---- */
uint64_t siphash24(const uint8_t key[16], const void *data, size_t len);

/* ---- indexed binary min-heap of deadlines. Items embed a heap_node. ---- */
struct heap_node {
	synack_time_t when;
	uint32_t index; /* position + 1; 0 = not in the heap */
};
struct heap {
	struct heap_node **v;
	uint32_t len, cap;
};
/* Insert, move or remove (when == SYNACK_TIME_NEVER) a node. -ENOMEM on
 * failure to grow (the node is then left out). */
int heap_set(struct heap *h, struct mem *m, struct heap_node *n, synack_time_t when);
static inline struct heap_node *heap_top(const struct heap *h) { return h->len ? h->v[0] : NULL; }
void heap_free(struct heap *h, struct mem *m);

/* ---- byte ring with a fixed capacity, allocated on first use and freed
 * when empty (idle connections hold no buffers). Offsets are relative to
 * the ring's head (the oldest byte). ---- */
struct ring {
	uint8_t *buf;
	uint32_t cap;  /* capacity when allocated */
	uint32_t head; /* index of the oldest byte */
	uint32_t len;  /* contiguous bytes from head */
};
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
static inline void ring_extend(struct ring *r, uint32_t n) { r->len += n; }
void ring_free(struct ring *r, struct mem *m);

/* ---- intrusive chained hash table keyed by a 64-bit hash. ---- */
struct hnode {
	struct hnode *next;
	uint64_t hash;
};
struct htab {
	struct hnode **b;
	uint32_t mask;  /* buckets - 1 (power of two), 0 when unallocated */
	uint32_t count;
};
int htab_insert(struct htab *t, struct mem *m, struct hnode *n, uint64_t hash);
void htab_remove(struct htab *t, struct hnode *n);
/* First node with this hash (iterate with htab_next for collisions). */
struct hnode *htab_first(const struct htab *t, uint64_t hash);
struct hnode *htab_next(struct hnode *n, uint64_t hash);
void htab_free(struct htab *t, struct mem *m);

#endif
