/* ICMP echo for the application: requests out (RFC 792, RFC 4443 §4.1)
 * and replies recorded in the caller-owned log (RFC 792, RFC 4443 §4.2).
 * Sans-I/O: the request leaves through net_send(), the reply arrives from
 * ICMP input; the caller reads it back with synack_stack_ping_reply().
 * Requests larger than the link MTU leave as fragments. */
#include <errno.h>
#include <string.h>

#include "net/ping.h"
#include "wire/wire.h"

/* The largest echo payload: an IPv4 datagram of 65535 bytes. */
enum { ICMP_HDR = 8, PROTO_ICMPV6 = 58, ICMPV6_ECHO_REQUEST = 128, MAX_PAYLOAD = 65535 - 20 - ICMP_HDR };

static void fill_payload(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)i;
}

/* A request too big for one packet: header and body apart, sent as
 * fragments (RFC 791 §3.2, RFC 8200 §4.5). The body is borrowed from the
 * stack's allocator for the duration of the call. */
static int ping_fragmented(synack_stack *st, const synack_addr *src, const synack_addr *dst, bool v6,
			   const uint8_t rest[4], size_t payload)
{
	uint8_t hdr[ICMP_HDR] = {v6 ? ICMPV6_ECHO_REQUEST : WIRE_ICMP_ECHO_REQUEST, 0, 0, 0};
	uint8_t *body = mem_alloc(&st->mem, payload);
	if (!body)
		return -ENOMEM;
	memcpy(hdr + 4, rest, 4);
	fill_payload(body, payload);
	uint32_t sum = v6 ? wire_pseudo_sum(src, dst, PROTO_ICMPV6, (uint32_t)(ICMP_HDR + payload)) : 0;
	sum = wire_csum_add(wire_csum_add(sum, hdr, ICMP_HDR), body, payload);
	wr16(hdr + 2, wire_csum_finish(sum));
	int err = net_send_fragmented(st, src, dst, v6 ? PROTO_ICMPV6 : WIRE_PROTO_ICMP, hdr, ICMP_HDR, body,
				      payload);
	mem_free(&st->mem, body, payload);
	return err;
}

int synack_stack_ping(synack_stack *st, const synack_addr *dst, uint16_t id, uint16_t seq, size_t payload)
{
	synack_addr src;
	if (!net_source_for(st, dst, &src))
		return -EADDRNOTAVAIL;
	if (payload > MAX_PAYLOAD)
		return -EMSGSIZE;
	bool v6 = dst->family == SYNACK_AF_INET6;
	uint8_t rest[4];
	wr16(rest, id);
	wr16(rest + 2, seq);
	if (ICMP_HDR + payload > net_l4_mtu(st, dst))
		return ping_fragmented(st, &src, dst, v6, rest, payload);
	/* the payload is written in place, then the header in front of it */
	struct bbuf out = net_l4_buffer(st, dst);
	struct bbuf body = bbuf_make(out.p + ICMP_HDR, out.cap - ICMP_HDR);
	uint8_t *p = bbuf_reserve(&body, payload);
	if (!p)
		return net_tx_overflow(st);
	fill_payload(p, payload);
	if (v6) /* RFC 4443 §2.3: the checksum covers the pseudo-header too */
		wire_icmp6_emit(&out, &src, dst, ICMPV6_ECHO_REQUEST, 0, rest, p, payload);
	else
		wire_icmp_emit(&out, WIRE_ICMP_ECHO_REQUEST, 0, rest, p, payload);
	return net_send(st, &src, dst, v6 ? PROTO_ICMPV6 : WIRE_PROTO_ICMP, &out);
}

void ping_reply_input(synack_stack *st, const synack_addr *src, uint8_t ttl, const uint8_t *icmp, size_t len)
{
	synack_ping_log *log = st->cfg.ping_log;
	if (!log || len < ICMP_HDR)
		return;
	if (log->len == SYNACK_PING_LOG_SIZE) {
		log->head = (log->head + 1) % SYNACK_PING_LOG_SIZE;
		log->len--;
		log->overwritten++;
	}
	synack_ping_reply *r = &log->r[(log->head + log->len++) % SYNACK_PING_LOG_SIZE];
	r->from = *src;
	r->id = rd16(icmp + 4);
	r->seq = rd16(icmp + 6);
	r->len = (uint32_t)(len - ICMP_HDR);
	r->ttl = ttl;
	r->time = st->now;
}

int synack_stack_ping_reply(synack_stack *st, synack_ping_reply *out)
{
	synack_ping_log *log = st->cfg.ping_log;
	if (!log)
		return -ENOENT;
	if (!log->len)
		return -EAGAIN;
	*out = log->r[log->head];
	log->head = (log->head + 1) % SYNACK_PING_LOG_SIZE;
	log->len--;
	return 0;
}
