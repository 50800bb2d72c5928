/* SPDX-License-Identifier: proprietary */
/*
 * Token sampling and stop-sequence scanning (executor thread, per token).
 *
 * Work per token is O(n_vocab): one pass for the maximum and the log-sum-exp
 * (needed for the log-probability anyway), top-k by a size-k min-heap
 * (O(n log k)), top-p by a quickselect-style partition that finds the nucleus
 * in expected O(n) without sorting. No candidate list is ever fully sorted.
 *
 * Randomness: xorshift64* (Vigna, "An experimental exploration of Marsaglia's
 * xorshift generators", 2016: state ^= state >> 12, << 25, >> 27, output
 * state * 0x2545F4914F6CDD1D), seeded through one splitmix64 step so that
 * any seed, 0 included, gives a non-zero state. A uniform double in [0, 1)
 * takes the top 53 bits. Each sequence has its own state, so batching never
 * changes what a seeded request generates.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "sampler.h"

/*
 * Accepts temperature in [0, 100] (finite), top_p in (0, 1]; any top_k and
 * seed. Returns 0 or -EINVAL.
 */
int ex_sample_params_check(const struct ex_sample_params *p)
{
	if (!(p->temperature >= 0.0f && p->temperature <= 100.0f))
		return -EINVAL;
	if (!(p->top_p > 0.0f && p->top_p <= 1.0f))
		return -EINVAL;
	return 0;
}

static uint64_t splitmix64(uint64_t x)
{
	x += 0x9E3779B97F4A7C15ull;
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
	x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
	return x ^ (x >> 31);
}

void ex_sampler_init(struct ex_sampler *s, const struct ex_sample_params *p)
{
	s->par = *p;
	s->rng = splitmix64(p->seed);
	if (s->rng == 0)
		s->rng = 0x9E3779B97F4A7C15ull; /* xorshift must not start at 0 */
}

uint64_t ex_rng_next(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545F4914F6CDD1Dull;
}

static double rng_unit(uint64_t *state)
{
	return (double)(ex_rng_next(state) >> 11) * 0x1.0p-53;
}

/*
 * exp(x) for x <= 0 in float: x = k ln2 + r with |r| <= ln2 / 2 (Cody-Waite
 * split of ln2), exp(r) by its degree-6 Taylor polynomial (relative error
 * < 2e-7 on that interval), 2^k built in the exponent bits. Inputs below -87
 * (where 2^k would leave the normal range) and NaN give 0: such terms are
 * below 1e-38 of the maximum's. The AVX2 version below computes the same.
 */
static inline float exp_nonpos(float x)
{
	float xc = x >= -87.0f ? x : -87.0f; /* NaN too: no float-to-int overflow below */
	float k = nearbyintf(xc * 1.44269504088896341f);
	float r = xc - k * 0.693145751953125f - k * 1.428606820309417e-06f;
	float p = 1.0f + r * (1.0f + r * (0.5f + r * (1.0f / 6 + r * (1.0f / 24 + r * (1.0f / 120 +
						    r * (1.0f / 720))))));
	int32_t bits = ((int32_t)k + 127) << 23;
	float scale;

	memcpy(&scale, &bits, sizeof(scale));
	return x >= -87.0f ? p * scale : 0.0f;
}

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>

static inline __m256 exp_nonpos8(__m256 x)
{
	const __m256 lo = _mm256_set1_ps(-87.0f);
	__m256 xc = _mm256_max_ps(x, lo);
	__m256 k = _mm256_round_ps(_mm256_mul_ps(xc, _mm256_set1_ps(1.44269504088896341f)),
				   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
	__m256 r = _mm256_fnmadd_ps(k, _mm256_set1_ps(0.693145751953125f), xc);
	__m256 p = _mm256_set1_ps(1.0f / 720);
	__m256i e;

	r = _mm256_fnmadd_ps(k, _mm256_set1_ps(1.428606820309417e-06f), r);
	p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120));
	p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24));
	p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6));
	p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
	p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
	p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
	e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(k), _mm256_set1_epi32(127)), 23);
	/* x >= -87, false for NaN: those lanes become 0 */
	return _mm256_and_ps(_mm256_mul_ps(p, _mm256_castsi256_ps(e)),
			     _mm256_cmp_ps(x, lo, _CMP_GE_OQ));
}

