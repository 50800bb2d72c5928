/* SPDX-License-Identifier: proprietary */
/*
 * The builder's text inputs: the scorer file parser and the route table read
 * from the appliance config.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "polb.h"
#include "tests.h"
#include "tsconf.h"

static const char good_scorer[] = "# trained by twospeed-train\r\n"
				  "\n"
				  "twospeed-scorer 1\n"
				  "   # indented comment\n"
				  "kind logistic\n"
				  "threshold\t0.5\n"
				  "bias -0.125\n"
				  "feature a.b 1e3 2.5 -1\n"
				  "feature c_d -0 0.001 3.25"; /* no final newline */

static void test_scorer_good(void)
{
	struct polb_scorer *sc = calloc(1, sizeof(*sc));
	char err[256] = "";

	CU_ASSERT_PTR_NOT_NULL_FATAL(sc);
	CU_ASSERT_EQUAL_FATAL(polb_scorer_parse("g.scorer", good_scorer, strlen(good_scorer), sc,
						err, sizeof(err)),
			      0);
	CU_ASSERT_EQUAL(sc->kind, TS_SCORER_LOGISTIC);
	CU_ASSERT_EQUAL(sc->n_features, 2);
	CU_ASSERT_DOUBLE_EQUAL(sc->threshold, 0.5, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(sc->bias, -0.125, 1e-9);
	CU_ASSERT_STRING_EQUAL(sc->feat[0].name, "a.b");
	CU_ASSERT_DOUBLE_EQUAL(sc->feat[0].mean, 1000.0, 1e-6);
	CU_ASSERT_DOUBLE_EQUAL(sc->feat[0].scale, 2.5, 1e-6);
	CU_ASSERT_DOUBLE_EQUAL(sc->feat[0].weight, -1.0, 1e-6);
	CU_ASSERT_STRING_EQUAL(sc->feat[1].name, "c_d");
	CU_ASSERT_DOUBLE_EQUAL(sc->feat[1].scale, 0.001, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(sc->feat[1].weight, 3.25, 1e-6);
	free(sc);
}

struct bad_case {
	const char *text;
	int rc;
	const char *msg; /* expected prefix "file:line: reason" */
};

#define HDR "twospeed-scorer 1\nkind logistic\nthreshold 0.5\nbias 0\n"

static const struct bad_case bad_cases[] = {
	{"", -EINVAL, "b.scorer:0: missing \"twospeed-scorer 1\" header"},
	{"kind logistic\n", -EINVAL, "b.scorer:1: expected \"twospeed-scorer 1\""},
	{"twospeed-scorer 2\n", -EINVAL, "b.scorer:1: unsupported scorer format version 2"},
	{"twospeed-scorer x\n", -EINVAL, "b.scorer:1: bad format version"},
	{"twospeed-scorer 1\nkind trees\n", -EINVAL, "b.scorer:2: unknown scorer kind \"trees\""},
	{HDR "kind logistic\n", -EINVAL, "b.scorer:5: kind given twice"},
	{HDR "threshold 0.1\n", -EINVAL, "b.scorer:5: threshold given twice"},
	{HDR "bias 1\n", -EINVAL, "b.scorer:5: bias given twice"},
	{HDR "twospeed-scorer 1\n", -EINVAL, "b.scorer:5: repeated"},
	{"twospeed-scorer 1\nthreshold 1.5\n", -EINVAL, "b.scorer:2: threshold 1.5 not in [0, 1]"},
	{"twospeed-scorer 1\nthreshold nan\n", -EINVAL,
	 "b.scorer:2: threshold: nan is not a finite"},
	{"twospeed-scorer 1\nbias inf\n", -EINVAL, "b.scorer:2: bias: inf is not a finite"},
	{"twospeed-scorer 1\nbias 1e39\n", -EINVAL, "b.scorer:2: bias: 1e39 is not a finite float"},
	{"twospeed-scorer 1\nbias 0.5x\n", -EINVAL, "b.scorer:2: bias: \"0.5x\" is not a number"},
	{"twospeed-scorer 1\nbias\n", -EINVAL, "b.scorer:2: usage: bias"},
	{HDR "feature a 0 0 1\n", -EINVAL, "b.scorer:5: feature \"a\": scale 0 must be > 0"},
	{HDR "feature a 0 -2 1\n", -EINVAL, "b.scorer:5: feature \"a\": scale -2 must be > 0"},
	{HDR "feature a 0 1 nan\n", -EINVAL, "b.scorer:5: weight: nan is not a finite"},
	{HDR "feature a 0 1\n", -EINVAL, "b.scorer:5: usage: feature"},
	{HDR "feature a 0 1 1 1\n", -EINVAL, "b.scorer:5: usage: feature"},
	{HDR "feature a 0 1 1 1 1 1\n", -EINVAL, "b.scorer:5: too many fields"},
	{HDR "feature a/b 0 1 1\n", -EINVAL, "b.scorer:5: bad feature name \"a/b\""},
	{HDR "feature a 0 1 1\nfeature a 0 1 2\n", -EINVAL, "b.scorer:6: duplicate feature \"a\""},
	{HDR "weights 1 2 3\n", -EINVAL, "b.scorer:5: unknown directive \"weights\""},
	{HDR, -EINVAL, "b.scorer:0: no \"feature\" lines"},
	{"twospeed-scorer 1\nkind logistic\nbias 0\nfeature a 0 1 1\n", -EINVAL,
	 "b.scorer:0: missing \"threshold\""},
	{"twospeed-scorer 1\nthreshold 0\nbias 0\nfeature a 0 1 1\n", -EINVAL,
	 "b.scorer:0: missing \"kind\""},
	{"twospeed-scorer 1\nkind logistic\nthreshold 0\nfeature a 0 1 1\n", -EINVAL,
	 "b.scorer:0: missing \"bias\""},
};

static void test_scorer_bad(void)
{
	struct polb_scorer *sc = calloc(1, sizeof(*sc));
	unsigned wrong = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(sc);
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *bc = &bad_cases[i];
		char err[256] = "";
		int rc;

		sc->n_features = 77; /* must survive a failed parse */
		rc = polb_scorer_parse("b.scorer", bc->text, strlen(bc->text), sc, err,
				       sizeof(err));
		if (rc != bc->rc || strncmp(err, bc->msg, strlen(bc->msg)) != 0 ||
		    sc->n_features != 77) {
			fprintf(stderr, "\ncase %zu: rc %d err \"%s\", want %d \"%s\"\n", i, rc,
				err, bc->rc, bc->msg);
			wrong++;
		}
	}
	CU_ASSERT_EQUAL(wrong, 0);
	free(sc);
}

/* Bounds: feature count, name length, line length, file size, NUL bytes. */
static void test_scorer_bounds(void)
{
	struct polb_scorer *sc = calloc(1, sizeof(*sc));
	size_t cap = 64 + (POL_SCORER_MAX_FEATURES + 1) * 32;
	char *buf = malloc(POLB_SCORER_FILE_MAX + 2);
	char err[256] = "";
	size_t n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(sc);
	CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
	n = (size_t)snprintf(buf, cap, HDR);
	for (unsigned i = 0; i < POL_SCORER_MAX_FEATURES; i++)
		n += (size_t)snprintf(buf + n, cap - n, "feature f%u 0 1 1\n", i);
	CU_ASSERT_EQUAL(polb_scorer_parse("m", buf, n, sc, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(sc->n_features, POL_SCORER_MAX_FEATURES);
	n += (size_t)snprintf(buf + n, cap - n, "feature one_more 0 1 1\n");
	CU_ASSERT_EQUAL(polb_scorer_parse("m", buf, n, sc, err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "m:261: more than 256 features"));

	/* a 64-byte feature name (the limit is 63) */
	n = (size_t)snprintf(buf, cap, HDR "feature %064d 0 1 1\n", 7);
	CU_ASSERT_EQUAL(polb_scorer_parse("m", buf, n, sc, err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "m:5: feature name longer than 63 bytes"));

	/* a line of POLB_SCORER_LINE_MAX + 1 bytes */
	memset(buf, '#', POLB_SCORER_LINE_MAX + 1);
	buf[POLB_SCORER_LINE_MAX + 1] = '\n';
	CU_ASSERT_EQUAL(polb_scorer_parse("m", buf, POLB_SCORER_LINE_MAX + 2, sc, err, sizeof(err)),
			-E2BIG);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "m:1: line longer than"));

	/* a file one byte over the bound */
	memset(buf, '\n', POLB_SCORER_FILE_MAX + 1);
	CU_ASSERT_EQUAL(polb_scorer_parse("m", buf, POLB_SCORER_FILE_MAX + 1, sc, err, sizeof(err)),
			-E2BIG);

	/* a NUL byte inside a line */
	memcpy(buf, "twospeed-scorer 1\nbias 0\0junk\n", 30);
	CU_ASSERT_EQUAL(polb_scorer_parse("m", buf, 30, sc, err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "m:2: NUL byte"));
	free(buf);
	free(sc);
}

/* Every prefix of a good file parses or fails cleanly, never crashes. */
static void test_scorer_prefixes(void)
{
	struct polb_scorer *sc = calloc(1, sizeof(*sc));
	size_t len = strlen(good_scorer);
	unsigned ok = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(sc);
	for (size_t n = 0; n <= len; n++) {
		/* exactly n bytes on the heap: under ASan a read past n faults */
		char *copy = malloc(n > 0 ? n : 1);

		CU_ASSERT_PTR_NOT_NULL_FATAL(copy);
		memcpy(copy, good_scorer, n);
		ok += polb_scorer_parse("p", copy, n, sc, NULL, 0) == 0;
		free(copy);
	}
	/*
	 * Exactly the prefixes holding a complete header and at least one
	 * complete feature line parse: "... 2.5 -1", "... 2.5 -1\n", then
	 * "... 0.001 3", "3.", "3.2", "3.25".
	 */
	CU_ASSERT_EQUAL(ok, 6);
	free(sc);
}

static void test_scorer_file(void)
{
	struct polb_scorer *sc = calloc(1, sizeof(*sc));
	char path[] = "/tmp/ts-scorer-XXXXXX";
	char err[256] = "";
	FILE *f;
	int fd;

	CU_ASSERT_PTR_NOT_NULL_FATAL(sc);
	fd = mkstemp(path);
	CU_ASSERT_FATAL(fd >= 0);
	f = fdopen(fd, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs(HDR "feature x 0 1 1\nfeature y 0 1\n", f);
	fclose(f);
	CU_ASSERT_EQUAL(polb_scorer_load_file(path, sc, err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, ":6: usage: feature"));
	CU_ASSERT_EQUAL(strncmp(err, path, strlen(path)), 0);
	remove(path);
	CU_ASSERT_EQUAL(polb_scorer_load_file(path, sc, err, sizeof(err)), -ENOENT);
	free(sc);
}

static void test_routes_default(void)
{
	struct polb_routes rt;
	size_t n;
	const struct tsconf_key *keys = polb_routes_conf_keys(&n);

	CU_ASSERT_EQUAL(n, 8);
	CU_ASSERT_STRING_EQUAL(keys[0].section, "route.local");
	polb_routes_default(&rt);
	CU_ASSERT_STRING_EQUAL(rt.r[TS_ROUTE_LOCAL].model, POLB_DEF_LOCAL_MODEL);
	CU_ASSERT_STRING_EQUAL(rt.r[TS_ROUTE_LOCAL].upstream, POLB_DEF_LOCAL_UPSTREAM);
	CU_ASSERT_DOUBLE_EQUAL(rt.r[TS_ROUTE_LOCAL].usd_per_mtok_in, 0.10, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(rt.r[TS_ROUTE_LOCAL].usd_per_mtok_out, 0.10, 1e-12);
	CU_ASSERT_STRING_EQUAL(rt.r[TS_ROUTE_FRONTIER].model, POLB_DEF_FRONTIER_MODEL);
	CU_ASSERT_DOUBLE_EQUAL(rt.r[TS_ROUTE_FRONTIER].usd_per_mtok_in, 2.50, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(rt.r[TS_ROUTE_FRONTIER].usd_per_mtok_out, 10.00, 1e-12);
	CU_ASSERT_STRING_EQUAL(rt.r[TS_ROUTE_CACHE].model, "");
	CU_ASSERT_STRING_EQUAL(rt.r[TS_ROUTE_BLOCK].upstream, "");
}

static void test_routes_config(void)
{
	/* other modules' sections are ignored; route keys not given keep defaults */
	static const char conf[] = "# appliance\n"
				   "[request]\n"
				   "max_body = 1M\n"
				   "[route.frontier]\n"
				   "model = \"gpt-4.1\"   # bigger\n"
				   "usd_per_mtok_out = 8\n"
				   "[port]\n"
				   "whatever = 1\n"
				   "  [route.local]\n"
				   "upstream = local-exec\n";
	static const char bad_value[] = "[port]\nx = 1\n[route.local]\nusd_per_mtok_in = -1\n";
	static const char bad_key[] = "[route.frontier]\nmodel = a\nprice = 3\n";
	static const char bad_sec[] = "[route.cache]\nmodel = a\n";
	struct polb_routes rt;
	char err[512] = "";

	CU_ASSERT_EQUAL_FATAL(
		polb_routes_from_config_buf("t.conf", conf, strlen(conf), &rt, err, sizeof(err)),
		0);
	CU_ASSERT_STRING_EQUAL(rt.r[TS_ROUTE_FRONTIER].model, "gpt-4.1");
	CU_ASSERT_DOUBLE_EQUAL(rt.r[TS_ROUTE_FRONTIER].usd_per_mtok_out, 8.0, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(rt.r[TS_ROUTE_FRONTIER].usd_per_mtok_in, 2.50, 1e-12);
	CU_ASSERT_STRING_EQUAL(rt.r[TS_ROUTE_LOCAL].upstream, "local-exec");
	CU_ASSERT_STRING_EQUAL(rt.r[TS_ROUTE_LOCAL].model, POLB_DEF_LOCAL_MODEL);

	/* errors keep the file's line numbers and leave rt untouched */
	CU_ASSERT_EQUAL(polb_routes_from_config_buf("t.conf", bad_value, strlen(bad_value), &rt,
						    err, sizeof(err)),
			-EINVAL);
	CU_ASSERT_EQUAL(strncmp(err, "t.conf:4:", 9), 0);
	CU_ASSERT_STRING_EQUAL(rt.r[TS_ROUTE_FRONTIER].model, "gpt-4.1");
	CU_ASSERT_EQUAL(polb_routes_from_config_buf("t.conf", bad_key, strlen(bad_key), &rt, err,
						    sizeof(err)),
			-EINVAL);
	CU_ASSERT_EQUAL(strncmp(err, "t.conf:3:", 9), 0);
	CU_ASSERT_EQUAL(polb_routes_from_config_buf("t.conf", bad_sec, strlen(bad_sec), &rt, err,
						    sizeof(err)),
			-EINVAL);
	CU_ASSERT_EQUAL(strncmp(err, "t.conf:1:", 9), 0);
	CU_ASSERT_EQUAL(polb_routes_from_config_file("/nonexistent/t.conf", &rt, err, sizeof(err)),
			-ENOENT);
}

int policy_text_register(CU_pSuite s)
{
	return (CU_add_test(s, "scorer good", test_scorer_good) == NULL ||
		CU_add_test(s, "scorer bad", test_scorer_bad) == NULL ||
		CU_add_test(s, "scorer bounds", test_scorer_bounds) == NULL ||
		CU_add_test(s, "scorer prefixes", test_scorer_prefixes) == NULL ||
		CU_add_test(s, "scorer file", test_scorer_file) == NULL ||
		CU_add_test(s, "routes default", test_routes_default) == NULL ||
		CU_add_test(s, "routes config", test_routes_config) == NULL)
		       ? -1
		       : 0;
}
