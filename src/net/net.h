/* src/net: the link layer (Ethernet, ARP, the neighbour cache), IPv4 and
 * IPv6 input/output, ICMP, ICMPv6 and Neighbor Discovery. The network layer
 * parses each frame once and hands the upper protocol a validated view
 * (struct net_rx). Upper protocols are reached only through the table of
 * entry points they registered (struct net_proto, the BSD protosw idea),
 * never by name: net knows no TCP symbol, and TLS or any other protocol
 * plugs in the same way. The stack object itself (the shared context) is
 * base/stack_ctx.h; the root that builds it is src/stack. */
#ifndef SYNACK_NET_H
#define SYNACK_NET_H

#include "base/base.h"
#include "base/stack_ctx.h"
#include "synack/stack.h"

struct neigh;
struct frag_table;
struct net_icmp_err;

/* Bytes kept free before every IP packet built in txbuf (and in packets
 * queued for address resolution) so the Ethernet header is prepended
 * without a copy. Raw IP links leave them unused. */
enum { NET_HEADROOM = 14 };

/* Packets waiting for address resolution (neigh.c, RFC 4861 §7.2.2),
 * bounded like Linux's unres_qlen_bytes: each costs its IP bytes plus
 * NEIGH_QUEUE_PKT_COST (headroom and bookkeeping). One neighbour holds up
 * to NEIGH_QUEUE_PKTS packets and NEIGH_QUEUE_BYTES, room for a whole
 * 65,535-byte datagram in fragments (headers included) down to 576-byte
 * packets (119 fragments); the table holds NEIGH_QUEUE_BYTES_ALL. */
enum {
	NEIGH_QUEUE_PKTS = 128,
	NEIGH_QUEUE_PKT_COST = 32,
	NEIGH_QUEUE_BYTES = 65535 + NEIGH_QUEUE_PKTS * (NEIGH_QUEUE_PKT_COST + 48 /* IPv6 + Fragment */),
	NEIGH_QUEUE_BYTES_ALL = 4 * NEIGH_QUEUE_BYTES,
};

/* The neighbour cache shared by ARP and ND (neigh.c). */
struct neigh_table {
	struct neigh *v; /* NEIGH_MAX entries, the first `count` in use */
	uint32_t count;
	uint32_t queued;	  /* bytes (as NEIGH_QUEUE_BYTES counts them) waiting in all entries */
	synack_time_t next;	  /* no entry's timer is earlier (NEVER on raw IP links) */
	synack_time_t reachable6; /* RFC 4861 §6.3.2 ReachableTime, drawn at creation */
};

/* A validated inbound packet as the network layer hands it up. */
struct net_rx {
	synack_addr src, dst;
	uint8_t ttl;
	uint8_t ecn; /* RFC 3168 §5: the ECN field (WIRE_ECN_*) of the packet, of the last
		      * fragment for a reassembled IPv4 datagram */
	const uint8_t *l4;
	size_t l4_len;
	bool csum_ok; /* SYNACK_RX_CSUM_OK: the link vouches for the transport checksum */
};

/* An upper protocol's entry points (the BSD protosw): what arrives for IP
 * protocol `proto`, and ICMP errors (or a failed neighbour resolution)
 * about packets it sent. Registered by the composition root; the table is
 * borrowed for the stack's life. */
struct net_proto {
	uint8_t proto; /* IP protocol number (WIRE_PROTO_TCP ...) */
	void (*input)(synack_stack *st, const struct net_rx *rx);
	void (*error)(synack_stack *st, const struct net_icmp_err *e);
};
enum { NET_PROTO_MAX = 4 };

/* The network layer's state (st->net). */
struct net {
	uint8_t *txbuf;	 /* one outgoing frame: net_txbuf_size() bytes */
	bool rx_csum_ok; /* the frame being input has SYNACK_RX_CSUM_OK */
	uint16_t ip_id;
	uint32_t ip6_id; /* Identification of the last IPv6 fragmented packet sent */
	synack_addr ll6; /* IPv6 link-local address; family NONE when IPv6 is off */
	struct neigh_table neigh;
	struct frag_table *frag;
	uint32_t icmp_tokens; /* ICMP error token bucket (RFC 4443 §2.4 f) */
	synack_time_t icmp_refill;
	const struct net_proto *proto[NET_PROTO_MAX];
	uint32_t nproto;
};

