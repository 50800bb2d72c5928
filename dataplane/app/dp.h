/* SPDX-License-Identifier: proprietary */
/*
 * twospeed-dataplane: per-lcore context, poll loop, plain HTTP listener, counters.
 * See README.md. Init path: dp_conf_register(), dp_lcore_init(), dp_counters_print().
 * Each worker lcore runs dp_run() on its own context.
 */
#ifndef TWOSPEED_DP_H
#define TWOSPEED_DP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dp-t.h"

struct tsconf;

/* ---- init path ---- */

/* Registers [dataplane] and [http] (defaults written into dc and hc). */
int dp_conf_register(struct tsconf *c, struct dp_conf *dc, struct dp_http_conf *hc, char *err,
		     size_t errlen);

/* Monotonic clock in ns from the TSC (dp_clock_init() first). */
void dp_clock_init(void);
uint64_t dp_now_ns(void);

/* A TSC reading (rte_get_tsc_cycles) on dp_now_ns()'s clock, ns. */
uint64_t dp_tsc_ns(uint64_t tsc);

/*
 * Prepares the HTTP side of lc (its net and tcp members are initialised by the
 * caller): session pool and head buffers on socket, the idle-timer wheel, and the
 * listener when hc->port != 0. Returns 0, -ENOMEM, or -EADDRINUSE/-EINVAL when the
 * listener cannot be opened.
 */
int dp_http_init(struct dp_lcore *lc, int socket, uint64_t now_ns);

/* Frees the session pool (connections must be gone: after tcp_abort_all). */
void dp_http_fini(struct dp_lcore *lc);

/* Prints every non-zero counter of every module summed over the workers ("NAME VALUE"
 * lines) and, with more than one worker, per worker ("NAME VALUE @lcoreN"). */
void dp_counters_print(FILE *out, struct dp_lcore *const *lcs, uint16_t n, const char *why);

extern const char *const dp_ctr_names[DP_C_COUNT];

/* The worker's loop until ctl->stop, then the drain: listener closed, sessions
 * closed, connections given [dataplane] drain_timeout to finish, the rest reset. */
void dp_run(struct dp_lcore *lc);

/* ---- fast path ---- */

/* One poll-loop iteration: clock, ARP upkeep, one RX burst through net and TCP, TCP
 * timers, HTTP idle timers, TX flush. Returns the frames received + left to send
 * (0: nothing to do). */
unsigned int dp_poll(struct dp_lcore *lc);

/* Resumes the sessions whose input waited for send space, where space opened. */
void dp_http_poll_blocked(struct dp_lcore *lc);

/* Stops the listener and closes every HTTP session (FIN after queued bytes). */
void dp_http_stop(struct dp_lcore *lc);

#endif /* TWOSPEED_DP_H */
