/* The stack object: creation, the input/poll entry points, counters and the
 * trace log. Sans-I/O: time only arrives as arguments (DESIGN.md §1). */
#include <errno.h>
#include <string.h>

#include "net/frag.h"
#include "net/net.h"
#include "wire/wire.h"

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

static bool mac_ok(const uint8_t *m)
{
	static const uint8_t zero[6];
	return !wire_mac_is_group(m) && memcmp(m, zero, 6) != 0;
}

/* The IPv4 half: no address at all, or a unicast address with its prefix
 * and an optional on-link gateway (RFC 1122 §3.3.1.1). */
static int v4_check(const synack_stack_config *cfg)
{
	if (cfg->addr.family == SYNACK_AF_NONE)
		return cfg->gateway.family == SYNACK_AF_NONE ? 0 : -EINVAL; /* a gateway without an address */
	uint32_t a = rd32(cfg->addr.bytes);
	if (cfg->addr.family != SYNACK_AF_INET || cfg->prefix_len > 32 || a == 0 || (a >> 28) == 0xe ||
	    a == 0xffffffffu)
		return -EINVAL; /* not a unicast IPv4 address */
	if (cfg->gateway.family == SYNACK_AF_NONE)
		return 0;
	if (cfg->gateway.family != SYNACK_AF_INET || !wire_addr_prefix_match(&cfg->gateway, &cfg->addr, cfg->prefix_len))
		return -EINVAL; /* RFC 1122 §3.3.1.1: the gateway must be on-link */
	return 0;
}

/* The IPv6 half: an optional global address with its prefix (RFC 4291
 * unicast, RFC 8200 §5 MTU of at least 1280) and gateway (link-local, as
 * routers advertise themselves, or inside our prefix). */
static int v6_check(const synack_stack_config *cfg)
{
	const synack_addr *a = &cfg->addr6, *g = &cfg->gateway6;
	if (a->family != SYNACK_AF_NONE &&
	    (a->family != SYNACK_AF_INET6 || cfg->prefix6_len > 128 || wire_ip6_is_multicast(a) ||
	     wire_ip6_is_unspecified(a) || wire_ip6_is_loopback(a) || cfg->mtu < WIRE_IPV6_MIN_MTU))
		return -EINVAL;
	if (g->family == SYNACK_AF_NONE)
		return 0;
	if (g->family != SYNACK_AF_INET6 || wire_ip6_is_multicast(g) || wire_ip6_is_unspecified(g))
		return -EINVAL;
	if (!wire_ip6_is_linklocal(g) &&
	    (a->family != SYNACK_AF_INET6 || !wire_addr_prefix_match(g, a, cfg->prefix6_len)))
		return -EINVAL; /* an off-link router cannot be the next hop */
	return 0;
}

static int config_check(const synack_stack_config *cfg)
{
	if (!cfg->tx || !cfg->rng.fill)
		return -EINVAL;
	if (cfg->addr.family == SYNACK_AF_NONE && cfg->addr6.family == SYNACK_AF_NONE)
		return -EAFNOSUPPORT; /* no address of any family */
	if (cfg->mtu < 68 || cfg->ttl == 0 || cfg->link > SYNACK_LINK_ETHERNET)
		return -EINVAL; /* RFC 791: every host takes 68-byte packets */
	if (cfg->link == SYNACK_LINK_ETHERNET && !mac_ok(cfg->mac))
		return -EINVAL; /* a group or all-zero MAC cannot be a station's */
	int err = v4_check(cfg);
	if (!err)
		err = v6_check(cfg);
	return err ? err : tcp_config_check(&cfg->tcp);
}

/* RFC 4291 §2.5.1, Appendix A: fe80::/64 with the modified EUI-64
 * interface identifier of the MAC on Ethernet; on a raw IP link (no MAC) a
 * random identifier (RFC 7217 spirit) from the stack's source. IPv6 is on
 * when an address is configured, and always on Ethernet links whose MTU
 * carries IPv6. */
