/* The ladder renderer (tools/ladder.h).
 *
 * Implementation notes
 *
 * The story. For each end the renderer keeps what the segments drawn so far
 * told (struct side_story): its ISN and window scale once its SYN went by,
 * the highest sequence number and ACK it sent, whether and where it sent a
 * FIN ... Sequence numbers are shown relative to each end's ISN, as
 * Wireshark does (or, in packetdrill notation, only synack's), and windows
 * in bytes once both SYNs carried a window-scale option (RFC 7323 §2.2).
 * The same story says what a segment means ("handshake 2/3", "duplicate
 * ACK", "retransmission") for the explained ladder. A segment is explained
 * before the story learns from it: "retransmission" means "this end sent
 * these bytes before".
 *
 * Conversations. With two stacks there is one conversation (the demo's);
 * with one stack, records are sorted into up to LADDER_CONVS conversations
 * by their endpoints, the one least recently seen making room for a new
 * one (its numbers are then shown as they are until its next SYN).
 *
 * Rows. A DRAW row is the time column, the left host line, LADDER_WIDTH
 * columns of text and the right host line; text is counted in UTF-8
 * characters, not bytes, so the arrows and the "→" keep the lines straight.
 * A row that comes long after the previous one gets a "⋮ N s later ⋮" row
 * first. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ladder.h"
#include "tcpfmt.h"

#define C_LEFT	  "36"	 /* cyan */
#define C_RIGHT	  "35"	 /* magenta */
#define C_LOST	  "1;31" /* bold red */
#define C_STATE	  "1"	 /* bold */
#define C_NOTE	  "33"	 /* yellow */
#define C_DIM	  "2"
#define GAP_SHOW  SYNACK_MSEC(500) /* idle time worth a "later" row */
#define ROW_BYTES (LADDER_MAX_WIDTH * 4 + 256)

/* What the ladder knows about one end of a conversation so far. */
struct side_story {
	bool isn_known, sent_any, sent_syn, sent_synack, fin_sent, acked_fin, est_told;
	int8_t wscale;
	uint32_t isn, max_end, fin_end, max_ack;
	unsigned rsts, data_segs;
	int state;		  /* of the connection (not the listener) */
	synack_time_t dropped_at; /* when this end last refused a segment */
};

struct conv {
	synack_endpoint local, remote; /* one_stack: what tells conversations apart */
	uint64_t used;		       /* when last seen (0: free) */
	uint32_t listener_id[2];       /* conn_id of each end's listener */
	struct side_story s[2];
};

struct ladder {
	struct ladder_opts o;
	int width;
	bool headed;
	bool any;	    /* a timed DRAW row was printed */
	synack_time_t last; /* its time */
	uint64_t clock;	    /* conversation lookups so far */
	struct ladder_counts counts[2];
	struct conv conv[LADDER_CONVS];
};

static const char *name(const struct ladder *L, int s)
{
	return L->o.name[s] ? L->o.name[s] : s == 0 ? "client" : "server";
}

/* ---------------------------------------------------------------- rows */

