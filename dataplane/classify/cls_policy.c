/* SPDX-License-Identifier: proprietary */
/*
 * Policy views and per-lcore contexts (init/control side: allocates).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hs/hs.h>

#include "cls.h"
#include "pol.h"

static const char *const route_names[TS_ROUTE_COUNT] = { "local", "frontier", "cache",
							 "block" };
static const char *const reason_names[] = { "score", "force_local", "force_frontier",
					    "block" };

const char *cls_route_name(uint32_t route)
{
	return route < TS_ROUTE_COUNT ? route_names[route] : NULL;
}

const char *cls_reason_name(uint32_t reason)
{
	return reason < sizeof(reason_names) / sizeof(reason_names[0]) ? reason_names[reason]
									: NULL;
}

int cls_scorer_init(struct cls_scorer *sc, float bias, float threshold,
		    const float mean[CLS_NFEAT], const float scale[CLS_NFEAT],
		    const float weight[CLS_NFEAT])
{
	if (!isfinite(bias) || !isfinite(threshold) || threshold < 0.0f || threshold > 1.0f)
		return -EINVAL;
	for (uint32_t i = 0; i < CLS_NFEAT; i++)
		if (!isfinite(mean[i]) || !isfinite(scale[i]) || !(scale[i] > 0.0f) ||
		    !isfinite(weight[i]))
			return -EINVAL;
	memset(sc, 0, sizeof(*sc));
	sc->bias = bias;
	sc->threshold = threshold;
	for (uint32_t i = 0; i < CLS_NFEAT; i++) {
		sc->mean[i] = mean[i];
		sc->scale[i] = scale[i];
		sc->weight[i] = weight[i];
		sc->coef[i] = weight[i] / scale[i];
		sc->offset[i] = weight[i] * mean[i] / scale[i];
	}
	return 0;
}

static void neutral_scorer(struct cls_scorer *sc)
{
	float zero[CLS_NFEAT] = { 0 }, one[CLS_NFEAT];

	for (uint32_t i = 0; i < CLS_NFEAT; i++)
		one[i] = 1.0f;
	(void)cls_scorer_init(sc, 0.0f, 0.5f, zero, one, zero);
}

static int check_rule(const struct cls_rule *r, uint32_t i, char *err, size_t errlen)
{
	if (r->category >= TS_CAT_COUNT || r->action >= TS_ACT_COUNT ||
	    r->verify >= TS_VERIFY_COUNT || !isfinite(r->weight)) {
		snprintf(err, errlen, "rule %u (%s): category/action/verify/weight out of range",
			 i, r->id ? r->id : "?");
		return -EINVAL;
	}
	return 0;
}

static void free_dbs(const struct hs_database *const dbs[TS_GATE_COUNT])
{
	for (uint32_t g = 0; g < TS_GATE_COUNT; g++)
		if (dbs[g])
			hs_free_database((hs_database_t *)(uintptr_t)dbs[g]);
}

struct cls_policy *cls_policy_from_parts(const struct hs_database *db, bool own_db,
					 const struct cls_rule *rules, uint32_t n_rules,
					 const struct cls_scorer *sc, uint64_t version,
					 char *err, size_t errlen)
{
	const struct hs_database *dbs[TS_GATE_COUNT] = { db };

	return cls_policy_from_parts_gated(dbs, own_db, rules, n_rules, sc, version, err,
					   errlen);
}

struct cls_policy *cls_policy_from_parts_gated(const struct hs_database *const dbs[TS_GATE_COUNT],
					       bool own_db, const struct cls_rule *rules,
					       uint32_t n_rules, const struct cls_scorer *sc,
					       uint64_t version, char *err, size_t errlen)
{
	struct cls_policy *pol;

	if (errlen)
		err[0] = '\0';
	if (n_rules >= UINT16_MAX) {
		snprintf(err, errlen, "too many rules: %u", n_rules);
		goto fail_db;
	}
	for (uint32_t i = 0; i < n_rules; i++)
		if (check_rule(&rules[i], i, err, errlen))
			goto fail_db;
	pol = calloc(1, sizeof(*pol));
	if (!pol) {
		snprintf(err, errlen, "out of memory");
		goto fail_db;
	}
	if (n_rules) {
		pol->rules = calloc(n_rules, sizeof(*pol->rules));
		if (!pol->rules) {
			snprintf(err, errlen, "out of memory");
			goto fail_pol;
		}
		memcpy(pol->rules, rules, n_rules * sizeof(*rules));
	}
	pol->n_rules = n_rules;
	memcpy(pol->dbs, dbs, sizeof(pol->dbs));
	pol->owns_db = own_db;
	pol->version = version;
	if (sc) {
		pol->scorer = *sc;
		pol->has_scorer = true;
	} else {
		neutral_scorer(&pol->scorer);
	}
	snprintf(pol->name, sizeof(pol->name), "in-memory");
	return pol;

fail_pol:
	free(pol);
fail_db:
	if (own_db)
		free_dbs(dbs);
	return NULL;
}

struct cls_policy *cls_policy_from_image(const struct pol_image *img, char *err, size_t errlen)
{
	const struct pol_scorer *ps = pol_image_scorer(img);
	const struct pol_rule *pr = pol_image_rules(img);
	uint32_t n = pol_image_rule_count(img);
	struct cls_rule *rules = NULL;
	const struct hs_database *dbs[TS_GATE_COUNT];
	struct cls_scorer sc;
	struct cls_policy *pol = NULL;

	if (ps->kind != TS_SCORER_LOGISTIC) {
		snprintf(err, errlen, "scorer kind %u not supported", ps->kind);
		return NULL;
	}
	if (pol_image_check_features(img, cls_feat_names, CLS_NFEAT, err, errlen))
		return NULL;
	if (cls_scorer_init(&sc, ps->bias, ps->threshold, ps->mean, ps->scale, ps->weight)) {
		snprintf(err, errlen, "scorer values out of range");
		return NULL;
	}
	if (n) {
		rules = calloc(n, sizeof(*rules));
		if (!rules) {
			snprintf(err, errlen, "out of memory");
			return NULL;
		}
	}
	for (uint32_t i = 0; i < n; i++) {
		rules[i].id = pr[i].id;
		rules[i].category = pr[i].category;
		rules[i].action = pr[i].action;
		rules[i].verify = pr[i].verify;
		rules[i].weight = pr[i].weight;
	}
	for (uint32_t g = 0; g < TS_GATE_COUNT; g++)
		dbs[g] = pol_image_hsdb_gate(img, g);
	pol = cls_policy_from_parts_gated(dbs, false, rules, n, &sc, pol_image_version(img), err,
					  errlen);
	free(rules);
	if (!pol)
		return NULL;
	snprintf(pol->name, sizeof(pol->name), "%s", pol_image_name(img));
	for (uint32_t r = 0; r < TS_ROUTE_COUNT; r++) {
		const struct pol_route *rt = pol_image_route(img, r);

		if (!rt)
			continue;
		snprintf(pol->routes[r].model, sizeof(pol->routes[r].model), "%s", rt->model);
		snprintf(pol->routes[r].upstream, sizeof(pol->routes[r].upstream), "%s",
			 rt->upstream);
	}
	return pol;
}

void cls_policy_free(struct cls_policy *pol)
{
	if (!pol)
		return;
	if (pol->owns_db)
		free_dbs(pol->dbs);
	free(pol->rules);
	free(pol);
}

int cls_ctx_init(struct cls_ctx *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->res.action_rule = UINT32_MAX;
	return 0;
}

int cls_ctx_attach(struct cls_ctx *ctx, const struct cls_policy *pol)
{
	/* one scratch for every database: hs_alloc_scratch grows it to fit each */
	for (uint32_t g = 0; g < TS_GATE_COUNT; g++) {
		hs_error_t e;

		if (!pol->dbs[g])
			continue;
		e = hs_alloc_scratch((const hs_database_t *)pol->dbs[g], &ctx->scratch);
		if (e == HS_NOMEM)
			return -ENOMEM;
		if (e != HS_SUCCESS)
			return -EINVAL;
	}
	if (pol->n_rules > ctx->n_slot) {
		uint16_t *slot = calloc(pol->n_rules, sizeof(*slot));
		uint32_t *ovf = calloc(pol->n_rules, sizeof(*ovf));

		if (!slot || !ovf) {
			free(slot);
			free(ovf);
			return -ENOMEM;
		}
		free(ctx->slot);
		free(ctx->overflow);
		ctx->slot = slot;
		ctx->overflow = ovf;
		ctx->n_slot = pol->n_rules;
		/* fresh arrays: nothing to undo from an earlier request */
		memset(&ctx->res, 0, sizeof(ctx->res));
		ctx->n_overflow = 0;
	}
	return 0;
}

void cls_ctx_fini(struct cls_ctx *ctx)
{
	if (ctx->scratch)
		hs_free_scratch(ctx->scratch);
	ctx->scratch = NULL;
	free(ctx->slot);
	ctx->slot = NULL;
	free(ctx->overflow);
	ctx->overflow = NULL;
	ctx->n_slot = 0;
}
