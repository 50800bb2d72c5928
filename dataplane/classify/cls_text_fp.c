/* SPDX-License-Identifier: proprietary */
/*
 * Byte statistics of a text in one pass (fast path).
 *
 * The AVX2 path classifies 64 bytes per step: range compares for digits,
 * letters and separators, and a nibble-table membership test (two PSHUFB) for
 * the code and math symbol sets; counts come from POPCNT of the movemasks.
 * Words and the longest word come from the 64-bit "not a separator" mask.
 * The scalar path is the reference: it gives the same numbers byte for byte
 * (the unit test compares both on random and crafted buffers).
 */
#include <string.h>

#include "cls.h"

#if defined(__AVX2__)
#include <immintrin.h>
#endif

enum {
	CT_DIGIT = 1 << 0,
	CT_UPPER = 1 << 1,
	CT_LOWER = 1 << 2,
	CT_PUNCT = 1 << 3,
	CT_CODE = 1 << 4,
	CT_MATH = 1 << 5,
};

static const char code_set[] = "{}[];=<>_|`#~&";
static const char math_set[] = "+*/^=<>%$\\()";

static bool in_set(const char *set, unsigned c)
{
	for (; *set; set++)
		if ((unsigned char)*set == c)
			return true;
	return false;
}

static unsigned byte_class(unsigned c)
{
	unsigned k = 0;

	if (c >= '0' && c <= '9')
		k |= CT_DIGIT;
	else if (c >= 'A' && c <= 'Z')
		k |= CT_UPPER;
	else if (c >= 'a' && c <= 'z')
		k |= CT_LOWER;
	else if (c > 0x20 && c < 0x7f)
		k |= CT_PUNCT;
	if (in_set(code_set, c))
		k |= CT_CODE;
	if (in_set(math_set, c))
		k |= CT_MATH;
	return k;
}

void cls_text_stats_scalar(const uint8_t *p, size_t n, struct cls_text_stats *st)
{
	uint32_t run = 0;

	memset(st, 0, sizeof(*st));
	st->bytes = n;
	for (size_t i = 0; i < n; i++) {
		unsigned c = p[i];
		unsigned k = byte_class(c);

		st->digits += !!(k & CT_DIGIT);
		st->upper += !!(k & CT_UPPER);
		st->lower += !!(k & CT_LOWER);
		st->punct += !!(k & CT_PUNCT);
		st->code += !!(k & CT_CODE);
		st->math += !!(k & CT_MATH);
		st->nonascii += c >= 0x80;
		st->newlines += c == '\n';
		st->questions += c == '?';
		if (c > 0x20) {
			st->wbytes++;
			if (run == 0)
				st->words++;
			run++;
			if (run > st->longest)
				st->longest = run;
		} else {
			run = 0;
		}
	}
	if (st->longest > CLS_LONGEST_WORD_CAP)
		st->longest = CLS_LONGEST_WORD_CAP;
}

#if defined(__AVX2__)

/*
 * Low-nibble tables of the two symbol sets: bit h of code_lo[lo] is set when
 * byte (h << 4 | lo) is in code_set (same for math). Constant data so that
 * concurrent lcores never initialise anything; the unit test checks them
 * against the sets through the scalar reference.
 */
static const uint8_t code_lo_tbl[16] = { 0x40, 0x00, 0x00, 0x04, 0x00, 0x00, 0x04, 0x00,
					 0x00, 0x00, 0x00, 0xa8, 0x88, 0xa8, 0x88, 0x20 };
static const uint8_t math_lo_tbl[16] = { 0x00, 0x00, 0x00, 0x00, 0x04, 0x04, 0x00, 0x00,
					 0x04, 0x04, 0x04, 0x04, 0x28, 0x08, 0x28, 0x04 };

static inline uint32_t range_mask(__m256i v, char lo, char hi)
{
	/* unsigned (v - lo) <= (hi - lo) */
	__m256i d = _mm256_sub_epi8(v, _mm256_set1_epi8(lo));
	__m256i m = _mm256_cmpeq_epi8(_mm256_min_epu8(d, _mm256_set1_epi8((char)(hi - lo))), d);

	return (uint32_t)_mm256_movemask_epi8(m);
}

