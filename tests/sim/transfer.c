/* Transfers over the impaired in-memory link, one run per seed. In every
 * run, every byte must arrive exactly once and in order (FNV-1a hash of
 * each stream), every connection must reach CLOSED at both ends, every
 * allocation must come back, and every IP packet a stack sends must fit its
 * MTU (RFC 9293 §3.7.1, RFC 6691 §2: options included). The runs:
 *  - transfer_over_impaired_link_many_seeds: one connection with the
 *    stacks' defaults; the client sends, then the server answers. 1% to 20%
 *    loss, duplication, reordering, corruption and jitter.
 *  - echo_at_mtu_1500_many_seeds: the server echoes everything as it
 *    arrives while the client is still sending, so full-sized segments leave
 *    both ends while each holds out-of-order data (SACK blocks on data
 *    segments). MTU 1500, SACK, timestamps and window scaling set
 *    explicitly, 64 KiB or the default buffers; loss, duplication,
 *    reordering, corruption and jitter.
 *  - both_ways_at_mtu_1500_many_seeds: the same link and settings, two
 *    independent streams at once, each end closing when done.
 *  - heavy_loss_up_to_30_percent_both_ways: two streams under 0-30% loss
 *    each way (burst loss on every fourth seed), NewReno or CUBIC, with or
 *    without SACK.
 * Every step checks that cwnd never falls below one segment and that
 * nothing stalls (a timer is always due while bytes are under way).
 *  - crowd_of_200_connections_one_listener: 200 clients of one listener in
 *    one pair of stacks, echo and two-way streams, behind a 500-frame queue
 *    (tail drops as on a TUN device with its default queue) and loss.
 * A failing seed is printed with the command that replays it, also when the
 * run crashes or a sanitizer stops it:
 *   build/tests/sim_transfer TEST SEED_FIRST COUNT
 * With SIM_PLOT=FILE.svg in front, the replay of one seed (COUNT 1) also
 * draws connection 0's upstream (the client's data) as `synack demo --plot`
 * does (tools/plot.c): a time-sequence graph over the client's cwnd,
 * ssthresh and srtt. Tracing changes nothing in the run
 * (plot_of_one_lossy_seed checks that, and what the graph holds). */
#include "harness.h"
#include "unit.h"

#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "../../tools/plot.h"

struct flow {
	uint64_t hash_sent, hash_recv;
	size_t sent, recv, total;
	bool eof;
};

/* One end of a connection. What it still has to send (bytes it generated,
 * or for an echo server bytes it received) waits in pend until send()
 * takes it. */
struct end {
	synack_tcp *h;
	struct flow *tx, *rx;
	uint8_t pend[8192];
	size_t off, len;
	bool shut, closed;
};

struct conn {
	struct flow up, down; /* client->server, server->client */
	struct end c, s;
	uint16_t port; /* the client's */
};

/* What the server does: answer once the client's FIN is in (the request and
 * response shape), echo as data arrives, or send its own stream at once. */
enum mode { ANSWER, ECHO, BOTH };

struct plan {
	enum mode mode;
	int nconn;
	synack_impair im;
	size_t up_min, up_spread, down_min, down_spread; /* bytes per connection */
	bool mtu1500;					 /* the explicit configuration below */
	uint32_t buf;					 /* send and receive buffers; 0: default */
	uint8_t cc, nosack;				 /* with mtu1500: congestion control, SACK off */
};

/* The sim's link and stacks, with a check in front of the link: the
 * largest IP packet each stack sent, and how many exceeded its MTU. */
struct port {
	void *link_port;
	size_t mtu, biggest;
	uint64_t oversize;
};

struct run {
	synack_sim sim;
	struct port port[2];
	const struct plan *plan;
	synack_tcp *l;
	struct conn *conn;
	int accepted, open; /* server ends accepted; ends not closed yet */
	synack_prng data_rng;
	uint64_t delivered;	   /* bytes received by either end so far */
	synack_time_t progress_at; /* when delivered last grew */
};

struct totals {
	uint64_t rexmit, bytes, conns, lost, tail_drops;
	synack_time_t vtime, longest_stall;
};

/* A run drawn: the client's stack traced, connection 0's upstream plotted.
 * label names the run in the subtitle; p, bytes (the upstream's) and
 * trace_lost are filled in by run_plan, and p is the caller's to free. */
struct plot_req {
	const char *label;
	struct plot *p;
	size_t bytes;
	uint64_t trace_lost;
};
/* Trace records of the client's stack between two drains (one sim step
 * and the pumps after it, for up to 200 connections); more are
 * overwritten and counted in trace_lost. */
enum { PLOT_TRACE_CAPACITY = 32768 };

