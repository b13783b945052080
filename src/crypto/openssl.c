/* crypto_openssl: the crypto table (crypto.h) on OpenSSL 3's libcrypto.
 *
 * Implementation notes
 *
 * - Algorithms are fetched once (pthread_once) and reused: EVP_MD for
 *   SHA-256/384/512, EVP_CIPHER for the three AEADs, EC_GROUPs for P-256
 *   and P-384, and HMAC contexts with the digest already set that each
 *   call duplicates (EVP_MAC_CTX_dup) instead of fetching "HMAC" and the
 *   digest by name again. The objects live as long as the process. Each
 *   thread keeps its own duplicate per hash (a pthread key), re-keyed by
 *   every HMAC (EVP_MAC_init with a key resets it): no allocation per
 *   HMAC; a thread's copies are freed when it exits.
 * - HKDF (RFC 5869) is written here on that HMAC, not taken from
 *   EVP_KDF: 3.0's HKDF context cannot be duplicated, so every derive
 *   fetched the digest by name again, and the key schedule's dozen
 *   derives cost a fifth of a server's full handshake that way.
 * - A hash keeps a second EVP_MD_CTX as scratch: hash_peek copies the
 *   running state into it (EVP_MD_CTX_copy_ex) and finalizes the copy, so
 *   the transcript hash stays usable and peeking allocates nothing new.
 * - An AEAD key owns one EVP_CIPHER_CTX: the key schedule is computed once
 *   in aead_new; each seal/open only sets the 12-byte nonce (init with a
 *   NULL cipher and key). in == out is allowed (libcrypto accepts exact
 *   overlap); open copies the tag out first anyway.
 * - Key exchange uses the caller's private bytes. X25519 goes through
 *   EVP_PKEY_new_raw_private_key (the primitive clamps). For P-256/P-384
 *   the scalar is range-checked (0 < d < n, else -EINVAL), the public
 *   point computed with EC_POINT_mul and the pair imported with
 *   OSSL_PARAM_BLD/EVP_PKEY_fromdata. A peer's NIST point must be
 *   uncompressed (0x04, exact length); importing it runs libcrypto's
 *   on-curve check and the derive validates the peer again, as libssl
 *   does. Any problem with the peer's value is -EBADMSG, as is an all-zero
 *   X25519 result (RFC 7748 §6.1; libcrypto refuses it too).
 * - Signatures: one table maps each TLS SignatureScheme to key type, hash,
 *   padding and curve. RSA-PSS uses salt length = hash length and MGF1
 *   with the same hash (RFC 8446 §4.2.3); ECDSA signatures are DER
 *   (ECDSA-Sig-Value, as TLS sends them); Ed25519 is one-shot with a NULL
 *   digest. pkey_can is strict: ECDSA schemes require the matching curve
 *   (TLS 1.3 rule), RSA keys must be large enough for the padding.
 * - X.509 (cert_pubkey, cert_subject, cert_verify) lives in x509.c.
 * - Errors: -EINVAL bad argument or unknown algorithm, -EBADMSG failed
 *   authentication or a peer value that does not parse, -ENOSPC output too
 *   small, -ENOMEM when libcrypto fails on validated input (allocation).
 *   The thread's libcrypto error queue is cleared on every failure path. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include "crypto/crypto_internal.h"

/* ---- algorithms, fetched once ---- */

static const char *const md_names[3] = {"SHA256", "SHA384", "SHA512"};
static const char *const group_names[2] = {"prime256v1", "secp384r1"};

static struct {
	EVP_MD *md[3];	      /* SHA-256, SHA-384, SHA-512 */
	EVP_MAC_CTX *hmac[2]; /* HMAC-SHA-256/384 templates, no key */
	EVP_CIPHER *aead[3];  /* by enum crypto_aead_alg - 1 */
	EC_GROUP *group[2];   /* P-256, P-384 */
	bool ok;
} algs;
static pthread_once_t algs_once = PTHREAD_ONCE_INIT;
static pthread_key_t macs_key; /* struct thread_macs of the calling thread */
struct thread_macs {
	EVP_MAC_CTX *c[2];
};

