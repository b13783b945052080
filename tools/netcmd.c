/* Link options, device, stack and loop set-up shared by serve, connect and
 * ping (tools/netcmd.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ladder.h"
#include "netcmd.h"

volatile sig_atomic_t net_stop;

/* A pipe the signal handler writes a byte to, whose read end every event
 * loop watches (env_setup): a signal that lands after a loop looked at
 * net_stop and before it blocked in epoll_wait still wakes it. Without
 * it, a server with no timer left slept on with net_stop set (interop
 * test: SIGTERM lost, killed by timeout 200 s later). Never drained: once
 * stopping, every wait returns at once. */
static int sig_pipe[2] = {-1, -1};
enum { TAG_SIGNAL = -1000 }; /* (callers ignore tags they did not watch) */

/* Atomic, and errno kept: serve --threads reads net_stop from its workers
 * while the main thread takes the signal (ThreadSanitizer checks both). */
static void on_signal(int sig)
{
	int saved = errno;
	(void)sig;
	net_stop_all();
	if (sig_pipe[1] >= 0) {
		ssize_t r = write(sig_pipe[1], "", 1); /* async-signal-safe */
		(void)r;
	}
	errno = saved;
}

void net_catch_signals(void)
{
	if (sig_pipe[0] < 0 && pipe2(sig_pipe, O_NONBLOCK | O_CLOEXEC) < 0)
		sig_pipe[0] = sig_pipe[1] = -1; /* then only the bounded waits see net_stop */
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal; /* no SA_RESTART: epoll_wait returns EINTR */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL); /* a closed terminal: clean up too */
	signal(SIGPIPE, SIG_IGN);
}

static int set_dev(const char *cmd, struct net_opts *o, int kind, const char *val)
{
	if (o->dev)
		return cli_error(cmd, "give one device (--tun or --tap), not two"), CLI_BAD;
	if (!val[0] || strlen(val) > 15)
		return cli_error(cmd, "bad device name '%s' (1 to 15 characters)", val), CLI_BAD;
	o->dev = val;
	o->kind = kind;
	return 1;
}

/* ---- which addresses make sense ---- */

/* Why an IPv4 address can be nobody's interface address, or NULL
 * (RFC 1122 §3.2.1.3; RFC 6890's special-purpose registry). */
static const char *special4(const uint8_t *b)
{
	if (b[0] == 0)
		return "a \"this network\" address (0.0.0.0/8)";
	if (b[0] == 127)
		return "a loopback address (127.0.0.0/8)";
	if (b[0] >= 224 && b[0] < 240)
		return "a multicast address";
	if (b[0] == 255 && b[1] == 255 && b[2] == 255 && b[3] == 255)
		return "the limited broadcast address";
	if (b[0] >= 240)
		return "a reserved address (240.0.0.0/4)";
	return NULL;
}

/* The same for IPv6 (RFC 4291 §2.5.2, §2.5.3, §2.7). */
static const char *special6(const uint8_t *b)
{
	static const uint8_t zero[15];
	if (b[0] == 0xff)
		return "a multicast address";
	if (memcmp(b, zero, 15) == 0 && b[15] == 0)
		return "the unspecified address (::)";
	if (memcmp(b, zero, 15) == 0 && b[15] == 1)
		return "the loopback address (::1)";
	return NULL;
}

static const char *special(const synack_addr *a)
{
	return a->family == SYNACK_AF_INET ? special4(a->bytes) : special6(a->bytes);
}

static bool same_prefix(const synack_addr *a, const synack_addr *b, unsigned plen)
{
	if (a->family != b->family)
		return false;
	unsigned full = plen / 8, rest = plen % 8;
	if (memcmp(a->bytes, b->bytes, full) != 0)
		return false;
	uint8_t mask = (uint8_t)(0xff00 >> rest);
	return rest == 0 || (a->bytes[full] & mask) == (b->bytes[full] & mask);
}

