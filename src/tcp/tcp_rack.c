/* Two parts of RACK-TLP (RFC 8985) beside RFC 6675's recovery:
 *  - lost retransmissions: RFC 6675 marks a hole lost once, and a
 *    retransmission lost again waits for the RTO. RACK's rule (§6.2) -- a
 *    segment is lost when one sent after it was delivered and it has had
 *    its time -- is applied to retransmissions: each is logged with the
 *    send time and SND.MAX at that moment; data SACKed above that mark was
 *    sent after it and delivered, so once a quarter of an SRTT (RACK's
 *    reordering window, §6.2.4) has also passed, the retransmission is
 *    lost and its hole goes on the list to resend (t->x->relost).
 *  - Tail Loss Probe (§7): when the ACKs stop while data is outstanding and
 *    no recovery runs, a probe after 2 SRTT (a new segment, else the last
 *    one again) draws the SACKs that start fast recovery, instead of an RTO
 *    that would collapse cwnd to one segment.
 *
 * Implementation notes
 * - New data is not logged: its losses are found by RFC 6675's IsLost
 *   (sequence order: sound while nothing is reordered) and by the probe.
 * - The log grows by doubling up to TCP_RTXLOG_MAX records; when full, the
 *   oldest record goes (that retransmission then falls back on the RTO). */
#include <string.h>

#include "tcp/tcp_internal.h"

enum { RTXLOG_FIRST = 8 };
#define RACK_MIN_REO_WND  500		   /* microseconds */
#define TLP_MIN_PTO	  SYNACK_MSEC(10)  /* as Linux: a probe is never sooner */
#define TLP_MAX_ACK_DELAY SYNACK_MSEC(200) /* RFC 8985 §7.2 WCDelAckT: one segment may wait */

static void rtxlog_drop(struct tcb *t, int i)
{
	memmove(&t->x->rtxlog[i], &t->x->rtxlog[i + 1],
		(size_t)(t->x->nrtx - i - 1) * sizeof t->x->rtxlog[0]);
	t->x->nrtx--;
}

static bool rtxlog_room(struct tcb *t)
{
	if (t->x->nrtx < t->x->rtx_cap)
		return true;
	uint32_t cap = t->x->rtx_cap ? MIN(2u * t->x->rtx_cap, (uint32_t)TCP_RTXLOG_MAX) : RTXLOG_FIRST;
	if (cap > t->x->rtx_cap) {
		struct tcp_rtx_rec *n = mem_alloc(&t->st->mem, cap * sizeof *n);
		if (n) {
			if (t->x->nrtx)
				memcpy(n, t->x->rtxlog, t->x->nrtx * sizeof *n);
			if (t->x->rtxlog)
				mem_free(&t->st->mem, t->x->rtxlog, t->x->rtx_cap * sizeof *n);
			t->x->rtxlog = n;
			t->x->rtx_cap = (uint16_t)cap;
			return true;
		}
	}
	if (!t->x->nrtx)
		return false;
	rtxlog_drop(t, 0);
	return true;
}

void tcp_rack_note_rexmit(struct tcb *t, uint32_t seq, uint32_t end)
{
	if (!t->in_recovery || !rtxlog_room(t))
		return;
	t->x->rtxlog[t->x->nrtx++] =
	    (struct tcp_rtx_rec){.seq = seq, .end = end, .mark = t->snd_max, .when = tnow(t)};
}

/* The retransmission [seq, end) is lost: what of it is neither acknowledged
 * nor SACKed goes on the list to resend. */
static void relost_add(struct tcb *t, uint32_t seq, uint32_t end)
{
	seq = seq_max(seq, t->snd_una);
	while (seq_lt(seq, end)) {
		uint32_t len = end - seq;
		tcp_sack_skip(t, &seq, &len);
		if (!len || !seq_lt(seq, end))
			return;
		len = MIN(len, end - seq);
		if (tcp_ranges_add(&t->x->relost, &t->st->mem, TCP_SACKED_MAX, seq, seq + len) < 0)
			return; /* full: the RTO covers it */
		seq += len;
	}
}

static bool delivered(const struct tcb *t, const struct tcp_rtx_rec *r)
{
	return seq_leq(r->end, t->snd_una) || tcp_sacked_in(t, r->seq, r->end) == r->end - r->seq;
}

