/* What the in-memory TLS handshake tests share (test_tls_hs.c,
 * test_tls12_client.c): certificates made once per run under a fixed clock
 * (a CA and "localhost" leaves with ECDSA P-256, P-384, RSA-2048 and
 * Ed25519 keys, plus an expired leaf, a leaf for another name, a leaf of an
 * untrusted CA and a client leaf), deterministic configurations, and a
 * client/server pair joined through the public API (move, pump, exchange).
 * Static functions in a header: each test binary includes it once. */
#ifndef SYNACK_TESTS_TLS_PAIR_H
#define SYNACK_TESTS_TLS_PAIR_H

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "synack/tls.h"
#include "unit.h"

#define NOW_MS 1800000000000ll

static int64_t clock_ms = NOW_MS;
static int64_t fixed_clock(void *ctx)
{
	(void)ctx;
	return clock_ms;
}

static synack_prng prng;

enum { K_P256, K_P384, K_RSA, K_ED25519, K_EXPIRED, K_OTHER_NAME, K_UNTRUSTED, K_CLIENT, K_COUNT };
struct pem {
	char *cert, *key;
};
static struct {
	bool made;
	char *ca, *ca2;
	struct pem leaf[K_COUNT];
} w;

static void make_leaf(struct pem *p, int type, const char *cn, const struct crypto_pkey *cak,
		      const uint8_t *ca, size_t calen, int64_t from, int days)
{
	struct crypto_pkey *k = crypto_key_generate(type);
	uint8_t *der = NULL;
	size_t len = 0;
	CHECK(k != NULL);
	CHECK_EQ(crypto_cert_make(k, cn, cn, false, cak, ca, calen, from, days, &der, &len), 0);
	p->cert = crypto_cert_pem(der, len);
	p->key = crypto_key_pem(k);
	free(der);
	crypto_openssl.pkey_free(k);
}

static void world(void)
{
	if (w.made)
		return;
	w.made = true;
	synack_prng_seed(&prng, 8446);
	int64_t from = NOW_MS / 1000 - 86400;
	struct crypto_pkey *cak = crypto_key_generate(CRYPTO_KEY_EC_P256);
	struct crypto_pkey *cak2 = crypto_key_generate(CRYPTO_KEY_EC_P256);
	uint8_t *ca = NULL, *ca2 = NULL;
	size_t calen = 0, ca2len = 0;
	CHECK_EQ(crypto_cert_make(cak, "test CA", NULL, true, NULL, NULL, 0, from, 365, &ca, &calen), 0);
	CHECK_EQ(crypto_cert_make(cak2, "other CA", NULL, true, NULL, NULL, 0, from, 365, &ca2, &ca2len), 0);
	w.ca = crypto_cert_pem(ca, calen);
	w.ca2 = crypto_cert_pem(ca2, ca2len);
	make_leaf(&w.leaf[K_P256], CRYPTO_KEY_EC_P256, "localhost", cak, ca, calen, from, 30);
	make_leaf(&w.leaf[K_P384], CRYPTO_KEY_EC_P384, "localhost", cak, ca, calen, from, 30);
	make_leaf(&w.leaf[K_RSA], CRYPTO_KEY_RSA2048, "localhost", cak, ca, calen, from, 30);
	make_leaf(&w.leaf[K_ED25519], CRYPTO_KEY_ED25519, "localhost", cak, ca, calen, from, 30);
	make_leaf(&w.leaf[K_EXPIRED], CRYPTO_KEY_EC_P256, "localhost", cak, ca, calen, from - 86400 * 10, 2);
	make_leaf(&w.leaf[K_OTHER_NAME], CRYPTO_KEY_EC_P256, "other.example", cak, ca, calen, from, 30);
	make_leaf(&w.leaf[K_UNTRUSTED], CRYPTO_KEY_EC_P256, "localhost", cak2, ca2, ca2len, from, 30);
	make_leaf(&w.leaf[K_CLIENT], CRYPTO_KEY_EC_P256, "client", cak, ca, calen, from, 30);
	free(ca);
	free(ca2);
	crypto_openssl.pkey_free(cak);
	crypto_openssl.pkey_free(cak2);
}

static void det(synack_tls_config *c)
{
	synack_tls_config_set_clock(c, (synack_tls_clock){.unix_ms = fixed_clock});
	synack_tls_config_set_rng(c, (synack_rng){.fill = synack_prng_fill, .ctx = &prng});
}

static synack_tls_config *server_cfg(int leaf)
{
	world();
	synack_tls_config *c = synack_tls_config_new(SYNACK_TLS_SERVER);
	CHECK(c != NULL);
	CHECK_EQ(synack_tls_config_load_cert_mem(c, w.leaf[leaf].cert, w.leaf[leaf].key), 0);
	det(c);
	return c;
}

static synack_tls_config *client_cfg(void)
{
	world();
	synack_tls_config *c = synack_tls_config_new(SYNACK_TLS_CLIENT);
	CHECK(c != NULL);
	CHECK_EQ(synack_tls_config_load_ca_mem(c, w.ca), 0);
	det(c);
	return c;
}

/* Move what from wants to send into to, piece bytes per feed. */
static size_t move(synack_tls *from, synack_tls *to, size_t piece)
{
	size_t n, total = 0;
	const uint8_t *p;
	while ((p = synack_tls_out_peek(from, &n)) && n) {
		size_t off = 0;
		while (off < n) {
			size_t k = n - off < piece ? n - off : piece;
			ssize_t r = synack_tls_feed(to, p + off, k);
			if (r < 0)
				off = n; /* the receiver failed: drop the rest */
			if (r <= 0)
				break; /* or it holds unread data: keep the rest */
			off += (size_t)r;
		}
		synack_tls_out_consume(from, off);
		total += off;
		if (off < n)
			break;
	}
	return total;
}

static void pump_piece(synack_tls *c, synack_tls *s, size_t piece)
{
	for (int i = 0; i < 64; i++) {
		size_t a = move(c, s, piece);
		size_t b = move(s, c, piece);
		if (!a && !b)
			break;
	}
}

static void pump(synack_tls *c, synack_tls *s)
{
	pump_piece(c, s, 1 << 20);
}

/* Data both ways after the handshake. */
static bool exchange(synack_tls *c, synack_tls *s)
{
	char buf[64];
	bool ok = synack_tls_write(c, "ping", 4) == 4;
	pump(c, s);
	ok = ok && synack_tls_read(s, buf, sizeof buf) == 4 && !memcmp(buf, "ping", 4);
	ok = ok && synack_tls_write(s, "pong!", 5) == 5;
	pump(c, s);
	ok = ok && synack_tls_read(c, buf, sizeof buf) == 5 && !memcmp(buf, "pong!", 5);
	return ok;
}

struct pair {
	synack_tls_config *cc, *sc;
	synack_tls *c, *s;
};

static void pair_open(struct pair *p, const char *name)
{
	p->c = synack_tls_new(p->cc, name);
	p->s = synack_tls_new(p->sc, NULL);
	CHECK(p->c && p->s);
}

static void pair_free(struct pair *p)
{
	synack_tls_free(p->c);
	synack_tls_free(p->s);
	synack_tls_config_free(p->cc);
	synack_tls_config_free(p->sc);
}

static bool both_done(struct pair *p)
{
	return synack_tls_handshake_done(p->c) && synack_tls_handshake_done(p->s) &&
	       !synack_tls_error(p->c) && !synack_tls_error(p->s);
}

#endif
