/* SPDX-License-Identifier: proprietary */
/*
 * Gated rule databases in the image (ABI 2.0): the builder writes one
 * HSDB_GATED section per gate in use, the reader loads each under its gate,
 * ids stay rule indexes in every database, and every way a gate section can
 * be malformed is refused with its own reason.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>
#include <hs/hs.h>

#include "pol.h"
#include "polb.h"
#include "rules.h"
#include "tests.h"

/* One ungated rule and one per gate; ids 0..3 = Hyperscan ids. */
static const char gated_rules[] =
	"code.fence code score 1.5 /```/\n"
	"pii.email pii score 2 gate=at /@[a-z]{1,30}\\.[a-z]{2,6}/\n"
	"pii.ssn pii score 3 gate=digits /[0-9]{3}-[0-9]{2}-[0-9]{4}/\n"
	"script.cyr script score 1 gate=nonascii /(?:о|е)/8H\n";

/* Every rule gated: the image has no HSDB section at all. */
static const char all_gated_rules[] = "pii.email pii score 2 gate=at /@[a-z]{1,30}\\.[a-z]{2,6}/\n";

static const char scorer[] = "twospeed-scorer 1\nkind logistic\nthreshold 0.5\nbias 0\n"
			     "feature x 0 1 1\n";

struct built {
	struct rules_set *set;
	hs_database_t *db[TS_GATE_COUNT];
	struct polb_scorer *sc;
	struct polb_routes rt;
	struct polb_input in;
};

