/* The context every layer of one stack shares: its allocator, its
 * configuration, the clock value, the random source (in cfg), the counters
 * and the trace log, and a pointer to each layer's own state.
 *
 * The composition root (src/stack) creates it, advances the clock, wires
 * the layers to each other and frees it; the layers below it read the
 * clock, count and trace through it, and reach their own state through
 * their pointer. It lives in base because every layer needs it and none
 * may include anything above itself: it names the layers' state types
 * without knowing them (DESIGN.md, "A layout that shows the architecture"). */
#ifndef SYNACK_BASE_STACK_CTX_H
#define SYNACK_BASE_STACK_CTX_H

#include "base/base.h"
#include "synack/stack.h"

struct net;
struct tcp_stack;

struct synack_stack {
	struct mem mem;
	synack_stack_config cfg;
	synack_time_t now;
	uint64_t counters[SYNACK_COUNTER_COUNT];
	synack_trace_rec *trace;
	uint32_t trace_head, trace_len;
	struct net *net;       /* src/net: links, IP, ICMP, ND/ARP, fragments */
	struct tcp_stack *tcp; /* src/tcp */
};

static inline void stack_count(synack_stack *st, enum synack_counter id)
{
	st->counters[id]++;
}
/* Count a dropped frame and trace it. */
void stack_drop(synack_stack *st, enum synack_counter id);
/* Append a trace record (time filled in); NULL when tracing is off. */
synack_trace_rec *stack_trace(synack_stack *st, enum synack_trace_kind kind);

#endif
