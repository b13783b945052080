/* The demo's TLS layer: one synack_tls engine per end, riding on the end's
 * synack_tcp connection, and what the ladder needs to draw its messages.
 *
 * The demo's application calls demo_tls_recv/demo_tls_send where it would
 * call synack_tcp_recv/send; demo_tls_pump moves bytes between the engine
 * and TCP (TCP's receive side into the engine, the engine's output into
 * TCP's send buffer, what TCP does not take stays in the engine's output).
 * Everything is deterministic for a seed: the engines' randomness is a
 * synack_prng seeded from the demo's seed, their clock a fixed date plus
 * the virtual time, and the throw-away CA and server certificate use
 * Ed25519 (deterministic signatures of a fixed size), so the ladder of a
 * seed is always the same. */
#ifndef SYNACK_TOOLS_DEMO_TLS_H
#define SYNACK_TOOLS_DEMO_TLS_H

#include <stdbool.h>
#include <stdio.h>

#include "synack/synack.h"
#include "synack/tls.h"

#define DEMO_TLS_SERVER_NAME "server.demo"

/* Both ends' configurations and the certificates (one per demo run). */
struct demo_tls_world;
/* NULL and a one-line reason in why on failure. now: the virtual clock's
 * address (microseconds, read by the engines' clock). */
/* version: SYNACK_TLS_VERSION_12 or _13, pinned on both ends. */
struct demo_tls_world *demo_tls_world_new(uint64_t seed, uint16_t version, const synack_time_t *now,
					  char *why, size_t why_cap);
void demo_tls_world_free(struct demo_tls_world *w);
/* The subject of the server's certificate and its issuer, for notes. */
const char *demo_tls_world_subject(const struct demo_tls_world *w);

/* One end. */
struct demo_tls {
	synack_tls *tls;
	synack_tcp *conn;
	uint8_t in[16384]; /* TCP bytes not yet consumed by the engine */
	size_t in_len, in_off;
	bool tcp_eof; /* TCP's FIN read */
};
int demo_tls_start(struct demo_tls *e, struct demo_tls_world *w, bool server, synack_tcp *conn);
void demo_tls_end(struct demo_tls *e);
/* Feed what TCP received into the engine (which may answer: take its
 * trace, then flush). Returns the engine's sticky error (0 if none). */
int demo_tls_feed(struct demo_tls *e);
/* The engine's output into TCP's send buffer, as far as TCP takes it. */
void demo_tls_flush(struct demo_tls *e);
/* Like synack_tcp_recv/send, through the engine: > 0 bytes, 0 at the
 * peer's close_notify, -EAGAIN, or an error (TLS or TCP). recv before the
 * handshake is done gives -EAGAIN. A TCP FIN without close_notify is
 * -EPIPE (a truncation attack, RFC 8446 §6.1). Neither flushes: the
 * caller takes the trace first, then calls demo_tls_flush. */
ssize_t demo_tls_recv(struct demo_tls *e, void *buf, size_t len);
ssize_t demo_tls_send(struct demo_tls *e, const void *buf, size_t len);
/* Queue close_notify (flush it afterwards). */
void demo_tls_close(struct demo_tls *e);
/* After the peer's close_notify (recv gave 0): true once TCP's FIN has
 * been read too; any bytes before it are dropped unread (§6.1). */
bool demo_tls_tcp_eof(struct demo_tls *e);
/* Append the key-log lines waiting in e to f (NULL: drop them). */
void demo_tls_keylog(struct demo_tls *e, FILE *f);

#endif
