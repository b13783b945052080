/* The fault-injection decorator (include/synack/impair.h).
 *
 * Implementation notes
 *
 * Two directions, each on its own: a synack_impair, a generator seeded
 * from the creation seed (the RX seed mixed, so that one direction's
 * traffic never changes the other's fate), statistics, and a binary
 * min-heap of held copies ordered by (due time, sequence number), the heap
 * array allocated once with room for queue_limit copies: holding never
 * allocates more than the copy itself.
 *
 * Randomness. Every frame offered draws the same fixed set of values
 * (the Gilbert-Elliott step when burst loss is on, loss, duplicate,
 * reorder, corrupt, two jitters, a bit position) whatever happens to the
 * frame: the in-memory link's code (link_draw_fate, src/link/fate.c), so
 * a decorator and a memory link with the same seed and settings decide
 * alike.
 *
 * Timing of one frame offered at `now` (the in-memory link's model):
 *  1. serialisation: at rate_bps it starts when the previous frame has
 *     finished (kept exactly, as microseconds plus a remainder) and takes
 *     len*8/rate_bps seconds;
 *  2. loss (random, or in the bad state of the burst chain): the frame
 *     has used the wire and goes no further;
 *  3. propagation: + delay + uniform jitter in [0, jitter]; jitter keeps
 *     the direction FIFO (a frame's time is raised to the last in-order
 *     one's), so the only reordering is the explicit kind;
 *  4. reordering: + reorder_delay, outside the FIFO bookkeeping;
 *  5. corruption flips one bit of the copy; a duplicate carries the same
 *     bytes, with its own jitter, in order.
 * A copy due at or before now is passed on during the call, after every
 * held copy of its direction that is due too (flushed first), so nothing
 * is overtaken that should not be. Otherwise it is held (tail drop when
 * queue_limit copies are held already).
 *
 * Re-entrancy. Passing an RX frame to the stack may make it send (TX);
 * that only touches the TX heap. A direction being flushed is never
 * flushed again from inside (the busy flag). */
#include "synack/impair.h"
#include "link/link_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_QUEUE_LIMIT 4096u
#define MAX_FRAME	    65535u
#define RX_SEED_MIX	    0x3c6ef372fe94f82bull

struct held {
	struct link_timed at; /* first: the heap holds pointers to it */
	uint32_t len;
	uint8_t data[];
};

struct idir {
	synack_impair imp;
	synack_prng prng;
	synack_impair_stats st;
	bool bad;		  /* Gilbert-Elliott state */
	bool busy;		  /* being flushed */
	synack_time_t busy_until; /* previous frame finished serialising at */
	uint64_t busy_rem;	  /* ... busy_until + busy_rem / rate_bps us */
	synack_time_t fifo_tail;  /* latest due time of an in-order copy */
	struct link_timed **heap;
	size_t len;
	uint32_t limit;
};

struct synack_impairer {
	synack_impairer_config cfg;
	synack_time_t now;
	uint64_t seq;
	struct idir dir[2];
};

/* ---- memory ---- */

static void *mem_get(const synack_impairer *im, size_t size)
{
	const synack_allocator *a = im->cfg.alloc;
	return a && a->alloc ? a->alloc(a->ctx, size) : malloc(size);
}

static void mem_put(const synack_impairer *im, void *p, size_t size)
{
	const synack_allocator *a = im->cfg.alloc;
	if (!p)
		return;
	if (a && a->free)
		a->free(a->ctx, p, size);
	else
		free(p);
}

static void held_free(const synack_impairer *im, struct held *h)
{
	if (h)
		mem_put(im, h, sizeof(*h) + h->len);
}

/* ---- the heap of held copies (link_heap_*, fate.c) ---- */

/* The caller checked that len < limit. */
static void heap_push(struct idir *d, struct held *h)
{
	link_heap_push(d->heap, &d->len, &h->at);
}

static struct held *heap_pop(struct idir *d)
{
	return (struct held *)(void *)link_heap_pop(d->heap, &d->len);
}

/* ---- creation ---- */

bool synack_impair_active(const synack_impair *m)
{
	return m && (m->loss > 0 || m->duplicate > 0 || m->reorder > 0 || m->corrupt > 0 || m->delay > 0 ||
		     m->jitter > 0 || m->rate_bps > 0 || m->p_good_to_bad > 0);
}

