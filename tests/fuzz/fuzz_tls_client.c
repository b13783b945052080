/* libFuzzer target: the TLS client's handshake (and what follows it).
 *
 * Each input is what a server sends to a fresh client of the world in
 * tests/fuzz/tls_world.h (verification on, against the world's CA). The
 * first byte chooses how the bytes are delivered: 0 all at once, n > 0 in
 * pieces of n bytes (1: a byte at a time), so record and handshake-message
 * reassembly at every boundary is covered. The client's generator is
 * reseeded for every input, so its ClientHello is always the same, and the
 * seed (a real server's whole flight to that ClientHello, recorded with
 * SYNACK_FUZZ_SEEDS=DIR) verifies up to the application data: mutations
 * start deep in the handshake.
 *
 * Invariants (tls_world.h): sticky errors, bounded memory, no leak. */
#include "tls_world.h"

static struct tls_world world;

static void write_seeds(const char *dir)
{
	uint8_t c2s[65536], s2c[65536 + 1];
	size_t cl = sizeof c2s, sl = sizeof s2c - 1;
	REQUIRE(tls_world_handshake(&world, 1, c2s, &cl, s2c + 1, &sl, NULL, NULL) == 0);
	for (int piece = 0; piece < 3; piece++) {
		char name[32];
		s2c[0] = (uint8_t)(piece == 2 ? 7 : piece);
		snprintf(name, sizeof name, "server-flight-%d", piece);
		fuzz_write_seed(dir, name, s2c, sl + 1);
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	tls_world_init(&world);
	fuzz_init(write_seeds);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	synack_prng_seed(&world.prng, 1);
	synack_tls *c = synack_tls_new(world.client, "localhost");
	REQUIRE(c);
	tls_world_drain(c, NULL, 0); /* the ClientHello */
	size_t piece = data[0] ? data[0] : size;
	tls_world_feed(c, data + 1, size - 1, piece);
	if (synack_tls_handshake_done(c) && !synack_tls_error(c)) {
		REQUIRE(synack_tls_write(c, "ping", 4) >= 0 || synack_tls_error(c));
		synack_tls_close(c);
		tls_world_drain(c, NULL, 0);
	}
	synack_tls_free(c);
	return 0;
}
