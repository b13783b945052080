/* http_get.c: fetch a page over HTTP with synack as the client, over a TUN
 * device, on the library's event loop: connect, send a GET, read until the
 * server closes, close, and wait until the stack has finished the close.
 *
 * With a device set up as in echo_server.c and a kernel server on its
 * other end (python3 -m http.server --bind 10.1.0.1 8000):
 *   cc http_get.c $(pkg-config --cflags --libs synack) -o http_get
 *   ./http_get synack0 10.1.0.2/24 10.1.0.1 8000 /index.html
 * The response (status line, headers, body) goes to standard output, what
 * happens to standard error. Exit status 0 once the server closed after
 * its response and our FIN was acknowledged. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <synack/synack.h>
#include <synack/loop.h>
#include <synack/tun.h>

static ssize_t tun_read(void *tun, uint8_t *buf, size_t cap)
{
	return synack_tun_read(tun, buf, cap);
}

/* Run the loop once and collect the connection's events. The result:
 * 1 while the exchange goes on, 0 when the server has closed and we have
 * closed too, <0 on failure. *c is set to NULL when the handle is released. */
static int step(synack_loop *loop, synack_stack *st, synack_tcp **c, const char *req)
{
	int ready[1], err = synack_loop_run_once(loop, 100, ready, 1);
	if (err < 0)
		return err; /* the device failed */
	synack_tcp *h;
	uint32_t ev;
	/* h is *c, our only handle; ev says what changed since we last looked */
	while ((h = synack_stack_next_event(st, &ev))) {
		/* refused, reset, timed out, unreachable ...: the handle stays
		 * ours (in CLOSED) until we release it */
		if (ev & SYNACK_EV_ERROR) {
			err = synack_tcp_error(h);
			synack_tcp_abort(h);
			*c = NULL;
			return err;
		}
		if (ev & SYNACK_EV_CONNECTED) {
			fprintf(stderr, "http_get: connected, sending the request\n");
			ssize_t n = synack_tcp_send(h, req, strlen(req)); /* copied: req may go now */
			if (n != (ssize_t)strlen(req)) /* a few bytes always fit a fresh send buffer */
				return n < 0 ? (int)n : -EMSGSIZE;
		}
		char buf[4096];
		ssize_t n;
		while ((n = synack_tcp_recv(h, buf, sizeof buf)) > 0) /* until -EAGAIN, 0 or an error */
			fwrite(buf, 1, (size_t)n, stdout);
		if (n == 0) { /* the server's FIN: the response is complete */
			fprintf(stderr, "http_get: the server closed; closing\n");
			synack_tcp_close(h); /* sends our FIN; the stack owns the connection now */
			*c = NULL;
			return 0;
		}
		if (n != -EAGAIN)
			return (int)n;
	}
	return 1;
}

int main(int argc, char **argv)
{
	synack_addr addr;
	synack_endpoint server;
	uint8_t plen;
	if (argc != 6 || synack_prefix_parse(argv[2], &addr, &plen) < 0 ||
	    synack_addr_parse(argv[3], &server.addr) < 0 || (server.port = (uint16_t)atoi(argv[4])) == 0) {
		fprintf(stderr, "usage: http_get TUN-DEVICE ADDR/PREFIX SERVER PORT PATH\n");
		return 2;
	}
	char req[512];
	snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: %s\r\nConnection: close\r\n\r\n", argv[5],
		 argv[3]);

	/* The device, the stack and the loop, exactly as in echo_server.c. */
	synack_tun_config tc = {.name = argv[1], .kind = SYNACK_TUN};
	synack_tun *tun;
	int err = synack_tun_open(&tc, &tun);
	if (err < 0) {
		char msg[256];
		fprintf(stderr, "http_get: %s\n",
			synack_tun_strerror(err, argv[1], SYNACK_TUN, msg, sizeof msg));
		return 1;
	}
	synack_stack_config cfg;
	synack_stack_config_init(&cfg);
	if (addr.family == SYNACK_AF_INET) {
		cfg.addr = addr;
		cfg.prefix_len = plen;
	} else {
		cfg.addr6 = addr;
		cfg.prefix6_len = plen;
	}
	cfg.mtu = synack_tun_mtu(tun);
	cfg.rng = synack_os_rng();
	cfg.tx = synack_tun_tx;
	cfg.tx_ctx = tun;
	synack_stack *st = NULL;
	synack_loop *loop = NULL;
	synack_tcp *c = NULL;
	err = synack_stack_create(&cfg, synack_clock_now(), &st);
	if (!err)
		err = synack_loop_create(st, synack_tun_fd(tun), tun_read, tun, 65536, &loop);

	/* Active open: the SYN leaves now, through cfg.tx. Local NULL: our
	 * address and an ephemeral port. The handle is ours until we close it. */
	if (!err)
		err = synack_tcp_connect(st, &server, NULL, &c);
	synack_time_t give_up = synack_clock_now() + SYNACK_SEC(15);
	int r = err ? err : 1;
	while (r == 1)
		if ((r = step(loop, st, &c, req)) == 1 && synack_clock_now() > give_up)
			r = -ETIMEDOUT;
	if (c) /* failed with the handle still held: reset and release it */
		synack_tcp_abort(c);

	/* After close() the stack still has work: our FIN must be sent and
	 * acknowledged. Destroying it now would leave the server waiting, so
	 * run the loop (boundedly) until it holds no connection. */
	give_up = synack_clock_now() + SYNACK_SEC(5);
	while (r == 0 && synack_stack_tcb_count(st) > 0)
		if ((r = step(loop, st, &c, req)) == 1)
			r = synack_clock_now() < give_up ? 0 : -ETIMEDOUT;
	err = r;
	if (err < 0)
		fprintf(stderr, "http_get: %s\n", strerror(-err));
	else
		fprintf(stderr, "http_get: done, the connection is closed on both sides\n");

	synack_loop_destroy(loop); /* each accepts NULL */
	synack_stack_destroy(st);
	synack_tun_close(tun);
	return err < 0;
}
