/* TCP behaviour over two stacks on the in-memory link: the connection life
 * cycle end to end (segment-exact checks live in test_tcp_seg.c). */
#include "harness.h"
#include "unit.h"

static void sim_up(synack_sim *sim, uint64_t seed)
{
	CHECK_EQ(synack_sim_init(sim, seed, NULL, NULL, NULL), 0);
}

TEST(handshake_negotiates_options)
{
	synack_sim sim;
	synack_tcp *l, *c, *s;
	sim_up(&sim, 1);
	CHECK_EQ(h_establish(&sim, 80, &l, &c, &s), 0);
	synack_tcp_info ci, si;
	synack_tcp_get_info(c, &ci);
	synack_tcp_get_info(s, &si);
	CHECK_EQ(ci.state, SYNACK_TCP_ESTABLISHED);
	CHECK_EQ(si.state, SYNACK_TCP_ESTABLISHED);
	CHECK_EQ(ci.irs, si.iss);
	CHECK_EQ(si.irs, ci.iss);
	CHECK(ci.ts_ok && si.ts_ok && ci.sack_ok && si.sack_ok);
	CHECK_EQ(ci.mss, 1460 - 12);
	/* chosen for the 6 MiB the buffer may grow to: 6 MiB >> 6 is 98304 */
	CHECK_EQ(ci.rcv_wscale, 7);
	CHECK_EQ(si.snd_wscale, 7);
	CHECK_EQ(synack_stack_counter(sim.stack[0], SYNACK_CNT_TCP_ACTIVE_OPENS), 1);
	CHECK_EQ(synack_stack_counter(sim.stack[1], SYNACK_CNT_TCP_PASSIVE_OPENS), 1);
	CHECK_EQ(synack_stack_drops(sim.stack[0]) + synack_stack_drops(sim.stack[1]), 0);
	synack_sim_destroy(&sim);
}

TEST(transfer_and_graceful_close_frees_everything)
{
	synack_sim sim;
	synack_tcp *l, *c, *s;
	sim_up(&sim, 2);
	size_t base0, base1;
	synack_stack_memory(sim.stack[0], NULL, &base0);
	synack_stack_memory(sim.stack[1], NULL, &base1);
	CHECK_EQ(h_establish(&sim, 80, &l, &c, &s), 0);
	CHECK_EQ(h_transfer(&sim, c, s, 1 << 20, SYNACK_SEC(60)), 1 << 20);
	CHECK_EQ(h_transfer(&sim, s, c, 300000, SYNACK_SEC(60)), 300000);
	CHECK_EQ(synack_tcp_close(c), 0);
	CHECK(H_RUN_UNTIL(&sim, synack_tcp_state(s) == SYNACK_TCP_CLOSE_WAIT, SYNACK_SEC(5)));
	uint8_t b;
	CHECK_EQ(synack_tcp_recv(s, &b, 1), 0); /* EOF */
	CHECK_EQ(synack_tcp_close(s), 0);
	CHECK_EQ(synack_tcp_close(l), 0);
	/* client TIME-WAIT lasts 2*MSL */
	synack_sim_run_until(&sim, sim.now + SYNACK_SEC(1));
	CHECK_EQ(synack_stack_tcb_count(sim.stack[0]), 1);
	CHECK_EQ(synack_stack_tcb_count(sim.stack[1]), 0);
	synack_sim_run_until(&sim, sim.now + SYNACK_SEC(121));
	CHECK_EQ(synack_stack_tcb_count(sim.stack[0]), 0);
	size_t now0, now1, kept;
	synack_stack_memory(sim.stack[0], NULL, &kept);
	CHECK(kept > base0 + 2); /* the 1 MiB transfer's rings, kept for reuse */
	synack_stack_trim(sim.stack[0]);
	synack_stack_trim(sim.stack[1]);
	synack_stack_memory(sim.stack[0], NULL, &now0);
	synack_stack_memory(sim.stack[1], NULL, &now1);
	CHECK(now0 <= base0 + 2); /* hash buckets and timer heap may stay */
	CHECK(now1 <= base1 + 3); /* and the listener table */
	CHECK_EQ(synack_stack_drops(sim.stack[0]) + synack_stack_drops(sim.stack[1]), 0);
	synack_sim_destroy(&sim);
}

