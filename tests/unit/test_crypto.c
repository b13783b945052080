/* The crypto table (src/crypto/) against published vectors, and the
 * behaviour the TLS engine relies on: errors, peeking hashes, in-place
 * AEAD, scalar and point checks, every signature scheme, and
 * certificate-chain outcomes on certificates made at test time.
 *
 * Vectors: FIPS 180-2 appendix B ("abc"); RFC 5869 appendix A.1-A.3;
 * the GCM specification (McGrew & Viega) test case 4, AES-128 with AAD;
 * RFC 8439 §2.8.2; RFC 7748 §5.2 and §6.1; RFC 8032 §7.1 TEST 1 (its
 * secret key wrapped in a PKCS#8 PEM); SEC 2 §2.4.2/§2.5.1 (the P-256
 * generator and order, the P-384 order). */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "crypto/crypto.h"
#include "unit.h"

static const struct crypto_ops *C = &crypto_openssl;

static size_t unhex(const char *s, uint8_t *out)
{
	size_t n = 0;

	for (; s[0] && s[1]; s += 2) {
		unsigned v;

		sscanf(s, "%2x", &v);
		out[n++] = (uint8_t)v;
	}
	return n;
}

/* ---- hashes, HMAC, HKDF ---- */

TEST(sha_abc_vectors)
{
	uint8_t out[48], exp[48];

	CHECK_EQ(C->hash_len(CRYPTO_SHA256), 32);
	CHECK_EQ(C->hash_len(CRYPTO_SHA384), 48);
	CHECK_EQ(C->hash_len(99), 0);
	CHECK_EQ(C->hash(CRYPTO_SHA256, "abc", 3, out), 0);
	unhex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", exp);
	CHECK_MEM(out, exp, 32);
	CHECK_EQ(C->hash(CRYPTO_SHA384, "abc", 3, out), 0);
	unhex("cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed"
	      "8086072ba1e7cc2358baeca134c825a7",
	      exp);
	CHECK_MEM(out, exp, 48);
	CHECK_EQ(C->hash(99, "abc", 3, out), -EINVAL);
	CHECK(C->hash_new(99) == NULL);
}

TEST(hash_peek_keeps_hash_usable)
{
	uint8_t p1[32], p2[32], one_ab[32], one_abc[32], d[32];
	struct crypto_hash *h = C->hash_new(CRYPTO_SHA256), *dup;

	CHECK(h != NULL);
	CHECK_EQ(C->hash_update(h, "ab", 2), 0);
	CHECK_EQ(C->hash_peek(h, p1), 0);
	dup = C->hash_dup(h);
	CHECK(dup != NULL);
	CHECK_EQ(C->hash_update(h, "c", 1), 0);
	CHECK_EQ(C->hash_peek(h, p2), 0);
	CHECK_EQ(C->hash(CRYPTO_SHA256, "ab", 2, one_ab), 0);
	CHECK_EQ(C->hash(CRYPTO_SHA256, "abc", 3, one_abc), 0);
	CHECK_MEM(p1, one_ab, 32);
	CHECK_MEM(p2, one_abc, 32);
	CHECK(memcmp(p1, p2, 32) != 0);
	/* the duplicate is independent of the original */
	CHECK_EQ(C->hash_peek(dup, d), 0);
	CHECK_MEM(d, one_ab, 32);
	CHECK_EQ(C->hash_update(h, NULL, 1), -EINVAL);
	C->hash_free(dup);
	C->hash_free(h);
	C->hash_free(NULL);
}

struct hkdf_case {
	const char *ikm, *salt, *info, *prk, *okm;
};

/* RFC 5869 appendix A.1, A.2, A.3 (SHA-256). */
static const struct hkdf_case hkdf_cases[] = {
    {"0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "000102030405060708090a0b0c", "f0f1f2f3f4f5f6f7f8f9",
     "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5",
     "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"},
    {"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
     "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
     "404142434445464748494a4b4c4d4e4f",
     "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
     "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
     "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf",
     "b0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecf"
     "d0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeef"
     "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff",
     "06a6b88c5853361a06104c9ceb35b45cef760014904671014a193f40c15fc244",
     "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
     "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
     "cc30c58179ec3e87c14c01d5c1f3434f1d87"},
    {"0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "", "",
     "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04",
     "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"},
};

TEST(hkdf_rfc5869_cases_1_to_3)
{
	for (size_t i = 0; i < 3; i++) {
		const struct hkdf_case *t = &hkdf_cases[i];
		uint8_t ikm[80], salt[80], info[80], prk[32], okm[82], eprk[32], eokm[82], mac[32];
		size_t il = unhex(t->ikm, ikm), sl = unhex(t->salt, salt), nl = unhex(t->info, info);
		size_t ol = unhex(t->okm, eokm);

		unhex(t->prk, eprk);
		CHECK_EQ(C->hkdf_extract(CRYPTO_SHA256, sl ? salt : NULL, sl, ikm, il, prk), 0);
		CHECK_MEM(prk, eprk, 32);
		CHECK_EQ(C->hkdf_expand(CRYPTO_SHA256, prk, 32, nl ? info : NULL, nl, okm, ol), 0);
		CHECK_MEM(okm, eokm, ol);
		/* HKDF-Extract is HMAC(salt, IKM) (RFC 5869 §2.2) */
		CHECK_EQ(C->hmac(CRYPTO_SHA256, salt, sl, ikm, il, mac), 0);
		CHECK_MEM(mac, eprk, 32);
	}
}

