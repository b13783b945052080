/* Runs a packetdrill-syntax script against a fresh synack stack on virtual
 * time. The script plays the remote peer (192.0.2.1) and the application
 * (socket calls through synack/socket.h); synack is the local host
 * (192.168.0.1).
 *
 * Implementation notes
 * - Time: every event has a script time; before an event runs, virtual time
 *   advances to it, running the stack's timers. An outbound event waits for
 *   the next frame the stack sends, which must come within the tolerance
 *   of its time; any frame sent while no outbound event expects it is an
 *   "unexpected packet" failure. Relative times after an outbound event
 *   count from when the frame actually left (as packetdrill does).
 * - Sequence numbers: inbound ones are used as written (the script's ISN is
 *   its own); outbound seq is relative to synack's ISN, learned from the
 *   first SYN synack sends; inbound ack fields are mapped by that ISN. An
 *   inbound TS ecr that names a TS val the script expected synack to send is
 *   mapped to the value synack really sent.
 * - Conformance mode (default) compares flags, seq, ack, payload length,
 *   timing and call results; --strict also compares windows and options.
 * - Backtick commands are never run: sysctls with a synack equivalent set
 *   the stack's configuration, `sockstat ... | grep -c STATE | grep N`
 *   asserts how many connections are in STATE, `tcpdrop -s STATE` drops
 *   them; anything else is counted as skipped. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pkt_run.h"
#include "synack/synack.h"
#include "wire/wire.h"

enum { QMAX = 256, TSMAP = 64, REMOTE_PORT_PASSIVE = 40000, DEFAULT_PORT = 8080 };

struct frame {
	synack_time_t t;
	size_t len;
	uint8_t buf[1600];
};

struct runner {
	const struct pkt_script *sc;
	const struct pkt_run_opts *o;
	struct pkt_result *res;
	synack_stack *st;
	synack_sockets *socks;
	synack_prng rng;
	synack_tcp_config tcp;
	struct frame *q;
	int qh, qn, qdropped;
	uint32_t mtu;
	synack_time_t now, last;
	synack_addr local, remote;
	uint16_t local_port, remote_port;
	bool bound, isn_known;
	uint32_t isn;
	uint32_t ts_script[TSMAP], ts_actual[TSMAP];
	int nts;
	int last_fd;
	const struct pkt_event *ev;
};

static bool failf(struct runner *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static bool failf(struct runner *r, const char *fmt, ...)
{
	va_list ap;
	if (r->res->status == PKT_FAIL)
		return false;
	r->res->status = PKT_FAIL;
	r->res->line = r->ev ? r->ev->line : 0;
	va_start(ap, fmt);
	vsnprintf(r->res->msg, sizeof r->res->msg, fmt, ap);
	va_end(ap);
	return false;
}

/* ---- the stack and its link ---- */

static int capture_tx(void *ctx, const uint8_t *frame, size_t len)
{
	struct runner *r = ctx;
	/* RFC 6691 §2, RFC 9293 §3.7.1: options come off the data, so no
	 * packet may exceed the MTU, whatever it carries */
	if (len > r->mtu)
		failf(r, "synack sent a %zu-byte packet, above the %u-byte MTU", len, r->mtu);
	if (r->qn == QMAX || len > sizeof r->q[0].buf) {
		r->qdropped++;
		return -ENOBUFS;
	}
	struct frame *f = &r->q[(r->qh + r->qn++) % QMAX];
	f->t = synack_stack_now(r->st);
	f->len = len;
	memcpy(f->buf, frame, len);
	return 0;
}

/* FreeBSD's defaults (sys/netinet/tcp_timer.h, tcp_var.h): MSL 30 s,
 * delayed ACK 100 ms, RTO 1 s initial and 30 ms minimum, 64 KiB receive and
 * 32 KiB send buffers, persist 5 s .. 60 s. */
static void profile_freebsd(synack_tcp_config *c)
{
	c->msl = SYNACK_SEC(30);
	c->delack = SYNACK_MSEC(100);
	c->rto_initial = SYNACK_SEC(1);
	c->rto_min = SYNACK_MSEC(30);
	c->rto_max = SYNACK_SEC(64);
	c->persist_min = SYNACK_SEC(5);
	c->persist_max = SYNACK_SEC(60);
	c->rcvbuf = 65536;
	c->sndbuf = 32768;
	c->syn_retries = 6;
	c->synack_retries = 3;
	c->data_retries = 12;
	c->rcvbuf_round_mss = 1;
	c->rto_slop = SYNACK_MSEC(200); /* net.inet.tcp.rexmit_slop */
}

