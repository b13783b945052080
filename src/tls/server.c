/* The TLS 1.3 server handshake (RFC 8446 §2, §4; state machine of
 * Appendix A.2).
 *
 * Implementation notes
 *
 *   START --ClientHello--> (HRR) WAIT_CH2 --ClientHello2--> ...
 *   ... ServerHello, EE, [CR], [Certificate, CertificateVerify], Finished
 *   --> WAIT_CERT (if we asked) --> WAIT_CV --> WAIT_FINISHED --> CONNECTED
 *
 * Negotiation, all in our order of preference: the first of our suites the
 * client offers; the first of our groups the client sent a share for
 * (shares for groups we do not know, such as X25519MLKEM768, are
 * skipped), else the first of our groups in its supported_groups, asked
 * for with a HelloRetryRequest (§4.1.4), else handshake_failure. The
 * server is stateful across the HRR; the HRR still carries a cookie
 * (§4.2.2), Hash(ClientHello1) followed by an HMAC of it under a key from
 * the ticket root, which ClientHello2 must echo byte for byte.
 *
 * A PSK (§4.2.11) is the first identity only, a ticket of ours (sealed
 * state, hs_ticket.c) for the same SNI and ALPN and a suite of the same
 * hash; psk_dhe_ke only. Anything else falls back to a full handshake; a
 * binder that does not verify is decrypt_error.
 *
 * 0-RTT is refused (§4.2.10): no early_data in EncryptedExtensions, and
 * the record layer skips the client's early records (t->skip_early, at
 * most TLS_EARLY_SKIP_MAX bytes): they fail to open under the handshake
 * keys, or arrive before any keys after an HRR. Our own client never
 * sends early data.
 *
 * A first ClientHello that does not offer 1.3, when the configuration
 * allows 1.2 (tls12_server_wants), goes to server12.c, which then owns
 * every message and ChangeCipherSpec of the connection (hs->v12).
 *
 * The server's write keys move to the application epoch right after its
 * Finished (§4.4.4 allows sending data at that point); its read keys stay
 * at the handshake epoch until the client's Finished verifies. */
#include "tls/hs.h"

#include <errno.h>
#include <string.h>

enum tls_server_state {
	S_START,
	S_WAIT_CH2, /* after our HelloRetryRequest */
	S_WAIT_CERT,
	S_WAIT_CV,
	S_WAIT_FINISHED,
	S_CONNECTED,
};

static const uint8_t hrr_random[32] = {0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c,
				       0x02, 0x1e, 0x65, 0xb8, 0x91, 0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb,
				       0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c};
#define SH_CAP 1024

/* What we take from a ClientHello. Pointers into the message. */
struct ch {
	uint16_t legacy_version;
	const uint8_t *random;
	struct brd sid, suites, comp;
	struct tls_exts x;
	const struct tls_share *share; /* the share we use, or NULL */
	uint16_t hrr_group;	       /* else: the group to ask for */
	const uint8_t *alpn;	       /* our choice, length-prefixed */
};

int tls_server_start(struct synack_tls *t)
{
	t->hs->state = S_START;
	return 0;
}

/* ---- ClientHello (§4.1.2) ---- */

static int parse_ch(struct synack_tls *t, const uint8_t *msg, size_t len, struct ch *ch)
{
	struct brd r = hs_body(msg, len);
	ch->legacy_version = brd_u16(&r);
	ch->random = brd_take(&r, 32);
	ch->sid = brd_vec(&r, 1);
	ch->suites = brd_vec(&r, 2);
	ch->comp = brd_vec(&r, 1);
	struct brd exts = brd_vec(&r, 2);
	if (!brd_done(&r) || ch->sid.len > 32 || ch->suites.len < 2 || ch->suites.len % 2 || ch->comp.len < 1)
		return hs_decode_error(t, "ClientHello");
	const char *why = "";
	int alert = tls_ext_parse(&exts, TLS_CTX_CH, ~0u, &ch->x, &why);
	if (alert)
		return tls_fail(t, alert, "ClientHello: %s", why);
	return 0;
}

