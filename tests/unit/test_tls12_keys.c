/* TLS 1.2 key derivation and AEAD record protection (src/tls/tls12_keys.c):
 * the PRF (RFC 5246 §5), master secret (§8.1) and extended master secret
 * (RFC 7627 §4), key block (§6.3), Finished verify_data (§7.4.9) and
 * record sealing/opening (§6.2.3.3, RFC 5288 §3, RFC 7905 §2).
 *
 * Where the expected bytes come from
 *
 * - PRF: the TLS 1.2 PRF test vectors posted to the IETF TLS list
 *   (https://www.ietf.org/mail-archive/web/tls/current/msg03416.html):
 *   P_SHA256, secret 9bbe436b..., seed a0ba9f93..., label "test label",
 *   100 bytes; P_SHA384, secret b80b733d..., seed cd665cf6..., 148 bytes.
 *   Recomputed here with a Python P_hash (hmac, hashlib) and with
 *   `openssl kdf ... TLS1-PRF`; all three agree.
 * - Master secrets, key blocks and verify_data: computed once by a Python
 *   script (hmac, hashlib only) that implements
 *     P_hash(h, secret, seed, n): a = seed; out = b''; while len(out) < n:
 *       a = HMAC(secret, a); out += HMAC(secret, a + seed); return out[:n]
 *     PRF(h, secret, label, seed, n) = P_hash(h, secret, label + seed, n)
 *   with pre_master_secret = 00 01 ... 2f (48 bytes), client_random =
 *   40 41 ... 5f, server_random = 80 81 ... 9f, session_hash = e0 df de ...
 *   (hash length bytes, counting down from e0), transcript hash = a0 a1 ...
 *   (hash length bytes), and:
 *     ms   = PRF(h, pms, "master secret", cr + sr, 48)
 *     ems  = PRF(h, pms, "extended master secret", session_hash, 48)
 *     kb   = PRF(h, ms, "key expansion", sr + cr, 2 * (key_len + iv_len))
 *     vd   = PRF(h, ms, "client finished" | "server finished", th, 12)
 *   The SHA-384 master secret and the SHA-256 extended one were also
 *   checked against `openssl kdf ... TLS1-PRF`.
 * - Records: there is no AES in Python's standard library, so each sealed
 *   record is compared with an independent seal made directly with the
 *   crypto table's aead_seal, under a nonce and additional data built by
 *   hand in this file. */
#include <errno.h>
#include <stdlib.h>

#include "tls/tls12.h"
#include "unit.h"

static const struct crypto_ops *C = &crypto_openssl;

static size_t unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	while (s[0] && s[1] && n < cap) {
		unsigned v;
		if (sscanf(s, "%2x", &v) != 1)
			break;
		out[n++] = (uint8_t)v;
		s += 2;
	}
	return n;
}

static void pattern(uint8_t *p, size_t n, unsigned start, int step)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(start + step * (int)i);
}

/* The fixed inputs of the Python script (see the top of the file). */
static uint8_t pms[48], c_random[32], s_random[32];
static void inputs(void)
{
	pattern(pms, sizeof pms, 0x00, 1);
	pattern(c_random, sizeof c_random, 0x40, 1);
	pattern(s_random, sizeof s_random, 0x80, 1);
}

/* ---- the PRF (RFC 5246 §5) ---- */

TEST(prf_sha256_ietf_vector)
{
	uint8_t secret[16], seed[16], want[100], out[100];
	unhex("9bbe436ba940f017b17652849a71db35", secret, sizeof secret);
	unhex("a0ba9f936cda311827a6f796ffd5198c", seed, sizeof seed);
	CHECK_EQ(unhex("e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a"
		       "6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab"
		       "4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff701"
		       "87347b66",
		       want, sizeof want),
		 100);
	CHECK_EQ(tls12_prf(C, CRYPTO_SHA256, secret, 16, "test label", seed, 16, NULL, 0, out, 100), 0);
	CHECK_MEM(out, want, 100);
}

