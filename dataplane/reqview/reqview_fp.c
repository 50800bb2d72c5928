/* SPDX-License-Identifier: Proprietary */
/*
 * reqview_fp.c - one pass over an OpenAI-style JSON request body (RFC 8259) into a
 * bounded struct rv_view.  Fast path: no allocation, no recursion (the fixed call
 * chain request -> messages -> message -> part goes 4 functions deep; any other value
 * is skipped by an iterative skipper with a bit stack), no libc calls beyond
 * memcpy/memcmp/memset.
 *
 * Strings are scanned 64 bytes at a time with AVX-512 (BW, VBMI, VBMI2; scan64): one
 * pass finds '"', '\\', controls and non-ASCII bytes as bit masks, works out which
 * backslashes start an escape (the simdjson odd/even carry), translates one-letter
 * escapes with one 128-entry byte permute and drops their backslashes with a byte
 * compress, so text with a "\n" or "\"" every few words is copied without leaving
 * the vector loop; "\u" escapes, controls, the closing quote and the end of the body
 * stop it.  The last block is read with a masked load, so nothing past the end is
 * touched.  Without AVX-512 (chosen at compile time, -march) strings are scanned 32
 * bytes at a time with AVX2 (16 with SSE2) and every escape leaves the vector loop.
 * Blocks holding non-ASCII bytes are checked as UTF-8 in the vector unit too (RFC
 * 3629 section 4, by the Keiser-Lemire table method); a block that fails goes to a
 * scalar decoder that finds the exact offset.  Text is copied while it is scanned.
 * Keys and short values whose closing quote is in their first 64 (32) bytes take one
 * vector compare.
 *
 * Cost: see README.md (bench_reqview numbers with the command that made them).
 *
 * Errors: the first one wins; the offset is where it was seen.  When the body ends
 * where more JSON was required, the error is RV_ERR_TRUNCATED, so a prefix of a valid
 * body always says TRUNCATED (unless a limit or the top-level type already failed).
 */
#include <string.h>

#if defined(__AVX2__) || defined(__SSE2__)
#include <immintrin.h>
#endif

/*
 * The 64-byte string scan (scan64) wants AVX-512 BW (byte masks), VBMI (a 128-entry
 * byte table in one permute), VBMI2 (byte compress, to drop escape backslashes) and
 * BMI1/BMI2; chosen at compile time (-march=native), else the AVX2 / SSE2 / scalar path.
 */
#if defined(__AVX512BW__) && defined(__AVX512VBMI__) && defined(__AVX512VBMI2__) && \
	defined(__BMI__) && defined(__BMI2__) && defined(__AVX2__)
#define RV_AVX512 1
#else
#define RV_AVX512 0
#endif

#include "reqview.h"

#define NONE UINT32_MAX

/* Parser state of one rv_parse() call (lives on the stack). */
struct rv_p {
	const uint8_t *base; /* body start */
	const uint8_t *p;    /* cursor */
	const uint8_t *end;  /* body end (never read at or past) */
	char *arena;
	uint32_t lo;	    /* bytes of text at the bottom of the arena */
	uint32_t hi;	    /* short strings occupy arena[hi..cap) */
	uint32_t cur_start; /* arena offset of the current message's text, NONE */
	uint32_t depth;	    /* open containers, the top object is 1 */
	uint32_t max_depth;
	const struct rv_limits *lim;
	struct rv_ctx *ctx;
	struct rv_view *v;
	enum rv_err err;
	const uint8_t *err_at;
	uint8_t keybuf[128]; /* an escaped key, unescaped (long ones cannot be known keys) */
};

/* A member name: raw bytes when unescaped, else keybuf. */
struct rv_key {
	const uint8_t *p;
	uint32_t len;
	const uint8_t *at; /* the opening quote in the body, for error offsets */
	uint32_t raw_len;  /* bytes of the quoted name in the body, quotes included */
};

static inline uint64_t ld8(const void *a)
{
	uint64_t x;

	memcpy(&x, a, 8);
	return x;
}

static inline uint32_t ld4(const void *a)
{
	uint32_t x;

	memcpy(&x, a, 4);
	return x;
}

/*
 * a[0..n) == lit[0..n) for a literal (n known at compile time): two overlapping
 * word compares against constants instead of a memcmp call (gcc calls memcmp for
 * 9 bytes and up).  Reads only a[0..n).
 */
static inline __attribute__((always_inline)) bool eq_lit(const void *a, const char *lit,
							 size_t n)
{
	const uint8_t *x = a;

	if (n > 16)
		return memcmp(x, lit, n) == 0;
	if (n >= 8)
		return ld8(x) == ld8(lit) && ld8(x + n - 8) == ld8(lit + n - 8);
	if (n >= 4)
		return ld4(x) == ld4(lit) && ld4(x + n - 4) == ld4(lit + n - 4);
	return memcmp(x, lit, n) == 0;
}

#define KEY_IS(k, lit) ((k)->len == sizeof(lit) - 1 && eq_lit((k)->p, lit, sizeof(lit) - 1))
#define STR_IS(s, lit) ((s).len == sizeof(lit) - 1 && eq_lit((s).p, lit, sizeof(lit) - 1))

static inline bool fail(struct rv_p *p, enum rv_err e, const uint8_t *at)
{
	if (p->err == RV_OK) {
		p->err = e;
		p->err_at = at;
	}
	return false;
}

static inline bool is_ws(uint8_t c)
{
	return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

static inline void skip_ws(struct rv_p *p)
{
	/* Every byte that can start or end a token is above ' ': one compare for them. */
	while (p->p < p->end && *p->p <= ' ' && is_ws(*p->p))
		p->p++;
}

/* Skips whitespace and requires one more byte. */
static inline bool ws_need(struct rv_p *p)
{
	skip_ws(p);
	if (p->p >= p->end)
		return fail(p, RV_ERR_TRUNCATED, p->end);
	return true;
}

static inline bool plain(uint8_t c)
{
	return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

#if defined(__AVX2__)

/* Error classes of a byte pair, for the lookups of utf8_errors32/64. */
enum utf8_cls {
	U8_SHORT = 1 << 0, /* lead then no continuation */
	U8_LONG = 1 << 1, /* ASCII then continuation */
	U8_OVER3 = 1 << 2, /* E0 80..9F */
	U8_LARGE = 1 << 3, /* F4 90..BF, F5..FF 90..BF: above U+10FFFF */
	U8_SURR = 1 << 4, /* ED A0..BF: UTF-16 surrogates */
	U8_OVER2 = 1 << 5, /* C0/C1 then continuation */
	U8_BIG1000 = 1 << 6, /* F5..FF 80..8F (above U+10FFFF), and F0 80..8F (overlong) */
	U8_CONTS = 1 << 7, /* continuation then continuation */
	U8_CARRY = U8_SHORT | U8_LONG | U8_CONTS,
};

/* The three lookup tables of utf8_errors32/64 (16 entries, one per nibble). */
static const uint8_t utf8_t_prev_hi[16] = {
	U8_LONG, U8_LONG, U8_LONG, U8_LONG, U8_LONG, U8_LONG, U8_LONG, U8_LONG,
	U8_CONTS, U8_CONTS, U8_CONTS, U8_CONTS, U8_SHORT | U8_OVER2, U8_SHORT,
	U8_SHORT | U8_OVER3 | U8_SURR, U8_SHORT | U8_LARGE | U8_BIG1000,
};
/* By the low nibble of the previous byte (which lead: C0/C1, E0, ED, F0, F4, F5+). */
static const uint8_t utf8_t_prev_lo[16] = {
	U8_CARRY | U8_OVER3 | U8_OVER2 | U8_BIG1000,	/* 0: C0, E0, F0 */
	U8_CARRY | U8_OVER2,				/* 1: C1 */
	U8_CARRY,
	U8_CARRY,
	U8_CARRY | U8_LARGE,				/* 4: F4 */
	U8_CARRY | U8_LARGE | U8_BIG1000,		/* 5..F: F5+ */
	U8_CARRY | U8_LARGE | U8_BIG1000,
	U8_CARRY | U8_LARGE | U8_BIG1000,
	U8_CARRY | U8_LARGE | U8_BIG1000,
	U8_CARRY | U8_LARGE | U8_BIG1000,
	U8_CARRY | U8_LARGE | U8_BIG1000,
	U8_CARRY | U8_LARGE | U8_BIG1000,
	U8_CARRY | U8_LARGE | U8_BIG1000,
	U8_CARRY | U8_LARGE | U8_BIG1000 | U8_SURR,	/* D: ED */
	U8_CARRY | U8_LARGE | U8_BIG1000,
	U8_CARRY | U8_LARGE | U8_BIG1000,
};
/* By the high nibble of this byte. */
static const uint8_t utf8_t_cur_hi[16] = {
	U8_SHORT, U8_SHORT, U8_SHORT, U8_SHORT, U8_SHORT, U8_SHORT, U8_SHORT, U8_SHORT,
	U8_LONG | U8_OVER2 | U8_CONTS | U8_OVER3 | U8_BIG1000,	/* 8 */
	U8_LONG | U8_OVER2 | U8_CONTS | U8_OVER3 | U8_LARGE,	/* 9 */
	U8_LONG | U8_OVER2 | U8_CONTS | U8_SURR | U8_LARGE,	/* A */
	U8_LONG | U8_OVER2 | U8_CONTS | U8_SURR | U8_LARGE,	/* B */
	U8_SHORT, U8_SHORT, U8_SHORT, U8_SHORT,
};

/*
 * Lanes of the 32 bytes x (loaded from s) that break UTF-8 (RFC 3629 section 4), by
 * the table method of Keiser and Lemire ("Validating UTF-8 In Less Than One
 * Instruction Per Byte", 2021).  Each byte is judged with the one before it: the
 * high nibble of the previous byte, its low nibble and the high nibble of this byte
 * each look up a set of error classes the pair could be in; the pair is bad when
 * all three agree.  Two continuations in a row are bad unless a lead two or three
 * bytes back asks for them.  Reads s[-3..-1], which must be in the buffer; bytes
 * before a string are ASCII or end a sequence already checked.
 */
static inline uint32_t utf8_errors32(const uint8_t *s, __m256i x)
{
	const __m256i lo4 = _mm256_set1_epi8(0x0F);
	/* By the high nibble of the previous byte, its low nibble, this byte's high nibble. */
	const __m256i t_prev_hi =
		_mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)utf8_t_prev_hi));
	const __m256i t_prev_lo =
		_mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)utf8_t_prev_lo));
	const __m256i t_cur_hi =
		_mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)utf8_t_cur_hi));
	__m256i p1 = _mm256_loadu_si256((const __m256i *)(const void *)(s - 1));
	__m256i p2 = _mm256_loadu_si256((const __m256i *)(const void *)(s - 2));
	__m256i p3 = _mm256_loadu_si256((const __m256i *)(const void *)(s - 3));
	__m256i sc = _mm256_and_si256(
		_mm256_and_si256(
			_mm256_shuffle_epi8(t_prev_hi,
					    _mm256_and_si256(_mm256_srli_epi16(p1, 4), lo4)),
			_mm256_shuffle_epi8(t_prev_lo, _mm256_and_si256(p1, lo4))),
		_mm256_shuffle_epi8(t_cur_hi, _mm256_and_si256(_mm256_srli_epi16(x, 4), lo4)));
	/* Bit 7 where a lead 2 back (E0+) or 3 back (F0+) wants this byte continued. */
	__m256i want = _mm256_and_si256(
		_mm256_or_si256(_mm256_subs_epu8(p2, _mm256_set1_epi8((char)(0xE0 - 0x80))),
				_mm256_subs_epu8(p3, _mm256_set1_epi8((char)(0xF0 - 0x80)))),
		_mm256_set1_epi8((char)0x80));
	__m256i err = _mm256_xor_si256(want, sc);

	return ~(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(err, _mm256_setzero_si256()));
}

