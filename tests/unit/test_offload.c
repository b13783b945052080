/* Offloads (synack_stack_config.offload): the checks on the configuration,
 * TSO and checksum offload end to end over the in-memory link (which takes
 * them as the kernel's loopback does), the link that corrupts frames and so
 * must not vouch for a checksum, and a link that cuts TSO segments itself,
 * as the kernel does for a TUN device: every piece it makes must be a
 * valid TCP segment. */
#include "harness.h"
#include "unit.h"

#include "wire/wire.h"

static void offload_cfg(synack_stack_config *c, uint8_t host)
{
	synack_stack_config_init(c);
	c->addr = synack_addr_ipv4(10, 0, 0, host);
	c->offload = SYNACK_OFFLOAD_TX_CSUM | SYNACK_OFFLOAD_TSO;
}

static int dummy_tx(void *ctx, const uint8_t *f, size_t len)
{
	return 0;
}
static int dummy_meta(void *ctx, const uint8_t *f, size_t len, const synack_tx_meta *m)
{
	return 0;
}

static synack_prng prng;

static void plain_rx(void *ctx, const uint8_t *frame, size_t len, synack_time_t now)
{
	synack_stack_input(ctx, frame, len, now);
}

static void rx_flags(void *ctx, const uint8_t *frame, size_t len, uint32_t flags, synack_time_t now)
{
	synack_stack_input_flags(ctx, frame, len, flags, now);
}

static int create(const synack_stack_config *c)
{
	synack_stack *st;
	int err = synack_stack_create(c, 0, &st);
	synack_stack_destroy(st);
	return err;
}

TEST(configuration_is_checked)
{
	synack_stack_config c;
	offload_cfg(&c, 1);
	c.tx = dummy_tx;
	synack_prng_seed(&prng, 1);
	c.rng = (synack_rng){.fill = synack_prng_fill, .ctx = &prng};
	CHECK_EQ(create(&c), -EINVAL); /* no tx_meta */
	c.tx_meta = dummy_meta;
	CHECK_EQ(create(&c), 0);
	c.offload = SYNACK_OFFLOAD_TSO; /* TSO without checksum offload */
	CHECK_EQ(create(&c), -EINVAL);
	c.offload = SYNACK_OFFLOAD_TX_CSUM | SYNACK_OFFLOAD_TSO | (1u << 7); /* unknown bit */
	CHECK_EQ(create(&c), -EINVAL);
	c.offload = SYNACK_OFFLOAD_TX_CSUM | SYNACK_OFFLOAD_TSO;
	c.gso_max = 1000; /* below the MTU */
	CHECK_EQ(create(&c), -EINVAL);
	c.gso_max = 70000;
	CHECK_EQ(create(&c), -EINVAL);
	c.gso_max = 20000;
	CHECK_EQ(create(&c), 0);
	c.link = SYNACK_LINK_ETHERNET; /* raw IP links only */
	c.mac[0] = 2;
	c.mac[5] = 1;
	CHECK_EQ(create(&c), -EINVAL);
}

/* Two offloading stacks on the in-memory link (impairments imp) with a
 * connection between them. */
static void offload_pair(synack_sim *sim, uint64_t seed, const synack_impair *imp, synack_tcp **c,
			 synack_tcp **s)
{
	synack_stack_config c0, c1;
	synack_tcp *l;
	offload_cfg(&c0, 1);
	offload_cfg(&c1, 2);
	CHECK_EQ(synack_sim_init(sim, seed, imp, &c0, &c1), 0);
	CHECK_EQ(h_establish(sim, 80, &l, c, s), 0);
}

/* A transfer each way between two offloading stacks: bytes intact, TSO
 * segments sent, checksums trusted on arrival (or, when the link corrupts
 * frames, completed by it and verified). */
