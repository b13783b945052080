/* src/tcp: TCP per RFC 9293 with RFC 5961, RFC 6298, RFC 7323, RFC 6528 and
 * RFC 5681. Internal interfaces shared between the files of this module.
 *
 * Implementation notes
 * - One struct tcb per listener or connection; lookup by 4-tuple in a
 *   SipHash-keyed table, listeners by local port in a second table.
 * - Send queue: a ring of the bytes from SND.UNA (or ISS+1 before the SYN is
 *   acknowledged) on; SYN and FIN occupy sequence space, not ring bytes.
 * - Receive queue: a ring of in-order unread bytes; out-of-order bytes are
 *   written into the same ring at their offset and their sequence ranges kept
 *   in a small fixed array, so reassembly never allocates.
 * - Timers are absolute deadlines; each TCB sits in the stack's min-heap
 *   under its earliest one.
 * - Input never calls user code: it records events on the TCB and links it
 *   into the stack's event list. */
#ifndef SYNACK_TCP_INTERNAL_H
#define SYNACK_TCP_INTERNAL_H

#include <errno.h>

#include "base/base.h"
#include "net/net.h"
#include "tcp/tcp.h"
#include "tcp/tcp_cc.h"
#include "wire/wire.h"

/* ---- sequence arithmetic modulo 2^32 (RFC 9293 §3.4) ---- */
static inline bool seq_lt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}
static inline bool seq_leq(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) <= 0;
}
static inline bool seq_gt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) > 0;
}
static inline bool seq_geq(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) >= 0;
}
static inline uint32_t seq_max(uint32_t a, uint32_t b)
{
	return seq_gt(a, b) ? a : b;
}
static inline uint32_t seq_min(uint32_t a, uint32_t b)
{
	return seq_lt(a, b) ? a : b;
}
/* a <= x < b, in sequence space */
static inline bool seq_in(uint32_t x, uint32_t a, uint32_t b)
{
	return seq_leq(a, x) && seq_lt(x, b);
}

/* Out-of-order ranges a receiver keeps at most (the configured limit is
 * capped by it), SACKed ranges a sender keeps (RFC 6675 §3's scoreboard;
 * beyond that the highest are forgotten: their bytes may be sent again). */
enum { TCP_OOO_MAX = 4096, TCP_SACKED_MAX = 128, TCP_MAX_WSCALE = 14 };
/* Retransmissions logged for RACK's lost-retransmission rule (tcp_rack.c). */
enum { TCP_RTXLOG_MAX = 1024 };
struct tcp_rtx_rec {
	uint32_t seq, end, mark; /* mark: SND.MAX when it was sent */
	synack_time_t when;
};
/* ACKs to unacceptable segments a connection sends per second at most
 * (tcp_oow_ack in tcp_sync.c). */
enum { TCP_OOW_ACK_MAX = 5 };
/* An idle established connection gives its extension back after this
 * long (tcb_ext_idle). */
#define TCP_IDLE_DELAY SYNACK_SEC(1)
/* RFC 6675 §2 DupThresh, RFC 5681 §3.2's three duplicate ACKs. */
enum { TCP_DUPTHRESH = 3 };
/* RFC 7323 §3.2: 10 bytes of timestamps, 12 with the padding every segment
 * carries (NOP NOP TS, or SACK-permitted TS on a SYN). */
enum { TCP_TS_OPT_LEN = 12 };

/* What becomes of a segment: every input handler returns one, and
 * tcp_input() carries it out in one place, as the labelled exits of the
 * BSD tcp_input do (drop, dropafterack, dropwithreset). A drop names the
 * counter that says why (TCP_UNCOUNTED: none). */
enum tcp_action {
	TCP_CONTINUE,	    /* go on to the next step of RFC 9293 §3.10.7 */
	TCP_DONE,	    /* handled: nothing more for this segment */
	TCP_DROP,	    /* ignored */
	TCP_DROP_ACK,	    /* ignored, answered by an ACK (at most 5 a second: no ACK war) */
	TCP_DROP_CHALLENGE, /* ignored, answered by a challenge ACK (RFC 5961 §7 limit) */
	TCP_DROP_RESET,	    /* ignored, answered by a RST built from the segment (tcp_respond_rst) */
	TCP_ABORT,	    /* the connection ends: a RST from its own state, then CLOSED */
};
enum { TCP_UNCOUNTED = 0xffff };
struct tcp_verdict {
	uint8_t action; /* enum tcp_action */
	uint16_t why;	/* enum synack_counter, or TCP_UNCOUNTED */
};
static inline struct tcp_verdict tcp_verdict(enum tcp_action a, int why)
{
	return (struct tcp_verdict){.action = (uint8_t)a, .why = (uint16_t)why};
}
#define TCP_GO	    tcp_verdict(TCP_CONTINUE, TCP_UNCOUNTED)
#define TCP_HANDLED tcp_verdict(TCP_DONE, TCP_UNCOUNTED)

