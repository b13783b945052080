/* POSIX-like descriptors over synack_tcp handles (include/synack/socket.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "synack/socket.h"

enum { SOCK_MAX = 1024 };

struct sock {
	bool used, bound, nonblock, reuse, connecting;
	bool err_taken;	 /* the connection's error was read by SO_ERROR */
	int linger;	 /* -1 off */
	int pending_err; /* reported once by SO_ERROR or a call */
	int keep[4];	 /* SO_KEEPALIVE, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT */
	synack_endpoint local;
	synack_tcp_params params;
	synack_tcp *tcp;
};

struct synack_sockets {
	synack_stack *st;
	int first_fd;
	struct sock s[SOCK_MAX];
};

int synack_sockets_create(synack_stack *st, int first_fd, synack_sockets **out)
{
	synack_sockets *t = calloc(1, sizeof *t);
	*out = NULL;
	if (!t)
		return -ENOMEM;
	t->st = st;
	t->first_fd = first_fd;
	*out = t;
	return 0;
}

void synack_sockets_destroy(synack_sockets *t)
{
	if (!t)
		return;
	for (int i = 0; i < SOCK_MAX; i++)
		if (t->s[i].used && t->s[i].tcp)
			synack_tcp_abort(t->s[i].tcp);
	free(t);
}

static struct sock *get(synack_sockets *t, int fd)
{
	int i = fd - t->first_fd;
	if (i < 0 || i >= SOCK_MAX || !t->s[i].used)
		return NULL;
	return &t->s[i];
}

/* The TCP options behind the keep[] slots, and Linux's defaults. */
static const int keep_opts[4] = {SYNACK_TCP_KEEPALIVE, SYNACK_TCP_KEEPIDLE, SYNACK_TCP_KEEPINTVL,
				 SYNACK_TCP_KEEPCNT};
static const int keep_defaults[4] = {0, 7200, 75, 9};

/* Keepalive set before the connection existed: hand it over (the switch
 * last, so the timing is in place when it arms). */
static void apply_keep(struct sock *k)
{
	for (int i = 3; k->tcp && i >= 0; i--)
		(void)synack_tcp_setopt(k->tcp, keep_opts[i], k->keep[i]);
}

static int alloc_fd(synack_sockets *t)
{
	for (int i = 0; i < SOCK_MAX; i++)
		if (!t->s[i].used) {
			memset(&t->s[i], 0, sizeof t->s[i]);
			t->s[i].used = true;
			t->s[i].linger = -1;
			memcpy(t->s[i].keep, keep_defaults, sizeof keep_defaults);
			return t->first_fd + i;
		}
	return -EMFILE;
}

int synack_socket(synack_sockets *t)
{
	return alloc_fd(t);
}

int synack_bind(synack_sockets *t, int fd, const synack_endpoint *local)
{
	struct sock *k = get(t, fd);
	if (!k)
		return -EBADF;
	if (k->bound || k->tcp)
		return -EINVAL;
	k->local = *local;
	k->bound = true;
	return 0;
}

int synack_listen(synack_sockets *t, int fd, int backlog)
{
	struct sock *k = get(t, fd);
	if (!k)
		return -EBADF;
	if (k->tcp)
		return synack_tcp_state(k->tcp) == SYNACK_TCP_LISTEN ? 0 : -EINVAL;
	if (!k->bound)
		return -EDESTADDRREQ; /* synack has no implicit bind to an ephemeral port for listeners */
	int err = synack_tcp_listen_ex(t->st, &k->local, backlog < 1 ? 1 : backlog, &k->params, &k->tcp);
	apply_keep(k); /* its connections inherit it */
	return err;
}

int synack_accept(synack_sockets *t, int fd, synack_endpoint *peer)
{
	struct sock *k = get(t, fd);
	synack_tcp *c;
	if (!k)
		return -EBADF;
	if (!k->tcp || synack_tcp_state(k->tcp) != SYNACK_TCP_LISTEN)
		return -EINVAL;
	int nfd = alloc_fd(t);
	if (nfd < 0)
		return nfd;
	int err = synack_tcp_accept(k->tcp, &c);
	if (err) {
		get(t, nfd)->used = false;
		return err;
	}
	struct sock *n = get(t, nfd);
	n->tcp = c;
	n->params = k->params;
	memcpy(n->keep, k->keep, sizeof n->keep);
	n->nonblock = false;
	synack_tcp_endpoints(c, &n->local, peer);
	return nfd;
}

/* The error a call reports once the connection failed (then cleared). */
static int take_error(struct sock *k)
{
	int e = k->pending_err;
	if (!e && k->tcp && !k->err_taken) {
		e = synack_tcp_error(k->tcp);
		k->err_taken = e != 0; /* SO_ERROR clears it, as on Linux and BSD */
	}
	k->pending_err = 0;
	return e;
}

