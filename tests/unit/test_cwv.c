/* Congestion window validation (RFC 7661, src/tcp/tcp_cwv.c) between two
 * synack stacks in virtual time: a sender that grew its cwnd and then went
 * quiet keeps it for the non-validated period (5 minutes) and no longer:
 * resuming after that, cwnd is halved (not below the initial window) and
 * ssthresh keeps three quarters of it (§4.4.3), once per period. */
#include "harness.h"
#include "unit.h"

/* 20 Mbit/s, 20 ms round trip: a few hundred kB of window to grow into. */
static const synack_impair path = {.delay = SYNACK_MSEC(10), .rate_bps = 20000000, .queue_limit = 1000};

struct pair {
	synack_sim sim;
	synack_tcp *l, *c, *s;
};

static void up(struct pair *p, uint8_t cwv)
{
	synack_stack_config cfg[2];
	for (int i = 0; i < 2; i++) {
		synack_stack_config_init(&cfg[i]);
		cfg[i].tcp.cwv = cwv;
	}
	CHECK_EQ(synack_sim_init(&p->sim, 11, &path, &cfg[0], &cfg[1]), 0);
	CHECK_EQ(h_establish(&p->sim, 80, &p->l, &p->c, &p->s), 0);
	/* 2 MiB: slow start takes cwnd well past the initial window */
	CHECK_EQ(h_transfer(&p->sim, p->c, p->s, 2u << 20, SYNACK_SEC(60)), 2u << 20);
}

static void down(struct pair *p)
{
	synack_tcp_close(p->c);
	synack_tcp_close(p->s);
	synack_tcp_close(p->l);
	synack_sim_destroy(&p->sim);
}

static synack_tcp_info info(synack_tcp *c)
{
	synack_tcp_info i;
	CHECK_EQ(synack_tcp_get_info(c, &i), 0);
	return i;
}

/* Pause for `idle`, then send 1000 bytes; the client's state after. */
static synack_tcp_info resume_after(struct pair *p, synack_time_t idle)
{
	synack_sim_run_until(&p->sim, p->sim.now + idle);
	CHECK_EQ(h_transfer(&p->sim, p->c, p->s, 1000, SYNACK_SEC(5)), 1000u);
	return info(p->c);
}

TEST(window_kept_through_a_pause_shorter_than_the_period)
{
	struct pair p;
	up(&p, 1);
	synack_tcp_info before = info(p.c);
	CHECK(before.cwnd > 4 * 14600);
	synack_tcp_info after = resume_after(&p, SYNACK_SEC(120));
	CHECK_EQ(after.cwnd, before.cwnd);
	CHECK_EQ(synack_stack_counter(p.sim.stack[H_CLIENT], SYNACK_CNT_TCP_CWV_REDUCTIONS), 0u);
	down(&p);
}

TEST(window_halved_after_the_non_validated_period)
{
	struct pair p;
	up(&p, 1);
	synack_tcp_info before = info(p.c);
	CHECK(before.cwnd > 4 * 14600);
	synack_tcp_info after = resume_after(&p, SYNACK_SEC(301));
	printf("    cwnd %u -> %u, ssthresh %u -> %u\n", before.cwnd, after.cwnd, before.ssthresh,
	       after.ssthresh);
	CHECK_EQ(after.cwnd, before.cwnd / 2);
	CHECK(after.ssthresh >= before.cwnd / 4 * 3);
	CHECK_EQ(synack_stack_counter(p.sim.stack[H_CLIENT], SYNACK_CNT_TCP_CWV_REDUCTIONS), 1u);
	/* ten more minutes: two more periods over, one reduction each
	 * (§4.5.2), not below the initial window */
	synack_tcp_info later = resume_after(&p, SYNACK_SEC(601));
	CHECK_EQ(later.cwnd, after.cwnd / 4);
	CHECK_EQ(synack_stack_counter(p.sim.stack[H_CLIENT], SYNACK_CNT_TCP_CWV_REDUCTIONS), 3u);
	down(&p);
}

TEST(window_kept_for_ever_with_validation_off)
{
	struct pair p;
	up(&p, 0);
	synack_tcp_info before = info(p.c);
	synack_tcp_info after = resume_after(&p, SYNACK_SEC(3600));
	CHECK_EQ(after.cwnd, before.cwnd);
	CHECK_EQ(synack_stack_counter(p.sim.stack[H_CLIENT], SYNACK_CNT_TCP_CWV_REDUCTIONS), 0u);
	down(&p);
}
