/* SPDX-License-Identifier: proprietary */
/*
 * Rule set -> block-mode Hyperscan database, and the choice of compile target.
 * Control plane only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"
#include "rules_priv.h"
#include "tserr.h"

/*
 * RULES_TARGET_AUTO: what the measurement in tools/policy/lint-notes.md found
 * fastest for the shipped rule set on the development machine (Xeon with
 * AVX-512): see rules_auto_variant in the target table below. Every target
 * is derived from the running CPU by removing features, so the choice is safe
 * on a CPU that lacks them (masking an absent feature is a no-op).
 */
const struct rules_variant rules_variants[] = {
	{"native", 0, -1},
	{"avx2", HS_CPU_FEATURES_AVX512 | HS_CPU_FEATURES_AVX512VBMI, -1},
	{"sse", HS_CPU_FEATURES_AVX2 | HS_CPU_FEATURES_AVX512 | HS_CPU_FEATURES_AVX512VBMI, -1},
	/* Tune variants, measured by rules_lint(compare_targets) only. Hyperscan 5.4
	 * does not know this CPU's family and reports tune 0 (generic) for native. */
	{"native/skx", 0, HS_TUNE_FAMILY_SKX},
	{"native/icx", 0, HS_TUNE_FAMILY_ICX},
	{"avx2/hsw", HS_CPU_FEATURES_AVX512 | HS_CPU_FEATURES_AVX512VBMI, HS_TUNE_FAMILY_HSW},
	{"avx2/skl", HS_CPU_FEATURES_AVX512 | HS_CPU_FEATURES_AVX512VBMI, HS_TUNE_FAMILY_SKL},
	{"sse/snb", HS_CPU_FEATURES_AVX2 | HS_CPU_FEATURES_AVX512 | HS_CPU_FEATURES_AVX512VBMI,
	 HS_TUNE_FAMILY_SNB},
};
const size_t rules_n_variants = sizeof(rules_variants) / sizeof(rules_variants[0]);

/* Index into rules_variants of each public target; AUTO is the measured winner. */
static const size_t target_variant[RULES_TARGET_COUNT] = {
	[RULES_TARGET_AUTO] = RULES_AUTO_VARIANT,
	[RULES_TARGET_NATIVE] = 0,
	[RULES_TARGET_AVX2] = 1,
	[RULES_TARGET_SSE] = 2,
};

static const char *const target_names[RULES_TARGET_COUNT] = {
	[RULES_TARGET_AUTO] = "auto",
	[RULES_TARGET_NATIVE] = "native",
	[RULES_TARGET_AVX2] = "avx2",
	[RULES_TARGET_SSE] = "sse",
};

const char *rules_target_name(enum rules_target t)
{
	return (unsigned)t < RULES_TARGET_COUNT ? target_names[t] : NULL;
}

int rules_target_from_name(const char *name, enum rules_target *t)
{
	for (unsigned i = 0; i < RULES_TARGET_COUNT; i++) {
		if (strcmp(name, target_names[i]) == 0) {
			*t = (enum rules_target)i;
			return 0;
		}
	}
	return -EINVAL;
}

int rules_variant_platform(size_t v, hs_platform_info_t *plat)
{
	if (v >= rules_n_variants)
		return -EINVAL;
	if (hs_populate_platform(plat) != HS_SUCCESS)
		return -ENOTSUP;
	plat->cpu_features &= ~rules_variants[v].drop;
	if (rules_variants[v].tune >= 0)
		plat->tune = (unsigned int)rules_variants[v].tune;
	return 0;
}

int rules_platform(enum rules_target t, hs_platform_info_t *plat)
{
	if ((unsigned)t >= RULES_TARGET_COUNT)
		return -EINVAL;
	return rules_variant_platform(target_variant[t], plat);
}

#define GATE_ANY UINT32_MAX

/*
 * Compiles rules [first, first + n) whose gate is gate (GATE_ANY: every
 * gate), leaving out rule skip (UINT32_MAX: none); Hyperscan ids stay the
 * rule indexes either way. No rule selected is "empty rule set".
 */
