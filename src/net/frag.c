/* IPv4 and IPv6 fragment reassembly: see frag.h for the contract.
 *
 * Implementation notes.
 *
 * Each datagram in progress is one allocation (struct frag_dgram, with its
 * fragment list as a flexible array of lim.max_frags ranges) plus one
 * contiguous reassembly buffer (RFC 1122 3.3.2 IMPLEMENTATION: "a contiguous
 * reassembly buffer for each datagram"). Every fragment's bytes are copied
 * once, to their place in that buffer; the finished datagram is handed out
 * from it. The buffer grows by doubling until the last fragment tells the
 * exact size (then it is sized exactly); a growth moves the bytes already
 * received, so in-order arrival copies each byte at most twice on average.
 * During a growth the old and new buffers coexist for a moment, so the
 * allocator may briefly see lim.max_bytes plus one old buffer (< 64 KiB).
 *
 * Because overlaps discard the datagram (RFC 5722), the queued fragments are
 * disjoint: the datagram is complete when the end is known and the byte
 * count received equals it, with no hole list to maintain (the simplest
 * bookkeeping RFC 1122 3.3.2 asks for). The sorted range list exists to
 * detect overlaps and exact duplicates (RFC 8200 4.5 allows dropping those
 * alone) and to move only received bytes when the buffer grows.
 *
 * Datagrams sit on one list, oldest first: eviction takes the head. The
 * table holds at most lim.max_datagrams entries, so lookup and the next
 * deadline are linear scans over a small bounded list (no hash to flood). */
#include <errno.h>
#include <string.h>

#include "net/frag.h"

_Static_assert((int)SYNACK_DROP_FIRST_ > (int)FRAG_DONE,
	       "drop ids must not collide with FRAG_QUEUED/FRAG_DONE");

#define FRAG_MAX_LEN	65535u /* RFC 791 Total Length, RFC 8200 Payload Length: 16 bits */
#define FRAG_MAX_OFFSET 8191u  /* 13-bit Fragment Offset field */
#define FRAG_MIN_CAP	1024u  /* smallest reassembly buffer */

struct frag_range {
	uint32_t start, end; /* bytes [start, end) of the datagram's data */
};

struct frag_dgram {
	struct frag_dgram *prev, *next; /* table list, oldest first */
	struct frag_key key;
	synack_time_t deadline;
	uint8_t *buf;
	uint32_t cap;	   /* bytes allocated at buf */
	uint32_t total;	   /* data length, once has_last */
	uint32_t received; /* bytes queued (fragments are disjoint) */
	uint32_t max_end;  /* largest end queued */
	uint32_t nfrags;   /* fragments queued (frames, zero-length last included) */
	bool has_last, has_first;
	bool l2_group; /* the offset-0 fragment came in a link-layer group frame */
	uint8_t proto; /* Next Header / protocol of the offset-0 fragment */
	uint16_t hdr_len;
	uint8_t hdr[FRAG_HDR_SAVE];
	struct frag_range frags[]; /* nfrags entries sorted by start, max_frags allocated */
};

struct frag_table {
	struct mem *mem;
	struct frag_limits lim;
	uint64_t *counters;
	struct frag_dgram *head, *tail;
	uint32_t count;
	size_t bytes;		 /* struct and buffers of every datagram, held included */
	struct frag_dgram *held; /* handed out through frag_done, freed at the next call */
};

void frag_limits_default(struct frag_limits *lim)
{
	lim->max_datagrams = 64;
	lim->max_bytes = 1u << 20;
	/* 64 KiB in fragments of a 576-byte datagram (RFC 791's size every host
	 * must accept) needs 119 fragments. */
	lim->max_frags = 128;
	/* RFC 1122 3.3.2 recommends 60-120 s, but a long lifetime makes the
	 * 16-bit IPv4 Identification wrap onto live datagrams at high rates
	 * (RFC 4963 section 2); Linux and the BSDs use 30 s. */
	lim->timeout_v4 = SYNACK_SEC(30);
	lim->timeout_v6 = SYNACK_SEC(60); /* RFC 8200 4.5 */
}

static size_t dgram_size(const struct frag_table *ft)
{
	return sizeof(struct frag_dgram) + ft->lim.max_frags * sizeof(struct frag_range);
}

