/* Segment-exact TCP scenarios against one stack on virtual time: the test
 * plays the peer (10.0.0.1:40000), the stack is 10.0.0.2 (listening on 8080
 * or connecting from an ephemeral port). Each test reads like a packetdrill
 * script; see seg_harness.h for the line syntax. RFC 9293 section numbers
 * name the rule each expectation comes from. */
#include "seg_harness.h"

static int state(const struct seg_env *E)
{
	return synack_tcp_state(E->conn);
}
static synack_tcp_info info(const struct seg_env *E)
{
	synack_tcp_info i;
	synack_tcp_get_info(E->conn, &i);
	return i;
}
static uint64_t cnt(const struct seg_env *E, enum synack_counter id)
{
	return synack_stack_counter(E->st, id);
}

/* A stack whose config differs from seg_config() in one field:
 * SEG_NEW_WITH(tcp.msl, SYNACK_SEC(1)). */
#define SEG_NEW_WITH(field, value)                                                                           \
	({                                                                                                   \
		synack_stack_config cfg_;                                                                    \
		seg_config(&cfg_);                                                                           \
		cfg_.field = (value);                                                                        \
		seg_new(&cfg_);                                                                              \
	})

/* Handshake segments, written after a time: OUT(E, "1.000" SYNACK_PLAIN). The
 * plain peer's SYN (MSS 1000, no WS/TS/SACK), our SYN-ACK to it, our SYN. */
#define SYN_PLAIN    " S 0:0(0) win 65535 <mss 1000>"
#define SYNACK_PLAIN " S. 0:0(0) ack 1 win 65535 <mss 1460>"
#define SYN_OURS     " S 0:0(0) win 65535 <mss 1460,sackOK,TS val * ecr 0,nop,wscale 3>"

/* A default stack listening (on 8080) at time 0. */
static struct seg_env *listening(void)
{
	struct seg_env *E = seg_new(NULL);
	AT(E, "0");
	seg_listen(E);
	return E;
}

/* Passive open up to SYN-RECEIVED at time 0: the peer's SYN carries the
 * options syn_opts, our SYN-ACK offers window rwin with options synack_opts. */
static void syn_rcvd_opts(struct seg_env *E, const char *syn_opts, unsigned rwin, const char *synack_opts)
{
	AT(E, "0");
	seg_listen(E);
	INF(E, "0.000 S 0:0(0) win 65535 <%s>", syn_opts);
	OUTF(E, "0.000 S. 0:0(0) ack 1 win %u <%s>", rwin, synack_opts);
}
/* ... with the plain peer; our SYN-ACK offers rwin (the receive buffer) */
static void syn_rcvd_win(struct seg_env *E, unsigned rwin)
{
	syn_rcvd_opts(E, "mss 1000", rwin, "mss 1460");
}
static void syn_rcvd(struct seg_env *E)
{
	syn_rcvd_win(E, 65535);
}

/* syn_rcvd_win(), then the peer's ACK at 0.100 and accept() */
static void accepted_rwin(struct seg_env *E, unsigned rwin)
{
	syn_rcvd_win(E, rwin);
	IN(E, "0.100 . 1:1(0) ack 1");
	seg_accept(E);
}

/* Passive open with a plain peer (MSS 1000, no WS/TS/SACK): the ACK comes at
 * 0.100, so the handshake's RTT sample is 100 ms (SRTT 100 ms, RTTVAR 50 ms,
 * RTO 300 ms per RFC 6298 §2.2). Optional peer window for that ACK. */
static void establish_win(struct seg_env *E, unsigned win)
{
	syn_rcvd(E);
	INF(E, "0.100 . 1:1(0) ack 1 win %u", win);
	seg_accept(E);
	seg_events(E, E->conn);
	CHECK_EQ(state(E), SYNACK_TCP_ESTABLISHED);
}
static void establish(struct seg_env *E)
{
	establish_win(E, 65535);
}

/* The connection is CLOSED, and a handle still held reads error err. */
static void closed_with(struct seg_env *E, int err)
{
	CHECK_EQ(state(E), SYNACK_TCP_CLOSED);
	CHECK_EQ(synack_tcp_error(E->conn), err);
}

/* Nothing leaves up to time at; the state is still `before` at just_before
 * and `after` at at: a timer fires exactly then. */
static void state_turns_at(struct seg_env *E, const char *just_before, int before, const char *at, int after)
{
	NONE(E, just_before);
	CHECK_EQ(state(E), before);
	NONE(E, at);
	CHECK_EQ(state(E), after);
}

/* Active open: connect() at time 0 sends our SYN at once. */
static void syn_sent(struct seg_env *E)
{
	AT(E, "0");
	seg_connect(E);
	OUT(E, "0.000" SYN_OURS);
}

/* In SYN-SENT: the plain peer's SYN-ACK at time when, our ACK at once. */
static void plain_synack(struct seg_env *E, const char *when)
{
	INF(E, "%s S. 0:0(0) ack 1 win 65535 <mss 1000>", when);
	OUT(E, "+0 . 1:1(0) ack 1 win 65535");
}

/* Active open towards the plain peer; SYN-ACK at 0.100. */
static __attribute__((unused)) void connect_plain(struct seg_env *E)
{
	syn_sent(E);
	plain_synack(E, "0.100");
	CHECK_EQ(state(E), SYNACK_TCP_ESTABLISHED);
	seg_events(E, E->conn);
}

/* Simultaneous open (RFC 9293 Figure 7, line 3): after our SYN, the plain
 * peer's SYN crosses it at 0.010; we answer with a SYN-ACK. */
static void crossed_syns(struct seg_env *E)
{
	syn_sent(E);
	IN(E, "0.010" SYN_PLAIN);
	OUT(E, "0.010" SYNACK_PLAIN);
	CHECK_EQ(state(E), SYNACK_TCP_SYN_RECEIVED);
}

/* At time when, the application sends n bytes. */
static void send_at(struct seg_env *E, const char *when, size_t n)
{
	AT(E, when);
	seg_send(E, n);
}

/* Established, nothing sent yet: shutdown(SHUT_WR) at time when, our FIN. */
static void shut_wr(struct seg_env *E, const char *when)
{
	AT(E, when);
	CHECK_EQ(synack_tcp_shutdown(E->conn, SYNACK_SHUT_WR), 0);
	OUTF(E, "%s F. 1:1(0) ack 1 win 65535", when);
}

/* establish(), our FIN at 0.200, the peer's FIN acknowledging it at 0.300. */
static void to_time_wait(struct seg_env *E)
{
	establish(E);
	shut_wr(E, "0.200");
	IN(E, "0.300 F. 1:1(0) ack 2");
	OUT(E, "0.300 . 2:2(0) ack 2 win 65535");
	CHECK_EQ(state(E), SYNACK_TCP_TIME_WAIT);
}

/* establish(), the peer's FIN at 0.200, acknowledged at once
 * (RFC 9293 §3.10.7.4 eighth). */
static void to_close_wait(struct seg_env *E)
{
	establish(E);
	IN(E, "0.200 F. 1:1(0) ack 1");
	OUT(E, "0.200 . 1:1(0) ack 2 win 65535");
	CHECK_EQ(state(E), SYNACK_TCP_CLOSE_WAIT);
}

/* After establish(): 100 bytes at 1.000 never acknowledged. RFC 6298 §5.5:
 * the timer (300 ms) doubles after each expiry. */
static void send_100_unanswered(struct seg_env *E)
{
	send_at(E, "1.000", 100);
	OUT(E, "1.000 P. 1:101(100) ack 1 win 65535");
	OUT(E, "1.300 P. 1:101(100) ack 1 win 65535");
	OUT(E, "1.900 P. 1:101(100) ack 1 win 65535");
	OUT(E, "3.100 P. 1:101(100) ack 1 win 65535");
}

/* A handshake that needed a retransmission gave no RTT sample: RFC 6298
 * §5.7 re-initializes RTO to 3 s when data transmission begins. */
static void first_data_rto_3s(struct seg_env *E)
{
	CHECK_EQ(info(E).rto, SYNACK_SEC(3));
	send_at(E, "2.000", 10);
	OUT(E, "2.000 P. 1:11(10) ack 1 win 65535");
	OUT(E, "5.000 P. 1:11(10) ack 1 win 65535");
}

/* The peer's handshake ACK closed its window: 100 bytes sent at 1.000 wait.
 * RFC 9293 §3.8.6.1: probe the zero window; the interval starts at
 * max(RTO 300 ms, persist_min 500 ms) and doubles from RTO. */
static void zero_window_first_probe(struct seg_env *E)
{
	establish_win(E, 0);
	send_at(E, "1.000", 100);
	OUT(E, "1.500 . 1:2(1) ack 1 win 65535");
}

/* ================= opening: RFC 9293 §3.5, §3.10.7.2, §3.10.7.3 ================= */

TEST(passive_open_listen_synrcvd_established)
{
	struct seg_env *E = seg_new(NULL);
	/* RFC 7323 §2.2: the SYN-ACK's window is never scaled (free space is 256 KiB) */
	syn_rcvd_opts(E, "mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7", 65535,
		      "mss 1460,sackOK,TS val * ecr 100,nop,wscale 3");
	synack_tcp *c;
	CHECK_EQ(synack_tcp_accept(E->listener, &c), -EAGAIN); /* SYN-RECEIVED is not acceptable */
	CHECK_EQ(synack_stack_tcb_count(E->st), 2);
	uint32_t tsv = E->last.opt.ts_val;
	INF(E, "0.100 . 1:1(0) ack 1 win 257 <nop,nop,TS val 110 ecr %u>", tsv);
	CHECK(seg_events(E, E->listener) & SYNACK_EV_ACCEPTABLE);
	seg_accept(E);
	synack_tcp_info i = info(E);
	CHECK_EQ(i.state, SYNACK_TCP_ESTABLISHED);
	CHECK_EQ(i.snd_wscale, 7);
	CHECK_EQ(i.rcv_wscale, 3);
	CHECK_EQ(i.snd_wnd, 257u << 7);
	CHECK_EQ(i.mss, 1460 - 12);
	CHECK(i.ts_ok && i.sack_ok);
	CHECK_EQ(i.iss, E->iss);
	CHECK_EQ(i.irs, E->pisn);
	CHECK_EQ(cnt(E, SYNACK_CNT_TCP_PASSIVE_OPENS), 1);
	CHECK_EQ(cnt(E, SYNACK_CNT_TCP_ESTABLISHED), 1);
	CHECK_EQ(synack_stack_drops(E->st), 0);
	SEG_END(E);
}

