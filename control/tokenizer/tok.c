/* Tokenizer construction (from GGUF metadata or an in-memory description),
 * vocabulary lookup, special-token partitioning of the input, decode.
 *
 * Follows llama.cpp's llama-vocab.cpp semantics (the reference every GGUF
 * model is converted and tested against), with these documented differences:
 * - special tokens are matched leftmost-longest in one pass; llama.cpp
 *   partitions longest-token-first over the whole text. The two differ only
 *   when occurrences of two special texts overlap each other;
 * - invalid UTF-8 is kept byte for byte (llama.cpp's BPE turns it into U+FFFD);
 * - BPE merge rules whose sides or result are not vocabulary tokens are
 *   dropped at load (they can never produce a token).
 * Control plane: allocation happens at load and per encode call only. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "gguf.h"
#include "tok-internal.h"
#include "tok.h"

#define SPACE_ESC "\xE2\x96\x81" /* U+2581, SentencePiece's space */

#ifdef TOK_FAULT_INJECTION
long tok_fault_at = -1;
long tok_fault_count;

static bool fault(void)
{
	return tok_fault_count++ == tok_fault_at;
}

void *tok_malloc(size_t n)
{
	return fault() ? NULL : malloc(n);
}

void *tok_calloc(size_t n, size_t size)
{
	return fault() ? NULL : calloc(n, size);
}

void *tok_realloc(void *p, size_t n)
{
	return fault() ? NULL : realloc(p, n);
}
#endif

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || errlen == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

int tok_grow(void **p, size_t *cap, size_t n, size_t esz)
{
	if (n <= *cap)
		return 0;
	size_t nc = *cap ? *cap : 64;
	while (nc < n)
		nc *= 2;
	if (nc > SIZE_MAX / esz)
		return -ENOMEM;
	void *q = tok_realloc(*p, nc * esz);
	if (!q)
		return -ENOMEM;
	*p = q;
	*cap = nc;
	return 0;
}

void tok_scratch_free(struct tok_scratch *sc)
{
	free(sc->sym);
	free(sc->heap);
	free(sc->buf);
	memset(sc, 0, sizeof(*sc));
}

static uint32_t hash_text(const char *s, size_t len)
{
	return (uint32_t)XXH3_64bits(s, len);
}

int32_t tok_lookup(const struct tok *t, const char *s, size_t len)
{
	for (uint32_t i = hash_text(s, len) & t->slot_mask;; i = (i + 1) & t->slot_mask) {
		int32_t id = t->slot[i];
		if (id == TOK_NULL)
			return TOK_NULL;
		if (t->len[id] == len && memcmp(t->arena + t->off[id], s, len) == 0)
			return id;
	}
}

/* Insert id under its text; a later duplicate text replaces the earlier id
 * (llama.cpp's token_to_id map does the same). */
static void hash_insert(struct tok *t, int32_t id)
{
	const char *s = t->arena + t->off[id];
	uint32_t len = t->len[id];
	for (uint32_t i = hash_text(s, len) & t->slot_mask;; i = (i + 1) & t->slot_mask) {
		int32_t cur = t->slot[i];
		if (cur == TOK_NULL ||
		    (t->len[cur] == len && memcmp(t->arena + t->off[cur], s, len) == 0)) {
			t->slot[i] = id;
			return;
		}
	}
}

static uint32_t pow2_at_least(uint64_t n)
{
	uint32_t p = 16;
	while (p < n)
		p *= 2;
	return p;
}

/* GPT-2's byte ↔ printable-character table: printable Latin-1 bytes stand for
 * themselves, the other 68 bytes for U+0100 onwards in byte order. */
static void build_byte_map(struct tok *t)
{
	uint32_t n = 0;
	for (int i = 0; i < 324; i++)
		t->cp_byte[i] = -1;
	for (int b = 0; b < 256; b++) {
		bool self = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
		uint16_t cp = self ? (uint16_t)b : (uint16_t)(256 + n++);
		t->byte_cp[b] = cp;
		t->cp_byte[cp] = (int16_t)b;
	}
}

static size_t utf8_put(char *o, uint32_t cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	o[0] = (char)(0xC0 | cp >> 6);
	o[1] = (char)(0x80 | (cp & 0x3F));
	return 2; /* the byte map only uses code points < 0x800 */
}

