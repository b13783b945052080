/* TLS 1.2 handshake message codecs: ServerKeyExchange and ClientKeyExchange
 * for ECDHE (RFC 8422 §5.4, §5.7), ServerHelloDone and Finished (RFC 5246
 * §7.4.5, §7.4.9), NewSessionTicket (RFC 5077 §3.3), the ServerHello.random
 * downgrade sentinel (RFC 8446 §4.1.3), the 1.2 hello extensions
 * (RFC 5746 §3.2, RFC 7627 §5.1, RFC 8422 §5.1.2), signalling cipher suite
 * values (RFC 5746 §3.3, RFC 7507) and the server's suite choice.
 *
 * Implementation notes
 *
 * Every vector is written with bbuf_vec_open/close and read with brd_vec,
 * so no length here is computed by hand. Parsers read the whole structure
 * first and check brd_done (nothing missing, nothing left over) before
 * they judge any value: a body that is both truncated and semantically
 * wrong is a decode_error, whatever its values. Values are then checked
 * in wire order; the errno tells the caller which alert to send (hs12.h).
 *
 * The ECPoint rules (RFC 8422 §5.4, §5.4.1): X25519's point is exactly the
 * 32-byte u coordinate of RFC 7748; for the NIST curves only the
 * uncompressed form 0x04 || X || Y is allowed, so the length is fixed by
 * the group and a compressed (0x02/0x03) or hybrid (0x06/0x07) point is
 * malformed. Whether the point lies on the curve is kex_derive's check.
 *
 * Builders validate their arguments before they write anything, so
 * -EINVAL leaves b untouched; -ENOSPC comes from the builder's sticky
 * overflow. */
#include "tls/hs12.h"

#include <errno.h>
#include <string.h>

#include "tls/hs.h"

/* A builder's verdict once everything is written. */
static int built(const struct bbuf *b)
{
	return bbuf_ok(b) ? 0 : -ENOSPC;
}

/* RFC 8422 §5.4 (ECPoint), §5.4.1 (uncompressed NIST points), RFC 7748 §5. */
size_t hs12_point_len(uint16_t group)
{
	switch (group) {
	case CRYPTO_X25519:
		return 32;
	case CRYPTO_SECP256R1:
		return 1 + 2 * 32;
	case CRYPTO_SECP384R1:
		return 1 + 2 * 48;
	}
	return 0;
}

/* A received point against its group: 0, -EOPNOTSUPP (group not ours),
 * -EBADMSG (length or form). RFC 8422 §5.4, §5.4.1. */
static int point_check(uint16_t group, const uint8_t *p, size_t len)
{
	size_t want = hs12_point_len(group);
	if (!want)
		return -EOPNOTSUPP;
	if (len != want)
		return -EBADMSG;
	if (group != CRYPTO_X25519 && p[0] != 0x04) /* PointConversionForm uncompressed(4) */
		return -EBADMSG;
	return 0;
}

/* ---- ServerKeyExchange (RFC 8422 §5.4, RFC 5246 §7.4.3) ---- */

/* ServerECDHParams, structure only: curve_type, namedcurve, point<1..2^8-1>.
 * -EBADMSG when it does not fit or curve_type is not named_curve (the only
 * value RFC 8422 §5.4 leaves). */
static int params_read(struct brd *r, uint16_t *group, struct brd *point)
{
	uint8_t curve_type = brd_u8(r);
	*group = brd_u16(r);
	*point = brd_vec(r, 1);
	if (!brd_ok(r) || curve_type != HS12_CURVE_NAMED)
		return -EBADMSG;
	return 0;
}

/* Whether params is exactly one valid ServerECDHParams (for the builders). */
static bool params_valid(const uint8_t *params, size_t len)
{
	struct brd r = brd_make(params, len), point;
	uint16_t group;
	if (!params || params_read(&r, &group, &point) || !brd_done(&r))
		return false;
	return point_check(group, point.p, point.len) == 0;
}

