/* The TLS 1.3 record layer (RFC 8446 §5) and KeyUpdate (§4.6.3, §7.2).
 * Under TLS 1.2 rules (tls_record_set_version) the header checks, sealing
 * and opening are record12.c's; everything else here is shared, and
 * KeyUpdate is refused.
 *
 * Implementation notes
 *
 * Input. Bytes arrive in any pieces (one at a time works). The 5-byte
 * header is gathered in tls_core.hdr and checked before a byte of the body
 * is kept: a known content type, legacy_record_version 0x0303 (0x0301
 * accepted in the clear, for a first ClientHello), a length within 2^14
 * (plaintext) or 2^14+256 (protected, §5.2), else the connection fails
 * before buffering anything. The body goes to one record buffer of
 * TLS_MAX_CIPHERTEXT bytes, allocated when a record starts and given back
 * as soon as nothing is in flight (an idle connection holds none). A
 * protected record is opened in place: nonce = iv XOR seq (§5.3), AAD =
 * the record header (§5.2); then the zero padding is stripped and the
 * last non-zero byte is the real content type (§5.4).
 *
 * Handshake messages are cut out of records here and handed whole to
 * tls_hs_input. A message complete inside one record is passed in place;
 * only a message split across records is copied into hsbuf (grown to the
 * message's size, at most TLS_MAX_HS_MESSAGE + 4, freed when delivered).
 * §5.1: handshake messages must not be interleaved with other record
 * types and must not span a key change: after each delivery, if the read
 * keys changed, the record must be exhausted (unexpected_message
 * otherwise), and tls_set_keys refuses new read keys while a fragment is
 * buffered.
 *
 * Decrypted application data stays in the record buffer until
 * synack_tls_read takes it; the connection consumes no more input while
 * it waits (at most one record held).
 *
 * Output. One growable buffer, compacted and grown on demand: application
 * writes stop at TLS_OUT_SOFT_CAP (the writer gets a short count),
 * handshake flights and alerts may go to TLS_OUT_HARD_CAP. Each record is
 * built with a bbuf: the length is a back-patched vector holding the inner
 * plaintext, the content type and room for the tag, then sealed in place.
 * The buffer is freed once drained.
 *
 * AEAD limits (§5.5): after tls_core.ku_limit records under one key we
 * update our write keys before the next application record, and ask the
 * peer to update once its records under one read key reach the limit. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "tls/tls_internal.h"

static bool is_protected(const struct tls_keys *k)
{
	return k->aead != NULL;
}

/* ---- keys (§7.3) ---- */

static const char *epoch_name(int epoch)
{
	static const char *const names[] = {"plaintext", "early", "handshake", "application"};
	return epoch >= 0 && epoch < 4 ? names[epoch] : "?";
}

static int install_keys(struct synack_tls *t, int dir, int epoch, const struct tls_suite *s,
			const uint8_t *secret)
{
	struct tls_keys *k = dir == TLS_WRITE ? &t->wr : &t->rd;
	const struct crypto_ops *c = t->crypto;
	uint8_t key[CRYPTO_AEAD_KEY_MAX];
	size_t hlen = c->hash_len(s->hash), klen = c->aead_key_len(s->aead);
	if (dir == TLS_READ && t->core->hs_len)
		return tls_fail(t, SYNACK_TLS_ALERT_UNEXPECTED_MESSAGE,
				"handshake message spans a key change");
	int r = tls_hkdf_expand_label(c, s->hash, secret, "key", NULL, 0, key, klen);
	if (!r)
		r = tls_hkdf_expand_label(c, s->hash, secret, "iv", NULL, 0, k->iv, CRYPTO_AEAD_NONCE);
	struct crypto_aead *a = r ? NULL : c->aead_new(s->aead, key, dir == TLS_WRITE);
	tls_wipe(key, sizeof key);
	if (!a)
		return tls_fail(t, SYNACK_TLS_ALERT_INTERNAL_ERROR, "cannot install %s keys",
				epoch_name(epoch));
	if (k->aead)
		c->aead_free(k->aead);
	k->aead = a;
	memcpy(k->secret, secret, hlen);
	k->suite = s;
	k->seq = 0;
	k->epoch = epoch;
	if (dir == TLS_READ)
		t->core->rd_gen++;
	tls_trace(t, dir == TLS_WRITE, 0, 0, epoch, 0, "%s keys: %s (%s)",
		  dir == TLS_WRITE ? "write" : "read", epoch_name(epoch), s->name);
	return 0;
}

