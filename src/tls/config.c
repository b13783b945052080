/* The configuration of include/synack/tls.h: safe defaults, loading of
 * certificates, keys and trust anchors (through src/crypto, which does the
 * file access), and the lists that the handshakes offer and accept.
 *
 * Implementation notes
 *
 * - Defaults: TLS 1.3; suites 1301, 1302, 1303; groups x25519, secp256r1;
 *   signature schemes ecdsa_secp256r1_sha256, ecdsa_secp384r1_sha384,
 *   rsa_pss_rsae_sha256/384/512, ed25519; verification on against no trust
 *   anchor; libcrypto's randomness and the system clock (both through
 *   crypto_random/crypto_unix_ms, so src/tls itself stays sans-I/O);
 *   one ticket, 7200 s lifetime, keys rotated every 3600 s; 16384-byte
 *   records.
 * - The ticket root secret is drawn from the configuration's rng when the
 *   configuration is made and again when the rng is replaced, so a
 *   configuration with a fixed rng issues reproducible tickets.
 * - Every failing call leaves a one-line reason in c->error and returns
 *   -EINVAL (or -ENOMEM); a successful call clears it. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tls/hs.h"
#include "tls/tls_internal.h"

static int cfg_err(synack_tls_config *c, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int cfg_err(synack_tls_config *c, int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->error, sizeof c->error, fmt, ap);
	va_end(ap);
	return err;
}

static int cfg_ok(synack_tls_config *c)
{
	c->error[0] = 0;
	return 0;
}

static const uint16_t default_suites[] = {SYNACK_TLS_AES_128_GCM_SHA256, SYNACK_TLS_AES_256_GCM_SHA384,
					  SYNACK_TLS_CHACHA20_POLY1305_SHA256};
static const uint16_t default_groups[] = {SYNACK_TLS_GROUP_X25519, SYNACK_TLS_GROUP_SECP256R1};
static const uint16_t default_schemes[] = {CRYPTO_ECDSA_SECP256R1_SHA256, CRYPTO_ECDSA_SECP384R1_SHA384,
					   CRYPTO_RSA_PSS_RSAE_SHA256,	  CRYPTO_RSA_PSS_RSAE_SHA384,
					   CRYPTO_RSA_PSS_RSAE_SHA512,	  CRYPTO_ED25519};

static void set_list(uint16_t *dst, uint16_t *n, const uint16_t *src, size_t count)
{
	memcpy(dst, src, count * sizeof *src);
	*n = (uint16_t)count;
}

synack_tls_config *synack_tls_config_new(enum synack_tls_role role)
{
	synack_tls_config *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->role = role;
	c->crypto = &crypto_openssl;
	c->rng = (synack_rng){.fill = crypto_random};
	c->clock = (synack_tls_clock){.unix_ms = crypto_unix_ms};
	set_list(c->suites, &c->nsuites, default_suites, ARRAY_LEN(default_suites));
	set_list(c->groups, &c->ngroups, default_groups, ARRAY_LEN(default_groups));
	set_list(c->sigschemes, &c->nsigschemes, default_schemes, ARRAY_LEN(default_schemes));
	c->version_min = SYNACK_TLS_VERSION_12; /* the highest both sides support wins */
	c->version_max = SYNACK_TLS_VERSION_13;
	c->verify = true;
	c->max_record = TLS_MAX_PLAINTEXT;
	c->ticket_count = 1;
	c->ticket_lifetime_s = 7200;
	c->ticket_rotate_s = 3600;
	c->rng.fill(c->rng.ctx, c->ticket_root, sizeof c->ticket_root);
	return c;
}

static void free_cert(synack_tls_config *c)
{
	if (c->chain)
		crypto_free_ders(c->chain, c->chain_lens, c->chain_n);
	c->chain = NULL;
	c->chain_lens = NULL;
	c->chain_n = 0;
	if (c->key)
		c->crypto->pkey_free(c->key);
	c->key = NULL;
}

void synack_tls_config_free(synack_tls_config *c)
{
	if (!c)
		return;
	free_cert(c);
	if (c->store)
		crypto_store_free(c->store);
	tls_wipe(c->ticket_root, sizeof c->ticket_root);
	tls12_sid_cache_free(c);
	free(c);
}

/* ---- our certificate and key ---- */

