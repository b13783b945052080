/* echo_server.c: a TCP echo server on synack over a TUN device, on the
 * library's event loop (synack/loop.h): `synack serve --echo` in a page.
 *
 * Set the device up once, as root; after that no privileges are needed:
 *   ip tuntap add dev synack0 mode tun user $USER
 *   ip addr add 10.1.0.1/24 dev synack0 && ip link set synack0 up
 * Then serve on another address of that prefix and talk to it from the kernel:
 *   cc echo_server.c $(pkg-config --cflags --libs synack) -o echo_server
 *   ./echo_server synack0 10.1.0.2/24 [PORT]        (default port 7)
 *   ncat 10.1.0.2 7
 * Ctrl-C (or SIGTERM) stops it: connections still open are reset. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <synack/synack.h>
#include <synack/loop.h>
#include <synack/tun.h>

/* What we keep per connection, hung on the handle with set_userdata():
 * bytes received but not yet taken by the stack's send buffer. */
struct echo {
	synack_tcp *c;
	struct echo *next; /* all open connections, to reset them on exit */
	uint8_t buf[4096];
	size_t off, len;
	unsigned long long echoed;
	char peer[64];
};
static struct echo *conns;
static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* The loop reads frames with this (synack_tun_read with a void * context). */
static ssize_t tun_read(void *tun, uint8_t *buf, size_t cap)
{
	return synack_tun_read(tun, buf, cap);
}

/* Release the handle and forget it: close (FIN after queued data) when
 * why is NULL, else abort (RST). */
static void finish(struct echo *e, const char *why)
{
	struct echo **p = &conns;
	while (*p != e)
		p = &(*p)->next;
	*p = e->next;
	printf("%s: %s%s, %llu bytes echoed\n", e->peer, why ? "reset: " : "closed", why ? why : "",
	       e->echoed);
	if (!why)
		synack_tcp_close(e->c); /* the stack finishes the FIN exchange and frees it */
	else
		synack_tcp_abort(e->c);
	free(e); /* the handle is invalid now: nothing may use e->c */
}

/* Make all the progress we can: hand pending bytes to the stack, read
 * more, repeat. Events only say "something changed", so any event on the
 * connection runs this in full; it stops where an event will restart it. */
static void serve(struct echo *e)
{
	ssize_t n;
	for (;;) {
		while (e->off < e->len) {
			n = synack_tcp_send(e->c, e->buf + e->off, e->len - e->off);
			if (n == -EAGAIN)
				return; /* send buffer full: SYNACK_EV_WRITABLE comes when it drains */
			if (n < 0)
				goto fail;
			e->off += (size_t)n;
			e->echoed += (size_t)n;
		}
		n = synack_tcp_recv(e->c, e->buf, sizeof e->buf);
		if (n == -EAGAIN)
			return; /* nothing to read: SYNACK_EV_READABLE comes with more */
		if (n <= 0)
			break;
		e->off = 0;
		e->len = (size_t)n;
	}
	if (n == 0) { /* the peer's FIN, everything read and echoed */
		finish(e, NULL);
		return;
	}
fail: /* -ECONNRESET, -ETIMEDOUT ...: synack_tcp_error() says the same */
	finish(e, strerror((int)-n));
}

static void accept_all(synack_tcp *listener)
{
	synack_tcp *c;
	while (synack_tcp_accept(listener, &c) == 0) {
		struct echo *e = calloc(1, sizeof *e);
		if (!e) {
			synack_tcp_abort(c);
			continue;
		}
		synack_endpoint peer;
		synack_tcp_endpoints(c, NULL, &peer);
		char a[64];
		snprintf(e->peer, sizeof e->peer, "%s port %u", synack_addr_format(&peer.addr, a, sizeof a),
			 peer.port);
		printf("%s: accepted\n", e->peer);
		e->c = c;
		e->next = conns;
		conns = e;
		synack_tcp_set_userdata(c, e); /* the stack keeps the pointer, never looks at it */
	}
}

