/* libFuzzer target: the TLS server's handshake.
 *
 * Each input is what a client sends to a fresh server of the world in
 * tests/fuzz/tls_world.h. The first byte chooses the delivery (0 all at
 * once, n > 0 in pieces of n bytes). Seeds (SYNACK_FUZZ_SEEDS=DIR): a real
 * client's whole output of a handshake; its ClientHello parses and its
 * second flight reaches Finished checking (the server's CertificateVerify
 * carries a fresh ECDSA signature each run, so the recorded Finished no
 * longer verifies: the seed exercises the decrypt_error path too).
 *
 * Invariants (tls_world.h): sticky errors, bounded memory, no leak. */
#include "tls_world.h"

static struct tls_world world;

static void write_seeds(const char *dir)
{
	uint8_t c2s[65536 + 1], s2c[65536];
	size_t cl = sizeof c2s - 1, sl = sizeof s2c;
	REQUIRE(tls_world_handshake(&world, 1, c2s + 1, &cl, s2c, &sl, NULL, NULL) == 0);
	for (int piece = 0; piece < 3; piece++) {
		char name[32];
		c2s[0] = (uint8_t)(piece == 2 ? 5 : piece);
		snprintf(name, sizeof name, "client-flight-%d", piece);
		fuzz_write_seed(dir, name, c2s, cl + 1);
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
	synack_prng_seed(&world.prng, 2);
	synack_tls *s = synack_tls_new(world.server, NULL);
	REQUIRE(s);
	size_t piece = data[0] ? data[0] : size;
	tls_world_feed(s, data + 1, size - 1, piece);
	synack_tls_free(s);
	return 0;
}
