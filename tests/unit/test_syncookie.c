/* SYN cookies (RFC 4987 §3.6) and TIME-WAIT reuse (RFC 6191): the cookie
 * itself through the internal API, the handshake segment by segment against
 * one stack fed raw frames, and a spoofed SYN flood with legitimate clients
 * on the in-memory link in virtual time. */
#include "harness.h"
#include "tcp/tcp_internal.h"
#include "unit.h"

/* ---- one stack fed raw IPv4 frames, its output captured ---- */

struct raw {
	synack_stack *st;
	synack_prng rng;
	uint8_t last[2048];
	size_t last_len;
	uint64_t sent;
	synack_time_t now;
	synack_tcp *l;
};

static int raw_tx(void *ctx, const uint8_t *f, size_t len)
{
	struct raw *r = ctx;
	r->sent++;
	r->last_len = len < sizeof r->last ? len : sizeof r->last;
	memcpy(r->last, f, r->last_len);
	return 0;
}

static synack_addr peer_addr(uint32_t host)
{
	return synack_addr_ipv4(10, (uint8_t)(1 + (host >> 16)), (uint8_t)(host >> 8), (uint8_t)host);
}

static void raw_up(struct raw *r, uint8_t mode, int backlog)
{
	memset(r, 0, sizeof *r);
	synack_stack_config cfg;
	synack_stack_config_init(&cfg);
	cfg.addr = synack_addr_ipv4(10, 0, 0, 2);
	cfg.prefix_len = 8;
	synack_prng_seed(&r->rng, 7);
	cfg.rng = (synack_rng){synack_prng_fill, &r->rng};
	cfg.tx = raw_tx;
	cfg.tx_ctx = r;
	cfg.tcp.syncookies = mode;
	r->now = SYNACK_SEC(1000);
	CHECK_EQ(synack_stack_create(&cfg, r->now, &r->st), 0);
	synack_endpoint e = {.addr = cfg.addr, .port = 80};
	CHECK_EQ(synack_tcp_listen(r->st, &e, backlog, &r->l), 0);
}

static void raw_down(struct raw *r)
{
	synack_stack_destroy(r->st);
}

/* A segment from src:sport to port 80. */
static void raw_seg(struct raw *r, synack_addr src, uint16_t sport, uint32_t seq, uint32_t ack, uint8_t flags,
		    const struct wire_tcp_opts *o, const char *data)
{
	uint8_t seg[1500], pkt[1600];
	size_t dl = data ? strlen(data) : 0;
	struct wire_tcp h = {
	    .sport = sport, .dport = 80, .seq = seq, .ack = ack, .flags = flags, .wnd = 65535};
	if (o)
		h.opt = *o;
	else
		h.opt.wscale = -1;
	struct bbuf b = bbuf_make(seg, sizeof seg);
	wire_tcp_emit(&b, &h, dl);
	if (dl)
		bbuf_put(&b, data, dl);
	synack_addr dst = synack_addr_ipv4(10, 0, 0, 2);
	wire_tcp_set_csum(seg, b.len, &src, &dst);
	struct bbuf p = bbuf_make(pkt, sizeof pkt);
	wire_ipv4_emit(&p, &src, &dst, WIRE_PROTO_TCP, 64, 1, 0, b.len);
	bbuf_put(&p, seg, b.len);
	CHECK(bbuf_ok(&p));
	synack_stack_input(r->st, pkt, p.len, r->now);
}

/* The TCP header of the last frame the stack sent. */
static bool raw_last(struct raw *r, struct wire_tcp *h)
{
	struct wire_ipv4 ip;
	return r->last_len && !wire_ipv4_parse(r->last, r->last_len, &ip) &&
	       !wire_tcp_parse(ip.payload, ip.payload_len, h);
}

