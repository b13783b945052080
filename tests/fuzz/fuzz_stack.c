/* libFuzzer target: hostile frames into a live stack, through the public
 * API only (sim.h, tcp.h; wire.h is used just to compute checksums).
 *
 * For every input: a simulated pair (client 10.0.0.1, server 10.0.0.2 on a
 * lossless link with a 100 us delay), a listener on server port 80, one established connection
 * that has carried a few bytes each way. Then the input is cut into frames
 * and each is fed to the server with synack_stack_input() at an advancing
 * virtual time; between frames the simulation runs (timers fire, the real
 * client answers whatever the server sends) and the application side
 * accepts new connections and reads/writes.
 *
 * Input layout:
 *   byte 0        flags (FL_* below)
 *   then records  u16 big-endian v: frame length v & 0x7ff, delay before
 *                 the frame (v >> 11)^2 * 10 ms; followed by the frame
 *                 (cut to what remains). At most MAX_FRAMES records.
 * The FL_FIX bit "fixes up" each frame so the fuzzer gets past the checksum
 * and address checks: destination 10.0.0.2, optionally source, protocol,
 * ports, seq and ack of the live connection, total length; then the IPv4
 * header checksum and the TCP (or ICMP) checksum are recomputed. Frames
 * from the peer of the server's last SYN-ACK (seen in the trace) get that
 * connection's seq/ack instead, so the fuzzer can open and use its own
 * connections from other addresses (10.0.0.3 in the seed).
 *
 * What is checked after each input (abort() on failure):
 *   - every handle is closed (FL_CLOSE: synack_tcp_close) or aborted
 *     (synack_tcp_abort), then the sim runs until no timer is left (at most
 *     2 hours of virtual time); both stacks must then hold zero TCBs
 *     (synack_stack_tcb_count) and no more blocks than an idle stack;
 *   - synack_stack_memory() must agree exactly with what the stack's
 *     allocator saw (this harness passes a counting allocator);
 *   - after synack_sim_destroy() every block and byte allocated through
 *     that allocator must have come back;
 *   - no endless exchange: at most STEP_BUDGET sim steps per input (see
 *     step() below; this is what catches ACK storms).
 * synack_stack_memory() itself cannot reach zero blocks while the stack
 * exists: the stack object and its tables are allocated through the same
 * counted allocator. So "zero blocks" is asserted on the allocator after
 * destroy, and "nothing left but the stack's own tables" is asserted as
 * "zero TCBs" plus a block count no larger than an idle stack's (measured
 * once on a stack that ran the same setup and aborted everything) once
 * every timer has run out (IP fragments wait for their reassembly
 * timeout, for example).
 *
 * SYNACK_FUZZ_SEEDS=DIR build-fuzz/fuzz_stack writes seed inputs to DIR
 * and exits. SYNACK_FUZZ_VERBOSE=1 prints what happens; SYNACK_FUZZ_PCAP=FILE
 * records the frames that crossed the link (not the injected ones) when one
 * input is replayed. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "synack/sim.h"
#include "synack/tcp.h"
#include "wire/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define REQUIRE(c)                                                                                           \
	do {                                                                                                 \
		if (!(c)) {                                                                                  \
			fprintf(stderr, "%s:%d: REQUIRE(%s) failed\n", __FILE__, __LINE__, #c);              \
			abort();                                                                             \
		}                                                                                            \
	} while (0)

enum {
	FL_FIX = 1 << 0,     /* dst 10.0.0.2, recompute checksums */
	FL_TUPLE = 1 << 1,   /* src 10.0.0.1, proto TCP, ports of the live connection */
	FL_SEQ = 1 << 2,     /* seq = server RCV.NXT + (int8) low byte of seq */
	FL_ACK = 1 << 3,     /* ack = server SND.UNA + (int8) low byte of ack */
	FL_LEN = 1 << 4,     /* version 4, total length = frame length */
	FL_CLOSE = 1 << 5,   /* graceful close at the end instead of abort */
	FL_TRAFFIC = 1 << 6, /* real data both ways between frames */
	FL_READ = 1 << 7,    /* the server application reads what arrives */
};
enum { MAX_FRAMES = 32, MAX_HANDLES = 16, SERVER_PORT = 80 };

/* ---- counting allocator ---- */
struct counted {
	size_t blocks, bytes;
};

