/* src/net: the stack object, IPv4 input/output and ICMP. The network layer
 * parses each frame once and hands TCP a validated view (struct net_rx).
 * Upper protocols are reached through the entry points declared at the end
 * (implemented in src/tcp), so net never includes tcp headers. */
#ifndef SYNACK_NET_H
#define SYNACK_NET_H

#include "base/base.h"
#include "synack/stack.h"
#include "synack/tcp.h"

struct tcp_stack;
struct tcb;

struct synack_stack {
	struct mem mem;
	synack_stack_config cfg;
	synack_time_t now;
	uint64_t counters[SYNACK_COUNTER_COUNT];
	uint8_t *txbuf;         /* one outgoing frame, MTU bytes */
	uint16_t ip_id;
	synack_trace_rec *trace;
	uint32_t trace_head, trace_len;
	struct tcp_stack *tcp;
	struct tcb *ev_head, *ev_tail; /* sockets with pending events */
};

/* A validated inbound packet as the network layer hands it up. */
struct net_rx {
	synack_addr src, dst;
	uint8_t ttl;
	const uint8_t *l4;
	size_t l4_len;
};

static inline void net_count(synack_stack *st, enum synack_counter id) { st->counters[id]++; }
/* Count a dropped frame and trace it. */
void net_drop(synack_stack *st, enum synack_counter id);
/* Append a trace record (time filled in); returns NULL when tracing is off. */
synack_trace_rec *net_trace(synack_stack *st, enum synack_trace_kind kind);

bool net_is_local(const synack_stack *st, const synack_addr *a);
/* Largest L4 payload (TCP header included) one frame to dst can carry. */
size_t net_l4_mtu(const synack_stack *st, const synack_addr *dst);
/* Where to write an outgoing L4 message: the frame buffer after the IP
 * header. Valid until net_send(). */
uint8_t *net_l4_buffer(synack_stack *st, const synack_addr *dst);
/* Prepend the IP header to the l4_len bytes written at net_l4_buffer() and
 * send the frame. Returns 0 or the link's negative errno (counted). */
int net_send(synack_stack *st, const synack_addr *src, const synack_addr *dst, uint8_t proto, size_t l4_len);

void ipv4_input(synack_stack *st, const uint8_t *frame, size_t len);

/* The source address to use towards dst (RFC 6724 in its simplest form:
 * the configured address of dst's family, link-local for a link-local
 * destination). false if the stack has none. */
bool net_source_for(const synack_stack *st, const synack_addr *dst, synack_addr *src);

/* An ICMP or ICMPv6 error about a packet this stack sent, handed to the
 * protocol that sent it. The net layer has validated the ICMP message;
 * the upper layer validates `l4` against its own state (RFC 5927). */
enum net_icmp_kind {
	NET_ICMP_UNREACH,        /* destination unreachable (net, host, port, prohibited ...) */
	NET_ICMP_PROTO_UNREACH,  /* protocol or port unreachable: hard for TCP in SYN-SENT */
	NET_ICMP_FRAG_NEEDED,    /* IPv4 "fragmentation needed" / IPv6 "packet too big": mtu set */
	NET_ICMP_TIME_EXCEEDED,
	NET_ICMP_PARAM_PROBLEM,
};
struct net_icmp_err {
	enum net_icmp_kind kind;
	uint8_t type, code;      /* as on the wire, for counters and traces */
	uint32_t mtu;            /* NET_ICMP_FRAG_NEEDED: next-hop MTU (0 if the router gave none) */
	synack_addr src, dst;    /* of the original packet: src is ours */
	const uint8_t *l4;       /* the original packet's transport header (at least 8 bytes) */
	size_t l4_len;
};

/* ---- upper protocol entry points (src/tcp) ---- */
int tcp_stack_init(synack_stack *st);
void tcp_stack_fini(synack_stack *st);
void tcp_input(synack_stack *st, const struct net_rx *rx);
void tcp_icmp_error(synack_stack *st, const struct net_icmp_err *e);
void tcp_poll(synack_stack *st);
synack_time_t tcp_next_deadline(const synack_stack *st);

#endif
