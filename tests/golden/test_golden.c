/* Golden suite: stories260K greedy generation against the references in
 * ../shared/models/stories260K/reference, byte for byte.
 *
 * llama2.c step semantics: `steps` counts positions including the prompt;
 * at each position the next token is the prompt's when one is left, else the
 * argmax (first maximum); generation stops at BOS (1) or the step limit. The
 * text is llama2.c's: each token's vocabulary string with U+2581 as a space,
 * the leading space dropped after BOS, <0xNN> as the byte, single
 * unprintable bytes skipped, and a final newline.
 *
 * The prompt is encoded with control/tokenizer (its ids must equal the pyref
 * JSON's) and fed as one prefill chunk (its top-5 logits checked against
 * the pyref JSON to 1e-3), the rest one decode step at a time.
 * Usage: test_golden STORIES_GGUF REFERENCE_DIR */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "tok.h"

static int fails;

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                       \
			fprintf(stderr, __VA_ARGS__);                                              \
			fputc('\n', stderr);                                                       \
			fails++;                                                                   \
		}                                                                                  \
	} while (0)

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *b = NULL;
	long n;
	if (!f)
		return NULL;
	if (!fseek(f, 0, SEEK_END) && (n = ftell(f)) >= 0 && !fseek(f, 0, SEEK_SET) && (b = malloc((size_t)n + 1)) &&
	    fread(b, 1, (size_t)n, f) == (size_t)n) {
		b[n] = 0;
		*len = (size_t)n;
	}
	fclose(f);
	return b;
}

/* Integers of the JSON array after "key": into out[cap]; count or -1. */
static int json_ints(const char *js, const char *key, int32_t *out, int cap)
{
	char pat[64];
	snprintf(pat, sizeof(pat), "\"%s\": [", key);
	const char *p = strstr(js, pat);
	int n = 0;
	if (!p)
		return -1;
	p += strlen(pat);
	while (*p && *p != ']' && n < cap) {
		char *end;
		long v = strtol(p, &end, 10);
		if (end == p)
			return -1;
		out[n++] = (int32_t)v;
		p = end;
		while (*p == ',' || *p == ' ')
			p++;
	}
	return *p == ']' ? n : -1;
}

/* "top5_next_after_prompt": [[id, "piece", logit], ...] */
static int json_top5(const char *js, int32_t *ids, double *logits)
{
	const char *p = strstr(js, "\"top5_next_after_prompt\": [");
	int n = 0;
	if (!p)
		return -1;
	p = strchr(p, '[') + 1;
	while (n < 5 && (p = strchr(p, '['))) {
		char *end;
		ids[n] = (int32_t)strtol(p + 1, &end, 10);
		p = strchr(end, '"');
		if (!p)
			return -1;
		for (p++; *p && *p != '"'; p++)
			if (*p == '\\' && p[1])
				p++;
		p = strchr(p, ',');
		if (!p)
			return -1;
		logits[n++] = strtod(p + 1, &end);
		p = end;
	}
	return n;
}

/* Append the text of token `tok` after `prev` to out (llama2.c decode + safe_printf). */
static void piece(const struct gguf_file *g, int32_t prev, int32_t tok, char *out, size_t *olen, size_t cap)
{
	const char *s;
	size_t sl;
	char buf[256];
	size_t n = 0;
	if (!gguf_arr_str(g, "tokenizer.ggml.tokens", (uint64_t)tok, &s, &sl))
		return;
	unsigned byte;
	if (sl == 6 && sscanf(s, "<0x%02X>", &byte) == 1) {
		buf[n++] = (char)byte;
	} else {
		for (size_t i = 0; i < sl && n < sizeof(buf) - 1; i++) {
			if (i + 2 < sl && (unsigned char)s[i] == 0xe2 && (unsigned char)s[i + 1] == 0x96 &&
			    (unsigned char)s[i + 2] == 0x81) {
				buf[n++] = ' ';
				i += 2;
			} else {
				buf[n++] = s[i];
			}
		}
	}
	const char *b = buf;
	if (prev == 1 && n && b[0] == ' ') {
		b++;
		n--;
	}
	if (n == 1 && !isprint((unsigned char)b[0]) && !isspace((unsigned char)b[0]))
		return;
	if (*olen + n < cap) {
		memcpy(out + *olen, b, n);
		*olen += n;
	}
}

