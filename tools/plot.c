/* The time-sequence graph as SVG (tools/plot.h says what is drawn).
 *
 * Implementation notes
 *
 * Collect, then draw. plot_add_seg and plot_add_sample only append to three
 * bounded arrays (marks: data, retransmitted data and SACK bars; the ACK /
 * window-edge steps; the sender's samples); plot_write scales them into
 * two panels that share the time axis. Sequence numbers are kept relative
 * to the sender's ISN + 1 in 32 bits, which is right for transfers below
 * 4 GiB (the demo sends at most 64 MiB).
 *
 * Retransmissions are recognised the way tcptrace does: a data segment that
 * starts below the highest sequence number sent so far. Window scaling
 * follows RFC 7323 §2.2-2.3: the shift is the one the receiver announced in
 * its SYN, applied only if both SYNs carried the option, and never to the
 * window of a SYN.
 *
 * Direct labels: every line is named at its right end, in the margin, so a
 * reader needs the legend only for the marks. The file holds no clock time
 * and prints numbers with fixed precision: equal input, equal bytes. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "plot.h"

enum mark_kind { MARK_DATA, MARK_REXMIT, MARK_SACK };

struct mark {
	synack_time_t t;
	uint32_t lo, hi; /* relative sequence numbers */
	uint8_t kind;	 /* enum mark_kind */
};

struct ackpt {
	synack_time_t t;
	uint32_t ack, edge; /* relative: cumulative ACK, ACK + window */
};

struct sample {
	synack_time_t t, srtt;
	uint32_t cwnd, ssthresh;
};

struct plot {
	struct plot_opts o;
	char *title, *subtitle;
	bool locked, have_base;
	uint32_t base;	      /* the sender's ISN + 1 */
	uint32_t snd_max;     /* relative: the highest seq + len sent */
	int ws_sent, ws_peer; /* window scale options of the SYNs, -1 absent */
	struct mark *m;
	struct ackpt *a;
	struct sample *s;
	size_t nm, capm, na, capa, ns, caps;
	struct plot_counts c;
};

/* ------------------------------------------------------------ collecting */

static char *dup_or_null(const char *s, bool *oom)
{
	if (!s)
		return NULL;
	char *d = strdup(s);
	*oom |= d == NULL;
	return d;
}

int plot_begin(const struct plot_opts *o, struct plot **out)
{
	struct plot *p = calloc(1, sizeof *p);
	bool oom = p == NULL;
	if (p) {
		p->o = *o;
		p->o.max_points = o->max_points ? o->max_points : PLOT_MAX_POINTS;
		p->title = dup_or_null(o->title ? o->title : "", &oom);
		p->subtitle = dup_or_null(o->subtitle, &oom);
		p->ws_sent = p->ws_peer = -1;
		p->locked = o->local.port || o->remote.port;
	}
	if (oom) {
		plot_free(p);
		return -ENOMEM;
	}
	*out = p;
	return 0;
}

void plot_free(struct plot *p)
{
	if (!p)
		return;
	free(p->title);
	free(p->subtitle);
	free(p->m);
	free(p->a);
	free(p->s);
	free(p);
}

/* Room for one more point in *v (of *cap elements of `size` bytes)? Past
 * the cap, or out of memory, the point is counted as left out. */
static bool room(struct plot *p, void **v, size_t *cap, size_t n, size_t size)
{
	if (p->nm + p->na + p->ns >= p->o.max_points) {
		p->c.left_out++;
		return false;
	}
	if (n < *cap)
		return true;
	size_t want = *cap ? *cap * 2 : 1024;
	void *nv = realloc(*v, want * size);
	if (!nv) {
		p->c.left_out++;
		return false;
	}
	*v = nv;
	*cap = want;
	return true;
}

static void add_mark(struct plot *p, synack_time_t t, uint32_t lo, uint32_t hi, enum mark_kind k)
{
	if (room(p, (void **)&p->m, &p->capm, p->nm, sizeof *p->m))
		p->m[p->nm++] = (struct mark){.t = t, .lo = lo, .hi = hi, .kind = (uint8_t)k};
}

static bool same_endpoint(const synack_endpoint *a, const synack_endpoint *b)
{
	return a->port == b->port && synack_addr_equal(&a->addr, &b->addr);
}

