/* Random API calls on two stacks (connect, listen, accept, send, recv,
 * close, abort, shutdown, keepalive, tcpdrop, ICMP errors on any TCB,
 * time steps around the idle delay), with and without a lossy link and
 * failing allocations, and after every step the invariants of the timer
 * heap and of the two deadline queues (tw_timers, idle_timers; tcb.c):
 * each TCB's timer node is in exactly the structure its flags say, at the
 * index it holds; no structure holds a freed TCB; the queues are in order
 * with no hole at either end and count their items right; every node in
 * the heap has an extension and a pending timer is in the heap; every
 * TCB in a table is found there. Written in review of the idle-delay and
 * TIME-WAIT queue work (it found no violation; without the idle disarm
 * in tcb.c's timer_clear it reports a freed node, then crashes). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "tcp/tcp_internal.h"
#include "net/net.h"
#include "unit.h"

struct failing {
	bool on;
	uint32_t permille;
	synack_prng rng;
	long refused;
};
static void *f_alloc(void *ctx, size_t size)
{
	struct failing *f = ctx;
	if (f->on && synack_prng_below(&f->rng, 1000) < f->permille) {
		f->refused++;
		return NULL;
	}
	return malloc(size);
}
static void f_free(void *ctx, void *p, size_t size)
{
	(void)ctx;
	(void)size;
	free(p);
}

static long violations;
#define V(cond, ...)                                                                                         \
	do {                                                                                                 \
		if (!(cond)) {                                                                               \
			if (violations++ < 20) {                                                             \
				fprintf(stderr, "VIOLATION %s:%d: %s: ", __FILE__, __LINE__, #cond);         \
				fprintf(stderr, __VA_ARGS__);                                                \
				fprintf(stderr, "\n");                                                       \
			}                                                                                    \
		}                                                                                            \
	} while (0)

static bool in_all(struct tcp_stack *ts, struct heap_node *n)
{
	for (struct tcb *t = ts->all; t; t = t->all_next)
		if (&t->timer == n)
			return true;
	return false;
}

static bool dlq_has(const struct dlq *q, uint32_t idx)
{
	if (!idx || idx > q->cap)
		return false;
	uint32_t pos = (idx - 1 - q->head) & (q->cap - 1);
	return pos < q->len;
}

static synack_time_t ext_min(const struct tcb *t)
{
	const struct tcb_ext *x = t->x;
	synack_time_t w =
	    MIN(MIN(MIN(x->t_rtx, x->t_persist), MIN(x->t_delack, x->t_close)), MIN(x->t_tlp, x->t_rack));
	return MIN(w, x->t_keep);
}

static bool strict;	 /* no allocation failed: the heap must match the extensions */
static uint64_t seen[6]; /* what the runs exercised (see run_seed's end) */