/* Is a, on the IPv4 prefix net/plen, that subnet's broadcast address (host
 * bits all ones) or its network address (all zeros)? Prefixes of 31 and 32
 * bits have neither (RFC 3021). The phrase, or NULL. */
static const char *subnet_role(const synack_addr *a, const synack_addr *net, unsigned plen)
{
	if (a->family != SYNACK_AF_INET || plen > 30 || !same_prefix(a, net, plen))
		return NULL;
	uint32_t v = (uint32_t)a->bytes[0] << 24 | (uint32_t)a->bytes[1] << 16 | (uint32_t)a->bytes[2] << 8 |
		     a->bytes[3];
	uint32_t host = plen ? ~(UINT32_MAX << (32 - plen)) : UINT32_MAX;
	if ((v & host) == host)
		return "the subnet's broadcast address";
	if ((v & host) == 0)
		return "the subnet's network address";
	return NULL;
}

/* "--addr"/"--host-addr": ADDR/PREFIX, an address an interface can have. */
static int check_own(const char *cmd, const char *opt, const char *val, const synack_addr *a, uint8_t plen)
{
	const char *why = special(a);
	if (!strchr(val, '/'))
		return cli_error(cmd, "bad address: --%s '%s' needs a /PREFIX (10.1.0.2/24, fd00::2/64)", opt,
				 val),
		       CLI_BAD;
	if (!why)
		why = subnet_role(a, a, plen);
	if (why)
		return cli_error(cmd, "bad address: --%s %s is %s; want a unicast host address", opt, val,
				 why),
		       CLI_BAD;
	return 0;
}

static int add_prefix(const char *cmd, const char *opt, const char **list, int *n, const char *val)
{
	synack_addr a;
	uint8_t plen;
	if (synack_prefix_parse(val, &a, &plen) < 0)
		return cli_error(cmd, "bad address: --%s '%s' (want ADDR/PREFIX, IPv4 or IPv6)", opt, val),
		       CLI_BAD;
	if (strcmp(opt, "gateway") != 0 && check_own(cmd, opt, val, &a, plen) < 0)
		return CLI_BAD;
	for (int i = 0; i < *n; i++) {
		synack_addr b;
		synack_prefix_parse(list[i], &b, &plen);
		if (b.family == a.family)
			return cli_error(cmd, "bad address: --%s given twice for one family", opt), CLI_BAD;
	}
	list[(*n)++] = val;
	return 1;
}

/* ---- impairments ---- */

/* A probability: below 1 a fraction, 1 and above (or with '%') a
 * percentage, as `synack demo --loss` reads it. */
static int parse_prob(const char *cmd, const char *opt, const char *text, double *out)
{
	char buf[64];
	size_t n = strlen(text);
	bool pct = n > 0 && text[n - 1] == '%';
	if (n >= sizeof buf)
		return cli_error(cmd, "--%s: '%.20s...' is not a decimal number", opt, text), CLI_BAD;
	memcpy(buf, text, n + 1);
	if (pct)
		buf[n - 1] = '\0';
	if (cli_parse_double(cmd, opt, buf, 0, 100, out) < 0)
		return CLI_BAD;
	if (pct || *out >= 1)
		*out /= 100;
	return 1;
}

/* Milliseconds (decimal) to microseconds, at most a minute. */
static int parse_ms(const char *cmd, const char *opt, const char *text, synack_time_t *out)
{
	double ms;
	if (cli_parse_double(cmd, opt, text, 0, 60000, &ms) < 0)
		return CLI_BAD;
	*out = (synack_time_t)(ms * 1000 + 0.5);
	return 1;
}

static int parse_rate(const char *cmd, const char *text, uint64_t *bps)
{
	double mbit;
	if (cli_parse_double(cmd, "rate", text, 0.001, 1000000, &mbit) < 0)
		return CLI_BAD;
	*bps = (uint64_t)(mbit * 1e6 + 0.5);
	return 1;
}

