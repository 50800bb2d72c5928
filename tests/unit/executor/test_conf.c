/* SPDX-License-Identifier: proprietary */
/* The [executor] config section: defaults, values, and refusals. */
#include <string.h>

#include <CUnit/CUnit.h>

#include "conf.h"
#include "engine.h"
#include "tests.h"
#include "tsconf.h"

static int load(struct ex_conf *xc, const char *text, struct ex_engine_opts *o, char *err,
		size_t errlen)
{
	struct tsconf *c = tsconf_create();
	int rc;

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL_FATAL(tsconf_register(c, "executor", ex_conf_keys, ex_conf_nkeys, xc, err,
					      errlen),
			      0);
	rc = tsconf_load_buf(c, "test.conf", text, strlen(text), err, errlen);
	tsconf_destroy(c);
	if (rc < 0)
		return rc;
	return ex_conf_to_opts(xc, o, err, errlen);
}

static void test_conf_values(void)
{
	static struct ex_conf xc;
	struct ex_engine_opts o;
	char err[512];

	CU_ASSERT_EQUAL(load(&xc, "", &o, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(o.max_batch, 8);
	CU_ASSERT_EQUAL(o.n_cpus, 0);
	CU_ASSERT_STRING_EQUAL(xc.shm_name, "/twospeed-exec");
	CU_ASSERT_EQUAL(xc.resp_ring_bytes, 256 * 1024);
	CU_ASSERT_EQUAL(o.stall_timeout_ns, 5000000000ull);
	CU_ASSERT_EQUAL(load(&xc,
			     "[executor]\nmodel = /m.gguf\ncores = 0\nmax_batch = 4\n"
			     "max_ctx = 1024\nqueue_len = 3\nresp_ring_bytes = 64K\n"
			     "stall_timeout = 250ms\n",
			     &o, err, sizeof(err)),
			0);
	CU_ASSERT_STRING_EQUAL(o.model_path, "/m.gguf");
	CU_ASSERT_EQUAL(o.max_batch, 4);
	CU_ASSERT_EQUAL(o.max_ctx, 1024);
	CU_ASSERT_EQUAL(o.queue_len, 3);
	CU_ASSERT_EQUAL(o.n_cpus, 1);
	CU_ASSERT_EQUAL(o.cpus[0], 0);
	CU_ASSERT_EQUAL(xc.resp_ring_bytes, 65536);
	CU_ASSERT_EQUAL(o.stall_timeout_ns, 250000000ull);
}

static void test_conf_refusals(void)
{
	static struct ex_conf xc;
	struct ex_engine_opts o;
	char err[512];

	CU_ASSERT(load(&xc, "[executor]\ncores = 100000\n", &o, err, sizeof(err)) < 0);
	CU_ASSERT(strstr(err, "executor.cores") != NULL);
	CU_ASSERT(load(&xc, "[executor]\ncores = 0,0\n", &o, err, sizeof(err)) < 0);
	CU_ASSERT(load(&xc, "[executor]\ncores = 0-\n", &o, err, sizeof(err)) < 0);
	CU_ASSERT(load(&xc, "[executor]\nresp_ring_bytes = 3000\n", &o, err, sizeof(err)) < 0);
	CU_ASSERT(strstr(err, "power of two") != NULL);
	CU_ASSERT(load(&xc, "[executor]\nmax_batch = 16\nstep_tokens = 8\n", &o, err,
		       sizeof(err)) < 0);
	CU_ASSERT(load(&xc, "[executor]\nmax_batch = 0\n", &o, err, sizeof(err)) < 0);
	CU_ASSERT(load(&xc, "[executor]\nstall_timeout = 0\n", &o, err, sizeof(err)) < 0);
	CU_ASSERT(load(&xc, "[executor]\nstall_timeout = 5\n", &o, err, sizeof(err)) < 0);
}

int test_conf_register(void)
{
	CU_pSuite s = CU_add_suite("executor_conf", NULL, NULL);

	if (s == NULL)
		return -1;
	if (!CU_add_test(s, "values", test_conf_values) ||
	    !CU_add_test(s, "refusals", test_conf_refusals))
		return -1;
	return 0;
}