static int compile_sel(const struct rules_set *set, uint32_t first, uint32_t n, uint32_t skip,
		       uint32_t gate, const hs_platform_info_t *plat, hs_database_t **db,
		       char *err, size_t errlen)
{
	const char **exprs = NULL;
	unsigned int *flags = NULL;
	unsigned int *ids = NULL;
	hs_expr_ext_t *ext = NULL;
	const hs_expr_ext_t **extp = NULL;
	hs_compile_error_t *cerr = NULL;
	hs_platform_info_t auto_plat;
	uint32_t m = 0; /* rules kept after skip */
	int rc;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (n == 0 || first > set->n || n > set->n - first ||
	    (n == 1 && skip == first)) {
		tserr(err, errlen, "rules: empty rule set");
		return -EINVAL;
	}
	if (plat == NULL) {
		rc = rules_platform(RULES_TARGET_AUTO, &auto_plat);
		if (rc < 0) {
			tserr(err, errlen, "rules: hyperscan does not support this CPU");
			return rc;
		}
		plat = &auto_plat;
	}
	exprs = calloc(n, sizeof(*exprs));
	flags = calloc(n, sizeof(*flags));
	ids = calloc(n, sizeof(*ids));
	ext = calloc(n, sizeof(*ext));
	extp = calloc(n, sizeof(*extp));
	if (exprs == NULL || flags == NULL || ids == NULL || ext == NULL || extp == NULL) {
		rc = -ENOMEM;
		tserr(err, errlen, "rules: out of memory");
		goto free_arrays;
	}
	for (uint32_t i = 0; i < n; i++) {
		const struct rules_rule *r = &set->rules[first + i];
		uint32_t k = m;

		if (first + i == skip || (gate != GATE_ANY && r->gate != gate))
			continue;
		m++;
		exprs[k] = r->pattern;
		flags[k] = r->hs_flags;
		ids[k] = first + i; /* the contract: Hyperscan id == rule index */
		if (r->ext == 0)
			continue;
		if (r->ext & RULES_EXT_MIN_LEN) {
			ext[k].flags |= HS_EXT_FLAG_MIN_LENGTH;
			ext[k].min_length = r->min_len;
		}
		if (r->ext & RULES_EXT_MIN_OFF) {
			ext[k].flags |= HS_EXT_FLAG_MIN_OFFSET;
			ext[k].min_offset = r->min_off;
		}
		if (r->ext & RULES_EXT_MAX_OFF) {
			ext[k].flags |= HS_EXT_FLAG_MAX_OFFSET;
			ext[k].max_offset = r->max_off;
		}
		extp[k] = &ext[k];
	}
	if (m == 0) {
		rc = -EINVAL;
		tserr(err, errlen, "rules: empty rule set");
		goto free_arrays;
	}
	if (hs_compile_ext_multi(exprs, flags, ids, extp, m, HS_MODE_BLOCK, plat, db, &cerr) !=
	    HS_SUCCESS) {
		/* expression is the index into our arrays, or < 0 for a whole-set error. */
		if (cerr != NULL && cerr->expression >= 0 && (uint32_t)cerr->expression < m) {
			const struct rules_rule *r = &set->rules[ids[cerr->expression]];

			tserr(err, errlen, "%s:%u: hyperscan: %s", r->file, r->line, cerr->message);
		} else {
			tserr(err, errlen, "rules: hyperscan: %s",
			     cerr != NULL ? cerr->message : "compile failed");
		}
		rc = -EINVAL;
		if (cerr != NULL && strstr(cerr->message, "memory") != NULL)
			rc = -ENOMEM;
		hs_free_compile_error(cerr);
		goto free_arrays;
	}
	rc = 0;

free_arrays:
	free(extp);
	free(ext);
	free(ids);
	free(flags);
	free(exprs);
	return rc;
}

int rules_compile_range(const struct rules_set *set, uint32_t first, uint32_t n,
			const hs_platform_info_t *plat, hs_database_t **db, char *err,
			size_t errlen)
{
	return compile_sel(set, first, n, UINT32_MAX, GATE_ANY, plat, db, err, errlen);
}

int rules_compile_skip(const struct rules_set *set, uint32_t skip, const hs_platform_info_t *plat,
		       hs_database_t **db, char *err, size_t errlen)
{
	return compile_sel(set, 0, set->n, skip, GATE_ANY, plat, db, err, errlen);
}

int rules_compile(const struct rules_set *set, const hs_platform_info_t *plat,
		  hs_database_t **db, char *err, size_t errlen)
{
	return rules_compile_range(set, 0, set->n, plat, db, err, errlen);
}

int rules_compile_gated(const struct rules_set *set, const hs_platform_info_t *plat,
			hs_database_t *dbs[TS_GATE_COUNT], char *err, size_t errlen)
{
	hs_database_t *out[TS_GATE_COUNT] = {NULL};
	uint32_t used[TS_GATE_COUNT] = {0};
	int rc = 0;

	if (set == NULL || set->n == 0) {
		tserr(err, errlen, "rules: empty rule set");
		return -EINVAL;
	}
	for (uint32_t i = 0; i < set->n; i++) {
		if (set->rules[i].gate >= TS_GATE_COUNT) {
			tserr(err, errlen, "%s:%u: rules: gate %u out of range", set->rules[i].file,
			      set->rules[i].line, set->rules[i].gate);
			return -EINVAL;
		}
		used[set->rules[i].gate]++;
	}
	for (uint32_t g = 0; g < TS_GATE_COUNT && rc == 0; g++)
		if (used[g] != 0)
			rc = compile_sel(set, 0, set->n, UINT32_MAX, g, plat, &out[g], err, errlen);
	if (rc < 0) {
		for (uint32_t g = 0; g < TS_GATE_COUNT; g++)
			hs_free_database(out[g]);
		return rc;
	}
	memcpy(dbs, out, sizeof(out));
	return 0;
}