static bool stack_up(struct runner *r)
{
	synack_stack_config cfg;
	synack_stack_config_init(&cfg);
	if (r->o->profile == PKT_PROFILE_FREEBSD)
		profile_freebsd(&cfg.tcp);
	r->tcp = cfg.tcp;
	/* packetdrill's defaults: synack is the local host, the script plays
	 * 192.0.2.1 / 2001:db8::1 */
	if (r->sc->ip_version == 6) {
		synack_addr_parse("fd3d:fa7b:d17d::1", &cfg.addr6);
		cfg.prefix6_len = 48;
		synack_addr_parse("2001:db8::1", &r->remote);
		r->local = cfg.addr6;
	} else {
		synack_addr_parse("192.168.0.1", &cfg.addr);
		cfg.prefix_len = 16;
		synack_addr_parse("192.0.2.1", &r->remote);
		r->local = cfg.addr;
	}
	synack_prng_seed(&r->rng, 1);
	cfg.rng = (synack_rng){synack_prng_fill, &r->rng};
	cfg.tx = capture_tx;
	cfg.tx_ctx = r;
	r->mtu = cfg.mtu;
	if (r->o->verbose)
		cfg.trace_capacity = 4096;
	if (synack_stack_create(&cfg, 0, &r->st) || synack_sockets_create(r->st, 3, &r->socks))
		return failf(r, "cannot create the stack");
	return true;
}

/* ---- describing segments ---- */

static void flags_str(uint8_t f, char *out)
{
	static const struct {
		uint8_t bit;
		char c;
	} order[] = {{SYNACK_TCP_SYN, 'S'}, {SYNACK_TCP_FIN, 'F'}, {SYNACK_TCP_RST, 'R'}, {SYNACK_TCP_PSH, 'P'},
		     {SYNACK_TCP_URG, 'U'}, {SYNACK_TCP_ECE, 'E'}, {SYNACK_TCP_CWR, 'W'}, {SYNACK_TCP_ACK, '.'}};
	int n = 0;
	for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
		if (f & order[i].bit)
			out[n++] = order[i].c;
	if (!n)
		out[n++] = '-';
	out[n] = 0;
}

static int opts_str(const struct wire_tcp_opts *o, char *out, size_t len)
{
	int n = 0;
	out[0] = 0;
	if (o->has_mss)
		n += snprintf(out + n, len - (size_t)n, "mss %u,", o->mss);
	if (o->sack_ok)
		n += snprintf(out + n, len - (size_t)n, "sackOK,");
	if (o->has_ts)
		n += snprintf(out + n, len - (size_t)n, "TS val %u ecr %u,", o->ts_val, o->ts_ecr);
	if (o->wscale >= 0)
		n += snprintf(out + n, len - (size_t)n, "wscale %d,", o->wscale);
	for (int i = 0; i < o->nsack && n < (int)len; i++)
		n += snprintf(out + n, len - (size_t)n, "%s%u:%u%s", i ? "" : "sack ", o->sack[i][0], o->sack[i][1],
			      i + 1 < o->nsack ? " " : ",");
	if (n > 0)
		out[--n] = 0;
	return n;
}

static void describe_actual(const struct runner *r, const struct wire_tcp *h, char *out, size_t len)
{
	char f[12], opts[160];
	uint32_t seq = h->seq - (r->isn_known ? r->isn : 0);
	flags_str(h->flags, f);
	opts_str(&h->opt, opts, sizeof opts);
	int n = snprintf(out, len, "%s %u:%u(%zu)", f, seq, seq + (uint32_t)h->payload_len, h->payload_len);
	if (h->flags & SYNACK_TCP_ACK)
		n += snprintf(out + n, len - (size_t)n, " ack %u", h->ack);
	snprintf(out + n, len - (size_t)n, " win %u%s%s%s", h->wnd, opts[0] ? " <" : "", opts, opts[0] ? ">" : "");
}

static void describe_expected(const struct pkt_packet *p, char *out, size_t len)
{
	char f[12];
	flags_str(p->flags, f);
	int n = snprintf(out, len, "%s %u:%u(%u)", f, p->seq_start, p->seq_end, p->len);
	if (p->has_ack)
		n += snprintf(out + n, len - (size_t)n, " ack %u", p->ack);
	if (p->has_win)
		snprintf(out + n, len - (size_t)n, " win %u", p->win);
}

/* ---- time ---- */

/* The TCP segment in an outbound IPv4 or IPv6 frame (no extension headers:
 * synack sends none). */
static bool frame_tcp(const struct frame *f, struct wire_tcp *h)
{
	struct wire_ipv4 ip;
	struct wire_ipv6 ip6;
	if (f->len && f->buf[0] >> 4 == 6)
		return !wire_ipv6_parse(f->buf, f->len, &ip6) && ip6.next == WIRE_PROTO_TCP &&
		       !wire_tcp_parse(ip6.payload, ip6.payload_len, h);
	return !wire_ipv4_parse(f->buf, f->len, &ip) && ip.proto == WIRE_PROTO_TCP &&
	       !wire_tcp_parse(ip.payload, ip.payload_len, h);
}

