/* Idle connections (src/tcp/tcb.c): an established connection that holds
 * nothing gives its extension (buffers, timers, recovery and congestion
 * state) back and keeps only its core TCB; the next segment or call makes
 * the extension again with the same contents. Checked here: the memory an
 * idle connection costs, that everything works after the extension comes
 * back (data both ways, get_info, keepalive switched on late, tcpdrop),
 * and a segment for an idle connection when memory has run out. */
#include <string.h>

#include "harness.h"
#include "tcp/tcp_internal.h"
#include "unit.h"

/* An allocator that can be made to fail. */
struct failing {
	bool fail;
	long refused;
};

static void *f_alloc(void *ctx, size_t size)
{
	struct failing *f = ctx;
	if (f->fail) {
		f->refused++;
		return NULL;
	}
	return malloc(size);
}

static void f_free(void *ctx, void *p, size_t size)
{
	free(p);
}

enum { N_IDLE = 500, PORT = 80 };

/* Open n connections client -> server:PORT, all accepted. */
static void open_many(synack_sim *sim, synack_tcp *l, synack_tcp **c, synack_tcp **s, int n)
{
	synack_endpoint sep = h_ep(H_SERVER, PORT);
	for (int i = 0; i < n; i++)
		CHECK_EQ(synack_tcp_connect(sim->stack[H_CLIENT], &sep, NULL, &c[i]), 0);
	int got = 0;
	CHECK(H_RUN_UNTIL(sim,
			  (({
				   while (got < n && synack_tcp_accept(l, &s[got]) == 0)
					   got++;
			   }),
			   got == n),
			  SYNACK_SEC(10)));
	for (int i = 0; i < n; i++)
		CHECK_EQ(synack_tcp_state(c[i]), SYNACK_TCP_ESTABLISHED);
}

/* A simulation with a listener on PORT (backlog n) and n connections to
 * it, established and accepted. */
static void sim_with_many(synack_sim *sim, uint64_t seed, synack_tcp **l, synack_tcp **c, synack_tcp **s,
			  int n)
{
	CHECK_EQ(synack_sim_init(sim, seed, NULL, NULL, NULL), 0);
	synack_endpoint sep = h_ep(H_SERVER, PORT);
	CHECK_EQ(synack_tcp_listen(sim->stack[H_SERVER], &sep, n, l), 0);
	open_many(sim, *l, c, s, n);
}

/* The goal: an idle established connection costs at most 256
 * bytes of the stack's memory, table slots included, once idle for a
 * second; the extensions come back for data (and stay: the statistics). */
