/* SPDX-License-Identifier: proprietary */
/*
 * Logistic scorer and the routing decision (fast path).
 */
#include <math.h>
#include <string.h>

#include "cls.h"

float cls_score(const struct cls_scorer *sc, const float x[CLS_NFEAT], float *contrib,
		float *logit)
{
	float c[CLS_NFEAT];
	float z = sc->bias;

	/* weight * (x - mean) / scale == coef * x - offset (both derived at init) */
	for (uint32_t i = 0; i < CLS_NFEAT; i++)
		c[i] = sc->coef[i] * x[i] - sc->offset[i];
	for (uint32_t i = 0; i < CLS_NFEAT; i++)
		z += c[i];
	if (contrib)
		memcpy(contrib, c, sizeof(c));
	if (logit)
		*logit = z;
	return 1.0f / (1.0f + expf(-z));
}

/* Keep the K largest |contrib| in decreasing order; ties keep the lower index. */
static void top_k(const float *contrib, const float *x, struct cls_decision *d)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < CLS_NFEAT; i++) {
		float a = fabsf(contrib[i]);
		uint32_t j;

		if (a == 0.0f)
			continue;
		if (n == CLS_TOP_K && a <= fabsf(d->top[n - 1].contrib))
			continue;
		j = n < CLS_TOP_K ? n++ : n - 1;
		while (j > 0 && fabsf(d->top[j - 1].contrib) < a) {
			d->top[j] = d->top[j - 1];
			j--;
		}
		d->top[j].feat = i;
		d->top[j].value = x[i];
		d->top[j].contrib = contrib[i];
	}
	d->n_top = n;
}

void cls_decide_finish(const struct cls_policy *pol, const struct cls_scan_result *scan,
		       const float x[CLS_NFEAT], struct cls_decision *d)
{
	float contrib[CLS_NFEAT];

	d->policy_version = pol->version;
	d->threshold = pol->scorer.threshold;
	d->p_frontier = cls_score(&pol->scorer, x, contrib, &d->logit);
	top_k(contrib, x, d);
	if (&d->scan != scan)
		d->scan = *scan;
	if (x != d->x)
		memcpy(d->x, x, sizeof(d->x));

	d->forced_by = scan->action_rule;
	switch (scan->action) {
	case TS_ACT_BLOCK:
		d->route = TS_ROUTE_BLOCK;
		d->reason = CLS_REASON_BLOCK;
		break;
	case TS_ACT_FORCE_FRONTIER:
		d->route = TS_ROUTE_FRONTIER;
		d->reason = CLS_REASON_FORCE_FRONTIER;
		break;
	case TS_ACT_FORCE_LOCAL:
		d->route = TS_ROUTE_LOCAL;
		d->reason = CLS_REASON_FORCE_LOCAL;
		break;
	default:
		d->route = d->p_frontier >= d->threshold ? TS_ROUTE_FRONTIER : TS_ROUTE_LOCAL;
		d->reason = CLS_REASON_SCORE;
		d->forced_by = UINT32_MAX;
		break;
	}
}