static void macs_free(void *p)
{
	struct thread_macs *m = p;

	for (int i = 0; i < 2; i++)
		EVP_MAC_CTX_free(m->c[i]);
	free(m);
}
static const uint8_t zero_byte[1]; /* a non-NULL pointer for empty inputs */

static void fetch_template(EVP_MAC *mac, int i)
{
	OSSL_PARAM mp[2] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)md_names[i], 0),
			    OSSL_PARAM_construct_end()};

	algs.hmac[i] = mac ? EVP_MAC_CTX_new(mac) : NULL;
	if (!algs.hmac[i] || !EVP_MAC_CTX_set_params(algs.hmac[i], mp))
		algs.ok = false;
}

static void fetch_all(void)
{
	static const char *const ciphers[3] = {"AES-128-GCM", "AES-256-GCM", "ChaCha20-Poly1305"};
	static const int nids[2] = {NID_X9_62_prime256v1, NID_secp384r1};
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);

	algs.ok = pthread_key_create(&macs_key, macs_free) == 0;
	for (int i = 0; i < 3; i++) {
		algs.md[i] = EVP_MD_fetch(NULL, md_names[i], NULL);
		algs.aead[i] = EVP_CIPHER_fetch(NULL, ciphers[i], NULL);
		if (!algs.md[i] || !algs.aead[i])
			algs.ok = false;
	}
	for (int i = 0; i < 2; i++) {
		algs.group[i] = EC_GROUP_new_by_curve_name(nids[i]);
		if (!algs.group[i])
			algs.ok = false;
		fetch_template(mac, i);
	}
	EVP_MAC_free(mac); /* the contexts hold their own references */
	if (!algs.ok)
		fprintf(stderr, "synack: libcrypto lacks a required algorithm\n");
	ERR_clear_error();
}

static bool ready(void)
{
	pthread_once(&algs_once, fetch_all);
	return algs.ok;
}

/* libcrypto failed: forget its error queue, return e. */
static int fail(int e)
{
	ERR_clear_error();
	return e;
}

/* 0 for SHA-256, 1 for SHA-384, -1 otherwise. */
static int hidx(int alg)
{
	return alg == CRYPTO_SHA256 ? 0 : alg == CRYPTO_SHA384 ? 1 : -1;
}

/* ---- hashes, HMAC, HKDF ---- */

struct crypto_hash {
	EVP_MD_CTX *ctx;
	EVP_MD_CTX *scratch; /* for hash_peek */
	int alg;
};

static size_t hash_len(int alg)
{
	return alg == CRYPTO_SHA256 ? 32 : alg == CRYPTO_SHA384 ? 48 : 0;
}

static void hash_free(struct crypto_hash *h)
{
	if (!h)
		return;
	EVP_MD_CTX_free(h->ctx);
	EVP_MD_CTX_free(h->scratch);
	free(h);
}

static struct crypto_hash *hash_alloc(int alg)
{
	struct crypto_hash *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->alg = alg;
	h->ctx = EVP_MD_CTX_new();
	h->scratch = EVP_MD_CTX_new();
	if (!h->ctx || !h->scratch) {
		hash_free(h);
		return NULL;
	}
	return h;
}

static struct crypto_hash *hash_new(int alg)
{
	int i = hidx(alg);
	struct crypto_hash *h;

	if (i < 0 || !ready())
		return NULL;
	h = hash_alloc(alg);
	if (h && !EVP_DigestInit_ex2(h->ctx, algs.md[i], NULL)) {
		hash_free(h);
		fail(0);
		return NULL;
	}
	return h;
}

