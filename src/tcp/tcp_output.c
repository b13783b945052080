/* TCP output: building segments, deciding what to send (window, Nagle,
 * sender SWS avoidance), ACKs, RSTs and challenge ACKs. */
#include <string.h>

#include "tcp/tcp_internal.h"

void tcp_count_retransmit(struct tcb *t)
{
	stack_count(t->st, SYNACK_CNT_TCP_RETRANSMITS);
	t->x->retransmits++;
	t->x->ts_rtx = tcp_ts_now(t);
	t->rtx_seen = 1;
}

/* RFC 7323 §5.4: a millisecond clock, offset per connection. */
uint32_t tcp_ts_now(const struct tcb *t)
{
	return (uint32_t)(tnow(t) / 1000) + t->ts_offset;
}

/* The window we can offer: free receive space, never shrinking the right
 * edge already advertised (RFC 9293 §3.8.6.2.2), scaled (RFC 7323 §2.3). */
uint32_t tcp_rcv_window(const struct tcb *t)
{
	uint32_t space = rcv_space(t);
	uint32_t limit = 65535u << t->rcv_wscale;
	if (t->state >= SYNACK_TCP_ESTABLISHED && seq_gt(t->rcv_adv, t->rcv_nxt))
		space = MAX(space, t->rcv_adv - t->rcv_nxt);
	return MIN(space, limit);
}

static void fill_syn_options(const struct tcb *t, struct wire_tcp_opts *o, bool synack)
{
	const synack_tcp_config *c = tcfg(t);
	size_t mtu = net_l4_mtu(t->st, &t->remote.addr);
	if (t->noopt)
		return;
	o->has_mss = 1;
	o->mss = (uint16_t)MIN(mtu - WIRE_TCP_HDR, t->x->user_mss ? t->x->user_mss : 65535u); /* TCP_MAXSEG */
	if (synack ? t->ws_ok : c->wscale_enable)
		o->wscale = (int8_t)t->rcv_wscale;
	if (synack ? t->sack_ok : c->sack_enable)
		o->sack_ok = 1;
	if (synack ? t->ts_ok : c->ts_enable) {
		o->has_ts = 1;
		o->ts_val = tcp_ts_now(t);
		o->ts_ecr = synack ? t->ts_recent : 0;
	}
}

/* RFC 2018 §4: report what we hold beyond RCV.NXT; the first block is the
 * one holding the most recent out-of-order segment, then the others (as
 * many as fit: wire_tcp_opts_emit cuts the rest). A duplicate segment just
 * received goes first of all, as a D-SACK block (RFC 2883 §4). */
static void fill_sack_blocks(const struct tcb *t, struct wire_tcp_opts *o)
{
	o->nsack = 0;
	if (t->dsack_pending) {
		o->sack[o->nsack][0] = t->x->dsack[0];
		o->sack[o->nsack++][1] = t->x->dsack[1];
	}
	if (!t->x->ooo.n)
		return;
	int first = 0;
	for (int i = 0; i < t->x->ooo.n; i++)
		if (seq_in(t->x->ooo_last, t->x->ooo.r[i][0], t->x->ooo.r[i][1]))
			first = i;
	o->sack[o->nsack][0] = t->x->ooo.r[first][0];
	o->sack[o->nsack++][1] = t->x->ooo.r[first][1];
	for (int i = t->x->ooo.n - 1; i >= 0 && o->nsack < WIRE_TCP_MAX_SACK; i--) {
		if (i == first)
			continue;
		o->sack[o->nsack][0] = t->x->ooo.r[i][0];
		o->sack[o->nsack++][1] = t->x->ooo.r[i][1];
	}
}

