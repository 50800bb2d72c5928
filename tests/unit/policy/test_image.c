/* SPDX-License-Identifier: proprietary */
/*
 * Image builder and reader: round trip, then one refusal per way an image can
 * be wrong. Every mutation works on a private copy of one reference image; the
 * ones that must get past the checksum reseal it (pol_reseal) so the check
 * under test is the one that fires.
 */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/CUnit.h>
#include <hs/hs.h>

#include "pol.h"
#include "polb.h"
#include "rules.h"
#include "tests.h"

/* Four rules, one per action, one with a verifier; ids are Hyperscan ids 0..3. */
static const char rules_text[] =
	"# test rules\n"
	"code.fence code score 1.5 /```/\n"
	"pii.card pii force_frontier 1 verify=luhn /\\d{4}[ -]?\\d{4}[ -]?\\d{4}[ -]?\\d{4}/\n"
	"greet.hello greeting force_local 0.5 /\\bhello\\b/i\n"
	"inj.ignore injection block 2 /ignore (all )?previous instructions/i\n";

static const char scorer_text[] = "twospeed-scorer 1\n"
				  "kind logistic\n"
				  "threshold 0.42\n"
				  "bias -1.25\n"
				  "feature len_bytes 100.5 50 0.25\n"
				  "feature code_hits 0 1 1.5\n"
				  "feature math_hits 0.5 2 -0.75\n";

static const char *const feature_names[] = {"len_bytes", "code_hits", "math_hits"};

/* The reference image, built once. */
static unsigned char *ref;
static size_t ref_len;

static int build(const char *rules, const char *scorer, void **image, size_t *len, char *err,
		 size_t errlen)
{
	struct rules_set *set = rules_set_new();
	struct polb_scorer *sc = malloc(sizeof(*sc));
	struct polb_routes rt;
	hs_database_t *db[TS_GATE_COUNT] = {NULL};
	struct polb_input in;
	int rc = -ENOMEM;

	if (set == NULL || sc == NULL)
		goto out;
	rc = rules_parse_buf(set, "test.rules", rules, strlen(rules), err, errlen);
	if (rc == 0)
		rc = rules_compile_gated(set, NULL, db, err, errlen);
	if (rc == 0)
		rc = polb_scorer_parse("test.scorer", scorer, strlen(scorer), sc, err, errlen);
	if (rc < 0)
		goto out;
	polb_routes_default(&rt);
	in = (struct polb_input){.rules = set,
				 .dbs = {db[0], db[1], db[2], db[3]},
				 .scorer = sc,
				 .routes = &rt,
				 .policy_version = 42,
				 .name = "unit",
				 .created_unix = 1700000000};
	rc = polb_build(&in, image, len, err, errlen);
out:
	for (uint32_t g = 0; g < TS_GATE_COUNT; g++)
		hs_free_database(db[g]);
	rules_set_free(set);
	free(sc);
	return rc;
}

static const unsigned char *reference(size_t *len)
{
	char err[256] = "";
	void *img = NULL;

	if (ref == NULL) {
		CU_ASSERT_EQUAL_FATAL(
			build(rules_text, scorer_text, &img, &ref_len, err, sizeof(err)), 0);
		ref = img;
	}
	*len = ref_len;
	return ref;
}

/* A writable copy of the reference image, and its header. */
static unsigned char *copy_ref(size_t *len)
{
	const unsigned char *r = reference(len);
	unsigned char *c = malloc(*len + 64);

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	memcpy(c, r, *len);
	return c;
}

static struct ts_policy_hdr *hdr_of(unsigned char *img)
{
	return (struct ts_policy_hdr *)img;
}

static struct ts_policy_sec *sec_of(unsigned char *img, uint32_t type)
{
	struct ts_policy_hdr *h = hdr_of(img);

	for (uint32_t i = 0; i < h->n_sec; i++)
		if (h->sec[i].type == type)
			return &h->sec[i];
	CU_FAIL_FATAL("section not found");
	return NULL;
}

static void *payload_of(unsigned char *img, uint32_t type)
{
	return img + sec_of(img, type)->offset;
}

/* Load buf and check it is refused with class want and a non-empty reason. */
static void expect_refused(const void *buf, size_t len, enum pol_err want)
{
	char err[256] = "";
	enum pol_err code = POL_OK;
	struct pol_image *img = pol_image_load(buf, len, &code, err, sizeof(err));

	CU_ASSERT_PTR_NULL(img);
	CU_ASSERT_EQUAL(code, want);
	CU_ASSERT(err[0] != '\0');
	pol_image_close(img);
}

/* Sealed, refused with class want and a reason containing what. */
static void expect_refused_why(unsigned char *buf, size_t len, enum pol_err want, const char *what)
{
	char err[256] = "";
	enum pol_err code = POL_OK;
	struct pol_image *img;

	CU_ASSERT_EQUAL(pol_reseal(buf, len), 0);
	img = pol_image_load(buf, len, &code, err, sizeof(err));
	CU_ASSERT_PTR_NULL(img);
	CU_ASSERT_EQUAL(code, want);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, what));
	pol_image_close(img);
}

