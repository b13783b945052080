/* two_stacks.c: two synack stacks joined by the in-memory link, on a clock
 * this program owns. A client connects, sends a line and half-closes; the
 * server answers in capitals and closes; both sides tear down. Every
 * segment sent and every state change is printed from the stacks' trace.
 *
 * Nothing here touches the OS: no descriptor, no real time, no OS
 * randomness. Time is a variable advanced from one deadline to the next,
 * so the two minutes of TIME-WAIT pass in no wall time and every run
 * prints the same lines.
 *
 *   cc two_stacks.c $(pkg-config --cflags --libs synack) -o two_stacks
 *   ./two_stacks
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <synack/synack.h>

enum { CLIENT = 0, SERVER = 1, PORT = 7 };

struct side {
	const char *name;
	synack_stack *st;
	synack_prng prng;     /* this stack's randomness (seeded: reproducible) */
	synack_tcp *listener; /* the server's listening handle */
	synack_tcp *conn;     /* the connection handle we hold, or NULL */
	char got[64];	      /* what we have read so far */
	size_t ngot;
};

static synack_time_t now; /* THE clock, in microseconds */
static int failed;

#define SAY(s, ...) (printf("%10.6f s  %-6s  ", now / 1e6, (s)->name), printf(__VA_ARGS__), putchar('\n'))

/* The link calls this for every frame that arrives at a port; `when` is
 * the frame's arrival time. The stack borrows the frame for the call. */
static void rx(void *stack, const uint8_t *frame, size_t len, synack_time_t when)
{
	synack_stack_input(stack, frame, len, when);
}

/* Read everything there is. Returns 1 once the peer has closed and all
 * was read (recv() == 0), 0 if more may come, -1 on an error. */
static int read_all(struct side *s)
{
	for (;;) {
		char buf[64];
		ssize_t n = synack_tcp_recv(s->conn, buf, sizeof buf);
		if (n == -EAGAIN) /* nothing more now: wait for EV_READABLE */
			return 0;
		if (n <= 0)
			return n == 0 ? 1 : -1;
		size_t room = sizeof s->got - 1 - s->ngot, k = (size_t)n < room ? (size_t)n : room;
		memcpy(s->got + s->ngot, buf, k);
		s->ngot += k;
	}
}

/* Collect the events the last input/poll/API calls left, until none. */
static void handle_events(struct side *s)
{
	synack_tcp *c;
	uint32_t ev;
	while ((c = synack_stack_next_event(s->st, &ev))) {
		if (c == s->listener && (ev & SYNACK_EV_ACCEPTABLE)) {
			synack_endpoint peer;
			if (synack_tcp_accept(s->listener, &s->conn) < 0)
				continue;
			synack_tcp_endpoints(s->conn, NULL, &peer); /* the handle is ours now */
			char a[64];
			SAY(s, "accept() -> connection from %s port %u",
			    synack_addr_format(&peer.addr, a, sizeof a), peer.port);
			continue; /* accept() queued the new handle's first events */
		}
		if (ev & (SYNACK_EV_RESET | SYNACK_EV_ERROR)) {
			SAY(s, "error: %s", strerror(-synack_tcp_error(c)));
			synack_tcp_abort(c); /* releases the handle */
			s->conn = NULL;
			failed = 1;
			continue;
		}
		if (ev & SYNACK_EV_CONNECTED) {
			synack_tcp_info ti;
			synack_tcp_get_info(c, &ti);
			SAY(s, "connected: mss %u, window scale %u/%u, sack %u, timestamps %u", ti.mss,
			    ti.snd_wscale, ti.rcv_wscale, ti.sack_ok, ti.ts_ok);
			const char *hello = "hello, server";
			ssize_t n =
			    synack_tcp_send(c, hello, strlen(hello)); /* copied into the send buffer */
			synack_tcp_shutdown(c, SYNACK_SHUT_WR);	      /* FIN after the data */
			SAY(s, "send() took %zd bytes; shutdown(SHUT_WR)", n);
		}
		if (!(ev & SYNACK_EV_READABLE) || !s->conn)
			continue;
		int r = read_all(s);
		if (r == 0) /* more to come */
			continue;
		if (r < 0) { /* the connection failed while we read */
			SAY(s, "recv() error: %s", strerror(-synack_tcp_error(c)));
			synack_tcp_abort(c);
			s->conn = NULL;
			failed = 1;
			continue;
		}
		s->got[s->ngot] = '\0';
		SAY(s, "received \"%s\", then the peer's FIN (recv() returned 0)", s->got);
		if (s->listener) { /* the server answers, then closes */
			for (size_t i = 0; i < s->ngot; i++)
				if (s->got[i] >= 'a' && s->got[i] <= 'z')
					s->got[i] = (char)(s->got[i] - 'a' + 'A');
			synack_tcp_send(c, s->got, s->ngot);
		}
		/* Graceful close: FIN after queued data. The handle is invalid
		 * from here on; the stack finishes the exchange and frees it. */
		SAY(s, "close()");
		synack_tcp_close(c);
		s->conn = NULL;
	}
}