static bool ours(struct plot *p, const synack_trace_rec *r)
{
	if (!p->locked) {
		p->o.local = r->local;
		p->o.remote = r->remote;
		p->locked = true;
	}
	return same_endpoint(&r->local, &p->o.local) && same_endpoint(&r->remote, &p->o.remote);
}

/* A segment the sender sent: its SYN fixes the base; data is a mark. */
static void sent(struct plot *p, const synack_trace_rec *r)
{
	const synack_trace_seg *g = &r->seg;
	if (g->flags & SYNACK_TCP_SYN) {
		p->ws_sent = g->wscale;
		if (!p->have_base)
			p->base = g->seq + 1;
		p->have_base = true;
	}
	if (!g->len)
		return;
	if (!p->have_base) /* the SYN was not seen: start at the first data */
		p->base = g->seq;
	p->have_base = true;
	uint32_t lo = g->seq - p->base, hi = lo + g->len;
	bool rexmit = p->c.data_segs > 0 && (int32_t)(lo - p->snd_max) < 0;
	if (p->c.data_segs == 0 || (int32_t)(hi - p->snd_max) > 0)
		p->snd_max = hi;
	p->c.data_segs++;
	p->c.rexmits += rexmit;
	add_mark(p, r->time, lo, hi, rexmit ? MARK_REXMIT : MARK_DATA);
}

/* A segment the sender received: the ACK line, the window edge, SACK. */
static void received(struct plot *p, const synack_trace_rec *r)
{
	const synack_trace_seg *g = &r->seg;
	if (g->flags & SYNACK_TCP_SYN)
		p->ws_peer = g->wscale;
	if (!(g->flags & SYNACK_TCP_ACK) || (g->flags & SYNACK_TCP_RST) || !p->have_base)
		return;
	bool scaled = !(g->flags & SYNACK_TCP_SYN) && p->ws_sent >= 0 && p->ws_peer >= 0;
	uint32_t ack = g->ack - p->base;
	uint32_t edge = ack + (uint32_t)((uint64_t)g->wnd << (scaled ? p->ws_peer : 0));
	p->c.acks++;
	bool changed = !p->na || p->a[p->na - 1].ack != ack || p->a[p->na - 1].edge != edge;
	if (changed && room(p, (void **)&p->a, &p->capa, p->na, sizeof *p->a))
		p->a[p->na++] = (struct ackpt){.t = r->time, .ack = ack, .edge = edge};
	int n = g->sack_blocks < SYNACK_TRACE_MAX_SACK ? g->sack_blocks : SYNACK_TRACE_MAX_SACK;
	for (int i = 0; i < n; i++) {
		p->c.sack_blocks++;
		add_mark(p, r->time, g->sack[i][0] - p->base, g->sack[i][1] - p->base, MARK_SACK);
	}
}

void plot_add_seg(struct plot *p, const synack_trace_rec *r)
{
	if (r->kind != SYNACK_TRACE_SEG_OUT && r->kind != SYNACK_TRACE_SEG_IN)
		return;
	if (!ours(p, r))
		return;
	if (r->kind == SYNACK_TRACE_SEG_OUT)
		sent(p, r);
	else
		received(p, r);
}

void plot_add_sample(struct plot *p, synack_time_t now, const synack_tcp_info *info)
{
	struct sample v = {.t = now, .srtt = info->srtt, .cwnd = info->cwnd, .ssthresh = info->ssthresh};
	if (p->ns) {
		const struct sample *l = &p->s[p->ns - 1];
		if (l->cwnd == v.cwnd && l->ssthresh == v.ssthresh && l->srtt == v.srtt)
			return;
	}
	if (room(p, (void **)&p->s, &p->caps, p->ns, sizeof *p->s)) {
		p->s[p->ns++] = v;
		p->c.samples++;
	}
}

void plot_counts(const struct plot *p, struct plot_counts *c)
{
	*c = p->c;
}

/* ------------------------------------------------------------ scales */

/* The page: two panels sharing the time axis; a right margin for the
 * second axis and the lines' names. */
enum {
	PAGE_W = 980,
	PAGE_H = 830,
	AREA_X = 95,
	AREA_W = 720,
	TOP_Y = 96,
	TOP_H = 420,
	BOT_Y = 590,
	BOT_H = 190,
};

/* A linear axis from 0 to max, with ticks every `step`. */
struct axis {
	double max, step;
	int decimals;
};

