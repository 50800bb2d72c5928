/* SPDX-License-Identifier: proprietary */
/*
 * Logistic scorer and the routing decision (fast path).
 *
 * Both loops over the feature vector run on a zero-padded copy of
 * SCORE_NPAD entries, so that they are whole SIMD vectors with no tail: the
 * contributions are one multiply-subtract per entry, the logit sums them in
 * SCORE_LANES independent partial sums (a left-to-right sum of 44 floats is
 * a chain of 44 dependent adds), and the top-K explanation is a partial
 * selection that never sorts the vector (it was an insertion with a
 * data-dependent branch per feature: most of what the stage cost).
 */
#include <math.h>
#include <string.h>

#if defined(__AVX2__)
#include <immintrin.h>
#endif

#include "cls.h"

#define SCORE_LANES 8 /* partial sums: one AVX register of floats */
#define SCORE_NPAD ((CLS_NFEAT + SCORE_LANES - 1) / SCORE_LANES * SCORE_LANES)
#define SCORE_ROWS (SCORE_NPAD / SCORE_LANES)

_Static_assert(SCORE_NPAD <= 64, "candidate masks are 64-bit");
_Static_assert(CLS_TOP_K <= SCORE_LANES && SCORE_LANES == 8, "top_k() sorts 8 column maxima");

/* c[0..CLS_NFEAT) = coef * x - offset, c[CLS_NFEAT..SCORE_NPAD) = 0; returns the logit. */
static inline float contributions(const struct cls_scorer *sc, const float x[CLS_NFEAT],
				  float c[SCORE_NPAD])
{
	float part[SCORE_LANES];
	float z;

	/* weight * (x - mean) / scale == coef * x - offset (both derived at init) */
	for (uint32_t i = 0; i < CLS_NFEAT; i++)
		c[i] = sc->coef[i] * x[i] - sc->offset[i];
	for (uint32_t i = CLS_NFEAT; i < SCORE_NPAD; i++)
		c[i] = 0.0f;
	for (uint32_t j = 0; j < SCORE_LANES; j++)
		part[j] = c[j];
	for (uint32_t r = 1; r < SCORE_ROWS; r++)
		for (uint32_t j = 0; j < SCORE_LANES; j++)
			part[j] += c[r * SCORE_LANES + j];
	/* pairwise, in an order fixed here: written out, not left to the
	 * compiler (no -ffast-math reassociation), so the vector width does not
	 * change the logit */
	for (uint32_t w = SCORE_LANES / 2; w > 0; w /= 2)
		for (uint32_t j = 0; j < w; j++)
			part[j] += part[j + w];
	z = sc->bias + part[0];
	return z;
}

static inline float sigmoid(float z)
{
	return 1.0f / (1.0f + expf(-z));
}

float cls_score(const struct cls_scorer *sc, const float x[CLS_NFEAT], float *contrib,
		float *logit)
{
	float c[SCORE_NPAD];
	float z = contributions(sc, x, c);

	if (contrib)
		memcpy(contrib, c, CLS_NFEAT * sizeof(*c));
	if (logit)
		*logit = z;
	return sigmoid(z);
}

/* Compare-exchange: a keeps the larger value, b the smaller (min/max or cmov, no branch). */
#define CX(T, a, b)                             \
	do {                                    \
		T hi_ = (a) > (b) ? (a) : (b);  \
		T lo_ = (a) > (b) ? (b) : (a);  \
		(a) = hi_;                      \
		(b) = lo_;                      \
	} while (0)

/* Batcher's odd-even merge sort of 8 entries, decreasing: 19 compare-exchanges in 6 levels. */
#define SORT8(T, v)                                                                   \
	do {                                                                          \
		CX(T, v[0], v[1]); CX(T, v[2], v[3]); CX(T, v[4], v[5]); CX(T, v[6], v[7]); \
		CX(T, v[0], v[2]); CX(T, v[1], v[3]); CX(T, v[4], v[6]); CX(T, v[5], v[7]); \
		CX(T, v[1], v[2]); CX(T, v[5], v[6]);                                 \
		CX(T, v[0], v[4]); CX(T, v[1], v[5]); CX(T, v[2], v[6]); CX(T, v[3], v[7]); \
		CX(T, v[2], v[4]); CX(T, v[3], v[5]);                                 \
		CX(T, v[1], v[2]); CX(T, v[3], v[4]); CX(T, v[5], v[6]);              \
	} while (0)

/*
 * The candidates for the top K as a bit mask (bit i: entry i), step 1 of
 * top_k(): |c| seen as SCORE_ROWS rows of SCORE_LANES; the K-th largest of
 * the SCORE_LANES column maxima, t, is a lower bound of the K-th largest |c|
 * (those K maxima are K distinct entries >= t), so every entry of the answer
 * is >= t. Candidates: |c_i| >= t and |c_i| > 0.
 */
