/* bench/tls: TLS 1.3 handshake and record throughput of synack's engine,
 * one core, in memory. Three figures:
 *
 *  - tls13_full: full handshakes per second of SERVER CPU time. A client
 *    and a server engine joined by memory buffers, X25519, ECDSA P-256
 *    (ecdsa_secp256r1_sha256), TLS_AES_128_GCM_SHA256, one session ticket
 *    issued per handshake, the client not verifying the certificate. Every
 *    call on the server side (creating the connection, feeding it, taking
 *    its output, freeing it) is timed with CLOCK_THREAD_CPUTIME_ID around
 *    the call; the cost of reading that clock is measured and taken off.
 *    The client's calls are not counted (they are printed on the note).
 *    Baseline: libssl (SSL objects with memory BIOs, TLS 1.3 only, the same
 *    group, suite, signature scheme and certificate, stateless tickets, no
 *    server session cache) driven the same way. On the note line: GnuTLS
 *    (gnutls_transport_set_push/pull_function over memory, session tickets
 *    enabled on the server) likewise, and the libcrypto floor: one X25519
 *    key generation, one X25519 derivation and one ECDSA P-256/SHA-256
 *    signature with EVP, the public-key work a server must do per
 *    handshake, as handshakes per second.
 *  - tls13_resumed: resumed handshakes (PSK with (EC)DHE, psk_dhe_ke, a
 *    new X25519 share each time) per second of server CPU time; the client
 *    offers the ticket it received last. Same baselines; the floor is one
 *    X25519 key generation and derivation.
 *  - tls_bulk: MB/s (10^6 bytes of plaintext per second of CPU time) of
 *    16 KiB application data records, sealed AND opened: synack_tls_write
 *    on the server, the record moved to the client with synack_tls_feed and
 *    read with synack_tls_read. Baseline: raw EVP AES-128-GCM sealing and
 *    opening the same 16,385-byte inner plaintexts (data + content type)
 *    with their 5-byte header as AAD, one EVP_CIPHER_CTX per direction. On
 *    the note: seal only (synack_tls_write and consume, EVP encrypt), and
 *    libssl's SSL_write + SSL_read through memory BIOs.
 *
 * Each side runs BENCH_REPEAT times (default 3), interleaved, and the best
 * run counts: on a shared machine other load only makes a figure worse.
 * Env: BENCH_QUICK=1 for smaller runs, BENCH_TLS_N handshakes per run
 * (default 2000, quick 300), BENCH_TLS_BULK_MB megabytes per bulk run
 * (default 256, quick 32); BENCH_TLS_ONLY (e.g. "synack full") runs only
 * the handshakes of the implementations (and kinds, full or resumed) named,
 * for profiles. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <openssl/rand.h>

#include "bench.h"
#include "tls_common.h"

#define REC	 16384
#define SESS_MAX 8192

static double clock_cost_ns; /* one cpu_ns() call */

static void calibrate_clock(void)
{
	const int n = 20000;
	int64_t t0 = cpu_ns();
	for (int i = 0; i < n; i++)
		(void)cpu_ns();
	clock_cost_ns = (double)(cpu_ns() - t0) / n;
}

/* Per second of the meter's time, clock cost taken off; -1 if none. */
static double rate(const struct meter *m, double units)
{
	double ns = (double)m->ns - clock_cost_ns * (double)m->spans;
	return ns > 0 ? units * 1e9 / ns : -1;
}

/* One handshake implementation: connect once; *resumed says whether the
 * server resumed. */
struct impl {
	const char *name;
	int (*one)(void *env, bool resume, struct meter *srv, struct meter *cli, bool *resumed);
	void *env;
};

/* n handshakes (full, or resumed from the previous one's ticket) in
 * handshakes per second of server CPU; cli_us gets the client's CPU per
 * handshake. -1 on failure. */
