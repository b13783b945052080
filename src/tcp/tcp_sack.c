/* The sender's side of SACK: the scoreboard (RFC 6675 §3), loss recovery
 * (RFC 6675 §4, §5) and how much it sends while recovering (Proportional
 * Rate Reduction, RFC 6937).
 *
 * Implementation notes
 * - The scoreboard is the list of SACKed ranges above SND.UNA, sorted and
 *   disjoint (t->x->sacked), not a flag per segment: the send queue is a byte
 *   ring, and every question RFC 6675 asks is a question about ranges.
 * - IsLost() is monotone: the SACKed bytes above a sequence number only grow
 *   as the number falls. So one point, the "lost edge", splits the holes:
 *   every unSACKed byte below it is lost, none above (lost_edge()).
 * - SetPipe() then needs no walk per segment: the unSACKed bytes above the
 *   edge count once, and those retransmitted (below HighRxt) once more.
 * - A full scoreboard forgets its highest range: those bytes look
 *   outstanding again and may be sent twice, never lost. */
#include <string.h>

#include "tcp/tcp_internal.h"

uint32_t tcp_sacked_in(const struct tcb *t, uint32_t a, uint32_t b)
{
	return tcp_ranges_in(&t->x->sacked, a, b);
}

static uint32_t unsacked_in(const struct tcb *t, uint32_t a, uint32_t b)
{
	return seq_lt(a, b) ? b - a - tcp_sacked_in(t, a, b) : 0;
}

void tcp_sack_clear(struct tcb *t)
{
	t->x->sacked.n = 0;
	t->x->sacked_bytes = 0;
}

void tcp_sack_trim(struct tcb *t)
{
	struct tcp_ranges *s = &t->x->sacked;
	while (s->n && seq_leq(s->r[0][1], t->snd_una)) {
		t->x->sacked_bytes -= s->r[0][1] - s->r[0][0];
		tcp_ranges_remove(s, 0);
	}
	if (s->n && seq_lt(s->r[0][0], t->snd_una)) {
		t->x->sacked_bytes -= t->snd_una - s->r[0][0];
		s->r[0][0] = t->snd_una;
	}
}

/* Merge [l, r) into the scoreboard; returns the bytes it adds. A full
 * scoreboard forgets its highest range for a lower new one. */
static uint32_t sb_add(struct tcb *t, uint32_t l, uint32_t r)
{
	struct tcp_ranges *s = &t->x->sacked;
	uint32_t added = r - l - tcp_ranges_in(s, l, r);
	if (tcp_ranges_add(s, &t->st->mem, TCP_SACKED_MAX, l, r) < 0) {
		if (!s->n || seq_geq(l, s->r[s->n - 1][0]))
			return 0;
		t->x->sacked_bytes -= s->r[s->n - 1][1] - s->r[s->n - 1][0];
		s->n--;
		if (tcp_ranges_add(s, &t->st->mem, TCP_SACKED_MAX, l, r) < 0)
			return 0;
	}
	t->x->sacked_bytes += added;
	return added;
}

/* RFC 2883 §4: a D-SACK block is the first one, and either lies below the
 * cumulative ACK or inside the second block. */
static bool is_dsack(const struct wire_tcp_opts *o, int i, uint32_t ack)
{
	if (i != 0)
		return false;
	uint32_t l = o->sack[0][0], r = o->sack[0][1];
	if (seq_leq(r, ack))
		return true;
	return o->nsack > 1 && seq_geq(l, o->sack[1][0]) && seq_leq(r, o->sack[1][1]);
}

uint32_t tcp_sack_update(struct tcb *t, const struct wire_tcp_opts *o, uint32_t ack)
{
	uint32_t added = 0;
	for (int i = 0; i < o->nsack && i < WIRE_TCP_MAX_SACK; i++) {
		uint32_t l = o->sack[i][0], r = o->sack[i][1];
		if (!seq_lt(l, r))
			continue;
		if (is_dsack(o, i, ack)) {
			if (t->x->tlp_pending && seq_leq(r, t->x->tlp_end) &&
			    seq_gt(r, t->x->tlp_end - t->mss))
				t->x->tlp_dsack = 1; /* RFC 8985 §7.4: the probe was a duplicate */
			t->x->dsacks_received++;
			stack_count(t->st, SYNACK_CNT_TCP_DSACKS_RECEIVED);
			tcp_undo_dsack(t, l, r);
			continue;
		}
		/* RFC 2018 §3: blocks outside what is outstanding are bogus */
		if (seq_leq(r, t->snd_una) || seq_gt(r, t->snd_max) || seq_lt(l, t->snd_una - (1u << 30))) {
			stack_count(t->st, SYNACK_CNT_TCP_SACK_BLOCKS_BAD);
			continue;
		}
		uint32_t got = sb_add(t, seq_max(l, t->snd_una), r);
		if (got)
			tcp_rack_delivered_below_fack(t, seq_max(l, t->snd_una), r);
		added += got;
	}
	return added;
}