static void link_local_init(synack_stack *st)
{
	const synack_stack_config *c = &st->cfg;
	uint8_t *b = st->ll6.bytes;
	bool eth = c->link == SYNACK_LINK_ETHERNET;
	if (!(eth && c->mtu >= WIRE_IPV6_MIN_MTU) && c->addr6.family != SYNACK_AF_INET6)
		return;
	st->ll6.family = SYNACK_AF_INET6;
	b[0] = 0xfe;
	b[1] = 0x80;
	if (eth) {
		const uint8_t *m = c->mac;
		const uint8_t iid[8] = {m[0] ^ 0x02, m[1], m[2], 0xff, 0xfe, m[3], m[4], m[5]};
		memcpy(b + 8, iid, 8);
		return;
	}
	c->rng.fill(c->rng.ctx, b + 8, 8);
	b[8] &= (uint8_t)~0x02; /* "local" scope identifier: u bit 0 */
	b[15] |= 1;             /* never all zero (the subnet-router anycast) */
}

/* The network layer's own state, after TCP's (whose random draws come
 * first, so raw IPv4 stacks see the same random stream as before). */
static int net_init(synack_stack *st)
{
	struct frag_limits lim;
	frag_limits_default(&lim);
	link_local_init(st);
	if (neigh_init(st) < 0)
		return -ENOMEM;
	return frag_table_create(&st->mem, &lim, st->counters, &st->frag);
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
	st->txbuf = mem_alloc(&st->mem, NET_HEADROOM + (size_t)cfg->mtu);
	st->icmp_tokens = 10;
	st->icmp_refill = now;
	if (cfg->trace_capacity)
		st->trace = mem_alloc(&st->mem, cfg->trace_capacity * sizeof *st->trace);
	if (!st->txbuf || (cfg->trace_capacity && !st->trace) || tcp_stack_init(st) < 0 || net_init(st) < 0) {
		synack_stack_destroy(st);
		return -ENOMEM;
	}
	*out = st;
	/* RFC 5227 §3: announce our IPv4 address (this may transmit) */
	if (net_is_ethernet(st) && cfg->addr.family == SYNACK_AF_INET)
		arp_announce(st);
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
	neigh_fini(st);
	frag_table_destroy(st->frag);
	mem_free(&st->mem, st->trace, st->cfg.trace_capacity * sizeof *st->trace);
	mem_free(&st->mem, st->txbuf, NET_HEADROOM + (size_t)st->cfg.mtu);
	struct mem m = st->mem;
	mem_free(&m, st, sizeof *st);
}

static void advance(synack_stack *st, synack_time_t now)
{
	if (now > st->now)
		st->now = now;
}

/* A raw IP link: the version nibble picks the family. */
static void ip_input(synack_stack *st, const uint8_t *frame, size_t len)
{
	net_count(st, SYNACK_CNT_IP_IN);
	if (len < 1) {
		net_drop(st, SYNACK_DROP_IP_TRUNCATED);
		return;
	}
	switch (frame[0] >> 4) {
	case 4:
		ipv4_input(st, frame, len, false);
		break;
	case 6:
		ipv6_input(st, frame, len, false);
		break;
	default:
		net_drop(st, SYNACK_DROP_IP_VERSION);
		break;
	}
}

/* Network timers: the neighbour cache, then reassembly deadlines. */
static void net_poll(synack_stack *st)
{
	struct frag_done d;
	neigh_poll(st);
	if (!st->frag)
		return;
	while (frag_expire(st->frag, st->now, &d) == 1)
		if (d.key.family == SYNACK_AF_INET6) /* (IPv4: RFC 1122 §3.3.2 leaves it optional) */
			icmp6_reassembly_timeout(st, &d);
}

void synack_stack_input(synack_stack *st, const uint8_t *frame, size_t len, synack_time_t now)
{
	advance(st, now);
	net_count(st, SYNACK_CNT_LINK_IN);
	if (net_is_ethernet(st))
		eth_input(st, frame, len);
	else
		ip_input(st, frame, len);
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
	synack_time_t t = MIN(tcp_next_deadline(st), neigh_next_deadline(st));
	return st->frag ? MIN(t, frag_next_deadline(st->frag)) : t;
}
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
