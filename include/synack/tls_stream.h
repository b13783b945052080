/* synack: a TLS stream, the TLS engine (synack/tls.h) riding on a
 * transport: a synack_tcp connection or a kernel file descriptor (a
 * non-blocking socket). It has the semantics of synack_tcp_send/recv:
 * every call is non-blocking, -EAGAIN where a blocking call would wait,
 * 0 from recv at the orderly end of the peer's data (its close_notify).
 *
 * What it does for the caller: it moves bytes between the engine and the
 * transport. Whatever the engine wants to send (handshake messages,
 * records, the alert after an error) is offered to the transport and
 * consumed only as far as the transport took it, so a full send buffer
 * keeps the rest inside the engine (and synack_tls_write accepts less).
 * Bytes read from the transport that the engine did not take yet (it
 * holds at most one decrypted record) are kept here, at most one read's
 * worth (16 KiB), and nothing more is read until the engine took them:
 * a reader that stops reading closes the transport's window. An idle
 * stream holds no buffer.
 *
 * After a fatal error the alert the engine queued is sent and then the
 * write side of the transport is shut down (FIN): the connection is over,
 * and the peer learns why before it sees the end.
 *
 * Ownership: a stream borrows its transport and its engine; the caller
 * frees them after synack_tls_stream_free(). Calls on a synack_tcp
 * transport use the stack's current time, like synack_tcp_send.
 *
 * A loop drives a stream like this: when the transport is readable (a
 * synack_tcp event, EPOLLIN), call synack_tls_stream_recv until -EAGAIN
 * (or synack_tls_stream_pump when the application reads later); when
 * synack_tls_stream_want_write() is true, wait for the transport to be
 * writable (SYNACK_EV_WRITABLE, EPOLLOUT) and call synack_tls_stream_pump. */
#ifndef SYNACK_TLS_STREAM_H
#define SYNACK_TLS_STREAM_H

#include <stdbool.h>

#include "synack/tcp.h"
#include "synack/tls.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct synack_tls_stream synack_tls_stream;

/* A stream of engine t over the synack connection c (which may still be
 * connecting: the client's first flight goes out once it is established)
 * or over the kernel descriptor fd (non-blocking; a socket, or a pipe
 * pair for tests: reads and writes go to the same fd). NULL on ENOMEM. */
SYNACK_API synack_tls_stream *synack_tls_stream_new_tcp(synack_tcp *c, synack_tls *t);
SYNACK_API synack_tls_stream *synack_tls_stream_new_fd(int fd, synack_tls *t);
/* Frees the stream only (not the engine, not the transport). */
SYNACK_API void synack_tls_stream_free(synack_tls_stream *s);

/* Encrypt and send application data: bytes accepted (> 0), -EAGAIN before
 * the handshake is complete or when the transport is full, -EPIPE after
 * synack_tls_stream_close(), or the stream's error (a TLS error, see
 * synack_tls_strerror, or the transport's: -ECONNRESET ...). */
SYNACK_API ssize_t synack_tls_stream_send(synack_tls_stream *s, const void *buf, size_t len);
/* Decrypted application data: > 0 bytes; 0 after the peer's close_notify
 * and everything before it was read; -EAGAIN when nothing is waiting;
 * -EPIPE when the transport ended without close_notify (a truncation,
 * RFC 8446 §6.1, or a peer gone during the handshake); or the error. */
SYNACK_API ssize_t synack_tls_stream_recv(synack_tls_stream *s, void *buf, size_t len);
/* Orderly close of our side: close_notify, then the transport's FIN once
 * every byte before it was sent (later pumps finish what the transport
 * did not take at once). Receiving continues (TLS 1.3 half-close). 0, or
 * the stream's error. */
SYNACK_API int synack_tls_stream_close(synack_tls_stream *s);

/* Move bytes between engine and transport without the application: send
 * the engine's output, read the transport into the engine as far as the
 * engine takes it. Returns whether anything moved. */
SYNACK_API bool synack_tls_stream_pump(synack_tls_stream *s);
/* Cork (on) and uncork (off) the output, like TCP_CORK: while corked,
 * the engine's output is held (up to 16 KiB, a full record) instead of
 * going to the transport at every call, and the FIN after close_notify
 * waits too; uncorking sends what was held. A server corks while it
 * handles one readiness event, so that the session ticket, the response
 * and close_notify leave in one write instead of three. */
SYNACK_API void synack_tls_stream_cork(synack_tls_stream *s, bool on);
/* Whether output waits for the transport (engine bytes, or the FIN after
 * close_notify): watch for writability and pump then. */
SYNACK_API bool synack_tls_stream_want_write(const synack_tls_stream *s);
/* Whether our side is over: close_notify (or the alert after an error)
 * and the FIN after it were handed to the transport. */
SYNACK_API bool synack_tls_stream_write_done(const synack_tls_stream *s);
/* Whether the transport reported its end (FIN read, or EOF). */
SYNACK_API bool synack_tls_stream_transport_eof(const synack_tls_stream *s);
/* 0, or the first error: the engine's (a TLS error) or the transport's. */
SYNACK_API int synack_tls_stream_error(const synack_tls_stream *s);
/* The engine the stream drives. */
SYNACK_API synack_tls *synack_tls_stream_tls(const synack_tls_stream *s);

#ifdef __cplusplus
}
#endif
#endif
