/* TLS 1.2 handshake message codecs (src/tls/hs12_msgs.c): ServerKeyExchange
 * and ClientKeyExchange for ECDHE (RFC 8422 §5.4, §5.7), ServerHelloDone and
 * Finished (RFC 5246 §7.4.5, §7.4.9), NewSessionTicket (RFC 5077 §3.3), the
 * downgrade sentinel (RFC 8446 §4.1.3), renegotiation_info (RFC 5746 §3.2),
 * extended_master_secret (RFC 7627 §5.1), ec_point_formats (RFC 8422
 * §5.1.2), the SCSVs (RFC 5746 §3.3, RFC 7507) and the server's suite choice.
 *
 * Where the expected bytes come from: written by hand in this file from the
 * RFC structures (each expected vector spells its fields out in its
 * comment), or quoted from the RFC text itself where it gives the encoding
 * (ff 01 00 01 00, 00 17 00 00, 00 0B 00 02 01 00, 44 4F 57 4E 47 52 44 0x).
 * Hostile inputs: every prefix of each valid body, every one-byte
 * appendix, and the field-level corruptions named in each test. */
#include <errno.h>
#include <string.h>

#include "crypto/crypto.h"
#include "tls/hs12.h"
#include "tls/tls_internal.h"
#include "unit.h"

static const struct crypto_ops *C = &crypto_openssl;

static size_t unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	while (s[0] && s[1] && n < cap) {
		unsigned v;
		if (s[0] == ' ') {
			s++;
			continue;
		}
		if (sscanf(s, "%2x", &v) != 1)
			break;
		out[n++] = (uint8_t)v;
		s += 2;
	}
	return n;
}

static void pattern(uint8_t *p, size_t n, unsigned start)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(start + i);
}

/* A parser over (body, len) returning 0 or a negative errno. */
typedef int (*parse_fn)(const uint8_t *body, size_t len, void *ctx);

/* Every proper prefix of a valid body fails with -EBADMSG, and so does the
 * body with any one byte appended. */
static void check_hostile(const uint8_t *body, size_t len, parse_fn parse, void *ctx)
{
	uint8_t buf[512];
	CHECK(len < sizeof buf);
	CHECK_EQ(parse(body, len, ctx), 0);
	for (size_t n = 0; n < len; n++) {
		memcpy(buf, body, n);
		int err = parse(buf, n, ctx);
		if (err != -EBADMSG)
			unit_fail(__FILE__, __LINE__, "prefix %zu of %zu: %d, not -EBADMSG", n, len, err);
	}
	memcpy(buf, body, len);
	for (unsigned v = 0; v < 256; v++) {
		buf[len] = (uint8_t)v;
		int err = parse(buf, len + 1, ctx);
		if (err != -EBADMSG)
			unit_fail(__FILE__, __LINE__, "appended 0x%02x: %d, not -EBADMSG", v, err);
	}
}

/* ---- ServerKeyExchange (RFC 8422 §5.4) ---- */

static const uint8_t fake_sig[8] = {0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03, 0x04};

/* x25519 point a0 a1 ... bf, scheme ecdsa_secp256r1_sha256, fake signature. */
static size_t ske_x25519(uint8_t *out, size_t cap)
{
	uint8_t point[32], params[HS12_PARAMS_MAX];
	pattern(point, sizeof point, 0xa0);
	struct bbuf p = bbuf_make(params, sizeof params), b = bbuf_make(out, cap);
	CHECK_EQ(hs12_ecdh_params_build(&p, CRYPTO_X25519, point, sizeof point), 0);
	CHECK_EQ(hs12_ske_build(&b, params, p.len, CRYPTO_ECDSA_SECP256R1_SHA256, fake_sig, sizeof fake_sig),
		 0);
	return b.len;
}

static int ske_parse_cb(const uint8_t *body, size_t len, void *ctx)
{
	struct hs12_ske ske;
	(void)ctx;
	return hs12_ske_parse(body, len, &ske);
}

TEST(ske_x25519_exact_bytes)
{
	uint8_t got[256], want[256];
	size_t n = ske_x25519(got, sizeof got);
	/* curve_type named_curve(3) | NamedCurve x25519 (00 1d) | point<1..255>: 20 + 32 bytes |
	 * SignatureAndHashAlgorithm 04 03 | signature<0..2^16-1>: 00 08 + 8 bytes */
	size_t wn = unhex("03 001d 20 a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
			  " 0403 0008 deadbeef01020304",
			  want, sizeof want);
	CHECK_EQ(wn, 1 + 2 + 1 + 32 + 2 + 2 + 8);
	CHECK_EQ(n, wn);
	CHECK_MEM(got, want, wn);
}

TEST(ske_round_trip_every_group)
{
	static const uint16_t groups[] = {CRYPTO_X25519, CRYPTO_SECP256R1, CRYPTO_SECP384R1};
	for (size_t g = 0; g < 3; g++) {
		uint8_t point[HS12_POINT_MAX], params[HS12_PARAMS_MAX], body[512], sig[300];
		size_t plen = hs12_point_len(groups[g]);
		pattern(point, plen, 0x10 * (unsigned)g);
		if (groups[g] != CRYPTO_X25519)
			point[0] = 0x04;
		pattern(sig, sizeof sig, 7);
		struct bbuf p = bbuf_make(params, sizeof params), b = bbuf_make(body, sizeof body);
		CHECK_EQ(hs12_ecdh_params_build(&p, groups[g], point, plen), 0);
		CHECK_EQ(p.len, 4 + plen);
		CHECK_EQ(hs12_ske_build(&b, params, p.len, CRYPTO_RSA_PSS_RSAE_SHA256, sig, sizeof sig), 0);
		struct hs12_ske ske;
		CHECK_EQ(hs12_ske_parse(body, b.len, &ske), 0);
		CHECK_EQ(ske.group, groups[g]);
		CHECK_EQ(ske.point_len, plen);
		CHECK_MEM(ske.point, point, plen);
		CHECK(ske.params == body);
		CHECK_EQ(ske.params_len, p.len);
		CHECK_MEM(ske.params, params, p.len);
		CHECK_EQ(ske.scheme, CRYPTO_RSA_PSS_RSAE_SHA256);
		CHECK_EQ(ske.sig_len, sizeof sig);
		CHECK_MEM(ske.sig, sig, sizeof sig);
		check_hostile(body, b.len, ske_parse_cb, NULL);
	}
}

