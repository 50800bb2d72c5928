/* SPDX-License-Identifier: proprietary */
/*
 * Byte statistics of a text in one pass (fast path).
 *
 * The AVX2 path classifies 64 bytes per step: range compares for digits,
 * letters and separators, and a nibble-table membership test (PSHUFB) for
 * the code and math symbol sets; counts accumulate in 8-bit vector lanes,
 * summed with SAD before they can overflow.
 * Words and the longest word come from the 64-bit "not a separator" mask.
 * For the rule gates it also counts '@' and finds whether some run of ASCII
 * digits is TS_GATE_DIGIT_RUN bytes long (from the 64-bit digit mask).
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
	uint32_t run = 0, drun = 0;

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
		st->at += c == '@';
		drun = (k & CT_DIGIT) ? drun + 1 : 0;
		if (drun >= TS_GATE_DIGIT_RUN)
			st->digit_run4 = 1;
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

/* 0xff where unsigned lo <= v <= hi */
static inline __m256i in_range(__m256i v, char lo, char hi)
{
	__m256i d = _mm256_sub_epi8(v, _mm256_set1_epi8(lo));

	return _mm256_cmpeq_epi8(_mm256_min_epu8(d, _mm256_set1_epi8((char)(hi - lo))), d);
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

/*
 * Whether x holds a run of at least len ones (1 <= len <= 64): runs of k
 * doubled by shift-and in log2(len) steps, then topped up by len - k < k.
 * The gate in front of longest_ones(): once the longest word so far is longer
 * than the words of most blocks, this answers "no" in ~5 steps where the exact
 * count would take one step per byte of the block's longest word.
 */
static inline bool has_run(uint64_t x, uint32_t len)
{
	uint32_t k = 1;

	while (2 * k <= len) {
		x &= x >> k;
		k *= 2;
	}
	if (len > k)
		x &= x >> (len - k);
	return x != 0;
}

/*
 * Digit-run gate from consecutive 64-bit digit masks (bit i = byte i is
 * '0'..'9'). Bit j of e2 says bytes j-1..j are digits, bit j of the result
 * that bytes j-3..j are: a run of four ending at byte j. The bits shifted in
 * at the bottom come from the previous block's masks, so runs across a block
 * edge count. 9 scalar operations per 64 bytes: the direct test (four
 * shifted copies of the block, and of the block joined to the previous one,
 * 17 operations) added ~45 ns to a 2 KB pass, this form ~10-20 ns
 * (AVX-512 path, min over 300 rounds of 64 real 2 KB texts: 262-270 ns
 * without the gate fields, 275-288 with them).
 */
_Static_assert(TS_GATE_DIGIT_RUN == 4, "digit_block tests runs of exactly four");

struct digit_state {
	uint64_t d;  /* digit mask of the previous block */
	uint64_t e2; /* its runs-of-two mask */
	uint64_t hit; /* nonzero once a run of four was seen */
};

static inline void digit_block(struct digit_state *ds, uint64_t d)
{
	uint64_t e2 = d & ((d << 1) | (ds->d >> 63));

	ds->hit |= e2 & ((e2 << 2) | (ds->e2 >> 62));
	ds->d = d;
	ds->e2 = e2;
}

/* Word statistics from consecutive 64-bit "byte > 0x20" masks. */
struct word_state {
	uint64_t words, wbytes;
	uint64_t prev;  /* top bit of the previous mask */
	uint32_t run;   /* word bytes carried into the next block */
	uint32_t best;  /* longest run so far */
};

static inline void word_block(struct word_state *ws, uint64_t w)
{
	ws->wbytes += (uint64_t)__builtin_popcountll(w);
	ws->words += (uint64_t)__builtin_popcountll(w & ~((w << 1) | ws->prev));
	ws->prev = w >> 63;
	if (w == ~0ull) {
		ws->run += 64;
		return;
	}
	ws->run += (uint32_t)__builtin_ctzll(~w);
	if (ws->run > ws->best)
		ws->best = ws->run;
	/* a run inside the block matters only if it beats the best so far */
	if (w && ws->best < 64 && has_run(w, ws->best + 1))
		ws->best = longest_ones(w);
	ws->run = (uint32_t)__builtin_clzll(~w);
}

static inline void word_finish(const struct word_state *ws, struct cls_text_stats *st)
{
	uint32_t best = ws->run > ws->best ? ws->run : ws->best;

	st->wbytes = ws->wbytes;
	st->words = ws->words;
	st->longest = best > CLS_LONGEST_WORD_CAP ? CLS_LONGEST_WORD_CAP : best;
}

enum {
	K_DIGIT = 0,
	K_UPPER,
	K_LOWER,
	K_PRINT,   /* 0x21..0x7e */
	K_CODE,    /* AVX2: bytes NOT in the code set (the complement saves an op); AVX-512: in it */
	K_MATH,    /* likewise for the math set */
	K_NONASCII,
	K_NL,
	K_Q,
	K_AT,
	K_COUNT,
};

/*
 * Per-byte-lane counters: each class mask (0xff per matching byte) is
 * subtracted from an 8-bit lane counter, and the lanes are summed with SAD
 * before they can overflow (every 127 blocks of 64 bytes, +2 per lane per
 * block). No movemask/popcount per class; only the word mask leaves the
 * vector unit.
 */
struct lane_acc {
	__m256i c[K_COUNT];
};

/* Classifies 32 bytes into the lane counters; returns the digit mask (bit i = byte i). */
static inline uint32_t classify32(__m256i v, __m256i code_lo, __m256i math_lo, __m256i hibit,
				  struct lane_acc *a)
{
	__m256i nib = _mm256_set1_epi8(0x0f);
	__m256i zero = _mm256_setzero_si256();
	__m256i lo = _mm256_and_si256(v, nib);
	__m256i hb = _mm256_shuffle_epi8(hibit, _mm256_and_si256(_mm256_srli_epi16(v, 4), nib));
	__m256i c = _mm256_and_si256(_mm256_shuffle_epi8(code_lo, lo), hb);
	__m256i m = _mm256_and_si256(_mm256_shuffle_epi8(math_lo, lo), hb);

	__m256i dig = in_range(v, '0', '9');

	a->c[K_DIGIT] = _mm256_sub_epi8(a->c[K_DIGIT], dig);
	a->c[K_UPPER] = _mm256_sub_epi8(a->c[K_UPPER], in_range(v, 'A', 'Z'));
	a->c[K_LOWER] = _mm256_sub_epi8(a->c[K_LOWER], in_range(v, 'a', 'z'));
	a->c[K_PRINT] = _mm256_sub_epi8(a->c[K_PRINT], in_range(v, 0x21, 0x7e));
	a->c[K_CODE] = _mm256_sub_epi8(a->c[K_CODE], _mm256_cmpeq_epi8(c, zero));
	a->c[K_MATH] = _mm256_sub_epi8(a->c[K_MATH], _mm256_cmpeq_epi8(m, zero));
	a->c[K_NONASCII] = _mm256_sub_epi8(a->c[K_NONASCII], _mm256_cmpgt_epi8(zero, v));
	a->c[K_NL] = _mm256_sub_epi8(a->c[K_NL], _mm256_cmpeq_epi8(v, _mm256_set1_epi8('\n')));
	a->c[K_Q] = _mm256_sub_epi8(a->c[K_Q], _mm256_cmpeq_epi8(v, _mm256_set1_epi8('?')));
	a->c[K_AT] = _mm256_sub_epi8(a->c[K_AT], _mm256_cmpeq_epi8(v, _mm256_set1_epi8('@')));
	return (uint32_t)_mm256_movemask_epi8(dig);
}

/* word byte: > 0x20 unsigned, i.e. not (max(v, 0x20) == 0x20) */
static inline uint32_t word_mask(__m256i v)
{
	__m256i sp = _mm256_set1_epi8(0x20);

	return ~(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_max_epu8(v, sp), sp));
}

