/* SPDX-License-Identifier: proprietary */
/* Sampler tests: greedy, top-k, top-p mass, seeds, logprobs, stop sequences. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "sampler.h"
#include "tests.h"

#define NV 512

static struct ex_cand scratch[200000];

/* Deterministic pseudo-random logits in [-8, 8). */
static void rand_logits(float *l, uint32_t n, uint64_t seed)
{
	uint64_t st = seed * 2654435761u + 1;

	for (uint32_t i = 0; i < n; i++)
		l[i] = (float)((double)(ex_rng_next(&st) >> 11) * 0x1.0p-53 * 16.0 - 8.0);
}

static void test_greedy(void)
{
	float l[NV];
	struct ex_sampler s;
	struct ex_sample_params p = {.temperature = 0.0f, .top_p = 1.0f, .seed = 1};
	float lp;

	for (uint64_t k = 0; k < 20; k++) {
		rand_logits(l, NV, k);
		l[(k * 97) % NV] = 9.0f;
		ex_sampler_init(&s, &p);
		CU_ASSERT_EQUAL(ex_sample(&s, l, NV, scratch, &lp), (int32_t)((k * 97) % NV));
		CU_ASSERT(lp < 0.0f);
	}
	/* Ties go to the lowest id. */
	for (uint32_t i = 0; i < NV; i++)
		l[i] = 1.0f;
	ex_sampler_init(&s, &p);
	CU_ASSERT_EQUAL(ex_sample(&s, l, NV, scratch, &lp), 0);
	CU_ASSERT_DOUBLE_EQUAL(lp, -log(NV), 1e-5);
}

/* top_k = 1 at temperature 1 is greedy, whatever the seed. */
static void test_topk1_is_greedy(void)
{
	float l[NV];
	struct ex_sampler s;
	float lp;

	for (uint64_t k = 0; k < 50; k++) {
		struct ex_sample_params p = {.temperature = 1.0f, .top_k = 1, .top_p = 1.0f,
					     .seed = k};

		rand_logits(l, NV, k + 100);
		ex_sampler_init(&s, &p);
		CU_ASSERT_EQUAL(ex_sample(&s, l, NV, scratch, &lp), ex_argmax(l, NV));
	}
}

/* top_k = 3 only ever returns one of the three largest logits. */
static void test_topk(void)
{
	float l[NV];
	struct ex_sample_params p = {.temperature = 2.0f, .top_k = 3, .top_p = 1.0f, .seed = 7};
	struct ex_sampler s;
	uint32_t hits[3] = {0};
	float lp;

	rand_logits(l, NV, 3);
	l[10] = 20.0f;
	l[20] = 19.5f;
	l[30] = 19.0f;
	ex_sampler_init(&s, &p);
	for (int i = 0; i < 3000; i++) {
		int32_t id = ex_sample(&s, l, NV, scratch, &lp);

		CU_ASSERT(id == 10 || id == 20 || id == 30);
		hits[0] += id == 10;
		hits[1] += id == 20;
		hits[2] += id == 30;
	}
	/* T = 2: weights e^0, e^-0.25, e^-0.5 -> 0.4192, 0.3265, 0.2543 (+-0.04). */
	CU_ASSERT(fabs(hits[0] / 3000.0 - 0.4192) < 0.04);
	CU_ASSERT(fabs(hits[1] / 3000.0 - 0.3265) < 0.04);
	CU_ASSERT(fabs(hits[2] / 3000.0 - 0.2543) < 0.04);
}

/*
 * top-p keeps the smallest set of most likely tokens reaching the mass:
 * probabilities 0.5, 0.3, 0.15, 0.05 (as logits log p).
 */
