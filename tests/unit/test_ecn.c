/* ECN (RFC 3168 §5, §6.1): one stack fed raw IPv4 frames whose ECN field
 * the test chooses, every frame it sends captured with its codepoint; then
 * two stacks on the in-memory link behind a "router" that marks CE. */
#include "harness.h"
#include "tcp/tcp_internal.h"
#include "unit.h"

/* ---- one stack (10.0.0.2) and a scripted peer (10.0.0.1) ---- */

enum { LOG_MAX = 256, PEER_ISN = 1000, PORT = 80, PEER_PORT = 4000 };

struct out {
	struct wire_tcp h;
	uint8_t ecn;
	uint32_t len;
};

struct raw {
	synack_stack *st;
	synack_prng rng;
	struct out log[LOG_MAX];
	size_t n, seen; /* frames captured; frames the test looked at */
	synack_time_t now;
	synack_tcp *l, *c;
	uint32_t iss; /* ours */
};

static int raw_tx(void *ctx, const uint8_t *f, size_t len)
{
	struct raw *r = ctx;
	struct wire_ipv4 ip;
	if (r->n >= LOG_MAX || wire_ipv4_parse(f, len, &ip))
		return 0;
	struct out *o = &r->log[r->n];
	if (wire_tcp_parse(ip.payload, ip.payload_len, &o->h))
		return 0;
	o->ecn = ip.tos & WIRE_ECN_MASK;
	o->len = (uint32_t)o->h.payload_len;
	r->n++;
	return 0;
}

static void raw_up(struct raw *r, uint8_t ecn)
{
	memset(r, 0, sizeof *r);
	synack_stack_config cfg;
	synack_stack_config_init(&cfg);
	cfg.addr = synack_addr_ipv4(10, 0, 0, 2);
	cfg.prefix_len = 24;
	synack_prng_seed(&r->rng, 11);
	cfg.rng = (synack_rng){synack_prng_fill, &r->rng};
	cfg.tx = raw_tx;
	cfg.tx_ctx = r;
	cfg.tcp.ecn = ecn;
	cfg.tcp.ts_enable = 0; /* plain headers: sequence numbers are all that matter */
	cfg.tcp.sack_enable = 0;
	r->now = SYNACK_SEC(100);
	CHECK_EQ(synack_stack_create(&cfg, r->now, &r->st), 0);
}

static void raw_down(struct raw *r)
{
	synack_stack_destroy(r->st);
}

static uint64_t cnt(struct raw *r, enum synack_counter c)
{
	return synack_stack_counter(r->st, c);
}

/* A segment from the peer with IP ECN field ecn and len bytes of data. */
static void peer_seg(struct raw *r, uint32_t seq, uint32_t ack, uint8_t flags, uint32_t len, uint8_t ecn)
{
	uint8_t seg[1600], pkt[1700], data[1460];
	memset(data, 'x', sizeof data);
	struct wire_tcp h = {.sport = PEER_PORT,
			     .dport = PORT,
			     .seq = seq,
			     .ack = ack,
			     .flags = flags,
			     .wnd = 65535,
			     .opt = {.wscale = -1}};
	if (flags & SYNACK_TCP_SYN) {
		h.opt.has_mss = 1;
		h.opt.mss = 1000;
	}
	struct bbuf b = bbuf_make(seg, sizeof seg);
	wire_tcp_emit(&b, &h, len);
	bbuf_put(&b, data, len);
	synack_addr src = synack_addr_ipv4(10, 0, 0, 1), dst = synack_addr_ipv4(10, 0, 0, 2);
	wire_tcp_set_csum(seg, b.len, &src, &dst);
	struct bbuf p = bbuf_make(pkt, sizeof pkt);
	wire_ipv4_emit(&p, &src, &dst, WIRE_PROTO_TCP, 64, 1, WIRE_IPV4_DF, b.len);
	wire_ipv4_set_ecn(pkt, ecn);
	bbuf_put(&p, seg, b.len);
	CHECK(bbuf_ok(&p));
	synack_stack_input(r->st, pkt, p.len, r->now);
}

