/* The TLS 1.2 client full handshake (RFC 5246 §7.3; ECDHE of RFC 8422;
 * AEAD suites of RFC 5289 and RFC 7905; RFC 7627 extended master secret;
 * RFC 5746 secure renegotiation signalling; the RFC 8446 §4.1.3
 * downgrade sentinel).
 *
 * Implementation notes
 *
 *   (client.c sent a ClientHello offering 1.2) --ServerHello--> C12_WAIT_CERT
 *   --Certificate--> C12_WAIT_SKE --ServerKeyExchange--> C12_WAIT_SHD
 *   [--CertificateRequest--> C12_WAIT_SHD] --ServerHelloDone-->
 *   [Certificate (empty)], ClientKeyExchange, ChangeCipherSpec, Finished
 *   --> C12_WAIT_CCS --ChangeCipherSpec--> C12_WAIT_FINISHED --Finished-->
 *   C12_CONNECTED
 *
 * - client.c builds the one ClientHello for every version the
 *   configuration allows and hands the ServerHello here when it carries no
 *   supported_versions (tls12_client_sh_is_12): the server chose 1.2. From
 *   then on this file owns every message and ChangeCipherSpec (hs->v12).
 * - Required of the server: renegotiation_info (RFC 5746 §3.4) and
 *   extended_master_secret (RFC 7627 §5.2: we abort rather than fall back
 *   to the legacy master secret); an ECDHE AEAD suite we offered; a
 *   certificate whose key type is the suite's (RFC 8422 §5.3); a
 *   ServerKeyExchange for a group we offered, signed with a scheme we
 *   offered (RFC 5246 §7.4.1.4.1) that the certificate's key can make.
 * - A 1.3-capable client refuses a 1.2 ServerHello whose random ends with
 *   either downgrade sentinel (RFC 8446 §4.1.3: illegal_parameter).
 * - The ServerHello may only carry extensions we sent (RFC 5246 §7.4.1.4:
 *   unsupported_extension otherwise), each at most once.
 * - Session tickets (RFC 5077): every ClientHello that offers 1.2 carries
 *   the SessionTicket extension, empty or with the ticket of a saved 1.2
 *   session (then with a fresh 32-byte session ID). A ServerHello that
 *   echoes that ID resumes (§3.4): the server's [NewSessionTicket,]
 *   ChangeCipherSpec and Finished come first, then ours; keys from the
 *   saved master secret and the new randoms; the suite must be the
 *   session's. A full handshake whose ServerHello carried the extension
 *   expects a NewSessionTicket right before the server's ChangeCipherSpec;
 *   its ticket and the master secret become the session blob (struct
 *   tls_session: suite = the 1.2 suite, psk = the master secret).
 *
 *   ... --ServerHello echoing our ID--> C12_R_WAIT_NST (or C12_R_WAIT_CCS)
 *   --NewSessionTicket--> C12_R_WAIT_CCS --CCS--> C12_R_WAIT_FINISHED
 *   --Finished--> ChangeCipherSpec, Finished --> C12_CONNECTED
 * - A server that gives no ticket but a session ID: the ID becomes the
 *   session (sid_only) and is offered as our session ID next time, with an
 *   empty SessionTicket extension (RFC 5246 §7.4.1.2).
 * - Client certificates (§7.4.4, §7.4.6, §7.4.8): a CertificateRequest is
 *   answered with our certificate when the configuration has one whose key
 *   type and a signature scheme fit the request, and a CertificateVerify
 *   over the raw handshake messages (hs->raw12, kept from the ClientHello
 *   on when we have a certificate); otherwise with an empty Certificate.
 * - Keys: write keys right after our ChangeCipherSpec, read keys when the
 *   server's ChangeCipherSpec arrives in the one state that allows it (the
 *   EarlyCCS class); a Finished that is not under those keys is
 *   unexpected_message (the SKIP class: no state is ever jumped). */
#include "tls/hs.h"
#include "tls/hs12.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

_Static_assert(sizeof((struct tls_hs *)0)->peer_point12 >= HS12_POINT_MAX, "peer_point12");

enum tls12_client_state {
	C12_WAIT_CERT = 200, /* apart from client.c's states */
	C12_WAIT_SKE,
	C12_WAIT_SHD,
	C12_WAIT_NST, /* the ServerHello promised a ticket */
	C12_WAIT_CCS,
	C12_WAIT_FINISHED,
	C12_R_WAIT_NST, /* resumed */
	C12_R_WAIT_CCS,
	C12_R_WAIT_FINISHED,
	C12_CONNECTED,
};