static int hash_update(struct crypto_hash *h, const void *data, size_t len)
{
	if (!h || (!data && len))
		return -EINVAL;
	if (len && !EVP_DigestUpdate(h->ctx, data, len))
		return fail(-ENOMEM);
	return 0;
}

static int hash_peek(const struct crypto_hash *h, uint8_t *out)
{
	if (!h || !out)
		return -EINVAL;
	if (!EVP_MD_CTX_copy_ex(h->scratch, h->ctx) || !EVP_DigestFinal_ex(h->scratch, out, NULL))
		return fail(-ENOMEM);
	return 0;
}

static struct crypto_hash *hash_dup(const struct crypto_hash *h)
{
	struct crypto_hash *d;

	if (!h)
		return NULL;
	d = hash_alloc(h->alg);
	if (d && !EVP_MD_CTX_copy_ex(d->ctx, h->ctx)) {
		hash_free(d);
		fail(0);
		return NULL;
	}
	return d;
}

static int hash(int alg, const void *data, size_t len, uint8_t *out)
{
	int i = hidx(alg);

	if (i < 0 || !out || (!data && len) || !ready())
		return -EINVAL;
	if (!EVP_Digest(data ? data : zero_byte, len, out, NULL, algs.md[i], NULL))
		return fail(-ENOMEM);
	return 0;
}

/* The calling thread's HMAC context for hash index i (NULL: no memory). */
static EVP_MAC_CTX *thread_mac(int i)
{
	struct thread_macs *m = pthread_getspecific(macs_key);

	if (!m) {
		m = calloc(1, sizeof(*m));
		if (!m || pthread_setspecific(macs_key, m)) {
			free(m);
			return NULL;
		}
	}
	if (!m->c[i])
		m->c[i] = EVP_MAC_CTX_dup(algs.hmac[i]);
	return m->c[i];
}

static int hmac(int alg, const uint8_t *key, size_t klen, const void *data, size_t len, uint8_t *out)
{
	int i = hidx(alg);
	EVP_MAC_CTX *c;
	size_t n = 0;
	int ok;

	if (i < 0 || !out || (!key && klen) || (!data && len) || !ready())
		return -EINVAL;
	c = thread_mac(i);
	ok = c && EVP_MAC_init(c, key ? key : zero_byte, klen, NULL) &&
	     EVP_MAC_update(c, data ? data : zero_byte, len) && EVP_MAC_final(c, out, &n, hash_len(alg));
	return ok && n == hash_len(alg) ? 0 : fail(-ENOMEM);
}

/* RFC 5869 §2.2: PRK = HMAC-Hash(salt, IKM); no salt is HashLen zeros. */
static int hkdf_extract(int alg, const uint8_t *salt, size_t slen, const uint8_t *ikm, size_t ilen,
			uint8_t *prk)
{
	static const uint8_t zeros[CRYPTO_HASH_MAX];

	if (hidx(alg) < 0 || !prk || (!salt && slen) || (!ikm && ilen))
		return -EINVAL;
	if (!slen) {
		salt = zeros;
		slen = hash_len(alg);
	}
	return hmac(alg, salt, slen, ikm, ilen, prk);
}

/* RFC 5869 §2.3: T(i) = HMAC-Hash(PRK, T(i-1) | info | i), OKM = the
 * first L bytes of T(1) | T(2) | ... (L <= 255 * HashLen). */
