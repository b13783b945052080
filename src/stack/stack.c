/* The composition root: it checks a configuration, creates the shared
 * context (base/stack_ctx.h) and the layers on it, wires IP protocol numbers
 * to the protocols above net (net_proto, the BSD protosw idea), owns the
 * clock value (only ever advanced here, from the caller's arguments), the
 * counters and the trace log, and runs input, timers and deadlines across
 * the layers. It is the one room that knows every layer; none of them
 * knows it. Sans-I/O: time only arrives as arguments (DESIGN.md §1). */
#include <errno.h>
#include <string.h>

#include "base/stack_ctx.h"
#include "net/net.h"
#include "tcp/tcp.h"

static const struct {
	const char *name, *doc;
} counter_info[SYNACK_COUNTER_COUNT] = {
#define SYNACK_COUNTER(id, name, doc) [id] = {name, doc},
#include "synack/counters.def"
#undef SYNACK_COUNTER
};

void synack_stack_config_init(synack_stack_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->prefix_len = 24;
	cfg->mtu = 1500;
	cfg->ttl = 64;
	synack_tcp_config_defaults(&cfg->tcp);
}

static int config_check(const synack_stack_config *cfg)
{
	if (!cfg->tx || !cfg->rng.fill)
		return -EINVAL;
	int err = net_config_check(cfg);
	return err ? err : tcp_config_check(&cfg->tcp);
}

/* The layers, bottom up once their random draws are accounted for: TCP
 * draws its keys first (as it always has, so seeded runs replay), then
 * the network layer its link-local identifier. */
static int layers_init(synack_stack *st)
{
	if (tcp_stack_init(st) < 0 || net_init(st) < 0)
		return -ENOMEM;
	return net_proto_add(st, &tcp_net_proto);
}

int synack_stack_create(const synack_stack_config *cfg, synack_time_t now, synack_stack **out)
{
	struct mem m;
	int err = config_check(cfg);
	*out = NULL;
	if (err)
		return err;
	mem_init(&m, &cfg->allocator);
	synack_stack *st = mem_alloc(&m, sizeof *st);
	if (!st)
		return -ENOMEM;
	st->mem = m;
	st->cfg = *cfg;
	st->now = now;
	if (cfg->trace_capacity)
		st->trace = mem_alloc(&st->mem, cfg->trace_capacity * sizeof *st->trace);
	if ((cfg->trace_capacity && !st->trace) || layers_init(st) < 0) {
		synack_stack_destroy(st);
		return -ENOMEM;
	}
	*out = st;
	net_start(st);
	return 0;
}

int synack_stack_set_tcp_config(synack_stack *st, const synack_tcp_config *tcp)
{
	int err = tcp_config_check(tcp);
	if (!err)
		st->cfg.tcp = *tcp;
	return err;
}

const synack_tcp_config *synack_stack_tcp_config(const synack_stack *st)
{
	return &st->cfg.tcp;
}

void synack_stack_destroy(synack_stack *st)
{
	if (!st)
		return;
	tcp_stack_fini(st);
	net_fini(st);
	mem_free(&st->mem, st->trace, st->cfg.trace_capacity * sizeof *st->trace);
	mem_buf_drain(&st->mem);
	struct mem m = st->mem;
	mem_free(&m, st, sizeof *st);
}

static void advance(synack_stack *st, synack_time_t now)
{
	if (now > st->now)
		st->now = now;
}

void synack_stack_input(synack_stack *st, const uint8_t *frame, size_t len, synack_time_t now)
{
	synack_stack_input_flags(st, frame, len, 0, now);
}

void synack_stack_input_flags(synack_stack *st, const uint8_t *frame, size_t len, uint32_t flags,
			      synack_time_t now)
{
	advance(st, now);
	net_input(st, frame, len, flags);
	net_poll(st);
	tcp_poll(st); /* timers that are due, and output the input made possible */
}

void synack_stack_poll(synack_stack *st, synack_time_t now)
{
	advance(st, now);
	net_poll(st);
	tcp_poll(st);
}

synack_time_t synack_stack_next_deadline(const synack_stack *st)
{
	synack_time_t t = tcp_next_deadline(st), n = net_next_deadline(st);
	return n < t ? n : t;
}

synack_time_t synack_stack_now(const synack_stack *st)
{
	return st->now;
}

uint64_t synack_stack_counter(const synack_stack *st, enum synack_counter id)
{
	return (unsigned)id < SYNACK_COUNTER_COUNT ? st->counters[id] : 0;
}

const char *synack_counter_name(enum synack_counter id)
{
	return (unsigned)id < SYNACK_COUNTER_COUNT ? counter_info[id].name : "?";
}

const char *synack_counter_doc(enum synack_counter id)
{
	return (unsigned)id < SYNACK_COUNTER_COUNT ? counter_info[id].doc : "?";
}

uint64_t synack_stack_drops(const synack_stack *st)
{
	uint64_t sum = 0;
	for (int i = SYNACK_DROP_FIRST_ + 1; i < SYNACK_DROP_LAST_; i++)
		sum += st->counters[i];
	return sum;
}

void synack_stack_trim(synack_stack *st)
{
	mem_buf_drain(&st->mem);
	tcp_stack_trim(st);
}

void synack_stack_memory(const synack_stack *st, size_t *bytes, size_t *blocks)
{
	if (bytes)
		*bytes = st->mem.bytes;
	if (blocks)
		*blocks = st->mem.blocks;
}

size_t synack_stack_trace_drain(synack_stack *st, synack_trace_rec *out, size_t max)
{
	size_t n = 0;
	while (n < max && st->trace_len) {
		out[n++] = st->trace[st->trace_head];
		st->trace_head = (st->trace_head + 1) % st->cfg.trace_capacity;
		st->trace_len--;
	}
	return n;
}