TEST(prf_sha384_ietf_vector)
{
	uint8_t secret[16], seed[16], want[148], out[148];
	unhex("b80b733d6ceefcdc71566ea48e5567df", secret, sizeof secret);
	unhex("cd665cf6a8447dd6ff8b27555edb7465", seed, sizeof seed);
	CHECK_EQ(unhex("7b0c18e9ced410ed1804f2cfa34a336a1c14dffb4900bb5fd7942107e81c83cd"
		       "e9ca0faa60be9fe34f82b1233c9146a0e534cb400fed2700884f9dc236f80edd"
		       "8bfa961144c9e8d792eca722a7b32fc3d416d473ebc2c5fd4abfdad05d918425"
		       "9b5bf8cd4d90fa0d31e2dec479e4f1a26066f2eea9a69236a3e52655c9e9aee6"
		       "91c8f3a26854308d5eaa3be85e0990703d73e56f",
		       want, sizeof want),
		 148);
	CHECK_EQ(tls12_prf(C, CRYPTO_SHA384, secret, 16, "test label", seed, 16, NULL, 0, out, 148), 0);
	CHECK_MEM(out, want, 148);
}

/* P_hash is a stream: a shorter output is a prefix of a longer one, at
 * and across block boundaries. */
TEST(prf_shorter_output_is_prefix)
{
	static const int hashes[] = {CRYPTO_SHA256, CRYPTO_SHA384};
	static const size_t lens[] = {0, 1, 12, 31, 32, 33, 47, 48, 49, 64, 95, 96, 97, 200, 511};
	uint8_t longer[TLS12_PRF_MAX], out[TLS12_PRF_MAX];
	inputs();
	for (size_t h = 0; h < 2; h++) {
		CHECK_EQ(tls12_prf(C, hashes[h], pms, 48, "prefix", c_random, 32, s_random, 32, longer,
				   TLS12_PRF_MAX),
			 0);
		for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
			memset(out, 0xee, sizeof out);
			CHECK_EQ(tls12_prf(C, hashes[h], pms, 48, "prefix", c_random, 32, s_random, 32, out,
					   lens[i]),
				 0);
			CHECK_MEM(out, longer, lens[i]);
			CHECK_EQ(out[lens[i]], 0xee); /* nothing past olen */
		}
	}
}

/* seed1 + seed2 is one seed, wherever it is split. */
TEST(prf_seed_in_two_pieces)
{
	uint8_t seed[64], whole[80], split[80];
	inputs();
	memcpy(seed, c_random, 32);
	memcpy(seed + 32, s_random, 32);
	CHECK_EQ(tls12_prf(C, CRYPTO_SHA256, pms, 48, "x", seed, 64, NULL, 0, whole, 80), 0);
	for (size_t cut = 0; cut <= 64; cut += 8) {
		CHECK_EQ(
		    tls12_prf(C, CRYPTO_SHA256, pms, 48, "x", seed, cut, seed + cut, 64 - cut, split, 80), 0);
		CHECK_MEM(split, whole, 80);
	}
}

TEST(prf_limits)
{
	uint8_t out[TLS12_PRF_MAX + 1], big[TLS12_PRF_INPUT_MAX + 1] = {0};
	inputs();
	CHECK_EQ(tls12_prf(C, CRYPTO_SHA256, pms, 48, "l", NULL, 0, NULL, 0, out, TLS12_PRF_MAX), 0);
	CHECK_EQ(tls12_prf(C, CRYPTO_SHA256, pms, 48, "l", NULL, 0, NULL, 0, out, TLS12_PRF_MAX + 1),
		 -EINVAL);
	CHECK_EQ(tls12_prf(C, 99, pms, 48, "l", NULL, 0, NULL, 0, out, 16), -EINVAL);
	CHECK_EQ(tls12_prf(C, CRYPTO_SHA256, pms, 48, NULL, NULL, 0, NULL, 0, out, 16), -EINVAL);
	/* label + seed: "l" + 255 bytes fits exactly, one more does not */
	CHECK_EQ(tls12_prf(C, CRYPTO_SHA256, pms, 48, "l", big, 200, big, 55, out, 16), 0);
	CHECK_EQ(tls12_prf(C, CRYPTO_SHA256, pms, 48, "l", big, 200, big, 56, out, 16), -EINVAL);
	CHECK_EQ(tls12_prf(C, CRYPTO_SHA256, pms, 48, "l", big, sizeof big, NULL, 0, out, 16), -EINVAL);
	CHECK_EQ(tls12_prf(C, CRYPTO_SHA384, pms, 48, "l", big, 255, NULL, 0, out, 16), 0);
	CHECK_EQ(tls12_prf(C, CRYPTO_SHA384, pms, 48, "l", big, 256, NULL, 0, out, 16), -EINVAL);
}