static void transfer(const synack_impair *imp, bool trusted)
{
	synack_sim sim;
	synack_tcp *c, *s;
	offload_pair(&sim, 7, imp, &c, &s);
	CHECK_EQ(h_transfer(&sim, c, s, 4 << 20, SYNACK_SEC(120)), (size_t)4 << 20);
	CHECK_EQ(h_transfer(&sim, s, c, 1 << 20, SYNACK_SEC(120)), (size_t)1 << 20);
	for (int i = 0; i < 2; i++) {
		CHECK(synack_stack_counter(sim.stack[i], SYNACK_CNT_TCP_TSO_OUT) > 0);
		uint64_t tr = synack_stack_counter(sim.stack[i], SYNACK_CNT_TCP_CSUM_TRUSTED);
		CHECK(trusted ? tr > 0 : tr == 0);
	}
	if (trusted)
		CHECK_EQ(synack_stack_drops(sim.stack[0]) + synack_stack_drops(sim.stack[1]), 0);
	synack_sim_destroy(&sim);
}

TEST(tso_and_checksum_offload_over_the_memory_link)
{
	transfer(NULL, true);
}

TEST(a_corrupting_link_vouches_for_no_checksum)
{
	synack_impair imp = {.corrupt = 0.01};
	transfer(&imp, false);
}

/* A link that cuts TSO segments as the kernel does for a TUN device
 * (tcp_gso_segment): headers copied, sequence number advanced, IP length
 * and ID and checksums redone, FIN and PSH on the last piece only, CWR on
 * the first. Each piece is checked: a full TCP checksum, at most the MTU,
 * gso_size bytes of data but the last. */
struct cutter {
	synack_memlink *link;
	void *port;
	uint16_t mtu;
	uint64_t supers, pieces, bad;
};
static struct cutter cut;

static int cut_tx(void *ctx, const uint8_t *f, size_t len, const synack_tx_meta *m)
{
	uint8_t p[2048];
	size_t ihl = (size_t)(f[0] & 15) * 4, start = m->csum_start;
	size_t thl = (size_t)(f[start + 12] >> 4) * 4, hl = start + thl;
	synack_addr src = {.family = SYNACK_AF_INET}, dst = src;
	memcpy(src.bytes, f + 12, 4);
	memcpy(dst.bytes, f + 16, 4);
	if ((f[0] >> 4) != 4 || start != ihl || m->csum_offset != 16 || len < hl) {
		cut.bad++;
		return -EINVAL;
	}
	/* the field holds the pseudo-header sum of the whole segment */
	uint16_t want =
	    (uint16_t)~wire_csum_finish(wire_pseudo_sum(&src, &dst, WIRE_PROTO_TCP, (uint32_t)(len - start)));
	if (rd16(f + start + 16) != want)
		cut.bad++;
	size_t data = len - hl, step = m->gso_size ? m->gso_size : data;
	if (m->gso_size) {
		cut.supers++;
		if (data <= m->gso_size)
			cut.bad++; /* not worth cutting: should have gone as one */
	}
	uint32_t seq = rd32(f + start + 4);
	for (size_t off = 0, i = 0; off < data || (data == 0 && i == 0); off += step, i++) {
		size_t n = data - off < step ? data - off : step;
		if (hl + n > sizeof p || hl + n > cut.mtu) {
			cut.bad++;
			return -EMSGSIZE;
		}
		memcpy(p, f, hl);
		memcpy(p + hl, f + hl + off, n);
		wr16(p + 2, (uint16_t)(hl + n));
		wr16(p + 4, (uint16_t)(rd16(f + 4) + i));
		wr16(p + 10, 0);
		wr16(p + 10, wire_csum_finish(wire_csum_add(0, p, ihl)));
		wr32(p + start + 4, seq + (uint32_t)off);
		if (off + n < data)
			p[start + 13] &= (uint8_t) ~(SYNACK_TCP_FIN | SYNACK_TCP_PSH);
		if (i)
			p[start + 13] &= (uint8_t)~0x80; /* CWR */
		wire_tcp_set_csum(p + start, thl + n, &src, &dst);
		cut.pieces++;
		int err = synack_memlink_tx(cut.port, p, hl + n);
		if (err)
			return err;
		if (data == 0)
			break;
	}
	return 0;
}

