/* The TLS 1.2 server full handshake (RFC 5246 §7.3; ECDHE of RFC 8422;
 * AEAD suites of RFC 5289 and RFC 7905; RFC 7627 extended master secret;
 * RFC 5746 secure renegotiation signalling; RFC 7507 fallback SCSV).
 *
 * Implementation notes
 *
 *   S12_START --ClientHello--> ServerHello, Certificate, ServerKeyExchange,
 *   ServerHelloDone --> S12_WAIT_CKE --ClientKeyExchange--> S12_WAIT_CCS
 *   --ChangeCipherSpec--> S12_WAIT_FINISHED --Finished--> ChangeCipherSpec,
 *   Finished --> S12_CONNECTED
 *
 * - Entered from server.c (tls12_server_wants) when the configuration
 *   allows 1.2 (version_min 0x0303) and the ClientHello does not list
 *   0x0304 in supported_versions, or our maximum is 1.2.
 * - Required of the client: the extended_master_secret extension (RFC
 *   7627 §5.2: we abort instead of falling back to the legacy master
 *   secret), renegotiation_info or TLS_EMPTY_RENEGOTIATION_INFO_SCSV
 *   (RFC 5746 §3.6; renegotiation itself is never done), an AEAD ECDHE
 *   suite for our certificate's key type, and signature_algorithms (the
 *   SHA-1 default of RFC 5246 §7.4.1.4.1 is not supported).
 * - ECDSA schemes are used with their TLS 1.3 meaning only (the crypto
 *   table's pkey_can): ecdsa_secp256r1_sha256 for a P-256 key,
 *   ecdsa_secp384r1_sha384 for a P-384 key. TLS 1.2 would allow any
 *   ECDSA hash on any curve; we restrict ourselves to the matching pairs.
 *   For RSA keys rsa_pkcs1_sha256/384 are tried after the configured
 *   schemes (allowed in 1.2 ServerKeyExchange, never in 1.3).
 * - ALPN (RFC 7301 §3.1) is answered in the ServerHello, chosen as in 1.3;
 *   record_size_limit (RFC 8449) is applied with 1.2's meaning (plaintext
 *   bytes) and ours echoed.
 * - Session tickets (RFC 5077): a client that sends the SessionTicket
 *   extension empty gets it back empty in the ServerHello and a
 *   NewSessionTicket before our ChangeCipherSpec (in the transcript, §3.3);
 *   the ticket is hs_ticket.c's sealed state with the master secret. A
 *   client that sends one of our tickets for the same server name, with a
 *   session ID and the ticket's suite still offered, resumes (§3.1):
 *   ServerHello echoing its session ID, our ChangeCipherSpec and Finished
 *   first, then the client's; no certificate, no key exchange, the key
 *   block from the ticket's master secret and the new randoms. No new
 *   ticket on a resumed connection (the client keeps the one it has).
 *   Any ticket that does not open or fit gives a full handshake.
 *
 *   ... S12_START --ClientHello with a ticket--> ServerHello, CCS, Finished
 *   --> S12_R_WAIT_CCS --CCS--> S12_R_WAIT_FINISHED --Finished--> CONNECTED
 * - Session IDs (RFC 5246 §7.4.1.2) for clients without tickets, when the
 *   configuration has a cache (sid_cache.c, off by default): a full
 *   handshake's ServerHello carries a fresh 32-byte ID, the session goes
 *   into the cache once the client's Finished verifies, and a ClientHello
 *   offering that ID (and the session's suite, for the same server name)
 *   resumes as with a ticket.
 * - Client certificates (RFC 5246 §7.4.4, §7.4.6, §7.4.8) when the
 *   configuration asks for them: a CertificateRequest before
 *   ServerHelloDone (ECDSA and RSA types, our signature schemes, no CA
 *   names), the client's Certificate verified as in 1.3 (missing but
 *   required: handshake_failure, 1.2 has no certificate_required), its
 *   CertificateVerify checked over the raw handshake messages (hs->raw12).
 *   Such a server neither resumes nor issues tickets or session IDs: a
 *   resumed session would not carry the client's certificate.
 *
 *   ... ServerHelloDone --> S12_WAIT_CERT --Certificate--> S12_WAIT_CKE
 *   --ClientKeyExchange--> S12_WAIT_CV (if it sent one)
 *   --CertificateVerify--> S12_WAIT_CCS ...
 * - Keys: the read keys are installed when the client's ChangeCipherSpec
 *   arrives (tls12_server_ccs), the write keys right after ours. */
#include "tls/hs.h"
#include "tls/hs12.h"

#include <errno.h>
#include <string.h>

enum tls12_server_state {
	S12_START = 100, /* apart from server.c's states */
	S12_WAIT_CERT,	 /* we sent a CertificateRequest */
	S12_WAIT_CKE,
	S12_WAIT_CV, /* the client sent a certificate */
	S12_WAIT_CCS,
	S12_WAIT_FINISHED,
	S12_R_WAIT_CCS, /* resumed (RFC 5077 §3.1): our Finished went first */
	S12_R_WAIT_FINISHED,
	S12_CONNECTED,
};

