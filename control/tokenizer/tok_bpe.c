/* Byte-level BPE ("gpt2" vocabularies), as llama.cpp's llm_tokenizer_bpe:
 * every pre-token (word) is mapped byte by byte to GPT-2's printable
 * characters, each byte starting as its own symbol; adjacent symbol pairs that
 * form a merge rule are merged lowest rank first (ties: leftmost first) with a
 * binary heap, O(m log m) per word of m bytes. With ignore_merges (Llama 3) a
 * word that is a whole vocabulary token is emitted as it is.
 *
 * Symbols carry token ids, and merge rules are looked up by id pair: a rule
 * whose sides or result are not in the vocabulary was dropped at load. A byte
 * whose character is missing from the vocabulary becomes UNK (llama.cpp drops
 * it silently); without an UNK the encode fails with -EILSEQ. */
#include <errno.h>
#include <string.h>

#include "tok-internal.h"
#include "tok.h"

struct bpe_sym {
	int32_t prev, next; /* symbol indices, -1 at the ends */
	int32_t id;	    /* token id, TOK_NULL = merged away or not in vocab */
};

struct bpe_bigram {
	uint32_t rank;
	int32_t left, right;
	int32_t lid, rid; /* ids when queued; a mismatch marks it stale */
	int32_t result;
};

static bool bg_before(const void *va, const void *vb)
{
	const struct bpe_bigram *a = va, *b = vb;

	if (a->rank != b->rank)
		return a->rank < b->rank;
	return a->left < b->left;
}

static const struct tok_merge *find_merge(const struct tok *t, int32_t l, int32_t r)
{
	if (!t->merge || l < 0 || r < 0)
		return NULL;
	uint64_t key = (uint64_t)(uint32_t)l << 32 | (uint32_t)r;
	uint64_t hk = key * 0x9E3779B97F4A7C15ull;
	for (uint32_t i = (uint32_t)(hk >> 32) & t->merge_mask;; i = (i + 1) & t->merge_mask) {
		if (t->merge[i].key == key)
			return &t->merge[i];
		if (t->merge[i].key == UINT64_MAX)
			return NULL;
	}
}

static void try_bigram(const struct tok *t, const struct bpe_sym *sym, struct bpe_bigram *h,
		       size_t *hn, int32_t left, int32_t right)
{
	if (left < 0 || right < 0)
		return;
	const struct tok_merge *m = find_merge(t, sym[left].id, sym[right].id);
	if (!m)
		return;
	struct bpe_bigram b = { m->rank, left, right, sym[left].id, sym[right].id, m->result };
	tok_heap_push(h, hn, &b, sizeof(b), bg_before);
}

struct word_ctx {
	const struct tok *t;
	struct tok_scratch *sc;
	struct tok_out *o;
};

static int bpe_word(void *arg, const char *w, size_t len)
{
	struct word_ctx *wc = arg;
	const struct tok *t = wc->t;
	struct tok_scratch *sc = wc->sc;
	int rc;

	if (t->ignore_merges) {
		/* The word in GPT-2 characters: at most 2 bytes per byte. */
		if (tok_grow((void **)&sc->buf, &sc->buf_cap, 2 * len, 1) < 0)
			return -ENOMEM;
		size_t el = 0;
		for (size_t i = 0; i < len; i++) {
			uint16_t cp = t->byte_cp[(uint8_t)w[i]];
			if (cp < 0x80) {
				sc->buf[el++] = (char)cp;
			} else {
				sc->buf[el++] = (char)(0xC0 | cp >> 6);
				sc->buf[el++] = (char)(0x80 | (cp & 0x3F));
			}
		}
		int32_t id = tok_lookup(t, sc->buf, el);
		if (id != TOK_NULL)
			return tok_out_push(wc->o, id);
	}

	if (tok_grow(&sc->sym, &sc->sym_cap, len, sizeof(struct bpe_sym)) < 0 ||
	    tok_grow(&sc->heap, &sc->heap_cap, 3 * len, sizeof(struct bpe_bigram)) < 0)
		return -ENOMEM;
	struct bpe_sym *sym = sc->sym;
	struct bpe_bigram *h = sc->heap;
	size_t hn = 0;
	int32_t n = (int32_t)len;

	for (int32_t i = 0; i < n; i++) {
		sym[i].prev = i - 1;
		sym[i].next = i + 1 == n ? -1 : i + 1;
		sym[i].id = t->byte_tok[(uint8_t)w[i]];
	}
	for (int32_t i = 1; i < n; i++)
		try_bigram(t, sym, h, &hn, i - 1, i);

	/* A symbol merged into its left neighbour is marked by prev == -2. */
	while (hn > 0) {
		struct bpe_bigram b;
		struct bpe_sym *l, *r;

		tok_heap_pop(h, &hn, &b, sizeof(b), bg_before);
		l = &sym[b.left];
		r = &sym[b.right];
		if (l->prev == -2 || r->prev == -2 || l->next != b.right || l->id != b.lid ||
		    r->id != b.rid)
			continue;
		l->id = b.result;
		l->next = r->next;
		if (r->next >= 0)
			sym[r->next].prev = b.left;
		r->prev = -2;
		try_bigram(t, sym, h, &hn, l->prev, b.left);
		try_bigram(t, sym, h, &hn, b.left, l->next);
	}

	for (int32_t i = 0; i != -1; i = sym[i].next) {
		int32_t id = sym[i].id != TOK_NULL ? sym[i].id : t->unk;
		if (id == TOK_NULL)
			return -EILSEQ;
		rc = tok_out_push(wc->o, id);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int tok_bpe_encode(const struct tok *t, struct tok_scratch *sc, const char *text, size_t len,
		   struct tok_out *o)
{
	struct word_ctx wc = { t, sc, o };
	return tok_pretokenize(t->pre, text, len, bpe_word, &wc);
}
