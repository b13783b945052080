/* What both TLS 1.3 handshakes share: the seam's entry points (dispatch by
 * role), the key schedule steps over the core's tls_ks_*, and the three
 * authentication messages, Certificate (RFC 8446 §4.4.2),
 * CertificateVerify (§4.4.3) and Finished (§4.4.4).
 *
 * Implementation notes
 *
 * Every handler adds the message to the transcript itself, at the point
 * §4.4.1 puts it: CertificateVerify is signed over the hash of the
 * messages before it, Finished over those before it, so the receive
 * handlers hash first and add afterwards.
 *
 * Certificate verification maps libcrypto's verdict to the alerts of §6.2
 * (unknown_ca, certificate_expired, bad_certificate,
 * unsupported_certificate, certificate_revoked). A peer key that cannot
 * make the signature scheme it used, or a scheme we did not offer, is
 * illegal_parameter (§4.4.3); a signature or Finished that does not
 * verify is decrypt_error. */
#include "tls/hs.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* ---- the seam ---- */

int tls_hs_start(struct synack_tls *t)
{
	int err = hs_alloc(t);
	if (err)
		return err;
	return t->role == SYNACK_TLS_CLIENT ? tls_client_start(t) : tls_server_start(t);
}

int tls_hs_input(struct synack_tls *t, const uint8_t *msg, size_t len, int epoch)
{
	if (t->err)
		return t->err;
	if (len < 4)
		return hs_decode_error(t, "handshake message");
	if (t->hs_done && msg[0] == TLS_HS_KEY_UPDATE)
		return tls_key_update_recv(t, msg, len); /* §4.6.3: the core's */
	return t->role == SYNACK_TLS_CLIENT ? tls_client_input(t, msg, len, epoch)
					    : tls_server_input(t, msg, len, epoch);
}

int tls_hs_ccs(struct synack_tls *t)
{
	if (t->err)
		return t->err;
	if (!t->hs || t->hs_done) /* §5: not after the peer's Finished */
		return tls_fail(t, SYNACK_TLS_ALERT_UNEXPECTED_MESSAGE,
				"ChangeCipherSpec after the handshake");
	return t->role == SYNACK_TLS_CLIENT ? tls_client_ccs(t) : tls_server_ccs(t);
}

void tls_hs_free(struct synack_tls *t)
{
	struct tls_hs *hs = t->hs;
	if (!hs)
		return;
	if (hs->kex)
		t->crypto->kex_free(hs->kex);
	if (hs->peer_key)
		t->crypto->pkey_free(hs->peer_key);
	if (hs->cookie)
		tls_dealloc(t, hs->cookie, hs->cookie_len);
	if (hs->raw12)
		tls_dealloc(t, hs->raw12, hs->raw12_cap); /* handshake messages: nothing secret */
	tls_ks_clear(&hs->ks);
	tls_wipe(hs, sizeof *hs);
	tls_dealloc(t, hs, sizeof *hs);
	t->hs = NULL;
}

int hs_alloc(struct synack_tls *t)
{
	if (t->hs)
		return 0;
	t->hs = tls_alloc(t, sizeof *t->hs);
	if (!t->hs)
		return tls_fail(t, SYNACK_TLS_ALERT_INTERNAL_ERROR, "out of memory for the handshake");
	return 0;
}

/* ---- small helpers ---- */

struct brd hs_body(const uint8_t *msg, size_t len)
{
	return brd_make(msg + 4, len - 4);
}

int hs_decode_error(struct synack_tls *t, const char *what)
{
	return tls_fail(t, SYNACK_TLS_ALERT_DECODE_ERROR, "malformed %s", what);
}

int hs_unexpected(struct synack_tls *t, const uint8_t *msg, const char *state)
{
	return tls_fail(t, SYNACK_TLS_ALERT_UNEXPECTED_MESSAGE, "handshake message %u while %s", msg[0],
			state);
}

int hs_expect(struct synack_tls *t, const uint8_t *msg, int epoch, uint8_t type, int want_epoch,
	      const char *state)
{
	if (msg[0] != type || epoch != want_epoch)
		return hs_unexpected(t, msg, state);
	return 0;
}

int hs_transcript(struct synack_tls *t, const uint8_t *msg, size_t len)
{
	if (tls_transcript_add(t, msg, len))
		return tls_fail(t, SYNACK_TLS_ALERT_INTERNAL_ERROR, "transcript");
	return t->hs->keep_raw12 ? hs_raw12_add(t, msg, len) : 0;
}