/* What we take from a 1.2 ClientHello. Pointers into the message. */
struct ch12 {
	uint16_t version;
	const uint8_t *random;
	struct brd sid, suites, comp;
	const uint8_t *ext; /* the extension block's content; NULL: none */
	size_t ext_len;
	struct tls_exts x; /* the common ones (ext.c) */
	unsigned scsv;	   /* HS12_SCSV_F_* */
};

/* §7.4.1.2: the fixed fields and the optional extension block. */
static bool ch12_split(const uint8_t *msg, size_t len, struct ch12 *ch)
{
	struct brd r = brd_make(msg + 4, len - 4);
	ch->version = brd_u16(&r);
	ch->random = brd_take(&r, TLS12_RANDOM_LEN);
	ch->sid = brd_vec(&r, 1);
	ch->suites = brd_vec(&r, 2);
	ch->comp = brd_vec(&r, 1);
	if (brd_ok(&r) && brd_left(&r)) {
		struct brd e = brd_vec(&r, 2);
		ch->ext = e.p;
		ch->ext_len = e.len;
	}
	return brd_done(&r) && ch->sid.len <= 32 && ch->suites.len >= 2 && ch->suites.len % 2 == 0 &&
	       ch->comp.len >= 1;
}

bool tls12_server_wants(struct synack_tls *t, const uint8_t *msg, size_t len)
{
	struct ch12 ch = {.ext = NULL};
	const uint8_t *sv = NULL;
	size_t svlen = 0;
	if (t->cfg->version_min > SYNACK_TLS_VERSION_12 || len < 4 || msg[0] != TLS_HS_CLIENT_HELLO ||
	    !ch12_split(msg, len, &ch))
		return false; /* the 1.3 path answers (protocol_version, decode_error) */
	if (t->cfg->version_max == SYNACK_TLS_VERSION_12)
		return true;
	if (ch.ext && !hs12_ext_find(ch.ext, ch.ext_len, TLS_EXT_SUPPORTED_VERSIONS, &sv, &svlen)) {
		struct brd r = brd_make(sv, svlen), l = brd_vec(&r, 1);
		while (brd_ok(&l) && brd_left(&l) >= 2)
			if (brd_u16(&l) == SYNACK_TLS_VERSION_13)
				return false;
		return true;
	}
	return ch.version >= SYNACK_TLS_VERSION_12;
}

/* ---- ClientHello (RFC 5246 §7.4.1.2) ---- */

static int ch12_parse(struct synack_tls *t, const uint8_t *msg, size_t len, struct ch12 *ch)
{
	const char *why = "";
	if (!ch12_split(msg, len, ch))
		return hs_decode_error(t, "ClientHello");
	struct brd e = brd_make(ch->ext ? ch->ext : (const uint8_t *)"", ch->ext_len);
	int alert = tls_ext_parse(&e, TLS_CTX_CH, ~0u, &ch->x, &why);
	if (alert)
		return tls_fail(t, alert, "ClientHello: %s", why);
	if (hs12_scsv_scan(ch->suites.p, ch->suites.len, &ch->scsv))
		return hs_decode_error(t, "ClientHello cipher_suites");
	if (!memchr(ch->comp.p, 0, ch->comp.len)) /* §7.4.1.2: null must be listed */
		return tls_fail(t, SYNACK_TLS_ALERT_ILLEGAL_PARAMETER, "compression_methods without null");
	return tls_server_record_sni(t, &ch->x);
}

/* Find one of the 1.2 extensions: 0 present, 1 absent, else failed. */
static int ch12_ext(struct synack_tls *t, const struct ch12 *ch, uint16_t type, const uint8_t **d, size_t *n)
{
	int r = ch->ext ? hs12_ext_find(ch->ext, ch->ext_len, type, d, n) : -ENOENT;
	if (r == -ENOENT)
		return 1;
	if (r == -EPROTO)
		return tls_fail(t, SYNACK_TLS_ALERT_ILLEGAL_PARAMETER, "extension %u twice", type);
	return r ? hs_decode_error(t, "ClientHello extensions") : 0;
}

/* RFC 8449 §4: the client's record_size_limit counts plaintext bytes in
 * TLS 1.2 (at most 2^14); we send no larger records and echo ours. */
static int ch12_rsl(struct synack_tls *t, const struct ch12 *ch)
{
	if (!(ch->x.present & XBIT(X_RSL)))
		return 0;
	if (ch->x.rsl < 64)
		return tls_fail(t, SYNACK_TLS_ALERT_ILLEGAL_PARAMETER, "record_size_limit %u", ch->x.rsl);
	size_t lim = ch->x.rsl < TLS12_MAX_PLAINTEXT ? ch->x.rsl : TLS12_MAX_PLAINTEXT;
	if (t->send_limit == 0 || lim < t->send_limit)
		t->send_limit = lim;
	t->hs->rsl12 = true;
	return 0;
}

