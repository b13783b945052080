/* TCP timers: retransmission (RFC 6298), persist (RFC 9293 §3.8.6.1),
 * delayed ACK (RFC 9293 §3.8.6.3), TIME-WAIT (RFC 9293 §3.6) and the
 * orphaned FIN-WAIT-2 timeout; keepalive (RFC 9293 §3.8.4) is in
 * tcp_keepalive.c. */
#include <errno.h>

#include "tcp/tcp_internal.h"

static synack_time_t clamp_rto(const struct tcb *t, synack_time_t rto)
{
	const synack_tcp_config *c = tcfg(t);
	return MAX(c->rto_min, MIN(rto, c->rto_max));
}

/* RFC 6298 §2.2, §2.3 (alpha 1/8, beta 1/4, K = 4, G = 1 us here). */
void tcp_rtt_sample(struct tcb *t, synack_time_t r)
{
	if (r < 1)
		r = 1;
	if (r > SYNACK_SEC(600)) /* (as the timestamps' bound, tcp_sync.c; fits t->srtt) */
		r = SYNACK_SEC(600);
	if (t->srtt == 0) {
		t->srtt = r;
		t->rttvar = r / 2;
	} else {
		synack_time_t err = t->srtt > r ? t->srtt - r : r - t->srtt;
		t->rttvar = (3 * t->rttvar + err) / 4;
		t->srtt = (7 * t->srtt + r) / 8;
	}
	t->rto = clamp_rto(t, t->srtt + MAX((synack_time_t)1, 4 * t->rttvar) + tcfg(t)->rto_slop);
}

/* RFC 6298 §5.1, §5.5: (re)start the timer at RTO << backoff. */
void tcp_rtx_arm(struct tcb *t)
{
	synack_time_t rto = t->rto;
	for (unsigned i = 0; i < t->x->backoff && rto < tcfg(t)->rto_max; i++)
		rto *= 2;
	t->x->t_rtx = tnow(t) + MIN(rto, tcfg(t)->rto_max);
	t->x->t_persist = SYNACK_TIME_NEVER;
}

void tcp_persist_arm(struct tcb *t)
{
	synack_time_t base = t->srtt ? t->rto : tcfg(t)->rto_initial;
	for (unsigned i = 0; i < t->x->persist_backoff && base < tcfg(t)->persist_max; i++)
		base *= 2;
	base = MAX(tcfg(t)->persist_min, MIN(base, tcfg(t)->persist_max));
	t->x->t_persist = tnow(t) + base;
	t->x->t_rtx = SYNACK_TIME_NEVER;
}

void tcp_time_wait_enter(struct tcb *t)
{
	tcb_set_state(t, SYNACK_TCP_TIME_WAIT);
	/* everything sent is acknowledged: nothing to retransmit or probe,
	 * only the 2*MSL deadline (and a delayed ACK) can remain */
	t->x->t_rtx = t->x->t_persist = t->x->t_tlp = t->x->t_rack = t->x->t_keep = SYNACK_TIME_NEVER;
	t->x->t_close = tnow(t) + 2 * tcfg(t)->msl;
	ring_free(&t->x->sndq, &t->st->mem);
	tcp_ranges_free(&t->x->sacked, &t->st->mem);
	t->x->sacked_bytes = 0;
}

static unsigned retry_limit(const struct tcb *t)
{
	const synack_tcp_config *c = tcfg(t);
	if (t->state == SYNACK_TCP_SYN_SENT)
		return c->syn_retries;
	if (t->state == SYNACK_TCP_SYN_RECEIVED)
		return c->synack_retries;
	return c->data_retries;
}

