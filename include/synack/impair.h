/* synack: a fault-injection decorator for any link (smoltcp's fault
 * injector, grown a clock). It sits between a stack and its real link
 * (TUN, TAP, a relay's devices ...) and impairs frames in both directions:
 *  - TX, frames the stack sends: the stack's tx function is
 *    synack_impairer_tx (ctx: the impairer), which passes what survives
 *    to the real link's tx function;
 *  - RX, frames read from the link: give them to synack_impairer_rx,
 *    which passes what survives to the rx function (the stack's input).
 * Each direction has its own synack_impair (link.h): loss, Gilbert-Elliott
 * burst loss, duplication, reordering, corruption (one bit flipped, for
 * the checksums to catch), delay, jitter and a rate limit; seeded, so the
 * fate of the n-th frame of a direction depends on the seed and n only.
 *
 * Time. A frame that is delayed (delay, jitter, reordering, or waiting for
 * the rate limiter) is copied and held until due; the owner of the clock
 * (the event loop, synack_loop_set_impairer) asks for
 * synack_impairer_next_deadline() and calls synack_impairer_flush() then.
 * A frame due at once is passed on during the call, without a copy. The
 * current time comes from the clock function if one is given, otherwise
 * from the last set_time/rx/flush call.
 *
 * Bounds. At most queue_limit copies per direction are held (0: 4096);
 * one more is tail-dropped and counted (queue_drops). Frames are at most
 * 65535 bytes. */
#ifndef SYNACK_IMPAIR_H
#define SYNACK_IMPAIR_H

#include <stdbool.h>

#include "synack/link.h"

#ifdef __cplusplus
extern "C" {
#endif

enum synack_impair_dir { SYNACK_IMPAIR_TX = 0, SYNACK_IMPAIR_RX = 1 };

typedef struct synack_impairer synack_impairer;

typedef struct synack_impairer_config {
	uint64_t seed;
	synack_impair dir[2]; /* [SYNACK_IMPAIR_TX], [SYNACK_IMPAIR_RX]; zeroes: no impairment */
	synack_tx_fn tx;      /* where TX frames go: the real link */
	void *tx_ctx;
	synack_rx_fn rx; /* where RX frames go (may be set later: synack_impairer_set_rx) */
	void *rx_ctx;
	synack_time_t (*clock)(void *ctx); /* optional: the current time */
	void *clock_ctx;
	const synack_allocator *alloc; /* optional: NULL means malloc/free */
} synack_impairer_config;

/* Per direction: offered + duplicated = passed + lost + queue_drops + held. */
typedef struct synack_impair_stats {
	uint64_t offered;     /* frames given to the decorator */
	uint64_t passed;      /* frames (copies included) handed on */
	uint64_t lost;	      /* random and burst loss together */
	uint64_t burst_lost;  /* of which in the Gilbert-Elliott bad state */
	uint64_t duplicated;  /* extra copies made */
	uint64_t reordered;   /* frames held back by reorder_delay */
	uint64_t corrupted;   /* frames with one bit flipped */
	uint64_t delayed;     /* copies held for later (not passed at once) */
	uint64_t queue_drops; /* tail drops: queue_limit copies held, or no memory */
	uint64_t bytes;	      /* bytes handed on */
} synack_impair_stats;

/* True if im impairs anything at all. */
SYNACK_API bool synack_impair_active(const synack_impair *im);
/* Returns 0, or -EINVAL (a probability outside [0, 1], a delay outside
 * [0, 1 day], no tx function) or -ENOMEM. */
SYNACK_API int synack_impairer_create(const synack_impairer_config *cfg, synack_impairer **out);
/* Frees every held copy (they are never passed on). */
SYNACK_API void synack_impairer_destroy(synack_impairer *im);
SYNACK_API void synack_impairer_set_rx(synack_impairer *im, synack_rx_fn rx, void *ctx);
SYNACK_API void synack_impairer_set_time(synack_impairer *im, synack_time_t now);
/* A synack_tx_fn (ctx: the impairer). Returns 0 for a frame accepted, lost
 * or held; -ENOBUFS for a tail drop; -EMSGSIZE/-EINVAL for a bad frame; or
 * what the real link's tx returned for a frame passed at once. */
SYNACK_API int synack_impairer_tx(void *impairer, const uint8_t *frame, size_t len);
/* A frame read from the real link at `now`. */
SYNACK_API void synack_impairer_rx(synack_impairer *im, const uint8_t *frame, size_t len, synack_time_t now);
/* Pass on every held copy due at or before now, in due order (RX copies
 * with `now` as their time). Returns the number passed. */
SYNACK_API size_t synack_impairer_flush(synack_impairer *im, synack_time_t now);
/* When the next held copy is due, or SYNACK_TIME_NEVER. */
SYNACK_API synack_time_t synack_impairer_next_deadline(const synack_impairer *im);
SYNACK_API size_t synack_impairer_held(const synack_impairer *im, int dir);
SYNACK_API void synack_impairer_stats(const synack_impairer *im, int dir, synack_impair_stats *out);

#ifdef __cplusplus
}
#endif
#endif