static void *c_alloc(void *ctx, size_t size)
{
	struct counted *c = ctx;
	void *p = malloc(size);
	if (p) {
		c->blocks++;
		c->bytes += size;
	}
	return p;
}

static void c_free(void *ctx, void *p, size_t size)
{
	struct counted *c = ctx;
	REQUIRE(c->blocks > 0 && c->bytes >= size);
	c->blocks--;
	c->bytes -= size;
	free(p);
}

/* ---- the world of one input ---- */
struct world {
	synack_sim sim;
	struct counted mem[2];
	synack_tcp *listener, *client, *server;
	synack_tcp *extra[MAX_HANDLES]; /* further connections accepted */
	size_t nextra;
	unsigned flags;
	bool verbose;
	bool have_synack; /* the last SYN-ACK the server sent (trace) */
	synack_trace_seg synack;
	synack_endpoint synack_to;
	unsigned long steps; /* sim steps so far (storm guard) */
	bool stormed;	     /* storm tolerated: handles aborted */
	synack_pcap *pcap;   /* SYNACK_FUZZ_PCAP: what crossed the link */
};

static synack_endpoint ep(int host, uint16_t port)
{
	synack_endpoint e = {.addr = synack_addr_ipv4(10, 0, 0, (uint8_t)(host + 1)), .port = port};
	return e;
}

static void drain_reads(synack_tcp *c)
{
	uint8_t buf[4096];
	while (synack_tcp_recv(c, buf, sizeof buf) > 0)
		;
}

static void keep_handle(struct world *w, synack_tcp *c)
{
	if (w->nextra < MAX_HANDLES)
		w->extra[w->nextra++] = c;
	else
		synack_tcp_abort(c);
}

/* Remember the last SYN-ACK so FL_SEQ/FL_ACK can complete handshakes of
 * connections the fuzzer opens (their ISS is only visible in the trace). */
static void note_synack(struct world *w, const synack_trace_rec *r)
{
	uint16_t sa = SYNACK_TCP_SYN | SYNACK_TCP_ACK;
	if (r->kind != SYNACK_TRACE_SEG_OUT || (r->seg.flags & sa) != sa)
		return;
	w->have_synack = true;
	w->synack = r->seg;
	w->synack_to = r->remote;
}

/* The application side: accept, read, drain events and the trace. */
static void service(struct world *w)
{
	synack_stack *srv = w->sim.stack[1], *cli = w->sim.stack[0];
	synack_tcp *c, *n;
	uint32_t ev;
	while ((c = synack_stack_next_event(srv, &ev))) {
		if (c == w->listener) {
			while (synack_tcp_accept(w->listener, &n) == 0)
				keep_handle(w, n);
		} else if ((ev & SYNACK_EV_READABLE) && (w->flags & FL_READ)) {
			drain_reads(c);
		}
	}
	while ((c = synack_stack_next_event(cli, &ev)))
		if (ev & SYNACK_EV_READABLE)
			drain_reads(c);
	synack_trace_rec rec[16];
	size_t nrec;
	while ((nrec = synack_stack_trace_drain(srv, rec, 16)) > 0)
		for (size_t i = 0; i < nrec; i++)
			note_synack(w, &rec[i]);
}

/* A storm guard. The link has a 100 us delay so that every exchange is a
 * separate sim step (on a zero-delay link an endless exchange would loop
 * inside one synack_memlink_deliver() call). An input that needs more steps
 * than this has started an endless exchange, e.g. an ACK storm between a
 * desynchronized pair: each side answers the other's unacceptable segment
 * with an ACK (RFC 9293 §3.10.7.4), which Linux breaks by rate-limiting
 * such ACKs (tcp_invalid_ratelimit, 500 ms). That is a finding: abort().
 * SYNACK_FUZZ_ALLOW_STORMS=1 tolerates it instead: every handle is aborted
 * (the RSTs end the exchange) and the input's remaining frames are skipped,
 * so fuzzing can go on past a known storm. */
enum { STEP_BUDGET = 100000 };
#ifndef FUZZ_LINK_DELAY_US
#define FUZZ_LINK_DELAY_US 100
#endif
static bool allow_storms;

