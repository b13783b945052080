/* Extension codecs (RFC 8446 §4.2; RFC 6066 §3 server_name; RFC 7301 §3.1
 * ALPN; RFC 8449 §4 record_size_limit).
 *
 * Implementation notes
 *
 * tls_ext_parse walks one extension block and fills a struct tls_exts
 * with pointers into the message; the handshake code then decides. The
 * rules of §4.2 applied here:
 *  - "There MUST NOT be more than one extension of the same type in a
 *    given extension block." The RFC names no alert; we send
 *    illegal_parameter (the value is well formed, the block is not legal),
 *    as OpenSSL does. The check covers unknown types too: we keep every
 *    type seen (at most TLS_HS_MAX_EXTS, more is decode_error).
 *  - "If an implementation receives an extension which it recognizes and
 *    which is not specified for the message in which it appears, it MUST
 *    abort the handshake with an illegal_parameter alert."
 *  - In a response (ServerHello, HRR, EncryptedExtensions, a server's
 *    CertificateEntry), an extension we did not offer is
 *    unsupported_extension; the cookie in an HRR is the server's own.
 *  - In a ClientHello, a CertificateRequest and a NewSessionTicket an
 *    unknown extension is ignored.
 *  - pre_shared_key MUST be the last extension of a ClientHello
 *    (§4.2.11): otherwise illegal_parameter.
 * A body that does not parse exactly is decode_error. Lists longer than
 * TLS_HS_LIST keep their first entries (we only intersect them). */
#include "tls/hs.h"

#include <stdio.h>
#include <string.h>

/* Which messages each extension may appear in (§4.2's table). */
#define C_CH  (1u << TLS_CTX_CH)
#define C_SH  (1u << TLS_CTX_SH)
#define C_HRR (1u << TLS_CTX_HRR)
#define C_EE  (1u << TLS_CTX_EE)
#define C_CR  (1u << TLS_CTX_CR)
#define C_CT  (1u << TLS_CTX_CT)
#define C_NST (1u << TLS_CTX_NST)

struct ext_rule {
	uint16_t type;
	int x; /* enum tls_x, or -1: recognised but not parsed */
	unsigned ctx;
};

static const struct ext_rule rules[] = {
    {TLS_EXT_SERVER_NAME, X_SNI, C_CH | C_EE},
    {TLS_EXT_MAX_FRAGMENT_LENGTH, -1, C_CH | C_EE},
    {TLS_EXT_STATUS_REQUEST, -1, C_CH | C_CR | C_CT},
    {TLS_EXT_SUPPORTED_GROUPS, X_GROUPS, C_CH | C_EE},
    {TLS_EXT_SIGNATURE_ALGORITHMS, X_SIGALGS, C_CH | C_CR},
    {TLS_EXT_USE_SRTP, -1, C_CH | C_EE},
    {TLS_EXT_HEARTBEAT, -1, C_CH | C_EE},
    {TLS_EXT_ALPN, X_ALPN, C_CH | C_EE},
    {TLS_EXT_SCT, -1, C_CH | C_CR | C_CT},
    {TLS_EXT_CLIENT_CERT_TYPE, -1, C_CH | C_EE},
    {TLS_EXT_SERVER_CERT_TYPE, -1, C_CH | C_EE},
    {TLS_EXT_PADDING, -1, C_CH},
    {TLS_EXT_RECORD_SIZE_LIMIT, X_RSL, C_CH | C_EE},
    {TLS_EXT_PRE_SHARED_KEY, X_PSK, C_CH | C_SH},
    {TLS_EXT_EARLY_DATA, X_EARLY, C_CH | C_EE | C_NST},
    {TLS_EXT_SUPPORTED_VERSIONS, X_VERSIONS, C_CH | C_SH | C_HRR},
    {TLS_EXT_COOKIE, X_COOKIE, C_CH | C_HRR},
    {TLS_EXT_PSK_KEY_EXCHANGE_MODES, X_PSK_MODES, C_CH},
    {TLS_EXT_CERTIFICATE_AUTHORITIES, -1, C_CH | C_CR},
    {TLS_EXT_OID_FILTERS, -1, C_CR},
    {TLS_EXT_POST_HANDSHAKE_AUTH, -1, C_CH},
    {TLS_EXT_SIGNATURE_ALGORITHMS_CERT, X_SIGALGS_CERT, C_CH | C_CR},
    {TLS_EXT_KEY_SHARE, X_KEY_SHARE, C_CH | C_SH | C_HRR},
};

