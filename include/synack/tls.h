/* synack TLS: a sans-I/O TLS 1.3 engine (TLS 1.2 to follow) on libcrypto.
 *
 * The engine takes bytes and gives bytes; it does not know what carries
 * them (a synack_tcp connection, a kernel socket, a memory pipe). The
 * contract, in the picotls and BearSSL tradition:
 *
 *  - synack_tls_feed() consumes bytes received from the peer and says how
 *    many it took; it never calls back into the application.
 *  - whatever the engine wants to send (handshake messages, records,
 *    alerts) accumulates in its output and is taken with
 *    synack_tls_out_peek()/synack_tls_out_consume() (or synack_tls_take()).
 *    Output must be drained after every call, also after an error: a fatal
 *    alert is queued there and must go out before the transport closes.
 *  - application data goes in with synack_tls_write() and comes out with
 *    synack_tls_read().
 *  - the first fatal error is sticky: every later call returns it.
 *  - time and randomness come from the configuration (synack_tls_clock,
 *    synack_rng), so a run with fixed inputs reproduces byte for byte
 *    (RFC 8448). Events (handshake done, key update, close_notify, ticket)
 *    and key-log lines are recorded and drained, like TCP's events.
 *  - memory is bounded: a cap on each handshake message (64 KiB) and on the
 *    whole handshake; handshake buffers are freed when it completes.
 *
 * Errors are negative values: negative errno values (-EAGAIN, -EINVAL,
 * -ENOMEM, -EPIPE), or a TLS alert in its own range: SYNACK_TLS_ERR_SENT(a)
 * when synack detected the problem and sent alert a,
 * SYNACK_TLS_ERR_RECEIVED(a) when the peer sent fatal alert a.
 * synack_tls_strerror() names either. */
#ifndef SYNACK_TLS_H
#define SYNACK_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "synack/types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- errors ---- */
#define SYNACK_TLS_ERR_SENT_BASE       0x1000
#define SYNACK_TLS_ERR_RECEIVED_BASE   0x1100
#define SYNACK_TLS_ERR_SENT(alert)     (-(SYNACK_TLS_ERR_SENT_BASE + (alert)))
#define SYNACK_TLS_ERR_RECEIVED(alert) (-(SYNACK_TLS_ERR_RECEIVED_BASE + (alert)))
/* The alert in an error of either range, or -1. */
SYNACK_API int synack_tls_err_alert(int err);
/* "sent handshake_failure", "received bad_certificate", or strerror(-err). */
SYNACK_API const char *synack_tls_strerror(int err);

/* Alert descriptions (RFC 8446 §6). */
enum synack_tls_alert {
	SYNACK_TLS_ALERT_CLOSE_NOTIFY = 0,
	SYNACK_TLS_ALERT_UNEXPECTED_MESSAGE = 10,
	SYNACK_TLS_ALERT_BAD_RECORD_MAC = 20,
	SYNACK_TLS_ALERT_RECORD_OVERFLOW = 22,
	SYNACK_TLS_ALERT_HANDSHAKE_FAILURE = 40,
	SYNACK_TLS_ALERT_BAD_CERTIFICATE = 42,
	SYNACK_TLS_ALERT_UNSUPPORTED_CERTIFICATE = 43,
	SYNACK_TLS_ALERT_CERTIFICATE_REVOKED = 44,
	SYNACK_TLS_ALERT_CERTIFICATE_EXPIRED = 45,
	SYNACK_TLS_ALERT_CERTIFICATE_UNKNOWN = 46,
	SYNACK_TLS_ALERT_ILLEGAL_PARAMETER = 47,
	SYNACK_TLS_ALERT_UNKNOWN_CA = 48,
	SYNACK_TLS_ALERT_ACCESS_DENIED = 49,
	SYNACK_TLS_ALERT_DECODE_ERROR = 50,
	SYNACK_TLS_ALERT_DECRYPT_ERROR = 51,
	SYNACK_TLS_ALERT_PROTOCOL_VERSION = 70,
	SYNACK_TLS_ALERT_INSUFFICIENT_SECURITY = 71,
	SYNACK_TLS_ALERT_INTERNAL_ERROR = 80,
	SYNACK_TLS_ALERT_INAPPROPRIATE_FALLBACK = 86,
	SYNACK_TLS_ALERT_USER_CANCELED = 90,
	SYNACK_TLS_ALERT_MISSING_EXTENSION = 109,
	SYNACK_TLS_ALERT_UNSUPPORTED_EXTENSION = 110,
	SYNACK_TLS_ALERT_UNRECOGNIZED_NAME = 112,
	SYNACK_TLS_ALERT_BAD_CERTIFICATE_STATUS_RESPONSE = 113,
	SYNACK_TLS_ALERT_UNKNOWN_PSK_IDENTITY = 115,
	SYNACK_TLS_ALERT_CERTIFICATE_REQUIRED = 116,
	SYNACK_TLS_ALERT_NO_APPLICATION_PROTOCOL = 120,
};
/* "handshake_failure" ...; "alert_<n>" for an unknown code (static buffer
 * not used: unknown codes give "unknown_alert"). */
