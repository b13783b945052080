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
 * The link and IPv6 parsers get the same treatment: wire_eth_parse() and
 * wire_arp_parse() (on the whole input and on an Ethernet payload of type
 * ARP), wire_ipv6_parse() (whole input, Ethernet payload of type IPv6),
 * then the extension header chain with wire_ipv6_ext_parse(), and the
 * upper layer: TCP with the IPv6 pseudo header, ICMPv6 through
 * wire_icmp6_parse() and, for NS/NA, wire_nd_parse(). Round trips:
 *  - Ethernet and ARP headers re-emitted byte for byte;
 *  - the IPv6 header through wire_ipv6_emit() (all but the traffic class
 *    and flow label, which it writes as zero);
 *  - a Fragment header through wire_ipv6_frag_emit();
 *  - an ICMPv6 message through wire_icmp6_emit() (same bytes but the
 *    checksum, which must verify), an NS/NA through wire_nd_emit();
 *  - the IPv4 flags and fragment offset through wire_ipv4_emit().
 *
 * Every emitter is bounded (DESIGN.md): each round trip runs again into
 * builders of small capacities (one drawn from the input, the exact size
 * the message needs and one byte less, after 0-3 bytes already in the
 * builder), each a heap buffer followed by a canary. Where the message fits
 * it must come out byte for byte as with room to spare; where it does not,
 * the emitter must return 0 and set the sticky overflow flag (and stay a
 * no-op after it); either way no byte past the capacity may change. TCP
 * cuts SACK blocks to the room left before the payload and overflows only
 * when the header, the other options and the payload do not fit.
 *
 * SYNACK_FUZZ_SEEDS=DIR build-fuzz/fuzz_wire writes a few valid frames to
 * DIR and exits (fuzz.mk seeds the corpus with them). */
#include "fuzz_common.h"

/* ---- small builders ---- */

enum { CANARY = 0xa5, GUARD = 16 };

/* xorshift64 state, drawn from each input (LLVMFuzzerTestOneInput). */
static uint64_t draw_state;

/* A number in 0..bound. */
static size_t draw(size_t bound)
{
	draw_state ^= draw_state << 13;
	draw_state ^= draw_state >> 7;
	draw_state ^= draw_state << 17;
	return (size_t)(draw_state % (bound + 1));
}

static void require_canary(const uint8_t *p, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		REQUIRE(p[i] == CANARY);
}

/* A builder with `room` bytes left after `pre` already written, over a
 * heap buffer with a canary-filled guard after its capacity. */
static uint8_t *guarded(struct bbuf *b, size_t pre, size_t room)
{
	uint8_t *p = malloc(pre + room + GUARD);
	memset(p, CANARY, pre + room + GUARD);
	*b = bbuf_make(p, pre + room);
	bbuf_zero(b, pre);
	return p;
}

typedef size_t emit_fn(struct bbuf *b, const void *arg);

/* Emit into `room` bytes after `pre`: the n bytes `want` if they fit,
 * else 0 and the overflow flag, after which a second try changes nothing;
 * nothing written past the capacity or past what was returned. */
static void emit_at(emit_fn *emit, const void *arg, const uint8_t *want, size_t n, size_t pre, size_t room)
{
	struct bbuf b;
	uint8_t *p = guarded(&b, pre, room);
	size_t r = emit(&b, arg);
	if (room >= n) {
		REQUIRE(r == n && bbuf_ok(&b) && b.len == pre + n && memcmp(p + pre, want, n) == 0);
		require_canary(p, pre + n, pre + room + GUARD);
	} else {
		REQUIRE(r == 0 && !bbuf_ok(&b));
		size_t len = b.len;
		REQUIRE(emit(&b, arg) == 0 && b.len == len);
		require_canary(p, pre + room, pre + room + GUARD);
	}
	free(p);
}

/* emit as a message of n bytes (want, written with room to spare) must
 * behave in small builders. */
static void emit_small(emit_fn *emit, const void *arg, const uint8_t *want, size_t n)
{
	size_t pre = draw(3);
	emit_at(emit, arg, want, n, pre, draw(n + 2));
	emit_at(emit, arg, want, n, pre, n);
	if (n)
		emit_at(emit, arg, want, n, pre, n - 1);
}

/* ---- TCP, IPv4, ICMP ---- */

/* SACK blocks that fit in `room` option bytes beside the others. */
static unsigned sack_room(const struct wire_tcp_opts *o, size_t room)
{
	struct wire_tcp_opts f = *o;
	f.nsack = 0;
	size_t used = wire_tcp_opts_len(&f);
	room = MIN(room, (size_t)WIRE_TCP_MAX_OPTS);
	size_t fit = room >= used + 4 + 8 ? (room - used - 4) / 8 : 0;
	return (unsigned)MIN(MIN(fit, (size_t)o->nsack), (size_t)WIRE_TCP_MAX_SACK);
}

