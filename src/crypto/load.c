/* Loading keys, chains and trust stores; the OS's randomness and wall
 * clock; throw-away keys and certificates for the demo and the tests.
 *
 * Implementation notes
 *
 * - This file touches files and the OS: configuration code calls it, the
 *   TLS engine never does while it processes bytes.
 * - PEM is read through BIOs (file or read-only memory). A private key is
 *   read with a passphrase callback that refuses, so an encrypted key
 *   fails instead of prompting on the terminal. A chain is every
 *   CERTIFICATE block in file order, re-encoded as DER; reading stops at
 *   the first non-certificate error, and a file without any is an error.
 * - Stores are X509_STOREs: X509_STORE_load_file (PEM bundle),
 *   X509_STORE_load_path (c_rehash directory, looked up lazily),
 *   X509_STORE_set_default_paths (libcrypto's system store).
 * - crypto_random is RAND_bytes on libcrypto's DRBG (seeded from the OS).
 *   It does not fail once seeded; if it ever does, we print why and abort
 *   rather than hand out predictable bytes.
 * - crypto_cert_make builds an X.509 v3 certificate: random positive
 *   127-bit serial (16 DER bytes), subject CN, SANs as DNS or IP entries (an item that
 *   parses as an IPv4/IPv6 literal is an iPAddress), basicConstraints,
 *   keyUsage, extendedKeyUsage serverAuth+clientAuth for leaves,
 *   subjectKeyIdentifier and authorityKeyIdentifier; signed with SHA-256
 *   (Ed25519 issuers: no digest). Errors are negative errno values. */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "crypto/crypto_internal.h"

void crypto_set_why(char *why, size_t cap, const char *msg)
{
	unsigned long e = ERR_peek_error();
	char lib[256];

	if (why && cap) {
		if (e) {
			ERR_error_string_n(e, lib, sizeof(lib));
			snprintf(why, cap, "%s: %s", msg, lib);
		} else {
			snprintf(why, cap, "%s", msg);
		}
	}
	ERR_clear_error();
}

/* ---- keys and chains ---- */

static int no_password(char *buf, int size, int rwflag, void *u)
{
	return 0;
}

static struct crypto_pkey *key_from_bio(BIO *b, char *why, size_t why_cap)
{
	EVP_PKEY *p = b ? PEM_read_bio_PrivateKey(b, NULL, no_password, NULL) : NULL;
	struct crypto_pkey *k;

	BIO_free(b);
	if (!p) {
		crypto_set_why(why, why_cap, "no usable private key");
		return NULL;
	}
	k = crypto_pkey_wrap(p);
	if (!k)
		crypto_set_why(why, why_cap, "out of memory");
	return k;
}

struct crypto_pkey *crypto_load_key_pem(const char *path, char *why, size_t why_cap)
{
	if (!path) {
		crypto_set_why(why, why_cap, "no path");
		return NULL;
	}
	return key_from_bio(BIO_new_file(path, "r"), why, why_cap);
}

struct crypto_pkey *crypto_load_key_pem_mem(const void *pem, size_t len, char *why, size_t why_cap)
{
	if (!pem || !len || len > INT_MAX) {
		crypto_set_why(why, why_cap, "no PEM data");
		return NULL;
	}
	return key_from_bio(BIO_new_mem_buf(pem, (int)len), why, why_cap);
}

void crypto_free_ders(uint8_t **ders, size_t *lens, size_t n)
{
	if (ders)
		for (size_t i = 0; i < n; i++)
			free(ders[i]);
	free(ders);
	free(lens);
}

/* Appends x's DER to the arrays; 0 or -ENOMEM. */
static int push_der(X509 *x, uint8_t ***ders, size_t **lens, size_t *n)
{
	unsigned char *der = NULL;
	int len = i2d_X509(x, &der);
	uint8_t **d;
	size_t *l;

	if (len <= 0)
		return -ENOMEM;
	d = realloc(*ders, (*n + 1) * sizeof(*d));
	if (d)
		*ders = d;
	l = d ? realloc(*lens, (*n + 1) * sizeof(*l)) : NULL;
	if (l)
		*lens = l;
	if (!d || !l) {
		OPENSSL_free(der);
		return -ENOMEM;
	}
	/* Copy into malloc'd memory: the caller frees with free(). */
	(*ders)[*n] = malloc((size_t)len);
	if (!(*ders)[*n]) {
		OPENSSL_free(der);
		return -ENOMEM;
	}
	memcpy((*ders)[*n], der, (size_t)len);
	(*lens)[(*n)++] = (size_t)len;
	OPENSSL_free(der);
	return 0;
}