static void inputs(struct built *b, const char *rules)
{
	char err[256] = "";

	memset(b, 0, sizeof(*b));
	b->set = rules_set_new();
	b->sc = malloc(sizeof(*b->sc));
	CU_ASSERT_PTR_NOT_NULL_FATAL(b->set);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b->sc);
	CU_ASSERT_EQUAL_FATAL(
		rules_parse_buf(b->set, "g.rules", rules, strlen(rules), err, sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(rules_compile_gated(b->set, NULL, b->db, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(
		polb_scorer_parse("g.scorer", scorer, strlen(scorer), b->sc, err, sizeof(err)), 0);
	polb_routes_default(&b->rt);
	b->in = (struct polb_input){.rules = b->set,
				    .dbs = {b->db[0], b->db[1], b->db[2], b->db[3]},
				    .scorer = b->sc,
				    .routes = &b->rt,
				    .policy_version = 7,
				    .name = "gates"};
}

static void inputs_free(struct built *b)
{
	for (uint32_t g = 0; g < TS_GATE_COUNT; g++)
		hs_free_database(b->db[g]);
	rules_set_free(b->set);
	free(b->sc);
}

static unsigned char *build_image(const char *rules, size_t *len)
{
	struct built b;
	void *img = NULL;
	char err[256] = "";

	inputs(&b, rules);
	CU_ASSERT_EQUAL(polb_build(&b.in, &img, len, err, sizeof(err)), 0);
	inputs_free(&b);
	CU_ASSERT_PTR_NOT_NULL_FATAL(img);
	return img;
}

static struct ts_policy_sec *gate_sec(unsigned char *img, uint32_t gate)
{
	struct ts_policy_hdr *h = (struct ts_policy_hdr *)img;

	for (uint32_t i = 0; i < h->n_sec; i++)
		if (h->sec[i].type == TS_POLSEC_HSDB_GATED && h->sec[i].count == gate)
			return &h->sec[i];
	CU_FAIL_FATAL("gate section not found");
	return NULL;
}

static int on_match(unsigned int id, unsigned long long from, unsigned long long to,
		    unsigned int flags, void *ctx)
{
	(void)from;
	(void)to;
	(void)flags;
	*(uint32_t *)ctx |= 1u << id;
	return 0;
}

/* The rule ids db reports on text (bit i = rule i). */
static uint32_t ids_of(const hs_database_t *db, const char *text)
{
	hs_scratch_t *scratch = NULL;
	uint32_t ids = 0;

	CU_ASSERT_EQUAL_FATAL(hs_alloc_scratch(db, &scratch), HS_SUCCESS);
	CU_ASSERT_EQUAL(hs_scan(db, text, (unsigned)strlen(text), 0, scratch, on_match, &ids),
			HS_SUCCESS);
	hs_free_scratch(scratch);
	return ids;
}

static void test_gated_round_trip(void)
{
	static const char text[] = "```x``` mail bob@example.com, ssn 123-45-6789, привет";
	size_t len;
	unsigned char *img = build_image(gated_rules, &len);
	struct ts_policy_hdr *h = (struct ts_policy_hdr *)img;
	char err[256] = "";
	struct pol_image *pi;

	CU_ASSERT_EQUAL(h->abi_major, 2);
	CU_ASSERT_EQUAL(h->abi_minor, 0);
	CU_ASSERT_EQUAL(h->n_sec, 9); /* STRINGS RULES SCORER ROUTES HDRSUM HSDB + 3 gated */
	for (uint32_t g = 1; g < TS_GATE_COUNT; g++)
		CU_ASSERT_EQUAL(gate_sec(img, g)->offset % TS_POLICY_ALIGN, 0);
	pi = pol_image_load(img, len, NULL, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(pi);
	CU_ASSERT_EQUAL(pol_image_rule_count(pi), 4);
	/* each database reports only its own rules, under their global ids */
	CU_ASSERT_EQUAL(ids_of(pol_image_hsdb(pi), text), 1u << 0);
	CU_ASSERT_PTR_EQUAL(pol_image_hsdb_gate(pi, TS_GATE_NONE), pol_image_hsdb(pi));
	CU_ASSERT_EQUAL(ids_of(pol_image_hsdb_gate(pi, TS_GATE_AT), text), 1u << 1);
	CU_ASSERT_EQUAL(ids_of(pol_image_hsdb_gate(pi, TS_GATE_DIGITS), text), 1u << 2);
	CU_ASSERT_EQUAL(ids_of(pol_image_hsdb_gate(pi, TS_GATE_NONASCII), text), 1u << 3);
	CU_ASSERT_PTR_NOT_NULL(strstr(pol_image_hsdb_gate_info(pi, TS_GATE_AT), "BLOCK"));
	CU_ASSERT_PTR_NULL(pol_image_hsdb_gate(pi, TS_GATE_COUNT));
	CU_ASSERT_PTR_NULL(pol_image_hsdb_gate_info(pi, TS_GATE_COUNT));
	pol_image_close(pi);
	free(img);
}

/* No ungated rule: no HSDB section, and that is fine. */
static void test_all_gated(void)
{
	size_t len;
	unsigned char *img = build_image(all_gated_rules, &len);
	struct pol_image *pi = pol_image_load(img, len, NULL, NULL, 0);

	CU_ASSERT_PTR_NOT_NULL_FATAL(pi);
	CU_ASSERT_PTR_NULL(pol_image_hsdb(pi));
	CU_ASSERT_PTR_NULL(pol_image_hsdb_info(pi));
	CU_ASSERT_PTR_NOT_NULL(pol_image_hsdb_gate(pi, TS_GATE_AT));
	CU_ASSERT_PTR_NULL(pol_image_hsdb_gate(pi, TS_GATE_DIGITS));
	pol_image_close(pi);

	/* ...but an image without any rule database is refused */
	gate_sec(img, TS_GATE_AT)->type = TS_POLSEC_TENANTS;
	{
		char err[256] = "";
		enum pol_err code = POL_OK;

		CU_ASSERT_EQUAL(pol_reseal(img, len), 0);
		CU_ASSERT_PTR_NULL(pol_image_load(img, len, &code, err, sizeof(err)));
		CU_ASSERT_EQUAL(code, POL_E_SECTION);
		CU_ASSERT_PTR_NOT_NULL(strstr(err, "no rule database"));
	}
	free(img);
}

/* Sealed, refused with class want and a reason containing what. */
static void refused(unsigned char *img, size_t len, enum pol_err want, const char *what)
{
	char err[256] = "";
	enum pol_err code = POL_OK;
	struct pol_image *pi;

	CU_ASSERT_EQUAL(pol_reseal(img, len), 0);
	pi = pol_image_load(img, len, &code, err, sizeof(err));
	CU_ASSERT_PTR_NULL(pi);
	CU_ASSERT_EQUAL(code, want);
	if (strstr(err, what) == NULL)
		fprintf(stderr, "\n  want \"%s\" in: %s\n", what, err);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, what));
	pol_image_close(pi);
}

static void test_gate_section_refusals(void)
{
	size_t len;
	unsigned char *ref = build_image(gated_rules, &len);
	unsigned char *c = malloc(len);

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);

	/* gate NONE is what HSDB is for */
	memcpy(c, ref, len);
	gate_sec(c, TS_GATE_AT)->count = TS_GATE_NONE;
	refused(c, len, POL_E_SECTION, "HSDB_GATED for unknown gate 0");

	/* a gate this reader does not know */
	memcpy(c, ref, len);
	gate_sec(c, TS_GATE_AT)->count = TS_GATE_COUNT;
	refused(c, len, POL_E_SECTION, "HSDB_GATED for unknown gate 4");

	/* two databases for one gate */
	memcpy(c, ref, len);
	gate_sec(c, TS_GATE_AT)->count = TS_GATE_DIGITS;
	refused(c, len, POL_E_SECTION, "duplicate HSDB_GATED section for gate digits");

	/* an empty one */
	memcpy(c, ref, len);
	gate_sec(c, TS_GATE_DIGITS)->length = 0;
	refused(c, len, POL_E_SECTION, "HSDB_GATED section for gate digits is empty");

	/* out of bounds, like any section */
	memcpy(c, ref, len);
	gate_sec(c, TS_GATE_NONASCII)->length = len;
	refused(c, len, POL_E_SECTION, "(HSDB_GATED): [");

	/* a gated database cut short or corrupted: Hyperscan's checks, named by gate */
	memcpy(c, ref, len);
	gate_sec(c, TS_GATE_AT)->length = 40;
	refused(c, len, POL_E_HSDB, "HSDB_GATED(at): 40 bytes is too short");
	memcpy(c, ref, len);
	{
		struct ts_policy_sec *s = gate_sec(c, TS_GATE_NONASCII);

		c[s->offset + s->length / 2] ^= 0x5a;
	}
	refused(c, len, POL_E_HSDB, "HSDB_GATED(nonascii): hs_deserialize_database refused");

	/* the HDRSUM section is required in every 2.x image */
	memcpy(c, ref, len);
	{
		struct ts_policy_hdr *h = (struct ts_policy_hdr *)c;

		for (uint32_t i = 0; i < h->n_sec; i++)
			if (h->sec[i].type == TS_POLSEC_HDRSUM)
				h->sec[i].type = TS_POLSEC_TENANTS;
	}
	refused(c, len, POL_E_SECTION, "missing HDRSUM section");
	free(c);
	free(ref);
}

/* The builder checks that databases and rule gates agree. */
static void test_builder_gate_checks(void)
{
	struct built b;
	void *img = NULL;
	size_t len = 0;
	char err[256] = "";
	const hs_database_t *at;

	inputs(&b, gated_rules);
	at = b.in.dbs[TS_GATE_AT];
	b.in.dbs[TS_GATE_AT] = NULL;
	CU_ASSERT_EQUAL(polb_build(&b.in, &img, &len, err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "gate at but no database"));
	CU_ASSERT_PTR_NULL(img);
	b.in.dbs[TS_GATE_AT] = at;

	/* a database for a gate no rule has */
	b.set->rules[2].gate = TS_GATE_AT;
	CU_ASSERT_EQUAL(polb_build(&b.in, &img, &len, err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "a database for gate digits"));
	b.set->rules[2].gate = TS_GATE_COUNT;
	CU_ASSERT_EQUAL(polb_build(&b.in, &img, &len, err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "gate 4 out of range"));
	b.set->rules[2].gate = TS_GATE_DIGITS;
	CU_ASSERT_EQUAL(polb_build(&b.in, &img, &len, err, sizeof(err)), 0);
	free(img);
	inputs_free(&b);
	CU_ASSERT_STRING_EQUAL(pol_gate_name(TS_GATE_DIGITS), "digits");
	CU_ASSERT_PTR_NULL(pol_gate_name(TS_GATE_COUNT));
}

int policy_gates_register(CU_pSuite s)
{
	return (CU_add_test(s, "gated round trip", test_gated_round_trip) == NULL ||
		CU_add_test(s, "all rules gated", test_all_gated) == NULL ||
		CU_add_test(s, "gate section refusals", test_gate_section_refusals) == NULL ||
		CU_add_test(s, "builder gate checks", test_builder_gate_checks) == NULL)
		       ? -1
		       : 0;
}