/* RFC 8985 §6.2 for the logged retransmissions, on every ACK in recovery. */
void tcp_rack_on_ack(struct tcb *t)
{
	uint32_t top = t->x->sacked.n ? t->x->sacked.r[t->x->sacked.n - 1][1] : t->snd_una;
	synack_time_t reo_wnd = tcp_rack_reo_wnd(t);
	for (int i = 0; i < t->x->nrtx;) {
		struct tcp_rtx_rec *r = &t->x->rtxlog[i];
		if (delivered(t, r)) {
			rtxlog_drop(t, i);
			continue;
		}
		if (seq_gt(top, r->mark) && tnow(t) - r->when >= reo_wnd) {
			stack_count(t->st, SYNACK_CNT_TCP_RACK_LOST_RETRANSMITS);
			relost_add(t, r->seq, r->end);
			rtxlog_drop(t, i);
			continue;
		}
		i++;
	}
	tcp_rack_trim(t);
}

/* Drop what of the resend list is acknowledged or SACKed by now. */
void tcp_rack_trim(struct tcb *t)
{
	struct tcp_ranges *s = &t->x->relost;
	uint32_t bytes = 0;
	for (int i = 0; i < s->n;) {
		if (seq_leq(s->r[i][1], t->snd_una) ||
		    tcp_sacked_in(t, s->r[i][0], s->r[i][1]) == s->r[i][1] - s->r[i][0]) {
			tcp_ranges_remove(s, i);
			continue;
		}
		s->r[i][0] = seq_max(s->r[i][0], t->snd_una);
		bytes += s->r[i][1] - s->r[i][0] - tcp_sacked_in(t, s->r[i][0], s->r[i][1]);
		i++;
	}
	t->x->relost_bytes = bytes;
}

void tcp_rack_clear(struct tcb *t)
{
	t->x->nrtx = 0;
	t->x->relost.n = 0;
	t->x->relost_bytes = 0;
}

void tcp_rack_free(struct tcb *t)
{
	if (t->x->rtxlog)
		mem_free(&t->st->mem, t->x->rtxlog, t->x->rtx_cap * sizeof *t->x->rtxlog);
	t->x->rtxlog = NULL;
	t->x->nrtx = t->x->rtx_cap = 0;
	tcp_ranges_free(&t->x->relost, &t->st->mem);
	t->x->relost_bytes = 0;
	tcp_ranges_free(&t->x->undo_rtx, &t->st->mem);
	t->x->undo_ok = t->x->undo_due = 0;
}

/* The first hole of the resend list (NextSeg before rule 1): its start in
 * *seq and length (at most one segment) in *len; false if none. */
bool tcp_rack_next(struct tcb *t, uint32_t *seq, uint32_t *len)
{
	tcp_rack_trim(t);
	if (!t->x->relost.n)
		return false;
	*seq = t->x->relost.r[0][0];
	*len = MIN(t->x->relost.r[0][1] - *seq, *len);
	tcp_sack_skip(t, seq, len);
	return *len != 0;
}

/* The resend list's [seq, seq + len) went out again. */
void tcp_rack_resent(struct tcb *t, uint32_t seq, uint32_t len)
{
	struct tcp_ranges *s = &t->x->relost;
	if (!s->n || s->r[0][0] != seq)
		return;
	s->r[0][0] = seq_min(seq + len, s->r[0][1]);
	if (s->r[0][0] == s->r[0][1])
		tcp_ranges_remove(s, 0);
	t->x->relost_bytes -= MIN(t->x->relost_bytes, len);
}

/* RFC 8985 §6.2 for new data: every unSACKed byte below the highest
 * SACKed one was sent before it (new data goes out in sequence order), so
 * once RACK's reordering window (a quarter of the SRTT, §6.2.4) has passed
 * after that SACK arrived, those holes are lost -- however few segments a
 * small window could SACK above them (RFC 6675's IsLost needs more than
 * 2 SMSS). The "RACK edge" then joins RFC 6675's lost edge (tcp_sack.c).
 * Called on every ACK with SACK information; the timer promotes. */
void tcp_rack_arm(struct tcb *t)
{
	if (!t->x->sacked.n)
		return;
	uint32_t top = t->x->sacked.r[t->x->sacked.n - 1][1];
	if (seq_gt(top, t->x->rack_cand) || seq_lt(t->x->rack_cand, t->snd_una))
		t->x->rack_cand = top;
	if (t->x->t_rack == SYNACK_TIME_NEVER &&
	    seq_gt(t->x->rack_cand, seq_max(t->x->rack_edge, t->snd_una))) {
		t->x->t_rack = tnow(t) + MAX(tcp_rack_reo_wnd(t), (synack_time_t)RACK_MIN_REO_WND);
		t->x->rack_armed = t->x->rack_cand;
	}
}