static bool parse_byte_token(const char *s, size_t len, uint8_t *out)
{
	static const char hex[] = "0123456789ABCDEF";
	if (len != 6 || memcmp(s, "<0x", 3) != 0 || s[5] != '>')
		return false;
	const char *h = strchr(hex, s[3]), *l = strchr(hex, s[4]);
	if (!h || !l || !s[3] || !s[4])
		return false;
	*out = (uint8_t)((h - hex) << 4 | (l - hex));
	return true;
}

static bool is_eog_text(const char *s, size_t len)
{
	static const char *const names[] = {
		"<|eot_id|>", "<|im_end|>",    "<|end|>", "<end_of_turn>", "<|endoftext|>",
		"<|eom_id|>", "<|end_of_text|>", "<EOT>",
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i]) == len && memcmp(names[i], s, len) == 0)
			return true;
	return false;
}

static void add_eog(struct tok *t, int32_t id)
{
	if (id == TOK_NULL)
		return;
	for (uint32_t i = 0; i < t->n_eog; i++)
		if (t->eog[i] == id)
			return;
	if (t->n_eog < TOK_MAX_EOG)
		t->eog[t->n_eog++] = id;
}

static int cmp_special(const void *a, const void *b)
{
	const struct tok_special *x = a, *y = b;
	if (x->first != y->first)
		return x->first < y->first ? -1 : 1;
	if (x->len != y->len)
		return x->len > y->len ? -1 : 1; /* longest first */
	return x->id < y->id ? -1 : x->id > y->id;
}

static int32_t check_id(int32_t id, uint32_t n)
{
	return id >= 0 && (uint32_t)id < n ? id : TOK_NULL;
}

/* Build the merge table from "left right" rules. */
static int build_merges(struct tok *t, const struct tok_vocab_desc *d, char *err, size_t errlen)
{
	if (d->n_merges == 0)
		return 0;
	t->merge_mask = pow2_at_least(2ull * d->n_merges) - 1;
	t->merge = tok_malloc(((size_t)t->merge_mask + 1) * sizeof(*t->merge));
	if (!t->merge) {
		set_err(err, errlen, "out of memory for %u merges", d->n_merges);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i <= t->merge_mask; i++)
		t->merge[i].key = UINT64_MAX;
	for (uint32_t r = 0; r < d->n_merges; r++) {
		const char *m = d->merges[r];
		size_t ml = d->merge_lens[r];
		const char *sp = ml > 1 ? memchr(m + 1, ' ', ml - 1) : NULL;
		if (!sp) {
			set_err(err, errlen, "merge %u has no space separator", r);
			return -EINVAL;
		}
		size_t ll = (size_t)(sp - m), rl = ml - ll - 1;
		int32_t l = tok_lookup(t, m, ll), rr = tok_lookup(t, sp + 1, rl);
		if (l == TOK_NULL || rr == TOK_NULL || ll + rl > TOK_MAX_TOKEN_LEN)
			continue;
		char cat[2 * TOK_MAX_TOKEN_LEN];
		memcpy(cat, m, ll);
		memcpy(cat + ll, sp + 1, rl);
		int32_t res = tok_lookup(t, cat, ll + rl);
		if (res == TOK_NULL)
			continue;
		uint64_t key = (uint64_t)(uint32_t)l << 32 | (uint32_t)rr;
		uint64_t hk = key * 0x9E3779B97F4A7C15ull;
		for (uint32_t i = (uint32_t)(hk >> 32) & t->merge_mask;;
		     i = (i + 1) & t->merge_mask) {
			if (t->merge[i].key == key)
				break; /* the first (lowest) rank of a pair wins */
			if (t->merge[i].key == UINT64_MAX) {
				t->merge[i].key = key;
				t->merge[i].rank = r;
				t->merge[i].result = res;
				t->n_merges++;
				break;
			}
		}
	}
	return 0;
}

struct tok *tok_new(const struct tok_vocab_desc *d, char *err, size_t errlen)
{
	struct tok *t = NULL;
	uint32_t n = d->n_tokens;
	size_t total = 0;