static int hkdf_expand(int alg, const uint8_t *prk, size_t plen, const uint8_t *info, size_t ilen,
		       uint8_t *out, size_t olen)
{
	int i = hidx(alg);
	size_t hl = hash_len(alg), done = 0, n = 0;
	uint8_t t[CRYPTO_HASH_MAX];
	EVP_MAC_CTX *c;
	bool ok = true;

	if (i < 0 || !prk || !plen || !out || !olen || (!info && ilen) || !ready())
		return -EINVAL;
	if (olen > 255 * hl)
		return -EINVAL;
	c = thread_mac(i);
	for (unsigned k = 1; ok && done < olen; k++) {
		uint8_t ctr = (uint8_t)k;
		ok = c && EVP_MAC_init(c, prk, plen, NULL) && (k == 1 || EVP_MAC_update(c, t, hl)) &&
		     (!ilen || EVP_MAC_update(c, info, ilen)) && EVP_MAC_update(c, &ctr, 1) &&
		     EVP_MAC_final(c, t, &n, sizeof t) && n == hl;
		if (ok) {
			size_t m = olen - done < hl ? olen - done : hl;
			memcpy(out + done, t, m);
			done += m;
		}
	}
	OPENSSL_cleanse(t, sizeof t);
	return ok ? 0 : fail(-ENOMEM);
}

/* ---- AEAD ---- */

struct crypto_aead {
	EVP_CIPHER_CTX *ctx;
	bool seal;
};

static size_t aead_key_len(int alg)
{
	switch (alg) {
	case CRYPTO_AES_128_GCM:
		return 16;
	case CRYPTO_AES_256_GCM:
	case CRYPTO_CHACHA20_POLY1305:
		return 32;
	default:
		return 0;
	}
}

static void aead_free(struct crypto_aead *a)
{
	if (!a)
		return;
	EVP_CIPHER_CTX_free(a->ctx); /* clears the key schedule */
	free(a);
}

static struct crypto_aead *aead_new(int alg, const uint8_t *key, bool seal)
{
	struct crypto_aead *a;

	if (!aead_key_len(alg) || !key || !ready())
		return NULL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	a->seal = seal;
	a->ctx = EVP_CIPHER_CTX_new();
	if (!a->ctx || !EVP_CipherInit_ex2(a->ctx, algs.aead[alg - 1], key, NULL, seal ? 1 : 0, NULL)) {
		aead_free(a);
		fail(0);
		return NULL;
	}
	return a;
}

/* Sets the nonce, feeds the AAD and transforms len bytes of in to out. */
static int aead_body(struct crypto_aead *a, const uint8_t *nonce, const uint8_t *aad, size_t alen,
		     const uint8_t *in, size_t len, uint8_t *out)
{
	int n;

	if (!EVP_CipherInit_ex2(a->ctx, NULL, NULL, nonce, -1, NULL))
		return -ENOMEM;
	if (alen && !EVP_CipherUpdate(a->ctx, NULL, &n, aad, (int)alen))
		return -ENOMEM;
	if (len && !EVP_CipherUpdate(a->ctx, out, &n, in, (int)len))
		return -ENOMEM;
	return 0;
}

static bool aead_args(const struct crypto_aead *a, const uint8_t *nonce, const uint8_t *aad, size_t alen,
		      const uint8_t *in, size_t len, const uint8_t *out)
{
	return a && nonce && out && (aad || !alen) && (in || !len) && alen <= INT_MAX &&
	       len <= INT_MAX - CRYPTO_AEAD_TAG;
}

static int aead_seal(struct crypto_aead *a, const uint8_t nonce[CRYPTO_AEAD_NONCE], const uint8_t *aad,
		     size_t alen, const uint8_t *in, size_t len, uint8_t *out)
{
	int n, rc;

	if (!aead_args(a, nonce, aad, alen, in, len, out) || !a->seal)
		return -EINVAL;
	rc = aead_body(a, nonce, aad, alen, in, len, out);
	if (rc)
		return fail(rc);
	if (!EVP_CipherFinal_ex(a->ctx, out + len, &n) ||
	    !EVP_CIPHER_CTX_ctrl(a->ctx, EVP_CTRL_AEAD_GET_TAG, CRYPTO_AEAD_TAG, out + len))
		return fail(-ENOMEM);
	return 0;
}