static struct wire_tcp_opts syn_opts(uint16_t mss, int8_t ws, bool sack, bool ts)
{
	struct wire_tcp_opts o = {.has_mss = 1, .mss = mss, .wscale = ws, .sack_ok = sack};
	if (ts) {
		o.has_ts = 1;
		o.ts_val = 5000;
	}
	return o;
}

/* SYN from host:sport with opts; the cookie SYN-ACK in *sa. */
static bool raw_syn(struct raw *r, uint32_t host, uint16_t sport, uint32_t isn, const struct wire_tcp_opts *o,
		    struct wire_tcp *sa)
{
	uint64_t before = r->sent;
	raw_seg(r, peer_addr(host), sport, isn, 0, SYNACK_TCP_SYN, o, NULL);
	return r->sent == before + 1 && raw_last(r, sa) && sa->flags == (SYNACK_TCP_SYN | SYNACK_TCP_ACK) &&
	       sa->ack == isn + 1;
}

/* The third segment answering sa (timestamps echoed when it had them). */
static void raw_ack(struct raw *r, uint32_t host, uint16_t sport, uint32_t isn, const struct wire_tcp *sa,
		    const char *data)
{
	struct wire_tcp_opts o = {.wscale = -1};
	if (sa->opt.has_ts) {
		o.has_ts = 1;
		o.ts_val = 5001;
		o.ts_ecr = sa->opt.ts_val;
	}
	raw_seg(r, peer_addr(host), sport, isn + 1, sa->seq + 1, SYNACK_TCP_ACK, &o, data);
}

static uint64_t cnt(struct raw *r, enum synack_counter c)
{
	return synack_stack_counter(r->st, c);
}

TEST(cookie_round_trip_each_mss_entry)
{
	for (unsigned i = 0; i < TCP_COOKIE_MSS_COUNT; i++) {
		struct raw r;
		raw_up(&r, 2, 16);
		uint16_t want = tcp_cookie_mss_value(i);
		/* a peer's MSS between two entries rounds down to the lower */
		struct wire_tcp_opts o =
		    syn_opts((uint16_t)(want + (i + 1 < TCP_COOKIE_MSS_COUNT ? 3 : 500)), 7, true, true);
		struct wire_tcp sa;
		CHECK(raw_syn(&r, 1, 40000, 1000, &o, &sa));
		CHECK_EQ(sa.seq & 7u, i);
		CHECK_EQ(synack_stack_tcb_count(r.st), 1); /* no state for the SYN */
		raw_ack(&r, 1, 40000, 1000, &sa, NULL);
		synack_tcp *c;
		CHECK_EQ(synack_tcp_accept(r.l, &c), 0);
		synack_tcp_info ci;
		synack_tcp_get_info(c, &ci);
		CHECK_EQ(ci.state, SYNACK_TCP_ESTABLISHED);
		uint32_t mss = want < 1460 ? want : 1460; /* our MTU caps the jumbo entry */
		if (mss < 88)
			mss = 88;
		CHECK_EQ(ci.mss, mss - (mss > 20 + 12 ? 12 : 0));
		CHECK_EQ(ci.iss, sa.seq);
		CHECK_EQ(ci.irs, 1000);
		CHECK_EQ(cnt(&r, SYNACK_CNT_TCP_SYNCOOKIES_VALID), 1);
		raw_down(&r);
	}
}

