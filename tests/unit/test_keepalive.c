/* Keepalive (RFC 9293 §3.8.4, RFC 1122 §4.2.3.6) through the public API,
 * between two synack stacks on the in-memory link: the option checks, a
 * live peer that answers probes for hours, a peer that vanishes, and the
 * IP_TTL/IP_TOS options beside them (segment-exact checks are in
 * tests/pkt/keepalive/ and tests/pkt/sockopts/). */
#include "harness.h"
#include "unit.h"

static void sim_up(synack_sim *sim, uint64_t seed)
{
	CHECK_EQ(synack_sim_init(sim, seed, NULL, NULL, NULL), 0);
}

static int getopt_v(synack_tcp *c, int opt)
{
	int v = -12345;
	CHECK_EQ(synack_tcp_getopt(c, opt, &v), 0);
	return v;
}

TEST(keepalive_options_defaults_and_limits)
{
	synack_sim sim;
	synack_tcp *l, *c, *s;
	sim_up(&sim, 1);
	CHECK_EQ(h_establish(&sim, 80, &l, &c, &s), 0);
	CHECK_EQ(getopt_v(c, SYNACK_TCP_KEEPALIVE), 0); /* RFC 1122: MUST default to off */
	CHECK_EQ(getopt_v(c, SYNACK_TCP_KEEPIDLE), 7200);
	CHECK_EQ(getopt_v(c, SYNACK_TCP_KEEPINTVL), 75);
	CHECK_EQ(getopt_v(c, SYNACK_TCP_KEEPCNT), 9);
	CHECK_EQ(synack_tcp_setopt(c, SYNACK_TCP_KEEPIDLE, 0), -EINVAL);
	CHECK_EQ(synack_tcp_setopt(c, SYNACK_TCP_KEEPIDLE, 32768), -EINVAL);
	CHECK_EQ(synack_tcp_setopt(c, SYNACK_TCP_KEEPINTVL, 0), -EINVAL);
	CHECK_EQ(synack_tcp_setopt(c, SYNACK_TCP_KEEPCNT, 0), -EINVAL);
	CHECK_EQ(synack_tcp_setopt(c, SYNACK_TCP_KEEPCNT, 128), -EINVAL);
	CHECK_EQ(synack_tcp_setopt(c, SYNACK_TCP_KEEPIDLE, 32767), 0);
	CHECK_EQ(synack_tcp_setopt(c, SYNACK_TCP_KEEPCNT, 127), 0);
	CHECK_EQ(getopt_v(c, SYNACK_TCP_KEEPIDLE), 32767);
	CHECK_EQ(synack_tcp_setopt(c, SYNACK_TCP_TTL, 256), -EINVAL);
	CHECK_EQ(synack_tcp_setopt(c, SYNACK_TCP_TTL, 9), 0);
	CHECK_EQ(getopt_v(c, SYNACK_TCP_TTL), 9);
	CHECK_EQ(synack_tcp_setopt(c, SYNACK_TCP_TTL, -1), 0);
	CHECK_EQ(getopt_v(c, SYNACK_TCP_TTL), 64);
	CHECK_EQ(synack_tcp_setopt(c, SYNACK_TCP_TOS, 0xbb), 0);
	CHECK_EQ(getopt_v(c, SYNACK_TCP_TOS), 0xb8); /* the ECN bits are TCP's */
	/* a listener's settings pass to the connections it accepts */
	CHECK_EQ(synack_tcp_setopt(l, SYNACK_TCP_KEEPALIVE, 1), 0);
	CHECK_EQ(synack_tcp_setopt(l, SYNACK_TCP_KEEPINTVL, 5), 0);
	synack_endpoint dst = {.port = 80};
	synack_addr_parse("10.0.0.2", &dst.addr);
	synack_tcp *c2, *s2;
	CHECK_EQ(synack_tcp_connect(sim.stack[0], &dst, NULL, &c2), 0);
	CHECK(H_RUN_UNTIL(&sim, synack_tcp_accept(l, &s2) == 0, SYNACK_SEC(5)));
	CHECK_EQ(getopt_v(s2, SYNACK_TCP_KEEPALIVE), 1);
	CHECK_EQ(getopt_v(s2, SYNACK_TCP_KEEPINTVL), 5);
	CHECK_EQ(getopt_v(s, SYNACK_TCP_KEEPALIVE), 0); /* accepted before */
	synack_sim_destroy(&sim);
}

