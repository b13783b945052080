/* The connection API of include/synack/tls.h over the record layer, and
 * the core's side of the seam: the sticky error, events, trace, key log,
 * counted memory and session storage.
 *
 * Implementation notes
 *
 * - struct synack_tls and struct tls_core are one calloc'd block; every
 *   other byte the connection holds (record and output buffers, handshake
 *   fragments, the raw transcript, the handshake layer's state, trace
 *   ring, key log, session blob) comes from tls_core.mem, so
 *   synack_tls_memory is the block plus mem.bytes. libcrypto's own
 *   objects (AEAD and hash contexts) are not visible to the count.
 * - A client starts lazily: tls_hs_start runs on the first call that
 *   feeds input or takes output, so synack_tls_set_session may come first.
 *   A server starts on its first feed.
 * - The first error is sticky (BearSSL): tls_fail records it, queues the
 *   alert under the current write keys and raises SYNACK_TLS_EV_ERROR;
 *   every later call returns it. The output is still drainable so the
 *   alert can go out.
 * - The trace ring and the key log are allocated on first use and freed
 *   when drained, so an idle connection holds neither. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tls/hs.h"
#include "tls/tls_internal.h"

struct conn_block {
	struct synack_tls t;
	struct tls_core core;
};

/* ---- the core's side of the seam ---- */

void *tls_alloc(struct synack_tls *t, size_t n)
{
	return mem_alloc(&t->core->mem, n);
}

void tls_dealloc(struct synack_tls *t, void *p, size_t n)
{
	mem_free(&t->core->mem, p, n);
}

int tls_fail(struct synack_tls *t, int alert, const char *detail_fmt, ...)
{
	if (t->err)
		return t->err;
	va_list ap;
	va_start(ap, detail_fmt);
	vsnprintf(t->detail, sizeof t->detail, detail_fmt, ap);
	va_end(ap);
	t->err = SYNACK_TLS_ERR_SENT(alert);
	tls_send_alert(t, alert); /* best effort: the error stands either way */
	tls_event(t, SYNACK_TLS_EV_ERROR);
	return t->err;
}

void tls_event(struct synack_tls *t, uint32_t ev)
{
	t->events |= ev;
}

void tls_trace(struct synack_tls *t, bool sent, uint8_t content, uint8_t msg_type, int epoch, uint32_t len,
	       const char *fmt, ...)
{
	struct tls_core *c = t->core;
	if (!c->trace_on)
		return;
	if (!c->trace && !(c->trace = tls_alloc(t, TLS_TRACE_RING * sizeof *c->trace))) {
		t->info.trace_dropped++;
		return;
	}
	if (c->trace_n == TLS_TRACE_RING) { /* drop the oldest */
		c->trace_head = (c->trace_head + 1) % TLS_TRACE_RING;
		c->trace_n--;
		t->info.trace_dropped++;
	}
	synack_tls_trace_entry *e = &c->trace[(c->trace_head + c->trace_n++) % TLS_TRACE_RING];
	*e = (synack_tls_trace_entry){.sent = sent, .content = content, .msg_type = msg_type};
	e->keys = (uint8_t)epoch;
	e->len = len;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->text, sizeof e->text, fmt, ap);
	va_end(ap);
}

static void hex(char *out, const uint8_t *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = 0;
}

void tls_keylog(struct synack_tls *t, const char *label, const uint8_t client_random[32],
		const uint8_t *secret, size_t len)
{
	struct tls_core *c = t->core;
	char cr[65], sec[2 * CRYPTO_HASH_MAX + 1], line[256];
	if (!t->cfg->keylog || len > CRYPTO_HASH_MAX)
		return;
	hex(cr, client_random, 32);
	hex(sec, secret, len);
	int n = snprintf(line, sizeof line, "%s %s %s\n", label, cr, sec);
	if (n < 0 || (size_t)n >= sizeof line || c->klog_len + (size_t)n > TLS_KEYLOG_MAX)
		return; /* dropped: the reader is not draining */
	if (!c->klog && !(c->klog = tls_alloc(t, TLS_KEYLOG_MAX)))
		return;
	memcpy(c->klog + c->klog_len, line, (size_t)n);
	c->klog_len += (size_t)n;
	tls_wipe(sec, sizeof sec);
	tls_wipe(line, sizeof line);
}