/* §4.1.2 legacy fields, §4.2.1 supported_versions, §4.2.9. */
static int check_ch_basics(struct synack_tls *t, const struct ch *ch)
{
	if (!(ch->x.present & XBIT(X_VERSIONS)) ||
	    !tls_list_has(ch->x.versions, ch->x.nversions, SYNACK_TLS_VERSION_13))
		return tls_fail(t, SYNACK_TLS_ALERT_PROTOCOL_VERSION, "client does not offer TLS 1.3");
	if (ch->comp.len != 1 || ch->comp.p[0] != 0)
		return tls_fail(t, SYNACK_TLS_ALERT_ILLEGAL_PARAMETER,
				"legacy_compression_methods is not {null}");
	if ((ch->x.present & XBIT(X_PSK)) && !(ch->x.present & XBIT(X_PSK_MODES))) /* §4.2.9 */
		return tls_fail(t, SYNACK_TLS_ALERT_MISSING_EXTENSION,
				"pre_shared_key without psk_key_exchange_modes");
	return 0;
}

static int choose_suite(struct synack_tls *t, const struct ch *ch)
{
	struct tls_hs *hs = t->hs;
	const struct synack_tls_config *cfg = t->cfg;
	for (size_t i = 0; i < cfg->nsuites; i++) {
		struct brd s = ch->suites;
		while (brd_left(&s))
			if (brd_u16(&s) == cfg->suites[i] && tls_suite_find(cfg->suites[i])) {
				const struct tls_suite *su = tls_suite_find(cfg->suites[i]);
				if (hs->suite && hs->suite != su)
					return tls_fail(t, SYNACK_TLS_ALERT_ILLEGAL_PARAMETER,
							"suite changed after HRR");
				hs->suite = su;
				hs->hlen = tls_hash_len(t->crypto, su->hash);
				return 0;
			}
	}
	return tls_fail(t, SYNACK_TLS_ALERT_HANDSHAKE_FAILURE, "no common cipher suite");
}

/* §4.2.8: shares for distinct groups, each one the client supports. */
static int check_shares(struct synack_tls *t, const struct tls_exts *x)
{
	for (size_t i = 0; i < x->nshares; i++) {
		uint16_t g = x->shares[i].group;
		if (!tls_list_has(x->groups, x->ngroups, g) && x->ngroups < TLS_HS_LIST)
			return tls_fail(t, SYNACK_TLS_ALERT_ILLEGAL_PARAMETER,
					"key share for unoffered group 0x%04x", g);
		for (size_t j = 0; j < i; j++)
			if (x->shares[j].group == g)
				return tls_fail(t, SYNACK_TLS_ALERT_ILLEGAL_PARAMETER,
						"two key shares for 0x%04x", g);
	}
	return 0;
}

/* Our group: a share we can use, else one to ask for (§4.2.7, §4.2.8). */
static int choose_group(struct synack_tls *t, struct ch *ch)
{
	const struct synack_tls_config *cfg = t->cfg;
	const struct tls_exts *x = &ch->x;
	if (!(x->present & XBIT(X_GROUPS)) || !(x->present & XBIT(X_KEY_SHARE)))
		return tls_fail(t, SYNACK_TLS_ALERT_MISSING_EXTENSION,
				"ClientHello without supported_groups/key_share");
	int err = check_shares(t, x);
	for (size_t i = 0; !err && i < cfg->ngroups; i++)
		for (size_t j = 0; j < x->nshares; j++)
			if (x->shares[j].group == cfg->groups[i]) {
				ch->share = &x->shares[j];
				return 0;
			}
	for (size_t i = 0; !err && i < cfg->ngroups; i++)
		if (tls_list_has(x->groups, x->ngroups, cfg->groups[i])) {
			ch->hrr_group = cfg->groups[i];
			return 0;
		}
	return err ? err : tls_fail(t, SYNACK_TLS_ALERT_HANDSHAKE_FAILURE, "no common key-exchange group");
}

/* RFC 7301 §3.2: our first protocol the client offers; *alpn gets it,
 * length-prefixed, or NULL. Also for server12.c. */