/* The next frame the stack sent that the test has not looked at. */
static struct out *next_out(struct raw *r)
{
	return r->seen < r->n ? &r->log[r->seen++] : NULL;
}

/* A passive open: the peer's SYN with syn_flags, the SYN-ACK returned. */
static struct out *passive_syn(struct raw *r, uint8_t syn_flags)
{
	synack_endpoint e = {.addr = synack_addr_ipv4(10, 0, 0, 2), .port = PORT};
	CHECK_EQ(synack_tcp_listen(r->st, &e, 8, &r->l), 0);
	peer_seg(r, PEER_ISN, 0, SYNACK_TCP_SYN | syn_flags, 0, WIRE_ECN_NOT_ECT);
	struct out *sa = next_out(r);
	CHECK(sa && (sa->h.flags & (SYNACK_TCP_SYN | SYNACK_TCP_ACK)) == (SYNACK_TCP_SYN | SYNACK_TCP_ACK));
	if (sa)
		r->iss = sa->h.seq;
	return sa;
}

/* Complete the passive open and accept the connection. */
static void passive_open(struct raw *r, uint8_t syn_flags)
{
	passive_syn(r, syn_flags);
	peer_seg(r, PEER_ISN + 1, r->iss + 1, SYNACK_TCP_ACK, 0, WIRE_ECN_NOT_ECT);
	CHECK_EQ(synack_tcp_accept(r->l, &r->c), 0);
}

/* Let the delayed-ACK timer run. */
static void flush_ack(struct raw *r)
{
	r->now += SYNACK_MSEC(300);
	synack_stack_poll(r->st, r->now);
}

static bool ecn_ok(struct raw *r)
{
	synack_tcp_info i;
	return r->c && synack_tcp_get_info(r->c, &i) == 0 && i.ecn_ok;
}

static synack_tcp_info info(struct raw *r)
{
	synack_tcp_info i;
	memset(&i, 0, sizeof i);
	CHECK_EQ(synack_tcp_get_info(r->c, &i), 0);
	return i;
}

/* Queue n bytes on the accepted connection (sent as the windows allow). */
static void send_bytes(struct raw *r, size_t n)
{
	static uint8_t buf[65536];
	CHECK_EQ(synack_tcp_send(r->c, buf, n), (ssize_t)n);
}

/* ---- negotiation, RFC 3168 §6.1.1 ---- */

TEST(passive_agrees_to_ecn_setup_syn)
{
	struct raw r;
	raw_up(&r, SYNACK_TCP_ECN_PASSIVE);
	struct out *sa = passive_syn(&r, SYNACK_TCP_ECE | SYNACK_TCP_CWR);
	CHECK(sa && (sa->h.flags & SYNACK_TCP_ECE) && !(sa->h.flags & SYNACK_TCP_CWR));
	CHECK(sa && sa->ecn == WIRE_ECN_NOT_ECT); /* SYN-ACKs are not ECT */
	peer_seg(&r, PEER_ISN + 1, r.iss + 1, SYNACK_TCP_ACK, 0, WIRE_ECN_NOT_ECT);
	CHECK_EQ(synack_tcp_accept(r.l, &r.c), 0);
	CHECK(ecn_ok(&r));
	CHECK_EQ(cnt(&r, SYNACK_CNT_TCP_ECN_NEGOTIATED), 1);
	send_bytes(&r, 100);
	struct out *d = next_out(&r);
	CHECK(d && d->len == 100 && d->ecn == WIRE_ECN_ECT0 &&
	      !(d->h.flags & (SYNACK_TCP_ECE | SYNACK_TCP_CWR)));
	/* §6.1.4: the pure ACK of the peer's data is not ECT */
	peer_seg(&r, PEER_ISN + 1, r.iss + 101, SYNACK_TCP_ACK | SYNACK_TCP_PSH, 10, WIRE_ECN_ECT0);
	r.now += SYNACK_SEC(1);
	synack_stack_poll(r.st, r.now);
	struct out *a = next_out(&r);
	CHECK(a && a->len == 0 && a->ecn == WIRE_ECN_NOT_ECT && !(a->h.flags & SYNACK_TCP_ECE));
	raw_down(&r);
}

