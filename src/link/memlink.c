/* The in-memory link: two ports joined on a virtual clock, with seeded,
 * reproducible impairments in each direction.
 *
 * Implementation notes
 *
 * Frames in flight. Every frame is copied at tx time into one malloc'd
 * block (header + bytes) and kept in a binary min-heap of pointers ordered by
 * (deliver time, sequence number). The sequence number grows with every copy
 * put on the link, so frames due at the same time arrive in send order.
 * Delivery pops a frame off the heap before calling the receiver and frees
 * it afterwards; the receiver may transmit (which may grow and reallocate
 * the heap) without invalidating anything we hold.
 *
 * Randomness. Each direction owns a synack_prng seeded from the creation
 * seed, so one direction's traffic never changes the other's fate. Every
 * frame offered to tx draws the same fixed set of values (loss, duplicate,
 * reorder, corrupt, two jitters, a bit position), whatever the impairments
 * and whatever happens to the frame: the fate of the n-th frame of a
 * direction depends on the seed and n only.
 *
 * Timing of one frame sent at `now` in one direction:
 *  1. queue: if `queue_limit` frames of this direction are already in
 *     flight, the frame is tail-dropped (counted, tx returns -ENOBUFS);
 *  2. serialisation: at rate_bps it starts when the previous frame has
 *     finished (kept exactly, as a whole microsecond plus a remainder, so
 *     many small frames do not drift) and takes len*8/rate_bps seconds;
 *  3. loss: a lost frame has used the wire but goes no further;
 *  4. propagation: + delay + uniform jitter in [0, jitter]. Jitter keeps
 *     the direction FIFO (a frame never overtakes an earlier one through
 *     jitter alone: its time is raised to the last in-order arrival), so
 *     the only reordering is the explicit kind;
 *  5. reordering: the frame gets reorder_delay added and stays out of the
 *     FIFO bookkeeping, so later frames overtake it;
 *  6. corruption flips one random bit of the copy; a duplicate carries the
 *     same bytes (damage upstream of the duplicating hop), arrives as an
 *     in-order frame with its own jitter, and is skipped if the queue is
 *     full.
 *
 * Clock. set_time()/deliver() set the link's clock, which stamps frames
 * sent. While a frame is handed to a receiver, the clock (and the `now`
 * passed to rx) is that frame's arrival time, so a reply is sent when the
 * frame arrived, not when the caller happened to call deliver().
 *
 * Bounds. At most queue_limit copies per direction are in flight, frames
 * are at most 65535 bytes (an IP packet, the pcap snaplen), and one deliver
 * call hands over at most DELIVER_BUDGET frames, so two receivers answering
 * each other with zero delay cannot spin forever: the rest stays due and
 * next_deadline() says so.
 *
 * Frames of more than POOL_MIN bytes are allocated at MAX_FRAME and kept
 * on a free list (POOL_MAX of them) for the next: a bulk transfer's 64 KiB
 * frames made glibc grow and trim its heap, with page faults, at every one.
 * Frames of SMALL_FRAME bytes or fewer (SYNs, ACKs, short requests) are
 * allocated at SMALL_FRAME and kept on a list of their own: crr made and
 * freed nine per connection.
 *
 * Offloads (synack_memlink_tx_meta), as the kernel's loopback: a frame
 * whose TCP checksum was left partial, or a TSO segment, travels as it is
 * and reaches a receiver attached with synack_memlink_attach_flags marked
 * SYNACK_RX_CSUM_OK: the link is memory, there is nothing to verify the
 * checksum against. Except where the direction corrupts frames, or the
 * receiver was attached without flags: there the link completes the
 * checksum (before the damage), and the receiver checks it as usual. Impairments act on the frame as sent (a
 * TSO segment is lost whole).
 *
 * Stats per direction: sent counts every frame offered to tx;
 * sent + duplicated = delivered + lost + queue_drops + in flight. bytes
 * counts bytes delivered. */
#include "synack/link.h"
#include "link/link_internal.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_QUEUE_LIMIT 4096u
#define MAX_FRAME	    65535u
#define POOL_MIN	    2048u
#define POOL_MAX	    64u
#define SMALL_FRAME	    256u
#define DELIVER_BUDGET	    (1u << 20)
#define DIR1_SEED_MIX	    0x6a09e667f3bcc909ull

struct mframe {
	struct link_timed at; /* first: the heap holds pointers to it */
	uint32_t len;
	uint8_t dir;   /* the sending port */
	uint8_t flags; /* enum synack_rx_flags for the receiver */
	uint8_t data[];
};

/* Freed frames of one size kept for the next (frame_pool). */
struct fpool {
	struct mframe *f[POOL_MAX];
	size_t n;
};