static size_t text_cols(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

static char *append(char *p, const char *s, int times)
{
	size_t len = strlen(s);
	for (int i = 0; i < times; i++, p += len)
		memcpy(p, s, len);
	*p = '\0';
	return p;
}

static void put_time(struct ladder *L, synack_time_t t)
{
	if (t == SYNACK_TIME_NEVER) {
		fprintf(L->o.out, "%11s ", "");
		return;
	}
	fprintf(L->o.out, "%11.3f ", (double)(t - L->o.t0) / 1000.0);
	L->last = t;
	L->any = true;
}

/* One ladder row: time column, the left line, `mid` padded to the width in
 * `color`, the right line. */
static void put_row(struct ladder *L, synack_time_t t, const char *color, const char *mid)
{
	FILE *f = L->o.out;
	size_t cols = text_cols(mid);
	put_time(L, t);
	fputs("│", f);
	if (L->o.color && color)
		fprintf(f, "\033[%sm%s\033[0m", color, mid);
	else
		fputs(mid, f);
	fprintf(f, "%*s│\n", cols < (size_t)L->width ? (int)(L->width - (int)cols) : 0, "");
}

/* A row before one that comes long after the previous: say how long. */
static void put_gap(struct ladder *L, synack_time_t t)
{
	FILE *f = L->o.out;
	if (!L->any || t == SYNACK_TIME_NEVER || t - L->last < GAP_SHOW)
		return;
	char mid[64];
	snprintf(mid, sizeof mid, "%.3f s later", (double)(t - L->last) / 1e6);
	int left = (L->width - (int)strlen(mid)) / 2;
	fprintf(f, "%11s ⋮%*s", "", left, "");
	if (L->o.color)
		fprintf(f, "\033[" C_DIM "m%s\033[0m", mid);
	else
		fputs(mid, f);
	fprintf(f, "%*s⋮\n", L->width - left - (int)strlen(mid), "");
}

/* Where to cut text to fit `width` columns: at a space if there is one. */
static size_t cut_at(const char *text, size_t width)
{
	size_t cols = 0, cut = 0, i = 0;
	for (; text[i] && cols <= width; i++) {
		if (((unsigned char)text[i] & 0xc0) != 0x80)
			cols++;
		if (text[i] == ' ' && cols <= width + 1)
			cut = i;
	}
	if (!text[i] && cols <= width)
		return i;
	return cut ? cut : i - 1;
}

/* Wrap text over rows inside the ladder, indented by 3 columns; the first
 * row shows time t (SYNACK_TIME_NEVER: none). */
static void put_note_at(struct ladder *L, synack_time_t t, const char *color, const char *text)
{
	char line[ROW_BYTES];
	while (*text) {
		size_t cut = cut_at(text, (size_t)L->width - 4);
		snprintf(line, sizeof line, "   %.*s", (int)cut, text);
		put_row(L, t, color, line);
		t = SYNACK_TIME_NEVER;
		text += cut;
		while (*text == ' ')
			text++;
	}
}

static void put_note(struct ladder *L, const char *color, const char *text)
{
	put_note_at(L, SYNACK_TIME_NEVER, color, text);
}

/* Text on one end's side of the ladder (a state change). */
static void put_side(struct ladder *L, synack_time_t t, int side, const char *color, const char *text)
{
	char mid[ROW_BYTES];
	int pad = L->width - (int)text_cols(text) - 1;
	if (side == 0)
		snprintf(mid, sizeof mid, " %s", text);
	else
		snprintf(mid, sizeof mid, "%*s%s ", pad > 0 ? pad : 0, "", text);
	put_row(L, t, color, mid);
}

/* ──label──────> or <──────label── (or cut short by ✗ if lost). */
static void put_arrow(struct ladder *L, synack_time_t t, int side, const char *label, bool lost)
{
	char mid[ROW_BYTES + 256], *p = mid;
	int k = L->width - (int)text_cols(label) - 5, cut = 0;
	if (k < 2)
		k = 2;
	if (lost)
		cut = k > 12 ? 8 : k / 2;
	if (side == 0) {
		p = append(p, "─", 2);
		p += sprintf(p, " %s ", label);
		p = append(p, "─", k - cut);
		p = append(p, lost ? "✗" : ">", 1);
		append(p, " ", cut);
	} else {
		p = append(p, " ", cut);
		p = append(p, lost ? "✗" : "<", 1);
		p = append(p, "─", k - cut);
		p += sprintf(p, " %s ", label);
		append(p, "─", 2);
	}
	put_row(L, t, lost ? C_LOST : side == 0 ? C_LEFT : C_RIGHT, mid);
}

static void put_heading(struct ladder *L)
{
	const char *left = L->o.column[0] ? L->o.column[0] : name(L, 0);
	const char *right = L->o.column[1] ? L->o.column[1] : name(L, 1);
	L->headed = true;
	fprintf(L->o.out, "%11s %-*s%s\n", "time (ms)", L->width + 2 - (int)strlen(right), left, right);
	put_row(L, SYNACK_TIME_NEVER, NULL, "");
}

/* ---------------------------------------------------------------- lines */

static void put_endpoint(FILE *f, const synack_endpoint *e)
{
	char a[64] = "*";
	if (e->addr.family != SYNACK_AF_NONE)
		synack_addr_format(&e->addr, a, sizeof a);
	fprintf(f, e->addr.family == SYNACK_AF_INET6 ? "[%s]:" : "%s:", a);
	if (e->port)
		fprintf(f, "%u", e->port);
	else
		fputs("*", f);
}

/* The start of a LINES line: prefix, time, and `dir` (">" sent, "<"
 * received, "✗" dropped, " " otherwise), between the endpoints if asked. */
static void line_begin(struct ladder *L, synack_time_t t, const synack_trace_rec *r, const char *dir)
{
	FILE *f = L->o.out;
	fputs(L->o.prefix ? L->o.prefix : "", f);
	if (t != SYNACK_TIME_NEVER)
		fprintf(f, "%.6f ", (double)(t - L->o.t0) / 1e6);
	if (L->o.endpoints && r && (r->local.port || r->remote.port)) {
		put_endpoint(f, &r->local);
		fprintf(f, " %s ", dir);
		put_endpoint(f, &r->remote);
		fputc(' ', f);
	} else {
		fprintf(f, "%s ", dir);
	}
}

/* "client: " when the lines tell two stacks apart, "" for one. */
static const char *who(const struct ladder *L, int s, char *buf, size_t n)
{
	if (L->o.one_stack)
		return "";
	snprintf(buf, n, "%s: ", name(L, s));
	return buf;
}

/* ---------------------------------------------------------------- numbers */

static uint32_t seg_space(const synack_trace_seg *g)
{
	return g->len + !!(g->flags & SYNACK_TCP_SYN) + !!(g->flags & SYNACK_TCP_FIN);
}

/* What side s's sequence numbers are shown relative to. */
static uint32_t base(const struct ladder *L, const struct conv *c, int s)
{
	if (!c->s[s].isn_known || (s == 1 && L->o.notation == LADDER_PACKETDRILL))
		return 0;
	return c->s[s].isn;
}

static uint32_t rel_seq(const struct ladder *L, const struct conv *c, int s, uint32_t seq)
{
	return seq - base(L, c, s);
}

static uint32_t rel_ack(const struct ladder *L, const struct conv *c, int s, uint32_t ack)
{
	return ack - base(L, c, 1 - s);
}

static bool seq_le(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) <= 0;
}

