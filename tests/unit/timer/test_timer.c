/* SPDX-License-Identifier: proprietary */
/*
 * CUnit suite for the per-worker timer wheel (dataplane/timer). Simulated time only.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "tw.h"

#define MS UINT64_C(1000000) /* ns per 1 ms tick */

struct item {
	struct tw_timer t;
	uint32_t id;
	uint64_t want; /* tick it must fire on */
	uint64_t fired_at;
	uint32_t fires;
};

#define ITEM(tp) ((struct item *)(void *)((char *)(tp)-offsetof(struct item, t)))

/* firing log shared by the callbacks of one test */
static uint32_t g_log[8192];
static uint64_t g_log_tick[8192];
static size_t g_nlog;

static void log_cb(struct tw_wheel *w, struct tw_timer *t)
{
	struct item *it = ITEM(t);

	it->fires++;
	it->fired_at = tw_now_tick(w);
	if (g_nlog < sizeof(g_log) / sizeof(g_log[0])) {
		g_log[g_nlog] = it->id;
		g_log_tick[g_nlog] = it->fired_at;
	}
	g_nlog++;
}

static uint64_t rng_state;

static uint64_t rng(void)
{
	/* xorshift64*: deterministic, seeded per test */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * UINT64_C(2685821657736338717);
}

static struct tw_wheel g_w;
static struct item g_items[4096];

static void reset(uint64_t first_tick, uint64_t now_ns)
{
	CU_ASSERT_EQUAL_FATAL(tw_init(&g_w, MS, now_ns, first_tick, NULL), 0);
	memset(g_items, 0, sizeof(g_items));
	for (size_t i = 0; i < sizeof(g_items) / sizeof(g_items[0]); i++) {
		tw_timer_init(&g_items[i].t);
		g_items[i].id = (uint32_t)i;
	}
	g_nlog = 0;
}

static void test_init_einval(void)
{
	CU_ASSERT_EQUAL(tw_init(NULL, MS, 0, 0, NULL), -EINVAL);
	CU_ASSERT_EQUAL(tw_init(&g_w, 0, 0, 0, NULL), -EINVAL);
	CU_ASSERT_EQUAL(tw_init(&g_w, (UINT64_C(1) << 40) + 1, 0, 0, NULL), -EINVAL);
	CU_ASSERT_EQUAL(tw_init(&g_w, MS, 0, 0, NULL), 0);
	CU_ASSERT_EQUAL(tw_armed_count(&g_w), 0);
	/* nothing armed: advancing far is one step, and fires nothing */
	CU_ASSERT_EQUAL(tw_advance(&g_w, 1000000 * MS, 16), 0);
	CU_ASSERT_FALSE(tw_behind(&g_w));
}

/* 3000 timers with delays over levels 0..2, clock moved in random steps: every timer
 * fires once, exactly on its tick, and the log is ordered by tick. */
static void test_order_exact(void)
{
	const size_t n = 3000;
	uint64_t now = 0;
	size_t i;

	reset(0, 0);
	rng_state = 0x9e3779b97f4a7c15u;
	for (i = 0; i < n; i++) {
		uint64_t d = rng() % 70000;

		tw_arm_ticks(&g_w, &g_items[i].t, d, log_cb);
		g_items[i].want = g_items[i].t.expire;
	}
	CU_ASSERT_EQUAL(tw_armed_count(&g_w), n);
	while (tw_armed_count(&g_w) != 0 && now < 80000 * MS) {
		now += (1 + rng() % 3000) * MS;
		tw_advance(&g_w, now, 100000);
	}
	CU_ASSERT_EQUAL(g_nlog, n);
	for (i = 0; i < n; i++) {
		CU_ASSERT_EQUAL(g_items[i].fires, 1);
		CU_ASSERT_EQUAL(g_items[i].fired_at, g_items[i].want);
	}
	for (i = 1; i < n; i++)
		CU_ASSERT(g_log_tick[i - 1] <= g_log_tick[i]);
}