	if (d->kind != TOK_KIND_SPM && d->kind != TOK_KIND_BPE) {
		set_err(err, errlen, "unknown tokenizer kind %d", (int)d->kind);
		goto free_tok;
	}
	if (d->kind == TOK_KIND_BPE && (d->pre == TOK_PRE_NONE || d->pre > TOK_PRE_SMOLLM)) {
		set_err(err, errlen, "byte-level BPE needs a pre-tokenizer");
		goto free_tok;
	}
	if (n == 0 || n > TOK_MAX_VOCAB) {
		set_err(err, errlen, "vocabulary size %u out of range 1..%u", n, TOK_MAX_VOCAB);
		goto free_tok;
	}
	if (d->n_merges > TOK_MAX_MERGES) {
		set_err(err, errlen, "%u merges, more than %u", d->n_merges, TOK_MAX_MERGES);
		goto free_tok;
	}
	if (!d->texts || !d->lens || (d->n_merges && (!d->merges || !d->merge_lens))) {
		set_err(err, errlen, "vocabulary description without token texts or merges");
		goto free_tok;
	}
	for (uint32_t i = 0; i < n; i++) {
		if (d->lens[i] && !d->texts[i]) {
			set_err(err, errlen, "token %u has no text", i);
			goto free_tok;
		}
		if (d->lens[i] > TOK_MAX_TOKEN_LEN) {
			set_err(err, errlen, "token %u is %zu bytes, more than %u", i, d->lens[i],
				TOK_MAX_TOKEN_LEN);
			goto free_tok;
		}
		if (d->types && (d->types[i] < TOK_TYPE_UNDEFINED || d->types[i] > TOK_TYPE_BYTE)) {
			set_err(err, errlen, "token %u has unknown type %d", i, (int)d->types[i]);
			goto free_tok;
		}
		total += d->lens[i] + 1;
	}

	t = tok_calloc(1, sizeof(*t));
	if (!t)
		goto nomem;
	t->kind = d->kind;
	t->pre = d->kind == TOK_KIND_SPM ? TOK_PRE_NONE : d->pre;
	t->n_vocab = n;
	t->arena = tok_malloc(total);
	t->off = tok_malloc(n * sizeof(*t->off));
	t->len = tok_malloc(n * sizeof(*t->len));
	t->score = tok_malloc(n * sizeof(*t->score));
	t->type = tok_malloc(n);
	t->slot_mask = pow2_at_least(2ull * n) - 1;
	t->slot = tok_malloc(((size_t)t->slot_mask + 1) * sizeof(*t->slot));
	if (!t->arena || !t->off || !t->len || !t->score || !t->type || !t->slot)
		goto nomem;

	t->bos = check_id(d->bos, n);
	t->eos = check_id(d->eos, n);
	t->unk = check_id(d->unk, n);
	t->pad = check_id(d->pad, n);
	t->add_bos = d->add_bos;
	t->add_eos = d->add_eos;
	t->add_space_prefix = d->kind == TOK_KIND_SPM && d->add_space_prefix;
	t->ignore_merges = d->kind == TOK_KIND_BPE && d->ignore_merges;
	if ((t->add_bos && t->bos == TOK_NULL) || (t->add_eos && t->eos == TOK_NULL)) {
		set_err(err, errlen, "add_%s_token is set but the vocabulary has no such id",
			t->add_bos && t->bos == TOK_NULL ? "bos" : "eos");
		goto free_tok;
	}

	size_t at = 0;
	for (uint32_t i = 0; i < n; i++) {
		if (d->lens[i])
			memcpy(t->arena + at, d->texts[i], d->lens[i]);
		t->arena[at + d->lens[i]] = '\0';
		t->off[i] = (uint32_t)at;
		t->len[i] = (uint32_t)d->lens[i];
		at += d->lens[i] + 1;
		t->score[i] = d->scores ? d->scores[i] : 0.0f;
		uint8_t b;
		if (d->types)
			t->type[i] = (uint8_t)d->types[i];
		else if ((int32_t)i == t->bos || (int32_t)i == t->eos)
			t->type[i] = TOK_TYPE_CONTROL;
		else if ((int32_t)i == t->unk)
			t->type[i] = TOK_TYPE_UNKNOWN;
		else if (d->kind == TOK_KIND_SPM && parse_byte_token(d->texts[i], d->lens[i], &b))
			t->type[i] = TOK_TYPE_BYTE;
		else
			t->type[i] = TOK_TYPE_NORMAL;
	}
	for (uint32_t i = 0; i <= t->slot_mask; i++)
		t->slot[i] = TOK_NULL;
	for (uint32_t i = 0; i < n; i++)
		if (t->len[i] > 0)
			hash_insert(t, (int32_t)i);

