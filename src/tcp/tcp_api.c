/* The public TCP API (include/synack/tcp.h): user calls, RFC 9293 §3.10.1 -
 * §3.10.6 (OPEN, SEND, RECEIVE, CLOSE, ABORT, STATUS), plus the stack's
 * poll/deadline/event entry points for TCP. */
#include <errno.h>
#include <string.h>

#include "tcp/tcp_internal.h"

static const char *const state_names[] = {
    "CLOSED",	  "LISTEN",	"SYN-SENT", "SYN-RECEIVED", "ESTABLISHED", "FIN-WAIT-1",
    "FIN-WAIT-2", "CLOSE-WAIT", "CLOSING",  "LAST-ACK",	    "TIME-WAIT",
};

const char *synack_tcp_state_name(int state)
{
	return state >= 0 && state < (int)ARRAY_LEN(state_names) ? state_names[state] : "?";
}

void tcp_poll(synack_stack *st)
{
	struct tcp_stack *ts = tcps(st);
	struct heap_node *n;
	/* compact TIME-WAITs (tcb.c) whose 2*MSL is over */
	while ((n = dlq_top(&ts->tw_timers)) && dlq_top_when(&ts->tw_timers) <= st->now) {
		struct tcb *t = container_of(n, struct tcb, timer);
		tcb_trace_note(t, SYNACK_NOTE_TIME_WAIT_DONE);
		tcb_close_state(t, 0, 0); /* (out of tw_timers) */
		tcb_maybe_free(t);
	}
	if (dlq_top_when(&ts->idle_timers) <= st->now)
		tcb_idle_poll(st);
	while ((n = heap_top(&ts->timers)) && heap_top_when(&ts->timers) <= st->now) {
		struct tcb *t = container_of(n, struct tcb, timer);
		/* (a TCB in this heap has its extension: its timers are there) */
		if (!tcp_timer_fire(t))
			continue;
		if (heap_when(&ts->timers, &t->timer) <= st->now)
			heap_set(&ts->timers, &st->mem, &t->timer, st->now + 1); /* never spin */
		tcb_ext_idle(t);
	}
}

synack_time_t tcp_next_deadline(const synack_stack *st)
{
	const struct tcp_stack *ts = tcps(st);
	return MIN(MIN(heap_top_when(&ts->timers), dlq_top_when(&ts->tw_timers)),
		   dlq_top_when(&ts->idle_timers));
}

synack_tcp *synack_stack_next_event(synack_stack *st, uint32_t *events)
{
	struct tcb *t = tcps(st)->ev_head;
	if (!t) {
		*events = 0;
		return NULL;
	}
	tcb_ev_unlink(t);
	*events = t->events;
	t->events = 0;
	return (synack_tcp *)t;
}

static inline struct tcb *T(synack_tcp *c)
{
	return (struct tcb *)c;
}
static inline const struct tcb *CT(const synack_tcp *c)
{
	return (const struct tcb *)c;
}

static bool addr_unspecified(const synack_addr *a)
{
	static const uint8_t zero[16];
	return a->family == SYNACK_AF_NONE || memcmp(a->bytes, zero, 16) == 0;
}

static void apply_params(struct tcb *t, const synack_tcp_params *p)
{
	if (!p)
		return;
	if (p->sndbuf) {
		t->sndbuf = MIN(p->sndbuf, 1u << 30);
		t->sndbuf_auto = 0; /* set by the application: fixed */
	}
	if (p->rcvbuf) {
		t->rcvbuf = MIN(p->rcvbuf, 1u << 30);
		t->rcvbuf_auto = 0;
	}
	if (p->mss)
		t->x->user_mss = MAX(p->mss, (uint16_t)64);
	t->nodelay = p->nodelay != 0;
	t->noopt = p->noopt != 0;
	t->ip_ttl = p->ttl;
	t->ip_tos = p->tos & (uint8_t)~TCP_IP_ECN_MASK;
}

int synack_tcp_listen(synack_stack *st, const synack_endpoint *local, int backlog, synack_tcp **out)
{
	return synack_tcp_listen_ex(st, local, backlog, NULL, out);
}