int tls_server_choose_alpn(struct synack_tls *t, const struct tls_exts *x, const uint8_t **alpn)
{
	const struct synack_tls_config *cfg = t->cfg;
	*alpn = NULL;
	if (!cfg->alpn_len || !(x->present & XBIT(X_ALPN)))
		return 0;
	struct brd mine = brd_make(cfg->alpn, cfg->alpn_len);
	while (brd_left(&mine)) {
		const uint8_t *at = mine.p + mine.off;
		struct brd p = brd_vec(&mine, 1);
		struct brd theirs = brd_make(x->alpn, x->alpn_len);
		while (brd_left(&theirs)) {
			struct brd q = brd_vec(&theirs, 1);
			if (q.len == p.len && !memcmp(p.p, q.p, p.len)) {
				*alpn = at;
				memcpy(t->info.alpn, p.p,
				       p.len < sizeof t->info.alpn ? p.len : sizeof t->info.alpn - 1);
				return 0;
			}
		}
	}
	return tls_fail(t, SYNACK_TLS_ALERT_NO_APPLICATION_PROTOCOL, "no common application protocol");
}

int tls_server_record_sni(struct synack_tls *t, const struct tls_exts *x)
{
	if (!x->sni)
		return 0;
	if (x->sni_len >= sizeof t->info.sni || memchr(x->sni, 0, x->sni_len))
		return tls_fail(t, SYNACK_TLS_ALERT_ILLEGAL_PARAMETER, "bad server_name");
	memcpy(t->info.sni, x->sni, x->sni_len);
	t->info.sni[x->sni_len] = 0;
	return 0;
}

/* Our signature scheme for a certificate handshake (§4.2.3). */
static int choose_sigscheme(struct synack_tls *t, const struct ch *ch)
{
	struct tls_hs *hs = t->hs;
	if (hs->psk_ok)
		return 0;
	if (!(ch->x.present & XBIT(X_SIGALGS)))
		return tls_fail(t, SYNACK_TLS_ALERT_MISSING_EXTENSION,
				"ClientHello without signature_algorithms");
	if (!t->cfg->chain_n)
		return tls_fail(t, SYNACK_TLS_ALERT_INTERNAL_ERROR, "server has no certificate");
	hs->sigscheme = hs_pick_sigscheme(t, ch->x.sigalgs, ch->x.nsigalgs);
	if (!hs->sigscheme)
		return tls_fail(t, SYNACK_TLS_ALERT_HANDSHAKE_FAILURE, "no signature scheme for our key");
	return 0;
}

/* ---- PSK (§4.2.11) ---- */

/* The first identity, if it is a ticket of ours fit for this handshake. */
static bool psk_fits(struct synack_tls *t, const struct ch *ch, uint8_t *scratch, size_t cap,
		     struct tls_session *s)
{
	const struct tls_exts *x = &ch->x;
	const struct tls_suite *su;
	if (!(x->present & XBIT(X_PSK)) || !(x->psk_modes & (1u << TLS_HS_PSK_MODE_DHE)))
		return false;
	if (hs_ticket_open(t, x->psk_id, x->psk_id_len, scratch, cap, s))
		return false;
	su = tls_suite_find(s->suite);
	if (!su || su->hash != t->hs->suite->hash || s->psk_len != t->hs->hlen)
		return false;
	size_t alen = ch->alpn ? ch->alpn[0] : 0;
	if (s->sni_len != strlen(t->info.sni) || memcmp(s->sni, t->info.sni, s->sni_len) ||
	    s->alpn_len != alen || (alen && memcmp(s->alpn, ch->alpn + 1, alen)))
		return false; /* another name or protocol: a full handshake */
	return true;
}

