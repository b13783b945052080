/* libFuzzer target: hostile frames into a live stack on every link kind and
 * address family: raw IPv4, raw IPv6, Ethernet with IPv4 and ARP, Ethernet
 * with IPv6 and Neighbor Discovery. It reaches what fuzz_stack (raw IPv4
 * only) cannot: the Ethernet layer, ARP, ICMPv6, ND and the neighbour
 * cache, IPv4 and IPv6 fragment reassembly, and ICMP/ICMPv6 errors handed
 * to TCP.
 *
 * For every input: a simulated pair on the in-memory link (100 us delay),
 * client 10.0.0.1 / 2001:db8::1 (MAC 02:00:00:00:00:01), server 10.0.0.2 /
 * 2001:db8::2 (MAC ...:02); a third host 10.0.0.3 / 2001:db8::3 (MAC
 * ...:03) exists only in the frames the fuzzer writes. A listener on
 * server port 80 and one established connection of the mode's family that
 * has carried a few bytes each way. Then the input's frames are fed to the
 * server with synack_stack_input() at an advancing virtual time, the sim
 * running between frames as in fuzz_stack.
 *
 * Input layout:
 *   byte 0        mode: low 2 bits MODE_* (raw4, raw6, eth4, eth6)
 *   byte 1        flags (FL_* below)
 *   then records  u16 big-endian v: frame length v & 0x7ff, delay before
 *                 it (v >> 11)^2 * 10 ms; one kind byte; the frame bytes
 *                 (cut to what remains). At most MAX_FRAMES records.
 * The kind byte's low 3 bits choose how the frame bytes become a frame
 * (OP_*); its high bits are that operation's parameters:
 *   OP_VERBATIM   the bytes are the frame (Ethernet header included on an
 *                 Ethernet link);
 *   OP_WRAP       the bytes are an IP packet, sent unchanged (in an
 *                 Ethernet header to the server's MAC on Ethernet);
 *   OP_IP         the bytes are an IPv4 or IPv6 packet (the mode's
 *                 family), fixed up like fuzz_stack does: destination (bits
 *                 3-4: the server's unicast address, link-local, all-nodes or
 *                 solicited-node; IPv4: unicast, subnet / limited broadcast,
 *                 224.0.0.1), and by the FL_* flags source, protocol, ports,
 *                 seq/ack of the live connection, lengths; then the IPv4,
 *                 TCP, ICMP or ICMPv6 checksums (the IPv6 extension header
 *                 chain is walked to find the upper layer). Bit 5: link-layer
 *                 broadcast; bit 6: source the client's link-local address
 *                 (IPv6, with FL_TUPLE); bit 7: link-layer source the third
 *                 host's MAC;
 *   OP_FRAG       fixed up like OP_IP, then cut into 1 + bits 3-4 fragments
 *                 (IPv4 fragment fields, or an IPv6 Fragment header after the
 *                 fixed header); bit 5 sends them in reverse order, bit 6
 *                 the first twice, bit 7 leaves the last out (reassembly
 *                 timeout);
 *   OP_ICMP_ERR   an ICMP (ICMPv6) error to the server quoting a TCP segment
 *                 the server sent on the live connection (or the connection
 *                 of the last SYN-ACK), see icmp_err() for the parameter
 *                 bytes;
 *   OP_NEIGH      an ARP packet (eth4) or a Neighbor Solicitation /
 *                 Advertisement (IPv6 modes), see op_arp() and op_nd() for
 *                 the parameter bytes; on raw IPv4 the same as OP_IP;
 *   OP_SPRAY      fixed up like OP_FRAG, then the first of 2 fragments is
 *                 sent for 8 * (1 + bits 3-7) different fragment ids (the
 *                 reassembly table's limits and eviction);
 *   6             the same as OP_IP.
 * Frames from the peer of the server's last SYN-ACK get that connection's
 * seq/ack (FL_SEQ/FL_ACK) so the fuzzer can open its own connections.
 *
 * Checks after each input (abort() on failure), as in fuzz_stack: every
 * handle closed (FL_CLOSE) or aborted, the sim run until no timer is left
 * (fragments time out, neighbour entries are collected); zero TCBs and no
 * more blocks than an idle stack of the same mode; synack_stack_memory()
 * equal to what the counting allocator saw; everything returned after
 * synack_sim_destroy(); at most STEP_BUDGET sim steps per input.
 *
 * SYNACK_FUZZ_SEEDS=DIR build-fuzz/fuzz_net writes seed inputs to DIR and
 * exits. SYNACK_FUZZ_VERBOSE=1 prints what happens; SYNACK_FUZZ_PCAP=FILE
 * records the frames that crossed the link; SYNACK_FUZZ_ALLOW_STORMS=1
 * tolerates storms (see the storm guard in fuzz_common.c). */
#include "base/base.h"
#include "fuzz_common.h"

enum { MODE_RAW4, MODE_RAW6, MODE_ETH4, MODE_ETH6, MODE_COUNT };
_Static_assert(MODE_COUNT <= FUZZ_MODES, "fuzz_common.c keeps idle blocks per mode");
enum {
	FL_NOCSUM = 1 << 0, /* leave the L4 checksum as the fuzzer wrote it */
			    /* FL_TUPLE, FL_SEQ, FL_ACK, FL_LEN, FL_CLOSE, FL_TRAFFIC, FL_READ:
			     * fuzz_common.h */
};
enum { OP_VERBATIM, OP_WRAP, OP_IP, OP_FRAG, OP_ICMP_ERR, OP_NEIGH, OP_IP2, OP_SPRAY };
enum { HOST_CLIENT = 0, HOST_SERVER = 1, HOST_THIRD = 2 };
enum { SCRATCH = 4096, PARAMS = 24 };

/* ---- addresses ---- */
static synack_addr host_addr(int fam, int host)
{
	if (fam == SYNACK_AF_INET)
		return synack_addr_ipv4(10, 0, 0, (uint8_t)(host + 1));
	synack_addr a = {.family = SYNACK_AF_INET6, .bytes = {0x20, 0x01, 0x0d, 0xb8}};
	a.bytes[15] = (uint8_t)(host + 1);
	return a;
}

static void host_mac(uint8_t mac[6], int host)
{
	static const uint8_t base[6] = {0x02, 0, 0, 0, 0, 0};
	memcpy(mac, base, 6);
	mac[5] = (uint8_t)(host + 1);
}

