/* The TLS 1.3 client handshake (RFC 8446 §2, §4; state machine of
 * Appendix A.1).
 *
 * Implementation notes
 *
 *   START --ClientHello--> WAIT_SH --HRR--> (ClientHello2) WAIT_SH2
 *   WAIT_SH/WAIT_SH2 --ServerHello--> WAIT_EE --EE--> WAIT_CERT_CR (or
 *   WAIT_FINISHED with a PSK) --CR--> WAIT_CERT --Certificate--> WAIT_CV
 *   --CertificateVerify--> WAIT_FINISHED --Finished--> CONNECTED
 *
 * One handler per state and message; anything else is unexpected_message
 * (§6.2). We offer one key share (the first configured group), one
 * version (1.3), a 32-byte legacy_session_id and send the middlebox
 * ChangeCipherSpec before our second flight (§D.4). A saved session is
 * offered as a PSK with psk_dhe_ke only (§4.2.9); its binder covers the
 * ClientHello up to the binders (§4.2.11.2). When the server asks for a
 * certificate (§4.3.2) we send ours if the config has one whose key can
 * sign one of the server's schemes, else an empty Certificate.
 * Handshake write keys are installed right after the ServerHello (after
 * our CCS), so an alert we send from then on is encrypted as the server
 * expects. The ClientHello is built in a stack buffer of 2 KiB plus the
 * ticket (at most TLS_HS_MAX_TICKET).
 *
 * Versions (RFC 8446 §4.2.1, Appendix D): when the configuration allows
 * 1.2 too, the one ClientHello offers both: supported_versions {1.3,
 * 1.2}, the 1.3 suites then the six 1.2 ECDHE AEAD suites, rsa_pkcs1
 * schemes after the configured ones, and the 1.2 extensions
 * (renegotiation_info, extended_master_secret, ec_point_formats). A
 * ServerHello without supported_versions is the server choosing 1.2 and
 * goes to client12.c. A 1.2-only configuration sends a plain 1.2
 * ClientHello: no supported_versions, key_share, PSK or session id. */
#include "tls/hs.h"
#include "tls/hs12.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

enum tls_client_state {
	C_START,
	C_WAIT_SH,
	C_WAIT_SH2, /* after a HelloRetryRequest */
	C_WAIT_EE,
	C_WAIT_CERT_CR,
	C_WAIT_CERT,
	C_WAIT_CV,
	C_WAIT_FINISHED,
	C_CONNECTED,
};

/* §4.1.3: SHA-256("HelloRetryRequest") */
static const uint8_t hrr_random[32] = {0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c,
				       0x02, 0x1e, 0x65, 0xb8, 0x91, 0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb,
				       0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c};
#define CH_CAP (2048 + TLS_HS_MAX_TICKET)

/* RFC 6066 §3: "Literal IPv4 and IPv6 addresses are not permitted". */
static bool is_dns_name(const char *n)
{
	if (!n[0] || strchr(n, ':'))
		return false;
	for (const char *p = n; *p; p++)
		if ((*p < '0' || *p > '9') && *p != '.')
			return true;
	return false;
}

static void put_u16_list(struct bbuf *b, const uint16_t *v, size_t n, unsigned width)
{
	size_t m = bbuf_vec_open(b, width);
	for (size_t i = 0; i < n; i++)
		bbuf_u16(b, v[i]);
	bbuf_vec_close(b, m, width);
}

static size_t ext_open(struct bbuf *b, uint16_t type)
{
	bbuf_u16(b, type);
	return bbuf_vec_open(b, 2);
}

/* ---- ClientHello (§4.1.2) ---- */

static bool offer13(const struct synack_tls *t)
{
	return t->cfg->version_max >= SYNACK_TLS_VERSION_13;
}

/* cipher_suites: ours for 1.3, then the 1.2 ones when 1.2 is offered. */
static void ch_suites(struct synack_tls *t, struct bbuf *b)
{
	size_t m = bbuf_vec_open(b, 2);
	for (size_t i = 0; offer13(t) && i < t->cfg->nsuites; i++)
		bbuf_u16(b, t->cfg->suites[i]);
	uint16_t s12[ARRAY_LEN(hs12_suites)];
	size_t n12 =
	    t->hs->offer12 ? hs12_suites_for(t->cfg->suites, t->cfg->nsuites, s12, ARRAY_LEN(s12)) : 0;
	for (size_t i = 0; i < n12; i++)
		bbuf_u16(b, s12[i]);
	bbuf_vec_close(b, m, 2);
}

