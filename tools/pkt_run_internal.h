/* The script runner's state, shared by its three files: pkt_run.c (the
 * stack, its link, segments in and out, system calls, the event loop),
 * pkt_cmd.c (backtick commands and code blocks: sysctls, sockstat,
 * tcpdrop, assertions) and pkt_ip.c (IP fields and ICMP lines). Not an
 * interface for anything else: pkt_run.h is. */
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
/* pkt_cmd.c: tcpi_NAME of the connection on fd (1 known, 0 no such field,
 * -1 failed: no connection), as a code block reads it. */
int tcpi_read(struct runner *r, int fd, const char *name, long long *v);

/* pkt_ip.c: IP-level fields ("(tos N)", "(ttl N)", "(flowlabel N)", ECN
 * tags) and ICMP lines. */
/* The IP header of an inbound message of len bytes (after the header). */
void pkt_ip_header(struct runner *r, const struct pkt_packet *p, uint8_t *frame, uint8_t proto, size_t len);
/* Inject the ICMP or ICMPv6 error an inbound ICMP line describes. */
bool pkt_inbound_icmp(struct runner *r, const struct pkt_packet *p);
/* An outbound frame against an expected ICMP line (false: failed). */
bool pkt_outbound_icmp(struct runner *r, const struct pkt_packet *p, const uint8_t *frame, size_t len);
/* The IP fields and ECN tag written on an outbound line hold for frame. */
bool pkt_ip_fields_ok(struct runner *r, const struct pkt_packet *p, const uint8_t *frame, size_t len);

#endif
