/* TLS 1.2 handshake message codecs (RFC 5246 §7.4, RFC 8422 §5, RFC 5077
 * §3.3, RFC 5746 §3, RFC 7627 §5.1, RFC 7507, RFC 8446 §4.1.3): building
 * and parsing the bodies of the messages TLS 1.2 adds to what the TLS 1.3
 * handshake already has, for ECDHE suites with AEAD ciphers only. No state,
 * no I/O, no allocation, no crypto: the handshake layer (or a test) signs,
 * verifies and derives through the crypto table and tls12.h itself.
 *
 * Conventions
 *
 *  - Message BODIES only: every build appends the body (what follows the
 *    4-byte msg_type + uint24 length header of RFC 5246 §7.4) to a byte
 *    builder, and every parse takes the body alone. The caller frames a
 *    message as the 1.3 code does: bbuf_u8(b, TLS_HS_...); m =
 *    bbuf_vec_open(b, 3); hs12_..._build(b, ...); bbuf_vec_close(b, m, 3);
 *    and parses with hs_body(msg, len) or (msg + 4, len - 4).
 *  - Extensions: hs12_ext_*_put appends a WHOLE extension (type, length,
 *    extension_data) to an extension block being built;
 *    hs12_ext_*_parse reads the extension_data alone (the caller found it
 *    with hs12_ext_find or walked the block itself).
 *  - Builders return 0, -EINVAL for a bad argument (nothing written), or
 *    -ENOSPC when the output does not fit (b is then overflowed, sticky,
 *    as every bbuf is; also when b was already overflowed on entry).
 *  - Parsers treat their input as hostile: every length is read through
 *    struct brd (no read past the end), nothing may follow the structure.
 *    They return 0, or -EBADMSG for a body that does not parse exactly (the
 *    caller sends decode_error); other errors are named per function.
 *    Output pointers point into the body (borrowed, valid while it is).
 *
 * What the 1.3 code already provides and this module does not repeat: the
 * ClientHello and ServerHello codecs are file-static in server.c and
 * client.c (and tied to 1.3: supported_versions required); the common
 * extensions (server_name, supported_groups, signature_algorithms, ALPN)
 * parse with tls_ext_parse (ext.c) in a ClientHello, which ignores the
 * 1.2-only ones handled here. Certificate (RFC 5246 §7.4.2: a plain
 * certificate_list<0..2^24-1> without 1.3's context and entry
 * extensions) and CertificateRequest/CertificateVerify are not here. */
#ifndef SYNACK_TLS_HS12_H
#define SYNACK_TLS_HS12_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/base.h"
#include "crypto/crypto.h"
#include "tls/tls12.h"

/* Codepoints TLS 1.2 adds. */
#define HS12_CURVE_NAMED	      3	     /* ECCurveType named_curve (RFC 8422 §5.4) */
#define HS12_CERT_TYPE_RSA_SIGN	      1	     /* ClientCertificateType (RFC 5246 §7.4.4) */
#define HS12_CERT_TYPE_ECDSA_SIGN     64     /* RFC 8422 §5.5 (also Ed25519 keys) */
#define HS12_POINT_UNCOMPRESSED	      0	     /* ECPointFormat uncompressed (RFC 8422 §5.1.2) */
#define HS12_EXT_EC_POINT_FORMATS     11     /* RFC 8422 §5.1.2 */
#define HS12_EXT_EXTENDED_MASTER      23     /* extended_master_secret, RFC 7627 §5.1 */
#define HS12_EXT_SESSION_TICKET	      35     /* SessionTicket, RFC 5077 §3.2 (not coded here) */
#define HS12_EXT_RENEGOTIATION_INFO   0xff01 /* RFC 5746 §3.2 */
#define HS12_SCSV_EMPTY_RENEGOTIATION 0x00ff /* TLS_EMPTY_RENEGOTIATION_INFO_SCSV, RFC 5746 §3.3 */
#define HS12_SCSV_FALLBACK	      0x5600 /* TLS_FALLBACK_SCSV, RFC 7507 §2 */
#define HS12_POINT_MAX		      97     /* longest ECPoint we accept: secp384r1 uncompressed */
#define HS12_PARAMS_MAX		      (4 + HS12_POINT_MAX)		       /* ServerECDHParams */
#define HS12_SIGNED_MAX		      (2 * TLS12_RANDOM_LEN + HS12_PARAMS_MAX) /* what SKE signs */
#define HS12_DOWNGRADE_LEN	      8					       /* RFC 8446 §4.1.3 */

