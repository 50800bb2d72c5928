/* SPDX-License-Identifier: proprietary */
#include <stdio.h>

#include <CUnit/Basic.h>

#include "tests.h"

int main(void)
{
	CU_pSuite suite;
	unsigned fails;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	suite = CU_add_suite("policy", NULL, NULL);
	if (suite == NULL || policy_image_register(suite) != 0 ||
	    policy_text_register(suite) != 0 || policy_nomem_register(suite) != 0 ||
	    policy_gates_register(suite) != 0) {
		fprintf(stderr, "cannot register tests: %s\n", CU_get_error_msg());
		CU_cleanup_registry();
		return 1;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	fails = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return fails != 0;
}
