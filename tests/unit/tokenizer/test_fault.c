/* Allocation failures: the suite builds the tokenizer with
 * TOK_FAULT_INJECTION, counts the allocations a successful load or encode
 * makes, then fails each one in turn. Every failure must give a clean error
 * (NULL + "out of memory", -ENOMEM) and leak nothing (the ASan build's leak
 * checker runs at exit). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "gguf.h"
#include "test_tok.h"
#include "tok-internal.h"
#include "tok.h"

static void test_load_failures(void)
{
	char err[256] = "";
	struct gguf_file *f = gguf_open(TOK_CASES_DIR "/tok_bpe_qwen2.gguf", err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	tok_fault_at = -1;
	tok_fault_count = 0;
	struct tok *t = tok_from_gguf(f, err, sizeof(err));
	long n = tok_fault_count;
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_TRUE(n >= 10);
	tok_free(t);
	for (long k = 0; k < n; k++) {
		tok_fault_at = k;
		tok_fault_count = 0;
		err[0] = '\0';
		t = tok_from_gguf(f, err, sizeof(err));
		CU_ASSERT_PTR_NULL(t);
		CU_ASSERT_PTR_NOT_NULL(strstr(err, "out of memory"));
		tok_free(t);
	}
	tok_fault_at = -1;
	gguf_close(f);
}

static void test_encode_failures(void)
{
	char err[256] = "";
	struct gguf_file *f = gguf_open(TOK_SHARED_DIR "/models/stories260K/stories260K.gguf", err,
					sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	tok_fault_at = -1;
	struct tok *t = tok_from_gguf(f, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	/* a long word makes every scratch area grow more than once */
	static char text[3000];
	memset(text, 'a', sizeof(text));
	memcpy(text, "Once upon a time ", 17);
	int32_t ids[4096];
	tok_fault_count = 0;
	int64_t want = tok_encode(t, text, sizeof(text), TOK_ENC_ADD_SPECIAL, ids, 4096);
	long n = tok_fault_count;
	CU_ASSERT_TRUE_FATAL(want > 0);
	CU_ASSERT_TRUE(n >= 3);
	for (long k = 0; k < n; k++) {
		tok_fault_at = k;
		tok_fault_count = 0;
		CU_ASSERT_EQUAL(tok_encode(t, text, sizeof(text), TOK_ENC_ADD_SPECIAL, ids, 4096),
				-ENOMEM);
	}
	tok_fault_at = -1;
	CU_ASSERT_EQUAL(tok_encode(t, text, sizeof(text), TOK_ENC_ADD_SPECIAL, ids, 4096), want);
	tok_free(t);
	gguf_close(f);
}

int add_fault_tests(CU_pSuite s)
{
	if (!CU_add_test(s, "fault: every load allocation fails cleanly", test_load_failures) ||
	    !CU_add_test(s, "fault: every encode allocation fails cleanly", test_encode_failures))
		return -1;
	return 0;
}