/* Same, after resealing the checksum so the check under test fires. */
static void expect_refused_sealed(unsigned char *buf, size_t len, enum pol_err want)
{
	CU_ASSERT_EQUAL(pol_reseal(buf, len), 0);
	expect_refused(buf, len, want);
}

struct hits {
	unsigned n[8];
};

static int on_match(unsigned int id, unsigned long long from, unsigned long long to,
		    unsigned int flags, void *ctx)
{
	struct hits *h = ctx;

	(void)from;
	(void)to;
	(void)flags;
	h->n[id < 8 ? id : 7]++;
	return 0;
}

static void test_round_trip(void)
{
	static const char text[] = "hello, here is ```code``` and 4111 1111 1111 1111";
	const struct pol_scorer *sc;
	const struct pol_route *lo, *fr;
	const struct pol_rule *r;
	hs_scratch_t *scratch = NULL;
	struct hits hits = {0};
	struct pol_image *img;
	size_t len;
	const unsigned char *buf = reference(&len);
	char err[256] = "";

	img = pol_image_from_buf(buf, len, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(img);
	CU_ASSERT_EQUAL(pol_image_version(img), 42);
	CU_ASSERT_STRING_EQUAL(pol_image_name(img), "unit");
	CU_ASSERT_EQUAL(pol_image_hdr(img)->created_unix, 1700000000);

	/* Rules in Hyperscan id order with every field carried over. */
	CU_ASSERT_EQUAL_FATAL(pol_image_rule_count(img), 4);
	r = pol_image_rules(img);
	CU_ASSERT_STRING_EQUAL(r[0].id, "code.fence");
	CU_ASSERT_EQUAL(r[0].category, TS_CAT_CODE);
	CU_ASSERT_EQUAL(r[0].action, TS_ACT_SCORE);
	CU_ASSERT_DOUBLE_EQUAL(r[0].weight, 1.5, 1e-9);
	CU_ASSERT_STRING_EQUAL(r[1].id, "pii.card");
	CU_ASSERT_EQUAL(r[1].verify, TS_VERIFY_LUHN);
	CU_ASSERT_EQUAL(r[1].action, TS_ACT_FORCE_FRONTIER);
	CU_ASSERT_STRING_EQUAL(r[2].id, "greet.hello");
	CU_ASSERT_EQUAL(r[2].action, TS_ACT_FORCE_LOCAL);
	CU_ASSERT_EQUAL(r[2].hs_flags & HS_FLAG_CASELESS, HS_FLAG_CASELESS);
	CU_ASSERT_STRING_EQUAL(r[3].id, "inj.ignore");
	CU_ASSERT_EQUAL(r[3].action, TS_ACT_BLOCK);
	CU_ASSERT_EQUAL(r[3].category, TS_CAT_INJECTION);

	/* Scorer arrays and names. */
	sc = pol_image_scorer(img);
	CU_ASSERT_EQUAL(sc->kind, TS_SCORER_LOGISTIC);
	CU_ASSERT_EQUAL_FATAL(sc->n_features, 3);
	CU_ASSERT_DOUBLE_EQUAL(sc->threshold, 0.42, 1e-6);
	CU_ASSERT_DOUBLE_EQUAL(sc->bias, -1.25, 1e-9);
	CU_ASSERT_STRING_EQUAL(sc->names[2], "math_hits");
	CU_ASSERT_DOUBLE_EQUAL(sc->mean[0], 100.5, 1e-6);
	CU_ASSERT_DOUBLE_EQUAL(sc->scale[2], 2.0, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(sc->weight[2], -0.75, 1e-9);
	CU_ASSERT_EQUAL(pol_image_check_features(img, feature_names, 3, err, sizeof(err)), 0);

	/* Routes: embedded defaults. */
	lo = pol_image_route(img, TS_ROUTE_LOCAL);
	fr = pol_image_route(img, TS_ROUTE_FRONTIER);
	CU_ASSERT_STRING_EQUAL(lo->model, POLB_DEF_LOCAL_MODEL);
	CU_ASSERT_STRING_EQUAL(fr->model, POLB_DEF_FRONTIER_MODEL);
	CU_ASSERT_STRING_EQUAL(fr->upstream, POLB_DEF_FRONTIER_UPSTREAM);
	CU_ASSERT_DOUBLE_EQUAL(lo->usd_per_mtok_in, 0.10, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(fr->usd_per_mtok_in, 2.50, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(fr->usd_per_mtok_out, 10.00, 1e-12);
	CU_ASSERT_STRING_EQUAL(pol_image_route(img, TS_ROUTE_BLOCK)->model, "");
	CU_ASSERT_PTR_NULL(pol_image_route(img, TS_ROUTE_COUNT));

	/* The deserialized database reports rule i as id i. */
	CU_ASSERT_PTR_NOT_NULL_FATAL(pol_image_hsdb(img));
	CU_ASSERT_PTR_NOT_NULL(strstr(pol_image_hsdb_info(img), "BLOCK"));
	CU_ASSERT_EQUAL_FATAL(hs_alloc_scratch(pol_image_hsdb(img), &scratch), HS_SUCCESS);
	CU_ASSERT_EQUAL(
		hs_scan(pol_image_hsdb(img), text, sizeof(text) - 1, 0, scratch, on_match, &hits),
		HS_SUCCESS);
	CU_ASSERT_EQUAL(hits.n[0], 2); /* two fences */
	CU_ASSERT(hits.n[1] >= 1);     /* the card number */
	CU_ASSERT_EQUAL(hits.n[2], 1); /* hello */
	CU_ASSERT_EQUAL(hits.n[3], 0); /* no injection phrase */
	hs_free_scratch(scratch);

	/* The bytes handed out are the validated ones, 64-byte aligned. */
	{
		size_t blen = 0;
		const void *b = pol_image_bytes(img, &blen);

		CU_ASSERT_EQUAL(blen, len);
		CU_ASSERT_EQUAL((uintptr_t)b % TS_POLICY_ALIGN, 0);
		CU_ASSERT_EQUAL(memcmp(b, buf, len), 0);
	}
	pol_image_close(img);
}

/* Same inputs, same bytes: images are reproducible (padding is zero). */
static void test_reproducible(void)
{
	void *again = NULL;
	size_t len, len2 = 0;
	const unsigned char *buf = reference(&len);
	char err[256];

	CU_ASSERT_EQUAL_FATAL(build(rules_text, scorer_text, &again, &len2, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(len2, len);
	CU_ASSERT_EQUAL(memcmp(again, buf, len), 0);
	free(again);
}

static void test_layout(void)
{
	size_t len;
	unsigned char *img = copy_ref(&len);
	struct ts_policy_hdr *h = hdr_of(img);

	CU_ASSERT_EQUAL(h->magic, TS_POLICY_MAGIC);
	CU_ASSERT_EQUAL(h->length, len);
	CU_ASSERT_EQUAL(h->checksum, pol_checksum(img, len));
	CU_ASSERT_EQUAL(h->n_sec, 6);
	CU_ASSERT_EQUAL(h->abi_minor, TS_POLICY_ABI_MINOR);
	{
		uint64_t sum;

		memcpy(&sum, payload_of(img, TS_POLSEC_HDRSUM), sizeof(sum));
		CU_ASSERT_EQUAL(sum, pol_hdr_checksum(h));
	}
	for (uint32_t i = 0; i < h->n_sec; i++) {
		CU_ASSERT_EQUAL(h->sec[i].offset % TS_POLICY_ALIGN, 0);
		CU_ASSERT(h->sec[i].offset + h->sec[i].length <= len);
	}
	CU_ASSERT_EQUAL(sec_of(img, TS_POLSEC_RULES)->count, 4);
	CU_ASSERT_EQUAL(sec_of(img, TS_POLSEC_SCORER)->count, 3);
	CU_ASSERT_EQUAL(sec_of(img, TS_POLSEC_ROUTES)->count, TS_ROUTE_COUNT);
	free(img);
}

/* Every prefix of the image is refused as truncated: no length gets further. */
static void test_truncated_every_length(void)
{
	size_t len;
	const unsigned char *buf = reference(&len);
	unsigned bad = 0;

	for (size_t n = 0; n < len; n++) {
		enum pol_err code = POL_OK;
		struct pol_image *img = pol_image_load(buf, n, &code, NULL, 0);

		bad += img != NULL || code != POL_E_TRUNCATED;
		pol_image_close(img);
	}
	CU_ASSERT_EQUAL(bad, 0);
	/* A trailing byte is a length mismatch, not silently ignored. */
	{
		unsigned char *c = copy_ref(&len);

		expect_refused(c, len + 1, POL_E_LENGTH);
		free(c);
	}
}

/*
 * Cut at every structure boundary with the header rewritten to the cut length
 * and resealed: the framing passes, the section table must catch it.
 */
static void test_truncated_at_boundaries(void)
{
	size_t len;
	unsigned char *c = copy_ref(&len);
	const struct ts_policy_hdr *h = hdr_of(c);
	struct ts_policy_hdr saved = *h;

	for (uint32_t i = 0; i < saved.n_sec; i++) {
		const size_t cuts[] = {saved.sec[i].offset, saved.sec[i].offset + 1,
				       saved.sec[i].offset + saved.sec[i].length - 1};

		for (size_t k = 0; k < sizeof(cuts) / sizeof(cuts[0]); k++) {
			unsigned char *t = copy_ref(&len);

			hdr_of(t)->length = cuts[k];
			expect_refused_sealed(t, cuts[k], POL_E_SECTION);
			free(t);
		}
	}
	free(c);
}

/* Any flipped payload byte is a checksum mismatch. */
static void test_flipped_bytes(void)
{
	size_t len;
	unsigned char *c = copy_ref(&len);
	unsigned bad = 0;

	for (size_t off = sizeof(struct ts_policy_hdr); off < len; off++) {
		enum pol_err code = POL_OK;
		struct pol_image *img;

		c[off] ^= 0x01;
		img = pol_image_load(c, len, &code, NULL, 0);
		bad += img != NULL || code != POL_E_CHECKSUM;
		pol_image_close(img);
		c[off] ^= 0x01;
	}
	CU_ASSERT_EQUAL(bad, 0);
	hdr_of(c)->checksum ^= 1;
	expect_refused(c, len, POL_E_CHECKSUM);
	free(c);
}

static void test_magic_and_abi(void)
{
	size_t len;
	unsigned char *c = copy_ref(&len);
	char err[256] = "";
	enum pol_err code;

	hdr_of(c)->magic = 0x4c505355u;
	expect_refused(c, len, POL_E_MAGIC);
	expect_refused(c, 3, POL_E_TRUNCATED);
	free(c);

	/* ABI major 3 with a valid checksum: the ABI check itself refuses. */
	c = copy_ref(&len);
	CU_ASSERT_EQUAL(hdr_of(c)->abi_major, 2);
	hdr_of(c)->abi_major = 3;
	CU_ASSERT_EQUAL(pol_reseal(c, len), 0);
	CU_ASSERT_PTR_NULL(pol_image_load(c, len, &code, err, sizeof(err)));
	CU_ASSERT_EQUAL(code, POL_E_ABI);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "ABI major 3"));
	free(c);

	/*
	 * A 1.x image is refused too: a 1.x writer knows no gates, but this
	 * reader reads only the 2.x layout rules (HSDB may be absent, HDRSUM is
	 * always required), and refusing is what lets a 1.x reader refuse 2.x.
	 */
	c = copy_ref(&len);
	hdr_of(c)->abi_major = 1;
	hdr_of(c)->abi_minor = 1;
	CU_ASSERT_EQUAL(pol_reseal(c, len), 0);
	CU_ASSERT_PTR_NULL(pol_image_load(c, len, &code, err, sizeof(err)));
	CU_ASSERT_EQUAL(code, POL_E_ABI);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "ABI major 1"));
	free(c);

	/* A newer minor is readable (unknown additions are skipped) once sealed. */
	c = copy_ref(&len);
	hdr_of(c)->abi_minor = TS_POLICY_ABI_MINOR + 1;
	expect_refused(c, len, POL_E_CHECKSUM); /* the header sum saw the change */
	CU_ASSERT_EQUAL(pol_reseal(c, len), 0);
	pol_image_close(pol_image_load(c, len, &code, err, sizeof(err)));
	CU_ASSERT_EQUAL(code, POL_OK);
	free(c);
}

/*
 * ABI 1.1: every header byte outside the framing fields (magic, ABI, length,
 * checksum: each has its own check) is covered by HDRSUM.
 */
static void test_header_sum(void)
{
	size_t len;
	unsigned char *c = copy_ref(&len);
	unsigned bad = 0;
	char err[256] = "";
	enum pol_err code;

	for (size_t off = offsetof(struct ts_policy_hdr, policy_version);
	     off < sizeof(struct ts_policy_hdr); off++) {
		struct pol_image *img;

		c[off] ^= 0x10;
		code = POL_OK;
		img = pol_image_load(c, len, &code, NULL, 0);
		/* a section-table flip may trip the table checks first; never accepted */
		bad += img != NULL || code == POL_OK;
		pol_image_close(img);
		c[off] ^= 0x10;
	}
	CU_ASSERT_EQUAL(bad, 0);

	/* the policy version, specifically, is a header checksum mismatch */
	hdr_of(c)->policy_version++;
	CU_ASSERT_PTR_NULL(pol_image_load(c, len, &code, err, sizeof(err)));
	CU_ASSERT_EQUAL(code, POL_E_CHECKSUM);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "header checksum mismatch"));
	hdr_of(c)->policy_version--;

	/*
	 * An image without HDRSUM is refused, whatever its minor: every 2.x
	 * image has one (the 1.0 exemption ended with the 1.x major).
	 */
	{
		struct ts_policy_hdr *h = hdr_of(c);
		struct ts_policy_sec *hs = sec_of(c, TS_POLSEC_HDRSUM);
		uint32_t last = h->n_sec - 1;

		*hs = h->sec[last];
		memset(&h->sec[last], 0, sizeof(h->sec[last]));
		h->n_sec--;
		expect_refused_why(c, len, POL_E_SECTION, "missing HDRSUM");
		h->abi_minor = 0;
		expect_refused_why(c, len, POL_E_SECTION, "missing HDRSUM");
	}
	free(c);

	/* a HDRSUM of the wrong size */
	c = copy_ref(&len);
	sec_of(c, TS_POLSEC_HDRSUM)->length = 16;
	expect_refused_why(c, len, POL_E_SECTION, "HDRSUM: 16 bytes");
	free(c);
}

