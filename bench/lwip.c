/* bench/lwip: synack beside lwIP (Debian's liblwip, raw API), the CRR and
 * stream jobs of bench/crr.c and bench/stream.c, one core.
 *
 *   lwip_crr    synack=<synack> baseline=<lwIP> conn/s
 *   lwip_stream synack=<synack> baseline=<lwIP> MB/s
 *
 * Implementation notes
 * - lwIP is one stack per process (its state is file globals), so its two
 *   ends are two netifs of that one stack, 10.0.0.1 (client) and 10.0.0.2
 *   (server). Each netif's output function copies the IP packet into a new
 *   pbuf (as a driver copies into its NIC; synack's in-memory link copies
 *   each frame too) and queues it for the other netif; the loop delivers
 *   the queue by calling that netif's input (ip_input), never from inside
 *   output, then runs sys_check_timeouts(). The queue is bounded
 *   (LINK_QUEUE packets): a packet that does not fit is dropped and counted.
 * - The client pcbs are bound to the client netif and the listener to the
 *   server's (tcp_bind_netif): lwIP routes by address, and a packet to an
 *   address of the netif it leaves by would be looped back inside lwIP
 *   instead of crossing the link.
 * - Debian builds lwIP with NO_SYS=0 (its lwipopts.h, fixed at build time:
 *   the library's structures depend on it). We use it as NO_SYS=1 is used:
 *   lwip_init() instead of tcpip_init(), so there is no tcpip thread, and
 *   every lwIP call is made from this one thread. Its SYS_ARCH_PROTECT (a
 *   pthread mutex) is still taken around pool and pbuf operations.
 * - Time: lwIP reads sys_now(), milliseconds. Debian's port defines it
 *   (CLOCK_MONOTONIC); the one below interposes it (the library calls it
 *   through its PLT) to add the virtual-time jumps of CRR: wall clock plus
 *   `skew`, as synack's driver does.
 * - CRR and TIME-WAIT: lwIP keeps TIME-WAIT pcbs for 2 * TCP_MSL = 120 s
 *   and picks ephemeral ports in 0xc000-0xfffe (16,383) skipping every port
 *   a pcb holds. When tcp_connect fails for lack of a port (ERR_BUF or
 *   ERR_USE), the exchange in flight is let finish, virtual time advances
 *   2 * TCP_MSL in TCP_TMR_INTERVAL steps (running lwIP's timers at each
 *   step, since its timers tick and do not catch up), which expires every
 *   TIME-WAIT pcb, and the connect is retried. Jumps are counted in the
 *   note. Between runs the same advance clears what the run left, so each
 *   run starts from an empty stack as synack's does.
 * - Same application work as synack's driver: data are copied in on send
 *   (TCP_WRITE_FLAG_COPY) and copied out on receive (pbuf_copy_partial into
 *   a 256 KiB buffer), each received pbuf is acknowledged to the window
 *   with tcp_recved and freed.
 * - synack's side is the driver of crr and stream (bench/synack_crr.h,
 *   bench/synack_stream.h). For stream it runs at lwIP's window and MSS:
 *   send and receive buffers of 65535 bytes without auto-tuning, MTU 1500;
 *   CRR uses synack's defaults, MTU 1500 like lwIP's netifs.
 *
 * Env: BENCH_QUICK=1 (5,000 connections, 64 MiB), BENCH_CRR_N,
 * BENCH_STREAM_MB, BENCH_REPEAT (best of, default 3). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "synack_crr.h"
#include "synack_stream.h"

#include "lwip/init.h"
#include "lwip/ip.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/priv/tcp_priv.h" /* TCP_MSL, TCP_TMR_INTERVAL: constants only */
#include "lwip/sys.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"

#define LINK_MTU   1500
#define LINK_QUEUE 4096 /* packets in flight on the link, both ways */
#define LW_ADDR(i) PP_HTONL(LWIP_MAKEU32(10, 0, 0, (i) + 1))

/* lwIP's error as text: lwip_strerr() is empty without LWIP_DEBUG. */
static const char *lw_strerr(err_t e)
{
	static char buf[64];
	snprintf(buf, sizeof buf, "err_t %d (%s)", e, strerror(err_to_errno(e)));
	return buf;
}

/* ---- the link: two netifs, a queue, sys_now ---- */

struct link_pkt {
	struct netif *to;
	struct pbuf *p;
};

