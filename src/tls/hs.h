/* The TLS 1.3 handshakes (client.c, server.c) and their codecs (ext.c,
 * hs_common.c, hs_ticket.c): what those files share. The core never
 * includes this header; it only knows struct tls_hs by name.
 *
 * Implementation notes
 *
 * One struct tls_hs holds the negotiation state of either role. It is
 * allocated by tls_hs_start and freed when the handshake completes (or with
 * the connection): the long-lived results (keys, info, session blob,
 * resumption secret) live in struct synack_tls. Every array is fixed-size:
 * a peer that sends longer lists has its surplus ignored (lists we only
 * intersect) or is refused (lists whose entries we must all see).
 *
 * Parsed extension blocks (struct tls_exts) point into the message being
 * processed; they live for one tls_hs_input call only. */
#ifndef SYNACK_TLS_HS_H
#define SYNACK_TLS_HS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tls/tls12.h"
#include "tls/tls_internal.h"

/* Extension codepoints (RFC 8446 §4.2, RFC 6066, RFC 7301, RFC 8449). */
enum tls_ext_type {
	TLS_EXT_SERVER_NAME = 0,
	TLS_EXT_MAX_FRAGMENT_LENGTH = 1,
	TLS_EXT_STATUS_REQUEST = 5,
	TLS_EXT_SUPPORTED_GROUPS = 10,
	TLS_EXT_SIGNATURE_ALGORITHMS = 13,
	TLS_EXT_USE_SRTP = 14,
	TLS_EXT_HEARTBEAT = 15,
	TLS_EXT_ALPN = 16,
	TLS_EXT_SCT = 18,
	TLS_EXT_CLIENT_CERT_TYPE = 19,
	TLS_EXT_SERVER_CERT_TYPE = 20,
	TLS_EXT_PADDING = 21,
	TLS_EXT_RECORD_SIZE_LIMIT = 28,
	TLS_EXT_PRE_SHARED_KEY = 41,
	TLS_EXT_EARLY_DATA = 42,
	TLS_EXT_SUPPORTED_VERSIONS = 43,
	TLS_EXT_COOKIE = 44,
	TLS_EXT_PSK_KEY_EXCHANGE_MODES = 45,
	TLS_EXT_CERTIFICATE_AUTHORITIES = 47,
	TLS_EXT_OID_FILTERS = 48,
	TLS_EXT_POST_HANDSHAKE_AUTH = 49,
	TLS_EXT_SIGNATURE_ALGORITHMS_CERT = 50,
	TLS_EXT_KEY_SHARE = 51,
};

/* The extensions we parse, as bit numbers of tls_exts.present. */
enum tls_x {
	X_SNI,
	X_GROUPS,
	X_SIGALGS,
	X_ALPN,
	X_RSL,
	X_PSK,
	X_EARLY,
	X_VERSIONS,
	X_COOKIE,
	X_PSK_MODES,
	X_SIGALGS_CERT,
	X_KEY_SHARE,
	X__COUNT
};
#define XBIT(x) (1u << (x))

/* The message an extension block belongs to (the columns of §4.2's table). */
enum tls_ext_ctx {
	TLS_CTX_CH,  /* ClientHello */
	TLS_CTX_SH,  /* ServerHello */
	TLS_CTX_HRR, /* HelloRetryRequest */
	TLS_CTX_EE,  /* EncryptedExtensions */
	TLS_CTX_CR,  /* CertificateRequest */
	TLS_CTX_CT,  /* a CertificateEntry */
	TLS_CTX_NST, /* NewSessionTicket */
};

#define TLS_HS_LIST	    64 /* entries kept from a peer's list of codepoints */
#define TLS_HS_SHARES	    8  /* key shares kept from a ClientHello */
#define TLS_HS_MAX_EXTS	    64 /* extensions in one block (more: decode_error) */
#define TLS_HS_MAX_CHAIN    8  /* certificates in a chain we accept */
#define TLS_HS_MAX_TICKET   4096
#define TLS_HS_PSK_MODE_DHE 1 /* psk_dhe_ke */

struct tls_share {
	uint16_t group;
	const uint8_t *key;
	size_t len;
};

