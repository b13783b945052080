/* synack_tls_stream: the TLS engine riding on a transport, with
 * synack_tcp_send/recv's semantics.
 *
 *  - over synack TCP on the in-memory link with loss and reordering, the
 *    client's end opened through the POSIX-like socket layer
 *    (synack_socket_tcp): 300 KB up, 200 KB down, every byte checked,
 *    close_notify both ways, both ends see 0 then the transport's end;
 *  - over a kernel socketpair (non-blocking fds): the same exchange,
 *    and a peer that closes its fd without close_notify gives -EPIPE
 *    (truncation, RFC 8446 §6.1), not 0;
 *  - cork holds output (up to 16 KiB) until uncorked, and a full record's
 *    worth goes out anyway;
 *  - a TLS failure sends its alert and then the FIN, and the stream's
 *    error is the engine's. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "crypto/crypto.h"
#include "synack/synack.h"
#include "synack/tls.h"
#include "synack/tls_stream.h"
#include "unit.h"

/* A precondition: the test cannot go on without it. */
#define REQUIRE(cond)                                                                                        \
	do {                                                                                                 \
		if (!(cond)) {                                                                               \
			unit_fail(__FILE__, __LINE__, "REQUIRE(%s)", #cond);                                 \
			return;                                                                              \
		}                                                                                            \
	} while (0)

static synack_tls_config *cfg[2]; /* [1]: server */

/* A CA, a server certificate for "localhost", both configurations. */
static void world(void)
{
	if (cfg[0])
		return;
	struct crypto_pkey *cak = crypto_key_generate(CRYPTO_KEY_EC_P256),
			   *k = crypto_key_generate(CRYPTO_KEY_EC_P256);
	uint8_t *cader = NULL, *der = NULL;
	size_t calen = 0, len = 0;
	int64_t from = (int64_t)time(NULL) - 86400;
	REQUIRE(cak && k);
	REQUIRE(crypto_cert_make(cak, "stream test CA", NULL, true, NULL, NULL, 0, from, 3, &cader, &calen) ==
		0);
	REQUIRE(crypto_cert_make(k, "localhost", "localhost", false, cak, cader, calen, from, 3, &der,
				 &len) == 0);
	char *ca = crypto_cert_pem(cader, calen), *cert = crypto_cert_pem(der, len), *key = crypto_key_pem(k);
	REQUIRE(ca && cert && key);
	cfg[0] = synack_tls_config_new(SYNACK_TLS_CLIENT);
	cfg[1] = synack_tls_config_new(SYNACK_TLS_SERVER);
	REQUIRE(cfg[0] && cfg[1]);
	REQUIRE(synack_tls_config_load_ca_mem(cfg[0], ca) == 0);
	REQUIRE(synack_tls_config_load_cert_mem(cfg[1], cert, key) == 0);
	free(ca), free(cert), free(key), free(cader), free(der);
	crypto_openssl.pkey_free(cak);
	crypto_openssl.pkey_free(k);
}

static uint8_t pattern(size_t i, int dir)
{
	return (uint8_t)(i * 131 + (i >> 9) + (size_t)dir * 77);
}

/* One direction of the exchange: what was sent and what was checked. */
struct flow {
	size_t total, sent, got;
	bool bad;
};

static void send_some(synack_tls_stream *s, struct flow *f, int dir)
{
	uint8_t buf[4096];
	while (f->sent < f->total) {
		size_t n = f->total - f->sent < sizeof buf ? f->total - f->sent : sizeof buf;
		for (size_t i = 0; i < n; i++)
			buf[i] = pattern(f->sent + i, dir);
		ssize_t k = synack_tls_stream_send(s, buf, n);
		if (k <= 0)
			return;
		f->sent += (size_t)k;
	}
}

/* Read what is there; 0 at close_notify, -EAGAIN, or an error. */
static ssize_t recv_some(synack_tls_stream *s, struct flow *f, int dir)
{
	uint8_t buf[5000];
	ssize_t k;
	while ((k = synack_tls_stream_recv(s, buf, sizeof buf)) > 0) {
		for (ssize_t i = 0; i < k; i++)
			f->bad |= buf[i] != pattern(f->got + (size_t)i, dir);
		f->got += (size_t)k;
	}
	return k;
}

/* The application of both ends, one round: the client sends up, the
 * server reads it, then sends down; each closes once its part is done and
 * it has read the other's close_notify (the server) or everything (the
 * client, which closes first). Returns true when both saw the other's
 * close_notify and both transports reached their end. */
struct ends {
	synack_tls_stream *s[2];
	struct flow up, down;
	ssize_t last[2];
	bool closed[2];
};

static bool app_round(struct ends *e)
{
	send_some(e->s[0], &e->up, 0);
	e->last[1] = recv_some(e->s[1], &e->up, 0);
	if (e->up.got == e->up.total)
		send_some(e->s[1], &e->down, 1);
	e->last[0] = recv_some(e->s[0], &e->down, 1);
	if (!e->closed[0] && e->down.got == e->down.total) {
		CHECK_EQ(synack_tls_stream_close(e->s[0]), 0);
		e->closed[0] = true;
	}
	if (!e->closed[1] && e->last[1] == 0 && e->down.sent == e->down.total) {
		CHECK_EQ(synack_tls_stream_close(e->s[1]), 0);
		e->closed[1] = true;
	}
	for (int i = 0; i < 2; i++)
		synack_tls_stream_pump(e->s[i]);
	return e->last[0] == 0 && e->last[1] == 0 && synack_tls_stream_transport_eof(e->s[0]) &&
	       synack_tls_stream_transport_eof(e->s[1]) && synack_tls_stream_write_done(e->s[0]) &&
	       synack_tls_stream_write_done(e->s[1]);
}

static void check_done(struct ends *e)
{
	CHECK_EQ(e->up.got, e->up.total);
	CHECK_EQ(e->down.got, e->down.total);
	CHECK(!e->up.bad && !e->down.bad);
	CHECK_EQ(synack_tls_stream_error(e->s[0]), 0);
	CHECK_EQ(synack_tls_stream_error(e->s[1]), 0);
	CHECK(synack_tls_handshake_done(synack_tls_stream_tls(e->s[0])));
}

static void drain_events(synack_stack *st)
{
	uint32_t ev;
	while (synack_stack_next_event(st, &ev))
		;
}

TEST(stream_over_synack_tcp_with_loss_via_socket_layer)
{
	world();
	synack_impair imp = {
	    .loss = 0.02, .reorder = 0.05, .delay = SYNACK_MSEC(5), .reorder_delay = SYNACK_MSEC(3)};
	synack_sim sim;
	REQUIRE(synack_sim_init(&sim, 7, &imp, NULL, NULL) == 0);
	synack_endpoint srv = {.addr = synack_addr_ipv4(10, 0, 0, 2), .port = 443};
	synack_tcp *l = NULL, *sc = NULL;
	synack_sockets *socks = NULL;
	REQUIRE(synack_tcp_listen(sim.stack[1], &srv, 4, &l) == 0);
	REQUIRE(synack_sockets_create(sim.stack[0], 100, &socks) == 0);
	int fd = synack_socket(socks);
	REQUIRE(fd >= 100);
	CHECK_EQ(synack_connect(socks, fd, &srv), -EINPROGRESS);
	synack_tls *t[2] = {synack_tls_new(cfg[0], "localhost"), synack_tls_new(cfg[1], NULL)};
	struct ends e = {.up.total = 300000, .down.total = 200000};
	/* the client's stream exists before TCP is up: its first flight waits */
	e.s[0] = synack_tls_stream_new_tcp(synack_socket_tcp(socks, fd), t[0]);
	REQUIRE(t[0] && t[1] && e.s[0]);
	bool done = false;
	for (int i = 0; i < 200000 && !done; i++) {
		synack_sim_step(&sim, sim.now + SYNACK_SEC(1));
		drain_events(sim.stack[0]);
		drain_events(sim.stack[1]);
		if (!e.s[1] && synack_tcp_accept(l, &sc) == 0)
			REQUIRE((e.s[1] = synack_tls_stream_new_tcp(sc, t[1])) != NULL);
		if (!e.s[1]) {
			synack_tls_stream_pump(e.s[0]);
			continue;
		}
		done = app_round(&e);
	}
	CHECK(done);
	check_done(&e);
	synack_link_stats ls[2];
	synack_memlink_stats(sim.link, 0, &ls[0]);
	synack_memlink_stats(sim.link, 1, &ls[1]);
	CHECK(ls[0].lost + ls[1].lost > 0); /* the streams did meet loss */
	CHECK(ls[0].reordered + ls[1].reordered > 0);
	synack_tls_info info;
	synack_tls_get_info(t[0], &info);
	CHECK(info.peer_verified);
	for (int i = 0; i < 2; i++) {
		synack_tls_stream_free(e.s[i]);
		synack_tls_free(t[i]);
	}
	synack_tcp_close(sc);
	synack_tcp_close(l);
	synack_sockets_destroy(socks);
	synack_sim_destroy(&sim);
}

static void pair_fds(int fds[2])
{
	REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
	for (int i = 0; i < 2; i++)
		REQUIRE(fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) | O_NONBLOCK) == 0);
}