static void check_stack(synack_stack *st, const char *where)
{
	struct tcp_stack *ts = tcps(st);
	uint32_t nidle = 0, ntw = 0, nheap = 0;
	for (struct tcb *t = ts->all; t; t = t->all_next) {
		uint32_t idx = t->timer.index;
		if (t->idle_q) {
			nidle++;
			V(idx && dlq_has(&ts->idle_timers, idx) && ts->idle_timers.v[idx - 1].n == &t->timer,
			  "%s: idle_q tcb %u idx %u", where, t->id, idx);
			V(tcb_has_ext(t), "%s: idle_q without ext %u", where, t->id);
			if (idx && idx <= ts->idle_timers.cap)
				V(ts->idle_timers.v[idx - 1].when <= st->now + TCP_IDLE_DELAY,
				  "%s: idle late", where);
		} else if (tcb_compact_tw(t)) {
			ntw++;
			V(idx && dlq_has(&ts->tw_timers, idx) && ts->tw_timers.v[idx - 1].n == &t->timer,
			  "%s: compact tw %u idx %u", where, t->id, idx);
			if (idx && idx <= ts->tw_timers.cap) /* (a second late at most: tcb.c) */
				V(ts->tw_timers.v[idx - 1].when <=
				      st->now + 2 * st->cfg.tcp.msl + SYNACK_SEC(1),
				  "%s: TIME-WAIT past 2*MSL", where);
		} else if (idx) {
			nheap++;
			V(idx <= ts->timers.len && ts->timers.v[idx - 1].n == &t->timer,
			  "%s: heap tcb %u idx %u len %u", where, t->id, idx, ts->timers.len);
			V(tcb_has_ext(t), "%s: in heap without ext: tcb %u state %d", where, t->id, t->state);
		}
		if (tcb_has_ext(t) && strict) {
			synack_time_t w = ext_min(t);
			if (w != SYNACK_TIME_NEVER)
				V(idx && !t->idle_q,
				  "%s: tcb %u state %d has timer %lld but idx %u idle_q %d", where, t->id,
				  t->state, (long long)w, idx, t->idle_q);
			if (w != SYNACK_TIME_NEVER && idx && !t->idle_q && idx <= ts->timers.len)
				V(ts->timers.v[idx - 1].when == w ||
				      ts->timers.v[idx - 1].when <= st->now + 1,
				  "%s: tcb %u heap when %lld ext min %lld", where, t->id,
				  (long long)ts->timers.v[idx - 1].when, (long long)w);
		}
		if (t->in_table) {
			struct tcb *f = t->in_listeners ? tcb_lookup_listener(st, &t->local)
							: tcb_lookup(st, &t->local, &t->remote);
			V(f == t || t->in_listeners, "%s: tcb %u not found in its table", where, t->id);
		}
	}
	V(ts->idle_timers.live == nidle, "%s: idle live %u vs %u", where, ts->idle_timers.live, nidle);
	V(ts->tw_timers.live == ntw, "%s: tw live %u vs %u", where, ts->tw_timers.live, ntw);
	V(ts->timers.len == nheap, "%s: heap len %u vs %u", where, ts->timers.len, nheap);
	const struct dlq *qs[2] = {&ts->idle_timers, &ts->tw_timers};
	for (int k = 0; k < 2; k++) {
		const struct dlq *q = qs[k];
		uint32_t live = 0;
		synack_time_t prev = 0;
		for (uint32_t i = 0; i < q->len; i++) {
			struct heap_ent e = q->v[(q->head + i) & (q->cap - 1)];
			if (!e.n)
				continue;
			live++;
			V(e.when >= prev, "%s: dlq %d out of order", where, k);
			prev = e.when;
			V(in_all(ts, e.n), "%s: dlq %d holds a freed node", where, k);
			V(e.n->index == ((q->head + i) & (q->cap - 1)) + 1, "%s: dlq %d stale index", where,
			  k);
		}
		V(live == q->live, "%s: dlq %d live", where, k);
		if (q->len) {
			V(dlq_at(q, 0) && dlq_at(q, q->len - 1), "%s: dlq %d hole at an end", where, k);
		}
	}
	for (uint32_t i = 0; i < ts->timers.len; i++)
		V(in_all(ts, ts->timers.v[i].n), "%s: heap holds a freed node", where);
}

enum { NH = 48 };
struct side {
	synack_tcp *h[NH];
	synack_tcp *l[2];
};

static void add(struct side *s, synack_tcp *c)
{
	for (int i = 0; i < NH; i++)
		if (!s->h[i]) {
			s->h[i] = c;
			return;
		}
	synack_tcp_abort(c);
}