TEST(synack_retransmitted_1_2_4_8_16_then_child_removed)
{
	struct seg_env *E = seg_new(NULL);
	/* RFC 6298 §2.1 initial RTO 1 s, §5.5 doubling; synack_retries = 5 */
	syn_rcvd(E);
	OUT(E, "1.000" SYNACK_PLAIN);
	OUT(E, "3.000" SYNACK_PLAIN);
	OUT(E, "7.000" SYNACK_PLAIN);
	OUT(E, "15.000" SYNACK_PLAIN);
	OUT(E, "31.000" SYNACK_PLAIN);
	NONE(E, "62.999");
	CHECK_EQ(synack_stack_tcb_count(E->st), 2);
	NONE(E, "63.000"); /* gives up silently: the child goes, the listener stays */
	CHECK_EQ(synack_stack_tcb_count(E->st), 1);
	CHECK_EQ(cnt(E, SYNACK_CNT_TCP_TIMEOUTS), 1);
	CHECK_EQ(cnt(E, SYNACK_CNT_TCP_RETRANSMITS), 5);
	/* the listener is back to accepting: the same SYN starts afresh */
	IN(E, "64.000" SYN_PLAIN);
	OUT(E, "64.000 S. * (0) ack 1 win 65535 <mss 1460>");
	SEG_END(E);
}

TEST(synrcvd_retransmitted_syn_answered_with_synack)
{
	struct seg_env *E = seg_new(NULL);
	syn_rcvd(E);
	IN(E, "0.500" SYN_PLAIN);
	OUT(E, "0.500" SYNACK_PLAIN);
	/* the retransmission timer was not restarted by the answer */
	OUT(E, "1.000" SYNACK_PLAIN);
	/* Karn (RFC 6298 §3): the handshake completing after a retransmission gives no sample */
	IN(E, "1.100 . 1:1(0) ack 1");
	seg_accept(E);
	CHECK_EQ(state(E), SYNACK_TCP_ESTABLISHED);
	CHECK_EQ(info(E).srtt, 0);
	SEG_END(E);
}

TEST(synrcvd_rst_removes_child_listener_stays)
{
	struct seg_env *E = seg_new(NULL);
	syn_rcvd(E);
	/* RFC 9293 §3.10.7.4 second, SYN-RECEIVED from a passive OPEN: back to LISTEN */
	IN(E, "0.050 R 1:1(0)");
	CHECK_EQ(synack_stack_tcb_count(E->st), 1);
	NONE(E, "5");
	SEG_END(E);
}

TEST(active_open_closed_synsent_established)
{
	struct seg_env *E = seg_new(NULL);
	syn_sent(E);
	CHECK_EQ(state(E), SYNACK_TCP_SYN_SENT);
	IN(E, "0.050 S. 0:0(0) ack 1 win 65535 <mss 1000,nop,wscale 2>");
	/* the first scaled window: 256 KiB >> 3 */
	OUT(E, "0.050 . 1:1(0) ack 1 win 32768");
	synack_tcp_info i = info(E);
	CHECK_EQ(i.state, SYNACK_TCP_ESTABLISHED);
	CHECK_EQ(i.snd_wscale, 2);
	CHECK_EQ(i.snd_wnd, 65535); /* RFC 7323 §2.2: the SYN-ACK's window is not scaled */
	CHECK_EQ(i.mss, 1000);
	CHECK(!i.ts_ok && !i.sack_ok);
	CHECK_EQ(i.srtt, SYNACK_MSEC(50));
	CHECK(seg_events(E, E->conn) & SYNACK_EV_CONNECTED);
	CHECK_EQ(cnt(E, SYNACK_CNT_TCP_ACTIVE_OPENS), 1);
	SEG_END(E);
}

TEST(syn_retransmitted_with_doubling_then_etimedout)
{
	struct seg_env *E = SEG_NEW_WITH(tcp.syn_retries, 3);
	syn_sent(E);
	OUT(E, "1.000" SYN_OURS);
	OUT(E, "3.000" SYN_OURS);
	OUT(E, "7.000" SYN_OURS);
	state_turns_at(E, "14.999", SYNACK_TCP_SYN_SENT, "15.000", SYNACK_TCP_CLOSED);
	CHECK_EQ(synack_tcp_error(E->conn), -ETIMEDOUT);
	CHECK(seg_events(E, E->conn) & SYNACK_EV_ERROR);
	synack_tcp_close(E->conn);
	CHECK_EQ(synack_stack_tcb_count(E->st), 0);
	SEG_END(E);
}

TEST(simultaneous_open_synsent_synrcvd_established)
{
	struct seg_env *E = seg_new(NULL);
	crossed_syns(E);
	/* line 6: the peer's SYN,ACK acknowledges our SYN: ESTABLISHED */
	IN(E, "0.020 S. 0:0(0) ack 1 win 65535 <mss 1000>");
	CHECK_EQ(state(E), SYNACK_TCP_ESTABLISHED);
	CHECK(seg_events(E, E->conn) & SYNACK_EV_CONNECTED);
	/* data flows both ways */
	IN(E, "0.030 P. 1:101(100) ack 1");
	CHECK_EQ(seg_read_check(E, 1), 100);
	send_at(E, "0.040", 10);
	OUT(E, "0.040 P. 1:11(10) ack 101 win 65535");
	SEG_END(E);
}

TEST(synsent_rst_with_acceptable_ack_refused)
{
	struct seg_env *E = seg_new(NULL);
	syn_sent(E);
	/* RFC 9293 §3.10.7.3: RST with an acceptable ACK: "connection reset" */
	IN(E, "0.010 R. 0:0(0) ack 1 win 0");
	closed_with(E, -ECONNREFUSED);
	CHECK(seg_events(E, E->conn) & SYNACK_EV_ERROR);
	CHECK_EQ(cnt(E, SYNACK_CNT_TCP_RESETS_RECEIVED), 1);
	NONE(E, "5");
	synack_tcp_close(E->conn);
	SEG_END(E);
}

TEST(synsent_rst_with_bad_ack_ignored)
{
	struct seg_env *E = seg_new(NULL);
	syn_sent(E);
	/* RFC 9293 §3.10.7.3 first: unacceptable ACK and RST: drop */
	IN(E, "0.010 R. 0:0(0) ack 100 win 0");
	IN(E, "0.020 R. 0:0(0) ack 0 win 0");
	/* RST without ACK: "drop the segment and return" */
	IN(E, "0.030 R 0:0(0) win 0");
	CHECK_EQ(state(E), SYNACK_TCP_SYN_SENT);
	CHECK_EQ(cnt(E, SYNACK_CNT_TCP_RESETS_RECEIVED), 0);
	OUT(E, "1.000" SYN_OURS);
	plain_synack(E, "1.100");
	CHECK_EQ(state(E), SYNACK_TCP_ESTABLISHED);
	SEG_END(E);
}

TEST(synsent_synack_with_bad_ack_gets_rst)
{
	struct seg_env *E = seg_new(NULL);
	syn_sent(E);
	/* RFC 9293 §3.10.7.3 first: <SEQ=SEG.ACK><CTL=RST> */
	IN(E, "0.010 S. 0:0(0) ack 500 win 65535 <mss 1000>");
	OUT(E, "0.010 R 500:500(0) win 0");
	CHECK_EQ(state(E), SYNACK_TCP_SYN_SENT);
	CHECK_EQ(cnt(E, SYNACK_DROP_TCP_BAD_ACK), 1);
	SEG_END(E);
}

TEST(ack_to_listener_gets_rst_seq_seg_ack)
{
	struct seg_env *E = listening();
	/* RFC 9293 §3.10.7.2 second: <SEQ=SEG.ACK><CTL=RST>; no ISS known: absolute */
	IN(E, "0.000 . 1:1(0) ack 123456");
	OUT(E, "0.000 R 123456:123456(0) win 0");
	/* a RST to a listener is ignored */
	IN(E, "0.010 R 1:1(0)");
	/* neither SYN nor RST nor ACK: dropped */
	IN(E, "0.020 P 1:11(10)");
	CHECK_EQ(cnt(E, SYNACK_DROP_TCP_LISTEN_BAD), 2);
	CHECK_EQ(cnt(E, SYNACK_DROP_TCP_LISTEN_RST), 1);
	CHECK_EQ(synack_stack_tcb_count(E->st), 1);
	SEG_END(E);
}

TEST(closed_port_segment_without_ack_gets_rst_ack)
{
	struct seg_env *E = seg_new(NULL);
	AT(E, "0");
	/* RFC 9293 §3.10.7.1: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK> */
	IN(E, "0.000" SYN_PLAIN);
	OUT(E, "0.000 R. 0:0(0) ack 1 win 0");
	IN(E, "0.010 S 0:10(10) win 65535"); /* a SYN with data: SEG.LEN = 11 */
	OUT(E, "0.010 R. 0:0(0) ack 11 win 0");
	IN(E, "0.020 F 5:5(0)");
	OUT(E, "0.020 R. 0:0(0) ack 6 win 0");
	CHECK_EQ(cnt(E, SYNACK_DROP_TCP_NO_SOCKET), 3);
	CHECK_EQ(cnt(E, SYNACK_CNT_TCP_RESETS_SENT), 3);
	SEG_END(E);
}

TEST(closed_port_segment_with_ack_gets_rst_seq_ack)
{
	struct seg_env *E = seg_new(NULL);
	AT(E, "0");
	/* RFC 9293 §3.10.7.1: <SEQ=SEG.ACK><CTL=RST> */
	IN(E, "0.000 . 1:101(100) ack 7777");
	OUT(E, "0.000 R 7777:7777(0) win 0");
	IN(E, "0.010 F. 1:1(0) ack 8888");
	OUT(E, "0.010 R 8888:8888(0) win 0");
	/* "An incoming segment containing a RST is discarded" */
	IN(E, "0.020 R. 1:1(0) ack 9999");
	IN(E, "0.030 R 1:1(0)");
	CHECK_EQ(cnt(E, SYNACK_DROP_TCP_NO_SOCKET), 4);
	CHECK_EQ(cnt(E, SYNACK_CNT_TCP_RESETS_SENT), 2);
	SEG_END(E);
}

/* ================= closing: RFC 9293 §3.6, §3.10.7.4 ================= */

