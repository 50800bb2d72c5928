/* Unit suite "model": hyperparameters and shapes (stories260K), logits of
 * synthetic llama/qwen2 models in F32, F16, BF16 and Q8_0 against the
 * independent NumPy reference of tools/scripts/mkgguf.py, batching and
 * threading equivalence, the KV-cache pool's limits and the loader's
 * refusals of shapes that contradict the hyperparameters.
 *
 * Usage: test_model PYTHON MKGGUF_PY STORIES_GGUF
 *
 * Tolerances, as max |logit - reference| / max |reference| over all positions:
 * - F32, F16, BF16: 1e-4. The reference computes in float64 from the very
 *   values the file stores, so only f32 rounding and summation order differ
 *   (measured ~3e-7).
 * - Q8_0: 2e-3. The reference quantizes activations the same way, but an
 *   element the engine computes in f32 and the reference in f64 can fall on
 *   the other side of a rounding boundary: one step is d = max|x|/127 of its
 *   block, i.e. under 1% of one term of one dot product, and an isolated
 *   flip moves a logit by far less than 2e-3 of the logit range. */
#include <CUnit/Basic.h>
#include <errno.h>
#include <sched.h>
#include <math.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "model.h"
#include "tsfile.h"

extern char **environ;

static const char *python, *mkgguf, *stories;
static char tmpdir[] = "/tmp/ts-model-XXXXXX";
static char err[512];

struct ref_seq {
	uint32_t n;
	int32_t *tok;
	float *logits; /* [n][n_vocab] */
};

struct ref {
	uint32_t n_seqs, n_vocab;
	struct ref_seq s[4];
};

struct synth {
	struct gguf_file *g;
	struct mdl_model *m;
	struct ref ref;
	char path[256];
};

/* Run mkgguf.py with extra arguments into tmpdir/name.{gguf,ref}. */
static int make_model(const char *name, const char *const *extra, bool with_ref)
{
	char out[256], refp[256];
	char *argv[32];
	char store[32][256];
	int n = 0;
	snprintf(out, sizeof(out), "%s/%s.gguf", tmpdir, name);
	snprintf(refp, sizeof(refp), "%s/%s.ref", tmpdir, name);
	const char *base[] = {python, mkgguf, "--out", out};
	for (size_t i = 0; i < 4; i++)
		snprintf(store[n++], sizeof(store[0]), "%s", base[i]);
	if (with_ref) {
		snprintf(store[n++], sizeof(store[0]), "--ref");
		snprintf(store[n++], sizeof(store[0]), "%s", refp);
		snprintf(store[n++], sizeof(store[0]), "--seqs");
		/* three sequences of different lengths; ids < 100 (the vocab) */
		snprintf(store[n++], sizeof(store[0]), "1,17,42,99,3,8,8,61,5,23,77;2,9;50,51,52,53,54,55");
	}
	for (; extra && *extra && n < 30; extra++)
		snprintf(store[n++], sizeof(store[0]), "%s", *extra);
	for (int i = 0; i < n; i++)
		argv[i] = store[i];
	argv[n] = NULL;
	pid_t pid;
	int st;
	if (posix_spawn(&pid, python, NULL, NULL, argv, environ) != 0)
		return -1;
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return -1;
	return 0;
}

static bool read_ref(const char *path, struct ref *r)
{
	FILE *f = fopen(path, "rb");
	char magic[8];
	bool ok = false;
	memset(r, 0, sizeof(*r));
	if (!f)
		return false;
	if (fread(magic, 8, 1, f) != 1 || memcmp(magic, "MKREF1\0\0", 8) ||
	    fread(&r->n_seqs, 4, 1, f) != 1 || fread(&r->n_vocab, 4, 1, f) != 1 || r->n_seqs > 4)
		goto out;
	for (uint32_t i = 0; i < r->n_seqs; i++) {
		struct ref_seq *s = &r->s[i];
		if (fread(&s->n, 4, 1, f) != 1 || s->n == 0 || s->n > 64)
			goto out;
		s->tok = malloc(s->n * sizeof(int32_t));
		s->logits = malloc((size_t)s->n * r->n_vocab * sizeof(float));
		if (!s->tok || !s->logits || fread(s->tok, 4, s->n, f) != s->n ||
		    fread(s->logits, 4, (size_t)s->n * r->n_vocab, f) != (size_t)s->n * r->n_vocab)
			goto out;
	}
	ok = true;
out:
	fclose(f);
	return ok;
}

