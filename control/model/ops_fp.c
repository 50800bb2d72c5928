/* Forward-pass kernels. AVX-512 / AVX2+FMA+F16C paths chosen at compile time
 * (-march), each with a portable C fallback for other targets. Runs on the
 * executor's pinned cores: no allocation, locks or syscalls here. */
#include "ops.h"

#include <math.h>
#include <string.h>

#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
#include <immintrin.h>
#define MDL_X86 1
#else
#define MDL_X86 0
#endif

float mdl_f16_to_f32(uint16_t h)
{
#if MDL_X86
	return _cvtsh_ss(h);
#else
	uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
	if (exp == 0) {
		float f = ldexpf((float)man, -24); /* zero or subnormal */
		return sign ? -f : f;
	}
	if (exp == 31)
		bits = sign | 0x7f800000u | (man << 13);
	else
		bits = sign | ((exp + 112) << 23) | (man << 13);
	float f;
	memcpy(&f, &bits, 4);
	return f;
#endif
}

float mdl_bf16_to_f32(uint16_t h)
{
	uint32_t bits = (uint32_t)h << 16;
	float f;
	memcpy(&f, &bits, 4);
	return f;
}

#if MDL_X86
static inline float hsum256(__m256 v)
{
	__m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
	s = _mm_add_ps(s, _mm_movehl_ps(s, s));
	s = _mm_add_ss(s, _mm_movehdup_ps(s));
	return _mm_cvtss_f32(s);
}
#endif

float mdl_dot_f32(const float *a, const float *b, uint32_t n)
{
	uint32_t i = 0;
	float sum = 0.0f;
#if defined(__AVX512F__)
	__m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
	for (; i + 32 <= n; i += 32) {
		acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), acc0);
		acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), acc1);
	}
	for (; i + 16 <= n; i += 16)
		acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), acc0);
	if (i < n) {
		__mmask16 m = (__mmask16)((1u << (n - i)) - 1);
		acc1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i), acc1);
		i = n;
	}
	sum = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
#elif MDL_X86
	__m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
	for (; i + 16 <= n; i += 16) {
		acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
		acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), acc1);
	}
	sum = hsum256(_mm256_add_ps(acc0, acc1));
#endif
	for (; i < n; i++)
		sum += a[i] * b[i];
	return sum;
}

static float dot_f16(const uint16_t *w, const float *x, uint32_t n)
{
	uint32_t i = 0;
	float sum = 0.0f;
#if defined(__AVX512F__)
	__m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
	for (; i + 32 <= n; i += 32) {
		__m512 w0 = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(w + i)));
		__m512 w1 = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(w + i + 16)));
		acc0 = _mm512_fmadd_ps(w0, _mm512_loadu_ps(x + i), acc0);
		acc1 = _mm512_fmadd_ps(w1, _mm512_loadu_ps(x + i + 16), acc1);
	}
	sum = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
#elif MDL_X86
	__m256 acc0 = _mm256_setzero_ps();
	for (; i + 8 <= n; i += 8) {
		__m256 w0 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(w + i)));
		acc0 = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x + i), acc0);
	}
	sum = hsum256(acc0);
#endif
	for (; i < n; i++)
		sum += mdl_f16_to_f32(w[i]) * x[i];
	return sum;
}

static float dot_bf16(const uint16_t *w, const float *x, uint32_t n)
{
	uint32_t i = 0;
	float sum = 0.0f;
#if defined(__AVX512F__)
	__m512 acc0 = _mm512_setzero_ps();
	for (; i + 16 <= n; i += 16) {
		__m512i wi = _mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)(w + i)));
		__m512 w0 = _mm512_castsi512_ps(_mm512_slli_epi32(wi, 16));
		acc0 = _mm512_fmadd_ps(w0, _mm512_loadu_ps(x + i), acc0);
	}
	sum = _mm512_reduce_add_ps(acc0);
#elif MDL_X86
	__m256 acc0 = _mm256_setzero_ps();
	for (; i + 8 <= n; i += 8) {
		__m256i wi = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(w + i)));
		__m256 w0 = _mm256_castsi256_ps(_mm256_slli_epi32(wi, 16));
		acc0 = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x + i), acc0);
	}
	sum = hsum256(acc0);
#endif
	for (; i < n; i++)
		sum += mdl_bf16_to_f32(w[i]) * x[i];
	return sum;
}