TEST(connect_to_closed_port_is_refused)
{
	synack_sim sim;
	synack_tcp *c;
	sim_up(&sim, 3);
	synack_endpoint sep = h_ep(H_SERVER, 81);
	CHECK_EQ(synack_tcp_connect(sim.stack[0], &sep, NULL, &c), 0);
	CHECK(H_RUN_UNTIL(&sim, synack_tcp_state(c) == SYNACK_TCP_CLOSED, SYNACK_SEC(5)));
	CHECK_EQ(synack_tcp_error(c), -ECONNREFUSED);
	CHECK(h_events_for(sim.stack[0], c) & SYNACK_EV_ERROR);
	CHECK_EQ(synack_stack_counter(sim.stack[1], SYNACK_DROP_TCP_NO_SOCKET), 1);
	CHECK_EQ(synack_stack_counter(sim.stack[1], SYNACK_CNT_TCP_RESETS_SENT), 1);
	CHECK_EQ(synack_tcp_send(c, "x", 1), -ECONNREFUSED);
	CHECK_EQ(synack_tcp_close(c), 0);
	CHECK_EQ(synack_stack_tcb_count(sim.stack[0]), 0);
	synack_sim_destroy(&sim);
}

TEST(syn_retransmits_with_backoff_then_times_out)
{
	synack_sim sim;
	synack_tcp *c;
	synack_stack_config cfg;
	synack_stack_config_init(&cfg);
	cfg.addr = synack_addr_ipv4(10, 0, 0, 1);
	cfg.tcp.syn_retries = 3;
	cfg.trace_capacity = 256;
	CHECK_EQ(synack_sim_init(&sim, 4, NULL, &cfg, NULL), 0);
	synack_endpoint nowhere = {.addr = synack_addr_ipv4(10, 0, 0, 9), .port = 80};
	CHECK_EQ(synack_tcp_connect(sim.stack[0], &nowhere, NULL, &c), 0);
	CHECK(H_RUN_UNTIL(&sim, synack_tcp_state(c) == SYNACK_TCP_CLOSED, SYNACK_SEC(100)));
	CHECK_EQ(synack_tcp_error(c), -ETIMEDOUT);
	/* SYNs at 0, 1, 3, 7 s (RFC 6298 §5.5 doubling); give up at 15 s */
	synack_trace_rec r[256];
	size_t n = synack_stack_trace_drain(sim.stack[0], r, 256);
	synack_time_t when[8];
	int k = 0;
	for (size_t i = 0; i < n; i++)
		if (r[i].kind == SYNACK_TRACE_SEG_OUT && k < 8)
			when[k++] = r[i].time;
	CHECK_EQ(k, 4);
	CHECK_EQ(when[0], 0);
	CHECK_EQ(when[1], SYNACK_SEC(1));
	CHECK_EQ(when[2], SYNACK_SEC(3));
	CHECK_EQ(when[3], SYNACK_SEC(7));
	CHECK_EQ(sim.now, SYNACK_SEC(15));
	CHECK_EQ(synack_stack_counter(sim.stack[0], SYNACK_CNT_TCP_TIMEOUTS), 1);
	synack_tcp_close(c);
	synack_sim_destroy(&sim);
}

TEST(simultaneous_open)
{
	synack_sim sim;
	synack_tcp *a, *b;
	sim_up(&sim, 5);
	synack_endpoint ea = h_ep(0, 5000), eb = h_ep(1, 6000);
	CHECK_EQ(synack_tcp_connect(sim.stack[0], &eb, &ea, &a), 0);
	CHECK_EQ(synack_tcp_connect(sim.stack[1], &ea, &eb, &b), 0);
	CHECK(H_RUN_UNTIL(&sim,
			  synack_tcp_state(a) == SYNACK_TCP_ESTABLISHED &&
			      synack_tcp_state(b) == SYNACK_TCP_ESTABLISHED,
			  SYNACK_SEC(5)));
	CHECK(h_events_for(sim.stack[0], a) & SYNACK_EV_CONNECTED);
	CHECK_EQ(h_transfer(&sim, a, b, 10000, SYNACK_SEC(10)), 10000);
	CHECK_EQ(h_transfer(&sim, b, a, 10000, SYNACK_SEC(10)), 10000);
	synack_tcp_abort(a);
	synack_tcp_abort(b);
	synack_sim_destroy(&sim);
}

