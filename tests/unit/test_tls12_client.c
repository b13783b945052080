/* The TLS 1.2 client (src/tls/client12.c) against our TLS 1.2 server
 * (server12.c) in memory, version negotiation between 1.2 and 1.3 in every
 * combination of configurations, the downgrade sentinel, and negative
 * tests of both state machines built from the server's real messages.
 *
 * Implementation notes. The pair and the certificates are tls_pair.h's
 * (fixed clock, deterministic random numbers). Crafted flights take the
 * plaintext handshake messages our server wrote (split_msgs), then drop,
 * repeat or alter one and feed each as a record of its own, so every
 * other byte is what a real server sends. A test that ends in an alert
 * also checks that nothing further is accepted: the error is sticky and
 * a later feed returns it. */
#include "tls/hs.h"
#include "tls/hs12.h"
#include "tls_pair.h"
#include "unit.h"

#define V12 SYNACK_TLS_VERSION_12
#define V13 SYNACK_TLS_VERSION_13

static void versions(synack_tls_config *c, uint16_t min, uint16_t max)
{
	CHECK_EQ(synack_tls_config_set_versions(c, min, max), 0);
}

static struct pair pair12(int leaf, uint16_t cmin, uint16_t cmax, uint16_t smin, uint16_t smax)
{
	struct pair p = {client_cfg(), server_cfg(leaf), NULL, NULL};
	versions(p.cc, cmin, cmax);
	versions(p.sc, smin, smax);
	pair_open(&p, "localhost");
	return p;
}

static void show_errors(struct pair *p, const char *what)
{
	fprintf(stderr, "%s: client '%s' / server '%s'\n", what, synack_tls_error_detail(p->c),
		synack_tls_error_detail(p->s));
}

/* ---- full handshakes: every suite, every key type, data both ways ---- */

/* The server's groups are {group}; the client also lists the curve of an
 * ECDSA certificate (RFC 8422 §5.1.1: supported_groups covers both). */
static void one12(int leaf, uint16_t suite13, uint16_t want12, uint16_t group)
{
	struct pair p = pair12(leaf, V12, V12, V12, V13);
	synack_tls_free(p.c);
	synack_tls_free(p.s);
	uint16_t cg[2] = {group, leaf == K_P384 ? SYNACK_TLS_GROUP_SECP384R1 : SYNACK_TLS_GROUP_SECP256R1};
	CHECK_EQ(synack_tls_config_set_suites(p.cc, &suite13, 1), 0);
	CHECK_EQ(synack_tls_config_set_groups(p.cc, cg, 2), 0);
	CHECK_EQ(synack_tls_config_set_groups(p.sc, &group, 1), 0);
	p.c = synack_tls_new(p.cc, "localhost");
	p.s = synack_tls_new(p.sc, NULL);
	pump(p.c, p.s);
	CHECK(both_done(&p));
	if (!both_done(&p))
		show_errors(&p, "one12");
	synack_tls_info ci, si;
	synack_tls_get_info(p.c, &ci);
	synack_tls_get_info(p.s, &si);
	CHECK_EQ(ci.version, V12);
	CHECK_EQ(si.version, V12);
	CHECK_EQ(ci.suite, want12);
	CHECK_EQ(si.suite, want12);
	CHECK_EQ(ci.group, group);
	CHECK_EQ(si.group, group);
	CHECK_EQ(ci.sigscheme, si.sigscheme);
	CHECK(ci.peer_verified);
	CHECK(strstr(ci.peer_subject, "localhost") != NULL);
	CHECK(!strcmp(si.sni, "localhost"));
	CHECK(!ci.resumed && !si.resumed);
	CHECK(exchange(p.c, p.s));
	pair_free(&p);
}

TEST(tls12_every_suite_and_key_type)
{
	static const struct {
		uint16_t s13, ecdsa, rsa;
	} map[] = {{SYNACK_TLS_AES_128_GCM_SHA256, 0xc02b, 0xc02f},
		   {SYNACK_TLS_AES_256_GCM_SHA384, 0xc02c, 0xc030},
		   {SYNACK_TLS_CHACHA20_POLY1305_SHA256, 0xcca9, 0xcca8}};
	static const uint16_t groups[] = {SYNACK_TLS_GROUP_X25519, SYNACK_TLS_GROUP_SECP256R1};
	for (size_t i = 0; i < ARRAY_LEN(map); i++)
		for (size_t g = 0; g < 2; g++) {
			one12(K_P256, map[i].s13, map[i].ecdsa, groups[g]);
			one12(K_P384, map[i].s13, map[i].ecdsa, groups[g]);
			one12(K_RSA, map[i].s13, map[i].rsa, groups[g]);
		}
}

TEST(tls12_byte_at_a_time_and_bulk)
{
	struct pair p = pair12(K_P256, V12, V12, V12, V12);
	pump_piece(p.c, p.s, 1);
	CHECK(both_done(&p));
	static uint8_t big[100000], got[100000];
	for (size_t i = 0; i < sizeof big; i++)
		big[i] = (uint8_t)(i * 7 + 3);
	size_t sent = 0, rcvd = 0;
	while (rcvd < sizeof big) {
		if (sent < sizeof big) {
			ssize_t wr = synack_tls_write(p.c, big + sent, sizeof big - sent);
			CHECK(wr > 0);
			if (wr <= 0)
				break;
			sent += (size_t)wr;
		}
		pump(p.c, p.s);
		ssize_t r;
		while ((r = synack_tls_read(p.s, got + rcvd, sizeof got - rcvd)) > 0)
			rcvd += (size_t)r;
		if (r < 0 && r != -EAGAIN)
			break;
	}
	CHECK_EQ(rcvd, sizeof big);
	CHECK_MEM(big, got, sizeof big);
	pair_free(&p);
}