/* The fixed fields of a ServerHello (§7.4.1.3). */
struct sh12 {
	uint16_t version, suite;
	const uint8_t *random;
	struct brd sid;
	uint8_t compression;
	struct brd ext; /* content of the extension block; len 0: none */
	bool has_ext;
};

static bool sh12_split(const uint8_t *msg, size_t len, struct sh12 *sh)
{
	struct brd r = hs_body(msg, len);
	sh->version = brd_u16(&r);
	sh->random = brd_take(&r, TLS12_RANDOM_LEN);
	sh->sid = brd_vec(&r, 1);
	sh->suite = brd_u16(&r);
	sh->compression = brd_u8(&r);
	sh->has_ext = brd_ok(&r) && brd_left(&r);
	sh->ext = sh->has_ext ? brd_vec(&r, 2) : brd_make(NULL, 0);
	return brd_done(&r) && sh->sid.len <= 32;
}

bool tls12_client_sh_is_12(const uint8_t *msg, size_t len)
{
	struct sh12 sh;
	const uint8_t *d;
	size_t n;
	if (len < 4 || !sh12_split(msg, len, &sh))
		return false; /* the 1.3 parser says decode_error */
	if (!sh.has_ext)
		return true;
	return hs12_ext_find(sh.ext.p, sh.ext.len, TLS_EXT_SUPPORTED_VERSIONS, &d, &n) == -ENOENT;
}

/* The signature schemes our ClientHello offers when it offers 1.2: the
 * configured ones and RSASSA-PKCS1-v1_5 (RFC 8446 §4.2.3: allowed in a 1.2
 * ServerKeyExchange, never in a 1.3 CertificateVerify). */
size_t tls12_client_sigschemes(const struct synack_tls_config *cfg, uint16_t *out, size_t cap)
{
	static const uint16_t pkcs1[] = {CRYPTO_RSA_PKCS1_SHA256, CRYPTO_RSA_PKCS1_SHA384};
	size_t n = 0;
	for (size_t i = 0; i < cfg->nsigschemes && n < cap; i++)
		out[n++] = cfg->sigschemes[i];
	for (size_t i = 0; i < 2 && n < cap; i++)
		if (!tls_list_has(out, n, pkcs1[i]))
			out[n++] = pkcs1[i];
	return n;
}

/* ---- sessions (RFC 5077) ---- */

#define TICKET_LIFE_MAX 604800 /* what we keep at most, as in 1.3 (RFC 8446 §4.6.1) */

static int64_t now_ms(struct synack_tls *t)
{
	return t->cfg->clock.unix_ms(t->cfg->clock.ctx);
}

bool tls12_client_session(struct synack_tls *t)
{
	struct tls_hs *hs = t->hs;
	struct tls_session s;
	uint16_t ours[ARRAY_LEN(hs12_suites)];
	size_t no = hs12_suites_for(t->cfg->suites, t->cfg->nsuites, ours, ARRAY_LEN(ours));
	if (!t->session || tls_session_parse(t->session, t->session_len, &s) || !hs12_suite_find(s.suite) ||
	    !tls_list_has(ours, no, s.suite) || s.psk_len != TLS12_MASTER_LEN ||
	    s.sni_len != strlen(t->server_name) || memcmp(s.sni, t->server_name, s.sni_len))
		return false;
	int64_t age = now_ms(t) - s.issued_ms;
	if (age < 0 || age > (int64_t)s.lifetime_s * 1000)
		return false;
	hs->resume12 = true;
	hs->suite12_resume = s.suite;
	memcpy(hs->master12, s.psk, TLS12_MASTER_LEN);
	hs->session_id_len = 32; /* RFC 5077 §3.4: the echo tells us the ticket was taken */
	if (s.sid_only && s.ticket_len == 32)
		memcpy(hs->session_id, s.ticket, 32); /* RFC 5246 §7.4.1.2: the session's own ID */
	else
		hs_random(t, hs->session_id, 32);
	return true;
}

void tls12_client_ticket_ext(struct synack_tls *t, struct bbuf *b)
{
	struct tls_session s;
	bbuf_u16(b, HS12_EXT_SESSION_TICKET);
	size_t e = bbuf_vec_open(b, 2);
	if (t->hs->resume12 && !tls_session_parse(t->session, t->session_len, &s) && !s.sid_only)
		bbuf_put(b, s.ticket, s.ticket_len);
	bbuf_vec_close(b, e, 2);
}

/* RFC 5077 §3.3: the ticket and the master secret as the session blob; or
 * (sid_only) the server's session ID in the ticket's place. */