static void test_header_fields(void)
{
	size_t len;
	unsigned char *c;

	c = copy_ref(&len);
	hdr_of(c)->n_sec = TS_POLICY_SEC_MAX + 1;
	expect_refused_sealed(c, len, POL_E_HEADER);
	free(c);

	c = copy_ref(&len);
	hdr_of(c)->flags = 1;
	expect_refused_sealed(c, len, POL_E_HEADER);
	free(c);

	c = copy_ref(&len);
	memset(hdr_of(c)->name, 'a', TS_POLICY_NAME_MAX);
	expect_refused_sealed(c, len, POL_E_HEADER);
	free(c);

	c = copy_ref(&len);
	hdr_of(c)->name[0] = '\033';
	expect_refused_sealed(c, len, POL_E_HEADER);
	free(c);

	c = copy_ref(&len);
	hdr_of(c)->sec[TS_POLICY_SEC_MAX - 1].length = 1;
	expect_refused_sealed(c, len, POL_E_HEADER);
	free(c);
}

static void test_sections(void)
{
	size_t len;
	unsigned char *c;
	struct ts_policy_sec *s;

	/* out of bounds: past the end, inside the header, length overflowing */
	c = copy_ref(&len);
	sec_of(c, TS_POLSEC_SCORER)->length = len;
	expect_refused_why(c, len, POL_E_SECTION, "out of bounds");
	free(c);
	c = copy_ref(&len);
	sec_of(c, TS_POLSEC_RULES)->offset = 0;
	expect_refused_sealed(c, len, POL_E_SECTION);
	free(c);
	c = copy_ref(&len);
	s = sec_of(c, TS_POLSEC_HSDB);
	s->length = UINT64_MAX - s->offset + 2;
	expect_refused_why(c, len, POL_E_SECTION, "out of bounds");
	free(c);
	c = copy_ref(&len);
	sec_of(c, TS_POLSEC_ROUTES)->offset = (len + 64) / 64 * 64;
	expect_refused_sealed(c, len, POL_E_SECTION);
	free(c);

	/* misaligned */
	c = copy_ref(&len);
	sec_of(c, TS_POLSEC_ROUTES)->offset += 8;
	expect_refused_why(c, len, POL_E_SECTION, "not 64-byte aligned");
	free(c);

	/* overlapping: SCORER moved onto RULES */
	c = copy_ref(&len);
	sec_of(c, TS_POLSEC_SCORER)->offset = sec_of(c, TS_POLSEC_RULES)->offset;
	expect_refused_why(c, len, POL_E_SECTION, "overlap");
	free(c);

	/* duplicated type */
	c = copy_ref(&len);
	sec_of(c, TS_POLSEC_ROUTES)->type = TS_POLSEC_RULES;
	expect_refused_why(c, len, POL_E_SECTION, "duplicate RULES section");
	free(c);

	/* missing: the last entry (HSDB) dropped and zeroed */
	c = copy_ref(&len);
	hdr_of(c)->n_sec--;
	memset(&hdr_of(c)->sec[hdr_of(c)->n_sec], 0, sizeof(struct ts_policy_sec));
	expect_refused_why(c, len, POL_E_SECTION, "missing HSDB section");
	free(c);

	/* NONE in a used entry */
	c = copy_ref(&len);
	sec_of(c, TS_POLSEC_STRINGS)->type = TS_POLSEC_NONE;
	expect_refused_sealed(c, len, POL_E_SECTION);
	free(c);

	/* an unknown section type is skipped (abi_minor growth) */
	c = copy_ref(&len);
	{
		struct ts_policy_hdr *h = hdr_of(c);
		enum pol_err code = POL_E_COUNT;

		h->sec[h->n_sec] =
			(struct ts_policy_sec){.type = 99, .count = 0, .offset = 512, .length = 0};
		h->n_sec++;
		CU_ASSERT_EQUAL(pol_reseal(c, len), 0);
		pol_image_close(pol_image_load(c, len, &code, NULL, 0));
		CU_ASSERT_EQUAL(code, POL_OK);
	}
	free(c);
}