/* ---- the layer's life, for the composition root (net.c) ---- */
/* The network half of a configuration: addresses, prefixes, gateways,
 * MTU, link kind and MAC. 0 or -EINVAL / -EAFNOSUPPORT. */
int net_config_check(const synack_stack_config *cfg);
/* Create st->net (after the layers whose random draws come first).
 * Returns 0 or -ENOMEM. net_fini frees it (NULL-safe). */
int net_init(synack_stack *st);
void net_fini(synack_stack *st);
/* Register an upper protocol. Returns 0, -EEXIST or -ENOSPC. */
int net_proto_add(synack_stack *st, const struct net_proto *p);
/* The entry points for IP protocol proto, or NULL. */
const struct net_proto *net_proto_find(const synack_stack *st, uint8_t proto);
/* Announce ourselves on the link once created (RFC 5227 §3 on Ethernet). */
void net_start(synack_stack *st);
/* One frame from the link (Ethernet or raw IP, as configured), with what
 * the link did for it (enum synack_rx_flags). */
void net_input(synack_stack *st, const uint8_t *frame, size_t len, uint32_t flags);
/* Network timers (neighbour cache, reassembly) and their next deadline. */
void net_poll(synack_stack *st);
synack_time_t net_next_deadline(const synack_stack *st);

bool net_is_local(const synack_stack *st, const synack_addr *a);
static inline bool net_is_ethernet(const synack_stack *st)
{
	return st->cfg.link == SYNACK_LINK_ETHERNET;
}
/* The IP header this stack writes in front of a message to dst (no
 * options, no extension headers). */
static inline size_t net_ip_hdr(const synack_addr *dst)
{
	return dst->family == SYNACK_AF_INET6 ? 40 : 20;
}
/* Largest L4 payload (TCP header included) one frame to dst can carry. */
static inline size_t net_l4_mtu(const synack_stack *st, const synack_addr *dst)
{
	return st->cfg.mtu - net_ip_hdr(dst);
}
/* TSO (SYNACK_OFFLOAD_TSO): the largest IP packet tx_meta takes. */
static inline size_t net_gso_max(const synack_stack *st)
{
	if (!(st->cfg.offload & SYNACK_OFFLOAD_TSO))
		return st->cfg.mtu;
	return st->cfg.gso_max ? st->cfg.gso_max : 65535;
}
/* The frame buffer: headroom and the largest packet built in it (the
 * configuration check keeps gso_max at or above the MTU). */
static inline size_t net_txbuf_size(const synack_stack *st)
{
	return NET_HEADROOM + net_gso_max(st);
}
/* The largest L4 message (TCP header included) to dst the link cuts
 * into MTU-sized packets itself (TSO); net_l4_mtu without it. */
static inline size_t net_l4_gso_max(const synack_stack *st, const synack_addr *dst)
{
	return net_gso_max(st) - net_ip_hdr(dst);
}
/* A builder for an outgoing L4 message to dst: the frame buffer after the
 * IP header, its capacity what one frame to dst carries
 * (net_l4_mtu). Valid until net_send(). */
static inline struct bbuf net_l4_buffer(synack_stack *st, const synack_addr *dst)
{
	return bbuf_make(st->net->txbuf + NET_HEADROOM + net_ip_hdr(dst), net_l4_mtu(st, dst));
}
/* net_l4_buffer for a message of up to net_l4_gso_max bytes (TSO). */
static inline struct bbuf net_l4_gso_buffer(synack_stack *st, const synack_addr *dst)
{
	return bbuf_make(st->net->txbuf + NET_HEADROOM + net_ip_hdr(dst), net_l4_gso_max(st, dst));
}
/* Prepend the IP header to the message built in l4 (from net_l4_buffer)
 * and send the frame. Returns 0, the link's negative errno (counted), or
 * -EMSGSIZE when l4 overflowed (net_tx_overflow). */
int net_send(synack_stack *st, const synack_addr *src, const synack_addr *dst, uint8_t proto,
	     const struct bbuf *l4);
