/* SPDX-License-Identifier: proprietary */
/*
 * Hierarchical timer wheel (Varghese & Lauck scheme 7, as in the classic Linux
 * timer base): 4 levels of 256 slots. Level L holds timers due 256^L..256^(L+1)-1
 * ticks ahead; when the tick counter crosses a level-L boundary the matching level-L
 * slot is emptied and its timers are re-placed one level down ("cascading").
 * Add and cancel are O(1). Expiry is exact to the tick: a timer only reaches a
 * level-0 slot once it is less than 256 ticks away, and level-0 slot i only holds
 * timers due at a tick whose low byte is i.
 *
 * Tick numbers are compared with wrap-around arithmetic, so the counter may wrap.
 * Occupancy bitmaps let tw_advance() skip runs of empty level-0 slots.
 *
 * Fast path: no allocation, no locks, no syscalls, no logging.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "tw.h"

#define TW_CONTAINER(ptr)                                                                          \
	((struct tw_timer *)(void *)((char *)(ptr)-offsetof(struct tw_timer, link)))

static inline void tw_bit_set(struct tw_wheel *w, unsigned int level, unsigned int idx)
{
	w->occupied[level][idx >> 6] |= UINT64_C(1) << (idx & 63);
}

static inline void tw_bit_clear(struct tw_wheel *w, unsigned int level, unsigned int idx)
{
	w->occupied[level][idx >> 6] &= ~(UINT64_C(1) << (idx & 63));
}

int tw_init(struct tw_wheel *w, uint64_t tick_ns, uint64_t now_ns, uint64_t first_tick, void *owner)
{
	unsigned int l, s;

	/* a tick above 2^40 ns (~18 min) is no timer granularity; the bound also keeps
	 * rem_ns + tick_ns + delay arithmetic in tw_arm_ns() far from overflow */
	if (w == NULL || tick_ns == 0 || tick_ns > (UINT64_C(1) << 40))
		return -EINVAL;
	memset(w, 0, sizeof(*w));
	w->cur = first_tick;
	/* target is "the last due tick": one before the first one to process. */
	w->target = first_tick - 1;
	w->last_ns = now_ns;
	w->tick_ns = tick_ns;
	w->owner = owner;
	for (l = 0; l < TW_LEVELS; l++)
		for (s = 0; s < TW_SLOTS; s++)
			w->slots[l][s].next = w->slots[l][s].prev = &w->slots[l][s];
	return 0;
}

void tw_timer_init(struct tw_timer *t)
{
	t->link.next = t->link.prev = NULL;
	t->expire = 0;
	t->fn = NULL;
	t->slot = 0;
}

/* Link an unlinked timer into the slot its expiry tick selects, relative to w->cur. */
static void tw_place(struct tw_wheel *w, struct tw_timer *t)
{
	uint64_t key = t->expire;
	uint64_t delta;
	unsigned int level, idx;
	struct tw_link *head;

	/* Already late (cannot happen through the public API, kept as a guard): fire at
	 * the tick being processed. */
	if ((int64_t)(key - w->cur) < 0)
		key = w->cur;
	delta = key - w->cur;
	if (delta < (UINT64_C(1) << TW_LEVEL_BITS)) {
		level = 0;
	} else if (delta < (UINT64_C(1) << (2 * TW_LEVEL_BITS))) {
		level = 1;
	} else if (delta < (UINT64_C(1) << (3 * TW_LEVEL_BITS))) {
		level = 2;
	} else {
		level = 3;
		/* Beyond the wheel's span: park it in the farthest level-3 slot; when that
		 * slot cascades the timer is re-placed from its true expiry tick. */
		if (delta >= (UINT64_C(1) << (4 * TW_LEVEL_BITS)))
			key = w->cur + ((UINT64_C(1) << (4 * TW_LEVEL_BITS)) - 1);
	}
	idx = (unsigned int)(key >> (level * TW_LEVEL_BITS)) & TW_SLOT_MASK;
	head = &w->slots[level][idx];
	t->slot = (uint16_t)(level * TW_SLOTS + idx);
	t->link.next = head;
	t->link.prev = head->prev;
	head->prev->next = &t->link;
	head->prev = &t->link;
	tw_bit_set(w, level, idx);
}

