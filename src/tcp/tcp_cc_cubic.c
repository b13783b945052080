/* CUBIC (RFC 9438) with HyStart++ (RFC 9406), the default congestion
 * controller.
 *
 * Implementation notes
 * - Windows are computed in segments as doubles (the formulas of RFC 9438
 *   §4 as written) and kept in bytes; cbrt() comes from libm.
 * - Fast convergence (§4.7) is on: most hosts share their paths.
 * - HyStart++ needs RTT samples in every round: with timestamps there is
 *   one per ACK; without them only one per round trip, so it rarely leaves
 *   slow start early and RFC 5681's loss-based exit applies. */
#include <math.h>
#include <string.h>

#include "tcp/tcp_cc.h"
#include "tcp/tcp_internal.h"

#define CUBIC_C		  0.4		 /* RFC 9438 §5.1 */
#define CUBIC_BETA	  0.7		 /* RFC 9438 §4.6 */
#define HS_MIN_RTT_THRESH SYNACK_MSEC(4) /* RFC 9406 §4.3 */
#define HS_MAX_RTT_THRESH SYNACK_MSEC(16)
enum { HS_MIN_RTT_DIVISOR = 8, HS_N_RTT_SAMPLE = 8, HS_CSS_GROWTH_DIVISOR = 4, HS_CSS_ROUNDS = 5 };

struct cubic {
	uint32_t w_max;	     /* bytes: the window before the last reduction (§4.2) */
	uint32_t cwnd_epoch; /* bytes: cwnd when the congestion avoidance stage began */
	uint32_t w_est;	     /* bytes: the Reno-friendly estimate (§4.3) */
	uint32_t est_acc;    /* bytes acknowledged not yet turned into w_est growth */
	synack_time_t k;     /* microseconds: when W_cubic reaches w_max again */
	synack_time_t epoch; /* start of the stage, 0 = none yet */
	/* HyStart++ (RFC 9406 §4.2) */
	uint32_t round_end; /* windowEnd */
	uint8_t samples;    /* rttSampleCount */
	uint8_t css_rounds; /* rounds spent in Conservative Slow Start */
	uint8_t in_css : 1, css_full_round : 1, hystart_done : 1;
	synack_time_t last_round_min, cur_round_min, css_baseline;
};

static struct cubic *cubic_of(struct tcb *t)
{
	_Static_assert(sizeof(struct cubic) <= TCP_CC_STATE_BYTES, "CUBIC state too big");
	return (struct cubic *)(void *)t->x->cc_state;
}

static void hystart_new_round(struct tcb *t, struct cubic *c)
{
	c->last_round_min = c->cur_round_min;
	c->cur_round_min = SYNACK_TIME_NEVER;
	c->samples = 0;
	c->round_end = t->snd_max;
	c->css_full_round = c->in_css;
	if (c->in_css && ++c->css_rounds >= HS_CSS_ROUNDS) {
		/* RFC 9406 §4.2: CSS_ROUNDS rounds in CSS: congestion avoidance */
		t->x->ssthresh = t->x->cwnd;
		c->in_css = 0;
		c->hystart_done = 1;
	}
}

static void cubic_init(struct tcb *t)
{
	struct cubic *c = cubic_of(t);
	memset(c, 0, sizeof *c);
	c->cur_round_min = c->last_round_min = c->css_baseline = SYNACK_TIME_NEVER;
	/* the first round ends when the SYN is acknowledged (ISS + 1, what
	 * SND.MAX is or becomes on either side): a function of the ISS alone,
	 * so that an idle connection's extension can be made again (tcb.c) */
	c->round_end = t->iss + 1;
}

/* RFC 9406 §4.2: the delay increase test, per RTT sample in slow start. */
static void cubic_on_rtt(struct tcb *t, synack_time_t rtt)
{
	struct cubic *c = cubic_of(t);
	if (c->hystart_done || t->x->cwnd >= t->x->ssthresh)
		return;
	c->cur_round_min = MIN(c->cur_round_min, rtt);
	if (c->samples < 255)
		c->samples++;
	if (c->samples < HS_N_RTT_SAMPLE || c->cur_round_min == SYNACK_TIME_NEVER ||
	    c->last_round_min == SYNACK_TIME_NEVER)
		return;
	if (c->in_css) {
		/* a spurious exit: back to slow start. Only judged on a round
		 * that began in CSS: within the round that entered it, an
		 * unpaced sender's early ACKs saw less of the queue its bursts
		 * build, and would undo every exit at once. */
		if (c->css_full_round && c->cur_round_min < c->css_baseline) {
			c->css_baseline = SYNACK_TIME_NEVER;
			c->in_css = 0;
			c->css_rounds = 0;
		}
		return;
	}
	synack_time_t thresh =
	    MAX(HS_MIN_RTT_THRESH, MIN(c->last_round_min / HS_MIN_RTT_DIVISOR, HS_MAX_RTT_THRESH));
	if (c->cur_round_min >= c->last_round_min + thresh) {
		c->css_baseline = c->cur_round_min;
		c->in_css = 1;
		c->css_full_round = 0;
		c->css_rounds = 0;
	}
}

/* W_cubic(t) of RFC 9438 §4.2 (Figure 1), in bytes. */
static double w_cubic(const struct cubic *c, double mss, synack_time_t since_epoch)
{
	double x = (double)(since_epoch - c->k) / 1e6;
	return CUBIC_C * x * x * x * mss + (double)c->w_max;
}