static bool queue_empty_or_fail(struct runner *r)
{
	if (!r->qn)
		return true;
	struct frame *f = &r->q[r->qh];
	struct wire_tcp h;
	char d[256] = "(not a TCP segment)";
	if (frame_tcp(f, &h))
		describe_actual(r, &h, d, sizeof d);
	return failf(r, "unexpected outbound packet at %.6f: %s", f->t / 1e6, d);
}

/* Advance virtual time to t, running timers; frames sent meanwhile stay
 * queued for the caller to judge. */
static void advance(struct runner *r, synack_time_t t)
{
	synack_time_t d;
	while ((d = synack_stack_next_deadline(r->st)) <= t && !r->qn) {
		if (d > r->now)
			r->now = d;
		synack_stack_poll(r->st, r->now);
	}
	if (!r->qn && t > r->now)
		r->now = t;
	synack_stack_poll(r->st, r->now);
}

static synack_time_t event_time(struct runner *r, const struct pkt_event *e)
{
	switch (e->time.kind) {
	case PKT_T_ABS:
		return e->time.us;
	case PKT_T_REL:
		return r->last + e->time.us;
	default:
		return r->now;
	}
}

static synack_time_t event_end_time(struct runner *r, const struct pkt_event *e, synack_time_t start)
{
	if (!e->time.range)
		return start;
	/* "+a~+b": both ends count from the previous event (packetdrill) */
	return e->time.end_kind == PKT_T_REL ? r->last + e->time.end_us : e->time.end_us;
}

/* ---- outbound packets ---- */

static bool take_frame(struct runner *r, synack_time_t hi, struct frame *out)
{
	for (;;) {
		if (r->qn) {
			*out = r->q[r->qh];
			r->qh = (r->qh + 1) % QMAX;
			r->qn--;
			return true;
		}
		synack_time_t d = synack_stack_next_deadline(r->st);
		if (d > hi) {
			if (hi > r->now)
				r->now = hi;
			synack_stack_poll(r->st, r->now);
			if (!r->qn)
				return false;
			continue;
		}
		if (d > r->now)
			r->now = d;
		synack_stack_poll(r->st, r->now);
	}
}

static void ts_remember(struct runner *r, uint32_t script, uint32_t actual)
{
	if (r->nts < TSMAP) {
		r->ts_script[r->nts] = script;
		r->ts_actual[r->nts++] = actual;
	} else {
		memmove(r->ts_script, r->ts_script + 1, (TSMAP - 1) * sizeof r->ts_script[0]);
		memmove(r->ts_actual, r->ts_actual + 1, (TSMAP - 1) * sizeof r->ts_actual[0]);
		r->ts_script[TSMAP - 1] = script;
		r->ts_actual[TSMAP - 1] = actual;
	}
}

static uint32_t ts_map(const struct runner *r, uint32_t script)
{
	for (int i = r->nts - 1; i >= 0; i--)
		if (r->ts_script[i] == script)
			return r->ts_actual[i];
	return script;
}

static const struct pkt_opt *find_opt(const struct pkt_packet *p, enum pkt_opt_kind k)
{
	for (int i = 0; i < p->nopts; i++)
		if (p->opts[i].kind == k)
			return &p->opts[i];
	return NULL;
}

/* The SACK blocks synack sent are those written, in order (RFC 2018 §4:
 * the first is the most recent); they name the script's own sequence
 * numbers, as written. No sack option written: no blocks sent. */
static bool sack_match(const struct pkt_opt *want, const struct wire_tcp_opts *o)
{
	if (!want)
		return o->nsack == 0;
	if (want->nsack != o->nsack)
		return false;
	for (int i = 0; i < o->nsack; i++)
		if (want->sack[i][0] != o->sack[i][0] || want->sack[i][1] != o->sack[i][1])
			return false;
	return true;
}

/* --strict: the options synack sent must be those written (order aside);
 * no option list written means none sent. */
static bool options_match(const struct runner *r, const struct pkt_packet *p, const struct wire_tcp_opts *o)
{
	if (p->opts_any)
		return true;
	const struct pkt_opt *mss = find_opt(p, PKT_OPT_MSS), *ws = find_opt(p, PKT_OPT_WSCALE);
	const struct pkt_opt *ts = find_opt(p, PKT_OPT_TS);
	if (!!mss != !!o->has_mss || (mss && mss->v1 != o->mss))
		return false;
	if (!!ws != (o->wscale >= 0) || (ws && (int)ws->v1 != o->wscale))
		return false;
	if (!!find_opt(p, PKT_OPT_SACKOK) != !!o->sack_ok || !!ts != !!o->has_ts)
		return false;
	if (!sack_match(find_opt(p, PKT_OPT_SACK), o))
		return false;
	return !ts || ts->v2 == 0 || ts_map(r, ts->v2) == o->ts_ecr || ts->v2 == o->ts_ecr;
}

