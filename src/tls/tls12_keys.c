/* TLS 1.2 key derivation (RFC 5246 §5, §6.3, §7.4.9, §8.1; RFC 7627 §4) and
 * AEAD record protection (RFC 5246 §6.2.3.3; RFC 5288 §3; RFC 7905 §2).
 *
 * Implementation notes
 *
 * - P_hash keeps one working buffer laid out as A(i) + label + seed: the
 *   label and seed are appended once, with a bbuf (too long a label or seed
 *   is an overflow: -EINVAL), after a slot of hash-length bytes for A(i).
 *   A(1) = HMAC(secret, label + seed) is the HMAC of the tail; each output
 *   block is the HMAC of the whole buffer; A(i+1) = HMAC(secret, A(i)) is
 *   the HMAC of the slot, written back into the slot. Output blocks go
 *   through a second bbuf over the caller's buffer, so the last, partial
 *   block is cut by the builder and no length is computed by hand.
 * - The key block is read back with a brd in the order §6.3 lists it; the
 *   MAC keys are empty for AEAD suites, so it starts with the write keys.
 * - Record nonces and the additional data are assembled with a bbuf over
 *   fixed-size stack arrays. For AES-GCM the explicit part of the nonce is
 *   the 64-bit sequence number (RFC 5288 §3 allows it): the sequence number
 *   counts records under one key and never wraps (RFC 5246 §6.1), so a
 *   nonce never repeats under a key. The receiver does not assume that:
 *   it takes the explicit part from the fragment, whatever the peer chose.
 * - Secrets on the stack (A(i), HMAC blocks, the key block) are wiped with
 *   tls_wipe before returning. */
#include <errno.h>
#include <string.h>

#include "tls/tls12.h"
#include "tls/tls_internal.h"

/* The working buffer of P_hash: A(i) followed by label + seed. */
#define PHASH_BUF_MAX (CRYPTO_HASH_MAX + TLS12_PRF_INPUT_MAX)

/* P_hash(secret, seed) = HMAC_hash(secret, A(1) + seed) + HMAC_hash(secret,
 * A(2) + seed) + ..., A(0) = seed, A(i) = HMAC_hash(secret, A(i-1))
 * (RFC 5246 §5); buf holds A slot (hlen bytes) + seed, blen bytes in all. */
static int p_hash(const struct crypto_ops *c, int hash, size_t hlen, const uint8_t *secret, size_t slen,
		  uint8_t *buf, size_t blen, uint8_t *out, size_t olen)
{
	uint8_t block[CRYPTO_HASH_MAX];
	struct bbuf o = bbuf_make(out, olen);
	int r = c->hmac(hash, secret, slen, buf + hlen, blen - hlen, buf); /* A(1) */
	while (!r && bbuf_room(&o)) {
		r = c->hmac(hash, secret, slen, buf, blen, block);
		if (!r)
			bbuf_put(&o, block, MIN(hlen, bbuf_room(&o)));
		if (!r && bbuf_room(&o))
			r = c->hmac(hash, secret, slen, buf, hlen, buf); /* A(i+1) */
	}
	tls_wipe(block, sizeof block);
	return r;
}

/* PRF(secret, label, seed) = P_<hash>(secret, label + seed) (RFC 5246 §5). */
int tls12_prf(const struct crypto_ops *c, int hash, const uint8_t *secret, size_t slen, const char *label,
	      const uint8_t *seed1, size_t s1len, const uint8_t *seed2, size_t s2len, uint8_t *out,
	      size_t olen)
{
	uint8_t buf[PHASH_BUF_MAX];
	size_t hlen = c->hash_len(hash);
	if (!hlen || hlen > CRYPTO_HASH_MAX || olen > TLS12_PRF_MAX || !label)
		return -EINVAL;
	struct bbuf b = bbuf_make(buf, hlen + TLS12_PRF_INPUT_MAX); /* label + seed <= the cap */
	bbuf_zero(&b, hlen);					    /* the A(i) slot */
	bbuf_put(&b, label, strlen(label));
	bbuf_put(&b, seed1, s1len);
	bbuf_put(&b, seed2, s2len);
	if (!bbuf_ok(&b))
		return -EINVAL;
	int r = p_hash(c, hash, hlen, secret, slen, buf, b.len, out, olen);
	tls_wipe(buf, sizeof buf);
	return r;
}

/* master_secret = PRF(pre_master_secret, "master secret",
 * ClientHello.random + ServerHello.random)[0..47] (RFC 5246 §8.1). */
int tls12_master_secret(const struct crypto_ops *c, int hash, const uint8_t *pms, size_t pms_len,
			const uint8_t client_random[TLS12_RANDOM_LEN],
			const uint8_t server_random[TLS12_RANDOM_LEN], uint8_t out[TLS12_MASTER_LEN])
{
	return tls12_prf(c, hash, pms, pms_len, TLS12_LABEL_MASTER, client_random, TLS12_RANDOM_LEN,
			 server_random, TLS12_RANDOM_LEN, out, TLS12_MASTER_LEN);
}