TEST(cookie_keeps_wscale_sack_timestamps)
{
	struct raw r;
	raw_up(&r, 2, 16);
	struct wire_tcp_opts o = syn_opts(1460, 9, true, true);
	struct wire_tcp sa;
	CHECK(raw_syn(&r, 1, 40001, 77, &o, &sa));
	CHECK(sa.opt.has_ts && sa.opt.sack_ok && sa.opt.wscale == 7); /* for the 6 MiB ceiling */
	CHECK_EQ(sa.opt.ts_ecr, 5000);
	CHECK_EQ(sa.opt.ts_val & 0x3f, 9 | 0x10); /* wscale 9, SACK-permitted */
	raw_ack(&r, 1, 40001, 77, &sa, NULL);
	synack_tcp *c;
	CHECK_EQ(synack_tcp_accept(r.l, &c), 0);
	synack_tcp_info ci;
	synack_tcp_get_info(c, &ci);
	CHECK(ci.ts_ok && ci.sack_ok && ci.wscale_ok);
	CHECK_EQ(ci.snd_wscale, 9);
	CHECK_EQ(ci.rcv_wscale, 7); /* as its SYN-ACK said */
	CHECK_EQ(ci.snd_wnd, 65535u << 9);
	/* later segments' TSvals never run behind the cookie's (peer PAWS) */
	r.now += SYNACK_MSEC(1);
	CHECK_EQ(synack_tcp_send(c, "x", 1), 1);
	struct wire_tcp d;
	CHECK(raw_last(&r, &d) && d.payload_len == 1 && d.opt.has_ts);
	CHECK((int32_t)(d.opt.ts_val - sa.opt.ts_val) >= 0);
	CHECK_EQ(d.opt.ts_ecr, 5001);

	/* without timestamps the cookie keeps the MSS only */
	o = syn_opts(1400, 9, true, false);
	CHECK(raw_syn(&r, 2, 40002, 99, &o, &sa));
	CHECK(!sa.opt.has_ts && !sa.opt.sack_ok && sa.opt.wscale < 0);
	raw_ack(&r, 2, 40002, 99, &sa, NULL);
	CHECK_EQ(synack_tcp_accept(r.l, &c), 0);
	synack_tcp_get_info(c, &ci);
	CHECK(!ci.ts_ok && !ci.sack_ok && !ci.wscale_ok);
	CHECK_EQ(ci.mss, 1400);
	raw_down(&r);
}

/* The ACK segment for the cookie check: from host:sport, ack iss + 1. */
static struct tcp_seg ack_seg(uint32_t host, uint16_t sport, uint32_t isn, uint32_t iss, uint32_t ecr)
{
	struct tcp_seg s;
	memset(&s, 0, sizeof s);
	s.src = (synack_endpoint){.addr = peer_addr(host), .port = sport};
	s.dst = (synack_endpoint){.addr = synack_addr_ipv4(10, 0, 0, 2), .port = 80};
	s.h.seq = isn + 1;
	s.h.ack = iss + 1;
	s.h.flags = SYNACK_TCP_ACK;
	s.h.opt.has_ts = 1;
	s.h.opt.ts_ecr = ecr;
	return s;
}

TEST(cookie_rejects_wrong_tuple_flipped_bit_expired_period)
{
	struct raw r;
	raw_up(&r, 2, 16);
	struct wire_tcp_opts o = syn_opts(1460, 7, true, true);
	struct wire_tcp sa;
	CHECK(raw_syn(&r, 1, 40000, 1000, &o, &sa));
	const struct tcb *l = (const struct tcb *)r.l;
	struct wire_tcp_opts out;
	struct tcp_seg s = ack_seg(1, 40000, 1000, sa.seq, sa.opt.ts_val);
	CHECK(tcp_cookie_check(l, &s, &out));
	CHECK(out.has_ts && out.sack_ok && out.wscale == 7 && out.mss == 1460);
	s = ack_seg(3, 40000, 1000, sa.seq, sa.opt.ts_val); /* another address */
	CHECK(!tcp_cookie_check(l, &s, &out));
	s = ack_seg(1, 40001, 1000, sa.seq, sa.opt.ts_val); /* another port */
	CHECK(!tcp_cookie_check(l, &s, &out));
	s = ack_seg(1, 40000, 1001, sa.seq, sa.opt.ts_val); /* another peer ISN */
	CHECK(!tcp_cookie_check(l, &s, &out));
	for (int bit = 0; bit < 32; bit++) {
		s = ack_seg(1, 40000, 1000, sa.seq ^ (1u << bit), sa.opt.ts_val);
		CHECK(!tcp_cookie_check(l, &s, &out));
	}
	for (int bit = 0; bit < 6; bit++) { /* the options in TSecr are under the MAC */
		s = ack_seg(1, 40000, 1000, sa.seq, sa.opt.ts_val ^ (1u << bit));
		CHECK(!tcp_cookie_check(l, &s, &out));
	}
	s = ack_seg(1, 40000, 1000, sa.seq, sa.opt.ts_val);
	s.h.opt.has_ts = 0; /* the timestamps dropped */
	CHECK(!tcp_cookie_check(l, &s, &out));
	/* valid through the next period, not after */
	s = ack_seg(1, 40000, 1000, sa.seq, sa.opt.ts_val);
	synack_time_t made = r.now;
	synack_stack_poll(r.st, made + SYNACK_SEC(64));
	CHECK(tcp_cookie_check(l, &s, &out));
	synack_stack_poll(r.st, made + SYNACK_SEC(130));
	CHECK(!tcp_cookie_check(l, &s, &out));
	raw_down(&r);
}