struct gen {
	int32_t ids[1024]; /* all tokens, prompt first */
	int n_ids;
	char text[16384];
	size_t text_len;
	float first_logits[512]; /* after the prompt */
};

static int generate(const struct gguf_file *g, const struct mdl_model *m, const int32_t *prompt, int n_prompt,
		    int steps, struct gen *out)
{
	char err[256];
	const struct mdl_hparams *hp = mdl_hparams(m);
	struct mdl_kv_pool *kv = mdl_kv_create(m, 1, (uint32_t)steps + 1, err, sizeof(err));
	struct mdl_ctx *c = kv ? mdl_ctx_create(m, kv, (uint32_t)n_prompt, 1, NULL, err, sizeof(err)) : NULL;
	float *lg = malloc(hp->n_vocab * sizeof(float));
	int rc = -ENOMEM;
	if (!c || !lg || hp->n_vocab > 512)
		goto out;
	int slot = mdl_kv_acquire(kv);
	memset(out, 0, sizeof(*out));
	memcpy(out->ids, prompt, (size_t)n_prompt * sizeof(int32_t));
	out->n_ids = n_prompt;
	/* prompt tokens after BOS are "generated" text too (llama2.c prints them) */
	for (int i = 1; i < n_prompt; i++)
		piece(g, prompt[i - 1], prompt[i], out->text, &out->text_len, sizeof(out->text));
	struct mdl_seq q = {.slot = (uint32_t)slot, .pos = 0, .tokens = prompt, .n_tokens = (uint32_t)n_prompt,
			    .logits = lg};
	rc = mdl_forward(c, kv, &q, 1);
	if (rc)
		goto out;
	memcpy(out->first_logits, lg, hp->n_vocab * sizeof(float));
	/* logits at position pos pick the token of pos + 1; positions run to steps - 1 */
	for (int pos = n_prompt - 1; pos < steps; pos++) {
		int32_t next = 0;
		for (uint32_t i = 1; i < hp->n_vocab; i++)
			if (lg[i] > lg[next])
				next = (int32_t)i;
		if (next == 1)
			break;
		piece(g, out->ids[out->n_ids - 1], next, out->text, &out->text_len, sizeof(out->text));
		out->ids[out->n_ids++] = next;
		if (pos + 1 >= steps)
			break;
		q.pos = (uint32_t)pos + 1;
		q.tokens = &out->ids[out->n_ids - 1];
		q.n_tokens = 1;
		rc = mdl_forward(c, kv, &q, 1);
		if (rc)
			goto out;
	}
	out->text[out->text_len++] = '\n';
	rc = 0;
out:
	free(lg);
	mdl_ctx_destroy(c);
	mdl_kv_destroy(kv);
	return rc;
}

