/* SPDX-License-Identifier: proprietary */
/*
 * The classifier (prefix cls_): Hyperscan rule scan, feature vector, logistic
 * scorer and routing decision with its explanation.
 *
 * Lifecycle:
 *   init/control  cls_policy_from_image() or cls_policy_from_parts() build an
 *                 immutable policy view; cls_ctx_init() + cls_ctx_attach()
 *                 size one lcore's scratch for it (again on every swap).
 *   fast path     cls_decide(): scan + features + score + overriding rules,
 *                 no allocation, no locks, no syscalls.
 *   tools         cls_explain_json() renders a decision.
 */
#ifndef TWOSPEED_CLS_H
#define TWOSPEED_CLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cls-t.h"

struct pol_image;
struct rv_view;

/* ---- names ---- */

/* Feature names in vector order (CLS_NFEAT entries): the scorer contract. */
extern const char *const cls_feat_names[CLS_NFEAT];
/* "local", "frontier", "cache", "block"; NULL when out of range. */
const char *cls_route_name(uint32_t route);
/* "score", "force_local", "force_frontier", "block"; NULL when out of range. */
const char *cls_reason_name(uint32_t reason);

/* ---- policy view (init/control) ---- */

/*
 * Build a policy view from a validated image. The image must outlive the
 * view (the database and rule ids are borrowed). Refuses, with the reason in
 * err, a scorer whose feature names differ from cls_feat_names or a kind this
 * code cannot evaluate. Returns NULL on refusal or out of memory.
 */
struct cls_policy *cls_policy_from_image(const struct pol_image *img, char *err,
					 size_t errlen);

/*
 * Build a policy view from in-memory parts (the trainer, tests). db may be
 * NULL (no rules); it is freed with the policy when own_db. rules[] is
 * copied, its id strings are borrowed. sc may be NULL: a neutral scorer
 * (p_frontier = 0.5, threshold 0.5). Returns NULL with err on a bad rule
 * field or scorer value, or out of memory (own_db: db freed then too).
 */
struct cls_policy *cls_policy_from_parts(const struct hs_database *db, bool own_db,
					 const struct cls_rule *rules, uint32_t n_rules,
					 const struct cls_scorer *sc, uint64_t version,
					 char *err, size_t errlen);

/*
 * cls_policy_from_parts() with the rules split by gate: dbs[TS_GATE_NONE] the
 * ungated database, dbs[g] the rules of gate g (enum ts_rule_gate), each rule
 * under its index as Hyperscan id; any entry may be NULL. All are freed with
 * the policy (or on failure) when own_db.
 */
struct cls_policy *cls_policy_from_parts_gated(const struct hs_database *const dbs[TS_GATE_COUNT],
					       bool own_db, const struct cls_rule *rules,
					       uint32_t n_rules, const struct cls_scorer *sc,
					       uint64_t version, char *err, size_t errlen);

void cls_policy_free(struct cls_policy *pol);

/* Whether pol has any rule database (then a context needs a scratch). */
static inline bool cls_policy_has_db(const struct cls_policy *pol)
{
	for (uint32_t g = 0; g < TS_GATE_COUNT; g++)
		if (pol->dbs[g])
			return true;
	return false;
}

/*
 * Fill a scorer from its parameters and derive the fast-path coefficients.
 * Returns 0, or -EINVAL when a value is not finite, a scale is <= 0 or the
 * threshold is outside [0, 1].
 */
int cls_scorer_init(struct cls_scorer *sc, float bias, float threshold,
		    const float mean[CLS_NFEAT], const float scale[CLS_NFEAT],
		    const float weight[CLS_NFEAT]);

/* ---- per-lcore context (init) ---- */

/* Zero a context. Returns 0. */
int cls_ctx_init(struct cls_ctx *ctx);
/*
 * Make ctx able to run pol: grow the Hyperscan scratch for its database and
 * the per-rule arrays (never shrink). Call at init and on every policy swap,
 * before the lcore uses pol. Returns 0, -ENOMEM, or -EINVAL (Hyperscan
 * refused the database).
 */
int cls_ctx_attach(struct cls_ctx *ctx, const struct cls_policy *pol);
/* Free what cls_ctx_attach() allocated. */
void cls_ctx_fini(struct cls_ctx *ctx);

/* ---- fast path ---- */

/*
 * One-pass byte statistics with the widest SIMD path compiled in;
 * cls_text_stats_scalar() is the reference every path must match.
 */
void cls_text_stats(const uint8_t *p, size_t n, struct cls_text_stats *st);
void cls_text_stats_scalar(const uint8_t *p, size_t n, struct cls_text_stats *st);
#if defined(__AVX2__)
void cls_text_stats_avx2(const uint8_t *p, size_t n, struct cls_text_stats *st);
#endif
#if defined(__AVX512BW__) && defined(__AVX512DQ__) && defined(__AVX512CD__) && \
	defined(__AVX512VBMI__) && defined(__GFNI__) && defined(__AVX512BITALG__) && \
	defined(__AVX512VPOPCNTDQ__)
/* The class-table and bit-plane path (Ice Lake and later) is compiled in. */
#define CLS_STATS_AVX512X 1
#endif
#if defined(__AVX512BW__)
/* One compare per class and 64 bytes: any AVX-512BW CPU. */
void cls_text_stats_avx512bw(const uint8_t *p, size_t n, struct cls_text_stats *st);
#endif
#if defined(CLS_STATS_AVX512X)
void cls_text_stats_avx512(const uint8_t *p, size_t n, struct cls_text_stats *st);
#endif

