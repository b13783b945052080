/* libFuzzer target: hostile frames into a live stack, through the public
 * API only (sim.h, tcp.h; wire.h is used just to compute checksums).
 *
 * For every input: a simulated pair (client 10.0.0.1, server 10.0.0.2 on a
 * lossless link with a 100 us delay; MTU 1500, SACK and timestamps on), a
 * listener on server port 80, one established connection that has carried
 * a few bytes each way. Then the input is cut into frames and each is fed
 * to the server with synack_stack_input() at an advancing virtual time;
 * between frames the simulation runs (timers fire, the real client answers
 * whatever the server sends) and the application side accepts new
 * connections and reads/writes. With FL_TRAFFIC the server's application
 * refills every connection's send queue before each frame, so full-sized
 * segments leave the server while the fuzzer's frames hold gaps open in
 * what it receives (out-of-order data: SACK blocks on those segments), ACK
 * and SACK its data and move its window: the output path from every state
 * the input side can reach (a data segment with SACK blocks on top of a
 * full MSS once overflowed the frame buffer, issue 7).
 *
 * Input layout:
 *   byte 0        flags (FL_* below)
 *   then records  u16 big-endian v: frame length v & 0x7ff (up to 2047:
 *                 larger than the MTU), delay before
 *                 the frame (v >> 11)^2 * 10 ms; followed by the frame
 *                 (cut to what remains). At most MAX_FRAMES records.
 * The FL_FIX bit "fixes up" each frame so the fuzzer gets past the checksum
 * and address checks: destination 10.0.0.2, optionally source, protocol,
 * ports, seq and ack of the live connection, total length; then the IPv4
 * header checksum and the TCP (or ICMP) checksum are recomputed. Frames
 * from the peer of the server's last SYN-ACK (seen in the trace) get that
 * connection's seq/ack instead, so the fuzzer can open and use its own
 * connections from other addresses (10.0.0.3 in the seed).
 * A frame whose IPv4 Identification is odd (after the fix-up) is fed with
 * SYNACK_RX_CSUM_OK, as from a TUN whose virtio-net header vouches for the
 * checksum: TCP then takes any checksum, and segments above the MTU.
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
 *     the storm guard in fuzz_common.c; this is what catches ACK storms).
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
#include "fuzz_common.h"

enum {
	FL_FIX = 1 << 0, /* dst 10.0.0.2, recompute checksums */
			 /* FL_TUPLE (src 10.0.0.1), FL_SEQ, FL_ACK, FL_LEN (version 4, total
			  * length = frame length), FL_CLOSE, FL_TRAFFIC, FL_READ: fuzz_common.h */
};

/* The storm guard (fuzz_common.c) needs a link delay: every exchange is a
 * separate sim step. */
#ifndef FUZZ_LINK_DELAY_US
#define FUZZ_LINK_DELAY_US 100
#endif

static synack_endpoint ep(int host, uint16_t port)
{
	synack_endpoint e = {.addr = synack_addr_ipv4(10, 0, 0, (uint8_t)(host + 1)), .port = port};
	return e;
}

/* Pair, listener, one connection with a few bytes each way. */
static void setup(struct world *w)
{
	synack_stack_config cfg[2];
	fuzz_config(w, 0, &cfg[0]);
	fuzz_config(w, 1, &cfg[1]);
	synack_endpoint sep = ep(1, SERVER_PORT);
	fuzz_setup(w, cfg, &sep, SYNACK_USEC(FUZZ_LINK_DELAY_US));
}

/* ---- frame fix-up ---- */

