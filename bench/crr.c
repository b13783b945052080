/* bench/crr: connect / request / response / close rate, one core.
 *
 * Each connection is a connect, a 1-byte request, a 1-byte response and a
 * graceful close started by the client (so the client side ends in
 * TIME-WAIT, as an HTTP/1.1 client closing its connection would).
 *
 *  - synack: two stacks on the in-memory link, driven from this one thread
 *    by bench/synack_crr.h (shared with bench/lwip.c, which puts the same
 *    job beside lwIP). TIME-WAIT piles up just as the kernel's does.
 *  - baseline: the Linux kernel over loopback, a forked server process and
 *    this process as the client, both pinned to the same CPU. The server
 *    sets SO_REUSEADDR; the client uses ephemeral ports and closes
 *    gracefully (no SO_LINGER 0), so the kernel keeps TIME-WAIT sockets too.
 *
 * Both figures are N connections divided by the wall-clock time
 * (CLOCK_MONOTONIC) for them, after a short warm-up. Env: BENCH_QUICK=1 for
 * fewer connections, BENCH_CRR_N to choose N.
 *
 * crr_1m: synack's job again with BENCH_CRR_IDLE (1,000,000; 100,000 with
 * BENCH_QUICK=1) idle established connections open on both stacks beside
 * it, against the same with 1,000: the ratio shows whether anything the
 * job does per segment grows with the connections a stack holds. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
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
#include "synack_crr.h"

/* ---- kernel baseline ---- */

static void kernel_serve_one(int fd)
{
	char b;
	if (read(fd, &b, 1) == 1 && write(fd, &b, 1) == 1)
		while (read(fd, &b, 1) > 0)
			;
	close(fd);
}

static void kernel_server(int lfd)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	for (;;) {
		int fd = accept(lfd, NULL, NULL);
		if (fd >= 0)
			kernel_serve_one(fd);
		else if (errno != EINTR && errno != ECONNABORTED)
			_exit(1);
	}
}

static int kernel_one(const struct sockaddr_in *sa)
{
	char b = 'q';
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int rc = 0;
	if (connect(fd, (const struct sockaddr *)sa, sizeof *sa) < 0 || write(fd, &b, 1) != 1 ||
	    read(fd, &b, 1) != 1)
		rc = errno ? -errno : -EIO;
	close(fd);
	return rc;
}

static int kernel_run(const struct sockaddr_in *sa, long n, double *secs)
{
	for (long i = 0; i < CRR_WARMUP; i++)
		if (kernel_one(sa) < 0)
			return -1;
	double t0 = wall_sec();
	for (long i = 0; i < n; i++) {
		int rc = kernel_one(sa);
		if (rc < 0) {
			fprintf(stderr, "crr: kernel connection %ld: %s\n", i, strerror(-rc));
			return -1;
		}
	}
	*secs = wall_sec() - t0;
	return 0;
}

/* Connections per second for the kernel, or a negative value on failure. */
static double kernel_crr(long n)
{
	struct sockaddr_in sa;
	int lfd = kernel_listener(&sa, 1024, "crr");
	if (lfd < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0)
		kernel_server(lfd);
	close(lfd);
	if (pid < 0) {
		perror("crr: fork");
		return -1;
	}
	double secs = 0;
	int rc = kernel_run(&sa, n, &secs);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return rc < 0 ? -1 : n / secs;
}

/* synack_crr_idle in a child process, so that each run starts from the
 * same allocator state: a run after one that freed two million TCBs takes
 * its memory from glibc's free lists without a page fault, one before it
 * from fresh pages, and the ratio would measure that. */
static double isolated_crr(long n, long idle)
{
	int fd[2];
	double r = -1;
	if (pipe(fd) < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		close(fd[0]);
		r = synack_crr_idle("crr_1m", n, 1, idle);
		_exit(write(fd[1], &r, sizeof r) == sizeof r ? 0 : 1);
	}
	close(fd[1]);
	if (pid < 0 || read(fd[0], &r, sizeof r) != sizeof r)
		r = -1;
	close(fd[0]);
	if (pid > 0)
		waitpid(pid, NULL, 0);
	return r;
}

int main(void)
{
	long n = env_long("BENCH_CRR_N", env_long("BENCH_QUICK", 0) ? 5000 : 20000);
	int cpu = pin_here("crr");
	if (cpu < 0)
		return 1;
	long reps = env_long("BENCH_REPEAT", 3);
	fprintf(stderr, "# crr: N=%ld connections after %d warm-up, pinned to CPU %d, best of %ld\n", n,
		CRR_WARMUP, cpu, reps);
	double k = 0, s = 0;
	/* best of `reps` runs: load from other processes only slows */
	for (long r = reps; r > 0; r--) {
		k = best_of(k, kernel_crr(n));
		s = best_of(s, synack_crr("crr", n, 1));
	}
	print_figure("crr", s, k, 0, "conn/s");
	fflush(stdout);
	/* crr_1m: the same job with a million idle connections open on both
	 * stacks, beside the same run with a thousand (issue 12: every
	 * per-segment operation O(1)); best of two each, interleaved. */
	long idle = env_long("BENCH_CRR_IDLE", env_long("BENCH_QUICK", 0) ? 100000 : 1000000);
	double big = 0, few = 0;
	for (int r = 0; r < 2; r++) {
		few = best_of(few, isolated_crr(n, 1000));
		big = best_of(big, isolated_crr(n, idle));
	}
	fprintf(stderr, "# crr_1m: synack = with %ld idle connections, baseline = with 1000\n", idle);
	print_figure("crr_1m", big, few, 0, "conn/s");
	return s > 0 && k > 0 && big > 0 && few > 0 ? 0 : 1;
}