/* A peer that is there answers every probe (the probe's sequence number
 * is old, so RFC 9293 §3.10.7.4 makes it send an ACK): the connection
 * lives on with nothing else to say. */
TEST(keepalive_answered_keeps_the_connection)
{
	synack_sim sim;
	synack_tcp *l, *c, *s;
	sim_up(&sim, 2);
	CHECK_EQ(h_establish(&sim, 80, &l, &c, &s), 0);
	CHECK_EQ(synack_tcp_setopt(c, SYNACK_TCP_KEEPIDLE, 60), 0);
	CHECK_EQ(synack_tcp_setopt(c, SYNACK_TCP_KEEPALIVE, 1), 0);
	synack_sim_run_until(&sim, sim.now + SYNACK_SEC(3600));
	CHECK_EQ(synack_tcp_state(c), SYNACK_TCP_ESTABLISHED);
	CHECK_EQ(synack_tcp_state(s), SYNACK_TCP_ESTABLISHED);
	/* one probe a minute, each answered */
	CHECK_EQ(synack_stack_counter(sim.stack[0], SYNACK_CNT_TCP_KEEPALIVE_PROBES), 60);
	CHECK_EQ(synack_stack_counter(sim.stack[0], SYNACK_CNT_TCP_KEEPALIVE_TIMEOUTS), 0);
	CHECK_EQ(synack_stack_counter(sim.stack[1], SYNACK_CNT_TCP_KEEPALIVE_PROBES), 0);
	CHECK_EQ(h_transfer(&sim, c, s, 1000, SYNACK_SEC(5)), 1000);
	synack_sim_destroy(&sim);
}

static void deaf(void *ctx, const uint8_t *frame, size_t len, synack_time_t now)
{
	(void)ctx, (void)frame, (void)len, (void)now;
}

/* A peer that vanished without a word: after idle + count x interval the
 * connection ends with ETIMEDOUT, and its memory comes back. */
TEST(keepalive_vanished_peer_times_out)
{
	synack_sim sim;
	synack_tcp *l, *c, *s;
	sim_up(&sim, 3);
	CHECK_EQ(h_establish(&sim, 80, &l, &c, &s), 0);
	CHECK_EQ(synack_tcp_setopt(c, SYNACK_TCP_KEEPIDLE, 100), 0);
	CHECK_EQ(synack_tcp_setopt(c, SYNACK_TCP_KEEPINTVL, 10), 0);
	CHECK_EQ(synack_tcp_setopt(c, SYNACK_TCP_KEEPCNT, 4), 0);
	CHECK_EQ(synack_tcp_setopt(c, SYNACK_TCP_KEEPALIVE, 1), 0);
	synack_time_t t0 = sim.now;
	synack_memlink_attach(sim.link, 1, deaf, NULL); /* the server's host is gone */
	synack_sim_run_until(&sim, t0 + SYNACK_SEC(139));
	CHECK_EQ(synack_tcp_state(c), SYNACK_TCP_ESTABLISHED);
	CHECK_EQ(synack_stack_counter(sim.stack[0], SYNACK_CNT_TCP_KEEPALIVE_PROBES), 4);
	synack_sim_run_until(&sim, t0 + SYNACK_SEC(141));
	CHECK_EQ(synack_tcp_state(c), SYNACK_TCP_CLOSED);
	CHECK_EQ(synack_tcp_error(c), -ETIMEDOUT);
	CHECK(synack_tcp_pending(c) & SYNACK_EV_ERROR);
	uint8_t b;
	CHECK_EQ(synack_tcp_recv(c, &b, 1), -ETIMEDOUT);
	CHECK_EQ(synack_stack_counter(sim.stack[0], SYNACK_CNT_TCP_KEEPALIVE_TIMEOUTS), 1);
	CHECK_EQ(synack_stack_counter(sim.stack[0], SYNACK_CNT_TCP_TIMEOUTS), 0);
	CHECK_EQ(synack_tcp_close(c), 0);
	CHECK_EQ(synack_stack_tcb_count(sim.stack[0]), 0);
	synack_sim_destroy(&sim);
}
