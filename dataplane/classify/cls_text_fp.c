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
 * The AVX-512 path with VBMI/GFNI/BITALG classifies with one 128-entry table
 * lookup per 64 bytes and counts the class bits with a bit-plane transpose
 * and a byte popcount; see there. Without those extensions the AVX-512BW
 * path compares per class, like the AVX2 one.
 * The scalar path is the reference: it gives the same numbers byte for byte
 * (the unit test compares all paths on random and crafted buffers).
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
 * (AVX-512BW path, min over 300 rounds of 64 real 2 KB texts: 262-270 ns
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

/* The longest-run part of word_block(): runs carried across blocks and inside w. */
static inline void word_runs(struct word_state *ws, uint64_t w)
{
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

static inline void word_block(struct word_state *ws, uint64_t w)
{
	ws->wbytes += (uint64_t)__builtin_popcountll(w);
	ws->words += (uint64_t)__builtin_popcountll(w & ~((w << 1) | ws->prev));
	ws->prev = w >> 63;
	word_runs(ws, w);
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

#if defined(CLS_STATS_AVX512X)

/*
 * AVX-512 with VBMI, GFNI, BITALG and VPOPCNTDQ (Ice Lake and later): per
 * 64-byte block ONE 128-entry table lookup (VPERMI2B) gives each ASCII byte a
 * byte of class bits; non-ASCII bytes get 0 (zero-masked) and are counted
 * from the sign mask. GF2P8AFFINEQB with the data as the matrix transposes
 * every 8 class bytes into 8 bit planes, VPOPCNTB counts each plane, and one
 * byte add accumulates all eight classes: 4 vector operations for 8 classes,
 * where a compare and a masked add per class cost ~2 per class and queued on
 * port 5 (old path, min over 300 rounds of 64 real 2 KB texts: ~195 ns of
 * the ~280 ns pass were the classes).
 * The word, digit, nonascii and '@' masks are stored as 64-bit k-masks and
 * handled per group of 8 blocks in 8 qword lanes (VPOPCNTQ, lane shifts with
 * VALIGNQ) instead of ~30 scalar operations per block; the longest word is
 * the larger of the runs crossing a block edge (suffix of one lane + prefix
 * of the next, VPLZCNTQ/VPOPCNTQ) and the runs inside a lane, searched only
 * when a lane can hold a run longer than the longest so far.
 * Per block the vector work is ~9 uops, 5 of them port-5 only (the lookup,
 * the three compares, VPOPCNTB): moving one to port 0 (the digit mask as the
 * class byte's sign bit) saved ~2 %, moving one to port 5 cost ~6 %.
 * Min over 400 rounds of 64 real 2 KB texts, same process: old AVX-512BW
 * path ~255 ns, this one ~98 ns (blocks ~60, group work ~35, reductions).
 */

/* Class bits of the lookup table; each is also the byte position of its count in a qword. */
enum {
	TB_Q = 0,
	TB_UPPER = 1,
	TB_LOWER = 2,
	TB_PRINT = 3, /* 0x21..0x7e */
	TB_CODE = 4,
	TB_MATH = 5,
	TB_NL = 6,
	TB_DIGIT = 7, /* the sign bit: the digit mask is VPMOVB2M (port 0), not a test (port 5) */
	TB_COUNT = 8,
};

#define TB_IN(c, lo, hi) ((c) >= (lo) && (c) <= (hi))
#define TB_CODE_SET(c)                                                                       \
	((c) == '{' || (c) == '}' || (c) == '[' || (c) == ']' || (c) == ';' || (c) == '=' || \
	 (c) == '<' || (c) == '>' || (c) == '_' || (c) == '|' || (c) == '`' || (c) == '#' || \
	 (c) == '~' || (c) == '&')
#define TB_MATH_SET(c)                                                                       \
	((c) == '+' || (c) == '*' || (c) == '/' || (c) == '^' || (c) == '=' || (c) == '<' || \
	 (c) == '>' || (c) == '%' || (c) == '$' || (c) == '\\' || (c) == '(' || (c) == ')')
#define TB(c)                                                                                \
	(uint8_t)(TB_IN(c, '0', '9') << TB_DIGIT | TB_IN(c, 'A', 'Z') << TB_UPPER |           \
		  TB_IN(c, 'a', 'z') << TB_LOWER | TB_IN(c, 0x21, 0x7e) << TB_PRINT |         \
		  TB_CODE_SET(c) << TB_CODE | TB_MATH_SET(c) << TB_MATH | ((c) == '\n') << TB_NL | \
		  ((c) == '?') << TB_Q)
#define TB4(c) TB(c), TB((c) + 1), TB((c) + 2), TB((c) + 3)
#define TB16(c) TB4(c), TB4((c) + 4), TB4((c) + 8), TB4((c) + 12)
#define TB64(c) TB16(c), TB16((c) + 16), TB16((c) + 32), TB16((c) + 48)

/*
 * Class bits of ASCII byte c at [c], built by the compiler from the same
 * definitions as byte_class() (the sets are spelled out again here; the unit
 * tests compare every path with the scalar reference on every byte value).
 */
static const uint8_t class_tbl[128] __attribute__((aligned(64))) = { TB64(0), TB64(64) };

/* Longest run of ones inside one qword lane of x, given that one is >= k (k >= 1) long. */
static inline uint32_t longest_in_lanes(__m512i cur, uint32_t k)
{
	/* cur: bit i set where bits i..i+k-1 of the lane are all ones */
	while (k < 64) {
		__m512i c = _mm512_and_si512(cur, _mm512_srl_epi64(cur, _mm_cvtsi32_si128((int)k)));

		if (!_mm512_test_epi64_mask(c, c))
			break;
		cur = c;
		k *= 2;
	}
	/* the longest is now in [k, 2k): add the powers of two below k that fit */
	for (uint32_t s = 32; s; s /= 2) {
		if (s >= k || k + s > 64)
			continue;
		__m512i c = _mm512_and_si512(cur, _mm512_srl_epi64(cur, _mm_cvtsi32_si128((int)s)));

		if (_mm512_test_epi64_mask(c, c)) {
			cur = c;
			k += s;
		}
	}
	return k;
}

/*
 * Bit i of each qword lane set where bits i..i+len-1 of x are all ones
 * (1 <= len <= 64); has_run() on 8 lanes. The doubling steps shift by
 * immediates (one uop each; a shift by an xmm count is two).
 */
static inline __m512i runs_at_least(__m512i x, uint32_t len)
{
	uint32_t k = 1;

#define RUNS_STEP(s)                                                        \
	if (len >= 2 * (s)) {                                               \
		x = _mm512_and_si512(x, _mm512_srli_epi64(x, (s)));         \
		k = 2 * (s);                                                \
	}
	RUNS_STEP(1)
	RUNS_STEP(2)
	RUNS_STEP(4)
	RUNS_STEP(8)
	RUNS_STEP(16)
	RUNS_STEP(32)
#undef RUNS_STEP
	if (len > k)
		x = _mm512_and_si512(x, _mm512_srlv_epi64(x, _mm512_set1_epi64(len - k)));
	return x;
}

/*
 * False when no qword lane of x can hold a run of len ones, in one compare: a
 * run of at least 2c - 1 ones covers an aligned c-bit chunk, so runs of 15,
 * 31, 63 need a 0xff byte, word, dword. Once the longest word so far is 14 or
 * more, most groups of prose are refused here instead of by the ~6 shift
 * steps of runs_at_least().
 */
static inline bool maybe_runs_at_least(__m512i x, uint32_t len)
{
	const __m512i ones = _mm512_set1_epi64(-1);

	if (len >= 63)
		return _mm512_cmpeq_epi32_mask(x, ones) != 0;
	if (len >= 31)
		return _mm512_cmpeq_epi16_mask(x, ones) != 0;
	if (len >= 15)
		return _mm512_cmpeq_epi8_mask(x, ones) != 0;
	return true;
}

/* State carried from one group of 8 blocks to the next. */
struct group_state {
	__m512i wprev, dprev, eprev; /* last group's word, digit, digit-pair masks (lane 7 used) */
	__m512i words, wbytes, nonascii, at; /* qword lane sums */
	__m512i digit_hit;           /* nonzero once a run of four digits was seen */
	__m512i cross;               /* lane max of the word runs crossing a block edge */
	__m512i suf;                 /* lane 7: word bytes at the end of the last group */
	uint32_t best;               /* longest run found inside a block or by word_runs() */
};

/* Word bytes at the end of the last group (the run a next block continues). */
static inline uint32_t gs_run(const struct group_state *gs)
{
	return (uint32_t)_mm_extract_epi64(_mm512_extracti64x2_epi64(gs->suf, 3), 1);
}

/* The k-masks of one group of 8 blocks (element i = block i; bit j = byte j). */
struct group_masks {
	uint64_t w[8];  /* byte > 0x20 (in a word) */
	uint64_t d[8];  /* '0'..'9' */
	uint64_t na[8]; /* >= 0x80 */
	uint64_t at[8]; /* '@' */
};

/* Word, digit-run, nonascii and '@' statistics of one group's masks, in 8 qword lanes. */
static inline void group_stats(struct group_state *gs, const struct group_masks *gm)
{
	/* ternary-logic immediates over (A, B, C) = (0xf0, 0xcc, 0xaa): C & ~(A | B), C & (A | B) */
	enum { C_ANDNOT_OR = 0x02, C_AND_OR = 0xa8 };
	const __m512i ones = _mm512_set1_epi64(-1);
	__m512i w = _mm512_loadu_si512(gm->w);
	__m512i d = _mm512_loadu_si512(gm->d);
	__m512i wp = _mm512_alignr_epi64(w, gs->wprev, 7); /* lane i: block i-1 */
	__m512i dp = _mm512_alignr_epi64(d, gs->dprev, 7);
	__m512i e2, e2p;

	gs->nonascii = _mm512_add_epi64(gs->nonascii, _mm512_popcnt_epi64(_mm512_loadu_si512(gm->na)));
	gs->at = _mm512_add_epi64(gs->at, _mm512_popcnt_epi64(_mm512_loadu_si512(gm->at)));
	gs->wbytes = _mm512_add_epi64(gs->wbytes, _mm512_popcnt_epi64(w));
	/* a word starts at a word byte whose predecessor (maybe in the previous block) is not one */
	gs->words = _mm512_add_epi64(
		gs->words, _mm512_popcnt_epi64(_mm512_ternarylogic_epi64(
				   _mm512_slli_epi64(w, 1), _mm512_srli_epi64(wp, 63), w, C_ANDNOT_OR)));
	/* digit_block() on 8 lanes: pairs, then pairs of pairs, across block edges */
	e2 = _mm512_ternarylogic_epi64(_mm512_slli_epi64(d, 1), _mm512_srli_epi64(dp, 63), d, C_AND_OR);
	e2p = _mm512_alignr_epi64(e2, gs->eprev, 7);
	gs->digit_hit = _mm512_or_si512(
		gs->digit_hit, _mm512_ternarylogic_epi64(_mm512_slli_epi64(e2, 2),
							 _mm512_srli_epi64(e2p, 62), e2, C_AND_OR));
	gs->wprev = w;
	gs->dprev = d;
	gs->eprev = e2;

	if (_mm512_cmpeq_epi64_mask(w, ones)) {
		/* a block of 64 word bytes: the run goes on over lanes; rare, done per block */
		struct word_state ws = { .run = gs_run(gs), .best = gs->best };

		for (int i = 0; i < 8; i++)
			word_runs(&ws, gm->w[i]);
		gs->suf = _mm512_set1_epi64(ws.run);
		gs->best = ws.best;
		return;
	}
	/*
	 * No lane is all ones: a run crossing edge i is lane i-1's suffix (leading
	 * ones) plus lane i's prefix (trailing ones: the ones of w & ~(w + 1)).
	 */
	__m512i suf = _mm512_lzcnt_epi64(_mm512_xor_si512(w, ones));
	__m512i pre = _mm512_popcnt_epi64(
		_mm512_andnot_si512(_mm512_add_epi64(w, _mm512_set1_epi64(1)), w));

	gs->cross = _mm512_max_epu64(gs->cross,
				     _mm512_add_epi64(_mm512_alignr_epi64(suf, gs->suf, 7), pre));
	gs->suf = suf;
	/* runs inside a lane matter only when longer than the longest so far */
	if (gs->best < 63 && maybe_runs_at_least(w, gs->best + 1)) {
		__m512i x = runs_at_least(w, gs->best + 1);

		if (_mm512_test_epi64_mask(x, x))
			gs->best = longest_in_lanes(x, gs->best + 1);
	}
}

/* Lookup table and constants of block_classes(). */
struct block_consts {
	__m512i tlo, thi; /* class_tbl[0..63], [64..127] */
	__m512i planes;   /* byte i = 1 << i: GF2P8AFFINEQB(planes, x) byte i = bit i of x's 8 bytes */
	__m512i sp, atc;
};

/*
 * Classifies the 64 bytes v into gm's element b and adds the class counts of
 * every 8 bytes to c8 (byte j of each qword: class bit j).
 */
static inline __m512i block_classes(const struct block_consts *k, __m512i v, __m512i c8,
				    struct group_masks *gm, int b)
{
	__mmask64 na = _mm512_movepi8_mask(v);
	__m512i cls = _mm512_maskz_permutex2var_epi8(_knot_mask64(na), k->tlo, v, k->thi);

	/* plain stores (kmovq to memory): a __mmask64 pointer into these uint64_t
	 * fields would be an aliasing violation */
	gm->na[b] = na;
	gm->d[b] = _mm512_movepi8_mask(cls);
	gm->w[b] = _mm512_cmpgt_epu8_mask(v, k->sp);
	gm->at[b] = _mm512_cmpeq_epi8_mask(v, k->atc);
	return _mm512_add_epi8(c8, _mm512_popcnt_epi8(_mm512_gf2p8affine_epi64_epi8(k->planes, cls, 0)));
}

/* Groups per chunk: the 16-bit class sums gain <= 2 x 64 per group (no overflow). */
#define CHUNK_GROUPS 256

void cls_text_stats_avx512(const uint8_t *p, size_t n, struct cls_text_stats *st)
{
	const __m512i zero = _mm512_setzero_si512();
	const struct block_consts k = {
		.tlo = _mm512_load_si512(class_tbl),
		.thi = _mm512_load_si512(class_tbl + 64),
		.planes = _mm512_set1_epi64(0x8040201008040201ll),
		.sp = _mm512_set1_epi8(0x20),
		.atc = _mm512_set1_epi8('@'),
	};
	struct group_state gs = { .wprev = zero, .dprev = zero, .eprev = zero, .words = zero,
				  .wbytes = zero, .nonascii = zero, .at = zero, .digit_hit = zero,
				  .cross = zero, .suf = zero, .best = 0 };
	/*
	 * Group g's masks are read back while group g+1 is classified: read
	 * right after their 32 k-mask stores, the 64-byte loads cannot be
	 * forwarded from them and wait for the stores to reach L1 (one group
	 * later: ~108 ns instead of ~123 per 2 KB).
	 */
	struct group_masks gmb[2];
	int cur = 0;
	bool pending = false;
	uint64_t tot[TB_COUNT] = { 0 };
	size_t off = 0;

	while (off < n) {
		__m512i c16 = zero; /* 16-bit lane j of each 128-bit lane: class j */

		for (int g = 0; g < CHUNK_GROUPS && off < n; g++) {
			__m512i c8 = zero; /* byte j of each qword: class j, <= 64 */

			if (n - off >= 8 * 64) {
				for (int b = 0; b < 8; b++, off += 64)
					c8 = block_classes(&k, _mm512_loadu_si512(p + off), c8, &gmb[cur], b);
			} else {
				/* the last group: masked loads read nothing past n; NUL is a separator, in no class */
				struct group_masks *gm = &gmb[cur];
				int b = 0;

				for (; off < n; b++) {
					size_t left = n - off;
					__mmask64 live = left >= 64 ? ~0ull : (1ull << left) - 1;

					c8 = block_classes(&k, _mm512_maskz_loadu_epi8(live, p + off), c8, gm,
							   b);
					off += left >= 64 ? 64 : left;
				}
				/* blocks past the end hold no bytes */
				for (; b < 8; b++)
					gm->w[b] = gm->d[b] = gm->na[b] = gm->at[b] = 0;
			}
			if (pending)
				group_stats(&gs, &gmb[cur ^ 1]);
			pending = true;
			cur ^= 1;
			c16 = _mm512_add_epi16(c16, _mm512_add_epi16(_mm512_unpacklo_epi8(c8, zero),
								     _mm512_unpackhi_epi8(c8, zero)));
		}
		uint16_t s[32];

		_mm512_storeu_si512(s, c16);
		for (int j = 0; j < TB_COUNT; j++)
			tot[j] += (uint64_t)s[j] + s[8 + j] + s[16 + j] + s[24 + j];
	}

	if (pending)
		group_stats(&gs, &gmb[cur ^ 1]);
	uint64_t cross = _mm512_reduce_max_epu64(gs.cross);
	uint64_t best = gs.best > cross ? gs.best : cross;

	if (gs_run(&gs) > best)
		best = gs_run(&gs);
	st->bytes = n;
	st->digits = tot[TB_DIGIT];
	st->upper = tot[TB_UPPER];
	st->lower = tot[TB_LOWER];
	st->punct = tot[TB_PRINT] - tot[TB_DIGIT] - tot[TB_UPPER] - tot[TB_LOWER];
	st->code = tot[TB_CODE];
	st->math = tot[TB_MATH];
	st->nonascii = (uint64_t)_mm512_reduce_add_epi64(gs.nonascii);
	st->newlines = tot[TB_NL];
	st->questions = tot[TB_Q];
	st->at = (uint64_t)_mm512_reduce_add_epi64(gs.at);
	st->digit_run4 = _mm512_test_epi64_mask(gs.digit_hit, gs.digit_hit) != 0;
	st->wbytes = (uint64_t)_mm512_reduce_add_epi64(gs.wbytes);
	st->words = (uint64_t)_mm512_reduce_add_epi64(gs.words);
	st->longest = best > CLS_LONGEST_WORD_CAP ? CLS_LONGEST_WORD_CAP : (uint32_t)best;
}

#endif /* CLS_STATS_AVX512X */

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

void cls_text_stats_avx512bw(const uint8_t *p, size_t n, struct cls_text_stats *st)
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
#if defined(CLS_STATS_AVX512X)
	cls_text_stats_avx512(p, n, st);
#elif defined(__AVX512BW__)
	cls_text_stats_avx512bw(p, n, st);
#elif defined(__AVX2__)
	cls_text_stats_avx2(p, n, st);
#else
	cls_text_stats_scalar(p, n, st);
#endif
}
