/* bench/tls_idle: bytes held per idle established TLS connection, server
 * side.
 *
 * N connection pairs (1000; 200 with BENCH_QUICK=1; BENCH_TLS_IDLE_N to
 * choose) are set up in memory (a client and a server engine joined by
 * memory buffers, TLS 1.3, X25519, ECDSA P-256, TLS_AES_128_GCM_SHA256,
 * one session ticket), each handshake completed and followed by one small
 * exchange (a 100-byte request, a 100-byte answer), then all are kept
 * open. The figure is bytes per server-side connection:
 *
 *  - synack: synack_tls_memory() of each server connection, plus what
 *    libcrypto holds for it (its AEAD and hash contexts, which
 *    synack_tls_memory does not see), counted as for libssl below; both
 *    parts are on the note line.
 *  - baseline: libssl (the SSL object; its memory BIOs are replaced by
 *    fresh ones, not counted, after the exchange), measured with a
 *    counting allocator installed by CRYPTO_set_mem_functions before any
 *    OpenSSL call: every block libssl/libcrypto allocates while a server
 *    call runs is tagged "server" and the bytes of live server blocks
 *    (requested sizes, no malloc overhead) after the exchange, minus
 *    before, divided by N. libssl as configured by default (it keeps its
 *    16 KiB read and write buffers); the figure with SSL_MODE_RELEASE_BUFFERS
 *    (what nginx sets) is on the note line.
 *
 * Each measurement runs in its own forked process, so the counting
 * allocator affects nothing else. The synack process installs the same
 * counting allocator, for the libcrypto part of synack's figure. The note
 * also gives, for both, glibc's bytes in use (mallinfo2, malloc overhead
 * included) per connection pair, client and server together. */
#include <errno.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "tls_common.h"

/* ---- the counting allocator ---- */

enum { TAG_OTHER, TAG_CLIENT, TAG_SERVER, NTAGS };
static int cur_tag;
static long long live[NTAGS];

struct hdr {
	size_t size;
	size_t tag; /* keeps the header 16 bytes: the block stays aligned */
};

static void *cm_malloc(size_t n, const char *file, int line)
{
	struct hdr *h = malloc(n + sizeof *h);
	if (!h)
		return NULL;
	h->size = n;
	h->tag = (size_t)cur_tag;
	live[cur_tag] += (long long)n;
	return h + 1;
}

static void cm_free(void *p, const char *file, int line)
{
	if (!p)
		return;
	struct hdr *h = (struct hdr *)p - 1;
	live[h->tag] -= (long long)h->size;
	free(h);
}

static void *cm_realloc(void *p, size_t n, const char *file, int line)
{
	if (!p)
		return cm_malloc(n, file, line);
	if (!n) {
		cm_free(p, file, line);
		return NULL;
	}
	struct hdr *h = (struct hdr *)p - 1;
	size_t old = h->size;
	h = realloc(h, n + sizeof *h);
	if (!h)
		return NULL;
	live[h->tag] += (long long)n - (long long)old;
	h->size = n;
	return h + 1;
}

#define AS(tag, ...)                                                                                         \
	do {                                                                                                 \
		int saved_ = cur_tag;                                                                        \
		cur_tag = tag;                                                                               \
		__VA_ARGS__;                                                                                 \
		cur_tag = saved_;                                                                            \
	} while (0)

static long long heap_in_use(void)
{
	struct mallinfo2 mi = mallinfo2();
	return (long long)mi.uordblks;
}

/* What a measuring process sends back. */
struct result {
	double per_server;  /* the figure */
	double per_server2; /* libssl: with SSL_MODE_RELEASE_BUFFERS; synack: libcrypto's part */
	double heap_pair;   /* mallinfo2 bytes in use per pair */
	int ok;
};

static const char request[100] = "GET /index.html HTTP/1.1\r\nHost: bench.synack\r\n\r\n";

/* ---- libssl ---- */

struct os_pair {
	SSL *c, *s;
};

static int os_step(SSL *s, const void *wr, int wlen)
{
	char buf[512];
	int r;
	if (!SSL_is_init_finished(s))
		r = SSL_do_handshake(s);
	else if (wr)
		r = SSL_write(s, wr, wlen);
	else
		while ((r = SSL_read(s, buf, sizeof buf)) > 0)
			;
	if (r > 0)
		return 0;
	int err = SSL_get_error(s, r);
	return err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE ? 0 : -1;
}