TEST(syn_without_both_flags_is_not_ecn_setup)
{
	const uint8_t variants[] = {0, SYNACK_TCP_ECE, SYNACK_TCP_CWR};
	for (size_t i = 0; i < ARRAY_LEN(variants); i++) {
		struct raw r;
		raw_up(&r, SYNACK_TCP_ECN_ACTIVE);
		struct out *sa = passive_syn(&r, variants[i]);
		CHECK(sa && !(sa->h.flags & (SYNACK_TCP_ECE | SYNACK_TCP_CWR)));
		peer_seg(&r, PEER_ISN + 1, r.iss + 1, SYNACK_TCP_ACK, 0, WIRE_ECN_NOT_ECT);
		CHECK_EQ(synack_tcp_accept(r.l, &r.c), 0);
		CHECK(!ecn_ok(&r));
		send_bytes(&r, 100);
		struct out *d = next_out(&r);
		CHECK(d && d->len == 100 && d->ecn == WIRE_ECN_NOT_ECT); /* a peer without ECN gets no ECT */
		raw_down(&r);
	}
}

TEST(ecn_off_refuses)
{
	struct raw r;
	raw_up(&r, SYNACK_TCP_ECN_OFF);
	struct out *sa = passive_syn(&r, SYNACK_TCP_ECE | SYNACK_TCP_CWR);
	CHECK(sa && !(sa->h.flags & SYNACK_TCP_ECE));
	CHECK_EQ(cnt(&r, SYNACK_CNT_TCP_ECN_NEGOTIATED), 0);
	raw_down(&r);
}

/* connect() from 10.0.0.2 to the peer; the SYN sent. */
static struct out *active_syn(struct raw *r)
{
	synack_endpoint remote = {.addr = synack_addr_ipv4(10, 0, 0, 1), .port = PEER_PORT};
	synack_endpoint local = {.addr = synack_addr_ipv4(10, 0, 0, 2), .port = PORT};
	CHECK_EQ(synack_tcp_connect(r->st, &remote, &local, &r->c), 0);
	struct out *s = next_out(r);
	CHECK(s && s->h.flags & SYNACK_TCP_SYN);
	if (s)
		r->iss = s->h.seq;
	return s;
}

TEST(active_open_asks_only_when_configured)
{
	struct raw r;
	raw_up(&r, SYNACK_TCP_ECN_PASSIVE); /* the default */
	CHECK_EQ(synack_stack_tcp_config(r.st)->ecn, SYNACK_TCP_ECN_PASSIVE);
	struct out *s = active_syn(&r);
	CHECK(s && !(s->h.flags & (SYNACK_TCP_ECE | SYNACK_TCP_CWR)));
	/* a SYN-ACK with ECE answers no request: no ECN */
	peer_seg(&r, PEER_ISN, r.iss + 1, SYNACK_TCP_SYN | SYNACK_TCP_ACK | SYNACK_TCP_ECE, 0, 0);
	CHECK_EQ(synack_tcp_state(r.c), SYNACK_TCP_ESTABLISHED);
	CHECK(!ecn_ok(&r));
	raw_down(&r);
}

TEST(active_open_negotiates_with_ece_synack)
{
	struct raw r;
	raw_up(&r, SYNACK_TCP_ECN_ACTIVE);
	struct out *s = active_syn(&r);
	CHECK(s && (s->h.flags & (SYNACK_TCP_ECE | SYNACK_TCP_CWR)) == (SYNACK_TCP_ECE | SYNACK_TCP_CWR));
	CHECK(s && s->ecn == WIRE_ECN_NOT_ECT);
	peer_seg(&r, PEER_ISN, r.iss + 1, SYNACK_TCP_SYN | SYNACK_TCP_ACK | SYNACK_TCP_ECE, 0, 0);
	CHECK(ecn_ok(&r));
	struct out *a = next_out(&r); /* the third segment: a pure ACK, no ECE */
	CHECK(a && a->ecn == WIRE_ECN_NOT_ECT && !(a->h.flags & (SYNACK_TCP_ECE | SYNACK_TCP_CWR)));
	raw_down(&r);
}

