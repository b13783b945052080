/* bench/tcb_bytes: memory held per idle established connection.
 *
 * N connections (100,000; 10,000 with BENCH_QUICK=1; BENCH_TCB_N to choose)
 * are opened, accepted and left idle (no data). The figure is bytes per
 * connection endpoint: (client side + server side) / 2 / N, the same
 * definition on both sides, so it is also the cost of one accepted socket
 * when both ends cost the same.
 *
 *  - synack: two stacks on the in-memory link (synack_sim); the delta of
 *    synack_stack_memory() on each stack between "listeners open" and "N
 *    connections established, accepted and idle". This counts everything the
 *    stack allocates for them: TCBs, hash and timer tables (amortised growth
 *    included). Listeners: one per 12,500 connections; clients use
 *    ephemeral ports (explicit local ports if the stack runs out of them).
 *  - baseline: the Linux kernel over loopback, both ends in one process (or
 *    in worker processes, see below), every socket registered in an epoll
 *    instance as an event-driven program would do (synack's event state
 *    lives in its TCB). Clients bind to 127.0.0.2, 127.0.0.3 ... (20,000 per
 *    source address, port chosen at connect with IP_BIND_ADDRESS_NO_PORT).
 *    Kernel memory is the delta of the bytes of active slab objects summed
 *    over every cache of /proc/slabinfo (active_objs * objsize: TCP,
 *    sock_inode_cache, filp, dentry, eventpoll_epi, kmalloc-* ...), which
 *    does not depend on how many free objects the caches already had; the
 *    delta of Slab in /proc/meminfo is printed beside it as a check. Caches
 *    of processes and procfs are left out (see unrelated_caches), and the
 *    kernel side runs twice (BENCH_TCB_ROUNDS) keeping the smaller figure,
 *    since other processes' allocations only add. Not counted: the
 *    preallocated established hash (sized at boot) and the process's fd
 *    table (8 bytes per descriptor). RLIMIT_NOFILE is raised to 2N + 100
 *    (needs CAP_SYS_RESOURCE); if that fails, the connections are spread
 *    over worker processes within the limit and the note says so. Sockets
 *    are closed with SO_LINGER 0 afterwards, so no TIME-WAIT is left behind
 *    to disturb later runs. */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "synack/sim.h"
#include "synack/tcp.h"

#define PER_ADDR 20000 /* kernel client sockets per 127.0.0.x source */
#define PER_PORT 12500 /* synack connections per listening port (< 16384 ephemeral ports) */
#define BATCH	 256
#define SRV_PORT 6000

/* ---- kernel memory ---- */

/* clang-format off */
static const char *const named_caches[] = {
	"TCP", "sock_inode_cache", "filp", "dentry", "eventpoll_epi", "eventpoll_pwq",
	"tcp_bind_bucket", "tcp_bind2_bucket", "request_sock_TCP", "skbuff_head_cache",
};
/* clang-format on */
#define NNAMED (sizeof named_caches / sizeof named_caches[0])

/* Caches of processes, address spaces and procfs: sockets never allocate
 * from them, other processes on the machine (and our page faults) do. */
/* clang-format off */
static const char *const unrelated_caches[] = {
	"task_struct", "mm_struct", "vm_area_struct", "anon_vma", "anon_vma_chain", "pid",
	"cred_jar", "signal_cache", "sighand_cache", "files_cache", "fs_cache", "proc_inode_cache",
};
/* clang-format on */

static int unrelated_cache(const char *name)
{
	for (size_t i = 0; i < sizeof unrelated_caches / sizeof unrelated_caches[0]; i++)
		if (strcmp(name, unrelated_caches[i]) == 0)
			return 1;
	return 0;
}

struct kmem {
	double slab_objs;     /* bytes of active objects, all caches */
	double named[NNAMED]; /* the same, per named cache */
	double meminfo_slab;  /* Slab: from /proc/meminfo, bytes */
};

static void slab_line(struct kmem *m, const char *line)
{
	char name[128];
	unsigned long active, num, objsize;
	if (sscanf(line, "%127s %lu %lu %lu", name, &active, &num, &objsize) != 4 || unrelated_cache(name))
		return;
	double bytes = (double)active * objsize;
	m->slab_objs += bytes;
	for (size_t i = 0; i < NNAMED; i++)
		if (strcmp(name, named_caches[i]) == 0)
			m->named[i] += bytes;
}

