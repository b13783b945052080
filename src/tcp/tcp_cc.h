/* src/tcp: congestion control modules.
 *
 * The core (tcp_sync.c, tcp_sack.c, tcp_timer.c) owns everything a
 * congestion controller should not have to re-implement: SACK and the
 * scoreboard, loss detection, when recovery starts and ends, how many
 * segments go out during recovery (Proportional Rate Reduction, RFC 6937),
 * RTT estimation and the retransmission timer. A module only decides how
 * the congestion window grows and how far it falls.
 *
 * Writing one (BBR, Vegas ...) is one file:
 *  1. define `const struct tcp_cc_ops tcp_cc_NAME = {...}` in
 *     src/tcp/tcp_cc_NAME.c, its per-connection state a struct of at most
 *     TCP_CC_STATE_BYTES kept in t->cc (use tcp_cc_state(t));
 *  2. add it to tcp_cc_table in tcp_cc.c with a new SYNACK_TCP_CC_* value
 *     (include/synack/stack.h) so the configuration can name it.
 *
 * Units: t->x->cwnd and t->x->ssthresh are bytes, t->mss the sender MSS; times are
 * stack microseconds (tnow(t)). Every hook is called with the TCB in a
 * consistent state and must not send: the core sends afterwards.
 *
 *  init(t)       the connection is synchronized; cwnd is the initial window
 *                (RFC 6928) and ssthresh "arbitrarily high" (RFC 5681 §3.1).
 *  on_ack(t, a)  new data was acknowledged outside loss recovery: grow cwnd
 *                (slow start below ssthresh, congestion avoidance above).
 *                a->acked bytes newly delivered, a->flight bytes in flight
 *                before this ACK, a->rtt the RTT sample it gave or 0.
 *  ssthresh(t)   a congestion event (fast retransmit, an ECN echo, an RTO):
 *                return the new ssthresh in bytes, at least 2 MSS. The core
 *                sets cwnd afterwards (PRR during recovery, 1 MSS after an
 *                RTO, RFC 5681 §3.1 equation 4).
 *  on_recovery_end(t)  fast recovery completed; cwnd was set to ssthresh.
 *  on_rto(t)     after ssthresh(): the retransmission timer expired.
 *  on_idle(t, idle)    the sender restarts after idle microseconds with
 *                nothing in flight (RFC 7661's window validation is in the
 *                core; a module with a clock of its own, like CUBIC's
 *                epoch, shifts it here). May be NULL.
 *  on_rtt(t, rtt)      every RTT sample (for delay-based exits such as
 *                HyStart++, RFC 9406). May be NULL. */
#ifndef SYNACK_TCP_CC_H
#define SYNACK_TCP_CC_H

#include <stdint.h>

#include "synack/types.h"

struct tcb;

struct tcp_ack_sample {
	uint32_t acked;	   /* bytes newly acknowledged (cumulatively) */
	uint32_t flight;   /* bytes in flight before the ACK */
	synack_time_t rtt; /* RTT sample from this ACK, 0 if none */
};

struct tcp_cc_ops {
	const char *name;
	void (*init)(struct tcb *t);
	void (*on_ack)(struct tcb *t, const struct tcp_ack_sample *a);
	uint32_t (*ssthresh)(struct tcb *t);
	void (*on_recovery_end)(struct tcb *t);
	void (*on_rto)(struct tcb *t);
	void (*on_idle)(struct tcb *t, synack_time_t idle);
	void (*on_rtt)(struct tcb *t, synack_time_t rtt);
};

enum { TCP_CC_STATE_BYTES = 64 };

extern const struct tcp_cc_ops tcp_cc_newreno, tcp_cc_cubic;
/* The modules by index (a TCB keeps the index: tcb_cc() in tcp_internal.h)
 * and the index of the one for a SYNACK_TCP_CC_* value (NewReno's, 0, for
 * unknown ones). */
extern const struct tcp_cc_ops *const tcp_cc_by_index[];
uint8_t tcp_cc_find(unsigned id);
/* Its name ("cubic", "newreno"), or NULL. */
const char *tcp_cc_name(unsigned id);

/* Shared by the modules: RFC 5681 §3.1 slow start with RFC 3465's
 * appropriate byte counting (L = 2 MSS); returns the bytes of a->acked
 * left over once cwnd reached ssthresh. */
uint32_t tcp_cc_slow_start(struct tcb *t, uint32_t acked);
/* RFC 5681 §3.1 equation 4's FlightSize / 2, at least 2 MSS. */
uint32_t tcp_cc_half_flight(const struct tcb *t);

#endif