/* The window passed: the holes below what was SACKed then are lost. */
void tcp_rack_fire(struct tcb *t)
{
	t->x->t_rack = SYNACK_TIME_NEVER;
	if (!t->x->sacked.n || t->snd_una == t->snd_max)
		return;
	if (seq_gt(t->x->rack_armed, t->x->rack_edge) || seq_lt(t->x->rack_edge, t->snd_una))
		t->x->rack_edge = t->x->rack_armed;
	tcp_rack_arm(t); /* a later SACK waits for its own window */
	if (t->in_recovery || !t->sack_ok || seq_lt(t->snd_una, t->x->recover) || !tcp_sack_head_lost(t))
		return;
	stack_count(t->st, SYNACK_CNT_TCP_RACK_RECOVERIES);
	tcp_recovery_enter(t);
	tcp_recovery_on_ack(t, 0);
}

/* Could [l, r) have been retransmitted? What the current or last fast
 * recovery resent is known (undo_rtx, while it is complete); a timeout's
 * go-back and a loss probe's resend are not logged, so while a timeout's
 * recovery runs, and for the probe's segment, the answer is yes. */
static bool maybe_resent(const struct tcb *t, uint32_t l, uint32_t r)
{
	if (t->x->backoff || t->frto || (!t->in_recovery && seq_lt(t->snd_una, t->x->recover)))
		return true;
	if (t->x->tlp_pending && t->x->tlp_rexmit && seq_gt(r, t->x->tlp_end - t->mss))
		return true;
	if (t->in_recovery && !t->x->undo_ok)
		return true;
	return tcp_ranges_in(&t->x->undo_rtx, l, r) != 0;
}

void tcp_rack_delivered_below_fack(struct tcb *t, uint32_t l, uint32_t r)
{
	if (t->x->reord_seen || !t->sack_ok || !seq_lt(l, r) || !seq_leq(r, t->x->rack_fack) ||
	    maybe_resent(t, l, r))
		return;
	t->x->reord_seen = 1; /* for the rest of the connection, as RACK.reordering_seen */
	stack_count(t->st, SYNACK_CNT_TCP_REORDERING_SEEN);
}

void tcp_rack_update_fack(struct tcb *t)
{
	uint32_t top = t->x->sacked.n ? t->x->sacked.r[t->x->sacked.n - 1][1] : t->snd_una;
	t->x->rack_fack = seq_max(t->x->rack_fack, seq_max(top, t->snd_una));
}

/* ---- the reordering window and D-SACK undo ---- */

/* §6.2 step 4: a quarter of the SRTT, times reo_mult, which grows by one
 * for each round trip in which a D-SACK came (a retransmission that was
 * not needed: the window was too short for the path's reordering) and
 * falls back to 1 after 16 recoveries without one; never above the SRTT.
 * (The RFC starts from min_RTT / 4; synack keeps no min_RTT yet.) */
synack_time_t tcp_rack_reo_wnd(const struct tcb *t)
{
	synack_time_t q = t->srtt / 4;
	return MIN(q * MAX(t->x->reo_mult, (uint8_t)1), t->srtt);
}

static void reo_on_dsack(struct tcb *t)
{
	if (t->x->dsack_round && seq_lt(t->snd_una, t->x->dsack_round))
		return; /* one step per round trip */
	t->x->dsack_round = t->snd_nxt ? t->snd_nxt : 1;
	if (t->x->reo_mult < 16)
		t->x->reo_mult = MAX(t->x->reo_mult, (uint8_t)1) + 1;
	t->x->reo_persist = 16;
}

/* A recovery that resent nothing the receiver lacked was no loss: every
 * retransmission came back as a D-SACK (RFC 2883 §5's use of it; Linux's
 * "DSACK undo"). Then the reduction it made is taken back -- cwnd and
 * ssthresh as they were before it -- at its end, or when the last D-SACK
 * comes after it. A network that duplicates a retransmission can make a
 * real loss look spurious this way; so can one on Linux. */
void tcp_undo_begin(struct tcb *t)
{
	t->x->prior_cwnd = t->x->cwnd;
	t->x->prior_ssthresh = t->x->ssthresh;
	t->x->undo_rtx.n = 0;
	t->x->undo_bytes = 0;
	t->x->undo_ok = !tcp_ecn_reducing(t); /* an ECN reduction is not ours to undo */
	t->x->undo_due = 0;
}

static void undo_apply(struct tcb *t)
{
	t->x->undo_ok = t->x->undo_due = 0;
	t->x->cwnd = MAX(t->x->cwnd, t->x->prior_cwnd);
	t->x->ssthresh = MAX(t->x->ssthresh, t->x->prior_ssthresh);
	stack_count(t->st, SYNACK_CNT_TCP_SPURIOUS_RECOVERIES);
	tcb_trace_note(t, SYNACK_NOTE_SPURIOUS_RECOVERY);
}

