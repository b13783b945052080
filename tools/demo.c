/* `synack demo`: one TCP connection between two synack stacks on the
 * in-memory link, drawn as a ladder diagram.
 *
 * Implementation notes
 *
 * Run, then draw. The scenario runs first on virtual time (synack_sim): the
 * two stacks' trace records are drained after every sim step and after
 * every API call, tagged with their side (0 = client 10.0.0.1, 1 = server
 * 10.0.0.2) and a drain counter, and stored. When the run is over they are
 * sorted by (time, drain order) and handed one by one to the ladder
 * renderer (tools/ladder.c), which draws them and says what each segment
 * means; drawing needs look-ahead (did this segment arrive?) and
 * whole-connection facts (the client's port), which is why it comes last.
 * Output is deterministic for a seed.
 *
 * The application. Each end is a tiny program whose progress is an enum
 * app_step; events from synack_stack_next_event() drive it through one
 * switch (on_event). After a step changes, the new step's action is tried
 * at once, because the event that would have triggered it may already
 * have been collected (level-style events fire once per change).
 *
 * Lost segments. A segment is "lost" if it was sent (SEG_OUT) but never
 * reached the other stack's input. The sim attaches the stacks to the link;
 * we re-attach each port to a small receive hook that notes the frame's
 * TCP header (seq, ack, flags, length, TS value) and passes the frame on to
 * synack_stack_input(), which is all the sim's own hook does. The demo
 * asks the link for loss only, and the memory link keeps each direction
 * FIFO unless reordering or duplication is asked for, so the frames that
 * arrive in one direction are a subsequence of those sent, in order: the
 * next unmatched arrival either is this segment or this segment was lost.
 * This needs no cooperation from the stack's trace (a segment dropped by
 * the receiver still counts as arrived; the receiver's DROP record says
 * why it was refused). */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "synack/synack.h"
#include "wire/wire.h"
#include "cli.h"
#include "demo_tls.h"
#include "ladder.h"
#include "plot.h"

#define CLIENT		    0
#define SERVER		    1
#define SERVER_PORT	    80
#define SERVER_PORT_TLS	    443 /* where tshark and Wireshark look for TLS */
#define SIMOPEN_CLIENT_PORT 40000
#define MAX_BYTES	    (64ull << 20)
#define DEFAULT_BYTES	    1000
#define DEFAULT_RESET_BYTES 4000
#define TRACE_CAPACITY	    16384
#define MAX_STEPS	    50000000ull
#define EXTRA_TIME	    SYNACK_SEC(3600) /* virtual time allowed beyond 2*MSL */

static const char request[] = "GET / HTTP/1.0\r\nHost: 10.0.0.2\r\n\r\n";
static const char resp_head[] = "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n";

struct demo_opts {
	uint64_t bytes, seed, delay_ms, rate_mbit;
	double loss; /* fraction in [0, 1) */
	const char *pcap, *keylog, *plot;
	bool simopen, simclose, reset, stats, no_color, bytes_set, no_tls;
	uint16_t tls_version; /* SYNACK_TLS_VERSION_13 (default) or _12 */
};

/* What one end's application is doing. */
enum app_step {
	APP_LISTEN,   /* server: waiting for a connection to accept */
	APP_CONNECT,  /* waiting for the handshake to complete */
	APP_TLS,      /* TCP is up: the TLS handshake runs */
	APP_REQUEST,  /* server: reading the request */
	APP_RESPONSE, /* server: sending the response; client: reading it */
	APP_WAIT_EOF, /* waiting for the peer's FIN (server: response queued; TLS: close_notify sent) */
	APP_DONE,     /* handle closed, aborted, or reset as the scenario wants */
	APP_FAILED,
};

struct peer {
	enum app_step step;
	synack_tcp *conn, *listener;
	uint64_t done; /* bytes sent (server) or received (client) */
	char req[256];
	size_t req_len;
	uint32_t listener_id; /* conn_id of the listener's trace records */
	int last_state;	      /* latest state of the connection (not listener) */
	uint32_t visited;     /* bit per state the connection has been in */
	bool timed_out;	      /* the stack gave the connection up */
	struct demo_tls tls;  /* TLS over conn (tls.tls NULL: plain TCP) */
	bool tls_closed;      /* close_notify sent */
};

struct rec {
	synack_trace_rec r;
	uint8_t side;
	uint32_t order;
	int32_t tls; /* >= 0: a TLS trace entry (demo.tents[tls]); r.time only */
};

/* A TCP segment that reached the receiving stack's input. */
struct arrival {
	uint32_t seq, ack, tsval;
	uint16_t len;
	uint8_t flags;
};

struct demo {
	struct demo_opts o;
	synack_sim sim;
	synack_pcap *pcap;
	struct peer p[2];
	struct rec *recs;
	size_t nrecs, caprecs;
	struct demo_tls_world *tw; /* NULL with --no-tls */
	synack_tls_trace_entry *tents;
	size_t ntents, captents;
	FILE *keylog;
	FILE *plotf;		/* --plot: opened before the run, written after it */
	struct plot *plot;	/* the server's sending side, from its trace and samples */
	size_t plot_nrecs;	/* records when the server was last sampled */
	struct arrival *arr[2]; /* [side that sent it] */
	size_t narr[2], caparr[2];
	struct rxhook {
		struct demo *d;
		int port;
	} hook[2];
	synack_time_t t0, limit, msl;
	uint16_t client_port;
	bool failed;
	char why[200];
};

/* ---------------------------------------------------------------- helpers */

static void *grow(void *v, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return v;
	size_t n = *cap ? *cap * 2 : 256;
	while (n < need)
		n *= 2;
	void *p = realloc(v, n * size);
	if (!p) {
		fprintf(stderr, "synack: demo: out of memory\n");
		exit(CLI_FAIL);
	}
	*cap = n;
	return p;
}

static void fail(struct demo *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct demo *d, const char *fmt, ...)
{
	va_list ap;
	if (d->failed)
		return;
	d->failed = true;
	va_start(ap, fmt);
	vsnprintf(d->why, sizeof d->why, fmt, ap);
	va_end(ap);
}

static const char *side_name(int side)
{
	return side == CLIENT ? "client" : "server";
}

static uint8_t resp_byte(uint64_t i)
{
	const uint64_t head = sizeof resp_head - 1;
	if (i < head)
		return (uint8_t)resp_head[i];
	i -= head;
	return i % 64 == 63 ? '\n' : (uint8_t)('a' + (i / 64 + i) % 26);
}

/* ---------------------------------------------------------------- options */

enum {
	OPT_HELP = 1,
	OPT_BYTES,
	OPT_DELAY,
	OPT_RATE,
	OPT_LOSS,
	OPT_SEED,
	OPT_SIMOPEN,
	OPT_SIMCLOSE,
	OPT_RESET,
	OPT_PCAP,
	OPT_STATS,
	OPT_NO_COLOR,
	OPT_NO_TLS,
	OPT_TLS13,
	OPT_TLS12,
	OPT_KEYLOG,
	OPT_PLOT,
};

static const struct cli_opt demo_opts[] = {
    {"help", false, OPT_HELP},
    {"bytes", true, OPT_BYTES},
    {"delay", true, OPT_DELAY},
    {"rate", true, OPT_RATE},
    {"loss", true, OPT_LOSS},
    {"seed", true, OPT_SEED},
    {"simultaneous-open", false, OPT_SIMOPEN},
    {"simultaneous-close", false, OPT_SIMCLOSE},
    {"reset", false, OPT_RESET},
    {"pcap", true, OPT_PCAP},
    {"stats", false, OPT_STATS},
    {"no-color", false, OPT_NO_COLOR},
    {"no-tls", false, OPT_NO_TLS},
    {"tls13", false, OPT_TLS13},
    {"tls12", false, OPT_TLS12},
    {"keylog", true, OPT_KEYLOG},
    {"plot", true, OPT_PLOT},
    {NULL, false, 0},
};

