/* libFuzzer target of control/tokenizer. The first input byte picks what the
 * rest is fed to:
 *   0..4  byte-level BPE encode with pre-tokenizer default/gpt2/llama3/qwen2/
 *         smollm over a synthetic vocabulary (bytes, merges, specials); checks
 *         decode(encode(x)) == x, the size bound, and that the pre-tokenizer's
 *         words concatenate back to x;
 *   5     SentencePiece encode over a synthetic vocabulary with byte tokens;
 *         checks the size bound and the round trip (U+2581 mapped to space);
 *   6     GGUF bytes: tokenizer and chat template loaded from the metadata,
 *         then a fixed text encoded and decoded;
 *   7     chat template text: recognised, then a conversation rendered.
 * Flag bits come from the second byte. Any violated invariant aborts. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "chat.h"
#include "gguf.h"
#include "tok.h"

#define CHECK(c)                                                                   \
	do {                                                                       \
		if (!(c)) {                                                        \
			fprintf(stderr, "fuzz_tokenizer: %s:%d: %s\n", __FILE__, __LINE__, #c); \
			abort();                                                   \
		}                                                                  \
	} while (0)

static struct tok *bpe[5], *spm;

/* GPT-2 byte characters as UTF-8. */
static size_t byte_char(int b, char *o)
{
	static int map[256];
	static bool init;
	if (!init) {
		int n = 0;
		for (int i = 0; i < 256; i++) {
			bool self = (i >= 0x21 && i <= 0x7E) || (i >= 0xA1 && i <= 0xAC) || i >= 0xAE;
			map[i] = self ? i : 256 + n++;
		}
		init = true;
	}
	int cp = map[b];
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	o[0] = (char)(0xC0 | cp >> 6);
	o[1] = (char)(0x80 | (cp & 0x3F));
	return 2;
}

/* 256 byte tokens, a few merges over "the", "ing", " a", "12", specials. */
static struct tok *make_bpe(enum tok_pre pre)
{
	static char store[256][3];
	static const char *const extra[] = { "th", "the", "in", "ing", "\xc4\xa0\x61", "12",
					     "\xc4\xa0\x74he", "<|eot|>", "<x>" };
	static const char *const merges[] = { "t h", "th e", "i n", "in g", "\xc4\xa0 a", "1 2",
					      "\xc4\xa0 the" };
	const char *texts[256 + 9];
	size_t lens[256 + 9], mlens[7];
	int32_t types[256 + 9];
	for (int b = 0; b < 256; b++) {
		lens[b] = byte_char(b, store[b]);
		texts[b] = store[b];
		types[b] = 1;
	}
	for (int i = 0; i < 9; i++) {
		texts[256 + i] = extra[i];
		lens[256 + i] = strlen(extra[i]);
		types[256 + i] = i == 7 ? 3 : i == 8 ? 4 : 1;
	}
	for (int i = 0; i < 7; i++)
		mlens[i] = strlen(merges[i]);
	struct tok_vocab_desc d = {
		.kind = TOK_KIND_BPE, .pre = pre, .n_tokens = 265, .texts = texts, .lens = lens,
		.types = types, .n_merges = 7, .merges = merges, .merge_lens = mlens,
		.bos = TOK_NULL, .eos = 263, .unk = TOK_NULL, .pad = TOK_NULL, .eot = TOK_NULL,
		.eom = TOK_NULL, .ignore_merges = pre == TOK_PRE_LLAMA3,
	};
	char err[128];
	struct tok *t = tok_new(&d, err, sizeof(err));
	CHECK(t);
	return t;
}

static struct tok *make_spm(void)
{
	static char store[256][7];
	static const char *const extra[] = { "<unk>", "<s>", "</s>", "\xe2\x96\x81", "\xe2\x96\x81\x61",
					     "he", "\xe2\x96\x81\x74he", "th", "\xe2\x96\x81\xe2\x96\x81" };
	const char *texts[256 + 9];
	size_t lens[256 + 9];
	float scores[256 + 9];
	int32_t types[256 + 9];
	for (int i = 0; i < 9; i++) {
		texts[i] = extra[i];
		lens[i] = strlen(extra[i]);
		scores[i] = (float)-i;
		types[i] = i == 0 ? 2 : i < 3 ? 3 : 1;
	}
	for (int b = 0; b < 256; b++) {
		snprintf(store[b], sizeof(store[b]), "<0x%02X>", b);
		texts[9 + b] = store[b];
		lens[9 + b] = 6;
		scores[9 + b] = 0;
		types[9 + b] = 6;
	}
	struct tok_vocab_desc d = {
		.kind = TOK_KIND_SPM, .n_tokens = 265, .texts = texts, .lens = lens,
		.scores = scores, .types = types, .bos = 1, .eos = 2, .unk = 0, .pad = TOK_NULL,
		.eot = TOK_NULL, .eom = TOK_NULL, .add_bos = true, .add_space_prefix = true,
	};
	char err[128];
	struct tok *t = tok_new(&d, err, sizeof(err));
	CHECK(t);
	return t;
}

struct cat {
	const uint8_t *src;
	size_t off, len;
};