static const struct ext_rule *rule_find(uint16_t type)
{
	for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
		if (rules[i].type == type)
			return &rules[i];
	return NULL;
}

static bool is_response(int ctx)
{
	return ctx == TLS_CTX_SH || ctx == TLS_CTX_HRR || ctx == TLS_CTX_EE || ctx == TLS_CTX_CT;
}

bool tls_list_has(const uint16_t *list, size_t n, uint16_t v)
{
	for (size_t i = 0; i < n; i++)
		if (list[i] == v)
			return true;
	return false;
}

const char *tls_list_names(const uint16_t *list, size_t n, const char *(*name)(uint16_t), char *buf,
			   size_t cap)
{
	size_t off = 0;
	buf[0] = 0;
	for (size_t i = 0; i < n && off < cap; i++) {
		const char *s = name(list[i]);
		int k = strcmp(s, "unknown")
			    ? snprintf(buf + off, cap - off, "%s%s", i ? "," : "", s)
			    : snprintf(buf + off, cap - off, "%s0x%04x", i ? "," : "", list[i]);
		if (k < 0)
			break;
		off += (size_t)k;
	}
	return buf;
}

const char *tls_alpn_names(const uint8_t *wire, size_t len, char *buf, size_t cap)
{
	struct brd r = brd_make(wire, len);
	size_t off = 0;
	while (brd_left(&r)) {
		struct brd p = brd_vec(&r, 1);
		if (!brd_ok(&p) || off + 1 + p.len >= cap)
			break;
		if (off)
			buf[off++] = ',';
		memcpy(buf + off, p.p, p.len);
		off += p.len;
	}
	buf[off] = 0;
	return buf;
}

/* A vector of u16 codepoints (width-byte length, even, non-empty). */
static bool parse_u16_list(struct brd *r, unsigned width, uint16_t *out, size_t *n)
{
	struct brd v = brd_vec(r, width);
	if (!brd_ok(&v) || v.len == 0 || v.len % 2)
		return false;
	*n = 0;
	while (brd_left(&v)) {
		uint16_t c = brd_u16(&v);
		if (*n < TLS_HS_LIST)
			out[(*n)++] = c;
	}
	return brd_done(&v);
}

/* server_name (RFC 6066 §3): CH: a list holding one host_name; EE: empty. */
static bool parse_sni(struct brd *r, int ctx, struct tls_exts *x)
{
	if (ctx == TLS_CTX_EE)
		return brd_done(r);
	struct brd list = brd_vec(r, 2);
	if (!brd_ok(&list) || list.len == 0)
		return false;
	while (brd_left(&list)) {
		uint8_t type = brd_u8(&list);
		struct brd name = brd_vec(&list, 2);
		if (!brd_ok(&name) || name.len == 0)
			return false;
		if (type == 0 && !x->sni) {
			x->sni = name.p;
			x->sni_len = name.len;
		}
	}
	return brd_done(&list);
}

/* ALPN (RFC 7301 §3.1): non-empty list of non-empty names; EE: exactly one. */
static bool parse_alpn(struct brd *r, int ctx, struct tls_exts *x)
{
	struct brd list = brd_vec(r, 2);
	if (!brd_ok(&list) || list.len == 0)
		return false;
	x->alpn = list.p;
	x->alpn_len = list.len;
	size_t count = 0;
	while (brd_left(&list)) {
		struct brd name = brd_vec(&list, 1);
		if (!brd_ok(&name) || name.len == 0)
			return false;
		count++;
	}
	return brd_done(&list) && (ctx != TLS_CTX_EE || count == 1);
}