/* §4.2.11.2: the binder over the ClientHello truncated before the binders. */
static int verify_binder(struct synack_tls *t, const struct ch *ch, const uint8_t *msg, size_t len,
			 const struct tls_session *s)
{
	struct tls_hs *hs = t->hs;
	uint8_t th[CRYPTO_HASH_MAX], want[CRYPTO_HASH_MAX];
	int err = tls_transcript_hash_with(t, hs->suite->hash, msg, len - ch->x.binders_len, th);
	err = err ? err : hs_binder(t, hs->suite->hash, s->psk, s->psk_len, th, want);
	if (err)
		return tls_fail(t, SYNACK_TLS_ALERT_INTERNAL_ERROR, "binder");
	if (ch->x.binder_len != hs->hlen || memcmp(want, ch->x.binder, hs->hlen))
		return tls_fail(t, SYNACK_TLS_ALERT_DECRYPT_ERROR, "PSK binder does not verify");
	memcpy(hs->psk, s->psk, s->psk_len);
	hs->psk_len = s->psk_len;
	hs->psk_ok = true;
	t->info.resumed = true;
	return 0;
}

static int check_psk(struct synack_tls *t, const struct ch *ch, const uint8_t *msg, size_t len)
{
	uint8_t scratch[640]; /* >= the sealed state (hs_ticket.c) */
	struct tls_session s;
	int err = psk_fits(t, ch, scratch, sizeof scratch, &s) ? verify_binder(t, ch, msg, len, &s) : 0;
	tls_wipe(scratch, sizeof scratch);
	return err;
}

/* ---- ServerHello and HelloRetryRequest (§4.1.3, §4.1.4) ---- */

static size_t ext_open(struct bbuf *b, uint16_t type)
{
	bbuf_u16(b, type);
	return bbuf_vec_open(b, 2);
}

static void sh_head(struct bbuf *b, const uint8_t *random, const struct ch *ch, uint16_t suite)
{
	bbuf_u8(b, TLS_HS_SERVER_HELLO);
	bbuf_vec_open(b, 3); /* mark 1, closed by sh_close */
	bbuf_u16(b, SYNACK_TLS_VERSION_12);
	bbuf_put(b, random, 32);
	bbuf_u8(b, (uint8_t)ch->sid.len);
	bbuf_put(b, ch->sid.p, ch->sid.len);
	bbuf_u16(b, suite);
	bbuf_u8(b, 0);
	bbuf_vec_open(b, 2); /* extensions: mark 4 + 38 + sid + 3 */
	size_t e = ext_open(b, TLS_EXT_SUPPORTED_VERSIONS);
	bbuf_u16(b, SYNACK_TLS_VERSION_13);
	bbuf_vec_close(b, e, 2);
}

static void sh_close(struct bbuf *b, const struct ch *ch)
{
	bbuf_vec_close(b, 4 + 2 + 32 + 1 + ch->sid.len + 3, 2);
	bbuf_vec_close(b, 1, 3);
}

static int send_ccs_once(struct synack_tls *t, const struct ch *ch)
{
	if (t->hs->ccs_out || ch->sid.len == 0) /* §D.4: only for a compat-mode client */
		return 0;
	t->hs->ccs_out = true;
	return tls_send_ccs(t) ? tls_fail(t, SYNACK_TLS_ALERT_INTERNAL_ERROR, "ChangeCipherSpec") : 0;
}

/* The cookie (§4.2.2): Hash(ClientHello1) || HMAC(key, Hash(ClientHello1)). */
static int make_cookie(struct synack_tls *t, const uint8_t *msg, size_t len)
{
	struct tls_hs *hs = t->hs;
	uint8_t h[CRYPTO_HASH_MAX];
	hs->cookie_len = hs->hlen + 32;
	hs->cookie = tls_alloc(t, hs->cookie_len);
	if (!hs->cookie || t->crypto->hash(hs->suite->hash, msg, len, h) ||
	    t->crypto->hmac(CRYPTO_SHA256, t->cfg->ticket_root, 32, h, hs->hlen, hs->cookie + hs->hlen))
		return tls_fail(t, SYNACK_TLS_ALERT_INTERNAL_ERROR, "cookie");
	memcpy(hs->cookie, h, hs->hlen);
	return 0;
}

