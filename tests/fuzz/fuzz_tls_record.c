/* libFuzzer target: the record layer after the handshake, with real keys.
 *
 * Random bytes never pass an AEAD tag, so feeding them to an established
 * connection only tests the first check. Here the input is a program: a
 * handshake between a client and a server of tls_world.h runs first, then
 * each operation drives the two engines through the public API and the
 * fuzzer decides how the server's bytes reach the client:
 *
 *   0 n      server writes n*61+1 bytes of the pattern (records of any size)
 *   1 n      client writes n*61+1 bytes (the server reads them)
 *   2 r      server KeyUpdate (r&1: request the client's)
 *   3 r      client KeyUpdate
 *   4 o o x  xor x into byte o (16 bits) of the bytes in flight to the client
 *   5 k k    deliver k (16 bits) bytes in flight to the client
 *   6        deliver everything in flight both ways
 *   7        server close_notify
 *   8 n ... inject n raw bytes into the client's input
 *   9 k      truncate what is in flight to k*7 bytes
 *
 * The invariant beyond tls_world.h's: every byte the client reads is the
 * server's pattern at that position. A flipped, truncated or injected byte
 * must end in an error (bad_record_mac, decode_error, ...), never in
 * different data; once the client failed, nothing more is read. */
#include "tls_world.h"

enum { FLIGHT_CAP = 256 * 1024 };

static struct tls_world world;
static uint8_t flight[FLIGHT_CAP]; /* server -> client, not yet delivered */
static size_t flight_len;

struct run {
	synack_tls *c, *s;
	uint64_t sent, got; /* pattern bytes written by the server, read by the client */
	uint64_t csent, sgot;
};

static uint8_t pattern(uint64_t i)
{
	return (uint8_t)(i * 131 + (i >> 8));
}

static void check_reads(struct run *r)
{
	uint8_t buf[4096];
	ssize_t n;
	while ((n = synack_tls_read(r->c, buf, sizeof buf)) > 0) {
		for (ssize_t i = 0; i < n; i++)
			REQUIRE(buf[i] == pattern(r->got + (uint64_t)i));
		r->got += (uint64_t)n;
		REQUIRE(r->got <= r->sent);
	}
	while ((n = synack_tls_read(r->s, buf, sizeof buf)) > 0) {
		for (ssize_t i = 0; i < n; i++)
			REQUIRE(buf[i] == pattern(r->sgot + (uint64_t)i));
		r->sgot += (uint64_t)n;
		REQUIRE(r->sgot <= r->csent);
	}
}

/* The server's output joins the flight (what does not fit is dropped:
 * the client then sees a gap, which must fail it, not confuse it). */
static void collect(struct run *r)
{
	if (flight_len < FLIGHT_CAP)
		flight_len += tls_world_drain(r->s, flight + flight_len, FLIGHT_CAP - flight_len);
	tls_world_drain(r->s, NULL, 0);
}

static void deliver(struct run *r, size_t k)
{
	collect(r);
	if (k > flight_len)
		k = flight_len;
	tls_world_feed(r->c, flight, k, k ? k : 1);
	memmove(flight, flight + k, flight_len - k);
	flight_len -= k;
	check_reads(r);
}

static void client_to_server(struct run *r)
{
	uint8_t buf[FLIGHT_CAP / 4];
	size_t n = tls_world_drain(r->c, buf, sizeof buf);
	tls_world_drain(r->c, NULL, 0);
	if (n && !synack_tls_error(r->s))
		tls_world_feed(r->s, buf, n, n);
	collect(r);
	check_reads(r);
}

static void write_pattern(synack_tls *t, uint64_t *sent, size_t n)
{
	uint8_t buf[16000];
	if (n > sizeof buf)
		n = sizeof buf;
	for (size_t i = 0; i < n; i++)
		buf[i] = pattern(*sent + i);
	ssize_t w = synack_tls_write(t, buf, n);
	if (w > 0)
		*sent += (uint64_t)w;
}

static size_t op(struct run *r, const uint8_t *d, size_t left)
{
	size_t a1 = left > 1 ? d[1] : 0, a2 = left > 2 ? d[2] : 0, a3 = left > 3 ? d[3] : 0;
	switch (d[0] % 10) {
	case 0:
		collect(r);
		write_pattern(r->s, &r->sent, a1 * 61 + 1);
		collect(r);
		return 2;
	case 1:
		write_pattern(r->c, &r->csent, a1 * 61 + 1);
		client_to_server(r);
		return 2;
	case 2:
		collect(r);
		synack_tls_key_update(r->s, a1 & 1);
		collect(r);
		return 2;
	case 3:
		synack_tls_key_update(r->c, a1 & 1);
		client_to_server(r);
		return 2;
	case 4:
		collect(r);
		if (flight_len)
			flight[(a1 << 8 | a2) % flight_len] ^= (uint8_t)(a3 | 1);
		return 4;
	case 5:
		deliver(r, a1 << 8 | a2);
		return 3;
	case 6:
		deliver(r, FLIGHT_CAP);
		client_to_server(r);
		return 1;
	case 7:
		collect(r);
		synack_tls_close(r->s);
		collect(r);
		return 1;
	case 8: {
		size_t n = a1 < left - 2 ? a1 : (left >= 2 ? left - 2 : 0);
		collect(r);
		if (n + flight_len <= FLIGHT_CAP) {
			memmove(flight + n, flight, flight_len);
			memcpy(flight, d + 2, n);
			flight_len += n;
		}
		return 2 + n;
	}
	default:
		collect(r);
		if (a1 * 7 < flight_len)
			flight_len = a1 * 7;
		return 2;
	}
}

static void write_seeds(const char *dir)
{
	static const uint8_t progs[][16] = {
	    {0, 40, 6, 1, 10, 6},	    /* data both ways */
	    {0, 255, 0, 255, 5, 0, 100, 6}, /* big records, partial delivery */
	    {2, 1, 0, 3, 6, 3, 0, 6, 7, 6}, /* key updates, close */
	    {0, 9, 4, 0, 30, 0x40, 6},	    /* a flipped byte */
	};
	for (size_t i = 0; i < sizeof progs / sizeof progs[0]; i++) {
		char name[32];
		snprintf(name, sizeof name, "program-%zu", i);
		fuzz_write_seed(dir, name, progs[i], sizeof progs[i]);
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
	uint8_t c2s[65536], s2c[65536];
	size_t cl = sizeof c2s, sl = sizeof s2c;
	struct run r = {0};
	REQUIRE(tls_world_handshake(&world, 3, c2s, &cl, s2c, &sl, &r.c, &r.s) == 0);
	flight_len = 0;
	for (size_t i = 0, steps = 0; i < size && steps < 64; steps++)
		i += op(&r, data + i, size - i);
	deliver(&r, FLIGHT_CAP);
	check_reads(&r);
	synack_tls_free(r.c);
	synack_tls_free(r.s);
	return 0;
}
