/* SYN cookies, RFC 4987 §3.6: a listener that cannot keep a SYN-RECEIVED
 * child answers the SYN with a SYN-ACK whose ISS is a MAC, and keeps no
 * state at all; the ACK that completes the handshake carries the cookie
 * back (SEG.ACK - 1) and, if it verifies, the connection is created there
 * directly in ESTABLISHED.
 *
 * Implementation notes
 * - The cookie: ISS = MAC[31:3] | MSS index[2:0]. The MAC is SipHash-2-4
 *   under the stack's secret key (the RFC 6528 key) over the 4-tuple, the
 *   peer's ISN, a time counter, the MSS index and the option byte below;
 *   anything else in the ISS would be guessable. 29 bits of MAC: a blind
 *   attacker guesses right once in 2^28 tries (two periods are accepted).
 * - The time counter is st->now / COOKIE_PERIOD (virtual time, never a
 *   clock); a cookie verifies in the period it was made and the next, so
 *   it lives 64 to 128 s, then an ACK replaying it gets a RST.
 * - The MSS the peer offered is rounded down to an entry of a table of
 *   common values (3 bits): what a cookie connection may send is at most
 *   what the peer asked for.
 * - Options: window scale, SACK-permitted (and ECN, reserved until synack
 *   negotiates it) do not fit in the ISS; when the peer sent timestamps they
 *   ride in the low 6 bits of our TSval, which the peer echoes in every
 *   TSecr: bits 0-3 the peer's shift (15: none), bit 4 SACK-permitted,
 *   bit 5 ECN. The TSval is our clock with those bits replaced, moved one
 *   step of 64 back when that would put it ahead of the clock, so it never
 *   runs ahead of what the connection sends later (the peer's PAWS). The
 *   option byte is under the MAC: an attacker cannot alter it either.
 *   Without timestamps a cookie connection has neither window scaling nor
 *   SACK, as in every stack that does cookies.
 * - Every connection's timestamp offset (RFC 7323 §5.4) is a keyed hash
 *   of the 4-tuple (tcp_ts_offset), so the ACK finds the clock the SYN-ACK
 *   was sent on.
 * - The SYN-ACK is built by tcp_emit() from a TCB on the C stack that no
 *   table, queue or timer ever sees: nothing is allocated. */
#include <string.h>

#include "tcp/tcp_internal.h"

#define COOKIE_PERIOD SYNACK_SEC(64)

/* The peer's MSS, rounded down to one of these (RFC 4987 §3.6 "a small
 * number of common MSS values"): the IPv4 minimum, RFC 9293's default, the
 * IPv6 minimum (1280 - 60), tunnels and PPPoE, Ethernet, jumbo frames. */
static const uint16_t cookie_mss[TCP_COOKIE_MSS_COUNT] = {88, 536, 1220, 1360, 1400, 1440, 1460, 8960};

enum {
	OPT_WS_NONE = 0x0f, /* bits 0-3: the peer's window scale, or none */
	OPT_SACK = 0x10,
	OPT_ECN = 0x20, /* reserved: synack does not negotiate ECN yet */
	OPT_BITS = 0x3f,
	OPT_TS = 0x40, /* not on the wire: timestamps were used */
};

uint16_t tcp_cookie_mss_value(unsigned idx)
{
	return cookie_mss[idx % TCP_COOKIE_MSS_COUNT];
}

static uint8_t mss_index(uint16_t peer_mss)
{
	uint8_t i = TCP_COOKIE_MSS_COUNT - 1;
	while (i > 0 && cookie_mss[i] > peer_mss)
		i--;
	return i;
}

static size_t tuple_bytes(uint8_t *buf, const synack_endpoint *local, const synack_endpoint *remote)
{
	memcpy(buf, local->addr.bytes, 16);
	memcpy(buf + 16, remote->addr.bytes, 16);
	memcpy(buf + 32, &local->port, 2);
	memcpy(buf + 34, &remote->port, 2);
	return 36;
}

/* The 29-bit MAC in bits 31..3, the MSS index below it. The inputs are 48
 * bytes long, unlike those of every other use of the key (tcb.c hashes 36
 * and 2 bytes), which keeps the outputs unrelated. */
uint32_t tcp_cookie_iss(const synack_stack *st, const synack_endpoint *local, const synack_endpoint *remote,
			uint32_t peer_isn, uint32_t period, uint8_t mss_idx, uint8_t opts)
{
	uint8_t buf[48];
	size_t n = tuple_bytes(buf, local, remote);
	memcpy(buf + n, &peer_isn, 4);
	memcpy(buf + n + 4, &period, 4);
	buf[n + 8] = mss_idx;
	buf[n + 9] = opts;
	memcpy(buf + n + 10, "ck", 2);
	uint32_t mac = (uint32_t)siphash24(tcps(st)->key, buf, sizeof buf);
	return (mac & ~7u) | (mss_idx & 7u);
}

uint32_t tcp_cookie_period(const synack_stack *st)
{
	return (uint32_t)(st->now / COOKIE_PERIOD);
}

/* The option byte of a negotiated (stub) TCB: see the notes above. */
static uint8_t opts_of(const struct tcb *t)
{
	if (!t->ts_ok)
		return 0;
	uint8_t o = (uint8_t)(OPT_TS | (t->ws_ok ? t->snd_wscale : OPT_WS_NONE));
	return t->sack_ok ? (uint8_t)(o | OPT_SACK) : o;
}

/* Whether a SYN to l is answered with a cookie: always (mode 2), or when
 * l can keep no SYN-RECEIVED child: its queue is full, or the stack holds
 * max_connections TCBs (mode 1, RFC 4987 §3.6). */