static void print_trace_tail(struct world *w)
{
	synack_trace_rec rec[8];
	size_t n = synack_stack_trace_drain(w->sim.stack[1], rec, 8);
	for (size_t i = 0; i < n; i++)
		fprintf(stderr, "  server %s flags %02x seq %u ack %u len %u\n",
			rec[i].kind == SYNACK_TRACE_SEG_IN    ? "in "
			: rec[i].kind == SYNACK_TRACE_SEG_OUT ? "out"
							      : "rec",
			rec[i].seg.flags, rec[i].seg.seq, rec[i].seg.ack, rec[i].seg.len);
}

static void abort_all(struct world *w);

static bool step(struct world *w, synack_time_t end)
{
	if (w->stormed || !synack_sim_step(&w->sim, end))
		return false;
	if (++w->steps <= STEP_BUDGET)
		return true;
	fprintf(stderr, "storm: more than %d sim steps (virtual time %.3f s)\n", STEP_BUDGET,
		(double)w->sim.now / 1e6);
	print_trace_tail(w);
	REQUIRE(allow_storms && "endless exchange (e.g. an ACK storm)");
	abort_all(w);
	w->stormed = true;
	return false;
}

static void run_for(struct world *w, synack_time_t d)
{
	synack_time_t end = w->sim.now + d;
	while (step(w, end))
		service(w);
	service(w);
}

static void make_config(struct world *w, int i, synack_stack_config *cfg)
{
	synack_stack_config_init(cfg);
	cfg->addr = synack_addr_ipv4(10, 0, 0, (uint8_t)(i + 1));
	cfg->prefix_len = 24;
	cfg->allocator = (synack_allocator){.alloc = c_alloc, .free = c_free, .ctx = &w->mem[i]};
	cfg->trace_capacity = i == 1 ? 32 : 0;
}

/* Pair, listener, one connection with a few bytes each way. */
static void setup(struct world *w)
{
	synack_stack_config cfg[2];
	make_config(w, 0, &cfg[0]);
	make_config(w, 1, &cfg[1]);
	synack_impair link = {.delay = SYNACK_USEC(FUZZ_LINK_DELAY_US)};
	REQUIRE(synack_sim_init(&w->sim, 1, &link, &cfg[0], &cfg[1]) == 0);
	const char *pcap = getenv("SYNACK_FUZZ_PCAP");
	if (pcap && synack_pcap_open(pcap, &w->pcap) == 0)
		synack_memlink_set_pcap(w->sim.link, w->pcap);
	synack_endpoint sep = ep(1, SERVER_PORT);
	REQUIRE(synack_tcp_listen(w->sim.stack[1], &sep, 8, &w->listener) == 0);
	REQUIRE(synack_tcp_connect(w->sim.stack[0], &sep, NULL, &w->client) == 0);
	synack_time_t end = w->sim.now + SYNACK_SEC(10);
	while (synack_tcp_accept(w->listener, &w->server) != 0)
		REQUIRE(synack_sim_step(&w->sim, end));
	REQUIRE(synack_tcp_state(w->client) == SYNACK_TCP_ESTABLISHED);
	REQUIRE(synack_tcp_send(w->client, "hello", 5) == 5);
	REQUIRE(synack_tcp_send(w->server, "world!", 6) == 6);
	run_for(w, SYNACK_MSEC(500));
	uint8_t buf[16];
	REQUIRE(synack_tcp_recv(w->server, buf, sizeof buf) == 5); /* the client read by service() */
}

/* ---- frame fix-up ---- */

static void fix_tcp(struct world *w, uint8_t *l4, size_t len, const uint8_t *ip)
{
	if (len < WIRE_TCP_HDR)
		return;
	synack_tcp_info info;
	synack_endpoint local, remote;
	synack_tcp_get_info(w->server, &info);
	synack_tcp_endpoints(w->server, &local, &remote);
	if (w->flags & FL_TUPLE) {
		wr16(l4, remote.port);
		wr16(l4 + 2, local.port);
	}
	synack_addr s = synack_addr_ipv4(ip[12], ip[13], ip[14], ip[15]);
	synack_addr d = synack_addr_ipv4(ip[16], ip[17], ip[18], ip[19]);
	uint32_t rcv_nxt = info.rcv_nxt, snd_una = info.snd_una;
	if (w->have_synack && synack_addr_equal(&s, &w->synack_to.addr) && rd16(l4) == w->synack_to.port) {
		rcv_nxt = w->synack.ack; /* a connection the fuzzer opened */
		snd_una = w->synack.seq + 1;
	}
	if (w->flags & FL_SEQ)
		wr32(l4 + 4, rcv_nxt + (uint32_t)(int32_t)(int8_t)l4[7]);
	if (w->flags & FL_ACK)
		wr32(l4 + 8, snd_una + (uint32_t)(int32_t)(int8_t)l4[11]);
	wire_tcp_set_csum(l4, len, &s, &d);
}

