/* bench/sim_path: goodput of one connection across a simulated bottleneck,
 * in virtual time (the figures do not depend on this machine's speed).
 *
 * The path: 100 Mbit/s, 25 ms each way (50 ms RTT), a drop-tail queue of
 * one bandwidth-delay product (417 frames of 1500 bytes) in front of the
 * bottleneck, MTU 1500. The client sends; data and ACK directions are both
 * rate limited, loss is applied to the data direction only.
 *
 * Lines (NAME synack=X baseline=Y ratio=X/Y UNIT, Mbit/s):
 *   path_CC_SACK_loss0: goodput over the last three quarters of 64 MiB
 *     (after slow start), baseline the link rate; goal >= 0.9.
 *   path_CC_SACK_loss1: goodput of 16 MiB at 1% random loss, baseline the
 *     Mathis bound MSS/RTT * sqrt(3/2)/sqrt(p) for that loss and RTT
 *     (Reno's steady state; CUBIC and SACK may do better).
 * CC is cubic or newreno, SACK is sack or nosack. Buffers: the defaults
 * (256 KiB, auto-tuned up to 6 MiB receive and 4 MiB send), so the figures
 * include how fast they grow. BENCH_QUICK=1: a quarter of the bytes.
 *
 * SIM_PLOT=FILE.svg: also draw one run as tools/plot.c does for `synack
 * demo --plot`: the client's data as a tcptrace-style time-sequence graph
 * over its cwnd, ssthresh and srtt. The first run, or the one SIM_PLOT_RUN
 * names by its line's first word (SIM_PLOT_RUN=path_cubic_nosack_loss1);
 * with SIM_PATH too, a run of the custom path. The figures are the same
 * with or without it (tracing and reading tcp_info change nothing); a note
 * on stderr says what the file holds. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "../tools/plot.h"
#include "bench.h"
#include "synack/link.h"
#include "synack/stack.h"
#include "synack/tcp.h"

static uint64_t RATE_BPS = 100000000ull;
static long ONE_WAY_US = 25000;
#define MTU  1500
#define PORT 5001

static uint8_t buf[256 * 1024];
static int both_ways;
static int status; /* main's: 1 when SIM_PLOT failed */

/* SIM_PLOT: the file, opened first; the run being drawn (NULL: none). */
static struct {
	const char *path, *run; /* SIM_PLOT, SIM_PLOT_RUN (NULL: the first run) */
	FILE *f;
	struct plot *p;
} plot;
/* Trace records of the client's stack between two drains (one path step
 * and the sends after it: at most a send buffer of segments and their
 * ACKs); more are overwritten and counted (trace_lost in the note). */
enum { PLOT_TRACE_CAPACITY = 16384 };

struct path {
	synack_memlink *link;
	synack_stack *st[2];
	synack_prng rng[2];
	synack_time_t now;
};

static void rx(void *ctx, const uint8_t *frame, size_t len, synack_time_t now)
{
	synack_stack_input(ctx, frame, len, now);
}

static int path_open(struct path *p, uint64_t seed, double loss, int cc, int sack, bool trace)
{
	/* frames in flight one way (the pipe) plus one BDP of queue */
	uint32_t bdp_frames = (uint32_t)(RATE_BPS / 8 * 2 * (uint64_t)ONE_WAY_US / 1000000 / MTU) + 8;
	synack_impair data = {.loss = loss,
			      .delay = ONE_WAY_US,
			      .rate_bps = RATE_BPS,
			      .queue_limit = bdp_frames / 2 + bdp_frames};
	synack_impair acks = data;
	acks.loss = both_ways ? loss : 0;
	memset(p, 0, sizeof *p);
	if (synack_memlink_create(seed, &data, &acks, &p->link))
		return -1;
	for (int i = 0; i < 2; i++) {
		synack_stack_config cfg;
		synack_stack_config_init(&cfg);
		cfg.addr = synack_addr_ipv4(10, 0, 0, (uint8_t)(i + 1));
		cfg.mtu = MTU;
		cfg.tcp.cc = (uint8_t)cc;
		cfg.tcp.sack_enable = (uint8_t)sack;
		cfg.trace_capacity = trace && i == 0 ? PLOT_TRACE_CAPACITY : 0;
		synack_prng_seed(&p->rng[i], seed * 2 + (uint64_t)i + 1);
		cfg.rng.fill = synack_prng_fill;
		cfg.rng.ctx = &p->rng[i];
		cfg.tx = synack_memlink_tx;
		cfg.tx_ctx = synack_memlink_port(p->link, i);
		if (synack_stack_create(&cfg, 0, &p->st[i]))
			return -1;
		synack_memlink_attach(p->link, i, rx, p->st[i]);
	}
	return 0;
}

