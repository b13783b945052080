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
 * directly; nothing in the core parses a handshake message body.
 *
 * Changes since the first version (core engineer): only additions:
 * the key-schedule API (struct tls_schedule, tls_ks_*, labels, binder,
 * resumption PSK, traffic update), KeyUpdate as core functions
 * (tls_key_update_send/recv), tls_alloc/tls_dealloc, session storage
 * (tls_session_store, t->session_new), the completion/lifetime rules,
 * the core's private state (struct tls_core) and a test-only constructor,
 * all after the original declarations; later the TLS 1.2 record rules
 * (tls_record_set_version, tls12_set_keys, tls_keys.aead_alg, the
 * record12.c entries; the 1.3 paths unchanged). No seam declaration was changed or
 * removed. One addition changed after it was first published: the
 * signature of tls_transcript_hash_with gained hash_alg (before anyone
 * called it), and tls_set_keys does not write key-log lines (the
 * handshake layer does). */
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
	/* TLS 1.2 session IDs (sid_cache.c): NULL unless asked for; changed by
	 * connections, so such a configuration serves one thread */
	struct tls12_sid_cache *sid_cache;
	char error[160]; /* synack_tls_config_error */
};

/* ---- one connection (conn.c) ---- */
struct tls_keys { /* one direction */
	struct crypto_aead *aead;
	uint8_t iv[CRYPTO_AEAD_NONCE];
	uint8_t secret[CRYPTO_HASH_MAX]; /* kept for KeyUpdate (§7.2) */
	const struct tls_suite *suite;
	uint64_t seq;
	int epoch;    /* enum tls_epoch */
	int aead_alg; /* TLS 1.2 keys (tls12_set_keys): enum crypto_aead_alg; 0 otherwise */
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
	uint8_t *session; /* core-owned: see tls_session_store */
	size_t session_len;
	bool session_new; /* stored by tls_session_store on this connection */
	uint8_t resumption_secret[CRYPTO_HASH_MAX];
	/* Server refusing 0-RTT (RFC 8446 §4.2.10): set by the handshake
	 * layer to its budget of early-data bytes to skip. While it lasts the
	 * core drops application-data records that arrive before any read keys
	 * or fail to open under the handshake read keys, subtracting each
	 * record's length (ciphertext bytes: an overestimate of the plaintext
	 * budget); the first record that opens ends it (set to 0). */
	uint32_t skip_early;
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
 * to be the single byte 0x01). Returns 0 or an error.
 * Under TLS 1.2 record rules (tls_record_set_version) the core forwards the
 * CCS the same way and does nothing else: it never switches keys by itself.
 * The handshake layer accepts it only where its state machine expects it
 * (RFC 5246 §7.1, §7.4.9) and installs the pending read keys right here
 * with tls12_set_keys(t, TLS_READ, ...); the next record is then opened
 * under them. The core has already refused a CCS that arrives under read
 * keys, inside a fragmented handshake message, or after hs_done. */
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
/* Which record rules apply (RFC 8446 §5 or RFC 5246 §6.2), set by the
 * handshake layer once the version is negotiated: 0 or
 * SYNACK_TLS_VERSION_13 (the default) for TLS 1.3 records,
 * SYNACK_TLS_VERSION_12 for TLS 1.2 records (outer type = real type, no
 * TLSInnerPlaintext, explicit nonce for AES-GCM, CCS forwarded to
 * tls_hs_ccs, no KeyUpdate, application data only once hs_done).
 * Returns 0, -EINVAL for another value, -EBUSY when it would change the
 * rules while a direction already has keys (a client with 0-RTT write keys
 * that meets a TLS 1.2 server must abort instead). */
int tls_record_set_version(struct synack_tls *t, uint16_t version);
/* Install TLS 1.2 keys for one direction (RFC 5246 §6.1, §6.3, §7.1): the
 * write key and write IV of the key block (tls12_key_block), aead an enum
 * crypto_aead_alg, iv tls12_fixed_iv_len(aead) bytes (4: the GCM salt, 12:
 * ChaCha20-Poly1305). Sequence number 0, epoch TLS_EPOCH_APPLICATION (TLS
 * 1.2 has one protected epoch; Finished is its first record). Call it for
 * TLS_WRITE right after tls_send_ccs, for TLS_READ inside tls_hs_ccs.
 * Needs TLS 1.2 record rules; refuses read keys while a handshake message
 * is partly received. Returns 0 or fails the connection. Traced. */