TEST(idle_connections_keep_only_their_core)
{
	synack_sim sim;
	static synack_tcp *c[N_IDLE], *s[N_IDLE];
	synack_tcp *l;
	CHECK_EQ(synack_sim_init(&sim, 11, NULL, NULL, NULL), 0);
	synack_endpoint sep = h_ep(H_SERVER, PORT);
	CHECK_EQ(synack_tcp_listen(sim.stack[H_SERVER], &sep, N_IDLE, &l), 0);
	size_t base[2], now[2];
	for (int i = 0; i < 2; i++)
		synack_stack_memory(sim.stack[i], &base[i], NULL);
	open_many(&sim, l, c, s, N_IDLE);
	/* they keep their extensions for a second (TCP_IDLE_DELAY): data
	 * usually follows a handshake at once */
	for (int i = 0; i < 2; i++)
		CHECK_EQ(synack_stack_counter(sim.stack[i], SYNACK_CNT_TCP_EXT_RELEASED), 0);
	synack_sim_run_until(&sim, sim.now + SYNACK_MSEC(1100));
	for (int i = 0; i < 2; i++) {
		synack_stack_trim(sim.stack[i]); /* the extensions kept for reuse */
		synack_stack_memory(sim.stack[i], &now[i], NULL);
		size_t per = (now[i] - base[i]) / N_IDLE;
		fprintf(stderr, "  stack %d: %zu bytes per idle connection\n", i, per);
		CHECK(per <= 256);
		CHECK(synack_stack_counter(sim.stack[i], SYNACK_CNT_TCP_EXT_RELEASED) >= N_IDLE);
	}
	/* what get_info reports is what the connection had: the initial
	 * window of RFC 6928 for its MSS, no ssthresh yet */
	synack_tcp_info ci;
	CHECK_EQ(synack_tcp_get_info(c[0], &ci), 0);
	uint32_t iw = ci.mss * 2 > 14600 ? ci.mss * 2 : 14600;
	CHECK_EQ(ci.cwnd, ci.mss * 10 < iw ? ci.mss * 10 : iw);
	CHECK_EQ(ci.ssthresh, UINT32_MAX);
	CHECK(ci.srtt > 0);
	/* data both ways on every tenth connection */
	for (int i = 0; i < N_IDLE; i += 10) {
		CHECK_EQ(h_transfer(&sim, c[i], s[i], 20000, SYNACK_SEC(10)), 20000);
		CHECK_EQ(h_transfer(&sim, s[i], c[i], 3000, SYNACK_SEC(10)), 3000);
	}
	CHECK_EQ(synack_stack_drops(sim.stack[0]) + synack_stack_drops(sim.stack[1]), 0);
	/* and they all close, leaving nothing behind */
	for (int i = 0; i < N_IDLE; i++) {
		CHECK_EQ(synack_tcp_close(c[i]), 0);
		CHECK_EQ(synack_tcp_close(s[i]), 0);
	}
	CHECK_EQ(synack_tcp_close(l), 0);
	synack_sim_run_until(&sim, sim.now + SYNACK_SEC(300)); /* TIME-WAIT */
	for (int i = 0; i < 2; i++) {
		CHECK_EQ(synack_stack_tcb_count(sim.stack[i]), 0);
		synack_stack_trim(sim.stack[i]);
		synack_stack_memory(sim.stack[i], &now[i], NULL);
		fprintf(stderr, "  stack %d: %zu bytes before, %zu after\n", i, base[i], now[i]);
		CHECK(now[i] <= base[i] + 4096); /* tables may keep some slots */
	}
	synack_sim_destroy(&sim);
}

/* Keepalive switched on long after the connection went idle: the idle
 * time counts from then; probes go out and are answered. */
TEST(keepalive_switched_on_after_idle)
{
	synack_sim sim;
	synack_tcp *l, *c, *s;
	CHECK_EQ(synack_sim_init(&sim, 12, NULL, NULL, NULL), 0);
	CHECK_EQ(h_establish(&sim, PORT, &l, &c, &s), 0);
	synack_sim_run_until(&sim, sim.now + SYNACK_SEC(1000));
	uint64_t released = synack_stack_counter(sim.stack[0], SYNACK_CNT_TCP_EXT_RELEASED);
	uint64_t srv_released = synack_stack_counter(sim.stack[1], SYNACK_CNT_TCP_EXT_RELEASED);
	CHECK(released >= 1 && srv_released >= 1);
	CHECK_EQ(synack_tcp_setopt(c, SYNACK_TCP_KEEPIDLE, 60), 0);
	CHECK_EQ(synack_tcp_setopt(c, SYNACK_TCP_KEEPALIVE, 1), 0);
	synack_sim_run_until(&sim, sim.now + SYNACK_SEC(59));
	CHECK_EQ(synack_stack_counter(sim.stack[0], SYNACK_CNT_TCP_KEEPALIVE_PROBES), 0);
	synack_sim_run_until(&sim, sim.now + SYNACK_SEC(2) + SYNACK_SEC(600));
	/* at 60 s, then each 60 s after an answer */
	CHECK_EQ(synack_stack_counter(sim.stack[0], SYNACK_CNT_TCP_KEEPALIVE_PROBES), 11);
	/* the prober keeps its extension (its timer); the peer, answering
	 * each probe (an unacceptable segment, RFC 9293 §3.10.7.4), gives it
	 * back after each answer */
	CHECK_EQ(synack_stack_counter(sim.stack[0], SYNACK_CNT_TCP_EXT_RELEASED), released);
	CHECK_EQ(synack_stack_counter(sim.stack[1], SYNACK_CNT_TCP_EXT_RELEASED), srv_released + 11);
	CHECK_EQ(synack_tcp_state(c), SYNACK_TCP_ESTABLISHED);
	CHECK_EQ(synack_tcp_state(s), SYNACK_TCP_ESTABLISHED);
	CHECK_EQ(h_transfer(&sim, s, c, 5000, SYNACK_SEC(5)), 5000);
	synack_sim_destroy(&sim);
}

