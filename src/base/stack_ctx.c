/* Counting and tracing for every layer (stack_ctx.h). The trace is a
 * bounded ring: when it is full the oldest record goes (counted as
 * trace_lost), so a stack that nobody drains never grows. */
#include <string.h>

#include "base/stack_ctx.h"

void stack_drop(synack_stack *st, enum synack_counter id)
{
	st->counters[id]++;
	synack_trace_rec *r = stack_trace(st, SYNACK_TRACE_DROP);
	if (r)
		r->note = (uint16_t)id;
}

synack_trace_rec *stack_trace(synack_stack *st, enum synack_trace_kind kind)
{
	uint32_t cap = st->cfg.trace_capacity;
	if (!cap)
		return NULL;
	if (st->trace_len == cap) {
		st->trace_head = (st->trace_head + 1) % cap;
		st->trace_len--;
		st->counters[SYNACK_CNT_TRACE_LOST]++;
	}
	synack_trace_rec *r = &st->trace[(st->trace_head + st->trace_len++) % cap];
	memset(r, 0, sizeof *r);
	r->time = st->now;
	r->kind = (uint16_t)kind;
	return r;
}
