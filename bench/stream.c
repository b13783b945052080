/* bench/stream: single-connection bulk throughput, one core.
 *
 * 1 GiB (64 MiB with BENCH_QUICK=1, or BENCH_STREAM_MB megabytes) is sent
 * over one connection and counted at the receiver. MB/s means 10^6 bytes
 * per second of wall-clock time (CLOCK_MONOTONIC), from the first send to
 * the moment the receiver has every byte.
 *
 *  - synack: two stacks on the in-memory link (synack_sim, perfect link, no
 *    delay), sender and receiver driven from this one thread. Virtual time
 *    follows the wall clock, so a stall on a timer (delayed ACK, RTO) costs
 *    real time as it would on a real link. Send and receive buffers:
 *    BENCH_STREAM_BUF bytes (default 4 MiB); link MTU 65535, the largest
 *    IPv4 packet, as the kernel's loopback (BENCH_STREAM_MTU to change it:
 *    1500 for an Ethernet-sized one). The MTU is on the note line.
 *  - baseline: the Linux kernel over loopback (MTU 65536, GSO/GRO), our
 *    own sender (this process) and receiver (a forked child), both pinned
 *    to the same CPU so that, like synack, both ends share one core. Socket
 *    buffers are left to the kernel's autotuning. */
#include <errno.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "synack/sim.h"
#include "synack/tcp.h"

#define CHUNK	 (256 * 1024)
#define SRV_PORT 5001

static uint8_t txbuf[CHUNK], rxbuf[CHUNK];

/* ---- kernel baseline ---- */

static void kernel_receiver(int lfd)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	int fd = accept(lfd, NULL, NULL);
	if (fd < 0)
		_exit(1);
	uint64_t got = 0;
	ssize_t n;
	while ((n = read(fd, rxbuf, sizeof rxbuf)) > 0)
		got += (uint64_t)n;
	/* tell the sender how much arrived: it stops its clock on this */
	if (write(fd, &got, sizeof got) != sizeof got)
		_exit(1);
	close(fd);
	_exit(0);
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Send `total` bytes; returns the seconds until the receiver had them all. */
static double kernel_send(const struct sockaddr_in *sa, uint64_t total)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (const struct sockaddr *)sa, sizeof *sa) < 0) {
		perror("stream: kernel connect");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	double t0 = wall_sec();
	uint64_t got = 0;
	for (uint64_t sent = 0; sent < total; sent += CHUNK)
		if (write_all(fd, txbuf, total - sent < CHUNK ? total - sent : CHUNK) < 0)
			break;
	shutdown(fd, SHUT_WR);
	ssize_t n = read(fd, &got, sizeof got);
	double secs = wall_sec() - t0;
	close(fd);
	if (n != sizeof got || got != total) {
		fprintf(stderr, "stream: kernel receiver got %llu of %llu bytes\n", (unsigned long long)got,
			(unsigned long long)total);
		return -1;
	}
	return secs;
}

/* MB/s for the kernel, or a negative value on failure. */
static double kernel_stream(uint64_t total)
{
	struct sockaddr_in sa;
	int lfd = kernel_listener(&sa, 8, "stream");
	if (lfd < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0)
		kernel_receiver(lfd);
	close(lfd);
	if (pid < 0) {
		perror("stream: fork");
		return -1;
	}
	double secs = kernel_send(&sa, total);
	if (secs < 0)
		kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return secs > 0 ? total / secs / 1e6 : -1;
}

/* ---- synack ---- */

struct stream {
	synack_sim sim;
	synack_tcp *lis, *cli, *srv;
	double t0; /* wall clock origin of virtual time */
	uint64_t total, sent, got;
	int failed;
};

static synack_time_t stream_clock(const struct stream *b)
{
	return (synack_time_t)((wall_sec() - b->t0) * 1e6);
}

static void stream_fail(struct stream *b, const char *what, long rc)
{
	if (!b->failed)
		fprintf(stderr, "stream: synack %s: %s (sent %llu, received %llu)\n", what,
			strerror((int)-rc), (unsigned long long)b->sent, (unsigned long long)b->got);
	b->failed = 1;
}

/* Drain the event queues; accept the server side; note errors. */
static void stream_events(struct stream *b)
{
	synack_tcp *s;
	uint32_t ev;
	for (int i = 0; i < 2; i++)
		while ((s = synack_stack_next_event(b->sim.stack[i], &ev)) != NULL) {
			if (s == b->lis && !b->srv && synack_tcp_accept(b->lis, &b->srv) == 0)
				continue;
			if (ev & (SYNACK_EV_RESET | SYNACK_EV_ERROR))
				stream_fail(b, "event", synack_tcp_error(s));
		}
}

static void stream_fill(struct stream *b)
{
	while (b->sent < b->total) {
		uint64_t left = b->total - b->sent;
		ssize_t n = synack_tcp_send(b->cli, txbuf, left < CHUNK ? left : CHUNK);
		if (n == -EAGAIN || n == -ENOTCONN)
			return;
		if (n <= 0) {
			stream_fail(b, "send", n < 0 ? n : -EIO);
			return;
		}
		b->sent += (uint64_t)n;
	}
}

