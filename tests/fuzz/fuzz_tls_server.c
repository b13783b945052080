/* libFuzzer target: the TLS server's handshake.
 *
 * Each input is what a client sends to a fresh server of the world in
 * tests/fuzz/tls_world.h. The first byte chooses the server and the
 * delivery: bit 7 clear, the world's server (TLS 1.3 and 1.2, the
 * defaults); bit 7 set, a TLS 1.2-only server that asks for a client
 * certificate (optional, verified against the world's CA) and keeps a
 * session-ID cache, the paths of server12.c and sid_cache.c the default
 * one does not take; the low seven bits 0 for all at once, n > 0 for
 * pieces of n bytes. Seeds (SYNACK_FUZZ_SEEDS=DIR): a real client's whole
 * output of a handshake with each server (the 1.2 one from a client with
 * a certificate: Certificate, ClientKeyExchange, CertificateVerify), and
 * a reduced TLS 1.2 ClientHello; each ClientHello parses and its
 * second flight reaches Finished checking (the server's CertificateVerify
 * carries a fresh ECDSA signature each run, so the recorded Finished no
 * longer verifies: the seed exercises the decrypt_error path too).
 *
 * Invariants (tls_world.h): sticky errors, bounded memory, no leak. */
#include "tls_world.h"

static struct tls_world world;
static synack_tls_config *server12; /* TLS 1.2 only, client certificates, a session cache */
static synack_tls_config *client12; /* for the seeds: TLS 1.2 only, with a certificate */

/* A TLS 1.2 ClientHello record (RFC 5246 §7.4.1.2) as libssl's -tls1_2
 * sends it, reduced: one ECDHE-ECDSA suite, the renegotiation SCSV,
 * supported_groups x25519 and secp256r1 (the certificate's curve must be
 * there, RFC 8422 §5.3), ec_point_formats, ecdsa_secp256r1_sha256,
 * extended_master_secret. */
static size_t client_hello12(uint8_t *out, size_t cap)
{
	static const uint8_t suites[] = {0xc0, 0x2b, 0x00, 0xff};
	struct bbuf b = bbuf_make(out, cap);
	bbuf_u8(&b, 22);
	bbuf_u16(&b, 0x0301);
	size_t rec = bbuf_vec_open(&b, 2);
	bbuf_u8(&b, 1);
	size_t hs = bbuf_vec_open(&b, 3);
	bbuf_u16(&b, 0x0303);
	for (int i = 0; i < 32; i++)
		bbuf_u8(&b, (uint8_t)(i * 7));
	bbuf_u8(&b, 0); /* no session id */
	size_t v = bbuf_vec_open(&b, 2);
	bbuf_put(&b, suites, sizeof suites);
	bbuf_vec_close(&b, v, 2);
	bbuf_u8(&b, 1), bbuf_u8(&b, 0); /* null compression */
	size_t ext = bbuf_vec_open(&b, 2);
	bbuf_u16(&b, 10), bbuf_u16(&b, 6), bbuf_u16(&b, 4), bbuf_u16(&b, 0x001d), bbuf_u16(&b, 0x0017);
	bbuf_u16(&b, 11), bbuf_u16(&b, 2), bbuf_u8(&b, 1), bbuf_u8(&b, 0);	  /* ec_point_formats */
	bbuf_u16(&b, 13), bbuf_u16(&b, 4), bbuf_u16(&b, 2), bbuf_u16(&b, 0x0403); /* signature_algorithms */
	bbuf_u16(&b, 23), bbuf_u16(&b, 0);					  /* extended_master_secret */
	bbuf_vec_close(&b, ext, 2);
	bbuf_vec_close(&b, hs, 3);
	bbuf_vec_close(&b, rec, 2);
	REQUIRE(bbuf_ok(&b));
	return b.len;
}

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
	c2s[0] = 0x80; /* the 1.2 server, all at once */
	fuzz_write_seed(dir, "client-hello-tls12", c2s, 1 + client_hello12(c2s + 1, sizeof c2s - 1));
	synack_tls_config *cli = world.client, *srv = world.server;
	world.client = client12, world.server = server12;
	cl = sizeof c2s - 1, sl = sizeof s2c;
	REQUIRE(tls_world_handshake(&world, 2, c2s + 1, &cl, s2c, &sl, NULL, NULL) == 0);
	world.client = cli, world.server = srv;
	c2s[0] = 0x80;
	fuzz_write_seed(dir, "client12-flight", c2s, cl + 1);
}

static void make_server12(void)
{
	server12 = synack_tls_config_new(SYNACK_TLS_SERVER);
	REQUIRE(server12);
	REQUIRE(synack_tls_config_load_cert_mem(server12, world.cert_pem, world.key_pem) == 0);
	REQUIRE(synack_tls_config_set_versions(server12, SYNACK_TLS_VERSION_12, SYNACK_TLS_VERSION_12) == 0);
	REQUIRE(synack_tls_config_load_ca_mem(server12, world.ca_pem) == 0);
	synack_tls_config_request_client_cert(server12, false);
	REQUIRE(synack_tls_config_set_session_cache(server12, 16) == 0);
	client12 = synack_tls_config_new(SYNACK_TLS_CLIENT);
	REQUIRE(client12);
	REQUIRE(synack_tls_config_load_ca_mem(client12, world.ca_pem) == 0);
	REQUIRE(synack_tls_config_load_cert_mem(client12, world.cert_pem, world.key_pem) == 0);
	REQUIRE(synack_tls_config_set_versions(client12, SYNACK_TLS_VERSION_12, SYNACK_TLS_VERSION_12) == 0);
	synack_tls_config *both[2] = {server12, client12};
	for (int i = 0; i < 2; i++) {
		synack_tls_config_set_clock(both[i], (synack_tls_clock){.unix_ms = tls_world_clock});
		synack_tls_config_set_rng(both[i],
					  (synack_rng){.fill = synack_prng_fill, .ctx = &world.prng});
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	tls_world_init(&world);
	make_server12();
	fuzz_init(write_seeds);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	synack_prng_seed(&world.prng, 2);
	synack_tls *s = synack_tls_new(data[0] & 0x80 ? server12 : world.server, NULL);
	REQUIRE(s);
	size_t piece = data[0] & 0x7f ? data[0] & 0x7f : size;
	tls_world_feed(s, data + 1, size - 1, piece);
	synack_tls_free(s);
	return 0;
}