static int send_hrr(struct synack_tls *t, const struct ch *ch, const uint8_t *msg, size_t len)
{
	struct tls_hs *hs = t->hs;
	uint8_t buf[SH_CAP];
	struct bbuf b = bbuf_make(buf, sizeof buf);
	int err = make_cookie(t, msg, len);
	if (err)
		return err;
	sh_head(&b, hrr_random, ch, hs->suite->id);
	size_t e = ext_open(&b, TLS_EXT_KEY_SHARE);
	bbuf_u16(&b, ch->hrr_group);
	bbuf_vec_close(&b, e, 2);
	e = ext_open(&b, TLS_EXT_COOKIE);
	size_t c = bbuf_vec_open(&b, 2);
	bbuf_put(&b, hs->cookie, hs->cookie_len);
	bbuf_vec_close(&b, c, 2);
	bbuf_vec_close(&b, e, 2);
	sh_close(&b, ch);
	if (!bbuf_ok(&b) || tls_transcript_hrr(t))
		return tls_fail(t, SYNACK_TLS_ALERT_INTERNAL_ERROR, "HelloRetryRequest");
	if ((err = hs_send(t, b.p, b.len)))
		return err;
	HS_TRACE_OUT(t, b.p, b.len, "HelloRetryRequest suite=%s group=%s cookie", hs->suite->name,
		     synack_tls_group_name(ch->hrr_group));
	hs->group = ch->hrr_group;
	hs->hrr = true;
	t->info.hrr = true;
	hs->state = S_WAIT_CH2;
	return send_ccs_once(t, ch);
}

static int send_server_hello(struct synack_tls *t, const struct ch *ch)
{
	struct tls_hs *hs = t->hs;
	uint8_t buf[SH_CAP], random[32], pub[CRYPTO_KEX_PUB_MAX];
	size_t plen = 0;
	struct bbuf b = bbuf_make(buf, sizeof buf);
	int err = hs_kex_new(t, hs->group, pub, sizeof pub, &plen);
	if (err)
		return err;
	hs_random(t, random, sizeof random);
	sh_head(&b, random, ch, hs->suite->id);
	size_t e = ext_open(&b, TLS_EXT_KEY_SHARE);
	bbuf_u16(&b, hs->group);
	size_t k = bbuf_vec_open(&b, 2);
	bbuf_put(&b, pub, plen);
	bbuf_vec_close(&b, k, 2);
	bbuf_vec_close(&b, e, 2);
	if (hs->psk_ok) {
		e = ext_open(&b, TLS_EXT_PRE_SHARED_KEY);
		bbuf_u16(&b, 0);
		bbuf_vec_close(&b, e, 2);
	}
	sh_close(&b, ch);
	if (!bbuf_ok(&b))
		return tls_fail(t, SYNACK_TLS_ALERT_INTERNAL_ERROR, "ServerHello");
	if ((err = hs_send(t, b.p, b.len)))
		return err;
	HS_TRACE_OUT(t, b.p, b.len, "ServerHello suite=%s group=%s%s", hs->suite->name,
		     synack_tls_group_name(hs->group), hs->psk_ok ? " psk" : "");
	return 0;
}

/* ---- EncryptedExtensions (§4.3.1), CertificateRequest (§4.3.2) ---- */

static int send_ee(struct synack_tls *t, const struct ch *ch)
{
	uint8_t buf[512];
	struct bbuf b = bbuf_make(buf, sizeof buf);
	bbuf_u8(&b, TLS_HS_ENCRYPTED_EXTENSIONS);
	size_t m = bbuf_vec_open(&b, 3), x = bbuf_vec_open(&b, 2);
	if (ch->alpn) {
		size_t e = ext_open(&b, TLS_EXT_ALPN), l = bbuf_vec_open(&b, 2);
		bbuf_put(&b, ch->alpn, 1 + (size_t)ch->alpn[0]);
		bbuf_vec_close(&b, l, 2);
		bbuf_vec_close(&b, e, 2);
	}
	if (ch->x.present & XBIT(X_RSL)) {
		size_t e = ext_open(&b, TLS_EXT_RECORD_SIZE_LIMIT);
		bbuf_u16(&b, TLS_MAX_PLAINTEXT + 1);
		bbuf_vec_close(&b, e, 2);
	}
	if (ch->x.sni) { /* RFC 6066 §3: an empty server_name acknowledges it */
		bbuf_u16(&b, TLS_EXT_SERVER_NAME);
		bbuf_u16(&b, 0);
	}
	bbuf_vec_close(&b, x, 2);
	bbuf_vec_close(&b, m, 3);
	int err = bbuf_ok(&b) ? hs_send(t, b.p, b.len) : tls_fail(t, SYNACK_TLS_ALERT_INTERNAL_ERROR, "EE");
	if (!err)
		HS_TRACE_OUT(t, b.p, b.len, "EncryptedExtensions%s%s", t->info.alpn[0] ? " alpn=" : "",
			     t->info.alpn);
	return err;
}