static void ch_sni(struct synack_tls *t, struct bbuf *b)
{
	if (!is_dns_name(t->server_name))
		return;
	size_t e = ext_open(b, TLS_EXT_SERVER_NAME), l = bbuf_vec_open(b, 2);
	bbuf_u8(b, 0); /* host_name */
	size_t n = bbuf_vec_open(b, 2);
	bbuf_put(b, t->server_name, strlen(t->server_name));
	bbuf_vec_close(b, n, 2);
	bbuf_vec_close(b, l, 2);
	bbuf_vec_close(b, e, 2);
	t->hs->offered |= XBIT(X_SNI);
	snprintf(t->info.sni, sizeof t->info.sni, "%s", t->server_name);
}

static void ch_key_share(struct synack_tls *t, struct bbuf *b, const uint8_t *pub, size_t plen)
{
	size_t e = ext_open(b, TLS_EXT_KEY_SHARE), l = bbuf_vec_open(b, 2);
	bbuf_u16(b, t->hs->group);
	size_t k = bbuf_vec_open(b, 2);
	bbuf_put(b, pub, plen);
	bbuf_vec_close(b, k, 2);
	bbuf_vec_close(b, l, 2);
	bbuf_vec_close(b, e, 2);
}

static void ch_simple_exts(struct synack_tls *t, struct bbuf *b)
{
	const struct synack_tls_config *cfg = t->cfg;
	uint16_t versions[2] = {SYNACK_TLS_VERSION_13, SYNACK_TLS_VERSION_12}, schemes[TLS_MAX_LIST + 2];
	size_t e, nschemes = cfg->nsigschemes;
	memcpy(schemes, cfg->sigschemes, nschemes * sizeof schemes[0]);
	if (t->hs->offer12)
		nschemes = tls12_client_sigschemes(cfg, schemes, TLS_MAX_LIST + 2);
	if (offer13(t)) {
		e = ext_open(b, TLS_EXT_SUPPORTED_VERSIONS);
		put_u16_list(b, versions, t->hs->offer12 ? 2 : 1, 1);
		bbuf_vec_close(b, e, 2);
		t->hs->offered |= XBIT(X_VERSIONS) | XBIT(X_KEY_SHARE);
	}
	e = ext_open(b, TLS_EXT_SUPPORTED_GROUPS);
	put_u16_list(b, cfg->groups, cfg->ngroups, 2);
	bbuf_vec_close(b, e, 2);
	e = ext_open(b, TLS_EXT_SIGNATURE_ALGORITHMS);
	put_u16_list(b, schemes, nschemes, 2);
	bbuf_vec_close(b, e, 2);
	if (cfg->alpn_len) {
		e = ext_open(b, TLS_EXT_ALPN);
		size_t l = bbuf_vec_open(b, 2);
		bbuf_put(b, cfg->alpn, cfg->alpn_len);
		bbuf_vec_close(b, l, 2);
		bbuf_vec_close(b, e, 2);
		t->hs->offered |= XBIT(X_ALPN);
	}
	e = ext_open(b, TLS_EXT_RECORD_SIZE_LIMIT); /* RFC 8449 §4: 2^14 + 1 in TLS 1.3, 2^14 in 1.2 */
	bbuf_u16(b, TLS_MAX_PLAINTEXT + (offer13(t) ? 1 : 0));
	bbuf_vec_close(b, e, 2);
	if (t->hs->cookie) {
		e = ext_open(b, TLS_EXT_COOKIE);
		size_t l = bbuf_vec_open(b, 2);
		bbuf_put(b, t->hs->cookie, t->hs->cookie_len);
		bbuf_vec_close(b, l, 2);
		bbuf_vec_close(b, e, 2);
	}
	if (offer13(t)) {
		e = ext_open(b, TLS_EXT_PSK_KEY_EXCHANGE_MODES);
		bbuf_u8(b, 1);
		bbuf_u8(b, TLS_HS_PSK_MODE_DHE);
		bbuf_vec_close(b, e, 2);
	}
	if (t->hs->offer12) { /* RFC 5746 §3.4, RFC 7627 §5.1, RFC 8422 §5.1.2, RFC 5077 §3.2 */
		hs12_ext_reneg_put(b);
		hs12_ext_ems_put(b);
		hs12_ext_ecpf_put(b);
		tls12_client_ticket_ext(t, b);
	}
	t->hs->offered |= XBIT(X_GROUPS) | XBIT(X_RSL);
}

