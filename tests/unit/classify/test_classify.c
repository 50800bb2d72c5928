/* SPDX-License-Identifier: proprietary */
/*
 * CUnit suite of dataplane/classify and the tools' metric code: byte
 * statistics (SIMD against the scalar reference), features on crafted
 * request views, scorer math, the Luhn verifier, decisions with overriding
 * rules, the JSON explanation, APGR/CPT on hand-computed examples, the
 * holdout split. argv[1], when given, is a policy image whose scorer must
 * match the feature extractor (the build's default image).
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>
#include <hs/hs.h>

#include "cls.h"
#include "pol.h"
#include "reqview.h"
#include "tl_json.h"
#include "tl_metrics.h"

static const char *image_path;
static struct rv_ctx rv;

#define FEQ(a, b) CU_ASSERT_DOUBLE_EQUAL((double)(a), (double)(b), 1e-6)

static int suite_init(void)
{
	struct rv_limits lim = { .max_body = 1 << 20, .max_depth = 32, .max_messages = 64,
				 .max_text = 1 << 20, .max_parts = 16, .max_tools = 16 };

	return rv_ctx_init(&rv, &lim);
}

static int suite_fini(void)
{
	rv_ctx_fini(&rv);
	return 0;
}

static void parse_view(enum rv_endpoint ep, const char *body, struct rv_view *v)
{
	int rc = rv_parse(&rv, ep, body, strlen(body), v);

	CU_ASSERT_EQUAL_FATAL(rc, (int)strlen(body));
}

/* ---- byte statistics ---- */

static void stats_eq(const struct cls_text_stats *a, const struct cls_text_stats *b)
{
	CU_ASSERT_EQUAL(a->bytes, b->bytes);
	CU_ASSERT_EQUAL(a->digits, b->digits);
	CU_ASSERT_EQUAL(a->upper, b->upper);
	CU_ASSERT_EQUAL(a->lower, b->lower);
	CU_ASSERT_EQUAL(a->punct, b->punct);
	CU_ASSERT_EQUAL(a->code, b->code);
	CU_ASSERT_EQUAL(a->math, b->math);
	CU_ASSERT_EQUAL(a->nonascii, b->nonascii);
	CU_ASSERT_EQUAL(a->newlines, b->newlines);
	CU_ASSERT_EQUAL(a->questions, b->questions);
	CU_ASSERT_EQUAL(a->wbytes, b->wbytes);
	CU_ASSERT_EQUAL(a->words, b->words);
	CU_ASSERT_EQUAL(a->longest, b->longest);
	CU_ASSERT_EQUAL(a->at, b->at);
	CU_ASSERT_EQUAL(a->digit_run4, b->digit_run4);
}

/* Every compiled path against the scalar reference; returns the reference. */
static void stats_all(const uint8_t *p, size_t n, struct cls_text_stats *ref)
{
	struct cls_text_stats t;

	cls_text_stats_scalar(p, n, ref);
	cls_text_stats(p, n, &t);
	stats_eq(&t, ref);
#if defined(__AVX2__)
	cls_text_stats_avx2(p, n, &t);
	stats_eq(&t, ref);
#endif
#if defined(__AVX512BW__)
	cls_text_stats_avx512bw(p, n, &t);
	stats_eq(&t, ref);
#endif
#if defined(CLS_STATS_AVX512X)
	cls_text_stats_avx512(p, n, &t);
	stats_eq(&t, ref);
#endif
}

static void test_stats_exact(void)
{
	/* 2 digits, 3 upper, 10 lower, punct { } ? ( ) ; = , and one 2-byte char (é) */
	static const char t[] = "Hi ABc {x}?\nfoo(1); y=2, caf\xc3\xa9";
	struct cls_text_stats s;

	stats_all((const uint8_t *)t, strlen(t), &s);
	CU_ASSERT_EQUAL(s.bytes, strlen(t));
	CU_ASSERT_EQUAL(s.digits, 2);
	CU_ASSERT_EQUAL(s.upper, 3);
	CU_ASSERT_EQUAL(s.lower, 10);
	CU_ASSERT_EQUAL(s.punct, 8);
	CU_ASSERT_EQUAL(s.code, 4);    /* { } ; = */
	CU_ASSERT_EQUAL(s.math, 3);    /* ( ) = */
	CU_ASSERT_EQUAL(s.nonascii, 2);
	CU_ASSERT_EQUAL(s.newlines, 1);
	CU_ASSERT_EQUAL(s.questions, 1);
	CU_ASSERT_EQUAL(s.words, 6);   /* Hi ABc {x}? foo(1); y=2, café */
	CU_ASSERT_EQUAL(s.wbytes, 25);
	CU_ASSERT_EQUAL(s.longest, 7); /* "foo(1);" */
}

static void test_stats_simd_matches_scalar(void)
{
	uint8_t buf[700];
	uint64_t st = 42;

	/* random bytes biased toward text, every length 0..699 */
	for (size_t n = 0; n < sizeof(buf); n++) {
		struct cls_text_stats a;

		for (size_t i = 0; i < n; i++) {
			double r = tl_rand01(&st);

			buf[i] = r < 0.15 ? ' ' : r < 0.2 ? (uint8_t)(tl_rand01(&st) * 256)
					 : (uint8_t)(0x21 + tl_rand01(&st) * 94);
		}
		stats_all(buf, n, &a);
	}
	/* a word over several 64-byte blocks, and the cap */
	memset(buf, 'x', sizeof(buf));
	for (size_t n = 60; n < 400; n += 7) {
		struct cls_text_stats a;

		buf[0] = ' ';
		stats_all(buf, n, &a);
		CU_ASSERT_EQUAL(a.longest, n - 1 > CLS_LONGEST_WORD_CAP ? CLS_LONGEST_WORD_CAP : n - 1);
		CU_ASSERT_EQUAL(a.words, 1);
	}
	/*
	 * Words of every length 1..70 in random order, one separator apart: the
	 * longest word so far grows through every value, so the SIMD paths' "can
	 * this block beat it" gate is exercised at each threshold, inside blocks
	 * and across block edges.
	 */
	for (int rep = 0; rep < 40; rep++) {
		struct cls_text_stats a;
		size_t n = 0;

		while (n < sizeof(buf)) {
			size_t wl = 1 + (size_t)(tl_rand01(&st) * 70);

			for (size_t i = 0; i < wl && n < sizeof(buf); i++)
				buf[n++] = 'a';
			if (n < sizeof(buf))
				buf[n++] = tl_rand01(&st) < 0.5 ? ' ' : '\n';
		}
		stats_all(buf, sizeof(buf) - (size_t)rep, &a);
	}
	/* every byte value once: class tables against the scalar sets */
	for (unsigned c = 0; c < 256; c++)
		buf[c] = (uint8_t)c;
	{
		struct cls_text_stats a;

		stats_all(buf, 256, &a);
		CU_ASSERT_EQUAL(a.code, 14);
		CU_ASSERT_EQUAL(a.math, 12);
		CU_ASSERT_EQUAL(a.punct, 32);
		CU_ASSERT_EQUAL(a.nonascii, 128);
	}
}