/* "P_GB,P_BG[,P_BAD]". */
static int parse_burst(const char *cmd, const char *text, synack_impair *im)
{
	char buf[96], *part[3] = {NULL, NULL, NULL};
	const char *c1 = strchr(text, ','), *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
	if (strlen(text) >= sizeof buf || !c1 || (c2 && strchr(c2 + 1, ',')))
		return cli_error(cmd, "--burst-loss: '%s' is not P_GB,P_BG[,P_BAD] (e.g. 1%%,25%%)", text),
		       CLI_BAD;
	strcpy(buf, text);
	part[0] = buf;
	part[1] = buf + (c1 - text) + 1;
	buf[c1 - text] = '\0';
	if (c2) {
		part[2] = buf + (c2 - text) + 1;
		buf[c2 - text] = '\0';
	}
	im->loss_in_bad = 1.0;
	if (parse_prob(cmd, "burst-loss", part[0], &im->p_good_to_bad) < 0 ||
	    parse_prob(cmd, "burst-loss", part[1], &im->p_bad_to_good) < 0 ||
	    (part[2] && parse_prob(cmd, "burst-loss", part[2], &im->loss_in_bad) < 0))
		return CLI_BAD;
	if (im->p_good_to_bad > 0 && im->p_bad_to_good <= 0)
		return cli_error(cmd, "--burst-loss: P_BG must be above 0, or the bad state never ends"),
		       CLI_BAD;
	return 1;
}

static int impair_opt(const char *cmd, struct net_opts *o, int id, const char *val)
{
	uint64_t v;
	synack_impair *im = &o->imp;
	o->impair_given = true;
	switch (id) {
	case NOPT_LOSS:
		return parse_prob(cmd, "loss", val, &im->loss);
	case NOPT_BURST_LOSS:
		return parse_burst(cmd, val, im);
	case NOPT_REORDER:
		return parse_prob(cmd, "reorder", val, &im->reorder);
	case NOPT_REORDER_DELAY:
		return parse_ms(cmd, "reorder-delay", val, &im->reorder_delay);
	case NOPT_DUPLICATE:
		return parse_prob(cmd, "duplicate", val, &im->duplicate);
	case NOPT_CORRUPT:
		return parse_prob(cmd, "corrupt", val, &im->corrupt);
	case NOPT_DELAY:
		return parse_ms(cmd, "delay", val, &im->delay);
	case NOPT_JITTER:
		return parse_ms(cmd, "jitter", val, &im->jitter);
	case NOPT_RATE:
		return parse_rate(cmd, val, &im->rate_bps);
	case NOPT_QUEUE:
		if (cli_parse_u64(cmd, "queue", val, 1, 1000000, &v) < 0)
			return CLI_BAD;
		im->queue_limit = (uint32_t)v;
		return 1;
	case NOPT_IMPAIR_SEED:
		if (cli_parse_u64(cmd, "impair-seed", val, 0, UINT64_MAX, &o->impair_seed) < 0)
			return CLI_BAD;
		o->impair_seed_set = true;
		return 1;
	default:
		return 0;
	}
}

int net_opt(const char *cmd, struct net_opts *o, int id, const char *val)
{
	if (id >= NOPT_LOSS && id <= NOPT_IMPAIR_SEED)
		return impair_opt(cmd, o, id, val);
	uint64_t v;
	switch (id) {
	case NOPT_TUN:
		return set_dev(cmd, o, SYNACK_TUN, val);
	case NOPT_TAP:
		return set_dev(cmd, o, SYNACK_TAP, val);
	case NOPT_ADDR:
		return add_prefix(cmd, "addr", o->addr, &o->naddr, val);
	case NOPT_HOST_ADDR:
		return add_prefix(cmd, "host-addr", o->host_addr, &o->nhost, val);
	case NOPT_GATEWAY:
		return add_prefix(cmd, "gateway", o->gateway, &o->ngw, val);
	case NOPT_MTU:
		if (cli_parse_u64(cmd, "mtu", val, 576, 65535, &v) < 0)
			return CLI_BAD;
		o->mtu = (uint16_t)v;
		return 1;
	case NOPT_VERBOSE:
		o->verbose = true;
		return 1;
	case NOPT_COUNTERS:
		o->counters = true;
		return 1;
	case NOPT_NO_OFFLOAD:
		o->no_offload = true;
		return 1;
	default:
		return 0;
	}
}

