/* The TLS 1.2 server handshake (src/tls/server12.c) against libssl as the
 * client, in memory: libssl's memory BIOs on one side, synack_tls_feed /
 * out_peek / out_consume on the other.
 *
 * Implementation notes. Certificates are made once per run (a P-256 CA,
 * "localhost" leaves with P-256 and RSA-2048 keys) valid around the real
 * time, since libssl checks them against the system clock. libssl verifies
 * our chain against the CA and the host name. Negative cases read our
 * sticky error; the flipped-Finished case re-seals the client's Finished
 * under the client write key our server derived (tls12_open/tls12_seal),
 * so the record opens and only verify_data differs. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include "crypto/crypto.h"
#include "synack/tls.h"
#include "tls/hs.h"
#include "tls/hs12.h"
#include "unit.h"

static struct {
	bool made;
	char *ca, *cert[2], *key[2]; /* 0: P-256, 1: RSA-2048 */
} w;

static void world(void)
{
	if (w.made)
		return;
	w.made = true;
	int64_t from = (int64_t)time(NULL) - 86400;
	struct crypto_pkey *cak = crypto_key_generate(CRYPTO_KEY_EC_P256);
	uint8_t *ca = NULL;
	size_t calen = 0;
	CHECK(cak != NULL);
	CHECK_EQ(crypto_cert_make(cak, "test CA", NULL, true, NULL, NULL, 0, from, 30, &ca, &calen), 0);
	w.ca = crypto_cert_pem(ca, calen);
	const int types[2] = {CRYPTO_KEY_EC_P256, CRYPTO_KEY_RSA2048};
	for (int i = 0; i < 2; i++) {
		struct crypto_pkey *k = crypto_key_generate(types[i]);
		uint8_t *der = NULL;
		size_t len = 0;
		CHECK(k != NULL);
		CHECK_EQ(crypto_cert_make(k, "localhost", "localhost", false, cak, ca, calen, from, 30, &der,
					  &len),
			 0);
		w.cert[i] = crypto_cert_pem(der, len);
		w.key[i] = crypto_key_pem(k);
		free(der);
		crypto_openssl.pkey_free(k);
	}
	free(ca);
	crypto_openssl.pkey_free(cak);
}

struct pair {
	SSL_CTX *ctx;
	SSL *ssl;
	BIO *in, *out; /* libssl reads from in, writes to out */
	synack_tls_config *cfg;
	synack_tls *srv;
};

static void pair_open(struct pair *p, int rsa, int max_version, const char *ciphers, const char *groups)
{
	world();
	memset(p, 0, sizeof *p);
	p->cfg = synack_tls_config_new(SYNACK_TLS_SERVER);
	CHECK(p->cfg != NULL);
	CHECK_EQ(synack_tls_config_load_cert_mem(p->cfg, w.cert[rsa], w.key[rsa]), 0);
	CHECK_EQ(synack_tls_config_set_versions(p->cfg, SYNACK_TLS_VERSION_12, SYNACK_TLS_VERSION_13), 0);
	synack_tls_config_set_keylog(p->cfg, true);
	p->srv = synack_tls_new(p->cfg, NULL);
	CHECK(p->srv != NULL);
	synack_tls_trace_enable(p->srv, true);
	p->ctx = SSL_CTX_new(TLS_client_method());
	CHECK(p->ctx != NULL);
	SSL_CTX_set_max_proto_version(p->ctx, max_version);
	if (ciphers)
		CHECK_EQ(SSL_CTX_set_cipher_list(p->ctx, ciphers), 1);
	BIO *cb = BIO_new_mem_buf(w.ca, -1);
	X509 *ca = PEM_read_bio_X509(cb, NULL, NULL, NULL);
	CHECK(ca != NULL);
	CHECK_EQ(X509_STORE_add_cert(SSL_CTX_get_cert_store(p->ctx), ca), 1);
	X509_free(ca);
	BIO_free(cb);
	SSL_CTX_set_verify(p->ctx, SSL_VERIFY_PEER, NULL);
	p->ssl = SSL_new(p->ctx);
	CHECK(p->ssl != NULL);
	p->in = BIO_new(BIO_s_mem());
	p->out = BIO_new(BIO_s_mem());
	SSL_set_bio(p->ssl, p->in, p->out);
	SSL_set_connect_state(p->ssl);
	SSL_set_tlsext_host_name(p->ssl, "localhost");
	CHECK_EQ(SSL_set1_host(p->ssl, "localhost"), 1);
	if (groups)
		CHECK_EQ(SSL_set1_groups_list(p->ssl, groups), 1);
}