/* The link-local address of a host: modified EUI-64 of its MAC on
 * Ethernet (what the stack derives); on a raw link it is random, so this
 * one is just another address there. */
static synack_addr host_ll(int host)
{
	uint8_t m[6];
	host_mac(m, host);
	synack_addr a = {.family = SYNACK_AF_INET6, .bytes = {0xfe, 0x80}};
	const uint8_t iid[8] = {m[0] ^ 0x02, m[1], m[2], 0xff, 0xfe, m[3], m[4], m[5]};
	memcpy(a.bytes + 8, iid, 8);
	return a;
}

static synack_addr addr_at(int fam, const uint8_t *p)
{
	synack_addr a = {.family = (uint8_t)fam};
	memcpy(a.bytes, p, fam == SYNACK_AF_INET ? 4 : 16);
	return a;
}

static synack_endpoint ep(const struct world *w, int host, uint16_t port)
{
	synack_endpoint e = {.addr = host_addr(w->fam, host), .port = port};
	return e;
}

static void make_config(struct world *w, int i, synack_stack_config *cfg)
{
	fuzz_config(w, i, cfg);
	cfg->addr6 = host_addr(SYNACK_AF_INET6, i);
	cfg->prefix6_len = 64;
	cfg->link = w->eth ? SYNACK_LINK_ETHERNET : SYNACK_LINK_RAW_IP;
	host_mac(cfg->mac, i);
}

static void set_mode(struct world *w, int mode)
{
	w->mode = mode;
	w->eth = mode == MODE_ETH4 || mode == MODE_ETH6;
	w->fam = mode == MODE_RAW6 || mode == MODE_ETH6 ? SYNACK_AF_INET6 : SYNACK_AF_INET;
}

/* Pair, listener, one connection of the mode's family with a few bytes
 * each way (on Ethernet this resolves the neighbours first). */
static void setup(struct world *w)
{
	synack_stack_config cfg[2];
	make_config(w, 0, &cfg[0]);
	make_config(w, 1, &cfg[1]);
	synack_endpoint sep = ep(w, HOST_SERVER, SERVER_PORT);
	fuzz_setup(w, cfg, &sep, SYNACK_USEC(100));
}

/* ---- frame output ---- */

/* Hand frame[0..len) to the server as an exact-size copy (ASan sees
 * overreads). */
static void inject(struct world *w, const uint8_t *frame, size_t len)
{
	uint8_t *f = malloc(len ? len : 1);
	memcpy(f, frame, len);
	synack_stack_input(w->sim.stack[1], f, len, w->sim.now);
	free(f);
}

/* The Ethernet destination for an IP destination: its RFC 2464 group for
 * IPv6 multicast, broadcast for IPv4 broadcast and multicast (good
 * enough: the stack accepts it), else the server. */
static void l2_dst_for(const synack_addr *dst, uint8_t mac[6])
{
	if (dst->family == SYNACK_AF_INET6 && wire_ip6_is_multicast(dst))
		wire_eth_ipv6_mcast(mac, dst);
	else if (dst->family == SYNACK_AF_INET && dst->bytes[3] != 2)
		memset(mac, 0xff, 6);
	else
		host_mac(mac, HOST_SERVER);
}

/* Send the IP or ARP packet pkt[0..len): as it is on a raw link, in an
 * Ethernet header (dst, src MACs; NULL dst: the server) on Ethernet. */
static void send_l3(struct world *w, const uint8_t *pkt, size_t len, uint16_t type, const uint8_t *dst,
		    int src_host)
{
	if (!w->eth) {
		inject(w, pkt, len);
		return;
	}
	static uint8_t f[WIRE_ETH_HDR + SCRATCH];
	uint8_t d[6], s[6];
	if (dst)
		memcpy(d, dst, 6);
	else
		host_mac(d, HOST_SERVER);
	host_mac(s, src_host);
	struct bbuf b = bbuf_make(f, sizeof f);
	wire_eth_emit(&b, d, s, type);
	bbuf_put(&b, pkt, len);
	REQUIRE(bbuf_ok(&b));
	inject(w, f, b.len);
}

static uint16_t ip_ethertype(const struct world *w)
{
	return w->fam == SYNACK_AF_INET ? WIRE_ETH_IPV4 : WIRE_ETH_IPV6;
}

/* ---- fix-up of IP packets ---- */

static void fix_tcp(struct world *w, uint8_t *l4, size_t len, const synack_addr *s, const synack_addr *d)
{
	if (len < WIRE_TCP_HDR)
		return;
	fuzz_fix_tcp(w, l4, s);
	if (!(w->flags & FL_NOCSUM))
		wire_tcp_set_csum(l4, len, s, d);
}

/* TCP, ICMP or ICMPv6 at l4[0..len) (proto), between s and d. */
static void fix_l4(struct world *w, uint8_t proto, uint8_t *l4, size_t len, const synack_addr *s,
		   const synack_addr *d)
{
	if (proto == WIRE_PROTO_TCP) {
		fix_tcp(w, l4, len, s, d);
	} else if ((proto == WIRE_PROTO_ICMP || proto == WIRE_PROTO_ICMPV6) && len >= 8 &&
		   !(w->flags & FL_NOCSUM)) {
		uint32_t sum = proto == WIRE_PROTO_ICMP ? 0 : wire_pseudo_sum(s, d, proto, (uint32_t)len);
		wr16(l4 + 2, 0);
		wr16(l4 + 2, wire_csum_finish(wire_csum_add(sum, l4, len)));
	}
}

static const uint8_t v4_dsts[4][4] = {{10, 0, 0, 2}, {10, 0, 0, 255}, {255, 255, 255, 255}, {224, 0, 0, 1}};