int tls_session_store(struct synack_tls *t, const uint8_t *blob, size_t len)
{
	if (!len || len > TLS_MAX_SESSION)
		return -EINVAL;
	uint8_t *p = tls_alloc(t, len);
	if (!p)
		return -ENOMEM;
	memcpy(p, blob, len);
	if (t->session) {
		tls_wipe(t->session, t->session_len);
		tls_dealloc(t, t->session, t->session_len);
	}
	t->session = p;
	t->session_len = len;
	t->session_new = true;
	tls_event(t, SYNACK_TLS_EV_TICKET);
	return 0;
}

/* ---- life ---- */

static struct synack_tls *conn_new(const synack_tls_config *cfg)
{
	struct conn_block *b = calloc(1, sizeof *b);
	if (!b)
		return NULL;
	struct synack_tls *t = &b->t;
	t->core = &b->core;
	mem_init(&t->core->mem, NULL);
	t->core->ku_limit = TLS_KU_LIMIT;
	t->cfg = cfg;
	t->crypto = cfg->crypto;
	t->role = cfg->role;
	t->send_limit = cfg->max_record;
	t->info.version = SYNACK_TLS_VERSION_13;
	return t;
}

synack_tls *synack_tls_new(const synack_tls_config *c, const char *server_name)
{
	if (!c || (server_name && strlen(server_name) >= sizeof((synack_tls *)0)->server_name))
		return NULL;
	synack_tls *t = conn_new(c);
	if (t && server_name && c->role == SYNACK_TLS_CLIENT)
		strcpy(t->server_name, server_name);
	return t;
}

struct synack_tls *tls_test_conn(const struct synack_tls_config *cfg)
{
	struct synack_tls *t = conn_new(cfg);
	if (t)
		t->started = true;
	return t;
}

void synack_tls_free(synack_tls *t)
{
	if (!t)
		return;
	struct tls_core *c = t->core;
	tls_hs_free(t);
	tls_transcript_free(t);
	tls_record_free(t);
	tls_dealloc(t, c->trace, c->trace ? TLS_TRACE_RING * sizeof *c->trace : 0);
	if (c->klog)
		tls_wipe(c->klog, TLS_KEYLOG_MAX);
	tls_dealloc(t, c->klog, TLS_KEYLOG_MAX);
	if (t->session)
		tls_wipe(t->session, t->session_len);
	tls_dealloc(t, t->session, t->session_len);
	struct conn_block *b = container_of(t, struct conn_block, t);
	tls_wipe(b, sizeof *b);
	free(b);
}

/* Lazy start (see synack_tls_new). */
static int conn_start(struct synack_tls *t)
{
	if (t->started || t->err)
		return t->err;
	t->started = true;
	int r = tls_hs_start(t);
	if (r && !t->err)
		t->err = r;
	return t->err;
}

/* ---- bytes in, bytes out ---- */

ssize_t synack_tls_feed(synack_tls *t, const void *in, size_t len)
{
	if (!t || (!in && len))
		return -EINVAL;
	if (conn_start(t))
		return t->err;
	const uint8_t *p = in;
	size_t used = 0;
	while (used < len && !t->err && !t->core->app_len && !t->peer_closed)
		used += tls_record_input(t, p + used, len - used);
	if (t->peer_closed && !t->err)
		used = len; /* §6.1: data after close_notify is ignored */
	tls_record_idle(t);
	return t->err ? t->err : (ssize_t)used;
}

const uint8_t *synack_tls_out_peek(synack_tls *t, size_t *len)
{
	if (t->role == SYNACK_TLS_CLIENT)
		conn_start(t);
	*len = tls_out_pending(t);
	return *len ? t->core->out + t->core->out_off : NULL;
}

void synack_tls_out_consume(synack_tls *t, size_t n)
{
	t->core->out_off += MIN(n, tls_out_pending(t));
	if (!tls_out_pending(t))
		tls_record_idle(t);
}

size_t synack_tls_take(synack_tls *t, void *buf, size_t cap)
{
	size_t n;
	const uint8_t *p = synack_tls_out_peek(t, &n);
	n = MIN(n, cap);
	if (n)
		memcpy(buf, p, n);
	synack_tls_out_consume(t, n);
	return n;
}