TEST(active_close_finwait1_finwait2_timewait_closed_after_2msl)
{
	struct seg_env *E = SEG_NEW_WITH(tcp.msl, SYNACK_SEC(1));
	establish(E);
	shut_wr(E, "0.200");
	CHECK_EQ(state(E), SYNACK_TCP_FIN_WAIT_1);
	IN(E, "0.300 . 1:1(0) ack 2");
	CHECK_EQ(state(E), SYNACK_TCP_FIN_WAIT_2);
	IN(E, "0.400 F. 1:1(0) ack 2");
	OUT(E, "0.400 . 2:2(0) ack 2 win 65535");
	CHECK_EQ(state(E), SYNACK_TCP_TIME_WAIT);
	CHECK(seg_events(E, E->conn) & SYNACK_EV_PEER_CLOSED);
	state_turns_at(E, "2.399999", SYNACK_TCP_TIME_WAIT, "2.400000", SYNACK_TCP_CLOSED); /* exactly 2*MSL */
	CHECK_EQ(synack_tcp_error(E->conn), 0);
	synack_tcp_close(E->conn);
	CHECK_EQ(synack_stack_tcb_count(E->st), 1);
	SEG_END(E);
}

TEST(active_close_by_close_frees_after_timewait)
{
	struct seg_env *E = SEG_NEW_WITH(tcp.msl, SYNACK_MSEC(500));
	establish(E);
	AT(E, "0.200");
	CHECK_EQ(synack_tcp_close(E->conn), 0);
	OUT(E, "0.200 F. 1:1(0) ack 1 win 65535");
	IN(E, "0.300 F. 1:1(0) ack 2");
	OUT(E, "0.300 . 2:2(0) ack 2 win 65535");
	CHECK_EQ(synack_stack_tcb_count(E->st), 2);
	NONE(E, "1.300");
	CHECK_EQ(synack_stack_tcb_count(E->st), 1);
	SEG_END(E);
}

TEST(passive_close_closewait_lastack_closed)
{
	struct seg_env *E = seg_new(NULL);
	to_close_wait(E);
	uint32_t ev = seg_events(E, E->conn);
	CHECK(ev & SYNACK_EV_PEER_CLOSED);
	CHECK(ev & SYNACK_EV_READABLE);
	uint8_t b;
	CHECK_EQ(synack_tcp_recv(E->conn, &b, 1), 0);
	/* CLOSE-WAIT can still send */
	send_at(E, "0.300", 5);
	OUT(E, "0.300 P. 1:6(5) ack 2 win 65535");
	IN(E, "0.400 . 2:2(0) ack 6");
	AT(E, "0.500");
	CHECK_EQ(synack_tcp_shutdown(E->conn, SYNACK_SHUT_WR), 0);
	CHECK_EQ(state(E), SYNACK_TCP_LAST_ACK);
	OUT(E, "0.500 F. 6:6(0) ack 2 win 65535");
	/* LAST-ACK: the FIN is retransmitted on RTO: samples 100 ms, 100 ms give
	 * SRTT 100 ms, RTTVAR 37.5 ms, RTO 250 ms (RFC 6298 §2.3) */
	OUT(E, "0.750 F. 6:6(0) ack 2 win 65535");
	IN(E, "0.850 . 2:2(0) ack 7");
	CHECK_EQ(state(E), SYNACK_TCP_CLOSED);
	NONE(E, "5");
	synack_tcp_close(E->conn);
	CHECK_EQ(synack_stack_tcb_count(E->st), 1);
	SEG_END(E);
}

TEST(simultaneous_close_via_closing)
{
	struct seg_env *E = SEG_NEW_WITH(tcp.msl, SYNACK_SEC(1));
	establish(E);
	shut_wr(E, "0.200");
	/* the peer's FIN crosses ours: it does not acknowledge our FIN */
	IN(E, "0.210 F. 1:1(0) ack 1");
	/* RFC 9293 Figure 13 draws a pure ACK <SEQ=101> here; synack, like the
	 * BSD stacks, repeats its unacknowledged FIN on every ACK it sends (a
	 * retransmission, always allowed) */
	OUT(E, "0.210 F. 1:1(0) ack 2 win 65535");
	CHECK_EQ(state(E), SYNACK_TCP_CLOSING);
	IN(E, "0.220 . 2:2(0) ack 2");
	CHECK_EQ(state(E), SYNACK_TCP_TIME_WAIT);
	state_turns_at(E, "2.219", SYNACK_TCP_TIME_WAIT, "2.220", SYNACK_TCP_CLOSED);
	SEG_END(E);
}

TEST(finwait1_to_timewait_on_fin_ack)
{
	struct seg_env *E = seg_new(NULL);
	to_time_wait(E); /* FIN-WAIT-1: the peer's FIN acknowledges ours */
	SEG_END(E);
}

TEST(timewait_retransmitted_fin_acked_and_2msl_restarted)
{
	struct seg_env *E = SEG_NEW_WITH(tcp.msl, SYNACK_SEC(1));
	to_time_wait(E);
	/* our ACK was lost: the peer retransmits its FIN */
	IN(E, "1.300 F. 1:1(0) ack 2");
	OUT(E, "1.300 . 2:2(0) ack 2 win 65535");
	/* RFC 9293 §3.10.7.4 eighth, TIME-WAIT: restart the 2 MSL timeout */
	state_turns_at(E, "3.299", SYNACK_TCP_TIME_WAIT, "3.300", SYNACK_TCP_CLOSED);
	SEG_END(E);
}

TEST(timewait_rst_ignored_rfc1337)
{
	struct seg_env *E = seg_new(NULL);
	to_time_wait(E);
	IN(E, "0.400 R 2:2(0)");
	CHECK_EQ(state(E), SYNACK_TCP_TIME_WAIT);
	CHECK_EQ(cnt(E, SYNACK_DROP_TCP_TIME_WAIT_RST), 1);
	CHECK_EQ(cnt(E, SYNACK_CNT_TCP_RESETS_RECEIVED), 0);
	SEG_END(E);
}

TEST(timewait_rst_closes_without_rfc1337)
{
	struct seg_env *E = SEG_NEW_WITH(tcp.time_wait_rst_protect, 0);
	to_time_wait(E);
	IN(E, "0.400 R 2:2(0)");
	/* RFC 9293 §3.10.7.4 second: close; a handle still held hears of it */
	closed_with(E, -ECONNRESET);
	CHECK_EQ(cnt(E, SYNACK_CNT_TCP_RESETS_RECEIVED), 1);
	SEG_END(E);
}

/* ================= RFC 5961 ================= */

TEST(rst_at_rcv_nxt_resets)
{
	struct seg_env *E = seg_new(NULL);
	establish(E);
	/* RFC 5961 §3.2: exactly RCV.NXT: reset the connection */
	IN(E, "0.200 R 1:1(0)");
	closed_with(E, -ECONNRESET);
	uint32_t ev = seg_events(E, E->conn);
	CHECK(ev & SYNACK_EV_RESET);
	CHECK(ev & SYNACK_EV_CLOSED);
	CHECK_EQ(cnt(E, SYNACK_CNT_TCP_RESETS_RECEIVED), 1);
	NONE(E, "5");
	SEG_END(E);
}

TEST(rst_in_window_not_exact_challenge_ack)
{
	struct seg_env *E = seg_new(NULL);
	establish(E);
	/* RFC 5961 §3.2: in the window but not RCV.NXT: challenge ACK */
	IN(E, "0.200 R 100:100(0)");
	OUT(E, "0.200 . 1:1(0) ack 1 win 65535");
	CHECK_EQ(state(E), SYNACK_TCP_ESTABLISHED);
	CHECK_EQ(cnt(E, SYNACK_CNT_TCP_CHALLENGE_ACKS), 1);
	CHECK_EQ(cnt(E, SYNACK_DROP_TCP_RST_INVALID), 1);
	/* the true peer answers the challenge with an exact RST */
	IN(E, "0.250 R 1:1(0)");
	CHECK_EQ(state(E), SYNACK_TCP_CLOSED);
	SEG_END(E);
}

TEST(rst_out_of_window_dropped_silently)
{
	struct seg_env *E = seg_new(NULL);
	establish(E);
	IN(E, "0.200 R 400000:400000(0)"); /* beyond any window (buffer 256 KiB) */
	IN(E, "0.210 R 0:0(0)");	 /* below RCV.NXT */
	NONE(E, "1");
	CHECK_EQ(state(E), SYNACK_TCP_ESTABLISHED);
	CHECK_EQ(cnt(E, SYNACK_DROP_TCP_OUT_OF_WINDOW), 2);
	CHECK_EQ(cnt(E, SYNACK_CNT_TCP_CHALLENGE_ACKS), 0);
	SEG_END(E);
}

TEST(syn_in_established_challenge_ack)
{
	struct seg_env *E = seg_new(NULL);
	establish(E);
	/* RFC 5961 §4.2: any SYN in a synchronized state: challenge ACK */
	IN(E, "0.200 S 500:500(0) win 65535 <mss 1000>");
	OUT(E, "0.200 . 1:1(0) ack 1 win 65535");
	CHECK_EQ(state(E), SYNACK_TCP_ESTABLISHED);
	CHECK_EQ(cnt(E, SYNACK_CNT_TCP_CHALLENGE_ACKS), 1);
	CHECK_EQ(cnt(E, SYNACK_DROP_TCP_SYN_IN_WINDOW), 1);
	/* an old SYN (the original one) is answered by an ACK too */
	IN(E, "0.300 S 0:0(0) win 65535 <mss 1000>");
	OUT(E, "0.300 . 1:1(0) ack 1 win 65535");
	CHECK_EQ(state(E), SYNACK_TCP_ESTABLISHED);
	SEG_END(E);
}

TEST(challenge_ack_rate_limited)
{
	struct seg_env *E = SEG_NEW_WITH(tcp.challenge_ack_limit, 2);
	establish(E);
	IN(E, "0.200 R 100:100(0)");
	OUT(E, "0.200 . 1:1(0) ack 1 win 65535");
	IN(E, "0.300 S 200:200(0)");
	OUT(E, "0.300 . 1:1(0) ack 1 win 65535");
	IN(E, "0.400 R 300:300(0)"); /* third in the same second: no ACK (RFC 5961 §7) */
	IN(E, "0.900 R 300:300(0)");
	CHECK_EQ(cnt(E, SYNACK_CNT_TCP_CHALLENGE_ACKS), 2);
	CHECK_EQ(cnt(E, SYNACK_DROP_TCP_RST_INVALID), 3);
	IN(E, "1.300 R 400:400(0)"); /* a new one-second interval */
	OUT(E, "1.300 . 1:1(0) ack 1 win 65535");
	CHECK_EQ(cnt(E, SYNACK_CNT_TCP_CHALLENGE_ACKS), 3);
	CHECK_EQ(state(E), SYNACK_TCP_ESTABLISHED);
	SEG_END(E);
}

