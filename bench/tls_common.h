/* What the TLS benchmarks (bench/tls.c, bench/tls_idle.c) share: the CPU
 * clock, a throw-away ECDSA P-256 certificate, byte pipes between two
 * engines, and the libssl and synack configurations (TLS 1.3 only,
 * X25519, TLS_AES_128_GCM_SHA256, ecdsa_secp256r1_sha256, one ticket, no
 * certificate verification on the client: the client's CPU is not
 * measured).
 *
 * Benchmarks are programs, not core code: they include OpenSSL headers for
 * their baselines (libssl) and for the certificate. */
#ifndef SYNACK_BENCH_TLS_COMMON_H
#define SYNACK_BENCH_TLS_COMMON_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "synack/tls.h"

/* ---- the thread's CPU clock ---- */

static inline int64_t cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* CPU time of one side: intervals summed, and how many (so that the cost
 * of reading the clock itself can be taken off). */
struct meter {
	int64_t ns;
	long spans;
};

#define METER(m, ...)                                                                                        \
	do {                                                                                                 \
		int64_t t0_ = cpu_ns();                                                                      \
		__VA_ARGS__;                                                                                 \
		(m)->ns += cpu_ns() - t0_;                                                                   \
		(m)->spans++;                                                                                \
	} while (0)

/* ---- a throw-away certificate ---- */

struct bench_cert {
	char *cert_pem; /* self-signed, CN=bench.synack, ECDSA P-256 */
	char *key_pem;	/* PKCS#8 */
};

static inline char *bio_to_string(BIO *b)
{
	char *data;
	long n = BIO_get_mem_data(b, &data);
	char *s = malloc((size_t)n + 1);
	if (s) {
		memcpy(s, data, (size_t)n);
		s[n] = 0;
	}
	return s;
}

static inline int bench_cert_make(struct bench_cert *bc)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	BIO *cb = BIO_new(BIO_s_mem()), *kb = BIO_new(BIO_s_mem());
	int ok = k && x && cb && kb;
	if (ok) {
		X509_set_version(x, 2);
		ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
		X509_gmtime_adj(X509_getm_notBefore(x), -3600);
		X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 30);
		X509_NAME *n = X509_get_subject_name(x);
		X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"bench.synack", -1,
					   -1, 0);
		X509_set_issuer_name(x, n);
		ok = X509_set_pubkey(x, k) && X509_sign(x, k, EVP_sha256()) > 0 &&
		     PEM_write_bio_X509(cb, x) && PEM_write_bio_PrivateKey(kb, k, NULL, NULL, 0, NULL, NULL);
	}
	bc->cert_pem = ok ? bio_to_string(cb) : NULL;
	bc->key_pem = ok ? bio_to_string(kb) : NULL;
	BIO_free(cb);
	BIO_free(kb);
	X509_free(x);
	EVP_PKEY_free(k);
	return bc->cert_pem && bc->key_pem ? 0 : -1;
}

/* ---- a byte pipe: one direction between two engines ---- */

struct pipe {
	uint8_t *buf;
	size_t len, cap;
};

static inline void pipe_put(struct pipe *p, const void *data, size_t n)
{
	if (p->len + n > p->cap) {
		p->cap = (p->len + n) * 2;
		p->buf = realloc(p->buf, p->cap);
		if (!p->buf)
			abort();
	}
	memcpy(p->buf + p->len, data, n);
	p->len += n;
}

static inline void pipe_drop(struct pipe *p, size_t n)
{
	memmove(p->buf, p->buf + n, p->len - n);
	p->len -= n;
}

/* ---- libssl ---- */

/* version: TLS1_3_VERSION (TLS_AES_128_GCM_SHA256) or TLS1_2_VERSION
 * (ECDHE-ECDSA-AES128-GCM-SHA256, tickets and extended master secret by
 * libssl's defaults; the groups also list P-256, the certificate's curve,
 * which a TLS 1.2 client must name in supported_groups, RFC 8422 §5.1.1:
 * the key exchange stays X25519, the first). */
