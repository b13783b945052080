/* relay: a path between two network namespaces made of two TUN devices and
 * synack's fault-injection decorator (include/synack/impair.h), one per
 * direction. bench/tun.sh runs kernel <-> kernel across it, so the kernel
 * baseline crosses the same impaired path (delay, loss, reordering ...) as
 * synack <-> kernel, which gets the decorator inside `synack connect`/
 * `serve`: this kernel has no netem qdisc to do it.
 *
 * Usage: relay NS_A DEV_A ADDR_A NS_B DEV_B ADDR_B [--delay MS] [--loss P]
 *              [--reorder P] [--duplicate P] [--seed N]
 *   NS_x    a network namespace file (/run/netns/NAME)
 *   DEV_x   a TUN device the relay creates there (gone when it exits)
 *   ADDR_x  the kernel's address on it (10.9.1.1/16: a prefix covering the
 *           other side's address, so no route is needed)
 *   P is a fraction in [0, 1]; MS is milliseconds each way.
 * Prints "ready" on stdout when both devices are up; runs until killed.
 *
 * Why a bench program and not a `synack relay` subcommand: it needs
 * setns(2) (CAP_SYS_ADMIN) to put one device in each namespace, is only a
 * baseline harness, and keeps the user-facing command free of a tool that
 * only the benchmark wants. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "synack/impair.h"
#include "synack/loop.h"
#include "synack/tun.h"

struct side {
	synack_tun *tun;
	synack_impairer *out; /* frames read here, going to the other side */
};

static synack_time_t clock_fn(void *ctx)
{
	(void)ctx;
	return synack_clock_now();
}

static int open_side(const char *ns, const char *dev, const char *addr, synack_tun **out)
{
	int fd = open(ns, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNET) < 0) {
		fprintf(stderr, "relay: %s: %s\n", ns, strerror(errno));
		return -1;
	}
	close(fd);
	synack_tun_config tc = {.name = dev, .kind = SYNACK_TUN, .host_addr = {addr}};
	int err = synack_tun_open(&tc, out);
	if (err < 0) {
		fprintf(stderr, "relay: %s in %s: %s\n", dev, ns, strerror(-err));
		return -1;
	}
	return 0;
}

static int parse_impair(int argc, char **argv, synack_impair *m, uint64_t *seed)
{
	for (int i = 7; i + 1 < argc; i += 2) {
		double v = strtod(argv[i + 1], NULL);
		if (strcmp(argv[i], "--delay") == 0)
			m->delay = (synack_time_t)(v * 1000);
		else if (strcmp(argv[i], "--loss") == 0)
			m->loss = v;
		else if (strcmp(argv[i], "--reorder") == 0)
			m->reorder = v;
		else if (strcmp(argv[i], "--duplicate") == 0)
			m->duplicate = v;
		else if (strcmp(argv[i], "--seed") == 0)
			*seed = strtoull(argv[i + 1], NULL, 10);
		else
			return -1;
	}
	m->reorder_delay = SYNACK_MSEC(1);
	m->queue_limit = 65536;
	return 0;
}

static int make_impairer(const synack_impair *m, uint64_t seed, synack_tun *to, synack_impairer **out)
{
	synack_impairer_config ic = {.seed = seed, .tx = synack_tun_tx, .tx_ctx = to, .clock = clock_fn};
	ic.dir[SYNACK_IMPAIR_TX] = *m;
	return synack_impairer_create(&ic, out);
}

static void arm(int tfd, synack_time_t dl)
{
	struct itimerspec its;
	memset(&its, 0, sizeof its);
	if (dl != SYNACK_TIME_NEVER) {
		its.it_value.tv_sec = dl / 1000000;
		its.it_value.tv_nsec = (long)(dl % 1000000) * 1000 + 1;
	}
	timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void drain(struct side *s, uint8_t *buf, size_t cap)
{
	for (int i = 0; i < 256; i++) {
		ssize_t n = synack_tun_read(s->tun, buf, cap);
		if (n <= 0)
			return;
		(void)synack_impairer_tx(s->out, buf, (size_t)n);
	}
}

static void run(struct side *side, int tfd)
{
	static uint8_t buf[65536];
	int ep = epoll_create1(EPOLL_CLOEXEC);
	for (int i = 0; i < 3; i++) {
		int fd = i < 2 ? synack_tun_fd(side[i].tun) : tfd;
		struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
		epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
	}
	for (;;) {
		struct epoll_event evs[4];
		synack_time_t a = synack_impairer_next_deadline(side[0].out);
		synack_time_t b = synack_impairer_next_deadline(side[1].out);
		arm(tfd, a < b ? a : b);
		int n = epoll_wait(ep, evs, 4, -1);
		for (int i = 0; i < n; i++) {
			uint64_t x;
			if (evs[i].data.u32 == 2)
				(void)!read(tfd, &x, sizeof x);
			else
				drain(&side[evs[i].data.u32], buf, sizeof buf);
		}
		synack_time_t now = synack_clock_now();
		synack_impairer_flush(side[0].out, now);
		synack_impairer_flush(side[1].out, now);
	}
}

int main(int argc, char **argv)
{
	synack_impair m = {0};
	uint64_t seed = 1;
	struct side side[2] = {{0}};
	if (argc < 7 || (argc - 7) % 2 || parse_impair(argc, argv, &m, &seed) < 0) {
		fprintf(stderr, "usage: relay NS_A DEV_A ADDR_A NS_B DEV_B ADDR_B [--delay MS] [--loss P] "
				"[--reorder P] [--duplicate P] [--seed N]\n");
		return 2;
	}
	if (open_side(argv[1], argv[2], argv[3], &side[0].tun) < 0 ||
	    open_side(argv[4], argv[5], argv[6], &side[1].tun) < 0)
		return 1;
	if (make_impairer(&m, seed, side[1].tun, &side[0].out) < 0 ||
	    make_impairer(&m, seed + 1, side[0].tun, &side[1].out) < 0)
		return 1;
	int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	printf("ready\n");
	fflush(stdout);
	run(side, tfd);
	return 0;
}