static int concat(void *arg, const char *w, size_t len)
{
	struct cat *c = arg;
	CHECK(len > 0);
	CHECK(c->off + len <= c->len);
	CHECK(memcmp(c->src + c->off, w, len) == 0);
	c->off += len;
	return 0;
}

/* Encode and decode s; the decode must equal s, or for SentencePiece s with
 * every U+2581 read as a space (its escape of the space). */
static void round_trip(const struct tok *t, const uint8_t *s, size_t len, unsigned enc,
		       unsigned dec, bool check, bool spm_space)
{
	size_t cap = tok_encode_bound(len);
	int32_t *ids = malloc(cap * sizeof(*ids));
	char *back = malloc(len + 64), *want = malloc(len + 1);
	size_t wl = 0;
	CHECK(ids && back && want);
	for (size_t i = 0; i < len; i++) {
		if (spm_space && len - i >= 3 && memcmp(s + i, "\xe2\x96\x81", 3) == 0) {
			want[wl++] = ' ';
			i += 2;
		} else {
			want[wl++] = (char)s[i];
		}
	}
	int64_t n = tok_encode(t, (const char *)s, len, enc, ids, cap);
	CHECK(n >= 0 && (size_t)n <= cap);
	int64_t m = tok_decode(t, ids, (size_t)n, dec, back, len + 64);
	CHECK(m >= 0);
	if (check) {
		CHECK(m == (int64_t)wl);
		CHECK(memcmp(back, want, wl) == 0);
	}
	/* a short buffer is refused cleanly */
	if (n > 0)
		CHECK(tok_encode(t, (const char *)s, len, enc, ids, (size_t)n - 1) == -ENOSPC);
	free(want);
	free(ids);
	free(back);
}

static void fuzz_gguf(const uint8_t *s, size_t len)
{
	char err[256];
	struct gguf_file *f = gguf_open_mem(s, len, err, sizeof(err));
	if (!f)
		return;
	struct tok *t = tok_from_gguf(f, err, sizeof(err));
	if (t) {
		struct chat_tmpl ct;
		int32_t ids[256];
		char out[1024];
		static const char text[] = "Hello <|im_start|> world 123 \xc3\xa9\xff";
		int64_t n = tok_encode(t, text, sizeof(text) - 1,
				       TOK_ENC_ADD_SPECIAL | TOK_ENC_PARSE_SPECIAL, ids, 256);
		CHECK(n >= 0 || n == -EILSEQ);
		if (n > 0)
			CHECK(tok_decode(t, ids, (size_t)n, TOK_DEC_SPECIAL, out, sizeof(out)) >= 0);
		if (chat_tmpl_from_gguf(&ct, f, t) == 0) {
			const struct chat_msg m = { CHAT_ROLE_USER, "hi", 2 };
			CHECK(chat_render(&ct, &m, 1, true, out, sizeof(out)) > 0);
		}
		tok_free(t);
	}
	gguf_close(f);
}

static void fuzz_chat(const uint8_t *s, size_t len)
{
	struct chat_tmpl ct;
	if (chat_tmpl_init(&ct, (const char *)s, len, "<s>", 3, "</s>", 4) != 0)
		return;
	const struct chat_msg msgs[] = {
		{ CHAT_ROLE_SYSTEM, " sys ", 5 }, { CHAT_ROLE_USER, "hello", 5 },
		{ CHAT_ROLE_ASSISTANT, "\n", 1 },
	};
	char out[4096];
	int64_t n = chat_render(&ct, msgs, 3, true, out, sizeof(out));
	CHECK(n > 0);
	CHECK(chat_render(&ct, msgs, 3, true, out, (size_t)n) == n);
	CHECK(chat_render(&ct, msgs, 3, true, out, (size_t)n - 1) == -ENOSPC);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	uint8_t mode = data[0] & 7, fl = data[1];
	const uint8_t *s = data + 2;
	size_t len = size - 2;
	unsigned enc = (fl & 1 ? TOK_ENC_ADD_SPECIAL : 0) | (fl & 2 ? TOK_ENC_PARSE_SPECIAL : 0);

	if (mode <= 4) {
		enum tok_pre pre = (enum tok_pre)(TOK_PRE_DEFAULT + mode);
		if (!bpe[mode])
			bpe[mode] = make_bpe(pre);
		struct cat c = { s, 0, len };
		CHECK(tok_pretokenize(pre, (const char *)s, len, concat, &c) == 0);
		CHECK(c.off == len);
		/* EOS added by ADD_SPECIAL is not in the input: decode specials
		 * only when parsed, and never add them here. */
		round_trip(bpe[mode], s, len, enc & TOK_ENC_PARSE_SPECIAL,
			   enc & TOK_ENC_PARSE_SPECIAL ? TOK_DEC_SPECIAL : 0, true, false);
	} else if (mode == 5) {
		if (!spm)
			spm = make_spm();
		/* with BOS, the dummy prefix is dropped again on decode; parsed
		 * specials add prefixes mid-text, so only the size is checked */
		round_trip(spm, s, len, enc | TOK_ENC_ADD_SPECIAL, 0,
			   !(enc & TOK_ENC_PARSE_SPECIAL), true);
	} else if (mode == 6) {
		fuzz_gguf(s, len);
	} else {
		fuzz_chat(s, len);
	}
	return 0;
}