static int kmem_read(struct kmem *m)
{
	char line[512];
	memset(m, 0, sizeof *m);
	FILE *f = fopen("/proc/slabinfo", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof line, f))
		if (line[0] != '#' && strncmp(line, "slabinfo", 8) != 0)
			slab_line(m, line);
	fclose(f);
	f = fopen("/proc/meminfo", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "Slab: %lf kB", &m->meminfo_slab) == 1)
			m->meminfo_slab *= 1024;
	fclose(f);
	return 0;
}

/* ---- kernel baseline ----
 * RLIMIT_NOFILE caps the descriptors of one process, so the connections
 * are spread over worker processes, each holding both ends of its share
 * (with its own listener and epoll instance). Workers are forked and idle
 * before the first measurement, so their own kernel memory is not counted. */

struct kside {
	int lfd, ep;
	int *cfd, *afd;
	long first, n, opened; /* global index of the first connection, count */
	struct sockaddr_in srv;
};

struct kworkers {
	pid_t *pid;
	int nworkers;
	int start[2], stop[2], ready[2]; /* pipes */
};

/* Connections one process can hold: both ends need a descriptor. */
static long kernel_per_process(long n)
{
	struct rlimit rl = {.rlim_cur = (rlim_t)(2 * n + 100), .rlim_max = (rlim_t)(2 * n + 100)};
	if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
		return n;
	int err = errno;
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	long per = ((long)rl.rlim_cur - 100) / 2;
	fprintf(stderr,
		"# tcb_bytes: could not raise RLIMIT_NOFILE to %ld (%s); kernel side spread "
		"over processes of %ld connections each\n",
		2 * n + 100, strerror(err), per);
	return per;
}