/* TLS 1.2's CertificateVerify signs the handshake messages themselves
 * (RFC 5246 §7.4.8), not a hash we could carry: the handshake keeps them,
 * within the handshake's cap, while a client certificate may be asked
 * for or sent. */
int hs_raw12_add(struct synack_tls *t, const uint8_t *msg, size_t len)
{
	struct tls_hs *hs = t->hs;
	if (hs->raw12_len + len > TLS_MAX_HS_TOTAL)
		return tls_fail(t, SYNACK_TLS_ALERT_INTERNAL_ERROR, "handshake larger than %d bytes",
				TLS_MAX_HS_TOTAL);
	if (hs->raw12_len + len > hs->raw12_cap) {
		size_t cap = hs->raw12_cap ? hs->raw12_cap : 4096;
		while (cap < hs->raw12_len + len)
			cap *= 2;
		uint8_t *p = tls_alloc(t, cap);
		if (!p)
			return tls_fail(t, SYNACK_TLS_ALERT_INTERNAL_ERROR, "out of memory");
		if (hs->raw12) {
			memcpy(p, hs->raw12, hs->raw12_len);
			tls_dealloc(t, hs->raw12, hs->raw12_cap);
		}
		hs->raw12 = p;
		hs->raw12_cap = cap;
	}
	memcpy(hs->raw12 + hs->raw12_len, msg, len);
	hs->raw12_len += len;
	return 0;
}

int hs_send(struct synack_tls *t, const uint8_t *msg, size_t len)
{
	int err = tls_send_handshake(t, msg, len);
	if (err)
		return t->err ? t->err : tls_fail(t, SYNACK_TLS_ALERT_INTERNAL_ERROR, "output full");
	return hs_transcript(t, msg, len);
}

void hs_random(struct synack_tls *t, void *buf, size_t n)
{
	t->cfg->rng.fill(t->cfg->rng.ctx, buf, n);
}

int hs_kex_new(struct synack_tls *t, uint16_t group, uint8_t *pub, size_t cap, size_t *len)
{
	const struct crypto_ops *c = t->crypto;
	uint8_t priv[CRYPTO_KEX_PRIV_MAX];
	size_t plen = c->kex_priv_len(group);
	int err = -EINVAL;
	if (t->hs->kex)
		c->kex_free(t->hs->kex), t->hs->kex = NULL;
	for (int i = 0; i < 8 && plen && plen <= sizeof priv && err == -EINVAL; i++) {
		hs_random(t, priv, plen); /* NIST scalar out of range: draw again */
		err = c->kex_new(group, priv, plen, &t->hs->kex);
	}
	tls_wipe(priv, sizeof priv);
	if (!err)
		err = c->kex_public(t->hs->kex, pub, cap, len);
	if (err)
		return tls_fail(t, SYNACK_TLS_ALERT_INTERNAL_ERROR, "key share for group 0x%04x (%d)", group,
				err);
	return 0;
}

/* ---- key schedule steps (§7.1) ---- */

int hs_ks_handshake(struct synack_tls *t, const uint8_t *peer_share, size_t len)
{
	struct tls_hs *hs = t->hs;
	uint8_t dhe[CRYPTO_KEX_SECRET_MAX], th[CRYPTO_HASH_MAX];
	size_t dlen = 0;
	/* §4.2.8.1/.2: a bad share (not on the curve, all-zero X25519) */
	if (t->crypto->kex_derive(hs->kex, peer_share, len, dhe, sizeof dhe, &dlen))
		return tls_fail(t, SYNACK_TLS_ALERT_ILLEGAL_PARAMETER, "bad key share");
	int err = tls_ks_handshake(&hs->ks, dhe, dlen);
	tls_wipe(dhe, sizeof dhe);
	err = err ? err : tls_transcript_hash(t, th);
	err = err ? err : tls_ks_derive(&hs->ks, TLS_LABEL_C_HS_TRAFFIC, th, hs->c_hs);
	err = err ? err : tls_ks_derive(&hs->ks, TLS_LABEL_S_HS_TRAFFIC, th, hs->s_hs);
	if (err)
		return tls_fail(t, SYNACK_TLS_ALERT_INTERNAL_ERROR, "handshake key schedule");
	tls_keylog(t, "CLIENT_HANDSHAKE_TRAFFIC_SECRET", t->client_random, hs->c_hs, hs->hlen);
	tls_keylog(t, "SERVER_HANDSHAKE_TRAFFIC_SECRET", t->client_random, hs->s_hs, hs->hlen);
	return 0;
}

