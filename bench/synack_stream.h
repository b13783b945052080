/* The synack side of the stream job (one connection carrying `total` bytes
 * in STREAM_CHUNK writes and reads), shared by bench/stream.c and
 * bench/lwip.c so that both drive synack the same way.
 *
 * Two stacks on the in-memory link (synack_sim, perfect link, no delay),
 * sender and receiver driven from this one thread. Virtual time follows the
 * wall clock, so a stall on a timer (delayed ACK, RTO) costs real time as
 * it would on a real link. The caller chooses the send and receive buffers,
 * whether they may grow (auto-tuning), and the link MTU; the note line
 * says which were used. Notes and errors start with the caller's tag. */
#ifndef SYNACK_BENCH_SYNACK_STREAM_H
#define SYNACK_BENCH_SYNACK_STREAM_H

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "synack/sim.h"
#include "synack/tcp.h"

#define STREAM_CHUNK (256 * 1024)
#define STREAM_PORT  5001

/* What the application writes from and reads into (both jobs, every side). */
static uint8_t txbuf[STREAM_CHUNK], rxbuf[STREAM_CHUNK];

struct stream_opts {
	const char *tag;
	uint32_t buf;	  /* sndbuf = rcvbuf, bytes */
	int autotune;	  /* 0: the buffers stay at `buf` (rcvbuf_max = sndbuf_max = 0) */
	long mtu;	  /* link MTU; <= 0: the stack's default (1500) */
	const char *note; /* appended to the settings note line */
	int half_close;	  /* 1: SHUT_WR once the last byte is queued, as the kernel
			     sender of bench/stream.c ends (FIN pushes Nagle's tail) */
	int offload;	  /* 1: the link takes checksums and TSO, as the kernel's loopback */
};

struct stream {
	const struct stream_opts *o;
	synack_sim sim;
	synack_tcp *lis, *cli, *srv;
	double t0; /* wall clock origin of virtual time */
	uint64_t total, sent, got;
	int failed, shut;
};

static synack_time_t stream_clock(const struct stream *b)
{
	return (synack_time_t)((wall_sec() - b->t0) * 1e6);
}

static void stream_fail(struct stream *b, const char *what, long rc)
{
	if (!b->failed)
		fprintf(stderr, "%s: synack %s: %s (sent %llu, received %llu)\n", b->o->tag, what,
			strerror((int)-rc), (unsigned long long)b->sent, (unsigned long long)b->got);
	b->failed = 1;
}

/* Drain the event queues; accept the server side; note errors. */
static void stream_events(struct stream *b)
{
	synack_tcp *s;
	uint32_t ev;
	for (int i = 0; i < 2; i++)
		while ((s = synack_stack_next_event(b->sim.stack[i], &ev)) != NULL) {
			if (s == b->lis && !b->srv && synack_tcp_accept(b->lis, &b->srv) == 0)
				continue;
			if (ev & (SYNACK_EV_RESET | SYNACK_EV_ERROR))
				stream_fail(b, "event", synack_tcp_error(s));
		}
}

static void stream_fill(struct stream *b)
{
	while (b->sent < b->total) {
		uint64_t left = b->total - b->sent;
		ssize_t n = synack_tcp_send(b->cli, txbuf, left < STREAM_CHUNK ? left : STREAM_CHUNK);
		if (n == -EAGAIN || n == -ENOTCONN)
			return;
		if (n <= 0) {
			stream_fail(b, "send", n < 0 ? n : -EIO);
			return;
		}
		b->sent += (uint64_t)n;
	}
	if (b->o->half_close && b->sent == b->total && !b->shut) {
		int rc = synack_tcp_shutdown(b->cli, SYNACK_SHUT_WR);
		if (rc < 0)
			stream_fail(b, "shutdown", rc);
		b->shut = 1;
	}
}

static void stream_drain(struct stream *b)
{
	ssize_t n;
	if (!b->srv)
		return;
	while ((n = synack_tcp_recv(b->srv, rxbuf, sizeof rxbuf)) > 0)
		b->got += (uint64_t)n;
	if (n != -EAGAIN && b->got < b->total)
		stream_fail(b, "recv", n < 0 ? n : -EPIPE);
}