static void golden(const struct gguf_file *g, const struct mdl_model *m, const char *dir, const char *json_name,
		   const char *stdout_name, int steps, const int32_t *prompt_in, int n_prompt_in)
{
	char path[1024];
	size_t len = 0, slen = 0;
	static int32_t prompt[1024], want_ids[1024];
	int n_prompt = n_prompt_in, n_want = -1;
	char *js = NULL;
	static struct gen gen;
	memcpy(prompt, prompt_in, (size_t)n_prompt_in * sizeof(int32_t));
	if (json_name) {
		snprintf(path, sizeof(path), "%s/%s", dir, json_name);
		js = slurp(path, &len);
		CHECK(js, "%s: missing", path);
		if (!js)
			return;
		int np = json_ints(js, "prompt_ids", prompt, 1024);
		CHECK(np == n_prompt_in && !memcmp(prompt, prompt_in, (size_t)np * sizeof(int32_t)),
		      "%s: prompt ids (%d) differ from the encoded prompt (%d)", json_name, np, n_prompt_in);
		n_prompt = np > 0 ? np : n_prompt_in;
		n_want = json_ints(js, "all_ids", want_ids, 1024);
		CHECK(n_want > 0, "%s: no all_ids", json_name);
	}
	int rc = generate(g, m, prompt, n_prompt, steps, &gen);
	CHECK(rc == 0, "steps %d: forward failed: %d", steps, rc);
	if (rc) {
		free(js);
		return;
	}
	if (n_want > 0) {
		CHECK(gen.n_ids == n_want, "%s: %d ids, reference %d", json_name, gen.n_ids, n_want);
		for (int i = 0; i < gen.n_ids && i < n_want; i++)
			if (gen.ids[i] != want_ids[i]) {
				CHECK(0, "%s: id %d is %d, reference %d", json_name, i, gen.ids[i], want_ids[i]);
				break;
			}
		int32_t top_ids[5];
		double top_lg[5];
		if (strstr(js, "top5_next_after_prompt")) {
			int nt = json_top5(js, top_ids, top_lg);
			CHECK(nt == 5, "%s: top5 unreadable", json_name);
			float lg[512];
			memcpy(lg, gen.first_logits, sizeof(lg));
			for (int k = 0; k < nt; k++) {
				int best = 0;
				for (int i = 1; i < 512; i++)
					if (lg[i] > lg[best])
						best = i;
				CHECK(best == top_ids[k], "top-%d id %d, reference %d", k + 1, best, top_ids[k]);
				CHECK(fabs(lg[best] - top_lg[k]) <= 1e-3, "top-%d logit %.5f, reference %.5f", k + 1,
				      lg[best], top_lg[k]);
				lg[best] = -INFINITY;
			}
		}
	}
	snprintf(path, sizeof(path), "%s/%s", dir, stdout_name);
	char *want = slurp(path, &slen);
	CHECK(want, "%s: missing", path);
	if (want) {
		CHECK(slen == gen.text_len && !memcmp(want, gen.text, slen),
		      "%s: text differs\n--- got (%zu bytes)\n%.*s--- reference (%zu bytes)\n%s", stdout_name,
		      gen.text_len, (int)gen.text_len, gen.text, slen, want);
		free(want);
	}
	printf("golden %-45s steps %3d: %d ids, %zu bytes: %s\n", stdout_name, steps, gen.n_ids, gen.text_len,
	       fails ? "FAILED so far" : "ok");
	free(js);
}

int main(int argc, char **argv)
{
	char err[256];
	if (argc != 3) {
		fprintf(stderr, "usage: %s STORIES_GGUF REFERENCE_DIR\n", argv[0]);
		return 2;
	}
	struct gguf_file *g = gguf_open(argv[1], err, sizeof(err));
	if (!g) {
		fprintf(stderr, "FAIL: %s (the model lives in ../shared next to the repository)\n", err);
		return 1;
	}
	struct mdl_model *m = mdl_load(g, err, sizeof(err));
	if (!m) {
		fprintf(stderr, "FAIL: %s\n", err);
		gguf_close(g);
		return 1;
	}
	/* the prompt through the tokenizer, with BOS as the vocabulary says */
	static const char prompt[] = "Once upon a time";
	int32_t once[64];
	static const int32_t bos[] = {1};
	struct tok *tk = tok_from_gguf(g, err, sizeof(err));
	CHECK(tk, "tokenizer: %s", err);
	int64_t n_once = tk ? tok_encode(tk, prompt, sizeof(prompt) - 1, TOK_ENC_ADD_SPECIAL, once, 64) : -1;
	CHECK(n_once > 0, "tokenizer: encode failed: %lld", (long long)n_once);
	tok_free(tk);
	if (n_once > 0)
		golden(g, m, argv[2], "pyref_greedy_prompt_Once_upon_a_time_n64.json",
		       "runc_t0_n64_prompt_Once_upon_a_time.stdout", 64, once, (int)n_once);
	golden(g, m, argv[2], "pyref_greedy_noprompt_n200.json", "runc_t0_n200_noprompt.stdout", 200, bos, 1);
	golden(g, m, argv[2], NULL, "runc_t0_n256_noprompt.stdout", 256, bos, 1);
	mdl_free(m);
	gguf_close(g);
	printf("%s\n", fails ? "golden: FAILED" : "golden: all match");
	return fails ? 1 : 0;
}