int tls12_set_keys(struct synack_tls *t, int dir, int aead, const uint8_t *key, const uint8_t *iv);

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

/* ---- the key schedule's running secret (RFC 8446 §7.1), keysched.c ----
 *
 *              0 (or PSK) -> HKDF-Extract = Early Secret      tls_ks_early
 *   Derive-Secret(., "derived", "") + (EC)DHE -> Handshake    tls_ks_handshake
 *   Derive-Secret(., "derived", "") + 0       -> Master       tls_ks_master
 *
 * At each stage, tls_ks_derive(ks, TLS_LABEL_..., transcript_hash, out)
 * gives Derive-Secret(current secret, label, messages) where the caller
 * passes Transcript-Hash(messages) (tls_transcript_hash), or NULL for the
 * empty transcript (the hash of ""; used by the binder keys). out gets
 * tls_ks_len(ks) bytes. Typical use (server or client alike):
 *
 *   struct tls_schedule ks;
 *   tls_ks_early(&ks, t->crypto, suite->hash, psk, psk_len);   psk NULL: zeros
 *   tls_ks_binder_key(&ks, false, binder_key);                 "res binder"
 *   tls_ks_handshake(&ks, ecdhe, ecdhe_len);                    ecdhe NULL: zeros (psk_ke)
 *   tls_transcript_hash(t, th);                                 ClientHello..ServerHello
 *   tls_ks_derive(&ks, TLS_LABEL_C_HS_TRAFFIC, th, c_hs);
 *   tls_ks_derive(&ks, TLS_LABEL_S_HS_TRAFFIC, th, s_hs);
 *   tls_set_keys(t, TLS_READ or TLS_WRITE, TLS_EPOCH_HANDSHAKE, suite, s_hs / c_hs);
 *   tls_finished_mac(t->crypto, suite->hash, s_hs, th_before_finished, verify_data);
 *   tls_ks_master(&ks);
 *   tls_ks_derive(&ks, TLS_LABEL_C_AP_TRAFFIC, th_server_finished, c_ap);  ... "s ap traffic", "exp master"
 *   tls_ks_derive(&ks, TLS_LABEL_RES_MASTER, th_client_finished, t->resumption_secret);
 *   tls_ks_clear(&ks);
 *
 * Every function returns 0 or a negative errno (-EINVAL unknown hash,
 * crypto failure). Secrets are wiped by tls_ks_clear / tls_wipe. */
#define TLS_LABEL_EXT_BINDER   "ext binder"
#define TLS_LABEL_RES_BINDER   "res binder"
#define TLS_LABEL_C_E_TRAFFIC  "c e traffic"
#define TLS_LABEL_E_EXP_MASTER "e exp master"
#define TLS_LABEL_C_HS_TRAFFIC "c hs traffic"
#define TLS_LABEL_S_HS_TRAFFIC "s hs traffic"
#define TLS_LABEL_C_AP_TRAFFIC "c ap traffic"
#define TLS_LABEL_S_AP_TRAFFIC "s ap traffic"
#define TLS_LABEL_EXP_MASTER   "exp master"
#define TLS_LABEL_RES_MASTER   "res master"
struct tls_schedule {
	const struct crypto_ops *c;
	int hash;			 /* enum crypto_hash_alg */
	size_t hlen;			 /* its output length, 32 or 48 */
	uint8_t secret[CRYPTO_HASH_MAX]; /* the Early, Handshake or Master Secret */
};
/* Early Secret = HKDF-Extract(salt 0, PSK), or of hlen zeros when psk is NULL. */
int tls_ks_early(struct tls_schedule *ks, const struct crypto_ops *c, int hash, const uint8_t *psk,
		 size_t psk_len);
/* Handshake Secret = HKDF-Extract(Derive-Secret(Early, "derived", ""), (EC)DHE
 * shared secret, or hlen zeros when ecdhe is NULL). */