void cmd_demo_usage(FILE *out)
{
	fprintf(out,
		"usage: synack demo [OPTIONS]\n\n"
		"Runs one TCP connection between two synack stacks joined by an in-memory link\n"
		"on a virtual clock, and draws every segment as a ladder diagram: the three-way\n"
		"handshake, the TLS 1.3 handshake (every message, and which keys protect it),\n"
		"the encrypted request and response, close_notify, the four-way FIN/ACK\n"
		"teardown and TIME-WAIT. The client 10.0.0.1 connects to port 443 (80 without\n"
		"TLS) of the server 10.0.0.2 (%s, with a throw-away CA and\n"
		"certificate made for the run), sends a small HTTP-like request, reads the\n"
		"response and closes first. The run takes milliseconds.\n\n"
		"options:\n"
		"  --bytes N             response size in bytes, 1 to %llu (default %d;\n"
		"                        %d with --reset)\n"
		"  --delay MS            one-way link delay in milliseconds, 0 to 10000 (default 10)\n"
		"  --rate MBIT           link bandwidth in Mbit/s, 0 = unlimited (default 10)\n"
		"  --loss P              lose each frame with probability P, both directions: a\n"
		"                        fraction below 1 (0.2) or a percentage below 100 (20, 20%%);\n"
		"                        shows retransmissions; pick runs with --seed\n"
		"  --seed N              seed for the link and the stacks' ISNs (default 1)\n"
		"  --simultaneous-open   both ends connect to each other at once (fixed ports):\n"
		"                        SYN-SENT -> SYN-RECEIVED -> ESTABLISHED on both\n"
		"  --simultaneous-close  both ends close at once:\n"
		"                        FIN-WAIT-1 -> CLOSING -> TIME-WAIT on both\n"
		"  --reset               the client aborts mid-transfer: RST instead of FIN\n"
		"  --pcap FILE           write every frame sent on the link to FILE (pcap, raw IP)\n"
		"  --plot FILE.svg       draw the server's response (the big direction) as a\n"
		"                        time-sequence graph in the style of tcptrace into FILE:\n"
		"                        data segments, retransmissions, the ACK and receive-window\n"
		"                        lines and SACK blocks over time, and below them the\n"
		"                        server's cwnd, ssthresh and srtt; one SVG file for a\n"
		"                        browser. Worth seeing: --no-tls --bytes 2000000 --loss 2\n"
		"  --stats               print every nonzero counter of both stacks at the end\n"
		"  --tls13               TLS 1.3 over the connection (the default)\n"
		"  --tls12               TLS 1.2 instead: the flow the seed draws (ServerKeyExchange,\n"
		"                        ServerHelloDone, ClientKeyExchange, ChangeCipherSpec)\n"
		"  --no-tls              plain TCP: the request and response in the clear\n"
		"  --keylog FILE         write the TLS secrets to FILE (NSS key log format), so\n"
		"                        Wireshark or tshark decrypt the --pcap capture\n"
		"  --no-color            plain text even on a terminal (or set NO_COLOR)\n"
		"  -h, --help            show this help\n\n"
		"Exit status: 0 the scenario completed, 1 it did not (reason on stderr),\n"
		"2 bad usage.\n",
		DEMO_TLS_SERVER_NAME, (unsigned long long)MAX_BYTES, DEFAULT_BYTES, DEFAULT_RESET_BYTES);
}

/* "--loss": below 1 is a fraction, 1 and above (or with '%') a percentage. */
static int parse_loss(const char *text, double *out)
{
	char buf[64];
	size_t n = strlen(text);
	bool pct = n > 0 && text[n - 1] == '%';
	if (n >= sizeof buf)
		return cli_error("demo", "--loss: '%.20s...' is not a decimal number", text), CLI_BAD;
	memcpy(buf, text, n + 1);
	if (pct)
		buf[n - 1] = '\0';
	if (cli_parse_double("demo", "loss", buf, 0, 100, out))
		return CLI_BAD;
	if (pct || *out >= 1) {
		if (*out >= 100)
			return cli_error("demo",
					 "--loss: %s is out of range: use a fraction in [0, 1) "
					 "or a percentage in [0, 100)",
					 text),
			       CLI_BAD;
		*out /= 100;
	}
	return 0;
}

static int apply_opt(struct demo_opts *o, int id, const char *v)
{
	switch (id) {
	case OPT_BYTES:
		o->bytes_set = true;
		return cli_parse_u64("demo", "bytes", v, 1, MAX_BYTES, &o->bytes);
	case OPT_DELAY:
		return cli_parse_u64("demo", "delay", v, 0, 10000, &o->delay_ms);
	case OPT_RATE:
		return cli_parse_u64("demo", "rate", v, 0, 100000, &o->rate_mbit);
	case OPT_LOSS:
		return parse_loss(v, &o->loss);
	case OPT_SEED:
		return cli_parse_u64("demo", "seed", v, 0, UINT64_MAX, &o->seed);
	case OPT_SIMOPEN:
		o->simopen = true;
		return 0;
	case OPT_SIMCLOSE:
		o->simclose = true;
		return 0;
	case OPT_RESET:
		o->reset = true;
		return 0;
	case OPT_PCAP:
		o->pcap = v;
		return 0;
	case OPT_STATS:
		o->stats = true;
		return 0;
	case OPT_NO_COLOR:
		o->no_color = true;
		return 0;
	case OPT_NO_TLS:
		o->no_tls = true;
		return 0;
	case OPT_TLS13:
	case OPT_TLS12:
		o->no_tls = false;
		o->tls_version = id == OPT_TLS12 ? SYNACK_TLS_VERSION_12 : SYNACK_TLS_VERSION_13;
		return 0;
	case OPT_KEYLOG:
		o->keylog = v;
		return 0;
	case OPT_PLOT:
		o->plot = v;
		return 0;
	}
	return CLI_BAD;
}

/* Returns 0 to run, CLI_OK after --help, CLI_USAGE on a bad option. */
static int parse_opts(int argc, char **argv, struct demo_opts *o, bool *help)
{
	struct cli_args a;
	const char *v;
	int id;
	*o = (struct demo_opts){.bytes = DEFAULT_BYTES,
				.seed = 1,
				.delay_ms = 10,
				.rate_mbit = 10,
				.tls_version = SYNACK_TLS_VERSION_13};
	*help = false;
	cli_args_init(&a, argc, argv);
	while ((id = cli_next(&a, demo_opts, &v)) != CLI_END) {
		if (id == CLI_BAD)
			return CLI_USAGE;
		if (id == OPT_HELP)
			*help = true;
		else if (apply_opt(o, id, v))
			return CLI_USAGE;
	}
	if (o->reset && o->simclose)
		return cli_error("demo", "--reset and --simultaneous-close exclude each other");
	if (o->reset && !o->bytes_set)
		o->bytes = DEFAULT_RESET_BYTES;
	if (o->pcap && !o->pcap[0])
		return cli_error("demo", "--pcap: empty file name");
	if (o->keylog && !o->keylog[0])
		return cli_error("demo", "--keylog: empty file name");
	if (o->plot && !o->plot[0])
		return cli_error("demo", "--plot: empty file name");
	if (o->keylog && o->no_tls)
		return cli_error("demo", "--keylog needs TLS: drop --no-tls");
	return 0;
}

