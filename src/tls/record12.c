/* The TLS 1.2 record layer (RFC 5246 §6.2; RFC 5288 §3; RFC 7905 §2),
 * beside the TLS 1.3 one in record.c, selected by tls_record_set_version.
 *
 * Implementation notes
 *
 * - The rules are chosen per connection (tls_core.rec_version), not per
 *   record: once the handshake layer has said "1.2", every protected
 *   record in either direction is a GenericAEADCipher (§6.2.3.3) whose
 *   outer type is the real content type; there is no TLSInnerPlaintext and
 *   no padding. record.c keeps the input state machine, reassembly,
 *   alerts, CCS and application data; it calls in here for the header
 *   checks, sealing and opening only.
 * - Keys: tls12_set_keys installs the AEAD and the fixed IV from the key
 *   block with sequence number 0 (§6.1: reset when the pending state
 *   becomes current at ChangeCipherSpec). The epoch is
 *   TLS_EPOCH_APPLICATION: TLS 1.2 has one protected epoch, and Finished is
 *   its first record. record.c therefore also requires hs_done before it
 *   accepts application data under 1.2 rules (§7.4.9).
 * - ChangeCipherSpec is never acted on by the core: it is always in the
 *   clear here (one under read keys would be a renegotiation, which we do
 *   not do: unexpected_message at the header) and goes to tls_hs_ccs,
 *   where the handshake layer installs the read keys if its state allows.
 * - Length caps. §6.2.3 allows fragments up to 2^14 + 2048, but an AEAD
 *   fragment adds at most 8 + 16 bytes, so any fragment longer than
 *   2^14 + 24 has a plaintext above 2^14 (record_overflow, §6.2.1). The
 *   header check rejects protected fragments above TLS_MAX_CIPHERTEXT
 *   (2^14 + 256) with record_overflow at once: same alert, no buffering,
 *   and the record buffer keeps its size.
 * - Opening: tls12_open writes the plaintext after the explicit nonce (in
 *   place); it is moved to the start of rec so the dispatch code is the
 *   same as for 1.3 (one memmove of at most 2^14 bytes).
 * - Empty records: a zero-length application_data record is legal
 *   (§6.2.1) but costs an AEAD operation for 29 bytes of input; more than
 *   TLS12_MAX_EMPTY of them in a row is unexpected_message. */
#include <errno.h>
#include <string.h>

#include "tls/tls12.h"
#include "tls/tls_internal.h"

#define TLS12_MAX_EMPTY 32

static const char *aead_name(int aead)
{
	static const char *const names[] = {"?", "AES-128-GCM", "AES-256-GCM", "ChaCha20-Poly1305"};
	return aead >= 1 && aead <= 3 ? names[aead] : names[0];
}

/* RFC 8446 §5.1 / RFC 5246 §6.2.1: the rules follow the negotiated version. */
int tls_record_set_version(struct synack_tls *t, uint16_t version)
{
	if (version && version != SYNACK_TLS_VERSION_12 && version != SYNACK_TLS_VERSION_13)
		return -EINVAL;
	bool v12 = version == SYNACK_TLS_VERSION_12;
	if (v12 != tls_rules12(t) && (t->rd.aead || t->wr.aead))
		return -EBUSY;
	t->core->rec_version = version;
	return 0;
}

/* RFC 5246 §6.1, §7.1: the pending state becomes current (at
 * ChangeCipherSpec) with sequence number 0; key and IV from the key block
 * (§6.3; fixed IV: RFC 5288 §3, RFC 7905 §2). */
int tls12_set_keys(struct synack_tls *t, int dir, int aead, const uint8_t *key, const uint8_t *iv)
{
	struct tls_keys *k = dir == TLS_WRITE ? &t->wr : &t->rd;
	const struct crypto_ops *c = t->crypto;
	size_t ivlen = tls12_fixed_iv_len(aead);
	if (t->err)
		return t->err;
	if (!tls_rules12(t) || !ivlen || !c->aead_key_len(aead))
		return tls_fail(t, SYNACK_TLS_ALERT_INTERNAL_ERROR, "TLS 1.2 keys (%d) without TLS 1.2 rules",
				aead);
	if (dir == TLS_READ && t->core->hs_len) /* §7.4.9: Finished follows CCS at once */
		return tls_fail(t, SYNACK_TLS_ALERT_UNEXPECTED_MESSAGE,
				"handshake message spans a key change");
	struct crypto_aead *a = c->aead_new(aead, key, dir == TLS_WRITE);
	if (!a)
		return tls_fail(t, SYNACK_TLS_ALERT_INTERNAL_ERROR, "cannot install TLS 1.2 keys");
	if (k->aead)
		c->aead_free(k->aead);
	tls_wipe(k, sizeof *k);
	k->aead = a;
	k->aead_alg = aead;
	memcpy(k->iv, iv, ivlen);
	k->seq = 0;
	k->epoch = TLS_EPOCH_APPLICATION;
	if (dir == TLS_READ) {
		t->core->rd_gen++;
		t->core->empty12 = 0;
	}
	tls_trace(t, dir == TLS_WRITE, 0, 0, k->epoch, 0, "%s keys: TLS 1.2 (%s)",
		  dir == TLS_WRITE ? "write" : "read", aead_name(aead));
	return 0;
}