TEST(hkdf_sha384_and_limits)
{
	uint8_t prk[48], a[48], b[48], out[64];

	/* a missing salt equals HashLen zeros (RFC 5869 §2.2) */
	memset(b, 0, sizeof(b));
	CHECK_EQ(C->hkdf_extract(CRYPTO_SHA384, NULL, 0, (const uint8_t *)"ikm", 3, a), 0);
	CHECK_EQ(C->hkdf_extract(CRYPTO_SHA384, b, 48, (const uint8_t *)"ikm", 3, prk), 0);
	CHECK_MEM(a, prk, 48);
	/* an empty IKM (TLS 1.3's early secret without PSK uses zeros, but
	 * empty must work too) */
	CHECK_EQ(C->hkdf_extract(CRYPTO_SHA256, NULL, 0, NULL, 0, a), 0);
	CHECK_EQ(C->hmac(CRYPTO_SHA256, NULL, 0, NULL, 0, b), 0);
	CHECK_MEM(a, b, 32);
	CHECK_EQ(C->hkdf_expand(CRYPTO_SHA384, prk, 48, NULL, 0, out, 64), 0);
	CHECK_EQ(C->hkdf_expand(CRYPTO_SHA256, prk, 32, NULL, 0, out, 255 * 32 + 1), -EINVAL);
	CHECK_EQ(C->hkdf_expand(7, prk, 32, NULL, 0, out, 16), -EINVAL);
	CHECK_EQ(C->hkdf_extract(CRYPTO_SHA256, NULL, 5, prk, 1, a), -EINVAL);
}

/* ---- AEAD ---- */

struct aead_case {
	int alg;
	const char *key, *nonce, *aad, *pt, *ct_tag;
};

static const struct aead_case aead_cases[] = {
    /* GCM specification, test case 4 */
    {CRYPTO_AES_128_GCM, "feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888",
     "feedfacedeadbeeffeedfacedeadbeefabaddad2",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
     "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
     "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
     "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091"
     "5bc94fbc3221a5db94fae95ae7121a47"},
    /* RFC 8439 §2.8.2; the plaintext is "Ladies and Gentlemen of the
     * class of '99: If I could offer you only one tip for the future,
     * sunscreen would be it." */
    {CRYPTO_CHACHA20_POLY1305, "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f",
     "070000004041424344454647", "50515253c0c1c2c3c4c5c6c7",
     "4c616469657320616e642047656e746c656d656e206f662074686520636c6173"
     "73206f66202739393a204966204920636f756c64206f6666657220796f75206f"
     "6e6c79206f6e652074697020666f7220746865206675747572652c2073756e73"
     "637265656e20776f756c642062652069742e",
     "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
     "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
     "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
     "3ff4def08e4b7a9de576d26586cec64b6116"
     "1ae10b594f09e26a7e902ecbd0600691"},
};

static void check_aead_case(const struct aead_case *t)
{
	uint8_t key[32], nonce[12], aad[32], pt[128], exp[160], buf[160], out[160];
	size_t al = unhex(t->aad, aad), pl = unhex(t->pt, pt), el = unhex(t->ct_tag, exp);
	struct crypto_aead *s, *o;

	unhex(t->key, key);
	unhex(t->nonce, nonce);
	CHECK_EQ(el, pl + CRYPTO_AEAD_TAG);
	s = C->aead_new(t->alg, key, true);
	o = C->aead_new(t->alg, key, false);
	CHECK(s && o);
	CHECK_EQ(C->aead_seal(s, nonce, aad, al, pt, pl, out), 0);
	CHECK_MEM(out, exp, el);
	/* in place, and the same key again (only the nonce is set per call) */
	memcpy(buf, pt, pl);
	CHECK_EQ(C->aead_seal(s, nonce, aad, al, buf, pl, buf), 0);
	CHECK_MEM(buf, exp, el);
	CHECK_EQ(C->aead_open(o, nonce, aad, al, buf, el, buf), 0);
	CHECK_MEM(buf, pt, pl);
	/* a tampered tag, ciphertext or AAD fails; the key stays usable */
	memcpy(buf, exp, el);
	buf[el - 1] ^= 1;
	CHECK_EQ(C->aead_open(o, nonce, aad, al, buf, el, out), -EBADMSG);
	buf[el - 1] ^= 1;
	buf[0] ^= 0x80;
	CHECK_EQ(C->aead_open(o, nonce, aad, al, buf, el, out), -EBADMSG);
	buf[0] ^= 0x80;
	CHECK_EQ(C->aead_open(o, nonce, aad, al - 1, buf, el, out), -EBADMSG);
	CHECK_EQ(C->aead_open(o, nonce, aad, al, buf, el, out), 0);
	CHECK_MEM(out, pt, pl);
	CHECK_EQ(C->aead_open(o, nonce, aad, al, buf, CRYPTO_AEAD_TAG - 1, out), -EBADMSG);
	/* a sealing key does not open, and the reverse */
	CHECK_EQ(C->aead_open(s, nonce, aad, al, buf, el, out), -EINVAL);
	CHECK_EQ(C->aead_seal(o, nonce, aad, al, pt, pl, out), -EINVAL);
	C->aead_free(s);
	C->aead_free(o);
}

TEST(aead_published_vectors)
{
	for (size_t i = 0; i < sizeof(aead_cases) / sizeof(aead_cases[0]); i++)
		check_aead_case(&aead_cases[i]);
}