/* ---------------------------------------------------------------- tracing */

static void drain(struct demo *d)
{
	synack_trace_rec buf[256];
	for (int side = 0; side < 2; side++) {
		size_t n;
		while ((n = synack_stack_trace_drain(d->sim.stack[side], buf, 256)) > 0) {
			d->recs = grow(d->recs, &d->caprecs, d->nrecs + n, sizeof *d->recs);
			for (size_t i = 0; i < n; i++) {
				struct rec *r = &d->recs[d->nrecs];
				r->r = buf[i];
				r->side = (uint8_t)side;
				r->order = (uint32_t)d->nrecs++;
				r->tls = -1;
			}
		}
	}
}

/* Keep each end's connection state (not its listener's) for checks. */
static void note_states(struct demo *d, size_t from)
{
	for (size_t i = from; i < d->nrecs; i++) {
		const struct rec *r = &d->recs[i];
		struct peer *p = &d->p[r->side];
		p->timed_out |= r->r.kind == SYNACK_TRACE_NOTE && r->r.note == SYNACK_NOTE_TIMEOUT;
		if (r->r.kind != SYNACK_TRACE_STATE)
			continue;
		if (r->r.new_state == SYNACK_TCP_LISTEN)
			p->listener_id = r->r.conn_id;
		if (r->r.conn_id == p->listener_id)
			continue;
		p->last_state = r->r.new_state;
		p->visited |= 1u << (r->r.new_state & 31);
	}
}

static void collect(struct demo *d)
{
	size_t from = d->nrecs;
	drain(d);
	note_states(d, from);
}

/* The TLS engine's trace entries of one end, stamped with the sim's time
 * and the drain order like the stacks' records; its key-log lines. */
static void collect_tls(struct demo *d, int side)
{
	synack_tls_trace_entry buf[16];
	struct peer *p = &d->p[side];
	size_t n;
	if (!p->tls.tls)
		return;
	while ((n = synack_tls_trace(p->tls.tls, buf, 16)) > 0) {
		d->tents = grow(d->tents, &d->captents, d->ntents + n, sizeof *d->tents);
		d->recs = grow(d->recs, &d->caprecs, d->nrecs + n, sizeof *d->recs);
		for (size_t i = 0; i < n; i++) {
			struct rec *r = &d->recs[d->nrecs];
			memset(r, 0, sizeof *r);
			r->r.time = d->sim.now;
			r->side = (uint8_t)side;
			r->order = (uint32_t)d->nrecs++;
			r->tls = (int32_t)d->ntents;
			d->tents[d->ntents++] = buf[i];
		}
	}
	demo_tls_keylog(&p->tls, side == CLIENT ? d->keylog : NULL); /* one copy of each secret */
}

/* After the engine of one end ran: the stacks' records first (what its
 * input caused), then its messages, then the segments that carry them. */
static void tls_after(struct demo *d, int side)
{
	collect(d);
	collect_tls(d, side);
	demo_tls_flush(&d->p[side].tls);
	collect(d);
}

static void note_arrival(struct demo *d, int sender, const uint8_t *frame, size_t len)
{
	struct wire_ipv4 ip;
	struct wire_tcp tcp;
	if (wire_ipv4_parse(frame, len, &ip) || ip.proto != WIRE_PROTO_TCP ||
	    wire_tcp_parse(ip.payload, ip.payload_len, &tcp))
		return;
	d->arr[sender] =
	    grow(d->arr[sender], &d->caparr[sender], d->narr[sender] + 1, sizeof(struct arrival));
	d->arr[sender][d->narr[sender]++] = (struct arrival){
	    .seq = tcp.seq,
	    .ack = tcp.ack,
	    .tsval = tcp.opt.has_ts ? tcp.opt.ts_val : 0,
	    .len = (uint16_t)tcp.payload_len,
	    .flags = tcp.flags,
	};
}

/* The receive hook (see the notes at the top): note, then deliver. */
static void demo_rx(void *ctx, const uint8_t *frame, size_t len, synack_time_t now)
{
	struct rxhook *h = ctx;
	/* Frames arriving at port 1 (the server) were sent by port 0. */
	note_arrival(h->d, 1 - h->port, frame, len);
	/* Drain around each delivery: with no delay, a whole exchange can
	 * happen inside one sim step, and this keeps its records in order. */
	collect(h->d);
	synack_stack_input(h->d->sim.stack[h->port], frame, len, now);
	collect(h->d);
}

/* ------------------------------------------------------ the application */

static void app_failed(struct demo *d, int side, const char *what, int err)
{
	struct peer *p = &d->p[side];
	p->step = APP_FAILED;
	if (err && synack_tls_err_alert(err) >= 0)
		fail(d, "%s: %s: %s (%s)", side_name(side), what, synack_tls_strerror(err),
		     p->tls.tls ? synack_tls_error_detail(p->tls.tls) : "");
	else if (err)
		fail(d, "%s: %s: %s", side_name(side), what, strerror(-err));
	else
		fail(d, "%s: %s", side_name(side), what);
}

/* The application's reads and writes: straight to TCP, or through TLS. */
static ssize_t app_recv(struct demo *d, int side, void *buf, size_t len)
{
	struct peer *p = &d->p[side];
	if (!p->tls.tls)
		return synack_tcp_recv(p->conn, buf, len);
	ssize_t n = demo_tls_recv(&p->tls, buf, len);
	tls_after(d, side);
	return n;
}

static ssize_t app_send(struct demo *d, int side, const void *buf, size_t len)
{
	struct peer *p = &d->p[side];
	if (!p->tls.tls)
		return synack_tcp_send(p->conn, buf, len);
	ssize_t n = demo_tls_send(&p->tls, buf, len);
	tls_after(d, side);
	return n;
}

/* Close the connection of one end: close_notify first with TLS (RFC 8446
 * §6.1), so the peer can tell the end of the data from a cut. */
static bool tls_notify(struct demo *d, int side)
{
	struct peer *p = &d->p[side];
	size_t left = 0;
	demo_tls_close(&p->tls);
	tls_after(d, side);
	synack_tls_out_peek(p->tls.tls, &left);
	if (left)
		app_failed(d, side, "TLS output left unsent at close", 0);
	p->tls_closed = true;
	return !left;
}

static void app_close(struct demo *d, int side)
{
	struct peer *p = &d->p[side];
	if (p->tls.tls && !p->tls_closed)
		tls_notify(d, side);
	p->tls.conn = NULL;
	synack_tcp_close(p->conn);
	p->conn = NULL;
}

/* With TLS an end that closes first only half-closes (close_notify, then
 * FIN by SHUT_WR) and reads on: the peer answers with its own close_notify,
 * which a fully closed TCP connection would refuse with a RST. */
static void tls_half_close(struct demo *d, int side)
{
	struct peer *p = &d->p[side];
	if (!tls_notify(d, side))
		return;
	synack_tcp_shutdown(p->conn, SYNACK_SHUT_WR);
	p->step = APP_WAIT_EOF;
}

static void server_send(struct demo *d);
static void wait_eof(struct demo *d, int side);

