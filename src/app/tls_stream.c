/* A TLS stream: the engine on a synack_tcp connection or a kernel
 * descriptor (include/synack/tls_stream.h).
 *
 * Implementation notes
 *
 * The stream only moves bytes; it knows nothing of the protocol but what
 * tls.h says. Three small steps, repeated by pump() until none moves a
 * byte (or a round limit, so one busy peer cannot hold the caller for
 * ever):
 *
 *  - flush: synack_tls_out_peek, offer the bytes to the transport,
 *    synack_tls_out_consume what it took. Once the output is empty after
 *    close_notify or after a fatal error (whose alert was in it), the
 *    write side is shut down: FIN follows the last record, never
 *    precedes it.
 *  - feed_pending: bytes read earlier that the engine did not take (it
 *    stops at a decrypted record the application has not read).
 *  - read_transport: one read of at most CHUNK bytes into a buffer on the
 *    C stack, fed at once; only what the engine leaves is copied to the
 *    heap (pend), and no read happens while pend holds anything. So a
 *    stream holds at most one record in the engine plus one chunk here,
 *    and an idle stream holds nothing.
 *
 * After a fatal error the peer's further bytes are read and dropped (a
 * bounded amount per pump): left unread, they would make a close turn
 * into a RST that can overtake the alert.
 *
 * The transport: synack_tcp_send/recv, or send/recv(2) with MSG_NOSIGNAL
 * (read/write(2) for a descriptor that is not a socket). A synack
 * connection still in its handshake answers -ENOTCONN; that is -EAGAIN
 * here, the client's first flight waits in the engine's output. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "synack/tls_stream.h"

enum {
	CHUNK = 16384 + 512, /* one read: a full record (RFC 8446 §5.2) fits */
	ROUNDS = 256,	     /* pump rounds per call */
	DISCARD_MAX = 65536, /* bytes dropped per pump after an error */
	CORK_MAX = 16384,    /* output held while corked, at most */
};

struct synack_tls_stream {
	synack_tls *t;
	synack_tcp *tcp; /* the transport: tcp, or fd when tcp is NULL */
	int fd;
	uint8_t *pend; /* read but not yet taken by the engine */
	size_t pend_off, pend_len;
	int err;       /* the transport's first error */
	bool eof;      /* the transport's end was read */
	bool closing;  /* close_notify asked for: FIN after the output */
	bool fin_sent; /* write side shut down */
	bool corked;   /* hold output below CORK_MAX until uncorked */
};

static synack_tls_stream *stream_new(synack_tcp *c, int fd, synack_tls *t)
{
	synack_tls_stream *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->t = t;
	s->tcp = c;
	s->fd = fd;
	return s;
}

synack_tls_stream *synack_tls_stream_new_tcp(synack_tcp *c, synack_tls *t)
{
	return c && t ? stream_new(c, -1, t) : NULL;
}

synack_tls_stream *synack_tls_stream_new_fd(int fd, synack_tls *t)
{
	return fd >= 0 && t ? stream_new(NULL, fd, t) : NULL;
}

void synack_tls_stream_free(synack_tls_stream *s)
{
	if (!s)
		return;
	free(s->pend);
	free(s);
}

/* ---- the transport ---- */

/* A synack connection before ESTABLISHED says -ENOTCONN: not yet. */
static ssize_t tcp_not_yet(const synack_tls_stream *s, ssize_t n)
{
	if (n != -ENOTCONN)
		return n;
	int st = synack_tcp_state(s->tcp);
	return st == SYNACK_TCP_SYN_SENT || st == SYNACK_TCP_SYN_RECEIVED ? -EAGAIN : n;
}

static ssize_t fd_result(ssize_t n)
{
	if (n >= 0)
		return n;
	return errno == EWOULDBLOCK ? -EAGAIN : -errno;
}

