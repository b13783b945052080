/* The crypto table: every cryptographic primitive and all X.509 work the TLS
 * engine uses, behind one const table of function pointers (DESIGN.md
 * principle 5: crypto is borrowed, protocol is ours). src/crypto/ is the
 * only folder that includes OpenSSL headers; crypto_openssl is the
 * implementation on OpenSSL 3's libcrypto. A test may wrap the table
 * (for example to return RFC 8448's fixed signature).
 *
 * Contract for every function: inputs are borrowed; outputs go to
 * caller-owned buffers whose capacity is given; return 0 on success or a
 * negative errno value (-EINVAL bad argument or unsupported algorithm,
 * -EBADMSG authentication/verification failure, -ENOMEM, -ENOSPC output
 * does not fit). No function keeps a pointer to its arguments.
 *
 * Randomness: the table never draws random numbers the engine depends on
 * for reproducibility. Key-exchange private keys are given by the caller
 * (the engine draws them from its own synack_rng), so RFC 8448's traces
 * reproduce byte for byte. Signatures (ECDSA, RSA-PSS) use libcrypto's
 * own generator internally; that is the one exception and tests that need
 * fixed signature bytes wrap sign(). */
#ifndef SYNACK_CRYPTO_H
#define SYNACK_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Hashes (also select HMAC and HKDF). */
enum crypto_hash_alg { CRYPTO_SHA256 = 1, CRYPTO_SHA384 = 2 };
#define CRYPTO_HASH_MAX 48

/* AEADs: 12-byte nonce, 16-byte tag. */
enum crypto_aead_alg { CRYPTO_AES_128_GCM = 1, CRYPTO_AES_256_GCM = 2, CRYPTO_CHACHA20_POLY1305 = 3 };
#define CRYPTO_AEAD_NONCE   12
#define CRYPTO_AEAD_TAG	    16
#define CRYPTO_AEAD_KEY_MAX 32

/* Key-exchange groups, by their TLS NamedGroup codepoint (RFC 8446 §4.2.7). */
enum crypto_group { CRYPTO_SECP256R1 = 0x0017, CRYPTO_SECP384R1 = 0x0018, CRYPTO_X25519 = 0x001d };
#define CRYPTO_KEX_PUB_MAX    133 /* uncompressed P-521 would be 133; P-384 is 97 */
#define CRYPTO_KEX_PRIV_MAX   48
#define CRYPTO_KEX_SECRET_MAX 48

/* Signature schemes, by their TLS SignatureScheme codepoint (RFC 8446 §4.2.3). */
enum crypto_sig_scheme {
	CRYPTO_RSA_PKCS1_SHA256 = 0x0401,
	CRYPTO_RSA_PKCS1_SHA384 = 0x0501,
	CRYPTO_RSA_PKCS1_SHA512 = 0x0601,
	CRYPTO_ECDSA_SECP256R1_SHA256 = 0x0403,
	CRYPTO_ECDSA_SECP384R1_SHA384 = 0x0503,
	CRYPTO_RSA_PSS_RSAE_SHA256 = 0x0804,
	CRYPTO_RSA_PSS_RSAE_SHA384 = 0x0805,
	CRYPTO_RSA_PSS_RSAE_SHA512 = 0x0806,
	CRYPTO_ED25519 = 0x0807,
};
#define CRYPTO_SIG_MAX 1024 /* RSA-8192 */

/* Outcome of certificate-chain verification; the engine maps each to its
 * alert (RFC 8446 §6.2). */
enum crypto_cert_result {
	CRYPTO_CERT_OK = 0,
	CRYPTO_CERT_BAD = 1,	     /* unparsable or bad signature: bad_certificate */
	CRYPTO_CERT_UNKNOWN_CA = 2,  /* no path to a trust anchor: unknown_ca */
	CRYPTO_CERT_EXPIRED = 3,     /* outside notBefore..notAfter: certificate_expired */
	CRYPTO_CERT_NAME = 4,	     /* host name or IP does not match: bad_certificate */
	CRYPTO_CERT_UNSUPPORTED = 5, /* key type or usage we cannot use: unsupported_certificate */
	CRYPTO_CERT_REVOKED = 6,     /* certificate_revoked */
};

struct crypto_hash;  /* a running hash */
struct crypto_aead;  /* an AEAD key, for sealing or for opening */
struct crypto_kex;   /* one side of an ephemeral key exchange */
struct crypto_pkey;  /* a public or a private key */
struct crypto_store; /* trust anchors */

