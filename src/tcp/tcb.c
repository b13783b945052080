/* TCB life cycle: allocation, lookup tables, state changes, events, timers'
 * heap membership and freeing. */
#include <errno.h>
#include <string.h>

#include "tcp/tcp_internal.h"

int tcp_stack_init(synack_stack *st)
{
	struct tcp_stack *ts = mem_alloc(&st->mem, sizeof *ts);
	if (!ts)
		return -ENOMEM;
	st->tcp = ts;
	st->cfg.rng.fill(st->cfg.rng.ctx, ts->key, sizeof ts->key);
	/* the weaker table hash never shares the PRF's key: its own, derived
	 * (no further random draw, so seeded runs replay as before) */
	uint64_t k0 = siphash24(ts->key, "tables-0", 8), k1 = siphash24(ts->key, "tables-1", 8);
	memcpy(ts->tab_key, &k0, 8);
	memcpy(ts->tab_key + 8, &k1, 8);
	uint16_t r;
	st->cfg.rng.fill(st->cfg.rng.ctx, &r, sizeof r);
	ts->next_port = (uint16_t)(PORT_FIRST + r % PORT_COUNT);
	return 0;
}

void tcp_stack_fini(synack_stack *st)
{
	struct tcp_stack *ts = st->tcp;
	if (!ts)
		return;
	/* every TCB, those the application still holds in CLOSED included;
	 * children go with their listener, so restart from the head */
	while (ts->all)
		tcb_free(ts->all);
	tcp_stack_trim(st);
	htab_free(&ts->conns, &st->mem);
	htab_free(&ts->listeners, &st->mem);
	heap_free(&ts->timers, &st->mem);
	dlq_free(&ts->tw_timers, &st->mem);
	dlq_free(&ts->idle_timers, &st->mem);
	mem_free(&st->mem, ts, sizeof *ts);
	st->tcp = NULL;
}

/* The extension of a TCB that has none: every field at the value a new
 * TCB starts with, in read-only memory (a write through it faults). */
const struct tcb_ext tcb_ext_none = {
    .t_rtx = SYNACK_TIME_NEVER,
    .t_persist = SYNACK_TIME_NEVER,
    .t_delack = SYNACK_TIME_NEVER,
    .t_close = SYNACK_TIME_NEVER,
    .t_tlp = SYNACK_TIME_NEVER,
    .t_rack = SYNACK_TIME_NEVER,
    .t_keep = SYNACK_TIME_NEVER,
    .keep_idle = TCP_KEEPIDLE_DEFAULT,
    .keep_intvl = TCP_KEEPINTVL_DEFAULT,
    .keep_cnt = TCP_KEEPCNT_DEFAULT,
};

/* Freed extensions and TCBs a stack keeps for its next connections (crr
 * opens and closes one per connection); synack_stack_trim() gives them
 * back. Each list is linked through the first bytes of its items. */
enum { TCP_EXT_CACHE = 64, TCP_TCB_CACHE = 64 };

static void *cache_get(void **head, uint32_t *n)
{
	void *p = *head;
	if (p) {
		memcpy(head, p, sizeof *head);
		(*n)--;
	}
	return p;
}

/* Keep p (of size bytes) if fewer than max are kept, else free it. */
static void cache_put(synack_stack *st, void **head, uint32_t *n, uint32_t max, void *p, size_t size)
{
	if (*n >= max) {
		mem_free(&st->mem, p, size);
		return;
	}
	memcpy(p, head, sizeof *head);
	*head = p;
	(*n)++;
}

static void cache_drain(synack_stack *st, void **head, uint32_t *n, size_t size)
{
	void *p;
	while ((p = cache_get(head, n)))
		mem_free(&st->mem, p, size);
}

synack_time_t tcb_time_wait_end(const struct tcb *t)
{
	return tcb_has_ext(t) ? t->x->t_close : dlq_when(&tcps(t->st)->tw_timers, &t->timer);
}

/* What t's extension holds when t has carried nothing: the defaults, the
 * initial window and the sequence marks that start at the ISS
 * (set_initial_cwnd in tcp_input.c), and the congestion control module's
 * initial state. */