/* Never early: advancing to one tick before a timer's tick leaves it armed. */
static void test_not_early(void)
{
	reset(0, 0);
	tw_arm_ticks(&g_w, &g_items[0].t, 300, log_cb);
	/* clock starts at tick -1 (target = first_tick - 1): 300 ticks later is 299 */
	CU_ASSERT_EQUAL(g_items[0].t.expire, 299);
	CU_ASSERT_EQUAL(tw_advance(&g_w, 299 * MS, 8), 0); /* target 298 */
	CU_ASSERT_TRUE(tw_timer_armed(&g_items[0].t));
	CU_ASSERT_EQUAL(tw_ticks_left(&g_w, &g_items[0].t), 1);
	CU_ASSERT_EQUAL(tw_advance(&g_w, 300 * MS - 1, 8), 0);
	CU_ASSERT_EQUAL(tw_advance(&g_w, 300 * MS, 8), 1);
	CU_ASSERT_EQUAL(g_items[0].fired_at, 299);
	CU_ASSERT_FALSE(tw_timer_armed(&g_items[0].t));
}

static void test_cancel(void)
{
	size_t i;

	reset(0, 0);
	for (i = 0; i < 300; i++)
		tw_arm_ticks(&g_w, &g_items[i].t, 10 + i * 37, log_cb);
	for (i = 0; i < 300; i += 3)
		CU_ASSERT_TRUE(tw_cancel(&g_w, &g_items[i].t));
	CU_ASSERT_FALSE(tw_cancel(&g_w, &g_items[0].t));    /* already idle */
	CU_ASSERT_FALSE(tw_cancel(&g_w, &g_items[4000].t)); /* never armed */
	CU_ASSERT_EQUAL(tw_armed_count(&g_w), 200);
	tw_advance(&g_w, 5000 * MS, 1000);
	/* cancel some that already cascaded into lower levels */
	for (i = 1; i < 300; i += 3)
		if (tw_timer_armed(&g_items[i].t))
			CU_ASSERT_TRUE(tw_cancel(&g_w, &g_items[i].t));
	tw_advance(&g_w, 20000 * MS, 1000);
	CU_ASSERT_EQUAL(tw_armed_count(&g_w), 0);
	for (i = 0; i < 300; i++) {
		if (i % 3 == 0)
			CU_ASSERT_EQUAL(g_items[i].fires, 0);
		if (i % 3 == 2)
			CU_ASSERT_EQUAL(g_items[i].fires, 1);
		CU_ASSERT(g_items[i].fires <= 1);
	}
}

/* Re-arming an armed timer moves it. */
static void test_rearm_moves(void)
{
	reset(0, 0);
	tw_arm_ticks(&g_w, &g_items[0].t, 1000, log_cb);
	tw_arm_ticks(&g_w, &g_items[0].t, 5, log_cb);
	CU_ASSERT_EQUAL(tw_armed_count(&g_w), 1);
	tw_advance(&g_w, 2000 * MS, 100);
	CU_ASSERT_EQUAL(g_items[0].fires, 1);
	CU_ASSERT_EQUAL(g_items[0].fired_at, 4);
}

/* Callbacks: periodic self re-arm, cancel of a same-tick and a later timer, and an
 * immediate (0-tick) timer armed from inside a callback. */
static struct item *g_victim_now, *g_victim_later, *g_spawn;

static void periodic_cb(struct tw_wheel *w, struct tw_timer *t)
{
	log_cb(w, t);
	if (ITEM(t)->fires < 10)
		tw_arm_ticks(w, t, 10, periodic_cb);
}

static void killer_cb(struct tw_wheel *w, struct tw_timer *t)
{
	log_cb(w, t);
	CU_ASSERT_TRUE(tw_cancel(w, &g_victim_now->t));
	CU_ASSERT_TRUE(tw_cancel(w, &g_victim_later->t));
	tw_arm_ticks(w, &g_spawn->t, 0, log_cb);
}