static void fix4(struct world *w, uint8_t *f, size_t len, unsigned kind)
{
	if (len < WIRE_IPV4_HDR)
		return;
	if (w->flags & FL_LEN) {
		f[0] = (uint8_t)(0x40 | (f[0] & 15));
		wr16(f + 2, (uint16_t)(len > 65535 ? 65535 : len));
	}
	memcpy(f + 16, v4_dsts[kind >> 3 & 3], 4);
	if (w->flags & FL_TUPLE) {
		memcpy(f + 12, (const uint8_t[]){10, 0, 0, 1}, 4);
		f[9] = WIRE_PROTO_TCP;
	}
	size_t hl = (size_t)(f[0] & 15) * 4, total = rd16(f + 2);
	if (hl >= WIRE_IPV4_HDR && hl <= total && total <= len) {
		synack_addr s = addr_at(SYNACK_AF_INET, f + 12), d = addr_at(SYNACK_AF_INET, f + 16);
		fix_l4(w, f[9], f + hl, total - hl, &s, &d);
	}
	if (hl >= WIRE_IPV4_HDR && hl <= len) {
		wr16(f + 10, 0);
		wr16(f + 10, wire_csum_finish(wire_csum_add(0, f, hl)));
	}
}

static synack_addr v6_dst(unsigned sel)
{
	synack_addr a = host_addr(SYNACK_AF_INET6, HOST_SERVER);
	if (sel == 1)
		a = host_ll(HOST_SERVER);
	else if (sel == 2)
		wire_ip6_all_nodes(&a);
	else if (sel == 3)
		wire_ip6_solicited_node(&a, &a);
	return a;
}

/* The upper layer of an IPv6 packet: walk the extension headers (none
 * for a fragment, whose checksum covers the whole datagram). */
static void fix6_upper(struct world *w, uint8_t *f, size_t len)
{
	size_t end = WIRE_IPV6_HDR + MIN((size_t)rd16(f + 4), len - WIRE_IPV6_HDR), off = WIRE_IPV6_HDR;
	uint8_t next = f[6];
	while (wire_ipv6_is_ext(next)) {
		struct wire_ipv6_ext x;
		if (next == WIRE_PROTO_FRAGMENT || wire_ipv6_ext_parse(next, f + off, end - off, &x))
			return;
		next = x.next;
		off += x.len;
	}
	synack_addr s = addr_at(SYNACK_AF_INET6, f + 8), d = addr_at(SYNACK_AF_INET6, f + 24);
	fix_l4(w, next, f + off, end - off, &s, &d);
}

static void fix6(struct world *w, uint8_t *f, size_t len, unsigned kind)
{
	if (len < WIRE_IPV6_HDR)
		return;
	if (w->flags & FL_LEN) {
		f[0] = (uint8_t)(0x60 | (f[0] & 15));
		wr16(f + 4, (uint16_t)MIN(len - WIRE_IPV6_HDR, (size_t)65535));
	}
	synack_addr d = v6_dst(kind >> 3 & 3);
	memcpy(f + 24, d.bytes, 16);
	if (w->flags & FL_TUPLE) {
		synack_addr s = kind & 0x40 ? host_ll(HOST_CLIENT) : host_addr(SYNACK_AF_INET6, HOST_CLIENT);
		memcpy(f + 8, s.bytes, 16);
		f[6] = WIRE_PROTO_TCP;
	}
	fix6_upper(w, f, len);
}

static void fixup(struct world *w, uint8_t *f, size_t len, unsigned kind)
{
	if (w->fam == SYNACK_AF_INET)
		fix4(w, f, len, kind);
	else
		fix6(w, f, len, kind);
}

/* The Ethernet destination of an IP packet as fixed (broadcast on bit 5). */
static void ip_l2_dst(const struct world *w, const uint8_t *f, size_t len, unsigned kind, uint8_t mac[6])
{
	size_t need = w->fam == SYNACK_AF_INET ? WIRE_IPV4_HDR : WIRE_IPV6_HDR;
	synack_addr d = host_addr(w->fam, HOST_SERVER);
	if (len >= need)
		d = addr_at(w->fam, f + (w->fam == SYNACK_AF_INET ? 16 : 24));
	l2_dst_for(&d, mac);
	if (kind & 0x20)
		memset(mac, 0xff, 6);
}

static int l2_src(unsigned kind)
{
	return kind & 0x80 ? HOST_THIRD : HOST_CLIENT;
}

static void op_ip(struct world *w, const uint8_t *data, size_t len, unsigned kind)
{
	static uint8_t f[SCRATCH];
	uint8_t mac[6];
	memcpy(f, data, len);
	fixup(w, f, len, kind);
	ip_l2_dst(w, f, len, kind, mac);
	send_l3(w, f, len, ip_ethertype(w), mac, l2_src(kind));
}

/* ---- OP_FRAG ---- */

struct frag_plan {
	size_t chunk; /* bytes per fragment, a multiple of 8 */
	unsigned pieces;
	bool reverse, dup_first, drop_last;
};

static void plan(struct frag_plan *p, size_t payload, unsigned kind)
{
	p->pieces = 1 + (kind >> 3 & 3);
	p->chunk = (payload + p->pieces - 1) / p->pieces;
	p->chunk = (p->chunk + 7) & ~(size_t)7;
	if (p->chunk == 0)
		p->chunk = 8;
	p->pieces = (unsigned)((payload + p->chunk - 1) / p->chunk);
	if (p->pieces == 0)
		p->pieces = 1;
	p->reverse = kind & 0x20;
	p->dup_first = kind & 0x40;
	p->drop_last = kind & 0x80;
}

/* One IPv4 fragment of packet f (header hl bytes, payload pl bytes). */
static void frag4_one(struct world *w, const uint8_t *f, size_t hl, size_t pl, size_t off, size_t chunk)
{
	static uint8_t out[SCRATCH];
	size_t n = MIN(chunk, pl - off);
	bool more = off + n < pl || (rd16(f + 6) & WIRE_IPV4_MF);
	memcpy(out, f, hl);
	memcpy(out + hl, f + hl + off, n);
	wr16(out + 2, (uint16_t)(hl + n));
	uint16_t frag = (uint16_t)((rd16(f + 6) & WIRE_IPV4_DF) | (more ? WIRE_IPV4_MF : 0) |
				   ((rd16(f + 6) & WIRE_IPV4_OFFMASK) + off / 8));
	wr16(out + 6, frag);
	wr16(out + 10, 0);
	wr16(out + 10, wire_csum_finish(wire_csum_add(0, out, hl)));
	send_l3(w, out, hl + n, WIRE_ETH_IPV4, NULL, HOST_CLIENT);
}