TEST(aead_aes256_nonces_and_empty)
{
	uint8_t key[32] = {1, 2, 3}, n1[12] = {0}, n2[12] = {1}, a[64], b[64], c[64];
	struct crypto_aead *s = C->aead_new(CRYPTO_AES_256_GCM, key, true);
	struct crypto_aead *s2 = C->aead_new(CRYPTO_AES_256_GCM, key, true);
	struct crypto_aead *o = C->aead_new(CRYPTO_AES_256_GCM, key, false);

	CHECK(s && s2 && o);
	CHECK_EQ(C->aead_key_len(CRYPTO_AES_128_GCM), 16);
	CHECK_EQ(C->aead_key_len(CRYPTO_AES_256_GCM), 32);
	CHECK_EQ(C->aead_key_len(CRYPTO_CHACHA20_POLY1305), 32);
	CHECK_EQ(C->aead_key_len(0), 0);
	CHECK(C->aead_new(0, key, true) == NULL);
	CHECK_EQ(C->aead_seal(s, n1, NULL, 0, (const uint8_t *)"hello", 5, a), 0);
	CHECK_EQ(C->aead_seal(s, n2, NULL, 0, (const uint8_t *)"hello", 5, b), 0);
	CHECK(memcmp(a, b, 21) != 0);
	/* the second nonce on a reused context equals a fresh context */
	CHECK_EQ(C->aead_seal(s2, n2, NULL, 0, (const uint8_t *)"hello", 5, c), 0);
	CHECK_MEM(b, c, 21);
	/* empty plaintext: just a tag, which authenticates the AAD */
	CHECK_EQ(C->aead_seal(s, n1, (const uint8_t *)"hdr", 3, NULL, 0, a), 0);
	CHECK_EQ(C->aead_open(o, n1, (const uint8_t *)"hdr", 3, a, 16, b), 0);
	CHECK_EQ(C->aead_open(o, n1, (const uint8_t *)"hdx", 3, a, 16, b), -EBADMSG);
	C->aead_free(s);
	C->aead_free(s2);
	C->aead_free(o);
	C->aead_free(NULL);
}

/* ---- key exchange ---- */

static void x25519_vector(const char *scalar, const char *u, const char *expect)
{
	uint8_t k[32], peer[32], exp[32], out[32];
	struct crypto_kex *x = NULL;
	size_t n = 0;

	unhex(scalar, k);
	unhex(u, peer);
	unhex(expect, exp);
	CHECK_EQ(C->kex_new(CRYPTO_X25519, k, 32, &x), 0);
	CHECK_EQ(C->kex_derive(x, peer, 32, out, sizeof(out), &n), 0);
	CHECK_EQ(n, 32);
	CHECK_MEM(out, exp, 32);
	C->kex_free(x);
}

TEST(x25519_rfc7748_5_2)
{
	x25519_vector("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
		      "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
		      "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552");
	x25519_vector("4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
		      "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
		      "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957");
}

TEST(x25519_rfc7748_6_1)
{
	uint8_t a[32], b[32], apub[32], bpub[32], k[32], pub[40], s1[32], s2[32];
	struct crypto_kex *ka = NULL, *kb = NULL;
	size_t n;

	unhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a", a);
	unhex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a", apub);
	unhex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb", b);
	unhex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f", bpub);
	unhex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742", k);
	CHECK_EQ(C->kex_priv_len(CRYPTO_X25519), 32);
	CHECK_EQ(C->kex_new(CRYPTO_X25519, a, 32, &ka), 0);
	CHECK_EQ(C->kex_new(CRYPTO_X25519, b, 32, &kb), 0);
	CHECK_EQ(C->kex_public(ka, pub, sizeof(pub), &n), 0);
	CHECK_EQ(n, 32);
	CHECK_MEM(pub, apub, 32);
	CHECK_EQ(C->kex_public(kb, pub, 31, &n), -ENOSPC);
	CHECK_EQ(C->kex_public(kb, pub, sizeof(pub), &n), 0);
	CHECK_MEM(pub, bpub, 32);
	CHECK_EQ(C->kex_derive(ka, bpub, 32, s1, sizeof(s1), &n), 0);
	CHECK_EQ(C->kex_derive(kb, apub, 32, s2, sizeof(s2), &n), 0);
	CHECK_MEM(s1, k, 32);
	CHECK_MEM(s2, k, 32);
	C->kex_free(ka);
	C->kex_free(kb);
	CHECK_EQ(C->kex_new(CRYPTO_X25519, a, 31, &ka), -EINVAL);
	CHECK(ka == NULL);
}

TEST(x25519_rejects_zero_result_and_bad_length)
{
	uint8_t priv[32] = {7}, zero[32] = {0}, out[32];
	struct crypto_kex *k = NULL;
	size_t n;

	CHECK_EQ(C->kex_new(CRYPTO_X25519, priv, 32, &k), 0);
	/* u = 0 is a small-order point: the output is all zero */
	CHECK_EQ(C->kex_derive(k, zero, 32, out, sizeof(out), &n), -EBADMSG);
	CHECK_EQ(C->kex_derive(k, zero, 31, out, sizeof(out), &n), -EBADMSG);
	CHECK_EQ(C->kex_derive(k, zero, 32, out, 16, &n), -ENOSPC);
	C->kex_free(k);
}

/* SEC 2 §2.4.2: the P-256 order n and generator G (uncompressed). */
static const char p256_order[] = "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551";
static const char p256_g[] = "04"
			     "6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296"
			     "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5";
/* SEC 2 §2.5.1: the P-384 order. */
static const char p384_order[] = "ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf"
				 "581a0db248b0a77aecec196accc52973";

TEST(p256_scalar_range_and_generator)
{
	uint8_t d[32], g[65], pub[CRYPTO_KEX_PUB_MAX];
	struct crypto_kex *k = NULL;
	size_t n;

	memset(d, 0, 32);
	CHECK_EQ(C->kex_new(CRYPTO_SECP256R1, d, 32, &k), -EINVAL);
	CHECK(k == NULL);
	unhex(p256_order, d);
	CHECK_EQ(C->kex_new(CRYPTO_SECP256R1, d, 32, &k), -EINVAL);
	memset(d, 0xff, 32);
	CHECK_EQ(C->kex_new(CRYPTO_SECP256R1, d, 32, &k), -EINVAL);
	unhex(p256_order, d);
	d[31] -= 1; /* n - 1 is the largest valid scalar */
	CHECK_EQ(C->kex_new(CRYPTO_SECP256R1, d, 32, &k), 0);
	C->kex_free(k);
	/* 1 * G = G */
	memset(d, 0, 32);
	d[31] = 1;
	CHECK_EQ(C->kex_new(CRYPTO_SECP256R1, d, 32, &k), 0);
	CHECK_EQ(C->kex_public(k, pub, sizeof(pub), &n), 0);
	CHECK_EQ(n, 65);
	unhex(p256_g, g);
	CHECK_MEM(pub, g, 65);
	C->kex_free(k);
}