TEST(synack_with_ece_and_cwr_is_not_ecn_setup)
{
	struct raw r;
	raw_up(&r, SYNACK_TCP_ECN_ACTIVE);
	active_syn(&r);
	peer_seg(&r, PEER_ISN, r.iss + 1, SYNACK_TCP_SYN | SYNACK_TCP_ACK | SYNACK_TCP_ECE | SYNACK_TCP_CWR,
		 0, 0);
	CHECK_EQ(synack_tcp_state(r.c), SYNACK_TCP_ESTABLISHED);
	CHECK(!ecn_ok(&r));
	raw_down(&r);
}

TEST(retransmitted_syn_does_not_ask)
{
	struct raw r;
	raw_up(&r, SYNACK_TCP_ECN_ACTIVE);
	active_syn(&r);
	r.now += SYNACK_SEC(2);
	synack_stack_poll(r.st, r.now);
	struct out *s = next_out(&r);
	CHECK(s && (s->h.flags & SYNACK_TCP_SYN) && !(s->h.flags & (SYNACK_TCP_ECE | SYNACK_TCP_CWR)));
	peer_seg(&r, PEER_ISN, r.iss + 1, SYNACK_TCP_SYN | SYNACK_TCP_ACK | SYNACK_TCP_ECE, 0, 0);
	CHECK(!ecn_ok(&r));
	raw_down(&r);
}

/* ---- the receiver, §6.1.3 ---- */

TEST(ce_is_echoed_until_cwr)
{
	struct raw r;
	raw_up(&r, SYNACK_TCP_ECN_PASSIVE);
	passive_open(&r, SYNACK_TCP_ECE | SYNACK_TCP_CWR);
	uint32_t seq = PEER_ISN + 1, ack = r.iss + 1;
	peer_seg(&r, seq, ack, SYNACK_TCP_ACK, 100, WIRE_ECN_CE);
	seq += 100;
	struct out *a = next_out(&r); /* acknowledged at once */
	CHECK(a && (a->h.flags & SYNACK_TCP_ECE) && a->h.ack == seq && a->ecn == WIRE_ECN_NOT_ECT);
	CHECK_EQ(cnt(&r, SYNACK_CNT_TCP_ECN_CE_RECEIVED), 1);
	/* later ACKs go on echoing, CE or not */
	for (int i = 0; i < 2; i++) {
		peer_seg(&r, seq, ack, SYNACK_TCP_ACK, 100, WIRE_ECN_ECT0);
		seq += 100;
	}
	flush_ack(&r);
	a = next_out(&r);
	CHECK(a && (a->h.flags & SYNACK_TCP_ECE) && a->h.ack == seq);
	/* our own data carries the echo too */
	send_bytes(&r, 50);
	a = next_out(&r);
	CHECK(a && a->len == 50 && (a->h.flags & SYNACK_TCP_ECE) && a->ecn == WIRE_ECN_ECT0);
	ack += 50;
	/* CWR ends it */
	peer_seg(&r, seq, ack, SYNACK_TCP_ACK | SYNACK_TCP_CWR, 100, WIRE_ECN_ECT0);
	seq += 100;
	peer_seg(&r, seq, ack, SYNACK_TCP_ACK, 100, WIRE_ECN_ECT0);
	seq += 100;
	flush_ack(&r);
	a = next_out(&r);
	CHECK(a && a->h.ack == seq && !(a->h.flags & SYNACK_TCP_ECE));
	/* a pure ACK marked CE (not ECT by §6.1.4) is not data: no echo */
	peer_seg(&r, seq, ack, SYNACK_TCP_ACK, 0, WIRE_ECN_CE);
	CHECK_EQ(cnt(&r, SYNACK_CNT_TCP_ECN_CE_RECEIVED), 1);
	CHECK(!next_out(&r));
	raw_down(&r);
}