static int store_session(struct synack_tls *t, const struct hs12_nst *n, bool sid_only)
{
	uint32_t life = n->lifetime_hint ? n->lifetime_hint : 3600; /* 0: unspecified */
	if (!n->ticket_len || n->ticket_len > TLS_HS_MAX_TICKET)
		return 0; /* none issued, or too big to keep */
	struct tls_session s = {.suite = t->hs->suite12->id,
				.issued_ms = now_ms(t),
				.lifetime_s = life < TICKET_LIFE_MAX ? life : TICKET_LIFE_MAX,
				.psk = t->hs->master12,
				.psk_len = TLS12_MASTER_LEN,
				.sni = (const uint8_t *)t->server_name,
				.sni_len = strlen(t->server_name),
				.alpn = (const uint8_t *)t->info.alpn,
				.alpn_len = strlen(t->info.alpn),
				.ticket = n->ticket,
				.ticket_len = n->ticket_len,
				.verified = t->info.peer_verified,
				.subject = (const uint8_t *)t->info.peer_subject,
				.subject_len = MIN(strlen(t->info.peer_subject), 255),
				.sid_only = sid_only};
	uint8_t *blob = tls_alloc(t, TLS_MAX_SESSION);
	if (!blob)
		return tls_fail(t, SYNACK_TLS_ALERT_INTERNAL_ERROR, "out of memory");
	struct bbuf b = bbuf_make(blob, TLS_MAX_SESSION);
	tls_session_build(&s, &b);
	int err = bbuf_ok(&b) ? tls_session_store(t, blob, b.len) : 0;
	tls_wipe(blob, b.len);
	tls_dealloc(t, blob, TLS_MAX_SESSION);
	return err < 0 ? tls_fail(t, SYNACK_TLS_ALERT_INTERNAL_ERROR, "storing the session") : 0;
}

static int on_new_session_ticket(struct synack_tls *t, const uint8_t *msg, size_t len, int epoch)
{
	struct hs12_nst n;
	if (hs12_nst_parse(msg + 4, len - 4, &n))
		return hs_decode_error(t, "NewSessionTicket");
	HS_TRACE_IN(t, msg, len, epoch, "NewSessionTicket lifetime=%u ticket=%zu bytes", n.lifetime_hint,
		    n.ticket_len);
	int err = store_session(t, &n, false);
	if (err || (err = hs_transcript(t, msg, len)))
		return err;
	t->hs->state = t->hs->state == C12_R_WAIT_NST ? C12_R_WAIT_CCS : C12_WAIT_CCS;
	return 0;
}

/* ---- ServerHello (RFC 5246 §7.4.1.3) ---- */

enum { SX_RI, SX_EMS, SX_ECPF, SX_SNI, SX_ALPN, SX_RSL, SX_TICKET };

/* RFC 7301 §3.1: exactly one name, one we offered. */
static int sh12_alpn(struct synack_tls *t, const uint8_t *d, size_t n)
{
	struct brd r = brd_make(d, n), list = brd_vec(&r, 2), name = brd_vec(&list, 1);
	if (!brd_done(&r) || !brd_done(&list) || name.len == 0)
		return hs_decode_error(t, "ServerHello application_layer_protocol_negotiation");
	struct brd mine = brd_make(t->cfg->alpn, t->cfg->alpn_len);
	while (brd_left(&mine)) {
		struct brd p = brd_vec(&mine, 1);
		if (p.len == name.len && !memcmp(p.p, name.p, p.len)) {
			memcpy(t->info.alpn, p.p,
			       p.len < sizeof t->info.alpn ? p.len : sizeof t->info.alpn - 1);
			return 0;
		}
	}
	return tls_fail(t, SYNACK_TLS_ALERT_ILLEGAL_PARAMETER, "server chose a protocol we did not offer");
}

/* RFC 8449 §4: in TLS 1.2 the limit is the plaintext size, at most 2^14. */
static int sh12_rsl(struct synack_tls *t, const uint8_t *d, size_t n)
{
	struct brd r = brd_make(d, n);
	uint16_t v = brd_u16(&r);
	if (!brd_done(&r))
		return hs_decode_error(t, "record_size_limit");
	if (v < 64)
		return tls_fail(t, SYNACK_TLS_ALERT_ILLEGAL_PARAMETER, "record_size_limit %u", v);
	size_t lim = v < TLS12_MAX_PLAINTEXT ? v : TLS12_MAX_PLAINTEXT;
	if (t->send_limit == 0 || lim < t->send_limit)
		t->send_limit = lim;
	return 0;
}

