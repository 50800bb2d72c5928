/* Private to the tokenizer module: the tokenizer's layout, the Unicode
 * category tables and the helpers shared by tok.c, tok_spm.c, tok_bpe.c and
 * tok_pre.c. */
#ifndef TS_TOK_INTERNAL_H
#define TS_TOK_INTERNAL_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chat-t.h"
#include "tok-t.h"

/* Every allocation of the module goes through these. The unit suite builds
 * the module with TOK_FAULT_INJECTION to fail the allocation numbered
 * tok_fault_at (counting from 0 in tok_fault_count), so that each cleanup
 * path runs; production builds call the C library directly. */
#ifdef TOK_FAULT_INJECTION
extern long tok_fault_at;    /* allocation number that fails; -1 = none */
extern long tok_fault_count; /* allocations made so far */
void *tok_malloc(size_t n);
void *tok_calloc(size_t n, size_t size);
void *tok_realloc(void *p, size_t n);
#else
#define tok_malloc(n) malloc(n)
#define tok_calloc(n, size) calloc(n, size)
#define tok_realloc(p, n) realloc(p, n)
#endif

/* Unicode category flags of one code point (tok_unicode_tab.c). */
#define TOK_UNI_LETTER 1u /* \p{L} */
#define TOK_UNI_NUMBER 2u /* \p{N} */
#define TOK_UNI_PUNCT 4u  /* \p{P} */
#define TOK_UNI_SPACE 8u  /* \s (White_Space) */

struct tok_uni_range {
	uint32_t lo, hi; /* code points, inclusive */
	uint32_t flags;	 /* TOK_UNI_* */
};

extern const uint8_t tok_uni_ascii[128];
extern const struct tok_uni_range tok_uni_ranges[];
extern const size_t tok_uni_n_ranges;

/* TOK_UNI_* flags of code point cp (binary search above ASCII). */
uint32_t tok_uni_flags(uint32_t cp);

/* One BPE merge rule in the pair table: (left id, right id) → rank, result. */
struct tok_merge {
	uint64_t key;	/* (uint64_t)left << 32 | right; UINT64_MAX = empty slot */
	uint32_t rank;	/* position in tokenizer.ggml.merges, lower merges first */
	int32_t result; /* id of left+right */
};

/* A special/added token that tok_encode matches in the input text. */
struct tok_special {
	int32_t id;
	uint32_t len;	/* bytes of its text, > 0 */
	uint8_t first;	/* its first byte */
	uint8_t type;	/* enum tok_type: CONTROL, UNKNOWN or USER_DEFINED */
};

struct tok {
	enum tok_kind kind;
	enum tok_pre pre;
	uint32_t n_vocab;

	/* Vocabulary: texts live NUL-separated in one arena. */
	char *arena;
	uint32_t *off;	/* n_vocab: byte offset of each text in arena */
	uint32_t *len;	/* n_vocab: bytes of each text */
	float *score;	/* n_vocab: SPM merge score, higher merges first */
	uint8_t *type;	/* n_vocab: enum tok_type */

	/* Text → id, open addressing with linear probing; TOK_NULL = empty. */
	int32_t *slot;
	uint32_t slot_mask; /* slots - 1, slots a power of two >= 2 * n_vocab */

	/* BPE merge pairs, open addressing like above. */
	struct tok_merge *merge;
	uint32_t merge_mask;
	uint32_t n_merges; /* rules kept (both sides and the result in the vocab) */

	/* Byte → token: SPM "<0xNN>" (else the 1-byte text), BPE the GPT-2
	 * byte-to-unicode character; TOK_NULL when the vocabulary lacks it. */
	int32_t byte_tok[256];
	/* GPT-2 byte ↔ unicode mapping (code points < 324). */
	uint16_t byte_cp[256];
	int16_t cp_byte[324]; /* -1 when the code point stands for no byte */

	/* Specials matched in input text, grouped by first byte, longest first
	 * within a group: entries spec_first[b] .. spec_first[b + 1] - 1. */
	struct tok_special *spec;
	uint32_t n_spec;
	uint32_t spec_first[257];

	int32_t bos, eos, unk, pad;
	int32_t eog[TOK_MAX_EOG];
	uint32_t n_eog;
	bool add_bos, add_eos, add_space_prefix, ignore_merges;
	/* SPM: no token holds U+2581 after another character, so no merge can
	 * cross the start of a "▁word" and text may be merged chunk by chunk. */
	bool spm_chunk_ok;
};