static int send_cert_request(struct synack_tls *t)
{
	const struct synack_tls_config *cfg = t->cfg;
	uint8_t buf[256];
	struct bbuf b = bbuf_make(buf, sizeof buf);
	bbuf_u8(&b, TLS_HS_CERTIFICATE_REQUEST);
	size_t m = bbuf_vec_open(&b, 3);
	bbuf_u8(&b, 0); /* certificate_request_context: empty in the handshake */
	size_t x = bbuf_vec_open(&b, 2);
	size_t e = ext_open(&b, TLS_EXT_SIGNATURE_ALGORITHMS), l = bbuf_vec_open(&b, 2);
	for (size_t i = 0; i < cfg->nsigschemes; i++)
		bbuf_u16(&b, cfg->sigschemes[i]);
	bbuf_vec_close(&b, l, 2);
	bbuf_vec_close(&b, e, 2);
	bbuf_vec_close(&b, x, 2);
	bbuf_vec_close(&b, m, 3);
	int err = bbuf_ok(&b) ? hs_send(t, b.p, b.len) : tls_fail(t, SYNACK_TLS_ALERT_INTERNAL_ERROR, "CR");
	if (!err)
		HS_TRACE_OUT(t, b.p, b.len, "CertificateRequest");
	t->hs->cert_req = true;
	return err;
}

/* ---- the server's flight ---- */

static int server_keys(struct synack_tls *t, const struct ch *ch)
{
	struct tls_hs *hs = t->hs;
	if (tls_ks_early(&hs->ks, t->crypto, hs->suite->hash, hs->psk_ok ? hs->psk : NULL, hs->psk_len))
		return tls_fail(t, SYNACK_TLS_ALERT_INTERNAL_ERROR, "early secret");
	int err = hs_ks_handshake(t, ch->share->key, ch->share->len);
	if (err || (err = send_ccs_once(t, ch)))
		return err;
	if (tls_set_keys(t, TLS_WRITE, TLS_EPOCH_HANDSHAKE, hs->suite, hs->s_hs) ||
	    tls_set_keys(t, TLS_READ, TLS_EPOCH_HANDSHAKE, hs->suite, hs->c_hs))
		return t->err ? t->err : tls_fail(t, SYNACK_TLS_ALERT_INTERNAL_ERROR, "handshake keys");
	return 0;
}

static int server_flight(struct synack_tls *t, const struct ch *ch)
{
	struct tls_hs *hs = t->hs;
	bool certs = !hs->psk_ok;
	int err = send_server_hello(t, ch);
	if (err || (err = server_keys(t, ch)) || (err = send_ee(t, ch)))
		return err;
	if (certs && t->cfg->request_client_cert && (err = send_cert_request(t)))
		return err;
	if (certs && ((err = hs_send_certificate(t, NULL, 0, false)) || (err = hs_send_cert_verify(t))))
		return err;
	if ((err = hs_send_finished(t, hs->s_hs)) || (err = hs_ks_master(t)))
		return err;
	if (tls_set_keys(t, TLS_WRITE, TLS_EPOCH_APPLICATION, hs->suite, hs->s_ap))
		return t->err ? t->err : tls_fail(t, SYNACK_TLS_ALERT_INTERNAL_ERROR, "application keys");
	hs->state = hs->cert_req ? S_WAIT_CERT : S_WAIT_FINISHED;
	return 0;
}

/* ClientHello2 after our HRR (§4.1.2): the cookie echoed, a share for the
 * group we asked for. */
