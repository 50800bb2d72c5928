/* SPDX-License-Identifier: proprietary */
/*
 * Allocation failure on every allocation of the loader, the builder and the
 * scorer parser, one at a time, so every cleanup path runs (under ASan, a
 * leak or a double free on any of them fails the suite). The test binary is
 * linked with -Wl,--wrap for malloc, calloc and aligned_alloc; Hyperscan
 * (a shared library) keeps the real allocator.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "pol.h"
#include "polb.h"
#include "rules.h"
#include "tests.h"

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_aligned_alloc(size_t align, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_aligned_alloc(size_t align, size_t n);

static long fail_at = -1; /* allocation index to fail, -1: none */
static long seen;	  /* allocations since arm() */

static bool should_fail(void)
{
	return fail_at >= 0 && seen++ == fail_at;
}

void *__wrap_malloc(size_t n)
{
	return should_fail() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size)
{
	return should_fail() ? NULL : __real_calloc(n, size);
}

void *__wrap_aligned_alloc(size_t align, size_t n)
{
	return should_fail() ? NULL : __real_aligned_alloc(align, n);
}

static void arm(long k)
{
	seen = 0;
	fail_at = k;
}

/* Returns how many allocations the armed run made, and disarms. */
static long disarm(void)
{
	fail_at = -1;
	return seen;
}

static const char rules_text[] = "a.one code score 1 /abc/\n"
				 "b.two greeting force_local 1 gate=at /hello@/i\n";
static const char scorer_text[] = "twospeed-scorer 1\nkind logistic\nthreshold 0.5\nbias 0\n"
				  "feature x 0 1 1\nfeature y 1 2 3\n";

struct inputs {
	struct rules_set *set;
	hs_database_t *db[TS_GATE_COUNT]; /* rules_compile_gated(): b.two has gate=at */
	struct polb_scorer sc;
	struct polb_routes rt;
};

static void inputs_make(struct inputs *in)
{
	char err[256];

	in->set = rules_set_new();
	CU_ASSERT_PTR_NOT_NULL_FATAL(in->set);
	CU_ASSERT_EQUAL_FATAL(rules_parse_buf(in->set, "n.rules", rules_text, strlen(rules_text),
					      err, sizeof(err)),
			      0);
	CU_ASSERT_EQUAL_FATAL(rules_compile_gated(in->set, NULL, in->db, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(polb_scorer_parse("n.scorer", scorer_text, strlen(scorer_text),
						&in->sc, err, sizeof(err)),
			      0);
	polb_routes_default(&in->rt);
}

static void inputs_free(struct inputs *in)
{
	for (uint32_t g = 0; g < TS_GATE_COUNT; g++)
		hs_free_database(in->db[g]);
	rules_set_free(in->set);
}

static void test_nomem_build_and_load(void)
{
	static struct inputs in; /* struct polb_scorer is ~20 KiB: not on the stack */
	struct polb_input bi;
	void *img = NULL;
	size_t len = 0;
	long k, used, nomem = 0;
	char err[256];

	inputs_make(&in);
	bi = (struct polb_input){.rules = in.set,
				 .dbs = {in.db[0], in.db[1], in.db[2], in.db[3]},
				 .scorer = &in.sc,
				 .routes = &in.rt,
				 .policy_version = 5,
				 .name = "nomem"};
	/* the builder: every allocation, in turn, fails once */
	for (k = 0;; k++) {
		int rc;

		arm(k);
		rc = polb_build(&bi, &img, &len, err, sizeof(err));
		used = disarm();
		if (rc == 0)
			break;
		nomem += rc == -ENOMEM;
		CU_ASSERT_EQUAL(rc, -ENOMEM);
	}
	CU_ASSERT(k >= 4); /* image, then the loader's own allocations */
	CU_ASSERT_EQUAL(nomem, k);
	CU_ASSERT(used <= k);

	/* the loader alone */
	nomem = 0;
	for (k = 0;; k++) {
		enum pol_err code = POL_OK;
		struct pol_image *p;

		arm(k);
		p = pol_image_load(img, len, &code, err, sizeof(err));
		disarm();
		if (p != NULL) {
			pol_image_close(p);
			break;
		}
		nomem += code == POL_E_NOMEM;
		CU_ASSERT_EQUAL(code, POL_E_NOMEM);
	}
	CU_ASSERT(k >= 5); /* image, copy, rules, rule-id sort, names, name sort */
	CU_ASSERT_EQUAL(nomem, k);
	free(img);
	inputs_free(&in);
}

static void test_nomem_scorer(void)
{
	static struct polb_scorer sc;
	long k;
	char err[256];

	for (k = 0;; k++) {
		int rc;

		arm(k);
		rc = polb_scorer_parse("n", scorer_text, strlen(scorer_text), &sc, err,
				       sizeof(err));
		disarm();
		if (rc == 0)
			break;
		CU_ASSERT_EQUAL(rc, -ENOMEM);
	}
	CU_ASSERT_EQUAL(k, 1);
}

int policy_nomem_register(CU_pSuite s)
{
	return (CU_add_test(s, "nomem build and load", test_nomem_build_and_load) == NULL ||
		CU_add_test(s, "nomem scorer", test_nomem_scorer) == NULL)
		       ? -1
		       : 0;
}
