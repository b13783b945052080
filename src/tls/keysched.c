/* The TLS 1.3 key schedule (RFC 8446 §7) and the transcript hash (§4.4.1).
 *
 * Implementation notes
 *
 * - Every derivation is HKDF-Expand-Label (§7.1): the HkdfLabel structure
 *   (uint16 length, opaque label<7..255> = "tls13 " + Label, opaque
 *   context<0..255>) is built with a bbuf whose vectors back-patch their
 *   lengths, so no length is computed by hand; a label or context too long
 *   for its vector is an overflow and the call fails with -EINVAL.
 * - struct tls_schedule carries the running secret through its three
 *   stages: Early Secret (HKDF-Extract(0, PSK or zeros)), Handshake Secret
 *   and Master Secret, each extracted with the salt
 *   Derive-Secret(previous, "derived", ""). The traffic secrets are
 *   Derive-Secret(stage secret, label, transcript hash); the caller gives
 *   the transcript hash it read at the point the RFC names.
 * - The transcript buffers messages raw until the suite (and so the hash)
 *   is known, then hashes them all and runs a libcrypto hash from there;
 *   hash_peek reads it without finishing it. The raw buffer is charged to
 *   the connection (tls_alloc) and freed on selection.
 * - Secrets on the stack are wiped with tls_wipe before returning. */
#include <errno.h>
#include <string.h>

#include "tls/tls_internal.h"

#define TLS13_PREFIX   "tls13 "
#define HKDF_LABEL_MAX (2 + 1 + 255 + 1 + 255)
#define TR_RAW_MAX     (2 * (TLS_MAX_HS_MESSAGE + 4))
#define TR_RAW_INITIAL 1024

/* memset, then a compiler barrier that treats p as read: the stores
 * cannot be dropped as dead (a volatile byte loop did the same 8x slower,
 * 4% of a resumed TLS 1.2 handshake). */
void tls_wipe(void *p, size_t n)
{
	if (!n)
		return;
	memset(p, 0, n);
	__asm__ __volatile__("" : : "r"(p) : "memory");
}

size_t tls_hash_len(const struct crypto_ops *c, int hash)
{
	return c->hash_len(hash);
}

/* HKDF-Expand-Label(Secret, Label, Context, Length) (RFC 8446 §7.1). */
int tls_hkdf_expand_label(const struct crypto_ops *c, int hash, const uint8_t *secret, const char *label,
			  const uint8_t *context, size_t clen, uint8_t *out, size_t olen)
{
	uint8_t info[HKDF_LABEL_MAX];
	struct bbuf b = bbuf_make(info, sizeof info);
	size_t hlen = c->hash_len(hash);
	if (!hlen || olen > 0xffff)
		return -EINVAL;
	bbuf_u16(&b, (uint16_t)olen);
	size_t m = bbuf_vec_open(&b, 1);
	bbuf_put(&b, TLS13_PREFIX, strlen(TLS13_PREFIX));
	bbuf_put(&b, label, strlen(label));
	bbuf_vec_close(&b, m, 1);
	m = bbuf_vec_open(&b, 1);
	bbuf_put(&b, context, clen);
	bbuf_vec_close(&b, m, 1);
	if (!bbuf_ok(&b))
		return -EINVAL;
	return c->hkdf_expand(hash, secret, hlen, info, b.len, out, olen);
}

/* Derive-Secret(Secret, Label, Messages) (§7.1), given Transcript-Hash(Messages). */
int tls_derive_secret(const struct crypto_ops *c, int hash, const uint8_t *secret, const char *label,
		      const uint8_t *transcript_hash, uint8_t *out)
{
	size_t hlen = c->hash_len(hash);
	uint8_t empty[CRYPTO_HASH_MAX];
	if (!hlen)
		return -EINVAL;
	if (!transcript_hash) { /* Transcript-Hash("") */
		int r = c->hash(hash, "", 0, empty);
		if (r)
			return r;
		transcript_hash = empty;
	}
	return tls_hkdf_expand_label(c, hash, secret, label, transcript_hash, hlen, out, hlen);
}

/* finished_key = HKDF-Expand-Label(BaseKey, "finished", "", Hash.length);
 * verify_data = HMAC(finished_key, Transcript-Hash(...)) (§4.4.4). */
