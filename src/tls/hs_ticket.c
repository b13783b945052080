/* Session tickets (RFC 8446 §4.6.1) and resumption sessions: the server's
 * sealed tickets and the client's session blobs.
 *
 * Implementation notes
 *
 * Server tickets are stateless: the ticket is the session state sealed
 * with AES-256-GCM under a key derived from the configuration's ticket
 * root and the rotation epoch (unix time / rotate_s):
 *   key(e) = HKDF-Expand-Label(SHA-256, ticket_root, "synack ticket", e as u64, 32)
 *   ticket = u32 epoch | 12-byte nonce (from cfg->rng) | sealed state | tag
 * with the epoch as additional data. Tickets of the current and the
 * previous epoch open; older ones do not (a full handshake follows).
 *   state  = u8 version (1) | u16 suite | u64 issued_ms | u32 lifetime_s |
 *            u8 psk<..48> | u8 sni<..255> | u8 alpn<..255>
 * The PSK is the ticket's (§4.6.1: HKDF-Expand-Label(resumption_master_
 * secret, "resumption", ticket_nonce, Hash.length)), so the resumption
 * master secret itself never leaves the connection. The server keeps
 * nothing per ticket, so a ticket may be replayed until it expires; that
 * is harmless without 0-RTT, which we refuse. The ticket age is not
 * checked beyond the lifetime (the obfuscated age is only a 0-RTT
 * anti-replay aid, §8.3).
 *
 * TLS 1.2 (server12.c, RFC 5077) seals the same state with the 1.2 suite
 * and the 48-byte master secret in place of the PSK; each version's
 * server refuses the other's tickets by their suite.
 *
 * Client session blobs: see struct tls_session in hs.h. The blob is
 * stored through the core's tls_session_store. */
#include "tls/hs.h"

#include <errno.h>
#include <string.h>

#define TICKET_HDR (4 + CRYPTO_AEAD_NONCE)
#define STATE_CAP  (1 + 2 + 8 + 4 + 1 + CRYPTO_HASH_MAX + 1 + 255 + 1 + 255)
_Static_assert(TICKET_HDR + STATE_CAP + CRYPTO_AEAD_TAG <= HS_TICKET_MAX, "HS_TICKET_MAX");
#define MAX_LIFE_S 604800 /* §4.6.1: at most seven days */

static int64_t now_ms(struct synack_tls *t)
{
	return t->cfg->clock.unix_ms(t->cfg->clock.ctx);
}

static uint32_t ticket_epoch(struct synack_tls *t)
{
	unsigned rot = t->cfg->ticket_rotate_s ? t->cfg->ticket_rotate_s : 3600;
	return (uint32_t)(now_ms(t) / 1000 / rot);
}

static struct crypto_aead *ticket_key(struct synack_tls *t, uint32_t epoch, bool seal)
{
	uint8_t ctx[8] = {0,
			  0,
			  0,
			  0,
			  (uint8_t)(epoch >> 24),
			  (uint8_t)(epoch >> 16),
			  (uint8_t)(epoch >> 8),
			  (uint8_t)epoch};
	uint8_t key[32];
	if (tls_hkdf_expand_label(t->crypto, CRYPTO_SHA256, t->cfg->ticket_root, "synack ticket", ctx,
				  sizeof ctx, key, sizeof key))
		return NULL;
	struct crypto_aead *a = t->crypto->aead_new(CRYPTO_AES_256_GCM, key, seal);
	tls_wipe(key, sizeof key);
	return a;
}

/* ---- the server ---- */

static void put_vec8(struct bbuf *b, const void *p, size_t n)
{
	bbuf_u8(b, (uint8_t)n);
	bbuf_put(b, p, n);
}

