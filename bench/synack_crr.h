/* The synack side of the CRR job (connect, 1-byte request, 1-byte response,
 * close started by the client), shared by bench/crr.c and bench/lwip.c so
 * that both drive synack the same way.
 *
 * Two stacks on the in-memory link (synack_sim, perfect link, no delay),
 * driven from this one thread. Virtual time follows the wall clock, so
 * TIME-WAIT lasts as long as it would in real life and piles up. Clients
 * use ephemeral ports; if the stack runs out of them (-EADDRNOTAVAIL,
 * -EADDRINUSE or -EAGAIN), the previous exchange is let finish, virtual
 * time jumps to the next deadline (the oldest TIME-WAIT expiring) and the
 * connect is retried; such jumps are counted and reported.
 *
 * Notes and errors start with the caller's tag ("crr", "lwip_crr"). */
#ifndef SYNACK_BENCH_SYNACK_CRR_H
#define SYNACK_BENCH_SYNACK_CRR_H

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "synack/sim.h"
#include "synack/tcp.h"

#define CRR_WARMUP 500
#define CRR_PORT   8080

struct crr {
	const char *tag;
	synack_sim sim;
	synack_tcp *lis;
	synack_tcp *cli; /* the client connection in progress, or NULL */
	synack_endpoint srv;
	double t0;	    /* wall clock origin of virtual time */
	synack_time_t skew; /* virtual time added by port-exhaustion jumps */
	long done;	    /* completed client exchanges */
	long open_srv;	    /* server handles not yet closed */
	long jumps;
	int drain; /* ports exhausted: no connect until open_srv is 0 and time jumped */
	int failed;
};

static synack_time_t crr_clock(const struct crr *b)
{
	return (synack_time_t)((wall_sec() - b->t0) * 1e6) + b->skew;
}

static void crr_fail(struct crr *b, const char *what, long rc)
{
	if (!b->failed)
		fprintf(stderr, "%s: synack %s: %s (after %ld connections)\n", b->tag, what,
			strerror((int)-rc), b->done);
	b->failed = 1;
}

static void srv_readable(struct crr *b, synack_tcp *s)
{
	char buf[64];
	ssize_t n;
	while ((n = synack_tcp_recv(s, buf, sizeof buf)) > 0)
		if (synack_tcp_send(s, buf, (size_t)n) != n)
			crr_fail(b, "server send", -EIO);
	if (n != -EAGAIN) { /* EOF (0) or an error */
		if (n < 0)
			crr_fail(b, "server recv", n);
		synack_tcp_close(s);
		b->open_srv--;
	}
}

static void srv_accept(struct crr *b)
{
	synack_tcp *s;
	while (synack_tcp_accept(b->lis, &s) == 0) {
		b->open_srv++;
		srv_readable(b, s);
	}
}

static void srv_events(struct crr *b)
{
	synack_tcp *s;
	uint32_t ev;
	while ((s = synack_stack_next_event(b->sim.stack[1], &ev)) != NULL) {
		if (s == b->lis)
			srv_accept(b);
		else if (ev &
			 (SYNACK_EV_READABLE | SYNACK_EV_PEER_CLOSED | SYNACK_EV_RESET | SYNACK_EV_ERROR))
			srv_readable(b, s);
	}
}

static void cli_event(struct crr *b, uint32_t ev)
{
	char c = 'q';
	if (ev & SYNACK_EV_CONNECTED) {
		ssize_t n = synack_tcp_send(b->cli, &c, 1);
		if (n != 1)
			crr_fail(b, "client send", n < 0 ? n : -EIO);
	}
	if (ev & (SYNACK_EV_RESET | SYNACK_EV_ERROR))
		crr_fail(b, "client event", synack_tcp_error(b->cli));
	if (!(ev & SYNACK_EV_READABLE))
		return;
	ssize_t n = synack_tcp_recv(b->cli, &c, 1);
	if (n == -EAGAIN)
		return;
	if (n != 1)
		crr_fail(b, "client recv", n < 0 ? n : -EIO);
	synack_tcp_close(b->cli);
	b->cli = NULL;
	b->done++;
}

