/* TCP segment arrival, RFC 9293 §3.10.7, hardened per RFC 5961, with
 * timestamps and PAWS per RFC 7323. Every handler returns a verdict (struct
 * tcp_verdict) labelled by outcome as in the BSD stacks: go on, done, drop
 * (counting why), drop after an ACK, after a challenge ACK, after a RST,
 * or abort the connection; tcp_input() carries it out in one place.
 * Handlers never free a TCB: tcp_input() does that once the segment is
 * fully processed. */
#include <string.h>

#include "tcp/tcp_internal.h"

static void trace_in(synack_stack *st, const struct tcb *t, const struct tcp_seg *s)
{
	synack_trace_rec *r = stack_trace(st, SYNACK_TRACE_SEG_IN);
	if (!r)
		return;
	r->conn_id = t ? t->id : 0;
	r->local = s->dst;
	r->remote = s->src;
	const struct wire_tcp *h = &s->h;
	r->seg = (synack_trace_seg){.seq = h->seq,
				    .ack = h->ack,
				    .wnd = h->wnd,
				    .flags = h->flags,
				    .len = (uint16_t)h->payload_len,
				    .mss = h->opt.has_mss ? h->opt.mss : 0,
				    .wscale = h->opt.wscale,
				    .sack_ok = h->opt.sack_ok,
				    .ts_present = h->opt.has_ts,
				    .ts_val = h->opt.ts_val,
				    .ts_ecr = h->opt.ts_ecr,
				    .sack_blocks = h->opt.nsack};
	_Static_assert(sizeof r->seg.sack == sizeof h->opt.sack, "trace keeps every SACK block");
	memcpy(r->seg.sack, h->opt.sack, sizeof r->seg.sack);
}

/* drop_synfin: a SYN+FIN cannot open a connection (LISTEN, SYN-SENT);
 * on a synchronized connection it is handled like any SYN. */
static bool synfin_refused(const synack_stack *st, const struct tcp_seg *s)
{
	return st->cfg.tcp.drop_synfin &&
	       (s->h.flags & (SYNACK_TCP_SYN | SYNACK_TCP_FIN)) == (SYNACK_TCP_SYN | SYNACK_TCP_FIN);
}

static int parse_seg(synack_stack *st, const struct net_rx *rx, struct tcp_seg *s)
{
	int drop = wire_tcp_parse(rx->l4, rx->l4_len, &s->h);
	if (drop)
		return drop;
	if (rx->csum_ok) /* the link vouched for it (a virtio-net header) */
		stack_count(st, SYNACK_CNT_TCP_CSUM_TRUSTED);
	else if (!wire_tcp_csum_ok(&rx->src, &rx->dst, rx->l4, rx->l4_len))
		return SYNACK_DROP_TCP_CHECKSUM;
	if (s->h.sport == 0 || s->h.dport == 0)
		return SYNACK_DROP_TCP_BAD_PORT;
	if ((s->h.flags & SYNACK_TCP_SYN) && (s->h.flags & SYNACK_TCP_RST))
		return SYNACK_DROP_TCP_BAD_FLAGS;
	s->src = (synack_endpoint){.addr = rx->src, .port = s->h.sport};
	s->dst = (synack_endpoint){.addr = rx->dst, .port = s->h.dport};
	s->len =
	    (uint32_t)s->h.payload_len + !!(s->h.flags & SYNACK_TCP_SYN) + !!(s->h.flags & SYNACK_TCP_FIN);
	s->syn_wnd = false;
	s->disordered = false;
	/* RFC 3168 §6.1.4: only data segments are ECT, so only their CE counts */
	s->ecn = s->h.payload_len ? rx->ecn : WIRE_ECN_NOT_ECT;
	return 0;
}

/* The one place where a verdict is carried out: count the drop, then
 * answer as the verdict says (t is NULL when no connection exists). */
static void verdict_apply(synack_stack *st, struct tcb *t, const struct tcp_seg *s, struct tcp_verdict v)
{
	if (v.why != TCP_UNCOUNTED)
		stack_drop(st, (enum synack_counter)v.why);
	switch (v.action) {
	case TCP_DROP_ACK:
		tcp_oow_ack(t);
		break;
	case TCP_DROP_CHALLENGE:
		tcp_challenge_ack(t);
		break;
	case TCP_DROP_RESET:
		tcp_respond_rst(st, s);
		break;
	case TCP_ABORT:
		tcp_send_rst_tcb(t);
		tcb_close_state(t, -ECONNRESET, SYNACK_EV_RESET | SYNACK_EV_ERROR);
		break;
	default:
		break;
	}
}