static void ext_template(const struct tcb *t, struct tcb_ext *e)
{
	*e = tcb_ext_none;
	e->cwnd = tcp_initial_window(t);
	e->ssthresh = UINT32_MAX;
	e->recover = e->rack_edge = e->rack_cand = e->rack_armed = t->iss;
	e->rack_fack = t->snd_una; /* the ISS, or the SYN's ACK once synchronized */
	if (t->ecn_ok) {	   /* agreed on the SYNs (tcp_ecn.c) */
		e->ecn_recover = t->iss + 1;
		e->ecn_loss_recover = t->iss;
	}
	struct tcb view = *t;
	view.x = e;
	tcb_cc(t)->init(&view);
	/* a compact TIME-WAIT keeps its deadline in tw_timers alone */
	if (tcb_compact_tw(t))
		e->t_close = tcb_time_wait_end(t);
}

static void idle_disarm(struct tcb *t)
{
	dlq_remove(&tcps(t->st)->idle_timers, &t->st->mem, &t->timer);
	t->idle_q = 0;
}

/* Take t's timer node out of the heap or queue it is in (a compact
 * TIME-WAIT's is tw_timers, `compact` says which; an idle connection's
 * idle_timers). */
static void timer_clear(struct tcb *t, bool compact)
{
	if (compact)
		dlq_remove(&tcps(t->st)->tw_timers, &t->st->mem, &t->timer);
	else if (t->idle_q)
		idle_disarm(t);
	else
		heap_set(&tcps(t->st)->timers, &t->st->mem, &t->timer, SYNACK_TIME_NEVER);
}

const struct tcb_ext *tcb_ext_view(const struct tcb *t, struct tcb_ext *tmp)
{
	if (tcb_has_ext(t))
		return t->x;
	ext_template(t, tmp);
	return tmp;
}

static void ext_put(synack_stack *st, struct tcb_ext *e)
{
	struct tcp_stack *ts = tcps(st);
	cache_put(st, &ts->ext_cache, &ts->ext_cached, TCP_EXT_CACHE, e, sizeof *e);
}

struct tcb_ext *tcb_ext_alloc(struct tcb *t)
{
	struct tcp_stack *ts = tcps(t->st);
	struct tcb_ext *e = cache_get(&ts->ext_cache, &ts->ext_cached);
	if (!e && !(e = mem_alloc(&t->st->mem, sizeof *e)))
		return NULL;
	ext_template(t, e);
	if (tcb_compact_tw(t)) { /* its deadline back among the full timers */
		if (heap_reserve(&ts->timers, &t->st->mem) < 0) {
			ext_put(t->st, e);
			return NULL;
		}
		dlq_remove(&ts->tw_timers, &t->st->mem, &t->timer);
		heap_set(&ts->timers, &t->st->mem, &t->timer, e->t_close);
	}
	t->x = e;
	return e;
}

void tcp_stack_trim(synack_stack *st)
{
	struct tcp_stack *ts = tcps(st);
	cache_drain(st, &ts->ext_cache, &ts->ext_cached, sizeof(struct tcb_ext));
	cache_drain(st, &ts->tcb_cache, &ts->tcb_cached, sizeof(struct tcb));
	if (!ts->tw_timers.len) /* (the array a burst of TIME-WAITs grew) */
		dlq_free(&ts->tw_timers, &st->mem);
	if (!ts->idle_timers.len)
		dlq_free(&ts->idle_timers, &st->mem);
}

/* Free what e holds and keep or free e itself. */
static void ext_release(synack_stack *st, struct tcb *t)
{
	struct tcp_stack *ts = tcps(st);
	ring_free(&t->x->sndq, &st->mem);
	ring_free(&t->x->rcvq, &st->mem);
	tcp_ranges_free(&t->x->ooo, &st->mem);
	tcp_ranges_free(&t->x->sacked, &st->mem);
	tcp_rack_free(t);
	ts->buf_grown -= MIN(ts->buf_grown, (uint64_t)t->x->buf_grown);
	ext_put(st, t->x);
	t->x = (struct tcb_ext *)&tcb_ext_none;
}