static int sh12_one_ext(struct synack_tls *t, uint16_t type, const uint8_t *d, size_t n, unsigned *seen)
{
	int which, r;
	switch (type) {
	case HS12_EXT_RENEGOTIATION_INFO:
		which = SX_RI;
		break;
	case HS12_EXT_EXTENDED_MASTER:
		which = SX_EMS;
		break;
	case HS12_EXT_EC_POINT_FORMATS:
		which = SX_ECPF;
		break;
	case TLS_EXT_SERVER_NAME:
		which = (t->hs->offered & XBIT(X_SNI)) ? SX_SNI : -1;
		break;
	case TLS_EXT_ALPN:
		which = (t->hs->offered & XBIT(X_ALPN)) ? SX_ALPN : -1;
		break;
	case TLS_EXT_RECORD_SIZE_LIMIT:
		which = SX_RSL;
		break;
	case HS12_EXT_SESSION_TICKET:
		which = SX_TICKET;
		break;
	default:
		which = -1;
	}
	if (which < 0)
		return tls_fail(t, SYNACK_TLS_ALERT_UNSUPPORTED_EXTENSION,
				"ServerHello extension %u we did not offer", type);
	if (*seen & (1u << which))
		return tls_fail(t, SYNACK_TLS_ALERT_ILLEGAL_PARAMETER, "ServerHello extension %u twice",
				type);
	*seen |= 1u << which;
	switch (which) {
	case SX_RI: /* RFC 5746 §3.4 */
		if ((r = hs12_ext_reneg_parse(d, n)))
			return r == -EPROTO ? tls_fail(t, SYNACK_TLS_ALERT_HANDSHAKE_FAILURE,
						       "non-empty renegotiation_info on an initial handshake")
					    : hs_decode_error(t, "renegotiation_info");
		return 0;
	case SX_EMS:
		return hs12_ext_ems_parse(d, n) ? hs_decode_error(t, "extended_master_secret") : 0;
	case SX_ECPF: /* RFC 8422 §5.2 */
		if ((r = hs12_ext_ecpf_parse(d, n)))
			return r == -EPROTO ? tls_fail(t, SYNACK_TLS_ALERT_ILLEGAL_PARAMETER,
						       "ec_point_formats without uncompressed")
					    : hs_decode_error(t, "ec_point_formats");
		return 0;
	case SX_SNI: /* RFC 6066 §3: the server's acknowledgement is empty */
		return n ? hs_decode_error(t, "ServerHello server_name") : 0;
	case SX_ALPN:
		return sh12_alpn(t, d, n);
	case SX_TICKET: /* RFC 5077 §3.2: empty; a NewSessionTicket will come */
		if (n)
			return hs_decode_error(t, "ServerHello SessionTicket");
		t->hs->ticket12 = true;
		return 0;
	default:
		return sh12_rsl(t, d, n);
	}
}

static int sh12_exts(struct synack_tls *t, struct brd e)
{
	unsigned seen = 0;
	int err;
	while (brd_ok(&e) && brd_left(&e)) {
		uint16_t type = brd_u16(&e);
		struct brd d = brd_vec(&e, 2);
		if (!brd_ok(&e))
			break;
		if ((err = sh12_one_ext(t, type, d.p, d.len, &seen)))
			return err;
	}
	if (!brd_done(&e))
		return hs_decode_error(t, "ServerHello extensions");
	if (!(seen & (1u << SX_RI)))
		return tls_fail(t, SYNACK_TLS_ALERT_HANDSHAKE_FAILURE,
				"server does not signal secure renegotiation (RFC 5746 required)");
	if (!(seen & (1u << SX_EMS)))
		return tls_fail(t, SYNACK_TLS_ALERT_HANDSHAKE_FAILURE,
				"server does not support extended_master_secret (RFC 7627 required)");
	return 0;
}

/* RFC 8446 §4.1.3 and RFC 5246 §7.4.1.3: version, sentinel, suite,
 * compression, session id. */
