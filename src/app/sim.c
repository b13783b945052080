/* Two stacks on the in-memory link, driven by one virtual clock. */
#include <errno.h>
#include <string.h>

#include "synack/sim.h"

static void sim_rx(void *ctx, const uint8_t *frame, size_t len, uint32_t flags, synack_time_t now)
{
	synack_stack_input_flags(ctx, frame, len, flags, now);
}

int synack_sim_init(synack_sim *s, uint64_t seed, const synack_impair *impair,
		    const synack_stack_config *cfg0, const synack_stack_config *cfg1)
{
	const synack_stack_config *given[2] = {cfg0, cfg1};
	memset(s, 0, sizeof *s);
	int err = synack_memlink_create(seed, impair, impair, &s->link);
	if (err)
		return err;
	for (int i = 0; i < 2; i++) {
		synack_stack_config cfg;
		if (given[i]) {
			cfg = *given[i];
		} else {
			synack_stack_config_init(&cfg);
		}
		if (cfg.addr.family == SYNACK_AF_NONE)
			cfg.addr = synack_addr_ipv4(10, 0, 0, (uint8_t)(i + 1));
		synack_prng_seed(&s->rng[i], seed * 2 + (uint64_t)i + 1);
		cfg.rng.fill = synack_prng_fill;
		cfg.rng.ctx = &s->rng[i];
		cfg.tx = synack_memlink_tx;
		cfg.tx_ctx = synack_memlink_port(s->link, i);
		if (cfg.offload) { /* the link takes them, as the kernel's loopback */
			cfg.tx_meta = synack_memlink_tx_meta;
			cfg.tx_iov = synack_memlink_tx_iov;
		}
		err = synack_stack_create(&cfg, 0, &s->stack[i]);
		if (err) {
			synack_sim_destroy(s);
			return err;
		}
		synack_memlink_attach_flags(s->link, i, sim_rx, s->stack[i]);
	}
	return 0;
}

void synack_sim_destroy(synack_sim *s)
{
	for (int i = 0; i < 2; i++) {
		synack_stack_destroy(s->stack[i]);
		s->stack[i] = NULL;
	}
	synack_memlink_destroy(s->link);
	s->link = NULL;
}

synack_time_t synack_sim_next(const synack_sim *s)
{
	synack_time_t t = synack_memlink_next_deadline(s->link);
	for (int i = 0; i < 2; i++) {
		synack_time_t d = synack_stack_next_deadline(s->stack[i]);
		if (d < t)
			t = d;
	}
	return t;
}

int synack_sim_step(synack_sim *s, synack_time_t limit)
{
	synack_time_t t = synack_sim_next(s);
	if (t > limit) {
		if (limit > s->now && limit != SYNACK_TIME_NEVER)
			s->now = limit;
		synack_memlink_set_time(s->link, s->now);
		for (int i = 0; i < 2; i++)
			synack_stack_poll(s->stack[i], s->now);
		return 0;
	}
	if (t > s->now)
		s->now = t;
	synack_memlink_deliver(s->link, s->now);
	for (int i = 0; i < 2; i++)
		synack_stack_poll(s->stack[i], s->now);
	s->steps++;
	return 1;
}

void synack_sim_run_until(synack_sim *s, synack_time_t until)
{
	while (synack_sim_step(s, until))
		;
}