	build_byte_map(t);
	for (int b = 0; b < 256; b++) {
		char s[8];
		size_t sl;
		int32_t id;
		if (d->kind == TOK_KIND_SPM) {
			sl = (size_t)snprintf(s, sizeof(s), "<0x%02X>", b);
			id = tok_lookup(t, s, sl);
			if (id == TOK_NULL) {
				s[0] = (char)b;
				id = tok_lookup(t, s, 1);
			}
		} else {
			sl = utf8_put(s, t->byte_cp[b]);
			id = tok_lookup(t, s, sl);
		}
		t->byte_tok[b] = id;
	}

	if (d->kind == TOK_KIND_BPE && build_merges(t, d, err, errlen) < 0)
		goto free_tok;

	/* SPM chunking is exact when no token has U+2581 after another
	 * character (see tok_spm.c). */
	t->spm_chunk_ok = d->kind == TOK_KIND_SPM;
	for (uint32_t i = 0; i < n && t->spm_chunk_ok; i++) {
		const char *s = t->arena + t->off[i];
		for (uint32_t j = 1; j + 3 <= t->len[i]; j++) {
			if (memcmp(s + j, SPACE_ESC, 3) == 0 && !(j >= 3 && memcmp(s + j - 3, SPACE_ESC, 3) == 0)) {
				t->spm_chunk_ok = false;
				break;
			}
		}
	}

	/* Specials matched in text. */
	uint32_t ns = 0;
	for (uint32_t i = 0; i < n; i++) {
		uint8_t ty = t->type[i];
		if (t->len[i] > 0 && (ty == TOK_TYPE_CONTROL || ty == TOK_TYPE_USER_DEFINED ||
				      ty == TOK_TYPE_UNKNOWN))
			ns++;
	}
	if (ns) {
		t->spec = tok_malloc(ns * sizeof(*t->spec));
		if (!t->spec)
			goto nomem;
	}
	for (uint32_t i = 0; i < n; i++) {
		uint8_t ty = t->type[i];
		if (t->len[i] > 0 && (ty == TOK_TYPE_CONTROL || ty == TOK_TYPE_USER_DEFINED ||
				      ty == TOK_TYPE_UNKNOWN)) {
			struct tok_special *sp = &t->spec[t->n_spec++];
			sp->id = (int32_t)i;
			sp->len = t->len[i];
			sp->first = (uint8_t)t->arena[t->off[i]];
			sp->type = ty;
		}
	}
	if (t->n_spec)
		qsort(t->spec, t->n_spec, sizeof(*t->spec), cmp_special);
	for (uint32_t b = 0, j = 0; b <= 256; b++) {
		while (j < t->n_spec && t->spec[j].first < b)
			j++;
		t->spec_first[b] = j;
	}

	add_eog(t, t->eos);
	add_eog(t, check_id(d->eot, n));
	add_eog(t, check_id(d->eom, n));
	for (uint32_t i = 0; i < n; i++) {
		uint8_t ty = t->type[i];
		if ((ty == TOK_TYPE_CONTROL || ty == TOK_TYPE_USER_DEFINED) &&
		    is_eog_text(t->arena + t->off[i], t->len[i]))
			add_eog(t, (int32_t)i);
	}
	return t;

nomem:
	set_err(err, errlen, "out of memory for a vocabulary of %u tokens", n);
free_tok:
	tok_free(t);
	return NULL;
}

void tok_free(struct tok *t)
{
	if (!t)
		return;
	free(t->spec);
	free(t->merge);
	free(t->slot);
	free(t->type);
	free(t->score);
	free(t->len);
	free(t->off);
	free(t->arena);
	free(t);
}

/* --- GGUF --------------------------------------------------------------- */

static int32_t gguf_id(const struct gguf_file *f, const char *key)
{
	uint32_t v;
	if (!gguf_get_u32(f, key, &v) || v > INT32_MAX)
		return TOK_NULL;
	return (int32_t)v;
}