static int aead_open(struct crypto_aead *a, const uint8_t nonce[CRYPTO_AEAD_NONCE], const uint8_t *aad,
		     size_t alen, const uint8_t *in, size_t len, uint8_t *out)
{
	uint8_t tag[CRYPTO_AEAD_TAG];
	int n, rc;

	if (!aead_args(a, nonce, aad, alen, in, len, out) || a->seal)
		return -EINVAL;
	if (len < CRYPTO_AEAD_TAG)
		return -EBADMSG;
	len -= CRYPTO_AEAD_TAG;
	memcpy(tag, in + len, CRYPTO_AEAD_TAG);
	rc = aead_body(a, nonce, aad, alen, in, len, out);
	if (!rc && !EVP_CIPHER_CTX_ctrl(a->ctx, EVP_CTRL_AEAD_SET_TAG, CRYPTO_AEAD_TAG, tag))
		rc = -ENOMEM;
	if (rc)
		return fail(rc);
	if (EVP_CipherFinal_ex(a->ctx, out + len, &n) <= 0)
		return fail(-EBADMSG);
	return 0;
}

/* ---- key exchange ---- */

struct crypto_kex {
	EVP_PKEY *pkey;
	int group;
	size_t plen;
	uint8_t pub[CRYPTO_KEX_PUB_MAX];
};

/* 0 for P-256, 1 for P-384, -1 otherwise. */
static int gidx(int group)
{
	return group == CRYPTO_SECP256R1 ? 0 : group == CRYPTO_SECP384R1 ? 1 : -1;
}

static size_t kex_priv_len(int group)
{
	switch (group) {
	case CRYPTO_X25519:
	case CRYPTO_SECP256R1:
		return 32;
	case CRYPTO_SECP384R1:
		return 48;
	default:
		return 0;
	}
}

static size_t kex_secret_len(int group)
{
	return kex_priv_len(group); /* field size equals scalar size for these curves */
}

static void kex_free(struct crypto_kex *k)
{
	if (!k)
		return;
	EVP_PKEY_free(k->pkey);
	OPENSSL_cleanse(k, sizeof(*k));
	free(k);
}

/* An EC key of group gi from an optional private scalar and the public
 * point (uncompressed octets); import checks the point is on the curve. */
static int ec_fromdata(int gi, const BIGNUM *d, const uint8_t *pub, size_t plen, EVP_PKEY **out)
{
	OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
	OSSL_PARAM *p = NULL;
	EVP_PKEY_CTX *pc = NULL;
	int ok = b && OSSL_PARAM_BLD_push_utf8_string(b, OSSL_PKEY_PARAM_GROUP_NAME, group_names[gi], 0) &&
		 OSSL_PARAM_BLD_push_octet_string(b, OSSL_PKEY_PARAM_PUB_KEY, pub, plen) &&
		 (!d || OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_PRIV_KEY, d));

	if (ok)
		p = OSSL_PARAM_BLD_to_param(b);
	if (p)
		pc = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	ok = pc && EVP_PKEY_fromdata_init(pc) > 0 &&
	     EVP_PKEY_fromdata(pc, out, d ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, p) > 0;
	EVP_PKEY_CTX_free(pc);
	OSSL_PARAM_free(p);
	OSSL_PARAM_BLD_free(b);
	return ok ? 0 : -1;
}

static int kex_new_nist(struct crypto_kex *k, int gi, const uint8_t *priv, size_t len)
{
	const EC_GROUP *g = algs.group[gi];
	BIGNUM *d = BN_bin2bn(priv, (int)len, NULL);
	EC_POINT *q = NULL;
	int rc = -ENOMEM;

	if (!d)
		goto out;
	if (BN_is_zero(d) || BN_cmp(d, EC_GROUP_get0_order(g)) >= 0) {
		rc = -EINVAL;
		goto out;
	}
	q = EC_POINT_new(g);
	if (!q || !EC_POINT_mul(g, q, d, NULL, NULL, NULL))
		goto out;
	k->plen = EC_POINT_point2oct(g, q, POINT_CONVERSION_UNCOMPRESSED, k->pub, sizeof(k->pub), NULL);
	if (k->plen && ec_fromdata(gi, d, k->pub, k->plen, &k->pkey) == 0)
		rc = 0;
out:
	EC_POINT_free(q);
	BN_clear_free(d);
	return rc;
}