/* The length of an ECPoint of group (RFC 8422 §5.4, §5.4.1; RFC 7748):
 * 32 for x25519, 65 for secp256r1, 97 for secp384r1 (uncompressed,
 * 0x04 || X || Y); 0 for a group we do not implement. */
size_t hs12_point_len(uint16_t group);

/* ---- ServerKeyExchange for ECDHE (RFC 8422 §5.4, RFC 5246 §7.4.3) ----
 *
 *   struct { ECCurveType curve_type (3); NamedCurve namedcurve;
 *            opaque point<1..2^8-1>; } ServerECDHParams;
 *   struct { ServerECDHParams params;
 *            SignatureAndHashAlgorithm algorithm (2 bytes: a SignatureScheme);
 *            opaque signature<0..2^16-1>; } ServerKeyExchange;
 *
 * The server: hs12_ecdh_params_build into a small buffer (HS12_PARAMS_MAX),
 * hs12_ske_signed_content into another (HS12_SIGNED_MAX), sign that with
 * c->sign(key, scheme, ...), then hs12_ske_build. The client:
 * hs12_ske_parse, hs12_ske_signed_content over the params received,
 * c->verify(peer_key, ske.scheme, ...). */
struct hs12_ske {
	uint16_t group;	      /* NamedCurve */
	const uint8_t *point; /* the server's ephemeral public key */
	size_t point_len;
	const uint8_t *params; /* ServerECDHParams as received: what is signed after the randoms */
	size_t params_len;
	uint16_t scheme; /* SignatureAndHashAlgorithm, as a SignatureScheme */
	const uint8_t *sig;
	size_t sig_len; /* may be 0 on the wire; verify then fails (decrypt_error) */
};
/* Append ServerECDHParams for group and point. -EINVAL when the group is not
 * one of hs12_point_len's or the point does not have its form. */
int hs12_ecdh_params_build(struct bbuf *b, uint16_t group, const uint8_t *point, size_t len);
/* Append what the server signs (RFC 8422 §5.4: "ClientHello.random +
 * ServerHello.random + ServerKeyExchange.params"). -EINVAL when params is
 * not exactly one valid ServerECDHParams. */
int hs12_ske_signed_content(struct bbuf *b, const uint8_t client_random[TLS12_RANDOM_LEN],
			    const uint8_t server_random[TLS12_RANDOM_LEN], const uint8_t *params,
			    size_t params_len);
/* Append the ServerKeyExchange body: params (as hs12_ecdh_params_build made
 * them, else -EINVAL), scheme, signature<0..2^16-1>. */
int hs12_ske_build(struct bbuf *b, const uint8_t *params, size_t params_len, uint16_t scheme,
		   const uint8_t *sig, size_t sig_len);
/* Parse a ServerKeyExchange body. -EBADMSG: truncated, trailing bytes,
 * curve_type other than named_curve, an ECPoint whose length or form does
 * not match its group (secp256r1/secp384r1: uncompressed only, so a
 * compressed 0x02/0x03 point is refused); -EOPNOTSUPP: well formed, but a
 * group we do not implement (never offered: illegal_parameter, RFC 8422
 * §5.4 "Actions of the receiver"). Which group, which scheme the client
 * offered and the signature itself are the caller's to check. */
int hs12_ske_parse(const uint8_t *body, size_t len, struct hs12_ske *out);

/* ---- ClientKeyExchange for ECDHE (RFC 8422 §5.7) ----
 *   struct { opaque point<1..2^8-1>; } ClientECDiffieHellmanPublic;
 * group: the one of the ServerKeyExchange. Errors as for the SKE's point:
 * build -EINVAL; parse -EBADMSG (length or form), -EOPNOTSUPP (group). */