/* A TIME-WAIT connection the application let go needs only its core: the
 * 4-tuple, RCV.NXT and SND.NXT to acknowledge a retransmitted FIN, the
 * timestamps for PAWS and RFC 6191, and its deadline (t_close is its only
 * timer: tcp_time_wait_enter), which moves to a queue of its own,
 * tw_timers: every deadline there is its entry time + 2*MSL, so they come
 * in order and push and pop are O(1) (a heap's pop wrote into a dozen cold
 * TCBs), and the timers of live connections no longer sift up past
 * thousands of TIME-WAITs. One compacted after TIME-WAITs that entered
 * later ends with the last of them, if that is at most TW_LATE_MAX later
 * (a delayed ACK held it back): a retransmitted FIN restarts the 2*MSL
 * anyway (RFC 9293 §3.10.7.4, TIME-WAIT). Later than that (its application
 * closed late, or a segment that was not a FIN gave it its extension
 * again and it is compacted anew) it keeps its extension and its own
 * deadline: raising the deadline each time a stray segment arrived would
 * keep a TIME-WAIT forever. Its statistics go with
 * the extension; a segment that arrives gets a fresh one with the deadline
 * (ext_template, tcb_ext_alloc). Kept while an ACK is delayed or the ACK
 * war limit is at its cap, as for an idle connection below. */
#define TW_LATE_MAX SYNACK_SEC(1)

static void time_wait_compact(struct tcb *t)
{
	const struct tcb_ext *e = t->x;
	if (t->user || t->accepted || e->parent || e->t_delack != SYNACK_TIME_NEVER ||
	    e->t_rtx != SYNACK_TIME_NEVER || e->t_persist != SYNACK_TIME_NEVER ||
	    e->t_tlp != SYNACK_TIME_NEVER || e->t_rack != SYNACK_TIME_NEVER ||
	    e->t_keep != SYNACK_TIME_NEVER || e->oow_count >= TCP_OOW_ACK_MAX ||
	    heap_when(&tcps(t->st)->timers, &t->timer) != e->t_close ||
	    dlq_last_when(&tcps(t->st)->tw_timers) > e->t_close + TW_LATE_MAX ||
	    dlq_reserve(&tcps(t->st)->tw_timers, &t->st->mem) < 0)
		return;
	synack_time_t end = e->t_close;
	heap_set(&tcps(t->st)->timers, &t->st->mem, &t->timer, SYNACK_TIME_NEVER);
	ext_release(t->st, t);
	dlq_push(&tcps(t->st)->tw_timers, &t->timer, end);
	stack_count(t->st, SYNACK_CNT_TCP_TIME_WAIT_COMPACT);
}

/* An established connection that may hold nothing beyond what
 * ext_template() makes again: no data ever, no buffer, nothing in flight,
 * no timer but the idle one. The cheap tests (ext_idle_due makes the
 * exact one); most connections that ever carried data fail them (their
 * statistics). */
static bool ext_idle(const struct tcb *t)
{
	const struct tcb_ext *e = t->x;
	return t->state == SYNACK_TCP_ESTABLISHED && !e->bytes_sent && !e->bytes_received && !e->sndq.buf &&
	       !e->rcvq.buf && t->snd_una == t->snd_max && !e->parent && (t->idle_q || !t->timer.index);
}

/* Such a connection gives its extension back once it has stayed so for
 * TCP_IDLE_DELAY: the next segment or call that needs it gets the same
 * contents (tcb_ext_alloc). Not at once: a connection usually carries
 * data right after its handshake, and giving the extension back in
 * between and taking it again cost a short connection 4 % of its
 * instructions (crr, docs/BENCH.md). The delay is a timer of its own in
 * idle_timers, a queue: every deadline there is now + TCP_IDLE_DELAY, so
 * they come in order, and a million connections opened at once do not
 * sit in the heap of the live connections' timers. */
void tcb_ext_idle(struct tcb *t)
{
	struct tcb_ext *e = t->x;
	if (e == &tcb_ext_none)
		return;
	if (!ext_idle(t)) {
		if (t->idle_q)
			idle_disarm(t);
		if (t->state == SYNACK_TCP_TIME_WAIT)
			time_wait_compact(t);
		return;
	}
	struct tcp_stack *ts = tcps(t->st);
	if (!t->idle_q && dlq_reserve(&ts->idle_timers, &t->st->mem) == 0) {
		dlq_push(&ts->idle_timers, &t->timer, tnow(t) + TCP_IDLE_DELAY);
		t->idle_q = 1;
	}
}

/* t's delay is over: its extension goes if it holds only what
 * ext_template() gives. */