TEST(replayed_ack_after_expiry_gets_rst)
{
	struct raw r;
	raw_up(&r, 2, 16);
	struct wire_tcp_opts o = syn_opts(1460, 7, true, true);
	struct wire_tcp sa, rst;
	CHECK(raw_syn(&r, 1, 40000, 1000, &o, &sa));
	raw_ack(&r, 1, 40000, 1000, &sa, NULL);
	synack_tcp *c;
	CHECK_EQ(synack_tcp_accept(r.l, &c), 0);
	synack_tcp_abort(c); /* the handle goes with it */
	CHECK_EQ(synack_stack_tcb_count(r.st), 1);
	r.now += SYNACK_SEC(130);
	synack_stack_poll(r.st, r.now);
	raw_ack(&r, 1, 40000, 1000, &sa, NULL);
	CHECK(raw_last(&r, &rst) && rst.flags == SYNACK_TCP_RST && rst.seq == sa.seq + 1);
	CHECK_EQ(cnt(&r, SYNACK_DROP_TCP_SYNCOOKIE_BAD), 1);
	CHECK_EQ(cnt(&r, SYNACK_CNT_TCP_SYNCOOKIES_VALID), 1);
	CHECK_EQ(synack_tcp_accept(r.l, &c), -EAGAIN);
	CHECK_EQ(synack_stack_tcb_count(r.st), 1);
	raw_down(&r);
}

TEST(cookie_ack_honours_accept_backlog)
{
	struct raw r;
	raw_up(&r, 2, 2);
	struct wire_tcp_opts o = syn_opts(1460, 7, true, true);
	struct wire_tcp sa[3];
	for (int i = 0; i < 3; i++)
		CHECK(raw_syn(&r, 1, (uint16_t)(41000 + i), 500, &o, &sa[i]));
	for (int i = 0; i < 3; i++)
		raw_ack(&r, 1, (uint16_t)(41000 + i), 500, &sa[i], NULL);
	CHECK_EQ(cnt(&r, SYNACK_DROP_TCP_ACCEPT_QUEUE_FULL), 1);
	CHECK_EQ(cnt(&r, SYNACK_CNT_TCP_SYNCOOKIES_VALID), 2);
	CHECK_EQ(synack_stack_tcb_count(r.st), 3);
	synack_tcp *c;
	CHECK_EQ(synack_tcp_accept(r.l, &c), 0);
	/* the peer's retransmission (here with its first data) gets in now */
	raw_ack(&r, 1, 41002, 500, &sa[2], "late");
	CHECK_EQ(cnt(&r, SYNACK_CNT_TCP_SYNCOOKIES_VALID), 3);
	CHECK_EQ(synack_tcp_accept(r.l, &c), 0);
	CHECK_EQ(synack_tcp_accept(r.l, &c), 0);
	char buf[16];
	CHECK_EQ(synack_tcp_recv(c, buf, sizeof buf), 4);
	CHECK_MEM(buf, "late", 4);
	raw_down(&r);
}