/* conn_id 0: a segment that belongs to no connection (tcp_respond). */
static void trace_out(synack_stack *st, uint32_t conn_id, const synack_endpoint *local,
		      const synack_endpoint *remote, const struct wire_tcp *h, uint32_t len)
{
	synack_trace_rec *r = stack_trace(st, SYNACK_TRACE_SEG_OUT);
	if (!r)
		return;
	r->conn_id = conn_id;
	r->local = *local;
	r->remote = *remote;
	r->seg = (synack_trace_seg){.seq = h->seq,
				    .ack = h->ack,
				    .wnd = h->wnd,
				    .flags = h->flags,
				    .len = (uint16_t)len,
				    .mss = h->opt.has_mss ? h->opt.mss : 0,
				    .wscale = h->opt.wscale,
				    .sack_ok = h->opt.sack_ok,
				    .ts_present = h->opt.has_ts,
				    .ts_val = h->opt.ts_val,
				    .ts_ecr = h->opt.ts_ecr,
				    .sack_blocks = h->opt.nsack};
	_Static_assert(sizeof r->seg.sack == sizeof h->opt.sack, "trace keeps every SACK block");
	memcpy(r->seg.sack, h->opt.sack, sizeof r->seg.sack);
}

/* The options of a segment with these (final) flags sent now: those of
 * the handshake on a SYN; on the others timestamps (RFC 7323 §3.2) and,
 * while we hold data out of order, SACK blocks (RFC 2018 §4); none on a
 * RST. */
static void fill_options(const struct tcb *t, uint8_t flags, struct wire_tcp_opts *o)
{
	memset(o, 0, sizeof *o);
	o->wscale = -1;
	if (flags & SYNACK_TCP_SYN) {
		fill_syn_options(t, o, flags & SYNACK_TCP_ACK);
		return;
	}
	if (flags & SYNACK_TCP_RST)
		return;
	if (t->ts_ok) {
		o->has_ts = 1;
		o->ts_val = tcp_ts_now(t);
		o->ts_ecr = t->ts_recent;
	}
	if (t->sack_ok && (t->x->ooo.n || t->dsack_pending) && (flags & SYNACK_TCP_ACK))
		fill_sack_blocks(t, o);
}

/* RFC 9293 §3.7.1 (Eff.snd.MSS) and RFC 6691 §2: the data one segment sent
 * now may carry. t->mss already leaves room for timestamps, the options on
 * every segment; SACK blocks come and go with the holes in what we
 * received, and "for each segment sent, the sender should adjust the data
 * length accordingly", so their bytes come off the data, never on top of
 * it (which would overflow the frame). */
uint32_t tcp_seg_mss_sack(const struct tcb *t)
{
	struct wire_tcp_opts o;
	fill_options(t, SYNACK_TCP_ACK, &o);
	uint32_t fixed = t->ts_ok ? TCP_TS_OPT_LEN : 0;
	uint32_t extra = (uint32_t)wire_tcp_opts_len(&o) - fixed;
	/* on a tiny MTU the blocks may not all fit beside a byte of data:
	 * wire_tcp_emit then sends fewer blocks, never a larger segment */
	return t->mss > extra ? t->mss - extra : 1;
}

/* Build the segment in the frame buffer: header, options, len bytes of the
 * send queue from offset off, checksum (only the pseudo-header's when the
 * link completes it). A TSO segment (gso) may be larger than one frame.
 * Returns the header (for the trace) in *h and the builder; on overflow
 * the builder says so. */
static struct bbuf build_segment(struct tcb *t, struct wire_tcp *h, uint32_t off, uint32_t len, bool gso,
				 bool partial, synack_iov data[2], uint8_t *ndata)
{
	struct bbuf b =
	    gso ? net_l4_gso_buffer(t->st, &t->remote.addr) : net_l4_buffer(t->st, &t->remote.addr);
	if (!wire_tcp_emit(&b, h, len))
		return b;
	if (data) { /* gather: the data stays in the send buffer, in its pieces */
		uint32_t got = 0;
		for (*ndata = 0; got < len && *ndata < 2; (*ndata)++) {
			const uint8_t *p;
			uint32_t n = MIN(ring_view(&t->x->sndq, off + got, &p), len - got);
			if (!n)
				break;
			data[*ndata] = (synack_iov){p, n};
			got += n;
		}
		if (got != len)
			b.overflow = true; /* the queue holds less than asked: a bug */
		else
			wire_tcp_set_partial_csum(b.p, b.len + len, &t->local.addr, &t->remote.addr);
		return b;
	}
	uint8_t *at = bbuf_reserve(&b, len);
	if (at && len)
		ring_peek(&t->x->sndq, off, at, len);
	if (bbuf_ok(&b) && partial)
		wire_tcp_set_partial_csum(b.p, b.len, &t->local.addr, &t->remote.addr);
	else if (bbuf_ok(&b))
		wire_tcp_set_csum(b.p, b.len, &t->local.addr, &t->remote.addr);
	return b;
}