static void ext_idle_due(struct tcb *t)
{
	struct tcb_ext *e = t->x;
	if (!ext_idle(t))
		return;
	struct tcb_ext tmp;
	ext_template(t, &tmp);
	if (!t->rtt_timing) { /* meaningless until the next measurement starts */
		tmp.rtt_start = e->rtt_start;
		tmp.rtt_seq = e->rtt_seq;
	}
	if (!t->keepalive) /* set when keepalive is switched on (tcp_api.c) */
		tmp.keep_heard = e->keep_heard;
	/* the ACK war limit below its cap: forgetting it lets at most that
	 * many more ACKs out in this second (a peer's keepalive probes are
	 * unacceptable segments: they must not pin the extension) */
	if (e->oow_count < TCP_OOW_ACK_MAX) {
		tmp.oow_start = e->oow_start;
		tmp.oow_count = e->oow_count;
	}
	if (memcmp(&tmp, e, sizeof tmp) != 0)
		return;
	t->x = (struct tcb_ext *)&tcb_ext_none;
	ext_put(t->st, e);
	stack_count(t->st, SYNACK_CNT_TCP_EXT_RELEASED);
}

void tcb_idle_poll(synack_stack *st)
{
	struct tcp_stack *ts = tcps(st);
	struct heap_node *n;
	while ((n = dlq_top(&ts->idle_timers)) && dlq_top_when(&ts->idle_timers) <= st->now) {
		struct tcb *t = container_of(n, struct tcb, timer);
		idle_disarm(t);
		ext_idle_due(t);
	}
}

struct tcb *tcb_new(synack_stack *st)
{
	struct tcp_stack *ts = tcps(st);
	if (ts->tcb_count >= st->cfg.tcp.max_connections)
		return NULL;
	struct tcb *t = cache_get(&ts->tcb_cache, &ts->tcb_cached);
	if (t)
		memset(t, 0, sizeof *t); /* as mem_alloc gives it */
	else if (!(t = mem_alloc(&st->mem, sizeof *t)))
		return NULL;
	t->st = st;
	t->cc = tcp_cc_find(st->cfg.tcp.cc);
	if (!tcb_ext_alloc(t)) {
		cache_put(st, &ts->tcb_cache, &ts->tcb_cached, TCP_TCB_CACHE, t, sizeof *t);
		return NULL;
	}
	ts->tcb_count++;
	t->all_next = ts->all;
	if (ts->all)
		ts->all->all_prev = t;
	ts->all = t;
	t->id = ++ts->next_id;
	t->sndbuf = st->cfg.tcp.sndbuf;
	t->rcvbuf = st->cfg.tcp.rcvbuf;
	t->rcvbuf_auto = st->cfg.tcp.rcvbuf_max > t->rcvbuf;
	t->sndbuf_auto = st->cfg.tcp.sndbuf_max > t->sndbuf;
	t->rto = st->cfg.tcp.rto_initial;
	t->x->keep_heard = st->now;
	return t;
}

static void trace_endpoints(synack_trace_rec *r, const struct tcb *t)
{
	r->conn_id = t->id;
	r->local = t->local;
	r->remote = t->remote;
}

void tcb_set_state(struct tcb *t, int state)
{
	synack_trace_rec *r = stack_trace(t->st, SYNACK_TRACE_STATE);
	if (r) {
		trace_endpoints(r, t);
		r->old_state = t->state;
		r->new_state = (uint8_t)state;
	}
	if (state == SYNACK_TCP_ESTABLISHED)
		stack_count(t->st, SYNACK_CNT_TCP_ESTABLISHED);
	t->state = (uint8_t)state;
}

void tcb_trace_note(struct tcb *t, enum synack_trace_note note)
{
	synack_trace_rec *r = stack_trace(t->st, SYNACK_TRACE_NOTE);
	if (r) {
		trace_endpoints(r, t);
		r->note = (uint16_t)note;
	}
}

/* The connection table's index of a 4-tuple: ports, then the addresses
 * (4 bytes each for IPv4: 12 bytes in all, two SipHash blocks). */
