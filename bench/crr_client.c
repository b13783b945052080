/* crr_client: the kernel side of the crr_threads benchmark (bench/crr_threads.sh).
 *
 *   crr_client HOST PORT SECONDS WORKERS
 *
 * WORKERS threads each run, for SECONDS: connect to HOST:PORT on a kernel
 * TCP socket, send a 1-byte request, read the 1-byte response, read the
 * server's FIN (end of stream), close. Prints one line on stdout:
 *
 *   conns=N errors=E seconds=S rate=R utime=U stime=S
 *
 * conns: exchanges completed (the byte came back, then the end of
 * stream); rate: conns per second of the run; utime, stime: the CPU time
 * of this process (every worker), in seconds (getrusage).
 *
 * TIME-WAIT: the server (`synack serve --rr`) closes first, so TIME-WAIT
 * stays on its side and this client closes a connection that is already
 * half-closed (LAST-ACK, then gone): its ports are free again at once,
 * with no SO_LINGER 0 (whose RST would make every exchange end in an
 * abort) and no sysctl. A 4-tuple the kernel reuses while synack still
 * holds it in TIME-WAIT is taken over by the new SYN (RFC 6191: Linux's
 * timestamps grow across connections between two addresses).
 *
 * Every socket has 2 s send and receive timeouts: a lost SYN or response
 * costs one error and 2 s of one worker, never a hang. Errors are counted
 * and the first one of each worker is printed on stderr. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { MAX_WORKERS = 256 };

struct job {
	struct sockaddr_in to;
	double end; /* CLOCK_MONOTONIC seconds */
	pthread_t th;
	uint64_t conns, errors;
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One exchange: 0, or the errno (EPROTO: a wrong reply). */
static int exchange(const struct sockaddr_in *to)
{
	static const struct timeval tmo = {.tv_sec = 2};
	int one = 1, err = 0;
	char c = 'x', r[2];
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof tmo);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tmo, sizeof tmo);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (connect(fd, (const struct sockaddr *)to, sizeof *to) < 0 || send(fd, &c, 1, MSG_NOSIGNAL) != 1)
		err = errno;
	else {
		ssize_t n = recv(fd, r, sizeof r, 0);
		if (n == 1 && r[0] == c)
			n = recv(fd, r, sizeof r, 0); /* the server's FIN */
		else if (n >= 0)
			n = -2;
		if (n != 0)
			err = n == -1 ? errno : EPROTO;
	}
	close(fd);
	return err;
}

static void *worker(void *arg)
{
	struct job *j = arg;
	while (now() < j->end) {
		int err = exchange(&j->to);
		if (!err) {
			j->conns++;
			continue;
		}
		if (j->errors++ == 0)
			fprintf(stderr, "crr_client: %s\n", strerror(err));
	}
	return NULL;
}

static double tv(struct timeval t)
{
	return (double)t.tv_sec + (double)t.tv_usec / 1e6;
}

int main(int argc, char **argv)
{
	struct sockaddr_in to = {.sin_family = AF_INET};
	if (argc != 5 || inet_pton(AF_INET, argv[1], &to.sin_addr) != 1) {
		fprintf(stderr, "usage: crr_client HOST PORT SECONDS WORKERS (HOST an IPv4 address)\n");
		return 2;
	}
	int port = atoi(argv[2]), workers = atoi(argv[4]);
	double secs = atof(argv[3]);
	if (port < 1 || port > 65535 || secs <= 0 || secs > 3600 || workers < 1 || workers > MAX_WORKERS) {
		fprintf(stderr, "crr_client: PORT 1-65535, SECONDS up to 3600, WORKERS 1-%d\n", MAX_WORKERS);
		return 2;
	}
	to.sin_port = htons((uint16_t)port);
	struct job *jobs = calloc((size_t)workers, sizeof *jobs);
	if (!jobs)
		return 1;
	double t0 = now();
	for (int i = 0; i < workers; i++) {
		jobs[i].to = to;
		jobs[i].end = t0 + secs;
		if (pthread_create(&jobs[i].th, NULL, worker, &jobs[i]) != 0) {
			fprintf(stderr, "crr_client: cannot start worker %d\n", i);
			return 1;
		}
	}
	uint64_t conns = 0, errors = 0;
	for (int i = 0; i < workers; i++) {
		pthread_join(jobs[i].th, NULL);
		conns += jobs[i].conns;
		errors += jobs[i].errors;
	}
	double t = now() - t0;
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("conns=%llu errors=%llu seconds=%.3f rate=%.0f utime=%.2f stime=%.2f\n",
	       (unsigned long long)conns, (unsigned long long)errors, t, (double)conns / t, tv(ru.ru_utime),
	       tv(ru.ru_stime));
	free(jobs);
	return 0;
}