int synack_tcp_listen_ex(synack_stack *st, const synack_endpoint *local, int backlog,
			 const synack_tcp_params *params, synack_tcp **out)
{
	*out = NULL;
	if (!local || local->port == 0 || backlog < 1)
		return -EINVAL;
	synack_endpoint ep = *local;
	if (addr_unspecified(&ep.addr))
		memset(&ep.addr, 0, sizeof ep.addr);
	else if (!net_is_local(st, &ep.addr))
		return -EADDRNOTAVAIL;
	struct tcb *old = tcb_lookup_listener(st, &ep);
	if (old && old->local.port == ep.port)
		return -EADDRINUSE;
	struct tcb *t = tcb_new(st);
	if (!t)
		return -ENOMEM;
	t->local = ep;
	apply_params(t, params);
	t->x->backlog = (uint16_t)MIN(backlog, 65535);
	t->user = 1;
	tcb_set_state(t, SYNACK_TCP_LISTEN);
	if (tcb_listen_insert(t) < 0) {
		tcb_free(t);
		return -ENOMEM;
	}
	*out = (synack_tcp *)t;
	return 0;
}

int synack_tcp_accept(synack_tcp *lc, synack_tcp **out)
{
	struct tcb *l = T(lc);
	*out = NULL;
	if (l->state != SYNACK_TCP_LISTEN)
		return -EINVAL;
	struct tcb *c = tcb_child_accept(l);
	if (!c)
		return -EAGAIN;
	c->user = 1;
	/* report what happened before the application took it */
	uint32_t ev = SYNACK_EV_WRITABLE | (c->x->rcvq.len || c->peer_fin ? SYNACK_EV_READABLE : 0) |
		      (c->peer_fin ? SYNACK_EV_PEER_CLOSED : 0) | (c->error ? SYNACK_EV_ERROR : 0);
	tcb_event(c, ev);
	if (l->x->accq.head)
		tcb_event(l, SYNACK_EV_ACCEPTABLE);
	tcb_ext_idle(c);
	*out = (synack_tcp *)c;
	return 0;
}

/* RFC 6191 on the client side (as Linux's tcp_tw_reuse): a connect() may
 * take over the 4-tuple of a TIME-WAIT connection the application let go
 * when timestamps were negotiated on it and a second has passed since it
 * last took the peer's FIN: the new incarnation keeps the old timestamp
 * clock (the offset is the 4-tuple's, tcb.c) and an ISS above the old
 * SND.NXT (tw_takeover), so its SYN's TSval
 * exceeds the peer's TS.Recent and its sequence number the peer's RCV.NXT,
 * which is what the peer's RFC 6191 §2 check asks of a new SYN. */
static bool time_wait_reusable(const struct tcb *t)
{
	return t->state == SYNACK_TCP_TIME_WAIT && !t->user && t->ts_ok &&
	       tnow(t) >= tcb_time_wait_end(t) - 2 * tcfg(t)->msl + SYNACK_SEC(1);
}

#define PORT_BATCH   8 /* candidates whose slots load together */
#define PORT_TW_WAIT 8 /* candidates a free port may lie beyond a reusable TIME-WAIT */

static uint16_t port_after(uint16_t p, unsigned n)
{
	return (uint16_t)(PORT_FIRST + (p - PORT_FIRST + n) % PORT_COUNT);
}

/* A free port in the dynamic range, from ts->next_port on; or, when none
 * is among the PORT_TW_WAIT candidates after the first reusable TIME-WAIT
 * to remote, that one's (*tw): a client that opens connections to one
 * server faster than they leave TIME-WAIT no longer searches the whole
 * range for each (Linux takes the first of either). The first candidate
 * is looked up alone (it is nearly always free); after it, PORT_BATCH at
 * a time with their table slots loaded together: a search through a range
 * full of TIME-WAITs in a table of a million connections was a cache
 * miss per candidate, one after the other (crr_1m, docs/BENCH.md). */
