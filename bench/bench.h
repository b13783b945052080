/* Helpers shared by the benchmarks in bench/: wall clock, environment
 * knobs, CPU pinning and the figure line
 *   NAME synack=X baseline=Y ratio=X/Y UNIT
 * that scripts/run-bench.sh collects. Benchmarks are programs, not core
 * code: they may read the clock. */
#ifndef SYNACK_BENCH_H
#define SYNACK_BENCH_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sched.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static inline double wall_sec(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static inline long env_long(const char *name, long def)
{
	const char *v = getenv(name);
	return v && *v ? strtol(v, NULL, 10) : def;
}

/* Pin this process (and children forked later) to the CPU it runs on;
 * returns the CPU or -1. */
static inline int pin_here(const char *who)
{
	int cpu = sched_getcpu();
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu < 0 ? 0 : cpu, &set);
	if (sched_setaffinity(0, sizeof set, &set) < 0) {
		fprintf(stderr, "%s: sched_setaffinity: %m\n", who);
		return -1;
	}
	return cpu;
}

/* A kernel TCP listener on 127.0.0.1 and an ephemeral port, written to
 * *sa; -1 on error (printed with `who`). */
static inline int kernel_listener(struct sockaddr_in *sa, int backlog, const char *who)
{
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	socklen_t len = sizeof *sa;
	memset(sa, 0, sizeof *sa);
	sa->sin_family = AF_INET;
	sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
	    bind(fd, (struct sockaddr *)sa, sizeof *sa) < 0 || listen(fd, backlog) < 0 ||
	    getsockname(fd, (struct sockaddr *)sa, &len) < 0) {
		fprintf(stderr, "%s: kernel listener: %m\n", who);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* The better of two runs (larger), -1 if either failed. */
static inline double best_of(double a, double b)
{
	return a < 0 || b < 0 ? -1 : a > b ? a : b;
}

static inline const char *fmt_figure(char *buf, size_t len, double v, int decimals)
{
	if (v > 0)
		snprintf(buf, len, "%.*f", decimals, v);
	else
		snprintf(buf, len, "error");
	return buf;
}

static inline void print_figure(const char *name, double s, double k, int decimals, const char *unit)
{
	char sb[32], kb[32];
	printf("%s synack=%s baseline=%s", name, fmt_figure(sb, sizeof sb, s, decimals),
	       fmt_figure(kb, sizeof kb, k, decimals));
	if (s > 0 && k > 0)
		printf(" ratio=%.2f %s\n", s / k, unit);
	else
		printf(" ratio=- %s\n", unit);
}

#endif