static void fix_tcp(struct world *w, uint8_t *l4, size_t len, const uint8_t *ip)
{
	if (len < WIRE_TCP_HDR)
		return;
	synack_addr s = synack_addr_ipv4(ip[12], ip[13], ip[14], ip[15]);
	synack_addr d = synack_addr_ipv4(ip[16], ip[17], ip[18], ip[19]);
	fuzz_fix_tcp(w, l4, &s);
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

/* A record's frame, fixed up, as an exact-size copy (ASan sees overreads). */
static void input_frame(struct world *w, const uint8_t *rec, const uint8_t *data, size_t len)
{
	(void)rec;
	uint8_t *f = malloc(len ? len : 1);
	memcpy(f, data, len);
	fixup(w, f, len);
	/* the low bit of the IPv4 Identification (after the fixup): the link
	 * vouches for the checksum (a TUN's virtio-net header), so segments of
	 * any checksum, and larger than the MTU, reach TCP */
	uint32_t fl = len > 5 && (f[5] & 1) ? SYNACK_RX_CSUM_OK : 0;
	synack_stack_input_flags(w->sim.stack[1], f, len, fl, w->sim.now);
	free(f);
}

static void measure_idle(void)
{
	static struct world w;
	memset(&w, 0, sizeof w);
	setup(&w);
	fuzz_measure_idle(&w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct world w;
	fuzz_world_start(&w);
	setup(&w);
	w.flags = size ? data[0] : 0; /* after setup: it must not depend on them */
	fuzz_feed(&w, data, size, 1, 2, input_frame);
	if (w.verbose)
		fprintf(stderr, "after %zu bytes: server drops %llu, %zu TCBs, %zu extra handles\n", size,
			(unsigned long long)synack_stack_drops(w.sim.stack[1]), fuzz_tcbs(&w), w.nextra);
	fuzz_finish(&w);
	fuzz_check_memory(&w);
	return 0;
}

/* ---- seeds ---- */

static size_t put_frame(uint8_t *out, unsigned delay, const uint8_t *f, size_t len)
{
	wr16(out, (uint16_t)(delay << 11 | len));
	memcpy(out + 2, f, len);
	return 2 + len;
}

enum { SEED_FRAME = 256 };

/* A TCP segment 10.0.0.host -> 10.0.0.2:80 (ports/seq/ack left for FL_*
 * to fix), checksums right for those addresses, in f[0..SEED_FRAME). */
static size_t tcp_frame_from(uint8_t f[SEED_FRAME], uint8_t host, uint16_t sport, uint8_t flags,
			     const struct wire_tcp_opts *o, const char *payload)
{
	synack_addr s = synack_addr_ipv4(10, 0, 0, host), d = synack_addr_ipv4(10, 0, 0, 2);
	return fuzz_tcp_pkt(f, SEED_FRAME, &s, &d, sport, flags, o, payload);
}

static size_t tcp_frame(uint8_t f[SEED_FRAME], uint16_t sport, uint8_t flags, const struct wire_tcp_opts *o,
			const char *payload)
{
	return tcp_frame_from(f, 1, sport, flags, o, payload);
}

static void write_seeds(const char *dir)
{
	uint8_t in[4096], f[SEED_FRAME];
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
	fuzz_write_seed(dir, "new-syn", in, n);

	/* data, out-of-order data, FIN, on the live connection */
	in[0] = (uint8_t)live;
	n = 1 + put_frame(in + 1, 1, f, tcp_frame(f, 1, SYNACK_TCP_ACK | SYNACK_TCP_PSH, &none, "abc"));
	n += put_frame(in + n, 1, f, tcp_frame(f, 1, SYNACK_TCP_ACK, &sack, "zzzzzzzzzz"));
	n += put_frame(in + n, 2, f, tcp_frame(f, 1, SYNACK_TCP_ACK | SYNACK_TCP_FIN, &none, ""));
	fuzz_write_seed(dir, "live-data-fin", in, n);

	/* RST and SYN on the live connection (RFC 5961 paths), with traffic */
	in[0] = (uint8_t)(live | FL_TRAFFIC | FL_CLOSE);
	n = 1 + put_frame(in + 1, 1, f, tcp_frame(f, 1, SYNACK_TCP_SYN, &syn, ""));
	n += put_frame(in + n, 1, f, tcp_frame(f, 1, SYNACK_TCP_RST, &none, ""));
	fuzz_write_seed(dir, "live-syn-rst", in, n);

	/* an ICMP echo request */
	static const uint8_t rest[4] = {0x12, 0x34, 0, 1};
	synack_addr s = synack_addr_ipv4(10, 0, 0, 1), d = synack_addr_ipv4(10, 0, 0, 2);
	struct bbuf b = bbuf_make(f + 20, sizeof f - 20), ip = bbuf_make(f, sizeof f);
	size_t il = wire_icmp_emit(&b, WIRE_ICMP_ECHO_REQUEST, 0, rest, (const uint8_t *)"ping", 4);
	wire_ipv4_emit(&ip, &s, &d, WIRE_PROTO_ICMP, 64, 9, 0, il);
	REQUIRE(bbuf_ok(&b) && bbuf_ok(&ip));
	in[0] = FL_FIX;
	n = 1 + put_frame(in + 1, 0, f, 20 + il);
	fuzz_write_seed(dir, "icmp-echo", in, n);

	/* the server sending bulk data (FL_TRAFFIC) while it holds data out of
	 * order, 120 bytes past its RCV.NXT (past what the client has in
	 * flight): its full-sized segments carry SACK blocks; then an ACK with
	 * a SACK block, a zero window and a window update */
	in[0] = (uint8_t)(live | FL_TRAFFIC);
	n = 1 + put_frame(in + 1, 1, f, tcp_frame(f, 1, SYNACK_TCP_ACK, &none, "out of order"));
	in[1 + 2 + 20 + 7] = 120; /* the low byte of seq: RCV.NXT + 120 */
	n += put_frame(in + n, 1, f, tcp_frame(f, 1, SYNACK_TCP_ACK, &sack, ""));
	size_t zero = n + 2 + 20 + 14;
	n += put_frame(in + n, 2, f, tcp_frame(f, 1, SYNACK_TCP_ACK, &none, ""));
	wr16(in + zero, 0); /* window 0 */
	n += put_frame(in + n, 4, f, tcp_frame(f, 1, SYNACK_TCP_ACK, &none, ""));
	fuzz_write_seed(dir, "bulk-ooo-sack", in, n);

	/* a zero window advertised on the live connection, then a long wait */
	in[0] = (uint8_t)(live | FL_TRAFFIC);
	n = 1 + put_frame(in + 1, 1, f, tcp_frame(f, 1, SYNACK_TCP_ACK, &none, ""));
	wr16(in + 1 + 2 + 20 + 14, 0); /* window 0; checksum is recomputed */
	n += put_frame(in + n, 31, f, 0);
	fuzz_write_seed(dir, "live-zero-window", in, n);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init(write_seeds);
	measure_idle();
	return 0;
}
