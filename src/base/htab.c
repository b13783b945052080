/* Hash table: open addressing with linear probing (Knuth, TAOCP vol. 3,
 * 6.4 algorithm L), at most half full, so an unsuccessful search reads
 * about 2.5 slots (8 bytes each: one cache line). Removal shifts the
 * entries after the hole back (algorithm R), so no tombstones accumulate:
 * tables of connections see as many removals as insertions.
 *
 * A slot is the node's address in its low 48 bits (base.h), the top 8 bits
 * of its hash as a tag in the top 8, and between them its distance from its
 * home slot (255: that far or farther). A search compares tags and reads a
 * node only when its tag matches (a false match once in 256 probes of an
 * occupied slot, about 1.5 per search); a removal finds the home of each
 * entry it may shift back from the distance, without reading the node: with
 * a million connections each of those reads was a cold TCB, a cache miss
 * (crr_1m, docs/BENCH.md). 16-byte slots {hash, node} would cost twice the
 * memory: 16 to 32 bytes per entry now. */
#include <errno.h>

#include "base/base.h"

#define ADDR_BITS  48
#define ADDR_MASK  ((UINT64_C(1) << ADDR_BITS) - 1)
#define DIST_SHIFT ADDR_BITS
#define DIST_MAX   255u /* the distance is this or more: read the node's hash */
#define DIST_MASK  ((uint64_t)DIST_MAX << DIST_SHIFT)
#define TAG_SHIFT  56

static inline struct hnode *node_of(uint64_t slot)
{
	return (struct hnode *)(uintptr_t)(slot & ADDR_MASK);
}

static inline uint64_t tag_of(uint64_t hash)
{
	return hash >> TAG_SHIFT << TAG_SHIFT;
}

static inline uint64_t with_dist(uint64_t slot, uint32_t d)
{
	return (slot & ~DIST_MASK) | (uint64_t)MIN(d, DIST_MAX) << DIST_SHIFT;
}

/* The home slot of the entry in slot j. */
static inline uint32_t home_of(const uint64_t *s, uint32_t mask, uint32_t j)
{
	uint32_t d = (uint32_t)((s[j] & DIST_MASK) >> DIST_SHIFT);
	if (d < DIST_MAX)
		return (j - d) & mask;
	return (uint32_t)node_of(s[j])->hash & mask;
}

static void place(uint64_t *s, uint32_t mask, struct hnode *n)
{
	uint32_t i = (uint32_t)n->hash & mask, d = 0;
	while (s[i]) {
		i = (i + 1) & mask;
		d++;
	}
	s[i] = with_dist(tag_of(n->hash) | (uint64_t)(uintptr_t)n, d);
}

/* Rebuild with ns slots (a power of two). Reads every node's hash. */
static int resize(struct htab *t, struct mem *m, uint32_t ns)
{
	uint64_t *s = mem_alloc(m, (size_t)ns * sizeof *s);
	if (!s)
		return -ENOMEM;
	for (uint32_t i = 0; t->mask && i <= t->mask; i++)
		if (t->s[i])
			place(s, ns - 1, node_of(t->s[i]));
	if (t->mask)
		mem_free(m, t->s, ((size_t)t->mask + 1) * sizeof *t->s);
	t->s = s;
	t->mask = ns - 1;
	return 0;
}

static int htab_grow(struct htab *t, struct mem *m)
{
	uint32_t ns = t->mask ? (t->mask + 1) * 2 : 64;
	return ns ? resize(t, m, ns) : -ENOMEM; /* 2^32 slots: no more */
}

int htab_insert(struct htab *t, struct mem *m, struct hnode *n, uint64_t hash)
{
	if ((!t->mask || (uint64_t)(t->count + 1) * 2 > (uint64_t)t->mask + 1) && htab_grow(t, m) < 0)
		return -ENOMEM; /* never fuller than half: the probes stay short */
	if ((uint64_t)(uintptr_t)n > ADDR_MASK)
		return -ENOMEM; /* (never: malloc stays below 2^48 unless asked) */
	n->hash = hash;
	place(t->s, t->mask, n);
	t->count++;
	return 0;
}

/* The slot holding n, or -1. */
static int64_t slot_of(const struct htab *t, const struct hnode *n)
{
	if (!t->mask)
		return -1;
	for (uint32_t i = (uint32_t)n->hash & t->mask; t->s[i]; i = (i + 1) & t->mask)
		if (node_of(t->s[i]) == n)
			return i;
	return -1;
}

void htab_remove(struct htab *t, struct mem *m, struct hnode *n)
{
	int64_t at = slot_of(t, n);
	if (at < 0)
		return;
	uint32_t i = (uint32_t)at, j = i;
	for (;;) {
		j = (j + 1) & t->mask;
		if (!t->s[j])
			break;
		uint32_t k = home_of(t->s, t->mask, j); /* where j's entry wants to be */
		/* it stays if its home lies cyclically in (i, j] */
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		t->s[i] = with_dist(t->s[j], (i - k) & t->mask);
		i = j;
	}
	t->s[i] = 0;
	t->count--;
	/* an eighth full: half the slots (a quarter full then), so a table a
	 * flood grew gives its memory back; a failed shrink changes nothing */
	if (t->mask + 1 > 64 && (uint64_t)t->count * 8 <= (uint64_t)t->mask + 1)
		(void)resize(t, m, (t->mask + 1) / 2);
}

static struct hnode *scan(const struct htab *t, uint32_t i, uint64_t hash)
{
	uint64_t tag = tag_of(hash);
	for (; t->s[i]; i = (i + 1) & t->mask) {
		if ((t->s[i] >> TAG_SHIFT << TAG_SHIFT) != tag)
			continue;
		struct hnode *n = node_of(t->s[i]);
		if (n->hash == hash)
			return n;
	}
	return NULL;
}

struct hnode *htab_first(const struct htab *t, uint64_t hash)
{
	return t->mask ? scan(t, (uint32_t)hash & t->mask, hash) : NULL;
}

struct hnode *htab_next(const struct htab *t, struct hnode *n, uint64_t hash)
{
	int64_t at = slot_of(t, n);
	return at < 0 ? NULL : scan(t, ((uint32_t)at + 1) & t->mask, hash);
}

void htab_free(struct htab *t, struct mem *m)
{
	if (t->mask)
		mem_free(m, t->s, ((size_t)t->mask + 1) * sizeof *t->s);
	t->s = NULL;
	t->mask = 0;
	t->count = 0;
}