static void fix_l4(struct world *w, uint8_t *f, size_t len)
{
	size_t hl = (size_t)(f[0] & 15) * 4, total = rd16(f + 2);
	if (hl < WIRE_IPV4_HDR || hl > total || total > len)
		return;
	if (f[9] == WIRE_PROTO_TCP) {
		fix_tcp(w, f + hl, total - hl, f);
	} else if (f[9] == WIRE_PROTO_ICMP && total - hl >= 8) {
		wr16(f + hl + 2, 0);
		wr16(f + hl + 2, wire_csum_finish(wire_csum_add(0, f + hl, total - hl)));
	}
}

static void fixup(struct world *w, uint8_t *f, size_t len)
{
	if (!(w->flags & FL_FIX) || len < WIRE_IPV4_HDR)
		return;
	if (w->flags & FL_LEN) {
		f[0] = (uint8_t)(0x40 | (f[0] & 15));
		wr16(f + 2, (uint16_t)(len > 65535 ? 65535 : len));
	}
	memcpy(f + 16, (const uint8_t[]){10, 0, 0, 2}, 4);
	if (w->flags & FL_TUPLE) {
		memcpy(f + 12, (const uint8_t[]){10, 0, 0, 1}, 4);
		f[9] = WIRE_PROTO_TCP;
	}
	fix_l4(w, f, len);
	size_t hl = (size_t)(f[0] & 15) * 4;
	if (hl >= WIRE_IPV4_HDR && hl <= len) {
		wr16(f + 10, 0);
		wr16(f + 10, wire_csum_finish(wire_csum_add(0, f, hl)));
	}
}

/* ---- the run ---- */

static void traffic(struct world *w)
{
	static const char up[100] = "client data", down[50] = "server data";
	synack_tcp_send(w->client, up, sizeof up);
	synack_tcp_send(w->server, down, sizeof down);
}

static void feed(struct world *w, const uint8_t *data, size_t size)
{
	size_t off = 1;
	for (int i = 0; i < MAX_FRAMES && off + 2 <= size && !w->stormed; i++) {
		unsigned v = rd16(data + off);
		off += 2;
		size_t len = v & 0x7ff, d = v >> 11;
		if (len > size - off)
			len = size - off;
		run_for(w, SYNACK_MSEC(10) * (synack_time_t)(d * d));
		if (w->stormed)
			break;
		if (w->flags & FL_TRAFFIC)
			traffic(w);
		uint8_t *f = malloc(len ? len : 1); /* exact size: ASan sees overreads */
		memcpy(f, data + off, len);
		fixup(w, f, len);
		synack_stack_input(w->sim.stack[1], f, len, w->sim.now);
		free(f);
		off += len;
		service(w);
	}
	run_for(w, SYNACK_SEC(1));
}

static size_t tcbs(struct world *w)
{
	return synack_stack_tcb_count(w->sim.stack[0]) + synack_stack_tcb_count(w->sim.stack[1]);
}

static void finish_handle(synack_tcp *c, bool close)
{
	if (!c)
		return; /* already released */
	if (close)
		synack_tcp_close(c);
	else
		synack_tcp_abort(c);
}

static void finish_all(struct world *w, bool close)
{
	for (size_t i = 0; i < w->nextra; i++)
		finish_handle(w->extra[i], close);
	finish_handle(w->server, close);
	finish_handle(w->client, close);
	finish_handle(w->listener, close);
	w->nextra = 0;
	w->server = w->client = w->listener = NULL;
}

static void abort_all(struct world *w)
{
	finish_all(w, false);
}

/* Close or abort every handle, then wait (bounded) for the stacks to let go
 * of every TCB: orphans finish their FIN exchange, TIME-WAIT or time out. */