TEST(p384_scalar_range)
{
	uint8_t d[48];
	struct crypto_kex *k = NULL;

	CHECK_EQ(C->kex_priv_len(CRYPTO_SECP384R1), 48);
	CHECK_EQ(C->kex_priv_len(0x0019), 0);
	unhex(p384_order, d);
	CHECK_EQ(C->kex_new(CRYPTO_SECP384R1, d, 48, &k), -EINVAL);
	d[47] -= 1;
	CHECK_EQ(C->kex_new(CRYPTO_SECP384R1, d, 48, &k), 0);
	C->kex_free(k);
	CHECK_EQ(C->kex_new(CRYPTO_SECP384R1, d, 32, &k), -EINVAL);
}

static void nist_agreement(int group, size_t plen, size_t slen)
{
	uint8_t a[48], b[48], pa[CRYPTO_KEX_PUB_MAX], pb[CRYPTO_KEX_PUB_MAX], s1[48], s2[48];
	size_t la, lb, n1, n2, dl = C->kex_priv_len(group);
	struct crypto_kex *ka = NULL, *kb = NULL;

	memset(a, 0x11, sizeof(a));
	memset(b, 0x22, sizeof(b));
	CHECK_EQ(C->kex_new(group, a, dl, &ka), 0);
	CHECK_EQ(C->kex_new(group, b, dl, &kb), 0);
	CHECK_EQ(C->kex_public(ka, pa, sizeof(pa), &la), 0);
	CHECK_EQ(C->kex_public(kb, pb, sizeof(pb), &lb), 0);
	CHECK_EQ(la, plen);
	CHECK_EQ(pa[0], 0x04);
	CHECK_EQ(C->kex_derive(ka, pb, lb, s1, sizeof(s1), &n1), 0);
	CHECK_EQ(C->kex_derive(kb, pa, la, s2, sizeof(s2), &n2), 0);
	CHECK_EQ(n1, slen);
	CHECK_EQ(n2, slen);
	CHECK_MEM(s1, s2, slen);
	/* off the curve: change Y */
	pb[lb - 1] ^= 1;
	CHECK_EQ(C->kex_derive(ka, pb, lb, s1, sizeof(s1), &n1), -EBADMSG);
	pb[lb - 1] ^= 1;
	/* compressed or truncated forms are not accepted */
	pb[0] = 0x02;
	CHECK_EQ(C->kex_derive(ka, pb, 1 + (lb - 1) / 2, s1, sizeof(s1), &n1), -EBADMSG);
	CHECK_EQ(C->kex_derive(ka, pb, lb, s1, sizeof(s1), &n1), -EBADMSG);
	pb[0] = 0x04;
	CHECK_EQ(C->kex_derive(ka, pb, lb - 1, s1, sizeof(s1), &n1), -EBADMSG);
	CHECK_EQ(C->kex_derive(ka, pb, lb, s1, slen - 1, &n1), -ENOSPC);
	C->kex_free(ka);
	C->kex_free(kb);
}

TEST(nist_agreement_and_bad_points)
{
	nist_agreement(CRYPTO_SECP256R1, 65, 32);
	nist_agreement(CRYPTO_SECP384R1, 97, 48);
}

TEST(p256_rejects_off_curve_generator)
{
	uint8_t d[32] = {0}, g[65], s[32];
	struct crypto_kex *k = NULL;
	size_t n;

	d[31] = 5;
	unhex(p256_g, g);
	CHECK_EQ(C->kex_new(CRYPTO_SECP256R1, d, 32, &k), 0);
	CHECK_EQ(C->kex_derive(k, g, 65, s, sizeof(s), &n), 0);
	g[40] ^= 0x10; /* (Gx, Gy') is not on the curve */
	CHECK_EQ(C->kex_derive(k, g, 65, s, sizeof(s), &n), -EBADMSG);
	memset(g + 1, 0, 64); /* nor is (0, 0) */
	CHECK_EQ(C->kex_derive(k, g, 65, s, sizeof(s), &n), -EBADMSG);
	C->kex_free(k);
}

/* ---- signatures ---- */

static struct crypto_pkey *keys[5]; /* by enum crypto_key_type */

static struct crypto_pkey *key_of(int type)
{
	if (!keys[type])
		keys[type] = crypto_key_generate(type);
	return keys[type];
}

static int key_for_scheme(int scheme)
{
	switch (scheme) {
	case CRYPTO_ECDSA_SECP256R1_SHA256:
		return CRYPTO_KEY_EC_P256;
	case CRYPTO_ECDSA_SECP384R1_SHA384:
		return CRYPTO_KEY_EC_P384;
	case CRYPTO_ED25519:
		return CRYPTO_KEY_ED25519;
	default:
		return CRYPTO_KEY_RSA2048;
	}
}

static const int all_schemes[] = {
    CRYPTO_RSA_PKCS1_SHA256,	   CRYPTO_RSA_PKCS1_SHA384,	  CRYPTO_RSA_PKCS1_SHA512,
    CRYPTO_ECDSA_SECP256R1_SHA256, CRYPTO_ECDSA_SECP384R1_SHA384, CRYPTO_RSA_PSS_RSAE_SHA256,
    CRYPTO_RSA_PSS_RSAE_SHA384,	   CRYPTO_RSA_PSS_RSAE_SHA512,	  CRYPTO_ED25519};

/* The public half of k, through a self-signed certificate. */
static struct crypto_pkey *public_of(const struct crypto_pkey *k)
{
	uint8_t *der = NULL;
	size_t len = 0;
	struct crypto_pkey *pub = NULL;

	if (crypto_cert_make(k, "self", NULL, true, NULL, NULL, 0, 1700000000, 1, &der, &len) == 0)
		pub = C->cert_pubkey(der, len);
	free(der);
	return pub;
}