static int pick_port(synack_stack *st, synack_endpoint *local, const synack_endpoint *remote, struct tcb **tw)
{
	struct tcp_stack *ts = tcps(st);
	uint16_t tw_port = 0;
	unsigned tw_at = 0;
	uint64_t h[PORT_BATCH];
	for (unsigned i = 0; i < PORT_COUNT && !(tw_port && i > tw_at + PORT_TW_WAIT);) {
		unsigned k = i == 0 ? 1 : MIN(PORT_BATCH, PORT_COUNT - i);
		uint16_t first = ts->next_port;
		for (unsigned j = 0; j < k; j++) {
			local->port = port_after(first, j);
			h[j] = tcb_lookup_prefetch(st, local, remote);
		}
		for (unsigned j = 0; j < k; j++, i++) {
			local->port = port_after(first, j);
			ts->next_port = port_after(first, j + 1);
			if (tcb_lookup_listener(st, local))
				continue;
			struct tcb *t = tcb_lookup_hashed(st, local, remote, h[j]);
			if (!t)
				return 0;
			if (!tw_port && time_wait_reusable(t)) {
				tw_port = local->port;
				tw_at = i;
			}
		}
	}
	if (!tw_port)
		return -EADDRNOTAVAIL;
	local->port = tw_port;
	*tw = tcb_lookup(st, local, remote);
	return 0;
}

/* The 4-tuple for a connect(): a port picked, or the one asked for if no
 * connection holds it but a reusable TIME-WAIT (*tw). */
static int connect_tuple(synack_stack *st, synack_endpoint *ep, const synack_endpoint *remote,
			 struct tcb **tw)
{
	*tw = NULL;
	if (ep->port == 0)
		return pick_port(st, ep, remote, tw);
	struct tcb *old = tcb_lookup(st, ep, remote);
	if (old && !time_wait_reusable(old))
		return -EADDRINUSE;
	*tw = old;
	return 0;
}

/* The new incarnation t replaces TIME-WAIT tw (RFC 6191): ISS above the
 * old SND.NXT (RFC 6528's clock nearly always is already; like Linux, a
 * window further on when it is not). */
static void tw_takeover(struct tcb *t, uint32_t old_nxt)
{
	if (seq_gt(t->iss, old_nxt))
		return;
	t->iss = old_nxt + 65536;
	t->snd_una = t->snd_nxt = t->snd_max = t->iss;
	t->data_seq = t->iss + 1;
}

int synack_tcp_connect(synack_stack *st, const synack_endpoint *remote, const synack_endpoint *local,
		       synack_tcp **out)
{
	return synack_tcp_connect_ex(st, remote, local, NULL, out);
}

int synack_tcp_connect_ex(synack_stack *st, const synack_endpoint *remote, const synack_endpoint *local,
			  const synack_tcp_params *params, synack_tcp **out)
{
	*out = NULL;
	synack_endpoint ep = {.port = 0};
	if (!remote || remote->port == 0 || addr_unspecified(&remote->addr))
		return -EINVAL;
	if (!net_source_for(st, &remote->addr, &ep.addr))
		return -EAFNOSUPPORT; /* no address of the destination's family */
	if (local) {
		ep.port = local->port;
		if (!addr_unspecified(&local->addr) && !net_is_local(st, &local->addr))
			return -EADDRNOTAVAIL;
	}
	struct tcb *tw;
	int err = connect_tuple(st, &ep, remote, &tw);
	if (err)
		return err;
	bool reuse = tw != NULL;
	uint32_t tw_nxt = reuse ? tw->snd_nxt : 0;
	if (reuse) {
		stack_count(st, SYNACK_CNT_TCP_TIME_WAIT_REUSED);
		tcb_close_state(tw, 0, 0);
		tcb_maybe_free(tw);
	}
	struct tcb *t = tcb_new(st);
	if (!t)
		return -ENOMEM;
	t->local = ep;
	t->remote = *remote;
	t->user = 1;
	apply_params(t, params);
	if (st->cfg.tcp.wscale_enable && !t->noopt)
		t->rcv_wscale = choose_rcv_wscale(rcvbuf_ceiling(t));
	tcb_init_seq(t);
	if (reuse)
		tw_takeover(t, tw_nxt);
	if (tcb_hash_insert(t) < 0) {
		tcb_free(t);
		return -ENOMEM;
	}
	stack_count(st, SYNACK_CNT_TCP_ACTIVE_OPENS);
	tcb_set_state(t, SYNACK_TCP_SYN_SENT);
	t->rtt_timing = 1;
	t->x->rtt_seq = t->iss;
	t->x->rtt_start = st->now;
	tcp_send_syn(t);
	tcb_timer_update(t);
	*out = (synack_tcp *)t;
	return 0;
}

