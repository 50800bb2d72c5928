/* The local model: weights borrowed from a GGUF file, a bounded KV-cache pool,
 * a thread pool and a batched forward pass (llama and qwen2 architectures).
 *
 * Lifetimes: the gguf_file outlives the model, the model outlives pools and
 * contexts. Loading and creation run at init (they allocate); mdl_forward()
 * allocates nothing and only touches memory sized at creation. */
#ifndef TS_MODEL_H
#define TS_MODEL_H

#include "gguf.h"
#include "model-t.h"

/* Read hyperparameters and bind every tensor, checking shapes and types
 * against the hyperparameters. Borrows g. NULL + err ("tensor X: reason" or
 * "key: reason") on failure. */
struct mdl_model *mdl_load(const struct gguf_file *g, char *err, size_t errlen);
void mdl_free(struct mdl_model *m);
const struct mdl_hparams *mdl_hparams(const struct mdl_model *m);
/* Bytes of weights one forward step reads (every matrix once, plus one
 * embedding row per token; the output matrix once). */
uint64_t mdl_weight_bytes(const struct mdl_model *m);
/* Dequantize row `token` of the token embedding into out[n_embd]; -EINVAL
 * when the id is out of range. */
int mdl_embed(const struct mdl_model *m, int32_t token, float *out);

/* KV cache: n_slots sequences of up to max_ctx tokens each, allocated now.
 * NULL + err when the sizes are zero, too large or memory is short. */
struct mdl_kv_pool *mdl_kv_create(const struct mdl_model *m, uint32_t n_slots, uint32_t max_ctx,
				  char *err, size_t errlen);
void mdl_kv_destroy(struct mdl_kv_pool *kv);
/* A free slot (its length reset to 0), or -ENOSPC when all are in use. */
int mdl_kv_acquire(struct mdl_kv_pool *kv);
/* 0, or -EINVAL for a slot that is not in use. */
int mdl_kv_release(struct mdl_kv_pool *kv, uint32_t slot);
uint32_t mdl_kv_len(const struct mdl_kv_pool *kv, uint32_t slot); /* tokens cached */
uint32_t mdl_kv_max_ctx(const struct mdl_kv_pool *kv);
uint32_t mdl_kv_n_slots(const struct mdl_kv_pool *kv);

/* Thread pool: n_threads >= 1 counting the caller of mdl_forward (thread 0);
 * n_threads - 1 workers are started. cpus, when not NULL, has n_threads
 * entries: worker i is pinned to cpus[i] (i >= 1, -1 = leave unpinned);
 * cpus[0] is the caller's and is applied by mdl_pin_self() if wanted.
 * Idle workers spin briefly, then sleep on a condition variable. */
struct mdl_pool *mdl_pool_create(uint32_t n_threads, const int *cpus, char *err, size_t errlen);
void mdl_pool_destroy(struct mdl_pool *p);
uint32_t mdl_pool_n_threads(const struct mdl_pool *p);
/* Pin the calling thread to one CPU: 0 or -errno. */
int mdl_pin_self(int cpu);

/* Scratch for forward steps of up to max_tokens tokens (summed over the batch)
 * and max_seqs sequences, threads from pool (NULL: single-threaded). */
struct mdl_ctx *mdl_ctx_create(const struct mdl_model *m, const struct mdl_kv_pool *kv,
			       uint32_t max_tokens, uint32_t max_seqs, struct mdl_pool *pool,
			       char *err, size_t errlen);
void mdl_ctx_destroy(struct mdl_ctx *c);

/* One batched step: every sequence appends its tokens at seq.pos in its slot
 * (discarding anything cached at or after pos) and gets logits. Each weight
 * matrix is streamed once for the whole batch.
 * Returns 0; -EINVAL for a bad slot, token id, duplicate slot or empty seq;
 * -E2BIG when the batch exceeds the ctx limits; -ENOSPC when pos + n_tokens
 * exceeds the slot's max_ctx. Nothing is modified on error. */
int mdl_forward(struct mdl_ctx *c, struct mdl_kv_pool *kv, struct mdl_seq *seqs, uint32_t n_seqs);

#endif
