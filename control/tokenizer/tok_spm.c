/* SentencePiece-style BPE ("llama" vocabularies), as llama.cpp's
 * llm_tokenizer_spm: the text (spaces escaped to U+2581) is split into UTF-8
 * characters (a byte of no valid sequence stands alone, as in SentencePiece
 * and llama2.c); adjacent symbols whose concatenation is a vocabulary token are
 * merged, highest token score first (ties: leftmost first), with a binary
 * heap of candidate bigrams, O(n log n) per chunk. Symbols that end as no
 * token are emitted byte by byte as <0xNN> tokens (else UNK).
 *
 * Chunking: when no vocabulary token holds U+2581 after another character
 * (t->spm_chunk_ok, checked at load), no merge can span the point where a run
 * of U+2581 starts after other text, so the text is merged chunk by chunk
 * there; the result is identical and the working set stays per word. */
#include <errno.h>
#include <string.h>

#include "tok-internal.h"

#define SPACE_ESC "\xE2\x96\x81" /* U+2581 LOWER ONE EIGHTH BLOCK */

struct spm_sym {
	int32_t prev, next; /* symbol indices, -1 at the ends */
	uint32_t start, n;  /* bytes in the chunk; n == 0 once merged away */
};

struct spm_bigram {
	float score;
	int32_t left, right;
	uint32_t size; /* bytes of left + right when queued; a mismatch marks it stale */
};

/* Heap order: higher score first, then lower left index. */
static bool bg_before(const void *va, const void *vb)
{
	const struct spm_bigram *a = va, *b = vb;

	if (a->score != b->score)
		return a->score > b->score;
	return a->left < b->left;
}

static void try_bigram(const struct tok *t, const char *s, const struct spm_sym *sym,
		       struct spm_bigram *h, size_t *hn, int32_t left, int32_t right)
{
	if (left < 0 || right < 0)
		return;
	uint32_t a = sym[left].start, size = sym[left].n + sym[right].n;
	int32_t id = tok_lookup(t, s + a, size);
	if (id == TOK_NULL)
		return;
	struct spm_bigram b = { t->score[id], left, right, size };
	tok_heap_push(h, hn, &b, sizeof(b), bg_before);
}

static int emit_bytes(const struct tok *t, const char *s, size_t n, struct tok_out *o)
{
	for (size_t i = 0; i < n; i++) {
		int32_t id = t->byte_tok[(uint8_t)s[i]];
		if (id == TOK_NULL)
			id = t->unk;
		if (id == TOK_NULL)
			return -EILSEQ;
		int rc = tok_out_push(o, id);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Merge and emit one chunk s[0..len) of escaped text. */
static int spm_chunk(const struct tok *t, struct tok_scratch *sc, const char *s, size_t len,
		     struct tok_out *o)
{
	/* Symbols: at most one per byte. Bigrams: len - 1 initial plus at most
	 * two per merge, fewer than 3 * len in all. */
	if (tok_grow(&sc->sym, &sc->sym_cap, len, sizeof(struct spm_sym)) < 0 ||
	    tok_grow(&sc->heap, &sc->heap_cap, 3 * len, sizeof(struct spm_bigram)) < 0)
		return -ENOMEM;
	struct spm_sym *sym = sc->sym;
	struct spm_bigram *h = sc->heap;
	size_t hn = 0;
	int32_t ns = 0;

	for (size_t off = 0; off < len; ns++) {
		size_t n = tok_utf8_len(s + off, len - off);
		sym[ns].start = (uint32_t)off;
		sym[ns].n = (uint32_t)n;
		sym[ns].prev = ns - 1;
		off += n;
		sym[ns].next = off == len ? -1 : ns + 1;
	}
	for (int32_t i = 1; i < ns; i++)
		try_bigram(t, s, sym, h, &hn, i - 1, i);

	while (hn > 0) {
		struct spm_bigram b;
		struct spm_sym *l, *r;

		tok_heap_pop(h, &hn, &b, sizeof(b), bg_before);
		l = &sym[b.left];
		r = &sym[b.right];
		if (l->n == 0 || r->n == 0 || l->n + r->n != b.size)
			continue; /* one side was merged into something else */
		l->n += r->n;
		r->n = 0;
		l->next = r->next;
		if (r->next >= 0)
			sym[r->next].prev = b.left;
		try_bigram(t, s, sym, h, &hn, l->prev, b.left);
		try_bigram(t, s, sym, h, &hn, b.left, l->next);
	}

	for (int32_t i = 0; i != -1 && ns > 0; i = sym[i].next) {
		const char *p = s + sym[i].start;
		int32_t id = tok_lookup(t, p, sym[i].n);
		int rc = id != TOK_NULL ? tok_out_push(o, id) : emit_bytes(t, p, sym[i].n, o);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static bool is_esc(const char *s, size_t i, size_t len)
{
	return len - i >= 3 && memcmp(s + i, SPACE_ESC, 3) == 0;
}

int tok_spm_encode(const struct tok *t, struct tok_scratch *sc, const char *text, size_t len,
		   bool space_prefix, struct tok_out *o)
{
	/* Escape: optional leading space, then ' ' → U+2581 (3 bytes each). */
	size_t need = 3 * (len + 1);
	if (tok_grow((void **)&sc->buf, &sc->buf_cap, need, 1) < 0)
		return -ENOMEM;
	char *e = sc->buf;
	size_t el = 0;
	if (space_prefix) {
		memcpy(e, SPACE_ESC, 3);
		el = 3;
	}
	for (size_t i = 0; i < len; i++) {
		if (text[i] == ' ') {
			memcpy(e + el, SPACE_ESC, 3);
			el += 3;
		} else {
			e[el++] = text[i];
		}
	}
	if (!t->spm_chunk_ok)
		return el ? spm_chunk(t, sc, e, el, o) : 0;

	/* Chunk boundaries: before a U+2581 that follows a character other
	 * than U+2581. */
	size_t start = 0, i = 0;
	bool prev_esc = true;
	while (i < el) {
		bool esc = is_esc(e, i, el);
		if (esc && !prev_esc) {
			int rc = spm_chunk(t, sc, e + start, i - start, o);
			if (rc < 0)
				return rc;
			start = i;
		}
		prev_esc = esc;
		i += esc ? 3 : 1;
	}
	return start < el ? spm_chunk(t, sc, e + start, el - start, o) : 0;
}
