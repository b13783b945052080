/* Intrusive chained hash table; grows by doubling at load factor 1. */
#include <errno.h>

#include "base/base.h"

static int htab_grow(struct htab *t, struct mem *m)
{
	uint32_t nb = t->mask ? (t->mask + 1) * 2 : 64;
	struct hnode **b = mem_alloc(m, nb * sizeof *b);
	if (!b)
		return -ENOMEM;
	for (uint32_t i = 0; t->mask && i <= t->mask; i++) {
		struct hnode *n = t->b[i];
		while (n) {
			struct hnode *next = n->next;
			struct hnode **head = &b[n->hash & (nb - 1)];
			n->next = *head;
			*head = n;
			n = next;
		}
	}
	if (t->mask)
		mem_free(m, t->b, (t->mask + 1) * sizeof *t->b);
	t->b = b;
	t->mask = nb - 1;
	return 0;
}

int htab_insert(struct htab *t, struct mem *m, struct hnode *n, uint64_t hash)
{
	if ((!t->mask || t->count > t->mask) && htab_grow(t, m) < 0 && !t->mask)
		return -ENOMEM;
	n->hash = hash;
	struct hnode **head = &t->b[hash & t->mask];
	n->next = *head;
	*head = n;
	t->count++;
	return 0;
}

void htab_remove(struct htab *t, struct hnode *n)
{
	struct hnode **pp = &t->b[n->hash & t->mask];
	while (*pp && *pp != n)
		pp = &(*pp)->next;
	if (*pp) {
		*pp = n->next;
		t->count--;
	}
	n->next = NULL;
}

struct hnode *htab_first(const struct htab *t, uint64_t hash)
{
	if (!t->mask)
		return NULL;
	struct hnode *n = t->b[hash & t->mask];
	while (n && n->hash != hash)
		n = n->next;
	return n;
}

struct hnode *htab_next(struct hnode *n, uint64_t hash)
{
	for (n = n->next; n && n->hash != hash; n = n->next)
		;
	return n;
}

void htab_free(struct htab *t, struct mem *m)
{
	if (t->mask)
		mem_free(m, t->b, (t->mask + 1) * sizeof *t->b);
	t->b = NULL;
	t->mask = 0;
	t->count = 0;
}