TEST(stream_over_fds_exchange_and_close)
{
	world();
	int fds[2];
	pair_fds(fds);
	synack_tls *t[2] = {synack_tls_new(cfg[0], "localhost"), synack_tls_new(cfg[1], NULL)};
	struct ends e = {.up.total = 100000, .down.total = 70000};
	for (int i = 0; i < 2; i++)
		REQUIRE((e.s[i] = synack_tls_stream_new_fd(fds[i], t[i])) != NULL);
	bool done = false;
	for (int i = 0; i < 10000 && !done; i++)
		done = app_round(&e);
	CHECK(done);
	check_done(&e);
	for (int i = 0; i < 2; i++) {
		synack_tls_stream_free(e.s[i]);
		synack_tls_free(t[i]);
		close(fds[i]);
	}
}

/* Handshake both ends over fds (nothing sent). */
static void fd_handshake(synack_tls_stream *s[2], synack_tls *t[2])
{
	for (int i = 0; i < 100 && !(synack_tls_handshake_done(t[0]) && synack_tls_handshake_done(t[1]));
	     i++) {
		uint8_t b[16];
		synack_tls_stream_recv(s[0], b, sizeof b);
		synack_tls_stream_recv(s[1], b, sizeof b);
	}
	CHECK(synack_tls_handshake_done(t[0]) && synack_tls_handshake_done(t[1]));
}