/* The window in bytes: scaled once both SYNs offered scaling (RFC 7323). */
static uint32_t window(const struct ladder *L, const struct conv *c, int s, const synack_trace_seg *g)
{
	if (L->o.notation == LADDER_PACKETDRILL || (g->flags & SYNACK_TCP_SYN) || c->s[0].wscale < 0 ||
	    c->s[1].wscale < 0)
		return g->wnd;
	return g->wnd << (c->s[s].wscale > 14 ? 14 : c->s[s].wscale);
}

/* "SYN-ACK seq 0 ack 1 win 65535 len 10" (or "S. seq 0 ...") */
static void seg_label(const struct ladder *L, const struct conv *c, int s, const synack_trace_seg *g,
		      char *buf, size_t n)
{
	char fl[TCPFMT_WORDS_MAX];
	tcpfmt_flags(g->flags, L->o.notation == LADDER_PACKETDRILL ? TCPFMT_LETTERS : TCPFMT_WORDS, fl,
		     sizeof fl);
	int k = snprintf(buf, n, "%s seq %" PRIu32, fl, rel_seq(L, c, s, g->seq));
	if (g->flags & SYNACK_TCP_ACK)
		k += snprintf(buf + k, n - (size_t)k, " ack %" PRIu32, rel_ack(L, c, s, g->ack));
	k += snprintf(buf + k, n - (size_t)k, " win %" PRIu32, window(L, c, s, g));
	if (g->len)
		snprintf(buf + k, n - (size_t)k, " len %u", g->len);
}

/* "<mss 1460, wscale 7, sackOK, TS val 1 ecr 0>", or "" if no options. */
static void opts_text(const synack_trace_seg *g, char *buf, size_t n)
{
	size_t k = 0;
	buf[0] = '\0';
	if (g->mss)
		k += (size_t)snprintf(buf + k, n - k, ", mss %u", g->mss);
	if (g->wscale >= 0 && k < n)
		k += (size_t)snprintf(buf + k, n - k, ", wscale %d", g->wscale);
	if (g->sack_ok && k < n)
		k += (size_t)snprintf(buf + k, n - k, ", sackOK");
	if (g->ts_present && k < n)
		k += (size_t)snprintf(buf + k, n - k, ", TS val %" PRIu32 " ecr %" PRIu32, g->ts_val,
				      g->ts_ecr);
	if (g->sack_blocks && k < n)
		k += (size_t)snprintf(buf + k, n - k, ", SACK %u block%s", g->sack_blocks,
				      g->sack_blocks > 1 ? "s" : "");
	if (k && k < n) {
		buf[0] = '<';
		memmove(buf + 1, buf + 2, k - 1);
		snprintf(buf + k - 1, n - (k - 1), ">");
	}
}