/* One IPv6 fragment: the fixed header, a Fragment header, the piece. */
static void frag6_one(struct world *w, const uint8_t *f, size_t pl, size_t off, size_t chunk)
{
	static uint8_t out[SCRATCH];
	size_t n = MIN(chunk, pl - off);
	uint32_t id = rd32(f) & 0xfffff; /* the flow label: the fuzzer chooses */
	struct bbuf b = bbuf_make(out, sizeof out);
	bbuf_put(&b, f, WIRE_IPV6_HDR);
	wire_ipv6_frag_emit(&b, f[6], (uint16_t)(off / 8), off + n < pl, id);
	bbuf_put(&b, f + WIRE_IPV6_HDR + off, n);
	REQUIRE(bbuf_ok(&b));
	out[6] = WIRE_PROTO_FRAGMENT;
	wr16(out + 4, (uint16_t)(8 + n));
	uint8_t mac[6];
	ip_l2_dst(w, out, WIRE_IPV6_HDR, 0, mac);
	send_l3(w, out, WIRE_IPV6_HDR + 8 + n, WIRE_ETH_IPV6, mac, HOST_CLIENT);
}

/* The IP header length and payload length of a fixed packet, or false
 * when it cannot be cut (then it is sent whole). */
static bool frag_bounds(const struct world *w, const uint8_t *f, size_t len, size_t *hl, size_t *pl)
{
	if (w->fam == SYNACK_AF_INET) {
		*hl = len >= WIRE_IPV4_HDR ? (size_t)(f[0] & 15) * 4 : 0;
		size_t total = len >= WIRE_IPV4_HDR ? MIN((size_t)rd16(f + 2), len) : 0;
		if (*hl < WIRE_IPV4_HDR || *hl > total)
			return false;
		*pl = total - *hl;
		return true;
	}
	*hl = WIRE_IPV6_HDR;
	if (len < WIRE_IPV6_HDR)
		return false;
	*pl = MIN((size_t)rd16(f + 4), len - WIRE_IPV6_HDR);
	return true;
}

static void send_frag(struct world *w, const uint8_t *f, size_t hl, size_t pl, size_t off, size_t chunk)
{
	if (w->fam == SYNACK_AF_INET)
		frag4_one(w, f, hl, pl, off, chunk);
	else
		frag6_one(w, f, pl, off, chunk);
}

/* The first fragment of f under another id: IPv4 Identification or the
 * IPv6 flow label (which frag6_one uses as the id). */
static void bump_id(const struct world *w, uint8_t *f)
{
	if (w->fam == SYNACK_AF_INET)
		wr16(f + 4, (uint16_t)(rd16(f + 4) + 1));
	else
		wr32(f, (rd32(f) & 0xfff00000) | ((rd32(f) + 1) & 0xfffff));
}

static void op_spray(struct world *w, const uint8_t *data, size_t len, unsigned kind)
{
	static uint8_t f[SCRATCH];
	size_t hl, pl;
	memcpy(f, data, len);
	fixup(w, f, len, 0);
	if (!frag_bounds(w, f, len, &hl, &pl))
		return;
	struct frag_plan p;
	plan(&p, pl, 1 << 3);
	for (unsigned i = 0; i < 8 * (1 + (kind >> 3)); i++) {
		send_frag(w, f, hl, pl, 0, p.chunk);
		bump_id(w, f);
	}
}

static void op_frag(struct world *w, const uint8_t *data, size_t len, unsigned kind)
{
	static uint8_t f[SCRATCH];
	size_t hl, pl;
	memcpy(f, data, len);
	fixup(w, f, len, 0);
	if (!frag_bounds(w, f, len, &hl, &pl)) {
		send_l3(w, f, len, ip_ethertype(w), NULL, HOST_CLIENT);
		return;
	}
	struct frag_plan p;
	plan(&p, pl, kind);
	unsigned sent = p.drop_last && p.pieces > 1 ? p.pieces - 1 : p.pieces;
	for (unsigned i = 0; i < sent; i++) {
		unsigned k = p.reverse ? sent - 1 - i : i;
		send_frag(w, f, hl, pl, k * p.chunk, p.chunk);
		if (i == 0 && p.dup_first)
			send_frag(w, f, hl, pl, k * p.chunk, p.chunk);
	}
}

/* ---- OP_ICMP_ERR ---- */

/* Parameter bytes p[0..PARAMS) (the frame, zero-padded):
 *   p[0]   low 3 bits: type (table below; 6 and 7: p[1] is the type, code 0)
 *   p[1]   code (for the table's entries that take one)
 *   p[2-5] the "rest" word (MTU for too-big / frag-needed, pointer)
 *   p[6]   (int8) offset added to the quoted seq (SND.UNA)
 *   p[7]   bits 0-3 bytes cut from the end of the quote; bit 4 quote the
 *          connection of the last SYN-ACK; bit 5 the error comes from the
 *          client rather than a router (.254 / ::fe); bit 6 xor p[9] into
 *          quote byte p[8]
 *   p[10..] appended to the quoted TCP header (more of the packet). */
struct quote_conn {
	synack_endpoint local, remote;
	uint32_t seq, ack;
};

static void quoted_conn(struct world *w, bool synack, struct quote_conn *q)
{
	synack_tcp_info info;
	synack_tcp_get_info(w->server, &info);
	synack_tcp_endpoints(w->server, &q->local, &q->remote);
	q->seq = info.snd_una;
	q->ack = info.rcv_nxt;
	if (synack && w->have_synack) {
		q->remote = w->synack_to;
		q->seq = w->synack.seq;
		q->ack = w->synack.ack;
	}
}

/* The segment the server sent, as the error quotes it: IP header, TCP
 * header, extra bytes, in q[0..cap). Returns its length. */