/* §7.3: [sender]_write_key = HKDF-Expand-Label(Secret, "key", "", key_length),
 *       [sender]_write_iv  = HKDF-Expand-Label(Secret, "iv", "", iv_length). */
int tls_set_keys(struct synack_tls *t, int dir, int epoch, const struct tls_suite *s, const uint8_t *secret)
{
	if (t->err)
		return t->err;
	if (tls_rules12(t))
		return tls_fail(t, SYNACK_TLS_ALERT_INTERNAL_ERROR, "TLS 1.3 keys under TLS 1.2 rules");
	return install_keys(t, dir, epoch, s, secret);
}

/* §5.3: the per-record nonce is the 64-bit sequence number, left-padded
 * to iv_length, XORed with the static iv. */
static void record_nonce(const struct tls_keys *k, uint8_t nonce[CRYPTO_AEAD_NONCE])
{
	memcpy(nonce, k->iv, CRYPTO_AEAD_NONCE);
	for (unsigned i = 0; i < 8; i++)
		nonce[CRYPTO_AEAD_NONCE - 1 - i] ^= (uint8_t)(k->seq >> (8 * i));
}

/* ---- output ---- */

size_t tls_out_pending(const struct synack_tls *t)
{
	return t->core->out_len - t->core->out_off;
}

static int out_grow(struct synack_tls *t, size_t need, size_t cap_limit)
{
	struct tls_core *c = t->core;
	size_t pending = tls_out_pending(t);
	if (need > cap_limit - pending)
		return -ENOBUFS;
	if (c->out_off && pending + need > c->out_cap - c->out_off) {
		memmove(c->out, c->out + c->out_off, pending);
		c->out_off = 0;
		c->out_len = pending;
	}
	if (c->out_len + need <= c->out_cap)
		return 0;
	size_t cap = MAX(MAX(pending + need, 2 * c->out_cap), (size_t)4096);
	cap = MIN(cap, cap_limit);
	uint8_t *p = tls_alloc(t, cap);
	if (!p)
		return -ENOMEM;
	if (pending)
		memcpy(p, c->out + c->out_off, pending);
	tls_dealloc(t, c->out, c->out_cap);
	c->out = p;
	c->out_cap = cap;
	c->out_off = 0;
	c->out_len = pending;
	return 0;
}

/* Seal the record built in b (header, then inner plaintext, type, tag room) in place (§5.2). */
static int seal_record(struct synack_tls *t, struct bbuf *b, size_t inner_len)
{
	uint8_t nonce[CRYPTO_AEAD_NONCE];
	record_nonce(&t->wr, nonce);
	int r = t->crypto->aead_seal(t->wr.aead, nonce, b->p, 5, b->p + 5, inner_len, b->p + 5);
	t->wr.seq++;
	return r;
}

/* §5.1, §5.2: one record; protected records carry the real type inside
 * TLSInnerPlaintext and show opaque_type 23 outside. */
int tls_record_write(struct synack_tls *t, uint8_t type, const uint8_t *p, size_t n, bool hard)
{
	struct tls_core *c = t->core;
	bool prot = is_protected(&t->wr) && type != TLS_CT_CHANGE_CIPHER_SPEC;
	bool v12 = prot && tls_rules12(t); /* RFC 5246 §6.2.3.3: record12.c */
	size_t need = 5 + n + (v12 ? tls12_record_overhead(t) : prot ? 1 + CRYPTO_AEAD_TAG : 0);
	int r = out_grow(t, need, hard ? TLS_OUT_HARD_CAP : TLS_OUT_SOFT_CAP);
	if (r)
		return r;
	if (v12)
		return tls12_record_seal(t, type, p, n, need);
	struct bbuf b = bbuf_make(c->out + c->out_len, need);
	bbuf_u8(&b, prot ? TLS_CT_APPLICATION_DATA : type);
	bbuf_u16(&b, SYNACK_TLS_VERSION_12);
	size_t m = bbuf_vec_open(&b, 2);
	bbuf_put(&b, p, n);
	if (prot) {
		bbuf_u8(&b, type);
		bbuf_zero(&b, CRYPTO_AEAD_TAG);
	}
	bbuf_vec_close(&b, m, 2);
	if (!bbuf_ok(&b))
		return -EINVAL;
	if (prot && (r = seal_record(t, &b, n + 1)) != 0)
		return r;
	c->out_len += b.len;
	t->info.records_out++;
	return 0;
}