static void path_close(struct path *p)
{
	for (int i = 0; i < 2; i++)
		synack_stack_destroy(p->st[i]);
	synack_memlink_destroy(p->link);
}

static void path_step(struct path *p)
{
	synack_time_t t = synack_memlink_next_deadline(p->link);
	for (int i = 0; i < 2; i++) {
		synack_time_t d = synack_stack_next_deadline(p->st[i]);
		t = d < t ? d : t;
	}
	if (t != SYNACK_TIME_NEVER && t > p->now)
		p->now = t;
	synack_memlink_deliver(p->link, p->now);
	for (int i = 0; i < 2; i++)
		synack_stack_poll(p->st[i], p->now);
}

/* With SIM_PLOT, after each step: the client's segments, and its state
 * once established. */
static void plot_step(struct path *p, synack_tcp *c)
{
	synack_tcp_info in;
	if (!plot.p)
		return;
	plot_drain(plot.p, p->st[0]);
	if (synack_tcp_get_info(c, &in) == 0 && in.state >= SYNACK_TCP_ESTABLISHED)
		plot_add_sample(plot.p, p->now, &in);
}

/* Send total bytes; returns Mbit/s over the bytes after `skip`, or < 0. */
static double transfer(struct path *p, uint64_t total, uint64_t skip, synack_tcp_info *info)
{
	synack_tcp *l, *c, *s = NULL;
	synack_endpoint srv = {.addr = synack_addr_ipv4(10, 0, 0, 2), .port = PORT};
	if (synack_tcp_listen(p->st[1], &srv, 16, &l) || synack_tcp_connect(p->st[0], &srv, NULL, &c))
		return -1;
	uint64_t sent = 0, got = 0;
	synack_time_t t_skip = -1, limit = SYNACK_SEC(3600);
	while (got < total && p->now < limit) {
		path_step(p);
		if (!s && synack_tcp_accept(l, &s) != 0)
			s = NULL;
		while (sent < total) {
			uint64_t left = total - sent;
			ssize_t n = synack_tcp_send(c, buf, left < sizeof buf ? left : sizeof buf);
			if (n <= 0)
				break;
			sent += (uint64_t)n;
		}
		ssize_t n;
		while (s && (n = synack_tcp_recv(s, buf, sizeof buf)) > 0) {
			got += (uint64_t)n;
			if (t_skip < 0 && got >= skip)
				t_skip = p->now;
		}
		plot_step(p, c);
		if (synack_tcp_error(c))
			return -1;
	}
	synack_tcp_get_info(c, info);
	if (got < total || p->now <= t_skip)
		return -1;
	return (double)(total - skip) * 8 / ((double)(p->now - t_skip) / 1e6) / 1e6;
}

static uint64_t timeouts(struct path *p)
{
	return synack_stack_counter(p->st[0], SYNACK_CNT_TCP_RTO_EXPIRIES);
}

static uint64_t link_drops(struct path *p)
{
	synack_link_stats ls;
	synack_memlink_stats(p->link, 0, &ls);
	return ls.lost + ls.queue_drops;
}

/* A file created for a plot that will not be drawn is removed (a regular
 * file only: SIM_PLOT=/dev/null stays). */
static void plot_discard(void)
{
	struct stat st;
	if (!plot.f)
		return;
	if (fstat(fileno(plot.f), &st) == 0 && S_ISREG(st.st_mode))
		remove(plot.path);
	fclose(plot.f);
	plot.f = NULL;
}