static void pair_close(struct pair *p)
{
	SSL_free(p->ssl);
	SSL_CTX_free(p->ctx);
	synack_tls_free(p->srv);
	synack_tls_config_free(p->cfg);
	ERR_clear_error();
}

static void feed_all(synack_tls *t, const uint8_t *b, size_t n)
{
	size_t off = 0;
	while (off < n) {
		ssize_t r = synack_tls_feed(t, b + off, n - off);
		if (r <= 0)
			break;
		off += (size_t)r;
	}
}

/* Bytes libssl wants to send, into buf (up to cap). */
static size_t client_out(struct pair *p, uint8_t *buf, size_t cap)
{
	int n = BIO_read(p->out, buf, (int)cap);
	return n > 0 ? (size_t)n : 0;
}

static size_t server_to_client(struct pair *p)
{
	size_t n, total = 0;
	const uint8_t *q;
	while ((q = synack_tls_out_peek(p->srv, &n)) && n) {
		BIO_write(p->in, q, (int)n);
		synack_tls_out_consume(p->srv, n);
		total += n;
	}
	return total;
}

/* Run both sides until nothing moves. */
static void pump(struct pair *p)
{
	static uint8_t buf[65536];
	for (int round = 0; round < 64; round++) {
		if (!SSL_is_init_finished(p->ssl))
			SSL_do_handshake(p->ssl);
		size_t n = client_out(p, buf, sizeof buf), moved = n;
		feed_all(p->srv, buf, n);
		moved += server_to_client(p);
		if (!moved)
			break;
	}
}

static bool trace_has(struct pair *p, const char *text)
{
	synack_tls_trace_entry e[64];
	size_t n = synack_tls_trace(p->srv, e, 64);
	bool found = false;
	for (size_t i = 0; i < n; i++)
		if (strstr(e[i].text, text))
			found = true;
	return found;
}

/* NSS key log: "CLIENT_RANDOM <client_random> <master_secret>", as libssl has them. */
static void check_keylog(struct pair *p)
{
	char log[1024], want[300];
	uint8_t cr[32], ms[48];
	size_t n = synack_tls_keylog(p->srv, log, sizeof log - 1);
	log[n] = 0;
	CHECK_EQ(SSL_get_client_random(p->ssl, cr, sizeof cr), 32);
	CHECK_EQ(SSL_SESSION_get_master_key(SSL_get_session(p->ssl), ms, sizeof ms), 48);
	int k = snprintf(want, sizeof want, "CLIENT_RANDOM ");
	for (int i = 0; i < 32; i++)
		k += snprintf(want + k, sizeof want - (size_t)k, "%02x", cr[i]);
	k += snprintf(want + k, sizeof want - (size_t)k, " ");
	for (int i = 0; i < 48; i++)
		k += snprintf(want + k, sizeof want - (size_t)k, "%02x", ms[i]);
	if (!strstr(log, want))
		unit_fail(__FILE__, __LINE__, "key log \"%s\" lacks \"%s\"", log, want);
}

static void handshake_and_data(int rsa, const char *cipher, uint16_t suite, const char *group, uint16_t gid)
{
	struct pair p;
	pair_open(&p, rsa, TLS1_2_VERSION, cipher, group);
	pump(&p);
	CHECK_EQ(synack_tls_error(p.srv), 0);
	CHECK(synack_tls_handshake_done(p.srv));
	CHECK(SSL_is_init_finished(p.ssl));
	if (!synack_tls_handshake_done(p.srv) || !SSL_is_init_finished(p.ssl)) {
		printf("%s %s: synack \"%s\"; libssl: ", cipher, group, synack_tls_error_detail(p.srv));
		ERR_print_errors_fp(stdout);
		printf("\n");
		pair_close(&p);
		return;
	}
	CHECK_EQ(SSL_version(p.ssl), TLS1_2_VERSION);
	CHECK_EQ(SSL_get_verify_result(p.ssl), X509_V_OK);
	CHECK_EQ(SSL_CIPHER_get_protocol_id(SSL_get_current_cipher(p.ssl)), suite);
	CHECK(SSL_get_extms_support(p.ssl) == 1);
	synack_tls_info info;
	CHECK_EQ(synack_tls_get_info(p.srv, &info), 0);
	CHECK_EQ(info.version, SYNACK_TLS_VERSION_12);
	CHECK_EQ(info.suite, suite);
	CHECK_EQ(info.group, gid);
	CHECK(info.sigscheme != 0);
	CHECK(strcmp(info.sni, "localhost") == 0);
	CHECK(trace_has(&p, "ServerHelloDone"));
	check_keylog(&p);
	/* client -> server */
	CHECK_EQ(SSL_write(p.ssl, "ping", 4), 4);
	pump(&p);
	char buf[16];
	CHECK_EQ(synack_tls_read(p.srv, buf, sizeof buf), 4);
	CHECK_MEM(buf, "ping", 4);
	/* server -> client */
	CHECK_EQ(synack_tls_write(p.srv, "pong!", 5), 5);
	pump(&p);
	CHECK_EQ(SSL_read(p.ssl, buf, sizeof buf), 5);
	CHECK_MEM(buf, "pong!", 5);
	/* close_notify both ways */
	CHECK_EQ(synack_tls_close(p.srv), 0);
	pump(&p);
	CHECK(SSL_read(p.ssl, buf, sizeof buf) <= 0);
	CHECK_EQ(SSL_get_error(p.ssl, 0), SSL_ERROR_ZERO_RETURN);
	SSL_shutdown(p.ssl);
	pump(&p);
	CHECK(synack_tls_events(p.srv) & SYNACK_TLS_EV_CLOSE_NOTIFY);
	CHECK_EQ(synack_tls_error(p.srv), 0);
	pair_close(&p);
}