/* pre_shared_key, last (§4.2.11): the binder is filled in afterwards. */
static void ch_psk(struct synack_tls *t, struct bbuf *b, const struct tls_session *s)
{
	size_t e = ext_open(b, TLS_EXT_PRE_SHARED_KEY), ids = bbuf_vec_open(b, 2);
	size_t id = bbuf_vec_open(b, 2);
	bbuf_put(b, s->ticket, s->ticket_len);
	bbuf_vec_close(b, id, 2);
	bbuf_u32(b, t->hs->psk_age);
	bbuf_vec_close(b, ids, 2);
	size_t bs = bbuf_vec_open(b, 2), one = bbuf_vec_open(b, 1);
	bbuf_zero(b, t->hs->hlen);
	bbuf_vec_close(b, one, 1);
	bbuf_vec_close(b, bs, 2);
	bbuf_vec_close(b, e, 2);
	t->hs->offered |= XBIT(X_PSK);
}

/* The binder over the ClientHello without its binders (§4.2.11.2). */
static int ch_binder(struct synack_tls *t, uint8_t *msg, size_t len)
{
	struct tls_hs *hs = t->hs;
	size_t blen = 2 + 1 + hs->hlen, part = len - blen;
	uint8_t th[CRYPTO_HASH_MAX];
	int h = hs->psk_suite->hash;
	int err = tls_transcript_hash_with(t, h, msg, part, th);
	err = err ? err : hs_binder(t, h, hs->psk, hs->psk_len, th, msg + len - hs->hlen);
	return err ? tls_fail(t, SYNACK_TLS_ALERT_INTERNAL_ERROR, "PSK binder") : 0;
}

/* The 1.2 suites offered, compactly: "TLS_ECDHE_{ECDSA,RSA}_WITH_{AES_128_GCM_SHA256,...}". */
static const char *suites12_text(const struct synack_tls_config *cfg, char *buf, size_t cap)
{
	uint16_t ids[ARRAY_LEN(hs12_suites)];
	size_t n = hs12_suites_for(cfg->suites, cfg->nsuites, ids, ARRAY_LEN(ids)), off;
	off = (size_t)snprintf(buf, cap, "TLS_ECDHE_{ECDSA,RSA}_WITH_{");
	for (size_t i = 0; i < n && off < cap; i += 2) { /* ECDSA, RSA pairs of one AEAD */
		const char *w = strstr(hs12_suite_find(ids[i])->name, "_WITH_");
		off += (size_t)snprintf(buf + off, cap - off, "%s%s", i ? "," : "", w + 6);
	}
	if (off < cap)
		snprintf(buf + off, cap - off, "}");
	return buf;
}

static void trace_ch(struct synack_tls *t, const uint8_t *msg, size_t len)
{
	char suites[96], suites12[128], groups[64], alpn[64];
	const struct synack_tls_config *cfg = t->cfg;
	HS_TRACE_OUT(t, msg, len, "ClientHello versions=%s suites=%s%s groups=%s%s%s%s%s%s%s",
		     !t->hs->offer12 ? "TLSv1.3"
		     : offer13(t)    ? "TLSv1.3,TLSv1.2"
				     : "TLSv1.2",
		     offer13(t) ? tls_list_names(cfg->suites, cfg->nsuites, synack_tls_suite_name, suites,
						 sizeof suites)
				: suites12_text(cfg, suites12, sizeof suites12),
		     t->hs->offer12 && offer13(t) ? " +TLS 1.2 ECDHE" : "",
		     tls_list_names(cfg->groups, cfg->ngroups, synack_tls_group_name, groups, sizeof groups),
		     t->info.sni[0] ? " sni=" : "", t->info.sni, cfg->alpn_len ? " alpn=" : "",
		     tls_alpn_names(cfg->alpn, cfg->alpn_len, alpn, sizeof alpn),
		     t->hs->psk_offered ? " psk" : "", t->hs->cookie ? " cookie" : "");
}

static int send_client_hello(struct synack_tls *t, const struct tls_session *s)
{
	struct tls_hs *hs = t->hs;
	uint8_t pub[CRYPTO_KEX_PUB_MAX], *buf = tls_alloc(t, CH_CAP);
	size_t plen = 0;
	if (!buf)
		return tls_fail(t, SYNACK_TLS_ALERT_INTERNAL_ERROR, "out of memory");
	int err = offer13(t) ? hs_kex_new(t, hs->group, pub, sizeof pub, &plen) : 0;
	struct bbuf b = bbuf_make(buf, CH_CAP);
	bbuf_u8(&b, TLS_HS_CLIENT_HELLO);
	size_t m = bbuf_vec_open(&b, 3);
	bbuf_u16(&b, SYNACK_TLS_VERSION_12); /* legacy_version */
	bbuf_put(&b, t->client_random, 32);
	size_t sid = bbuf_vec_open(&b, 1);
	bbuf_put(&b, hs->session_id, hs->session_id_len);
	bbuf_vec_close(&b, sid, 1);
	ch_suites(t, &b);
	bbuf_u16(&b, 0x0100); /* legacy_compression_methods: {null} */
	size_t x = bbuf_vec_open(&b, 2);
	ch_sni(t, &b);
	ch_simple_exts(t, &b);
	if (offer13(t))
		ch_key_share(t, &b, pub, plen);
	if (hs->psk_offered)
		ch_psk(t, &b, s);
	bbuf_vec_close(&b, x, 2);
	bbuf_vec_close(&b, m, 3);
	if (!err && !bbuf_ok(&b))
		err = tls_fail(t, SYNACK_TLS_ALERT_INTERNAL_ERROR, "ClientHello does not fit");
	if (!err && hs->psk_offered)
		err = ch_binder(t, b.p, b.len);
	if (!err)
		err = hs_send(t, b.p, b.len);
	if (!err)
		trace_ch(t, b.p, b.len);
	tls_dealloc(t, buf, CH_CAP);
	return err;
}