#if MDL_X86
/* Signed int8 x int8 -> 8 int32 partial sums. vpdpbusd/vpmaddubsw want one
 * unsigned operand, so move the sign of w onto x (llama.cpp's trick); |w|
 * <= 128 and |x| <= 127 keep vpmaddubsw's i16 pair sums from saturating. */
static inline __m256i mul_i8(__m256i w, __m256i x)
{
	__m256i aw = _mm256_sign_epi8(w, w);
	__m256i sx = _mm256_sign_epi8(x, w);
#if defined(__AVX512VNNI__) && defined(__AVX512VL__)
	return _mm256_dpbusd_epi32(_mm256_setzero_si256(), aw, sx);
#elif defined(__AVXVNNI__)
	return _mm256_dpbusd_avx_epi32(_mm256_setzero_si256(), aw, sx);
#else
	return _mm256_madd_epi16(_mm256_maddubs_epi16(aw, sx), _mm256_set1_epi16(1));
#endif
}
#endif

/* Blocks [b0, nb) of one weight row against activation row t, one block at
 * a time (the general path, and the tail of the grouped one). */
static float dot_q8_blocks(const struct gguf_block_q8_0 *w, const struct mdl_q8 *xq, uint32_t t,
			   uint32_t b0, uint32_t nb)
{
	const int8_t *xs = xq->qs + (size_t)t * xq->nb * MDL_QK;
	const float *xd = xq->d + (size_t)t * xq->nb;
	float sum = 0.0f;
	uint32_t i = b0;
#if MDL_X86
	__m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
	for (; i + 2 <= nb; i += 2) {
		__m256i p0 = mul_i8(_mm256_loadu_si256((const __m256i *)w[i].qs),
				    _mm256_loadu_si256((const __m256i *)(xs + (size_t)i * MDL_QK)));
		__m256i p1 = mul_i8(_mm256_loadu_si256((const __m256i *)w[i + 1].qs),
				    _mm256_loadu_si256((const __m256i *)(xs + (size_t)(i + 1) * MDL_QK)));
		__m256 d0 = _mm256_set1_ps(_cvtsh_ss(w[i].d) * xd[i]);
		__m256 d1 = _mm256_set1_ps(_cvtsh_ss(w[i + 1].d) * xd[i + 1]);
		acc0 = _mm256_fmadd_ps(d0, _mm256_cvtepi32_ps(p0), acc0);
		acc1 = _mm256_fmadd_ps(d1, _mm256_cvtepi32_ps(p1), acc1);
	}
	for (; i < nb; i++) {
		__m256i p0 = mul_i8(_mm256_loadu_si256((const __m256i *)w[i].qs),
				    _mm256_loadu_si256((const __m256i *)(xs + (size_t)i * MDL_QK)));
		__m256 d0 = _mm256_set1_ps(_cvtsh_ss(w[i].d) * xd[i]);
		acc0 = _mm256_fmadd_ps(d0, _mm256_cvtepi32_ps(p0), acc0);
	}
	sum = hsum256(_mm256_add_ps(acc0, acc1));
#else
	for (; i < nb; i++) {
		int32_t s = 0;
		for (int j = 0; j < MDL_QK; j++)
			s += (int32_t)w[i].qs[j] * xs[(size_t)i * MDL_QK + j];
		sum += (float)s * mdl_f16_to_f32(w[i].d) * xd[i];
	}
#endif
	return sum;
}

#if defined(__AVX512VNNI__) && defined(__AVX512VL__) && defined(__AVX512BW__)
#define MDL_Q8_GROUPED 1
#define Q8_TCHUNK 8 /* tokens sharing one load of a weight block group */
#ifndef Q8_PREFETCH
#define Q8_PREFETCH 2048 /* bytes ahead of the group being read */
#endif


/* Eight int32x8 vectors -> one vector of their eight horizontal sums. */
static inline __m256i hsum8_epi32(const __m256i s[8])
{
	__m256i a = _mm256_hadd_epi32(_mm256_hadd_epi32(s[0], s[1]), _mm256_hadd_epi32(s[2], s[3]));
	__m256i b = _mm256_hadd_epi32(_mm256_hadd_epi32(s[4], s[5]), _mm256_hadd_epi32(s[6], s[7]));
	return _mm256_add_epi32(_mm256_permute2x128_si256(a, b, 0x20), _mm256_permute2x128_si256(a, b, 0x31));
}

/* The same for four blocks [b0, b0 + 4) of one row (the tail of rows whose
 * block count is not a multiple of 8, e.g. 896 columns = 28 blocks): adds
 * each token's partial dot product into out[t]. */