/* The id under key; dflt when the key is absent. */
static int32_t gguf_has_id(const struct gguf_file *f, const char *key, int32_t dflt)
{
	return gguf_find_key(f, key) < 0 ? dflt : gguf_id(f, key);
}

static bool gguf_flag(const struct gguf_file *f, const char *key, bool dflt)
{
	bool v;
	return gguf_get_bool(f, key, &v) ? v : dflt;
}

/* The n strings of array key (pointers into the file, not copied) into s[] and len[]. */
static bool gguf_strs(const struct gguf_file *f, const char *key, uint64_t n, const char **s,
		      size_t *len, char *err, size_t errlen)
{
	for (uint64_t i = 0; i < n; i++) {
		if (!gguf_arr_str(f, key, i, &s[i], &len[i])) {
			set_err(err, errlen, "%s[%llu] unreadable", key, (unsigned long long)i);
			return false;
		}
	}
	return true;
}

struct tok *tok_from_gguf(const struct gguf_file *f, char *err, size_t errlen)
{
	struct tok *t = NULL;
	struct tok_vocab_desc d = { 0 };
	const char **texts = NULL, **merges = NULL;
	size_t *lens = NULL, *mlens = NULL;
	float *scores = NULL;
	int32_t *types = NULL;
	const char *s;
	size_t sl;
	enum gguf_type et;
	uint64_t n;

	if (!gguf_get_str(f, "tokenizer.ggml.model", &s, &sl)) {
		set_err(err, errlen, "tokenizer.ggml.model missing or not a string");
		goto free_arrays;
	}
	if (sl == 5 && memcmp(s, "llama", 5) == 0) {
		d.kind = TOK_KIND_SPM;
		d.pre = TOK_PRE_NONE;
	} else if (sl == 4 && memcmp(s, "gpt2", 4) == 0) {
		d.kind = TOK_KIND_BPE;
		d.pre = TOK_PRE_DEFAULT;
		if (gguf_get_str(f, "tokenizer.ggml.pre", &s, &sl) &&
		    !tok_pre_from_name(s, sl, &d.pre)) {
			set_err(err, errlen, "unsupported tokenizer.ggml.pre \"%.*s\"",
				(int)(sl > 64 ? 64 : sl), s);
			goto free_arrays;
		}
	} else {
		set_err(err, errlen, "unsupported tokenizer.ggml.model \"%.*s\"",
			(int)(sl > 64 ? 64 : sl), s);
		goto free_arrays;
	}

	if (!gguf_get_arr(f, "tokenizer.ggml.tokens", &et, &n) || et != GGUF_TYPE_STRING) {
		set_err(err, errlen, "tokenizer.ggml.tokens missing or not an array of strings");
		goto free_arrays;
	}
	if (n == 0 || n > TOK_MAX_VOCAB) {
		set_err(err, errlen, "vocabulary size %llu out of range 1..%u",
			(unsigned long long)n, TOK_MAX_VOCAB);
		goto free_arrays;
	}
	d.n_tokens = (uint32_t)n;
	texts = tok_malloc(n * sizeof(*texts));
	lens = tok_malloc(n * sizeof(*lens));
	if (!texts || !lens)
		goto nomem;
	if (!gguf_strs(f, "tokenizer.ggml.tokens", n, texts, lens, err, errlen))
		goto free_arrays;
	d.texts = texts;
	d.lens = lens;