TEST(tso_segments_cut_by_the_link_are_valid_tcp)
{
	synack_sim sim;
	synack_stack_config c0, c1;
	synack_tcp *l, *c, *s;
	offload_cfg(&c0, 1);
	synack_stack_config_init(&c1);
	c1.addr = synack_addr_ipv4(10, 0, 0, 2);
	/* the sim gives stack 0 synack_memlink_tx_meta; swap in the cutter */
	c0.offload = 0;
	CHECK_EQ(synack_sim_init(&sim, 3, NULL, &c0, &c1), 0);
	synack_stack_destroy(sim.stack[0]);
	offload_cfg(&c0, 1);
	synack_prng_seed(&sim.rng[0], 99);
	c0.rng = (synack_rng){.fill = synack_prng_fill, .ctx = &sim.rng[0]};
	c0.tx = synack_memlink_tx;
	c0.tx_ctx = synack_memlink_port(sim.link, 0);
	c0.tx_meta = cut_tx;
	cut = (struct cutter){.link = sim.link, .port = c0.tx_ctx, .mtu = c0.mtu};
	CHECK_EQ(synack_stack_create(&c0, sim.now, &sim.stack[0]), 0);
	synack_memlink_attach(sim.link, 0, NULL, NULL);
	synack_memlink_attach_flags(sim.link, 0, rx_flags, sim.stack[0]);
	CHECK_EQ(h_establish(&sim, 80, &l, &c, &s), 0);
	CHECK_EQ(h_transfer(&sim, c, s, 2 << 20, SYNACK_SEC(60)), (size_t)2 << 20);
	CHECK_EQ(synack_tcp_shutdown(c, SYNACK_SHUT_WR), 0);
	CHECK(H_RUN_UNTIL(&sim, synack_tcp_state(s) == SYNACK_TCP_CLOSE_WAIT, SYNACK_SEC(5)));
	CHECK_EQ(cut.bad, 0u);
	CHECK(cut.supers > 0);
	CHECK(cut.pieces > cut.supers);
	CHECK_EQ(synack_stack_counter(sim.stack[0], SYNACK_CNT_TCP_TSO_OUT), cut.supers);
	/* the receiver verified every piece's checksum itself */
	CHECK_EQ(synack_stack_counter(sim.stack[1], SYNACK_CNT_TCP_CSUM_TRUSTED), 0u);
	CHECK_EQ(synack_stack_drops(sim.stack[1]), 0u);
	synack_sim_destroy(&sim);
}

/* A receiver attached without flags (synack_memlink_attach) cannot be told
 * a checksum is vouched for: the link finishes the partial checksums it is
 * handed for it, and the receiver verifies them. */
TEST(a_receiver_without_flags_gets_finished_checksums)
{
	synack_sim sim;
	synack_stack_config c0, c1;
	synack_tcp *l, *c, *s;
	offload_cfg(&c0, 1);
	offload_cfg(&c1, 2);
	CHECK_EQ(synack_sim_init(&sim, 9, NULL, &c0, &c1), 0);
	/* without flags from before the handshake on (offload_pair would
	 * connect first, and the handshake's checksums would be trusted) */
	synack_memlink_attach(sim.link, 1, plain_rx, sim.stack[1]);
	CHECK_EQ(h_establish(&sim, 80, &l, &c, &s), 0);
	CHECK_EQ(h_transfer(&sim, c, s, 1 << 20, SYNACK_SEC(60)), (size_t)1 << 20);
	CHECK(synack_stack_counter(sim.stack[0], SYNACK_CNT_TCP_TSO_OUT) > 0);
	CHECK_EQ(synack_stack_counter(sim.stack[1], SYNACK_CNT_TCP_CSUM_TRUSTED), 0u);
	CHECK(synack_stack_counter(sim.stack[0], SYNACK_CNT_TCP_CSUM_TRUSTED) > 0); /* the other way */
	CHECK_EQ(synack_stack_drops(sim.stack[1]), 0u);
	synack_sim_destroy(&sim);
}