int frag_table_create(struct mem *m, const struct frag_limits *lim, uint64_t *counters,
		      struct frag_table **out)
{
	*out = NULL;
	if (!lim->max_datagrams || lim->max_frags < 2 || lim->max_frags > FRAG_MAX_OFFSET + 1 || !counters)
		return -EINVAL;
	if (lim->timeout_v4 <= 0 || lim->timeout_v6 <= 0)
		return -EINVAL;
	if (lim->max_bytes <
	    sizeof(struct frag_dgram) + lim->max_frags * sizeof(struct frag_range) + FRAG_MIN_CAP)
		return -EINVAL;
	struct frag_table *ft = mem_alloc(m, sizeof *ft);
	if (!ft)
		return -ENOMEM;
	ft->mem = m;
	ft->lim = *lim;
	ft->counters = counters;
	*out = ft;
	return 0;
}

/* ---- datagram list ---- */

static void dgram_unlink(struct frag_table *ft, struct frag_dgram *d)
{
	if (d->prev)
		d->prev->next = d->next;
	else
		ft->head = d->next;
	if (d->next)
		d->next->prev = d->prev;
	else
		ft->tail = d->prev;
	d->prev = d->next = NULL;
	ft->count--;
}

static void dgram_free(struct frag_table *ft, struct frag_dgram *d)
{
	ft->bytes -= dgram_size(ft) + d->cap;
	mem_free(ft->mem, d->buf, d->cap);
	mem_free(ft->mem, d, dgram_size(ft));
}

/* Unlink and free a datagram, counting each of its queued fragments as a
 * frame dropped for `why`. */
static void dgram_discard(struct frag_table *ft, struct frag_dgram *d, enum synack_counter why)
{
	ft->counters[why] += d->nfrags;
	dgram_unlink(ft, d);
	dgram_free(ft, d);
}

void frag_release(struct frag_table *ft)
{
	if (ft->held) {
		dgram_free(ft, ft->held);
		ft->held = NULL;
	}
}

void frag_table_destroy(struct frag_table *ft)
{
	if (!ft)
		return;
	frag_release(ft);
	while (ft->head)
		dgram_discard(ft, ft->head, SYNACK_DROP_FRAG_TIMEOUT);
	mem_free(ft->mem, ft, sizeof *ft);
}

uint32_t frag_datagrams(const struct frag_table *ft)
{
	return ft->count;
}
size_t frag_bytes(const struct frag_table *ft)
{
	return ft->bytes;
}

/* Evict the oldest datagram other than `keep`; false if there is none. */
static bool evict_oldest(struct frag_table *ft, const struct frag_dgram *keep)
{
	struct frag_dgram *d = ft->head;
	if (d == keep && d)
		d = d->next;
	if (!d)
		return false;
	dgram_discard(ft, d, SYNACK_DROP_FRAG_EVICTED);
	return true;
}

/* Make room for `more` bytes under the budget by evicting older datagrams. */
static bool make_room(struct frag_table *ft, const struct frag_dgram *keep, size_t more)
{
	while (ft->bytes + more > ft->lim.max_bytes)
		if (!evict_oldest(ft, keep))
			return false;
	return true;
}

/* ---- lookup and creation ---- */

/* RFC 791: source, destination, protocol, identification. RFC 8200 4.5:
 * source, destination, identification (Next Header may differ). */
static bool key_match(const struct frag_key *a, const struct frag_key *b)
{
	if (a->family != b->family || a->id != b->id)
		return false;
	if (a->family == SYNACK_AF_INET && a->proto != b->proto)
		return false;
	return synack_addr_equal(&a->src, &b->src) && synack_addr_equal(&a->dst, &b->dst);
}

static struct frag_dgram *lookup(const struct frag_table *ft, const struct frag_key *k)
{
	for (struct frag_dgram *d = ft->head; d; d = d->next)
		if (key_match(&d->key, k))
			return d;
	return NULL;
}

static synack_time_t deadline_after(const struct frag_table *ft, synack_time_t now, uint8_t family)
{
	synack_time_t t = family == SYNACK_AF_INET6 ? ft->lim.timeout_v6 : ft->lim.timeout_v4;
	return now > SYNACK_TIME_NEVER - t ? SYNACK_TIME_NEVER - 1 : now + t;
}

/* A new, empty datagram at the tail (newest). RFC 8200 4.5: the timer runs
 * from the first-arriving fragment and is never restarted. */
static struct frag_dgram *dgram_create(struct frag_table *ft, synack_time_t now, const struct frag_key *k)
{
	if (ft->count >= ft->lim.max_datagrams)
		evict_oldest(ft, NULL);
	if (!make_room(ft, NULL, dgram_size(ft)))
		return NULL;
	struct frag_dgram *d = mem_alloc(ft->mem, dgram_size(ft));
	if (!d)
		return NULL;
	ft->bytes += dgram_size(ft);
	d->key = *k;
	d->deadline = deadline_after(ft, now, k->family);
	d->prev = ft->tail;
	if (ft->tail)
		ft->tail->next = d;
	else
		ft->head = d;
	ft->tail = d;
	ft->count++;
	return d;
}

