/* Explicit Congestion Notification for TCP, RFC 3168 §6.1.
 *
 * Implementation notes
 * - Negotiation (§6.1.1): an ECN-setup SYN carries ECE and CWR, an
 *   ECN-setup SYN-ACK ECE alone; a SYN-ACK with CWR (or both) is not one.
 *   A listener agrees when configured to (SYNACK_TCP_ECN_PASSIVE or
 *   above); our SYNs ask only with SYNACK_TCP_ECN_ACTIVE, and only the
 *   first one: a retransmitted SYN is plain, in case a middlebox drops
 *   ECN-setup SYNs (§6.1.1.1, as Linux does). In a simultaneous open the
 *   peer's SYN decides, as for a listener (FreeBSD's behaviour).
 *   Connections made from SYN cookies do not negotiate ECN.
 * - Sending (§6.1.2, §6.1.4-§6.1.6): only new data goes out ECT(0);
 *   retransmissions, pure ACKs, SYN, FIN-only and RST segments and
 *   zero-window probes are not-ECT. tcp_emit() asks tcp_ecn_out() for the
 *   codepoint of every segment it builds.
 * - Receiving (§6.1.3): a data segment with CE sets ecn_echo, which puts
 *   ECE on every ACK we send until a segment with CWR arrives. The first
 *   CE is acknowledged at once (as Linux does), so the sender hears of it
 *   within the round trip.
 * - Reacting (§6.1.2): an ECE ACK is a congestion event for the module
 *   (cc->x->ssthresh), at most once per window: not again until SND.UNA
 *   passes what was sent at the reaction (ecn_recover), not during loss
 *   recovery, not within the window of a loss reduction. The next new
 *   data segment carries CWR, also after an RTO or fast retransmit, which
 *   tcp_ecn.c notices by t->x->recover moving (the loss code sets it). */
#include "tcp/tcp_internal.h"

#define ECE_CWR (SYNACK_TCP_ECE | SYNACK_TCP_CWR)

static void agree(struct tcb *t)
{
	t->ecn_ok = 1;
	t->ecn_echo = t->ecn_cwr_pending = 0;
	t->x->ecn_recover = t->iss + 1; /* an ECE on the ACK of our SYN is no echo */
	t->x->ecn_loss_recover = t->x->recover;
	stack_count(t->st, SYNACK_CNT_TCP_ECN_NEGOTIATED);
}

void tcp_ecn_syn_in(struct tcb *t, const struct tcp_seg *syn)
{
	if (tcfg(t)->ecn >= SYNACK_TCP_ECN_PASSIVE && (syn->h.flags & ECE_CWR) == ECE_CWR)
		agree(t);
}

void tcp_ecn_synack_in(struct tcb *t, const struct tcp_seg *synack)
{
	if (t->ecn_syn && (synack->h.flags & ECE_CWR) == SYNACK_TCP_ECE)
		agree(t);
}

/* A loss reduction (RTO, fast retransmit) moved t->x->recover: §6.1.2 wants
 * CWR on the next new data, and no ECE reaction within that window. */
static void note_loss(struct tcb *t)
{
	if (t->x->recover == t->x->ecn_loss_recover)
		return;
	t->x->ecn_loss_recover = t->x->recover;
	t->ecn_cwr_pending = 1;
	t->x->ecn_recover = seq_max(t->x->ecn_recover, t->x->recover);
	t->ecn_reduced = 0; /* the window is the loss reduction's now */
}

/* §6.1.1: our SYN asks (the first one only), our SYN-ACK agrees. */
static void syn_flags(struct tcb *t, struct wire_tcp *h)
{
	if (h->flags & SYNACK_TCP_ACK) {
		if (t->ecn_ok)
			h->flags |= SYNACK_TCP_ECE;
		return;
	}
	t->ecn_syn = tcfg(t)->ecn >= SYNACK_TCP_ECN_ACTIVE && t->x->backoff == 0;
	if (t->ecn_syn)
		h->flags |= ECE_CWR;
}

uint8_t tcp_ecn_out(struct tcb *t, struct wire_tcp *h, uint32_t len)
{
	if (h->flags & SYNACK_TCP_RST)
		return WIRE_ECN_NOT_ECT;
	if (h->flags & SYNACK_TCP_SYN) {
		syn_flags(t, h);
		return WIRE_ECN_NOT_ECT;
	}
	if (!t->ecn_ok)
		return WIRE_ECN_NOT_ECT;
	if (t->ecn_echo && (h->flags & SYNACK_TCP_ACK))
		h->flags |= SYNACK_TCP_ECE;
	/* §6.1.4 pure ACKs, §6.1.5 retransmissions, §6.1.6 window probes */
	if (!len || seq_lt(h->seq, t->snd_max) || t->snd_wnd == 0)
		return WIRE_ECN_NOT_ECT;
	note_loss(t);
	if (t->ecn_cwr_pending) {
		h->flags |= SYNACK_TCP_CWR;
		t->ecn_cwr_pending = 0;
	}
	return WIRE_ECN_ECT0;
}

void tcp_ecn_ack_input(struct tcb *t, const struct tcp_seg *s)
{
	if (!t->ecn_ok || !(s->h.flags & SYNACK_TCP_ECE) || (s->h.flags & SYNACK_TCP_SYN))
		return;
	note_loss(t);
	if (t->in_recovery || !seq_gt(t->snd_una, t->x->ecn_recover))
		return;
	/* the module's congestion event; never a larger window than before */
	uint32_t before = t->x->cwnd;
	t->x->ssthresh = tcb_cc(t)->ssthresh(t);
	t->x->cwnd = MIN(before, MAX(t->x->ssthresh, (uint32_t)t->mss));
	t->x->ecn_recover = t->snd_max;
	t->ecn_cwr_pending = 1;
	t->ecn_reduced = 1;
	t->x->undo_ok = t->x->undo_due = 0; /* a new reduction: the last recovery's undo is void */
	stack_count(t->st, SYNACK_CNT_TCP_ECN_REDUCTIONS);
	/* §6.1.2: at one segment the rate falls further: "the sending TCP
	 * MUST reset the retransmit timer" and sends again when it expires */
	if (t->x->cwnd <= t->mss && t->snd_una != t->snd_max)
		tcp_rtx_arm(t);
}

void tcp_ecn_loss_undone(struct tcb *t)
{
	t->x->ecn_loss_recover = t->x->recover;
	if (!t->ecn_reduced)
		t->x->ecn_recover = t->snd_una; /* ECE may be answered again at once */
}

bool tcp_ecn_reducing(const struct tcb *t)
{
	return t->ecn_ok && t->ecn_reduced && seq_lt(t->snd_una, t->x->ecn_recover);
}

void tcp_ecn_seg_in(struct tcb *t, const struct tcp_seg *s)
{
	if (!t->ecn_ok)
		return;
	if (s->h.flags & SYNACK_TCP_CWR)
		t->ecn_echo = 0;
	if (s->ecn != WIRE_ECN_CE)
		return;
	stack_count(t->st, SYNACK_CNT_TCP_ECN_CE_RECEIVED);
	if (!t->ecn_echo)
		t->ack_now = 1;
	t->ecn_echo = 1;
}
