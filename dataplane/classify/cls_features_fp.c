/* SPDX-License-Identifier: proprietary */
/*
 * Feature vector (fast path). The values are documented in README.md; the
 * order is enum cls_feat. Counts and lengths enter as log1p so that one
 * linear weight covers a 20-byte and a 200-KB request sensibly.
 */
#include <math.h>
#include <string.h>

#include "cls.h"

const char *const cls_feat_names[CLS_NFEAT] = {
	[CLS_F_BYTES_USER] = "bytes_user",
	[CLS_F_BYTES_SYSTEM] = "bytes_system",
	[CLS_F_BYTES_ASSISTANT] = "bytes_assistant",
	[CLS_F_BYTES_TOOL] = "bytes_tool",
	[CLS_F_BYTES_LAST_USER] = "bytes_last_user",
	[CLS_F_EST_TOKENS] = "est_tokens",
	[CLS_F_TURNS] = "turns",
	[CLS_F_HAS_SYSTEM] = "has_system",
	[CLS_F_HAS_ASSISTANT] = "has_assistant",
	[CLS_F_CODE_DENSITY] = "code_density",
	[CLS_F_MATH_DENSITY] = "math_density",
	[CLS_F_DIGIT_DENSITY] = "digit_density",
	[CLS_F_PUNCT_DENSITY] = "punct_density",
	[CLS_F_UPPER_SHARE] = "upper_share",
	[CLS_F_NONASCII_SHARE] = "nonascii_share",
	[CLS_F_CAT_CODE] = "cat_code",
	[CLS_F_CAT_MATH] = "cat_math",
	[CLS_F_CAT_REASONING] = "cat_reasoning",
	[CLS_F_CAT_LONGDOC] = "cat_longdoc",
	[CLS_F_CAT_PII] = "cat_pii",
	[CLS_F_CAT_INJECTION] = "cat_injection",
	[CLS_F_CAT_SCRIPT] = "cat_script",
	[CLS_F_CAT_GREETING] = "cat_greeting",
	[CLS_F_CAT_TRANSLATE] = "cat_translate",
	[CLS_F_CAT_REFORMAT] = "cat_reformat",
	[CLS_F_CAT_EXTRACT] = "cat_extract",
	[CLS_F_CAT_CLASSIFY] = "cat_classify",
	[CLS_F_CAT_CREATIVE] = "cat_creative",
	[CLS_F_CAT_KNOWLEDGE] = "cat_knowledge",
	[CLS_F_MAX_TOKENS] = "max_tokens",
	[CLS_F_HAS_MAX_TOKENS] = "has_max_tokens",
	[CLS_F_TOOLS] = "tools",
	[CLS_F_TOOL_CALLS] = "tool_calls",
	[CLS_F_IMAGES] = "images",
	[CLS_F_AUDIO] = "audio",
	[CLS_F_JSON_FORMAT] = "json_format",
	[CLS_F_STREAM] = "stream",
	[CLS_F_TEMPERATURE] = "temperature",
	[CLS_F_QUESTIONS] = "questions",
	[CLS_F_LINES] = "lines",
	[CLS_F_WORDS] = "words",
	[CLS_F_AVG_WORD] = "avg_word",
	[CLS_F_LONGEST_WORD] = "longest_word",
	[CLS_F_COMPLETIONS] = "completions",
};

void cls_feat_begin(struct cls_feat_acc *acc)
{
	memset(acc, 0, sizeof(*acc));
	acc->cur_role = CLS_ROLE_OTHER;
}

void cls_feat_msg(struct cls_feat_acc *acc, uint32_t role)
{
	if (role >= CLS_ROLE_COUNT)
		role = CLS_ROLE_OTHER;
	acc->cur_role = role;
	acc->role_msgs[role]++;
	acc->messages++;
	if (role == CLS_ROLE_USER)
		acc->last_user_bytes = 0;
}

void cls_feat_len(struct cls_feat_acc *acc, size_t len)
{
	acc->role_bytes[acc->cur_role] += len;
	if (acc->cur_role == CLS_ROLE_USER)
		acc->last_user_bytes += len;
}

void cls_feat_stats(struct cls_feat_acc *acc, const struct cls_text_stats *stp)
{
	const struct cls_text_stats st = *stp;
	struct cls_text_stats *s = &acc->sum;

	s->bytes += st.bytes;
	s->digits += st.digits;
	s->upper += st.upper;
	s->lower += st.lower;
	s->punct += st.punct;
	s->code += st.code;
	s->math += st.math;
	s->nonascii += st.nonascii;
	s->newlines += st.newlines;
	s->questions += st.questions;
	s->wbytes += st.wbytes;
	s->words += st.words;
	if (st.longest > s->longest)
		s->longest = st.longest;
}

