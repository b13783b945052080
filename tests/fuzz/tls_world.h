/* What the TLS fuzz targets share (included by fuzz_tls_*.c; not a target).
 *
 * A world made once per process: a throw-away CA and a server certificate
 * for "localhost" (ECDSA P-256), a client configuration that verifies the
 * chain against that CA (so the fuzzer walks the verifying path, not a
 * shortcut around it), and a server configuration. Both use a fixed clock
 * and a deterministic generator reseeded for every input, so a client's
 * ClientHello is the same on every run and a recorded server flight
 * replays: the seeds reach the deep states (Certificate, CertificateVerify,
 * Finished, application data) and mutations start from there.
 *
 * After every input the connection is freed; ASan's leak check catches a
 * buffer the engine forgot. Invariants checked on every input:
 *  - an error is sticky: once synack_tls_error() is set, it never changes
 *    and every later feed returns it;
 *  - memory held stays under a bound far above a handshake's needs
 *    (TLS_FUZZ_MEM_CAP) at every step;
 *  - output after an error is at most one alert record (7 bytes in
 *    plaintext, 5 + 2 + 1 + 16 under keys) beyond what was there. */
#ifndef SYNACK_FUZZ_TLS_WORLD_H
#define SYNACK_FUZZ_TLS_WORLD_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "fuzz_common.h"
#include "synack/tls.h"

#define TLS_FUZZ_MEM_CAP (512 * 1024)
#define TLS_FUZZ_TIME_MS 1800000000000ll /* 2027-01-15 */

struct tls_world {
	synack_tls_config *client, *server;
	synack_prng prng;
	char *ca_pem, *cert_pem, *key_pem;
};

static int64_t tls_world_clock(void *ctx)
{
	(void)ctx;
	return TLS_FUZZ_TIME_MS;
}

static void tls_world_certs(struct tls_world *w)
{
	struct crypto_pkey *cak = crypto_key_generate(CRYPTO_KEY_EC_P256);
	struct crypto_pkey *k = crypto_key_generate(CRYPTO_KEY_EC_P256);
	uint8_t *ca = NULL, *leaf = NULL;
	size_t calen = 0, leaflen = 0;
	int64_t from = TLS_FUZZ_TIME_MS / 1000 - 86400;
	REQUIRE(cak && k);
	REQUIRE(crypto_cert_make(cak, "fuzz CA", NULL, true, NULL, NULL, 0, from, 30, &ca, &calen) == 0);
	REQUIRE(crypto_cert_make(k, "localhost", "localhost", false, cak, ca, calen, from, 30, &leaf,
				 &leaflen) == 0);
	w->ca_pem = crypto_cert_pem(ca, calen);
	w->cert_pem = crypto_cert_pem(leaf, leaflen);
	w->key_pem = crypto_key_pem(k);
	REQUIRE(w->ca_pem && w->cert_pem && w->key_pem);
	free(ca);
	free(leaf);
	crypto_openssl.pkey_free(cak);
	crypto_openssl.pkey_free(k);
}

static void tls_world_init(struct tls_world *w)
{
	tls_world_certs(w);
	w->client = synack_tls_config_new(SYNACK_TLS_CLIENT);
	w->server = synack_tls_config_new(SYNACK_TLS_SERVER);
	REQUIRE(w->client && w->server);
	REQUIRE(synack_tls_config_load_ca_mem(w->client, w->ca_pem) == 0);
	REQUIRE(synack_tls_config_load_cert_mem(w->server, w->cert_pem, w->key_pem) == 0);
	REQUIRE(synack_tls_config_set_alpn(w->client, "h2,http/1.1") == 0);
	REQUIRE(synack_tls_config_set_alpn(w->server, "http/1.1") == 0);
	synack_tls_clock clock = {.unix_ms = tls_world_clock};
	synack_rng rng = {.fill = synack_prng_fill, .ctx = &w->prng};
	synack_tls_config *both[2] = {w->client, w->server};
	for (int i = 0; i < 2; i++) {
		synack_tls_config_set_clock(both[i], clock);
		synack_tls_config_set_rng(both[i], rng);
	}
}