int tls_send_handshake(struct synack_tls *t, const uint8_t *msg, size_t len)
{
	if (t->err)
		return t->err;
	for (size_t off = 0; off < len;) {
		size_t n = MIN(len - off, t->send_limit);
		int r = tls_record_write(t, TLS_CT_HANDSHAKE, msg + off, n, true);
		if (r)
			return tls_fail(t, SYNACK_TLS_ALERT_INTERNAL_ERROR,
					"cannot queue a handshake record (%d)", r);
		off += n;
	}
	return 0;
}

/* §D.4: the middlebox-compatibility change_cipher_spec, always in the clear. */
int tls_send_ccs(struct synack_tls *t)
{
	static const uint8_t one = 1;
	if (t->err)
		return t->err;
	int r = tls_record_write(t, TLS_CT_CHANGE_CIPHER_SPEC, &one, 1, true);
	if (r)
		return tls_fail(t, SYNACK_TLS_ALERT_INTERNAL_ERROR, "cannot queue change_cipher_spec");
	tls_trace(t, true, TLS_CT_CHANGE_CIPHER_SPEC, 1, TLS_EPOCH_PLAINTEXT, 1, "ChangeCipherSpec");
	return 0;
}

/* §6: an alert (level ignored by TLS 1.3 peers: 1 for close_notify, 2 otherwise). */
int tls_send_alert(struct synack_tls *t, int alert)
{
	uint8_t a[2] = {alert == SYNACK_TLS_ALERT_CLOSE_NOTIFY ? 1 : 2, (uint8_t)alert};
	tls_trace(t, true, TLS_CT_ALERT, (uint8_t)alert, t->wr.epoch, 2, "Alert %s",
		  synack_tls_alert_name(alert));
	return tls_record_write(t, TLS_CT_ALERT, a, sizeof a, true);
}

/* ---- KeyUpdate (§4.6.3, §7.2) ---- */

static int next_keys(struct synack_tls *t, int dir)
{
	struct tls_keys *k = dir == TLS_WRITE ? &t->wr : &t->rd;
	uint8_t next[CRYPTO_HASH_MAX];
	const struct tls_suite *s = k->suite;
	int r = tls_next_traffic_secret(t->crypto, s->hash, k->secret, next);
	if (r) {
		tls_wipe(next, sizeof next);
		return tls_fail(t, SYNACK_TLS_ALERT_INTERNAL_ERROR, "KeyUpdate derivation failed");
	}
	r = install_keys(t, dir, TLS_EPOCH_APPLICATION, s, next);
	tls_wipe(next, sizeof next);
	t->info.key_updates++;
	tls_event(t, SYNACK_TLS_EV_KEY_UPDATE);
	return r;
}

int tls_key_update_send(struct synack_tls *t, bool request_peer)
{
	uint8_t msg[5];
	if (t->err)
		return t->err;
	if (tls_rules12(t)) /* RFC 5246 has no KeyUpdate */
		return -EOPNOTSUPP;
	if (!t->hs_done || t->wr.epoch != TLS_EPOCH_APPLICATION)
		return -EAGAIN;
	struct bbuf b = bbuf_make(msg, sizeof msg);
	bbuf_u8(&b, TLS_HS_KEY_UPDATE);
	size_t m = bbuf_vec_open(&b, 3);
	bbuf_u8(&b, request_peer ? 1 : 0);
	bbuf_vec_close(&b, m, 3);
	tls_trace(t, true, TLS_CT_HANDSHAKE, TLS_HS_KEY_UPDATE, t->wr.epoch, (uint32_t)b.len, "KeyUpdate %s",
		  request_peer ? "update_requested" : "update_not_requested");
	int r = tls_send_handshake(t, msg, b.len);
	return r ? r : next_keys(t, TLS_WRITE);
}