/* SIM_PLOT: begin drawing the run `name` if it is the one asked for. */
static void plot_begin_run(const char *name, const char *cc_name, int sack, double loss, uint64_t total)
{
	char title[160], sub[200];
	if (!plot.f || (plot.run && strcmp(plot.run, name) != 0))
		return;
	snprintf(title, sizeof title,
		 "client 10.0.0.1 \u2192 server 10.0.0.2:%d: %.4g MiB, %s, %s (time-sequence graph)", PORT,
		 (double)total / (1 << 20), cc_name, sack ? "SACK" : "no SACK");
	snprintf(sub, sizeof sub, "bench/sim_path %s: %.4g Mbit/s, %.4g ms one way, %g%% loss %s, seed 42",
		 name, RATE_BPS / 1e6, ONE_WAY_US / 1e3, loss * 100, both_ways ? "each way" : "on the data");
	struct plot_opts po = {.title = title,
			       .subtitle = sub}; /* t0 0; the client's first segment's ports */
	if (plot_begin(&po, &plot.p)) {
		fprintf(stderr, "sim_path: SIM_PLOT: out of memory\n");
		plot_discard();
		status = 1;
	}
}

/* SIM_PLOT: the run drawn is over; write the file and say what it holds. */
static void plot_end_run(uint64_t trace_lost)
{
	struct plot_counts n;
	if (!plot.p)
		return;
	plot_counts(plot.p, &n);
	int err = plot_close(plot.p, plot.f);
	plot.f = NULL;
	plot_free(plot.p);
	plot.p = NULL;
	if (err) {
		fprintf(stderr, "sim_path: SIM_PLOT: writing '%s' failed\n", plot.path);
		status = 1;
		return;
	}
	fprintf(stderr,
		"#   plot %s: %zu data segments (%zu retransmitted), %zu ACKs, %zu samples, "
		"%zu points left out, %llu trace records lost\n",
		plot.path, n.data_segs, n.rexmits, n.acks, n.samples, n.left_out,
		(unsigned long long)trace_lost);
}

static void run(const char *cc_name, int cc, int sack, double loss, uint64_t total, uint64_t skip)
{
	struct path p;
	synack_tcp_info info;
	double mbit = -1;
	char name[64];
	snprintf(name, sizeof name, "path_%s_%s_loss%g", cc_name, sack ? "sack" : "nosack", loss * 100);
	plot_begin_run(name, cc_name, sack, loss, total);
	if (path_open(&p, 42, loss, cc, sack, plot.p != NULL) == 0)
		mbit = transfer(&p, total, skip, &info);
	fprintf(stderr,
		"#   %s %s loss %.0f%%: recoveries %llu, RTO expiries %llu, link drops %llu, D-SACKs %llu\n",
		cc_name, sack ? "sack" : "nosack", loss * 100,
		(unsigned long long)synack_stack_counter(p.st[0], SYNACK_CNT_TCP_FAST_RETRANSMITS),
		(unsigned long long)timeouts(&p), (unsigned long long)link_drops(&p),
		(unsigned long long)synack_stack_counter(p.st[0], SYNACK_CNT_TCP_DSACKS_RECEIVED));
	fprintf(stderr, "#     loss probes %llu (repaired %llu), lost retransmissions %llu\n",
		(unsigned long long)synack_stack_counter(p.st[0], SYNACK_CNT_TCP_LOSS_PROBES),
		(unsigned long long)synack_stack_counter(p.st[0], SYNACK_CNT_TCP_TLP_RECOVERIES),
		(unsigned long long)synack_stack_counter(p.st[0], SYNACK_CNT_TCP_RACK_LOST_RETRANSMITS));
	plot_end_run(synack_stack_counter(p.st[0], SYNACK_CNT_TRACE_LOST));
	path_close(&p);
	double rtt = 2.0 * ONE_WAY_US / 1e6;
	double mss = MTU - 40 - 12; /* timestamps on */
	double base = loss > 0 ? mss * 8 / rtt * sqrt(1.5) / sqrt(loss) / 1e6 : RATE_BPS / 1e6;
	if (mbit < 0) {
		fprintf(stderr, "sim_path: %s %s loss %.0f%%: transfer failed\n", cc_name,
			sack ? "sack" : "nosack", loss * 100);
		return;
	}
	printf("%s synack=%.1f baseline=%.1f ratio=%.2f Mbit/s\n", name, mbit, base, mbit / base);
	fprintf(stderr, "#   retransmits %u, cwnd %u, ssthresh %u, srtt %lld us\n", info.retransmits,
		info.cwnd, info.ssthresh, (long long)info.srtt);
}