static uint64_t tuple_hash(const synack_stack *st, const synack_endpoint *l, const synack_endpoint *r)
{
	uint8_t buf[36];
	size_t alen = l->addr.family == SYNACK_AF_INET6 ? 16 : 4;
	memcpy(buf, &l->port, 2);
	memcpy(buf + 2, &r->port, 2);
	memcpy(buf + 4, l->addr.bytes, alen);
	memcpy(buf + 4 + alen, r->addr.bytes, alen);
	return siphash13(tcps(st)->tab_key, buf, 4 + 2 * alen);
}

/* RFC 6528 §3's F(): a PRF of the 4-tuple and the secret, SipHash-2-4
 * (the table index above is SipHash-1-3, not to be relied on as one). Its
 * low half makes the ISN, its high half the timestamp offset (tcp_ts_offset):
 * halves of a PRF's output are independent of each other, as two PRFs
 * with different keys would be, for one hash per connection instead of two. */
static uint64_t isn_hash(const synack_stack *st, const synack_endpoint *l, const synack_endpoint *r)
{
	uint8_t buf[36];
	memcpy(buf, l->addr.bytes, 16);
	memcpy(buf + 16, r->addr.bytes, 16);
	memcpy(buf + 32, &l->port, 2);
	memcpy(buf + 34, &r->port, 2);
	return siphash24(tcps(st)->key, buf, sizeof buf);
}

static uint64_t port_hash(const synack_stack *st, uint16_t port)
{
	return siphash13(tcps(st)->tab_key, &port, sizeof port);
}

static bool ep_equal(const synack_endpoint *a, const synack_endpoint *b)
{
	return a->port == b->port && addr_eq(&a->addr, &b->addr);
}

/* t becomes the most recently found connection (tcp_stack.last). */
static struct tcb *last_push(struct tcp_stack *ts, struct tcb *t)
{
	if (ts->last[0] != t) {
		ts->last[1] = ts->last[0];
		ts->last[0] = t;
	}
	return t;
}

void tcb_last_forget(struct tcb *t)
{
	struct tcp_stack *ts = tcps(t->st);
	if (ts->last[1] == t)
		ts->last[1] = NULL;
	if (ts->last[0] == t) {
		ts->last[0] = ts->last[1];
		ts->last[1] = NULL;
	}
}

int tcb_hash_insert(struct tcb *t)
{
	struct tcp_stack *ts = tcps(t->st);
	uint64_t h = ep_equal(&ts->miss_local, &t->local) && ep_equal(&ts->miss_remote, &t->remote)
			 ? ts->miss_hash
			 : tuple_hash(t->st, &t->local, &t->remote);
	int err = htab_insert(&ts->conns, &t->st->mem, &t->hn, h);
	if (!err) {
		t->in_table = 1;
		last_push(ts, t); /* its next segment is likely the next one in */
	}
	return err;
}

int tcb_listen_insert(struct tcb *t)
{
	int err = htab_insert(&tcps(t->st)->listeners, &t->st->mem, &t->hn, port_hash(t->st, t->local.port));
	if (!err)
		t->in_table = t->in_listeners = 1;
	return err;
}

uint64_t tcb_lookup_prefetch(synack_stack *st, const synack_endpoint *local, const synack_endpoint *remote)
{
	uint64_t h = tuple_hash(st, local, remote);
	htab_prefetch(&tcps(st)->conns, h);
	return h;
}

struct tcb *tcb_lookup(synack_stack *st, const synack_endpoint *local, const synack_endpoint *remote)
{
	return tcb_lookup_hashed(st, local, remote, 0);
}

struct tcb *tcb_lookup_hashed(synack_stack *st, const synack_endpoint *local, const synack_endpoint *remote,
			      uint64_t h)
{
	struct tcp_stack *ts = tcps(st);
	for (int i = 0; i < 2; i++) {
		struct tcb *t = ts->last[i];
		if (t && ep_equal(&t->remote, remote) && ep_equal(&t->local, local))
			return last_push(ts, t);
	}
	if (!h)
		h = tuple_hash(st, local, remote);
	for (struct hnode *n = htab_first(&ts->conns, h); n; n = htab_next(&ts->conns, n, h)) {
		struct tcb *t = container_of(n, struct tcb, hn);
		if (ep_equal(&t->local, local) && ep_equal(&t->remote, remote))
			return last_push(ts, t);
	}
	ts->miss_local = *local;
	ts->miss_remote = *remote;
	ts->miss_hash = h;
	return NULL;
}

