/* `synack connect`: like nc. Standard input goes to the connection, the
 * connection to standard output; end of input half-closes (FIN) and the
 * command exits once the peer has closed too.
 *
 * Implementation notes
 *
 * Standard input is read only when the previous chunk has been taken by
 * the stack; while a chunk waits for send-buffer space, stdin is not
 * watched (it is level-triggered: watching it would spin). Output is
 * written to stdout with blocking writes: a slow reader of our output
 * slows us, and TCP's window slows the peer.
 *
 * Exit: after the peer's FIN once our input is exhausted and sent (or at
 * once when stdin is a terminal: an interactive user expects nc's exit on
 * the server's close). Before exiting we wait, boundedly, for our FIN to be
 * acknowledged, so the peer sees an orderly close rather than retransmits
 * into a vanished stack. Interrupted (SIGINT, SIGTERM), it aborts the
 * connection: the peer gets a RST instead of a silent, dead end.
 *
 * --tls runs synack's TLS engine over the connection through a
 * synack_tls_stream (include/synack/tls_stream.h): the same loop, with
 * x_send/x_recv in place of synack_tcp_send/recv. End of input sends
 * close_notify, then FIN; the peer's close_notify is its end of data, and
 * a peer that closes without one is an error (a truncation, RFC 8446
 * §6.1). After a TLS failure the alert goes out before the connection
 * ends (never a RST in front of it). --timeout covers the TLS handshake
 * too. --kernel uses the OS's TCP socket with poll(2) instead of synack's
 * stack: the TLS engine alone. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "netcmd.h"
#include "tlscmd.h"

enum { OPT_HELP = NOPT_FIRST_FREE, OPT_TIMEOUT, OPT_PORT_FROM };
enum { BUF = 65536, TAG_STDIN = 1, LINGER_MS = 3000 };

static const struct cli_opt opts[] = {
    NET_CLI_OPTS, {"help", false, OPT_HELP}, {"timeout", true, OPT_TIMEOUT}, TLS_CLI_OPTS, {NULL, false, 0},
};

struct client {
	struct net_env env;
	struct tls_opts to;
	struct tls_env tls;
	synack_endpoint remote;
	const char *host_text;
	uint16_t port;
	uint64_t timeout_s;
	synack_tcp *c; /* the transport: c, or sock (--kernel) */
	int sock;
	synack_tls *t; /* --tls */
	synack_tls_stream *ts;
	bool hs_done; /* the TLS handshake (or no TLS) */
	bool verbose;
	uint8_t *buf;
	size_t off, len;
	bool connected, in_eof, in_watched, wr_done, peer_eof, tty;
	int err;
	int out_err; /* writing standard output failed: -errno */
};

void cmd_connect_usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: synack connect (--tun|--tap) DEV --addr ADDR/PREFIX [--host-addr ADDR/PREFIX]\n"
	    "                      [--timeout S] [--tls [--ca FILE|--capath DIR] [--sni NAME]\n"
	    "                      [--alpn LIST] [--keylog FILE] [--tls12|--tls13]] HOST PORT\n"
	    "       synack connect --kernel [--timeout S] [--tls ...] HOST PORT\n\n"
	    "Open a TCP connection from synack to HOST PORT, like nc: standard input goes to the\n"
	    "connection and the connection to standard output. End of input sends FIN (half-close);\n"
	    "the command exits once the peer has closed too. With --tls the connection runs TLS 1.3\n"
	    "(or 1.2 if that is all the server speaks) on synack's engine (end of input sends\n"
	    "close_notify, then FIN); --kernel connects with the OS's own TCP socket (HOST may then\n"
	    "be a name) instead of synack's stack.\n\n" NET_USAGE_OPTS TLS_USAGE_KERNEL TLS_USAGE_CLIENT
	    "  --timeout S          give up the handshake (TCP and TLS) after S seconds (default 15)\n"
	    "  -h, --help           show this help\n\n"
	    "Exit status: 0 after an orderly close; 1 on refused, timeout, unreachable, reset or a\n"
	    "failed TLS handshake (the reason on one line: \"TLS handshake failed: sent unknown_ca: ...\").\n"
	    "Example: synack connect --kernel --tls --ca ca.pem --sni localhost localhost 4433\n");
}

/* ---- input ---- */

