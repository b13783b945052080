/* The demo's TLS layer (see demo_tls.h).
 *
 * Implementation notes
 *
 * Flow control is the engine's: its output is offered to synack_tcp_send
 * with synack_tls_out_peek and consumed only as far as TCP took it, so a
 * full send buffer keeps the rest inside the engine, and
 * synack_tls_write accepts less once that output is large. On the
 * receive side one TCP read's worth of bytes is kept here until the engine
 * has consumed it: synack_tls_feed stops early while a decrypted record
 * waits to be read, and demo_tls_recv feeds the rest after each read.
 *
 * The clock the engines see is a fixed date (1 December 2026) plus the
 * virtual time, so certificate validity is checked against a time that is
 * the same on every run. */
#include "demo_tls.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"

#define DEMO_EPOCH_MS 1796083200000ll /* 2026-12-01 00:00:00 UTC */

struct demo_tls_world {
	synack_tls_config *cfg[2]; /* [server] */
	synack_prng prng;
	const synack_time_t *now;
	char subject[128];
};

static int64_t world_clock(void *ctx)
{
	const struct demo_tls_world *w = ctx;
	return DEMO_EPOCH_MS + *w->now / 1000;
}

/* A CA and a server certificate for DEMO_TLS_SERVER_NAME, Ed25519, made in
 * memory for this run: PEM text for the configurations. */
static int make_certs(struct demo_tls_world *w, char **ca, char **cert, char **key, char *why, size_t cap)
{
	struct crypto_pkey *cak = crypto_key_generate(CRYPTO_KEY_ED25519);
	struct crypto_pkey *k = crypto_key_generate(CRYPTO_KEY_ED25519);
	uint8_t *cader = NULL, *der = NULL;
	size_t calen = 0, len = 0;
	int64_t from = DEMO_EPOCH_MS / 1000 - 86400;
	int err = -ENOMEM;
	if (cak && k)
		err = crypto_cert_make(cak, "synack demo CA", NULL, true, NULL, NULL, 0, from, 30, &cader,
				       &calen);
	if (!err)
		err = crypto_cert_make(k, DEMO_TLS_SERVER_NAME, DEMO_TLS_SERVER_NAME ",10.0.0.2", false, cak,
				       cader, calen, from, 30, &der, &len);
	if (!err) {
		*ca = crypto_cert_pem(cader, calen);
		*cert = crypto_cert_pem(der, len);
		*key = crypto_key_pem(k);
		crypto_openssl.cert_subject(der, len, w->subject, sizeof w->subject);
		err = *ca && *cert && *key ? 0 : -ENOMEM;
	}
	if (err)
		snprintf(why, cap, "cannot make the demo's certificates: %s", strerror(-err));
	free(cader);
	free(der);
	if (cak)
		crypto_openssl.pkey_free(cak);
	if (k)
		crypto_openssl.pkey_free(k);
	return err;
}

static int configure(struct demo_tls_world *w, uint16_t version, const char *ca, const char *cert,
		     const char *key, char *why, size_t cap)
{
	synack_tls_clock clock = {.unix_ms = world_clock, .ctx = w};
	synack_rng rng = {.fill = synack_prng_fill, .ctx = &w->prng};
	for (int server = 0; server < 2; server++) {
		synack_tls_config *c = synack_tls_config_new(server ? SYNACK_TLS_SERVER : SYNACK_TLS_CLIENT);
		w->cfg[server] = c;
		if (!c)
			return snprintf(why, cap, "out of memory"), -ENOMEM;
		synack_tls_config_set_clock(c, clock);
		synack_tls_config_set_rng(c, rng);
		synack_tls_config_set_keylog(c, true);
		int err = server ? synack_tls_config_load_cert_mem(c, cert, key)
				 : synack_tls_config_load_ca_mem(c, ca);
		if (!err)
			err = synack_tls_config_set_alpn(c, "http/1.1");
		if (!err)
			err = synack_tls_config_set_versions(c, version, version);
		if (server && version == SYNACK_TLS_VERSION_12) /* exactly the seed's flow: no ticket */
			synack_tls_config_set_tickets(c, 0, 0, 0);
		if (err)
			return snprintf(why, cap, "TLS set-up: %s", synack_tls_config_error(c)), err;
	}
	return 0;
}