/* A saved session (t->session) worth offering: parsed, same server name,
 * a suite we still allow, not expired (§4.6.1). */
static bool session_usable(struct synack_tls *t, struct tls_session *s)
{
	const struct synack_tls_config *cfg = t->cfg;
	if (!t->session || tls_session_parse(t->session, t->session_len, s))
		return false;
	if (s->sni_len != strlen(t->server_name) || memcmp(s->sni, t->server_name, s->sni_len))
		return false;
	const struct tls_suite *suite = tls_suite_find(s->suite);
	if (!suite || !tls_list_has(cfg->suites, cfg->nsuites, s->suite) ||
	    s->psk_len != tls_hash_len(t->crypto, suite->hash))
		return false;
	int64_t age = cfg->clock.unix_ms(cfg->clock.ctx) - s->issued_ms;
	if (age < 0 || age > (int64_t)s->lifetime_s * 1000)
		return false;
	t->hs->psk_suite = suite;
	t->hs->psk_age = (uint32_t)age + s->age_add; /* obfuscated_ticket_age, mod 2^32 */
	return true;
}

int tls_client_start(struct synack_tls *t)
{
	struct tls_hs *hs = t->hs;
	struct tls_session s;
	if (!t->cfg->ngroups || !t->cfg->nsuites)
		return tls_fail(t, SYNACK_TLS_ALERT_INTERNAL_ERROR, "no groups or suites configured");
	hs_random(t, t->client_random, 32);
	hs->offer12 = t->cfg->version_min <= SYNACK_TLS_VERSION_12;
	hs->keep_raw12 = hs->offer12 && t->cfg->chain_n; /* a 1.2 CertificateVerify signs them */
	if (offer13(t)) {
		hs->session_id_len = 32; /* §D.4 middlebox compatibility mode */
		hs_random(t, hs->session_id, 32);
	}
	hs->group = t->cfg->groups[0];
	bool resume12 = hs->offer12 && tls12_client_session(t); /* a 1.2 session: no 1.3 PSK */
	if (!resume12 && offer13(t) && session_usable(t, &s)) {
		hs->psk_offered = true;
		hs->psk_len = s.psk_len;
		memcpy(hs->psk, s.psk, s.psk_len);
		hs->hlen = s.psk_len;
	}
	hs->state = C_WAIT_SH;
	return send_client_hello(t, &s);
}

/* ---- ServerHello and HelloRetryRequest (§4.1.3, §4.1.4) ---- */

struct sh {
	uint16_t legacy_version, suite;
	const uint8_t *random;
	struct brd sid;
	uint8_t compression;
	struct tls_exts x;
};

static int parse_sh(struct synack_tls *t, const uint8_t *msg, size_t len, struct sh *sh)
{
	struct brd r = hs_body(msg, len);
	sh->legacy_version = brd_u16(&r);
	sh->random = brd_take(&r, 32);
	sh->sid = brd_vec(&r, 1);
	sh->suite = brd_u16(&r);
	sh->compression = brd_u8(&r);
	struct brd exts = brd_vec(&r, 2);
	if (!brd_done(&r))
		return hs_decode_error(t, "ServerHello");
	bool hrr = !memcmp(sh->random, hrr_random, 32);
	const char *why = "";
	int alert = tls_ext_parse(&exts, hrr ? TLS_CTX_HRR : TLS_CTX_SH, t->hs->offered, &sh->x, &why);
	if (alert)
		return tls_fail(t, alert, "%s: %s", hrr ? "HelloRetryRequest" : "ServerHello", why);
	return 0;
}