bool tcp_cookie_wanted(const struct tcb *l)
{
	const synack_tcp_config *c = tcfg(l);
	if (c->syncookies >= 2)
		return true;
	return c->syncookies == 1 &&
	       (l->x->synq.count >= l->x->backlog || tcps(l->st)->tcb_count >= c->max_connections);
}

/* What the SYN-ACK's TSval becomes: our clock with the option bits in the
 * low 6, never ahead of the clock. */
static uint32_t cookie_tsval(uint32_t clock, uint8_t opts)
{
	uint32_t v = (clock & ~(uint32_t)OPT_BITS) | (opts & OPT_BITS);
	return seq_gt(v, clock) ? v - (OPT_BITS + 1) : v;
}

/* A TCB that lives on the C stack for one tcp_emit() (its extension x
 * too): the listener's settings and the options a child would have
 * negotiated. */
static void stub_init(struct tcb *s, struct tcb_ext *x, struct tcb *l, const struct tcp_seg *syn)
{
	memset(s, 0, sizeof *s);
	*x = tcb_ext_none;
	s->x = x;
	s->st = l->st;
	s->local = syn->dst;
	s->remote = syn->src;
	s->rcvbuf = l->rcvbuf;
	s->sndbuf = l->sndbuf;
	s->rcvbuf_auto = l->rcvbuf_auto; /* the window scale follows (rcvbuf_ceiling) */
	s->sndbuf_auto = l->sndbuf_auto;
	s->x->user_mss = l->x->user_mss;
	s->noopt = l->noopt;
	s->state = SYNACK_TCP_SYN_RECEIVED;
	s->irs = syn->h.seq;
	s->rcv_nxt = syn->h.seq + 1;
	tcp_negotiate(s, &syn->h.opt);
	if (!s->ts_ok) { /* nowhere to keep them: offered neither */
		s->ws_ok = s->sack_ok = 0;
		s->snd_wscale = s->rcv_wscale = 0;
	}
}

/* RFC 4987 §3.6: answer the SYN with <SEQ=cookie><ACK=SEG.SEQ+1><CTL=SYN,ACK>
 * and forget it. */
void tcp_cookie_send(struct tcb *l, const struct tcp_seg *syn)
{
	synack_stack *st = l->st;
	struct tcb s;
	struct tcb_ext sx;
	stub_init(&s, &sx, l, syn);
	uint8_t opts = opts_of(&s);
	uint16_t peer_mss = syn->h.opt.has_mss ? syn->h.opt.mss : tcfg(l)->mss_default;
	uint8_t idx = mss_index(peer_mss);
	s.iss = tcp_cookie_iss(st, &s.local, &s.remote, syn->h.seq, tcp_cookie_period(st), idx, opts);
	if (s.ts_ok) {
		uint32_t ms = (uint32_t)(st->now / 1000);
		uint32_t off = tcp_ts_offset(st, &s.local, &s.remote);
		s.ts_offset = cookie_tsval(ms + off, opts) - ms; /* tcp_ts_now(&s) is the cookie TSval */
	}
	tcp_emit(&s, s.iss, SYNACK_TCP_SYN | SYNACK_TCP_ACK, 0, 0);
	stack_count(st, SYNACK_CNT_TCP_SYNCOOKIES_SENT);
	tcps(st)->cookie_sent_at = st->now;
	tcps(st)->cookie_sent = 1;
}

/* Whether an ACK to l is checked as a cookie: in mode 2, or in mode 1 if
 * a cookie went out within the two periods one stays valid. Otherwise an
 * ACK to a listener gets its RST without a MAC computed. */
bool tcp_cookie_expected(const struct tcb *l)
{
	const struct tcp_stack *ts = tcps(l->st);
	uint8_t mode = tcfg(l)->syncookies;
	return mode >= 2 ||
	       (mode == 1 && ts->cookie_sent && l->st->now - ts->cookie_sent_at < 2 * COOKIE_PERIOD);
}

/* RFC 4987 §3.6: is SEG.ACK - 1 a cookie we made for this 4-tuple and
 * SEG.SEQ - 1, in this period or the last? Fills *o with the options the
 * SYN carried (as far as the cookie keeps them) for tcp_negotiate(). */
bool tcp_cookie_check(const struct tcb *l, const struct tcp_seg *ack, struct wire_tcp_opts *o)
{
	synack_stack *st = l->st;
	uint32_t iss = ack->h.ack - 1, isn = ack->h.seq - 1;
	uint8_t idx = iss & 7u;
	uint8_t opts = ack->h.opt.has_ts ? (uint8_t)(OPT_TS | (ack->h.opt.ts_ecr & OPT_BITS)) : 0;
	uint32_t p = tcp_cookie_period(st);
	if (iss != tcp_cookie_iss(st, &ack->dst, &ack->src, isn, p, idx, opts) &&
	    iss != tcp_cookie_iss(st, &ack->dst, &ack->src, isn, p - 1, idx, opts))
		return false;
	memset(o, 0, sizeof *o);
	o->has_mss = 1;
	o->mss = cookie_mss[idx];
	o->wscale = -1;
	if (opts & OPT_TS) {
		o->has_ts = 1;
		o->ts_val = ack->h.opt.ts_val;
		o->ts_ecr = ack->h.opt.ts_ecr;
		o->sack_ok = (opts & OPT_SACK) != 0;
		if ((opts & OPT_WS_NONE) != OPT_WS_NONE)
			o->wscale = (int8_t)(opts & OPT_WS_NONE);
	}
	return true;
}
