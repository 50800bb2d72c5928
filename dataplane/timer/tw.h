/* SPDX-License-Identifier: proprietary */
/*
 * Per-worker hierarchical timer wheel (fast path). See README.md.
 */
#ifndef TWOSPEED_TW_H
#define TWOSPEED_TW_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "tw-t.h"

/*
 * Initialize a wheel whose clock currently reads now_ns, ticking every tick_ns.
 * first_tick is the tick number the wheel starts counting from: 0 in production; tests
 * start near UINT64_MAX to run the tick counter through its wrap-around.
 * Returns 0, or -EINVAL when w is NULL or tick_ns is 0 or above 2^40. Init path.
 */
int tw_init(struct tw_wheel *w, uint64_t tick_ns, uint64_t now_ns, uint64_t first_tick,
	    void *owner);

/* Make a timer idle before its first use (an idle timer may be cancelled freely).
 * All-zero memory is an idle timer too. */
void tw_timer_init(struct tw_timer *t);

/*
 * Arm t to fire `ticks` ticks after the wheel's clock (0: on the next tick processed,
 * which is within the running tw_advance() when armed from a callback).
 * Re-arming an armed timer moves it. Delays above TW_MAX_DELAY_TICKS are clamped.
 * O(1); callable from inside an expiry callback.
 */
void tw_arm_ticks(struct tw_wheel *w, struct tw_timer *t, uint64_t ticks, tw_expire_fn *fn);

/*
 * Arm t to fire no earlier than delay_ns after the clock value last passed to
 * tw_advance()/tw_init() (rounded up to whole ticks).
 */
void tw_arm_ns(struct tw_wheel *w, struct tw_timer *t, uint64_t delay_ns, tw_expire_fn *fn);

/* Disarm t. Returns true when it was armed. O(1); safe on an idle timer. */
bool tw_cancel(struct tw_wheel *w, struct tw_timer *t);

/*
 * Move the wheel's clock to now_ns and run the callbacks of due timers, at most
 * max_expire of them (0 means 1), in expiry-tick order. When the budget runs out the
 * remaining due timers fire on the next call, even if the clock has not moved.
 * A clock that goes backwards is treated as not moving. Returns the number of
 * callbacks run. Fast path.
 */
unsigned int tw_advance(struct tw_wheel *w, uint64_t now_ns, unsigned int max_expire);

/* True when the last tw_advance() stopped on its budget with due work left. */
bool tw_behind(const struct tw_wheel *w);

/* Current tick (the next one to be processed). */
static inline uint64_t tw_now_tick(const struct tw_wheel *w)
{
	return w->cur;
}

static inline bool tw_timer_armed(const struct tw_timer *t)
{
	return t->link.next != NULL;
}

/* Ticks from the wheel's clock until t fires (0 when due or idle). */
static inline uint64_t tw_ticks_left(const struct tw_wheel *w, const struct tw_timer *t)
{
	int64_t d = (int64_t)(t->expire - w->target);

	return (tw_timer_armed(t) && d > 0) ? (uint64_t)d : 0;
}

static inline uint64_t tw_armed_count(const struct tw_wheel *w)
{
	return w->armed;
}

#endif /* TWOSPEED_TW_H */
