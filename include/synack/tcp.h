/* synack: TCP sockets. A synack_tcp handle is valid from the call that
 * returns it until synack_tcp_close() or synack_tcp_abort(); after that the
 * stack owns the connection (FIN exchange, TIME-WAIT) and frees it itself.
 * Calls use the stack's current time (latest input/poll) and may transmit. */
#ifndef SYNACK_TCP_H
#define SYNACK_TCP_H

#include "synack/stack.h"

#ifdef __cplusplus
extern "C" {
#endif

/* RFC 9293 §3.3.2 states. */
enum synack_tcp_state {
	SYNACK_TCP_CLOSED = 0,
	SYNACK_TCP_LISTEN,
	SYNACK_TCP_SYN_SENT,
	SYNACK_TCP_SYN_RECEIVED,
	SYNACK_TCP_ESTABLISHED,
	SYNACK_TCP_FIN_WAIT_1,
	SYNACK_TCP_FIN_WAIT_2,
	SYNACK_TCP_CLOSE_WAIT,
	SYNACK_TCP_CLOSING,
	SYNACK_TCP_LAST_ACK,
	SYNACK_TCP_TIME_WAIT,
};
SYNACK_API const char *synack_tcp_state_name(int state); /* "SYN-SENT" ... */

/* Passive open on local (address may be unspecified: SYNACK_AF_NONE or all
 * zero means any of the stack's addresses). backlog bounds both the
 * SYN-RECEIVED queue and the accept queue. -EADDRINUSE if taken. */
SYNACK_API int synack_tcp_listen(synack_stack *st, const synack_endpoint *local, int backlog,
				 synack_tcp **out);
/* Take one established connection; -EAGAIN if none, -EINVAL if not a listener. */
SYNACK_API int synack_tcp_accept(synack_tcp *listener, synack_tcp **out);

/* Active open: sends a SYN now. local may be NULL (stack address, ephemeral
 * port). Completion is reported by SYNACK_EV_CONNECTED or an error event. */
SYNACK_API int synack_tcp_connect(synack_stack *st, const synack_endpoint *remote,
				  const synack_endpoint *local, synack_tcp **out);

/* Per-connection settings fixed at open time; zero fields take the stack's
 * defaults. */
typedef struct synack_tcp_params {
	uint32_t sndbuf, rcvbuf; /* bytes */
	uint16_t mss;		 /* cap on the MSS we use and advertise */
	uint8_t nodelay;	 /* 1 disables Nagle */
	uint8_t noopt;		 /* send and negotiate no TCP options at all (BSD TCP_NOOPT) */
	uint8_t ttl;		 /* IPv4 TTL / IPv6 hop limit of its packets (0: the stack's) */
	uint8_t tos;		 /* IPv4 TOS / IPv6 traffic class, DSCP bits only (ECN is TCP's) */
} synack_tcp_params;
SYNACK_API int synack_tcp_listen_ex(synack_stack *st, const synack_endpoint *local, int backlog,
				    const synack_tcp_params *params, synack_tcp **out);
SYNACK_API int synack_tcp_connect_ex(synack_stack *st, const synack_endpoint *remote,
				     const synack_endpoint *local, const synack_tcp_params *params,
				     synack_tcp **out);

/* Management: how many TCBs are in `state` (listeners and unaccepted
 * children included), and drop every TCB in `state` (a RST is sent for
 * synchronized states other than TIME-WAIT; handles held by the
 * application see SYNACK_EV_ERROR with -ECONNABORTED). Returns the count. */
SYNACK_API size_t synack_tcp_count_state(const synack_stack *st, int state);
SYNACK_API size_t synack_tcp_drop_state(synack_stack *st, int state);

/* Queue up to len bytes; returns bytes taken (maybe fewer), -EAGAIN when the
 * send buffer is full, -ENOTCONN before the handshake, -EPIPE after shutdown
 * or close, or the connection's error (-ECONNRESET, -ETIMEDOUT ...). */
SYNACK_API ssize_t synack_tcp_send(synack_tcp *c, const void *buf, size_t len);
/* Read up to len bytes; 0 means the peer closed and all data was read;
 * -EAGAIN when nothing is there yet; or the connection's error. */
SYNACK_API ssize_t synack_tcp_recv(synack_tcp *c, void *buf, size_t len);
/* synack_tcp_recv with flags: PEEK copies without consuming (no window
 * update); WAITALL returns -EAGAIN (taking nothing) until len bytes are
 * there, unless end of file or an error comes first (then what is there);
 * TRUNC consumes up to len bytes without copying them (buf may be NULL), as
 * Linux's MSG_TRUNC on a TCP socket: with synack_tcp_recv_view, a receive
 * with no copy at all. */
enum { SYNACK_TCP_RECV_PEEK = 1, SYNACK_TCP_RECV_WAITALL = 2, SYNACK_TCP_RECV_TRUNC = 4 };
SYNACK_API ssize_t synack_tcp_recv_ex(synack_tcp *c, void *buf, size_t len, int flags);
/* Zero-copy receive: *data points at the next received bytes inside the
 * receive buffer; returns how many are there in one piece (the buffer is a
 * ring: call again after consuming them for the rest), 0 at end of file,
 * -EAGAIN or the connection's error as synack_tcp_recv. Nothing is
 * consumed: SYNACK_TCP_RECV_TRUNC does that. The pointer is valid until the
 * next call into the stack. */
SYNACK_API ssize_t synack_tcp_recv_view(synack_tcp *c, const uint8_t **data);

enum { SYNACK_SHUT_RD = 1, SYNACK_SHUT_WR = 2, SYNACK_SHUT_RDWR = 3 };
/* SHUT_WR sends FIN after queued data; receiving continues (half-close). */
SYNACK_API int synack_tcp_shutdown(synack_tcp *c, int how);
/* Graceful close and release of the handle. Unread received data causes a
 * RST instead (RFC 9293 §3.10.4 / RFC 2525). */
SYNACK_API int synack_tcp_close(synack_tcp *c);
/* Send RST (if synchronized), free the connection and release the handle. */
SYNACK_API int synack_tcp_abort(synack_tcp *c);

enum synack_tcp_opt {
	SYNACK_TCP_NODELAY = 1, /* int: 1 disables Nagle */
	SYNACK_TCP_SNDBUF,	/* int: bytes (before data is queued) */
	SYNACK_TCP_RCVBUF,	/* int: bytes (before connect/listen) */
	SYNACK_TCP_MAXSEG,	/* int: MSS cap */
	/* Keepalive (RFC 9293 §3.8.4, RFC 1122 §4.2.3.6): off by default. After
	 * KEEPIDLE seconds without a segment from the peer (and nothing to send
	 * or in flight), a probe every KEEPINTVL seconds; KEEPCNT unanswered
	 * probes end the connection with -ETIMEDOUT (SYNACK_EV_ERROR) after a
	 * RST. A listener's settings pass to its connections. */
	SYNACK_TCP_KEEPALIVE, /* int: 1 on, 0 off */
	SYNACK_TCP_KEEPIDLE,  /* int: seconds, 1..32767 (default 7200) */
	SYNACK_TCP_KEEPINTVL, /* int: seconds, 1..32767 (default 75) */
	SYNACK_TCP_KEEPCNT,   /* int: probes, 1..127 (default 9) */
	SYNACK_TCP_TTL,	      /* int: IPv4 TTL / IPv6 hop limit, 1..255; 0 or -1: the stack's */
	SYNACK_TCP_TOS,	      /* int: IPv4 TOS / IPv6 traffic class, 0..255; the ECN bits are ignored */
};
SYNACK_API int synack_tcp_setopt(synack_tcp *c, int opt, int value);
SYNACK_API int synack_tcp_getopt(synack_tcp *c, int opt, int *value);

SYNACK_API int synack_tcp_state(const synack_tcp *c);
/* The pending error (negative errno) or 0. */
SYNACK_API int synack_tcp_error(const synack_tcp *c);
/* Events pending on this socket (not cleared). */
SYNACK_API uint32_t synack_tcp_pending(const synack_tcp *c);
SYNACK_API void synack_tcp_set_userdata(synack_tcp *c, void *p);
SYNACK_API void *synack_tcp_userdata(const synack_tcp *c);
SYNACK_API void synack_tcp_endpoints(const synack_tcp *c, synack_endpoint *local, synack_endpoint *remote);

typedef struct synack_tcp_info {
	int state;
	uint32_t conn_id;
	uint32_t iss, irs;
	uint32_t snd_una, snd_nxt, snd_wnd;
	uint32_t rcv_nxt, rcv_wnd;
	uint16_t mss; /* effective send MSS */
	uint8_t snd_wscale, rcv_wscale;
	uint8_t sack_ok, ts_ok, wscale_ok;
	synack_time_t srtt, rttvar, rto;
	uint32_t cwnd, ssthresh;
	uint32_t retransmits; /* total for this connection */
	uint32_t backoff;     /* current consecutive RTO count */
	uint64_t bytes_sent, bytes_received, bytes_acked;
	uint32_t send_queued, recv_queued;
	uint8_t ecn_ok; /* ECN negotiated (RFC 3168 §6.1.1) */
} synack_tcp_info;
SYNACK_API int synack_tcp_get_info(const synack_tcp *c, synack_tcp_info *info);

#ifdef __cplusplus
}
#endif
#endif