/* Lanes of x that end a plain run inside a string: '"', '\\' and bytes 0x00..0x1f. */
static inline uint32_t ascii_special32(__m256i x)
{
	__m256i ctl = _mm256_cmpeq_epi8(_mm256_min_epu8(x, _mm256_set1_epi8(0x1F)), x);

	return (uint32_t)_mm256_movemask_epi8(
		_mm256_or_si256(_mm256_or_si256(_mm256_cmpeq_epi8(x, _mm256_set1_epi8('"')),
						_mm256_cmpeq_epi8(x, _mm256_set1_epi8('\\'))),
				ctl));
}

/*
 * Whether the non-ASCII bytes of the block x at s, up to and including lane k of its
 * first special (or all lanes when special is 0), are valid UTF-8.
 */
static inline bool block_utf8_ok(const uint8_t *base, const uint8_t *s, __m256i x,
				 uint32_t special)
{
	uint32_t upto = special != 0 ? (2u << __builtin_ctz(special)) - 1 : ~0u;

	/* "2u << 31" is 0, so lane 31 gives 0 - 1: all lanes, as wanted. */
	if (s - base < 3)
		return false;
	return (utf8_errors32(s, x) & upto) == 0;
}

/*
 * Where the scalar code must resume after the vector scan stopped at s: at the lead
 * of a sequence that s cuts (a lead up to 3 bytes back whose length reaches s or
 * beyond), so the scalar decoder sees whole sequences and reports a cut one.  Never
 * before lo, where the scan started (a character boundary).
 */
static inline const uint8_t *char_start(const uint8_t *s, const uint8_t *lo)
{
	int i;

	for (i = 1; i <= 3 && s - i >= lo; i++) {
		uint8_t b = s[-i];

		if (b < 0x80)
			break;
		if (b >= 0xC0) {
			int len = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : 2;

			return len > i ? s - i : s;
		}
	}
	return s;
}
#endif

/*
 * What a one-letter escape stands for (RFC 8259 section 7); 0: not one ("\u",
 * anything else). Aligned: the AVX-512 scan loads its first 128 entries as two
 * 64-byte halves for _mm512_permutex2var_epi8, which indexes by the low 7 bits
 * (the scan drops the non-ASCII lanes of the result).
 */
static const uint8_t esc_tab[256] __attribute__((aligned(64))) = {
	['"'] = '"', ['\\'] = '\\', ['/'] = '/', ['b'] = '\b',
	['f'] = '\f', ['n'] = '\n', ['r'] = '\r', ['t'] = '\t',
};

#if RV_AVX512
/*
 * utf8_errors32() on 64 bytes: lanes of x (the bytes at s, lanes outside lm zero)
 * that break UTF-8.  The look-back loads are masked like x, so nothing at or past
 * the end of the body is read; s[-3..-1] must be in the body.
 */
static inline uint64_t utf8_errors64(const uint8_t *s, __m512i x, uint64_t lm)
{
	const __m512i lo4 = _mm512_set1_epi8(0x0F);
	const __m512i t_prev_hi =
		_mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)utf8_t_prev_hi));
	const __m512i t_prev_lo =
		_mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)utf8_t_prev_lo));
	const __m512i t_cur_hi =
		_mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)utf8_t_cur_hi));
	/* Lane j of pK is s[j - K]: valid where lane j - K of x is. */
	__m512i p1 = _mm512_maskz_loadu_epi8(lm << 1 | 1, s - 1);
	__m512i p2 = _mm512_maskz_loadu_epi8(lm << 2 | 3, s - 2);
	__m512i p3 = _mm512_maskz_loadu_epi8(lm << 3 | 7, s - 3);
	__m512i sc = _mm512_and_si512(
		_mm512_and_si512(
			_mm512_shuffle_epi8(t_prev_hi,
					    _mm512_and_si512(_mm512_srli_epi16(p1, 4), lo4)),
			_mm512_shuffle_epi8(t_prev_lo, _mm512_and_si512(p1, lo4))),
		_mm512_shuffle_epi8(t_cur_hi, _mm512_and_si512(_mm512_srli_epi16(x, 4), lo4)));
	__m512i want = _mm512_and_si512(
		_mm512_or_si512(_mm512_subs_epu8(p2, _mm512_set1_epi8((char)(0xE0 - 0x80))),
				_mm512_subs_epu8(p3, _mm512_set1_epi8((char)(0xF0 - 0x80)))),
		_mm512_set1_epi8((char)0x80));

	return _mm512_cmpneq_epi8_mask(_mm512_xor_si512(want, sc), _mm512_setzero_si512());
}

/*
 * Lanes of the bytes escaped by a backslash (not of the backslashes that start an
 * escape: those are bs & ~escaped_lanes(bs)), in a block that starts outside any
 * escape: a run of backslashes escapes every other one, and the byte after an
 * odd-length run (the even/odd carry trick of simdjson,
 * Langdale and Lemire, "Parsing Gigabytes of JSON per Second", 2019, section 3.1.1).
 */
static inline uint64_t escaped_lanes(uint64_t bs)
{
	const uint64_t even = 0x5555555555555555ull;
	uint64_t follows = bs << 1;
	uint64_t odd_starts = bs & ~even & ~follows;
	/* Adding a run's odd start carries out of the run: its parity, in one add. */
	uint64_t seq_even = odd_starts + bs;

	return (even ^ (seq_even << 1)) & follows;
}

/*
 * The string scan in 64-byte blocks (AVX-512 BW/VBMI/VBMI2), from *sp inside a
 * string: plain bytes, valid UTF-8 and one-letter escapes ("\n", "\"", ...) are taken
 * in the block without a branch per byte; with dst, the unescaped bytes are compressed
 * and stored 64 at a time at dst + *np (while cap - *np >= 64).  The last block is read
 * with a masked load, so nothing at or past end is touched.
 *
 * true: stopped at a byte the caller must handle (*sp at it, or at end): the closing
 * quote, a "\u" or bad escape, a control, or a backslash in the block's last lane.
 * false: a block failed the UTF-8 check, sits too near the body start for the
 * look-back, or the arena has less than 64 bytes left: *sp is at a character boundary
 * and the caller carries on with the byte-exact code.  *escaped is set when an escape
 * was taken.
 */