/* §6.2.1-§6.2.3: checks of a header under 1.2 rules (type and version
 * already checked by record.c). */
int tls12_record_header(struct synack_tls *t, uint8_t type, size_t len)
{
	bool prot = t->rd.aead != NULL;
	size_t max = prot ? TLS_MAX_CIPHERTEXT : TLS_MAX_PLAINTEXT;
	if (len > max)
		return tls_fail(t, SYNACK_TLS_ALERT_RECORD_OVERFLOW, "record of %zu bytes (limit %zu)", len,
				max);
	if (prot && type == TLS_CT_CHANGE_CIPHER_SPEC) /* §7.1; no renegotiation */
		return tls_fail(t, SYNACK_TLS_ALERT_UNEXPECTED_MESSAGE, "change_cipher_spec under read keys");
	if (!prot && type == TLS_CT_APPLICATION_DATA)
		return tls_fail(t, SYNACK_TLS_ALERT_UNEXPECTED_MESSAGE, "application data before keys");
	return 0;
}

/* §6.2.3.3: record_iv (8 for AES-GCM, 0 for ChaCha20-Poly1305) plus the tag. */
size_t tls12_record_overhead(const struct synack_tls *t)
{
	return tls12_explicit_nonce_len(t->wr.aead_alg) + CRYPTO_AEAD_TAG;
}

/* §6.2.3.3: TLSCiphertext = type (the real one), version 0x0303, length,
 * GenericAEADCipher; the explicit nonce is the sequence number (tls12_seal). */
int tls12_record_seal(struct synack_tls *t, uint8_t type, const uint8_t *p, size_t n, size_t need)
{
	struct tls_core *c = t->core;
	size_t flen = need - 5;
	if (t->wr.seq == UINT64_MAX) /* §6.1: sequence numbers do not wrap */
		return -EOVERFLOW;
	struct bbuf b = bbuf_make(c->out + c->out_len, need);
	bbuf_u8(&b, type);
	bbuf_u16(&b, SYNACK_TLS_VERSION_12);
	bbuf_u16(&b, (uint16_t)flen);
	uint8_t *frag = bbuf_reserve(&b, flen);
	if (!bbuf_ok(&b) || flen > 0xffff)
		return -EINVAL;
	int r = tls12_seal(t->crypto, t->wr.aead, t->wr.aead_alg, t->wr.iv, t->wr.seq, type,
			   SYNACK_TLS_VERSION_12, p, n, frag, flen);
	if (r < 0)
		return r;
	if ((size_t)r != flen)
		return -EINVAL;
	t->wr.seq++;
	c->out_len += b.len;
	t->info.records_out++;
	return 0;
}

/* §6.2.1: empty records are legal; bound how many come in a row. */
static int empty_check(struct synack_tls *t, size_t n)
{
	struct tls_core *c = t->core;
	if (n) {
		c->empty12 = 0;
		return 0;
	}
	if (++c->empty12 > TLS12_MAX_EMPTY)
		return tls_fail(t, SYNACK_TLS_ALERT_UNEXPECTED_MESSAGE, "more than %u empty records in a row",
				TLS12_MAX_EMPTY);
	return 0;
}

/* §6.2.3.3: open the record in rec under the read keys; the additional
 * data is seq_num + the OUTER type + version + plaintext length. */
int tls12_record_open(struct synack_tls *t, size_t *len)
{
	struct tls_core *c = t->core;
	struct brd h = brd_make(c->hdr, sizeof c->hdr);
	uint8_t type = brd_u8(&h);
	uint16_t version = brd_u16(&h);
	size_t x = tls12_explicit_nonce_len(t->rd.aead_alg);
	if (t->rd.seq == UINT64_MAX) /* §6.1 */
		return tls_fail(t, SYNACK_TLS_ALERT_INTERNAL_ERROR, "read sequence number exhausted");
	int r = tls12_open(t->crypto, t->rd.aead, t->rd.aead_alg, t->rd.iv, t->rd.seq, type, version, c->rec,
			   c->rec_need, c->rec + x, TLS_MAX_CIPHERTEXT - x);
	if (r == -EBADMSG)
		return tls_fail(t, SYNACK_TLS_ALERT_BAD_RECORD_MAC, "record %llu does not authenticate",
				(unsigned long long)t->rd.seq);
	if (r == -EMSGSIZE)
		return tls_fail(t, SYNACK_TLS_ALERT_RECORD_OVERFLOW, "record of %zu bytes", c->rec_need);
	if (r < 0)
		return tls_fail(t, SYNACK_TLS_ALERT_INTERNAL_ERROR, "record decryption failed (%d)", r);
	t->rd.seq++;
	memmove(c->rec, c->rec + x, (size_t)r);
	*len = (size_t)r;
	return empty_check(t, *len);
}