int hs_ks_master(struct synack_tls *t)
{
	struct tls_hs *hs = t->hs;
	uint8_t th[CRYPTO_HASH_MAX], exp[CRYPTO_HASH_MAX];
	int err = tls_ks_master(&hs->ks);
	err = err ? err : tls_transcript_hash(t, th);
	err = err ? err : tls_ks_derive(&hs->ks, TLS_LABEL_C_AP_TRAFFIC, th, hs->c_ap);
	err = err ? err : tls_ks_derive(&hs->ks, TLS_LABEL_S_AP_TRAFFIC, th, hs->s_ap);
	err = err ? err : tls_ks_derive(&hs->ks, TLS_LABEL_EXP_MASTER, th, exp);
	if (err)
		return tls_fail(t, SYNACK_TLS_ALERT_INTERNAL_ERROR, "master key schedule");
	tls_keylog(t, "CLIENT_TRAFFIC_SECRET_0", t->client_random, hs->c_ap, hs->hlen);
	tls_keylog(t, "SERVER_TRAFFIC_SECRET_0", t->client_random, hs->s_ap, hs->hlen);
	tls_keylog(t, "EXPORTER_SECRET", t->client_random, exp, hs->hlen);
	tls_wipe(exp, sizeof exp);
	return 0;
}

int hs_ks_resumption(struct synack_tls *t)
{
	uint8_t th[CRYPTO_HASH_MAX];
	int err = tls_transcript_hash(t, th);
	err = err ? err : tls_ks_derive(&t->hs->ks, TLS_LABEL_RES_MASTER, th, t->resumption_secret);
	if (err)
		return tls_fail(t, SYNACK_TLS_ALERT_INTERNAL_ERROR, "resumption secret");
	return 0;
}

int hs_binder(struct synack_tls *t, int hash, const uint8_t *psk, size_t psk_len, const uint8_t *thash,
	      uint8_t *out)
{
	struct tls_schedule ks;
	uint8_t key[CRYPTO_HASH_MAX];
	int err = tls_ks_early(&ks, t->crypto, hash, psk, psk_len);
	err = err ? err : tls_ks_binder_key(&ks, false, key);
	err = err ? err : tls_binder_mac(t->crypto, hash, key, thash, out);
	tls_ks_clear(&ks);
	tls_wipe(key, sizeof key);
	return err;
}

void hs_done(struct synack_tls *t)
{
	t->hs_done = true;
	t->info.version = SYNACK_TLS_VERSION_13;
	tls_event(t, SYNACK_TLS_EV_HANDSHAKE_DONE);
}

/* RFC 8449 §4: the peer's limit counts the content type byte in 1.3. */
int hs_apply_rsl(struct synack_tls *t, const struct tls_exts *x)
{
	if (!(x->present & XBIT(X_RSL)))
		return 0;
	if (x->rsl < 64)
		return tls_fail(t, SYNACK_TLS_ALERT_ILLEGAL_PARAMETER, "record_size_limit %u", x->rsl);
	size_t lim = (size_t)x->rsl - 1;
	if (t->send_limit == 0 || lim < t->send_limit)
		t->send_limit = lim;
	return 0;
}

/* ---- signature schemes ---- */

uint16_t hs_pick_sigscheme(struct synack_tls *t, const uint16_t *peer, size_t n)
{
	const struct synack_tls_config *cfg = t->cfg;
	if (!cfg->key)
		return 0;
	for (size_t i = 0; i < cfg->nsigschemes; i++) {
		uint16_t s = cfg->sigschemes[i];
		/* §4.2.3: RSASSA-PKCS1-v1_5 is not for TLS 1.3 handshakes */
		if ((s & 0xff) == 0x01)
			continue;
		if (tls_list_has(peer, n, s) && t->crypto->pkey_can(cfg->key, s))
			return s;
	}
	return 0;
}

/* ---- Certificate (§4.4.2) ---- */

/* One Certificate builder for both versions: TLS 1.3 (RFC 8446 §4.4.2)
 * adds the request context and an (empty) extensions block per entry to
 * TLS 1.2's bare certificate_list (RFC 5246 §7.4.2). */