struct demo_tls_world *demo_tls_world_new(uint64_t seed, uint16_t version, const synack_time_t *now,
					  char *why, size_t why_cap)
{
	struct demo_tls_world *w = calloc(1, sizeof *w);
	char *ca = NULL, *cert = NULL, *key = NULL;
	if (!w)
		return snprintf(why, why_cap, "out of memory"), NULL;
	w->now = now;
	synack_prng_seed(&w->prng, seed ^ 0x544c53u); /* "TLS": not the stacks' stream */
	int err = make_certs(w, &ca, &cert, &key, why, why_cap);
	if (!err)
		err = configure(w, version, ca, cert, key, why, why_cap);
	free(ca);
	free(cert);
	free(key);
	if (err) {
		demo_tls_world_free(w);
		return NULL;
	}
	return w;
}

void demo_tls_world_free(struct demo_tls_world *w)
{
	if (!w)
		return;
	synack_tls_config_free(w->cfg[0]);
	synack_tls_config_free(w->cfg[1]);
	free(w);
}

const char *demo_tls_world_subject(const struct demo_tls_world *w)
{
	return w->subject;
}

int demo_tls_start(struct demo_tls *e, struct demo_tls_world *w, bool server, synack_tcp *conn)
{
	memset(e, 0, sizeof *e);
	e->conn = conn;
	e->tls = synack_tls_new(w->cfg[server], server ? NULL : DEMO_TLS_SERVER_NAME);
	if (!e->tls)
		return -ENOMEM;
	synack_tls_trace_enable(e->tls, true);
	return 0;
}

void demo_tls_end(struct demo_tls *e)
{
	synack_tls_free(e->tls);
	e->tls = NULL;
}

void demo_tls_flush(struct demo_tls *e)
{
	const uint8_t *p;
	size_t n;
	while (e->conn && (p = synack_tls_out_peek(e->tls, &n)) && n) {
		ssize_t k = synack_tcp_send(e->conn, p, n);
		if (k <= 0)
			return;
		synack_tls_out_consume(e->tls, (size_t)k);
	}
}

/* TCP's received bytes into the engine until it stops taking them. */
static void feed(struct demo_tls *e)
{
	while (e->conn && !synack_tls_error(e->tls)) {
		if (e->in_off == e->in_len) {
			ssize_t n = synack_tcp_recv(e->conn, e->in, sizeof e->in);
			e->tcp_eof |= n == 0;
			if (n <= 0)
				return;
			e->in_len = (size_t)n;
			e->in_off = 0;
		}
		ssize_t k = synack_tls_feed(e->tls, e->in + e->in_off, e->in_len - e->in_off);
		if (k <= 0)
			return; /* an error, or a record waiting to be read */
		e->in_off += (size_t)k;
	}
}

int demo_tls_feed(struct demo_tls *e)
{
	feed(e);
	return synack_tls_error(e->tls);
}

ssize_t demo_tls_recv(struct demo_tls *e, void *buf, size_t len)
{
	for (int round = 0; round < 2; round++) {
		ssize_t n = synack_tls_read(e->tls, buf, len);
		if (n != -EAGAIN)
			return n;
		feed(e);
	}
	ssize_t n = synack_tls_read(e->tls, buf, len);
	if (n == -EAGAIN && e->tcp_eof && e->in_off == e->in_len)
		return -EPIPE; /* FIN without close_notify */
	return n;
}

ssize_t demo_tls_send(struct demo_tls *e, const void *buf, size_t len)
{
	ssize_t n = synack_tls_write(e->tls, buf, len);
	return n == 0 ? -EAGAIN : n;
}

void demo_tls_close(struct demo_tls *e)
{
	synack_tls_close(e->tls);
}

/* RFC 8446 §6.1: data after the peer's close_notify is ignored; what is
 * left is TCP's FIN. */
bool demo_tls_tcp_eof(struct demo_tls *e)
{
	while (e->conn && !e->tcp_eof) {
		ssize_t n = synack_tcp_recv(e->conn, e->in, sizeof e->in);
		e->tcp_eof |= n == 0;
		if (n < 0)
			break;
	}
	e->in_off = e->in_len = 0;
	return e->tcp_eof;
}

void demo_tls_keylog(struct demo_tls *e, FILE *f)
{
	char buf[4096];
	size_t n;
	while ((n = synack_tls_keylog(e->tls, buf, sizeof buf)) > 0)
		if (f)
			fwrite(buf, 1, n, f);
}
