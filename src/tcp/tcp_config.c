/* synack's own TCP defaults, each chosen from the RFC that governs it. */
#include "tcp/tcp_internal.h"

/* TCP's entry points as the network layer calls them (net_proto). */
const struct net_proto tcp_net_proto = {.proto = WIRE_PROTO_TCP, .input = tcp_input, .error = tcp_icmp_error};

int tcp_config_check(const synack_tcp_config *t)
{
	if (t->sndbuf < 1 || t->rcvbuf < 1 || t->rcvbuf > (1u << 30) || t->sndbuf > (1u << 30))
		return -EINVAL;
	if (t->rcvbuf_max > (1u << 30) || t->sndbuf_max > (1u << 30))
		return -EINVAL;
	if (t->rto_min <= 0 || t->rto_initial <= 0 || t->rto_max < t->rto_min || t->msl < 0 || t->delack < 0)
		return -EINVAL;
	if (t->rto_max > SYNACK_SEC(3600) || t->rto_initial > SYNACK_SEC(3600))
		return -EINVAL; /* (a TCB keeps its RTO in 32 bits of microseconds) */
	if (t->syncookies > 2 || t->ecn > SYNACK_TCP_ECN_ACTIVE)
		return -EINVAL;
	return 0;
}

void synack_tcp_config_defaults(synack_tcp_config *c)
{
	c->msl =
	    SYNACK_SEC(60); /* RFC 9293 §3.4.2: MSL 2 minutes is "an engineering choice"; 60 s like Linux */
	c->rto_initial = SYNACK_SEC(1); /* RFC 6298 §2.1 */
	c->rto_min = SYNACK_MSEC(200);	/* RFC 6298 §2.4 says 1 s SHOULD; 200 ms as deployed stacks */
	c->rto_max = SYNACK_SEC(60);	/* RFC 6298 §2.5: a maximum of at least 60 s */
	c->delack = SYNACK_MSEC(40);	/* RFC 9293 §3.8.6.3: MUST be < 0.5 s; 40 ms as Linux, well under
					   a peer's shortest RTO (200 ms) and its tail loss probe */
	c->persist_min = SYNACK_MSEC(500);
	c->persist_max = SYNACK_SEC(60);
	c->fin_wait2_timeout = SYNACK_SEC(60);
	c->syn_retries = 6; /* RFC 9293 §3.8.3 R2 for SYN: at least 3 minutes overall */
	c->synack_retries = 5;
	c->data_retries = 15; /* RFC 9293 §3.8.3 R2: at least 100 s */
	c->sndbuf = 256 * 1024;
	c->rcvbuf = 256 * 1024;
	c->rcvbuf_max = 6u << 20; /* Linux's tcp_rmem max; 100 Mbit/s at 500 ms */
	c->sndbuf_max = 4u << 20; /* Linux's tcp_wmem max */
	c->buf_grow_total = 256u << 20;
	c->mss_default = 536; /* RFC 9293 §3.7.1 */
	/* holes in one window kept (8 bytes each, allocated as they come):
	 * 1% loss on a 1000-segment window opens about 10, a drop-tail queue
	 * overflowing in slow start can open hundreds; past the limit an
	 * out-of-order segment inside the window is dropped and counted */
	c->ooo_max_ranges = 1024;
	c->wscale_enable = 1;
	c->sack_enable = 1;
	c->ts_enable = 1;
	c->ts_require = 1; /* RFC 7323 §3.2 SHOULD */
	c->frto = 1;
	c->cwv = 1;
	c->cwv_nvp = SYNACK_SEC(300); /* "SHOULD NOT exceed five minutes" */
	c->rfc5961_rst = 1;
	c->rfc5961_syn = 1;
	c->rfc5961_ack = 1;
	c->time_wait_rst_protect = 1;  /* RFC 1337 */
	c->challenge_ack_limit = 1000; /* RFC 5961 §7 */
	c->max_connections = 1u << 20;
	c->drop_synfin = 1;
	c->isn_tick = 4;   /* RFC 6528 §3: a 4-microsecond timer */
	c->syncookies = 1; /* RFC 4987 §3.6: only when the SYN-RECEIVED queue is full, as Linux */
	/* RFC 3168 §6.1.1: answer an ECN-setup SYN but send plain SYNs, as
	 * Linux (tcp_ecn=2) and FreeBSD (ecn.enable=2) do: a path that drops
	 * ECN-setup SYNs then costs the client nothing */
	c->ecn = SYNACK_TCP_ECN_PASSIVE;
}