TEST(ack_too_old_challenge_ack)
{
	struct seg_env *E = seg_new(NULL);
	establish(E);
	/* RFC 5961 §5.2: SEG.ACK < SND.UNA - MAX.SND.WND (65535): challenge ACK */
	IN(E, "0.200 . 1:1(0) ack -65535");
	OUT(E, "0.200 . 1:1(0) ack 1 win 65535");
	CHECK_EQ(cnt(E, SYNACK_CNT_TCP_CHALLENGE_ACKS), 1);
	CHECK_EQ(cnt(E, SYNACK_DROP_TCP_BAD_ACK), 1);
	/* data on such a segment is not accepted */
	IN(E, "0.300 P. 1:101(100) ack -70000");
	OUT(E, "0.300 . 1:1(0) ack 1 win 65535");
	uint8_t b;
	CHECK_EQ(synack_tcp_recv(E->conn, &b, 1), -EAGAIN);
	/* an old duplicate inside the bound is accepted: the data is taken */
	IN(E, "0.400 P. 1:101(100) ack -65534");
	OUT(E, "0.600 . 1:1(0) ack 101 win 65535"); /* delayed ACK */
	CHECK_EQ(seg_read_check(E, 1), 100);
	SEG_END(E);
}

TEST(ack_beyond_snd_nxt_acked_and_dropped)
{
	struct seg_env *E = seg_new(NULL);
	establish(E);
	/* RFC 9293 §3.10.7.4 fifth: SEG.ACK > SND.NXT: send an ACK, drop */
	IN(E, "0.200 P. 1:101(100) ack 1000");
	OUT(E, "0.200 . 1:1(0) ack 1 win 65535");
	uint8_t b;
	CHECK_EQ(synack_tcp_recv(E->conn, &b, 1), -EAGAIN);
	CHECK_EQ(cnt(E, SYNACK_DROP_TCP_BAD_ACK), 1);
	CHECK_EQ(state(E), SYNACK_TCP_ESTABLISHED);
	SEG_END(E);
}

TEST(rfc793_mode_rst_in_window_resets)
{
	struct seg_env *E = SEG_NEW_WITH(tcp.rfc5961_rst, 0);
	establish(E);
	IN(E, "0.200 R 1000:1000(0)");
	closed_with(E, -ECONNRESET);
	CHECK_EQ(cnt(E, SYNACK_CNT_TCP_CHALLENGE_ACKS), 0);
	SEG_END(E);
}

TEST(rfc793_mode_syn_in_window_resets)
{
	struct seg_env *E = SEG_NEW_WITH(tcp.rfc5961_syn, 0);
	establish(E);
	/* RFC 793 p.71: a SYN in the window is an error: send a reset, CLOSED
	 * (the ACK field filled like the BSD and Linux stacks) */
	IN(E, "0.200 S 500:500(0) win 65535");
	OUT(E, "0.200 R. 1:1(0) ack 1 win 0");
	closed_with(E, -ECONNRESET);
	CHECK(seg_events(E, E->conn) & SYNACK_EV_RESET);
	CHECK_EQ(cnt(E, SYNACK_CNT_TCP_CHALLENGE_ACKS), 0);
	SEG_END(E);
}

TEST(rfc793_mode_rst_out_of_window_still_dropped)
{
	struct seg_env *E = SEG_NEW_WITH(tcp.rfc5961_rst, 0);
	establish(E);
	IN(E, "0.200 R 400000:400000(0)");
	NONE(E, "1");
	CHECK_EQ(state(E), SYNACK_TCP_ESTABLISHED);
	SEG_END(E);
}

/* ================= sequence numbers across 2^32 (RFC 9293 §3.4) ================= */

TEST(send_side_wraparound)
{
	/* learn the keyed hash F() of RFC 6528 for this 4-tuple at time 0 */
	struct seg_env *E = seg_new_at(NULL, 42, 0);
	AT(E, "0");
	seg_connect(E);
	OUT(E, "0.000 S 0:0(0) win 65535 <mss 1460,sackOK,TS val * ecr 0,nop,wscale 3>");
	uint32_t f = E->iss;
	SEG_END(E);
	/* ISN = t/4 + F: start a fresh stack (same seed, same key, same port)
	 * at the time that puts ISS 0x100 short of 2^32 */
	synack_time_t start = 4 * (synack_time_t)(uint32_t)(0xFFFFFF00u - f);
	E = seg_new_at(NULL, 42, start);
	AT(E, "+0");
	seg_connect(E);
	OUT(E, "+0" SYN_OURS);
	CHECK_EQ(E->iss, 0xFFFFFF00u);
	plain_synack(E, "+0.1");
	send_at(E, "+0.1", 3000);
	OUT(E, "+0 . 1:1001(1000) ack 1 win 65535");
	CHECK_EQ(E->last.seq, 0xFFFFFF01u);
	OUT(E, "+0 . 1001:2001(1000) ack 1 win 65535");
	CHECK_EQ(E->last.seq, 0x000002E9u); /* past the wrap */
	OUT(E, "+0 P. 2001:3001(1000) ack 1 win 65535");
	IN(E, "+0.1 . 1:1(0) ack 1001");
	CHECK_EQ(info(E).snd_una, 0x000002E9u);
	IN(E, "+0 . 1:1(0) ack 3001");
	synack_tcp_info i = info(E);
	CHECK_EQ(i.snd_una, 0x00000AB9u);
	CHECK_EQ(i.bytes_acked, 3000);
	CHECK_EQ(i.send_queued, 0);
	/* and a FIN after the wrap */
	AT(E, "+0.1");
	synack_tcp_shutdown(E->conn, SYNACK_SHUT_WR);
	OUT(E, "+0 F. 3001:3001(0) ack 1 win 65535");
	IN(E, "+0.1 F. 1:1(0) ack 3002");
	OUT(E, "+0 . 3002:3002(0) ack 2 win 65535");
	CHECK_EQ(state(E), SYNACK_TCP_TIME_WAIT);
	SEG_END(E);
}

TEST(receive_side_wraparound)
{
	struct seg_env *E = seg_new(NULL);
	E->pisn = 0xFFFFFA00u; /* the peer's ISN 1536 short of 2^32 */
	establish(E);
	IN(E, "0.200 . 1:1001(1000) ack 1");
	IN(E, "0.200 . 1001:2001(1000) ack 1"); /* crosses 2^32 */
	OUT(E, "0.200 . 1:1(0) ack 2001 win 65535");
	IN(E, "0.300 P. 2001:3001(1000) ack 1");
	OUT(E, "0.500 . 1:1(0) ack 3001 win 65535");
	CHECK_EQ(info(E).rcv_nxt, 0xFFFFFA00u + 3001);
	CHECK_EQ(seg_read_check(E, 1), 3000);
	/* out of order across the wrap */
	IN(E, "0.600 . 4001:5001(1000) ack 1");
	OUT(E, "0.600 . 1:1(0) ack 3001 win 65535");
	IN(E, "0.700 . 3001:4001(1000) ack 1");
	OUT(E, "0.700 . 1:1(0) ack 5001 win 65535");
	CHECK_EQ(seg_read_check(E, 3001), 2000);
	IN(E, "0.800 F. 5001:5001(0) ack 1");
	OUT(E, "0.800 . 1:1(0) ack 5002 win 65535");
	CHECK_EQ(state(E), SYNACK_TCP_CLOSE_WAIT);
	SEG_END(E);
}

/* ================= windows (RFC 7323 §2, RFC 9293 §3.8.6) ================= */

TEST(window_scaling_arithmetic)
{
	struct seg_env *E = seg_new(NULL);
	syn_rcvd_opts(E, "mss 1000,nop,wscale 7", 65535, "mss 1460,nop,wscale 3");
	IN(E, "0.100 . 1:1(0) ack 1 win 50"); /* 50 << 7 = 6400 */
	seg_accept(E);
	CHECK_EQ(info(E).snd_wnd, 6400);
	IN(E, "0.200 P. 1:1001(1000) ack 1 win 50");
	/* (262144 - 1000) >> 3 = 32643 */
	OUT(E, "0.400 . 1:1(0) ack 1001 win 32643");
	send_at(E, "0.500", 8000);
	/* the peer's 6400 bytes: six full segments, SWS avoidance holds the 400 */
	OUT(E, "0.500 . 1:1001(1000) ack 1001 win 32643");
	OUT(E, "0.500 . 1001:2001(1000) ack 1001 win 32643");
	OUT(E, "0.500 . 2001:3001(1000) ack 1001 win 32643");
	OUT(E, "0.500 . 3001:4001(1000) ack 1001 win 32643");
	OUT(E, "0.500 . 4001:5001(1000) ack 1001 win 32643");
	OUT(E, "0.500 . 5001:6001(1000) ack 1001 win 32643");
	IN(E, "0.600 . 1001:1001(0) ack 6001 win 100"); /* 12800 */
	CHECK_EQ(info(E).snd_wnd, 12800);
	OUT(E, "0.600 . 6001:7001(1000) ack 1001 win 32643");
	OUT(E, "0.600 P. 7001:8001(1000) ack 1001 win 32643");
	/* reading 1000 bytes grows the window by less than 2 MSS: no update yet */
	AT(E, "0.700");
	CHECK_EQ(seg_read_check(E, 1), 1000);
	NONE(E, "0.800");
	IN(E, "0.800 . 1001:1001(0) ack 8001 win 100");
	CHECK_EQ(info(E).rcv_wnd, 32768u << 3);
	SEG_END(E);
}

TEST(out_of_order_kept_and_merged)
{
	struct seg_env *E = seg_new(NULL);
	establish(E);
	/* RFC 9293 §3.8.6.3 / RFC 5681 §4.2: out-of-order data is ACKed at once */
	IN(E, "0.200 . 2001:3001(1000) ack 1");
	OUT(E, "0.200 . 1:1(0) ack 1 win 65535");
	IN(E, "0.210 . 1001:2001(1000) ack 1");
	OUT(E, "0.210 . 1:1(0) ack 1 win 65535");
	uint8_t b;
	CHECK_EQ(synack_tcp_recv(E->conn, &b, 1), -EAGAIN);
	/* the hole is filled: one cumulative ACK, at once */
	IN(E, "0.220 . 1:1001(1000) ack 1");
	OUT(E, "0.220 . 1:1(0) ack 3001 win 65535");
	CHECK_EQ(seg_read_check(E, 1), 3000);
	CHECK_EQ(cnt(E, SYNACK_CNT_TCP_OOO_QUEUED), 2);
	CHECK_EQ(info(E).rcv_nxt, E->pisn + 3001);
	SEG_END(E);
}

