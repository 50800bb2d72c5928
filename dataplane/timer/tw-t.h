/* SPDX-License-Identifier: proprietary */
/*
 * Per-worker hierarchical timer wheel: types and constants.
 *
 * Timers are intrusive: a struct tw_timer is embedded in the object that owns it
 * (a TCP connection, an HTTP session) and the expiry callback gets back to the owner
 * with container_of. The wheel owns no memory besides its own struct.
 */
#ifndef TWOSPEED_TW_T_H
#define TWOSPEED_TW_T_H

#include <stdbool.h>
#include <stdint.h>

/* 4 levels of 256 slots: 2^32 ticks ahead (~49.7 days at 1 ms) before clamping. */
#define TW_LEVEL_BITS 8
#define TW_LEVELS 4
#define TW_SLOTS (1u << TW_LEVEL_BITS)
#define TW_SLOT_MASK (TW_SLOTS - 1)
#define TW_BITMAP_WORDS (TW_SLOTS / 64)
/* Largest delay, in ticks, that tw_arm_ticks() accepts; longer ones are clamped.
 * Kept far below 2^63 so wrap-around comparisons of tick numbers stay valid. */
#define TW_MAX_DELAY_TICKS (UINT64_C(1) << 62)

struct tw_wheel;
struct tw_timer;

/*
 * Expiry callback. The timer is already disarmed when this runs, so the callback may
 * re-arm it, cancel or arm any other timer of the same wheel, or free its owner.
 */
typedef void(tw_expire_fn)(struct tw_wheel *w, struct tw_timer *t);

/* Doubly linked circular list node; a slot head is a node without a timer around it. */
struct tw_link {
	struct tw_link *next;
	struct tw_link *prev;
};

struct tw_timer {
	struct tw_link link; /* in a slot list while armed; next == NULL when idle */
	uint64_t expire;     /* absolute tick number at which it fires (wraps) */
	tw_expire_fn *fn;    /* called once per arming */
	uint16_t slot;	     /* level * TW_SLOTS + slot index while armed */
};

/*
 * One wheel per worker lcore; lcore-local, never touched by another thread.
 * Time only moves when the owner calls tw_advance() with its clock, so tests drive it
 * with simulated nanoseconds.
 */
struct tw_wheel {
	/* lcore-local state */
	uint64_t cur;		/* next tick to process; ticks before it are done */
	uint64_t target;	/* last tick due per the clock; cur may lag behind it */
	uint64_t last_ns;	/* clock value passed to the last tw_advance (ns, wraps) */
	uint64_t rem_ns;	/* ns past `target` not yet worth a whole tick */
	uint64_t tick_ns;	/* granularity, ns per tick (> 0) */
	uint64_t armed;		/* timers currently armed */
	uint64_t expired_total; /* callbacks run since init */
	void *owner;		/* caller's context (the lcore), for callbacks */
	uint64_t occupied[TW_LEVELS][TW_BITMAP_WORDS]; /* bit set: slot list not empty */
	struct tw_link slots[TW_LEVELS][TW_SLOTS];     /* list heads */
};

#endif /* TWOSPEED_TW_T_H */