/* Every gate bit: scan every database (callers without statistics). */
#define CLS_GATES_ALL ((1u << TS_GATE_COUNT) - 1u)

/*
 * The gates that hold for a text with statistics st: bit g set for enum
 * ts_rule_gate g; bit TS_GATE_NONE always (the ungated database).
 */
static inline uint32_t cls_gates(const struct cls_text_stats *st)
{
	return (1u << TS_GATE_NONE) | ((uint32_t)(st->nonascii != 0) << TS_GATE_NONASCII) |
	       ((uint32_t)(st->at != 0) << TS_GATE_AT) |
	       ((uint32_t)(st->digit_run4 != 0) << TS_GATE_DIGITS);
}

/* Card number verifier for a match ending at text[end - 1] (see cls_scan_fp.c). */
bool cls_luhn_at(const uint8_t *text, size_t end);
/*
 * Whether the 11 bytes text[end - 11 .. end) are a possible US Social
 * Security number NNN-NN-NNNN: area not 000, 666 or 9xx, group not 00,
 * serial not 0000, and no digit right before the area (not the tail of a
 * longer number). end < 11 or a wrong shape: false.
 */
bool cls_ssn_at(const uint8_t *text, size_t end);

/* Reset the scan bookkeeping of ctx for one request under pol. */
void cls_scan_begin(struct cls_ctx *ctx, const struct cls_policy *pol);
/*
 * Scan one text with the ungated database and the gated databases whose bit
 * is set in gates (cls_gates() of the text's statistics); results accumulate
 * in ctx->res. 0, -E2BIG, -EINVAL or -EIO.
 */
int cls_scan_text_gated(struct cls_ctx *ctx, const uint8_t *text, size_t len, uint32_t gates);
/* cls_scan_text_gated() with every database (CLS_GATES_ALL). */
int cls_scan_text(struct cls_ctx *ctx, const uint8_t *text, size_t len);

/*
 * Feature accumulation: begin, then per message msg + text(s), then finish.
 * cls_feat_text() = byte statistics of the text + cls_feat_len() +
 * cls_feat_stats(); a caller holding all texts in one block may instead
 * count lengths per message and add the block's statistics once.
 */
void cls_feat_begin(struct cls_feat_acc *acc);
void cls_feat_msg(struct cls_feat_acc *acc, uint32_t role);
void cls_feat_text(struct cls_feat_acc *acc, const uint8_t *text, size_t len);
void cls_feat_len(struct cls_feat_acc *acc, size_t len);
void cls_feat_stats(struct cls_feat_acc *acc, const struct cls_text_stats *st);
void cls_feat_finish(const struct cls_feat_acc *acc, const struct cls_req_meta *meta,
		     const struct cls_scan_result *scan, float x[CLS_NFEAT]);
/*
 * log1p(v) in float as the features compute it (v > -1; exactly 0 for 0;
 * relative error < 1e-7 against log1p()). For tools and tests.
 */
float cls_log1pf(float v);

/*
 * Logistic score of x: writes each feature's contribution into contrib (may
 * be NULL) and the logit into *logit (may be NULL); returns p_frontier.
 */
float cls_score(const struct cls_scorer *sc, const float x[CLS_NFEAT], float *contrib,
		float *logit);

/*
 * Finish a decision from a scan result and a feature vector: score, top-K
 * contributions, then the overriding action with precedence
 * BLOCK > FORCE_FRONTIER > FORCE_LOCAL > score. The score is computed in
 * every case.
 */
void cls_decide_finish(const struct cls_policy *pol, const struct cls_scan_result *scan,
		       const float x[CLS_NFEAT], struct cls_decision *d);

/*
 * The whole decision for one request view: scan every message text (and the
 * completions prompt), features, score, rules. ctx must be attached to pol.
 * Returns 0, or -EINVAL (ctx not attached to a policy this large) / -EIO
 * (Hyperscan error): then d holds a FRONTIER decision with reason SCORE and
 * p_frontier 1 (fail toward capability, never drop the request).
 */
int cls_decide(struct cls_ctx *ctx, const struct cls_policy *pol, const struct rv_view *v,
	       struct cls_decision *d);

/* Features of a request view without a scan result (no rule hits). */
void cls_features_view(const struct rv_view *v, const struct cls_scan_result *scan,
		       float x[CLS_NFEAT]);
/*
 * The two halves of cls_features_view(), so that one statistics pass serves
 * both the gates of the scan and the features: cls_view_stats() computes the
 * byte statistics of the view's whole text block (v->text, separators
 * included: what the scan sees); cls_features_view_stats() finishes the
 * features from them.
 */
void cls_view_stats(const struct rv_view *v, struct cls_text_stats *st);
void cls_features_view_stats(const struct rv_view *v, const struct cls_text_stats *st,
			     const struct cls_scan_result *scan, float x[CLS_NFEAT]);

/* ---- explanation (tools, control) ---- */

/*
 * Write a decision as one JSON object into buf (NUL-terminated):
 *   {"route":..,"reason":..,"p_frontier":..,"threshold":..,"policy_version":..,
 *    "forced_by":..,"rules_hit":[{"id":..,"category":..,"action":..,"count":..}],
 *    "rules_hit_total":..,"top":[{"feature":..,"value":..,"contribution":..}]}
 * Returns the length written (without the NUL), or -ENOSPC when buf is too small
 * (buf then holds a truncated, unterminated-JSON string: do not use it).
 */
int cls_explain_json(const struct cls_decision *d, const struct cls_policy *pol, char *buf,
		     size_t len);

#endif /* TWOSPEED_CLS_H */
