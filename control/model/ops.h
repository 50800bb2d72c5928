/* Compute kernels of the forward pass (module-private). Pure functions over
 * caller-owned buffers: no allocation, no locks, no syscalls. */
#ifndef TS_MODEL_OPS_H
#define TS_MODEL_OPS_H

#include <stdint.h>

#include "model-t.h"

#define MDL_QK 32 /* elements per Q8 block, weights and activations alike */

/* T activation rows quantized to Q8 (the llama.cpp approach: integer dot
 * products against Q8_0 weights), stored as arrays so a kernel can load eight
 * scales or sums at once. Scales stay f32: activations are requantized every
 * step, there is nothing to save by rounding them to f16. */
struct mdl_q8 {
	int8_t *qs;   /* [T][nb * 32]: value = d * qs */
	float *d;     /* [T][nb] block scales */
	int32_t *sum; /* [T][nb] sum of qs per block (for the unsigned-offset trick) */
	uint32_t nb;  /* blocks per row */
};

float mdl_f16_to_f32(uint16_t h);
float mdl_bf16_to_f32(uint16_t h);

/* Row t of q from x[q->nb * 32]: per block d = max|x| / 127,
 * qs = round-half-away(x * (1 / d)) (ggml's quantize_row_q8_0 in f32). */
void mdl_quantize_q8(const float *x, const struct mdl_q8 *q, uint32_t t);

/* y[t * ystride + r] (or yrows[t][r] when yrows is not NULL) = dot(row r of
 * w, x_t) for r in [r0, r1), t in [0, T). x holds T rows of w->cols floats;
 * xq the same rows quantized (read for Q8_0 weights only). Each weight row is
 * read once for all T tokens. */
void mdl_matmul_rows(const struct mdl_weight *w, const float *x, const struct mdl_q8 *xq,
		     uint32_t T, float *y, uint32_t ystride, float *const *yrows, uint32_t r0,
		     uint32_t r1);

/* Row `row` of w as floats: out[w->cols]. */
void mdl_dequant_row(const struct mdl_weight *w, uint32_t row, float *out);

void mdl_rmsnorm(float *out, const float *x, const float *w, uint32_t n, float eps);
void mdl_softmax(float *x, uint32_t n);
float mdl_dot_f32(const float *a, const float *b, uint32_t n);
/* y += a * x */
void mdl_axpy(float *y, float a, const float *x, uint32_t n);

#endif