int tls_ks_handshake(struct tls_schedule *ks, const uint8_t *ecdhe, size_t ecdhe_len);
/* Master Secret = HKDF-Extract(Derive-Secret(Handshake, "derived", ""), zeros). */
int tls_ks_master(struct tls_schedule *ks);
/* Derive-Secret(current secret, label, messages); thash = Transcript-Hash(messages)
 * or NULL for the empty transcript. out: tls_ks_len bytes. */
int tls_ks_derive(const struct tls_schedule *ks, const char *label, const uint8_t *thash, uint8_t *out);
/* binder_key = Derive-Secret(Early, "ext binder" | "res binder", "") (§4.2.11.2, §7.1). */
int tls_ks_binder_key(const struct tls_schedule *ks, bool external, uint8_t *out);
static inline size_t tls_ks_len(const struct tls_schedule *ks)
{
	return ks->hlen;
}
void tls_ks_clear(struct tls_schedule *ks);
/* The PSK of a ticket (§4.6.1): HKDF-Expand-Label(resumption_master_secret,
 * "resumption", ticket_nonce, Hash.length). */
int tls_resumption_psk(const struct crypto_ops *c, int hash, const uint8_t *res_master, const uint8_t *nonce,
		       size_t nonce_len, uint8_t *out);
/* application_traffic_secret_N+1 = HKDF-Expand-Label(secret_N, "traffic upd", "", Hash.length) (§7.2). */
int tls_next_traffic_secret(const struct crypto_ops *c, int hash, const uint8_t *secret, uint8_t *out);
/* A PSK binder (§4.2.11.2): HMAC(finished_key(binder_key), Transcript-Hash(truncated
 * ClientHello)); the same computation as Finished. thash: hash of the messages
 * up to and including the truncated ClientHello (hash it with crypto->hash, or
 * tls_transcript_hash_with). out: hash length bytes. */
int tls_binder_mac(const struct crypto_ops *c, int hash, const uint8_t *binder_key, const uint8_t *thash,
		   uint8_t *out);
/* The transcript hash as if `extra` (len bytes) were appended, without
 * adding it: for the PSK binder over the truncated ClientHello (§4.2.11.2,
 * also after a HelloRetryRequest). Works before tls_transcript_select too
 * (hashes the raw buffer with hash_alg); after it, hash_alg must be the
 * selected one (else -EINVAL). */
int tls_transcript_hash_with(struct synack_tls *t, int hash_alg, const uint8_t *extra, size_t len,
			     uint8_t *out);
/* Hash output length of a crypto_hash_alg (32, 48; 0 unknown). */
size_t tls_hash_len(const struct crypto_ops *c, int hash);
/* Zero secrets in a way the compiler cannot drop. */
void tls_wipe(void *p, size_t n);

/* ---- post-handshake KeyUpdate (RFC 8446 §4.6.3): the core's, not the
 * handshake layer's. tls_hs_input forwards every post-handshake message of
 * type TLS_HS_KEY_UPDATE (24) to tls_key_update_recv and returns its
 * result; KeyUpdate messages are not added to any transcript. ---- */
/* Queue KeyUpdate(update_requested = request_peer) under the current write
 * keys, then switch the write keys to the next generation (§7.2). Also
 * used automatically before the AEAD limits (§5.5). -EAGAIN before the
 * handshake is done. */
int tls_key_update_send(struct synack_tls *t, bool request_peer);
/* A received KeyUpdate message (4-byte header included): a body other than
 * one byte fails with decode_error, a value other than 0 or 1 with
 * illegal_parameter, one before the handshake completed with
 * unexpected_message; switches the read keys; if update_requested (and we
 * have not sent close_notify), queues our own KeyUpdate(update_not_requested)
 * at once. The record carrying it must end with it (§5.1). */
int tls_key_update_recv(struct synack_tls *t, const uint8_t *msg, size_t len);

/* ---- memory and session storage (conn.c) ---- */
/* Counted allocations charged to the connection (synack_tls_memory): use
 * them for t->hs and anything else the handshake layer keeps. tls_alloc
 * returns zeroed memory or NULL. */
