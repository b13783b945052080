/* The output path is bounded by construction (issue 7): a message that does
 * not fit its frame is never sent, always counted (drop_tx_overflow), and
 * stops debug builds (-DSYNACK_DEBUG: SAN=1, fuzz) at once. */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <errno.h>

#include "net/net.h"
#include "synack/synack.h"
#include "unit.h"
#include "wire/wire.h"

static int sent;

static int count_tx(void *ctx, const uint8_t *frame, size_t len)
{
	sent++;
	return 0;
}

static synack_stack *make_stack(synack_prng *rng)
{
	synack_stack_config cfg;
	synack_stack *st = NULL;
	synack_stack_config_init(&cfg);
	cfg.addr = synack_addr_ipv4(10, 0, 0, 2);
	synack_prng_seed(rng, 3);
	cfg.rng = (synack_rng){synack_prng_fill, rng};
	cfg.tx = count_tx;
	CHECK_EQ(synack_stack_create(&cfg, 0, &st), 0);
	return st;
}

/* Build a message one byte larger than a frame carries and try to send it. */
static int send_oversized(synack_stack *st)
{
	synack_addr dst = synack_addr_ipv4(10, 0, 0, 1), src = synack_addr_ipv4(10, 0, 0, 2);
	struct bbuf l4 = net_l4_buffer(st, &dst);
	CHECK_EQ(l4.cap, 1500 - 20);
	bbuf_zero(&l4, l4.cap);
	CHECK(bbuf_ok(&l4));
	bbuf_u8(&l4, 1);
	CHECK(!bbuf_ok(&l4));
	return net_send(st, &src, &dst, WIRE_PROTO_ICMP, &l4);
}

#ifndef SYNACK_DEBUG
TEST(overflowing_message_is_a_counted_drop)
{
	synack_prng rng;
	synack_stack *st = make_stack(&rng);
	sent = 0;
	CHECK_EQ(send_oversized(st), -EMSGSIZE);
	CHECK_EQ(sent, 0);
	CHECK_EQ(synack_stack_counter(st, SYNACK_DROP_TX_OVERFLOW), 1);
	/* a full frame still goes out */
	synack_addr dst = synack_addr_ipv4(10, 0, 0, 1), src = synack_addr_ipv4(10, 0, 0, 2);
	struct bbuf l4 = net_l4_buffer(st, &dst);
	bbuf_zero(&l4, l4.cap);
	CHECK_EQ(net_send(st, &src, &dst, WIRE_PROTO_ICMP, &l4), 0);
	CHECK_EQ(sent, 1);
	/* a builder that is not the frame's: refused too */
	uint8_t other[64];
	struct bbuf elsewhere = bbuf_make(other, sizeof other);
	CHECK_EQ(net_send(st, &src, &dst, WIRE_PROTO_ICMP, &elsewhere), -EMSGSIZE);
	CHECK_EQ(synack_stack_counter(st, SYNACK_DROP_TX_OVERFLOW), 2);
	synack_stack_destroy(st);
}
#else
TEST(overflowing_message_aborts_a_debug_build)
{
	fflush(NULL);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		synack_prng rng;
		close(2); /* the child's "BUG" line is expected, not news */
		send_oversized(make_stack(&rng));
		_exit(0); /* not reached when the assertion works */
	}
	int status = 0;
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
}
#endif