static void q8_group4(const struct gguf_block_q8_0 *b, const struct mdl_q8 *xq, uint32_t t0, uint32_t tn,
		      uint32_t b0, float *out)
{
	const uint32_t nb = xq->nb;
	const __m256i x80 = _mm256_set1_epi8((char)0x80);
	const __m128i offs = _mm_setr_epi32(0, 34, 68, 102);
	__m256i wv[4];
	for (int k = 0; k < 4; k++)
		wv[k] = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)b[k].qs), x80);
	__m128i draw = _mm_i32gather_epi32((const int *)(const void *)&b[0].d, offs, 1);
	__m128 dw = _mm_cvtph_ps(_mm_cvtepi32_epi16(draw));
	for (uint32_t t = 0; t < tn; t++) {
		size_t xo = (size_t)(t0 + t) * nb + b0;
		const int8_t *xs = xq->qs + xo * MDL_QK;
		__m256i s[4];
		for (int k = 0; k < 4; k++)
			s[k] = _mm256_dpbusd_epi32(_mm256_setzero_si256(), wv[k],
						   _mm256_loadu_si256((const __m256i *)(xs + k * MDL_QK)));
		__m256i h = _mm256_hadd_epi32(_mm256_hadd_epi32(s[0], s[1]), _mm256_hadd_epi32(s[2], s[3]));
		__m128i tot = _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
		tot = _mm_sub_epi32(tot, _mm_slli_epi32(_mm_loadu_si128((const __m128i *)(xq->sum + xo)), 7));
		__m128 v = _mm_mul_ps(_mm_cvtepi32_ps(tot), _mm_mul_ps(dw, _mm_loadu_ps(xq->d + xo)));
		v = _mm_add_ps(v, _mm_movehl_ps(v, v));
		v = _mm_add_ss(v, _mm_movehdup_ps(v));
		out[t] += _mm_cvtss_f32(v);
	}
}

/* Eight rows at once for several tokens (prefill, batched decode): a GEMM
 * tile without horizontal sums. Per block, the eight rows' 32 bytes are
 * transposed as an 8x8 matrix of dwords, so that W[s] holds bytes 4s..4s+3
 * of every row, one row per int32 lane; vpdpbusd against the token's dword s
 * broadcast then adds each row's partial dot to its own lane, and after eight
 * steps lane j is row j's exact block dot (offset trick: w ^ 0x80 unsigned,
 * lanes start at -128 * sum(x)). Scales: the eight rows' d gathered at the
 * row stride, times the token's d. The result lanes are eight adjacent
 * outputs, stored without reduction. The transpose is paid once per block
 * per Q8_TCHUNK tokens. */