static inline __attribute__((always_inline)) bool
scan64(const uint8_t *base, const uint8_t *end, const uint8_t **sp, uint8_t *dst, uint32_t cap,
       uint32_t *np, bool *escaped)
{
	const __m512i tlo = _mm512_load_si512((const void *)esc_tab);
	const __m512i thi = _mm512_load_si512((const void *)(esc_tab + 64));
	const uint8_t *s = *sp, *lo = s;
	uint32_t n = dst != NULL ? *np : 0;
	uint64_t carry = 0; /* the previous block ended on a non-ASCII byte */
	uint64_t took = 0;  /* escape lanes taken, any block */

	while (dst == NULL || cap - n >= 64) {
		size_t avail = (size_t)(end - s);
		uint64_t lm = ~0ull;
		__m512i x;

		/* A plain load where it can be: the masked one costs a mask move. */
		if (__builtin_expect(avail >= 64, 1)) {
			x = _mm512_loadu_si512((const void *)s);
		} else {
			lm = _bzhi_u64(~0ull, (unsigned)avail);
			x = _mm512_maskz_loadu_epi8(lm, s);
		}
		uint64_t bs = _mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8('\\'));
		uint64_t quote = _mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8('"'));
		/* Controls; the zero lanes past the body too (the stop at end). */
		uint64_t ctl = _mm512_cmplt_epu8_mask(x, _mm512_set1_epi8(0x20));
		uint64_t hi = _mm512_movepi8_mask(x);
		uint64_t esc = 0, start = 0, stop, done, upto;
		__m512i tr = x;
		unsigned first;

		/*
		 * Blocks without a backslash skip the escape work (a permute and a
		 * compress, the busy port): most blocks of prose.
		 */
		if (__builtin_expect(bs == 0, 1)) {
			stop = quote | ctl;
		} else {
			uint64_t known;

			esc = escaped_lanes(bs);
			start = bs & ~esc; /* backslashes that start an escape */
			tr = _mm512_permutex2var_epi8(tlo, x, thi);
			known = _mm512_test_epi8_mask(tr, tr) & ~hi;
			/*
			 * Stop at: an unescaped quote, a control, the end, the backslash
			 * of an escape that is not a one-letter one, an escape cut by
			 * the block.
			 */
			stop = (quote & ~esc) | ctl | ((esc & ~known) >> 1) |
			       (start & (1ull << 63));
		}
		first = stop != 0 ? (unsigned)__builtin_ctzll(stop) : 64;
		/* Lanes before the stop; up to and including it for the UTF-8 check. */
		done = _bzhi_u64(~0ull, first);
		upto = _bzhi_u64(~0ull, first + 1);

		/* A sequence cut short before the stop shows at the stop. */
		if (carry != 0 || (hi & upto) != 0) {
			if (s - base < 3 || (utf8_errors64(s, x, lm) & upto) != 0)
				break;
		}
		if (dst != NULL) {
			if (bs == 0) {
				_mm512_storeu_si512((void *)(dst + n), x);
				n += first;
			} else {
				uint64_t keep = done & ~start;

				_mm512_storeu_si512((void *)(dst + n),
						    _mm512_maskz_compress_epi8(
							    keep, _mm512_mask_mov_epi8(x, esc, tr)));
				n += (uint32_t)__builtin_popcountll(keep);
			}
		}
		took |= start & done;
		/*
		 * The next load's address is s + 64 unless the block stopped: a branch
		 * rather than s + first keeps the loads off the compare chain.
		 */
		if (stop != 0) {
			*sp = s + first;
			if (dst != NULL)
				*np = n;
			*escaped |= took != 0;
			return true;
		}
		s += 64;
		carry = hi >> 63;
	}
	{
		const uint8_t *b = char_start(s, lo);

		n -= (uint32_t)(s - b);
		s = b;
	}
	*sp = s;
	if (dst != NULL)
		*np = n;
	*escaped |= took != 0;
	return false;
}
#endif

/*
 * First byte in [s, end) the caller must look at: '"', '\\', a control, or a
 * non-ASCII byte that the vector check did not clear (the scalar decoder then
 * validates it and reports the exact offset); end when none.  With AVX2, blocks of
 * valid UTF-8 are passed over; base is the body start (bounds of the look-back).
 */
static inline const uint8_t *find_special(const uint8_t *s, const uint8_t *end,
					  const uint8_t *base)
{
#if defined(__AVX2__)
	const uint8_t *lo = s;
	uint32_t hi = 0; /* non-ASCII lanes of the previous block */

	while (end - s >= 32) {
		__m256i x = _mm256_loadu_si256((const __m256i *)(const void *)s);
		uint32_t special = ascii_special32(x);

		/*
		 * An ASCII block must still be checked when the block before ended
		 * inside a sequence, which then holds its last lane.
		 */
		if ((hi >> 31) != 0 || (hi = (uint32_t)_mm256_movemask_epi8(x)) != 0) {
			hi = (uint32_t)_mm256_movemask_epi8(x);
			if (!block_utf8_ok(base, s, x, special))
				break;
		}
		if (special != 0)
			return s + __builtin_ctz(special);
		s += 32;
	}
	s = char_start(s, lo);
#else
	(void)base;
#endif
#if defined(__SSE2__)
	{
		const __m128i q16 = _mm_set1_epi8('"');
		const __m128i b16 = _mm_set1_epi8('\\');
		const __m128i c16 = _mm_set1_epi8(0x20);

		while (end - s >= 16) {
			__m128i x = _mm_loadu_si128((const __m128i *)(const void *)s);
			/* Signed compare: 0x20 > x holds for controls and for bytes >= 0x80. */
			__m128i m = _mm_or_si128(
				_mm_or_si128(_mm_cmpeq_epi8(x, q16), _mm_cmpeq_epi8(x, b16)),
				_mm_cmpgt_epi8(c16, x));
			uint32_t bits = (uint32_t)_mm_movemask_epi8(m);

			if (bits != 0)
				return s + __builtin_ctz(bits);
			s += 16;
		}
	}
#endif
	while (s < end && plain(*s))
		s++;
	return s;
}

/*
 * Length of the UTF-8 sequence at s (s[0] >= 0x80): 2..4, 0 when invalid, -1 when the
 * body ends inside a sequence that is valid so far.  RFC 3629 section 4 table: no
 * overlong forms (C0, C1, E0 80-9F, F0 80-8F), no surrogates (ED A0-BF), nothing
 * above U+10FFFF (F4 90-, F5-FF).
 */
static inline int utf8_len(const uint8_t *s, const uint8_t *end)
{
	uint8_t c = s[0], lo = 0x80, hi = 0xBF;
	ptrdiff_t avail = end - s;
	int n, i;

	if (c >= 0xC2 && c <= 0xDF) {
		n = 2;
	} else if (c >= 0xE0 && c <= 0xEF) {
		n = 3;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
	} else {
		return 0;
	}
	if (avail < 2)
		return -1;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < n; i++) {
		if (avail <= i)
			return -1;
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	}
	return n;
}

static inline int hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * Four hex digits at s (after "\u"): the value, -1 when a digit is bad, -2 when the
 * body ends first with every present digit good.
 */
static inline int32_t hex4(const uint8_t *s, const uint8_t *end)
{
	int32_t v = 0;
	int i;

	for (i = 0; i < 4; i++) {
		int h;

		if (i >= end - s)
			return -2;
		h = hexval(s[i]);
		if (h < 0)
			return -1;
		v = v << 4 | h;
	}
	return v;
}

/*
 * Decodes the escape at q (q[0] == '\\') into out (room for 4 bytes); returns the UTF-8 length
 * written and advances *qp past the escape, or 0 with the error set.  RFC 8259 section 7.
 */