static void free_synth(struct synth *s)
{
	for (uint32_t i = 0; i < 4; i++) {
		free(s->ref.s[i].tok);
		free(s->ref.s[i].logits);
	}
	mdl_free(s->m);
	gguf_close(s->g);
	memset(s, 0, sizeof(*s));
}

static bool load_synth(const char *name, const char *const *extra, struct synth *s)
{
	char refp[300];
	memset(s, 0, sizeof(*s));
	if (make_model(name, extra, true)) {
		fprintf(stderr, "\n  mkgguf.py failed for %s\n", name);
		return false;
	}
	snprintf(s->path, sizeof(s->path), "%s/%s.gguf", tmpdir, name);
	snprintf(refp, sizeof(refp), "%s/%s.ref", tmpdir, name);
	s->g = gguf_open(s->path, err, sizeof(err));
	if (!s->g || !(s->m = mdl_load(s->g, err, sizeof(err))) || !read_ref(refp, &s->ref)) {
		fprintf(stderr, "\n  %s: %s\n", name, err);
		return false;
	}
	return true;
}

/* max |a - ref| / max |ref| over n floats */
static double rel_err(const float *a, const float *ref, size_t n)
{
	double md = 0, mr = 0;
	for (size_t i = 0; i < n; i++) {
		md = fmax(md, fabs((double)a[i] - ref[i]));
		mr = fmax(mr, fabs((double)ref[i]));
	}
	return mr > 0 ? md / mr : md;
}

/* Mode 1: each sequence alone, one prefill with all logits.
 * Mode 2: all sequences in one batch: the first 3 tokens of each as a
 * prefill chunk (all logits), then the rest one decode token per step for
 * every sequence still going, batched together. */
static double check_logits(struct synth *s, struct mdl_pool *pool)
{
	const struct mdl_hparams *hp = mdl_hparams(s->m);
	const struct ref *r = &s->ref;
	struct mdl_kv_pool *kv = mdl_kv_create(s->m, 4, 64, err, sizeof(err));
	struct mdl_ctx *c = kv ? mdl_ctx_create(s->m, kv, 64, 4, pool, err, sizeof(err)) : NULL;
	float *out[4];
	double worst = 0;
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL_FATAL(hp->n_vocab, r->n_vocab);
	for (uint32_t i = 0; i < r->n_seqs; i++)
		out[i] = calloc((size_t)r->s[i].n * hp->n_vocab, sizeof(float));

	for (uint32_t i = 0; i < r->n_seqs; i++) {
		int slot = mdl_kv_acquire(kv);
		CU_ASSERT_TRUE_FATAL(slot >= 0);
		struct mdl_seq q = {.slot = (uint32_t)slot, .tokens = r->s[i].tok, .n_tokens = r->s[i].n,
				    .all_logits = true, .logits = out[i]};
		CU_ASSERT_EQUAL(mdl_forward(c, kv, &q, 1), 0);
		worst = fmax(worst, rel_err(out[i], r->s[i].logits, (size_t)r->s[i].n * hp->n_vocab));
		CU_ASSERT_EQUAL(mdl_kv_len(kv, (uint32_t)slot), r->s[i].n);
		CU_ASSERT_EQUAL(mdl_kv_release(kv, (uint32_t)slot), 0);
	}

	struct mdl_seq q[4];
	uint32_t done[4], nq = 0;
	for (uint32_t i = 0; i < r->n_seqs; i++) {
		memset(out[i], 0, (size_t)r->s[i].n * hp->n_vocab * sizeof(float));
		uint32_t pre = r->s[i].n < 3 ? r->s[i].n : 3;
		q[i] = (struct mdl_seq){.slot = (uint32_t)mdl_kv_acquire(kv), .tokens = r->s[i].tok,
					.n_tokens = pre, .all_logits = true, .logits = out[i]};
		done[i] = pre;
	}
	CU_ASSERT_EQUAL(mdl_forward(c, kv, q, r->n_seqs), 0);
	for (;;) {
		struct mdl_seq step[4];
		nq = 0;
		for (uint32_t i = 0; i < r->n_seqs; i++) {
			if (done[i] == r->s[i].n)
				continue;
			step[nq++] = (struct mdl_seq){.slot = q[i].slot, .pos = done[i], .tokens = &r->s[i].tok[done[i]],
						      .n_tokens = 1, .logits = out[i] + (size_t)done[i] * hp->n_vocab};
			done[i]++;
		}
		if (!nq)
			break;
		CU_ASSERT_EQUAL_FATAL(mdl_forward(c, kv, step, nq), 0);
	}
	for (uint32_t i = 0; i < r->n_seqs; i++) {
		worst = fmax(worst, rel_err(out[i], r->s[i].logits, (size_t)r->s[i].n * hp->n_vocab));
		free(out[i]);
	}
	mdl_ctx_destroy(c);
	mdl_kv_destroy(kv);
	return worst;
}