int synack_connect(synack_sockets *t, int fd, const synack_endpoint *remote)
{
	struct sock *k = get(t, fd);
	if (!k)
		return -EBADF;
	if (k->tcp) {
		int st = synack_tcp_state(k->tcp);
		if (st == SYNACK_TCP_SYN_SENT || st == SYNACK_TCP_SYN_RECEIVED)
			return -EALREADY;
		if (st == SYNACK_TCP_LISTEN)
			return -EOPNOTSUPP;
		if (synack_tcp_error(k->tcp) && k->connecting) {
			k->connecting = false;
			return synack_tcp_error(k->tcp);
		}
		k->connecting = false;
		return -EISCONN;
	}
	int err = synack_tcp_connect_ex(t->st, remote, k->bound ? &k->local : NULL, &k->params, &k->tcp);
	if (err)
		return err;
	apply_keep(k);
	k->connecting = true;
	if (synack_tcp_state(k->tcp) == SYNACK_TCP_ESTABLISHED)
		return 0;
	return -EINPROGRESS;
}

ssize_t synack_write(synack_sockets *t, int fd, const void *buf, size_t len)
{
	struct sock *k = get(t, fd);
	if (!k)
		return -EBADF;
	if (!k->tcp)
		return -ENOTCONN;
	ssize_t r = synack_tcp_send(k->tcp, buf, len);
	if (r == -ECONNREFUSED || r == -ECONNRESET || r == -ETIMEDOUT)
		k->connecting = false;
	return r;
}

ssize_t synack_read(synack_sockets *t, int fd, void *buf, size_t len)
{
	return synack_recv(t, fd, buf, len, 0);
}

ssize_t synack_recv(synack_sockets *t, int fd, void *buf, size_t len, int flags)
{
	struct sock *k = get(t, fd);
	if (!k)
		return -EBADF;
	if (!k->tcp)
		return -ENOTCONN;
	return synack_tcp_recv_ex(k->tcp, buf, len, flags & (SYNACK_MSG_PEEK | SYNACK_MSG_WAITALL));
}

int synack_shutdown(synack_sockets *t, int fd, int how)
{
	struct sock *k = get(t, fd);
	if (!k)
		return -EBADF;
	if (!k->tcp)
		return -ENOTCONN;
	return synack_tcp_shutdown(k->tcp, how);
}

int synack_close(synack_sockets *t, int fd)
{
	struct sock *k = get(t, fd);
	if (!k)
		return -EBADF;
	if (k->tcp) {
		if (k->linger == 0)
			synack_tcp_abort(k->tcp); /* SO_LINGER with a zero timeout: RST */
		else
			synack_tcp_close(k->tcp);
	}
	k->used = false;
	k->tcp = NULL;
	return 0;
}

static int keep_slot(int opt)
{
	switch (opt) {
	case SYNACK_SO_KEEPALIVE:
		return 0;
	case SYNACK_SO_KEEPIDLE:
		return 1;
	case SYNACK_SO_KEEPINTVL:
		return 2;
	case SYNACK_SO_KEEPCNT:
		return 3;
	default:
		return -1;
	}
}

/* Options kept by the socket until the connection exists, then passed on. */
static int set_tcp_opt(struct sock *k, int opt, int value)
{
	int slot = keep_slot(opt);
	if (slot >= 0) {
		int lim = slot == 0 ? INT32_MAX : slot == 3 ? 127 : 32767;
		if (slot > 0 && (value < 1 || value > lim))
			return -EINVAL;
		k->keep[slot] = slot == 0 ? value != 0 : value;
		return k->tcp ? synack_tcp_setopt(k->tcp, keep_opts[slot], value) : 0;
	}
	if (value < (opt == SYNACK_SO_TTL ? -1 : 0) || value > 255)
		return -EINVAL;
	if (opt == SYNACK_SO_TTL)
		k->params.ttl = (uint8_t)(value < 0 ? 0 : value);
	else
		k->params.tos = (uint8_t)value;
	return k->tcp
		   ? synack_tcp_setopt(k->tcp, opt == SYNACK_SO_TTL ? SYNACK_TCP_TTL : SYNACK_TCP_TOS, value)
		   : 0;
}