static void sign_round_trip(int scheme)
{
	static const uint8_t msg[] = "TLS 1.3, server CertificateVerify";
	struct crypto_pkey *k = key_of(key_for_scheme(scheme)), *pub = public_of(k);
	uint8_t sig[CRYPTO_SIG_MAX], m2[sizeof(msg)];
	size_t n = 0;

	CHECK(k && pub);
	CHECK(C->pkey_can(k, scheme));
	CHECK(C->pkey_can(pub, scheme));
	CHECK_EQ(C->sign(k, scheme, msg, sizeof(msg), sig, sizeof(sig), &n), 0);
	CHECK(n > 0);
	CHECK_EQ(C->verify(pub, scheme, msg, sizeof(msg), sig, n), 0);
	CHECK_EQ(C->verify(k, scheme, msg, sizeof(msg), sig, n), 0);
	sig[n / 2] ^= 0x04;
	CHECK_EQ(C->verify(pub, scheme, msg, sizeof(msg), sig, n), -EBADMSG);
	sig[n / 2] ^= 0x04;
	memcpy(m2, msg, sizeof(msg));
	m2[0] ^= 1;
	CHECK_EQ(C->verify(pub, scheme, m2, sizeof(m2), sig, n), -EBADMSG);
	CHECK_EQ(C->verify(pub, scheme, msg, sizeof(msg), sig, n - 1), -EBADMSG);
	CHECK_EQ(C->sign(k, scheme, msg, sizeof(msg), sig, 16, &n), -ENOSPC);
	/* a public key cannot sign */
	CHECK(C->sign(pub, scheme, msg, sizeof(msg), sig, sizeof(sig), &n) < 0);
	C->pkey_free(pub);
}

TEST(sign_verify_every_scheme)
{
	for (size_t i = 0; i < sizeof(all_schemes) / sizeof(all_schemes[0]); i++)
		sign_round_trip(all_schemes[i]);
}

TEST(signature_formats)
{
	static const uint8_t msg[] = "m";
	uint8_t s1[CRYPTO_SIG_MAX], s2[CRYPTO_SIG_MAX];
	size_t n1, n2;

	/* PKCS#1 v1.5 is deterministic, PSS is salted (salt = hash length) */
	CHECK_EQ(C->sign(key_of(CRYPTO_KEY_RSA2048), CRYPTO_RSA_PKCS1_SHA256, msg, 1, s1, sizeof(s1), &n1),
		 0);
	CHECK_EQ(C->sign(key_of(CRYPTO_KEY_RSA2048), CRYPTO_RSA_PKCS1_SHA256, msg, 1, s2, sizeof(s2), &n2),
		 0);
	CHECK_EQ(n1, 256);
	CHECK(n1 == n2 && memcmp(s1, s2, n1) == 0);
	CHECK_EQ(C->sign(key_of(CRYPTO_KEY_RSA2048), CRYPTO_RSA_PSS_RSAE_SHA256, msg, 1, s1, sizeof(s1), &n1),
		 0);
	CHECK_EQ(C->sign(key_of(CRYPTO_KEY_RSA2048), CRYPTO_RSA_PSS_RSAE_SHA256, msg, 1, s2, sizeof(s2), &n2),
		 0);
	CHECK(n1 == 256 && memcmp(s1, s2, n1) != 0);
	/* a PSS signature is not a PKCS#1 one, nor one with another hash */
	CHECK_EQ(C->verify(key_of(CRYPTO_KEY_RSA2048), CRYPTO_RSA_PKCS1_SHA256, msg, 1, s1, n1), -EBADMSG);
	CHECK_EQ(C->verify(key_of(CRYPTO_KEY_RSA2048), CRYPTO_RSA_PSS_RSAE_SHA384, msg, 1, s1, n1), -EBADMSG);
	/* ECDSA: a DER SEQUENCE of two INTEGERs */
	CHECK_EQ(
	    C->sign(key_of(CRYPTO_KEY_EC_P256), CRYPTO_ECDSA_SECP256R1_SHA256, msg, 1, s1, sizeof(s1), &n1),
	    0);
	CHECK(n1 >= 8 && n1 <= 72);
	CHECK_EQ(s1[0], 0x30);
	CHECK_EQ(s1[1], n1 - 2);
	CHECK_EQ(s1[2], 0x02);
	/* Ed25519: 64 bytes */
	CHECK_EQ(C->sign(key_of(CRYPTO_KEY_ED25519), CRYPTO_ED25519, NULL, 0, s1, sizeof(s1), &n1), 0);
	CHECK_EQ(n1, 64);
}

/* RFC 8032 §7.1 TEST 1: the secret key 9d61b19d...1cae7f60 as PKCS#8. */
static const char ed25519_test1_pem[] = "-----BEGIN PRIVATE KEY-----\n"
					"MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n"
					"-----END PRIVATE KEY-----\n";

TEST(ed25519_rfc8032_test1)
{
	char why[128];
	struct crypto_pkey *k =
	    crypto_load_key_pem_mem(ed25519_test1_pem, strlen(ed25519_test1_pem), why, sizeof(why));
	uint8_t sig[64], exp[64];
	size_t n = 0;

	CHECK(k != NULL);
	unhex("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
	      "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
	      exp);
	CHECK_EQ(C->sign(k, CRYPTO_ED25519, NULL, 0, sig, sizeof(sig), &n), 0);
	CHECK_EQ(n, 64);
	CHECK_MEM(sig, exp, 64);
	CHECK_EQ(C->verify(k, CRYPTO_ED25519, NULL, 0, exp, 64), 0);
	exp[63] ^= 0x01;
	CHECK_EQ(C->verify(k, CRYPTO_ED25519, NULL, 0, exp, 64), -EBADMSG);
	C->pkey_free(k);
}

