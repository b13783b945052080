/* Shared by the commands that run synack on a real link (serve, connect,
 * ping): the link options, opening the device, the stack and the event
 * loop, positional arguments and one-line error messages. */
#ifndef SYNACK_TOOLS_NETCMD_H
#define SYNACK_TOOLS_NETCMD_H

#include <signal.h>
#include <stdbool.h>

#include "synack/synack.h"
#include "synack/loop.h"
#include "synack/tun.h"
#include "cli.h"

/* Option ids 1..9 are the link options; commands use ids from 10. */
enum {
	NOPT_TUN = 1,
	NOPT_TAP,
	NOPT_ADDR,
	NOPT_HOST_ADDR,
	NOPT_GATEWAY,
	NOPT_MTU,
	NOPT_VERBOSE,
	NOPT_COUNTERS,
	NOPT_NO_OFFLOAD,
	NOPT_FIRST_FREE = 10
};
/* The impairment options have ids from 100 (commands stay below). */
enum {
	NOPT_LOSS = 100,
	NOPT_BURST_LOSS,
	NOPT_REORDER,
	NOPT_REORDER_DELAY,
	NOPT_DUPLICATE,
	NOPT_CORRUPT,
	NOPT_DELAY,
	NOPT_JITTER,
	NOPT_RATE,
	NOPT_QUEUE,
	NOPT_IMPAIR_SEED
};

/* clang-format off */
#define NET_CLI_OPTS \
	{"tun", true, NOPT_TUN}, {"tap", true, NOPT_TAP}, {"addr", true, NOPT_ADDR}, \
	{"host-addr", true, NOPT_HOST_ADDR}, {"gateway", true, NOPT_GATEWAY}, {"mtu", true, NOPT_MTU}, \
	{"verbose", false, NOPT_VERBOSE}, {"counters", false, NOPT_COUNTERS}, {"no-offload", false, NOPT_NO_OFFLOAD}, {"loss", true, NOPT_LOSS}, {"burst-loss", true, NOPT_BURST_LOSS}, \
	{"reorder", true, NOPT_REORDER}, {"reorder-delay", true, NOPT_REORDER_DELAY}, \
	{"duplicate", true, NOPT_DUPLICATE}, {"corrupt", true, NOPT_CORRUPT}, {"delay", true, NOPT_DELAY}, \
	{"jitter", true, NOPT_JITTER}, {"rate", true, NOPT_RATE}, {"queue", true, NOPT_QUEUE}, \
	{"impair-seed", true, NOPT_IMPAIR_SEED}
/* clang-format on */

/* The usage lines of the link options, for each command's --help. */
#define NET_USAGE_OPTS                                                                                       \
	"  --tun DEV            use the TUN device DEV (raw IP)\n"                                           \
	"  --tap DEV            use the TAP device DEV (Ethernet; synack picks a random MAC)\n"              \
	"  --addr ADDR/PREFIX   synack's own address (IPv4 or IPv6; give it twice for both)\n"               \
	"  --host-addr ADDR/PREFIX  (needs CAP_NET_ADMIN) create DEV if missing, bring it up and\n"          \
	"                       give the kernel side this address (once per family); on exit,\n"             \
	"                       removes what it added (the device it created, or the address)\n"             \
	"  --gateway ADDR       next hop for destinations off the --addr prefix\n"                           \
	"  --mtu N              link MTU (set on the device with --host-addr; default: the device's)\n"      \
	"  -v, --verbose        report on standard error: connections, every TCP segment,\n"                 \
	"                       state change and drop of the stack (a line each), and the\n"                 \
	"                       counters at the end\n"                                                       \
	"  --counters           print the stack's non-zero counters (drops by reason, retransmissions,\n"    \
	"                       recoveries ...) on standard error at exit, without the rest of -v\n"         \
	"  --no-offload         (TUN) plain frames: no virtio-net header, so no TCP segmentation or\n"       \
	"                       checksum offload either way (default: on where the kernel has them,\n"       \
	"                       off with impairments, which act on MTU-sized frames)\n"                      \
	"\nImpairments of synack's own frames, each direction alike (synack's sending and its\n"             \
	"receiving each get them; seeded; counted, printed on standard error at exit). P is a\n"             \
	"probability: below 1 a fraction, 1 and above (or with '%%') a percentage: 0.01, 1, 1%%.\n"          \
	"  --loss P             lose each frame with probability P\n"                                        \
	"  --burst-loss P_GB,P_BG[,P_BAD]  burst loss (Gilbert-Elliott): per frame, go from the\n"           \
	"                       good to the bad state with P_GB, back with P_BG; in the bad state\n"         \
	"                       a frame is lost with P_BAD (default 100%%), in the good with --loss\n"       \
	"  --reorder P          hold a frame back by --reorder-delay so later ones overtake it\n"            \
	"  --reorder-delay MS   how long a reordered frame is held back (default 1 ms)\n"                    \
	"  --duplicate P        deliver a frame twice\n"                                                     \
	"  --corrupt P          flip one random bit of a frame (the checksums catch it)\n"                   \
	"  --delay MS           delay each way, in milliseconds (--delay 50: RTT + 100 ms)\n"                \
	"  --jitter MS          extra uniform random delay in [0, MS], order kept\n"                         \
	"  --rate MBIT          serialisation rate in Mbit/s (decimal), each direction\n"                    \
	"  --queue N            frames held per direction (delayed or queued) before tail drop\n"            \
	"                       (default 4096)\n"                                                            \
	"  --impair-seed N      seed of the impairments (default: random, printed at exit)\n"