static size_t seal_state(struct synack_tls *t, const uint8_t *psk, size_t plen, uint8_t *out, size_t cap)
{
	uint8_t st[STATE_CAP];
	uint32_t epoch = ticket_epoch(t);
	struct bbuf b = bbuf_make(st, sizeof st);
	bbuf_u8(&b, 1);
	bbuf_u16(&b, t->info.suite);
	bbuf_be(&b, (uint64_t)now_ms(t), 8);
	bbuf_u32(&b, t->cfg->ticket_lifetime_s);
	put_vec8(&b, psk, plen);
	put_vec8(&b, t->info.sni, strlen(t->info.sni));
	put_vec8(&b, t->info.alpn, strlen(t->info.alpn));
	struct crypto_aead *a = ticket_key(t, epoch, true);
	size_t n = TICKET_HDR + b.len + CRYPTO_AEAD_TAG;
	if (!a || !bbuf_ok(&b) || n > cap) {
		if (a)
			t->crypto->aead_free(a);
		return 0;
	}
	struct bbuf h = bbuf_make(out, TICKET_HDR);
	bbuf_u32(&h, epoch);
	hs_random(t, out + 4, CRYPTO_AEAD_NONCE);
	int err = t->crypto->aead_seal(a, out + 4, out, 4, st, b.len, out + TICKET_HDR);
	t->crypto->aead_free(a);
	tls_wipe(st, sizeof st);
	return err ? 0 : n;
}

static int send_ticket(struct synack_tls *t, const struct tls_suite *su, uint8_t nonce)
{
	uint8_t psk[CRYPTO_HASH_MAX], ticket[TICKET_HDR + STATE_CAP + CRYPTO_AEAD_TAG],
	    msg[sizeof ticket + 64];
	size_t hl = tls_hash_len(t->crypto, su->hash);
	uint32_t age_add,
	    life = t->cfg->ticket_lifetime_s < MAX_LIFE_S ? t->cfg->ticket_lifetime_s : MAX_LIFE_S;
	if (tls_resumption_psk(t->crypto, su->hash, t->resumption_secret, &nonce, 1, psk))
		return tls_fail(t, SYNACK_TLS_ALERT_INTERNAL_ERROR, "ticket PSK");
	size_t tlen = seal_state(t, psk, hl, ticket, sizeof ticket);
	tls_wipe(psk, sizeof psk);
	if (!tlen)
		return tls_fail(t, SYNACK_TLS_ALERT_INTERNAL_ERROR, "sealing a ticket");
	hs_random(t, &age_add, sizeof age_add);
	struct bbuf b = bbuf_make(msg, sizeof msg);
	bbuf_u8(&b, TLS_HS_NEW_SESSION_TICKET);
	size_t m = bbuf_vec_open(&b, 3);
	bbuf_u32(&b, life);
	bbuf_u32(&b, age_add);
	put_vec8(&b, &nonce, 1);
	size_t v = bbuf_vec_open(&b, 2);
	bbuf_put(&b, ticket, tlen);
	bbuf_vec_close(&b, v, 2);
	bbuf_u16(&b, 0); /* no extensions: no early_data */
	bbuf_vec_close(&b, m, 3);
	if (!bbuf_ok(&b) || tls_send_handshake(t, msg, b.len)) /* not in the transcript */
		return t->err ? t->err : tls_fail(t, SYNACK_TLS_ALERT_INTERNAL_ERROR, "NewSessionTicket");
	HS_TRACE_OUT(t, msg, b.len, "NewSessionTicket lifetime=%u ticket=%zu bytes", life, tlen);
	return 0;
}

size_t hs_ticket_seal(struct synack_tls *t, const uint8_t *psk, size_t plen, uint8_t *out, size_t cap)
{
	return seal_state(t, psk, plen, out, cap);
}

int hs_server_send_tickets(struct synack_tls *t)
{
	const struct tls_suite *su = tls_suite_find(t->info.suite);
	unsigned n = t->cfg->ticket_count < 8 ? t->cfg->ticket_count : 8;
	for (unsigned i = 0; su && i < n && t->cfg->ticket_lifetime_s; i++) {
		int err = send_ticket(t, su, (uint8_t)i);
		if (err)
			return err;
	}
	return 0;
}

