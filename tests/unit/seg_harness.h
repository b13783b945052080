/* Segment-level scenario tests against ONE stack: the test plays the peer.
 * Lines read like packetdrill scripts (a later runner takes them over):
 *
 *   IN(E,  "0.100 S 0:0(0) win 65535 <mss 1000,sackOK,TS val 100 ecr 0,nop,wscale 7>");
 *   OUT(E, "0.100 S. 0:0(0) ack 1 win 65535 <mss 1460,sackOK,TS val * ecr 100,nop,wscale 3>");
 *   AT(E,  "0.200");          advance to 0.200 (no segment may leave before), then API calls
 *   NONE(E, "+3");            nothing leaves up to that time
 *
 * Time: seconds, absolute from the stack's creation, or "+x" relative to the
 * previous line. Sequence numbers are relative: inbound seq to the peer's
 * ISN (E->pisn, chosen by the test), inbound ack to the stack's ISS (learned
 * from the first SYN the stack sends; 0 until then, so absolute); outbound
 * the other way round. "win" is the raw 16-bit field. An OUT line checks
 * flags, seq, ack, win and the payload length exactly, options only when a
 * <...> list is given; "*" matches any value. An IN line without "win"
 * sends 65535. IN extras: "sport N", "dport N", "badcsum", "abs" (seq/ack
 * absolute). Options: mss N, sackOK, TS val N ecr N, nop, eol, wscale N,
 * sack L:R ..., raw HEXBYTES. Inbound payload byte at relative sequence s
 * is seg_byte(s). */
#ifndef SYNACK_SEG_HARNESS_H
#define SYNACK_SEG_HARNESS_H

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>

#include "synack/synack.h"
#include "unit.h"
#include "wire/wire.h"

#define SEG_QMAX  512
#define SEG_FRAME 1600

struct seg_pkt {
	synack_time_t t;
	size_t len;
	uint8_t buf[SEG_FRAME];
};

struct seg_env {
	synack_stack *st;
	synack_stack_config cfg;
	synack_prng prng;
	struct seg_pkt *q;
	unsigned qh, qn;
	synack_time_t now; /* script time of the previous line */
	synack_addr peer, me;
	uint16_t pport, lport;
	uint32_t iss, pisn;
	bool iss_known;
	struct wire_tcp last; /* the last segment an OUT line matched */
	uint8_t lastbuf[SEG_FRAME];
	synack_tcp *listener, *conn;
	const char *file;
	int line;
};

static inline uint8_t seg_byte(uint32_t rel)
{
	return (uint8_t)(rel * 31u + 7u);
}

static int seg_tx(void *ctx, const uint8_t *frame, size_t len)
{
	struct seg_env *E = ctx;
	if (E->qn >= SEG_QMAX || len > SEG_FRAME)
		return -ENOBUFS;
	struct seg_pkt *p = &E->q[(E->qh + E->qn++) % SEG_QMAX];
	p->t = synack_stack_now(E->st);
	p->len = len;
	memcpy(p->buf, frame, len);
	return 0;
}

/* Defaults for a scenario: stack 10.0.0.2/24, peer 10.0.0.1:40000. */
static inline void seg_config(synack_stack_config *cfg)
{
	synack_stack_config_init(cfg);
	cfg->addr = synack_addr_ipv4(10, 0, 0, 2);
	cfg->trace_capacity = 0;
	cfg->tcp.delack = SYNACK_MSEC(200); /* the scenarios' timelines are written for it */
}

/* cfg may be NULL (seg_config defaults). Stack created at time start. */
static inline struct seg_env *seg_new_at(const synack_stack_config *cfg, uint64_t seed, synack_time_t start)
{
	struct seg_env *E = calloc(1, sizeof *E);
	E->q = calloc(SEG_QMAX, sizeof *E->q);
	if (cfg)
		E->cfg = *cfg;
	else
		seg_config(&E->cfg);
	synack_prng_seed(&E->prng, seed);
	E->cfg.rng = (synack_rng){.fill = synack_prng_fill, .ctx = &E->prng};
	E->cfg.tx = seg_tx;
	E->cfg.tx_ctx = E;
	E->peer = synack_addr_ipv4(10, 0, 0, 1);
	E->me = E->cfg.addr;
	E->pport = 40000;
	E->lport = 8080;
	E->pisn = 1000000;
	E->now = start;
	if (synack_stack_create(&E->cfg, start, &E->st) != 0)
		unit_fail(__FILE__, __LINE__, "synack_stack_create failed");
	return E;
}
static inline struct seg_env *seg_new(const synack_stack_config *cfg)
{
	return seg_new_at(cfg, 1, 0);
}