struct net_opts {
	const char *dev;
	int kind; /* SYNACK_TUN / SYNACK_TAP */
	const char *addr[2];
	int naddr;
	const char *host_addr[2];
	int nhost;
	const char *gateway[2];
	int ngw;
	uint16_t mtu;
	bool verbose;
	bool counters;	   /* --counters (implied by -v) */
	bool no_offload;   /* --no-offload */
	synack_impair imp; /* both directions alike */
	uint64_t impair_seed;
	bool impair_seed_set;
	bool impair_given; /* any impairment option, even a zero one */
};

/* Apply a link option: 1 if `id` was one (0 if not), CLI_BAD after a message. */
int net_opt(const char *cmd, struct net_opts *o, int id, const char *val);
/* --kernel: refuse the impairment options (one line, CLI_BAD), else 0. */
int net_check_kernel_impair(const char *cmd, const struct net_opts *o);
/* After parsing: the device and an address are required. 0 or CLI_BAD. */
int net_opts_check(const char *cmd, const struct net_opts *o);

/* Like cli_next(), but a word not starting with '-' (or "-" alone) is a
 * positional argument, returned as NET_POSITIONAL with the word in *val. */
enum { NET_POSITIONAL = 1000 };
int net_next(struct cli_args *a, const struct cli_opt *opts, const char **val);
/* Rewrite short options ("-c" -> "--count") before parsing. pairs is a
 * NULL-terminated list of {"-c", "--count"} pairs. */
void net_short_opts(int argc, char **argv, const char *const (*pairs)[2]);

struct ladder;

struct net_env {
	synack_tun *tun;
	bool tun_borrowed;    /* a queue of a device someone else closes */
	synack_impairer *imp; /* with impairment options, else NULL */
	uint64_t impair_seed;
	synack_loop *loop;
	synack_stack *st;
	synack_stack_config cfg;
	synack_ping_log ping_log;
	const char *cmd;
	bool verbose;
	bool counters;
	struct ladder *trace; /* verbose: the stack's trace, a line a record */
	/* With threads: the trace goes to this memory stream and each drain
	 * to stderr in one write, so that threads never mix within a line. */
	FILE *trace_mem;
	char *trace_buf;
	size_t trace_len;
	synack_time_t t0; /* when the stack was created */
	char prefix[32];  /* "synack: CMD: " */
};

/* Open the device, create the stack and the loop. Prints one line and
 * returns CLI_FAIL on failure (no permission, no such device, address in
 * use ...); 0 on success. */
int net_env_open(const char *cmd, const struct net_opts *o, struct net_env *e);
/* Open the device given by the link options with `queues` queues (1: as
 * net_env_open does; more: IFF_MULTI_QUEUE). Prints one line and returns
 * CLI_FAIL on failure; 0 on success. */
int net_tun_open(const char *cmd, const struct net_opts *o, unsigned queues, synack_tun **out);
/* Like net_env_open() on one queue of a device opened with net_tun_open()
 * (borrowed: net_env_close() leaves it open). One stack and loop per queue,
 * each for one thread. `report`: print the offload line (-v, --counters)
 * for this one (once per device). */
int net_env_open_queue(const char *cmd, const struct net_opts *o, synack_tun *queue, bool report,
		       struct net_env *e);
/* Print the trace and counters (verbose) and free everything. */
void net_env_close(struct net_env *e);
/* Verbose: print what the stack traced since the last call, a line each
 * (tools/ladder.h). net_env_run() and net_env_close() call it. */
void net_env_trace(struct net_env *e);

/* One loop round (see synack_loop_run_once); prints and returns <0 on a
 * link failure. */
int net_env_run(struct net_env *e, int timeout_ms, int *ready, int max);

/* A host address from text (IPv4 or IPv6 literal). 0 or CLI_BAD. */
int net_parse_host(const char *cmd, const char *what, const char *text, synack_addr *out);
/* HOST of connect and ping, before anything touches the link: refused
 * (one line, CLI_BAD) if no peer can have it: synack's own --addr, its IPv4
 * subnet's broadcast or network address, multicast, unspecified, loopback
 * (RFC 1122 §3.2.1.3, RFC 4291 §2.5). 0 if it may be a host. */
int net_check_dest(const char *cmd, const struct net_opts *o, const synack_addr *dst);
/* A short phrase for a connection error: "connection refused" ... */
const char *net_err_phrase(int err);
/* Whether dst can be reached: on an --addr prefix or a gateway of its family. */
bool net_reachable(const struct net_env *e, const synack_addr *dst);
/* 0, or CLI_FAIL after a one-line "host unreachable" saying why. */
int net_check_route(const struct net_env *e, const synack_addr *dst);

/* Set by SIGINT/SIGTERM/SIGHUP once net_catch_signals() ran: the commands
 * then return normally, so that net_env_close() undoes --host-addr. */
extern volatile sig_atomic_t net_stop;
void net_catch_signals(void);
/* net_stop for commands with threads: read and set atomically (a thread
 * other than the signalled one may set it). */
static inline bool net_stopping(void)
{
	return __atomic_load_n(&net_stop, __ATOMIC_RELAXED) != 0;
}
static inline void net_stop_all(void)
{
	__atomic_store_n(&net_stop, 1, __ATOMIC_RELAXED);
}

#endif