/* ---- master secrets (RFC 5246 §8.1, RFC 7627 §4) ---- */

TEST(master_secret)
{
	uint8_t want[48], out[48];
	inputs();
	unhex("a1b3c58fbcafdd223ec0a71efbb1f6be268642b5ce2ae0a70f69273cd5e3af02ec675cd902da4b307993a7a6e3f3c4"
	      "41",
	      want, 48);
	CHECK_EQ(tls12_master_secret(C, CRYPTO_SHA256, pms, 48, c_random, s_random, out), 0);
	CHECK_MEM(out, want, 48);
	unhex("89f5a0912340fc16083ccf6048e820e04431bcd8ea2f6945c8573077c17c8045f538747e67106bd634b1c52c9359bc"
	      "1c",
	      want, 48);
	CHECK_EQ(tls12_master_secret(C, CRYPTO_SHA384, pms, 48, c_random, s_random, out), 0);
	CHECK_MEM(out, want, 48);
	CHECK_EQ(tls12_master_secret(C, 7, pms, 48, c_random, s_random, out), -EINVAL);
}

TEST(extended_master_secret)
{
	uint8_t sh[48], want[48], out[48];
	inputs();
	pattern(sh, sizeof sh, 0xe0, -1);
	unhex("60c51f13ccc802672fded404b223f5cbe62ac2cbb80021830e538568346b82f91eeb545c6a122853ecc8b9c9ce8cae"
	      "a5",
	      want, 48);
	CHECK_EQ(tls12_extended_master_secret(C, CRYPTO_SHA256, pms, 48, sh, out), 0);
	CHECK_MEM(out, want, 48);
	unhex("99591c0e425009ff80f709016dc0c7815d121db0184a2d0b41a87984b187b9b9f3745d1afe474be0bf473dc16d3277"
	      "c8",
	      want, 48);
	CHECK_EQ(tls12_extended_master_secret(C, CRYPTO_SHA384, pms, 48, sh, out), 0);
	CHECK_MEM(out, want, 48);
	CHECK_EQ(tls12_extended_master_secret(C, 7, pms, 48, sh, out), -EINVAL);
}

/* ---- key block (RFC 5246 §6.3) ---- */

static void master_for(int hash, uint8_t ms[48])
{
	inputs();
	CHECK_EQ(tls12_master_secret(C, hash, pms, 48, c_random, s_random, ms), 0);
}

/* client_write_key, server_write_key, client_write_IV, server_write_IV:
 * consecutive slices of PRF(ms, "key expansion", sr + cr), and equal to
 * the Python key block. */
static void check_key_block(int hash, int aead, size_t klen, size_t ivlen, const char *want_hex)
{
	uint8_t ms[48], want[128], prf[128];
	struct tls12_key_block kb;
	size_t n = 2 * (klen + ivlen);
	master_for(hash, ms);
	CHECK_EQ(unhex(want_hex, want, sizeof want), n);
	CHECK_EQ(tls12_prf(C, hash, ms, 48, "key expansion", s_random, 32, c_random, 32, prf, n), 0);
	CHECK_MEM(prf, want, n);
	CHECK_EQ(tls12_key_block(C, hash, aead, ms, c_random, s_random, &kb), 0);
	CHECK_EQ(kb.key_len, klen);
	CHECK_EQ(kb.iv_len, ivlen);
	CHECK_EQ(tls12_fixed_iv_len(aead), ivlen);
	CHECK_MEM(kb.client_key, want, klen);
	CHECK_MEM(kb.server_key, want + klen, klen);
	CHECK_MEM(kb.client_iv, want + 2 * klen, ivlen);
	CHECK_MEM(kb.server_iv, want + 2 * klen + ivlen, ivlen);
	tls12_key_block_clear(&kb);
	CHECK_EQ(kb.key_len, 0);
	CHECK_EQ(kb.client_key[0] | kb.server_iv[0], 0);
}

TEST(key_block_aes_128_gcm)
{
	check_key_block(CRYPTO_SHA256, CRYPTO_AES_128_GCM, 16, 4,
			"1527e9a818caec47429cc8a0bbbfa342775fde4dff6f7c574492a826dd8cb335f1b6fb44a30acb26");
}