TEST(simultaneous_close_goes_through_closing)
{
	synack_sim sim;
	synack_tcp *l, *c, *s;
	synack_stack_config cfg;
	synack_stack_config_init(&cfg);
	cfg.trace_capacity = 512;
	CHECK_EQ(synack_sim_init(&sim, 6, NULL, &cfg, &cfg), 0);
	CHECK_EQ(h_establish(&sim, 80, &l, &c, &s), 0);
	synack_tcp_shutdown(c, SYNACK_SHUT_WR);
	synack_tcp_shutdown(s, SYNACK_SHUT_WR);
	CHECK_EQ(synack_tcp_state(c), SYNACK_TCP_FIN_WAIT_1);
	CHECK_EQ(synack_tcp_state(s), SYNACK_TCP_FIN_WAIT_1);
	CHECK(H_RUN_UNTIL(
	    &sim, synack_tcp_state(c) == SYNACK_TCP_TIME_WAIT && synack_tcp_state(s) == SYNACK_TCP_TIME_WAIT,
	    SYNACK_SEC(5)));
	synack_trace_rec r[512];
	size_t n = synack_stack_trace_drain(sim.stack[0], r, 512);
	bool closing = false;
	for (size_t i = 0; i < n; i++)
		if (r[i].kind == SYNACK_TRACE_STATE && r[i].new_state == SYNACK_TCP_CLOSING)
			closing = true;
	CHECK(closing);
	synack_sim_run_until(&sim, sim.now + SYNACK_SEC(121));
	CHECK_EQ(synack_tcp_state(c), SYNACK_TCP_CLOSED);
	CHECK_EQ(synack_tcp_state(s), SYNACK_TCP_CLOSED);
	synack_tcp_close(c);
	synack_tcp_close(s);
	synack_tcp_close(l);
	CHECK_EQ(synack_stack_tcb_count(sim.stack[0]) + synack_stack_tcb_count(sim.stack[1]), 0);
	synack_sim_destroy(&sim);
}

TEST(half_close_keeps_receiving)
{
	synack_sim sim;
	synack_tcp *l, *c, *s;
	sim_up(&sim, 7);
	CHECK_EQ(h_establish(&sim, 80, &l, &c, &s), 0);
	CHECK_EQ(synack_tcp_shutdown(c, SYNACK_SHUT_WR), 0);
	CHECK(H_RUN_UNTIL(&sim, synack_tcp_state(c) == SYNACK_TCP_FIN_WAIT_2, SYNACK_SEC(5)));
	CHECK_EQ(synack_tcp_state(s), SYNACK_TCP_CLOSE_WAIT);
	CHECK_EQ(synack_tcp_send(c, "x", 1), -EPIPE);
	CHECK_EQ(h_transfer(&sim, s, c, 200000, SYNACK_SEC(30)), 200000);
	CHECK_EQ(synack_tcp_close(s), 0);
	CHECK(H_RUN_UNTIL(&sim, synack_tcp_state(c) == SYNACK_TCP_TIME_WAIT, SYNACK_SEC(5)));
	uint8_t b;
	CHECK_EQ(synack_tcp_recv(c, &b, 1), 0);
	CHECK(H_RUN_UNTIL(&sim, synack_stack_tcb_count(sim.stack[1]) == 1, SYNACK_SEC(5))); /* listener */
	synack_tcp_close(c);
	synack_tcp_close(l);
	synack_sim_destroy(&sim);
}