TEST(duplicate_data_acked_and_counted)
{
	struct seg_env *E = seg_new(NULL);
	establish(E);
	IN(E, "0.200 . 1:1001(1000) ack 1");
	IN(E, "0.200 . 1001:2001(1000) ack 1");
	OUT(E, "0.200 . 1:1(0) ack 2001 win 65535");
	/* a retransmission of data already received: ACK at once, count it */
	IN(E, "0.300 . 1:1001(1000) ack 1");
	OUT(E, "0.300 . 1:1(0) ack 2001 win 65535");
	CHECK_EQ(cnt(E, SYNACK_CNT_TCP_DUP_DATA), 1);
	/* partly old: the new part is kept */
	IN(E, "0.400 P. 1501:2501(1000) ack 1");
	OUT(E, "0.600 . 1:1(0) ack 2501 win 65535");
	CHECK_EQ(seg_read_check(E, 1), 2500);
	SEG_END(E);
}

TEST(data_beyond_window_trimmed)
{
	struct seg_env *E = SEG_NEW_WITH(tcp.rcvbuf, 2500);
	accepted_rwin(E, 2500);
	IN(E, "0.200 . 1:1001(1000) ack 1");
	IN(E, "0.200 . 1001:2001(1000) ack 1");
	OUT(E, "0.200 . 1:1(0) ack 2001 win 500");
	/* RFC 9293 §3.10.7.4 first: only what fits the window is kept */
	IN(E, "0.300 P. 2001:3001(1000) ack 1");
	/* the offered window is used up: acknowledged at once */
	OUT(E, "0.300 . 1:1(0) ack 2501 win 0");
	CHECK_EQ(info(E).recv_queued, 2500);
	/* a segment entirely beyond the (zero) window: ACK, drop */
	IN(E, "0.600 . 2501:2601(100) ack 1");
	OUT(E, "0.600 . 1:1(0) ack 2501 win 0");
	/* reading reopens the window: a window update */
	AT(E, "0.700");
	CHECK_EQ(seg_read_check(E, 1), 2500);
	OUT(E, "0.700 . 1:1(0) ack 2501 win 2500");
	SEG_END(E);
}

/* ================= retransmission: RFC 6298, RFC 5681 ================= */

TEST(rto_from_measured_rtt)
{
	struct seg_env *E = seg_new(NULL);
	establish(E); /* SRTT 100 ms, RTTVAR 50 ms, RTO 300 ms */
	synack_tcp_info i = info(E);
	CHECK_EQ(i.srtt, SYNACK_MSEC(100));
	CHECK_EQ(i.rttvar, SYNACK_MSEC(50));
	CHECK_EQ(i.rto, SYNACK_MSEC(300));
	send_at(E, "1.000", 100);
	OUT(E, "1.000 P. 1:101(100) ack 1 win 65535");
	IN(E, "1.200 . 1:1(0) ack 101");
	/* RFC 6298 §2.3: RTTVAR = 3/4*50 + 1/4*|100-200| = 62.5 ms,
	 * SRTT = 7/8*100 + 1/8*200 = 112.5 ms, RTO = SRTT + 4*RTTVAR = 362.5 ms */
	i = info(E);
	CHECK_EQ(i.srtt, 112500);
	CHECK_EQ(i.rttvar, 62500);
	CHECK_EQ(i.rto, 362500);
	send_at(E, "2.000", 100);
	OUT(E, "2.000 P. 101:201(100) ack 1 win 65535");
	OUT(E, "2.362500 P. 101:201(100) ack 1 win 65535");
	SEG_END(E);
}

TEST(rto_exponential_backoff_and_karn)
{
	struct seg_env *E = seg_new(NULL);
	establish(E);
	send_100_unanswered(E);
	CHECK_EQ(info(E).backoff, 3);
	/* Karn (RFC 6298 §3): the ACK of a retransmitted segment is no sample */
	IN(E, "3.150 . 1:1(0) ack 101");
	synack_tcp_info i = info(E);
	CHECK_EQ(i.srtt, SYNACK_MSEC(100));
	CHECK_EQ(i.rttvar, SYNACK_MSEC(50));
	CHECK_EQ(i.backoff, 0);
	CHECK_EQ(i.retransmits, 3);
	CHECK_EQ(cnt(E, SYNACK_CNT_TCP_RETRANSMITS), 3);
	/* §5.7 keeps the backed-off RTO "until a new sample"; backoff is reset
	 * with new data acknowledged: the next segment times out after 300 ms */
	send_at(E, "4.000", 100);
	OUT(E, "4.000 P. 101:201(100) ack 1 win 65535");
	OUT(E, "4.300 P. 101:201(100) ack 1 win 65535");
	SEG_END(E);
}

TEST(data_retries_exhausted_etimedout)
{
	struct seg_env *E = SEG_NEW_WITH(tcp.data_retries, 3);
	establish(E);
	send_100_unanswered(E);
	state_turns_at(E, "5.499", SYNACK_TCP_ESTABLISHED, "5.500", SYNACK_TCP_CLOSED);
	CHECK_EQ(synack_tcp_error(E->conn), -ETIMEDOUT);
	CHECK(seg_events(E, E->conn) & SYNACK_EV_ERROR);
	CHECK_EQ(synack_tcp_send(E->conn, "x", 1), -ETIMEDOUT);
	CHECK_EQ(cnt(E, SYNACK_CNT_TCP_TIMEOUTS), 1);
	NONE(E, "100");
	synack_tcp_close(E->conn);
	CHECK_EQ(synack_stack_tcb_count(E->st), 1);
	SEG_END(E);
}

TEST(fast_retransmit_on_third_duplicate_ack)
{
	struct seg_env *E = seg_new(NULL);
	establish(E);
	send_at(E, "1.000", 5000);
	OUT(E, "1.000 . 1:1001(1000) ack 1 win 65535");
	OUT(E, "1.000 . 1001:2001(1000) ack 1 win 65535");
	OUT(E, "1.000 . 2001:3001(1000) ack 1 win 65535");
	OUT(E, "1.000 . 3001:4001(1000) ack 1 win 65535");
	OUT(E, "1.000 P. 4001:5001(1000) ack 1 win 65535");
	IN(E, "1.100 . 1:1(0) ack 1001");
	IN(E, "1.101 . 1:1(0) ack 1001");
	IN(E, "1.102 . 1:1(0) ack 1001");
	CHECK_EQ(cnt(E, SYNACK_CNT_TCP_FAST_RETRANSMITS), 0);
	/* RFC 5681 §3.2 step 2: the third duplicate ACK resends SND.UNA's segment */
	IN(E, "1.103 . 1:1(0) ack 1001");
	OUT(E, "1.103 . 1001:2001(1000) ack 1 win 65535");
	CHECK_EQ(cnt(E, SYNACK_CNT_TCP_FAST_RETRANSMITS), 1);
	/* RFC 6582: a partial ACK resends the next hole at once */
	IN(E, "1.200 . 1:1(0) ack 3001");
	OUT(E, "1.200 . 3001:4001(1000) ack 1 win 65535");
	IN(E, "1.300 . 1:1(0) ack 5001");
	NONE(E, "3");
	CHECK_EQ(info(E).send_queued, 0);
	SEG_END(E);
}

/* ================= ACK generation, Nagle, PSH, persist ================= */

TEST(delayed_ack_for_single_segment)
{
	struct seg_env *E = SEG_NEW_WITH(tcp.delack, SYNACK_MSEC(40));
	establish(E);
	IN(E, "0.500 P. 1:101(100) ack 1");
	OUT(E, "0.540 . 1:1(0) ack 101 win 65535");
	CHECK_EQ(cnt(E, SYNACK_CNT_TCP_DELAYED_ACKS), 1);
	/* data the application sends before the timer carries the ACK */
	IN(E, "0.600 P. 101:201(100) ack 1");
	send_at(E, "0.610", 10);
	OUT(E, "0.610 P. 1:11(10) ack 201 win 65535");
	NONE(E, "0.700");
	CHECK_EQ(cnt(E, SYNACK_CNT_TCP_DELAYED_ACKS), 1);
	SEG_END(E);
}

TEST(two_full_segments_acked_at_once)
{
	struct seg_env *E = seg_new(NULL);
	establish(E);
	IN(E, "0.500 . 1:1001(1000) ack 1");
	IN(E, "0.510 . 1001:2001(1000) ack 1");
	/* RFC 9293 §3.8.6.3 / RFC 5681 §4.2: at least every second full segment */
	OUT(E, "0.510 . 1:1(0) ack 2001 win 65535");
	IN(E, "0.520 . 2001:3001(1000) ack 1");
	OUT(E, "0.720 . 1:1(0) ack 3001 win 65535");
	CHECK_EQ(cnt(E, SYNACK_CNT_TCP_DELAYED_ACKS), 1);
	SEG_END(E);
}

TEST(nagle_holds_second_small_write)
{
	struct seg_env *E = seg_new(NULL);
	establish(E);
	send_at(E, "1.000", 100);
	OUT(E, "1.000 P. 1:101(100) ack 1 win 65535");
	send_at(E, "1.010", 100); /* RFC 9293 §3.7.4: small data waits while data is unacknowledged */
	send_at(E, "1.020", 100);
	IN(E, "1.100 . 1:1(0) ack 101");
	OUT(E, "1.100 P. 101:301(200) ack 1 win 65535");
	IN(E, "1.200 . 1:1(0) ack 301");
	SEG_END(E);
}

TEST(nodelay_sends_small_writes_at_once)
{
	struct seg_env *E = seg_new(NULL);
	establish(E);
	CHECK_EQ(synack_tcp_setopt(E->conn, SYNACK_TCP_NODELAY, 1), 0);
	send_at(E, "1.000", 100);
	OUT(E, "1.000 P. 1:101(100) ack 1 win 65535");
	send_at(E, "1.010", 100);
	OUT(E, "1.010 P. 101:201(100) ack 1 win 65535");
	IN(E, "1.100 . 1:1(0) ack 201");
	SEG_END(E);
}

