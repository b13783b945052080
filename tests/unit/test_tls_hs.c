/* TLS 1.3 handshakes (src/tls/client.c, server.c, ext.c, hs_*.c): a client
 * and a server connected in memory through the public API, and a client
 * fed crafted plaintext records.
 *
 * Implementation notes. Certificates are made once per run with
 * crypto_cert_make under a fixed clock (a CA and "localhost" leaves with
 * ECDSA P-256, P-384, RSA-2048 and Ed25519 keys, plus an expired leaf, a
 * leaf for another name, a leaf of an untrusted CA and a client leaf).
 * Negative tests check the sticky error (SYNACK_TLS_ERR_SENT(alert)) and,
 * where the alert leaves in plaintext, the alert record itself. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "synack/tls.h"
#include "tls/tls_internal.h"
#include "tls_pair.h"
#include "unit.h"

/* ---- full handshakes ---- */

static void one_handshake(int leaf, uint16_t suite, uint16_t group, uint16_t scheme)
{
	struct pair p = {client_cfg(), server_cfg(leaf), NULL, NULL};
	CHECK_EQ(synack_tls_config_set_suites(p.cc, &suite, 1), 0);
	CHECK_EQ(synack_tls_config_set_groups(p.cc, &group, 1), 0);
	if (scheme)
		CHECK_EQ(synack_tls_config_set_sigschemes(p.cc, &scheme, 1), 0);
	static const uint16_t all[] = {SYNACK_TLS_GROUP_X25519, SYNACK_TLS_GROUP_SECP256R1,
				       SYNACK_TLS_GROUP_SECP384R1};
	CHECK_EQ(synack_tls_config_set_groups(p.sc, all, 3), 0);
	pair_open(&p, "localhost");
	pump(p.c, p.s);
	CHECK(both_done(&p));
	if (!both_done(&p))
		fprintf(stderr, "leaf %d suite %04x group %04x: client %s / server %s\n", leaf, suite, group,
			synack_tls_error_detail(p.c), synack_tls_error_detail(p.s));
	synack_tls_info ci, si;
	synack_tls_get_info(p.c, &ci);
	synack_tls_get_info(p.s, &si);
	CHECK_EQ(ci.suite, suite);
	CHECK_EQ(si.suite, suite);
	CHECK_EQ(ci.group, group);
	CHECK_EQ(si.group, group);
	CHECK_EQ(ci.version, SYNACK_TLS_VERSION_13);
	CHECK(ci.peer_verified);
	CHECK(!ci.resumed && !ci.hrr);
	if (scheme)
		CHECK_EQ(ci.sigscheme, scheme);
	CHECK(strstr(ci.peer_subject, "localhost") != NULL);
	CHECK(!strcmp(si.sni, "localhost"));
	CHECK(exchange(p.c, p.s));
	pair_free(&p);
}

TEST(tls_hs_every_suite_group_key)
{
	static const uint16_t suites[] = {SYNACK_TLS_AES_128_GCM_SHA256, SYNACK_TLS_AES_256_GCM_SHA384,
					  SYNACK_TLS_CHACHA20_POLY1305_SHA256};
	static const uint16_t groups[] = {SYNACK_TLS_GROUP_X25519, SYNACK_TLS_GROUP_SECP256R1};
	static const struct {
		int leaf;
		uint16_t scheme;
	} keys[] = {{K_P256, CRYPTO_ECDSA_SECP256R1_SHA256},
		    {K_P384, CRYPTO_ECDSA_SECP384R1_SHA384},
		    {K_RSA, CRYPTO_RSA_PSS_RSAE_SHA256},
		    {K_ED25519, CRYPTO_ED25519}};
	for (size_t i = 0; i < 3; i++)
		for (size_t j = 0; j < 2; j++)
			for (size_t k = 0; k < 4; k++)
				one_handshake(keys[k].leaf, suites[i], groups[j], keys[k].scheme);
}

TEST(tls_hs_rsa_pss_schemes)
{
	one_handshake(K_RSA, SYNACK_TLS_AES_128_GCM_SHA256, SYNACK_TLS_GROUP_X25519,
		      CRYPTO_RSA_PSS_RSAE_SHA384);
	one_handshake(K_RSA, SYNACK_TLS_AES_128_GCM_SHA256, SYNACK_TLS_GROUP_X25519,
		      CRYPTO_RSA_PSS_RSAE_SHA512);
	one_handshake(K_P256, SYNACK_TLS_AES_256_GCM_SHA384, SYNACK_TLS_GROUP_SECP384R1, 0);
}

TEST(tls_hs_byte_at_a_time)
{
	struct pair p = {client_cfg(), server_cfg(K_P256), NULL, NULL};
	pair_open(&p, "localhost");
	pump_piece(p.c, p.s, 1);
	CHECK(both_done(&p));
	CHECK(exchange(p.c, p.s));
	pair_free(&p);
}

TEST(tls_hs_trace_and_keylog)
{
	struct pair p = {client_cfg(), server_cfg(K_P256), NULL, NULL};
	synack_tls_config_set_keylog(p.cc, true);
	CHECK_EQ(synack_tls_config_set_alpn(p.cc, "h2"), 0);
	pair_open(&p, "localhost");
	synack_tls_trace_enable(p.c, true);
	pump(p.c, p.s);
	CHECK(both_done(&p));
	synack_tls_trace_entry e[64];
	size_t n = synack_tls_trace(p.c, e, 64);
	bool ch = false, sh = false, cert = false, cv = false, fin = false;
	for (size_t i = 0; i < n; i++) {
		ch |= e[i].sent &&
		      !strncmp(e[i].text,
			       "ClientHello versions=TLSv1.3,TLSv1.2 suites=TLS_AES_128_GCM_SHA256", 66) &&
		      strstr(e[i].text, "sni=localhost");
		sh |=
		    !e[i].sent && strstr(e[i].text, "ServerHello suite=TLS_AES_128_GCM_SHA256 group=x25519");
		cert |= !e[i].sent && strstr(e[i].text, "Certificate") && strstr(e[i].text, "localhost");
		cv |= !e[i].sent && !strcmp(e[i].text, "CertificateVerify ecdsa_secp256r1_sha256");
		fin |= e[i].sent && !strcmp(e[i].text, "Finished");
	}
	CHECK(ch && sh && cert && cv && fin);
	char log[4096];
	size_t k = synack_tls_keylog(p.c, log, sizeof log - 1);
	log[k] = 0;
	CHECK(strstr(log, "CLIENT_HANDSHAKE_TRAFFIC_SECRET ") != NULL);
	CHECK(strstr(log, "SERVER_HANDSHAKE_TRAFFIC_SECRET ") != NULL);
	CHECK(strstr(log, "CLIENT_TRAFFIC_SECRET_0 ") != NULL);
	CHECK(strstr(log, "SERVER_TRAFFIC_SECRET_0 ") != NULL);
	CHECK(strstr(log, "EXPORTER_SECRET ") != NULL);
	pair_free(&p);
}