struct mport {
	synack_memlink *link;
	int index;
	synack_rx_fn rx;
	synack_rx_flags_fn rxf; /* or NULL */
	void *ctx;
};

struct mdir {
	synack_impair imp;
	synack_prng prng;
	synack_link_stats st;
	synack_time_t busy_until; /* previous frame finished serialising at */
	uint64_t busy_rem;	  /* ... busy_until + busy_rem / rate_bps us */
	synack_time_t fifo_tail;  /* latest arrival of an in-order frame */
	uint32_t in_flight, limit;
	bool bad; /* Gilbert-Elliott: in the bad state */
};

struct synack_memlink {
	synack_time_t now;
	uint64_t seq;
	struct mdir dir[2];
	struct mport port[2];
	struct link_timed **heap;
	size_t len, cap;
	synack_pcap *pcap;
	struct fpool big, small; /* free frames of MAX_FRAME and of SMALL_FRAME bytes */
};

/* ---- the heap, ordered by (when, seq) ---- */

static int heap_grow(synack_memlink *l)
{
	size_t cap = l->cap ? l->cap * 2 : 64;
	struct link_timed **v = realloc(l->heap, cap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	l->heap = v;
	l->cap = cap;
	return 0;
}

static int heap_push(synack_memlink *l, struct mframe *f)
{
	if (l->len == l->cap && heap_grow(l) < 0)
		return -ENOMEM;
	link_heap_push(l->heap, &l->len, &f->at);
	return 0;
}

static struct mframe *heap_pop(synack_memlink *l)
{
	return (struct mframe *)(void *)link_heap_pop(l->heap, &l->len);
}

/* ---- creation ---- */

static void dir_init(struct mdir *d, const synack_impair *im, uint64_t seed)
{
	if (im)
		d->imp = *im;
	d->limit = d->imp.queue_limit ? d->imp.queue_limit : DEFAULT_QUEUE_LIMIT;
	synack_prng_seed(&d->prng, seed);
}

int synack_memlink_create(uint64_t seed, const synack_impair *dir0, const synack_impair *dir1,
			  synack_memlink **out)
{
	if (!out || !link_impair_ok(dir0) || !link_impair_ok(dir1))
		return -EINVAL;
	synack_memlink *l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	dir_init(&l->dir[0], dir0, seed);
	dir_init(&l->dir[1], dir1, (seed ^ DIR1_SEED_MIX) * 0x9e3779b97f4a7c15ull);
	for (int i = 0; i < 2; i++) {
		l->port[i].link = l;
		l->port[i].index = i;
	}
	*out = l;
	return 0;
}

/* Frees every frame still in flight. Not to be called from inside rx. */
void synack_memlink_destroy(synack_memlink *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->len; i++)
		free(l->heap[i]);
	while (l->big.n)
		free(l->big.f[--l->big.n]);
	while (l->small.n)
		free(l->small.f[--l->small.n]);
	free(l->heap);
	free(l);
}

void synack_memlink_attach(synack_memlink *l, int port, synack_rx_fn rx, void *ctx)
{
	if (!l || (port != 0 && port != 1))
		return;
	l->port[port].rx = rx;
	l->port[port].rxf = NULL;
	l->port[port].ctx = ctx;
}

void synack_memlink_attach_flags(synack_memlink *l, int port, synack_rx_flags_fn rxf, void *ctx)
{
	if (!l || (port != 0 && port != 1))
		return;
	l->port[port].rx = NULL;
	l->port[port].rxf = rxf;
	l->port[port].ctx = ctx;
}

void *synack_memlink_port(synack_memlink *l, int port)
{
	if (!l || (port != 0 && port != 1))
		return NULL;
	return &l->port[port];
}

void synack_memlink_set_pcap(synack_memlink *l, synack_pcap *p)
{
	if (l)
		l->pcap = p;
}

/* ---- transmission ---- */

static void draw_fate(struct mdir *d, size_t len, struct link_fate *f)
{
	link_draw_fate(&d->imp, &d->prng, &d->bad, len, f);
}

static synack_time_t serialise(struct mdir *d, synack_time_t now, size_t len)
{
	return link_serialise(d->imp.rate_bps, &d->busy_until, &d->busy_rem, now, len);
}

/* The free list of frames of len bytes and the size such a frame is
 * allocated at (*size), or NULL: allocated at len, freed when done. */
static struct fpool *frame_pool(synack_memlink *l, size_t len, size_t *size)
{
	*size = len > POOL_MIN ? MAX_FRAME : len <= SMALL_FRAME ? SMALL_FRAME : len;
	return len > POOL_MIN ? &l->big : len <= SMALL_FRAME ? &l->small : NULL;
}