static void test_callbacks(void)
{
	reset(0, 0);
	g_victim_now = &g_items[2];
	g_victim_later = &g_items[3];
	g_spawn = &g_items[4];
	tw_arm_ticks(&g_w, &g_items[0].t, 10, periodic_cb);
	tw_arm_ticks(&g_w, &g_items[1].t, 50, killer_cb);
	tw_arm_ticks(&g_w, &g_items[2].t, 50, log_cb); /* same tick, after killer */
	tw_arm_ticks(&g_w, &g_items[3].t, 400, log_cb);
	/* a poll loop: one advance per ms; the spawned timer fires in the same call */
	for (uint64_t ms = 1; ms <= 1000; ms++) {
		unsigned int got = tw_advance(&g_w, ms * MS, 1000);

		if (ms == 50)
			CU_ASSERT_EQUAL(got, 3); /* periodic, killer, spawned */
	}
	CU_ASSERT_EQUAL(g_items[0].fires, 10);
	CU_ASSERT_EQUAL(g_items[0].fired_at, 99);
	CU_ASSERT_EQUAL(g_items[1].fires, 1);
	CU_ASSERT_EQUAL(g_items[2].fires, 0);
	CU_ASSERT_EQUAL(g_items[3].fires, 0);
	CU_ASSERT_EQUAL(g_items[4].fires, 1);
	CU_ASSERT_EQUAL(g_items[4].fired_at, 49);
	CU_ASSERT_EQUAL(tw_armed_count(&g_w), 0);
}

/* A callback running late (one big clock jump) re-arms relative to the clock, not
 * to the late tick it fires on. */
static void test_rearm_late(void)
{
	reset(0, 0);
	tw_arm_ticks(&g_w, &g_items[0].t, 10, periodic_cb);
	CU_ASSERT_EQUAL(tw_advance(&g_w, 1000 * MS, 1000), 1);
	CU_ASSERT_EQUAL(g_items[0].fired_at, 9);
	CU_ASSERT_EQUAL(g_items[0].t.expire, 999 + 10);
	CU_ASSERT_EQUAL(tw_advance(&g_w, 1010 * MS, 1000), 1);
	CU_ASSERT_EQUAL(g_items[0].fired_at, 1009);
}

/* Every level boundary, from several phases of the tick counter, including delays past
 * the wheel's 2^32-tick span; each timer fires exactly on its tick, never before. */
static void test_cascade_boundaries(void)
{
	static const uint64_t delays[] = {
		1,
		2,
		255,
		256,
		257,
		511,
		512,
		65535,
		65536,
		65537,
		65792,
		(1u << 24) - 1,
		1u << 24,
		(1u << 24) + 1,
		(1u << 24) + 256,
		UINT64_C(0xffffffff),
		UINT64_C(0x100000000),
		UINT64_C(0x100000001),
		UINT64_C(0x1ffffffff),
		(UINT64_C(1) << 40) + 12345,
	};
	static const uint64_t phases[] = {0, 1, 128, 255, 256, 65535, 0xffffff, 0x1234567};
	size_t d, ph;

	for (ph = 0; ph < sizeof(phases) / sizeof(phases[0]); ph++) {
		for (d = 0; d < sizeof(delays) / sizeof(delays[0]); d++) {
			/* the first tick processed is phases[ph] + 1 */
			uint64_t first = phases[ph] + 1, want;
			struct item *it = &g_items[0];

			reset(first, 0);
			tw_arm_ticks(&g_w, &it->t, delays[d], log_cb);
			want = phases[ph] + delays[d];
			CU_ASSERT_EQUAL(it->t.expire, want);
			/* a second, near timer keeps the wheel walking */
			tw_arm_ticks(&g_w, &g_items[1].t, 3, log_cb);
			tw_advance(&g_w, (delays[d] - 1) * MS, 100);
			CU_ASSERT_EQUAL(it->fires, 0);
			tw_advance(&g_w, delays[d] * MS, 100);
			CU_ASSERT_EQUAL(it->fires, 1);
			CU_ASSERT_EQUAL(it->fired_at, want);
		}
	}
}

static void test_max_delay_clamped(void)
{
	reset(0, 0);
	tw_arm_ticks(&g_w, &g_items[0].t, UINT64_MAX, log_cb);
	CU_ASSERT_EQUAL(tw_ticks_left(&g_w, &g_items[0].t), TW_MAX_DELAY_TICKS);
	tw_arm_ns(&g_w, &g_items[1].t, UINT64_MAX, log_cb);
	CU_ASSERT_EQUAL(tw_ticks_left(&g_w, &g_items[1].t), TW_MAX_DELAY_TICKS);
	CU_ASSERT_EQUAL(tw_advance(&g_w, UINT64_C(1) << 62, 10), 0);
	CU_ASSERT_EQUAL(tw_armed_count(&g_w), 2);
}