static size_t build_quote(struct world *w, const uint8_t *p, const uint8_t *extra, size_t nextra, uint8_t *q,
			  size_t cap)
{
	struct quote_conn c;
	quoted_conn(w, p[7] & 0x10, &c);
	struct wire_tcp t = {.sport = c.local.port,
			     .dport = c.remote.port,
			     .flags = SYNACK_TCP_ACK,
			     .wnd = 1000,
			     .opt = {.wscale = -1}};
	t.seq = c.seq + (uint32_t)(int32_t)(int8_t)p[6];
	t.ack = c.ack;
	size_t ih = w->fam == SYNACK_AF_INET ? WIRE_IPV4_HDR : WIRE_IPV6_HDR;
	struct bbuf b = bbuf_make(q + ih, cap - ih), ip = bbuf_make(q, cap);
	size_t th = wire_tcp_emit(&b, &t, nextra);
	bbuf_put(&b, extra, nextra);
	REQUIRE(bbuf_ok(&b));
	wire_tcp_set_csum(q + ih, th + nextra, &c.local.addr, &c.remote.addr);
	if (w->fam == SYNACK_AF_INET)
		wire_ipv4_emit(&ip, &c.local.addr, &c.remote.addr, WIRE_PROTO_TCP, 64, 7, WIRE_IPV4_DF,
			       th + nextra);
	else
		wire_ipv6_emit(&ip, &c.local.addr, &c.remote.addr, WIRE_PROTO_TCP, 64, th + nextra);
	REQUIRE(bbuf_ok(&ip));
	size_t n = ih + th + nextra;
	if (p[7] & 0x40)
		q[p[8] % n] ^= p[9];
	size_t cut = p[7] & 15;
	return n > cut ? n - cut : 0;
}

static const uint8_t types4[6] = {WIRE_ICMP_DEST_UNREACH,  WIRE_ICMP_DEST_UNREACH, WIRE_ICMP_TIME_EXCEEDED,
				  WIRE_ICMP_PARAM_PROBLEM, 4 /* source quench */,  5 /* redirect */};
static const uint8_t types6[6] = {WIRE_ICMP6_DEST_UNREACH,  WIRE_ICMP6_PACKET_TOO_BIG,
				  WIRE_ICMP6_TIME_EXCEEDED, WIRE_ICMP6_PARAM_PROBLEM,
				  WIRE_ICMP6_DEST_UNREACH,  WIRE_ICMP6_PACKET_TOO_BIG};

static void icmp_type_code(const struct world *w, const uint8_t *p, uint8_t *type, uint8_t *code)
{
	unsigned sel = p[0] & 7;
	if (sel >= 6) {
		*type = p[1];
		*code = 0;
		return;
	}
	*type = w->fam == SYNACK_AF_INET ? types4[sel] : types6[sel];
	*code = p[1];
	if (w->fam == SYNACK_AF_INET && sel == 1)
		*code = WIRE_ICMP_FRAG_NEEDED;
	else if (*type == WIRE_ICMP_DEST_UNREACH || *type == WIRE_ICMP6_DEST_UNREACH)
		*code = p[1] & 15;
}

static void op_icmp_err(struct world *w, const uint8_t *data, size_t len)
{
	uint8_t p[PARAMS] = {0};
	static uint8_t pkt[SCRATCH], quote[SCRATCH];
	memcpy(p, data, MIN(len, sizeof p));
	size_t nextra = len > 10 ? MIN(len - 10, (size_t)1200) : 0;
	size_t qn = build_quote(w, p, nextra ? data + 10 : data, nextra, quote, sizeof quote);
	uint8_t type, code;
	icmp_type_code(w, p, &type, &code);
	synack_addr d = host_addr(w->fam, HOST_SERVER), s = host_addr(w->fam, HOST_CLIENT);
	if (!(p[7] & 0x20))
		s.bytes[w->fam == SYNACK_AF_INET ? 3 : 15] = 0xfe;
	size_t ih = w->fam == SYNACK_AF_INET ? WIRE_IPV4_HDR : WIRE_IPV6_HDR, n;
	struct bbuf b = bbuf_make(pkt + ih, sizeof pkt - ih), ip = bbuf_make(pkt, sizeof pkt);
	if (w->fam == SYNACK_AF_INET) {
		n = wire_icmp_emit(&b, type, code, p + 2, quote, qn);
		wire_ipv4_emit(&ip, &s, &d, WIRE_PROTO_ICMP, 64, 9, 0, n);
	} else {
		n = wire_icmp6_emit(&b, &s, &d, type, code, p + 2, quote, qn);
		wire_ipv6_emit(&ip, &s, &d, WIRE_PROTO_ICMPV6, 64, n);
	}
	REQUIRE(bbuf_ok(&b) && bbuf_ok(&ip));
	send_l3(w, pkt, ih + n, ip_ethertype(w), NULL, HOST_CLIENT);
}

/* ---- OP_NEIGH: ARP ---- */

/* p[0]: bit 0 reply (else request), bit 1 opcode p[1] instead, bit 2
 * sender MAC p[2..7] (else the sender host's), bits 3-4 sender IP (client,
 * third host, 0.0.0.0, p[8..11]), bits 5-6 target IP (server, client,
 * third host, p[12..15]), bit 7 unicast to the server's MAC (else
 * broadcast); p[16..] trailing bytes (Ethernet padding). */
static synack_addr arp_ip(unsigned sel, const uint8_t *raw)
{
	static const int hosts[3] = {HOST_CLIENT, HOST_THIRD, -1};
	if (sel == 3)
		return addr_at(SYNACK_AF_INET, raw);
	if (hosts[sel] < 0)
		return synack_addr_ipv4(0, 0, 0, 0);
	return host_addr(SYNACK_AF_INET, hosts[sel]);
}

static void op_arp(struct world *w, const uint8_t *data, size_t len)
{
	uint8_t p[PARAMS] = {0};
	static uint8_t pkt[SCRATCH];
	memcpy(p, data, MIN(len, sizeof p));
	struct wire_arp a = {.op = p[0] & 1 ? WIRE_ARP_REPLY : WIRE_ARP_REQUEST};
	int host = (p[0] >> 3 & 3) == 1 ? HOST_THIRD : HOST_CLIENT;
	if (p[0] & 2)
		a.op = p[1];
	host_mac(a.sha, host);
	if (p[0] & 4)
		memcpy(a.sha, p + 2, 6);
	a.spa = arp_ip(p[0] >> 3 & 3, p + 8);
	static const int tsel[3] = {HOST_SERVER, HOST_CLIENT, HOST_THIRD};
	unsigned t = p[0] >> 5 & 3;
	a.tpa = t == 3 ? addr_at(SYNACK_AF_INET, p + 12) : host_addr(SYNACK_AF_INET, tsel[t]);
	struct bbuf b = bbuf_make(pkt, sizeof pkt);
	size_t n = wire_arp_emit(&b, &a);
	size_t pad = len > 16 ? MIN(len - 16, (size_t)64) : 0;
	if (pad)
		bbuf_put(&b, data + 16, pad);
	REQUIRE(bbuf_ok(&b));
	uint8_t dst[6];
	memset(dst, 0xff, 6);
	if (p[0] & 0x80)
		host_mac(dst, HOST_SERVER);
	send_l3(w, pkt, n + pad, WIRE_ETH_ARP, dst, host);
}

