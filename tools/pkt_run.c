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
 *   timing, call results, ports and checksums; --strict also compares
 *   windows, options (in the order written), TS val as a millisecond clock,
 *   and that nothing left unexpected by the time of the last event.
 * - Inbound packets carry their options byte for byte as written and data
 *   bytes that depend on their sequence number (payload_byte), which read()
 *   checks.
 * - IP fields on packet lines ("(tos N)", ECN tags ...) and ICMP lines
 *   are in pkt_ip.c; scripts that need what synack lacks (TCP-MD5, Fast
 *   Open) are skipped before they run (skip_reason).
 * - Backtick commands and code blocks are in pkt_cmd.c. Backtick commands
 *   are never run: sysctls with a synack equivalent set
 *   the stack's configuration (synack.tcp.FIELD any field of it),
 *   `sockstat ... | grep -c STATE | grep N` asserts how many connections
 *   are in STATE, `tcpdrop -s STATE` drops them; anything else is counted
 *   as skipped. Code blocks hold assertions (code_block()).
 * - synack's extensions are described in tests/pkt/README.md. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ladder.h"
#include "pkt_run.h"
#include "synack/synack.h"
#include "tcpfmt.h"
#include "wire/wire.h"

#include "pkt_run_internal.h"

bool failf(struct runner *r, const char *fmt, ...)
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

static bool frame_tcp(const struct frame *f, struct wire_tcp *h);

/* The value of header option --name=value, or NULL. */
static const char *header(const struct pkt_script *sc, const char *name)
{
	for (int i = 0; i < sc->nhdr; i++)
		if (!strcmp(sc->hdr[i].name, name))
			return sc->hdr[i].value;
	return NULL;
}

/* The stack's configuration for this script (tx not set). */
static void stack_config(struct runner *r, synack_stack_config *cfg, synack_prng *rng)
{
	synack_stack_config_init(cfg);
	if (r->o->profile == PKT_PROFILE_FREEBSD)
		profile_freebsd(&cfg->tcp);
	/* fixed buffers unless a script sets synack.tcp.rcvbuf_max/sndbuf_max:
	 * the window scale in a SYN then follows rcvbuf, as scripts expect */
	cfg->tcp.rcvbuf_max = cfg->tcp.sndbuf_max = 0;
	r->tcp = cfg->tcp;
	/* packetdrill's defaults: synack is the local host, the script plays
	 * 192.0.2.1 / 2001:db8::1 */
	if (r->sc->ip_version == 6) {
		synack_addr_parse("fd3d:fa7b:d17d::1", &cfg->addr6);
		cfg->prefix6_len = 48;
		synack_addr_parse("2001:db8::1", &r->remote);
		r->local = cfg->addr6;
	} else {
		synack_addr_parse("192.168.0.1", &cfg->addr);
		cfg->prefix_len = 16;
		synack_addr_parse("192.0.2.1", &r->remote);
		r->local = cfg->addr;
	}
	synack_prng_seed(rng, 1);
	cfg->rng = (synack_rng){synack_prng_fill, rng};
}

static int probe_tx(void *ctx, const uint8_t *frame, size_t len)
{
	uint32_t *seq = ctx;
	struct frame f;
	struct wire_tcp h;
	f.len = len < sizeof f.buf ? len : sizeof f.buf;
	memcpy(f.buf, frame, f.len);
	if (frame_tcp(&f, &h) && (h.flags & SYNACK_TCP_SYN))
		*seq = h.seq;
	return 0;
}

/* --synack_iss=N: RFC 6528's ISN is M + F(4-tuple, key), M a 4 us clock.
 * A probe stack with the same seed (so the same key and the same first
 * ephemeral port) connects at time 0 and shows F; the real stack then
 * starts at the time where M + F = N, and script time 0 is that time. Holds
 * for a first connect() at script time 0 (outbound() checks it). */
static bool iss_base(struct runner *r)
{
	const char *v = header(r->sc, "synack_iss");
	synack_stack_config cfg;
	synack_prng rng;
	synack_stack *st;
	synack_tcp *c;
	uint32_t f = 0;
	char *end;
	if (!v)
		return true;
	errno = 0;
	unsigned long long want = strtoull(v, &end, 0);
	if (!*v || *end || errno || want > UINT32_MAX)
		return failf(r, "--synack_iss=%s: expected a 32-bit sequence number", v);
	stack_config(r, &cfg, &rng);
	cfg.tx = probe_tx;
	cfg.tx_ctx = &f;
	synack_endpoint ep = {.addr = r->remote, .port = DEFAULT_PORT};
	if (synack_stack_create(&cfg, 0, &st))
		return failf(r, "cannot create the stack");
	int e = synack_tcp_connect(st, &ep, NULL, &c);
	synack_stack_destroy(st);
	if (e)
		return failf(r, "--synack_iss: the probe stack could not connect");
	r->pin_iss = true;
	r->want_iss = (uint32_t)want;
	r->base = (synack_time_t)(uint32_t)((uint32_t)want - f) * cfg.tcp.isn_tick;
	r->now = r->last = r->base;
	return true;
}

