/* src/tcp: telling a spurious retransmission timeout from a real one, and
 * undoing what it did to the congestion window.
 *
 * A timeout is spurious when the segments it took for lost were only late
 * (a delay spike, a path change): resending the whole window and starting
 * again from one segment wastes both the path and the window. Two
 * detectors, both run on the ACKs that follow the timeout:
 *
 *  - F-RTO (RFC 5682 §3, the SACK-enhanced version; §2's basic one when
 *    the peer does not SACK): after the timeout's retransmission is
 *    acknowledged, send two new segments instead of more retransmissions;
 *    if the next ACK then acknowledges (cumulatively or by SACK) data sent
 *    before the timeout and never resent, the originals were not lost.
 *  - Eifel detection (RFC 3522, with timestamps; synack's peers nearly
 *    always use them): the first ACK after the timeout echoes a TSval
 *    older than the retransmission's, so it answers an original.
 *
 * The response (RFC 5682 §4 leaves it open; this is RFC 4015's Eifel
 * response): ssthresh goes back to its value before the timeout, cwnd to
 * what is in flight plus at most an initial window of what this ACK
 * delivered (no more than it was), and new data goes on from SND.MAX. */
#include "tcp_internal.h"

/* Bytes of [frto_high, frto_rp) the peer holds: cumulatively acknowledged
 * or SACKed. Data there was sent before the timeout and never resent. */
uint32_t tcp_frto_covered(const struct tcb *t)
{
	uint32_t lo = t->x->frto_high, hi = t->x->frto_rp;
	if (!seq_lt(lo, hi))
		return 0;
	if (!seq_gt(t->snd_una, lo))
		return tcp_sacked_in(t, lo, hi);
	if (!seq_lt(t->snd_una, hi))
		return hi - lo;
	return (t->snd_una - lo) + tcp_sacked_in(t, t->snd_una, hi);
}

bool tcp_frto_start(struct tcb *t)
{
	/* RFC 5682 §3.1 step 1: not when loss recovery (fast recovery, or the
	 * conventional recovery of an earlier timeout) is under way; a
	 * repeated timeout during F-RTO restarts it from step 1 and keeps the
	 * window from before the first. */
	if (!tcfg(t)->frto || (!t->frto && (t->in_recovery || seq_lt(t->snd_una, t->x->recover)))) {
		t->frto = 0;
		return false;
	}
	if (!t->frto) {
		t->x->prior_cwnd = t->x->cwnd;
		t->x->prior_ssthresh = t->x->ssthresh;
		t->x->frto_ts = tcp_ts_now(t);
	}
	t->frto = 1;
	return true;
}

/* The timeout was spurious: RFC 4015 §4's response. delivered: bytes this
 * ACK newly acknowledged or SACKed. */
static void undo(struct tcb *t, uint32_t delivered)
{
	stack_count(t->st, SYNACK_CNT_TCP_SPURIOUS_RTOS);
	tcb_trace_note(t, SYNACK_NOTE_SPURIOUS_RTO);
	t->frto = 0;
	t->snd_nxt = t->snd_max; /* nothing more to resend */
	uint32_t flight = t->snd_max - t->snd_una - t->x->sacked_bytes;
	uint32_t iw = 10u * t->mss;
	uint32_t cwnd = flight + MIN(delivered, iw);
	t->x->ssthresh = MAX(t->x->ssthresh, t->x->prior_ssthresh);
	t->x->cwnd = MAX(t->x->cwnd, MIN(cwnd, t->x->prior_cwnd));
	/* §3.1: "RecoveryPoint is set to SND.UNA, thus allowing fast recovery
	 * on incoming duplicate acknowledgments" */
	t->x->recover = t->snd_una;
	tcp_ecn_loss_undone(t); /* neither a second loss reduction nor a window holding ECE back */
}

/* §3.1 step 3 a: the loss was real; the conventional recovery of the
 * timeout goes on (go back to SND.UNA, cwnd at most 3 segments). */
static void conventional(struct tcb *t)
{
	t->frto = 0;
	t->x->cwnd = MIN(t->x->cwnd, 3u * t->mss);
	t->snd_nxt = t->snd_una;
	t->x->recover = t->snd_max;
	t->x->ecn_loss_recover = t->x->recover;
}

/* Step 2: the first ACK that acknowledges new data after the timeout. */
static void step2(struct tcb *t, const struct tcp_seg *s, uint32_t una)
{
	/* Eifel (RFC 3522 §3.2): an echo older than the timeout's first
	 * retransmission answers a segment sent before it */
	if (t->ts_ok && s->h.opt.has_ts && s->h.opt.ts_ecr &&
	    (int32_t)(s->h.opt.ts_ecr - t->x->frto_ts) < 0) {
		undo(t, t->snd_una - una);
		return;
	}
	t->x->frto_rp = t->snd_max; /* RecoveryPoint: the highest sequence number sent */
	t->x->frto_high = t->snd_nxt;
	/* a) everything acknowledged: nothing to tell */
	if (!seq_lt(t->snd_una, t->x->frto_rp)) {
		t->frto = 0;
		return;
	}
	/* b) up to two new segments, or (none to send, or no window for
	 * them) the conventional recovery */
	uint32_t unsent = t->data_seq + t->x->sndq.len - t->snd_max;
	if (t->fin_sent || !unsent || !seq_gt(t->snd_una + t->snd_wnd, t->snd_max)) {
		t->frto = 0;
		return;
	}
	t->snd_nxt = t->snd_max;
	t->x->cwnd = 2u * t->mss; /* in_flight() counts only what F-RTO sends */
	t->frto = 2;
}

/* Step 3: the next ACK, a duplicate or one that moves SND.UNA. */
static void step3(struct tcb *t, const struct tcp_seg *s, uint32_t una, uint32_t covered_before,
		  uint32_t newly_sacked)
{
	/* a) the cumulative ACK or the SACK information covers more than
	 * RecoveryPoint: the two new segments got there, the originals
	 * did not, or not all of them */
	bool beyond = seq_gt(t->snd_una, t->x->frto_rp) ||
		      (t->x->sacked.n && seq_gt(t->x->sacked.r[t->x->sacked.n - 1][1], t->x->frto_rp));
	if (beyond) {
		conventional(t);
		return;
	}
	/* b) data sent before the timeout and never resent arrived */
	uint32_t covered = tcp_frto_covered(t);
	if (covered > covered_before) {
		undo(t, covered - covered_before);
		return;
	}
	if (seq_gt(t->snd_una, una))
		return; /* a late ACK of the retransmission: wait for the next */
	/* a) a duplicate ACK that acknowledges nothing new below
	 * RecoveryPoint. Other ACKs (window updates) are ignored. */
	if (tcp_is_dup_ack(t, s, newly_sacked))
		conventional(t);
}

void tcp_frto_on_ack(struct tcb *t, const struct tcp_seg *s, uint32_t una, uint32_t covered_before,
		     uint32_t newly_sacked)
{
	if (t->frto == 1) {
		if (seq_gt(t->snd_una, una)) {
			step2(t, s, una);
			return;
		}
		/* With SACK, duplicates before it only fill the scoreboard (§3.1
		 * step 2); without, a duplicate ACK ends F-RTO (§2.1 step 2 a):
		 * the conventional recovery goes on from where it is */
		if (!t->sack_ok && tcp_is_dup_ack(t, s, 0))
			t->frto = 0;
		return;
	}
	if (t->frto == 2)
		step3(t, s, una, covered_before, newly_sacked);
}
