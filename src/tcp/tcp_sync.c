/* Segment arrival in the synchronized states and SYN-RECEIVED, RFC 9293
 * §3.10.7.4 "Other states", steps one to eight, with RFC 5961 §3-§5 and
 * RFC 7323 §5 (PAWS). Each step returns a verdict (tcp_internal.h):
 * TCP_CONTINUE to go on to the next, anything else ends the segment and
 * tcp_input() carries it out. */
#include <string.h>

#include "tcp/tcp_internal.h"

/* RFC 9293 §3.10.7.4 answers every unacceptable segment with an ACK. Two
 * ends out of step would answer each other's answers forever (an "ACK
 * war"), so, like FreeBSD (ack_war_cnt) and Linux (tcp_invalid_ratelimit),
 * at most TCP_OOW_ACK_MAX such ACKs go out per second per connection. */
void tcp_oow_ack(struct tcb *t)
{
	if (tnow(t) - t->x->oow_start >= SYNACK_SEC(1)) {
		t->x->oow_start = tnow(t);
		t->x->oow_count = 0;
	}
	if (t->x->oow_count >= TCP_OOW_ACK_MAX) {
		stack_count(t->st, SYNACK_CNT_TCP_OOW_ACKS_LIMITED);
		return;
	}
	t->x->oow_count++;
	t->ack_now = 1;
}

/* RFC 9293 §3.10.7.4 first: the four acceptability cases. */
static bool seq_acceptable(const struct tcb *t, const struct tcp_seg *s, uint32_t wnd)
{
	uint32_t seq = s->h.seq;
	if (s->len == 0) {
		if (wnd == 0)
			return seq == t->rcv_nxt;
		return seq_in(seq, t->rcv_nxt, t->rcv_nxt + wnd);
	}
	if (wnd == 0)
		return false;
	return seq_in(seq, t->rcv_nxt, t->rcv_nxt + wnd) ||
	       seq_in(seq + s->len - 1, t->rcv_nxt, t->rcv_nxt + wnd);
}

/* RCV.WND for the acceptability tests: what we advertised or, once
 * synchronized, the free buffer space if larger (the 16-bit field and the
 * scale can only round it down; like the BSD stacks we accept what we have
 * room for). A passive SYN-RECEIVED and TIME-WAIT use what was advertised,
 * as a SYN cache and a TIME-WAIT stub would. */
static uint32_t accept_window(const struct tcb *t)
{
	uint32_t wnd = tcp_rcv_window(t);
	if ((t->state == SYNACK_TCP_SYN_RECEIVED && t->x->parent) || t->state == SYNACK_TCP_TIME_WAIT)
		return wnd;
	return MAX(wnd, rcv_space(t));
}

/* An old duplicate (entirely before RCV.NXT, within a window of it) with an
 * ACK: RFC 9293 §3.10.7.4 drops it after sending an ACK; like the BSD
 * stacks, synack still sends that ACK but also lets its ACK field count
 * (the RFC 5961 §5 range check still applies), so a peer that acknowledges
 * our FIN without counting its own FIN is not ignored. Text and FIN are
 * dropped. */
static bool old_duplicate(const struct tcb *t, const struct tcp_seg *s)
{
	uint32_t end = s->h.seq + s->len;
	return (s->h.flags & SYNACK_TCP_ACK) && seq_leq(end, t->rcv_nxt) &&
	       seq_geq(s->h.seq, t->rcv_nxt - MAX(t->rcvbuf, 65535u));
}

/* RFC 2883 §4: a duplicate segment is reported in the first SACK block of
 * the ACK it draws (one per ACK: the latest wins). */
static void note_dsack(struct tcb *t, uint32_t l, uint32_t r)
{
	if (!t->sack_ok || !seq_lt(l, r))
		return;
	t->x->dsack[0] = l;
	t->x->dsack[1] = r;
	t->dsack_pending = 1;
	stack_count(t->st, SYNACK_CNT_TCP_DSACKS_SENT);
}

/* Trim the segment to the window: leading bytes already received (a SYN
 * there goes first) and trailing bytes beyond the window (then no FIN). */
static void trim_to_window(struct tcb *t, struct tcp_seg *s, uint32_t wnd)
{
	struct wire_tcp *h = &s->h;
	if (seq_lt(h->seq, t->rcv_nxt)) {
		uint32_t skip = t->rcv_nxt - h->seq;
		if (h->payload_len && !(h->flags & SYNACK_TCP_SYN))
			note_dsack(t, h->seq, h->seq + MIN(skip, (uint32_t)h->payload_len));
		if (h->flags & SYNACK_TCP_SYN) {
			h->flags &= (uint8_t)~SYNACK_TCP_SYN;
			h->seq++;
			skip--;
		}
		skip = MIN(skip, (uint32_t)h->payload_len);
		h->payload += skip;
		h->payload_len -= skip;
		h->seq += skip;
		if (seq_lt(h->seq, t->rcv_nxt) && (h->flags & SYNACK_TCP_FIN))
			h->flags &= (uint8_t)~SYNACK_TCP_FIN; /* an old FIN */
	}
	uint32_t right = t->rcv_nxt + wnd;
	if (seq_gt(h->seq + (uint32_t)h->payload_len, right)) {
		uint32_t keep = seq_gt(right, h->seq) ? right - h->seq : 0;
		h->payload_len = keep;
		h->flags &= (uint8_t)~SYNACK_TCP_FIN;
	}
	s->len = (uint32_t)h->payload_len + !!(h->flags & SYNACK_TCP_SYN) + !!(h->flags & SYNACK_TCP_FIN);
}