/* Growable per-call scratch (tok_encode); grows, never shrinks, freed at the
 * end of the call. */
struct tok_scratch {
	void *sym;
	size_t sym_cap; /* entries */
	void *heap;
	size_t heap_cap; /* entries */
	char *buf;
	size_t buf_cap; /* bytes */
};

/* Output sink of encode. */
struct tok_out {
	int32_t *ids;
	size_t n, cap;
};

static inline int tok_out_push(struct tok_out *o, int32_t id)
{
	if (o->n >= o->cap)
		return -ENOSPC;
	o->ids[o->n++] = id;
	return 0;
}

int32_t tok_lookup(const struct tok *t, const char *s, size_t len);
/* Encode one raw-text fragment (no specials inside). */
int tok_spm_encode(const struct tok *t, struct tok_scratch *sc, const char *text, size_t len,
		   bool space_prefix, struct tok_out *o);
int tok_bpe_encode(const struct tok *t, struct tok_scratch *sc, const char *text, size_t len,
		   struct tok_out *o);
void tok_scratch_free(struct tok_scratch *sc);
/* tok_encode() with CONTROL/UNKNOWN token texts matched only where they lie
 * entirely outside content[0..n_content) (sorted, disjoint, inside text; none
 * = everywhere) and only with TOK_ENC_PARSE_SPECIAL; USER_DEFINED tokens
 * match everywhere. tok_encode() and chat_tokenize() are this one loop, so a
 * chat with no special text in its contents gets tok_encode()'s ids. Returns
 * tok_encode()'s results, or -EINVAL for content spans out of order or out of
 * bounds. */
int64_t tok_encode_spans(const struct tok *t, const char *text, size_t len,
			 const struct chat_span *content, size_t n_content, unsigned flags,
			 int32_t *out, size_t cap);
/* Make room for n entries of size esz in *p (capacity *cap); 0 or -ENOMEM. */
int tok_grow(void **p, size_t *cap, size_t n, size_t esz);

/* Bytes of the UTF-8 character at s[0..avail), avail > 0: the length its
 * lead byte announces when that many continuation bytes follow, else 1 (a
 * stray or truncated byte stands alone, as in SentencePiece and llama2.c;
 * llama.cpp would take the announced length unchecked). */
static inline size_t tok_utf8_len(const char *s, size_t avail)
{
	static const uint8_t lookup[16] = { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4 };
	size_t n = lookup[(uint8_t)s[0] >> 4];
	if (n > avail)
		return 1;
	for (size_t i = 1; i < n; i++)
		if (((uint8_t)s[i] & 0xC0) != 0x80)
			return 1;
	return n;
}

/* A binary min-heap of fixed-size items, the merge queue of both BPE flavours
 * (tok_spm.c orders by score, tok_bpe.c by rank). before(a, b) is a strict
 * order that says a leaves first; ties must be broken by the caller's order
 * (both break them by left index), so the merge sequence is deterministic.
 * static inline with constant size and before, so the compiler specialises it
 * per caller. h holds *n items and room for one more on push. */
static inline void tok_heap_push(void *h, size_t *n, const void *v, size_t size,
				 bool (*before)(const void *a, const void *b))
{
	unsigned char *base = h;
	size_t i = (*n)++;

	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (!before(v, base + p * size))
			break;
		memcpy(base + i * size, base + p * size, size);
		i = p;
	}
	memcpy(base + i * size, v, size);
}

/* Removes the first item of a non-empty heap into *out. */
static inline void tok_heap_pop(void *h, size_t *n, void *out, size_t size,
				bool (*before)(const void *a, const void *b))
{
	unsigned char *base = h;
	size_t i = 0, cnt = --*n;
	/* The old last item, now outside [0, cnt): the moves below never reach it. */
	const unsigned char *last = base + cnt * size;

	memcpy(out, base, size);
	for (;;) {
		size_t l = 2 * i + 1, best = i;
		const unsigned char *bv = last;
		if (l < cnt && before(base + l * size, bv)) {
			best = l;
			bv = base + l * size;
		}
		if (l + 1 < cnt && before(base + (l + 1) * size, bv))
			best = l + 1;
		if (best == i)
			break;
		memcpy(base + i * size, base + best * size, size);
		i = best;
	}
	if (cnt > 0)
		memcpy(base + i * size, last, size);
}

#endif