/* ---- OP_NEIGH: Neighbor Discovery ---- */

/* p[0]: bit 0 advertisement (else solicitation); bits 1-2 target (server,
 * server link-local, client, p[4..19]); bits 3-4 source (client,
 * client link-local, ::, third host); bits 5-6 destination (server,
 * solicited-node group of the target, all-nodes, server link-local);
 * bit 7 hop limit p[2] (else 255). p[1]: NA flags. p[3]: bit 0 the
 * link-layer option (the source host's MAC), bit 1 code p[20] (else 0).
 * p[24..] further options. */
static synack_addr nd_target(const uint8_t *p)
{
	unsigned sel = p[0] >> 1 & 3;
	if (sel == 0)
		return host_addr(SYNACK_AF_INET6, HOST_SERVER);
	if (sel == 1)
		return host_ll(HOST_SERVER);
	if (sel == 2)
		return host_addr(SYNACK_AF_INET6, HOST_CLIENT);
	return addr_at(SYNACK_AF_INET6, p + 4);
}

static synack_addr nd_source(const uint8_t *p, int *host)
{
	unsigned sel = p[0] >> 3 & 3;
	*host = sel == 3 ? HOST_THIRD : HOST_CLIENT;
	if (sel == 1)
		return host_ll(HOST_CLIENT);
	if (sel == 2)
		return (synack_addr){.family = SYNACK_AF_INET6};
	return host_addr(SYNACK_AF_INET6, *host);
}

static synack_addr nd_dest(const uint8_t *p, const synack_addr *target)
{
	unsigned sel = p[0] >> 5 & 3;
	synack_addr a = host_addr(SYNACK_AF_INET6, HOST_SERVER);
	if (sel == 1)
		wire_ip6_solicited_node(&a, target);
	else if (sel == 2)
		wire_ip6_all_nodes(&a);
	else if (sel == 3)
		a = host_ll(HOST_SERVER);
	return a;
}

/* The ND body: target, optional link-layer option, extra options. */
static size_t nd_body(const uint8_t *p, const synack_addr *target, int host, bool adv, const uint8_t *extra,
		      size_t nextra, uint8_t *b)
{
	size_t n = 16;
	memcpy(b, target->bytes, 16);
	if (p[3] & 1) {
		b[n] = adv ? WIRE_ND_OPT_TLLA : WIRE_ND_OPT_SLLA;
		b[n + 1] = 1;
		host_mac(b + n + 2, host);
		n += 8;
	}
	memcpy(b + n, extra, nextra);
	return n + nextra;
}

static void op_nd(struct world *w, const uint8_t *data, size_t len)
{
	uint8_t p[PARAMS] = {0};
	static uint8_t pkt[SCRATCH], body[SCRATCH];
	memcpy(p, data, MIN(len, sizeof p));
	bool adv = p[0] & 1;
	int host;
	synack_addr target = nd_target(p), s = nd_source(p, &host), d = nd_dest(p, &target);
	size_t nextra = len > 24 ? MIN(len - 24, (size_t)1200) : 0;
	size_t bn = nd_body(p, &target, host, adv, nextra ? data + 24 : data, nextra, body);
	uint8_t rest[4] = {adv ? p[1] : 0, 0, 0, 0};
	uint8_t code = p[3] & 2 ? p[20] : 0;
	struct bbuf b = bbuf_make(pkt + WIRE_IPV6_HDR, sizeof pkt - WIRE_IPV6_HDR),
		    ip = bbuf_make(pkt, sizeof pkt);
	size_t n = wire_icmp6_emit(&b, &s, &d, adv ? WIRE_ND_NA : WIRE_ND_NS, code, rest, body, bn);
	wire_ipv6_emit(&ip, &s, &d, WIRE_PROTO_ICMPV6, p[0] & 0x80 ? p[2] : 255, n);
	REQUIRE(bbuf_ok(&b) && bbuf_ok(&ip));
	uint8_t mac[6];
	l2_dst_for(&d, mac);
	send_l3(w, pkt, WIRE_IPV6_HDR + n, WIRE_ETH_IPV6, mac, host);
}

/* ---- the run ---- */

static void op_verbatim(struct world *w, const uint8_t *data, size_t len)
{
	inject(w, data, len);
}

static void op_wrap(struct world *w, const uint8_t *data, size_t len)
{
	send_l3(w, data, len, ip_ethertype(w), NULL, HOST_CLIENT);
}

static void frame(struct world *w, unsigned kind, const uint8_t *data, size_t len)
{
	switch (kind & 7) {
	case OP_VERBATIM:
		op_verbatim(w, data, len);
		break;
	case OP_WRAP:
		op_wrap(w, data, len);
		break;
	case OP_FRAG:
		op_frag(w, data, len, kind);
		break;
	case OP_ICMP_ERR:
		op_icmp_err(w, data, len);
		break;
	case OP_SPRAY:
		op_spray(w, data, len, kind);
		break;
	case OP_NEIGH:
		if (w->mode == MODE_ETH4)
			op_arp(w, data, len);
		else if (w->fam == SYNACK_AF_INET6)
			op_nd(w, data, len);
		else
			op_ip(w, data, len, kind);
		break;
	default:
		op_ip(w, data, len, kind);
		break;
	}
}

/* SYNACK_FUZZ_VERBOSE: the server's counters that moved since setup. */
static void print_counters(const struct world *w, const uint64_t *before)
{
	for (int i = 0; i < SYNACK_COUNTER_COUNT; i++) {
		uint64_t v = synack_stack_counter(w->sim.stack[1], (enum synack_counter)i);
		if (v != before[i])
			fprintf(stderr, "  %s +%llu\n", synack_counter_name((enum synack_counter)i),
				(unsigned long long)(v - before[i]));
	}
}

static void feed_frame(struct world *w, const uint8_t *rec, const uint8_t *data, size_t len)
{
	frame(w, rec[2], data, len);
}

/* fuzz_finish(), and every other timer (reassembly, neighbour cache) must
 * have run out. */