static inline void classify32(__m256i v, __m256i code_lo, __m256i math_lo, __m256i hibit,
			      uint32_t *mk)
{
	__m256i lo = _mm256_and_si256(v, _mm256_set1_epi8(0x0f));
	__m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), _mm256_set1_epi8(0x0f));
	__m256i hb = _mm256_shuffle_epi8(hibit, hi);
	__m256i zero = _mm256_setzero_si256();
	__m256i c = _mm256_and_si256(_mm256_shuffle_epi8(code_lo, lo), hb);
	__m256i m = _mm256_and_si256(_mm256_shuffle_epi8(math_lo, lo), hb);

	mk[0] = range_mask(v, '0', '9');
	mk[1] = range_mask(v, 'A', 'Z');
	mk[2] = range_mask(v, 'a', 'z');
	mk[3] = range_mask(v, 0x21, 0x7e);
	mk[4] = ~(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(c, zero));
	mk[5] = ~(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(m, zero));
	mk[6] = (uint32_t)_mm256_movemask_epi8(v);
	mk[7] = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, _mm256_set1_epi8('\n')));
	mk[8] = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, _mm256_set1_epi8('?')));
	/* word byte: > 0x20 unsigned, i.e. not (v <= 0x20) */
	mk[9] = ~(uint32_t)_mm256_movemask_epi8(
		_mm256_cmpeq_epi8(_mm256_max_epu8(v, _mm256_set1_epi8(0x20)),
				  _mm256_set1_epi8(0x20)));
}

/* Longest run of ones in x (x != 0), O(length of that run). */
static inline uint32_t longest_ones(uint64_t x)
{
	uint32_t k = 0;

	while (x) {
		x &= x >> 1;
		k++;
	}
	return k;
}

void cls_text_stats(const uint8_t *p, size_t n, struct cls_text_stats *st)
{
	const __m256i code_lo =
		_mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)code_lo_tbl));
	const __m256i math_lo =
		_mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)math_lo_tbl));
	/* bit for high nibble h (ASCII only: h >= 8 maps to 0) */
	const __m256i hibit = _mm256_setr_epi8(1, 2, 4, 8, 16, 32, 64, -128, 0, 0, 0, 0, 0, 0,
					       0, 0, 1, 2, 4, 8, 16, 32, 64, -128, 0, 0, 0, 0,
					       0, 0, 0, 0);
	uint64_t cnt[10] = { 0 };
	uint64_t words = 0, prev_word = 0; /* prev_word: top bit of the previous word mask */
	uint32_t run = 0, best = 0;        /* run: word bytes carried into this chunk */
	uint8_t tail[64];
	size_t off = 0;

	while (off < n) {
		const uint8_t *q = p + off;
		uint32_t a[10], b[10];
		uint64_t m[10];

		if (n - off < 64) {
			/* zero padding: NUL is a separator and in no class */
			memset(tail, 0, sizeof(tail));
			memcpy(tail, q, n - off);
			q = tail;
		}
		classify32(_mm256_loadu_si256((const __m256i *)q), code_lo, math_lo, hibit, a);
		classify32(_mm256_loadu_si256((const __m256i *)(q + 32)), code_lo, math_lo, hibit,
			   b);
		for (int i = 0; i < 10; i++)
			m[i] = (uint64_t)a[i] | ((uint64_t)b[i] << 32);
		for (int i = 0; i < 10; i++)
			cnt[i] += (uint64_t)__builtin_popcountll(m[i]);

		uint64_t w = m[9];

		words += (uint64_t)__builtin_popcountll(w & ~((w << 1) | prev_word));
		prev_word = w >> 63;
		if (w == ~0ull) {
			run += 64;
		} else {
			uint32_t low = (uint32_t)__builtin_ctzll(~w);

			run += low;
			if (run > best)
				best = run;
			if (w) {
				uint32_t in = longest_ones(w);

				if (in > best)
					best = in;
			}
			run = (uint32_t)__builtin_clzll(~w);
		}
		off += 64;
	}
	if (run > best)
		best = run;

	st->bytes = n;
	st->digits = cnt[0];
	st->upper = cnt[1];
	st->lower = cnt[2];
	st->punct = cnt[3] - cnt[0] - cnt[1] - cnt[2];
	st->code = cnt[4];
	st->math = cnt[5];
	st->nonascii = cnt[6];
	st->newlines = cnt[7];
	st->questions = cnt[8];
	st->wbytes = cnt[9];
	st->words = words;
	st->longest = best > CLS_LONGEST_WORD_CAP ? CLS_LONGEST_WORD_CAP : best;
}

#else

void cls_text_stats(const uint8_t *p, size_t n, struct cls_text_stats *st)
{
	cls_text_stats_scalar(p, n, st);
}

#endif
