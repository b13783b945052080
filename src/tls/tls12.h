/* TLS 1.2 key derivation and AEAD record protection: the pure functions the
 * TLS 1.2 handshake and record layer build on (RFC 5246, RFC 7627,
 * RFC 5288, RFC 7905). No state, no I/O, no allocation: every function
 * works over caller-owned buffers, reaches every primitive through the
 * crypto table, and returns 0 (or a length) or a negative errno value.
 *
 * What a TLS 1.2 connection does with them (AEAD suites only):
 *
 *   tls12_extended_master_secret(c, hash, pms, pms_len, session_hash, ms);  RFC 7627
 *     (or tls12_master_secret(c, hash, pms, pms_len, crandom, srandom, ms) without EMS)
 *   tls12_key_block(c, hash, aead, ms, crandom, srandom, &kb);
 *   wr = c->aead_new(aead, kb.client_key, true);   the client's write side
 *   tls12_seal(c, wr, aead, kb.client_iv, seq++, type, 0x0303, in, len, out, cap);
 *   tls12_open(c, rd, aead, kb.server_iv, seq++, type, 0x0303, frag, flen, out, cap);
 *   tls12_verify_data(c, hash, ms, true, transcript_hash, verify_data);
 *   tls12_key_block_clear(&kb);
 *
 * `hash` is an enum crypto_hash_alg (the suite's PRF hash: SHA-256, or
 * SHA-384 for the *_SHA384 suites); `aead` is an enum crypto_aead_alg and
 * also selects the record nonce form: partially explicit for AES-GCM
 * (RFC 5288 §3), XOR with the sequence number for ChaCha20-Poly1305
 * (RFC 7905 §2). */
#ifndef SYNACK_TLS_TLS12_H
#define SYNACK_TLS_TLS12_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/crypto.h"

#define TLS12_RANDOM_LEN       32	      /* ClientHello.random, ServerHello.random */
#define TLS12_MASTER_LEN       48	      /* master_secret (RFC 5246 §8.1) */
#define TLS12_VERIFY_LEN       12	      /* Finished.verify_data (§7.4.9) */
#define TLS12_PRF_MAX	       512	      /* longest PRF output we produce */
#define TLS12_PRF_INPUT_MAX    256	      /* longest label + seed */
#define TLS12_SEQ_LEN	       8	      /* seq_num (§6.1) */
#define TLS12_AAD_LEN	       13	      /* seq_num + type + version + length (§6.2.3.3) */
#define TLS12_GCM_SALT_LEN     4	      /* fixed_iv_length of AES-GCM (RFC 5288 §3) */
#define TLS12_GCM_EXPLICIT     8	      /* record_iv_length of AES-GCM (RFC 5288 §3) */
#define TLS12_CHACHA_IV_LEN    12	      /* fixed_iv_length of ChaCha20-Poly1305 (RFC 7905 §2) */
#define TLS12_MAX_PLAINTEXT    16384	      /* 2^14 (RFC 5246 §6.2.1) */
#define TLS12_MAX_CIPHERTEXT   (16384 + 2048) /* 2^14 + 2048 (§6.2.3) */
#define TLS12_LABEL_MASTER     "master secret"
#define TLS12_LABEL_EXTENDED   "extended master secret"
#define TLS12_LABEL_KEY_EXP    "key expansion"
#define TLS12_LABEL_CLIENT_FIN "client finished"
#define TLS12_LABEL_SERVER_FIN "server finished"

/* PRF(secret, label, seed) = P_<hash>(secret, label + seed) (RFC 5246 §5),
 * with seed = seed1 + seed2 (either may be NULL/0, so client_random and
 * server_random need not be concatenated by the caller). olen <=
 * TLS12_PRF_MAX and label + seed <= TLS12_PRF_INPUT_MAX bytes, else
 * -EINVAL; -EINVAL also for an unknown hash. */
int tls12_prf(const struct crypto_ops *c, int hash, const uint8_t *secret, size_t slen, const char *label,
	      const uint8_t *seed1, size_t s1len, const uint8_t *seed2, size_t s2len, uint8_t *out,
	      size_t olen);

/* master_secret = PRF(pre_master_secret, "master secret",
 * ClientHello.random + ServerHello.random)[0..47] (RFC 5246 §8.1). */
int tls12_master_secret(const struct crypto_ops *c, int hash, const uint8_t *pms, size_t pms_len,
			const uint8_t client_random[TLS12_RANDOM_LEN],
			const uint8_t server_random[TLS12_RANDOM_LEN], uint8_t out[TLS12_MASTER_LEN]);

