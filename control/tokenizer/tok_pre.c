/* Pre-tokenizers of byte-level BPE: hand-written scanners equivalent to the
 * regular expressions llama.cpp applies for each `tokenizer.ggml.pre` value
 * (llama.cpp src/llama-vocab.cpp, src/unicode.cpp), no regex engine.
 *
 * A pre-tokenizer is a chain of passes. Each pass splits every piece the
 * previous pass produced; pieces a pattern does not match are kept as pieces
 * of their own (llama.cpp's unicode_regex_split semantics), and a pass sees
 * its piece in isolation (look-ahead stops at the piece's end).
 *
 * Text is scanned as UTF-8 in place. A byte that does not start a valid
 * sequence is taken as a one-byte character of no category (llama.cpp turns it
 * into U+FFFD and loses it; here its byte survives to the byte-level BPE). */
#include <errno.h>
#include <string.h>

#include "tok-internal.h"
#include "tok.h"

/* A character at a position of the piece being scanned. */
struct cpi {
	uint32_t cp;	/* code point, or CP_NONE past the end of the piece */
	uint32_t len;	/* bytes, 0 past the end */
	uint32_t fl;	/* TOK_UNI_* | F_IN; 0 past the end */
};

#define CP_NONE 0xFFFFFFFFu
#define F_IN 16u /* inside the piece: "as_uint() != 0" in llama.cpp's scanners */

uint32_t tok_uni_flags(uint32_t cp)
{
	if (cp < 128)
		return tok_uni_ascii[cp];
	size_t lo = 0, hi = tok_uni_n_ranges;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (cp < tok_uni_ranges[mid].lo)
			hi = mid;
		else if (cp > tok_uni_ranges[mid].hi)
			lo = mid + 1;
		else
			return tok_uni_ranges[mid].flags;
	}
	return 0;
}

/* Decode the character at s[pos] of a piece ending at end. */
static struct cpi at(const uint8_t *s, size_t pos, size_t end)
{
	struct cpi c = { CP_NONE, 0, 0 };
	if (pos >= end)
		return c;
	uint8_t b = s[pos];
	uint32_t cp, n;
	if (b < 0x80) {
		cp = b;
		n = 1;
	} else if ((b & 0xE0) == 0xC0) {
		cp = b & 0x1F;
		n = 2;
	} else if ((b & 0xF0) == 0xE0) {
		cp = b & 0x0F;
		n = 3;
	} else if ((b & 0xF8) == 0xF0) {
		cp = b & 0x07;
		n = 4;
	} else {
		goto invalid;
	}
	if (n > end - pos)
		goto invalid;
	for (uint32_t i = 1; i < n; i++) {
		if ((s[pos + i] & 0xC0) != 0x80)
			goto invalid;
		cp = cp << 6 | (s[pos + i] & 0x3F);
	}
	if (cp > 0x10FFFF)
		goto invalid;
	c.cp = cp;
	c.len = n;
	c.fl = tok_uni_flags(cp) | F_IN;
	return c;
invalid:
	c.cp = 0xFFFD;
	c.len = 1;
	c.fl = F_IN;
	return c;
}

enum pre_pass {
	PASS_GPT2 = 0,	     /* 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+ */
	PASS_LLAMA3 = 1,     /* (?i:'s|..)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+ */
	PASS_QWEN2 = 2,	     /* as LLAMA3 with \p{N} (one digit) */
	PASS_PUNCT_RUN = 3,  /* [\p{P}\$\+<=>\^~\|]+ */
	PASS_NUM_RUN = 4,    /* \p{N}+ */
	PASS_NUM_ONE = 5,    /* \p{N} */
	PASS_DIGIT3 = 6,     /* [0-9][0-9][0-9] */
};

struct pre_ctx {
	const uint8_t *s;
	const uint8_t *passes; /* enum pre_pass */
	size_t n_passes;
	tok_word_fn fn;
	void *arg;
};

static int run_pass(const struct pre_ctx *c, size_t k, size_t ini, size_t end);

/* Hand s[a..b) to the next pass, or to the caller after the last one. */
static int emit(const struct pre_ctx *c, size_t k, size_t a, size_t b)
{
	if (b <= a)
		return 0;
	if (k + 1 == c->n_passes)
		return c->fn(c->arg, (const char *)c->s + a, b - a);
	return run_pass(c, k + 1, a, b);
}

