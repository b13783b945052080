/* Transfers over the impaired in-memory link, one per seed: 1% to 20% loss,
 * duplication, reordering, corruption and jitter. For every seed, every
 * byte must arrive exactly once and in order (FNV-1a hash of the stream),
 * both ends must reach CLOSED, and every allocation must come back. A
 * failing seed is printed so it can be replayed:
 *   build/tests/sim_transfer SEED_FIRST COUNT */
#include "harness.h"
#include "unit.h"

#include <stdlib.h>

struct flow {
	uint64_t hash_sent, hash_recv;
	size_t sent, recv, total;
	bool eof;
};

static uint64_t fnv(uint64_t h, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

static void pump_send(synack_tcp *c, struct flow *f, synack_prng *rng)
{
	uint8_t buf[8192];
	while (f->sent < f->total) {
		size_t n = f->total - f->sent < sizeof buf ? f->total - f->sent : sizeof buf;
		for (size_t i = 0; i < n; i++)
			buf[i] = (uint8_t)synack_prng_next(rng);
		ssize_t r = synack_tcp_send(c, buf, n);
		if (r <= 0)
			return;
		/* the stream is exactly what send() accepted; a refused tail is
		 * replaced by fresh random bytes next time */
		f->hash_sent = fnv(f->hash_sent, buf, (size_t)r);
		f->sent += (size_t)r;
		if ((size_t)r < n)
			return;
	}
}

static void pump_recv(synack_tcp *c, struct flow *f)
{
	uint8_t buf[16384];
	ssize_t r;
	while ((r = synack_tcp_recv(c, buf, sizeof buf)) > 0) {
		f->hash_recv = fnv(f->hash_recv, buf, (size_t)r);
		f->recv += (size_t)r;
	}
	if (r == 0)
		f->eof = true;
}

struct run {
	synack_sim sim;
	synack_tcp *l, *c, *s;
	struct flow up, down; /* client->server, server->client */
	synack_prng data_rng;
	bool c_shut, s_closed, c_closed;
};

static uint64_t total_rexmit, total_bytes;
static synack_time_t total_vtime;

static int run_seed(uint64_t seed, char *why, size_t whylen)
{
	struct run R = {0};
	synack_prng p;
	synack_prng_seed(&p, seed ^ 0x5eed);
	synack_impair im = {
		.loss = 0.01 + 0.19 * synack_prng_unit(&p),
		.duplicate = 0.03 * synack_prng_unit(&p),
		.reorder = 0.05 * synack_prng_unit(&p),
		.corrupt = 0.01 * synack_prng_unit(&p),
		.delay = SYNACK_MSEC(1 + synack_prng_below(&p, 20)),
		.jitter = SYNACK_USEC(synack_prng_below(&p, 2000)),
		.reorder_delay = SYNACK_MSEC(3),
	};
	R.up.total = 20000 + synack_prng_below(&p, 200000);
	R.down.total = 1000 + synack_prng_below(&p, 100000);
	R.up.hash_sent = R.up.hash_recv = R.down.hash_sent = R.down.hash_recv = 0xcbf29ce484222325ull;
	synack_prng_seed(&R.data_rng, seed);
	if (synack_sim_init(&R.sim, seed, &im, NULL, NULL))
		return snprintf(why, whylen, "sim init"), -1;
	size_t base[2];
	for (int i = 0; i < 2; i++)
		synack_stack_memory(R.sim.stack[i], NULL, &base[i]);
	synack_endpoint sep = h_ep(H_SERVER, 443);
	synack_tcp_listen(R.sim.stack[1], &sep, 8, &R.l);
	synack_tcp_connect(R.sim.stack[0], &sep, NULL, &R.c);
	synack_time_t limit = SYNACK_SEC(3600);
	int rc = 0;
	while (R.sim.now < limit) {
		if (!R.s && synack_tcp_accept(R.l, &R.s) == 0)
			synack_tcp_close(R.l), R.l = NULL;
		/* a handle is only valid until it is closed */
		if (!R.c_closed && synack_tcp_state(R.c) == SYNACK_TCP_CLOSED && synack_tcp_error(R.c)) {
			snprintf(why, whylen, "client error %d", synack_tcp_error(R.c));
			rc = -1;
			break;
		}
		if (!R.c_closed && synack_tcp_state(R.c) >= SYNACK_TCP_ESTABLISHED) {
			pump_send(R.c, &R.up, &R.data_rng);
			if (R.up.sent == R.up.total && !R.c_shut)
				R.c_shut = synack_tcp_shutdown(R.c, SYNACK_SHUT_WR) == 0;
			pump_recv(R.c, &R.down);
			if (R.down.eof) {
				synack_tcp_close(R.c);
				R.c_closed = true;
			}
		}
		if (R.s && !R.s_closed) {
			pump_recv(R.s, &R.up);
			if (R.up.eof)
				pump_send(R.s, &R.down, &R.data_rng);
			if (R.up.eof && R.down.sent == R.down.total) {
				synack_tcp_close(R.s);
				R.s_closed = true;
			}
		}
		if (R.c_closed && R.s_closed && synack_stack_tcb_count(R.sim.stack[0]) == 0 &&
		    synack_stack_tcb_count(R.sim.stack[1]) == 0)
			break;
		uint32_t ev;
		while (synack_stack_next_event(R.sim.stack[0], &ev) || synack_stack_next_event(R.sim.stack[1], &ev))
			;
		if (!synack_sim_step(&R.sim, limit))
			break;
	}
	if (!rc && (R.up.recv != R.up.total || R.up.hash_recv != R.up.hash_sent))
		snprintf(why, whylen, "upstream %zu/%zu bytes, hash %s", R.up.recv, R.up.total,
			 R.up.hash_recv == R.up.hash_sent ? "ok" : "differs"), rc = -1;
	else if (!rc && (R.down.recv != R.down.total || R.down.hash_recv != R.down.hash_sent))
		snprintf(why, whylen, "downstream %zu/%zu bytes, hash %s", R.down.recv, R.down.total,
			 R.down.hash_recv == R.down.hash_sent ? "ok" : "differs"), rc = -1;
	else if (!rc && (synack_stack_tcb_count(R.sim.stack[0]) || synack_stack_tcb_count(R.sim.stack[1])))
		snprintf(why, whylen, "TCBs left: %zu/%zu at t=%.1fs", synack_stack_tcb_count(R.sim.stack[0]),
			 synack_stack_tcb_count(R.sim.stack[1]), R.sim.now / 1e6), rc = -1;
	for (int i = 0; i < 2 && !rc; i++) {
		size_t blocks;
		synack_stack_memory(R.sim.stack[i], NULL, &blocks);
		if (blocks > base[i] + 3) /* two tables' buckets and the timer heap stay */
			snprintf(why, whylen, "stack %d holds %zu blocks, %zu at start", i, blocks, base[i]), rc = -1;
	}
	total_rexmit += synack_stack_counter(R.sim.stack[0], SYNACK_CNT_TCP_RETRANSMITS) +
			synack_stack_counter(R.sim.stack[1], SYNACK_CNT_TCP_RETRANSMITS);
	total_bytes += R.up.recv + R.down.recv;
	total_vtime += R.sim.now;
	if (rc && !R.c_closed)
		synack_tcp_abort(R.c);
	if (rc && R.s && !R.s_closed)
		synack_tcp_abort(R.s);
	if (R.l)
		synack_tcp_close(R.l);
	synack_sim_destroy(&R.sim);
	return rc;
}

TEST(transfer_over_impaired_link_many_seeds)
{
	uint64_t first = unit_argc > 2 ? strtoull(unit_argv[2], NULL, 0) : 1;
	uint64_t count = unit_argc > 3 ? strtoull(unit_argv[3], NULL, 0) : 240;
	int bad = 0;
	for (uint64_t s = first; s < first + count; s++) {
		char why[160];
		if (run_seed(s, why, sizeof why)) {
			if (bad++ < 10)
				printf("    seed %llu: %s (replay: build/tests/sim_transfer transfer %llu 1)\n",
				       (unsigned long long)s, why, (unsigned long long)s);
		}
	}
	printf("    %llu seeds simulated, %d failed; %llu bytes delivered, %llu retransmissions, %.0f s virtual time\n",
	       (unsigned long long)count, bad, (unsigned long long)total_bytes, (unsigned long long)total_rexmit,
	       total_vtime / 1e6);
	CHECK_EQ(bad, 0);
}
