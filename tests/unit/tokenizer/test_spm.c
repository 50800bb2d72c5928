/* SentencePiece tokenizer on the real stories260K vocabulary (512 tokens,
 * byte fallback, scores): ids against the llama2.c/pyref references, round
 * trips, byte fallback, spaces, empty and long input, specials. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gguf.h"
#include "test_tok.h"
#include "tok.h"

#define MODEL TOK_SHARED_DIR "/models/stories260K/stories260K.gguf"
#define REF TOK_SHARED_DIR "/models/stories260K/reference/"

static struct gguf_file *gf;
static struct tok *spm;

/* The stories260K tokenizer; a missing model fails the test that asks. */
static struct tok *stories(void)
{
	char err[256] = "";
	if (!spm) {
		gf = gguf_open(MODEL, err, sizeof(err));
		if (!gf)
			fprintf(stderr, "tokenizer test: cannot open %s: %s\n", MODEL, err);
		spm = gf ? tok_from_gguf(gf, err, sizeof(err)) : NULL;
		if (gf && !spm)
			fprintf(stderr, "tokenizer test: tok_from_gguf: %s\n", err);
	}
	return spm;
}

static int64_t enc(const char *s, size_t len, unsigned flags, int32_t *out, size_t cap)
{
	return tok_encode(stories(), s, len, flags, out, cap);
}

#define ASSERT_IDS(got, n, ...)                                                        \
	do {                                                                           \
		static const int32_t want_[] = { __VA_ARGS__ };                        \
		CU_ASSERT_EQUAL_FATAL((n), (int64_t)(sizeof(want_) / sizeof(want_[0]))); \
		CU_ASSERT_EQUAL(memcmp((got), want_, sizeof(want_)), 0);               \
	} while (0)

static void test_known_ids(void)
{
	int32_t ids[64];
	CU_ASSERT_PTR_NOT_NULL_FATAL(stories());
	CU_ASSERT_EQUAL(tok_n_vocab(spm), 512);
	CU_ASSERT_EQUAL(tok_kind(spm), TOK_KIND_SPM);
	CU_ASSERT_EQUAL(tok_bos(spm), 1);
	CU_ASSERT_EQUAL(tok_eos(spm), 2);
	CU_ASSERT_EQUAL(tok_unk(spm), 0);
	CU_ASSERT_TRUE(tok_add_bos(spm));
	CU_ASSERT_TRUE(tok_is_eog(spm, 2));
	CU_ASSERT_FALSE(tok_is_eog(spm, 1));
	/* pyref_greedy_prompt_Once_upon_a_time_n64.json "prompt_ids" */
	int64_t n = enc("Once upon a time", 16, TOK_ENC_ADD_SPECIAL, ids, 64);
	ASSERT_IDS(ids, n, 1, 403, 407, 261, 378);
	n = enc("Once upon a time", 16, TOK_ENC_NONE, ids, 64);
	ASSERT_IDS(ids, n, 403, 407, 261, 378);
	/* "Lily" merges to ▁Lily (317); "." is 426 */
	n = enc("Lily.", 5, TOK_ENC_ADD_SPECIAL, ids, 64);
	ASSERT_IDS(ids, n, 1, 317, 426);
}

/* Parse the integer array that follows "key": [ in a pyref JSON file. */
static size_t json_ids(const char *js, const char *key, int32_t *out, size_t cap)
{
	const char *p = strstr(js, key);
	size_t n = 0;
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	p = strchr(p, '[');
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	p++;
	while (*p && *p != ']' && n < cap) {
		char *end;
		out[n++] = (int32_t)strtol(p, &end, 10);
		p = end;
		while (*p == ',' || *p == ' ')
			p++;
	}
	return n;
}

/* Decoding the reference generations reproduces llama2.c's stdout byte for
 * byte (its stdout is the text plus one newline). */
static void check_reference(const char *json, const char *stdout_file)
{
	size_t jl, sl;
	char *js = read_file(json, &jl), *so = read_file(stdout_file, &sl);
	int32_t ids[512];
	char text[8192];
	CU_ASSERT_PTR_NOT_NULL_FATAL(stories());
	CU_ASSERT_PTR_NOT_NULL_FATAL(js);
	CU_ASSERT_PTR_NOT_NULL_FATAL(so);
	size_t n = json_ids(js, "\"all_ids\"", ids, 512);
	CU_ASSERT_TRUE(n > 60);
	int64_t m = tok_decode(spm, ids, n, TOK_DEC_NONE, text, sizeof(text));
	CU_ASSERT_EQUAL_FATAL(m + 1, (int64_t)sl);
	CU_ASSERT_EQUAL(memcmp(text, so, (size_t)m), 0);
	CU_ASSERT_EQUAL(so[m], '\n');
	free(js);
	free(so);
}