static struct {
	struct netif nif[2]; /* 0: client 10.0.0.1, 1: server 10.0.0.2 */
	struct link_pkt q[LINK_QUEUE];
	size_t head, len;
	unsigned long drops, packets;
	double t0;	    /* wall clock origin of sys_now */
	unsigned long skew; /* milliseconds added by TIME-WAIT jumps */
} lw;

/* lwIP's clock: the wall clock plus the jumps. */
u32_t sys_now(void)
{
	if (lw.t0 == 0)
		lw.t0 = wall_sec();
	return (u32_t)((wall_sec() - lw.t0) * 1e3) + (u32_t)lw.skew;
}

/* netif->output: copy the packet (lwIP keeps `p` for retransmission and
 * the receiver would move its payload pointer) and queue it for the peer.
 * The copy is a PBUF_RAM pbuf (malloc), not PBUF_POOL: in Debian's build
 * pbuf_alloc fills a pool pbuf up to PBUF_POOL_BUFSIZE (1536) bytes while
 * the pool's elements (memp_pools, malloc'd: MEMP_MEM_MALLOC) hold 592,
 * so a pool pbuf over 592 bytes overruns its heap block (valgrind). */
static err_t link_output(struct netif *nif, struct pbuf *p, const ip4_addr_t *dst)
{
	if (lw.len == LINK_QUEUE) {
		lw.drops++;
		return ERR_OK; /* a full queue drops, as a NIC ring does */
	}
	struct pbuf *c = pbuf_alloc(PBUF_RAW, p->tot_len, PBUF_RAM);
	if (!c)
		return ERR_MEM;
	if (pbuf_copy(c, p) != ERR_OK) {
		pbuf_free(c);
		return ERR_MEM;
	}
	struct link_pkt *k = &lw.q[(lw.head + lw.len++) % LINK_QUEUE];
	k->to = nif == &lw.nif[0] ? &lw.nif[1] : &lw.nif[0];
	k->p = c;
	lw.packets++;
	return ERR_OK;
}

static err_t link_netif_init(struct netif *nif)
{
	nif->name[0] = 'm';
	nif->name[1] = nif == &lw.nif[0] ? '0' : '1';
	nif->mtu = LINK_MTU;
	nif->output = link_output;
	nif->flags = 0; /* point to point: no ARP, no broadcast */
	return ERR_OK;
}

/* Deliver the packets queued now (those their input queues wait for the
 * next call), then run lwIP's due timers. */
static void link_poll(void)
{
	for (size_t n = lw.len; n > 0; n--) {
		struct link_pkt k = lw.q[lw.head];
		lw.head = (lw.head + 1) % LINK_QUEUE;
		lw.len--;
		if (k.to->input(k.p, k.to) != ERR_OK)
			pbuf_free(k.p);
	}
	sys_check_timeouts();
}

/* Advance lwIP's clock by 2 * TCP_MSL (+ a second), TCP_TMR_INTERVAL at a
 * time, with its timers run at each step: every TIME-WAIT pcb expires. */
static void lw_expire_time_wait(void)
{
	for (unsigned long ms = 0; ms < 2 * TCP_MSL + 1000; ms += TCP_TMR_INTERVAL) {
		lw.skew += TCP_TMR_INTERVAL;
		link_poll();
	}
}

static int lw_setup(void)
{
	lwip_init();
	for (int i = 0; i < 2; i++) {
		ip4_addr_t a, mask, gw;
		ip4_addr_set_u32(&a, LW_ADDR(i));
		ip4_addr_set_u32(&mask, PP_HTONL(0xffffff00UL));
		ip4_addr_set_u32(&gw, LW_ADDR(1 - i));
		if (!netif_add(&lw.nif[i], &a, &mask, &gw, NULL, link_netif_init, ip_input)) {
			fprintf(stderr, "lwip: netif_add failed\n");
			return -1;
		}
		netif_set_up(&lw.nif[i]);
		netif_set_link_up(&lw.nif[i]);
	}
	return 0;
}

