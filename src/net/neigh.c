/* The neighbour cache shared by ARP (RFC 826) and Neighbor Discovery
 * (RFC 4861 §7.3).
 *
 * Implementation notes. One state machine serves both families, the one
 * RFC 4861 §7.3.2 describes: INCOMPLETE (resolving, packets queued),
 * REACHABLE (confirmed recently), STALE (unconfirmed, still used), DELAY
 * (used while STALE: wait for an upper-layer hint before probing) and PROBE
 * (unicast solicitations). ARP gets the same machine, as Linux does: a
 * request is a solicitation, a reply to us a solicited advertisement that
 * overrides. What differs per family is only how a solicitation is sent
 * (arp_solicit, nd_solicit) and how long REACHABLE lasts (ARP 60 s; ND the
 * randomised ReachableTime of §6.3.2, drawn once at creation).
 *
 * Bounds: NEIGH_MAX entries in one array allocated at creation (the first
 * `count` in use, removal moves the last into the hole); per INCOMPLETE
 * entry NEIGH_QUEUE_PKTS packets and NEIGH_QUEUE_BYTES, enough for every
 * fragment of a whole datagram such as a large echo reply (the oldest is
 * replaced, §7.2.2), and NEIGH_QUEUE_BYTES_ALL in the whole table (net.h).
 * A full table evicts the INCOMPLETE entry touched longest ago, else the
 * STALE one, else the oldest resolved one (victim(), below). STALE entries
 * nobody uses are deleted after NEIGH_STALE_LIFETIME ("garbage collected",
 * §7.3.1), which is how an ARP entry expires. Lookups are a linear scan:
 * the table is small and the working set of a host is a handful of
 * neighbours. */
#include <errno.h>
#include <string.h>

#include "net/net.h"
#include "wire/wire.h"

enum { NEIGH_MAX = 256 };
enum { MAX_SOLICIT = 3 };		     /* RFC 4861 §10 MAX_{MULTI,UNI}CAST_SOLICIT */
#define RETRANS_TIMER	       SYNACK_SEC(1) /* RFC 4861 §10 */
#define DELAY_FIRST_PROBE_TIME SYNACK_SEC(5) /* RFC 4861 §10 */
#define ARP_REACHABLE_TIME     SYNACK_SEC(60)
#define NEIGH_STALE_LIFETIME   SYNACK_SEC(300)

struct neigh_pkt {
	struct neigh_pkt *next;
	size_t len; /* IP packet bytes, after NET_HEADROOM */
	uint8_t data[];
};
_Static_assert(sizeof(struct neigh_pkt) + NET_HEADROOM <= NEIGH_QUEUE_PKT_COST, "queue cost per packet");

struct neigh {
	synack_addr ip;
	uint8_t mac[6];
	uint8_t state, probes;
	uint16_t qlen;	       /* packets queued */
	uint32_t qbytes;       /* their cost (pkt_cost) */
	synack_time_t timer;   /* next event of the state machine */
	synack_time_t touched; /* last state change, for eviction */
	struct neigh_pkt *qhead, *qtail;
};

int neigh_init(synack_stack *st)
{
	st->net->neigh.next = SYNACK_TIME_NEVER;
	if (!net_is_ethernet(st))
		return 0;
	st->net->neigh.v = mem_alloc(&st->mem, NEIGH_MAX * sizeof *st->net->neigh.v);
	if (!st->net->neigh.v)
		return -ENOMEM;
	/* RFC 4861 §6.3.2: ReachableTime uniform in [0.5, 1.5] x 30 s */
	uint32_t r;
	st->cfg.rng.fill(st->cfg.rng.ctx, &r, sizeof r);
	st->net->neigh.reachable6 = SYNACK_SEC(15) + SYNACK_MSEC(r % 30001);
	return 0;
}

/* What a queued packet of ip_len bytes counts against the bounds. */
static size_t pkt_cost(size_t ip_len)
{
	return NEIGH_QUEUE_PKT_COST + ip_len;
}

static void pkt_free(synack_stack *st, struct neigh_pkt *p)
{
	st->net->neigh.queued -= (uint32_t)pkt_cost(p->len);
	mem_free(&st->mem, p, sizeof *p + NET_HEADROOM + p->len);
}

static struct neigh_pkt *queue_pop(synack_stack *st, struct neigh *e)
{
	struct neigh_pkt *p = e->qhead;
	if (p) {
		e->qhead = p->next;
		if (!e->qhead)
			e->qtail = NULL;
		e->qlen--;
		e->qbytes -= (uint32_t)pkt_cost(p->len);
	}
	return p;
}