/* ---- formatting an outbound segment, packetdrill style ---- */

static const char seg_flag_chars[] = "FSRPUEW"; /* bit order of enum synack_tcp_flag, ACK is '.' */
static const uint8_t seg_flag_bits[] = {SYNACK_TCP_FIN, SYNACK_TCP_SYN, SYNACK_TCP_RST, SYNACK_TCP_PSH,
					SYNACK_TCP_URG, SYNACK_TCP_ECE, SYNACK_TCP_CWR};

static inline void seg_flags_str(uint8_t f, char *out)
{
	for (int i = 0; i < 7; i++)
		if (f & seg_flag_bits[i])
			*out++ = seg_flag_chars[i];
	if (f & SYNACK_TCP_ACK)
		*out++ = '.';
	*out = 0;
}

static inline int seg_parse_flags(const char *s, uint8_t *f)
{
	*f = 0;
	for (; *s; s++) {
		if (*s == '.') {
			*f |= SYNACK_TCP_ACK;
			continue;
		}
		const char *c = strchr(seg_flag_chars, *s);
		if (!c)
			return -1;
		*f |= seg_flag_bits[c - seg_flag_chars];
	}
	return 0;
}

/* options as text, from raw bytes; sack edges relative to base */
static inline void seg_opts_str(const uint8_t *p, size_t n, uint32_t base, char *out, size_t cap)
{
	size_t o = 0;
	for (size_t i = 0; i < n && o + 64 < cap;) {
		if (i)
			out[o++] = ',';
		uint8_t k = p[i];
		uint8_t l = (k <= 1 || i + 1 >= n) ? 1 : p[i + 1];
		if (l < 1 || i + l > n)
			l = (uint8_t)(n - i);
		if (k == 0)
			o += (size_t)snprintf(out + o, cap - o, "eol");
		else if (k == 1)
			o += (size_t)snprintf(out + o, cap - o, "nop");
		else if (k == 2 && l == 4)
			o += (size_t)snprintf(out + o, cap - o, "mss %u", rd16(p + i + 2));
		else if (k == 3 && l == 3)
			o += (size_t)snprintf(out + o, cap - o, "wscale %u", p[i + 2]);
		else if (k == 4 && l == 2)
			o += (size_t)snprintf(out + o, cap - o, "sackOK");
		else if (k == 8 && l == 10)
			o += (size_t)snprintf(out + o, cap - o, "TS val %u ecr %u", rd32(p + i + 2),
					      rd32(p + i + 6));
		else if (k == 5 && l >= 10) {
			o += (size_t)snprintf(out + o, cap - o, "sack");
			for (size_t b = i + 2; b + 8 <= i + l; b += 8)
				o += (size_t)snprintf(out + o, cap - o, " %u:%u", rd32(p + b) - base,
						      rd32(p + b + 4) - base);
		} else {
			o += (size_t)snprintf(out + o, cap - o, "raw ");
			for (size_t b = i; b < i + l; b++)
				o += (size_t)snprintf(out + o, cap - o, "%02x", p[b]);
		}
		i += l;
	}
	out[o] = 0;
}