void tcp_undo_note_rexmit(struct tcb *t, uint32_t seq, uint32_t len)
{
	if (!t->x->undo_ok || !len)
		return;
	if (tcp_ranges_add(&t->x->undo_rtx, &t->st->mem, TCP_SACKED_MAX, seq, seq + len) < 0) {
		t->x->undo_ok = 0; /* too much resent to keep track: a real loss anyway */
		return;
	}
	t->x->undo_bytes += len;
}

void tcp_undo_dsack(struct tcb *t, uint32_t l, uint32_t r)
{
	reo_on_dsack(t);
	if (!t->x->undo_ok || !t->x->undo_bytes)
		return;
	uint32_t dup = tcp_ranges_in(&t->x->undo_rtx, l, r);
	if (!dup)
		return;
	t->x->undo_bytes -= MIN(dup, t->x->undo_bytes);
	if (t->x->undo_bytes)
		return;
	if (t->in_recovery)
		t->x->undo_due = 1; /* PRR owns cwnd until the end */
	else
		undo_apply(t);
}

void tcp_undo_recovery_end(struct tcb *t)
{
	if (t->x->reo_persist && --t->x->reo_persist == 0)
		t->x->reo_mult = 1;
	if (t->x->undo_due)
		undo_apply(t);
}

/* ---- Tail Loss Probe, RFC 8985 §7 ---- */

/* §7.2: after new data, or an ACK of new data, outside recovery and with
 * nothing SACKed. */
void tcp_tlp_arm(struct tcb *t)
{
	t->x->t_tlp = SYNACK_TIME_NEVER;
	if (t->in_recovery || t->frto || t->x->sacked.n || t->snd_una == t->snd_max || t->x->tlp_pending ||
	    t->x->backoff || t->x->t_rtx == SYNACK_TIME_NEVER)
		return;
	synack_time_t pto = t->srtt ? 2 * t->srtt : SYNACK_SEC(1);
	if (t->snd_max - t->snd_una <= t->mss)
		pto += TLP_MAX_ACK_DELAY;
	pto = MAX(pto, TLP_MIN_PTO);
	t->x->t_tlp = MIN(tnow(t) + pto, t->x->t_rtx);
	if (t->x->t_tlp >= t->x->t_rtx)
		t->x->t_tlp = SYNACK_TIME_NEVER; /* the RTO comes first anyway */
}

/* §7.3: send a new segment if the receive window allows, else the last
 * segment again; then the RTO, re-armed, takes over. */
void tcp_tlp_fire(struct tcb *t)
{
	t->x->t_tlp = SYNACK_TIME_NEVER;
	if (t->in_recovery || t->x->sacked.n || t->snd_una == t->snd_max || t->x->tlp_pending)
		return;
	stack_count(t->st, SYNACK_CNT_TCP_LOSS_PROBES);
	tcb_trace_note(t, SYNACK_NOTE_LOSS_PROBE);
	uint32_t cwnd = t->x->cwnd;
	t->x->cwnd = MAX(t->x->cwnd, t->snd_nxt - t->snd_una + t->mss); /* a probe may go beyond cwnd */
	bool sent = snd_unsent(t) && tcp_send_data(t, true);
	t->x->cwnd = cwnd;
	t->x->tlp_rexmit = !sent;
	if (!sent) {
		uint32_t len = MIN(tcp_seg_mss(t), t->snd_max - t->snd_una);
		tcp_rexmit(t, t->snd_max - len, len);
	}
	t->x->tlp_pending = 1;
	t->x->tlp_dsack = 0;
	t->x->tlp_end = t->snd_max;
	/* "the sender MUST re-arm the RTO timer": from now, so that the probe
	 * has a round trip to be answered before the timeout takes over */
	tcp_rtx_arm(t);
}

/* §7.4: the ACK that covers the probe. A retransmitted probe that drew no
 * D-SACK repaired a loss the sender never reacted to: reduce as for one. */
void tcp_tlp_on_ack(struct tcb *t)
{
	if (!t->x->tlp_pending || seq_lt(t->snd_una, t->x->tlp_end))
		return;
	t->x->tlp_pending = 0;
	if (t->x->tlp_rexmit && !t->x->tlp_dsack && !t->in_recovery) {
		stack_count(t->st, SYNACK_CNT_TCP_TLP_RECOVERIES);
		t->x->ssthresh = tcb_cc(t)->ssthresh(t);
		t->x->cwnd = MAX(t->x->ssthresh, (uint32_t)t->mss);
	}
}