/* A frame of len bytes: the pieces v[0..n) end to end. */
static struct mframe *frame_new(synack_memlink *l, int dir, const synack_iov *v, int n, size_t len,
				uint8_t flags)
{
	size_t size;
	struct fpool *p = frame_pool(l, len, &size);
	struct mframe *f = p && p->n ? p->f[--p->n] : malloc(sizeof(*f) + size);
	if (!f)
		return NULL;
	f->len = (uint32_t)len;
	f->dir = (uint8_t)dir;
	f->flags = flags;
	for (size_t at = 0, k = 0; k < (size_t)n; at += v[k].len, k++)
		memcpy(f->data + at, v[k].base, v[k].len);
	return f;
}

static void frame_free(synack_memlink *l, struct mframe *f)
{
	size_t size;
	struct fpool *p = frame_pool(l, f->len, &size);
	if (p && p->n < POOL_MAX)
		p->f[p->n++] = f;
	else
		free(f);
}

/* Stamp and queue a copy; takes f (freed on failure). */
static int enqueue(synack_memlink *l, struct mdir *d, struct mframe *f, synack_time_t when)
{
	f->at.when = when;
	f->at.seq = l->seq++;
	if (heap_push(l, f) < 0) {
		frame_free(l, f);
		return -ENOMEM;
	}
	d->in_flight++;
	return 0;
}

/* An in-order copy never arrives before the previous in-order one. */
static synack_time_t fifo_time(struct mdir *d, synack_time_t t)
{
	if (t < d->fifo_tail)
		t = d->fifo_tail;
	d->fifo_tail = t;
	return t;
}

static synack_time_t first_copy_time(struct mdir *d, const struct link_fate *fa, synack_time_t arrive)
{
	synack_time_t t = link_time_add(arrive, fa->jitter[0]);
	if (!fa->reorder)
		return fifo_time(d, t);
	d->st.reordered++;
	return link_time_add(t, d->imp.reorder_delay);
}

static void maybe_duplicate(synack_memlink *l, struct mdir *d, const struct mframe *orig,
			    const struct link_fate *fa, synack_time_t arrive)
{
	if (!fa->dup || d->in_flight >= d->limit)
		return;
	synack_iov whole = {orig->data, orig->len};
	struct mframe *dup = frame_new(l, orig->dir, &whole, 1, orig->len, orig->flags);
	if (!dup)
		return;
	synack_time_t t = fifo_time(d, link_time_add(arrive, fa->jitter[1]));
	if (enqueue(l, d, dup, t) == 0)
		d->st.duplicated++;
}

static int put_on_wire(synack_memlink *l, int dir, const synack_iov *v, int n, size_t len, uint8_t flags,
		       const struct link_fate *fa, synack_time_t arrive)
{
	struct mdir *d = &l->dir[dir];
	struct mframe *f = frame_new(l, dir, v, n, len, flags);
	if (!f) {
		d->st.queue_drops++;
		return -ENOMEM;
	}
	if (fa->corrupt) {
		f->data[fa->bit / 8] ^= (uint8_t)(1u << (fa->bit % 8));
		d->st.corrupted++;
	}
	int err = enqueue(l, d, f, first_copy_time(d, fa, arrive));
	if (err < 0) {
		d->st.queue_drops++;
		return err;
	}
	maybe_duplicate(l, d, f, fa, arrive);
	return 0;
}

/* A copy of the frame v[0..n) (len bytes) with its partial TCP checksum
 * (the pseudo-header sum at start + offset) completed over start..len:
 * RFC 1071 arithmetic. */