static void server_read_request(struct demo *d)
{
	struct peer *p = &d->p[SERVER];
	ssize_t n;
	while ((n = app_recv(d, SERVER, p->req + p->req_len, sizeof p->req - 1 - p->req_len)) > 0) {
		p->req_len += (size_t)n;
		p->req[p->req_len] = '\0';
		if (strstr(p->req, "\r\n\r\n")) {
			p->step = APP_RESPONSE;
			server_send(d);
			return;
		}
		if (p->req_len == sizeof p->req - 1)
			return app_failed(d, SERVER, "request too long", 0);
	}
	if (n == 0)
		app_failed(d, SERVER, "the client closed before sending its request", 0);
	else if (n != -EAGAIN)
		app_failed(d, SERVER, "reading the request", (int)n);
}

static void server_send(struct demo *d)
{
	struct peer *p = &d->p[SERVER];
	uint8_t buf[16384];
	while (p->done < d->o.bytes) {
		size_t k = d->o.bytes - p->done < sizeof buf ? (size_t)(d->o.bytes - p->done) : sizeof buf;
		for (size_t i = 0; i < k; i++)
			buf[i] = resp_byte(p->done + i);
		ssize_t n = app_send(d, SERVER, buf, k);
		if (n == -EAGAIN || n == 0)
			return;
		if (n < 0)
			return app_failed(d, SERVER, "sending the response", (int)n);
		p->done += (uint64_t)n;
	}
	p->step = APP_WAIT_EOF;
	wait_eof(d, SERVER);
}

/* Passive close, RFC 9293 §3.6: the peer's FIN read as EOF (with TLS,
 * close_notify and then the FIN), then close. */
static void wait_eof(struct demo *d, int side)
{
	struct peer *p = &d->p[side];
	char buf[512];
	ssize_t n;
	while ((n = app_recv(d, side, buf, sizeof buf)) > 0)
		;
	if (n == -EAGAIN)
		return;
	if (n < 0)
		return app_failed(d, side,
				  side == SERVER ? "waiting for the client's FIN"
						 : "waiting for the server's close",
				  (int)n);
	if (p->tls.tls && !demo_tls_tcp_eof(&p->tls))
		return;
	app_close(d, side);
	if (p->step != APP_FAILED)
		p->step = APP_DONE;
}

/* --simultaneous-close: both applications close at the same instant. The
 * stacks are brought to the sim's time first so both FINs carry it. */
static void close_both(struct demo *d)
{
	for (int side = 0; side < 2; side++)
		synack_stack_poll(d->sim.stack[side], d->sim.now);
	for (int side = 0; side < 2; side++) {
		struct peer *p = &d->p[side];
		if (p->conn && p->tls.tls) {
			tls_half_close(d, side);
			continue;
		}
		if (p->conn)
			app_close(d, side);
		if (p->step != APP_FAILED)
			p->step = APP_DONE;
	}
	for (int side = 0; side < 2; side++)
		if (d->p[side].step == APP_WAIT_EOF)
			wait_eof(d, side);
}

/* The client has the whole response: active close (or both at once). */
static void client_finish(struct demo *d)
{
	struct peer *p = &d->p[CLIENT];
	if (d->o.simclose) {
		if (d->p[SERVER].step != APP_WAIT_EOF)
			return app_failed(d, SERVER, "response read before it was all sent", 0);
		return close_both(d);
	}
	if (p->tls.tls) {
		tls_half_close(d, CLIENT);
		if (p->step == APP_WAIT_EOF)
			wait_eof(d, CLIENT);
		return;
	}
	app_close(d, CLIENT);
	if (p->step != APP_FAILED)
		p->step = APP_DONE;
}

static bool client_check(struct demo *d, const uint8_t *buf, size_t n)
{
	struct peer *p = &d->p[CLIENT];
	if (p->done + n > d->o.bytes) {
		app_failed(d, CLIENT, "more response bytes than were sent", 0);
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		if (buf[i] != resp_byte(p->done + i)) {
			fail(d, "client: response byte %" PRIu64 " is wrong", p->done + i);
			p->step = APP_FAILED;
			return false;
		}
	}
	p->done += n;
	return true;
}

static void client_read(struct demo *d)
{
	struct peer *p = &d->p[CLIENT];
	uint8_t buf[16384];
	ssize_t n;
	while ((n = app_recv(d, CLIENT, buf, sizeof buf)) > 0) {
		if (!client_check(d, buf, (size_t)n))
			return;
		if (d->o.reset) { /* abort mid-transfer: RST, no FIN, no TIME-WAIT */
			synack_tcp_abort(p->conn);
			p->conn = p->tls.conn = NULL;
			p->step = APP_DONE;
			return;
		}
	}
	if (n == 0 && p->done < d->o.bytes)
		return app_failed(d, CLIENT, "the server closed before the whole response came", 0);
	if (n < 0 && n != -EAGAIN)
		return app_failed(d, CLIENT, "reading the response", (int)n);
	if (p->done == d->o.bytes)
		client_finish(d);
}

static void send_request(struct demo *d)
{
	struct peer *p = &d->p[CLIENT];
	ssize_t n = app_send(d, CLIENT, request, sizeof request - 1);
	if (n != (ssize_t)(sizeof request - 1))
		return app_failed(d, CLIENT, "sending the request", n < 0 ? (int)n : -EAGAIN);
	p->step = APP_RESPONSE;
	client_read(d);
}

/* APP_TLS: run the engine; once its handshake is done, the application's
 * exchange starts as it would on plain TCP. */
static void tls_handshake(struct demo *d, int side)
{
	struct peer *p = &d->p[side];
	demo_tls_feed(&p->tls);
	tls_after(d, side);
	int err = synack_tls_error(p->tls.tls);
	if (err)
		return app_failed(d, side, "TLS handshake", err);
	if (!synack_tls_handshake_done(p->tls.tls)) {
		if (p->tls.tcp_eof)
			app_failed(d, side, "the peer closed TCP during the TLS handshake", 0);
		return;
	}
	if (side == CLIENT)
		return send_request(d);
	p->step = APP_REQUEST;
	server_read_request(d);
}

static void start_tls(struct demo *d, int side)
{
	struct peer *p = &d->p[side];
	size_t n;
	int err = demo_tls_start(&p->tls, d->tw, side == SERVER, p->conn);
	if (err)
		return app_failed(d, side, "TLS set-up", err);
	p->step = APP_TLS;
	synack_tls_out_peek(p->tls.tls, &n); /* a client builds its ClientHello here */
	tls_handshake(d, side);
}

static void on_connected(struct demo *d, int side)
{
	struct peer *p = &d->p[side];
	if (d->tw)
		return start_tls(d, side);
	if (side == SERVER) { /* simultaneous open: the server end reads the request */
		p->step = APP_REQUEST;
		return server_read_request(d);
	}
	send_request(d);
}

static void on_accept(struct demo *d)
{
	struct peer *p = &d->p[SERVER];
	int err = synack_tcp_accept(p->listener, &p->conn);
	if (err == -EAGAIN)
		return;
	if (err)
		return app_failed(d, SERVER, "accept", err);
	if (d->tw)
		return start_tls(d, SERVER);
	p->step = APP_REQUEST;
	server_read_request(d);
}

/* A reset or error on a connection: expected only for the server with --reset. */
static void on_conn_error(struct demo *d, int side)
{
	struct peer *p = &d->p[side];
	int err = synack_tcp_error(p->conn);
	if (d->o.reset && side == SERVER && err == -ECONNRESET) {
		synack_tcp_close(p->conn);
		p->conn = p->tls.conn = NULL;
		p->step = APP_DONE;
		return;
	}
	p->tls.conn = NULL;
	app_failed(d, side, "connection failed", err ? err : -ECONNRESET);
}