int tls_finished_mac(const struct crypto_ops *c, int hash, const uint8_t *base_key,
		     const uint8_t *transcript_hash, uint8_t *out)
{
	uint8_t fk[CRYPTO_HASH_MAX];
	size_t hlen = c->hash_len(hash);
	if (!hlen)
		return -EINVAL;
	int r = tls_hkdf_expand_label(c, hash, base_key, "finished", NULL, 0, fk, hlen);
	if (!r)
		r = c->hmac(hash, fk, hlen, transcript_hash, hlen, out);
	tls_wipe(fk, sizeof fk);
	return r;
}

/* The PSK binder is computed as Finished is, from binder_key (§4.2.11.2). */
int tls_binder_mac(const struct crypto_ops *c, int hash, const uint8_t *binder_key, const uint8_t *thash,
		   uint8_t *out)
{
	return tls_finished_mac(c, hash, binder_key, thash, out);
}

/* ---- the running secret (§7.1) ---- */

int tls_ks_early(struct tls_schedule *ks, const struct crypto_ops *c, int hash, const uint8_t *psk,
		 size_t psk_len)
{
	uint8_t zeros[CRYPTO_HASH_MAX] = {0};
	memset(ks, 0, sizeof *ks);
	ks->c = c;
	ks->hash = hash;
	ks->hlen = c->hash_len(hash);
	if (!ks->hlen)
		return -EINVAL;
	if (!psk) {
		psk = zeros;
		psk_len = ks->hlen;
	}
	return c->hkdf_extract(hash, NULL, 0, psk, psk_len, ks->secret);
}

/* Secret' = HKDF-Extract(Derive-Secret(Secret, "derived", ""), ikm or zeros). */
static int ks_next_stage(struct tls_schedule *ks, const uint8_t *ikm, size_t ilen)
{
	uint8_t salt[CRYPTO_HASH_MAX], zeros[CRYPTO_HASH_MAX] = {0};
	int r = tls_derive_secret(ks->c, ks->hash, ks->secret, "derived", NULL, salt);
	if (!ikm) {
		ikm = zeros;
		ilen = ks->hlen;
	}
	if (!r)
		r = ks->c->hkdf_extract(ks->hash, salt, ks->hlen, ikm, ilen, ks->secret);
	tls_wipe(salt, sizeof salt);
	return r;
}

int tls_ks_handshake(struct tls_schedule *ks, const uint8_t *ecdhe, size_t ecdhe_len)
{
	return ks_next_stage(ks, ecdhe, ecdhe_len);
}

int tls_ks_master(struct tls_schedule *ks)
{
	return ks_next_stage(ks, NULL, 0);
}

int tls_ks_derive(const struct tls_schedule *ks, const char *label, const uint8_t *thash, uint8_t *out)
{
	return tls_derive_secret(ks->c, ks->hash, ks->secret, label, thash, out);
}

int tls_ks_binder_key(const struct tls_schedule *ks, bool external, uint8_t *out)
{
	return tls_ks_derive(ks, external ? TLS_LABEL_EXT_BINDER : TLS_LABEL_RES_BINDER, NULL, out);
}

void tls_ks_clear(struct tls_schedule *ks)
{
	tls_wipe(ks->secret, sizeof ks->secret);
}

/* PSK = HKDF-Expand-Label(resumption_master_secret, "resumption", ticket_nonce, Hash.length) (§4.6.1). */
int tls_resumption_psk(const struct crypto_ops *c, int hash, const uint8_t *res_master, const uint8_t *nonce,
		       size_t nonce_len, uint8_t *out)
{
	return tls_hkdf_expand_label(c, hash, res_master, "resumption", nonce, nonce_len, out,
				     c->hash_len(hash));
}

/* application_traffic_secret_N+1 (§7.2). */
int tls_next_traffic_secret(const struct crypto_ops *c, int hash, const uint8_t *secret, uint8_t *out)
{
	return tls_hkdf_expand_label(c, hash, secret, "traffic upd", NULL, 0, out, c->hash_len(hash));
}

/* ---- the transcript hash (§4.4.1) ---- */