/* A segment for connection t: its state's handler, the verdict, then
 * whatever output follows (or t goes, if it reached CLOSED). */
static void conn_input(struct tcb *t, struct tcp_seg *seg)
{
	verdict_apply(t->st, t, seg,
		      t->state == SYNACK_TCP_SYN_SENT ? tcp_syn_sent_input(t, seg) : tcp_sync_input(t, seg));
	if (t->state == SYNACK_TCP_CLOSED) {
		tcb_maybe_free(t);
		return;
	}
	tcp_output(t);
	tcp_keep_heard(t); /* the peer is alive (tcp_keepalive.c) */
	tcb_ext_idle(t);
}

/* RFC 6191 §2 (RFC 9293 §3.6.1's MAY-2): a SYN for a connection in
 * TIME-WAIT opens a new incarnation, if a listener wants it and the SYN
 * cannot belong to the old one: with timestamps on the old connection and
 * in the SYN, its TSval is above TS.Recent; else its sequence number is
 * above RCV.NXT. Otherwise the SYN goes through the old connection as
 * before (RFC 5961 §4 challenge ACK). */
static bool time_wait_reopen(const struct tcb *t, const struct tcp_seg *seg)
{
	if (t->state != SYNACK_TCP_TIME_WAIT ||
	    (seg->h.flags & (SYNACK_TCP_SYN | SYNACK_TCP_ACK | SYNACK_TCP_RST)) != SYNACK_TCP_SYN ||
	    t->user || !tcb_lookup_listener(t->st, &seg->dst))
		return false;
	if (t->ts_ok && seg->h.opt.has_ts && tcfg(t)->ts_enable)
		return seq_gt(seg->h.opt.ts_val, t->ts_recent);
	return seq_gt(seg->h.seq, t->rcv_nxt);
}

void tcp_input(synack_stack *st, const struct net_rx *rx)
{
	struct tcp_seg seg;
	int drop = parse_seg(st, rx, &seg);
	if (drop) {
		stack_drop(st, (enum synack_counter)drop);
		return;
	}
	stack_count(st, SYNACK_CNT_TCP_IN);
	struct tcb *t = tcb_lookup(st, &seg.dst, &seg.src);
	if (!t) {
		struct tcb *l = tcb_lookup_listener(st, &seg.dst);
		trace_in(st, l, &seg);
		/* RFC 9293 §3.10.7.1: CLOSED, or §3.10.7.2: LISTEN */
		verdict_apply(st, NULL, &seg,
			      l ? tcp_listen_input(l, &seg)
				: tcp_verdict(TCP_DROP_RESET, SYNACK_DROP_TCP_NO_SOCKET));
		return;
	}
	trace_in(st, t, &seg);
	if (time_wait_reopen(t, &seg)) { /* (reads the core TCB only) */
		struct tcb *l = tcb_lookup_listener(st, &seg.dst);
		stack_count(st, SYNACK_CNT_TCP_TIME_WAIT_REUSED);
		tcb_close_state(t, 0, 0);
		tcb_maybe_free(t);
		verdict_apply(st, NULL, &seg, tcp_listen_input(l, &seg));
		return;
	}
	if (!tcb_ext_get(t)) { /* an idle connection's state (tcb.c) */
		stack_drop(st, SYNACK_DROP_TCP_NO_MEMORY);
		return;
	}
	conn_input(t, &seg);
}

/* ---- option negotiation on SYN and SYN-ACK ---- */

static void set_initial_cwnd(struct tcb *t)
{
	/* RFC 6928 §2: IW = min(10*MSS, max(2*MSS, 14600)) */
	t->x->cwnd = tcp_initial_window(t);
	t->x->ssthresh = UINT32_MAX;
	t->cc = tcp_cc_find(tcfg(t)->cc);
	tcb_cc(t)->init(t);
	/* the sequence marks of recovery start at the ISS (RFC 6582 §3.2's
	 * recover; the RACK edges of tcp_rack.c), whichever way it was chosen */
	t->x->recover = t->x->rack_edge = t->x->rack_cand = t->x->rack_armed = t->x->rack_fack = t->iss;
}