/* With ECN agreed (RFC 3168 §6.1.1), the connection goes idle all the
 * same, and marks its data ECT(0) afterwards. */
TEST(ecn_connections_go_idle_too)
{
	synack_sim sim;
	synack_tcp *l, *c, *s;
	synack_stack_config c0, c1;
	synack_stack_config_init(&c0);
	synack_stack_config_init(&c1);
	c0.addr = synack_addr_ipv4(10, 0, 0, 1);
	c1.addr = synack_addr_ipv4(10, 0, 0, 2);
	c0.tcp.ecn = SYNACK_TCP_ECN_ACTIVE;
	c1.tcp.ecn = SYNACK_TCP_ECN_PASSIVE;
	CHECK_EQ(synack_sim_init(&sim, 15, NULL, &c0, &c1), 0);
	CHECK_EQ(h_establish(&sim, PORT, &l, &c, &s), 0);
	synack_tcp_info ci;
	CHECK_EQ(synack_tcp_get_info(c, &ci), 0);
	CHECK(ci.ecn_ok);
	synack_sim_run_until(&sim, sim.now + SYNACK_MSEC(1100));
	for (int i = 0; i < 2; i++)
		CHECK_EQ(synack_stack_counter(sim.stack[i], SYNACK_CNT_TCP_EXT_RELEASED), 1);
	CHECK_EQ(h_transfer(&sim, c, s, 100000, SYNACK_SEC(5)), 100000);
	CHECK_EQ(h_transfer(&sim, s, c, 100000, SYNACK_SEC(5)), 100000);
	synack_sim_destroy(&sim);
}

/* tcpdrop on idle connections: each still sends its RST. */
TEST(drop_state_resets_idle_connections)
{
	synack_sim sim;
	static synack_tcp *c[20], *s[20];
	synack_tcp *l;
	sim_with_many(&sim, 13, &l, c, s, 20);
	CHECK_EQ(synack_tcp_drop_state(sim.stack[H_SERVER], SYNACK_TCP_ESTABLISHED), 20);
	CHECK(H_RUN_UNTIL(&sim, synack_tcp_state(c[19]) == SYNACK_TCP_CLOSED, SYNACK_SEC(1)));
	for (int i = 0; i < 20; i++) {
		CHECK_EQ(synack_tcp_state(c[i]), SYNACK_TCP_CLOSED);
		CHECK_EQ(synack_tcp_error(c[i]), -ECONNRESET);
		CHECK_EQ(synack_tcp_error(s[i]), -ECONNABORTED);
	}
	synack_sim_destroy(&sim);
}

/* A segment for an idle connection when the stack cannot allocate its
 * extension is dropped and counted; the connection lives, and the peer's
 * retransmission gets through once memory is back. */