static void all_groups(int rsa, const char *cipher, uint16_t suite)
{
	/* RFC 8422 §5.3: an ECDSA P-256 certificate needs P-256 in the list */
	handshake_and_data(rsa, cipher, suite, rsa ? "X25519" : "X25519:P-256", SYNACK_TLS_GROUP_X25519);
	handshake_and_data(rsa, cipher, suite, "P-256", SYNACK_TLS_GROUP_SECP256R1);
}

TEST(ecdhe_ecdsa_aes128_gcm)
{
	all_groups(0, "ECDHE-ECDSA-AES128-GCM-SHA256", 0xc02b);
}

TEST(ecdhe_ecdsa_aes256_gcm)
{
	all_groups(0, "ECDHE-ECDSA-AES256-GCM-SHA384", 0xc02c);
}

TEST(ecdhe_ecdsa_chacha20)
{
	all_groups(0, "ECDHE-ECDSA-CHACHA20-POLY1305", 0xcca9);
}

TEST(ecdhe_rsa_aes128_gcm)
{
	all_groups(1, "ECDHE-RSA-AES128-GCM-SHA256", 0xc02f);
}

TEST(ecdhe_rsa_aes256_gcm)
{
	all_groups(1, "ECDHE-RSA-AES256-GCM-SHA384", 0xc030);
}

TEST(ecdhe_rsa_chacha20)
{
	all_groups(1, "ECDHE-RSA-CHACHA20-POLY1305", 0xcca8);
}

/* A 1.3-capable client still gets 1.3 from a server that allows 1.2. */
TEST(tls13_client_still_gets_tls13)
{
	struct pair p;
	pair_open(&p, 0, TLS1_3_VERSION, NULL, NULL);
	pump(&p);
	CHECK(synack_tls_handshake_done(p.srv));
	CHECK_EQ(SSL_version(p.ssl), TLS1_3_VERSION);
	pair_close(&p);
}

/* A new server for p with versions min..max (0: the default). */
static void replace_server(struct pair *p, uint16_t min, uint16_t max)
{
	synack_tls_free(p->srv);
	synack_tls_config_free(p->cfg);
	p->cfg = synack_tls_config_new(SYNACK_TLS_SERVER);
	CHECK_EQ(synack_tls_config_load_cert_mem(p->cfg, w.cert[0], w.key[0]), 0);
	if (min)
		CHECK_EQ(synack_tls_config_set_versions(p->cfg, min, max), 0);
	p->srv = synack_tls_new(p->cfg, NULL);
}

TEST(config_versions)
{
	synack_tls_config *s = synack_tls_config_new(SYNACK_TLS_SERVER);
	synack_tls_config *c = synack_tls_config_new(SYNACK_TLS_CLIENT);
	CHECK_EQ(synack_tls_config_set_versions(s, SYNACK_TLS_VERSION_12, SYNACK_TLS_VERSION_12), 0);
	CHECK_EQ(synack_tls_config_set_versions(s, SYNACK_TLS_VERSION_13, SYNACK_TLS_VERSION_12), -EINVAL);
	CHECK_EQ(synack_tls_config_set_versions(s, 0x0302, SYNACK_TLS_VERSION_13), -EINVAL);
	CHECK_EQ(synack_tls_config_set_versions(c, SYNACK_TLS_VERSION_12, SYNACK_TLS_VERSION_12), 0);
	CHECK_EQ(synack_tls_config_set_versions(c, SYNACK_TLS_VERSION_12, SYNACK_TLS_VERSION_13), 0);
	CHECK_EQ(synack_tls_config_set_versions(c, SYNACK_TLS_VERSION_13, 0x0305), -EINVAL);
	synack_tls_config_free(s);
	synack_tls_config_free(c);
}

