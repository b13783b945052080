/* ICMP errors for TCP: validated against the connection first (RFC 5927),
 * then either lowering the path MTU (RFC 1191, RFC 8201) or recorded as a
 * soft error (RFC 5461, RFC 1122 §4.2.3.9) that a timeout reports instead of
 * ETIMEDOUT. Only port or protocol unreachable, or a failed neighbour
 * resolution, during a connection attempt ends it (hard error), as deployed
 * stacks do. */
#include "tcp/tcp_internal.h"

/* The smallest path MTU a report may set. IPv6: RFC 8200 §5. IPv4 allows
 * 68 (RFC 791), but one forged "fragmentation needed" quoting an in-flight
 * sequence number would then shrink a connection to 28-byte segments for
 * good; like Linux (net.ipv4.route.min_pmtu) we go no lower than 552, the
 * 576-byte datagram every host accepts (RFC 1122 §3.3.3) less 24. */
enum { IPV4_MIN_PMTU = 552, IPV6_MIN_PMTU = 1280 };

static struct tcb *icmp_tcb(synack_stack *st, const struct net_icmp_err *e, uint32_t *seq)
{
	if (e->l4_len < 8)
		return NULL;
	synack_endpoint local = {.addr = e->src, .port = rd16(e->l4)};
	synack_endpoint remote = {.addr = e->dst, .port = rd16(e->l4 + 2)};
	*seq = rd32(e->l4 + 4);
	return tcb_lookup(st, &local, &remote);
}

/* RFC 8201 §4 / RFC 1191 §3: a smaller path MTU, never below the minimum. */
static void pmtu_lower(struct tcb *t, const struct net_icmp_err *e)
{
	bool v6 = e->src.family == SYNACK_AF_INET6;
	uint32_t min = v6 ? IPV6_MIN_PMTU : IPV4_MIN_PMTU;
	uint32_t iphdr = v6 ? 40 : 20;
	uint32_t opts = t->ts_ok ? TCP_TS_OPT_LEN : 0;
	uint32_t cur = t->mss + opts + WIRE_TCP_HDR + iphdr;
	uint32_t mtu = e->mtu;
	if (mtu == 0 && !v6)
		mtu = cur > 1006 ? 1006 : 576; /* RFC 1191 §5 plateau for old routers */
	if (mtu < min) { /* RFC 8201 §4: a too-small report still means "at least the minimum" */
		stack_count(t->st, SYNACK_CNT_TCP_PMTU_CLAMPED);
		mtu = min;
	}
	if (mtu >= cur) {
		stack_drop(t->st, SYNACK_DROP_ICMP_BAD_MTU);
		return;
	}
	t->mss = (uint16_t)(mtu - iphdr - WIRE_TCP_HDR - opts);
	stack_count(t->st, SYNACK_CNT_TCP_PMTU_LOWERED);
	/* what was in flight was too big: send it again at the new size */
	if (t->state >= SYNACK_TCP_ESTABLISHED && t->snd_nxt != t->snd_una) {
		t->snd_nxt = t->snd_una;
		t->rtt_timing = 0;
		tcp_output(t);
	}
}

static int soft_errno(const struct net_icmp_err *e)
{
	switch (e->kind) {
	case NET_ICMP_PROTO_UNREACH:
		return -ECONNREFUSED;
	case NET_ICMP_TIME_EXCEEDED:
		return -EHOSTUNREACH;
	case NET_ICMP_PARAM_PROBLEM:
		return -EPROTO;
	default:
		return e->code == 0 ? -ENETUNREACH : -EHOSTUNREACH;
	}
}

/* A segment we sent that occupies no sequence space (a pure ACK) names no
 * sequence number in flight: a failed resolution of its next hop says
 * nothing about the connection (the segments that matter fail too). */
static bool pure_ack(const struct net_icmp_err *e)
{
	if (e->l4_len < WIRE_TCP_HDR)
		return true;
	size_t doff = (size_t)(e->l4[12] >> 4) * 4;
	return !(e->l4[13] & (SYNACK_TCP_SYN | SYNACK_TCP_FIN)) && e->l4_len <= doff;
}

void tcp_icmp_error(synack_stack *st, const struct net_icmp_err *e)
{
	uint32_t seq;
	if (e->kind == NET_ICMP_NEIGH_FAILED && pure_ack(e))
		return;
	struct tcb *t = icmp_tcb(st, e, &seq);
	/* RFC 5927 §4.1: the quoted sequence number must be in flight */
	if (!t || t->state == SYNACK_TCP_LISTEN ||
	    !seq_in(seq, t->snd_una, t->snd_max + (t->snd_max == t->snd_una))) {
		stack_drop(st, SYNACK_DROP_ICMP_STALE);
		return;
	}
	if (!tcb_ext_get(t)) { /* an idle connection's state (tcb.c) */
		stack_drop(st, SYNACK_DROP_TCP_NO_MEMORY);
		return;
	}
	if (e->kind == NET_ICMP_FRAG_NEEDED) {
		pmtu_lower(t, e);
		tcb_ext_idle(t);
		return;
	}
	/* refused, or no neighbour answers for the next hop (as Linux does with
	 * a failed ARP): the attempt ends now, not after every SYN retry */
	if ((e->kind == NET_ICMP_PROTO_UNREACH || e->kind == NET_ICMP_NEIGH_FAILED) &&
	    t->state == SYNACK_TCP_SYN_SENT) {
		stack_count(st, SYNACK_CNT_TCP_ICMP_HARD);
		tcb_close_state(t, e->kind == NET_ICMP_NEIGH_FAILED ? -EHOSTUNREACH : -ECONNREFUSED,
				SYNACK_EV_ERROR);
		tcb_maybe_free(t);
		return;
	}
	stack_count(st, SYNACK_CNT_TCP_ICMP_SOFT);
	t->x->soft_error = soft_errno(e); /* kept: the extension stays */
}