/* ---------------------------------------------------------------- meaning */

static void explain_syn(const struct ladder *L, const struct conv *c, int s, const synack_trace_seg *g,
			char *buf, size_t n)
{
	const char *me = name(L, s), *peer = name(L, 1 - s);
	bool ack = g->flags & SYNACK_TCP_ACK, simopen = L->o.story.simultaneous_open;
	bool again = ack ? c->s[s].sent_synack : c->s[s].sent_syn;
	if (again)
		snprintf(buf, n, "retransmission of the %s: no answer came back in time",
			 ack ? "SYN-ACK" : "SYN");
	else if (!ack && simopen)
		snprintf(buf, n,
			 "simultaneous open: %s sends its SYN with ISN %" PRIu32
			 " while the %s does the same",
			 me, g->seq, peer);
	else if (!ack)
		snprintf(buf, n,
			 "handshake 1/3: %s picks its initial sequence number, ISN %" PRIu32
			 " (seq numbers are shown relative to it)",
			 me, g->seq);
	else if (simopen)
		snprintf(buf, n,
			 "simultaneous open: %s got a SYN in SYN-SENT: it acknowledges the %s's ISN+1 "
			 "and repeats its own SYN",
			 me, peer);
	else
		snprintf(buf, n, "handshake 2/3: %s acknowledges ISN+1 and picks its own, ISN %" PRIu32, me,
			 g->seq);
}

static void explain_fin(const struct ladder *L, const struct conv *c, int s, uint32_t ack, char *buf,
			size_t n)
{
	const struct side_story *peer = &c->s[1 - s];
	const char *me = name(L, s), *other = name(L, 1 - s);
	if (!peer->fin_sent && L->o.story.simultaneous_close)
		snprintf(buf, n,
			 "simultaneous close: %s has nothing more to send (FIN), and at the same "
			 "moment neither has the %s",
			 me, other);
	else if (!peer->fin_sent)
		snprintf(buf, n, "teardown 1/4: %s has nothing more to send (FIN)", me);
	else if (!seq_le(peer->fin_end, ack))
		snprintf(buf, n, "simultaneous close: %s sends its FIN before the %s's has arrived", me,
			 other);
	else if (!c->s[s].acked_fin)
		snprintf(buf, n, "teardown 2+3/4: %s acknowledges the FIN and has nothing more to send (FIN)",
			 me);
	else
		snprintf(buf, n, "teardown 3/4: %s has nothing more to send either (FIN)", me);
}

static void explain_ack(const struct ladder *L, const struct conv *c, int s, uint32_t ack, char *buf,
			size_t n)
{
	const struct side_story *me = &c->s[s], *peer = &c->s[1 - s];
	const char *who = name(L, s), *other = name(L, 1 - s);
	if (peer->fin_sent && !me->acked_fin && seq_le(peer->fin_end, ack)) {
		if (!me->fin_sent)
			snprintf(buf, n,
				 "teardown 2/4: %s acknowledges the FIN; it could still send (half-close)",
				 who);
		else if (L->o.story.simultaneous_close)
			snprintf(buf, n, "simultaneous close: %s acknowledges the %s's FIN", who, other);
		else
			snprintf(buf, n, "teardown 4/4: %s acknowledges the %s's FIN", who, other);
	} else if (!me->sent_any || !seq_le(ack, me->max_ack)) {
		snprintf(buf, n, "ack: %s has received %" PRIu32 " byte%s from the %s", who, ack - 1,
			 ack == 2 ? "" : "s", other);
	} else {
		snprintf(buf, n, "duplicate ACK: %s still expects byte %" PRIu32, who, ack);
	}
}

static void explain_rst(const struct ladder *L, const struct conv *c, int s, const synack_trace_rec *r,
			char *buf, size_t n)
{
	const char *me = name(L, s), *other = name(L, 1 - s);
	if (c->s[s].rsts == 0 && r->conn_id != 0)
		snprintf(buf, n,
			 "reset: %s aborts the connection: no FIN exchange, no TIME-WAIT; the %s "
			 "drops whatever it still had to send",
			 me, other);
	else
		snprintf(buf, n, "reset: %s has no connection for that segment (any more) and refuses it",
			 me);
}