static void finish(struct world *w)
{
	if (!w->stormed)
		finish_all(w, w->flags & FL_CLOSE);
	w->stormed = false;
	w->steps = 0;
	synack_time_t end = w->sim.now + SYNACK_SEC(7200);
	while (tcbs(w) && step(w, end))
		service(w);
	/* then let every other timer run out (IP reassembly, ...), so that
	 * only an idle stack's allocations remain */
	while (synack_sim_next(&w->sim) != SYNACK_TIME_NEVER && step(w, end))
		service(w);
	if (w->verbose)
		fprintf(stderr, "finish at %.3f s: %zu TCBs left\n", (double)w->sim.now / 1e6, tcbs(w));
	/* a tolerated storm among closed (released) connections cannot be
	 * stopped from the API: only the final destroy is checked then */
	REQUIRE(tcbs(w) == 0 || w->stormed);
}

/* Blocks an idle stack keeps (its own object and tables) after the setup
 * and an abort of everything, measured once in LLVMFuzzerInitialize. */
static size_t idle_blocks[2] = {SIZE_MAX, SIZE_MAX};

static void check_memory(struct world *w)
{
	for (int i = 0; i < 2; i++) {
		size_t bytes, blocks;
		synack_stack_memory(w->sim.stack[i], &bytes, &blocks);
		if (w->verbose)
			fprintf(stderr, "stack %d: %zu blocks, %zu bytes (allocator %zu, %zu; idle %zu)\n", i,
				blocks, bytes, w->mem[i].blocks, w->mem[i].bytes, idle_blocks[i]);
		REQUIRE(blocks == w->mem[i].blocks && bytes == w->mem[i].bytes);
		REQUIRE(blocks <= idle_blocks[i] || w->stormed);
	}
	synack_sim_destroy(&w->sim);
	if (w->pcap)
		synack_pcap_close(w->pcap);
	for (int i = 0; i < 2; i++)
		REQUIRE(w->mem[i].blocks == 0 && w->mem[i].bytes == 0);
}

static void measure_idle(void)
{
	static struct world w;
	memset(&w, 0, sizeof w);
	setup(&w);
	finish(&w);
	for (int i = 0; i < 2; i++) {
		size_t bytes;
		synack_stack_memory(w.sim.stack[i], &bytes, &idle_blocks[i]);
	}
	check_memory(&w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct world w;
	memset(&w, 0, sizeof w);
	w.verbose = getenv("SYNACK_FUZZ_VERBOSE") != NULL;
	setup(&w);
	w.flags = size ? data[0] : 0; /* after setup: it must not depend on them */
	feed(&w, data, size);
	if (w.verbose)
		fprintf(stderr, "after %zu bytes: server drops %llu, %zu TCBs, %zu extra handles\n", size,
			(unsigned long long)synack_stack_drops(w.sim.stack[1]), tcbs(&w), w.nextra);
	finish(&w);
	check_memory(&w);
	return 0;
}

/* ---- seeds ---- */

static size_t put_frame(uint8_t *out, unsigned delay, const uint8_t *f, size_t len)
{
	wr16(out, (uint16_t)(delay << 11 | len));
	memcpy(out + 2, f, len);
	return 2 + len;
}

/* A TCP segment 10.0.0.1 -> 10.0.0.2:80 (ports/seq/ack left for FL_* to
 * fix), checksums right for those addresses. */
static size_t tcp_frame_from(uint8_t *f, uint8_t host, uint16_t sport, uint8_t flags,
			     const struct wire_tcp_opts *o, const char *payload)
{
	synack_addr s = synack_addr_ipv4(10, 0, 0, host), d = synack_addr_ipv4(10, 0, 0, 2);
	struct wire_tcp t;
	memset(&t, 0, sizeof t);
	t.sport = sport;
	t.dport = SERVER_PORT;
	t.seq = 0x10000; /* low bytes 0: FL_SEQ/FL_ACK offsets of 0 */
	t.ack = flags & SYNACK_TCP_ACK ? 0x20000 : 0;
	t.flags = flags;
	t.wnd = 65535;
	t.opt = *o;
	size_t hl = wire_tcp_emit(f + 20, &t);
	size_t pl = strlen(payload);
	memcpy(f + 20 + hl, payload, pl);
	wire_tcp_set_csum(f + 20, hl + pl, &s, &d);
	wire_ipv4_emit(f, &s, &d, WIRE_PROTO_TCP, 64, 1, true, hl + pl);
	return 20 + hl + pl;
}

static size_t tcp_frame(uint8_t *f, uint16_t sport, uint8_t flags, const struct wire_tcp_opts *o,
			const char *payload)
{
	return tcp_frame_from(f, 1, sport, flags, o, payload);
}

static void write_seed(const char *dir, const char *name, const uint8_t *b, size_t n)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(b, 1, n, f) != n)
		perror(path);
	if (f)
		fclose(f);
}