/*
 * The AVX-512 path works on groups of 8 blocks (512 bytes) and chunks of 256
 * groups. A word of length L among 1-2 byte words, placed across a block edge
 * inside a group (960, 1088), a group edge (1024, 1536) and near them: the
 * longest word must be L (capped), also when the text ends right after it,
 * when it covers whole 64-byte blocks (the per-block fallback) and when it
 * spans groups.
 */
static void test_stats_group_edges(void)
{
	/* >= 2: the filler's longest word ("ab") */
	static const size_t lens[] = { 2,   3,   5,   31,  63,  64,  65,  127, 128,
				       129, 200, 255, 256, 300, 520, 600 };
	static const size_t edges[] = { 960, 1024, 1088, 1536 }; /* all > 600 + 1 */
	static uint8_t buf[2200];

	for (size_t li = 0; li < sizeof(lens) / sizeof(lens[0]); li++) {
		for (size_t ei = 0; ei < sizeof(edges) / sizeof(edges[0]); ei++) {
			size_t l = lens[li], e = edges[ei];
			size_t starts[] = { e - l - 1, e - l, e - l + 1, e - l / 2, e - 1, e, e + 1 };

			for (size_t si = 0; si < sizeof(starts) / sizeof(starts[0]); si++) {
				size_t at = starts[si];
				size_t want = l > CLS_LONGEST_WORD_CAP ? CLS_LONGEST_WORD_CAP : l;
				struct cls_text_stats a;

				for (size_t i = 0; i < sizeof(buf); i++)
					buf[i] = (uint8_t)"ab c\nd "[i % 7];
				buf[at - 1] = ' ';
				memset(buf + at, 'x', l);
				buf[at + l] = ' ';
				stats_all(buf, sizeof(buf), &a);
				CU_ASSERT_EQUAL(a.longest, want);
				/* the text ends with the word: the run carried out of the last group */
				stats_all(buf, at + l, &a);
				CU_ASSERT_EQUAL(a.longest, want);
			}
		}
	}
}

/*
 * Long texts of one byte value (every lane counter at its largest, over
 * several 128 KB chunks of the AVX-512 path) and a long random text: exact
 * counts, all paths agree.
 */
static void test_stats_long(void)
{
	static uint8_t buf[300000];
	static const uint8_t vals[] = { 'a', 'Z', '7', '{', '=', '\n', '?', '@', 0x7f, 0xc3, ' ' };
	uint64_t st = 7;

	for (size_t vi = 0; vi < sizeof(vals); vi++) {
		struct cls_text_stats a;

		memset(buf, vals[vi], sizeof(buf));
		stats_all(buf, sizeof(buf), &a);
		CU_ASSERT_EQUAL(a.lower, vals[vi] == 'a' ? sizeof(buf) : 0);
		CU_ASSERT_EQUAL(a.newlines, vals[vi] == '\n' ? sizeof(buf) : 0);
		CU_ASSERT_EQUAL(a.nonascii, vals[vi] >= 0x80 ? sizeof(buf) : 0);
	}
	for (size_t i = 0; i < sizeof(buf); i++) {
		double r = tl_rand01(&st);

		buf[i] = r < 0.12  ? ' '
			 : r < 0.2 ? (uint8_t)(tl_rand01(&st) * 256)
			 : r < 0.3 ? (uint8_t)('0' + tl_rand01(&st) * 10)
				   : (uint8_t)(0x21 + tl_rand01(&st) * 94);
	}
	for (size_t n = sizeof(buf) - 3 * 64; n <= sizeof(buf); n += 61) {
		struct cls_text_stats a;

		stats_all(buf, n, &a);
	}
}

/*
 * The in-lane search of the AVX-512 path is skipped when no lane can hold a
 * word longer than the longest so far (a quick test per group of 8 blocks:
 * aligned all-ones bytes, words, dwords). A word of length a in the first
 * group, then one of length a + 1 or a + 2 inside a 64-byte block of the
 * second group at every offset that touches neither block edge: the longest
 * is the second, for every threshold of the test (the first word stays
 * inside block 0, so the longest so far is exactly a).
 */
static void test_stats_longest_gate(void)
{
	static uint8_t buf[1200];

	for (size_t a = 2; a <= 61; a++) {
		for (size_t b = a + 1; b <= a + 2; b++) {
			for (size_t o = 1; o + b < 64; o++) {
				struct cls_text_stats s;

				memset(buf, ' ', sizeof(buf));
				memset(buf + 1, 'a', a); /* inside block 0 */
				memset(buf + 512 + 64 + o, 'b', b);
				stats_all(buf, sizeof(buf), &s);
				CU_ASSERT_EQUAL(s.longest, b);
				CU_ASSERT_EQUAL(s.words, 2);
			}
		}
	}
}

/* Texts that end exactly at an unmapped page: any overread faults. */
static void test_stats_guard_page(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	uint8_t *m = mmap(NULL, (size_t)pg * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			  -1, 0);

	CU_ASSERT_FATAL(m != MAP_FAILED);
	CU_ASSERT_EQUAL_FATAL(mprotect(m + pg, (size_t)pg, PROT_NONE), 0);
	memset(m, 'a', (size_t)pg);
	for (size_t n = 0; n <= 200; n++) {
		struct cls_text_stats s;

		stats_all(m + pg - n, n, &s);
		CU_ASSERT_EQUAL(s.lower, n);
	}
	/* a card number at the very end of the page */
	memcpy(m + pg - 16, "4111111111111111", 16);
	CU_ASSERT_TRUE(cls_luhn_at(m + pg - 16, 16));
	munmap(m, (size_t)pg * 2);
}

/* ---- features ---- */

