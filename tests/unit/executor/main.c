/* SPDX-License-Identifier: proprietary */
/* The executor's unit suite: rings, sampler, engine (stories260K). */
#include <stdio.h>

#include <CUnit/Basic.h>

#include "tests.h"

int main(void)
{
	unsigned int fails;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	if (test_ring_register() < 0 || test_sampler_register() < 0 ||
	    test_engine_register() < 0 || test_conf_register() < 0) {
		fprintf(stderr, "cannot register tests: %s\n", CU_get_error_msg());
		CU_cleanup_registry();
		return 1;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	fails = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return fails == 0 ? 0 : 1;
}