static void synth_case(const char *name, const char *const *extra, double tol)
{
	struct synth s;
	bool ok = load_synth(name, extra, &s);
	CU_ASSERT_TRUE(ok);
	if (ok) {
		double e = check_logits(&s, NULL);
		if (e > tol)
			fprintf(stderr, "\n  %s: relative error %g > %g\n", name, e, tol);
		CU_ASSERT_TRUE(e <= tol);
	}
	free_synth(&s);
}

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

static void test_llama_f32(void) { synth_case("llama-f32", ARGS("--arch", "llama", "--wtype", "F32"), 1e-4); }
static void test_llama_f16(void) { synth_case("llama-f16", ARGS("--arch", "llama", "--wtype", "F16"), 1e-4); }
static void test_llama_bf16(void) { synth_case("llama-bf16", ARGS("--arch", "llama", "--wtype", "BF16"), 1e-4); }
static void test_llama_q8(void) { synth_case("llama-q8", ARGS("--arch", "llama", "--wtype", "Q8_0"), 2e-3); }
static void test_qwen2_f32(void) { synth_case("qwen2-f32", ARGS("--arch", "qwen2", "--wtype", "F32"), 1e-4); }
static void test_qwen2_f16(void) { synth_case("qwen2-f16", ARGS("--arch", "qwen2", "--wtype", "F16"), 1e-4); }
static void test_qwen2_bf16(void) { synth_case("qwen2-bf16", ARGS("--arch", "qwen2", "--wtype", "BF16"), 1e-4); }
static void test_qwen2_q8(void)
{
	/* embd 288 = 9 Q8 blocks (8-block group + 1), ff 416 = 13 blocks (8 + 4 + 1):
	 * every path of the grouped kernel */
	synth_case("qwen2-q8", ARGS("--arch", "qwen2", "--wtype", "Q8_0", "--embd", "288", "--heads", "6",
				    "--ff", "416", "--tied"), 2e-3);
}
static void test_llama_rope_variants(void)
{
	/* tied output, linear RoPE scaling and per-dimension rope_freqs factors */
	synth_case("llama-rope", ARGS("--arch", "llama", "--wtype", "F32", "--tied", "--rope-linear", "4",
				      "--rope-freqs", "--rope-base", "500000", "--kv-heads", "1"), 1e-4);
}

/*
 * qwen2 (NeoX pairs) with linear RoPE scaling over a 48-token sequence: the
 * scaled angles reach positions the default seqs never do. Written as GGUF
 * v2, so a v2 file also goes the whole way through mdl_load.
 */
