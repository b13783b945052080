/* TCP keep-alives, RFC 9293 §3.8.4 and RFC 1122 §4.2.3.6.
 *
 * Implementation notes
 * - Off by default ("MUST default to off"), on per connection
 *   (SYNACK_TCP_KEEPALIVE); the idle time, the interval and the count are
 *   per connection too, with Linux's defaults (7200 s, 75 s, 9 probes;
 *   RFC 1122 asks for an idle time of at least two hours by default).
 * - A probe is <SEQ=SND.UNA-1><ACK=RCV.NXT> without data: outside the
 *   window, so the peer must answer it with an ACK (RFC 9293 §3.10.7.4
 *   first), and RFC 1122 says a probe needs no data to be answered.
 * - Lazy, as Linux does it: a segment from the peer only records when it
 *   came (keep_heard); the timer, when it fires, sees how long the peer has
 *   been silent and either moves itself to keep_heard + idle or probes. No
 *   heap update per segment, except for the answer to a probe, which moves
 *   the timer to keep_heard + idle at once (the idle time may be shorter
 *   than the interval).
 * - No probe while data is in flight or waits to go out (a zero window):
 *   the retransmission or the persist timer watches the peer then, and the
 *   keepalive timer just looks again an idle time later (Linux does the
 *   same).
 * - After keep_cnt unanswered probes the connection ends with ETIMEDOUT
 *   (or the ICMP soft error kept, RFC 5461), after a RST as Linux sends one
 *   in case the peer is back. */
#include <errno.h>

#include "tcp/tcp_internal.h"

static bool keep_state(const struct tcb *t)
{
	return t->keepalive && tcb_synchronized(t) && t->state != SYNACK_TCP_TIME_WAIT;
}

void tcp_keep_arm(struct tcb *t)
{
	if (!keep_state(t))
		t->x->t_keep = SYNACK_TIME_NEVER;
	else if (t->x->keep_probes)
		t->x->t_keep = t->x->keep_sent + SYNACK_SEC(t->x->keep_intvl);
	else
		t->x->t_keep = t->x->keep_heard + SYNACK_SEC(t->x->keep_idle);
}

/* Any segment from the peer on a connection (tcp_input.c): it is alive.
 * A connection that just became synchronized with keepalive on starts its
 * idle time here. */
void tcp_keep_heard(struct tcb *t)
{
	bool probing = t->x->keep_probes != 0;
	t->x->keep_heard = tnow(t);
	t->x->keep_probes = 0;
	/* an answered probe (rare): the timer moves from the interval to the
	 * idle time, which may be the shorter */
	if (t->keepalive && (probing || t->x->t_keep == SYNACK_TIME_NEVER) && keep_state(t)) {
		tcp_keep_arm(t);
		tcb_timer_update(t);
	}
}

/* keep_cnt probes went unanswered. */
static void keep_timeout(struct tcb *t)
{
	stack_count(t->st, SYNACK_CNT_TCP_KEEPALIVE_TIMEOUTS);
	tcb_trace_note(t, SYNACK_NOTE_TIMEOUT);
	tcp_send_rst_tcb(t);
	tcb_close_state(t, t->x->soft_error ? t->x->soft_error : -ETIMEDOUT, SYNACK_EV_ERROR);
}

bool tcp_keep_expired(struct tcb *t)
{
	synack_time_t now = tnow(t);
	t->x->t_keep = SYNACK_TIME_NEVER;
	if (!keep_state(t))
		return true;
	if (t->snd_max != t->snd_una || snd_unsent(t)) {
		/* other timers watch the peer; look again an idle time later */
		t->x->keep_probes = 0;
		t->x->t_keep = now + SYNACK_SEC(t->x->keep_idle);
		return true;
	}
	if (!t->x->keep_probes && t->x->keep_heard + SYNACK_SEC(t->x->keep_idle) > now) {
		tcp_keep_arm(t); /* heard from since the timer was set */
		return true;
	}
	if (t->x->keep_probes >= t->x->keep_cnt) {
		keep_timeout(t);
		return false;
	}
	stack_count(t->st, SYNACK_CNT_TCP_KEEPALIVE_PROBES);
	tcb_trace_note(t, SYNACK_NOTE_KEEPALIVE);
	tcp_emit(t, t->snd_una - 1, SYNACK_TCP_ACK, 0, 0);
	t->x->keep_probes++;
	t->x->keep_sent = now;
	tcp_keep_arm(t);
	return true;
}

void tcp_keep_inherit(struct tcb *c, const struct tcb *l)
{
	c->keepalive = l->keepalive;
	c->x->keep_idle = l->x->keep_idle;
	c->x->keep_intvl = l->x->keep_intvl;
	c->x->keep_cnt = l->x->keep_cnt;
	c->ip_ttl = l->ip_ttl;
	c->ip_tos = l->ip_tos;
}
