/* src/tcp: congestion window validation (RFC 7661, "New CWV").
 *
 * A sender that sends less than its cwnd allows (an application that
 * pauses, or trickles) keeps a cwnd the path has not lately proven. RFC
 * 7661 measures what the path did carry, pipeACK: the bytes acknowledged
 * over one RTT (§4.2), the largest sample of the pipeACK Sampling Period
 * max(3 RTT, 1 s). With pipeACK below half the cwnd the sender is in the
 * non-validated phase (§4.3); there:
 *  - cwnd is kept but grows only when the sender is cwnd-limited (the
 *    core's cc_on_ack grows it only with at least half of it in flight);
 *  - a loss sets ssthresh from what was used, max(pipeACK, LossFlightSize)
 *    / 2, and the end of that recovery cwnd to (max(pipeACK,
 *    LossFlightSize) - R) / 2, R the bytes resent (§4.4.1);
 *  - after the non-validated period (5 minutes, cwv_nvp) ssthresh becomes
 *    max(ssthresh, 3/4 cwnd) and cwnd max(cwnd / 2, IW) (§4.4.3), once for
 *    each period that passed (§4.5.2), checked on each ACK and when the
 *    sender resumes.
 * Any recovery, and a retransmission timeout, leave pipeACK undefined: the
 * validated phase, until a new sample (§4.2, §4.4.1). */
#include "tcp_internal.h"

static synack_time_t sampling_period(const struct tcb *t)
{
	return MAX(3 * t->srtt, SYNACK_SEC(1));
}

/* pipeACK now: the largest sample of the sampling period; 0 once that
 * sample is older than the period (nothing was carried since). */
static uint32_t pipeack(const struct tcb *t, synack_time_t now)
{
	return now - t->x->pipeack_at > sampling_period(t) ? 0 : t->x->pipeack;
}

/* §4.4.3 at the end of each non-validated period that passed (§4.5.2:
 * "make one reduction for each NVP"). */
static void nvp_expired(struct tcb *t, synack_time_t now)
{
	synack_time_t nvp = MAX(tcfg(t)->cwv_nvp, 1);
	for (synack_time_t n = (now - t->x->nvp_start) / nvp; n > 0; n--) {
		uint32_t iw = tcp_initial_window(t);
		if (t->x->cwnd <= iw)
			break;
		t->x->ssthresh = MAX(t->x->ssthresh, t->x->cwnd / 4 * 3);
		t->x->cwnd = MAX(t->x->cwnd / 2, iw);
		stack_count(t->st, SYNACK_CNT_TCP_CWV_REDUCTIONS);
	}
	t->x->nvp_start = now;
}

/* Validated (§4.3): pipeACK at least half the cwnd. The largest sample is
 * held against the cwnd of the round trip it measured: in slow start the
 * window doubles while a round trip is measured, and a sender that used
 * all of it is not rate-limited (§4.3's note on the threshold). */
static bool validated(const struct tcb *t, synack_time_t now)
{
	return pipeack(t, now) >= MIN(t->x->cwnd, t->x->pipeack_cwnd) / 2;
}

/* Which phase is the sender in now (§4.3), and has the non-validated one
 * lasted a whole period? */
static void phase(struct tcb *t, synack_time_t now)
{
	if (!t->pipeack_ok || t->in_recovery) {
		t->x->nvp_start = 0;
		return;
	}
	synack_time_t since = now;
	if (now - t->x->pipeack_at > sampling_period(t))
		since = t->x->pipeack_at + sampling_period(t); /* nothing carried since then */
	if (validated(t, now)) {
		t->x->nvp_start = 0;
		return;
	}
	if (!t->x->nvp_start)
		t->x->nvp_start = since;
	if (now - t->x->nvp_start >= tcfg(t)->cwv_nvp)
		nvp_expired(t, now);
}

void tcp_cwv_on_ack(struct tcb *t)
{
	if (!tcfg(t)->cwv || t->in_recovery)
		return; /* §4.2: "MUST NOT be updated during TCP Fast Recovery" */
	synack_time_t now = tnow(t);
	if (!t->x->pa_start) {
		t->x->pa_start = now;
		t->x->pa_mark = t->snd_una;
		t->x->pa_cwnd = t->x->cwnd;
	} else if (t->srtt && now - t->x->pa_start >= t->srtt) {
		/* §4.2: the bytes acknowledged over one RTT (§4.5.1's HighACK) */
		uint32_t sample = t->snd_una - t->x->pa_mark;
		if (!t->pipeack_ok || sample >= pipeack(t, now)) {
			t->x->pipeack = sample;
			t->x->pipeack_at = now;
			t->x->pipeack_cwnd = t->x->pa_cwnd;
			t->pipeack_ok = 1;
		}
		t->x->pa_start = now;
		t->x->pa_mark = t->snd_una;
		t->x->pa_cwnd = t->x->cwnd;
	}
	phase(t, now);
}

void tcp_cwv_on_send(struct tcb *t)
{
	if (tcfg(t)->cwv && t->snd_una == t->snd_max)
		phase(t, tnow(t)); /* resuming after a pause: the period may be over */
}

void tcp_cwv_on_loss(struct tcb *t)
{
	t->x->recov_rtx = 0;
	t->cwv_loss = 0;
	if (!tcfg(t)->cwv || !t->pipeack_ok)
		return;
	synack_time_t now = tnow(t);
	uint32_t pa = pipeack(t, now);
	if (validated(t, now))
		return; /* the module's reduction stands */
	/* §4.4.1: LossFlightSize, and a cwnd from what was used */
	t->x->cwv_lfs = t->snd_max - t->snd_una;
	t->cwv_loss = 1;
	t->x->ssthresh = MAX(MAX(pa, t->x->cwv_lfs) / 2, 2u * t->mss);
}

void tcp_cwv_on_recovery_end(struct tcb *t)
{
	if (t->cwv_loss) {
		/* §4.4.1: cwnd = (max(pipeACK, LossFlightSize) - R) / 2 */
		uint32_t used = MAX(pipeack(t, tnow(t)), t->x->cwv_lfs);
		uint32_t cwnd = (used - MIN(used, t->x->recov_rtx)) / 2;
		t->x->cwnd = MAX(cwnd, (uint32_t)t->mss);
		t->x->ssthresh = MAX(t->x->cwnd, 2u * t->mss);
	}
	tcp_cwv_reset(t);
}

void tcp_cwv_reset(struct tcb *t)
{
	t->pipeack_ok = 0;
	t->cwv_loss = 0;
	t->x->nvp_start = 0;
	t->x->pa_start = 0;
}
