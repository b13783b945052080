/* The record layer under TLS 1.2 rules (RFC 5246 §6.2, §7.1; RFC 5288 §3;
 * RFC 7905 §2): tls_record_set_version and tls12_set_keys on connections
 * from tls_test_conn (handshake bypassed; handshake messages go to a test
 * sink, CCS records are counted instead of reaching tls_hs_ccs). Records
 * are checked on the wire and built by hand with tls12_seal. */
#include <errno.h>
#include <stdlib.h>

#include "tls/tls12.h"
#include "tls/tls_internal.h"
#include "unit.h"

static const struct crypto_ops *C = &crypto_openssl;
static const int AEADS[] = {CRYPTO_AES_128_GCM, CRYPTO_AES_256_GCM, CRYPTO_CHACHA20_POLY1305};

static struct synack_tls_config *cfg(void)
{
	static struct synack_tls_config *c;
	if (!c)
		c = synack_tls_config_new(SYNACK_TLS_CLIENT);
	return c;
}

static uint8_t key1[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22};
static uint8_t iv1[12] = {0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab, 0xac};
static uint8_t key2[32] = {0x55, 0x66};
static uint8_t iv2[12] = {0x77, 0x88, 0x99};

static uint8_t sinkbuf[TLS_MAX_HS_MESSAGE + 4096];
static struct bbuf sink;

/* A connection under TLS 1.2 rules, its handshake messages to the sink. */
static struct synack_tls *conn12(void)
{
	struct synack_tls *t = tls_test_conn(cfg());
	CHECK_EQ(tls_record_set_version(t, SYNACK_TLS_VERSION_12), 0);
	sink = bbuf_make(sinkbuf, sizeof sinkbuf);
	t->core->test_sink = &sink;
	return t;
}

/* A writer and a reader sharing one direction's keys, handshake done. */
struct pair {
	struct synack_tls *w, *r;
};

static struct pair pair12(int aead)
{
	struct pair p = {conn12(), conn12()};
	CHECK_EQ(tls12_set_keys(p.w, TLS_WRITE, aead, key1, iv1), 0);
	CHECK_EQ(tls12_set_keys(p.r, TLS_READ, aead, key1, iv1), 0);
	p.w->hs_done = p.r->hs_done = true;
	return p;
}

static void pair_free(struct pair p)
{
	synack_tls_free(p.w);
	synack_tls_free(p.r);
}

/* Feed all of buf; the error or 0. */
static int feed_all(struct synack_tls *t, const uint8_t *buf, size_t n)
{
	for (size_t off = 0; off < n;) {
		ssize_t k = synack_tls_feed(t, buf + off, n - off);
		if (k < 0)
			return (int)k;
		if (k == 0)
			return 0; /* application data waiting */
		off += (size_t)k;
	}
	return 0;
}

/* A record sealed by hand (RFC 5246 §6.2.3.3) under key1/iv1. */
static size_t seal12(int aead, uint64_t seq, uint8_t type, const uint8_t *in, size_t n, uint8_t *out)
{
	struct crypto_aead *a = C->aead_new(aead, key1, true);
	int r = tls12_seal(C, a, aead, iv1, seq, type, 0x0303, in, n, out + 5, 20000);
	C->aead_free(a);
	CHECK(r > 0);
	out[0] = type, out[1] = 3, out[2] = 3, out[3] = (uint8_t)(r >> 8), out[4] = (uint8_t)r;
	return 5 + (size_t)r;
}

#define ERR(alert) SYNACK_TLS_ERR_SENT(SYNACK_TLS_ALERT_##alert)

TEST(tls12_record_round_trip_each_aead)
{
	uint8_t data[3000], wire[8000], got[3000];
	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (uint8_t)(i * 13);
	for (size_t i = 0; i < 3; i++) {
		struct pair p = pair12(AEADS[i]);
		p.w->send_limit = 1000;
		CHECK_EQ(synack_tls_write(p.w, data, sizeof data), (ssize_t)sizeof data);
		size_t n = synack_tls_take(p.w, wire, sizeof wire), got_n = 0;
		CHECK_EQ(n, 3 * (5 + 1000 + tls12_explicit_nonce_len(AEADS[i]) + 16));
		for (size_t off = 0; off < n;) {
			ssize_t k = synack_tls_feed(p.r, wire + off, n - off);
			CHECK(k >= 0);
			off += (size_t)k;
			ssize_t g = synack_tls_read(p.r, got + got_n, sizeof got - got_n);
			if (g > 0)
				got_n += (size_t)g;
			if (k <= 0 && g <= 0)
				break;
		}
		CHECK_EQ(got_n, sizeof data);
		CHECK_MEM(got, data, sizeof data);
		CHECK_EQ(p.r->rd.seq, 3);
		CHECK_EQ(synack_tls_error(p.r), 0);
		pair_free(p);
	}
}

