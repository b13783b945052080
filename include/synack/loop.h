/* synack: an event loop for real links (epoll + timerfd), the monotonic
 * clock and OS randomness. This is where the sans-I/O core meets the OS.
 *
 * A command's main loop looks like this:
 *
 *     for (;;) {
 *         while ((c = synack_stack_next_event(st, &ev)))  ... handle ...
 *         int n = synack_loop_run_once(loop, -1, ready, 8);
 *         ... handle the ready fds registered with synack_loop_watch ...
 *     }
 *
 * synack_loop_run_once() arms the timer at synack_stack_next_deadline(),
 * waits, feeds every frame waiting on the link to synack_stack_input() and
 * runs synack_stack_poll() when the deadline has passed. It never calls
 * user code: stack events are collected by the caller afterwards. */
#ifndef SYNACK_LOOP_H
#define SYNACK_LOOP_H

#include "synack/impair.h"
#include "synack/stack.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct synack_loop synack_loop;

/* Read one frame from the link: its length, -EAGAIN when none, or an errno.
 * synack_tun_read() has this shape (with a synack_tun * as ctx). */
typedef ssize_t (*synack_link_read_fn)(void *ctx, uint8_t *buf, size_t cap);

/* The same, with what the link already did for the frame (enum
 * synack_rx_flags): synack_tun_read_flags() has this shape. */
typedef ssize_t (*synack_link_read_flags_fn)(void *ctx, uint8_t *buf, size_t cap, uint32_t *flags);

/* Create a loop for the stack `st` whose link is readable on link_fd.
 * Frames are read with `rd` into a buffer of frame_cap bytes. */
SYNACK_API int synack_loop_create(synack_stack *st, int link_fd, synack_link_read_fn rd, void *rd_ctx,
				  size_t frame_cap, synack_loop **out);
SYNACK_API void synack_loop_destroy(synack_loop *l);
/* Read the link with rdf (same ctx) instead, and hand its flags to
 * synack_stack_input_flags(). Not with an impairer: it takes plain frames. */
SYNACK_API void synack_loop_set_read_flags(synack_loop *l, synack_link_read_flags_fn rdf);

/* Watch another descriptor for input (EPOLLIN, EPOLLHUP count as ready).
 * `tag` is what synack_loop_run_once() reports. A descriptor epoll cannot
 * watch (a regular file, /dev/null) is reported ready on every call. */
SYNACK_API int synack_loop_watch(synack_loop *l, int fd, int tag);
SYNACK_API int synack_loop_unwatch(synack_loop *l, int fd);

/* Wait up to timeout_ms (-1: until something happens; the stack's next
 * deadline always bounds the wait), then process link input and timers.
 * Stores the tags of ready watched descriptors in ready[0..max) and
 * returns their number, or a negative errno (a failed link read: -EIO ...). */
SYNACK_API int synack_loop_run_once(synack_loop *l, int timeout_ms, int *ready, int max);

/* Put a fault-injection decorator (include/synack/impair.h) between the
 * link and the stack: frames read from the link go to synack_impairer_rx,
 * whose output goes to the stack (the loop sets its rx function), and the
 * loop wakes up for the impairer's deadlines and flushes it. For the TX
 * side, give the stack synack_impairer_tx as its tx function. The loop
 * borrows im; NULL removes it. */
SYNACK_API void synack_loop_set_impairer(synack_loop *l, synack_impairer *im);

/* Frames read from the link since creation. */
SYNACK_API uint64_t synack_loop_frames_in(const synack_loop *l);

/* The monotonic clock (CLOCK_MONOTONIC) in microseconds. */
SYNACK_API synack_time_t synack_clock_now(void);
/* OS randomness (getrandom). A synack_rng fill function; ctx unused. */
SYNACK_API void synack_os_random(void *ctx, void *buf, size_t len);
SYNACK_API synack_rng synack_os_rng(void);
/* A random locally administered unicast Ethernet address (02:xx:...). */
SYNACK_API void synack_random_mac(uint8_t mac[6]);

#ifdef __cplusplus
}
#endif
#endif
