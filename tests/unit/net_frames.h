/* Helpers for network-layer tests: a tx function that records frames, and
 * builders for Ethernet, ARP, IPv4, IPv6, ICMPv6 and TCP frames. */
#ifndef SYNACK_TEST_NET_FRAMES_H
#define SYNACK_TEST_NET_FRAMES_H

#include <string.h>

#include "net/net.h"
#include "synack/synack.h"
#include "unit.h"
#include "wire/wire.h"

enum { NF_MAX = 64, NF_LEN = 2048 };
struct nf_cap {
	uint8_t f[NF_MAX][NF_LEN];
	size_t len[NF_MAX];
	int n; /* frames recorded (at most NF_MAX kept) */
};

static inline int nf_tx(void *ctx, const uint8_t *frame, size_t len)
{
	struct nf_cap *c = ctx;
	if (c->n < NF_MAX) {
		c->len[c->n] = len < NF_LEN ? len : NF_LEN;
		memcpy(c->f[c->n], frame, c->len[c->n]);
	}
	c->n++;
	return 0;
}

static const uint8_t NF_MAC_US[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
static const uint8_t NF_MAC_PEER[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
static const uint8_t NF_BCAST[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static inline synack_addr nf_ip6(const char *s)
{
	synack_addr a;
	synack_addr_parse(s, &a);
	return a;
}

/* A stack config with tx into c: Ethernet with our MAC when eth. */
static inline void nf_config(synack_stack_config *cfg, struct nf_cap *c, synack_prng *rng, bool eth)
{
	synack_stack_config_init(cfg);
	cfg->addr = synack_addr_ipv4(10, 0, 0, 2);
	synack_prng_seed(rng, 7);
	cfg->rng = (synack_rng){synack_prng_fill, rng};
	cfg->tx = nf_tx;
	cfg->tx_ctx = c;
	if (eth) {
		cfg->link = SYNACK_LINK_ETHERNET;
		memcpy(cfg->mac, NF_MAC_US, 6);
	}
	memset(c, 0, sizeof *c);
}

/* A frame built by a helper below did not fit its buffer: a test bug. */
static inline size_t nf_fits(const struct bbuf *b)
{
	if (!bbuf_ok(b))
		unit_fail(__FILE__, __LINE__, "test frame does not fit its %zu-byte buffer", b->cap);
	return bbuf_ok(b) ? b->len : 0;
}

/* One fragment of msg, bytes [off, off + len), from s to d: an IPv4 packet
 * with the offset in its header (RFC 791 §3.2) or an IPv6 packet with a
 * Fragment header (RFC 8200 §4.5), built in buf[0..cap). proto is the
 * upper protocol (ICMP or ICMPv6 ...). Returns the packet's length. */
static inline size_t nf_fragment(uint8_t *buf, size_t cap, const synack_addr *s, const synack_addr *d,
				 uint8_t proto, const uint8_t *msg, size_t off, size_t len, bool more,
				 uint32_t id)
{
	struct bbuf b = bbuf_make(buf, cap);
	if (s->family == SYNACK_AF_INET6) {
		wire_ipv6_emit(&b, s, d, WIRE_PROTO_FRAGMENT, 64, 8 + len);
		wire_ipv6_frag_emit(&b, proto, (uint16_t)(off / 8), more, id);
	} else {
		uint16_t frag = (uint16_t)((more ? WIRE_IPV4_MF : 0) | off / 8);
		wire_ipv4_emit(&b, s, d, proto, 64, (uint16_t)id, frag, len);
	}
	bbuf_put(&b, msg + off, len);
	return nf_fits(&b);
}

/* Ethernet header in front of payload[0..n) (built in buf[0..cap);
 * payload may point into buf). */
static inline size_t nf_eth(uint8_t *buf, size_t cap, const uint8_t *dst, const uint8_t *src, uint16_t type,
			    const uint8_t *payload, size_t n)
{
	struct bbuf b = bbuf_make(buf, cap);
	uint8_t *h = bbuf_reserve(&b, WIRE_ETH_HDR);
	bbuf_put(&b, payload, n); /* before the header: payload may alias it */
	struct bbuf hb = bbuf_make(h, h ? WIRE_ETH_HDR : 0);
	wire_eth_emit(&hb, dst, src, type);
	return nf_fits(&b);
}

static inline size_t nf_arp(uint8_t *buf, size_t cap, uint16_t op, const uint8_t *sha, synack_addr spa,
			    const uint8_t *tha, synack_addr tpa, const uint8_t *eth_dst)
{
	struct wire_arp a = {.op = op, .spa = spa, .tpa = tpa};
	memcpy(a.sha, sha, 6);
	memcpy(a.tha, tha, 6);
	uint8_t p[WIRE_ARP_LEN];
	struct bbuf b = bbuf_make(p, sizeof p);
	wire_arp_emit(&b, &a);
	return nf_eth(buf, cap, eth_dst, sha, WIRE_ETH_ARP, p, nf_fits(&b));
}

/* An IPv6 packet carrying an ICMPv6 message (checksummed), in buf[0..cap). */
static inline size_t nf_icmp6(uint8_t *buf, size_t cap, const synack_addr *src, const synack_addr *dst,
			      uint8_t hop, uint8_t type, uint8_t code, const uint8_t rest[4],
			      const uint8_t *body, size_t blen)
{
	struct bbuf b = bbuf_make(buf, cap);
	uint8_t *ip = bbuf_reserve(&b, WIRE_IPV6_HDR);
	size_t n = wire_icmp6_emit(&b, src, dst, type, code, rest, body, blen);
	struct bbuf hb = bbuf_make(ip, ip ? WIRE_IPV6_HDR : 0);
	wire_ipv6_emit(&hb, src, dst, WIRE_PROTO_ICMPV6, hop, n);
	return nf_fits(&b);
}

/* The IP packet inside frame i (Ethernet stripped when eth). */
static inline const uint8_t *nf_ip(const struct nf_cap *c, int i, bool eth, size_t *len)
{
	*len = c->len[i] - (eth ? 14 : 0);
	return c->f[i] + (eth ? 14 : 0);
}

static inline synack_addr nf_ip6_global(void)
{
	return nf_ip6("2001:db8::2");
}

/* Four valid frames to mutate, for a stack configured by nf_config
 * (Ethernet) with addr6 = nf_ip6_global(): an ARP request, an IPv4 echo
 * request, an IPv6 NS (to the solicited-node group), and a first IPv6
 * fragment behind a Destination Options header. */
static inline void nf_seed_frames(uint8_t seeds[4][256], size_t len[4], const synack_stack_config *cfg)
{
	synack_addr p4 = synack_addr_ipv4(10, 0, 0, 1), p6 = nf_ip6("2001:db8::1"), sn;
	uint8_t ip[240] = {0};
	const uint8_t rest[4] = {0, 1, 0, 1};
	len[0] = nf_arp(seeds[0], sizeof seeds[0], WIRE_ARP_REQUEST, NF_MAC_PEER, p4, NF_BCAST, cfg->addr,
			NF_BCAST);
	struct bbuf b = bbuf_make(ip, sizeof ip);
	uint8_t *h = bbuf_reserve(&b, WIRE_IPV4_HDR);
	size_t n = wire_icmp_emit(&b, WIRE_ICMP_ECHO_REQUEST, 0, rest, (const uint8_t *)"0123456789", 10);
	struct bbuf hb = bbuf_make(h, WIRE_IPV4_HDR);
	wire_ipv4_emit(&hb, &p4, &cfg->addr, WIRE_PROTO_ICMP, 64, 1, 0, n);
	len[1] = nf_eth(seeds[1], sizeof seeds[1], NF_MAC_US, NF_MAC_PEER, WIRE_ETH_IPV4, ip, nf_fits(&b));
	wire_ip6_solicited_node(&sn, &cfg->addr6);
	b = bbuf_make(ip, sizeof ip);
	h = bbuf_reserve(&b, WIRE_IPV6_HDR);
	n = wire_nd_emit(&b, &p6, &sn, WIRE_ND_NS, 0, &cfg->addr6, NF_MAC_PEER);
	hb = bbuf_make(h, WIRE_IPV6_HDR);
	wire_ipv6_emit(&hb, &p6, &sn, WIRE_PROTO_ICMPV6, 255, n);
	uint8_t smac[6];
	wire_eth_ipv6_mcast(smac, &sn);
	len[2] = nf_eth(seeds[2], sizeof seeds[2], smac, NF_MAC_PEER, WIRE_ETH_IPV6, ip, nf_fits(&b));
	const uint8_t dst[8] = {WIRE_PROTO_FRAGMENT, 0, 1, 4, 0, 0, 0, 0};
	const uint8_t fh[8] = {WIRE_PROTO_ICMPV6, 0, 0, 1, 0, 0, 0, 5};
	b = bbuf_make(ip, sizeof ip);
	h = bbuf_reserve(&b, WIRE_IPV6_HDR);
	bbuf_put(&b, dst, 8);
	bbuf_put(&b, fh, 8);
	/* the echo body: 64 bytes of whatever the buffer holds further on */
	n = wire_icmp6_emit(&b, &p6, &cfg->addr6, WIRE_ICMP6_ECHO_REQUEST, 0, rest, ip + 100, 64);
	hb = bbuf_make(h, WIRE_IPV6_HDR);
	wire_ipv6_emit(&hb, &p6, &cfg->addr6, WIRE_PROTO_DSTOPTS, 64, 16 + n);
	len[3] = nf_eth(seeds[3], sizeof seeds[3], NF_MAC_US, NF_MAC_PEER, WIRE_ETH_IPV6, ip, nf_fits(&b));
}

#endif
