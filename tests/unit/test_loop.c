/* The OS side without privileges: address/prefix parsing and error texts of
 * the TUN driver, and the event loop (epoll, timerfd, real clock) driving
 * two stacks whose "link" is a SOCK_SEQPACKET socket pair (one frame per
 * message, like a TUN descriptor). */
#include <errno.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <unistd.h>

#include "synack/synack.h"
#include "synack/loop.h"
#include "synack/tun.h"
#include "unit.h"

TEST(prefix_parse)
{
	synack_addr a;
	uint8_t plen;
	CHECK_EQ(synack_prefix_parse("10.1.0.2/24", &a, &plen), 0);
	CHECK_EQ(a.family, SYNACK_AF_INET);
	CHECK_EQ(plen, 24);
	CHECK_EQ(synack_prefix_parse("fd00::1/64", &a, &plen), 0);
	CHECK_EQ(a.family, SYNACK_AF_INET6);
	CHECK_EQ(plen, 64);
	CHECK_EQ(synack_prefix_parse("10.1.0.2", &a, &plen), 0);
	CHECK_EQ(plen, 24);
	CHECK_EQ(synack_prefix_parse("fd00::2", &a, &plen), 0);
	CHECK_EQ(plen, 64);
	CHECK_EQ(synack_prefix_parse("10.1.0.2/33", &a, &plen), -EINVAL);
	CHECK_EQ(synack_prefix_parse("fd00::1/129", &a, &plen), -EINVAL);
	CHECK_EQ(synack_prefix_parse("10.1.0.300/24", &a, &plen), -EINVAL);
	CHECK_EQ(synack_prefix_parse("10.1.0.2/", &a, &plen), -EINVAL);
	CHECK_EQ(synack_prefix_parse("10.1.0.2/2x", &a, &plen), -EINVAL);
	CHECK_EQ(synack_prefix_parse("/24", &a, &plen), -EINVAL);
}

TEST(tun_errors)
{
	char buf[256];
	synack_tun *t;
	synack_tun_config cfg = {.name = "synack-name-too-long", .kind = SYNACK_TUN};
	CHECK_EQ(synack_tun_open(&cfg, &t), -EINVAL);
	cfg.name = "synack-nosuch";
	CHECK_EQ(synack_tun_open(&cfg, &t), -ENODEV); /* never created without host addresses */
	cfg.host_addr[0] = "10.1.0.1/99";
	CHECK_EQ(synack_tun_open(&cfg, &t), -EINVAL);
	CHECK(strstr(synack_tun_strerror(-ENODEV, "x0", SYNACK_TUN, buf, sizeof buf), "no such device x0"));
	CHECK(strstr(buf, "ip tuntap add dev x0 mode tun user $USER"));
	CHECK(strstr(synack_tun_strerror(-EPERM, "x0", SYNACK_TAP, buf, sizeof buf), "no permission"));
	CHECK(strstr(buf, "mode tap"));
	CHECK(
	    strstr(synack_tun_strerror(-EMEDIUMTYPE, "x0", SYNACK_TAP, buf, sizeof buf), "not a TAP device"));
}

/* Multi-queue: a queue count beyond the kernel's limit is refused before
 * anything is opened; the errors of the queue mode read as such. */
TEST(tun_queue_errors)
{
	char buf[256];
	synack_tun *t = (synack_tun *)&buf;
	synack_tun_config cfg = {
	    .name = "synack-nosuch", .kind = SYNACK_TUN, .queues = SYNACK_TUN_MAX_QUEUES + 1};
	CHECK_EQ(synack_tun_open(&cfg, &t), -EINVAL);
	CHECK(t == NULL);
	cfg.queues = 2;
	CHECK_EQ(synack_tun_open(&cfg, &t), -ENODEV); /* still never created without host addresses */
	CHECK(strstr(synack_tun_strerror(-EOPNOTSUPP, "x0", SYNACK_TUN, buf, sizeof buf), "multi-queue"));
	/* x0 does not exist here: the kind message, as before */
	CHECK(strstr(synack_tun_strerror(-EMEDIUMTYPE, "synack-nosuch", SYNACK_TUN, buf, sizeof buf),
		     "not a TUN device"));
}

TEST(clock_and_random)
{
	synack_time_t a = synack_clock_now(), b = synack_clock_now();
	CHECK(a > 0 && b >= a);
	uint8_t mac[6], zero[6] = {0};
	synack_random_mac(mac);
	CHECK_EQ(mac[0] & 0x03, 0x02); /* unicast, locally administered */
	uint8_t r[32];
	synack_os_random(NULL, r, sizeof r);
	CHECK(memcmp(r, zero, sizeof zero) != 0 || memcmp(r + 6, zero, sizeof zero) != 0);
}

/* ---- two stacks over a socket pair, each on its own loop ---- */

struct side {
	int fd;
	synack_stack *st;
	synack_loop *loop;
};

static int pair_tx(void *ctx, const uint8_t *frame, size_t len)
{
	struct side *s = ctx;
	return send(s->fd, frame, len, MSG_DONTWAIT) < 0 ? -errno : 0;
}

