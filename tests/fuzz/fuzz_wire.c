/* libFuzzer target for the stateless parsers of src/wire (wire.h).
 *
 * The input is handed, as an exact-size copy, to wire_ipv4_parse(),
 * wire_tcp_parse() and wire_icmp_parse() (both on the whole input and on the
 * IPv4 payload when the IPv4 header parses). Whatever parses is re-emitted
 * and parsed again, and the fields must come back equal:
 *  - TCP options through wire_tcp_opts_emit(): the same MSS, WS, SACK-ok,
 *    TS, and the SACK blocks the 40-byte option space can hold;
 *  - the whole TCP header through wire_tcp_emit() + wire_tcp_set_csum(),
 *    which must then pass wire_tcp_csum_ok();
 *  - the IPv4 header through wire_ipv4_emit();
 *  - the ICMP message through wire_icmp_emit().
 * Checksums summed in two pieces must equal the one-shot sum.
 *
 * SYNACK_FUZZ_SEEDS=DIR build-fuzz/fuzz_wire writes a few valid frames to
 * DIR and exits (fuzz.mk seeds the corpus with them). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define REQUIRE(c)                                                                                           \
	do {                                                                                                 \
		if (!(c)) {                                                                                  \
			fprintf(stderr, "%s:%d: REQUIRE(%s) failed\n", __FILE__, __LINE__, #c);              \
			abort();                                                                             \
		}                                                                                            \
	} while (0)

/* SACK blocks wire_tcp_opts_emit keeps for these options: 40 bytes minus
 * MSS (4), TS or SACK-permitted (12 or 4), WS (4), minus the SACK header. */
static unsigned sack_fit(const struct wire_tcp_opts *o)
{
	size_t used = (o->has_mss ? 4 : 0) + (o->has_ts ? 12 : o->sack_ok ? 4 : 0) + (o->wscale >= 0 ? 4 : 0);
	size_t fit = (WIRE_TCP_MAX_OPTS - used - 4) / 8;
	return (unsigned)(o->nsack < fit ? o->nsack : fit);
}

static void opts_equal(const struct wire_tcp_opts *a, const struct wire_tcp_opts *b)
{
	REQUIRE(a->has_mss == b->has_mss);
	REQUIRE(!a->has_mss || a->mss == b->mss);
	REQUIRE(a->wscale == b->wscale);
	REQUIRE(a->sack_ok == b->sack_ok);
	REQUIRE(a->has_ts == b->has_ts);
	REQUIRE(!a->has_ts || (a->ts_val == b->ts_val && a->ts_ecr == b->ts_ecr));
	REQUIRE(b->nsack == sack_fit(a));
	for (unsigned i = 0; i < b->nsack; i++)
		REQUIRE(a->sack[i][0] == b->sack[i][0] && a->sack[i][1] == b->sack[i][1]);
}

/* Options: emit, then parse the result inside a bare header. */
static void opts_roundtrip(const struct wire_tcp_opts *o)
{
	uint8_t seg[WIRE_TCP_HDR + WIRE_TCP_MAX_OPTS + 8];
	memset(seg, 0, sizeof seg);
	size_t n = wire_tcp_opts_emit(seg + WIRE_TCP_HDR, o);
	REQUIRE(n <= WIRE_TCP_MAX_OPTS && n % 4 == 0);
	seg[12] = (uint8_t)((WIRE_TCP_HDR + n) / 4 << 4);
	struct wire_tcp t;
	REQUIRE(wire_tcp_parse(seg, WIRE_TCP_HDR + n, &t) == 0);
	opts_equal(o, &t.opt);
}