static inline SSL_CTX *ossl_ctx_v(const struct bench_cert *bc, int server, int version)
{
	SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
	if (!ctx)
		return NULL;
	int ok =
	    SSL_CTX_set_min_proto_version(ctx, version) && SSL_CTX_set_max_proto_version(ctx, version) &&
	    (version == TLS1_3_VERSION ? SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256")
				       : SSL_CTX_set_cipher_list(ctx, "ECDHE-ECDSA-AES128-GCM-SHA256")) &&
	    SSL_CTX_set1_groups_list(ctx, version == TLS1_3_VERSION ? "X25519" : "X25519:P-256") &&
	    SSL_CTX_set1_sigalgs_list(ctx, "ECDSA+SHA256");
	if (ok && server) {
		BIO *cb = BIO_new_mem_buf(bc->cert_pem, -1), *kb = BIO_new_mem_buf(bc->key_pem, -1);
		X509 *x = PEM_read_bio_X509(cb, NULL, NULL, NULL);
		EVP_PKEY *k = PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL);
		ok = x && k && SSL_CTX_use_certificate(ctx, x) && SSL_CTX_use_PrivateKey(ctx, k) &&
		     SSL_CTX_set_num_tickets(ctx, 1);
		/* stateless tickets only, as synack: no server-side session cache */
		SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
		X509_free(x);
		EVP_PKEY_free(k);
		BIO_free(cb);
		BIO_free(kb);
	} else if (ok) {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
		SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
	}
	if (!ok) {
		ERR_print_errors_fp(stderr);
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

static inline SSL_CTX *ossl_ctx(const struct bench_cert *bc, int server)
{
	return ossl_ctx_v(bc, server, TLS1_3_VERSION);
}

/* An SSL object with its own memory BIOs (rbio: bytes from the peer,
 * wbio: bytes to the peer). */
static inline SSL *ossl_new(SSL_CTX *ctx, int server)
{
	SSL *s = SSL_new(ctx);
	if (!s)
		return NULL;
	SSL_set_bio(s, BIO_new(BIO_s_mem()), BIO_new(BIO_s_mem()));
	if (server)
		SSL_set_accept_state(s);
	else
		SSL_set_connect_state(s);
	return s;
}

/* Move what s wrote into the pipe. */
static inline void ossl_drain(SSL *s, struct pipe *to)
{
	uint8_t buf[16384 + 512];
	int n;
	while ((n = BIO_read(SSL_get_wbio(s), buf, sizeof buf)) > 0)
		pipe_put(to, buf, (size_t)n);
}

/* Give s what is in the pipe. */
static inline void ossl_fill(SSL *s, struct pipe *from)
{
	if (from->len) {
		BIO_write(SSL_get_rbio(s), from->buf, (int)from->len);
		from->len = 0;
	}
}

/* ---- synack ---- */

/* version: SYNACK_TLS_VERSION_13 or _12, pinned (the 1.2 suite that
 * stands for TLS_AES_128_GCM_SHA256 with an ECDSA certificate is
 * TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256). */
static inline synack_tls_config *sy_config_v(const struct bench_cert *bc, int server, uint16_t version)
{
	synack_tls_config *c = synack_tls_config_new(server ? SYNACK_TLS_SERVER : SYNACK_TLS_CLIENT);
	const uint16_t suite = SYNACK_TLS_AES_128_GCM_SHA256, sig = 0x0403; /* ecdsa_secp256r1_sha256 */
	const uint16_t groups[2] = {SYNACK_TLS_GROUP_X25519, SYNACK_TLS_GROUP_SECP256R1};
	if (!c)
		return NULL;
	int rc = synack_tls_config_set_suites(c, &suite, 1);
	if (!rc)
		rc = synack_tls_config_set_versions(c, version, version);
	if (!rc)
		rc = synack_tls_config_set_groups(c, groups, version == SYNACK_TLS_VERSION_13 ? 1 : 2);
	if (!rc)
		rc = synack_tls_config_set_sigschemes(c, &sig, 1);
	if (!rc && server) {
		rc = synack_tls_config_load_cert_mem(c, bc->cert_pem, bc->key_pem);
		synack_tls_config_set_tickets(c, 1, 3600, 3600);
	} else if (!rc) {
		synack_tls_config_INSECURE_no_verify(c);
	}
	if (rc) {
		fprintf(stderr, "synack config: %s %s\n", synack_tls_strerror(rc),
			synack_tls_config_error(c));
		synack_tls_config_free(c);
		return NULL;
	}
	return c;
}

static inline synack_tls_config *sy_config(const struct bench_cert *bc, int server)
{
	return sy_config_v(bc, server, SYNACK_TLS_VERSION_13);
}

/* Everything t wants to send, into the pipe. */
static inline void sy_drain(synack_tls *t, struct pipe *to)
{
	size_t n;
	const uint8_t *p;
	while ((p = synack_tls_out_peek(t, &n)) && n) {
		pipe_put(to, p, n);
		synack_tls_out_consume(t, n);
	}
}

/* The pipe's bytes into t, as far as it takes them: 0 or its error. */
static inline int sy_fill(synack_tls *t, struct pipe *from)
{
	size_t off = 0;
	int rc = 0;
	while (off < from->len) {
		ssize_t k = synack_tls_feed(t, from->buf + off, from->len - off);
		if (k <= 0) {
			rc = (int)k;
			break;
		}
		off += (size_t)k;
	}
	pipe_drop(from, off);
	return rc;
}

#endif