static inline int unescape(struct rv_p *p, const uint8_t **qp, uint8_t *out)
{
	const uint8_t *q = *qp, *end = p->end;
	int32_t cp, lo;

	if (end - q < 2)
		return fail(p, RV_ERR_TRUNCATED, end), 0;
	switch (q[1]) {
	case '"':
	case '\\':
	case '/':
		out[0] = q[1];
		*qp = q + 2;
		return 1;
	case 'b':
		out[0] = '\b';
		*qp = q + 2;
		return 1;
	case 'f':
		out[0] = '\f';
		*qp = q + 2;
		return 1;
	case 'n':
		out[0] = '\n';
		*qp = q + 2;
		return 1;
	case 'r':
		out[0] = '\r';
		*qp = q + 2;
		return 1;
	case 't':
		out[0] = '\t';
		*qp = q + 2;
		return 1;
	case 'u':
		break;
	default:
		return fail(p, RV_ERR_BAD_ESCAPE, q), 0;
	}
	cp = hex4(q + 2, end);
	if (cp == -2)
		return fail(p, RV_ERR_TRUNCATED, end), 0;
	if (cp < 0)
		return fail(p, RV_ERR_BAD_ESCAPE, q), 0;
	q += 6;
	if (cp >= 0xDC00 && cp <= 0xDFFF)
		return fail(p, RV_ERR_LONE_SURROGATE, q - 6), 0;
	if (cp >= 0xD800 && cp <= 0xDBFF) {
		/* A high surrogate must be followed by an escaped low one (RFC 8259 section 7). */
		if (q >= end || (q[0] == '\\' && q + 1 >= end))
			return fail(p, RV_ERR_TRUNCATED, end), 0;
		if (q[0] != '\\' || q[1] != 'u')
			return fail(p, RV_ERR_LONE_SURROGATE, q - 6), 0;
		lo = hex4(q + 2, end);
		if (lo == -2)
			return fail(p, RV_ERR_TRUNCATED, end), 0;
		if (lo < 0)
			return fail(p, RV_ERR_BAD_ESCAPE, q), 0;
		if (lo < 0xDC00 || lo > 0xDFFF)
			return fail(p, RV_ERR_LONE_SURROGATE, q - 6), 0;
		cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
		q += 6;
	}
	*qp = q;
	if (cp < 0x80) {
		out[0] = (uint8_t)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (uint8_t)(0xC0 | cp >> 6);
		out[1] = (uint8_t)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (uint8_t)(0xE0 | cp >> 12);
		out[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
		out[2] = (uint8_t)(0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (uint8_t)(0xF0 | cp >> 18);
	out[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3F));
	out[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
	out[3] = (uint8_t)(0x80 | (cp & 0x3F));
	return 4;
}

/*
 * Fast path for keys and short values: when the closing quote is within the first 32
 * bytes (AVX-512: 64, the load masked at the end of the body) and nothing before it
 * needs a look, step over the string and return true.
 * false: nothing consumed, take the full scan.
 */
static inline bool short_plain(struct rv_p *p)
{
#if RV_AVX512
	/*
	 * 32 bytes when the body has them (keys are short, and the AVX2 compare and
	 * movemask is quicker than a compare into a mask register), else 64 with the
	 * tail masked: also for strings near the end of the body.
	 */
	const uint8_t *s = p->p + 1;
	size_t avail = (size_t)(p->end - s);
	__m512i x;

	if (__builtin_expect(avail >= 32, 1)) {
		/* movemask, not a compare into a mask register: shorter latency */
		__m256i y = _mm256_loadu_si256((const __m256i *)(const void *)s);
		uint32_t q32 = (uint32_t)_mm256_movemask_epi8(
			_mm256_cmpeq_epi8(y, _mm256_set1_epi8('"')));
		uint32_t sp32 = (uint32_t)_mm256_movemask_epi8(
			_mm256_or_si256(_mm256_cmpeq_epi8(y, _mm256_set1_epi8('\\')),
					_mm256_cmpgt_epi8(_mm256_set1_epi8(0x20), y)));

		if (q32 != 0 && (sp32 & _blsmsk_u32(q32) & ~q32) == 0) {
			p->p = s + __builtin_ctz(q32) + 1;
			return true;
		}
		if (q32 != 0 || avail < 64)
			return false;
	}
	if (__builtin_expect(avail >= 64, 1))
		x = _mm512_loadu_si512((const void *)s);
	else
		x = _mm512_maskz_loadu_epi8(_bzhi_u64(~0ull, (unsigned)avail), s);
	uint64_t q = _mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8('"'));
	/* Signed compare: controls, non-ASCII, and the zero lanes past the end. */
	uint64_t sp = _mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8('\\')) |
		      _mm512_cmplt_epi8_mask(x, _mm512_set1_epi8(0x20));

	if (q != 0 && (sp & _blsmsk_u64(q) & ~q) == 0) {
		p->p = s + __builtin_ctzll(q) + 1;
		return true;
	}
	return false;
#elif defined(__AVX2__)
	const uint8_t *s = p->p + 1;

	if (p->end - s >= 32) {
		__m256i x = _mm256_loadu_si256((const __m256i *)(const void *)s);
		uint32_t q = (uint32_t)_mm256_movemask_epi8(
			_mm256_cmpeq_epi8(x, _mm256_set1_epi8('"')));
		uint32_t sp = (uint32_t)_mm256_movemask_epi8(
			_mm256_or_si256(_mm256_cmpeq_epi8(x, _mm256_set1_epi8('\\')),
					_mm256_cmpgt_epi8(_mm256_set1_epi8(0x20), x)));

		/* (q & -q) - 1: the bytes before the first quote. */
		if (q != 0 && (sp & ((q & (0u - q)) - 1)) == 0) {
			p->p = s + __builtin_ctz(q) + 1;
			return true;
		}
	}
#else
	(void)p;
#endif
	return false;
}

/*
 * The string at p->p (the opening quote).  With dst, appends the unescaped bytes to
 * dst (at most cap bytes, else RV_ERR_TEXT_TOO_LARGE).  Sets *outlen (unescaped
 * bytes, only with dst) and *escaped; leaves p->p after the closing quote.
 */
static inline __attribute__((always_inline)) bool
scan_string(struct rv_p *p, uint8_t *dst, uint32_t cap, uint32_t *outlen, bool *escaped)
{
	const uint8_t *s = p->p + 1, *end = p->end;
	uint32_t n = 0;

	*escaped = false;
	for (;;) {
		const uint8_t *q;
		uint8_t c;

		if (dst != NULL) {
			size_t run;
#if RV_AVX512
			if (scan64(p->base, end, &s, dst, cap, &n, escaped))
				goto special;
#endif
#if defined(__AVX2__)
			/*
			 * Copy while scanning: store every 32-byte block, then keep only
			 * the part before its first special byte.  Needs 32 bytes of room,
			 * so the tail of the arena takes the memcpy path below.
			 */
			const uint8_t *lo = s;
			uint32_t hi = 0; /* non-ASCII lanes of the previous block */

			while (end - s >= 32 && cap - n >= 32) {
				__m256i x = _mm256_loadu_si256((const __m256i *)(const void *)s);
				uint32_t special = ascii_special32(x);

				_mm256_storeu_si256((__m256i *)(void *)(dst + n), x);
				/* Same as in find_special(). */
				if ((hi >> 31) != 0 ||
				    (hi = (uint32_t)_mm256_movemask_epi8(x)) != 0) {
					hi = (uint32_t)_mm256_movemask_epi8(x);
					if (!block_utf8_ok(p->base, s, x, special))
						break;
				}
				if (special != 0) {
					uint32_t k = (uint32_t)__builtin_ctz(special);

					s += k;
					n += k;
					/* The usual end: the closing quote. */
					if (*s == '"') {
						p->p = s + 1;
						if (outlen != NULL)
							*outlen = n;
						return true;
					}
					goto special;
				}
				s += 32;
				n += 32;
			}
			{
				const uint8_t *b = char_start(s, lo);

				n -= (uint32_t)(s - b);
				s = b;
			}
#endif
			q = find_special(s, end, p->base);
			run = (size_t)(q - s);
			if (run > cap - n)
				return fail(p, RV_ERR_TEXT_TOO_LARGE, s);
			memcpy(dst + n, s, run);
			n += (uint32_t)run;
			s = q;
		} else {
#if RV_AVX512
			if (scan64(p->base, end, &s, NULL, 0, NULL, escaped))
				goto special;
#endif
			s = find_special(s, end, p->base);
		}
#if defined(__AVX2__)
special:
#endif
		q = s;
		if (q >= end)
			return fail(p, RV_ERR_TRUNCATED, end);
		c = *q;
		if (c == '"') {
			p->p = q + 1;
			if (outlen != NULL)
				*outlen = n;
			return true;
		}
		if (c == '\\' && end - q >= 2 && esc_tab[q[1]] != 0) {
			*escaped = true;
			if (dst != NULL) {
				if (n >= cap)
					return fail(p, RV_ERR_TEXT_TOO_LARGE, q);
				dst[n++] = esc_tab[q[1]];
			}
			s = q + 2;
			continue;
		}
		if (c == '\\') {
			uint8_t u[4];
			/* Decode straight into the arena when it has room (no bounce copy). */
			bool direct = dst != NULL && cap - n >= 4;
			int k = unescape(p, &q, direct ? dst + n : u);

			if (k == 0)
				return false;
			*escaped = true;
			if (dst != NULL) {
				if ((uint32_t)k > cap - n)
					return fail(p, RV_ERR_TEXT_TOO_LARGE, q);
				if (!direct)
					memcpy(dst + n, u, (size_t)k);
				n += (uint32_t)k;
			}
			s = q;
			continue;
		}
		if (c < 0x20)
			return fail(p, RV_ERR_CONTROL_CHAR, q);
		{
			/*
			 * Non-ASCII the vector check did not clear (a block with an error,
			 * bytes no vector load may cover: the body's last 31 without
			 * AVX-512, its first 3, the arena's last 63; or no AVX2): a
			 * scalar loop over whole UTF-8 sequences and the ASCII between
			 * them, which gives the exact offset of a bad one.  Leave on a byte that needs a look, or
			 * after 16 ASCII bytes in a row, where the vector scan is faster.
			 */
			const uint8_t *r = q;
			unsigned ascii = 0;

			while (r < end && ascii < 16) {
				int k;

				if (*r < 0x80) {
					if (!plain(*r))
						break;
					r++;
					ascii++;
					continue;
				}
				k = utf8_len(r, end);
				if (k < 0)
					return fail(p, RV_ERR_TRUNCATED, end);
				if (k == 0)
					return fail(p, RV_ERR_BAD_UTF8, r);
				r += k;
				ascii = 0;
			}
			if (dst != NULL) {
				size_t run = (size_t)(r - q);

				if (run > cap - n)
					return fail(p, RV_ERR_TEXT_TOO_LARGE, q);
				memcpy(dst + n, q, run);
				n += (uint32_t)run;
			}
			s = r;
		}
	}
}

static bool skip_string(struct rv_p *p)
{
	bool esc;

	return short_plain(p) || scan_string(p, NULL, 0, NULL, &esc);
}

/*
 * A short string (model, name, ...) at p->p: a slice of the body when it holds no
 * escape, else unescaped into the top of the arena.
 */
static bool read_short_slow(struct rv_p *p, struct rv_str *out)
{
	const uint8_t *start = p->p;
	uint32_t raw, n;
	bool esc = false;

	if (!scan_string(p, NULL, 0, NULL, &esc))
		return false;
	raw = (uint32_t)(p->p - start - 2);
	if (!esc) {
		out->p = (const char *)(start + 1);
		out->len = raw;
		return true;
	}
	/* Unescaped is never longer than raw. */
	if (raw > p->hi - p->lo)
		return fail(p, RV_ERR_TEXT_TOO_LARGE, start);
	p->p = start;
	if (!scan_string(p, (uint8_t *)p->arena + p->hi - raw, raw, &n, &esc))
		return false;
	p->hi -= raw;
	out->p = p->arena + p->hi;
	out->len = n;
	return true;
}

/* Inline for a short plain string, the usual one; else read_short_slow(). */
static inline bool read_short(struct rv_p *p, struct rv_str *out)
{
	const uint8_t *start = p->p;

	if (short_plain(p)) {
		out->p = (const char *)(start + 1);
		out->len = (uint32_t)(p->p - start - 2);
		return true;
	}
	return read_short_slow(p, out);
}

/* A text segment: '\n' after earlier text, then the unescaped string. */
static bool read_text(struct rv_p *p)
{
	uint32_t n;
	bool esc;

	if (p->lo > 0) {
		if (p->lo >= p->hi)
			return fail(p, RV_ERR_TEXT_TOO_LARGE, p->p);
		p->arena[p->lo++] = '\n';
	}
	if (p->cur_start == NONE)
		p->cur_start = p->lo;
	if (!scan_string(p, (uint8_t *)p->arena + p->lo, p->hi - p->lo, &n, &esc))
		return false;
	p->lo += n;
	return true;
}

/* true, false or null at p->p; a cut-off literal is TRUNCATED. */
static bool literal(struct rv_p *p, const char *lit, size_t n)
{
	size_t avail = (size_t)(p->end - p->p);

	if (avail >= n) {
		if (memcmp(p->p, lit, n) != 0)
			return fail(p, RV_ERR_SYNTAX, p->p);
		p->p += n;
		return true;
	}
	if (memcmp(p->p, lit, avail) == 0)
		return fail(p, RV_ERR_TRUNCATED, p->end);
	return fail(p, RV_ERR_SYNTAX, p->p);
}

/* A JSON number (RFC 8259 section 6). */
struct rv_num {
	bool is_int;  /* no fraction, no exponent, fits int64 */
	int64_t i;
	double d;
};

static const double pow10_tab[23] = {
	1e0,  1e1,  1e2,  1e3,	1e4,  1e5,  1e6,  1e7,	1e8,  1e9,  1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

/*
 * Parses the number at p->p.  The double is mantissa (first 19 digits) times a power
 * of ten, within a few ulp of correct rounding: enough for temperature or top_p, and
 * it needs no libc (strtod wants a NUL and a locale).
 */
static bool parse_number(struct rv_p *p, struct rv_num *num)
{
	const uint8_t *s = p->p, *end = p->end;
	uint64_t mant = 0;
	int32_t e10 = 0, ex = 0;
	int digits = 0;
	bool neg = false, frac = false, expo = false, ovf = false;

	if (*s == '-') {
		neg = true;
		if (++s >= end)
			return fail(p, RV_ERR_TRUNCATED, end);
	}
	if (*s == '0') {
		s++;
	} else if (*s >= '1' && *s <= '9') {
		for (; s < end && *s >= '0' && *s <= '9'; s++) {
			if (digits < 19) {
				mant = mant * 10 + (uint64_t)(*s - '0');
				digits++;
			} else {
				e10++;
				ovf = true;
			}
		}
	} else {
		return fail(p, RV_ERR_SYNTAX, s);
	}
	if (s < end && *s == '.') {
		frac = true;
		if (++s >= end)
			return fail(p, RV_ERR_TRUNCATED, end);
		if (*s < '0' || *s > '9')
			return fail(p, RV_ERR_SYNTAX, s);
		for (; s < end && *s >= '0' && *s <= '9'; s++) {
			if (digits < 19) {
				mant = mant * 10 + (uint64_t)(*s - '0');
				if (mant != 0)
					digits++;
				e10--;
			}
		}
	}
	if (s < end && (*s == 'e' || *s == 'E')) {
		bool eneg = false;

		expo = true;
		if (++s >= end)
			return fail(p, RV_ERR_TRUNCATED, end);
		if (*s == '+' || *s == '-') {
			eneg = *s == '-';
			if (++s >= end)
				return fail(p, RV_ERR_TRUNCATED, end);
		}
		if (*s < '0' || *s > '9')
			return fail(p, RV_ERR_SYNTAX, s);
		for (; s < end && *s >= '0' && *s <= '9'; s++)
			if (ex < 100000)
				ex = ex * 10 + (*s - '0');
		e10 += eneg ? -ex : ex;
	}
	p->p = s;
	num->is_int = !frac && !expo && !ovf &&
		      (neg ? mant <= (uint64_t)INT64_MAX + 1 : mant <= (uint64_t)INT64_MAX);
	if (num->is_int)
		num->i = neg ? (int64_t)(0 - mant) : (int64_t)mant;
	{
		double d = (double)mant;

		if (mant == 0)
			e10 = 0;
		while (e10 > 22 && d < 1e308) {
			d *= 1e22;
			e10 -= 22;
		}
		if (e10 > 0)
			d *= pow10_tab[e10 > 22 ? 22 : e10];
		while (e10 < -22 && d > 0) {
			d /= 1e22;
			e10 += 22;
		}
		if (e10 < 0)
			d /= pow10_tab[-e10 > 22 ? 22 : -e10];
		num->d = neg ? -d : d;
	}
	return true;
}

static inline bool enter(struct rv_p *p)
{
	if (p->depth + 1 > p->max_depth)
		return fail(p, RV_ERR_DEPTH, p->p);
	p->depth++;
	p->p++;
	return true;
}

/* After a key: whitespace, the ':', whitespace up to the value. */
static bool key_colon(struct rv_p *p)
{
	if (!ws_need(p))
		return false;
	if (*p->p != ':')
		return fail(p, RV_ERR_SYNTAX, p->p);
	p->p++;
	return ws_need(p);
}

/* read_key() for a name short_plain() does not take: escapes, long names. */
static bool read_key_slow(struct rv_p *p, struct rv_key *k)
{
	const uint8_t *start = p->p;
	bool esc = false;

	k->at = start;
	if (!scan_string(p, NULL, 0, NULL, &esc))
		return false;
	k->p = start + 1;
	k->len = (uint32_t)(p->p - start - 2);
	k->raw_len = k->len + 2;
	if (esc) {
		/* "mod\u0065l" is "model" to the upstream: match it as such. */
		if (k->len <= sizeof(p->keybuf)) {
			const uint8_t *after = p->p;
			uint32_t n;

			p->p = start;
			if (!scan_string(p, p->keybuf, sizeof(p->keybuf), &n, &esc))
				return false;
			p->p = after;
			k->p = p->keybuf;
			k->len = n;
		} else {
			k->len = 0; /* longer than any known key: stays unknown */
		}
	}
	return key_colon(p);
}

/*
 * Reads a member name at p->p (the quote) and the ':' after it; p->p at the value.
 * A short plain name is stepped over once (short_plain): then ':' and the value's
 * first byte inline for compact JSON ("role":"user"), key_colon() for whitespace
 * around the ':' ("role": "user"). Other names take read_key_slow().
 */
static inline bool read_key(struct rv_p *p, struct rv_key *k)
{
	const uint8_t *start = p->p, *c;

	if (!short_plain(p))
		return read_key_slow(p, k);
	c = p->p;
	k->at = start;
	k->p = start + 1;
	k->len = (uint32_t)(c - start - 2);
	k->raw_len = k->len + 2;
	if (p->end - c >= 2 && c[0] == ':' && c[1] > ' ') {
		p->p = c + 1;
		return true;
	}
	return key_colon(p); /* whitespace around the ':' */
}

/*
 * Next member of the object whose '{' enter() consumed: 1 with p->p at the value, 0
 * after the closing '}' (depth restored), -1 on error.  *first is true before the
 * first member.
 */
static int obj_next_slow(struct rv_p *p, struct rv_key *k, bool *first)
{
	if (!ws_need(p))
		return -1;
	if (*p->p == '}') {
		p->p++;
		p->depth--;
		return 0;
	}
	if (!*first) {
		if (*p->p != ',')
			return fail(p, RV_ERR_SYNTAX, p->p), -1;
		p->p++;
		if (!ws_need(p))
			return -1;
	}
	*first = false;
	if (*p->p != '"')
		return fail(p, RV_ERR_SYNTAX, p->p), -1;
	return read_key(p, k) ? 1 : -1;
}

/*
 * Inline for compact JSON (no whitespace before the next member or the '}'); else
 * obj_next_slow(), which takes every form.
 */
static inline int obj_next(struct rv_p *p, struct rv_key *k, bool *first)
{
	const uint8_t *c = p->p;

	if (__builtin_expect(p->end - c >= 2, 1)) {
		if (c[0] == '}') {
			p->p = c + 1;
			p->depth--;
			return 0;
		}
		if (!*first && c[0] == ',' && c[1] == '"') {
			p->p = c + 1;
			return read_key(p, k) ? 1 : -1;
		}
		if (*first && c[0] == '"') {
			*first = false;
			return read_key(p, k) ? 1 : -1;
		}
	}
	return obj_next_slow(p, k, first);
}

/* arr_next() for any form: whitespace, errors, the end of the body. */
static int arr_next_slow(struct rv_p *p, bool *first)
{
	if (!ws_need(p))
		return -1;
	if (*p->p == ']') {
		p->p++;
		p->depth--;
		return 0;
	}
	if (!*first) {
		if (*p->p != ',')
			return fail(p, RV_ERR_SYNTAX, p->p), -1;
		p->p++;
		if (!ws_need(p))
			return -1;
	}
	*first = false;
	return 1;
}

/* Next element of the array whose '[' enter() consumed; like obj_next(). */
static inline int arr_next(struct rv_p *p, bool *first)
{
	const uint8_t *c = p->p;

	if (__builtin_expect(p->end - c >= 2, 1)) {
		if (c[0] == ']') {
			p->p = c + 1;
			p->depth--;
			return 0;
		}
		/* Every byte that can start a value is above ' '. */
		if (!*first && c[0] == ',' && c[1] > ' ') {
			p->p = c + 1;
			return 1;
		}
		if (*first && c[0] > ' ') {
			*first = false;
			return 1;
		}
	}
	return arr_next_slow(p, first);
}

/*
 * Skips (and validates) the value at p->p, iteratively: one bit per open container
 * (1 = object) on a stack bounded by RV_DEPTH_HARD_MAX.
 */
static bool skip_value(struct rv_p *p)
{
	uint64_t kind[RV_DEPTH_HARD_MAX / 64];
	uint32_t d = 0; /* containers opened here */
	uint8_t c;

	for (;;) {
		/* A value starts at p->p (whitespace skipped, a byte is there). */
		c = *p->p;
		if (c == '{' || c == '[') {
			if (p->depth + d + 1 > p->max_depth)
				return fail(p, RV_ERR_DEPTH, p->p);
			if (c == '{')
				kind[d / 64] |= 1ull << (d % 64);
			else
				kind[d / 64] &= ~(1ull << (d % 64));
			d++;
			p->p++;
			if (!ws_need(p))
				return false;
			if (*p->p == (c == '{' ? '}' : ']')) {
				p->p++;
				d--;
				goto after_value;
			}
			if (c == '{') {
				struct rv_key k;

				if (*p->p != '"')
					return fail(p, RV_ERR_SYNTAX, p->p);
				if (!read_key(p, &k))
					return false;
			}
			continue;
		} else if (c == '"') {
			if (!skip_string(p))
				return false;
		} else if (c == 't') {
			if (!literal(p, "true", 4))
				return false;
		} else if (c == 'f') {
			if (!literal(p, "false", 5))
				return false;
		} else if (c == 'n') {
			if (!literal(p, "null", 4))
				return false;
		} else if (c == '-' || (c >= '0' && c <= '9')) {
			struct rv_num num;

			if (!parse_number(p, &num))
				return false;
		} else {
			return fail(p, RV_ERR_SYNTAX, p->p);
		}
after_value:
		for (;;) {
			bool obj;

			if (d == 0)
				return true;
			obj = (kind[(d - 1) / 64] >> ((d - 1) % 64)) & 1;
			if (!ws_need(p))
				return false;
			c = *p->p;
			if (c == ',') {
				p->p++;
				if (!ws_need(p))
					return false;
				if (obj) {
					struct rv_key k;

					if (*p->p != '"')
						return fail(p, RV_ERR_SYNTAX, p->p);
					if (!read_key(p, &k))
						return false;
				}
				break;
			}
			if (c != (obj ? '}' : ']'))
				return fail(p, RV_ERR_SYNTAX, p->p);
			p->p++;
			d--;
		}
	}
}

/* Skips the value and returns its raw span. */
static bool skip_span(struct rv_p *p, struct rv_span *sp)
{
	const uint8_t *start = p->p;

	if (!skip_value(p))
		return false;
	sp->off = (uint32_t)(start - p->base);
	sp->len = (uint32_t)(p->p - start);
	return true;
}

/* null counts as absent for optional fields (the OpenAI API accepts it). */
static int is_null(struct rv_p *p)
{
	if (*p->p != 'n')
		return 0;
	return literal(p, "null", 4) ? 1 : -1;
}

/*
 * Where the value at p->p has the wrong JSON type for a known field: BAD_TYPE when it
 * is some JSON value, else the syntax error of what is there.
 */
static bool bad_type(struct rv_p *p)
{
	uint8_t c = *p->p;

	if (c == '{' || c == '[' || c == '"' || c == 't' || c == 'f' || c == 'n' || c == '-' ||
	    (c >= '0' && c <= '9'))
		return fail(p, RV_ERR_BAD_TYPE, p->p);
	return fail(p, RV_ERR_SYNTAX, p->p);
}

static bool read_int(struct rv_p *p, int64_t *out)
{
	const uint8_t *at = p->p;
	struct rv_num num;

	if (*at != '-' && (*at < '0' || *at > '9'))
		return bad_type(p);
	if (!parse_number(p, &num))
		return false;
	if (!num.is_int)
		return fail(p, RV_ERR_BAD_TYPE, at);
	*out = num.i;
	return true;
}

/* A finite number: 1e400 would reach the scorer as inf, so it is refused. */
static bool read_double(struct rv_p *p, double *out)
{
	const uint8_t *at = p->p;
	struct rv_num num;

	if (*at != '-' && (*at < '0' || *at > '9'))
		return bad_type(p);
	if (!parse_number(p, &num))
		return false;
	if (!__builtin_isfinite(num.d))
		return fail(p, RV_ERR_BAD_TYPE, at);
	*out = num.d;
	return true;
}

static bool read_bool(struct rv_p *p, bool *out)
{
	if (*p->p == 't') {
		*out = true;
		return literal(p, "true", 4);
	}
	if (*p->p == 'f') {
		*out = false;
		return literal(p, "false", 5);
	}
	return bad_type(p);
}

static bool read_str_field(struct rv_p *p, struct rv_str *out)
{
	if (*p->p != '"')
		return bad_type(p);
	return read_short(p, out);
}

static enum rv_role role_of(struct rv_str s)
{
	if (STR_IS(s, "user"))
		return RV_ROLE_USER;
	if (STR_IS(s, "assistant"))
		return RV_ROLE_ASSISTANT;
	if (STR_IS(s, "system"))
		return RV_ROLE_SYSTEM;
	if (STR_IS(s, "developer"))
		return RV_ROLE_DEVELOPER;
	if (STR_IS(s, "tool"))
		return RV_ROLE_TOOL;
	if (STR_IS(s, "function"))
		return RV_ROLE_FUNCTION;
	return RV_ROLE_UNKNOWN;
}

/* Fails with DUPLICATE_KEY when bit was seen in this object. */
static inline bool once(struct rv_p *p, uint32_t *seen, uint32_t bit, const struct rv_key *k)
{
	if (*seen & bit)
		return fail(p, RV_ERR_DUPLICATE_KEY, k->at);
	*seen |= bit;
	return true;
}

/* {"name": "...", ...} of a function tool or tool call: the name into *name. */
static bool parse_function(struct rv_p *p, struct rv_str *name)
{
	struct rv_key k;
	bool first = true;
	uint32_t seen = 0;
	int r;

	if (*p->p != '{')
		return bad_type(p);
	if (!enter(p))
		return false;
	while ((r = obj_next(p, &k, &first)) > 0) {
		if (KEY_IS(&k, "name")) {
			if (!once(p, &seen, 1, &k) || !read_str_field(p, name))
				return false;
		} else if (!skip_value(p)) {
			return false;
		}
	}
	return r == 0;
}

/* The next tool_names slot, empty; NULL (failed with TOO_MANY_TOOLS) when all are taken. */
static struct rv_str *new_tool_name(struct rv_p *p)
{
	struct rv_view *v = p->v;
	struct rv_str *name;

	if (v->ntools >= p->lim->max_tools)
		return fail(p, RV_ERR_TOO_MANY_TOOLS, p->p), NULL;
	name = &v->tool_names[v->ntools++];
	*name = (struct rv_str){ "", 0 };
	return name;
}

/* The next call_names slot, empty, counted in m; NULL (failed) when all are taken. */
static struct rv_str *new_call_name(struct rv_p *p, struct rv_msg *m)
{
	struct rv_view *v = p->v;
	struct rv_str *name;

	if (v->ncalls >= p->lim->max_tools)
		return fail(p, RV_ERR_TOO_MANY_TOOLS, p->p), NULL;
	if (m->ncalls == 0)
		m->first_call = v->ncalls;
	name = &v->call_names[v->ncalls++];
	*name = (struct rv_str){ "", 0 };
	m->ncalls++;
	return name;
}

/*
 * An element of tools or tool_calls: {"type": ..., "function": {"name": ...}, ...};
 * the function's name into *name, every other key skipped.
 */
static bool parse_function_holder(struct rv_p *p, struct rv_str *name)
{
	struct rv_key k;
	bool first = true;
	uint32_t seen = 0;
	int r;

	if (*p->p != '{')
		return bad_type(p);
	if (!enter(p))
		return false;
	while ((r = obj_next(p, &k, &first)) > 0) {
		if (KEY_IS(&k, "function")) {
			if (!once(p, &seen, 1, &k) || !parse_function(p, name))
				return false;
		} else if (!skip_value(p)) {
			return false;
		}
	}
	return r == 0;
}

/* tools: [{"type": "function", "function": {"name": ...}}, ...] */
static bool parse_tools(struct rv_p *p)
{
	bool first = true;
	int r;

	if (*p->p != '[')
		return bad_type(p);
	if (!enter(p))
		return false;
	while ((r = arr_next(p, &first)) > 0) {
		struct rv_str *name = new_tool_name(p);

		if (name == NULL || !parse_function_holder(p, name))
			return false;
	}
	return r == 0;
}

/*
 * functions: [{"name": ..., "parameters": ...}], the deprecated form of tools; the
 * names join tool_names and count against max_tools.
 */
static bool parse_functions(struct rv_p *p)
{
	bool first = true;
	int r;

	if (*p->p != '[')
		return bad_type(p);
	if (!enter(p))
		return false;
	while ((r = arr_next(p, &first)) > 0) {
		struct rv_str *name = new_tool_name(p);

		if (name == NULL || !parse_function(p, name))
			return false;
	}
	return r == 0;
}

/* The deprecated assistant "function_call": {"name", "arguments"}: one tool call. */
static bool parse_function_call(struct rv_p *p, struct rv_msg *m)
{
	struct rv_str *name = new_call_name(p, m);

	return name != NULL && parse_function(p, name);
}

/* An assistant's tool_calls: [{"id", "type", "function": {"name", "arguments"}}]. */
static bool parse_tool_calls(struct rv_p *p, struct rv_msg *m)
{
	bool first = true;
	int r;

	if (*p->p != '[')
		return bad_type(p);
	if (!enter(p))
		return false;
	while ((r = arr_next(p, &first)) > 0) {
		struct rv_str *name = new_call_name(p, m);

		if (name == NULL || !parse_function_holder(p, name))
			return false;
	}
	return r == 0;
}

/*
 * One content part.  "text" may come before "type", so text is unescaped into the
 * arena at once and given back when the part turns out not to be text.
 */
static bool parse_part(struct rv_p *p, struct rv_msg *m)
{
	uint32_t save_lo = p->lo, save_start = p->cur_start, seen = 0;
	struct rv_str type = { "", 0 };
	const uint8_t *bad_text = NULL;
	struct rv_key k;
	bool first = true;
	int r;

	if (*p->p != '{')
		return bad_type(p);
	if (!enter(p))
		return false;
	while ((r = obj_next(p, &k, &first)) > 0) {
		if (KEY_IS(&k, "type")) {
			if (!once(p, &seen, 1, &k) || !read_str_field(p, &type))
				return false;
		} else if (KEY_IS(&k, "text")) {
			if (!once(p, &seen, 2, &k))
				return false;
			if (*p->p == '"') {
				if (!read_text(p))
					return false;
			} else {
				bad_text = p->p;
				if (!skip_value(p))
					return false;
			}
		} else if (!skip_value(p)) {
			return false;
		}
	}
	if (r < 0)
		return false;
	if (STR_IS(type, "text") || STR_IS(type, "input_text")) {
		if (bad_text != NULL)
			return fail(p, RV_ERR_BAD_TYPE, bad_text);
		m->ntext_parts++;
		return true;
	}
	p->lo = save_lo;
	p->cur_start = save_start;
	if (STR_IS(type, "image_url") || STR_IS(type, "input_image"))
		m->nimages++;
	else if (STR_IS(type, "input_audio"))
		m->naudio++;
	else if (STR_IS(type, "file") || STR_IS(type, "input_file"))
		m->nfiles++;
	else
		m->nother++;
	return true;
}

static bool parse_content(struct rv_p *p, struct rv_msg *m)
{
	bool first = true;
	int r;

	if (*p->p == '"')
		return read_text(p);
	if (*p->p != '[')
		return bad_type(p);
	m->content_array = true;
	if (!enter(p))
		return false;
	while ((r = arr_next(p, &first)) > 0) {
		if (m->nparts >= p->lim->max_parts)
			return fail(p, RV_ERR_TOO_MANY_PARTS, p->p);
		m->nparts++;
		if (!parse_part(p, m))
			return false;
	}
	return r == 0;
}

/* Takes the next message slot for the value at p->p. */
static struct rv_msg *new_msg(struct rv_p *p)
{
	struct rv_view *v = p->v;
	struct rv_msg *m;

	if (v->nmsgs >= p->lim->max_messages)
		return fail(p, RV_ERR_TOO_MANY_MESSAGES, p->p), NULL;
	m = &v->msgs[v->nmsgs++];
	memset(m, 0, sizeof(*m));
	m->name.p = "";
	m->text.p = "";
	m->first_call = v->ncalls;
	p->cur_start = NONE;
	return m;
}

/* Closes the current message's text slice and counts it. */
static void end_msg(struct rv_p *p, struct rv_msg *m)
{
	struct rv_view *v = p->v;

	if (p->cur_start != NONE) {
		m->text.p = p->arena + p->cur_start;
		m->text.len = p->lo - p->cur_start;
	}
	v->nroles[m->role]++;
	v->nparts += m->nparts;
	v->nimages += m->nimages;
	v->naudio += m->naudio;
	v->nfiles += m->nfiles;
}

/*
 * The usual head of a message in compact JSON, '{"role":"<role>","content":', which
 * SDKs send for nearly every message: matched in one 32-byte compare, it stands for
 * the two members it holds (the parse that follows is the same as after reading them
 * one by one).  Indexed by the role's first letter (head[9]).
 */
struct rv_msg_head {
	char head[32]; /* zero-padded */
	uint8_t len;   /* bytes of head, up to and including the ':' */
};

/* Bytes of a head around the role name: {"role":"<name>","content": */
#define RV_MSG_HEAD_FRAME (sizeof("{\"role\":\"\",\"content\":") - 1)

static const struct rv_msg_head msg_heads[] = {
	{ "{\"role\":\"user\",\"content\":", 25 },
	{ "{\"role\":\"assistant\",\"content\":", 30 },
	{ "{\"role\":\"system\",\"content\":", 27 },
	{ "{\"role\":\"developer\",\"content\":", 30 },
	{ "{\"role\":\"tool\",\"content\":", 25 },
};

/* A message's "content" value at p->p: null (no text) or what parse_content() takes. */
static bool read_content(struct rv_p *p, struct rv_msg *m)
{
	int nl = is_null(p);

	if (nl < 0)
		return false;
	return nl == 1 || parse_content(p, m);
}

/*
 * The msg_heads entry that the body at s (the '{') starts with, followed by a byte
 * that is no whitespace; NULL when none (or fewer than 32 bytes are left).
 */
static inline const struct rv_msg_head *msg_head(const uint8_t *s, const uint8_t *end)
{
	const struct rv_msg_head *h;

	if (end - s < 32)
		return NULL;
	switch (s[9]) {
	case 'u': h = &msg_heads[0]; break;
	case 'a': h = &msg_heads[1]; break;
	case 's': h = &msg_heads[2]; break;
	case 'd': h = &msg_heads[3]; break;
	case 't': h = &msg_heads[4]; break;
	default: return NULL;
	}
#if defined(__AVX2__)
	{
		__m256i x = _mm256_loadu_si256((const __m256i *)(const void *)s);
		__m256i y = _mm256_loadu_si256((const __m256i *)(const void *)h->head);
		uint32_t want = (uint32_t)((1ull << h->len) - 1);
		uint32_t eq = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(x, y));

		if ((eq & want) != want)
			return NULL;
	}
#else
	if (memcmp(s, h->head, h->len) != 0)
		return NULL;
#endif
	return s[h->len] > ' ' ? h : NULL;
}

static bool parse_message(struct rv_p *p)
{
	const struct rv_msg_head *h;
	struct rv_msg *m;
	struct rv_str role = { "", 0 };
	struct rv_key k;
	bool first = true, has_role = false;
	uint32_t seen = 0;
	int r;

	if (*p->p != '{')
		return bad_type(p);
	h = msg_head(p->p, p->end);
	m = new_msg(p);
	if (m == NULL || !enter(p))
		return false;
	if (h != NULL) {
		/* "role" and "content" read at once; p->p at the content value. */
		role.p = (const char *)p->p + 8;
		role.len = (uint32_t)(h->len - RV_MSG_HEAD_FRAME);
		has_role = true;
		seen = 1 | 2;
		first = false;
		p->p += h->len - 1;
		if (!read_content(p, m))
			return false;
	}
	while ((r = obj_next(p, &k, &first)) > 0) {
		if (KEY_IS(&k, "role")) {
			if (!once(p, &seen, 1, &k) || !read_str_field(p, &role))
				return false;
			has_role = true;
		} else if (KEY_IS(&k, "content")) {
			if (!once(p, &seen, 2, &k) || !read_content(p, m))
				return false;
		} else if (KEY_IS(&k, "name")) {
			if (!once(p, &seen, 4, &k) || !read_str_field(p, &m->name))
				return false;
		} else if (KEY_IS(&k, "tool_calls")) {
			int nl;

			if (!once(p, &seen, 8, &k) || (nl = is_null(p)) < 0)
				return false;
			if (nl == 0 && !parse_tool_calls(p, m))
				return false;
		} else if (KEY_IS(&k, "function_call")) {
			int nl;

			if (!once(p, &seen, 32, &k) || (nl = is_null(p)) < 0)
				return false;
			if (nl == 0 && !parse_function_call(p, m))
				return false;
		} else if (KEY_IS(&k, "tool_call_id")) {
			if (!once(p, &seen, 16, &k) || !skip_value(p))
				return false;
			m->has_tool_call_id = true;
		} else if (!skip_value(p)) {
			return false;
		}
	}
	if (r < 0)
		return false;
	m->role = has_role ? role_of(role) : RV_ROLE_UNKNOWN;
	end_msg(p, m);
	return true;
}

static bool parse_messages(struct rv_p *p)
{
	bool first = true;
	int r;

	if (*p->p != '[')
		return bad_type(p);
	if (!enter(p))
		return false;
	while ((r = arr_next(p, &first)) > 0)
		if (!parse_message(p))
			return false;
	return r == 0;
}

/* A prompt string becomes a message of role RV_ROLE_PROMPT. */
static bool prompt_string(struct rv_p *p)
{
	struct rv_msg *m = new_msg(p);

	if (m == NULL || !read_text(p))
		return false;
	m->role = RV_ROLE_PROMPT;
	end_msg(p, m);
	return true;
}

/* Token ids: an array of integers. */
static bool prompt_tokens(struct rv_p *p)
{
	bool first = true;
	int64_t tok;
	int r;

	if (!enter(p))
		return false;
	while ((r = arr_next(p, &first)) > 0) {
		if (!read_int(p, &tok))
			return false;
		p->v->nprompt_tokens++;
	}
	return r == 0;
}

/* prompt: a string, an array of strings, an array of token ids, or of such arrays. */
static bool parse_prompt(struct rv_p *p)
{
	bool first = true;
	int r;

	if (*p->p == '"')
		return prompt_string(p);
	if (*p->p != '[')
		return bad_type(p);
	if (!enter(p))
		return false;
	while ((r = arr_next(p, &first)) > 0) {
		int64_t tok;
		bool ok;

		if (*p->p == '"') {
			ok = prompt_string(p);
		} else if (*p->p == '[') {
			ok = prompt_tokens(p);
		} else {
			ok = read_int(p, &tok);
			p->v->nprompt_tokens += ok;
		}
		if (!ok)
			return false;
	}
	return r == 0;
}

static bool parse_stream_options(struct rv_p *p)
{
	struct rv_key k;
	bool first = true;
	uint32_t seen = 0;
	int r;

	if (*p->p != '{')
		return bad_type(p);
	if (!enter(p))
		return false;
	while ((r = obj_next(p, &k, &first)) > 0) {
		if (KEY_IS(&k, "include_usage")) {
			int nl;

			if (!once(p, &seen, 1, &k) || (nl = is_null(p)) < 0)
				return false;
			if (nl == 0) {
				if (!read_bool(p, &p->v->include_usage))
					return false;
				p->v->has |= RV_HAS_INCLUDE_USAGE;
			}
		} else if (!skip_value(p)) {
			return false;
		}
	}
	return r == 0;
}

static bool parse_response_format(struct rv_p *p)
{
	struct rv_str type = { "", 0 };
	struct rv_key k;
	bool first = true, has_type = false;
	uint32_t seen = 0;
	int r;

	if (*p->p != '{')
		return bad_type(p);
	if (!enter(p))
		return false;
	while ((r = obj_next(p, &k, &first)) > 0) {
		if (KEY_IS(&k, "type")) {
			if (!once(p, &seen, 1, &k) || !read_str_field(p, &type))
				return false;
			has_type = true;
		} else if (!skip_value(p)) {
			return false;
		}
	}
	if (r < 0)
		return false;
	if (!has_type)
		p->v->response_format = RV_FMT_OTHER;
	else if (STR_IS(type, "text"))
		p->v->response_format = RV_FMT_TEXT;
	else if (STR_IS(type, "json_object"))
		p->v->response_format = RV_FMT_JSON_OBJECT;
	else if (STR_IS(type, "json_schema"))
		p->v->response_format = RV_FMT_JSON_SCHEMA;
	else
		p->v->response_format = RV_FMT_OTHER;
	return true;
}

static bool parse_stop(struct rv_p *p)
{
	const uint8_t *start = p->p;
	bool first = true;
	int r;

	if (*p->p == '"') {
		if (!skip_string(p))
			return false;
		p->v->nstop = 1;
	} else if (*p->p == '[') {
		if (!enter(p))
			return false;
		while ((r = arr_next(p, &first)) > 0) {
			if (*p->p != '"')
				return bad_type(p);
			if (!skip_string(p))
				return false;
			p->v->nstop++;
		}
		if (r < 0)
			return false;
	} else {
		return bad_type(p);
	}
	p->v->stop.off = (uint32_t)(start - p->base);
	p->v->stop.len = (uint32_t)(p->p - start);
	return true;
}

static bool parse_metadata(struct rv_p *p)
{
	struct rv_view *v = p->v;
	const uint8_t *start = p->p;
	struct rv_key k;
	bool first = true;
	int r;

	if (*p->p != '{')
		return bad_type(p);
	if (!enter(p))
		return false;
	while ((r = obj_next(p, &k, &first)) > 0) {
		struct rv_span val;

		if (!skip_span(p, &val))
			return false;
		if (v->nmetadata < RV_METADATA_KEEP) {
			/* The key span is the raw quoted name. */
			v->metadata_kv[v->nmetadata][0].off = (uint32_t)(k.at - p->base);
			v->metadata_kv[v->nmetadata][0].len = k.raw_len;
			v->metadata_kv[v->nmetadata][1] = val;
		}
		v->nmetadata++;
	}
	if (r < 0)
		return false;
	v->metadata.off = (uint32_t)(start - p->base);
	v->metadata.len = (uint32_t)(p->p - start);
	return true;
}

/* Bits of the top-level keys, for duplicate detection. */
enum {
	K_MODEL = 1u << 0,
	K_MESSAGES = 1u << 1,
	K_PROMPT = 1u << 2,
	K_TOOLS = 1u << 3,
	K_TOOL_CHOICE = 1u << 4,
	K_MAX_TOKENS = 1u << 5,
	K_MAX_COMPLETION_TOKENS = 1u << 6,
	K_STREAM = 1u << 7,
	K_STREAM_OPTIONS = 1u << 8,
	K_TEMPERATURE = 1u << 9,
	K_TOP_P = 1u << 10,
	K_N = 1u << 11,
	K_STOP = 1u << 12,
	K_SEED = 1u << 13,
	K_RESPONSE_FORMAT = 1u << 14,
	K_USER = 1u << 15,
	K_METADATA = 1u << 16,
	K_FUNCTIONS = 1u << 17,
};

static uint32_t key_bit(const struct rv_key *k)
{
	switch (k->len) {
	case 1:
		return KEY_IS(k, "n") ? K_N : 0;
	case 4:
		return KEY_IS(k, "stop") ? K_STOP : KEY_IS(k, "seed") ? K_SEED
		       : KEY_IS(k, "user") ? K_USER : 0;
	case 5:
		return KEY_IS(k, "model") ? K_MODEL : KEY_IS(k, "top_p") ? K_TOP_P
		       : KEY_IS(k, "tools") ? K_TOOLS : 0;
	case 6:
		return KEY_IS(k, "prompt") ? K_PROMPT : KEY_IS(k, "stream") ? K_STREAM : 0;
	case 8:
		return KEY_IS(k, "messages") ? K_MESSAGES : KEY_IS(k, "metadata") ? K_METADATA : 0;
	case 9:
		return KEY_IS(k, "functions") ? K_FUNCTIONS : 0;
	case 10:
		return KEY_IS(k, "max_tokens") ? K_MAX_TOKENS : 0;
	case 11:
		return KEY_IS(k, "temperature") ? K_TEMPERATURE
		       : KEY_IS(k, "tool_choice") ? K_TOOL_CHOICE : 0;
	case 14:
		return KEY_IS(k, "stream_options") ? K_STREAM_OPTIONS : 0;
	case 15:
		return KEY_IS(k, "response_format") ? K_RESPONSE_FORMAT : 0;
	case 21:
		return KEY_IS(k, "max_completion_tokens") ? K_MAX_COMPLETION_TOKENS : 0;
	default:
		return 0;
	}
}

/*
 * One top-level member; p->p at its value.  A known key twice is refused: a proxy
 * that reads the first "model" while the upstream reads the last would be routing
 * one request and sending another.  null stands for "absent".
 */
static bool parse_member(struct rv_p *p, const struct rv_key *k, uint32_t *seen)
{
	struct rv_view *v = p->v;
	uint32_t bit = key_bit(k);
	int nl;

	if (bit == 0)
		return skip_value(p);
	if (!once(p, seen, bit, k))
		return false;
	nl = is_null(p);
	if (nl != 0)
		return nl > 0;
	switch (bit) {
	case K_MODEL:
		v->model_span.off = (uint32_t)(p->p - p->base);
		if (!read_str_field(p, &v->model))
			return false;
		v->model_span.len = (uint32_t)(p->p - p->base) - v->model_span.off;
		v->has |= RV_HAS_MODEL;
		return true;
	case K_MESSAGES:
		if (v->ep != RV_EP_CHAT)
			return skip_value(p);
		v->has |= RV_HAS_MESSAGES;
		return parse_messages(p);
	case K_PROMPT:
		if (v->ep != RV_EP_COMPLETIONS)
			return skip_value(p);
		v->has |= RV_HAS_PROMPT;
		return parse_prompt(p);
	case K_MAX_TOKENS:
		v->has |= RV_HAS_MAX_TOKENS;
		return read_int(p, &v->max_tokens);
	case K_MAX_COMPLETION_TOKENS:
		v->has |= RV_HAS_MAX_COMPLETION_TOKENS;
		return read_int(p, &v->max_completion_tokens);
	case K_STREAM:
		v->has |= RV_HAS_STREAM;
		return read_bool(p, &v->stream);
	case K_STREAM_OPTIONS:
		return parse_stream_options(p);
	case K_TEMPERATURE:
		v->has |= RV_HAS_TEMPERATURE;
		return read_double(p, &v->temperature);
	case K_TOP_P:
		v->has |= RV_HAS_TOP_P;
		return read_double(p, &v->top_p);
	case K_N:
		v->has |= RV_HAS_N;
		return read_int(p, &v->n);
	case K_SEED:
		v->has |= RV_HAS_SEED;
		return read_int(p, &v->seed);
	case K_STOP:
		v->has |= RV_HAS_STOP;
		return parse_stop(p);
	case K_RESPONSE_FORMAT:
		v->has |= RV_HAS_RESPONSE_FORMAT;
		return parse_response_format(p);
	case K_USER:
		v->has |= RV_HAS_USER;
		return read_str_field(p, &v->user);
	case K_METADATA:
		v->has |= RV_HAS_METADATA;
		return parse_metadata(p);
	case K_TOOLS:
		v->has |= RV_HAS_TOOLS;
		return parse_tools(p);
	case K_FUNCTIONS:
		v->has |= RV_HAS_TOOLS;
		return parse_functions(p);
	case K_TOOL_CHOICE:
		v->has |= RV_HAS_TOOL_CHOICE;
		return skip_span(p, &v->tool_choice);
	default:
		return skip_value(p);
	}
}

static bool parse_request(struct rv_p *p)
{
	struct rv_view *v = p->v;
	struct rv_key k;
	bool first = true;
	uint32_t seen = 0;
	int r;

	if (!ws_need(p))
		return false;
	if (*p->p != '{')
		return bad_type(p);
	if (!enter(p))
		return false;
	while ((r = obj_next(p, &k, &first)) > 0)
		if (!parse_member(p, &k, &seen))
			return false;
	if (r < 0)
		return false;
	skip_ws(p);
	if (p->p != p->end)
		return fail(p, RV_ERR_SYNTAX, p->p);
	if (v->nmsgs == 0 && v->nprompt_tokens == 0)
		return fail(p, RV_ERR_MISSING, p->end);
	return true;
}

int rv_parse(struct rv_ctx *ctx, enum rv_endpoint ep, const char *body, size_t len,
	     struct rv_view *v)
{
	struct rv_p p;

	memset(v, 0, sizeof(*v));
	v->ep = ep;
	v->msgs = ctx->msgs;
	v->tool_names = ctx->tool_names;
	v->call_names = ctx->call_names;
	v->model.p = "";
	v->user.p = "";
	v->text.p = ctx->arena;
	if (len > ctx->lim.max_body) {
		v->err = RV_ERR_BODY_TOO_LARGE;
		v->err_off = (uint32_t)ctx->lim.max_body;
		return -(int)RV_ERR_BODY_TOO_LARGE;
	}
	if (body == NULL)
		len = 0;
	p.base = body != NULL ? (const uint8_t *)body : (const uint8_t *)"";
	p.p = p.base;
	p.end = p.base + len;
	p.arena = ctx->arena;
	p.lo = 0;
	p.hi = (uint32_t)ctx->lim.max_text;
	p.cur_start = NONE;
	p.depth = 0;
	p.max_depth = (uint32_t)ctx->lim.max_depth;
	p.lim = &ctx->lim;
	p.ctx = ctx;
	p.v = v;
	p.err = RV_OK;
	p.err_at = NULL;
	if (!parse_request(&p)) {
		v->err = p.err;
		v->err_off = (uint32_t)(p.err_at - p.base);
		return -(int)p.err;
	}
	v->text.len = p.lo;
	return (int)len;
}