static int kernel_listen(struct kside *k)
{
	int one = 1;
	socklen_t len = sizeof k->srv;
	k->srv.sin_family = AF_INET;
	k->srv.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	k->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	k->ep = epoll_create1(EPOLL_CLOEXEC);
	if (k->lfd < 0 || k->ep < 0 || setsockopt(k->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
	    bind(k->lfd, (struct sockaddr *)&k->srv, sizeof k->srv) < 0 || listen(k->lfd, 1024) < 0 ||
	    getsockname(k->lfd, (struct sockaddr *)&k->srv, &len) < 0) {
		perror("tcb_bytes: kernel listener");
		return -1;
	}
	return 0;
}

/* A client socket bound to 127.0.0.(2 + i / PER_ADDR), port chosen at connect. */
static int kernel_client(long i)
{
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in src = {.sin_family = AF_INET};
	src.sin_addr.s_addr = htonl(INADDR_LOOPBACK + 1 + (uint32_t)(i / PER_ADDR));
	if (fd < 0)
		return -1;
	if (setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one) < 0 ||
	    bind(fd, (struct sockaddr *)&src, sizeof src) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int epoll_add(int ep, int fd)
{
	struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.fd = fd};
	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

/* Open, accept and register connection number k->opened. */
static int kernel_open_one(struct kside *k)
{
	long i = k->opened;
	int cfd = kernel_client(k->first + i);
	k->cfd[i] = cfd;
	k->afd[i] = -1;
	if (cfd < 0 || connect(cfd, (struct sockaddr *)&k->srv, sizeof k->srv) < 0)
		return -1;
	k->afd[i] = accept4(k->lfd, NULL, NULL, SOCK_CLOEXEC);
	if (k->afd[i] < 0)
		return -1;
	k->opened++;
	return epoll_add(k->ep, cfd) < 0 || epoll_add(k->ep, k->afd[i]) < 0 ? -1 : 0;
}

/* Close with SO_LINGER 0: RST, no TIME-WAIT left behind. */
static void kernel_close_all(struct kside *k)
{
	struct linger lg = {.l_onoff = 1, .l_linger = 0};
	long count = k->opened < k->n ? k->opened + 1 : k->opened;
	for (long i = 0; i < count; i++) {
		if (k->cfd[i] >= 0) {
			setsockopt(k->cfd[i], SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
			close(k->cfd[i]);
		}
		if (k->afd[i] >= 0)
			close(k->afd[i]);
	}
}

static void wait_eof(int fd)
{
	char c;
	while (read(fd, &c, 1) < 0 && errno == EINTR)
		;
}

/* Worker: wait for "start", open its share, report, wait for "stop". */
static void kernel_worker(struct kworkers *w, long first, long n)
{
	struct kside k = {.lfd = -1, .ep = -1, .first = first, .n = n};
	char status = 'e';
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	close(w->start[1]);
	close(w->stop[1]);
	close(w->ready[0]);
	k.cfd = calloc((size_t)n + 1, sizeof *k.cfd);
	k.afd = calloc((size_t)n + 1, sizeof *k.afd);
	if (k.cfd && k.afd && kernel_listen(&k) == 0) {
		wait_eof(w->start[0]);
		while (k.opened < k.n && kernel_open_one(&k) == 0)
			;
		if (k.opened == k.n)
			status = 'k';
		else
			fprintf(stderr, "tcb_bytes: kernel connection %ld: %s\n", first + k.opened,
				strerror(errno));
	}
	if (write(w->ready[1], &status, 1) != 1)
		_exit(1);
	wait_eof(w->stop[0]);
	kernel_close_all(&k);
	_exit(0);
}

static int kernel_spawn(struct kworkers *w, long n, long per)
{
	w->nworkers = (int)((n + per - 1) / per);
	w->pid = calloc((size_t)w->nworkers, sizeof *w->pid);
	if (!w->pid || pipe(w->start) < 0 || pipe(w->stop) < 0 || pipe(w->ready) < 0)
		return -1;
	for (int i = 0; i < w->nworkers; i++) {
		long first = i * per;
		w->pid[i] = fork();
		if (w->pid[i] == 0)
			kernel_worker(w, first, n - first < per ? n - first : per);
		if (w->pid[i] < 0)
			return -1;
	}
	close(w->start[0]);
	close(w->stop[0]);
	close(w->ready[1]);
	return 0;
}

/* Release the workers (close "start") and collect their status bytes. */
static int kernel_open(struct kworkers *w)
{
	int ok = 0;
	close(w->start[1]);
	w->start[1] = -1;
	for (int i = 0; i < w->nworkers; i++) {
		char c = 'e';
		if (read(w->ready[0], &c, 1) == 1 && c == 'k')
			ok++;
	}
	return ok == w->nworkers ? 0 : -1;
}

static void kernel_reap(struct kworkers *w)
{
	int *fds[] = {&w->start[1], &w->stop[1], &w->ready[0]};
	for (size_t i = 0; i < 3; i++)
		if (*fds[i] >= 0)
			close(*fds[i]);
	for (int i = 0; w->pid && i < w->nworkers; i++)
		if (w->pid[i] > 0)
			waitpid(w->pid[i], NULL, 0);
	free(w->pid);
}

static void kernel_note(const struct kmem *a, const struct kmem *b, long n, int nworkers)
{
	fprintf(stderr,
		"# tcb_bytes: kernel %ld connections in %d process(es); per endpoint: slab "
		"objects %.0f, meminfo Slab %.0f;",
		n, nworkers, (b->slab_objs - a->slab_objs) / (2.0 * n),
		(b->meminfo_slab - a->meminfo_slab) / (2.0 * n));
	for (size_t i = 0; i < NNAMED; i++)
		if (b->named[i] != a->named[i])
			fprintf(stderr, " %s %.0f", named_caches[i], (b->named[i] - a->named[i]) / (2.0 * n));
	fprintf(stderr, "\n");
}

/* Bytes per connection endpoint for the kernel, or a negative value. */
static double kernel_tcb(long n)
{
	struct kworkers w = {.start = {-1, -1}, .stop = {-1, -1}, .ready = {-1, -1}};
	struct kmem before, after;
	long per = kernel_per_process(n);
	if (per < 1 || kernel_spawn(&w, n, per) < 0) {
		perror("tcb_bytes: kernel workers");
		kernel_reap(&w);
		return -1;
	}
	usleep(100 * 1000);
	int rc = kmem_read(&before);
	if (rc == 0)
		rc = kernel_open(&w);
	usleep(100 * 1000);
	if (rc == 0)
		rc = kmem_read(&after);
	kernel_reap(&w);
	if (rc < 0) {
		fprintf(stderr, "tcb_bytes: kernel side failed\n");
		return -1;
	}
	kernel_note(&before, &after, n, w.nworkers);
	return (after.slab_objs - before.slab_objs) / (2.0 * n);
}

/* ---- synack ---- */

struct tcb {
	synack_sim sim;
	synack_tcp **lis;
	synack_tcp **cli, **srv;
	long n, nlis;
	long issued, connected, accepted;
	int explicit_ports;
	uint16_t next_port;
	int failed;
};

static int port_exhausted(int rc)
{
	return rc == -EADDRNOTAVAIL || rc == -EADDRINUSE || rc == -EAGAIN;
}

static void tcb_fail(struct tcb *b, const char *what, long rc)
{
	if (!b->failed)
		fprintf(stderr, "tcb_bytes: synack %s: %s (issued %ld, connected %ld, accepted %ld)\n", what,
			strerror((int)-rc), b->issued, b->connected, b->accepted);
	b->failed = 1;
}

/* Explicit local ports, used only if the stack runs out of ephemeral ones. */
static int connect_explicit(struct tcb *b, const synack_endpoint *remote, synack_tcp **out)
{
	synack_endpoint local = {.addr = synack_addr_ipv4(10, 0, 0, 1)};
	int rc = -EADDRINUSE;
	for (int tries = 0; tries < 1000 && port_exhausted(rc); tries++) {
		if (b->next_port < 1024)
			b->next_port = 1024;
		local.port = b->next_port++;
		rc = synack_tcp_connect(b->sim.stack[0], remote, &local, out);
	}
	return rc;
}

static void tcb_connect(struct tcb *b)
{
	long i = b->issued;
	synack_endpoint remote = {.addr = synack_addr_ipv4(10, 0, 0, 2)};
	remote.port = (uint16_t)(SRV_PORT + i / PER_PORT);
	if (i % PER_PORT == 0)
		b->next_port = 1024;
	int rc = -EADDRNOTAVAIL;
	if (!b->explicit_ports)
		rc = synack_tcp_connect(b->sim.stack[0], &remote, NULL, &b->cli[i]);
	if (port_exhausted(rc)) {
		if (!b->explicit_ports)
			fprintf(stderr,
				"# tcb_bytes: synack ephemeral ports exhausted after %ld connections "
				"(%s); explicit local ports from here on\n",
				i, strerror(-rc));
		b->explicit_ports = 1;
		rc = connect_explicit(b, &remote, &b->cli[i]);
	}
	if (rc < 0)
		tcb_fail(b, "connect", rc);
	else
		b->issued++;
}

static void tcb_events(struct tcb *b)
{
	synack_tcp *s;
	uint32_t ev;
	while ((s = synack_stack_next_event(b->sim.stack[0], &ev)) != NULL) {
		if (ev & SYNACK_EV_CONNECTED)
			b->connected++;
		if (ev & (SYNACK_EV_RESET | SYNACK_EV_ERROR))
			tcb_fail(b, "client event", synack_tcp_error(s));
	}
	while ((s = synack_stack_next_event(b->sim.stack[1], &ev)) != NULL) {
		synack_tcp *a;
		while (b->accepted < b->n && synack_tcp_accept(s, &a) == 0)
			b->srv[b->accepted++] = a;
		if (ev & (SYNACK_EV_RESET | SYNACK_EV_ERROR | SYNACK_EV_READABLE))
			tcb_fail(b, "server event", synack_tcp_error(s));
	}
}

/* Open one batch and run until every connection in it is accepted. */
static void tcb_batch(struct tcb *b)
{
	long end = b->issued + BATCH < b->n ? b->issued + BATCH : b->n;
	while (!b->failed && b->issued < end)
		tcb_connect(b);
	synack_time_t give_up = b->sim.now + SYNACK_SEC(30);
	while (!b->failed && (b->connected < b->issued || b->accepted < b->issued)) {
		if (b->sim.now > give_up)
			tcb_fail(b, "handshakes", -ETIMEDOUT);
		synack_sim_step(&b->sim, b->sim.now + SYNACK_SEC(1));
		tcb_events(b);
	}
}

static int tcb_setup(struct tcb *b, long n)
{
	synack_stack_config cfg[2];
	memset(b, 0, sizeof *b);
	b->n = n;
	b->nlis = (n + PER_PORT - 1) / PER_PORT;
	b->cli = calloc((size_t)n, sizeof *b->cli);
	b->srv = calloc((size_t)n, sizeof *b->srv);
	b->lis = calloc((size_t)b->nlis, sizeof *b->lis);
	for (int i = 0; i < 2; i++) {
		synack_stack_config_init(&cfg[i]);
		cfg[i].addr = synack_addr_ipv4(10, 0, 0, (uint8_t)(i + 1));
		cfg[i].prefix_len = 24;
		cfg[i].tcp.max_connections = (uint32_t)(n + b->nlis + 16);
	}
	int rc =
	    !b->cli || !b->srv || !b->lis ? -ENOMEM : synack_sim_init(&b->sim, 1, NULL, &cfg[0], &cfg[1]);
	if (rc < 0) {
		fprintf(stderr, "tcb_bytes: synack_sim_init: %s\n", strerror(-rc));
		return -1;
	}
	for (long i = 0; i < b->nlis && rc == 0; i++) {
		synack_endpoint ep = {.addr = synack_addr_ipv4(10, 0, 0, 2),
				      .port = (uint16_t)(SRV_PORT + i)};
		rc = synack_tcp_listen(b->sim.stack[1], &ep, 1024, &b->lis[i]);
	}
	if (rc < 0)
		tcb_fail(b, "listen", rc);
	return rc < 0 ? -1 : 0;
}

static void tcb_free(struct tcb *b)
{
	synack_sim_destroy(&b->sim);
	free(b->cli);
	free(b->srv);
	free(b->lis);
}

static void tcb_note(struct tcb *b, const size_t before[2], const size_t after[2], double secs)
{
	fprintf(stderr,
		"# tcb_bytes: synack %ld connections in %.2f s; per connection: client %.0f, "
		"server %.0f bytes; TCBs %zu + %zu\n",
		b->n, secs, (double)(after[0] - before[0]) / b->n, (double)(after[1] - before[1]) / b->n,
		synack_stack_tcb_count(b->sim.stack[0]), synack_stack_tcb_count(b->sim.stack[1]));
}

/* Bytes per connection endpoint for synack, or a negative value. */
static double synack_tcb(long n)
{
	static struct tcb b;
	size_t before[2], after[2];
	if (tcb_setup(&b, n) < 0) {
		tcb_free(&b);
		return -1;
	}
	for (int i = 0; i < 2; i++)
		synack_stack_memory(b.sim.stack[i], &before[i], NULL);
	double t0 = wall_sec();
	while (!b.failed && b.accepted < n)
		tcb_batch(&b);
	/* let any pending timer (delayed ACK ...) run: the connections are
	 * idle, and give their extensions back after a second of it */
	synack_sim_run_until(&b.sim, b.sim.now + SYNACK_SEC(2));
	tcb_events(&b);
	for (int i = 0; i < 2; i++)
		synack_stack_memory(b.sim.stack[i], &after[i], NULL);
	if (!b.failed)
		tcb_note(&b, before, after, wall_sec() - t0);
	double per = ((double)(after[0] - before[0]) + (double)(after[1] - before[1])) / (2.0 * n);
	tcb_free(&b);
	return b.failed ? -1 : per;
}

int main(void)
{
	long n = env_long("BENCH_TCB_N", env_long("BENCH_QUICK", 0) ? 10000 : 100000);
	fprintf(stderr, "# tcb_bytes: N=%ld idle connections; figure = (client + server bytes) / 2 / N\n", n);
	double k = -1;
	/* noise from other processes only adds: keep the smallest round */
	for (long r = env_long("BENCH_TCB_ROUNDS", 2); r > 0; r--) {
		double v = kernel_tcb(n);
		if (v > 0 && (k < 0 || v < k))
			k = v;
	}
	double s = synack_tcb(n);
	print_figure("tcb_bytes", s, k, 0, "bytes/conn");
	fflush(stdout);
	return s > 0 && k > 0 ? 0 : 1;
}