/* One parsed extension block. Pointers into the message. */
struct tls_exts {
	uint32_t present; /* XBIT(X_*) */
	uint16_t versions[TLS_HS_LIST];
	size_t nversions;
	uint16_t version; /* SH/HRR: selected_version */
	uint16_t groups[TLS_HS_LIST];
	size_t ngroups;
	uint16_t sigalgs[TLS_HS_LIST];
	size_t nsigalgs;
	struct tls_share shares[TLS_HS_SHARES];
	size_t nshares;
	uint16_t hrr_group; /* HRR: selected_group */
	const uint8_t *sni; /* host_name, not NUL-terminated; EE: empty ack */
	size_t sni_len;
	const uint8_t *alpn; /* ProtocolNameList body */
	size_t alpn_len;
	uint16_t rsl;	       /* record_size_limit */
	uint8_t psk_modes;     /* bit 0 psk_ke, bit 1 psk_dhe_ke */
	const uint8_t *psk_id; /* CH: the first identity and its binder */
	size_t psk_id_len;
	uint32_t psk_age;
	const uint8_t *binder;
	size_t binder_len;
	size_t binders_len;    /* CH: the binders vector with its prefix (§4.2.11.2) */
	uint16_t psk_selected; /* SH */
	const uint8_t *cookie;
	size_t cookie_len;
};

/* Parse the extension block r (the vector's content) for ctx into x.
 * offered: for responses (SH, HRR, EE, CT), XBIT mask of what we sent;
 * an extension we did not send is unsupported_extension (§4.2). Returns 0
 * or an alert (>0), with a reason in why. */
int tls_ext_parse(struct brd *r, int ctx, uint32_t offered, struct tls_exts *x, const char **why);
/* Whether list holds v. */
bool tls_list_has(const uint16_t *list, size_t n, uint16_t v);
/* "x25519,secp256r1" into buf (cap bytes), for traces. */
const char *tls_list_names(const uint16_t *list, size_t n, const char *(*name)(uint16_t), char *buf,
			   size_t cap);

/* A ProtocolNameList body as "h2,http/1.1" into buf, for traces. */
const char *tls_alpn_names(const uint8_t *wire, size_t len, char *buf, size_t cap);

/* A session blob (client): the format of synack_tls_get_session.
 *   u8 version (1) | u16 suite | u64 issued_ms | u32 lifetime_s |
 *   u32 age_add | u8 psk<0..48> | u8 name<0..255> | u8 alpn<0..255> |
 *   u16 ticket<1..4096>
 * name: the server name of the connection (synack_tls_new), also an IP
 * literal; alpn: the protocol negotiated. Pointers into the blob. */
#define TLS_SESSION_VERSION                                                                                  \
	2 /* 2: flags (bit 0: server verified, bit 1: sid_only) and subject after age_add */
struct tls_session {
	uint16_t suite;
	int64_t issued_ms;
	uint32_t lifetime_s, age_add;
	const uint8_t *psk, *sni, *alpn, *ticket;
	size_t psk_len, sni_len, alpn_len, ticket_len;
	/* the full handshake's server authentication, carried over to the
	 * resumed ones (§2.2: the PSK stands for that handshake) */
	bool verified;
	const uint8_t *subject;
	size_t subject_len;
	/* TLS 1.2: "ticket" is the server's session ID, to offer as ours
	 * (resumption by session ID, RFC 5246 §7.4.1.2), not a ticket */
	bool sid_only;
};
/* Parse a blob (-EINVAL when malformed). conn.c's synack_tls_set_session
 * calls it and compares s.sni with the server name; tls_hs_start checks
 * again (and the age and suite) and simply offers no PSK when unfit. */
int tls_session_parse(const uint8_t *blob, size_t len, struct tls_session *s);
/* Serialize s into b (bbuf_ok false when it does not fit). */
void tls_session_build(const struct tls_session *s, struct bbuf *b);

/* 0-RTT refusal (RFC 8446 §4.2.10): a server that refuses early data
 * skips the client's 0-RTT records, which fail to deprotect under the
 * handshake keys, up to a budget: server.c sets t->skip_early to this
 * when the ClientHello carries early_data (our tickets allow none, so the
 * budget is ours to choose: four full records). */
#define TLS_EARLY_SKIP_MAX (4 * (16384 + 256))