static int parse_state(const uint8_t *p, size_t n, struct tls_session *s)
{
	struct brd r = brd_make(p, n);
	uint8_t v = brd_u8(&r);
	s->suite = brd_u16(&r);
	s->issued_ms = (int64_t)brd_be(&r, 8);
	s->lifetime_s = brd_u32(&r);
	struct brd psk = brd_vec(&r, 1), sni = brd_vec(&r, 1), alpn = brd_vec(&r, 1);
	s->psk = psk.p, s->psk_len = psk.len;
	s->sni = sni.p, s->sni_len = sni.len;
	s->alpn = alpn.p, s->alpn_len = alpn.len;
	return brd_done(&r) && v == 1 ? 0 : -1;
}

int hs_ticket_open(struct synack_tls *t, const uint8_t *ticket, size_t len, uint8_t *scratch, size_t cap,
		   struct tls_session *s)
{
	if (len < TICKET_HDR + CRYPTO_AEAD_TAG || len - TICKET_HDR - CRYPTO_AEAD_TAG > cap)
		return -1;
	uint32_t e =
	    (uint32_t)ticket[0] << 24 | (uint32_t)ticket[1] << 16 | (uint32_t)ticket[2] << 8 | ticket[3];
	uint32_t cur = ticket_epoch(t);
	if (e != cur && e + 1 != cur)
		return -1;
	struct crypto_aead *a = ticket_key(t, e, false);
	if (!a)
		return -1;
	int err =
	    t->crypto->aead_open(a, ticket + 4, ticket, 4, ticket + TICKET_HDR, len - TICKET_HDR, scratch);
	t->crypto->aead_free(a);
	size_t n = len - TICKET_HDR - CRYPTO_AEAD_TAG;
	if (err || parse_state(scratch, n, s))
		return -1;
	int64_t age = now_ms(t) - s->issued_ms;
	return age >= -60000 && age <= (int64_t)s->lifetime_s * 1000 ? 0 : -1;
}

/* ---- the client ---- */

int tls_session_parse(const uint8_t *blob, size_t len, struct tls_session *s)
{
	struct brd r = brd_make(blob, len);
	if (!blob)
		return -EINVAL;
	uint8_t v = brd_u8(&r);
	s->suite = brd_u16(&r);
	s->issued_ms = (int64_t)brd_be(&r, 8);
	s->lifetime_s = brd_u32(&r);
	s->age_add = brd_u32(&r);
	uint8_t flags = brd_u8(&r);
	s->verified = flags & 1;
	s->sid_only = flags & 2;
	struct brd subject = brd_vec(&r, 1);
	s->subject = subject.p, s->subject_len = subject.len;
	struct brd psk = brd_vec(&r, 1), sni = brd_vec(&r, 1), alpn = brd_vec(&r, 1), tk = brd_vec(&r, 2);
	s->psk = psk.p, s->psk_len = psk.len;
	s->sni = sni.p, s->sni_len = sni.len;
	s->alpn = alpn.p, s->alpn_len = alpn.len;
	s->ticket = tk.p, s->ticket_len = tk.len;
	if (!brd_done(&r) || v != TLS_SESSION_VERSION || psk.len > CRYPTO_HASH_MAX || tk.len == 0 ||
	    tk.len > TLS_HS_MAX_TICKET)
		return -EINVAL;
	return 0;
}