static ssize_t pair_rd(void *ctx, uint8_t *buf, size_t cap)
{
	struct side *s = ctx;
	ssize_t n = recv(s->fd, buf, cap, MSG_DONTWAIT);
	return n < 0 ? -errno : n;
}

static void side_init(struct side *s, int fd, uint8_t last)
{
	synack_stack_config cfg;
	synack_stack_config_init(&cfg);
	cfg.addr = synack_addr_ipv4(10, 9, 0, last);
	cfg.rng = synack_os_rng();
	cfg.tx = pair_tx;
	cfg.tx_ctx = s;
	s->fd = fd;
	CHECK_EQ(synack_stack_create(&cfg, synack_clock_now(), &s->st), 0);
	CHECK_EQ(synack_loop_create(s->st, fd, pair_rd, s, 2048, &s->loop), 0);
}

static void side_fini(struct side *s)
{
	synack_loop_destroy(s->loop);
	synack_stack_destroy(s->st);
	close(s->fd);
}

/* Run both loops until cond(ctx) holds or 5 s of real time pass. */
static bool run_until(struct side *a, struct side *b, bool (*cond)(void *), void *ctx)
{
	synack_time_t end = synack_clock_now() + SYNACK_SEC(5);
	int ready[2];
	while (!cond(ctx)) {
		if (synack_clock_now() > end)
			return false;
		CHECK(synack_loop_run_once(a->loop, 1, ready, 2) >= 0);
		CHECK(synack_loop_run_once(b->loop, 1, ready, 2) >= 0);
	}
	return true;
}

struct xfer {
	struct side *a, *b;
	synack_tcp *cli, *lis, *srv;
	uint8_t out[200000], in[200000];
	size_t sent, got;
};

static bool accepted(void *ctx)
{
	struct xfer *x = ctx;
	uint32_t ev;
	while (synack_stack_next_event(x->a->st, &ev) || synack_stack_next_event(x->b->st, &ev))
		;
	return synack_tcp_accept(x->lis, &x->srv) == 0 && synack_tcp_state(x->cli) == SYNACK_TCP_ESTABLISHED;
}

static bool transferred(void *ctx)
{
	struct xfer *x = ctx;
	uint32_t ev;
	while (synack_stack_next_event(x->a->st, &ev) || synack_stack_next_event(x->b->st, &ev))
		;
	if (x->sent < sizeof x->out) {
		ssize_t n = synack_tcp_send(x->cli, x->out + x->sent, sizeof x->out - x->sent);
		if (n > 0)
			x->sent += (size_t)n;
	}
	ssize_t n = synack_tcp_recv(x->srv, x->in + x->got, sizeof x->in - x->got);
	if (n > 0)
		x->got += (size_t)n;
	return x->got == sizeof x->in;
}

TEST(loop_two_stacks_over_socketpair)
{
	static struct xfer x;
	struct side a, b;
	int fds[2];
	CHECK_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, fds), 0);
	side_init(&a, fds[0], 1);
	side_init(&b, fds[1], 2);
	memset(&x, 0, sizeof x);
	x.a = &a;
	x.b = &b;
	for (size_t i = 0; i < sizeof x.out; i++)
		x.out[i] = (uint8_t)(i % 251);
	synack_endpoint local = {.port = 7}, remote = {.addr = synack_addr_ipv4(10, 9, 0, 2), .port = 7};
	CHECK_EQ(synack_tcp_listen(b.st, &local, 4, &x.lis), 0);
	CHECK_EQ(synack_tcp_connect(a.st, &remote, NULL, &x.cli), 0);
	CHECK(run_until(&a, &b, accepted, &x));
	CHECK(x.srv != NULL);
	if (x.srv) {
		CHECK(run_until(&a, &b, transferred, &x));
		CHECK_MEM(x.in, x.out, sizeof x.in);
	}
	CHECK(synack_loop_frames_in(a.loop) > 0 && synack_loop_frames_in(b.loop) > 0);
	side_fini(&a);
	side_fini(&b);
}

/* The timer: a SYN to nowhere is retransmitted when the stack's deadline
 * (RTO, 1 s) passes, with no input at all: only the timerfd wakes us. */
TEST(loop_timer_drives_retransmission)
{
	struct side a;
	int fds[2];
	CHECK_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, fds), 0);
	side_init(&a, fds[0], 1);
	synack_endpoint remote = {.addr = synack_addr_ipv4(10, 9, 0, 2), .port = 7};
	synack_tcp *c;
	CHECK_EQ(synack_tcp_connect(a.st, &remote, NULL, &c), 0);
	synack_time_t t0 = synack_clock_now();
	int ready[1];
	uint8_t buf[2048];
	int frames = 0;
	while (frames < 2 && synack_clock_now() - t0 < SYNACK_SEC(3)) {
		CHECK(synack_loop_run_once(a.loop, -1, ready, 1) >= 0); /* blocks until the timer */
		while (recv(fds[1], buf, sizeof buf, MSG_DONTWAIT) > 0)
			frames++;
	}
	CHECK_EQ(frames, 2); /* SYN (sent by connect) and its first retransmission */
	synack_time_t waited = synack_clock_now() - t0;
	CHECK(waited >= SYNACK_MSEC(900) && waited < SYNACK_SEC(3));
	side_fini(&a);
	close(fds[1]);
}