/* What ServerHello and HRR share: version, session id, suite, compression. */
static int check_sh_common(struct synack_tls *t, const struct sh *sh)
{
	struct tls_hs *hs = t->hs;
	if (!(sh->x.present & XBIT(X_VERSIONS))) /* the server chose TLS 1.2 or older */
		return tls_fail(t, SYNACK_TLS_ALERT_PROTOCOL_VERSION,
				"server chose version 0x%04x; we do only TLS 1.3", sh->legacy_version);
	if (sh->x.version != SYNACK_TLS_VERSION_13 || sh->legacy_version != SYNACK_TLS_VERSION_12)
		return tls_fail(t, SYNACK_TLS_ALERT_ILLEGAL_PARAMETER, "server selected version 0x%04x",
				sh->x.version);
	if (sh->sid.len != hs->session_id_len || memcmp(sh->sid.p, hs->session_id, sh->sid.len))
		return tls_fail(t, SYNACK_TLS_ALERT_ILLEGAL_PARAMETER, "legacy_session_id_echo mismatch");
	if (!tls_list_has(t->cfg->suites, t->cfg->nsuites, sh->suite) || !tls_suite_find(sh->suite))
		return tls_fail(t, SYNACK_TLS_ALERT_ILLEGAL_PARAMETER,
				"server chose suite 0x%04x we did not offer", sh->suite);
	if (hs->suite && hs->suite->id != sh->suite) /* §4.1.4: same suite as the HRR */
		return tls_fail(t, SYNACK_TLS_ALERT_ILLEGAL_PARAMETER,
				"suite changed after HelloRetryRequest");
	if (sh->compression != 0)
		return tls_fail(t, SYNACK_TLS_ALERT_ILLEGAL_PARAMETER, "compression method %u",
				sh->compression);
	return 0;
}

static int select_suite(struct synack_tls *t, uint16_t id)
{
	struct tls_hs *hs = t->hs;
	if (hs->suite)
		return 0;
	hs->suite = tls_suite_find(id);
	hs->hlen = tls_hash_len(t->crypto, hs->suite->hash);
	t->info.suite = id;
	if (tls_transcript_select(t, hs->suite->hash))
		return tls_fail(t, SYNACK_TLS_ALERT_INTERNAL_ERROR, "transcript");
	return 0;
}

static int send_ccs_once(struct synack_tls *t)
{
	struct tls_hs *hs = t->hs;
	if (hs->ccs_out || !hs->session_id_len)
		return 0;
	hs->ccs_out = true;
	int err = tls_send_ccs(t);
	return err ? tls_fail(t, SYNACK_TLS_ALERT_INTERNAL_ERROR, "ChangeCipherSpec") : 0;
}

/* §4.1.4 HelloRetryRequest: a new share for the selected group, the cookie
 * echoed, the transcript restarted with message_hash (§4.4.1). */
static int on_hrr(struct synack_tls *t, const uint8_t *msg, size_t len, int epoch, const struct sh *sh)
{
	struct tls_hs *hs = t->hs;
	uint16_t g = sh->x.hrr_group;
	HS_TRACE_IN(t, msg, len, epoch, "HelloRetryRequest suite=%s group=%s%s",
		    synack_tls_suite_name(sh->suite), synack_tls_group_name(g),
		    sh->x.cookie ? " cookie" : "");
	if (!(sh->x.present & (XBIT(X_KEY_SHARE) | XBIT(X_COOKIE))))
		return tls_fail(t, SYNACK_TLS_ALERT_ILLEGAL_PARAMETER, "HelloRetryRequest changes nothing");
	if ((sh->x.present & XBIT(X_KEY_SHARE)) &&
	    (!tls_list_has(t->cfg->groups, t->cfg->ngroups, g) || g == hs->group))
		return tls_fail(t, SYNACK_TLS_ALERT_ILLEGAL_PARAMETER, "HelloRetryRequest group 0x%04x", g);
	int err = select_suite(t, sh->suite);
	if (err || (err = tls_transcript_hrr(t)) || (err = hs_transcript(t, msg, len)))
		return t->err ? t->err : tls_fail(t, SYNACK_TLS_ALERT_INTERNAL_ERROR, "transcript");
	if (sh->x.cookie) {
		hs->cookie = tls_alloc(t, sh->x.cookie_len);
		if (!hs->cookie)
			return tls_fail(t, SYNACK_TLS_ALERT_INTERNAL_ERROR, "out of memory");
		memcpy(hs->cookie, sh->x.cookie, sh->x.cookie_len);
		hs->cookie_len = sh->x.cookie_len;
	}
	if (sh->x.present & XBIT(X_KEY_SHARE))
		hs->group = g;
	if (hs->psk_offered && hs->psk_suite->hash != hs->suite->hash)
		hs->psk_offered = false; /* §4.2.11: the PSK's hash must match */
	hs->hrr = true;
	t->info.hrr = true;
	hs->state = C_WAIT_SH2;
	hs->offered &= ~XBIT(X_PSK);
	if ((err = send_ccs_once(t)))
		return err;
	struct tls_session s;
	if (hs->psk_offered && tls_session_parse(t->session, t->session_len, &s))
		hs->psk_offered = false;
	return send_client_hello(t, &s);
}

