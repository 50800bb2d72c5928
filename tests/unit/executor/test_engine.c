/* SPDX-License-Identifier: proprietary */
#include <CUnit/CUnit.h>

#include "tests.h"

int test_engine_register(void)
{
	return 0;
}