static void run_seed(uint64_t seed, bool fail, bool lossy)
{
	synack_sim sim;
	synack_stack_config cfg[2];
	struct failing f[2];
	synack_impair imp = {
	    .loss = 0.05, .delay = SYNACK_MSEC(5), .jitter = SYNACK_MSEC(3), .duplicate = 0.02};
	for (int i = 0; i < 2; i++) {
		synack_stack_config_init(&cfg[i]);
		cfg[i].addr = synack_addr_ipv4(10, 0, 0, (uint8_t)(i + 1));
		cfg[i].prefix_len = 24;
		cfg[i].tcp.msl = SYNACK_SEC(2 + (seed % 4) * 5);
		cfg[i].tcp.syncookies = (uint8_t)(seed % 3);
		cfg[i].tcp.fin_wait2_timeout = SYNACK_SEC(5);
		memset(&f[i], 0, sizeof f[i]);
		synack_prng_seed(&f[i].rng, seed * 7 + (uint64_t)i);
		f[i].permille = 30;
		cfg[i].allocator = (synack_allocator){f_alloc, f_free, &f[i]};
	}
	CHECK_EQ(synack_sim_init(&sim, seed, lossy ? &imp : NULL, &cfg[0], &cfg[1]), 0);
	synack_prng p;
	synack_prng_seed(&p, seed);
	struct side sd[2];
	memset(sd, 0, sizeof sd);
	strict = true;
	char buf[4096];
	for (int step = 0; step < 4000; step++) {
		int who = (int)synack_prng_below(&p, 2);
		struct side *s = &sd[who];
		synack_stack *st = sim.stack[who];
		int hi = (int)synack_prng_below(&p, NH);
		synack_tcp *c = s->h[hi];
		uint32_t op = synack_prng_below(&p, 21);
		if (fail) {
			bool on = synack_prng_below(&p, 10) == 0;
			f[0].on = f[1].on = on;
			if (on)
				strict = false;
		}
		char where[64];
		snprintf(where, sizeof where, "seed %llu step %d op %u", (unsigned long long)seed, step, op);
		switch (op) {
		case 0:
		case 1: { /* connect */
			synack_endpoint r = h_ep(!who, (uint16_t)(80 + synack_prng_below(&p, 2)));
			synack_endpoint lp = h_ep(who, (uint16_t)(50000 + synack_prng_below(&p, 4)));
			synack_tcp *x;
			if (synack_tcp_connect(st, &r, synack_prng_below(&p, 3) == 0 ? &lp : NULL, &x) == 0)
				add(s, x);
			break;
		}
		case 2: { /* listen */
			int k = (int)synack_prng_below(&p, 2);
			if (!s->l[k]) {
				synack_endpoint e = h_ep(who, (uint16_t)(80 + k));
				synack_tcp_listen(st, &e, (int)synack_prng_below(&p, 8) + 1, &s->l[k]);
			} else if (synack_prng_below(&p, 4) == 0) {
				if (synack_prng_below(&p, 2))
					synack_tcp_close(s->l[k]);
				else
					synack_tcp_abort(s->l[k]);
				s->l[k] = NULL;
			}
			break;
		}
		case 3:
		case 4: /* accept */
			for (int k = 0; k < 2; k++) {
				synack_tcp *x;
				while (s->l[k] && synack_tcp_accept(s->l[k], &x) == 0)
					add(s, x);
			}
			break;
		case 5:
			if (c)
				synack_tcp_send(c, "hello", 1 + synack_prng_below(&p, 5));
			break;
		case 6:
			if (c)
				while (synack_tcp_recv(c, buf, sizeof buf) > 0)
					;
			break;
		case 7:
		case 17:
		case 18:
			if (c) {
				if (synack_tcp_close(c) == 0)
					s->h[hi] = NULL;
			}
			break;
		case 8:
			if (c) {
				synack_tcp_abort(c);
				s->h[hi] = NULL;
			}
			break;
		case 9:
			if (c)
				synack_tcp_shutdown(c, SYNACK_SHUT_WR);
			break;
		case 10:
			if (c) {
				synack_tcp_set_userdata(c, (void *)1);
				synack_tcp_setopt(c, SYNACK_TCP_KEEPIDLE, 1 + (int)synack_prng_below(&p, 2));
				synack_tcp_setopt(c, SYNACK_TCP_KEEPINTVL, 1);
				synack_tcp_setopt(c, SYNACK_TCP_KEEPCNT, 2);
				synack_tcp_setopt(c, SYNACK_TCP_KEEPALIVE, (int)synack_prng_below(&p, 2));
			}
			break;
		case 11:
			if (synack_prng_below(&p, 8) == 0)
				synack_tcp_drop_state(st, (int)synack_prng_below(&p, 11));
			break;
		case 19: {
			struct tcp_stack *ts = tcps(st);
			int n = 0;
			for (struct tcb *t = ts->all; t; t = t->all_next)
				n++;
			if (!n)
				break;
			int k = (int)synack_prng_below(&p, (uint32_t)n);
			struct tcb *t = ts->all;
			while (k--)
				t = t->all_next;
			uint8_t l4[20] = {0};
			l4[0] = (uint8_t)(t->local.port >> 8);
			l4[1] = (uint8_t)t->local.port;
			l4[2] = (uint8_t)(t->remote.port >> 8);
			l4[3] = (uint8_t)t->remote.port;
			uint32_t sq = synack_prng_below(&p, 2) ? t->snd_una : t->snd_max - 1;
			l4[4] = (uint8_t)(sq >> 24);
			l4[5] = (uint8_t)(sq >> 16);
			l4[6] = (uint8_t)(sq >> 8);
			l4[7] = (uint8_t)sq;
			l4[12] = 5 << 4;
			l4[13] = (uint8_t)(synack_prng_below(&p, 2) ? SYNACK_TCP_FIN : SYNACK_TCP_ACK);
			struct net_icmp_err e = {.kind = (enum net_icmp_kind)synack_prng_below(&p, 6),
						 .mtu = 576 + synack_prng_below(&p, 900),
						 .proto = 6,
						 .src = t->local.addr,
						 .dst = t->remote.addr,
						 .l4 = l4,
						 .l4_len = 20};
			if (t->local.addr.family) {
				tcp_icmp_error(st, &e);
			}
			break;
		}
		case 12:
			if (c) {
				synack_tcp_info ci;
				synack_tcp_get_info(c, &ci);
			}
			break;
		default: { /* time */
			static const synack_time_t d[] = {0,
							  SYNACK_MSEC(1),
							  SYNACK_MSEC(20),
							  SYNACK_MSEC(300),
							  SYNACK_MSEC(999),
							  SYNACK_SEC(1),
							  SYNACK_MSEC(1001),
							  SYNACK_MSEC(1500),
							  SYNACK_SEC(4),
							  SYNACK_SEC(9)};
			synack_time_t until = sim.now + d[synack_prng_below(&p, 10)];
			if (synack_prng_below(&p, 2))
				synack_sim_step(&sim, until);
			else
				synack_sim_run_until(&sim, until);
			break;
		}
		}
		for (int i = 0; i < 2; i++) {
			synack_tcp *x;
			uint32_t ev;
			while ((x = synack_stack_next_event(sim.stack[i], &ev)))
				;
		}
		f[0].on = f[1].on = false;
		for (int i = 0; i < 2; i++)
			check_stack(sim.stack[i], where);
		if (violations > 20)
			break;
	}
	/* quiet: every timer and queue runs out as it should */
	f[0].on = f[1].on = false;
	synack_sim_run_until(&sim, sim.now + SYNACK_SEC(60));
	for (int i = 0; i < 2; i++) {
		check_stack(sim.stack[i], "final");
		static const int cs[] = {SYNACK_CNT_TCP_TIME_WAIT_COMPACT, SYNACK_CNT_TCP_EXT_RELEASED,
					 SYNACK_CNT_TCP_SYNCOOKIES_VALID,  SYNACK_CNT_TCP_KEEPALIVE_PROBES,
					 SYNACK_CNT_TCP_PMTU_LOWERED,	   SYNACK_CNT_TCP_TIME_WAIT_REUSED};
		for (int k = 0; k < 6; k++)
			seen[k] += synack_stack_counter(sim.stack[i], cs[k]);
	}
	synack_sim_destroy(&sim);
}

TEST(timers_and_queues_stay_consistent)
{
	for (uint64_t seed = 1; seed <= 300 && violations <= 20; seed++)
		run_seed(seed, false, seed % 2);
	CHECK_EQ(violations, 0);
	/* and the runs went where they should: compact and reused TIME-WAITs,
	 * extensions given back, SYN cookies, keepalive probes, PMTU */
	for (int k = 0; k < 6; k++)
		CHECK(seen[k] > 0);
}

TEST(timers_and_queues_stay_consistent_without_memory)
{
	for (uint64_t seed = 100; seed <= 160 && violations <= 20; seed++)
		run_seed(seed, true, seed % 2);
	CHECK_EQ(violations, 0);
}