static bool compare_segment(struct runner *r, const struct pkt_packet *p, const struct wire_tcp *h)
{
	uint32_t rel = h->seq - r->isn;
	bool ok = p->flags == h->flags && rel == p->seq_start && h->payload_len == p->len;
	if (ok && p->has_ack)
		ok = (h->flags & SYNACK_TCP_ACK) && h->ack == p->ack;
	if (ok && r->o->strict && p->has_win)
		ok = h->wnd == p->win;
	if (ok && r->o->strict)
		ok = options_match(r, p, &h->opt);
	return ok;
}

static bool learn_from_first(struct runner *r, const struct pkt_packet *p, const struct wire_tcp *h)
{
	if (!r->isn_known && (h->flags & SYNACK_TCP_SYN)) {
		r->isn = h->seq - p->seq_start;
		r->isn_known = true;
	}
	if (!r->bound && !r->local_port)
		r->local_port = h->sport;
	return true;
}

static bool outbound(struct runner *r, const struct pkt_event *e, synack_time_t t)
{
	const struct pkt_packet *p = &e->pkt;
	synack_time_t tol = r->sc->tolerance_us;
	/* "a~b" widens the window; "*" takes the next segment whenever it comes */
	synack_time_t lo = t - tol, hi = event_end_time(r, e, t) + tol;
	if (e->time.kind == PKT_T_ANY) {
		lo = r->now;
		hi = r->now + SYNACK_SEC(600);
	}
	struct frame f;
	struct wire_tcp h;
	char exp[256], act[256];
	describe_expected(p, exp, sizeof exp);
	if (!take_frame(r, hi, &f))
		return failf(r, "expected at %.6f: %s; synack sent nothing by %.6f", t / 1e6, exp, hi / 1e6);
	if (!frame_tcp(&f, &h))
		return failf(r, "expected %s; synack sent a frame that is not a TCP segment", exp);
	learn_from_first(r, p, &h);
	describe_actual(r, &h, act, sizeof act);
	if (!compare_segment(r, p, &h))
		return failf(r, "expected: %s\n      actual:   %s (at %.6f)", exp, act, f.t / 1e6);
	if (f.t < lo)
		return failf(r, "%s sent at %.6f, expected at %.6f (tolerance %.3f s)", act, f.t / 1e6, t / 1e6,
			     tol / 1e6);
	const struct pkt_opt *ts = find_opt(p, PKT_OPT_TS);
	if (ts && h.opt.has_ts)
		ts_remember(r, ts->v1, h.opt.ts_val);
	r->last = f.t;
	return true;
}

/* ---- inbound packets ---- */

static void build_opts(const struct runner *r, const struct pkt_packet *p, struct wire_tcp_opts *o)
{
	memset(o, 0, sizeof *o);
	o->wscale = -1;
	for (int i = 0; i < p->nopts; i++) {
		const struct pkt_opt *x = &p->opts[i];
		switch (x->kind) {
		case PKT_OPT_MSS: o->has_mss = 1; o->mss = (uint16_t)x->v1; break;
		case PKT_OPT_WSCALE: o->wscale = (int8_t)x->v1; break;
		case PKT_OPT_SACKOK: o->sack_ok = 1; break;
		case PKT_OPT_TS:
			o->has_ts = 1;
			o->ts_val = x->v1;
			o->ts_ecr = x->v2 ? ts_map(r, x->v2) : 0;
			break;
		case PKT_OPT_SACK:
			o->nsack = x->nsack;
			for (int k = 0; k < x->nsack && k < 4; k++) {
				o->sack[k][0] = x->sack[k][0] + r->isn;
				o->sack[k][1] = x->sack[k][1] + r->isn;
			}
			break;
		default:
			break;
		}
	}
}