TEST(ske_signed_content_layout)
{
	uint8_t cr[32], sr[32], out[HS12_SIGNED_MAX], want[HS12_SIGNED_MAX], body[256];
	pattern(cr, 32, 0x40);
	pattern(sr, 32, 0x80);
	size_t n = ske_x25519(body, sizeof body);
	struct hs12_ske ske;
	CHECK_EQ(hs12_ske_parse(body, n, &ske), 0);
	struct bbuf b = bbuf_make(out, sizeof out);
	CHECK_EQ(hs12_ske_signed_content(&b, cr, sr, ske.params, ske.params_len), 0);
	/* ClientHello.random (40..5f) + ServerHello.random (80..9f) + params */
	size_t wn = unhex("404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
			  "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
			  "03001d20a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf",
			  want, sizeof want);
	CHECK_EQ(wn, 64 + 36);
	CHECK_EQ(b.len, wn);
	CHECK_MEM(out, want, wn);
	/* params that are not one ServerECDHParams are a bad argument */
	b = bbuf_make(out, sizeof out);
	CHECK_EQ(hs12_ske_signed_content(&b, cr, sr, ske.params, ske.params_len - 1), -EINVAL);
	CHECK_EQ(hs12_ske_signed_content(&b, cr, sr, body, n), -EINVAL); /* the whole SKE */
	CHECK_EQ(b.len, 0);
}

TEST(ske_framed_as_a_handshake_message)
{
	uint8_t msg[256], body[256];
	size_t n = ske_x25519(body, sizeof body);
	uint8_t point[32], params[HS12_PARAMS_MAX];
	pattern(point, 32, 0xa0);
	struct bbuf p = bbuf_make(params, sizeof params), b = bbuf_make(msg, sizeof msg);
	CHECK_EQ(hs12_ecdh_params_build(&p, CRYPTO_X25519, point, 32), 0);
	bbuf_u8(&b, TLS_HS_SERVER_KEY_EXCHANGE);
	size_t m = bbuf_vec_open(&b, 3);
	CHECK_EQ(hs12_ske_build(&b, params, p.len, CRYPTO_ECDSA_SECP256R1_SHA256, fake_sig, 8), 0);
	bbuf_vec_close(&b, m, 3);
	CHECK(bbuf_ok(&b));
	CHECK_EQ(b.len, 4 + n);
	CHECK_EQ(msg[0], 12);
	CHECK_EQ(msg[1], 0);
	CHECK_EQ(msg[2], 0);
	CHECK_EQ(msg[3], n);
	CHECK_MEM(msg + 4, body, n);
}

TEST(ske_wrong_curve_type)
{
	uint8_t body[256];
	size_t n = ske_x25519(body, sizeof body);
	static const uint8_t types[] = {0, 1, 2, 4, 248, 255}; /* explicit_prime(1), explicit_char2(2) ... */
	for (size_t i = 0; i < sizeof types; i++) {
		body[0] = types[i];
		CHECK_EQ(ske_parse_cb(body, n, NULL), -EBADMSG);
	}
}

/* A SKE for group with the point given (its length prefixed correctly). */
static size_t ske_raw(uint8_t *out, uint16_t group, const uint8_t *point, size_t plen)
{
	struct bbuf b = bbuf_make(out, 512);
	bbuf_u8(&b, 3);
	bbuf_u16(&b, group);
	size_t m = bbuf_vec_open(&b, 1);
	bbuf_put(&b, point, plen);
	bbuf_vec_close(&b, m, 1);
	bbuf_u16(&b, CRYPTO_ECDSA_SECP256R1_SHA256);
	m = bbuf_vec_open(&b, 2);
	bbuf_put(&b, fake_sig, sizeof fake_sig);
	bbuf_vec_close(&b, m, 2);
	CHECK(bbuf_ok(&b));
	return b.len;
}

TEST(ske_point_length_must_match_group)
{
	uint8_t point[256], body[512];
	struct hs12_ske ske;
	pattern(point, sizeof point, 0);
	point[0] = 0x04;
	for (size_t len = 0; len <= 255; len++) {
		size_t n = ske_raw(body, CRYPTO_X25519, point, len);
		CHECK_EQ(hs12_ske_parse(body, n, &ske), len == 32 ? 0 : -EBADMSG);
		n = ske_raw(body, CRYPTO_SECP256R1, point, len);
		CHECK_EQ(hs12_ske_parse(body, n, &ske), len == 65 ? 0 : -EBADMSG);
		n = ske_raw(body, CRYPTO_SECP384R1, point, len);
		CHECK_EQ(hs12_ske_parse(body, n, &ske), len == 97 ? 0 : -EBADMSG);
	}
	CHECK(ske.point == NULL); /* cleared on failure */
}

TEST(ske_secp256r1_compressed_point_refused)
{
	uint8_t point[65], body[512];
	struct hs12_ske ske;
	pattern(point, sizeof point, 0x30);
	for (unsigned form = 0; form < 256; form++) {
		point[0] = (uint8_t)form; /* 65 bytes, but only 0x04 is uncompressed */
		size_t n = ske_raw(body, CRYPTO_SECP256R1, point, 65);
		CHECK_EQ(hs12_ske_parse(body, n, &ske), form == 4 ? 0 : -EBADMSG);
	}
	point[0] = 0x02; /* a real compressed encoding: 0x02/0x03 || X, 33 bytes */
	size_t n = ske_raw(body, CRYPTO_SECP256R1, point, 33);
	CHECK_EQ(hs12_ske_parse(body, n, &ske), -EBADMSG);
	point[0] = 0x03;
	n = ske_raw(body, CRYPTO_SECP256R1, point, 33);
	CHECK_EQ(hs12_ske_parse(body, n, &ske), -EBADMSG);
}

TEST(ske_unknown_group)
{
	uint8_t point[133], body[512];
	struct hs12_ske ske;
	pattern(point, sizeof point, 0);
	point[0] = 0x04;
	size_t n = ske_raw(body, 0x0019, point, 133); /* secp521r1: well formed, not ours */
	CHECK_EQ(hs12_ske_parse(body, n, &ske), -EOPNOTSUPP);
	CHECK_EQ(hs12_ske_parse(body, n - 1, &ske), -EBADMSG); /* malformed beats unknown */
	n = ske_raw(body, 0x0000, point, 32);
	CHECK_EQ(hs12_ske_parse(body, n, &ske), -EOPNOTSUPP);
}