/* SACK blocks wire_tcp_opts_emit keeps for these options: 40 bytes minus
 * MSS (4), TS or SACK-permitted (12 or 4), WS (4), minus the SACK header. */
static unsigned sack_fit(const struct wire_tcp_opts *o)
{
	size_t used = (o->has_mss ? 4 : 0) + (o->has_ts ? 12 : o->sack_ok ? 4 : 0) + (o->wscale >= 0 ? 4 : 0);
	size_t fit = (WIRE_TCP_MAX_OPTS - used - 4) / 8;
	return (unsigned)(o->nsack < fit ? o->nsack : fit);
}

/* b parsed back from a's options with nsack blocks kept. */
static void opts_equal(const struct wire_tcp_opts *a, const struct wire_tcp_opts *b, unsigned nsack)
{
	REQUIRE(a->has_mss == b->has_mss);
	REQUIRE(!a->has_mss || a->mss == b->mss);
	REQUIRE(a->wscale == b->wscale);
	REQUIRE(a->sack_ok == b->sack_ok);
	REQUIRE(a->has_ts == b->has_ts);
	REQUIRE(!a->has_ts || (a->ts_val == b->ts_val && a->ts_ecr == b->ts_ecr));
	REQUIRE(b->nsack == nsack);
	for (unsigned i = 0; i < b->nsack; i++)
		REQUIRE(a->sack[i][0] == b->sack[i][0] && a->sack[i][1] == b->sack[i][1]);
}

/* Options: emit, then parse the result inside a bare header. */
static void opts_roundtrip(const struct wire_tcp_opts *o)
{
	uint8_t seg[WIRE_TCP_HDR + WIRE_TCP_MAX_OPTS + 8];
	memset(seg, 0, sizeof seg);
	struct wire_tcp_opts c = *o;
	struct bbuf b = bbuf_make(seg + WIRE_TCP_HDR, sizeof seg - WIRE_TCP_HDR);
	size_t n = wire_tcp_opts_emit(&b, &c, WIRE_TCP_MAX_OPTS);
	REQUIRE(n <= WIRE_TCP_MAX_OPTS && n % 4 == 0 && b.len == n && n == wire_tcp_opts_len(o));
	REQUIRE(c.nsack == sack_fit(o));
	seg[12] = (uint8_t)((WIRE_TCP_HDR + n) / 4 << 4);
	struct wire_tcp t;
	REQUIRE(wire_tcp_parse(seg, WIRE_TCP_HDR + n, &t) == 0);
	opts_equal(o, &t.opt, sack_fit(o));
}

/* The options into a builder of `cap` bytes with `room` allowed: the
 * others whole and the SACK blocks that fit, or nothing (overflow) when
 * the others exceed the room or what is to be written exceeds cap. */
static void opts_small(const struct wire_tcp_opts *o, size_t room, size_t cap)
{
	struct wire_tcp_opts c = *o, f = *o;
	f.nsack = 0;
	size_t fixed = wire_tcp_opts_len(&f);
	unsigned k = sack_room(o, room);
	size_t want = fixed + (k ? 4 + 8 * k : 0);
	struct bbuf b;
	uint8_t *p = guarded(&b, 0, cap);
	size_t n = wire_tcp_opts_emit(&b, &c, room);
	if (fixed <= MIN(room, (size_t)WIRE_TCP_MAX_OPTS) && want <= cap) {
		REQUIRE(n == want && b.len == n && bbuf_ok(&b) && c.nsack == k);
		require_canary(p, n, cap + GUARD);
	} else {
		REQUIRE(n == 0 && !bbuf_ok(&b));
		require_canary(p, cap, cap + GUARD);
	}
	free(p);
}

/* The header into `cap` bytes leaving plen for the payload: the fixed
 * part whole, SACK blocks cut to the room; overflow only when the fixed
 * part and plen do not fit. */