/* A pure duplicate ACK overtaken by a later segment carries an older
 * timestamp than TS.Recent. PAWS exists to keep old data out (RFC 7323
 * §5); such an ACK brings none, and dropping it loses the duplicate ACKs
 * and SACK blocks that loss recovery counts on. Like Linux (its
 * "disordered ACK" test), let it through when it is a pure ACK at
 * RCV.NXT, acknowledges nothing new, offers no larger window, and its
 * timestamp is at most one RTO old. It updates neither TS.Recent nor the
 * send window (its window is older than the one we have). */
static bool disordered_ack(const struct tcb *t, const struct tcp_seg *s)
{
	const struct wire_tcp *h = &s->h;
	uint32_t age_ms = t->ts_recent - h->opt.ts_val;
	return h->flags == SYNACK_TCP_ACK && !h->payload_len && h->seq == t->rcv_nxt &&
	       h->ack == t->snd_una && ((uint32_t)h->wnd << t->snd_wscale) <= t->snd_wnd &&
	       (synack_time_t)age_ms * 1000 <= t->rto;
}

/* RFC 7323 §5.3: PAWS. Returns true if the segment must be dropped. */
static bool paws_reject(struct tcb *t, struct tcp_seg *s)
{
	if (!t->ts_ok || !s->h.opt.has_ts || (s->h.flags & SYNACK_TCP_RST))
		return false;
	if ((int32_t)(s->h.opt.ts_val - t->ts_recent) >= 0)
		return false;
	if (disordered_ack(t, s)) {
		s->disordered = true;
		stack_count(t->st, SYNACK_CNT_TCP_PAWS_DISORDERED_ACKS);
		return false;
	}
	return true;
}

/* RFC 9293 §3.10.7.4 second: RST, with RFC 5961 §3.2 and RFC 1337. */
static struct tcp_verdict rst_input(struct tcb *t, const struct tcp_seg *s)
{
	if (tcfg(t)->rfc5961_rst && s->h.seq != t->rcv_nxt)
		return tcp_verdict(TCP_DROP_CHALLENGE, SYNACK_DROP_TCP_RST_INVALID);
	if (t->state == SYNACK_TCP_TIME_WAIT && tcfg(t)->time_wait_rst_protect)
		return tcp_verdict(TCP_DROP, SYNACK_DROP_TCP_TIME_WAIT_RST);
	stack_count(t->st, SYNACK_CNT_TCP_RESETS_RECEIVED);
	switch (t->state) {
	case SYNACK_TCP_SYN_RECEIVED:
		/* passive: back to LISTEN, i.e. this child goes away;
		 * active: connection refused */
		tcb_close_state(t, t->x->parent ? 0 : -ECONNREFUSED, t->x->parent ? 0 : SYNACK_EV_ERROR);
		break;
	case SYNACK_TCP_ESTABLISHED:
	case SYNACK_TCP_FIN_WAIT_1:
	case SYNACK_TCP_FIN_WAIT_2:
	case SYNACK_TCP_CLOSE_WAIT:
		tcb_close_state(t, -ECONNRESET, SYNACK_EV_RESET | SYNACK_EV_ERROR);
		break;
	default: /* CLOSING, LAST-ACK, TIME-WAIT: a handle still held hears of it */
		tcb_close_state(t, t->user ? -ECONNRESET : 0, t->user ? SYNACK_EV_RESET : 0);
		break;
	}
	return TCP_HANDLED;
}

/* RFC 9293 §3.10.7.4 fourth: SYN in a synchronized state, RFC 5961 §4. */
static struct tcp_verdict syn_input(struct tcb *t, bool in_window)
{
	if (t->state == SYNACK_TCP_SYN_RECEIVED && t->x->parent) {
		tcb_close_state(t, 0, 0); /* passive open: back to LISTEN */
		return TCP_HANDLED;
	}
	if (tcfg(t)->rfc5961_syn || !in_window)
		return tcp_verdict(TCP_DROP_CHALLENGE, SYNACK_DROP_TCP_SYN_IN_WINDOW);
	/* RFC 793 behaviour: a SYN in the window resets the connection */
	return tcp_verdict(TCP_ABORT, SYNACK_DROP_TCP_SYN_IN_WINDOW);
}