/* The whole header and payload: emit, checksum, parse, compare. */
static void tcp_roundtrip(const struct wire_tcp *t)
{
	size_t plen = t->payload_len < 64 ? t->payload_len : 64;
	uint8_t seg[WIRE_TCP_HDR + WIRE_TCP_MAX_OPTS + 64];
	size_t hl = wire_tcp_emit(seg, t);
	REQUIRE(hl >= WIRE_TCP_HDR && hl <= WIRE_TCP_HDR + WIRE_TCP_MAX_OPTS);
	memcpy(seg + hl, t->payload, plen);
	synack_addr s = synack_addr_ipv4(192, 0, 2, 1), d = synack_addr_ipv4(198, 51, 100, 7);
	wire_tcp_set_csum(seg, hl + plen, &s, &d);
	REQUIRE(wire_tcp_csum_ok(&s, &d, seg, hl + plen));
	struct wire_tcp u;
	REQUIRE(wire_tcp_parse(seg, hl + plen, &u) == 0);
	REQUIRE(u.sport == t->sport && u.dport == t->dport && u.seq == t->seq && u.ack == t->ack);
	REQUIRE(u.flags == t->flags && u.wnd == t->wnd && u.urp == t->urp);
	REQUIRE(u.hdr_len == hl && u.payload_len == plen);
	opts_equal(&t->opt, &u.opt);
}

static void ipv4_roundtrip(const struct wire_ipv4 *ip)
{
	uint8_t h[WIRE_IPV4_HDR];
	REQUIRE(wire_ipv4_emit(h, &ip->src, &ip->dst, ip->proto, ip->ttl, ip->id, ip->frag & WIRE_IPV4_DF,
			       0) == WIRE_IPV4_HDR);
	struct wire_ipv4 u;
	REQUIRE(wire_ipv4_parse(h, sizeof h, &u) == 0);
	REQUIRE(synack_addr_equal(&u.src, &ip->src) && synack_addr_equal(&u.dst, &ip->dst));
	REQUIRE(u.proto == ip->proto && u.ttl == ip->ttl && u.id == ip->id);
	REQUIRE(u.frag == (ip->frag & WIRE_IPV4_DF) && u.payload_len == 0);
}

static void icmp_roundtrip(const struct wire_icmp *ic)
{
	size_t n = ic->body_len < 256 ? ic->body_len : 256;
	uint8_t *m = malloc(8 + n);
	REQUIRE(wire_icmp_emit(m, ic->type, ic->code, ic->rest, ic->body, n) == 8 + n);
	struct wire_icmp u;
	REQUIRE(wire_icmp_parse(m, 8 + n, &u) == 0);
	REQUIRE(u.type == ic->type && u.code == ic->code && memcmp(u.rest, ic->rest, 4) == 0);
	REQUIRE(u.body_len == n && memcmp(u.body, ic->body, n) == 0);
	free(m);
}

static void try_tcp(const uint8_t *p, size_t len, const synack_addr *src, const synack_addr *dst)
{
	struct wire_tcp t;
	int r = wire_tcp_parse(p, len, &t);
	REQUIRE(r == 0 || r == SYNACK_DROP_TCP_TRUNCATED || r == SYNACK_DROP_TCP_OPTIONS);
	if (r)
		return;
	REQUIRE(t.hdr_len >= WIRE_TCP_HDR && t.hdr_len + t.payload_len == len && t.opt.nsack <= 4);
	if (src)
		(void)wire_tcp_csum_ok(src, dst, p, len);
	opts_roundtrip(&t.opt);
	tcp_roundtrip(&t);
}

static void try_icmp(const uint8_t *p, size_t len)
{
	struct wire_icmp ic;
	int r = wire_icmp_parse(p, len, &ic);
	REQUIRE(r == 0 || r == SYNACK_DROP_ICMP_TRUNCATED || r == SYNACK_DROP_ICMP_CHECKSUM);
	if (r == 0)
		icmp_roundtrip(&ic);
}