ssize_t synack_tcp_send(synack_tcp *c, const void *buf, size_t len)
{
	struct tcb *t = T(c);
	if (t->error)
		return t->error;
	if (t->fin_queued || t->state == SYNACK_TCP_CLOSED)
		return -EPIPE;
	if (t->state != SYNACK_TCP_ESTABLISHED && t->state != SYNACK_TCP_CLOSE_WAIT)
		return -ENOTCONN;
	if (len == 0)
		return 0;
	if (!tcb_ext_get(t))
		return -ENOMEM;
	uint32_t want = (uint32_t)MIN(len, (size_t)UINT32_MAX);
	uint32_t n = ring_push(&t->x->sndq, &t->st->mem, t->sndbuf, buf, want);
	if (n < want && tcp_sndbuf_tune(t))
		n += ring_push(&t->x->sndq, &t->st->mem, t->sndbuf, (const uint8_t *)buf + n, want - n);
	if (n < len)
		t->want_write = 1;
	if (n == 0)
		return -EAGAIN;
	tcp_output(t);
	return n;
}

ssize_t synack_tcp_recv(synack_tcp *c, void *buf, size_t len)
{
	return synack_tcp_recv_ex(c, buf, len, 0);
}

/* No more text can come: the peer's FIN, an error, or the connection is gone. */
static bool recv_eof(const struct tcb *t)
{
	return t->peer_fin || t->error || t->state == SYNACK_TCP_CLOSED;
}

/* RFC 9293 §3.10.3 RECEIVE. */
ssize_t synack_tcp_recv_ex(synack_tcp *c, void *buf, size_t len, int flags)
{
	struct tcb *t = T(c);
	if (t->state == SYNACK_TCP_LISTEN)
		return -EINVAL;
	if (t->rd_shut)
		return 0;			       /* shut for reading: end of file */
	uint32_t avail = t->x->rcvq.len - t->syn_held; /* SYN text waits for ESTABLISHED */
	if ((flags & SYNACK_TCP_RECV_WAITALL) && avail < len && !recv_eof(t))
		return -EAGAIN;
	if (avail && len) {
		uint32_t n = (uint32_t)MIN(len, (size_t)avail);
		if (!(flags & SYNACK_TCP_RECV_TRUNC))
			ring_peek(&t->x->rcvq, 0, buf, n);
		if (flags & SYNACK_TCP_RECV_PEEK)
			return n;
		ring_consume(&t->x->rcvq, &t->st->mem, n, t->x->ooo.n > 0);
		tcp_rcvbuf_tune(t, n);
		if (t->state != SYNACK_TCP_CLOSED)
			tcp_output(t); /* maybe a window update */
		return n;
	}
	if (t->error)
		return t->error;
	if (t->peer_fin || t->state == SYNACK_TCP_CLOSED)
		return 0;
	return -EAGAIN;
}

ssize_t synack_tcp_recv_view(synack_tcp *c, const uint8_t **data)
{
	struct tcb *t = T(c);
	*data = NULL;
	if (t->state == SYNACK_TCP_LISTEN)
		return -EINVAL;
	if (t->rd_shut)
		return 0;
	uint32_t avail = t->x->rcvq.len - t->syn_held;
	if (avail)
		return MIN(ring_view(&t->x->rcvq, 0, data), avail);
	if (t->error)
		return t->error;
	if (t->peer_fin || t->state == SYNACK_TCP_CLOSED)
		return 0;
	return -EAGAIN;
}

/* RFC 9293 §3.10.4: CLOSE, per state. */
static void queue_fin(struct tcb *t)
{
	if (t->fin_queued)
		return;
	switch (t->state) {
	case SYNACK_TCP_SYN_RECEIVED:
		t->fin_queued = 1;
		break;
	case SYNACK_TCP_ESTABLISHED:
		t->fin_queued = 1;
		tcb_set_state(t, SYNACK_TCP_FIN_WAIT_1);
		break;
	case SYNACK_TCP_CLOSE_WAIT:
		t->fin_queued = 1;
		tcb_set_state(t, SYNACK_TCP_LAST_ACK);
		break;
	default:
		break;
	}
}