int tls_key_update_recv(struct synack_tls *t, const uint8_t *msg, size_t len)
{
	struct brd r = brd_make(msg, len);
	brd_u8(&r);
	struct brd body = brd_vec(&r, 3);
	uint8_t req = brd_u8(&body);
	if (tls_rules12(t)) /* RFC 5246 §7.4: no such message */
		return tls_fail(t, SYNACK_TLS_ALERT_UNEXPECTED_MESSAGE, "KeyUpdate in TLS 1.2");
	if (!brd_done(&r) || !brd_done(&body))
		return tls_fail(t, SYNACK_TLS_ALERT_DECODE_ERROR, "KeyUpdate of %zu bytes", len);
	if (!t->hs_done || t->rd.epoch != TLS_EPOCH_APPLICATION)
		return tls_fail(t, SYNACK_TLS_ALERT_UNEXPECTED_MESSAGE,
				"KeyUpdate before the handshake completed");
	if (req > 1)
		return tls_fail(t, SYNACK_TLS_ALERT_ILLEGAL_PARAMETER, "KeyUpdate request_update=%u", req);
	tls_trace(t, false, TLS_CT_HANDSHAKE, TLS_HS_KEY_UPDATE, t->rd.epoch, (uint32_t)len, "KeyUpdate %s",
		  req ? "update_requested" : "update_not_requested");
	int e = next_keys(t, TLS_READ);
	t->core->ku_asked = false;
	/* §4.6.3: answer update_requested with our own, before more data. */
	if (!e && req && !t->closed)
		e = tls_key_update_send(t, false);
	return e;
}

/* §5.5: update our keys before the AEAD limit; ask the peer for its own. */
static int aead_limits(struct synack_tls *t)
{
	struct tls_core *c = t->core;
	if (tls_rules12(t)) /* no KeyUpdate; seq never wraps (tls12_record_seal) */
		return 0;
	if (t->wr.seq >= c->ku_limit)
		return tls_key_update_send(t, false);
	return 0;
}

/* ---- input: header, body, dispatch ---- */

static bool known_type(uint8_t type)
{
	return type >= TLS_CT_CHANGE_CIPHER_SPEC && type <= TLS_CT_APPLICATION_DATA;
}

/* §5.1, §5.2: the type-dependent header checks of TLS 1.3 records. */
static int header13(struct synack_tls *t, uint8_t type, uint16_t len)
{
	bool prot = is_protected(&t->rd);
	bool sealed = prot || t->skip_early; /* type 23 before keys: 0-RTT being skipped */
	size_t max = sealed && type == TLS_CT_APPLICATION_DATA ? TLS_MAX_CIPHERTEXT : TLS_MAX_PLAINTEXT;
	if (len > max)
		return tls_fail(t, SYNACK_TLS_ALERT_RECORD_OVERFLOW, "record of %u bytes (limit %zu)", len,
				max);
	if (prot &&
	    (type == TLS_CT_HANDSHAKE || (type == TLS_CT_ALERT && t->rd.epoch == TLS_EPOCH_APPLICATION)))
		return tls_fail(t, SYNACK_TLS_ALERT_UNEXPECTED_MESSAGE, "unprotected record of type %u",
				type);
	if (!prot && type == TLS_CT_APPLICATION_DATA && !t->skip_early)
		return tls_fail(t, SYNACK_TLS_ALERT_UNEXPECTED_MESSAGE, "application data before keys");
	return 0;
}

/* Whether p[0..n) is printable ASCII: a plain-text protocol (HTTP, SMTP)
 * where a TLS record was expected, for an error an operator understands. */
static bool printable(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] < 0x20 || p[i] > 0x7e)
			return false;
	return true;
}

