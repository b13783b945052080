/* The TLS 1.2 server's session cache: resumption by session ID (RFC 5246
 * §7.3, §7.4.1.2-3) for clients that do not take tickets.
 *
 * Implementation notes
 *
 * Off unless the application asks (synack_tls_config_set_session_cache):
 * the cache is the one piece of a server configuration that connections
 * change, and the core takes no locks (DESIGN.md principle 1: no thread
 * symbols), so a configuration with a cache must be used by one thread at
 * a time; `synack serve` runs one event loop and turns it on.
 *
 * A fixed array of n entries, direct-mapped: the slot of a session is its
 * ID's first four bytes (random, drawn by the configuration's generator)
 * modulo n, and a new session simply replaces the one in its slot. So the
 * memory is fixed at n entries (allocated with the cache), every lookup
 * and insertion is O(1), and a flood of full handshakes only evicts. An
 * entry holds the master secret, the suite, the server name it was made
 * for (resumption only under the same name, RFC 6066 §3) and its expiry
 * (the configuration's ticket lifetime); it is wiped when replaced or
 * expired on lookup, and all of them with the configuration. */
#include "tls/hs.h"
#include "tls/hs12.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SID_LEN		32
#define SID_SNI_MAX	64 /* longer server names are not cached */
#define SID_CACHE_LIMIT (1u << 20)

struct sid_entry {
	uint8_t id[SID_LEN];
	uint8_t master[TLS12_MASTER_LEN];
	uint16_t suite; /* 0: free */
	uint8_t sni_len;
	char sni[SID_SNI_MAX];
	int64_t expires_ms;
};

struct tls12_sid_cache {
	size_t n;
	struct sid_entry e[];
};

int synack_tls_config_set_session_cache(synack_tls_config *c, size_t entries)
{
	if (c->role != SYNACK_TLS_SERVER || entries > SID_CACHE_LIMIT) {
		snprintf(c->error, sizeof c->error, "session cache of %zu entries: servers only, at most %u",
			 entries, SID_CACHE_LIMIT);
		return -EINVAL;
	}
	tls12_sid_cache_free(c);
	if (!entries)
		return 0;
	struct tls12_sid_cache *k = calloc(1, sizeof *k + entries * sizeof k->e[0]);
	if (!k) {
		snprintf(c->error, sizeof c->error, "out of memory for %zu cache entries", entries);
		return -ENOMEM;
	}
	k->n = entries;
	c->sid_cache = k;
	return 0;
}

void tls12_sid_cache_free(synack_tls_config *c)
{
	struct tls12_sid_cache *k = c->sid_cache;
	if (!k)
		return;
	tls_wipe(k->e, k->n * sizeof k->e[0]);
	free(k);
	c->sid_cache = NULL;
}

static struct sid_entry *slot(struct tls12_sid_cache *k, const uint8_t *id)
{
	uint32_t h = (uint32_t)id[0] | (uint32_t)id[1] << 8 | (uint32_t)id[2] << 16 | (uint32_t)id[3] << 24;
	return &k->e[h % k->n];
}

static int64_t now_ms(struct synack_tls *t)
{
	return t->cfg->clock.unix_ms(t->cfg->clock.ctx);
}

bool tls12_sid_enabled(const struct synack_tls *t)
{
	return t->cfg->sid_cache && t->cfg->ticket_lifetime_s && strlen(t->info.sni) < SID_SNI_MAX;
}

void tls12_sid_put(struct synack_tls *t, const uint8_t *id, size_t len)
{
	struct tls12_sid_cache *k = t->cfg->sid_cache; /* the one mutable part: see above */
	size_t sl = strlen(t->info.sni);
	if (!k || len != SID_LEN || sl >= SID_SNI_MAX || !t->hs || !t->hs->suite12)
		return;
	struct sid_entry *e = slot(k, id);
	tls_wipe(e, sizeof *e);
	memcpy(e->id, id, SID_LEN);
	memcpy(e->master, t->hs->master12, TLS12_MASTER_LEN);
	e->suite = t->hs->suite12->id;
	e->sni_len = (uint8_t)sl;
	memcpy(e->sni, t->info.sni, sl);
	e->expires_ms = now_ms(t) + (int64_t)t->cfg->ticket_lifetime_s * 1000;
}

bool tls12_sid_get(struct synack_tls *t, const uint8_t *id, size_t len, uint16_t *suite,
		   uint8_t master[TLS12_MASTER_LEN])
{
	struct tls12_sid_cache *k = t->cfg->sid_cache;
	if (!k || len != SID_LEN)
		return false;
	struct sid_entry *e = slot(k, id);
	if (!e->suite || memcmp(e->id, id, SID_LEN))
		return false;
	if (now_ms(t) > e->expires_ms) {
		tls_wipe(e, sizeof *e);
		return false;
	}
	if (e->sni_len != strlen(t->info.sni) || memcmp(e->sni, t->info.sni, e->sni_len))
		return false;
	*suite = e->suite;
	memcpy(master, e->master, TLS12_MASTER_LEN);
	return true;
}