/* A server whose max is 1.2 gives a 1.3-capable client 1.2, without the
 * downgrade sentinel (libssl would refuse one). */
TEST(max12_server_and_tls13_client)
{
	struct pair p;
	pair_open(&p, 0, TLS1_3_VERSION, NULL, NULL);
	replace_server(&p, SYNACK_TLS_VERSION_12, SYNACK_TLS_VERSION_12);
	pump(&p);
	CHECK_EQ(synack_tls_error(p.srv), 0);
	CHECK(SSL_is_init_finished(p.ssl));
	CHECK_EQ(SSL_version(p.ssl), TLS1_2_VERSION);
	pair_close(&p);
}

/* The default configuration stays 1.3 only: a 1.2 client is refused. */
TEST(default_config_speaks_tls12_and_13_refuses_tls13_only)
{
	struct pair p;
	pair_open(&p, 0, TLS1_2_VERSION, NULL, NULL);
	replace_server(&p, 0, 0); /* the default: 1.2 and 1.3 */
	pump(&p);
	CHECK(synack_tls_handshake_done(p.srv) && !synack_tls_error(p.srv));
	synack_tls_info si;
	synack_tls_get_info(p.srv, &si);
	CHECK_EQ(si.version, SYNACK_TLS_VERSION_12);
	pair_close(&p);
	pair_open(&p, 0, TLS1_2_VERSION, NULL, NULL);
	replace_server(&p, SYNACK_TLS_VERSION_13, SYNACK_TLS_VERSION_13);
	pump(&p);
	CHECK_EQ(synack_tls_error(p.srv), SYNACK_TLS_ERR_SENT(SYNACK_TLS_ALERT_PROTOCOL_VERSION));
	pair_close(&p);
}

static void expect_failure(struct pair *p, int alert, const char *detail)
{
	pump(p);
	CHECK_EQ(synack_tls_error(p->srv), SYNACK_TLS_ERR_SENT(alert));
	CHECK(!SSL_is_init_finished(p->ssl));
	const char *d = synack_tls_error_detail(p->srv);
	if (!strstr(d, detail))
		unit_fail(__FILE__, __LINE__, "detail \"%s\" lacks \"%s\"", d, detail);
}

TEST(client_without_ems_is_refused)
{
#ifdef SSL_OP_NO_EXTENDED_MASTER_SECRET
	struct pair p;
	pair_open(&p, 0, TLS1_2_VERSION, NULL, NULL);
	SSL_set_options(p.ssl, SSL_OP_NO_EXTENDED_MASTER_SECRET);
	expect_failure(&p, SYNACK_TLS_ALERT_HANDSHAKE_FAILURE, "extended_master_secret");
	pair_close(&p);
#else
	printf("client_without_ems_is_refused: skipped, libssl has no SSL_OP_NO_EXTENDED_MASTER_SECRET\n");
#endif
}

TEST(ecdsa_cert_curve_not_in_client_groups)
{
	struct pair p;
	pair_open(&p, 0, TLS1_2_VERSION, NULL, "X25519");
	expect_failure(&p, SYNACK_TLS_ALERT_HANDSHAKE_FAILURE, "supported_groups");
	pair_close(&p);
}

TEST(cbc_only_client_is_refused)
{
	struct pair p;
	pair_open(&p, 0, TLS1_2_VERSION, "ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA384", NULL);
	expect_failure(&p, SYNACK_TLS_ALERT_HANDSHAKE_FAILURE, "CBC");
	pair_close(&p);
}

TEST(fallback_scsv_is_inappropriate)
{
	struct pair p;
	pair_open(&p, 0, TLS1_2_VERSION, NULL, NULL);
	SSL_set_mode(p.ssl, SSL_MODE_SEND_FALLBACK_SCSV);
	expect_failure(&p, SYNACK_TLS_ALERT_INAPPROPRIATE_FALLBACK, "FALLBACK");
	pair_close(&p);
}

