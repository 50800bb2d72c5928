/* SPDX-License-Identifier: proprietary */
/*
 * CUnit suite "classify-gates": what the rule gates need from the byte
 * statistics ('@' count, a run of TS_GATE_DIGIT_RUN digits), every SIMD path
 * against the scalar reference on them, cls_gates(), and cls_decide() scanning
 * a gated database only when its gate holds (policy-t.h, enum ts_rule_gate).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>
#include <hs/hs.h>

#include "cls.h"
#include "reqview.h"

static struct rv_ctx rv;

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

/* Gate fields of every compiled path against the scalar reference; returns the reference. */
static void gate_stats_all(const uint8_t *p, size_t n, struct cls_text_stats *ref)
{
	struct cls_text_stats t;

	cls_text_stats_scalar(p, n, ref);
	cls_text_stats(p, n, &t);
	CU_ASSERT_EQUAL(t.at, ref->at);
	CU_ASSERT_EQUAL(t.digit_run4, ref->digit_run4);
	CU_ASSERT_EQUAL(t.nonascii, ref->nonascii);
#if defined(__AVX2__)
	cls_text_stats_avx2(p, n, &t);
	CU_ASSERT_EQUAL(t.at, ref->at);
	CU_ASSERT_EQUAL(t.digit_run4, ref->digit_run4);
#endif
#if defined(__AVX512BW__)
	cls_text_stats_avx512bw(p, n, &t);
	CU_ASSERT_EQUAL(t.at, ref->at);
	CU_ASSERT_EQUAL(t.digit_run4, ref->digit_run4);
#endif
#if defined(CLS_STATS_AVX512X)
	cls_text_stats_avx512(p, n, &t);
	CU_ASSERT_EQUAL(t.at, ref->at);
	CU_ASSERT_EQUAL(t.digit_run4, ref->digit_run4);
#endif
}