/* The application's state machine: one handler per step. */
static void on_event(struct demo *d, int side, synack_tcp *c, uint32_t ev)
{
	struct peer *p = &d->p[side];
	if (c == p->conn && (ev & (SYNACK_EV_RESET | SYNACK_EV_ERROR)))
		return on_conn_error(d, side);
	if (c == p->conn && p->tls.tls && (ev & SYNACK_EV_WRITABLE))
		tls_after(d, side); /* the engine's output waiting for room */
	switch (p->step) {
	case APP_LISTEN:
		if (c == p->listener && (ev & SYNACK_EV_ACCEPTABLE))
			on_accept(d);
		break;
	case APP_CONNECT:
		if (c == p->conn && (ev & SYNACK_EV_CONNECTED))
			on_connected(d, side);
		break;
	case APP_TLS:
		if (c == p->conn && (ev & (SYNACK_EV_READABLE | SYNACK_EV_PEER_CLOSED)))
			tls_handshake(d, side);
		break;
	case APP_REQUEST:
		if (c == p->conn && (ev & (SYNACK_EV_READABLE | SYNACK_EV_PEER_CLOSED)))
			server_read_request(d);
		break;
	case APP_RESPONSE:
		if (c == p->conn && side == CLIENT && (ev & (SYNACK_EV_READABLE | SYNACK_EV_PEER_CLOSED)))
			client_read(d);
		else if (c == p->conn && side == SERVER && (ev & SYNACK_EV_WRITABLE))
			server_send(d);
		break;
	case APP_WAIT_EOF:
		if (c == p->conn && (ev & (SYNACK_EV_READABLE | SYNACK_EV_PEER_CLOSED)))
			wait_eof(d, side);
		break;
	case APP_DONE:
	case APP_FAILED:
		break;
	}
}

static void pump_events(struct demo *d)
{
	for (int side = 0; side < 2; side++) {
		synack_tcp *c;
		uint32_t ev;
		while (!d->failed && (c = synack_stack_next_event(d->sim.stack[side], &ev)))
			on_event(d, side, c, ev);
	}
}

/* ------------------------------------------------------------ the run */

static int setup_sim(struct demo *d)
{
	synack_stack_config cfg[2];
	synack_impair im = {
	    .loss = d->o.loss,
	    .delay = SYNACK_MSEC(d->o.delay_ms),
	    .rate_bps = d->o.rate_mbit * 1000000ull,
	};
	for (int i = 0; i < 2; i++) {
		synack_stack_config_init(&cfg[i]);
		cfg[i].addr = synack_addr_ipv4(10, 0, 0, (uint8_t)(i + 1));
		cfg[i].prefix_len = 24;
		cfg[i].trace_capacity = TRACE_CAPACITY;
	}
	d->msl = cfg[0].tcp.msl;
	int err = synack_sim_init(&d->sim, d->o.seed, &im, &cfg[0], &cfg[1]);
	if (err)
		return cli_error("demo", "cannot set up the simulation: %s", strerror(-err)), err;
	for (int port = 0; port < 2; port++) {
		d->hook[port] = (struct rxhook){d, port};
		synack_memlink_attach(d->sim.link, port, demo_rx, &d->hook[port]);
	}
	d->t0 = d->sim.now;
	d->limit = d->t0 + 2 * d->msl + EXTRA_TIME;
	return 0;
}

/* Close the capture; a write that failed (at any point: the writer keeps
 * the first error, and buffered data may only fail at close) fails the run. */
static void close_pcap(struct demo *d)
{
	if (!d->pcap)
		return;
	synack_memlink_set_pcap(d->sim.link, NULL);
	int err = synack_pcap_close(d->pcap);
	d->pcap = NULL;
	if (err)
		fail(d, "--pcap: writing '%s' failed: %s", d->o.pcap, strerror(-err));
}

static int open_pcap(struct demo *d)
{
	if (!d->o.pcap)
		return 0;
	int err = synack_pcap_open(d->o.pcap, &d->pcap);
	if (err)
		return cli_error("demo", "--pcap: cannot create '%s': %s", d->o.pcap, strerror(-err)), err;
	synack_memlink_set_pcap(d->sim.link, d->pcap);
	return 0;
}

/* TLS: the throw-away CA and certificate, both ends' configurations, the
 * key log. */
static int open_tls(struct demo *d)
{
	char why[200];
	if (d->o.no_tls)
		return 0;
	d->tw = demo_tls_world_new(d->o.seed, d->o.tls_version, &d->sim.now, why, sizeof why);
	if (!d->tw)
		return cli_error("demo", "%s", why), -1;
	if (d->o.keylog && !(d->keylog = fopen(d->o.keylog, "w")))
		return cli_error("demo", "--keylog: cannot create '%s': %s", d->o.keylog, strerror(errno)),
		       -1;
	return 0;
}

/* Close the key log; a write that failed fails the run. */
static void close_keylog(struct demo *d)
{
	if (!d->keylog)
		return;
	for (int side = 0; side < 2; side++)
		if (d->p[side].tls.tls)
			demo_tls_keylog(&d->p[side].tls, side == CLIENT ? d->keylog : NULL);
	bool bad = ferror(d->keylog) != 0;
	bad |= fclose(d->keylog) != 0;
	d->keylog = NULL;
	if (bad)
		fail(d, "--keylog: writing '%s' failed", d->o.keylog);
}

static uint16_t server_port(const struct demo *d)
{
	return d->o.no_tls ? SERVER_PORT : SERVER_PORT_TLS;
}

static synack_endpoint endpoint(uint8_t host, uint16_t port)
{
	return (synack_endpoint){.addr = synack_addr_ipv4(10, 0, 0, host), .port = port};
}

/* Client connects to server:80, or (simultaneous open) both connect. */
static int start(struct demo *d)
{
	synack_endpoint srv = endpoint(2, server_port(d)), cli = endpoint(1, SIMOPEN_CLIENT_PORT);
	int err;
	d->p[CLIENT].step = d->p[SERVER].step = APP_CONNECT;
	/* Drain after each call so records of one instant keep their order. */
	if (d->o.simopen) {
		err = synack_tcp_connect(d->sim.stack[CLIENT], &srv, &cli, &d->p[CLIENT].conn);
		collect(d);
		if (!err)
			err = synack_tcp_connect(d->sim.stack[SERVER], &cli, &srv, &d->p[SERVER].conn);
	} else {
		d->p[SERVER].step = APP_LISTEN;
		err = synack_tcp_listen(d->sim.stack[SERVER], &srv, 8, &d->p[SERVER].listener);
		collect(d);
		if (!err)
			err = synack_tcp_connect(d->sim.stack[CLIENT], &srv, NULL, &d->p[CLIENT].conn);
	}
	if (err) {
		fail(d, "cannot start the connection: %s", strerror(-err));
		return err;
	}
	synack_endpoint local, remote;
	synack_tcp_endpoints(d->p[CLIENT].conn, &local, &remote);
	d->client_port = local.port;
	collect(d);
	return 0;
}

static bool scenario_over(struct demo *d)
{
	size_t listeners = d->p[SERVER].listener ? 1 : 0;
	return d->p[CLIENT].step == APP_DONE && d->p[SERVER].step == APP_DONE &&
	       synack_memlink_in_flight(d->sim.link) == 0 &&
	       synack_stack_tcb_count(d->sim.stack[CLIENT]) == 0 &&
	       synack_stack_tcb_count(d->sim.stack[SERVER]) <= listeners;
}

