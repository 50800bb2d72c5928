/* Byte-level BPE on the synthetic vocabularies of mktokgguf.py: pre-token
 * splits and ids against its independent Python reference for every
 * pre-tokenizer, round trips of arbitrary bytes, a hand-checked tiny
 * vocabulary, end-of-generation ids, long input and bad metadata. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gguf.h"
#include "test_tok.h"
#include "tok.h"
#include "tok_cases.h"

struct loaded {
	struct gguf_file *f;
	struct tok *t;
};

static struct loaded load_pre(const char *pre)
{
	char path[512], err[256] = "";
	struct loaded l = { NULL, NULL };
	snprintf(path, sizeof(path), "%s/tok_bpe_%s.gguf", TOK_CASES_DIR, pre);
	l.f = gguf_open(path, err, sizeof(err));
	if (!l.f)
		fprintf(stderr, "tokenizer test: cannot open %s: %s\n", path, err);
	l.t = l.f ? tok_from_gguf(l.f, err, sizeof(err)) : NULL;
	if (l.f && !l.t)
		fprintf(stderr, "tokenizer test: %s: %s\n", path, err);
	return l;
}

static void unload(struct loaded *l)
{
	tok_free(l->t);
	gguf_close(l->f);
}

struct split_buf {
	char s[4096];
	size_t n;
};

static int collect(void *arg, const char *w, size_t len)
{
	struct split_buf *b = arg;
	if (b->n + len + 1 > sizeof(b->s))
		return -ENOSPC;
	if (b->n)
		b->s[b->n++] = '\x1f';
	memcpy(b->s + b->n, w, len);
	b->n += len;
	return 0;
}

static void test_pre_names(void)
{
	enum tok_pre p;
	CU_ASSERT_TRUE(tok_pre_from_name("llama-bpe", 9, &p));
	CU_ASSERT_EQUAL(p, TOK_PRE_LLAMA3);
	CU_ASSERT_TRUE(tok_pre_from_name("qwen2", 5, &p));
	CU_ASSERT_EQUAL(p, TOK_PRE_QWEN2);
	CU_ASSERT_TRUE(tok_pre_from_name("smollm", 6, &p));
	CU_ASSERT_EQUAL(p, TOK_PRE_SMOLLM);
	CU_ASSERT_TRUE(tok_pre_from_name("gpt-2", 5, &p));
	CU_ASSERT_EQUAL(p, TOK_PRE_GPT2);
	CU_ASSERT_TRUE(tok_pre_from_name("default", 7, &p));
	CU_ASSERT_EQUAL(p, TOK_PRE_DEFAULT);
	CU_ASSERT_FALSE(tok_pre_from_name("qwen", 4, &p));
	CU_ASSERT_FALSE(tok_pre_from_name("llama3x", 7, &p));
}

static enum tok_pre pre_of(const char *name)
{
	enum tok_pre p = TOK_PRE_NONE;
	if (strcmp(name, "llama3") == 0)
		name = "llama-bpe";
	CU_ASSERT_TRUE(tok_pre_from_name(name, strlen(name), &p));
	return p;
}

/* Every pre-tokenizer splits every case as the Python regex reference. */
static void test_splits(void)
{
	for (int p = 0; p < TC_N_PRES; p++) {
		for (int c = 0; c < TC_N_CASES; c++) {
			struct split_buf b = { .n = 0 };
			int rc = tok_pretokenize(pre_of(tc_pres[p]), tc_text[c], strlen(tc_text[c]),
						 collect, &b);
			CU_ASSERT_EQUAL(rc, 0);
			b.s[b.n] = '\0';
			CU_ASSERT_STRING_EQUAL(b.s, tc_split[p][c]);
		}
	}
}

