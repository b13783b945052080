/* What the libFuzzer targets in tests/fuzz share (fuzz_common.c, linked
 * into every target by fuzz.mk).
 *
 * fuzz_wire uses only REQUIRE and fuzz_write_seed(). fuzz_stack and
 * fuzz_net share the world of one input: a simulated pair (client
 * 10.0.0.1, server 10.0.0.2) whose stacks allocate through counting
 * allocators, a listener on server port 80 and one established connection;
 * the application side (service()), the storm guard (fuzz_step()), the
 * record loop that feeds frames (fuzz_feed()), the closing of every handle
 * and the memory checks after each input (see the top of fuzz_stack.c). */
#ifndef SYNACK_FUZZ_COMMON_H
#define SYNACK_FUZZ_COMMON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "synack/sim.h"
#include "synack/tcp.h"
#include "wire/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define REQUIRE(c)                                                                                           \
	do {                                                                                                 \
		if (!(c)) {                                                                                  \
			fprintf(stderr, "%s:%d: REQUIRE(%s) failed\n", __FILE__, __LINE__, #c);              \
			abort();                                                                             \
		}                                                                                            \
	} while (0)

/* Input flag bits both stack targets read (bit 0 is each target's own). */
enum {
	FL_TUPLE = 1 << 1,   /* src the client, proto TCP, ports of the live connection */
	FL_SEQ = 1 << 2,     /* seq = server RCV.NXT + (int8) low byte of seq */
	FL_ACK = 1 << 3,     /* ack = server SND.UNA + (int8) low byte of ack */
	FL_LEN = 1 << 4,     /* IP version and length fields from the frame length */
	FL_CLOSE = 1 << 5,   /* graceful close at the end instead of abort */
	FL_TRAFFIC = 1 << 6, /* data both ways between frames: the server's send queues kept full */
	FL_READ = 1 << 7,    /* the server application reads what arrives */
};
enum { MAX_FRAMES = 32, MAX_HANDLES = 16, SERVER_PORT = 80, FUZZ_MODES = 4, SERVER_SNDBUF = 32 * 1024 };

struct counted {
	size_t blocks, bytes;
};

/* The world of one input. */
struct world {
	synack_sim sim;
	struct counted mem[2];
	int mode, fam; /* fuzz_net's link mode and its family (0 in fuzz_stack) */
	bool eth;
	synack_tcp *listener, *client, *server;
	synack_tcp *extra[MAX_HANDLES]; /* further connections accepted */
	size_t nextra;
	unsigned flags;
	bool verbose;
	bool have_synack; /* the last SYN-ACK the server sent (trace) */
	synack_trace_seg synack;
	synack_endpoint synack_to;
	unsigned long steps; /* sim steps so far (storm guard) */
	bool stormed;	     /* storm tolerated: handles aborted */
	synack_pcap *pcap;   /* SYNACK_FUZZ_PCAP: what crossed the link */
};

/* For LLVMFuzzerInitialize: reads SYNACK_FUZZ_ALLOW_STORMS; with
 * SYNACK_FUZZ_SEEDS=DIR, write_seeds(DIR) and exit. */
void fuzz_init(void (*write_seeds)(const char *dir));
void fuzz_world_start(struct world *w);

/* Config of stack i (10.0.0.(i+1)/24, counting allocator, server trace;
 * MTU 1500, SACK and timestamps on, the server's send buffer
 * SERVER_SNDBUF). */
void fuzz_config(struct world *w, int i, synack_stack_config *cfg);
/* Pair on a link with delay, listener on sep, one connection with a few
 * bytes each way. */
void fuzz_setup(struct world *w, const synack_stack_config cfg[2], const synack_endpoint *sep,
		synack_time_t delay);

void fuzz_service(struct world *w);
void fuzz_run_for(struct world *w, synack_time_t d);

/* One record's frame: rec is the record (u16 length/delay, then any
 * per-record bytes), data[0..len) the frame bytes. */
typedef void fuzz_frame_fn(struct world *w, const uint8_t *rec, const uint8_t *data, size_t len);
/* Feed the records from data + start, each head bytes before its frame. */
void fuzz_feed(struct world *w, const uint8_t *data, size_t size, size_t start, size_t head,
	       fuzz_frame_fn *frame);

/* FL_TUPLE, FL_SEQ, FL_ACK on the TCP header l4 of a frame from s. */
void fuzz_fix_tcp(struct world *w, uint8_t *l4, const synack_addr *s);

size_t fuzz_tcbs(struct world *w);
void fuzz_finish(struct world *w);
void fuzz_check_memory(struct world *w);
/* After setup: finish, then take the stacks' blocks as the idle ones of
 * w->mode; check_memory. */
void fuzz_measure_idle(struct world *w);

/* Seeds. */
void fuzz_write_seed(const char *dir, const char *name, const uint8_t *b, size_t n);
/* An IP packet s -> d (family of s) built in f[0..cap): TCP to SERVER_PORT
 * with seq/ack low bytes 0 (FL_SEQ/FL_ACK offsets of 0), checksums right. */
size_t fuzz_tcp_pkt(uint8_t *f, size_t cap, const synack_addr *s, const synack_addr *d, uint16_t sport,
		    uint8_t flags, const struct wire_tcp_opts *o, const char *payload);

#endif