TEST(psh_on_last_segment_of_write)
{
	struct seg_env *E = seg_new(NULL);
	establish(E);
	send_at(E, "1.000", 2500);
	OUT(E, "1.000 . 1:1001(1000) ack 1 win 65535");
	OUT(E, "1.000 . 1001:2001(1000) ack 1 win 65535");
	/* Nagle (RFC 9293 §3.7.4) holds the short tail while data is in flight */
	IN(E, "1.100 . 1:1(0) ack 2001");
	OUT(E, "1.100 P. 2001:2501(500) ack 1 win 65535");
	IN(E, "1.200 . 1:1(0) ack 2501");
	/* with NODELAY the whole write leaves at once, PSH on its last segment */
	synack_tcp_setopt(E->conn, SYNACK_TCP_NODELAY, 1);
	send_at(E, "2.000", 2500);
	OUT(E, "2.000 . 2501:3501(1000) ack 1 win 65535");
	OUT(E, "2.000 . 3501:4501(1000) ack 1 win 65535");
	OUT(E, "2.000 P. 4501:5001(500) ack 1 win 65535");
	IN(E, "2.100 . 1:1(0) ack 5001");
	/* two writes of exactly one segment each: PSH on each */
	send_at(E, "3.000", 1000);
	OUT(E, "3.000 P. 5001:6001(1000) ack 1 win 65535");
	seg_send(E, 1000);
	OUT(E, "3.000 P. 6001:7001(1000) ack 1 win 65535");
	SEG_END(E);
}

TEST(zero_window_persist_probes_backoff_never_give_up)
{
	synack_stack_config cfg;
	seg_config(&cfg);
	cfg.tcp.data_retries = 2; /* probes are not retransmissions: no give up */
	struct seg_env *E = seg_new(&cfg);
	zero_window_first_probe(E);
	IN(E, "1.550 . 1:1(0) ack 1 win 0");
	OUT(E, "2.100 . 1:2(1) ack 1 win 65535");
	IN(E, "2.150 . 1:1(0) ack 1 win 0");
	OUT(E, "3.300 . 1:2(1) ack 1 win 65535");
	IN(E, "3.350 . 1:1(0) ack 1 win 0");
	OUT(E, "5.700 . 1:2(1) ack 1 win 65535");
	IN(E, "5.750 . 1:1(0) ack 1 win 0");
	OUT(E, "10.500 . 1:2(1) ack 1 win 65535");
	IN(E, "10.550 . 1:1(0) ack 1 win 0");
	CHECK_EQ(state(E), SYNACK_TCP_ESTABLISHED);
	CHECK_EQ(cnt(E, SYNACK_CNT_TCP_WINDOW_PROBES), 5);
	CHECK_EQ(cnt(E, SYNACK_CNT_TCP_FAST_RETRANSMITS), 0);
	/* the window opens: the data goes at once */
	IN(E, "11.000 . 1:1(0) ack 1 win 65535");
	OUT(E, "11.000 P. 1:101(100) ack 1 win 65535");
	IN(E, "11.100 . 1:1(0) ack 101");
	CHECK_EQ(info(E).send_queued, 0);
	SEG_END(E);
}

/* Probing goes on while the peer answers (above); a peer that advertised a
 * zero window and then went silent is given up after data_retries
 * unanswered probes, so it cannot pin a connection and its buffers. */
TEST(zero_window_probes_give_up_without_answers)
{
	synack_stack_config cfg;
	seg_config(&cfg);
	cfg.tcp.data_retries = 2;
	cfg.tcp.persist_max = SYNACK_SEC(4);
	struct seg_env *E = seg_new(&cfg);
	zero_window_first_probe(E);
	OUT(E, "2.100 . 1:2(1) ack 1 win 65535");
	AT(E, "3.300");
	closed_with(E, -ETIMEDOUT);
	CHECK_EQ(cnt(E, SYNACK_CNT_TCP_WINDOW_PROBES), 2);
	SEG_END(E);
}

/* ================= timestamps: RFC 7323 ================= */

static uint32_t establish_ts(struct seg_env *E)
{
	syn_rcvd_opts(E, "mss 1012,nop,nop,TS val 100 ecr 0", 65535, "mss 1460,nop,nop,TS val * ecr 100");
	uint32_t tsv = E->last.opt.ts_val;
	INF(E, "0.100 . 1:1(0) ack 1 <nop,nop,TS val 110 ecr %u>", tsv);
	seg_accept(E);
	CHECK(info(E).ts_ok);
	CHECK_EQ(info(E).mss, 1000);
	return tsv;
}

TEST(timestamps_echo_ts_recent)
{
	struct seg_env *E = seg_new(NULL);
	uint32_t tsv = establish_ts(E);
	/* RFC 7323 §5.4: TSval is a millisecond clock */
	IN(E, "0.200 P. 1:101(100) ack 1 <nop,nop,TS val 120 ecr 1>");
	OUT(E, "0.400 . 1:1(0) ack 101 win 65535 <nop,nop,TS val * ecr 120>");
	CHECK_EQ(E->last.opt.ts_val, tsv + 400);
	/* RFC 7323 §4.3: with a delayed ACK, echo the earliest unacknowledged
	 * segment's TSval (TS.Recent only moves for SEG.SEQ =< Last.ACK.sent) */
	IN(E, "0.500 P. 101:201(100) ack 1 <nop,nop,TS val 130 ecr 1>");
	IN(E, "0.510 P. 201:301(100) ack 1 <nop,nop,TS val 140 ecr 1>");
	OUT(E, "0.700 . 1:1(0) ack 301 win 65535 <nop,nop,TS val * ecr 130>");
	/* after a hole: the segment filling it updates TS.Recent */
	IN(E, "0.800 . 401:501(100) ack 1 <nop,nop,TS val 150 ecr 1>");
	OUT(E, "0.800 . 1:1(0) ack 301 win 65535 <nop,nop,TS val * ecr 130>");
	IN(E, "0.810 . 301:401(100) ack 1 <nop,nop,TS val 160 ecr 1>");
	OUT(E, "0.810 . 1:1(0) ack 501 win 65535 <nop,nop,TS val * ecr 160>");
	/* RTT from the echoed TSval (RFC 7323 §4.1) */
	send_at(E, "1.000", 10);
	OUT(E, "1.000 P. 1:11(10) ack 501 win 65535 <nop,nop,TS val * ecr 160>");
	INF(E, "1.050 . 501:501(0) ack 11 <nop,nop,TS val 170 ecr %u>", E->last.opt.ts_val);
	CHECK(info(E).srtt < SYNACK_MSEC(100));
	SEG_END(E);
}

TEST(paws_drops_old_timestamp)
{
	struct seg_env *E = seg_new(NULL);
	establish_ts(E);
	IN(E, "0.200 . 1:1001(1000) ack 1 <nop,nop,TS val 200 ecr 1>");
	IN(E, "0.210 . 1001:2001(1000) ack 1 <nop,nop,TS val 210 ecr 1>");
	OUT(E, "0.210 . 1:1(0) ack 2001 win 65535 <nop,nop,TS val * ecr 200>");
	/* RFC 7323 §5.3 R1: TSval older than TS.Recent: ACK and drop */
	IN(E, "0.300 P. 2001:2101(100) ack 1 <nop,nop,TS val 150 ecr 1>");
	OUT(E, "0.300 . 1:1(0) ack 2001 win 65535 <nop,nop,TS val * ecr 200>");
	CHECK_EQ(cnt(E, SYNACK_DROP_TCP_PAWS), 1);
	CHECK_EQ(seg_read_check(E, 1), 2000);
	/* a RST is not subject to PAWS (RFC 7323 §5.3 R1 note) */
	IN(E, "0.400 R 2001:2001(0) <nop,nop,TS val 5 ecr 1>");
	CHECK_EQ(state(E), SYNACK_TCP_CLOSED);
	SEG_END(E);
}

/* ================= bad input: dropped, counted, never answered ================= */

TEST(malformed_options_dropped)
{
	struct seg_env *E = listening();
	IN(E, "0.000 S 0:0(0) win 65535 <raw 0205>");		  /* MSS with length 5 */
	IN(E, "0.010 S 0:0(0) win 65535 <raw 0201>");		  /* length below 2 */
	IN(E, "0.020 S 0:0(0) win 65535 <nop,nop,raw 080a0000>"); /* TS runs past the header */
	IN(E, "0.030 S 0:0(0) win 65535 <raw 03040000>");	  /* WS with length 4 */
	CHECK_EQ(cnt(E, SYNACK_DROP_TCP_OPTIONS), 4);
	CHECK_EQ(synack_stack_tcb_count(E->st), 1);
	/* an unknown option with a valid length is skipped */
	IN(E, "0.040 S 0:0(0) win 65535 <mss 1000,raw 1e0400ff>");
	OUT(E, "0.040" SYNACK_PLAIN);
	SEG_END(E);
}

TEST(bad_checksum_dropped)
{
	struct seg_env *E = listening();
	IN(E, "0.000 S 0:0(0) win 65535 <mss 1000> badcsum");
	CHECK_EQ(cnt(E, SYNACK_DROP_TCP_CHECKSUM), 1);
	CHECK_EQ(cnt(E, SYNACK_CNT_TCP_IN), 0);
	CHECK_EQ(synack_stack_tcb_count(E->st), 1);
	NONE(E, "1");
	SEG_END(E);
}

TEST(port_zero_dropped)
{
	struct seg_env *E = listening();
	IN(E, "0.000 S 0:0(0) win 65535 sport 0");
	IN(E, "0.010 S 0:0(0) win 65535 dport 0");
	IN(E, "0.020 . 1:1(0) ack 5 dport 0"); /* no RST either */
	CHECK_EQ(cnt(E, SYNACK_DROP_TCP_BAD_PORT), 3);
	CHECK_EQ(cnt(E, SYNACK_CNT_TCP_RESETS_SENT), 0);
	NONE(E, "1");
	SEG_END(E);
}

TEST(syn_fin_dropped)
{
	struct seg_env *E = listening();
	/* drop_synfin: a SYN+FIN never opens a connection */
	IN(E, "0.000 FS 0:0(0) win 65535 <mss 1000>");
	IN(E, "0.010 FSP 0:10(10) win 65535 <mss 1000>");
	CHECK_EQ(cnt(E, SYNACK_DROP_TCP_BAD_FLAGS), 2);
	CHECK_EQ(cnt(E, SYNACK_CNT_TCP_PASSIVE_OPENS), 0);
	CHECK_EQ(synack_stack_tcb_count(E->st), 1);
	NONE(E, "1");
	SEG_END(E);
}

TEST(syn_rst_dropped)
{
	struct seg_env *E = listening();
	IN(E, "0.000 SR 0:0(0) win 65535 <mss 1000>");
	IN(E, "0.010 SR. 0:0(0) ack 1 win 65535");
	CHECK_EQ(cnt(E, SYNACK_DROP_TCP_BAD_FLAGS), 2);
	CHECK_EQ(synack_stack_tcb_count(E->st), 1);
	NONE(E, "1");
	SEG_END(E);
}