static int tr_raw_append(struct synack_tls *t, const uint8_t *msg, size_t len)
{
	struct tls_core *c = t->core;
	if (len > TR_RAW_MAX - c->tr_raw_len)
		return -ENOSPC;
	if (c->tr_raw_len + len > c->tr_raw_cap) {
		size_t cap =
		    MAX(c->tr_raw_len + len, MIN(2 * c->tr_raw_cap + TR_RAW_INITIAL, (size_t)TR_RAW_MAX));
		uint8_t *p = tls_alloc(t, cap);
		if (!p)
			return -ENOMEM;
		if (c->tr_raw_len)
			memcpy(p, c->tr_raw, c->tr_raw_len);
		tls_dealloc(t, c->tr_raw, c->tr_raw_cap);
		c->tr_raw = p;
		c->tr_raw_cap = cap;
	}
	memcpy(c->tr_raw + c->tr_raw_len, msg, len);
	c->tr_raw_len += len;
	return 0;
}

static void tr_raw_free(struct synack_tls *t)
{
	struct tls_core *c = t->core;
	tls_dealloc(t, c->tr_raw, c->tr_raw_cap);
	c->tr_raw = NULL;
	c->tr_raw_len = c->tr_raw_cap = 0;
}

int tls_transcript_add(struct synack_tls *t, const uint8_t *msg, size_t len)
{
	struct tls_core *c = t->core;
	if (c->tr)
		return t->crypto->hash_update(c->tr, msg, len);
	return tr_raw_append(t, msg, len);
}

int tls_transcript_select(struct synack_tls *t, int hash_alg)
{
	struct tls_core *c = t->core;
	if (c->tr)
		return c->tr_alg == hash_alg ? 0 : -EINVAL;
	c->tr = t->crypto->hash_new(hash_alg);
	if (!c->tr)
		return -EINVAL;
	c->tr_alg = hash_alg;
	int r = c->tr_raw_len ? t->crypto->hash_update(c->tr, c->tr_raw, c->tr_raw_len) : 0;
	tr_raw_free(t);
	return r;
}

int tls_transcript_hash(struct synack_tls *t, uint8_t *out)
{
	struct tls_core *c = t->core;
	if (!c->tr)
		return -EINVAL;
	return t->crypto->hash_peek(c->tr, out);
}

int tls_transcript_hash_with(struct synack_tls *t, int hash_alg, const uint8_t *extra, size_t len,
			     uint8_t *out)
{
	struct tls_core *c = t->core;
	if (c->tr && c->tr_alg != hash_alg)
		return -EINVAL;
	struct crypto_hash *h = c->tr ? t->crypto->hash_dup(c->tr) : t->crypto->hash_new(hash_alg);
	if (!h)
		return -ENOMEM;
	int r = 0;
	if (!c->tr && c->tr_raw_len)
		r = t->crypto->hash_update(h, c->tr_raw, c->tr_raw_len);
	if (!r && len)
		r = t->crypto->hash_update(h, extra, len);
	if (!r)
		r = t->crypto->hash_peek(h, out);
	t->crypto->hash_free(h);
	return r;
}

/* Transcript-Hash(ClientHello1, HelloRetryRequest, ...) =
 *   Hash(message_hash || 00 00 Hash.length || Hash(ClientHello1) || HelloRetryRequest || ...) (§4.4.1). */
int tls_transcript_hrr(struct synack_tls *t)
{
	struct tls_core *c = t->core;
	uint8_t h[CRYPTO_HASH_MAX], msg[4 + CRYPTO_HASH_MAX];
	if (!c->tr)
		return -EINVAL;
	size_t hlen = t->crypto->hash_len(c->tr_alg);
	int r = t->crypto->hash_peek(c->tr, h);
	if (r)
		return r;
	struct bbuf b = bbuf_make(msg, sizeof msg);
	bbuf_u8(&b, TLS_HS_MESSAGE_HASH);
	size_t m = bbuf_vec_open(&b, 3);
	bbuf_put(&b, h, hlen);
	bbuf_vec_close(&b, m, 3);
	struct crypto_hash *fresh = t->crypto->hash_new(c->tr_alg);
	if (!fresh || !bbuf_ok(&b))
		return -ENOMEM;
	t->crypto->hash_free(c->tr);
	c->tr = fresh;
	return t->crypto->hash_update(c->tr, msg, b.len);
}

void tls_transcript_free(struct synack_tls *t)
{
	struct tls_core *c = t->core;
	if (c->tr)
		t->crypto->hash_free(c->tr);
	c->tr = NULL;
	tr_raw_free(t);
}