static int sh12_checks(struct synack_tls *t, const struct sh12 *sh, bool resumed)
{
	struct tls_hs *hs = t->hs;
	if (sh->version != SYNACK_TLS_VERSION_12)
		return tls_fail(t, SYNACK_TLS_ALERT_PROTOCOL_VERSION, "server chose version 0x%04x",
				sh->version);
	if (t->cfg->version_max >= SYNACK_TLS_VERSION_13 && hs12_downgrade_detect(sh->random))
		return tls_fail(t, SYNACK_TLS_ALERT_ILLEGAL_PARAMETER,
				"TLS 1.2 ServerHello with the downgrade sentinel: a TLS 1.3 server was "
				"forced down (RFC 8446 §4.1.3)");
	uint16_t offered[ARRAY_LEN(hs12_suites)];
	size_t no = hs12_suites_for(t->cfg->suites, t->cfg->nsuites, offered, ARRAY_LEN(offered));
	if (!tls_list_has(offered, no, sh->suite))
		return tls_fail(t, SYNACK_TLS_ALERT_ILLEGAL_PARAMETER,
				"server chose suite 0x%04x we did not offer for TLS 1.2", sh->suite);
	if (sh->compression != 0)
		return tls_fail(t, SYNACK_TLS_ALERT_ILLEGAL_PARAMETER, "compression method %u",
				sh->compression);
	bool echo = sh->sid.len && sh->sid.len == hs->session_id_len &&
		    !memcmp(sh->sid.p, hs->session_id, sh->sid.len);
	if (echo && !resumed)
		return tls_fail(t, SYNACK_TLS_ALERT_ILLEGAL_PARAMETER,
				"server resumes a TLS 1.2 session we did not offer");
	if (resumed && sh->suite != hs->suite12_resume) /* RFC 5246 §7.4.1.3 */
		return tls_fail(t, SYNACK_TLS_ALERT_ILLEGAL_PARAMETER,
				"resumed with suite 0x%04x, not the session's 0x%04x", sh->suite,
				hs->suite12_resume);
	return 0;
}

/* RFC 5077 §3.1, RFC 5246 §7.3: the abbreviated handshake's keys from the
 * saved master secret; the full handshake's verdict on the server. */
static int resumed_keys(struct synack_tls *t)
{
	struct tls_hs *hs = t->hs;
	const struct hs12_suite *s = hs->suite12;
	struct tls_session ss;
	if (tls12_key_block(t->crypto, s->hash, s->aead, hs->master12, hs->client_random, hs->server_random,
			    &hs->kb12))
		return tls_fail(t, SYNACK_TLS_ALERT_INTERNAL_ERROR, "TLS 1.2 key block");
	tls_keylog(t, "CLIENT_RANDOM", hs->client_random, hs->master12, TLS12_MASTER_LEN);
	t->info.resumed = true;
	if (!tls_session_parse(t->session, t->session_len, &ss)) {
		t->info.peer_verified = ss.verified;
		snprintf(t->info.peer_subject, sizeof t->info.peer_subject, "%.*s", (int)ss.subject_len,
			 (const char *)ss.subject);
	}
	hs->state = hs->ticket12 ? C12_R_WAIT_NST : C12_R_WAIT_CCS;
	return 0;
}

int tls12_client_server_hello(struct synack_tls *t, const uint8_t *msg, size_t len, int epoch)
{
	struct tls_hs *hs = t->hs;
	struct sh12 sh;
	if (!sh12_split(msg, len, &sh))
		return hs_decode_error(t, "ServerHello");
	const struct hs12_suite *s = hs12_suite_find(sh.suite);
	HS_TRACE_IN(t, msg, len, epoch, "ServerHello TLSv1.2 suite=%s",
		    s ? s->name : synack_tls_suite_name(sh.suite));
	if (t->cfg->version_min > SYNACK_TLS_VERSION_12)
		return tls_fail(t, SYNACK_TLS_ALERT_PROTOCOL_VERSION,
				"server chose version 0x%04x; we allow only TLS 1.3", sh.version);
	bool resumed = hs->resume12 && sh.sid.len && sh.sid.len == hs->session_id_len &&
		       !memcmp(sh.sid.p, hs->session_id, sh.sid.len);
	int err = sh12_checks(t, &sh, resumed);
	if (err || (err = sh12_exts(t, sh.ext)))
		return err;
	hs->v12 = true;
	hs->suite12 = s;
	if (!resumed) {
		hs->sid12_len = sh.sid.len;
		memcpy(hs->sid12, sh.sid.p, sh.sid.len);
	}
	hs->hlen = tls_hash_len(t->crypto, s->hash);
	memcpy(hs->client_random, t->client_random, TLS12_RANDOM_LEN);
	memcpy(hs->server_random, sh.random, TLS12_RANDOM_LEN);
	if (tls_record_set_version(t, SYNACK_TLS_VERSION_12) || tls_transcript_select(t, s->hash))
		return tls_fail(t, SYNACK_TLS_ALERT_INTERNAL_ERROR, "TLS 1.2 record rules or transcript");
	t->info.version = SYNACK_TLS_VERSION_12;
	t->info.suite = s->id;
	hs->state = C12_WAIT_CERT;
	if ((err = hs_transcript(t, msg, len)) || !resumed)
		return err;
	return resumed_keys(t);
}

/* ---- Certificate (§7.4.2), ServerKeyExchange (RFC 8422 §5.4) ---- */