int net_check_kernel_impair(const char *cmd, const struct net_opts *o)
{
	if (!o->impair_given)
		return 0;
	return cli_error(cmd, "--kernel uses the OS's TCP sockets: the impairment options (--loss, --delay "
			      "...) apply to synack's own link; leave them out"),
	       CLI_BAD;
}

static bool same_addr(const char *p, const char *q)
{
	synack_addr a, b;
	uint8_t plen;
	return synack_prefix_parse(p, &a, &plen) == 0 && synack_prefix_parse(q, &b, &plen) == 0 &&
	       synack_addr_equal(&a, &b);
}

/* synack's address may not be the kernel's too, whatever the prefixes. */
static int check_distinct(const char *cmd, const struct net_opts *o)
{
	for (int i = 0; i < o->naddr; i++)
		for (int j = 0; j < o->nhost; j++)
			if (same_addr(o->addr[i], o->host_addr[j]))
				return cli_error(cmd, "address in use: --addr %s is also --host-addr %s",
						 o->addr[i], o->host_addr[j]),
				       CLI_BAD;
	return 0;
}

int net_opts_check(const char *cmd, const struct net_opts *o)
{
	if (!o->dev)
		return cli_error(cmd, "missing --tun DEV or --tap DEV"), CLI_BAD;
	if (!o->naddr)
		return cli_error(cmd, "missing --addr ADDR/PREFIX (synack's own address)"), CLI_BAD;
	return check_distinct(cmd, o);
}

/* What dst is to synack's --addr a/plen, if it cannot be a peer: a's own
 * address, or its IPv4 subnet's broadcast or network address. */
static const char *own_role(const synack_addr *dst, const char *addr_text)
{
	synack_addr a;
	uint8_t plen;
	synack_prefix_parse(addr_text, &a, &plen);
	if (synack_addr_equal(dst, &a))
		return "synack's own address";
	return subnet_role(dst, &a, plen);
}

int net_check_dest(const char *cmd, const struct net_opts *o, const synack_addr *dst)
{
	char text[64], mine[80] = "";
	const char *why = special(dst);
	for (int i = 0; !why && i < o->naddr; i++)
		if ((why = own_role(dst, o->addr[i])))
			snprintf(mine, sizeof mine, " (--addr %s)", o->addr[i]);
	if (!why)
		return 0;
	cli_error(cmd, "bad address: HOST %s is %s%s; give the unicast address of another host",
		  synack_addr_format(dst, text, sizeof text), why, mine);
	return CLI_BAD;
}

int net_next(struct cli_args *a, const struct cli_opt *opts, const char **val)
{
	if (a->i < a->argc) {
		const char *w = a->argv[a->i];
		if (w[0] != '-' || w[1] == '\0') {
			a->i++;
			*val = w;
			return NET_POSITIONAL;
		}
		if (strcmp(w, "-v") == 0)
			a->argv[a->i] = (char *)"--verbose";
	}
	return cli_next(a, opts, val);
}

void net_short_opts(int argc, char **argv, const char *const (*pairs)[2])
{
	for (int i = 1; i < argc; i++)
		for (const char *const(*p)[2] = pairs; (*p)[0]; p++)
			if (strcmp(argv[i], (*p)[0]) == 0)
				argv[i] = (char *)(*p)[1];
}

int net_parse_host(const char *cmd, const char *what, const char *text, synack_addr *out)
{
	if (synack_addr_parse(text, out) < 0) {
		cli_error(cmd, "bad address: %s '%s' (an IPv4 or IPv6 address; no names)", what, text);
		return CLI_BAD;
	}
	return 0;
}