/* §4.1.4: the client's only share is for a group the server does not take. */
TEST(tls_hs_hello_retry_request)
{
	struct pair p = {client_cfg(), server_cfg(K_P256), NULL, NULL};
	uint16_t cg[] = {SYNACK_TLS_GROUP_SECP256R1, SYNACK_TLS_GROUP_X25519}, sg = SYNACK_TLS_GROUP_X25519;
	CHECK_EQ(synack_tls_config_set_groups(p.cc, cg, 2), 0);
	CHECK_EQ(synack_tls_config_set_groups(p.sc, &sg, 1), 0);
	pair_open(&p, "localhost");
	pump(p.c, p.s);
	CHECK(both_done(&p));
	synack_tls_info ci, si;
	synack_tls_get_info(p.c, &ci);
	synack_tls_get_info(p.s, &si);
	CHECK(ci.hrr && si.hrr);
	CHECK_EQ(ci.group, SYNACK_TLS_GROUP_X25519);
	CHECK(exchange(p.c, p.s));
	pair_free(&p);
}

TEST(tls_hs_no_common_group)
{
	struct pair p = {client_cfg(), server_cfg(K_P256), NULL, NULL};
	uint16_t cg = SYNACK_TLS_GROUP_SECP256R1, sg = SYNACK_TLS_GROUP_X25519;
	CHECK_EQ(synack_tls_config_set_groups(p.cc, &cg, 1), 0);
	CHECK_EQ(synack_tls_config_set_groups(p.sc, &sg, 1), 0);
	pair_open(&p, "localhost");
	pump(p.c, p.s);
	CHECK_EQ(synack_tls_error(p.s), SYNACK_TLS_ERR_SENT(SYNACK_TLS_ALERT_HANDSHAKE_FAILURE));
	CHECK_EQ(synack_tls_error(p.c), SYNACK_TLS_ERR_RECEIVED(SYNACK_TLS_ALERT_HANDSHAKE_FAILURE));
	pair_free(&p);
}

TEST(tls_hs_alpn_and_sni)
{
	struct pair p = {client_cfg(), server_cfg(K_P256), NULL, NULL};
	CHECK_EQ(synack_tls_config_set_alpn(p.cc, "h2,http/1.1"), 0);
	CHECK_EQ(synack_tls_config_set_alpn(p.sc, "http/1.1,h2"), 0);
	pair_open(&p, "localhost");
	pump(p.c, p.s);
	CHECK(both_done(&p));
	synack_tls_info ci, si;
	synack_tls_get_info(p.c, &ci);
	synack_tls_get_info(p.s, &si);
	CHECK(!strcmp(ci.alpn, "http/1.1"));
	CHECK(!strcmp(si.alpn, "http/1.1"));
	CHECK(!strcmp(ci.sni, "localhost"));
	CHECK(!strcmp(si.sni, "localhost"));
	pair_free(&p);
}

TEST(tls_hs_alpn_mismatch)
{
	struct pair p = {client_cfg(), server_cfg(K_P256), NULL, NULL};
	CHECK_EQ(synack_tls_config_set_alpn(p.cc, "h2"), 0);
	CHECK_EQ(synack_tls_config_set_alpn(p.sc, "http/1.1"), 0);
	pair_open(&p, "localhost");
	pump(p.c, p.s);
	CHECK_EQ(synack_tls_error(p.s), SYNACK_TLS_ERR_SENT(SYNACK_TLS_ALERT_NO_APPLICATION_PROTOCOL));
	CHECK_EQ(synack_tls_error(p.c), SYNACK_TLS_ERR_RECEIVED(SYNACK_TLS_ALERT_NO_APPLICATION_PROTOCOL));
	pair_free(&p);
}

TEST(tls_hs_ip_literal_no_sni)
{
	struct pair p = {client_cfg(), server_cfg(K_P256), NULL, NULL};
	synack_tls_config_INSECURE_no_verify(p.cc);
	pair_open(&p, "127.0.0.1");
	pump(p.c, p.s);
	CHECK(both_done(&p));
	synack_tls_info si;
	synack_tls_get_info(p.s, &si);
	CHECK_EQ(si.sni[0], 0);
	pair_free(&p);
}

static void cert_failure(int leaf, const char *name, bool other_ca, int alert)
{
	struct pair p = {client_cfg(), server_cfg(leaf), NULL, NULL};
	if (other_ca) {
		synack_tls_config_free(p.cc);
		p.cc = synack_tls_config_new(SYNACK_TLS_CLIENT);
		CHECK_EQ(synack_tls_config_load_ca_mem(p.cc, w.ca2), 0);
		det(p.cc);
	}
	pair_open(&p, name);
	pump(p.c, p.s);
	CHECK_EQ(synack_tls_error(p.c), SYNACK_TLS_ERR_SENT(alert));
	CHECK_EQ(synack_tls_error(p.s), SYNACK_TLS_ERR_RECEIVED(alert));
	CHECK(!synack_tls_handshake_done(p.c));
	pair_free(&p);
}

