/* What the libFuzzer targets share: see fuzz_common.h. */
#include "fuzz_common.h"

/* ---- counting allocator ---- */

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

/* ---- the application side ---- */

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

/* Accept, read, drain events and the trace. */
void fuzz_service(struct world *w)
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

/* ---- closing every handle ---- */

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

/* ---- the storm guard ---- */

/* The link has a delay so that every exchange is a separate sim step (on a
 * zero-delay link an endless exchange would loop inside one
 * synack_memlink_deliver() call). An input that needs more steps than this
 * has started an endless exchange, e.g. an ACK storm between a
 * desynchronized pair: each side answers the other's unacceptable segment
 * with an ACK (RFC 9293 §3.10.7.4), which Linux breaks by rate-limiting
 * such ACKs (tcp_invalid_ratelimit, 500 ms). That is a finding: abort().
 * SYNACK_FUZZ_ALLOW_STORMS=1 tolerates it instead: every handle is aborted
 * (the RSTs end the exchange) and the input's remaining frames are skipped,
 * so fuzzing can go on past a known storm. */
enum { STEP_BUDGET = 100000 };
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

static bool step(struct world *w, synack_time_t end)
{
	if (w->stormed || !synack_sim_step(&w->sim, end))
		return false;
	if (++w->steps <= STEP_BUDGET)
		return true;
	fprintf(stderr, "storm: more than %d sim steps (virtual time %.3f s, mode %d)\n", STEP_BUDGET,
		(double)w->sim.now / 1e6, w->mode);
	print_trace_tail(w);
	REQUIRE(allow_storms && "endless exchange (e.g. an ACK storm)");
	finish_all(w, false);
	w->stormed = true;
	return false;
}

void fuzz_run_for(struct world *w, synack_time_t d)
{
	synack_time_t end = w->sim.now + d;
	while (step(w, end))
		fuzz_service(w);
	fuzz_service(w);
}

/* ---- set-up ---- */

void fuzz_init(void (*write_seeds)(const char *dir))
{
	const char *dir = getenv("SYNACK_FUZZ_SEEDS");
	allow_storms = getenv("SYNACK_FUZZ_ALLOW_STORMS") != NULL;
	if (dir) {
		write_seeds(dir);
		exit(0);
	}
}

void fuzz_world_start(struct world *w)
{
	memset(w, 0, sizeof *w);
	w->verbose = getenv("SYNACK_FUZZ_VERBOSE") != NULL;
}

void fuzz_config(struct world *w, int i, synack_stack_config *cfg)
{
	synack_stack_config_init(cfg);
	cfg->addr = synack_addr_ipv4(10, 0, 0, (uint8_t)(i + 1));
	cfg->prefix_len = 24;
	/* full-sized segments with timestamps and SACK blocks, as on a real
	 * Ethernet path: where a frame's limit is met (issue 7) */
	cfg->mtu = 1500;
	cfg->tcp.sack_enable = 1;
	cfg->tcp.ts_enable = 1;
	if (i == 1) /* FL_TRAFFIC keeps it full: a window's worth, cheap to refill */
		cfg->tcp.sndbuf = SERVER_SNDBUF;
	cfg->allocator = (synack_allocator){.alloc = c_alloc, .free = c_free, .ctx = &w->mem[i]};
	cfg->trace_capacity = i == 1 ? 32 : 0;
}

void fuzz_setup(struct world *w, const synack_stack_config cfg[2], const synack_endpoint *sep,
		synack_time_t delay)
{
	synack_impair link = {.delay = delay};
	REQUIRE(synack_sim_init(&w->sim, 1, &link, &cfg[0], &cfg[1]) == 0);
	const char *pcap = getenv("SYNACK_FUZZ_PCAP");
	if (pcap && synack_pcap_open(pcap, &w->pcap) == 0)
		synack_memlink_set_pcap(w->sim.link, w->pcap);
	REQUIRE(synack_tcp_listen(w->sim.stack[1], sep, 8, &w->listener) == 0);
	REQUIRE(synack_tcp_connect(w->sim.stack[0], sep, NULL, &w->client) == 0);
	synack_time_t end = w->sim.now + SYNACK_SEC(10);
	while (synack_tcp_accept(w->listener, &w->server) != 0)
		REQUIRE(synack_sim_step(&w->sim, end));
	REQUIRE(synack_tcp_state(w->client) == SYNACK_TCP_ESTABLISHED);
	REQUIRE(synack_tcp_send(w->client, "hello", 5) == 5);
	REQUIRE(synack_tcp_send(w->server, "world!", 6) == 6);
	fuzz_run_for(w, SYNACK_MSEC(500));
	uint8_t buf[16];
	REQUIRE(synack_tcp_recv(w->server, buf, sizeof buf) == 5); /* the client read by service() */
}