/* RFC 7507 §3, RFC 5746 §3.6, RFC 7627 §5.2, RFC 8422 §5.1.2. */
static int ch12_checks(struct synack_tls *t, const struct ch12 *ch)
{
	const uint8_t *d = NULL;
	size_t n;
	int r;
	if (ch->version < SYNACK_TLS_VERSION_12)
		return tls_fail(t, SYNACK_TLS_ALERT_PROTOCOL_VERSION, "client_version 0x%04x below TLS 1.2",
				ch->version);
	if ((ch->x.present & XBIT(X_VERSIONS)) &&
	    !tls_list_has(ch->x.versions, ch->x.nversions, SYNACK_TLS_VERSION_12)) /* RFC 8446 §4.2.1 */
		return tls_fail(t, SYNACK_TLS_ALERT_PROTOCOL_VERSION,
				"supported_versions lists neither 1.3 nor 1.2");
	if (hs12_fallback_inappropriate(ch->scsv, SYNACK_TLS_VERSION_12, t->cfg->version_max))
		return tls_fail(t, SYNACK_TLS_ALERT_INAPPROPRIATE_FALLBACK,
				"TLS_FALLBACK_SCSV with TLS 1.2 while we support TLS 1.3 (RFC 7507)");
	if ((r = ch12_ext(t, ch, HS12_EXT_RENEGOTIATION_INFO, &d, &n)) < 0)
		return r;
	if (!r && (r = hs12_ext_reneg_parse(d, n)))
		return r == -EPROTO ? tls_fail(t, SYNACK_TLS_ALERT_HANDSHAKE_FAILURE,
					       "non-empty renegotiation_info on an initial handshake")
				    : hs_decode_error(t, "renegotiation_info");
	if (r && !(ch->scsv & HS12_SCSV_F_RENEGOTIATION))
		return tls_fail(t, SYNACK_TLS_ALERT_HANDSHAKE_FAILURE,
				"client signals no secure renegotiation (RFC 5746 required)");
	if ((r = ch12_ext(t, ch, HS12_EXT_EXTENDED_MASTER, &d, &n)) < 0)
		return r;
	if (r)
		return tls_fail(t, SYNACK_TLS_ALERT_HANDSHAKE_FAILURE,
				"client does not offer extended_master_secret (RFC 7627 required)");
	if (hs12_ext_ems_parse(d, n))
		return hs_decode_error(t, "extended_master_secret");
	if ((r = ch12_ext(t, ch, HS12_EXT_EC_POINT_FORMATS, &d, &n)) < 0)
		return r;
	if (!r && (r = hs12_ext_ecpf_parse(d, n)))
		return r == -EPROTO ? tls_fail(t, SYNACK_TLS_ALERT_ILLEGAL_PARAMETER,
					       "ec_point_formats without uncompressed")
				    : hs_decode_error(t, "ec_point_formats");
	t->hs->ecpf = !r && d;
	return ch12_rsl(t, ch);
}

/* RFC 8422 §5.3: an ECDSA certificate's curve must be one the client
 * lists in supported_groups (when it sends the extension). */
static int check_cert_curve(struct synack_tls *t, const struct ch12 *ch)
{
	const struct crypto_pkey *k = t->cfg->key;
	uint16_t curve = t->crypto->pkey_can(k, CRYPTO_ECDSA_SECP256R1_SHA256)	 ? SYNACK_TLS_GROUP_SECP256R1
			 : t->crypto->pkey_can(k, CRYPTO_ECDSA_SECP384R1_SHA384) ? SYNACK_TLS_GROUP_SECP384R1
										 : 0;
	if (!curve || !(ch->x.present & XBIT(X_GROUPS)) || tls_list_has(ch->x.groups, ch->x.ngroups, curve))
		return 0;
	return tls_fail(t, SYNACK_TLS_ALERT_HANDSHAKE_FAILURE,
			"our certificate's curve %s is not in the client's supported_groups (RFC 8422 §5.3)",
			synack_tls_group_name(curve));
}

/* Our suite for our key type (§7.4.1.3), group (RFC 8422 §5.1.1) and
 * ServerKeyExchange scheme (§7.4.1.4.1). */