/* RFC 8446 §4.1.3: a server whose max is 1.3 marks a 1.2 ServerHello. */
TEST(downgrade_sentinel_in_server_hello)
{
	static const uint8_t sentinel[8] = {0x44, 0x4f, 0x57, 0x4e, 0x47, 0x52, 0x44, 0x01};
	struct pair p;
	uint8_t buf[4096];
	size_t n, len;
	pair_open(&p, 0, TLS1_2_VERSION, NULL, NULL);
	SSL_do_handshake(p.ssl);
	n = client_out(&p, buf, sizeof buf);
	feed_all(p.srv, buf, n);
	const uint8_t *q = synack_tls_out_peek(p.srv, &len);
	CHECK(q && len > 5 + 4 + 2 + 32);
	CHECK_EQ(q[0], TLS_CT_HANDSHAKE);
	CHECK_EQ(q[5], TLS_HS_SERVER_HELLO);
	CHECK_EQ(q[9] << 8 | q[10], 0x0303);
	CHECK_MEM(q + 11 + 24, sentinel, 8);
	CHECK(trace_has(&p, "ServerKeyExchange x25519 ecdsa_secp256r1_sha256"));
	pair_close(&p);
}

/* RFC 5246 §7.1: a ChangeCipherSpec before ClientKeyExchange (EarlyCCS). */
TEST(early_ccs_is_unexpected)
{
	static const uint8_t ccs[6] = {20, 3, 3, 0, 1, 1};
	struct pair p;
	uint8_t buf[4096];
	pair_open(&p, 0, TLS1_2_VERSION, NULL, NULL);
	SSL_do_handshake(p.ssl);
	feed_all(p.srv, buf, client_out(&p, buf, sizeof buf));
	server_to_client(&p);
	CHECK_EQ(synack_tls_error(p.srv), 0);
	feed_all(p.srv, ccs, sizeof ccs);
	CHECK_EQ(synack_tls_error(p.srv), SYNACK_TLS_ERR_SENT(SYNACK_TLS_ALERT_UNEXPECTED_MESSAGE));
	pair_close(&p);
}

/* The client's last flight split into its records. */
static size_t next_record(const uint8_t *b, size_t n, size_t off)
{
	return off + 5 <= n ? off + 5 + (size_t)(b[off + 3] << 8 | b[off + 4]) : n + 1;
}

/* §7.4.9: a Finished whose verify_data differs (and whose record opens). */
TEST(flipped_finished_is_decrypt_error)
{
	struct pair p;
	uint8_t buf[4096], plain[256], rec[512];
	pair_open(&p, 0, TLS1_2_VERSION, "ECDHE-ECDSA-AES128-GCM-SHA256", NULL);
	SSL_do_handshake(p.ssl);
	feed_all(p.srv, buf, client_out(&p, buf, sizeof buf));
	server_to_client(&p);
	SSL_do_handshake(p.ssl); /* CKE, CCS, Finished */
	size_t n = client_out(&p, buf, sizeof buf), a = next_record(buf, n, 0), b = next_record(buf, n, a);
	CHECK(b < n && buf[a] == TLS_CT_CHANGE_CIPHER_SPEC && next_record(buf, n, b) == n);
	feed_all(p.srv, buf, b); /* ClientKeyExchange and ChangeCipherSpec */
	CHECK_EQ(synack_tls_error(p.srv), 0);
	const struct tls12_key_block *kb = &p.srv->hs->kb12;
	const struct crypto_ops *c = &crypto_openssl;
	struct crypto_aead *rd = c->aead_new(CRYPTO_AES_128_GCM, kb->client_key, false);
	struct crypto_aead *wr = c->aead_new(CRYPTO_AES_128_GCM, kb->client_key, true);
	int pl = tls12_open(c, rd, CRYPTO_AES_128_GCM, kb->client_iv, 0, TLS_CT_HANDSHAKE, 0x0303,
			    buf + b + 5, n - b - 5, plain, sizeof plain);
	CHECK_EQ(pl, 16);
	CHECK_EQ(plain[0], TLS_HS_FINISHED);
	plain[4 + 5] ^= 0x01;
	int rl = tls12_seal(c, wr, CRYPTO_AES_128_GCM, kb->client_iv, 0, TLS_CT_HANDSHAKE, 0x0303, plain, 16,
			    rec + 5, sizeof rec - 5);
	CHECK(rl > 0);
	memcpy(rec, buf + b, 3);
	rec[3] = (uint8_t)(rl >> 8);
	rec[4] = (uint8_t)rl;
	feed_all(p.srv, rec, 5 + (size_t)rl);
	CHECK_EQ(synack_tls_error(p.srv), SYNACK_TLS_ERR_SENT(SYNACK_TLS_ALERT_DECRYPT_ERROR));
	c->aead_free(rd);
	c->aead_free(wr);
	pair_close(&p);
}