TEST(tls_hs_certificate_failures)
{
	cert_failure(K_P256, "wrong.example", false, SYNACK_TLS_ALERT_BAD_CERTIFICATE);
	cert_failure(K_OTHER_NAME, "localhost", false, SYNACK_TLS_ALERT_BAD_CERTIFICATE);
	cert_failure(K_EXPIRED, "localhost", false, SYNACK_TLS_ALERT_CERTIFICATE_EXPIRED);
	cert_failure(K_UNTRUSTED, "localhost", false, SYNACK_TLS_ALERT_UNKNOWN_CA);
	cert_failure(K_P256, "localhost", true, SYNACK_TLS_ALERT_UNKNOWN_CA);
}

TEST(tls_hs_no_verify)
{
	struct pair p = {client_cfg(), server_cfg(K_UNTRUSTED), NULL, NULL};
	synack_tls_config_INSECURE_no_verify(p.cc);
	pair_open(&p, "wrong.example");
	pump(p.c, p.s);
	CHECK(both_done(&p));
	synack_tls_info ci;
	synack_tls_get_info(p.c, &ci);
	CHECK(!ci.peer_verified);
	pair_free(&p);
}

/* ---- client certificates (§4.3.2, §4.4.2.4) ---- */

static void client_auth(bool client_has_cert, bool required, int want_server_err)
{
	struct pair p = {client_cfg(), server_cfg(K_P256), NULL, NULL};
	CHECK_EQ(synack_tls_config_load_ca_mem(p.sc, w.ca), 0);
	synack_tls_config_request_client_cert(p.sc, required);
	if (client_has_cert)
		CHECK_EQ(synack_tls_config_load_cert_mem(p.cc, w.leaf[K_CLIENT].cert, w.leaf[K_CLIENT].key),
			 0);
	pair_open(&p, "localhost");
	pump(p.c, p.s);
	CHECK_EQ(synack_tls_error(p.s), want_server_err);
	if (!want_server_err) {
		CHECK(both_done(&p));
		synack_tls_info si;
		synack_tls_get_info(p.s, &si);
		CHECK_EQ(si.peer_verified, client_has_cert);
		CHECK(!client_has_cert || strstr(si.peer_subject, "client") != NULL);
		CHECK(exchange(p.c, p.s));
	}
	pair_free(&p);
}

TEST(tls_hs_client_certificates)
{
	client_auth(true, true, 0);
	client_auth(false, false, 0);
	client_auth(false, true, SYNACK_TLS_ERR_SENT(SYNACK_TLS_ALERT_CERTIFICATE_REQUIRED));
}

/* ---- resumption (§2.2, §4.2.11, §4.6.1) ---- */

TEST(tls_hs_resumption)
{
	struct pair p = {client_cfg(), server_cfg(K_P256), NULL, NULL};
	CHECK_EQ(synack_tls_config_set_alpn(p.cc, "h2"), 0);
	CHECK_EQ(synack_tls_config_set_alpn(p.sc, "h2"), 0);
	pair_open(&p, "localhost");
	pump(p.c, p.s);
	CHECK(both_done(&p));
	CHECK(exchange(p.c, p.s));
	CHECK(synack_tls_events(p.c) & SYNACK_TLS_EV_TICKET);
	uint8_t blob[8192];
	ssize_t n = synack_tls_get_session(p.c, blob, sizeof blob);
	CHECK(n > 0);
	synack_tls_free(p.c);
	synack_tls_free(p.s);
	pair_open(&p, "localhost");
	CHECK_EQ(synack_tls_set_session(p.c, blob, (size_t)n), 0);
	pump(p.c, p.s);
	CHECK(both_done(&p));
	synack_tls_info ci, si;
	synack_tls_get_info(p.c, &ci);
	synack_tls_get_info(p.s, &si);
	CHECK(ci.resumed && si.resumed);
	CHECK(!strcmp(ci.alpn, "h2"));
	/* the full handshake verified the server: the resumed one says so */
	CHECK(ci.peer_verified);
	CHECK(strstr(ci.peer_subject, "localhost") != NULL);
	CHECK(exchange(p.c, p.s));
	/* another name: the blob is refused or not offered; a full handshake */
	synack_tls_free(p.c);
	synack_tls_free(p.s);
	p.c = synack_tls_new(p.cc, "127.0.0.1");
	p.s = synack_tls_new(p.sc, NULL);
	synack_tls_set_session(p.c, blob, (size_t)n);
	synack_tls_config_INSECURE_no_verify(p.cc);
	pump(p.c, p.s);
	CHECK(both_done(&p));
	synack_tls_get_info(p.s, &si);
	CHECK(!si.resumed);
	pair_free(&p);
}

TEST(tls_hs_resumption_after_hrr)
{
	struct pair p = {client_cfg(), server_cfg(K_P256), NULL, NULL};
	pair_open(&p, "localhost");
	pump(p.c, p.s);
	CHECK(exchange(p.c, p.s));
	uint8_t blob[8192];
	ssize_t n = synack_tls_get_session(p.c, blob, sizeof blob);
	CHECK(n > 0);
	synack_tls_free(p.c);
	synack_tls_free(p.s);
	uint16_t cg[] = {SYNACK_TLS_GROUP_SECP256R1, SYNACK_TLS_GROUP_X25519}, sg = SYNACK_TLS_GROUP_X25519;
	CHECK_EQ(synack_tls_config_set_groups(p.cc, cg, 2), 0);
	CHECK_EQ(synack_tls_config_set_groups(p.sc, &sg, 1), 0);
	pair_open(&p, "localhost");
	CHECK_EQ(synack_tls_set_session(p.c, blob, (size_t)n), 0);
	pump(p.c, p.s);
	CHECK(both_done(&p));
	synack_tls_info ci;
	synack_tls_get_info(p.c, &ci);
	CHECK(ci.resumed && ci.hrr);
	pair_free(&p);
}

/* ---- KeyUpdate (§4.6.3) through the core ---- */