void cls_feat_text(struct cls_feat_acc *acc, const uint8_t *text, size_t len)
{
	struct cls_text_stats st;

	if (len == 0)
		return;
	cls_text_stats(text, len, &st);
	cls_feat_len(acc, len);
	cls_feat_stats(acc, &st);
}

static inline float lg(double v)
{
	return (float)log1p(v);
}

static inline float share(uint64_t part, uint64_t whole)
{
	return whole ? (float)((double)part / (double)whole) : 0.0f;
}

/*
 * Token estimate without a tokenizer: ~4 bytes per token for ASCII text,
 * ~3 bytes per token for multi-byte UTF-8 (CJK takes one 3-byte character per
 * token or so, Cyrillic two 2-byte characters), plus 4 tokens of chat framing
 * per message.
 */
static uint64_t est_tokens(const struct cls_feat_acc *acc)
{
	uint64_t na = acc->sum.nonascii;
	uint64_t ascii = acc->sum.bytes - na;

	return (ascii + 3) / 4 + (na + 2) / 3 + 4ull * acc->messages;
}

void cls_feat_finish(const struct cls_feat_acc *acc, const struct cls_req_meta *meta,
		     const struct cls_scan_result *scan, float x[CLS_NFEAT])
{
	const struct cls_text_stats *s = &acc->sum;

	x[CLS_F_BYTES_USER] = lg((double)acc->role_bytes[CLS_ROLE_USER]);
	x[CLS_F_BYTES_SYSTEM] = lg((double)acc->role_bytes[CLS_ROLE_SYSTEM]);
	x[CLS_F_BYTES_ASSISTANT] = lg((double)acc->role_bytes[CLS_ROLE_ASSISTANT]);
	x[CLS_F_BYTES_TOOL] = lg((double)acc->role_bytes[CLS_ROLE_TOOL]);
	x[CLS_F_BYTES_LAST_USER] = lg((double)acc->last_user_bytes);
	x[CLS_F_EST_TOKENS] = lg((double)est_tokens(acc));
	x[CLS_F_TURNS] = lg((double)acc->role_msgs[CLS_ROLE_USER]);
	x[CLS_F_HAS_SYSTEM] = acc->role_msgs[CLS_ROLE_SYSTEM] ? 1.0f : 0.0f;
	x[CLS_F_HAS_ASSISTANT] = acc->role_msgs[CLS_ROLE_ASSISTANT] ? 1.0f : 0.0f;
	x[CLS_F_CODE_DENSITY] = share(s->code, s->bytes);
	x[CLS_F_MATH_DENSITY] = share(s->math, s->bytes);
	x[CLS_F_DIGIT_DENSITY] = share(s->digits, s->bytes);
	x[CLS_F_PUNCT_DENSITY] = share(s->punct, s->bytes);
	x[CLS_F_UPPER_SHARE] = share(s->upper, s->upper + s->lower);
	x[CLS_F_NONASCII_SHARE] = share(s->nonascii, s->bytes);
	for (uint32_t c = 0; c < TS_CAT_COUNT; c++) {
		float v = scan ? scan->cat[c] : 0.0f;

		x[CLS_F_CAT_CODE + c] = v > 0.0f ? lg(v) : 0.0f;
	}
	x[CLS_F_MAX_TOKENS] = meta->has_max_tokens ? lg((double)meta->max_tokens) : 0.0f;
	x[CLS_F_HAS_MAX_TOKENS] = meta->has_max_tokens ? 1.0f : 0.0f;
	x[CLS_F_TOOLS] = lg(meta->tools);
	x[CLS_F_TOOL_CALLS] = lg(meta->tool_calls);
	x[CLS_F_IMAGES] = lg(meta->images);
	x[CLS_F_AUDIO] = lg(meta->audio);
	x[CLS_F_JSON_FORMAT] = meta->json_format ? 1.0f : 0.0f;
	x[CLS_F_STREAM] = meta->stream ? 1.0f : 0.0f;
	x[CLS_F_TEMPERATURE] = meta->has_temperature ? meta->temperature : 1.0f;
	x[CLS_F_QUESTIONS] = lg((double)s->questions);
	x[CLS_F_LINES] = lg((double)s->newlines);
	x[CLS_F_WORDS] = lg((double)s->words);
	x[CLS_F_AVG_WORD] = s->words ? (float)((double)s->wbytes / (double)s->words) : 0.0f;
	x[CLS_F_LONGEST_WORD] = lg(s->longest);
	x[CLS_F_COMPLETIONS] = meta->completions ? 1.0f : 0.0f;
}