/* 1000 timers due on one tick, a budget of 64 per call. */
static void test_budget(void)
{
	size_t i, total = 0, calls = 0;
	unsigned int got;

	reset(0, 0);
	for (i = 0; i < 1000; i++)
		tw_arm_ticks(&g_w, &g_items[i].t, 5, log_cb);
	got = tw_advance(&g_w, 10 * MS, 64);
	CU_ASSERT_EQUAL(got, 64);
	CU_ASSERT_TRUE(tw_behind(&g_w));
	total += got;
	/* same clock value: the backlog drains 64 at a time */
	while (tw_behind(&g_w) && calls < 100) {
		got = tw_advance(&g_w, 10 * MS, 64);
		CU_ASSERT(got <= 64);
		total += got;
		calls++;
	}
	CU_ASSERT_EQUAL(total, 1000);
	CU_ASSERT_EQUAL(calls, 15);
	CU_ASSERT_EQUAL(got, 1000 % 64);
	/* one slot, filled in arming order, drains in arming order */
	for (i = 0; i < 1000; i++)
		CU_ASSERT_EQUAL(g_log[i], i);
	CU_ASSERT_FALSE(tw_behind(&g_w));
	/* budget 0 is treated as 1 */
	tw_arm_ticks(&g_w, &g_items[0].t, 0, log_cb);
	tw_arm_ticks(&g_w, &g_items[1].t, 0, log_cb);
	CU_ASSERT_EQUAL(tw_advance(&g_w, 11 * MS, 0), 1);
	CU_ASSERT_EQUAL(tw_advance(&g_w, 11 * MS, 0), 1);
}

/* While behind on budget, a new timer still counts its delay from the clock. */
static void test_arm_while_behind(void)
{
	size_t i;

	reset(0, 0);
	for (i = 0; i < 10; i++)
		tw_arm_ticks(&g_w, &g_items[i].t, 1, log_cb);
	tw_advance(&g_w, 100 * MS, 2); /* clock at tick 99, wheel at tick 0 */
	tw_arm_ticks(&g_w, &g_items[100].t, 10, log_cb);
	CU_ASSERT_EQUAL(g_items[100].t.expire, 109);
	tw_advance(&g_w, 100 * MS, 100);
	CU_ASSERT_EQUAL(g_items[100].fires, 0);
	tw_advance(&g_w, 110 * MS, 100);
	CU_ASSERT_EQUAL(g_items[100].fires, 1);
	CU_ASSERT_EQUAL(g_items[100].fired_at, 109);
}

/* Tick counter wrapping through UINT64_MAX, timers on both sides and across levels. */
static void test_tick_wrap(void)
{
	static const uint64_t delays[] = {1, 100, 299, 300, 301, 1000, 70000, 20000000};
	const uint64_t first = UINT64_MAX - 299; /* tick 0 comes 300 ticks in */
	size_t i;

	reset(first, 0);
	for (i = 0; i < sizeof(delays) / sizeof(delays[0]); i++) {
		tw_arm_ticks(&g_w, &g_items[i].t, delays[i], log_cb);
		g_items[i].want = first - 1 + delays[i];
	}
	tw_advance(&g_w, 25000000 * MS, 1000);
	for (i = 0; i < sizeof(delays) / sizeof(delays[0]); i++) {
		CU_ASSERT_EQUAL(g_items[i].fires, 1);
		CU_ASSERT_EQUAL(g_items[i].fired_at, g_items[i].want);
	}
	for (i = 1; i < g_nlog; i++)
		CU_ASSERT_EQUAL(g_log[i - 1] + 1, g_log[i]);
}