int synack_setsockopt(synack_sockets *t, int fd, int opt, int value)
{
	struct sock *k = get(t, fd);
	if (!k)
		return -EBADF;
	switch (opt) {
	case SYNACK_SO_RCVBUF:
	case SYNACK_SO_SNDBUF:
		if (value < 1)
			return -EINVAL;
		if (opt == SYNACK_SO_RCVBUF)
			k->params.rcvbuf = (uint32_t)value;
		else
			k->params.sndbuf = (uint32_t)value;
		/* once data flowed it is too late; like BSD, not an error */
		if (k->tcp)
			(void)synack_tcp_setopt(
			    k->tcp, opt == SYNACK_SO_RCVBUF ? SYNACK_TCP_RCVBUF : SYNACK_TCP_SNDBUF, value);
		return 0;
	case SYNACK_SO_REUSEADDR:
		k->reuse = value != 0;
		return 0;
	case SYNACK_SO_LINGER:
		k->linger = value;
		return 0;
	case SYNACK_SO_NOOPT:
		if (k->tcp)
			return -EISCONN;
		k->params.noopt = value != 0;
		return 0;
	case SYNACK_SO_NODELAY:
		k->params.nodelay = value != 0;
		return k->tcp ? synack_tcp_setopt(k->tcp, SYNACK_TCP_NODELAY, value) : 0;
	case SYNACK_SO_MAXSEG:
		if (value < 64 || value > 65535)
			return -EINVAL;
		k->params.mss = (uint16_t)value;
		return k->tcp ? synack_tcp_setopt(k->tcp, SYNACK_TCP_MAXSEG, value) : 0;
	case SYNACK_SO_KEEPALIVE:
	case SYNACK_SO_KEEPIDLE:
	case SYNACK_SO_KEEPINTVL:
	case SYNACK_SO_KEEPCNT:
	case SYNACK_SO_TTL:
	case SYNACK_SO_TOS:
		return set_tcp_opt(k, opt, value);
	default:
		return -ENOPROTOOPT;
	}
}

/* TTL and TOS as the connection uses them (the stack's TTL, 64 by default,
 * before there is one). */
static int get_ip_opt(struct sock *k, int opt, int *value)
{
	if (k->tcp)
		return synack_tcp_getopt(k->tcp, opt == SYNACK_SO_TTL ? SYNACK_TCP_TTL : SYNACK_TCP_TOS,
					 value);
	*value = opt == SYNACK_SO_TTL ? (k->params.ttl ? k->params.ttl : 64) : k->params.tos & ~3;
	return 0;
}

int synack_getsockopt(synack_sockets *t, int fd, int opt, int *value)
{
	struct sock *k = get(t, fd);
	const synack_tcp_config *c = synack_stack_tcp_config(t->st);
	if (!k)
		return -EBADF;
	switch (opt) {
	case SYNACK_SO_RCVBUF:
		*value = (int)(k->params.rcvbuf ? k->params.rcvbuf : c->rcvbuf);
		return 0;
	case SYNACK_SO_SNDBUF:
		*value = (int)(k->params.sndbuf ? k->params.sndbuf : c->sndbuf);
		return 0;
	case SYNACK_SO_ERROR:
		*value = -take_error(k);
		if (*value)
			k->connecting = false;
		return 0;
	case SYNACK_SO_REUSEADDR:
		*value = k->reuse;
		return 0;
	case SYNACK_SO_LINGER:
		*value = k->linger;
		return 0;
	case SYNACK_SO_NODELAY:
		*value = k->params.nodelay;
		return 0;
	case SYNACK_SO_NOOPT:
		*value = k->params.noopt;
		return 0;
	case SYNACK_SO_MAXSEG:
		if (k->tcp)
			return synack_tcp_getopt(k->tcp, SYNACK_TCP_MAXSEG, value);
		*value = k->params.mss ? k->params.mss : c->mss_default;
		return 0;
	case SYNACK_SO_KEEPALIVE:
	case SYNACK_SO_KEEPIDLE:
	case SYNACK_SO_KEEPINTVL:
	case SYNACK_SO_KEEPCNT:
		*value = k->keep[keep_slot(opt)];
		return 0;
	case SYNACK_SO_TTL:
	case SYNACK_SO_TOS:
		return get_ip_opt(k, opt, value);
	default:
		return -ENOPROTOOPT;
	}
}

int synack_set_nonblocking(synack_sockets *t, int fd, int on)
{
	struct sock *k = get(t, fd);
	if (!k)
		return -EBADF;
	k->nonblock = on != 0;
	return 0;
}

int synack_get_nonblocking(synack_sockets *t, int fd)
{
	struct sock *k = get(t, fd);
	return k ? k->nonblock : -EBADF;
}

synack_tcp *synack_socket_tcp(synack_sockets *t, int fd)
{
	struct sock *k = get(t, fd);
	return k ? k->tcp : NULL;
}

int synack_socket_state(synack_sockets *t, int fd)
{
	struct sock *k = get(t, fd);
	if (!k)
		return -EBADF;
	return k->tcp ? synack_tcp_state(k->tcp) : SYNACK_TCP_CLOSED;
}
