/* The batched forward pass. All buffers are sized in mdl_ctx_create(); a step
 * allocates nothing. Tokens of all sequences are stacked into one [T, n_embd]
 * activation matrix so every weight matrix is streamed once per step; only
 * attention is per sequence (each reads its own KV slot). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "model-priv.h"
#include "ops.h"

struct mdl_ctx {
	const struct mdl_model *m;
	struct mdl_pool *pool;
	uint32_t n_threads;
	uint32_t max_tokens; /* tokens per step, all sequences */
	uint32_t max_seqs;
	uint32_t max_ctx;    /* of the KV pool it was sized for */
	uint32_t n_slots;
	float *x;	     /* [max_tokens][n_embd] residual stream */
	float *xb;	     /* [max_tokens][n_embd] normed input / block output */
	float *q;	     /* [max_tokens][n_head * head_dim] */
	float *k;	     /* [max_tokens][kv_dim] */
	float *v;	     /* [max_tokens][kv_dim] */
	float *att;	     /* [max_tokens][n_head * head_dim] attention output */
	float *hb;	     /* [max_tokens][n_ff] gate, then silu(gate) * up */
	float *hb2;	     /* [max_tokens][n_ff] up */
	struct mdl_q8 xq;    /* [max_tokens] rows of up to max_cols / 32 blocks: matmul input */
	float *scores;	     /* [n_threads][max_ctx] attention weights */
	uint32_t *tok_pos;   /* [max_tokens] position of each stacked token */
	uint32_t *tok_slot;  /* [max_tokens] KV slot of each stacked token */
	uint32_t *out_tok;   /* [max_tokens] stacked index of each logits row */
	float **out_rows;    /* [max_tokens] where each logits row goes */
	bool *slot_seen;     /* [n_slots] duplicate-slot check */
	/* per-step state read by the attention tasks */
	struct mdl_kv_pool *kv;
	uint32_t layer;
};

struct mm_part {
	const struct mdl_weight *w;
	float *y; /* [T][w->rows] */
};

/* Up to three matmuls sharing one input, as one parallel region over their
 * concatenated rows (Q/K/V, gate/up). */
struct mm_job {
	struct mm_part part[3];
	uint32_t n_parts;
	const float *x;
	const struct mdl_q8 *xq;
	uint32_t T;
	float *const *yrows; /* output matmul: per-token destination rows */
};

/* Work items are groups of MM_GROUP rows of each part in turn (the last
 * group of a part may be short), so a thread's rows always start at a group
 * boundary and the kernel choice per row is the same for any thread count. */
#define MM_GROUP 8

static uint32_t n_groups(uint32_t rows)
{
	return (rows + MM_GROUP - 1) / MM_GROUP;
}

static void mm_task(void *arg, uint32_t i0, uint32_t i1, uint32_t tid)
{
	const struct mm_job *j = arg;
	uint32_t base = 0;
	(void)tid;
	for (uint32_t p = 0; p < j->n_parts && base < i1; p++) {
		const struct mm_part *pt = &j->part[p];
		uint32_t ng = n_groups(pt->w->rows);
		uint32_t lo = i0 > base ? i0 - base : 0;
		uint32_t hi = i1 - base < ng ? i1 - base : ng;
		if (lo < hi) {
			uint32_t r1 = hi * MM_GROUP < pt->w->rows ? hi * MM_GROUP : pt->w->rows;
			mdl_matmul_rows(pt->w, j->x, j->xq, j->T, pt->y, pt->w->rows, j->yrows, lo * MM_GROUP, r1);
		}
		base += ng;
	}
}

static bool any_q8(const struct mm_job *j)
{
	for (uint32_t p = 0; p < j->n_parts; p++)
		if (j->part[p].w->type == GGUF_TENSOR_Q8_0)
			return true;
	return false;
}

/* Run a job: quantize the input once if any weight is Q8_0, split rows. */
static void mm_run(struct mdl_ctx *c, struct mm_job *j)
{
	uint32_t cols = j->part[0].w->cols, groups = 0;
	j->xq = NULL;
	if (any_q8(j)) {
		c->xq.nb = cols / MDL_QK;
		for (uint32_t t = 0; t < j->T; t++)
			mdl_quantize_q8(j->x + (size_t)t * cols, &c->xq, t);
		j->xq = &c->xq;
	}
	for (uint32_t p = 0; p < j->n_parts; p++)
		groups += n_groups(j->part[p].w->rows);
	mdl_pool_run(c->pool, mm_task, j, groups);
}