TEST(ske_length_fields_past_the_body)
{
	uint8_t body[256];
	struct hs12_ske ske;
	size_t n = ske_x25519(body, sizeof body);
	body[3] = 33; /* point length one past: everything after shifts */
	CHECK_EQ(hs12_ske_parse(body, n, &ske), -EBADMSG);
	body[3] = 0xff;
	CHECK_EQ(hs12_ske_parse(body, n, &ske), -EBADMSG);
	n = ske_x25519(body, sizeof body);
	body[n - 9] = 9; /* signature length 9, 8 bytes left */
	CHECK_EQ(hs12_ske_parse(body, n, &ske), -EBADMSG);
	body[n - 10] = 0xff;
	CHECK_EQ(hs12_ske_parse(body, n, &ske), -EBADMSG);
	body[n - 10] = 0, body[n - 9] = 7; /* 7: one byte left over */
	CHECK_EQ(hs12_ske_parse(body, n, &ske), -EBADMSG);
	n = ske_x25519(body, sizeof body);
	body[n - 10] = 0, body[n - 9] = 0; /* empty signature: well formed (verify refuses it) */
	CHECK_EQ(hs12_ske_parse(body, n - 8, &ske), 0);
	CHECK_EQ(ske.sig_len, 0);
}

TEST(ske_builders_refuse_bad_arguments)
{
	uint8_t point[97], params[HS12_PARAMS_MAX], out[512];
	pattern(point, sizeof point, 0x20);
	struct bbuf b = bbuf_make(out, sizeof out);
	CHECK_EQ(hs12_ecdh_params_build(&b, CRYPTO_X25519, point, 31), -EINVAL);
	CHECK_EQ(hs12_ecdh_params_build(&b, CRYPTO_SECP256R1, point, 65), -EINVAL); /* 0x20: not 0x04 */
	CHECK_EQ(hs12_ecdh_params_build(&b, 0x0019, point, 32), -EINVAL);
	CHECK_EQ(hs12_ecdh_params_build(&b, CRYPTO_X25519, NULL, 32), -EINVAL);
	CHECK_EQ(b.len, 0);
	struct bbuf p = bbuf_make(params, sizeof params);
	CHECK_EQ(hs12_ecdh_params_build(&p, CRYPTO_X25519, point, 32), 0);
	CHECK_EQ(hs12_ske_build(&b, params, p.len - 1, 0x0403, fake_sig, 8), -EINVAL);
	CHECK_EQ(hs12_ske_build(&b, params, p.len, 0x0403, NULL, 8), -EINVAL);
	CHECK_EQ(hs12_ske_build(&b, params, p.len, 0x0403, out, 65536), -EINVAL);
	params[0] = 1;
	CHECK_EQ(hs12_ske_build(&b, params, p.len, 0x0403, fake_sig, 8), -EINVAL);
	CHECK_EQ(b.len, 0);
	CHECK(bbuf_ok(&b));
}

TEST(ske_output_that_does_not_fit)
{
	uint8_t params[HS12_PARAMS_MAX], point[32], out[64];
	pattern(point, 32, 0xa0);
	struct bbuf p = bbuf_make(params, sizeof params);
	CHECK_EQ(hs12_ecdh_params_build(&p, CRYPTO_X25519, point, 32), 0);
	size_t need = p.len + 2 + 2 + 8;
	for (size_t cap = 0; cap <= need; cap++) {
		struct bbuf b = bbuf_make(out, cap);
		CHECK_EQ(hs12_ske_build(&b, params, p.len, 0x0403, fake_sig, 8), cap == need ? 0 : -ENOSPC);
	}
	for (size_t cap = 0; cap < p.len; cap++) {
		struct bbuf b = bbuf_make(out, cap);
		CHECK_EQ(hs12_ecdh_params_build(&b, CRYPTO_X25519, point, 32), -ENOSPC);
	}
}

/* The codecs with the crypto table, as the handshake will use them: the
 * server signs the content of its SKE, the client parses and verifies. */
TEST(ske_signed_and_verified_through_the_crypto_table)
{
	uint8_t cr[32], sr[32], priv[32], pub[HS12_POINT_MAX], params[HS12_PARAMS_MAX];
	uint8_t tbs[HS12_SIGNED_MAX], sig[CRYPTO_SIG_MAX], body[1024], tbs2[HS12_SIGNED_MAX];
	size_t publen = 0, siglen = 0;
	pattern(cr, 32, 1);
	pattern(sr, 32, 2);
	pattern(priv, 32, 3);
	struct crypto_pkey *key = crypto_key_generate(CRYPTO_KEY_EC_P256);
	struct crypto_kex *kx = NULL;
	CHECK(key != NULL);
	CHECK_EQ(C->kex_new(CRYPTO_SECP256R1, priv, 32, &kx), 0);
	CHECK_EQ(C->kex_public(kx, pub, sizeof pub, &publen), 0);
	struct bbuf p = bbuf_make(params, sizeof params), t = bbuf_make(tbs, sizeof tbs);
	CHECK_EQ(hs12_ecdh_params_build(&p, CRYPTO_SECP256R1, pub, publen), 0);
	CHECK_EQ(hs12_ske_signed_content(&t, cr, sr, params, p.len), 0);
	CHECK_EQ(C->sign(key, CRYPTO_ECDSA_SECP256R1_SHA256, tbs, t.len, sig, sizeof sig, &siglen), 0);
	struct bbuf b = bbuf_make(body, sizeof body);
	CHECK_EQ(hs12_ske_build(&b, params, p.len, CRYPTO_ECDSA_SECP256R1_SHA256, sig, siglen), 0);

	struct hs12_ske ske;
	CHECK_EQ(hs12_ske_parse(body, b.len, &ske), 0);
	struct bbuf t2 = bbuf_make(tbs2, sizeof tbs2);
	CHECK_EQ(hs12_ske_signed_content(&t2, cr, sr, ske.params, ske.params_len), 0);
	CHECK_EQ(C->verify(key, ske.scheme, tbs2, t2.len, ske.sig, ske.sig_len), 0);
	sr[31] ^= 1; /* another ServerHello.random: the signature no longer fits */
	t2 = bbuf_make(tbs2, sizeof tbs2);
	CHECK_EQ(hs12_ske_signed_content(&t2, cr, sr, ske.params, ske.params_len), 0);
	CHECK_EQ(C->verify(key, ske.scheme, tbs2, t2.len, ske.sig, ske.sig_len), -EBADMSG);
	C->kex_free(kx);
	C->pkey_free(key);
}

/* ---- ClientKeyExchange (RFC 8422 §5.7) ---- */