static int emit(struct tcb *t, uint32_t seq, uint8_t flags, uint32_t off, uint32_t len, uint32_t gso_size);

/* Send one segment: seq, flags, and len bytes of the send queue from
 * offset off. Every segment but a RST answering nothing carries ACK once
 * synchronized. Returns 0, the link's error, or -EMSGSIZE (counted) if the
 * segment would not fit one frame: the caller sized it wrongly. */
int tcp_emit(struct tcb *t, uint32_t seq, uint8_t flags, uint32_t off, uint32_t len)
{
	return emit(t, seq, flags, off, len, 0);
}

/* tcp_emit; gso_size != 0: a TSO segment of len > gso_size bytes, which
 * the link cuts into gso_size pieces (SYNACK_OFFLOAD_TSO). */
static int emit(struct tcb *t, uint32_t seq, uint8_t flags, uint32_t off, uint32_t len, uint32_t gso_size)
{
	synack_stack *st = t->st;
	struct wire_tcp h;
	memset(&h, 0, sizeof h);
	h.sport = t->local.port;
	h.dport = t->remote.port;
	h.seq = seq;
	h.flags = flags;
	if (t->state != SYNACK_TCP_SYN_SENT || (flags & SYNACK_TCP_ACK)) {
		h.flags |= (flags & SYNACK_TCP_RST) && !(flags & SYNACK_TCP_ACK) ? 0 : SYNACK_TCP_ACK;
		h.ack = (h.flags & SYNACK_TCP_ACK) ? t->rcv_nxt : 0;
	}
	uint8_t ecn = tcp_ecn_out(t, &h, len); /* RFC 3168 §6.1: ECE, CWR and the codepoint */
	fill_options(t, h.flags, &h.opt);
	uint32_t wnd = tcp_rcv_window(t);
	if (flags & SYNACK_TCP_SYN)
		h.wnd = (uint16_t)MIN(wnd, 65535u); /* RFC 7323 §2.2: never scaled in a SYN */
	else
		h.wnd = (uint16_t)MIN(wnd >> t->rcv_wscale, 65535u);
	if (flags & SYNACK_TCP_RST)
		h.wnd = 0;
	bool partial = (st->cfg.offload & SYNACK_OFFLOAD_TX_CSUM) != 0;
	bool gather = partial && st->cfg.tx_iov && len > 0;
	synack_iov data[2];
	uint8_t ndata = 0;
	struct bbuf b = build_segment(t, &h, off, len, gso_size != 0, partial, gather ? data : NULL, &ndata);
	if (!bbuf_ok(&b))
		return net_tx_overflow(st);
	trace_out(st, t->id, &t->local, &t->remote, &h, len);
	stack_count(st, SYNACK_CNT_TCP_OUT);
	if (gso_size)
		stack_count(st, SYNACK_CNT_TCP_TSO_OUT);
	if (flags & SYNACK_TCP_RST)
		stack_count(st, SYNACK_CNT_TCP_RESETS_SENT);
	if (h.flags & SYNACK_TCP_ACK) {
		/* an ACK went out: no delayed ACK pending any more */
		t->ack_now = 0;
		t->x->delack_segs = 0;
		t->x->t_delack = SYNACK_TIME_NEVER;
		t->last_ack_sent = t->rcv_nxt;
		t->dsack_pending = 0;
		/* After a SYN the full window counts as offered: the next
		 * segment carries it scaled, no separate update is needed. */
		uint32_t offered = (flags & SYNACK_TCP_SYN) ? wnd : (uint32_t)h.wnd << t->rcv_wscale;
		if (!(flags & SYNACK_TCP_RST))
			t->rcv_adv = seq_max(t->rcv_adv, t->rcv_nxt + offered);
	}
	/* IP_TTL, IP_TOS; the ECN codepoint tcp_ecn_out() chose */
	struct net_ip_opts ip = {.ttl = t->ip_ttl,
				 .tos = t->ip_tos,
				 .ecn = ecn,
				 .csum_partial = partial,
				 .gso_size = (uint16_t)gso_size,
				 .data = data,
				 .ndata = ndata,
				 .data_len = ndata ? len : 0};
	return net_send_opts(st, &t->local.addr, &t->remote.addr, WIRE_PROTO_TCP, &ip, &b);
}