/* key_share (§4.2.8): CH a list, SH one entry, HRR the selected group. */
static bool parse_key_share(struct brd *r, int ctx, struct tls_exts *x)
{
	if (ctx == TLS_CTX_HRR) {
		x->hrr_group = brd_u16(r);
		return true;
	}
	if (ctx == TLS_CTX_SH) {
		x->shares[0].group = brd_u16(r);
		struct brd k = brd_vec(r, 2);
		x->shares[0].key = k.p;
		x->shares[0].len = k.len;
		x->nshares = 1;
		return brd_ok(&k) && k.len > 0;
	}
	struct brd list = brd_vec(r, 2);
	while (brd_ok(&list) && brd_left(&list)) {
		uint16_t g = brd_u16(&list);
		struct brd k = brd_vec(&list, 2);
		if (!brd_ok(&k) || k.len == 0)
			return false;
		/* §4.2.8: "Clients MUST NOT offer multiple KeyShareEntry values
		 * for the same group": illegal_parameter, caught by the caller */
		if (x->nshares < TLS_HS_SHARES)
			x->shares[x->nshares++] = (struct tls_share){g, k.p, k.len};
	}
	return brd_done(&list);
}

/* supported_versions (§4.2.1): CH a list (u8 length), SH/HRR one value. */
static bool parse_versions(struct brd *r, int ctx, struct tls_exts *x)
{
	if (ctx != TLS_CTX_CH) {
		x->version = brd_u16(r);
		return true;
	}
	return parse_u16_list(r, 1, x->versions, &x->nversions);
}

/* pre_shared_key (§4.2.11): CH identities and binders; SH the index. */
static bool parse_psk(struct brd *r, int ctx, struct tls_exts *x)
{
	if (ctx == TLS_CTX_SH) {
		x->psk_selected = brd_u16(r);
		return true;
	}
	struct brd ids = brd_vec(r, 2);
	size_t nids = 0, nbinders = 0;
	while (brd_ok(&ids) && brd_left(&ids)) {
		struct brd id = brd_vec(&ids, 2);
		uint32_t age = brd_u32(&ids);
		if (!brd_ok(&id) || id.len == 0)
			return false;
		if (nids++ == 0)
			x->psk_id = id.p, x->psk_id_len = id.len, x->psk_age = age;
	}
	size_t start = r->off;
	struct brd binders = brd_vec(r, 2);
	while (brd_ok(&binders) && brd_left(&binders)) {
		struct brd b = brd_vec(&binders, 1);
		if (!brd_ok(&b) || b.len < 32)
			return false;
		if (nbinders++ == 0)
			x->binder = b.p, x->binder_len = b.len;
	}
	x->binders_len = r->off - start;
	return brd_done(&ids) && brd_done(&binders) && nids > 0 && nids == nbinders;
}

static bool parse_psk_modes(struct brd *r, struct tls_exts *x)
{
	struct brd v = brd_vec(r, 1);
	if (!brd_ok(&v) || v.len == 0)
		return false;
	while (brd_left(&v)) {
		uint8_t m = brd_u8(&v);
		if (m < 8)
			x->psk_modes |= (uint8_t)(1u << m);
	}
	return true;
}

static bool parse_cookie(struct brd *r, struct tls_exts *x)
{
	struct brd v = brd_vec(r, 2);
	x->cookie = v.p;
	x->cookie_len = v.len;
	return brd_ok(&v) && v.len > 0;
}

/* RFC 8449 §4: a value below 64 is illegal_parameter (checked by the caller). */
static bool parse_rsl(struct brd *r, struct tls_exts *x)
{
	x->rsl = brd_u16(r);
	return true;
}