static void test_strings(void)
{
	size_t len;
	unsigned char *c;
	struct ts_policy_rule *r;
	struct ts_policy_sec *s;

	/* a rule id past the end of STRINGS */
	c = copy_ref(&len);
	r = payload_of(c, TS_POLSEC_RULES);
	r[1].id_off = (uint32_t)sec_of(c, TS_POLSEC_STRINGS)->length;
	expect_refused_why(c, len, POL_E_STRING, "outside STRINGS");
	free(c);

	/* an empty rule id */
	c = copy_ref(&len);
	r = payload_of(c, TS_POLSEC_RULES);
	r[0].id_off = 0;
	expect_refused_sealed(c, len, POL_E_STRING);
	free(c);

	/* the last string loses its terminator: STRINGS shrunk by one byte */
	c = copy_ref(&len);
	s = sec_of(c, TS_POLSEC_STRINGS);
	s->length--;
	expect_refused_why(c, len, POL_E_STRING, "not NUL-terminated");
	free(c);

	/* a control byte inside a string */
	c = copy_ref(&len);
	r = payload_of(c, TS_POLSEC_RULES);
	c[sec_of(c, TS_POLSEC_STRINGS)->offset + r[2].id_off] = '\n';
	expect_refused_sealed(c, len, POL_E_STRING);
	free(c);

	/* two rules with one id */
	c = copy_ref(&len);
	r = payload_of(c, TS_POLSEC_RULES);
	r[3].id_off = r[0].id_off;
	expect_refused_sealed(c, len, POL_E_RULE);
	free(c);
}

