/* Sorted, disjoint sequence ranges: the receiver's out-of-order data (RFC
 * 2018 §4 reports it) and the sender's SACK scoreboard (RFC 6675 §3) are
 * both such a list. The array is allocated on the first range and grows by
 * doubling up to the caller's limit, so a connection that never saw a
 * hole holds nothing; it goes when the connection does (tcp_ranges_free). */
#include <string.h>

#include "tcp/tcp_internal.h"

enum { RANGES_FIRST_CAP = 4 };

static uint32_t overlap(uint32_t a0, uint32_t a1, uint32_t b0, uint32_t b1)
{
	uint32_t lo = seq_max(a0, b0), hi = seq_min(a1, b1);
	return seq_lt(lo, hi) ? hi - lo : 0;
}

uint32_t tcp_ranges_in(const struct tcp_ranges *s, uint32_t a, uint32_t b)
{
	uint32_t n = 0;
	for (int i = 0; i < s->n; i++)
		n += overlap(a, b, s->r[i][0], s->r[i][1]);
	return n;
}

static bool ranges_grow(struct tcp_ranges *s, struct mem *m, uint16_t max)
{
	uint32_t cap =
	    s->cap ? MIN(2u * s->cap, (uint32_t)max) : MIN((uint32_t)RANGES_FIRST_CAP, (uint32_t)max);
	if (cap <= s->cap)
		return false;
	uint32_t(*r)[2] = mem_alloc(m, cap * sizeof r[0]);
	if (!r)
		return false;
	if (s->n)
		memcpy(r, s->r, s->n * sizeof r[0]);
	if (s->r)
		mem_free(m, s->r, s->cap * sizeof r[0]);
	s->r = r;
	s->cap = (uint16_t)cap;
	return true;
}

int tcp_ranges_add(struct tcp_ranges *s, struct mem *m, uint16_t max, uint32_t l, uint32_t r)
{
	int n = s->n, i = 0;
	while (i < n && seq_lt(s->r[i][1], l))
		i++;
	int j = i;
	while (j < n && seq_leq(s->r[j][0], r)) {
		l = seq_min(l, s->r[j][0]);
		r = seq_max(r, s->r[j][1]);
		j++;
	}
	if (j == i && n >= s->cap && !ranges_grow(s, m, max))
		return -ENOSPC; /* a new range and no room */
	memmove(&s->r[i + 1], &s->r[j], (size_t)(n - j) * sizeof s->r[0]);
	s->r[i][0] = l;
	s->r[i][1] = r;
	s->n = (uint16_t)(n - (j - i) + 1);
	return i;
}

void tcp_ranges_remove(struct tcp_ranges *s, int i)
{
	memmove(&s->r[i], &s->r[i + 1], (size_t)(s->n - i - 1) * sizeof s->r[0]);
	s->n--;
}

void tcp_ranges_free(struct tcp_ranges *s, struct mem *m)
{
	if (s->r)
		mem_free(m, s->r, s->cap * sizeof s->r[0]);
	memset(s, 0, sizeof *s);
}