struct cke_ctx {
	uint16_t group;
};
static int cke_parse_cb(const uint8_t *body, size_t len, void *ctx)
{
	const uint8_t *point;
	size_t plen;
	return hs12_cke_parse(body, len, ((struct cke_ctx *)ctx)->group, &point, &plen);
}

TEST(cke_exact_bytes_and_round_trip)
{
	uint8_t point[65], out[128], want[128];
	const uint8_t *got;
	size_t glen;
	/* x25519: ecdh_Yc<1..255> = 20 + the 32-byte u coordinate (50 51 ... 6f) */
	pattern(point, 32, 0x50);
	struct bbuf b = bbuf_make(out, sizeof out);
	CHECK_EQ(hs12_cke_build(&b, CRYPTO_X25519, point, 32), 0);
	size_t wn =
	    unhex("20 505152535455565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f", want, sizeof want);
	CHECK_EQ(b.len, wn);
	CHECK_MEM(out, want, wn);
	CHECK_EQ(hs12_cke_parse(out, b.len, CRYPTO_X25519, &got, &glen), 0);
	CHECK_EQ(glen, 32);
	CHECK(got == out + 1);
	struct cke_ctx x = {CRYPTO_X25519};
	check_hostile(out, b.len, cke_parse_cb, &x);

	/* secp256r1: 41 + 04 || X (00 01 .. 1f) || Y (20 .. 3f) */
	pattern(point + 1, 64, 0x00);
	point[0] = 0x04;
	b = bbuf_make(out, sizeof out);
	CHECK_EQ(hs12_cke_build(&b, CRYPTO_SECP256R1, point, 65), 0);
	wn = unhex("41 04 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
		   "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f",
		   want, sizeof want);
	CHECK_EQ(b.len, wn);
	CHECK_MEM(out, want, wn);
	CHECK_EQ(hs12_cke_parse(out, b.len, CRYPTO_SECP256R1, &got, &glen), 0);
	CHECK_EQ(glen, 65);
	CHECK_MEM(got, point, 65);
	struct cke_ctx p = {CRYPTO_SECP256R1};
	check_hostile(out, b.len, cke_parse_cb, &p);
}

TEST(cke_point_rules)
{
	uint8_t point[256], body[300];
	const uint8_t *got;
	size_t glen;
	pattern(point, sizeof point, 0);
	point[0] = 0x04;
	for (size_t len = 0; len <= 255; len++) {
		struct bbuf b = bbuf_make(body, sizeof body);
		size_t m = bbuf_vec_open(&b, 1);
		bbuf_put(&b, point, len);
		bbuf_vec_close(&b, m, 1);
		CHECK_EQ(hs12_cke_parse(body, b.len, CRYPTO_X25519, &got, &glen), len == 32 ? 0 : -EBADMSG);
		CHECK_EQ(hs12_cke_parse(body, b.len, CRYPTO_SECP256R1, &got, &glen),
			 len == 65 ? 0 : -EBADMSG);
		CHECK_EQ(hs12_cke_parse(body, b.len, 0x0019, &got, &glen), -EOPNOTSUPP);
	}
	CHECK(got == NULL && glen == 0);
	uint8_t compressed[34] = {33, 0x02};
	CHECK_EQ(hs12_cke_parse(compressed, sizeof compressed, CRYPTO_SECP256R1, &got, &glen), -EBADMSG);
	compressed[1] = 0x03;
	CHECK_EQ(hs12_cke_parse(compressed, sizeof compressed, CRYPTO_SECP256R1, &got, &glen), -EBADMSG);
	uint8_t wrong_form[66] = {65, 0x02};
	CHECK_EQ(hs12_cke_parse(wrong_form, sizeof wrong_form, CRYPTO_SECP256R1, &got, &glen), -EBADMSG);
	struct bbuf b = bbuf_make(body, sizeof body);
	CHECK_EQ(hs12_cke_build(&b, CRYPTO_SECP256R1, compressed + 1, 33), -EINVAL);
	CHECK_EQ(hs12_cke_build(&b, CRYPTO_X25519, point, 33), -EINVAL);
	CHECK_EQ(b.len, 0);
}

/* Both sides of an ECDHE through the codecs agree on the secret. */
TEST(cke_and_ske_points_give_one_secret)
{
	static const uint16_t groups[] = {CRYPTO_X25519, CRYPTO_SECP256R1, CRYPTO_SECP384R1};
	for (size_t g = 0; g < 3; g++) {
		uint8_t sp[48], cp[48], spub[HS12_POINT_MAX], cpub[HS12_POINT_MAX], cke[128];
		uint8_t s1[CRYPTO_KEX_SECRET_MAX], s2[CRYPTO_KEX_SECRET_MAX];
		size_t sl = 0, cl = 0, n1 = 0, n2 = 0, plen = C->kex_priv_len(groups[g]);
		struct crypto_kex *ks = NULL, *kc = NULL;
		pattern(sp, plen, 0x11);
		pattern(cp, plen, 0x22);
		CHECK_EQ(C->kex_new(groups[g], sp, plen, &ks), 0);
		CHECK_EQ(C->kex_new(groups[g], cp, plen, &kc), 0);
		CHECK_EQ(C->kex_public(ks, spub, sizeof spub, &sl), 0);
		CHECK_EQ(C->kex_public(kc, cpub, sizeof cpub, &cl), 0);
		CHECK_EQ(sl, hs12_point_len(groups[g]));
		struct bbuf b = bbuf_make(cke, sizeof cke);
		CHECK_EQ(hs12_cke_build(&b, groups[g], cpub, cl), 0);
		const uint8_t *got;
		size_t glen;
		CHECK_EQ(hs12_cke_parse(cke, b.len, groups[g], &got, &glen), 0);
		CHECK_EQ(C->kex_derive(ks, got, glen, s1, sizeof s1, &n1), 0);
		CHECK_EQ(C->kex_derive(kc, spub, sl, s2, sizeof s2, &n2), 0);
		CHECK_EQ(n1, n2);
		CHECK_MEM(s1, s2, n1);
		C->kex_free(ks);
		C->kex_free(kc);
	}
}

/* ---- ServerHelloDone, Finished ---- */