static void test_features_chat(void)
{
	/* system 9 bytes, user 3 + 5 bytes over two turns, assistant 2 bytes */
	static const char body[] =
		"{\"model\":\"m\",\"max_tokens\":99,\"stream\":true,\"temperature\":0.25,"
		"\"response_format\":{\"type\":\"json_object\"},"
		"\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\"}}],"
		"\"messages\":[{\"role\":\"system\",\"content\":\"Be brief.\"},"
		"{\"role\":\"user\",\"content\":\"Hi?\"},"
		"{\"role\":\"assistant\",\"content\":\"Yo\"},"
		"{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"1+1=\"},"
		"{\"type\":\"image_url\",\"image_url\":{\"url\":\"http://x/y.png\"}}]}]}";
	struct rv_view v;
	float x[CLS_NFEAT];

	parse_view(RV_EP_CHAT, body, &v);
	cls_features_view(&v, NULL, x);
	FEQ(x[CLS_F_BYTES_USER], log1p(7));
	FEQ(x[CLS_F_BYTES_SYSTEM], log1p(9));
	FEQ(x[CLS_F_BYTES_ASSISTANT], log1p(2));
	FEQ(x[CLS_F_BYTES_TOOL], 0);
	FEQ(x[CLS_F_BYTES_LAST_USER], log1p(4));
	/* 18 ASCII bytes -> 5 tokens, + 4 per message x 4 */
	FEQ(x[CLS_F_EST_TOKENS], log1p(5 + 16));
	FEQ(x[CLS_F_TURNS], log1p(2));
	FEQ(x[CLS_F_HAS_SYSTEM], 1);
	FEQ(x[CLS_F_HAS_ASSISTANT], 1);
	/* '=' is both code and math; '+' math: 18 bytes */
	FEQ(x[CLS_F_CODE_DENSITY], 1.0 / 18);
	FEQ(x[CLS_F_MATH_DENSITY], 2.0 / 18);
	FEQ(x[CLS_F_DIGIT_DENSITY], 2.0 / 18);
	FEQ(x[CLS_F_PUNCT_DENSITY], 4.0 / 18); /* . ? + = */
	FEQ(x[CLS_F_UPPER_SHARE], 3.0 / 11);   /* B H Y of BebriefHiYo */
	FEQ(x[CLS_F_NONASCII_SHARE], 0);
	for (int c = 0; c < TS_CAT_COUNT; c++)
		FEQ(x[CLS_F_CAT_CODE + c], 0);
	FEQ(x[CLS_F_MAX_TOKENS], log1p(99));
	FEQ(x[CLS_F_HAS_MAX_TOKENS], 1);
	FEQ(x[CLS_F_TOOLS], log1p(1));
	FEQ(x[CLS_F_TOOL_CALLS], 0);
	FEQ(x[CLS_F_IMAGES], log1p(1));
	FEQ(x[CLS_F_AUDIO], 0);
	FEQ(x[CLS_F_JSON_FORMAT], 1);
	FEQ(x[CLS_F_STREAM], 1);
	FEQ(x[CLS_F_TEMPERATURE], 0.25);
	FEQ(x[CLS_F_QUESTIONS], log1p(1));
	FEQ(x[CLS_F_LINES], 0);
	FEQ(x[CLS_F_WORDS], log1p(5)); /* Be brief. Hi? Yo 1+1= */
	FEQ(x[CLS_F_AVG_WORD], 17.0 / 5);      /* 18 bytes less one space */
	FEQ(x[CLS_F_LONGEST_WORD], log1p(6));
	FEQ(x[CLS_F_COMPLETIONS], 0);
}

static void test_features_completions(void)
{
	/* two prompts; non-ASCII: "Привет" is 12 bytes of Cyrillic */
	static const char body[] = "{\"prompt\":[\"\\u041f\\u0440\\u0438\\u0432\\u0435\\u0442\","
				   "\"a\\nb\"]}";
	struct rv_view v;
	float x[CLS_NFEAT];

	parse_view(RV_EP_COMPLETIONS, body, &v);
	cls_features_view(&v, NULL, x);
	FEQ(x[CLS_F_COMPLETIONS], 1);
	FEQ(x[CLS_F_BYTES_USER], log1p(15));
	FEQ(x[CLS_F_BYTES_LAST_USER], log1p(3));
	FEQ(x[CLS_F_TURNS], log1p(2));
	FEQ(x[CLS_F_NONASCII_SHARE], 12.0 / 15);
	/* ascii 3 -> 1 token, non-ASCII 12 -> 4 tokens, 2 prompts x 4 */
	FEQ(x[CLS_F_EST_TOKENS], log1p(1 + 4 + 8));
	FEQ(x[CLS_F_LINES], log1p(1));
	FEQ(x[CLS_F_HAS_MAX_TOKENS], 0);
	FEQ(x[CLS_F_MAX_TOKENS], 0);
	FEQ(x[CLS_F_TEMPERATURE], 1);
	FEQ(x[CLS_F_UPPER_SHARE], 0);
}

/* The one-pass view path equals per-message accumulation (parts, empty texts, roles). */
static void test_features_view_equals_per_message(void)
{
	static const char body[] =
		"{\"messages\":[{\"role\":\"system\",\"content\":\"sys\\nline\"},"
		"{\"role\":\"user\",\"content\":\"\"},"
		"{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"a b\"},"
		"{\"type\":\"text\",\"text\":\"c?\"}]},"
		"{\"role\":\"assistant\",\"content\":\"x\\n\\ny\"},"
		"{\"role\":\"tool\",\"tool_call_id\":\"t\",\"content\":\"{\\\"k\\\":1}\"},"
		"{\"role\":\"user\",\"content\":\"\\u00e9t\\u00e9 last\"}]}";
	static const uint8_t map[RV_ROLE_COUNT] = {
		[RV_ROLE_SYSTEM] = CLS_ROLE_SYSTEM, [RV_ROLE_DEVELOPER] = CLS_ROLE_SYSTEM,
		[RV_ROLE_USER] = CLS_ROLE_USER, [RV_ROLE_ASSISTANT] = CLS_ROLE_ASSISTANT,
		[RV_ROLE_TOOL] = CLS_ROLE_TOOL, [RV_ROLE_FUNCTION] = CLS_ROLE_TOOL,
		[RV_ROLE_UNKNOWN] = CLS_ROLE_OTHER, [RV_ROLE_PROMPT] = CLS_ROLE_USER,
	};
	struct rv_view v;
	struct cls_feat_acc acc;
	struct cls_req_meta meta = { .tool_calls = 1 };
	float x[CLS_NFEAT], y[CLS_NFEAT];

	parse_view(RV_EP_CHAT, body, &v);
	CU_ASSERT_EQUAL_FATAL(v.nmsgs, 6);
	cls_features_view(&v, NULL, x);
	cls_feat_begin(&acc);
	for (uint32_t i = 0; i < v.nmsgs; i++) {
		cls_feat_msg(&acc, map[v.msgs[i].role]);
		cls_feat_text(&acc, (const uint8_t *)v.msgs[i].text.p, v.msgs[i].text.len);
	}
	cls_feat_finish(&acc, &meta, NULL, y);
	for (int i = 0; i < CLS_NFEAT; i++)
		FEQ(x[i], y[i]);
	FEQ(x[CLS_F_LINES], log1p(4));    /* sys\nline, a b\nc? (parts), x\n\ny */
	FEQ(x[CLS_F_BYTES_LAST_USER], log1p(10)); /* "été last" */
}