TEST(tls12_alpn_keylog_trace)
{
	struct pair p = {client_cfg(), server_cfg(K_P256), NULL, NULL};
	versions(p.cc, V12, V12);
	versions(p.sc, V12, V13);
	CHECK_EQ(synack_tls_config_set_alpn(p.cc, "h2,http/1.1"), 0);
	CHECK_EQ(synack_tls_config_set_alpn(p.sc, "http/1.1"), 0);
	synack_tls_config_set_keylog(p.cc, true);
	synack_tls_config_set_keylog(p.sc, true);
	pair_open(&p, "localhost");
	synack_tls_trace_enable(p.c, true);
	pump(p.c, p.s);
	CHECK(both_done(&p));
	synack_tls_info ci, si;
	synack_tls_get_info(p.c, &ci);
	synack_tls_get_info(p.s, &si);
	CHECK(!strcmp(ci.alpn, "http/1.1"));
	CHECK(!strcmp(si.alpn, "http/1.1"));
	char kc[512] = "", ks[512] = "";
	size_t nc = synack_tls_keylog(p.c, kc, sizeof kc - 1), ns = synack_tls_keylog(p.s, ks, sizeof ks - 1);
	CHECK(nc > 0 && nc == ns);
	CHECK(!strncmp(kc, "CLIENT_RANDOM ", 14));
	CHECK(!strcmp(kc, ks));
	/* the seed's names, in the seed's order, on the client's trace */
	static const char *const seq[] = {"ClientHello",       "ServerHello",	  "Certificate",
					  "ServerKeyExchange", "ServerHelloDone", "ClientKeyExchange",
					  "Finished",	       "Finished"};
	synack_tls_trace_entry e[64];
	size_t k = 0, ne = synack_tls_trace(p.c, e, 64);
	for (size_t i = 0; i < ne; i++)
		if (e[i].content == TLS_CT_HANDSHAKE && k < ARRAY_LEN(seq) &&
		    strstr(e[i].text, seq[k]) == e[i].text)
			k++;
	CHECK_EQ(k, ARRAY_LEN(seq));
	CHECK(exchange(p.c, p.s));
	pair_free(&p);
}

/* ---- version negotiation in every combination ---- */

TEST(tls12_version_matrix)
{
	static const uint16_t cfgs[3][2] = {{V12, V12}, {V13, V13}, {V12, V13}};
	for (int c = 0; c < 3; c++)
		for (int s = 0; s < 3; s++) {
			struct pair p = pair12(K_P256, cfgs[c][0], cfgs[c][1], cfgs[s][0], cfgs[s][1]);
			pump(p.c, p.s);
			uint16_t lo = cfgs[c][0] > cfgs[s][0] ? cfgs[c][0] : cfgs[s][0];
			uint16_t hi = cfgs[c][1] < cfgs[s][1] ? cfgs[c][1] : cfgs[s][1];
			if (lo > hi) { /* nothing in common: protocol_version */
				CHECK(!both_done(&p));
				CHECK(synack_tls_error(p.c) ==
					  SYNACK_TLS_ERR_SENT(SYNACK_TLS_ALERT_PROTOCOL_VERSION) ||
				      synack_tls_error(p.s) ==
					  SYNACK_TLS_ERR_SENT(SYNACK_TLS_ALERT_PROTOCOL_VERSION));
			} else {
				synack_tls_info ci, si;
				CHECK(both_done(&p));
				if (!both_done(&p))
					show_errors(&p, "matrix");
				synack_tls_get_info(p.c, &ci);
				synack_tls_get_info(p.s, &si);
				CHECK_EQ(ci.version, hi); /* the highest both support */
				CHECK_EQ(si.version, hi);
				CHECK(exchange(p.c, p.s));
			}
			pair_free(&p);
		}
}

/* ---- crafted flights: the server's real messages, one altered ---- */

struct msgs {
	uint8_t buf[16384];
	size_t len, n, off[16], mlen[16];
};

/* The plaintext handshake messages in what t wants to send (consumed). */
static void split_msgs(synack_tls *t, struct msgs *m)
{
	const uint8_t *p;
	size_t n;
	m->len = m->n = 0;
	while ((p = synack_tls_out_peek(t, &n)) && n) {
		for (size_t off = 0; off + 5 <= n;) {
			size_t rl = (size_t)p[off + 3] << 8 | p[off + 4];
			if (p[off] == TLS_CT_HANDSHAKE && m->len + rl <= sizeof m->buf) {
				memcpy(m->buf + m->len, p + off + 5, rl);
				m->len += rl;
			}
			off += 5 + rl;
		}
		synack_tls_out_consume(t, n);
	}
	for (size_t off = 0; off + 4 <= m->len && m->n < 16;) {
		size_t ml =
		    4 + ((size_t)m->buf[off + 1] << 16 | (size_t)m->buf[off + 2] << 8 | m->buf[off + 3]);
		m->off[m->n] = off;
		m->mlen[m->n++] = ml;
		off += ml;
	}
}