static void rope(const struct mdl_model *m, float *vec, uint32_t n_heads, uint32_t pos)
{
	const struct mdl_hparams *hp = &m->hp;
	uint32_t half = hp->n_rot / 2;
	for (uint32_t i = 0; i < half; i++) {
		double th = (double)pos * m->inv_freq[i];
		float cs = (float)cos(th), sn = (float)sin(th);
		for (uint32_t h = 0; h < n_heads; h++) {
			float *hv = vec + (size_t)h * hp->head_dim;
			uint32_t a = hp->rope_mode == MDL_ROPE_NEOX ? i : 2 * i;
			uint32_t b = hp->rope_mode == MDL_ROPE_NEOX ? i + half : 2 * i + 1;
			float x0 = hv[a], x1 = hv[b];
			hv[a] = x0 * cs - x1 * sn;
			hv[b] = x0 * sn + x1 * cs;
		}
	}
}

/* Attention for (token, head) pairs i in [i0, i1): i = t * n_head + h. */
static void attn_task(void *arg, uint32_t i0, uint32_t i1, uint32_t tid)
{
	struct mdl_ctx *c = arg;
	const struct mdl_hparams *hp = &c->m->hp;
	const struct mdl_kv_pool *kv = c->kv;
	uint32_t hd = hp->head_dim, qd = hp->n_head * hd, group = hp->n_head / hp->n_head_kv;
	float *sc = c->scores + (size_t)tid * c->max_ctx;
	float scale = 1.0f / sqrtf((float)hd);
	for (uint32_t i = i0; i < i1; i++) {
		uint32_t t = i / hp->n_head, h = i % hp->n_head, kh = h / group;
		uint32_t pos = c->tok_pos[t];
		size_t base = ((size_t)c->tok_slot[t] * kv->n_layer + c->layer) * kv->max_ctx;
		const float *q = c->q + (size_t)t * qd + (size_t)h * hd;
		float *out = c->att + (size_t)t * qd + (size_t)h * hd;
		for (uint32_t p = 0; p <= pos; p++)
			sc[p] = mdl_dot_f32(q, kv->k + (base + p) * kv->kv_dim + (size_t)kh * hd, hd) * scale;
		mdl_softmax(sc, pos + 1);
		memset(out, 0, hd * sizeof(*out));
		for (uint32_t p = 0; p <= pos; p++)
			mdl_axpy(out, sc[p], kv->v + (base + p) * kv->kv_dim + (size_t)kh * hd, hd);
	}
}

static void add_bias(float *y, const float *b, uint32_t T, uint32_t n)
{
	if (!b)
		return;
	for (uint32_t t = 0; t < T; t++)
		for (uint32_t i = 0; i < n; i++)
			y[(size_t)t * n + i] += b[i];
}

static int validate(struct mdl_ctx *c, const struct mdl_kv_pool *kv, const struct mdl_seq *seqs,
		    uint32_t n_seqs, uint32_t *total)
{
	const struct mdl_hparams *hp = &c->m->hp;
	uint64_t T = 0;
	int rc = 0;
	if (kv->n_layer != hp->n_layer || kv->kv_dim != hp->n_head_kv * hp->head_dim ||
	    kv->max_ctx > c->max_ctx || kv->n_slots > c->n_slots || n_seqs == 0)
		return -EINVAL;
	if (n_seqs > c->max_seqs)
		return -E2BIG;
	for (uint32_t i = 0; i < n_seqs && !rc; i++) {
		const struct mdl_seq *s = &seqs[i];
		if (s->slot >= kv->n_slots || !kv->used[s->slot] || c->slot_seen[s->slot] ||
		    s->n_tokens == 0 || !s->tokens || !s->logits || s->pos > kv->len[s->slot]) {
			rc = -EINVAL;
			break;
		}
		c->slot_seen[s->slot] = true;
		for (uint32_t j = 0; j < s->n_tokens; j++)
			if (s->tokens[j] < 0 || (uint32_t)s->tokens[j] >= hp->n_vocab)
				rc = -EINVAL;
		if (!rc && (uint64_t)s->pos + s->n_tokens > kv->max_ctx)
			rc = -ENOSPC;
		T += s->n_tokens;
	}
	for (uint32_t i = 0; i < n_seqs; i++)
		if (seqs[i].slot < kv->n_slots)
			c->slot_seen[seqs[i].slot] = false;
	if (!rc && T > c->max_tokens)
		rc = -E2BIG;
	*total = (uint32_t)T;
	return rc;
}