TEST(stream_truncation_is_epipe_not_eof)
{
	world();
	int fds[2];
	pair_fds(fds);
	synack_tls *t[2] = {synack_tls_new(cfg[0], "localhost"), synack_tls_new(cfg[1], NULL)};
	synack_tls_stream *s[2] = {synack_tls_stream_new_fd(fds[0], t[0]),
				   synack_tls_stream_new_fd(fds[1], t[1])};
	REQUIRE(s[0] && s[1]);
	fd_handshake(s, t);
	CHECK_EQ(synack_tls_stream_send(s[1], "partial", 7), 7);
	close(fds[1]); /* the server goes away without close_notify */
	uint8_t b[64];
	ssize_t n = 0;
	for (int i = 0; i < 10 && (n = synack_tls_stream_recv(s[0], b, sizeof b)) == -EAGAIN; i++)
		;
	CHECK_EQ(n, 7); /* what came before the cut is delivered ... */
	CHECK_EQ(synack_tls_stream_recv(s[0], b, sizeof b), -EPIPE); /* ... then the cut, not 0 */
	CHECK(synack_tls_stream_transport_eof(s[0]));
	for (int i = 0; i < 2; i++) {
		synack_tls_stream_free(s[i]);
		synack_tls_free(t[i]);
	}
	close(fds[0]);
}