static void test_topp_mass(void)
{
	float l[4] = {logf(0.15f), logf(0.5f), logf(0.05f), logf(0.3f)};
	struct ex_sampler s;
	uint32_t hits[4];
	float lp;
	struct ex_sample_params p = {.temperature = 1.0f, .top_p = 0.75f, .seed = 42};

	/* 0.75: {0.5, 0.3} = ids 1 and 3, renormalised to 0.625 / 0.375. */
	memset(hits, 0, sizeof(hits));
	ex_sampler_init(&s, &p);
	for (int i = 0; i < 4000; i++)
		hits[ex_sample(&s, l, 4, scratch, &lp)]++;
	CU_ASSERT_EQUAL(hits[0], 0);
	CU_ASSERT_EQUAL(hits[2], 0);
	CU_ASSERT(fabs(hits[1] / 4000.0 - 0.625) < 0.03);
	/* 0.81 needs the third token (0.15) as well. */
	p.top_p = 0.81f;
	memset(hits, 0, sizeof(hits));
	ex_sampler_init(&s, &p);
	for (int i = 0; i < 4000; i++)
		hits[ex_sample(&s, l, 4, scratch, &lp)]++;
	CU_ASSERT(hits[0] > 0);
	CU_ASSERT_EQUAL(hits[2], 0);
	CU_ASSERT(fabs(hits[0] / 4000.0 - 0.15 / 0.95) < 0.03);
	/* 0.4: only the most likely. */
	p.top_p = 0.4f;
	ex_sampler_init(&s, &p);
	for (int i = 0; i < 200; i++)
		CU_ASSERT_EQUAL(ex_sample(&s, l, 4, scratch, &lp), 1);
}

/* Equal probabilities: the nucleus takes just enough of the tie. */
static void test_topp_ties(void)
{
	static float l[150000];
	float small[24];
	struct ex_sample_params p = {.temperature = 1.0f, .top_p = 0.5f, .seed = 9};
	struct ex_sampler s;
	uint32_t hits[24] = {0}, distinct = 0;
	float lp;

	/* Four tokens at 0.2 and twenty at 0.01: top_p 0.5 takes three of the four. */
	for (int i = 0; i < 24; i++)
		small[i] = i < 4 ? logf(0.2f) : logf(0.01f);
	ex_sampler_init(&s, &p);
	for (int i = 0; i < 2000; i++)
		hits[ex_sample(&s, small, 24, scratch, &lp)]++;
	for (int i = 0; i < 24; i++)
		distinct += hits[i] > 0;
	CU_ASSERT_EQUAL(distinct, 3);
	CU_ASSERT_EQUAL(hits[0] + hits[1] + hits[2] + hits[3], 2000);
	/* 150000 equal logits (a Qwen-sized vocabulary): bounded work, exact logprob. */
	for (uint32_t i = 0; i < 150000; i++)
		l[i] = 0.25f;
	for (int i = 0; i < 50; i++) {
		int32_t id = ex_sample(&s, l, 150000, scratch, &lp);

		CU_ASSERT(id >= 0 && id < 150000);
		CU_ASSERT_DOUBLE_EQUAL(lp, -log(150000.0), 1e-3);
	}
}

static int cmp_desc(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;

	return (x < y) - (x > y);
}

/*
 * A 1003-token vocabulary (not a multiple of the vector width): every sampled
 * token lies in the exact nucleus computed here by a full sort, and plain
 * temperature sampling follows softmax(l / T).
 */