static ssize_t feed_record(synack_tls *t, uint8_t type, const uint8_t *body, size_t len)
{
	uint8_t rec[16384 + 5];
	rec[0] = type;
	rec[1] = 3;
	rec[2] = 3;
	rec[3] = (uint8_t)(len >> 8);
	rec[4] = (uint8_t)len;
	memcpy(rec + 5, body, len);
	return synack_tls_feed(t, rec, len + 5);
}

static ssize_t feed_msg(synack_tls *t, const struct msgs *m, size_t i)
{
	return feed_record(t, TLS_CT_HANDSHAKE, m->buf + m->off[i], m->mlen[i]);
}

static const uint8_t ccs_body[1] = {1};

/* t failed with alert, and a further record changes nothing. */
static void expect_dead(synack_tls *t, int alert, const char *detail)
{
	CHECK_EQ(synack_tls_error(t), SYNACK_TLS_ERR_SENT(alert));
	if (detail && !strstr(synack_tls_error_detail(t), detail)) {
		CHECK(!"detail");
		fprintf(stderr, "detail '%s' lacks '%s'\n", synack_tls_error_detail(t), detail);
	}
	CHECK(!synack_tls_handshake_done(t));
	CHECK(feed_record(t, TLS_CT_CHANGE_CIPHER_SPEC, ccs_body, 1) < 0);
	CHECK_EQ(synack_tls_error(t), SYNACK_TLS_ERR_SENT(alert));
}

/* Client (1.2 only, or 1.2 and 1.3) and server flight: SH, Cert, SKE, SHD. */
struct crafted {
	struct pair p;
	struct msgs m;
};

static void crafted_open(struct crafted *k, int leaf, uint16_t cmax)
{
	k->p = pair12(leaf, V12, cmax, V12, V12);
	move(k->p.c, k->p.s, 1 << 20); /* ClientHello */
	split_msgs(k->p.s, &k->m);
	CHECK_EQ(k->m.n, 4);
	CHECK_EQ(k->m.buf[k->m.off[0]], TLS_HS_SERVER_HELLO);
	CHECK_EQ(k->m.buf[k->m.off[3]], TLS_HS_SERVER_HELLO_DONE);
}

static void feed_list(struct crafted *k, const int *order, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (order[i] < 0)
			feed_record(k->p.c, TLS_CT_CHANGE_CIPHER_SPEC, ccs_body, 1);
		else
			feed_msg(k->p.c, &k->m, (size_t)order[i]);
}

static void client_flight(const int *order, size_t n, int alert, const char *detail)
{
	struct crafted k;
	crafted_open(&k, K_P256, V12);
	feed_list(&k, order, n);
	expect_dead(k.p.c, alert, detail);
	pair_free(&k.p);
}

TEST(tls12_client_state_machine)
{
	enum { SH, CERT, SKE, SHD, CCS = -1 };
	const int U = SYNACK_TLS_ALERT_UNEXPECTED_MESSAGE;
	/* skipped ServerKeyExchange (the SKIP-TLS class) */
	client_flight((const int[]){SH, CERT, SHD}, 3, U, "ServerKeyExchange");
	/* skipped Certificate */
	client_flight((const int[]){SH, SKE}, 2, U, "Certificate");
	/* skipped ServerHelloDone: the server's CCS early (the EarlyCCS class) */
	client_flight((const int[]){SH, CERT, SKE, CCS}, 4, U, "ChangeCipherSpec");
	/* a CCS right after the ServerHello */
	client_flight((const int[]){SH, CCS}, 2, U, "ChangeCipherSpec");
	/* duplicated messages */
	client_flight((const int[]){SH, SH}, 2, U, NULL);
	client_flight((const int[]){SH, CERT, CERT}, 3, U, NULL);
	client_flight((const int[]){SH, CERT, SKE, SKE}, 4, U, NULL);
	/* ServerHelloDone first */
	client_flight((const int[]){SHD}, 1, U, NULL);
}

/* The server's Finished without its ChangeCipherSpec: a plaintext Finished
 * while the client waits for the CCS. */
TEST(tls12_client_finished_before_ccs)
{
	struct crafted k;
	crafted_open(&k, K_P256, V12);
	feed_list(&k, (const int[]){0, 1, 2, 3}, 4);
	CHECK(!synack_tls_error(k.p.c));
	uint8_t fin[4 + 12] = {TLS_HS_FINISHED, 0, 0, 12};
	CHECK(feed_record(k.p.c, TLS_CT_HANDSHAKE, fin, sizeof fin) < 0);
	expect_dead(k.p.c, SYNACK_TLS_ALERT_UNEXPECTED_MESSAGE, "waiting for NewSessionTicket");
	pair_free(&k.p);
}

/* The ServerKeyExchange signature with one bit flipped: decrypt_error. */
TEST(tls12_client_bad_ske_signature)
{
	static const int leaves[] = {K_P256, K_RSA};
	for (size_t i = 0; i < 2; i++) {
		struct crafted k;
		crafted_open(&k, leaves[i], V12);
		feed_list(&k, (const int[]){0, 1}, 2);
		k.m.buf[k.m.off[2] + k.m.mlen[2] - 5] ^= 0x10; /* inside the signature */
		feed_msg(k.p.c, &k.m, 2);
		expect_dead(k.p.c, SYNACK_TLS_ALERT_DECRYPT_ERROR, "signature");
		pair_free(&k.p);
	}
}