void tls_session_build(const struct tls_session *s, struct bbuf *b)
{
	bbuf_u8(b, TLS_SESSION_VERSION);
	bbuf_u16(b, s->suite);
	bbuf_be(b, (uint64_t)s->issued_ms, 8);
	bbuf_u32(b, s->lifetime_s);
	bbuf_u32(b, s->age_add);
	bbuf_u8(b, (s->verified ? 1 : 0) | (s->sid_only ? 2 : 0));
	put_vec8(b, s->subject, s->subject_len);
	put_vec8(b, s->psk, s->psk_len);
	put_vec8(b, s->sni, s->sni_len);
	put_vec8(b, s->alpn, s->alpn_len);
	size_t m = bbuf_vec_open(b, 2);
	bbuf_put(b, s->ticket, s->ticket_len);
	bbuf_vec_close(b, m, 2);
}

struct nst {
	uint32_t life, age_add;
	struct brd nonce, ticket;
};

static int parse_nst(struct synack_tls *t, const uint8_t *msg, size_t len, struct nst *n)
{
	struct brd r = hs_body(msg, len);
	n->life = brd_u32(&r);
	n->age_add = brd_u32(&r);
	n->nonce = brd_vec(&r, 1);
	n->ticket = brd_vec(&r, 2);
	struct brd exts = brd_vec(&r, 2);
	struct tls_exts x;
	const char *why = "";
	if (!brd_done(&r) || n->ticket.len == 0)
		return hs_decode_error(t, "NewSessionTicket");
	int alert = tls_ext_parse(&exts, TLS_CTX_NST, 0, &x, &why);
	if (alert)
		return tls_fail(t, alert, "NewSessionTicket: %s", why);
	if (n->life > MAX_LIFE_S)
		return tls_fail(t, SYNACK_TLS_ALERT_ILLEGAL_PARAMETER, "ticket lifetime %u s", n->life);
	return 0;
}

int hs_client_ticket(struct synack_tls *t, const uint8_t *msg, size_t len, int epoch)
{
	struct nst n;
	int err = parse_nst(t, msg, len, &n);
	if (err)
		return err;
	HS_TRACE_IN(t, msg, len, epoch, "NewSessionTicket lifetime=%u ticket=%zu bytes", n.life,
		    n.ticket.len);
	const struct tls_suite *su = tls_suite_find(t->info.suite);
	if (!su || n.life == 0 || n.ticket.len > TLS_HS_MAX_TICKET)
		return 0; /* §4.6.1: lifetime 0 means do not use; too big: not kept */
	uint8_t psk[CRYPTO_HASH_MAX];
	if (tls_resumption_psk(t->crypto, su->hash, t->resumption_secret, n.nonce.p, n.nonce.len, psk))
		return tls_fail(t, SYNACK_TLS_ALERT_INTERNAL_ERROR, "ticket PSK");
	struct tls_session s = {.suite = su->id,
				.issued_ms = now_ms(t),
				.lifetime_s = n.life,
				.age_add = n.age_add,
				.psk = psk,
				.psk_len = tls_hash_len(t->crypto, su->hash),
				.sni = (const uint8_t *)t->server_name,
				.sni_len = strlen(t->server_name),
				.alpn = (const uint8_t *)t->info.alpn,
				.alpn_len = strlen(t->info.alpn),
				.ticket = n.ticket.p,
				.ticket_len = n.ticket.len,
				.verified = t->info.peer_verified,
				.subject = (const uint8_t *)t->info.peer_subject,
				.subject_len = MIN(strlen(t->info.peer_subject), 255)};
	uint8_t *blob = tls_alloc(t, TLS_MAX_SESSION);
	if (!blob)
		return tls_fail(t, SYNACK_TLS_ALERT_INTERNAL_ERROR, "out of memory");
	struct bbuf b = bbuf_make(blob, TLS_MAX_SESSION);
	tls_session_build(&s, &b);
	err = bbuf_ok(&b) ? tls_session_store(t, blob, b.len) : 0;
	tls_wipe(psk, sizeof psk);
	tls_wipe(blob, b.len);
	tls_dealloc(t, blob, TLS_MAX_SESSION);
	return err < 0 && !t->err ? tls_fail(t, SYNACK_TLS_ALERT_INTERNAL_ERROR, "storing the session") : err;
}