int main(int argc, char **argv)
{
	synack_addr addr;
	uint8_t plen;
	if (argc < 3 || argc > 4 || synack_prefix_parse(argv[2], &addr, &plen) < 0 || !strchr(argv[2], '/')) {
		fprintf(stderr, "usage: echo_server TUN-DEVICE ADDR/PREFIX [PORT]\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);

	/* 1. The link: attach to the existing TUN device (non-blocking). */
	synack_tun_config tc = {.name = argv[1], .kind = SYNACK_TUN};
	synack_tun *tun;
	int err = synack_tun_open(&tc, &tun);
	if (err < 0) {
		char msg[256];
		fprintf(stderr, "echo_server: %s\n",
			synack_tun_strerror(err, argv[1], SYNACK_TUN, msg, sizeof msg));
		return 1;
	}

	/* 2. The stack: our address, where frames leave (tx: written to the
	 * device), randomness from the OS. The stack copies cfg; it borrows
	 * tun (tx_ctx), which must outlive it. */
	synack_stack_config cfg;
	synack_stack_config_init(&cfg);
	if (addr.family == SYNACK_AF_INET) {
		cfg.addr = addr;
		cfg.prefix_len = plen;
	} else {
		cfg.addr6 = addr;
		cfg.prefix6_len = plen;
	}
	cfg.link = SYNACK_LINK_RAW_IP;
	cfg.mtu = synack_tun_mtu(tun);
	cfg.rng = synack_os_rng();
	cfg.tx = synack_tun_tx;
	cfg.tx_ctx = tun;
	synack_stack *st = NULL;
	synack_loop *loop = NULL;
	synack_tcp *listener = NULL;
	err = synack_stack_create(&cfg, synack_clock_now(), &st);
	/* 3. The loop: feeds what the device reads to the stack, runs its timers. */
	if (!err)
		err = synack_loop_create(st, synack_tun_fd(tun), tun_read, tun, 65536, &loop);
	/* 4. The listener: a handle like any connection's, but for accept(). */
	synack_endpoint local = {.addr = addr, .port = (uint16_t)(argc > 3 ? atoi(argv[3]) : 7)};
	if (!err)
		err = synack_tcp_listen(st, &local, 64, &listener);
	if (err < 0) {
		fprintf(stderr, "echo_server: %s\n", strerror(-err));
		synack_loop_destroy(loop); /* both accept NULL */
		synack_stack_destroy(st);
		synack_tun_close(tun);
		return 1;
	}
	printf("listening on %s port %u\n", argv[2], local.port);

	struct sigaction sa = {.sa_handler = on_signal}; /* no SA_RESTART: the wait returns early */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	while (!stop) {
		int ready[1]; /* tags of descriptors added with synack_loop_watch(): none here */
		if ((err = synack_loop_run_once(loop, 1000, ready, 1)) < 0)
			break;
		synack_tcp *c;
		uint32_t ev;
		while ((c = synack_stack_next_event(st, &ev))) {
			if (c == listener)
				accept_all(listener); /* SYNACK_EV_ACCEPTABLE */
			else /* READABLE, WRITABLE, PEER_CLOSED, RESET ...: same answer */
				serve(synack_tcp_userdata(c));
		}
	}

	/* Teardown: release every handle, then the loop, the stack, the device. */
	while (conns)
		finish(conns, "server stopping");
	synack_tcp_close(listener);
	printf("stopped%s%s: %llu frames in, %llu dropped\n", err < 0 ? ", link error: " : "",
	       err < 0 ? strerror(-err) : "", (unsigned long long)synack_loop_frames_in(loop),
	       (unsigned long long)synack_stack_drops(st));
	synack_loop_destroy(loop);
	synack_stack_destroy(st);
	synack_tun_close(tun);
	return err < 0;
}