static void update_window(struct tcb *t, const struct tcp_seg *s)
{
	const struct wire_tcp *h = &s->h;
	if (!(seq_lt(t->snd_wl1, h->seq) || (t->snd_wl1 == h->seq && seq_leq(t->snd_wl2, h->ack))))
		return;
	uint32_t wnd = s->syn_wnd ? h->wnd : (uint32_t)h->wnd << t->snd_wscale;
	t->snd_wnd = wnd;
	t->snd_wl1 = h->seq;
	t->snd_wl2 = h->ack;
	t->max_sndwnd = MAX(t->max_sndwnd, wnd);
	if (wnd > 0 && t->x->t_persist != SYNACK_TIME_NEVER) {
		t->x->t_persist = SYNACK_TIME_NEVER;
		t->x->persist_backoff = 0;
		if (t->snd_nxt != t->snd_max)
			tcp_rtx_arm(t);
	}
}

/* Outside recovery: the module grows cwnd (tcp_cc.h). RFC 7661 §4.1 in
 * spirit: only while the window was in use, so an application-limited
 * sender does not build an unbounded cwnd. */
static void cc_on_ack(struct tcb *t, uint32_t acked, uint32_t flight, synack_time_t rtt)
{
	if (flight * 2 < t->x->cwnd)
		return;
	struct tcp_ack_sample a = {.acked = acked, .flight = flight, .rtt = rtt};
	tcb_cc(t)->on_ack(t, &a);
}

/* NewReno (RFC 6582 §3.2 step 3), for peers without SACK: a partial ACK
 * resends the next hole, a full one ends recovery. */
static void newreno_partial(struct tcb *t, uint32_t acked)
{
	if (seq_geq(t->snd_una, t->x->recover)) {
		t->in_recovery = 0;
		t->x->cwnd = MIN(t->x->ssthresh, MAX(t->snd_max - t->snd_una, (uint32_t)t->mss) + t->mss);
		tcb_cc(t)->on_recovery_end(t);
		tcp_cwv_on_recovery_end(t);
		tcp_undo_recovery_end(t);
		return;
	}
	t->x->cwnd = t->x->cwnd > acked ? t->x->cwnd - acked + t->mss : t->mss;
	tcp_retransmit_head(t);
}

static synack_time_t rtt_on_ack(struct tcb *t, const struct tcp_seg *s)
{
	/* RFC 7323 §4.1: with timestamps, any ACK advancing SND.UNA measures */
	/* An echo older than our last retransmission may belong to the original
	 * transmission: ambiguous like Karn's case, so no sample (RFC 7323 §4.2). */
	bool stale = t->rtx_seen && (int32_t)(s->h.opt.ts_ecr - t->x->ts_rtx) < 0;
	synack_time_t rtt = 0;
	if (t->ts_ok && s->h.opt.has_ts && s->h.opt.ts_ecr && !stale) {
		uint32_t ms = tcp_ts_now(t) - s->h.opt.ts_ecr;
		if (ms < 600000)
			rtt = (synack_time_t)ms * 1000 + 500;
		t->rtt_timing = 0;
	} else if (t->rtt_timing && seq_gt(s->h.ack, t->x->rtt_seq)) {
		rtt = tnow(t) - t->x->rtt_start; /* Karn: only if not retransmitted */
		t->rtt_timing = 0;
	}
	if (rtt) {
		tcp_rtt_sample(t, rtt);
		/* RFC 9406 §4.2 samples ACKs of data ("N bytes acknowledged"):
		 * not the SYN's, which the active side never feeds it either */
		if (tcb_cc(t)->on_rtt && seq_gt(s->h.ack, t->iss + 1))
			tcb_cc(t)->on_rtt(t, rtt);
	}
	return rtt;
}

/* SND.UNA < SEG.ACK =< SND.MAX: new data acknowledged. */
static void ack_advance(struct tcb *t, const struct tcp_seg *s)
{
	uint32_t ack = s->h.ack;
	uint32_t flight = t->snd_max - t->snd_una;
	uint32_t data = seq_gt(ack, t->data_seq) ? MIN(ack - t->data_seq, t->x->sndq.len) : 0;
	ring_consume(&t->x->sndq, &t->st->mem, data, false);
	t->data_seq += data;
	t->x->bytes_acked += data;
	t->snd_una = ack;
	if (seq_lt(t->snd_nxt, t->snd_una))
		t->snd_nxt = t->snd_una;
	/* RFC 2018 §8: a receiver may renege on what it SACKed; an ACK that
	 * stops at a SACKed range shows it did: forget them all */
	if (t->x->sacked.n && t->x->sacked.r[0][0] == ack)
		tcp_sack_clear(t);
	tcp_sack_trim(t);
	synack_time_t rtt = rtt_on_ack(t, s);
	t->x->backoff = 0;
	t->x->dupacks = 0;
	if (t->in_recovery && !t->sack_ok)
		newreno_partial(t, data);
	else if (data && !t->in_recovery && !tcp_ecn_holds_cwnd(t, s))
		cc_on_ack(t, data, flight, rtt); /* RFC 3465: count bytes of data, not the SYN or FIN */
	if (data)
		tcp_cwv_on_ack(t); /* RFC 7661 §4.2 */
	/* RFC 6298 §5.2, §5.3 */
	if (t->snd_una == t->snd_max)
		t->x->t_rtx = SYNACK_TIME_NEVER;
	else
		tcp_rtx_arm(t);
	if (data && t->want_write && t->x->sndq.len < t->sndbuf) {
		t->want_write = 0;
		tcb_event(t, SYNACK_EV_WRITABLE);
	}
}