TEST(data_and_fin_on_third_ack_delivered)
{
	struct raw r;
	raw_up(&r, 1, 1);
	struct wire_tcp_opts o = syn_opts(1460, 7, true, true);
	struct wire_tcp sa, a;
	/* the first SYN takes the one SYN-RECEIVED slot; the second gets a cookie */
	CHECK(raw_syn(&r, 1, 42000, 100, &o, &sa));
	CHECK_EQ(cnt(&r, SYNACK_CNT_TCP_SYNCOOKIES_SENT), 0);
	CHECK(raw_syn(&r, 2, 42001, 200, &o, &sa));
	CHECK_EQ(cnt(&r, SYNACK_CNT_TCP_SYNCOOKIES_SENT), 1);
	CHECK_EQ(synack_stack_tcb_count(r.st), 2);
	raw_ack(&r, 2, 42001, 200, &sa, "GET / HTTP/1.0\r\n\r\n");
	synack_tcp *c;
	CHECK_EQ(synack_tcp_accept(r.l, &c), 0);
	char buf[64];
	CHECK_EQ(synack_tcp_recv(c, buf, sizeof buf), 18);
	CHECK_MEM(buf, "GET / HTTP/1.0\r\n\r\n", 18);
	synack_tcp_info ci;
	synack_tcp_get_info(c, &ci);
	CHECK_EQ(ci.rcv_nxt, 201 + 18);
	/* a FIN with it: CLOSE-WAIT, EOF after the data */
	CHECK(raw_syn(&r, 3, 42002, 300, &o, &sa));
	struct wire_tcp_opts ao = {.wscale = -1, .has_ts = 1, .ts_val = 5001, .ts_ecr = sa.opt.ts_val};
	raw_seg(&r, peer_addr(3), 42002, 301, sa.seq + 1, SYNACK_TCP_ACK | SYNACK_TCP_FIN, &ao, "bye");
	CHECK_EQ(synack_tcp_accept(r.l, &c), 0);
	CHECK(raw_last(&r, &a) && a.ack == 301 + 4); /* the FIN acknowledged at once */
	CHECK_EQ(synack_tcp_state(c), SYNACK_TCP_CLOSE_WAIT);
	CHECK_EQ(synack_tcp_recv(c, buf, sizeof buf), 3);
	CHECK_EQ(synack_tcp_recv(c, buf, sizeof buf), 0);
	raw_down(&r);
}

TEST(cookies_off_drops_as_before)
{
	struct raw r;
	raw_up(&r, 0, 1);
	struct wire_tcp_opts o = syn_opts(1460, 7, true, true);
	struct wire_tcp sa;
	CHECK(raw_syn(&r, 1, 42000, 100, &o, &sa));
	uint64_t sent = r.sent;
	raw_seg(&r, peer_addr(2), 42001, 200, 0, SYNACK_TCP_SYN, &o, NULL);
	CHECK_EQ(r.sent, sent);
	CHECK_EQ(cnt(&r, SYNACK_DROP_TCP_SYN_QUEUE_FULL), 1);
	/* an ACK to the listener: the RST of RFC 9293 §3.10.7.2, no cookie check */
	raw_seg(&r, peer_addr(2), 42001, 201, 12345, SYNACK_TCP_ACK, NULL, NULL);
	CHECK_EQ(cnt(&r, SYNACK_DROP_TCP_LISTEN_BAD), 1);
	CHECK_EQ(cnt(&r, SYNACK_DROP_TCP_SYNCOOKIE_BAD), 0);
	raw_down(&r);
}

/* ---- flood: spoofed SYNs beside legitimate clients on the in-memory link ---- */

static void flood_cfg(synack_stack_config *cfg, int host)
{
	synack_stack_config_init(cfg);
	cfg->addr = synack_addr_ipv4(10, 0, 0, (uint8_t)(host + 1));
	cfg->prefix_len = 24;
	cfg->gateway = synack_addr_ipv4(10, 0, 0, (uint8_t)(2 - host)); /* spoofed sources are off-link */
}