static void explain_data(const struct ladder *L, const struct conv *c, int s, uint32_t seq, uint32_t len,
			 char *buf, size_t n)
{
	const struct ladder_story *st = &L->o.story;
	if (st->tls)
		snprintf(buf, n, "data: TLS records from the %s, TCP bytes %" PRIu32 "-%" PRIu32, name(L, s),
			 seq, seq + len - 1);
	else if (st->first_data[s] && c->s[s].data_segs == 0)
		snprintf(buf, n, "data: %s sends %s (%" PRIu32 " bytes)", name(L, s), st->first_data[s], len);
	else if (st->stream[s])
		snprintf(buf, n, "data: %s bytes %" PRIu32 "-%" PRIu32 " of %" PRIu64, st->stream[s], seq,
			 seq + len - 1, st->stream_bytes[s]);
	else
		snprintf(buf, n, "data: %s sends bytes %" PRIu32 "-%" PRIu32, name(L, s), seq, seq + len - 1);
}

/* A pure ACK sent at the instant this end refused a segment: its answer. */
static void explain_answer(const struct ladder *L, const struct conv *c, int s, char *buf, size_t n)
{
	if (c->s[s].state == SYNACK_TCP_TIME_WAIT && c->s[1 - s].fin_sent)
		snprintf(buf, n,
			 "TIME-WAIT at work: the %s's FIN came again, so the last ACK was lost; "
			 "the %s acknowledges it again and restarts its 2*MSL wait",
			 name(L, 1 - s), name(L, s));
	else
		snprintf(buf, n, "the %s answers the refused segment with an ACK of what it expects next",
			 name(L, s));
}

static bool is_answer(const struct conv *c, int s, const synack_trace_rec *r)
{
	const synack_trace_seg *g = &r->seg;
	return c->s[s].dropped_at == r->time && !g->len &&
	       (g->flags & (SYNACK_TCP_SYN | SYNACK_TCP_FIN | SYNACK_TCP_RST | SYNACK_TCP_ACK)) ==
		   SYNACK_TCP_ACK;
}

static bool is_rexmit(const struct ladder *L, const struct conv *c, int s, const synack_trace_seg *g)
{
	const struct side_story *me = &c->s[s];
	uint32_t space = seg_space(g);
	return space && me->sent_any && !(g->flags & SYNACK_TCP_SYN) &&
	       seq_le(rel_seq(L, c, s, g->seq) + space, me->max_end);
}

static bool is_third(const struct conv *c, int s, const synack_trace_seg *g)
{
	const struct side_story *me = &c->s[s];
	return (g->flags & SYNACK_TCP_ACK) && !(g->flags & (SYNACK_TCP_SYN | SYNACK_TCP_RST)) &&
	       me->sent_syn && !me->sent_synack && c->s[1 - s].sent_synack && !me->est_told;
}

static void explain(const struct ladder *L, const struct conv *c, int s, const synack_trace_rec *r, char *buf,
		    size_t n)
{
	const synack_trace_seg *g = &r->seg;
	uint32_t seq = rel_seq(L, c, s, g->seq), ack = rel_ack(L, c, s, g->ack);
	if (g->flags & SYNACK_TCP_RST)
		explain_rst(L, c, s, r, buf, n);
	else if (g->flags & SYNACK_TCP_SYN)
		explain_syn(L, c, s, g, buf, n);
	else if (is_rexmit(L, c, s, g) && g->len)
		snprintf(buf, n, "retransmission: %s sends bytes %" PRIu32 "-%" PRIu32 " again", name(L, s),
			 seq, seq + g->len - 1);
	else if (is_rexmit(L, c, s, g))
		snprintf(buf, n, "retransmission of the FIN");
	else if (is_answer(c, s, r))
		explain_answer(L, c, s, buf, n);
	else if (is_third(c, s, g))
		snprintf(buf, n, "handshake 3/3: %s acknowledges the %s's ISN+1: connection established%s",
			 name(L, s), name(L, 1 - s), g->len ? " (with data)" : "");
	else if (g->flags & SYNACK_TCP_FIN)
		explain_fin(L, c, s, ack, buf, n);
	else if (g->len)
		explain_data(L, c, s, seq, g->len, buf, n);
	else
		explain_ack(L, c, s, ack, buf, n);
}