static int ch12_choose(struct synack_tls *t, const struct ch12 *ch)
{
	struct tls_hs *hs = t->hs;
	const struct synack_tls_config *cfg = t->cfg;
	const char *why = "";
	int auth = cfg->key ? hs12_auth_of_key(t->crypto, cfg->key) : 0;
	if (!cfg->chain_n || !auth)
		return tls_fail(t, SYNACK_TLS_ALERT_HANDSHAKE_FAILURE, "no certificate usable with TLS 1.2");
	uint16_t prefs[ARRAY_LEN(hs12_suites)];
	size_t np = hs12_suites_for(cfg->suites, cfg->nsuites, prefs, ARRAY_LEN(prefs));
	int r = hs12_choose_suite(ch->suites.p, ch->suites.len, auth, prefs, np, &hs->suite12, &why);
	if (r)
		return tls_fail(t, SYNACK_TLS_ALERT_HANDSHAKE_FAILURE, "TLS 1.2: %s", why);
	for (size_t i = 0; i < cfg->ngroups && !hs->group; i++)
		if (hs12_point_len(cfg->groups[i]) &&
		    (!(ch->x.present & XBIT(X_GROUPS)) ||
		     tls_list_has(ch->x.groups, ch->x.ngroups, cfg->groups[i])))
			hs->group = cfg->groups[i];
	if (!hs->group)
		return tls_fail(t, SYNACK_TLS_ALERT_HANDSHAKE_FAILURE, "no common ECDHE group");
	if ((r = check_cert_curve(t, ch)))
		return r;
	if (!(ch->x.present & XBIT(X_SIGALGS)))
		return tls_fail(t, SYNACK_TLS_ALERT_HANDSHAKE_FAILURE,
				"no signature_algorithms (the SHA-1 default is not supported)");
	uint16_t cand[TLS_MAX_LIST + 2];
	size_t nc = cfg->nsigschemes;
	memcpy(cand, cfg->sigschemes, nc * sizeof *cand);
	cand[nc++] = CRYPTO_RSA_PKCS1_SHA256; /* 1.2 only (RFC 8446 §4.2.3) */
	cand[nc++] = CRYPTO_RSA_PKCS1_SHA384;
	for (size_t i = 0; i < nc && !hs->sigscheme; i++)
		if (tls_list_has(ch->x.sigalgs, ch->x.nsigalgs, cand[i]) &&
		    t->crypto->pkey_can(cfg->key, cand[i]))
			hs->sigscheme = cand[i];
	if (!hs->sigscheme)
		return tls_fail(t, SYNACK_TLS_ALERT_HANDSHAKE_FAILURE, "no signature scheme for our key");
	hs->hlen = tls_hash_len(t->crypto, hs->suite12->hash);
	return 0;
}

/* ---- the server's flight (§7.4.1.3, §7.4.2, §7.4.3, §7.4.5) ---- */

/* §7.4.1.3; RFC 8446 §4.1.3 (sentinel); RFC 5746 §3.6, RFC 7627 §5.1. */
static int send_server_hello(struct synack_tls *t, const struct brd *sid)
{
	struct tls_hs *hs = t->hs;
	uint8_t buf[256];
	struct bbuf b = bbuf_make(buf, sizeof buf);
	hs_random(t, hs->server_random, TLS12_RANDOM_LEN);
	if (t->cfg->version_max > SYNACK_TLS_VERSION_12)
		hs12_downgrade_set(hs->server_random, SYNACK_TLS_VERSION_12);
	bbuf_u8(&b, TLS_HS_SERVER_HELLO);
	size_t m = bbuf_vec_open(&b, 3);
	bbuf_u16(&b, SYNACK_TLS_VERSION_12);
	bbuf_put(&b, hs->server_random, TLS12_RANDOM_LEN);
	bbuf_u8(&b, (uint8_t)sid->len); /* the client's when resuming (RFC 5077 §3.4), else empty */
	bbuf_put(&b, sid->p, sid->len);
	bbuf_u16(&b, hs->suite12->id);
	bbuf_u8(&b, 0); /* compression: null */
	size_t x = bbuf_vec_open(&b, 2);
	hs12_ext_reneg_put(&b);
	hs12_ext_ems_put(&b);
	if (hs->ecpf)
		hs12_ext_ecpf_put(&b);
	if (hs->rsl12) { /* RFC 8449 §4: ours, 2^14 in TLS 1.2 */
		bbuf_u16(&b, TLS_EXT_RECORD_SIZE_LIMIT);
		bbuf_u16(&b, 2);
		bbuf_u16(&b, TLS12_MAX_PLAINTEXT);
	}
	if (hs->ticket12) { /* RFC 5077 §3.2: empty, a NewSessionTicket will follow */
		bbuf_u16(&b, HS12_EXT_SESSION_TICKET);
		bbuf_u16(&b, 0);
	}
	if (hs->alpn12) {
		bbuf_u16(&b, TLS_EXT_ALPN);
		size_t e = bbuf_vec_open(&b, 2), l = bbuf_vec_open(&b, 2);
		bbuf_put(&b, hs->alpn12, 1 + (size_t)hs->alpn12[0]);
		bbuf_vec_close(&b, l, 2);
		bbuf_vec_close(&b, e, 2);
	}
	bbuf_vec_close(&b, x, 2);
	bbuf_vec_close(&b, m, 3);
	int err = hs12_send_msg(t, &b, "ServerHello");
	if (!err)
		HS_TRACE_OUT(t, b.p, b.len, "ServerHello TLSv1.2 suite=%s ems%s%s%s%s%s", hs->suite12->name,
			     t->cfg->version_max > SYNACK_TLS_VERSION_12 ? " downgrade-sentinel" : "",
			     t->info.alpn[0] ? " alpn=" : "", t->info.alpn, hs->ticket12 ? " ticket" : "",
			     hs->resume12 ? " resumed" : "");
	return err;
}