static void tw_unlink(struct tw_wheel *w, struct tw_timer *t)
{
	unsigned int level = t->slot / TW_SLOTS, idx = t->slot % TW_SLOTS;
	struct tw_link *head = &w->slots[level][idx];

	t->link.prev->next = t->link.next;
	t->link.next->prev = t->link.prev;
	t->link.next = t->link.prev = NULL;
	if (head->next == head)
		tw_bit_clear(w, level, idx);
}

void tw_arm_ticks(struct tw_wheel *w, struct tw_timer *t, uint64_t ticks, tw_expire_fn *fn)
{
	if (tw_timer_armed(t))
		tw_unlink(w, t);
	else
		w->armed++;
	if (ticks > TW_MAX_DELAY_TICKS)
		ticks = TW_MAX_DELAY_TICKS;
	/* Relative to the clock (target), not to cur: when the wheel lags behind on its
	 * budget, a new timer's delay still counts from the time the caller sees. */
	t->expire = w->target + ticks;
	/* Ticks up to the clock are already processed once the wheel caught up: a
	 * 0-tick timer armed then fires on the next tick, and says so in expire. */
	if ((int64_t)(t->expire - w->cur) < 0)
		t->expire = w->cur;
	t->fn = fn;
	tw_place(w, t);
}

void tw_arm_ns(struct tw_wheel *w, struct tw_timer *t, uint64_t delay_ns, tw_expire_fn *fn)
{
	uint64_t ticks;

	/* The clock reads target * tick_ns + rem_ns; round the deadline up to a tick. */
	if (delay_ns > UINT64_MAX - w->rem_ns - w->tick_ns)
		ticks = TW_MAX_DELAY_TICKS;
	else
		ticks = (w->rem_ns + delay_ns + w->tick_ns - 1) / w->tick_ns;
	tw_arm_ticks(w, t, ticks, fn);
}

bool tw_cancel(struct tw_wheel *w, struct tw_timer *t)
{
	if (!tw_timer_armed(t))
		return false;
	tw_unlink(w, t);
	w->armed--;
	return true;
}

/* Empty slot idx of `level` and re-place each of its timers relative to w->cur. */
static void tw_cascade_slot(struct tw_wheel *w, unsigned int level, unsigned int idx)
{
	struct tw_link *head = &w->slots[level][idx];
	struct tw_link tmp;
	struct tw_link *l, *next;

	if (head->next == head)
		return;
	/* Detach the whole list first: a re-placed timer never lands back in this slot
	 * (its delta is now below this level's span), but walking a detached list does
	 * not depend on that. */
	tmp.next = head->next;
	tmp.prev = head->prev;
	tmp.next->prev = &tmp;
	tmp.prev->next = &tmp;
	head->next = head->prev = head;
	tw_bit_clear(w, level, idx);
	for (l = tmp.next; l != &tmp; l = next) {
		next = l->next;
		tw_place(w, TW_CONTAINER(l));
	}
}

/* Called when w->cur has just reached a multiple of 256: cascade every level whose
 * boundary it crosses, highest first so timers can fall several levels in one pass. */
static void tw_cascade(struct tw_wheel *w)
{
	int level;

	for (level = TW_LEVELS - 1; level >= 1; level--) {
		uint64_t low = (UINT64_C(1) << (level * TW_LEVEL_BITS)) - 1;

		if ((w->cur & low) == 0)
			tw_cascade_slot(w, (unsigned int)level,
					(unsigned int)(w->cur >> (level * TW_LEVEL_BITS)) &
						TW_SLOT_MASK);
	}
}

/* First set bit of a 256-bit slot bitmap strictly after pos, wrapping around to
 * 0..pos; -1 when the bitmap is empty. */