/* ---- adding a fragment ---- */

/* Check [s, e) against the queued fragments: 0 if new and disjoint,
 * SYNACK_DROP_FRAG_DUPLICATE for an exact duplicate (same place, same
 * bytes), SYNACK_DROP_FRAG_OVERLAP otherwise (RFC 5722 section 4). Returns
 * in *pos where the new range goes. */
static int check_overlap(const struct frag_dgram *d, uint32_t s, uint32_t e, const uint8_t *data,
			 uint32_t *pos)
{
	uint32_t i;
	for (i = 0; i < d->nfrags && d->frags[i].start <= s; i++) {
		const struct frag_range *r = &d->frags[i];
		if (r->start == s && r->end == e)
			return e > s && memcmp(d->buf + s, data, e - s) ? SYNACK_DROP_FRAG_OVERLAP
									: SYNACK_DROP_FRAG_DUPLICATE;
		if (s < r->end && r->start < e) /* an empty last fragment may touch */
			return SYNACK_DROP_FRAG_OVERLAP;
	}
	*pos = i;
	if (i < d->nfrags && d->frags[i].start < e)
		return SYNACK_DROP_FRAG_OVERLAP;
	return 0;
}

/* RFC 791 / RFC 8200 4.5: the last fragment fixes the length; no data may
 * lie beyond it and a second last fragment must agree. */
static int check_end(const struct frag_dgram *d, uint32_t e, bool more)
{
	if (!more)
		return (d->has_last && d->total != e) || d->max_end > e ? SYNACK_DROP_FRAG_INCONSISTENT : 0;
	return d->has_last && e > d->total ? SYNACK_DROP_FRAG_INCONSISTENT : 0;
}

/* Grow the buffer to hold `need` bytes (exactly `need` once the length is
 * known, else doubling), moving the received ranges. Returns 0 or
 * SYNACK_DROP_FRAG_NO_MEMORY. */
static int grow(struct frag_table *ft, struct frag_dgram *d, uint32_t need, bool exact)
{
	if (need <= d->cap)
		return 0;
	uint32_t cap = exact ? need : MIN(MAX(MAX(need, 2 * d->cap), FRAG_MIN_CAP), FRAG_MAX_LEN);
	if (!make_room(ft, d, cap - d->cap)) {
		cap = need; /* the doubling did not fit: try the bare minimum */
		if (!make_room(ft, d, cap - d->cap))
			return SYNACK_DROP_FRAG_NO_MEMORY;
	}
	uint8_t *buf = mem_alloc_raw(ft->mem, cap);
	if (!buf)
		return SYNACK_DROP_FRAG_NO_MEMORY;
	for (uint32_t i = 0; i < d->nfrags; i++)
		memcpy(buf + d->frags[i].start, d->buf + d->frags[i].start,
		       d->frags[i].end - d->frags[i].start);
	mem_free(ft->mem, d->buf, d->cap);
	ft->bytes += cap - d->cap;
	d->buf = buf;
	d->cap = cap;
	return 0;
}

static void save_first(struct frag_dgram *d, const struct frag_key *k, const struct frag_in *in)
{
	d->has_first = true;
	d->l2_group = in->l2_group;
	d->proto = k->proto;
	d->hdr_len = in->hdr ? (uint16_t)MIN(in->hdr_len, FRAG_HDR_SAVE) : 0;
	if (d->hdr_len)
		memcpy(d->hdr, in->hdr, d->hdr_len);
}

/* Queue [s, e) in d. Returns FRAG_QUEUED, FRAG_DONE or a drop id; for
 * OVERLAP, INCONSISTENT and TOO_MANY the caller discards the datagram. */
static int dgram_add(struct frag_table *ft, struct frag_dgram *d, const struct frag_key *k,
		     const struct frag_in *in, uint32_t s)
{
	uint32_t e = s + (uint32_t)in->len, pos = 0;
	int r = check_overlap(d, s, e, in->data, &pos);
	if (!r)
		r = check_end(d, e, in->more);
	if (!r && d->nfrags >= ft->lim.max_frags)
		r = SYNACK_DROP_FRAG_TOO_MANY;
	if (!r)
		r = grow(ft, d, e, !in->more || d->has_last);
	if (r)
		return r;
	if (in->len)
		memcpy(d->buf + s, in->data, in->len);
	memmove(&d->frags[pos + 1], &d->frags[pos], (d->nfrags - pos) * sizeof d->frags[0]);
	d->frags[pos] = (struct frag_range){s, e};
	d->nfrags++;
	d->received += (uint32_t)in->len;
	d->max_end = MAX(d->max_end, e);
	if (s == 0)
		save_first(d, k, in);
	if (!in->more) {
		d->has_last = true;
		d->total = e;
	}
	return d->has_last && d->received == d->total ? FRAG_DONE : FRAG_QUEUED;
}