/* ---- scorer ---- */

static void test_scorer_math(void)
{
	float mean[CLS_NFEAT] = { 0 }, scale[CLS_NFEAT], w[CLS_NFEAT] = { 0 };
	float x[CLS_NFEAT] = { 0 }, c[CLS_NFEAT], logit;
	struct cls_scorer sc;

	for (int i = 0; i < CLS_NFEAT; i++)
		scale[i] = 1;
	/* bias -1; feature 0: w 2, mean 1, scale 2, x 3 -> 2*(3-1)/2 = 2;
	 * feature 5: w -0.5, mean 0, scale 4, x 2 -> -0.25. logit 0.75. */
	mean[0] = 1;
	scale[0] = 2;
	w[0] = 2;
	x[0] = 3;
	scale[5] = 4;
	w[5] = -0.5f;
	x[5] = 2;
	x[7] = 100; /* weight 0: no contribution */
	CU_ASSERT_EQUAL(cls_scorer_init(&sc, -1, 0.5f, mean, scale, w), 0);
	float p = cls_score(&sc, x, c, &logit);

	FEQ(logit, 0.75);
	FEQ(p, 1.0 / (1.0 + exp(-0.75)));
	FEQ(c[0], 2);
	FEQ(c[5], -0.25);
	FEQ(c[7], 0);
	/* refusals */
	scale[3] = 0;
	CU_ASSERT_EQUAL(cls_scorer_init(&sc, -1, 0.5f, mean, scale, w), -EINVAL);
	scale[3] = 1;
	CU_ASSERT_EQUAL(cls_scorer_init(&sc, -1, 1.5f, mean, scale, w), -EINVAL);
	w[2] = NAN;
	CU_ASSERT_EQUAL(cls_scorer_init(&sc, -1, 0.5f, mean, scale, w), -EINVAL);
}

/* ---- fast log1p and the score's fast paths ---- */

/* |cls_log1pf(v) - log1p(v)| / log1p(v), 0 when both are 0 */
static double log1p_rel_err(float v)
{
	double ref = log1p((double)v), got = cls_log1pf(v);

	return ref != 0.0 ? fabs(got - ref) / fabs(ref) : fabs(got);
}

static void test_log1pf(void)
{
	double worst = 0;

	/* 0 is exactly 0: absent counts must not move the score */
	CU_ASSERT_EQUAL(cls_log1pf(0.0f), 0.0f);
	CU_ASSERT_EQUAL(cls_log1pf(-0.0f), 0.0f);
	/* every integer below 2^18, then every 97th one to 2^24 (the counts) */
	for (uint32_t i = 0; i < (1u << 24); i += i < (1u << 18) ? 1 : 97)
		worst = fmax(worst, log1p_rel_err((float)i));
	/* floats from the smallest subnormal to FLT_MAX, by bit pattern */
	for (uint32_t b = 1; b < 0x7f800000u; b += 1999) {
		float v;

		memcpy(&v, &b, sizeof(v));
		worst = fmax(worst, log1p_rel_err(v));
	}
	/* (-1, 0): the domain's other half */
	for (uint32_t b = 0x80000001u; b < 0xbf800000u; b += 1999) {
		float v;

		memcpy(&v, &b, sizeof(v));
		worst = fmax(worst, log1p_rel_err(v));
	}
	/* edges: the reduction's sqrt(2) boundaries, 2^k - 1, huge counts */
	worst = fmax(worst, log1p_rel_err(0.41421354f));
	worst = fmax(worst, log1p_rel_err(0.41421357f));
	worst = fmax(worst, log1p_rel_err(-0.29289320f));
	worst = fmax(worst, log1p_rel_err(16777215.0f));
	worst = fmax(worst, log1p_rel_err(1.8446744e19f));
	worst = fmax(worst, log1p_rel_err(FLT_MAX));
	worst = fmax(worst, log1p_rel_err(1e-30f));
	CU_ASSERT(worst < 1e-7);
	CU_ASSERT_DOUBLE_EQUAL(cls_log1pf(1e-30f), 1e-30, 1e-37);
}

/* Absent counts give exactly 0; huge counts and temperatures stay finite. */
static void test_features_extremes(void)
{
	struct cls_feat_acc acc;
	struct cls_req_meta meta = { 0 };
	struct cls_scan_result scan = { .action_rule = UINT32_MAX };
	float x[CLS_NFEAT];

	cls_feat_begin(&acc);
	cls_feat_finish(&acc, &meta, NULL, x);
	for (int i = 0; i < CLS_NFEAT; i++)
		CU_ASSERT_EQUAL(x[i], i == CLS_F_TEMPERATURE ? 1.0f : 0.0f);

	/* 2^40 bytes of user text, 2^60 max_tokens, a weighted category sum */
	cls_feat_msg(&acc, CLS_ROLE_USER);
	cls_feat_len(&acc, (size_t)1 << 40);
	meta.has_max_tokens = true;
	meta.max_tokens = 1ull << 60;
	meta.has_temperature = true;
	meta.temperature = INFINITY; /* "temperature": 1e300 as a float */
	scan.cat[TS_CAT_MATH] = 2.5f;
	scan.cat[TS_CAT_PII] = -1.0f; /* a negative rule weight counts as no hit */
	cls_feat_finish(&acc, &meta, &scan, x);
	CU_ASSERT_DOUBLE_EQUAL(x[CLS_F_BYTES_USER], log1p(0x1p40), 1e-5);
	CU_ASSERT_DOUBLE_EQUAL(x[CLS_F_MAX_TOKENS], log1p(0x1p60), 1e-5);
	CU_ASSERT_DOUBLE_EQUAL(x[CLS_F_CAT_MATH], log1p(2.5), 1e-6);
	CU_ASSERT_EQUAL(x[CLS_F_CAT_PII], 0.0f);
	CU_ASSERT_EQUAL(x[CLS_F_TEMPERATURE], FLT_MAX);
	CU_ASSERT_EQUAL(x[CLS_F_BYTES_SYSTEM], 0.0f);

	/* a scorer that ignores temperature (weight 0) keeps a finite logit */
	struct cls_policy *pol = cls_policy_from_parts(NULL, false, NULL, 0, NULL, 1, NULL, 0);
	struct cls_decision d;

	CU_ASSERT_PTR_NOT_NULL_FATAL(pol);
	cls_decide_finish(pol, &scan, x, &d);
	CU_ASSERT_TRUE(isfinite(d.logit));
	FEQ(d.p_frontier, 0.5);
	cls_policy_free(pol);
}