static int dir_init(synack_impairer *im, int i, uint64_t seed)
{
	struct idir *d = &im->dir[i];
	d->imp = im->cfg.dir[i];
	d->limit = d->imp.queue_limit ? d->imp.queue_limit : DEFAULT_QUEUE_LIMIT;
	synack_prng_seed(&d->prng, seed);
	d->heap = mem_get(im, (size_t)d->limit * sizeof(*d->heap));
	return d->heap ? 0 : -ENOMEM;
}

int synack_impairer_create(const synack_impairer_config *cfg, synack_impairer **out)
{
	if (!out || !cfg || !cfg->tx || !link_impair_ok(&cfg->dir[0]) || !link_impair_ok(&cfg->dir[1]))
		return -EINVAL;
	*out = NULL;
	const synack_allocator *a = cfg->alloc;
	synack_impairer *im = a && a->alloc ? a->alloc(a->ctx, sizeof(*im)) : malloc(sizeof(*im));
	if (!im)
		return -ENOMEM;
	memset(im, 0, sizeof(*im));
	im->cfg = *cfg;
	int err = dir_init(im, SYNACK_IMPAIR_TX, cfg->seed);
	if (!err)
		err = dir_init(im, SYNACK_IMPAIR_RX, (cfg->seed ^ RX_SEED_MIX) * 0x9e3779b97f4a7c15ull);
	if (err) {
		synack_impairer_destroy(im);
		return err;
	}
	*out = im;
	return 0;
}

void synack_impairer_destroy(synack_impairer *im)
{
	if (!im)
		return;
	for (int i = 0; i < 2; i++) {
		struct idir *d = &im->dir[i];
		for (size_t k = 0; k < d->len; k++)
			held_free(im, (struct held *)(void *)d->heap[k]);
		mem_put(im, d->heap, (size_t)d->limit * sizeof(*d->heap));
	}
	mem_put(im, im, sizeof(*im));
}

void synack_impairer_set_rx(synack_impairer *im, synack_rx_fn rx, void *ctx)
{
	if (!im)
		return;
	im->cfg.rx = rx;
	im->cfg.rx_ctx = ctx;
}

void synack_impairer_set_time(synack_impairer *im, synack_time_t now)
{
	if (im)
		im->now = now;
}

static synack_time_t clock_now(synack_impairer *im)
{
	if (im->cfg.clock)
		im->now = im->cfg.clock(im->cfg.clock_ctx);
	return im->now;
}

/* ---- the fate of a frame ---- */

static void draw_fate(struct idir *d, size_t len, struct link_fate *f)
{
	link_draw_fate(&d->imp, &d->prng, &d->bad, len, f);
}

static synack_time_t serialise(struct idir *d, synack_time_t now, size_t len)
{
	return link_serialise(d->imp.rate_bps, &d->busy_until, &d->busy_rem, now, len);
}

/* An in-order copy is never due before the previous in-order one. */
static synack_time_t fifo_time(struct idir *d, synack_time_t t)
{
	if (t < d->fifo_tail)
		t = d->fifo_tail;
	d->fifo_tail = t;
	return t;
}

/* ---- passing on and holding ---- */

static int pass_on(synack_impairer *im, int dir, const uint8_t *frame, size_t len, synack_time_t now)
{
	struct idir *d = &im->dir[dir];
	d->st.passed++;
	d->st.bytes += len;
	if (dir == SYNACK_IMPAIR_TX)
		return im->cfg.tx(im->cfg.tx_ctx, frame, len);
	if (im->cfg.rx)
		im->cfg.rx(im->cfg.rx_ctx, frame, len, now);
	return 0;
}

static size_t flush_dir(synack_impairer *im, int dir, synack_time_t now)
{
	struct idir *d = &im->dir[dir];
	size_t n = 0;
	if (d->busy)
		return 0;
	d->busy = true;
	while (d->len && d->heap[0]->when <= now) {
		struct held *h = heap_pop(d); /* off the heap before passing it on */
		(void)pass_on(im, dir, h->data, h->len, now);
		held_free(im, h);
		n++;
	}
	d->busy = false;
	return n;
}

static struct held *held_new(synack_impairer *im, const uint8_t *frame, size_t len)
{
	struct held *h = mem_get(im, sizeof(*h) + len);
	if (!h)
		return NULL;
	h->len = (uint32_t)len;
	memcpy(h->data, frame, len);
	return h;
}