struct crypto_ops {
	const char *name;

	/* ---- hashes, HMAC, HKDF (RFC 5869) ---- */
	size_t (*hash_len)(int alg); /* 32, 48; 0 if unknown */
	struct crypto_hash *(*hash_new)(int alg);
	int (*hash_update)(struct crypto_hash *h, const void *data, size_t len);
	/* The digest of everything hashed so far; h stays usable (the TLS
	 * transcript hash is read at several points). */
	int (*hash_peek)(const struct crypto_hash *h, uint8_t *out);
	struct crypto_hash *(*hash_dup)(const struct crypto_hash *h);
	void (*hash_free)(struct crypto_hash *h);
	int (*hash)(int alg, const void *data, size_t len, uint8_t *out);
	int (*hmac)(int alg, const uint8_t *key, size_t klen, const void *data, size_t len, uint8_t *out);
	/* prk gets hash_len(alg) bytes. salt may be NULL/0 (zeros of hash length). */
	int (*hkdf_extract)(int alg, const uint8_t *salt, size_t slen, const uint8_t *ikm, size_t ilen,
			    uint8_t *prk);
	int (*hkdf_expand)(int alg, const uint8_t *prk, size_t plen, const uint8_t *info, size_t ilen,
			   uint8_t *out, size_t olen);

	/* ---- AEAD (RFC 5116) ---- */
	size_t (*aead_key_len)(int alg); /* 16, 32; 0 if unknown */
	struct crypto_aead *(*aead_new)(int alg, const uint8_t *key, bool seal);
	/* out gets len + CRYPTO_AEAD_TAG bytes (ciphertext then tag); in and
	 * out may be the same buffer. */
	int (*aead_seal)(struct crypto_aead *a, const uint8_t nonce[CRYPTO_AEAD_NONCE], const uint8_t *aad,
			 size_t alen, const uint8_t *in, size_t len, uint8_t *out);
	/* in holds len bytes, the tag last (len >= CRYPTO_AEAD_TAG); out gets
	 * len - CRYPTO_AEAD_TAG bytes; in and out may be the same buffer.
	 * -EBADMSG when the tag does not verify (out is then garbage). */
	int (*aead_open)(struct crypto_aead *a, const uint8_t nonce[CRYPTO_AEAD_NONCE], const uint8_t *aad,
			 size_t alen, const uint8_t *in, size_t len, uint8_t *out);
	void (*aead_free)(struct crypto_aead *a);

	/* ---- ephemeral key exchange (RFC 7748, SEC 1) ---- */
	size_t (*kex_priv_len)(int group); /* 32 for X25519 and P-256, 48 for P-384; 0 if unknown */
	/* A key pair from the given private bytes (priv_len == kex_priv_len):
	 * for X25519 any 32 bytes (clamped by the primitive); for the NIST
	 * curves a big-endian scalar, -EINVAL when it is 0 or >= the order
	 * (the caller draws again). */
	int (*kex_new)(int group, const uint8_t *priv, size_t priv_len, struct crypto_kex **out);
	/* Our public value as TLS sends it (X25519: 32 bytes; NIST: 0x04||X||Y). */
	int (*kex_public)(const struct crypto_kex *k, uint8_t *out, size_t cap, size_t *len);
	/* The shared secret with the peer's public value (X25519: 32 bytes,
	 * -EBADMSG when all zero; NIST: the X coordinate, -EBADMSG when the
	 * point is not on the curve or not uncompressed). */
	int (*kex_derive)(const struct crypto_kex *k, const uint8_t *peer, size_t plen, uint8_t *secret,
			  size_t cap, size_t *len);
	void (*kex_free)(struct crypto_kex *k);

	/* ---- signatures ---- */
	/* Whether this key can make or check signatures of this scheme
	 * (key type, curve and size match). */
	bool (*pkey_can)(const struct crypto_pkey *k, int scheme);
	int (*sign)(const struct crypto_pkey *priv, int scheme, const uint8_t *msg, size_t len, uint8_t *sig,
		    size_t cap, size_t *sig_len);
	/* 0 when valid, -EBADMSG when not, -EINVAL when the key cannot do scheme. */
	int (*verify)(const struct crypto_pkey *pub, int scheme, const uint8_t *msg, size_t len,
		      const uint8_t *sig, size_t sig_len);
	void (*pkey_free)(struct crypto_pkey *k);

