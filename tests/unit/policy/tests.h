/* SPDX-License-Identifier: proprietary */
/* Unit suite "policy": the image reader, the builder and its text inputs. */
#ifndef TEST_POLICY_TESTS_H
#define TEST_POLICY_TESTS_H

#include <CUnit/CUnit.h>

int policy_image_register(CU_pSuite suite);
int policy_text_register(CU_pSuite suite);
int policy_nomem_register(CU_pSuite suite);
int policy_gates_register(CU_pSuite suite);

#endif /* TEST_POLICY_TESTS_H */