static void cli_events(struct crr *b)
{
	synack_tcp *s;
	uint32_t ev;
	while ((s = synack_stack_next_event(b->sim.stack[0], &ev)) != NULL)
		if (s == b->cli)
			cli_event(b, ev);
}

static int port_exhausted(int rc)
{
	return rc == -EADDRNOTAVAIL || rc == -EADDRINUSE || rc == -EAGAIN;
}

/* Start the next client connection. If the ephemeral ports are exhausted,
 * first let the previous exchange finish (server close, last ACK: drain),
 * then jump virtual time to the next deadline (the oldest TIME-WAIT
 * expiring) and let the caller retry: one search of the port range each
 * time they run out, not one per step while the exchange finishes. */
static void cli_start(struct crr *b)
{
	if (b->drain) { /* once nothing is due now */
		synack_time_t next = synack_sim_next(&b->sim);
		if (next != SYNACK_TIME_NEVER && next > b->sim.now) {
			b->skew += next - b->sim.now;
			b->jumps++;
			b->drain = 0;
		}
		return;
	}
	int rc = synack_tcp_connect(b->sim.stack[0], &b->srv, NULL, &b->cli);
	if (rc == 0)
		return;
	b->cli = NULL;
	if (!port_exhausted(rc) || synack_sim_next(&b->sim) == SYNACK_TIME_NEVER) {
		crr_fail(b, "connect", rc);
		return;
	}
	b->drain = 1;
}

/* Run until `target` exchanges are complete (and their server sides closed). */
static void crr_pump(struct crr *b, long target)
{
	while (!b->failed && (b->done < target || b->open_srv > 0 || b->cli)) {
		if (!b->cli && b->done < target && !(b->drain && b->open_srv > 0))
			cli_start(b);
		synack_sim_step(&b->sim, crr_clock(b));
		srv_events(b);
		cli_events(b);
	}
}

/* offload: the link takes the checksums (SYNACK_OFFLOAD_TX_CSUM), as the
 * kernel's loopback does; off where the baseline computes them (lwIP). */
static int crr_setup(struct crr *b, const char *tag, int offload)
{
	synack_stack_config cfg[2];
	memset(b, 0, sizeof *b);
	b->tag = tag;
	for (int i = 0; i < 2; i++) {
		synack_stack_config_init(&cfg[i]);
		cfg[i].addr = synack_addr_ipv4(10, 0, 0, (uint8_t)(i + 1));
		cfg[i].prefix_len = 24;
		/* room for every TIME-WAIT TCB a run can leave behind */
		if (cfg[i].tcp.max_connections < 1u << 21)
			cfg[i].tcp.max_connections = 1u << 21; /* and a million idle (crr_1m) */
		if (offload)
			cfg[i].offload = SYNACK_OFFLOAD_TX_CSUM | SYNACK_OFFLOAD_TSO;
	}
	b->t0 = wall_sec();
	int rc = synack_sim_init(&b->sim, 1, NULL, &cfg[0], &cfg[1]);
	if (rc < 0) {
		fprintf(stderr, "%s: synack_sim_init: %s\n", tag, strerror(-rc));
		return -1;
	}
	b->srv.addr = synack_addr_ipv4(10, 0, 0, 2);
	b->srv.port = CRR_PORT;
	rc = synack_tcp_listen(b->sim.stack[1], &b->srv, 1024, &b->lis);
	if (rc < 0) {
		fprintf(stderr, "%s: synack_tcp_listen: %s\n", tag, strerror(-rc));
		synack_sim_destroy(&b->sim);
		return -1;
	}
	return 0;
}

#define CRR_IDLE_PORT	  9000
#define CRR_IDLE_PER_PORT 50000
#define CRR_IDLE_BATCH	  4096

/* Open `idle` connections beside the job, established and accepted, that
 * stay idle through it (crr_1m: every per-segment operation must cost the
 * same with a million of them). Clients bind explicit ports 1024.. towards
 * listeners CRR_IDLE_PORT + i / CRR_IDLE_PER_PORT, so the job's ephemeral
 * ports stay free. The handles are kept (and freed with the sim). 0 or -1. */