TEST(ce_without_ecn_is_ignored)
{
	struct raw r;
	raw_up(&r, SYNACK_TCP_ECN_PASSIVE);
	passive_open(&r, 0);
	peer_seg(&r, PEER_ISN + 1, r.iss + 1, SYNACK_TCP_ACK, 100, WIRE_ECN_CE);
	peer_seg(&r, PEER_ISN + 101, r.iss + 1, SYNACK_TCP_ACK, 100, WIRE_ECN_CE);
	flush_ack(&r);
	struct out *a = next_out(&r);
	CHECK(a && !(a->h.flags & SYNACK_TCP_ECE));
	CHECK_EQ(cnt(&r, SYNACK_CNT_TCP_ECN_CE_RECEIVED), 0);
	raw_down(&r);
}

/* ---- the sender, §6.1.2, §6.1.5 ---- */

/* Established ECN connection with n full segments (MSS 1000) in flight. */
static void sender_up(struct raw *r, uint32_t n)
{
	raw_up(r, SYNACK_TCP_ECN_PASSIVE);
	passive_open(r, SYNACK_TCP_ECE | SYNACK_TCP_CWR);
	send_bytes(r, n * 1000);
	for (uint32_t i = 0; i < n; i++) {
		struct out *d = next_out(r);
		CHECK(d && d->len == 1000 && d->ecn == WIRE_ECN_ECT0 && !(d->h.flags & SYNACK_TCP_CWR));
	}
}

TEST(ece_reduces_once_per_window_and_cwr_follows)
{
	struct raw r;
	sender_up(&r, 10); /* IW 10 */
	synack_tcp_info before = info(&r);
	CHECK_EQ(before.cwnd, 10000);
	uint32_t ack = r.iss + 1001;
	peer_seg(&r, PEER_ISN + 1, ack, SYNACK_TCP_ACK | SYNACK_TCP_ECE, 0, 0);
	synack_tcp_info after = info(&r);
	CHECK_EQ(cnt(&r, SYNACK_CNT_TCP_ECN_REDUCTIONS), 1);
	CHECK(after.cwnd < before.cwnd && after.cwnd >= 2000);
	CHECK_EQ(after.ssthresh, after.cwnd);
	/* nothing more may go (flight 9000 > cwnd): more data queued waits */
	send_bytes(&r, 5000);
	CHECK(!next_out(&r));
	/* further ECE ACKs of the same window: no second reduction, no growth */
	for (int i = 2; i <= 9; i++) {
		ack = r.iss + 1 + (uint32_t)i * 1000;
		peer_seg(&r, PEER_ISN + 1, ack, SYNACK_TCP_ACK | SYNACK_TCP_ECE, 0, 0);
	}
	CHECK_EQ(cnt(&r, SYNACK_CNT_TCP_ECN_REDUCTIONS), 1);
	CHECK_EQ(info(&r).cwnd, after.cwnd);
	/* the first new data segment sent after the reduction carries CWR, once */
	struct out *d = next_out(&r);
	CHECK(d && d->len == 1000 && (d->h.flags & SYNACK_TCP_CWR) && d->ecn == WIRE_ECN_ECT0);
	CHECK(d && d->h.seq == r.iss + 10001);
	struct out *e;
	int later = 0;
	while ((e = next_out(&r))) {
		CHECK(!(e->h.flags & SYNACK_TCP_CWR));
		later++;
	}
	CHECK(later >= 1);
	/* an ECE ACK covering everything sent at the reaction: a new window */
	ack = r.iss + 10001 + 1000;
	peer_seg(&r, PEER_ISN + 1, ack, SYNACK_TCP_ACK | SYNACK_TCP_ECE, 0, 0);
	CHECK_EQ(cnt(&r, SYNACK_CNT_TCP_ECN_REDUCTIONS), 2);
	raw_down(&r);
}

TEST(ack_without_ece_grows_window)
{
	struct raw r;
	sender_up(&r, 10);
	peer_seg(&r, PEER_ISN + 1, r.iss + 1001, SYNACK_TCP_ACK, 0, 0);
	CHECK_EQ(info(&r).cwnd, 11000); /* slow start goes on */
	CHECK_EQ(cnt(&r, SYNACK_CNT_TCP_ECN_REDUCTIONS), 0);
	raw_down(&r);
}