static void q8_tile8(const struct mdl_weight *w, const struct mdl_q8 *xq, uint32_t T, float *y,
		     uint32_t ystride, float *const *yrows, uint32_t r)
{
	const uint32_t nb = w->cols / MDL_QK;
	const uint8_t *base = (const uint8_t *)w->data + (size_t)r * w->row_bytes;
	const size_t rb = w->row_bytes;
	const __m256i x80 = _mm256_set1_epi8((char)0x80);
	const __m256i roffs = _mm256_setr_epi32(0, (int)rb, (int)(2 * rb), (int)(3 * rb), (int)(4 * rb),
						(int)(5 * rb), (int)(6 * rb), (int)(7 * rb));
	for (uint32_t t0 = 0; t0 < T; t0 += Q8_TCHUNK) {
		uint32_t tn = T - t0 < Q8_TCHUNK ? T - t0 : Q8_TCHUNK;
		__m256 acc[Q8_TCHUNK];
		for (uint32_t t = 0; t < tn; t++)
			acc[t] = _mm256_setzero_ps();
		for (uint32_t b = 0; b < nb; b++) {
			const uint8_t *blk = base + (size_t)b * sizeof(struct gguf_block_q8_0);
			__m256i R[8], W[8];
			/* The tile's eight rows are one contiguous region read across
			 * its rows, which the hardware prefetcher does not follow:
			 * while computing this tile, fetch the region of the tile after
			 * next, a slice of 8 * 34 bytes per block (a batched decode
			 * streams the weights from DRAM: 4.4 -> 7 GB/s measured). */
			if (t0 == 0)
				for (int k = 0; k < 5; k++)
					_mm_prefetch((const char *)base + 16 * rb + (size_t)b * 272 + 64 * k, _MM_HINT_T0);
#pragma GCC unroll 8
			for (int j = 0; j < 8; j++)
				R[j] = _mm256_loadu_si256((const __m256i *)(blk + (size_t)j * rb + 2));
			__m256i t01l = _mm256_unpacklo_epi32(R[0], R[1]), t01h = _mm256_unpackhi_epi32(R[0], R[1]);
			__m256i t23l = _mm256_unpacklo_epi32(R[2], R[3]), t23h = _mm256_unpackhi_epi32(R[2], R[3]);
			__m256i t45l = _mm256_unpacklo_epi32(R[4], R[5]), t45h = _mm256_unpackhi_epi32(R[4], R[5]);
			__m256i t67l = _mm256_unpacklo_epi32(R[6], R[7]), t67h = _mm256_unpackhi_epi32(R[6], R[7]);
			__m256i u0 = _mm256_unpacklo_epi64(t01l, t23l), u1 = _mm256_unpackhi_epi64(t01l, t23l);
			__m256i u2 = _mm256_unpacklo_epi64(t01h, t23h), u3 = _mm256_unpackhi_epi64(t01h, t23h);
			__m256i u4 = _mm256_unpacklo_epi64(t45l, t67l), u5 = _mm256_unpackhi_epi64(t45l, t67l);
			__m256i u6 = _mm256_unpacklo_epi64(t45h, t67h), u7 = _mm256_unpackhi_epi64(t45h, t67h);
			W[0] = _mm256_permute2x128_si256(u0, u4, 0x20);
			W[1] = _mm256_permute2x128_si256(u1, u5, 0x20);
			W[2] = _mm256_permute2x128_si256(u2, u6, 0x20);
			W[3] = _mm256_permute2x128_si256(u3, u7, 0x20);
			W[4] = _mm256_permute2x128_si256(u0, u4, 0x31);
			W[5] = _mm256_permute2x128_si256(u1, u5, 0x31);
			W[6] = _mm256_permute2x128_si256(u2, u6, 0x31);
			W[7] = _mm256_permute2x128_si256(u3, u7, 0x31);
#pragma GCC unroll 8
			for (int s4 = 0; s4 < 8; s4++)
				W[s4] = _mm256_xor_si256(W[s4], x80);
			__m256i draw = _mm256_i32gather_epi32((const int *)(const void *)blk, roffs, 1);
			__m256 dw = _mm256_cvtph_ps(_mm256_cvtepi32_epi16(draw));
			for (uint32_t t = 0; t < tn; t++) {
				size_t xo = (size_t)(t0 + t) * nb + b;
				const int8_t *xs = xq->qs + xo * MDL_QK;
				__m256i a = _mm256_set1_epi32(-128 * xq->sum[xo]);
				/* unrolled, W[] stays in registers (-O2 would not) */
#pragma GCC unroll 8
				for (int s4 = 0; s4 < 8; s4++) {
					int32_t xd;
					memcpy(&xd, xs + 4 * s4, 4);
					a = _mm256_dpbusd_epi32(a, W[s4], _mm256_set1_epi32(xd));
				}
				acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(a), _mm256_mul_ps(dw, _mm256_set1_ps(xq->d[xo])),
							 acc[t]);
			}
		}
		for (uint32_t t = 0; t < tn; t++) {
			float *dst = yrows ? yrows[t0 + t] + r : y + (size_t)(t0 + t) * ystride + r;
			_mm256_storeu_ps(dst, acc[t]);
		}
	}
}

/* Q8_0 rows x Q8 activations, eight blocks at a time. vpdpbusd multiplies
 * unsigned by signed bytes: feed it w + 128 (w ^ 0x80) and subtract
 * 128 * sum(x) afterwards, exact in int32. Block sums are reduced eight at a
 * time and scaled with one vector of eight w scales (gathered, f16) times
 * eight x scales. The weight group stays in registers for up to
 * Q8_TCHUNK tokens, so a batch reads each weight once.
 * The path of one token (decode) and of rows outside 8-row tiles; several
 * tokens go through q8_tile8 (3x faster there).
 * Measured alternatives, both slower: 512-bit vpdpbusd on block pairs with
 * per-lane corrections (three activation streams per block spill L1), and
 * lane-wise f32 scaling with vpsignb instead of the per-block sums. */