static void test_topp_exact(void)
{
	static float l[1003], sorted[1003];
	double z = 0.0, mass = 0.0, pthr;
	struct ex_sample_params p = {.temperature = 0.7f, .top_p = 0.9f, .seed = 3};
	struct ex_sampler s;
	uint32_t outside = 0, hits0 = 0;
	float lp;

	rand_logits(l, 1003, 11);
	memcpy(sorted, l, sizeof(l));
	qsort(sorted, 1003, sizeof(float), cmp_desc);
	for (int i = 0; i < 1003; i++)
		z += exp((sorted[i] - sorted[0]) / 0.7);
	/* Smallest probability inside the nucleus. */
	pthr = 0.0;
	for (int i = 0; i < 1003 && mass < 0.9; i++) {
		pthr = exp((sorted[i] - sorted[0]) / 0.7) / z;
		mass += pthr;
	}
	ex_sampler_init(&s, &p);
	for (int i = 0; i < 3000; i++) {
		int32_t id = ex_sample(&s, l, 1003, scratch, &lp);

		outside += exp((l[id] - sorted[0]) / 0.7) / z < pthr * 0.9999;
		CU_ASSERT_DOUBLE_EQUAL(lp, ex_logprob(l, 1003, id), 1e-6);
	}
	CU_ASSERT_EQUAL(outside, 0);
	/* Plain temperature: the top token's frequency matches its probability. */
	p.top_p = 1.0f;
	ex_sampler_init(&s, &p);
	for (int i = 0; i < 20000; i++)
		hits0 += ex_sample(&s, l, 1003, scratch, &lp) == ex_argmax(l, 1003);
	CU_ASSERT_DOUBLE_EQUAL(hits0 / 20000.0, 1.0 / z, 0.004); /* 4 sigma */
}

/* Equal seeds give equal streams, other seeds other streams. */
static void test_seed_determinism(void)
{
	float l[NV];
	struct ex_sample_params p = {.temperature = 1.0f, .top_k = 40, .top_p = 0.95f, .seed = 1234};
	struct ex_sampler a, b, c;
	int32_t ia[100], ib[100], ic[100];
	float lp;
	int same_c = 0;

	rand_logits(l, NV, 77);
	for (uint32_t i = 0; i < NV; i++)
		l[i] *= 0.3f; /* flat enough that sampling has real choice */
	ex_sampler_init(&a, &p);
	ex_sampler_init(&b, &p);
	p.seed = 1235;
	ex_sampler_init(&c, &p);
	for (int i = 0; i < 100; i++) {
		ia[i] = ex_sample(&a, l, NV, scratch, &lp);
		ib[i] = ex_sample(&b, l, NV, scratch, &lp);
		ic[i] = ex_sample(&c, l, NV, scratch, &lp);
		same_c += ia[i] == ic[i];
	}
	CU_ASSERT_EQUAL(memcmp(ia, ib, sizeof(ia)), 0);
	CU_ASSERT(same_c < 50);
}

/* Hand-computed: log_softmax([1, 2, 3]) = [-2.40760596, -1.40760596, -0.40760596]. */
static void test_logprob(void)
{
	float l[3] = {1.0f, 2.0f, 3.0f};
	struct ex_sample_params p = {.temperature = 0.0f, .top_p = 1.0f};
	struct ex_sampler s;
	float lp;

	CU_ASSERT_DOUBLE_EQUAL(ex_logprob(l, 3, 0), -2.40760596, 1e-6);
	CU_ASSERT_DOUBLE_EQUAL(ex_logprob(l, 3, 1), -1.40760596, 1e-6);
	CU_ASSERT_DOUBLE_EQUAL(ex_logprob(l, 3, 2), -0.40760596, 1e-6);
	ex_sampler_init(&s, &p);
	CU_ASSERT_EQUAL(ex_sample(&s, l, 3, scratch, &lp), 2);
	CU_ASSERT_DOUBLE_EQUAL(lp, -0.40760596, 1e-6);
	/* The temperature does not change the reported log-probability. */
	p.temperature = 5.0f;
	p.top_k = 1;
	ex_sampler_init(&s, &p);
	CU_ASSERT_EQUAL(ex_sample(&s, l, 3, scratch, &lp), 2);
	CU_ASSERT_DOUBLE_EQUAL(lp, -0.40760596, 1e-6);
}

