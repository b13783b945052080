/* The TLS engine's internals: what the core (record layer, key schedule,
 * transcript, connection API: record.c keysched.c conn.c config.c) and the
 * handshakes (client.c server.c and their codecs: hs.h) share.
 *
 * The seam. The core reassembles handshake messages from records and hands
 * each complete message to the handshake layer (tls_hs_input); it owns the
 * record keys, the transcript hash, the output buffer, the sticky error,
 * events, trace and key log. The handshake layer owns the negotiation
 * state (struct tls_hs, defined in hs.h, allocated for the handshake and
 * freed when it ends) and calls back down through the functions below.
 * Nothing in the handshake layer writes a record or touches a key
 * directly; nothing in the core parses a handshake message body. */
#ifndef SYNACK_TLS_INTERNAL_H
#define SYNACK_TLS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/base.h"
#include "crypto/crypto.h"
#include "synack/tls.h"

/* Record content types (RFC 8446 §5.1). */
enum tls_content {
	TLS_CT_CHANGE_CIPHER_SPEC = 20,
	TLS_CT_ALERT = 21,
	TLS_CT_HANDSHAKE = 22,
	TLS_CT_APPLICATION_DATA = 23,
};

/* Handshake message types (RFC 8446 §4). */
enum tls_hs_type {
	TLS_HS_CLIENT_HELLO = 1,
	TLS_HS_SERVER_HELLO = 2,
	TLS_HS_NEW_SESSION_TICKET = 4,
	TLS_HS_END_OF_EARLY_DATA = 5,
	TLS_HS_ENCRYPTED_EXTENSIONS = 8,
	TLS_HS_CERTIFICATE = 11,
	TLS_HS_SERVER_KEY_EXCHANGE = 12, /* TLS 1.2 */
	TLS_HS_CERTIFICATE_REQUEST = 13,
	TLS_HS_SERVER_HELLO_DONE = 14, /* TLS 1.2 */
	TLS_HS_CERTIFICATE_VERIFY = 15,
	TLS_HS_CLIENT_KEY_EXCHANGE = 16, /* TLS 1.2 */
	TLS_HS_FINISHED = 20,
	TLS_HS_KEY_UPDATE = 24,
	TLS_HS_MESSAGE_HASH = 254,
};

/* Caps (DESIGN.md principle 3). */
#define TLS_MAX_PLAINTEXT  16384		     /* RFC 8446 §5.1 */
#define TLS_MAX_CIPHERTEXT (TLS_MAX_PLAINTEXT + 256) /* §5.2 */
#define TLS_MAX_HS_MESSAGE 65536		     /* one handshake message */
#define TLS_MAX_HS_TOTAL   (256 * 1024)		     /* the whole handshake */

/* Key epochs, one per direction (RFC 8446 §7). */
enum tls_epoch {
	TLS_EPOCH_PLAINTEXT = SYNACK_TLS_KEYS_PLAINTEXT,
	TLS_EPOCH_EARLY = SYNACK_TLS_KEYS_EARLY,
	TLS_EPOCH_HANDSHAKE = SYNACK_TLS_KEYS_HANDSHAKE,
	TLS_EPOCH_APPLICATION = SYNACK_TLS_KEYS_APPLICATION,
};
enum tls_dir { TLS_READ = 0, TLS_WRITE = 1 };

/* A cipher suite and what it implies (RFC 8446 §B.4). */
struct tls_suite {
	uint16_t id;	  /* SYNACK_TLS_* codepoint */
	int aead;	  /* enum crypto_aead_alg */
	int hash;	  /* enum crypto_hash_alg */
	const char *name; /* "TLS_AES_128_GCM_SHA256" */
};
const struct tls_suite *tls_suite_find(uint16_t id);

struct tls_hs;	 /* handshake state: hs.h, owned by client.c/server.c */
struct tls_core; /* record-layer buffers, transcript, trace, key log: conn.c, record.c */

/* ---- the configuration (config.c); immutable while connections use it ---- */
#define TLS_MAX_LIST 16
struct synack_tls_config {
	int role; /* enum synack_tls_role */
	const struct crypto_ops *crypto;
	synack_rng rng;
	synack_tls_clock clock;
	uint16_t suites[TLS_MAX_LIST], nsuites;
	uint16_t groups[TLS_MAX_LIST], ngroups;
	uint16_t sigschemes[TLS_MAX_LIST], nsigschemes;
	uint16_t version_min, version_max;
	/* our certificate chain (DER, leaf first) and key; n == 0: none */
	uint8_t **chain;
	size_t *chain_lens;
	size_t chain_n;
	struct crypto_pkey *key;
	struct crypto_store *store; /* trust anchors; NULL: none loaded */
	bool verify;		    /* false only by synack_tls_config_INSECURE_no_verify */
	bool request_client_cert, require_client_cert;
	/* ALPN, as the wire's ProtocolNameList body (each entry length-prefixed) */
	uint8_t alpn[256];
	size_t alpn_len;
	bool keylog;
	size_t max_record; /* plaintext bytes per record we send */
	/* server tickets (RFC 8446 §4.6.1): keys rotate; the previous one
	 * stays valid. Mutable state behind a const config: the ticket key
	 * is derived from a root secret and the epoch number, so no config
	 * field changes after set-up. */
	unsigned ticket_count, ticket_lifetime_s, ticket_rotate_s;
	uint8_t ticket_root[32];
	char error[160]; /* synack_tls_config_error */
};

