/* Parser for scripts in packetdrill syntax (see ../shared/conformance/
 * PACKETDRILL.md and packetdrill's parser.y). It turns a script into a list
 * of events; the runner (pkt_run.c) executes them against a synack stack.
 * The parser allocates with malloc and bounds everything: a script larger
 * than PKT_MAX_BYTES or with more than PKT_MAX_EVENTS events is refused.
 *
 * synack's extensions (tests/pkt/README.md has them all, with the runner's):
 * in an option list, "raw HEX" (option bytes as written, malformed ones
 * too); after an inbound packet's options, "sport N", "dport N" and
 * "badcsum". packetdrill's IP fields "(tos N)", "(ttl N)", "(flowlabel N)"
 * and ICMP lines "icmp TYPE [CODE] [mtu N] [seq]" are parsed here too.
 * The runner adds meaning, not syntax, to the rest: assertions
 * in %{ }% (tcpi_* fields, "counter NAME", tcb_count, drops, "events &
 * EV_X"), `sysctl -w synack.tcp.FIELD=V`, the header --synack_iss=N. */
#ifndef SYNACK_TOOLS_PKT_PARSE_H
#define SYNACK_TOOLS_PKT_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { PKT_MAX_BYTES = 1 << 20, PKT_MAX_EVENTS = 10000, PKT_MAX_OPTS = 20, PKT_MAX_DEFINES = 16 };

enum pkt_time_kind {
	PKT_T_ABS, /* "1.5": seconds since the script started */
	PKT_T_REL, /* "+0.1": after the previous event */
	PKT_T_ANY, /* "*" */
};

struct pkt_time {
	enum pkt_time_kind kind;
	int64_t us;    /* microseconds */
	bool range;    /* "a~b" or "a...b" (a blocking call's start...return) */
	bool blocking; /* the range was written with "..." */
	enum pkt_time_kind end_kind;
	int64_t end_us;
};

enum pkt_ev_kind {
	PKT_EV_PACKET, /* "< S 0:0(0) win 1000 <mss 1460>" */
	PKT_EV_CALL,   /* "connect(3, ..., ...) = -1 EINPROGRESS (...)" */
	PKT_EV_SHELL,  /* "`sysctl -w a.b=1`": text is the command */
	PKT_EV_CODE,   /* "%{ assert tcpi_state == TCPI_LISTEN }%": text is the code */
};

enum pkt_opt_kind {
	PKT_OPT_NOP,
	PKT_OPT_EOL,
	PKT_OPT_MSS,
	PKT_OPT_WSCALE,
	PKT_OPT_SACKOK,
	PKT_OPT_SACK,
	PKT_OPT_TS,
	PKT_OPT_OTHER, /* FO, md5, unknown kinds: the text is kept in `other` */
	PKT_OPT_RAW,   /* synack: "raw 0205": the bytes as written, in `raw` */
};

struct pkt_opt {
	enum pkt_opt_kind kind;
	uint32_t v1, v2; /* MSS value; wscale shift; TS val and ecr */
	uint8_t nsack;
	uint32_t sack[4][2]; /* "sack 1:1001 2001:3001" */
	char other[32];
	uint8_t nraw;
	uint8_t raw[40];
};