static int kex_new_x25519(struct crypto_kex *k, const uint8_t *priv)
{
	k->pkey = EVP_PKEY_new_raw_private_key_ex(NULL, "X25519", NULL, priv, 32);
	k->plen = 32;
	if (!k->pkey || !EVP_PKEY_get_raw_public_key(k->pkey, k->pub, &k->plen) || k->plen != 32)
		return -ENOMEM;
	return 0;
}

static int kex_new(int group, const uint8_t *priv, size_t priv_len, struct crypto_kex **out)
{
	struct crypto_kex *k;
	int rc;

	if (out)
		*out = NULL;
	if (!out || !priv || !kex_priv_len(group) || priv_len != kex_priv_len(group) || !ready())
		return -EINVAL;
	k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	k->group = group;
	rc = group == CRYPTO_X25519 ? kex_new_x25519(k, priv) : kex_new_nist(k, gidx(group), priv, priv_len);
	if (rc) {
		kex_free(k);
		return fail(rc);
	}
	*out = k;
	return 0;
}

static int kex_public(const struct crypto_kex *k, uint8_t *out, size_t cap, size_t *len)
{
	if (!k || !out || !len)
		return -EINVAL;
	if (cap < k->plen)
		return -ENOSPC;
	memcpy(out, k->pub, k->plen);
	*len = k->plen;
	return 0;
}

/* The peer's public value as a key of our group; NULL when malformed. */
static EVP_PKEY *kex_peer(const struct crypto_kex *k, const uint8_t *peer, size_t plen)
{
	EVP_PKEY *p = NULL;

	if (k->group == CRYPTO_X25519)
		return plen == 32 ? EVP_PKEY_new_raw_public_key_ex(NULL, "X25519", NULL, peer, 32) : NULL;
	/* RFC 8446 §4.2.8.2: only the uncompressed form is legal. */
	if (plen != k->plen || peer[0] != POINT_CONVERSION_UNCOMPRESSED)
		return NULL;
	if (ec_fromdata(gidx(k->group), NULL, peer, plen, &p))
		return NULL;
	return p;
}

static int kex_derive(const struct crypto_kex *k, const uint8_t *peer, size_t plen, uint8_t *secret,
		      size_t cap, size_t *len)
{
	size_t n = kex_secret_len(k ? k->group : 0);
	EVP_PKEY *p;
	EVP_PKEY_CTX *c = NULL;
	int rc = -EBADMSG;
	uint8_t acc = 0;

	if (!k || !peer || !secret || !len)
		return -EINVAL;
	if (cap < n)
		return -ENOSPC;
	p = kex_peer(k, peer, plen);
	if (p)
		c = EVP_PKEY_CTX_new_from_pkey(NULL, k->pkey, NULL);
	if (c && EVP_PKEY_derive_init(c) > 0 && EVP_PKEY_derive_set_peer(c, p) > 0 &&
	    EVP_PKEY_derive(c, secret, &n) > 0)
		rc = 0;
	for (size_t i = 0; !rc && i < n; i++)
		acc |= secret[i];
	if (!rc && acc == 0) /* RFC 7748 §6.1: all-zero X25519 output */
		rc = -EBADMSG;
	EVP_PKEY_CTX_free(c);
	EVP_PKEY_free(p);
	if (rc)
		return fail(rc);
	*len = n;
	return 0;
}

/* ---- signatures ---- */

struct sig_info {
	int scheme;
	int type;  /* EVP_PKEY_* */
	int md;	   /* index into algs.md, -1 for none (Ed25519) */
	int pad;   /* RSA padding mode */
	int curve; /* ECDSA: NID the TLS 1.3 scheme binds */
};