void *tls_alloc(struct synack_tls *t, size_t n);
void tls_dealloc(struct synack_tls *t, void *p, size_t n);
/* Sessions (client resumption). The blob format is the handshake layer's;
 * the core only stores bytes:
 *  - synack_tls_set_session copies the caller's blob into t->session /
 *    t->session_len (core-owned, at most TLS_MAX_SESSION bytes) before
 *    tls_hs_start runs; tls_hs_start (client) parses t->session if set and
 *    offers it, and must ignore (not fail on) a blob it cannot parse or
 *    whose server name differs from t->server_name.
 *  - when a NewSessionTicket arrives, the handshake layer builds its blob
 *    and calls tls_session_store (replaces t->session, marks it new,
 *    sets SYNACK_TLS_EV_TICKET); synack_tls_get_session returns only a
 *    blob stored that way. */
#define TLS_MAX_SESSION 8192
int tls_session_store(struct synack_tls *t, const uint8_t *blob, size_t len);

/* ---- completion and lifetime (agreed rules; the core relies on them) ----
 *  - The handshake layer sets t->hs_done = true when both Finished are
 *    done (client: after sending its Finished; server: after verifying
 *    the client's) and raises SYNACK_TLS_EV_HANDSHAKE_DONE with
 *    tls_event. From then on synack_tls_write works and the core refuses
 *    ChangeCipherSpec.
 *  - tls_hs_input is still called after hs_done for post-handshake
 *    messages (epoch TLS_EPOCH_APPLICATION), with t->hs possibly NULL if
 *    the handshake layer freed it; it must forward type 24 to
 *    tls_key_update_recv.
 *  - The core calls tls_hs_free(t) from synack_tls_free (t->hs may be
 *    NULL then). The handshake layer may call it itself when the handshake
 *    ends, to give its buffers back early (idle connections hold <= 8 KiB).
 *  - When tls_hs_input returns with t->hs_done set, the core frees the
 *    transcript (tls_transcript_free): compute everything that needs it
 *    (resumption master secret) inside that call.
 *  - synack_tls_set_session validates the blob with the handshake layer's
 *    tls_session_parse (hs.h; conn.c includes it for this one call).
 *  - Allocate through tls_alloc/tls_dealloc so synack_tls_memory counts it.
 *  - info.records_in/out, key_updates, trace_dropped are the core's;
 *    the other info fields are the handshake layer's to fill. */

/* ---- who traces and logs what ----
 *  - The handshake layer writes every key-log line (tls_keylog), as
 *    hs_common.c does; tls_set_keys logs nothing (KeyUpdate generations
 *    are not logged: NSS's format has only *_TRAFFIC_SECRET_0).
 *  - tls_set_keys traces the key change; the core traces alerts, CCS and
 *    KeyUpdate; the handshake layer traces every other handshake message
 *    it sends or receives (it has the text). */

/* tls_transcript_hrr: call it after tls_transcript_select, when the
 * transcript holds exactly ClientHello1 and before the HelloRetryRequest
 * is added; it replaces ClientHello1 by message_hash(Hash(ClientHello1)). */

/* ---- the core's own state (record.c, conn.c, keysched.c); the
 * handshake layer does not touch it. ---- */