/* RFC 9293 §3.7.1 (MSS), RFC 7323 §2.2 and §3.2 (WS, TS), RFC 2018 §2. */
void tcp_negotiate(struct tcb *t, const struct wire_tcp_opts *o)
{
	const synack_tcp_config *c = tcfg(t);
	uint32_t peer_mss = o->has_mss ? o->mss : c->mss_default;
	uint32_t our_mss = (uint32_t)net_l4_mtu(t->st, &t->remote.addr) - WIRE_TCP_HDR;
	/* a peer's MSS below 88 (Linux's TCP_MIN_MSS) is raised to it, never
	 * above what one of our frames carries */
	uint32_t mss = MAX(MIN(peer_mss, our_mss), MIN(88u, our_mss));
	if (t->x->user_mss)
		mss = MIN(mss, t->x->user_mss);
	t->ws_ok = c->wscale_enable && o->wscale >= 0 && !t->noopt;
	if (t->ws_ok) {
		/* RFC 7323 §2.3: a shift above 14 is used as 14 */
		t->snd_wscale = (uint8_t)MIN(o->wscale, TCP_MAX_WSCALE);
		t->rcv_wscale = choose_rcv_wscale(rcvbuf_ceiling(t));
	} else {
		t->snd_wscale = t->rcv_wscale = 0;
	}
	t->ts_ok = c->ts_enable && o->has_ts && !t->noopt;
	if (t->ts_ok)
		t->ts_recent = o->ts_val;
	t->sack_ok = c->sack_enable && o->sack_ok && !t->noopt;
	if (c->rcvbuf_round_mss && mss && t->rcvbuf % mss)
		t->rcvbuf = MIN(t->rcvbuf + mss - t->rcvbuf % mss, 1u << 30);
	/* RFC 6691 §2: the MSS does not count options, the sender takes them
	 * off the data; timestamps go on every segment (SACK blocks: see
	 * tcp_seg_mss). mss is at least 28 here (IPv4's 68-byte minimum MTU). */
	if (t->ts_ok)
		mss = mss > TCP_TS_OPT_LEN + 8 ? mss - TCP_TS_OPT_LEN : 8;
	t->mss = (uint16_t)mss;
	set_initial_cwnd(t);
}

/* ---- LISTEN, RFC 9293 §3.10.7.2 ---- */

static struct tcb *spawn_child(struct tcb *l, const struct tcp_seg *seg)
{
	synack_stack *st = l->st;
	struct tcb *c = tcb_new(st);
	if (!c)
		return NULL;
	c->local = seg->dst;
	c->remote = seg->src;
	c->sndbuf = l->sndbuf;
	c->rcvbuf = l->rcvbuf;
	c->sndbuf_auto = l->sndbuf_auto;
	c->rcvbuf_auto = l->rcvbuf_auto;
	c->nodelay = l->nodelay;
	c->x->user_mss = l->x->user_mss;
	c->noopt = l->noopt;
	c->state = SYNACK_TCP_LISTEN;
	if (tcb_hash_insert(c) < 0) {
		tcb_free(c);
		return NULL;
	}
	tcb_child_add(l, c);
	return c;
}

/* The connection a valid cookie stands for (RFC 4987 §3.6), as the SYN
 * and the SYN-ACK we no longer hold had left it, in ESTABLISHED on the
 * listener's accept queue. */
static struct tcb *cookie_child(struct tcb *l, const struct tcp_seg *ack, const struct wire_tcp_opts *o)
{
	struct tcb *c = spawn_child(l, ack);
	if (!c)
		return NULL;
	c->iss = ack->h.ack - 1;
	c->snd_una = c->iss;
	c->snd_nxt = c->snd_max = c->data_seq = c->iss + 1;
	c->irs = ack->h.seq - 1;
	c->rcv_nxt = c->last_ack_sent = ack->h.seq;
	tcp_negotiate(c, o);
	c->rcv_adv = c->rcv_nxt + tcp_rcv_window(c); /* a SYN-ACK offers it all (tcp_emit) */
	c->snd_wl1 = c->irs;			     /* the ACK's window is taken below, scaled */
	c->snd_wl2 = c->iss;
	if (c->ts_ok) {
		c->ts_offset = tcp_ts_offset(l->st, &c->local, &c->remote);
		/* the echo of the cookie TSval runs up to 63 ms behind our
		 * clock: no RTT sample from it (RFC 7323 §4.2's stale echo) */
		c->rtx_seen = 1;
		c->x->ts_rtx = tcp_ts_now(c);
	}
	tcb_set_state(c, SYNACK_TCP_ESTABLISHED);
	tcb_child_ready(l, c);
	tcb_event(c, SYNACK_EV_CONNECTED | SYNACK_EV_WRITABLE);
	return c;
}

