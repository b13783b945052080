/* src/tcp as the layers around it see it: what the composition root
 * (src/stack) calls to create, run and wire TCP. The protocol's own
 * internals are in tcp_internal.h. */
#ifndef SYNACK_SRC_TCP_TCP_H
#define SYNACK_SRC_TCP_TCP_H

#include "base/stack_ctx.h"
#include "net/net.h"
#include "synack/tcp.h"

/* TCP's entry points for the network layer: IP protocol 6. */
extern const struct net_proto tcp_net_proto;

/* synack's TCP defaults (tcp_config.c) and their validation: 0 or -EINVAL. */
void synack_tcp_config_defaults(synack_tcp_config *c);
int tcp_config_check(const synack_tcp_config *c);
/* Create st->tcp (draws the ISN/hash key and the first ephemeral port from
 * the stack's random source) and free it with every TCB. */
int tcp_stack_init(synack_stack *st);
void tcp_stack_fini(synack_stack *st);
/* Give back what the stack keeps for reuse (freed TCB extensions). */
void tcp_stack_trim(synack_stack *st);
/* Run the timers that are due and what they make possible. */
void tcp_poll(synack_stack *st);
synack_time_t tcp_next_deadline(const synack_stack *st);

#endif