static inline uint64_t candidates(const float c[SCORE_NPAD])
{
	/* IEEE bits of the column maxima: >= 0, so they sort like the values
	 * (and the integer network is one instruction per min or max) */
	uint32_t t[SCORE_LANES];
	uint64_t m = 0;
#if defined(__AVX2__)
	const __m256 sign = _mm256_set1_ps(-0.0f), zero = _mm256_setzero_ps();
	__m256 a[SCORE_ROWS], mx, vt;

	for (uint32_t r = 0; r < SCORE_ROWS; r++)
		a[r] = _mm256_andnot_ps(sign, _mm256_loadu_ps(c + r * SCORE_LANES));
	mx = a[0];
	for (uint32_t r = 1; r < SCORE_ROWS; r++)
		mx = _mm256_max_ps(mx, a[r]);
	_mm256_storeu_si256((__m256i *)(void *)t, _mm256_castps_si256(mx));
	SORT8(uint32_t, t);
	vt = _mm256_castsi256_ps(_mm256_set1_epi32((int)t[CLS_TOP_K - 1]));
	for (uint32_t r = 0; r < SCORE_ROWS; r++) {
		__m256 ok = _mm256_and_ps(_mm256_cmp_ps(a[r], vt, _CMP_GE_OQ),
					  _mm256_cmp_ps(a[r], zero, _CMP_GT_OQ));

		m |= (uint64_t)(uint32_t)_mm256_movemask_ps(ok) << (r * SCORE_LANES);
	}
#else
	uint32_t a[SCORE_NPAD];

	for (uint32_t i = 0; i < SCORE_NPAD; i++) {
		memcpy(&a[i], &c[i], sizeof(a[i]));
		a[i] &= 0x7fffffffu;
	}
	for (uint32_t j = 0; j < SCORE_LANES; j++)
		t[j] = a[j];
	for (uint32_t r = 1; r < SCORE_ROWS; r++)
		for (uint32_t j = 0; j < SCORE_LANES; j++)
			t[j] = t[j] > a[r * SCORE_LANES + j] ? t[j] : a[r * SCORE_LANES + j];
	SORT8(uint32_t, t);
	/* NaN bits exceed +inf's: left out like the AVX2 compares leave them */
	for (uint32_t i = 0; i < SCORE_NPAD; i++)
		m |= (uint64_t)(a[i] >= t[CLS_TOP_K - 1] && a[i] > 0 && a[i] <= 0x7f800000u)
		     << i;
#endif
	return m;
}

/*
 * Sort key of entry i: |c_i| above, 63 - i below, so that a larger key is a
 * larger |c| and, on a tie, the lower index. The IEEE bits of |c| (sign
 * cleared) order like its value.
 */
static inline uint64_t key_of(const float c[SCORE_NPAD], uint32_t i)
{
	uint32_t bits;

	memcpy(&bits, &c[i], sizeof(bits));
	return (uint64_t)(bits & 0x7fffffffu) << 6 | (63u - i);
}

static inline uint32_t index_of(uint64_t key)
{
	return 63u - (uint32_t)(key & 63u);
}

/*
 * Keep the K largest |contrib| in decreasing order; ties keep the lower
 * index; zero contributions are never listed. A partial selection: the
 * candidates (candidates(): on the shipped scorer and real prompts 5 to 10
 * of the 44, mostly 7) are sorted by key, by one 8-entry sorting network
 * when they fit, else (many ties or a crowd near the bound) by insertion into
 * the K slots. No sort of the vector and, in the common case, no
 * data-dependent branch.
 */
static void top_k(const float c[SCORE_NPAD], const float x[CLS_NFEAT],
		  struct cls_decision *d)
{
	uint64_t m = candidates(c), k[SCORE_LANES] = { 0 };
	uint32_t n = (uint32_t)__builtin_popcountll(m), out;

	if (n <= SCORE_LANES) {
		/* unused slots keep key 0, which sorts last and is never output */
		for (uint32_t p = 0; m; m &= m - 1, p++)
			k[p] = key_of(c, (uint32_t)__builtin_ctzll(m));
		SORT8(uint64_t, k);
	} else {
		for (; m; m &= m - 1) {
			uint64_t key = key_of(c, (uint32_t)__builtin_ctzll(m));

			for (uint32_t p = 0; p < CLS_TOP_K; p++)
				CX(uint64_t, k[p], key);
		}
	}
	out = n < CLS_TOP_K ? n : CLS_TOP_K;
	for (uint32_t p = 0; p < out; p++) {
		uint32_t i = index_of(k[p]);

		d->top[p].feat = i;
		d->top[p].value = x[i];
		d->top[p].contrib = c[i];
	}
	d->n_top = out;
}

void cls_decide_finish(const struct cls_policy *pol, const struct cls_scan_result *scan,
		       const float x[CLS_NFEAT], struct cls_decision *d)
{
	float c[SCORE_NPAD];

	d->policy_version = pol->version;
	d->threshold = pol->scorer.threshold;
	d->logit = contributions(&pol->scorer, x, c);
	/* top_k() before the call to expf(), which would spill c[] around it */
	top_k(c, x, d);
	d->p_frontier = sigmoid(d->logit);
	if (&d->scan != scan)
		d->scan = *scan;
	if (x != d->x)
		memcpy(d->x, x, sizeof(d->x));

	d->forced_by = scan->action_rule;
	switch (scan->action) {
	case TS_ACT_BLOCK:
		d->route = TS_ROUTE_BLOCK;
		d->reason = CLS_REASON_BLOCK;
		break;
	case TS_ACT_FORCE_FRONTIER:
		d->route = TS_ROUTE_FRONTIER;
		d->reason = CLS_REASON_FORCE_FRONTIER;
		break;
	case TS_ACT_FORCE_LOCAL:
		d->route = TS_ROUTE_LOCAL;
		d->reason = CLS_REASON_FORCE_LOCAL;
		break;
	default:
		d->route = d->p_frontier >= d->threshold ? TS_ROUTE_FRONTIER : TS_ROUTE_LOCAL;
		d->reason = CLS_REASON_SCORE;
		d->forced_by = UINT32_MAX;
		break;
	}
}