TEST(syn_rst_and_syn_fin_on_established_connection)
{
	struct seg_env *E = seg_new(NULL);
	establish(E);
	IN(E, "0.200 SR 1:1(0)");
	IN(E, "0.205 SR. 1:1(0) ack 1");
	CHECK_EQ(cnt(E, SYNACK_DROP_TCP_BAD_FLAGS), 2);
	/* a SYN+FIN on a synchronized connection is a SYN: challenge ACK (RFC 5961 §4.2) */
	IN(E, "0.210 FS. 1:1(0) ack 1");
	OUT(E, "0.210 . 1:1(0) ack 1 win 65535");
	CHECK_EQ(cnt(E, SYNACK_CNT_TCP_CHALLENGE_ACKS), 1);
	CHECK_EQ(state(E), SYNACK_TCP_ESTABLISHED);
	NONE(E, "1");
	SEG_END(E);
}

/* ================= more transitions and edges ================= */

TEST(simultaneous_open_synack_window_not_scaled)
{
	struct seg_env *E = seg_new(NULL);
	syn_sent(E);
	IN(E, "0.010 S 0:0(0) win 1000 <mss 1000,nop,wscale 7>");
	OUT(E, "0.010 S. 0:0(0) ack 1 win 65535 <mss 1460,nop,wscale 3>");
	IN(E, "0.020 S. 0:0(0) ack 1 win 1000 <mss 1000,nop,wscale 7>");
	CHECK_EQ(state(E), SYNACK_TCP_ESTABLISHED);
	/* RFC 7323 §2.2: the window of a <SYN,ACK> is never scaled */
	CHECK_EQ(info(E).snd_wnd, 1000);
	IN(E, "0.030 . 1:1(0) ack 1 win 10");
	CHECK_EQ(info(E).snd_wnd, 10 << 7);
	SEG_END(E);
}

TEST(simultaneous_open_rst_in_synrcvd_refused)
{
	struct seg_env *E = seg_new(NULL);
	crossed_syns(E);
	/* RFC 9293 §3.10.7.4 second: SYN-RECEIVED from an active OPEN: refused */
	IN(E, "0.020 R 1:1(0)");
	closed_with(E, -ECONNREFUSED);
	SEG_END(E);
}

TEST(synrcvd_unacceptable_ack_gets_rst)
{
	struct seg_env *E = seg_new(NULL);
	syn_rcvd(E);
	/* RFC 9293 §3.10.7.4 fifth, SYN-RECEIVED: <SEQ=SEG.ACK><CTL=RST> */
	IN(E, "0.100 . 1:1(0) ack 100");
	OUT(E, "0.100 R 100:100(0) win 0");
	synack_tcp *c;
	CHECK_EQ(synack_tcp_accept(E->listener, &c), -EAGAIN);
	/* the right ACK still completes the handshake */
	IN(E, "0.200 . 1:1(0) ack 1");
	seg_accept(E);
	CHECK_EQ(state(E), SYNACK_TCP_ESTABLISHED);
	SEG_END(E);
}

TEST(data_on_handshake_ack_is_kept)
{
	struct seg_env *E = seg_new(NULL);
	syn_rcvd(E);
	IN(E, "0.100 P. 1:101(100) ack 1");
	OUT(E, "0.300 . 1:1(0) ack 101 win 65535");
	seg_accept(E);
	CHECK(seg_events(E, E->conn) & SYNACK_EV_READABLE);
	CHECK_EQ(seg_read_check(E, 1), 100);
	SEG_END(E);
}

TEST(fin_on_handshake_ack_goes_to_close_wait)
{
	struct seg_env *E = seg_new(NULL);
	syn_rcvd(E);
	IN(E, "0.100 FP. 1:11(10) ack 1");
	OUT(E, "0.100 . 1:1(0) ack 12 win 65535");
	seg_accept(E);
	CHECK_EQ(state(E), SYNACK_TCP_CLOSE_WAIT);
	CHECK_EQ(seg_read_check(E, 1), 10);
	uint8_t b;
	CHECK_EQ(synack_tcp_recv(E->conn, &b, 1), 0);
	SEG_END(E);
}

TEST(out_of_order_fin_waits_for_the_hole)
{
	struct seg_env *E = seg_new(NULL);
	establish(E);
	IN(E, "0.200 F. 101:201(100) ack 1");
	OUT(E, "0.200 . 1:1(0) ack 1 win 65535");
	CHECK_EQ(state(E), SYNACK_TCP_ESTABLISHED);
	IN(E, "0.300 . 1:101(100) ack 1");
	OUT(E, "0.300 . 1:1(0) ack 201 win 65535");
	CHECK_EQ(state(E), SYNACK_TCP_ESTABLISHED); /* the FIN was not kept */
	IN(E, "0.400 F. 201:201(0) ack 1");
	OUT(E, "0.400 . 1:1(0) ack 202 win 65535");
	CHECK_EQ(state(E), SYNACK_TCP_CLOSE_WAIT);
	CHECK_EQ(seg_read_check(E, 1), 200);
	SEG_END(E);
}

TEST(rto_clamped_to_rto_min_and_rto_max)
{
	struct seg_env *E = SEG_NEW_WITH(tcp.rto_max, SYNACK_SEC(4));
	syn_rcvd(E);
	IN(E, "0.010 . 1:1(0) ack 1"); /* RTT 10 ms: SRTT + 4 RTTVAR = 30 ms */
	seg_accept(E);
	CHECK_EQ(info(E).rto, SYNACK_MSEC(200)); /* rto_min */
	send_at(E, "1.000", 10);
	OUT(E, "1.000 P. 1:11(10) ack 1 win 65535");
	OUT(E, "1.200 P. 1:11(10) ack 1 win 65535");
	OUT(E, "1.600 P. 1:11(10) ack 1 win 65535");
	OUT(E, "2.400 P. 1:11(10) ack 1 win 65535");
	OUT(E, "4.000 P. 1:11(10) ack 1 win 65535");
	OUT(E, "7.200 P. 1:11(10) ack 1 win 65535");
	OUT(E, "11.200 P. 1:11(10) ack 1 win 65535"); /* 6.4 s capped to rto_max 4 s */
	OUT(E, "15.200 P. 1:11(10) ack 1 win 65535");
	IN(E, "15.300 . 1:1(0) ack 11");
	SEG_END(E);
}

TEST(initial_window_ten_segments_then_slow_start)
{
	struct seg_env *E = seg_new(NULL);
	establish(E);
	send_at(E, "1.000", 20000);
	/* RFC 6928: IW = min(10*MSS, max(2*MSS, 14600)) = 10000 */
	char line[128];
	for (int k = 0; k < 10; k++) {
		snprintf(line, sizeof line, "1.000 . %d:%d(1000) ack 1 win 65535", 1 + 1000 * k,
			 1001 + 1000 * k);
		OUT(E, line);
	}
	/* RFC 5681 §3.1: one ACK of new data grows cwnd by at most one MSS */
	IN(E, "1.100 . 1:1(0) ack 2001");
	OUT(E, "1.100 . 10001:11001(1000) ack 1 win 65535");
	OUT(E, "1.100 . 11001:12001(1000) ack 1 win 65535");
	OUT(E, "1.100 . 12001:13001(1000) ack 1 win 65535");
	CHECK_EQ(info(E).cwnd, 11000);
	SEG_END(E);
}

TEST(close_with_unread_data_sends_rst)
{
	struct seg_env *E = seg_new(NULL);
	establish(E);
	IN(E, "0.200 P. 1:101(100) ack 1");
	OUT(E, "0.400 . 1:1(0) ack 101 win 65535");
	AT(E, "0.500");
	/* RFC 1122 §4.2.2.13 / RFC 2525: data would be lost: reset */
	synack_tcp_close(E->conn);
	OUT(E, "0.500 R. 1:1(0) ack 101 win 0");
	CHECK_EQ(synack_stack_tcb_count(E->st), 1);
	SEG_END(E);
}

TEST(abort_sends_rst_at_snd_nxt)
{
	struct seg_env *E = seg_new(NULL);
	establish(E);
	send_at(E, "0.500", 100);
	OUT(E, "0.500 P. 1:101(100) ack 1 win 65535");
	/* RFC 9293 §3.10.5: <SEQ=SND.NXT><CTL=RST>, with the ACK field filled */
	synack_tcp_abort(E->conn);
	OUT(E, "0.500 R. 101:101(0) ack 1 win 0");
	CHECK_EQ(synack_stack_tcb_count(E->st), 1);
	NONE(E, "5");
	SEG_END(E);
}

TEST(rst_in_close_wait_resets_in_last_ack_closes)
{
	struct seg_env *E = seg_new(NULL);
	to_close_wait(E);
	AT(E, "0.300");
	synack_tcp_shutdown(E->conn, SYNACK_SHUT_WR);
	OUT(E, "0.300 F. 1:1(0) ack 2 win 65535");
	CHECK_EQ(state(E), SYNACK_TCP_LAST_ACK);
	/* RFC 9293 §3.10.7.4 second: CLOSING, LAST-ACK, TIME-WAIT: close (the
	 * handle still held hears of it) */
	IN(E, "0.400 R 2:2(0)");
	closed_with(E, -ECONNRESET);
	CHECK(seg_events(E, E->conn) & SYNACK_EV_RESET);
	NONE(E, "5");
	SEG_END(E);
}

TEST(fin_wait_2_keeps_receiving)
{
	struct seg_env *E = seg_new(NULL);
	establish(E);
	shut_wr(E, "0.200");
	IN(E, "0.300 . 1:1(0) ack 2");
	CHECK_EQ(state(E), SYNACK_TCP_FIN_WAIT_2);
	CHECK_EQ(synack_tcp_send(E->conn, "x", 1), -EPIPE);
	IN(E, "0.400 . 1:1001(1000) ack 2");
	IN(E, "0.410 . 1001:2001(1000) ack 2");
	OUT(E, "0.410 . 2:2(0) ack 2001 win 65535");
	IN(E, "0.500 FP. 2001:2101(100) ack 2");
	OUT(E, "0.500 . 2:2(0) ack 2102 win 65535");
	CHECK_EQ(state(E), SYNACK_TCP_TIME_WAIT);
	CHECK_EQ(seg_read_check(E, 1), 2100);
	SEG_END(E);
}

TEST(rto_3s_after_synack_retransmission)
{
	struct seg_env *E = seg_new(NULL);
	syn_rcvd(E);
	OUT(E, "1.000" SYNACK_PLAIN);
	IN(E, "1.100 . 1:1(0) ack 1");
	seg_accept(E);
	first_data_rto_3s(E); /* the handshake timed out once */
	SEG_END(E);
}