static void test_params_check(void)
{
	struct ex_sample_params p = {.temperature = 0.7f, .top_p = 1.0f};

	CU_ASSERT_EQUAL(ex_sample_params_check(&p), 0);
	p.top_p = 0.0f;
	CU_ASSERT(ex_sample_params_check(&p) < 0);
	p.top_p = 1.5f;
	CU_ASSERT(ex_sample_params_check(&p) < 0);
	p.top_p = 1.0f;
	p.temperature = NAN;
	CU_ASSERT(ex_sample_params_check(&p) < 0);
	p.temperature = -1.0f;
	CU_ASSERT(ex_sample_params_check(&p) < 0);
}

/*
 * Feed pieces through ex_stop_scan the way the engine does: append, scan,
 * send the cleared prefix, keep the rest. Returns the text the client sees.
 */
static size_t feed(const struct ex_stops *st, const char *const *pieces, int n, char *out,
		   bool *stopped)
{
	char buf[256];
	uint32_t len = 0;
	size_t o = 0;

	*stopped = false;
	for (int i = 0; i <= n && !*stopped; i++) {
		bool final = i == n;
		uint32_t ok;

		if (!final) {
			memcpy(buf + len, pieces[i], strlen(pieces[i]));
			len += (uint32_t)strlen(pieces[i]);
		}
		ok = ex_stop_scan(st, buf, len, final, stopped);
		memcpy(out + o, buf, ok);
		o += ok;
		/* A cut never falls inside a UTF-8 character. */
		CU_ASSERT(ok == len || (buf[ok] & 0xC0) != 0x80);
		memmove(buf, buf + ok, len - ok);
		len -= ok;
	}
	out[o] = '\0';
	return o;
}

static void add_stop(struct ex_stops *st, const char *s)
{
	st->len[st->n] = (uint32_t)strlen(s);
	memcpy(st->s[st->n], s, strlen(s));
	st->n++;
}

static void test_stop_sequences(void)
{
	struct ex_stops st = {0};
	char out[256];
	bool stopped;
	const char *p1[] = {"Hel", "lo wo", "rld\nST", "OP more", "never"};
	const char *p2[] = {"a", "b", "d", "ab"};
	const char *p3[] = {"x", "\xc3", "\xa9", "\xe2\x82", "\xac!"};
	const char *p4[] = {"one ", "END", "two"};

	add_stop(&st, "\nSTOP");
	add_stop(&st, "abc");
	/* A stop split over three pieces: nothing from it, or after it, is sent. */
	feed(&st, p1, 5, out, &stopped);
	CU_ASSERT_STRING_EQUAL(out, "Hello world");
	CU_ASSERT(stopped);
	/* A prefix that does not complete is released. */
	feed(&st, p2, 4, out, &stopped);
	CU_ASSERT_STRING_EQUAL(out, "abdab");
	CU_ASSERT(!stopped);
	/* UTF-8 characters split over pieces arrive whole. */
	feed(&st, p3, 5, out, &stopped);
	CU_ASSERT_STRING_EQUAL(out, "x\xc3\xa9\xe2\x82\xac!");
	/* The earliest of several stops wins, even when a later one completes first. */
	st.n = 0;
	add_stop(&st, "ENDtwo");
	add_stop(&st, " E");
	feed(&st, p4, 3, out, &stopped);
	CU_ASSERT_STRING_EQUAL(out, "one");
	CU_ASSERT(stopped);
	/* Hold-back: "ab" at the end of a chunk is held for "abc". */
	st.n = 0;
	add_stop(&st, "abc");
	CU_ASSERT_EQUAL(ex_stop_scan(&st, "xxab", 4, false, &stopped), 2);
	CU_ASSERT_EQUAL(ex_stop_scan(&st, "xxab", 4, true, &stopped), 4);
	CU_ASSERT_EQUAL(ex_utf8_hold("a\xf0\x9f\x98", 4), 3);
	CU_ASSERT_EQUAL(ex_utf8_hold("a\xf0\x9f\x98\x80", 5), 0);
	CU_ASSERT_EQUAL(ex_utf8_hold("a\x80\x80\x80", 4), 0);
}