/* master_secret = PRF(pre_master_secret, "extended master secret",
 * session_hash)[0..47] (RFC 7627 §4). */
int tls12_extended_master_secret(const struct crypto_ops *c, int hash, const uint8_t *pms, size_t pms_len,
				 const uint8_t *session_hash, uint8_t out[TLS12_MASTER_LEN])
{
	size_t hlen = c->hash_len(hash);
	if (!hlen)
		return -EINVAL;
	return tls12_prf(c, hash, pms, pms_len, TLS12_LABEL_EXTENDED, session_hash, hlen, NULL, 0, out,
			 TLS12_MASTER_LEN);
}

/* fixed_iv_length: the salt of AES-GCM (RFC 5288 §3), the whole IV of
 * ChaCha20-Poly1305 (RFC 7905 §2). */
size_t tls12_fixed_iv_len(int aead)
{
	switch (aead) {
	case CRYPTO_AES_128_GCM:
	case CRYPTO_AES_256_GCM:
		return TLS12_GCM_SALT_LEN;
	case CRYPTO_CHACHA20_POLY1305:
		return TLS12_CHACHA_IV_LEN;
	default:
		return 0;
	}
}

/* record_iv_length: the explicit nonce carried in each record (RFC 5288 §3:
 * 8 for AES-GCM; RFC 7905 §2: none for ChaCha20-Poly1305). */
size_t tls12_explicit_nonce_len(int aead)
{
	return tls12_fixed_iv_len(aead) == TLS12_GCM_SALT_LEN ? TLS12_GCM_EXPLICIT : 0;
}

/* key_block = PRF(SecurityParameters.master_secret, "key expansion",
 * server_random + client_random), partitioned as client_write_MAC_key (0),
 * server_write_MAC_key (0), client_write_key, server_write_key,
 * client_write_IV, server_write_IV (RFC 5246 §6.3). */
int tls12_key_block(const struct crypto_ops *c, int hash, int aead, const uint8_t master[TLS12_MASTER_LEN],
		    const uint8_t client_random[TLS12_RANDOM_LEN],
		    const uint8_t server_random[TLS12_RANDOM_LEN], struct tls12_key_block *kb)
{
	uint8_t block[2 * (CRYPTO_AEAD_KEY_MAX + CRYPTO_AEAD_NONCE)];
	size_t klen = c->aead_key_len(aead), ivlen = tls12_fixed_iv_len(aead);
	memset(kb, 0, sizeof *kb);
	if (!klen || klen > CRYPTO_AEAD_KEY_MAX || !ivlen)
		return -EINVAL;
	int r = tls12_prf(c, hash, master, TLS12_MASTER_LEN, TLS12_LABEL_KEY_EXP, server_random,
			  TLS12_RANDOM_LEN, client_random, TLS12_RANDOM_LEN, block, 2 * (klen + ivlen));
	struct brd rd = brd_make(block, 2 * (klen + ivlen));
	const uint8_t *ck = brd_take(&rd, klen), *sk = brd_take(&rd, klen);
	const uint8_t *civ = brd_take(&rd, ivlen), *siv = brd_take(&rd, ivlen);
	if (!r && !brd_done(&rd))
		r = -EINVAL; /* cannot happen: the block is exactly the four pieces */
	if (!r) {
		kb->key_len = klen;
		kb->iv_len = ivlen;
		memcpy(kb->client_key, ck, klen);
		memcpy(kb->server_key, sk, klen);
		memcpy(kb->client_iv, civ, ivlen);
		memcpy(kb->server_iv, siv, ivlen);
	}
	tls_wipe(block, sizeof block);
	return r;
}

void tls12_key_block_clear(struct tls12_key_block *kb)
{
	tls_wipe(kb, sizeof *kb);
}

/* verify_data = PRF(master_secret, finished_label,
 * Hash(handshake_messages))[0..verify_data_length-1], verify_data_length
 * 12 (RFC 5246 §7.4.9). */
int tls12_verify_data(const struct crypto_ops *c, int hash, const uint8_t master[TLS12_MASTER_LEN],
		      bool from_client, const uint8_t *transcript_hash, uint8_t out[TLS12_VERIFY_LEN])
{
	size_t hlen = c->hash_len(hash);
	if (!hlen)
		return -EINVAL;
	return tls12_prf(c, hash, master, TLS12_MASTER_LEN,
			 from_client ? TLS12_LABEL_CLIENT_FIN : TLS12_LABEL_SERVER_FIN, transcript_hash, hlen,
			 NULL, 0, out, TLS12_VERIFY_LEN);
}

/* additional_data = seq_num + TLSCompressed.type + TLSCompressed.version +
 * TLSCompressed.length (RFC 5246 §6.2.3.3); len is the plaintext length. */
static int record_aad(uint8_t aad[TLS12_AAD_LEN], uint64_t seq, uint8_t type, uint16_t version, size_t len)
{
	struct bbuf b = bbuf_make(aad, TLS12_AAD_LEN);
	if (len > TLS12_MAX_PLAINTEXT)
		return -EINVAL;
	bbuf_be(&b, seq, TLS12_SEQ_LEN);
	bbuf_u8(&b, type);
	bbuf_u16(&b, version);
	bbuf_u16(&b, (uint16_t)len);
	return bbuf_ok(&b) && b.len == TLS12_AAD_LEN ? 0 : -EINVAL;
}

