/* The packetdrill-syntax runner: executes a parsed script against a fresh
 * synack stack on virtual time (tools/pkt_run.c). */
#ifndef SYNACK_TOOLS_PKT_RUN_H
#define SYNACK_TOOLS_PKT_RUN_H

#include <stdbool.h>

#include "pkt_parse.h"

enum pkt_profile {
	PKT_PROFILE_SYNACK,  /* synack's own defaults */
	PKT_PROFILE_FREEBSD, /* FreeBSD's timers and limits, for the foreign suite */
};

struct pkt_run_opts {
	bool strict;  /* compare windows and options too */
	bool verbose; /* print every event as it runs */
	enum pkt_profile profile;
};

enum pkt_status { PKT_PASS, PKT_FAIL, PKT_SKIP };

struct pkt_result {
	enum pkt_status status;
	int line;	   /* script line of the failure */
	char msg[768];	   /* what was expected and what happened */
	int shell_applied; /* backtick commands with a synack equivalent */
	int shell_skipped; /* backtick commands without one (never run) */
};

void pkt_run_script(const struct pkt_script *sc, const struct pkt_run_opts *o, struct pkt_result *res);

#endif
