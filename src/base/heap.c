/* Indexed binary min-heap: O(log n) insert, move and remove of deadlines.
 * The array holds {deadline, item} pairs; an item knows its position. */
#include <errno.h>
#include <string.h>

#include "base/base.h"

static void place(struct heap *h, uint32_t i, struct heap_ent e)
{
	h->v[i] = e;
	e.n->index = i + 1;
}

static void sift_up(struct heap *h, uint32_t i)
{
	struct heap_ent e = h->v[i];
	while (i > 0) {
		uint32_t p = (i - 1) / 2;
		if (h->v[p].when <= e.when)
			break;
		place(h, i, h->v[p]);
		i = p;
	}
	place(h, i, e);
}

static void sift_down(struct heap *h, uint32_t i)
{
	struct heap_ent e = h->v[i];
	for (;;) {
		uint32_t c = 2 * i + 1;
		if (c >= h->len)
			break;
		if (c + 1 < h->len && h->v[c + 1].when < h->v[c].when)
			c++;
		if (e.when <= h->v[c].when)
			break;
		place(h, i, h->v[c]);
		i = c;
	}
	place(h, i, e);
}

static void heap_remove(struct heap *h, struct heap_node *n)
{
	uint32_t i = n->index - 1;
	struct heap_ent last = h->v[--h->len];
	n->index = 0;
	if (last.n == n)
		return;
	place(h, i, last);
	sift_up(h, i);
	sift_down(h, last.n->index - 1);
}

static int heap_resize(struct heap *h, struct mem *m, uint32_t cap)
{
	struct heap_ent *v = mem_alloc(m, cap * sizeof *v);
	if (!v)
		return -ENOMEM;
	if (h->len)
		memcpy(v, h->v, h->len * sizeof *v);
	mem_free(m, h->v, h->cap * sizeof *v);
	h->v = v;
	h->cap = cap;
	return 0;
}

int heap_reserve(struct heap *h, struct mem *m)
{
	return h->len < h->cap ? 0 : heap_resize(h, m, h->cap ? h->cap * 2 : 64);
}

int heap_set(struct heap *h, struct mem *m, struct heap_node *n, synack_time_t when)
{
	if (n->index) {
		if (h->v[n->index - 1].when == when)
			return 0;
		heap_remove(h, n);
	}
	if (when == SYNACK_TIME_NEVER) {
		/* a quarter full: half the array, so that the deadlines of a
		 * burst of connections give their memory back (a failed shrink
		 * changes nothing) */
		if (h->cap > 64 && h->len * 4 <= h->cap)
			(void)heap_resize(h, m, h->cap / 2);
		return 0;
	}
	if (heap_reserve(h, m) < 0)
		return -ENOMEM;
	h->len++;
	place(h, h->len - 1, (struct heap_ent){.when = when, .n = n});
	sift_up(h, h->len - 1);
	return 0;
}

void heap_free(struct heap *h, struct mem *m)
{
	mem_free(m, h->v, h->cap * sizeof *h->v);
	memset(h, 0, sizeof *h);
}

/* ---- deadline queue (base.h) ---- */

/* Move the items, in order and without the holes, to an array of cap
 * entries (a power of two, at least live). */
static int dlq_resize(struct dlq *q, struct mem *m, uint32_t cap)
{
	struct heap_ent *v = mem_alloc(m, (size_t)cap * sizeof *v);
	if (!v)
		return -ENOMEM;
	uint32_t k = 0;
	for (uint32_t i = 0; i < q->len; i++) {
		struct heap_ent e = q->v[(q->head + i) & (q->cap - 1)];
		if (e.n) {
			v[k] = e;
			e.n->index = ++k;
		}
	}
	mem_free(m, q->v, (size_t)q->cap * sizeof *v);
	q->v = v;
	q->cap = cap;
	q->head = 0;
	q->len = k;
	return 0;
}

int dlq_reserve(struct dlq *q, struct mem *m)
{
	if (q->len < q->cap)
		return 0;
	if (q->cap && q->live * 2 <= q->cap)
		return dlq_resize(q, m, q->cap); /* half holes: close them up */
	return q->cap > UINT32_MAX / 2 ? -ENOMEM : dlq_resize(q, m, q->cap ? q->cap * 2 : 64);
}

synack_time_t dlq_push(struct dlq *q, struct heap_node *n, synack_time_t when)
{
	uint32_t i = (q->head + q->len) & (q->cap - 1);
	if (q->len)
		when = MAX(when, q->v[(i - 1) & (q->cap - 1)].when);
	q->v[i] = (struct heap_ent){.when = when, .n = n};
	n->index = i + 1;
	q->len++;
	q->live++;
	return when;
}

void dlq_remove(struct dlq *q, struct mem *m, struct heap_node *n)
{
	if (!n->index)
		return;
	q->v[n->index - 1].n = NULL;
	n->index = 0;
	q->live--;
	/* the front and the back are never holes */
	while (q->len && !q->v[q->head].n) {
		q->head = (q->head + 1) & (q->cap - 1);
		q->len--;
	}
	while (q->len && !q->v[(q->head + q->len - 1) & (q->cap - 1)].n)
		q->len--;
	if (q->cap > 64 && q->len * 4 <= q->cap) { /* to half full at least */
		uint32_t cap = q->cap / 2;
		while (cap > 64 && q->len * 4 <= cap)
			cap /= 2;
		(void)dlq_resize(q, m, cap); /* (a failed shrink changes nothing) */
	}
}

void dlq_free(struct dlq *q, struct mem *m)
{
	mem_free(m, q->v, (size_t)q->cap * sizeof *q->v);
	memset(q, 0, sizeof *q);
}