/* The 12-byte AEAD nonce. AES-GCM: salt[4] + nonce_explicit[8] (RFC 5288
 * §3), explicit being the 8 bytes sent in the record. ChaCha20-Poly1305:
 * the sequence number, big-endian and left-padded with four zeros, XORed
 * with the 12-byte IV (RFC 7905 §2); explicit is NULL. */
static int record_nonce(uint8_t nonce[CRYPTO_AEAD_NONCE], int aead, const uint8_t *iv, uint64_t seq,
			const uint8_t *explicit)
{
	struct bbuf b = bbuf_make(nonce, CRYPTO_AEAD_NONCE);
	size_t ivlen = tls12_fixed_iv_len(aead);
	if (ivlen == TLS12_GCM_SALT_LEN) {
		bbuf_put(&b, iv, TLS12_GCM_SALT_LEN);
		bbuf_put(&b, explicit, TLS12_GCM_EXPLICIT);
	} else if (ivlen == TLS12_CHACHA_IV_LEN) {
		bbuf_zero(&b, CRYPTO_AEAD_NONCE - TLS12_SEQ_LEN);
		bbuf_be(&b, seq, TLS12_SEQ_LEN);
		for (size_t i = 0; bbuf_ok(&b) && i < b.len; i++)
			nonce[i] ^= iv[i];
	} else {
		return -EINVAL;
	}
	return bbuf_ok(&b) && b.len == CRYPTO_AEAD_NONCE ? 0 : -EINVAL;
}

/* AEADEncrypted = AEAD-Encrypt(write_key, nonce, plaintext, additional_data);
 * GenericAEADCipher = nonce_explicit + AEADEncrypted (RFC 5246 §6.2.3.3,
 * RFC 5288 §3, RFC 7905 §2). */
int tls12_seal(const struct crypto_ops *c, struct crypto_aead *a, int aead, const uint8_t *iv, uint64_t seq,
	       uint8_t type, uint16_t version, const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
	uint8_t nonce[CRYPTO_AEAD_NONCE], aad[TLS12_AAD_LEN];
	struct bbuf b = bbuf_make(out, cap);
	size_t xlen = tls12_explicit_nonce_len(aead);
	int r = record_aad(aad, seq, type, version, len);
	if (r || !tls12_fixed_iv_len(aead))
		return -EINVAL;
	/* The explicit nonce is the sequence number: unique per record under
	 * one key, since seq never repeats (RFC 5246 §6.1). */
	bbuf_be(&b, seq, xlen ? TLS12_GCM_EXPLICIT : 0);
	const uint8_t *explicit = b.p;
	uint8_t *ct = bbuf_reserve(&b, len + CRYPTO_AEAD_TAG);
	if (!bbuf_ok(&b))
		return -ENOSPC;
	r = record_nonce(nonce, aead, iv, seq, xlen ? explicit : NULL);
	if (!r)
		r = c->aead_seal(a, nonce, aad, sizeof aad, in, len, ct);
	return r ? r : (int)b.len;
}

/* Decrypt and verify a GenericAEADCipher (RFC 5246 §6.2.3.3); a fragment
 * longer than 2^14 + 2048 (§6.2.3) or a plaintext longer than 2^14
 * (§6.2.1) is record_overflow. */
int tls12_open(const struct crypto_ops *c, struct crypto_aead *a, int aead, const uint8_t *iv, uint64_t seq,
	       uint8_t type, uint16_t version, const uint8_t *frag, size_t flen, uint8_t *out, size_t cap)
{
	uint8_t nonce[CRYPTO_AEAD_NONCE], aad[TLS12_AAD_LEN];
	struct brd rd = brd_make(frag, flen);
	if (!tls12_fixed_iv_len(aead))
		return -EINVAL;
	const uint8_t *explicit = brd_take(&rd, tls12_explicit_nonce_len(aead));
	size_t clen = brd_left(&rd);
	const uint8_t *ct = brd_take(&rd, clen);
	if (!brd_ok(&rd) || clen < CRYPTO_AEAD_TAG)
		return -EBADMSG;
	size_t plen = clen - CRYPTO_AEAD_TAG;
	if (flen > TLS12_MAX_CIPHERTEXT || plen > TLS12_MAX_PLAINTEXT)
		return -EMSGSIZE;
	if (plen > cap)
		return -ENOSPC;
	int r = record_aad(aad, seq, type, version, plen);
	if (!r)
		r = record_nonce(nonce, aead, iv, seq, tls12_explicit_nonce_len(aead) ? explicit : NULL);
	if (!r)
		r = c->aead_open(a, nonce, aad, sizeof aad, ct, clen, out);
	if (r) {
		tls_wipe(out, plen); /* no unauthenticated plaintext leaves */
		return r;
	}
	return (int)plen;
}