TEST(tls_hs_key_update_both_ways)
{
	struct pair p = {client_cfg(), server_cfg(K_P256), NULL, NULL};
	pair_open(&p, "localhost");
	pump(p.c, p.s);
	CHECK(both_done(&p));
	CHECK_EQ(synack_tls_key_update(p.c, true), 0);
	pump(p.c, p.s);
	CHECK(exchange(p.c, p.s));
	CHECK_EQ(synack_tls_key_update(p.s, false), 0);
	pump(p.c, p.s);
	CHECK(exchange(p.c, p.s));
	synack_tls_info ci;
	synack_tls_get_info(p.c, &ci);
	CHECK(ci.key_updates >= 2);
	pair_free(&p);
}

/* ---- crypto that lies: tampered Finished and signature ---- */

static struct crypto_ops lying;
static int bad_hmac(int alg, const uint8_t *key, size_t klen, const void *data, size_t len, uint8_t *out)
{
	int err = crypto_openssl.hmac(alg, key, klen, data, len, out);
	out[0] ^= 1;
	return err;
}
static int bad_sign(const struct crypto_pkey *k, int scheme, const uint8_t *msg, size_t len, uint8_t *sig,
		    size_t cap, size_t *sig_len)
{
	int err = crypto_openssl.sign(k, scheme, msg, len, sig, cap, sig_len);
	sig[*sig_len / 2] ^= 1;
	return err;
}

static void lying_server(bool hmac, int alert)
{
	struct pair p = {client_cfg(), server_cfg(K_P256), NULL, NULL};
	lying = crypto_openssl;
	if (hmac)
		lying.hmac = bad_hmac;
	else
		lying.sign = bad_sign;
	p.sc->crypto = &lying;
	pair_open(&p, "localhost");
	pump(p.c, p.s);
	CHECK_EQ(synack_tls_error(p.c), SYNACK_TLS_ERR_SENT(alert));
	CHECK_EQ(synack_tls_error(p.s), SYNACK_TLS_ERR_RECEIVED(alert));
	pair_free(&p);
}

TEST(tls_hs_tampered_finished_and_signature)
{
	lying_server(true, SYNACK_TLS_ALERT_DECRYPT_ERROR);
	lying_server(false, SYNACK_TLS_ALERT_DECRYPT_ERROR);
}

/* ---- a client fed crafted plaintext records ---- */

struct crafted {
	synack_tls_config *cc;
	synack_tls *c;
	uint8_t sid[32];
};

static void crafted_open(struct crafted *k)
{
	k->cc = client_cfg();
	CHECK_EQ(synack_tls_config_set_versions(k->cc, SYNACK_TLS_VERSION_13, SYNACK_TLS_VERSION_13), 0);
	k->c = synack_tls_new(k->cc, "localhost");
	size_t n;
	const uint8_t *p = synack_tls_out_peek(k->c, &n);
	CHECK(p && n > 76 && p[0] == 22 && p[5] == 1 && p[43] == 32);
	if (p && n > 76)
		memcpy(k->sid, p + 44, 32);
	synack_tls_out_consume(k->c, n);
}

static void crafted_close(struct crafted *k)
{
	synack_tls_free(k->c);
	synack_tls_config_free(k->cc);
}

static ssize_t feed_record(synack_tls *t, uint8_t type, const uint8_t *body, size_t len)
{
	uint8_t rec[5 + 2048] = {type, 3, 3, (uint8_t)(len >> 8), (uint8_t)len};
	memcpy(rec + 5, body, len);
	return synack_tls_feed(t, rec, 5 + len);
}

/* The error is alert and a plaintext alert record went out; later input
 * is refused with the same error. */
static void expect_alert(synack_tls *t, int alert)
{
	size_t n;
	const uint8_t *p = synack_tls_out_peek(t, &n);
	CHECK_EQ(synack_tls_error(t), SYNACK_TLS_ERR_SENT(alert));
	CHECK(p && n == 7 && p[0] == 21 && p[5] == 2 && p[6] == alert);
	if (p)
		synack_tls_out_consume(t, n);
	uint8_t junk[] = {22, 3, 3, 0, 0};
	CHECK_EQ(synack_tls_feed(t, junk, sizeof junk), SYNACK_TLS_ERR_SENT(alert));
}

/* A ServerHello (or HRR with random == hrr) with the given extension block. */
static size_t build_sh(uint8_t *out, const uint8_t *sid, const uint8_t *random, uint16_t suite,
		       const uint8_t *exts, size_t elen)
{
	size_t n = 0;
	out[n++] = 2;
	size_t body = 2 + 32 + 1 + 32 + 2 + 1 + 2 + elen;
	out[n++] = 0, out[n++] = (uint8_t)(body >> 8), out[n++] = (uint8_t)body;
	out[n++] = 3, out[n++] = 3;
	memcpy(out + n, random, 32), n += 32;
	out[n++] = 32;
	memcpy(out + n, sid, 32), n += 32;
	out[n++] = (uint8_t)(suite >> 8), out[n++] = (uint8_t)suite;
	out[n++] = 0;
	out[n++] = (uint8_t)(elen >> 8), out[n++] = (uint8_t)elen;
	memcpy(out + n, exts, elen), n += elen;
	return n;
}

static const uint8_t ext_sv[] = {0, 43, 0, 2, 3, 4};
static const uint8_t ext_ks[] = {0, 51, 0, 36, 0, 0x1d, 0, 32, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9,
				 9, 9,	9, 9,  9, 9,	9, 9,  9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9};
static const uint8_t hrr_rand[32] = {0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c,
				     0x02, 0x1e, 0x65, 0xb8, 0x91, 0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb,
				     0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c};
static const uint8_t plain_rand[32] = {1, 2, 3};

static void crafted_sh(const uint8_t *random, const uint8_t *exts, size_t elen, int alert)
{
	struct crafted k;
	uint8_t msg[512];
	crafted_open(&k);
	size_t n = build_sh(msg, k.sid, random, SYNACK_TLS_AES_128_GCM_SHA256, exts, elen);
	feed_record(k.c, 22, msg, n);
	expect_alert(k.c, alert);
	crafted_close(&k);
}