/* xorshift64: deterministic test data */
static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/*
 * Reference top-K: every nonzero |c| by a full selection sort, largest
 * first, lower index on a tie (what the decision promises).
 */
static uint32_t top_ref(const float *c, uint32_t *ids)
{
	bool used[CLS_NFEAT] = { false };
	uint32_t n = 0;

	for (uint32_t k = 0; k < CLS_TOP_K; k++) {
		uint32_t best = UINT32_MAX;

		for (uint32_t i = 0; i < CLS_NFEAT; i++)
			if (!used[i] && c[i] != 0.0f &&
			    (best == UINT32_MAX || fabsf(c[i]) > fabsf(c[best])))
				best = i;
		if (best == UINT32_MAX)
			break;
		used[best] = true;
		ids[n++] = best;
	}
	return n;
}

/*
 * The partial selection against the reference on vectors of every shape:
 * random, quantized (exact ties), a few nonzero entries, all equal (every
 * entry a candidate: the path beyond the 8-entry network), one huge entry.
 * Contributions are w * (x - mean) / scale as the explanation says, and the
 * logit is bias + their sum.
 */
static void test_top_k_matches_reference(void)
{
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	float mean[CLS_NFEAT], scale[CLS_NFEAT], w[CLS_NFEAT], x[CLS_NFEAT], c[CLS_NFEAT];
	struct cls_scan_result s = { .action = TS_ACT_SCORE, .action_rule = UINT32_MAX };
	struct cls_scorer sc;
	uint32_t mismatches = 0, bad_contrib = 0, bad_logit = 0;

	for (uint32_t round = 0; round < 4000; round++) {
		uint32_t shape = round % 5;

		for (uint32_t i = 0; i < CLS_NFEAT; i++) {
			uint64_t r = rng_next(&seed);
			float u = (float)(r >> 40) / (float)(1u << 24) - 0.5f; /* [-0.5, 0.5) */

			mean[i] = shape == 1 ? 0.0f : u;
			scale[i] = 0.5f + (float)((r >> 8) & 0xff) / 64.0f;
			if (shape == 1) /* powers of two: coef and x * coef exact */
				scale[i] = (float)(1u << ((r >> 8) % 3)) * 0.5f;
			w[i] = shape == 1 ? (float)((int)((r >> 16) % 5) - 2) : 4.0f * u;
			x[i] = (float)((r >> 24) & 0xffff) / 4096.0f;
			if (shape == 1) /* contributions in steps of 1/4: ties */
				x[i] = (float)((r >> 24) % 4) * scale[i] / 4.0f;
			if (shape == 2 && (r & 7) != 0) /* few nonzero weights */
				w[i] = 0.0f;
			if (shape == 3) { /* all equal */
				mean[i] = 0.0f;
				scale[i] = 1.0f;
				w[i] = 1.0f;
				x[i] = 0.5f;
			}
		}
		if (shape == 4)
			x[round % CLS_NFEAT] = 1e30f;
		CU_ASSERT_EQUAL_FATAL(cls_scorer_init(&sc, 0.25f, 0.5f, mean, scale, w), 0);
		struct cls_policy *pol = cls_policy_from_parts(NULL, false, NULL, 0, &sc, 1, NULL, 0);
		struct cls_decision d;
		uint32_t ids[CLS_TOP_K], n;
		float logit;
		double z = 0.25, mag = 0.25;

		CU_ASSERT_PTR_NOT_NULL_FATAL(pol);
		cls_score(&sc, x, c, &logit);
		for (uint32_t i = 0; i < CLS_NFEAT; i++) {
			double want = (double)w[i] * ((double)x[i] - mean[i]) / scale[i];

			bad_contrib += fabs(c[i] - want) > 1e-5 * fmax(1.0, fabs(want));
			z += c[i];
			mag += fabs(c[i]);
		}
		/* float sums round: bound by the magnitudes summed, not by |z| */
		bad_logit += fabs(logit - z) > 2e-6 * mag;
		cls_decide_finish(pol, &s, x, &d);
		CU_ASSERT_EQUAL(d.logit, logit);
		n = top_ref(c, ids);
		mismatches += d.n_top != n;
		for (uint32_t k = 0; k < n && k < d.n_top; k++) {
			mismatches += d.top[k].feat != ids[k] || d.top[k].contrib != c[ids[k]] ||
				      d.top[k].value != x[ids[k]];
		}
		cls_policy_free(pol);
	}
	CU_ASSERT_EQUAL(mismatches, 0);
	CU_ASSERT_EQUAL(bad_contrib, 0);
	CU_ASSERT_EQUAL(bad_logit, 0);
}

/* ---- Luhn ---- */

static bool luhn_str(const char *s)
{
	return cls_luhn_at((const uint8_t *)s, strlen(s));
}

static void test_luhn(void)
{
	CU_ASSERT_TRUE(luhn_str("4111111111111111"));
	CU_ASSERT_TRUE(luhn_str("card 4111 1111 1111 1111"));
	CU_ASSERT_TRUE(luhn_str("4111-1111-1111-1111"));
	CU_ASSERT_TRUE(luhn_str("4111 1111 1111 1111 ")); /* trailing separator skipped */
	CU_ASSERT_TRUE(luhn_str("378282246310005"));        /* 15 digits (Amex test number) */
	CU_ASSERT_TRUE(luhn_str("order 12 5500000000000004"));
	CU_ASSERT_FALSE(luhn_str("4111111111111112"));      /* check digit off by one */
	CU_ASSERT_FALSE(luhn_str("94111111111111111"));     /* embedded in a longer number */
	CU_ASSERT_FALSE(luhn_str("411111111111"));          /* 12 digits: too short */
	CU_ASSERT_FALSE(luhn_str("abc"));
	CU_ASSERT_FALSE(luhn_str(""));
	/* 20 digits, valid 16-digit tail but no boundary before it */
	CU_ASSERT_FALSE(luhn_str("12344111111111111111"));
}

static bool ssn_str(const char *s)
{
	return cls_ssn_at((const uint8_t *)s, strlen(s));
}

