/* The script runner's backtick commands and code blocks (pkt_run.c runs
 * the rest). Backtick commands are never run: sysctls with a synack
 * equivalent set the stack's configuration (synack.tcp.FIELD for any field
 * of it), `sockstat ... | grep -c STATE | grep N` asserts how many
 * connections are in STATE, `tcpdrop -s STATE` drops them; anything else is
 * counted as skipped. Code blocks hold assertions on tcp_info fields,
 * counters and events (tests/pkt/README.md). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pkt_run_internal.h"

static bool sysctl_apply(struct runner *r, const char *name, long long v)
{
	synack_tcp_config *c = &r->tcp;
	if (!strcmp(name, "net.inet.tcp.rfc1323"))
		c->ts_enable = c->wscale_enable = v != 0;
	else if (!strcmp(name, "net.inet.tcp.sack.enable"))
		c->sack_enable = v != 0;
	else if (!strcmp(name, "net.inet.tcp.insecure_rst"))
		c->rfc5961_rst = v == 0;
	else if (!strcmp(name, "net.inet.tcp.insecure_syn"))
		c->rfc5961_syn = v == 0;
	else if (!strcmp(name, "net.inet.tcp.recvspace") && v > 0)
		c->rcvbuf = (uint32_t)v;
	else if (!strcmp(name, "net.inet.tcp.sendspace") && v > 0)
		c->sndbuf = (uint32_t)v;
	else if (!strcmp(name, "net.inet.tcp.rexmit_initial") && v > 0)
		c->rto_initial = SYNACK_MSEC(v);
	else if (!strcmp(name, "net.inet.tcp.rexmit_min") && v > 0)
		c->rto_min = SYNACK_MSEC(v);
	else if (!strcmp(name, "net.inet.tcp.rexmit_slop") && v >= 0)
		c->rto_slop = SYNACK_MSEC(v);
	else if (!strcmp(name, "net.inet.tcp.msl") && v > 0)
		c->msl = SYNACK_MSEC(v);
	else if (!strcmp(name, "net.inet.tcp.delacktime") && v > 0)
		c->delack = SYNACK_MSEC(v);
	else if (!strcmp(name, "net.inet.tcp.drop_synfin"))
		c->drop_synfin = v != 0;
	else if (!strcmp(name, "net.inet.tcp.ecn.enable") && v >= 0 && v <= 2)
		c->ecn = v == 1	  ? SYNACK_TCP_ECN_ACTIVE
			 : v == 2 ? SYNACK_TCP_ECN_PASSIVE
				  : SYNACK_TCP_ECN_OFF;
	else if (!strcmp(name, "net.inet.tcp.blackhole") && v == 0)
		; /* RSTs for closed ports: synack's only behaviour */
	else
		return false;
	return synack_stack_set_tcp_config(r->st, c) == 0;
}

/* synack.tcp.FIELD: any field of synack_tcp_config (synack/stack.h) but
 * isn_tick; times in milliseconds, like FreeBSD's timer sysctls. */
#define TCP_FIELD(f, ms)                                                                                     \
	{                                                                                                    \
#f, offsetof(synack_tcp_config, f), sizeof(((synack_tcp_config *)0)->f), ms                  \
	}
static const struct {
	const char *name;
	size_t off;
	size_t size;
	bool ms;
} tcp_fields[] = {
    TCP_FIELD(msl, 1),
    TCP_FIELD(rto_initial, 1),
    TCP_FIELD(rto_min, 1),
    TCP_FIELD(rto_max, 1),
    TCP_FIELD(rto_slop, 1),
    TCP_FIELD(delack, 1),
    TCP_FIELD(persist_min, 1),
    TCP_FIELD(persist_max, 1),
    TCP_FIELD(fin_wait2_timeout, 1),
    TCP_FIELD(syn_retries, 0),
    TCP_FIELD(synack_retries, 0),
    TCP_FIELD(data_retries, 0),
    TCP_FIELD(sndbuf, 0),
    TCP_FIELD(rcvbuf, 0),
    TCP_FIELD(mss_default, 0),
    TCP_FIELD(ooo_max_ranges, 0),
    TCP_FIELD(wscale_enable, 0),
    TCP_FIELD(sack_enable, 0),
    TCP_FIELD(ts_enable, 0),
    TCP_FIELD(ts_require, 0),
    TCP_FIELD(frto, 0),
    TCP_FIELD(cwv, 0),
    TCP_FIELD(cwv_nvp, 1),
    TCP_FIELD(rfc5961_rst, 0),
    TCP_FIELD(rfc5961_syn, 0),
    TCP_FIELD(rfc5961_ack, 0),
    TCP_FIELD(time_wait_rst_protect, 0),
    TCP_FIELD(challenge_ack_limit, 0),
    TCP_FIELD(max_connections, 0),
    TCP_FIELD(drop_synfin, 0),
    TCP_FIELD(rcvbuf_round_mss, 0),
    TCP_FIELD(cc, 0),
    TCP_FIELD(syncookies, 0),
    TCP_FIELD(ecn, 0),
    TCP_FIELD(rcvbuf_max, 0),
    TCP_FIELD(sndbuf_max, 0),
    TCP_FIELD(buf_grow_total, 0),
};
#undef TCP_FIELD