/* ---- the run ---- */

/* Write as much as c's send buffer takes. */
static void fill_send_queue(synack_tcp *c)
{
	static const uint8_t bulk[4096];
	while (c && synack_tcp_send(c, bulk, sizeof bulk) == (ssize_t)sizeof bulk)
		;
}

/* FL_TRAFFIC: data both ways. The client sends a little; the server's
 * application keeps every connection's send queue full, so the server
 * sends full-sized segments while the fuzzer's frames leave gaps in what
 * it receives (SACK blocks beside a full MSS), move its window and ACK or
 * SACK its data. */
static void traffic(struct world *w)
{
	static const char up[100] = "client data";
	synack_tcp_send(w->client, up, sizeof up);
	fill_send_queue(w->server);
	for (size_t i = 0; i < w->nextra; i++)
		fill_send_queue(w->extra[i]);
}

void fuzz_feed(struct world *w, const uint8_t *data, size_t size, size_t start, size_t head,
	       fuzz_frame_fn *frame)
{
	size_t off = start;
	for (int i = 0; i < MAX_FRAMES && off + head <= size && !w->stormed; i++) {
		const uint8_t *rec = data + off;
		unsigned v = rd16(rec);
		off += head;
		size_t len = v & 0x7ff, d = v >> 11;
		if (len > size - off)
			len = size - off;
		fuzz_run_for(w, SYNACK_MSEC(10) * (synack_time_t)(d * d));
		if (w->stormed)
			break;
		if (w->flags & FL_TRAFFIC)
			traffic(w);
		frame(w, rec, data + off, len);
		off += len;
		fuzz_service(w);
	}
	fuzz_run_for(w, SYNACK_SEC(1));
}

/* The connection the fuzzer opened (the peer of the last SYN-ACK), once
 * the server accepted it: where its sequence numbers are now. */
static void own_conn_now(struct world *w, uint32_t *rcv_nxt, uint32_t *snd_una)
{
	for (size_t i = 0; i < w->nextra; i++) {
		synack_endpoint local, remote;
		synack_tcp_info info;
		synack_tcp_endpoints(w->extra[i], &local, &remote);
		if (remote.port != w->synack_to.port || !synack_addr_equal(&remote.addr, &w->synack_to.addr))
			continue;
		synack_tcp_get_info(w->extra[i], &info);
		*rcv_nxt = info.rcv_nxt;
		*snd_una = info.snd_una;
	}
}

void fuzz_fix_tcp(struct world *w, uint8_t *l4, const synack_addr *s)
{
	synack_tcp_info info;
	synack_endpoint local, remote;
	synack_tcp_get_info(w->server, &info);
	synack_tcp_endpoints(w->server, &local, &remote);
	if (w->flags & FL_TUPLE) {
		wr16(l4, remote.port);
		wr16(l4 + 2, local.port);
	}
	uint32_t rcv_nxt = info.rcv_nxt, snd_una = info.snd_una;
	if (w->have_synack && synack_addr_equal(s, &w->synack_to.addr) && rd16(l4) == w->synack_to.port) {
		rcv_nxt = w->synack.ack; /* a connection the fuzzer opened */
		snd_una = w->synack.seq + 1;
		own_conn_now(w, &rcv_nxt, &snd_una);
	}
	if (w->flags & FL_SEQ)
		wr32(l4 + 4, rcv_nxt + (uint32_t)(int32_t)(int8_t)l4[7]);
	if (w->flags & FL_ACK)
		wr32(l4 + 8, snd_una + (uint32_t)(int32_t)(int8_t)l4[11]);
}

/* ---- the checks ---- */

size_t fuzz_tcbs(struct world *w)
{
	return synack_stack_tcb_count(w->sim.stack[0]) + synack_stack_tcb_count(w->sim.stack[1]);
}

/* Close or abort every handle, then wait (bounded) for the stacks to let go
 * of every TCB: orphans finish their FIN exchange, TIME-WAIT or time out. */