static uint32_t lower_ascii(uint32_t cp)
{
	return cp >= 'A' && cp <= 'Z' ? cp + 32 : cp;
}

/* Length in bytes of a contraction ('s 't 're 've 'm 'll 'd) at pos, 0 if
 * none. The apostrophe and the letters are ASCII, one byte each. */
static size_t contraction(const uint8_t *s, size_t pos, size_t end, bool icase)
{
	if (s[pos] != '\'' || pos + 1 >= end)
		return 0;
	uint32_t a = s[pos + 1];
	if (icase)
		a = lower_ascii(a);
	if (a == 's' || a == 't' || a == 'm' || a == 'd')
		return 2;
	if (pos + 2 >= end)
		return 0;
	uint32_t b = s[pos + 2];
	if (icase)
		b = lower_ascii(b);
	if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l'))
		return 3;
	return 0;
}

#define WLN (TOK_UNI_SPACE | TOK_UNI_LETTER | TOK_UNI_NUMBER)

/* GPT-2's pattern, as llama.cpp's unicode_regex_split_custom_gpt2. */
static int pass_gpt2(const struct pre_ctx *c, size_t k, size_t ini, size_t end)
{
	const uint8_t *s = c->s;
	size_t prev = ini, pos = ini;
	int rc;

	while (pos < end) {
		struct cpi cur = at(s, pos, end);
		size_t n = contraction(s, pos, end, false);
		if (n) {
			pos += n;
			goto token;
		}
		bool sp = cur.cp == ' ';
		struct cpi f2 = sp ? at(s, pos + 1, end) : cur;
		if (f2.fl & (TOK_UNI_LETTER | TOK_UNI_NUMBER)) {
			/* <space>?\p{L}+ and <space>?\p{N}+ */
			uint32_t want = f2.fl & TOK_UNI_LETTER ? TOK_UNI_LETTER : TOK_UNI_NUMBER;
			pos += sp;
			for (struct cpi x = at(s, pos, end); x.fl & want; x = at(s, pos, end))
				pos += x.len;
			goto token;
		}
		if (!(f2.fl & WLN) && f2.fl) {
			/* <space>?[^\s\p{L}\p{N}]+ */
			pos += sp;
			for (struct cpi x = at(s, pos, end); !(x.fl & WLN) && x.fl; x = at(s, pos, end))
				pos += x.len;
			goto token;
		}
		/* \s+(?!\S) then \s+: a run of spaces followed by more text leaves its
		 * last space to the next token. */
		size_t nws = 0, last = pos, p = pos;
		for (struct cpi x = at(s, p, end); x.fl & TOK_UNI_SPACE; x = at(s, p, end)) {
			last = p;
			p += x.len;
			nws++;
		}
		if (nws > 1 && p < end) {
			pos = last;
			goto token;
		}
		if (nws > 0) {
			pos = p;
			goto token;
		}
		pos += cur.len; /* no pattern matches: one character alone */
token:
		rc = emit(c, k, prev, pos);
		if (rc < 0)
			return rc;
		prev = pos;
	}
	return 0;
}

/* Llama 3's pattern (max_digits 3) and Qwen2's (max_digits 1), as llama.cpp's
 * unicode_regex_split_custom_llama3. */