static int crr_open_idle(struct crr *b, long idle)
{
	synack_endpoint remote = {.addr = synack_addr_ipv4(10, 0, 0, 2)};
	synack_endpoint local = {.addr = synack_addr_ipv4(10, 0, 0, 1)};
	long opened = 0, connected = 0, accepted = 0;
	for (long i = 0; i < idle; i += CRR_IDLE_PER_PORT) {
		synack_tcp *l;
		remote.port = (uint16_t)(CRR_IDLE_PORT + i / CRR_IDLE_PER_PORT);
		int rc = synack_tcp_listen(b->sim.stack[1], &remote, 4096, &l);
		if (rc < 0)
			return crr_fail(b, "idle listen", rc), -1;
	}
	while (!b->failed && accepted < idle) {
		for (long end = opened + CRR_IDLE_BATCH; opened < idle && opened < end; opened++) {
			synack_tcp *c;
			remote.port = (uint16_t)(CRR_IDLE_PORT + opened / CRR_IDLE_PER_PORT);
			local.port = (uint16_t)(1024 + opened % CRR_IDLE_PER_PORT);
			int rc = synack_tcp_connect(b->sim.stack[0], &remote, &local, &c);
			if (rc < 0)
				return crr_fail(b, "idle connect", rc), -1;
		}
		synack_sim_step(&b->sim, crr_clock(b));
		synack_tcp *s, *a;
		uint32_t ev;
		while ((s = synack_stack_next_event(b->sim.stack[0], &ev)) != NULL) {
			connected += !!(ev & SYNACK_EV_CONNECTED);
			if (ev & (SYNACK_EV_RESET | SYNACK_EV_ERROR))
				crr_fail(b, "idle client", synack_tcp_error(s));
		}
		while ((s = synack_stack_next_event(b->sim.stack[1], &ev)) != NULL)
			while (synack_tcp_accept(s, &a) == 0)
				accepted++;
	}
	/* what is left of the handshakes (the last ACKs) */
	while (!b->failed && connected < idle && synack_sim_step(&b->sim, crr_clock(b))) {
		synack_tcp *s;
		uint32_t ev;
		while ((s = synack_stack_next_event(b->sim.stack[0], &ev)) != NULL)
			connected += !!(ev & SYNACK_EV_CONNECTED);
	}
	/* idle for two seconds of virtual time: each gives its extension back
	 * after one (TCP_IDLE_DELAY) */
	b->skew += SYNACK_SEC(2);
	synack_sim_run_until(&b->sim, crr_clock(b));
	return b->failed ? -1 : 0;
}

/* Connections per second for synack over n connections (after CRR_WARMUP)
 * with `idle` idle connections open beside them, or a negative value on
 * failure. */
static double synack_crr_idle(const char *tag, long n, int offload, long idle)
{
	static struct crr b;
	if (crr_setup(&b, tag, offload) < 0)
		return -1;
	if (idle > 0) {
		double t = wall_sec();
		if (crr_open_idle(&b, idle) < 0) {
			synack_sim_destroy(&b.sim);
			return -1;
		}
		fprintf(stderr, "# %s: %ld idle connections open (%.1f s), %zu + %zu TCBs\n", tag, idle,
			wall_sec() - t, synack_stack_tcb_count(b.sim.stack[0]),
			synack_stack_tcb_count(b.sim.stack[1]));
	}
	crr_pump(&b, CRR_WARMUP);
	double t0 = wall_sec();
	crr_pump(&b, CRR_WARMUP + n);
	double secs = wall_sec() - t0;
	if (!b.failed)
		fprintf(stderr,
			"# %s: synack %ld connections in %.3f s, %zu TCBs left on the client "
			"(TIME-WAIT), %ld TIME-WAIT expiry jumps, %llu drops\n",
			tag, n, secs, synack_stack_tcb_count(b.sim.stack[0]), b.jumps,
			(unsigned long long)(synack_stack_drops(b.sim.stack[0]) +
					     synack_stack_drops(b.sim.stack[1])));
	synack_tcp_close(b.lis);
	synack_sim_destroy(&b.sim);
	return b.failed ? -1 : n / secs;
}

static double synack_crr(const char *tag, long n, int offload)
{
	return synack_crr_idle(tag, n, offload, 0);
}

#endif