/* IP header fields a connection may choose (IP_TTL, IP_TOS and their
 * IPv6 twins): ttl 0 means the stack's default; tos is the IPv4 TOS octet
 * or the IPv6 Traffic Class (RFC 2474, RFC 3168). */
struct net_ip_opts {
	uint8_t ttl, tos;
	uint8_t ecn; /* the ECN field (WIRE_ECN_*, RFC 3168 §5): the transport
		      * chooses it per packet (§6.1.2); tos's low bits are not used */
	/* Offloaded work (SYNACK_OFFLOAD_*): the link completes the TCP
	 * checksum (the field holds the pseudo-header sum), and cuts the
	 * payload into gso_size pieces (0: one packet; the message may then be
	 * up to net_l4_gso_max, built in net_l4_gso_buffer). */
	bool csum_partial;
	uint16_t gso_size;
	/* Data after the message in l4, in pieces where it lies (only with
	 * csum_partial and cfg.tx_iov): the packet is l4 then these. */
	const synack_iov *data;
	uint8_t ndata;
	uint32_t data_len;
};
/* net_send with those fields; o may be NULL (the defaults). */
int net_send_opts(synack_stack *st, const synack_addr *src, const synack_addr *dst, uint8_t proto,
		  const struct net_ip_opts *o, const struct bbuf *l4);
/* An outgoing message did not fit its buffer: count the drop
 * (SYNACK_DROP_TX_OVERFLOW), abort in debug builds. Returns -EMSGSIZE. */
int net_tx_overflow(synack_stack *st);

/* ---- internal: input (l2_group: the frame was link-layer multicast or
 * broadcast, so no ICMP error may answer it, RFC 4443 §2.4 (e.4)) ---- */
void ipv4_input(synack_stack *st, const uint8_t *frame, size_t len, bool l2_group);
void ipv6_input(synack_stack *st, const uint8_t *frame, size_t len, bool l2_group);
void eth_input(synack_stack *st, const uint8_t *frame, size_t len);
void arp_input(synack_stack *st, const uint8_t *pkt, size_t len);
struct wire_ipv6;
struct wire_icmp;
void nd_input(synack_stack *st, const struct wire_ipv6 *ip, const struct wire_icmp *ic);
/* Our IPv6 multicast groups: all-nodes and the solicited-node groups of
 * our addresses (RFC 4291 §2.8). */
bool net_ip6_joined(const synack_stack *st, const synack_addr *group);

/* ---- internal: output (output.c) ---- */
/* Like net_send with an explicit TTL / hop limit (ND needs 255). */
int net_send_ttl(synack_stack *st, const synack_addr *src, const synack_addr *dst, uint8_t proto, uint8_t ttl,
		 const struct bbuf *l4);
/* Send an L4 message too big for one packet, made of hdr[0..hlen) and
 * body[0..blen) (its checksum already set), as fragments (RFC 791 §3.2,
 * RFC 8200 §4.5). Used for ICMP echo replies to large (reassembled)
 * requests; TCP never needs it. Returns 0 or a negative errno. */
int net_send_fragmented(synack_stack *st, const synack_addr *src, const synack_addr *dst, uint8_t proto,
			const uint8_t *hdr, size_t hlen, const uint8_t *body, size_t blen);
/* Send the Ethernet frame at frame[0..len) after writing its header
 * (frame has NET_HEADROOM bytes before the payload at frame + 14). */
int net_eth_tx(synack_stack *st, uint8_t *frame, const uint8_t *dst_mac, uint16_t type, size_t payload_len);
/* Hand a frame to the link (counted on failure). */
int net_link_tx(synack_stack *st, const uint8_t *frame, size_t len);
/* ICMP error token bucket: true if one more error may be sent now. */
bool net_icmp_rate_ok(synack_stack *st);

/* ---- internal: the neighbour cache (neigh.c) ---- */
enum neigh_state { NEIGH_INCOMPLETE = 1, NEIGH_REACHABLE, NEIGH_STALE, NEIGH_DELAY, NEIGH_PROBE };
int neigh_init(synack_stack *st);
void neigh_fini(synack_stack *st);
/* Send the IP packet at pkt + NET_HEADROOM (ip_len bytes) to the next hop
 * nh, resolving it first if needed (the packet is then copied). */