/* §5.1, §5.2: check the header before keeping a byte of the body. */
static int record_header(struct synack_tls *t)
{
	struct tls_core *c = t->core;
	struct brd r = brd_make(c->hdr, sizeof c->hdr);
	uint8_t type = brd_u8(&r);
	uint16_t version = brd_u16(&r), len = brd_u16(&r);
	bool prot = is_protected(&t->rd);
	if (!known_type(type) && !t->info.records_in && printable(c->hdr, sizeof c->hdr))
		return tls_fail(t, SYNACK_TLS_ALERT_UNEXPECTED_MESSAGE,
				"the peer does not speak TLS: its first bytes are text (\"%.5s\")",
				(const char *)c->hdr);
	if (!known_type(type))
		return tls_fail(t, SYNACK_TLS_ALERT_UNEXPECTED_MESSAGE, "record of unknown content type %u",
				type);
	if (version != SYNACK_TLS_VERSION_12 && !(version == 0x0301 && !prot))
		return tls_fail(t, SYNACK_TLS_ALERT_PROTOCOL_VERSION, "record version 0x%04x", version);
	if (tls_rules12(t) ? tls12_record_header(t, type, len) : header13(t, type, len))
		return t->err;
	if (!c->rec && !(c->rec = tls_alloc(t, TLS_MAX_CIPHERTEXT)))
		return tls_fail(t, SYNACK_TLS_ALERT_INTERNAL_ERROR, "out of memory for a record");
	c->rec_need = len;
	c->rec_have = 0;
	return 0;
}

/* §4.2.10: a server that refused 0-RTT drops the client's early records
 * (they do not open under the handshake keys, or come before any keys) as
 * long as its budget lasts. true: this record was dropped. */
#define RECORD_SKIPPED 1
static bool skip_early(struct synack_tls *t)
{
	size_t n = t->core->rec_need;
	if (t->skip_early < n)
		return false;
	t->skip_early -= (uint32_t)n;
	tls_trace(t, false, TLS_CT_APPLICATION_DATA, 0, TLS_EPOCH_EARLY, (uint32_t)n,
		  "early data skipped (%zu bytes)", n);
	return true;
}

/* §5.2, §5.4: open a protected record in place; *type and *len become the
 * inner content type and content length. */
static int record_open(struct synack_tls *t, uint8_t *type, size_t *len)
{
	struct tls_core *c = t->core;
	uint8_t nonce[CRYPTO_AEAD_NONCE];
	if (c->rec_need < CRYPTO_AEAD_TAG)
		return tls_fail(t, SYNACK_TLS_ALERT_BAD_RECORD_MAC, "protected record of %zu bytes",
				c->rec_need);
	if (t->rd.seq == UINT64_MAX)
		return tls_fail(t, SYNACK_TLS_ALERT_INTERNAL_ERROR, "read sequence number exhausted");
	record_nonce(&t->rd, nonce);
	int r = t->crypto->aead_open(t->rd.aead, nonce, c->hdr, sizeof c->hdr, c->rec, c->rec_need, c->rec);
	if (r == -EBADMSG && t->rd.epoch == TLS_EPOCH_HANDSHAKE && skip_early(t))
		return RECORD_SKIPPED;
	if (r == -EBADMSG)
		return tls_fail(t, SYNACK_TLS_ALERT_BAD_RECORD_MAC, "record %llu does not authenticate",
				(unsigned long long)t->rd.seq);
	if (r)
		return tls_fail(t, SYNACK_TLS_ALERT_INTERNAL_ERROR, "record decryption failed (%d)", r);
	t->rd.seq++;
	t->skip_early = 0; /* §4.2.10: skipping ends at the first record that opens */
	size_t n = c->rec_need - CRYPTO_AEAD_TAG;
	if (n > TLS_MAX_PLAINTEXT + 1)
		return tls_fail(t, SYNACK_TLS_ALERT_RECORD_OVERFLOW, "inner plaintext of %zu bytes", n);
	while (n && c->rec[n - 1] == 0) /* §5.4: strip the zero padding */
		n--;
	if (!n)
		return tls_fail(t, SYNACK_TLS_ALERT_UNEXPECTED_MESSAGE, "record without a content type");
	*type = c->rec[n - 1];
	*len = n - 1;
	if (*type == TLS_CT_CHANGE_CIPHER_SPEC || !known_type(*type))
		return tls_fail(t, SYNACK_TLS_ALERT_UNEXPECTED_MESSAGE, "protected record of type %u", *type);
	return 0;
}

/* §6: alerts are two bytes; close_notify ends the peer's side, every
 * other alert but user_canceled is fatal. */