static double hs_run(const struct impl *im, bool resume, long n, double *cli_us)
{
	struct meter srv = {0}, cli = {0}, warm = {0};
	bool resumed = false;
	/* a warm-up, and a ticket to resume from */
	for (int i = 0; i < 20; i++)
		if (im->one(im->env, false, &warm, &warm, &resumed) < 0)
			return -1;
	for (long i = 0; i < n; i++) {
		if (im->one(im->env, resume, &srv, &cli, &resumed) < 0)
			return -1;
		if (resumed != resume) {
			fprintf(stderr, "tls: %s: handshake %ld %s resumed\n", im->name, i,
				resumed ? "was" : "was not");
			return -1;
		}
	}
	*cli_us = 1e6 / rate(&cli, (double)n);
	return rate(&srv, (double)n);
}

/* ---- synack ---- */

struct sy_env {
	synack_tls_config *srv, *cli;
	uint8_t sess[SESS_MAX];
	size_t sess_len;
	struct pipe c2s, s2c;
};

/* Client and server, handshake done, the client's ticket read. */
static int sy_connect(struct sy_env *e, bool resume, struct meter *srv, struct meter *cli, synack_tls **cp,
		      synack_tls **sp)
{
	synack_tls *c, *s;
	int rc = 0;
	METER(cli, c = synack_tls_new(e->cli, NULL));
	METER(srv, s = synack_tls_new(e->srv, NULL));
	if (!c || !s)
		rc = -ENOMEM;
	if (!rc && resume)
		METER(cli, rc = synack_tls_set_session(c, e->sess, e->sess_len));
	for (int round = 0; !rc && round < 16; round++) {
		METER(cli, {
			rc = sy_fill(c, &e->s2c);
			sy_drain(c, &e->c2s);
		});
		size_t moved = e->c2s.len;
		if (rc < 0)
			break;
		METER(srv, {
			rc = sy_fill(s, &e->c2s);
			sy_drain(s, &e->s2c);
		});
		moved += e->s2c.len;
		if (!moved)
			break;
	}
	if (!rc && (!synack_tls_handshake_done(c) || !synack_tls_handshake_done(s)))
		rc = -EPROTO;
	e->c2s.len = e->s2c.len = 0;
	if (!rc) {
		ssize_t n = synack_tls_get_session(c, e->sess, sizeof e->sess);
		if (n > 0)
			e->sess_len = (size_t)n;
	} else {
		fprintf(stderr, "tls: synack handshake: %s (client: %s; server: %s)\n",
			synack_tls_strerror(rc), c ? synack_tls_error_detail(c) : "-",
			s ? synack_tls_error_detail(s) : "-");
	}
	*cp = c;
	*sp = s;
	return rc;
}

static int sy_one(void *env, bool resume, struct meter *srv, struct meter *cli, bool *resumed)
{
	synack_tls *c, *s;
	int rc = sy_connect(env, resume, srv, cli, &c, &s);
	if (!rc) {
		synack_tls_info info;
		synack_tls_get_info(s, &info);
		*resumed = info.resumed;
	}
	METER(srv, synack_tls_free(s));
	METER(cli, synack_tls_free(c));
	return rc;
}

/* ---- libssl ---- */

struct os_env {
	SSL_CTX *srv, *cli;
	SSL_SESSION *sess;
	struct pipe c2s, s2c;
};

/* Advance one side: the handshake, then reads (tickets, data). 0, or -1
 * on a real error. */
static int os_step(SSL *s)
{
	char buf[256];
	int r = SSL_is_init_finished(s) ? SSL_read(s, buf, sizeof buf) : SSL_do_handshake(s);
	if (r > 0)
		return 0;
	int err = SSL_get_error(s, r);
	if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
		return 0;
	ERR_print_errors_fp(stderr);
	return -1;
}