static void test_qwen2_rope_linear_long(void)
{
	synth_case("qwen2-rope-long",
		   ARGS("--arch", "qwen2", "--wtype", "F32", "--rope-linear", "2.5", "--gguf-version", "2",
			"--seqs",
			"1,17,42,99,3,8,8,61,5,23,77,12,90,4,4,31,64,2,55,18,70,9,36,81,"
			"27,6,93,14,48,59,11,72,38,85,21,66,0,44,97,29,53,15,88,7,62,33,76,40;"
			"2,9;50,51,52,53,54,55"),
		   1e-4);
}

/* A pool of 3 threads gives bit-identical logits: every output element is
 * computed by exactly one thread with the same instructions. */
static void test_threads(void)
{
	struct synth s;
	CU_ASSERT_TRUE_FATAL(load_synth("threads", ARGS("--arch", "qwen2", "--wtype", "Q8_0"), &s));
	/* workers pinned to the first CPU this process may use */
	cpu_set_t set;
	int cpu = 0;
	CU_ASSERT_EQUAL_FATAL(sched_getaffinity(0, sizeof(set), &set), 0);
	while (cpu < CPU_SETSIZE - 1 && !CPU_ISSET(cpu, &set))
		cpu++;
	int cpus[3] = {-1, cpu, cpu};
	struct mdl_pool *pool = mdl_pool_create(3, cpus, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(pool);
	CU_ASSERT_EQUAL(mdl_pool_n_threads(pool), 3);
	double e1 = check_logits(&s, NULL), e3 = check_logits(&s, pool);
	CU_ASSERT_EQUAL(e1, e3);
	CU_ASSERT_TRUE(e1 <= 2e-3);
	mdl_pool_destroy(pool);
	pool = mdl_pool_create(2, NULL, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(pool);
	CU_ASSERT_EQUAL(check_logits(&s, pool), e1);
	mdl_pool_destroy(pool);
	int bad[2] = {-1, 1 << 20};
	CU_ASSERT_PTR_NULL(mdl_pool_create(2, bad, err, sizeof(err)));
	CU_ASSERT_PTR_NULL(mdl_pool_create(0, NULL, err, sizeof(err)));
	CU_ASSERT_EQUAL(mdl_pin_self(-1), -EINVAL);
	free_synth(&s);
}

static void test_stories_hparams(void)
{
	struct gguf_file *g = gguf_open(stories, err, sizeof(err));
	if (!g)
		fprintf(stderr, "\n  %s (the model lives in ../shared next to the repository)\n", err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(g);
	struct mdl_model *m = mdl_load(g, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	const struct mdl_hparams *hp = mdl_hparams(m);
	CU_ASSERT_EQUAL(hp->arch, MDL_ARCH_LLAMA);
	CU_ASSERT_EQUAL(hp->rope_mode, MDL_ROPE_NORMAL);
	CU_ASSERT_EQUAL(hp->n_vocab, 512);
	CU_ASSERT_EQUAL(hp->n_embd, 64);
	CU_ASSERT_EQUAL(hp->n_layer, 5);
	CU_ASSERT_EQUAL(hp->n_ff, 172);
	CU_ASSERT_EQUAL(hp->n_head, 8);
	CU_ASSERT_EQUAL(hp->n_head_kv, 4);
	CU_ASSERT_EQUAL(hp->head_dim, 8);
	CU_ASSERT_EQUAL(hp->n_ctx_train, 2048);
	CU_ASSERT_FALSE(hp->tied_output);
	CU_ASSERT_DOUBLE_EQUAL(hp->rms_eps, 1e-5, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(hp->rope_base, 10000.0, 1e-6);
	/* all F32: 48 tensors minus the embedding table, plus one embedding row */
	CU_ASSERT_EQUAL(mdl_weight_bytes(m), 1185376 - 14176 - 131072 + 256);
	float row[64];
	CU_ASSERT_EQUAL(mdl_embed(m, 511, row), 0);
	CU_ASSERT_EQUAL(mdl_embed(m, 512, row), -EINVAL);
	CU_ASSERT_EQUAL(mdl_embed(m, -1, row), -EINVAL);
	mdl_free(m);
	gguf_close(g);
}

/* The pool and forward refuse what they cannot do, and change nothing. */
static void test_limits(void)
{
	struct gguf_file *g = gguf_open(stories, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(g);
	struct mdl_model *m = mdl_load(g, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_PTR_NULL(mdl_kv_create(m, 0, 16, err, sizeof(err)));
	CU_ASSERT_PTR_NULL(mdl_kv_create(m, 2, 0, err, sizeof(err)));
	CU_ASSERT_PTR_NULL(mdl_kv_create(m, 4000, 4000000, err, sizeof(err)));
	struct mdl_kv_pool *kv = mdl_kv_create(m, 2, 8, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(kv);
	CU_ASSERT_PTR_NULL(mdl_ctx_create(m, kv, 0, 1, NULL, err, sizeof(err)));
	CU_ASSERT_PTR_NULL(mdl_ctx_create(m, kv, 4, 5, NULL, err, sizeof(err)));
	struct mdl_ctx *c = mdl_ctx_create(m, kv, 6, 2, NULL, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(mdl_kv_n_slots(kv), 2);
	CU_ASSERT_EQUAL(mdl_kv_max_ctx(kv), 8);

	float lg[2 * 512];
	int32_t toks[8] = {1, 403, 407, 261, 378, 432, 383, 286};
	struct mdl_seq q = {.slot = 0, .tokens = toks, .n_tokens = 2, .logits = lg};
	CU_ASSERT_EQUAL(mdl_forward(c, kv, &q, 1), -EINVAL); /* slot not acquired */
	CU_ASSERT_EQUAL(mdl_kv_acquire(kv), 0);
	CU_ASSERT_EQUAL(mdl_kv_acquire(kv), 1);
	CU_ASSERT_EQUAL(mdl_kv_acquire(kv), -ENOSPC);
	CU_ASSERT_EQUAL(mdl_kv_release(kv, 2), -EINVAL);
	CU_ASSERT_EQUAL(mdl_forward(c, kv, &q, 1), 0);
	CU_ASSERT_EQUAL(mdl_kv_len(kv, 0), 2);

	struct mdl_seq bad = q;
	bad.pos = 3; /* beyond the 2 cached tokens: a hole */
	CU_ASSERT_EQUAL(mdl_forward(c, kv, &bad, 1), -EINVAL);
	bad = q, bad.pos = 0, bad.n_tokens = 7; /* fits the slot, not the ctx's 6 tokens */
	CU_ASSERT_EQUAL(mdl_forward(c, kv, &bad, 1), -E2BIG);
	bad = q, bad.pos = 2, bad.tokens = toks + 2, bad.n_tokens = 6; /* 2 + 6 = 8 fits exactly */
	toks[7] = 512; /* out of vocabulary */
	CU_ASSERT_EQUAL(mdl_forward(c, kv, &bad, 1), -EINVAL);
	toks[7] = 286;
	bad.n_tokens = 0;
	CU_ASSERT_EQUAL(mdl_forward(c, kv, &bad, 1), -EINVAL);
	struct mdl_seq two[3] = {q, q, q};
	two[0].pos = 2;
	two[1].pos = 2;
	CU_ASSERT_EQUAL(mdl_forward(c, kv, two, 2), -EINVAL); /* same slot twice */
	two[1].slot = 1;
	two[1].pos = 0;
	CU_ASSERT_EQUAL(mdl_forward(c, kv, two, 3), -E2BIG); /* more sequences than max_seqs */
	CU_ASSERT_EQUAL(mdl_kv_len(kv, 0), 2); /* nothing changed */

	/* fill slot 0 to its 8 tokens, then one more is -ENOSPC */
	q.pos = 2, q.tokens = toks + 2, q.n_tokens = 6;
	CU_ASSERT_EQUAL(mdl_forward(c, kv, &q, 1), 0);
	CU_ASSERT_EQUAL(mdl_kv_len(kv, 0), 8);
	q.pos = 8, q.n_tokens = 1;
	CU_ASSERT_EQUAL(mdl_forward(c, kv, &q, 1), -ENOSPC);
	CU_ASSERT_EQUAL(mdl_kv_len(kv, 0), 8);
	/* rewinding is allowed: recompute from position 5 */
	q.pos = 5, q.tokens = toks + 5, q.n_tokens = 1;
	CU_ASSERT_EQUAL(mdl_forward(c, kv, &q, 1), 0);
	CU_ASSERT_EQUAL(mdl_kv_len(kv, 0), 6);
	CU_ASSERT_EQUAL(mdl_kv_release(kv, 0), 0);
	CU_ASSERT_EQUAL(mdl_kv_release(kv, 0), -EINVAL);
	CU_ASSERT_EQUAL(mdl_kv_acquire(kv), 0);
	CU_ASSERT_EQUAL(mdl_kv_len(kv, 0), 0);

	mdl_ctx_destroy(c);
	mdl_kv_destroy(kv);
	mdl_free(m);
	gguf_close(g);
}

/* Offset just past the GGUF string `s` (u64 length + bytes) in buf. */
static size_t find_gstr(const uint8_t *buf, size_t len, const char *s)
{
	size_t sl = strlen(s);
	for (size_t i = 8; i + sl <= len; i++) {
		uint64_t n;
		memcpy(&n, buf + i - 8, 8);
		if (n == sl && !memcmp(buf + i, s, sl))
			return i + sl;
	}
	return 0;
}

/* Load a patched copy of a model; expect mdl_load to fail with want. */
static void expect_load_err(const uint8_t *orig, size_t len, const char *key, long skip, const void *val,
			    size_t vlen, const char *want)
{
	uint8_t *b = malloc(len);
	memcpy(b, orig, len);
	size_t at = find_gstr(b, len, key);
	CU_ASSERT_TRUE_FATAL(at > 0);
	memcpy(b + (long)at + skip, val, vlen);
	struct gguf_file *g = gguf_open_mem(b, len, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(g);
	struct mdl_model *m = mdl_load(g, err, sizeof(err));
	CU_ASSERT_PTR_NULL(m);
	if (!strstr(err, want))
		fprintf(stderr, "\n  got '%s', want '%s'\n", err, want);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, want));
	mdl_free(m);
	gguf_close(g);
	free(b);
}

static void test_shape_refusals(void)
{
	char path[300];
	size_t len = 0;
	CU_ASSERT_EQUAL_FATAL(make_model("shapes", ARGS("--arch", "qwen2", "--wtype", "F32"), false), 0);
	snprintf(path, sizeof(path), "%s/shapes.gguf", tmpdir);
	char *raw = NULL;
	CU_ASSERT_EQUAL_FATAL(tsfile_read(path, 64u << 20, &raw, &len, err, sizeof(err)), 0);
	uint8_t *b = (uint8_t *)raw;
	/* values follow their key as u32 type + payload: skip 4 for the type */
	uint32_t v;
	v = 80;
	expect_load_err(b, len, "qwen2.feed_forward_length", 4, &v, 4,
			"tensor blk.0.ffn_gate.weight: shape [64, 96], expected [64, 80]");
	v = 3;
	expect_load_err(b, len, "qwen2.attention.head_count_kv", 4, &v, 4, "does not divide head_count 4");
	v = 2; /* head dim 32: K/V rows 2 x 32 */
	expect_load_err(b, len, "qwen2.attention.head_count", 4, &v, 4,
			"tensor blk.0.attn_k.weight: shape [64, 32], expected [64, 64]");
	v = 8; /* head dim 8, below the file's rope.dimension_count 16 */
	expect_load_err(b, len, "qwen2.attention.head_count", 4, &v, 4,
			"key qwen2.rope.dimension_count: 16 outside 2..8");
	v = 3;
	expect_load_err(b, len, "qwen2.block_count", 4, &v, 4, "tensor blk.2.attn_norm.weight: missing");
	v = 0;
	expect_load_err(b, len, "qwen2.embedding_length", 4, &v, 4,
			"key qwen2.embedding_length: 0 outside 1..65536");
	v = GGUF_TYPE_FLOAT32;
	expect_load_err(b, len, "qwen2.context_length", 0, &v, 4,
			"key qwen2.context_length: not an unsigned 32-bit integer");
	/* rename the key's last byte */
	expect_load_err(b, len, "qwen2.block_count", -1, "X", 1, "key qwen2.block_count: missing");
	/* general.architecture "qwen2" -> "qwen3": 4 type + 8 length */
	expect_load_err(b, len, "general.architecture", 12 + 4, "3", 1,
			"key general.architecture: 'qwen3' not supported");
	/* bias of qwen2 is required: rename it */
	expect_load_err(b, len, "blk.1.attn_v.bias", -1, "X", 1, "tensor blk.1.attn_v.bias: missing");
	/* tensor type after the name: n_dims u32 + ne (2 x u64) then type; F32 -> Q4_0 (smaller, still in bounds) */
	v = GGUF_TENSOR_Q4_0;
	expect_load_err(b, len, "blk.0.attn_q.weight", 4 + 16, &v, 4,
			"tensor blk.0.attn_q.weight: type Q4_0 not supported");
	v = GGUF_TENSOR_F16;
	expect_load_err(b, len, "blk.0.ffn_norm.weight", 4 + 8, &v, 4,
			"tensor blk.0.ffn_norm.weight: type F16, expected F32");
	free(b);
}

static void rm_tmpdir(void)
{
	char cmd[128];
	const char *names[] = {"llama-f32", "llama-f16", "llama-bf16", "llama-q8", "qwen2-f32", "qwen2-f16",
			       "qwen2-bf16", "qwen2-q8", "llama-rope", "threads", "shapes"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(cmd, sizeof(cmd), "%s/%s.gguf", tmpdir, names[i]);
		unlink(cmd);
		snprintf(cmd, sizeof(cmd), "%s/%s.ref", tmpdir, names[i]);
		unlink(cmd);
	}
	rmdir(tmpdir);
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: %s PYTHON MKGGUF_PY STORIES_GGUF\n", argv[0]);
		return 2;
	}
	python = argv[1];
	mkgguf = argv[2];
	stories = argv[3];
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	CU_pSuite s = CU_add_suite("model", NULL, NULL);
	CU_add_test(s, "stories260K hyperparameters", test_stories_hparams);
	CU_add_test(s, "kv pool and forward limits", test_limits);
	CU_add_test(s, "llama F32 vs reference", test_llama_f32);
	CU_add_test(s, "llama F16 vs reference", test_llama_f16);
	CU_add_test(s, "llama BF16 vs reference", test_llama_bf16);
	CU_add_test(s, "llama Q8_0 vs reference", test_llama_q8);
	CU_add_test(s, "qwen2 F32 vs reference", test_qwen2_f32);
	CU_add_test(s, "qwen2 F16 vs reference", test_qwen2_f16);
	CU_add_test(s, "qwen2 BF16 vs reference", test_qwen2_bf16);
	CU_add_test(s, "qwen2 Q8_0 tied vs reference", test_qwen2_q8);
	CU_add_test(s, "llama tied + rope scaling + rope_freqs", test_llama_rope_variants);
	CU_add_test(s, "qwen2 linear RoPE, 48 tokens, GGUF v2", test_qwen2_rope_linear_long);
	CU_add_test(s, "thread pool equivalence", test_threads);
	CU_add_test(s, "shape and type refusals", test_shape_refusals);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned fails = CU_get_number_of_failures();
	CU_cleanup_registry();
	rm_tmpdir();
	return fails ? 1 : 0;
}
