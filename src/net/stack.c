/* The stack object: creation, the input/poll entry points, counters and the
 * trace log. Sans-I/O: time only arrives as arguments (DESIGN.md §1). */
#include <errno.h>
#include <string.h>

#include "net/net.h"

static const struct {
	const char *name, *doc;
} counter_info[SYNACK_COUNTER_COUNT] = {
#define SYNACK_COUNTER(id, name, doc) [id] = {name, doc},
#include "synack/counters.def"
#undef SYNACK_COUNTER
};

void synack_tcp_config_defaults(synack_tcp_config *c); /* src/tcp/tcp_config.c */

void synack_stack_config_init(synack_stack_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->prefix_len = 24;
	cfg->mtu = 1500;
	cfg->ttl = 64;
	synack_tcp_config_defaults(&cfg->tcp);
}

static int tcp_config_check(const synack_tcp_config *t)
{
	if (t->sndbuf < 1 || t->rcvbuf < 1 || t->rcvbuf > (1u << 30) || t->sndbuf > (1u << 30))
		return -EINVAL;
	if (t->rto_min <= 0 || t->rto_initial <= 0 || t->rto_max < t->rto_min || t->msl < 0 || t->delack < 0)
		return -EINVAL;
	return 0;
}

static int config_check(const synack_stack_config *cfg)
{
	if (!cfg->tx || !cfg->rng.fill)
		return -EINVAL;
	if (cfg->addr.family != SYNACK_AF_INET)
		return -EAFNOSUPPORT;
	if (cfg->mtu < 68 || cfg->prefix_len > 32)
		return -EINVAL;
	return tcp_config_check(&cfg->tcp);
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
	st->txbuf = mem_alloc(&st->mem, cfg->mtu);
	if (cfg->trace_capacity)
		st->trace = mem_alloc(&st->mem, cfg->trace_capacity * sizeof *st->trace);
	if (!st->txbuf || (cfg->trace_capacity && !st->trace) || tcp_stack_init(st) < 0) {
		synack_stack_destroy(st);
		return -ENOMEM;
	}
	*out = st;
	return 0;
}

int synack_stack_set_tcp_config(synack_stack *st, const synack_tcp_config *tcp)
{
	int err = tcp_config_check(tcp);
	if (!err)
		st->cfg.tcp = *tcp;
	return err;
}

const synack_tcp_config *synack_stack_tcp_config(const synack_stack *st) { return &st->cfg.tcp; }

void synack_stack_destroy(synack_stack *st)
{
	if (!st)
		return;
	tcp_stack_fini(st);
	mem_free(&st->mem, st->trace, st->cfg.trace_capacity * sizeof *st->trace);
	mem_free(&st->mem, st->txbuf, st->cfg.mtu);
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
	advance(st, now);
	net_count(st, SYNACK_CNT_IP_IN);
	if (len < 1) {
		net_drop(st, SYNACK_DROP_IP_TRUNCATED);
		return;
	}
	switch (frame[0] >> 4) {
	case 4:
		ipv4_input(st, frame, len);
		break;
	default:
		net_drop(st, SYNACK_DROP_IP_VERSION);
		break;
	}
	tcp_poll(st); /* timers that are due, and output the input made possible */
}

void synack_stack_poll(synack_stack *st, synack_time_t now)
{
	advance(st, now);
	tcp_poll(st);
}

synack_time_t synack_stack_next_deadline(const synack_stack *st) { return tcp_next_deadline(st); }
synack_time_t synack_stack_now(const synack_stack *st) { return st->now; }

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

void synack_stack_memory(const synack_stack *st, size_t *bytes, size_t *blocks)
{
	if (bytes)
		*bytes = st->mem.bytes;
	if (blocks)
		*blocks = st->mem.blocks;
}

void net_drop(synack_stack *st, enum synack_counter id)
{
	st->counters[id]++;
	synack_trace_rec *r = net_trace(st, SYNACK_TRACE_DROP);
	if (r)
		r->note = (uint16_t)id;
}

synack_trace_rec *net_trace(synack_stack *st, enum synack_trace_kind kind)
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