/* RFC 8422 §5.4: ECDHE params signed with client_random + server_random. */
static int send_server_key_exchange(struct synack_tls *t)
{
	struct tls_hs *hs = t->hs;
	uint8_t pub[CRYPTO_KEX_PUB_MAX], pbuf[HS12_PARAMS_MAX], sbuf[HS12_SIGNED_MAX], sig[CRYPTO_SIG_MAX];
	uint8_t buf[16 + HS12_PARAMS_MAX + CRYPTO_SIG_MAX];
	size_t plen = 0, slen = 0;
	struct bbuf p = bbuf_make(pbuf, sizeof pbuf), s = bbuf_make(sbuf, sizeof sbuf);
	struct bbuf b = bbuf_make(buf, sizeof buf);
	int err = hs_kex_new(t, hs->group, pub, sizeof pub, &plen);
	if (err)
		return err;
	if (hs12_ecdh_params_build(&p, hs->group, pub, plen) ||
	    hs12_ske_signed_content(&s, hs->client_random, hs->server_random, p.p, p.len) ||
	    t->crypto->sign(t->cfg->key, hs->sigscheme, s.p, s.len, sig, sizeof sig, &slen))
		return tls_fail(t, SYNACK_TLS_ALERT_INTERNAL_ERROR, "ServerKeyExchange with %s",
				synack_tls_sigscheme_name(hs->sigscheme));
	bbuf_u8(&b, TLS_HS_SERVER_KEY_EXCHANGE);
	size_t m = bbuf_vec_open(&b, 3);
	hs12_ske_build(&b, p.p, p.len, hs->sigscheme, sig, slen);
	bbuf_vec_close(&b, m, 3);
	if ((err = hs12_send_msg(t, &b, "ServerKeyExchange")))
		return err;
	HS_TRACE_OUT(t, b.p, b.len, "ServerKeyExchange %s %s", synack_tls_group_name(hs->group),
		     synack_tls_sigscheme_name(hs->sigscheme));
	return 0;
}

/* §7.4.4: ECDSA and RSA certificates, our signature schemes (with
 * rsa_pkcs1, as a 1.2 client may sign with them), no CA names. */
static int send_cert_request(struct synack_tls *t)
{
	uint16_t schemes[TLS_MAX_LIST + 2];
	uint8_t buf[16 + 2 * (TLS_MAX_LIST + 2)];
	struct bbuf b = bbuf_make(buf, sizeof buf);
	size_t n = tls12_client_sigschemes(t->cfg, schemes, TLS_MAX_LIST + 2);
	bbuf_u8(&b, TLS_HS_CERTIFICATE_REQUEST);
	size_t m = bbuf_vec_open(&b, 3);
	bbuf_u8(&b, 2);
	bbuf_u8(&b, HS12_CERT_TYPE_ECDSA_SIGN);
	bbuf_u8(&b, HS12_CERT_TYPE_RSA_SIGN);
	size_t l = bbuf_vec_open(&b, 2);
	for (size_t i = 0; i < n; i++)
		bbuf_u16(&b, schemes[i]);
	bbuf_vec_close(&b, l, 2);
	bbuf_u16(&b, 0); /* certificate_authorities: none named */
	bbuf_vec_close(&b, m, 3);
	int err = hs12_send_msg(t, &b, "CertificateRequest");
	if (!err)
		HS_TRACE_OUT(t, b.p, b.len, "CertificateRequest");
	t->hs->cert_req = true;
	return err;
}

/* §7.4.5. */
static int send_server_hello_done(struct synack_tls *t)
{
	uint8_t buf[8];
	struct bbuf b = bbuf_make(buf, sizeof buf);
	bbuf_u8(&b, TLS_HS_SERVER_HELLO_DONE);
	size_t m = bbuf_vec_open(&b, 3);
	hs12_server_hello_done_build(&b);
	bbuf_vec_close(&b, m, 3);
	int err = hs12_send_msg(t, &b, "ServerHelloDone");
	if (!err)
		HS_TRACE_OUT(t, b.p, b.len, "ServerHelloDone");
	return err;
}

static void trace_ch12(struct synack_tls *t, const uint8_t *msg, size_t len, int epoch, const struct ch12 *ch)
{
	char suites[96], groups[64];
	uint16_t su[8];
	size_t nsu = 0;
	struct brd r = ch->suites;
	while (brd_left(&r) && nsu < 8)
		su[nsu++] = brd_u16(&r);
	HS_TRACE_IN(t, msg, len, epoch, "ClientHello TLSv1.2 suites=%s groups=%s%s%s",
		    tls_list_names(su, nsu, synack_tls_suite_name, suites, sizeof suites),
		    tls_list_names(ch->x.groups, ch->x.ngroups, synack_tls_group_name, groups, sizeof groups),
		    ch->x.sni ? " sni=" : "", t->info.sni);
}

/* RFC 5077 §3.1: one of our tickets, for this server name, whose suite the
 * client offers again and we still allow, with a session ID to echo. */