const char *net_err_phrase(int err)
{
	switch (err) {
	case -ECONNREFUSED:
		return "connection refused";
	case -ETIMEDOUT:
		return "timeout";
	case -EHOSTUNREACH:
	case -ENETUNREACH:
		return "host unreachable";
	case -ECONNRESET:
		return "connection reset by peer";
	case -ECONNABORTED:
		return "connection aborted";
	case -EADDRINUSE:
		return "address in use";
	case -EADDRNOTAVAIL:
		return "no local address of that family (see --addr)";
	default:
		return strerror(-err);
	}
}

/* ---- the environment ---- */

static void fill_addrs(const struct net_opts *o, synack_stack_config *cfg)
{
	synack_addr a;
	uint8_t plen;
	for (int i = 0; i < o->naddr; i++) {
		synack_prefix_parse(o->addr[i], &a, &plen);
		if (a.family == SYNACK_AF_INET) {
			cfg->addr = a;
			cfg->prefix_len = plen;
		} else {
			cfg->addr6 = a;
			cfg->prefix6_len = plen;
		}
	}
	for (int i = 0; i < o->ngw; i++) {
		synack_prefix_parse(o->gateway[i], &a, &plen);
		if (a.family == SYNACK_AF_INET)
			cfg->gateway = a;
		else
			cfg->gateway6 = a;
	}
}

static bool sockaddr_is(const struct sockaddr *sa, const synack_addr *a)
{
	if (sa->sa_family == AF_INET && a->family == SYNACK_AF_INET)
		return memcmp(&((const struct sockaddr_in *)sa)->sin_addr, a->bytes, 4) == 0;
	if (sa->sa_family == AF_INET6 && a->family == SYNACK_AF_INET6)
		return memcmp(&((const struct sockaddr_in6 *)sa)->sin6_addr, a->bytes, 16) == 0;
	return false;
}

/* Is a (synack's own address) already one of the kernel's addresses in
 * this network namespace? Then the kernel would answer for it too. */
static const char *kernel_owner(const synack_addr *a, char *ifname, size_t len)
{
	struct ifaddrs *list, *i;
	const char *found = NULL;
	if (getifaddrs(&list) < 0)
		return NULL;
	for (i = list; i && !found; i = i->ifa_next)
		if (i->ifa_addr && sockaddr_is(i->ifa_addr, a)) {
			snprintf(ifname, len, "%s", i->ifa_name);
			found = ifname;
		}
	freeifaddrs(list);
	return found;
}

static int check_in_use(const char *cmd, const synack_stack_config *cfg)
{
	const synack_addr *mine[2] = {&cfg->addr, &cfg->addr6};
	char ifname[IF_NAMESIZE + 1], text[64];
	for (int k = 0; k < 2; k++) {
		if (mine[k]->family == SYNACK_AF_NONE || !kernel_owner(mine[k], ifname, sizeof ifname))
			continue;
		cli_error(cmd,
			  "address in use: %s is the kernel's own address (on %s); give synack another one",
			  synack_addr_format(mine[k], text, sizeof text), ifname);
		return CLI_FAIL;
	}
	return 0;
}

int net_tun_open(const char *cmd, const struct net_opts *o, unsigned queues, synack_tun **out)
{
	/* offloads hand over 64 KiB segments: not through the impairments,
	 * whose loss, reordering and rate are per MTU-sized frame */
	synack_tun_config tc = {.name = o->dev,
				.kind = o->kind,
				.mtu = o->mtu,
				.offload = !o->no_offload && !synack_impair_active(&o->imp),
				.queues = queues};
	char msg[256];
	for (int i = 0; i < o->nhost; i++)
		tc.host_addr[i] = o->host_addr[i];
	int err = synack_tun_open(&tc, out);
	if (err == -EPERM && o->nhost) {
		cli_error(
		    cmd,
		    "no permission: --host-addr needs CAP_NET_ADMIN (run as root), or leave it out and use "
		    "a device set up once with `ip tuntap add dev %s mode %s user $USER`",
		    o->dev, o->kind == SYNACK_TAP ? "tap" : "tun");
		return CLI_FAIL;
	}
	if (err < 0) {
		cli_error(cmd, "%s", synack_tun_strerror(err, o->dev, o->kind, msg, sizeof msg));
		return CLI_FAIL;
	}
	return 0;
}