/* The state of one handshake, either role. */
struct tls_hs {
	int state; /* enum tls_client_state / tls_server_state */
	const struct tls_suite *suite;
	size_t hlen; /* hash length of the suite */
	uint16_t group;
	struct crypto_kex *kex;
	struct tls_schedule ks;				      /* the key schedule's running secret (§7.1) */
	uint8_t c_hs[CRYPTO_HASH_MAX], s_hs[CRYPTO_HASH_MAX]; /* handshake traffic */
	uint8_t c_ap[CRYPTO_HASH_MAX], s_ap[CRYPTO_HASH_MAX]; /* application traffic */
	uint8_t session_id[32];
	size_t session_id_len;
	bool hrr;	 /* a HelloRetryRequest happened */
	bool ccs_in;	 /* the peer's middlebox CCS arrived */
	bool ccs_out;	 /* ours went out */
	uint8_t *cookie; /* HRR cookie (client: echo; server: what we sent) */
	size_t cookie_len;
	/* PSK (§4.2.11) */
	bool psk_offered, psk_ok;
	uint8_t psk[CRYPTO_HASH_MAX];
	size_t psk_len;
	const struct tls_suite *psk_suite;
	uint32_t psk_age; /* obfuscated age sent */
	/* certificates */
	struct crypto_pkey *peer_key;
	bool cert_req;	     /* client: a CertificateRequest came; server: we sent one */
	bool peer_cert;	     /* the peer sent a non-empty Certificate */
	uint8_t cr_ctx[255]; /* certificate_request_context */
	size_t cr_ctx_len;
	uint16_t peer_sigalgs[TLS_HS_LIST]; /* CR or CH signature_algorithms */
	size_t npeer_sigalgs;
	uint32_t offered;   /* client: XBIT of the extensions in our ClientHello */
	uint16_t sigscheme; /* ours, for CertificateVerify */
	bool early_data;    /* client offered 0-RTT (we refuse) */
	/* TLS 1.2 server (server12.c): set once the ClientHello chose 1.2 */
	bool v12;
	const struct hs12_suite *suite12;
	bool ecpf;	       /* the client sent ec_point_formats */
	const uint8_t *alpn12; /* server: our ALPN choice (into the config), length-prefixed */
	uint8_t client_random[TLS12_RANDOM_LEN], server_random[TLS12_RANDOM_LEN];
	uint8_t master12[TLS12_MASTER_LEN];
	struct tls12_key_block kb12;
	/* TLS 1.2 client (client12.c): the server's ECDHE point until our ClientKeyExchange */
	uint8_t peer_point12[1 + 2 * 48]; /* HS12_POINT_MAX */
	size_t peer_point12_len;
	bool offer12; /* client: our ClientHello offers TLS 1.2 */
	/* TLS 1.2 client certificates: the raw handshake messages (hs_raw12_add) */
	bool keep_raw12;
	uint8_t *raw12;
	size_t raw12_len, raw12_cap;
	/* TLS 1.2 session tickets (RFC 5077) */
	bool ticket12;		 /* server: we send a NewSessionTicket; client: the server said it will */
	bool rsl12;		 /* server: the client sent record_size_limit (RFC 8449): we echo ours */
	bool resume12;		 /* server: resuming; client: our ClientHello offers a 1.2 ticket */
	uint16_t suite12_resume; /* client: the offered session's suite */
	uint8_t sid12[32];	 /* client: the session ID of the server's full-handshake ServerHello */
	size_t sid12_len;
};

/* ---- hs_common.c: key schedule over the seam, shared messages ---- */
int hs_alloc(struct synack_tls *t);
/* Add a message to the transcript, fail (internal_error) on error. */
int hs_transcript(struct synack_tls *t, const uint8_t *msg, size_t len);
/* Append msg to hs->raw12 (TLS 1.2 CertificateVerify input), within
 * TLS_MAX_HS_TOTAL. hs_transcript does it while hs->keep_raw12. */
int hs_raw12_add(struct synack_tls *t, const uint8_t *msg, size_t len);
/* Queue msg and add it to the transcript. */
int hs_send(struct synack_tls *t, const uint8_t *msg, size_t len);
/* Draw n random bytes. */
void hs_random(struct synack_tls *t, void *buf, size_t n);
/* A fresh key pair for group into hs->kex; pub gets the share. */
int hs_kex_new(struct synack_tls *t, uint16_t group, uint8_t *pub, size_t cap, size_t *len);
/* Key schedule (§7.1) over the core's tls_ks_*: handshake secret from the
 * (EC)DHE shared secret with peer_share (hs->ks holds the early secret),
 * handshake traffic secrets from the transcript through ServerHello into
 * hs->c_hs/s_hs, key log written. Keys not installed. */