/* One pair, handshake done, one exchange made. */
static int os_pair_open(SSL_CTX *sctx, SSL_CTX *cctx, struct os_pair *p, struct pipe *c2s, struct pipe *s2c)
{
	int rc = 0;
	AS(TAG_CLIENT, p->c = ossl_new(cctx, 0));
	AS(TAG_SERVER, p->s = ossl_new(sctx, 1));
	if (!p->c || !p->s)
		return -1;
	for (int round = 0; round < 16 && !rc; round++) {
		AS(TAG_CLIENT, {
			ossl_fill(p->c, s2c);
			rc = os_step(p->c, NULL, 0);
			ossl_drain(p->c, c2s);
		});
		size_t moved = c2s->len;
		AS(TAG_SERVER, {
			ossl_fill(p->s, c2s);
			rc |= os_step(p->s, NULL, 0);
			ossl_drain(p->s, s2c);
		});
		if (!moved && !s2c->len && SSL_is_init_finished(p->c) && SSL_is_init_finished(p->s))
			break;
	}
	/* the exchange: a request, an answer, each read by the other side */
	AS(TAG_CLIENT, {
		rc |= os_step(p->c, request, sizeof request);
		ossl_drain(p->c, c2s);
	});
	AS(TAG_SERVER, {
		ossl_fill(p->s, c2s);
		rc |= os_step(p->s, NULL, 0);
		rc |= os_step(p->s, request, sizeof request);
		ossl_drain(p->s, s2c);
	});
	AS(TAG_CLIENT, {
		ossl_fill(p->c, s2c);
		rc |= os_step(p->c, NULL, 0);
	});
	/* A real server's SSL reads and writes a socket, not memory BIOs: the
	 * server's BIOs (and whatever buffers they grew) are swapped for
	 * fresh, uncounted ones, so that only libssl's own state counts. */
	BIO *r = BIO_new(BIO_s_mem()), *w = BIO_new(BIO_s_mem());
	AS(TAG_SERVER, SSL_set_bio(p->s, r, w));
	return rc || !r || !w || !SSL_is_init_finished(p->s) ? -1 : 0;
}

static void os_pair_close(struct os_pair *p)
{
	SSL_free(p->s);
	SSL_free(p->c);
}

/* Bytes per server connection for n pairs; *heap_pair: mallinfo2 per pair. */
static double os_measure(const struct bench_cert *bc, long n, bool release, double *heap_pair)
{
	SSL_CTX *sctx = ossl_ctx(bc, 1), *cctx = ossl_ctx(bc, 0);
	struct pipe c2s = {0}, s2c = {0};
	struct os_pair *p = calloc((size_t)n, sizeof *p);
	double per = -1;
	if (!sctx || !cctx || !p)
		return -1;
	if (release)
		SSL_CTX_set_mode(sctx, SSL_MODE_RELEASE_BUFFERS);
	/* warm-up: lazily initialised tables, and the pipes at full size */
	for (long i = 0; i < 20 && i < n; i++)
		if (os_pair_open(sctx, cctx, &p[i], &c2s, &s2c) < 0)
			goto out;
	for (long i = 0; i < 20 && i < n; i++)
		os_pair_close(&p[i]);
	long long before = live[TAG_SERVER], heap0 = heap_in_use();
	for (long i = 0; i < n; i++)
		if (os_pair_open(sctx, cctx, &p[i], &c2s, &s2c) < 0) {
			fprintf(stderr, "tls_idle: libssl connection %ld failed\n", i);
			ERR_print_errors_fp(stderr);
			n = i;
			goto out;
		}
	per = (double)(live[TAG_SERVER] - before) / (double)n;
	*heap_pair = (double)(heap_in_use() - heap0) / (double)n;
out:
	for (long i = 0; i < n; i++)
		os_pair_close(&p[i]);
	free(p);
	SSL_CTX_free(sctx);
	SSL_CTX_free(cctx);
	return per;
}

static struct result os_run(long n)
{
	struct result r = {0};
	struct bench_cert bc;
	double heap2;
	if (!CRYPTO_set_mem_functions(cm_malloc, cm_realloc, cm_free)) {
		fprintf(stderr, "tls_idle: CRYPTO_set_mem_functions failed (OpenSSL already allocated)\n");
		return r;
	}
	if (bench_cert_make(&bc) < 0)
		return r;
	r.per_server = os_measure(&bc, n, false, &r.heap_pair);
	r.per_server2 = os_measure(&bc, n, true, &heap2);
	r.ok = r.per_server > 0 && r.per_server2 > 0;
	return r;
}

/* ---- synack ---- */

struct sy_pair {
	synack_tls *c, *s;
};

static int sy_exchange(synack_tls *from, synack_tls *to, struct pipe *pp, const char *who)
{
	char buf[512];
	ssize_t r = synack_tls_write(from, request, sizeof request);
	if (r != (ssize_t)sizeof request)
		return fprintf(stderr, "tls_idle: synack %s write: %s\n", who, synack_tls_strerror((int)r)),
		       -1;
	sy_drain(from, pp);
	int rc = sy_fill(to, pp);
	size_t got = 0;
	while ((r = synack_tls_read(to, buf, sizeof buf)) > 0)
		got += (size_t)r;
	if (rc || got != sizeof request)
		return fprintf(stderr, "tls_idle: synack %s exchange: %s\n", who, synack_tls_strerror(rc)),
		       -1;
	return 0;
}