int hs12_cke_build(struct bbuf *b, uint16_t group, const uint8_t *point, size_t len);
int hs12_cke_parse(const uint8_t *body, size_t len, uint16_t group, const uint8_t **point, size_t *point_len);

/* ---- ServerHelloDone (RFC 5246 §7.4.5: struct { }): an empty body ---- */
int hs12_server_hello_done_build(struct bbuf *b);
int hs12_server_hello_done_parse(const uint8_t *body, size_t len); /* any byte: -EBADMSG */

/* ---- Finished (RFC 5246 §7.4.9): verify_data[12] exactly ---- */
int hs12_finished_build(struct bbuf *b, const uint8_t verify_data[TLS12_VERIFY_LEN]);
/* -EBADMSG unless len is 12; *verify_data points into body. */
int hs12_finished_parse(const uint8_t *body, size_t len, const uint8_t **verify_data);
/* Parse and compare with expected (tls12_verify_data's output) in constant
 * time: 0, -EBADMSG (length: decode_error), -EACCES (differs: decrypt_error). */
int hs12_finished_verify(const uint8_t *body, size_t len, const uint8_t expected[TLS12_VERIFY_LEN]);

/* ---- NewSessionTicket (RFC 5077 §3.3) ----
 *   struct { uint32 ticket_lifetime_hint; opaque ticket<0..2^16-1>; }
 * A ticket of length 0 is legal: the server sent the SessionTicket
 * extension and then decided not to issue one (§3.3); parse reports it as
 * ticket_len == 0 (the client stores nothing). A lifetime of 0 means
 * unspecified. How long a ticket the client keeps is its own choice (the
 * session blob holds up to TLS_HS_MAX_TICKET). */
struct hs12_nst {
	uint32_t lifetime_hint; /* seconds */
	const uint8_t *ticket;
	size_t ticket_len;
};
int hs12_nst_build(struct bbuf *b, uint32_t lifetime_hint, const uint8_t *ticket, size_t len);
int hs12_nst_parse(const uint8_t *body, size_t len, struct hs12_nst *out);

/* ---- ServerHello.random downgrade sentinel (RFC 8446 §4.1.3) ---- */
enum hs12_downgrade {
	HS12_DOWNGRADE_NONE = 0,
	HS12_DOWNGRADE_TLS12 = 1, /* 44 4F 57 4E 47 52 44 01: a 1.3 server negotiated 1.2 */
	HS12_DOWNGRADE_TLS11 = 2, /* 44 4F 57 4E 47 52 44 00: 1.1 or below */
};
/* Overwrite the last 8 bytes of a freshly drawn ServerHello.random for the
 * version a 1.3-capable server negotiated: ...01 for 0x0303, ...00 below.
 * -EINVAL for 0x0304 and above (a 1.3 ServerHello carries no sentinel). */
int hs12_downgrade_set(uint8_t server_random[TLS12_RANDOM_LEN], uint16_t version);
/* Which sentinel a ServerHello.random ends with. A 1.3 client that got a
 * 1.2 (or lower) ServerHello aborts with illegal_parameter on either; a 1.2
 * client on HS12_DOWNGRADE_TLS11 when it got 1.1 or lower. */
int hs12_downgrade_detect(const uint8_t server_random[TLS12_RANDOM_LEN]);

/* ---- extensions of the 1.2 ClientHello/ServerHello ---- */
/* Find extension type in an extension block (the content of
 * extensions<0..2^16-1>): 0 and its extension_data, -ENOENT when absent,
 * -EBADMSG when the block is malformed, -EPROTO when type appears twice
 * (RFC 5246 §7.4.1.4: illegal_parameter, as ext.c does). */
int hs12_ext_find(const uint8_t *block, size_t len, uint16_t type, const uint8_t **data, size_t *dlen);
/* renegotiation_info on an initial handshake (RFC 5746 §3.2): put writes
 * ff 01 00 01 00 (empty renegotiated_connection); parse accepts exactly the
 * data 00: -EBADMSG when the data is not one RenegotiationInfo (empty,
 * length past the end, trailing bytes), -EPROTO when it is well formed but
 * not empty (§3.4, §3.6: handshake_failure). Renegotiation itself is not
 * supported, so a non-empty value is never right. */