static int os_connect(struct os_env *e, bool resume, struct meter *srv, struct meter *cli, SSL **cp, SSL **sp)
{
	SSL *c, *s;
	int rc = 0;
	METER(cli, c = ossl_new(e->cli, 0));
	METER(srv, s = ossl_new(e->srv, 1));
	if (!c || !s)
		rc = -1;
	if (!rc && resume)
		SSL_set_session(c, e->sess);
	for (int round = 0; !rc && round < 16; round++) {
		METER(cli, {
			rc = os_step(c);
			ossl_drain(c, &e->c2s);
		});
		size_t moved = e->c2s.len;
		if (rc < 0)
			break;
		METER(srv, {
			ossl_fill(s, &e->c2s);
			rc = os_step(s);
			ossl_drain(s, &e->s2c);
		});
		moved += e->s2c.len;
		METER(cli, ossl_fill(c, &e->s2c));
		if (!moved && SSL_is_init_finished(c) && SSL_is_init_finished(s))
			break;
	}
	if (!rc && (!SSL_is_init_finished(c) || !SSL_is_init_finished(s)))
		rc = -1;
	if (!rc) {
		SSL_SESSION *ns = SSL_get1_session(c);
		if (ns && SSL_SESSION_is_resumable(ns)) {
			SSL_SESSION_free(e->sess);
			e->sess = ns;
		} else {
			SSL_SESSION_free(ns);
		}
	} else {
		fprintf(stderr, "tls: libssl handshake failed\n");
	}
	e->c2s.len = e->s2c.len = 0;
	*cp = c;
	*sp = s;
	return rc;
}