/* After a segment: what the story now knows. */
static void learn(struct ladder *L, struct conv *c, int s, const synack_trace_rec *r)
{
	struct side_story *me = &c->s[s];
	const synack_trace_seg *g = &r->seg;
	const uint16_t syn = SYNACK_TCP_SYN, synack = SYNACK_TCP_SYN | SYNACK_TCP_ACK;
	if ((g->flags & syn) && !me->isn_known) {
		me->isn_known = true;
		me->isn = g->seq;
		me->wscale = g->wscale;
	}
	bool third = is_third(c, s, g), rexmit = is_rexmit(L, c, s, g);
	uint32_t seq = rel_seq(L, c, s, g->seq), ack = rel_ack(L, c, s, g->ack), end = seq + seg_space(g);
	me->est_told |= third;
	L->counts[s].rexmits +=
	    rexmit || ((g->flags & syn) && ((g->flags & SYNACK_TCP_ACK) ? me->sent_synack : me->sent_syn));
	me->sent_syn |= (g->flags & synack) == syn;
	me->sent_synack |= (g->flags & synack) == synack;
	if (!me->sent_any || !seq_le(end, me->max_end))
		me->max_end = end;
	if ((g->flags & SYNACK_TCP_ACK) && (!me->sent_any || !seq_le(ack, me->max_ack)))
		me->max_ack = ack;
	me->sent_any = true;
	if (g->flags & SYNACK_TCP_FIN) {
		me->fin_sent = true;
		me->fin_end = end;
	}
	if ((g->flags & SYNACK_TCP_ACK) && c->s[1 - s].fin_sent && seq_le(c->s[1 - s].fin_end, ack))
		me->acked_fin = true;
	me->rsts += !!(g->flags & SYNACK_TCP_RST);
	me->data_segs += g->len > 0;
	L->counts[s].segs++;
	me->dropped_at = SYNACK_TIME_NEVER;
}

static const char *state_meaning(const struct ladder *L, int from, int to, char *buf, size_t n)
{
	switch (to) {
	case SYNACK_TCP_TIME_WAIT:
		snprintf(buf, n, "TIME-WAIT: waiting 2*MSL (%g s) so a lost final ACK can be answered",
			 (double)(2 * L->o.story.msl) / 1e6);
		return buf;
	case SYNACK_TCP_CLOSE_WAIT:
		return "CLOSE-WAIT: the application is told no more data will come; it may still send";
	case SYNACK_TCP_FIN_WAIT_2:
		return "FIN-WAIT-2: its FIN is acknowledged; now it waits for the peer's FIN";
	case SYNACK_TCP_CLOSING:
		return "CLOSING: the FINs crossed; waiting for the ACK of its own";
	case SYNACK_TCP_LAST_ACK:
		return "LAST-ACK: waiting for the ACK of its FIN";
	case SYNACK_TCP_CLOSED:
		return from == SYNACK_TCP_TIME_WAIT ? "2*MSL are over: the connection is forgotten" : NULL;
	}
	return NULL;
}

static const char *note_text(uint16_t note)
{
	switch (note) {
	case SYNACK_NOTE_RETRANSMIT:
		return "↻ retransmission timer expired: sending again";
	case SYNACK_NOTE_FAST_RETRANSMIT:
		return "↻ three duplicate ACKs: fast retransmit";
	case SYNACK_NOTE_CHALLENGE_ACK:
		return "suspicious segment: answered with a challenge ACK (RFC 5961)";
	case SYNACK_NOTE_ZERO_WINDOW_PROBE:
		return "the peer's window is zero: probing it";
	case SYNACK_NOTE_DELAYED_ACK:
		return "delayed-ACK timer fired: ACK sent on its own";
	case SYNACK_NOTE_TIMEOUT:
		return "no answer to retransmissions or probes: the connection is given up";
	case SYNACK_NOTE_OOO_QUEUED:
		return "segment after a gap: kept until the gap is filled";
	case SYNACK_NOTE_KEEPALIVE:
		return "keepalive probe";
	case SYNACK_NOTE_LOSS_PROBE:
		return "↻ no ACK for two round trips: tail loss probe";
	case SYNACK_NOTE_SPURIOUS_RTO:
		return "the timeout was spurious (the originals arrived): window restored";
	case SYNACK_NOTE_SPURIOUS_RECOVERY:
		return "every retransmission came back as a D-SACK: no loss, window restored";
	}
	return NULL; /* TIME_WAIT_DONE: the state change says it */
}