static int check_ch2(struct synack_tls *t, const struct ch *ch)
{
	struct tls_hs *hs = t->hs;
	if (ch->x.cookie_len != hs->cookie_len || memcmp(ch->x.cookie, hs->cookie, hs->cookie_len))
		return tls_fail(t, SYNACK_TLS_ALERT_ILLEGAL_PARAMETER, "cookie not echoed");
	if (!ch->share || ch->share->group != hs->group)
		return tls_fail(t, SYNACK_TLS_ALERT_ILLEGAL_PARAMETER,
				"no key share for the group we asked for");
	return 0;
}

static void trace_ch(struct synack_tls *t, const uint8_t *msg, size_t len, int epoch, const struct ch *ch)
{
	char suites[96], groups[64], shares[48], alpn[64];
	uint16_t sg[TLS_HS_SHARES], su[8];
	size_t nsu = 0;
	struct brd r = ch->suites;
	while (brd_left(&r) && nsu < 8)
		su[nsu++] = brd_u16(&r);
	for (size_t i = 0; i < ch->x.nshares; i++)
		sg[i] = ch->x.shares[i].group;
	HS_TRACE_IN(t, msg, len, epoch, "ClientHello suites=%s groups=%s shares=%s%s%s%s%s%s",
		    tls_list_names(su, nsu, synack_tls_suite_name, suites, sizeof suites),
		    tls_list_names(ch->x.groups, ch->x.ngroups, synack_tls_group_name, groups, sizeof groups),
		    tls_list_names(sg, ch->x.nshares, synack_tls_group_name, shares, sizeof shares),
		    ch->x.sni ? " sni=" : "", t->info.sni, ch->x.alpn ? " alpn=" : "",
		    tls_alpn_names(ch->x.alpn, ch->x.alpn_len, alpn, sizeof alpn),
		    ch->x.present & XBIT(X_PSK) ? " psk" : "");
}

static int negotiate(struct synack_tls *t, struct ch *ch, const uint8_t *msg, size_t len)
{
	int err = check_ch_basics(t, ch);
	if (err || (err = choose_suite(t, ch)) || (err = choose_group(t, ch)) ||
	    (err = tls_server_choose_alpn(t, &ch->x, &ch->alpn)) || (err = hs_apply_rsl(t, &ch->x)))
		return err;
	if (t->hs->state == S_WAIT_CH2 && (err = check_ch2(t, ch)))
		return err;
	if (t->hs->state == S_START && tls_transcript_select(t, t->hs->suite->hash))
		return tls_fail(t, SYNACK_TLS_ALERT_INTERNAL_ERROR, "transcript");
	return 0;
}

static int on_client_hello(struct synack_tls *t, const uint8_t *msg, size_t len, int epoch)
{
	struct tls_hs *hs = t->hs;
	struct ch ch = {.share = NULL};
	int err = parse_ch(t, msg, len, &ch);
	if (err)
		return err;
	if (hs->state == S_START)
		memcpy(t->client_random, ch.random, 32);
	if ((err = tls_server_record_sni(t, &ch.x)))
		return err;
	trace_ch(t, msg, len, epoch, &ch);
	if ((err = negotiate(t, &ch, msg, len)))
		return err;
	if (ch.x.present & XBIT(X_EARLY)) {
		/* §4.2.10: refused (no early_data in EncryptedExtensions, or an
		 * HRR); the record layer skips the 0-RTT records that follow,
		 * which do not open under the handshake keys (or come before
		 * any), up to a bounded number of bytes */
		hs->early_data = true;
		t->skip_early = TLS_EARLY_SKIP_MAX;
	}
	if (!ch.share) /* §4.1.4: ask for a share we can use */
		return (err = hs_transcript(t, msg, len)) ? err : send_hrr(t, &ch, msg, len);
	hs->group = ch.share->group;
	t->info.suite = hs->suite->id;
	t->info.group = hs->group;
	if ((err = check_psk(t, &ch, msg, len)) || (err = choose_sigscheme(t, &ch)))
		return err;
	if ((err = hs_transcript(t, msg, len)))
		return err;
	return server_flight(t, &ch);
}

/* ---- the client's second flight (§4.4.2, §4.4.3, §4.4.4) ---- */