/* Well-formed UTF-8 out of anything, U+FFFD per maximal ill-formed subpart. */
static void check_sanitize(const char *in, uint32_t len, bool final, uint32_t cap,
			   const char *want, uint32_t want_used)
{
	char out[64];
	uint32_t used = 99, n = ex_utf8_sanitize(in, len, final, out, cap, &used);

	CU_ASSERT_EQUAL(n, (uint32_t)strlen(want));
	CU_ASSERT_EQUAL(memcmp(out, want, n < strlen(want) ? n : strlen(want)), 0);
	CU_ASSERT_EQUAL(used, want_used);
}

static void test_utf8_sanitize(void)
{
	/* "aé€😀": valid, copied as is */
	check_sanitize("a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80", 10, false, 64,
		       "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80", 10);
	/* "a" + first two bytes of "€": held while more may come ... */
	check_sanitize("a\xE2\x82", 3, false, 64, "a", 1);
	/* ... one U+FFFD (EF BF BD) when generation ended there */
	check_sanitize("a\xE2\x82", 3, true, 64, "a\xEF\xBF\xBD", 3);
	/* the first three bytes of U+1F600, final: one U+FFFD */
	check_sanitize("\xF0\x9F\x98", 3, true, 64, "\xEF\xBF\xBD", 3);
	/* a lone continuation byte in the middle, not final: replaced anyway */
	check_sanitize("x\x80y", 3, false, 64, "x\xEF\xBF\xBDy", 3);
	/* 0xF5 can start nothing: never held */
	check_sanitize("\xF5", 1, false, 64, "\xEF\xBF\xBD", 1);
	/* surrogate U+D800 (ED A0 80): ED, A0, 80 each one U+FFFD */
	check_sanitize("\xED\xA0\x80", 3, true, 64, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD", 3);
	/* overlong "/" (C0 AF) and E0 80 80: no valid prefix, one U+FFFD per byte */
	check_sanitize("\xC0\xAF", 2, true, 64, "\xEF\xBF\xBD\xEF\xBF\xBD", 2);
	check_sanitize("\xE0\x80\x80", 3, true, 64, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD", 3);
	/* above U+10FFFF (F4 90 80 80) */
	check_sanitize("\xF4\x90\x80\x80", 4, true, 64,
		       "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD", 4);
	/* an incomplete sequence cut by a valid one: the prefix is one U+FFFD */
	check_sanitize("\xE2\x82" "a", 3, false, 64, "\xEF\xBF\xBD" "a", 3);
	/* output room: whole characters only ("é" needs 2, U+FFFD 3) */
	check_sanitize("a\xC3\xA9", 3, true, 2, "a", 1);
	check_sanitize("a\x80", 2, true, 3, "a", 1);
}

int test_sampler_register(void)
{
	CU_pSuite s = CU_add_suite("executor_sampler", NULL, NULL);

	if (s == NULL)
		return -1;
	if (!CU_add_test(s, "greedy", test_greedy) ||
	    !CU_add_test(s, "top-k 1 is greedy", test_topk1_is_greedy) ||
	    !CU_add_test(s, "top-k", test_topk) || !CU_add_test(s, "top-p mass", test_topp_mass) ||
	    !CU_add_test(s, "top-p ties", test_topp_ties) ||
	    !CU_add_test(s, "top-p exact nucleus", test_topp_exact) ||
	    !CU_add_test(s, "seed determinism", test_seed_determinism) ||
	    !CU_add_test(s, "logprob", test_logprob) ||
	    !CU_add_test(s, "params check", test_params_check) ||
	    !CU_add_test(s, "stop sequences", test_stop_sequences) ||
	    !CU_add_test(s, "UTF-8 sanitizing", test_utf8_sanitize))
		return -1;
	return 0;
}
