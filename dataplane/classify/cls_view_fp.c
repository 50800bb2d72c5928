/* SPDX-License-Identifier: proprietary */
/*
 * The whole decision for one request view (fast path): rule scan, features,
 * score, overriding rules.
 */
#include <errno.h>
#include <string.h>

#include "cls.h"
#include "reqview.h"

static const uint8_t role_map[RV_ROLE_COUNT] = {
	[RV_ROLE_SYSTEM] = CLS_ROLE_SYSTEM,	  [RV_ROLE_DEVELOPER] = CLS_ROLE_SYSTEM,
	[RV_ROLE_USER] = CLS_ROLE_USER,		  [RV_ROLE_ASSISTANT] = CLS_ROLE_ASSISTANT,
	[RV_ROLE_TOOL] = CLS_ROLE_TOOL,		  [RV_ROLE_FUNCTION] = CLS_ROLE_TOOL,
	[RV_ROLE_UNKNOWN] = CLS_ROLE_OTHER,	  [RV_ROLE_PROMPT] = CLS_ROLE_USER,
};

static void view_meta(const struct rv_view *v, struct cls_req_meta *m)
{
	int64_t mt = -1;

	memset(m, 0, sizeof(*m));
	if (v->has & RV_HAS_MAX_TOKENS)
		mt = v->max_tokens;
	else if (v->has & RV_HAS_MAX_COMPLETION_TOKENS)
		mt = v->max_completion_tokens;
	if (mt >= 0) {
		m->has_max_tokens = true;
		m->max_tokens = (uint64_t)mt;
	}
	m->tools = v->ntools;
	m->tool_calls = v->ncalls + v->nroles[RV_ROLE_TOOL] + v->nroles[RV_ROLE_FUNCTION];
	m->images = v->nimages;
	m->audio = v->naudio;
	m->json_format = v->response_format == RV_FMT_JSON_OBJECT ||
			 v->response_format == RV_FMT_JSON_SCHEMA;
	m->stream = (v->has & RV_HAS_STREAM) && v->stream;
	if (v->has & RV_HAS_TEMPERATURE) {
		m->has_temperature = true;
		m->temperature = (float)v->temperature;
	}
	m->completions = v->ep == RV_EP_COMPLETIONS;
}

void cls_view_stats(const struct rv_view *v, struct cls_text_stats *st)
{
	cls_text_stats((const uint8_t *)v->text.p, v->text.len, st);
}

void cls_features_view_stats(const struct rv_view *v, const struct cls_text_stats *block,
			     const struct cls_scan_result *scan, float x[CLS_NFEAT])
{
	struct cls_feat_acc acc;
	struct cls_req_meta meta;
	struct cls_text_stats st = *block;
	uint64_t msg_bytes = 0, seps;

	cls_feat_begin(&acc);
	for (uint32_t i = 0; i < v->nmsgs; i++) {
		const struct rv_msg *m = &v->msgs[i];

		cls_feat_msg(&acc, (uint32_t)m->role < RV_ROLE_COUNT ? role_map[m->role]
								      : CLS_ROLE_OTHER);
		cls_feat_len(&acc, m->text.len);
		msg_bytes += m->text.len;
	}
	/*
	 * One statistics pass over the whole text block instead of one per
	 * message: the block is the message texts joined by single '\n' bytes
	 * (reqview-t.h), which are separators for the word statistics and in no
	 * counted class, so removing them from the byte and newline counts gives
	 * exactly the per-message sums (the unit test checks both ways agree).
	 */
	seps = v->text.len >= msg_bytes ? v->text.len - msg_bytes : 0;
	st.bytes -= seps;
	st.newlines = st.newlines >= seps ? st.newlines - seps : 0;
	cls_feat_stats(&acc, &st);
	view_meta(v, &meta);
	cls_feat_finish(&acc, &meta, scan, x);
}

void cls_features_view(const struct rv_view *v, const struct cls_scan_result *scan,
		       float x[CLS_NFEAT])
{
	struct cls_text_stats st;

	cls_view_stats(v, &st);
	cls_features_view_stats(v, &st, scan, x);
}

/*
 * The view joins every text segment with '\n' into one block (reqview-t.h),
 * so one hs_scan() call per database covers all messages and the completions
 * prompt: one call's fixed cost instead of one per message. A rule cannot
 * match across two messages unless its pattern matches the '\n' between
 * them. The byte statistics come first: they decide which gated databases
 * run (a '\n' separator is no gate byte, so the block's gates are those of
 * its texts) and then feed the features, one pass for both.
 */
int cls_decide(struct cls_ctx *ctx, const struct cls_policy *pol, const struct rv_view *v,
	       struct cls_decision *d)
{
	struct cls_text_stats st;
	int rc = 0;

	/* cls_ctx_attach() allocates the scratch whenever the policy has a database */
	if (ctx->n_slot < pol->n_rules || (!ctx->scratch && cls_policy_has_db(pol))) {
		rc = -EINVAL;
		goto fail;
	}
	cls_view_stats(v, &st);
	cls_scan_begin(ctx, pol);
	rc = cls_scan_text_gated(ctx, (const uint8_t *)v->text.p, v->text.len, cls_gates(&st));
	if (rc)
		goto fail;
	cls_features_view_stats(v, &st, &ctx->res, d->x);
	cls_decide_finish(pol, &ctx->res, d->x, d);
	return 0;

fail:
	memset(d, 0, sizeof(*d));
	d->route = TS_ROUTE_FRONTIER;
	d->reason = CLS_REASON_SCORE;
	d->forced_by = UINT32_MAX;
	d->p_frontier = 1.0f;
	d->threshold = pol->scorer.threshold;
	d->policy_version = pol->version;
	d->scan.action_rule = UINT32_MAX;
	return rc;
}