static int create_stack(const char *cmd, const struct net_opts *o, struct net_env *e)
{
	synack_stack_config *cfg = &e->cfg;
	synack_stack_config_init(cfg);
	cfg->addr.family = SYNACK_AF_NONE;
	fill_addrs(o, cfg);
	cfg->link = o->kind == SYNACK_TAP ? SYNACK_LINK_ETHERNET : SYNACK_LINK_RAW_IP;
	if (o->kind == SYNACK_TAP)
		synack_random_mac(cfg->mac);
	cfg->mtu = o->mtu ? o->mtu : synack_tun_mtu(e->tun);
	cfg->rng = synack_os_rng();
	cfg->tx = e->imp ? synack_impairer_tx : synack_tun_tx;
	cfg->tx_ctx = e->imp ? (void *)e->imp : (void *)e->tun;
	if (!e->imp && synack_tun_offloads(e->tun)) {
		cfg->offload = synack_tun_offloads(e->tun);
		cfg->tx_meta = synack_tun_tx_meta;
		cfg->tx_iov = synack_tun_tx_iov;
		cfg->gso_max = 65535;
	}
	cfg->ping_log = &e->ping_log;
	cfg->trace_capacity = o->verbose ? 4096 : 0;
	e->t0 = synack_clock_now();
	int err = synack_stack_create(cfg, e->t0, &e->st);
	if (err == -EAFNOSUPPORT) {
		cli_error(cmd, "this build of the stack does not support that address family yet (IPv6 needs "
			       "an IPv4 --addr too)");
		return CLI_FAIL;
	}
	if (err < 0) {
		cli_error(cmd, "cannot create the stack: %s", strerror(-err));
		return CLI_FAIL;
	}
	return 0;
}

/* -v: the trace as lines "synack: CMD: TIME LOCAL > REMOTE SEGMENT". */
static int open_trace(const char *cmd, struct net_env *e)
{
	struct ladder_opts lo = {
	    .out = stderr,
	    .style = LADDER_LINES,
	    .notation = LADDER_WIRESHARK,
	    .one_stack = true,
	    .endpoints = true,
	    .prefix = e->prefix,
	    .name = {"synack", "peer"},
	    .t0 = e->t0,
	};
	snprintf(e->prefix, sizeof e->prefix, "synack: %s: ", cmd);
	if (e->tun_borrowed && !(lo.out = e->trace_mem = open_memstream(&e->trace_buf, &e->trace_len)))
		return cli_error(cmd, "out of memory"), CLI_FAIL;
	if (ladder_new(&lo, &e->trace) == 0)
		return 0;
	cli_error(cmd, "out of memory");
	return CLI_FAIL;
}

void net_env_trace(struct net_env *e)
{
	synack_trace_rec rec[64];
	size_t n;
	if (!e->trace)
		return;
	while ((n = synack_stack_trace_drain(e->st, rec, 64)) > 0)
		for (size_t i = 0; i < n; i++)
			ladder_add(e->trace, &(struct ladder_event){.kind = LADDER_TRACE, .rec = &rec[i]});
	if (e->trace_mem && fflush(e->trace_mem) == 0 && e->trace_len) {
		fwrite(e->trace_buf, 1, e->trace_len, stderr); /* whole lines, one locked write */
		fseeko(e->trace_mem, 0, SEEK_SET);
	}
}

static synack_time_t clock_fn(void *ctx)
{
	(void)ctx;
	return synack_clock_now();
}

/* With impairment options: the decorator between the device and the
 * stack, both directions alike, each with its own random stream. */