static void test_rule_enums(void)
{
	size_t len;
	unsigned char *c;
	struct ts_policy_rule *r;

	c = copy_ref(&len);
	r = payload_of(c, TS_POLSEC_RULES);
	r[2].category = TS_CAT_COUNT;
	expect_refused_why(c, len, POL_E_RULE, "rule 2 (greet.hello): category 14 out of range");
	free(c);

	c = copy_ref(&len);
	r = payload_of(c, TS_POLSEC_RULES);
	r[0].action = TS_ACT_COUNT;
	expect_refused_sealed(c, len, POL_E_RULE);
	free(c);

	c = copy_ref(&len);
	r = payload_of(c, TS_POLSEC_RULES);
	r[3].verify = TS_VERIFY_COUNT;
	expect_refused_sealed(c, len, POL_E_RULE);
	free(c);

	c = copy_ref(&len);
	r = payload_of(c, TS_POLSEC_RULES);
	r[1].weight = NAN;
	expect_refused_sealed(c, len, POL_E_RULE);
	free(c);

	c = copy_ref(&len);
	r = payload_of(c, TS_POLSEC_RULES);
	r[2].hs_flags |= 1u << 20;
	expect_refused_why(c, len, POL_E_RULE, "unknown hs_flags bits 0x100000");
	free(c);

	/* section count and length disagree */
	c = copy_ref(&len);
	sec_of(c, TS_POLSEC_RULES)->count = 3;
	expect_refused_sealed(c, len, POL_E_SECTION);
	free(c);
}

