/* The seeded fate of a frame and a serialising link's clock, one
 * implementation for the in-memory link and the decorator (link_internal.h). */
#include <string.h>

#include "link/link_internal.h"

static synack_time_t draw_jitter(synack_prng *p, synack_time_t jitter)
{
	if (jitter <= 0) {
		(void)synack_prng_next(p); /* keep the number of draws per frame fixed */
		return 0;
	}
	return (synack_time_t)synack_prng_below(p, (uint64_t)jitter + 1);
}

void link_draw_fate(const synack_impair *imp, synack_prng *p, bool *bad, size_t len, struct link_fate *f)
{
	/* A direction without random impairments draws nothing: no draw could
	 * change a frame's fate, and nothing else reads its generator (one per
	 * direction, its settings fixed at creation). */
	if (imp->loss <= 0 && imp->p_good_to_bad <= 0 && imp->duplicate <= 0 && imp->reorder <= 0 &&
	    imp->corrupt <= 0 && imp->jitter <= 0) {
		*bad = false;
		memset(f, 0, sizeof *f);
		return;
	}
	double loss = imp->loss;
	bool in_bad = false;
	if (imp->p_good_to_bad > 0) { /* Gilbert-Elliott: step the chain */
		double u = synack_prng_unit(p);
		*bad = *bad ? u >= imp->p_bad_to_good : u < imp->p_good_to_bad;
		in_bad = *bad;
		if (in_bad)
			loss = imp->loss_in_bad;
	} else {
		*bad = false;
	}
	f->lost = synack_prng_unit(p) < loss;
	f->burst = f->lost && in_bad;
	f->dup = synack_prng_unit(p) < imp->duplicate;
	f->reorder = synack_prng_unit(p) < imp->reorder;
	f->corrupt = synack_prng_unit(p) < imp->corrupt;
	f->jitter[0] = draw_jitter(p, imp->jitter);
	f->jitter[1] = draw_jitter(p, imp->jitter);
	f->bit = synack_prng_below(p, (uint64_t)len * 8);
}

synack_time_t link_serialise(uint64_t rate, synack_time_t *busy_until, uint64_t *busy_rem, synack_time_t now,
			     size_t len)
{
	if (!rate)
		return now;
	synack_time_t free_at = link_time_add(*busy_until, *busy_rem ? 1 : 0);
	if (now >= free_at) {
		*busy_until = now;
		*busy_rem = 0;
	}
	unsigned __int128 num = (unsigned __int128)*busy_rem + (unsigned __int128)len * 8 * 1000000u;
	*busy_until = link_time_add(*busy_until, (synack_time_t)(num / rate));
	*busy_rem = (uint64_t)(num % rate);
	return link_time_add(*busy_until, *busy_rem ? 1 : 0);
}

static bool before(const struct link_timed *a, const struct link_timed *b)
{
	return a->when < b->when || (a->when == b->when && a->seq < b->seq);
}

static void swap(struct link_timed **v, size_t i, size_t j)
{
	struct link_timed *t = v[i];
	v[i] = v[j];
	v[j] = t;
}

void link_heap_push(struct link_timed **v, size_t *len, struct link_timed *x)
{
	size_t i = (*len)++;
	v[i] = x;
	while (i > 0 && before(v[i], v[(i - 1) / 2])) {
		swap(v, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

struct link_timed *link_heap_pop(struct link_timed **v, size_t *len)
{
	struct link_timed *top = v[0];
	size_t i = 0, n = --(*len);
	v[0] = v[n];
	for (;;) {
		size_t c = 2 * i + 1, m = i;
		if (c < n && before(v[c], v[m]))
			m = c;
		if (c + 1 < n && before(v[c + 1], v[m]))
			m = c + 1;
		if (m == i)
			return top;
		swap(v, i, m);
		i = m;
	}
}

static bool prob_ok(double p)
{
	return p >= 0.0 && p <= 1.0; /* false for NaN */
}

static bool delay_ok(synack_time_t t)
{
	return t >= 0 && t <= SYNACK_SEC(86400);
}

bool link_impair_ok(const synack_impair *m)
{
	return !m ||
	       (prob_ok(m->loss) && prob_ok(m->duplicate) && prob_ok(m->reorder) && prob_ok(m->corrupt) &&
		prob_ok(m->p_good_to_bad) && prob_ok(m->p_bad_to_good) && prob_ok(m->loss_in_bad) &&
		delay_ok(m->delay) && delay_ok(m->jitter) && delay_ok(m->reorder_delay));
}