TEST(no_memory_for_an_idle_connection_drops_then_recovers)
{
	synack_sim sim;
	synack_tcp *l, *c, *s;
	struct failing f = {0};
	synack_stack_config c1;
	synack_stack_config_init(&c1);
	c1.addr = synack_addr_ipv4(10, 0, 0, 2);
	c1.allocator = (synack_allocator){.alloc = f_alloc, .free = f_free, .ctx = &f};
	CHECK_EQ(synack_sim_init(&sim, 14, NULL, NULL, &c1), 0);
	CHECK_EQ(h_establish(&sim, PORT, &l, &c, &s), 0);
	synack_sim_run_until(&sim, sim.now + SYNACK_SEC(1));
	synack_stack_trim(sim.stack[H_SERVER]); /* no kept extension to reuse */
	f.fail = true;
	CHECK_EQ(synack_tcp_send(c, "hello", 5), 5);
	synack_sim_run_until(&sim, sim.now + SYNACK_MSEC(100));
	CHECK(f.refused > 0);
	CHECK(synack_stack_counter(sim.stack[H_SERVER], SYNACK_DROP_TCP_NO_MEMORY) >= 1);
	/* the calls that need it say so, the others still work */
	CHECK_EQ(synack_tcp_send(s, "x", 1), -ENOMEM);
	CHECK_EQ(synack_tcp_setopt(s, SYNACK_TCP_KEEPALIVE, 1), -ENOMEM);
	char b[8];
	CHECK_EQ(synack_tcp_recv(s, b, sizeof b), -EAGAIN);
	CHECK_EQ(synack_tcp_state(s), SYNACK_TCP_ESTABLISHED);
	f.fail = false;
	CHECK(H_RUN_UNTIL(&sim, synack_tcp_recv(s, b, sizeof b) == 5, SYNACK_SEC(5)));
	CHECK(memcmp(b, "hello", 5) == 0);
	CHECK(synack_stack_counter(sim.stack[H_CLIENT], SYNACK_CNT_TCP_RETRANSMITS) >= 1);
	CHECK_EQ(h_transfer(&sim, s, c, 10000, SYNACK_SEC(5)), 10000);
	synack_sim_destroy(&sim);
}

/* TIME-WAIT (tcb.c's time_wait_compact): a connection the application
 * let go keeps only its core TCB through 2*MSL, even after it carried
 * data both ways; its 4-tuple can be taken over (RFC 6191) and it ends
 * on time. */
TEST(time_wait_keeps_only_its_core)
{
	synack_sim sim;
	static synack_tcp *c[N_IDLE], *s[N_IDLE];
	static synack_endpoint local[N_IDLE];
	synack_tcp *l;
	CHECK_EQ(synack_sim_init(&sim, 16, NULL, NULL, NULL), 0);
	synack_endpoint sep = h_ep(H_SERVER, PORT);
	CHECK_EQ(synack_tcp_listen(sim.stack[H_SERVER], &sep, N_IDLE, &l), 0);
	size_t base, now;
	synack_stack_memory(sim.stack[H_CLIENT], &base, NULL);
	open_many(&sim, l, c, s, N_IDLE);
	for (int i = 0; i < N_IDLE; i++) {
		CHECK_EQ(h_transfer(&sim, c[i], s[i], 3000, SYNACK_SEC(10)), 3000);
		CHECK_EQ(h_transfer(&sim, s[i], c[i], 1000, SYNACK_SEC(10)), 1000);
		synack_tcp_endpoints(c[i], &local[i], NULL);
	}
	/* the client closes first (TIME-WAIT is its), the server on EOF */
	for (int i = 0; i < N_IDLE; i++)
		CHECK_EQ(synack_tcp_close(c[i]), 0);
	CHECK(H_RUN_UNTIL(&sim, synack_tcp_state(s[N_IDLE - 1]) == SYNACK_TCP_CLOSE_WAIT, SYNACK_SEC(5)));
	for (int i = 0; i < N_IDLE; i++)
		CHECK_EQ(synack_tcp_close(s[i]), 0);
	synack_sim_run_until(&sim, sim.now + SYNACK_MSEC(500));
	CHECK_EQ(synack_stack_tcb_count(sim.stack[H_SERVER]), 1); /* the listener */
	CHECK_EQ(synack_stack_tcb_count(sim.stack[H_CLIENT]), N_IDLE);
	CHECK_EQ(synack_stack_counter(sim.stack[H_CLIENT], SYNACK_CNT_TCP_TIME_WAIT_COMPACT), N_IDLE);
	synack_stack_trim(sim.stack[H_CLIENT]);
	synack_stack_memory(sim.stack[H_CLIENT], &now, NULL);
	size_t per = (now - base) / N_IDLE;
	fprintf(stderr, "  %zu bytes per TIME-WAIT connection\n", per);
	CHECK(per <= 256);
	/* a second after the FIN, a connect() may take a 4-tuple over */
	synack_sim_run_until(&sim, sim.now + SYNACK_SEC(1));
	synack_tcp *c2, *s2;
	CHECK_EQ(synack_tcp_connect(sim.stack[H_CLIENT], &sep, &local[7], &c2), 0);
	CHECK_EQ(synack_stack_counter(sim.stack[H_CLIENT], SYNACK_CNT_TCP_TIME_WAIT_REUSED), 1);
	CHECK(H_RUN_UNTIL(&sim, synack_tcp_accept(l, &s2) == 0, SYNACK_SEC(5)));
	CHECK_EQ(h_transfer(&sim, c2, s2, 5000, SYNACK_SEC(5)), 5000);
	CHECK_EQ(synack_stack_tcb_count(sim.stack[H_CLIENT]), N_IDLE);
	/* 2*MSL (MSL 60 s by default) after the FINs, the rest are gone */
	synack_sim_run_until(&sim, sim.now + SYNACK_SEC(116));
	CHECK_EQ(synack_stack_tcb_count(sim.stack[H_CLIENT]), N_IDLE);
	synack_sim_run_until(&sim, sim.now + SYNACK_SEC(3));
	CHECK_EQ(synack_stack_tcb_count(sim.stack[H_CLIENT]), 1);
	CHECK_EQ(synack_tcp_state(c2), SYNACK_TCP_ESTABLISHED);
	CHECK_EQ(synack_stack_drops(sim.stack[0]) + synack_stack_drops(sim.stack[1]), 0);
	synack_sim_destroy(&sim);
}