static void test_gate_stats_exact(void)
{
	struct cls_text_stats s;
	static const struct {
		const char *text;
		uint64_t at;
		uint32_t run4;
	} cases[] = {
		{ "", 0, 0 },
		{ "mail a@b.c or x@y", 2, 0 },
		{ "in 123 and 456", 0, 0 },
		{ "year 2024", 0, 1 },
		{ "1234", 0, 1 },
		{ "12 34 56-78", 0, 0 },
		{ "x123y4567", 0, 1 },
		{ "@@@ 999", 3, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		gate_stats_all((const uint8_t *)cases[i].text, strlen(cases[i].text), &s);
		CU_ASSERT_EQUAL(s.at, cases[i].at);
		CU_ASSERT_EQUAL(s.digit_run4, cases[i].run4);
	}
}

/*
 * In a buffer of n 'x' bytes: a run of 3 and of 4 digits at off (also with the
 * text cut right after the run: the tail path), and "12a34" (a run of 4 split by
 * a letter) with an '@' in place of its first digit: only the full run opens
 * the digit gate, the '@' opens its own.
 */
static void check_gate_runs_at(uint8_t *buf, size_t n, size_t off)
{
	struct cls_text_stats s;

	for (size_t len = 3; len <= 4; len++) {
		memset(buf, 'x', n);
		memset(buf + off, '7', len);
		gate_stats_all(buf, n, &s);
		CU_ASSERT_EQUAL(s.digit_run4, len == 4);
		gate_stats_all(buf, off + len, &s);
		CU_ASSERT_EQUAL(s.digit_run4, len == 4);
	}
	memset(buf, 'x', n);
	memcpy(buf + off, "12a34", 5 <= n - off ? 5 : n - off);
	gate_stats_all(buf, n, &s);
	CU_ASSERT_EQUAL(s.digit_run4, 0);
	buf[off] = '@';
	gate_stats_all(buf, n, &s);
	CU_ASSERT_EQUAL(s.at, 1);
}

/*
 * At every offset across the first two 64-byte block edges (the vector paths
 * carry the last three digits of a block into the next).
 */
static void test_gate_stats_block_edges(void)
{
	uint8_t buf[200];

	for (size_t off = 0; off + 4 <= 140; off++)
		check_gate_runs_at(buf, sizeof(buf), off);
}

/*
 * The same at the edges of the AVX-512 path's groups of 8 blocks (bytes 512
 * and 1024), at every offset near them.
 */
static void test_gate_stats_group_edges(void)
{
	uint8_t buf[1200];

	for (size_t e = 512; e <= 1024; e += 512)
		for (size_t off = e - 6; off <= e + 2; off++)
			check_gate_runs_at(buf, sizeof(buf), off);
}

/* Random texts rich in digits and '@', every length 0..399, all paths agree. */
static void test_gate_stats_random(void)
{
	uint8_t buf[400] = { 0 };
	uint64_t st = 0x9e3779b97f4a7c15ull;

	for (size_t n = 0; n < sizeof(buf); n++) {
		struct cls_text_stats s;

		for (size_t i = 0; i < n; i++) {
			st = st * 6364136223846793005ull + 1442695040888963407ull;
			unsigned r = (unsigned)(st >> 33) % 100;

			buf[i] = r < 55   ? (uint8_t)('0' + r % 10)
				 : r < 58 ? '@'
				 : r < 62 ? (uint8_t)(0x80 + r)
					  : (uint8_t)('a' + r % 26);
		}
		gate_stats_all(buf, n, &s);
	}
}

static void test_cls_gates(void)
{
	struct cls_text_stats s;

	memset(&s, 0, sizeof(s));
	CU_ASSERT_EQUAL(cls_gates(&s), 1u << TS_GATE_NONE);
	s.nonascii = 2;
	CU_ASSERT_EQUAL(cls_gates(&s), (1u << TS_GATE_NONE) | (1u << TS_GATE_NONASCII));
	s.nonascii = 0;
	s.at = 1;
	CU_ASSERT_EQUAL(cls_gates(&s), (1u << TS_GATE_NONE) | (1u << TS_GATE_AT));
	s.digit_run4 = 1;
	CU_ASSERT_EQUAL(cls_gates(&s),
			(1u << TS_GATE_NONE) | (1u << TS_GATE_AT) | (1u << TS_GATE_DIGITS));
	s.nonascii = 1;
	CU_ASSERT_EQUAL(cls_gates(&s), CLS_GATES_ALL);
}

enum { G_PLAIN = 0, G_AT, G_DIGITS, G_NONASCII, G_ZZZ, G_N };

static hs_database_t *compile_ids(const char *const *pats, const unsigned *ids, unsigned n)
{
	unsigned flags[4] = { 0, 0, 0, 0 };
	hs_database_t *db = NULL;
	hs_compile_error_t *ce = NULL;

	CU_ASSERT_EQUAL_FATAL(hs_compile_multi(pats, flags, ids, n, HS_MODE_BLOCK, NULL, &db, &ce),
			      HS_SUCCESS);
	return db;
}

/*
 * One rule per database, ids global: "plain" ungated; an email-ish rule
 * behind at; four digits behind digits; "é" behind nonascii; and "zzz", put
 * behind at on purpose although it needs no '@' (a rule that breaks its
 * gate's promise): it shows when the at database is scanned and when not.
 */
static struct cls_policy *gated_policy(void)
{
	static const char *const plain[] = { "plain" };
	static const char *const at[] = { "@[a-z]+\\.[a-z]{2,}", "zzz" };
	static const char *const dig[] = { "[0-9]{4}" };
	static const char *const na[] = { "\xc3\xa9" };
	static const unsigned id_plain[] = { G_PLAIN }, id_at[] = { G_AT, G_ZZZ };
	static const unsigned id_dig[] = { G_DIGITS }, id_na[] = { G_NONASCII };
	static const struct cls_rule rules[G_N] = {
		{ "t.plain", TS_CAT_CODE, TS_ACT_SCORE, TS_VERIFY_NONE, 1.0f },
		{ "t.email", TS_CAT_PII, TS_ACT_SCORE, TS_VERIFY_NONE, 1.0f },
		{ "t.digits", TS_CAT_PII, TS_ACT_SCORE, TS_VERIFY_NONE, 1.0f },
		{ "t.accent", TS_CAT_SCRIPT, TS_ACT_SCORE, TS_VERIFY_NONE, 1.0f },
		{ "t.zzz", TS_CAT_MATH, TS_ACT_FORCE_LOCAL, TS_VERIFY_NONE, 1.0f },
	};
	const struct hs_database *dbs[TS_GATE_COUNT] = {
		[TS_GATE_NONE] = compile_ids(plain, id_plain, 1),
		[TS_GATE_AT] = compile_ids(at, id_at, 2),
		[TS_GATE_DIGITS] = compile_ids(dig, id_dig, 1),
		[TS_GATE_NONASCII] = compile_ids(na, id_na, 1),
	};
	char err[256];
	struct cls_policy *pol =
		cls_policy_from_parts_gated(dbs, true, rules, G_N, NULL, 3, err, sizeof(err));

	CU_ASSERT_PTR_NOT_NULL_FATAL(pol);
	return pol;
}

/* Bit i set when rule i was hit by the decision on a one-message chat with text. */
static uint32_t hits(struct cls_ctx *ctx, const struct cls_policy *pol, const char *text)
{
	char body[512];
	struct rv_view v;
	struct cls_decision d;
	uint32_t m = 0;
	int n = snprintf(body, sizeof(body),
			 "{\"messages\":[{\"role\":\"user\",\"content\":\"%s\"}]}", text);

	CU_ASSERT_EQUAL_FATAL(rv_parse(&rv, RV_EP_CHAT, body, (size_t)n, &v), n);
	CU_ASSERT_EQUAL_FATAL(cls_decide(ctx, pol, &v, &d), 0);
	for (uint32_t i = 0; i < d.scan.n_hit && i < CLS_MAX_RULES_HIT; i++)
		m |= 1u << d.scan.hit_ids[i];
	return m;
}

static void test_decide_gated(void)
{
	struct cls_policy *pol = gated_policy();
	struct cls_ctx ctx;

	cls_ctx_init(&ctx);
	CU_ASSERT_EQUAL_FATAL(cls_ctx_attach(&ctx, pol), 0);

	CU_ASSERT_EQUAL(hits(&ctx, pol, "plain text"), 1u << G_PLAIN);
	CU_ASSERT_EQUAL(hits(&ctx, pol, "mail bob@example.com"), 1u << G_AT);
	CU_ASSERT_EQUAL(hits(&ctx, pol, "plain in 2024"), (1u << G_PLAIN) | (1u << G_DIGITS));
	CU_ASSERT_EQUAL(hits(&ctx, pol, "caf\xc3\xa9 1234 a@b.io plain"),
			(1u << G_PLAIN) | (1u << G_AT) | (1u << G_DIGITS) | (1u << G_NONASCII));
	/* the at database runs only on texts with an '@' */
	CU_ASSERT_EQUAL(hits(&ctx, pol, "zzz"), 0);
	CU_ASSERT_EQUAL(hits(&ctx, pol, "zzz @"), 1u << G_ZZZ);

	/* without statistics, cls_scan_text scans every database */
	cls_scan_begin(&ctx, pol);
	CU_ASSERT_EQUAL(cls_scan_text(&ctx, (const uint8_t *)"zzz", 3), 0);
	CU_ASSERT_EQUAL(ctx.res.n_hit, 1);
	CU_ASSERT_EQUAL(ctx.res.action, TS_ACT_FORCE_LOCAL);
	cls_scan_begin(&ctx, pol);
	CU_ASSERT_EQUAL(cls_scan_text_gated(&ctx, (const uint8_t *)"zzz", 3, 1u << TS_GATE_NONE),
			0);
	CU_ASSERT_EQUAL(ctx.res.n_hit, 0);
	cls_ctx_fini(&ctx);
	cls_policy_free(pol);
}

/* Features from precomputed statistics equal cls_features_view(). */
static void test_features_view_stats(void)
{
	static const char body[] =
		"{\"messages\":[{\"role\":\"system\",\"content\":\"Be brief.\"},"
		"{\"role\":\"user\",\"content\":\"Call 555-0199 or mail a@b.io?\\nThanks\"},"
		"{\"role\":\"assistant\",\"content\":\"ok\"},"
		"{\"role\":\"user\",\"content\":\"x = f(y) + 2;\"}]}";
	struct rv_view v;
	struct cls_text_stats st;
	float a[CLS_NFEAT], b[CLS_NFEAT];

	CU_ASSERT_EQUAL_FATAL(rv_parse(&rv, RV_EP_CHAT, body, strlen(body), &v), (int)strlen(body));
	cls_features_view(&v, NULL, a);
	cls_view_stats(&v, &st);
	CU_ASSERT_EQUAL(st.bytes, v.text.len);
	CU_ASSERT_EQUAL(st.at, 1);
	cls_features_view_stats(&v, &st, NULL, b);
	CU_ASSERT_EQUAL(memcmp(a, b, sizeof(a)), 0);
}

int main(void)
{
	CU_pSuite s;
	unsigned fails;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("classify-gates", suite_init, suite_fini);
	if (s == NULL || CU_add_test(s, "gate_stats_exact", test_gate_stats_exact) == NULL ||
	    CU_add_test(s, "gate_stats_block_edges", test_gate_stats_block_edges) == NULL ||
	    CU_add_test(s, "gate_stats_group_edges", test_gate_stats_group_edges) == NULL ||
	    CU_add_test(s, "gate_stats_random", test_gate_stats_random) == NULL ||
	    CU_add_test(s, "cls_gates", test_cls_gates) == NULL ||
	    CU_add_test(s, "decide_gated", test_decide_gated) == NULL ||
	    CU_add_test(s, "features_view_stats", test_features_view_stats) == NULL) {
		CU_cleanup_registry();
		return 1;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	fails = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return fails != 0;
}