/* A ServerHello made by hand after the client's real ClientHello. */
static void crafted_sh(const uint8_t *random, uint16_t suite, const uint8_t *exts, size_t elen, uint16_t cmax,
		       int alert, const char *detail)
{
	struct crafted k;
	crafted_open(&k, K_P256, cmax);
	uint8_t b[256];
	size_t n = 0;
	b[n++] = TLS_HS_SERVER_HELLO;
	n += 3;
	b[n++] = 3, b[n++] = 3;
	memcpy(b + n, random, 32), n += 32;
	b[n++] = 0; /* session id */
	b[n++] = (uint8_t)(suite >> 8), b[n++] = (uint8_t)suite;
	b[n++] = 0;
	b[n++] = (uint8_t)(elen >> 8), b[n++] = (uint8_t)elen;
	memcpy(b + n, exts, elen), n += elen;
	b[1] = 0, b[2] = (uint8_t)((n - 4) >> 8), b[3] = (uint8_t)(n - 4);
	CHECK(feed_record(k.p.c, TLS_CT_HANDSHAKE, b, n) < 0);
	expect_dead(k.p.c, alert, detail);
	pair_free(&k.p);
}

TEST(tls12_client_crafted_server_hello)
{
	static const uint8_t rnd[32] = {7, 7, 7};
	static const uint8_t ri[] = {0xff, 0x01, 0, 1, 0}, ems[] = {0, 23, 0, 0};
	uint8_t both[9], x[32];
	memcpy(both, ri, 5), memcpy(both + 5, ems, 4);
	const int HF = SYNACK_TLS_ALERT_HANDSHAKE_FAILURE, IP = SYNACK_TLS_ALERT_ILLEGAL_PARAMETER;
	/* RFC 7627: no extended_master_secret from the server */
	crafted_sh(rnd, 0xc02b, ri, sizeof ri, V12, HF, "extended_master_secret");
	/* RFC 5746: no renegotiation_info */
	crafted_sh(rnd, 0xc02b, ems, sizeof ems, V12, HF, "renegotiation");
	/* a non-empty renegotiation_info on an initial handshake */
	memcpy(x, (const uint8_t[]){0xff, 0x01, 0, 2, 2, 9, 0, 23, 0, 0}, 10);
	crafted_sh(rnd, 0xc02b, x, 10, V12, SYNACK_TLS_ALERT_DECODE_ERROR, NULL);
	memcpy(x, (const uint8_t[]){0xff, 0x01, 0, 3, 2, 9, 9, 0, 23, 0, 0}, 11);
	crafted_sh(rnd, 0xc02b, x, 11, V12, HF, "renegotiation_info");
	/* a suite we did not offer (CBC), and a 1.3 suite in a 1.2 ServerHello */
	crafted_sh(rnd, 0xc013, both, sizeof both, V12, IP, "suite");
	crafted_sh(rnd, 0x1301, both, sizeof both, V12, IP, "suite");
	/* an extension we did not offer (heartbeat) */
	memcpy(x, both, 9), memcpy(x + 9, (const uint8_t[]){0, 15, 0, 0}, 4);
	crafted_sh(rnd, 0xc02b, x, 13, V12, SYNACK_TLS_ALERT_UNSUPPORTED_EXTENSION, "did not offer");
	/* the same extension twice */
	memcpy(x, both, 9), memcpy(x + 9, ems, 4);
	crafted_sh(rnd, 0xc02b, x, 13, V12, IP, "twice");
	/* RFC 8446 §4.1.3: a client that offered 1.3 refuses either sentinel */
	uint8_t sent[32] = {1};
	memcpy(sent + 24, "DOWNGRD\x01", 8);
	crafted_sh(sent, 0xc02b, both, sizeof both, V13, IP, "downgrade");
	sent[31] = 0;
	crafted_sh(sent, 0xc02b, both, sizeof both, V13, IP, "downgrade");
}

/* The sentinel end to end: a 1.3-capable server answering a ClientHello
 * whose 1.3 offer an attacker removed writes DOWNGRD\1; the 1.3-capable
 * client that receives that ServerHello aborts, a 1.2-only client goes on. */
TEST(tls12_downgrade_sentinel_end_to_end)
{
	struct pair strip = pair12(K_P256, V12, V12, V12, V13); /* the attacker's 1.2-only hello */
	move(strip.c, strip.s, 1 << 20);
	struct msgs m;
	split_msgs(strip.s, &m);
	CHECK(m.n == 4 && !memcmp(m.buf + m.off[0] + 4 + 2 + 24, "DOWNGRD\x01", 8));
	struct pair victim = pair12(K_P256, V12, V13, V12, V13);
	size_t n;
	while (synack_tls_out_peek(victim.c, &n) && n)
		synack_tls_out_consume(victim.c, n); /* its ClientHello never arrives */
	CHECK(feed_msg(victim.c, &m, 0) < 0);
	expect_dead(victim.c, SYNACK_TLS_ALERT_ILLEGAL_PARAMETER, "downgrade");
	pair_free(&victim);
	pair_free(&strip);
}

/* ---- the server's state machine, driven by our client ---- */

/* The client's second flight (CKE, CCS, Finished) as records; which of
 * them reach the server is the test's. */