void tcp_send_syn(struct tcb *t)
{
	uint8_t flags = SYNACK_TCP_SYN;
	if (t->state == SYNACK_TCP_SYN_RECEIVED)
		flags |= SYNACK_TCP_ACK;
	tcp_emit(t, t->iss, flags, 0, 0);
	t->snd_nxt = t->snd_max = t->iss + 1;
	if (t->x->t_rtx == SYNACK_TIME_NEVER)
		tcp_rtx_arm(t);
}

/* While our FIN is sent but not acknowledged, every ACK we send repeats it
 * (as the BSD stacks do): the peer's segment shows it has not seen the FIN
 * yet, and a retransmission is always allowed (RFC 9293 §3.10.7.4). */
void tcp_send_ack(struct tcb *t)
{
	if (t->fin_sent && t->snd_nxt == t->x->fin_seq + 1 && seq_leq(t->snd_una, t->x->fin_seq) &&
	    t->state != SYNACK_TCP_TIME_WAIT) {
		tcp_emit(t, t->x->fin_seq, SYNACK_TCP_FIN | SYNACK_TCP_ACK, 0, 0);
		return;
	}
	tcp_emit(t, t->snd_nxt, SYNACK_TCP_ACK, 0, 0);
}

/* A reset we decide on (abort, data after close, RFC 793 SYN handling):
 * <SEQ=SND.NXT><CTL=RST>, RFC 9293 §3.10.5, with the ACK field filled as
 * the BSD and Linux stacks do once the connection is synchronized. */
void tcp_send_rst_tcb(struct tcb *t)
{
	uint8_t flags = SYNACK_TCP_RST;
	if (t->state >= SYNACK_TCP_SYN_RECEIVED)
		flags |= SYNACK_TCP_ACK;
	tcp_emit(t, t->snd_nxt, flags, 0, 0);
}

/* RFC 5961 §7: challenge ACKs are rate limited per stack per second. */
void tcp_challenge_ack(struct tcb *t)
{
	struct tcp_stack *ts = tcps(t->st);
	if (tnow(t) - ts->chack_window >= SYNACK_SEC(1)) {
		ts->chack_window = tnow(t);
		ts->chack_count = 0;
	}
	if (ts->chack_count >= tcfg(t)->challenge_ack_limit)
		return;
	ts->chack_count++;
	stack_count(t->st, SYNACK_CNT_TCP_CHALLENGE_ACKS);
	tcb_trace_note(t, SYNACK_NOTE_CHALLENGE_ACK);
	tcp_emit(t, t->snd_nxt, SYNACK_TCP_ACK, 0, 0); /* never repeats a FIN */
}

/* RFC 9293 §3.10.7.1 and §3.5.2 ("Reset Generation"): the RST answering
 * seg, built from the segment alone (BSD's tcp_respond): for no connection,
 * a listener's unacceptable ACK, an unacceptable ACK during the handshake.
 * Never in answer to a RST. If the segment has an ACK,
 * <SEQ=SEG.ACK><CTL=RST>, else <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>;
 * no options, window 0. */
void tcp_respond_rst(synack_stack *st, const struct tcp_seg *seg)
{
	if (seg->h.flags & SYNACK_TCP_RST)
		return;
	struct wire_tcp h = {.sport = seg->dst.port, .dport = seg->src.port, .opt.wscale = -1};
	if (seg->h.flags & SYNACK_TCP_ACK) {
		h.seq = seg->h.ack;
		h.flags = SYNACK_TCP_RST;
	} else {
		h.ack = seg->h.seq + seg->len;
		h.flags = SYNACK_TCP_RST | SYNACK_TCP_ACK;
	}
	struct bbuf b = net_l4_buffer(st, &seg->src.addr);
	wire_tcp_emit(&b, &h, 0);
	if (!bbuf_ok(&b)) {
		net_tx_overflow(st);
		return;
	}
	wire_tcp_set_csum(b.p, b.len, &seg->dst.addr, &seg->src.addr);
	trace_out(st, 0, &seg->dst, &seg->src, &h, 0);
	stack_count(st, SYNACK_CNT_TCP_OUT);
	stack_count(st, SYNACK_CNT_TCP_RESETS_SENT);
	net_send(st, &seg->dst.addr, &seg->src.addr, WIRE_PROTO_TCP, &b);
}