/* A listening pcb on the server netif, or NULL (printed). */
static struct tcp_pcb *lw_listen(u16_t port, tcp_accept_fn accept, void *arg, const char *tag)
{
	struct tcp_pcb *pcb = tcp_new();
	if (!pcb) {
		fprintf(stderr, "%s: lwIP tcp_new failed\n", tag);
		return NULL;
	}
	ip_set_option(pcb, SOF_REUSEADDR); /* the previous run's server may be in LAST-ACK */
	tcp_bind_netif(pcb, &lw.nif[1]);
	err_t e = tcp_bind(pcb, netif_ip_addr4(&lw.nif[1]), port);
	struct tcp_pcb *lpcb = e == ERR_OK ? tcp_listen_with_backlog(pcb, 255) : NULL;
	if (!lpcb) {
		fprintf(stderr, "%s: lwIP tcp_bind/tcp_listen failed: %s\n", tag, lw_strerr(e));
		tcp_close(pcb);
		return NULL;
	}
	tcp_arg(lpcb, arg);
	tcp_accept(lpcb, accept);
	return lpcb;
}

/* Copy a received chain out (the application's read), give its bytes back
 * to the window and free it; returns the bytes copied. A chain holds at
 * most 65535 bytes (tot_len is a u16_t), so rxbuf takes it whole. */
_Static_assert(sizeof rxbuf > 0xffff, "rxbuf holds any pbuf chain");
static u16_t lw_consume(struct tcp_pcb *pcb, struct pbuf *p)
{
	u16_t n = pbuf_copy_partial(p, rxbuf, p->tot_len, 0);
	tcp_recved(pcb, p->tot_len);
	pbuf_free(p);
	return n;
}

/* ---- lwIP CRR ---- */

struct lw_crr {
	struct tcp_pcb *lis;
	struct tcp_pcb *cli; /* the client connection in progress, or NULL */
	long done, open_srv, jumps;
	int exhausted; /* the last connect found no port: expire TIME-WAIT first */
	int failed;
};

static void lw_crr_fail(struct lw_crr *b, const char *what, err_t e)
{
	if (!b->failed)
		fprintf(stderr, "lwip_crr: lwIP %s: %s (after %ld connections)\n", what, lw_strerr(e),
			b->done);
	b->failed = 1;
}

static void lw_srv_err(void *arg, err_t e)
{
	struct lw_crr *b = arg;
	b->open_srv--;
	lw_crr_fail(b, "server connection error", e);
}

/* Server: echo the request; close when the client's FIN arrives. */
static err_t lw_srv_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t e)
{
	struct lw_crr *b = arg;
	if (p) {
		u16_t n = lw_consume(pcb, p);
		err_t w = tcp_write(pcb, rxbuf, n, TCP_WRITE_FLAG_COPY);
		if (w != ERR_OK)
			lw_crr_fail(b, "server tcp_write", w);
		return ERR_OK; /* tcp_input sends it (with the ACK) when we return */
	}
	tcp_arg(pcb, NULL);
	tcp_recv(pcb, NULL);
	tcp_err(pcb, NULL);
	b->open_srv--;
	err_t c = tcp_close(pcb);
	if (c != ERR_OK) {
		lw_crr_fail(b, "server tcp_close", c);
		tcp_abort(pcb);
		return ERR_ABRT;
	}
	return ERR_OK;
}

static err_t lw_srv_accept(void *arg, struct tcp_pcb *pcb, err_t e)
{
	struct lw_crr *b = arg;
	if (e != ERR_OK || !pcb) {
		lw_crr_fail(b, "accept", e);
		return ERR_VAL;
	}
	b->open_srv++;
	tcp_arg(pcb, b);
	tcp_recv(pcb, lw_srv_recv);
	tcp_err(pcb, lw_srv_err);
	return ERR_OK;
}

static void lw_cli_err(void *arg, err_t e)
{
	struct lw_crr *b = arg;
	b->cli = NULL; /* lwIP has freed it */
	lw_crr_fail(b, "client connection error", e);
}

static err_t lw_cli_connected(void *arg, struct tcp_pcb *pcb, err_t e)
{
	struct lw_crr *b = arg;
	err_t w = tcp_write(pcb, "q", 1, TCP_WRITE_FLAG_COPY);
	if (w != ERR_OK)
		lw_crr_fail(b, "client tcp_write", w);
	return ERR_OK;
}