/* `sysctl -w synack.tcp.FIELD=V`: an unknown field, a value out of range
 * or one the stack refuses fails the script. */
static bool synack_sysctl(struct runner *r, const char *name, long long v)
{
	synack_tcp_config c = r->tcp;
	size_t i = 0, n = sizeof tcp_fields / sizeof tcp_fields[0];
	while (i < n && (strncmp(name, "synack.tcp.", 11) || strcmp(name + 11, tcp_fields[i].name)))
		i++;
	if (i == n)
		return failf(r, "sysctl %s: no such synack setting", name);
	uint8_t *f = (uint8_t *)&c + tcp_fields[i].off;
	size_t size = tcp_fields[i].size;
	if (v < 0 || (size < 8 && (unsigned long long)v >> (8 * size)) ||
	    (tcp_fields[i].ms && v > INT64_MAX / 1000))
		return failf(r, "sysctl %s=%lld: out of range", name, v);
	if (tcp_fields[i].ms) {
		synack_time_t t = SYNACK_MSEC(v);
		memcpy(f, &t, sizeof t);
	} else if (size == 4) {
		uint32_t x = (uint32_t)v;
		memcpy(f, &x, 4);
	} else if (size == 2) {
		uint16_t x = (uint16_t)v;
		memcpy(f, &x, 2);
	} else {
		*f = (uint8_t)v;
	}
	if (synack_stack_set_tcp_config(r->st, &c))
		return failf(r, "sysctl %s=%lld: refused by the stack", name, v);
	r->tcp = c;
	return true;
}

static const char *const freebsd_states[] = {"CLOSED",	    "LISTEN",	  "SYN_SENT",	"SYN_RCVD",
					     "ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2", "CLOSE_WAIT",
					     "CLOSING",	    "LAST_ACK",	  "TIME_WAIT"};

static int state_in(const char *text)
{
	for (int i = 0; i < (int)(sizeof freebsd_states / sizeof freebsd_states[0]); i++) {
		const char *p = strstr(text, freebsd_states[i]);
		size_t n = strlen(freebsd_states[i]);
		if (p && (p[n] == 0 || p[n] == ' ' || p[n] == '|' || p[n] == '`'))
			return i;
	}
	return -1;
}

/* `sockstat ... | grep -c STATE | grep N`: exactly N connections in STATE. */
static int shell_sockstat(struct runner *r, const char *cmd)
{
	int state = state_in(cmd);
	const char *last = strrchr(cmd, '|');
	if (state < 0 || !last || !strstr(cmd, "grep -c"))
		return 0;
	const char *g = strstr(last, "grep");
	if (!g)
		return 0;
	long want = strtol(g + 4, NULL, 10);
	size_t have = synack_tcp_count_state(r->st, state);
	if ((long)have != want)
		failf(r, "%zu connection(s) in %s, expected %ld", have, freebsd_states[state], want);
	return 1;
}

int shell(struct runner *r, const char *cmd)
{
	char name[128];
	long long v;
	while (*cmd == ' ')
		cmd++;
	if (sscanf(cmd, "sysctl -w %127[^=]=%lld", name, &v) == 2 && !strncmp(name, "synack.", 7))
		return synack_sysctl(r, name, v) ? 1 : 0;
	if (sscanf(cmd, "sysctl -w %127[^=]=%lld", name, &v) == 2)
		return sysctl_apply(r, name, v) ? 1 : 0;
	if (!strncmp(cmd, "sockstat", 8))
		return shell_sockstat(r, cmd);
	if (!strncmp(cmd, "tcpdrop -s ", 11) && state_in(cmd + 11) > 0) {
		synack_tcp_drop_state(r->st, state_in(cmd + 11));
		return 1;
	}
	return 0;
}