static int on_certificate(struct synack_tls *t, const uint8_t *msg, size_t len, int epoch)
{
	struct tls_hs *hs = t->hs;
	int err = hs_recv_certificate12(t, msg, len, epoch);
	if (err)
		return err;
	if (!hs->peer_cert)
		return tls_fail(t, SYNACK_TLS_ALERT_HANDSHAKE_FAILURE, "server sent no certificate");
	if (hs12_auth_of_key(t->crypto, hs->peer_key) != hs->suite12->auth) /* RFC 8422 §5.3 */
		return tls_fail(t, SYNACK_TLS_ALERT_UNSUPPORTED_CERTIFICATE,
				"the certificate's key does not fit %s", hs->suite12->name);
	hs->state = C12_WAIT_SKE;
	return 0;
}

static int on_server_key_exchange(struct synack_tls *t, const uint8_t *msg, size_t len, int epoch)
{
	struct tls_hs *hs = t->hs;
	struct hs12_ske ske;
	uint8_t sbuf[HS12_SIGNED_MAX];
	uint16_t offered[TLS_MAX_LIST + 2];
	struct bbuf s = bbuf_make(sbuf, sizeof sbuf);
	int r = hs12_ske_parse(msg + 4, len - 4, &ske);
	if (r == -EBADMSG)
		return hs_decode_error(t, "ServerKeyExchange");
	HS_TRACE_IN(t, msg, len, epoch, "ServerKeyExchange %s %s", synack_tls_group_name(ske.group),
		    synack_tls_sigscheme_name(ske.scheme));
	if (r || !hs12_point_len(ske.group) || !tls_list_has(t->cfg->groups, t->cfg->ngroups, ske.group))
		return tls_fail(t, SYNACK_TLS_ALERT_ILLEGAL_PARAMETER,
				"ServerKeyExchange group 0x%04x we did not offer", ske.group);
	size_t no = tls12_client_sigschemes(t->cfg, offered, TLS_MAX_LIST + 2);
	if (!tls_list_has(offered, no, ske.scheme))
		return tls_fail(t, SYNACK_TLS_ALERT_ILLEGAL_PARAMETER,
				"ServerKeyExchange signed with 0x%04x, which we did not offer", ske.scheme);
	if (!t->crypto->pkey_can(hs->peer_key, ske.scheme))
		return tls_fail(t, SYNACK_TLS_ALERT_ILLEGAL_PARAMETER,
				"%s does not match the certificate's key",
				synack_tls_sigscheme_name(ske.scheme));
	if (hs12_ske_signed_content(&s, hs->client_random, hs->server_random, ske.params, ske.params_len))
		return hs_decode_error(t, "ServerKeyExchange params");
	if (t->crypto->verify(hs->peer_key, ske.scheme, s.p, s.len, ske.sig, ske.sig_len))
		return tls_fail(t, SYNACK_TLS_ALERT_DECRYPT_ERROR,
				"ServerKeyExchange signature does not verify");
	hs->group = ske.group;
	memcpy(hs->peer_point12, ske.point, ske.point_len);
	hs->peer_point12_len = ske.point_len;
	t->info.group = ske.group;
	t->info.sigscheme = ske.scheme;
	hs->state = C12_WAIT_SHD;
	return hs_transcript(t, msg, len);
}

/* §7.4.4: certificate_types<1..2^8-1>, supported_signature_algorithms
 * <2..2^16-2>, certificate_authorities<0..2^16-1>; once. We answer with
 * our certificate when its key type is listed and it can make one of the
 * listed schemes that we also allow (hs->sigscheme), else with none. */
static int on_cert_request(struct synack_tls *t, const uint8_t *msg, size_t len, int epoch)
{
	struct tls_hs *hs = t->hs;
	const struct synack_tls_config *cfg = t->cfg;
	uint16_t ours[TLS_MAX_LIST + 2];
	struct brd r = hs_body(msg, len);
	struct brd types = brd_vec(&r, 1), algs = brd_vec(&r, 2), cas = brd_vec(&r, 2);
	(void)cas;
	if (!brd_done(&r) || types.len == 0 || algs.len < 2 || algs.len % 2)
		return hs_decode_error(t, "CertificateRequest");
	if (hs->cert_req)
		return hs_unexpected(t, msg, "waiting for ServerHelloDone");
	HS_TRACE_IN(t, msg, len, epoch, "CertificateRequest");
	hs->cert_req = true;
	int auth = cfg->chain_n && cfg->key ? hs12_auth_of_key(t->crypto, cfg->key) : 0;
	uint8_t want = auth == HS12_AUTH_ECDSA ? HS12_CERT_TYPE_ECDSA_SIGN : HS12_CERT_TYPE_RSA_SIGN;
	size_t no = tls12_client_sigschemes(cfg, ours, TLS_MAX_LIST + 2);
	if (auth && memchr(types.p, want, types.len))
		for (size_t i = 0; i < no && !hs->sigscheme; i++) {
			struct brd l = algs;
			while (brd_left(&l) && !hs->sigscheme)
				if (brd_u16(&l) == ours[i] && t->crypto->pkey_can(cfg->key, ours[i]))
					hs->sigscheme = ours[i];
		}
	return hs_transcript(t, msg, len);
}