uint32_t tcp_rexmit(struct tcb *t, uint32_t seq, uint32_t len)
{
	uint32_t end = t->data_seq + t->x->sndq.len;
	uint32_t data = seq_lt(seq, end) && seq_geq(seq, t->data_seq) ? MIN(len, end - seq) : 0;
	uint8_t flags = SYNACK_TCP_ACK;
	/* the FIN when the range reaches it (RFC 9293 §3.10.4: it follows the data) */
	if (t->fin_sent && seq + data == t->x->fin_seq && seq_gt(seq + len, t->x->fin_seq))
		flags |= SYNACK_TCP_FIN;
	if (!data && !(flags & SYNACK_TCP_FIN))
		return 0;
	tcp_count_retransmit(t);
	if (t->in_recovery) {
		t->x->recov_rtx += data; /* RFC 7661 §4.4.1's R */
		tcp_undo_note_rexmit(t, seq, data);
	}
	if (t->rtt_timing && seq_leq(seq, t->x->rtt_seq) && seq_lt(t->x->rtt_seq, seq + data + 1))
		t->rtt_timing = 0; /* RFC 6298 §3 (Karn) */
	tcp_emit(t, seq, flags, seq - t->data_seq, data);
	t->x->last_send = tnow(t);
	return data + !!(flags & SYNACK_TCP_FIN);
}

void tcp_retransmit_head(struct tcb *t)
{
	tcp_rexmit(t, t->snd_una, MIN(tcp_seg_mss(t), t->snd_max - t->snd_una));
}

/* The bytes in flight against cwnd: RFC 6675's pipe during SACK recovery;
 * after an RTO (SND.NXT went back) what was sent again, less what the
 * peer SACKed; otherwise RFC 5681's FlightSize. */
static uint32_t in_flight(const struct tcb *t)
{
	if (t->in_recovery && t->sack_ok)
		return tcp_sack_pipe(t);
	if (t->frto == 2)
		return t->snd_nxt - t->x->frto_rp; /* RFC 5682 step 2 b: only the new segments */
	uint32_t flight = t->snd_nxt - t->snd_una;
	if (t->x->sacked.n && seq_lt(t->snd_nxt, t->snd_max))
		flight -= tcp_sacked_in(t, t->snd_una, t->snd_nxt);
	return flight;
}

/* How much of the send queue may go out now (RFC 9293 §3.8.6.2.1, RFC 5681
 * cwnd), in bytes; 0 if the window is closed. Limited transmit (RFC 3042):
 * each of the first two duplicate ACKs lets one more new segment go. */
static uint32_t usable_window(const struct tcb *t)
{
	uint32_t right = t->snd_una + t->snd_wnd;
	uint32_t rwnd = seq_gt(right, t->snd_nxt) ? right - t->snd_nxt : 0;
	uint32_t cwnd = t->x->cwnd;
	if (!t->in_recovery && t->x->dupacks && t->x->dupacks < TCP_DUPTHRESH && t->snd_nxt == t->snd_max)
		cwnd += t->x->dupacks * (uint32_t)t->mss;
	uint32_t flight = in_flight(t);
	return MIN(rwnd, cwnd > flight ? cwnd - flight : 0);
}

/* Sender SWS avoidance and Nagle (RFC 9293 §3.7.4, §3.8.6.2.1); a
 * full-sized segment is one of Eff.snd.MSS bytes. */
static bool may_send(const struct tcb *t, uint32_t len, uint32_t unsent, uint32_t mss)
{
	if (len >= mss)
		return true;
	bool idle = t->snd_nxt == t->snd_una;
	if (len == unsent && (idle || t->nodelay || t->fin_queued))
		return true;
	if (t->max_sndwnd && len >= t->max_sndwnd / 2 && (idle || t->nodelay))
		return true;
	return false;
}