/* RFC 4861 §7.2.2: an entry whose resolution failed cannot carry its
 * packets; "return ICMP destination unreachable indications with code 3":
 * tell the protocol that sent each one, as an ICMP error would (TCP takes
 * it as a soft error, RFC 5461, or ends a connection attempt). Packets we
 * built ourselves: no extension header but a Fragment header, which only
 * ICMP replies use. */
static void notify_unreachable(synack_stack *st, const struct neigh_pkt *p)
{
	const uint8_t *ip = p->data + NET_HEADROOM;
	bool v6 = (ip[0] >> 4) == 6;
	size_t hl = v6 ? WIRE_IPV6_HDR : (size_t)(ip[0] & 0x0f) * 4;
	const struct net_proto *up = net_proto_find(st, v6 ? ip[6] : ip[9]);
	if (!up || !up->error || p->len < hl + 8)
		return;
	struct net_icmp_err e = {.kind = NET_ICMP_NEIGH_FAILED,
				 .type = v6 ? WIRE_ICMP6_DEST_UNREACH : WIRE_ICMP_DEST_UNREACH,
				 .code = v6 ? 3 : 1,
				 .proto = up->proto,
				 .l4 = ip + hl,
				 .l4_len = p->len - hl};
	e.src.family = e.dst.family = v6 ? SYNACK_AF_INET6 : SYNACK_AF_INET;
	memcpy(e.src.bytes, ip + (v6 ? 8 : 12), v6 ? 16 : 4);
	memcpy(e.dst.bytes, ip + (v6 ? 24 : 16), v6 ? 16 : 4);
	up->error(st, &e);
}

/* Remove entry i. fail: its queued packets are dropped as unresolved (and
 * TCP told), after the entry has left the table. */
static void entry_remove(synack_stack *st, struct neigh *e, bool fail)
{
	struct neigh_pkt *q = e->qhead;
	struct neigh_table *t = &st->net->neigh;
	*e = t->v[--t->count];
	memset(&t->v[t->count], 0, sizeof t->v[t->count]);
	while (q) {
		struct neigh_pkt *next = q->next;
		stack_drop(st, SYNACK_DROP_NEIGH_UNRESOLVED);
		if (fail)
			notify_unreachable(st, q);
		pkt_free(st, q);
		q = next;
	}
}

void neigh_fini(synack_stack *st)
{
	struct neigh_table *t = &st->net->neigh;
	if (!t->v)
		return;
	for (uint32_t i = 0; i < t->count; i++) {
		struct neigh_pkt *p;
		while ((p = queue_pop(st, &t->v[i])))
			pkt_free(st, p);
	}
	mem_free(&st->mem, t->v, NEIGH_MAX * sizeof *t->v);
	t->v = NULL;
	t->count = 0;
}

static struct neigh *find(const synack_stack *st, const synack_addr *ip)
{
	for (uint32_t i = 0; i < st->net->neigh.count; i++)
		if (synack_addr_equal(&st->net->neigh.v[i].ip, ip))
			return &st->net->neigh.v[i];
	return NULL;
}

/* Timers: `next` is a lower bound of every entry's timer, so input and
 * poll skip the table scan until something may be due. */
static void set_timer(synack_stack *st, struct neigh *e, synack_time_t when)
{
	e->timer = when;
	st->net->neigh.next = MIN(st->net->neigh.next, when);
}

static void set_state(synack_stack *st, struct neigh *e, enum neigh_state s)
{
	synack_time_t reach =
	    e->ip.family == SYNACK_AF_INET6 ? st->net->neigh.reachable6 : ARP_REACHABLE_TIME;
	static const synack_time_t lifetime[] = {
	    [NEIGH_INCOMPLETE] = RETRANS_TIMER,
	    [NEIGH_STALE] = NEIGH_STALE_LIFETIME,
	    [NEIGH_DELAY] = DELAY_FIRST_PROBE_TIME,
	    [NEIGH_PROBE] = RETRANS_TIMER,
	};
	e->state = (uint8_t)s;
	set_timer(st, e, st->now + (s == NEIGH_REACHABLE ? reach : lifetime[s]));
	e->touched = st->now;
	if (s == NEIGH_REACHABLE || s == NEIGH_STALE)
		e->probes = 0;
}