static const struct sig_info sig_table[] = {
    {CRYPTO_RSA_PKCS1_SHA256, EVP_PKEY_RSA, 0, RSA_PKCS1_PADDING, 0},
    {CRYPTO_RSA_PKCS1_SHA384, EVP_PKEY_RSA, 1, RSA_PKCS1_PADDING, 0},
    {CRYPTO_RSA_PKCS1_SHA512, EVP_PKEY_RSA, 2, RSA_PKCS1_PADDING, 0},
    {CRYPTO_ECDSA_SECP256R1_SHA256, EVP_PKEY_EC, 0, 0, NID_X9_62_prime256v1},
    {CRYPTO_ECDSA_SECP384R1_SHA384, EVP_PKEY_EC, 1, 0, NID_secp384r1},
    {CRYPTO_RSA_PSS_RSAE_SHA256, EVP_PKEY_RSA, 0, RSA_PKCS1_PSS_PADDING, 0},
    {CRYPTO_RSA_PSS_RSAE_SHA384, EVP_PKEY_RSA, 1, RSA_PKCS1_PSS_PADDING, 0},
    {CRYPTO_RSA_PSS_RSAE_SHA512, EVP_PKEY_RSA, 2, RSA_PKCS1_PSS_PADDING, 0},
    {CRYPTO_ED25519, EVP_PKEY_ED25519, -1, 0, 0},
};

static const struct sig_info *sig_of(int scheme)
{
	for (size_t i = 0; i < sizeof(sig_table) / sizeof(sig_table[0]); i++)
		if (sig_table[i].scheme == scheme)
			return &sig_table[i];
	return NULL;
}

/* The smallest RSA modulus (bytes) the padding fits in: PKCS#1 v1.5
 * needs the DigestInfo (19 + hLen) plus 11 (RFC 8017 §9.2); PSS with
 * sLen = hLen needs 2 hLen + 2 (§9.1.1). */
static int rsa_min_bytes(const struct sig_info *si)
{
	static const int hlen[3] = {32, 48, 64};

	return si->pad == RSA_PKCS1_PSS_PADDING ? 2 * hlen[si->md] + 2 : 19 + hlen[si->md] + 11;
}

static bool pkey_can(const struct crypto_pkey *k, int scheme)
{
	const struct sig_info *si = sig_of(scheme);

	if (!k || !si || k->type != si->type)
		return false;
	if (si->type == EVP_PKEY_EC)
		return k->curve == si->curve;
	if (si->type == EVP_PKEY_RSA)
		return k->bytes >= rsa_min_bytes(si);
	return true;
}

/* Digest{Sign,Verify}Init with the scheme's hash and RSA padding. */
static int sig_init(EVP_MD_CTX *m, const struct crypto_pkey *k, const struct sig_info *si, bool sign)
{
	const EVP_MD *md = si->md >= 0 ? algs.md[si->md] : NULL;
	EVP_PKEY_CTX *pc = NULL;
	int ok = sign ? EVP_DigestSignInit(m, &pc, md, NULL, k->pkey)
		      : EVP_DigestVerifyInit(m, &pc, md, NULL, k->pkey);

	if (ok <= 0)
		return -ENOMEM;
	if (si->type != EVP_PKEY_RSA)
		return 0;
	if (EVP_PKEY_CTX_set_rsa_padding(pc, si->pad) <= 0)
		return -ENOMEM;
	if (si->pad == RSA_PKCS1_PSS_PADDING && /* RFC 8446 §4.2.3 */
	    (EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, RSA_PSS_SALTLEN_DIGEST) <= 0 ||
	     EVP_PKEY_CTX_set_rsa_mgf1_md(pc, md) <= 0))
		return -ENOMEM;
	return 0;
}

