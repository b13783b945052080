/* Helpers for tests that drive two stacks over the in-memory link. */
#ifndef SYNACK_TEST_HARNESS_H
#define SYNACK_TEST_HARNESS_H

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "synack/synack.h"

#define H_CLIENT 0
#define H_SERVER 1

static inline synack_endpoint h_ep(int host, uint16_t port)
{
	synack_endpoint e = {.addr = synack_addr_ipv4(10, 0, 0, (uint8_t)(host + 1)), .port = port};
	return e;
}

/* Step until cond holds (evaluated once per step; the result of the last
 * evaluation is returned) or `limit` of virtual time passes. */
#define H_RUN_UNTIL(sim, cond, limit)                                                                        \
	({                                                                                                   \
		synack_time_t h_end_ = (sim)->now + (limit);                                                 \
		bool h_ok_;                                                                                  \
		while (!(h_ok_ = (cond)) && synack_sim_step((sim), h_end_))                                  \
			;                                                                                    \
		h_ok_;                                                                                       \
	})

/* Drain every pending event of a stack into an OR of all bits seen for c. */
static inline uint32_t h_events_for(synack_stack *st, synack_tcp *c)
{
	uint32_t all = 0, ev;
	synack_tcp *s;
	while ((s = synack_stack_next_event(st, &ev)))
		if (s == c)
			all |= ev;
	return all;
}

/* Establish client->server:port. Returns 0 on success. */
static inline int h_establish(synack_sim *sim, uint16_t port, synack_tcp **listener, synack_tcp **client,
			      synack_tcp **server)
{
	synack_endpoint sep = h_ep(H_SERVER, port);
	int err = synack_tcp_listen(sim->stack[H_SERVER], &sep, 16, listener);
	if (err)
		return err;
	err = synack_tcp_connect(sim->stack[H_CLIENT], &sep, NULL, client);
	if (err)
		return err;
	*server = NULL;
	bool ok = H_RUN_UNTIL(sim,
			      synack_tcp_state(*client) == SYNACK_TCP_ESTABLISHED &&
				  synack_tcp_accept(*listener, server) == 0,
			      SYNACK_SEC(10));
	return ok ? 0 : -ETIMEDOUT;
}

/* Byte i of the streams the helpers send. */
static inline uint8_t h_pattern(size_t i)
{
	return (uint8_t)(i * 7 + 3);
}

/* Send the pattern from byte `sent` on until n bytes were sent or the
 * send buffer is full; returns the new count. */
static inline size_t h_send_pattern(synack_tcp *from, size_t sent, size_t n)
{
	static uint8_t buf[65536];
	while (sent < n) {
		size_t chunk = n - sent < sizeof buf ? n - sent : sizeof buf;
		for (size_t i = 0; i < chunk; i++)
			buf[i] = h_pattern(sent + i);
		ssize_t r = synack_tcp_send(from, buf, chunk);
		if (r <= 0)
			break;
		sent += (size_t)r;
	}
	return sent;
}

/* Move bytes from `from` to `to` until n bytes arrived (or time runs out).
 * Data is a deterministic pattern; returns bytes received that matched. */
static inline size_t h_transfer(synack_sim *sim, synack_tcp *from, synack_tcp *to, size_t n,
				synack_time_t limit)
{
	static uint8_t buf[65536];
	size_t sent = 0, got = 0;
	synack_time_t end = sim->now + limit;
	while (got < n) {
		sent = h_send_pattern(from, sent, n);
		ssize_t r;
		bool progress = false;
		while ((r = synack_tcp_recv(to, buf, sizeof buf)) > 0) {
			for (ssize_t i = 0; i < r; i++)
				if (buf[i] != h_pattern(got + (size_t)i))
					return got;
			got += (size_t)r;
			progress = true;
		}
		if (r == 0 || (r < 0 && r != -EAGAIN))
			break;
		if (!progress && !synack_sim_step(sim, end))
			break;
	}
	return got;
}

#endif