int hs12_ecdh_params_build(struct bbuf *b, uint16_t group, const uint8_t *point, size_t len)
{
	if (!point || point_check(group, point, len))
		return -EINVAL;
	bbuf_u8(b, HS12_CURVE_NAMED);
	bbuf_u16(b, group);
	size_t m = bbuf_vec_open(b, 1);
	bbuf_put(b, point, len);
	bbuf_vec_close(b, m, 1);
	return built(b);
}

/* RFC 8422 §5.4: the signature covers ClientHello.random +
 * ServerHello.random + ServerKeyExchange.params (RFC 5246 §7.4.3 alike). */
int hs12_ske_signed_content(struct bbuf *b, const uint8_t client_random[TLS12_RANDOM_LEN],
			    const uint8_t server_random[TLS12_RANDOM_LEN], const uint8_t *params,
			    size_t params_len)
{
	if (!client_random || !server_random || !params_valid(params, params_len))
		return -EINVAL;
	bbuf_put(b, client_random, TLS12_RANDOM_LEN);
	bbuf_put(b, server_random, TLS12_RANDOM_LEN);
	bbuf_put(b, params, params_len);
	return built(b);
}

/* params, then DigitallySigned (RFC 5246 §4.7): algorithm, signature<0..2^16-1>. */
int hs12_ske_build(struct bbuf *b, const uint8_t *params, size_t params_len, uint16_t scheme,
		   const uint8_t *sig, size_t sig_len)
{
	if (!params_valid(params, params_len) || (!sig && sig_len) || sig_len > UINT16_MAX)
		return -EINVAL;
	bbuf_put(b, params, params_len);
	bbuf_u16(b, scheme);
	size_t m = bbuf_vec_open(b, 2);
	bbuf_put(b, sig, sig_len);
	bbuf_vec_close(b, m, 2);
	return built(b);
}

int hs12_ske_parse(const uint8_t *body, size_t len, struct hs12_ske *out)
{
	struct brd r = brd_make(body, len), point;
	uint16_t group;
	memset(out, 0, sizeof *out);
	int err = params_read(&r, &group, &point);
	size_t params_len = r.off;
	uint16_t scheme = brd_u16(&r);
	struct brd sig = brd_vec(&r, 2);
	if (!brd_done(&r))
		return -EBADMSG;
	if (err || (err = point_check(group, point.p, point.len)))
		return err;
	*out = (struct hs12_ske){.group = group,
				 .point = point.p,
				 .point_len = point.len,
				 .params = body,
				 .params_len = params_len,
				 .scheme = scheme,
				 .sig = sig.p,
				 .sig_len = sig.len};
	return 0;
}

/* ---- ClientKeyExchange (RFC 8422 §5.7): ClientECDiffieHellmanPublic ---- */

int hs12_cke_build(struct bbuf *b, uint16_t group, const uint8_t *point, size_t len)
{
	if (!point || point_check(group, point, len))
		return -EINVAL;
	size_t m = bbuf_vec_open(b, 1);
	bbuf_put(b, point, len);
	bbuf_vec_close(b, m, 1);
	return built(b);
}

/* §5.7 "Actions of the receiver": the point must be on the server's curve;
 * here its length and form, kex_derive the rest. */
int hs12_cke_parse(const uint8_t *body, size_t len, uint16_t group, const uint8_t **point, size_t *point_len)
{
	struct brd r = brd_make(body, len);
	struct brd p = brd_vec(&r, 1);
	*point = NULL;
	*point_len = 0;
	if (!brd_done(&r))
		return -EBADMSG;
	int err = point_check(group, p.p, p.len);
	if (err)
		return err;
	*point = p.p;
	*point_len = p.len;
	return 0;
}

/* ---- ServerHelloDone (RFC 5246 §7.4.5): struct { } ---- */

int hs12_server_hello_done_build(struct bbuf *b)
{
	return built(b);
}