TEST(tls_hs_crafted_order)
{
	struct crafted k;
	static const uint8_t cert[] = {11, 0, 0, 4, 0, 0, 0, 0};
	static const uint8_t ee[] = {8, 0, 0, 2, 0, 0};
	crafted_open(&k);
	feed_record(k.c, 22, cert, sizeof cert); /* Certificate before ServerHello */
	expect_alert(k.c, SYNACK_TLS_ALERT_UNEXPECTED_MESSAGE);
	crafted_close(&k);
	crafted_open(&k);
	feed_record(k.c, 22, ee, sizeof ee); /* EncryptedExtensions in plaintext */
	expect_alert(k.c, SYNACK_TLS_ALERT_UNEXPECTED_MESSAGE);
	crafted_close(&k);
	crafted_open(&k);
	static const uint8_t ccs[] = {1};
	CHECK_EQ(feed_record(k.c, 20, ccs, 1), 6); /* one middlebox CCS is fine */
	feed_record(k.c, 20, ccs, 1);		   /* a second is not */
	expect_alert(k.c, SYNACK_TLS_ALERT_UNEXPECTED_MESSAGE);
	crafted_close(&k);
}

TEST(tls_hs_crafted_server_hello)
{
	uint8_t e[256];
	/* truncated: the key share's length runs past the block */
	memcpy(e, ext_sv, sizeof ext_sv);
	memcpy(e + sizeof ext_sv, ext_ks, sizeof ext_ks - 4);
	crafted_sh(plain_rand, e, sizeof ext_sv + sizeof ext_ks - 4, SYNACK_TLS_ALERT_DECODE_ERROR);
	/* duplicate supported_versions */
	memcpy(e + sizeof ext_sv, ext_sv, sizeof ext_sv);
	crafted_sh(plain_rand, e, 2 * sizeof ext_sv, SYNACK_TLS_ALERT_ILLEGAL_PARAMETER);
	/* an extension we never offered */
	static const uint8_t unknown[] = {0xff, 0x01, 0, 0};
	memcpy(e + sizeof ext_sv, unknown, sizeof unknown);
	crafted_sh(plain_rand, e, sizeof ext_sv + sizeof unknown, SYNACK_TLS_ALERT_UNSUPPORTED_EXTENSION);
	/* no supported_versions: the server chose TLS 1.2, which this client does not allow */
	crafted_sh(plain_rand, ext_ks, sizeof ext_ks, SYNACK_TLS_ALERT_PROTOCOL_VERSION);
	/* a key share for a group we did not send */
	memcpy(e + sizeof ext_sv, ext_ks, sizeof ext_ks);
	e[sizeof ext_sv + 5] = 0x17;
	crafted_sh(plain_rand, e, sizeof ext_sv + sizeof ext_ks, SYNACK_TLS_ALERT_ILLEGAL_PARAMETER);
}

TEST(tls_hs_crafted_hrr)
{
	struct crafted k;
	uint8_t msg[512], e[64];
	static const uint8_t ks_p256[] = {0, 51, 0, 2, 0, 0x17};
	memcpy(e, ext_sv, sizeof ext_sv);
	memcpy(e + sizeof ext_sv, ks_p256, sizeof ks_p256);
	crafted_open(&k);
	size_t n =
	    build_sh(msg, k.sid, hrr_rand, SYNACK_TLS_AES_128_GCM_SHA256, e, sizeof ext_sv + sizeof ks_p256);
	feed_record(k.c, 22, msg, n);
	CHECK_EQ(synack_tls_error(k.c), 0);
	size_t len;
	const uint8_t *p = synack_tls_out_peek(k.c, &len); /* CCS and ClientHello2 */
	CHECK(p && len > 6 && p[0] == 20);
	synack_tls_out_consume(k.c, len);
	feed_record(k.c, 22, msg, n); /* a second HRR */
	expect_alert(k.c, SYNACK_TLS_ALERT_UNEXPECTED_MESSAGE);
	crafted_close(&k);
	/* an HRR asking for the group we already sent */
	e[sizeof ext_sv + 5] = 0x1d;
	crafted_sh(hrr_rand, e, sizeof ext_sv + sizeof ks_p256, SYNACK_TLS_ALERT_ILLEGAL_PARAMETER);
}

/* A real server's ServerHello, fed twice: the second one is out of order. */
TEST(tls_hs_duplicated_server_hello)
{
	struct pair p = {client_cfg(), server_cfg(K_P256), NULL, NULL};
	pair_open(&p, "localhost");
	move(p.c, p.s, 1 << 20);
	size_t n;
	const uint8_t *out = synack_tls_out_peek(p.s, &n);
	CHECK(out && n > 5 && out[0] == 22 && out[5] == 2);
	size_t shlen = 5 + ((size_t)out[3] << 8 | out[4]);
	uint8_t sh[1024];
	memcpy(sh, out, shlen);
	CHECK_EQ(synack_tls_feed(p.c, sh, shlen), (ssize_t)shlen);
	synack_tls_feed(p.c, sh, shlen);
	CHECK_EQ(synack_tls_error(p.c), SYNACK_TLS_ERR_SENT(SYNACK_TLS_ALERT_UNEXPECTED_MESSAGE));
	pair_free(&p);
}

/* ---- a server fed crafted ClientHellos ---- */

static void crafted_ch(const uint8_t *body, size_t len, int alert)
{
	synack_tls_config *sc = server_cfg(K_P256);
	CHECK_EQ(synack_tls_config_set_versions(sc, SYNACK_TLS_VERSION_13, SYNACK_TLS_VERSION_13), 0);
	synack_tls *s = synack_tls_new(sc, NULL);
	uint8_t msg[1024] = {1, 0, (uint8_t)(len >> 8), (uint8_t)len};
	memcpy(msg + 4, body, len);
	feed_record(s, 22, msg, 4 + len);
	expect_alert(s, alert);
	synack_tls_free(s);
	synack_tls_config_free(sc);
}