static ssize_t tx(synack_tls_stream *s, const uint8_t *p, size_t n)
{
	if (s->tcp)
		return tcp_not_yet(s, synack_tcp_send(s->tcp, p, n));
	for (;;) {
		ssize_t w = send(s->fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == ENOTSOCK)
			w = write(s->fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		return fd_result(w);
	}
}

static ssize_t rx(synack_tls_stream *s, uint8_t *p, size_t n)
{
	if (s->tcp)
		return tcp_not_yet(s, synack_tcp_recv(s->tcp, p, n));
	for (;;) {
		ssize_t r = recv(s->fd, p, n, 0);
		if (r < 0 && errno == ENOTSOCK)
			r = read(s->fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		return fd_result(r);
	}
}

static void shut_wr(synack_tls_stream *s)
{
	if (s->tcp)
		synack_tcp_shutdown(s->tcp, SYNACK_SHUT_WR);
	else
		shutdown(s->fd, SHUT_WR); /* ENOTSOCK: the caller's close ends it */
	s->fin_sent = true;
}

static void transport_failed(synack_tls_stream *s, ssize_t err)
{
	if (!s->err)
		s->err = (int)err;
}

/* ---- moving bytes ---- */

static bool engine_failed(const synack_tls_stream *s)
{
	return synack_tls_error(s->t) != 0;
}

/* The engine's output to the transport; then FIN if our side is over. */
static bool flush(synack_tls_stream *s)
{
	bool moved = false;
	size_t len;
	const uint8_t *p;
	if (s->corked && (!synack_tls_out_peek(s->t, &len) || len < CORK_MAX))
		return false;
	while (!s->err && (p = synack_tls_out_peek(s->t, &len)) && len) {
		ssize_t n = tx(s, p, len);
		if (n == -EAGAIN || n == 0)
			break;
		if (n < 0) {
			transport_failed(s, n);
			break;
		}
		synack_tls_out_consume(s->t, (size_t)n);
		moved = true;
	}
	if (!s->err && !s->fin_sent && (s->closing || engine_failed(s)) &&
	    (!synack_tls_out_peek(s->t, &len) || !len)) {
		shut_wr(s);
		moved = true;
	}
	return moved;
}

static void drop_pending(synack_tls_stream *s)
{
	free(s->pend);
	s->pend = NULL;
	s->pend_off = s->pend_len = 0;
}

/* Feed p[0..n) to the engine; returns how many it took (0 on an error:
 * the engine's sticky error says what). */
static size_t feed(synack_tls_stream *s, const uint8_t *p, size_t n)
{
	ssize_t r = synack_tls_feed(s->t, p, n);
	return r > 0 ? (size_t)r : 0;
}

static bool feed_pending(synack_tls_stream *s)
{
	if (!s->pend_len)
		return false;
	if (engine_failed(s)) {
		drop_pending(s);
		return false;
	}
	size_t n = feed(s, s->pend + s->pend_off, s->pend_len);
	s->pend_off += n;
	s->pend_len -= n;
	if (!s->pend_len)
		drop_pending(s);
	return n > 0;
}

/* Keep p[0..n), which the engine did not take, for later. */
static bool keep(synack_tls_stream *s, const uint8_t *p, size_t n)
{
	s->pend = malloc(n);
	if (!s->pend) {
		transport_failed(s, -ENOMEM);
		return false;
	}
	memcpy(s->pend, p, n);
	s->pend_off = 0;
	s->pend_len = n;
	return true;
}

/* One read from the transport, fed to the engine (or dropped after a
 * failure, up to *discard bytes per pump). */
static bool read_transport(synack_tls_stream *s, size_t *discard)
{
	uint8_t buf[CHUNK];
	bool failed = engine_failed(s);
	if (s->pend_len || s->eof || s->err || (failed && *discard == 0))
		return false;
	ssize_t n = rx(s, buf, failed && *discard < sizeof buf ? *discard : sizeof buf);
	if (n == -EAGAIN)
		return false;
	if (n < 0) {
		transport_failed(s, n);
		return true;
	}
	if (n == 0) {
		s->eof = true;
		return true;
	}
	if (failed) {
		*discard -= (size_t)n;
		return true;
	}
	size_t took = feed(s, buf, (size_t)n);
	if (took < (size_t)n && !engine_failed(s))
		keep(s, buf + took, (size_t)n - took);
	return true;
}

bool synack_tls_stream_pump(synack_tls_stream *s)
{
	size_t discard = DISCARD_MAX;
	bool any = false;
	for (int round = 0; round < ROUNDS; round++) {
		bool moved = flush(s);
		moved |= feed_pending(s);
		moved |= read_transport(s, &discard);
		if (!moved)
			break;
		any = true;
	}
	flush(s);
	return any;
}

/* ---- the application's side ---- */

int synack_tls_stream_error(const synack_tls_stream *s)
{
	int e = synack_tls_error(s->t);
	return e ? e : s->err;
}

ssize_t synack_tls_stream_recv(synack_tls_stream *s, void *buf, size_t len)
{
	ssize_t r = synack_tls_read(s->t, buf, len);
	if (r == -EAGAIN) {
		synack_tls_stream_pump(s);
		r = synack_tls_read(s->t, buf, len);
	}
	if (r > 0) {
		/* Room in the engine again: give it what waits, send what it
		 * answers (a KeyUpdate of its own ...). */
		feed_pending(s);
		flush(s);
		return r;
	}
	if (r != -EAGAIN) {
		flush(s); /* an error: its alert, then FIN */
		return r;
	}
	if (s->err)
		return s->err;
	if (s->eof && !s->pend_len)
		return -EPIPE; /* the transport ended without close_notify */
	return -EAGAIN;
}

ssize_t synack_tls_stream_send(synack_tls_stream *s, const void *buf, size_t len)
{
	int err = synack_tls_stream_error(s);
	if (err)
		return err;
	if (s->closing)
		return -EPIPE;
	if (!synack_tls_handshake_done(s->t)) {
		synack_tls_stream_pump(s);
		if (!synack_tls_handshake_done(s->t)) {
			err = synack_tls_stream_error(s);
			return err ? err : -EAGAIN;
		}
	}
	flush(s);
	ssize_t n = synack_tls_write(s->t, buf, len);
	if (n == 0 && len)
		n = -EAGAIN;
	flush(s);
	if (n == -EAGAIN && s->err)
		return s->err;
	return n;
}

int synack_tls_stream_close(synack_tls_stream *s)
{
	if (!s->closing) {
		s->closing = true;
		if (!engine_failed(s))
			synack_tls_close(s->t);
		flush(s);
	}
	return synack_tls_stream_error(s);
}

void synack_tls_stream_cork(synack_tls_stream *s, bool on)
{
	s->corked = on;
	if (!on)
		flush(s);
}

bool synack_tls_stream_want_write(const synack_tls_stream *s)
{
	size_t len = 0;
	if (s->err)
		return false;
	if (synack_tls_out_peek(s->t, &len) && len)
		return true;
	return !s->fin_sent && (s->closing || engine_failed(s));
}

bool synack_tls_stream_write_done(const synack_tls_stream *s)
{
	return s->fin_sent;
}

bool synack_tls_stream_transport_eof(const synack_tls_stream *s)
{
	return s->eof;
}

synack_tls *synack_tls_stream_tls(const synack_tls_stream *s)
{
	return s->t;
}
