/* The script runner's state, shared by its two files: pkt_run.c (the
 * stack, its link, segments in and out, system calls, the event loop) and
 * pkt_cmd.c (backtick commands and code blocks: sysctls, sockstat,
 * tcpdrop, assertions). Not an interface for anything else: pkt_run.h is. */
#ifndef SYNACK_TOOLS_PKT_RUN_INTERNAL_H
#define SYNACK_TOOLS_PKT_RUN_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "pkt_run.h"
#include "synack/synack.h"

enum { QMAX = 256, TSMAP = 64, REMOTE_PORT_PASSIVE = 40000, DEFAULT_PORT = 8080, FIRST_FD = 3, NFD = 64 };

struct frame {
	synack_time_t t;
	size_t len;
	uint8_t buf[1600];
};

struct runner {
	const struct pkt_script *sc;
	const struct pkt_run_opts *o;
	struct pkt_result *res;
	synack_stack *st;
	synack_sockets *socks;
	synack_prng rng;
	synack_tcp_config tcp;
	struct frame *q;
	int qh, qn, qdropped;
	uint32_t mtu;
	synack_time_t now, last;
	synack_addr local, remote;
	uint16_t local_port, remote_port;
	bool bound, isn_known;
	uint32_t isn;
	uint32_t ts_script[TSMAP], ts_actual[TSMAP];
	int nts;
	int last_fd;
	const struct pkt_event *ev;
	synack_time_t base; /* stack time of script time 0 (--synack_iss) */
	bool pin_iss;	    /* --synack_iss=N: synack's first ISS must be N */
	uint32_t want_iss;
	bool ts_clock; /* --strict: the first TS val seen, to check the clock */
	uint32_t ts_first_script, ts_first_actual;
	uint32_t evbits[NFD];  /* events collected per fd (FIRST_FD + i) */
	uint64_t nread[NFD];   /* bytes read per fd, to check their content */
	struct ladder *ladder; /* --verbose: the stack's trace, a line a record */
};

/* Record the first failure of the run (later ones are ignored); returns
 * false so callers can `return failf(...)`. */
bool failf(struct runner *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* pkt_cmd.c: a backtick command (1 applied, 0 skipped; a failed assertion
 * is recorded with failf) and a
 * code block of assertions (false: the run failed). */
int shell(struct runner *r, const char *cmd);
bool code_block(struct runner *r, const char *code);

#endif