static inline void seg_format(const struct seg_env *E, const struct seg_pkt *pk, char *out, size_t cap)
{
	struct wire_tcp h;
	const uint8_t *l4 = pk->buf + WIRE_IPV4_HDR;
	size_t l4len = pk->len - WIRE_IPV4_HDR;
	if (pk->len < WIRE_IPV4_HDR + WIRE_TCP_HDR || wire_tcp_parse(l4, l4len, &h) != 0) {
		snprintf(out, cap, "%.6f <not a TCP segment, %zu bytes>", pk->t / 1e6, pk->len);
		return;
	}
	char fl[16], op[512];
	seg_flags_str(h.flags, fl);
	seg_opts_str(l4 + WIRE_TCP_HDR, h.hdr_len - WIRE_TCP_HDR, E->pisn, op, sizeof op);
	uint32_t s = h.seq - E->iss;
	snprintf(out, cap, "%.6f %s %u:%u(%zu) ack %u win %u <%s> (sport %u dport %u)", pk->t / 1e6, fl, s,
		 s + (uint32_t)h.payload_len, h.payload_len, h.ack - E->pisn, h.wnd, op, h.sport, h.dport);
}

/* ---- parsing a script line ---- */

struct seg_line {
	synack_time_t t;
	uint8_t flags;
	uint32_t seq, end, len;
	bool seq_wild, has_ack, ack_wild, has_win, win_wild;
	uint32_t ack, win;
	bool has_opts, badcsum, abs;
	int sport, dport;
	char opts[512];
};

static inline const char *seg_tok(const char *s, char *tok, size_t cap)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = 0;
	if (*s == '<') {
		while (*s && *s != '>' && n + 1 < cap)
			tok[n++] = *s++;
		if (*s == '>')
			s++;
	} else {
		while (*s && *s != ' ' && *s != '\t' && n + 1 < cap)
			tok[n++] = *s++;
	}
	tok[n] = 0;
	return s;
}

static inline synack_time_t seg_parse_time(const struct seg_env *E, const char *tok)
{
	bool rel = tok[0] == '+';
	double v = strtod(rel ? tok + 1 : tok, NULL);
	synack_time_t t = (synack_time_t)llround(v * 1e6);
	return rel ? E->now + t : t;
}

static inline bool seg_num(const char *tok, uint32_t *v)
{
	if (strcmp(tok, "*") == 0)
		return false;
	*v = (uint32_t)strtoul(tok, NULL, 0);
	return true;
}

static inline int seg_parse_line(struct seg_env *E, const char *s, struct seg_line *L)
{
	char tok[512];
	memset(L, 0, sizeof *L);
	L->sport = L->dport = -1;
	s = seg_tok(s, tok, sizeof tok);
	L->t = seg_parse_time(E, tok);
	s = seg_tok(s, tok, sizeof tok);
	if (seg_parse_flags(tok, &L->flags))
		return -1;
	s = seg_tok(s, tok, sizeof tok);
	if (strcmp(tok, "*") == 0) {
		L->seq_wild = true;
		s = seg_tok(s, tok, sizeof tok);
		L->len = (uint32_t)strtoul(tok + 1, NULL, 0); /* "(len)" */
	} else {
		char *p;
		L->seq = (uint32_t)strtoul(tok, &p, 0);
		if (*p != ':')
			return -1;
		L->end = (uint32_t)strtoul(p + 1, &p, 0);
		if (*p != '(')
			return -1;
		L->len = (uint32_t)strtoul(p + 1, NULL, 0);
		if (L->end - L->seq != L->len)
			return -1;
	}
	while (*s) {
		s = seg_tok(s, tok, sizeof tok);
		if (!tok[0])
			break;
		if (strcmp(tok, "ack") == 0) {
			s = seg_tok(s, tok, sizeof tok);
			L->has_ack = true;
			L->ack_wild = !seg_num(tok, &L->ack);
		} else if (strcmp(tok, "win") == 0) {
			s = seg_tok(s, tok, sizeof tok);
			L->has_win = true;
			L->win_wild = !seg_num(tok, &L->win);
		} else if (strcmp(tok, "sport") == 0 || strcmp(tok, "dport") == 0) {
			int *dst = tok[0] == 's' ? &L->sport : &L->dport;
			s = seg_tok(s, tok, sizeof tok);
			*dst = atoi(tok);
		} else if (strcmp(tok, "badcsum") == 0) {
			L->badcsum = true;
		} else if (strcmp(tok, "abs") == 0) {
			L->abs = true;
		} else if (tok[0] == '<') {
			L->has_opts = true;
			snprintf(L->opts, sizeof L->opts, "%s", tok + 1);
		} else {
			return -1;
		}
	}
	return 0;
}