/* Eviction order: INCOMPLETE (what any spoofed source can create), then
 * STALE, then the other resolved states; within a class the one touched
 * longest ago. A flood of unresolvable addresses cannot push out resolved
 * neighbours such as the gateway. */
static struct neigh *victim(synack_stack *st)
{
	struct neigh *best = NULL;
	int best_rank = 3;
	for (uint32_t i = 0; i < st->net->neigh.count; i++) {
		struct neigh *e = &st->net->neigh.v[i];
		int rank = e->state == NEIGH_INCOMPLETE ? 0 : e->state == NEIGH_STALE ? 1 : 2;
		if (rank < best_rank || (rank == best_rank && e->touched < best->touched)) {
			best = e;
			best_rank = rank;
		}
	}
	return best;
}

static struct neigh *entry_new(synack_stack *st, const synack_addr *ip)
{
	struct neigh_table *t = &st->net->neigh;
	if (!t->v)
		return NULL;
	if (t->count == NEIGH_MAX) {
		stack_count(st, SYNACK_CNT_NEIGH_EVICTED);
		entry_remove(st, victim(st), false);
	}
	struct neigh *e = &t->v[t->count++];
	memset(e, 0, sizeof *e);
	e->ip = *ip;
	return e;
}

static uint16_t ethertype(const synack_addr *ip)
{
	return ip->family == SYNACK_AF_INET6 ? WIRE_ETH_IPV6 : WIRE_ETH_IPV4;
}

static void solicit(synack_stack *st, struct neigh *e, bool unicast)
{
	const uint8_t *mac = unicast ? e->mac : NULL;
	synack_addr ip = e->ip; /* the entry may move while sending */
	if (ip.family == SYNACK_AF_INET6)
		nd_solicit(st, &ip, mac);
	else
		arp_solicit(st, &ip, mac);
}

/* Send what waited for this entry (it now has a link-layer address). */
static void flush(synack_stack *st, struct neigh *e)
{
	struct neigh_pkt *p;
	uint8_t mac[6];
	uint16_t type = ethertype(&e->ip);
	memcpy(mac, e->mac, 6);
	while ((p = queue_pop(st, e))) {
		net_eth_tx(st, p->data, mac, type, p->len);
		pkt_free(st, p);
	}
}

/* RFC 4861 §7.2.2: "retain a small queue of packets waiting for address
 * resolution"; "when a queue overflows, the new arrival SHOULD replace the
 * oldest entry". Small in datagrams rather than in packets: the bound is
 * in bytes (net.h), so every fragment of one large reply fits. A packet
 * that would pass the table's bound is dropped. Returns 0 or -ENOBUFS
 * (counted). */
static int enqueue(synack_stack *st, struct neigh *e, const uint8_t *pkt, size_t ip_len)
{
	size_t cost = pkt_cost(ip_len);
	while (e->qlen && cost <= NEIGH_QUEUE_BYTES &&
	       (e->qlen >= NEIGH_QUEUE_PKTS || e->qbytes + cost > NEIGH_QUEUE_BYTES)) {
		pkt_free(st, queue_pop(st, e));
		stack_drop(st, SYNACK_DROP_NEIGH_QUEUE_FULL);
	}
	struct neigh_pkt *p = NULL;
	if (cost <= NEIGH_QUEUE_BYTES && st->net->neigh.queued + cost <= NEIGH_QUEUE_BYTES_ALL)
		p = mem_alloc_raw(&st->mem, sizeof *p + NET_HEADROOM + ip_len);
	if (!p) {
		stack_drop(st, SYNACK_DROP_NEIGH_QUEUE_FULL);
		return -ENOBUFS;
	}
	p->next = NULL;
	p->len = ip_len;
	memcpy(p->data + NET_HEADROOM, pkt + NET_HEADROOM, ip_len);
	if (e->qtail)
		e->qtail->next = p;
	else
		e->qhead = p;
	e->qtail = p;
	e->qlen++;
	e->qbytes += (uint32_t)cost;
	st->net->neigh.queued += (uint32_t)cost;
	stack_count(st, SYNACK_CNT_NEIGH_QUEUED);
	return 0;
}

