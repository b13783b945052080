/* src/link: what the in-memory link (memlink.c) and the fault-injection
 * decorator (impair.c) share: the seeded fate of a frame and the clock of
 * a serialising link (fate.c). */
#ifndef SYNACK_LINK_INTERNAL_H
#define SYNACK_LINK_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "synack/link.h"
#include "synack/stack.h"

/* What the generator decided for one frame. */
struct link_fate {
	bool lost, burst, dup, reorder, corrupt; /* burst: lost in the bad state */
	synack_time_t jitter[2];		 /* for the frame and its duplicate */
	uint64_t bit;				 /* the bit a corruption flips */
};

/* A frame held until `when`, the first member of both files' frame
 * records; the held frames form a min-heap on (when, seq): link_heap_push
 * (room for one more is the caller's to ensure) and link_heap_pop. */
struct link_timed {
	synack_time_t when;
	uint64_t seq; /* order of arrival among equal times */
};
void link_heap_push(struct link_timed **v, size_t *len, struct link_timed *x);
struct link_timed *link_heap_pop(struct link_timed **v, size_t *len);

/* Probabilities in [0, 1], delays in [0, one day]: an impairment the links
 * take (NULL: none). */
bool link_impair_ok(const synack_impair *im);

/* a + b, saturating at SYNACK_TIME_NEVER. */
static inline synack_time_t link_time_add(synack_time_t a, synack_time_t b)
{
	return a > SYNACK_TIME_NEVER - b ? SYNACK_TIME_NEVER : a + b;
}

/* Draw the fate of a frame of len bytes under imp from p, stepping the
 * Gilbert-Elliott state *bad. The number and order of draws per frame is
 * fixed (a chain step only when p_good_to_bad > 0), so a seed replays. */
void link_draw_fate(const synack_impair *imp, synack_prng *p, bool *bad, size_t len, struct link_fate *f);

/* Put len bytes on a link of rate bits/s (0: no limit) at now; *busy_until
 * and *busy_rem (the fraction of a microsecond, in rate units) carry when
 * the previous frame's last bit left. Returns when this one's has left,
 * rounded up to a whole microsecond. */
synack_time_t link_serialise(uint64_t rate, synack_time_t *busy_until, uint64_t *busy_rem, synack_time_t now,
			     size_t len);

#endif