/* Bytes waiting in the socket of fd. */
static size_t waiting(int fd)
{
	uint8_t b[65536];
	ssize_t n = recv(fd, b, sizeof b, MSG_PEEK);
	return n > 0 ? (size_t)n : 0;
}

TEST(stream_cork_holds_small_output_until_uncorked)
{
	world();
	int fds[2];
	pair_fds(fds);
	synack_tls *t[2] = {synack_tls_new(cfg[0], "localhost"), synack_tls_new(cfg[1], NULL)};
	synack_tls_stream *s[2] = {synack_tls_stream_new_fd(fds[0], t[0]),
				   synack_tls_stream_new_fd(fds[1], t[1])};
	REQUIRE(s[0] && s[1]);
	fd_handshake(s, t);
	uint8_t b[65536];
	while (recv(fds[0], b, sizeof b, 0) > 0) /* the ticket: not what we look at */
		;
	synack_tls_stream_cork(s[1], true);
	CHECK_EQ(synack_tls_stream_send(s[1], "one", 3), 3);
	CHECK_EQ(synack_tls_stream_send(s[1], "two", 3), 3);
	CHECK(synack_tls_stream_want_write(s[1]));
	CHECK_EQ(waiting(fds[0]), 0); /* held */
	synack_tls_stream_cork(s[1], false);
	size_t two_records = waiting(fds[0]);
	CHECK_EQ(two_records, 2 * (5 + 3 + 1 + 16)); /* both records in one write */
	CHECK(!synack_tls_stream_want_write(s[1]));
	while (recv(fds[0], b, sizeof b, 0) > 0)
		;
	/* corked, a full record's worth goes out anyway: cork bounds memory */
	synack_tls_stream_cork(s[1], true);
	memset(b, 'x', 20000);
	CHECK_EQ(synack_tls_stream_send(s[1], b, 20000), 20000);
	CHECK(waiting(fds[0]) >= 16384);
	synack_tls_stream_cork(s[1], false);
	for (int i = 0; i < 2; i++) {
		synack_tls_stream_free(s[i]);
		synack_tls_free(t[i]);
		close(fds[i]);
	}
}

TEST(stream_tls_failure_sends_alert_then_fin)
{
	world();
	int fds[2];
	pair_fds(fds);
	synack_tls *t = synack_tls_new(cfg[1], NULL); /* a server fed garbage */
	synack_tls_stream *s = synack_tls_stream_new_fd(fds[1], t);
	REQUIRE(t && s);
	static const uint8_t junk[] = "GET / HTTP/1.1\r\n\r\n";
	REQUIRE(write(fds[0], junk, sizeof junk - 1) == (ssize_t)sizeof junk - 1);
	uint8_t b[256];
	ssize_t n = synack_tls_stream_recv(s, b, sizeof b);
	CHECK(n < 0 && n != -EAGAIN);
	CHECK_EQ(synack_tls_stream_error(s), synack_tls_error(t));
	CHECK_EQ(synack_tls_err_alert(synack_tls_stream_error(s)), SYNACK_TLS_ALERT_UNEXPECTED_MESSAGE);
	CHECK(synack_tls_stream_write_done(s)); /* the alert went out, then the FIN */
	n = recv(fds[0], b, sizeof b, 0);
	CHECK_EQ(n, 7); /* one plaintext alert record: 21 03 03 00 02 02 0a */
	CHECK(n == 7 && b[0] == 21 && b[5] == 2 && b[6] == SYNACK_TLS_ALERT_UNEXPECTED_MESSAGE);
	CHECK_EQ(recv(fds[0], b, sizeof b, 0), 0); /* then the end */
	synack_tls_stream_free(s);
	synack_tls_free(t);
	close(fds[0]);
	close(fds[1]);
}