static void finish(struct world *w)
{
	fuzz_finish(w);
	REQUIRE(synack_sim_next(&w->sim) == SYNACK_TIME_NEVER || w->stormed);
}

static void measure_idle(int mode)
{
	static struct world w;
	memset(&w, 0, sizeof w);
	set_mode(&w, mode);
	setup(&w);
	fuzz_measure_idle(&w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct world w;
	fuzz_world_start(&w);
	set_mode(&w, size ? data[0] & 3 : 0);
	setup(&w);
	w.flags = size > 1 ? data[1] : 0; /* after setup: it must not depend on them */
	static uint64_t before[SYNACK_COUNTER_COUNT];
	for (int i = 0; i < SYNACK_COUNTER_COUNT; i++)
		before[i] = synack_stack_counter(w.sim.stack[1], (enum synack_counter)i);
	fuzz_feed(&w, data, size, 2, 3, feed_frame);
	if (w.verbose) {
		fprintf(stderr, "mode %d, %zu bytes: %zu TCBs, %zu extra handles; server counters:\n", w.mode,
			size, fuzz_tcbs(&w), w.nextra);
		print_counters(&w, before);
	}
	finish(&w);
	fuzz_check_memory(&w);
	return 0;
}

/* ---- seeds ---- */

struct seed {
	uint8_t b[8192];
	size_t n;
};

static void seed_start(struct seed *s, int mode, unsigned flags)
{
	s->b[0] = (uint8_t)mode;
	s->b[1] = (uint8_t)flags;
	s->n = 2;
}

static void seed_frame(struct seed *s, unsigned delay, unsigned kind, const uint8_t *f, size_t len)
{
	wr16(s->b + s->n, (uint16_t)(delay << 11 | len));
	s->b[s->n + 2] = (uint8_t)kind;
	memcpy(s->b + s->n + 3, f, len);
	s->n += 3 + len;
}

static void write_seed(const char *dir, const char *name, int mode, const struct seed *s)
{
	static const char *const modes[MODE_COUNT] = {"raw4", "raw6", "eth4", "eth6"};
	char file[256];
	snprintf(file, sizeof file, "%s-%s", modes[mode], name);
	fuzz_write_seed(dir, file, s->b, s->n);
}

/* An IP packet of family fam from host to the server (fuzz_tcp_pkt()),
 * in f[0..cap). */
static size_t tcp_pkt(uint8_t *f, size_t cap, int fam, int host, uint16_t sport, uint8_t flags,
		      const struct wire_tcp_opts *o, const char *payload)
{
	synack_addr s = host_addr(fam, host), d = host_addr(fam, HOST_SERVER);
	return fuzz_tcp_pkt(f, cap, &s, &d, sport, flags, o, payload);
}

/* An echo request with n payload bytes (may need fragments), in f[0..cap). */
static size_t echo_pkt(uint8_t *f, size_t cap, int fam, size_t n)
{
	static uint8_t body[2048];
	static const uint8_t rest[4] = {0x12, 0x34, 0, 1};
	synack_addr s = host_addr(fam, HOST_CLIENT), d = host_addr(fam, HOST_SERVER);
	for (size_t i = 0; i < n; i++)
		body[i] = (uint8_t)i;
	size_t ih = fam == SYNACK_AF_INET ? WIRE_IPV4_HDR : WIRE_IPV6_HDR, m;
	struct bbuf b = bbuf_make(f + ih, cap - ih), ip = bbuf_make(f, cap);
	if (fam == SYNACK_AF_INET) {
		m = wire_icmp_emit(&b, WIRE_ICMP_ECHO_REQUEST, 0, rest, body, n);
		wire_ipv4_emit(&ip, &s, &d, WIRE_PROTO_ICMP, 64, 9, 0, m);
	} else {
		m = wire_icmp6_emit(&b, &s, &d, WIRE_ICMP6_ECHO_REQUEST, 0, rest, body, n);
		wire_ipv6_emit(&ip, &s, &d, WIRE_PROTO_ICMPV6, 64, m);
	}
	REQUIRE(bbuf_ok(&b) && bbuf_ok(&ip));
	return ih + m;
}

static const unsigned live = FL_TUPLE | FL_SEQ | FL_ACK | FL_READ;
static const struct wire_tcp_opts syn_opts = {
    .has_mss = 1, .mss = 1460, .sack_ok = 1, .has_ts = 1, .ts_val = 1, .wscale = 7};
static const struct wire_tcp_opts no_opts = {.wscale = -1};

static void seeds_tcp(const char *dir, int mode, int fam)
{
	struct seed s;
	uint8_t f[2048];
	seed_start(&s, mode, live);
	seed_frame(&s, 1, OP_IP, f,
		   tcp_pkt(f, sizeof f, fam, 0, 1, SYNACK_TCP_ACK | SYNACK_TCP_PSH, &no_opts, "abc"));
	seed_frame(&s, 2, OP_IP, f,
		   tcp_pkt(f, sizeof f, fam, 0, 1, SYNACK_TCP_ACK | SYNACK_TCP_FIN, &no_opts, ""));
	write_seed(dir, "live-data-fin", mode, &s);

	seed_start(&s, mode, FL_SEQ | FL_ACK | FL_READ);
	seed_frame(&s, 0, OP_IP | 0x80, f,
		   tcp_pkt(f, sizeof f, fam, HOST_THIRD, 50000, SYNACK_TCP_SYN, &syn_opts, ""));
	seed_frame(&s, 1, OP_IP | 0x80, f,
		   tcp_pkt(f, sizeof f, fam, HOST_THIRD, 50000, SYNACK_TCP_ACK, &no_opts, ""));
	seed_frame(
	    &s, 1, OP_IP | 0x80, f,
	    tcp_pkt(f, sizeof f, fam, HOST_THIRD, 50000, SYNACK_TCP_ACK | SYNACK_TCP_FIN, &no_opts, "hi"));
	write_seed(dir, "new-syn", mode, &s);

	static const char big[] = "fragmented data fragmented data fragmented data fragmented data "
				  "fragmented data fragmented data!";
	seed_start(&s, mode, live | FL_TRAFFIC);
	seed_frame(&s, 1, OP_FRAG | 2 << 3 | 0x20, f,
		   tcp_pkt(f, sizeof f, fam, 0, 1, SYNACK_TCP_ACK, &no_opts, big));
	seed_frame(&s, 1, OP_FRAG | 1 << 3 | 0x40, f,
		   tcp_pkt(f, sizeof f, fam, 0, 1, SYNACK_TCP_ACK, &no_opts, big));
	write_seed(dir, "frag-data", mode, &s);

	/* the server sending bulk data (FL_TRAFFIC) while it holds data out of
	 * order, 120 bytes past RCV.NXT: full-sized segments with SACK blocks
	 * (see fuzz_stack); then an ACK with a SACK block */
	static const struct wire_tcp_opts sack = {.wscale = -1, .nsack = 1, .sack = {{5000, 6000}}};
	seed_start(&s, mode, live | FL_TRAFFIC);
	size_t seq_low = s.n + 3 + (fam == SYNACK_AF_INET ? WIRE_IPV4_HDR : WIRE_IPV6_HDR) + 7;
	seed_frame(&s, 1, OP_IP, f,
		   tcp_pkt(f, sizeof f, fam, 0, 1, SYNACK_TCP_ACK, &no_opts, "out of order"));
	s.b[seq_low] = 120;
	seed_frame(&s, 2, OP_IP, f, tcp_pkt(f, sizeof f, fam, 0, 1, SYNACK_TCP_ACK, &sack, ""));
	write_seed(dir, "bulk-ooo-sack", mode, &s);

	seed_start(&s, mode, live);
	seed_frame(&s, 1, OP_FRAG | 3 << 3 | 0x80, f,
		   tcp_pkt(f, sizeof f, fam, 0, 1, SYNACK_TCP_ACK, &no_opts, big));
	seed_frame(&s, 1, OP_SPRAY | 9 << 3, f,
		   tcp_pkt(f, sizeof f, fam, 0, 1, SYNACK_TCP_ACK, &no_opts, big));
	write_seed(dir, "frag-timeout", mode, &s);
}

static void seeds_icmp(const char *dir, int mode, int fam)
{
	struct seed s;
	uint8_t f[2048];
	seed_start(&s, mode, 0);
	seed_frame(&s, 0, OP_FRAG | 1 << 3, f, echo_pkt(f, sizeof f, fam, 1800));
	seed_frame(&s, 1, OP_IP, f, echo_pkt(f, sizeof f, fam, 16));
	write_seed(dir, "echo", mode, &s);

	/* too big / frag needed (MTU 1280 or 576 in the rest word), with data
	 * in flight; then port unreachable */
	uint8_t p[12] = {1, 0, 0, 0, 0x05, 0x00, 0, 0, 0, 0, 0xde, 0xad};
	if (fam == SYNACK_AF_INET)
		p[4] = 0x02, p[5] = 0x40;
	seed_start(&s, mode, FL_TRAFFIC | FL_READ);
	seed_frame(&s, 1, OP_ICMP_ERR, p, sizeof p);
	p[0] = 0;
	p[1] = fam == SYNACK_AF_INET ? WIRE_ICMP_PORT_UNREACH : WIRE_ICMP6_PORT_UNREACH;
	seed_frame(&s, 1, OP_ICMP_ERR, p, 10);
	write_seed(dir, "icmp-err", mode, &s);

	/* an error quoting the SYN-ACK of a connection the fuzzer opened */
	seed_start(&s, mode, FL_SEQ | FL_ACK);
	seed_frame(&s, 0, OP_IP | 0x80, f,
		   tcp_pkt(f, sizeof f, fam, HOST_THIRD, 50000, SYNACK_TCP_SYN, &syn_opts, ""));
	uint8_t q[10] = {0, 1, 0, 0, 0, 0, 0, 0x10, 0, 0};
	seed_frame(&s, 1, OP_ICMP_ERR, q, sizeof q);
	write_seed(dir, "icmp-synrecv", mode, &s);
}

static void seeds_arp(const char *dir)
{
	struct seed s;
	/* a request from the third host, its reply to the server's request,
	 * a probe from 0.0.0.0, a gratuitous ARP from the client */
	uint8_t p[16] = {1 << 3 | 4, 0, 0x02, 0, 0, 0, 0, 0x03};
	seed_start(&s, MODE_ETH4, 0);
	seed_frame(&s, 0, OP_NEIGH, p, sizeof p);
	p[0] = 1 | 1 << 3 | 4 | 0x80;
	seed_frame(&s, 1, OP_NEIGH, p, sizeof p);
	p[0] = 2 << 3;
	seed_frame(&s, 1, OP_NEIGH, p, sizeof p);
	p[0] = 1 << 5;
	seed_frame(&s, 1, OP_NEIGH, p, sizeof p);
	write_seed(dir, "arp", MODE_ETH4, &s);
}

static void seeds_nd(const char *dir, int mode)
{
	struct seed s;
	uint8_t p[24] = {0};
	seed_start(&s, mode, 0);
	p[0] = 3 << 3 | 1 << 5; /* NS from the third host to the solicited-node group */
	p[3] = 1;
	seed_frame(&s, 0, OP_NEIGH, p, sizeof p);
	p[0] = 2 << 3 | 1 << 5; /* DAD probe */
	p[3] = 0;
	seed_frame(&s, 1, OP_NEIGH, p, sizeof p);
	p[0] = 1 | 2 << 1; /* NA for the client, solicited, override, to the server */
	p[1] = WIRE_NA_SOLICITED | WIRE_NA_OVERRIDE;
	p[3] = 1;
	seed_frame(&s, 1, OP_NEIGH, p, sizeof p);
	p[0] = 1 << 1 | 1 << 3 | 3 << 5; /* link-local NS */
	seed_frame(&s, 1, OP_NEIGH, p, sizeof p);
	write_seed(dir, "nd", mode, &s);
}

static void write_seeds(const char *dir)
{
	for (int mode = 0; mode < MODE_COUNT; mode++) {
		int fam = mode == MODE_RAW6 || mode == MODE_ETH6 ? SYNACK_AF_INET6 : SYNACK_AF_INET;
		seeds_tcp(dir, mode, fam);
		seeds_icmp(dir, mode, fam);
		if (fam == SYNACK_AF_INET6)
			seeds_nd(dir, mode);
	}
	seeds_arp(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init(write_seeds);
	for (int mode = 0; mode < MODE_COUNT; mode++)
		measure_idle(mode);
	return 0;
}