TEST(retransmissions_are_not_ect_and_cwr_follows_rto)
{
	struct raw r;
	sender_up(&r, 2);
	r.now += SYNACK_SEC(2); /* the RTO fires: SND.UNA's segment again */
	synack_stack_poll(r.st, r.now);
	struct out *d = next_out(&r);
	CHECK(d && d->h.seq == r.iss + 1 && d->len == 1000);
	CHECK(d && d->ecn == WIRE_ECN_NOT_ECT && !(d->h.flags & SYNACK_TCP_CWR));
	/* everything acknowledged, new data: CWR for the RTO's reduction */
	peer_seg(&r, PEER_ISN + 1, r.iss + 2001, SYNACK_TCP_ACK, 0, 0);
	while (next_out(&r))
		;
	send_bytes(&r, 500);
	d = next_out(&r);
	CHECK(d && d->len == 500 && d->ecn == WIRE_ECN_ECT0 && (d->h.flags & SYNACK_TCP_CWR));
	/* an ECE for data sent before the RTO reduces nothing more */
	peer_seg(&r, PEER_ISN + 1, r.iss + 2001, SYNACK_TCP_ACK | SYNACK_TCP_ECE, 0, 0);
	CHECK_EQ(cnt(&r, SYNACK_CNT_TCP_ECN_REDUCTIONS), 0);
	raw_down(&r);
}

TEST(window_probes_are_not_ect)
{
	struct raw r;
	sender_up(&r, 1);
	/* everything acknowledged, window closed */
	uint8_t seg[64], pkt[128];
	struct wire_tcp h = {.sport = PEER_PORT,
			     .dport = PORT,
			     .seq = PEER_ISN + 1,
			     .ack = r.iss + 1001,
			     .flags = SYNACK_TCP_ACK,
			     .wnd = 0,
			     .opt = {.wscale = -1}};
	struct bbuf b = bbuf_make(seg, sizeof seg);
	wire_tcp_emit(&b, &h, 0);
	synack_addr src = synack_addr_ipv4(10, 0, 0, 1), dst = synack_addr_ipv4(10, 0, 0, 2);
	wire_tcp_set_csum(seg, b.len, &src, &dst);
	struct bbuf p = bbuf_make(pkt, sizeof pkt);
	wire_ipv4_emit(&p, &src, &dst, WIRE_PROTO_TCP, 64, 1, 0, b.len);
	bbuf_put(&p, seg, b.len);
	synack_stack_input(r.st, pkt, p.len, r.now);
	send_bytes(&r, 100);
	CHECK(!next_out(&r));
	for (int i = 0; i < 40 && r.seen == r.n; i++) {
		r.now += SYNACK_SEC(1);
		synack_stack_poll(r.st, r.now);
	}
	struct out *probe = next_out(&r);
	CHECK(probe && probe->len == 1 && probe->ecn == WIRE_ECN_NOT_ECT);
	CHECK(probe && !(probe->h.flags & SYNACK_TCP_CWR));
	raw_down(&r);
}

/* ---- two stacks through a router that marks CE ---- */

struct marker {
	void *port;
	uint32_t every, seen;	       /* mark every Nth ECT packet CE */
	uint64_t ect, marked, bad_ect; /* bad_ect: ECT on a segment without data */
};

static int marking_tx(void *ctx, const uint8_t *frame, size_t len)
{
	struct marker *m = ctx;
	uint8_t copy[2048];
	struct wire_ipv4 ip;
	struct wire_tcp h;
	if (len <= sizeof copy && !wire_ipv4_parse(frame, len, &ip) && (ip.tos & WIRE_ECN_MASK)) {
		m->ect++;
		if (wire_tcp_parse(ip.payload, ip.payload_len, &h) || !h.payload_len)
			m->bad_ect++;
		if (m->every && ++m->seen % m->every == 0) {
			memcpy(copy, frame, len);
			wire_ipv4_set_ecn(copy, WIRE_ECN_CE);
			m->marked++;
			return synack_memlink_tx(m->port, copy, len);
		}
	}
	return synack_memlink_tx(m->port, frame, len);
}

static void sim_rx(void *ctx, const uint8_t *frame, size_t len, synack_time_t now)
{
	synack_stack_input(ctx, frame, len, now);
}