static int pass_llama3(const struct pre_ctx *c, size_t k, size_t ini, size_t end,
		       unsigned max_digits)
{
	const uint8_t *s = c->s;
	size_t prev = ini, pos = ini;
	int rc;

	while (pos < end) {
		struct cpi cur = at(s, pos, end);
		size_t n = contraction(s, pos, end, true);
		if (n) {
			pos += n;
			goto token;
		}
		/* [^\r\n\p{L}\p{N}]?\p{L}+ */
		if (!(cur.cp == '\r' || cur.cp == '\n' || (cur.fl & TOK_UNI_NUMBER))) {
			if ((cur.fl & TOK_UNI_LETTER) ||
			    (at(s, pos + cur.len, end).fl & TOK_UNI_LETTER)) {
				pos += cur.len;
				for (struct cpi x = at(s, pos, end); x.fl & TOK_UNI_LETTER;
				     x = at(s, pos, end))
					pos += x.len;
				goto token;
			}
		}
		/* \p{N}{1,max_digits} */
		if (cur.fl & TOK_UNI_NUMBER) {
			unsigned nd = 0;
			for (struct cpi x = cur; x.fl & TOK_UNI_NUMBER; x = at(s, pos, end)) {
				pos += x.len;
				if (++nd == max_digits) {
					rc = emit(c, k, prev, pos);
					if (rc < 0)
						return rc;
					prev = pos;
					nd = 0;
				}
			}
			goto token;
		}
		/* <space>?[^\s\p{L}\p{N}]+[\r\n]* */
		bool sp = cur.cp == ' ';
		struct cpi f2 = sp ? at(s, pos + 1, end) : cur;
		if (!(f2.fl & WLN) && cur.fl) {
			pos += sp;
			for (struct cpi x = at(s, pos, end); !(x.fl & WLN) && x.fl; x = at(s, pos, end))
				pos += x.len;
			while (pos < end && (s[pos] == '\r' || s[pos] == '\n'))
				pos++;
			goto token;
		}
		/* \s*[\r\n]+ then \s+(?!\S) then \s+ */
		size_t nws = 0, last = pos, p = pos, last_rn = 0;
		for (struct cpi x = at(s, p, end); x.fl & TOK_UNI_SPACE; x = at(s, p, end)) {
			last = p;
			p += x.len;
			if (x.cp == '\r' || x.cp == '\n')
				last_rn = p;
			nws++;
		}
		if (last_rn > 0) {
			pos = last_rn;
			goto token;
		}
		if (nws > 1 && p < end) {
			pos = last;
			goto token;
		}
		if (nws > 0) {
			pos = p;
			goto token;
		}
		pos += cur.len;
token:
		rc = emit(c, k, prev, pos);
		if (rc < 0)
			return rc;
		prev = pos;
	}
	return 0;
}

static bool is_punct_run(struct cpi x)
{
	if (x.fl & TOK_UNI_PUNCT)
		return true;
	return x.cp == '$' || x.cp == '+' || x.cp == '<' || x.cp == '=' || x.cp == '>' ||
	       x.cp == '^' || x.cp == '~' || x.cp == '|';
}

/* Class runs: [\p{P}$+<=>^~|]+, \p{N}+ and \p{N}. Matches and the gaps
 * between them become pieces. */
static int pass_class(const struct pre_ctx *c, size_t k, size_t ini, size_t end,
		      enum pre_pass which)
{
	const uint8_t *s = c->s;
	size_t prev = ini, pos = ini;
	int rc;

	while (pos < end) {
		struct cpi x = at(s, pos, end);
		bool in = which == PASS_PUNCT_RUN ? is_punct_run(x) : (x.fl & TOK_UNI_NUMBER) != 0;
		if (!in) {
			pos += x.len;
			continue;
		}
		rc = emit(c, k, prev, pos); /* the gap before the match */
		if (rc < 0)
			return rc;
		size_t m = pos;
		pos += x.len;
		if (which != PASS_NUM_ONE) {
			for (x = at(s, pos, end);
			     which == PASS_PUNCT_RUN ? is_punct_run(x) : (x.fl & TOK_UNI_NUMBER) != 0;
			     x = at(s, pos, end))
				pos += x.len;
		}
		rc = emit(c, k, m, pos);
		if (rc < 0)
			return rc;
		prev = pos;
	}
	return emit(c, k, prev, end);
}

/* [0-9][0-9][0-9]: leftmost groups of exactly three ASCII digits. */
static int pass_digit3(const struct pre_ctx *c, size_t k, size_t ini, size_t end)
{
	const uint8_t *s = c->s;
	size_t prev = ini, pos = ini;
	int rc;

#define DIG(i) (s[i] >= '0' && s[i] <= '9')
	while (pos + 3 <= end) {
		if (!(DIG(pos) && DIG(pos + 1) && DIG(pos + 2))) {
			pos++;
			continue;
		}
		rc = emit(c, k, prev, pos);
		if (rc < 0)
			return rc;
		rc = emit(c, k, pos, pos + 3);
		if (rc < 0)
			return rc;
		pos += 3;
		prev = pos;
	}
#undef DIG
	return emit(c, k, prev, end);
}