/* An ACK to a listener that sends cookies: the third segment of a cookie
 * handshake, or (not verifying) answered by a RST as any ACK to a
 * listener. The accept backlog holds as for any handshake: over it the
 * ACK is dropped, and the peer's retransmission (or its first data) will
 * carry the cookie again. The segment then goes through the new
 * connection, so data and FIN on it are kept. */
static struct tcp_verdict cookie_ack(struct tcb *l, struct tcp_seg *seg)
{
	synack_stack *st = l->st;
	struct wire_tcp_opts o;
	if (!tcp_cookie_check(l, seg, &o))
		return tcp_verdict(TCP_DROP_RESET, SYNACK_DROP_TCP_SYNCOOKIE_BAD);
	if (l->x->accq.count >= l->x->backlog)
		return tcp_verdict(TCP_DROP, SYNACK_DROP_TCP_ACCEPT_QUEUE_FULL);
	struct tcb *c = cookie_child(l, seg, &o);
	if (!c)
		return tcp_verdict(TCP_DROP, SYNACK_DROP_TCP_TOO_MANY);
	stack_count(st, SYNACK_CNT_TCP_SYNCOOKIES_VALID);
	stack_count(st, SYNACK_CNT_TCP_PASSIVE_OPENS);
	conn_input(c, seg);
	return TCP_HANDLED;
}

/* Which SYNs a listener refuses, and how (RFC 9293 §3.10.7.2 first to
 * third; the queues bounded as DESIGN.md asks). */
static struct tcp_verdict listen_check(const struct tcb *l, const struct tcp_seg *seg)
{
	uint8_t f = seg->h.flags;
	if (f & SYNACK_TCP_RST)
		return tcp_verdict(TCP_DROP, SYNACK_DROP_TCP_LISTEN_RST);
	if (f & SYNACK_TCP_ACK)
		return tcp_verdict(TCP_DROP_RESET, SYNACK_DROP_TCP_LISTEN_BAD);
	if (!(f & SYNACK_TCP_SYN))
		return tcp_verdict(TCP_DROP, SYNACK_DROP_TCP_LISTEN_BAD);
	if (synfin_refused(l->st, seg))
		return tcp_verdict(TCP_DROP, SYNACK_DROP_TCP_BAD_FLAGS);
	if (l->x->synq.count >= l->x->backlog && !tcp_cookie_wanted(l))
		return tcp_verdict(TCP_DROP, SYNACK_DROP_TCP_SYN_QUEUE_FULL);
	if (l->x->accq.count >= l->x->backlog)
		return tcp_verdict(TCP_DROP, SYNACK_DROP_TCP_ACCEPT_QUEUE_FULL);
	return TCP_GO;
}

struct tcp_verdict tcp_listen_input(struct tcb *l, struct tcp_seg *seg)
{
	synack_stack *st = l->st;
	uint8_t f = seg->h.flags & (SYNACK_TCP_SYN | SYNACK_TCP_ACK | SYNACK_TCP_RST);
	if (f == SYNACK_TCP_ACK && tcp_cookie_expected(l))
		return cookie_ack(l, seg);
	struct tcp_verdict v = listen_check(l, seg);
	if (v.action != TCP_CONTINUE)
		return v;
	if (tcp_cookie_wanted(l)) {
		tcp_cookie_send(l, seg); /* RFC 4987 §3.6: no state kept */
		return TCP_HANDLED;
	}
	struct tcb *c = spawn_child(l, seg);
	if (!c)
		return tcp_verdict(TCP_DROP, SYNACK_DROP_TCP_TOO_MANY);
	stack_count(st, SYNACK_CNT_TCP_PASSIVE_OPENS);
	tcb_init_seq(c);
	c->irs = seg->h.seq;
	c->rcv_nxt = c->rcv_adv = seg->h.seq + 1;
	tcp_negotiate(c, &seg->h.opt);
	tcp_ecn_syn_in(c, seg);
	c->snd_wnd = seg->h.wnd; /* RFC 7323 §2.2: never scaled in a SYN */
	c->max_sndwnd = c->snd_wnd;
	c->snd_wl1 = seg->h.seq;
	c->snd_wl2 = c->iss;
	/* Data carried on the SYN is not queued; the peer retransmits it. */
	tcb_set_state(c, SYNACK_TCP_SYN_RECEIVED);
	c->rtt_timing = 1;
	c->x->rtt_seq = c->iss;
	c->x->rtt_start = st->now;
	tcp_send_syn(c);
	tcb_timer_update(c);
	return TCP_HANDLED;
}