/* ---- code blocks ---- */

static const char *const tcpi_states[] = {"TCPI_CLOSED",       "TCPI_LISTEN",	   "TCPI_SYN_SENT",
					  "TCPI_SYN_RECEIVED", "TCPI_ESTABLISHED", "TCPI_FIN_WAIT_1",
					  "TCPI_FIN_WAIT_2",   "TCPI_CLOSE_WAIT",  "TCPI_CLOSING",
					  "TCPI_LAST_ACK",     "TCPI_TIME_WAIT"};

/* tcpi_NAME: synack_tcp_info fields (and Linux's names for three of them).
 * Sequence numbers read as the script writes them: snd_una, snd_nxt and
 * iss relative to synack's ISN, rcv_nxt and irs as sent by the script. */
enum { SEQ_NONE, SEQ_OURS };
#define TCPI(n, f, seq)                                                                                      \
	{                                                                                                    \
		n, offsetof(synack_tcp_info, f), sizeof(((synack_tcp_info *)0)->f), seq                      \
	}
static const struct {
	const char *name;
	size_t off, size;
	int seq;
} tcpi_fields[] = {
    TCPI("iss", iss, SEQ_OURS),
    TCPI("irs", irs, SEQ_NONE),
    TCPI("snd_una", snd_una, SEQ_OURS),
    TCPI("snd_nxt", snd_nxt, SEQ_OURS),
    TCPI("snd_wnd", snd_wnd, SEQ_NONE),
    TCPI("rcv_nxt", rcv_nxt, SEQ_NONE),
    TCPI("rcv_wnd", rcv_wnd, SEQ_NONE),
    TCPI("mss", mss, SEQ_NONE),
    TCPI("snd_mss", mss, SEQ_NONE),
    TCPI("snd_wscale", snd_wscale, SEQ_NONE),
    TCPI("rcv_wscale", rcv_wscale, SEQ_NONE),
    TCPI("sack_ok", sack_ok, SEQ_NONE),
    TCPI("ts_ok", ts_ok, SEQ_NONE),
    TCPI("wscale_ok", wscale_ok, SEQ_NONE),
    TCPI("srtt", srtt, SEQ_NONE),
    TCPI("rtt", srtt, SEQ_NONE),
    TCPI("rttvar", rttvar, SEQ_NONE),
    TCPI("rto", rto, SEQ_NONE),
    TCPI("cwnd", cwnd, SEQ_NONE),
    TCPI("ssthresh", ssthresh, SEQ_NONE),
    TCPI("retransmits", retransmits, SEQ_NONE),
    TCPI("total_retrans", retransmits, SEQ_NONE),
    TCPI("backoff", backoff, SEQ_NONE),
    TCPI("bytes_sent", bytes_sent, SEQ_NONE),
    TCPI("bytes_received", bytes_received, SEQ_NONE),
    TCPI("bytes_acked", bytes_acked, SEQ_NONE),
    TCPI("send_queued", send_queued, SEQ_NONE),
    TCPI("recv_queued", recv_queued, SEQ_NONE),
    TCPI("ecn_ok", ecn_ok, SEQ_NONE),
};
#undef TCPI

static const struct {
	const char *name;
	uint32_t bit;
} event_names[] = {
    {"EV_CONNECTED", SYNACK_EV_CONNECTED},
    {"EV_ACCEPTABLE", SYNACK_EV_ACCEPTABLE},
    {"EV_READABLE", SYNACK_EV_READABLE},
    {"EV_WRITABLE", SYNACK_EV_WRITABLE},
    {"EV_PEER_CLOSED", SYNACK_EV_PEER_CLOSED},
    {"EV_RESET", SYNACK_EV_RESET},
    {"EV_ERROR", SYNACK_EV_ERROR},
    {"EV_CLOSED", SYNACK_EV_CLOSED},
};

/* Take the stack's pending events into the per-descriptor sets. */
static void collect_events(struct runner *r)
{
	uint32_t ev;
	synack_tcp *c;
	while ((c = synack_stack_next_event(r->st, &ev)))
		for (int i = 0; i < NFD; i++)
			if (synack_socket_tcp(r->socks, FIRST_FD + i) == c)
				r->evbits[i] |= ev;
}