	/* ---- X.509 ---- */
	/* The public key of a DER certificate, or NULL if it does not parse. */
	struct crypto_pkey *(*cert_pubkey)(const uint8_t *der, size_t len);
	/* "CN=example.com" style one-line subject, for ladders and logs. */
	int (*cert_subject)(const uint8_t *der, size_t len, char *out, size_t cap);
	/* Verify chain[0] (the leaf) up to a trust anchor of store, using
	 * chain[1..n-1] as untrusted intermediates, at unix_time (seconds).
	 * name: a DNS name (matched per RFC 6125, wildcards in the left-most
	 * label only) or an IPv4/IPv6 literal (matched against iPAddress
	 * SANs); NULL checks no name. server_auth: check the serverAuth
	 * purpose (else clientAuth). Returns enum crypto_cert_result; why
	 * gets a one-line reason when not OK. */
	int (*cert_verify)(const struct crypto_store *store, const uint8_t *const *chain, const size_t *lens,
			   size_t n, const char *name, int64_t unix_time, bool server_auth, char *why,
			   size_t why_cap);
};

extern const struct crypto_ops crypto_openssl;

/* ---- loading (touches files: used by configuration code, never by the
 * engine while it processes bytes) ---- */
/* A private key from a PEM file (PKCS#8, traditional RSA/EC). NULL and a
 * one-line reason in why on failure. */
struct crypto_pkey *crypto_load_key_pem(const char *path, char *why, size_t why_cap);
struct crypto_pkey *crypto_load_key_pem_mem(const void *pem, size_t len, char *why, size_t why_cap);
/* Whether key is the private key of the certificate der (its public half
 * equals the certificate's key): a server configured with a key that
 * does not match would fail every handshake at CertificateVerify. */
bool crypto_key_matches_cert(const struct crypto_pkey *key, const uint8_t *der, size_t len);
/* The certificates of a PEM file, in file order, as DER: *ders gets an
 * array of n malloc'd buffers (free with crypto_free_ders). */
int crypto_load_chain_pem(const char *path, uint8_t ***ders, size_t **lens, size_t *n, char *why,
			  size_t why_cap);
int crypto_load_chain_pem_mem(const void *pem, size_t len, uint8_t ***ders, size_t **lens, size_t *n,
			      char *why, size_t why_cap);
void crypto_free_ders(uint8_t **ders, size_t *lens, size_t n);
/* Trust anchors from a PEM file, a hashed directory (c_rehash layout) or
 * libcrypto's default system store; each argument may be NULL/false.
 * Certificates may also be added from memory. */
struct crypto_store *crypto_store_new(void);
int crypto_store_add_file(struct crypto_store *s, const char *path, char *why, size_t why_cap);
int crypto_store_add_dir(struct crypto_store *s, const char *path, char *why, size_t why_cap);
int crypto_store_add_system(struct crypto_store *s, char *why, size_t why_cap);
int crypto_store_add_der(struct crypto_store *s, const uint8_t *der, size_t len);
void crypto_store_free(struct crypto_store *s);
/* The OS's randomness (libcrypto's DRBG), for glue code that needs a
 * default synack_rng. */
void crypto_random(void *ctx, void *buf, size_t len);
/* The OS's wall clock in ms since the epoch, for a default synack_tls_clock. */
int64_t crypto_unix_ms(void *ctx);

/* ---- throw-away certificates (the demo, tests) ---- */
enum crypto_key_type { CRYPTO_KEY_EC_P256 = 1, CRYPTO_KEY_EC_P384, CRYPTO_KEY_RSA2048, CRYPTO_KEY_ED25519 };
struct crypto_pkey *crypto_key_generate(int type);
/* A certificate for subject_cn with the given SANs (DNS names or IP
 * literals, comma separated; may be NULL), signed by issuer_key under
 * issuer_der's subject (NULL issuer: self-signed CA with basicConstraints
 * CA:TRUE), valid from not_before for days (unix seconds). *der is
 * malloc'd. */
int crypto_cert_make(const struct crypto_pkey *key, const char *subject_cn, const char *sans, bool is_ca,
		     const struct crypto_pkey *issuer_key, const uint8_t *issuer_der, size_t issuer_len,
		     int64_t not_before, int days, uint8_t **der, size_t *len);
/* PEM text of a key or certificate (malloc'd, NUL-terminated), for
 * writing test files. */
char *crypto_key_pem(const struct crypto_pkey *k);
char *crypto_cert_pem(const uint8_t *der, size_t len);

#endif