/* 1, 2 or 5 times a power of ten, giving about `want` ticks up to max. */
static struct axis make_axis(double max, int want)
{
	if (!(max > 0))
		max = 1;
	double raw = max / want, mag = pow(10, floor(log10(raw)));
	double f = raw / mag, step = (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
	int dec = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
	return (struct axis){.max = ceil(max / step - 1e-9) * step, .step = step, .decimals = dec};
}

struct panel {
	double x, y, w, h; /* the plotting area */
	struct axis tx, left, right;
};

static double px(const struct panel *pn, double t)
{
	return pn->x + t / pn->tx.max * pn->w;
}

static double py(const struct panel *pn, const struct axis *a, double v)
{
	return pn->y + pn->h - v / a->max * pn->h;
}

static double secs(const struct plot *p, synack_time_t t)
{
	return (double)(t - p->o.t0) / 1e6;
}

/* The last time anything was recorded, in seconds from t0. */
static double t_end(const struct plot *p)
{
	double t = 0;
	for (size_t i = 0; i < p->nm; i++) /* sent and received marks interleave */
		t = fmax(t, secs(p, p->m[i].t));
	if (p->na)
		t = fmax(t, secs(p, p->a[p->na - 1].t));
	if (p->ns)
		t = fmax(t, secs(p, p->s[p->ns - 1].t));
	return t;
}

static double seq_max(const struct plot *p)
{
	uint32_t m = 0;
	for (size_t i = 0; i < p->nm; i++)
		m = p->m[i].hi > m ? p->m[i].hi : m;
	for (size_t i = 0; i < p->na; i++)
		m = p->a[i].edge > m ? p->a[i].edge : m;
	return m;
}

static void sample_max(const struct plot *p, double *bytes, double *ms)
{
	*bytes = *ms = 0;
	for (size_t i = 0; i < p->ns; i++) {
		const struct sample *s = &p->s[i];
		*bytes = fmax(*bytes, s->cwnd);
		if (s->ssthresh != UINT32_MAX)
			*bytes = fmax(*bytes, s->ssthresh);
		*ms = fmax(*ms, (double)s->srtt / 1e3);
	}
}

static void make_panels(const struct plot *p, struct panel *top, struct panel *bot)
{
	double bytes, ms;
	struct axis tx = make_axis(t_end(p), 10);
	sample_max(p, &bytes, &ms);
	*top = (struct panel){.x = AREA_X, .y = TOP_Y, .w = AREA_W, .h = TOP_H, .tx = tx};
	top->left = make_axis(seq_max(p), 8);
	*bot = (struct panel){.x = AREA_X, .y = BOT_Y, .w = AREA_W, .h = BOT_H, .tx = tx};
	bot->left = make_axis(bytes, 4);
	bot->right = make_axis(ms, 4);
}

/* ------------------------------------------------------------ drawing */

static void xml_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		default:
			fputc(*s, f);
		}
	}
}

