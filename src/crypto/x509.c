/* The X.509 entries of the crypto table: a certificate's public key and
 * subject, and chain verification.
 *
 * Implementation notes
 *
 * - Certificates are DER with no trailing bytes (d2i_X509 must consume
 *   the whole buffer).
 * - cert_verify builds an X509_STORE_CTX over the store with chain[1..]
 *   as untrusted intermediates, X509_VERIFY_PARAM_set_time(unix_time),
 *   set1_ip_asc when the name parses as an IPv4/IPv6 literal, else
 *   set1_host with partial wildcards refused (RFC 6125 §6.4.3), and the
 *   sslserver or sslclient purpose. The X509_V_ERR_* code maps to enum
 *   crypto_cert_result; why gets X509_verify_cert_error_string and the
 *   depth. A chain that does not parse is CRYPTO_CERT_BAD; a NULL store
 *   (a programming error) is -EINVAL.
 * - cert_subject prints RFC 2253 style ("CN=leaf,O=org"), control
 *   characters escaped, UTF-8 kept; truncated with -ENOSPC when it does
 *   not fit, -EBADMSG when the certificate does not parse. */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "crypto/crypto_internal.h"

/* One DER certificate, no trailing bytes; NULL when it does not parse. */
static X509 *der_x509(const uint8_t *der, size_t len)
{
	const unsigned char *p = der;
	X509 *x;

	if (!der || !len || len > LONG_MAX)
		return NULL;
	x = d2i_X509(NULL, &p, (long)len);
	if (x && p != der + len) {
		X509_free(x);
		x = NULL;
	}
	if (!x)
		ERR_clear_error();
	return x;
}

struct crypto_pkey *crypto_x509_pubkey(const uint8_t *der, size_t len)
{
	X509 *x = der_x509(der, len);
	EVP_PKEY *p = x ? X509_get_pubkey(x) : NULL;

	X509_free(x);
	ERR_clear_error();
	return crypto_pkey_wrap(p);
}

int crypto_x509_subject(const uint8_t *der, size_t len, char *out, size_t cap)
{
	X509 *x;
	BIO *b;
	char *text;
	long n;
	int rc = 0;

	if (!der || !out || !cap)
		return -EINVAL;
	x = der_x509(der, len);
	if (!x)
		return -EBADMSG;
	b = BIO_new(BIO_s_mem());
	/* RFC 2253 style ("CN=a,O=b"), control characters escaped. */
	if (!b ||
	    X509_NAME_print_ex(b, X509_get_subject_name(x), 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) < 0)
		rc = -ENOMEM;
	n = rc ? 0 : BIO_get_mem_data(b, &text);
	if (!rc && (size_t)n >= cap) {
		n = (long)cap - 1;
		rc = -ENOSPC;
	}
	if (n > 0)
		memcpy(out, text, (size_t)n);
	out[n] = '\0';
	BIO_free(b);
	X509_free(x);
	if (rc == -ENOMEM)
		ERR_clear_error();
	return rc;
}

/* chain[0] as *leaf and chain[1..n-1] as *mid; false when one does not
 * parse (why says which). */
static bool parse_chain(const uint8_t *const *chain, const size_t *lens, size_t n, X509 **leaf,
			STACK_OF(X509) * *mid, char *why, size_t why_cap)
{
	*leaf = der_x509(chain[0], lens[0]);
	*mid = sk_X509_new_null();
	if (!*leaf || !*mid) {
		snprintf(why, why_cap, "certificate 0 does not parse");
		return false;
	}
	for (size_t i = 1; i < n; i++) {
		X509 *x = der_x509(chain[i], lens[i]);

		if (!x || !sk_X509_push(*mid, x)) {
			X509_free(x);
			snprintf(why, why_cap, "certificate %zu does not parse", i);
			return false;
		}
	}
	return true;
}

static bool is_ip_literal(const char *name)
{
	uint8_t buf[16];

	return inet_pton(AF_INET, name, buf) == 1 || inet_pton(AF_INET6, name, buf) == 1;
}