static bool ticket_resumes(struct synack_tls *t, const struct ch12 *ch, const uint8_t *tk, size_t n)
{
	struct tls_hs *hs = t->hs;
	struct tls_session s;
	uint8_t scratch[HS_TICKET_MAX];
	uint16_t ours[ARRAY_LEN(hs12_suites)];
	bool ok = false;
	if (!n || !ch->sid.len || hs_ticket_open(t, tk, n, scratch, sizeof scratch, &s))
		return false;
	const struct hs12_suite *su = hs12_suite_find(s.suite);
	size_t no = hs12_suites_for(t->cfg->suites, t->cfg->nsuites, ours, ARRAY_LEN(ours));
	struct brd l = ch->suites;
	while (su && brd_left(&l))
		ok |= brd_u16(&l) == su->id;
	ok = ok && tls_list_has(ours, no, su->id) && s.psk_len == TLS12_MASTER_LEN &&
	     s.sni_len == strlen(t->info.sni) && !memcmp(s.sni, t->info.sni, s.sni_len);
	if (ok) {
		hs->suite12 = su;
		memcpy(hs->master12, s.psk, TLS12_MASTER_LEN);
	}
	tls_wipe(scratch, sizeof scratch);
	return ok;
}

/* RFC 5246 §7.4.1.2: a session ID of our cache (sid_cache.c), for this
 * server name, whose suite the client offers again and we still allow. */
static bool sid_resumes(struct synack_tls *t, const struct ch12 *ch)
{
	uint16_t suite = 0, ours[ARRAY_LEN(hs12_suites)];
	bool offered = false;
	if (!tls12_sid_get(t, ch->sid.p, ch->sid.len, &suite, t->hs->master12))
		return false;
	size_t no = hs12_suites_for(t->cfg->suites, t->cfg->nsuites, ours, ARRAY_LEN(ours));
	struct brd l = ch->suites;
	while (brd_left(&l))
		offered |= brd_u16(&l) == suite;
	if (!offered || !tls_list_has(ours, no, suite))
		return false;
	t->hs->suite12 = hs12_suite_find(suite);
	return true;
}

/* The ticket extension: whether the client takes tickets, and whether its
 * ticket (else its session ID) resumes. 0 or an error. */
static int ch12_ticket(struct synack_tls *t, const struct ch12 *ch)
{
	struct tls_hs *hs = t->hs;
	const uint8_t *d = NULL;
	size_t n = 0;
	int r = ch12_ext(t, ch, HS12_EXT_SESSION_TICKET, &d, &n);
	if (r < 0)
		return r;
	if (t->cfg->request_client_cert) /* a session would not carry the client's certificate */
		return 0;
	hs->resume12 = (!r && ticket_resumes(t, ch, d, n)) || sid_resumes(t, ch);
	hs->ticket12 = !r && !hs->resume12 && t->cfg->ticket_count && t->cfg->ticket_lifetime_s;
	if (!hs->resume12 && !hs->ticket12 && tls12_sid_enabled(t)) { /* a session ID for the cache */
		hs->session_id_len = 32;
		hs_random(t, hs->session_id, hs->session_id_len);
	}
	return 0;
}

/* §7.4.9: verify_data over every handshake message before this one. */

/* RFC 5077 §3.1, RFC 5246 §7.3 (abbreviated handshake): ServerHello, then
 * our ChangeCipherSpec and Finished under keys from the session's master
 * secret and the new randoms. */
static int resume(struct synack_tls *t, const struct ch12 *ch)
{
	struct tls_hs *hs = t->hs;
	const struct hs12_suite *s = hs->suite12;
	int err = send_server_hello(t, &ch->sid);
	if (err)
		return err;
	if (tls12_key_block(t->crypto, s->hash, s->aead, hs->master12, hs->client_random, hs->server_random,
			    &hs->kb12))
		return tls_fail(t, SYNACK_TLS_ALERT_INTERNAL_ERROR, "TLS 1.2 key block");
	tls_keylog(t, "CLIENT_RANDOM", hs->client_random, hs->master12, TLS12_MASTER_LEN);
	if ((err = hs12_send_finished(t)))
		return err;
	t->info.resumed = true;
	hs->state = S12_R_WAIT_CCS;
	return 0;
}

/* §7.3: the ClientHello, answered by the server's whole first flight. */
static int on_client_hello(struct synack_tls *t, const uint8_t *msg, size_t len, int epoch)
{
	struct tls_hs *hs = t->hs;
	struct ch12 ch = {.ext = NULL};
	int err = ch12_parse(t, msg, len, &ch);
	if (err)
		return err;
	memcpy(hs->client_random, ch.random, TLS12_RANDOM_LEN);
	memcpy(t->client_random, ch.random, TLS12_RANDOM_LEN);
	trace_ch12(t, msg, len, epoch, &ch);
	hs->keep_raw12 = t->cfg->request_client_cert; /* for the client's CertificateVerify */
	if ((err = ch12_checks(t, &ch)) || (err = ch12_ticket(t, &ch)) ||
	    (!hs->resume12 && (err = ch12_choose(t, &ch))) ||
	    (err = tls_server_choose_alpn(t, &ch.x, &hs->alpn12)))
		return err;
	if (tls_record_set_version(t, SYNACK_TLS_VERSION_12) || tls_transcript_select(t, hs->suite12->hash))
		return tls_fail(t, SYNACK_TLS_ALERT_INTERNAL_ERROR, "TLS 1.2 record rules or transcript");
	t->info.version = SYNACK_TLS_VERSION_12;
	t->info.suite = hs->suite12->id;
	t->info.group = hs->group;
	t->info.sigscheme = hs->sigscheme; /* ours: 1.2 has no CertificateVerify from a client here */
	struct brd sid = brd_make(hs->session_id, hs->session_id_len); /* empty, or new for the cache */
	if ((err = hs_transcript(t, msg, len)))
		return err;
	if (hs->resume12)
		return resume(t, &ch);
	if ((err = send_server_hello(t, &sid)) || (err = hs_send_certificate12(t, false)) ||
	    (err = send_server_key_exchange(t)) ||
	    (t->cfg->request_client_cert && (err = send_cert_request(t))) ||
	    (err = send_server_hello_done(t)))
		return err;
	hs->state = hs->cert_req ? S12_WAIT_CERT : S12_WAIT_CKE;
	return 0;
}

