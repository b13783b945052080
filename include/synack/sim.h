/* synack: two stacks joined by the in-memory link on one virtual clock.
 * Deterministic: the same seed and configuration give the same run. */
#ifndef SYNACK_SIM_H
#define SYNACK_SIM_H

#include "synack/link.h"
#include "synack/stack.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct synack_sim {
	synack_stack *stack[2];
	synack_memlink *link;
	synack_prng rng[2];
	synack_time_t now;
	uint64_t steps;
} synack_sim;

/* cfg[i] may be NULL: then 10.0.0.(i+1)/24 with defaults. tx, tx_ctx and rng
 * are filled in by the sim. impair may be NULL (perfect link). */
SYNACK_API int synack_sim_init(synack_sim *s, uint64_t seed, const synack_impair *impair,
			       const synack_stack_config *cfg0, const synack_stack_config *cfg1);
SYNACK_API void synack_sim_destroy(synack_sim *s);
/* The next time anything is due (stacks or link), or SYNACK_TIME_NEVER. */
SYNACK_API synack_time_t synack_sim_next(const synack_sim *s);
/* Advance to min(next, limit), deliver due frames and run due timers.
 * Returns 1 if it advanced to an event, 0 if nothing was due before limit
 * (time is then set to limit). */
SYNACK_API int synack_sim_step(synack_sim *s, synack_time_t limit);
/* Step until time `until` has been reached. */
SYNACK_API void synack_sim_run_until(synack_sim *s, synack_time_t until);

#ifdef __cplusplus
}
#endif
#endif