/* §7.4.8: our signature over every handshake message so far. */
static int send_cert_verify(struct synack_tls *t)
{
	struct tls_hs *hs = t->hs;
	uint8_t sig[CRYPTO_SIG_MAX], buf[8 + CRYPTO_SIG_MAX];
	size_t slen = 0;
	struct bbuf b = bbuf_make(buf, sizeof buf);
	if (t->crypto->sign(t->cfg->key, hs->sigscheme, hs->raw12, hs->raw12_len, sig, sizeof sig, &slen))
		return tls_fail(t, SYNACK_TLS_ALERT_INTERNAL_ERROR, "CertificateVerify with %s",
				synack_tls_sigscheme_name(hs->sigscheme));
	bbuf_u8(&b, TLS_HS_CERTIFICATE_VERIFY);
	size_t m = bbuf_vec_open(&b, 3);
	bbuf_u16(&b, hs->sigscheme);
	size_t v = bbuf_vec_open(&b, 2);
	bbuf_put(&b, sig, slen);
	bbuf_vec_close(&b, v, 2);
	bbuf_vec_close(&b, m, 3);
	int err = hs12_send_msg(t, &b, "CertificateVerify");
	if (!err)
		HS_TRACE_OUT(t, b.p, b.len, "CertificateVerify %s", synack_tls_sigscheme_name(hs->sigscheme));
	return err;
}

/* ---- ServerHelloDone (§7.4.5) and our flight (§7.4.6, §7.4.7, §7.4.9) ---- */

/* RFC 8422 §5.7, then RFC 7627 §4 (session_hash through this message) and
 * RFC 5246 §6.3 (key block). */
static int send_client_key_exchange(struct synack_tls *t)
{
	struct tls_hs *hs = t->hs;
	const struct hs12_suite *s = hs->suite12;
	uint8_t pub[CRYPTO_KEX_PUB_MAX], pms[CRYPTO_KEX_SECRET_MAX], sh[CRYPTO_HASH_MAX];
	uint8_t buf[8 + CRYPTO_KEX_PUB_MAX];
	size_t plen = 0, pms_len = 0;
	struct bbuf b = bbuf_make(buf, sizeof buf);
	int err = hs_kex_new(t, hs->group, pub, sizeof pub, &plen);
	if (err)
		return err;
	if (t->crypto->kex_derive(hs->kex, hs->peer_point12, hs->peer_point12_len, pms, sizeof pms, &pms_len))
		return tls_fail(t, SYNACK_TLS_ALERT_ILLEGAL_PARAMETER,
				"bad ECDHE public value from the server");
	bbuf_u8(&b, TLS_HS_CLIENT_KEY_EXCHANGE);
	size_t m = bbuf_vec_open(&b, 3);
	hs12_cke_build(&b, hs->group, pub, plen);
	bbuf_vec_close(&b, m, 3);
	err = hs12_send_msg(t, &b, "ClientKeyExchange");
	if (!err) {
		HS_TRACE_OUT(t, b.p, b.len, "ClientKeyExchange %s", synack_tls_group_name(hs->group));
		if (tls_transcript_hash(t, sh) ||
		    tls12_extended_master_secret(t->crypto, s->hash, pms, pms_len, sh, hs->master12) ||
		    tls12_key_block(t->crypto, s->hash, s->aead, hs->master12, hs->client_random,
				    hs->server_random, &hs->kb12))
			err = tls_fail(t, SYNACK_TLS_ALERT_INTERNAL_ERROR, "TLS 1.2 key derivation");
	}
	tls_wipe(pms, sizeof pms);
	if (!err)
		tls_keylog(t, "CLIENT_RANDOM", hs->client_random, hs->master12, TLS12_MASTER_LEN);
	return err;
}