static int on_certificate(struct synack_tls *t, const uint8_t *msg, size_t len, int epoch)
{
	struct tls_hs *hs = t->hs;
	int err = hs_recv_certificate(t, msg, len, epoch);
	if (err)
		return err;
	if (!hs->peer_cert && t->cfg->require_client_cert) /* §4.4.2.4 */
		return tls_fail(t, SYNACK_TLS_ALERT_CERTIFICATE_REQUIRED, "client sent no certificate");
	hs->state = hs->peer_cert ? S_WAIT_CV : S_WAIT_FINISHED;
	return 0;
}

static int on_cert_verify(struct synack_tls *t, const uint8_t *msg, size_t len, int epoch)
{
	int err = hs_recv_cert_verify(t, msg, len, epoch);
	if (!err)
		t->hs->state = S_WAIT_FINISHED;
	return err;
}

static int on_finished(struct synack_tls *t, const uint8_t *msg, size_t len, int epoch)
{
	struct tls_hs *hs = t->hs;
	int err = hs_recv_finished(t, msg, len, epoch, hs->c_hs);
	if (err)
		return err;
	if (tls_set_keys(t, TLS_READ, TLS_EPOCH_APPLICATION, hs->suite, hs->c_ap))
		return t->err ? t->err : tls_fail(t, SYNACK_TLS_ALERT_INTERNAL_ERROR, "application keys");
	if ((err = hs_ks_resumption(t)))
		return err;
	hs->state = S_CONNECTED;
	hs_done(t);
	return hs_server_send_tickets(t);
}

/* ---- the dispatcher ---- */

static int server_step(struct synack_tls *t, const uint8_t *msg, size_t len, int epoch)
{
	const int H = TLS_EPOCH_HANDSHAKE;
	int err;
	switch (t->hs->state) {
	case S_START:
	case S_WAIT_CH2:
		return (err = hs_expect(t, msg, epoch, TLS_HS_CLIENT_HELLO, TLS_EPOCH_PLAINTEXT,
					"waiting for ClientHello"))
			   ? err
			   : on_client_hello(t, msg, len, epoch);
	case S_WAIT_CERT:
		return (err = hs_expect(t, msg, epoch, TLS_HS_CERTIFICATE, H, "waiting for Certificate"))
			   ? err
			   : on_certificate(t, msg, len, epoch);
	case S_WAIT_CV:
		return (err = hs_expect(t, msg, epoch, TLS_HS_CERTIFICATE_VERIFY, H,
					"waiting for CertificateVerify"))
			   ? err
			   : on_cert_verify(t, msg, len, epoch);
	case S_WAIT_FINISHED:
		return (err = hs_expect(t, msg, epoch, TLS_HS_FINISHED, H, "waiting for Finished"))
			   ? err
			   : on_finished(t, msg, len, epoch);
	default:
		return hs_unexpected(t, msg, "not expecting a message");
	}
}

int tls_server_input(struct synack_tls *t, const uint8_t *msg, size_t len, int epoch)
{
	if (t->hs_done) /* §4.6: only KeyUpdate (the core's) from a client */
		return hs_unexpected(t, msg, "connected");
	if (!t->hs)
		return tls_fail(t, SYNACK_TLS_ALERT_INTERNAL_ERROR, "no handshake state");
	bool v12 = t->hs->v12 || (t->hs->state == S_START && tls12_server_wants(t, msg, len));
	int err = v12 ? tls12_server_input(t, msg, len, epoch) : server_step(t, msg, len, epoch);
	if (!err && t->hs_done)
		tls_hs_free(t);
	return err;
}

/* §D.4: the client's CCS, once, after its first ClientHello. */
int tls_server_ccs(struct synack_tls *t)
{
	struct tls_hs *hs = t->hs;
	if (hs->v12) /* RFC 5246 §7.1: server12.c's state machine decides */
		return tls12_server_ccs(t);
	if (hs->ccs_in || hs->state == S_START || hs->state == S_CONNECTED)
		return tls_fail(t, SYNACK_TLS_ALERT_UNEXPECTED_MESSAGE, "unexpected ChangeCipherSpec");
	hs->ccs_in = true;
	return 0;
}