static bool inbound(struct runner *r, const struct pkt_packet *p)
{
	static uint8_t frame[70000];
	struct wire_tcp h;
	memset(&h, 0, sizeof h);
	if (!r->local_port)
		return failf(r, "inbound packet before synack has a port (no bind, no SYN sent yet)");
	if (p->len > 65000)
		return failf(r, "payload of %u bytes is too large", p->len);
	h.sport = r->remote_port;
	h.dport = r->local_port;
	h.seq = p->seq_start;
	h.ack = p->has_ack ? p->ack + r->isn : 0;
	h.flags = p->flags;
	h.wnd = (uint16_t)(p->has_win ? p->win : 65535);
	h.urp = (uint16_t)(p->has_urg ? p->urg : 0);
	build_opts(r, p, &h.opt);
	bool v6 = r->remote.family == SYNACK_AF_INET6;
	size_t iph = v6 ? WIRE_IPV6_HDR : WIRE_IPV4_HDR;
	struct bbuf tcp = bbuf_make(frame + iph, sizeof frame - iph);
	wire_tcp_emit(&tcp, &h, p->len);
	bbuf_zero(&tcp, p->len);
	if (!bbuf_ok(&tcp))
		return failf(r, "inbound segment does not fit a frame");
	wire_tcp_set_csum(tcp.p, tcp.len, &r->remote, &r->local);
	struct bbuf ip = bbuf_make(frame, iph);
	if (v6)
		wire_ipv6_emit(&ip, &r->remote, &r->local, WIRE_PROTO_TCP, 64, tcp.len);
	else
		wire_ipv4_emit(&ip, &r->remote, &r->local, WIRE_PROTO_TCP, 64, 0, WIRE_IPV4_DF, tcp.len);
	synack_stack_input(r->st, frame, iph + tcp.len, r->now);
	return true;
}

/* ---- system calls ---- */

static const struct {
	const char *name;
	int value;
} errnos[] = {
	{"EINPROGRESS", EINPROGRESS}, {"ECONNREFUSED", ECONNREFUSED}, {"ECONNRESET", ECONNRESET},
	{"ETIMEDOUT", ETIMEDOUT}, {"EAGAIN", EAGAIN}, {"EWOULDBLOCK", EWOULDBLOCK}, {"ENOTCONN", ENOTCONN},
	{"EPIPE", EPIPE}, {"EISCONN", EISCONN}, {"EALREADY", EALREADY}, {"EINVAL", EINVAL}, {"EBADF", EBADF},
	{"EADDRINUSE", EADDRINUSE}, {"ECONNABORTED", ECONNABORTED}, {"EOPNOTSUPP", EOPNOTSUPP},
	{"ENOPROTOOPT", ENOPROTOOPT}, {"EMFILE", EMFILE}, {"EDESTADDRREQ", EDESTADDRREQ},
	{"EADDRNOTAVAIL", EADDRNOTAVAIL}, {"EHOSTUNREACH", EHOSTUNREACH}, {"ENETUNREACH", ENETUNREACH},
	{"ENOBUFS", ENOBUFS}, {"EMSGSIZE", EMSGSIZE},
};

static int errno_value(const char *name)
{
	for (size_t i = 0; i < sizeof errnos / sizeof errnos[0]; i++)
		if (strcmp(errnos[i].name, name) == 0)
			return errnos[i].value;
	return -1;
}

static const char *errno_name(int v)
{
	for (size_t i = 0; i < sizeof errnos / sizeof errnos[0]; i++)
		if (errnos[i].value == v)
			return errnos[i].name;
	return "E?";
}

static const struct pkt_expr *arg(const struct pkt_call *c, int i)
{
	return i < c->nargs ? &c->args[i] : NULL;
}

static bool arg_int(const struct pkt_expr *x, int64_t *v)
{
	if (x && x->kind == PKT_X_ARRAY && x->nitems == 1)
		x = &x->items[0];
	if (!x || x->kind != PKT_X_INT)
		return false;
	*v = x->num;
	return true;
}

static bool arg_ident(const struct pkt_expr *x, const char *name)
{
	if (x && x->kind == PKT_X_ARRAY && x->nitems == 1)
		x = &x->items[0];
	if (!x)
		return false;
	if (x->kind == PKT_X_IDENT)
		return strcmp(x->str, name) == 0;
	if (x->kind == PKT_X_OR)
		for (int i = 0; i < x->nitems; i++)
			if (arg_ident(&x->items[i], name))
				return true;
	return false;
}

static int call_fd(struct runner *r, const struct pkt_call *c)
{
	int64_t fd = -1;
	arg_int(arg(c, 0), &fd);
	r->last_fd = (int)fd;
	return (int)fd;
}

static bool blocking_call(const char *name)
{
	return !strcmp(name, "accept") || !strcmp(name, "connect") || !strcmp(name, "read") ||
	       !strcmp(name, "recv") || !strcmp(name, "write") || !strcmp(name, "send");
}

/* One attempt of a call; returns its result (negative errno on error). */
static long long do_call(struct runner *r, const struct pkt_call *c);

static long long sockopt_call(struct runner *r, const struct pkt_call *c, int fd, bool set);

static long long fcntl_call(struct runner *r, const struct pkt_call *c, int fd)
{
	if (arg_ident(arg(c, 1), "F_GETFL")) {
		int nb = synack_get_nonblocking(r->socks, fd);
		if (nb < 0)
			return nb;
		/* O_RDWR, and O_NONBLOCK with FreeBSD's value (0x4) */
		return 0x2 | (nb ? 0x4 : 0);
	}
	if (arg_ident(arg(c, 1), "F_SETFL"))
		return synack_set_nonblocking(r->socks, fd, arg_ident(arg(c, 2), "O_NONBLOCK"));
	return -EINVAL;
}