	if (gguf_get_arr(f, "tokenizer.ggml.scores", &et, &n)) {
		if (et != GGUF_TYPE_FLOAT32 || n != d.n_tokens) {
			set_err(err, errlen, "tokenizer.ggml.scores: want %u FLOAT32, have %llu of type %d",
				d.n_tokens, (unsigned long long)n, (int)et);
			goto free_arrays;
		}
		scores = tok_malloc(n * sizeof(*scores));
		if (!scores)
			goto nomem;
		memcpy(scores, gguf_arr_data(f, "tokenizer.ggml.scores"), n * sizeof(*scores));
		d.scores = scores;
	}
	if (gguf_get_arr(f, "tokenizer.ggml.token_type", &et, &n)) {
		if ((et != GGUF_TYPE_INT32 && et != GGUF_TYPE_UINT32) || n != d.n_tokens) {
			set_err(err, errlen, "tokenizer.ggml.token_type: want %u INT32, have %llu of type %d",
				d.n_tokens, (unsigned long long)n, (int)et);
			goto free_arrays;
		}
		types = tok_malloc(n * sizeof(*types));
		if (!types)
			goto nomem;
		memcpy(types, gguf_arr_data(f, "tokenizer.ggml.token_type"), n * sizeof(*types));
		d.types = types;
	}
	if (d.kind == TOK_KIND_BPE) {
		if (!gguf_get_arr(f, "tokenizer.ggml.merges", &et, &n) || et != GGUF_TYPE_STRING) {
			set_err(err, errlen, "tokenizer.ggml.merges missing or not an array of strings");
			goto free_arrays;
		}
		if (n > TOK_MAX_MERGES) {
			set_err(err, errlen, "%llu merges, more than %u", (unsigned long long)n,
				TOK_MAX_MERGES);
			goto free_arrays;
		}
		d.n_merges = (uint32_t)n;
		merges = tok_malloc((n ? n : 1) * sizeof(*merges));
		mlens = tok_malloc((n ? n : 1) * sizeof(*mlens));
		if (!merges || !mlens)
			goto nomem;
		if (!gguf_strs(f, "tokenizer.ggml.merges", n, merges, mlens, err, errlen))
			goto free_arrays;
		d.merges = merges;
		d.merge_lens = mlens;
	}

	/* SentencePiece's fixed ids when the keys are absent (llama.cpp's
	 * defaults): UNK 0, BOS 1, EOS 2. */
	bool spm = d.kind == TOK_KIND_SPM;
	d.bos = gguf_has_id(f, "tokenizer.ggml.bos_token_id", spm ? 1 : TOK_NULL);
	d.eos = gguf_has_id(f, "tokenizer.ggml.eos_token_id", spm ? 2 : TOK_NULL);
	d.unk = gguf_has_id(f, "tokenizer.ggml.unknown_token_id", spm ? 0 : TOK_NULL);
	d.pad = gguf_id(f, "tokenizer.ggml.padding_token_id");
	d.eot = gguf_id(f, "tokenizer.ggml.eot_token_id");
	d.eom = gguf_id(f, "tokenizer.ggml.eom_token_id");
	/* Defaults when the keys are absent: SentencePiece adds BOS and a space
	 * prefix; byte-level BPE adds BOS only for Llama 3 style vocabularies. */
	d.add_bos = gguf_flag(f, "tokenizer.ggml.add_bos_token",
			      d.kind == TOK_KIND_SPM || d.pre == TOK_PRE_LLAMA3);
	d.add_eos = gguf_flag(f, "tokenizer.ggml.add_eos_token", false);
	d.add_space_prefix = gguf_flag(f, "tokenizer.ggml.add_space_prefix", d.kind == TOK_KIND_SPM);
	d.ignore_merges = d.pre == TOK_PRE_LLAMA3;
	t = tok_new(&d, err, errlen);
	goto free_arrays;

nomem:
	set_err(err, errlen, "out of memory reading the vocabulary");
free_arrays:
	free(mlens);
	free(merges);
	free(types);
	free(scores);
	free(lens);
	free(texts);
	return t;
}

/* --- accessors ---------------------------------------------------------- */

enum tok_kind tok_kind(const struct tok *t) { return t->kind; }
enum tok_pre tok_pre(const struct tok *t) { return t->pre; }
uint32_t tok_n_vocab(const struct tok *t) { return t->n_vocab; }
int32_t tok_bos(const struct tok *t) { return t->bos; }
int32_t tok_eos(const struct tok *t) { return t->eos; }
int32_t tok_unk(const struct tok *t) { return t->unk; }
bool tok_add_bos(const struct tok *t) { return t->add_bos; }

bool tok_is_eog(const struct tok *t, int32_t id)
{
	for (uint32_t i = 0; i < t->n_eog; i++)
		if (t->eog[i] == id)
			return true;
	return false;
}

enum tok_type tok_type(const struct tok *t, int32_t id)
{
	if (id < 0 || (uint32_t)id >= t->n_vocab)
		return TOK_TYPE_UNDEFINED;
	return (enum tok_type)t->type[id];
}

