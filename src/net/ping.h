/* src/net/ping.c: ICMP echo requests sent by the application and the
 * replies recorded for it (synack_stack_ping, synack_stack_ping_reply). */
#ifndef SYNACK_NET_PING_H
#define SYNACK_NET_PING_H

#include "net/net.h"

/* A validated ICMP echo reply (ICMPv4 type 0 or ICMPv6 type 129: checksum,
 * length >= 8 and destination already checked by the caller) addressed to
 * this stack. `icmp` is the whole ICMP message; ttl the IP TTL or hop
 * limit. Records it in cfg.ping_log when there is one. To be called from
 * the ICMP and ICMPv6 input paths for echo replies. */
void ping_reply_input(synack_stack *st, const synack_addr *src, uint8_t ttl, const uint8_t *icmp, size_t len);

#endif