/* Sorted, disjoint sequence ranges [r[i][0], r[i][1]) in an array
 * allocated on first use (tcp_ranges.c). */
struct tcp_ranges {
	uint32_t (*r)[2];
	uint16_t n, cap;
};
/* Merge [l, r) in; returns the index of the range holding it, or -ENOSPC
 * when it needs a new range and max are there (or memory ran out). */
int tcp_ranges_add(struct tcp_ranges *s, struct mem *m, uint16_t max, uint32_t l, uint32_t r);
void tcp_ranges_remove(struct tcp_ranges *s, int i);
/* Bytes of [a, b) the ranges cover. */
uint32_t tcp_ranges_in(const struct tcp_ranges *s, uint32_t a, uint32_t b);
void tcp_ranges_free(struct tcp_ranges *s, struct mem *m);

/* A listener's children in one stage: SYN-RECEIVED, or established and
 * waiting for accept(). Doubly linked through tcb.q_next/q_prev. */
struct tcb_queue {
	struct tcb *head, *tail;
	uint16_t count;
};

/* A parsed inbound segment with its addresses. */
struct tcp_seg {
	struct wire_tcp h;
	synack_endpoint src, dst; /* remote, local */
	uint32_t len;		  /* SEG.LEN: payload + SYN + FIN */
	bool syn_wnd;		  /* window of a <SYN,ACK>: never scaled (RFC 7323 §2.2) */
	bool disordered;	  /* an old-timestamped pure ACK let through PAWS (tcp_sync.c) */
	uint8_t ecn;		  /* IP ECN field of a segment with data (WIRE_ECN_*), else NOT_ECT */
};

/* What a connection holds beyond its core (struct tcb): listener queues,
 * buffers, timers, recovery, congestion control state, keepalive and
 * statistics. It is allocated when the connection needs it and given back
 * while it holds nothing but what tcb_ext_template() would make again: an
 * idle connection that never carried data, and a TIME-WAIT connection the
 * application let go, keep only their struct tcb. A TCB
 * without one points at tcb_ext_none, a read-only copy of the defaults, so
 * reads need no test; every entry point into src/tcp calls tcb_ext_get()
 * (or tcb_need_ext()) before anything that writes (tcb.c). */