TEST(tls12_server_state_machine)
{
	for (int c = 0; c < 3; c++) {
		struct pair p = pair12(K_P256, V12, V12, V12, V12);
		move(p.c, p.s, 1 << 20);
		move(p.s, p.c, 1 << 20); /* the server's flight: the client now sends CKE, CCS, Finished */
		struct msgs m;
		const uint8_t *q;
		size_t n;
		CHECK((q = synack_tls_out_peek(p.c, &n)) != NULL);
		if (c == 0) /* CCS before ClientKeyExchange */
			feed_record(p.s, TLS_CT_CHANGE_CIPHER_SPEC, ccs_body, 1);
		else if (c == 1) {	     /* Finished before CCS: CKE, then a plaintext Finished */
			split_msgs(p.c, &m); /* CKE, then the encrypted Finished (noise here) */
			CHECK(m.n >= 1 && m.buf[m.off[0]] == TLS_HS_CLIENT_KEY_EXCHANGE);
			feed_msg(p.s, &m, 0);
			uint8_t fin[16] = {TLS_HS_FINISHED, 0, 0, 12};
			feed_record(p.s, TLS_CT_HANDSHAKE, fin, sizeof fin);
		} else { /* ClientKeyExchange twice */
			split_msgs(p.c, &m);
			feed_msg(p.s, &m, 0);
			feed_msg(p.s, &m, 0);
		}
		expect_dead(p.s, SYNACK_TLS_ALERT_UNEXPECTED_MESSAGE, NULL);
		pair_free(&p);
	}
}

/* Renegotiation (RFC 5746 signalled, never done): a HelloRequest to the
 * client and a ClientHello to the server after the handshake are refused,
 * under the application keys. */
TEST(tls12_renegotiation_refused)
{
	for (int side = 0; side < 2; side++) {
		struct pair p = pair12(K_RSA, V12, V13, V12, V12);
		pump(p.c, p.s);
		CHECK(both_done(&p));
		synack_tls *from = side ? p.c : p.s, *to = side ? p.s : p.c;
		static const uint8_t hello_request[4] = {0, 0, 0, 0};
		uint8_t ch[64] = {TLS_HS_CLIENT_HELLO, 0, 0, 40, 3, 3};
		if (side)
			CHECK_EQ(tls_send_handshake(from, ch, 44), 0);
		else
			CHECK_EQ(tls_send_handshake(from, hello_request, 4), 0);
		move(from, to, 1 << 20);
		CHECK_EQ(synack_tls_error(to), SYNACK_TLS_ERR_SENT(SYNACK_TLS_ALERT_UNEXPECTED_MESSAGE));
		char buf[8];
		CHECK(synack_tls_read(to, buf, sizeof buf) < 0);
		pair_free(&p);
	}
}

TEST(tls12_client_min13_refuses_tls12_server)
{
	struct pair p = pair12(K_P256, V13, V13, V12, V12);
	pump(p.c, p.s);
	CHECK(!both_done(&p));
	CHECK_EQ(synack_tls_error(p.s), SYNACK_TLS_ERR_SENT(SYNACK_TLS_ALERT_PROTOCOL_VERSION));
	pair_free(&p);
}

/* ---- resumption with session tickets (RFC 5077) ---- */

static ssize_t full_then_blob(struct pair *p, uint8_t *blob, size_t cap)
{
	pump(p->c, p->s);
	CHECK(both_done(p));
	CHECK(exchange(p->c, p->s));
	CHECK(synack_tls_events(p->c) & SYNACK_TLS_EV_TICKET);
	ssize_t n = synack_tls_get_session(p->c, blob, cap);
	CHECK(n > 0);
	synack_tls_free(p->c);
	synack_tls_free(p->s);
	return n;
}

TEST(tls12_resumption_with_ticket)
{
	for (int leaf = 0; leaf < 2; leaf++) {
		struct pair p = pair12(leaf ? K_RSA : K_P256, V12, V13, V12, V12);
		CHECK_EQ(synack_tls_config_set_alpn(p.cc, "http/1.1"), 0);
		CHECK_EQ(synack_tls_config_set_alpn(p.sc, "http/1.1"), 0);
		synack_tls_free(p.c);
		synack_tls_free(p.s);
		pair_open(&p, "localhost");
		uint8_t blob[8192];
		ssize_t n = full_then_blob(&p, blob, sizeof blob);
		synack_tls_info ci, si, full;
		for (int round = 0; round < 2; round++) { /* a ticket resumes more than once */
			pair_open(&p, "localhost");
			synack_tls_trace_enable(p.c, true);
			CHECK_EQ(synack_tls_set_session(p.c, blob, (size_t)n), 0);
			pump(p.c, p.s);
			CHECK(both_done(&p));
			synack_tls_get_info(p.c, &ci);
			synack_tls_get_info(p.s, &si);
			CHECK(ci.resumed && si.resumed);
			CHECK_EQ(ci.version, V12);
			CHECK_EQ(si.suite, ci.suite);
			CHECK(ci.peer_verified); /* carried over from the full handshake */
			CHECK(strstr(ci.peer_subject, "localhost") != NULL);
			CHECK(!strcmp(ci.alpn, "http/1.1") && !strcmp(si.alpn, "http/1.1"));
			/* the abbreviated flow: no certificate, no key exchange */
			synack_tls_trace_entry e[64];
			size_t ne = synack_tls_trace(p.c, e, 64);
			bool cert = false, ske = false, cke = false;
			for (size_t i = 0; i < ne; i++) {
				cert |=
				    e[i].content == TLS_CT_HANDSHAKE && e[i].msg_type == TLS_HS_CERTIFICATE;
				ske |= e[i].content == TLS_CT_HANDSHAKE &&
				       e[i].msg_type == TLS_HS_SERVER_KEY_EXCHANGE;
				cke |= e[i].content == TLS_CT_HANDSHAKE &&
				       e[i].msg_type == TLS_HS_CLIENT_KEY_EXCHANGE;
			}
			CHECK(!cert && !ske && !cke);
			CHECK(exchange(p.c, p.s));
			synack_tls_free(p.c);
			synack_tls_free(p.s);
		}
		/* another server name: the session is not offered, a full handshake */
		p.c = synack_tls_new(p.cc, "127.0.0.1");
		p.s = synack_tls_new(p.sc, NULL);
		synack_tls_set_session(p.c, blob, (size_t)n);
		synack_tls_config_INSECURE_no_verify(p.cc);
		pump(p.c, p.s);
		CHECK(both_done(&p));
		synack_tls_get_info(p.s, &full);
		CHECK(!full.resumed);
		pair_free(&p);
	}
}