static void tcp_small(const struct wire_tcp *t, size_t plen, size_t cap)
{
	struct wire_tcp c = *t;
	struct wire_tcp_opts f = t->opt;
	f.nsack = 0;
	size_t fixed = WIRE_TCP_HDR + wire_tcp_opts_len(&f);
	struct bbuf b;
	uint8_t *p = guarded(&b, 0, cap);
	size_t hl = wire_tcp_emit(&b, &c, plen);
	if (cap < fixed + plen) {
		REQUIRE(hl == 0 && !bbuf_ok(&b));
		require_canary(p, cap, cap + GUARD);
		free(p);
		return;
	}
	unsigned k = sack_room(&t->opt, cap - plen - WIRE_TCP_HDR);
	REQUIRE(hl == fixed + (k ? 4 + 8 * k : 0) && b.len == hl && bbuf_ok(&b) && hl + plen <= cap);
	REQUIRE(c.hdr_len == hl && c.opt.nsack == k);
	require_canary(p, hl, cap + GUARD);
	struct wire_tcp u;
	REQUIRE(wire_tcp_parse(p, hl, &u) == 0 && u.hdr_len == hl && u.seq == t->seq && u.ack == t->ack);
	opts_equal(&t->opt, &u.opt, k);
	free(p);
}

/* The whole header and payload: emit, checksum, parse, compare; then in
 * small builders. */
static void tcp_roundtrip(const struct wire_tcp *t)
{
	size_t plen = t->payload_len < 64 ? t->payload_len : 64;
	uint8_t seg[WIRE_TCP_HDR + WIRE_TCP_MAX_OPTS + 64];
	struct wire_tcp c = *t;
	struct bbuf b = bbuf_make(seg, sizeof seg);
	size_t hl = wire_tcp_emit(&b, &c, plen);
	REQUIRE(hl >= WIRE_TCP_HDR && hl <= WIRE_TCP_HDR + WIRE_TCP_MAX_OPTS && b.len == hl &&
		c.hdr_len == hl);
	bbuf_put(&b, t->payload, plen);
	REQUIRE(bbuf_ok(&b));
	synack_addr s = synack_addr_ipv4(192, 0, 2, 1), d = synack_addr_ipv4(198, 51, 100, 7);
	wire_tcp_set_csum(seg, hl + plen, &s, &d);
	REQUIRE(wire_tcp_csum_ok(&s, &d, seg, hl + plen));
	struct wire_tcp u;
	REQUIRE(wire_tcp_parse(seg, hl + plen, &u) == 0);
	REQUIRE(u.sport == t->sport && u.dport == t->dport && u.seq == t->seq && u.ack == t->ack);
	REQUIRE(u.flags == t->flags && u.wnd == t->wnd && u.urp == t->urp);
	REQUIRE(u.hdr_len == hl && u.payload_len == plen);
	opts_equal(&t->opt, &u.opt, sack_fit(&t->opt));
	size_t need = WIRE_TCP_HDR + WIRE_TCP_MAX_OPTS + plen;
	tcp_small(t, plen, draw(need + 4));
	tcp_small(t, plen, hl + plen);
	tcp_small(t, plen, hl + plen - 1);
	opts_small(&t->opt, draw(WIRE_TCP_MAX_OPTS + 4), draw(WIRE_TCP_MAX_OPTS + 4));
}

static size_t emit_ipv4(struct bbuf *b, const void *arg)
{
	const struct wire_ipv4 *ip = arg;
	return wire_ipv4_emit(b, &ip->src, &ip->dst, ip->proto, ip->ttl, ip->id, ip->frag, 0);
}

static void ipv4_roundtrip(const struct wire_ipv4 *ip)
{
	uint8_t h[WIRE_IPV4_HDR];
	struct bbuf b = bbuf_make(h, sizeof h);
	REQUIRE(emit_ipv4(&b, ip) == WIRE_IPV4_HDR);
	struct wire_ipv4 u;
	REQUIRE(wire_ipv4_parse(h, sizeof h, &u) == 0);
	REQUIRE(synack_addr_equal(&u.src, &ip->src) && synack_addr_equal(&u.dst, &ip->dst));
	REQUIRE(u.proto == ip->proto && u.ttl == ip->ttl && u.id == ip->id);
	REQUIRE(u.frag == ip->frag && u.payload_len == 0);
	emit_small(emit_ipv4, ip, h, sizeof h);
}

/* An ICMP or ICMPv6 message to emit again (ICMPv6: s, d set). */
struct icmp_args {
	const synack_addr *s, *d;
	const struct wire_icmp *ic;
	size_t body_len;
	const struct wire_nd *nd;
};

static size_t emit_icmp(struct bbuf *b, const void *arg)
{
	const struct icmp_args *a = arg;
	return wire_icmp_emit(b, a->ic->type, a->ic->code, a->ic->rest, a->ic->body, a->body_len);
}