/* Client: the response ends the exchange; close (FIN), pcb to lwIP. */
static err_t lw_cli_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t e)
{
	struct lw_crr *b = arg;
	if (!p)
		lw_crr_fail(b, "client: peer closed first", ERR_CLSD);
	else if (lw_consume(pcb, p) != 1)
		lw_crr_fail(b, "client recv", ERR_VAL);
	tcp_arg(pcb, NULL);
	tcp_recv(pcb, NULL);
	tcp_err(pcb, NULL);
	b->cli = NULL;
	b->done++;
	err_t c = tcp_close(pcb);
	if (c != ERR_OK) {
		lw_crr_fail(b, "client tcp_close", c);
		tcp_abort(pcb);
		return ERR_ABRT;
	}
	return ERR_OK;
}

static void lw_cli_start(struct lw_crr *b)
{
	struct tcp_pcb *pcb = tcp_new();
	if (!pcb) {
		lw_crr_fail(b, "tcp_new", ERR_MEM);
		return;
	}
	tcp_arg(pcb, b);
	tcp_recv(pcb, lw_cli_recv);
	tcp_err(pcb, lw_cli_err);
	tcp_bind_netif(pcb, &lw.nif[0]);
	b->cli = pcb;
	err_t e = tcp_connect(pcb, netif_ip_addr4(&lw.nif[1]), CRR_PORT, lw_cli_connected);
	if (e == ERR_OK)
		return;
	b->cli = NULL;
	tcp_err(pcb, NULL); /* tcp_abort reports ERR_ABRT to it */
	tcp_abort(pcb);	    /* never registered: freed without a RST */
	if (e == ERR_BUF || e == ERR_USE)
		b->exhausted = 1;
	else
		lw_crr_fail(b, "tcp_connect", e);
}

static void lw_crr_pump(struct lw_crr *b, long target)
{
	while (!b->failed && (b->done < target || b->open_srv > 0 || b->cli || lw.len > 0)) {
		if (b->exhausted && !b->cli && b->open_srv == 0 && lw.len == 0) {
			lw_expire_time_wait();
			b->exhausted = 0;
			b->jumps++;
		}
		if (!b->cli && !b->exhausted && b->done < target)
			lw_cli_start(b);
		link_poll();
	}
}

/* Connections per second for lwIP, or a negative value on failure. */
static double lwip_crr(long n)
{
	static struct lw_crr b;
	memset(&b, 0, sizeof b);
	b.lis = lw_listen(CRR_PORT, lw_srv_accept, &b, "lwip_crr");
	if (!b.lis)
		return -1;
	unsigned long drops0 = lw.drops;
	lw_crr_pump(&b, CRR_WARMUP);
	double t0 = wall_sec();
	lw_crr_pump(&b, CRR_WARMUP + n);
	double secs = wall_sec() - t0;
	if (!b.failed)
		fprintf(stderr,
			"# lwip_crr: lwIP %ld connections in %.3f s, %ld TIME-WAIT expiry jumps, %lu "
			"link drops\n",
			n, secs, b.jumps, lw.drops - drops0);
	tcp_close(b.lis); /* a listener closes at once */
	lw_expire_time_wait();
	return b.failed ? -1 : n / secs;
}

/* ---- lwIP stream ---- */

struct lw_stream {
	struct tcp_pcb *lis, *cli, *srv;
	int connected, failed, shut;
	uint64_t total, sent, got;
};

static void lw_stream_fail(struct lw_stream *b, const char *what, err_t e)
{
	if (!b->failed)
		fprintf(stderr, "lwip_stream: lwIP %s: %s (sent %llu, received %llu)\n", what, lw_strerr(e),
			(unsigned long long)b->sent, (unsigned long long)b->got);
	b->failed = 1;
}

/* lwIP has freed the pcb when it calls these. */
static void lw_stream_cli_err(void *arg, err_t e)
{
	struct lw_stream *b = arg;
	b->cli = NULL;
	lw_stream_fail(b, "sender connection error", e);
}

static void lw_stream_srv_err(void *arg, err_t e)
{
	struct lw_stream *b = arg;
	b->srv = NULL;
	lw_stream_fail(b, "receiver connection error", e);
}

static err_t lw_stream_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t e)
{
	struct lw_stream *b = arg;
	if (!p) { /* the sender's FIN, after the run */
		tcp_arg(pcb, NULL);
		tcp_recv(pcb, NULL);
		tcp_err(pcb, NULL);
		b->srv = NULL;
		if (tcp_close(pcb) != ERR_OK) {
			tcp_abort(pcb);
			return ERR_ABRT;
		}
		return ERR_OK;
	}
	b->got += lw_consume(pcb, p);
	return ERR_OK;
}