static int send_cert(struct synack_tls *t, const uint8_t *ctx, size_t ctx_len, size_t n, bool v13)
{
	const struct synack_tls_config *cfg = t->cfg;
	size_t cap = 4 + (v13 ? 1 + ctx_len : 0) + 3;
	for (size_t i = 0; i < n; i++)
		cap += 3 + cfg->chain_lens[i] + (v13 ? 2 : 0);
	if (cap > TLS_MAX_HS_MESSAGE)
		return tls_fail(t, SYNACK_TLS_ALERT_INTERNAL_ERROR, "our certificate chain is too long");
	uint8_t *buf = tls_alloc(t, cap);
	if (!buf)
		return tls_fail(t, SYNACK_TLS_ALERT_INTERNAL_ERROR, "out of memory");
	struct bbuf b = bbuf_make(buf, cap);
	bbuf_u8(&b, TLS_HS_CERTIFICATE);
	size_t m = bbuf_vec_open(&b, 3);
	if (v13) {
		size_t c = bbuf_vec_open(&b, 1);
		bbuf_put(&b, ctx, ctx_len);
		bbuf_vec_close(&b, c, 1);
	}
	size_t l = bbuf_vec_open(&b, 3);
	for (size_t i = 0; i < n; i++) {
		size_t e = bbuf_vec_open(&b, 3);
		bbuf_put(&b, cfg->chain[i], cfg->chain_lens[i]);
		bbuf_vec_close(&b, e, 3);
		if (v13)
			bbuf_u16(&b, 0); /* no extensions */
	}
	bbuf_vec_close(&b, l, 3);
	bbuf_vec_close(&b, m, 3);
	int err = bbuf_ok(&b) ? hs_send(t, b.p, b.len) : tls_fail(t, SYNACK_TLS_ALERT_INTERNAL_ERROR, "cert");
	char subject[128] = ""; /* only for the trace: parsing our own certificate costs half a handshake */
	if (n && tls_tracing(t) &&
	    t->crypto->cert_subject(cfg->chain[0], cfg->chain_lens[0], subject, sizeof subject))
		subject[0] = 0;
	if (!err)
		HS_TRACE_OUT(t, b.p, b.len, "Certificate %s%s(%zu certs)", subject, n ? " " : "", n);
	tls_dealloc(t, buf, cap);
	return err;
}

int hs_send_certificate(struct synack_tls *t, const uint8_t *ctx, size_t ctx_len, bool empty)
{
	return send_cert(t, ctx, ctx_len, empty ? 0 : t->cfg->chain_n, true);
}

int hs_send_certificate12(struct synack_tls *t, bool empty)
{
	return send_cert(t, NULL, 0, empty ? 0 : t->cfg->chain_n, false);
}

static int cert_alert(int result)
{
	switch (result) {
	case CRYPTO_CERT_UNKNOWN_CA:
		return SYNACK_TLS_ALERT_UNKNOWN_CA;
	case CRYPTO_CERT_EXPIRED:
		return SYNACK_TLS_ALERT_CERTIFICATE_EXPIRED;
	case CRYPTO_CERT_UNSUPPORTED:
		return SYNACK_TLS_ALERT_UNSUPPORTED_CERTIFICATE;
	case CRYPTO_CERT_REVOKED:
		return SYNACK_TLS_ALERT_CERTIFICATE_REVOKED;
	default: /* CRYPTO_CERT_BAD, CRYPTO_CERT_NAME */
		return SYNACK_TLS_ALERT_BAD_CERTIFICATE;
	}
}

struct chain {
	const uint8_t *der[TLS_HS_MAX_CHAIN];
	size_t len[TLS_HS_MAX_CHAIN];
	size_t n;
};

/* certificate_list: in TLS 1.3 entries with empty (or unsolicited-free)
 * extensions (RFC 8446 §4.4.2), in TLS 1.2 bare ASN.1Cert<1..2^24-1>
 * (RFC 5246 §7.4.2). */
static int parse_chain(struct synack_tls *t, struct brd *list, struct chain *ch, bool v13)
{
	while (brd_ok(list) && brd_left(list)) {
		struct brd der = brd_vec(list, 3);
		if (!brd_ok(&der) || der.len == 0)
			return hs_decode_error(t, "Certificate");
		if (v13) {
			struct brd exts = brd_vec(list, 2);
			struct tls_exts x;
			const char *why = "";
			if (!brd_ok(&exts))
				return hs_decode_error(t, "Certificate");
			int alert = tls_ext_parse(&exts, TLS_CTX_CT, 0, &x, &why);
			if (alert)
				return tls_fail(t, alert, "Certificate: %s", why);
		}
		if (ch->n == TLS_HS_MAX_CHAIN)
			return tls_fail(t, SYNACK_TLS_ALERT_BAD_CERTIFICATE, "chain longer than %d",
					TLS_HS_MAX_CHAIN);
		ch->der[ch->n] = der.p;
		ch->len[ch->n++] = der.len;
	}
	return brd_done(list) ? 0 : hs_decode_error(t, "Certificate");
}