static void icmp_roundtrip(const struct wire_icmp *ic)
{
	size_t n = ic->body_len < 256 ? ic->body_len : 256;
	uint8_t *m = malloc(8 + n);
	struct bbuf b = bbuf_make(m, 8 + n);
	struct icmp_args a = {.ic = ic, .body_len = n};
	REQUIRE(emit_icmp(&b, &a) == 8 + n);
	struct wire_icmp u;
	REQUIRE(wire_icmp_parse(m, 8 + n, &u) == 0);
	REQUIRE(u.type == ic->type && u.code == ic->code && memcmp(u.rest, ic->rest, 4) == 0);
	REQUIRE(u.body_len == n && memcmp(u.body, ic->body, n) == 0);
	emit_small(emit_icmp, &a, m, 8 + n);
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

/* ---- Ethernet, ARP ---- */

static size_t emit_arp(struct bbuf *b, const void *arg)
{
	return wire_arp_emit(b, arg);
}

static size_t emit_eth(struct bbuf *b, const void *arg)
{
	const struct wire_eth *e = arg;
	return wire_eth_emit(b, e->dst, e->src, e->type);
}

static void try_arp(const uint8_t *p, size_t len)
{
	struct wire_arp a;
	int r = wire_arp_parse(p, len, &a);
	REQUIRE(r == 0 || r == SYNACK_DROP_ARP_MALFORMED);
	if (r)
		return;
	REQUIRE(a.op == WIRE_ARP_REQUEST || a.op == WIRE_ARP_REPLY);
	REQUIRE(a.spa.family == SYNACK_AF_INET && a.tpa.family == SYNACK_AF_INET);
	uint8_t h[WIRE_ARP_LEN];
	struct bbuf b = bbuf_make(h, sizeof h);
	REQUIRE(emit_arp(&b, &a) == WIRE_ARP_LEN && memcmp(h, p, WIRE_ARP_LEN) == 0);
	emit_small(emit_arp, &a, h, sizeof h);
}

static void try_ipv4(const uint8_t *p, size_t len);
static void try_ipv6(const uint8_t *p, size_t len);

static void try_eth(const uint8_t *p, size_t len)
{
	struct wire_eth e;
	int r = wire_eth_parse(p, len, &e);
	REQUIRE(r == 0 || r == SYNACK_DROP_ETH_TRUNCATED);
	if (r)
		return;
	REQUIRE(e.payload == p + WIRE_ETH_HDR && e.payload_len == len - WIRE_ETH_HDR);
	uint8_t h[WIRE_ETH_HDR];
	struct bbuf b = bbuf_make(h, sizeof h);
	REQUIRE(emit_eth(&b, &e) == WIRE_ETH_HDR && memcmp(h, p, WIRE_ETH_HDR) == 0);
	emit_small(emit_eth, &e, h, sizeof h);
	if (e.type == WIRE_ETH_ARP)
		try_arp(e.payload, e.payload_len);
	else if (e.type == WIRE_ETH_IPV4)
		try_ipv4(e.payload, e.payload_len);
	else if (e.type == WIRE_ETH_IPV6)
		try_ipv6(e.payload, e.payload_len);
}

/* ---- IPv6, extension headers, ICMPv6, ND ---- */

static size_t emit_ipv6(struct bbuf *b, const void *arg)
{
	const struct wire_ipv6 *ip = arg;
	return wire_ipv6_emit(b, &ip->src, &ip->dst, ip->next, ip->hop_limit, ip->payload_len);
}

static void ipv6_roundtrip(const uint8_t *p, const struct wire_ipv6 *ip)
{
	uint8_t h[WIRE_IPV6_HDR];
	struct bbuf b = bbuf_make(h, sizeof h);
	REQUIRE(emit_ipv6(&b, ip) == WIRE_IPV6_HDR);
	emit_small(emit_ipv6, ip, h, sizeof h);
	REQUIRE(memcmp(h + 4, p + 4, WIRE_IPV6_HDR - 4) == 0);
	struct wire_ipv6 u;
	REQUIRE(wire_ipv6_parse(h, sizeof h, &u) == (ip->payload_len ? SYNACK_DROP_IP_LENGTH : 0));
	REQUIRE((rd32(p) & 0x0fffffff) == ((uint32_t)ip->tclass << 20 | ip->flow));
}

static size_t emit_frag(struct bbuf *b, const void *arg)
{
	const struct wire_ipv6_ext *x = arg;
	return wire_ipv6_frag_emit(b, x->next, x->frag_offset, x->frag_more, x->frag_id);
}

static void frag_roundtrip(const uint8_t *p, const struct wire_ipv6_ext *x)
{
	uint8_t h[8];
	struct bbuf b = bbuf_make(h, sizeof h);
	REQUIRE(emit_frag(&b, x) == 8);
	REQUIRE(h[0] == p[0] && rd16(h + 2) == (rd16(p + 2) & 0xfff9) && rd32(h + 4) == rd32(p + 4));
	emit_small(emit_frag, x, h, sizeof h);
	struct wire_ipv6_ext u;
	REQUIRE(wire_ipv6_ext_parse(WIRE_PROTO_FRAGMENT, h, sizeof h, &u) == 0);
	REQUIRE(u.next == x->next && u.len == 8 && u.frag_offset == x->frag_offset);
	REQUIRE(u.frag_more == x->frag_more && u.frag_id == x->frag_id);
}

/* One extension header at p[0..len): bounds, then its own round trip. */
static bool try_ext(uint8_t type, const uint8_t *p, size_t len, struct wire_ipv6_ext *x)
{
	int r = wire_ipv6_ext_parse(type, p, len, x);
	REQUIRE(r == 0 || r == SYNACK_DROP_IP6_EXT_HEADER);
	if (r)
		return false;
	REQUIRE(x->len >= 8 && x->len <= len && x->len % 8 == 0 && x->next == p[0]);
	REQUIRE(!x->bad_option || (x->bad_option >= 2 && x->bad_option < x->len && x->bad_action >= 1 &&
				   x->bad_action <= 3 && p[x->bad_option] >> 6 == x->bad_action));
	if (type == WIRE_PROTO_FRAGMENT)
		frag_roundtrip(p, x);
	if (type == WIRE_PROTO_ROUTING)
		REQUIRE(x->routing_type == p[2] && x->segments_left == p[3]);
	return true;
}

static size_t emit_nd(struct bbuf *b, const void *arg)
{
	const struct icmp_args *a = arg;
	const struct wire_nd *nd = a->nd;
	return wire_nd_emit(b, a->s, a->d, a->ic->type, nd->flags, &nd->target, nd->has_lla ? nd->lla : NULL);
}

static void nd_roundtrip(const synack_addr *s, const synack_addr *d, const struct wire_icmp *ic,
			 const struct wire_nd *nd)
{
	uint8_t m[64];
	struct bbuf b = bbuf_make(m, sizeof m);
	struct icmp_args a = {.s = s, .d = d, .ic = ic, .nd = nd};
	size_t n = emit_nd(&b, &a);
	REQUIRE(n == (nd->has_lla ? 32u : 24u) && b.len == n);
	emit_small(emit_nd, &a, m, n);
	struct wire_icmp u;
	struct wire_nd v;
	REQUIRE(wire_icmp6_parse(s, d, m, n, &u) == 0 && u.type == ic->type && u.code == 0);
	REQUIRE(wire_nd_parse(&u, &v) == 0);
	REQUIRE(synack_addr_equal(&v.target, &nd->target) && v.flags == nd->flags &&
		v.has_lla == nd->has_lla);
	REQUIRE(!v.has_lla || memcmp(v.lla, nd->lla, 6) == 0);
}

static void try_nd(const synack_addr *s, const synack_addr *d, const struct wire_icmp *ic)
{
	struct wire_nd nd;
	int r = wire_nd_parse(ic, &nd);
	REQUIRE(r == 0 || r == SYNACK_DROP_ND_INVALID);
	if (r)
		return;
	REQUIRE(ic->code == 0 && ic->body_len >= 16 && !wire_ip6_is_multicast(&nd.target));
	REQUIRE(memcmp(nd.target.bytes, ic->body, 16) == 0);
	REQUIRE(nd.flags == (ic->type == WIRE_ND_NA ? (ic->rest[0] & 0xe0) : 0));
	nd_roundtrip(s, d, ic, &nd);
}

static size_t emit_icmp6(struct bbuf *b, const void *arg)
{
	const struct icmp_args *a = arg;
	return wire_icmp6_emit(b, a->s, a->d, a->ic->type, a->ic->code, a->ic->rest, a->ic->body,
			       a->body_len);
}

static void icmp6_roundtrip(const synack_addr *s, const synack_addr *d, const uint8_t *p,
			    const struct wire_icmp *ic)
{
	size_t n = 8 + ic->body_len;
	uint8_t *m = malloc(n);
	struct bbuf b = bbuf_make(m, n);
	struct icmp_args a = {.s = s, .d = d, .ic = ic, .body_len = ic->body_len};
	REQUIRE(emit_icmp6(&b, &a) == n);
	REQUIRE(memcmp(m, p, 2) == 0 && memcmp(m + 4, p + 4, n - 4) == 0);
	emit_small(emit_icmp6, &a, m, n);
	struct wire_icmp u;
	REQUIRE(wire_icmp6_parse(s, d, m, n, &u) == 0);
	free(m);
}

static void try_icmp6(const synack_addr *s, const synack_addr *d, const uint8_t *p, size_t len)
{
	struct wire_icmp ic;
	int r = wire_icmp6_parse(s, d, p, len, &ic);
	REQUIRE(r == 0 || r == SYNACK_DROP_ICMP_TRUNCATED || r == SYNACK_DROP_ICMP_CHECKSUM);
	if (r)
		return;
	REQUIRE(ic.type == p[0] && ic.code == p[1] && ic.body == p + 8 && ic.body_len == len - 8);
	icmp6_roundtrip(s, d, p, &ic);
	if (ic.type == WIRE_ND_NS || ic.type == WIRE_ND_NA)
		try_nd(s, d, &ic);
}

/* Address helpers on a parsed destination. */
static void check_addr6(const synack_addr *a, unsigned plen)
{
	synack_addr g;
	uint8_t mac[6];
	wire_ip6_solicited_node(&g, a);
	REQUIRE(wire_ip6_is_multicast(&g) && memcmp(g.bytes + 13, a->bytes + 13, 3) == 0);
	wire_eth_ipv6_mcast(mac, &g);
	REQUIRE(wire_mac_is_group(mac) && memcmp(mac + 2, g.bytes + 12, 4) == 0);
	REQUIRE(wire_addr_prefix_match(a, a, plen % 129));
}

static void try_ipv6(const uint8_t *p, size_t len)
{
	struct wire_ipv6 ip;
	int r = wire_ipv6_parse(p, len, &ip);
	REQUIRE(r == 0 || r == SYNACK_DROP_IP_TRUNCATED || r == SYNACK_DROP_IP_VERSION ||
		r == SYNACK_DROP_IP_LENGTH);
	if (r)
		return;
	REQUIRE(ip.payload == p + WIRE_IPV6_HDR && WIRE_IPV6_HDR + ip.payload_len <= len);
	ipv6_roundtrip(p, &ip);
	check_addr6(&ip.dst, ip.hop_limit);
	uint8_t next = ip.next;
	size_t off = 0;
	struct wire_ipv6_ext x;
	while (wire_ipv6_is_ext(next) && try_ext(next, ip.payload + off, ip.payload_len - off, &x)) {
		if (next == WIRE_PROTO_FRAGMENT && (x.frag_offset || x.frag_more))
			return; /* a fragment: the upper layer is elsewhere */
		next = x.next;
		off += x.len;
	}
	if (next == WIRE_PROTO_TCP)
		try_tcp(ip.payload + off, ip.payload_len - off, &ip.src, &ip.dst);
	else if (next == WIRE_PROTO_ICMPV6)
		try_icmp6(&ip.src, &ip.dst, ip.payload + off, ip.payload_len - off);
}

/* RFC 1071: the sum in two pieces (first one even) equals the one-shot sum. */
static void check_csum(const uint8_t *p, size_t len)
{
	size_t cut = len ? (size_t)(p[0] * 2u) % (len + 1) & ~(size_t)1 : 0;
	uint32_t two = wire_csum_add(wire_csum_add(0, p, cut), p + cut, len - cut);
	REQUIRE(wire_csum_finish(two) == wire_csum_finish(wire_csum_add(0, p, len)));
}

static void try_ipv4(const uint8_t *p, size_t size)
{
	struct wire_ipv4 ip;
	int r = wire_ipv4_parse(p, size, &ip);
	REQUIRE(r == 0 || (r > SYNACK_DROP_FIRST_ && r < SYNACK_DROP_LAST_));
	if (r)
		return;
	REQUIRE(ip.hdr_len >= WIRE_IPV4_HDR && ip.payload == p + ip.hdr_len);
	REQUIRE(ip.hdr_len + ip.payload_len == ip.total_len && ip.total_len <= size);
	ipv4_roundtrip(&ip);
	try_tcp(ip.payload, ip.payload_len, &ip.src, &ip.dst);
	try_icmp(ip.payload, ip.payload_len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *p = malloc(size ? size : 1); /* exact size: ASan sees overreads */
	memcpy(p, data, size);
	draw_state = 0xcbf29ce484222325u; /* FNV-1a of the input: the small capacities */
	for (size_t i = 0; i < size; i++)
		draw_state = (draw_state ^ p[i]) * 0x100000001b3u;
	draw_state |= 1;
	try_ipv4(p, size);
	try_tcp(p, size, NULL, NULL);
	try_icmp(p, size);
	try_ipv6(p, size);
	try_eth(p, size);
	try_arp(p, size);
	if (size) { /* the first byte names an extension header type */
		struct wire_ipv6_ext x;
		static const uint8_t types[4] = {WIRE_PROTO_HOPOPTS, WIRE_PROTO_ROUTING, WIRE_PROTO_FRAGMENT,
						 WIRE_PROTO_DSTOPTS};
		(void)try_ext(types[p[0] & 3], p + 1, size - 1, &x);
	}
	check_csum(p, size);
	free(p);
	return 0;
}

/* ---- seeds ---- */

/* IPv4 + TCP with the given options and payload, checksums right, in
 * f[0..cap). */
static size_t build_tcp(uint8_t *f, size_t cap, const struct wire_tcp_opts *o, uint8_t flags,
			const char *payload)
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
	size_t pl = strlen(payload);
	struct bbuf b = bbuf_make(f + 20, cap - 20), ip = bbuf_make(f, cap);
	size_t hl = wire_tcp_emit(&b, &t, pl);
	bbuf_put(&b, payload, pl);
	wire_tcp_set_csum(f + 20, hl + pl, &s, &d);
	wire_ipv4_emit(&ip, &s, &d, WIRE_PROTO_TCP, 64, 1, WIRE_IPV4_DF, hl + pl);
	REQUIRE(bbuf_ok(&b) && bbuf_ok(&ip));
	return 20 + hl + pl;
}

static void write_seeds(const char *dir)
{
	uint8_t f[256];
	struct wire_tcp_opts syn = {
	    .has_mss = 1, .mss = 1460, .sack_ok = 1, .has_ts = 1, .ts_val = 1, .wscale = 7};
	fuzz_write_seed(dir, "syn", f, build_tcp(f, sizeof f, &syn, SYNACK_TCP_SYN, ""));
	struct wire_tcp_opts data = {.has_ts = 1,
				     .ts_val = 5,
				     .ts_ecr = 4,
				     .wscale = -1,
				     .nsack = 2,
				     .sack = {{100, 200}, {300, 400}}};
	fuzz_write_seed(
	    dir, "data-sack", f,
	    build_tcp(f, sizeof f, &data, SYNACK_TCP_ACK | SYNACK_TCP_PSH, "GET / HTTP/1.0\r\n\r\n"));
	struct wire_tcp_opts none = {.wscale = -1};
	fuzz_write_seed(dir, "rst", f, build_tcp(f, sizeof f, &none, SYNACK_TCP_RST, ""));
	synack_addr s = synack_addr_ipv4(10, 0, 0, 1), d = synack_addr_ipv4(10, 0, 0, 2);
	static const uint8_t rest[4] = {0x12, 0x34, 0, 1};
	struct bbuf b = bbuf_make(f + 20, sizeof f - 20), ip = bbuf_make(f, sizeof f);
	size_t n = wire_icmp_emit(&b, WIRE_ICMP_ECHO_REQUEST, 0, rest, (const uint8_t *)"abcdefgh", 8);
	wire_ipv4_emit(&ip, &s, &d, WIRE_PROTO_ICMP, 64, 2, 0, n);
	fuzz_write_seed(dir, "icmp-echo", f, 20 + n);
	/* unusual option layout: NOPs, unknown kind 30 len 6, EOL */
	static const uint8_t odd[] = {1, 1, 1, 30, 6, 1, 2, 3, 4, 2, 4, 5, 0xb4, 0, 0, 0};
	memset(f, 0, 60);
	memcpy(f + 20, odd, sizeof odd);
	f[12] = (20 + sizeof odd) / 4 << 4;
	f[13] = SYNACK_TCP_SYN;
	fuzz_write_seed(dir, "tcp-odd-options", f, 20 + sizeof odd);
}

static const uint8_t mac_a[6] = {0x02, 0, 0, 0, 0, 1}, mac_b[6] = {0x02, 0, 0, 0, 0, 2};

static synack_addr addr6(uint8_t first, uint8_t last)
{
	synack_addr a = {.family = SYNACK_AF_INET6, .bytes = {first, first == 0xfe ? 0x80 : 0x01}};
	a.bytes[15] = last;
	return a;
}

/* IPv6 + TCP behind a Hop-by-Hop header (PadN and Router Alert) and an
 * atomic Fragment header, in f[0..cap). */
static size_t build_tcp6(uint8_t *f, size_t cap)
{
	synack_addr s = addr6(0x20, 1), d = addr6(0x20, 2);
	static const uint8_t hbh[8] = {WIRE_PROTO_FRAGMENT, 0, 5, 2, 0, 0, 1, 0};
	struct wire_tcp t = {.sport = 40000,
			     .dport = 80,
			     .seq = 7,
			     .ack = 9,
			     .flags = SYNACK_TCP_ACK,
			     .wnd = 1000,
			     .opt = {.wscale = -1, .has_ts = 1, .ts_val = 3}};
	struct bbuf b = bbuf_make(f, cap);
	uint8_t *ip = bbuf_reserve(&b, WIRE_IPV6_HDR);
	bbuf_put(&b, hbh, 8);
	wire_ipv6_frag_emit(&b, WIRE_PROTO_TCP, 0, false, 0x1234);
	size_t n = wire_tcp_emit(&b, &t, 4);
	bbuf_put(&b, "data", 4);
	REQUIRE(bbuf_ok(&b));
	wire_tcp_set_csum(f + 56, n + 4, &s, &d);
	struct bbuf h = bbuf_make(ip, WIRE_IPV6_HDR);
	REQUIRE(wire_ipv6_emit(&h, &s, &d, WIRE_PROTO_HOPOPTS, 64, 16 + n + 4) == WIRE_IPV6_HDR);
	return b.len;
}

/* Ethernet + IPv6 + a Neighbor Solicitation (or Advertisement), in
 * f[0..cap). */
static size_t build_nd(uint8_t *f, size_t cap, uint8_t type)
{
	synack_addr s = addr6(0xfe, 1), d, target = addr6(0x20, 2);
	uint8_t mac[6];
	if (type == WIRE_ND_NS)
		wire_ip6_solicited_node(&d, &target);
	else
		d = addr6(0xfe, 2);
	wire_eth_ipv6_mcast(mac, &d);
	struct bbuf b = bbuf_make(f, cap);
	wire_eth_emit(&b, type == WIRE_ND_NS ? mac : mac_b, mac_a, WIRE_ETH_IPV6);
	uint8_t *ip = bbuf_reserve(&b, WIRE_IPV6_HDR);
	size_t n = wire_nd_emit(&b, &s, &d, type, WIRE_NA_SOLICITED | WIRE_NA_OVERRIDE, &target, mac_a);
	REQUIRE(bbuf_ok(&b));
	struct bbuf h = bbuf_make(ip, WIRE_IPV6_HDR);
	REQUIRE(wire_ipv6_emit(&h, &s, &d, WIRE_PROTO_ICMPV6, 255, n) == WIRE_IPV6_HDR);
	return b.len;
}

static void write_seeds6(const char *dir)
{
	uint8_t f[256];
	fuzz_write_seed(dir, "ipv6-ext-tcp", f, build_tcp6(f, sizeof f));
	fuzz_write_seed(dir, "eth-nd-ns", f, build_nd(f, sizeof f, WIRE_ND_NS));
	fuzz_write_seed(dir, "eth-nd-na", f, build_nd(f, sizeof f, WIRE_ND_NA));
	struct wire_arp a = {.op = WIRE_ARP_REQUEST,
			     .spa = synack_addr_ipv4(10, 0, 0, 1),
			     .tpa = synack_addr_ipv4(10, 0, 0, 2)};
	memcpy(a.sha, mac_a, 6);
	static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	struct bbuf b = bbuf_make(f, sizeof f);
	wire_eth_emit(&b, bcast, mac_a, WIRE_ETH_ARP);
	wire_arp_emit(&b, &a);
	REQUIRE(bbuf_ok(&b));
	fuzz_write_seed(dir, "eth-arp", f, b.len);
	synack_addr s = addr6(0x20, 1), d = addr6(0x20, 2);
	static const uint8_t rest[4] = {0, 1, 0, 2};
	b = bbuf_make(f, sizeof f);
	wire_eth_emit(&b, mac_b, mac_a, WIRE_ETH_IPV6);
	uint8_t *ip = bbuf_reserve(&b, WIRE_IPV6_HDR);
	size_t n = wire_icmp6_emit(&b, &s, &d, WIRE_ICMP6_ECHO_REQUEST, 0, rest, (const uint8_t *)"ping", 4);
	REQUIRE(bbuf_ok(&b));
	struct bbuf h = bbuf_make(ip, WIRE_IPV6_HDR);
	REQUIRE(wire_ipv6_emit(&h, &s, &d, WIRE_PROTO_ICMPV6, 64, n) == WIRE_IPV6_HDR);
	fuzz_write_seed(dir, "eth-icmp6-echo", f, b.len);
	/* a Destination Options header with an unknown "discard + ICMP" option */
	static const uint8_t dst[9] = {WIRE_PROTO_DSTOPTS, WIRE_PROTO_NONE, 0, 0x81, 2, 0, 0, 1, 0};
	fuzz_write_seed(dir, "ext-dstopts", dst, sizeof dst);
}

static void write_all_seeds(const char *dir)
{
	write_seeds(dir);
	write_seeds6(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init(write_all_seeds);
	return 0;
}