int synack_tcp_shutdown(synack_tcp *c, int how)
{
	struct tcb *t = T(c);
	if (how < SYNACK_SHUT_RD || how > SYNACK_SHUT_RDWR)
		return -EINVAL;
	if (t->state == SYNACK_TCP_LISTEN || t->state == SYNACK_TCP_CLOSED || t->state == SYNACK_TCP_SYN_SENT)
		return -ENOTCONN;
	if (!tcb_ext_get(t))
		return -ENOMEM;
	if (how & SYNACK_SHUT_RD) {
		t->rd_shut = 1;
		ring_consume(&t->x->rcvq, &t->st->mem, t->x->rcvq.len,
			     t->x->ooo.n > 0); /* unread text is discarded */
	}
	if (how & SYNACK_SHUT_WR) {
		queue_fin(t);
		tcp_output(t);
	}
	tcb_ext_idle(t);
	return 0;
}

/* Established children are reset; half-open ones just vanish, as a SYN
 * cache entry would. */
static void reset_children(struct tcb *l)
{
	for (struct tcb *c = l->x->accq.head; c; c = c->x->q_next)
		tcp_send_rst_tcb(c);
}

static void release(struct tcb *t)
{
	t->user = 0;
	t->orphan = 1;
	t->events = 0;
	tcb_ev_unlink(t);
}

int synack_tcp_abort(synack_tcp *c)
{
	struct tcb *t = T(c);
	if (t->state == SYNACK_TCP_LISTEN) {
		reset_children(t);
		tcb_free(t);
		return 0;
	}
	/* RFC 9293 §3.10.5: SYN-RECEIVED and synchronized states send a RST
	 * (not without memory for the connection's state: it goes anyway) */
	if (t->state >= SYNACK_TCP_SYN_RECEIVED && t->state != SYNACK_TCP_TIME_WAIT && tcb_ext_get(t))
		tcp_send_rst_tcb(t);
	release(t);
	tcb_close_state(t, -ECONNABORTED, 0);
	tcb_free(t);
	return 0;
}

int synack_tcp_close(synack_tcp *c)
{
	struct tcb *t = T(c);
	switch (t->state) {
	case SYNACK_TCP_LISTEN:
	case SYNACK_TCP_SYN_SENT:
		return synack_tcp_abort(c);
	case SYNACK_TCP_CLOSED:
		release(t);
		tcb_free(t);
		return 0;
	default:
		break;
	}
	/* RFC 1122 §4.2.2.13: closing with unread data loses it: reset */
	if (t->x->rcvq.len)
		return synack_tcp_abort(c);
	if (!tcb_ext_get(t))
		return -ENOMEM;
	release(t);
	queue_fin(t);
	if (t->state == SYNACK_TCP_FIN_WAIT_2 && tcfg(t)->fin_wait2_timeout)
		t->x->t_close = tnow(t) + tcfg(t)->fin_wait2_timeout;
	tcp_output(t);
	tcb_ext_idle(t); /* a TIME-WAIT let go shrinks to its core */
	return 0;
}

/* RFC 9293 §3.8.4: keepalive on or off, its timing. Limits as Linux's
 * (MAX_TCP_KEEPIDLE, MAX_TCP_KEEPINTVL, MAX_TCP_KEEPCNT). */
static int keep_setopt(struct tcb *t, int opt, int value)
{
	if (opt == SYNACK_TCP_KEEPALIVE) {
		if (value && !t->keepalive) /* the idle time counts from now */
			t->x->keep_heard = tnow(t);
		t->keepalive = value != 0;
		t->x->keep_probes = 0;
		/* like Linux, the first probe an idle time after it is switched on */
		t->x->t_keep = t->keepalive ? tnow(t) + SYNACK_SEC(t->x->keep_idle) : SYNACK_TIME_NEVER;
		if (!tcb_synchronized(t) || t->state == SYNACK_TCP_TIME_WAIT)
			t->x->t_keep = SYNACK_TIME_NEVER; /* armed when the peer is first heard */
	} else if (opt == SYNACK_TCP_KEEPCNT) {
		if (value < 1 || value > 127)
			return -EINVAL;
		t->x->keep_cnt = (uint8_t)value;
		return 0;
	} else {
		if (value < 1 || value > 32767)
			return -EINVAL;
		*(opt == SYNACK_TCP_KEEPIDLE ? &t->x->keep_idle : &t->x->keep_intvl) = (uint32_t)value;
		if (t->x->t_keep != SYNACK_TIME_NEVER)
			tcp_keep_arm(t); /* the idle time counts from the peer's last segment */
	}
	tcb_timer_update(t);
	return 0;
}