static int verify_chain(struct synack_tls *t, const struct chain *ch)
{
	const struct synack_tls_config *cfg = t->cfg;
	bool server_auth = t->role == SYNACK_TLS_CLIENT;
	char why[128] = "";
	if (!cfg->verify)
		return 0;
	if (!cfg->store)
		return tls_fail(t, SYNACK_TLS_ALERT_UNKNOWN_CA, "no trust anchors configured");
	const char *name = server_auth && t->server_name[0] ? t->server_name : NULL;
	int64_t now = cfg->clock.unix_ms(cfg->clock.ctx) / 1000;
	int r = t->crypto->cert_verify(cfg->store, ch->der, ch->len, ch->n, name, now, server_auth, why,
				       sizeof why);
	if (r != CRYPTO_CERT_OK)
		return tls_fail(t, cert_alert(r), "peer certificate: %s", why);
	t->info.peer_verified = true;
	return 0;
}

static int recv_certificate(struct synack_tls *t, const uint8_t *msg, size_t len, int epoch, bool v13)
{
	struct tls_hs *hs = t->hs;
	struct brd r = hs_body(msg, len);
	struct brd ctx = v13 ? brd_vec(&r, 1) : brd_make(NULL, 0);
	struct brd list = brd_vec(&r, 3);
	struct chain ch = {.n = 0};
	if (!brd_done(&r))
		return hs_decode_error(t, "Certificate");
	/* §4.4.2: the context echoes the CertificateRequest's (empty otherwise) */
	if (ctx.len != hs->cr_ctx_len || (ctx.len && memcmp(ctx.p, hs->cr_ctx, ctx.len)))
		return tls_fail(t, SYNACK_TLS_ALERT_ILLEGAL_PARAMETER,
				"certificate_request_context mismatch");
	int err = parse_chain(t, &list, &ch, v13);
	if (err)
		return err;
	if (ch.n == 0) {
		HS_TRACE_IN(t, msg, len, epoch, "Certificate (empty)");
		return hs_transcript(t, msg, len); /* the caller decides (§4.4.2.4) */
	}
	hs->peer_key = t->crypto->cert_pubkey(ch.der[0], ch.len[0]);
	if (!hs->peer_key)
		return tls_fail(t, SYNACK_TLS_ALERT_BAD_CERTIFICATE, "peer certificate does not parse");
	if (t->crypto->cert_subject(ch.der[0], ch.len[0], t->info.peer_subject, sizeof t->info.peer_subject))
		t->info.peer_subject[0] = 0;
	HS_TRACE_IN(t, msg, len, epoch, "Certificate %s (%zu certs)", t->info.peer_subject, ch.n);
	err = verify_chain(t, &ch);
	if (err)
		return err;
	hs->peer_cert = true;
	return hs_transcript(t, msg, len);
}

int hs_recv_certificate(struct synack_tls *t, const uint8_t *msg, size_t len, int epoch)
{
	return recv_certificate(t, msg, len, epoch, true);
}

int hs_recv_certificate12(struct synack_tls *t, const uint8_t *msg, size_t len, int epoch)
{
	return recv_certificate(t, msg, len, epoch, false);
}

/* ---- CertificateVerify (§4.4.3) ---- */

/* 64 spaces, the context string, a zero byte, the transcript hash. */
static size_t cv_content(struct synack_tls *t, bool server, uint8_t *out)
{
	static const char sctx[] = "TLS 1.3, server CertificateVerify";
	static const char cctx[] = "TLS 1.3, client CertificateVerify";
	memset(out, 0x20, 64);
	memcpy(out + 64, server ? sctx : cctx, sizeof sctx); /* with its NUL */
	if (tls_transcript_hash(t, out + 64 + sizeof sctx))
		return 0;
	return 64 + sizeof sctx + t->hs->hlen;
}