int mdl_forward(struct mdl_ctx *c, struct mdl_kv_pool *kv, struct mdl_seq *seqs, uint32_t n_seqs)
{
	const struct mdl_model *m = c->m;
	const struct mdl_hparams *hp = &m->hp;
	uint32_t T, n_out = 0, E = hp->n_embd, hd = hp->head_dim;
	uint32_t qd = hp->n_head * hd, kvd = hp->n_head_kv * hd, F = hp->n_ff;
	int rc = validate(c, kv, seqs, n_seqs, &T);
	if (rc)
		return rc;

	/* stack the tokens; embed */
	for (uint32_t i = 0, t = 0; i < n_seqs; i++) {
		const struct mdl_seq *s = &seqs[i];
		for (uint32_t j = 0; j < s->n_tokens; j++, t++) {
			c->tok_pos[t] = s->pos + j;
			c->tok_slot[t] = s->slot;
			mdl_dequant_row(&m->tok_embd, (uint32_t)s->tokens[j], c->x + (size_t)t * E);
			if (s->all_logits || j == s->n_tokens - 1) {
				c->out_tok[n_out] = t;
				c->out_rows[n_out++] = s->logits + (s->all_logits ? (size_t)j * hp->n_vocab : 0);
			}
		}
	}
	c->kv = kv;
	for (uint32_t l = 0; l < hp->n_layer; l++) {
		const struct mdl_layer *ly = &m->layers[l];
		c->layer = l;
		for (uint32_t t = 0; t < T; t++)
			mdl_rmsnorm(c->xb + (size_t)t * E, c->x + (size_t)t * E, ly->attn_norm, E, hp->rms_eps);
		struct mm_job qkv = {.part = {{&ly->wq, c->q}, {&ly->wk, c->k}, {&ly->wv, c->v}},
				     .n_parts = 3, .x = c->xb, .T = T};
		mm_run(c, &qkv);
		add_bias(c->q, ly->bq, T, qd);
		add_bias(c->k, ly->bk, T, kvd);
		add_bias(c->v, ly->bv, T, kvd);
		for (uint32_t t = 0; t < T; t++) {
			float *kt = c->k + (size_t)t * kvd;
			size_t at = (((size_t)c->tok_slot[t] * kv->n_layer + l) * kv->max_ctx + c->tok_pos[t]) * kvd;
			rope(m, c->q + (size_t)t * qd, hp->n_head, c->tok_pos[t]);
			rope(m, kt, hp->n_head_kv, c->tok_pos[t]);
			memcpy(kv->k + at, kt, kvd * sizeof(float));
			memcpy(kv->v + at, c->v + (size_t)t * kvd, kvd * sizeof(float));
		}
		mdl_pool_run(c->pool, attn_task, c, T * hp->n_head);
		struct mm_job o = {.part = {{&ly->wo, c->xb}}, .n_parts = 1, .x = c->att, .T = T};
		mm_run(c, &o);
		for (size_t i = 0; i < (size_t)T * E; i++)
			c->x[i] += c->xb[i];

		for (uint32_t t = 0; t < T; t++)
			mdl_rmsnorm(c->xb + (size_t)t * E, c->x + (size_t)t * E, ly->ffn_norm, E, hp->rms_eps);
		struct mm_job gu = {.part = {{&ly->gate, c->hb}, {&ly->up, c->hb2}}, .n_parts = 2, .x = c->xb, .T = T};
		mm_run(c, &gu);
		for (size_t i = 0; i < (size_t)T * F; i++) {
			float g = c->hb[i];
			c->hb[i] = g / (1.0f + expf(-g)) * c->hb2[i];
		}
		struct mm_job d = {.part = {{&ly->down, c->xb}}, .n_parts = 1, .x = c->hb, .T = T};
		mm_run(c, &d);
		for (size_t i = 0; i < (size_t)T * E; i++)
			c->x[i] += c->xb[i];
	}
	/* final norm only for the rows that produce logits, packed into xb */
	for (uint32_t i = 0; i < n_out; i++)
		mdl_rmsnorm(c->xb + (size_t)i * E, c->x + (size_t)c->out_tok[i] * E, m->output_norm, E,
			    hp->rms_eps);
	struct mm_job out = {.part = {{&m->output, NULL}}, .n_parts = 1, .x = c->xb, .T = n_out,
			     .yrows = c->out_rows};
	mm_run(c, &out);
	for (uint32_t i = 0; i < n_seqs; i++)
		kv->len[seqs[i].slot] = seqs[i].pos + seqs[i].n_tokens;
	return 0;
}