TEST(key_block_aes_256_gcm)
{
	check_key_block(
	    CRYPTO_SHA384, CRYPTO_AES_256_GCM, 32, 4,
	    "0f2df380e92cb97d3e9f3b557ea99063aaf08470cf47cf270fc37397e2e16a824d6a978eda452e1a664f9e9"
	    "08fc76065928cf2f4561457b603ffa772afda7b0fa8aef14d2db12e58");
}

TEST(key_block_chacha20_poly1305)
{
	check_key_block(
	    CRYPTO_SHA256, CRYPTO_CHACHA20_POLY1305, 32, 12,
	    "1527e9a818caec47429cc8a0bbbfa342775fde4dff6f7c574492a826dd8cb335f1b6fb44a30acb26c26d16b"
	    "d6c9325ad256addbf8978c59635c6877c58dae7009c75d83d0c3fe158ee0745ffb43ef35a458c511824e79a12");
}

TEST(key_block_unknown_aead)
{
	uint8_t ms[48];
	struct tls12_key_block kb;
	master_for(CRYPTO_SHA256, ms);
	CHECK_EQ(tls12_key_block(C, CRYPTO_SHA256, 0, ms, c_random, s_random, &kb), -EINVAL);
	CHECK_EQ(tls12_key_block(C, CRYPTO_SHA256, 4, ms, c_random, s_random, &kb), -EINVAL);
	CHECK_EQ(tls12_key_block(C, 9, CRYPTO_AES_128_GCM, ms, c_random, s_random, &kb), -EINVAL);
	CHECK_EQ(tls12_fixed_iv_len(0), 0);
	CHECK_EQ(tls12_explicit_nonce_len(CRYPTO_AES_128_GCM), 8);
	CHECK_EQ(tls12_explicit_nonce_len(CRYPTO_AES_256_GCM), 8);
	CHECK_EQ(tls12_explicit_nonce_len(CRYPTO_CHACHA20_POLY1305), 0);
}

/* ---- Finished (RFC 5246 §7.4.9) ---- */

static void check_verify_data(int hash, size_t hlen, const char *client_hex, const char *server_hex)
{
	uint8_t ms[48], th[48], want[12], out[13];
	master_for(hash, ms);
	pattern(th, hlen, 0xa0, 1);
	memset(out, 0xee, sizeof out);
	unhex(client_hex, want, 12);
	CHECK_EQ(tls12_verify_data(C, hash, ms, true, th, out), 0);
	CHECK_MEM(out, want, 12);
	CHECK_EQ(out[12], 0xee);
	unhex(server_hex, want, 12);
	CHECK_EQ(tls12_verify_data(C, hash, ms, false, th, out), 0);
	CHECK_MEM(out, want, 12);
}

TEST(verify_data_sha256)
{
	check_verify_data(CRYPTO_SHA256, 32, "fef4b7614964040e87e44765", "e55f508d36d1a24d369ff345");
}

TEST(verify_data_sha384)
{
	check_verify_data(CRYPTO_SHA384, 48, "578d4b16e1415a38c882e806", "5e82acb97df2fb85157962dc");
	uint8_t ms[48] = {0}, th[48] = {0}, out[12];
	CHECK_EQ(tls12_verify_data(C, 5, ms, true, th, out), -EINVAL);
}

/* ---- records (RFC 5246 §6.2.3.3, RFC 5288 §3, RFC 7905 §2) ---- */

#define V12	0x0303
#define CT_APP	23
#define BIG_SEQ 0x0102030405060708ull

/* One direction of one suite: the client writes, the server reads. */
struct rec {
	int aead;
	size_t xlen; /* explicit nonce on the wire */
	struct tls12_key_block kb;
	struct crypto_aead *wr, *rd;
};

static void rec_init(struct rec *r, int aead)
{
	uint8_t ms[48];
	int hash = aead == CRYPTO_AES_256_GCM ? CRYPTO_SHA384 : CRYPTO_SHA256;
	master_for(hash, ms);
	r->aead = aead;
	r->xlen = aead == CRYPTO_CHACHA20_POLY1305 ? 0 : 8;
	CHECK_EQ(tls12_key_block(C, hash, aead, ms, c_random, s_random, &r->kb), 0);
	r->wr = C->aead_new(aead, r->kb.client_key, true);
	r->rd = C->aead_new(aead, r->kb.client_key, false);
	CHECK(r->wr && r->rd);
}