static void spoofed_syn(synack_sim *sim, synack_prng *rng)
{
	uint8_t seg[64], pkt[128];
	uint64_t x = synack_prng_next(rng);
	synack_addr src = synack_addr_ipv4((uint8_t)(11 + x % 200), (uint8_t)(x >> 8), (uint8_t)(x >> 16),
					   (uint8_t)(1 + (x >> 24) % 250));
	synack_addr dst = synack_addr_ipv4(10, 0, 0, 2);
	struct wire_tcp h = {.sport = (uint16_t)(1024 + (x >> 32) % 60000),
			     .dport = 80,
			     .seq = (uint32_t)(x >> 20),
			     .flags = SYNACK_TCP_SYN,
			     .wnd = 512,
			     .opt = {.has_mss = 1, .mss = 1460, .wscale = -1}};
	struct bbuf b = bbuf_make(seg, sizeof seg);
	wire_tcp_emit(&b, &h, 0);
	wire_tcp_set_csum(seg, b.len, &src, &dst);
	struct bbuf p = bbuf_make(pkt, sizeof pkt);
	wire_ipv4_emit(&p, &src, &dst, WIRE_PROTO_TCP, 64, 1, 0, b.len);
	bbuf_put(&p, seg, b.len);
	synack_stack_input(sim->stack[H_SERVER], pkt, p.len, sim->now);
}

enum { LEGIT = 1000, FLOOD = 50000, INFLIGHT = 64 };

struct legit {
	synack_tcp *c[INFLIGHT];
	synack_time_t started[INFLIGHT];
	int started_n, ok, failed;
};

/* Finish what is done: an established client counts and goes away (RST);
 * one that waited 3 s or failed counts as a failure. */
static void legit_reap(synack_sim *sim, struct legit *g)
{
	for (int i = 0; i < INFLIGHT; i++) {
		synack_tcp *c = g->c[i];
		if (!c)
			continue;
		int s = synack_tcp_state(c);
		if (s == SYNACK_TCP_ESTABLISHED)
			g->ok++;
		else if (s == SYNACK_TCP_SYN_SENT && sim->now - g->started[i] < SYNACK_SEC(3))
			continue;
		else
			g->failed++;
		synack_tcp_abort(c);
		g->c[i] = NULL;
	}
}

static void legit_start(synack_sim *sim, struct legit *g)
{
	synack_endpoint e = h_ep(H_SERVER, 80);
	for (int i = 0; i < INFLIGHT; i++) {
		if (g->c[i])
			continue;
		if (synack_tcp_connect(sim->stack[H_CLIENT], &e, NULL, &g->c[i]) == 0) {
			g->started[i] = sim->now;
			g->started_n++;
		} else {
			g->failed++;
		}
		return;
	}
}

/* The server accepts and closes at once, as a busy server would. */
static void server_accept_all(synack_tcp *l)
{
	synack_tcp *s;
	while (synack_tcp_accept(l, &s) == 0) {
		synack_tcp_abort(s);
	}
}