static void test_reference_decode(void)
{
	check_reference(REF "pyref_greedy_prompt_Once_upon_a_time_n64.json",
			REF "runc_t0_n64_prompt_Once_upon_a_time.stdout");
	check_reference(REF "pyref_greedy_noprompt_n200.json", REF "runc_t0_n200_noprompt.stdout");
}

static void test_reference_prompt_ids(void)
{
	size_t jl;
	char *js = read_file(REF "pyref_greedy_prompt_Once_upon_a_time_n64.json", &jl);
	int32_t want[64], got[64];
	CU_ASSERT_PTR_NOT_NULL_FATAL(stories());
	CU_ASSERT_PTR_NOT_NULL_FATAL(js);
	size_t n = json_ids(js, "\"prompt_ids\"", want, 64);
	int64_t m = enc("Once upon a time", 16, TOK_ENC_ADD_SPECIAL, got, 64);
	CU_ASSERT_EQUAL_FATAL(m, (int64_t)n);
	CU_ASSERT_EQUAL(memcmp(got, want, n * sizeof(int32_t)), 0);
	free(js);
}

/* encode → decode gives the input back, whatever the bytes. */
static void round_trip(const char *s, size_t len)
{
	size_t cap = tok_encode_bound(len);
	int32_t *ids = malloc(cap * sizeof(*ids));
	char *back = malloc(len + 16);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ids);
	int64_t n = enc(s, len, TOK_ENC_ADD_SPECIAL, ids, cap);
	CU_ASSERT_TRUE_FATAL(n >= 1);
	CU_ASSERT_TRUE((size_t)n <= cap);
	CU_ASSERT_EQUAL(ids[0], 1);
	int64_t m = tok_decode(spm, ids, (size_t)n, TOK_DEC_NONE, back, len + 16);
	CU_ASSERT_EQUAL_FATAL(m, (int64_t)len);
	CU_ASSERT_EQUAL(memcmp(back, s, len), 0);
	free(ids);
	free(back);
}

static void test_round_trips(void)
{
	static const char *const texts[] = {
		"Once upon a time, there was a little girl named Lily.",
		"She said, \"Let's play!\"\nTim smiled.\n\n",
		"  two leading spaces", "trailing spaces   ", "a  b   c    d",
		" ", "   ", "\n", "\t tab",
		"caf\xc3\xa9 na\xc3\xafve \xe2\x80\x9cquoted\xe2\x80\x9d \xe2\x80\x94 dash", /* é ï “” — */
		"emoji \xf0\x9f\x98\x80\xf0\x9f\x8e\x89!",			 /* 😀🎉 */
		"ctrl \x01\x02\x1b[0m\x7f",
		"\xe4\xbd\xa0\xe5\xa5\xbd \xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82", /* 你好 привет */
	};
	CU_ASSERT_PTR_NOT_NULL_FATAL(stories());
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		round_trip(texts[i], strlen(texts[i]));
	/* invalid UTF-8: stray continuation, truncated sequences, 0xFF, a NUL */
	static const char bad[] = "\x80x\xc3 \xe2\x82\xff\xfe\xf0\x9f\x98 ok\x00end";
	round_trip(bad, sizeof(bad) - 1);
	/* every byte value once */
	char all[256];
	for (int i = 0; i < 256; i++)
		all[i] = (char)i;
	round_trip(all, sizeof(all));
}

static void test_byte_fallback(void)
{
	int32_t ids[32];
	CU_ASSERT_PTR_NOT_NULL_FATAL(stories());
	/* 😀 = F0 9F 98 80 is not a token: <0xF0>=243 <0x9F>=162 <0x98>=155 <0x80>=131 */
	int64_t n = enc("\xf0\x9f\x98\x80", 4, TOK_ENC_ADD_SPECIAL, ids, 32);
	ASSERT_IDS(ids, n, 1, 410, 243, 162, 155, 131);
	/* control byte 0x01 → <0x01> = 4 */
	n = enc("\x01", 1, TOK_ENC_NONE, ids, 32);
	ASSERT_IDS(ids, n, 410, 4);
	/* a lone 0xFF and a truncated é (C3) each stand alone: <0xFF>=258, <0xC3>=198 */
	n = enc("\xff\xc3", 2, TOK_ENC_NONE, ids, 32);
	ASSERT_IDS(ids, n, 410, 258, 198);
	/* é is a vocabulary token (485) */
	n = enc("\xc3\xa9", 2, TOK_ENC_NONE, ids, 32);
	ASSERT_IDS(ids, n, 410, 485);
	/* byte tokens decode to raw bytes */
	char out[8];
	CU_ASSERT_EQUAL(tok_piece(spm, TOK_NULL, 258, 0, out, sizeof(out)), 1);
	CU_ASSERT_EQUAL((unsigned char)out[0], 0xFF);
}