TEST(server_hello_done)
{
	uint8_t out[4], byte[1];
	struct bbuf b = bbuf_make(out, sizeof out);
	CHECK_EQ(hs12_server_hello_done_build(&b), 0);
	CHECK_EQ(b.len, 0);
	CHECK_EQ(hs12_server_hello_done_parse(out, 0), 0);
	CHECK_EQ(hs12_server_hello_done_parse(NULL, 0), 0);
	for (unsigned v = 0; v < 256; v++) {
		byte[0] = (uint8_t)v;
		CHECK_EQ(hs12_server_hello_done_parse(byte, 1), -EBADMSG);
	}
	CHECK_EQ(hs12_server_hello_done_parse(out, 4), -EBADMSG);
	struct bbuf full = bbuf_make(out, 0);
	bbuf_u8(&full, 1); /* already overflowed */
	CHECK_EQ(hs12_server_hello_done_build(&full), -ENOSPC);
}

static int fin_parse_cb(const uint8_t *body, size_t len, void *ctx)
{
	const uint8_t *vd;
	(void)ctx;
	return hs12_finished_parse(body, len, &vd);
}

TEST(finished_twelve_bytes_exactly)
{
	uint8_t vd[12], out[32], big[13];
	const uint8_t *got;
	pattern(vd, 12, 0xc0);
	struct bbuf b = bbuf_make(out, sizeof out);
	CHECK_EQ(hs12_finished_build(&b, vd), 0);
	CHECK_EQ(b.len, 12);
	CHECK_MEM(out, vd, 12);
	CHECK_EQ(hs12_finished_parse(out, 12, &got), 0);
	CHECK(got == out);
	check_hostile(out, 12, fin_parse_cb, NULL);
	CHECK_EQ(hs12_finished_parse(out, 11, &got), -EBADMSG);
	CHECK(got == NULL);
	memcpy(big, vd, 12);
	big[12] = 0;
	CHECK_EQ(hs12_finished_parse(big, 13, &got), -EBADMSG);
	CHECK_EQ(hs12_finished_verify(big, 13, vd), -EBADMSG);
	CHECK_EQ(hs12_finished_verify(out, 11, vd), -EBADMSG);
	CHECK_EQ(hs12_finished_verify(out, 12, vd), 0);
	for (size_t i = 0; i < 12 * 8; i++) {
		out[i / 8] ^= (uint8_t)(1u << (i % 8));
		CHECK_EQ(hs12_finished_verify(out, 12, vd), -EACCES);
		out[i / 8] ^= (uint8_t)(1u << (i % 8));
	}
	b = bbuf_make(out, 11);
	CHECK_EQ(hs12_finished_build(&b, vd), -ENOSPC);
}

/* ---- NewSessionTicket (RFC 5077 §3.3) ---- */

static int nst_parse_cb(const uint8_t *body, size_t len, void *ctx)
{
	struct hs12_nst nst;
	(void)ctx;
	return hs12_nst_parse(body, len, &nst);
}

TEST(nst_exact_bytes_round_trip_and_truncations)
{
	uint8_t out[64], want[64];
	struct hs12_nst nst;
	struct bbuf b = bbuf_make(out, sizeof out);
	CHECK_EQ(hs12_nst_build(&b, 86400, (const uint8_t *)"abc", 3), 0);
	/* ticket_lifetime_hint 86400 (00 01 51 80) | ticket<0..2^16-1>: 00 03 "abc" */
	size_t wn = unhex("00015180 0003 616263", want, sizeof want);
	CHECK_EQ(b.len, wn);
	CHECK_MEM(out, want, wn);
	CHECK_EQ(hs12_nst_parse(out, b.len, &nst), 0);
	CHECK_EQ(nst.lifetime_hint, 86400);
	CHECK_EQ(nst.ticket_len, 3);
	CHECK_MEM(nst.ticket, "abc", 3);
	check_hostile(out, b.len, nst_parse_cb, NULL);
}

TEST(nst_empty_ticket_is_reported)
{
	uint8_t out[16];
	struct hs12_nst nst;
	struct bbuf b = bbuf_make(out, sizeof out);
	CHECK_EQ(hs12_nst_build(&b, 0, NULL, 0), 0);
	CHECK_EQ(b.len, 6);
	CHECK_MEM(out, "\0\0\0\0\0\0", 6);
	CHECK_EQ(hs12_nst_parse(out, 6, &nst), 0);
	CHECK_EQ(nst.ticket_len, 0); /* the server will not resume this session */
	CHECK_EQ(nst.lifetime_hint, 0);
	check_hostile(out, 6, nst_parse_cb, NULL);
}

TEST(nst_length_fields_past_the_body)
{
	struct hs12_nst nst;
	uint8_t a[] = {0, 0, 0x0e, 0x10, 0x00, 0x05, 'a', 'b'};
	CHECK_EQ(hs12_nst_parse(a, sizeof a, &nst), -EBADMSG);
	uint8_t c[] = {0, 0, 0x0e, 0x10, 0xff, 0xff, 'a'};
	CHECK_EQ(hs12_nst_parse(c, sizeof c, &nst), -EBADMSG);
	uint8_t d[] = {0, 0, 0x0e, 0x10, 0x01, 0x00}; /* 256 announced, none there */
	CHECK_EQ(hs12_nst_parse(d, sizeof d, &nst), -EBADMSG);
	CHECK(nst.ticket == NULL && nst.ticket_len == 0);
	uint8_t e[] = {0, 0, 0x0e, 0x10, 0x00, 0x01, 'a', 'b'}; /* one byte left over */
	CHECK_EQ(hs12_nst_parse(e, sizeof e, &nst), -EBADMSG);
	uint8_t out[8];
	struct bbuf b = bbuf_make(out, sizeof out);
	CHECK_EQ(hs12_nst_build(&b, 1, NULL, 3), -EINVAL);
	CHECK_EQ(hs12_nst_build(&b, 1, out, 65536), -EINVAL);
	CHECK_EQ(hs12_nst_build(&b, 1, (const uint8_t *)"abc", 3), -ENOSPC); /* 9 > 8 */
}

TEST(nst_largest_ticket)
{
	static uint8_t ticket[65535], out[65535 + 6];
	struct hs12_nst nst;
	pattern(ticket, sizeof ticket, 9);
	struct bbuf b = bbuf_make(out, sizeof out);
	CHECK_EQ(hs12_nst_build(&b, 7200, ticket, sizeof ticket), 0);
	CHECK_EQ(b.len, sizeof out);
	CHECK_EQ(hs12_nst_parse(out, b.len, &nst), 0);
	CHECK_EQ(nst.ticket_len, 65535);
	CHECK_EQ(hs12_nst_parse(out, b.len - 1, &nst), -EBADMSG);
}