/* Pass on at once (if due) or hold a copy; flip points to a bit to flip
 * or is NULL. Returns what pass_on returned, or -ENOBUFS for a tail drop. */
static int deliver_at(synack_impairer *im, int dir, const uint8_t *frame, size_t len, const uint64_t *flip,
		      synack_time_t when)
{
	struct idir *d = &im->dir[dir];
	synack_time_t now = im->now;
	if (when <= now && !flip)
		return pass_on(im, dir, frame, len, now);
	if (when > now && d->len >= d->limit) {
		d->st.queue_drops++;
		return -ENOBUFS;
	}
	struct held *h = held_new(im, frame, len);
	if (!h) {
		d->st.queue_drops++;
		return -ENOBUFS;
	}
	if (flip)
		h->data[*flip / 8] ^= (uint8_t)(1u << (*flip % 8));
	if (when <= now) {
		int err = pass_on(im, dir, h->data, h->len, now);
		held_free(im, h);
		return err;
	}
	h->at.when = when;
	h->at.seq = im->seq++;
	heap_push(d, h);
	d->st.delayed++;
	return 0;
}

static int offer(synack_impairer *im, int dir, const uint8_t *frame, size_t len)
{
	struct idir *d = &im->dir[dir];
	struct link_fate fa;
	d->st.offered++;
	draw_fate(d, len, &fa);
	flush_dir(im, dir, im->now);
	synack_time_t arrive = link_time_add(serialise(d, im->now, len), d->imp.delay);
	if (fa.lost) {
		d->st.lost++;
		d->st.burst_lost += fa.burst;
		return 0;
	}
	synack_time_t t = link_time_add(arrive, fa.jitter[0]);
	if (fa.reorder) {
		d->st.reordered++;
		t = link_time_add(t, d->imp.reorder_delay);
	} else {
		t = fifo_time(d, t);
	}
	d->st.corrupted += fa.corrupt;
	int err = deliver_at(im, dir, frame, len, fa.corrupt ? &fa.bit : NULL, t);
	if (err == -ENOBUFS || !fa.dup)
		return err;
	/* The duplicate is the same bytes: damage upstream of the duplicating hop. */
	synack_time_t t2 = fifo_time(d, link_time_add(arrive, fa.jitter[1]));
	if (d->len < d->limit || t2 <= im->now) {
		d->st.duplicated++;
		(void)deliver_at(im, dir, frame, len, fa.corrupt ? &fa.bit : NULL, t2);
	}
	return err;
}

int synack_impairer_tx(void *impairer, const uint8_t *frame, size_t len)
{
	synack_impairer *im = impairer;
	if (!im || !frame || len == 0)
		return -EINVAL;
	if (len > MAX_FRAME)
		return -EMSGSIZE;
	clock_now(im);
	return offer(im, SYNACK_IMPAIR_TX, frame, len);
}

void synack_impairer_rx(synack_impairer *im, const uint8_t *frame, size_t len, synack_time_t now)
{
	if (!im || !frame || len == 0 || len > MAX_FRAME)
		return;
	im->now = now;
	(void)offer(im, SYNACK_IMPAIR_RX, frame, len);
}

size_t synack_impairer_flush(synack_impairer *im, synack_time_t now)
{
	if (!im)
		return 0;
	im->now = now;
	size_t n = flush_dir(im, SYNACK_IMPAIR_TX, now);
	return n + flush_dir(im, SYNACK_IMPAIR_RX, now);
}

synack_time_t synack_impairer_next_deadline(const synack_impairer *im)
{
	synack_time_t t = SYNACK_TIME_NEVER;
	for (int i = 0; im && i < 2; i++)
		if (im->dir[i].len && im->dir[i].heap[0]->when < t)
			t = im->dir[i].heap[0]->when;
	return t;
}

size_t synack_impairer_held(const synack_impairer *im, int dir)
{
	return im && (dir == 0 || dir == 1) ? im->dir[dir].len : 0;
}

void synack_impairer_stats(const synack_impairer *im, int dir, synack_impair_stats *out)
{
	if (!out)
		return;
	if (!im || (dir != 0 && dir != 1)) {
		memset(out, 0, sizeof(*out));
		return;
	}
	*out = im->dir[dir].st;
}