/* The ns clock wrapping through UINT64_MAX, and a clock stepping backwards. */
static void test_ns_wrap_and_backwards(void)
{
	uint64_t start = UINT64_MAX - 5 * MS + 1;

	reset(0, start);
	tw_arm_ns(&g_w, &g_items[0].t, 10 * MS, log_cb);
	CU_ASSERT_EQUAL(tw_advance(&g_w, start + 9 * MS, 4), 0); /* wrapped, 9 ms in */
	CU_ASSERT_EQUAL(tw_advance(&g_w, start + 5 * MS, 4), 0); /* backwards: ignored */
	CU_ASSERT_EQUAL(g_items[0].fires, 0);
	CU_ASSERT_EQUAL(tw_advance(&g_w, start + 10 * MS, 4), 1);
}

/* Nanosecond delays round up to ticks from the exact clock value. */
static void test_arm_ns_rounding(void)
{
	reset(0, 0);
	tw_advance(&g_w, 1500000, 4);			/* 1.5 ms: clock at tick 0 + 0.5 ms */
	tw_arm_ns(&g_w, &g_items[0].t, 1 * MS, log_cb); /* due at 2.5 ms */
	tw_arm_ns(&g_w, &g_items[1].t, 0, log_cb);	/* due now: next advance */
	/* "now" is 1.5 ms, between ticks: the 0-delay timer fires on the next tick */
	CU_ASSERT_EQUAL(tw_advance(&g_w, 1999999, 4), 0);
	CU_ASSERT_EQUAL(tw_advance(&g_w, 2000000, 4), 1);
	CU_ASSERT_EQUAL(g_items[1].fires, 1);
	CU_ASSERT_EQUAL(tw_advance(&g_w, 2999999, 4), 0);
	CU_ASSERT_EQUAL(tw_advance(&g_w, 3000000, 4), 1);
	CU_ASSERT_EQUAL(g_items[0].fires, 1);
}

/*
 * Model check: random arms (all levels, beyond the wheel's span), cancels, re-arms
 * and cross-timer actions from inside callbacks, random clock steps (from sub-tick to
 * 2^26 ticks) and random budgets, from several tick-counter phases including one
 * about to wrap. Every expiry must be of an armed timer, exactly on its tick, in tick
 * order; when tw_advance() is not behind, nothing due may be left armed.
 */
#define MODEL_N 512

static uint64_t m_expire[MODEL_N]; /* tick each armed timer must fire on */
static bool m_armed[MODEL_N];
static uint64_t m_last_tick;
static bool m_any_fired;
static unsigned int m_errors;

static uint64_t model_delay(void)
{
	switch (rng() % 8) {
	case 0:
		return 0;
	case 1:
	case 2:
		return rng() % 300;
	case 3:
	case 4:
		return rng() % 70000;
	case 5:
		return rng() % (UINT64_C(1) << 25);
	case 6:
		return rng() % (UINT64_C(1) << 34);
	default:
		return 255 + rng() % 3;
	}
}

static void model_arm(struct tw_wheel *w, uint32_t i, tw_expire_fn *fn)
{
	uint64_t d = model_delay();

	tw_arm_ticks(w, &g_items[i].t, d, fn);
	m_expire[i] = w->target + d;
	/* ticks already processed cannot fire any more: the next one does */
	if ((int64_t)(m_expire[i] - tw_now_tick(w)) < 0)
		m_expire[i] = tw_now_tick(w);
	m_armed[i] = true;
}

static void model_cb(struct tw_wheel *w, struct tw_timer *t)
{
	uint32_t i = ITEM(t)->id, j = (uint32_t)(rng() % MODEL_N);
	uint64_t now = tw_now_tick(w);

	if (!m_armed[i] || m_expire[i] != now || (int64_t)(now - w->target) > 0 ||
	    (m_any_fired && (int64_t)(now - m_last_tick) < 0)) {
		if (m_errors++ == 0)
			fprintf(stderr,
				"\nmodel: timer %u armed %d want %llu fired %llu clock %llu last "
				"%llu\n",
				i, m_armed[i], (unsigned long long)m_expire[i],
				(unsigned long long)now, (unsigned long long)w->target,
				(unsigned long long)m_last_tick);
	}
	m_armed[i] = false;
	m_any_fired = true;
	m_last_tick = now;
	switch (rng() % 4) {
	case 0:
		model_arm(w, i, model_cb); /* re-arm itself */
		break;
	case 1:
		if (tw_cancel(w, &g_items[j].t) != m_armed[j])
			m_errors++;
		m_armed[j] = false;
		break;
	case 2:
		model_arm(w, j, model_cb); /* arm or move another one */
		break;
	default:
		break;
	}
}