TEST(flood_of_50000_spoofed_syns_memory_flat_legit_connects_succeed)
{
	synack_stack_config cfg[2];
	flood_cfg(&cfg[0], H_CLIENT);
	flood_cfg(&cfg[1], H_SERVER);
	synack_sim sim;
	CHECK_EQ(synack_sim_init(&sim, 11, NULL, &cfg[0], &cfg[1]), 0);
	synack_stack *srv = sim.stack[H_SERVER];
	synack_tcp *l;
	synack_endpoint e = h_ep(H_SERVER, 80);
	CHECK_EQ(synack_tcp_listen(srv, &e, 128, &l), 0);
	synack_prng rng;
	synack_prng_seed(&rng, 99);
	struct legit g = {0};
	size_t base_bytes, bytes, peak_late = 0, at_full = 0;
	synack_stack_memory(srv, &base_bytes, NULL);
	/* a SYN every 20 us (hping3 -i u20) for 1 s; a legitimate connect
	 * every 1.25 ms during it and after it, 1,000 in all */
	for (int i = 0; i < FLOOD || g.started_n < LEGIT; i++) {
		if (i < FLOOD)
			spoofed_syn(&sim, &rng);
		if (i % 64 == 0 && g.started_n < LEGIT)
			legit_start(&sim, &g);
		synack_sim_run_until(&sim, sim.now + 20);
		server_accept_all(l);
		legit_reap(&sim, &g);
		synack_stack_memory(srv, &bytes, NULL);
		if (i == 5000)
			at_full = bytes;
		if (i > 5000)
			peak_late = bytes > peak_late ? bytes : peak_late;
	}
	H_RUN_UNTIL(&sim, (server_accept_all(l), legit_reap(&sim, &g), g.ok + g.failed == g.started_n),
		    SYNACK_SEC(10));
	/* flat: after the SYN queue filled, 45,000 more SYNs and 1,000
	 * connections cost at most what the legitimate ones in flight hold */
	CHECK(at_full > base_bytes);
	CHECK(peak_late <= at_full + (size_t)INFLIGHT * (sizeof(struct tcb) + sizeof(struct tcb_ext)));
	CHECK(synack_stack_counter(srv, SYNACK_CNT_TCP_SYNCOOKIES_SENT) >= FLOOD - 128);
	CHECK(g.started_n >= LEGIT);
	CHECK(g.ok * 100 >= 99 * g.started_n);
	fprintf(stderr,
		"  flood: %d of %d legitimate connects succeeded, %" PRIu64 " cookies, %" PRIu64
		" valid, memory %zu -> %zu (peak %zu)\n",
		g.ok, g.started_n, synack_stack_counter(srv, SYNACK_CNT_TCP_SYNCOOKIES_SENT),
		synack_stack_counter(srv, SYNACK_CNT_TCP_SYNCOOKIES_VALID), base_bytes, at_full, peak_late);
	/* the spoofed children time out (SYN-ACK retries) and all comes back */
	synack_sim_run_until(&sim, sim.now + SYNACK_SEC(200));
	CHECK_EQ(synack_stack_tcb_count(srv), 1);
	synack_stack_trim(srv); /* what it keeps for reuse */
	synack_stack_memory(srv, &bytes, NULL);
	CHECK(bytes <= base_bytes + 4096); /* tables may keep their grown size */
	synack_tcp_close(l);
	synack_sim_destroy(&sim);
}

/* ---- TIME-WAIT reuse, RFC 6191 ---- */

static void tw_sim(synack_sim *sim, bool ts)
{
	synack_stack_config cfg[2];
	flood_cfg(&cfg[0], H_CLIENT);
	flood_cfg(&cfg[1], H_SERVER);
	cfg[0].tcp.ts_enable = ts;
	CHECK_EQ(synack_sim_init(sim, 5, NULL, &cfg[0], &cfg[1]), 0);
}

/* One connection from client port 50000, closed by `closer` first (it
 * goes to TIME-WAIT); the other end's handles are all released. */
static void tw_connection(synack_sim *sim, synack_tcp *l, int closer)
{
	synack_endpoint e = h_ep(H_SERVER, 80), lp = h_ep(H_CLIENT, 50000);
	synack_tcp *c, *s = NULL;
	CHECK_EQ(synack_tcp_connect(sim->stack[H_CLIENT], &e, &lp, &c), 0);
	CHECK(H_RUN_UNTIL(sim, synack_tcp_accept(l, &s) == 0, SYNACK_SEC(5)));
	synack_tcp *first = closer == H_CLIENT ? c : s, *second = closer == H_CLIENT ? s : c;
	synack_tcp_close(first);
	CHECK(H_RUN_UNTIL(sim, synack_tcp_state(second) == SYNACK_TCP_CLOSE_WAIT, SYNACK_SEC(5)));
	synack_tcp_close(second);
	synack_sim_run_until(sim, sim->now + SYNACK_MSEC(100));
}