static inline void flush(struct lane_acc *a, uint64_t *tot)
{
	__m256i zero = _mm256_setzero_si256();

	for (int k = 0; k < K_COUNT; k++) {
		__m256i s = _mm256_sad_epu8(a->c[k], zero);

		tot[k] += (uint64_t)_mm256_extract_epi64(s, 0) + (uint64_t)_mm256_extract_epi64(s, 1) +
			  (uint64_t)_mm256_extract_epi64(s, 2) + (uint64_t)_mm256_extract_epi64(s, 3);
		a->c[k] = zero;
	}
}

void cls_text_stats_avx2(const uint8_t *p, size_t n, struct cls_text_stats *st)
{
	const __m256i code_lo =
		_mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)code_lo_tbl));
	const __m256i math_lo =
		_mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)math_lo_tbl));
	/* bit for high nibble h (ASCII only: h >= 8 maps to 0) */
	const __m256i hibit = _mm256_setr_epi8(1, 2, 4, 8, 16, 32, 64, -128, 0, 0, 0, 0, 0, 0,
					       0, 0, 1, 2, 4, 8, 16, 32, 64, -128, 0, 0, 0, 0,
					       0, 0, 0, 0);
	struct lane_acc a;
	uint64_t tot[K_COUNT] = { 0 };
	struct word_state ws = { 0 };
	struct digit_state ds = { 0 };
	uint32_t blocks = 0;               /* since the last flush */
	uint64_t padded = 0;               /* bytes examined including zero padding */
	uint8_t tail[64];
	size_t off = 0;

	for (int k = 0; k < K_COUNT; k++)
		a.c[k] = _mm256_setzero_si256();
	while (off < n) {
		const uint8_t *q = p + off;

		if (n - off < 64) {
			/* zero padding: NUL is a separator and in no counted class */
			memset(tail, 0, sizeof(tail));
			memcpy(tail, q, n - off);
			q = tail;
		}
		__m256i v0 = _mm256_loadu_si256((const __m256i *)q);
		__m256i v1 = _mm256_loadu_si256((const __m256i *)(q + 32));

		uint64_t dm = (uint64_t)classify32(v0, code_lo, math_lo, hibit, &a);

		dm |= (uint64_t)classify32(v1, code_lo, math_lo, hibit, &a) << 32;
		digit_block(&ds, dm);
		if (++blocks == 127) {
			flush(&a, tot);
			blocks = 0;
		}

		word_block(&ws, (uint64_t)word_mask(v0) | ((uint64_t)word_mask(v1) << 32));
		off += 64;
		padded += 64;
	}
	flush(&a, tot);

	st->bytes = n;
	st->digits = tot[K_DIGIT];
	st->upper = tot[K_UPPER];
	st->lower = tot[K_LOWER];
	st->punct = tot[K_PRINT] - tot[K_DIGIT] - tot[K_UPPER] - tot[K_LOWER];
	st->code = padded - tot[K_CODE];
	st->math = padded - tot[K_MATH];
	st->nonascii = tot[K_NONASCII];
	st->newlines = tot[K_NL];
	st->questions = tot[K_Q];
	st->at = tot[K_AT];
	st->digit_run4 = ds.hit != 0;
	word_finish(&ws, st);
}