static void test_random_model(void)
{
	static const uint64_t starts[] = {0, 1, 255, 65535, UINT64_MAX - 100000, 0x123456789a};

	rng_state = 0x2545f4914f6cdd1du;
	for (size_t sidx = 0; sidx < sizeof(starts) / sizeof(starts[0]); sidx++) {
		uint64_t now = 0;

		reset(starts[sidx], 0);
		memset(m_armed, 0, sizeof(m_armed));
		m_any_fired = false;
		m_errors = 0;
		for (uint32_t i = 0; i < MODEL_N; i++)
			if (rng() % 2 == 0)
				model_arm(&g_w, i, model_cb);
		for (int step = 0; step < 3000; step++) {
			uint64_t r = rng() % 100, ticks;
			uint32_t i = (uint32_t)(rng() % MODEL_N);

			if (r < 10)
				model_arm(&g_w, i, model_cb);
			else if (r < 15) {
				if (tw_cancel(&g_w, &g_items[i].t) != m_armed[i])
					m_errors++;
				m_armed[i] = false;
			}
			r = rng() % 100;
			ticks = r < 60	 ? rng() % 4
				: r < 90 ? rng() % 1000
					 : rng() % (UINT64_C(1) << 26);
			now += ticks * MS + rng() % MS;
			tw_advance(&g_w, now, 1 + (unsigned int)(rng() % 64));
			while (tw_behind(&g_w))
				tw_advance(&g_w, now, 1 + (unsigned int)(rng() % 64));
			/* caught up: every armed timer lies in the future */
			for (uint32_t k = 0; k < MODEL_N; k++)
				if (m_armed[k] && (int64_t)(m_expire[k] - g_w.target) <= 0 &&
				    m_errors++ == 0)
					fprintf(stderr,
						"\nmodel: timer %u due %llu not fired, clock "
						"%llu\n",
						k, (unsigned long long)m_expire[k],
						(unsigned long long)g_w.target);
		}
		/* and the wheel agrees with the model on what is armed */
		uint64_t armed = 0;

		for (uint32_t k = 0; k < MODEL_N; k++) {
			armed += m_armed[k];
			if (m_armed[k] != tw_timer_armed(&g_items[k].t))
				m_errors++;
		}
		CU_ASSERT_EQUAL(armed, tw_armed_count(&g_w));
		CU_ASSERT_EQUAL(m_errors, 0);
		CU_ASSERT_TRUE(m_any_fired);
	}
}

int main(void)
{
	CU_pSuite s;
	unsigned int fails;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	s = CU_add_suite("timer", NULL, NULL);
	if (s == NULL || !CU_add_test(s, "init_einval", test_init_einval) ||
	    !CU_add_test(s, "order_exact", test_order_exact) ||
	    !CU_add_test(s, "not_early", test_not_early) ||
	    !CU_add_test(s, "cancel", test_cancel) ||
	    !CU_add_test(s, "rearm_moves", test_rearm_moves) ||
	    !CU_add_test(s, "callbacks", test_callbacks) ||
	    !CU_add_test(s, "rearm_late", test_rearm_late) ||
	    !CU_add_test(s, "cascade_boundaries", test_cascade_boundaries) ||
	    !CU_add_test(s, "max_delay_clamped", test_max_delay_clamped) ||
	    !CU_add_test(s, "budget", test_budget) ||
	    !CU_add_test(s, "arm_while_behind", test_arm_while_behind) ||
	    !CU_add_test(s, "tick_wrap", test_tick_wrap) ||
	    !CU_add_test(s, "ns_wrap_and_backwards", test_ns_wrap_and_backwards) ||
	    !CU_add_test(s, "arm_ns_rounding", test_arm_ns_rounding) ||
	    !CU_add_test(s, "random_model", test_random_model)) {
		CU_cleanup_registry();
		return 2;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	fails = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return fails != 0 ? 1 : 0;
}