SYNACK_API const char *synack_tls_alert_name(int alert);

/* Codepoints, for configuration and synack_tls_info. */
#define SYNACK_TLS_VERSION_12		    0x0303
#define SYNACK_TLS_VERSION_13		    0x0304
#define SYNACK_TLS_AES_128_GCM_SHA256	    0x1301
#define SYNACK_TLS_AES_256_GCM_SHA384	    0x1302
#define SYNACK_TLS_CHACHA20_POLY1305_SHA256 0x1303
#define SYNACK_TLS_GROUP_SECP256R1	    0x0017
#define SYNACK_TLS_GROUP_SECP384R1	    0x0018
#define SYNACK_TLS_GROUP_X25519		    0x001d
/* Names for any of the above ("TLS_AES_128_GCM_SHA256", "x25519",
 * "ecdsa_secp256r1_sha256", "TLSv1.3"); "unknown" otherwise. */
SYNACK_API const char *synack_tls_suite_name(uint16_t suite);
SYNACK_API const char *synack_tls_group_name(uint16_t group);
SYNACK_API const char *synack_tls_sigscheme_name(uint16_t scheme);

/* ---- configuration: shared by many connections, not changed while any
 * connection uses it. ---- */
typedef struct synack_tls_config synack_tls_config;

/* Wall-clock time in milliseconds since the Unix epoch: certificate
 * validity and ticket ages. */
typedef struct synack_tls_clock {
	int64_t (*unix_ms)(void *ctx);
	void *ctx;
} synack_tls_clock;

enum synack_tls_role { SYNACK_TLS_CLIENT = 0, SYNACK_TLS_SERVER = 1 };

/* A configuration with safe defaults: TLS 1.3, all three suites
 * (AES-128-GCM first), groups x25519 then secp256r1, every signature
 * scheme we implement, certificate verification ON against no trust
 * anchor (a client must add one: a CA file, directory or the system
 * store), the system clock and libcrypto's randomness. NULL on ENOMEM. */
SYNACK_API synack_tls_config *synack_tls_config_new(enum synack_tls_role role);
SYNACK_API void synack_tls_config_free(synack_tls_config *c);

/* Our certificate chain (PEM, leaf first) and its private key: required
 * on a server, optional on a client (offered when the server asks). The
 * _mem variants take PEM text. 0, or -EINVAL with a one-line reason in
 * synack_tls_config_error(). */
SYNACK_API int synack_tls_config_load_cert(synack_tls_config *c, const char *chain_pem_file,
					   const char *key_pem_file);
SYNACK_API int synack_tls_config_load_cert_mem(synack_tls_config *c, const char *chain_pem,
					       const char *key_pem);
/* Trust anchors for verifying the peer. */
SYNACK_API int synack_tls_config_load_ca_file(synack_tls_config *c, const char *pem_file);
SYNACK_API int synack_tls_config_load_ca_dir(synack_tls_config *c, const char *dir);
SYNACK_API int synack_tls_config_load_ca_mem(synack_tls_config *c, const char *pem);
SYNACK_API int synack_tls_config_use_system_ca(synack_tls_config *c);
/* The reason the last configuration call failed ("" if none). */
SYNACK_API const char *synack_tls_config_error(const synack_tls_config *c);

/* Turn certificate verification off: the peer is then not authenticated
 * and anyone on the path can read and change the traffic. The name says
 * it so that nobody calls it by accident. */
SYNACK_API void synack_tls_config_INSECURE_no_verify(synack_tls_config *c);
/* Server: ask for a client certificate; required: fail the handshake with
 * certificate_required when none comes. Verified against the server's
 * trust anchors. */
SYNACK_API void synack_tls_config_request_client_cert(synack_tls_config *c, bool required);

/* ALPN protocols in preference order, comma separated ("h2,http/1.1");
 * NULL or "" for none. A server with a list and a client whose offer has
 * no overlap: no_application_protocol. */
SYNACK_API int synack_tls_config_set_alpn(synack_tls_config *c, const char *list);
/* Restrict and order suites, groups, signature schemes (codepoints, n
 * entries, unknown ones refused with -EINVAL). */
