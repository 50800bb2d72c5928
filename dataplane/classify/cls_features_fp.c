/* SPDX-License-Identifier: proprietary */
/*
 * Feature vector (fast path). The values are documented in README.md; the
 * order is enum cls_feat. Counts and lengths enter as log1p so that one
 * linear weight covers a 20-byte and a 200-KB request sensibly.
 */
#include <float.h>
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
	s->at += st.at;
	s->digit_run4 |= st.digit_run4;
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

/*
 * log1p for the feature vector, in float: fdlibm's log1pf reduction (also
 * musl's) without its branches, so that the one pass in cls_feat_finish()
 * over the whole vector compiles to SIMD code instead of ~30 calls of glibc's
 * double log1p (most of them on zeros). With u = fl(1 + v) = 2^k * (1 + f),
 * sqrt(2)/2 <= 1 + f < sqrt(2):
 *   log1p(v) = k*ln2 + log(1 + f) + c,  c = (1 + v - u) / u,
 * where c puts back what rounding 1 + v lost (exact for k < 25 and negligible
 * above), so small v keep their full relative precision; log(1 + f) =
 * 2 atanh(s), s = f / (2 + f), with fdlibm's minimax polynomial (s^2..s^8).
 * Accepts v > -1 (the features pass v >= 0); log1p(0) is exactly 0, so the
 * many absent counts cost no rounding. Relative error against log1p() below
 * 1e-7, about one float ulp (8.2e-8 worst over every 7th float of
 * [0, FLT_MAX] and of (-1, 0), 6.0e-8 over the integers below 2^24;
 * tests/unit/classify checks ~10^6 values).
 */
#define LOG1P_LN2_HI 6.9313812256e-01f /* 0x3f317180: ln 2, upper bits (k * hi exact) */
#define LOG1P_LN2_LO 9.0580006145e-06f /* 0x3717f7d1: ln 2 - LOG1P_LN2_HI */
#define LOG1P_LG1 0.66666662693f       /* fdlibm log1pf / logf minimax coefficients */
#define LOG1P_LG2 0.40000972152f
#define LOG1P_LG3 0.28498786688f
#define LOG1P_LG4 0.24279078841f

static inline uint32_t f2u(float f)
{
	uint32_t u;

	memcpy(&u, &f, sizeof(u));
	return u;
}

static inline float u2f(uint32_t u)
{
	float f;

	memcpy(&f, &u, sizeof(f));
	return f;
}

static inline float log1p_fast(float v)
{
	float u = 1.0f + v;
	/* move the exponent step from 2 to sqrt(2) so that 1 + f lands around 1 */
	uint32_t iu = f2u(u) + (0x3f800000u - 0x3f3504f3u);
	int32_t k = (int32_t)(iu >> 23) - 0x7f;
	/* rounding error of 1 + v, exact by Sterbenz (k >= 2: u - v) or 2Sum (k < 2);
	 * both computed and one picked by mask: a branch here (or a ?: that the
	 * compiler turns into one) would keep the caller's loop scalar */
	uint32_t hi = (uint32_t)-(int32_t)(k >= 2);
	float c = u2f((f2u(1.0f - (u - v)) & hi) | (f2u(v - (u - 1.0f)) & ~hi)) / u;
	float f = u2f((iu & 0x007fffffu) + 0x3f3504f3u) - 1.0f;
	float s = f / (2.0f + f);
	float z = s * s;
	float w = z * z;
	float r = z * (LOG1P_LG1 + w * LOG1P_LG3) + w * (LOG1P_LG2 + w * LOG1P_LG4);
	float hfsq = 0.5f * f * f;
	float dk = (float)k;

	return s * (hfsq + r) + (dk * LOG1P_LN2_LO + c) - hfsq + f + dk * LOG1P_LN2_HI;
}

float cls_log1pf(float v)
{
	return log1p_fast(v);
}

