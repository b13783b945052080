/* synack: a small POSIX-like socket layer over the TCP API, with file
 * descriptor numbers, socket options and errno results (a negative errno
 * instead of -1 + errno). Every call is non-blocking: where POSIX would
 * block, -EAGAIN (or -EINPROGRESS for connect) is returned and the caller
 * drives the stack and tries again. Used by `synack pkt` to run packetdrill
 * scripts; useful to port socket code onto synack. */
#ifndef SYNACK_SOCKET_H
#define SYNACK_SOCKET_H

#include "synack/tcp.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct synack_sockets synack_sockets;

/* A descriptor table over one stack; descriptors start at first_fd. */
SYNACK_API int synack_sockets_create(synack_stack *st, int first_fd, synack_sockets **out);
/* Aborts every connection still open and frees the table. */
SYNACK_API void synack_sockets_destroy(synack_sockets *s);

SYNACK_API int synack_socket(synack_sockets *s); /* a TCP socket: fd or -EMFILE */
SYNACK_API int synack_bind(synack_sockets *s, int fd, const synack_endpoint *local);
SYNACK_API int synack_listen(synack_sockets *s, int fd, int backlog);
SYNACK_API int synack_accept(synack_sockets *s, int fd, synack_endpoint *peer); /* new fd or -EAGAIN */
/* 0 once connected; -EINPROGRESS on the first call, -EALREADY while the
 * handshake runs, -EISCONN after success, or the failure (-ECONNREFUSED...). */
SYNACK_API int synack_connect(synack_sockets *s, int fd, const synack_endpoint *remote);
SYNACK_API ssize_t synack_write(synack_sockets *s, int fd, const void *buf, size_t len);
SYNACK_API ssize_t synack_read(synack_sockets *s, int fd, void *buf, size_t len);
/* recv(2) flags; MSG_WAITALL on a non-blocking call: -EAGAIN until len
 * bytes (or end of file, or an error) are there. */
enum { SYNACK_MSG_PEEK = SYNACK_TCP_RECV_PEEK, SYNACK_MSG_WAITALL = SYNACK_TCP_RECV_WAITALL };
SYNACK_API ssize_t synack_recv(synack_sockets *s, int fd, void *buf, size_t len, int flags);
SYNACK_API int synack_shutdown(synack_sockets *s, int fd, int how); /* SYNACK_SHUT_* */
SYNACK_API int synack_close(synack_sockets *s, int fd);

enum synack_sockopt {
	SYNACK_SO_RCVBUF = 1,
	SYNACK_SO_SNDBUF,
	SYNACK_SO_ERROR,
	SYNACK_SO_REUSEADDR,
	SYNACK_SO_LINGER,    /* value: -1 off, else seconds (0 = abortive close) */
	SYNACK_SO_KEEPALIVE, /* 1 on; TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT below */
	SYNACK_SO_NODELAY,   /* TCP_NODELAY */
	SYNACK_SO_MAXSEG,    /* TCP_MAXSEG */
	SYNACK_SO_NOOPT,     /* TCP_NOOPT (BSD): no TCP options; before connect/listen */
	SYNACK_SO_KEEPIDLE,  /* TCP_KEEPIDLE: seconds */
	SYNACK_SO_KEEPINTVL, /* TCP_KEEPINTVL: seconds */
	SYNACK_SO_KEEPCNT,   /* TCP_KEEPCNT: probes */
	SYNACK_SO_TTL,	     /* IP_TTL / IPV6_UNICAST_HOPS: 1..255, -1 the default */
	SYNACK_SO_TOS,	     /* IP_TOS / IPV6_TCLASS: 0..255 (the ECN bits are TCP's) */
};
SYNACK_API int synack_setsockopt(synack_sockets *s, int fd, int opt, int value);
/* SO_ERROR returns the pending error as a positive errno and clears it. */
SYNACK_API int synack_getsockopt(synack_sockets *s, int fd, int opt, int *value);
SYNACK_API int synack_set_nonblocking(synack_sockets *s, int fd, int on);
SYNACK_API int synack_get_nonblocking(synack_sockets *s, int fd);

/* The connection behind fd (NULL for a socket not yet listening or
 * connecting), and the state as tcp_info would report it. */
SYNACK_API synack_tcp *synack_socket_tcp(synack_sockets *s, int fd);
SYNACK_API int synack_socket_state(synack_sockets *s, int fd);

#ifdef __cplusplus
}
#endif
#endif