struct tcb *tcb_lookup_listener(synack_stack *st, const synack_endpoint *local)
{
	if (!tcps(st)->listeners.count) /* (a client's port search: no hash per candidate) */
		return NULL;
	uint64_t h = port_hash(st, local->port);
	struct tcb *wild = NULL;
	for (struct hnode *n = htab_first(&tcps(st)->listeners, h); n;
	     n = htab_next(&tcps(st)->listeners, n, h)) {
		struct tcb *t = container_of(n, struct tcb, hn);
		if (t->local.port != local->port)
			continue;
		if (addr_eq(&t->local.addr, &local->addr))
			return t;
		if (t->local.addr.family == SYNACK_AF_NONE)
			wild = t;
	}
	return wild;
}

/* RFC 6528 §3: ISN = M + F(localip, localport, remoteip, remoteport, secretkey),
 * M a timer ticking every 4 us, F SipHash-2-4 keyed at stack creation. */
static uint32_t isn_clock(const synack_stack *st)
{
	synack_time_t tick = st->cfg.tcp.isn_tick > 0 ? st->cfg.tcp.isn_tick : 4;
	return (uint32_t)(st->now / tick);
}

void tcb_init_seq(struct tcb *t)
{
	uint64_t h = isn_hash(t->st, &t->local, &t->remote);
	t->iss = isn_clock(t->st) + (uint32_t)h;
	t->snd_una = t->snd_nxt = t->snd_max = t->iss;
	t->data_seq = t->iss + 1;
	t->x->recover = t->iss;		    /* RFC 6582 §3.2: recover starts at the ISS */
	t->ts_offset = (uint32_t)(h >> 32); /* tcp_ts_offset() */
}

/* RFC 7323 §5.4: the per-connection timestamp offset is RFC 6528's
 * function of the 4-tuple "with a different secret key" (here: the other
 * half of the ISN's PRF output, isn_hash), not random: entirely random
 * offsets "conflict with PAWS" (its Appendix H (j)), since a new
 * incarnation of a 4-tuple must show the peer's TIME-WAIT a higher TSval
 * (RFC 6191 §2), and a SYN cookie connection (tcp_cookie.c) finds the
 * clock its SYN-ACK was sent on without keeping it. */
uint32_t tcp_ts_offset(const synack_stack *st, const synack_endpoint *local, const synack_endpoint *remote)
{
	return (uint32_t)(isn_hash(st, local, remote) >> 32);
}

void tcb_event(struct tcb *t, uint32_t ev)
{
	struct tcb *target = t;
	if (!t->user) {
		/* a child on its listener's accept queue wakes the listener */
		if (!(t->x->parent && t->accepted && (ev & SYNACK_EV_CONNECTED)))
			return;
		target = t->x->parent;
		ev = SYNACK_EV_ACCEPTABLE;
	}
	target->events |= ev;
	if (target->on_ev || !target->user)
		return;
	struct tcp_stack *ts = tcps(target->st);
	target->on_ev = 1;
	target->ev_next = NULL;
	target->ev_prev = ts->ev_tail;
	if (ts->ev_tail)
		ts->ev_tail->ev_next = target;
	else
		ts->ev_head = target;
	ts->ev_tail = target;
}

void tcb_ev_unlink(struct tcb *t)
{
	struct tcp_stack *ts = tcps(t->st);
	if (!t->on_ev)
		return;
	if (t->ev_prev)
		t->ev_prev->ev_next = t->ev_next;
	else
		ts->ev_head = t->ev_next;
	if (t->ev_next)
		t->ev_next->ev_prev = t->ev_prev;
	else
		ts->ev_tail = t->ev_prev;
	t->ev_next = t->ev_prev = NULL;
	t->on_ev = 0;
}

void tcb_timer_update(struct tcb *t)
{
	synack_time_t w = MIN(MIN(MIN(t->x->t_rtx, t->x->t_persist), MIN(t->x->t_delack, t->x->t_close)),
			      MIN(t->x->t_tlp, t->x->t_rack));
	w = MIN(w, t->x->t_keep);
	if (__builtin_expect(t->idle_q, 0)) {
		if (w == SYNACK_TIME_NEVER)
			return; /* (its node is in idle_timers) */
		idle_disarm(t);
	}
	heap_set(&tcps(t->st)->timers, &t->st->mem, &t->timer, w);
}