static int alert_input(struct synack_tls *t, const uint8_t *p, size_t n)
{
	if (n != 2)
		return tls_fail(t, SYNACK_TLS_ALERT_DECODE_ERROR, "alert of %zu bytes", n);
	uint8_t desc = p[1];
	tls_trace(t, false, TLS_CT_ALERT, desc, t->rd.epoch, 2, "Alert %s", synack_tls_alert_name(desc));
	if (desc == SYNACK_TLS_ALERT_CLOSE_NOTIFY) {
		t->peer_closed = true;
		tls_event(t, SYNACK_TLS_EV_CLOSE_NOTIFY);
		return 0;
	}
	if (desc == SYNACK_TLS_ALERT_USER_CANCELED)
		return 0;
	t->err = SYNACK_TLS_ERR_RECEIVED(desc);
	snprintf(t->detail, sizeof t->detail, "peer sent alert %s", synack_tls_alert_name(desc));
	tls_event(t, SYNACK_TLS_EV_ERROR);
	return t->err;
}

/* §5: a change_cipher_spec of the single byte 0x01 is dropped (after the
 * handshake layer sees it) until the handshake completes. */
static int ccs_input(struct synack_tls *t, const uint8_t *p, size_t n)
{
	if (n != 1 || p[0] != 1)
		return tls_fail(t, SYNACK_TLS_ALERT_UNEXPECTED_MESSAGE, "malformed change_cipher_spec");
	if (t->hs_done || !t->started)
		return tls_fail(t, SYNACK_TLS_ALERT_UNEXPECTED_MESSAGE,
				"change_cipher_spec after the handshake");
	tls_trace(t, false, TLS_CT_CHANGE_CIPHER_SPEC, 1, TLS_EPOCH_PLAINTEXT, 1, "ChangeCipherSpec");
	if (t->core->test_sink)
		return (t->core->test_ccs++, 0);
	return tls_hs_ccs(t);
}

static int app_input(struct synack_tls *t, size_t n)
{
	struct tls_core *c = t->core;
	if (t->rd.epoch != TLS_EPOCH_APPLICATION && t->rd.epoch != TLS_EPOCH_EARLY)
		return tls_fail(t, SYNACK_TLS_ALERT_UNEXPECTED_MESSAGE, "application data under %s keys",
				epoch_name(t->rd.epoch));
	if (tls_rules12(t) && !t->hs_done) /* RFC 5246 §7.4.9: only after both Finished */
		return tls_fail(t, SYNACK_TLS_ALERT_UNEXPECTED_MESSAGE, "application data before Finished");
	if (!n) /* §5.1: zero-length application data is allowed */
		return 0;
	c->app_off = 0;
	c->app_len = n;
	tls_event(t, SYNACK_TLS_EV_READABLE);
	tls_trace(t, false, TLS_CT_APPLICATION_DATA, 0, t->rd.epoch, (uint32_t)n, "ApplicationData %zu bytes",
		  n);
	if (!tls_rules12(t) && t->rd.seq >= c->ku_limit && t->hs_done && !c->ku_asked && !t->closed) {
		c->ku_asked = true;
		return tls_key_update_send(t, true);
	}
	return 0;
}

/* ---- handshake message reassembly (§5.1) ---- */

static size_t hs_want(const uint8_t *p, size_t have)
{
	if (have < 4)
		return 4;
	struct brd r = brd_make(p, have);
	brd_u8(&r);
	return 4 + (size_t)brd_u24(&r);
}

static int hsbuf_reserve(struct synack_tls *t, size_t need)
{
	struct tls_core *c = t->core;
	if (need <= c->hs_cap)
		return 0;
	size_t cap = MAX(need, (size_t)256);
	uint8_t *p = tls_alloc(t, cap);
	if (!p)
		return tls_fail(t, SYNACK_TLS_ALERT_INTERNAL_ERROR, "out of memory for a handshake message");
	if (c->hs_len)
		memcpy(p, c->hsbuf, c->hs_len);
	tls_dealloc(t, c->hsbuf, c->hs_cap);
	c->hsbuf = p;
	c->hs_cap = cap;
	return 0;
}

static void hsbuf_release(struct synack_tls *t)
{
	struct tls_core *c = t->core;
	tls_dealloc(t, c->hsbuf, c->hs_cap);
	c->hsbuf = NULL;
	c->hs_len = c->hs_cap = 0;
}

static int hs_too_big(struct synack_tls *t, size_t want)
{
	return tls_fail(t, SYNACK_TLS_ALERT_ILLEGAL_PARAMETER, "handshake message of %zu bytes (limit %u)",
			want - 4, TLS_MAX_HS_MESSAGE);
}