static int getopt_keep(const struct tcb *t, int opt)
{
	switch (opt) {
	case SYNACK_TCP_KEEPALIVE:
		return t->keepalive;
	case SYNACK_TCP_KEEPIDLE:
		return (int)t->x->keep_idle;
	case SYNACK_TCP_KEEPINTVL:
		return (int)t->x->keep_intvl;
	default:
		return t->x->keep_cnt;
	}
}

/* IP_TTL / IPV6_UNICAST_HOPS, IP_TOS / IPV6_TCLASS for this connection. */
static int ip_setopt(struct tcb *t, int opt, int value)
{
	if (opt == SYNACK_TCP_TTL) {
		if (value < -1 || value > 255)
			return -EINVAL;
		t->ip_ttl = (uint8_t)(value < 0 ? 0 : value);
		return 0;
	}
	if (value < 0 || value > 255)
		return -EINVAL;
	t->ip_tos = (uint8_t)value & (uint8_t)~TCP_IP_ECN_MASK; /* RFC 3168 §6.1: TCP sets ECN */
	return 0;
}

static int setopt(struct tcb *t, int opt, int value);

int synack_tcp_setopt(synack_tcp *c, int opt, int value)
{
	struct tcb *t = T(c);
	if (!tcb_ext_get(t))
		return -ENOMEM;
	int rc = setopt(t, opt, value);
	tcb_ext_idle(t);
	return rc;
}

static int setopt(struct tcb *t, int opt, int value)
{
	switch (opt) {
	case SYNACK_TCP_KEEPALIVE:
	case SYNACK_TCP_KEEPIDLE:
	case SYNACK_TCP_KEEPINTVL:
	case SYNACK_TCP_KEEPCNT:
		return keep_setopt(t, opt, value);
	case SYNACK_TCP_TTL:
	case SYNACK_TCP_TOS:
		return ip_setopt(t, opt, value);
	case SYNACK_TCP_NODELAY:
		t->nodelay = value != 0;
		if (t->nodelay && t->state != SYNACK_TCP_LISTEN && t->state != SYNACK_TCP_CLOSED)
			tcp_output(t);
		return 0;
	case SYNACK_TCP_SNDBUF:
		if (value < 1 || value > (1 << 30) || t->x->sndq.buf)
			return -EINVAL;
		t->sndbuf = (uint32_t)value;
		t->sndbuf_auto = 0; /* set by the application: fixed */
		return 0;
	case SYNACK_TCP_RCVBUF:
		if (value < 1 || value > (1 << 30) || t->x->rcvq.buf || t->state > SYNACK_TCP_LISTEN)
			return -EINVAL;
		t->rcvbuf = (uint32_t)value;
		t->rcvbuf_auto = 0;
		return 0;
	case SYNACK_TCP_MAXSEG:
		if (value < 64 || value > 65535)
			return -EINVAL;
		t->x->user_mss = (uint16_t)value;
		return 0;
	default:
		return -ENOPROTOOPT;
	}
}

