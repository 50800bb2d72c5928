/* SPDX-License-Identifier: proprietary */
/*
 * Routing quality metrics of RouteLLM (arXiv 2406.18665), as defined in
 * shared/data/routing/README.md, and the deterministic holdout split.
 *
 * Prompts are sorted by score, highest first; routing the top k of n sends a
 * share c = k/n to the strong model. quality(k) = (sum of strong_score over
 * the top k + sum of weak_score over the rest) / n;
 * PGR(k) = (quality(k) - quality(0)) / (quality(n) - quality(0)).
 * Ties: prompts with equal scores cannot be told apart by the router, so a
 * threshold inside a tied group routes each of them with the same
 * probability: quality grows linearly across the group (the expectation over
 * every order of the group). The result does not depend on input order.
 * APGR: the mean of PGR over c in [0, 1] for the curve through the points
 * (k/n, PGR(k)), i.e. the trapezoid rule over k = 0..n.
 * CPT(x): the smallest c = k/n with PGR(k) >= x.
 */
#ifndef TWOSPEED_TL_METRICS_H
#define TWOSPEED_TL_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tl_route_metrics {
	double apgr;
	double cpt50;    /* share routed strong to reach PGR 50% */
	double cpt80;    /* share routed strong to reach PGR 80% */
	double q_weak;   /* mean weak_score (all weak) */
	double q_strong; /* mean strong_score (all strong) */
	size_t n;
};

/*
 * Evaluate one router. Returns 0, or -EINVAL when n == 0, a value is not
 * finite, or q_strong == q_weak (PGR undefined), -ENOMEM.
 */
int tl_route_eval(const double *score, const double *strong, const double *weak, size_t n,
		  struct tl_route_metrics *m);

/* PGR curve (n + 1 points, pgr[k] at c = k/n) of the same evaluation; 0 or -errno. */
int tl_route_pgr_curve(const double *score, const double *strong, const double *weak,
		       size_t n, double *pgr);

/*
 * The smallest share c = k/n at which the router's PGR reaches target,
 * and the score threshold that realises it (route strong when score >=
 * threshold). Used by the trainer to place its threshold. 0 or -errno.
 */
int tl_route_threshold_for_pgr(const double *score, const double *strong, const double *weak,
			       size_t n, double target, double *share, double *threshold);

/* Holdout membership of an id: XXH64(id, seed) mapped to [0, 1) < frac. */
bool tl_split_holdout(const char *id, size_t len, uint64_t seed, double frac);

/* Deterministic uniform [0, 1) stream (splitmix64) for random routers. */
double tl_rand01(uint64_t *state);

#endif /* TWOSPEED_TL_METRICS_H */