static void queue_push(struct tcb_queue *q, struct tcb *c)
{
	c->x->q_next = NULL;
	c->x->q_prev = q->tail;
	if (q->tail)
		q->tail->x->q_next = c;
	else
		q->head = c;
	q->tail = c;
	q->count++;
}

static void queue_remove(struct tcb_queue *q, struct tcb *c)
{
	if (c->x->q_prev)
		c->x->q_prev->x->q_next = c->x->q_next;
	else
		q->head = c->x->q_next;
	if (c->x->q_next)
		c->x->q_next->x->q_prev = c->x->q_prev;
	else
		q->tail = c->x->q_prev;
	c->x->q_next = c->x->q_prev = NULL;
	q->count--;
}

void tcb_child_add(struct tcb *l, struct tcb *c)
{
	c->x->parent = l;
	c->accepted = 0;
	tcp_keep_inherit(c, l);
	queue_push(&l->x->synq, c);
}

void tcb_child_ready(struct tcb *l, struct tcb *c)
{
	queue_remove(&l->x->synq, c);
	c->accepted = 1;
	queue_push(&l->x->accq, c);
}

static void unlink_child(struct tcb *t)
{
	struct tcb *l = t->x->parent;
	if (!l)
		return;
	queue_remove(t->accepted ? &l->x->accq : &l->x->synq, t);
	t->x->parent = NULL;
	t->accepted = 0;
}

struct tcb *tcb_child_accept(struct tcb *l)
{
	struct tcb *c = l->x->accq.head;
	if (c)
		unlink_child(c);
	return c;
}

void tcb_free(struct tcb *t)
{
	synack_stack *st = t->st;
	struct tcp_stack *ts = tcps(st);
	/* children still owned by a listener go with it */
	while (t->x->synq.head)
		tcb_free(t->x->synq.head);
	while (t->x->accq.head)
		tcb_free(t->x->accq.head);
	unlink_child(t);
	tcb_ev_unlink(t);
	if (t->in_table) /* (a child is in the connections' table while LISTEN: spawn_child) */
		htab_remove(t->in_listeners ? &ts->listeners : &ts->conns, &st->mem, &t->hn);
	tcb_last_forget(t);
	timer_clear(t, tcb_compact_tw(t));
	if (tcb_has_ext(t))
		ext_release(st, t);
	if (t->all_prev)
		t->all_prev->all_next = t->all_next;
	else
		ts->all = t->all_next;
	if (t->all_next)
		t->all_next->all_prev = t->all_prev;
	ts->tcb_count--;
	cache_put(st, &ts->tcb_cache, &ts->tcb_cached, TCP_TCB_CACHE, t, sizeof *t);
}

void tcb_maybe_free(struct tcb *t)
{
	if (t->state == SYNACK_TCP_CLOSED && !t->user)
		tcb_free(t);
}

void tcb_close_state(struct tcb *t, int err, uint32_t ev)
{
	if (err && !t->error)
		t->error = err;
	timer_clear(t, tcb_compact_tw(t)); /* (before the state changes) */
	if (t->state != SYNACK_TCP_CLOSED)
		tcb_set_state(t, SYNACK_TCP_CLOSED);
	if (tcb_has_ext(t)) {
		struct tcb_ext *x = t->x;
		x->t_rtx = x->t_persist = x->t_delack = x->t_close = x->t_tlp = x->t_rack = x->t_keep =
		    SYNACK_TIME_NEVER; /* (its node is out of every queue: above) */
		tcp_rack_free(t);
		ring_free(&x->sndq, &t->st->mem);
		tcp_ranges_free(&x->sacked, &t->st->mem);
		x->sacked_bytes = 0;
	}
	if (t->in_table) {
		struct tcp_stack *ts = tcps(t->st);
		htab_remove(t->in_listeners ? &ts->listeners : &ts->conns, &t->st->mem, &t->hn);
		t->in_table = t->in_listeners = 0;
	}
	tcb_last_forget(t);
	unlink_child(t);
	tcb_event(t, ev | SYNACK_EV_CLOSED | SYNACK_EV_READABLE);
}

size_t synack_stack_tcb_count(const synack_stack *st)
{
	return tcps(st)->tcb_count;
}