static void rec_free(struct rec *r)
{
	C->aead_free(r->wr);
	C->aead_free(r->rd);
	tls12_key_block_clear(&r->kb);
}

static const int aeads[] = {CRYPTO_AES_128_GCM, CRYPTO_AES_256_GCM, CRYPTO_CHACHA20_POLY1305};

static int seal(struct rec *r, uint64_t seq, const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
	return tls12_seal(C, r->wr, r->aead, r->kb.client_iv, seq, CT_APP, V12, in, len, out, cap);
}

static int open_(struct rec *r, uint64_t seq, const uint8_t *frag, size_t flen, uint8_t *out, size_t cap)
{
	return tls12_open(C, r->rd, r->aead, r->kb.client_iv, seq, CT_APP, V12, frag, flen, out, cap);
}

TEST(record_round_trip)
{
	static const size_t lens[] = {0, 1, 15, 16, 17, 1000, TLS12_MAX_PLAINTEXT};
	uint8_t *in = malloc(TLS12_MAX_PLAINTEXT), *frag = malloc(TLS12_MAX_PLAINTEXT + 64),
		*out = malloc(TLS12_MAX_PLAINTEXT);
	pattern(in, TLS12_MAX_PLAINTEXT, 7, 13);
	for (size_t a = 0; a < 3; a++) {
		struct rec r;
		rec_init(&r, aeads[a]);
		for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
			uint64_t seq = i == 3 ? BIG_SEQ : i;
			int n = seal(&r, seq, in, lens[i], frag, TLS12_MAX_PLAINTEXT + 64);
			CHECK_EQ(n, r.xlen + lens[i] + 16);
			CHECK_EQ(open_(&r, seq, frag, (size_t)n, out, TLS12_MAX_PLAINTEXT), lens[i]);
			CHECK_MEM(out, in, lens[i]);
		}
		rec_free(&r);
	}
	free(in);
	free(frag);
	free(out);
}

/* in == out + explicit nonce length: seal and open in place. */
TEST(record_in_place)
{
	uint8_t buf[8 + 100 + 16], want[100];
	pattern(want, sizeof want, 3, 5);
	for (size_t a = 0; a < 3; a++) {
		struct rec r;
		rec_init(&r, aeads[a]);
		memcpy(buf + r.xlen, want, 100);
		int n = seal(&r, 9, buf + r.xlen, 100, buf, sizeof buf);
		CHECK_EQ(n, r.xlen + 116);
		CHECK(memcmp(buf + r.xlen, want, 100) != 0);
		CHECK_EQ(open_(&r, 9, buf, (size_t)n, buf + r.xlen, 100), 100);
		CHECK_MEM(buf + r.xlen, want, 100);
		rec_free(&r);
	}
}