static uint16_t nth_port(uint16_t first, int i)
{
	return (uint16_t)(49152 + (first - 49152 + i) % 16384);
}

/* The ephemeral ports (tcp_api.c's pick_port), 49152-65535: with every one
 * held by a connection to the server, connect() says -EADDRNOTAVAIL (after
 * a search of the whole range, eight candidates at a time). Once they are
 * TIME-WAITs that may be taken over (RFC 6191: a second after the FIN), a
 * free port among the next 8 candidates still wins; past that (20 on), the first
 * reusable TIME-WAIT is taken over instead of searching on. */
TEST(ephemeral_ports_run_out_then_time_waits_are_taken_over)
{
	enum { N = 16384 };
	synack_sim sim;
	static synack_tcp *c[N], *s[N];
	synack_tcp *l, *x;
	sim_with_many(&sim, 17, &l, c, s, N);
	synack_endpoint sep = h_ep(H_SERVER, PORT), ep;
	synack_tcp_endpoints(c[0], &ep, NULL);
	uint16_t first = ep.port;
	synack_tcp_endpoints(c[N - 1], &ep, NULL);
	CHECK_EQ(ep.port, nth_port(first, N - 1)); /* one after the other */
	CHECK_EQ(synack_tcp_connect(sim.stack[H_CLIENT], &sep, NULL, &x), -EADDRNOTAVAIL);
	CHECK(x == NULL);
	/* ports first + 5 and first + 20 come free; the rest go to TIME-WAIT */
	CHECK_EQ(synack_tcp_abort(c[5]), 0);
	CHECK_EQ(synack_tcp_abort(c[20]), 0);
	for (int i = 0; i < N; i++)
		if (i != 5 && i != 20)
			CHECK_EQ(synack_tcp_close(c[i]), 0);
	synack_sim_run_until(&sim, sim.now + SYNACK_MSEC(100));
	for (int i = 0; i < N; i++)
		CHECK_EQ(synack_tcp_close(s[i]), 0);
	synack_sim_run_until(&sim, sim.now + SYNACK_MSEC(100));
	CHECK_EQ(synack_stack_tcb_count(sim.stack[H_CLIENT]), N - 2);
	synack_sim_run_until(&sim, sim.now + SYNACK_SEC(1));
	/* the search starts at `first` again: its TIME-WAIT may be taken
	 * over, but the free port 5 candidates on wins */
	CHECK_EQ(synack_tcp_connect(sim.stack[H_CLIENT], &sep, NULL, &x), 0);
	synack_tcp_endpoints(x, &ep, NULL);
	CHECK_EQ(ep.port, nth_port(first, 5));
	CHECK_EQ(synack_stack_counter(sim.stack[H_CLIENT], SYNACK_CNT_TCP_TIME_WAIT_REUSED), 0);
	/* the next free port is 14 candidates on: the TIME-WAIT at 6 goes */
	CHECK_EQ(synack_tcp_connect(sim.stack[H_CLIENT], &sep, NULL, &x), 0);
	synack_tcp_endpoints(x, &ep, NULL);
	CHECK_EQ(ep.port, nth_port(first, 6));
	CHECK_EQ(synack_stack_counter(sim.stack[H_CLIENT], SYNACK_CNT_TCP_TIME_WAIT_REUSED), 1);
	CHECK_EQ(synack_stack_tcb_count(sim.stack[H_CLIENT]), N - 1);
	synack_sim_destroy(&sim);
}