ssize_t synack_tls_read(synack_tls *t, void *buf, size_t cap)
{
	if (t->err)
		return t->err;
	if (t->core->app_len)
		return tls_app_read(t, buf, cap);
	return t->peer_closed ? 0 : -EAGAIN;
}

ssize_t synack_tls_write(synack_tls *t, const void *buf, size_t len)
{
	if (t->err)
		return t->err;
	if (t->closed)
		return -EPIPE;
	if (!t->hs_done)
		return -EAGAIN;
	return tls_app_write(t, buf, len);
}

/* §6.1: close_notify, then nothing more from us. */
int synack_tls_close(synack_tls *t)
{
	if (t->err)
		return t->err;
	if (t->closed)
		return 0;
	t->closed = true;
	int r = tls_send_alert(t, SYNACK_TLS_ALERT_CLOSE_NOTIFY);
	return r == -ENOBUFS ? -ENOBUFS : r;
}

int synack_tls_key_update(synack_tls *t, bool request_peer)
{
	if (t->err)
		return t->err;
	if (t->closed)
		return -EPIPE;
	return tls_key_update_send(t, request_peer);
}

/* ---- state ---- */

bool synack_tls_handshake_done(const synack_tls *t)
{
	return t->hs_done;
}

int synack_tls_error(const synack_tls *t)
{
	return t->err;
}

const char *synack_tls_error_detail(const synack_tls *t)
{
	return t->err ? t->detail : "";
}

size_t synack_tls_memory(const synack_tls *t)
{
	return sizeof(struct conn_block) + t->core->mem.bytes;
}

uint32_t synack_tls_events(synack_tls *t)
{
	uint32_t e = t->events;
	t->events = 0;
	return e;
}

size_t synack_tls_keylog(synack_tls *t, char *buf, size_t cap)
{
	struct tls_core *c = t->core;
	size_t n = 0;
	for (size_t i = 0; i < c->klog_len; i++) {
		if (c->klog[i] != '\n')
			continue;
		if (i + 1 > cap)
			break;
		n = i + 1;
	}
	if (!n)
		return 0;
	memcpy(buf, c->klog, n);
	memmove(c->klog, c->klog + n, c->klog_len - n);
	c->klog_len -= n;
	if (!c->klog_len) {
		tls_dealloc(t, c->klog, TLS_KEYLOG_MAX);
		c->klog = NULL;
	}
	return n;
}

void synack_tls_trace_enable(synack_tls *t, bool on)
{
	t->core->trace_on = on;
}

size_t synack_tls_trace(synack_tls *t, synack_tls_trace_entry *out, size_t n)
{
	struct tls_core *c = t->core;
	size_t k = 0;
	for (; k < n && c->trace_n; k++, c->trace_n--) {
		out[k] = c->trace[c->trace_head];
		c->trace_head = (c->trace_head + 1) % TLS_TRACE_RING;
	}
	if (c->trace && !c->trace_n) {
		tls_dealloc(t, c->trace, TLS_TRACE_RING * sizeof *c->trace);
		c->trace = NULL;
		c->trace_head = 0;
	}
	return k;
}

int synack_tls_get_info(const synack_tls *t, synack_tls_info *info)
{
	*info = t->info;
	return 0;
}

/* ---- resumption ---- */

ssize_t synack_tls_get_session(const synack_tls *t, void *buf, size_t cap)
{
	if (!t->session_new)
		return -ENOENT;
	if (cap < t->session_len)
		return -ENOSPC;
	memcpy(buf, t->session, t->session_len);
	return (ssize_t)t->session_len;
}

int synack_tls_set_session(synack_tls *t, const void *blob, size_t len)
{
	struct tls_session s;
	if (t->role != SYNACK_TLS_CLIENT || !blob || !len || len > TLS_MAX_SESSION)
		return -EINVAL;
	if (t->started)
		return -EALREADY;
	if (tls_session_parse(blob, len, &s) || s.sni_len != strlen(t->server_name) ||
	    (s.sni_len && memcmp(s.sni, t->server_name, s.sni_len)))
		return -EINVAL;
	int r = tls_session_store(t, blob, len);
	t->session_new = false;
	t->events &= ~(uint32_t)SYNACK_TLS_EV_TICKET;
	return r;
}