int synack_tcp_getopt(synack_tcp *c, int opt, int *value)
{
	const struct tcb *t = CT(c);
	switch (opt) {
	case SYNACK_TCP_NODELAY:
		*value = t->nodelay;
		return 0;
	case SYNACK_TCP_SNDBUF:
		*value = (int)t->sndbuf;
		return 0;
	case SYNACK_TCP_RCVBUF:
		*value = (int)t->rcvbuf;
		return 0;
	case SYNACK_TCP_MAXSEG:
		*value = t->mss ? t->mss : t->x->user_mss ? t->x->user_mss : t->st->cfg.tcp.mss_default;
		return 0;
	case SYNACK_TCP_KEEPALIVE:
	case SYNACK_TCP_KEEPIDLE:
	case SYNACK_TCP_KEEPINTVL:
	case SYNACK_TCP_KEEPCNT:
		*value = getopt_keep(t, opt);
		return 0;
	case SYNACK_TCP_TTL:
		*value = t->ip_ttl ? t->ip_ttl : t->st->cfg.ttl;
		return 0;
	case SYNACK_TCP_TOS:
		*value = t->ip_tos;
		return 0;
	default:
		return -ENOPROTOOPT;
	}
}

int synack_tcp_state(const synack_tcp *c)
{
	return CT(c)->state;
}
int synack_tcp_error(const synack_tcp *c)
{
	return CT(c)->error;
}
uint32_t synack_tcp_pending(const synack_tcp *c)
{
	return CT(c)->events;
}
void synack_tcp_set_userdata(synack_tcp *c, void *p)
{
	T(c)->userdata = p;
}
void *synack_tcp_userdata(const synack_tcp *c)
{
	return CT(c)->userdata;
}

void synack_tcp_endpoints(const synack_tcp *c, synack_endpoint *local, synack_endpoint *remote)
{
	if (local)
		*local = CT(c)->local;
	if (remote)
		*remote = CT(c)->remote;
}

int synack_tcp_get_info(const synack_tcp *c, synack_tcp_info *i)
{
	const struct tcb *t = CT(c);
	struct tcb_ext tmp;
	const struct tcb_ext *x = tcb_ext_view(t, &tmp);
	memset(i, 0, sizeof *i);
	i->state = t->state;
	i->conn_id = t->id;
	i->iss = t->iss;
	i->irs = t->irs;
	i->snd_una = t->snd_una;
	i->snd_nxt = t->snd_nxt;
	i->snd_wnd = t->snd_wnd;
	i->rcv_nxt = t->rcv_nxt;
	i->rcv_wnd = t->state >= SYNACK_TCP_SYN_RECEIVED ? tcp_rcv_window(t) : 0;
	i->mss = t->mss;
	i->snd_wscale = t->snd_wscale;
	i->rcv_wscale = t->rcv_wscale;
	i->sack_ok = t->sack_ok;
	i->ts_ok = t->ts_ok;
	i->wscale_ok = t->ws_ok;
	i->srtt = t->srtt;
	i->rttvar = t->rttvar;
	i->rto = t->rto;
	i->cwnd = x->cwnd;
	i->ssthresh = x->ssthresh;
	i->retransmits = x->retransmits;
	i->backoff = x->backoff;
	i->bytes_sent = x->bytes_sent;
	i->bytes_received = x->bytes_received;
	i->bytes_acked = x->bytes_acked;
	i->send_queued = x->sndq.len;
	i->recv_queued = x->rcvq.len;
	i->ecn_ok = t->ecn_ok;
	return 0;
}

size_t synack_tcp_count_state(const synack_stack *st, int state)
{
	size_t n = 0;
	for (const struct tcb *t = tcps(st)->all; t; t = t->all_next)
		n += t->state == state;
	return n;
}

/* Like tcpdrop(8): TIME-WAIT goes quietly, synchronized states get a RST. */
size_t synack_tcp_drop_state(synack_stack *st, int state)
{
	struct tcp_stack *ts = tcps(st);
	size_t n = 0;
	if (state == SYNACK_TCP_LISTEN || state == SYNACK_TCP_CLOSED)
		return 0;
	for (struct tcb *t = ts->all, *next; t; t = next) {
		next = t->all_next; /* t may be freed below; no other TCB is */
		if (t->state != state)
			continue;
		/* (the RST needs the connection's extension: not without memory) */
		if (t->state >= SYNACK_TCP_SYN_RECEIVED && t->state != SYNACK_TCP_TIME_WAIT && tcb_ext_get(t))
			tcp_send_rst_tcb(t);
		tcb_close_state(t, -ECONNABORTED, SYNACK_EV_ERROR);
		tcb_maybe_free(t);
		n++;
	}
	return n;
}