/* A duplicate ACK. RFC 5681 §2: no data, no SYN/FIN, data outstanding,
 * the same window, not a zero-window probe's answer. With SACK, RFC 6675
 * §2: any ACK at SND.UNA that SACKs new data, whatever its window (a Linux
 * receiver's window moves on nearly every ACK while its reader runs). */
bool tcp_is_dup_ack(const struct tcb *t, const struct tcp_seg *s, uint32_t newly_sacked)
{
	if (s->h.payload_len || (s->h.flags & (SYNACK_TCP_SYN | SYNACK_TCP_FIN)) || t->snd_una == t->snd_max)
		return false;
	if (newly_sacked)
		return true;
	return ((uint32_t)s->h.wnd << t->snd_wscale) == t->snd_wnd && t->snd_wnd != 0;
}

/* RFC 5681 §3.2 and RFC 6582 §3.2 without SACK: the third duplicate ACK
 * retransmits and starts NewReno recovery, later ones inflate cwnd. */
static void newreno_dup_ack(struct tcb *t)
{
	if (t->in_recovery) {
		if (t->x->cwnd < (1u << 30))
			t->x->cwnd += t->mss; /* inflate */
		return;
	}
	/* RFC 6582 §4.1: not again for losses of data sent before the last
	 * recovery or timeout (SND.UNA must have passed "recover") */
	if (t->x->dupacks != TCP_DUPTHRESH || !seq_gt(t->snd_una, t->x->recover))
		return;
	tcp_undo_begin(t);
	if (!tcp_ecn_reducing(t)) { /* RFC 3168 §6.1.2: once per window */
		t->x->ssthresh = tcb_cc(t)->ssthresh(t);
		tcp_cwv_on_loss(t); /* RFC 7661 §4.4.1 */
	}
	t->x->recover = t->snd_max;
	t->in_recovery = 1;
	t->x->cwnd = t->x->ssthresh + 3u * t->mss;
	stack_count(t->st, SYNACK_CNT_TCP_FAST_RETRANSMITS);
	tcb_trace_note(t, SYNACK_NOTE_FAST_RETRANSMIT);
	tcp_retransmit_head(t);
}

/* RFC 6937 §3 DeliveredData: change in SND.UNA plus change in SACKed
 * bytes (which falls when the cumulative ACK covers SACKed ranges). */
static uint32_t delivered(uint32_t acked, uint32_t sacked_before, uint32_t sacked_after)
{
	int64_t d = (int64_t)acked + (int64_t)sacked_after - (int64_t)sacked_before;
	return d > 0 ? (uint32_t)d : 0;
}

/* RFC 6675 §5: with SACK, loss recovery starts on the DupThresh-th
 * duplicate ACK or as soon as IsLost(HighACK + 1), not before SND.UNA
 * reached the end of the last recovery or RTO (§5.1); every ACK within it
 * goes through PRR (RFC 6937). delivered: RFC 6937's DeliveredData. */
static void sack_loss_on_ack(struct tcb *t, uint32_t delivered)
{
	if (t->in_recovery) {
		tcp_recovery_on_ack(t, delivered);
		return;
	}
	if (t->snd_una == t->snd_max || seq_lt(t->snd_una, t->x->recover))
		return; /* §5.1: "until HighACK is greater than or equal to" it */
	if ((t->x->dupacks >= TCP_DUPTHRESH && !t->x->reord_seen) || tcp_sack_head_lost(t)) {
		tcp_recovery_enter(t);
		tcp_recovery_on_ack(t, delivered);
	}
}

static bool fin_acked(const struct tcb *t)
{
	return t->fin_sent && seq_gt(t->snd_una, t->x->fin_seq);
}