static float hmax8(__m256 v)
{
	__m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));

	m = _mm_max_ps(m, _mm_movehl_ps(m, m));
	m = _mm_max_ss(m, _mm_shuffle_ps(m, m, 1));
	return _mm_cvtss_f32(m);
}
#endif

/* Largest logit, NaNs ignored (-INFINITY when there is none). */
static float max_logit(const float *logits, uint32_t n)
{
	float m = -INFINITY;
	uint32_t i = 0;

#if defined(__AVX2__) && defined(__FMA__)
	__m256 a = _mm256_set1_ps(-INFINITY), b = a;

	/* max_ps(x, acc) returns acc when x is NaN */
	for (; i + 16 <= n; i += 16) {
		a = _mm256_max_ps(_mm256_loadu_ps(logits + i), a);
		b = _mm256_max_ps(_mm256_loadu_ps(logits + i + 8), b);
	}
	m = hmax8(_mm256_max_ps(a, b));
#endif
	for (; i < n; i++)
		if (logits[i] > m)
			m = logits[i];
	return m;
}

/* Index of the largest logit; the lowest index wins ties; NaNs never win. */
int32_t ex_argmax(const float *logits, uint32_t n)
{
	float m = max_logit(logits, n);
	uint32_t i = 0;

	if (m != m || n == 0)
		return 0;
#if defined(__AVX2__) && defined(__FMA__)
	for (__m256 vm = _mm256_set1_ps(m); i + 8 <= n; i += 8) {
		int bits = _mm256_movemask_ps(
			_mm256_cmp_ps(_mm256_loadu_ps(logits + i), vm, _CMP_EQ_OQ));

		if (bits != 0)
			return (int32_t)(i + (uint32_t)__builtin_ctz((unsigned)bits));
	}
#endif
	for (; i < n; i++)
		if (logits[i] == m)
			return (int32_t)i;
	return 0;
}

/*
 * sum_i exp((logits[i] - m) * inv_t) with m >= every logit; NaN logits count
 * 0. Partial sums in float lanes, added in double at the end.
 */
static double exp_sum(const float *logits, uint32_t n, float m, float inv_t)
{
	double sum = 0.0;
	uint32_t i = 0;

#if defined(__AVX2__) && defined(__FMA__)
	__m256 vm = _mm256_set1_ps(m), vt = _mm256_set1_ps(inv_t);
	__m256 a = _mm256_setzero_ps(), b = _mm256_setzero_ps();
	float lanes[8];

	for (; i + 16 <= n; i += 16) {
		__m256 x0 = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(logits + i), vm), vt);
		__m256 x1 = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(logits + i + 8), vm), vt);

		a = _mm256_add_ps(a, exp_nonpos8(x0));
		b = _mm256_add_ps(b, exp_nonpos8(x1));
	}
	_mm256_storeu_ps(lanes, _mm256_add_ps(a, b));
	for (int j = 0; j < 8; j++)
		sum += lanes[j];
#endif
	for (; i < n; i++)
		sum += exp_nonpos((logits[i] - m) * inv_t);
	return sum;
}

/* c[i].v = exp((c[i].v - m) * inv_t) for i < n; returns their sum. */
static double cand_exp(struct ex_cand *c, uint32_t n, float m, float inv_t)
{
	double sum = 0.0;
	uint32_t i = 0;

#if defined(__AVX2__) && defined(__FMA__)
	for (; i + 8 <= n; i += 8) {
		float t[8];

		for (int j = 0; j < 8; j++)
			t[j] = (c[i + j].v - m) * inv_t;
		_mm256_storeu_ps(t, exp_nonpos8(_mm256_loadu_ps(t)));
		for (int j = 0; j < 8; j++) {
			c[i + j].v = t[j];
			sum += t[j];
		}
	}
#endif
	for (; i < n; i++) {
		c[i].v = exp_nonpos((c[i].v - m) * inv_t);
		sum += c[i].v;
	}
	return sum;
}

