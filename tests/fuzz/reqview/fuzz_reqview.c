/* SPDX-License-Identifier: Proprietary */
/*
 * libFuzzer target: rv_parse() on arbitrary bytes.  The first byte picks the endpoint
 * and the limits (default or tight), the rest is the body, copied into an exact-size
 * heap buffer so ASan catches any read past it.  Checks the view's invariants on
 * success: every slice inside the arena or the body, text slices inside view.text,
 * counts within limits; and that the build without AVX-512 gives the same view
 * field by field (same_view(), shared with the unit suite).
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "reqview.h"
#include "../../unit/reqview/rv_same.h"

/* The same parser built without AVX-512 (fz_rv_ref in meson.build). */
int rv_parse_avx2(struct rv_ctx *ctx, enum rv_endpoint ep, const char *body, size_t len,
		  struct rv_view *out);

static struct rv_ctx ctx_default, ctx_tight, ref_default, ref_tight;
static bool ready;

static void setup(void)
{
	struct rv_limits d = { .max_body = 1u << 20, .max_depth = 32, .max_messages = 1024,
			       .max_text = 1u << 20, .max_parts = 64, .max_tools = 128 };
	struct rv_limits t = { .max_body = 1u << 10, .max_depth = 8, .max_messages = 4,
			       .max_text = 1u << 10, .max_parts = 3, .max_tools = 2 };

	if (rv_ctx_init(&ctx_default, &d) != 0 || rv_ctx_init(&ctx_tight, &t) != 0 ||
	    rv_ctx_init(&ref_default, &d) != 0 || rv_ctx_init(&ref_tight, &t) != 0)
		abort();
	ready = true;
}

/*
 * Offset of the first byte that does not start a well-formed UTF-8 sequence (RFC 3629
 * table 3-7 of Unicode), or n when all of b is well-formed; a sequence cut by the end
 * counts as well-formed (the parser calls that TRUNCATED).  Written independently of
 * the parser's decoder, as the reference for its vector check.
 */
static size_t first_bad_utf8(const uint8_t *b, size_t n)
{
	size_t i = 0;

	while (i < n) {
		uint8_t c = b[i];
		uint8_t lo = 0x80, hi = 0xBF;
		size_t len, j;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF)
			len = 2;
		else if (c >= 0xE0 && c <= 0xEF)
			len = 3;
		else if (c >= 0xF0 && c <= 0xF4)
			len = 4;
		else
			return i;
		if (c == 0xE0)
			lo = 0xA0;
		if (c == 0xED)
			hi = 0x9F;
		if (c == 0xF0)
			lo = 0x90;
		if (c == 0xF4)
			hi = 0x8F;
		for (j = 1; j < len; j++) {
			if (i + j >= n)
				return n;
			if (j == 1 ? (b[i + 1] < lo || b[i + 1] > hi) : (b[i + j] & 0xC0) != 0x80)
				return i;
		}
		i += len;
	}
	return n;
}

static bool inside(const char *p, uint32_t len, const char *lo, size_t n)
{
	return p >= lo && p + len <= lo + n;
}

static bool str_ok(struct rv_str s, const struct rv_ctx *c, const char *body, size_t n)
{
	return s.len == 0 || inside(s.p, s.len, c->arena, c->lim.max_text) ||
	       inside(s.p, s.len, body, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rv_ctx *c, *refc;
	struct rv_view v, ref;
	enum rv_endpoint ep;
	char *body;
	size_t n;
	uint32_t i;
	int rc;

	if (!ready)
		setup();
	if (size == 0)
		return 0;
	c = data[0] & 1 ? &ctx_tight : &ctx_default;
	ep = data[0] & 2 ? RV_EP_COMPLETIONS : RV_EP_CHAT;
	n = size - 1;
	body = malloc(n ? n : 1);
	if (body == NULL)
		return 0;
	memcpy(body, data + 1, n);
	rc = rv_parse(c, ep, body, n, &v);
	refc = c == &ctx_tight ? &ref_tight : &ref_default;
	if (!same_view(rc, &v, c, rv_parse_avx2(refc, ep, body, n, &ref), &ref, refc, body, n))
		abort();
	if (rc < 0) {
		if (v.err == RV_OK || v.err >= RV_ERR_COUNT || rc != -(int)v.err || v.err_off > n)
			abort();
		if (rv_strerror(v.err) == NULL)
			abort();
		/* Everything before a BAD_UTF8 was accepted, so it is the first bad byte. */
		if (v.err == RV_ERR_BAD_UTF8 &&
		    first_bad_utf8((const uint8_t *)body, n) != v.err_off)
			abort();
	} else {
		if ((size_t)rc != n || v.nmsgs > c->lim.max_messages ||
		    v.text.len > c->lim.max_text || v.ntools > c->lim.max_tools ||
		    v.ncalls > c->lim.max_tools || v.text.p != c->arena)
			abort();
		if (!str_ok(v.model, c, body, n) || !str_ok(v.user, c, body, n))
			abort();
		/* An accepted body is valid UTF-8 throughout, and so is its text. */
		if (first_bad_utf8((const uint8_t *)body, n) != n ||
		    first_bad_utf8((const uint8_t *)v.text.p, v.text.len) != v.text.len)
			abort();
		if (v.model_span.off + (uint64_t)v.model_span.len > n ||
		    v.stop.off + (uint64_t)v.stop.len > n ||
		    v.metadata.off + (uint64_t)v.metadata.len > n ||
		    v.tool_choice.off + (uint64_t)v.tool_choice.len > n)
			abort();
		if ((v.has & RV_HAS_MODEL) &&
		    (v.model_span.len < 2 || body[v.model_span.off] != '"' ||
		     body[v.model_span.off + v.model_span.len - 1] != '"'))
			abort();
		for (i = 0; i < v.nmsgs; i++) {
			const struct rv_msg *m = &v.msgs[i];

			if (m->role >= RV_ROLE_COUNT || m->nparts > c->lim.max_parts ||
			    !str_ok(m->name, c, body, n))
				abort();
			if (m->text.len != 0 && !inside(m->text.p, m->text.len, v.text.p, v.text.len))
				abort();
			if (m->first_call + (uint64_t)m->ncalls > v.ncalls)
				abort();
		}
		for (i = 0; i < v.ntools; i++)
			if (!str_ok(v.tool_names[i], c, body, n))
				abort();
		for (i = 0; i < v.ncalls; i++)
			if (!str_ok(v.call_names[i], c, body, n))
				abort();
	}
	free(body);
	return 0;
}