static void print_trace(struct side *s)
{
	synack_trace_rec r[32];
	size_t n;
	while ((n = synack_stack_trace_drain(s->st, r, 32)) > 0)
		for (size_t i = 0; i < n; i++) {
			const synack_trace_seg *g = &r[i].seg;
			if (r[i].kind == SYNACK_TRACE_STATE)
				printf("%10.6f s  %-6s    conn %u: %s -> %s\n", r[i].time / 1e6, s->name,
				       r[i].conn_id, synack_tcp_state_name(r[i].old_state),
				       synack_tcp_state_name(r[i].new_state));
			else if (r[i].kind == SYNACK_TRACE_SEG_OUT)
				printf("%10.6f s  %-6s    sends%s%s%s%s len %u\n", r[i].time / 1e6, s->name,
				       g->flags & SYNACK_TCP_SYN ? " SYN" : "",
				       g->flags & SYNACK_TCP_FIN ? " FIN" : "",
				       g->flags & SYNACK_TCP_RST ? " RST" : "",
				       g->flags & SYNACK_TCP_ACK ? " ACK" : "", g->len);
			else if (r[i].kind == SYNACK_TRACE_DROP)
				printf("%10.6f s  %-6s    dropped a frame: %s\n", r[i].time / 1e6, s->name,
				       synack_counter_name((enum synack_counter)r[i].note));
		}
}

int main(void)
{
	struct side side[2] = {{.name = "client"}, {.name = "server"}};
	synack_impair wire = {.delay = SYNACK_MSEC(10)}; /* 10 ms each way, nothing lost */
	synack_memlink *link;
	if (synack_memlink_create(1, &wire, &wire, &link) < 0)
		return 1;

	/* Create the stacks. The configuration is copied; the link port (tx_ctx)
	 * and the prng (rng.ctx) are borrowed and must outlive the stack. */
	for (int i = 0; i < 2; i++) {
		synack_stack_config cfg;
		synack_stack_config_init(&cfg);
		cfg.addr = synack_addr_ipv4(10, 0, 0, (uint8_t)(1 + i));
		synack_prng_seed(&side[i].prng, 42 + (uint64_t)i);
		cfg.rng = (synack_rng){.fill = synack_prng_fill, .ctx = &side[i].prng};
		cfg.tx = synack_memlink_tx;
		cfg.tx_ctx = synack_memlink_port(link, i);
		cfg.trace_capacity = 256;
		if (synack_stack_create(&cfg, now, &side[i].st) < 0)
			return 1;
		synack_memlink_attach(link, i, rx, side[i].st);
	}

	synack_endpoint srv = {.addr = synack_addr_ipv4(10, 0, 0, 2), .port = PORT};
	if (synack_tcp_listen(side[SERVER].st, &srv, 8, &side[SERVER].listener) < 0 ||
	    synack_tcp_connect(side[CLIENT].st, &srv, NULL, &side[CLIENT].conn) < 0) /* SYN sent now */
		return 1;

	/* The clock loop: collect events, then jump to the earliest deadline
	 * of the link and the two stacks, deliver what is due, run timers. */
	for (;;) {
		for (int i = 0; i < 2; i++) {
			print_trace(&side[i]);	 /* what input/poll did */
			handle_events(&side[i]); /* our answer to it */
			print_trace(&side[i]);	 /* what our API calls sent */
		}
		synack_time_t next = synack_memlink_next_deadline(link);
		for (int i = 0; i < 2; i++) {
			synack_time_t d = synack_stack_next_deadline(side[i].st);
			next = d < next ? d : next;
		}
		if (next == SYNACK_TIME_NEVER) /* nothing will ever happen again */
			break;
		if (next > SYNACK_SEC(600)) {
			printf("still busy after 600 s of virtual time\n");
			return 1;
		}
		now = next > now ? next : now;
		synack_memlink_deliver(link, now); /* frames due -> rx() -> synack_stack_input() */
		for (int i = 0; i < 2; i++)
			synack_stack_poll(side[i].st,
					  now); /* timers due: retransmit, delayed ACK, TIME-WAIT */
	}

	printf("%10.6f s  nothing left to do: every deadline is SYNACK_TIME_NEVER\n", now / 1e6);
	synack_tcp_close(side[SERVER].listener);
	for (int i = 0; i < 2; i++) {
		size_t bytes, blocks;
		synack_stack_memory(side[i].st, &bytes, &blocks);
		printf("%s: %zu connections, %zu bytes in %zu blocks, %llu drops; counters:", side[i].name,
		       synack_stack_tcb_count(side[i].st), bytes, blocks,
		       (unsigned long long)synack_stack_drops(side[i].st));
		for (int k = 0; k < SYNACK_COUNTER_COUNT; k++) {
			uint64_t v = synack_stack_counter(side[i].st, (enum synack_counter)k);
			if (v) /* a drop counter shows up here too if anything was dropped */
				printf(" %s=%llu", synack_counter_name((enum synack_counter)k),
				       (unsigned long long)v);
		}
		printf("\n");
		if (synack_stack_tcb_count(side[i].st) != 0 || synack_stack_drops(side[i].st) != 0)
			failed = 1;
	}
	if (strcmp(side[CLIENT].got, "HELLO, SERVER") != 0)
		failed = 1;
	for (int i = 0; i < 2; i++)
		synack_stack_destroy(side[i].st); /* before the link its tx_ctx points into */
	synack_memlink_destroy(link);
	printf(failed ? "two_stacks: FAILED\n" : "two_stacks: done, both sides closed cleanly\n");
	return failed;
}