static bool set_verify_params(X509_STORE_CTX *c, const char *name, int64_t unix_time, bool server_auth)
{
	X509_VERIFY_PARAM *vp = X509_STORE_CTX_get0_param(c);

	X509_VERIFY_PARAM_set_time(vp, (time_t)unix_time);
	if (!X509_STORE_CTX_set_purpose(c, server_auth ? X509_PURPOSE_SSL_SERVER : X509_PURPOSE_SSL_CLIENT))
		return false;
	if (!name)
		return true;
	if (is_ip_literal(name))
		return X509_VERIFY_PARAM_set1_ip_asc(vp, name) == 1;
	/* RFC 6125 §6.4.3: a wildcard is the whole left-most label. */
	X509_VERIFY_PARAM_set_hostflags(vp, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	return X509_VERIFY_PARAM_set1_host(vp, name, strlen(name)) == 1;
}

static int cert_result(int err)
{
	switch (err) {
	case X509_V_OK:
		return CRYPTO_CERT_OK;
	case X509_V_ERR_CERT_HAS_EXPIRED:
	case X509_V_ERR_CERT_NOT_YET_VALID:
		return CRYPTO_CERT_EXPIRED;
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_CERT_UNTRUSTED:
		return CRYPTO_CERT_UNKNOWN_CA;
	case X509_V_ERR_HOSTNAME_MISMATCH:
	case X509_V_ERR_IP_ADDRESS_MISMATCH:
	case X509_V_ERR_EMAIL_MISMATCH:
		return CRYPTO_CERT_NAME;
	case X509_V_ERR_CERT_REVOKED:
		return CRYPTO_CERT_REVOKED;
	case X509_V_ERR_INVALID_PURPOSE:
		return CRYPTO_CERT_UNSUPPORTED;
	default:
		return CRYPTO_CERT_BAD;
	}
}

static int cert_check(const struct crypto_store *store, X509 *leaf, STACK_OF(X509) * mid, const char *name,
		      int64_t unix_time, bool server_auth, char *why, size_t why_cap)
{
	X509_STORE_CTX *c = X509_STORE_CTX_new();
	int rc, err;

	if (!c || !X509_STORE_CTX_init(c, store->st, leaf, mid) ||
	    !set_verify_params(c, name, unix_time, server_auth)) {
		X509_STORE_CTX_free(c);
		snprintf(why, why_cap, "cannot set up verification");
		return CRYPTO_CERT_BAD;
	}
	rc = X509_verify_cert(c) == 1 ? CRYPTO_CERT_OK : CRYPTO_CERT_BAD;
	err = X509_STORE_CTX_get_error(c);
	if (rc != CRYPTO_CERT_OK) {
		rc = err == X509_V_OK ? CRYPTO_CERT_BAD : cert_result(err);
		snprintf(why, why_cap, "%s (depth %d)", X509_verify_cert_error_string(err),
			 X509_STORE_CTX_get_error_depth(c));
	}
	X509_STORE_CTX_free(c);
	return rc;
}

int crypto_x509_verify(const struct crypto_store *store, const uint8_t *const *chain, const size_t *lens,
		       size_t n, const char *name, int64_t unix_time, bool server_auth, char *why,
		       size_t why_cap)
{
	char dummy[1];
	X509 *leaf = NULL;
	STACK_OF(X509) *mid = NULL;
	int rc;

	if (!why || !why_cap) {
		why = dummy;
		why_cap = sizeof(dummy);
	}
	why[0] = '\0';
	if (!store || !store->st || (n && (!chain || !lens)))
		return -EINVAL;
	if (!n) {
		snprintf(why, why_cap, "empty certificate chain");
		return CRYPTO_CERT_BAD;
	}
	if (!parse_chain(chain, lens, n, &leaf, &mid, why, why_cap))
		rc = CRYPTO_CERT_BAD;
	else
		rc = cert_check(store, leaf, mid, name, unix_time, server_auth, why, why_cap);
	X509_free(leaf);
	sk_X509_pop_free(mid, X509_free);
	ERR_clear_error();
	return rc;
}