/* For GCM the explicit nonce on the wire is the sequence number. */
TEST(record_gcm_explicit_nonce_is_seq)
{
	static const uint8_t be[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	uint8_t frag[64], zero[8] = {0};
	for (size_t a = 0; a < 2; a++) {
		struct rec r;
		rec_init(&r, aeads[a]);
		CHECK_EQ(seal(&r, BIG_SEQ, (const uint8_t *)"hi", 2, frag, sizeof frag), 8 + 2 + 16);
		CHECK_MEM(frag, be, 8);
		CHECK_EQ(seal(&r, 0, (const uint8_t *)"hi", 2, frag, sizeof frag), 8 + 2 + 16);
		CHECK_MEM(frag, zero, 8);
		rec_free(&r);
	}
}

/* The nonce and additional data built by hand, straight from the RFCs. */
static void hand_nonce(const struct rec *r, uint64_t seq, uint8_t nonce[12])
{
	uint8_t s[8];
	for (int i = 0; i < 8; i++)
		s[i] = (uint8_t)(seq >> (56 - 8 * i));
	if (r->aead == CRYPTO_CHACHA20_POLY1305) {
		memcpy(nonce, r->kb.client_iv, 12);
		for (int i = 0; i < 8; i++)
			nonce[4 + i] ^= s[i];
	} else {
		memcpy(nonce, r->kb.client_iv, 4);
		memcpy(nonce + 4, s, 8);
	}
}

static void hand_aad(uint64_t seq, uint8_t type, uint16_t version, uint16_t len, uint8_t aad[13])
{
	for (int i = 0; i < 8; i++)
		aad[i] = (uint8_t)(seq >> (56 - 8 * i));
	aad[8] = type;
	aad[9] = (uint8_t)(version >> 8);
	aad[10] = (uint8_t)version;
	aad[11] = (uint8_t)(len >> 8);
	aad[12] = (uint8_t)len;
}

/* A record sealed directly with aead_seal under the hand-built nonce and
 * AAD: ciphertext + tag, prefixed by the explicit nonce for GCM. */
static size_t hand_seal(const struct rec *r, uint64_t seq, uint8_t type, uint16_t version, uint16_t aad_len,
			const uint8_t *in, size_t len, uint8_t *out)
{
	uint8_t nonce[12], aad[13];
	hand_nonce(r, seq, nonce);
	hand_aad(seq, type, version, aad_len, aad);
	if (r->xlen)
		memcpy(out, nonce + 4, 8);
	CHECK_EQ(C->aead_seal(r->wr, nonce, aad, 13, in, len, out + r->xlen), 0);
	return r->xlen + len + 16;
}

TEST(record_matches_independent_seal)
{
	uint8_t in[300], frag[400], want[400], out[300];
	pattern(in, sizeof in, 0x11, 7);
	for (size_t a = 0; a < 3; a++) {
		struct rec r;
		rec_init(&r, aeads[a]);
		static const uint64_t seqs[] = {0, 1, BIG_SEQ, ~0ull};
		for (size_t i = 0; i < 4; i++) {
			size_t n = hand_seal(&r, seqs[i], CT_APP, V12, 300, in, 300, want);
			CHECK_EQ(seal(&r, seqs[i], in, 300, frag, sizeof frag), n);
			CHECK_MEM(frag, want, n);
			CHECK_EQ(open_(&r, seqs[i], want, n, out, sizeof out), 300);
			CHECK_MEM(out, in, 300);
		}
		rec_free(&r);
	}
}

/* additional_data binds seq_num, type, version and length: opening with
 * any of them different fails, and so does a record whose AAD carried a
 * different length than its plaintext's. */
TEST(record_aad_binds_fields)
{
	uint8_t in[40], frag[80], out[40];
	pattern(in, sizeof in, 1, 1);
	for (size_t a = 0; a < 3; a++) {
		struct rec r;
		rec_init(&r, aeads[a]);
		const uint8_t *iv = r.kb.client_iv;
		int n = seal(&r, 5, in, 40, frag, sizeof frag);
		CHECK_EQ(n, r.xlen + 56);
		CHECK_EQ(tls12_open(C, r.rd, r.aead, iv, 5, CT_APP, V12, frag, (size_t)n, out, 40), 40);
		CHECK_EQ(tls12_open(C, r.rd, r.aead, iv, 6, CT_APP, V12, frag, (size_t)n, out, 40), -EBADMSG);
		CHECK_EQ(tls12_open(C, r.rd, r.aead, iv, 5, 22, V12, frag, (size_t)n, out, 40), -EBADMSG);
		CHECK_EQ(tls12_open(C, r.rd, r.aead, iv, 5, CT_APP, 0x0302, frag, (size_t)n, out, 40),
			 -EBADMSG);
		static const uint8_t zero[40];
		CHECK_MEM(out, zero, 40); /* nothing unauthenticated is left in out */
		/* sealed with length 41 (or 39) in the AAD: our open uses 40 */
		size_t m = hand_seal(&r, 5, CT_APP, V12, 41, in, 40, frag);
		CHECK_EQ(open_(&r, 5, frag, m, out, 40), -EBADMSG);
		m = hand_seal(&r, 5, CT_APP, V12, 39, in, 40, frag);
		CHECK_EQ(open_(&r, 5, frag, m, out, 40), -EBADMSG);
		m = hand_seal(&r, 5, CT_APP, V12, 40, in, 40, frag);
		CHECK_EQ(open_(&r, 5, frag, m, out, 40), 40);
		rec_free(&r);
	}
}

TEST(record_tampering)
{
	uint8_t in[32], frag[64], out[32];
	pattern(in, sizeof in, 9, 3);
	for (size_t a = 0; a < 3; a++) {
		struct rec r;
		rec_init(&r, aeads[a]);
		int n = seal(&r, 3, in, 32, frag, sizeof frag);
		CHECK_EQ(n, r.xlen + 48);
		/* truncated: by one byte (tag fails), below explicit + tag, empty */
		CHECK_EQ(open_(&r, 3, frag, (size_t)n - 1, out, 32), -EBADMSG);
		CHECK_EQ(open_(&r, 3, frag, r.xlen + 15, out, 32), -EBADMSG);
		CHECK_EQ(open_(&r, 3, frag, r.xlen ? 7 : 0, out, 32), -EBADMSG);
		CHECK_EQ(open_(&r, 3, frag, 0, out, 32), -EBADMSG);
		/* exactly explicit + tag: an empty plaintext whose tag is wrong */
		CHECK_EQ(open_(&r, 3, frag, r.xlen + 16, out, 32), -EBADMSG);
		for (size_t i = 0; i < (size_t)n; i += (size_t)n - 1) { /* first and last (tag) byte */
			frag[i] ^= 0x80;
			CHECK_EQ(open_(&r, 3, frag, (size_t)n, out, 32), -EBADMSG);
			frag[i] ^= 0x80;
		}
		if (r.xlen) { /* the explicit nonce is read from the wire */
			frag[7] ^= 1;
			CHECK_EQ(open_(&r, 3, frag, (size_t)n, out, 32), -EBADMSG);
			frag[7] ^= 1;
		}
		CHECK_EQ(open_(&r, 3, frag, (size_t)n, out, 32), 32);
		CHECK_MEM(out, in, 32);
		rec_free(&r);
	}
}

/* Output capacities: one byte short is -ENOSPC and nothing is written past
 * the capacity. */
TEST(record_no_space)
{
	uint8_t in[50], frag[8 + 50 + 16 + 8], out[50 + 8];
	pattern(in, sizeof in, 4, 4);
	for (size_t a = 0; a < 3; a++) {
		struct rec r;
		rec_init(&r, aeads[a]);
		size_t need = r.xlen + 66;
		memset(frag, 0xcc, sizeof frag);
		CHECK_EQ(seal(&r, 1, in, 50, frag, need - 1), -ENOSPC);
		CHECK_EQ(frag[need - 1], 0xcc);
		CHECK_EQ(seal(&r, 1, in, 50, frag, 0), -ENOSPC);
		CHECK_EQ(seal(&r, 1, in, 50, frag, need), (int)need);
		CHECK_EQ(frag[need], 0xcc);
		memset(out, 0xcc, sizeof out);
		CHECK_EQ(open_(&r, 1, frag, need, out, 49), -ENOSPC);
		CHECK_EQ(out[0], 0xcc);
		CHECK_EQ(open_(&r, 1, frag, need, out, 50), 50);
		CHECK_EQ(out[50], 0xcc);
		CHECK_MEM(out, in, 50);
		rec_free(&r);
	}
}

/* Plaintext over 2^14 is refused when sealing (-EINVAL) and a fragment
 * over 2^14 + 2048 or whose plaintext is over 2^14 when opening (-EMSGSIZE,
 * record_overflow); an unknown AEAD is -EINVAL. */
TEST(record_limits)
{
	size_t big = TLS12_MAX_CIPHERTEXT + 1;
	uint8_t *in = calloc(1, big), *frag = calloc(1, big + 64), *out = calloc(1, big);
	for (size_t a = 0; a < 3; a++) {
		struct rec r;
		rec_init(&r, aeads[a]);
		CHECK_EQ(seal(&r, 0, in, TLS12_MAX_PLAINTEXT + 1, frag, big + 64), -EINVAL);
		CHECK_EQ(open_(&r, 0, frag, big, out, big), -EMSGSIZE);
		CHECK_EQ(open_(&r, 0, frag, r.xlen + TLS12_MAX_PLAINTEXT + 17, out, big), -EMSGSIZE);
		CHECK_EQ(tls12_seal(C, r.wr, 0, r.kb.client_iv, 0, CT_APP, V12, in, 1, frag, 64), -EINVAL);
		CHECK_EQ(tls12_open(C, r.rd, 0, r.kb.client_iv, 0, CT_APP, V12, frag, 40, out, 64), -EINVAL);
		rec_free(&r);
	}
	free(in);
	free(frag);
	free(out);
}