static void test_scorer_section(void)
{
	size_t len;
	unsigned char *c;
	struct ts_policy_scorer *sc;
	float *f;

	c = copy_ref(&len);
	sc = payload_of(c, TS_POLSEC_SCORER);
	sc->kind = TS_SCORER_COUNT;
	expect_refused_why(c, len, POL_E_SCORER, "unknown kind 1");
	free(c);

	/* count mismatch: header says 2, section holds 3 */
	c = copy_ref(&len);
	sc = payload_of(c, TS_POLSEC_SCORER);
	sc->n_features = 2;
	expect_refused_why(c, len, POL_E_SCORER, "count mismatch");
	free(c);

	c = copy_ref(&len);
	sc = payload_of(c, TS_POLSEC_SCORER);
	sc->threshold = 1.5f;
	expect_refused_sealed(c, len, POL_E_SCORER);
	free(c);

	c = copy_ref(&len);
	sc = payload_of(c, TS_POLSEC_SCORER);
	sc->bias = INFINITY;
	expect_refused_sealed(c, len, POL_E_SCORER);
	free(c);

	/* scale of feature 1 is zero; then negative */
	c = copy_ref(&len);
	f = (float *)((unsigned char *)payload_of(c, TS_POLSEC_SCORER) + 16 + 4 * 3);
	f[3 + 1] = 0.0f;
	expect_refused_sealed(c, len, POL_E_SCORER);
	f[3 + 1] = -1.0f;
	expect_refused_sealed(c, len, POL_E_SCORER);
	/* a NaN mean */
	f[3 + 1] = 1.0f;
	f[0] = NAN;
	expect_refused_sealed(c, len, POL_E_SCORER);
	free(c);

	/* two features with one name */
	c = copy_ref(&len);
	{
		uint32_t *names =
			(uint32_t *)((unsigned char *)payload_of(c, TS_POLSEC_SCORER) + 16);

		names[2] = names[0];
	}
	expect_refused_sealed(c, len, POL_E_SCORER);
	free(c);
}

static void test_routes_section(void)
{
	size_t len;
	unsigned char *c;
	struct ts_policy_route *r;

	c = copy_ref(&len);
	r = payload_of(c, TS_POLSEC_ROUTES);
	r[TS_ROUTE_LOCAL].model_off = 0;
	expect_refused_sealed(c, len, POL_E_ROUTE);
	free(c);

	c = copy_ref(&len);
	r = payload_of(c, TS_POLSEC_ROUTES);
	r[2].route = 3;
	expect_refused_sealed(c, len, POL_E_ROUTE);
	free(c);

	c = copy_ref(&len);
	r = payload_of(c, TS_POLSEC_ROUTES);
	r[TS_ROUTE_FRONTIER].usd_per_mtok_out = -1.0;
	expect_refused_sealed(c, len, POL_E_ROUTE);
	free(c);

	/* incomplete: one entry fewer */
	c = copy_ref(&len);
	sec_of(c, TS_POLSEC_ROUTES)->count = TS_ROUTE_COUNT - 1;
	sec_of(c, TS_POLSEC_ROUTES)->length -= sizeof(struct ts_policy_route);
	expect_refused_why(c, len, POL_E_ROUTE, "incomplete");
	free(c);
}

