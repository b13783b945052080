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
 * connection: the peer gets a RST instead of a silent, dead end. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "netcmd.h"

enum { OPT_HELP = NOPT_FIRST_FREE, OPT_TIMEOUT, OPT_PORT_FROM };
enum { BUF = 65536, TAG_STDIN = 1, LINGER_MS = 3000 };

static const struct cli_opt opts[] = {
    NET_CLI_OPTS,
    {"help", false, OPT_HELP},
    {"timeout", true, OPT_TIMEOUT},
    {NULL, false, 0},
};

struct client {
	struct net_env env;
	synack_endpoint remote;
	const char *host_text;
	uint64_t timeout_s;
	synack_tcp *c;
	uint8_t *buf;
	size_t off, len;
	bool connected, in_eof, in_watched, wr_done, peer_eof, tty;
	int err;
	int out_err; /* writing standard output failed: -errno */
};

void cmd_connect_usage(FILE *out)
{
	fprintf(out,
		"usage: synack connect (--tun|--tap) DEV --addr ADDR/PREFIX [--host-addr ADDR/PREFIX]\n"
		"                      [--timeout S] HOST PORT\n\n"
		"Open a TCP connection from synack to HOST PORT, like nc: standard input goes to the\n"
		"connection and the connection to standard output. End of input sends FIN (half-close);\n"
		"the command exits once the peer has closed too.\n\n" NET_USAGE_OPTS
		"  --timeout S          give up the handshake after S seconds (default 15)\n"
		"  -h, --help           show this help\n\n"
		"Exit status: 0 after an orderly close; 1 on refused, timeout, unreachable or reset.\n");
}

/* ---- input ---- */

static void watch_stdin(struct client *cl, bool on)
{
	if (on == cl->in_watched || cl->in_eof)
		return;
	if (on)
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

/* Send what is pending; FIN once the input is over. false on error. */
static bool pump_out(struct client *cl)
{
	while (cl->off < cl->len) {
		ssize_t n = synack_tcp_send(cl->c, cl->buf + cl->off, cl->len - cl->off);
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
	if (cl->in_eof && !cl->len && !cl->wr_done) {
		synack_tcp_shutdown(cl->c, SYNACK_SHUT_WR);
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
	uint8_t b[16384];
	for (;;) {
		ssize_t n = synack_tcp_recv(cl->c, b, sizeof b);
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

static void on_event(struct client *cl, uint32_t ev)
{
	if (ev & (SYNACK_EV_RESET | SYNACK_EV_ERROR)) {
		cl->err = synack_tcp_error(cl->c);
		if (!cl->err)
			cl->err = -ECONNRESET;
		return;
	}
	if ((ev & SYNACK_EV_CONNECTED) && !cl->connected) {
		cl->connected = true;
		watch_stdin(cl, true);
	}
	if (!cl->connected)
		return;
	if (pump_in(cl))
		pump_out(cl);
}

static int handshake_left_ms(const struct client *cl, synack_time_t t0)
{
	if (cl->connected)
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
		if (cl->connected && !pump_out(cl))
			break;
	}
	return 0;
}

/* Wait (boundedly) until our FIN is acknowledged. */
static void linger(struct client *cl)
{
	synack_time_t end = synack_clock_now() + SYNACK_MSEC(LINGER_MS);
	int ready[4];
	uint32_t ev;
	while (synack_clock_now() < end && !net_stop) {
		int s = synack_tcp_state(cl->c);
		if (s == SYNACK_TCP_TIME_WAIT || s == SYNACK_TCP_CLOSED || s == SYNACK_TCP_FIN_WAIT_2)
			break;
		while (synack_stack_next_event(cl->env.st, &ev))
			;
		if (net_env_run(&cl->env, 100, ready, 4) < 0)
			break;
	}
}

static int report(struct client *cl)
{
	char text[64];
	synack_addr_format(&cl->remote.addr, text, sizeof text);
	if (cl->out_err == -EPIPE)
		return CLI_FAIL; /* our reader went away: nothing useful to print */
	if (cl->out_err) {
		fprintf(stderr, "synack: connect: writing standard output: %s\n", strerror(-cl->out_err));
		return CLI_FAIL;
	}
	if (!cl->connected && cl->err == -ETIMEDOUT)
		fprintf(stderr, "synack: connect: timeout: no answer from %s port %u\n", text,
			cl->remote.port);
	else if (!cl->connected)
		fprintf(stderr, "synack: connect: %s: %s port %u\n", net_err_phrase(cl->err), text,
			cl->remote.port);
	else
		fprintf(stderr, "synack: connect: %s (%s port %u)\n", net_err_phrase(cl->err), text,
			cl->remote.port);
	return CLI_FAIL;
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
	if (rc)
		return rc;
	if (cl->err) {
		rc = report(cl);
		synack_tcp_abort(cl->c);
		return rc;
	}
	if (net_stop) {
		/* Interrupted: tell the peer at once, a vanished stack cannot. */
		synack_tcp_abort(cl->c);
		fprintf(stderr, "synack: connect: interrupted: connection aborted (RST sent)\n");
		return CLI_FAIL;
	}
	if (cl->wr_done)
		linger(cl);
	synack_tcp_close(cl->c);
	return CLI_OK;
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
		if (id == OPT_TIMEOUT &&
		    cli_parse_u64("connect", "timeout", val, 1, 3600, &cl->timeout_s) < 0)
			return CLI_USAGE;
		if (id == NET_POSITIONAL && npos == 2)
			return cli_error("connect", "unexpected argument '%s' (want HOST PORT)", val);
		if (id == NET_POSITIONAL)
			pos[npos++] = val;
		else if (id != OPT_TIMEOUT && net_opt("connect", no, id, val) < 0)
			return CLI_USAGE;
	}
	if (net_opts_check("connect", no) < 0)
		return CLI_USAGE;
	if (npos < 2)
		return cli_error("connect", "missing %s (usage: synack connect ... HOST PORT)",
				 npos ? "PORT" : "HOST");
	if (net_parse_host("connect", "HOST", pos[0], &cl->remote.addr) < 0 ||
	    net_check_dest("connect", no, &cl->remote.addr) < 0)
		return CLI_USAGE;
	if (cli_parse_u64("connect", "PORT", pos[1], 1, 65535, &v) < 0)
		return CLI_USAGE;
	cl->remote.port = (uint16_t)v;
	cl->host_text = pos[0];
	return 0;
}

int cmd_connect(int argc, char **argv)
{
	struct client cl;
	struct net_opts no;
	memset(&cl, 0, sizeof cl);
	memset(&no, 0, sizeof no);
	cl.timeout_s = 15;
	int rc = parse(argc, argv, &cl, &no);
	if (rc)
		return rc < 0 ? CLI_OK : rc;
	cl.buf = malloc(BUF);
	if (!cl.buf)
		return cli_error("connect", "out of memory"), CLI_FAIL;
	cl.tty = isatty(0) == 1;
	net_catch_signals();
	rc = net_env_open("connect", &no, &cl.env);
	if (!rc) {
		rc = run(&cl);
		net_env_close(&cl.env);
	}
	free(cl.buf);
	return rc;
}