static int open_impairer(const char *cmd, const struct net_opts *o, struct net_env *e)
{
	if (!synack_impair_active(&o->imp))
		return 0;
	synack_impairer_config ic = {.tx = synack_tun_tx, .tx_ctx = e->tun, .clock = clock_fn};
	ic.dir[SYNACK_IMPAIR_TX] = ic.dir[SYNACK_IMPAIR_RX] = o->imp;
	if (!o->imp.reorder_delay)
		ic.dir[0].reorder_delay = ic.dir[1].reorder_delay = SYNACK_MSEC(1);
	if (o->impair_seed_set)
		e->impair_seed = o->impair_seed;
	else
		synack_os_random(NULL, &e->impair_seed, sizeof e->impair_seed);
	ic.seed = e->impair_seed;
	int err = synack_impairer_create(&ic, &e->imp);
	if (err < 0) {
		cli_error(cmd, "cannot set up the impairments: %s", strerror(-err));
		return CLI_FAIL;
	}
	return 0;
}

static void print_impair(const struct net_env *e)
{
	static const char *const name[2] = {"sent", "received"};
	fprintf(stderr, "synack: %s: impairments, seed %llu (--impair-seed):\n", e->cmd,
		(unsigned long long)e->impair_seed);
	for (int d = 0; d < 2; d++) {
		synack_impair_stats s;
		synack_impairer_stats(e->imp, d, &s);
		fprintf(stderr,
			"synack: %s:   %-8s frames %llu: passed %llu, lost %llu (burst %llu), duplicated "
			"%llu, reordered %llu, corrupted %llu, delayed %llu, queue drops %llu\n",
			e->cmd, name[d], (unsigned long long)s.offered, (unsigned long long)s.passed,
			(unsigned long long)s.lost, (unsigned long long)s.burst_lost,
			(unsigned long long)s.duplicated, (unsigned long long)s.reordered,
			(unsigned long long)s.corrupted, (unsigned long long)s.delayed,
			(unsigned long long)s.queue_drops);
	}
}

static ssize_t tun_read(void *ctx, uint8_t *buf, size_t cap)
{
	return synack_tun_read(ctx, buf, cap);
}

static ssize_t tun_read_flags(void *ctx, uint8_t *buf, size_t cap, uint32_t *flags)
{
	return synack_tun_read_flags(ctx, buf, cap, flags);
}

/* -v, --counters: which mode the device is in, and why (one line). */
static void print_offloads(const struct net_opts *o, const struct net_env *e)
{
	const char *why = o->kind == SYNACK_TAP		  ? "TAP: TUN only"
			  : o->no_offload		  ? "--no-offload"
			  : synack_impair_active(&o->imp) ? "impairments act on MTU-sized frames"
			  : !synack_tun_offloads(e->tun)  ? "the kernel refused the virtio-net header"
							  : NULL;
	if (why)
		fprintf(stderr, "synack: %s: offloads off (%s)\n", e->cmd, why);
	else
		fprintf(stderr, "synack: %s: offloads on: TCP segmentation and checksums, each way\n",
			e->cmd);
}

/* The stack, the impairer, the trace and the loop on the device e->tun. */
static int env_setup(const char *cmd, const struct net_opts *o, struct net_env *e)
{
	int rc = open_impairer(cmd, o, e);
	if (!rc)
		rc = create_stack(cmd, o, e);
	if (!rc)
		rc = check_in_use(cmd, &e->cfg);
	if (!rc && e->verbose)
		rc = open_trace(cmd, e);
	if (!rc) {
		/* 64 KiB: the largest IP packet, what the kernel's GSO hands over too */
		int err = synack_loop_create(e->st, synack_tun_fd(e->tun), tun_read, e->tun, 65536, &e->loop);
		if (err < 0) {
			cli_error(cmd, "cannot create the event loop: %s", strerror(-err));
			rc = CLI_FAIL;
		} else if (e->imp) {
			synack_loop_set_impairer(e->loop, e->imp);
		} else {
			synack_loop_set_read_flags(e->loop, tun_read_flags);
		}
		int werr =
		    e->loop && sig_pipe[0] >= 0 ? synack_loop_watch(e->loop, sig_pipe[0], TAG_SIGNAL) : 0;
		if (werr < 0) {
			cli_error(cmd, "cannot watch for signals: %s", strerror(-werr));
			rc = CLI_FAIL;
		}
	}
	return rc;
}