/* SYN-RECEIVED + acceptable ACK: the handshake completes (§3.10.7.4 fifth). */
static struct tcp_verdict synrcvd_ack(struct tcb *t, const struct tcp_seg *s)
{
	struct tcb *l = t->x->parent;
	if (l && l->x->accq.count >= l->x->backlog) /* stay in SYN-RECEIVED; the peer retransmits */
		return tcp_verdict(TCP_DROP, SYNACK_DROP_TCP_ACCEPT_QUEUE_FULL);
	t->snd_wnd = s->syn_wnd ? s->h.wnd : (uint32_t)s->h.wnd << t->snd_wscale;
	t->max_sndwnd = MAX(t->max_sndwnd, t->snd_wnd);
	t->snd_wl1 = s->h.seq;
	t->snd_wl2 = s->h.ack;
	/* RFC 6298 §5.7: the SYN-ACK timed out and no sample follows: RTO 3 s
	 * (a sample taken from this ACK below replaces it) */
	if (t->srtt == 0 && t->x->backoff)
		t->rto = MAX(t->rto, MIN(SYNACK_SEC(3), tcfg(t)->rto_max));
	tcb_set_state(t, SYNACK_TCP_ESTABLISHED);
	if (t->syn_held) {
		/* text that came with the peer's SYN (simultaneous open) */
		t->rcv_nxt += t->syn_held;
		t->rcv_adv = seq_max(t->rcv_adv, t->rcv_nxt);
		t->x->bytes_received += t->syn_held;
		t->syn_held = 0;
		if (t->x->t_delack == SYNACK_TIME_NEVER)
			t->x->t_delack = tnow(t) + tcfg(t)->delack;
		tcb_event(t, SYNACK_EV_READABLE);
	}
	if (t->fin_queued)
		tcb_set_state(t, SYNACK_TCP_FIN_WAIT_1); /* closed during the handshake */
	if (l)
		tcb_child_ready(l, t); /* from the SYN-RECEIVED list to the accept queue */
	tcb_event(t, SYNACK_EV_CONNECTED | SYNACK_EV_WRITABLE);
	return TCP_GO;
}

/* §3.10.7.4 fifth: is the ACK field acceptable? In SYN-RECEIVED an
 * acceptable one completes the handshake. */
static struct tcp_verdict ack_accept(struct tcb *t, const struct tcp_seg *s)
{
	uint32_t ack = s->h.ack;
	if (t->state == SYNACK_TCP_SYN_RECEIVED) {
		if (!(seq_lt(t->snd_una, ack) && seq_leq(ack, t->snd_max)))
			return tcp_verdict(TCP_DROP_RESET, SYNACK_DROP_TCP_BAD_ACK);
		struct tcp_verdict v = synrcvd_ack(t, s);
		if (v.action != TCP_CONTINUE)
			return v;
	}
	/* RFC 5961 §5.2: SND.UNA - MAX.SND.WND =< SEG.ACK =< SND.NXT */
	if (tcfg(t)->rfc5961_ack && seq_lt(ack, t->snd_una - MAX(t->max_sndwnd, 1u)))
		return tcp_verdict(TCP_DROP_CHALLENGE, SYNACK_DROP_TCP_BAD_ACK);
	if (seq_gt(ack, t->snd_max))
		return tcp_verdict(TCP_DROP_ACK, SYNACK_DROP_TCP_BAD_ACK);
	return TCP_GO;
}

/* §3.10.7.4 fifth: the ACK field. */
static struct tcp_verdict ack_input(struct tcb *t, struct tcp_seg *s)
{
	uint32_t ack = s->h.ack;
	struct tcp_verdict v = ack_accept(t, s);
	if (v.action != TCP_CONTINUE)
		return v;
	t->x->probes_unanswered = 0; /* the peer is alive */
	uint32_t una = t->snd_una, sacked = t->x->sacked_bytes;
	uint32_t frto_covered = t->frto == 2 ? tcp_frto_covered(t) : 0;
	if (seq_gt(ack, una) && seq_gt(t->x->rack_fack, una)) {
		/* RFC 8985 §6.2 step 3: bytes the cumulative ACK covers below
		 * RACK.fack that no SACK had reported: a hole filled */
		uint32_t hi = seq_min(ack, t->x->rack_fack);
		if (tcp_sacked_in(t, una, hi) < hi - una)
			tcp_rack_delivered_below_fack(t, una, hi);
	}
	if (seq_gt(ack, t->snd_una))
		ack_advance(t, s);
	uint32_t newly = 0;
	if (t->sack_ok && s->h.opt.nsack && seq_geq(ack, una))
		newly = tcp_sack_update(t, &s->h.opt, ack);
	if (t->sack_ok && seq_geq(ack, una))
		tcp_rack_update_fack(t);
	if (t->frto && seq_geq(ack, una))
		tcp_frto_on_ack(t, s, una, frto_covered, newly); /* RFC 5682 */
	if (ack == una) {
		if (tcp_is_dup_ack(t, s, newly)) {
			if (t->x->dupacks < 255)
				t->x->dupacks++;
			if (!t->sack_ok)
				newreno_dup_ack(t);
		} else if (!t->sack_ok) {
			t->x->dupacks = 0;
		}
	}
	if (t->sack_ok && newly)
		tcp_rack_arm(t);
	if (t->in_recovery && t->sack_ok)
		tcp_rack_on_ack(t);
	if (seq_geq(ack, una))
		tcp_tlp_on_ack(t);
	if (t->sack_ok && seq_geq(ack, una) && tcb_synchronized(t))
		sack_loss_on_ack(t, delivered(ack - una, sacked, t->x->sacked_bytes));
	/* RFC 8985 §7.2: on an ACK of new data, once this ACK has ended any
	 * recovery and settled the probe it answered (an ACK that ends
	 * recovery with data still in flight needs the probe most) */
	if (seq_gt(ack, una))
		tcp_tlp_arm(t);
	tcp_ecn_ack_input(t, s); /* RFC 3168 §6.1.2, after any loss reaction */
	if (seq_geq(ack, t->snd_una) && !s->disordered)
		update_window(t, s);
	switch (t->state) {
	case SYNACK_TCP_FIN_WAIT_1:
		if (fin_acked(t)) {
			tcb_set_state(t, SYNACK_TCP_FIN_WAIT_2);
			if (t->orphan && tcfg(t)->fin_wait2_timeout)
				t->x->t_close = tnow(t) + tcfg(t)->fin_wait2_timeout;
		}
		break;
	case SYNACK_TCP_CLOSING:
		if (fin_acked(t)) {
			tcp_time_wait_enter(t);
			/* the peer's FIN was acknowledged on the way into CLOSING;
			 * an old duplicate that completes the close needs no reply */
			if (!s->h.payload_len && !(s->h.flags & SYNACK_TCP_FIN))
				t->ack_now = 0;
		}
		break;
	case SYNACK_TCP_LAST_ACK:
		if (fin_acked(t)) {
			tcb_close_state(t, 0, 0);
			return TCP_HANDLED;
		}
		break;
	default:
		break;
	}
	return TCP_GO;
}