/* Reads every certificate of b (taking b). */
static int chain_from_bio(BIO *b, uint8_t ***ders, size_t **lens, size_t *n, char *why, size_t why_cap)
{
	uint8_t **d = NULL;
	size_t *l = NULL, cnt = 0;
	X509 *x;
	int rc = 0;

	if (!b) {
		crypto_set_why(why, why_cap, "cannot open");
		return -ENOENT;
	}
	while (!rc && (x = PEM_read_bio_X509(b, NULL, no_password, NULL)) != NULL) {
		rc = push_der(x, &d, &l, &cnt);
		X509_free(x);
	}
	BIO_free(b);
	if (!rc && !cnt)
		rc = -EINVAL;
	if (rc) {
		crypto_set_why(why, why_cap, rc == -ENOMEM ? "out of memory" : "no certificate");
		crypto_free_ders(d, l, cnt);
		return rc;
	}
	ERR_clear_error(); /* the end-of-input "no start line" */
	*ders = d;
	*lens = l;
	*n = cnt;
	return 0;
}

int crypto_load_chain_pem(const char *path, uint8_t ***ders, size_t **lens, size_t *n, char *why,
			  size_t why_cap)
{
	if (!path || !ders || !lens || !n) {
		crypto_set_why(why, why_cap, "bad argument");
		return -EINVAL;
	}
	return chain_from_bio(BIO_new_file(path, "r"), ders, lens, n, why, why_cap);
}

int crypto_load_chain_pem_mem(const void *pem, size_t len, uint8_t ***ders, size_t **lens, size_t *n,
			      char *why, size_t why_cap)
{
	if (!pem || !len || len > INT_MAX || !ders || !lens || !n) {
		crypto_set_why(why, why_cap, "bad argument");
		return -EINVAL;
	}
	return chain_from_bio(BIO_new_mem_buf(pem, (int)len), ders, lens, n, why, why_cap);
}

/* ---- trust stores ---- */

struct crypto_store *crypto_store_new(void)
{
	struct crypto_store *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->st = X509_STORE_new();
	if (!s->st) {
		free(s);
		return NULL;
	}
	return s;
}

void crypto_store_free(struct crypto_store *s)
{
	if (!s)
		return;
	X509_STORE_free(s->st);
	free(s);
}

int crypto_store_add_file(struct crypto_store *s, const char *path, char *why, size_t why_cap)
{
	if (!s || !path) {
		crypto_set_why(why, why_cap, "bad argument");
		return -EINVAL;
	}
	if (X509_STORE_load_file(s->st, path) != 1) {
		crypto_set_why(why, why_cap, "cannot load trust anchors");
		return -EINVAL;
	}
	return 0;
}

int crypto_store_add_dir(struct crypto_store *s, const char *path, char *why, size_t why_cap)
{
	if (!s || !path) {
		crypto_set_why(why, why_cap, "bad argument");
		return -EINVAL;
	}
	if (X509_STORE_load_path(s->st, path) != 1) {
		crypto_set_why(why, why_cap, "cannot use trust directory");
		return -EINVAL;
	}
	return 0;
}

int crypto_store_add_system(struct crypto_store *s, char *why, size_t why_cap)
{
	if (!s) {
		crypto_set_why(why, why_cap, "bad argument");
		return -EINVAL;
	}
	if (X509_STORE_set_default_paths(s->st) != 1) {
		crypto_set_why(why, why_cap, "cannot use the system trust store");
		return -EINVAL;
	}
	return 0;
}

int crypto_store_add_der(struct crypto_store *s, const uint8_t *der, size_t len)
{
	const unsigned char *p = der;
	X509 *x;
	int ok;

	if (!s || !der || !len || len > LONG_MAX)
		return -EINVAL;
	x = d2i_X509(NULL, &p, (long)len);
	if (!x || p != der + len) {
		X509_free(x);
		ERR_clear_error();
		return -EBADMSG;
	}
	ok = X509_STORE_add_cert(s->st, x);
	X509_free(x);
	ERR_clear_error();
	return ok ? 0 : -ENOMEM;
}