#define TLS_TRACE_RING 64
#define TLS_KEYLOG_MAX 4096
struct tls_core {
	struct mem mem; /* everything the connection allocates, counted */
	/* input: one record at a time (§5.1, §5.2) */
	uint8_t hdr[5];
	size_t hdr_len;
	uint8_t *rec; /* TLS_MAX_CIPHERTEXT bytes while a record is in flight or held */
	size_t rec_need, rec_have;
	size_t app_off, app_len; /* decrypted application data waiting in rec */
	/* a handshake message split across records */
	uint8_t *hsbuf;
	size_t hs_len, hs_cap;
	int hs_epoch;
	size_t hs_total; /* handshake bytes received before completion */
	unsigned rd_gen; /* read-key changes, for §5.1's record-boundary rule */
	/* output */
	uint8_t *out;
	size_t out_off, out_len, out_cap;
	/* transcript (§4.4.1) */
	struct crypto_hash *tr;
	int tr_alg;
	uint8_t *tr_raw;
	size_t tr_raw_len, tr_raw_cap;
	/* AEAD limits (§5.5): KeyUpdate after this many records per key */
	uint64_t ku_limit;
	bool ku_asked; /* we asked the peer to update its read generation */
	/* trace ring and key log, allocated on first use, freed when drained */
	bool trace_on;
	synack_tls_trace_entry *trace;
	size_t trace_head, trace_n;
	char *klog;
	size_t klog_len;
	/* tests only (tls_test_conn): complete handshake messages are appended
	 * here instead of going to tls_hs_input (KeyUpdate still goes to
	 * tls_key_update_recv), CCS records are counted */
	struct bbuf *test_sink;
	unsigned test_ccs;
	/* record rules (tls_record_set_version): 0 or 0x0304 TLS 1.3, 0x0303 TLS 1.2 */
	uint16_t rec_version;
	unsigned empty12; /* consecutive empty TLS 1.2 records (record12.c) */
};
/* Whether TLS 1.2 record rules apply. */
static inline bool tls_rules12(const struct synack_tls *t)
{
	return t->core->rec_version == SYNACK_TLS_VERSION_12;
}
/* Whether trace entries are kept: arguments that cost work to compute
 * (a certificate's subject) are computed only then. */
static inline bool tls_tracing(const struct synack_tls *t)
{
	return t->core->trace_on;
}
/* Codepoints we implement (names.c). */
bool tls_sigscheme_known(uint16_t scheme);
bool tls_group_known(uint16_t group);
/* Drop the transcript (the core does it once the handshake is done). */
void tls_transcript_free(struct synack_tls *t);
/* Write one record of content type `type` (TLS_CT_*) under the current
 * write keys (CCS always in the clear). hard: may pass the soft output cap
 * that limits application writes (handshake, alerts). */
int tls_record_write(struct synack_tls *t, uint8_t type, const uint8_t *p, size_t n, bool hard);
/* Process fed bytes: how many were consumed (record.c). */
size_t tls_record_input(struct synack_tls *t, const uint8_t *p, size_t n);
/* Give back the record buffer and drained output when nothing is in flight. */
void tls_record_idle(struct synack_tls *t);
void tls_record_free(struct synack_tls *t);
/* Queue an alert record under the current write keys (§6). */
int tls_send_alert(struct synack_tls *t, int alert);
/* Application data in and out (record.c; conn.c checks the state first). */
ssize_t tls_app_write(struct synack_tls *t, const uint8_t *buf, size_t len);
ssize_t tls_app_read(struct synack_tls *t, uint8_t *buf, size_t cap);
/* The TLS 1.2 record paths (record12.c), used by record.c under TLS 1.2
 * rules. tls12_record_header: the type/length checks of a record header
 * (§6.2.1, §6.2.3), 0 or the error; tls12_record_overhead: bytes a sealed
 * record adds to its content (explicit nonce, tag); tls12_record_seal:
 * append one sealed record of `need` bytes (5 + n + overhead, room already
 * made) to the output; tls12_record_open: open the record in rec in place,
 * its plaintext moved to the start of rec, *len its length. */
int tls12_record_header(struct synack_tls *t, uint8_t type, size_t len);
size_t tls12_record_overhead(const struct synack_tls *t);
int tls12_record_seal(struct synack_tls *t, uint8_t type, const uint8_t *p, size_t n, size_t need);
int tls12_record_open(struct synack_tls *t, size_t *len);
/* Bytes waiting in the output. */
size_t tls_out_pending(const struct synack_tls *t);
#define TLS_OUT_SOFT_CAP (65536 + 5 + TLS_MAX_CIPHERTEXT)
#define TLS_OUT_HARD_CAP (TLS_MAX_HS_TOTAL + TLS_OUT_SOFT_CAP)
/* AES-GCM's limit is 2^24.5 full records (§5.5); we update at 2^24 for every suite. */
#define TLS_KU_LIMIT (1ull << 24)

/* ---- test-only entries (tests/unit; not used by the library) ---- */
/* A connection whose handshake is bypassed: started is set, so tls_hs_start
 * never runs; set keys with tls_set_keys, set t->hs_done as needed. */
struct synack_tls *tls_test_conn(const struct synack_tls_config *cfg);

#endif