/* The sender reads nothing; the receiver's FIN waits for our tcp_close. */
static err_t lw_stream_cli_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t e)
{
	if (p)
		lw_consume(pcb, p);
	return ERR_OK;
}

static err_t lw_stream_accept(void *arg, struct tcp_pcb *pcb, err_t e)
{
	struct lw_stream *b = arg;
	if (e != ERR_OK || !pcb || b->srv) {
		lw_stream_fail(b, "accept", e != ERR_OK ? e : ERR_VAL);
		return ERR_VAL;
	}
	b->srv = pcb;
	tcp_arg(pcb, b);
	tcp_recv(pcb, lw_stream_recv);
	tcp_err(pcb, lw_stream_srv_err);
	return ERR_OK;
}

static err_t lw_stream_connected(void *arg, struct tcp_pcb *pcb, err_t e)
{
	((struct lw_stream *)arg)->connected = 1;
	return ERR_OK;
}

/* Write what the send buffer takes (the application's send), then push;
 * half-close once the last byte is queued, as both other senders do. */
static void lw_stream_fill(struct lw_stream *b)
{
	uint64_t sent0 = b->sent;
	while (b->sent < b->total) {
		size_t off = b->sent % STREAM_CHUNK;
		uint64_t n = b->total - b->sent;
		n = n < STREAM_CHUNK - off ? n : STREAM_CHUNK - off;
		n = n < tcp_sndbuf(b->cli) ? n : tcp_sndbuf(b->cli);
		if (n == 0)
			break;
		err_t e = tcp_write(b->cli, txbuf + off, (u16_t)n, TCP_WRITE_FLAG_COPY);
		if (e == ERR_MEM)
			break; /* the segment queue is full (TCP_SND_QUEUELEN) */
		if (e != ERR_OK) {
			lw_stream_fail(b, "tcp_write", e);
			return;
		}
		b->sent += n;
	}
	err_t e = b->sent > sent0 ? tcp_output(b->cli) : ERR_OK;
	if (e != ERR_OK)
		lw_stream_fail(b, "tcp_output", e);
	if (b->sent == b->total && !b->shut) {
		e = tcp_shutdown(b->cli, 0, 1); /* FIN: Nagle lets the last segment go */
		if (e == ERR_OK)
			b->shut = 1;
		else if (e != ERR_MEM) /* ERR_MEM: no room for the FIN yet */
			lw_stream_fail(b, "tcp_shutdown", e);
	}
}

static int lw_stream_setup(struct lw_stream *b, uint64_t total)
{
	memset(b, 0, sizeof *b);
	b->total = total;
	b->lis = lw_listen(STREAM_PORT, lw_stream_accept, b, "lwip_stream");
	b->cli = b->lis ? tcp_new() : NULL;
	if (!b->cli) {
		if (b->lis)
			tcp_close(b->lis);
		fprintf(stderr, "lwip_stream: lwIP set-up failed\n");
		return -1;
	}
	tcp_arg(b->cli, b);
	tcp_err(b->cli, lw_stream_cli_err);
	tcp_recv(b->cli, lw_stream_cli_recv);
	tcp_bind_netif(b->cli, &lw.nif[0]);
	err_t e = tcp_connect(b->cli, netif_ip_addr4(&lw.nif[1]), STREAM_PORT, lw_stream_connected);
	if (e != ERR_OK) {
		fprintf(stderr, "lwip_stream: lwIP tcp_connect: %s\n", lw_strerr(e));
		tcp_abort(b->cli);
		tcp_close(b->lis);
		return -1;
	}
	return 0;
}

/* Close both ends and run until the link is quiet. */
static void lw_stream_close(struct lw_stream *b)
{
	if (b->cli) {
		tcp_arg(b->cli, NULL);
		tcp_err(b->cli, NULL);
		tcp_recv(b->cli, NULL);
		if (tcp_close(b->cli) != ERR_OK)
			tcp_abort(b->cli);
	}
	tcp_close(b->lis);
	for (int i = 0; i < 100 && (lw.len > 0 || b->srv); i++)
		link_poll();
	lw_expire_time_wait();
}