static size_t ch_body(uint8_t *b, const uint8_t *comp, size_t clen, const uint8_t *exts, size_t elen)
{
	size_t n = 0;
	b[n++] = 3, b[n++] = 3;
	memset(b + n, 7, 32), n += 32;
	b[n++] = 0;					   /* session id */
	b[n++] = 0, b[n++] = 2, b[n++] = 0x13, b[n++] = 1; /* suites */
	b[n++] = (uint8_t)clen;
	memcpy(b + n, comp, clen), n += clen;
	b[n++] = (uint8_t)(elen >> 8), b[n++] = (uint8_t)elen;
	memcpy(b + n, exts, elen), n += elen;
	return n;
}

TEST(tls_hs_crafted_client_hello)
{
	static const uint8_t sv12[] = {0, 43, 0, 3, 2, 3, 3};
	static const uint8_t sv13[] = {0, 43, 0, 3, 2, 3, 4};
	static const uint8_t groups[] = {0, 10, 0, 4, 0, 2, 0, 0x1d};
	static const uint8_t sigs[] = {0, 13, 0, 4, 0, 2, 4, 3};
	uint8_t e[256], b[512];
	static const uint8_t null_comp[] = {0}, two_comp[] = {1, 0};
	size_t n = ch_body(b, null_comp, 1, sv12, sizeof sv12);
	crafted_ch(b, n, SYNACK_TLS_ALERT_PROTOCOL_VERSION);
	n = ch_body(b, two_comp, 2, sv13, sizeof sv13);
	crafted_ch(b, n, SYNACK_TLS_ALERT_ILLEGAL_PARAMETER);
	n = ch_body(b, null_comp, 1, sv13, sizeof sv13);
	crafted_ch(b, n - 1, SYNACK_TLS_ALERT_DECODE_ERROR); /* truncated */
	/* a key share for X25519MLKEM768 first, then x25519: the first is skipped */
	size_t k = 0;
	memcpy(e + k, sv13, sizeof sv13), k += sizeof sv13;
	memcpy(e + k, sigs, sizeof sigs), k += sizeof sigs;
	static const uint8_t groups2[] = {0, 10, 0, 6, 0, 4, 0x11, 0xec, 0, 0x1d};
	memcpy(e + k, groups2, sizeof groups2), k += sizeof groups2;
	uint8_t ks[] = {
	    0,	  51, 0, 2 + 4 + 8 + 4 + 32, 0, 4 + 8 + 4 + 32, 0x11, 0xec, 0, 8, 1, 1, 1, 1, 1, 1, 1, 1, 0,
	    0x1d, 0,  32};
	memcpy(e + k, ks, sizeof ks), k += sizeof ks;
	memset(e + k, 9, 32), k += 32;
	synack_tls_config *sc = server_cfg(K_P256);
	synack_tls *s = synack_tls_new(sc, NULL);
	n = ch_body(b, null_comp, 1, e, k);
	uint8_t msg[1024] = {1, 0, (uint8_t)(n >> 8), (uint8_t)n};
	memcpy(msg + 4, b, n);
	feed_record(s, 22, msg, 4 + n);
	CHECK_EQ(synack_tls_error(s), 0);
	synack_tls_info si;
	synack_tls_get_info(s, &si);
	CHECK_EQ(si.group, SYNACK_TLS_GROUP_X25519);
	synack_tls_free(s);
	synack_tls_config_free(sc);
	/* duplicate extension */
	memcpy(e, sv13, sizeof sv13);
	memcpy(e + sizeof sv13, groups, sizeof groups);
	memcpy(e + sizeof sv13 + sizeof groups, groups, sizeof groups);
	n = ch_body(b, null_comp, 1, e, sizeof sv13 + 2 * sizeof groups);
	crafted_ch(b, n, SYNACK_TLS_ALERT_ILLEGAL_PARAMETER);
}

/* ---- after the handshake ---- */

/* §4.6.2: we never offer post_handshake_auth, so a CertificateRequest
 * after the handshake is unexpected_message; the handshake state is gone
 * once both Finished are through; record_size_limit (RFC 8449) applied. */
TEST(tls_hs_post_handshake)
{
	struct pair p = {client_cfg(), server_cfg(K_P256), NULL, NULL};
	pair_open(&p, "localhost");
	pump(p.c, p.s);
	CHECK(both_done(&p));
	CHECK(p.c->hs == NULL && p.s->hs == NULL);
	CHECK(synack_tls_memory(p.c) <= 8192 && synack_tls_memory(p.s) <= 8192);
	if (synack_tls_memory(p.c) > 8192 || synack_tls_memory(p.s) > 8192)
		fprintf(stderr, "idle memory: client %zu, server %zu\n", synack_tls_memory(p.c),
			synack_tls_memory(p.s));
	CHECK_EQ(p.c->send_limit, 16384);
	CHECK_EQ(p.s->send_limit, 16384);
	static const uint8_t cr[] = {13, 0, 0, 11, 1, 7, 0, 8, 0, 13, 0, 4, 0, 2, 4, 3};
	CHECK_EQ(tls_send_handshake(p.s, cr, sizeof cr), 0);
	pump(p.c, p.s);
	CHECK_EQ(synack_tls_error(p.c), SYNACK_TLS_ERR_SENT(SYNACK_TLS_ALERT_UNEXPECTED_MESSAGE));
	CHECK_EQ(synack_tls_error(p.s), SYNACK_TLS_ERR_RECEIVED(SYNACK_TLS_ALERT_UNEXPECTED_MESSAGE));
	char buf[8];
	CHECK_EQ(synack_tls_write(p.c, "x", 1), SYNACK_TLS_ERR_SENT(SYNACK_TLS_ALERT_UNEXPECTED_MESSAGE));
	CHECK_EQ(synack_tls_read(p.c, buf, sizeof buf),
		 SYNACK_TLS_ERR_SENT(SYNACK_TLS_ALERT_UNEXPECTED_MESSAGE));
	pair_free(&p);
}