static void stream_drain(struct stream *b)
{
	ssize_t n;
	if (!b->srv)
		return;
	while ((n = synack_tcp_recv(b->srv, rxbuf, sizeof rxbuf)) > 0)
		b->got += (uint64_t)n;
	if (n != -EAGAIN && b->got < b->total)
		stream_fail(b, "recv", n < 0 ? n : -EPIPE);
}

static void stream_pump(struct stream *b)
{
	while (!b->failed && b->got < b->total) {
		stream_fill(b);
		synack_sim_step(&b->sim, stream_clock(b));
		stream_events(b);
		stream_drain(b);
	}
}

static int stream_setup(struct stream *b, uint64_t total)
{
	synack_stack_config cfg[2];
	uint32_t bufsz = (uint32_t)env_long("BENCH_STREAM_BUF", 4 << 20);
	long mtu = env_long("BENCH_STREAM_MTU", 65535);
	memset(b, 0, sizeof *b);
	b->total = total;
	for (int i = 0; i < 2; i++) {
		synack_stack_config_init(&cfg[i]);
		cfg[i].addr = synack_addr_ipv4(10, 0, 0, (uint8_t)(i + 1));
		cfg[i].prefix_len = 24;
		cfg[i].tcp.sndbuf = cfg[i].tcp.rcvbuf = bufsz;
		if (mtu > 0)
			cfg[i].mtu = (uint16_t)mtu;
	}
	b->t0 = wall_sec();
	int rc = synack_sim_init(&b->sim, 1, NULL, &cfg[0], &cfg[1]);
	if (rc < 0) {
		fprintf(stderr, "stream: synack_sim_init: %s\n", strerror(-rc));
		return -1;
	}
	synack_endpoint ep = {.addr = synack_addr_ipv4(10, 0, 0, 2), .port = SRV_PORT};
	rc = synack_tcp_listen(b->sim.stack[1], &ep, 8, &b->lis);
	if (rc == 0)
		rc = synack_tcp_connect(b->sim.stack[0], &ep, NULL, &b->cli);
	if (rc < 0) {
		fprintf(stderr, "stream: synack listen/connect: %s\n", strerror(-rc));
		synack_sim_destroy(&b->sim);
		return -1;
	}
	fprintf(stderr, "# stream: synack sndbuf=rcvbuf=%u mtu=%ld (kernel loopback: 65536)\n", bufsz,
		mtu > 0 ? mtu : 1500L);
	return 0;
}

/* Name every non-zero drop and error counter of both stacks. */
static void stream_counters(struct stream *b)
{
	for (int i = 0; i < 2; i++)
		for (int id = 0; id < SYNACK_COUNTER_COUNT; id++) {
			uint64_t v = synack_stack_counter(b->sim.stack[i], id);
			if (v && ((id > SYNACK_DROP_FIRST_ && id < SYNACK_DROP_LAST_) ||
				  id == SYNACK_CNT_TX_ERRORS || id == SYNACK_CNT_TCP_RETRANSMITS))
				fprintf(stderr, " stack%d.%s=%llu", i, synack_counter_name(id),
					(unsigned long long)v);
		}
}

static void stream_report(struct stream *b, double secs)
{
	synack_tcp_info info;
	if (synack_tcp_get_info(b->cli, &info) < 0)
		return;
	fprintf(stderr, "# stream: synack %.3f s, mss=%u cwnd=%u", secs, info.mss, info.cwnd);
	stream_counters(b);
	fprintf(stderr, "\n");
}

/* MB/s for synack, or a negative value on failure. */
static double synack_stream(uint64_t total)
{
	static struct stream b;
	if (stream_setup(&b, total) < 0)
		return -1;
	double t0 = wall_sec();
	stream_pump(&b);
	double secs = wall_sec() - t0;
	if (!b.failed)
		stream_report(&b, secs);
	synack_tcp_close(b.cli);
	if (b.srv)
		synack_tcp_close(b.srv);
	synack_tcp_close(b.lis);
	synack_sim_destroy(&b.sim);
	return b.failed ? -1 : total / secs / 1e6;
}

int main(void)
{
	long mb = env_long("BENCH_STREAM_MB", env_long("BENCH_QUICK", 0) ? 64 : 1024);
	uint64_t total = (uint64_t)mb << 20;
	int cpu = pin_here("stream");
	if (cpu < 0)
		return 1;
	for (size_t i = 0; i < sizeof txbuf; i++)
		txbuf[i] = (uint8_t)(i * 7 + 1);
	long reps = env_long("BENCH_REPEAT", 3);
	fprintf(stderr, "# stream: %ld MiB, both ends pinned to CPU %d, best of %ld\n", mb, cpu, reps);
	double k = 0, s = 0;
	/* best of `reps` runs: load from other processes only slows */
	for (long r = reps; r > 0; r--) {
		k = best_of(k, kernel_stream(total));
		s = best_of(s, synack_stream(total));
	}
	print_figure("stream", s, k, 1, "MB/s");
	fflush(stdout);
	return s > 0 && k > 0 ? 0 : 1;
}