static long long do_call(struct runner *r, const struct pkt_call *c)
{
	static uint8_t buf[1 << 16];
	const char *n = c->name;
	int fd = strcmp(n, "socket") ? call_fd(r, c) : -1;
	int64_t len = 0;
	synack_endpoint ep = {.addr = r->local, .port = DEFAULT_PORT};
	if (!strcmp(n, "socket")) {
		int s = synack_socket(r->socks);
		if (s >= 0)
			r->last_fd = s;
		return s;
	}
	if (!strcmp(n, "bind")) {
		int e = synack_bind(r->socks, fd, &ep);
		if (!e) {
			r->bound = true;
			r->local_port = DEFAULT_PORT;
			r->remote_port = REMOTE_PORT_PASSIVE;
		}
		return e;
	}
	if (!strcmp(n, "listen")) {
		int64_t backlog = 1;
		arg_int(arg(c, 1), &backlog);
		return synack_listen(r->socks, fd, (int)backlog);
	}
	if (!strcmp(n, "accept")) {
		int nfd = synack_accept(r->socks, fd, NULL);
		if (nfd >= 0)
			r->last_fd = nfd; /* tcp_info now reads the accepted socket */
		return nfd;
	}
	if (!strcmp(n, "connect")) {
		ep.addr = r->remote;
		r->remote_port = DEFAULT_PORT;
		return synack_connect(r->socks, fd, &ep);
	}
	if (!strcmp(n, "read") || !strcmp(n, "recv")) {
		arg_int(arg(c, 2), &len);
		return synack_read(r->socks, fd, buf, (size_t)(len < 0 ? 0 : len > (int64_t)sizeof buf ? (int64_t)sizeof buf : len));
	}
	if (!strcmp(n, "write") || !strcmp(n, "send")) {
		arg_int(arg(c, 2), &len);
		memset(buf, 'x', sizeof buf);
		return synack_write(r->socks, fd, buf, (size_t)(len < 0 ? 0 : len > (int64_t)sizeof buf ? (int64_t)sizeof buf : len));
	}
	if (!strcmp(n, "shutdown")) {
		int how = arg_ident(arg(c, 1), "SHUT_RDWR") ? SYNACK_SHUT_RDWR
			  : arg_ident(arg(c, 1), "SHUT_RD") ? SYNACK_SHUT_RD : SYNACK_SHUT_WR;
		return synack_shutdown(r->socks, fd, how);
	}
	if (!strcmp(n, "close"))
		return synack_close(r->socks, fd);
	if (!strcmp(n, "fcntl"))
		return fcntl_call(r, c, fd);
	if (!strcmp(n, "getsockopt") || !strcmp(n, "setsockopt"))
		return sockopt_call(r, c, fd, n[0] == 's');
	return -ENOSYS;
}

static int sockopt_id(const struct pkt_call *c)
{
	static const struct {
		const char *name;
		int id;
	} map[] = {{"SO_RCVBUF", SYNACK_SO_RCVBUF}, {"SO_SNDBUF", SYNACK_SO_SNDBUF}, {"SO_ERROR", SYNACK_SO_ERROR},
		   {"SO_REUSEADDR", SYNACK_SO_REUSEADDR}, {"SO_LINGER", SYNACK_SO_LINGER},
		   {"SO_KEEPALIVE", SYNACK_SO_KEEPALIVE}, {"TCP_NODELAY", SYNACK_SO_NODELAY},
		   {"TCP_MAXSEG", SYNACK_SO_MAXSEG}, {"TCP_NOOPT", SYNACK_SO_NOOPT}};
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (arg_ident(arg(c, 2), map[i].name))
			return map[i].id;
	return -1;
}

static int linger_value(const struct pkt_expr *x)
{
	int64_t on = 0, secs = 0;
	if (!x || x->kind != PKT_X_STRUCT)
		return -1;
	for (int i = 0; i < x->nitems; i++) {
		if (x->items[i].name && !strcmp(x->items[i].name, "l_onoff"))
			arg_int(&x->items[i], &on);
		if (x->items[i].name && !strcmp(x->items[i].name, "l_linger"))
			arg_int(&x->items[i], &secs);
	}
	return on ? (int)secs : -1;
}

/* getsockopt compares the value read back: SO_ERROR by errno name or 0;
 * buffer sizes only in --strict mode (they are configuration). */