static int tw_find_after(const uint64_t bm[TW_BITMAP_WORDS], unsigned int pos)
{
	unsigned int start = (pos + 1) & TW_SLOT_MASK;
	unsigned int k;

	for (k = 0; k <= TW_BITMAP_WORDS; k++) {
		unsigned int word = ((start >> 6) + k) % TW_BITMAP_WORDS;
		uint64_t bits = bm[word];

		/* the first word is visited twice: its high bits first, its low ones last */
		if (k == 0)
			bits &= ~UINT64_C(0) << (start & 63);
		else if (k == TW_BITMAP_WORDS)
			bits &= (start & 63) != 0 ? ~(~UINT64_C(0) << (start & 63)) : 0;
		if (bits != 0)
			return (int)(word * 64 + (unsigned int)__builtin_ctzll(bits));
	}
	return -1;
}

/*
 * The next tick after w->cur at which anything can happen: the next occupied
 * level-0 slot of the current 256-tick block, else the nearest boundary where an
 * occupied slot of some level cascades (or the next block, while level 0 holds
 * timers of it). Skipping the boundaries in between is safe because the slots they
 * would cascade are empty. Needs w->armed != 0.
 */
static uint64_t tw_next_tick(const struct tw_wheel *w)
{
	unsigned int pos = (unsigned int)(w->cur & TW_SLOT_MASK);
	uint64_t best = UINT64_MAX; /* distance in ticks from cur */
	unsigned int level;
	int j = tw_find_after(w->occupied[0], pos);

	if (j > (int)pos)
		return w->cur - pos + (unsigned int)j;
	if (j >= 0)
		best = TW_SLOTS - pos; /* level 0 holds timers of the next block */
	for (level = 1; level < TW_LEVELS; level++) {
		unsigned int shift = level * TW_LEVEL_BITS;
		uint64_t blk = w->cur >> shift;
		unsigned int lpos = (unsigned int)blk & TW_SLOT_MASK;
		uint64_t dist;

		j = tw_find_after(w->occupied[level], lpos);
		if (j < 0)
			continue;
		/* slot j cascades when the block counter's low byte next equals j; the
		 * current slot (j == lpos) cascaded at this block's start, so it waits a
		 * full turn */
		dist = ((blk + ((unsigned int)j > lpos ? (unsigned int)j - lpos
						       : (unsigned int)j + TW_SLOTS - lpos))
			<< shift) -
		       w->cur;
		if (dist < best)
			best = dist;
	}
	/* armed != 0 means some bit is set; stepping one tick keeps a broken invariant
	 * from ever moving the wheel backwards */
	return w->cur + (best != UINT64_MAX ? best : 1);
}

unsigned int tw_advance(struct tw_wheel *w, uint64_t now_ns, unsigned int max_expire)
{
	uint64_t elapsed = now_ns - w->last_ns;
	unsigned int n = 0;

	if (max_expire == 0)
		max_expire = 1;
	/* Modular difference: the ns clock may wrap; a negative step is a clock going
	 * backwards and is ignored (last_ns keeps the latest value seen). */
	if ((int64_t)elapsed > 0) {
		w->last_ns = now_ns;
		w->rem_ns += elapsed;
		if (w->rem_ns >= w->tick_ns) {
			w->target += w->rem_ns / w->tick_ns;
			w->rem_ns %= w->tick_ns;
		}
	}
	while ((int64_t)(w->target - w->cur) >= 0) {
		struct tw_link *head = &w->slots[0][w->cur & TW_SLOT_MASK];
		uint64_t next;

		if (w->armed == 0) {
			/* Nothing anywhere: no slot to run, nothing to cascade. */
			w->cur = w->target + 1;
			break;
		}
		/* Pop from the head each time: a callback may cancel or arm any timer,
		 * including ones in this very slot, so no iterator survives a call. */
		while (head->next != head) {
			struct tw_timer *t;

			if (n == max_expire)
				return n;
			t = TW_CONTAINER(head->next);
			tw_unlink(w, t);
			w->armed--;
			n++;
			w->expired_total++;
			t->fn(w, t);
		}
		next = tw_next_tick(w);
		if ((int64_t)(next - (w->target + 1)) > 0)
			next = w->target + 1;
		w->cur = next;
		if ((w->cur & TW_SLOT_MASK) == 0)
			tw_cascade(w);
	}
	return n;
}

bool tw_behind(const struct tw_wheel *w)
{
	return w->armed != 0 && (int64_t)(w->target - w->cur) >= 0;
}