/* A ticket the server cannot open (one bit flipped, or another server's
 * ticket key) gives a full handshake, not an error. */
TEST(tls12_bad_ticket_full_handshake)
{
	struct pair p = pair12(K_P256, V12, V12, V12, V12);
	uint8_t blob[8192];
	ssize_t n = full_then_blob(&p, blob, sizeof blob);
	blob[n - 20] ^= 1; /* inside the ticket, the last field of the blob */
	pair_open(&p, "localhost");
	CHECK_EQ(synack_tls_set_session(p.c, blob, (size_t)n), 0);
	pump(p.c, p.s);
	CHECK(both_done(&p));
	synack_tls_info ci, si;
	synack_tls_get_info(p.c, &ci);
	synack_tls_get_info(p.s, &si);
	CHECK(!ci.resumed && !si.resumed);
	CHECK(exchange(p.c, p.s));
	synack_tls_free(p.c);
	synack_tls_free(p.s);
	blob[n - 20] ^= 1;
	synack_tls_config *other = server_cfg(K_P256); /* its own ticket root */
	versions(other, V12, V12);
	p.c = synack_tls_new(p.cc, "localhost");
	p.s = synack_tls_new(other, NULL);
	CHECK_EQ(synack_tls_set_session(p.c, blob, (size_t)n), 0);
	pump(p.c, p.s);
	CHECK(synack_tls_handshake_done(p.c) && synack_tls_handshake_done(p.s));
	synack_tls_get_info(p.s, &si);
	CHECK(!si.resumed);
	synack_tls_free(p.s);
	synack_tls_config_free(other);
	p.s = NULL;
	pair_free(&p);
}

/* Tickets off on the server: no SessionTicket in its ServerHello, no
 * NewSessionTicket, no session for the client. A 1.2 session offered to a
 * server that now negotiates 1.3 is ignored (a full 1.3 handshake). */
TEST(tls12_tickets_off_and_version_change)
{
	struct pair p = pair12(K_P256, V12, V13, V12, V12);
	synack_tls_free(p.s);
	synack_tls_config_set_tickets(p.sc, 0, 0, 0);
	p.s = synack_tls_new(p.sc, NULL);
	pump(p.c, p.s);
	CHECK(both_done(&p));
	CHECK(!(synack_tls_events(p.c) & SYNACK_TLS_EV_TICKET));
	pair_free(&p);

	p = pair12(K_P256, V12, V13, V12, V12);
	uint8_t blob[8192];
	ssize_t n = full_then_blob(&p, blob, sizeof blob);
	versions(p.sc, V12, V13);
	pair_open(&p, "localhost");
	CHECK_EQ(synack_tls_set_session(p.c, blob, (size_t)n), 0);
	pump(p.c, p.s);
	CHECK(both_done(&p));
	synack_tls_info ci;
	synack_tls_get_info(p.c, &ci);
	CHECK_EQ(ci.version, V13);
	CHECK(!ci.resumed);
	pair_free(&p);
}

/* The client's side of the abbreviated handshake, crafted: a ServerHello
 * that echoes our session ID with another suite than the session's. */
TEST(tls12_resumed_suite_must_match)
{
	struct pair p = pair12(K_P256, V12, V12, V12, V12);
	uint8_t blob[8192];
	ssize_t n = full_then_blob(&p, blob, sizeof blob);
	pair_open(&p, "localhost");
	CHECK_EQ(synack_tls_set_session(p.c, blob, (size_t)n), 0);
	move(p.c, p.s, 1 << 20); /* ClientHello with the ticket */
	struct msgs m;
	split_msgs(p.s, &m); /* ServerHello (resumed), then the encrypted Finished */
	CHECK(m.n >= 1 && m.buf[m.off[0]] == TLS_HS_SERVER_HELLO);
	uint8_t *sh = m.buf + m.off[0];
	size_t so = 4 + 2 + 32 + 1 + sh[4 + 2 + 32];
	CHECK(sh[4 + 2 + 32] == 32);		       /* our session ID echoed */
	sh[so + 1] = sh[so + 1] == 0x2b ? 0x2c : 0x2b; /* another ECDSA suite */
	CHECK(feed_msg(p.c, &m, 0) < 0);
	expect_dead(p.c, SYNACK_TLS_ALERT_ILLEGAL_PARAMETER, "session's");
	pair_free(&p);
}