const char *tok_text(const struct tok *t, int32_t id, size_t *len)
{
	if (id < 0 || (uint32_t)id >= t->n_vocab)
		return NULL;
	if (len)
		*len = t->len[id];
	return t->arena + t->off[id];
}

int32_t tok_find(const struct tok *t, const char *s, size_t len)
{
	return tok_lookup(t, s, len);
}

/* --- encode ------------------------------------------------------------- */

size_t tok_encode_bound(size_t len)
{
	/* One id per byte, one dummy-prefix ▁ per raw fragment (at most one
	 * fragment per special, and a special takes at least one byte), BOS, EOS. */
	return 2 * len + 3;
}

/* The special token that may be matched at text[i], or NULL: the first in
 * spec order whose text matches, CONTROL/UNKNOWN only when it ends at or
 * before scaf_end (the first content byte after i; scaf_end == i allows only
 * USER_DEFINED tokens, as without TOK_ENC_PARSE_SPECIAL). */
static const struct tok_special *special_at(const struct tok *t, const char *text, size_t len,
					    size_t i, size_t scaf_end)
{
	uint8_t b = (uint8_t)text[i];

	for (uint32_t j = t->spec_first[b]; j < t->spec_first[b + 1]; j++) {
		const struct tok_special *sp = &t->spec[j];

		if (sp->len > len - i || memcmp(t->arena + t->off[sp->id], text + i, sp->len) != 0)
			continue;
		if (sp->type == TOK_TYPE_USER_DEFINED || sp->len <= scaf_end - i)
			return sp;
	}
	return NULL;
}

/* A raw fragment always starts the text or follows a special token, and
 * SentencePiece gives exactly those the dummy space prefix (llama.cpp's
 * is_prev_special). */
static int encode_raw(const struct tok *t, struct tok_scratch *sc, const char *s, size_t len,
		      struct tok_out *o)
{
	if (t->kind == TOK_KIND_SPM)
		return tok_spm_encode(t, sc, s, len, t->add_space_prefix, o);
	return tok_bpe_encode(t, sc, s, len, o);
}

int64_t tok_encode_spans(const struct tok *t, const char *text, size_t len,
			 const struct chat_span *content, size_t n_content, unsigned flags,
			 int32_t *out, size_t cap)
{
	struct tok_out o = { out, 0, cap };
	struct tok_scratch sc = { 0 };
	bool add = flags & TOK_ENC_ADD_SPECIAL, parse = flags & TOK_ENC_PARSE_SPECIAL;
	size_t frag = 0, i = 0, sp_i = 0, prev_end = 0;
	int rc = 0;

	if (len > TOK_MAX_INPUT)
		return -E2BIG;
	for (size_t j = 0; j < n_content; j++) {
		if (content[j].len == 0 || content[j].off < prev_end || content[j].off > len ||
		    content[j].len > len - content[j].off)
			return -EINVAL;
		prev_end = content[j].off + content[j].len;
	}
	/* A text that starts with the BOS token itself (a rendered Llama 3 chat)
	 * gets no second BOS, but only when the template wrote it, not a
	 * message. */
	const struct tok_special *first =
		parse && len > 0 && t->bos != TOK_NULL
			? special_at(t, text, len, 0, n_content > 0 ? content[0].off : len)
			: NULL;
	bool bos_in_text =
		first != NULL && first->id == t->bos && (n_content == 0 || content[0].off > 0);
	if (add && t->add_bos && !bos_in_text && (rc = tok_out_push(&o, t->bos)) < 0)
		goto free_scratch;
	while (i < len) {
		while (sp_i < n_content && content[sp_i].off + content[sp_i].len <= i)
			sp_i++;
		/* Without PARSE_SPECIAL, or inside content, scaf_end = i: only
		 * USER_DEFINED tokens match. */
		size_t scaf_end = !parse ? i : sp_i < n_content ? content[sp_i].off : len;
		if (scaf_end < i)
			scaf_end = i;
		const struct tok_special *sp =
			t->spec_first[(uint8_t)text[i]] < t->spec_first[(uint8_t)text[i] + 1]
				? special_at(t, text, len, i, scaf_end)
				: NULL;
		if (!sp) {
			i++;
			continue;
		}
		if (i > frag && (rc = encode_raw(t, &sc, text + frag, i - frag, &o)) < 0)
			goto free_scratch;
		if ((rc = tok_out_push(&o, sp->id)) < 0)
			goto free_scratch;
		i += sp->len;
		frag = i;
	}
	if (frag < len && (rc = encode_raw(t, &sc, text + frag, len - frag, &o)) < 0)
		goto free_scratch;
	if (add && t->add_eos && (rc = tok_out_push(&o, t->eos)) < 0)
		goto free_scratch;
free_scratch:
	tok_scratch_free(&sc);
	return rc < 0 ? rc : (int64_t)o.n;
}

