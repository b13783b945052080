/* synack: the stack object. Sans-I/O contract:
 *  - time enters only as the `now` argument of synack_stack_input() and
 *    synack_stack_poll(); API calls between them use the latest such time;
 *  - frames leave only through the configured tx function, possibly from
 *    inside create(), input(), poll() or a synack_tcp_* call;
 *  - no user callback other than tx and the allocator is ever called;
 *    events are collected afterwards (synack_stack_next_event);
 *  - the caller must call synack_stack_poll() no later than
 *    synack_stack_next_deadline(). */
#ifndef SYNACK_STACK_H
#define SYNACK_STACK_H

#include "synack/types.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct synack_stack synack_stack;
typedef struct synack_tcp synack_tcp;

/* TCP tunables. Defaults (synack_stack_config_init) come from the RFCs; each
 * is documented next to its default in src/tcp/tcp_config.c. */
typedef struct synack_tcp_config {
	synack_time_t msl;		 /* maximum segment lifetime; TIME-WAIT = 2*MSL */
	synack_time_t rto_initial;	 /* RFC 6298 §2.1: 1 s */
	synack_time_t rto_min;		 /* RFC 6298 §2.4: 1 s (SHOULD); 200 ms common */
	synack_time_t rto_max;		 /* RFC 6298 §2.5: at least 60 s (at most 1 h, as rto_initial) */
	synack_time_t rto_slop;		 /* added to every computed RTO (BSD rexmit_slop); 0 */
	synack_time_t delack;		 /* RFC 9293 §3.8.6.3 / RFC 1122: <= 500 ms */
	synack_time_t persist_min;	 /* first zero-window probe interval floor */
	synack_time_t persist_max;	 /* probe interval ceiling */
	synack_time_t fin_wait2_timeout; /* orphaned FIN-WAIT-2 lifetime (0 = forever) */
	unsigned syn_retries;		 /* SYN retransmissions before -ETIMEDOUT */
	unsigned synack_retries;	 /* SYN-ACK retransmissions before giving up */
	unsigned data_retries;		 /* data/FIN retransmissions before -ETIMEDOUT */
	uint32_t sndbuf;		 /* default send buffer bytes */
	uint32_t rcvbuf;		 /* default receive buffer bytes */
	uint16_t mss_default;		 /* RFC 9293 §3.7.1: 536 when peer sends none */
	uint16_t ooo_max_ranges;	 /* out-of-order ranges (holes) kept per connection, at most 4096 */
	uint8_t wscale_enable, sack_enable, ts_enable; /* RFC 7323, RFC 2018 */
	uint8_t frto;	     /* 1: detect spurious timeouts (F-RTO, Eifel) and undo (default) */
	uint8_t ts_require;  /* 1: drop segments lacking TSopt once negotiated (RFC 7323 §3.2, default) */
	uint8_t rfc5961_rst; /* 1: RFC 5961 §3 RST checks (default) */
	uint8_t rfc5961_syn; /* 1: RFC 5961 §4 SYN checks (default) */
	uint8_t rfc5961_ack; /* 1: RFC 5961 §5 ACK check (default) */
	uint8_t time_wait_rst_protect; /* RFC 1337: ignore RST in TIME-WAIT */
	uint32_t challenge_ack_limit;  /* per second, RFC 5961 §7 */
	uint32_t max_connections;      /* all TCBs, listeners included */
	uint8_t drop_synfin;	       /* a SYN+FIN cannot open a connection */
	uint8_t rcvbuf_round_mss;      /* round receive buffers up to a multiple of the MSS (BSD) */
	synack_time_t isn_tick;	       /* RFC 6528 M: 4 us */
	uint8_t cc;		       /* congestion control: enum synack_tcp_cc (0: the default, CUBIC) */
	/* Buffer auto-tuning (as Linux's tcp_rmem/tcp_wmem): a connection whose
	 * buffer the application did not set grows it with the path, up to
	 * these (0: never grows); all growth of one stack together stays under
	 * buf_grow_total. Window scale is chosen for rcvbuf_max. */
	uint32_t rcvbuf_max, sndbuf_max, buf_grow_total;
	uint8_t syncookies;    /* RFC 4987 §3.6: 0 off, 1 when a listener can keep no more
				  SYN-RECEIVED children (default), 2 for every SYN */
	uint8_t ecn;	       /* RFC 3168 ECN: enum synack_tcp_ecn (default: passive, as Linux) */
	uint8_t cwv;	       /* RFC 7661 congestion window validation (default 1) */
	synack_time_t cwv_nvp; /* RFC 7661 §4.4.3 non-validated period: 5 minutes */
} synack_tcp_config;

