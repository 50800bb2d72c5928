/* SPDX-License-Identifier: proprietary */
/*
 * Rule scan (fast path): Hyperscan block mode over one text at a time with
 * the lcore's scratch, per-rule hit bookkeeping, weighted per-category counts,
 * post-match verifiers and the strongest overriding action.
 */
#include <errno.h>
#include <string.h>

#include <hs/hs.h>

#include "cls.h"

static inline bool is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

static inline bool is_card_sep(uint8_t c)
{
	return c == ' ' || c == '-';
}

/*
 * Luhn check of the card number that ends at text[end - 1]: walk back over
 * digits, spaces and dashes (trailing separators skipped). Accept when some
 * suffix of 13..19 digits passes Luhn and starts at a number boundary (the
 * byte before its first digit is not a digit: start of text, a separator or
 * anything else), so a valid card preceded by "order 12 " still verifies
 * while a digit string embedded in a longer one does not.
 */
bool cls_luhn_at(const uint8_t *text, size_t end)
{
	size_t i = end;
	uint32_t ndig = 0, sum = 0;

	while (i > 0 && is_card_sep(text[i - 1]))
		i--;
	while (i > 0 && ndig < 19) {
		uint8_t c = text[i - 1];

		if (is_card_sep(c)) {
			i--;
			continue;
		}
		if (!is_digit(c))
			break;
		uint32_t d = (uint32_t)(c - '0');

		if (ndig & 1) {
			d *= 2;
			if (d > 9)
				d -= 9;
		}
		sum += d;
		ndig++;
		i--;
		/* text[i] is this number's first digit when the byte before it is no digit */
		if (ndig >= 13 && sum % 10 == 0 && (i == 0 || !is_digit(text[i - 1])))
			return true;
	}
	return false;
}

bool cls_ssn_at(const uint8_t *text, size_t end)
{
	const uint8_t *s;
	unsigned area, group, serial;

	if (end < 11)
		return false;
	s = text + end - 11;
	for (int i = 0; i < 11; i++) {
		bool dash = i == 3 || i == 6;

		if (dash ? s[i] != '-' : !is_digit(s[i]))
			return false;
	}
	if (end > 11 && is_digit(s[-1]))
		return false;
	area = (unsigned)(s[0] - '0') * 100 + (unsigned)(s[1] - '0') * 10 + (unsigned)(s[2] - '0');
	group = (unsigned)(s[4] - '0') * 10 + (unsigned)(s[5] - '0');
	serial = (unsigned)(s[7] - '0') * 1000 + (unsigned)(s[8] - '0') * 100 +
		 (unsigned)(s[9] - '0') * 10 + (unsigned)(s[10] - '0');
	return area != 0 && area != 666 && area < 900 && group != 0 && serial != 0;
}

static void note_hit(struct cls_ctx *ctx, uint32_t id)
{
	struct cls_scan_result *r = &ctx->res;
	uint16_t s = ctx->slot[id];

	if (s == 0) {
		if (r->n_hit < CLS_MAX_RULES_HIT) {
			r->hit_ids[r->n_hit] = id;
			r->hit_counts[r->n_hit] = 1;
			ctx->slot[id] = (uint16_t)(r->n_hit + 1);
		} else {
			/* beyond the kept list: remember only for the reset */
			ctx->overflow[ctx->n_overflow++] = id;
			ctx->slot[id] = UINT16_MAX;
		}
		r->n_hit++;
	} else if (s != UINT16_MAX) {
		r->hit_counts[s - 1]++;
	}
}

/* Precedence: BLOCK > FORCE_FRONTIER > FORCE_LOCAL > SCORE; enum order. */
static int on_match(unsigned int id, unsigned long long from, unsigned long long to,
		    unsigned int flags, void *arg)
{
	struct cls_ctx *ctx = arg;
	const struct cls_rule *rule;

	(void)from;
	(void)flags;
	if (id >= ctx->pol->n_rules)
		return 0; /* cannot happen with a validated policy; ignore */
	rule = &ctx->pol->rules[id];
	if ((rule->verify == TS_VERIFY_LUHN && !cls_luhn_at(ctx->text, (size_t)to)) ||
	    (rule->verify == TS_VERIFY_SSN && !cls_ssn_at(ctx->text, (size_t)to))) {
		ctx->res.dropped++;
		return 0;
	}
	ctx->res.matches++;
	ctx->res.cat[rule->category] += rule->weight;
	note_hit(ctx, id);
	if (rule->action > ctx->res.action) {
		ctx->res.action = rule->action;
		ctx->res.action_rule = id;
	}
	return 0;
}

void cls_scan_begin(struct cls_ctx *ctx, const struct cls_policy *pol)
{
	struct cls_scan_result *r = &ctx->res;

	/* undo the previous request's marks: only the rules it touched */
	for (uint32_t i = 0; i < r->n_hit && i < CLS_MAX_RULES_HIT; i++)
		ctx->slot[r->hit_ids[i]] = 0;
	for (uint32_t i = 0; i < ctx->n_overflow; i++)
		ctx->slot[ctx->overflow[i]] = 0;
	ctx->n_overflow = 0;
	memset(r, 0, sizeof(*r));
	r->action = TS_ACT_SCORE;
	r->action_rule = UINT32_MAX;
	ctx->pol = pol;
}

/*
 * Every database runs with the same scratch (attached for all of them) and the
 * same callback: ids are rule indexes in each, so hits, counts and actions
 * merge as if one database had been scanned. A rule lives in exactly one
 * database, so no match is counted twice.
 */
int cls_scan_text_gated(struct cls_ctx *ctx, const uint8_t *text, size_t len, uint32_t gates)
{
	const struct cls_policy *pol = ctx->pol;
	hs_error_t e = HS_SUCCESS;

	if (len == 0)
		return 0;
	if (len > UINT32_MAX)
		return -E2BIG;
	ctx->text = text;
	ctx->text_len = (uint32_t)len;
	gates |= 1u << TS_GATE_NONE; /* the ungated rules run on every text */
	for (uint32_t g = 0; g < TS_GATE_COUNT && e == HS_SUCCESS; g++)
		if (pol->dbs[g] && ((gates >> g) & 1u))
			e = hs_scan((const hs_database_t *)pol->dbs[g], (const char *)text,
				    (unsigned int)len, 0, ctx->scratch, on_match, ctx);
	ctx->text = NULL;
	if (e != HS_SUCCESS)
		return e == HS_INVALID ? -EINVAL : -EIO;
	return 0;
}

int cls_scan_text(struct cls_ctx *ctx, const uint8_t *text, size_t len)
{
	return cls_scan_text_gated(ctx, text, len, CLS_GATES_ALL);
}