static int sy_pair_open(synack_tls_config *sc, synack_tls_config *cc, struct sy_pair *p, struct pipe *c2s,
			struct pipe *s2c)
{
	int rc = 0;
	AS(TAG_CLIENT, p->c = synack_tls_new(cc, NULL));
	AS(TAG_SERVER, p->s = synack_tls_new(sc, NULL));
	if (!p->c || !p->s)
		return -1;
	for (int round = 0; round < 16 && !rc; round++) {
		AS(TAG_CLIENT, {
			rc = sy_fill(p->c, s2c);
			sy_drain(p->c, c2s);
		});
		size_t moved = c2s->len;
		AS(TAG_SERVER, {
			rc |= sy_fill(p->s, c2s);
			sy_drain(p->s, s2c);
		});
		if (!moved && !s2c->len)
			break;
	}
	if (rc || !synack_tls_handshake_done(p->c) || !synack_tls_handshake_done(p->s)) {
		fprintf(stderr, "tls_idle: synack handshake: %s\n", synack_tls_strerror(rc));
		return -1;
	}
	/* the exchange: the tagging follows the side that runs */
	int tag_c = TAG_CLIENT;
	cur_tag = tag_c;
	rc = sy_exchange(p->c, p->s, c2s, "client");
	cur_tag = TAG_SERVER;
	if (!rc)
		rc = sy_exchange(p->s, p->c, s2c, "server");
	cur_tag = TAG_OTHER;
	return rc;
}

static struct result sy_run(long n)
{
	struct result r = {0};
	struct bench_cert bc;
	struct pipe c2s = {0}, s2c = {0};
	if (!CRYPTO_set_mem_functions(cm_malloc, cm_realloc, cm_free)) {
		fprintf(stderr, "tls_idle: CRYPTO_set_mem_functions failed (OpenSSL already allocated)\n");
		return r;
	}
	synack_tls_config *sc, *cc;
	struct sy_pair *p = calloc((size_t)n, sizeof *p);
	if (!p || bench_cert_make(&bc) < 0 || !(sc = sy_config(&bc, 1)) || !(cc = sy_config(&bc, 0)))
		return r;
	for (long i = 0; i < 20 && i < n; i++) {
		if (sy_pair_open(sc, cc, &p[i], &c2s, &s2c) < 0)
			return r;
		synack_tls_free(p[i].s);
		synack_tls_free(p[i].c);
	}
	long long before = live[TAG_SERVER], heap0 = heap_in_use();
	double sum = 0;
	for (long i = 0; i < n; i++) {
		if (sy_pair_open(sc, cc, &p[i], &c2s, &s2c) < 0)
			return r;
		sum += (double)synack_tls_memory(p[i].s);
	}
	r.per_server = sum / (double)n;
	r.per_server2 = (double)(live[TAG_SERVER] - before) / (double)n;
	r.heap_pair = (double)(heap_in_use() - heap0) / (double)n;
	r.ok = 1;
	for (long i = 0; i < n; i++) {
		synack_tls_free(p[i].s);
		synack_tls_free(p[i].c);
	}
	return r;
}

/* ---- main: each measurement in its own process ---- */

static struct result in_child(struct result (*fn)(long), long n)
{
	struct result r = {0};
	int fds[2];
	if (pipe(fds) < 0)
		return r;
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		close(fds[0]);
		r = fn(n);
		_exit(write(fds[1], &r, sizeof r) == sizeof r ? 0 : 1);
	}
	close(fds[1]);
	if (pid < 0 || read(fds[0], &r, sizeof r) != sizeof r)
		r.ok = 0;
	close(fds[0]);
	if (pid > 0)
		waitpid(pid, NULL, 0);
	return r;
}

int main(void)
{
	long n = env_long("BENCH_TLS_IDLE_N", env_long("BENCH_QUICK", 0) ? 200 : 1000);
	struct result sy = in_child(sy_run, n), os = in_child(os_run, n);
	double sy_total = sy.per_server + sy.per_server2;
	print_figure("tls_idle_bytes", sy.ok ? sy_total : -1, os.ok ? os.per_server : -1, 0, "bytes/conn");
	fprintf(stderr,
		"# tls_idle_bytes: %ld idle server connections after a handshake and a 100-byte exchange "
		"each way; "
		"synack = synack_tls_memory %.0f + libcrypto blocks held for it %.0f; libssl with "
		"SSL_MODE_RELEASE_BUFFERS=%.0f (synack/that=%.2f); heap in use per client+server pair "
		"(mallinfo2, "
		"malloc overhead included): synack=%.0f libssl=%.0f\n",
		n, sy.per_server, sy.per_server2, os.per_server2,
		sy.ok && os.per_server2 > 0 ? sy_total / os.per_server2 : 0, sy.heap_pair, os.heap_pair);
	return sy.ok && os.ok ? 0 : 1;
}