/* ECN (RFC 3168 §6.1.1): when a connection negotiates it. */
enum synack_tcp_ecn {
	SYNACK_TCP_ECN_OFF = 0,
	SYNACK_TCP_ECN_PASSIVE = 1, /* agree when the peer's SYN asks (Linux's tcp_ecn=2) */
	SYNACK_TCP_ECN_ACTIVE = 2,  /* also ask in our SYNs (Linux's tcp_ecn=1) */
};

/* Congestion control modules (src/tcp/tcp_cc.h). */
enum synack_tcp_cc {
	SYNACK_TCP_CC_DEFAULT = 0,
	SYNACK_TCP_CC_NEWRENO = 1, /* RFC 5681, RFC 6582 */
	SYNACK_TCP_CC_CUBIC = 2,   /* RFC 9438 with HyStart++ (RFC 9406) */
};

/* What the link carries: raw IP packets (TUN, the in-memory link) or
 * Ethernet II frames (TAP), with ARP and Neighbor Discovery. The tx
 * function and synack_stack_input() then carry frames of that kind. */
enum synack_link_kind { SYNACK_LINK_RAW_IP = 0, SYNACK_LINK_ETHERNET = 1 };

/* ICMP echo replies recorded for synack_stack_ping() (see below). The log
 * is owned by the caller and named in the configuration; the stack only
 * writes into it. When full, the oldest reply is overwritten and counted. */
#define SYNACK_PING_LOG_SIZE 64
typedef struct synack_ping_reply {
	synack_addr from;
	uint16_t id, seq;
	uint32_t len;	    /* payload bytes after the 8-byte ICMP header */
	uint8_t ttl;	    /* TTL / hop limit of the reply (0 if unknown) */
	synack_time_t time; /* stack time of arrival */
} synack_ping_reply;
typedef struct synack_ping_log {
	synack_ping_reply r[SYNACK_PING_LOG_SIZE];
	uint32_t head, len;
	uint64_t overwritten;
} synack_ping_log;

typedef struct synack_stack_config {
	synack_addr addr; /* IPv4 address, or family NONE for an IPv6-only stack */
	uint8_t prefix_len;
	synack_addr gateway; /* IPv4 next hop for off-link destinations (family NONE: none) */
	synack_addr addr6;   /* IPv6 global address, or family NONE */
	uint8_t prefix6_len;
	synack_addr gateway6; /* IPv6 next hop for off-link destinations (family NONE: none);
			       * link-local (a router) or inside addr6's prefix */
	uint8_t link;	      /* enum synack_link_kind */
	uint8_t mac[6];	      /* Ethernet address (SYNACK_LINK_ETHERNET): unicast, not zero */
	uint16_t mtu;	      /* link MTU (IP packet size), default 1500; >= 1280 with addr6 */
	uint8_t ttl;	      /* default 64 */
	synack_rng rng;	      /* required */
	synack_tx_fn tx;      /* required */
	void *tx_ctx;
	/* Offloads (enum synack_offload) the link takes through tx_meta
	 * (called with tx_ctx); 0 (default): none, tx_meta unused. */
	uint32_t offload;
	synack_tx_meta_fn tx_meta;
	uint32_t gso_max; /* TSO: largest IP packet tx_meta takes, mtu..65535 (0: 65535) */
	/* Optional with SYNACK_OFFLOAD_TX_CSUM: TCP data segments are handed
	 * over in pieces, the data straight from the send buffer, never
	 * copied into a frame buffer first (with tx_ctx). */
	synack_tx_iov_fn tx_iov;
	synack_allocator allocator;
	synack_tcp_config tcp;
	uint32_t trace_capacity;   /* trace records kept (0 = tracing off) */
	synack_ping_log *ping_log; /* where echo replies go (NULL: not recorded) */
} synack_stack_config;

/* Fill cfg with synack's defaults (all zero addresses, tx/rng unset). */
SYNACK_API void synack_stack_config_init(synack_stack_config *cfg);

/* Create a stack. `now` is the initial time. Returns 0, -EAFNOSUPPORT
 * (neither addr nor addr6 set), -EINVAL (a bad field: see config_check in
 * src/net/stack.c) or -ENOMEM.
 * IPv6 is on when addr6 is set, and always on an Ethernet link (MTU >=
 * 1280); the stack then also owns a link-local fe80::/64 address: the
 * modified EUI-64 of the MAC on Ethernet, random (from cfg.rng) on a raw IP
 * link. Duplicate Address Detection is not performed.
 * On an Ethernet link with an IPv4 address, creation transmits: one
 * gratuitous ARP announcement (RFC 5227 §3) through cfg.tx. */