static void watch_stdin(struct client *cl, bool on)
{
	if (on == cl->in_watched || cl->in_eof)
		return;
	if (!cl->env.loop)
		; /* --kernel: poll() looks at in_watched */
	else if (on)
		synack_loop_watch(cl->env.loop, 0, TAG_STDIN);
	else
		synack_loop_unwatch(cl->env.loop, 0);
	cl->in_watched = on;
}

static void read_stdin(struct client *cl)
{
	if (cl->len || cl->in_eof)
		return;
	ssize_t n = read(0, cl->buf, BUF);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		watch_stdin(cl, false);
		cl->in_eof = true;
		return;
	}
	cl->off = 0;
	cl->len = (size_t)n;
}

/* ---- the transport: synack or kernel TCP, with or without TLS ---- */

static ssize_t x_send(struct client *cl, const void *p, size_t n)
{
	if (cl->ts)
		return synack_tls_stream_send(cl->ts, p, n);
	if (cl->c)
		return synack_tcp_send(cl->c, p, n);
	ssize_t w = send(cl->sock, p, n, MSG_NOSIGNAL);
	return w >= 0 ? w : errno == EWOULDBLOCK ? -EAGAIN : -errno;
}

static ssize_t x_recv(struct client *cl, void *p, size_t n)
{
	if (cl->ts)
		return synack_tls_stream_recv(cl->ts, p, n);
	if (cl->c)
		return synack_tcp_recv(cl->c, p, n);
	ssize_t r = recv(cl->sock, p, n, 0);
	return r >= 0 ? r : errno == EWOULDBLOCK ? -EAGAIN : -errno;
}

static void x_shutdown_wr(struct client *cl)
{
	if (cl->ts)
		synack_tls_stream_close(cl->ts);
	else if (cl->c)
		synack_tcp_shutdown(cl->c, SYNACK_SHUT_WR);
	else
		shutdown(cl->sock, SHUT_WR);
}

/* Whether output waits for the transport to take it. */
static bool want_write(const struct client *cl)
{
	return cl->ts ? synack_tls_stream_want_write(cl->ts) : cl->off < cl->len;
}

/* Send what is pending; FIN once the input is over. false on error. */
static bool pump_out(struct client *cl)
{
	while (cl->off < cl->len) {
		ssize_t n = x_send(cl, cl->buf + cl->off, cl->len - cl->off);
		if (n == -EAGAIN)
			break;
		if (n < 0) {
			cl->err = (int)n;
			return false;
		}
		cl->off += (size_t)n;
	}
	if (cl->off == cl->len)
		cl->off = cl->len = 0;
	watch_stdin(cl, cl->len == 0);
	if (cl->in_eof && !cl->len && !cl->wr_done && cl->hs_done) {
		x_shutdown_wr(cl);
		cl->wr_done = true;
	}
	return true;
}