/* After an RTO, SND.NXT walks the holes again: SACKed bytes are not resent
 * (RFC 6675 §5.1: use the SACK information after an RTO). */
static void skip_sacked(struct tcb *t)
{
	if (!t->x->sacked.n || !seq_lt(t->snd_nxt, t->snd_max))
		return;
	uint32_t seq = t->snd_nxt, len = UINT32_MAX;
	tcp_sack_skip(t, &seq, &len);
	t->snd_nxt = seq_min(seq, t->snd_max);
}

/* A sender that went idle keeps its window (RFC 7661's non-validated phase,
 * tcp_cwv.c, which may end it now); a module with a clock of its own hears
 * of the pause. */
static void idle_restart(struct tcb *t)
{
	synack_time_t idle = tnow(t) - t->x->last_send;
	if (t->snd_una == t->snd_max && t->x->last_send && idle > t->rto && tcb_cc(t)->on_idle)
		tcb_cc(t)->on_idle(t, idle);
	tcp_cwv_on_send(t);
}

/* TSO (SYNACK_OFFLOAD_TSO): how much new data one segment the link cuts
 * into mss pieces carries, given avail = MIN(unsent, usable): whole
 * pieces, and a short last one only where the data ends (as a sender
 * without TSO would send them); at most what fits net_l4_gso_max beside
 * the header. 0 when not worth it (one piece or less, retransmissions). */
static uint32_t tso_len(const struct tcb *t, uint32_t avail, uint32_t unsent, uint32_t mss)
{
	if (!(t->st->cfg.offload & SYNACK_OFFLOAD_TSO) || avail <= mss || t->snd_nxt != t->snd_max)
		return 0;
	struct wire_tcp_opts o;
	fill_options(t, SYNACK_TCP_ACK, &o);
	uint32_t hdr = (uint32_t)(WIRE_TCP_HDR + wire_tcp_opts_len(&o));
	if (hdr + mss > net_l4_mtu(t->st, &t->remote.addr))
		return 0; /* options a frame would trim (a tiny MTU): one piece would not fit */
	uint32_t room = (uint32_t)net_l4_gso_max(t->st, &t->remote.addr) - hdr;
	uint32_t len = MIN(avail, room);
	if (len < unsent)
		len -= len % mss;
	return len > mss ? len : 0;
}

bool tcp_send_data(struct tcb *t, bool force)
{
	skip_sacked(t);
	uint32_t unsent = snd_unsent(t);
	uint32_t usable = usable_window(t);
	uint32_t mss = tcp_seg_mss(t);
	uint32_t len = MIN(MIN(unsent, usable), mss);
	if (len == 0 || (!force && !may_send(t, len, unsent, mss)))
		return false;
	uint32_t tso = tso_len(t, MIN(unsent, usable), unsent, mss);
	if (tso)
		len = tso;
	if (seq_lt(t->snd_nxt, t->snd_max) && t->x->sacked.n) {
		uint32_t seq = t->snd_nxt;
		tcp_sack_skip(t, &seq, &len); /* stop at the next SACKed range */
	}
	idle_restart(t);
	uint32_t off = t->snd_nxt - t->data_seq;
	uint8_t flags = SYNACK_TCP_ACK;
	bool last = len == unsent;
	if (last)
		flags |= SYNACK_TCP_PSH;
	if (last && t->fin_queued && !t->fin_sent) {
		flags |= SYNACK_TCP_FIN;
		t->fin_sent = 1;
		t->x->fin_seq = t->snd_nxt + len;
	}
	bool rexmit = seq_lt(t->snd_nxt, t->snd_max);
	if (rexmit) {
		tcp_count_retransmit(t);
	} else {
		t->x->bytes_sent += len;
	}
	int err = emit(t, t->snd_nxt, flags, off, len, tso ? mss : 0);
	if (tso && (err == -EINVAL || err == -EMSGSIZE)) {
		/* the link refused the work it offered (a kernel stricter about
		 * virtio-net headers): no TSO for this stack from now on; the
		 * segment is a loss that recovery repairs in MSS pieces */
		t->st->cfg.offload &= ~(uint32_t)SYNACK_OFFLOAD_TSO;
		stack_count(t->st, SYNACK_CNT_TCP_TSO_REFUSED);
	}
	t->x->last_send = tnow(t);
	if (!t->rtt_timing && !rexmit) {
		t->rtt_timing = 1;
		t->x->rtt_seq = t->snd_nxt;
		t->x->rtt_start = tnow(t);
	}
	t->snd_nxt += len + ((flags & SYNACK_TCP_FIN) ? 1 : 0);
	t->snd_max = seq_max(t->snd_max, t->snd_nxt);
	if (t->x->t_rtx == SYNACK_TIME_NEVER)
		tcp_rtx_arm(t);
	if (!rexmit && !t->x->tlp_pending)
		tcp_tlp_arm(t); /* RFC 8985 §7.2: after new data */
	return true;
}