/* Idle connections give their extensions back after a second
 * (TCP_IDLE_DELAY, tcb.c's idle_timers); until then they may be aborted,
 * closed, or carry data, and each of those takes them out of the queue:
 * only the ten left alone give theirs back. */
TEST(idle_delay_survives_abort_close_and_data)
{
	synack_sim sim;
	static synack_tcp *c[40], *s[40];
	synack_tcp *l;
	sim_with_many(&sim, 19, &l, c, s, 40);
	for (int i = 0; i < 2; i++)
		CHECK_EQ(tcps(sim.stack[i])->idle_timers.live, 40u);
	for (int i = 0; i < 10; i++)
		CHECK_EQ(synack_tcp_abort(c[i]), 0);
	for (int i = 10; i < 20; i++)
		CHECK_EQ(synack_tcp_close(c[i]), 0);
	for (int i = 20; i < 30; i++)
		CHECK_EQ(synack_tcp_send(c[i], "ping", 4), 4);
	synack_sim_run_until(&sim, sim.now + SYNACK_MSEC(500));
	for (int i = 0; i < 2; i++) { /* only the ten left alone are still queued */
		CHECK_EQ(synack_stack_counter(sim.stack[i], SYNACK_CNT_TCP_EXT_RELEASED), 0);
		CHECK_EQ(tcps(sim.stack[i])->idle_timers.live, 10u);
	}
	synack_sim_run_until(&sim, sim.now + SYNACK_MSEC(700));
	for (int i = 0; i < 2; i++)
		CHECK_EQ(tcps(sim.stack[i])->idle_timers.live, 0u);
	/* the client's ten left alone; the server's ten, and the ten whose
	 * peers aborted are gone, those whose peer closed are in CLOSE-WAIT */
	CHECK_EQ(synack_stack_counter(sim.stack[H_CLIENT], SYNACK_CNT_TCP_EXT_RELEASED), 10);
	CHECK_EQ(synack_stack_counter(sim.stack[H_SERVER], SYNACK_CNT_TCP_EXT_RELEASED), 10);
	char b[8];
	for (int i = 20; i < 30; i++)
		CHECK_EQ(synack_tcp_recv(s[i], b, sizeof b), 4);
	for (int i = 30; i < 40; i++) { /* and they still work */
		CHECK_EQ(h_transfer(&sim, c[i], s[i], 2000, SYNACK_SEC(5)), 2000);
		CHECK_EQ(h_transfer(&sim, s[i], c[i], 2000, SYNACK_SEC(5)), 2000);
	}
	for (int i = 0; i < 10; i++)
		CHECK_EQ(synack_tcp_state(s[i]), SYNACK_TCP_CLOSED); /* reset */
	for (int i = 0; i < 40; i++)
		CHECK_EQ(synack_tcp_close(s[i]), 0);
	for (int i = 20; i < 40; i++)
		CHECK_EQ(synack_tcp_close(c[i]), 0);
	CHECK_EQ(synack_tcp_close(l), 0);
	synack_sim_run_until(&sim, sim.now + SYNACK_SEC(300));
	for (int i = 0; i < 2; i++)
		CHECK_EQ(synack_stack_tcb_count(sim.stack[i]), 0);
	synack_sim_destroy(&sim);
}

/* A bare ACK from the server's port PORT to the client's `cport`, put
 * into the client's stack (a delayed duplicate, or a spoofer's). */