struct mdl_ctx *mdl_ctx_create(const struct mdl_model *m, const struct mdl_kv_pool *kv,
			       uint32_t max_tokens, uint32_t max_seqs, struct mdl_pool *pool,
			       char *err, size_t errlen)
{
	const struct mdl_hparams *hp = &m->hp;
	struct mdl_ctx *c;
	uint32_t qd = hp->n_head * hp->head_dim, kvd = hp->n_head_kv * hp->head_dim;
	uint32_t maxc = hp->n_embd;
	if (max_tokens == 0 || max_tokens > 65536 || max_seqs == 0 || max_seqs > max_tokens) {
		snprintf(err, errlen, "ctx: max_tokens %u / max_seqs %u invalid (1 <= seqs <= tokens <= 65536)",
			 max_tokens, max_seqs);
		return NULL;
	}
	if (kv->n_layer != hp->n_layer || kv->kv_dim != kvd) {
		snprintf(err, errlen, "ctx: kv cache was sized for another model");
		return NULL;
	}
	maxc = qd > maxc ? qd : maxc;
	maxc = hp->n_ff > maxc ? hp->n_ff : maxc;
	c = calloc(1, sizeof(*c));
	if (!c)
		goto err_nomem;
	c->m = m;
	c->pool = pool;
	c->n_threads = mdl_pool_n_threads(pool);
	c->max_tokens = max_tokens;
	c->max_seqs = max_seqs;
	c->max_ctx = kv->max_ctx;
	c->n_slots = kv->n_slots;
	size_t T = max_tokens;
	c->x = malloc(T * hp->n_embd * sizeof(float));
	c->xb = malloc(T * hp->n_embd * sizeof(float));
	c->q = malloc(T * qd * sizeof(float));
	c->k = malloc(T * kvd * sizeof(float));
	c->v = malloc(T * kvd * sizeof(float));
	c->att = malloc(T * qd * sizeof(float));
	c->hb = malloc(T * hp->n_ff * sizeof(float));
	c->hb2 = malloc(T * hp->n_ff * sizeof(float));
	c->xq.qs = malloc(T * (maxc / MDL_QK + 1) * MDL_QK);
	c->xq.d = malloc(T * (maxc / MDL_QK + 1) * sizeof(float));
	c->xq.sum = malloc(T * (maxc / MDL_QK + 1) * sizeof(int32_t));
	c->scores = malloc((size_t)c->n_threads * c->max_ctx * sizeof(float));
	c->tok_pos = malloc(T * sizeof(uint32_t));
	c->tok_slot = malloc(T * sizeof(uint32_t));
	c->out_tok = malloc(T * sizeof(uint32_t));
	c->out_rows = malloc(T * sizeof(float *));
	c->slot_seen = calloc(c->n_slots, sizeof(bool));
	if (!c->x || !c->xb || !c->q || !c->k || !c->v || !c->att || !c->hb || !c->hb2 || !c->xq.qs || !c->xq.d || !c->xq.sum ||
	    !c->scores || !c->tok_pos || !c->tok_slot || !c->out_tok || !c->out_rows || !c->slot_seen)
		goto err_free;
	return c;

err_free:
	mdl_ctx_destroy(c);
err_nomem:
	snprintf(err, errlen, "ctx: out of memory for %u tokens", max_tokens);
	return NULL;
}

void mdl_ctx_destroy(struct mdl_ctx *c)
{
	if (!c)
		return;
	free(c->x);
	free(c->xb);
	free(c->q);
	free(c->k);
	free(c->v);
	free(c->att);
	free(c->hb);
	free(c->hb2);
	free(c->xq.qs);
	free(c->xq.d);
	free(c->xq.sum);
	free(c->scores);
	free(c->tok_pos);
	free(c->tok_slot);
	free(c->out_tok);
	free(c->out_rows);
	free(c->slot_seen);
	free(c);
}