/* MB/s for lwIP, or a negative value on failure. */
static double lwip_stream(uint64_t total)
{
	static struct lw_stream b;
	if (lw_stream_setup(&b, total) < 0)
		return -1;
	unsigned long drops0 = lw.drops;
	double t0 = wall_sec();
	while (!b.failed && b.got < b.total) {
		if (b.connected && b.cli)
			lw_stream_fill(&b);
		link_poll();
	}
	double secs = wall_sec() - t0;
	if (!b.failed)
		fprintf(stderr, "# lwip_stream: lwIP %.3f s, mss=%u cwnd=%u, %lu link drops\n", secs,
			b.cli ? tcp_mss(b.cli) : 0, b.cli ? (unsigned)b.cli->cwnd : 0, lw.drops - drops0);
	lw_stream_close(&b);
	return b.failed ? -1 : total / secs / 1e6;
}

/* ---- main ---- */

static void note_options(long n, long mb)
{
	fprintf(stderr,
		"# lwip: lwIP %s (Debian liblwip, options fixed at its build): NO_SYS=%d used without "
		"the tcpip thread, TCP_WND=%u (window scale %d) TCP_SND_BUF=%u TCP_MSS=%u "
		"TCP_SND_QUEUELEN=%u, MEM_LIBC_MALLOC=%d MEMP_MEM_MALLOC=%d (so MEM_SIZE=%u, "
		"MEMP_NUM_TCP_PCB=%u and PBUF_POOL_SIZE=%u are no limits: malloc), "
		"PBUF_POOL_BUFSIZE=%u, netif MTU %d, timestamps %d, SACK %d\n",
		LWIP_VERSION_STRING, NO_SYS, (unsigned)TCP_WND, TCP_RCV_SCALE, (unsigned)TCP_SND_BUF,
		(unsigned)TCP_MSS, (unsigned)TCP_SND_QUEUELEN, MEM_LIBC_MALLOC, MEMP_MEM_MALLOC,
		(unsigned)MEM_SIZE, (unsigned)MEMP_NUM_TCP_PCB, (unsigned)PBUF_POOL_SIZE,
		(unsigned)PBUF_POOL_BUFSIZE, LINK_MTU, LWIP_TCP_TIMESTAMPS, LWIP_TCP_SACK_OUT);
	fprintf(stderr,
		"# lwip: synack: crr as bench/crr (default buffers, MTU %d); stream sndbuf=rcvbuf=%u "
		"without auto-tuning, MTU %d (MSS 1460, 1448 of data with timestamps), SACK, "
		"timestamps, CUBIC; N=%ld connections after %d warm-up, %ld MiB\n",
		LINK_MTU, (unsigned)TCP_WND, LINK_MTU, n, CRR_WARMUP, mb);
}

int main(void)
{
	int quick = env_long("BENCH_QUICK", 0) != 0;
	long n = env_long("BENCH_CRR_N", quick ? 5000 : 20000);
	long mb = env_long("BENCH_STREAM_MB", quick ? 64 : 1024);
	long reps = env_long("BENCH_REPEAT", 3);
	uint64_t total = (uint64_t)mb << 20;
	int cpu = pin_here("lwip");
	if (cpu < 0 || n <= 0 || mb <= 0 || lw_setup() < 0)
		return 1;
	for (size_t i = 0; i < sizeof txbuf; i++)
		txbuf[i] = (uint8_t)(i * 7 + 1);
	note_options(n, mb);
	fprintf(stderr, "# lwip: pinned to CPU %d, best of %ld\n", cpu, reps);
	struct stream_opts so = {
	    .tag = "lwip_stream",
	    .buf = TCP_WND,
	    .autotune = 0,
	    .mtu = LINK_MTU,
	    .note = " (lwIP: TCP_WND=TCP_SND_BUF=65535, MSS 1460)",
	    .half_close = 1,
	};
	double lc = 0, sc = 0, ls = 0, ss = 0;
	/* best of `reps` runs: load from other processes only slows */
	for (long r = reps; r > 0; r--) {
		lc = best_of(lc, lwip_crr(n));
		sc = best_of(sc, synack_crr("lwip_crr", n, 0));
	}
	print_figure("lwip_crr", sc, lc, 0, "conn/s");
	fflush(stdout);
	for (long r = reps; r > 0; r--) {
		ls = best_of(ls, lwip_stream(total));
		ss = best_of(ss, synack_stream(&so, total));
	}
	print_figure("lwip_stream", ss, ls, 1, "MB/s");
	fflush(stdout);
	return sc > 0 && lc > 0 && ss > 0 && ls > 0 ? 0 : 1;
}
