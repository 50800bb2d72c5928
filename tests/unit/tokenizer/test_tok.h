/* Shared helpers of the tokenizer unit suite. */
#ifndef TEST_TOK_H
#define TEST_TOK_H

#include <stddef.h>
#include <stdint.h>

#include <CUnit/Basic.h>

int add_spm_tests(CU_pSuite s);
int add_bpe_tests(CU_pSuite s);
int add_chat_tests(CU_pSuite s);
int add_fault_tests(CU_pSuite s);

/* Whole file into a malloc'd buffer (NUL-terminated), NULL when unreadable;
 * prints a clear message naming the missing file. */
char *read_file(const char *path, size_t *len);

#endif