struct tcb_ext {
	/* listener */
	uint16_t backlog;
	struct tcb_queue synq;	     /* children in SYN-RECEIVED */
	struct tcb_queue accq;	     /* children established, not yet accepted */
	struct tcb *parent;	     /* listener of a not-yet-accepted child */
	struct tcb *q_next, *q_prev; /* in its listener's synq or accq */
	uint16_t user_mss;	     /* MAXSEG cap, 0 = none */
	int soft_error;		     /* last ICMP soft error, reported on timeout (RFC 5461) */
	synack_time_t oow_start;     /* rate limit of ACKs to unacceptable segments */
	uint8_t oow_count;
	uint8_t delack_segs;   /* full segments received since the last ACK */
	struct tcp_ranges ooo; /* out-of-order data held (RFC 2018 §4 reports it) */
	uint32_t ooo_last;     /* sequence number of the latest out-of-order segment (RFC 2018 §4) */
	uint32_t ts_rtx;       /* TSval when we last retransmitted (valid if rtx_seen) */
	/* buffers */
	struct ring sndq, rcvq;
	/* timers (absolute, SYNACK_TIME_NEVER when off) */
	synack_time_t t_rtx, t_persist, t_delack, t_close;
	/* RTT measurement in progress (valid when rtt_timing) */
	synack_time_t rtt_start;
	uint32_t rtt_seq;
	uint16_t backoff; /* consecutive RTO expiries */
	uint16_t persist_backoff;
	uint16_t probes_unanswered; /* zero-window probes since the peer last sent an ACK */
	uint32_t fin_seq;	    /* valid when fin_sent */
	/* congestion control (RFC 5681, RFC 6582, RFC 6937; the module: tcp_cc.h) */
	uint32_t cwnd, ssthresh;
	uint32_t recover, bytes_acked_ca;
	uint32_t prr_delivered, prr_out, recover_fs; /* RFC 6937 §3 */
	synack_time_t last_send;		     /* when data last left (RFC 7661 idle restart) */
	uint8_t dupacks;
	uint32_t prior_cwnd, prior_ssthresh; /* before the last timeout, for its undo */
	/* RFC 7661 (tcp_cwv.c): pipeACK, its sample in progress, the
	 * non-validated phase, and a loss in it */
	uint32_t pipeack, pipeack_cwnd, pa_mark, pa_cwnd, cwv_lfs, recov_rtx;
	synack_time_t pa_start, pipeack_at, nvp_start;
	uint32_t frto_rp, frto_high,
	    frto_ts; /* RecoveryPoint, end of what was resent, TSval at the timeout */
	uint64_t cc_state[TCP_CC_STATE_BYTES / 8];
	/* SACK scoreboard (RFC 6675 §3): ranges above SND.UNA the peer holds,
	 * sorted and disjoint; HighRxt and RescueRxt of §2 */
	struct tcp_ranges sacked;
	uint32_t sacked_bytes, high_rxt, rescue_rxt;
	uint32_t dsack[2]; /* a duplicate segment received, for the next ACK's first block */
	/* RACK-TLP in part (RFC 8985, tcp_rack.c) */
	struct tcp_rtx_rec *rtxlog; /* retransmissions of this recovery in flight */
	uint16_t nrtx, rtx_cap;
	struct tcp_ranges relost; /* retransmissions found lost: to resend */
	uint32_t relost_bytes;
	synack_time_t t_tlp;  /* loss probe timeout */
	synack_time_t t_rack; /* reordering window of the first hole (tcp_rack_arm) */
	uint32_t tlp_end;
	uint32_t rack_edge, rack_cand, rack_armed; /* see tcp_rack_arm */
	uint8_t tlp_pending : 1, tlp_rexmit : 1, tlp_dsack : 1;
	/* D-SACK undo of the last recovery and RACK's reordering window
	 * (RFC 8985 §6.2 step 4), tcp_rack.c */
	uint8_t undo_ok : 1, undo_due : 1;
	uint8_t reord_seen : 1; /* RFC 8985 §6.2 step 3: DupThresh no longer starts recovery */
	uint32_t rack_fack;	/* the highest sequence number (S)ACKed so far */
	uint8_t reo_mult, reo_persist;
	uint32_t undo_bytes, dsack_round;
	struct tcp_ranges undo_rtx; /* what the last recovery resent */
	/* statistics */
	uint32_t retransmits, dsacks_received;
	uint64_t bytes_sent, bytes_received, bytes_acked;
	/* buffer auto-tuning (tcp_autotune.c) */
	uint32_t rcv_copied; /* bytes the application read since rcv_tune_at */
	synack_time_t rcv_tune_at;
	uint32_t buf_grown; /* bytes of growth charged to the stack */
	/* keepalive (RFC 9293 §3.8.4, RFC 1122 §4.2.3.6; tcp_keepalive.c) */
	synack_time_t t_keep;		/* next keepalive check (absolute), SYNACK_TIME_NEVER when off */
	synack_time_t keep_heard;	/* when the peer last sent a segment (kept while keepalive is on) */
	synack_time_t keep_sent;	/* when the last probe left */
	uint32_t keep_idle, keep_intvl; /* seconds */
	uint8_t keep_cnt;		/* probes unanswered before giving up */
	uint8_t keep_probes;		/* probes sent since the peer was last heard */
	/* ECN, RFC 3168 §6.1 (tcp_ecn.c) */
	uint32_t ecn_recover;	   /* no reaction to ECE until SND.UNA passes it (once per window) */
	uint32_t ecn_loss_recover; /* t->x->recover when last looked at: a change is a loss reduction */
};

/* One per listener or connection: what every connection needs, an idle
 * established one included (see struct tcb_ext for the rest). */