static void test_spaces(void)
{
	int32_t ids[32];
	CU_ASSERT_PTR_NOT_NULL_FATAL(stories());
	/* "▁▁leading": ▁(410) ▁l(278) e(411) ad(380) ing(299) */
	int64_t n = enc(" leading", 8, TOK_ENC_ADD_SPECIAL, ids, 32);
	ASSERT_IDS(ids, n, 1, 410, 278, 411, 380, 299);
	/* "▁a▁▁b": ▁a(261) ▁(410) ▁b(268) */
	n = enc("a  b", 4, TOK_ENC_NONE, ids, 32);
	ASSERT_IDS(ids, n, 261, 410, 268);
	/* only spaces: three ▁ */
	n = enc("  ", 2, TOK_ENC_NONE, ids, 32);
	ASSERT_IDS(ids, n, 410, 410, 410);
	/* a literal U+2581 in the text is SentencePiece's space: it encodes and
	 * decodes as one (llama.cpp and SentencePiece do the same) */
	n = enc("\xe2\x96\x81" "a", 4, TOK_ENC_NONE, ids, 32);
	ASSERT_IDS(ids, n, 410, 261);
	/* the dummy-prefix space after BOS is dropped, other leading ones kept */
	char out[32];
	CU_ASSERT_EQUAL(tok_piece(spm, 1, 403, 0, out, sizeof(out)), 4); /* "Once" */
	CU_ASSERT_EQUAL(tok_piece(spm, TOK_NULL, 403, 0, out, sizeof(out)), 5); /* " Once" */
	CU_ASSERT_EQUAL(memcmp(out, " Once", 5), 0);
}

static void test_empty(void)
{
	int32_t ids[4] = { -7, -7, -7, -7 };
	CU_ASSERT_PTR_NOT_NULL_FATAL(stories());
	CU_ASSERT_EQUAL(enc("", 0, TOK_ENC_ADD_SPECIAL, ids, 4), 1);
	CU_ASSERT_EQUAL(ids[0], 1);
	CU_ASSERT_EQUAL(enc("", 0, TOK_ENC_NONE, ids, 4), 0);
	char out[4];
	CU_ASSERT_EQUAL(tok_decode(spm, ids, 0, 0, out, 0), 0);
}

static void test_nospace(void)
{
	int32_t ids[8];
	char out[4];
	CU_ASSERT_PTR_NOT_NULL_FATAL(stories());
	CU_ASSERT_EQUAL(enc("Once upon a time", 16, TOK_ENC_ADD_SPECIAL, ids, 4), -ENOSPC);
	CU_ASSERT_EQUAL(enc("Once upon a time", 16, TOK_ENC_ADD_SPECIAL, ids, 5), 5);
	CU_ASSERT_EQUAL(enc("x", 1, TOK_ENC_ADD_SPECIAL, ids, 0), -ENOSPC);
	CU_ASSERT_EQUAL(tok_piece(spm, TOK_NULL, 403, 0, out, 4), -ENOSPC);
	CU_ASSERT_EQUAL(tok_piece(spm, TOK_NULL, 512, 0, out, 4), -EINVAL);
	CU_ASSERT_EQUAL(tok_piece(spm, TOK_NULL, -1, 0, out, 4), -EINVAL);
	/* more than TOK_MAX_INPUT bytes is refused before any work */
	CU_ASSERT_EQUAL(enc("x", (size_t)TOK_MAX_INPUT + 1, TOK_ENC_NONE, ids, 8), -E2BIG);
	int32_t bad = 9999;
	CU_ASSERT_EQUAL(tok_decode(spm, &bad, 1, 0, out, 4), -EINVAL);
}