static void test_ssn(void)
{
	CU_ASSERT_TRUE(ssn_str("123-45-6789"));
	CU_ASSERT_TRUE(ssn_str("ssn 078-05-1120"));
	CU_ASSERT_TRUE(ssn_str("ssn:899-99-9999"));
	CU_ASSERT_FALSE(ssn_str("000-45-6789"));   /* area 000 */
	CU_ASSERT_FALSE(ssn_str("666-45-6789"));   /* area 666 */
	CU_ASSERT_FALSE(ssn_str("900-45-6789"));   /* 9xx: ITIN, not SSN */
	CU_ASSERT_FALSE(ssn_str("123-00-6789"));   /* group 00 */
	CU_ASSERT_FALSE(ssn_str("123-45-0000"));   /* serial 0000 */
	CU_ASSERT_FALSE(ssn_str("9123-45-6789"));  /* tail of a longer number */
	CU_ASSERT_FALSE(ssn_str("123-456789"));    /* shape */
	CU_ASSERT_FALSE(ssn_str("12a-45-6789"));
	CU_ASSERT_FALSE(ssn_str("23-45-6789"));    /* too short */
	CU_ASSERT_FALSE(ssn_str(""));
}

/* ---- decisions with a real database ---- */

enum { R_CARD = 0, R_LOCAL, R_FRONT, R_BLOCK, R_MATH, N_R };

static struct cls_policy *test_policy(void)
{
	static const char *const pats[N_R] = {
		"\\d{4}[ -]?\\d{4}[ -]?\\d{4}[ -]?\\d{4}", "FORCELOCAL", "FORCEFRONT", "BLOCKME",
		"integral",
	};
	static const unsigned ids[N_R] = { 0, 1, 2, 3, 4 };
	static const unsigned flags[N_R] = { 0, 0, 0, 0, HS_FLAG_CASELESS };
	static const struct cls_rule rules[N_R] = {
		{ "pii.card", TS_CAT_PII, TS_ACT_SCORE, TS_VERIFY_LUHN, 1.0f },
		{ "t.local", TS_CAT_GREETING, TS_ACT_FORCE_LOCAL, TS_VERIFY_NONE, 1.0f },
		{ "t.front", TS_CAT_INJECTION, TS_ACT_FORCE_FRONTIER, TS_VERIFY_NONE, 1.0f },
		{ "t.block", TS_CAT_INJECTION, TS_ACT_BLOCK, TS_VERIFY_NONE, 1.0f },
		{ "math.int", TS_CAT_MATH, TS_ACT_SCORE, TS_VERIFY_NONE, 2.5f },
	};
	float mean[CLS_NFEAT] = { 0 }, scale[CLS_NFEAT], w[CLS_NFEAT] = { 0 };
	struct cls_scorer sc;
	hs_database_t *db = NULL;
	hs_compile_error_t *ce = NULL;
	char err[256];

	for (int i = 0; i < CLS_NFEAT; i++)
		scale[i] = 1;
	/* p = sigmoid(-1 + 2 * cat_math): LOCAL without math, FRONTIER with */
	w[CLS_F_CAT_MATH] = 2;
	CU_ASSERT_EQUAL(cls_scorer_init(&sc, -1, 0.5f, mean, scale, w), 0);
	CU_ASSERT_EQUAL_FATAL(hs_compile_multi(pats, flags, ids, N_R, HS_MODE_BLOCK, NULL, &db,
					       &ce),
			      HS_SUCCESS);
	struct cls_policy *pol = cls_policy_from_parts(db, true, rules, N_R, &sc, 42, err,
						       sizeof(err));

	CU_ASSERT_PTR_NOT_NULL_FATAL(pol);
	return pol;
}

static void decide(struct cls_ctx *ctx, struct cls_policy *pol, const char *text,
		   struct cls_decision *d)
{
	char body[512];
	struct rv_view v;

	snprintf(body, sizeof(body), "{\"messages\":[{\"role\":\"user\",\"content\":\"%s\"}]}",
		 text);
	parse_view(RV_EP_CHAT, body, &v);
	CU_ASSERT_EQUAL(cls_decide(ctx, pol, &v, d), 0);
}

static void test_decisions(void)
{
	struct cls_policy *pol = test_policy();
	struct cls_ctx ctx;
	struct cls_decision d;

	cls_ctx_init(&ctx);
	CU_ASSERT_EQUAL_FATAL(cls_ctx_attach(&ctx, pol), 0);

	decide(&ctx, pol, "hello there", &d);
	CU_ASSERT_EQUAL(d.route, TS_ROUTE_LOCAL);
	CU_ASSERT_EQUAL(d.reason, CLS_REASON_SCORE);
	CU_ASSERT_EQUAL(d.scan.n_hit, 0);
	CU_ASSERT_EQUAL(d.forced_by, UINT32_MAX);
	CU_ASSERT_EQUAL(d.policy_version, 42);
	FEQ(d.p_frontier, 1.0 / (1.0 + exp(1.0)));

	/* score alone routes FRONTIER: cat_math = log1p(2.5) */
	decide(&ctx, pol, "the Integral of x", &d);
	CU_ASSERT_EQUAL(d.route, TS_ROUTE_FRONTIER);
	CU_ASSERT_EQUAL(d.reason, CLS_REASON_SCORE);
	FEQ(d.x[CLS_F_CAT_MATH], log1p(2.5));
	CU_ASSERT_EQUAL(d.n_top, 1);
	CU_ASSERT_EQUAL(d.top[0].feat, CLS_F_CAT_MATH);

	/* FORCE_LOCAL beats a FRONTIER score, and the score is still there */
	decide(&ctx, pol, "integral FORCELOCAL", &d);
	CU_ASSERT_EQUAL(d.route, TS_ROUTE_LOCAL);
	CU_ASSERT_EQUAL(d.reason, CLS_REASON_FORCE_LOCAL);
	CU_ASSERT_EQUAL(d.forced_by, R_LOCAL);
	CU_ASSERT_TRUE(d.p_frontier > 0.5f);

	/* FORCE_FRONTIER beats FORCE_LOCAL, in either order */
	decide(&ctx, pol, "FORCEFRONT FORCELOCAL", &d);
	CU_ASSERT_EQUAL(d.route, TS_ROUTE_FRONTIER);
	CU_ASSERT_EQUAL(d.reason, CLS_REASON_FORCE_FRONTIER);
	CU_ASSERT_EQUAL(d.forced_by, R_FRONT);
	decide(&ctx, pol, "FORCELOCAL FORCEFRONT", &d);
	CU_ASSERT_EQUAL(d.reason, CLS_REASON_FORCE_FRONTIER);

	/* BLOCK beats everything */
	decide(&ctx, pol, "FORCEFRONT BLOCKME FORCELOCAL", &d);
	CU_ASSERT_EQUAL(d.route, TS_ROUTE_BLOCK);
	CU_ASSERT_EQUAL(d.reason, CLS_REASON_BLOCK);
	CU_ASSERT_EQUAL(d.forced_by, R_BLOCK);
	CU_ASSERT_EQUAL(d.scan.n_hit, 3);

	/* Luhn: a valid card counts, an invalid one is dropped */
	decide(&ctx, pol, "pay 4111 1111 1111 1111 now", &d);
	CU_ASSERT_EQUAL(d.scan.n_hit, 1);
	CU_ASSERT_EQUAL(d.scan.hit_ids[0], R_CARD);
	CU_ASSERT_EQUAL(d.scan.dropped, 0);
	FEQ(d.x[CLS_F_CAT_PII], log1p(1));
	decide(&ctx, pol, "pay 4111 1111 1111 1112 now", &d);
	CU_ASSERT_EQUAL(d.scan.n_hit, 0);
	CU_ASSERT_EQUAL(d.scan.dropped, 1);
	FEQ(d.x[CLS_F_CAT_PII], 0);

	/* hit counts are per request: the previous request's marks are gone */
	decide(&ctx, pol, "integral integral integral", &d);
	CU_ASSERT_EQUAL(d.scan.n_hit, 1);
	CU_ASSERT_EQUAL(d.scan.hit_counts[0], 3);
	FEQ(d.x[CLS_F_CAT_MATH], log1p(7.5));

	cls_ctx_fini(&ctx);
	cls_policy_free(pol);
}