/* ---- downgrade sentinel (RFC 8446 §4.1.3) ---- */

TEST(downgrade_sentinel_written_and_detected)
{
	uint8_t r[32], orig[32];
	static const uint8_t s12[8] = {0x44, 0x4F, 0x57, 0x4E, 0x47, 0x52, 0x44, 0x01};
	static const uint8_t s11[8] = {0x44, 0x4F, 0x57, 0x4E, 0x47, 0x52, 0x44, 0x00};
	pattern(orig, 32, 0x70);
	memcpy(r, orig, 32);
	CHECK_EQ(hs12_downgrade_detect(r), HS12_DOWNGRADE_NONE);
	CHECK_EQ(hs12_downgrade_set(r, 0x0303), 0);
	CHECK_MEM(r, orig, 24);
	CHECK_MEM(r + 24, s12, 8);
	CHECK_EQ(hs12_downgrade_detect(r), HS12_DOWNGRADE_TLS12);
	memcpy(r, orig, 32);
	CHECK_EQ(hs12_downgrade_set(r, 0x0302), 0);
	CHECK_MEM(r, orig, 24);
	CHECK_MEM(r + 24, s11, 8);
	CHECK_EQ(hs12_downgrade_detect(r), HS12_DOWNGRADE_TLS11);
	CHECK_EQ(hs12_downgrade_set(r, 0x0300), 0);
	CHECK_EQ(hs12_downgrade_detect(r), HS12_DOWNGRADE_TLS11);
	memcpy(r, orig, 32);
	CHECK_EQ(hs12_downgrade_set(r, 0x0304), -EINVAL);
	CHECK_EQ(hs12_downgrade_set(r, 0x0200), -EINVAL);
	CHECK_MEM(r, orig, 32);
	/* near misses are not the sentinel */
	for (size_t i = 0; i < 8; i++) {
		memcpy(r + 24, s12, 8);
		r[24 + i] ^= 0x20;
		CHECK_EQ(hs12_downgrade_detect(r), HS12_DOWNGRADE_NONE);
	}
	memcpy(r + 24, s12, 8);
	r[31] = 0x02;
	CHECK_EQ(hs12_downgrade_detect(r), HS12_DOWNGRADE_NONE);
	memcpy(r + 23, s12, 8); /* one byte early */
	r[31] = 0x55;
	CHECK_EQ(hs12_downgrade_detect(r), HS12_DOWNGRADE_NONE);
}

/* ---- hello extensions ---- */

TEST(renegotiation_info)
{
	uint8_t out[8], want[5] = {0xff, 0x01, 0x00, 0x01, 0x00};
	struct bbuf b = bbuf_make(out, sizeof out);
	CHECK_EQ(hs12_ext_reneg_put(&b), 0);
	CHECK_EQ(b.len, 5);
	CHECK_MEM(out, want, 5);
	const uint8_t ok[] = {0x00}, renego[] = {0x01, 0x00}, trail[] = {0x00, 0x00}, past[] = {0x02, 0x00};
	CHECK_EQ(hs12_ext_reneg_parse(ok, 1), 0);
	CHECK_EQ(hs12_ext_reneg_parse(renego, 2), -EPROTO); /* well formed, not initial: handshake_failure */
	CHECK_EQ(hs12_ext_reneg_parse(ok, 0), -EBADMSG);    /* empty extension_data */
	CHECK_EQ(hs12_ext_reneg_parse(NULL, 0), -EBADMSG);
	CHECK_EQ(hs12_ext_reneg_parse(trail, 2), -EBADMSG);
	CHECK_EQ(hs12_ext_reneg_parse(past, 2), -EBADMSG);
	uint8_t full[25] = {24}; /* a renegotiating server's 24 bytes: never on an initial handshake */
	CHECK_EQ(hs12_ext_reneg_parse(full, sizeof full), -EPROTO);
	b = bbuf_make(out, 4);
	CHECK_EQ(hs12_ext_reneg_put(&b), -ENOSPC);
}

TEST(extended_master_secret)
{
	uint8_t out[8], want[4] = {0x00, 0x17, 0x00, 0x00};
	struct bbuf b = bbuf_make(out, sizeof out);
	CHECK_EQ(hs12_ext_ems_put(&b), 0);
	CHECK_EQ(b.len, 4);
	CHECK_MEM(out, want, 4);
	CHECK_EQ(hs12_ext_ems_parse(out, 0), 0);
	CHECK_EQ(hs12_ext_ems_parse(out, 1), -EBADMSG);
	b = bbuf_make(out, 3);
	CHECK_EQ(hs12_ext_ems_put(&b), -ENOSPC);
}

TEST(ec_point_formats)
{
	uint8_t out[8], want[6] = {0x00, 0x0b, 0x00, 0x02, 0x01, 0x00};
	struct bbuf b = bbuf_make(out, sizeof out);
	CHECK_EQ(hs12_ext_ecpf_put(&b), 0);
	CHECK_EQ(b.len, 6);
	CHECK_MEM(out, want, 6);
	CHECK_EQ(hs12_ext_ecpf_parse(out + 4, 2), 0);
	const uint8_t three[] = {3, 1, 2, 0}, none[] = {2, 1, 2}, empty[] = {0}, cut[] = {2, 0},
		      trail[] = {1, 0, 0};
	CHECK_EQ(hs12_ext_ecpf_parse(three, sizeof three), 0); /* 0 anywhere in the list */
	CHECK_EQ(hs12_ext_ecpf_parse(none, sizeof none), -EPROTO);
	CHECK_EQ(hs12_ext_ecpf_parse(empty, sizeof empty), -EBADMSG); /* <1..2^8-1> */
	CHECK_EQ(hs12_ext_ecpf_parse(empty, 0), -EBADMSG);
	CHECK_EQ(hs12_ext_ecpf_parse(cut, sizeof cut), -EBADMSG);
	CHECK_EQ(hs12_ext_ecpf_parse(trail, sizeof trail), -EBADMSG);
}

/* A ClientHello extension block: server_name, ec_point_formats, EMS, reneg. */
static size_t ext_block(uint8_t *out, size_t cap)
{
	struct bbuf b = bbuf_make(out, cap);
	bbuf_u16(&b, 0); /* server_name, opaque here */
	size_t m = bbuf_vec_open(&b, 2);
	bbuf_put(&b, "xyz", 3);
	bbuf_vec_close(&b, m, 2);
	CHECK_EQ(hs12_ext_ecpf_put(&b), 0);
	CHECK_EQ(hs12_ext_ems_put(&b), 0);
	CHECK_EQ(hs12_ext_reneg_put(&b), 0);
	return b.len;
}