static long long sockopt_call(struct runner *r, const struct pkt_call *c, int fd, bool set)
{
	int id = sockopt_id(c);
	int64_t v = 0;
	if (id < 0)
		return -ENOPROTOOPT;
	if (set) {
		if (id == SYNACK_SO_LINGER)
			return synack_setsockopt(r->socks, fd, id, linger_value(arg(c, 3)));
		arg_int(arg(c, 3), &v);
		return synack_setsockopt(r->socks, fd, id, (int)v);
	}
	int got = 0;
	int e = synack_getsockopt(r->socks, fd, id, &got);
	if (e)
		return e;
	const struct pkt_expr *want = arg(c, 3);
	if (id == SYNACK_SO_ERROR && want && want->kind == PKT_X_ARRAY && want->nitems == 1) {
		const struct pkt_expr *w = &want->items[0];
		int wv = w->kind == PKT_X_IDENT ? errno_value(w->str) : (int)w->num;
		if (wv != got)
			failf(r, "getsockopt(SO_ERROR) read %s (%d), expected %s", got ? errno_name(got) : "0", got,
			      w->kind == PKT_X_IDENT ? w->str : "0");
	} else if ((r->o->strict || id == SYNACK_SO_NODELAY) && arg_int(want, &v) && v != got) {
		failf(r, "getsockopt read %d, expected %lld", got, (long long)v);
	}
	return 0;
}

static bool check_result(struct runner *r, const struct pkt_call *c, long long got)
{
	if (c->ret.kind != PKT_X_INT)
		return true;
	long long want = c->ret.num;
	if (want < 0) {
		int we = errno_value(c->err);
		if (got < 0 && (-got == we || (we == EWOULDBLOCK && -got == EAGAIN)))
			return true;
		return failf(r, "%s() returned %lld%s%s, expected -1 %s", c->name, got < 0 ? -1 : got,
			     got < 0 ? " " : "", got < 0 ? errno_name((int)-got) : "", c->err);
	}
	if (got == want)
		return true;
	if (got < 0)
		return failf(r, "%s() returned -1 %s, expected %lld", c->name, errno_name((int)-got), want);
	return failf(r, "%s() returned %lld, expected %lld", c->name, got, want);
}

static bool call(struct runner *r, const struct pkt_event *e, synack_time_t t)
{
	const struct pkt_call *c = &e->call;
	long long got = do_call(r, c);
	synack_time_t end = event_end_time(r, e, t);
	bool blocking = blocking_call(c->name) && c->args && c->nargs > 0 &&
			synack_get_nonblocking(r->socks, (int)c->args[0].num) == 0;
	if (blocking && (got == -EAGAIN || got == -EINPROGRESS || got == -EALREADY)) {
		/* a blocking call: let time pass until it completes */
		synack_time_t limit = end + r->sc->tolerance_us + SYNACK_SEC(120);
		while ((got == -EAGAIN || got == -EINPROGRESS || got == -EALREADY) && r->now < limit && !r->qn) {
			synack_time_t d = synack_stack_next_deadline(r->st);
			if (d > limit)
				break;
			if (d > r->now)
				r->now = d;
			synack_stack_poll(r->st, r->now);
			got = do_call(r, c);
			if (!strcmp(c->name, "connect") && got == -EISCONN)
				got = 0;
		}
		if (r->now > end + r->sc->tolerance_us || r->now < end - r->sc->tolerance_us)
			return failf(r, "%s() returned at %.6f, expected at %.6f", c->name, r->now / 1e6, end / 1e6);
	}
	if (r->res->status == PKT_FAIL)
		return false;
	r->last = e->time.range ? end : t;
	return check_result(r, c, got);
}

/* ---- backtick commands and code blocks ---- */

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
	else if (!strcmp(name, "net.inet.tcp.ecn.enable") && v == 2)
		; /* "accept ECN when asked": synack never negotiates ECN; same on the wire as 0 here */
	else if (!strcmp(name, "net.inet.tcp.blackhole") && v == 0)
		; /* RSTs for closed ports: synack's only behaviour */
	else
		return false;
	return synack_stack_set_tcp_config(r->st, c) == 0;
}

static const char *const freebsd_states[] = {"CLOSED", "LISTEN", "SYN_SENT", "SYN_RCVD", "ESTABLISHED",
					     "FIN_WAIT_1", "FIN_WAIT_2", "CLOSE_WAIT", "CLOSING", "LAST_ACK",
					     "TIME_WAIT"};

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

