/* The TLS core without a handshake: record layer edge cases (RFC 8446 §5),
 * handshake-message reassembly, KeyUpdate (§4.6.3), the AEAD limits
 * (§5.5), the sticky error, memory, configuration and names. Connections
 * come from tls_test_conn (handshake bypassed, keys set directly with
 * tls_set_keys); handshake messages they receive go to a test sink.
 *
 * Standalone build, before or without the handshake layer:
 *   cc -DTLS_CORE_STANDALONE ... tests/unit/test_tls_core.c tests/unit/unit.c
 *      src/tls/{keysched,record,conn,config,names}.c src/crypto/\*.c src/base/\*.c -lcrypto
 * (the stubs below stand in for tls_hs_*; in the normal build the library's
 * handshake layer is linked and never called: started is set). */
#include <errno.h>
#include <stdlib.h>

#include "tls/tls_internal.h"
#include "unit.h"

#ifdef TLS_CORE_STANDALONE
int tls_hs_start(struct synack_tls *t)
{
	return 0;
}
int tls_hs_input(struct synack_tls *t, const uint8_t *msg, size_t len, int epoch)
{
	return 0;
}
int tls_hs_ccs(struct synack_tls *t)
{
	return 0;
}
void tls_hs_free(struct synack_tls *t) {}
struct tls_session;
int tls_session_parse(const uint8_t *blob, size_t len, struct tls_session *s);
int tls_session_parse(const uint8_t *blob, size_t len, struct tls_session *s)
{
	return -1;
}
#endif

static const struct crypto_ops *C = &crypto_openssl;

static struct synack_tls_config *cfg(void)
{
	static struct synack_tls_config *c;
	if (!c)
		c = synack_tls_config_new(SYNACK_TLS_CLIENT);
	return c;
}