static void env_init(const char *cmd, const struct net_opts *o, struct net_env *e)
{
	memset(e, 0, sizeof *e);
	e->cmd = cmd;
	e->verbose = o->verbose;
	e->counters = o->verbose || o->counters;
}

int net_env_open(const char *cmd, const struct net_opts *o, struct net_env *e)
{
	env_init(cmd, o, e);
	int rc = net_tun_open(cmd, o, 1, &e->tun);
	if (!rc)
		rc = env_setup(cmd, o, e);
	if (rc)
		net_env_close(e);
	else if (e->counters)
		print_offloads(o, e);
	return rc;
}

int net_env_open_queue(const char *cmd, const struct net_opts *o, synack_tun *queue, bool report,
		       struct net_env *e)
{
	env_init(cmd, o, e);
	e->tun = queue;
	e->tun_borrowed = true;
	int rc = env_setup(cmd, o, e);
	if (rc)
		net_env_close(e);
	else if (e->counters && report)
		print_offloads(o, e);
	return rc;
}

static void print_counters(const struct net_env *e)
{
	for (int i = 0; i < SYNACK_COUNTER_COUNT; i++) {
		uint64_t v = synack_stack_counter(e->st, (enum synack_counter)i);
		if (v && i != SYNACK_DROP_FIRST_ && i != SYNACK_DROP_LAST_)
			fprintf(stderr, "synack: %s: %-28s %llu\n", e->cmd,
				synack_counter_name((enum synack_counter)i), (unsigned long long)v);
	}
}

void net_env_close(struct net_env *e)
{
	if (e->st)
		net_env_trace(e);
	if (e->st && e->counters)
		print_counters(e);
	if (e->imp)
		print_impair(e);
	ladder_free(e->trace);
	if (e->trace_mem)
		fclose(e->trace_mem);
	free(e->trace_buf);
	synack_loop_destroy(e->loop);
	synack_stack_destroy(e->st);
	synack_impairer_destroy(e->imp);
	if (!e->tun_borrowed)
		synack_tun_close(e->tun);
	memset(e, 0, sizeof *e);
}

int net_env_run(struct net_env *e, int timeout_ms, int *ready, int max)
{
	net_env_trace(e);
	int n = synack_loop_run_once(e->loop, timeout_ms, ready, max);
	net_env_trace(e);
	if (n < 0)
		cli_error(e->cmd, "reading the device failed: %s", strerror(-n));
	return n;
}

bool net_reachable(const struct net_env *e, const synack_addr *dst)
{
	const synack_stack_config *c = &e->cfg;
	if (dst->family == SYNACK_AF_INET)
		return c->gateway.family == SYNACK_AF_INET || same_prefix(dst, &c->addr, c->prefix_len);
	if (dst->family == SYNACK_AF_INET6)
		return c->gateway6.family == SYNACK_AF_INET6 || same_prefix(dst, &c->addr6, c->prefix6_len) ||
		       (dst->bytes[0] == 0xfe && (dst->bytes[1] & 0xc0) == 0x80);
	return false;
}

int net_check_route(const struct net_env *e, const synack_addr *dst)
{
	char text[64];
	bool v6 = dst->family == SYNACK_AF_INET6;
	synack_addr_format(dst, text, sizeof text);
	if ((v6 ? e->cfg.addr6.family : e->cfg.addr.family) == SYNACK_AF_NONE) {
		fprintf(
		    stderr,
		    "synack: %s: host unreachable: %s is %s and synack has no such address (add --addr)\n",
		    e->cmd, text, v6 ? "IPv6" : "IPv4");
		return CLI_FAIL;
	}
	if (!net_reachable(e, dst)) {
		fprintf(stderr,
			"synack: %s: host unreachable: %s is not on synack's prefix and no --gateway\n",
			e->cmd, text);
		return CLI_FAIL;
	}
	return 0;
}