struct tcb {
	struct hnode hn;	/* connection table or listener table */
	struct heap_node timer; /* earliest deadline of x's timers */
	uint32_t id;
	synack_stack *st;
	struct tcb_ext *x; /* never NULL: tcb_ext_none when not allocated */
	struct tcb *ev_next, *ev_prev;
	struct tcb *all_next, *all_prev; /* every TCB of the stack */
	uint8_t state;
	/* ownership and flags */
	uint8_t user : 1;   /* the application holds a handle */
	uint8_t orphan : 1; /* the application closed it */
	uint8_t on_ev : 1;  /* linked in the stack's event list */
	uint8_t in_table : 1;
	uint8_t accepted : 1;	/* on its listener's accept queue (else its SYN-RECEIVED list) */
	uint8_t fin_queued : 1; /* shutdown(WR)/close: FIN after the data */
	uint8_t fin_sent : 1;
	uint8_t rd_shut : 1;
	uint8_t nodelay : 1;
	uint8_t ack_now : 1;	/* send an ACK at the next output */
	uint8_t want_write : 1; /* send() fell short: report WRITABLE */
	uint8_t peer_fin : 1;	/* FIN received (EOF after data) */
	uint8_t ws_ok : 1, ts_ok : 1, sack_ok : 1;
	uint8_t rtt_timing : 1;
	uint8_t in_recovery : 1; /* fast recovery: RFC 6675 with SACK, else RFC 6582 */
	uint8_t rtx_seen : 1;
	uint8_t rescue_done : 1;   /* RFC 6675 §4 NextSeg rule 4 used in this recovery */
	uint8_t dsack_pending : 1; /* report dsack[] in the next ACK (RFC 2883) */
	uint8_t noopt : 1;	   /* no options sent or negotiated */
	uint8_t frto : 2;	   /* F-RTO (tcp_frto.c): 0 off, 1 step 2, 2 step 3 of RFC 5682 §3.1 */
	uint8_t pipeack_ok : 1;	   /* RFC 7661: pipeACK defined */
	uint8_t cwv_loss : 1;	   /* this recovery began in the non-validated phase */
	/* buffer auto-tuning (tcp_autotune.c) */
	uint8_t rcvbuf_auto : 1, sndbuf_auto : 1;
	uint8_t keepalive : 1; /* SO_KEEPALIVE */
	/* ECN, RFC 3168 §6.1 (tcp_ecn.c) */
	uint8_t ecn_ok : 1;	     /* negotiated: new data goes out ECT(0) */
	uint8_t ecn_syn : 1;	     /* our last SYN asked for it (ECE and CWR) */
	uint8_t ecn_echo : 1;	     /* CE received: ECE on every ACK until a CWR arrives (§6.1.3) */
	uint8_t ecn_cwr_pending : 1; /* cwnd reduced: CWR on the next new data segment (§6.1.2) */
	uint8_t ecn_reduced : 1;     /* the reduction up to ecn_recover was an ECE's */
	uint8_t in_listeners : 1;    /* in_table: the listener table, not the connections' */
	uint8_t idle_q : 1;	     /* timer in idle_timers: the extension goes at its deadline */
	uint8_t snd_wscale, rcv_wscale;
	uint8_t cc; /* congestion control module: tcp_cc_by_index[cc] (tcb_cc) */
	/* IP header fields of this connection's packets (0: the stack's) */
	uint8_t ip_ttl, ip_tos;
	uint16_t syn_held; /* text from a SYN kept until ESTABLISHED */
	uint16_t mss;	   /* send MSS: peer's, capped by our MTU, less timestamps (see tcp_seg_mss) */
	uint32_t events;
	int error;
	void *userdata;
	synack_endpoint local, remote;
	/* send sequence space (RFC 9293 §3.3.1) */
	uint32_t iss, snd_una, snd_nxt, snd_max, snd_wnd, snd_wl1, snd_wl2, max_sndwnd;
	uint32_t data_seq; /* sequence number of sndq byte 0 */
	/* receive sequence space */
	uint32_t irs, rcv_nxt, rcv_adv; /* rcv_adv: right edge last advertised */
	/* timestamps (RFC 7323 §4, §5) */
	uint32_t ts_recent, ts_offset, last_ack_sent;
	/* buffer limits */
	uint32_t sndbuf, rcvbuf;
	/* RTT estimation (RFC 6298), in microseconds: samples are taken at
	 * most 600 s (tcp_rtt_sample) and the RTO at most rto_max, at most an
	 * hour (tcp_config_check), so 32 bits hold them */
	uint32_t srtt, rttvar, rto;
};

struct tcp_stack {
	struct htab conns, listeners;
	struct heap timers;
	struct dlq tw_timers;	/* compact TIME-WAITs' deadlines, in order (tcb.c) */
	struct dlq idle_timers; /* when idle connections give their extension back (tcb.c) */
	uint8_t key[16];	/* SipHash-2-4 key: ISNs (RFC 6528), SYN cookies, timestamp offsets */
	uint8_t tab_key[16];	/* SipHash-1-3 key of the tables, derived from key */
	uint32_t next_id;
	uint32_t tcb_count;
	struct tcb *all; /* list of every TCB, for teardown */
	/* the two connections found last, the latest first: a stream, and a
	 * connection's segments interleaved with its successor's, skip the hash */
	struct tcb *last[2];
	/* the 4-tuple tcb_lookup() last missed and its hash: the connection
	 * made for it next (a SYN's child, a connect's port) skips a second */
	synack_endpoint miss_local, miss_remote;
	uint64_t miss_hash;
	uint16_t next_port;
	synack_time_t chack_window;
	uint32_t chack_count;
	struct tcb *ev_head, *ev_tail; /* connections with pending events */
	synack_time_t cookie_sent_at;  /* when the last SYN cookie went out (tcp_cookie.c) */
	uint8_t cookie_sent;	       /* any SYN cookie sent yet */
	uint64_t buf_grown;	       /* auto-tuned buffer growth of all TCBs (tcp_autotune.c) */
	void *ext_cache, *tcb_cache;   /* freed extensions and TCBs kept for reuse (tcb.c) */
	uint32_t ext_cached, tcb_cached;
};

