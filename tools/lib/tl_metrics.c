/* SPDX-License-Identifier: proprietary */
/*
 * RouteLLM metrics (definitions in tl_metrics.h) and the holdout split.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include <xxhash.h>

#include "tl_metrics.h"

struct sidx {
	double s;
	size_t i;
};

/* Highest score first; equal scores by index so the sort itself is deterministic. */
static int cmp_desc(const void *a, const void *b)
{
	const struct sidx *x = a, *y = b;

	if (x->s > y->s)
		return -1;
	if (x->s < y->s)
		return 1;
	return (x->i > y->i) - (x->i < y->i);
}

/*
 * Cumulative gain curve G[k] (sum of strong - weak over the top k, tied
 * groups spread evenly), into g[0..n]. *order receives the sorted pairs
 * when order is not NULL (caller frees).
 */
static int gain_curve(const double *score, const double *strong, const double *weak, size_t n,
		      double *g, struct sidx **order)
{
	struct sidx *o;

	if (n == 0)
		return -EINVAL;
	o = malloc(n * sizeof(*o));
	if (!o)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (!isfinite(score[i]) || !isfinite(strong[i]) || !isfinite(weak[i])) {
			free(o);
			return -EINVAL;
		}
		o[i].s = score[i];
		o[i].i = i;
	}
	qsort(o, n, sizeof(*o), cmp_desc);
	g[0] = 0.0;
	for (size_t a = 0; a < n;) {
		size_t b = a + 1;
		double sum = 0.0;

		while (b < n && o[b].s == o[a].s)
			b++;
		for (size_t k = a; k < b; k++)
			sum += strong[o[k].i] - weak[o[k].i];
		for (size_t k = a + 1; k <= b; k++)
			g[k] = g[a] + sum * (double)(k - a) / (double)(b - a);
		a = b;
	}
	if (order)
		*order = o;
	else
		free(o);
	return 0;
}

/* Summed strong and weak scores of n prompts. */
static void sum_scores(const double *strong, const double *weak, size_t n, double *qs, double *qw)
{
	*qs = 0.0;
	*qw = 0.0;
	for (size_t i = 0; i < n; i++) {
		*qs += strong[i];
		*qw += weak[i];
	}
}

int tl_route_pgr_curve(const double *score, const double *strong, const double *weak,
		       size_t n, double *pgr)
{
	double qs, qw, d;
	int rc;

	if (n == 0)
		return -EINVAL;
	sum_scores(strong, weak, n, &qs, &qw);
	d = qs - qw; /* gap in summed scores: n * (q_strong - q_weak) */
	if (!isfinite(d) || fabs(d) < 1e-12)
		return -EINVAL;
	rc = gain_curve(score, strong, weak, n, pgr, NULL);
	if (rc)
		return rc;
	for (size_t k = 0; k <= n; k++)
		pgr[k] /= d;
	return 0;
}

static double cpt(const double *pgr, size_t n, double x)
{
	for (size_t k = 0; k <= n; k++)
		if (pgr[k] >= x - 1e-12)
			return (double)k / (double)n;
	return 1.0;
}

int tl_route_eval(const double *score, const double *strong, const double *weak, size_t n,
		  struct tl_route_metrics *m)
{
	double *pgr, area = 0.0, qs, qw;
	int rc;

	if (n == 0)
		return -EINVAL;
	pgr = malloc((n + 1) * sizeof(*pgr));
	if (!pgr)
		return -ENOMEM;
	rc = tl_route_pgr_curve(score, strong, weak, n, pgr);
	if (rc)
		goto out;
	for (size_t k = 1; k <= n; k++)
		area += 0.5 * (pgr[k - 1] + pgr[k]);
	sum_scores(strong, weak, n, &qs, &qw);
	m->apgr = area / (double)n;
	m->cpt50 = cpt(pgr, n, 0.5);
	m->cpt80 = cpt(pgr, n, 0.8);
	m->q_strong = qs / (double)n;
	m->q_weak = qw / (double)n;
	m->n = n;
out:
	free(pgr);
	return rc;
}

int tl_route_threshold_for_pgr(const double *score, const double *strong, const double *weak,
			       size_t n, double target, double *share, double *threshold)
{
	double *pgr;
	struct sidx *o = NULL;
	double qs, qw;
	size_t k;
	int rc;

	if (n == 0)
		return -EINVAL;
	pgr = malloc((n + 1) * sizeof(*pgr));
	if (!pgr)
		return -ENOMEM;
	rc = gain_curve(score, strong, weak, n, pgr, &o);
	if (rc)
		goto out;
	sum_scores(strong, weak, n, &qs, &qw);
	if (fabs(qs - qw) < 1e-12) {
		rc = -EINVAL;
		goto out;
	}
	for (k = 0; k <= n; k++)
		if (pgr[k] / (qs - qw) >= target - 1e-12)
			break;
	if (k > n)
		k = n;
	*share = (double)k / (double)n;
	/* route strong when score >= threshold: the k-th highest score (ties go along) */
	*threshold = k == 0 ? nextafter(o[0].s, INFINITY) : o[k - 1].s;
out:
	free(o);
	free(pgr);
	return rc;
}

bool tl_split_holdout(const char *id, size_t len, uint64_t seed, double frac)
{
	uint64_t h = XXH64(id, len, seed);

	return (double)(h >> 11) * 0x1.0p-53 < frac;
}

double tl_rand01(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	return (double)(z >> 11) * 0x1.0p-53;
}