int hs12_ext_reneg_put(struct bbuf *b);
int hs12_ext_reneg_parse(const uint8_t *data, size_t len);
/* extended_master_secret (RFC 7627 §5.1): 00 17 00 00; data must be empty. */
int hs12_ext_ems_put(struct bbuf *b);
int hs12_ext_ems_parse(const uint8_t *data, size_t len);
/* ec_point_formats (RFC 8422 §5.1.2, §5.2): put writes 00 0b 00 02 01 00
 * (uncompressed only); parse: -EBADMSG when not a non-empty
 * ECPointFormatList, -EPROTO when uncompressed (0) is not listed
 * (illegal_parameter). */
int hs12_ext_ecpf_put(struct bbuf *b);
int hs12_ext_ecpf_parse(const uint8_t *data, size_t len);

/* ---- cipher suites ---- */
/* Signalling values in a ClientHello's cipher_suites (the vector's content):
 * *flags gets HS12_SCSV_F_* for those present anywhere in the list.
 * -EBADMSG for an empty or odd-length list (RFC 5246 §7.4.1.2:
 * cipher_suites<2..2^16-2>). */
#define HS12_SCSV_F_RENEGOTIATION 1u /* TLS_EMPTY_RENEGOTIATION_INFO_SCSV: as an empty renegotiation_info */
#define HS12_SCSV_F_FALLBACK	  2u /* TLS_FALLBACK_SCSV */
int hs12_scsv_scan(const uint8_t *suites, size_t len, unsigned *flags);
/* RFC 7507 §3: a FALLBACK_SCSV from a client whose client_version is below
 * our highest supported version is inappropriate_fallback. */
bool hs12_fallback_inappropriate(unsigned flags, uint16_t client_version, uint16_t our_max);

/* The key type a suite's server certificate signs with (ECDHE_ECDSA also
 * covers EdDSA keys, RFC 8422 §5.1.3). */
enum hs12_auth { HS12_AUTH_ECDSA = 1, HS12_AUTH_RSA = 2 };
/* Our TLS 1.2 suites: ECDHE with an AEAD (RFC 5289, RFC 7905). */
struct hs12_suite {
	uint16_t id;
	const char *name; /* the IANA name */
	int auth;	  /* enum hs12_auth */
	int aead;	  /* enum crypto_aead_alg */
	int hash;	  /* enum crypto_hash_alg: the PRF hash (RFC 5246 §5) */
};
/* The six, in our default preference order (AES-128-GCM, AES-256-GCM,
 * ChaCha20-Poly1305; ECDSA before RSA at each step). */
extern const struct hs12_suite hs12_suites[6];
const struct hs12_suite *hs12_suite_find(uint16_t id); /* NULL if not ours */
/* The auth of a certificate key through the crypto table: ECDSA for P-256,
 * P-384 and Ed25519 keys, RSA for RSA keys, 0 otherwise. */
int hs12_auth_of_key(const struct crypto_ops *c, const struct crypto_pkey *key);
/* Server suite choice (RFC 5246 §7.4.1.3: the server picks one of the
 * client's): the first suite of prefs (our order; NULL: the table's order;
 * ids not ours are skipped) that the client offers in suites (the
 * cipher_suites vector content) and whose auth is auth. 0 and *out;
 * -ENOENT when none fits (handshake_failure), *why then tells why in one
 * line; -EBADMSG for a malformed list; -EINVAL for a bad auth. */
/* The 1.2 suites that stand for configured 1.3 suites (suites13, n): for
 * each, in order, those with the same AEAD, ECDSA then RSA (the 1.3 suite
 * list of synack_tls_config_set_suites chooses the AEADs of both
 * versions). Returns how many were written to out (at most cap). */
size_t hs12_suites_for(const uint16_t *suites13, size_t n, uint16_t *out, size_t cap);
int hs12_choose_suite(const uint8_t *suites, size_t len, int auth, const uint16_t *prefs, size_t nprefs,
		      const struct hs12_suite **out, const char **why);

#endif