/* The body of one extension we parse; false: decode_error. */
static bool parse_one(int xi, struct brd *r, int ctx, struct tls_exts *x)
{
	switch (xi) {
	case X_SNI:
		return parse_sni(r, ctx, x);
	case X_GROUPS:
		return parse_u16_list(r, 2, x->groups, &x->ngroups);
	case X_SIGALGS:
		return parse_u16_list(r, 2, x->sigalgs, &x->nsigalgs);
	case X_SIGALGS_CERT: {
		uint16_t tmp[TLS_HS_LIST];
		size_t n;
		return parse_u16_list(r, 2, tmp, &n);
	}
	case X_ALPN:
		return parse_alpn(r, ctx, x);
	case X_RSL:
		return parse_rsl(r, x);
	case X_PSK:
		return parse_psk(r, ctx, x);
	case X_EARLY:
		if (ctx == TLS_CTX_NST)
			(void)brd_u32(r); /* max_early_data_size: we never send 0-RTT */
		return true;
	case X_VERSIONS:
		return parse_versions(r, ctx, x);
	case X_COOKIE:
		return parse_cookie(r, x);
	case X_PSK_MODES:
		return parse_psk_modes(r, x);
	case X_KEY_SHARE:
		return parse_key_share(r, ctx, x);
	}
	return false;
}

/* One extension: the rules of §4.2, then its body. 0 or an alert. */
static int ext_one(uint16_t type, struct brd *body, int ctx, uint32_t offered, struct tls_exts *x,
		   const char **why)
{
	const struct ext_rule *rule = rule_find(type);
	if (rule && !(rule->ctx & (1u << ctx))) {
		*why = "extension not allowed in this message";
		return SYNACK_TLS_ALERT_ILLEGAL_PARAMETER;
	}
	bool ours = rule && rule->x >= 0 && (offered & XBIT(rule->x));
	if (is_response(ctx) && !ours && type != TLS_EXT_COOKIE) {
		*why = "extension we did not offer";
		return SYNACK_TLS_ALERT_UNSUPPORTED_EXTENSION;
	}
	if (!rule || rule->x < 0)
		return 0; /* ignored */
	x->present |= XBIT(rule->x);
	if (!parse_one(rule->x, body, ctx, x) || !brd_done(body)) {
		*why = "malformed extension";
		return SYNACK_TLS_ALERT_DECODE_ERROR;
	}
	return 0;
}

int tls_ext_parse(struct brd *r, int ctx, uint32_t offered, struct tls_exts *x, const char **why)
{
	uint16_t seen[TLS_HS_MAX_EXTS];
	size_t nseen = 0;
	memset(x, 0, sizeof *x);
	while (brd_ok(r) && brd_left(r)) {
		uint16_t type = brd_u16(r);
		struct brd body = brd_vec(r, 2);
		if (!brd_ok(&body) || nseen == TLS_HS_MAX_EXTS) {
			*why = "malformed extension block";
			return SYNACK_TLS_ALERT_DECODE_ERROR;
		}
		if (tls_list_has(seen, nseen, type)) {
			*why = "duplicate extension";
			return SYNACK_TLS_ALERT_ILLEGAL_PARAMETER;
		}
		seen[nseen++] = type;
		if (x->present & XBIT(X_PSK) && ctx == TLS_CTX_CH) {
			*why = "pre_shared_key is not the last extension";
			return SYNACK_TLS_ALERT_ILLEGAL_PARAMETER;
		}
		int alert = ext_one(type, &body, ctx, ctx == TLS_CTX_CH ? ~0u : offered, x, why);
		if (alert)
			return alert;
	}
	if (!brd_done(r)) {
		*why = "malformed extension block";
		return SYNACK_TLS_ALERT_DECODE_ERROR;
	}
	return 0;
}