static void inject_ack(synack_sim *sim, uint16_t cport, uint32_t seq, uint32_t ack)
{
	uint8_t seg[100], pkt[200];
	struct wire_tcp h = {
	    .sport = PORT, .dport = cport, .seq = seq, .ack = ack, .flags = SYNACK_TCP_ACK, .wnd = 65535};
	h.opt.wscale = -1;
	struct bbuf b = bbuf_make(seg, sizeof seg);
	wire_tcp_emit(&b, &h, 0);
	synack_addr src = h_ep(H_SERVER, PORT).addr, dst = h_ep(H_CLIENT, 0).addr;
	wire_tcp_set_csum(seg, b.len, &src, &dst);
	struct bbuf p = bbuf_make(pkt, sizeof pkt);
	wire_ipv4_emit(&p, &src, &dst, WIRE_PROTO_TCP, 64, 1, 0, b.len);
	bbuf_put(&p, seg, b.len);
	CHECK(bbuf_ok(&p));
	synack_stack_input(sim->stack[H_CLIENT], pkt, p.len, sim->now);
}

/* One exchange closed by the client first: its compact TIME-WAIT. */
static struct tcb *time_wait_conn(synack_sim *sim, synack_tcp *l)
{
	synack_endpoint sep = h_ep(H_SERVER, PORT), cep;
	synack_tcp *c, *s = NULL;
	CHECK_EQ(synack_tcp_connect(sim->stack[H_CLIENT], &sep, NULL, &c), 0);
	CHECK(H_RUN_UNTIL(sim, synack_tcp_accept(l, &s) == 0, SYNACK_SEC(5)));
	synack_tcp_endpoints(c, &cep, NULL);
	CHECK_EQ(synack_tcp_close(c), 0);
	CHECK(H_RUN_UNTIL(sim, synack_tcp_state(s) == SYNACK_TCP_CLOSE_WAIT, SYNACK_SEC(5)));
	CHECK_EQ(synack_tcp_close(s), 0);
	synack_sim_run_until(sim, sim->now + SYNACK_MSEC(100));
	struct tcb *t = tcb_lookup(sim->stack[H_CLIENT], &cep, &sep);
	CHECK(t && t->state == SYNACK_TCP_TIME_WAIT && tcb_compact_tw(t));
	return t;
}

/* A stray segment that is not a FIN (here an exact duplicate of the
 * peer's last ACK, every 50 s) gives a compact TIME-WAIT its extension
 * back for a moment, but not a later deadline: with newer TIME-WAITs
 * entering meanwhile, it still ends 2*MSL after it began (found in
 * review: compacting it anew at the back of tw_timers raised its deadline
 * to the newest one's each time, and it never ended). */
TEST(stray_segments_do_not_prolong_a_time_wait)
{
	synack_sim sim;
	synack_tcp *l;
	CHECK_EQ(synack_sim_init(&sim, 21, NULL, NULL, NULL), 0);
	synack_endpoint sep = h_ep(H_SERVER, PORT);
	CHECK_EQ(synack_tcp_listen(sim.stack[H_SERVER], &sep, 16, &l), 0);
	synack_time_t two_msl = 2 * sim.stack[H_CLIENT]->cfg.tcp.msl;
	struct tcb *a = time_wait_conn(&sim, l);
	synack_endpoint aep = a->local;
	uint32_t a_id = a->id, a_rcv = a->rcv_nxt, a_snd = a->snd_nxt;
	synack_time_t a_end = tcb_time_wait_end(a);
	CHECK(a_end <= sim.now + two_msl);
	int rounds = 0;
	for (; rounds < 6; rounds++) {
		synack_sim_run_until(&sim, sim.now + SYNACK_SEC(50));
		time_wait_conn(&sim, l);
		a = tcb_lookup(sim.stack[H_CLIENT], &aep, &sep);
		if (!a || a->id != a_id)
			break;
		inject_ack(&sim, aep.port, a_rcv, a_snd);
		synack_sim_run_until(&sim, sim.now + SYNACK_MSEC(1));
		CHECK(tcb_time_wait_end(a) <= a_end + SYNACK_SEC(1));
	}
	CHECK_EQ(rounds, 2); /* gone between 100 and 150 s: at a_end */
	CHECK(sim.now > a_end);
	synack_sim_destroy(&sim);
}
