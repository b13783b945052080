/* Congestion control: the module table, what the modules share, and
 * NewReno's window rules (RFC 5681 §3.1 with RFC 3465; the recovery itself,
 * RFC 6582 and RFC 6675, is the core's: tcp_sack.c, tcp_sync.c). */
#include "tcp/tcp_cc.h"
#include "tcp/tcp_internal.h"

uint32_t tcp_cc_half_flight(const struct tcb *t)
{
	uint32_t flight = t->snd_max - t->snd_una;
	return MAX(flight / 2, 2u * t->mss);
}

/* RFC 5681 §3.1: cwnd += min(N, SMSS) per ACK in slow start; RFC 3465 §2.2
 * lets the limit L be 2*SMSS, which keeps slow start doubling per round
 * trip against a receiver that acknowledges every second segment. */
uint32_t tcp_cc_slow_start(struct tcb *t, uint32_t acked)
{
	if (t->x->cwnd >= t->x->ssthresh)
		return acked;
	uint32_t room = t->x->ssthresh - t->x->cwnd;
	uint32_t grow = MIN(MIN(acked, 2u * t->mss), room);
	t->x->cwnd += grow;
	return t->x->cwnd >= t->x->ssthresh ? acked - MIN(acked, grow) : 0;
}

static void newreno_init(struct tcb *t)
{
	t->x->bytes_acked_ca = 0;
}

/* RFC 5681 §3.1 congestion avoidance with byte counting (RFC 3465 §2.1):
 * one SMSS per cwnd of bytes acknowledged. */
static void newreno_on_ack(struct tcb *t, const struct tcp_ack_sample *a)
{
	uint32_t left = tcp_cc_slow_start(t, a->acked);
	if (!left || t->x->cwnd < t->x->ssthresh)
		return;
	t->x->bytes_acked_ca += left;
	if (t->x->bytes_acked_ca >= t->x->cwnd) {
		t->x->bytes_acked_ca -= t->x->cwnd;
		t->x->cwnd += t->mss;
	}
}

/* RFC 5681 §3.1 equation 4 (RFC 6582 §3.2 step 2). */
static uint32_t newreno_ssthresh(struct tcb *t)
{
	t->x->bytes_acked_ca = 0;
	return tcp_cc_half_flight(t);
}

static void newreno_nothing(struct tcb *t)
{
	(void)t;
}

const struct tcp_cc_ops tcp_cc_newreno = {
    .name = "newreno",
    .init = newreno_init,
    .on_ack = newreno_on_ack,
    .ssthresh = newreno_ssthresh,
    .on_recovery_end = newreno_nothing,
    .on_rto = newreno_nothing,
};

static const struct {
	unsigned id;
	const struct tcp_cc_ops *ops;
} tcp_cc_table[] = {
    {SYNACK_TCP_CC_NEWRENO, &tcp_cc_newreno},
    {SYNACK_TCP_CC_CUBIC, &tcp_cc_cubic},
};

const struct tcp_cc_ops *const tcp_cc_by_index[] = {&tcp_cc_newreno, &tcp_cc_cubic};
_Static_assert(ARRAY_LEN(tcp_cc_by_index) == ARRAY_LEN(tcp_cc_table), "one index per module");

uint8_t tcp_cc_find(unsigned id)
{
	if (id == SYNACK_TCP_CC_DEFAULT)
		id = SYNACK_TCP_CC_CUBIC; /* RFC 9438 */
	for (uint8_t i = 0; i < ARRAY_LEN(tcp_cc_by_index); i++)
		if (tcp_cc_by_index[i] == tcp_cc_table[i].ops && tcp_cc_table[i].id == id)
			return i;
	return 0; /* NewReno */
}

const char *tcp_cc_name(unsigned id)
{
	for (size_t i = 0; i < ARRAY_LEN(tcp_cc_table); i++)
		if (tcp_cc_table[i].id == id)
			return tcp_cc_table[i].ops->name;
	return NULL;
}