TEST(ext_find_in_a_block)
{
	uint8_t block[64];
	const uint8_t *d;
	size_t dl, n = ext_block(block, sizeof block);
	CHECK_EQ(n, 7 + 6 + 4 + 5);
	CHECK_EQ(hs12_ext_find(block, n, HS12_EXT_RENEGOTIATION_INFO, &d, &dl), 0);
	CHECK_EQ(dl, 1);
	CHECK_EQ(hs12_ext_reneg_parse(d, dl), 0);
	CHECK_EQ(hs12_ext_find(block, n, HS12_EXT_EXTENDED_MASTER, &d, &dl), 0);
	CHECK_EQ(dl, 0);
	CHECK_EQ(hs12_ext_ems_parse(d, dl), 0);
	CHECK_EQ(hs12_ext_find(block, n, HS12_EXT_EC_POINT_FORMATS, &d, &dl), 0);
	CHECK_EQ(hs12_ext_ecpf_parse(d, dl), 0);
	CHECK_EQ(hs12_ext_find(block, n, HS12_EXT_SESSION_TICKET, &d, &dl), -ENOENT);
	CHECK_EQ(hs12_ext_find(block, 0, HS12_EXT_SESSION_TICKET, &d, &dl), -ENOENT);
	/* every cut inside an extension is malformed; cuts between them are shorter blocks */
	const size_t bounds[] = {0, 7, 13, 17, 22};
	for (size_t cut = 0; cut < n; cut++) {
		bool at_bound = false;
		for (size_t i = 0; i < 5; i++)
			at_bound |= cut == bounds[i];
		int err = hs12_ext_find(block, cut, HS12_EXT_RENEGOTIATION_INFO, &d, &dl);
		CHECK_EQ(err, at_bound ? -ENOENT : -EBADMSG);
	}
	block[n] = 0; /* one byte of garbage after the block */
	CHECK_EQ(hs12_ext_find(block, n + 1, HS12_EXT_EXTENDED_MASTER, &d, &dl), -EBADMSG);
	CHECK(d == NULL && dl == 0);
}

TEST(ext_find_duplicate)
{
	uint8_t block[64];
	const uint8_t *d;
	size_t dl;
	struct bbuf b = bbuf_make(block, sizeof block);
	CHECK_EQ(hs12_ext_ems_put(&b), 0);
	CHECK_EQ(hs12_ext_reneg_put(&b), 0);
	CHECK_EQ(hs12_ext_ems_put(&b), 0);
	CHECK_EQ(hs12_ext_find(block, b.len, HS12_EXT_EXTENDED_MASTER, &d, &dl), -EPROTO);
	CHECK_EQ(hs12_ext_find(block, b.len, HS12_EXT_RENEGOTIATION_INFO, &d, &dl), 0);
	CHECK_EQ(hs12_ext_find(block, b.len - 1, HS12_EXT_EXTENDED_MASTER, &d, &dl), -EBADMSG);
}

/* ---- cipher suites ---- */

/* A cipher_suites vector content from a list of codepoints. */
static size_t suites(uint8_t *out, const uint16_t *ids, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[2 * i] = (uint8_t)(ids[i] >> 8), out[2 * i + 1] = (uint8_t)ids[i];
	return 2 * n;
}
#define SUITES(buf, ...)                                                                                     \
	suites(buf, (const uint16_t[]){__VA_ARGS__},                                                         \
	       sizeof((const uint16_t[]){__VA_ARGS__}) / sizeof(uint16_t))

TEST(suite_table)
{
	static const struct {
		uint16_t id;
		const char *name;
		int auth, aead, hash;
	} want[6] = {
	    {0xc02b, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", HS12_AUTH_ECDSA, CRYPTO_AES_128_GCM,
	     CRYPTO_SHA256},
	    {0xc02f, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", HS12_AUTH_RSA, CRYPTO_AES_128_GCM,
	     CRYPTO_SHA256},
	    {0xc02c, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", HS12_AUTH_ECDSA, CRYPTO_AES_256_GCM,
	     CRYPTO_SHA384},
	    {0xc030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", HS12_AUTH_RSA, CRYPTO_AES_256_GCM,
	     CRYPTO_SHA384},
	    {0xcca9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", HS12_AUTH_ECDSA,
	     CRYPTO_CHACHA20_POLY1305, CRYPTO_SHA256},
	    {0xcca8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", HS12_AUTH_RSA, CRYPTO_CHACHA20_POLY1305,
	     CRYPTO_SHA256},
	};
	for (size_t i = 0; i < 6; i++) {
		const struct hs12_suite *s = hs12_suite_find(want[i].id);
		CHECK(s == &hs12_suites[i]);
		CHECK(s && !strcmp(s->name, want[i].name));
		CHECK(s && s->auth == want[i].auth && s->aead == want[i].aead && s->hash == want[i].hash);
	}
	CHECK(hs12_suite_find(0x1301) == NULL);
	CHECK(hs12_suite_find(0xc023) == NULL); /* ECDHE-ECDSA-AES128-SHA256: CBC */
}

TEST(suite_choice_server_preference_and_key_type)
{
	uint8_t l[64];
	const struct hs12_suite *s;
	const char *why;
	size_t n = SUITES(l, 0xcca9, 0xc02c, 0xc02b, 0xcca8, 0xc030, 0xc02f);
	CHECK_EQ(hs12_choose_suite(l, n, HS12_AUTH_ECDSA, NULL, 0, &s, &why), 0);
	CHECK_EQ(s->id, 0xc02b);
	CHECK_EQ(hs12_choose_suite(l, n, HS12_AUTH_RSA, NULL, 0, &s, &why), 0);
	CHECK_EQ(s->id, 0xc02f);
	n = SUITES(l, 0xcca9, 0xc02c, 0xcca8, 0xc030);
	CHECK_EQ(hs12_choose_suite(l, n, HS12_AUTH_ECDSA, NULL, 0, &s, &why), 0);
	CHECK_EQ(s->id, 0xc02c); /* AES-256-GCM before ChaCha20 */
	CHECK_EQ(hs12_choose_suite(l, n, HS12_AUTH_RSA, NULL, 0, &s, &why), 0);
	CHECK_EQ(s->id, 0xc030);
	n = SUITES(l, 0x002f, 0xcca8);
	CHECK_EQ(hs12_choose_suite(l, n, HS12_AUTH_RSA, NULL, 0, &s, &why), 0);
	CHECK_EQ(s->id, 0xcca8);
	/* our configured order decides, not the client's */
	const uint16_t prefs[] = {0x1301, 0xcca9, 0xc02b};
	n = SUITES(l, 0xc02b, 0xcca9);
	CHECK_EQ(hs12_choose_suite(l, n, HS12_AUTH_ECDSA, prefs, 3, &s, &why), 0);
	CHECK_EQ(s->id, 0xcca9);
}