static void q8_rows(const struct mdl_weight *w, const struct mdl_q8 *xq, uint32_t T, float *y,
		    uint32_t ystride, float *const *yrows, uint32_t r0, uint32_t r1)
{
	const uint32_t nb = w->cols / MDL_QK, ng = nb / 8;
	const __m256i x80 = _mm256_set1_epi8((char)0x80);
	const __m256i offs = _mm256_setr_epi32(0, 34, 68, 102, 136, 170, 204, 238);
	for (uint32_t r = r0; r < r1; r++) {
		const struct gguf_block_q8_0 *wr =
			(const void *)((const uint8_t *)w->data + (size_t)r * w->row_bytes);
		for (uint32_t t0 = 0; t0 < T; t0 += Q8_TCHUNK) {
			uint32_t tn = T - t0 < Q8_TCHUNK ? T - t0 : Q8_TCHUNK;
			__m256 acc[Q8_TCHUNK];
			for (uint32_t t = 0; t < tn; t++)
				acc[t] = _mm256_setzero_ps();
			for (uint32_t g = 0; g < ng; g++) {
				const struct gguf_block_q8_0 *b = wr + (size_t)g * 8;
				__m256i wv[8];
				/* a decode step streams weights from DRAM; the hardware
				 * prefetcher alone leaves the loads waiting */
				for (int k = 0; k < 5; k++)
					_mm_prefetch((const char *)b + Q8_PREFETCH + 64 * k, _MM_HINT_T0);
				for (int k = 0; k < 8; k++)
					wv[k] = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)b[k].qs), x80);
				/* 4-byte gathers at the 34-byte block stride; the low half is d */
				__m256i draw = _mm256_i32gather_epi32((const int *)(const void *)&b[0].d, offs, 1);
				__m256 dw = _mm256_cvtph_ps(_mm256_cvtepi32_epi16(draw));
				for (uint32_t t = 0; t < tn; t++) {
					size_t xo = (size_t)(t0 + t) * nb + (size_t)g * 8;
					const int8_t *xs = xq->qs + xo * MDL_QK;
					__m256i s[8];
					for (int k = 0; k < 8; k++)
						s[k] = _mm256_dpbusd_epi32(_mm256_setzero_si256(), wv[k],
									   _mm256_loadu_si256((const __m256i *)(xs + k * MDL_QK)));
					__m256i tot = hsum8_epi32(s);
					__m256i sx = _mm256_loadu_si256((const __m256i *)(xq->sum + xo));
					tot = _mm256_sub_epi32(tot, _mm256_slli_epi32(sx, 7));
					__m256 sc = _mm256_mul_ps(dw, _mm256_loadu_ps(xq->d + xo));
					acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(tot), sc, acc[t]);
				}
			}
			float tail[Q8_TCHUNK] = {0};
			uint32_t b4 = ng * 8;
			if (b4 + 4 <= nb) {
				q8_group4(wr + b4, xq, t0, tn, b4, tail);
				b4 += 4;
			}
			for (uint32_t t = 0; t < tn; t++) {
				float v = hsum256(acc[t]) + tail[t];
				if (b4 < nb)
					v += dot_q8_blocks(wr, xq, t0 + t, b4, nb);
				if (yrows)
					yrows[t0 + t][r] = v;
				else
					y[(size_t)(t0 + t) * ystride + r] = v;
			}
		}
	}
}

static void q8_matmul(const struct mdl_weight *w, const struct mdl_q8 *xq, uint32_t T, float *y,
		      uint32_t ystride, float *const *yrows, uint32_t r0, uint32_t r1)
{
	/* Tiles cover the row groups [8k, 8k + 8) inside [r0, r1); the others go
	 * row by row. The forward splits work across threads in whole groups,
	 * so which kernel computes a row, hence its rounding, does not depend on
	 * the thread count. */
	if (T >= 2) {
		uint32_t a = (r0 + 7) & ~7u, e = r1 & ~7u;
		if (a < e) {
			q8_rows(w, xq, T, y, ystride, yrows, r0, a);
			for (uint32_t r = a; r < e; r += 8)
				q8_tile8(w, xq, T, y, ystride, yrows, r);
			q8_rows(w, xq, T, y, ystride, yrows, e, r1);
			return;
		}
	}
	q8_rows(w, xq, T, y, ystride, yrows, r0, r1);
}

#endif

