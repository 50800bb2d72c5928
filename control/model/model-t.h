/* Model types: hyperparameters, weights, the KV-cache pool and the batch
 * descriptor of a forward step. */
#ifndef TS_MODEL_T_H
#define TS_MODEL_T_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gguf-t.h"

#define MDL_MAX_LAYERS 256
#define MDL_MAX_DIM 65536 /* elements; bounds every hyperparameter that sizes a buffer */

enum mdl_arch {
	MDL_ARCH_LLAMA = 0, /* llama, Llama 3.x, SmolLM, stories260K */
	MDL_ARCH_QWEN2 = 1, /* llama + Q/K/V biases, NeoX RoPE */
};

enum mdl_rope_mode {
	MDL_ROPE_NORMAL = 0, /* rotate pairs (2i, 2i+1): llama GGUF (Q/K pre-permuted) */
	MDL_ROPE_NEOX = 1,   /* rotate pairs (i, i + n_rot/2): qwen2 */
};

struct mdl_hparams {
	enum mdl_arch arch;
	enum mdl_rope_mode rope_mode;
	uint32_t n_vocab;     /* tokens (rows of token_embd) */
	uint32_t n_embd;      /* elements of the residual stream */
	uint32_t n_layer;
	uint32_t n_ff;	      /* elements of the FFN hidden layer */
	uint32_t n_head;      /* query heads */
	uint32_t n_head_kv;   /* key/value heads (n_head % n_head_kv == 0) */
	uint32_t head_dim;    /* elements per head */
	uint32_t n_rot;	      /* rotated elements per head (<= head_dim, even) */
	uint32_t n_ctx_train; /* tokens, from <arch>.context_length */
	float rms_eps;
	float rope_base;      /* theta base */
	float rope_scale;     /* linear position scale (1 / scaling.factor), 1 if none */
	bool tied_output;     /* no output.weight: logits use token_embd */
};

/* A weight matrix borrowed from the GGUF mapping: rows of `cols` elements,
 * `row_bytes` apart. ggml shape [cols, rows]. */
struct mdl_weight {
	const void *data;
	enum gguf_tensor_type type; /* F32, F16, BF16 or Q8_0 */
	uint32_t rows;
	uint32_t cols;
	size_t row_bytes;
};

/* One sequence's share of a forward step. The engine fills it; the forward
 * writes the logits. */
struct mdl_seq {
	uint32_t slot;		/* KV-cache slot (mdl_kv_acquire) */
	uint32_t pos;		/* position of tokens[0]; <= the slot's cached length */
	const int32_t *tokens;	/* n_tokens ids, borrowed */
	uint32_t n_tokens;	/* >= 1: a prefill chunk or one decode token */
	bool all_logits;	/* logits for every token (tests) instead of the last */
	float *logits;		/* n_vocab floats, or n_tokens * n_vocab if all_logits */
};

struct mdl_model;
struct mdl_kv_pool;
struct mdl_ctx;
struct mdl_pool;

#endif