TEST(pkey_can_rejects_mismatches)
{
	struct crypto_pkey *p256 = key_of(CRYPTO_KEY_EC_P256), *p384 = key_of(CRYPTO_KEY_EC_P384);
	struct crypto_pkey *rsa = key_of(CRYPTO_KEY_RSA2048), *ed = key_of(CRYPTO_KEY_ED25519);
	uint8_t sig[CRYPTO_SIG_MAX];
	size_t n;

	CHECK(!C->pkey_can(p256, CRYPTO_ECDSA_SECP384R1_SHA384));
	CHECK(!C->pkey_can(p384, CRYPTO_ECDSA_SECP256R1_SHA256));
	CHECK(!C->pkey_can(p256, CRYPTO_RSA_PSS_RSAE_SHA256));
	CHECK(!C->pkey_can(p256, CRYPTO_ED25519));
	CHECK(!C->pkey_can(rsa, CRYPTO_ECDSA_SECP256R1_SHA256));
	CHECK(!C->pkey_can(rsa, CRYPTO_ED25519));
	CHECK(!C->pkey_can(ed, CRYPTO_RSA_PKCS1_SHA256));
	CHECK(!C->pkey_can(ed, CRYPTO_ECDSA_SECP256R1_SHA256));
	CHECK(!C->pkey_can(rsa, 0x0201)); /* rsa_pkcs1_sha1: not in the table */
	CHECK(!C->pkey_can(NULL, CRYPTO_ED25519));
	CHECK(C->pkey_can(rsa, CRYPTO_RSA_PSS_RSAE_SHA512));
	CHECK_EQ(C->sign(p256, CRYPTO_ECDSA_SECP384R1_SHA384, (const uint8_t *)"m", 1, sig, sizeof(sig), &n),
		 -EINVAL);
	CHECK_EQ(C->verify(ed, CRYPTO_RSA_PSS_RSAE_SHA256, (const uint8_t *)"m", 1, sig, 64), -EINVAL);
}

/* ---- X.509 ---- */

struct pki {
	struct crypto_pkey *ca_key, *leaf_key, *mid_key;
	uint8_t *ca, *leaf, *mid, *leaf2;
	size_t ca_len, leaf_len, mid_len, leaf2_len;
	struct crypto_store *store;
	int64_t now;
};

static void pki_make(struct pki *p)
{
	memset(p, 0, sizeof(*p));
	p->now = crypto_unix_ms(NULL) / 1000;
	p->ca_key = crypto_key_generate(CRYPTO_KEY_EC_P256);
	p->leaf_key = crypto_key_generate(CRYPTO_KEY_EC_P256);
	p->mid_key = crypto_key_generate(CRYPTO_KEY_RSA2048);
	CHECK(p->ca_key && p->leaf_key && p->mid_key);
	CHECK_EQ(crypto_cert_make(p->ca_key, "synack test CA", NULL, true, NULL, NULL, 0, p->now - 3600, 30,
				  &p->ca, &p->ca_len),
		 0);
	CHECK_EQ(crypto_cert_make(p->leaf_key, "leaf", "localhost,127.0.0.1", false, p->ca_key, p->ca,
				  p->ca_len, p->now - 3600, 30, &p->leaf, &p->leaf_len),
		 0);
	/* an intermediate CA (RSA) and a leaf under it */
	CHECK_EQ(crypto_cert_make(p->mid_key, "synack intermediate", NULL, true, p->ca_key, p->ca, p->ca_len,
				  p->now - 3600, 30, &p->mid, &p->mid_len),
		 0);
	CHECK_EQ(crypto_cert_make(p->leaf_key, "leaf2", "www.example.org, ::1", false, p->mid_key, p->mid,
				  p->mid_len, p->now - 3600, 30, &p->leaf2, &p->leaf2_len),
		 0);
	p->store = crypto_store_new();
	CHECK(p->store != NULL);
	CHECK_EQ(crypto_store_add_der(p->store, p->ca, p->ca_len), 0);
}

static void pki_free(struct pki *p)
{
	C->pkey_free(p->ca_key);
	C->pkey_free(p->leaf_key);
	C->pkey_free(p->mid_key);
	free(p->ca);
	free(p->leaf);
	free(p->mid);
	free(p->leaf2);
	crypto_store_free(p->store);
}

static int verify1(const struct crypto_store *s, const uint8_t *der, size_t len, const char *name, int64_t t,
		   char *why, size_t cap)
{
	const uint8_t *chain[1] = {der};
	size_t lens[1] = {len};

	return C->cert_verify(s, chain, lens, 1, name, t, true, why, cap);
}

TEST(cert_verify_outcomes)
{
	struct pki p;
	struct crypto_store *empty = crypto_store_new();
	char why[256];

	pki_make(&p);
	CHECK_EQ(verify1(p.store, p.leaf, p.leaf_len, "localhost", p.now, why, sizeof(why)), CRYPTO_CERT_OK);
	CHECK_EQ(verify1(p.store, p.leaf, p.leaf_len, "127.0.0.1", p.now, why, sizeof(why)), CRYPTO_CERT_OK);
	CHECK_EQ(verify1(p.store, p.leaf, p.leaf_len, NULL, p.now, why, sizeof(why)), CRYPTO_CERT_OK);
	CHECK_EQ(verify1(p.store, p.leaf, p.leaf_len, "example.com", p.now, why, sizeof(why)),
		 CRYPTO_CERT_NAME);
	CHECK(strlen(why) > 0);
	CHECK_EQ(verify1(p.store, p.leaf, p.leaf_len, "127.0.0.2", p.now, why, sizeof(why)),
		 CRYPTO_CERT_NAME);
	CHECK_EQ(verify1(p.store, p.leaf, p.leaf_len, "localhost", p.now + 31 * 86400, why, sizeof(why)),
		 CRYPTO_CERT_EXPIRED);
	CHECK(strstr(why, "expired") != NULL);
	CHECK_EQ(verify1(p.store, p.leaf, p.leaf_len, "localhost", p.now - 86400, why, sizeof(why)),
		 CRYPTO_CERT_EXPIRED);
	CHECK_EQ(verify1(empty, p.leaf, p.leaf_len, "localhost", p.now, why, sizeof(why)),
		 CRYPTO_CERT_UNKNOWN_CA);
	CHECK(strstr(why, "depth") != NULL);
	/* a truncated certificate */
	CHECK_EQ(verify1(p.store, p.leaf, p.leaf_len - 1, "localhost", p.now, why, sizeof(why)),
		 CRYPTO_CERT_BAD);
	CHECK_EQ(verify1(p.store, p.leaf, p.leaf_len / 2, "localhost", p.now, NULL, 0), CRYPTO_CERT_BAD);
	CHECK_EQ(C->cert_verify(p.store, NULL, NULL, 0, NULL, p.now, true, why, sizeof(why)),
		 CRYPTO_CERT_BAD);
	/* the CA itself presented as a leaf: trusted, but no such name */
	CHECK_EQ(verify1(p.store, p.ca, p.ca_len, "localhost", p.now, why, sizeof(why)), CRYPTO_CERT_NAME);
	crypto_store_free(empty);
	pki_free(&p);
}

