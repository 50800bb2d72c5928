/* SPDX-License-Identifier: proprietary */
/*
 * Decision explanation as JSON into a bounded buffer (tools, control).
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>

#include "cls.h"

struct jbuf {
	char *p;
	size_t len; /* capacity, bytes */
	size_t n;   /* used, bytes (without NUL) */
	bool full;
};

__attribute__((format(printf, 2, 3))) static void jprintf(struct jbuf *b, const char *fmt, ...)
{
	va_list ap;
	int k;

	if (b->full)
		return;
	va_start(ap, fmt);
	k = vsnprintf(b->p + b->n, b->len - b->n, fmt, ap);
	va_end(ap);
	if (k < 0 || (size_t)k >= b->len - b->n) {
		b->full = true;
		return;
	}
	b->n += (size_t)k;
}

static void jstr(struct jbuf *b, const char *s)
{
	jprintf(b, "\"");
	for (; s && *s && !b->full; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			jprintf(b, "\\%c", c);
		else if (c < 0x20)
			jprintf(b, "\\u%04x", c);
		else
			jprintf(b, "%c", c);
	}
	jprintf(b, "\"");
}

/* JSON has no NaN or infinity: write null for them. */
static void jnum(struct jbuf *b, double v)
{
	if (isfinite(v))
		jprintf(b, "%.6g", v);
	else
		jprintf(b, "null");
}

int cls_explain_json(const struct cls_decision *d, const struct cls_policy *pol, char *buf,
		     size_t len)
{
	struct jbuf b = { .p = buf, .len = len };
	uint32_t kept = d->scan.n_hit < CLS_MAX_RULES_HIT ? d->scan.n_hit : CLS_MAX_RULES_HIT;

	if (len == 0)
		return -ENOSPC;
	buf[0] = '\0';
	jprintf(&b, "{\"route\":");
	jstr(&b, cls_route_name(d->route));
	jprintf(&b, ",\"reason\":");
	jstr(&b, cls_reason_name(d->reason));
	jprintf(&b, ",\"p_frontier\":");
	jnum(&b, d->p_frontier);
	jprintf(&b, ",\"threshold\":");
	jnum(&b, d->threshold);
	jprintf(&b, ",\"policy_version\":%" PRIu64, d->policy_version);
	jprintf(&b, ",\"forced_by\":");
	if (d->forced_by != UINT32_MAX && pol && d->forced_by < pol->n_rules)
		jstr(&b, pol->rules[d->forced_by].id);
	else
		jprintf(&b, "null");
	jprintf(&b, ",\"rules_hit\":[");
	for (uint32_t i = 0; i < kept; i++) {
		uint32_t id = d->scan.hit_ids[i];
		const struct cls_rule *r = pol && id < pol->n_rules ? &pol->rules[id] : NULL;

		jprintf(&b, "%s{\"id\":", i ? "," : "");
		jstr(&b, r ? r->id : "?");
		if (r) {
			static const char *const cats[TS_CAT_COUNT] = {
				"code",	    "math",    "reasoning", "longdoc",	 "pii",
				"injection", "script",  "greeting",  "translate", "reformat",
				"extract",   "classify", "creative", "knowledge",
			};
			static const char *const acts[TS_ACT_COUNT] = {
				"score", "force_local", "force_frontier", "block"
			};

			jprintf(&b, ",\"category\":");
			jstr(&b, cats[r->category]);
			jprintf(&b, ",\"action\":");
			jstr(&b, acts[r->action]);
		}
		jprintf(&b, ",\"count\":%u}", d->scan.hit_counts[i]);
	}
	jprintf(&b, "],\"rules_hit_total\":%u,\"top\":[", d->scan.n_hit);
	for (uint32_t i = 0; i < d->n_top && i < CLS_TOP_K; i++) {
		const struct cls_contrib *c = &d->top[i];

		jprintf(&b, "%s{\"feature\":", i ? "," : "");
		jstr(&b, c->feat < CLS_NFEAT ? cls_feat_names[c->feat] : "?");
		jprintf(&b, ",\"value\":");
		jnum(&b, c->value);
		jprintf(&b, ",\"contribution\":");
		jnum(&b, c->contrib);
		jprintf(&b, "}");
	}
	jprintf(&b, "]}");
	if (b.full)
		return -ENOSPC;
	return (int)b.n;
}