/* master_secret = PRF(pre_master_secret, "extended master secret",
 * session_hash)[0..47] (RFC 7627 §4); session_hash = Hash(handshake_messages)
 * with the PRF hash, hash_len(hash) bytes. */
int tls12_extended_master_secret(const struct crypto_ops *c, int hash, const uint8_t *pms, size_t pms_len,
				 const uint8_t *session_hash, uint8_t out[TLS12_MASTER_LEN]);

/* The AEAD keys and IVs of a key_block (RFC 5246 §6.3). iv_len is the
 * fixed_iv_length: 4 for AES-GCM (the salt, RFC 5288 §3), 12 for
 * ChaCha20-Poly1305 (RFC 7905 §2). Secret: clear with tls12_key_block_clear. */
struct tls12_key_block {
	size_t key_len, iv_len;
	uint8_t client_key[CRYPTO_AEAD_KEY_MAX], server_key[CRYPTO_AEAD_KEY_MAX];
	uint8_t client_iv[CRYPTO_AEAD_NONCE], server_iv[CRYPTO_AEAD_NONCE];
};
/* key_block = PRF(master_secret, "key expansion", server_random +
 * client_random), split as client_write_key, server_write_key,
 * client_write_IV, server_write_IV (MAC keys are empty for AEAD suites).
 * -EINVAL for an unknown hash or aead. */
int tls12_key_block(const struct crypto_ops *c, int hash, int aead, const uint8_t master[TLS12_MASTER_LEN],
		    const uint8_t client_random[TLS12_RANDOM_LEN],
		    const uint8_t server_random[TLS12_RANDOM_LEN], struct tls12_key_block *kb);
void tls12_key_block_clear(struct tls12_key_block *kb);

/* verify_data = PRF(master_secret, finished_label, Hash(handshake_messages))
 * [0..11] (RFC 5246 §7.4.9); finished_label is "client finished" when
 * from_client, else "server finished"; transcript_hash has hash_len(hash)
 * bytes. */
int tls12_verify_data(const struct crypto_ops *c, int hash, const uint8_t master[TLS12_MASTER_LEN],
		      bool from_client, const uint8_t *transcript_hash, uint8_t out[TLS12_VERIFY_LEN]);

/* fixed_iv_length of an AEAD (4 or 12; 0 unknown) and the record_iv_length
 * (the explicit nonce on the wire: 8 or 0). */
size_t tls12_fixed_iv_len(int aead);
size_t tls12_explicit_nonce_len(int aead);

/* Seal one TLSCompressed.fragment (RFC 5246 §6.2.3.3) under the write
 * key a (made by c->aead_new(aead, key, true)) and iv (the write IV of the
 * key block: tls12_fixed_iv_len(aead) bytes). out gets the
 * TLSCiphertext.fragment: explicit_nonce(8) + ciphertext + tag for AES-GCM,
 * ciphertext + tag for ChaCha20-Poly1305; the explicit nonce is seq, so
 * seq must never repeat under one key (it is the record sequence number).
 * in may equal out + tls12_explicit_nonce_len(aead) (in-place sealing).
 * Returns the fragment length; -ENOSPC when it does not fit cap (out may
 * then hold part of it), -EINVAL for len > 2^14 or an unknown aead. */
int tls12_seal(const struct crypto_ops *c, struct crypto_aead *a, int aead, const uint8_t *iv, uint64_t seq,
	       uint8_t type, uint16_t version, const uint8_t *in, size_t len, uint8_t *out, size_t cap);

/* Open one TLSCiphertext.fragment (RFC 5246 §6.2.3.3) under the read key
 * a and iv; for AES-GCM the nonce's explicit part is read from the
 * fragment. out gets the plaintext (cap bytes available; out may equal
 * frag + tls12_explicit_nonce_len(aead)). Returns the plaintext length;
 * -EBADMSG when the fragment is shorter than explicit nonce + tag or does
 * not authenticate (out is then zeroed), -EMSGSIZE when it is longer than
 * 2^14 + 2048 or its plaintext longer than 2^14 (record_overflow), -ENOSPC
 * when the plaintext does not fit cap, -EINVAL for an unknown aead. */
int tls12_open(const struct crypto_ops *c, struct crypto_aead *a, int aead, const uint8_t *iv, uint64_t seq,
	       uint8_t type, uint16_t version, const uint8_t *frag, size_t flen, uint8_t *out, size_t cap);

#endif