static void stream_pump(struct stream *b)
{
	while (!b->failed && b->got < b->total) {
		stream_fill(b);
		synack_sim_step(&b->sim, stream_clock(b));
		stream_events(b);
		stream_drain(b);
	}
}

static int stream_setup(struct stream *b, const struct stream_opts *o, uint64_t total)
{
	synack_stack_config cfg[2];
	memset(b, 0, sizeof *b);
	b->o = o;
	b->total = total;
	for (int i = 0; i < 2; i++) {
		synack_stack_config_init(&cfg[i]);
		cfg[i].addr = synack_addr_ipv4(10, 0, 0, (uint8_t)(i + 1));
		cfg[i].prefix_len = 24;
		cfg[i].tcp.sndbuf = cfg[i].tcp.rcvbuf = o->buf;
		if (!o->autotune)
			cfg[i].tcp.sndbuf_max = cfg[i].tcp.rcvbuf_max = 0;
		if (o->mtu > 0)
			cfg[i].mtu = (uint16_t)o->mtu;
		if (o->offload)
			cfg[i].offload = SYNACK_OFFLOAD_TX_CSUM | SYNACK_OFFLOAD_TSO;
	}
	b->t0 = wall_sec();
	int rc = synack_sim_init(&b->sim, 1, NULL, &cfg[0], &cfg[1]);
	if (rc < 0) {
		fprintf(stderr, "%s: synack_sim_init: %s\n", o->tag, strerror(-rc));
		return -1;
	}
	synack_endpoint ep = {.addr = synack_addr_ipv4(10, 0, 0, 2), .port = STREAM_PORT};
	rc = synack_tcp_listen(b->sim.stack[1], &ep, 8, &b->lis);
	if (rc == 0)
		rc = synack_tcp_connect(b->sim.stack[0], &ep, NULL, &b->cli);
	if (rc < 0) {
		fprintf(stderr, "%s: synack listen/connect: %s\n", o->tag, strerror(-rc));
		synack_sim_destroy(&b->sim);
		return -1;
	}
	fprintf(stderr, "# %s: synack sndbuf=rcvbuf=%u mtu=%ld offload=%s%s\n", o->tag, o->buf,
		o->mtu > 0 ? o->mtu : 1500L, o->offload ? "csum+tso" : "none", o->note);
	return 0;
}

/* Name every non-zero drop and error counter of both stacks. */
static void stream_counters(struct stream *b)
{
	for (int i = 0; i < 2; i++)
		for (int id = 0; id < SYNACK_COUNTER_COUNT; id++) {
			uint64_t v = synack_stack_counter(b->sim.stack[i], id);
			if (v && ((id > SYNACK_DROP_FIRST_ && id < SYNACK_DROP_LAST_) ||
				  id == SYNACK_CNT_TX_ERRORS || id == SYNACK_CNT_TCP_RETRANSMITS))
				fprintf(stderr, " stack%d.%s=%llu", i, synack_counter_name(id),
					(unsigned long long)v);
		}
}

static void stream_report(struct stream *b, double secs)
{
	synack_tcp_info info;
	if (synack_tcp_get_info(b->cli, &info) < 0)
		return;
	fprintf(stderr, "# %s: synack %.3f s, mss=%u cwnd=%u", b->o->tag, secs, info.mss, info.cwnd);
	stream_counters(b);
	fprintf(stderr, "\n");
}

/* MB/s for synack moving `total` bytes, or a negative value on failure. */
static double synack_stream(const struct stream_opts *o, uint64_t total)
{
	static struct stream b;
	if (stream_setup(&b, o, total) < 0)
		return -1;
	double t0 = wall_sec();
	stream_pump(&b);
	double secs = wall_sec() - t0;
	if (!b.failed)
		stream_report(&b, secs);
	synack_tcp_close(b.cli);
	if (b.srv)
		synack_tcp_close(b.srv);
	synack_tcp_close(b.lis);
	synack_sim_destroy(&b.sim);
	return b.failed ? -1 : total / secs / 1e6;
}

#endif