struct pkt_packet {
	char dir;      /* '<' inbound (injected), '>' outbound (expected) */
	char ecn[16];  /* "[noecn]", "[ect0]" ... as written, or "" */
	uint8_t flags; /* SYNACK_TCP_* bits (synack/stack.h) from "S . F R P U E W"; "-" = 0 */
	bool has_seq;
	uint32_t seq_start, seq_end, len; /* "start:end(len)" */
	bool has_ack;
	uint32_t ack;
	bool has_win;
	uint32_t win;
	bool has_urg;
	uint32_t urg;
	bool has_opts; /* an option list was written ("<>" counts, empty) */
	bool opts_any; /* "<...>" */
	uint8_t nopts;
	struct pkt_opt opts[PKT_MAX_OPTS];
	/* synack's extensions for inbound packets (see tests/pkt/README.md):
	 * "sport N", "dport N" replace the connection's ports; "badcsum"
	 * sends a wrong TCP checksum */
	bool has_sport, has_dport, bad_csum;
	uint16_t sport, dport;
	/* IP-level fields after the direction: "(tos 0x10)", "(ttl 64)",
	 * "(flowlabel 0x12345)", or several in one "(tos 0x10, ttl 64)" */
	bool has_tos, has_ttl, has_flowlabel;
	uint8_t tos, ttl;
	uint32_t flowlabel;
	/* An ICMP or ICMPv6 line: "icmp unreachable port_unreachable", "icmp
	 * unreachable frag_needed mtu 1200", with the TCP segment it quotes
	 * in [start:end(len)] (before "icmp" or at the end of the line), kept in
	 * has_seq, seq_start, seq_end and len. Type and code as written (names
	 * or numbers); the runner resolves them for ICMP or ICMPv6. */
	bool icmp;
	char icmp_type[24], icmp_code[24];
	bool has_mtu;
	uint32_t mtu;
};

enum pkt_expr_kind {
	PKT_X_INT,	/* 42, -1, 0x02 */
	PKT_X_ELLIPSIS, /* ... */
	PKT_X_IDENT,	/* SOCK_STREAM, ECONNRESET */
	PKT_X_STRING,	/* "abc" */
	PKT_X_OR,	/* O_RDWR|O_NONBLOCK: items are the operands */
	PKT_X_ARRAY,	/* [65536] or [ECONNRESET] or [1, 2]: items */
	PKT_X_STRUCT,	/* {l_onoff=1, l_linger=0}: items, each with a name */
};

struct pkt_expr {
	enum pkt_expr_kind kind;
	int64_t num;
	char *str;  /* identifier or string text; for a struct member, its name is in `name` */
	char *name; /* struct member name ("l_onoff"), else NULL */
	struct pkt_expr *items;
	int nitems;
};

struct pkt_call {
	char name[32];
	struct pkt_expr *args;
	int nargs;
	struct pkt_expr ret; /* PKT_X_INT or PKT_X_ELLIPSIS */
	char err[32];	     /* errno name after the result ("EINPROGRESS"), or "" */
	char note[128];	     /* the parenthesised text after it, or "" */
};

struct pkt_event {
	int line, col; /* 1-based position of the event in the file */
	struct pkt_time time;
	enum pkt_ev_kind kind;
	struct pkt_packet pkt; /* PKT_EV_PACKET */
	struct pkt_call call;  /* PKT_EV_CALL */
	char *text;	       /* PKT_EV_SHELL, PKT_EV_CODE */
};

struct pkt_header_opt {
	char name[48];
	char value[128]; /* "" for a bare --flag */
	int line;
};

struct pkt_script {
	char *path;
	int ip_version;	      /* 4 or 6 from --ip_version, 0 if absent */
	int64_t tolerance_us; /* --tolerance_usecs, default 4000 */
	struct pkt_header_opt *hdr;
	int nhdr; /* every header option, --ip_version and --tolerance_usecs included */
	struct pkt_event *ev;
	int nev;
};

/* Parse the file at path. defines: NULL-terminated names for #ifdef (e.g.
 * {"STANDARD", NULL}); lines in a false #ifdef/#ifndef/#else branch are
 * skipped. Returns 0, or -1 with "path:line:col: message" in err. */
int pkt_parse_file(const char *path, const char *const *defines, struct pkt_script *out, char *err,
		   size_t errlen);
/* The same for text in memory; name is used in messages. */
int pkt_parse_text(const char *name, const char *text, size_t len, const char *const *defines,
		   struct pkt_script *out, char *err, size_t errlen);
void pkt_script_free(struct pkt_script *s);

#endif
