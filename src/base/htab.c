/* Hash table: open addressing with linear probing (Knuth, TAOCP vol. 3,
 * 6.4 algorithm L), at most half full, so an unsuccessful search reads
 * about 2.5 slots (16 bytes each: a cache line or two). Removal shifts the
 * entries after the hole back (algorithm R), so no tombstones accumulate:
 * tables of connections see as many removals as insertions. */
#include <errno.h>

#include "base/base.h"

static void place(struct hslot *s, uint32_t mask, uint64_t hash, struct hnode *n)
{
	uint32_t i = (uint32_t)hash & mask;
	while (s[i].n)
		i = (i + 1) & mask;
	s[i].hash = hash;
	s[i].n = n;
}

/* Rebuild with ns slots (a power of two). */
static int resize(struct htab *t, struct mem *m, uint32_t ns)
{
	struct hslot *s = mem_alloc(m, (size_t)ns * sizeof *s);
	if (!s)
		return -ENOMEM;
	for (uint32_t i = 0; t->mask && i <= t->mask; i++)
		if (t->s[i].n)
			place(s, ns - 1, t->s[i].hash, t->s[i].n);
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
	n->hash = hash;
	place(t->s, t->mask, hash, n);
	t->count++;
	return 0;
}

/* The slot holding n, or -1. */
static int64_t slot_of(const struct htab *t, const struct hnode *n)
{
	if (!t->mask)
		return -1;
	for (uint32_t i = (uint32_t)n->hash & t->mask; t->s[i].n; i = (i + 1) & t->mask)
		if (t->s[i].n == n)
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
		if (!t->s[j].n)
			break;
		uint32_t k = (uint32_t)t->s[j].hash & t->mask; /* where j's entry wants to be */
		/* it stays if its home lies cyclically in (i, j] */
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		t->s[i] = t->s[j];
		i = j;
	}
	t->s[i].n = NULL;
	t->count--;
	/* an eighth full: half the slots (a quarter full then), so a table a
	 * flood grew gives its memory back; a failed shrink changes nothing */
	if (t->mask + 1 > 64 && (uint64_t)t->count * 8 <= (uint64_t)t->mask + 1)
		(void)resize(t, m, (t->mask + 1) / 2);
}

static struct hnode *scan(const struct htab *t, uint32_t i, uint64_t hash)
{
	for (; t->s[i].n; i = (i + 1) & t->mask)
		if (t->s[i].hash == hash)
			return t->s[i].n;
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