int neigh_output(synack_stack *st, const synack_addr *nh, uint8_t *pkt, size_t ip_len);
/* RFC 4861 §7.2.3 / RFC 826: a neighbour told us its address unasked
 * (solicitation, ARP request). create: make an entry if none. Returns
 * true if an entry exists afterwards. */
bool neigh_learn(synack_stack *st, const synack_addr *ip, const uint8_t *mac, bool create);
/* RFC 4861 §7.2.5: an advertisement (mac NULL: no target link-layer
 * option). false if there is no entry for ip (the caller drops it). */
bool neigh_advert(synack_stack *st, const synack_addr *ip, const uint8_t *mac, bool solicited, bool override);
void neigh_poll(synack_stack *st);
synack_time_t neigh_next_deadline(const synack_stack *st);
/* Introspection for tests: state (enum neigh_state) or -1 if absent. */
int neigh_state_of(const synack_stack *st, const synack_addr *ip, uint8_t mac[6]);

/* ---- internal: solicitations (arp.c, nd.c); mac NULL = broadcast /
 * solicited-node multicast, else unicast (a NUD probe) ---- */
void arp_solicit(synack_stack *st, const synack_addr *target, const uint8_t *mac);
void arp_announce(synack_stack *st);
void nd_solicit(synack_stack *st, const synack_addr *target, const uint8_t *mac);

/* ---- internal: ICMP errors about our packets (icmp_err.c) ---- */
/* quote: the packet quoted by an ICMP (family 4) or ICMPv6 (6) error. */
void net_icmp_to_upper(synack_stack *st, struct net_icmp_err *e, int family, const uint8_t *quote,
		       size_t len);
/* Send an ICMPv6 error about the packet pkt[0..len) (its IPv6 header at
 * pkt), rate-limited and never about an ICMPv6 error or Redirect, a
 * multicast packet or frame (RFC 4443 §2.4 (e), (f)). */
void icmp6_send_error(synack_stack *st, const uint8_t *pkt, size_t len, uint8_t type, uint8_t code,
		      uint32_t param, bool l2_group);
/* RFC 8200 §4.5: Time Exceeded (code 1) about a datagram whose reassembly
 * timed out after its first fragment arrived (from frag_expire). */
struct frag_done;
void icmp6_reassembly_timeout(synack_stack *st, const struct frag_done *d);

/* The source address to use towards dst (RFC 6724 in its simplest form:
 * the configured address of dst's family, link-local for a link-local
 * destination). false if the stack has none. */
bool net_source_for(const synack_stack *st, const synack_addr *dst, synack_addr *src);

/* An ICMP or ICMPv6 error about a packet this stack sent, handed to the
 * protocol that sent it. The net layer has validated the ICMP message;
 * the upper layer validates `l4` against its own state (RFC 5927). */
enum net_icmp_kind {
	NET_ICMP_UNREACH,	/* destination unreachable (net, host, port, prohibited ...) */
	NET_ICMP_PROTO_UNREACH, /* protocol or port unreachable: hard for TCP in SYN-SENT */
	NET_ICMP_FRAG_NEEDED,	/* IPv4 "fragmentation needed" / IPv6 "packet too big": mtu set */
	NET_ICMP_TIME_EXCEEDED,
	NET_ICMP_PARAM_PROBLEM,
	NET_ICMP_NEIGH_FAILED, /* not ICMP: our own ARP/ND resolution of the next hop failed */
};
struct net_icmp_err {
	enum net_icmp_kind kind;
	uint8_t type, code;   /* as on the wire, for counters and traces */
	uint32_t mtu;	      /* NET_ICMP_FRAG_NEEDED: next-hop MTU (0 if the router gave none) */
	uint8_t proto;	      /* the original packet's upper protocol (IP protocol number) */
	synack_addr src, dst; /* of the original packet: src is ours */
	const uint8_t *l4;    /* the original packet's transport header (at least 8 bytes) */
	size_t l4_len;
};

#endif