static void test_decide_finish_precedence(void)
{
	struct cls_policy *pol = cls_policy_from_parts(NULL, false, NULL, 0, NULL, 7, NULL, 0);
	struct cls_scan_result s = { .action = TS_ACT_SCORE, .action_rule = UINT32_MAX };
	float x[CLS_NFEAT] = { 0 };
	struct cls_decision d;

	CU_ASSERT_PTR_NOT_NULL_FATAL(pol);
	/* neutral scorer: p = 0.5 >= threshold 0.5 */
	cls_decide_finish(pol, &s, x, &d);
	CU_ASSERT_EQUAL(d.route, TS_ROUTE_FRONTIER);
	FEQ(d.p_frontier, 0.5);
	CU_ASSERT_EQUAL(d.n_top, 0);
	s.action = TS_ACT_FORCE_LOCAL;
	s.action_rule = 0;
	cls_decide_finish(pol, &s, x, &d);
	CU_ASSERT_EQUAL(d.route, TS_ROUTE_LOCAL);
	CU_ASSERT_EQUAL(d.forced_by, 0);
	s.action = TS_ACT_BLOCK;
	cls_decide_finish(pol, &s, x, &d);
	CU_ASSERT_EQUAL(d.route, TS_ROUTE_BLOCK);
	CU_ASSERT_EQUAL(d.policy_version, 7);
	cls_policy_free(pol);
}

/* ---- explanation ---- */