/* ---- the OS's randomness and clock ---- */

void crypto_random(void *ctx, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len) {
		int n = len > INT_MAX ? INT_MAX : (int)len;

		if (RAND_bytes(p, n) != 1) {
			fprintf(stderr, "synack: libcrypto's random generator failed; aborting\n");
			abort();
		}
		p += n;
		len -= (size_t)n;
	}
}

int64_t crypto_unix_ms(void *ctx)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool crypto_key_matches_cert(const struct crypto_pkey *key, const uint8_t *der, size_t len)
{
	struct crypto_pkey *pub = crypto_x509_pubkey(der, len);
	bool same = pub && key && EVP_PKEY_eq(pub->pkey, key->pkey) == 1;

	if (pub)
		crypto_openssl.pkey_free(pub);
	ERR_clear_error();
	return same;
}

/* ---- throw-away keys and certificates ---- */

struct crypto_pkey *crypto_key_generate(int type)
{
	EVP_PKEY *p = NULL;

	switch (type) {
	case CRYPTO_KEY_EC_P256:
		p = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
		break;
	case CRYPTO_KEY_EC_P384:
		p = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
		break;
	case CRYPTO_KEY_RSA2048:
		p = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
		break;
	case CRYPTO_KEY_ED25519:
		p = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
		break;
	default:
		return NULL;
	}
	ERR_clear_error();
	return crypto_pkey_wrap(p);
}

/* "DNS:a,IP:1.2.3.4" from "a,1.2.3.4"; NULL on allocation failure or an
 * empty item. */
static char *san_config(const char *sans)
{
	size_t cap = strlen(sans) * 2 + 8, used = 0;
	char *out = malloc(cap), *copy = strdup(sans), *save = NULL, *item;
	uint8_t ip[16];

	if (!out || !copy)
		goto fail;
	out[0] = '\0';
	for (item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		while (*item == ' ')
			item++;
		if (!*item || (strchr(item, ':') && inet_pton(AF_INET6, item, ip) != 1))
			goto fail; /* empty, or a ':' that would change the config */
		bool is_ip = inet_pton(AF_INET, item, ip) == 1 || inet_pton(AF_INET6, item, ip) == 1;
		used += (size_t)snprintf(out + used, cap - used, "%s%s:%s", used ? "," : "",
					 is_ip ? "IP" : "DNS", item);
	}
	free(copy);
	if (used)
		return out;
fail:
	free(out);
	free(copy);
	return NULL;
}

static bool add_ext(X509 *x, X509V3_CTX *v3, int nid, const char *value)
{
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, v3, nid, value);
	bool ok = e && X509_add_ext(x, e, -1);

	X509_EXTENSION_free(e);
	return ok;
}

static bool add_extensions(X509 *x, X509 *issuer, const struct crypto_pkey *key, const char *sans, bool ca)
{
	X509V3_CTX v3;
	char *san = NULL;
	bool ok;

	X509V3_set_ctx(&v3, issuer ? issuer : x, x, NULL, NULL, 0);
	ok = add_ext(x, &v3, NID_basic_constraints, ca ? "critical,CA:TRUE" : "critical,CA:FALSE") &&
	     add_ext(x, &v3, NID_key_usage,
		     ca				 ? "critical,keyCertSign,cRLSign,digitalSignature"
		     : key->type == EVP_PKEY_RSA ? "critical,digitalSignature,keyEncipherment"
						 : "critical,digitalSignature") &&
	     add_ext(x, &v3, NID_subject_key_identifier, "hash") &&
	     add_ext(x, &v3, NID_authority_key_identifier, "keyid:always");
	if (ok && (!ca || sans))
		ok = add_ext(x, &v3, NID_ext_key_usage, "serverAuth,clientAuth");
	if (ok && sans) {
		san = san_config(sans);
		ok = san && add_ext(x, &v3, NID_subject_alt_name, san);
		free(san);
	}
	return ok;
}