TEST(cert_verify_through_intermediate)
{
	struct pki p;
	char why[256];

	pki_make(&p);
	{
		const uint8_t *chain[2] = {p.leaf2, p.mid};
		size_t lens[2] = {p.leaf2_len, p.mid_len};

		CHECK_EQ(
		    C->cert_verify(p.store, chain, lens, 2, "www.example.org", p.now, true, why, sizeof(why)),
		    CRYPTO_CERT_OK);
		CHECK_EQ(C->cert_verify(p.store, chain, lens, 2, "::1", p.now, false, why, sizeof(why)),
			 CRYPTO_CERT_OK);
		CHECK_EQ(C->cert_verify(p.store, chain, lens, 2, "localhost", p.now, true, why, sizeof(why)),
			 CRYPTO_CERT_NAME);
		/* without the intermediate there is no path */
		CHECK_EQ(
		    C->cert_verify(p.store, chain, lens, 1, "www.example.org", p.now, true, why, sizeof(why)),
		    CRYPTO_CERT_UNKNOWN_CA);
		lens[1] -= 3; /* a broken intermediate */
		CHECK_EQ(
		    C->cert_verify(p.store, chain, lens, 2, "www.example.org", p.now, true, why, sizeof(why)),
		    CRYPTO_CERT_BAD);
		CHECK(strstr(why, "certificate 1") != NULL);
	}
	pki_free(&p);
}

TEST(cert_pubkey_and_subject)
{
	struct pki p;
	char s[128];
	uint8_t sig[CRYPTO_SIG_MAX];
	size_t n;
	struct crypto_pkey *pub;

	pki_make(&p);
	pub = C->cert_pubkey(p.leaf, p.leaf_len);
	CHECK(pub != NULL);
	CHECK(C->pkey_can(pub, CRYPTO_ECDSA_SECP256R1_SHA256));
	CHECK_EQ(
	    C->sign(p.leaf_key, CRYPTO_ECDSA_SECP256R1_SHA256, (const uint8_t *)"x", 1, sig, sizeof(sig), &n),
	    0);
	CHECK_EQ(C->verify(pub, CRYPTO_ECDSA_SECP256R1_SHA256, (const uint8_t *)"x", 1, sig, n), 0);
	C->pkey_free(pub);
	CHECK(C->cert_pubkey(p.leaf, p.leaf_len - 1) == NULL);
	CHECK_EQ(C->cert_subject(p.leaf, p.leaf_len, s, sizeof(s)), 0);
	CHECK(strcmp(s, "CN=leaf") == 0);
	CHECK_EQ(C->cert_subject(p.ca, p.ca_len, s, 5), -ENOSPC);
	CHECK(strcmp(s, "CN=s") == 0);
	CHECK_EQ(C->cert_subject(p.ca, 10, s, sizeof(s)), -EBADMSG);
	pki_free(&p);
}

TEST(ed25519_and_rsa_issuers)
{
	struct crypto_pkey *ed = key_of(CRYPTO_KEY_ED25519), *rsa = key_of(CRYPTO_KEY_RSA2048);
	struct crypto_pkey *leaf = key_of(CRYPTO_KEY_EC_P384);
	struct crypto_store *s = crypto_store_new();
	uint8_t *ca = NULL, *l = NULL, *rca = NULL, *rl = NULL;
	size_t cl, ll, rcl, rll;
	int64_t now = crypto_unix_ms(NULL) / 1000;
	char why[256];

	CHECK_EQ(crypto_cert_make(ed, "ed CA", NULL, true, NULL, NULL, 0, now - 60, 2, &ca, &cl), 0);
	CHECK_EQ(crypto_cert_make(leaf, "ed leaf", "a.test", false, ed, ca, cl, now - 60, 2, &l, &ll), 0);
	CHECK_EQ(crypto_cert_make(rsa, "rsa CA", NULL, true, NULL, NULL, 0, now - 60, 2, &rca, &rcl), 0);
	CHECK_EQ(crypto_cert_make(ed, "rsa leaf", "b.test", false, rsa, rca, rcl, now - 60, 2, &rl, &rll), 0);
	CHECK_EQ(crypto_store_add_der(s, ca, cl), 0);
	CHECK_EQ(verify1(s, l, ll, "a.test", now, why, sizeof(why)), CRYPTO_CERT_OK);
	CHECK_EQ(verify1(s, rl, rll, "b.test", now, why, sizeof(why)), CRYPTO_CERT_UNKNOWN_CA);
	CHECK_EQ(crypto_store_add_der(s, rca, rcl), 0);
	CHECK_EQ(verify1(s, rl, rll, "b.test", now, why, sizeof(why)), CRYPTO_CERT_OK);
	CHECK_EQ(crypto_store_add_der(s, rca, rcl - 1), -EBADMSG);
	CHECK_EQ(crypto_cert_make(leaf, "x", NULL, false, ed, NULL, 0, now, 1, &l, &ll), -EINVAL);
	free(ca);
	free(l);
	free(rca);
	free(rl);
	crypto_store_free(s);
}