#endif /* __AVX2__ */

#if defined(__AVX512BW__)

/*
 * AVX-512BW: compares write 64-bit k-masks directly, so each class costs one
 * compare and one masked lane increment per 64 bytes.
 * The nine lane counters are named locals, not an array: indexed from the
 * flush, an array made the compiler keep them in memory and store all nine
 * (576 bytes) every block, which cost more than the classification. The
 * blocks come in chunks of at most 255 (a lane counts to 255) and each chunk
 * is summed with SAD after its inner loop.
 */
static inline uint64_t sum_lanes(__m512i a)
{
	return (uint64_t)_mm512_reduce_add_epi64(_mm512_sad_epu8(a, _mm512_setzero_si512()));
}

void cls_text_stats_avx512(const uint8_t *p, size_t n, struct cls_text_stats *st)
{
	const __m512i code_lo =
		_mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)code_lo_tbl));
	const __m512i math_lo =
		_mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)math_lo_tbl));
	const __m512i hibit = _mm512_broadcast_i32x4(
		_mm_setr_epi8(1, 2, 4, 8, 16, 32, 64, -128, 0, 0, 0, 0, 0, 0, 0, 0));
	const __m512i nib = _mm512_set1_epi8(0x0f), one = _mm512_set1_epi8(1);
	const __m512i c0 = _mm512_set1_epi8('0'), cA = _mm512_set1_epi8('A');
	const __m512i ca = _mm512_set1_epi8('a'), c21 = _mm512_set1_epi8(0x21);
	const __m512i n9 = _mm512_set1_epi8(9), n25 = _mm512_set1_epi8(25);
	const __m512i n5d = _mm512_set1_epi8(0x7e - 0x21), sp = _mm512_set1_epi8(0x20);
	const __m512i nl = _mm512_set1_epi8('\n'), qm = _mm512_set1_epi8('?');
	const __m512i atc = _mm512_set1_epi8('@');
	uint64_t tot[K_COUNT] = { 0 };
	struct word_state ws = { 0 };
	struct digit_state ds = { 0 };
	size_t off = 0;

	while (off < n) {
		__m512i a_dig = _mm512_setzero_si512(), a_up = a_dig, a_low = a_dig, a_pr = a_dig;
		__m512i a_code = a_dig, a_math = a_dig, a_na = a_dig, a_nl = a_dig, a_q = a_dig;
		__m512i a_at = a_dig;
		size_t chunk_end = n - off > 255 * 64 ? off + 255 * 64 : n;

		for (; off < chunk_end; off += 64) {
			/* a masked load reads nothing past n: NUL fill is a separator, in no class */
			__mmask64 live = n - off >= 64 ? ~0ull : (1ull << (n - off)) - 1;
			__m512i v = _mm512_maskz_loadu_epi8(live, p + off);
			__m512i lo = _mm512_and_si512(v, nib);
			__m512i hb = _mm512_shuffle_epi8(
				hibit, _mm512_and_si512(_mm512_srli_epi16(v, 4), nib));

			__mmask64 dm = _mm512_cmple_epu8_mask(_mm512_sub_epi8(v, c0), n9);

			a_dig = _mm512_mask_add_epi8(a_dig, dm, a_dig, one);
			digit_block(&ds, dm);
			a_up = _mm512_mask_add_epi8(
				a_up, _mm512_cmple_epu8_mask(_mm512_sub_epi8(v, cA), n25), a_up, one);
			a_low = _mm512_mask_add_epi8(
				a_low, _mm512_cmple_epu8_mask(_mm512_sub_epi8(v, ca), n25), a_low, one);
			a_pr = _mm512_mask_add_epi8(
				a_pr, _mm512_cmple_epu8_mask(_mm512_sub_epi8(v, c21), n5d), a_pr, one);
			/* the sets themselves are counted here; NUL fill is in neither */
			a_code = _mm512_mask_add_epi8(
				a_code, _mm512_test_epi8_mask(_mm512_shuffle_epi8(code_lo, lo), hb),
				a_code, one);
			a_math = _mm512_mask_add_epi8(
				a_math, _mm512_test_epi8_mask(_mm512_shuffle_epi8(math_lo, lo), hb),
				a_math, one);
			a_na = _mm512_mask_add_epi8(a_na, _mm512_movepi8_mask(v), a_na, one);
			a_nl = _mm512_mask_add_epi8(a_nl, _mm512_cmpeq_epi8_mask(v, nl), a_nl, one);
			a_q = _mm512_mask_add_epi8(a_q, _mm512_cmpeq_epi8_mask(v, qm), a_q, one);
			a_at = _mm512_mask_add_epi8(a_at, _mm512_cmpeq_epi8_mask(v, atc), a_at, one);
			word_block(&ws, _mm512_cmpgt_epu8_mask(v, sp));
		}
		tot[K_DIGIT] += sum_lanes(a_dig);
		tot[K_UPPER] += sum_lanes(a_up);
		tot[K_LOWER] += sum_lanes(a_low);
		tot[K_PRINT] += sum_lanes(a_pr);
		tot[K_CODE] += sum_lanes(a_code);
		tot[K_MATH] += sum_lanes(a_math);
		tot[K_NONASCII] += sum_lanes(a_na);
		tot[K_NL] += sum_lanes(a_nl);
		tot[K_Q] += sum_lanes(a_q);
		tot[K_AT] += sum_lanes(a_at);
	}

	st->bytes = n;
	st->digits = tot[K_DIGIT];
	st->upper = tot[K_UPPER];
	st->lower = tot[K_LOWER];
	st->punct = tot[K_PRINT] - tot[K_DIGIT] - tot[K_UPPER] - tot[K_LOWER];
	st->code = tot[K_CODE];
	st->math = tot[K_MATH];
	st->nonascii = tot[K_NONASCII];
	st->newlines = tot[K_NL];
	st->questions = tot[K_Q];
	st->at = tot[K_AT];
	st->digit_run4 = ds.hit != 0;
	word_finish(&ws, st);
}

#endif /* __AVX512BW__ */

/* The widest path this build was compiled for (-march). */
void cls_text_stats(const uint8_t *p, size_t n, struct cls_text_stats *st)
{
#if defined(__AVX512BW__)
	cls_text_stats_avx512(p, n, st);
#elif defined(__AVX2__)
	cls_text_stats_avx2(p, n, st);
#else
	cls_text_stats_scalar(p, n, st);
#endif
}