static void test_specials(void)
{
	int32_t ids[32];
	char out[64];
	CU_ASSERT_PTR_NOT_NULL_FATAL(stories());
	/* parsed: "<s>" is BOS, which then is not added twice; the text after
	 * a special gets the dummy space prefix (▁Once = 403) */
	int64_t n = enc("<s>Once", 7, TOK_ENC_ADD_SPECIAL | TOK_ENC_PARSE_SPECIAL, ids, 32);
	ASSERT_IDS(ids, n, 1, 403);
	n = enc("Once</s>", 8, TOK_ENC_PARSE_SPECIAL, ids, 32);
	ASSERT_IDS(ids, n, 403, 2);
	/* not parsed: "<s>" is text: ▁ < s > */
	n = enc("<s>", 3, TOK_ENC_ADD_SPECIAL, ids, 32);
	ASSERT_IDS(ids, n, 1, 410, 504, 419, 505);
	/* decode with and without specials */
	static const int32_t seq[] = { 1, 403, 2 };
	CU_ASSERT_EQUAL(tok_decode(spm, seq, 3, TOK_DEC_NONE, out, sizeof(out)), 4);
	CU_ASSERT_EQUAL(memcmp(out, "Once", 4), 0);
	CU_ASSERT_EQUAL(tok_decode(spm, seq, 3, TOK_DEC_SPECIAL, out, sizeof(out)), 11);
	CU_ASSERT_EQUAL(memcmp(out, "<s>Once</s>", 11), 0);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* 200 KB inputs: story text, one 200 KB word, 200 KB of spaces. */
static void test_long_input(void)
{
	const size_t len = 200 * 1024;
	char *s = malloc(len);
	static const char story[] = "Once upon a time, there was a little girl named Lily. "
				    "She loved to play outside \xf0\x9f\x98\x80 in the park.\n";
	CU_ASSERT_PTR_NOT_NULL_FATAL(stories());
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	for (size_t i = 0; i < len; i++)
		s[i] = story[i % (sizeof(story) - 1)];
	double t0 = now_s();
	round_trip(s, len);
	double t1 = now_s();
	memset(s, 'a', len);
	round_trip(s, len);
	double t2 = now_s();
	memset(s, ' ', len);
	round_trip(s, len);
	double t3 = now_s();
	printf("\n    spm 200KB encode+decode: story %.1f ms, one word %.1f ms, spaces %.1f ms ",
	       (t1 - t0) * 1e3, (t2 - t1) * 1e3, (t3 - t2) * 1e3);
	free(s);
}

/* A tiny SentencePiece vocabulary without byte tokens: UNK stands in, and
 * without an UNK the encode is refused. */
static void test_unknown(void)
{
	static const char *const texts[] = { "<unk>", "<s>", "</s>", "\xe2\x96\x81", "a", "b",
					     "\xe2\x96\x81\x61" };
	static const size_t lens[] = { 5, 3, 4, 3, 1, 1, 4 };
	static const float scores[] = { 0, 0, 0, -3, -2, -2, -1 };
	static const int32_t types[] = { 2, 3, 3, 1, 1, 1, 1 };
	struct tok_vocab_desc d = {
		.kind = TOK_KIND_SPM, .n_tokens = 7, .texts = texts, .lens = lens,
		.scores = scores, .types = types, .bos = 1, .eos = 2, .unk = 0, .pad = TOK_NULL,
		.eot = TOK_NULL, .eom = TOK_NULL, .add_bos = true, .add_space_prefix = true,
	};
	char err[128];
	int32_t ids[16];
	struct tok *t = tok_new(&d, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	/* "▁ax▁b": ▁a, x → UNK, ▁, b */
	int64_t n = tok_encode(t, "ax b", 4, TOK_ENC_ADD_SPECIAL, ids, 16);
	ASSERT_IDS(ids, n, 1, 6, 0, 3, 5);
	tok_free(t);
	d.unk = TOK_NULL;
	t = tok_new(&d, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_EQUAL(tok_encode(t, "ax", 2, TOK_ENC_NONE, ids, 16), -EILSEQ);
	tok_free(t);
}

static void test_cleanup(void)
{
	tok_free(spm);
	spm = NULL;
	gguf_close(gf);
	gf = NULL;
	CU_PASS("freed");
}

int add_spm_tests(CU_pSuite s)
{
	if (!CU_add_test(s, "spm: known ids", test_known_ids) ||
	    !CU_add_test(s, "spm: reference prompt ids", test_reference_prompt_ids) ||
	    !CU_add_test(s, "spm: reference outputs decode byte for byte", test_reference_decode) ||
	    !CU_add_test(s, "spm: round trips", test_round_trips) ||
	    !CU_add_test(s, "spm: byte fallback", test_byte_fallback) ||
	    !CU_add_test(s, "spm: spaces", test_spaces) ||
	    !CU_add_test(s, "spm: empty input", test_empty) ||
	    !CU_add_test(s, "spm: ENOSPC and bad ids", test_nospace) ||
	    !CU_add_test(s, "spm: specials parsed and not", test_specials) ||
	    !CU_add_test(s, "spm: long input", test_long_input) ||
	    !CU_add_test(s, "spm: unknown without byte tokens", test_unknown) ||
	    !CU_add_test(s, "spm: free", test_cleanup))
		return -1;
	return 0;
}