static const char *step_text(enum app_step s, int side)
{
	switch (s) {
	case APP_LISTEN:
		return "waiting for a connection";
	case APP_CONNECT:
		return "waiting for the handshake";
	case APP_TLS:
		return "in the TLS handshake";
	case APP_REQUEST:
		return "waiting for the request";
	case APP_RESPONSE:
		return side == CLIENT ? "reading the response" : "sending the response";
	case APP_WAIT_EOF:
		return "waiting for the client's FIN";
	case APP_DONE:
		return "done";
	case APP_FAILED:
		return "failed";
	}
	return "?";
}

/* Why the run stopped short: the first end still busy, or a lingering TCB. */
static void explain_stall(struct demo *d, const char *how)
{
	double secs = (double)(d->sim.now - d->t0) / 1e6;
	for (int side = 0; side < 2; side++) {
		struct peer *p = &d->p[side];
		if (p->step != APP_DONE)
			return fail(
			    d,
			    "%s after %.3f s of virtual time: %s still %s (%" PRIu64 " of %" PRIu64 " bytes)",
			    how, secs, side_name(side), step_text(p->step, side), p->done, d->o.bytes);
	}
	for (int side = 0; side < 2; side++)
		if (d->p[side].last_state != SYNACK_TCP_CLOSED)
			return fail(d, "%s after %.3f s of virtual time: the %s's connection is still in %s",
				    how, secs, side_name(side), synack_tcp_state_name(d->p[side].last_state));
	fail(d, "%s after %.3f s of virtual time with frames still on the link", how, secs);
}

static void sample_plot(struct demo *d);

static void run(struct demo *d)
{
	while (!d->failed && !scenario_over(d)) {
		if (synack_sim_next(&d->sim) == SYNACK_TIME_NEVER)
			return explain_stall(d, "stalled");
		if (d->sim.steps > MAX_STEPS || d->sim.now >= d->limit)
			return explain_stall(d, "gave up");
		synack_sim_step(&d->sim, d->limit);
		collect(d);
		pump_events(d);
		collect(d);
		sample_plot(d);
	}
}

/* The scenario's promises beyond "everything finished". */
static void check_outcome(struct demo *d)
{
	const uint32_t tw = 1u << SYNACK_TCP_TIME_WAIT, closing = 1u << SYNACK_TCP_CLOSING;
	if (d->failed)
		return;
	if (!d->o.reset && d->p[CLIENT].done != d->o.bytes)
		fail(d, "client received %" PRIu64 " of %" PRIu64 " bytes", d->p[CLIENT].done, d->o.bytes);
	else if (d->p[CLIENT].timed_out || d->p[SERVER].timed_out)
		fail(d, "the %s gave up retransmitting: too many segments lost",
		     side_name(d->p[CLIENT].timed_out ? CLIENT : SERVER));
	else if (!d->o.reset && (d->p[CLIENT].visited & (1u << SYNACK_TCP_FIN_WAIT_2)) &&
		 !(d->p[CLIENT].visited & tw))
		fail(d, "the client's FIN-WAIT-2 timer expired before the server's FIN got through");
	else if (!d->o.reset && !(d->p[CLIENT].visited & tw))
		fail(d, "the client closed first but never went through TIME-WAIT");
	else if (d->o.simclose && d->o.loss == 0 &&
		 (d->p[0].visited & d->p[1].visited & (tw | closing)) != (tw | closing))
		fail(d, "simultaneous close did not take both ends through CLOSING and TIME-WAIT");
}

/* ------------------------------------------------------------ rendering */

/* Did this segment reach the other stack? See the notes at the top.
 * cursor[s]: the next arrival of side s's segments to match. */
static bool arrived(const struct demo *d, size_t cursor[2], int s, const synack_trace_seg *g)
{
	size_t *cur = &cursor[s];
	if (*cur >= d->narr[s])
		return false;
	const struct arrival *a = &d->arr[s][*cur];
	if (a->seq != g->seq || a->ack != g->ack || a->flags != (uint8_t)g->flags || a->len != g->len ||
	    (g->ts_present && a->tsval != g->ts_val))
		return false;
	(*cur)++;
	return true;
}