void mdl_quantize_q8(const float *x, const struct mdl_q8 *q, uint32_t t)
{
	int8_t *qs = q->qs + (size_t)t * q->nb * MDL_QK;
	float *dd = q->d + (size_t)t * q->nb;
	int32_t *sum = q->sum + (size_t)t * q->nb;
	for (uint32_t b = 0; b < q->nb; b++, x += MDL_QK, qs += MDL_QK) {
		float amax = 0.0f;
		int32_t s = 0;
		for (int j = 0; j < MDL_QK; j++)
			amax = fmaxf(amax, fabsf(x[j]));
		float d = amax / 127.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
		dd[b] = d;
		/* roundf: half away from zero, as ggml's quantize_row_q8_0; the
		 * clamp keeps a non-finite activation (a broken model) from an
		 * undefined float-to-int conversion */
		for (int j = 0; j < MDL_QK; j++) {
			float v = roundf(x[j] * id);
			v = v >= -127.0f ? v : -127.0f; /* NaN lands here too */
			v = v <= 127.0f ? v : 127.0f;
			qs[j] = (int8_t)v;
			s += qs[j];
		}
		sum[b] = s;
	}
}

void mdl_matmul_rows(const struct mdl_weight *w, const float *x, const struct mdl_q8 *xq,
		     uint32_t T, float *y, uint32_t ystride, float *const *yrows, uint32_t r0,
		     uint32_t r1)
{
	const uint8_t *base = w->data;
	uint32_t n = w->cols;
#ifdef MDL_Q8_GROUPED
	if (w->type == GGUF_TENSOR_Q8_0) {
		q8_matmul(w, xq, T, y, ystride, yrows, r0, r1);
		return;
	}
#endif
	for (uint32_t r = r0; r < r1; r++) {
		const void *row = base + (size_t)r * w->row_bytes;
		for (uint32_t t = 0; t < T; t++) {
			float v;
			switch (w->type) {
			case GGUF_TENSOR_Q8_0:
				v = dot_q8_blocks(row, xq, t, 0, xq->nb);
				break;
			case GGUF_TENSOR_F16:
				v = dot_f16(row, x + (size_t)t * n, n);
				break;
			case GGUF_TENSOR_BF16:
				v = dot_bf16(row, x + (size_t)t * n, n);
				break;
			default: /* F32: mdl_load admits nothing else */
				v = mdl_dot_f32(row, x + (size_t)t * n, n);
				break;
			}
			if (yrows)
				yrows[t][r] = v;
			else
				y[(size_t)t * ystride + r] = v;
		}
	}
}

void mdl_dequant_row(const struct mdl_weight *w, uint32_t row, float *out)
{
	const uint8_t *p = (const uint8_t *)w->data + (size_t)row * w->row_bytes;
	uint32_t n = w->cols;
	switch (w->type) {
	case GGUF_TENSOR_Q8_0: {
		const struct gguf_block_q8_0 *b = (const void *)p;
		for (uint32_t i = 0; i < n / MDL_QK; i++) {
			float d = mdl_f16_to_f32(b[i].d);
			for (int j = 0; j < MDL_QK; j++)
				out[i * MDL_QK + j] = d * b[i].qs[j];
		}
		break;
	}
	case GGUF_TENSOR_F16:
		for (uint32_t i = 0; i < n; i++) {
			uint16_t h;
			memcpy(&h, p + 2 * i, 2);
			out[i] = mdl_f16_to_f32(h);
		}
		break;
	case GGUF_TENSOR_BF16:
		for (uint32_t i = 0; i < n; i++) {
			uint16_t h;
			memcpy(&h, p + 2 * i, 2);
			out[i] = mdl_bf16_to_f32(h);
		}
		break;
	default:
		memcpy(out, p, (size_t)n * sizeof(float));
		break;
	}
}

void mdl_rmsnorm(float *out, const float *x, const float *w, uint32_t n, float eps)
{
	float ss = mdl_dot_f32(x, x, n);
	float s = 1.0f / sqrtf(ss / (float)n + eps);
	for (uint32_t i = 0; i < n; i++)
		out[i] = x[i] * s * w[i];
}

void mdl_softmax(float *x, uint32_t n)
{
	float max = x[0], sum = 0.0f;
	for (uint32_t i = 1; i < n; i++)
		max = fmaxf(max, x[i]);
	for (uint32_t i = 0; i < n; i++) {
		x[i] = expf(x[i] - max);
		sum += x[i];
	}
	float inv = 1.0f / sum;
	for (uint32_t i = 0; i < n; i++)
		x[i] *= inv;
}

void mdl_axpy(float *y, float a, const float *x, uint32_t n)
{
	uint32_t i = 0;
#if MDL_X86
	__m256 va = _mm256_set1_ps(a);
	for (; i + 8 <= n; i += 8)
		_mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
#endif
	for (; i < n; i++)
		y[i] += a * x[i];
}