/* ---- SYN-SENT, RFC 9293 §3.10.7.3 ---- */

/* "If there are other controls or text in the segment, queue them for
 * processing after the ESTABLISHED state has been reached": the text is
 * kept (as much as the buffer takes); a FIN here is not (the peer repeats
 * it). */
static void syn_data(struct tcb *t, const struct tcp_seg *seg, bool hold)
{
	uint32_t n = (uint32_t)MIN(seg->h.payload_len, (size_t)MIN(t->rcvbuf, 65535u));
	if (!n || ring_push(&t->x->rcvq, &t->st->mem, t->rcvbuf, seg->h.payload, n) != n)
		return;
	if (hold) {
		/* simultaneous open: acknowledged once ESTABLISHED (tcp_sync.c) */
		t->syn_held = (uint16_t)n;
		return;
	}
	t->rcv_nxt += n;
	t->rcv_adv += n;
	t->x->bytes_received += n;
	t->ack_now = 1;
	tcb_event(t, SYNACK_EV_READABLE);
}

static void syn_sent_established(struct tcb *t, const struct tcp_seg *seg)
{
	t->snd_una = t->x->rack_fack = seg->h.ack; /* (the passive side: tcp_rack_sacked) */
	t->snd_wnd = seg->h.wnd;		   /* the SYN-ACK's window is not scaled */
	t->max_sndwnd = t->snd_wnd;
	t->snd_wl1 = seg->h.seq;
	t->snd_wl2 = seg->h.ack;
	if (t->rtt_timing && t->x->backoff == 0)
		tcp_rtt_sample(t, tnow(t) - t->x->rtt_start);
	else if (t->srtt == 0) /* RFC 6298 §5.7: the SYN timed out: RTO 3 s */
		t->rto = MAX(t->rto, MIN(SYNACK_SEC(3), tcfg(t)->rto_max));
	t->rtt_timing = 0;
	t->x->backoff = 0;
	t->x->t_rtx = SYNACK_TIME_NEVER;
	tcb_set_state(t, SYNACK_TCP_ESTABLISHED);
	t->ack_now = 1;
	tcb_event(t, SYNACK_EV_CONNECTED | SYNACK_EV_WRITABLE);
}

struct tcp_verdict tcp_syn_sent_input(struct tcb *t, struct tcp_seg *seg)
{
	synack_stack *st = t->st;
	uint8_t f = seg->h.flags;
	bool ack_ok = false;
	if (f & SYNACK_TCP_ACK) {
		/* an unacceptable ACK gets a RST (not a RST: that is never answered) */
		if (seq_leq(seg->h.ack, t->iss) || seq_gt(seg->h.ack, t->snd_max))
			return tcp_verdict(TCP_DROP_RESET, SYNACK_DROP_TCP_BAD_ACK);
		ack_ok = true;
	}
	if (f & SYNACK_TCP_RST) {
		if (!ack_ok)
			return tcp_verdict(TCP_DROP, SYNACK_DROP_TCP_RST_INVALID);
		stack_count(st, SYNACK_CNT_TCP_RESETS_RECEIVED);
		tcb_close_state(t, -ECONNREFUSED, SYNACK_EV_ERROR);
		return TCP_HANDLED;
	}
	if (!(f & SYNACK_TCP_SYN) || synfin_refused(st, seg))
		return tcp_verdict(TCP_DROP, SYNACK_DROP_TCP_BAD_FLAGS);
	t->irs = seg->h.seq;
	t->rcv_nxt = t->rcv_adv = seg->h.seq + 1;
	tcp_negotiate(t, &seg->h.opt);
	if (ack_ok)
		tcp_ecn_synack_in(t, seg);
	else
		tcp_ecn_syn_in(t, seg); /* simultaneous open */
	syn_data(t, seg, !ack_ok);
	if (ack_ok) {
		syn_sent_established(t, seg);
		return TCP_HANDLED;
	}
	/* Simultaneous open: SYN-RECEIVED, <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK> */
	t->snd_wnd = seg->h.wnd;
	t->max_sndwnd = t->snd_wnd;
	t->snd_wl1 = seg->h.seq;
	tcb_set_state(t, SYNACK_TCP_SYN_RECEIVED);
	tcp_emit(t, t->iss, SYNACK_TCP_SYN | SYNACK_TCP_ACK, 0, 0);
	return TCP_HANDLED;
}