static void ooo_insert(struct tcb *t, uint32_t start, uint32_t end)
{
	uint16_t limit = (uint16_t)MIN(tcfg(t)->ooo_max_ranges, TCP_OOO_MAX);
	if (tcp_ranges_add(&t->x->ooo, &t->st->mem, limit, start, end) < 0) {
		stack_drop(t->st, SYNACK_DROP_TCP_OOO_FULL);
		return;
	}
	stack_count(t->st, SYNACK_CNT_TCP_OOO_QUEUED);
	tcb_trace_note(t, SYNACK_NOTE_OOO_QUEUED);
}

/* After RCV.NXT advanced: absorb out-of-order ranges it reached. */
static bool ooo_drain(struct tcb *t)
{
	bool any = false;
	while (t->x->ooo.n && seq_leq(t->x->ooo.r[0][0], t->rcv_nxt)) {
		if (seq_gt(t->x->ooo.r[0][1], t->rcv_nxt)) {
			uint32_t more = t->x->ooo.r[0][1] - t->rcv_nxt;
			ring_extend(&t->x->rcvq, more);
			t->rcv_nxt += more;
		}
		tcp_ranges_remove(&t->x->ooo, 0);
		any = true;
	}
	return any;
}

/* RFC 9293 §3.8.6.3: ACK at least every second full segment, and at once
 * for out-of-order data or when filling a hole. */
static void schedule_ack(struct tcb *t, uint32_t len, bool hole)
{
	if (hole) {
		t->ack_now = 1;
		return;
	}
	/* a segment larger than the MSS (the kernel's GSO over an offloading
	 * TUN) counts for the full segments it carries, as Linux counts bytes */
	if (len >= 2u * t->mss)
		t->x->delack_segs = 2;
	else if (len >= t->mss || len * 2 >= t->mss)
		t->x->delack_segs++;
	/* also at once when half the window we offered is used: a sender that
	 * is window-limited (one huge segment, a small window) must not wait */
	uint32_t offered = t->rcv_adv - t->last_ack_sent;
	if (t->x->delack_segs >= 2 || (t->rcv_nxt - t->last_ack_sent) * 2 >= offered) {
		t->ack_now = 1;
	} else if (t->x->t_delack == SYNACK_TIME_NEVER) {
		t->x->t_delack = tnow(t) + tcfg(t)->delack;
	}
}

/* §3.10.7.4 seventh: segment text. The segment is already trimmed. */
static void text_input(struct tcb *t, struct tcp_seg *s)
{
	struct wire_tcp *h = &s->h;
	uint32_t len = (uint32_t)h->payload_len;
	uint32_t space = rcv_space(t);
	uint32_t off = h->seq - t->rcv_nxt;
	if (t->rd_shut) {
		/* shut for reading: in-order text is acknowledged and discarded
		 * (the window stays open), so the FIN behind it still counts */
		if (off == 0) {
			t->rcv_nxt += len;
			t->x->bytes_received += len;
			schedule_ack(t, len, false);
		} else {
			t->ack_now = 1;
		}
		return;
	}
	if (off >= space) {
		t->ack_now = 1;
		return;
	}
	len = MIN(len, space - off);
	if (ring_write_at(&t->x->rcvq, &t->st->mem, t->rcvbuf, t->x->rcvq.len + off, h->payload, len) < 0) {
		stack_drop(t->st, SYNACK_DROP_TCP_TOO_MANY);
		return;
	}
	if (off) {
		for (int i = 0; i < t->x->ooo.n; i++)
			if (seq_geq(h->seq, t->x->ooo.r[i][0]) && seq_leq(h->seq + len, t->x->ooo.r[i][1]))
				note_dsack(t, h->seq, h->seq + len); /* held already */
		ooo_insert(t, h->seq, h->seq + len);
		t->x->ooo_last = h->seq;
		t->ack_now = 1;
		return;
	}
	ring_extend(&t->x->rcvq, len);
	t->rcv_nxt += len;
	t->x->bytes_received += len;
	/* RFC 5681 §4.2: a segment that fills all or part of a gap is ACKed at once */
	bool hole = ooo_drain(t) || t->x->ooo.n;
	if (h->payload_len > len)
		h->flags &= (uint8_t)~SYNACK_TCP_FIN; /* FIN beyond what we could keep */
	schedule_ack(t, len, hole);
	tcb_event(t, SYNACK_EV_READABLE);
}