static int install_cert(synack_tls_config *c, uint8_t **ders, size_t *lens, size_t n, struct crypto_pkey *key)
{
	if (!n) {
		crypto_free_ders(ders, lens, n);
		c->crypto->pkey_free(key);
		return cfg_err(c, -EINVAL, "no certificate in the chain");
	}
	if (!crypto_key_matches_cert(key, ders[0], lens[0])) {
		crypto_free_ders(ders, lens, n);
		c->crypto->pkey_free(key);
		return cfg_err(c, -EINVAL, "the private key does not match the certificate");
	}
	free_cert(c);
	c->chain = ders;
	c->chain_lens = lens;
	c->chain_n = n;
	c->key = key;
	return cfg_ok(c);
}

int synack_tls_config_load_cert(synack_tls_config *c, const char *chain_pem_file, const char *key_pem_file)
{
	uint8_t **ders;
	size_t *lens, n;
	if (!chain_pem_file || !key_pem_file)
		return cfg_err(c, -EINVAL, "certificate and key files are both required");
	if (crypto_load_chain_pem(chain_pem_file, &ders, &lens, &n, c->error, sizeof c->error))
		return -EINVAL;
	struct crypto_pkey *key = crypto_load_key_pem(key_pem_file, c->error, sizeof c->error);
	if (!key) {
		crypto_free_ders(ders, lens, n);
		return -EINVAL;
	}
	return install_cert(c, ders, lens, n, key);
}

int synack_tls_config_load_cert_mem(synack_tls_config *c, const char *chain_pem, const char *key_pem)
{
	uint8_t **ders;
	size_t *lens, n;
	if (!chain_pem || !key_pem)
		return cfg_err(c, -EINVAL, "certificate and key PEM are both required");
	if (crypto_load_chain_pem_mem(chain_pem, strlen(chain_pem), &ders, &lens, &n, c->error,
				      sizeof c->error))
		return -EINVAL;
	struct crypto_pkey *key =
	    crypto_load_key_pem_mem(key_pem, strlen(key_pem), c->error, sizeof c->error);
	if (!key) {
		crypto_free_ders(ders, lens, n);
		return -EINVAL;
	}
	return install_cert(c, ders, lens, n, key);
}

/* ---- trust anchors ---- */

static int need_store(synack_tls_config *c)
{
	if (!c->store && !(c->store = crypto_store_new()))
		return cfg_err(c, -ENOMEM, "out of memory for the trust store");
	return 0;
}

int synack_tls_config_load_ca_file(synack_tls_config *c, const char *pem_file)
{
	if (!pem_file)
		return cfg_err(c, -EINVAL, "no CA file given");
	if (need_store(c))
		return -ENOMEM;
	return crypto_store_add_file(c->store, pem_file, c->error, sizeof c->error) ? -EINVAL : cfg_ok(c);
}

int synack_tls_config_load_ca_dir(synack_tls_config *c, const char *dir)
{
	if (!dir)
		return cfg_err(c, -EINVAL, "no CA directory given");
	if (need_store(c))
		return -ENOMEM;
	return crypto_store_add_dir(c->store, dir, c->error, sizeof c->error) ? -EINVAL : cfg_ok(c);
}

int synack_tls_config_load_ca_mem(synack_tls_config *c, const char *pem)
{
	uint8_t **ders;
	size_t *lens, n;
	if (!pem)
		return cfg_err(c, -EINVAL, "no CA PEM given");
	if (need_store(c))
		return -ENOMEM;
	if (crypto_load_chain_pem_mem(pem, strlen(pem), &ders, &lens, &n, c->error, sizeof c->error))
		return -EINVAL;
	int r = n ? 0 : cfg_err(c, -EINVAL, "no certificate in the CA PEM");
	for (size_t i = 0; i < n && !r; i++)
		if (crypto_store_add_der(c->store, ders[i], lens[i]))
			r = cfg_err(c, -EINVAL, "CA certificate %zu does not parse", i + 1);
	crypto_free_ders(ders, lens, n);
	return r ? r : cfg_ok(c);
}

int synack_tls_config_use_system_ca(synack_tls_config *c)
{
	if (need_store(c))
		return -ENOMEM;
	return crypto_store_add_system(c->store, c->error, sizeof c->error) ? -EINVAL : cfg_ok(c);
}

const char *synack_tls_config_error(const synack_tls_config *c)
{
	return c->error;
}

void synack_tls_config_INSECURE_no_verify(synack_tls_config *c)
{
	c->verify = false;
}

void synack_tls_config_request_client_cert(synack_tls_config *c, bool required)
{
	c->request_client_cert = true;
	c->require_client_cert = required;
}

/* ---- lists ---- */