TEST(rto_3s_after_syn_retransmission)
{
	struct seg_env *E = seg_new(NULL);
	syn_sent(E);
	OUT(E, "1.000" SYN_OURS);
	plain_synack(E, "1.100");
	CHECK_EQ(info(E).srtt, 0); /* Karn */
	first_data_rto_3s(E);
	SEG_END(E);
}

TEST(orphaned_fin_wait_2_times_out)
{
	struct seg_env *E = SEG_NEW_WITH(tcp.fin_wait2_timeout, SYNACK_SEC(10));
	establish(E);
	AT(E, "0.200");
	synack_tcp_close(E->conn);
	OUT(E, "0.200 F. 1:1(0) ack 1 win 65535");
	IN(E, "0.300 . 1:1(0) ack 2");
	CHECK_EQ(synack_stack_tcb_count(E->st), 2);
	NONE(E, "10.299");
	CHECK_EQ(synack_stack_tcb_count(E->st), 2);
	NONE(E, "10.300");
	CHECK_EQ(synack_stack_tcb_count(E->st), 1);
	SEG_END(E);
}

TEST(zero_window_still_takes_acks)
{
	struct seg_env *E = SEG_NEW_WITH(tcp.rcvbuf, 1000);
	accepted_rwin(E, 1000);
	IN(E, "0.200 P. 1:1001(1000) ack 1");
	OUT(E, "0.200 . 1:1(0) ack 1001 win 0"); /* window used up: no delay */
	send_at(E, "0.500", 10);
	OUT(E, "0.500 P. 1:11(10) ack 1001 win 0");
	/* RFC 9293 §3.10.7.4: with RCV.WND zero, valid ACKs are still processed */
	IN(E, "0.600 P. 1001:1101(100) ack 11");
	OUT(E, "0.600 . 11:11(0) ack 1001 win 0");
	CHECK_EQ(info(E).snd_una, E->iss + 11);
	CHECK_EQ(info(E).send_queued, 0);
	SEG_END(E);
}

TEST(synack_resent_for_retransmitted_syn_gives_no_rtt_sample)
{
	struct seg_env *E = seg_new(NULL);
	syn_rcvd(E);
	IN(E, "0.500" SYN_PLAIN);
	OUT(E, "0.500" SYNACK_PLAIN);
	/* RFC 6298 §3 (Karn): this ACK may answer either SYN-ACK */
	IN(E, "0.600 . 1:1(0) ack 1");
	seg_accept(E);
	CHECK_EQ(info(E).srtt, 0);
	CHECK_EQ(info(E).rto, SYNACK_SEC(1));
	SEG_END(E);
}

TEST(syn_option_defaults_and_clamps)
{
	struct seg_env *E = listening();
	/* no MSS option: 536 (RFC 9293 §3.7.1); a shift of 15 is used as 14
	 * (RFC 7323 §2.3); data on the SYN is not queued (the peer resends it) */
	IN(E, "0.000 S 0:10(10) win 65535 <nop,wscale 15>");
	OUT(E, "0.000 S. 0:0(0) ack 1 win 65535 <mss 1460,nop,wscale 3>");
	IN(E, "0.100 . 1:1(0) ack 1 win 1");
	seg_accept(E);
	synack_tcp_info i = info(E);
	CHECK_EQ(i.mss, 536);
	CHECK_EQ(i.snd_wscale, 14);
	CHECK_EQ(i.snd_wnd, 1u << 14);
	CHECK_EQ(i.recv_queued, 0);
	send_at(E, "0.200", 1000);
	OUT(E, "0.200 . 1:537(536) ack 1 win 32768");
	SEG_END(E);
}

TEST(fin_rides_on_last_data_segment)
{
	struct seg_env *E = seg_new(NULL);
	establish(E);
	send_at(E, "1.000", 100);
	OUT(E, "1.000 P. 1:101(100) ack 1 win 65535");
	seg_send(E, 100); /* held by Nagle */
	CHECK_EQ(synack_tcp_shutdown(E->conn, SYNACK_SHUT_WR), 0);
	/* the queued FIN lets the short tail go, and the FIN rides on it */
	OUT(E, "1.000 FP. 101:201(100) ack 1 win 65535");
	IN(E, "1.100 . 1:1(0) ack 202");
	CHECK_EQ(state(E), SYNACK_TCP_FIN_WAIT_2);
	SEG_END(E);
}

TEST(fin_wait_1_fin_retransmitted_with_backoff)
{
	struct seg_env *E = seg_new(NULL);
	establish(E);
	shut_wr(E, "1.000");
	OUT(E, "1.300 F. 1:1(0) ack 1 win 65535");
	OUT(E, "1.900 F. 1:1(0) ack 1 win 65535");
	IN(E, "2.000 . 1:1(0) ack 2");
	CHECK_EQ(state(E), SYNACK_TCP_FIN_WAIT_2);
	CHECK_EQ(info(E).retransmits, 2);
	NONE(E, "10");
	SEG_END(E);
}

/* ================= regressions from review ================= */

/* Run to time t, taking every segment synack sends: how many, the largest
 * frame, and how many were zero-window probes (1 byte). */
struct drained {
	int n, probes;
	size_t max_frame;
};
static struct drained drain_until(struct seg_env *E, synack_time_t t)
{
	struct drained d = {0};
	struct seg_pkt p;
	for (int guard = 0; guard < 1000000; guard++) {
		while (E->qn) {
			seg_pop(E, &p);
			d.n++;
			d.max_frame = p.len > d.max_frame ? p.len : d.max_frame;
			d.probes += p.len == WIRE_IPV4_HDR + WIRE_TCP_HDR + 1;
		}
		synack_time_t next = synack_stack_next_deadline(E->st);
		if (next > t)
			break;
		synack_stack_poll(E->st, next);
	}
	synack_stack_poll(E->st, t);
	while (E->qn)
		seg_pop(E, &p), d.n++;
	E->now = t;
	return d;
}

/* A peer's MSS of 0 with timestamps must not wrap the effective MSS into a
 * segment bigger than the frame buffer (a heap overflow before the fix). */
TEST(tiny_peer_mss_with_timestamps_stays_within_the_mtu)
{
	struct seg_env *E = seg_new(NULL);
	syn_rcvd_opts(E, "mss 0,TS val 100 ecr 0", 65535, "mss 1460,nop,nop,TS val * ecr 100");
	IN(E, "0.100 . 1:1(0) ack 1 win 65535 <nop,nop,TS val 110 ecr 0>");
	seg_accept(E);
	CHECK(info(E).mss >= 8 && info(E).mss <= 1448);
	seg_send(E, 20000);
	struct drained d = drain_until(E, SYNACK_MSEC(150));
	CHECK(d.n > 0);
	CHECK(d.max_frame <= 1500);
	SEG_END(E);
}

/* An RTO while the peer's window is zero must lead to probes, not to
 * silence and a timeout while the peer is alive (RFC 9293 §3.8.6.1). */
TEST(rto_into_a_zero_window_keeps_probing)
{
	struct seg_env *E = seg_new(NULL);
	establish(E);
	seg_send(E, 4000);
	drain_until(E, SYNACK_MSEC(100));
	/* the peer got 1..3000, the last segment was lost, its buffer is full */
	IN(E, "0.200 . 1:1(0) ack 3001 win 0");
	char line[128];
	for (int k = 1; k <= 120; k++) {
		struct drained d = drain_until(E, SYNACK_SEC(k));
		if (d.n) { /* answer each probe: still no room */
			snprintf(line, sizeof line, "%d.000 . 1:1(0) ack 3001 win 0", k);
			IN(E, line);
		}
	}
	CHECK_EQ(state(E), SYNACK_TCP_ESTABLISHED);
	CHECK(cnt(E, SYNACK_CNT_TCP_WINDOW_PROBES) >= 3);
	IN(E, "120.500 . 1:1(0) ack 3001 win 65535");
	struct drained d = drain_until(E, SYNACK_SEC(121));
	CHECK(d.n >= 1); /* the lost segment goes again */
	SEG_END(E);
}

/* After shutdown(SHUT_RD) the window stays open, text is acknowledged and
 * discarded, and the peer's FIN still closes its side. */
TEST(shut_rd_still_takes_the_fin)
{
	struct seg_env *E = seg_new(NULL);
	establish(E);
	CHECK_EQ(synack_tcp_shutdown(E->conn, SYNACK_SHUT_RD), 0);
	IN(E, "0.200 P. 1:101(100) ack 1 win 65535");
	IN(E, "0.200 F. 101:101(0) ack 1 win 65535");
	OUT(E, "0.200 . 1:1(0) ack 102 win 65535");
	CHECK_EQ(state(E), SYNACK_TCP_CLOSE_WAIT);
	CHECK(seg_events(E, E->conn) & SYNACK_EV_PEER_CLOSED);
	uint8_t b[8];
	CHECK_EQ(synack_tcp_recv(E->conn, b, sizeof b), 0);
	SEG_END(E);
}

/* RFC 2018 §4: with SACK permitted, ACKs report the out-of-order data held,
 * the block of the latest segment first; a filled hole ends the blocks. */
TEST(sack_blocks_report_out_of_order_data)
{
	struct seg_env *E = seg_new(NULL);
	syn_rcvd_opts(E, "mss 1000,sackOK", 65535, "mss 1460,nop,nop,sackOK");
	IN(E, "0.100 . 1:1(0) ack 1 win 65535");
	seg_accept(E);
	IN(E, "0.200 . 2001:3001(1000) ack 1 win 65535");
	OUT(E, "0.200 . 1:1(0) ack 1 win 65535 <nop,nop,sack 2001:3001>");
	IN(E, "0.210 . 4001:5001(1000) ack 1 win 65535");
	OUT(E, "0.210 . 1:1(0) ack 1 win 65535 <nop,nop,sack 4001:5001 2001:3001>");
	IN(E, "0.220 . 1:1001(1000) ack 1 win 65535");
	OUT(E, "0.220 . 1:1(0) ack 1001 win 65535 <nop,nop,sack 4001:5001 2001:3001>");
	IN(E, "0.220 . 1001:2001(1000) ack 1 win 65535");
	OUT(E, "0.220 . 1:1(0) ack 3001 win 65535 <nop,nop,sack 4001:5001>");
	IN(E, "0.230 . 3001:4001(1000) ack 1 win 65535");
	OUT(E, "0.230 . 1:1(0) ack 5001 win 65535");
	SEG_END(E);
}