static void write_seeds(const char *dir)
{
	uint8_t in[4096], f[256];
	size_t n;
	struct wire_tcp_opts syn = {
	    .has_mss = 1, .mss = 1460, .sack_ok = 1, .has_ts = 1, .ts_val = 1, .wscale = 7};
	struct wire_tcp_opts none = {.wscale = -1};
	struct wire_tcp_opts sack = {.wscale = -1, .nsack = 1, .sack = {{5000, 6000}}};
	const unsigned live = FL_FIX | FL_TUPLE | FL_SEQ | FL_ACK | FL_READ;

	/* a new connection from 10.0.0.3 (nobody answers for it): SYN, then
	 * the handshake's ACK, data and FIN, the seq/ack taken from the trace */
	in[0] = FL_FIX | FL_SEQ | FL_ACK | FL_READ;
	n = 1 + put_frame(in + 1, 0, f, tcp_frame_from(f, 3, 50000, SYNACK_TCP_SYN, &syn, ""));
	n += put_frame(in + n, 1, f, tcp_frame_from(f, 3, 50000, SYNACK_TCP_ACK, &none, ""));
	n += put_frame(in + n, 1, f,
		       tcp_frame_from(f, 3, 50000, SYNACK_TCP_ACK | SYNACK_TCP_FIN, &none, "hi"));
	write_seed(dir, "new-syn", in, n);

	/* data, out-of-order data, FIN, on the live connection */
	in[0] = (uint8_t)live;
	n = 1 + put_frame(in + 1, 1, f, tcp_frame(f, 1, SYNACK_TCP_ACK | SYNACK_TCP_PSH, &none, "abc"));
	n += put_frame(in + n, 1, f, tcp_frame(f, 1, SYNACK_TCP_ACK, &sack, "zzzzzzzzzz"));
	n += put_frame(in + n, 2, f, tcp_frame(f, 1, SYNACK_TCP_ACK | SYNACK_TCP_FIN, &none, ""));
	write_seed(dir, "live-data-fin", in, n);

	/* RST and SYN on the live connection (RFC 5961 paths), with traffic */
	in[0] = (uint8_t)(live | FL_TRAFFIC | FL_CLOSE);
	n = 1 + put_frame(in + 1, 1, f, tcp_frame(f, 1, SYNACK_TCP_SYN, &syn, ""));
	n += put_frame(in + n, 1, f, tcp_frame(f, 1, SYNACK_TCP_RST, &none, ""));
	write_seed(dir, "live-syn-rst", in, n);

	/* an ICMP echo request */
	static const uint8_t rest[4] = {0x12, 0x34, 0, 1};
	synack_addr s = synack_addr_ipv4(10, 0, 0, 1), d = synack_addr_ipv4(10, 0, 0, 2);
	size_t il = wire_icmp_emit(f + 20, WIRE_ICMP_ECHO_REQUEST, 0, rest, (const uint8_t *)"ping", 4);
	wire_ipv4_emit(f, &s, &d, WIRE_PROTO_ICMP, 64, 9, false, il);
	in[0] = FL_FIX;
	n = 1 + put_frame(in + 1, 0, f, 20 + il);
	write_seed(dir, "icmp-echo", in, n);

	/* a zero window advertised on the live connection, then a long wait */
	in[0] = (uint8_t)(live | FL_TRAFFIC);
	n = 1 + put_frame(in + 1, 1, f, tcp_frame(f, 1, SYNACK_TCP_ACK, &none, ""));
	wr16(in + 1 + 2 + 20 + 14, 0); /* window 0; checksum is recomputed */
	n += put_frame(in + n, 31, f, 0);
	write_seed(dir, "live-zero-window", in, n);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	const char *dir = getenv("SYNACK_FUZZ_SEEDS");
	allow_storms = getenv("SYNACK_FUZZ_ALLOW_STORMS") != NULL;
	if (dir) {
		write_seeds(dir);
		exit(0);
	}
	measure_idle();
	return 0;
}