/* §4.2.11: the server's choice of our PSK (identity 0, same hash). */
static int check_sh_psk(struct synack_tls *t, const struct sh *sh)
{
	struct tls_hs *hs = t->hs;
	if (!(sh->x.present & XBIT(X_PSK)))
		return 0;
	if (!hs->psk_offered || sh->x.psk_selected != 0 || hs->psk_suite->hash != hs->suite->hash)
		return tls_fail(t, SYNACK_TLS_ALERT_ILLEGAL_PARAMETER,
				"server selected a PSK we did not offer");
	hs->psk_ok = true;
	t->info.resumed = true;
	struct tls_session s; /* what the full handshake established of the server */
	if (!tls_session_parse(t->session, t->session_len, &s)) {
		t->info.peer_verified = s.verified;
		snprintf(t->info.peer_subject, sizeof t->info.peer_subject, "%.*s", (int)s.subject_len,
			 (const char *)s.subject);
	}
	return 0;
}

static int install_handshake_keys(struct synack_tls *t)
{
	struct tls_hs *hs = t->hs;
	int err = send_ccs_once(t);
	if (err)
		return err;
	if (tls_set_keys(t, TLS_READ, TLS_EPOCH_HANDSHAKE, hs->suite, hs->s_hs) ||
	    tls_set_keys(t, TLS_WRITE, TLS_EPOCH_HANDSHAKE, hs->suite, hs->c_hs))
		return t->err ? t->err : tls_fail(t, SYNACK_TLS_ALERT_INTERNAL_ERROR, "handshake keys");
	return 0;
}

/* §4.1.3 ServerHello: the key exchange completes; handshake keys. */
static int on_sh(struct synack_tls *t, const uint8_t *msg, size_t len, int epoch, const struct sh *sh)
{
	struct tls_hs *hs = t->hs;
	const struct tls_share *ks = &sh->x.shares[0];
	HS_TRACE_IN(t, msg, len, epoch, "ServerHello suite=%s group=%s%s", synack_tls_suite_name(sh->suite),
		    synack_tls_group_name(ks->group), sh->x.present & XBIT(X_PSK) ? " psk" : "");
	if (!(sh->x.present & XBIT(X_KEY_SHARE))) /* we offer psk_dhe_ke only */
		return tls_fail(t, SYNACK_TLS_ALERT_MISSING_EXTENSION, "ServerHello without key_share");
	if (ks->group != hs->group)
		return tls_fail(t, SYNACK_TLS_ALERT_ILLEGAL_PARAMETER, "server share for group 0x%04x",
				ks->group);
	int err = select_suite(t, sh->suite);
	if (err || (err = check_sh_psk(t, sh)) || (err = hs_transcript(t, msg, len)))
		return err;
	t->info.group = hs->group;
	if (tls_ks_early(&hs->ks, t->crypto, hs->suite->hash, hs->psk_ok ? hs->psk : NULL, hs->psk_len))
		return tls_fail(t, SYNACK_TLS_ALERT_INTERNAL_ERROR, "early secret");
	if ((err = hs_ks_handshake(t, ks->key, ks->len)))
		return err;
	hs->state = C_WAIT_EE;
	return install_handshake_keys(t);
}

static int handle_server_hello(struct synack_tls *t, const uint8_t *msg, size_t len, int epoch)
{
	struct sh sh;
	if (tls12_client_sh_is_12(msg, len)) { /* §4.2.1: the server chose TLS 1.2 */
		if (t->hs->state == C_WAIT_SH2)
			return tls_fail(t, SYNACK_TLS_ALERT_ILLEGAL_PARAMETER,
					"TLS 1.2 ServerHello after a HelloRetryRequest");
		return tls12_client_server_hello(t, msg, len, epoch);
	}
	int err = parse_sh(t, msg, len, &sh);
	if (err || (err = check_sh_common(t, &sh)))
		return err;
	if (memcmp(sh.random, hrr_random, 32))
		return on_sh(t, msg, len, epoch, &sh);
	if (t->hs->state == C_WAIT_SH2) /* §4.1.4: a second HRR */
		return tls_fail(t, SYNACK_TLS_ALERT_UNEXPECTED_MESSAGE, "second HelloRetryRequest");
	return on_hrr(t, msg, len, epoch, &sh);
}

/* ---- EncryptedExtensions (§4.3.1) ---- */