TEST(suite_choice_refusals_say_why)
{
	uint8_t l[64];
	const struct hs12_suite *s;
	const char *why;
	/* ECDHE-ECDSA/RSA with AES-CBC, static RSA with CBC and with GCM */
	size_t n = SUITES(l, 0xc023, 0xc027, 0xc009, 0xc013, 0x002f, 0x0035, 0x003c, 0x009c);
	CHECK_EQ(hs12_choose_suite(l, n, HS12_AUTH_ECDSA, NULL, 0, &s, &why), -ENOENT);
	CHECK(s == NULL);
	CHECK(!strcmp(why, "client offers only CBC or static-RSA suites (no ECDHE with AES-GCM or "
			   "ChaCha20-Poly1305)"));
	n = SUITES(l, 0xc02f, 0xc030, 0x00ff);
	CHECK_EQ(hs12_choose_suite(l, n, HS12_AUTH_ECDSA, NULL, 0, &s, &why), -ENOENT);
	CHECK(!strcmp(why, "client offers ECDHE AEAD suites for RSA only; our certificate is ECDSA"));
	n = SUITES(l, 0xc02b, 0xcca9);
	CHECK_EQ(hs12_choose_suite(l, n, HS12_AUTH_RSA, NULL, 0, &s, &why), -ENOENT);
	CHECK(!strcmp(why, "client offers ECDHE AEAD suites for ECDSA only; our certificate is RSA"));
	n = SUITES(l, 0x1301, 0x1302, 0x1303, 0x5600);
	CHECK_EQ(hs12_choose_suite(l, n, HS12_AUTH_RSA, NULL, 0, &s, &why), -ENOENT);
	CHECK(!strcmp(why, "client offers only TLS 1.3 suites"));
	n = SUITES(l, 0x00ff, 0x5600);
	CHECK_EQ(hs12_choose_suite(l, n, HS12_AUTH_RSA, NULL, 0, &s, &why), -ENOENT);
	CHECK(!strcmp(why, "client offers no cipher suite, only signalling values (SCSV)"));
	const uint16_t only256[] = {0xc02c};
	n = SUITES(l, 0xc02b);
	CHECK_EQ(hs12_choose_suite(l, n, HS12_AUTH_ECDSA, only256, 1, &s, &why), -ENOENT);
	CHECK(!strcmp(why, "client's ECDHE AEAD suites for our certificate are not in our configured list"));
	/* malformed lists and bad arguments */
	CHECK_EQ(hs12_choose_suite(l, 3, HS12_AUTH_ECDSA, NULL, 0, &s, &why), -EBADMSG);
	CHECK_EQ(hs12_choose_suite(l, 0, HS12_AUTH_ECDSA, NULL, 0, &s, &why), -EBADMSG);
	CHECK_EQ(hs12_choose_suite(l, 2, 0, NULL, 0, &s, &why), -EINVAL);
	CHECK_EQ(hs12_choose_suite(l, 2, HS12_AUTH_RSA, NULL, 1, &s, &why), -EINVAL);
}

TEST(scsv_recognised_anywhere)
{
	uint8_t l[64];
	unsigned f;
	const struct hs12_suite *s;
	const char *why;
	size_t n = SUITES(l, 0x00ff, 0xc02b, 0xc02f);
	CHECK_EQ(hs12_scsv_scan(l, n, &f), 0);
	CHECK_EQ(f, HS12_SCSV_F_RENEGOTIATION);
	n = SUITES(l, 0xc02b, 0x5600, 0xc02f);
	CHECK_EQ(hs12_scsv_scan(l, n, &f), 0);
	CHECK_EQ(f, HS12_SCSV_F_FALLBACK);
	n = SUITES(l, 0xc02b, 0xc02f, 0x5600, 0x00ff);
	CHECK_EQ(hs12_scsv_scan(l, n, &f), 0);
	CHECK_EQ(f, HS12_SCSV_F_RENEGOTIATION | HS12_SCSV_F_FALLBACK);
	CHECK_EQ(hs12_choose_suite(l, n, HS12_AUTH_ECDSA, NULL, 0, &s, &why), 0); /* SCSVs never chosen */
	CHECK_EQ(s->id, 0xc02b);
	n = SUITES(l, 0xc02b, 0xff00, 0x0056); /* byte-swapped values are not SCSVs */
	CHECK_EQ(hs12_scsv_scan(l, n, &f), 0);
	CHECK_EQ(f, 0);
	CHECK_EQ(hs12_scsv_scan(l, 5, &f), -EBADMSG);
	CHECK_EQ(hs12_scsv_scan(l, 0, &f), -EBADMSG);
	/* RFC 7507 §3 */
	CHECK(hs12_fallback_inappropriate(HS12_SCSV_F_FALLBACK, 0x0302, 0x0303));
	CHECK(hs12_fallback_inappropriate(HS12_SCSV_F_FALLBACK, 0x0303, 0x0304));
	CHECK(!hs12_fallback_inappropriate(HS12_SCSV_F_FALLBACK, 0x0303, 0x0303));
	CHECK(!hs12_fallback_inappropriate(HS12_SCSV_F_RENEGOTIATION, 0x0302, 0x0303));
}

TEST(auth_of_certificate_keys)
{
	static const struct {
		int type, auth;
	} k[] = {{CRYPTO_KEY_EC_P256, HS12_AUTH_ECDSA},
		 {CRYPTO_KEY_EC_P384, HS12_AUTH_ECDSA},
		 {CRYPTO_KEY_ED25519, HS12_AUTH_ECDSA},
		 {CRYPTO_KEY_RSA2048, HS12_AUTH_RSA}};
	for (size_t i = 0; i < 4; i++) {
		struct crypto_pkey *key = crypto_key_generate(k[i].type);
		CHECK(key != NULL);
		CHECK_EQ(hs12_auth_of_key(C, key), k[i].auth);
		C->pkey_free(key);
	}
}