/* The next complete message from p and n: 1 and msg/mlen (in place or in
 * hsbuf), 0 when the rest was buffered as a fragment, or an error. */
static int hs_next(struct synack_tls *t, const uint8_t **p, size_t *n, const uint8_t **msg, size_t *mlen)
{
	struct tls_core *c = t->core;
	size_t want = hs_want(*p, *n);
	if (!c->hs_len && *n >= 4 && want <= *n) {
		if (want > 4 + TLS_MAX_HS_MESSAGE)
			return hs_too_big(t, want);
		*msg = *p;
		*mlen = want;
		*p += want;
		*n -= want;
		return 1;
	}
	while (*n) {
		want = hs_want(c->hsbuf, c->hs_len); /* 4 until the header is in, then checked below */
		size_t take = MIN(want - c->hs_len, *n);
		if (hsbuf_reserve(t, want))
			return t->err;
		memcpy(c->hsbuf + c->hs_len, *p, take);
		c->hs_len += take;
		*p += take;
		*n -= take;
		want = hs_want(c->hsbuf, c->hs_len);
		if (want > 4 + TLS_MAX_HS_MESSAGE)
			return hs_too_big(t, want);
		if (c->hs_len >= 4 && c->hs_len == want) {
			*msg = c->hsbuf;
			*mlen = c->hs_len;
			return 1;
		}
	}
	return 0;
}

static int hs_deliver(struct synack_tls *t, const uint8_t *msg, size_t mlen, int epoch)
{
	struct tls_core *c = t->core;
	if (!t->hs_done) {
		c->hs_total += mlen;
		if (c->hs_total > TLS_MAX_HS_TOTAL)
			return tls_fail(t, SYNACK_TLS_ALERT_ILLEGAL_PARAMETER,
					"handshake larger than %u bytes", TLS_MAX_HS_TOTAL);
	}
	int r;
	if (!c->test_sink)
		r = tls_hs_input(t, msg, mlen, epoch);
	else if (msg[0] == TLS_HS_KEY_UPDATE)
		r = tls_key_update_recv(t, msg, mlen);
	else
		r = (bbuf_put(c->test_sink, msg, mlen), 0);
	if (msg == c->hsbuf)
		hsbuf_release(t);
	if (t->hs_done)
		tls_transcript_free(t);
	return r ? r : t->err;
}

static int hs_input_record(struct synack_tls *t, const uint8_t *p, size_t n, int epoch)
{
	struct tls_core *c = t->core;
	unsigned gen = c->rd_gen;
	if (!n)
		return tls_fail(t, SYNACK_TLS_ALERT_UNEXPECTED_MESSAGE, "empty handshake record");
	if (c->hs_len && c->hs_epoch != epoch)
		return tls_fail(t, SYNACK_TLS_ALERT_UNEXPECTED_MESSAGE,
				"handshake message spans a key change");
	c->hs_epoch = epoch;
	while (n) {
		const uint8_t *msg = NULL;
		size_t mlen = 0;
		int r = hs_next(t, &p, &n, &msg, &mlen);
		if (r <= 0)
			return r;
		if ((r = hs_deliver(t, msg, mlen, epoch)) != 0)
			return r;
		if (c->rd_gen != gen && n) /* §5.1: a key change must fall on a record boundary */
			return tls_fail(t, SYNACK_TLS_ALERT_UNEXPECTED_MESSAGE,
					"data after a key change in one record");
	}
	return 0;
}