static int shell(struct runner *r, const char *cmd)
{
	char name[128];
	long long v;
	while (*cmd == ' ')
		cmd++;
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

/* %{ assert tcpi_state == TCPI_X }% on the socket last used. */
static bool code_block(struct runner *r, const char *code)
{
	static const char *const tcpi[] = {"TCPI_CLOSED", "TCPI_LISTEN", "TCPI_SYN_SENT", "TCPI_SYN_RECEIVED",
					   "TCPI_ESTABLISHED", "TCPI_FIN_WAIT_1", "TCPI_FIN_WAIT_2",
					   "TCPI_CLOSE_WAIT", "TCPI_CLOSING", "TCPI_LAST_ACK", "TCPI_TIME_WAIT"};
	char want[64];
	long opts;
	if (sscanf(code, " assert tcpi_options == %ld", &opts) == 1) {
		synack_tcp_info info;
		synack_tcp *c = synack_socket_tcp(r->socks, r->last_fd);
		r->res->shell_applied++;
		if (!c || synack_tcp_get_info(c, &info))
			return failf(r, "tcpi_options: no connection on fd %d", r->last_fd);
		/* TCPI_OPT_TIMESTAMPS 1, TCPI_OPT_SACK 2, TCPI_OPT_WSCALE 4 */
		long have = (info.ts_ok ? 1 : 0) | (info.sack_ok ? 2 : 0) | (info.wscale_ok ? 4 : 0);
		return have == opts || failf(r, "tcpi_options is %ld, expected %ld", have, opts);
	}
	if (sscanf(code, " assert tcpi_state == %63s", want) != 1) {
		r->res->shell_skipped++;
		return true;
	}
	int st = synack_socket_state(r->socks, r->last_fd);
	for (int i = 0; i < (int)(sizeof tcpi / sizeof tcpi[0]); i++)
		if (!strcmp(want, tcpi[i])) {
			r->res->shell_applied++;
			if (st == i)
				return true;
			return failf(r, "tcpi_state is %s, expected %s", st >= 0 ? tcpi[st] : "(no socket)", want);
		}
	r->res->shell_skipped++;
	return true;
}

/* ---- the event loop ---- */

static bool run_event(struct runner *r, const struct pkt_event *e)
{
	synack_time_t t = event_time(r, e);
	r->ev = e;
	if (e->kind == PKT_EV_PACKET && e->pkt.dir == '>')
		return outbound(r, e, t);
	advance(r, t);
	if (!queue_empty_or_fail(r))
		return false;
	r->last = t;
	switch (e->kind) {
	case PKT_EV_PACKET:
		return inbound(r, &e->pkt);
	case PKT_EV_CALL:
		return call(r, e, t);
	case PKT_EV_SHELL:
		if (shell(r, e->text))
			r->res->shell_applied++;
		else
			r->res->shell_skipped++;
		return r->res->status != PKT_FAIL;
	case PKT_EV_CODE:
		return code_block(r, e->text);
	}
	return true;
}

/* --verbose: what the stack recorded (segments, states, drops, notes). */
static void print_trace(struct runner *r)
{
	synack_trace_rec rec[64];
	size_t n;
	while ((n = synack_stack_trace_drain(r->st, rec, 64)) > 0)
		for (size_t i = 0; i < n; i++) {
			const synack_trace_rec *x = &rec[i];
			char f[12];
			flags_str((uint8_t)x->seg.flags, f);
			if (x->kind == SYNACK_TRACE_STATE)
				printf("      %.6f state %s -> %s\n", x->time / 1e6, synack_tcp_state_name(x->old_state),
				       synack_tcp_state_name(x->new_state));
			else if (x->kind == SYNACK_TRACE_DROP)
				printf("      %.6f drop %s\n", x->time / 1e6, synack_counter_name(x->note));
			else if (x->kind == SYNACK_TRACE_NOTE)
				printf("      %.6f note %u\n", x->time / 1e6, x->note);
			else
				printf("      %.6f %s %s seq %u ack %u win %u len %u\n", x->time / 1e6,
				       x->kind == SYNACK_TRACE_SEG_IN ? "in " : "out", f,
				       x->seg.seq - (x->kind == SYNACK_TRACE_SEG_OUT ? r->isn : 0),
				       x->seg.ack - (x->kind == SYNACK_TRACE_SEG_IN ? r->isn : 0), x->seg.wnd, x->seg.len);
		}
}

void pkt_run_script(const struct pkt_script *sc, const struct pkt_run_opts *o, struct pkt_result *res)
{
	struct runner r;
	memset(&r, 0, sizeof r);
	memset(res, 0, sizeof *res);
	r.sc = sc;
	r.o = o;
	r.res = res;
	r.last_fd = 3;
	res->status = PKT_PASS;
	r.q = calloc(QMAX, sizeof *r.q);
	if (!r.q || !stack_up(&r)) {
		free(r.q);
		res->status = PKT_FAIL;
		return;
	}
	for (int i = 0; i < sc->nev && run_event(&r, &sc->ev[i]); i++)
		if (o->verbose) {
			print_trace(&r);
			printf("    line %d: ok at %.6f\n", sc->ev[i].line, r.now / 1e6);
		}
	if (o->verbose)
		print_trace(&r);
	/* as in packetdrill, what synack sends after the last event is not
	 * checked: the script has ended */
	r.ev = NULL;
	synack_sockets_destroy(r.socks);
	synack_stack_destroy(r.st);
	free(r.q);
}