int hs12_server_hello_done_parse(const uint8_t *body, size_t len)
{
	(void)body;
	return len ? -EBADMSG : 0;
}

/* ---- Finished (RFC 5246 §7.4.9): verify_data[verify_data_length], 12
 * for every suite we implement (none defines another length) ---- */

int hs12_finished_build(struct bbuf *b, const uint8_t verify_data[TLS12_VERIFY_LEN])
{
	if (!verify_data)
		return -EINVAL;
	bbuf_put(b, verify_data, TLS12_VERIFY_LEN);
	return built(b);
}

int hs12_finished_parse(const uint8_t *body, size_t len, const uint8_t **verify_data)
{
	struct brd r = brd_make(body, len);
	*verify_data = brd_take(&r, TLS12_VERIFY_LEN);
	if (!brd_done(&r)) {
		*verify_data = NULL;
		return -EBADMSG;
	}
	return 0;
}

/* Every byte compared, whatever differs first: no timing on the secret. */
static bool equal_ct(const uint8_t *a, const uint8_t *b, size_t n)
{
	uint8_t d = 0;
	for (size_t i = 0; i < n; i++)
		d |= a[i] ^ b[i];
	return d == 0;
}

/* §7.4.9: "Recipients of Finished messages MUST verify that the contents
 * are correct." */
int hs12_finished_verify(const uint8_t *body, size_t len, const uint8_t expected[TLS12_VERIFY_LEN])
{
	const uint8_t *vd;
	int err = hs12_finished_parse(body, len, &vd);
	if (err)
		return err;
	return equal_ct(vd, expected, TLS12_VERIFY_LEN) ? 0 : -EACCES;
}

/* ---- NewSessionTicket (RFC 5077 §3.3) ---- */

int hs12_nst_build(struct bbuf *b, uint32_t lifetime_hint, const uint8_t *ticket, size_t len)
{
	if ((!ticket && len) || len > UINT16_MAX)
		return -EINVAL;
	bbuf_u32(b, lifetime_hint);
	size_t m = bbuf_vec_open(b, 2);
	bbuf_put(b, ticket, len);
	bbuf_vec_close(b, m, 2);
	return built(b);
}

/* A zero-length ticket is legal (§3.3: the server will not issue one). */
int hs12_nst_parse(const uint8_t *body, size_t len, struct hs12_nst *out)
{
	struct brd r = brd_make(body, len);
	uint32_t hint = brd_u32(&r);
	struct brd ticket = brd_vec(&r, 2);
	memset(out, 0, sizeof *out);
	if (!brd_done(&r))
		return -EBADMSG;
	*out = (struct hs12_nst){.lifetime_hint = hint, .ticket = ticket.p, .ticket_len = ticket.len};
	return 0;
}

/* ---- downgrade sentinel (RFC 8446 §4.1.3) ---- */

/* "44 4F 57 4E 47 52 44" ("DOWNGRD"), then 01 (TLS 1.2) or 00 (1.1 and below). */
static const uint8_t downgrade_stem[HS12_DOWNGRADE_LEN - 1] = {0x44, 0x4f, 0x57, 0x4e, 0x47, 0x52, 0x44};

int hs12_downgrade_set(uint8_t server_random[TLS12_RANDOM_LEN], uint16_t version)
{
	if (!server_random || version >= SYNACK_TLS_VERSION_13 || version < 0x0300)
		return -EINVAL;
	uint8_t *tail = server_random + TLS12_RANDOM_LEN - HS12_DOWNGRADE_LEN;
	memcpy(tail, downgrade_stem, sizeof downgrade_stem);
	tail[HS12_DOWNGRADE_LEN - 1] = version == SYNACK_TLS_VERSION_12 ? 0x01 : 0x00;
	return 0;
}