/* ---------------------------------------------------------------- events */

static void conv_init(struct conv *c)
{
	memset(c, 0, sizeof *c);
	for (int s = 0; s < 2; s++) {
		c->s[s].wscale = -1;
		c->s[s].dropped_at = SYNACK_TIME_NEVER;
	}
}

static bool same_endpoint(const synack_endpoint *a, const synack_endpoint *b)
{
	return a->port == b->port && a->addr.family == b->addr.family &&
	       (a->addr.family == SYNACK_AF_NONE || synack_addr_equal(&a->addr, &b->addr));
}

/* The conversation of a record (see the notes at the top). */
static struct conv *conv_of(struct ladder *L, const synack_trace_rec *r)
{
	struct conv *c = &L->conv[0];
	if (!L->o.one_stack)
		return c;
	for (size_t i = 0; i < LADDER_CONVS; i++) {
		struct conv *x = &L->conv[i];
		if (x->used && same_endpoint(&x->local, &r->local) && same_endpoint(&x->remote, &r->remote)) {
			x->used = ++L->clock;
			return x;
		}
		if (x->used < c->used)
			c = x;
	}
	conv_init(c);
	c->local = r->local;
	c->remote = r->remote;
	c->used = ++L->clock;
	return c;
}

static void seg_draw(struct ladder *L, struct conv *c, int s, const synack_trace_rec *r, bool lost)
{
	char label[160], opts[160], why[300];
	if (L->o.explain)
		explain(L, c, s, r, why, sizeof why);
	learn(L, c, s, r); /* the ISN is known from here on: the label is relative */
	seg_label(L, c, s, &r->seg, label, sizeof label);
	opts_text(&r->seg, opts, sizeof opts);
	put_gap(L, r->time);
	put_arrow(L, r->time, s, label, lost);
	if (opts[0])
		put_note(L, C_DIM, opts);
	if (L->o.explain)
		put_note(L, C_NOTE, why);
	if (lost)
		put_note(L, C_LOST, "✗ lost on the link: this segment never arrived");
}

static void seg_line(struct ladder *L, struct conv *c, int s, const synack_trace_rec *r, bool lost)
{
	char label[160], opts[160];
	learn(L, c, s, r);
	seg_label(L, c, s, &r->seg, label, sizeof label);
	opts_text(&r->seg, opts, sizeof opts);
	line_begin(L, r->time, r, r->kind == SYNACK_TRACE_SEG_IN ? "<" : ">");
	fprintf(L->o.out, "%s%s%s%s\n", label, opts[0] ? " " : "", opts, lost ? " (lost)" : "");
}

static void on_seg(struct ladder *L, const struct ladder_event *ev)
{
	const synack_trace_rec *r = ev->rec;
	bool in = r->kind == SYNACK_TRACE_SEG_IN;
	if (in && !L->o.one_stack)
		return; /* two stacks: arrivals are implied by the arrows */
	int s = L->o.one_stack ? in : ev->side;
	struct conv *c = conv_of(L, r);
	L->counts[s].lost += ev->lost;
	if (L->o.style == LADDER_DRAW)
		seg_draw(L, c, s, r, ev->lost);
	else
		seg_line(L, c, s, r, ev->lost);
}

static void on_state(struct ladder *L, int s, const synack_trace_rec *r)
{
	struct conv *c = conv_of(L, r);
	char text[96], pre[40], buf[160];
	if (r->new_state == SYNACK_TCP_LISTEN)
		c->listener_id[s] = r->conn_id;
	bool conn = r->conn_id != c->listener_id[s];
	if (conn)
		c->s[s].state = r->new_state;
	if (L->o.style == LADDER_LINES) {
		line_begin(L, r->time, r, " ");
		fprintf(L->o.out, "%s%s → %s\n", who(L, s, pre, sizeof pre),
			synack_tcp_state_name(r->old_state), synack_tcp_state_name(r->new_state));
		return;
	}
	snprintf(text, sizeof text, "%s: %s → %s", name(L, s), synack_tcp_state_name(r->old_state),
		 synack_tcp_state_name(r->new_state));
	put_gap(L, r->time);
	put_side(L, r->time, s, C_STATE, text);
	const char *why =
	    L->o.explain && conn ? state_meaning(L, r->old_state, r->new_state, buf, sizeof buf) : NULL;
	if (why)
		put_note(L, C_NOTE, why);
}

