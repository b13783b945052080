/* The time-sequence graph: one TCP connection's data direction drawn as
 * tcptrace draws it, with its sender's congestion state below, as one
 * self-contained SVG file (tools/plot.c).
 *
 * Top panel, x = time (s), y = sequence number relative to the sender's
 * ISN + 1 (so the first data byte is 0): each data segment a short vertical
 * bar from seq to seq+len at its send time (retransmissions red, circled),
 * the receiver's cumulative ACK as a step line, the receive-window edge
 * (ack + window << the receiver's window scale) as another, and each SACK
 * block of an ACK as a purple bar. Everything is seen from the sender: its
 * segments when sent, the ACKs when they reach it.
 * Bottom panel: cwnd and ssthresh in bytes (ssthresh hidden while
 * "infinite"), srtt in ms on a second axis, as the sender reported them.
 *
 * Use: plot_begin, then plot_add_seg with every trace record of the SENDING
 * stack (records of other connections and other kinds are ignored), and
 * plot_add_sample with its synack_tcp_get_info whenever something may have
 * changed (identical consecutive samples are kept once); then plot_write.
 * Records and samples may come in any interleaving but each in time order.
 * Memory is bounded: past opts.max_points points the rest are left out and
 * counted, and the SVG says so. Output depends only on what went in. */
#ifndef SYNACK_TOOLS_PLOT_H
#define SYNACK_TOOLS_PLOT_H

#include <stdio.h>

#include "synack/synack.h"

enum { PLOT_MAX_POINTS = 200000 };

struct plot_opts {
	const char *title;    /* first line: which direction (required) */
	const char *subtitle; /* second line: the scenario (NULL: none) */
	synack_time_t t0;     /* the time drawn as 0 s */
	/* The connection, seen from the sender: records whose local and
	 * remote endpoints are these. Port 0 in both: the first segment's. */
	synack_endpoint local, remote;
	size_t max_points; /* 0: PLOT_MAX_POINTS */
};

/* What went in, for callers and tests. */
struct plot_counts {
	size_t data_segs, rexmits, sack_blocks, acks, samples, left_out;
};

struct plot;

/* 0 or -ENOMEM. The options' strings are copied. */
int plot_begin(const struct plot_opts *o, struct plot **out);
/* One trace record of the sending stack (SEG_OUT and SEG_IN matter). */
void plot_add_seg(struct plot *p, const synack_trace_rec *r);
/* The sender's state at `now`. */
void plot_add_sample(struct plot *p, synack_time_t now, const synack_tcp_info *info);
void plot_counts(const struct plot *p, struct plot_counts *c);
/* Write the SVG to f: 0, or -EIO if a write failed. */
int plot_write(const struct plot *p, FILE *f);
void plot_free(struct plot *p);

/* For the simulators (bench/sim_path.c, tests/sim/transfer.c): every trace
 * record st holds, drained into the plot (st created with trace_capacity;
 * drain often enough that none is overwritten: SYNACK_CNT_TRACE_LOST). */
void plot_drain(struct plot *p, synack_stack *st);
/* plot_write into f, opened before the run (so that a path that cannot be
 * written fails at once), then fclose(f): 0, or -EIO. */
int plot_close(const struct plot *p, FILE *f);

#endif