static bool stack_up(struct runner *r)
{
	synack_stack_config cfg;
	stack_config(r, &cfg, &r->rng);
	cfg.tx = capture_tx;
	cfg.tx_ctx = r;
	r->mtu = cfg.mtu;
	if (r->o->verbose)
		cfg.trace_capacity = 4096;
	if (!iss_base(r))
		return false;
	if (synack_stack_create(&cfg, r->base, &r->st) || synack_sockets_create(r->st, FIRST_FD, &r->socks))
		return failf(r, "cannot create the stack");
	return true;
}

/* ---- describing segments ---- */

/* "S.", as a script writes them; out holds TCPFMT_LETTERS_MAX bytes. */
static void flags_str(uint8_t f, char *out)
{
	tcpfmt_flags(f, TCPFMT_LETTERS, out, TCPFMT_LETTERS_MAX);
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
		n += snprintf(out + n, len - (size_t)n, "%s%u:%u%s", i ? "" : "sack ", o->sack[i][0],
			      o->sack[i][1], i + 1 < o->nsack ? " " : ",");
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
	snprintf(out + n, len - (size_t)n, " win %u%s%s%s", h->wnd, opts[0] ? " <" : "", opts,
		 opts[0] ? ">" : "");
}

static void describe_expected(const struct pkt_packet *p, char *out, size_t len)
{
	char f[12];
	if (p->icmp) {
		snprintf(out, len, "icmp %s %s", p->icmp_type, p->icmp_code);
		return;
	}
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
	return failf(r, "unexpected outbound packet at %.6f: %s", (f->t - r->base) / 1e6, d);
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
		return r->base + e->time.us;
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
	return e->time.end_kind == PKT_T_REL ? r->last + e->time.end_us : r->base + e->time.end_us;
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

static uint8_t opt_kind_byte(enum pkt_opt_kind k)
{
	switch (k) {
	case PKT_OPT_EOL:
		return WIRE_TCPOPT_EOL;
	case PKT_OPT_NOP:
		return WIRE_TCPOPT_NOP;
	case PKT_OPT_MSS:
		return WIRE_TCPOPT_MSS;
	case PKT_OPT_WSCALE:
		return WIRE_TCPOPT_WSCALE;
	case PKT_OPT_SACKOK:
		return WIRE_TCPOPT_SACK_OK;
	case PKT_OPT_SACK:
		return WIRE_TCPOPT_SACK;
	case PKT_OPT_TS:
		return WIRE_TCPOPT_TS;
	default:
		return 0xff; /* FO, md5 ...: synack never sends them */
	}
}

/* --strict: the option bytes synack sent hold the options in the order
 * written, NOPs and EOLs included (values: options_match). */
static bool layout_match(const struct pkt_packet *p, const struct wire_tcp *h)
{
	const uint8_t *o = h->payload - h->hdr_len + WIRE_TCP_HDR;
	size_t n = h->hdr_len - WIRE_TCP_HDR, i = 0;
	for (int k = 0; k < p->nopts; k++) {
		const struct pkt_opt *x = &p->opts[k];
		if (x->kind == PKT_OPT_RAW) {
			if (i + x->nraw > n || memcmp(o + i, x->raw, x->nraw))
				return false;
			i += x->nraw;
			continue;
		}
		if (i >= n || o[i] != opt_kind_byte(x->kind))
			return false;
		i += o[i] <= WIRE_TCPOPT_NOP || i + 1 >= n || o[i + 1] < 2 ? 1 : o[i + 1];
	}
	return i == n;
}

/* The option bytes of a segment as text, in order ("nop,nop,TS val 1 ecr
 * 2"), for failure messages; sack edges as sent. */
static void opts_sent_str(const struct wire_tcp *h, char *out, size_t cap)
{
	const uint8_t *o = h->payload - h->hdr_len + WIRE_TCP_HDR;
	size_t n = h->hdr_len - WIRE_TCP_HDR, k = 0;
	out[0] = 0;
	for (size_t i = 0; i < n && k + 48 < cap;) {
		size_t l =
		    o[i] <= WIRE_TCPOPT_NOP || i + 1 >= n || o[i + 1] < 2 || i + o[i + 1] > n ? 1 : o[i + 1];
		k += (size_t)snprintf(out + k, cap - k, "%s", i ? "," : "");
		if (o[i] == WIRE_TCPOPT_EOL || o[i] == WIRE_TCPOPT_NOP)
			k += (size_t)snprintf(out + k, cap - k, "%s", o[i] ? "nop" : "eol");
		else if (o[i] == WIRE_TCPOPT_MSS && l == 4)
			k += (size_t)snprintf(out + k, cap - k, "mss %u", rd16(o + i + 2));
		else if (o[i] == WIRE_TCPOPT_WSCALE && l == 3)
			k += (size_t)snprintf(out + k, cap - k, "wscale %u", o[i + 2]);
		else if (o[i] == WIRE_TCPOPT_SACK_OK && l == 2)
			k += (size_t)snprintf(out + k, cap - k, "sackOK");
		else if (o[i] == WIRE_TCPOPT_TS && l == 10)
			k += (size_t)snprintf(out + k, cap - k, "TS val %u ecr %u", rd32(o + i + 2),
					      rd32(o + i + 6));
		else if (o[i] == WIRE_TCPOPT_SACK && l >= 10) {
			k += (size_t)snprintf(out + k, cap - k, "sack");
			for (size_t b = i + 2; b + 8 <= i + l && k + 24 < cap; b += 8)
				k += (size_t)snprintf(out + k, cap - k, " %u:%u", rd32(o + b),
						      rd32(o + b + 4));
		} else {
			k += (size_t)snprintf(out + k, cap - k, "raw ");
			for (size_t b = i; b < i + l && k + 4 < cap; b++)
				k += (size_t)snprintf(out + k, cap - k, "%02x", o[b]);
		}
		i += l;
	}
}

/* The options written in a script packet, as text. */
static void opts_written_str(const struct pkt_packet *p, char *out, size_t cap)
{
	size_t k = 0;
	out[0] = 0;
	for (int i = 0; i < p->nopts && k + 48 < cap; i++) {
		const struct pkt_opt *x = &p->opts[i];
		k += (size_t)snprintf(out + k, cap - k, "%s", i ? "," : "");
		switch (x->kind) {
		case PKT_OPT_NOP:
			k += (size_t)snprintf(out + k, cap - k, "nop");
			break;
		case PKT_OPT_EOL:
			k += (size_t)snprintf(out + k, cap - k, "eol");
			break;
		case PKT_OPT_MSS:
			k += (size_t)snprintf(out + k, cap - k, "mss %u", x->v1);
			break;
		case PKT_OPT_WSCALE:
			k += (size_t)snprintf(out + k, cap - k, "wscale %u", x->v1);
			break;
		case PKT_OPT_SACKOK:
			k += (size_t)snprintf(out + k, cap - k, "sackOK");
			break;
		case PKT_OPT_TS:
			k += (size_t)snprintf(out + k, cap - k, "TS val %u ecr %u", x->v1, x->v2);
			break;
		case PKT_OPT_SACK:
			k += (size_t)snprintf(out + k, cap - k, "sack");
			for (int b = 0; b < x->nsack && k + 24 < cap; b++)
				k += (size_t)snprintf(out + k, cap - k, " %u:%u", x->sack[b][0],
						      x->sack[b][1]);
			break;
		case PKT_OPT_RAW:
			k += (size_t)snprintf(out + k, cap - k, "raw ");
			for (int b = 0; b < x->nraw && k + 4 < cap; b++)
				k += (size_t)snprintf(out + k, cap - k, "%02x", x->raw[b]);
			break;
		default:
			k += (size_t)snprintf(out + k, cap - k, "%s", x->other);
			break;
		}
	}
}

/* --strict: the options synack sent must be those written, in the order
 * written; no option list written means none sent. */
static bool options_match(const struct runner *r, const struct pkt_packet *p, const struct wire_tcp *h)
{
	const struct wire_tcp_opts *o = &h->opt;
	if (p->opts_any)
		return true;
	if (!layout_match(p, h))
		return false;
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
	return !ts || ts->v2 == o->ts_ecr || ts_map(r, ts->v2) == o->ts_ecr;
}

static bool compare_segment(struct runner *r, const struct pkt_packet *p, const struct wire_tcp *h)
{
	uint32_t rel = h->seq - r->isn;
	/* "...(len)": any sequence number */
	bool ok = p->flags == h->flags && (!p->has_seq || rel == p->seq_start) && h->payload_len == p->len;
	if (ok && p->has_ack)
		ok = (h->flags & SYNACK_TCP_ACK) && h->ack == p->ack;
	if (ok && r->o->strict && p->has_win)
		ok = h->wnd == p->win;
	if (ok && r->o->strict)
		ok = options_match(r, p, h);
	return ok;
}

static bool learn_from_first(struct runner *r, const struct pkt_packet *p, const struct wire_tcp *h)
{
	if (!r->isn_known && (h->flags & SYNACK_TCP_SYN)) {
		r->isn = h->seq - p->seq_start;
		r->isn_known = true;
		if (r->pin_iss && r->isn != r->want_iss)
			return failf(
			    r, "--synack_iss=%u: synack chose ISS %u (the first connect() must be at time 0)",
			    r->want_iss, r->isn);
	}
	if (!r->bound && !r->local_port)
		r->local_port = h->sport;
	return true;
}

/* Every segment goes to the script's port from synack's, with a right
 * checksum. */
static bool addressing_ok(struct runner *r, const struct wire_tcp *h, const char *act)
{
	const uint8_t *seg = h->payload - h->hdr_len;
	if (h->sport != r->local_port || h->dport != r->remote_port)
		return failf(r, "%s went from port %u to %u, expected %u to %u", act, h->sport, h->dport,
			     r->local_port, r->remote_port);
	if (!wire_tcp_csum_ok(&r->local, &r->remote, seg, h->hdr_len + h->payload_len))
		return failf(r, "%s has a wrong TCP checksum", act);
	return true;
}

/* --strict: TS val is synack's millisecond clock (RFC 7323 §5.4): the
 * values written must differ from the first one written by as much as
 * synack's differ from the first one it sent. */
static bool ts_clock_ok(struct runner *r, const struct pkt_opt *ts, const struct wire_tcp *h, const char *act)
{
	if (!r->o->strict || !ts || !h->opt.has_ts)
		return true;
	if (!r->ts_clock) {
		r->ts_clock = true;
		r->ts_first_script = ts->v1;
		r->ts_first_actual = h->opt.ts_val;
		return true;
	}
	if (h->opt.ts_val - r->ts_first_actual == ts->v1 - r->ts_first_script)
		return true;
	return failf(r, "%s: TS val %u, expected %u (%u ms after the first TS val, written %u)", act,
		     h->opt.ts_val - r->ts_first_actual + r->ts_first_script, ts->v1,
		     h->opt.ts_val - r->ts_first_actual, r->ts_first_script);
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
		return failf(r, "expected at %.6f: %s; synack sent nothing by %.6f", (t - r->base) / 1e6, exp,
			     (hi - r->base) / 1e6);
	if (p->icmp) {
		r->last = f.t;
		return pkt_outbound_icmp(r, p, f.buf, f.len);
	}
	if (!frame_tcp(&f, &h))
		return failf(r, "expected %s; synack sent a frame that is not a TCP segment", exp);
	if (!learn_from_first(r, p, &h))
		return false;
	describe_actual(r, &h, act, sizeof act);
	if (!compare_segment(r, p, &h)) {
		char wo[256] = "", so[256] = "";
		if (r->o->strict && !p->opts_any) {
			opts_written_str(p, wo, sizeof wo);
			opts_sent_str(&h, so, sizeof so);
		}
		return failf(r, "expected: %s\n      actual:   %s (at %.6f)%s%s%s%s%s", exp, act,
			     (f.t - r->base) / 1e6, r->o->strict ? "\n      options written <" : "", wo,
			     r->o->strict ? ">, sent <" : "", so, r->o->strict ? ">" : "");
	}
	if (f.t < lo)
		return failf(r, "%s sent at %.6f, expected at %.6f (tolerance %.3f s)", act,
			     (f.t - r->base) / 1e6, (t - r->base) / 1e6, tol / 1e6);
	const struct pkt_opt *ts = find_opt(p, PKT_OPT_TS);
	if (!addressing_ok(r, &h, act) || !ts_clock_ok(r, ts, &h, act) ||
	    !pkt_ip_fields_ok(r, p, f.buf, f.len))
		return false;
	if (ts && h.opt.has_ts)
		ts_remember(r, ts->v1, h.opt.ts_val);
	r->last = f.t;
	return true;
}

/* ---- inbound packets ---- */

/* The payload byte at sequence number seq of the script's data: inbound
 * segments carry it and read() checks it, so data reassembled in the
 * wrong place is caught. */
static uint8_t payload_byte(uint32_t seq)
{
	return (uint8_t)(seq * 31u + 7u);
}

/* The options as written, byte for byte (packetdrill encodes them so), then
 * EOL padding to a multiple of 4. Inbound TS ecr values naming a TS val
 * synack sent are mapped to it; SACK edges are relative to synack's ISN.
 * Options the runner cannot encode (FO, md5 ...) are left out. Returns the
 * length, or -1 above 40 bytes. */
static int encode_opts(const struct runner *r, const struct pkt_packet *p, uint8_t *out)
{
	struct bbuf b = bbuf_make(out, WIRE_TCP_MAX_OPTS);
	for (int i = 0; i < p->nopts; i++) {
		const struct pkt_opt *x = &p->opts[i];
		uint8_t kind = opt_kind_byte(x->kind);
		if (x->kind == PKT_OPT_RAW) {
			bbuf_put(&b, x->raw, x->nraw);
			continue;
		}
		if (kind == 0xff)
			continue;
		bbuf_u8(&b, kind);
		switch (x->kind) {
		case PKT_OPT_MSS:
			bbuf_u8(&b, 4);
			bbuf_u16(&b, (uint16_t)x->v1);
			break;
		case PKT_OPT_WSCALE:
			bbuf_u8(&b, 3);
			bbuf_u8(&b, (uint8_t)x->v1);
			break;
		case PKT_OPT_SACKOK:
			bbuf_u8(&b, 2);
			break;
		case PKT_OPT_TS:
			bbuf_u8(&b, 10);
			bbuf_u32(&b, x->v1);
			bbuf_u32(&b, x->v2 ? ts_map(r, x->v2) : 0);
			break;
		case PKT_OPT_SACK:
			bbuf_u8(&b, (uint8_t)(2 + 8 * x->nsack));
			for (int k = 0; k < x->nsack && k < 4; k++) {
				bbuf_u32(&b, x->sack[k][0] + r->isn);
				bbuf_u32(&b, x->sack[k][1] + r->isn);
			}
			break;
		default:
			break; /* NOP, EOL: the kind byte only */
		}
	}
	while (bbuf_ok(&b) && b.len % 4)
		bbuf_u8(&b, WIRE_TCPOPT_EOL);
	return bbuf_ok(&b) ? (int)b.len : -1;
}

static bool inbound(struct runner *r, const struct pkt_packet *p)
{
	static uint8_t frame[70000];
	uint8_t opts[WIRE_TCP_MAX_OPTS];
	struct wire_tcp h;
	memset(&h, 0, sizeof h);
	h.opt.wscale = -1;
	if (!r->local_port)
		return failf(r, "inbound packet before synack has a port (no bind, no SYN sent yet)");
	if (p->icmp)
		return pkt_inbound_icmp(r, p);
	if (p->len > 65000)
		return failf(r, "payload of %u bytes is too large", p->len);
	int olen = encode_opts(r, p, opts);
	if (olen < 0)
		return failf(r, "the options take more than %d bytes", WIRE_TCP_MAX_OPTS);
	h.sport = p->has_sport ? p->sport : r->remote_port;
	h.dport = p->has_dport ? p->dport : r->local_port;
	h.seq = p->seq_start;
	h.ack = p->has_ack ? p->ack + r->isn : 0;
	h.flags = p->flags;
	h.wnd = (uint16_t)(p->has_win ? p->win : 65535);
	h.urp = (uint16_t)(p->has_urg ? p->urg : 0);
	bool v6 = r->remote.family == SYNACK_AF_INET6;
	size_t iph = v6 ? WIRE_IPV6_HDR : WIRE_IPV4_HDR;
	struct bbuf tcp = bbuf_make(frame + iph, sizeof frame - iph);
	wire_tcp_emit(&tcp, &h, (size_t)olen + p->len);
	bbuf_put(&tcp, opts, (size_t)olen);
	/* the data starts after the SYN's sequence number */
	uint32_t first = p->seq_start + ((p->flags & SYNACK_TCP_SYN) ? 1 : 0);
	uint8_t *data = bbuf_reserve(&tcp, p->len);
	for (uint32_t i = 0; data && i < p->len; i++)
		data[i] = payload_byte(first + i);
	if (!bbuf_ok(&tcp))
		return failf(r, "inbound segment does not fit a frame");
	tcp.p[12] = (uint8_t)((WIRE_TCP_HDR + (size_t)olen) / 4 << 4); /* data offset */
	wire_tcp_set_csum(tcp.p, tcp.len, &r->remote, &r->local);
	if (p->bad_csum)
		tcp.p[16] ^= 0x5a;
	pkt_ip_header(r, p, frame, WIRE_PROTO_TCP, tcp.len);
	synack_stack_input(r->st, frame, iph + tcp.len, r->now);
	return true;
}

/* ---- system calls ---- */

static const struct {
	const char *name;
	int value;
} errnos[] = {
    {"EINPROGRESS", EINPROGRESS},
    {"ECONNREFUSED", ECONNREFUSED},
    {"ECONNRESET", ECONNRESET},
    {"ETIMEDOUT", ETIMEDOUT},
    {"EAGAIN", EAGAIN},
    {"EWOULDBLOCK", EWOULDBLOCK},
    {"ENOTCONN", ENOTCONN},
    {"EPIPE", EPIPE},
    {"EISCONN", EISCONN},
    {"EALREADY", EALREADY},
    {"EINVAL", EINVAL},
    {"EBADF", EBADF},
    {"EADDRINUSE", EADDRINUSE},
    {"ECONNABORTED", ECONNABORTED},
    {"EOPNOTSUPP", EOPNOTSUPP},
    {"ENOPROTOOPT", ENOPROTOOPT},
    {"EMFILE", EMFILE},
    {"EDESTADDRREQ", EDESTADDRREQ},
    {"EADDRNOTAVAIL", EADDRNOTAVAIL},
    {"EHOSTUNREACH", EHOSTUNREACH},
    {"ENETUNREACH", ENETUNREACH},
    {"ENOBUFS", ENOBUFS},
    {"EMSGSIZE", EMSGSIZE},
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

/* Events and bytes read are kept per descriptor from its creation. */
static void fd_opened(struct runner *r, int fd)
{
	r->last_fd = fd;
	if (fd >= FIRST_FD && fd < FIRST_FD + NFD) {
		r->evbits[fd - FIRST_FD] = 0;
		r->nread[fd - FIRST_FD] = 0;
	}
}

/* The bytes read are those the script sent at their sequence numbers
 * (payload_byte), counted from the peer's SYN. Returns n, or fails. */
static long long read_check(struct runner *r, int fd, const uint8_t *buf, size_t n, bool peek)
{
	synack_tcp_info info;
	synack_tcp *c = synack_socket_tcp(r->socks, fd);
	if (fd < FIRST_FD || fd >= FIRST_FD + NFD || !c || synack_tcp_get_info(c, &info))
		return (long long)n;
	uint64_t *off = &r->nread[fd - FIRST_FD];
	for (size_t i = 0; i < n; i++) {
		uint32_t seq = info.irs + 1 + (uint32_t)(*off + i);
		if (buf[i] != payload_byte(seq)) {
			failf(r,
			      "read() returned byte %llu (sequence number %u) wrong: 0x%02x, the script sent "
			      "0x%02x",
			      (unsigned long long)(*off + i), seq, buf[i], payload_byte(seq));
			break;
		}
	}
	if (!peek)
		*off += n;
	return (long long)n;
}

/* One attempt of a call; returns its result (negative errno on error). */
static long long do_call(struct runner *r, const struct pkt_call *c);

static long long sockopt_call(struct runner *r, const struct pkt_call *c, int fd, bool set);

static int recv_flags(const struct pkt_expr *x)
{
	return (arg_ident(x, "MSG_PEEK") ? SYNACK_MSG_PEEK : 0) |
	       (arg_ident(x, "MSG_WAITALL") ? SYNACK_MSG_WAITALL : 0);
}

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
			fd_opened(r, s);
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
			fd_opened(r, nfd); /* tcp_info now reads the accepted socket */
		return nfd;
	}
	if (!strcmp(n, "connect")) {
		ep.addr = r->remote;
		r->remote_port = DEFAULT_PORT;
		return synack_connect(r->socks, fd, &ep);
	}
	if (!strcmp(n, "read") || !strcmp(n, "recv")) {
		/* recv(fd, buf, len, flags): MSG_PEEK leaves the bytes, MSG_WAITALL
		 * blocks until len bytes (or end of file) */
		int flags = n[2] == 'c' ? recv_flags(arg(c, 3)) : 0;
		arg_int(arg(c, 2), &len);
		ssize_t got = synack_recv(r->socks, fd, buf,
					  (size_t)(len < 0		       ? 0
						   : len > (int64_t)sizeof buf ? (int64_t)sizeof buf
									       : len),
					  flags);
		return got > 0 ? read_check(r, fd, buf, (size_t)got, flags & SYNACK_MSG_PEEK) : got;
	}
	if (!strcmp(n, "write") || !strcmp(n, "send")) {
		arg_int(arg(c, 2), &len);
		memset(buf, 'x', sizeof buf);
		return synack_write(r->socks, fd, buf,
				    (size_t)(len < 0			 ? 0
					     : len > (int64_t)sizeof buf ? (int64_t)sizeof buf
									 : len));
	}
	if (!strcmp(n, "shutdown")) {
		int how = arg_ident(arg(c, 1), "SHUT_RDWR") ? SYNACK_SHUT_RDWR
			  : arg_ident(arg(c, 1), "SHUT_RD") ? SYNACK_SHUT_RD
							    : SYNACK_SHUT_WR;
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

enum { SOCKOPT_TCP_INFO = -2 };

/* The option a call names (its level is implied by the name). */
static int sockopt_id(const struct pkt_call *c)
{
	static const struct {
		const char *name;
		int id;
	} map[] = {{"SO_RCVBUF", SYNACK_SO_RCVBUF},
		   {"SO_SNDBUF", SYNACK_SO_SNDBUF},
		   {"SO_ERROR", SYNACK_SO_ERROR},
		   {"SO_REUSEADDR", SYNACK_SO_REUSEADDR},
		   {"SO_LINGER", SYNACK_SO_LINGER},
		   {"SO_KEEPALIVE", SYNACK_SO_KEEPALIVE},
		   {"TCP_KEEPIDLE", SYNACK_SO_KEEPIDLE},
		   {"TCP_KEEPINTVL", SYNACK_SO_KEEPINTVL},
		   {"TCP_KEEPCNT", SYNACK_SO_KEEPCNT},
		   {"TCP_NODELAY", SYNACK_SO_NODELAY},
		   {"TCP_MAXSEG", SYNACK_SO_MAXSEG},
		   {"TCP_NOOPT", SYNACK_SO_NOOPT},
		   {"IP_TTL", SYNACK_SO_TTL},
		   {"IPV6_UNICAST_HOPS", SYNACK_SO_TTL},
		   {"IP_TOS", SYNACK_SO_TOS},
		   {"IPV6_TCLASS", SYNACK_SO_TOS},
		   {"TCP_INFO", SOCKOPT_TCP_INFO}};
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (arg_ident(arg(c, 2), map[i].name))
			return map[i].id;
	return -1;
}

/* A member of a struct argument by name ("l_onoff"), or NULL. */
static const struct pkt_expr *member(const struct pkt_expr *x, const char *name)
{
	for (int i = 0; x && x->kind == PKT_X_STRUCT && i < x->nitems; i++)
		if (x->items[i].name && !strcmp(x->items[i].name, name))
			return &x->items[i];
	return NULL;
}

static int linger_value(const struct pkt_expr *x)
{
	int64_t on = 0, secs = 0;
	if (!x || x->kind != PKT_X_STRUCT)
		return -1;
	arg_int(member(x, "l_onoff"), &on);
	arg_int(member(x, "l_linger"), &secs);
	return on ? (int)secs : -1;
}

/* Linux's tcpi_state numbers and names (include/net/tcp_states.h), as
 * packetdrill scripts for Linux write them, for synack's states. */
static int linux_state(int synack_state)
{
	static const int map[] = {7, 10, 2, 3, 1, 4, 5, 8, 11, 9, 6};
	return synack_state >= 0 && synack_state < 11 ? map[synack_state] : -1;
}

static int linux_state_named(const char *s)
{
	static const char *const names[] = {"",
					    "TCP_ESTABLISHED",
					    "TCP_SYN_SENT",
					    "TCP_SYN_RECV",
					    "TCP_FIN_WAIT1",
					    "TCP_FIN_WAIT2",
					    "TCP_TIME_WAIT",
					    "TCP_CLOSE",
					    "TCP_CLOSE_WAIT",
					    "TCP_LAST_ACK",
					    "TCP_LISTEN",
					    "TCP_CLOSING"};
	static const char *const synack[] = {"TCPI_CLOSED",	  "TCPI_LISTEN",      "TCPI_SYN_SENT",
					     "TCPI_SYN_RECEIVED", "TCPI_ESTABLISHED", "TCPI_FIN_WAIT_1",
					     "TCPI_FIN_WAIT_2",	  "TCPI_CLOSE_WAIT",  "TCPI_CLOSING",
					     "TCPI_LAST_ACK",	  "TCPI_TIME_WAIT"};
	for (int i = 1; i < 12; i++)
		if (!strcmp(s, names[i]))
			return i;
	for (int i = 0; i < 11; i++)
		if (!strcmp(s, synack[i]))
			return linux_state(i);
	return -1;
}

/* getsockopt(fd, SOL_TCP, TCP_INFO, {tcpi_state=TCP_ESTABLISHED,
 * tcpi_snd_mss=1000, ...}, [len]): each member written is compared; a
 * member the runner cannot read fails in --strict mode. */
static long long tcp_info_call(struct runner *r, const struct pkt_call *c, int fd)
{
	const struct pkt_expr *want = arg(c, 3);
	synack_tcp *tc = synack_socket_tcp(r->socks, fd);
	if (!tc)
		return synack_socket_state(r->socks, fd) < 0 ? -EBADF : -ENOTCONN;
	for (int i = 0; want && want->kind == PKT_X_STRUCT && i < want->nitems; i++) {
		const struct pkt_expr *m = &want->items[i];
		long long got = 0, exp = 0;
		int known = 1;
		if (!m->name || m->kind == PKT_X_ELLIPSIS)
			continue;
		if (!strcmp(m->name, "tcpi_state")) {
			got = linux_state(synack_tcp_state(tc));
			exp = m->kind == PKT_X_IDENT ? linux_state_named(m->str) : m->num;
		} else {
			known = tcpi_read(r, fd, m->name, &got);
			if (known < 0)
				return 0;
			exp = m->num;
			if (m->kind != PKT_X_INT)
				known = 0;
		}
		if (!known && r->o->strict)
			failf(r, "getsockopt(TCP_INFO): cannot evaluate %s", m->name);
		else if (known && got != exp)
			failf(r, "getsockopt(TCP_INFO): %s is %lld, expected %lld", m->name, got, exp);
	}
	return 0;
}

/* getsockopt(SO_LINGER) against {l_onoff=N, l_linger=N}. */
static void linger_check(struct runner *r, const struct pkt_expr *want, int got)
{
	int64_t on = -1, secs = -1;
	arg_int(member(want, "l_onoff"), &on);
	arg_int(member(want, "l_linger"), &secs);
	if (on >= 0 && (on != 0) != (got >= 0))
		failf(r, "getsockopt(SO_LINGER) read l_onoff=%d, expected %lld", got >= 0, (long long)on);
	else if (on > 0 && secs >= 0 && secs != got)
		failf(r, "getsockopt(SO_LINGER) read l_linger=%d, expected %lld", got, (long long)secs);
}

/* Compared in every mode; the rest (buffer sizes: configuration) in
 * --strict mode only. */
static bool sockopt_always_checked(int id)
{
	return id == SYNACK_SO_NODELAY || id == SYNACK_SO_KEEPALIVE || id == SYNACK_SO_KEEPIDLE ||
	       id == SYNACK_SO_KEEPINTVL || id == SYNACK_SO_KEEPCNT || id == SYNACK_SO_TTL ||
	       id == SYNACK_SO_TOS;
}

/* getsockopt compares the value read back: SO_ERROR by errno name or 0,
 * SO_LINGER and TCP_INFO member by member. */
static long long sockopt_call(struct runner *r, const struct pkt_call *c, int fd, bool set)
{
	int id = sockopt_id(c);
	int64_t v = 0;
	if (id == SOCKOPT_TCP_INFO)
		return set ? -ENOPROTOOPT : tcp_info_call(r, c, fd);
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
			failf(r, "getsockopt(SO_ERROR) read %s (%d), expected %s",
			      got ? errno_name(got) : "0", got, w->kind == PKT_X_IDENT ? w->str : "0");
	} else if (id == SYNACK_SO_LINGER && want && want->kind == PKT_X_STRUCT) {
		linger_check(r, want, got);
	} else if ((r->o->strict || sockopt_always_checked(id)) && arg_int(want, &v) && v != got) {
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
		while ((got == -EAGAIN || got == -EINPROGRESS || got == -EALREADY) && r->now < limit &&
		       !r->qn) {
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
			return failf(r, "%s() returned at %.6f, expected at %.6f", c->name,
				     (r->now - r->base) / 1e6, (end - r->base) / 1e6);
	}
	if (r->res->status == PKT_FAIL)
		return false;
	r->last = e->time.range ? end : t;
	return check_result(r, c, got);
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

/* --verbose: what the stack recorded (segments, states, drops, notes), a
 * line each from the ladder (tools/ladder.h) in packetdrill's notation:
 * synack's sequence numbers relative to its ISN, the script's as written. */
static void print_trace(struct runner *r)
{
	const struct ladder_opts lo = {.out = stdout,
				       .style = LADDER_LINES,
				       .notation = LADDER_PACKETDRILL,
				       .one_stack = true,
				       .prefix = "      ",
				       .name = {"synack", "script"},
				       .t0 = r->base};
	synack_trace_rec rec[64];
	size_t n;
	if (!r->ladder && ladder_new(&lo, &r->ladder))
		return;
	while ((n = synack_stack_trace_drain(r->st, rec, 64)) > 0)
		for (size_t i = 0; i < n; i++)
			ladder_add(r->ladder, &(struct ladder_event){.kind = LADDER_TRACE, .rec = &rec[i]});
}

/* What synack deliberately lacks, named by a script: the reason to skip
 * it (it would fail for that reason, not for a bug), or NULL. */
static const char *packet_lacks(const struct pkt_packet *p)
{
	for (int i = 0; i < p->nopts; i++) {
		const char *o = p->opts[i].other;
		if (p->opts[i].kind != PKT_OPT_OTHER)
			continue;
		if (!strncmp(o, "md5", 3))
			return "TCP-MD5 signatures (RFC 2385) are not implemented";
		if (!strncmp(o, "FO", 2) || !strncmp(o, "exp-tfo", 7) || !strncmp(o, "tfo", 3))
			return "TCP Fast Open (RFC 7413) is not implemented";
	}
	return NULL;
}

static const char *call_lacks(const struct pkt_call *c)
{
	static const struct {
		const char *ident, *why;
	} lacking[] = {
	    {"TCP_MD5SIG", "TCP-MD5 signatures (RFC 2385) are not implemented"},
	    {"TCP_FASTOPEN", "TCP Fast Open (RFC 7413) is not implemented"},
	    {"TCP_FASTOPEN_CONNECT", "TCP Fast Open (RFC 7413) is not implemented"},
	    {"MSG_FASTOPEN", "TCP Fast Open (RFC 7413) is not implemented"},
	    {"TCP_MD5SIG_EXT", "TCP-MD5 signatures (RFC 2385) are not implemented"},
	};
	for (int a = 0; a < c->nargs; a++)
		for (size_t i = 0; i < sizeof lacking / sizeof lacking[0]; i++)
			if (arg_ident(&c->args[a], lacking[i].ident))
				return lacking[i].why;
	return NULL;
}

static const char *skip_reason(const struct pkt_script *sc, int *line)
{
	for (int i = 0; i < sc->nev; i++) {
		const struct pkt_event *e = &sc->ev[i];
		const char *why = e->kind == PKT_EV_PACKET ? packet_lacks(&e->pkt)
				  : e->kind == PKT_EV_CALL ? call_lacks(&e->call)
							   : NULL;
		if (why) {
			*line = e->line;
			return why;
		}
	}
	return NULL;
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
	const char *why = skip_reason(sc, &res->line);
	if (why) {
		res->status = PKT_SKIP;
		snprintf(res->msg, sizeof res->msg, "line %d: %s", res->line, why);
		return;
	}
	r.q = calloc(QMAX, sizeof *r.q);
	if (!r.q || !stack_up(&r)) {
		free(r.q);
		res->status = PKT_FAIL;
		return;
	}
	for (int i = 0; i < sc->nev && run_event(&r, &sc->ev[i]); i++)
		if (o->verbose) {
			print_trace(&r);
			printf("    line %d: ok at %.6f\n", sc->ev[i].line, (r.now - r.base) / 1e6);
		}
	if (o->verbose)
		print_trace(&r);
	ladder_free(r.ladder);
	/* as in packetdrill, what synack sends after the last event is not
	 * checked: the script has ended. In --strict mode, though, what left
	 * by the time of the last event must have been expected. */
	if (o->strict && res->status == PKT_PASS)
		queue_empty_or_fail(&r);
	r.ev = NULL;
	synack_sockets_destroy(r.socks);
	synack_stack_destroy(r.st);
	free(r.q);
}