int hs_ks_handshake(struct synack_tls *t, const uint8_t *peer_share, size_t len);
/* Master secret, application traffic secrets (transcript through server
 * Finished) into hs->c_ap/s_ap, exporter secret to the key log. */
int hs_ks_master(struct synack_tls *t);
/* Resumption master secret (transcript through client Finished). */
int hs_ks_resumption(struct synack_tls *t);
/* A binder (§4.2.11.2) for psk over thash (the transcript hash through the
 * truncated ClientHello). */
int hs_binder(struct synack_tls *t, int hash, const uint8_t *psk, size_t psk_len, const uint8_t *thash,
	      uint8_t *out);
/* Apply the peer's record_size_limit (RFC 8449) to t->send_limit. */
int hs_apply_rsl(struct synack_tls *t, const struct tls_exts *x);
/* The handshake is complete: app keys in both directions (already), event. */
void hs_done(struct synack_tls *t);

/* Certificate (§4.4.2), CertificateVerify (§4.4.3), Finished (§4.4.4). */
int hs_send_certificate(struct synack_tls *t, const uint8_t *ctx, size_t ctx_len, bool empty);
/* TLS 1.2's Certificate: the bare certificate_list (RFC 5246 §7.4.2);
 * empty: none (a client without a certificate, §7.4.6). */
int hs_send_certificate12(struct synack_tls *t, bool empty);
int hs_recv_certificate(struct synack_tls *t, const uint8_t *msg, size_t len, int epoch);
/* TLS 1.2's Certificate (RFC 5246 §7.4.2): the same checks and results. */
int hs_recv_certificate12(struct synack_tls *t, const uint8_t *msg, size_t len, int epoch);
int hs_send_cert_verify(struct synack_tls *t);
int hs_recv_cert_verify(struct synack_tls *t, const uint8_t *msg, size_t len, int epoch);
int hs_send_finished(struct synack_tls *t, const uint8_t *base_key);
int hs_recv_finished(struct synack_tls *t, const uint8_t *msg, size_t len, int epoch,
		     const uint8_t *base_key);
/* Our signature scheme for peer's list (intersected with our config and
 * what our key can do); 0 if none. */
uint16_t hs_pick_sigscheme(struct synack_tls *t, const uint16_t *peer, size_t n);
/* The body of a message (after the 4-byte header) as a reader. */
struct brd hs_body(const uint8_t *msg, size_t len);
/* A trace line for a message we sent or received. */
#define HS_TRACE_OUT(t, msg, len, ...)                                                                       \
	tls_trace((t), true, TLS_CT_HANDSHAKE, (msg)[0], (t)->wr.epoch, (uint32_t)(len), __VA_ARGS__)
#define HS_TRACE_IN(t, msg, len, epoch, ...)                                                                 \
	tls_trace((t), false, TLS_CT_HANDSHAKE, (msg)[0], (epoch), (uint32_t)(len), __VA_ARGS__)
/* Parse failure of a message body. */
int hs_decode_error(struct synack_tls *t, const char *what);
int hs_unexpected(struct synack_tls *t, const uint8_t *msg, const char *state);
/* The one message a state accepts: type under the want_epoch keys; else
 * unexpected_message naming the state. 0 when it is that one. */
int hs_expect(struct synack_tls *t, const uint8_t *msg, int epoch, uint8_t type, int want_epoch,
	      const char *state);

/* ---- hs_ticket.c: server tickets (sealed state), client session blobs ---- */
int hs_server_send_tickets(struct synack_tls *t);
/* Seal the session state (t->info.suite, sni, alpn, now, the configured
 * lifetime; psk: the resumption secret, or TLS 1.2's master secret) into
 * a ticket of at most HS_TICKET_MAX bytes. Returns its length, 0 on
 * failure. */
#define HS_TICKET_MAX 640
size_t hs_ticket_seal(struct synack_tls *t, const uint8_t *psk, size_t plen, uint8_t *out, size_t cap);
/* Server: open a ticket; 0 and the PSK/suite/sni/alpn into s (s->psk
 * points into scratch) or -1 when it is not ours or expired. */
int hs_ticket_open(struct synack_tls *t, const uint8_t *ticket, size_t len, uint8_t *scratch, size_t cap,
		   struct tls_session *s);
/* Client: a NewSessionTicket after the handshake (§4.6.1). */
int hs_client_ticket(struct synack_tls *t, const uint8_t *msg, size_t len, int epoch);