/* ---- PEM loading, files, stores ---- */

static char *write_temp(const char *text)
{
	char *path = strdup("/tmp/synack-test-crypto-XXXXXX");
	int fd = path ? mkstemp(path) : -1;
	size_t len = strlen(text);

	if (fd < 0 || write(fd, text, len) != (ssize_t)len) {
		if (fd >= 0)
			close(fd);
		free(path);
		return NULL;
	}
	close(fd);
	return path;
}

TEST(pem_round_trips)
{
	struct pki p;
	char *leaf_pem, *ca_pem, *key_pem, *both, *path;
	uint8_t **ders = NULL, sig[CRYPTO_SIG_MAX];
	size_t *lens = NULL, n = 0, sl;
	char why[256];
	struct crypto_pkey *k;

	pki_make(&p);
	leaf_pem = crypto_cert_pem(p.leaf, p.leaf_len);
	ca_pem = crypto_cert_pem(p.ca, p.ca_len);
	key_pem = crypto_key_pem(p.leaf_key);
	CHECK(leaf_pem && ca_pem && key_pem);
	CHECK(strncmp(leaf_pem, "-----BEGIN CERTIFICATE-----", 27) == 0);
	both = malloc(strlen(leaf_pem) + strlen(ca_pem) + 1);
	strcpy(both, leaf_pem);
	strcat(both, ca_pem);
	CHECK_EQ(crypto_load_chain_pem_mem(both, strlen(both), &ders, &lens, &n, why, sizeof(why)), 0);
	CHECK_EQ(n, 2);
	CHECK(lens[0] == p.leaf_len && memcmp(ders[0], p.leaf, p.leaf_len) == 0);
	CHECK(lens[1] == p.ca_len && memcmp(ders[1], p.ca, p.ca_len) == 0);
	crypto_free_ders(ders, lens, n);
	/* from a file too */
	path = write_temp(both);
	CHECK(path != NULL);
	CHECK_EQ(crypto_load_chain_pem(path, &ders, &lens, &n, why, sizeof(why)), 0);
	CHECK_EQ(n, 2);
	crypto_free_ders(ders, lens, n);
	unlink(path);
	free(path);
	/* a key read back signs for the certificate's public key */
	k = crypto_load_key_pem_mem(key_pem, strlen(key_pem), why, sizeof(why));
	CHECK(k != NULL);
	CHECK_EQ(C->sign(k, CRYPTO_ECDSA_SECP256R1_SHA256, (const uint8_t *)"z", 1, sig, sizeof(sig), &sl),
		 0);
	CHECK_EQ(C->verify(p.leaf_key, CRYPTO_ECDSA_SECP256R1_SHA256, (const uint8_t *)"z", 1, sig, sl), 0);
	C->pkey_free(k);
	/* garbage */
	CHECK(crypto_load_key_pem_mem("nope", 4, why, sizeof(why)) == NULL);
	CHECK(strlen(why) > 0);
	CHECK(crypto_load_key_pem_mem(ca_pem, strlen(ca_pem), why, sizeof(why)) == NULL);
	CHECK_EQ(crypto_load_chain_pem_mem(key_pem, strlen(key_pem), &ders, &lens, &n, why, sizeof(why)),
		 -EINVAL);
	CHECK(crypto_load_key_pem("/nonexistent/key.pem", why, sizeof(why)) == NULL);
	CHECK(crypto_load_chain_pem("/nonexistent/c.pem", &ders, &lens, &n, why, sizeof(why)) < 0);
	free(leaf_pem);
	free(ca_pem);
	free(key_pem);
	free(both);
	pki_free(&p);
}

TEST(store_from_file_and_system)
{
	struct pki p;
	struct crypto_store *s = crypto_store_new(), *sys = crypto_store_new();
	char *ca_pem, *path, why[256];

	pki_make(&p);
	ca_pem = crypto_cert_pem(p.ca, p.ca_len);
	path = ca_pem ? write_temp(ca_pem) : NULL;
	CHECK(path != NULL);
	CHECK_EQ(crypto_store_add_file(s, path, why, sizeof(why)), 0);
	CHECK_EQ(verify1(s, p.leaf, p.leaf_len, "localhost", p.now, why, sizeof(why)), CRYPTO_CERT_OK);
	CHECK(crypto_store_add_file(s, "/nonexistent/ca.pem", why, sizeof(why)) < 0);
	CHECK(strlen(why) > 0);
	/* the system store does not know our throw-away CA */
	CHECK_EQ(crypto_store_add_system(sys, why, sizeof(why)), 0);
	CHECK_EQ(verify1(sys, p.leaf, p.leaf_len, "localhost", p.now, why, sizeof(why)),
		 CRYPTO_CERT_UNKNOWN_CA);
	CHECK_EQ(crypto_store_add_dir(sys, "/tmp", why, sizeof(why)), 0);
	unlink(path);
	free(path);
	free(ca_pem);
	crypto_store_free(s);
	crypto_store_free(sys);
	pki_free(&p);
}

TEST(random_and_clock)
{
	uint8_t a[32] = {0}, b[32] = {0};

	crypto_random(NULL, a, sizeof(a));
	crypto_random(NULL, b, sizeof(b));
	CHECK(memcmp(a, b, sizeof(a)) != 0);
	CHECK(crypto_unix_ms(NULL) > 1600000000000LL); /* after 2020 */
}

/* The keys the signature tests share, freed at exit. */
__attribute__((destructor)) static void free_shared_keys(void)
{
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		C->pkey_free(keys[i]);
}