TEST(abort_resets_peer)
{
	synack_sim sim;
	synack_tcp *l, *c, *s;
	sim_up(&sim, 8);
	CHECK_EQ(h_establish(&sim, 80, &l, &c, &s), 0);
	h_events_for(sim.stack[1], s);
	CHECK_EQ(synack_tcp_abort(c), 0);
	CHECK(H_RUN_UNTIL(&sim, synack_tcp_state(s) == SYNACK_TCP_CLOSED, SYNACK_SEC(5)));
	CHECK_EQ(synack_tcp_error(s), -ECONNRESET);
	CHECK(h_events_for(sim.stack[1], s) & SYNACK_EV_RESET);
	uint8_t b;
	CHECK_EQ(synack_tcp_recv(s, &b, 1), -ECONNRESET);
	CHECK_EQ(synack_tcp_send(s, &b, 1), -ECONNRESET);
	synack_tcp_close(s);
	synack_tcp_close(l);
	CHECK_EQ(synack_stack_tcb_count(sim.stack[0]) + synack_stack_tcb_count(sim.stack[1]), 0);
	synack_sim_destroy(&sim);
}

TEST(close_with_unread_data_resets)
{
	synack_sim sim;
	synack_tcp *l, *c, *s;
	sim_up(&sim, 9);
	CHECK_EQ(h_establish(&sim, 80, &l, &c, &s), 0);
	CHECK_EQ(synack_tcp_send(c, "hello", 5), 5);
	CHECK(H_RUN_UNTIL(&sim, synack_tcp_pending(s) & SYNACK_EV_READABLE, SYNACK_SEC(1)));
	synack_tcp_close(s); /* 5 bytes unread */
	CHECK(H_RUN_UNTIL(&sim, synack_tcp_state(c) == SYNACK_TCP_CLOSED, SYNACK_SEC(1)));
	CHECK_EQ(synack_tcp_error(c), -ECONNRESET);
	synack_tcp_close(c);
	synack_tcp_close(l);
	synack_sim_destroy(&sim);
}

TEST(zero_window_probes_then_resumes)
{
	synack_sim sim;
	synack_tcp *l, *c, *s;
	synack_stack_config cfg;
	synack_stack_config_init(&cfg);
	cfg.addr = synack_addr_ipv4(10, 0, 0, 2);
	cfg.tcp.rcvbuf = 4096;
	CHECK_EQ(synack_sim_init(&sim, 10, NULL, NULL, &cfg), 0);
	CHECK_EQ(h_establish(&sim, 80, &l, &c, &s), 0);
	static uint8_t data[20000];
	CHECK_EQ(synack_tcp_send(c, data, sizeof data), (ssize_t)sizeof data);
	synack_sim_run_until(&sim, sim.now + SYNACK_SEC(30));
	CHECK(synack_stack_counter(sim.stack[0], SYNACK_CNT_TCP_WINDOW_PROBES) >= 3);
	synack_tcp_info ci;
	synack_tcp_get_info(c, &ci);
	CHECK_EQ(ci.snd_wnd, 0);
	CHECK_EQ(synack_tcp_state(c), SYNACK_TCP_ESTABLISHED); /* never gives up */
	size_t got = 0;
	uint8_t buf[4096];
	while (got < sizeof data &&
	       H_RUN_UNTIL(&sim, synack_tcp_pending(s) & SYNACK_EV_READABLE, SYNACK_SEC(120))) {
		ssize_t r;
		synack_stack_next_event(sim.stack[1], &(uint32_t){0});
		while ((r = synack_tcp_recv(s, buf, sizeof buf)) > 0)
			got += (size_t)r;
	}
	CHECK_EQ(got, sizeof data);
	synack_tcp_abort(c);
	synack_tcp_abort(s);
	synack_tcp_close(l);
	synack_sim_destroy(&sim);
}

TEST(listen_errors)
{
	synack_sim sim;
	synack_tcp *l, *l2;
	sim_up(&sim, 11);
	synack_endpoint e = h_ep(1, 80);
	CHECK_EQ(synack_tcp_listen(sim.stack[1], &e, 4, &l), 0);
	CHECK_EQ(synack_tcp_listen(sim.stack[1], &e, 4, &l2), -EADDRINUSE);
	synack_endpoint other = h_ep(0, 80);
	CHECK_EQ(synack_tcp_listen(sim.stack[1], &other, 4, &l2), -EADDRNOTAVAIL);
	CHECK_EQ(synack_tcp_listen(sim.stack[1], &e, 0, &l2), -EINVAL);
	synack_tcp *x;
	CHECK_EQ(synack_tcp_accept(l, &x), -EAGAIN);
	synack_tcp_close(l);
	synack_sim_destroy(&sim);
}