int neigh_output(synack_stack *st, const synack_addr *nh, uint8_t *pkt, size_t ip_len)
{
	struct neigh *e = find(st, nh);
	if (e && e->state != NEIGH_INCOMPLETE) {
		if (e->state == NEIGH_STALE) /* RFC 4861 §7.3.3: first use of a STALE entry */
			set_state(st, e, NEIGH_DELAY);
		return net_eth_tx(st, pkt, e->mac, ethertype(nh), ip_len);
	}
	bool fresh = !e;
	if (fresh) {
		e = entry_new(st, nh);
		if (!e) {
			stack_drop(st, SYNACK_DROP_NEIGH_UNRESOLVED);
			return -EHOSTUNREACH;
		}
		set_state(st, e, NEIGH_INCOMPLETE);
	}
	int err = enqueue(st, e, pkt, ip_len);
	if (fresh) { /* RFC 4861 §7.2.2 / RFC 826: ask, once the packet is safe */
		e->probes = 1;
		solicit(st, e, false);
	}
	return err;
}

static void resolved(synack_stack *st, struct neigh *e, const uint8_t *mac, enum neigh_state s)
{
	memcpy(e->mac, mac, 6);
	set_state(st, e, s);
	stack_count(st, SYNACK_CNT_NEIGH_RESOLVED);
	flush(st, e);
}

bool neigh_learn(synack_stack *st, const synack_addr *ip, const uint8_t *mac, bool create)
{
	struct neigh *e = find(st, ip);
	if (!e) {
		if (!create || !(e = entry_new(st, ip)))
			return false;
		memcpy(e->mac, mac, 6);
		set_state(st, e, NEIGH_STALE); /* RFC 4861 §7.2.3 */
		return true;
	}
	if (e->state == NEIGH_INCOMPLETE)
		resolved(st, e, mac, NEIGH_STALE);
	else if (memcmp(e->mac, mac, 6) != 0) {
		memcpy(e->mac, mac, 6);
		set_state(st, e, NEIGH_STALE);
	}
	return true;
}

bool neigh_advert(synack_stack *st, const synack_addr *ip, const uint8_t *mac, bool solicited, bool override)
{
	struct neigh *e = find(st, ip);
	if (!e)
		return false;
	if (e->state == NEIGH_INCOMPLETE) { /* RFC 4861 §7.2.5 */
		if (mac)
			resolved(st, e, mac, solicited ? NEIGH_REACHABLE : NEIGH_STALE);
		return true;
	}
	bool differs = mac && memcmp(e->mac, mac, 6) != 0;
	if (!override && differs) {
		if (e->state == NEIGH_REACHABLE)
			set_state(st, e, NEIGH_STALE);
		return true;
	}
	if (differs)
		memcpy(e->mac, mac, 6);
	if (solicited)
		set_state(st, e, NEIGH_REACHABLE);
	else if (differs)
		set_state(st, e, NEIGH_STALE);
	return true;
}

/* One timer expiry (RFC 4861 §7.2.2 for INCOMPLETE, §7.3.3 for the NUD
 * states, Appendix C). Returns true if the entry was removed. */
static bool expire(synack_stack *st, struct neigh *e)
{
	switch (e->state) {
	case NEIGH_INCOMPLETE:
	case NEIGH_PROBE:
		if (e->probes >= MAX_SOLICIT) {
			entry_remove(st, e, e->state == NEIGH_INCOMPLETE);
			return true;
		}
		e->probes++;
		set_timer(st, e, st->now + RETRANS_TIMER);
		solicit(st, e, e->state == NEIGH_PROBE);
		return false;
	case NEIGH_REACHABLE:
		set_state(st, e, NEIGH_STALE);
		return false;
	case NEIGH_DELAY:
		set_state(st, e, NEIGH_PROBE);
		e->probes = 1;
		solicit(st, e, true);
		return false;
	default: /* STALE and unused for NEIGH_STALE_LIFETIME */
		entry_remove(st, e, false);
		return true;
	}
}

void neigh_poll(synack_stack *st)
{
	struct neigh_table *t = &st->net->neigh;
	if (t->next > st->now)
		return;
	uint32_t i = 0;
	while (i < t->count) {
		struct neigh *e = &t->v[i];
		if (e->timer > st->now || !expire(st, e))
			i++;
	}
	t->next = SYNACK_TIME_NEVER; /* recomputed exactly */
	for (i = 0; i < t->count; i++)
		t->next = MIN(t->next, t->v[i].timer);
}

synack_time_t neigh_next_deadline(const synack_stack *st)
{
	return st->net->neigh.next;
}

int neigh_state_of(const synack_stack *st, const synack_addr *ip, uint8_t mac[6])
{
	struct neigh *e = find(st, ip);
	if (!e)
		return -1;
	if (mac)
		memcpy(mac, e->mac, 6);
	return e->state;
}