static bool send_fin(struct tcb *t)
{
	if (!t->fin_queued || snd_unsent(t))
		return false;
	bool first = !t->fin_sent;
	if (!first && t->snd_nxt != t->x->fin_seq)
		return false; /* FIN already in flight */
	if (first) {
		t->fin_sent = 1;
		t->x->fin_seq = t->snd_nxt;
	}
	if (seq_lt(t->x->fin_seq, t->snd_max))
		tcp_count_retransmit(t);
	tcp_emit(t, t->x->fin_seq, SYNACK_TCP_FIN | SYNACK_TCP_ACK, 0, 0);
	t->snd_nxt = t->x->fin_seq + 1;
	t->snd_max = seq_max(t->snd_max, t->snd_nxt);
	if (t->x->t_rtx == SYNACK_TIME_NEVER)
		tcp_rtx_arm(t);
	return true;
}

/* RFC 9293 §3.8.6.2.2: a window update is worth sending when the window
 * grows by two segments or half the buffer, and (as Linux's
 * tcp_cleanup_rbuf) by at least what the peer may still send: while the
 * offered window is wide open, the ACKs that data segments earn carry the
 * growth anyway, and an application reading in small pieces would
 * otherwise send an update for every read or two. */
static bool window_update_due(const struct tcb *t)
{
	uint32_t wnd = tcp_rcv_window(t);
	uint32_t adv = seq_gt(t->rcv_adv, t->rcv_nxt) ? t->rcv_adv - t->rcv_nxt : 0;
	uint32_t step = MAX(MIN(t->rcvbuf / 2, 2u * t->mss), adv);
	return wnd > adv && wnd - adv >= step;
}

bool tcp_send_override(struct tcb *t)
{
	return tcp_send_data(t, true);
}

/* Send whatever the state, windows and queues allow. */
void tcp_output(struct tcb *t)
{
	if (t->state < SYNACK_TCP_ESTABLISHED) {
		if (t->ack_now && t->state == SYNACK_TCP_SYN_RECEIVED)
			tcp_send_ack(t);
		tcb_timer_update(t);
		return;
	}
	bool sent = false;
	bool can_send = t->state == SYNACK_TCP_ESTABLISHED || t->state == SYNACK_TCP_CLOSE_WAIT ||
			t->state == SYNACK_TCP_FIN_WAIT_1 || t->state == SYNACK_TCP_CLOSING ||
			t->state == SYNACK_TCP_LAST_ACK;
	if (can_send && t->in_recovery && t->sack_ok)
		sent = tcp_recovery_output(t);
	while (can_send && tcp_send_data(t, false))
		sent = true;
	if (can_send && send_fin(t))
		sent = true;
	/* Nothing in flight yet data waits: the window is zero, or too small
	 * for SWS avoidance. The persist timer probes or, RFC 9293
	 * §3.8.6.2.1, serves as the override timeout. */
	if (can_send && snd_unsent(t) && t->snd_nxt == t->snd_una && t->x->t_persist == SYNACK_TIME_NEVER)
		tcp_persist_arm(t); /* also after an RTO that could send nothing: probe, never stall */
	if (!sent && (t->ack_now || (t->state != SYNACK_TCP_TIME_WAIT && window_update_due(t))))
		tcp_send_ack(t);
	tcb_timer_update(t);
}