static bool set_serial(X509 *x)
{
	BIGNUM *bn = BN_new();
	/* 127 bits with the top one set: always 16 bytes in DER (no leading
	 * zero byte), so a certificate's size does not depend on the draw
	 * (the demo's ladder shows record sizes and must be reproducible). */
	bool ok = bn && BN_rand(bn, 127, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ODD) &&
		  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));

	BN_free(bn); /* odd, so never zero; positive: BN_rand is unsigned */
	return ok;
}

static bool set_basics(X509 *x, const struct crypto_pkey *key, const char *cn, X509 *issuer, int64_t nb,
		       int days)
{
	X509_NAME *name = X509_get_subject_name(x);

	return X509_set_version(x, X509_VERSION_3) && set_serial(x) &&
	       X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0) &&
	       X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name) &&
	       ASN1_TIME_set(X509_getm_notBefore(x), (time_t)nb) &&
	       ASN1_TIME_adj(X509_getm_notAfter(x), (time_t)nb, days, 0) && X509_set_pubkey(x, key->pkey);
}

static int cert_der(X509 *x, uint8_t **der, size_t *len)
{
	unsigned char *tmp = NULL;
	int n = i2d_X509(x, &tmp);

	if (n <= 0)
		return -ENOMEM;
	*der = malloc((size_t)n);
	if (*der) {
		memcpy(*der, tmp, (size_t)n);
		*len = (size_t)n;
	}
	OPENSSL_free(tmp);
	return *der ? 0 : -ENOMEM;
}

int crypto_cert_make(const struct crypto_pkey *key, const char *subject_cn, const char *sans, bool is_ca,
		     const struct crypto_pkey *issuer_key, const uint8_t *issuer_der, size_t issuer_len,
		     int64_t not_before, int days, uint8_t **der, size_t *len)
{
	const unsigned char *p = issuer_der;
	const struct crypto_pkey *signer = issuer_key ? issuer_key : key;
	X509 *issuer = NULL, *x = NULL;
	int rc = -EINVAL;

	if (!key || !subject_cn || !der || !len || days <= 0 || (issuer_key && (!issuer_der || !issuer_len)))
		return -EINVAL;
	*der = NULL;
	if (issuer_key && (issuer_len > LONG_MAX || !(issuer = d2i_X509(NULL, &p, (long)issuer_len))))
		goto out;
	x = X509_new();
	if (!x || !set_basics(x, key, subject_cn, issuer, not_before, days) ||
	    !add_extensions(x, issuer, key, sans, is_ca || !issuer_key))
		goto out;
	/* SHA-256 for RSA and ECDSA; Ed25519 signs the message itself. */
	if (!X509_sign(x, signer->pkey, signer->type == EVP_PKEY_ED25519 ? NULL : EVP_sha256()))
		goto out;
	rc = cert_der(x, der, len);
out:
	X509_free(x);
	X509_free(issuer);
	ERR_clear_error();
	return rc;
}

/* The contents of a memory BIO as a malloc'd string (taking b). */
static char *bio_string(BIO *b, bool ok)
{
	char *data, *s = NULL;
	long n = ok && b ? BIO_get_mem_data(b, &data) : 0;

	if (n > 0 && (s = malloc((size_t)n + 1)) != NULL) {
		memcpy(s, data, (size_t)n);
		s[n] = '\0';
	}
	BIO_free(b);
	ERR_clear_error();
	return s;
}

char *crypto_key_pem(const struct crypto_pkey *k)
{
	BIO *b;

	if (!k)
		return NULL;
	b = BIO_new(BIO_s_mem());
	return bio_string(b, b && PEM_write_bio_PrivateKey(b, k->pkey, NULL, NULL, 0, NULL, NULL));
}

char *crypto_cert_pem(const uint8_t *der, size_t len)
{
	const unsigned char *p = der;
	X509 *x;
	BIO *b;
	char *s;

	if (!der || !len || len > LONG_MAX)
		return NULL;
	x = d2i_X509(NULL, &p, (long)len);
	if (!x || p != der + len) {
		X509_free(x);
		ERR_clear_error();
		return NULL;
	}
	b = BIO_new(BIO_s_mem());
	s = bio_string(b, b && PEM_write_bio_X509(b, x));
	X509_free(x);
	return s;
}