static inline const struct tcp_cc_ops *tcb_cc(const struct tcb *t)
{
	return tcp_cc_by_index[t->cc];
}
static inline struct tcp_stack *tcps(const synack_stack *st)
{
	return st->tcp;
}
static inline const synack_tcp_config *tcfg(const struct tcb *t)
{
	return &t->st->cfg.tcp;
}
static inline synack_time_t tnow(const struct tcb *t)
{
	return t->st->now;
}
static inline bool tcb_synchronized(const struct tcb *t)
{
	return t->state >= SYNACK_TCP_ESTABLISHED;
}
static inline uint32_t rcv_space(const struct tcb *t)
{
	return t->rcvbuf - t->x->rcvq.len;
}
static inline uint32_t snd_queued(const struct tcb *t)
{
	return t->x->sndq.len;
}
/* Bytes of the send queue not yet sent. */
static inline uint32_t snd_unsent(const struct tcb *t)
{
	uint32_t end = t->data_seq + t->x->sndq.len;
	return seq_lt(t->snd_nxt, end) ? end - seq_max(t->snd_nxt, t->data_seq) : 0;
}

/* The receive buffer a connection may reach (RFC 7323 §2.3: the window
 * scale must be chosen for it on the SYN). */
static inline uint32_t rcvbuf_ceiling(const struct tcb *t)
{
	return t->rcvbuf_auto ? MAX(t->rcvbuf, t->st->cfg.tcp.rcvbuf_max) : t->rcvbuf;
}

static inline uint8_t choose_rcv_wscale(uint32_t rcvbuf)
{
	uint8_t s = 0;
	while (s < TCP_MAX_WSCALE && (rcvbuf >> s) > 65535)
		s++;
	return s;
}

/* tcb.c */
struct tcb *tcb_new(synack_stack *st);
extern const struct tcb_ext tcb_ext_none;
static inline bool tcb_has_ext(const struct tcb *t)
{
	return t->x != &tcb_ext_none;
}
/* A TIME-WAIT that gave its extension back: its deadline is in tw_timers. */
static inline bool tcb_compact_tw(const struct tcb *t)
{
	return !tcb_has_ext(t) && t->state == SYNACK_TCP_TIME_WAIT;
}
/* Idle connections whose delay is over give their extensions back (tcp_poll). */
void tcb_idle_poll(synack_stack *st);
/* Give t an extension (the contents it had when given back); NULL when
 * memory ran out. */
struct tcb_ext *tcb_ext_alloc(struct tcb *t);
static inline struct tcb_ext *tcb_ext_get(struct tcb *t)
{
	return tcb_has_ext(t) ? t->x : tcb_ext_alloc(t);
}
/* t's extension to read, made in *tmp if t has none: what tcb_ext_alloc()
 * would give it (tcb_ext_none holds the defaults, not the initial window). */
const struct tcb_ext *tcb_ext_view(const struct tcb *t, struct tcb_ext *tmp);
/* Give t's extension back if it holds nothing tcb_ext_alloc() would not
 * make again (an idle connection); at the end of each entry point. */
void tcb_ext_idle(struct tcb *t);
/* t leaves the lookup's cache of recent connections (closed or freed). */
void tcb_last_forget(struct tcb *t);
/* When a TIME-WAIT connection's 2*MSL ends (its extension's t_close, or
 * the timer heap's deadline of a compact one). */
synack_time_t tcb_time_wait_end(const struct tcb *t);
void tcb_set_state(struct tcb *t, int state);
int tcb_hash_insert(struct tcb *t);
/* Ephemeral ports: RFC 6335's dynamic range, 49152-65535. */
#define PORT_FIRST 49152
#define PORT_COUNT 16384
struct tcb *tcb_lookup(synack_stack *st, const synack_endpoint *local, const synack_endpoint *remote);
/* The same in two steps, so that several lookups' cache misses overlap:
 * the 4-tuple's hash, its slot being loaded; then the lookup with that
 * hash (0: compute it again). */
uint64_t tcb_lookup_prefetch(synack_stack *st, const synack_endpoint *local, const synack_endpoint *remote);
struct tcb *tcb_lookup_hashed(synack_stack *st, const synack_endpoint *local, const synack_endpoint *remote,
			      uint64_t h);