/* Resumption by session ID (RFC 5246 §7.4.1.2) from the server's cache,
 * for a server that issues no tickets. */
TEST(tls12_resumption_by_session_id)
{
	struct pair p = pair12(K_P256, V12, V12, V12, V12);
	synack_tls_free(p.s);
	synack_tls_config_set_tickets(p.sc, 0, 3600, 3600); /* no tickets; sessions live an hour */
	CHECK_EQ(synack_tls_config_set_session_cache(p.sc, 64), 0);
	CHECK_EQ(synack_tls_config_set_session_cache(p.cc, 64), -EINVAL); /* servers only */
	p.s = synack_tls_new(p.sc, NULL);
	uint8_t blob[8192];
	ssize_t n = full_then_blob(&p, blob, sizeof blob);
	for (int round = 0; round < 2; round++) {
		pair_open(&p, "localhost");
		CHECK_EQ(synack_tls_set_session(p.c, blob, (size_t)n), 0);
		pump(p.c, p.s);
		CHECK(both_done(&p));
		synack_tls_info ci, si;
		synack_tls_get_info(p.c, &ci);
		synack_tls_get_info(p.s, &si);
		CHECK(ci.resumed && si.resumed);
		CHECK(ci.peer_verified);
		CHECK(exchange(p.c, p.s));
		synack_tls_free(p.c);
		synack_tls_free(p.s);
	}
	/* the session expires with the configured lifetime */
	clock_ms += 3601 * 1000ll;
	pair_open(&p, "localhost");
	synack_tls_set_session(p.c, blob, (size_t)n);
	pump(p.c, p.s);
	CHECK(both_done(&p));
	synack_tls_info si;
	synack_tls_get_info(p.s, &si);
	CHECK(!si.resumed);
	clock_ms -= 3601 * 1000ll;
	synack_tls_free(p.c);
	synack_tls_free(p.s);
	/* a server without the cache (another configuration): a full handshake */
	synack_tls_config *other = server_cfg(K_P256);
	versions(other, V12, V12);
	p.c = synack_tls_new(p.cc, "localhost");
	p.s = synack_tls_new(other, NULL);
	synack_tls_set_session(p.c, blob, (size_t)n);
	pump(p.c, p.s);
	CHECK(synack_tls_handshake_done(p.c) && synack_tls_handshake_done(p.s));
	synack_tls_get_info(p.s, &si);
	CHECK(!si.resumed);
	synack_tls_free(p.s);
	synack_tls_config_free(other);
	p.s = NULL;
	pair_free(&p);
}

/* ---- client certificates (RFC 5246 §7.4.4, §7.4.6, §7.4.8) ---- */

static struct pair pair_auth(int client_leaf, bool required, uint16_t cmax)
{
	struct pair p = {client_cfg(), server_cfg(K_P256), NULL, NULL};
	versions(p.cc, V12, cmax);
	versions(p.sc, V12, V12);
	CHECK_EQ(synack_tls_config_load_ca_mem(p.sc, w.ca), 0);
	synack_tls_config_request_client_cert(p.sc, required);
	if (client_leaf >= 0)
		CHECK_EQ(
		    synack_tls_config_load_cert_mem(p.cc, w.leaf[client_leaf].cert, w.leaf[client_leaf].key),
		    0);
	pair_open(&p, "localhost");
	return p;
}

TEST(tls12_client_certificates)
{
	static const int leaves[] = {K_CLIENT, K_RSA, K_ED25519, K_P384};
	for (size_t i = 0; i < ARRAY_LEN(leaves); i++) { /* every key type signs its CertificateVerify */
		struct pair p = pair_auth(leaves[i], true, i % 2 ? V13 : V12);
		pump(p.c, p.s);
		CHECK(both_done(&p));
		if (!both_done(&p))
			show_errors(&p, "client certificate");
		synack_tls_info si;
		synack_tls_get_info(p.s, &si);
		CHECK_EQ(si.version, V12);
		CHECK(si.peer_verified);
		CHECK(strstr(si.peer_subject, leaves[i] == K_CLIENT ? "client" : "localhost") != NULL);
		CHECK(!si.resumed);
		CHECK(exchange(p.c, p.s));
		/* such a server hands out no session: no ticket, no session ID */
		CHECK(!(synack_tls_events(p.c) & SYNACK_TLS_EV_TICKET));
		pair_free(&p);
	}
	/* none, but one is required: handshake_failure; optional: served */
	struct pair p = pair_auth(-1, true, V12);
	pump(p.c, p.s);
	CHECK_EQ(synack_tls_error(p.s), SYNACK_TLS_ERR_SENT(SYNACK_TLS_ALERT_HANDSHAKE_FAILURE));
	CHECK(strstr(synack_tls_error_detail(p.s), "no certificate") != NULL);
	pair_free(&p);
	p = pair_auth(-1, false, V12);
	pump(p.c, p.s);
	CHECK(both_done(&p));
	synack_tls_info si;
	synack_tls_get_info(p.s, &si);
	CHECK(!si.peer_verified);
	pair_free(&p);
	/* a certificate of a CA the server does not trust */
	p = pair_auth(K_UNTRUSTED, true, V12);
	pump(p.c, p.s);
	CHECK_EQ(synack_tls_error(p.s), SYNACK_TLS_ERR_SENT(SYNACK_TLS_ALERT_UNKNOWN_CA));
	pair_free(&p);
}