/* ---- client certificates (§7.4.4, §7.4.6, §7.4.8) ---- */

static int on_client_certificate(struct synack_tls *t, const uint8_t *msg, size_t len, int epoch)
{
	int err = hs_recv_certificate12(t, msg, len, epoch);
	if (err)
		return err;
	if (!t->hs->peer_cert && t->cfg->require_client_cert) /* §7.4.6 */
		return tls_fail(t, SYNACK_TLS_ALERT_HANDSHAKE_FAILURE,
				"client sent no certificate (one is required)");
	t->hs->state = S12_WAIT_CKE;
	return 0;
}

/* §7.4.8: a signature over every handshake message before this one. */
static int on_cert_verify(struct synack_tls *t, const uint8_t *msg, size_t len, int epoch)
{
	struct tls_hs *hs = t->hs;
	uint16_t offered[TLS_MAX_LIST + 2];
	struct brd r = hs_body(msg, len);
	uint16_t scheme = brd_u16(&r);
	struct brd sig = brd_vec(&r, 2);
	if (!brd_done(&r) || !sig.len)
		return hs_decode_error(t, "CertificateVerify");
	HS_TRACE_IN(t, msg, len, epoch, "CertificateVerify %s", synack_tls_sigscheme_name(scheme));
	size_t no = tls12_client_sigschemes(t->cfg, offered, TLS_MAX_LIST + 2); /* what our request listed */
	if (!tls_list_has(offered, no, scheme) || !t->crypto->pkey_can(hs->peer_key, scheme))
		return tls_fail(t, SYNACK_TLS_ALERT_ILLEGAL_PARAMETER,
				"CertificateVerify with 0x%04x: not requested or not the certificate's key",
				scheme);
	if (t->crypto->verify(hs->peer_key, scheme, hs->raw12, hs->raw12_len, sig.p, sig.len))
		return tls_fail(t, SYNACK_TLS_ALERT_DECRYPT_ERROR,
				"CertificateVerify signature does not verify");
	hs->state = S12_WAIT_CCS;
	return hs_transcript(t, msg, len);
}

/* ---- the client's flight ---- */

/* RFC 8422 §5.7; RFC 7627 §4 (session_hash through ClientKeyExchange);
 * RFC 5246 §6.3 (key block). */
static int on_client_key_exchange(struct synack_tls *t, const uint8_t *msg, size_t len, int epoch)
{
	struct tls_hs *hs = t->hs;
	const struct hs12_suite *s = hs->suite12;
	const uint8_t *point = NULL;
	uint8_t pms[CRYPTO_KEX_SECRET_MAX], sh[CRYPTO_HASH_MAX];
	size_t plen = 0, pms_len = 0;
	int r = hs12_cke_parse(msg + 4, len - 4, hs->group, &point, &plen);
	if (r)
		return r == -EBADMSG
			   ? hs_decode_error(t, "ClientKeyExchange")
			   : tls_fail(t, SYNACK_TLS_ALERT_ILLEGAL_PARAMETER, "ClientKeyExchange group");
	HS_TRACE_IN(t, msg, len, epoch, "ClientKeyExchange %s", synack_tls_group_name(hs->group));
	if (t->crypto->kex_derive(hs->kex, point, plen, pms, sizeof pms, &pms_len))
		return tls_fail(t, SYNACK_TLS_ALERT_ILLEGAL_PARAMETER, "bad ECDHE public value");
	int err = hs_transcript(t, msg, len);
	if (!err && (tls_transcript_hash(t, sh) ||
		     tls12_extended_master_secret(t->crypto, s->hash, pms, pms_len, sh, hs->master12) ||
		     tls12_key_block(t->crypto, s->hash, s->aead, hs->master12, hs->client_random,
				     hs->server_random, &hs->kb12)))
		err = tls_fail(t, SYNACK_TLS_ALERT_INTERNAL_ERROR, "TLS 1.2 key derivation");
	tls_wipe(pms, sizeof pms);
	if (err)
		return err;
	tls_keylog(t, "CLIENT_RANDOM", hs->client_random, hs->master12, TLS12_MASTER_LEN);
	hs->state = hs->peer_cert ? S12_WAIT_CV : S12_WAIT_CCS;
	return 0;
}