struct tcb *tcb_lookup_listener(synack_stack *st, const synack_endpoint *local);
int tcb_listen_insert(struct tcb *t);
/* Move to CLOSED and free when nobody holds it; err != 0 is reported. */
void tcb_close_state(struct tcb *t, int err, uint32_t ev);
void tcb_maybe_free(struct tcb *t);
/* A listener owns its children: c joins l's SYN-RECEIVED list; once its
 * handshake completes it moves to the accept queue; accept() takes the
 * oldest (NULL if none). */
void tcb_child_add(struct tcb *l, struct tcb *c);
void tcb_child_ready(struct tcb *l, struct tcb *c);
struct tcb *tcb_child_accept(struct tcb *l);
void tcb_free(struct tcb *t);
void tcb_event(struct tcb *t, uint32_t ev);
void tcb_ev_unlink(struct tcb *t);
void tcb_timer_update(struct tcb *t);
void tcb_init_seq(struct tcb *t);
void tcb_trace_note(struct tcb *t, enum synack_trace_note note);

/* tcp_output.c */
void tcp_output(struct tcb *t);
void tcp_send_syn(struct tcb *t);
void tcp_send_ack(struct tcb *t);
/* Send one segment of what the window allows, ignoring SWS avoidance. */
bool tcp_send_override(struct tcb *t);
void tcp_send_rst_tcb(struct tcb *t);
/* RFC 9293 §3.5.2, §3.10.7.1: the RST answering seg, built from the
 * segment alone (no TCB needed). */
void tcp_respond_rst(synack_stack *st, const struct tcp_seg *seg);
void tcp_challenge_ack(struct tcb *t);
/* Count a retransmission (and remember when, for RTT sampling). */
void tcp_count_retransmit(struct tcb *t);
/* Resend one segment from SND.UNA (fast retransmit, NewReno partial ACK). */
void tcp_retransmit_head(struct tcb *t);
/* Resend [seq, seq + len) of sequence space (data, and the FIN when the
 * range reaches it) as one segment; returns the sequence space sent. */
uint32_t tcp_rexmit(struct tcb *t, uint32_t seq, uint32_t len);
/* Send one new segment (or the next one after an RTO) if the windows,
 * SWS avoidance and Nagle allow (force: ignore the last two). */
bool tcp_send_data(struct tcb *t, bool force);
uint32_t tcp_rcv_window(const struct tcb *t);
/* The most data one segment sent now may carry (Eff.snd.MSS, RFC 9293
 * §3.7.1): t->mss less the bytes of the SACK blocks it would carry. */
uint32_t tcp_seg_mss_sack(const struct tcb *t);
static inline uint32_t tcp_seg_mss(const struct tcb *t)
{
	return t->sack_ok && (t->x->ooo.n || t->dsack_pending) ? tcp_seg_mss_sack(t) : t->mss;
}
int tcp_emit(struct tcb *t, uint32_t seq, uint8_t flags, uint32_t off, uint32_t len);
uint32_t tcp_ts_now(const struct tcb *t);

/* tcp_input.c, tcp_icmp.c: the entry points in tcp_net_proto */
void tcp_input(synack_stack *st, const struct net_rx *rx);
void tcp_icmp_error(synack_stack *st, const struct net_icmp_err *e);
struct tcp_verdict tcp_listen_input(struct tcb *l, struct tcp_seg *seg);
struct tcp_verdict tcp_syn_sent_input(struct tcb *t, struct tcp_seg *seg);
struct tcp_verdict tcp_sync_input(struct tcb *t, struct tcp_seg *seg);
/* An ACK for an unacceptable segment, at most 5 a second (tcp_sync.c). */
void tcp_oow_ack(struct tcb *t);
void tcp_negotiate(struct tcb *t, const struct wire_tcp_opts *o);

/* A duplicate ACK (RFC 5681 §2; with SACK, RFC 6675 §2), tcp_sync.c. */
bool tcp_is_dup_ack(const struct tcb *t, const struct tcp_seg *s, uint32_t newly_sacked);

/* tcp_cwv.c: congestion window validation (RFC 7661). */
void tcp_cwv_on_ack(struct tcb *t);	     /* new data acknowledged outside recovery */
void tcp_cwv_on_send(struct tcb *t);	     /* about to send new data */
void tcp_cwv_on_loss(struct tcb *t);	     /* recovery entered; the module set ssthresh */
void tcp_cwv_on_recovery_end(struct tcb *t); /* recovery over; cwnd was set */
void tcp_cwv_reset(struct tcb *t);	     /* a retransmission timeout */
/* RFC 6928 §2: IW = min(10*MSS, max(2*MSS, 14600)). */
static inline uint32_t tcp_initial_window(const struct tcb *t)
{
	return MIN(10u * t->mss, MAX(2u * t->mss, 14600u));
}