/* RFC 6675 §4 IsLost(): "DupThresh discontiguous SACKed sequences" or more
 * than (DupThresh - 1) * SMSS bytes SACKed above a sequence number. The
 * highest point with that much SACKed above it (implementation notes). */
static uint32_t lost_edge(const struct tcb *t)
{
	uint32_t above = 0, edge = t->snd_una;
	/* RFC 8985 §6.2 step 4: "if some reordering has been observed, then
	 * RACK does not trigger fast recovery based on DupThresh" */
	for (int i = t->x->reord_seen ? -1 : t->x->sacked.n - 1; i >= 0; i--) {
		above += t->x->sacked.r[i][1] - t->x->sacked.r[i][0];
		if (above > (TCP_DUPTHRESH - 1) * (uint32_t)t->mss || t->x->sacked.n - i >= TCP_DUPTHRESH) {
			edge = t->x->sacked.r[i][0];
			break;
		}
	}
	/* RACK's edge (tcp_rack.c): holes that have had their time */
	if (seq_gt(t->x->rack_edge, edge) && seq_leq(t->x->rack_edge, t->snd_max))
		edge = t->x->rack_edge;
	return edge;
}

bool tcp_sack_head_lost(const struct tcb *t)
{
	return t->x->sacked.n && seq_lt(t->snd_una, lost_edge(t)) && t->x->sacked.r[0][0] != t->snd_una;
}

/* RFC 6675 §4 SetPipe(): per unSACKed octet, 1 if not lost, and 1 more if
 * retransmitted (below HighRxt). */
uint32_t tcp_sack_pipe(const struct tcb *t)
{
	uint32_t edge = lost_edge(t);
	uint32_t hr = seq_max(t->snd_una, seq_min(t->x->high_rxt, t->snd_max));
	uint32_t resent = unsacked_in(t, t->snd_una, hr);
	/* retransmissions RACK found lost are out of the network again */
	return unsacked_in(t, edge, t->snd_max) + resent - MIN(resent, t->x->relost_bytes);
}

void tcp_sack_skip(const struct tcb *t, uint32_t *seq, uint32_t *len)
{
	for (int i = 0; i < t->x->sacked.n; i++) {
		if (seq_lt(*seq, t->x->sacked.r[i][0])) {
			*len = MIN(*len, t->x->sacked.r[i][0] - *seq);
			break;
		}
		if (seq_lt(*seq, t->x->sacked.r[i][1]))
			*seq = t->x->sacked.r[i][1];
	}
	*len = seq_lt(*seq, t->snd_max) ? MIN(*len, t->snd_max - *seq) : 0;
}

/* Retransmit the unSACKed segment at seq (at most one MSS); returns the
 * sequence space it covered, 0 if none. */
static uint32_t rexmit_at(struct tcb *t, uint32_t seq, bool move_high_rxt)
{
	uint32_t len = tcp_seg_mss(t);
	tcp_sack_skip(t, &seq, &len);
	if (!len)
		return 0;
	uint32_t sent = tcp_rexmit(t, seq, len);
	if (sent)
		tcp_rack_note_rexmit(t, seq, seq + sent);
	if (sent && move_high_rxt)
		t->x->high_rxt = seq_max(t->x->high_rxt, seq + sent);
	t->x->prr_out += sent;
	return sent;
}

/* RFC 6675 §5 steps 4.1-4.3, RFC 6937 §3 "on entering recovery". */
void tcp_recovery_enter(struct tcb *t)
{
	tcp_undo_begin(t);
	if (!tcp_ecn_reducing(t)) { /* RFC 3168 §6.1.2: once per window */
		t->x->ssthresh = tcb_cc(t)->ssthresh(t);
		tcp_cwv_on_loss(t); /* RFC 7661 §4.4.1 */
	}
	t->x->recover = t->snd_max; /* RecoveryPoint = HighData */
	t->in_recovery = 1;
	t->rescue_done = 0;
	t->x->high_rxt = t->snd_una;
	t->x->rescue_rxt = t->snd_una;
	t->x->prr_delivered = 0;
	t->x->prr_out = 0;
	t->x->recover_fs = t->snd_max - t->snd_una;
	tcp_rack_clear(t);
	t->x->t_tlp = SYNACK_TIME_NEVER;
	stack_count(t->st, SYNACK_CNT_TCP_FAST_RETRANSMITS);
	tcb_trace_note(t, SYNACK_NOTE_FAST_RETRANSMIT);
	/* step 4.2: the first segment presumed dropped goes at once */
	rexmit_at(t, t->snd_una, true);
}