/* SIM_PATH="LOSS ONE_WAY_US MBIT BOTH MB": one run of each module with
 * those settings (experiments; make bench runs the fixed set). */
static int custom(const char *spec)
{
	double loss, mbit;
	long mb;
	if (sscanf(spec, "%lf %ld %lf %d %ld", &loss, &ONE_WAY_US, &mbit, &both_ways, &mb) != 5) {
		fprintf(stderr, "sim_path: SIM_PATH wants \"LOSS ONE_WAY_US MBIT BOTH MB\"\n");
		return 1;
	}
	RATE_BPS = (uint64_t)(mbit * 1e6);
	for (int sack = 1; sack >= 0; sack--) {
		run("cubic", SYNACK_TCP_CC_CUBIC, sack, loss, (uint64_t)mb << 20, 0);
		run("newreno", SYNACK_TCP_CC_NEWRENO, sack, loss, (uint64_t)mb << 20, 0);
	}
	return 0;
}

/* SIM_PLOT and SIM_PLOT_RUN: the file is created before anything runs. */
static int plot_open(void)
{
	plot.path = getenv("SIM_PLOT");
	plot.run = getenv("SIM_PLOT_RUN");
	if (plot.run && !*plot.run)
		plot.run = NULL;
	if (!plot.path) {
		if (plot.run)
			fprintf(stderr, "sim_path: SIM_PLOT_RUN wants SIM_PLOT=FILE.svg beside it\n");
		return plot.run ? -1 : 0;
	}
	if (!*plot.path)
		return fprintf(stderr, "sim_path: SIM_PLOT: empty file name\n"), -1;
	plot.f = fopen(plot.path, "w");
	if (!plot.f)
		return fprintf(stderr, "sim_path: SIM_PLOT: cannot create '%s': %s\n", plot.path,
			       strerror(errno)),
		       -1;
	return 0;
}

/* After every run: a SIM_PLOT_RUN that named none of them is an error. */
static int plot_check(void)
{
	if (!plot.f)
		return status;
	plot_discard();
	fprintf(stderr, "sim_path: SIM_PLOT_RUN: no run named '%s' (a figure line's first word, e.g. %s)\n",
		plot.run, "path_cubic_sack_loss1");
	return 1;
}

int main(void)
{
	if (plot_open())
		return 1;
	if (getenv("SIM_PATH"))
		return custom(getenv("SIM_PATH")) ? (plot_discard(), 1) : plot_check();
	uint64_t mib = 1u << 20;
	int quick = env_long("BENCH_QUICK", 0) != 0;
	uint64_t big = (quick ? 16 : 64) * mib, small = (quick ? 4 : 16) * mib;
	fprintf(stderr, "# sim_path: 100 Mbit/s, 50 ms RTT, 1 BDP drop-tail queue, MTU 1500, virtual time\n");
	const struct {
		const char *name;
		int id;
	} ccs[] = {{"cubic", SYNACK_TCP_CC_CUBIC}, {"newreno", SYNACK_TCP_CC_NEWRENO}};
	for (int i = 0; i < 2; i++)
		for (int sack = 1; sack >= 0; sack--) {
			run(ccs[i].name, ccs[i].id, sack, 0, big, big / 4);
			run(ccs[i].name, ccs[i].id, sack, 0.01, small, 0);
		}
	return plot_check();
}