static void cubic_epoch_start(struct tcb *t, struct cubic *c)
{
	c->epoch = tnow(t);
	c->cwnd_epoch = t->x->cwnd;
	c->w_est = t->x->cwnd;
	c->est_acc = 0;
	if (c->w_max <= t->x->cwnd) {
		/* §4.8 after a timeout, or a window that outgrew w_max: K = 0 */
		c->w_max = t->x->cwnd;
		c->k = 0;
	} else {
		/* §4.2 Figure 2: K = cbrt((W_max - cwnd_epoch) / C), segments */
		double seg = (double)(c->w_max - t->x->cwnd) / (double)t->mss;
		c->k = (synack_time_t)(cbrt(seg / CUBIC_C) * 1e6);
	}
}

/* RFC 9438 §4.3: the Reno-friendly window grows by alpha_cubic segments per
 * window acknowledged, alpha = 3 (1 - beta) / (1 + beta), then 1 once it
 * passes the window before the reduction. */
static void reno_friendly(struct tcb *t, struct cubic *c, uint32_t acked)
{
	double alpha = c->w_est >= c->w_max ? 1.0 : 3.0 * (1 - CUBIC_BETA) / (1 + CUBIC_BETA);
	c->est_acc += acked;
	if (c->est_acc >= t->x->cwnd) {
		c->w_est += (uint32_t)(alpha * (double)t->mss * ((double)c->est_acc / (double)t->x->cwnd));
		c->est_acc = 0;
	}
}

/* RFC 9438 §4.2, §4.4, §4.5: congestion avoidance. The target is W_cubic
 * one RTT ahead, within [cwnd, 1.5 cwnd]; cwnd moves (target - cwnd) /
 * cwnd per segment acknowledged. */
static void cubic_avoid(struct tcb *t, struct cubic *c, uint32_t acked)
{
	if (!c->epoch)
		cubic_epoch_start(t, c);
	double mss = (double)t->mss, cwnd = (double)t->x->cwnd;
	synack_time_t rtt = t->srtt ? t->srtt : SYNACK_MSEC(100);
	double target = w_cubic(c, mss, tnow(t) - c->epoch + rtt);
	target = MAX(cwnd, MIN(target, 1.5 * cwnd));
	reno_friendly(t, c, acked);
	if (w_cubic(c, mss, tnow(t) - c->epoch) < (double)c->w_est && c->w_est > t->x->cwnd) {
		t->x->cwnd = c->w_est; /* §4.3: the Reno-friendly region */
		return;
	}
	double grow = (target - cwnd) / cwnd * (double)acked;
	t->x->bytes_acked_ca += (uint32_t)grow;
	if (t->x->bytes_acked_ca >= 1) {
		t->x->cwnd += t->x->bytes_acked_ca;
		t->x->bytes_acked_ca = 0;
	}
}

static void cubic_on_ack(struct tcb *t, const struct tcp_ack_sample *a)
{
	struct cubic *c = cubic_of(t);
	if (seq_geq(t->snd_una, c->round_end))
		hystart_new_round(t, c);
	uint32_t acked = a->acked;
	if (t->x->cwnd < t->x->ssthresh) {
		if (c->in_css) { /* RFC 9406 §4.2: a quarter of slow start's growth */
			t->x->cwnd += MIN(acked, 2u * t->mss) / HS_CSS_GROWTH_DIVISOR;
			return;
		}
		acked = tcp_cc_slow_start(t, acked);
		if (!acked)
			return;
	}
	cubic_avoid(t, c, acked);
}

/* RFC 9438 §4.6, §4.7: a congestion event. */
static uint32_t cubic_ssthresh(struct tcb *t)
{
	struct cubic *c = cubic_of(t);
	uint32_t flight = t->snd_max - t->snd_una;
	if (t->x->cwnd < c->w_max) /* fast convergence */
		c->w_max = (uint32_t)((double)t->x->cwnd * (1 + CUBIC_BETA) / 2);
	else
		c->w_max = t->x->cwnd;
	c->epoch = 0;
	c->in_css = 0;
	c->hystart_done = 1; /* RFC 9406 §4.2: loss ends slow start for good */
	t->x->bytes_acked_ca = 0;
	return MAX((uint32_t)((double)flight * CUBIC_BETA), 2u * t->mss);
}

/* §4.8: after a timeout the next stage starts with K = 0 from the window
 * it begins with (cubic_epoch_start sees w_max <= cwnd). */
static void cubic_on_rto(struct tcb *t)
{
	struct cubic *c = cubic_of(t);
	c->w_max = 0;
	c->epoch = 0;
}

static void cubic_on_recovery_end(struct tcb *t)
{
	cubic_of(t)->epoch = 0;
}

/* The epoch is a clock: time spent idle is not time spent probing. */
static void cubic_on_idle(struct tcb *t, synack_time_t idle)
{
	struct cubic *c = cubic_of(t);
	if (c->epoch)
		c->epoch += idle;
}

const struct tcp_cc_ops tcp_cc_cubic = {
    .name = "cubic",
    .init = cubic_init,
    .on_ack = cubic_on_ack,
    .ssthresh = cubic_ssthresh,
    .on_recovery_end = cubic_on_recovery_end,
    .on_rto = cubic_on_rto,
    .on_idle = cubic_on_idle,
    .on_rtt = cubic_on_rtt,
};