void fuzz_finish(struct world *w)
{
	if (!w->stormed)
		finish_all(w, w->flags & FL_CLOSE);
	w->stormed = false;
	w->steps = 0;
	synack_time_t end = w->sim.now + SYNACK_SEC(7200);
	while (fuzz_tcbs(w) && step(w, end))
		fuzz_service(w);
	/* then let every other timer run out (IP reassembly, neighbour
	 * cache, ...), so that only an idle stack's allocations remain */
	while (synack_sim_next(&w->sim) != SYNACK_TIME_NEVER && step(w, end))
		fuzz_service(w);
	if (w->verbose)
		fprintf(stderr, "finish at %.3f s: %zu TCBs left\n", (double)w->sim.now / 1e6, fuzz_tcbs(w));
	/* a tolerated storm among closed (released) connections cannot be
	 * stopped from the API: only the final destroy is checked then */
	REQUIRE(fuzz_tcbs(w) == 0 || w->stormed);
}

/* Blocks an idle stack keeps (its own object and tables) after the setup
 * and an abort of everything, per mode, measured in LLVMFuzzerInitialize. */
static size_t idle_blocks[FUZZ_MODES][2];

void fuzz_check_memory(struct world *w)
{
	for (int i = 0; i < 2; i++) {
		size_t bytes, blocks;
		synack_stack_trim(w->sim.stack[i]); /* data buffers kept for reuse go back */
		synack_stack_memory(w->sim.stack[i], &bytes, &blocks);
		if (w->verbose)
			fprintf(stderr, "stack %d: %zu blocks, %zu bytes (allocator %zu, %zu; idle %zu)\n", i,
				blocks, bytes, w->mem[i].blocks, w->mem[i].bytes, idle_blocks[w->mode][i]);
		REQUIRE(blocks == w->mem[i].blocks && bytes == w->mem[i].bytes);
		REQUIRE(blocks <= idle_blocks[w->mode][i] || w->stormed);
	}
	synack_sim_destroy(&w->sim);
	if (w->pcap)
		synack_pcap_close(w->pcap);
	for (int i = 0; i < 2; i++)
		REQUIRE(w->mem[i].blocks == 0 && w->mem[i].bytes == 0);
}

void fuzz_measure_idle(struct world *w)
{
	idle_blocks[w->mode][0] = idle_blocks[w->mode][1] = SIZE_MAX;
	fuzz_finish(w);
	for (int i = 0; i < 2; i++) {
		size_t bytes;
		synack_stack_memory(w->sim.stack[i], &bytes, &idle_blocks[w->mode][i]);
	}
	fuzz_check_memory(w);
}

/* ---- seeds ---- */

void fuzz_write_seed(const char *dir, const char *name, const uint8_t *b, size_t n)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(b, 1, n, f) != n)
		perror(path);
	if (f)
		fclose(f);
}

size_t fuzz_tcp_pkt(uint8_t *f, size_t cap, const synack_addr *s, const synack_addr *d, uint16_t sport,
		    uint8_t flags, const struct wire_tcp_opts *o, const char *payload)
{
	size_t ih = s->family == SYNACK_AF_INET ? WIRE_IPV4_HDR : WIRE_IPV6_HDR, pl = strlen(payload);
	struct wire_tcp t = {
	    .sport = sport, .dport = SERVER_PORT, .seq = 0x10000, .flags = flags, .wnd = 65535, .opt = *o};
	t.ack = flags & SYNACK_TCP_ACK ? 0x20000 : 0;
	REQUIRE(cap >= ih);
	struct bbuf b = bbuf_make(f + ih, cap - ih), ip = bbuf_make(f, cap);
	size_t hl = wire_tcp_emit(&b, &t, pl);
	bbuf_put(&b, payload, pl);
	REQUIRE(bbuf_ok(&b));
	wire_tcp_set_csum(f + ih, hl + pl, s, d);
	if (s->family == SYNACK_AF_INET)
		wire_ipv4_emit(&ip, s, d, WIRE_PROTO_TCP, 64, 1, WIRE_IPV4_DF, hl + pl);
	else
		wire_ipv6_emit(&ip, s, d, WIRE_PROTO_TCP, 64, hl + pl);
	REQUIRE(bbuf_ok(&ip));
	return ih + hl + pl;
}