/* A ClientHello after the handshake, sent by a client that lost its mind. */
TEST(tls_hs_server_refuses_late_client_hello)
{
	struct pair p = {client_cfg(), server_cfg(K_P256), NULL, NULL};
	pair_open(&p, "localhost");
	pump(p.c, p.s);
	CHECK(both_done(&p));
	static const uint8_t ch[] = {1, 0, 0, 0};
	CHECK_EQ(tls_send_handshake(p.c, ch, sizeof ch), 0);
	pump(p.c, p.s);
	CHECK_EQ(synack_tls_error(p.s), SYNACK_TLS_ERR_SENT(SYNACK_TLS_ALERT_UNEXPECTED_MESSAGE));
	pair_free(&p);
}

/* The session blob: versioned, bound to the server name. */
TEST(tls_hs_session_blob)
{
	struct pair p = {client_cfg(), server_cfg(K_P256), NULL, NULL};
	synack_tls_config_set_tickets(p.sc, 2, 7200, 3600);
	pair_open(&p, "localhost");
	uint8_t blob[8192];
	CHECK_EQ(synack_tls_get_session(p.c, blob, sizeof blob), -ENOENT);
	pump(p.c, p.s);
	CHECK(exchange(p.c, p.s));
	ssize_t n = synack_tls_get_session(p.c, blob, sizeof blob);
	CHECK(n > 40);
	CHECK_EQ(blob[0], 2); /* TLS_SESSION_VERSION */
	CHECK_EQ(blob[1] << 8 | blob[2], SYNACK_TLS_AES_128_GCM_SHA256);
	synack_tls *c2 = synack_tls_new(p.cc, "other.example");
	CHECK_EQ(synack_tls_set_session(c2, blob, (size_t)n), -EINVAL);
	CHECK_EQ(synack_tls_set_session(c2, blob, (size_t)n - 1), -EINVAL);
	synack_tls_free(c2);
	pair_free(&p);
}

/* A server fed a ChangeCipherSpec before any ClientHello. */
TEST(tls_hs_server_early_ccs)
{
	synack_tls_config *sc = server_cfg(K_P256);
	synack_tls *s = synack_tls_new(sc, NULL);
	static const uint8_t ccs[] = {1};
	feed_record(s, 20, ccs, 1);
	CHECK_EQ(synack_tls_error(s), SYNACK_TLS_ERR_SENT(SYNACK_TLS_ALERT_UNEXPECTED_MESSAGE));
	synack_tls_free(s);
	synack_tls_config_free(sc);
}

/* A server that wants a certificate the client's key cannot sign for:
 * the client sends an empty Certificate and the server (not requiring one)
 * carries on; the client's own certificate verified otherwise. */
TEST(tls_hs_client_cert_ed25519)
{
	struct pair p = {client_cfg(), server_cfg(K_RSA), NULL, NULL};
	CHECK_EQ(synack_tls_config_load_ca_mem(p.sc, w.ca), 0);
	synack_tls_config_request_client_cert(p.sc, true);
	CHECK_EQ(synack_tls_config_load_cert_mem(p.cc, w.leaf[K_ED25519].cert, w.leaf[K_ED25519].key), 0);
	pair_open(&p, "localhost");
	pump(p.c, p.s);
	CHECK(both_done(&p));
	synack_tls_info si;
	synack_tls_get_info(p.s, &si);
	CHECK(si.peer_verified);
	CHECK_EQ(si.sigscheme, CRYPTO_ED25519);
	pair_free(&p);
}

/* 80 KB each way after the handshake, in records of every size. */
TEST(tls_hs_bulk_data)
{
	struct pair p = {client_cfg(), server_cfg(K_P256), NULL, NULL};
	pair_open(&p, "localhost");
	pump(p.c, p.s);
	CHECK(both_done(&p));
	static uint8_t data[81920], got[81920];
	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (uint8_t)(i * 7 + i / 251);
	size_t sent = 0, recvd = 0;
	for (int round = 0; round < 10000 && recvd < sizeof data; round++) {
		if (sent < sizeof data) {
			ssize_t n = synack_tls_write(p.c, data + sent, sizeof data - sent);
			CHECK(n >= 0);
			if (n > 0)
				sent += (size_t)n;
		}
		size_t n;
		const uint8_t *q = synack_tls_out_peek(p.c, &n);
		ssize_t r = q && n ? synack_tls_feed(p.s, q, n < 1000 ? n : 1000) : 0;
		CHECK(r >= 0);
		if (r > 0)
			synack_tls_out_consume(p.c, (size_t)r);
		while ((r = synack_tls_read(p.s, got + recvd, sizeof got - recvd)) > 0)
			recvd += (size_t)r;
	}
	CHECK_EQ(recvd, sizeof data);
	CHECK_MEM(got, data, sizeof data);
	pair_free(&p);
}

/* A saved session and a server of the same configuration, for the tests
 * below. */
static ssize_t first_session(struct pair *p, uint8_t *blob, size_t cap)
{
	pair_open(p, "localhost");
	pump(p->c, p->s);
	CHECK(exchange(p->c, p->s));
	ssize_t n = synack_tls_get_session(p->c, blob, cap);
	CHECK(n > 0);
	synack_tls_free(p->c);
	synack_tls_free(p->s);
	pair_open(p, "localhost");
	return n;
}

/* §4.2.11: a binder that does not verify is decrypt_error. */
TEST(tls_hs_bad_binder)
{
	struct pair p = {client_cfg(), server_cfg(K_P256), NULL, NULL};
	uint8_t blob[8192];
	ssize_t n = first_session(&p, blob, sizeof blob);
	/* version, suite, issued, lifetime, age_add, flags, subject, then the PSK */
	size_t at = 1 + 2 + 8 + 4 + 4 + 1;
	at += 1 + blob[at];
	blob[at + 1] ^= 1; /* the first byte of the PSK */
	CHECK_EQ(synack_tls_set_session(p.c, blob, (size_t)n), 0);
	pump(p.c, p.s);
	CHECK_EQ(synack_tls_error(p.s), SYNACK_TLS_ERR_SENT(SYNACK_TLS_ALERT_DECRYPT_ERROR));
	pair_free(&p);
}

/* Ticket keys rotate: a ticket of the previous epoch still resumes, one
 * two epochs old gets a full handshake. */