/* Encode an option list; sack edges relative to base. Returns bytes or -1. */
static inline int seg_opts_encode(const char *s, uint32_t base, uint8_t *out)
{
	char buf[512];
	snprintf(buf, sizeof buf, "%s", s);
	int n = 0;
	for (char *save = NULL, *it = strtok_r(buf, ",", &save); it; it = strtok_r(NULL, ",", &save)) {
		while (*it == ' ')
			it++;
		unsigned a, b;
		if (n > 60)
			return -1;
		if (sscanf(it, "mss %u", &a) == 1) {
			out[n++] = 2, out[n++] = 4;
			wr16(out + n, (uint16_t)a), n += 2;
		} else if (strncmp(it, "sackOK", 6) == 0) {
			out[n++] = 4, out[n++] = 2;
		} else if (sscanf(it, "TS val %u ecr %u", &a, &b) == 2) {
			out[n++] = 8, out[n++] = 10;
			wr32(out + n, a), wr32(out + n + 4, b), n += 8;
		} else if (strncmp(it, "nop", 3) == 0) {
			out[n++] = 1;
		} else if (strncmp(it, "eol", 3) == 0) {
			out[n++] = 0;
		} else if (sscanf(it, "wscale %u", &a) == 1) {
			out[n++] = 3, out[n++] = 3, out[n++] = (uint8_t)a;
		} else if (strncmp(it, "sack ", 5) == 0) {
			int k = n;
			out[n++] = 5, out[n++] = 2;
			char *p = it + 5;
			while (sscanf(p, "%u:%u", &a, &b) == 2) {
				wr32(out + n, a + base), wr32(out + n + 4, b + base), n += 8;
				out[k + 1] += 8;
				p = strchr(p, ' ');
				if (!p)
					break;
				p++;
			}
		} else if (strncmp(it, "raw ", 4) == 0) {
			for (char *p = it + 4; isxdigit((unsigned char)p[0]) && isxdigit((unsigned char)p[1]);
			     p += 2) {
				char hx[3] = {p[0], p[1], 0};
				out[n++] = (uint8_t)strtoul(hx, NULL, 16);
			}
		} else {
			return -1;
		}
	}
	return n;
}

/* Compare option text with wildcards: tokens separated by ' ' or ','. */
static inline bool seg_opts_match(const char *want, const char *got)
{
	while (*want || *got) {
		if (*want == '*') {
			want++;
			while (*got && *got != ' ' && *got != ',')
				got++;
			continue;
		}
		if (*want != *got)
			return false;
		want++;
		got++;
	}
	return true;
}

/* ---- running the stack ---- */

static inline void seg_pop(struct seg_env *E, struct seg_pkt *out)
{
	*out = E->q[E->qh];
	E->qh = (E->qh + 1) % SEG_QMAX;
	E->qn--;
}

/* Report and discard queued segments nobody expected. */
static inline void seg_unexpected(struct seg_env *E, const char *why)
{
	struct seg_pkt p;
	while (E->qn) {
		char txt[768];
		seg_pop(E, &p);
		seg_format(E, &p, txt, sizeof txt);
		unit_fail(E->file, E->line, "unexpected segment (%s): %s", why, txt);
	}
}

/* Run timers up to t, stopping as soon as a segment leaves. */
static inline void seg_run(struct seg_env *E, synack_time_t t)
{
	for (int guard = 0; guard < 100000 && !E->qn; guard++) {
		synack_time_t d = synack_stack_next_deadline(E->st);
		if (d > t)
			break;
		synack_stack_poll(E->st, d);
	}
	if (!E->qn)
		synack_stack_poll(E->st, t);
}

static inline void seg_at(struct seg_env *E, const char *file, int line, const char *when)
{
	E->file = file;
	E->line = line;
	synack_time_t t = seg_parse_time(E, when);
	seg_unexpected(E, "before AT");
	seg_run(E, t);
	seg_unexpected(E, when);
	if (synack_stack_now(E->st) < t)
		synack_stack_poll(E->st, t);
	E->now = t;
}