static uint64_t fnv(uint64_t h, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

/* ---- the replay line, also when the process dies in a run ---- */

static char dying_words[400];
static size_t dying_len;

static void say_dying_words(void)
{
	ssize_t r = write(STDOUT_FILENO, dying_words, dying_len);
	(void)r;
}

static void on_fatal_signal(int sig)
{
	say_dying_words();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* The sanitizers call a death callback before they exit; builds without
 * them have no such function and catch the signals instead. GCC links
 * UBSan beside ASan as a library of its own, with its own callback: that
 * one is set through the library. */
typedef void death_callback_setter(void (*callback)(void));
death_callback_setter __sanitizer_set_death_callback __attribute__((weak));

static void replay_line_on_death(void)
{
	static bool armed;
	if (armed)
		return;
	armed = true;
	void *ubsan = dlopen("libubsan.so.1", RTLD_LAZY | RTLD_NOLOAD);
	death_callback_setter *set_ubsan =
	    ubsan ? (death_callback_setter *)dlsym(ubsan, "__sanitizer_set_death_callback") : NULL;
	if (set_ubsan)
		set_ubsan(say_dying_words);
	if (__sanitizer_set_death_callback) {
		__sanitizer_set_death_callback(say_dying_words);
	} else {
		/* the sanitizers' own handlers stay in place where they exist */
		int sigs[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};
		for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
			signal(sigs[i], on_fatal_signal);
	}
	signal(SIGTERM, on_fatal_signal); /* run-tests.sh's timeout */
}

/* ---- the link, checked ---- */

static int checked_tx(void *ctx, const uint8_t *frame, size_t len)
{
	struct port *p = ctx;
	if (len > p->biggest)
		p->biggest = len;
	if (len > p->mtu)
		p->oversize++;
	return synack_memlink_tx(p->link_port, frame, len);
}

static void sim_rx(void *ctx, const uint8_t *frame, size_t len, synack_time_t now)
{
	synack_stack_input(ctx, frame, len, now);
}

/* synack_sim_init (same seeds, same addresses), with checked_tx in front of
 * the link. cfg NULL: the defaults. trace: the client's stack keeps a trace. */
static int sim_init_checked(struct run *R, uint64_t seed, const synack_impair *im,
			    const synack_stack_config *cfg, bool trace)
{
	synack_sim *s = &R->sim;
	memset(s, 0, sizeof *s);
	int err = synack_memlink_create(seed, im, im, &s->link);
	if (err)
		return err;
	for (int i = 0; i < 2; i++) {
		synack_stack_config c;
		if (cfg)
			c = *cfg;
		else
			synack_stack_config_init(&c);
		c.addr = synack_addr_ipv4(10, 0, 0, (uint8_t)(i + 1));
		c.trace_capacity = trace && i == 0 ? PLOT_TRACE_CAPACITY : 0;
		synack_prng_seed(&s->rng[i], seed * 2 + (uint64_t)i + 1);
		c.rng.fill = synack_prng_fill;
		c.rng.ctx = &s->rng[i];
		R->port[i] = (struct port){.link_port = synack_memlink_port(s->link, i), .mtu = c.mtu};
		c.tx = checked_tx;
		c.tx_ctx = &R->port[i];
		err = synack_stack_create(&c, 0, &s->stack[i]);
		if (err) {
			synack_sim_destroy(s);
			return err;
		}
		synack_memlink_attach(s->link, i, sim_rx, s->stack[i]);
	}
	return 0;
}

/* MTU 1500 with SACK, timestamps and window scaling, whatever the defaults
 * become: the options that make a full-sized data segment's header largest.
 * buf (0: the default) sizes the send and receive buffers. */
static void config_mtu1500(synack_stack_config *cfg, uint32_t buf)
{
	synack_stack_config_init(cfg);
	cfg->mtu = 1500;
	cfg->tcp.sack_enable = 1;
	cfg->tcp.ts_enable = 1;
	cfg->tcp.wscale_enable = 1;
	if (buf)
		cfg->tcp.sndbuf = cfg->tcp.rcvbuf = buf;
}

/* ---- moving bytes ---- */

/* Offer what is pending to send(); true when all of it was taken. */
static bool flush(struct end *e)
{
	while (e->off < e->len) {
		ssize_t r = synack_tcp_send(e->h, e->pend + e->off, e->len - e->off);
		if (r <= 0)
			return false;
		/* the stream is exactly what send() accepted */
		e->tx->hash_sent = fnv(e->tx->hash_sent, e->pend + e->off, (size_t)r);
		e->tx->sent += (size_t)r;
		e->off += (size_t)r;
	}
	e->off = e->len = 0;
	return true;
}

/* Send the rest of the end's own stream: random bytes, made as they fit. */
static void pump_send(struct end *e, synack_prng *rng)
{
	while (flush(e) && e->tx->sent < e->tx->total) {
		size_t n = e->tx->total - e->tx->sent;
		if (n > sizeof e->pend)
			n = sizeof e->pend;
		for (size_t i = 0; i < n; i++)
			e->pend[i] = (uint8_t)synack_prng_next(rng);
		e->len = n;
	}
}

/* Read what arrived. An echoing end reads only when what it read before
 * has been sent back, so the peer's data waits in the stack meanwhile. */
static void pump_recv(struct end *e, bool echo)
{
	uint8_t buf[16384];
	while (!echo || flush(e)) {
		uint8_t *p = echo ? e->pend : buf;
		size_t cap = echo ? sizeof e->pend : sizeof buf;
		ssize_t r = synack_tcp_recv(e->h, p, cap);
		if (r == 0)
			e->rx->eof = true;
		if (r <= 0)
			return;
		e->rx->hash_recv = fnv(e->rx->hash_recv, p, (size_t)r);
		e->rx->recv += (size_t)r;
		if (echo)
			e->len = (size_t)r;
	}
}

static void end_close(struct run *R, struct end *e)
{
	synack_tcp_close(e->h);
	e->closed = true;
	R->open--;
}

static int end_failed(const struct end *e, const char *who, int i, char *why, size_t whylen)
{
	if (synack_tcp_state(e->h) != SYNACK_TCP_CLOSED || !synack_tcp_error(e->h))
		return 0;
	snprintf(why, whylen, "connection %d: %s error %d", i, who, synack_tcp_error(e->h));
	return -1;
}

static void accept_all(struct run *R)
{
	synack_tcp *s;
	while (R->l && synack_tcp_accept(R->l, &s) == 0) {
		synack_endpoint remote;
		synack_tcp_endpoints(s, NULL, &remote);
		for (int i = 0; i < R->plan->nconn; i++) {
			if (R->conn[i].port == remote.port && !R->conn[i].s.h) {
				R->conn[i].s.h = s;
				s = NULL;
				break;
			}
		}
		if (s) /* nobody's: the checks at the end count its bytes missing */
			synack_tcp_abort(s);
		if (++R->accepted == R->plan->nconn)
			synack_tcp_close(R->l), R->l = NULL;
	}
}

static int pump_conn(struct run *R, int i, char *why, size_t whylen)
{
	struct conn *k = &R->conn[i];
	struct end *c = &k->c, *s = &k->s;
	enum mode mode = R->plan->mode;
	/* a handle is only valid until it is closed */
	if (!c->closed && end_failed(c, "client", i, why, whylen))
		return -1;
	if (!c->closed && synack_tcp_state(c->h) >= SYNACK_TCP_ESTABLISHED) {
		pump_send(c, &R->data_rng);
		if (c->tx->sent == c->tx->total && !c->shut)
			c->shut = synack_tcp_shutdown(c->h, SYNACK_SHUT_WR) == 0;
		pump_recv(c, false);
		if (c->rx->eof && c->tx->sent == c->tx->total)
			end_close(R, c);
	}
	if (!s->h || s->closed)
		return 0;
	if (end_failed(s, "server", i, why, whylen))
		return -1;
	pump_recv(s, mode == ECHO);
	if (mode == BOTH || (mode == ANSWER && s->rx->eof))
		pump_send(s, &R->data_rng);
	if (mode == BOTH && s->tx->sent == s->tx->total && !s->shut)
		s->shut = synack_tcp_shutdown(s->h, SYNACK_SHUT_WR) == 0;
	if (s->rx->eof && s->len == 0 && (mode == ECHO || s->tx->sent == s->tx->total))
		end_close(R, s);
	return 0;
}

static int check_flow(const struct flow *f, uint64_t want, const char *name, int i, char *why, size_t whylen)
{
	if (f->recv == f->total && f->hash_recv == want)
		return 0;
	snprintf(why, whylen, "connection %d: %s %zu/%zu bytes, hash %s", i, name, f->recv, f->total,
		 f->hash_recv == want ? "ok" : "differs");
	return -1;
}

/* After the run: every stream whole, no TCB left, memory back. */
static int check_run(struct run *R, const size_t base[2], char *why, size_t whylen)
{
	for (int i = 0; i < R->plan->nconn; i++) {
		struct conn *k = &R->conn[i];
		/* an echo comes back as the bytes the client sent */
		uint64_t down_want = R->plan->mode == ECHO ? k->up.hash_sent : k->down.hash_sent;
		if (check_flow(&k->up, k->up.hash_sent, "upstream", i, why, whylen) ||
		    check_flow(&k->down, down_want, "downstream", i, why, whylen))
			return -1;
	}
	synack_stack **st = R->sim.stack;
	if (synack_stack_tcb_count(st[0]) || synack_stack_tcb_count(st[1]))
		return snprintf(why, whylen, "TCBs left: %zu/%zu at t=%.1fs", synack_stack_tcb_count(st[0]),
				synack_stack_tcb_count(st[1]), R->sim.now / 1e6),
		       -1;
	for (int i = 0; i < 2; i++) {
		size_t blocks;
		synack_stack_trim(st[i]); /* the data buffers kept for reuse go too */
		synack_stack_memory(st[i], NULL, &blocks);
		/* two tables' buckets and the timer heap stay */
		if (blocks > base[i] + 3)
			return snprintf(why, whylen, "stack %d holds %zu blocks, %zu at start", i, blocks,
					base[i]),
			       -1;
	}
	return 0;
}

/* The sender's invariants, every step: cwnd never below one segment
 * (RFC 5681 §3.1's loss window is one), and no stall: while bytes are on
 * their way a timer is armed no later than RTO.max from now, and the bytes
 * delivered grow at least every 2 * RTO.max (a retransmission backed off to
 * the ceiling, and one more). */
static int end_invariants(const struct run *R, const struct end *e, const char *who, int i, char *why,
			  size_t whylen)
{
	synack_tcp_info in;
	if (!e->h || e->closed || synack_tcp_get_info(e->h, &in) || in.state < SYNACK_TCP_ESTABLISHED ||
	    !in.mss)
		return 0;
	if (in.cwnd < in.mss)
		return snprintf(why, whylen, "connection %d %s: cwnd %u below one segment (%u) at t=%.3fs", i,
				who, in.cwnd, in.mss, R->sim.now / 1e6),
		       -1;
	return 0;
}

static int invariants(struct run *R, char *why, size_t whylen)
{
	uint64_t d = 0;
	for (int i = 0; i < R->plan->nconn; i++) {
		struct conn *k = &R->conn[i];
		if (end_invariants(R, &k->c, "client", i, why, whylen) ||
		    end_invariants(R, &k->s, "server", i, why, whylen))
			return -1;
		d += k->up.recv + k->down.recv;
	}
	if (d != R->delivered || R->open == 0) {
		R->delivered = d;
		R->progress_at = R->sim.now;
		return 0;
	}
	synack_time_t rto_max = SYNACK_SEC(60), next = synack_sim_next(&R->sim);
	if (next > R->sim.now + rto_max)
		return snprintf(why, whylen,
				"stalled: nothing due before t=%.1fs, now %.3fs, %llu bytes delivered",
				next == SYNACK_TIME_NEVER ? -1.0 : next / 1e6, R->sim.now / 1e6,
				(unsigned long long)d),
		       -1;
	if (R->sim.now - R->progress_at > 2 * rto_max)
		return snprintf(why, whylen, "stalled: no byte delivered from t=%.3fs to %.3fs",
				R->progress_at / 1e6, R->sim.now / 1e6),
		       -1;
	return 0;
}

static int oversize(const struct run *R, char *why, size_t whylen)
{
	for (int i = 0; i < 2; i++) {
		const struct port *pt = &R->port[i];
		if (pt->oversize)
			return snprintf(why, whylen,
					"stack %d sent a %zu-byte IP packet, MTU %zu, at t=%.3fs", i,
					pt->biggest, pt->mtu, R->sim.now / 1e6),
			       -1;
	}
	return 0;
}

static int start_conns(struct run *R, synack_prng *p)
{
	const struct plan *pl = R->plan;
	synack_endpoint sep = h_ep(H_SERVER, 443);
	if (synack_tcp_listen(R->sim.stack[1], &sep, pl->nconn < 8 ? 8 : pl->nconn, &R->l))
		return -1;
	for (int i = 0; i < pl->nconn; i++) {
		struct conn *k = &R->conn[i];
		k->up.total = pl->up_min + synack_prng_below(p, pl->up_spread);
		if (pl->mode == ECHO)
			k->down.total = k->up.total;
		else
			k->down.total = pl->down_min + synack_prng_below(p, pl->down_spread);
		k->up.hash_sent = k->up.hash_recv = 0xcbf29ce484222325ull;
		k->down.hash_sent = k->down.hash_recv = 0xcbf29ce484222325ull;
		k->c.tx = k->s.rx = &k->up;
		k->c.rx = k->s.tx = &k->down;
		if (synack_tcp_connect(R->sim.stack[0], &sep, NULL, &k->c.h))
			return -1;
		synack_endpoint local;
		synack_tcp_endpoints(k->c.h, &local, NULL);
		k->port = local.port;
		R->open += 2;
	}
	return 0;
}

/* ---- the plot (SIM_PLOT) ---- */

/* Once connection 0's port is known: its upstream, titled with the
 * direction, the congestion control and the run's link (short enough for
 * the page: the label is "TEST seed N"). */
static int begin_plot(struct run *R, struct plot_req *pr)
{
	const struct plan *pl = R->plan;
	const synack_impair *im = &pl->im;
	char title[200], sub[300], rate[64] = "";
	struct conn *k = &R->conn[0];
	bool newreno = pl->mtu1500 && pl->cc == SYNACK_TCP_CC_NEWRENO, sack = !pl->mtu1500 || !pl->nosack;
	snprintf(title, sizeof title,
		 "client 10.0.0.1:%u \u2192 server 10.0.0.2:443: %zu bytes, %s, %s (time-sequence graph)",
		 k->port, k->up.total, newreno ? "NewReno" : "CUBIC", sack ? "SACK" : "no SACK");
	if (im->rate_bps)
		snprintf(rate, sizeof rate, ", %g Mbit/s q%u", im->rate_bps / 1e6, im->queue_limit);
	snprintf(
	    sub, sizeof sub,
	    "%s: %.2g%% loss%s, %.2g%% dup, %.2g%% reorder, %.2g%% corrupt each way, %.3g\u00b1%.2g ms%s",
	    pr->label, im->loss * 100, im->p_good_to_bad > 0 ? " (bursts)" : "", im->duplicate * 100,
	    im->reorder * 100, im->corrupt * 100, im->delay / 1e3, im->jitter / 1e3, rate);
	synack_endpoint local;
	synack_tcp_endpoints(k->c.h, &local, NULL);
	struct plot_opts po = {
	    .title = title, .subtitle = sub, .local = local, .remote = h_ep(H_SERVER, 443)};
	pr->bytes = k->up.total;
	return plot_begin(&po, &pr->p);
}

/* After a step and the pumps: the client's segments, and connection 0's
 * client state from ESTABLISHED until its handle is closed. */
static void plot_step(struct run *R, struct plot_req *pr)
{
	synack_tcp_info in;
	struct end *c = &R->conn[0].c;
	if (!pr || !pr->p)
		return;
	plot_drain(pr->p, R->sim.stack[0]);
	if (c->h && !c->closed && synack_tcp_get_info(c->h, &in) == 0 && in.state >= SYNACK_TCP_ESTABLISHED)
		plot_add_sample(pr->p, R->sim.now, &in);
}

/* One run of a plan; pr non-NULL: drawn (struct plot_req). */
static int run_plan(const struct plan *pl, uint64_t seed, synack_prng *p, struct totals *tot,
		    struct plot_req *pr, char *why, size_t whylen)
{
	struct run R = {.plan = pl};
	synack_stack_config cfg;
	if (pl->mtu1500) {
		config_mtu1500(&cfg, pl->buf);
		cfg.tcp.cc = pl->cc;
		cfg.tcp.sack_enable = !pl->nosack;
	}
	R.conn = calloc((size_t)pl->nconn, sizeof *R.conn);
	synack_prng_seed(&R.data_rng, seed);
	if (!R.conn || sim_init_checked(&R, seed, &pl->im, pl->mtu1500 ? &cfg : NULL, pr != NULL)) {
		free(R.conn);
		return snprintf(why, whylen, "sim init"), -1;
	}
	size_t base[2];
	for (int i = 0; i < 2; i++)
		synack_stack_memory(R.sim.stack[i], NULL, &base[i]);
	int rc = start_conns(&R, p);
	if (rc)
		snprintf(why, whylen, "listen or connect failed");
	else if (pr && begin_plot(&R, pr))
		rc = (snprintf(why, whylen, "SIM_PLOT: out of memory"), -1);
	synack_time_t limit = SYNACK_SEC(3600);
	while (!rc && R.sim.now < limit) {
		accept_all(&R);
		for (int i = 0; i < pl->nconn && !rc; i++)
			rc = pump_conn(&R, i, why, whylen);
		plot_step(&R, pr);
		if (rc || (rc = oversize(&R, why, whylen)) || (rc = invariants(&R, why, whylen)))
			break;
		if (R.delivered && R.sim.now - R.progress_at > tot->longest_stall)
			tot->longest_stall = R.sim.now - R.progress_at;
		if (R.open == 0 && synack_stack_tcb_count(R.sim.stack[0]) == 0 &&
		    synack_stack_tcb_count(R.sim.stack[1]) == 0)
			break;
		uint32_t ev;
		while (synack_stack_next_event(R.sim.stack[0], &ev) ||
		       synack_stack_next_event(R.sim.stack[1], &ev))
			;
		if (!synack_sim_step(&R.sim, limit))
			break;
	}
	plot_step(&R, pr);
	if (pr)
		pr->trace_lost = synack_stack_counter(R.sim.stack[0], SYNACK_CNT_TRACE_LOST);
	if (!rc)
		rc = check_run(&R, base, why, whylen);
	for (int i = 0; i < 2; i++) {
		synack_link_stats ls;
		synack_memlink_stats(R.sim.link, i, &ls);
		tot->lost += ls.lost;
		tot->tail_drops += ls.queue_drops;
		tot->rexmit += synack_stack_counter(R.sim.stack[i], SYNACK_CNT_TCP_RETRANSMITS);
	}
	for (int i = 0; i < pl->nconn; i++) {
		struct conn *k = &R.conn[i];
		tot->bytes += k->up.recv + k->down.recv;
		if (rc && k->c.h && !k->c.closed)
			synack_tcp_abort(k->c.h);
		if (rc && k->s.h && !k->s.closed)
			synack_tcp_abort(k->s.h);
	}
	tot->conns += (uint64_t)pl->nconn;
	tot->vtime += R.sim.now;
	if (R.l)
		synack_tcp_close(R.l);
	synack_sim_destroy(&R.sim);
	free(R.conn);
	return rc;
}

/* ---- the plans, one per seed ---- */

/* The original runs: the stacks' defaults, one request and its answer. */
static void plan_answer(uint64_t seed, struct plan *pl, synack_prng *p)
{
	*pl = (struct plan){
	    .mode = ANSWER,
	    .nconn = 1,
	    .im = {.loss = 0.01 + 0.19 * synack_prng_unit(p),
		   .duplicate = 0.03 * synack_prng_unit(p),
		   .reorder = 0.05 * synack_prng_unit(p),
		   .corrupt = 0.01 * synack_prng_unit(p),
		   .delay = SYNACK_MSEC(1 + synack_prng_below(p, 20)),
		   .jitter = SYNACK_USEC(synack_prng_below(p, 2000)),
		   .reorder_delay = SYNACK_MSEC(3)},
	    .up_min = 20000,
	    .up_spread = 200000,
	    .down_min = 1000,
	    .down_spread = 100000,
	};
}

/* Loss light enough that windows open and full-sized segments flow both
 * ways, heavy enough that every run has holes. */
static synack_impair impair_two_way(synack_prng *p)
{
	return (synack_impair){
	    .loss = 0.005 + 0.075 * synack_prng_unit(p),
	    .duplicate = 0.03 * synack_prng_unit(p),
	    .reorder = 0.01 + 0.04 * synack_prng_unit(p),
	    .corrupt = 0.002 * synack_prng_unit(p),
	    .delay = SYNACK_MSEC(1 + synack_prng_below(p, 20)),
	    .jitter = SYNACK_USEC(synack_prng_below(p, 2000)),
	    .reorder_delay = SYNACK_MSEC(3),
	};
}

/* The stacks' default buffers (256 KiB) on every third seed; 64 KiB on the
 * others, still window-scaled, which makes full windows and the echo's
 * back-pressure common (and keeps the ASan build's run short: its
 * allocator maps and unmaps every block above 128 KiB). */
static uint32_t buffers(uint64_t seed)
{
	return seed % 3 == 0 ? 0 : 65536;
}

static void plan_echo(uint64_t seed, struct plan *pl, synack_prng *p)
{
	*pl = (struct plan){.mode = ECHO, .nconn = 1, .mtu1500 = true, .buf = buffers(seed)};
	pl->im = impair_two_way(p);
	pl->up_min = 50000;
	pl->up_spread = 400000;
}

static void plan_both(uint64_t seed, struct plan *pl, synack_prng *p)
{
	*pl = (struct plan){.mode = BOTH, .nconn = 1, .mtu1500 = true, .buf = buffers(seed)};
	pl->im = impair_two_way(p);
	pl->up_min = pl->down_min = 50000;
	pl->up_spread = pl->down_spread = 350000;
}

/* 200 clients at once: echo on odd seeds, two streams on even ones; a
 * 500-frame queue each way at 1 Gbit/s, so a burst of initial windows is
 * tail-dropped, plus random loss. */
static void plan_crowd(uint64_t seed, struct plan *pl, synack_prng *p)
{
	*pl = (struct plan){.mode = seed & 1 ? ECHO : BOTH, .nconn = 200, .mtu1500 = true};
	pl->buf = buffers(seed);
	pl->im = impair_two_way(p);
	pl->im.loss /= 4;
	pl->im.rate_bps = 1000000000;
	pl->im.queue_limit = 500;
	pl->up_min = pl->down_min = 16384;
	pl->up_spread = pl->down_spread = 65536;
}

typedef void plan_fn(uint64_t seed, struct plan *pl, synack_prng *p);

/* SIM_PLOT=FILE.svg when one seed runs: the file, created before the run
 * (NULL: no plot). A path that cannot be created fails the test. */
static FILE *plot_file(uint64_t count)
{
	const char *path = getenv("SIM_PLOT");
	if (!path)
		return NULL;
	if (count != 1) {
		printf("    SIM_PLOT ignored: it draws the replay of one seed (TEST SEED 1)\n");
		return NULL;
	}
	FILE *f = *path ? fopen(path, "w") : NULL;
	if (!f)
		unit_fail(__FILE__, __LINE__, "SIM_PLOT: cannot create '%s': %s", path,
			  *path ? strerror(errno) : "empty file name");
	return f;
}

/* The run is over: the SVG into f, and a line saying what it holds. */
static void plot_finish(FILE *f, struct plot_req *pr)
{
	const char *path = getenv("SIM_PLOT");
	struct plot_counts n;
	if (!pr->p) { /* the run failed before connection 0 existed */
		fclose(f);
		unit_fail(__FILE__, __LINE__, "SIM_PLOT: nothing drawn in '%s'", path);
		return;
	}
	plot_counts(pr->p, &n);
	int err = plot_close(pr->p, f);
	plot_free(pr->p);
	pr->p = NULL;
	if (err)
		return unit_fail(__FILE__, __LINE__, "SIM_PLOT: writing '%s' failed", path);
	printf("    SIM_PLOT %s: %zu data segments (%zu retransmitted), %zu ACKs, %zu samples, "
	       "%zu points left out, %llu trace records lost\n",
	       path, n.data_segs, n.rexmits, n.acks, n.samples, n.left_out,
	       (unsigned long long)pr->trace_lost);
}

static void run_seeds(const char *test, plan_fn *plan, uint64_t count)
{
	uint64_t first = unit_argc > 2 ? strtoull(unit_argv[2], NULL, 0) : 1;
	if (unit_argc > 3)
		count = strtoull(unit_argv[3], NULL, 0);
	struct totals tot = {0};
	int bad = 0;
	FILE *pf = plot_file(count);
	if (!pf && count == 1 && getenv("SIM_PLOT"))
		return; /* failed: the file cannot be written */
	replay_line_on_death();
	for (uint64_t s = first; s < first + count; s++) {
		char why[200], replay[200], label[160];
		struct plan pl;
		synack_prng p;
		synack_prng_seed(&p, s ^ 0x5eed);
		plan(s, &pl, &p);
		snprintf(replay, sizeof replay, "%s %s %llu 1", unit_argv[0], test, (unsigned long long)s);
		snprintf(label, sizeof label, "%s seed %llu", test, (unsigned long long)s);
		struct plot_req pr = {.label = label};
		snprintf(dying_words, sizeof dying_words, "    %s: seed %llu died (replay: %s)\n", test,
			 (unsigned long long)s, replay);
		dying_len = strlen(dying_words);
		if (run_plan(&pl, s, &p, &tot, pf ? &pr : NULL, why, sizeof why) && bad++ < 10) {
			printf("    seed %llu: %s (replay: %s; drawn: SIM_PLOT=seed%llu.svg %s)\n",
			       (unsigned long long)s, why, replay, (unsigned long long)s, replay);
			fflush(stdout);
		}
		if (pf)
			plot_finish(pf, &pr);
	}
	dying_len = 0;
	printf("    %llu seeds simulated (%llu connections), %d failed; %llu bytes delivered, ",
	       (unsigned long long)count, (unsigned long long)tot.conns, bad, (unsigned long long)tot.bytes);
	printf("%llu frames lost and %llu tail-dropped by the link, %llu retransmissions, ",
	       (unsigned long long)tot.lost, (unsigned long long)tot.tail_drops,
	       (unsigned long long)tot.rexmit);
	printf("%.0f s virtual time, longest stall %.1f s\n", tot.vtime / 1e6, tot.longest_stall / 1e6);
	CHECK_EQ(bad, 0);
}

TEST(transfer_over_impaired_link_many_seeds)
{
	run_seeds(__func__, plan_answer, 240);
}

TEST(echo_at_mtu_1500_many_seeds)
{
	run_seeds(__func__, plan_echo, 500);
}

TEST(both_ways_at_mtu_1500_many_seeds)
{
	run_seeds(__func__, plan_both, 500);
}

/* Heavy loss both ways, up to 30% (uniform per seed), data in both
 * directions, NewReno or CUBIC, SACK on or off, reordering, duplication,
 * corruption: every byte once and in order, cwnd never under a segment, no
 * stall (invariants()), everything CLOSED and freed. */
static void plan_heavy(uint64_t seed, struct plan *pl, synack_prng *p)
{
	*pl = (struct plan){.mode = BOTH, .nconn = 1, .mtu1500 = true, .buf = buffers(seed)};
	pl->im = impair_two_way(p);
	pl->im.loss = 0.3 * synack_prng_unit(p);
	pl->cc = seed & 1 ? SYNACK_TCP_CC_NEWRENO : SYNACK_TCP_CC_CUBIC;
	pl->nosack = (seed >> 1) % 3 == 0;
	if (seed % 4 == 0) { /* bursts: Gilbert-Elliott, 2-10 frames per bad spell */
		pl->im.p_good_to_bad = 0.005 + 0.03 * synack_prng_unit(p);
		pl->im.p_bad_to_good = 0.1 + 0.4 * synack_prng_unit(p);
		pl->im.loss_in_bad = 0.5 + 0.5 * synack_prng_unit(p);
	}
	pl->up_min = pl->down_min = 4000;
	pl->up_spread = pl->down_spread = 60000;
}

TEST(heavy_loss_up_to_30_percent_both_ways)
{
	run_seeds(__func__, plan_heavy, 300);
}

TEST(crowd_of_200_connections_one_listener)
{
	run_seeds(__func__, plan_crowd, 12);
}

/* How many times needle occurs in hay. */
static size_t occurrences(const char *hay, const char *needle)
{
	size_t c = 0;
	for (const char *q = hay; (q = strstr(q, needle)) != NULL; q += strlen(needle))
		c++;
	return c;
}

/* SIM_PLOT's machinery on one lossy seed of the first plan: drawing the
 * run changes nothing in it (same retransmissions, bytes and virtual
 * time), every record reached the plot (none overwritten in the trace, no
 * point left out), the new data drawn covers the upstream, retransmissions
 * are drawn as such, and the SVG has its axes, legend and one mark per
 * data segment, retransmissions apart. */
TEST(plot_of_one_lossy_seed)
{
	const uint64_t seed = 7;
	struct totals plain = {0}, drawn = {0};
	struct plot_req pr = {.label = "plot_of_one_lossy_seed seed 7"};
	struct plan pl;
	synack_prng p;
	char why[200] = "";
	for (int pass = 0; pass < 2; pass++) {
		synack_prng_seed(&p, seed ^ 0x5eed);
		plan_answer(seed, &pl, &p);
		int rc = run_plan(&pl, seed, &p, pass ? &drawn : &plain, pass ? &pr : NULL, why, sizeof why);
		if (rc)
			unit_fail(__FILE__, __LINE__, "seed 7: %s", why);
	}
	CHECK(pl.im.loss >= 0.01);
	CHECK_EQ(drawn.rexmit, plain.rexmit);
	CHECK_EQ(drawn.bytes, plain.bytes);
	CHECK_EQ(drawn.vtime, plain.vtime);
	CHECK(pr.p != NULL);
	if (!pr.p)
		return;
	struct plot_counts n;
	plot_counts(pr.p, &n);
	CHECK_EQ(pr.trace_lost, 0);
	CHECK_EQ(n.left_out, 0);
	CHECK(n.rexmits > 0);
	CHECK(n.rexmits <= drawn.rexmit); /* the stacks' retransmission counters */
	CHECK(n.data_segs > n.rexmits);
	/* new data: every upstream byte once, at most 1460 bytes a segment */
	CHECK((n.data_segs - n.rexmits) * 1460 >= pr.bytes);
	CHECK(n.data_segs - n.rexmits <= pr.bytes);
	CHECK(n.acks > 0);
	CHECK(n.samples > 1);
	char *svg = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&svg, &len);
	CHECK(f != NULL);
	if (!f)
		return plot_free(pr.p);
	CHECK_EQ(plot_close(pr.p, f), 0);
	plot_free(pr.p);
	CHECK(len > 0 && strncmp(svg, "<?xml", 5) == 0);
	const char *want[] = {"<svg ",
			      "time (s)",
			      "relative sequence number (bytes)",
			      "cwnd, ssthresh (bytes)",
			      "srtt (ms)",
			      "retransmitted segment",
			      ">ACK</text>",
			      ">cwnd</text>",
			      "client 10.0.0.1:",
			      "plot_of_one_lossy_seed seed 7: ",
			      "</svg>\n"};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
		if (!strstr(svg, want[i]))
			unit_fail(__FILE__, __LINE__, "no '%s' in the SVG", want[i]);
	CHECK_EQ(occurrences(svg, "class=\"seg rexmit\""), n.rexmits);
	CHECK_EQ(occurrences(svg, "class=\"seg\""), n.data_segs - n.rexmits);
	free(svg);
}