TEST(tls_hs_ticket_rotation)
{
	struct pair p = {client_cfg(), server_cfg(K_P256), NULL, NULL};
	synack_tls_config_set_tickets(p.sc, 1, 86400, 3600);
	uint8_t blob[8192];
	ssize_t n = first_session(&p, blob, sizeof blob);
	clock_ms = NOW_MS + 3600 * 1000;
	CHECK_EQ(synack_tls_set_session(p.c, blob, (size_t)n), 0);
	pump(p.c, p.s);
	CHECK(both_done(&p));
	synack_tls_info si;
	synack_tls_get_info(p.s, &si);
	CHECK(si.resumed);
	synack_tls_free(p.c);
	synack_tls_free(p.s);
	clock_ms = NOW_MS + 2 * 3600 * 1000 + 1000;
	pair_open(&p, "localhost");
	CHECK_EQ(synack_tls_set_session(p.c, blob, (size_t)n), 0);
	pump(p.c, p.s);
	CHECK(both_done(&p));
	synack_tls_get_info(p.s, &si);
	CHECK(!si.resumed);
	clock_ms = NOW_MS;
	pair_free(&p);
}

/* The server's Finished check: a client whose second HMAC (its own
 * Finished; the first checks the server's) lies. */
static int hmac_calls;
static int bad_second_hmac(int alg, const uint8_t *key, size_t klen, const void *data, size_t len,
			   uint8_t *out)
{
	int err = crypto_openssl.hmac(alg, key, klen, data, len, out);
	if (++hmac_calls == 2)
		out[0] ^= 1;
	return err;
}

TEST(tls_hs_bad_client_finished)
{
	struct pair p = {client_cfg(), server_cfg(K_P256), NULL, NULL};
	lying = crypto_openssl;
	lying.hmac = bad_second_hmac;
	hmac_calls = 0;
	p.cc->crypto = &lying;
	pair_open(&p, "localhost");
	pump(p.c, p.s);
	CHECK_EQ(synack_tls_error(p.s), SYNACK_TLS_ERR_SENT(SYNACK_TLS_ALERT_DECRYPT_ERROR));
	CHECK(!synack_tls_handshake_done(p.s));
	pair_free(&p);
}

/* ---- 0-RTT refused (RFC 8446 §4.2.10) ---- */

/* The client's ClientHello record with an early_data extension appended
 * (type 42, empty), lengths fixed up; into out, returns its length. */
static size_t ch_with_early_data(synack_tls *c, uint8_t *out, size_t cap)
{
	size_t n;
	const uint8_t *p = synack_tls_out_peek(c, &n);
	CHECK(p && n >= 5 && p[0] == 22 && n + 4 <= cap);
	size_t rec = (size_t)p[3] << 8 | p[4];
	CHECK_EQ(rec + 5, n); /* one record: the ClientHello alone */
	memcpy(out, p, n);
	synack_tls_out_consume(c, n);
	const uint8_t *b = out + 5 + 4;
	size_t at = 2 + 32;			    /* legacy_version, random */
	at += 1 + b[at];			    /* legacy_session_id */
	at += 2 + ((size_t)b[at] << 8 | b[at + 1]); /* cipher_suites */
	at += 1 + b[at];			    /* legacy_compression_methods */
	uint8_t *ext_len = out + 5 + 4 + at;
	size_t elen = (size_t)ext_len[0] << 8 | ext_len[1];
	CHECK_EQ(5 + 4 + at + 2 + elen, n);
	static const uint8_t early[] = {0, 42, 0, 0};
	memcpy(out + n, early, sizeof early);
	elen += 4, ext_len[0] = (uint8_t)(elen >> 8), ext_len[1] = (uint8_t)elen;
	size_t hs = rec - 4 + 4;
	out[6] = (uint8_t)(hs >> 16), out[7] = (uint8_t)(hs >> 8), out[8] = (uint8_t)hs;
	rec += 4, out[3] = (uint8_t)(rec >> 8), out[4] = (uint8_t)rec;
	return n + 4;
}

/* n bytes of 0-RTT records that do not open under the handshake keys
 * (what a client's early data looks like to a server that refused it). */
static void early_records(synack_tls *s, size_t total)
{
	uint8_t rec[5 + 1000];
	rec[0] = 23, rec[1] = 3, rec[2] = 3, rec[3] = 1000 >> 8, rec[4] = 1000 & 0xff;
	for (size_t done = 0; done < total && !synack_tls_error(s); done += sizeof rec - 5) {
		memset(rec + 5, (int)(done / 1000) + 1, 1000);
		synack_tls_feed(s, rec, sizeof rec);
	}
}

static void early_data_case(size_t early_bytes, int want_server_err)
{
	struct pair p = {client_cfg(), server_cfg(K_P256), NULL, NULL};
	uint8_t ch[2048];
	pair_open(&p, "localhost");
	size_t n = ch_with_early_data(p.c, ch, sizeof ch);
	CHECK_EQ(synack_tls_feed(p.s, ch, n), (ssize_t)n);
	CHECK_EQ(synack_tls_error(p.s), 0);
	early_records(p.s, early_bytes); /* they follow the ClientHello at once */
	CHECK_EQ(synack_tls_error(p.s), want_server_err);
	if (!want_server_err) {
		/* The client never sent the extension, so the transcripts differ:
		 * the client rejects the server's Finished. What counts here is
		 * the server: it skipped the early records without failing. */
		synack_tls_info si;
		synack_tls_get_info(p.s, &si);
		CHECK_EQ(si.version, SYNACK_TLS_VERSION_13);
	}
	pair_free(&p);
}

/* A refused client's early records are skipped (up to the budget), not
 * fatal; past the budget they are bad_record_mac. */
TEST(tls_hs_early_data_refused_and_skipped)
{
	early_data_case(3000, 0);
	early_data_case(4 * (16384 + 256) + 2000, SYNACK_TLS_ERR_SENT(SYNACK_TLS_ALERT_BAD_RECORD_MAC));
}