static int rec_cmp(const void *a, const void *b)
{
	const struct rec *x = a, *y = b;
	if (x->r.time != y->r.time)
		return x->r.time < y->r.time ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static void render_header(const struct demo *d, FILE *f)
{
	char loss[48];
	if (d->o.loss > 0)
		snprintf(loss, sizeof loss, "%g%% loss each way", d->o.loss * 100);
	else
		snprintf(loss, sizeof loss, "no loss");
	fprintf(f, "synack demo: two synack stacks on an in-memory link, on virtual time\n");
	fprintf(f, "link: %" PRIu64 " ms one way, ", d->o.delay_ms);
	if (d->o.rate_mbit)
		fprintf(f, "%" PRIu64 " Mbit/s, ", d->o.rate_mbit);
	fprintf(f, "%s, seed %" PRIu64 "; response: %" PRIu64 " bytes\n", loss, d->o.seed, d->o.bytes);
	if (d->tw)
		fprintf(f, "TLS %s over the connection; the server is %s, certificate %s\n",
			d->o.tls_version == SYNACK_TLS_VERSION_12 ? "1.2" : "1.3", DEMO_TLS_SERVER_NAME,
			demo_tls_world_subject(d->tw));
	fprintf(f, "\n");
}

static void render_tls_footer(const struct demo *d, FILE *f);

static void render_footer(const struct demo *d, const struct ladder *L, FILE *f)
{
	struct ladder_counts c, s;
	ladder_counts(L, CLIENT, &c);
	ladder_counts(L, SERVER, &s);
	fprintf(f, "\nclient received %" PRIu64 " of %" PRIu64 " response bytes%s; ", d->p[CLIENT].done,
		d->o.bytes, d->p[CLIENT].done == d->o.bytes ? ", all intact" : "");
	fprintf(f, "%u segments (client %u, server %u), %u lost, %u retransmitted\n", c.segs + s.segs, c.segs,
		s.segs, c.lost + s.lost, c.rexmits + s.rexmits);
	fprintf(f, "%s after %.3f s of virtual time\n", d->failed ? "did not complete" : "both ends CLOSED",
		(double)(d->sim.now - d->t0) / 1e6);
	if (d->tw)
		render_tls_footer(d, f);
}

/* What TLS negotiated, and where the same runs over TLS 1.2 or no TLS. */
static void render_tls_footer(const struct demo *d, FILE *f)
{
	synack_tls_info ci;
	const synack_tls *t = d->p[CLIENT].tls.tls;
	if (!t || synack_tls_get_info(t, &ci) || !ci.version)
		return;
	fprintf(f, "TLS: %s, %s, key exchange %s, server signature %s%s%s, certificate %s\n",
		ci.version == SYNACK_TLS_VERSION_13 ? "TLSv1.3" : "TLSv1.2", synack_tls_suite_name(ci.suite),
		synack_tls_group_name(ci.group), synack_tls_sigscheme_name(ci.sigscheme),
		ci.alpn[0] ? ", ALPN " : "", ci.alpn, ci.peer_verified ? "verified" : "NOT verified");
	if (ci.version == SYNACK_TLS_VERSION_12)
		fprintf(f, "the same over TLS 1.3: synack demo\n");
	else
		fprintf(f, "the same without TLS: synack demo --no-tls\n");
}

/* The ladder's options: the hosts, and what the scenario means. */
static void ladder_setup(const struct demo *d, FILE *f, bool color, char col[2][64], struct ladder_opts *lo)
{
	struct ladder_story *st = &lo->story;
	snprintf(col[CLIENT], 64, "client 10.0.0.1:%u", d->client_port);
	snprintf(col[SERVER], 64, "server 10.0.0.2:%u", server_port(d));
	*lo = (struct ladder_opts){
	    .out = f, .style = LADDER_DRAW, .color = color, .explain = true, .t0 = d->t0};
	for (int side = 0; side < 2; side++) {
		lo->name[side] = side_name(side);
		lo->column[side] = col[side];
	}
	st->msl = d->msl;
	st->simultaneous_open = d->o.simopen;
	st->simultaneous_close = d->o.simclose;
	st->first_data[CLIENT] = "its request";
	st->stream[SERVER] = "response";
	st->stream_bytes[SERVER] = d->o.bytes;
	st->tls = d->tw != NULL;
}

/* ---------------------------------------------------- TLS on the ladder */

static const char *keys_text(uint8_t keys)
{
	switch (keys) {
	case SYNACK_TLS_KEYS_PLAINTEXT:
		return "in the clear";
	case SYNACK_TLS_KEYS_EARLY:
		return "early-data keys";
	case SYNACK_TLS_KEYS_HANDSHAKE:
		return "encrypted: handshake keys";
	default:
		return "encrypted: application (session) keys";
	}
}

/* What the seed (../shared/seed.md) says of each step of the TLS 1.2 flow
 * it draws (RFC 5246 §7.3, with ECDHE of RFC 8422 and the extended master
 * secret of RFC 7627). */
static const char *seed_note12(const synack_tls_trace_entry *e, int side)
{
	if (e->content == 20)
		return side == CLIENT
			   ? "seed: ChangeCipherSpec: the client encrypts everything after this with "
			     "the session keys"
			   : "seed: ChangeCipherSpec: the server encrypts from here too";
	if (e->content != 22)
		return NULL;
	switch (e->msg_type) {
	case 1:
		return "seed: ClientHello: the versions, cipher suites and groups the client supports, "
		       "and its random";
	case 2:
		return "seed: ServerHello, choosing the version (TLS 1.2) and the cipher suite, with the "
		       "server's random";
	case 11:
		return "seed: the server's certificate chain, in the clear in TLS 1.2";
	case 12:
		return "seed: ServerKeyExchange: the server's ephemeral ECDHE public key, signed with the "
		       "certificate's key over both randoms";
	case 14:
		return "seed: ServerHelloDone: the server's flight ends here";
	case 16:
		return "seed: ClientKeyExchange: the client's ECDHE public key. Both ends now compute "
		       "the shared secret, the master secret (over the hash of the handshake so far, "
		       "RFC 7627) and from it the symmetric session keys";
	case 20:
		return side == CLIENT ? "seed: Finished, a MAC over every handshake message, the first "
					"record under the new keys"
				      : "seed: the server's Finished: the handshake is complete; the "
					"session keys protect the data both ways";
	}
	return NULL;
}

/* What the seed (../shared/seed.md) says of this step, and how TLS 1.3
 * differs from the TLS 1.2 flow it draws. */
static const char *seed_note(const synack_tls_trace_entry *e, int side, bool v12)
{
	if (v12 && (e->content == 20 || e->content == 22))
		return seed_note12(e, side);
	if (e->content == 20)
		return "ChangeCipherSpec: in TLS 1.3 only a no-op for middleboxes (RFC 8446 "
		       "§D.4); the keys change by the key schedule, not by this message";
	if (e->content == 21)
		return e->msg_type == 0 ? "close_notify: this end sends no more data; it comes "
					  "before TCP's FIN so that a cut connection is not "
					  "mistaken for the end of the data"
					: "alert: the connection fails";
	if (e->content == 23)
		return side == CLIENT ? "the request, encrypted with the session keys"
				      : "the response, encrypted with the session keys";
	switch (e->msg_type) {
	case 1:
		return "seed: ClientHello. TLS 1.3 also sends the client's key share here: "
		       "what TLS 1.2 sends later as ClientKeyExchange";
	case 2:
		return "seed: ServerHello, choosing version, cipher suite and group, with the "
		       "server's key share. Both ends now compute the shared secret and derive "
		       "handshake keys: everything after this is encrypted";
	case 8:
		return "the rest of the server's choices (ALPN ...), already encrypted";
	case 11:
		return "seed: the server's certificate chain";
	case 13:
		return "the server asks for a client certificate";
	case 15:
		return "a signature over the handshake so far with the certificate's key: the "
		       "server proves it holds it (TLS 1.2 signs the ServerKeyExchange instead)";
	case 20:
		return side == SERVER ? "seed: Finished, a MAC over the whole handshake. No "
					"ServerHelloDone in TLS 1.3: this flight ends here"
				      : "seed: the client's Finished. The session keys (application "
					"traffic secrets) are in use both ways from here";
	case 4:
		return "a ticket to resume this session later without certificates";
	case 24:
		return "KeyUpdate: fresh traffic keys for this direction";
	}
	return NULL;
}

/* "now encrypts with ...": what a change of write keys means (RFC 8446
 * §7.1: each traffic secret is derived from the key schedule; RFC 5246
 * §6.3: TLS 1.2's keys come from the key block). */
static const char *key_change_text(const synack_tls_trace_entry *e, bool v12)
{
	if (v12)
		return "encrypts from here with its session key, from the key block derived from the "
		       "master secret";
	switch (e->keys) {
	case SYNACK_TLS_KEYS_HANDSHAKE:
		return "encrypts from here with handshake traffic keys, derived from the shared secret of "
		       "the key exchange and the messages so far";
	case SYNACK_TLS_KEYS_APPLICATION:
		return "encrypts from here with application traffic keys: the seed's symmetric session keys";
	}
	return "changes its write keys";
}

/* A TLS trace entry as the ladder draws it: what an end sent is an arrow
 * (the TCP segments carrying it follow); what it received shows only where
 * it did something with it (the certificate check). */
static void render_tls(const struct demo *d, struct ladder *L, const struct rec *rec)
{
	const synack_tls_trace_entry *e = &d->tents[rec->tls];
	bool v12 = d->o.tls_version == SYNACK_TLS_VERSION_12;
	char label[48], text[400];
	struct ladder_event ev = {.side = rec->side, .time = rec->r.time};
	ev.kind = LADDER_TEXT;
	ev.text = text;
	if (e->content == 0) { /* a key change: shown for the keys an end writes with */
		if (!e->sent)
			return;
		snprintf(text, sizeof text, "%s %s", side_name(rec->side), key_change_text(e, v12));
		ev.side = -1; /* a wrapped note across the ladder */
		return ladder_add(L, &ev);
	}
	if (!e->sent) {
		if (e->content != 22 || e->msg_type != 11)
			return;
		snprintf(text, sizeof text,
			 "%s checks the certificate chain against its trusted CA, its dates and the "
			 "name %s",
			 side_name(rec->side), DEMO_TLS_SERVER_NAME);
		ev.side = -1;
		return ladder_add(L, &ev);
	}
	size_t w = strcspn(e->text, " ");
	snprintf(label, sizeof label, "%.*s", (int)(w < 40 ? w : 40), e->text);
	const char *rest = e->text + w + (e->text[w] == ' ');
	const char *note = seed_note(e, rec->side, v12);
	snprintf(text, sizeof text, "%s%s[%s]%s%s", rest, *rest ? " " : "", keys_text(e->keys),
		 note ? " " : "", note ? note : "");
	ev.kind = LADDER_MESSAGE;
	ev.label = label;
	ev.text = text;
	ladder_add(L, &ev);
}

/* Sorted by (time, drain order), each record goes to the ladder with
 * whether the segment arrived. */
static void render(struct demo *d, FILE *f, bool color)
{
	struct ladder_opts lo;
	struct ladder *L;
	char col[2][64];
	size_t cursor[2] = {0, 0};
	ladder_setup(d, f, color, col, &lo);
	if (ladder_new(&lo, &L)) {
		fprintf(stderr, "synack: demo: out of memory\n");
		exit(CLI_FAIL);
	}
	qsort(d->recs, d->nrecs, sizeof *d->recs, rec_cmp);
	render_header(d, f);
	for (size_t i = 0; i < d->nrecs; i++) {
		const struct rec *rec = &d->recs[i];
		if (rec->tls >= 0) {
			render_tls(d, L, rec);
			continue;
		}
		bool out = rec->r.kind == SYNACK_TRACE_SEG_OUT;
		struct ladder_event ev = {.kind = LADDER_TRACE, .side = rec->side, .rec = &rec->r};
		ev.lost = out && !arrived(d, cursor, rec->side, &rec->r.seg);
		ladder_add(L, &ev);
	}
	ladder_end(L);
	render_footer(d, L, f);
	ladder_free(L);
}

static void print_stats(const struct demo *d, FILE *f)
{
	fprintf(f, "\n%-28s %10s %10s  %s\n", "counter", "client", "server", "meaning");
	for (int id = 0; id < SYNACK_COUNTER_COUNT; id++) {
		uint64_t c = synack_stack_counter(d->sim.stack[CLIENT], (enum synack_counter)id);
		uint64_t s = synack_stack_counter(d->sim.stack[SERVER], (enum synack_counter)id);
		if (c || s)
			fprintf(f, "%-28s %10" PRIu64 " %10" PRIu64 "  %s\n",
				synack_counter_name((enum synack_counter)id), c, s,
				synack_counter_doc((enum synack_counter)id));
	}
	fprintf(f, "\n%-28s %10s %10s %10s\n", "link direction", "sent", "delivered", "lost");
	for (int port = 0; port < 2; port++) {
		synack_link_stats ls;
		synack_memlink_stats(d->sim.link, port, &ls);
		fprintf(f, "%-28s %10" PRIu64 " %10" PRIu64 " %10" PRIu64 "\n",
			port == 0 ? "client -> server" : "server -> client", ls.sent, ls.delivered, ls.lost);
	}
}

/* ------------------------------------------------------------ --plot */

/* The file is opened first: a path that cannot be written fails the
 * command before anything runs. */
static int open_plot(struct demo *d)
{
	if (!d->o.plot)
		return 0;
	d->plotf = fopen(d->o.plot, "w");
	if (!d->plotf)
		return cli_error("demo", "--plot: cannot create '%s': %s", d->o.plot, strerror(errno)), -1;
	return 0;
}

/* Once the client's port is known: the graph of the server's sending side,
 * titled with the direction it shows and the scenario. */
static void begin_plot(struct demo *d)
{
	char title[200], sub[200], loss[48] = "no loss", rate[32] = "";
	if (!d->plotf)
		return;
	snprintf(title, sizeof title,
		 "server 10.0.0.2:%u \u2192 client 10.0.0.1:%u: the response, %" PRIu64
		 " bytes (time-sequence graph)",
		 server_port(d), d->client_port, d->o.bytes);
	if (d->o.loss > 0)
		snprintf(loss, sizeof loss, "%g%% loss each way", d->o.loss * 100);
	if (d->o.rate_mbit)
		snprintf(rate, sizeof rate, "%" PRIu64 " Mbit/s, ", d->o.rate_mbit);
	snprintf(sub, sizeof sub, "synack demo, %s: link %" PRIu64 " ms one way, %s%s, seed %" PRIu64,
		 d->tw ? "TLS over TCP" : "plain TCP", d->o.delay_ms, rate, loss, d->o.seed);
	struct plot_opts po = {.title = title,
			       .subtitle = sub,
			       .t0 = d->t0,
			       .local = endpoint(2, server_port(d)),
			       .remote = endpoint(1, d->client_port)};
	if (plot_begin(&po, &d->plot))
		fail(d, "--plot: out of memory");
}

/* After a step in which anything happened: the server's congestion state. */
static void sample_plot(struct demo *d)
{
	synack_tcp_info info;
	if (!d->plot || d->nrecs == d->plot_nrecs)
		return;
	d->plot_nrecs = d->nrecs;
	if (d->p[SERVER].conn && synack_tcp_get_info(d->p[SERVER].conn, &info) == 0)
		plot_add_sample(d->plot, d->sim.now, &info);
}

/* After the run, with the records sorted (render): the server's segments
 * in, the SVG out. A write that failed fails the run. */
static void write_plot(struct demo *d)
{
	bool bad = false;
	if (!d->plotf)
		return;
	if (d->plot) {
		for (size_t i = 0; i < d->nrecs; i++)
			if (d->recs[i].side == SERVER && d->recs[i].tls < 0)
				plot_add_seg(d->plot, &d->recs[i].r);
		bad = plot_write(d->plot, d->plotf) != 0;
	}
	bad |= fclose(d->plotf) != 0;
	d->plotf = NULL;
	if (bad)
		fail(d, "--plot: writing '%s' failed", d->o.plot);
}

/* ------------------------------------------------------------ the command */

/* Give back the handles still held (after a failure, and the listener). */
static void release_handles(struct demo *d)
{
	synack_memlink_set_pcap(d->sim.link, NULL); /* nothing more into the capture */
	for (int side = 0; side < 2; side++) {
		if (d->p[side].conn)
			synack_tcp_abort(d->p[side].conn);
		if (d->p[side].listener)
			synack_tcp_close(d->p[side].listener);
		d->p[side].conn = d->p[side].listener = NULL;
	}
}

static void demo_free(struct demo *d, bool sim)
{
	if (sim) {
		release_handles(d);
		synack_sim_destroy(&d->sim);
	}
	for (int side = 0; side < 2; side++)
		demo_tls_end(&d->p[side].tls);
	demo_tls_world_free(d->tw);
	free(d->tents);
	if (d->keylog)
		fclose(d->keylog);
	if (d->plotf)
		fclose(d->plotf);
	plot_free(d->plot);
	if (d->pcap)
		synack_pcap_close(d->pcap);
	free(d->recs);
	free(d->arr[0]);
	free(d->arr[1]);
	free(d);
}

int cmd_demo(int argc, char **argv)
{
	struct demo *d = calloc(1, sizeof *d);
	bool help;
	if (!d)
		return cli_error("demo", "out of memory"), CLI_FAIL;
	int rc = parse_opts(argc, argv, &d->o, &help);
	if (rc || help) {
		if (!rc)
			cmd_demo_usage(stdout);
		demo_free(d, false);
		return rc;
	}
	if (open_plot(d) || setup_sim(d)) {
		demo_free(d, false);
		return CLI_FAIL;
	}
	if (open_pcap(d) || open_tls(d)) {
		demo_free(d, true);
		return CLI_USAGE;
	}
	if (start(d) == 0) {
		begin_plot(d);
		run(d);
	}
	collect(d);
	check_outcome(d);
	render(d, stdout, cli_want_color(stdout, d->o.no_color));
	if (d->o.stats)
		print_stats(d, stdout);
	close_pcap(d);
	close_keylog(d);
	write_plot(d);
	rc = CLI_OK;
	if (d->failed) {
		cli_error("demo", "%s", d->why);
		rc = CLI_FAIL;
	}
	demo_free(d, true);
	return rc;
}