/* "h2,http/1.1" -> the ProtocolNameList body: each name as opaque <1..2^8-1> (RFC 7301 §3.1). */
int synack_tls_config_set_alpn(synack_tls_config *c, const char *list)
{
	uint8_t wire[sizeof c->alpn];
	struct bbuf b = bbuf_make(wire, sizeof wire);
	for (const char *p = list; p && *p;) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		if (n < 1 || n > 255)
			return cfg_err(c, -EINVAL, "ALPN protocol names are 1 to 255 bytes");
		size_t m = bbuf_vec_open(&b, 1);
		bbuf_put(&b, p, n);
		bbuf_vec_close(&b, m, 1);
		p += n + (comma ? 1 : 0);
		if (comma && !*p)
			return cfg_err(c, -EINVAL, "ALPN list ends with a comma");
	}
	if (!bbuf_ok(&b))
		return cfg_err(c, -EINVAL, "ALPN list longer than %zu bytes", sizeof c->alpn);
	memcpy(c->alpn, wire, b.len);
	c->alpn_len = b.len;
	return cfg_ok(c);
}

static int set_codes(synack_tls_config *c, uint16_t *dst, uint16_t *dn, const uint16_t *src, size_t n,
		     bool (*known)(uint16_t), const char *what)
{
	if (!src || !n || n > TLS_MAX_LIST)
		return cfg_err(c, -EINVAL, "%s: 1 to %d entries", what, TLS_MAX_LIST);
	for (size_t i = 0; i < n; i++)
		if (!known(src[i]))
			return cfg_err(c, -EINVAL, "%s: 0x%04x is not implemented", what, src[i]);
	set_list(dst, dn, src, n);
	return cfg_ok(c);
}

static bool suite_known(uint16_t id)
{
	return tls_suite_find(id) != NULL;
}

int synack_tls_config_set_suites(synack_tls_config *c, const uint16_t *suites, size_t n)
{
	return set_codes(c, c->suites, &c->nsuites, suites, n, suite_known, "cipher suites");
}

int synack_tls_config_set_groups(synack_tls_config *c, const uint16_t *groups, size_t n)
{
	return set_codes(c, c->groups, &c->ngroups, groups, n, tls_group_known, "groups");
}

int synack_tls_config_set_sigschemes(synack_tls_config *c, const uint16_t *schemes, size_t n)
{
	return set_codes(c, c->sigschemes, &c->nsigschemes, schemes, n, tls_sigscheme_known,
			 "signature schemes");
}

/* TLS 1.2 (server12.c, client12.c) and TLS 1.3: 1.2 only, 1.3 only, or
 * both (the highest both sides support is negotiated). */
int synack_tls_config_set_versions(synack_tls_config *c, uint16_t min, uint16_t max)
{
	bool ok12 = min == SYNACK_TLS_VERSION_12 || min == SYNACK_TLS_VERSION_13;
	bool ok13 = max == SYNACK_TLS_VERSION_12 || max == SYNACK_TLS_VERSION_13;
	if (!ok12 || !ok13 || min > max)
		return cfg_err(c, -EINVAL, "versions 0x%04x..0x%04x: TLS 1.2 (0x0303) and/or 1.3 (0x0304)",
			       min, max);
	c->version_min = min;
	c->version_max = max;
	return cfg_ok(c);
}

void synack_tls_config_set_clock(synack_tls_config *c, synack_tls_clock clock)
{
	c->clock = clock;
}

void synack_tls_config_set_rng(synack_tls_config *c, synack_rng rng)
{
	c->rng = rng;
	c->rng.fill(c->rng.ctx, c->ticket_root, sizeof c->ticket_root);
}

void synack_tls_config_set_keylog(synack_tls_config *c, bool on)
{
	c->keylog = on;
}

void synack_tls_config_set_tickets(synack_tls_config *c, unsigned count, unsigned lifetime_s,
				   unsigned rotate_s)
{
	c->ticket_count = count;
	c->ticket_lifetime_s = lifetime_s ? MIN(lifetime_s, 604800u) : 7200; /* §4.6.1: at most 7 days */
	c->ticket_rotate_s = rotate_s ? rotate_s : 3600;
}

/* RFC 8449 §4: a record_size_limit below 64 is invalid; 2^14 is TLS 1.3's maximum. */
int synack_tls_config_set_max_record(synack_tls_config *c, size_t n)
{
	if (n < 64 || n > TLS_MAX_PLAINTEXT)
		return cfg_err(c, -EINVAL, "max record %zu: 64 to %d bytes", n, TLS_MAX_PLAINTEXT);
	c->max_record = n;
	return cfg_ok(c);
}