/* Client ecn setting c_ecn, server default; every `every`-th ECT packet
 * of either side is marked CE. */
static int sim_up(synack_sim *s, struct marker m[2], uint8_t c_ecn, uint32_t every)
{
	memset(s, 0, sizeof *s);
	int err = synack_memlink_create(5, NULL, NULL, &s->link);
	if (err)
		return err;
	for (int i = 0; i < 2; i++) {
		synack_stack_config c;
		synack_stack_config_init(&c);
		c.addr = synack_addr_ipv4(10, 0, 0, (uint8_t)(i + 1));
		if (i == H_CLIENT)
			c.tcp.ecn = c_ecn;
		synack_prng_seed(&s->rng[i], 77 + (uint64_t)i);
		c.rng = (synack_rng){synack_prng_fill, &s->rng[i]};
		m[i] = (struct marker){.port = synack_memlink_port(s->link, i), .every = every};
		c.tx = marking_tx;
		c.tx_ctx = &m[i];
		err = synack_stack_create(&c, 0, &s->stack[i]);
		if (err)
			return err;
		synack_memlink_attach(s->link, i, sim_rx, s->stack[i]);
	}
	return 0;
}

TEST(sim_transfer_with_ce_marks)
{
	synack_sim sim;
	struct marker m[2];
	CHECK_EQ(sim_up(&sim, m, SYNACK_TCP_ECN_ACTIVE, 50), 0);
	synack_tcp *l, *c, *s;
	CHECK_EQ(h_establish(&sim, 443, &l, &c, &s), 0);
	synack_tcp_info ci, si;
	CHECK_EQ(synack_tcp_get_info(c, &ci), 0);
	CHECK_EQ(synack_tcp_get_info(s, &si), 0);
	CHECK(ci.ecn_ok && si.ecn_ok);
	size_t n = 4u << 20;
	CHECK_EQ(h_transfer(&sim, c, s, n, SYNACK_SEC(60)), n);
	CHECK(m[H_CLIENT].ect > 1000 && m[H_CLIENT].marked > 10);
	CHECK_EQ(m[H_CLIENT].bad_ect + m[H_SERVER].bad_ect, 0);
	CHECK_EQ(m[H_SERVER].ect, 0); /* the receiver sent no data */
	synack_stack *cs = sim.stack[H_CLIENT], *ss = sim.stack[H_SERVER];
	CHECK_EQ(synack_stack_counter(ss, SYNACK_CNT_TCP_ECN_CE_RECEIVED), m[H_CLIENT].marked);
	uint64_t red = synack_stack_counter(cs, SYNACK_CNT_TCP_ECN_REDUCTIONS);
	CHECK(red >= 1 && red <= m[H_CLIENT].marked);
	CHECK_EQ(synack_stack_counter(cs, SYNACK_CNT_TCP_RETRANSMITS), 0); /* marks, no losses */
	CHECK_EQ(synack_tcp_get_info(c, &ci), 0);
	CHECK(ci.cwnd < 1000u * ci.mss); /* held down by the marks */
	synack_sim_destroy(&sim);
}

TEST(sim_no_ect_without_negotiation)
{
	synack_sim sim;
	struct marker m[2];
	CHECK_EQ(sim_up(&sim, m, SYNACK_TCP_ECN_PASSIVE, 0), 0); /* both passive: nobody asks */
	synack_tcp *l, *c, *s;
	CHECK_EQ(h_establish(&sim, 443, &l, &c, &s), 0);
	synack_tcp_info ci;
	CHECK_EQ(synack_tcp_get_info(c, &ci), 0);
	CHECK(!ci.ecn_ok);
	size_t n = 1u << 20;
	CHECK_EQ(h_transfer(&sim, c, s, n, SYNACK_SEC(60)), n);
	CHECK_EQ(h_transfer(&sim, s, c, n, SYNACK_SEC(60)), n);
	CHECK_EQ(m[H_CLIENT].ect + m[H_SERVER].ect, 0);
	CHECK_EQ(synack_stack_counter(sim.stack[H_SERVER], SYNACK_CNT_TCP_ECN_NEGOTIATED), 0);
	synack_sim_destroy(&sim);
}