/* ---- one connection (conn.c) ---- */
struct tls_keys { /* one direction */
	struct crypto_aead *aead;
	uint8_t iv[CRYPTO_AEAD_NONCE];
	uint8_t secret[CRYPTO_HASH_MAX]; /* kept for KeyUpdate (§7.2) */
	const struct tls_suite *suite;
	uint64_t seq;
	int epoch; /* enum tls_epoch */
};
struct synack_tls {
	const struct synack_tls_config *cfg;
	const struct crypto_ops *crypto;
	int role;
	int err;	   /* sticky: 0 or the first error */
	char detail[160];  /* synack_tls_error_detail */
	struct tls_hs *hs; /* handshake state, NULL once done */
	bool started;	   /* tls_hs_start ran */
	bool hs_done;	   /* both Finished exchanged */
	bool peer_closed;  /* close_notify received */
	bool closed;	   /* close_notify sent */
	struct tls_keys rd, wr;
	uint8_t client_random[32]; /* key log */
	char server_name[256];	   /* client: SNI and the name to verify */
	synack_tls_info info;	   /* negotiated parameters, counters */
	uint32_t events;
	size_t send_limit; /* plaintext bytes per record we send (record_size_limit) */
	/* session ticket (client) and the resumption secret */
	uint8_t *session;
	size_t session_len;
	uint8_t resumption_secret[CRYPTO_HASH_MAX];
	/* the remaining fields are the core's own (record.c, conn.c) */
	struct tls_core *core;
};

/* ---- called by the core, implemented by the handshake layer ---- */
/* Allocate t->hs and, on a client, build and queue the ClientHello.
 * Returns 0 or fails the connection (tls_fail) and returns its error. */
int tls_hs_start(struct synack_tls *t);
/* One complete handshake message, raw (4-byte header included, so the
 * handshake layer adds it to the transcript itself, at the point the RFC
 * says). epoch: the keys the record that carried it was protected with.
 * Also called after the handshake for post-handshake messages
 * (NewSessionTicket, KeyUpdate, CertificateRequest is refused). Returns 0
 * or the error it failed the connection with. */
int tls_hs_input(struct synack_tls *t, const uint8_t *msg, size_t len, int epoch);
/* A ChangeCipherSpec record arrived (RFC 8446 §5: allowed only between
 * the first ClientHello and the peer's Finished; payload already checked
 * to be the single byte 0x01). Returns 0 or an error. */
int tls_hs_ccs(struct synack_tls *t);
/* Free t->hs (handshake over, or the connection is freed). */
void tls_hs_free(struct synack_tls *t);

/* ---- called by the handshake layer, implemented by the core ---- */
/* The first fatal error: record it (sticky), queue the alert record under
 * the current write keys, set SYNACK_TLS_EV_ERROR. detail: a one-line
 * printf-style explanation. Returns SYNACK_TLS_ERR_SENT(alert). Calling
 * it again after a failure changes nothing and returns the first error. */
int tls_fail(struct synack_tls *t, int alert, const char *detail_fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Queue one handshake message (header included) in the current write
 * epoch, split into records as needed. Returns 0 or fails (-ENOMEM, an
 * output cap). The caller adds it to the transcript itself. */
int tls_send_handshake(struct synack_tls *t, const uint8_t *msg, size_t len);
/* Queue the middlebox-compatibility ChangeCipherSpec (RFC 8446 §D.4). */
int tls_send_ccs(struct synack_tls *t);
/* Install traffic keys for one direction from a traffic secret (RFC 8446
 * §7.3): key and iv via HKDF-Expand-Label, sequence number 0, the secret
 * kept for KeyUpdate. */
int tls_set_keys(struct synack_tls *t, int dir, int epoch, const struct tls_suite *s, const uint8_t *secret);

/* The transcript hash (RFC 8446 §4.4.1). Selected once the suite is known;
 * before that, messages are buffered raw and hashed on selection. */
int tls_transcript_add(struct synack_tls *t, const uint8_t *msg, size_t len);
int tls_transcript_select(struct synack_tls *t, int hash_alg);
/* The hash of the messages so far, into out (hash length bytes). */
int tls_transcript_hash(struct synack_tls *t, uint8_t *out);
/* HelloRetryRequest (§4.4.1): replace ClientHello1 by message_hash. */
int tls_transcript_hrr(struct synack_tls *t);

/* The key schedule (RFC 8446 §7.1), pure functions of the crypto table. */
int tls_hkdf_expand_label(const struct crypto_ops *c, int hash, const uint8_t *secret, const char *label,
			  const uint8_t *context, size_t clen, uint8_t *out, size_t olen);
int tls_derive_secret(const struct crypto_ops *c, int hash, const uint8_t *secret, const char *label,
		      const uint8_t *transcript_hash, uint8_t *out);
/* HMAC over the transcript hash with finished_key (§4.4.4). */
int tls_finished_mac(const struct crypto_ops *c, int hash, const uint8_t *base_key,
		     const uint8_t *transcript_hash, uint8_t *out);

/* Events, trace and key log. */
void tls_event(struct synack_tls *t, uint32_t ev);
/* A trace entry (no-op unless tracing is on). */
void tls_trace(struct synack_tls *t, bool sent, uint8_t content, uint8_t msg_type, int epoch, uint32_t len,
	       const char *fmt, ...) __attribute__((format(printf, 7, 8)));
/* "LABEL <client_random hex> <secret hex>\n" if the key log is on. */
void tls_keylog(struct synack_tls *t, const char *label, const uint8_t client_random[32],
		const uint8_t *secret, size_t len);

#endif
