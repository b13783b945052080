/* TCP flags as text: the one formatter of the `synack` command (the ladder,
 * the packetdrill runner's messages and its --verbose lines). */
#ifndef SYNACK_TOOLS_TCPFMT_H
#define SYNACK_TOOLS_TCPFMT_H

#include <stddef.h>

enum tcpfmt_style {
	TCPFMT_WORDS,	/* "SYN-ACK", "PSH,ACK", "(no flags)": the ladder */
	TCPFMT_LETTERS, /* "S.", "P.", "SEW", "-": packetdrill's notation */
};

/* Longest text of each style, with its NUL. */
enum { TCPFMT_WORDS_MAX = 40, TCPFMT_LETTERS_MAX = 9 };

/* Write `flags` (enum synack_tcp_flag bits) into buf, cut to n bytes;
 * returns buf. */
char *tcpfmt_flags(unsigned flags, enum tcpfmt_style style, char *buf, size_t n);

#endif