/* RFC 6298 §5.4-5.7 and RFC 5681 §3.1 (equation 4, cwnd = 1 MSS). */
static void rtx_expired(struct tcb *t)
{
	t->x->t_rtx = SYNACK_TIME_NEVER;
	if (t->x->backoff >= retry_limit(t)) {
		stack_count(t->st, SYNACK_CNT_TCP_TIMEOUTS);
		tcb_trace_note(t, SYNACK_NOTE_TIMEOUT);
		tcb_close_state(t, t->x->soft_error ? t->x->soft_error : -ETIMEDOUT, SYNACK_EV_ERROR);
		return;
	}
	t->x->backoff++;
	stack_count(t->st, SYNACK_CNT_TCP_RTO_EXPIRIES);
	t->rtt_timing = 0; /* Karn's algorithm: no samples from retransmissions */
	tcb_trace_note(t, SYNACK_NOTE_RETRANSMIT);
	if (t->state == SYNACK_TCP_SYN_SENT || t->state == SYNACK_TCP_SYN_RECEIVED) {
		tcp_count_retransmit(t);
		if (t->x->backoff == 1 && t->srtt == 0)
			t->rto = MAX(t->rto, tcfg(t)->rto_initial); /* RFC 6298 §5.7 */
		tcp_send_syn(t);
		tcp_rtx_arm(t);
		return;
	}
	/* RFC 5681 §3.1 (equation 4; the module's ssthresh), RFC 6582 §4.1
	 * and RFC 6675 §5.1: no fast recovery for data sent before this */
	tcp_frto_start(t);		    /* RFC 5682 step 1 (before the reduction it may undo) */
	tcp_cwv_reset(t);		    /* RFC 7661 §4.4: an RTO ends the non-validated phase */
	t->x->undo_ok = t->x->undo_due = 0; /* the recovery before it is not undone now */
	t->x->ssthresh = tcb_cc(t)->ssthresh(t);
	tcb_cc(t)->on_rto(t);
	t->x->cwnd = t->mss;
	t->x->dupacks = 0;
	t->in_recovery = 0;
	t->x->recover = t->snd_max;
	t->x->t_tlp = t->x->t_rack = SYNACK_TIME_NEVER;
	t->x->tlp_pending = 0;
	tcp_rack_clear(t);
	t->snd_nxt = t->snd_una; /* go back: resend from the oldest unacknowledged byte */
	if (t->fin_sent && t->snd_nxt == t->x->fin_seq + 1)
		t->snd_nxt = t->x->fin_seq;
	tcp_rtx_arm(t);
	tcp_output(t);
}

/* RFC 9293 §3.8.6.1: probe a zero window with one byte; never give up
 * while the peer answers. */
static void persist_expired(struct tcb *t)
{
	t->x->t_persist = SYNACK_TIME_NEVER;
	if (!snd_unsent(t))
		return;
	if (t->snd_wnd > 0) {
		tcp_send_override(t);
		return;
	}
	/* RFC 9293 §3.8.6.1: probing goes on while the peer answers; a peer
	 * that stops answering is given up like any other (RFC 1122 §4.2.3.5) */
	if (t->x->probes_unanswered >= tcfg(t)->data_retries) {
		stack_count(t->st, SYNACK_CNT_TCP_TIMEOUTS);
		tcb_trace_note(t, SYNACK_NOTE_TIMEOUT);
		tcb_close_state(t, t->x->soft_error ? t->x->soft_error : -ETIMEDOUT, SYNACK_EV_ERROR);
		return;
	}
	t->x->probes_unanswered++;
	stack_count(t->st, SYNACK_CNT_TCP_WINDOW_PROBES);
	tcb_trace_note(t, SYNACK_NOTE_ZERO_WINDOW_PROBE);
	uint32_t off = t->snd_nxt - t->data_seq;
	tcp_emit(t, t->snd_nxt, SYNACK_TCP_ACK, off, 1);
	t->snd_max = seq_max(t->snd_max, t->snd_nxt + 1);
	if (t->x->persist_backoff < 16)
		t->x->persist_backoff++;
	tcp_persist_arm(t);
}

bool tcp_timer_fire(struct tcb *t)
{
	synack_time_t now = tnow(t);
	if (t->x->t_close <= now) {
		t->x->t_close = SYNACK_TIME_NEVER;
		if (t->state == SYNACK_TCP_TIME_WAIT)
			tcb_trace_note(t, SYNACK_NOTE_TIME_WAIT_DONE);
		else
			stack_count(t->st, SYNACK_CNT_TCP_TIMEOUTS);
		tcb_close_state(t, 0, 0);
		tcb_maybe_free(t);
		return false;
	}
	if (t->x->t_delack <= now) {
		t->x->t_delack = SYNACK_TIME_NEVER;
		stack_count(t->st, SYNACK_CNT_TCP_DELAYED_ACKS);
		tcb_trace_note(t, SYNACK_NOTE_DELAYED_ACK);
		t->ack_now = 1;
	}
	if (t->x->t_rtx <= now)
		rtx_expired(t);
	else if (t->x->t_persist <= now)
		persist_expired(t);
	else if (t->x->t_tlp <= now)
		tcp_tlp_fire(t);
	if (t->x->t_rack <= now)
		tcp_rack_fire(t);
	if (t->x->t_keep <= now)
		tcp_keep_expired(t); /* RFC 9293 §3.8.4 (tcp_keepalive.c) */
	if (t->state == SYNACK_TCP_CLOSED) {
		if (!t->user) {
			tcb_free(t);
			return false;
		}
		return true;
	}
	tcp_output(t);
	return true;
}