SYNACK_API int synack_tls_config_set_suites(synack_tls_config *c, const uint16_t *suites, size_t n);
SYNACK_API int synack_tls_config_set_groups(synack_tls_config *c, const uint16_t *groups, size_t n);
SYNACK_API int synack_tls_config_set_sigschemes(synack_tls_config *c, const uint16_t *schemes, size_t n);
/* Versions allowed: SYNACK_TLS_VERSION_12 and/or SYNACK_TLS_VERSION_13
 * (default: both; the highest both sides support is negotiated, and a
 * 1.3-capable end detects a downgrade, RFC 8446 §4.1.3). TLS 1.2 is
 * ECDHE with AEAD suites and extended master secret only. */
SYNACK_API int synack_tls_config_set_versions(synack_tls_config *c, uint16_t min, uint16_t max);
/* Sources of time and randomness (defaults: system clock, libcrypto). */
SYNACK_API void synack_tls_config_set_clock(synack_tls_config *c, synack_tls_clock clock);
SYNACK_API void synack_tls_config_set_rng(synack_tls_config *c, synack_rng rng);
/* Record key-log lines (NSS SSLKEYLOGFILE format) for synack_tls_keylog(). */
SYNACK_API void synack_tls_config_set_keylog(synack_tls_config *c, bool on);
/* Server: issue this many session tickets after the handshake (default
 * 1; 0 disables resumption). Ticket keys rotate every `rotate_s` seconds
 * (default 3600); tickets sealed under the previous key stay valid. */
SYNACK_API void synack_tls_config_set_tickets(synack_tls_config *c, unsigned count, unsigned lifetime_s,
					      unsigned rotate_s);
/* Server: keep up to `entries` TLS 1.2 sessions for resumption by
 * session ID (RFC 5246), for clients that do not take session tickets
 * (default 0: off; tickets need no server state). Entries live as long as
 * tickets (set_tickets' lifetime), about 160 bytes each, allocated here;
 * a new session replaces the one in its slot. A configuration with a
 * cache must be used by one thread at a time: connections write to it.
 * -EINVAL on a client configuration or above 2^20 entries. */
SYNACK_API int synack_tls_config_set_session_cache(synack_tls_config *c, size_t entries);
/* Largest plaintext per record we send (default 16384; the peer's
 * record_size_limit lowers it, RFC 8449). */
SYNACK_API int synack_tls_config_set_max_record(synack_tls_config *c, size_t n);

/* ---- a connection ---- */
typedef struct synack_tls synack_tls;

/* A connection in the configuration's role. server_name (client only):
 * sent as SNI (unless it is an IP literal) and the name the server's
 * certificate must match; NULL skips the name check. A client builds its
 * first flight on the first call that takes output or feeds input
 * (synack_tls_out_peek, _take, _feed), so synack_tls_set_session may come
 * in between. NULL on ENOMEM. */
SYNACK_API synack_tls *synack_tls_new(const synack_tls_config *c, const char *server_name);
SYNACK_API void synack_tls_free(synack_tls *t);

/* Bytes received from the peer. Returns how many were consumed (all of
 * them unless application data is waiting to be read: the engine holds
 * at most one decrypted record), or the sticky error. Drain the output
 * afterwards, also after an error. */
SYNACK_API ssize_t synack_tls_feed(synack_tls *t, const void *in, size_t len);
/* The bytes waiting to go to the peer, in place (NULL/0 when none). */
SYNACK_API const uint8_t *synack_tls_out_peek(synack_tls *t, size_t *len);
/* Mark n of them as sent. */
SYNACK_API void synack_tls_out_consume(synack_tls *t, size_t n);
/* Copy up to cap waiting bytes into buf and consume them; returns how many. */
SYNACK_API size_t synack_tls_take(synack_tls *t, void *buf, size_t cap);

/* Application data from the peer: > 0 bytes, 0 after the peer's
 * close_notify, -EAGAIN when nothing is waiting, or the sticky error. */
SYNACK_API ssize_t synack_tls_read(synack_tls *t, void *buf, size_t cap);
/* Encrypt application data into the output: returns bytes accepted
 * (possibly fewer than len when the output holds too much: drain it and
 * write again), -EAGAIN before the handshake is complete, -EPIPE after
 * close, or the sticky error. */
SYNACK_API ssize_t synack_tls_write(synack_tls *t, const void *buf, size_t len);
/* Queue close_notify (RFC 8446 §6.1); no data may be written afterwards. */
SYNACK_API int synack_tls_close(synack_tls *t);
/* Queue a KeyUpdate (RFC 8446 §4.6.3), asking the peer to update too if
 * request_peer. The engine also updates by itself before the AEAD limits
 * of §5.5. */
SYNACK_API int synack_tls_key_update(synack_tls *t, bool request_peer);