/* §3.10.7.4 eighth: FIN. */
static void fin_input(struct tcb *t, const struct tcp_seg *s)
{
	if (s->h.seq + (uint32_t)s->h.payload_len != t->rcv_nxt)
		return; /* out of order: the peer retransmits it */
	if (t->peer_fin) {
		/* a FIN after the FIN: acknowledge what we have, nothing moves */
		t->ack_now = 1;
		if (t->state == SYNACK_TCP_TIME_WAIT)
			t->x->t_close = tnow(t) + 2 * tcfg(t)->msl;
		return;
	}
	t->rcv_nxt++;
	t->peer_fin = 1;
	t->ack_now = 1;
	tcb_event(t, SYNACK_EV_PEER_CLOSED | SYNACK_EV_READABLE);
	switch (t->state) {
	case SYNACK_TCP_SYN_RECEIVED:
	case SYNACK_TCP_ESTABLISHED:
		tcb_set_state(t, SYNACK_TCP_CLOSE_WAIT);
		break;
	case SYNACK_TCP_FIN_WAIT_1:
		if (fin_acked(t))
			tcp_time_wait_enter(t);
		else
			tcb_set_state(t, SYNACK_TCP_CLOSING);
		break;
	case SYNACK_TCP_FIN_WAIT_2:
		tcp_time_wait_enter(t);
		break;
	default:
		break;
	}
}

static bool accepts_text(const struct tcb *t)
{
	return t->state == SYNACK_TCP_ESTABLISHED || t->state == SYNACK_TCP_FIN_WAIT_1 ||
	       t->state == SYNACK_TCP_FIN_WAIT_2;
}

/* What happens before the window test: TIME-WAIT's own rules (RFC 1337),
 * SYNs during the handshake and on synchronized connections (RFC 5961 §4.2). */
static struct tcp_verdict early_input(struct tcb *t, struct tcp_seg *s)
{
	uint8_t f = s->h.flags;
	/* RFC 1337: in TIME-WAIT every RST is ignored, whatever its sequence
	 * number (no challenge ACK either) */
	if (t->state == SYNACK_TCP_TIME_WAIT && (f & SYNACK_TCP_RST) && tcfg(t)->time_wait_rst_protect)
		return tcp_verdict(TCP_DROP, SYNACK_DROP_TCP_TIME_WAIT_RST);
	/* TIME-WAIT: without SYN, RST or ACK there is nothing to answer */
	if (t->state == SYNACK_TCP_TIME_WAIT && !(f & (SYNACK_TCP_SYN | SYNACK_TCP_RST | SYNACK_TCP_ACK)))
		return tcp_verdict(TCP_DROP, SYNACK_DROP_TCP_BAD_FLAGS);
	/* a retransmitted SYN while we wait for the handshake's ACK */
	if (t->state == SYNACK_TCP_SYN_RECEIVED && (f & SYNACK_TCP_SYN) && !(f & SYNACK_TCP_ACK) &&
	    s->h.seq == t->irs) {
		t->rtt_timing = 0; /* RFC 6298 §3 (Karn): the SYN-ACK is now sent twice */
		tcp_emit(t, t->iss, SYNACK_TCP_SYN | SYNACK_TCP_ACK, 0, 0);
		return TCP_HANDLED;
	}
	/* RFC 9293 §3.5 Figure 7 line 6 (MUST-10): in a simultaneous open the
	 * peer's SYN,ACK repeats its SYN (SEG.SEQ = IRS) and acknowledges ours;
	 * its SYN is old, its ACK completes the handshake. */
	if (t->state == SYNACK_TCP_SYN_RECEIVED && !t->x->parent && (f & SYNACK_TCP_SYN) &&
	    (f & SYNACK_TCP_ACK) && s->h.seq == t->irs && s->h.ack == t->snd_max) {
		s->h.flags &= (uint8_t)~SYNACK_TCP_SYN;
		s->h.seq++;
		s->len--;
		s->syn_wnd = true;
		return TCP_GO;
	}
	/* RFC 5961 §4.2: a SYN on a synchronized connection gets a challenge
	 * ACK "irrespective of the sequence number", before the window test;
	 * in RFC 793 mode only a SYN inside the window resets. */
	if ((f & SYNACK_TCP_SYN) && !(t->state == SYNACK_TCP_SYN_RECEIVED && t->x->parent))
		return syn_input(t, seq_in(s->h.seq, t->rcv_nxt, t->rcv_nxt + MAX(accept_window(t), 1u)));
	return TCP_GO;
}