/* §7.1: the client's ChangeCipherSpec makes its pending keys current. */
int tls12_server_ccs(struct synack_tls *t)
{
	struct tls_hs *hs = t->hs;
	if (hs->state != S12_WAIT_CCS && hs->state != S12_R_WAIT_CCS)
		return tls_fail(t, SYNACK_TLS_ALERT_UNEXPECTED_MESSAGE, "ChangeCipherSpec before %s",
				hs->state == S12_WAIT_CV	 ? "CertificateVerify"
				: hs->state == S12_WAIT_CERT	 ? "the client's Certificate"
				: hs->state == S12_WAIT_FINISHED ? "Finished (a second one)"
								 : "ClientKeyExchange");
	int err = tls12_set_keys(t, TLS_READ, hs->suite12->aead, hs->kb12.client_key, hs->kb12.client_iv);
	if (err)
		return err;
	hs->state = hs->state == S12_R_WAIT_CCS ? S12_R_WAIT_FINISHED : S12_WAIT_FINISHED;
	return 0;
}

/* RFC 5077 §3.3: a NewSessionTicket (in the transcript) with the sealed
 * session state: suite, master secret, server name, ALPN. */
static int send_ticket(struct synack_tls *t)
{
	uint8_t ticket[HS_TICKET_MAX], buf[16 + HS_TICKET_MAX];
	struct bbuf b = bbuf_make(buf, sizeof buf);
	size_t n = hs_ticket_seal(t, t->hs->master12, TLS12_MASTER_LEN, ticket, sizeof ticket);
	if (!n)
		return tls_fail(t, SYNACK_TLS_ALERT_INTERNAL_ERROR, "sealing a ticket");
	bbuf_u8(&b, TLS_HS_NEW_SESSION_TICKET);
	size_t m = bbuf_vec_open(&b, 3);
	hs12_nst_build(&b, t->cfg->ticket_lifetime_s, ticket, n);
	bbuf_vec_close(&b, m, 3);
	int err = hs12_send_msg(t, &b, "NewSessionTicket");
	if (!err)
		HS_TRACE_OUT(t, b.p, b.len, "NewSessionTicket lifetime=%u ticket=%zu bytes",
			     t->cfg->ticket_lifetime_s, n);
	return err;
}

/* §7.4.9: the client's Finished; on a full handshake our [NewSessionTicket,]
 * ChangeCipherSpec and Finished follow, on a resumed one ours went first. */
static int on_finished(struct synack_tls *t, const uint8_t *msg, size_t len, int epoch)
{
	struct tls_hs *hs = t->hs;
	int err = hs12_recv_finished(t, msg, len, epoch);
	if (err)
		return err;
	if (hs->state == S12_WAIT_FINISHED &&
	    ((hs->ticket12 && (err = send_ticket(t))) || (err = hs12_send_finished(t))))
		return err;
	if (hs->state == S12_WAIT_FINISHED && hs->session_id_len) /* RFC 5246 §7.4.1.3 */
		tls12_sid_put(t, hs->session_id, hs->session_id_len);
	hs->state = S12_CONNECTED;
	t->hs_done = true;
	tls_event(t, SYNACK_TLS_EV_HANDSHAKE_DONE);
	return 0;
}

/* ---- the dispatcher ---- */

int tls12_server_input(struct synack_tls *t, const uint8_t *msg, size_t len, int epoch)
{
	const int P = TLS_EPOCH_PLAINTEXT;
	int err;
	if (!t->hs->v12) {
		t->hs->v12 = true;
		t->hs->state = S12_START;
	}
	switch (t->hs->state) {
	case S12_START:
		return (err = hs_expect(t, msg, epoch, TLS_HS_CLIENT_HELLO, P, "waiting for ClientHello"))
			   ? err
			   : on_client_hello(t, msg, len, epoch);
	case S12_WAIT_CERT:
		return (err = hs_expect(t, msg, epoch, TLS_HS_CERTIFICATE, P,
					"waiting for the client's Certificate"))
			   ? err
			   : on_client_certificate(t, msg, len, epoch);
	case S12_WAIT_CV:
		return (err = hs_expect(t, msg, epoch, TLS_HS_CERTIFICATE_VERIFY, P,
					"waiting for CertificateVerify"))
			   ? err
			   : on_cert_verify(t, msg, len, epoch);
	case S12_WAIT_CKE:
		return (err = hs_expect(t, msg, epoch, TLS_HS_CLIENT_KEY_EXCHANGE, P,
					"waiting for ClientKeyExchange"))
			   ? err
			   : on_client_key_exchange(t, msg, len, epoch);
	case S12_WAIT_FINISHED:
	case S12_R_WAIT_FINISHED:
		return (err = hs_expect(t, msg, epoch, TLS_HS_FINISHED, TLS_EPOCH_APPLICATION,
					"waiting for Finished"))
			   ? err
			   : on_finished(t, msg, len, epoch);
	default: /* S12_WAIT_CCS, S12_R_WAIT_CCS: a message before ChangeCipherSpec */
		return hs_unexpected(t, msg, "waiting for ChangeCipherSpec");
	}
}
