/* Buffers that grow with the path, as Linux's receive buffer auto-tuning
 * (Dynamic Right-Sizing) and send buffer auto-tuning do.
 *
 * Implementation notes
 * - Receive: once per round trip (the SRTT, at least 1 ms) the bytes the
 *   application read in it are measured. To keep a sender that doubles
 *   its window each round trip from being held by our window, the buffer
 *   becomes four times that: twice for the doubling, twice again because
 *   what was read is what arrived a round trip ago. It only grows.
 * - Send: when send() finds the buffer full while cwnd and the peer's
 *   window could take more than half of it, it grows to twice their
 *   smaller one.
 * - Only buffers the application left to the stack grow (setting one, by
 *   synack_tcp_params or SYNACK_TCP_SNDBUF/RCVBUF, fixes it), up to
 *   rcvbuf_max/sndbuf_max, and all growth of a stack stays under
 *   buf_grow_total (the configuration). The rings are still allocated
 *   only while they hold bytes, so an idle connection holds nothing. */
#include "tcp/tcp_internal.h"

/* Grow the limit *buf to want bytes, within the stack's budget; false if
 * nothing grew. The ring grows with the bytes it holds (ring.c). */
static bool grow(struct tcb *t, uint32_t *buf, uint32_t want)
{
	struct tcp_stack *ts = tcps(t->st);
	uint64_t room =
	    t->st->cfg.tcp.buf_grow_total > ts->buf_grown ? t->st->cfg.tcp.buf_grow_total - ts->buf_grown : 0;
	if (want <= *buf || room == 0)
		return false;
	want = (uint32_t)MIN((uint64_t)want, *buf + room);
	uint32_t more = want - *buf;
	*buf = want;
	t->x->buf_grown += more;
	ts->buf_grown += more;
	stack_count(t->st, SYNACK_CNT_TCP_BUFFER_GROWTHS);
	return true;
}

void tcp_rcvbuf_tune(struct tcb *t, uint32_t n)
{
	if (!t->rcvbuf_auto)
		return;
	t->x->rcv_copied += n;
	synack_time_t rtt = MAX(t->srtt, SYNACK_MSEC(1));
	if (tnow(t) - t->x->rcv_tune_at < rtt)
		return;
	uint64_t want = 4 * (uint64_t)t->x->rcv_copied;
	t->x->rcv_copied = 0;
	t->x->rcv_tune_at = tnow(t);
	want = MIN(want, (uint64_t)rcvbuf_ceiling(t));
	/* the scale chosen on the SYN bounds what can be offered */
	want = MIN(want, (uint64_t)65535 << t->rcv_wscale);
	grow(t, &t->rcvbuf, (uint32_t)want);
}

bool tcp_sndbuf_tune(struct tcb *t)
{
	if (!t->sndbuf_auto || t->st->cfg.tcp.sndbuf_max <= t->sndbuf)
		return false;
	uint32_t wnd = MIN(t->x->cwnd, t->max_sndwnd);
	if (wnd < t->sndbuf / 2)
		return false;
	uint64_t want = MIN(2 * (uint64_t)wnd, (uint64_t)t->st->cfg.tcp.sndbuf_max);
	return grow(t, &t->sndbuf, (uint32_t)want);
}