int hs_send_cert_verify(struct synack_tls *t)
{
	uint8_t content[64 + 34 + CRYPTO_HASH_MAX], sig[CRYPTO_SIG_MAX], msg[8 + CRYPTO_SIG_MAX];
	size_t clen = cv_content(t, t->role == SYNACK_TLS_SERVER, content), slen = 0;
	uint16_t s = t->hs->sigscheme;
	if (!clen || t->crypto->sign(t->cfg->key, s, content, clen, sig, sizeof sig, &slen))
		return tls_fail(t, SYNACK_TLS_ALERT_INTERNAL_ERROR, "signing with %s",
				synack_tls_sigscheme_name(s));
	struct bbuf b = bbuf_make(msg, sizeof msg);
	bbuf_u8(&b, TLS_HS_CERTIFICATE_VERIFY);
	size_t m = bbuf_vec_open(&b, 3);
	bbuf_u16(&b, s);
	size_t v = bbuf_vec_open(&b, 2);
	bbuf_put(&b, sig, slen);
	bbuf_vec_close(&b, v, 2);
	bbuf_vec_close(&b, m, 3);
	int err = hs_send(t, msg, b.len);
	if (!err)
		HS_TRACE_OUT(t, msg, b.len, "CertificateVerify %s", synack_tls_sigscheme_name(s));
	return err;
}

int hs_recv_cert_verify(struct synack_tls *t, const uint8_t *msg, size_t len, int epoch)
{
	struct brd r = hs_body(msg, len);
	uint16_t s = brd_u16(&r);
	struct brd sig = brd_vec(&r, 2);
	uint8_t content[64 + 34 + CRYPTO_HASH_MAX];
	if (!brd_done(&r) || sig.len == 0)
		return hs_decode_error(t, "CertificateVerify");
	HS_TRACE_IN(t, msg, len, epoch, "CertificateVerify %s", synack_tls_sigscheme_name(s));
	if (!tls_list_has(t->cfg->sigschemes, t->cfg->nsigschemes, s) || (s & 0xff) == 0x01)
		return tls_fail(t, SYNACK_TLS_ALERT_ILLEGAL_PARAMETER, "signature scheme 0x%04x not offered",
				s);
	if (!t->crypto->pkey_can(t->hs->peer_key, s))
		return tls_fail(t, SYNACK_TLS_ALERT_ILLEGAL_PARAMETER,
				"%s does not match the certificate's key", synack_tls_sigscheme_name(s));
	size_t clen = cv_content(t, t->role == SYNACK_TLS_CLIENT, content);
	if (!clen)
		return tls_fail(t, SYNACK_TLS_ALERT_INTERNAL_ERROR, "transcript");
	if (t->crypto->verify(t->hs->peer_key, s, content, clen, sig.p, sig.len))
		return tls_fail(t, SYNACK_TLS_ALERT_DECRYPT_ERROR,
				"CertificateVerify signature does not verify");
	t->info.sigscheme = s;
	return hs_transcript(t, msg, len);
}

/* ---- Finished (§4.4.4) ---- */

int hs_send_finished(struct synack_tls *t, const uint8_t *base_key)
{
	uint8_t th[CRYPTO_HASH_MAX], msg[4 + CRYPTO_HASH_MAX];
	size_t hl = t->hs->hlen;
	if (tls_transcript_hash(t, th) ||
	    tls_finished_mac(t->crypto, t->hs->suite->hash, base_key, th, msg + 4))
		return tls_fail(t, SYNACK_TLS_ALERT_INTERNAL_ERROR, "Finished");
	msg[0] = TLS_HS_FINISHED;
	msg[1] = 0;
	msg[2] = 0;
	msg[3] = (uint8_t)hl;
	int err = hs_send(t, msg, 4 + hl);
	if (!err)
		HS_TRACE_OUT(t, msg, 4 + hl, "Finished");
	return err;
}

static bool equal_ct(const uint8_t *a, const uint8_t *b, size_t n)
{
	uint8_t d = 0;
	for (size_t i = 0; i < n; i++)
		d |= a[i] ^ b[i];
	return d == 0;
}

int hs_recv_finished(struct synack_tls *t, const uint8_t *msg, size_t len, int epoch, const uint8_t *base_key)
{
	uint8_t th[CRYPTO_HASH_MAX], want[CRYPTO_HASH_MAX];
	size_t hl = t->hs->hlen;
	if (len != 4 + hl)
		return hs_decode_error(t, "Finished");
	HS_TRACE_IN(t, msg, len, epoch, "Finished");
	if (tls_transcript_hash(t, th) || tls_finished_mac(t->crypto, t->hs->suite->hash, base_key, th, want))
		return tls_fail(t, SYNACK_TLS_ALERT_INTERNAL_ERROR, "Finished");
	if (!equal_ct(want, msg + 4, hl))
		return tls_fail(t, SYNACK_TLS_ALERT_DECRYPT_ERROR, "peer Finished does not verify");
	return hs_transcript(t, msg, len);
}