void tcp_recovery_on_ack(struct tcb *t, uint32_t delivered)
{
	if (seq_geq(t->snd_una, t->x->recover)) {
		/* RFC 6675 §5 step (A), RFC 6937 §3 "on recovery exit" */
		t->in_recovery = 0;
		tcp_rack_clear(t);
		t->x->cwnd = MAX(t->x->ssthresh, (uint32_t)t->mss);
		tcb_cc(t)->on_recovery_end(t);
		tcp_cwv_on_recovery_end(t);
		tcp_undo_recovery_end(t);
		return;
	}
	t->x->prr_delivered += delivered;
	uint32_t pipe = tcp_sack_pipe(t);
	uint64_t sndcnt;
	if (pipe > t->x->ssthresh) {
		/* proportional: ceil(prr_delivered * ssthresh / RecoverFS) - prr_out */
		uint64_t fs = MAX(t->x->recover_fs, 1u);
		uint64_t due = ((uint64_t)t->x->prr_delivered * t->x->ssthresh + fs - 1) / fs;
		sndcnt = due > t->x->prr_out ? due - t->x->prr_out : 0;
	} else {
		/* PRR-SSRB: slow start back up to ssthresh */
		uint64_t behind =
		    t->x->prr_delivered > t->x->prr_out ? t->x->prr_delivered - t->x->prr_out : 0;
		uint64_t limit = MAX(behind, (uint64_t)delivered) + t->mss;
		sndcnt = MIN((uint64_t)(t->x->ssthresh - pipe), limit);
	}
	t->x->cwnd = (uint32_t)MIN((uint64_t)pipe + sndcnt, (uint64_t)UINT32_MAX / 2);
}

/* RFC 6675 §4 NextSeg() rules 1 and 3: the first unSACKed byte not yet
 * retransmitted in this recovery, if lost (rule 1) or, with nothing new to
 * send, below the highest SACKed byte (rule 3). */
static bool next_hole(struct tcb *t, bool rule3)
{
	uint32_t seq = seq_max(t->x->high_rxt, t->snd_una), len = UINT32_MAX;
	tcp_sack_skip(t, &seq, &len);
	if (!len)
		return false;
	uint32_t limit =
	    rule3 ? (t->x->sacked.n ? t->x->sacked.r[t->x->sacked.n - 1][1] : t->snd_una) : lost_edge(t);
	return seq_lt(seq, limit) && rexmit_at(t, seq, true);
}

/* NextSeg() rule 4, a rescue retransmission (RFC 6675 §4): once per
 * recovery, when nothing else may go, one segment holding the highest
 * unSACKed byte; HighRxt stays. */
static bool rescue(struct tcb *t)
{
	if (t->rescue_done || snd_unsent(t))
		return false;
	t->rescue_done = 1;
	t->x->rescue_rxt = t->x->recover;
	uint32_t top = t->snd_max;
	if (t->x->sacked.n && t->x->sacked.r[t->x->sacked.n - 1][1] == top)
		top = t->x->sacked.r[t->x->sacked.n - 1][0];
	if (!seq_gt(top, seq_max(t->snd_una, t->x->high_rxt)))
		return false; /* already resent in this recovery */
	uint32_t seq = top - MIN(tcp_seg_mss(t), top - t->snd_una);
	return rexmit_at(t, seq, false) != 0;
}

/* Rule 2: one new segment, a whole one even when less than a segment of
 * cwnd is left (see below); the receive window still rules. */
static bool new_segment(struct tcb *t)
{
	uint32_t cwnd = t->x->cwnd;
	t->x->cwnd = MAX(cwnd, tcp_sack_pipe(t) + tcp_seg_mss(t));
	bool sent = tcp_send_data(t, false);
	t->x->cwnd = cwnd;
	return sent;
}

bool tcp_recovery_output(struct tcb *t)
{
	bool sent_any = false;
	/* RFC 6937 §3's sndcnt comes in bytes; any of it sends a whole
	 * segment (as a sender counting in packets rounds up), and prr_out
	 * then holds back what the next ACKs allow */
	for (int n = 0; n < 64 && tcp_sack_pipe(t) < t->x->cwnd; n++) {
		uint32_t before = t->snd_max, seq, len = tcp_seg_mss(t);
		if (tcp_rack_next(t, &seq, &len)) { /* a lost retransmission first */
			uint32_t sent = tcp_rexmit(t, seq, len);
			tcp_rack_resent(t, seq, sent);
			if (sent)
				tcp_rack_note_rexmit(t, seq, seq + sent);
			t->x->prr_out += sent;
			sent_any = sent_any || sent;
			if (sent)
				continue;
			break;
		}
		if (next_hole(t, false)) {
			sent_any = true;
			continue;
		}
		if (snd_unsent(t) && new_segment(t)) { /* rule 2: new data */
			t->x->prr_out += t->snd_max - before;
			sent_any = true;
			continue;
		}
		if (next_hole(t, true) || rescue(t)) {
			sent_any = true;
			continue;
		}
		break;
	}
	return sent_any;
}