static int complete_csum(const synack_iov *v, int n, size_t len, const synack_tx_meta *m, uint8_t **out)
{
	size_t at = (size_t)m->csum_start + m->csum_offset;
	if (at + 2 > len)
		return -EINVAL;
	uint8_t *c = malloc(len);
	if (!c)
		return -ENOMEM;
	for (size_t o = 0, k = 0; k < (size_t)n; o += v[k].len, k++)
		memcpy(c + o, v[k].base, v[k].len);
	uint64_t s = 0;
	for (size_t i = m->csum_start; i + 1 < len; i += 2)
		s += (uint32_t)(c[i] << 8 | c[i + 1]);
	if ((len - m->csum_start) & 1)
		s += (uint32_t)c[len - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	c[at] = (uint8_t)(~s >> 8);
	c[at + 1] = (uint8_t)~s;
	*out = c;
	return 0;
}

static int tx(struct mport *pt, const synack_iov *v, int n, size_t len, uint8_t flags);

int synack_memlink_tx_iov(void *port, const synack_iov *v, int n, const synack_tx_meta *m)
{
	struct mport *pt = port;
	size_t len = 0;
	if (!pt || !v || n < 1 || n > 8 || !m)
		return -EINVAL;
	for (int k = 0; k < n; k++)
		len += v[k].len;
	if (len == 0)
		return -EINVAL;
	if (!m->csum_start)
		return tx(pt, v, n, len, 0);
	/* the receiver must take the flag (attached with _flags), and the
	 * direction must not damage frames: else the checksum is finished here */
	if (!(pt->link->dir[pt->index].imp.corrupt > 0) && pt->link->port[!pt->index].rxf)
		return tx(pt, v, n, len, SYNACK_RX_CSUM_OK);
	uint8_t *c;
	int err = complete_csum(v, n, len, m, &c);
	if (err)
		return err;
	synack_iov whole = {c, len};
	err = tx(pt, &whole, 1, len, 0);
	free(c);
	return err;
}

int synack_memlink_tx_meta(void *port, const uint8_t *frame, size_t len, const synack_tx_meta *m)
{
	synack_iov whole = {frame, len};
	if (!frame)
		return -EINVAL;
	return synack_memlink_tx_iov(port, &whole, 1, m);
}

int synack_memlink_tx(void *port, const uint8_t *frame, size_t len)
{
	struct mport *pt = port;
	synack_iov whole = {frame, len};
	if (!pt || !frame || len == 0)
		return -EINVAL;
	return tx(pt, &whole, 1, len, 0);
}

/* The capture records the frame whole: pieces are put together first. */
static void capture(synack_memlink *l, const synack_iov *v, int n, size_t len)
{
	if (n == 1) {
		(void)synack_pcap_write(l->pcap, l->now, v[0].base, len);
		return;
	}
	uint8_t *c = malloc(len);
	if (!c)
		return;
	for (size_t o = 0, k = 0; k < (size_t)n; o += v[k].len, k++)
		memcpy(c + o, v[k].base, v[k].len);
	(void)synack_pcap_write(l->pcap, l->now, c, len);
	free(c);
}

static int tx(struct mport *pt, const synack_iov *v, int n, size_t len, uint8_t flags)
{
	if (len > MAX_FRAME)
		return -EMSGSIZE;
	synack_memlink *l = pt->link;
	struct mdir *d = &l->dir[pt->index];
	struct link_fate fa;
	d->st.sent++;
	/* The capture shows what the stack sent, at the time it sent it: frames
	 * later lost, corrupted or tail-dropped by the link are recorded too.
	 * A capture write error is sticky in the pcap and reported at close. */
	if (l->pcap)
		capture(l, v, n, len);
	draw_fate(d, len, &fa);
	if (d->in_flight >= d->limit) {
		d->st.queue_drops++;
		return -ENOBUFS;
	}
	synack_time_t arrive = link_time_add(serialise(d, l->now, len), d->imp.delay);
	if (fa.lost) {
		d->st.lost++;
		return 0;
	}
	return put_on_wire(l, pt->index, v, n, len, flags, &fa, arrive);
}

/* ---- delivery ---- */

void synack_memlink_set_time(synack_memlink *l, synack_time_t now)
{
	if (l)
		l->now = now;
}

static void deliver_one(synack_memlink *l, struct mframe *f)
{
	struct mdir *d = &l->dir[f->dir];
	struct mport *to = &l->port[!f->dir];
	d->in_flight--;
	d->st.delivered++;
	d->st.bytes += f->len;
	l->now = f->at.when;
	if (to->rxf)
		to->rxf(to->ctx, f->data, f->len, f->flags, f->at.when);
	else if (to->rx)
		to->rx(to->ctx, f->data, f->len, f->at.when);
}

size_t synack_memlink_deliver(synack_memlink *l, synack_time_t now)
{
	size_t n = 0;
	if (!l)
		return 0;
	l->now = now;
	while (n < DELIVER_BUDGET && l->len && l->heap[0]->when <= now) {
		struct mframe *f = heap_pop(l); /* off the heap before rx may grow it */
		deliver_one(l, f);
		frame_free(l, f);
		n++;
	}
	l->now = now;
	return n;
}

synack_time_t synack_memlink_next_deadline(const synack_memlink *l)
{
	return l && l->len ? l->heap[0]->when : SYNACK_TIME_NEVER;
}

size_t synack_memlink_in_flight(const synack_memlink *l)
{
	return l ? l->len : 0;
}

void synack_memlink_stats(const synack_memlink *l, int port, synack_link_stats *out)
{
	if (!out)
		return;
	if (!l || (port != 0 && port != 1)) {
		memset(out, 0, sizeof(*out));
		return;
	}
	*out = l->dir[port].st;
}
