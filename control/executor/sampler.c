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

/* Index of the largest logit; the lowest index wins ties; NaNs never win. */
int32_t ex_argmax(const float *logits, uint32_t n)
{
	uint32_t best = 0;

	for (uint32_t i = 1; i < n; i++)
		if (logits[i] > logits[best] || isnan(logits[best]))
			best = i;
	return (int32_t)best;
}

static float max_logit(const float *logits, uint32_t n)
{
	float m = -INFINITY;

	for (uint32_t i = 0; i < n; i++)
		if (logits[i] > m)
			m = logits[i];
	return m;
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
	double sum = 0.0;

	if (!isfinite(m))
		return -INFINITY;
	for (uint32_t i = 0; i < n; i++)
		sum += exp((double)logits[i] - m);
	return (float)((double)logits[id] - m - log(sum));
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

/* The k largest logits into c[0..k), in heap order. O(n log k). */
static void top_k_select(const float *logits, uint32_t n, uint32_t k, struct ex_cand *c)
{
	for (uint32_t i = 0; i < k; i++)
		c[i] = (struct ex_cand){.v = logits[i], .id = (int32_t)i};
	for (uint32_t i = k / 2; i-- > 0;)
		heap_sift_down(c, k, i);
	for (uint32_t i = k; i < n; i++) {
		struct ex_cand x = {.v = logits[i], .id = (int32_t)i};

		if (cand_less(&c[0], &x)) {
			c[0] = x;
			heap_sift_down(c, k, 0);
		}
	}
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
 */
int32_t ex_sample(struct ex_sampler *s, const float *logits, uint32_t n, struct ex_cand *scratch,
		  float *logprob)
{
	const struct ex_sample_params *p = &s->par;
	float m = max_logit(logits, n);
	uint32_t nc, k;
	double sum = 0.0, r, acc;
	int32_t id;

	if (p->temperature <= 0.0f || p->top_k == 1 || !isfinite(m)) {
		id = ex_argmax(logits, n);
		goto done;
	}
	if (p->top_k > 0 && p->top_k < n) {
		nc = p->top_k;
		top_k_select(logits, n, nc, scratch);
	} else {
		nc = n;
		for (uint32_t i = 0; i < n; i++)
			scratch[i] = (struct ex_cand){.v = logits[i], .id = (int32_t)i};
	}
	for (uint32_t i = 0; i < nc; i++) {
		float e = isnan(scratch[i].v) ? 0.0f
					      : (float)exp(((double)scratch[i].v - m) / p->temperature);

		scratch[i].v = e;
		sum += e;
	}
	for (uint32_t i = 0; i < nc; i++)
		scratch[i].v = (float)(scratch[i].v / sum);
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
	*logprob = ex_logprob(logits, n, id);
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