TEST(time_wait_reuse_client_side_with_timestamps)
{
	synack_sim sim;
	tw_sim(&sim, true);
	synack_tcp *l, *c;
	synack_endpoint e = h_ep(H_SERVER, 80), lp = h_ep(H_CLIENT, 50000);
	CHECK_EQ(synack_tcp_listen(sim.stack[H_SERVER], &e, 16, &l), 0);
	tw_connection(&sim, l, H_CLIENT);
	CHECK_EQ(synack_stack_tcb_count(sim.stack[H_CLIENT]), 1); /* TIME-WAIT, no handle */
	CHECK_EQ(synack_tcp_connect(sim.stack[H_CLIENT], &e, &lp, &c), -EADDRINUSE); /* too soon */
	synack_sim_run_until(&sim, sim.now + SYNACK_SEC(1));
	CHECK_EQ(synack_tcp_connect(sim.stack[H_CLIENT], &e, &lp, &c), 0);
	CHECK_EQ(synack_stack_counter(sim.stack[H_CLIENT], SYNACK_CNT_TCP_TIME_WAIT_REUSED), 1);
	synack_tcp *s;
	CHECK(H_RUN_UNTIL(&sim, synack_tcp_accept(l, &s) == 0, SYNACK_SEC(5)));
	CHECK_EQ(synack_tcp_state(c), SYNACK_TCP_ESTABLISHED);
	CHECK_EQ(synack_stack_counter(sim.stack[H_SERVER], SYNACK_DROP_TCP_PAWS), 0);
	synack_sim_destroy(&sim);
}

TEST(time_wait_not_reused_without_timestamps)
{
	synack_sim sim;
	tw_sim(&sim, false);
	synack_tcp *l, *c;
	synack_endpoint e = h_ep(H_SERVER, 80), lp = h_ep(H_CLIENT, 50000);
	CHECK_EQ(synack_tcp_listen(sim.stack[H_SERVER], &e, 16, &l), 0);
	tw_connection(&sim, l, H_CLIENT);
	synack_sim_run_until(&sim, sim.now + SYNACK_SEC(2));
	CHECK_EQ(synack_tcp_connect(sim.stack[H_CLIENT], &e, &lp, &c), -EADDRINUSE);
	synack_sim_destroy(&sim);
}

TEST(time_wait_server_side_new_syn_opens_new_connection)
{
	synack_sim sim;
	tw_sim(&sim, true);
	synack_tcp *l, *c, *s;
	synack_endpoint e = h_ep(H_SERVER, 80), lp = h_ep(H_CLIENT, 50000);
	CHECK_EQ(synack_tcp_listen(sim.stack[H_SERVER], &e, 16, &l), 0);
	tw_connection(&sim, l, H_SERVER);
	CHECK_EQ(synack_stack_tcb_count(sim.stack[H_SERVER]), 2); /* listener, TIME-WAIT */
	synack_sim_run_until(&sim, sim.now + SYNACK_MSEC(10));
	CHECK_EQ(synack_tcp_connect(sim.stack[H_CLIENT], &e, &lp, &c), 0);
	CHECK(H_RUN_UNTIL(&sim, synack_tcp_accept(l, &s) == 0, SYNACK_SEC(5)));
	CHECK_EQ(synack_tcp_state(c), SYNACK_TCP_ESTABLISHED);
	CHECK_EQ(synack_stack_counter(sim.stack[H_SERVER], SYNACK_CNT_TCP_TIME_WAIT_REUSED), 1);
	CHECK_EQ(synack_stack_counter(sim.stack[H_CLIENT], SYNACK_CNT_TCP_RETRANSMITS), 0);
	synack_sim_destroy(&sim);
}
