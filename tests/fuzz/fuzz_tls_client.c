/* libFuzzer target: the TLS client's handshake (and what follows it).
 *
 * Each input is what a server sends to a fresh client of the world in
 * tests/fuzz/tls_world.h (verification on, against the world's CA). The
 * first byte chooses the client and how the bytes are delivered: bit 7
 * clear, the world's client (offering TLS 1.3 and 1.2: a ServerHello
 * without supported_versions walks client12.c), bit 7 set, a client that
 * offers TLS 1.2 only; the low 7 bits 0 all at once, n > 0 in pieces of n
 * bytes (1: a byte at a time), so record and handshake-message reassembly
 * at every boundary is covered. The client's generator is
 * reseeded for every input, so its ClientHello is always the same, and the
 * seed (a real server's whole flight to that ClientHello, recorded with
 * SYNACK_FUZZ_SEEDS=DIR; one of a TLS 1.3 and one of a TLS 1.2 server)
 * verifies up to the application data: mutations start deep in the
 * handshake.
 *
 * Invariants (tls_world.h): sticky errors, bounded memory, no leak. */
#include "tls_world.h"

static struct tls_world world;
static synack_tls_config *client12; /* world.client's twin that offers TLS 1.2 only */

static void write_seeds(const char *dir)
{
	for (int v12 = 0; v12 < 2; v12++) {
		uint8_t c2s[65536], s2c[65536 + 1];
		size_t cl = sizeof c2s, sl = sizeof s2c - 1;
		synack_tls_config *both = world.client;
		if (v12)
			world.client = client12; /* the handshake's client */
		REQUIRE(tls_world_handshake(&world, 1, c2s, &cl, s2c + 1, &sl, NULL, NULL) == 0);
		world.client = both;
		for (int piece = 0; piece < 3; piece++) {
			char name[32];
			s2c[0] = (uint8_t)((piece == 2 ? 7 : piece) | (v12 ? 0x80 : 0));
			snprintf(name, sizeof name, "server%s-flight-%d", v12 ? "12" : "", piece);
			fuzz_write_seed(dir, name, s2c, sl + 1);
		}
	}
}

static void make_client12(void)
{
	client12 = synack_tls_config_new(SYNACK_TLS_CLIENT);
	REQUIRE(client12);
	REQUIRE(synack_tls_config_load_ca_mem(client12, world.ca_pem) == 0);
	REQUIRE(synack_tls_config_set_alpn(client12, "h2,http/1.1") == 0);
	REQUIRE(synack_tls_config_set_versions(client12, SYNACK_TLS_VERSION_12, SYNACK_TLS_VERSION_12) == 0);
	synack_tls_config_set_clock(client12, (synack_tls_clock){.unix_ms = tls_world_clock});
	synack_tls_config_set_rng(client12, (synack_rng){.fill = synack_prng_fill, .ctx = &world.prng});
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	tls_world_init(&world);
	make_client12();
	fuzz_init(write_seeds);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	synack_prng_seed(&world.prng, 1);
	synack_tls *c = synack_tls_new(data[0] & 0x80 ? client12 : world.client, "localhost");
	REQUIRE(c);
	tls_world_drain(c, NULL, 0); /* the ClientHello */
	size_t piece = data[0] & 0x7f ? data[0] & 0x7f : size;
	tls_world_feed(c, data + 1, size - 1, piece);
	if (synack_tls_handshake_done(c) && !synack_tls_error(c)) {
		REQUIRE(synack_tls_write(c, "ping", 4) >= 0 || synack_tls_error(c));
		synack_tls_close(c);
		tls_world_drain(c, NULL, 0);
	}
	synack_tls_free(c);
	return 0;
}