/* 0, or -errno of the write to standard output that failed. */
static int write_all(const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(1, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Copy everything readable to stdout. false on error. */
static bool pump_in(struct client *cl)
{
	/* large reads: fewer writes to stdout, and fewer window updates
	 * (each read that frees two segments' worth of window sends one) */
	static uint8_t b[262144];
	for (;;) {
		ssize_t n = x_recv(cl, b, sizeof b);
		if (n == -EAGAIN)
			return true;
		if (n == 0) {
			cl->peer_eof = true;
			return true;
		}
		if (n < 0) {
			cl->err = (int)n;
			return false;
		}
		int err = write_all(b, (size_t)n);
		if (err) {
			cl->out_err = err;
			cl->err = -EPIPE;
			return false;
		}
	}
}

/* ---- the connection ---- */

static bool finished(const struct client *cl)
{
	return cl->err || (cl->peer_eof && (cl->tty || cl->wr_done));
}

/* TLS: move the engine's bytes, note the handshake's end and failure. */
static void tls_progress(struct client *cl)
{
	char text[256];
	if (!cl->ts)
		return;
	synack_tls_stream_pump(cl->ts);
	tls_env_keylog(&cl->tls, cl->t);
	if (cl->verbose)
		tls_env_trace(&cl->tls, cl->t, "");
	if (!cl->hs_done && synack_tls_handshake_done(cl->t)) {
		cl->hs_done = true;
		if (cl->verbose)
			fprintf(stderr, "synack: connect: TLS: %s\n", tls_summary(cl->t, text, sizeof text));
	}
	int err = synack_tls_stream_error(cl->ts);
	if (err && !cl->err)
		cl->err = err;
}

/* The transport is established: start TLS if asked. */
static bool on_connected(struct client *cl)
{
	cl->connected = true;
	watch_stdin(cl, true);
	if (!cl->tls.cfg) {
		cl->hs_done = true;
		return true;
	}
	cl->t = synack_tls_new(cl->tls.cfg, cl->to.sni ? cl->to.sni : cl->host_text);
	if (cl->t && cl->verbose)
		synack_tls_trace_enable(cl->t, true); /* -v: every TLS message */
	cl->ts = !cl->t	 ? NULL
		 : cl->c ? synack_tls_stream_new_tcp(cl->c, cl->t)
			 : synack_tls_stream_new_fd(cl->sock, cl->t);
	if (!cl->ts) {
		cl->err = -ENOMEM;
		return false;
	}
	tls_progress(cl); /* the ClientHello */
	return true;
}

static void serve_conn(struct client *cl)
{
	tls_progress(cl);
	if (!cl->err && pump_in(cl))
		pump_out(cl);
	tls_progress(cl);
}

static void on_event(struct client *cl, uint32_t ev)
{
	if (ev & (SYNACK_EV_RESET | SYNACK_EV_ERROR)) {
		cl->err = synack_tcp_error(cl->c);
		if (!cl->err)
			cl->err = -ECONNRESET;
		return;
	}
	if ((ev & SYNACK_EV_CONNECTED) && !cl->connected && !on_connected(cl))
		return;
	if (!cl->connected)
		return;
	serve_conn(cl);
}

static int handshake_left_ms(const struct client *cl, synack_time_t t0)
{
	if (cl->connected && cl->hs_done)
		return -1;
	synack_time_t left = t0 + SYNACK_SEC(cl->timeout_s) - synack_clock_now();
	return left <= 0 ? 0 : (int)(left / 1000) + 1;
}

static int loop(struct client *cl)
{
	synack_time_t t0 = synack_clock_now();
	int ready[4];
	while (!finished(cl) && !net_stop) {
		uint32_t ev;
		while (!finished(cl) && synack_stack_next_event(cl->env.st, &ev))
			on_event(cl, ev);
		if (finished(cl))
			break;
		int wait = handshake_left_ms(cl, t0);
		if (wait == 0) {
			cl->err = -ETIMEDOUT;
			break;
		}
		int n = net_env_run(&cl->env, wait, ready, 4);
		if (n < 0)
			return CLI_FAIL;
		for (int i = 0; i < n; i++)
			if (ready[i] == TAG_STDIN)
				read_stdin(cl);
		if (cl->connected && cl->hs_done && !pump_out(cl))
			break;
		tls_progress(cl);
	}
	return 0;
}

/* --kernel: the same over a kernel socket, with poll(2). */
static int loop_kernel(struct client *cl, synack_time_t t0)
{
	while (!finished(cl) && !net_stop) {
		struct pollfd p[2] = {{.fd = cl->sock, .events = POLLIN}, {.fd = 0, .events = POLLIN}};
		if (want_write(cl))
			p[0].events |= POLLOUT;
		bool in = cl->in_watched && !cl->in_eof && !cl->len;
		int wait = handshake_left_ms(cl, t0);
		if (wait == 0) {
			cl->err = -ETIMEDOUT;
			break;
		}
		int n = poll(p, in ? 2 : 1, wait);
		if (n < 0 && errno != EINTR)
			return cli_error("connect", "poll: %s", strerror(errno)), CLI_FAIL;
		if (n > 0 && in && p[1].revents)
			read_stdin(cl);
		serve_conn(cl);
		if (cl->connected && cl->hs_done && !cl->err && !pump_out(cl))
			break;
	}
	return 0;
}

/* Wait (boundedly) until our FIN is acknowledged; under TLS, until our
 * close_notify (or alert) and the FIN after it are handed to TCP first. */
static void linger(struct client *cl)
{
	synack_time_t end = synack_clock_now() + SYNACK_MSEC(LINGER_MS);
	int ready[4];
	uint32_t ev;
	while (synack_clock_now() < end && !net_stop) {
		int s = synack_tcp_state(cl->c);
		if (cl->ts)
			synack_tls_stream_pump(cl->ts);
		bool sent = !cl->ts || synack_tls_stream_write_done(cl->ts);
		if (sent &&
		    (s == SYNACK_TCP_TIME_WAIT || s == SYNACK_TCP_CLOSED || s == SYNACK_TCP_FIN_WAIT_2))
			break;
		while (synack_stack_next_event(cl->env.st, &ev))
			;
		if (net_env_run(&cl->env, 100, ready, 4) < 0)
			break;
	}
}

/* --kernel, TLS: the close_notify or alert out, FIN after it, and the
 * peer's bytes read until it closes (boundedly), so that our close does
 * not become a RST that overtakes the alert. */
static void linger_kernel(struct client *cl)
{
	synack_time_t end = synack_clock_now() + SYNACK_MSEC(LINGER_MS);
	while (cl->ts && synack_clock_now() < end && !net_stop) {
		synack_tls_stream_pump(cl->ts);
		if (synack_tls_stream_write_done(cl->ts) &&
		    (synack_tls_stream_transport_eof(cl->ts) || !synack_tls_error(cl->t)))
			break;
		struct pollfd p = {.fd = cl->sock, .events = POLLIN};
		if (synack_tls_stream_want_write(cl->ts))
			p.events |= POLLOUT;
		if (poll(&p, 1, 100) < 0 && errno != EINTR)
			break;
	}
}

static const char *peer_name(struct client *cl, char *buf, size_t cap)
{
	char text[64];
	if (cl->c)
		snprintf(buf, cap, "%s port %u", synack_addr_format(&cl->remote.addr, text, sizeof text),
			 cl->remote.port);
	else
		snprintf(buf, cap, "%s port %u", cl->host_text, cl->port);
	return buf;
}

static int report(struct client *cl)
{
	char who[128], why[512];
	peer_name(cl, who, sizeof who);
	if (cl->out_err == -EPIPE)
		return CLI_FAIL; /* our reader went away: nothing useful to print */
	if (cl->out_err) {
		fprintf(stderr, "synack: connect: writing standard output: %s\n", strerror(-cl->out_err));
		return CLI_FAIL;
	}
	if (cl->ts && (synack_tls_err_alert(cl->err) >= 0 || cl->err == -EPIPE || !cl->hs_done))
		fprintf(stderr, "synack: connect: TLS %s failed: %s (%s)\n",
			cl->hs_done ? "connection" : "handshake",
			cl->err == -ETIMEDOUT ? "timeout" : tls_err_text(cl->t, cl->err, why, sizeof why),
			who);
	else if (!cl->connected && cl->err == -ETIMEDOUT)
		fprintf(stderr, "synack: connect: timeout: no answer from %s\n", who);
	else if (!cl->connected && cl->err == -ENOENT)
		fprintf(stderr, "synack: connect: cannot resolve '%s'\n", cl->host_text);
	else if (!cl->connected)
		fprintf(stderr, "synack: connect: %s: %s\n", net_err_phrase(cl->err), who);
	else
		fprintf(stderr, "synack: connect: %s (%s)\n", net_err_phrase(cl->err), who);
	return CLI_FAIL;
}

static void tls_end(struct client *cl)
{
	synack_tls_stream_free(cl->ts);
	synack_tls_free(cl->t);
	cl->ts = NULL;
	cl->t = NULL;
}

static int run(struct client *cl)
{
	if (net_check_route(&cl->env, &cl->remote.addr))
		return CLI_FAIL;
	int err = synack_tcp_connect(cl->env.st, &cl->remote, NULL, &cl->c);
	if (err < 0) {
		cl->err = err;
		return report(cl);
	}
	int rc = loop(cl);
	if (rc) {
		tls_end(cl);
		return rc;
	}
	if (cl->err) {
		rc = report(cl);
		if (cl->ts && synack_tls_error(cl->t)) {
			linger(cl); /* the alert, then FIN, before the handle goes */
			tls_end(cl);
			synack_tcp_close(cl->c);
		} else {
			tls_end(cl);
			synack_tcp_abort(cl->c);
		}
		return rc;
	}
	if (net_stop) {
		/* Interrupted: tell the peer at once, a vanished stack cannot. */
		tls_end(cl);
		synack_tcp_abort(cl->c);
		fprintf(stderr, "synack: connect: interrupted: connection aborted (RST sent)\n");
		return CLI_FAIL;
	}
	if (cl->wr_done)
		linger(cl);
	tls_end(cl);
	synack_tcp_close(cl->c);
	return CLI_OK;
}

static int run_kernel(struct client *cl)
{
	synack_time_t t0 = synack_clock_now();
	cl->sock = kernel_connect(cl->host_text, cl->port, (int)(cl->timeout_s * 1000));
	if (cl->sock < 0) {
		cl->err = cl->sock;
		return report(cl);
	}
	int rc = on_connected(cl) ? loop_kernel(cl, t0) : 0;
	if (!rc && cl->err)
		rc = report(cl);
	else if (!rc && net_stop)
		rc = CLI_FAIL,
		fprintf(stderr, "synack: connect: interrupted: connection aborted (RST sent)\n");
	if (!net_stop && (!cl->err || (cl->ts && synack_tls_error(cl->t))))
		linger_kernel(cl);
	tls_end(cl);
	if (net_stop || (cl->err && !cl->wr_done))
		kernel_abort(cl->sock);
	else
		close(cl->sock);
	return rc;
}

/* --kernel takes no link option; without it they are required. */
static int check_link(const struct net_opts *no, bool kernel)
{
	if (!kernel)
		return net_opts_check("connect", no);
	if (net_check_kernel_impair("connect", no) < 0)
		return CLI_BAD;
	if (no->dev || no->naddr || no->nhost || no->ngw || no->mtu)
		return cli_error("connect",
				 "--kernel uses the OS's TCP sockets: leave out --tun, --tap, --addr, "
				 "--host-addr, --gateway and --mtu"),
		       CLI_BAD;
	return 0;
}

static int parse_opt(struct client *cl, struct net_opts *no, int id, const char *val)
{
	if (id == OPT_TIMEOUT)
		return cli_parse_u64("connect", "timeout", val, 1, 3600, &cl->timeout_s) < 0 ? CLI_BAD : 0;
	int r = net_opt("connect", no, id, val);
	if (r == 0)
		r = tls_opt("connect", &cl->to, id, val);
	return r < 0 ? CLI_BAD : 0;
}

static int parse(int argc, char **argv, struct client *cl, struct net_opts *no)
{
	struct cli_args a;
	const char *val, *pos[2];
	int id, npos = 0;
	uint64_t v;
	cli_args_init(&a, argc, argv);
	while ((id = net_next(&a, opts, &val)) != CLI_END) {
		if (id == CLI_BAD)
			return CLI_USAGE;
		if (id == OPT_HELP) {
			cmd_connect_usage(stdout);
			return -1;
		}
		if (id == NET_POSITIONAL && npos == 2)
			return cli_error("connect", "unexpected argument '%s' (want HOST PORT)", val);
		if (id == NET_POSITIONAL)
			pos[npos++] = val;
		else if (parse_opt(cl, no, id, val) < 0)
			return CLI_USAGE;
	}
	if (check_link(no, cl->to.kernel) < 0 || tls_opts_check("connect", &cl->to, false) < 0)
		return CLI_USAGE;
	if (npos < 2)
		return cli_error("connect", "missing %s (usage: synack connect ... HOST PORT)",
				 npos ? "PORT" : "HOST");
	if (!cl->to.kernel && (net_parse_host("connect", "HOST", pos[0], &cl->remote.addr) < 0 ||
			       net_check_dest("connect", no, &cl->remote.addr) < 0))
		return CLI_USAGE;
	if (cli_parse_u64("connect", "PORT", pos[1], 1, 65535, &v) < 0)
		return CLI_USAGE;
	cl->remote.port = cl->port = (uint16_t)v;
	cl->host_text = pos[0];
	cl->verbose = no->verbose;
	return 0;
}

int cmd_connect(int argc, char **argv)
{
	struct client cl;
	struct net_opts no;
	memset(&cl, 0, sizeof cl);
	memset(&no, 0, sizeof no);
	cl.timeout_s = 15;
	cl.sock = -1;
	int rc = parse(argc, argv, &cl, &no);
	if (rc)
		return rc < 0 ? CLI_OK : rc;
	cl.buf = malloc(BUF);
	if (!cl.buf)
		return cli_error("connect", "out of memory"), CLI_FAIL;
	cl.tty = isatty(0) == 1;
	net_catch_signals();
	rc = tls_env_open("connect", &cl.to, false, &cl.tls);
	if (!rc && cl.to.kernel) {
		cl.in_watched = true;
		rc = run_kernel(&cl);
	} else if (!rc) {
		rc = net_env_open("connect", &no, &cl.env);
		if (!rc) {
			rc = run(&cl);
			net_env_close(&cl.env);
		}
	}
	tls_env_close(&cl.tls);
	free(cl.buf);
	return rc;
}