static int ee_alpn(struct synack_tls *t, const struct tls_exts *x)
{
	if (!(x->present & XBIT(X_ALPN)))
		return 0;
	struct brd mine = brd_make(t->cfg->alpn, t->cfg->alpn_len);
	struct brd theirs = brd_make(x->alpn, x->alpn_len);
	struct brd sel = brd_vec(&theirs, 1);
	while (brd_left(&mine)) {
		struct brd p = brd_vec(&mine, 1);
		if (p.len == sel.len && !memcmp(p.p, sel.p, p.len)) {
			memcpy(t->info.alpn, sel.p,
			       sel.len < sizeof t->info.alpn ? sel.len : sizeof t->info.alpn - 1);
			return 0;
		}
	}
	return tls_fail(t, SYNACK_TLS_ALERT_ILLEGAL_PARAMETER, "server chose a protocol we did not offer");
}

static int on_ee(struct synack_tls *t, const uint8_t *msg, size_t len, int epoch)
{
	struct brd r = hs_body(msg, len);
	struct brd exts = brd_vec(&r, 2);
	struct tls_exts x;
	const char *why = "";
	if (!brd_done(&r))
		return hs_decode_error(t, "EncryptedExtensions");
	int alert = tls_ext_parse(&exts, TLS_CTX_EE, t->hs->offered, &x, &why);
	if (alert)
		return tls_fail(t, alert, "EncryptedExtensions: %s", why);
	int err = ee_alpn(t, &x);
	if (err || (err = hs_apply_rsl(t, &x)))
		return err;
	HS_TRACE_IN(t, msg, len, epoch, "EncryptedExtensions%s%s", t->info.alpn[0] ? " alpn=" : "",
		    t->info.alpn);
	t->hs->state = t->hs->psk_ok ? C_WAIT_FINISHED : C_WAIT_CERT_CR;
	return hs_transcript(t, msg, len);
}

/* ---- CertificateRequest (§4.3.2) ---- */

static int on_cert_request(struct synack_tls *t, const uint8_t *msg, size_t len, int epoch)
{
	struct tls_hs *hs = t->hs;
	struct brd r = hs_body(msg, len);
	struct brd ctx = brd_vec(&r, 1);
	struct brd exts = brd_vec(&r, 2);
	struct tls_exts x;
	const char *why = "";
	if (!brd_done(&r))
		return hs_decode_error(t, "CertificateRequest");
	if (ctx.len) /* zero length during the handshake */
		return tls_fail(t, SYNACK_TLS_ALERT_ILLEGAL_PARAMETER,
				"certificate_request_context in handshake");
	int alert = tls_ext_parse(&exts, TLS_CTX_CR, 0, &x, &why);
	if (alert)
		return tls_fail(t, alert, "CertificateRequest: %s", why);
	if (!(x.present & XBIT(X_SIGALGS)))
		return tls_fail(t, SYNACK_TLS_ALERT_MISSING_EXTENSION,
				"CertificateRequest without signature_algorithms");
	memcpy(hs->peer_sigalgs, x.sigalgs, x.nsigalgs * sizeof x.sigalgs[0]);
	hs->npeer_sigalgs = x.nsigalgs;
	hs->cert_req = true;
	HS_TRACE_IN(t, msg, len, epoch, "CertificateRequest");
	hs->state = C_WAIT_CERT;
	return hs_transcript(t, msg, len);
}

/* ---- Certificate, CertificateVerify (§4.4.2, §4.4.3) ---- */

static int on_certificate(struct synack_tls *t, const uint8_t *msg, size_t len, int epoch)
{
	int err = hs_recv_certificate(t, msg, len, epoch);
	if (err)
		return err;
	if (!t->hs->peer_cert) /* §4.4.2.4 */
		return tls_fail(t, SYNACK_TLS_ALERT_DECODE_ERROR, "server sent no certificate");
	t->hs->state = C_WAIT_CV;
	return 0;
}

static int on_cert_verify(struct synack_tls *t, const uint8_t *msg, size_t len, int epoch)
{
	int err = hs_recv_cert_verify(t, msg, len, epoch);
	if (!err)
		t->hs->state = C_WAIT_FINISHED;
	return err;
}

/* ---- Finished (§4.4.4) and our second flight ---- */

static int send_client_auth(struct synack_tls *t)
{
	struct tls_hs *hs = t->hs;
	if (!hs->cert_req)
		return 0;
	hs->sigscheme = t->cfg->chain_n ? hs_pick_sigscheme(t, hs->peer_sigalgs, hs->npeer_sigalgs) : 0;
	int err = hs_send_certificate(t, NULL, 0, hs->sigscheme == 0);
	if (!err && hs->sigscheme)
		err = hs_send_cert_verify(t);
	return err;
}