/* Ratios in double (counts can exceed float's 24 bits), one division per denominator. */
static inline double inv(uint64_t whole)
{
	return whole ? 1.0 / (double)whole : 0.0;
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

/* The entries of x that enter as log1p(count), in vector order. */
static const uint8_t log_feat[] = {
	CLS_F_BYTES_USER,    CLS_F_BYTES_SYSTEM,  CLS_F_BYTES_ASSISTANT, CLS_F_BYTES_TOOL,
	CLS_F_BYTES_LAST_USER, CLS_F_EST_TOKENS,  CLS_F_TURNS,           CLS_F_CAT_CODE,
	CLS_F_CAT_MATH,      CLS_F_CAT_REASONING, CLS_F_CAT_LONGDOC,     CLS_F_CAT_PII,
	CLS_F_CAT_INJECTION, CLS_F_CAT_SCRIPT,    CLS_F_CAT_GREETING,    CLS_F_CAT_TRANSLATE,
	CLS_F_CAT_REFORMAT,  CLS_F_CAT_EXTRACT,   CLS_F_CAT_CLASSIFY,    CLS_F_CAT_CREATIVE,
	CLS_F_CAT_KNOWLEDGE, CLS_F_MAX_TOKENS,    CLS_F_TOOLS,           CLS_F_TOOL_CALLS,
	CLS_F_IMAGES,        CLS_F_AUDIO,         CLS_F_QUESTIONS,       CLS_F_LINES,
	CLS_F_WORDS,         CLS_F_LONGEST_WORD,
};

#define N_LOG (sizeof(log_feat) / sizeof(log_feat[0]))
#define N_LOG_PAD 32 /* whole AVX vectors of floats */

_Static_assert(N_LOG <= N_LOG_PAD, "log1p inputs fit the padded block");

/*
 * The counts are written into their x[] entries by name, then the log_feat[]
 * entries are gathered into one block of N_LOG_PAD floats (zero padded) that
 * a single branch-free loop turns into log1p values: whole SIMD vectors, no
 * tail, no per-entry call; and scattered back. Counts convert to float first:
 * exact below 2^24, and above it the conversion's relative error (6e-8)
 * shrinks to < 4e-9 through the log.
 */
void cls_feat_finish(const struct cls_feat_acc *acc, const struct cls_req_meta *meta,
		     const struct cls_scan_result *scan, float x[CLS_NFEAT])
{
	const struct cls_text_stats *s = &acc->sum;
	double per_byte = inv(s->bytes);
	float r[N_LOG_PAD] = { 0 }, l[N_LOG_PAD];

	/* the raw counts of the log_feat[] entries, each by its name */
	x[CLS_F_BYTES_USER] = (float)acc->role_bytes[CLS_ROLE_USER];
	x[CLS_F_BYTES_SYSTEM] = (float)acc->role_bytes[CLS_ROLE_SYSTEM];
	x[CLS_F_BYTES_ASSISTANT] = (float)acc->role_bytes[CLS_ROLE_ASSISTANT];
	x[CLS_F_BYTES_TOOL] = (float)acc->role_bytes[CLS_ROLE_TOOL];
	x[CLS_F_BYTES_LAST_USER] = (float)acc->last_user_bytes;
	x[CLS_F_EST_TOKENS] = (float)est_tokens(acc);
	x[CLS_F_TURNS] = (float)acc->role_msgs[CLS_ROLE_USER];
	for (uint32_t c = 0; c < TS_CAT_COUNT; c++) {
		float v = scan ? scan->cat[c] : 0.0f;

		/* not v > 0 (negative weights, NaN): 0, like no hit */
		x[CLS_F_CAT_CODE + c] = v > 0.0f ? v : 0.0f;
	}
	x[CLS_F_MAX_TOKENS] = meta->has_max_tokens ? (float)meta->max_tokens : 0.0f;
	x[CLS_F_TOOLS] = (float)meta->tools;
	x[CLS_F_TOOL_CALLS] = (float)meta->tool_calls;
	x[CLS_F_IMAGES] = (float)meta->images;
	x[CLS_F_AUDIO] = (float)meta->audio;
	x[CLS_F_QUESTIONS] = (float)s->questions;
	x[CLS_F_LINES] = (float)s->newlines;
	x[CLS_F_WORDS] = (float)s->words;
	x[CLS_F_LONGEST_WORD] = (float)s->longest;
	for (uint32_t i = 0; i < N_LOG; i++)
		r[i] = x[log_feat[i]];
	for (uint32_t i = 0; i < N_LOG_PAD; i++)
		l[i] = log1p_fast(r[i]);
	for (uint32_t i = 0; i < N_LOG; i++)
		x[log_feat[i]] = l[i];

	x[CLS_F_HAS_SYSTEM] = acc->role_msgs[CLS_ROLE_SYSTEM] ? 1.0f : 0.0f;
	x[CLS_F_HAS_ASSISTANT] = acc->role_msgs[CLS_ROLE_ASSISTANT] ? 1.0f : 0.0f;
	x[CLS_F_CODE_DENSITY] = (float)((double)s->code * per_byte);
	x[CLS_F_MATH_DENSITY] = (float)((double)s->math * per_byte);
	x[CLS_F_DIGIT_DENSITY] = (float)((double)s->digits * per_byte);
	x[CLS_F_PUNCT_DENSITY] = (float)((double)s->punct * per_byte);
	x[CLS_F_UPPER_SHARE] = (float)((double)s->upper * inv(s->upper + s->lower));
	x[CLS_F_NONASCII_SHARE] = (float)((double)s->nonascii * per_byte);
	x[CLS_F_HAS_MAX_TOKENS] = meta->has_max_tokens ? 1.0f : 0.0f;
	x[CLS_F_JSON_FORMAT] = meta->json_format ? 1.0f : 0.0f;
	x[CLS_F_STREAM] = meta->stream ? 1.0f : 0.0f;
	/*
	 * A finite double beyond float's range (the view accepts "temperature":
	 * 1e300) becomes +-inf here, and 0 * inf in the scorer a NaN logit: clamp
	 * to the largest finite float (NaN, which no parser gives, to -FLT_MAX).
	 */
	x[CLS_F_TEMPERATURE] =
		meta->has_temperature ? fminf(fmaxf(meta->temperature, -FLT_MAX), FLT_MAX) : 1.0f;
	x[CLS_F_AVG_WORD] = (float)((double)s->wbytes * inv(s->words));
	x[CLS_F_COMPLETIONS] = meta->completions ? 1.0f : 0.0f;
}