/*
 * Inverse-CDF draw over the whole vocabulary without a candidate list: the
 * first token where the running sum of exp((l - m) * inv_t) passes target.
 * Whole blocks are skipped on their vector sum. Falls back to the last token
 * with weight when rounding leaves target unreached.
 */
static int32_t draw_all(const float *logits, uint32_t n, float m, float inv_t, double target)
{
	double acc = 0.0;
	int32_t last = 0;
	uint32_t i = 0;

#if defined(__AVX2__) && defined(__FMA__)
	__m256 vm = _mm256_set1_ps(m), vt = _mm256_set1_ps(inv_t);

	for (; i + 8 <= n; i += 8) {
		float t[8];
		double blk = 0.0;

		_mm256_storeu_ps(t, exp_nonpos8(_mm256_mul_ps(
					    _mm256_sub_ps(_mm256_loadu_ps(logits + i), vm), vt)));
		for (int j = 0; j < 8; j++)
			blk += t[j];
		if (acc + blk <= target) {
			acc += blk;
			for (int j = 0; j < 8; j++)
				if (t[j] > 0.0f)
					last = (int32_t)(i + (uint32_t)j);
			continue;
		}
		for (int j = 0; j < 8; j++) {
			acc += t[j];
			if (t[j] > 0.0f)
				last = (int32_t)(i + (uint32_t)j);
			if (acc > target)
				return (int32_t)(i + (uint32_t)j);
		}
	}
#endif
	for (; i < n; i++) {
		float e = exp_nonpos((logits[i] - m) * inv_t);

		acc += e;
		if (e > 0.0f)
			last = (int32_t)i;
		if (acc > target)
			return (int32_t)i;
	}
	return last;
}

/*
 * Log-probability of token id under the temperature-1 distribution, i.e. the
 * model's own: log_softmax(logits)[id] = logits[id] - max - log(sum exp(l - max)).
 * It does not depend on the sampling parameters, so confidences of greedy and
 * sampled answers are comparable. Natural log (nats).
 */
float ex_logprob(const float *logits, uint32_t n, int32_t id)
{
	float m = max_logit(logits, n);

	if (!isfinite(m))
		return -INFINITY;
	return (float)((double)logits[id] - m - log(exp_sum(logits, n, m, 1.0f)));
}

/* Min-heap on v, ties broken so that the higher id is the smaller element
 * (keeps the lower id among equal logits, like argmax). */
static bool cand_less(const struct ex_cand *a, const struct ex_cand *b)
{
	return a->v < b->v || (a->v == b->v && a->id > b->id);
}