static int on_finished(struct synack_tls *t, const uint8_t *msg, size_t len, int epoch)
{
	struct tls_hs *hs = t->hs;
	int err = hs_recv_finished(t, msg, len, epoch, hs->s_hs);
	if (err || (err = hs_ks_master(t)))
		return err;
	if (tls_set_keys(t, TLS_READ, TLS_EPOCH_APPLICATION, hs->suite, hs->s_ap))
		return t->err ? t->err : tls_fail(t, SYNACK_TLS_ALERT_INTERNAL_ERROR, "application keys");
	if ((err = send_client_auth(t)) || (err = hs_send_finished(t, hs->c_hs)))
		return err;
	if (tls_set_keys(t, TLS_WRITE, TLS_EPOCH_APPLICATION, hs->suite, hs->c_ap))
		return t->err ? t->err : tls_fail(t, SYNACK_TLS_ALERT_INTERNAL_ERROR, "application keys");
	if ((err = hs_ks_resumption(t)))
		return err;
	hs->state = C_CONNECTED;
	hs_done(t);
	return 0;
}

/* ---- after the handshake (§4.6) ---- */

static int post_handshake(struct synack_tls *t, const uint8_t *msg, size_t len, int epoch)
{
	switch (msg[0]) {
	case TLS_HS_NEW_SESSION_TICKET:
		return hs_client_ticket(t, msg, len, epoch);
	case TLS_HS_CERTIFICATE_REQUEST: /* we never offer post_handshake_auth (§4.6.2) */
	default:
		return hs_unexpected(t, msg, "connected");
	}
}

/* ---- the dispatcher: one handler per state and message ---- */

static int client_step(struct synack_tls *t, const uint8_t *msg, size_t len, int epoch)
{
	struct tls_hs *hs = t->hs;
	const int H = TLS_EPOCH_HANDSHAKE;
	int err;
	switch (hs->state) {
	case C_WAIT_SH:
	case C_WAIT_SH2:
		return (err = hs_expect(t, msg, epoch, TLS_HS_SERVER_HELLO, TLS_EPOCH_PLAINTEXT,
					"waiting for ServerHello"))
			   ? err
			   : handle_server_hello(t, msg, len, epoch);
	case C_WAIT_EE:
		return (err = hs_expect(t, msg, epoch, TLS_HS_ENCRYPTED_EXTENSIONS, H,
					"waiting for EncryptedExtensions"))
			   ? err
			   : on_ee(t, msg, len, epoch);
	case C_WAIT_CERT_CR:
		if (msg[0] == TLS_HS_CERTIFICATE_REQUEST && epoch == H)
			return on_cert_request(t, msg, len, epoch);
		/* fall through */
	case C_WAIT_CERT:
		return (err = hs_expect(t, msg, epoch, TLS_HS_CERTIFICATE, H, "waiting for Certificate"))
			   ? err
			   : on_certificate(t, msg, len, epoch);
	case C_WAIT_CV:
		return (err = hs_expect(t, msg, epoch, TLS_HS_CERTIFICATE_VERIFY, H,
					"waiting for CertificateVerify"))
			   ? err
			   : on_cert_verify(t, msg, len, epoch);
	case C_WAIT_FINISHED:
		return (err = hs_expect(t, msg, epoch, TLS_HS_FINISHED, H, "waiting for Finished"))
			   ? err
			   : on_finished(t, msg, len, epoch);
	default:
		return hs_unexpected(t, msg, "not expecting a message");
	}
}

int tls_client_input(struct synack_tls *t, const uint8_t *msg, size_t len, int epoch)
{
	if (t->hs_done && t->info.version == SYNACK_TLS_VERSION_12) /* RFC 5746: no renegotiation */
		return hs_unexpected(t, msg, "connected (TLS 1.2)");
	if (t->hs_done)
		return post_handshake(t, msg, len, epoch);
	if (!t->hs)
		return tls_fail(t, SYNACK_TLS_ALERT_INTERNAL_ERROR, "no handshake state");
	int err = t->hs->v12 ? tls12_client_input(t, msg, len, epoch) : client_step(t, msg, len, epoch);
	if (!err && t->hs_done)
		tls_hs_free(t); /* give the handshake's memory back */
	return err;
}

/* §D.4: the server's CCS, once, after our ClientHello and before its Finished. */
int tls_client_ccs(struct synack_tls *t)
{
	struct tls_hs *hs = t->hs;
	if (hs->v12) /* RFC 5246 §7.1: client12.c's state machine decides */
		return tls12_client_ccs(t);
	if (hs->ccs_in || hs->state < C_WAIT_SH || hs->state > C_WAIT_FINISHED)
		return tls_fail(t, SYNACK_TLS_ALERT_UNEXPECTED_MESSAGE, "unexpected ChangeCipherSpec");
	hs->ccs_in = true;
	return 0;
}
