/* Unit tests of control/tokenizer: see test_spm.c, test_bpe.c, test_chat.c,
 * test_fault.c. */
#include <stdio.h>
#include <stdlib.h>

#include "test_tok.h"
#include "tsfile.h"

char *read_file(const char *path, size_t *len)
{
	char why[128];
	size_t n;
	char *buf;

	if (tsfile_read(path, 64u << 20, &buf, &n, why, sizeof(why)) < 0) {
		fprintf(stderr, "tokenizer test: %s: %s (test data missing?)\n", path, why);
		return NULL;
	}
	if (len)
		*len = n;
	return buf;
}

int main(void)
{
	unsigned fails;
	CU_pSuite s;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	s = CU_add_suite("tokenizer", NULL, NULL);
	if (!s || add_spm_tests(s) || add_bpe_tests(s) || add_chat_tests(s) ||
	    add_fault_tests(s)) {
		CU_cleanup_registry();
		return 2;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	fails = CU_get_number_of_failures();
	CU_cleanup_registry();
	return fails ? 1 : 0;
}