/* Move everything t wants to send into out (or drop it when out is NULL). */
static size_t tls_world_drain(synack_tls *t, uint8_t *out, size_t cap)
{
	size_t n, total = 0;
	const uint8_t *p;
	while ((p = synack_tls_out_peek(t, &n)) && n) {
		size_t k = out && n > cap - total ? cap - total : n;
		if (out)
			memcpy(out + total, p, k);
		total += k;
		synack_tls_out_consume(t, n);
		if (out && total == cap)
			break;
	}
	return total;
}

/* Read and discard the application data t holds. */
static void tls_world_read(synack_tls *t)
{
	uint8_t buf[4096];
	while (synack_tls_read(t, buf, sizeof buf) > 0)
		;
}

/* Feed in[0..len) to t in pieces, checking the invariants after each. */
static void tls_world_feed(synack_tls *t, const uint8_t *in, size_t len, size_t piece)
{
	int err = synack_tls_error(t), zeros = 0;
	size_t off = 0;
	while (off < len) {
		size_t k = len - off < piece ? len - off : piece;
		ssize_t n = synack_tls_feed(t, in + off, k);
		REQUIRE(synack_tls_memory(t) < TLS_FUZZ_MEM_CAP);
		if (err) {
			REQUIRE(n == err && synack_tls_error(t) == err);
			break;
		}
		if (n < 0) {
			err = (int)n;
			REQUIRE(synack_tls_error(t) == err);
			continue; /* once more: the error must be sticky */
		}
		REQUIRE((size_t)n <= k);
		off += (size_t)n;
		tls_world_read(t);
		tls_world_drain(t, NULL, 0);
		/* no progress twice, with its application data read: stuck */
		zeros = n == 0 ? zeros + 1 : 0;
		REQUIRE(zeros < 2);
	}
	tls_world_drain(t, NULL, 0);
}

/* Run a whole handshake between a client and a server of this world,
 * recording what each sent (for seeds). Returns 0 when both finished. */
static int tls_world_handshake(struct tls_world *w, uint64_t seed, uint8_t *c2s, size_t *c2s_len,
			       uint8_t *s2c, size_t *s2c_len, synack_tls **client_out,
			       synack_tls **server_out)
{
	synack_prng_seed(&w->prng, seed);
	synack_tls *c = synack_tls_new(w->client, "localhost");
	synack_tls *s = synack_tls_new(w->server, NULL);
	REQUIRE(c && s);
	size_t cl = 0, sl = 0, cap_c = *c2s_len, cap_s = *s2c_len;
	uint8_t buf[32768];
	for (int round = 0; round < 16; round++) {
		size_t n = tls_world_drain(c, buf, sizeof buf);
		if (n && cl + n <= cap_c)
			memcpy(c2s + cl, buf, n), cl += n;
		if (n)
			REQUIRE(synack_tls_feed(s, buf, n) == (ssize_t)n);
		n = tls_world_drain(s, buf, sizeof buf);
		if (n && sl + n <= cap_s)
			memcpy(s2c + sl, buf, n), sl += n;
		if (n)
			REQUIRE(synack_tls_feed(c, buf, n) == (ssize_t)n);
		if (synack_tls_handshake_done(c) && synack_tls_handshake_done(s) && !n)
			break;
	}
	*c2s_len = cl;
	*s2c_len = sl;
	int ok = synack_tls_handshake_done(c) && synack_tls_handshake_done(s) ? 0 : -1;
	if (client_out)
		*client_out = c;
	else
		synack_tls_free(c);
	if (server_out)
		*server_out = s;
	else
		synack_tls_free(s);
	return ok;
}

#endif