int hs12_downgrade_detect(const uint8_t server_random[TLS12_RANDOM_LEN])
{
	const uint8_t *tail = server_random + TLS12_RANDOM_LEN - HS12_DOWNGRADE_LEN;
	if (memcmp(tail, downgrade_stem, sizeof downgrade_stem))
		return HS12_DOWNGRADE_NONE;
	switch (tail[HS12_DOWNGRADE_LEN - 1]) {
	case 0x01:
		return HS12_DOWNGRADE_TLS12;
	case 0x00:
		return HS12_DOWNGRADE_TLS11;
	}
	return HS12_DOWNGRADE_NONE;
}

/* ---- hello extensions (RFC 5246 §7.4.1.4) ---- */

/* The whole block is walked, so a malformed block fails whichever
 * extension is asked for; malformed beats duplicate. */
int hs12_ext_find(const uint8_t *block, size_t len, uint16_t type, const uint8_t **data, size_t *dlen)
{
	struct brd r = brd_make(block, len), hit = {.bad = true};
	unsigned seen = 0;
	while (brd_ok(&r) && brd_left(&r)) {
		uint16_t t = brd_u16(&r);
		struct brd d = brd_vec(&r, 2);
		if (brd_ok(&d) && t == type && seen++ == 0)
			hit = d;
	}
	*data = NULL;
	*dlen = 0;
	if (!brd_done(&r))
		return -EBADMSG;
	if (seen > 1) /* "MUST NOT be more than one extension of the same type" */
		return -EPROTO;
	if (!seen)
		return -ENOENT;
	*data = hit.p;
	*dlen = hit.len;
	return 0;
}

/* An extension header and its data's length prefix; close with bbuf_vec_close(b, mark, 2). */
static size_t ext_open(struct bbuf *b, uint16_t type)
{
	bbuf_u16(b, type);
	return bbuf_vec_open(b, 2);
}

/* RFC 5746 §3.2: "the entire encoding of the extension is ff 01 00 01 00". */
int hs12_ext_reneg_put(struct bbuf *b)
{
	size_t e = ext_open(b, HS12_EXT_RENEGOTIATION_INFO);
	size_t rc = bbuf_vec_open(b, 1); /* renegotiated_connection<0..255>: empty */
	bbuf_vec_close(b, rc, 1);
	bbuf_vec_close(b, e, 2);
	return built(b);
}

/* RFC 5746 §3.4 (client), §3.6 (server): on the initial handshake the
 * field must be empty, else abort (handshake_failure). */
int hs12_ext_reneg_parse(const uint8_t *data, size_t len)
{
	struct brd r = brd_make(data, len);
	struct brd rc = brd_vec(&r, 1);
	if (!brd_done(&r))
		return -EBADMSG;
	return rc.len ? -EPROTO : 0;
}

/* RFC 7627 §5.1: "the entire encoding of the extension is 00 17 00 00". */
int hs12_ext_ems_put(struct bbuf *b)
{
	size_t e = ext_open(b, HS12_EXT_EXTENDED_MASTER);
	bbuf_vec_close(b, e, 2);
	return built(b);
}

int hs12_ext_ems_parse(const uint8_t *data, size_t len)
{
	(void)data;
	return len ? -EBADMSG : 0; /* §5.1: "The extension_data field ... is empty" */
}

/* RFC 8422 §5.1.2: "00 0B 00 02 01 00", the only list we can send. */
int hs12_ext_ecpf_put(struct bbuf *b)
{
	size_t e = ext_open(b, HS12_EXT_EC_POINT_FORMATS);
	size_t l = bbuf_vec_open(b, 1);
	bbuf_u8(b, HS12_POINT_UNCOMPRESSED);
	bbuf_vec_close(b, l, 1);
	bbuf_vec_close(b, e, 2);
	return built(b);
}

/* RFC 8422 §5.1.2 (ClientHello), §5.2 (ServerHello): ec_point_format_list
 * <1..2^8-1> that "MUST contain the value 0 (uncompressed)". */