/* tcp_frto.c: spurious timeouts (RFC 5682 F-RTO, RFC 3522 Eifel). */
/* The timer expired: true if F-RTO runs (saves the window to undo). */
bool tcp_frto_start(struct tcb *t);
/* Bytes sent before the timeout, never resent, that the peer now holds. */
uint32_t tcp_frto_covered(const struct tcb *t);
/* An acceptable ACK while t->frto: una was SND.UNA and covered_before
 * tcp_frto_covered() before it; newly_sacked as tcp_sack_update's. */
void tcp_frto_on_ack(struct tcb *t, const struct tcp_seg *s, uint32_t una, uint32_t covered_before,
		     uint32_t newly_sacked);

/* tcp_sack.c: the sender's SACK scoreboard and RFC 6675 loss recovery
 * with Proportional Rate Reduction (RFC 6937). */
/* Take the SACK blocks of an acceptable ACK into the scoreboard (after
 * SND.UNA moved); returns the bytes newly SACKed. A D-SACK block (RFC
 * 2883 §4) is counted, never taken. */
uint32_t tcp_sack_update(struct tcb *t, const struct wire_tcp_opts *o, uint32_t ack);
/* SND.UNA advanced: forget ranges below it. */
void tcp_sack_trim(struct tcb *t);
void tcp_sack_clear(struct tcb *t);
/* Bytes SACKed within [a, b). */
uint32_t tcp_sacked_in(const struct tcb *t, uint32_t a, uint32_t b);
/* RFC 6675 §4 IsLost(SND.UNA): enough SACKed above the first hole. */
bool tcp_sack_head_lost(const struct tcb *t);
/* RFC 6675 §4 SetPipe(). */
uint32_t tcp_sack_pipe(const struct tcb *t);
/* RFC 6675 §5 step 4 with RFC 6937: enter recovery and retransmit. */
void tcp_recovery_enter(struct tcb *t);
/* An ACK during recovery: DeliveredData bytes (RFC 6937 §3); ends recovery
 * at RecoveryPoint. */
void tcp_recovery_on_ack(struct tcb *t, uint32_t delivered);
/* Send what RFC 6675 §4 NextSeg() and the PRR budget allow. */
bool tcp_recovery_output(struct tcb *t);
/* The segment of at most len bytes at seq, skipping SACKed bytes: moves
 * *seq past SACKed data and cuts *len at the next SACKed range. */
void tcp_sack_skip(const struct tcb *t, uint32_t *seq, uint32_t *len);

/* tcp_autotune.c: buffers that grow with the path */
/* The application read n bytes (Dynamic Right-Sizing of the receive buffer). */
void tcp_rcvbuf_tune(struct tcb *t, uint32_t n);
/* send() found the send buffer full: grow it if cwnd could use more. */
bool tcp_sndbuf_tune(struct tcb *t);

/* tcp_rack.c */
void tcp_rack_note_rexmit(struct tcb *t, uint32_t seq, uint32_t end);
void tcp_rack_on_ack(struct tcb *t);
void tcp_rack_trim(struct tcb *t);
void tcp_rack_clear(struct tcb *t);
void tcp_rack_free(struct tcb *t);
bool tcp_rack_next(struct tcb *t, uint32_t *seq, uint32_t *len);
void tcp_rack_resent(struct tcb *t, uint32_t seq, uint32_t len);
void tcp_rack_arm(struct tcb *t);
void tcp_rack_fire(struct tcb *t);
/* RFC 8985 §6.2 step 3: [l, r), below the highest sequence number (S)ACKed
 * before this ACK, is delivered now for the first time; it was overtaken
 * (reordering) unless it may have been retransmitted. And the ACK is
 * done: RACK.fack moves. */
void tcp_rack_delivered_below_fack(struct tcb *t, uint32_t l, uint32_t r);
void tcp_rack_update_fack(struct tcb *t);
/* The reordering window: RACK.reo_wnd of RFC 8985 §6.2 step 4. */
synack_time_t tcp_rack_reo_wnd(const struct tcb *t);
/* Loss recovery begins (before the reduction, which it may undo) or ends;
 * a retransmission during it; a D-SACK block [l, r) arrived. */
