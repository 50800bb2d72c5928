/* Internals shared by the files of the model module (not a public header). */
#ifndef TS_MODEL_PRIV_H
#define TS_MODEL_PRIV_H

#include "model-t.h"

struct mdl_layer {
	const float *attn_norm;	      /* [n_embd] */
	const float *ffn_norm;	      /* [n_embd] */
	struct mdl_weight wq;	      /* [n_head * head_dim rows, n_embd cols] */
	struct mdl_weight wk;	      /* [n_head_kv * head_dim, n_embd] */
	struct mdl_weight wv;	      /* [n_head_kv * head_dim, n_embd] */
	struct mdl_weight wo;	      /* [n_embd, n_head * head_dim] */
	struct mdl_weight gate;	      /* [n_ff, n_embd] */
	struct mdl_weight up;	      /* [n_ff, n_embd] */
	struct mdl_weight down;	      /* [n_embd, n_ff] */
	const float *bq, *bk, *bv;    /* biases or NULL (qwen2 has them) */
};

struct mdl_model {
	struct mdl_hparams hp;
	struct mdl_weight tok_embd;   /* [n_vocab, n_embd] */
	struct mdl_weight output;     /* [n_vocab, n_embd]; == tok_embd when tied */
	const float *output_norm;     /* [n_embd] */
	double *inv_freq;	      /* [n_rot / 2] rad per position, scaling folded in */
	struct mdl_layer *layers;     /* [n_layer] */
	uint64_t weight_bytes;	      /* bytes read per step, see mdl_weight_bytes() */
};

struct mdl_kv_pool {
	uint32_t n_slots;
	uint32_t max_ctx;  /* tokens per slot */
	uint32_t n_layer;
	uint32_t kv_dim;   /* floats per token per layer: n_head_kv * head_dim */
	float *k;	   /* [n_slots][n_layer][max_ctx][kv_dim] */
	float *v;	   /* same layout as k */
	uint32_t *len;	   /* [n_slots] tokens cached */
	bool *used;	   /* [n_slots] */
};

/* Work item range [i0, i1) run by thread tid. */
typedef void mdl_task_fn(void *arg, uint32_t i0, uint32_t i1, uint32_t tid);

/* Split [0, n) over the pool's threads (the caller is thread 0) and wait for
 * all of them. p may be NULL: run inline. */
void mdl_pool_run(struct mdl_pool *p, mdl_task_fn *fn, void *arg, uint32_t n);

#endif
