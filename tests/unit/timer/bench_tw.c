/* SPDX-License-Identifier: proprietary */
/*
 * Micro-benchmark (thread CPU time, so a loaded machine inflates it less) of the timer wheel (not a
 * test). Simulated 1 ms ticks; delays drawn like TCP timers (RTO 200 ms..3 s, idle 60 s, a few far
 * ones). Prints ns per arm, cancel and expiry beside a baseline in the same run (writing the same
 * timer structs without a wheel).
 *
 *   build-x/tests/unit/timer/bench_tw [timers]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tw.h"

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static uint64_t g_fired;

static void cb(struct tw_wheel *w, struct tw_timer *t)
{
	(void)w;
	(void)t;
	g_fired++;
}

static uint64_t rng_state = 88172645463325252u;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000000;
	static struct tw_wheel w;
	struct tw_timer *t;
	uint64_t *delay;
	double t0, t1, t2, t3, t4, t5, b0, b1;
	uint64_t now = 0;
	unsigned int calls = 0;

	if (n <= 0)
		n = 1000000;
	t = calloc((size_t)n, sizeof(*t));
	delay = calloc((size_t)n, sizeof(*delay));
	if (t == NULL || delay == NULL)
		return 1;
	for (long i = 0; i < n; i++) {
		uint64_t r = rng() % 100;

		delay[i] = r < 80 ? 200 + rng() % 2800 : r < 99 ? 60000 : 3600000 + rng() % 1000;
		tw_timer_init(&t[i]);
	}
	tw_init(&w, 1000000, 0, 0, NULL);
	b0 = now_ns();
	for (long i = 0; i < n; i++) {
		t[i].expire = delay[i];
		t[i].fn = cb;
	}
	b1 = now_ns();
	t0 = now_ns();
	for (long i = 0; i < n; i++)
		tw_arm_ticks(&w, &t[i], delay[i], cb);
	t1 = now_ns();
	for (long i = 0; i < n; i += 2)
		tw_cancel(&w, &t[i]);
	t2 = now_ns();
	/* poll loop: 1 ms per call, at most 256 expiries per call */
	while (tw_armed_count(&w) != 0) {
		now += 1000000;
		tw_advance(&w, now, 256);
		calls++;
	}
	t3 = now_ns();
	/* the common poll-loop case: the clock moved less than a tick */
	tw_arm_ticks(&w, &t[0], 1000000, cb);
	t4 = now_ns();
	for (long i = 0; i < 10 * n; i++)
		tw_advance(&w, now + (uint64_t)i % 1000000, 256);
	t5 = now_ns();
	printf("advance within a tick: %.1f ns/call\n", (t5 - t4) / (double)(10 * n));
	printf("timers %ld: arm %.1f ns, cancel %.1f ns; expiry phase %.1f ms for %lu expiries"
	       " in %u advance calls of 1 ms (%.1f ns/call incl. callbacks)\n",
	       n, (t1 - t0) / (double)n, (t2 - t1) / (double)(n / 2), (t3 - t2) / 1e6,
	       (unsigned long)g_fired, calls, (t3 - t2) / calls);
	printf("baseline: filling the same structs %.1f ns/timer\n", (b1 - b0) / (double)n);
	free(t);
	free(delay);
	return g_fired == (uint64_t)(n / 2) ? 0 : 1;
}