TEST(syn_queue_bounded)
{
	synack_sim sim;
	synack_tcp *l, *c[8];
	sim_up(&sim, 12);
	synack_endpoint e = h_ep(1, 80);
	CHECK_EQ(synack_tcp_listen(sim.stack[1], &e, 2, &l), 0);
	for (int i = 0; i < 8; i++)
		CHECK_EQ(synack_tcp_connect(sim.stack[0], &e, NULL, &c[i]), 0);
	synack_sim_run_until(&sim, sim.now + SYNACK_MSEC(10));
	/* two completed handshakes fill the accept queue; the rest are refused */
	CHECK(synack_stack_counter(sim.stack[1], SYNACK_DROP_TCP_ACCEPT_QUEUE_FULL) +
		  synack_stack_counter(sim.stack[1], SYNACK_DROP_TCP_SYN_QUEUE_FULL) >=
	      6);
	CHECK(synack_stack_tcb_count(sim.stack[1]) <= 1 + 2 + 2);
	for (int i = 0; i < 8; i++)
		synack_tcp_abort(c[i]);
	synack_tcp_close(l);
	synack_sim_destroy(&sim);
}

/* Zero-copy receive: recv_view shows the bytes where they lie (in pieces
 * at the ring's wrap), RECV_TRUNC consumes them uncopied, and the window
 * reopens as after a copying read: 3 MiB through a 256 KiB buffer. */
TEST(recv_view_and_trunc_receive_without_a_copy)
{
	synack_sim sim;
	synack_stack_config cfg[2];
	synack_tcp *l, *c, *s;
	for (int i = 0; i < 2; i++) {
		synack_stack_config_init(&cfg[i]);
		cfg[i].addr = synack_addr_ipv4(10, 0, 0, (uint8_t)(i + 1));
		cfg[i].tcp.rcvbuf = 256 * 1024;
		cfg[i].tcp.rcvbuf_max = 0; /* fixed: the ring must wrap */
	}
	CHECK_EQ(synack_sim_init(&sim, 5, NULL, &cfg[0], &cfg[1]), 0);
	CHECK_EQ(h_establish(&sim, 80, &l, &c, &s), 0);
	const uint8_t *p;
	CHECK_EQ(synack_tcp_recv_view(s, &p), -EAGAIN);
	CHECK(p == NULL);
	size_t total = 3u << 20, sent = 0, got = 0, views = 0;
	synack_time_t end = sim.now + SYNACK_SEC(60);
	while (got < total && sim.now < end) {
		sent = h_send_pattern(c, sent, total);
		ssize_t n;
		while ((n = synack_tcp_recv_view(s, &p)) > 0) {
			views++;
			for (ssize_t i = 0; i < n; i++)
				if (p[i] != h_pattern(got + (size_t)i)) {
					CHECK(!"byte differs");
					synack_sim_destroy(&sim);
					return;
				}
			/* consume in two steps: TRUNC takes no more than asked */
			size_t half = (size_t)n / 2;
			CHECK_EQ(synack_tcp_recv_ex(s, NULL, half, SYNACK_TCP_RECV_TRUNC), (ssize_t)half);
			CHECK_EQ(synack_tcp_recv_ex(s, NULL, (size_t)n - half, SYNACK_TCP_RECV_TRUNC),
				 n - (ssize_t)half);
			got += (size_t)n;
		}
		CHECK(n == -EAGAIN);
		synack_sim_step(&sim, end);
	}
	CHECK_EQ(got, total);
	CHECK(views > 12); /* more than one buffer's worth of pieces */
	CHECK_EQ(synack_tcp_shutdown(c, SYNACK_SHUT_WR), 0);
	CHECK(H_RUN_UNTIL(&sim, synack_tcp_recv_view(s, &p) == 0, SYNACK_SEC(5)));
	synack_sim_destroy(&sim);
}