static int on_server_hello_done(struct synack_tls *t, const uint8_t *msg, size_t len, int epoch)
{
	struct tls_hs *hs = t->hs;
	if (hs12_server_hello_done_parse(msg + 4, len - 4))
		return hs_decode_error(t, "ServerHelloDone");
	HS_TRACE_IN(t, msg, len, epoch, "ServerHelloDone");
	int err = hs_transcript(t, msg, len);
	if (!err && hs->cert_req) /* §7.4.6: ours, or an empty one */
		err = hs_send_certificate12(t, hs->sigscheme == 0);
	if (err || (err = send_client_key_exchange(t)) || (hs->sigscheme && (err = send_cert_verify(t))) ||
	    (err = hs12_send_finished(t)))
		return err;
	hs->state = hs->ticket12 ? C12_WAIT_NST : C12_WAIT_CCS;
	return 0;
}

/* §7.1: the server's ChangeCipherSpec makes its pending keys current. */
int tls12_client_ccs(struct synack_tls *t)
{
	struct tls_hs *hs = t->hs;
	if (hs->state != C12_WAIT_CCS && hs->state != C12_R_WAIT_CCS)
		return tls_fail(t, SYNACK_TLS_ALERT_UNEXPECTED_MESSAGE,
				hs->state == C12_WAIT_NST || hs->state == C12_R_WAIT_NST
				    ? "ChangeCipherSpec before the promised NewSessionTicket"
				    : "ChangeCipherSpec before our Finished");
	int err = tls12_set_keys(t, TLS_READ, hs->suite12->aead, hs->kb12.server_key, hs->kb12.server_iv);
	if (err)
		return err;
	hs->state = hs->state == C12_R_WAIT_CCS ? C12_R_WAIT_FINISHED : C12_WAIT_FINISHED;
	return 0;
}

static int on_finished(struct synack_tls *t, const uint8_t *msg, size_t len, int epoch)
{
	struct tls_hs *hs = t->hs;
	int err = hs12_recv_finished(t, msg, len, epoch);
	if (err)
		return err;
	if (hs->state == C12_R_WAIT_FINISHED && (err = hs12_send_finished(t))) /* resumed: ours last */
		return err;
	if (hs->state == C12_WAIT_FINISHED && !hs->ticket12 && hs->sid12_len == 32) {
		/* no ticket, a session ID: resumable by that ID (RFC 5246 §7.4.1.2) */
		struct hs12_nst sid = {.lifetime_hint = 0, .ticket = hs->sid12, .ticket_len = hs->sid12_len};
		if ((err = store_session(t, &sid, true)))
			return err;
	}
	hs->state = C12_CONNECTED;
	t->hs_done = true;
	tls_event(t, SYNACK_TLS_EV_HANDSHAKE_DONE);
	return 0;
}

/* ---- the dispatcher ---- */

int tls12_client_input(struct synack_tls *t, const uint8_t *msg, size_t len, int epoch)
{
	const int P = TLS_EPOCH_PLAINTEXT;
	int err;
	switch (t->hs->state) {
	case C12_WAIT_CERT:
		return (err = hs_expect(t, msg, epoch, TLS_HS_CERTIFICATE, P, "waiting for Certificate"))
			   ? err
			   : on_certificate(t, msg, len, epoch);
	case C12_WAIT_SKE:
		return (err = hs_expect(t, msg, epoch, TLS_HS_SERVER_KEY_EXCHANGE, P,
					"waiting for ServerKeyExchange"))
			   ? err
			   : on_server_key_exchange(t, msg, len, epoch);
	case C12_WAIT_SHD:
		if (msg[0] == TLS_HS_CERTIFICATE_REQUEST && epoch == P)
			return on_cert_request(t, msg, len, epoch);
		return (err = hs_expect(t, msg, epoch, TLS_HS_SERVER_HELLO_DONE, P,
					"waiting for ServerHelloDone"))
			   ? err
			   : on_server_hello_done(t, msg, len, epoch);
	case C12_WAIT_NST:
	case C12_R_WAIT_NST:
		return (err = hs_expect(t, msg, epoch, TLS_HS_NEW_SESSION_TICKET, P,
					"waiting for NewSessionTicket"))
			   ? err
			   : on_new_session_ticket(t, msg, len, epoch);
	case C12_WAIT_FINISHED:
	case C12_R_WAIT_FINISHED:
		return (err = hs_expect(t, msg, epoch, TLS_HS_FINISHED, TLS_EPOCH_APPLICATION,
					"waiting for Finished"))
			   ? err
			   : on_finished(t, msg, len, epoch);
	default: /* C12_WAIT_CCS, C12_R_WAIT_CCS: a message before ChangeCipherSpec */
		return hs_unexpected(t, msg, "waiting for ChangeCipherSpec");
	}
}