SYNACK_API int synack_stack_create(const synack_stack_config *cfg, synack_time_t now, synack_stack **out);
/* Replace the TCP configuration at run time (new connections use it;
 * existing ones keep buffer sizes and negotiated options). */
SYNACK_API int synack_stack_set_tcp_config(synack_stack *st, const synack_tcp_config *tcp);
SYNACK_API const synack_tcp_config *synack_stack_tcp_config(const synack_stack *st);

/* Destroy the stack and every connection in it, sending nothing. */
SYNACK_API void synack_stack_destroy(synack_stack *st);

/* Feed one received frame of the link's kind: an IPv4 or IPv6 packet on a
 * raw IP link, an Ethernet II frame on an Ethernet link. Malformed or
 * unwanted frames are dropped and counted (never an error for the caller).
 * The frame is borrowed. */
SYNACK_API void synack_stack_input(synack_stack *st, const uint8_t *frame, size_t len, synack_time_t now);
/* The same, with what the link already did for the frame (enum
 * synack_rx_flags). */
SYNACK_API void synack_stack_input_flags(synack_stack *st, const uint8_t *frame, size_t len, uint32_t flags,
					 synack_time_t now);
/* Advance time to `now` and run every timer that is due (TCP, the
 * neighbour cache's retransmissions and expiry, fragment reassembly). */
SYNACK_API void synack_stack_poll(synack_stack *st, synack_time_t now);
/* The earliest time poll() must be called, or SYNACK_TIME_NEVER. */
SYNACK_API synack_time_t synack_stack_next_deadline(const synack_stack *st);
/* The stack's notion of now (latest input/poll time). */
SYNACK_API synack_time_t synack_stack_now(const synack_stack *st);

/* Events (bit mask). Level-style bits are re-armed by the stack whenever the
 * condition becomes true again. */
enum synack_event {
	SYNACK_EV_CONNECTED = 1u << 0,	 /* active open completed */
	SYNACK_EV_ACCEPTABLE = 1u << 1,	 /* listener: accept() will succeed */
	SYNACK_EV_READABLE = 1u << 2,	 /* data (or EOF) to read */
	SYNACK_EV_WRITABLE = 1u << 3,	 /* send buffer space available */
	SYNACK_EV_PEER_CLOSED = 1u << 4, /* FIN received: recv returns 0 after data */
	SYNACK_EV_RESET = 1u << 5,	 /* connection reset by peer */
	SYNACK_EV_ERROR = 1u << 6,	 /* failed: see synack_tcp_error() */
	SYNACK_EV_CLOSED = 1u << 7,	 /* reached CLOSED (for handles still held) */
};

/* Pop the next socket with pending events, clearing and returning them in
 * *events; NULL when none. Only sockets the user holds are reported. */
SYNACK_API synack_tcp *synack_stack_next_event(synack_stack *st, uint32_t *events);

/* ICMP echo (ping), ICMPv4 or ICMPv6 by dst's family. Sends one echo
 * request with `payload` bytes of data (byte i = i & 0xff) now, as
 * fragments if it does not fit the MTU. Returns 0, -EMSGSIZE above 65507
 * bytes, -EADDRNOTAVAIL when the stack has no address of dst's family,
 * -ENOMEM, or the link's negative errno. */
SYNACK_API int synack_stack_ping(synack_stack *st, const synack_addr *dst, uint16_t id, uint16_t seq,
				 size_t payload);
/* Pop the oldest recorded echo reply: 0, -EAGAIN when there is none, or
 * -ENOENT when the configuration has no ping_log. */
SYNACK_API int synack_stack_ping_reply(synack_stack *st, synack_ping_reply *out);

/* Counters. Every dropped frame increments exactly one SYNACK_DROP_* counter. */
enum synack_counter {
#define SYNACK_COUNTER(id, name, doc) id,
#include "synack/counters.def"
#undef SYNACK_COUNTER
	SYNACK_COUNTER_COUNT
};
SYNACK_API uint64_t synack_stack_counter(const synack_stack *st, enum synack_counter id);
SYNACK_API const char *synack_counter_name(enum synack_counter id);
SYNACK_API const char *synack_counter_doc(enum synack_counter id);
/* Sum of all SYNACK_DROP_* counters. */
SYNACK_API uint64_t synack_stack_drops(const synack_stack *st);