SYNACK_API bool synack_tls_handshake_done(const synack_tls *t);
/* 0, or the sticky error. */
SYNACK_API int synack_tls_error(const synack_tls *t);
/* A one-line explanation of the sticky error ("server certificate expired
 * at 2026-01-01", "no common cipher suite: client offered 0x1304"). */
SYNACK_API const char *synack_tls_error_detail(const synack_tls *t);
/* Bytes of memory this connection holds now (for tests and benchmarks). */
SYNACK_API size_t synack_tls_memory(const synack_tls *t);

/* ---- events, drained (no callbacks) ---- */
enum synack_tls_event {
	SYNACK_TLS_EV_HANDSHAKE_DONE = 1 << 0,
	SYNACK_TLS_EV_KEY_UPDATE = 1 << 1,   /* either direction changed keys */
	SYNACK_TLS_EV_CLOSE_NOTIFY = 1 << 2, /* the peer closed its side */
	SYNACK_TLS_EV_TICKET = 1 << 3,	     /* client: a session ticket arrived */
	SYNACK_TLS_EV_ERROR = 1 << 4,	     /* the connection failed (synack_tls_error) */
	SYNACK_TLS_EV_READABLE = 1 << 5,     /* application data waiting */
};
/* The events since the last call, cleared by the call. */
SYNACK_API uint32_t synack_tls_events(synack_tls *t);

/* Key-log lines (NSS SSLKEYLOGFILE: "CLIENT_HANDSHAKE_TRAFFIC_SECRET
 * <client_random hex> <secret hex>\n"), when enabled in the config: copies
 * as many whole lines as fit into buf, removes them, returns the byte
 * count (0 when none). */
SYNACK_API size_t synack_tls_keylog(synack_tls *t, char *buf, size_t cap);

/* ---- the trace: one line per handshake message and key change, for
 * ladders and logs (drained like TCP's trace). ---- */
enum synack_tls_keys {
	SYNACK_TLS_KEYS_PLAINTEXT = 0,
	SYNACK_TLS_KEYS_EARLY = 1,
	SYNACK_TLS_KEYS_HANDSHAKE = 2,
	SYNACK_TLS_KEYS_APPLICATION = 3,
};
typedef struct synack_tls_trace_entry {
	bool sent;	  /* we sent it (else received) */
	uint8_t content;  /* record content type: 20 ccs, 21 alert, 22 handshake, 23 data */
	uint8_t msg_type; /* handshake message type (content 22), alert code (21) */
	uint8_t keys;	  /* enum synack_tls_keys protecting the record */
	uint32_t len;	  /* message or data bytes */
	char text[256];	  /* "ClientHello versions=TLSv1.3 suites=... groups=x25519,secp256r1" */
} synack_tls_trace_entry;
/* Turn tracing on (off by default: it costs a formatted line per message). */
SYNACK_API void synack_tls_trace_enable(synack_tls *t, bool on);
/* Copy up to n entries, oldest first, and remove them; returns the count.
 * At most 64 are kept; older ones are dropped and counted in
 * synack_tls_info.trace_dropped. */
SYNACK_API size_t synack_tls_trace(synack_tls *t, synack_tls_trace_entry *out, size_t n);

/* ---- what was negotiated ---- */
typedef struct synack_tls_info {
	uint16_t version; /* SYNACK_TLS_VERSION_13 or SYNACK_TLS_VERSION_12 */
	uint16_t suite;
	uint16_t group;		/* key-exchange group (0 with pure PSK) */
	uint16_t sigscheme;	/* the peer's CertificateVerify scheme (0 if none) */
	bool resumed;		/* PSK-DHE resumption */
	bool hrr;		/* a HelloRetryRequest happened */
	bool peer_verified;	/* the peer's certificate chain and name verified */
	char alpn[64];		/* negotiated protocol, "" if none */
	char sni[256];		/* server: name the client asked for; client: what it sent */
	char peer_subject[256]; /* the peer leaf certificate's subject, "" if none */
	uint64_t records_in, records_out;
	uint64_t key_updates;
	uint64_t trace_dropped;
} synack_tls_info;
SYNACK_API int synack_tls_get_info(const synack_tls *t, synack_tls_info *info);

/* ---- resumption (client) ---- */
/* The most recent session ticket as an opaque blob (ticket, secret, suite,
 * SNI, ALPN, times): returns its length, -ENOSPC if cap is too small,
 * -ENOENT if none arrived. */
SYNACK_API ssize_t synack_tls_get_session(const synack_tls *t, void *buf, size_t cap);
/* Offer a saved session on a new client connection, before its first
 * flight is built (see synack_tls_new). -EINVAL if the blob is malformed
 * or for another server name, -EALREADY once the ClientHello is built. */
SYNACK_API int synack_tls_set_session(synack_tls *t, const void *blob, size_t len);

#ifdef __cplusplus
}
#endif
#endif