/* A tick value: with thousands separators when whole. */
static void tick_text(char *buf, size_t len, double v, int decimals)
{
	if (decimals > 0) {
		snprintf(buf, len, "%.*f", decimals, v);
		return;
	}
	char digits[32];
	snprintf(digits, sizeof digits, "%.0f", v);
	size_t n = strlen(digits), o = 0;
	for (size_t i = 0; i < n && o + 2 < len; i++) {
		if (i && (n - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = digits[i];
	}
	buf[o] = '\0';
}

static void label(FILE *f, double x, double y, const char *anchor, const char *cls, const char *text)
{
	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" class=\"%s\">", x, y, anchor, cls);
	xml_text(f, text);
	fputs("</text>\n", f);
}

/* Grid lines and tick values along x. */
static void x_ticks(FILE *f, const struct panel *pn)
{
	char buf[32];
	for (double t = 0; t <= pn->tx.max + pn->tx.step / 2; t += pn->tx.step) {
		double x = px(pn, t);
		fprintf(f, "<path class=\"grid\" d=\"M%.1f %.1fV%.1f\"/>\n", x, pn->y, pn->y + pn->h);
		tick_text(buf, sizeof buf, t, pn->tx.decimals);
		label(f, x, pn->y + pn->h + 15, "middle", "tick", buf);
	}
}

/* Grid lines and values of a y axis, on the left or (right) the right. */
static void y_ticks(FILE *f, const struct panel *pn, const struct axis *a, bool right)
{
	char buf[32];
	for (double v = 0; v <= a->max + a->step / 2; v += a->step) {
		double y = py(pn, a, v);
		if (!right)
			fprintf(f, "<path class=\"grid\" d=\"M%.1f %.1fH%.1f\"/>\n", pn->x, y, pn->x + pn->w);
		tick_text(buf, sizeof buf, v, a->decimals);
		label(f, right ? pn->x + pn->w + 6 : pn->x - 6, y + 4, right ? "start" : "end", "tick", buf);
	}
}

static void y_title(FILE *f, double x, double y, const char *cls, const char *text)
{
	fprintf(f,
		"<text transform=\"translate(%.1f %.1f) rotate(-90)\" text-anchor=\"middle\" class=\"%s\">",
		x, y, cls);
	xml_text(f, text);
	fputs("</text>\n", f);
}

static void frame(FILE *f, const struct panel *pn, const char *ytitle)
{
	x_ticks(f, pn);
	y_ticks(f, pn, &pn->left, false);
	fprintf(f, "<rect class=\"frame\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>\n", pn->x,
		pn->y, pn->w, pn->h);
	label(f, pn->x + pn->w / 2, pn->y + pn->h + 34, "middle", "axis", "time (s)");
	y_title(f, pn->x - 72, pn->y + pn->h / 2, "axis", ytitle);
}

/* A point of a step line; `on` false where the line is hidden. */
struct pt {
	double x, y;
	bool on;
};

/* A step line through v[0..n-1], held to x_end; gaps where !on. */
static void step_path(FILE *f, const char *cls, const struct pt *v, size_t n, double x_end)
{
	bool pen = false, any = false;
	for (size_t i = 0; i < n; i++)
		any |= v[i].on;
	if (!any)
		return;
	fprintf(f, "<path class=\"%s\" d=\"", cls);
	for (size_t i = 0; i < n; i++) {
		if (!v[i].on) {
			if (pen)
				fprintf(f, "H%.1f", v[i].x);
			pen = false;
		} else if (!pen) {
			fprintf(f, "M%.1f %.1f", v[i].x, v[i].y);
			pen = true;
		} else {
			fprintf(f, "H%.1fV%.1f", v[i].x, v[i].y);
		}
	}
	if (pen)
		fprintf(f, "H%.1f", x_end);
	fputs("\"/>\n", f);
}

/* A line's name at its right end. */
struct end_label {
	double y;
	const char *cls, *text;
};

/* Names in the right margin at x, pushed apart to 13 px at least. */
static void end_labels(FILE *f, double x, struct end_label *l, int n)
{
	for (int i = 0; i < n; i++) /* sort by y: n is tiny */
		for (int j = i + 1; j < n; j++)
			if (l[j].y < l[i].y) {
				struct end_label t = l[i];
				l[i] = l[j];
				l[j] = t;
			}
	for (int i = 1; i < n; i++)
		if (l[i].y < l[i - 1].y + 13)
			l[i].y = l[i - 1].y + 13;
	for (int i = 0; i < n; i++)
		label(f, x, l[i].y + 4, "start", l[i].cls, l[i].text);
}

/* ------------------------------------------------------------ top panel */

static void mark(FILE *f, const struct plot *p, const struct panel *pn, const struct mark *m)
{
	double x = px(pn, secs(p, m->t)), y1 = py(pn, &pn->left, m->lo), y2 = py(pn, &pn->left, m->hi);
	if (y1 - y2 < 2) /* at least 2 px tall: a bar, not a dot */
		y2 = y1 - 2;
	if (m->kind == MARK_SACK) {
		fprintf(f, "<path class=\"sack\" d=\"M%.1f %.1fV%.1f\"/>\n", x + 1.5, y1, y2);
		return;
	}
	fprintf(f, "<path class=\"seg%s\" d=\"M%.1f %.1fV%.1fm-2 0h4\"/>\n",
		m->kind == MARK_REXMIT ? " rexmit" : "", x, y1, y2);
	if (m->kind == MARK_REXMIT)
		fprintf(f, "<circle class=\"rxmark\" cx=\"%.1f\" cy=\"%.1f\" r=\"5\"/>\n", x, (y1 + y2) / 2);
}

/* The ACK line and the window edge, named at their ends. */
static int ack_lines(FILE *f, const struct plot *p, const struct panel *pn)
{
	struct pt *v = calloc(p->na ? p->na : 1, sizeof *v);
	if (!v)
		return -ENOMEM;
	double x_end = pn->x + pn->w;
	for (size_t i = 0; i < p->na; i++)
		v[i] = (struct pt){px(pn, secs(p, p->a[i].t)), py(pn, &pn->left, p->a[i].edge), true};
	step_path(f, "win", v, p->na, x_end);
	double win_y = p->na ? v[p->na - 1].y : 0;
	for (size_t i = 0; i < p->na; i++)
		v[i].y = py(pn, &pn->left, p->a[i].ack);
	step_path(f, "ack", v, p->na, x_end);
	if (p->na) {
		struct end_label l[2] = {{v[p->na - 1].y, "l-ack", "ACK"},
					 {win_y, "l-win", "receive window"}};
		end_labels(f, x_end + 6, l, 2);
	}
	free(v);
	return 0;
}

static void legend_row(FILE *f, double x, double y, const char *shape, const char *text)
{
	fprintf(f, "%s\n", shape);
	label(f, x + 22, y + 4, "start", "legend", text);
}

/* The marks' key, top left, where a transfer's line has not yet climbed. */
static void legend(FILE *f, const struct panel *pn)
{
	double x = pn->x + 10, y = pn->y + 10;
	char s[200];
	fprintf(f, "<rect class=\"legendbox\" x=\"%.1f\" y=\"%.1f\" width=\"250\" height=\"84\"/>\n", x, y);
	x += 10;
	y += 16;
	snprintf(s, sizeof s, "<path class=\"seg key\" d=\"M%.1f %.1fV%.1fm-2 0h4\"/>", x + 8, y + 6, y - 6);
	legend_row(f, x, y, s, "data segment (seq to seq+len, when sent)");
	y += 20;
	snprintf(s, sizeof s,
		 "<path class=\"seg rexmit key\" d=\"M%.1f %.1fV%.1fm-2 0h4\"/><circle class=\"rxmark key\" "
		 "cx=\"%.1f\" cy=\"%.1f\" r=\"5\"/>",
		 x + 8, y + 6, y - 6, x + 8, y);
	legend_row(f, x, y, s, "retransmitted segment");
	y += 20;
	snprintf(s, sizeof s, "<path class=\"sack key\" d=\"M%.1f %.1fV%.1f\"/>", x + 8, y + 6, y - 6);
	legend_row(f, x, y, s, "SACK block the receiver reported");
	y += 18;
	label(f, x, y + 4, "start", "legend", "lines: named at their right end");
}

static int top_panel(FILE *f, const struct plot *p, const struct panel *pn)
{
	frame(f, pn, "relative sequence number (bytes)");
	for (size_t i = 0; i < p->nm; i++)
		if (p->m[i].kind == MARK_SACK)
			mark(f, p, pn, &p->m[i]);
	int err = ack_lines(f, p, pn);
	for (size_t i = 0; i < p->nm; i++)
		if (p->m[i].kind != MARK_SACK)
			mark(f, p, pn, &p->m[i]);
	legend(f, pn);
	return err;
}

/* ------------------------------------------------------------ bottom panel */

static int bottom_panel(FILE *f, const struct plot *p, const struct panel *pn)
{
	size_t n = p->ns;
	struct pt *v = calloc(n ? n : 1, sizeof *v);
	struct end_label l[3];
	int nl = 0;
	double x_end = pn->x + pn->w;
	if (!v)
		return -ENOMEM;
	frame(f, pn, "cwnd, ssthresh (bytes)");
	y_ticks(f, pn, &pn->right, true);
	y_title(f, pn->x + pn->w + 62, pn->y + pn->h / 2, "axis l-srtt", "srtt (ms)");
	for (size_t i = 0; i < n; i++) {
		const struct sample *s = &p->s[i];
		v[i] = (struct pt){px(pn, secs(p, s->t)), py(pn, &pn->left, s->ssthresh),
				   s->ssthresh != UINT32_MAX};
	}
	step_path(f, "ssth", v, n, x_end);
	if (n && v[n - 1].on)
		l[nl++] = (struct end_label){v[n - 1].y, "l-ssth", "ssthresh"};
	for (size_t i = 0; i < n; i++) {
		v[i].y = py(pn, &pn->right, (double)p->s[i].srtt / 1e3);
		v[i].on = p->s[i].srtt > 0;
	}
	step_path(f, "srtt", v, n, x_end);
	if (n && v[n - 1].on)
		l[nl++] = (struct end_label){v[n - 1].y, "l-srtt", "srtt"};
	for (size_t i = 0; i < n; i++) {
		v[i].y = py(pn, &pn->left, p->s[i].cwnd);
		v[i].on = true;
	}
	step_path(f, "cwnd", v, n, x_end);
	if (n)
		l[nl++] = (struct end_label){v[n - 1].y, "l-cwnd", "cwnd"};
	end_labels(f, x_end + 92, l, nl);
	free(v);
	return 0;
}

/* ------------------------------------------------------------ the page */

static const char style[] =
    "text{font-family:sans-serif;font-size:11px;fill:#222}\n"
    ".title{font-size:15px;font-weight:bold}.sub{font-size:12px;fill:#444}\n"
    ".axis{font-size:12px}.tick{fill:#555}.legend{font-size:11px}\n"
    ".legendbox{fill:#fff;fill-opacity:.9;stroke:#bbb}\n"
    ".grid{stroke:#e6e6e6;stroke-width:1}.frame{fill:none;stroke:#888}\n"
    ".seg{stroke:#000;stroke-width:1.2;fill:none}.rexmit{stroke:#d00000;stroke-width:1.8}\n"
    ".rxmark{fill:none;stroke:#d00000;stroke-width:1}.sack{stroke:#8a2be2;stroke-width:1.6}\n"
    ".ack{stroke:#1a9a1a;fill:none;stroke-width:1.3}.win{stroke:#d4a000;fill:none;stroke-width:1.3}\n"
    ".cwnd{stroke:#1f5fbf;fill:none;stroke-width:1.6}\n"
    ".ssth{stroke:#b05000;fill:none;stroke-width:1.4;stroke-dasharray:6 3}\n"
    ".srtt{stroke:#009090;fill:none;stroke-width:1.2}\n"
    ".l-ack{fill:#1a9a1a}.l-win{fill:#a07800}.l-cwnd{fill:#1f5fbf}.l-ssth{fill:#b05000}"
    ".l-srtt{fill:#007070}\n";

static void header(FILE *f, const struct plot *p)
{
	char s[240];
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", f);
	fprintf(f,
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		"viewBox=\"0 0 %d %d\">\n",
		PAGE_W, PAGE_H, PAGE_W, PAGE_H);
	fputs("<title>", f);
	xml_text(f, p->title);
	fprintf(f, "</title>\n<style>\n%s</style>\n", style);
	fprintf(f, "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>\n", PAGE_W, PAGE_H);
	label(f, AREA_X, 24, "start", "title", p->title);
	if (p->subtitle)
		label(f, AREA_X, 44, "start", "sub", p->subtitle);
	snprintf(s, sizeof s,
		 "%zu data segments sent, %zu retransmitted; %zu ACKs received, %zu SACK blocks in them",
		 p->c.data_segs, p->c.rexmits, p->c.acks, p->c.sack_blocks);
	label(f, AREA_X, 62, "start", "sub", s);
	if (p->c.left_out) {
		snprintf(s, sizeof s, "%zu points left out: at most %zu are drawn", p->c.left_out,
			 p->o.max_points);
		label(f, AREA_X, 80, "start", "sub l-ssth", s);
	}
}

int plot_write(const struct plot *p, FILE *f)
{
	struct panel top, bot;
	make_panels(p, &top, &bot);
	header(f, p);
	int err = top_panel(f, p, &top);
	label(f, AREA_X, BOT_Y - 14, "start", "sub",
	      "the sender's congestion window, slow-start threshold and smoothed RTT");
	if (!err)
		err = bottom_panel(f, p, &bot);
	fputs("</svg>\n", f);
	if (!err && (fflush(f) || ferror(f)))
		err = -EIO;
	return err;
}

/* ------------------------------------------------------------ simulators */

void plot_drain(struct plot *p, synack_stack *st)
{
	synack_trace_rec buf[64];
	size_t n;
	while ((n = synack_stack_trace_drain(st, buf, 64)) > 0)
		for (size_t i = 0; i < n; i++)
			plot_add_seg(p, &buf[i]);
}

int plot_close(const struct plot *p, FILE *f)
{
	int err = plot_write(p, f);
	if (fclose(f) && !err)
		err = -EIO;
	return err;
}
