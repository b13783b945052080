/* bench/stream: single-connection bulk throughput, one core.
 *
 * 1 GiB (64 MiB with BENCH_QUICK=1, or BENCH_STREAM_MB megabytes) is sent
 * over one connection and counted at the receiver. MB/s means 10^6 bytes
 * per second of wall-clock time (CLOCK_MONOTONIC), from the first send to
 * the moment the receiver has every byte.
 *
 *  - synack: two stacks on the in-memory link, sender and receiver driven
 *    from this one thread by bench/synack_stream.h (shared with
 *    bench/lwip.c, which puts the same job beside lwIP). Send and receive buffers:
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
#include "synack_stream.h"

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
	for (uint64_t sent = 0; sent < total; sent += STREAM_CHUNK)
		if (write_all(fd, txbuf, total - sent < STREAM_CHUNK ? total - sent : STREAM_CHUNK) < 0)
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

int main(void)
{
	long mb = env_long("BENCH_STREAM_MB", env_long("BENCH_QUICK", 0) ? 64 : 1024);
	uint64_t total = (uint64_t)mb << 20;
	int cpu = pin_here("stream");
	if (cpu < 0)
		return 1;
	for (size_t i = 0; i < sizeof txbuf; i++)
		txbuf[i] = (uint8_t)(i * 7 + 1);
	struct stream_opts o = {
	    .tag = "stream",
	    .buf = (uint32_t)env_long("BENCH_STREAM_BUF", 4 << 20),
	    .autotune = 1,
	    .mtu = env_long("BENCH_STREAM_MTU", 65535),
	    .offload = (int)env_long("BENCH_STREAM_OFFLOAD", 1),
	    .note = " (kernel loopback: mtu 65536, checksums offloaded)",
	};
	long reps = env_long("BENCH_REPEAT", 3);
	fprintf(stderr, "# stream: %ld MiB, both ends pinned to CPU %d, best of %ld\n", mb, cpu, reps);
	double k = 0, s = 0;
	/* best of `reps` runs: load from other processes only slows */
	for (long r = reps; r > 0; r--) {
		k = best_of(k, kernel_stream(total));
		s = best_of(s, synack_stream(&o, total));
	}
	print_figure("stream", s, k, 1, "MB/s");
	fflush(stdout);
	return s > 0 && k > 0 ? 0 : 1;
}