/* RFC 9293 §3.10.7.4 first, with PAWS (RFC 7323 §5.3): is the segment
 * acceptable? Unacceptable ones are answered (rate limited) and dropped,
 * except the ACK field of an old duplicate or at a zero window. An
 * acceptable segment goes on trimmed to the window. */
static struct tcp_verdict window_input(struct tcb *t, struct tcp_seg *s)
{
	synack_stack *st = t->st;
	uint8_t f = s->h.flags;
	/* RFC 7323 §3.2: once timestamps are negotiated, "if a non-<RST>
	 * segment is received without a TSopt, a TCP SHOULD silently drop
	 * the segment" (and never abort for it). A SYN still gets its
	 * challenge ACK below: it may come from a restarted peer. */
	if (t->ts_ok && !s->h.opt.has_ts && !(f & (SYNACK_TCP_RST | SYNACK_TCP_SYN)) && tcfg(t)->ts_require)
		return tcp_verdict(TCP_DROP, SYNACK_DROP_TCP_NO_TIMESTAMP);
	if (paws_reject(t, s))
		return tcp_verdict(TCP_DROP_ACK, SYNACK_DROP_TCP_PAWS);
	uint32_t wnd = accept_window(t);
	if (!seq_acceptable(t, s, wnd)) {
		bool zero_wnd_ack = wnd == 0 && s->h.seq == t->rcv_nxt; /* §3.10.7.4: ACKs still count */
		bool old = old_duplicate(t, s);
		if (s->h.payload_len && old) {
			stack_count(st, SYNACK_CNT_TCP_DUP_DATA); /* all already received */
			note_dsack(t, s->h.seq, s->h.seq + (uint32_t)s->h.payload_len);
		}
		if (t->state == SYNACK_TCP_TIME_WAIT && (f & SYNACK_TCP_FIN))
			t->x->t_close = tnow(t) + 2 * tcfg(t)->msl; /* re-ACK a retransmitted FIN */
		if ((!zero_wnd_ack && !old) || (f & (SYNACK_TCP_RST | SYNACK_TCP_SYN)))
			return tcp_verdict((f & SYNACK_TCP_RST) ? TCP_DROP : TCP_DROP_ACK,
					   SYNACK_DROP_TCP_OUT_OF_WINDOW);
		s->h.payload_len = 0;
		s->h.flags &= (uint8_t)~SYNACK_TCP_FIN;
		tcp_oow_ack(t);
	}
	trim_to_window(t, s, wnd);
	return TCP_GO;
}

/* §3.10.7.4 seventh and eighth: text, then FIN. */
static struct tcp_verdict text_fin_input(struct tcb *t, struct tcp_seg *s)
{
	tcp_ecn_seg_in(t, s); /* RFC 3168 §6.1.3 */
	if (s->h.payload_len) {
		if (!accepts_text(t))
			t->ack_now = 1; /* data after the peer's FIN: ignore */
		else if (t->orphan)	/* RFC 1122 §4.2.2.13: data after close is lost: reset */
			return tcp_verdict(TCP_ABORT, TCP_UNCOUNTED);
		else
			text_input(t, s);
	}
	if (s->h.flags & SYNACK_TCP_FIN)
		fin_input(t, s);
	return TCP_GO;
}

/* Second to fourth: RST, the timestamp to echo (RFC 7323 §4.3), SYN, and
 * a segment without ACK. */
static struct tcp_verdict control_input(struct tcb *t, struct tcp_seg *s)
{
	if (s->h.flags & SYNACK_TCP_RST)
		return rst_input(t, s);
	/* RFC 7323 §4.3: remember the timestamp of the segment at RCV.NXT */
	if (t->ts_ok && s->h.opt.has_ts && seq_leq(s->h.seq, t->last_ack_sent) && !s->disordered)
		t->ts_recent = s->h.opt.ts_val;
	if (s->h.flags & SYNACK_TCP_SYN)
		return syn_input(t, true);
	if (!(s->h.flags & SYNACK_TCP_ACK))
		return tcp_verdict(TCP_DROP, SYNACK_DROP_TCP_BAD_FLAGS);
	return TCP_GO;
}

struct tcp_verdict tcp_sync_input(struct tcb *t, struct tcp_seg *s)
{
	bool was_time_wait = t->state == SYNACK_TCP_TIME_WAIT;
	struct tcp_verdict (*const step[])(struct tcb *, struct tcp_seg *) = {
	    early_input, window_input, control_input, ack_input, text_fin_input,
	};
	for (size_t i = 0; i < ARRAY_LEN(step); i++) {
		struct tcp_verdict v = step[i](t, s);
		if (v.action != TCP_CONTINUE)
			return v;
	}
	/* TIME-WAIT answers anything but an exact duplicate ACK, so a peer
	 * that lost our last ACK hears it again (as the BSD stacks do) */
	if (was_time_wait && t->state == SYNACK_TCP_TIME_WAIT &&
	    (s->h.flags != SYNACK_TCP_ACK || s->h.payload_len || s->h.seq != t->rcv_nxt ||
	     s->h.ack != t->snd_nxt))
		t->ack_now = 1;
	return TCP_HANDLED;
}