/* A complete record is in rec: open it, then dispatch by content type. */
static int record_process(struct synack_tls *t)
{
	struct tls_core *c = t->core;
	uint8_t type = c->hdr[0];
	size_t n = c->rec_need;
	int epoch = TLS_EPOCH_PLAINTEXT, r;
	if (type == TLS_CT_APPLICATION_DATA && !is_protected(&t->rd)) /* header check: skip_early set */
		return skip_early(t)
			   ? 0
			   : tls_fail(t, SYNACK_TLS_ALERT_UNEXPECTED_MESSAGE, "application data before keys");
	if (tls_rules12(t) && is_protected(&t->rd)) { /* RFC 5246 §6.2.3.3 */
		if ((r = tls12_record_open(t, &n)) != 0)
			return r;
		epoch = t->rd.epoch;
	} else if (type == TLS_CT_APPLICATION_DATA) {
		if ((r = record_open(t, &type, &n)) != 0)
			return r == RECORD_SKIPPED ? 0 : r;
		epoch = t->rd.epoch;
	}
	t->info.records_in++;
	if (c->hs_len && type != TLS_CT_HANDSHAKE)
		return tls_fail(t, SYNACK_TLS_ALERT_UNEXPECTED_MESSAGE,
				"record inside a fragmented handshake message");
	switch (type) {
	case TLS_CT_HANDSHAKE:
		return hs_input_record(t, c->rec, n, epoch);
	case TLS_CT_ALERT:
		return alert_input(t, c->rec, n);
	case TLS_CT_CHANGE_CIPHER_SPEC:
		return ccs_input(t, c->rec, n);
	default:
		return app_input(t, n);
	}
}

size_t tls_record_input(struct synack_tls *t, const uint8_t *p, size_t n)
{
	struct tls_core *c = t->core;
	size_t take;
	if (c->hdr_len < sizeof c->hdr) {
		take = MIN(sizeof c->hdr - c->hdr_len, n);
		memcpy(c->hdr + c->hdr_len, p, take);
		c->hdr_len += take;
		if (c->hdr_len < sizeof c->hdr || record_header(t))
			return take;
		p += take;
		n -= take;
	} else {
		take = 0;
	}
	size_t body = MIN(c->rec_need - c->rec_have, n);
	memcpy(c->rec + c->rec_have, p, body);
	c->rec_have += body;
	if (c->rec_have == c->rec_need) {
		c->hdr_len = 0;
		record_process(t);
	}
	return take + body;
}

/* Nothing in flight and nothing held: give the record buffer back. */
void tls_record_idle(struct synack_tls *t)
{
	struct tls_core *c = t->core;
	if (c->rec && !c->hdr_len && !c->app_len) {
		tls_dealloc(t, c->rec, TLS_MAX_CIPHERTEXT);
		c->rec = NULL;
	}
	if (c->out && !tls_out_pending(t)) {
		tls_dealloc(t, c->out, c->out_cap);
		c->out = NULL;
		c->out_off = c->out_len = c->out_cap = 0;
	}
}

void tls_record_free(struct synack_tls *t)
{
	struct tls_core *c = t->core;
	if (c->rec)
		tls_wipe(c->rec, TLS_MAX_CIPHERTEXT);
	c->hdr_len = c->app_len = 0;
	tls_dealloc(t, c->out, c->out_cap);
	c->out = NULL;
	c->out_off = c->out_len = c->out_cap = 0;
	tls_record_idle(t);
	hsbuf_release(t);
	for (int d = 0; d < 2; d++) {
		struct tls_keys *k = d ? &t->wr : &t->rd;
		if (k->aead)
			t->crypto->aead_free(k->aead);
		k->aead = NULL;
		tls_wipe(k, sizeof *k);
	}
}

/* ---- application data (§5.2) ---- */

ssize_t tls_app_write(struct synack_tls *t, const uint8_t *buf, size_t len)
{
	size_t done = 0;
	while (done < len) {
		size_t chunk = MIN(len - done, t->send_limit);
		if (aead_limits(t))
			return t->err;
		int r = tls_record_write(t, TLS_CT_APPLICATION_DATA, buf + done, chunk, false);
		if (r == -ENOBUFS)
			break;
		if (r)
			return tls_fail(t, SYNACK_TLS_ALERT_INTERNAL_ERROR, "cannot seal a record (%d)", r);
		tls_trace(t, true, TLS_CT_APPLICATION_DATA, 0, t->wr.epoch, (uint32_t)chunk,
			  "ApplicationData %zu bytes", chunk);
		done += chunk;
	}
	return done || !len ? (ssize_t)done : -EAGAIN;
}

ssize_t tls_app_read(struct synack_tls *t, uint8_t *buf, size_t cap)
{
	struct tls_core *c = t->core;
	size_t n = MIN(cap, c->app_len);
	memcpy(buf, c->rec + c->app_off, n);
	c->app_off += n;
	c->app_len -= n;
	if (!c->app_len)
		tls_record_idle(t);
	return (ssize_t)n;
}