/* Hyperscan bytes corrupted under a valid image checksum. */
static void test_hsdb_corrupt(void)
{
	size_t len;
	unsigned char *c;
	struct ts_policy_sec *s;

	/* its magic */
	c = copy_ref(&len);
	s = sec_of(c, TS_POLSEC_HSDB);
	c[s->offset] ^= 0xff;
	expect_refused_why(c, len, POL_E_HSDB, "hs_serialized_database_info refused");
	free(c);

	/* the bytecode: Hyperscan's CRC catches it */
	c = copy_ref(&len);
	s = sec_of(c, TS_POLSEC_HSDB);
	c[s->offset + s->length / 2] ^= 0x5a;
	expect_refused_why(c, len, POL_E_HSDB, "hs_deserialize_database refused");
	free(c);

	/*
	 * A database whose own header is consistent but only 40 bytes long:
	 * Hyperscan's info call would read its mode word past the end, so the
	 * reader refuses it first. Bytes 8..11 of a serialized database hold
	 * the bytecode length (total - 32-byte header).
	 */
	c = copy_ref(&len);
	s = sec_of(c, TS_POLSEC_HSDB);
	s->length = 40;
	{
		uint32_t body = 8;

		memcpy(c + s->offset + 8, &body, sizeof(body));
	}
	expect_refused_why(c, len, POL_E_HSDB, "too short for a Hyperscan database");
	free(c);

	/* cut short: the section ends before the database does */
	c = copy_ref(&len);
	s = sec_of(c, TS_POLSEC_HSDB);
	s->length -= 64;
	expect_refused_why(c, len, POL_E_HSDB, "hs_serialized_database_info refused");
	free(c);
}