void tcp_undo_begin(struct tcb *t);
void tcp_undo_recovery_end(struct tcb *t);
void tcp_undo_note_rexmit(struct tcb *t, uint32_t seq, uint32_t len);
void tcp_undo_dsack(struct tcb *t, uint32_t l, uint32_t r);
void tcp_tlp_arm(struct tcb *t);
void tcp_tlp_fire(struct tcb *t);
void tcp_tlp_on_ack(struct tcb *t);
/* tcp_ecn.c: ECN, RFC 3168 §6.1 */
/* §6.1.1: a SYN arrived in LISTEN or SYN-SENT (simultaneous open). */
void tcp_ecn_syn_in(struct tcb *t, const struct tcp_seg *syn);
/* §6.1.1: the SYN-ACK answering our SYN arrived. */
void tcp_ecn_synack_in(struct tcb *t, const struct tcp_seg *synack);
/* Add ECE/CWR to the flags of the segment h (len bytes of data) about to
 * leave; returns the IP codepoint it goes with (WIRE_ECN_*). */
uint8_t tcp_ecn_out(struct tcb *t, struct wire_tcp *h, uint32_t len);
/* §6.1.2: an acceptable ACK was processed; react to its ECE. */
void tcp_ecn_ack_input(struct tcb *t, const struct tcp_seg *s);
/* §6.1.2 "at most once per window": an ECE reduction whose window is not
 * yet acknowledged; a loss found in it starts recovery without another. */
bool tcp_ecn_reducing(const struct tcb *t);
/* A loss reduction was undone (a spurious timeout): its window no longer
 * holds ECE reactions back. */
void tcp_ecn_loss_undone(struct tcb *t);
/* §6.1.2: "SHOULD NOT increase the congestion window" on an ECE ACK. */
static inline bool tcp_ecn_holds_cwnd(const struct tcb *t, const struct tcp_seg *s)
{
	return t->ecn_ok && (s->h.flags & SYNACK_TCP_ECE);
}
/* §6.1.3: an acceptable segment arrived: CE sets the echo, CWR ends it. */
void tcp_ecn_seg_in(struct tcb *t, const struct tcp_seg *s);

/* tcp_timer.c */
/* Run the due timers; returns false if the TCB was freed. */
bool tcp_timer_fire(struct tcb *t);
void tcp_rtt_sample(struct tcb *t, synack_time_t rtt);
void tcp_rtx_arm(struct tcb *t);
void tcp_persist_arm(struct tcb *t);
void tcp_time_wait_enter(struct tcb *t);

/* tcp_cookie.c: SYN cookies, RFC 4987 §3.6 */
enum { TCP_COOKIE_MSS_COUNT = 8 };
/* Answer with a cookie rather than a SYN-RECEIVED child? */
bool tcp_cookie_wanted(const struct tcb *l);
/* The stateless SYN-ACK answering syn (counted tcp_syncookies_sent). */
void tcp_cookie_send(struct tcb *l, const struct tcp_seg *syn);
/* Is an ACK to a listener worth checking as a cookie? */
bool tcp_cookie_expected(const struct tcb *l);
/* true if SEG.ACK - 1 is a valid cookie; *o gets the SYN's options. */
bool tcp_cookie_check(const struct tcb *l, const struct tcp_seg *ack, struct wire_tcp_opts *o);
uint32_t tcp_cookie_iss(const synack_stack *st, const synack_endpoint *local, const synack_endpoint *remote,
			uint32_t peer_isn, uint32_t period, uint8_t mss_idx, uint8_t opts);
uint32_t tcp_cookie_period(const synack_stack *st);
uint16_t tcp_cookie_mss_value(unsigned idx);
/* tcb.c: RFC 7323 §5.4 timestamp offset of a 4-tuple (keyed hash) */
uint32_t tcp_ts_offset(const synack_stack *st, const synack_endpoint *local, const synack_endpoint *remote);
/* tcp_keepalive.c */
enum { TCP_KEEPIDLE_DEFAULT = 7200, TCP_KEEPINTVL_DEFAULT = 75, TCP_KEEPCNT_DEFAULT = 9 };
/* A segment came from t's peer: its idle time starts again. */
void tcp_keep_heard(struct tcb *t);
/* Set t_keep from the settings and the time the peer was last heard. */
void tcp_keep_arm(struct tcb *t);
/* t_keep is due: probe, wait, or give up. Returns false if t was closed. */
bool tcp_keep_expired(struct tcb *t);
/* A listener's keepalive and IP settings, taken by a new child. */
void tcp_keep_inherit(struct tcb *c, const struct tcb *l);
/* The ECN field of the IPv4 TOS / IPv6 traffic class (RFC 3168 §5): set by
 * TCP, never by the application's IP_TOS. */
enum { TCP_IP_ECN_MASK = 0x03 };

#endif