static int os_one(void *env, bool resume, struct meter *srv, struct meter *cli, bool *resumed)
{
	SSL *c, *s;
	int rc = os_connect(env, resume, srv, cli, &c, &s);
	if (!rc)
		*resumed = SSL_session_reused(s);
	/* as after a clean close: libssl marks a session it frees in mid
	 * connection as not resumable */
	METER(srv, {
		SSL_set_shutdown(s, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
		SSL_free(s);
	});
	METER(cli, {
		SSL_set_shutdown(c, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
		SSL_free(c);
	});
	return rc;
}

/* ---- GnuTLS ---- */

struct gt_io {
	gnutls_session_t sess;
	struct pipe *in, *out;
};

static ssize_t gt_push(gnutls_transport_ptr_t ptr, const void *data, size_t len)
{
	struct gt_io *io = ptr;
	pipe_put(io->out, data, len);
	return (ssize_t)len;
}

static ssize_t gt_pull(gnutls_transport_ptr_t ptr, void *data, size_t len)
{
	struct gt_io *io = ptr;
	if (!io->in->len) {
		gnutls_transport_set_errno(io->sess, EAGAIN);
		return -1;
	}
	size_t n = len < io->in->len ? len : io->in->len;
	memcpy(data, io->in->buf, n);
	pipe_drop(io->in, n);
	return (ssize_t)n;
}

struct gt_env {
	gnutls_certificate_credentials_t srv_cred, cli_cred;
	gnutls_priority_t prio;
	gnutls_datum_t ticket_key;
	gnutls_datum_t sess;
	struct pipe c2s, s2c;
};

static int gt_new(struct gt_env *e, bool server, struct gt_io *io)
{
	gnutls_session_t s;
	if (gnutls_init(&s, (server ? GNUTLS_SERVER : GNUTLS_CLIENT) | GNUTLS_NONBLOCK) < 0)
		return -1;
	int rc = gnutls_priority_set(s, e->prio);
	if (rc >= 0)
		rc = gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, server ? e->srv_cred : e->cli_cred);
	if (rc >= 0 && server)
		rc = gnutls_session_ticket_enable_server(s, &e->ticket_key);
	io->sess = s;
	io->in = server ? &e->c2s : &e->s2c;
	io->out = server ? &e->s2c : &e->c2s;
	gnutls_transport_set_ptr(s, io);
	gnutls_transport_set_push_function(s, gt_push);
	gnutls_transport_set_pull_function(s, gt_pull);
	if (rc < 0) {
		fprintf(stderr, "tls: gnutls session: %s\n", gnutls_strerror(rc));
		gnutls_deinit(s);
		return -1;
	}
	return 0;
}

static int gt_step(gnutls_session_t s, bool *done)
{
	char buf[256];
	int r;
	if (!*done) {
		r = gnutls_handshake(s);
		if (r == 0)
			*done = true;
	} else {
		r = (int)gnutls_record_recv(s, buf, sizeof buf);
	}
	if (r >= 0 || r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
		return 0;
	fprintf(stderr, "tls: gnutls: %s\n", gnutls_strerror(r));
	return -1;
}

static int gt_one(void *env, bool resume, struct meter *srv, struct meter *cli, bool *resumed)
{
	struct gt_env *e = env;
	struct gt_io cio, sio;
	int rc, src = 0;
	bool cdone = false, sdone = false;
	METER(cli, rc = gt_new(e, false, &cio));
	if (rc < 0)
		return -1;
	METER(srv, src = gt_new(e, true, &sio));
	if (src < 0) {
		gnutls_deinit(cio.sess);
		return -1;
	}
	if (resume)
		METER(cli, rc = gnutls_session_set_data(cio.sess, e->sess.data, e->sess.size));
	for (int round = 0; rc >= 0 && round < 16; round++) {
		size_t before = e->c2s.len + e->s2c.len;
		METER(cli, rc = gt_step(cio.sess, &cdone));
		if (rc < 0)
			break;
		METER(srv, rc = gt_step(sio.sess, &sdone));
		if (rc < 0)
			break;
		size_t after = e->c2s.len + e->s2c.len;
		if (cdone && sdone && !before && !after)
			break;
	}
	if (rc >= 0 && (!cdone || !sdone))
		rc = -1;
	if (rc >= 0) {
		*resumed = gnutls_session_is_resumed(sio.sess);
		if (gnutls_session_get_flags(cio.sess) & GNUTLS_SFLAGS_SESSION_TICKET) {
			gnutls_free(e->sess.data);
			e->sess.data = NULL;
			if (gnutls_session_get_data2(cio.sess, &e->sess) < 0)
				rc = -1;
		}
	}
	e->c2s.len = e->s2c.len = 0;
	METER(srv, gnutls_deinit(sio.sess));
	METER(cli, gnutls_deinit(cio.sess));
	return rc < 0 ? -1 : 0;
}

static int gt_setup(struct gt_env *e, const struct bench_cert *bc, bool v12)
{
	gnutls_datum_t cert = {(unsigned char *)bc->cert_pem, (unsigned)strlen(bc->cert_pem)};
	gnutls_datum_t key = {(unsigned char *)bc->key_pem, (unsigned)strlen(bc->key_pem)};
	const char *prio =
	    v12 ? "NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+AES-128-GCM:-KX-ALL:+ECDHE-ECDSA:"
		  "-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1:-SIGN-ALL:+SIGN-ECDSA-SHA256"
		: "NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+AES-128-GCM:-GROUP-ALL:+GROUP-X25519:"
		  "-SIGN-ALL:+SIGN-ECDSA-SECP256R1-SHA256";
	int rc = gnutls_global_init();
	if (rc >= 0)
		rc = gnutls_certificate_allocate_credentials(&e->srv_cred);
	if (rc >= 0)
		rc = gnutls_certificate_allocate_credentials(&e->cli_cred);
	if (rc >= 0)
		rc = gnutls_certificate_set_x509_key_mem(e->srv_cred, &cert, &key, GNUTLS_X509_FMT_PEM);
	if (rc >= 0)
		rc = gnutls_priority_init(&e->prio, prio, NULL);
	if (rc >= 0)
		rc = gnutls_session_ticket_key_generate(&e->ticket_key);
	if (rc < 0)
		fprintf(stderr, "tls: gnutls setup: %s\n", gnutls_strerror(rc));
	return rc < 0 ? -1 : 0;
}

/* ---- the libcrypto floor ---- */

struct floor_env {
	EVP_PKEY_CTX *x25519;	/* key generation */
	EVP_PKEY *peer, *ecdsa; /* the client's share; the certificate's key */
	EVP_MD_CTX *md;
};

static int floor_setup(struct floor_env *f, const struct bench_cert *bc)
{
	BIO *kb = BIO_new_mem_buf(bc->key_pem, -1);
	f->ecdsa = PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL);
	BIO_free(kb);
	f->x25519 = EVP_PKEY_CTX_new_id(EVP_PKEY_X25519, NULL);
	f->md = EVP_MD_CTX_new();
	if (!f->ecdsa || !f->x25519 || !f->md || EVP_PKEY_keygen_init(f->x25519) <= 0 ||
	    EVP_PKEY_keygen(f->x25519, &f->peer) <= 0)
		return -1;
	return 0;
}

/* The server's public-key work for one handshake: an X25519 share (key
 * generated, public value encoded), the shared secret, and (full
 * handshakes) the CertificateVerify signature over its 130-byte input
 * (TLS 1.2's ServerKeyExchange signs 32 + 32 + 36 bytes instead: the same
 * one ECDSA signature). A resumed TLS 1.2 handshake has no public-key
 * work at all: no floor. */
static int floor_one(struct floor_env *f, bool sign)
{
	EVP_PKEY *k = NULL;
	uint8_t pub[32], secret[32], msg[130], sig[80];
	size_t plen = sizeof pub, slen = sizeof secret, siglen = sizeof sig;
	int ok = EVP_PKEY_keygen(f->x25519, &k) > 0 && EVP_PKEY_get_raw_public_key(k, pub, &plen) > 0;
	EVP_PKEY_CTX *d = ok ? EVP_PKEY_CTX_new(k, NULL) : NULL;
	ok = d && EVP_PKEY_derive_init(d) > 0 && EVP_PKEY_derive_set_peer(d, f->peer) > 0 &&
	     EVP_PKEY_derive(d, secret, &slen) > 0;
	EVP_PKEY_CTX_free(d);
	EVP_PKEY_free(k);
	if (ok && sign) {
		memset(msg, ' ', 64);
		memcpy(msg + 64, "TLS 1.3, server CertificateVerify", 34);
		memcpy(msg + 98, secret, 32);
		ok = EVP_DigestSignInit(f->md, NULL, EVP_sha256(), NULL, f->ecdsa) > 0 &&
		     EVP_DigestSign(f->md, sig, &siglen, msg, sizeof msg) > 0;
	}
	return ok ? 0 : -1;
}

static double floor_run(struct floor_env *f, bool sign, long n)
{
	struct meter m = {0};
	int rc = 0;
	METER(&m, {
		for (long i = 0; i < n && !rc; i++)
			rc = floor_one(f, sign);
	});
	return rc ? -1 : rate(&m, (double)n);
}

/* ---- bulk ---- */

static uint8_t plain[REC], rec[REC + 256], back[REC + 256];

/* Raw EVP AES-128-GCM: records of 16,385 bytes (data + content type) with
 * a 5-byte header as AAD; open: also checks the tag. */
struct evp_dir {
	EVP_CIPHER_CTX *ctx;
	uint8_t iv[12];
	uint64_t seq;
};

static void evp_nonce(struct evp_dir *d, uint8_t nonce[12])
{
	memcpy(nonce, d->iv, 12);
	for (int i = 0; i < 8; i++)
		nonce[11 - i] ^= (uint8_t)(d->seq >> (8 * i));
	d->seq++;
}

static int evp_seal(struct evp_dir *d, const uint8_t *in, size_t len, uint8_t *out)
{
	uint8_t nonce[12], hdr[5] = {23, 3, 3, (uint8_t)((len + 17) >> 8), (uint8_t)(len + 17)};
	int n, f;
	evp_nonce(d, nonce);
	memcpy(out, in, len);
	out[len] = 23; /* inner content type */
	return EVP_EncryptInit_ex(d->ctx, NULL, NULL, NULL, nonce) > 0 &&
		       EVP_EncryptUpdate(d->ctx, NULL, &n, hdr, sizeof hdr) > 0 &&
		       EVP_EncryptUpdate(d->ctx, out, &n, out, (int)len + 1) > 0 &&
		       EVP_EncryptFinal_ex(d->ctx, out + n, &f) > 0 &&
		       EVP_CIPHER_CTX_ctrl(d->ctx, EVP_CTRL_GCM_GET_TAG, 16, out + len + 1) > 0
		   ? 0
		   : -1;
}

static int evp_open(struct evp_dir *d, const uint8_t *in, size_t len, uint8_t *out)
{
	uint8_t nonce[12], hdr[5] = {23, 3, 3, (uint8_t)(len >> 8), (uint8_t)len};
	int n, f;
	evp_nonce(d, nonce);
	return EVP_DecryptInit_ex(d->ctx, NULL, NULL, NULL, nonce) > 0 &&
		       EVP_DecryptUpdate(d->ctx, NULL, &n, hdr, sizeof hdr) > 0 &&
		       EVP_DecryptUpdate(d->ctx, out, &n, in, (int)len - 16) > 0 &&
		       EVP_CIPHER_CTX_ctrl(d->ctx, EVP_CTRL_GCM_SET_TAG, 16, (void *)(in + len - 16)) > 0 &&
		       EVP_DecryptFinal_ex(d->ctx, out + n, &f) > 0
		   ? 0
		   : -1;
}

/* MB/s of CPU time for `records` records: sealed, and opened if `open`. */
static double evp_bulk(long records, bool open)
{
	uint8_t key[16], iv[12];
	RAND_bytes(key, sizeof key);
	RAND_bytes(iv, sizeof iv);
	struct evp_dir s = {EVP_CIPHER_CTX_new(), {0}, 0}, o = {EVP_CIPHER_CTX_new(), {0}, 0};
	memcpy(s.iv, iv, 12);
	memcpy(o.iv, iv, 12);
	int rc = !s.ctx || !o.ctx || EVP_EncryptInit_ex(s.ctx, EVP_aes_128_gcm(), NULL, key, NULL) <= 0 ||
		 EVP_DecryptInit_ex(o.ctx, EVP_aes_128_gcm(), NULL, key, NULL) <= 0;
	struct meter m = {0};
	METER(&m, {
		for (long i = 0; i < records && !rc; i++) {
			rc = evp_seal(&s, plain, REC, rec);
			if (!rc && open)
				rc = evp_open(&o, rec, REC + 17, back);
		}
	});
	EVP_CIPHER_CTX_free(s.ctx);
	EVP_CIPHER_CTX_free(o.ctx);
	if (rc || (open && memcmp(back, plain, REC))) {
		fprintf(stderr, "tls: EVP AES-128-GCM failed\n");
		return -1;
	}
	return rate(&m, (double)records * REC / 1e6);
}

/* synack: write on the server; with `open`, the record is fed to the
 * client and read there, else it is consumed unread (seal only). */
static double sy_bulk(struct sy_env *e, long records, bool open)
{
	struct meter none = {0}, m = {0};
	synack_tls *c, *s;
	int rc = sy_connect(e, false, &none, &none, &c, &s);
	long got = 0;
	METER(&m, {
		for (long i = 0; i < records && !rc; i++) {
			ssize_t w = synack_tls_write(s, plain, REC);
			if (w != REC) {
				rc = w < 0 ? (int)w : -EAGAIN;
				break;
			}
			size_t n;
			const uint8_t *p = synack_tls_out_peek(s, &n);
			while (open && n && !rc) {
				ssize_t k = synack_tls_feed(c, p, n);
				ssize_t r;
				while ((r = synack_tls_read(c, back, sizeof back)) > 0)
					got += r;
				if (k < 0 || (r < 0 && r != -EAGAIN))
					rc = (int)(k < 0 ? k : r);
				synack_tls_out_consume(s, rc ? 0 : (size_t)k);
				p = synack_tls_out_peek(s, &n);
			}
			if (!open)
				synack_tls_out_consume(s, n);
		}
	});
	if (!rc && open && (got != records * REC || memcmp(back, plain, REC)))
		rc = -EPROTO;
	if (rc)
		fprintf(stderr, "tls: synack bulk: %s\n", synack_tls_strerror(rc));
	synack_tls_free(s);
	synack_tls_free(c);
	return rc ? -1 : rate(&m, (double)records * REC / 1e6);
}

/* libssl: SSL_write on the server, the record moved through the memory
 * BIOs, SSL_read on the client. */
static double os_bulk(struct os_env *e, long records)
{
	struct meter none = {0}, m = {0};
	SSL *c, *s;
	int rc = os_connect(e, false, &none, &none, &c, &s);
	long got = 0;
	METER(&m, {
		for (long i = 0; i < records && !rc; i++) {
			if (SSL_write(s, plain, REC) != REC) {
				rc = -1;
				break;
			}
			ossl_drain(s, &e->s2c);
			ossl_fill(c, &e->s2c);
			int r;
			while ((r = SSL_read(c, back, sizeof back)) > 0)
				got += r;
		}
	});
	if (!rc && got != records * REC)
		rc = -1;
	SSL_free(s);
	SSL_free(c);
	return rc ? -1 : rate(&m, (double)records * REC / 1e6);
}

/* ---- main ---- */

static double best(double a, double b)
{
	return a < 0 || b < 0 ? -1 : a > b ? a : b;
}

static void note_hs(const char *name, double sy, double os, double gt, double fl, const double cli[3])
{
	char a[32], b[32];
	if (fl == 0) /* a resumed TLS 1.2 handshake: no public-key work, no floor */
		snprintf(b, sizeof b, "none (no public-key work)");
	else
		fmt_figure(b, sizeof b, fl, 0);
	fprintf(stderr,
		"# %s: gnutls=%s handshakes/s (synack/gnutls=%.2f), libcrypto floor=%s handshakes/s "
		"(synack/floor=%.2f); server CPU only; client CPU per handshake: synack=%.0fus "
		"libssl=%.0fus gnutls=%.0fus\n",
		name, fmt_figure(a, sizeof a, gt, 0), sy > 0 && gt > 0 ? sy / gt : 0, b,
		sy > 0 && fl > 0 ? sy / fl : 0, cli[0], cli[1], cli[2]);
	(void)os;
}

int main(void)
{
	bool quick = env_long("BENCH_QUICK", 0) != 0;
	long n = env_long("BENCH_TLS_N", quick ? 300 : 2000);
	long mb = env_long("BENCH_TLS_BULK_MB", quick ? 32 : 256);
	long repeat = env_long("BENCH_REPEAT", 3);
	long records = mb * 1000000 / REC;
	const char *only = getenv("BENCH_TLS_ONLY"); /* "synack", "libssl gnutls" ...: for profiles */
	struct bench_cert bc;
	static struct sy_env sy, sy12;
	static struct os_env os, os12;
	static struct gt_env gt, gt12;
	struct floor_env fl = {0};

	setvbuf(stdout, NULL, _IOLBF, 0);
	calibrate_clock();
	RAND_bytes(plain, sizeof plain);
	if (bench_cert_make(&bc) < 0 || !(os.srv = ossl_ctx(&bc, 1)) || !(os.cli = ossl_ctx(&bc, 0)) ||
	    !(os12.srv = ossl_ctx_v(&bc, 1, TLS1_2_VERSION)) ||
	    !(os12.cli = ossl_ctx_v(&bc, 0, TLS1_2_VERSION)) || gt_setup(&gt, &bc, false) < 0 ||
	    gt_setup(&gt12, &bc, true) < 0 || floor_setup(&fl, &bc) < 0) {
		fprintf(stderr, "tls: set-up failed\n");
		print_figure("tls13_full", -1, -1, 0, "handshakes/s");
		return 1;
	}
	/* without synack (set-up failed), the baselines still run */
	bool sy_ok = (sy.srv = sy_config(&bc, 1)) && (sy.cli = sy_config(&bc, 0)) &&
		     (sy12.srv = sy_config_v(&bc, 1, SYNACK_TLS_VERSION_12)) &&
		     (sy12.cli = sy_config_v(&bc, 0, SYNACK_TLS_VERSION_12));
	const struct impl impls[2][3] = {
	    {{"synack", sy_one, &sy}, {"libssl", os_one, &os}, {"gnutls", gt_one, &gt}},
	    {{"synack", sy_one, &sy12}, {"libssl", os_one, &os12}, {"gnutls", gt_one, &gt12}}};
	int status = 0;

	for (int v12 = 0; v12 <= 1; v12++)
		for (int resume = 0; resume <= 1; resume++) {
			double r[3] = {0, 0, 0}, cli[3] = {0, 0, 0}, fr = 0;
			const char *name = v12 ? (resume ? "tls12_resumed" : "tls12_full")
					       : (resume ? "tls13_resumed" : "tls13_full");
			if (only && (strstr(only, "full") || strstr(only, "resumed")) &&
			    !strstr(only, resume ? "resumed" : "full"))
				continue;
			if (only && (strstr(only, "tls12") || strstr(only, "tls13")) &&
			    !strstr(only, v12 ? "tls12" : "tls13"))
				continue;
			for (long round = 0; round < repeat; round++) {
				for (int i = 0; i < 3; i++) {
					double c = 0, v = -1;
					if ((i || sy_ok) && (!only || strstr(only, impls[v12][i].name)))
						v = hs_run(&impls[v12][i], resume, n, &c);
					r[i] = round ? best(r[i], v) : v;
					cli[i] = (cli[i] == 0 || (c > 0 && c < cli[i])) ? c : cli[i];
				}
				double f = v12 && resume ? 0 : floor_run(&fl, !resume, n); /* 0: none */
				fr = round ? best(fr, f) : f;
			}
			print_figure(name, r[0], r[1], 0, "handshakes/s");
			note_hs(name, r[0], r[1], r[2], fr, cli);
			if (r[0] < 0 || r[1] < 0)
				status = 1;
		}
	fprintf(stderr,
		"# tls: %ld handshakes per run, best of %ld runs; clock read costs %.0f ns, taken off\n", n,
		repeat, clock_cost_ns);

	double sb = 0, eb = 0, ss = 0, es = 0, ob = 0;
	for (long round = 0; round < repeat; round++) {
		double v;
		v = sy_ok ? sy_bulk(&sy, records, true) : -1;
		sb = round ? best(sb, v) : v;
		v = evp_bulk(records, true);
		eb = round ? best(eb, v) : v;
		v = sy_ok ? sy_bulk(&sy, records, false) : -1;
		ss = round ? best(ss, v) : v;
		v = evp_bulk(records, false);
		es = round ? best(es, v) : v;
		v = os_bulk(&os, records);
		ob = round ? best(ob, v) : v;
	}
	print_figure("tls_bulk", sb, eb, 0, "MB/s");
	fprintf(stderr,
		"# tls_bulk: 16 KiB records sealed and opened (write + feed + read), %ld MB, CPU time; "
		"seal only: synack=%.0f evp=%.0f MB/s (%.2f); libssl SSL_write+SSL_read via memory BIOs=%.0f "
		"MB/s (synack/libssl=%.2f)\n",
		mb, ss, es, ss > 0 && es > 0 ? ss / es : 0, ob, sb > 0 && ob > 0 ? sb / ob : 0);
	if (sb < 0 || eb < 0)
		status = 1;
	fflush(stdout);
	return status;
}