TEST(tls12_record_wire_gcm_explicit_nonce_is_seq)
{
	uint8_t wire[512], pt[64];
	static const uint8_t hs[] = {TLS_HS_FINISHED, 0, 0, 12, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
	struct pair p = pair12(CRYPTO_AES_128_GCM);
	CHECK_EQ(synack_tls_write(p.w, "abc", 3), 3);
	CHECK_EQ(tls_send_handshake(p.w, hs, sizeof hs), 0);
	CHECK_EQ(tls_send_alert(p.w, SYNACK_TLS_ALERT_CLOSE_NOTIFY), 0);
	size_t n = synack_tls_take(p.w, wire, sizeof wire), off = 0;
	static const uint8_t types[] = {23, 22, 21};
	static const size_t lens[] = {3, sizeof hs, 2};
	struct crypto_aead *a = C->aead_new(CRYPTO_AES_128_GCM, key1, false);
	for (uint64_t seq = 0; seq < 3; seq++) {
		uint8_t *r = wire + off;
		size_t flen = (size_t)r[3] << 8 | r[4];
		CHECK_EQ(r[0], types[seq]); /* the real type outside: no TLSInnerPlaintext */
		CHECK_EQ(r[1], 3);
		CHECK_EQ(r[2], 3);
		CHECK_EQ(flen, 8 + lens[seq] + 16);
		for (int i = 0; i < 8; i++)
			CHECK_EQ(r[5 + i], i == 7 ? seq : 0);
		CHECK_EQ(
		    tls12_open(C, a, CRYPTO_AES_128_GCM, iv1, seq, r[0], 0x0303, r + 5, flen, pt, sizeof pt),
		    (int)lens[seq]);
		off += 5 + flen;
	}
	CHECK_EQ(off, n);
	CHECK_MEM(pt, "\x01\x00", 2);
	C->aead_free(a);
	pair_free(p);
}

TEST(tls12_record_wire_chacha_no_explicit_nonce)
{
	uint8_t wire[128], pt[16];
	struct pair p = pair12(CRYPTO_CHACHA20_POLY1305);
	CHECK_EQ(synack_tls_write(p.w, "hello", 5), 5);
	size_t n = synack_tls_take(p.w, wire, sizeof wire);
	CHECK_EQ(n, 5 + 5 + 16);
	CHECK_MEM(wire, "\x17\x03\x03\x00\x15", 5);
	struct crypto_aead *a = C->aead_new(CRYPTO_CHACHA20_POLY1305, key1, false);
	CHECK_EQ(tls12_open(C, a, CRYPTO_CHACHA20_POLY1305, iv1, 0, 23, 0x0303, wire + 5, 21, pt, sizeof pt),
		 5);
	CHECK_MEM(pt, "hello", 5);
	C->aead_free(a);
	pair_free(p);
}

TEST(tls12_record_hand_sealed_records_open)
{
	uint8_t rec[256], got[64];
	for (size_t i = 0; i < 3; i++) {
		struct pair p = pair12(AEADS[i]);
		for (uint64_t seq = 0; seq < 3; seq++) {
			size_t n = seal12(AEADS[i], seq, 23, (const uint8_t *)"xyz", 3, rec);
			CHECK_EQ(feed_all(p.r, rec, n), 0);
			CHECK_EQ(synack_tls_read(p.r, got, sizeof got), 3);
			CHECK_MEM(got, "xyz", 3);
		}
		pair_free(p);
	}
}

/* A wrong sequence number, a flipped byte, the wrong outer type in the
 * additional data: bad_record_mac, and the error stays. */
TEST(tls12_record_bad_mac_sticky)
{
	uint8_t rec[256], good[256];
	for (size_t i = 0; i < 3; i++) {
		for (int how = 0; how < 4; how++) {
			struct pair p = pair12(AEADS[i]);
			size_t n = seal12(AEADS[i], how == 0 ? 1 : 0, 23, (const uint8_t *)"data", 4, rec);
			size_t gn = seal12(AEADS[i], 0, 23, (const uint8_t *)"data", 4, good);
			if (how == 1)
				rec[n - 1] ^= 1; /* tag */
			if (how == 2)
				rec[5 + tls12_explicit_nonce_len(AEADS[i])] ^= 0x80; /* ciphertext */
			if (how == 3)
				rec[0] = 22; /* the outer type is authenticated */
			CHECK_EQ(feed_all(p.r, rec, n), ERR(BAD_RECORD_MAC));
			CHECK_EQ(feed_all(p.r, good, gn), ERR(BAD_RECORD_MAC));
			CHECK_EQ(synack_tls_error(p.r), ERR(BAD_RECORD_MAC));
			pair_free(p);
		}
	}
}

TEST(tls12_record_gcm_explicit_nonce_taken_from_wire)
{
	/* The receiver reads the explicit nonce from the fragment; one that
	 * differs from what was sealed does not authenticate. */
	uint8_t rec[256];
	struct pair p = pair12(CRYPTO_AES_256_GCM);
	size_t n = seal12(CRYPTO_AES_256_GCM, 0, 23, (const uint8_t *)"data", 4, rec);
	rec[12] ^= 1;
	CHECK_EQ(feed_all(p.r, rec, n), ERR(BAD_RECORD_MAC));
	pair_free(p);
}

TEST(tls12_record_overflow)
{
	static uint8_t rec[TLS_MAX_CIPHERTEXT + 5];
	/* a header beyond what any AEAD record of 2^14 bytes needs */
	struct pair p = pair12(CRYPTO_AES_128_GCM);
	uint16_t big = TLS_MAX_CIPHERTEXT + 1;
	uint8_t hdr[5] = {23, 3, 3, (uint8_t)(big >> 8), (uint8_t)big};
	CHECK_EQ(feed_all(p.r, hdr, 5), ERR(RECORD_OVERFLOW));
	pair_free(p);
	/* within the header cap, but its plaintext would exceed 2^14 (§6.2.1) */
	p = pair12(CRYPTO_AES_128_GCM);
	size_t len = TLS_MAX_CIPHERTEXT;
	memset(rec, 0x42, sizeof rec);
	rec[0] = 23, rec[1] = 3, rec[2] = 3, rec[3] = (uint8_t)(len >> 8), rec[4] = (uint8_t)len;
	CHECK_EQ(feed_all(p.r, rec, 5 + len), ERR(RECORD_OVERFLOW));
	pair_free(p);
	/* a plaintext record before keys: 2^14 + 1 */
	struct synack_tls *t = conn12();
	uint8_t h2[5] = {22, 3, 3, 0x40, 0x01};
	CHECK_EQ(feed_all(t, h2, 5), ERR(RECORD_OVERFLOW));
	synack_tls_free(t);
}

TEST(tls12_record_max_plaintext_accepted)
{
	static uint8_t data[TLS12_MAX_PLAINTEXT], wire[TLS12_MAX_PLAINTEXT + 64], got[TLS12_MAX_PLAINTEXT];
	memset(data, 0x3c, sizeof data);
	for (size_t i = 0; i < 3; i++) {
		struct pair p = pair12(AEADS[i]);
		p.w->send_limit = TLS12_MAX_PLAINTEXT;
		CHECK_EQ(synack_tls_write(p.w, data, sizeof data), (ssize_t)sizeof data);
		size_t n = synack_tls_take(p.w, wire, sizeof wire);
		CHECK_EQ(n, 5 + sizeof data + tls12_explicit_nonce_len(AEADS[i]) + 16);
		CHECK_EQ(feed_all(p.r, wire, n), 0);
		CHECK_EQ(synack_tls_read(p.r, got, sizeof got), (ssize_t)sizeof got);
		CHECK_MEM(got, data, sizeof data);
		pair_free(p);
	}
}

/* §7.1: the CCS goes to the handshake layer; the core switches nothing. */
TEST(tls12_record_ccs_forwarded_not_acted_on)
{
	static const uint8_t ccs[] = {20, 3, 3, 0, 1, 1};
	uint8_t rec[128];
	struct synack_tls *t = conn12();
	CHECK_EQ(feed_all(t, ccs, sizeof ccs), 0);
	CHECK_EQ(t->core->test_ccs, 1);
	CHECK(t->rd.aead == NULL);
	CHECK_EQ(t->rd.epoch, TLS_EPOCH_PLAINTEXT);
	/* the core does not judge a second one either: the handshake layer does */
	CHECK_EQ(feed_all(t, ccs, sizeof ccs), 0);
	CHECK_EQ(t->core->test_ccs, 2);
	CHECK(t->rd.aead == NULL);
	/* a protected record after it: no keys to open it with */
	size_t n = seal12(CRYPTO_AES_128_GCM, 0, 23, (const uint8_t *)"\x14\x00\x00\x00", 4, rec);
	CHECK_EQ(feed_all(t, rec, n), ERR(UNEXPECTED_MESSAGE));
	synack_tls_free(t);
}

/* What the handshake layer does at CCS: install the read keys; the next
 * record (Finished) opens under them at sequence number 0. */
TEST(tls12_record_ccs_then_keys_then_finished)
{
	static const uint8_t ccs[] = {20, 3, 3, 0, 1, 1};
	static const uint8_t fin[] = {TLS_HS_FINISHED, 0, 0, 12, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9};
	uint8_t rec[128];
	for (size_t i = 0; i < 3; i++) {
		struct synack_tls *t = conn12();
		CHECK_EQ(feed_all(t, ccs, sizeof ccs), 0);
		CHECK_EQ(t->core->test_ccs, 1);
		CHECK_EQ(tls12_set_keys(t, TLS_READ, AEADS[i], key1, iv1), 0);
		size_t n = seal12(AEADS[i], 0, 22, fin, sizeof fin, rec);
		CHECK_EQ(feed_all(t, rec, n), 0);
		CHECK_EQ(sink.len, sizeof fin);
		CHECK_MEM(sink.p, fin, sizeof fin);
		CHECK_EQ(t->rd.seq, 1);
		/* a second CCS, now under read keys: refused */
		CHECK_EQ(feed_all(t, ccs, sizeof ccs), ERR(UNEXPECTED_MESSAGE));
		CHECK_EQ(t->core->test_ccs, 1);
		synack_tls_free(t);
	}
}

TEST(tls12_record_app_data_before_keys_after_ccs)
{
	static const uint8_t ccs[] = {20, 3, 3, 0, 1, 1};
	uint8_t rec[128];
	struct synack_tls *t = conn12();
	CHECK_EQ(feed_all(t, ccs, sizeof ccs), 0);
	size_t n = seal12(CRYPTO_AES_128_GCM, 0, 23, (const uint8_t *)"x", 1, rec);
	CHECK_EQ(feed_all(t, rec, n), ERR(UNEXPECTED_MESSAGE));
	synack_tls_free(t);
}

TEST(tls12_record_ccs_malformed)
{
	static const uint8_t bad[][7] = {{20, 3, 3, 0, 1, 2}, {20, 3, 3, 0, 2, 1, 1}, {20, 3, 3, 0, 1, 0}};
	static const size_t lens[] = {6, 7, 6};
	for (size_t i = 0; i < 3; i++) {
		struct synack_tls *t = conn12();
		CHECK_EQ(feed_all(t, bad[i], lens[i]), ERR(UNEXPECTED_MESSAGE));
		CHECK_EQ(t->core->test_ccs, 0);
		synack_tls_free(t);
	}
	/* empty CCS record */
	struct synack_tls *t = conn12();
	CHECK_EQ(feed_all(t, (const uint8_t *)"\x14\x03\x03\x00\x00", 5), ERR(UNEXPECTED_MESSAGE));
	synack_tls_free(t);
}

TEST(tls12_record_ccs_after_handshake_refused)
{
	static const uint8_t ccs[] = {20, 3, 3, 0, 1, 1};
	struct synack_tls *t = conn12();
	t->hs_done = true;
	CHECK_EQ(feed_all(t, ccs, sizeof ccs), ERR(UNEXPECTED_MESSAGE));
	CHECK_EQ(t->core->test_ccs, 0);
	synack_tls_free(t);
}

/* RFC 5246 §7.4.9: a handshake message must not span the key change. */
TEST(tls12_record_ccs_inside_fragmented_message)
{
	static const uint8_t part[] = {22, 3, 3, 0, 4, TLS_HS_FINISHED, 0, 0, 12};
	static const uint8_t ccs[] = {20, 3, 3, 0, 1, 1};
	struct synack_tls *t = conn12();
	CHECK_EQ(feed_all(t, part, sizeof part), 0);
	CHECK_EQ(feed_all(t, ccs, sizeof ccs), ERR(UNEXPECTED_MESSAGE));
	CHECK_EQ(t->core->test_ccs, 0);
	synack_tls_free(t);
	t = conn12();
	CHECK_EQ(feed_all(t, part, sizeof part), 0);
	CHECK_EQ(tls12_set_keys(t, TLS_READ, CRYPTO_AES_128_GCM, key1, iv1), ERR(UNEXPECTED_MESSAGE));
	CHECK(t->rd.aead == NULL);
	synack_tls_free(t);
}

TEST(tls12_record_seq_reset_by_set_keys)
{
	uint8_t wire[512], got[16];
	for (size_t i = 0; i < 3; i++) {
		struct pair p = pair12(AEADS[i]);
		CHECK_EQ(synack_tls_write(p.w, "one", 3), 3);
		CHECK_EQ(synack_tls_write(p.w, "two", 3), 3);
		size_t n = synack_tls_take(p.w, wire, sizeof wire);
		size_t half = n / 2;
		CHECK_EQ(feed_all(p.r, wire, half), 0);
		CHECK_EQ(synack_tls_read(p.r, got, sizeof got), 3);
		CHECK_EQ(feed_all(p.r, wire + half, n - half), 0);
		CHECK_EQ(synack_tls_read(p.r, got, sizeof got), 3);
		CHECK_EQ(p.r->rd.seq, 2);
		CHECK_EQ(p.w->wr.seq, 2);
		CHECK_EQ(tls12_set_keys(p.w, TLS_WRITE, AEADS[i], key2, iv2), 0);
		CHECK_EQ(tls12_set_keys(p.r, TLS_READ, AEADS[i], key2, iv2), 0);
		CHECK_EQ(p.r->rd.seq, 0);
		CHECK_EQ(p.w->wr.seq, 0);
		CHECK_EQ(synack_tls_write(p.w, "three", 5), 5);
		n = synack_tls_take(p.w, wire, sizeof wire);
		if (tls12_explicit_nonce_len(AEADS[i]))
			CHECK_MEM(wire + 5, "\0\0\0\0\0\0\0\0", 8);
		CHECK_EQ(feed_all(p.r, wire, n), 0);
		CHECK_EQ(synack_tls_read(p.r, got, sizeof got), 5);
		CHECK_MEM(got, "three", 5);
		CHECK_EQ(p.r->rd.seq, 1);
		pair_free(p);
	}
}

TEST(tls12_record_alerts)
{
	uint8_t wire[128];
	struct pair p = pair12(CRYPTO_AES_128_GCM);
	CHECK_EQ(tls_send_alert(p.w, SYNACK_TLS_ALERT_CLOSE_NOTIFY), 0);
	size_t n = synack_tls_take(p.w, wire, sizeof wire);
	CHECK_EQ(n, 5 + 8 + 2 + 16);
	CHECK_EQ(wire[0], 21);
	CHECK_EQ(feed_all(p.r, wire, n), 0);
	CHECK(p.r->peer_closed);
	pair_free(p);
	p = pair12(CRYPTO_CHACHA20_POLY1305);
	CHECK_EQ(tls_send_alert(p.w, SYNACK_TLS_ALERT_HANDSHAKE_FAILURE), 0);
	n = synack_tls_take(p.w, wire, sizeof wire);
	CHECK_EQ(wire[0], 21);
	CHECK_EQ(feed_all(p.r, wire, n), SYNACK_TLS_ERR_RECEIVED(SYNACK_TLS_ALERT_HANDSHAKE_FAILURE));
	pair_free(p);
	/* a failure under 1.2 write keys sends a sealed alert */
	p = pair12(CRYPTO_AES_256_GCM);
	tls_fail(p.w, SYNACK_TLS_ALERT_DECODE_ERROR, "test");
	n = synack_tls_take(p.w, wire, sizeof wire);
	CHECK_EQ(feed_all(p.r, wire, n), SYNACK_TLS_ERR_RECEIVED(SYNACK_TLS_ALERT_DECODE_ERROR));
	pair_free(p);
}

TEST(tls12_record_split_at_every_byte)
{
	uint8_t stream[4096], msg[1500], data[300], got[400];
	for (size_t i = 0; i < sizeof msg; i++)
		msg[i] = (uint8_t)(i * 7);
	msg[0] = TLS_HS_CERTIFICATE, msg[1] = 0, msg[2] = (sizeof msg - 4) >> 8,
	msg[3] = (sizeof msg - 4) & 0xff;
	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (uint8_t)i;
	for (size_t a = 0; a < 3; a++) {
		struct pair p = pair12(AEADS[a]);
		p.w->send_limit = 512; /* the message spans three records */
		CHECK_EQ(tls_send_handshake(p.w, msg, sizeof msg), 0);
		CHECK_EQ(synack_tls_write(p.w, data, sizeof data), (ssize_t)sizeof data);
		size_t n = synack_tls_take(p.w, stream, sizeof stream);
		for (size_t cut = 0; cut <= n; cut++) {
			struct synack_tls *r = conn12();
			CHECK_EQ(tls12_set_keys(r, TLS_READ, AEADS[a], key1, iv1), 0);
			r->hs_done = true;
			size_t off = 0, got_n = 0;
			if (cut)
				off += (size_t)synack_tls_feed(r, stream, cut);
			while (off < n) {
				ssize_t k = synack_tls_feed(r, stream + off, n - off);
				CHECK(k >= 0);
				off += (size_t)k;
				ssize_t g = synack_tls_read(r, got + got_n, sizeof got - got_n);
				got_n += g > 0 ? (size_t)g : 0;
				if (g <= 0 && k == 0)
					break;
			}
			ssize_t g = synack_tls_read(r, got + got_n, sizeof got - got_n);
			got_n += g > 0 ? (size_t)g : 0;
			CHECK_EQ(sink.len, sizeof msg);
			CHECK_MEM(sink.p, msg, sizeof msg);
			CHECK_EQ(got_n, sizeof data);
			CHECK_MEM(got, data, sizeof data);
			CHECK_EQ(synack_tls_error(r), 0);
			synack_tls_free(r);
		}
		pair_free(p);
	}
}

TEST(tls12_record_empty_records_bounded)
{
	uint8_t wire[64];
	struct pair p = pair12(CRYPTO_AES_128_GCM);
	for (int i = 0; i < 32; i++) {
		CHECK_EQ(tls_record_write(p.w, TLS_CT_APPLICATION_DATA, NULL, 0, false), 0);
		size_t n = synack_tls_take(p.w, wire, sizeof wire);
		CHECK_EQ(n, 5 + 8 + 16);
		CHECK_EQ(feed_all(p.r, wire, n), 0);
	}
	/* a non-empty record resets the count */
	CHECK_EQ(synack_tls_write(p.w, "z", 1), 1);
	size_t n = synack_tls_take(p.w, wire, sizeof wire);
	CHECK_EQ(feed_all(p.r, wire, n), 0);
	CHECK_EQ(synack_tls_read(p.r, wire, sizeof wire), 1);
	for (int i = 0; i <= 32; i++) {
		CHECK_EQ(tls_record_write(p.w, TLS_CT_APPLICATION_DATA, NULL, 0, false), 0);
		n = synack_tls_take(p.w, wire, sizeof wire);
		CHECK_EQ(feed_all(p.r, wire, n), i < 32 ? 0 : ERR(UNEXPECTED_MESSAGE));
	}
	pair_free(p);
}

TEST(tls12_record_app_data_before_finished)
{
	uint8_t wire[64];
	struct pair p = pair12(CRYPTO_AES_128_GCM);
	p.r->hs_done = false;
	CHECK_EQ(synack_tls_write(p.w, "early", 5), 5);
	size_t n = synack_tls_take(p.w, wire, sizeof wire);
	CHECK_EQ(feed_all(p.r, wire, n), ERR(UNEXPECTED_MESSAGE));
	pair_free(p);
}

TEST(tls12_record_no_key_update)
{
	static const uint8_t ku[] = {TLS_HS_KEY_UPDATE, 0, 0, 1, 0};
	uint8_t wire[64];
	struct pair p = pair12(CRYPTO_AES_128_GCM);
	CHECK_EQ(synack_tls_key_update(p.w, true), -EOPNOTSUPP);
	CHECK_EQ(tls_out_pending(p.w), 0);
	CHECK_EQ(tls_send_handshake(p.w, ku, sizeof ku), 0);
	size_t n = synack_tls_take(p.w, wire, sizeof wire);
	CHECK_EQ(feed_all(p.r, wire, n), ERR(UNEXPECTED_MESSAGE));
	pair_free(p);
	/* the AEAD limit does not trigger a KeyUpdate under 1.2 rules */
	p = pair12(CRYPTO_AES_128_GCM);
	p.w->core->ku_limit = 1;
	CHECK_EQ(synack_tls_write(p.w, "a", 1), 1);
	CHECK_EQ(synack_tls_write(p.w, "b", 1), 1);
	CHECK_EQ(tls_out_pending(p.w), 2 * (5 + 8 + 1 + 16));
	CHECK_EQ(p.w->info.key_updates, 0);
	pair_free(p);
}

TEST(tls12_record_write_seq_never_wraps)
{
	struct pair p = pair12(CRYPTO_AES_128_GCM);
	p.w->wr.seq = UINT64_MAX - 1;
	CHECK_EQ(synack_tls_write(p.w, "a", 1), 1);
	CHECK_EQ(p.w->wr.seq, UINT64_MAX);
	CHECK(synack_tls_write(p.w, "b", 1) < 0);
	CHECK_EQ(synack_tls_error(p.w), ERR(INTERNAL_ERROR));
	pair_free(p);
}

TEST(tls12_record_rules_selection)
{
	struct synack_tls *t = tls_test_conn(cfg());
	/* 1.2 keys need 1.2 rules */
	CHECK_EQ(tls12_set_keys(t, TLS_WRITE, CRYPTO_AES_128_GCM, key1, iv1), ERR(INTERNAL_ERROR));
	synack_tls_free(t);
	t = tls_test_conn(cfg());
	CHECK_EQ(tls_record_set_version(t, 0x0302), -EINVAL);
	CHECK_EQ(tls_record_set_version(t, SYNACK_TLS_VERSION_13), 0);
	CHECK(!tls_rules12(t));
	CHECK_EQ(tls_record_set_version(t, SYNACK_TLS_VERSION_12), 0);
	CHECK(tls_rules12(t));
	CHECK_EQ(tls12_set_keys(t, TLS_WRITE, 99, key1, iv1), ERR(INTERNAL_ERROR));
	synack_tls_free(t);
	t = conn12();
	CHECK_EQ(tls12_set_keys(t, TLS_WRITE, CRYPTO_AES_128_GCM, key1, iv1), 0);
	CHECK_EQ(t->wr.epoch, TLS_EPOCH_APPLICATION);
	CHECK_EQ(tls_record_set_version(t, SYNACK_TLS_VERSION_13), -EBUSY);
	CHECK_EQ(tls_record_set_version(t, SYNACK_TLS_VERSION_12), 0);
	/* 1.3 keys under 1.2 rules are refused */
	CHECK_EQ(tls_set_keys(t, TLS_READ, TLS_EPOCH_HANDSHAKE, tls_suite_find(SYNACK_TLS_AES_128_GCM_SHA256),
			      key1),
		 ERR(INTERNAL_ERROR));
	synack_tls_free(t);
}

/* CCS is always sent in the clear, even with write keys installed. */
TEST(tls12_record_ccs_sent_in_clear)
{
	uint8_t wire[64];
	struct pair p = pair12(CRYPTO_AES_128_GCM);
	CHECK_EQ(tls_send_ccs(p.w), 0);
	size_t n = synack_tls_take(p.w, wire, sizeof wire);
	CHECK_EQ(n, 6);
	CHECK_MEM(wire, "\x14\x03\x03\x00\x01\x01", 6);
	CHECK_EQ(p.w->wr.seq, 0);
	pair_free(p);
}