static void heap_sift_down(struct ex_cand *h, uint32_t n, uint32_t i)
{
	for (;;) {
		uint32_t l = 2 * i + 1, r = l + 1, m = i;
		struct ex_cand t;

		if (l < n && cand_less(&h[l], &h[m]))
			m = l;
		if (r < n && cand_less(&h[r], &h[m]))
			m = r;
		if (m == i)
			return;
		t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

static void heap_offer(struct ex_cand *c, uint32_t k, const float *logits, uint32_t i)
{
	struct ex_cand x = {.v = logits[i], .id = (int32_t)i};

	if (cand_less(&c[0], &x)) {
		c[0] = x;
		heap_sift_down(c, k, 0);
	}
}

/*
 * The k largest logits into c[0..k), in heap order. O(n log k) at worst;
 * blocks of eight logits none of which beats the heap's minimum are skipped
 * with one vector compare, so typical cost is one pass over the logits.
 */
static void top_k_select(const float *logits, uint32_t n, uint32_t k, struct ex_cand *c)
{
	uint32_t i = k;

	for (uint32_t j = 0; j < k; j++)
		c[j] = (struct ex_cand){.v = logits[j], .id = (int32_t)j};
	for (uint32_t j = k / 2; j-- > 0;)
		heap_sift_down(c, k, j);
#if defined(__AVX2__) && defined(__FMA__)
	for (; i + 8 <= n; i += 8) {
		/* Ties never enter (a later id loses to an equal earlier one). */
		int bits = _mm256_movemask_ps(_mm256_cmp_ps(
			_mm256_loadu_ps(logits + i), _mm256_set1_ps(c[0].v), _CMP_GT_OQ));

		for (uint32_t j = 0; bits != 0 && j < 8; j++, bits >>= 1)
			if (bits & 1)
				heap_offer(c, k, logits, i + j);
	}
#endif
	for (; i < n; i++)
		heap_offer(c, k, logits, i);
}

static void cand_swap(struct ex_cand *a, struct ex_cand *b)
{
	struct ex_cand t = *a;

	*a = *b;
	*b = t;
}

/*
 * Reorder c[0..n) (probabilities summing to ~1) so that c[0..k) is the
 * nucleus: the smallest set of most likely tokens whose mass reaches top_p.
 * Quickselect with a three-way partition: expected O(n), never a full sort.
 * Returns k >= 1.
 */
static uint32_t nucleus_select(struct ex_cand *c, uint32_t n, double top_p)
{
	uint32_t lo = 0, hi = n;
	double need = top_p;

	while (lo < hi) {
		float a = c[lo].v, b = c[lo + (hi - lo) / 2].v, d = c[hi - 1].v;
		float pivot = a < b ? (b < d ? b : (a < d ? d : a)) : (a < d ? a : (b < d ? d : b));
		uint32_t gt = lo, i = lo, lt = hi;
		double mass_gt = 0.0, mass_eq;

		/* [lo, gt) > pivot, [gt, i) == pivot, [lt, hi) < pivot */
		while (i < lt) {
			if (c[i].v > pivot) {
				mass_gt += c[i].v;
				cand_swap(&c[i++], &c[gt++]);
			} else if (c[i].v < pivot) {
				cand_swap(&c[i], &c[--lt]);
			} else {
				i++;
			}
		}
		if (mass_gt >= need) {
			hi = gt; /* the nucleus ends inside the larger part */
			continue;
		}
		need -= mass_gt;
		mass_eq = (double)(lt - gt) * pivot;
		if (mass_eq >= need && pivot > 0.0f) {
			uint32_t take = (uint32_t)ceil(need / pivot);

			if (take < 1)
				take = 1;
			if (take > lt - gt)
				take = lt - gt;
			return gt + take;
		}
		need -= mass_eq;
		lo = lt;
	}
	/* Rounding left some mass short: everything up to here is the nucleus. */
	return lo > 0 ? lo : 1;
}

/*
 * Choose the next token from logits[0..n). Greedy (argmax) when temperature
 * is 0 or top_k is 1; otherwise softmax(logits / T) restricted to the top_k
 * most likely tokens, then to the top_p nucleus, sampled with the sequence's
 * PRNG. scratch holds n candidates. *logprob gets the chosen token's
 * temperature-1 log-probability (see ex_logprob). Returns the token id.
 *
 * Without top_k, candidates are pre-filtered on the logit itself: a token
 * with probability below (1 - top_p) / (n - 1) can never be in the nucleus
 * (all the tokens ranked after it would weigh less than 1 - top_p together),
 * so only tokens with l >= max + T * log(sum_T * (1 - top_p) / (n - 1)) are
 * kept and exponentiated; the nucleus is then found among those.
 */
int32_t ex_sample(struct ex_sampler *s, const float *logits, uint32_t n, struct ex_cand *scratch,
		  float *logprob)
{
	const struct ex_sample_params *p = &s->par;
	float m = max_logit(logits, n), inv_t;
	double sum1, sum = 0.0, norm = 0.0, r, acc;
	uint32_t nc = 0, k;
	int32_t id;

	if (!isfinite(m)) {
		*logprob = -INFINITY;
		return ex_argmax(logits, n);
	}
	sum1 = exp_sum(logits, n, m, 1.0f);
	if (p->temperature <= 0.0f || p->top_k == 1) {
		id = ex_argmax(logits, n);
		goto done;
	}
	inv_t = 1.0f / p->temperature;
	if (p->top_k > 0 && p->top_k < n) {
		nc = p->top_k;
		top_k_select(logits, n, nc, scratch);
	} else if (p->top_p < 1.0f && n > 1) {
		double sum_t = inv_t == 1.0f ? sum1 : exp_sum(logits, n, m, inv_t);
		float cut;

		/* The nucleus is defined on the whole distribution: normalise by all of it. */
		norm = sum_t;
		cut = m + p->temperature *
				       (float)log(sum_t * (1.0 - p->top_p) / (double)(n - 1));

		for (uint32_t i = 0; i < n; i++)
			if (logits[i] >= cut)
				scratch[nc++] = (struct ex_cand){.v = logits[i], .id = (int32_t)i};
		if (nc == 0) {
			/* Only when top_p is tiny: the most likely token alone is the nucleus. */
			id = ex_argmax(logits, n);
			goto done;
		}
	} else {
		/* Plain temperature sampling: no candidate list at all. */
		double sum_t = inv_t == 1.0f ? sum1 : exp_sum(logits, n, m, inv_t);

		id = draw_all(logits, n, m, inv_t, rng_unit(&s->rng) * sum_t);
		goto done;
	}
	sum = cand_exp(scratch, nc, m, inv_t);
	if (norm == 0.0)
		norm = sum;
	if (!(sum > 0.0)) {
		id = ex_argmax(logits, n);
		goto done;
	}
	for (uint32_t i = 0; i < nc; i++)
		scratch[i].v = (float)(scratch[i].v / norm);
	k = p->top_p < 1.0f ? nucleus_select(scratch, nc, p->top_p) : nc;
	sum = 0.0;
	for (uint32_t i = 0; i < k; i++)
		sum += scratch[i].v;
	r = rng_unit(&s->rng) * sum;
	acc = 0.0;
	id = scratch[k - 1].id; /* rounding fallback: the last candidate */
	for (uint32_t i = 0; i < k; i++) {
		acc += scratch[i].v;
		if (r < acc) {
			id = scratch[i].id;
			break;
		}
	}
done:
	*logprob = (float)((double)logits[id] - m - log(sum1));
	return id;
}

/*
 * Bytes at the end of buf that start a UTF-8 character not yet complete (a
 * lead byte followed by fewer continuation bytes than it announces): 0..3.
 * Invalid bytes are not held: they could never complete.
 */
uint32_t ex_utf8_hold(const char *buf, uint32_t len)
{
	for (uint32_t back = 1; back <= 3 && back <= len; back++) {
		unsigned char c = (unsigned char)buf[len - back];
		uint32_t need;

		if ((c & 0xC0) == 0x80)
			continue; /* continuation: keep looking for the lead */
		if ((c & 0xE0) == 0xC0)
			need = 2;
		else if ((c & 0xF0) == 0xE0)
			need = 3;
		else if ((c & 0xF8) == 0xF0)
			need = 4;
		else
			return 0; /* ASCII or invalid lead */
		return back < need ? back : 0;
	}
	return 0;
}

/*
 * Length of the well-formed UTF-8 sequence at s[0..avail) (RFC 3629 /
 * Unicode Table 3-7: no overlongs, no surrogates, nothing above U+10FFFF),
 * or 0 when none starts there. *prefix gets the bytes that form the longest
 * prefix of some well-formed sequence (1..3 when 0 is returned; a byte that
 * can start nothing still counts 1): Unicode's "maximal subpart", the unit
 * one U+FFFD replaces.
 */
uint32_t ex_utf8_valid_len(const unsigned char *s, uint32_t avail, uint32_t *prefix)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xBF;
	uint32_t need;

	*prefix = 1;
	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		need = 2;
	else if (c >= 0xE0 && c <= 0xEF)
		need = 3;
	else if (c >= 0xF0 && c <= 0xF4)
		need = 4;
	else
		return 0; /* continuation, C0/C1 (overlong), F5..FF */
	if (c == 0xE0)
		lo = 0xA0; /* overlong below U+0800 */
	else if (c == 0xED)
		hi = 0x9F; /* surrogates */
	else if (c == 0xF0)
		lo = 0x90; /* overlong below U+10000 */
	else if (c == 0xF4)
		hi = 0x8F; /* above U+10FFFF */
	for (uint32_t i = 1; i < need; i++) {
		if (i >= avail)
			return 0;
		if (s[i] < (i == 1 ? lo : 0x80) || s[i] > (i == 1 ? hi : 0xBF))
			return 0;
		*prefix = i + 1;
	}
	return need;
}

/*
 * Copy in[0..in_len) to out[0..out_cap) as well-formed UTF-8: each maximal
 * subpart of an ill-formed sequence becomes U+FFFD (EF BF BD). Only whole
 * characters are written. Without final, an incomplete sequence at the very
 * end of in is left unconsumed (the next token may complete it); with final
 * it is replaced too. *consumed gets the input bytes used. Returns the
 * output bytes. The executor's last word on every byte it sends.
 */
uint32_t ex_utf8_sanitize(const char *in, uint32_t in_len, bool final, char *out,
			  uint32_t out_cap, uint32_t *consumed)
{
	const unsigned char *p = (const unsigned char *)in;
	uint32_t i = 0, o = 0;

	while (i < in_len) {
		uint32_t pre, n = ex_utf8_valid_len(p + i, in_len - i, &pre);

		if (n > 0) {
			if (n > out_cap - o)
				break;
			memcpy(out + o, p + i, n);
			o += n;
			i += n;
			continue;
		}
		/* The prefix ran into the end of the input: it may still complete. */
		if (!final && i + pre == in_len && p[i] >= 0xC2 && p[i] <= 0xF4)
			break;
		if (out_cap - o < 3)
			break;
		memcpy(out + o, "\xEF\xBF\xBD", 3);
		o += 3;
		i += pre;
	}
	*consumed = i;
	return o;
}

/*
 * How many bytes at the start of buf[0..len) may be sent now.
 *
 * When a stop sequence occurs in buf, *hit is set and its offset returned:
 * the text before it is the last the client sees. Otherwise the bytes that
 * could still become the start of a stop sequence (the longest suffix that
 * is a proper prefix of one) and an incomplete UTF-8 character at the end
 * are held back, unless `final` (no more text comes). The caller keeps the
 * held bytes and scans them again with the next piece appended; since held
 * bytes cover every possible partial match, scanning from the first unsent
 * byte finds every stop sequence, whatever the token boundaries.
 */
uint32_t ex_stop_scan(const struct ex_stops *st, const char *buf, uint32_t len, bool final,
		      bool *hit)
{
	uint32_t best = len, hold = 0;

	*hit = false;
	for (uint32_t i = 0; i < st->n; i++) {
		const char *f = memmem(buf, len, st->s[i], st->len[i]);

		if (f != NULL && (uint32_t)(f - buf) < best) {
			best = (uint32_t)(f - buf);
			*hit = true;
		}
	}
	if (*hit || final)
		return best;
	for (uint32_t i = 0; i < st->n; i++) {
		uint32_t maxk = st->len[i] - 1 < len ? st->len[i] - 1 : len;

		for (uint32_t k = maxk; k > hold; k--) {
			if (memcmp(buf + len - k, st->s[i], k) == 0) {
				hold = k;
				break;
			}
		}
	}
	if (ex_utf8_hold(buf, len) > hold)
		hold = ex_utf8_hold(buf, len);
	return len - hold;
}
