/* Buffer auto-tuning (src/tcp/tcp_autotune.c) between two synack stacks on
 * a long fat path in virtual time: 100 Mbit/s, 50 ms round trip, so one
 * bandwidth-delay product (625 kB) is more than the default 256 KiB
 * buffers. Left to the stack, the buffers grow and the window scale on the
 * SYN is chosen for the ceiling; set by the application, they stay; and a
 * stack's total growth stays within its budget. */
#include "harness.h"
#include "unit.h"

static const synack_impair long_fat = {.delay = SYNACK_MSEC(25), .rate_bps = 100000000, .queue_limit = 1200};

static void sim_up(synack_sim *sim, uint32_t grow_total)
{
	synack_stack_config cfg[2];
	for (int i = 0; i < 2; i++) {
		synack_stack_config_init(&cfg[i]);
		if (grow_total != UINT32_MAX)
			cfg[i].tcp.buf_grow_total = grow_total;
	}
	CHECK_EQ(synack_sim_init(sim, 7, &long_fat, &cfg[0], &cfg[1]), 0);
}

/* 16 MiB client -> server; the virtual time the last 12 MiB took. */
static synack_time_t send_16m(synack_sim *sim, synack_tcp *c, synack_tcp *s)
{
	size_t four = 4u << 20;
	CHECK_EQ(h_transfer(sim, c, s, four, SYNACK_SEC(120)), four);
	synack_time_t t0 = sim->now;
	CHECK_EQ(h_transfer(sim, c, s, 3 * four, SYNACK_SEC(120)), 3 * four);
	return sim->now - t0;
}

TEST(buffers_grow_with_the_path)
{
	synack_sim sim;
	synack_tcp *l, *c, *s;
	sim_up(&sim, UINT32_MAX);
	CHECK_EQ(h_establish(&sim, 80, &l, &c, &s), 0);
	synack_tcp_info ci, si;
	CHECK_EQ(synack_tcp_get_info(s, &si), 0);
	/* RFC 7323 §2.3: the scale covers the 6 MiB ceiling, not 256 KiB */
	CHECK_EQ(si.rcv_wscale, 7);
	synack_time_t took = send_16m(&sim, c, s);
	double mbit = 12.0 * 8 * 1048576 / ((double)took / 1e6) / 1e6;
	printf("    12 MiB in %.2f s of virtual time: %.1f Mbit/s\n", took / 1e6, mbit);
	CHECK(mbit > 55); /* 256 KiB a round trip is at most 42 Mbit/s */
	CHECK_EQ(synack_tcp_get_info(c, &ci), 0);
	int rcvbuf = 0, sndbuf = 0;
	CHECK_EQ(synack_tcp_getopt(s, SYNACK_TCP_RCVBUF, &rcvbuf), 0);
	CHECK_EQ(synack_tcp_getopt(c, SYNACK_TCP_SNDBUF, &sndbuf), 0);
	CHECK(rcvbuf > 625000 && rcvbuf <= (6 << 20));
	CHECK(sndbuf > 625000 && sndbuf <= (4 << 20));
	CHECK(synack_stack_counter(sim.stack[H_SERVER], SYNACK_CNT_TCP_BUFFER_GROWTHS) > 0);
	synack_tcp_close(c);
	synack_tcp_close(s);
	synack_tcp_close(l);
	synack_sim_destroy(&sim);
}

TEST(buffers_set_by_the_application_stay)
{
	synack_sim sim;
	synack_tcp *l, *c, *s;
	sim_up(&sim, UINT32_MAX);
	synack_endpoint sep = h_ep(H_SERVER, 80);
	synack_tcp_params p = {.sndbuf = 262144, .rcvbuf = 262144};
	CHECK_EQ(synack_tcp_listen_ex(sim.stack[H_SERVER], &sep, 4, &p, &l), 0);
	CHECK_EQ(synack_tcp_connect_ex(sim.stack[H_CLIENT], &sep, NULL, &p, &c), 0);
	s = NULL;
	CHECK(H_RUN_UNTIL(&sim, synack_tcp_accept(l, &s) == 0, SYNACK_SEC(5)));
	synack_tcp_info si;
	CHECK_EQ(synack_tcp_get_info(s, &si), 0);
	CHECK_EQ(si.rcv_wscale, 3);
	synack_time_t took = send_16m(&sim, c, s);
	double mbit = 12.0 * 8 * 1048576 / ((double)took / 1e6) / 1e6;
	printf("    fixed 256 KiB: %.1f Mbit/s\n", mbit);
	CHECK(mbit < 50);
	int rcvbuf = 0;
	CHECK_EQ(synack_tcp_getopt(s, SYNACK_TCP_RCVBUF, &rcvbuf), 0);
	CHECK_EQ(rcvbuf, 262144);
	CHECK_EQ(synack_stack_counter(sim.stack[H_SERVER], SYNACK_CNT_TCP_BUFFER_GROWTHS), 0);
	synack_tcp_close(c);
	synack_tcp_close(s);
	synack_tcp_close(l);
	synack_sim_destroy(&sim);
}

TEST(growth_stays_within_the_stack_budget)
{
	synack_sim sim;
	synack_tcp *l, *c, *s;
	sim_up(&sim, 100000);
	CHECK_EQ(h_establish(&sim, 80, &l, &c, &s), 0);
	send_16m(&sim, c, s);
	int rcvbuf = 0, sndbuf = 0;
	CHECK_EQ(synack_tcp_getopt(s, SYNACK_TCP_RCVBUF, &rcvbuf), 0);
	CHECK_EQ(synack_tcp_getopt(c, SYNACK_TCP_SNDBUF, &sndbuf), 0);
	CHECK(rcvbuf <= 262144 + 100000);
	CHECK(sndbuf <= 262144 + 100000);
	synack_tcp_close(c);
	synack_tcp_close(s);
	synack_tcp_close(l);
	synack_sim_destroy(&sim);
}