/* A stream-mode database is refused by the builder's self-check. */
static void test_hsdb_stream_mode(void)
{
	static const char one_rule[] = "a.b code score 1 /abc/\n";
	struct rules_set *set = rules_set_new();
	struct polb_scorer *sc = malloc(sizeof(*sc));
	hs_compile_error_t *cerr = NULL;
	hs_database_t *db = NULL;
	struct polb_routes rt;
	struct polb_input in;
	void *img = NULL;
	size_t len = 0;
	char err[256] = "";

	CU_ASSERT_PTR_NOT_NULL_FATAL(set);
	CU_ASSERT_PTR_NOT_NULL_FATAL(sc);
	CU_ASSERT_EQUAL_FATAL(
		rules_parse_buf(set, "s.rules", one_rule, strlen(one_rule), err, sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(hs_compile("abc", 0, HS_MODE_STREAM, NULL, &db, &cerr), HS_SUCCESS);
	CU_ASSERT_EQUAL_FATAL(
		polb_scorer_parse("s", scorer_text, strlen(scorer_text), sc, err, sizeof(err)), 0);
	polb_routes_default(&rt);
	in = (struct polb_input){.rules = set,
				 .dbs = {db},
				 .scorer = sc,
				 .routes = &rt,
				 .policy_version = 1,
				 .name = "stream"};
	CU_ASSERT_EQUAL(polb_build(&in, &img, &len, err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "block-mode"));
	CU_ASSERT_PTR_NULL(img);
	hs_free_database(db);
	rules_set_free(set);
	free(sc);
}

static void test_check_features(void)
{
	static const char *const fewer[] = {"len_bytes", "code_hits"};
	static const char *const renamed[] = {"len_bytes", "code_hits", "mathhits"};
	static const char *const swapped[] = {"code_hits", "len_bytes", "math_hits"};
	size_t len;
	const unsigned char *buf = reference(&len);
	struct pol_image *img = pol_image_from_buf(buf, len, NULL, 0);
	char err[256] = "";

	CU_ASSERT_PTR_NOT_NULL_FATAL(img);
	CU_ASSERT_EQUAL(pol_image_check_features(img, fewer, 2, err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "3 features"));
	CU_ASSERT_EQUAL(pol_image_check_features(img, renamed, 3, err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "mathhits"));
	CU_ASSERT_EQUAL(pol_image_check_features(img, swapped, 3, err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(pol_image_check_features(img, feature_names, 3, err, sizeof(err)), 0);
	pol_image_close(img);
}

static void test_builder_refuses(void)
{
	struct polb_input in = {0};
	void *img = NULL;
	size_t len = 0;
	char err[256] = "";

	CU_ASSERT_EQUAL(polb_build(&in, &img, &len, err, sizeof(err)), -EINVAL);
	CU_ASSERT(err[0] != '\0');
	CU_ASSERT_PTR_NULL(img);
	/* a pattern Hyperscan refuses never reaches the builder: rules_compile says where */
	CU_ASSERT(build("bad.one code score 1 /a(/\n", scorer_text, &img, &len, err, sizeof(err)) <
		  0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "test.rules:1"));
	CU_ASSERT_PTR_NULL(img);
}

static char tmpdir[] = "/tmp/ts-policy-test.XXXXXX";

static void test_write_and_open_file(void)
{
	char path[128], err[256] = "";
	enum pol_err code = POL_OK;
	struct pol_image *img;
	size_t len;
	const unsigned char *buf = reference(&len);
	unsigned char *c = copy_ref(&len);
	char cmd[192];

	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(tmpdir));
	snprintf(path, sizeof(path), "%s/p.tspol", tmpdir);
	CU_ASSERT_EQUAL(polb_write_file(path, buf, len, err, sizeof(err)), 0);
	img = pol_image_open_file(path, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL(img);
	pol_image_close(img);

	/* replace it with a corrupt one: the new file is what is read back */
	c[len - 1] ^= 1;
	CU_ASSERT_EQUAL(polb_write_file(path, c, len, err, sizeof(err)), 0);
	CU_ASSERT_PTR_NULL(pol_image_open_file_code(path, &code, err, sizeof(err)));
	CU_ASSERT_EQUAL(code, POL_E_CHECKSUM);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, path));

	/* no temporary left behind: the directory holds exactly one file */
	snprintf(cmd, sizeof(cmd), "test $(ls -A %s | wc -l) -eq 1", tmpdir);
	CU_ASSERT_EQUAL(system(cmd), 0);

	/* a missing file and a directory are I/O refusals */
	snprintf(path, sizeof(path), "%s/missing.tspol", tmpdir);
	CU_ASSERT_PTR_NULL(pol_image_open_file_code(path, &code, err, sizeof(err)));
	CU_ASSERT_EQUAL(code, POL_E_IO);
	CU_ASSERT_PTR_NULL(pol_image_open_file_code(tmpdir, &code, err, sizeof(err)));
	CU_ASSERT_EQUAL(code, POL_E_IO);
	/* writing into a missing directory fails cleanly */
	snprintf(path, sizeof(path), "%s/no/such/dir.tspol", tmpdir);
	CU_ASSERT_EQUAL(polb_write_file(path, buf, len, err, sizeof(err)), -ENOENT);

	snprintf(path, sizeof(path), "%s/p.tspol", tmpdir);
	unlink(path);
	rmdir(tmpdir);
	free(c);
}

static void test_err_names(void)
{
	CU_ASSERT_STRING_EQUAL(pol_err_name(POL_OK), "ok");
	CU_ASSERT_STRING_EQUAL(pol_err_name(POL_E_CHECKSUM), "checksum");
	CU_ASSERT_STRING_EQUAL(pol_err_name(POL_E_FEATURES), "features");
	CU_ASSERT_STRING_EQUAL(pol_err_name(POL_E_COUNT), "unknown");
}

static void test_release_reference(void)
{
	free(ref);
	ref = NULL;
	CU_PASS("reference image released");
}

int policy_image_register(CU_pSuite s)
{
	return (CU_add_test(s, "round trip", test_round_trip) == NULL ||
		CU_add_test(s, "reproducible", test_reproducible) == NULL ||
		CU_add_test(s, "layout", test_layout) == NULL ||
		CU_add_test(s, "truncated at every length", test_truncated_every_length) == NULL ||
		CU_add_test(s, "truncated at boundaries", test_truncated_at_boundaries) == NULL ||
		CU_add_test(s, "flipped bytes", test_flipped_bytes) == NULL ||
		CU_add_test(s, "magic and abi", test_magic_and_abi) == NULL ||
		CU_add_test(s, "header fields", test_header_fields) == NULL ||
		CU_add_test(s, "header sum", test_header_sum) == NULL ||
		CU_add_test(s, "sections", test_sections) == NULL ||
		CU_add_test(s, "strings", test_strings) == NULL ||
		CU_add_test(s, "rule enums", test_rule_enums) == NULL ||
		CU_add_test(s, "scorer section", test_scorer_section) == NULL ||
		CU_add_test(s, "routes section", test_routes_section) == NULL ||
		CU_add_test(s, "hsdb corrupt", test_hsdb_corrupt) == NULL ||
		CU_add_test(s, "hsdb stream mode", test_hsdb_stream_mode) == NULL ||
		CU_add_test(s, "check features", test_check_features) == NULL ||
		CU_add_test(s, "builder refuses", test_builder_refuses) == NULL ||
		CU_add_test(s, "write and open file", test_write_and_open_file) == NULL ||
		CU_add_test(s, "error names", test_err_names) == NULL ||
		CU_add_test(s, "release", test_release_reference) == NULL)
		       ? -1
		       : 0;
}
