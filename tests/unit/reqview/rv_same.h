/* SPDX-License-Identifier: Proprietary */
/*
 * Whether two request views of the same body are the same, field by field: the
 * check of the unit suite (every build against the references) and of the
 * fuzz target (the AVX-512 build against the AVX2 one). Needs reqview.h.
 */
#ifndef TWOSPEED_RV_SAME_H
#define TWOSPEED_RV_SAME_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "reqview.h"

/* A slice as an offset: into the body, the arena, or a static "" (-1), else -2. */
static inline int64_t slice_off(struct rv_str s, const char *body, size_t n, const struct rv_ctx *c)
{
	if (s.len == 0)
		return -1;
	if (s.p >= body && s.p + s.len <= body + n)
		return s.p - body;
	if (s.p >= c->arena && s.p + s.len <= c->arena + c->lim.max_text)
		return (int64_t)(1u << 30) + (s.p - c->arena);
	return -2;
}

static inline bool same_str(struct rv_str a, const struct rv_ctx *ca, struct rv_str b,
		     const struct rv_ctx *cb, const char *body, size_t n)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0) &&
	       slice_off(a, body, n, ca) == slice_off(b, body, n, cb);
}

/*
 * Whether two views of body[0..n) are the same: result, error and its offset (a
 * TEXT_TOO_LARGE offset only says where the copy stopped, which depends on the block
 * size, so only its code is compared), and on success every field the parser sets,
 * slices compared by bytes and by where they point.
 */
static inline bool same_view(int ra, const struct rv_view *a, const struct rv_ctx *ca, int rb,
		      const struct rv_view *b, const struct rv_ctx *cb, const char *body, size_t n)
{
	uint32_t i;

	if (ra != rb)
		return false;
	if (ra < 0)
		return a->err == b->err && (a->err == RV_ERR_TEXT_TOO_LARGE ||
					    a->err_off == b->err_off);
	if (a->has != b->has || a->nmsgs != b->nmsgs || a->ntools != b->ntools ||
	    a->ncalls != b->ncalls || a->nparts != b->nparts || a->nimages != b->nimages ||
	    a->naudio != b->naudio || a->nfiles != b->nfiles || a->nstop != b->nstop ||
	    a->nmetadata != b->nmetadata || a->nprompt_tokens != b->nprompt_tokens ||
	    a->response_format != b->response_format ||
	    memcmp(a->nroles, b->nroles, sizeof(a->nroles)) != 0 ||
	    memcmp(&a->model_span, &b->model_span, sizeof(a->model_span)) != 0 ||
	    memcmp(&a->stop, &b->stop, sizeof(a->stop)) != 0 ||
	    memcmp(&a->metadata, &b->metadata, sizeof(a->metadata)) != 0 ||
	    memcmp(&a->tool_choice, &b->tool_choice, sizeof(a->tool_choice)) != 0 ||
	    a->text.len != b->text.len || memcmp(a->text.p, b->text.p, a->text.len) != 0 ||
	    !same_str(a->model, ca, b->model, cb, body, n) ||
	    !same_str(a->user, ca, b->user, cb, body, n))
		return false;
	for (i = 0; i < a->nmsgs; i++) {
		const struct rv_msg *x = &a->msgs[i], *y = &b->msgs[i];

		if (x->role != y->role || x->nparts != y->nparts ||
		    x->ntext_parts != y->ntext_parts || x->nimages != y->nimages ||
		    x->nother != y->nother || x->ncalls != y->ncalls ||
		    x->first_call != y->first_call || x->content_array != y->content_array ||
		    x->has_tool_call_id != y->has_tool_call_id ||
		    !same_str(x->name, ca, y->name, cb, body, n) ||
		    !same_str(x->text, ca, y->text, cb, body, n))
			return false;
	}
	for (i = 0; i < a->ntools; i++)
		if (!same_str(a->tool_names[i], ca, b->tool_names[i], cb, body, n))
			return false;
	for (i = 0; i < a->ncalls; i++)
		if (!same_str(a->call_names[i], ca, b->call_names[i], cb, body, n))
			return false;
	return true;
}

#endif /* TWOSPEED_RV_SAME_H */