static const uint8_t secret1[32] = {1,	2,  3,	4,  5,	6,  7,	8,  9,	10, 11, 12, 13, 14, 15, 16,
				    17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
static const uint8_t secret2[32] = {0xa5, 0xa5, 0xa5, 0xa5};

static const struct tls_suite *suite(void)
{
	return tls_suite_find(SYNACK_TLS_AES_128_GCM_SHA256);
}

/* A connected pair in one direction: w writes under `secret`, r reads it. */
struct pair {
	struct synack_tls *w, *r;
	uint8_t sinkbuf[TLS_MAX_HS_MESSAGE + 4096];
	struct bbuf sink;
};

static struct pair *pair_new(int epoch, const uint8_t *secret)
{
	struct pair *p = calloc(1, sizeof *p);
	p->w = tls_test_conn(cfg());
	p->r = tls_test_conn(cfg());
	p->sink = bbuf_make(p->sinkbuf, sizeof p->sinkbuf);
	p->r->core->test_sink = &p->sink;
	p->w->core->test_sink = &p->sink;
	if (secret) {
		CHECK_EQ(tls_set_keys(p->w, TLS_WRITE, epoch, suite(), secret), 0);
		CHECK_EQ(tls_set_keys(p->r, TLS_READ, epoch, suite(), secret), 0);
	}
	if (epoch == TLS_EPOCH_APPLICATION)
		p->w->hs_done = p->r->hs_done = true;
	return p;
}

static void pair_free(struct pair *p)
{
	synack_tls_free(p->w);
	synack_tls_free(p->r);
	free(p);
}

/* Everything w has queued. */
static size_t take_all(struct synack_tls *t, uint8_t *buf, size_t cap)
{
	return synack_tls_take(t, buf, cap);
}

/* A protected record built by hand (§5.2): inner = content || type || pad zeros. */
static size_t seal_raw(const uint8_t *secret, uint64_t seq, uint8_t type, const uint8_t *content, size_t n,
		       size_t pad, uint8_t *out)
{
	uint8_t key[16], iv[12];
	tls_hkdf_expand_label(C, CRYPTO_SHA256, secret, "key", NULL, 0, key, 16);
	tls_hkdf_expand_label(C, CRYPTO_SHA256, secret, "iv", NULL, 0, iv, 12);
	size_t inner = n + 1 + pad, len = inner + 16;
	out[0] = 23, out[1] = 3, out[2] = 3, out[3] = (uint8_t)(len >> 8), out[4] = (uint8_t)len;
	if (n)
		memcpy(out + 5, content, n);
	out[5 + n] = type;
	memset(out + 6 + n, 0, pad);
	for (int i = 0; i < 8; i++)
		iv[11 - i] ^= (uint8_t)(seq >> (8 * i));
	struct crypto_aead *a = C->aead_new(CRYPTO_AES_128_GCM, key, true);
	C->aead_seal(a, iv, out, 5, out + 5, inner, out + 5);
	C->aead_free(a);
	return 5 + len;
}

/* The alert of a plaintext alert record at the start of buf, or -1. */
static int plain_alert(const uint8_t *buf, size_t n)
{
	return n == 7 && buf[0] == 21 ? buf[6] : -1;
}

/* ---- input in pieces ---- */

TEST(tls_record_split_at_every_byte)
{
	uint8_t stream[4096], msg[1500], data[300], got[400];
	for (size_t i = 0; i < sizeof msg; i++)
		msg[i] = (uint8_t)(i * 7);
	msg[0] = TLS_HS_ENCRYPTED_EXTENSIONS, msg[1] = 0, msg[2] = (sizeof msg - 4) >> 8,
	msg[3] = (sizeof msg - 4) & 0xff;
	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (uint8_t)i;
	struct pair *p = pair_new(TLS_EPOCH_APPLICATION, secret1);
	p->w->send_limit = 512; /* the message spans three records */
	CHECK_EQ(tls_send_handshake(p->w, msg, sizeof msg), 0);
	CHECK_EQ(synack_tls_write(p->w, data, sizeof data), (ssize_t)sizeof data);
	size_t n = take_all(p->w, stream, sizeof stream);
	for (size_t cut = 0; cut <= n; cut++) {
		struct synack_tls *r = tls_test_conn(cfg());
		r->core->test_sink = &p->sink;
		p->sink.len = 0;
		tls_set_keys(r, TLS_READ, TLS_EPOCH_APPLICATION, suite(), secret1);
		r->hs_done = true;
		size_t off = 0;
		if (cut)
			off += (size_t)synack_tls_feed(r, stream, cut);
		while (off < n) {
			ssize_t k = synack_tls_feed(r, stream + off, n - off);
			CHECK(k >= 0);
			off += (size_t)k;
			if (synack_tls_read(r, got, sizeof got) < 0 && k == 0)
				break;
		}
		CHECK_EQ(p->sink.len, sizeof msg);
		CHECK_MEM(p->sink.p, msg, sizeof msg);
		CHECK_EQ(synack_tls_error(r), 0);
		synack_tls_free(r);
	}
	pair_free(p);
}

TEST(tls_record_byte_at_a_time)
{
	uint8_t stream[2048], data[700], got[800];
	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (uint8_t)(i ^ 0x5a);
	struct pair *p = pair_new(TLS_EPOCH_APPLICATION, secret1);
	p->w->send_limit = 256;
	CHECK_EQ(synack_tls_write(p->w, data, sizeof data), (ssize_t)sizeof data);
	size_t n = take_all(p->w, stream, sizeof stream), got_n = 0;
	for (size_t i = 0; i < n;) {
		ssize_t k = synack_tls_feed(p->r, stream + i, 1);
		CHECK(k == 0 || k == 1);
		i += (size_t)k;
		ssize_t rd = synack_tls_read(p->r, got + got_n, sizeof got - got_n);
		if (rd > 0)
			got_n += (size_t)rd;
	}
	CHECK_EQ(got_n, sizeof data);
	CHECK_MEM(got, data, sizeof data);
	CHECK(p->r->core->mem.bytes == 0); /* nothing in flight: no buffer held */
	pair_free(p);
}

TEST(tls_record_feed_holds_one_app_record)
{
	uint8_t stream[256], got[64];
	struct pair *p = pair_new(TLS_EPOCH_APPLICATION, secret1);
	CHECK_EQ(synack_tls_write(p->w, "hello", 5), 5);
	CHECK_EQ(synack_tls_write(p->w, "world", 5), 5);
	size_t n = take_all(p->w, stream, sizeof stream);
	ssize_t k = synack_tls_feed(p->r, stream, n);
	CHECK_EQ(k, (ssize_t)n / 2); /* stops after the first record */
	CHECK(synack_tls_events(p->r) & SYNACK_TLS_EV_READABLE);
	CHECK_EQ(synack_tls_feed(p->r, stream + k, n - (size_t)k), 0);
	CHECK_EQ(synack_tls_read(p->r, got, 3), 3);
	CHECK_EQ(synack_tls_read(p->r, got + 3, sizeof got), 2);
	CHECK_MEM(got, "hello", 5);
	CHECK_EQ(synack_tls_feed(p->r, stream + k, n - (size_t)k), (ssize_t)(n - (size_t)k));
	CHECK_EQ(synack_tls_read(p->r, got, sizeof got), 5);
	CHECK_MEM(got, "world", 5);
	CHECK_EQ(synack_tls_read(p->r, got, sizeof got), -EAGAIN);
	pair_free(p);
}

/* ---- §5.1, §5.2, §5.4: limits and malformed records ---- */

TEST(tls_record_plaintext_over_2_14_is_record_overflow)
{
	static uint8_t big[TLS_MAX_PLAINTEXT + 1], stream[TLS_MAX_CIPHERTEXT + 64];
	struct pair *p = pair_new(TLS_EPOCH_APPLICATION, secret1);
	CHECK_EQ(tls_record_write(p->w, TLS_CT_APPLICATION_DATA, big, sizeof big, true), 0);
	size_t n = take_all(p->w, stream, sizeof stream);
	CHECK_EQ(n, 5 + sizeof big + 1 + 16);
	CHECK_EQ(synack_tls_feed(p->r, stream, n), SYNACK_TLS_ERR_SENT(SYNACK_TLS_ALERT_RECORD_OVERFLOW));
	pair_free(p);
	/* exactly 2^14 is fine */
	p = pair_new(TLS_EPOCH_APPLICATION, secret1);
	CHECK_EQ(tls_record_write(p->w, TLS_CT_APPLICATION_DATA, big, TLS_MAX_PLAINTEXT, true), 0);
	n = take_all(p->w, stream, sizeof stream);
	CHECK_EQ(synack_tls_feed(p->r, stream, n), (ssize_t)n);
	CHECK_EQ(synack_tls_read(p->r, stream, sizeof stream), TLS_MAX_PLAINTEXT);
	pair_free(p);
}

TEST(tls_record_header_lengths)
{
	/* protected: 2^14 + 256 is the limit; plaintext: 2^14 */
	const uint8_t over_ct[] = {23, 3, 3, (TLS_MAX_CIPHERTEXT + 1) >> 8, (TLS_MAX_CIPHERTEXT + 1) & 0xff};
	const uint8_t over_pt[] = {22, 3, 3, (TLS_MAX_PLAINTEXT + 1) >> 8, (TLS_MAX_PLAINTEXT + 1) & 0xff};
	struct pair *p = pair_new(TLS_EPOCH_APPLICATION, secret1);
	CHECK_EQ(synack_tls_feed(p->r, over_ct, sizeof over_ct),
		 SYNACK_TLS_ERR_SENT(SYNACK_TLS_ALERT_RECORD_OVERFLOW));
	CHECK_EQ(p->r->core->rec, NULL); /* refused before buffering */
	pair_free(p);
	struct synack_tls *t = tls_test_conn(cfg());
	CHECK_EQ(synack_tls_feed(t, over_pt, sizeof over_pt),
		 SYNACK_TLS_ERR_SENT(SYNACK_TLS_ALERT_RECORD_OVERFLOW));
	synack_tls_free(t);
}

TEST(tls_record_bad_header_fields)
{
	const struct {
		uint8_t rec[6];
		int alert;
	} v[] = {
	    {{24, 3, 3, 0, 1, 0}, SYNACK_TLS_ALERT_UNEXPECTED_MESSAGE}, /* unknown type */
	    {{22, 3, 2, 0, 1, 1}, SYNACK_TLS_ALERT_PROTOCOL_VERSION},
	    {{'G', 'E', 'T', ' ', '/', ' '}, SYNACK_TLS_ALERT_UNEXPECTED_MESSAGE},
	    {{23, 3, 3, 0, 1, 0}, SYNACK_TLS_ALERT_UNEXPECTED_MESSAGE}, /* data before keys */
	    {{21, 3, 3, 0, 1, 0}, SYNACK_TLS_ALERT_DECODE_ERROR},	/* 1-byte alert */
	    {{20, 3, 3, 0, 1, 2}, SYNACK_TLS_ALERT_UNEXPECTED_MESSAGE}, /* CCS not 0x01 */
	};
	for (size_t i = 0; i < ARRAY_LEN(v); i++) {
		uint8_t out[64];
		struct synack_tls *t = tls_test_conn(cfg());
		CHECK_EQ(synack_tls_feed(t, v[i].rec, sizeof v[i].rec), SYNACK_TLS_ERR_SENT(v[i].alert));
		CHECK_EQ(plain_alert(out, take_all(t, out, sizeof out)), v[i].alert);
		synack_tls_free(t);
	}
}

/* Plain text where the first record was expected (an HTTP server on the
 * port, an HTTP client on ours): the error says so, with the bytes. */
TEST(tls_record_text_peer_is_named)
{
	static const char http[] = "HTTP/1.1 400 Bad Request\r\n";
	struct synack_tls *t = tls_test_conn(cfg());
	CHECK_EQ(synack_tls_feed(t, http, sizeof http - 1),
		 SYNACK_TLS_ERR_SENT(SYNACK_TLS_ALERT_UNEXPECTED_MESSAGE));
	CHECK(strstr(synack_tls_error_detail(t), "does not speak TLS") != NULL);
	CHECK(strstr(synack_tls_error_detail(t), "\"HTTP/\"") != NULL);
	synack_tls_free(t);
	/* binary garbage keeps the plain message */
	static const uint8_t junk[] = {24, 3, 3, 0, 1, 0};
	t = tls_test_conn(cfg());
	synack_tls_feed(t, junk, sizeof junk);
	CHECK(strstr(synack_tls_error_detail(t), "record of unknown content type 24") != NULL);
	synack_tls_free(t);
}

TEST(tls_record_empty_records)
{
	const uint8_t empty_hs[] = {22, 3, 3, 0, 0}, empty_alert[] = {21, 3, 3, 0, 0};
	struct synack_tls *t = tls_test_conn(cfg());
	CHECK_EQ(synack_tls_feed(t, empty_hs, sizeof empty_hs),
		 SYNACK_TLS_ERR_SENT(SYNACK_TLS_ALERT_UNEXPECTED_MESSAGE));
	synack_tls_free(t);
	t = tls_test_conn(cfg());
	CHECK_EQ(synack_tls_feed(t, empty_alert, sizeof empty_alert),
		 SYNACK_TLS_ERR_SENT(SYNACK_TLS_ALERT_DECODE_ERROR));
	synack_tls_free(t);
	/* zero-length application data is allowed (§5.1) */
	uint8_t rec[64], got[8];
	struct pair *p = pair_new(TLS_EPOCH_APPLICATION, secret1);
	size_t n = seal_raw(secret1, 0, TLS_CT_APPLICATION_DATA, NULL, 0, 0, rec);
	CHECK_EQ(synack_tls_feed(p->r, rec, n), (ssize_t)n);
	CHECK_EQ(synack_tls_read(p->r, got, sizeof got), -EAGAIN);
	CHECK_EQ(synack_tls_error(p->r), 0);
	pair_free(p);
}

TEST(tls_record_bad_tag_is_bad_record_mac_and_sticky)
{
	uint8_t stream[256], out[64];
	struct pair *p = pair_new(TLS_EPOCH_APPLICATION, secret1);
	CHECK_EQ(synack_tls_write(p->w, "secret data", 11), 11);
	size_t n = take_all(p->w, stream, sizeof stream);
	stream[n - 1] ^= 1;
	int e = SYNACK_TLS_ERR_SENT(SYNACK_TLS_ALERT_BAD_RECORD_MAC);
	CHECK_EQ(synack_tls_feed(p->r, stream, n), e);
	CHECK(synack_tls_events(p->r) & SYNACK_TLS_EV_ERROR);
	CHECK_EQ(synack_tls_error(p->r), e);
	CHECK(strstr(synack_tls_error_detail(p->r), "authenticate") != NULL);
	CHECK_EQ(synack_tls_feed(p->r, stream, n), e);
	CHECK_EQ(synack_tls_read(p->r, out, sizeof out), e);
	CHECK_EQ(synack_tls_write(p->r, "x", 1), e);
	CHECK_EQ(synack_tls_close(p->r), e);
	CHECK_EQ(synack_tls_key_update(p->r, false), e);
	CHECK_EQ(tls_fail(p->r, SYNACK_TLS_ALERT_INTERNAL_ERROR, "second"), e);
	CHECK(strcmp(synack_tls_strerror(e), "sent bad_record_mac") == 0);
	/* exactly one alert went out, in the clear (no write keys here) */
	CHECK_EQ(plain_alert(out, take_all(p->r, out, sizeof out)), SYNACK_TLS_ALERT_BAD_RECORD_MAC);
	pair_free(p);
}

TEST(tls_record_alert_under_write_keys)
{
	/* tls_fail's alert is protected when write keys are installed */
	uint8_t out[64], got[8];
	struct pair *p = pair_new(TLS_EPOCH_APPLICATION, secret1);
	tls_fail(p->w, SYNACK_TLS_ALERT_HANDSHAKE_FAILURE, "test %d", 1);
	size_t n = take_all(p->w, out, sizeof out);
	CHECK_EQ(n, 5 + 2 + 1 + 16);
	CHECK_EQ(out[0], TLS_CT_APPLICATION_DATA);
	CHECK_EQ(synack_tls_feed(p->r, out, n), SYNACK_TLS_ERR_RECEIVED(SYNACK_TLS_ALERT_HANDSHAKE_FAILURE));
	CHECK_EQ(synack_tls_read(p->r, got, sizeof got),
		 SYNACK_TLS_ERR_RECEIVED(SYNACK_TLS_ALERT_HANDSHAKE_FAILURE));
	CHECK(strcmp(synack_tls_strerror(synack_tls_error(p->r)), "received handshake_failure") == 0);
	CHECK_EQ(take_all(p->r, out, sizeof out), 0); /* no alert answers an alert */
	CHECK(strcmp(synack_tls_error_detail(p->w), "test 1") == 0);
	pair_free(p);
}

TEST(tls_record_zero_padding_stripped)
{
	uint8_t rec[2048], got[64];
	struct pair *p = pair_new(TLS_EPOCH_APPLICATION, secret1);
	size_t n = seal_raw(secret1, 0, TLS_CT_APPLICATION_DATA, (const uint8_t *)"padded", 6, 1000, rec);
	CHECK_EQ(synack_tls_feed(p->r, rec, n), (ssize_t)n);
	CHECK_EQ(synack_tls_read(p->r, got, sizeof got), 6);
	CHECK_MEM(got, "padded", 6);
	/* a padded handshake message, and a padded alert */
	const uint8_t fin[8] = {TLS_HS_FINISHED, 0, 0, 4, 1, 2, 3, 4};
	n = seal_raw(secret1, 1, TLS_CT_HANDSHAKE, fin, sizeof fin, 17, rec);
	CHECK_EQ(synack_tls_feed(p->r, rec, n), (ssize_t)n);
	CHECK_EQ(p->sink.len, sizeof fin);
	CHECK_MEM(p->sink.p, fin, sizeof fin);
	n = seal_raw(secret1, 2, TLS_CT_ALERT, (const uint8_t *)"\1\0", 2, 5, rec);
	CHECK_EQ(synack_tls_feed(p->r, rec, n), (ssize_t)n);
	CHECK_EQ(synack_tls_read(p->r, got, sizeof got), 0);
	pair_free(p);
}

TEST(tls_record_padding_beyond_limit_is_overflow)
{
	static uint8_t rec[TLS_MAX_CIPHERTEXT + 64];
	struct pair *p = pair_new(TLS_EPOCH_APPLICATION, secret1);
	/* inner plaintext 2^14 + 2 bytes: over TLSInnerPlaintext's 2^14 + 1 */
	size_t n =
	    seal_raw(secret1, 0, TLS_CT_APPLICATION_DATA, (const uint8_t *)"x", 1, TLS_MAX_PLAINTEXT, rec);
	CHECK_EQ(synack_tls_feed(p->r, rec, n), SYNACK_TLS_ERR_SENT(SYNACK_TLS_ALERT_RECORD_OVERFLOW));
	pair_free(p);
}

TEST(tls_record_all_zero_plaintext_is_unexpected_message)
{
	uint8_t rec[64];
	struct pair *p = pair_new(TLS_EPOCH_APPLICATION, secret1);
	size_t n = seal_raw(secret1, 0, 0, (const uint8_t *)"\0\0", 2, 3, rec); /* type 0, zeros */
	CHECK_EQ(synack_tls_feed(p->r, rec, n), SYNACK_TLS_ERR_SENT(SYNACK_TLS_ALERT_UNEXPECTED_MESSAGE));
	pair_free(p);
}

TEST(tls_record_protected_ccs_and_short_records)
{
	uint8_t rec[64];
	struct pair *p = pair_new(TLS_EPOCH_APPLICATION, secret1);
	size_t n = seal_raw(secret1, 0, TLS_CT_CHANGE_CIPHER_SPEC, (const uint8_t *)"\1", 1, 0, rec);
	CHECK_EQ(synack_tls_feed(p->r, rec, n), SYNACK_TLS_ERR_SENT(SYNACK_TLS_ALERT_UNEXPECTED_MESSAGE));
	pair_free(p);
	p = pair_new(TLS_EPOCH_APPLICATION, secret1);
	const uint8_t tiny[] = {23, 3, 3, 0, 3, 1, 2, 3}; /* shorter than a tag */
	CHECK_EQ(synack_tls_feed(p->r, tiny, sizeof tiny),
		 SYNACK_TLS_ERR_SENT(SYNACK_TLS_ALERT_BAD_RECORD_MAC));
	pair_free(p);
	/* a plaintext handshake record once keys are on */
	p = pair_new(TLS_EPOCH_HANDSHAKE, secret1);
	const uint8_t hs[] = {22, 3, 3, 0, 4, 20, 0, 0, 0};
	CHECK_EQ(synack_tls_feed(p->r, hs, sizeof hs),
		 SYNACK_TLS_ERR_SENT(SYNACK_TLS_ALERT_UNEXPECTED_MESSAGE));
	pair_free(p);
	/* application data under handshake keys */
	p = pair_new(TLS_EPOCH_HANDSHAKE, secret1);
	n = seal_raw(secret1, 0, TLS_CT_APPLICATION_DATA, (const uint8_t *)"x", 1, 0, rec);
	CHECK_EQ(synack_tls_feed(p->r, rec, n), SYNACK_TLS_ERR_SENT(SYNACK_TLS_ALERT_UNEXPECTED_MESSAGE));
	pair_free(p);
}

TEST(tls_record_three_byte_alert_is_decode_error)
{
	uint8_t rec[64];
	struct pair *p = pair_new(TLS_EPOCH_APPLICATION, secret1);
	size_t n = seal_raw(secret1, 0, TLS_CT_ALERT, (const uint8_t *)"\2\50\0", 3, 0, rec);
	CHECK_EQ(synack_tls_feed(p->r, rec, n), SYNACK_TLS_ERR_SENT(SYNACK_TLS_ALERT_DECODE_ERROR));
	pair_free(p);
	struct synack_tls *t = tls_test_conn(cfg());
	const uint8_t plain[] = {21, 3, 3, 0, 3, 2, 40, 0};
	CHECK_EQ(synack_tls_feed(t, plain, sizeof plain), SYNACK_TLS_ERR_SENT(SYNACK_TLS_ALERT_DECODE_ERROR));
	synack_tls_free(t);
}

TEST(tls_record_close_notify)
{
	uint8_t stream[256], got[16];
	struct pair *p = pair_new(TLS_EPOCH_APPLICATION, secret1);
	CHECK_EQ(synack_tls_write(p->w, "last", 4), 4);
	CHECK_EQ(synack_tls_close(p->w), 0);
	CHECK_EQ(synack_tls_close(p->w), 0);
	CHECK_EQ(synack_tls_write(p->w, "more", 4), -EPIPE);
	CHECK_EQ(synack_tls_key_update(p->w, false), -EPIPE);
	size_t n = take_all(p->w, stream, sizeof stream);
	/* trailing garbage after close_notify is ignored */
	memcpy(stream + n, "\xff\xff\xff", 3);
	ssize_t k = synack_tls_feed(p->r, stream, n + 3);
	CHECK(k > 0 && (size_t)k < n);
	CHECK_EQ(synack_tls_read(p->r, got, sizeof got), 4);
	CHECK_EQ(synack_tls_feed(p->r, stream + k, n + 3 - (size_t)k), (ssize_t)(n + 3 - (size_t)k));
	CHECK_EQ(synack_tls_read(p->r, got, sizeof got), 0);
	CHECK_EQ(synack_tls_read(p->r, got, sizeof got), 0);
	CHECK(synack_tls_events(p->r) & SYNACK_TLS_EV_CLOSE_NOTIFY);
	CHECK_EQ(synack_tls_error(p->r), 0);
	/* half-close: the other side may still write */
	CHECK_EQ(synack_tls_write(p->r, "reply", 5), 5);
	pair_free(p);
}

TEST(tls_record_user_canceled_is_not_fatal)
{
	uint8_t rec[64];
	struct pair *p = pair_new(TLS_EPOCH_APPLICATION, secret1);
	size_t n = seal_raw(secret1, 0, TLS_CT_ALERT, (const uint8_t *)"\1\132", 2, 0, rec);
	CHECK_EQ(synack_tls_feed(p->r, rec, n), (ssize_t)n);
	CHECK_EQ(synack_tls_error(p->r), 0);
	pair_free(p);
}

TEST(tls_record_skip_refused_early_data)
{
	/* §4.2.10: 0-RTT records under keys we do not have are dropped while
	 * the budget lasts, before keys too; the first record that opens ends it */
	uint8_t rec[256], ok[64];
	const uint8_t fin[8] = {TLS_HS_FINISHED, 0, 0, 4, 1, 2, 3, 4};
	struct pair *p = pair_new(TLS_EPOCH_PLAINTEXT, NULL);
	p->r->skip_early = 200;
	size_t n = seal_raw(secret2, 0, TLS_CT_APPLICATION_DATA, (const uint8_t *)"early", 5, 0, rec);
	CHECK_EQ(synack_tls_feed(p->r, rec, n), (ssize_t)n); /* before any keys */
	CHECK_EQ(p->r->skip_early, 200 - (n - 5));
	CHECK_EQ(tls_set_keys(p->r, TLS_READ, TLS_EPOCH_HANDSHAKE, suite(), secret1), 0);
	n = seal_raw(secret2, 1, TLS_CT_APPLICATION_DATA, (const uint8_t *)"early", 5, 0, rec);
	CHECK_EQ(synack_tls_feed(p->r, rec, n), (ssize_t)n); /* fails to open: dropped */
	size_t okn = seal_raw(secret1, 0, TLS_CT_HANDSHAKE, fin, sizeof fin, 0, ok);
	CHECK_EQ(synack_tls_feed(p->r, ok, okn), (ssize_t)okn);
	CHECK_EQ(p->sink.len, sizeof fin);
	CHECK_EQ(p->r->skip_early, 0);
	CHECK_EQ(synack_tls_feed(p->r, rec, n), SYNACK_TLS_ERR_SENT(SYNACK_TLS_ALERT_BAD_RECORD_MAC));
	pair_free(p);
	/* over budget */
	p = pair_new(TLS_EPOCH_HANDSHAKE, secret1);
	p->r->skip_early = 10;
	n = seal_raw(secret2, 0, TLS_CT_APPLICATION_DATA, (const uint8_t *)"early", 5, 0, rec);
	CHECK_EQ(synack_tls_feed(p->r, rec, n), SYNACK_TLS_ERR_SENT(SYNACK_TLS_ALERT_BAD_RECORD_MAC));
	pair_free(p);
}

/* ---- §5.1: handshake messages and records ---- */

static size_t hs_msg(uint8_t *buf, uint8_t type, size_t body)
{
	struct bbuf b = bbuf_make(buf, 4 + body);
	bbuf_u8(&b, type);
	size_t m = bbuf_vec_open(&b, 3);
	for (size_t i = 0; i < body; i++)
		bbuf_u8(&b, (uint8_t)(i * 13 + type));
	bbuf_vec_close(&b, m, 3);
	return b.len;
}

TEST(tls_hs_several_messages_per_record_and_spanning_records)
{
	static uint8_t msgs[50000], stream[60000];
	size_t n = hs_msg(msgs, TLS_HS_ENCRYPTED_EXTENSIONS, 10);
	n += hs_msg(msgs + n, TLS_HS_CERTIFICATE, 40000); /* spans three records */
	n += hs_msg(msgs + n, TLS_HS_END_OF_EARLY_DATA, 0);
	n += hs_msg(msgs + n, TLS_HS_FINISHED, 32);
	struct pair *p = pair_new(TLS_EPOCH_HANDSHAKE, secret1);
	CHECK_EQ(tls_send_handshake(p->w, msgs, n), 0); /* one write: messages share records */
	size_t sn = take_all(p->w, stream, sizeof stream);
	CHECK_EQ(synack_tls_feed(p->r, stream, sn), (ssize_t)sn);
	CHECK_EQ(p->sink.len, n);
	CHECK_MEM(p->sink.p, msgs, n);
	CHECK_EQ(p->r->core->hsbuf, NULL);
	CHECK_EQ(p->r->core->mem.bytes, 0);
	pair_free(p);
}

TEST(tls_hs_message_over_cap_fails)
{
	const uint8_t rec[] = {22, 3, 3, 0, 4, TLS_HS_CERTIFICATE, 1, 0, 1}; /* 65537 bytes announced */
	struct synack_tls *t = tls_test_conn(cfg());
	CHECK_EQ(synack_tls_feed(t, rec, sizeof rec),
		 SYNACK_TLS_ERR_SENT(SYNACK_TLS_ALERT_ILLEGAL_PARAMETER));
	synack_tls_free(t);
	/* the cap itself fits */
	static uint8_t msg[TLS_MAX_HS_MESSAGE + 4], stream[TLS_MAX_HS_MESSAGE + 1024];
	struct pair *p = pair_new(TLS_EPOCH_HANDSHAKE, secret1);
	size_t n = hs_msg(msg, TLS_HS_CERTIFICATE, TLS_MAX_HS_MESSAGE);
	CHECK_EQ(tls_send_handshake(p->w, msg, n), 0);
	size_t sn = take_all(p->w, stream, sizeof stream);
	CHECK_EQ(synack_tls_feed(p->r, stream, sn), (ssize_t)sn);
	CHECK_EQ(p->sink.len, n);
	pair_free(p);
}

TEST(tls_hs_message_must_not_span_key_change)
{
	uint8_t msg[100], stream[256];
	struct pair *p = pair_new(TLS_EPOCH_HANDSHAKE, secret1);
	size_t n = hs_msg(msg, TLS_HS_FINISHED, sizeof msg - 4);
	CHECK_EQ(tls_send_handshake(p->w, msg, 50), 0); /* half a message */
	size_t sn = take_all(p->w, stream, sizeof stream);
	CHECK_EQ(synack_tls_feed(p->r, stream, sn), (ssize_t)sn);
	CHECK_EQ(tls_set_keys(p->r, TLS_READ, TLS_EPOCH_APPLICATION, suite(), secret2),
		 SYNACK_TLS_ERR_SENT(SYNACK_TLS_ALERT_UNEXPECTED_MESSAGE));
	(void)n;
	pair_free(p);
}

TEST(tls_hs_interleaved_record_is_unexpected)
{
	uint8_t msg[100], stream[256], rec[64];
	struct pair *p = pair_new(TLS_EPOCH_APPLICATION, secret1);
	hs_msg(msg, TLS_HS_NEW_SESSION_TICKET, sizeof msg - 4);
	CHECK_EQ(tls_send_handshake(p->w, msg, 50), 0);
	size_t sn = take_all(p->w, stream, sizeof stream);
	CHECK_EQ(synack_tls_feed(p->r, stream, sn), (ssize_t)sn);
	size_t n = seal_raw(secret1, 1, TLS_CT_APPLICATION_DATA, (const uint8_t *)"x", 1, 0, rec);
	CHECK_EQ(synack_tls_feed(p->r, rec, n), SYNACK_TLS_ERR_SENT(SYNACK_TLS_ALERT_UNEXPECTED_MESSAGE));
	pair_free(p);
}

TEST(tls_hs_data_after_key_update_in_same_record)
{
	/* §5.1: a KeyUpdate must end its record */
	uint8_t two[5 + 8], rec[64];
	size_t n = hs_msg(two, TLS_HS_KEY_UPDATE, 0);
	two[3] = 1, two[4] = 0, n = 5; /* KeyUpdate(update_not_requested) */
	n += hs_msg(two + n, TLS_HS_FINISHED, 4);
	struct pair *p = pair_new(TLS_EPOCH_APPLICATION, secret1);
	size_t rn = seal_raw(secret1, 0, TLS_CT_HANDSHAKE, two, n, 0, rec);
	CHECK_EQ(synack_tls_feed(p->r, rec, rn), SYNACK_TLS_ERR_SENT(SYNACK_TLS_ALERT_UNEXPECTED_MESSAGE));
	pair_free(p);
}

TEST(tls_ccs_before_and_after_handshake)
{
	const uint8_t ccs[] = {20, 3, 3, 0, 1, 1};
	struct pair *p = pair_new(TLS_EPOCH_HANDSHAKE, secret1);
	CHECK_EQ(synack_tls_feed(p->r, ccs, sizeof ccs), (ssize_t)sizeof ccs);
	CHECK_EQ(p->r->core->test_ccs, 1);
	p->r->hs_done = true;
	CHECK_EQ(synack_tls_feed(p->r, ccs, sizeof ccs),
		 SYNACK_TLS_ERR_SENT(SYNACK_TLS_ALERT_UNEXPECTED_MESSAGE));
	pair_free(p);
	/* tls_send_ccs is always in the clear */
	uint8_t out[16];
	p = pair_new(TLS_EPOCH_HANDSHAKE, secret1);
	CHECK_EQ(tls_send_ccs(p->w), 0);
	CHECK_EQ(take_all(p->w, out, sizeof out), sizeof ccs);
	CHECK_MEM(out, ccs, sizeof ccs);
	pair_free(p);
}

/* ---- KeyUpdate (§4.6.3) and the AEAD limits (§5.5) ---- */

static void pump(struct synack_tls *from, struct synack_tls *to)
{
	static uint8_t buf[1 << 18];
	size_t n = synack_tls_take(from, buf, sizeof buf), off = 0;
	uint8_t sinkhole[1 << 14];
	while (off < n) {
		ssize_t k = synack_tls_feed(to, buf + off, n - off);
		CHECK(k >= 0);
		if (k < 0)
			return;
		off += (size_t)k;
		while (synack_tls_read(to, sinkhole, sizeof sinkhole) > 0)
			;
	}
}

/* Where handshake messages go in tests that do not look at them. */
static uint8_t discard_buf[1 << 17];
static struct bbuf discard;

static struct synack_tls *test_conn(void)
{
	struct synack_tls *t = tls_test_conn(cfg());
	discard = bbuf_make(discard_buf, sizeof discard_buf);
	t->core->test_sink = &discard;
	return t;
}

/* Both directions, application keys. */
static void duplex(struct synack_tls **a, struct synack_tls **b)
{
	*a = test_conn();
	*b = test_conn();
	tls_set_keys(*a, TLS_WRITE, TLS_EPOCH_APPLICATION, suite(), secret1);
	tls_set_keys(*b, TLS_READ, TLS_EPOCH_APPLICATION, suite(), secret1);
	tls_set_keys(*b, TLS_WRITE, TLS_EPOCH_APPLICATION, suite(), secret2);
	tls_set_keys(*a, TLS_READ, TLS_EPOCH_APPLICATION, suite(), secret2);
	(*a)->hs_done = (*b)->hs_done = true;
}

TEST(tls_key_update_requested_both_ways)
{
	struct synack_tls *a, *b;
	uint8_t got[16];
	duplex(&a, &b);
	CHECK_EQ(synack_tls_key_update(a, true), 0);
	CHECK_EQ(synack_tls_write(a, "after", 5), 5);
	uint8_t buf[256];
	size_t n = synack_tls_take(a, buf, sizeof buf);
	CHECK_EQ(synack_tls_feed(b, buf, n), (ssize_t)n);
	CHECK_EQ(synack_tls_read(b, got, sizeof got), 5);
	CHECK_MEM(got, "after", 5);
	CHECK(synack_tls_events(b) & SYNACK_TLS_EV_KEY_UPDATE);
	/* b answered with its own update_not_requested, then its data */
	CHECK_EQ(synack_tls_write(b, "reply", 5), 5);
	n = synack_tls_take(b, buf, sizeof buf);
	CHECK_EQ(synack_tls_feed(a, buf, n), (ssize_t)n);
	CHECK_EQ(synack_tls_read(a, got, sizeof got), 5);
	CHECK_MEM(got, "reply", 5);
	synack_tls_info ia, ib;
	synack_tls_get_info(a, &ia);
	synack_tls_get_info(b, &ib);
	CHECK_EQ(ia.key_updates, 2);
	CHECK_EQ(ib.key_updates, 2);
	CHECK(memcmp(a->wr.secret, secret1, 32) != 0);
	CHECK_MEM(a->wr.secret, b->rd.secret, 32);
	CHECK_MEM(b->wr.secret, a->rd.secret, 32);
	synack_tls_free(a);
	synack_tls_free(b);
}

TEST(tls_key_update_malformed)
{
	uint8_t rec[64];
	const uint8_t bad_value[] = {TLS_HS_KEY_UPDATE, 0, 0, 1, 2},
		      bad_len[] = {TLS_HS_KEY_UPDATE, 0, 0, 2, 0, 0};
	struct pair *p = pair_new(TLS_EPOCH_APPLICATION, secret1);
	size_t n = seal_raw(secret1, 0, TLS_CT_HANDSHAKE, bad_value, sizeof bad_value, 0, rec);
	CHECK_EQ(synack_tls_feed(p->r, rec, n), SYNACK_TLS_ERR_SENT(SYNACK_TLS_ALERT_ILLEGAL_PARAMETER));
	pair_free(p);
	p = pair_new(TLS_EPOCH_APPLICATION, secret1);
	n = seal_raw(secret1, 0, TLS_CT_HANDSHAKE, bad_len, sizeof bad_len, 0, rec);
	CHECK_EQ(synack_tls_feed(p->r, rec, n), SYNACK_TLS_ERR_SENT(SYNACK_TLS_ALERT_DECODE_ERROR));
	pair_free(p);
	/* before the handshake completes */
	p = pair_new(TLS_EPOCH_HANDSHAKE, secret1);
	n = seal_raw(secret1, 0, TLS_CT_HANDSHAKE, (const uint8_t *)"\x18\0\0\1\0", 5, 0, rec);
	CHECK_EQ(synack_tls_feed(p->r, rec, n), SYNACK_TLS_ERR_SENT(SYNACK_TLS_ALERT_UNEXPECTED_MESSAGE));
	CHECK_EQ(synack_tls_key_update(p->w, false), -EAGAIN);
	pair_free(p);
}

TEST(tls_key_update_at_aead_limit)
{
	struct synack_tls *a, *b;
	duplex(&a, &b);
	a->core->ku_limit = 4;
	b->core->ku_limit = 1000;
	for (int i = 0; i < 10; i++) {
		CHECK_EQ(synack_tls_write(a, "0123456789", 10), 10);
		pump(a, b);
	}
	synack_tls_info ia;
	synack_tls_get_info(a, &ia);
	CHECK_EQ(ia.key_updates, 2); /* after records 4 and 8 (the KeyUpdate counts too) */
	CHECK(a->wr.seq < 4);
	CHECK_EQ(synack_tls_error(b), 0);
	/* the reader asks for an update when the peer does not */
	b->core->ku_limit = 2;
	a->core->ku_limit = 1000;
	for (int i = 0; i < 3; i++) {
		CHECK_EQ(synack_tls_write(a, "x", 1), 1);
		pump(a, b);
	}
	pump(b, a); /* b's KeyUpdate(update_requested) */
	pump(a, b); /* a's answer */
	synack_tls_get_info(a, &ia);
	CHECK_EQ(ia.key_updates, 4);
	CHECK_EQ(synack_tls_error(a), 0);
	CHECK_EQ(synack_tls_error(b), 0);
	synack_tls_free(a);
	synack_tls_free(b);
}

/* ---- write side, memory ---- */

TEST(tls_write_before_handshake_and_output_cap)
{
	static uint8_t big[1 << 20];
	struct pair *p = pair_new(TLS_EPOCH_HANDSHAKE, secret1);
	CHECK_EQ(synack_tls_write(p->w, "x", 1), -EAGAIN);
	pair_free(p);
	p = pair_new(TLS_EPOCH_APPLICATION, secret1);
	ssize_t k = synack_tls_write(p->w, big, sizeof big);
	CHECK(k >= 65536 && k < (ssize_t)sizeof big);
	CHECK(tls_out_pending(p->w) <= TLS_OUT_SOFT_CAP);
	CHECK_EQ(synack_tls_write(p->w, big, sizeof big), -EAGAIN);
	size_t n;
	synack_tls_out_peek(p->w, &n);
	synack_tls_out_consume(p->w, n / 2);
	CHECK(synack_tls_write(p->w, big, sizeof big) > 0);
	synack_tls_out_peek(p->w, &n);
	synack_tls_out_consume(p->w, n);
	CHECK_EQ(synack_tls_out_peek(p->w, &n), NULL);
	CHECK_EQ(n, 0);
	CHECK_EQ(p->w->core->mem.bytes, 0);
	pair_free(p);
}

TEST(tls_memory_drains_back_when_idle)
{
	static uint8_t data[200000], got[20000];
	struct synack_tls *a, *b;
	duplex(&a, &b);
	size_t idle = synack_tls_memory(a);
	CHECK(idle - sizeof(struct synack_tls) <= 8192 + sizeof(struct tls_core));
	CHECK_EQ(a->core->mem.bytes, 0);
	/* handshake-sized messages and bulk data both ways */
	uint8_t msg[30000];
	size_t n = hs_msg(msg, TLS_HS_NEW_SESSION_TICKET, sizeof msg - 4);
	uint8_t sinkbuf[40000];
	struct bbuf sink = bbuf_make(sinkbuf, sizeof sinkbuf);
	b->core->test_sink = &sink;
	CHECK_EQ(tls_send_handshake(a, msg, n), 0);
	size_t off = 0;
	while (off < sizeof data) {
		ssize_t k = synack_tls_write(a, data + off, sizeof data - off);
		CHECK(k > 0);
		if (k <= 0)
			break;
		off += (size_t)k;
		CHECK(synack_tls_memory(a) < 90000);
		pump(a, b);
	}
	CHECK_EQ(sink.len, n);
	CHECK_EQ(synack_tls_write(b, got, sizeof got), (ssize_t)sizeof got);
	CHECK(b->core->mem.bytes > 8192); /* undrained output */
	pump(b, a);
	CHECK(a->core->mem.bytes <= 8192);
	CHECK(b->core->mem.bytes <= 8192);
	CHECK_EQ(a->core->mem.bytes, 0);
	CHECK_EQ(b->core->mem.bytes, 0);
	synack_tls_free(a);
	synack_tls_free(b);
}

TEST(tls_memory_partial_record_then_release)
{
	uint8_t stream[256], got[64];
	struct pair *p = pair_new(TLS_EPOCH_APPLICATION, secret1);
	CHECK_EQ(synack_tls_write(p->w, "partial", 7), 7);
	size_t n = take_all(p->w, stream, sizeof stream);
	CHECK_EQ(synack_tls_feed(p->r, stream, 3), 3); /* header only: nothing allocated */
	CHECK_EQ(p->r->core->mem.bytes, 0);
	CHECK_EQ(synack_tls_feed(p->r, stream + 3, 5), 5);
	CHECK(p->r->core->mem.bytes >= TLS_MAX_CIPHERTEXT);
	CHECK_EQ(synack_tls_feed(p->r, stream + 8, n - 8), (ssize_t)(n - 8));
	CHECK(p->r->core->mem.bytes >= TLS_MAX_CIPHERTEXT); /* held for reading */
	CHECK_EQ(synack_tls_read(p->r, got, sizeof got), 7);
	CHECK_EQ(p->r->core->mem.bytes, 0);
	pair_free(p);
}

/* ---- transcript, key log, trace, sessions ---- */

TEST(tls_transcript_raw_then_hash)
{
	struct synack_tls *t = tls_test_conn(cfg());
	uint8_t h1[48], h2[48];
	const char *m = "some handshake bytes";
	CHECK_EQ(tls_transcript_add(t, (const uint8_t *)m, 10), 0);
	CHECK_EQ(tls_transcript_select(t, CRYPTO_SHA384), 0);
	CHECK_EQ(tls_transcript_select(t, CRYPTO_SHA384), 0);
	CHECK(tls_transcript_select(t, CRYPTO_SHA256) < 0);
	CHECK_EQ(tls_transcript_add(t, (const uint8_t *)m + 10, strlen(m) - 10), 0);
	CHECK_EQ(tls_transcript_hash(t, h1), 0);
	C->hash(CRYPTO_SHA384, m, strlen(m), h2);
	CHECK_MEM(h1, h2, 48);
	synack_tls_free(t);
	t = tls_test_conn(cfg());
	CHECK_EQ(tls_transcript_hrr(t), -EINVAL); /* needs a selected hash */
	synack_tls_free(t);
}

TEST(tls_keylog_lines)
{
	struct synack_tls_config *c = synack_tls_config_new(SYNACK_TLS_CLIENT);
	synack_tls_config_set_keylog(c, true);
	struct synack_tls *t = tls_test_conn(c);
	memset(t->client_random, 0xab, 32);
	tls_keylog(t, "CLIENT_HANDSHAKE_TRAFFIC_SECRET", t->client_random, secret1, 32);
	tls_keylog(t, "SERVER_HANDSHAKE_TRAFFIC_SECRET", t->client_random, secret2, 32);
	char buf[1024];
	CHECK_EQ(synack_tls_keylog(t, buf, 10), 0); /* no whole line fits */
	size_t n = synack_tls_keylog(t, buf, sizeof buf - 1);
	buf[n] = 0;
	CHECK(strncmp(buf, "CLIENT_HANDSHAKE_TRAFFIC_SECRET abababab", 40) == 0);
	CHECK(strstr(buf, "\nSERVER_HANDSHAKE_TRAFFIC_SECRET ") != NULL);
	CHECK(strstr(buf, " 0102030405060708") != NULL);
	CHECK_EQ(synack_tls_keylog(t, buf, sizeof buf), 0);
	CHECK_EQ(t->core->mem.bytes, 0);
	/* bounded: lines past TLS_KEYLOG_MAX are dropped, not queued */
	for (int i = 0; i < 100; i++)
		tls_keylog(t, "CLIENT_TRAFFIC_SECRET_0", t->client_random, secret1, 32);
	CHECK(t->core->klog_len <= TLS_KEYLOG_MAX);
	synack_tls_free(t);
	/* off: nothing recorded */
	t = tls_test_conn(cfg());
	tls_keylog(t, "CLIENT_TRAFFIC_SECRET_0", t->client_random, secret1, 32);
	CHECK_EQ(synack_tls_keylog(t, buf, sizeof buf), 0);
	synack_tls_free(t);
	synack_tls_config_free(c);
}

TEST(tls_trace_ring)
{
	struct synack_tls *t = tls_test_conn(cfg());
	tls_trace(t, true, 22, 1, 0, 5, "ignored while off");
	synack_tls_trace_enable(t, true);
	for (int i = 0; i < 70; i++)
		tls_trace(t, i & 1, 22, (uint8_t)i, 2, (uint32_t)i, "entry %d", i);
	synack_tls_trace_entry e[80];
	CHECK_EQ(synack_tls_trace(t, e, 10), 10);
	CHECK(strcmp(e[0].text, "entry 6") == 0);
	CHECK_EQ(synack_tls_trace(t, e, 80), 54);
	CHECK(strcmp(e[53].text, "entry 69") == 0);
	CHECK_EQ(e[53].len, 69);
	synack_tls_info info;
	synack_tls_get_info(t, &info);
	CHECK_EQ(info.trace_dropped, 6);
	CHECK_EQ(t->core->mem.bytes, 0);
	synack_tls_free(t);
}

TEST(tls_session_storage)
{
	struct synack_tls *t = tls_test_conn(cfg());
	uint8_t buf[16];
	CHECK_EQ(synack_tls_get_session(t, buf, sizeof buf), -ENOENT);
	CHECK_EQ(tls_session_store(t, (const uint8_t *)"blob", 4), 0);
	CHECK(synack_tls_events(t) & SYNACK_TLS_EV_TICKET);
	CHECK_EQ(synack_tls_get_session(t, buf, 2), -ENOSPC);
	CHECK_EQ(synack_tls_get_session(t, buf, sizeof buf), 4);
	CHECK_MEM(buf, "blob", 4);
	CHECK_EQ(synack_tls_set_session(t, buf, 4), -EALREADY); /* started */
	synack_tls_free(t);
	struct synack_tls_config *sc = synack_tls_config_new(SYNACK_TLS_SERVER);
	t = synack_tls_new(sc, NULL);
	CHECK_EQ(synack_tls_set_session(t, buf, 4), -EINVAL);
	synack_tls_free(t);
	synack_tls_config_free(sc);
}

/* ---- configuration and names ---- */

TEST(tls_config_defaults)
{
	struct synack_tls_config *c = synack_tls_config_new(SYNACK_TLS_SERVER);
	CHECK_EQ(c->nsuites, 3);
	CHECK_EQ(c->suites[0], 0x1301);
	CHECK_EQ(c->suites[2], 0x1303);
	CHECK_EQ(c->ngroups, 2);
	CHECK_EQ(c->groups[0], SYNACK_TLS_GROUP_X25519);
	CHECK_EQ(c->nsigschemes, 6);
	CHECK(c->verify);
	CHECK_EQ(c->ticket_count, 1);
	CHECK_EQ(c->ticket_lifetime_s, 7200);
	CHECK_EQ(c->ticket_rotate_s, 3600);
	CHECK_EQ(c->max_record, 16384);
	CHECK(c->rng.fill == crypto_random);
	CHECK(c->clock.unix_ms == crypto_unix_ms);
	static const uint8_t zero[32];
	CHECK(memcmp(c->ticket_root, zero, 32) != 0);
	CHECK(strcmp(synack_tls_config_error(c), "") == 0);
	synack_tls_config_INSECURE_no_verify(c);
	CHECK(!c->verify);
	synack_tls_config_request_client_cert(c, true);
	CHECK(c->request_client_cert && c->require_client_cert);
	synack_tls_config_free(c);
}

TEST(tls_config_alpn)
{
	struct synack_tls_config *c = synack_tls_config_new(SYNACK_TLS_CLIENT);
	CHECK_EQ(synack_tls_config_set_alpn(c, "h2,http/1.1"), 0);
	CHECK_EQ(c->alpn_len, 12);
	CHECK_MEM(c->alpn, "\2h2\10http/1.1", 12);
	CHECK_EQ(synack_tls_config_set_alpn(c, "h2,,x"), -EINVAL);
	CHECK(strlen(synack_tls_config_error(c)) > 0);
	CHECK_EQ(synack_tls_config_set_alpn(c, "h2,"), -EINVAL);
	char longname[300];
	memset(longname, 'a', 256);
	longname[256] = 0;
	CHECK_EQ(synack_tls_config_set_alpn(c, longname), -EINVAL);
	longname[255] = 0;
	CHECK_EQ(synack_tls_config_set_alpn(c, longname), 0); /* 1 + 255 bytes: exactly c->alpn */
	CHECK_EQ(c->alpn_len, 256);
	memcpy(longname + 255, ",b", 3);
	CHECK_EQ(synack_tls_config_set_alpn(c, longname), -EINVAL);
	longname[200] = 0;
	CHECK_EQ(synack_tls_config_set_alpn(c, longname), 0);
	CHECK_EQ(c->alpn_len, 201);
	CHECK_EQ(c->alpn[0], 200);
	CHECK_EQ(synack_tls_config_set_alpn(c, NULL), 0);
	CHECK_EQ(c->alpn_len, 0);
	CHECK_EQ(synack_tls_config_set_alpn(c, ""), 0);
	synack_tls_config_free(c);
}

TEST(tls_config_lists_and_limits)
{
	struct synack_tls_config *c = synack_tls_config_new(SYNACK_TLS_CLIENT);
	const uint16_t suites[] = {0x1303, 0x1301}, bad[] = {0x1301, 0x1304};
	CHECK_EQ(synack_tls_config_set_suites(c, suites, 2), 0);
	CHECK_EQ(c->suites[0], 0x1303);
	CHECK_EQ(synack_tls_config_set_suites(c, bad, 2), -EINVAL);
	CHECK(strstr(synack_tls_config_error(c), "0x1304") != NULL);
	CHECK_EQ(c->nsuites, 2);
	CHECK_EQ(synack_tls_config_set_suites(c, suites, 0), -EINVAL);
	const uint16_t groups[] = {SYNACK_TLS_GROUP_SECP384R1}, badg[] = {0x0019};
	CHECK_EQ(synack_tls_config_set_groups(c, groups, 1), 0);
	CHECK_EQ(synack_tls_config_set_groups(c, badg, 1), -EINVAL);
	const uint16_t schemes[] = {0x0807, 0x0403}, bads[] = {0x0203};
	CHECK_EQ(synack_tls_config_set_sigschemes(c, schemes, 2), 0);
	CHECK_EQ(synack_tls_config_set_sigschemes(c, bads, 1), -EINVAL);
	CHECK_EQ(synack_tls_config_set_versions(c, SYNACK_TLS_VERSION_13, SYNACK_TLS_VERSION_13), 0);
	CHECK_EQ(synack_tls_config_set_versions(c, SYNACK_TLS_VERSION_12, 0x0302), -EINVAL);
	CHECK_EQ(synack_tls_config_set_max_record(c, 63), -EINVAL);
	CHECK_EQ(synack_tls_config_set_max_record(c, 16385), -EINVAL);
	CHECK_EQ(synack_tls_config_set_max_record(c, 512), 0);
	struct synack_tls *t = synack_tls_new(c, "example.com");
	CHECK_EQ(t->send_limit, 512);
	CHECK(strcmp(t->server_name, "example.com") == 0);
	synack_tls_free(t);
	CHECK_EQ(synack_tls_config_load_ca_file(c, "/nonexistent/ca.pem"), -EINVAL);
	CHECK(strlen(synack_tls_config_error(c)) > 0);
	CHECK_EQ(synack_tls_config_load_cert_mem(c, "not pem", "not pem"), -EINVAL);
	synack_tls_config_free(c);
}

TEST(tls_config_cert_and_ca_from_memory)
{
	struct crypto_pkey *k = crypto_key_generate(CRYPTO_KEY_EC_P256);
	uint8_t *der;
	size_t len;
	CHECK_EQ(crypto_cert_make(k, "test", "example.com", true, NULL, NULL, 0, 1700000000, 30, &der, &len),
		 0);
	char *cert = crypto_cert_pem(der, len), *key = crypto_key_pem(k);
	struct synack_tls_config *c = synack_tls_config_new(SYNACK_TLS_SERVER);
	CHECK_EQ(synack_tls_config_load_cert_mem(c, cert, key), 0);
	CHECK_EQ(c->chain_n, 1);
	CHECK_EQ(c->chain_lens[0], len);
	CHECK(c->key != NULL);
	CHECK_EQ(synack_tls_config_load_ca_mem(c, cert), 0);
	CHECK(c->store != NULL);
	CHECK_EQ(synack_tls_config_load_cert_mem(c, cert, key), 0); /* replaces */
	synack_tls_config_free(c);
	free(cert);
	free(key);
	free(der);
	crypto_openssl.pkey_free(k);
}

TEST(tls_names)
{
	CHECK(strcmp(synack_tls_alert_name(40), "handshake_failure") == 0);
	CHECK(strcmp(synack_tls_alert_name(0), "close_notify") == 0);
	CHECK(strcmp(synack_tls_alert_name(123), "unknown_alert") == 0);
	CHECK(strcmp(synack_tls_suite_name(0x1302), "TLS_AES_256_GCM_SHA384") == 0);
	CHECK(strcmp(synack_tls_suite_name(0x0304), "TLSv1.3") == 0);
	CHECK(strcmp(synack_tls_suite_name(0x9999), "unknown") == 0);
	CHECK(strcmp(synack_tls_group_name(0x001d), "x25519") == 0);
	CHECK(strcmp(synack_tls_sigscheme_name(0x0804), "rsa_pss_rsae_sha256") == 0);
	CHECK_EQ(synack_tls_err_alert(SYNACK_TLS_ERR_SENT(47)), 47);
	CHECK_EQ(synack_tls_err_alert(SYNACK_TLS_ERR_RECEIVED(0)), 0);
	CHECK_EQ(synack_tls_err_alert(-EAGAIN), -1);
	CHECK(strcmp(synack_tls_strerror(SYNACK_TLS_ERR_RECEIVED(42)), "received bad_certificate") == 0);
	CHECK(strcmp(synack_tls_strerror(SYNACK_TLS_ERR_SENT(120)), "sent no_application_protocol") == 0);
	CHECK(strcmp(synack_tls_strerror(-EPIPE), strerror(EPIPE)) == 0);
	CHECK_EQ(tls_suite_find(0x1303)->aead, CRYPTO_CHACHA20_POLY1305);
	CHECK_EQ(tls_suite_find(0x1302)->hash, CRYPTO_SHA384);
	CHECK_EQ(tls_suite_find(0x1304), NULL);
}

TEST(tls_chacha_and_sha384_suites_roundtrip)
{
	const uint16_t ids[] = {SYNACK_TLS_AES_256_GCM_SHA384, SYNACK_TLS_CHACHA20_POLY1305_SHA256};
	uint8_t s48[48] = {9, 8, 7}, buf[256], got[32];
	for (size_t i = 0; i < ARRAY_LEN(ids); i++) {
		struct synack_tls *w = test_conn(), *r = test_conn();
		const struct tls_suite *s = tls_suite_find(ids[i]);
		CHECK_EQ(tls_set_keys(w, TLS_WRITE, TLS_EPOCH_APPLICATION, s, s48), 0);
		CHECK_EQ(tls_set_keys(r, TLS_READ, TLS_EPOCH_APPLICATION, s, s48), 0);
		w->hs_done = r->hs_done = true;
		CHECK_EQ(synack_tls_key_update(w, false), 0);
		CHECK_EQ(synack_tls_write(w, "suite", 5), 5);
		size_t n = synack_tls_take(w, buf, sizeof buf);
		CHECK_EQ(synack_tls_feed(r, buf, n), (ssize_t)n);
		CHECK_EQ(synack_tls_read(r, got, sizeof got), 5);
		synack_tls_free(w);
		synack_tls_free(r);
	}
}

#ifndef TLS_CORE_STANDALONE
/* ---- with the handshake layer: an idle established connection ---- */

static void shuttle(synack_tls *from, synack_tls *to)
{
	static uint8_t buf[1 << 16];
	size_t n;
	while ((n = synack_tls_take(from, buf, sizeof buf)) > 0) {
		size_t off = 0;
		while (off < n) {
			ssize_t k = synack_tls_feed(to, buf + off, n - off);
			if (k < 0)
				return;
			off += (size_t)k;
			uint8_t sink[1 << 14];
			while (synack_tls_read(to, sink, sizeof sink) > 0)
				;
		}
	}
}

TEST(tls_memory_idle_after_real_handshake)
{
	struct crypto_pkey *k = crypto_key_generate(CRYPTO_KEY_EC_P256);
	uint8_t *der;
	size_t len;
	CHECK_EQ(crypto_cert_make(k, "example.com", "example.com", true, NULL, NULL, 0,
				  crypto_unix_ms(NULL) / 1000 - 60, 30, &der, &len),
		 0);
	char *cert = crypto_cert_pem(der, len), *key = crypto_key_pem(k);
	synack_tls_config *sc = synack_tls_config_new(SYNACK_TLS_SERVER),
			  *cc = synack_tls_config_new(SYNACK_TLS_CLIENT);
	CHECK_EQ(synack_tls_config_load_cert_mem(sc, cert, key), 0);
	CHECK_EQ(synack_tls_config_load_ca_mem(cc, cert), 0);
	synack_tls *c = synack_tls_new(cc, "example.com"), *s = synack_tls_new(sc, NULL);
	for (int i = 0; i < 10 && !(synack_tls_handshake_done(c) && synack_tls_handshake_done(s)); i++) {
		shuttle(c, s);
		shuttle(s, c);
	}
	CHECK(synack_tls_handshake_done(c) && synack_tls_handshake_done(s));
	CHECK_EQ(synack_tls_error(c), 0);
	static uint8_t data[100000];
	for (size_t off = 0; off < sizeof data;) {
		ssize_t n = synack_tls_write(c, data + off, sizeof data - off);
		CHECK(n > 0);
		if (n <= 0)
			break;
		off += (size_t)n;
		shuttle(c, s);
	}
	CHECK_EQ(synack_tls_write(s, data, 30000), 30000);
	shuttle(s, c);
	size_t base = sizeof(struct synack_tls) + sizeof(struct tls_core);
	CHECK(synack_tls_memory(c) >= base);
	CHECK(synack_tls_memory(c) - base <= 8192);
	CHECK(synack_tls_memory(s) - base <= 8192);
	CHECK_EQ(s->hs, NULL);
	CHECK_EQ(c->core->tr, NULL);
	synack_tls_free(c);
	synack_tls_free(s);
	synack_tls_config_free(cc);
	synack_tls_config_free(sc);
	free(cert);
	free(key);
	free(der);
	crypto_openssl.pkey_free(k);
}
#endif