static const char *skip_blank(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/* An identifier at s into out; returns the end, or NULL. */
static const char *ident(const char *s, char *out, size_t cap)
{
	size_t n = 0;
	s = skip_blank(s);
	while ((*s == '_' || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		(n && *s >= '0' && *s <= '9')) &&
	       n + 1 < cap)
		out[n++] = *s++;
	out[n] = 0;
	return n ? s : NULL;
}

enum cmp { CMP_EQ, CMP_NE, CMP_LT, CMP_LE, CMP_GT, CMP_GE, CMP_BAD };

static const char *cmp_op(const char *s, enum cmp *op)
{
	static const char *const ops[] = {"==", "!=", "<=", ">=", "<", ">"};
	static const enum cmp codes[] = {CMP_EQ, CMP_NE, CMP_LE, CMP_GE, CMP_LT, CMP_GT};
	s = skip_blank(s);
	for (int i = 0; i < 6; i++)
		if (!strncmp(s, ops[i], strlen(ops[i]))) {
			*op = codes[i];
			return s + strlen(ops[i]);
		}
	*op = CMP_BAD;
	return s;
}

static bool cmp_holds(long long a, enum cmp op, long long b)
{
	switch (op) {
	case CMP_EQ:
		return a == b;
	case CMP_NE:
		return a != b;
	case CMP_LT:
		return a < b;
	case CMP_LE:
		return a <= b;
	case CMP_GT:
		return a > b;
	case CMP_GE:
		return a >= b;
	default:
		return false;
	}
}

/* The value of LHS name (after "assert"); 1 known, 0 not understood, -1
 * failed (no connection). *rest is moved past "counter NAME". */
static int lhs_value(struct runner *r, const char *name, const char **rest, long long *v)
{
	char cname[64];
	if (!strcmp(name, "counter")) {
		const char *e = ident(*rest, cname, sizeof cname);
		for (int i = 0; e && i < SYNACK_COUNTER_COUNT; i++)
			if (!strcmp(cname, synack_counter_name(i))) {
				*rest = e;
				*v = (long long)synack_stack_counter(r->st, i);
				return 1;
			}
		return 0;
	}
	if (!strcmp(name, "tcb_count") || !strcmp(name, "drops")) {
		*v = (long long)(name[0] == 't' ? synack_stack_tcb_count(r->st) : synack_stack_drops(r->st));
		return 1;
	}
	return tcpi_read(r, r->last_fd, name, v);
}

int tcpi_read(struct runner *r, int fd, const char *name, long long *v)
{
	synack_tcp_info info;
	if (strncmp(name, "tcpi_", 5))
		return 0;
	size_t i = 0, n = sizeof tcpi_fields / sizeof tcpi_fields[0];
	while (i < n && strcmp(name + 5, tcpi_fields[i].name) && strcmp(name + 5, "options"))
		i++;
	if (i == n)
		return 0;
	synack_tcp *c = synack_socket_tcp(r->socks, fd);
	if (!c || synack_tcp_get_info(c, &info)) {
		failf(r, "%s: no connection on fd %d", name, fd);
		return -1;
	}
	if (!strcmp(name + 5, "options")) {
		/* TCPI_OPT_TIMESTAMPS 1, TCPI_OPT_SACK 2, TCPI_OPT_WSCALE 4 */
		*v = (info.ts_ok ? 1 : 0) | (info.sack_ok ? 2 : 0) | (info.wscale_ok ? 4 : 0);
		return 1;
	}
	const uint8_t *f = (const uint8_t *)&info + tcpi_fields[i].off;
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	int64_t i64;
	switch (tcpi_fields[i].size) {
	case 1:
		memcpy(&u8, f, 1);
		*v = u8;
		break;
	case 2:
		memcpy(&u16, f, 2);
		*v = u16;
		break;
	case 4:
		memcpy(&u32, f, 4);
		*v = tcpi_fields[i].seq == SEQ_OURS ? (uint32_t)(u32 - r->isn) : u32;
		break;
	default:
		memcpy(&i64, f, 8);
		*v = i64;
		break;
	}
	return 1;
}

/* "tcpi_state == TCPI_X" (or !=) on the socket last used. */
static int assert_state(struct runner *r, const char *s)
{
	enum cmp op;
	char want[64];
	s = cmp_op(s, &op);
	s = ident(s, want, sizeof want);
	if (!s || (op != CMP_EQ && op != CMP_NE) || *skip_blank(s))
		return 0;
	int st = synack_socket_state(r->socks, r->last_fd);
	for (int i = 0; i < (int)(sizeof tcpi_states / sizeof tcpi_states[0]); i++)
		if (!strcmp(want, tcpi_states[i])) {
			if ((st == i) == (op == CMP_EQ))
				return 1;
			failf(r, "tcpi_state is %s, expected %s%s", st >= 0 ? tcpi_states[st] : "(no socket)",
			      op == CMP_NE ? "not " : "", want);
			return -1;
		}
	return 0;
}

/* "events & EV_A|EV_B": every bit named was raised on the socket last
 * used since it was opened or since the previous code block that read its
 * events (*used is then set: the block consumes them). */
static int assert_events(struct runner *r, const char *s, uint32_t have, bool *used)
{
	char name[64];
	uint32_t want = 0;
	s = skip_blank(s);
	if (*s++ != '&')
		return 0;
	s = skip_blank(s);
	bool paren = *s == '(';
	s += paren;
	do {
		size_t i = 0, n = sizeof event_names / sizeof event_names[0];
		if (!(s = ident(s, name, sizeof name)))
			return 0;
		while (i < n && strcmp(name, event_names[i].name))
			i++;
		if (i == n)
			return 0;
		want |= event_names[i].bit;
		s = skip_blank(s);
	} while (*s == '|' && s++);
	if (paren && *s++ != ')')
		return 0;
	if (*skip_blank(s))
		return 0;
	*used = true;
	if ((have & want) == want)
		return 1;
	char hs[160] = "", ws[160] = "";
	for (size_t i = 0; i < sizeof event_names / sizeof event_names[0]; i++) {
		if (have & event_names[i].bit)
			snprintf(hs + strlen(hs), sizeof hs - strlen(hs), "%s%s", hs[0] ? "|" : "",
				 event_names[i].name);
		if (want & ~have & event_names[i].bit)
			snprintf(ws + strlen(ws), sizeof ws - strlen(ws), "%s%s", ws[0] ? "|" : "",
				 event_names[i].name);
	}
	failf(r, "events on fd %d are %s, without %s", r->last_fd, hs[0] ? hs : "none", ws);
	return -1;
}

/* One statement: 1 holds, 0 not understood, -1 failed. */
static int statement(struct runner *r, const char *s, uint32_t events, bool *used_events)
{
	char name[64];
	long long have, want;
	enum cmp op;
	char *end;
	const char *lhs;
	if (!(s = ident(s, name, sizeof name)) || strcmp(name, "assert"))
		return 0;
	lhs = skip_blank(s);
	if (!(s = ident(s, name, sizeof name)))
		return 0;
	if (!strcmp(name, "tcpi_state"))
		return assert_state(r, s);
	if (!strcmp(name, "events"))
		return assert_events(r, s, events, used_events);
	int k = lhs_value(r, name, &s, &have);
	if (k <= 0)
		return k;
	const char *lhs_end = s, *rhs = skip_blank(s);
	s = skip_blank(cmp_op(s, &op));
	errno = 0;
	want = strtoll(s, &end, 0);
	if (op == CMP_BAD || end == s || errno || *skip_blank(end))
		return 0;
	if (cmp_holds(have, op, want))
		return 1;
	failf(r, "%.*s is %lld, expected %s", (int)(lhs_end - lhs), lhs, have, op == CMP_EQ ? s : rhs);
	return -1;
}

/* %{ ... }%: statements separated by newlines or ';', each "assert LHS OP
 * VALUE" on the socket last used (see tests/pkt/README.md). What is not
 * understood (packetdrill's Python) is skipped, and fails in --strict. */
bool code_block(struct runner *r, const char *code)
{
	char stmt[256];
	bool used = false, skipped = false;
	collect_events(r);
	int fdi = r->last_fd - FIRST_FD;
	uint32_t events = fdi >= 0 && fdi < NFD ? r->evbits[fdi] : 0;
	for (const char *s = code; *s;) {
		size_t n = strcspn(s, ";\n");
		const char *t = skip_blank(s);
		size_t len = n - (size_t)(t - s);
		while (len && (t[len - 1] == ' ' || t[len - 1] == '\t' || t[len - 1] == '\r'))
			len--;
		s += n + (s[n] != 0);
		if (!len)
			continue;
		snprintf(stmt, sizeof stmt, "%.*s", (int)len, t);
		int k = statement(r, stmt, events, &used);
		if (k < 0)
			return false;
		if (k == 0 && r->o->strict)
			return failf(r, "cannot evaluate '%s' (see tests/pkt/README.md)", stmt);
		skipped |= k == 0;
	}
	if (used && fdi >= 0 && fdi < NFD)
		r->evbits[fdi] = 0;
	if (skipped)
		r->res->shell_skipped++;
	else
		r->res->shell_applied++;
	return true;
}