/* RFC 1071: the sum in two pieces (first one even) equals the one-shot sum. */
static void check_csum(const uint8_t *p, size_t len)
{
	size_t cut = len ? (size_t)(p[0] * 2u) % (len + 1) & ~(size_t)1 : 0;
	uint32_t two = wire_csum_add(wire_csum_add(0, p, cut), p + cut, len - cut);
	REQUIRE(wire_csum_finish(two) == wire_csum_finish(wire_csum_add(0, p, len)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *p = malloc(size ? size : 1); /* exact size: ASan sees overreads */
	memcpy(p, data, size);
	struct wire_ipv4 ip;
	int r = wire_ipv4_parse(p, size, &ip);
	REQUIRE(r == 0 || (r > SYNACK_DROP_FIRST_ && r < SYNACK_DROP_LAST_));
	if (r == 0) {
		REQUIRE(ip.hdr_len >= WIRE_IPV4_HDR && ip.payload == p + ip.hdr_len);
		REQUIRE(ip.hdr_len + ip.payload_len == ip.total_len && ip.total_len <= size);
		ipv4_roundtrip(&ip);
		try_tcp(ip.payload, ip.payload_len, &ip.src, &ip.dst);
		try_icmp(ip.payload, ip.payload_len);
	}
	try_tcp(p, size, NULL, NULL);
	try_icmp(p, size);
	check_csum(p, size);
	free(p);
	return 0;
}

/* ---- seeds ---- */

static void write_seed(const char *dir, const char *name, const uint8_t *b, size_t n)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(b, 1, n, f) != n)
		perror(path);
	if (f)
		fclose(f);
}

/* IPv4 + TCP with the given options and payload, checksums right. */
static size_t build_tcp(uint8_t *f, const struct wire_tcp_opts *o, uint8_t flags, const char *payload)
{
	synack_addr s = synack_addr_ipv4(10, 0, 0, 1), d = synack_addr_ipv4(10, 0, 0, 2);
	struct wire_tcp t;
	memset(&t, 0, sizeof t);
	t.sport = 40000;
	t.dport = 80;
	t.seq = 0x12345678;
	t.ack = flags & SYNACK_TCP_ACK ? 0x9abcdef0 : 0;
	t.flags = flags;
	t.wnd = 64240;
	t.opt = *o;
	size_t hl = wire_tcp_emit(f + 20, &t);
	size_t pl = strlen(payload);
	memcpy(f + 20 + hl, payload, pl);
	wire_tcp_set_csum(f + 20, hl + pl, &s, &d);
	wire_ipv4_emit(f, &s, &d, WIRE_PROTO_TCP, 64, 1, true, hl + pl);
	return 20 + hl + pl;
}

static void write_seeds(const char *dir)
{
	uint8_t f[256];
	struct wire_tcp_opts syn = {
	    .has_mss = 1, .mss = 1460, .sack_ok = 1, .has_ts = 1, .ts_val = 1, .wscale = 7};
	write_seed(dir, "syn", f, build_tcp(f, &syn, SYNACK_TCP_SYN, ""));
	struct wire_tcp_opts data = {.has_ts = 1,
				     .ts_val = 5,
				     .ts_ecr = 4,
				     .wscale = -1,
				     .nsack = 2,
				     .sack = {{100, 200}, {300, 400}}};
	write_seed(dir, "data-sack", f,
		   build_tcp(f, &data, SYNACK_TCP_ACK | SYNACK_TCP_PSH, "GET / HTTP/1.0\r\n\r\n"));
	struct wire_tcp_opts none = {.wscale = -1};
	write_seed(dir, "rst", f, build_tcp(f, &none, SYNACK_TCP_RST, ""));
	synack_addr s = synack_addr_ipv4(10, 0, 0, 1), d = synack_addr_ipv4(10, 0, 0, 2);
	static const uint8_t rest[4] = {0x12, 0x34, 0, 1};
	size_t n = wire_icmp_emit(f + 20, WIRE_ICMP_ECHO_REQUEST, 0, rest, (const uint8_t *)"abcdefgh", 8);
	wire_ipv4_emit(f, &s, &d, WIRE_PROTO_ICMP, 64, 2, false, n);
	write_seed(dir, "icmp-echo", f, 20 + n);
	/* unusual option layout: NOPs, unknown kind 30 len 6, EOL */
	static const uint8_t odd[] = {1, 1, 1, 30, 6, 1, 2, 3, 4, 2, 4, 5, 0xb4, 0, 0, 0};
	memset(f, 0, 60);
	memcpy(f + 20, odd, sizeof odd);
	f[12] = (20 + sizeof odd) / 4 << 4;
	f[13] = SYNACK_TCP_SYN;
	write_seed(dir, "tcp-odd-options", f, 20 + sizeof odd);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	const char *dir = getenv("SYNACK_FUZZ_SEEDS");
	if (dir) {
		write_seeds(dir);
		exit(0);
	}
	return 0;
}