static void test_explain_json(void)
{
	struct cls_policy *pol = test_policy();
	struct cls_ctx ctx;
	struct cls_decision d;
	struct tl_jdoc doc;
	char buf[4096], err[128];
	int n;

	cls_ctx_init(&ctx);
	CU_ASSERT_EQUAL_FATAL(cls_ctx_attach(&ctx, pol), 0);
	decide(&ctx, pol, "integral FORCEFRONT 4111-1111-1111-1111", &d);
	n = cls_explain_json(&d, pol, buf, sizeof(buf));
	CU_ASSERT_TRUE_FATAL(n > 0);
	CU_ASSERT_EQUAL((size_t)n, strlen(buf));
	tl_jdoc_init(&doc);
	CU_ASSERT_EQUAL_FATAL(tl_json_parse(&doc, buf, (size_t)n, err, sizeof(err)), 0);
	const struct tl_jnode *root = &doc.nodes[0];
	const struct tl_jnode *route = tl_json_get(&doc, root, "route");
	const struct tl_jnode *forced = tl_json_get(&doc, root, "forced_by");
	const struct tl_jnode *hits = tl_json_get(&doc, root, "rules_hit");
	const struct tl_jnode *top = tl_json_get(&doc, root, "top");
	double ver = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(route);
	CU_ASSERT_EQUAL(route->str_len, 8);
	CU_ASSERT_EQUAL(memcmp(route->str, "frontier", 8), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(forced);
	CU_ASSERT_EQUAL(memcmp(forced->str, "t.front", 7), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(hits);
	CU_ASSERT_EQUAL(hits->count, 3);
	CU_ASSERT_PTR_NOT_NULL_FATAL(top);
	CU_ASSERT_EQUAL(top->count, 1);
	CU_ASSERT_TRUE(tl_json_number(tl_json_get(&doc, root, "policy_version"), &ver));
	FEQ(ver, 42);
	/* too small a buffer is refused, never a partial object */
	CU_ASSERT_EQUAL(cls_explain_json(&d, pol, buf, 40), -ENOSPC);
	tl_jdoc_fini(&doc);
	cls_ctx_fini(&ctx);
	cls_policy_free(pol);
}

/* ---- metrics ---- */

static void test_metrics_hand(void)
{
	/* gains 1,0,1,0 in score order: PGR 0, .5, .5, 1, 1 -> APGR (0.25+0.5+0.75+1)/4 */
	double s1[] = { 0.9, 0.8, 0.3, 0.1 }, st1[] = { 1, 1, 1, 0 }, wk1[] = { 0, 1, 0, 0 };
	/* all tied: PGR k/4 -> APGR 0.5, CPT(80%) needs everything */
	double s2[] = { 0.5, 0.5, 0.5, 0.5 };
	/* a tie in the middle: gains 0 | 1,0 | 1 -> PGR 0, 0, .25, .5, 1 */
	double s3[] = { 0.9, 0.5, 0.5, 0.1 }, st3[] = { 1, 1, 0, 1 }, wk3[] = { 1, 0, 0, 0 };
	double s3r[] = { 0.1, 0.5, 0.5, 0.9 }, st3r[] = { 1, 0, 1, 1 }, wk3r[] = { 0, 0, 0, 1 };
	struct tl_route_metrics m, m2;

	CU_ASSERT_EQUAL(tl_route_eval(s1, st1, wk1, 4, &m), 0);
	FEQ(m.apgr, 0.625);
	FEQ(m.cpt50, 0.25);
	FEQ(m.cpt80, 0.75);
	FEQ(m.q_weak, 0.25);
	FEQ(m.q_strong, 0.75);
	CU_ASSERT_EQUAL(tl_route_eval(s2, st1, wk1, 4, &m), 0);
	FEQ(m.apgr, 0.5);
	FEQ(m.cpt50, 0.5);
	FEQ(m.cpt80, 1.0);
	CU_ASSERT_EQUAL(tl_route_eval(s3, st3, wk3, 4, &m), 0);
	FEQ(m.apgr, 0.3125);
	FEQ(m.cpt50, 0.75);
	FEQ(m.cpt80, 1.0);
	/* the same prompts in another order give the same numbers */
	CU_ASSERT_EQUAL(tl_route_eval(s3r, st3r, wk3r, 4, &m2), 0);
	FEQ(m2.apgr, m.apgr);
	FEQ(m2.cpt50, m.cpt50);
	/* undefined: strong and weak equal */
	CU_ASSERT_EQUAL(tl_route_eval(s1, st1, st1, 4, &m), -EINVAL);
	CU_ASSERT_EQUAL(tl_route_eval(s1, st1, wk1, 0, &m), -EINVAL);
	/* threshold for PGR 0.5 on example 1: top 1 prompt, score 0.9 */
	double share, thr;

	CU_ASSERT_EQUAL(tl_route_threshold_for_pgr(s1, st1, wk1, 4, 0.5, &share, &thr), 0);
	FEQ(share, 0.25);
	FEQ(thr, 0.9);
}

static void test_split(void)
{
	char id[32];
	int held = 0, again = 0, other = 0;

	for (int i = 0; i < 10000; i++) {
		int n = snprintf(id, sizeof(id), "mmlu/x/%d", i);
		bool h = tl_split_holdout(id, (size_t)n, 1, 0.2);

		held += h;
		again += h == tl_split_holdout(id, (size_t)n, 1, 0.2);
		other += h != tl_split_holdout(id, (size_t)n, 2, 0.2);
	}
	CU_ASSERT_EQUAL(again, 10000);      /* deterministic */
	CU_ASSERT_TRUE(held > 1850 && held < 2150); /* ~20% */
	CU_ASSERT_TRUE(other > 2000);       /* another seed, another split */
	CU_ASSERT_FALSE(tl_split_holdout("a", 1, 1, 0.0));
	CU_ASSERT_TRUE(tl_split_holdout("a", 1, 1, 1.0));
}

/* ---- the tools' JSON reader (it feeds ids back into JSON output) ---- */

static void test_tools_json(void)
{
	struct tl_jdoc d;
	struct tl_buf b = { 0 };
	char err[128];
	/* "é" escaped, a surrogate pair (U+1F600), and a raw 2-byte sequence */
	static const char ok[] = "{\"a\":\"\\u00e9\\ud83d\\ude00\xc3\xa9\",\"n\":[1,-2.5e1,true]}";

	tl_jdoc_init(&d);
	CU_ASSERT_EQUAL_FATAL(tl_json_parse(&d, ok, strlen(ok), err, sizeof(err)), 0);
	const struct tl_jnode *a = tl_json_get(&d, &d.nodes[0], "a");
	const struct tl_jnode *n = tl_json_get(&d, &d.nodes[0], "n");
	double v = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_EQUAL(a->str_len, 8);
	CU_ASSERT_EQUAL(memcmp(a->str, "\xc3\xa9\xf0\x9f\x98\x80\xc3\xa9", 8), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(n);
	CU_ASSERT_EQUAL(n->count, 3);
	CU_ASSERT_TRUE(tl_json_number(tl_json_next(&d, tl_json_child(&d, n)), &v));
	FEQ(v, -25);
	/* refused: invalid UTF-8, overlong, lone surrogates, trailing bytes, depth */
	CU_ASSERT_EQUAL(tl_json_parse(&d, "\"\xff\"", 3, err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(tl_json_parse(&d, "\"\xc0\xaf\"", 4, err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(tl_json_parse(&d, "\"\xed\xa0\x80\"", 5, err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(tl_json_parse(&d, "\"\\ud83d\"", 8, err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(tl_json_parse(&d, "{} x", 4, err, sizeof(err)), -EINVAL);
	char deep[200];

	memset(deep, '[', sizeof(deep));
	CU_ASSERT_EQUAL(tl_json_parse(&d, deep, sizeof(deep), err, sizeof(err)), -E2BIG);
	/* the writer escapes what JSON requires */
	tl_buf_jstr(&b, "a\"b\\c\n\x01", 7);
	CU_ASSERT_STRING_EQUAL(b.p, "\"a\\\"b\\\\c\\n\\u0001\"");
	tl_buf_free(&b);
	tl_jdoc_fini(&d);
}

/* ---- the build's default image ---- */

static void test_default_image(void)
{
	char err[256];
	struct pol_image *img = pol_image_open_file(image_path, err, sizeof(err));
	struct cls_policy *pol;

	CU_ASSERT_PTR_NOT_NULL_FATAL(img);
	pol = cls_policy_from_image(img, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL(pol);
	cls_policy_free(pol);
	pol_image_close(img);
}

int main(int argc, char **argv)
{
	CU_pSuite s;
	unsigned fails;

	if (argc > 1)
		image_path = argv[1];
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	s = CU_add_suite("classify", suite_init, suite_fini);
	CU_add_test(s, "stats_exact", test_stats_exact);
	CU_add_test(s, "stats_simd_matches_scalar", test_stats_simd_matches_scalar);
	CU_add_test(s, "stats_guard_page", test_stats_guard_page);
	CU_add_test(s, "stats_group_edges", test_stats_group_edges);
	CU_add_test(s, "stats_long", test_stats_long);
	CU_add_test(s, "stats_longest_gate", test_stats_longest_gate);
	CU_add_test(s, "features_chat", test_features_chat);
	CU_add_test(s, "features_completions", test_features_completions);
	CU_add_test(s, "features_view_equals_per_message", test_features_view_equals_per_message);
	CU_add_test(s, "scorer_math", test_scorer_math);
	CU_add_test(s, "log1pf", test_log1pf);
	CU_add_test(s, "features_extremes", test_features_extremes);
	CU_add_test(s, "top_k_matches_reference", test_top_k_matches_reference);
	CU_add_test(s, "luhn", test_luhn);
	CU_add_test(s, "ssn", test_ssn);
	CU_add_test(s, "decisions", test_decisions);
	CU_add_test(s, "decide_finish_precedence", test_decide_finish_precedence);
	CU_add_test(s, "explain_json", test_explain_json);
	CU_add_test(s, "metrics_hand", test_metrics_hand);
	CU_add_test(s, "split", test_split);
	CU_add_test(s, "tools_json", test_tools_json);
	if (image_path)
		CU_add_test(s, "default_image", test_default_image);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	fails = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return fails ? 1 : 0;
}