/* Describe d in *out; d becomes the held datagram. */
static void hand_out(struct frag_table *ft, struct frag_dgram *d, uint32_t len, struct frag_done *out)
{
	dgram_unlink(ft, d);
	ft->held = d;
	out->key = d->key;
	out->key.proto = d->proto;
	out->data = d->buf;
	out->len = len;
	out->hdr = d->hdr;
	out->hdr_len = d->hdr_len;
	out->l2_group = d->l2_group;
}

/* Checks on the fragment alone, before it can touch any datagram. */
static int check_fragment(const struct frag_key *k, const struct frag_in *in)
{
	if ((k->family != SYNACK_AF_INET && k->family != SYNACK_AF_INET6) || k->src.family != k->family)
		return SYNACK_DROP_IP_VERSION;
	/* RFC 791 Total Length / RFC 8200 4.5: the reassembled length must
	 * fit 16 bits; the fragment is discarded. */
	size_t max_end = MIN(in->max_end, (size_t)FRAG_MAX_LEN);
	if (in->offset > FRAG_MAX_OFFSET || in->len > max_end || (size_t)in->offset * 8 > max_end - in->len)
		return SYNACK_DROP_FRAG_TOO_BIG;
	/* RFC 8200 4.5: with M set the length must be a multiple of 8 (RFC 791:
	 * fragments other than the last end on an 8-octet boundary). An empty
	 * non-last fragment carries nothing and is refused too. */
	if (in->more && (in->len == 0 || in->len % 8))
		return SYNACK_DROP_FRAG_BAD_LENGTH;
	return 0;
}

int frag_input(struct frag_table *ft, synack_time_t now, const struct frag_key *k, const struct frag_in *in,
	       struct frag_done *out)
{
	frag_release(ft);
	int r = check_fragment(k, in);
	if (r)
		return r;
	if (in->offset == 0 && !in->more) {
		/* Not fragmented (an IPv6 atomic fragment): processed in
		 * isolation, never merged with a queue (RFC 6946 section 4). */
		*out = (struct frag_done){.key = *k,
					  .data = in->data,
					  .len = in->len,
					  .hdr = in->hdr,
					  .hdr_len = in->hdr_len,
					  .l2_group = in->l2_group};
		return FRAG_DONE;
	}
	struct frag_dgram *d = lookup(ft, k);
	if (d && d->deadline <= now) {
		dgram_discard(ft, d, SYNACK_DROP_FRAG_TIMEOUT);
		d = NULL;
	}
	if (!d && !(d = dgram_create(ft, now, k)))
		return SYNACK_DROP_FRAG_NO_MEMORY;
	r = dgram_add(ft, d, k, in, (uint32_t)in->offset * 8);
	if (r == FRAG_DONE) {
		ft->counters[SYNACK_CNT_FRAG_REASSEMBLED]++;
		hand_out(ft, d, d->total, out);
	} else if (r == SYNACK_DROP_FRAG_OVERLAP || r == SYNACK_DROP_FRAG_INCONSISTENT ||
		   r == SYNACK_DROP_FRAG_TOO_MANY) {
		dgram_discard(ft, d, (enum synack_counter)r);
	} else if (d->nfrags == 0) {
		dgram_discard(ft, d, SYNACK_DROP_FRAG_NO_MEMORY); /* created for nothing */
	}
	return r;
}

synack_time_t frag_next_deadline(const struct frag_table *ft)
{
	synack_time_t t = SYNACK_TIME_NEVER;
	for (const struct frag_dgram *d = ft->head; d; d = d->next)
		t = MIN(t, d->deadline);
	return t;
}

/* RFC 1122 3.3.2 / RFC 8200 4.5: abandon the datagram; report it when
 * fragment zero arrived so the caller can send Time Exceeded, code 1. */
int frag_expire(struct frag_table *ft, synack_time_t now, struct frag_done *out)
{
	frag_release(ft);
	struct frag_dgram *d = ft->head, *next;
	for (; d; d = next) {
		next = d->next;
		if (d->deadline > now)
			continue;
		if (d->has_first) {
			ft->counters[SYNACK_DROP_FRAG_TIMEOUT] += d->nfrags;
			hand_out(ft, d, d->frags[0].end, out);
			return 1;
		}
		dgram_discard(ft, d, SYNACK_DROP_FRAG_TIMEOUT);
	}
	return 0;
}