static inline void seg_none(struct seg_env *E, const char *file, int line, const char *when)
{
	seg_at(E, file, line, when);
}

static inline void seg_in(struct seg_env *E, const char *file, int line, const char *text)
{
	struct seg_line L;
	E->file = file;
	E->line = line;
	if (seg_parse_line(E, text, &L)) {
		unit_fail(file, line, "bad IN line: %s", text);
		return;
	}
	seg_unexpected(E, "before IN");
	seg_run(E, L.t);
	seg_unexpected(E, text);
	E->now = L.t;
	uint8_t frame[SEG_FRAME];
	uint8_t *tcp = frame + WIRE_IPV4_HDR;
	struct wire_tcp h;
	memset(&h, 0, sizeof h);
	h.opt.wscale = -1;
	h.sport = L.sport >= 0 ? (uint16_t)L.sport : E->pport;
	h.dport = L.dport >= 0 ? (uint16_t)L.dport : E->lport;
	h.seq = L.abs ? L.seq : L.seq + E->pisn;
	h.ack = L.has_ack ? (L.abs ? L.ack : L.ack + E->iss) : 0;
	h.flags = L.flags;
	h.wnd = (uint16_t)(L.has_win ? L.win : 65535);
	struct bbuf b = bbuf_make(tcp, sizeof frame - WIRE_IPV4_HDR);
	if (!wire_tcp_emit(&b, &h, WIRE_TCP_MAX_OPTS + L.len)) {
		unit_fail(file, line, "segment does not fit %zu bytes: %s", b.cap, text);
		return;
	}
	int on = L.has_opts ? seg_opts_encode(L.opts, E->iss, tcp + WIRE_TCP_HDR) : 0;
	if (on < 0) {
		unit_fail(file, line, "bad options: %s", L.opts);
		return;
	}
	while (on % 4)
		tcp[WIRE_TCP_HDR + on++] = 0;
	size_t hl = WIRE_TCP_HDR + (size_t)on;
	tcp[12] = (uint8_t)(hl / 4 << 4);
	for (uint32_t i = 0; i < L.len; i++)
		tcp[hl + i] = seg_byte(L.seq + i);
	size_t l4 = hl + L.len;
	wire_tcp_set_csum(tcp, l4, &E->peer, &E->me);
	if (L.badcsum)
		tcp[16] ^= 0x5a;
	struct bbuf ip = bbuf_make(frame, sizeof frame);
	wire_ipv4_emit(&ip, &E->peer, &E->me, WIRE_PROTO_TCP, 64, 1, WIRE_IPV4_DF, l4);
	synack_stack_input(E->st, frame, WIRE_IPV4_HDR + l4, L.t);
}

static inline void seg_out(struct seg_env *E, const char *file, int line, const char *text)
{
	struct seg_line L;
	E->file = file;
	E->line = line;
	if (seg_parse_line(E, text, &L)) {
		unit_fail(file, line, "bad OUT line: %s", text);
		return;
	}
	if (!E->qn)
		seg_run(E, L.t);
	E->now = L.t;
	if (!E->qn) {
		unit_fail(file, line, "no segment left by %.6f; expected: %s", L.t / 1e6, text);
		return;
	}
	struct seg_pkt p;
	seg_pop(E, &p);
	struct wire_tcp h;
	const uint8_t *l4 = p.buf + WIRE_IPV4_HDR;
	if (wire_tcp_parse(l4, p.len - WIRE_IPV4_HDR, &h) != 0) {
		unit_fail(file, line, "stack sent a malformed segment");
		return;
	}
	if ((L.flags & SYNACK_TCP_SYN) && !E->iss_known) {
		E->iss = h.seq;
		E->iss_known = true;
		E->lport = h.sport;
	}
	E->last = h;
	memcpy(E->lastbuf, p.buf, p.len);
	E->last.payload = E->lastbuf + (h.payload - p.buf);
	char op[512];
	seg_opts_str(l4 + WIRE_TCP_HDR, h.hdr_len - WIRE_TCP_HDR, E->pisn, op, sizeof op);
	bool ok = p.t == L.t && h.flags == L.flags && h.payload_len == L.len &&
		  (L.seq_wild || h.seq - E->iss == L.seq) &&
		  (!L.has_ack || L.ack_wild || h.ack - E->pisn == L.ack) &&
		  (!L.has_win || L.win_wild || h.wnd == L.win) &&
		  (!L.has_opts || seg_opts_match(L.opts, op)) && h.sport == E->lport && h.dport == E->pport &&
		  wire_tcp_csum_ok(&E->me, &E->peer, l4, p.len - WIRE_IPV4_HDR);
	if (!ok) {
		char txt[768];
		seg_format(E, &p, txt, sizeof txt);
		unit_fail(file, line, "\n      expected: %s\n      got:      %s", text, txt);
	}
}

