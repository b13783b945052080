/* Helpers for network-layer tests: a tx function that records frames, and
 * builders for Ethernet, ARP, IPv4, IPv6, ICMPv6 and TCP frames. */
#ifndef SYNACK_TEST_NET_FRAMES_H
#define SYNACK_TEST_NET_FRAMES_H

#include <string.h>

#include "net/net.h"
#include "synack/synack.h"
#include "wire/wire.h"

enum { NF_MAX = 64, NF_LEN = 2048 };
struct nf_cap {
	uint8_t f[NF_MAX][NF_LEN];
	size_t len[NF_MAX];
	int n;        /* frames recorded (at most NF_MAX kept) */
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

/* Ethernet header in front of payload[0..n) (built in buf). */
static inline size_t nf_eth(uint8_t *buf, const uint8_t *dst, const uint8_t *src, uint16_t type, const uint8_t *payload,
			    size_t n)
{
	memmove(buf + 14, payload, n);
	wire_eth_emit(buf, dst, src, type);
	return 14 + n;
}

static inline size_t nf_arp(uint8_t *buf, uint16_t op, const uint8_t *sha, synack_addr spa, const uint8_t *tha,
			    synack_addr tpa, const uint8_t *eth_dst)
{
	struct wire_arp a = {.op = op, .spa = spa, .tpa = tpa};
	memcpy(a.sha, sha, 6);
	memcpy(a.tha, tha, 6);
	uint8_t p[28];
	wire_arp_emit(p, &a);
	return nf_eth(buf, eth_dst, sha, WIRE_ETH_ARP, p, 28);
}

/* An IPv6 packet carrying an ICMPv6 message (checksummed). */
static inline size_t nf_icmp6(uint8_t *buf, const synack_addr *src, const synack_addr *dst, uint8_t hop, uint8_t type,
			      uint8_t code, const uint8_t rest[4], const uint8_t *body, size_t blen)
{
	size_t n = wire_icmp6_emit(buf + 40, src, dst, type, code, rest, body, blen);
	wire_ipv6_emit(buf, src, dst, WIRE_PROTO_ICMPV6, hop, n);
	return 40 + n;
}

/* The IP packet inside frame i (Ethernet stripped when eth). */
static inline const uint8_t *nf_ip(const struct nf_cap *c, int i, bool eth, size_t *len)
{
	*len = c->len[i] - (eth ? 14 : 0);
	return c->f[i] + (eth ? 14 : 0);
}

static inline synack_addr nf_ip6_global(void) { return nf_ip6("2001:db8::2"); }

/* Four valid frames to mutate, for a stack configured by nf_config
 * (Ethernet) with addr6 = nf_ip6_global(): an ARP request, an IPv4 echo
 * request, an IPv6 NS (to the solicited-node group), and a first IPv6
 * fragment behind a Destination Options header. */
static inline void nf_seed_frames(uint8_t seeds[4][256], size_t len[4], const synack_stack_config *cfg)
{
	synack_addr p4 = synack_addr_ipv4(10, 0, 0, 1), p6 = nf_ip6("2001:db8::1"), sn;
	uint8_t ip[240];
	const uint8_t rest[4] = {0, 1, 0, 1};
	len[0] = nf_arp(seeds[0], WIRE_ARP_REQUEST, NF_MAC_PEER, p4, NF_BCAST, cfg->addr, NF_BCAST);
	size_t n = wire_icmp_emit(ip + 20, WIRE_ICMP_ECHO_REQUEST, 0, rest, (const uint8_t *)"0123456789", 10);
	wire_ipv4_emit(ip, &p4, &cfg->addr, WIRE_PROTO_ICMP, 64, 1, false, n);
	len[1] = nf_eth(seeds[1], NF_MAC_US, NF_MAC_PEER, WIRE_ETH_IPV4, ip, 20 + n);
	wire_ip6_solicited_node(&sn, &cfg->addr6);
	n = wire_nd_emit(ip + 40, &p6, &sn, WIRE_ND_NS, 0, &cfg->addr6, NF_MAC_PEER);
	wire_ipv6_emit(ip, &p6, &sn, WIRE_PROTO_ICMPV6, 255, n);
	uint8_t smac[6];
	wire_eth_ipv6_mcast(smac, &sn);
	len[2] = nf_eth(seeds[2], smac, NF_MAC_PEER, WIRE_ETH_IPV6, ip, 40 + n);
	const uint8_t dst[8] = {WIRE_PROTO_FRAGMENT, 0, 1, 4, 0, 0, 0, 0};
	const uint8_t fh[8] = {WIRE_PROTO_ICMPV6, 0, 0, 1, 0, 0, 0, 5};
	memcpy(ip + 40, dst, 8);
	memcpy(ip + 48, fh, 8);
	n = wire_icmp6_emit(ip + 56, &p6, &cfg->addr6, WIRE_ICMP6_ECHO_REQUEST, 0, rest, ip + 100, 64);
	wire_ipv6_emit(ip, &p6, &cfg->addr6, WIRE_PROTO_DSTOPTS, 64, 16 + n);
	len[3] = nf_eth(seeds[3], NF_MAC_US, NF_MAC_PEER, WIRE_ETH_IPV6, ip, 56 + n);
}

#endif