/* The client's flight taken apart: Certificate, ClientKeyExchange,
 * CertificateVerify (plaintext), then CCS and the encrypted Finished. */
TEST(tls12_client_certificate_verify_checked)
{
	for (int c = 0; c < 2; c++) {
		struct pair p = pair_auth(K_CLIENT, true, V12);
		move(p.c, p.s, 1 << 20);
		move(p.s, p.c, 1 << 20);
		struct msgs m;
		split_msgs(p.c, &m);
		CHECK(m.n >= 3 && m.buf[m.off[0]] == TLS_HS_CERTIFICATE &&
		      m.buf[m.off[1]] == TLS_HS_CLIENT_KEY_EXCHANGE &&
		      m.buf[m.off[2]] == TLS_HS_CERTIFICATE_VERIFY);
		feed_msg(p.s, &m, 0);
		feed_msg(p.s, &m, 1);
		if (c == 0) { /* one bit of the signature flipped */
			m.buf[m.off[2] + m.mlen[2] - 3] ^= 0x04;
			feed_msg(p.s, &m, 2);
			expect_dead(p.s, SYNACK_TLS_ALERT_DECRYPT_ERROR, "CertificateVerify");
		} else { /* no CertificateVerify: its ChangeCipherSpec comes early */
			feed_record(p.s, TLS_CT_CHANGE_CIPHER_SPEC, ccs_body, 1);
			expect_dead(p.s, SYNACK_TLS_ALERT_UNEXPECTED_MESSAGE, NULL);
		}
		pair_free(&p);
	}
}

/* The server's Finished with one bit of verify_data flipped and the record
 * sealed again under the server's write key (which the client derived:
 * hs->kb12), so it opens and only verify_data is wrong: decrypt_error, on
 * a full and on a resumed handshake. */
TEST(tls12_client_tampered_server_finished)
{
	for (int resumed = 0; resumed < 2; resumed++) {
		struct pair p = pair12(K_P256, V12, V12, V12, V12);
		uint8_t blob[8192], buf[8192], plain[256], rec[512];
		ssize_t bn = resumed ? full_then_blob(&p, blob, sizeof blob) : 0;
		if (resumed) {
			pair_open(&p, "localhost");
			CHECK_EQ(synack_tls_set_session(p.c, blob, (size_t)bn), 0);
		}
		move(p.c, p.s, 1 << 20); /* ClientHello */
		if (!resumed) {
			move(p.s, p.c, 1 << 20); /* the server's flight */
			move(p.c, p.s, 1 << 20); /* CKE, CCS, Finished: the server answers */
		}
		const uint8_t *q;
		size_t n = 0, k;
		while ((q = synack_tls_out_peek(p.s, &k)) && k && n + k <= sizeof buf) {
			memcpy(buf + n, q, k);
			n += k;
			synack_tls_out_consume(p.s, k);
		}
		/* the last two records: CCS, then the encrypted Finished */
		size_t a = 0, prev = 0, last = 0;
		while (a < n) {
			prev = last, last = a;
			a += 5 + (size_t)(buf[a + 3] << 8 | buf[a + 4]);
		}
		CHECK(a == n && buf[prev] == TLS_CT_CHANGE_CIPHER_SPEC && buf[last] == TLS_CT_HANDSHAKE);
		CHECK(synack_tls_feed(p.c, buf, last) == (ssize_t)last); /* everything before the Finished */
		CHECK_EQ(synack_tls_error(p.c), 0);
		const struct tls12_key_block *kb = &p.c->hs->kb12;
		const struct crypto_ops *c = &crypto_openssl;
		struct crypto_aead *rd = c->aead_new(CRYPTO_AES_128_GCM, kb->server_key, false);
		struct crypto_aead *wr = c->aead_new(CRYPTO_AES_128_GCM, kb->server_key, true);
		int pl = tls12_open(c, rd, CRYPTO_AES_128_GCM, kb->server_iv, 0, TLS_CT_HANDSHAKE, 0x0303,
				    buf + last + 5, n - last - 5, plain, sizeof plain);
		CHECK_EQ(pl, 16);
		CHECK_EQ(plain[0], TLS_HS_FINISHED);
		plain[4 + 7] ^= 0x20;
		int rl = tls12_seal(c, wr, CRYPTO_AES_128_GCM, kb->server_iv, 0, TLS_CT_HANDSHAKE, 0x0303,
				    plain, 16, rec + 5, sizeof rec - 5);
		CHECK(rl > 0);
		memcpy(rec, buf + last, 3);
		rec[3] = (uint8_t)(rl >> 8);
		rec[4] = (uint8_t)rl;
		CHECK(synack_tls_feed(p.c, rec, 5 + (size_t)rl) < 0);
		CHECK_EQ(synack_tls_error(p.c), SYNACK_TLS_ERR_SENT(SYNACK_TLS_ALERT_DECRYPT_ERROR));
		CHECK(!synack_tls_handshake_done(p.c));
		c->aead_free(rd);
		c->aead_free(wr);
		pair_free(&p);
	}
}