/* Memory currently allocated through the stack's allocator, including
 * what it keeps for reuse after a connection gave it back: the large data
 * buffers (64 KiB and more; at most 4, 8 MiB in all), so that a bulk
 * sender whose send buffer runs dry between writes reuses them instead of
 * mapping and faulting in megabytes each time; and up to 64 connection
 * extensions (buffers, timers and recovery state beyond the core TCB,
 * about 650 bytes each), so that short connections need no allocation. */
SYNACK_API void synack_stack_memory(const synack_stack *st, size_t *bytes, size_t *blocks);
/* Give what is kept for reuse back to the allocator now (as malloc_trim). */
SYNACK_API void synack_stack_trim(synack_stack *st);
/* Number of TCBs alive (listeners and connections, TIME-WAIT included). */
SYNACK_API size_t synack_stack_tcb_count(const synack_stack *st);

/* Trace: a bounded log of what happened, for ladders and debugging. Records
 * are appended during input/poll/API calls and drained by the application;
 * when the buffer is full the oldest are overwritten and counted. */
enum synack_trace_kind {
	SYNACK_TRACE_SEG_IN = 1, /* a TCP segment accepted for processing */
	SYNACK_TRACE_SEG_OUT,	 /* a TCP segment sent */
	SYNACK_TRACE_STATE,	 /* a TCB changed state */
	SYNACK_TRACE_DROP,	 /* a frame was dropped (counter id in `reason`) */
	SYNACK_TRACE_NOTE,	 /* a protocol event worth explaining (see note) */
};

enum synack_trace_note {
	SYNACK_NOTE_NONE = 0,
	SYNACK_NOTE_RETRANSMIT, /* RTO fired, segment retransmitted */
	SYNACK_NOTE_FAST_RETRANSMIT,
	SYNACK_NOTE_CHALLENGE_ACK, /* RFC 5961 challenge ACK sent */
	SYNACK_NOTE_ZERO_WINDOW_PROBE,
	SYNACK_NOTE_DELAYED_ACK,    /* delayed-ACK timer fired */
	SYNACK_NOTE_TIMEOUT,	    /* connection gave up */
	SYNACK_NOTE_TIME_WAIT_DONE, /* 2*MSL expired */
	SYNACK_NOTE_OOO_QUEUED,	    /* segment kept out of order */
	SYNACK_NOTE_KEEPALIVE,
	SYNACK_NOTE_LOSS_PROBE,	  /* RFC 8985 §7 tail loss probe sent */
	SYNACK_NOTE_SPURIOUS_RTO, /* the last timeout was spurious: window restored (RFC 5682, RFC 3522) */
	SYNACK_NOTE_SPURIOUS_RECOVERY, /* every retransmission of the last recovery was D-SACKed: window
					  restored */
};

/* TCP flag bits as on the wire. */
enum synack_tcp_flag {
	SYNACK_TCP_FIN = 0x01,
	SYNACK_TCP_SYN = 0x02,
	SYNACK_TCP_RST = 0x04,
	SYNACK_TCP_PSH = 0x08,
	SYNACK_TCP_ACK = 0x10,
	SYNACK_TCP_URG = 0x20,
	SYNACK_TCP_ECE = 0x40,
	SYNACK_TCP_CWR = 0x80,
};

#define SYNACK_TRACE_MAX_SACK 4 /* SACK blocks kept in a trace record */

typedef struct synack_trace_seg {
	uint32_t seq, ack;
	uint32_t wnd;	/* window field as sent (unscaled) */
	uint16_t flags; /* enum synack_tcp_flag */
	uint16_t len;	/* payload bytes */
	uint16_t mss;	/* 0 = option absent */
	int8_t wscale;	/* -1 = absent */
	uint8_t sack_ok;
	uint8_t ts_present;
	uint8_t sack_blocks; /* SACK blocks in the segment: sack[0 .. sack_blocks-1] */
	uint32_t ts_val, ts_ecr;
	uint32_t sack[SYNACK_TRACE_MAX_SACK][2]; /* SACK blocks: left, right edge (RFC 2018 §3) */
} synack_trace_seg;

typedef struct synack_trace_rec {
	synack_time_t time;
	uint16_t kind;	  /* enum synack_trace_kind */
	uint16_t note;	  /* enum synack_trace_note, or counter id for DROP */
	uint32_t conn_id; /* TCB serial number, 0 if none */
	synack_endpoint local, remote;
	uint8_t old_state, new_state; /* for STATE (enum synack_tcp_state) */
	synack_trace_seg seg;	      /* for SEG_IN/SEG_OUT */
} synack_trace_rec;

/* Copy up to max records out, oldest first; returns how many. */
SYNACK_API size_t synack_stack_trace_drain(synack_stack *st, synack_trace_rec *out, size_t max);

#ifdef __cplusplus
}
#endif
#endif