/* Checks nothing else left the stack, frees everything. */
static inline void seg_end(struct seg_env *E, const char *file, int line)
{
	E->file = file;
	E->line = line;
	seg_unexpected(E, "at the end");
	synack_stack_destroy(E->st);
	free(E->q);
	free(E);
}

#define IN(E, s)   seg_in((E), __FILE__, __LINE__, (s))
#define OUT(E, s)  seg_out((E), __FILE__, __LINE__, (s))
#define AT(E, s)   seg_at((E), __FILE__, __LINE__, (s))
#define NONE(E, s) seg_none((E), __FILE__, __LINE__, (s))
#define SEG_END(E) seg_end((E), __FILE__, __LINE__)
/* printf-style variants */
#define INF(E, ...)                                                                                          \
	do {                                                                                                 \
		char seg_b_[512];                                                                            \
		snprintf(seg_b_, sizeof seg_b_, __VA_ARGS__);                                                \
		IN(E, seg_b_);                                                                               \
	} while (0)
#define OUTF(E, ...)                                                                                         \
	do {                                                                                                 \
		char seg_b_[512];                                                                            \
		snprintf(seg_b_, sizeof seg_b_, __VA_ARGS__);                                                \
		OUT(E, seg_b_);                                                                              \
	} while (0)

/* API helpers */
static inline void seg_listen(struct seg_env *E)
{
	synack_endpoint ep = {.addr = E->me, .port = E->lport};
	if (synack_tcp_listen(E->st, &ep, 16, &E->listener) != 0)
		unit_fail(E->file, E->line, "listen failed");
}

static inline void seg_connect(struct seg_env *E)
{
	synack_endpoint r = {.addr = E->peer, .port = E->pport};
	if (synack_tcp_connect(E->st, &r, NULL, &E->conn) != 0)
		unit_fail(E->file, E->line, "connect failed");
}

static inline void seg_accept(struct seg_env *E)
{
	if (synack_tcp_accept(E->listener, &E->conn) != 0)
		unit_fail(E->file, E->line, "accept failed");
}

/* Every event pending for c (other sockets' events are dropped). */
static inline uint32_t seg_events(struct seg_env *E, synack_tcp *c)
{
	uint32_t all = 0, ev;
	synack_tcp *s;
	while ((s = synack_stack_next_event(E->st, &ev)))
		if (s == c)
			all |= ev;
	return all;
}

/* Read everything queued and check it is the pattern from relative seq rel. */
static inline size_t seg_read_check(struct seg_env *E, uint32_t rel)
{
	uint8_t buf[8192];
	size_t got = 0;
	ssize_t r;
	while ((r = synack_tcp_recv(E->conn, buf, sizeof buf)) > 0) {
		for (ssize_t i = 0; i < r; i++)
			if (buf[i] != seg_byte(rel + (uint32_t)(got + (size_t)i))) {
				unit_fail(E->file, E->line, "received byte %zu wrong", got + (size_t)i);
				return got;
			}
		got += (size_t)r;
	}
	return got;
}

static inline void seg_send(struct seg_env *E, size_t n)
{
	static uint8_t buf[1 << 16];
	for (size_t i = 0; i < n && i < sizeof buf; i++)
		buf[i] = (uint8_t)i;
	ssize_t r = synack_tcp_send(E->conn, buf, n);
	if (r != (ssize_t)n)
		unit_fail(E->file, E->line, "send(%zu) returned %zd", n, r);
}

#endif