int hs12_ext_ecpf_parse(const uint8_t *data, size_t len)
{
	struct brd r = brd_make(data, len);
	struct brd list = brd_vec(&r, 1);
	if (!brd_done(&r) || list.len == 0)
		return -EBADMSG;
	while (brd_left(&list))
		if (brd_u8(&list) == HS12_POINT_UNCOMPRESSED)
			return 0;
	return -EPROTO;
}

/* ---- cipher suites ---- */

/* RFC 5289 §3.2 (AES-GCM), RFC 7905 §2 (ChaCha20-Poly1305); order = preference. */
const struct hs12_suite hs12_suites[6] = {
    {0xc02b, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", HS12_AUTH_ECDSA, CRYPTO_AES_128_GCM, CRYPTO_SHA256},
    {0xc02f, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", HS12_AUTH_RSA, CRYPTO_AES_128_GCM, CRYPTO_SHA256},
    {0xc02c, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", HS12_AUTH_ECDSA, CRYPTO_AES_256_GCM, CRYPTO_SHA384},
    {0xc030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", HS12_AUTH_RSA, CRYPTO_AES_256_GCM, CRYPTO_SHA384},
    {0xcca9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", HS12_AUTH_ECDSA, CRYPTO_CHACHA20_POLY1305,
     CRYPTO_SHA256},
    {0xcca8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", HS12_AUTH_RSA, CRYPTO_CHACHA20_POLY1305,
     CRYPTO_SHA256},
};

const struct hs12_suite *hs12_suite_find(uint16_t id)
{
	for (size_t i = 0; i < ARRAY_LEN(hs12_suites); i++)
		if (hs12_suites[i].id == id)
			return &hs12_suites[i];
	return NULL;
}

/* RFC 8422 §2: ECDHE_ECDSA needs an ECDSA- or EdDSA-capable certificate key. */
int hs12_auth_of_key(const struct crypto_ops *c, const struct crypto_pkey *key)
{
	if (c->pkey_can(key, CRYPTO_ECDSA_SECP256R1_SHA256) ||
	    c->pkey_can(key, CRYPTO_ECDSA_SECP384R1_SHA384) || c->pkey_can(key, CRYPTO_ED25519))
		return HS12_AUTH_ECDSA;
	if (c->pkey_can(key, CRYPTO_RSA_PKCS1_SHA256) || c->pkey_can(key, CRYPTO_RSA_PSS_RSAE_SHA256))
		return HS12_AUTH_RSA;
	return 0;
}

/* RFC 5246 §7.4.1.2: cipher_suites<2..2^16-2>. */
static bool suites_valid(size_t len)
{
	return len >= 2 && len % 2 == 0;
}

static bool suites_have(const uint8_t *suites, size_t len, uint16_t id)
{
	struct brd r = brd_make(suites, len);
	while (brd_left(&r))
		if (brd_u16(&r) == id)
			return true;
	return false;
}

/* RFC 5746 §3.6 (the SCSV counts as an empty renegotiation_info), RFC 7507 §3. */
int hs12_scsv_scan(const uint8_t *suites, size_t len, unsigned *flags)
{
	*flags = 0;
	if (!suites_valid(len))
		return -EBADMSG;
	if (suites_have(suites, len, HS12_SCSV_EMPTY_RENEGOTIATION))
		*flags |= HS12_SCSV_F_RENEGOTIATION;
	if (suites_have(suites, len, HS12_SCSV_FALLBACK))
		*flags |= HS12_SCSV_F_FALLBACK;
	return 0;
}

/* RFC 7507 §3: FALLBACK_SCSV and "the highest protocol version supported by
 * the server is higher than the version indicated in
 * ClientHello.client_version". */
bool hs12_fallback_inappropriate(unsigned flags, uint16_t client_version, uint16_t our_max)
{
	return (flags & HS12_SCSV_F_FALLBACK) && our_max > client_version;
}

/* What the client's list holds, for the one-line reason of a refusal. */
struct offer {
	bool real;	  /* anything but an SCSV */
	bool other_auth;  /* one of our suites, for the other certificate type */
	bool not_allowed; /* one of our suites, our type, left out of prefs */
	bool only_tls13;  /* every real suite is a TLS 1.3 one (0x13xx) */
};

static struct offer offer_scan(const uint8_t *suites, size_t len, int auth, const uint16_t *prefs,
			       size_t nprefs)
{
	struct offer o = {.only_tls13 = true};
	struct brd r = brd_make(suites, len);
	while (brd_left(&r)) {
		uint16_t id = brd_u16(&r);
		const struct hs12_suite *s = hs12_suite_find(id);
		if (id == HS12_SCSV_EMPTY_RENEGOTIATION || id == HS12_SCSV_FALLBACK)
			continue;
		o.real = true;
		if (id >> 8 != 0x13)
			o.only_tls13 = false;
		if (s && s->auth != auth)
			o.other_auth = true;
		else if (s && !tls_list_has(prefs, nprefs, id))
			o.not_allowed = true;
	}
	return o;
}

static const char *why_none(const uint8_t *suites, size_t len, int auth, const uint16_t *prefs, size_t nprefs)
{
	struct offer o = offer_scan(suites, len, auth, prefs, nprefs);
	if (!o.real)
		return "client offers no cipher suite, only signalling values (SCSV)";
	if (o.not_allowed)
		return "client's ECDHE AEAD suites for our certificate are not in our configured list";
	if (o.other_auth)
		return auth == HS12_AUTH_ECDSA
			   ? "client offers ECDHE AEAD suites for RSA only; our certificate is ECDSA"
			   : "client offers ECDHE AEAD suites for ECDSA only; our certificate is RSA";
	if (o.only_tls13)
		return "client offers only TLS 1.3 suites";
	return "client offers only CBC or static-RSA suites (no ECDHE with AES-GCM or ChaCha20-Poly1305)";
}

/* The configuration names TLS 1.3 suites; each stands for the 1.2 suites
 * with the same AEAD, ECDSA before RSA, in the configured order. */
size_t hs12_suites_for(const uint16_t *suites13, size_t n, uint16_t *out, size_t cap)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		const struct tls_suite *s13 = tls_suite_find(suites13[i]);
		for (size_t j = 0; s13 && j < ARRAY_LEN(hs12_suites); j++)
			if (hs12_suites[j].aead == s13->aead && k < cap)
				out[k++] = hs12_suites[j].id;
	}
	return k;
}

/* RFC 5246 §7.4.1.3 cipher_suite: "The single cipher suite selected by the
 * server from the list in ClientHello.cipher_suites"; ours decides the order. */
int hs12_choose_suite(const uint8_t *suites, size_t len, int auth, const uint16_t *prefs, size_t nprefs,
		      const struct hs12_suite **out, const char **why)
{
	uint16_t all[ARRAY_LEN(hs12_suites)];
	*out = NULL;
	*why = "";
	if ((auth != HS12_AUTH_ECDSA && auth != HS12_AUTH_RSA) || (!prefs && nprefs))
		return -EINVAL;
	if (!suites_valid(len)) {
		*why = "malformed cipher_suites";
		return -EBADMSG;
	}
	if (!prefs) {
		for (size_t i = 0; i < ARRAY_LEN(hs12_suites); i++)
			all[i] = hs12_suites[i].id;
		prefs = all, nprefs = ARRAY_LEN(all);
	}
	for (size_t i = 0; i < nprefs; i++) {
		const struct hs12_suite *s = hs12_suite_find(prefs[i]);
		if (s && s->auth == auth && suites_have(suites, len, s->id)) {
			*out = s;
			return 0;
		}
	}
	*why = why_none(suites, len, auth, prefs, nprefs);
	return -ENOENT;
}