static void on_note(struct ladder *L, int s, const synack_trace_rec *r)
{
	const char *t = note_text(r->note);
	char text[160], pre[40];
	if (!t)
		return;
	if (L->o.style == LADDER_LINES) {
		line_begin(L, r->time, r, " ");
		fprintf(L->o.out, "%s%s\n", who(L, s, pre, sizeof pre), t);
		return;
	}
	snprintf(text, sizeof text, "%s: %s", name(L, s), t);
	put_gap(L, r->time);
	put_side(L, r->time, s, C_NOTE, text);
}

static void on_drop(struct ladder *L, int s, const synack_trace_rec *r)
{
	enum synack_counter id = (enum synack_counter)r->note;
	char text[200], pre[40];
	conv_of(L, r)->s[s].dropped_at = r->time;
	if (L->o.style == LADDER_LINES) {
		line_begin(L, r->time, r, "✗");
		fprintf(L->o.out, "%sdropped: %s (%s)\n", who(L, s, pre, sizeof pre), synack_counter_doc(id),
			synack_counter_name(id));
		return;
	}
	snprintf(text, sizeof text, "✗ %s drops a segment: %s", name(L, s), synack_counter_doc(id));
	put_gap(L, r->time);
	put_note_at(L, r->time, C_LOST, text);
}

static void on_trace(struct ladder *L, const struct ladder_event *ev)
{
	int s = L->o.one_stack ? 0 : ev->side;
	switch (ev->rec->kind) {
	case SYNACK_TRACE_SEG_IN:
	case SYNACK_TRACE_SEG_OUT:
		return on_seg(L, ev);
	case SYNACK_TRACE_STATE:
		return on_state(L, s, ev->rec);
	case SYNACK_TRACE_NOTE:
		return on_note(L, s, ev->rec);
	case SYNACK_TRACE_DROP:
		return on_drop(L, s, ev->rec);
	}
}

static void on_message(struct ladder *L, const struct ladder_event *ev)
{
	if (L->o.style == LADDER_LINES) {
		line_begin(L, ev->time, NULL, ev->side == 0 ? ">" : "<");
		fprintf(L->o.out, "%s%s%s%s\n", ev->label, ev->text ? ": " : "", ev->text ? ev->text : "",
			ev->lost ? " (lost)" : "");
		return;
	}
	put_gap(L, ev->time);
	put_arrow(L, ev->time, ev->side, ev->label, ev->lost);
	if (ev->text)
		put_note(L, C_NOTE, ev->text);
}

static void on_text(struct ladder *L, const struct ladder_event *ev)
{
	if (L->o.style == LADDER_LINES) {
		line_begin(L, ev->time, NULL, " ");
		fprintf(L->o.out, "%s\n", ev->text);
		return;
	}
	put_gap(L, ev->time);
	if (ev->side == 0 || ev->side == 1)
		put_side(L, ev->time, ev->side, C_NOTE, ev->text);
	else
		put_note_at(L, ev->time, C_NOTE, ev->text);
}

/* ---------------------------------------------------------------- interface */

int ladder_new(const struct ladder_opts *o, struct ladder **out)
{
	struct ladder *L = calloc(1, sizeof *L);
	*out = L;
	if (!L)
		return -ENOMEM;
	L->o = *o;
	L->width = o->width ? o->width : LADDER_WIDTH;
	if (L->width < 20)
		L->width = 20;
	if (L->width > LADDER_MAX_WIDTH)
		L->width = LADDER_MAX_WIDTH;
	conv_init(&L->conv[0]);
	return 0;
}

void ladder_add(struct ladder *L, const struct ladder_event *ev)
{
	if (L->o.style == LADDER_DRAW && !L->headed)
		put_heading(L);
	switch (ev->kind) {
	case LADDER_TRACE:
		return on_trace(L, ev);
	case LADDER_MESSAGE:
		return on_message(L, ev);
	case LADDER_TEXT:
		return on_text(L, ev);
	}
}

void ladder_end(struct ladder *L)
{
	if (L->o.style != LADDER_DRAW)
		return;
	if (!L->headed)
		put_heading(L);
	put_row(L, SYNACK_TIME_NEVER, NULL, "");
}

void ladder_counts(const struct ladder *L, int side, struct ladder_counts *out)
{
	*out = L->counts[side & 1];
}

void ladder_free(struct ladder *L)
{
	free(L);
}