static int sign(const struct crypto_pkey *priv, int scheme, const uint8_t *msg, size_t len, uint8_t *sig,
		size_t cap, size_t *sig_len)
{
	const struct sig_info *si = sig_of(scheme);
	EVP_MD_CTX *m;
	size_t n = cap;
	int rc;

	if (!priv || !sig || !sig_len || (!msg && len) || !ready())
		return -EINVAL;
	if (!pkey_can(priv, scheme))
		return -EINVAL;
	if (cap < (size_t)EVP_PKEY_get_size(priv->pkey))
		return -ENOSPC;
	m = EVP_MD_CTX_new();
	rc = m ? sig_init(m, priv, si, true) : -ENOMEM;
	if (!rc && EVP_DigestSign(m, sig, &n, msg ? msg : zero_byte, len) <= 0)
		rc = -EINVAL; /* e.g. a public-only key */
	EVP_MD_CTX_free(m);
	if (rc)
		return fail(rc);
	*sig_len = n;
	return 0;
}

static int verify(const struct crypto_pkey *pub, int scheme, const uint8_t *msg, size_t len,
		  const uint8_t *sig, size_t sig_len)
{
	const struct sig_info *si = sig_of(scheme);
	EVP_MD_CTX *m;
	int rc;

	if (!pub || (!msg && len) || !ready() || !pkey_can(pub, scheme))
		return -EINVAL;
	if (!sig || !sig_len)
		return -EBADMSG;
	m = EVP_MD_CTX_new();
	rc = m ? sig_init(m, pub, si, false) : -ENOMEM;
	if (!rc && EVP_DigestVerify(m, sig, sig_len, msg ? msg : zero_byte, len) != 1)
		rc = -EBADMSG;
	EVP_MD_CTX_free(m);
	return rc ? fail(rc) : 0;
}

static void pkey_free(struct crypto_pkey *k)
{
	if (!k)
		return;
	EVP_PKEY_free(k->pkey);
	free(k);
}

static int curve_of(EVP_PKEY *p)
{
	char name[64];
	int nid;

	if (!EVP_PKEY_get_utf8_string_param(p, OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof(name), NULL))
		return 0;
	nid = OBJ_sn2nid(name);
	return nid != NID_undef ? nid : EC_curve_nist2nid(name);
}

struct crypto_pkey *crypto_pkey_wrap(EVP_PKEY *p)
{
	struct crypto_pkey *k;

	if (!p)
		return NULL;
	k = calloc(1, sizeof(*k));
	if (!k) {
		EVP_PKEY_free(p);
		return NULL;
	}
	k->pkey = p;
	k->type = EVP_PKEY_get_base_id(p);
	if (k->type == EVP_PKEY_EC)
		k->curve = curve_of(p);
	if (k->type == EVP_PKEY_RSA)
		k->bytes = EVP_PKEY_get_size(p);
	ERR_clear_error();
	return k;
}

const struct crypto_ops crypto_openssl = {
    .name = "openssl",
    .hash_len = hash_len,
    .hash_new = hash_new,
    .hash_update = hash_update,
    .hash_peek = hash_peek,
    .hash_dup = hash_dup,
    .hash_free = hash_free,
    .hash = hash,
    .hmac = hmac,
    .hkdf_extract = hkdf_extract,
    .hkdf_expand = hkdf_expand,
    .aead_key_len = aead_key_len,
    .aead_new = aead_new,
    .aead_seal = aead_seal,
    .aead_open = aead_open,
    .aead_free = aead_free,
    .kex_priv_len = kex_priv_len,
    .kex_new = kex_new,
    .kex_public = kex_public,
    .kex_derive = kex_derive,
    .kex_free = kex_free,
    .pkey_can = pkey_can,
    .sign = sign,
    .verify = verify,
    .pkey_free = pkey_free,
    .cert_pubkey = crypto_x509_pubkey,
    .cert_subject = crypto_x509_subject,
    .cert_verify = crypto_x509_verify,
};