int64_t tok_encode(const struct tok *t, const char *text, size_t len, unsigned flags,
		   int32_t *out, size_t cap)
{
	return tok_encode_spans(t, text, len, NULL, 0, flags, out, cap);
}

/* --- decode ------------------------------------------------------------- */

static int put(char *out, size_t cap, size_t *n, const char *s, size_t len)
{
	if (len > cap - *n)
		return -ENOSPC;
	memcpy(out + *n, s, len);
	*n += len;
	return 0;
}

int tok_piece(const struct tok *t, int32_t prev, int32_t id, unsigned flags, char *out,
	      size_t cap)
{
	if (id < 0 || (uint32_t)id >= t->n_vocab)
		return -EINVAL;
	const char *s = t->arena + t->off[id];
	size_t len = t->len[id], n = 0;
	uint8_t b;
	int rc = 0;

	switch ((enum tok_type)t->type[id]) {
	case TOK_TYPE_CONTROL:
	case TOK_TYPE_UNKNOWN:
		if (flags & TOK_DEC_SPECIAL)
			rc = put(out, cap, &n, s, len);
		break;
	case TOK_TYPE_USER_DEFINED:
		rc = put(out, cap, &n, s, len);
		break;
	case TOK_TYPE_UNDEFINED:
	case TOK_TYPE_UNUSED:
		break;
	case TOK_TYPE_BYTE:
		if (parse_byte_token(s, len, &b))
			rc = put(out, cap, &n, (const char *)&b, 1);
		else
			rc = put(out, cap, &n, s, len);
		break;
	case TOK_TYPE_NORMAL:
		if (t->kind == TOK_KIND_SPM) {
			/* ▁ → space; llama2.c drops the dummy-prefix space after BOS. */
			bool strip = t->add_space_prefix && prev != TOK_NULL && prev == t->bos;
			for (size_t i = 0; i < len && rc == 0;) {
				if (len - i >= 3 && memcmp(s + i, SPACE_ESC, 3) == 0) {
					if (!(strip && n == 0 && i == 0))
						rc = put(out, cap, &n, " ", 1);
					i += 3;
				} else {
					rc = put(out, cap, &n, s + i, 1);
					i++;
				}
			}
		} else {
			/* GPT-2 characters → bytes; a character outside the map
			 * is kept as its UTF-8. */
			for (size_t i = 0; i < len && rc == 0;) {
				uint8_t c = (uint8_t)s[i];
				if (c >= 0xC0 && c < 0xE0 && i + 1 < len) {
					uint32_t cp = (uint32_t)(c & 0x1F) << 6 | (s[i + 1] & 0x3F);
					if (cp < 324 && t->cp_byte[cp] >= 0) {
						char ch = (char)t->cp_byte[cp];
						rc = put(out, cap, &n, &ch, 1);
						i += 2;
						continue;
					}
				} else if (c < 0x80 && t->cp_byte[c] >= 0) {
					char ch = (char)t->cp_byte[c];
					rc = put(out, cap, &n, &ch, 1);
					i++;
					continue;
				}
				size_t cl = tok_utf8_len(s + i, len - i);
				rc = put(out, cap, &n, s + i, cl);
				i += cl;
			}
		}
		break;
	}
	return rc < 0 ? rc : (int)n;
}

int64_t tok_decode(const struct tok *t, const int32_t *ids, size_t n, unsigned flags, char *out,
		   size_t cap)
{
	size_t total = 0;
	int32_t prev = TOK_NULL;
	for (size_t i = 0; i < n; i++) {
		int rc = tok_piece(t, prev, ids[i], flags, out + total, cap - total);
		if (rc < 0)
			return rc;
		total += (size_t)rc;
		prev = ids[i];
	}
	return (int64_t)total;
}