/* A few splits spelled out by hand (not generated), one per rule. */
static void test_splits_by_hand(void)
{
	static const struct {
		enum tok_pre pre;
		const char *in, *want;
	} cases[] = {
		/* llama3: digits in groups of 1..3, case-insensitive contractions */
		{ TOK_PRE_LLAMA3, "1234567", "123\x1f" "456\x1f" "7" },
		{ TOK_PRE_LLAMA3, "I'D WE'RE", "I\x1f'D\x1f WE\x1f'RE" },
		{ TOK_PRE_LLAMA3, "a  \n\n b", "a\x1f  \n\n\x1f b" },
		{ TOK_PRE_LLAMA3, "x   y", "x\x1f  \x1f y" },
		{ TOK_PRE_LLAMA3, "!!!\n\nok", "!!!\n\n\x1fok" },
		/* qwen2: one digit each */
		{ TOK_PRE_QWEN2, "v12", "v\x1f" "1\x1f" "2" },
		/* gpt2: lowercase contractions only, " ?\p{N}+" */
		{ TOK_PRE_GPT2, "it's IT'S 2024", "it\x1f's\x1f IT\x1f'\x1fS\x1f 2024" },
		/* smollm: digits alone first, then gpt2 */
		{ TOK_PRE_SMOLLM, "a 42", "a\x1f \x1f" "4\x1f" "2" },
		/* default: punctuation runs split first, ASCII digits by three */
		{ TOK_PRE_DEFAULT, "x+=12345", "x\x1f+=\x1f" "123\x1f" "45" },
		/* non-Latin letters are letters, CJK punctuation is punctuation */
		{ TOK_PRE_GPT2, "\xd0\xbc\xd0\xb8\xd1\x80!", "\xd0\xbc\xd0\xb8\xd1\x80\x1f!" },
		/* invalid UTF-8 bytes are characters of no class */
		{ TOK_PRE_GPT2, "ab\xff\xfe cd", "ab\x1f\xff\xfe\x1f cd" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct split_buf b = { .n = 0 };
		CU_ASSERT_EQUAL(tok_pretokenize(cases[i].pre, cases[i].in, strlen(cases[i].in),
						collect, &b), 0);
		b.s[b.n] = '\0';
		CU_ASSERT_STRING_EQUAL(b.s, cases[i].want);
	}
}

static void check_ids(const struct tok *t, const char *text, unsigned flags, const int32_t *want)
{
	int32_t ids[200];
	int64_t n = tok_encode(t, text, strlen(text), flags, ids, 200);
	CU_ASSERT_EQUAL_FATAL(n, want[0]);
	CU_ASSERT_EQUAL(memcmp(ids, want + 1, (size_t)n * sizeof(int32_t)), 0);
}

/* Ids equal the Python reference BPE, with and without special parsing, and
 * decode back to the text. */
static void test_ids(void)
{
	for (int p = 0; p < TC_N_PRES; p++) {
		struct loaded l = load_pre(tc_pres[p]);
		CU_ASSERT_PTR_NOT_NULL_FATAL(l.t);
		CU_ASSERT_EQUAL(tok_n_vocab(l.t), TC_N_VOCAB);
		CU_ASSERT_EQUAL(tok_kind(l.t), TOK_KIND_BPE);
		CU_ASSERT_EQUAL(tok_pre(l.t), pre_of(tc_pres[p]));
		for (int c = 0; c < TC_N_CASES; c++) {
			check_ids(l.t, tc_text[c], TOK_ENC_NONE, tc_ids_plain[p][c]);
			check_ids(l.t, tc_text[c], TOK_ENC_PARSE_SPECIAL, tc_ids_special[p][c]);
			char out[512];
			const int32_t *w = tc_ids_special[p][c];
			int64_t m = tok_decode(l.t, w + 1, (size_t)w[0], TOK_DEC_SPECIAL, out, sizeof(out));
			CU_ASSERT_EQUAL_FATAL(m, (int64_t)strlen(tc_text[c]));
			CU_ASSERT_EQUAL(memcmp(out, tc_text[c], (size_t)m), 0);
		}
		unload(&l);
	}
}

static void test_specials_decode(void)
{
	struct loaded l = load_pre("qwen2");
	CU_ASSERT_PTR_NOT_NULL_FATAL(l.t);
	int32_t im_start = tok_find(l.t, "<|im_start|>", 12);
	int32_t im_end = tok_find(l.t, "<|im_end|>", 10);
	int32_t tool = tok_find(l.t, "<tool>", 6);
	CU_ASSERT_NOT_EQUAL_FATAL(im_start, TOK_NULL);
	CU_ASSERT_EQUAL(tok_type(l.t, im_start), TOK_TYPE_CONTROL);
	CU_ASSERT_EQUAL(tok_type(l.t, tool), TOK_TYPE_USER_DEFINED);
	int32_t ids[32];
	char out[64];
	/* the USER_DEFINED <tool> is matched even without special parsing */
	int64_t n = tok_encode(l.t, "<tool>", 6, TOK_ENC_NONE, ids, 32);
	CU_ASSERT_EQUAL(n, 1);
	CU_ASSERT_EQUAL(ids[0], tool);
	n = tok_encode(l.t, "<|im_start|>hi<|im_end|>", 24, TOK_ENC_PARSE_SPECIAL, ids, 32);
	CU_ASSERT_TRUE_FATAL(n >= 3);
	CU_ASSERT_EQUAL(ids[0], im_start);
	CU_ASSERT_EQUAL(ids[n - 1], im_end);
	/* without TOK_DEC_SPECIAL the control tokens vanish, <tool> stays */
	int32_t seq[4] = { im_start, tool, im_end };
	CU_ASSERT_EQUAL(tok_decode(l.t, seq, 3, TOK_DEC_NONE, out, sizeof(out)), 6);
	CU_ASSERT_EQUAL(memcmp(out, "<tool>", 6), 0);
	CU_ASSERT_EQUAL(tok_decode(l.t, seq, 3, TOK_DEC_SPECIAL, out, sizeof(out)), 28);
	CU_ASSERT_EQUAL(memcmp(out, "<|im_start|><tool><|im_end|>", 28), 0);
	/* end of generation: EOS <|endoftext|> and <|im_end|> */
	CU_ASSERT_TRUE(tok_is_eog(l.t, im_end));
	CU_ASSERT_TRUE(tok_is_eog(l.t, tok_find(l.t, "<|endoftext|>", 13)));
	CU_ASSERT_FALSE(tok_is_eog(l.t, im_start));
	CU_ASSERT_FALSE(tok_add_bos(l.t));
	unload(&l);
}

static void bpe_round_trip(const struct tok *t, const char *s, size_t len)
{
	size_t cap = tok_encode_bound(len);
	int32_t *ids = malloc(cap * sizeof(*ids));
	char *back = malloc(len + 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ids);
	CU_ASSERT_PTR_NOT_NULL_FATAL(back);
	int64_t n = tok_encode(t, s, len, TOK_ENC_NONE, ids, cap);
	CU_ASSERT_TRUE_FATAL(n >= 0);
	CU_ASSERT_TRUE((size_t)n <= len);
	int64_t m = tok_decode(t, ids, (size_t)n, TOK_DEC_NONE, back, len + 1);
	CU_ASSERT_EQUAL_FATAL(m, (int64_t)len);
	CU_ASSERT_EQUAL(memcmp(back, s, len), 0);
	free(ids);
	free(back);
}

/* Arbitrary bytes (invalid UTF-8, NULs, every byte value) survive. */
static void test_bytes_round_trip(void)
{
	char all[256];
	for (int i = 0; i < 256; i++)
		all[i] = (char)(255 - i);
	static const char bad[] = "\x80x\xc3 \xe2\x82\xff\xfe\xf0\x9f\x98 ok\x00" "end  \r\n";
	for (int p = 0; p < TC_N_PRES; p++) {
		struct loaded l = load_pre(tc_pres[p]);
		CU_ASSERT_PTR_NOT_NULL_FATAL(l.t);
		bpe_round_trip(l.t, all, sizeof(all));
		bpe_round_trip(l.t, bad, sizeof(bad) - 1);
		/* a deterministic pseudo-random 4 KB of bytes biased to ASCII */
		char rnd[4096];
		uint32_t x = 12345u + (uint32_t)p;
		for (size_t i = 0; i < sizeof(rnd); i++) {
			x = x * 1103515245u + 12345u;
			uint32_t r = x >> 16;
			rnd[i] = (char)(r % 4 ? ' ' + r % 95 : r & 0xFF);
		}
		bpe_round_trip(l.t, rnd, sizeof(rnd));
		unload(&l);
	}
}

/* Hand-built vocabulary: merge ranks, UNK, ignore_merges. GPT-2 maps the
 * ASCII letters to themselves, so token texts are plain. */
static void test_tiny_vocab(void)
{
	static const char *const texts[] = { "a", "b", "c", "ab", "bc", "abc", "ca", "<unk>" };
	static const size_t lens[] = { 1, 1, 1, 2, 2, 3, 2, 5 };
	static const int32_t types[] = { 1, 1, 1, 1, 1, 1, 1, 2 };
	static const char *const merges[] = { "a b", "ab c", "b c", "x y" };
	static const size_t mlens[] = { 3, 4, 3, 3 };
	struct tok_vocab_desc d = {
		.kind = TOK_KIND_BPE, .pre = TOK_PRE_GPT2, .n_tokens = 8, .texts = texts,
		.lens = lens, .types = types, .n_merges = 4, .merges = merges, .merge_lens = mlens,
		.bos = TOK_NULL, .eos = TOK_NULL, .unk = 7, .pad = TOK_NULL, .eot = TOK_NULL,
		.eom = TOK_NULL,
	};
	char err[128];
	int32_t ids[16];
	struct tok *t = tok_new(&d, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	/* a b → ab (rank 0), ab c → abc (rank 1) */
	CU_ASSERT_EQUAL(tok_encode(t, "abc", 3, 0, ids, 16), 1);
	CU_ASSERT_EQUAL(ids[0], 5);
	/* b c (rank 2): [bc, a] */
	CU_ASSERT_EQUAL(tok_encode(t, "bca", 3, 0, ids, 16), 2);
	CU_ASSERT_EQUAL(ids[0], 4);
	CU_ASSERT_EQUAL(ids[1], 0);
	/* abcbc: ab,c,b,c → abc,b,c → abc,bc */
	CU_ASSERT_EQUAL(tok_encode(t, "abcbc", 5, 0, ids, 16), 2);
	CU_ASSERT_EQUAL(ids[0], 5);
	CU_ASSERT_EQUAL(ids[1], 4);
	/* "ca" is a token but no merge makes it */
	CU_ASSERT_EQUAL(tok_encode(t, "ca", 2, 0, ids, 16), 2);
	/* z is not in the vocabulary: UNK */
	CU_ASSERT_EQUAL(tok_encode(t, "azb", 3, 0, ids, 16), 3);
	CU_ASSERT_EQUAL(ids[1], 7);
	tok_free(t);

	/* ignore_merges: a word that is a token is taken whole */
	d.ignore_merges = true;
	t = tok_new(&d, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_EQUAL(tok_encode(t, "ca", 2, 0, ids, 16), 1);
	CU_ASSERT_EQUAL(ids[0], 6);
	tok_free(t);

	/* without UNK a byte outside the vocabulary refuses the encode */
	d.unk = TOK_NULL;
	d.ignore_merges = false;
	t = tok_new(&d, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_EQUAL(tok_encode(t, "z", 1, 0, ids, 16), -EILSEQ);
	tok_free(t);

	/* a merge without a separator is refused with a reason */
	static const char *const bad_merges[] = { "ab" };
	static const size_t bad_mlens[] = { 2 };
	d.n_merges = 1;
	d.merges = bad_merges;
	d.merge_lens = bad_mlens;
	CU_ASSERT_PTR_NULL(tok_new(&d, err, sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "merge 0"));
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void test_long_input(void)
{
	const size_t len = 200 * 1024;
	char *s = malloc(len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	struct loaded l = load_pre("llama3");
	CU_ASSERT_PTR_NOT_NULL_FATAL(l.t);
	for (size_t i = 0; i < len; i++)
		s[i] = tc_text[i / 64 % TC_N_CASES][i % 7];
	double t0 = now_s();
	bpe_round_trip(l.t, s, len);
	double t1 = now_s();
	memset(s, 'e', len); /* one 200 KB word */
	bpe_round_trip(l.t, s, len);
	double t2 = now_s();
	memset(s, ' ', len);
	bpe_round_trip(l.t, s, len);
	double t3 = now_s();
	printf("\n    bpe 200KB encode+decode: mixed %.1f ms, one word %.1f ms, spaces %.1f ms ",
	       (t1 - t0) * 1e3, (t2 - t1) * 1e3, (t3 - t2) * 1e3);
	unload(&l);
	free(s);
}

/* --- bad metadata: small GGUF files built in memory -------------------- */

struct gbuf {
	uint8_t b[4096];
	size_t n;
};

static void g_raw(struct gbuf *g, const void *p, size_t n)
{
	CU_ASSERT_FATAL(g->n + n <= sizeof(g->b));
	memcpy(g->b + g->n, p, n);
	g->n += n;
}
static void g_u32(struct gbuf *g, uint32_t v) { g_raw(g, &v, 4); }
static void g_u64(struct gbuf *g, uint64_t v) { g_raw(g, &v, 8); }
static void g_str(struct gbuf *g, const char *s)
{
	g_u64(g, strlen(s));
	g_raw(g, s, strlen(s));
}
static void g_kv_str(struct gbuf *g, const char *k, const char *v)
{
	g_str(g, k);
	g_u32(g, GGUF_TYPE_STRING);
	g_str(g, v);
}
static void g_kv_u32(struct gbuf *g, const char *k, uint32_t v)
{
	g_str(g, k);
	g_u32(g, GGUF_TYPE_UINT32);
	g_u32(g, v);
}
static void g_kv_strs(struct gbuf *g, const char *k, const char *const *v, size_t n)
{
	g_str(g, k);
	g_u32(g, GGUF_TYPE_ARRAY);
	g_u32(g, GGUF_TYPE_STRING);
	g_u64(g, n);
	for (size_t i = 0; i < n; i++)
		g_str(g, v[i]);
}
static void g_kv_i32s(struct gbuf *g, const char *k, const int32_t *v, size_t n)
{
	g_str(g, k);
	g_u32(g, GGUF_TYPE_ARRAY);
	g_u32(g, GGUF_TYPE_INT32);
	g_u64(g, n);
	g_raw(g, v, n * 4);
}
static void g_head(struct gbuf *g, uint64_t n_kv)
{
	g->n = 0;
	g_raw(g, "GGUF", 4);
	g_u32(g, 3);
	g_u64(g, 0);
	g_u64(g, n_kv);
}
static void g_pad(struct gbuf *g)
{
	static const uint8_t z[32];
	g_raw(g, z, (32 - g->n % 32) % 32);
}

/* Load g and expect a refusal whose reason contains want. */
static void expect_refused(struct gbuf *g, const char *want)
{
	char err[256] = "";
	g_pad(g);
	struct gguf_file *f = gguf_open_mem(g->b, g->n, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	err[0] = '\0';
	struct tok *t = tok_from_gguf(f, err, sizeof(err));
	CU_ASSERT_PTR_NULL(t);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, want));
	tok_free(t);
	gguf_close(f);
}

static void test_bad_metadata(void)
{
	static const char *const toks[] = { "a", "b", "ab" };
	static const char *const merges[] = { "a b" };
	static const int32_t bad_types[] = { 1, 1, 9 };
	static const int32_t types[] = { 1, 1, 1 };
	struct gbuf g;

	g_head(&g, 1);
	g_kv_str(&g, "general.architecture", "llama");
	expect_refused(&g, "tokenizer.ggml.model missing");

	g_head(&g, 1);
	g_kv_str(&g, "tokenizer.ggml.model", "bert");
	expect_refused(&g, "unsupported tokenizer.ggml.model \"bert\"");

	g_head(&g, 2);
	g_kv_str(&g, "tokenizer.ggml.model", "gpt2");
	g_kv_str(&g, "tokenizer.ggml.pre", "klingon");
	expect_refused(&g, "unsupported tokenizer.ggml.pre \"klingon\"");

	g_head(&g, 1);
	g_kv_str(&g, "tokenizer.ggml.model", "llama");
	expect_refused(&g, "tokenizer.ggml.tokens missing");

	g_head(&g, 2);
	g_kv_str(&g, "tokenizer.ggml.model", "gpt2");
	g_kv_strs(&g, "tokenizer.ggml.tokens", toks, 3);
	expect_refused(&g, "tokenizer.ggml.merges missing");

	g_head(&g, 3);
	g_kv_str(&g, "tokenizer.ggml.model", "llama");
	g_kv_strs(&g, "tokenizer.ggml.tokens", toks, 3);
	g_kv_i32s(&g, "tokenizer.ggml.token_type", bad_types, 3);
	expect_refused(&g, "token 2 has unknown type 9");

	g_head(&g, 3);
	g_kv_str(&g, "tokenizer.ggml.model", "llama");
	g_kv_strs(&g, "tokenizer.ggml.tokens", toks, 3);
	g_kv_i32s(&g, "tokenizer.ggml.token_type", types, 2);
	expect_refused(&g, "tokenizer.ggml.token_type: want 3");

	/* SPM adds BOS by default: a BOS id outside the vocabulary is refused */
	g_head(&g, 3);
	g_kv_str(&g, "tokenizer.ggml.model", "llama");
	g_kv_strs(&g, "tokenizer.ggml.tokens", toks, 3);
	g_kv_u32(&g, "tokenizer.ggml.bos_token_id", 99);
	expect_refused(&g, "add_bos_token is set");

	/* without id keys SentencePiece gets its fixed ids UNK 0, BOS 1, EOS 2 */
	char err[256] = "";
	g_head(&g, 2);
	g_kv_str(&g, "tokenizer.ggml.model", "llama");
	g_kv_strs(&g, "tokenizer.ggml.tokens", toks, 3);
	g_pad(&g);
	struct gguf_file *fs = gguf_open_mem(g.b, g.n, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(fs);
	struct tok *ts = tok_from_gguf(fs, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(ts);
	CU_ASSERT_EQUAL(tok_unk(ts), 0);
	CU_ASSERT_EQUAL(tok_bos(ts), 1);
	CU_ASSERT_EQUAL(tok_eos(ts), 2);
	tok_free(ts);
	gguf_close(fs);

	/* and a well-formed minimal byte-level file loads */
	g_head(&g, 3);
	g_kv_str(&g, "tokenizer.ggml.model", "gpt2");
	g_kv_strs(&g, "tokenizer.ggml.tokens", toks, 3);
	g_kv_strs(&g, "tokenizer.ggml.merges", merges, 1);
	g_pad(&g);
	struct gguf_file *f = gguf_open_mem(g.b, g.n, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	struct tok *t = tok_from_gguf(f, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_EQUAL(tok_pre(t), TOK_PRE_DEFAULT);
	int32_t ids[4];
	CU_ASSERT_EQUAL(tok_encode(t, "ab", 2, TOK_ENC_ADD_SPECIAL, ids, 4), 1);
	CU_ASSERT_EQUAL(ids[0], 2);
	tok_free(t);
	gguf_close(f);
}

int add_bpe_tests(CU_pSuite s)
{
	if (!CU_add_test(s, "bpe: pre-tokenizer names", test_pre_names) ||
	    !CU_add_test(s, "bpe: splits equal the regex reference", test_splits) ||
	    !CU_add_test(s, "bpe: splits by hand", test_splits_by_hand) ||
	    !CU_add_test(s, "bpe: ids equal the reference BPE", test_ids) ||
	    !CU_add_test(s, "bpe: specials and end of generation", test_specials_decode) ||
	    !CU_add_test(s, "bpe: arbitrary bytes round trip", test_bytes_round_trip) ||
	    !CU_add_test(s, "bpe: tiny vocabulary by hand", test_tiny_vocab) ||
	    !CU_add_test(s, "bpe: long input", test_long_input) ||
	    !CU_add_test(s, "bpe: bad metadata refused", test_bad_metadata))
		return -1;
	return 0;
}