static int run_pass(const struct pre_ctx *c, size_t k, size_t ini, size_t end)
{
	switch ((enum pre_pass)c->passes[k]) {
	case PASS_GPT2:
		return pass_gpt2(c, k, ini, end);
	case PASS_LLAMA3:
		return pass_llama3(c, k, ini, end, 3);
	case PASS_QWEN2:
		return pass_llama3(c, k, ini, end, 1);
	case PASS_PUNCT_RUN:
	case PASS_NUM_RUN:
	case PASS_NUM_ONE:
		return pass_class(c, k, ini, end, (enum pre_pass)c->passes[k]);
	case PASS_DIGIT3:
		return pass_digit3(c, k, ini, end);
	}
	return -EINVAL;
}

int tok_pretokenize(enum tok_pre pre, const char *text, size_t len, tok_word_fn fn, void *arg)
{
	/* llama.cpp's regex lists per pre-tokenizer (llm_tokenizer_bpe). */
	static const uint8_t p_default[] = { PASS_PUNCT_RUN, PASS_GPT2, PASS_NUM_RUN, PASS_DIGIT3 };
	static const uint8_t p_gpt2[] = { PASS_GPT2 };
	static const uint8_t p_llama3[] = { PASS_LLAMA3 };
	static const uint8_t p_qwen2[] = { PASS_QWEN2 };
	static const uint8_t p_smollm[] = { PASS_NUM_ONE, PASS_GPT2 };
	struct pre_ctx c = { .s = (const uint8_t *)text, .fn = fn, .arg = arg };

	switch (pre) {
	case TOK_PRE_NONE:
		return len ? fn(arg, text, len) : 0;
	case TOK_PRE_DEFAULT:
		c.passes = p_default;
		c.n_passes = sizeof(p_default);
		break;
	case TOK_PRE_GPT2:
		c.passes = p_gpt2;
		c.n_passes = sizeof(p_gpt2);
		break;
	case TOK_PRE_LLAMA3:
		c.passes = p_llama3;
		c.n_passes = sizeof(p_llama3);
		break;
	case TOK_PRE_QWEN2:
		c.passes = p_qwen2;
		c.n_passes = sizeof(p_qwen2);
		break;
	case TOK_PRE_SMOLLM:
		c.passes = p_smollm;
		c.n_passes = sizeof(p_smollm);
		break;
	default:
		return -EINVAL;
	}
	if (len == 0)
		return 0;
	return run_pass(&c, 0, 0, len);
}

bool tok_pre_from_name(const char *name, size_t len, enum tok_pre *out)
{
	static const struct {
		const char *name;
		enum tok_pre pre;
	} names[] = {
		{ "default", TOK_PRE_DEFAULT },	   { "gpt-2", TOK_PRE_GPT2 },
		{ "gpt2", TOK_PRE_GPT2 },	   { "phi-2", TOK_PRE_GPT2 },
		{ "mpt", TOK_PRE_GPT2 },	   { "olmo", TOK_PRE_GPT2 },
		{ "jais", TOK_PRE_GPT2 },	   { "llama3", TOK_PRE_LLAMA3 },
		{ "llama-v3", TOK_PRE_LLAMA3 },	   { "llama-bpe", TOK_PRE_LLAMA3 },
		{ "dbrx", TOK_PRE_LLAMA3 },	   { "smaug-bpe", TOK_PRE_LLAMA3 },
		{ "qwen2", TOK_PRE_QWEN2 },	   { "deepseek-r1-qwen", TOK_PRE_QWEN2 },
		{ "stablelm2", TOK_PRE_QWEN2 },	   { "smollm", TOK_PRE_SMOLLM },
		{ "starcoder", TOK_PRE_SMOLLM },   { "refact", TOK_PRE_SMOLLM },
		{ "command-r", TOK_PRE_SMOLLM },   { "codeshell", TOK_PRE_SMOLLM },
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strlen(names[i].name) == len && memcmp(names[i].name, name, len) == 0) {
			*out = names[i].pre;
			return true;
		}
	}
	return false;
}
