/* The ladder: what a TCP conversation did, drawn from the stacks' trace
 * records. One event in, lines out; the renderer keeps what it has learned
 * (ISNs, window scales, who sent a FIN ...) between events.
 *
 * Two styles from the same segment text:
 *  - LADDER_DRAW: two host lines with arrows between them, state changes on
 *    each end's side and (with `explain`) what each segment means, 80
 *    columns wide by default: `synack demo`;
 *  - LADDER_LINES: one line per event, for a log: `synack pkt --verbose`,
 *    `synack serve -v`, `synack connect -v`.
 *
 * Side 0 is the left host line, side 1 the right one. A caller with two
 * stacks (the demo) tags each record with the stack that recorded it and
 * draws only what they sent (SEG_OUT); a caller with one stack sets
 * `one_stack`: its records are side 0's, and the segments it received
 * (SEG_IN) are drawn as sent by side 1. With one stack, the renderer keeps
 * apart up to LADDER_CONVS connections at once, by their endpoints.
 *
 * Rows that are not TCP segments (a TLS handshake message, a script line)
 * come in as LADDER_MESSAGE (an arrow with a label) or LADDER_TEXT events.
 *
 * Output goes to the FILE given at creation, a line at a time. */
#ifndef SYNACK_TOOLS_LADDER_H
#define SYNACK_TOOLS_LADDER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "synack/synack.h"

enum ladder_style { LADDER_DRAW, LADDER_LINES };

/* How numbers and flags read. WIRESHARK: flags as words ("SYN-ACK"), both
 * ends' sequence numbers relative to their ISN, windows in bytes once both
 * SYNs agreed on scaling. PACKETDRILL: flags as letters ("S."), side 1's
 * sequence numbers as sent (a script's own) and side 0's relative, windows
 * as sent. */
enum ladder_notation { LADDER_WIRESHARK, LADDER_PACKETDRILL };

enum { LADDER_WIDTH = 66, LADDER_MAX_WIDTH = 200, LADDER_CONVS = 64 };

/* What the caller knows about its scenario: with `explain`, for the lines
 * under each segment that say what it means. All optional. */
struct ladder_story {
	synack_time_t msl;	   /* for "TIME-WAIT: waiting 2*MSL (N s)" */
	bool simultaneous_open;	   /* both ends connect at once */
	bool simultaneous_close;   /* both ends close at once */
	const char *first_data[2]; /* side s's first data: "its request" */
	const char *stream[2];	   /* what side s's data is: "response" */
	uint64_t stream_bytes[2];  /* and its length */
	bool tls;		   /* the data are TLS records (first_data, stream unused) */
};

struct ladder_opts {
	FILE *out;
	enum ladder_style style;
	enum ladder_notation notation;
	bool color;	       /* DRAW: ANSI colours */
	bool explain;	       /* DRAW: what each segment means */
	bool one_stack;	       /* see the top of this file */
	bool endpoints;	       /* LINES: name the connection on each line */
	int width;	       /* DRAW: columns between the host lines (0: LADDER_WIDTH) */
	const char *prefix;    /* LINES: text before every line (NULL: none) */
	const char *name[2];   /* the ends in the text (NULL: "client", "server") */
	const char *column[2]; /* DRAW: heads of the host lines (NULL: the names) */
	synack_time_t t0;      /* time 0 of the time column */
	struct ladder_story story;
};

enum ladder_kind {
	LADDER_TRACE,	/* one record of a stack's trace */
	LADDER_MESSAGE, /* an arrow that is not one TCP segment: "ClientHello" */
	LADDER_TEXT,	/* a line of text */
};

/* One event. side: for TRACE, the stack that recorded it (0 with
 * one_stack); for MESSAGE, its sender; for TEXT, whose side, -1 across. */
struct ladder_event {
	enum ladder_kind kind;
	int side;
	const synack_trace_rec *rec; /* TRACE */
	synack_time_t time;	     /* MESSAGE, TEXT (SYNACK_TIME_NEVER: no time shown) */
	bool lost;		     /* SEG_OUT, MESSAGE: it never reached the other end */
	const char *label;	     /* MESSAGE: on the arrow */
	const char *text;	     /* MESSAGE: a note under it (or NULL); TEXT: the text */
};

struct ladder_counts {
	unsigned segs, lost, rexmits; /* segments drawn as sent by a side */
};

struct ladder;

/* A renderer with a copy of *o (the strings it points to must outlive it).
 * 0, or -ENOMEM. */
int ladder_new(const struct ladder_opts *o, struct ladder **out);
/* Render one event. DRAW prints the heading before the first row. */
void ladder_add(struct ladder *L, const struct ladder_event *ev);
/* DRAW: the closing row (and the heading if nothing came). */
void ladder_end(struct ladder *L);
/* What was drawn as sent by `side`. */
void ladder_counts(const struct ladder *L, int side, struct ladder_counts *out);
void ladder_free(struct ladder *L);

#endif