/* ---- client.c / server.c ---- */
int tls_client_start(struct synack_tls *t);
int tls_client_input(struct synack_tls *t, const uint8_t *msg, size_t len, int epoch);
int tls_client_ccs(struct synack_tls *t);
int tls_server_start(struct synack_tls *t);
int tls_server_input(struct synack_tls *t, const uint8_t *msg, size_t len, int epoch);
int tls_server_ccs(struct synack_tls *t);
/* RFC 6066 §3: the ClientHello's server_name into t->info.sni
 * (illegal_parameter when too long or with a NUL); also for server12.c. */
int tls_server_record_sni(struct synack_tls *t, const struct tls_exts *x);
/* RFC 7301 §3.2: our first protocol the client offers into *alpn
 * (length-prefixed; NULL: no ALPN) and t->info.alpn;
 * no_application_protocol when none is common. */
int tls_server_choose_alpn(struct synack_tls *t, const struct tls_exts *x, const uint8_t **alpn);

/* ---- server12.c: the TLS 1.2 server full handshake (RFC 5246 §7.3,
 * RFC 8422 ECDHE, RFC 7627 EMS required). server.c hands over the first
 * ClientHello when tls12_server_wants says so (the configuration allows
 * 1.2 and the client does not offer 1.3, or our max is 1.2), then every
 * message and ChangeCipherSpec while hs->v12. ---- */
bool tls12_server_wants(struct synack_tls *t, const uint8_t *msg, size_t len);
/* sid_cache.c: the session-ID cache of a server configuration (off unless
 * synack_tls_config_set_session_cache). enabled: a cache, a lifetime and a
 * server name short enough to keep. put: the session of t (hs->master12,
 * suite12, info.sni) under id; get: true and the session's suite and
 * master secret when id names a live session for this server name. */
void tls12_sid_cache_free(synack_tls_config *c);
bool tls12_sid_enabled(const struct synack_tls *t);
void tls12_sid_put(struct synack_tls *t, const uint8_t *id, size_t len);
bool tls12_sid_get(struct synack_tls *t, const uint8_t *id, size_t len, uint16_t *suite,
		   uint8_t master[TLS12_MASTER_LEN]);
int tls12_server_input(struct synack_tls *t, const uint8_t *msg, size_t len, int epoch);
int tls12_server_ccs(struct synack_tls *t);

/* ---- hs12_common.c: what both TLS 1.2 handshakes share ---- */
/* Queue the message built in b (internal_error naming `what` when it
 * overflowed) and add it to the transcript. */
int hs12_send_msg(struct synack_tls *t, struct bbuf *b, const char *what);
/* Our ChangeCipherSpec, our write keys from hs->kb12, our Finished over
 * the transcript so far (RFC 5246 §7.1, §7.4.9). */
int hs12_send_finished(struct synack_tls *t);
/* The peer's Finished: checked against the transcript so far in constant
 * time (decode_error, decrypt_error), then added to it. */
int hs12_recv_finished(struct synack_tls *t, const uint8_t *msg, size_t len, int epoch);

/* ---- client12.c: the TLS 1.2 client full handshake. client.c offers 1.2
 * when the configuration allows it (version_min 0x0303) and hands over a
 * ServerHello without supported_versions (tls12_client_sh_is_12), then
 * every message and ChangeCipherSpec while hs->v12. ---- */
bool tls12_client_sh_is_12(const uint8_t *msg, size_t len);
int tls12_client_server_hello(struct synack_tls *t, const uint8_t *msg, size_t len, int epoch);
int tls12_client_input(struct synack_tls *t, const uint8_t *msg, size_t len, int epoch);
int tls12_client_ccs(struct synack_tls *t);
/* The signature schemes a ClientHello offering 1.2 lists (the configured
 * ones, then rsa_pkcs1_sha256/384); returns how many (at most cap). */
size_t tls12_client_sigschemes(const struct synack_tls_config *cfg, uint16_t *out, size_t cap);
/* RFC 5077: whether t->session is a TLS 1.2 session worth offering (same
 * server name, a suite we offer, not expired); if so hs->resume12, its
 * suite and master secret are set. */
bool tls12_client_session(struct synack_tls *t);
/* The SessionTicket extension of our ClientHello: the session's ticket
 * when hs->resume12, else empty (we take tickets). */
void tls12_client_ticket_ext(struct synack_tls *t, struct bbuf *b);

#endif
