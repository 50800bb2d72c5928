/* Model loading (hyperparameters, tensor binding and shape checks) and the
 * KV-cache pool. Init time, control plane. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "model-priv.h"
#include "ops.h"

struct loader {
	const struct gguf_file *g;
	const char *arch; /* "llama" or "qwen2" */
	char *err;
	size_t errlen;
};

static bool lfail(struct loader *L, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static bool lfail(struct loader *L, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (L->err && L->errlen)
		vsnprintf(L->err, L->errlen, fmt, ap);
	va_end(ap);
	return false;
}

static void akey(const struct loader *L, char *buf, size_t n, const char *suffix)
{
	snprintf(buf, n, "%s.%s", L->arch, suffix);
}

/* Required (dflt == NULL) or optional u32 hyperparameter in [lo, hi]. */
static bool hp_u32(struct loader *L, const char *suffix, uint32_t *out, const uint32_t *dflt,
		   uint32_t lo, uint32_t hi)
{
	char key[128];
	akey(L, key, sizeof(key), suffix);
	if (gguf_find_key(L->g, key) < 0) {
		if (!dflt)
			return lfail(L, "key %s: missing", key);
		*out = *dflt;
		return true;
	}
	if (!gguf_get_u32(L->g, key, out))
		return lfail(L, "key %s: not an unsigned 32-bit integer", key);
	if (*out < lo || *out > hi)
		return lfail(L, "key %s: %u outside %u..%u", key, *out, lo, hi);
	return true;
}

static bool hp_f32(struct loader *L, const char *suffix, float *out, const float *dflt)
{
	char key[128];
	akey(L, key, sizeof(key), suffix);
	if (gguf_find_key(L->g, key) < 0) {
		if (!dflt)
			return lfail(L, "key %s: missing", key);
		*out = *dflt;
		return true;
	}
	if (!gguf_get_f32(L->g, key, out))
		return lfail(L, "key %s: not a float", key);
	if (!isfinite(*out))
		return lfail(L, "key %s: not finite", key);
	return true;
}

static const char *shape_str(const struct gguf_tensor *t, char *buf, size_t n)
{
	int k = snprintf(buf, n, "[");
	for (uint32_t d = 0; d < t->n_dims && k > 0 && (size_t)k < n; d++)
		k += snprintf(buf + k, n - (size_t)k, d ? ", %llu" : "%llu", (unsigned long long)t->ne[d]);
	if (k > 0 && (size_t)k < n)
		snprintf(buf + k, n - (size_t)k, "]");
	return buf;
}

/* Find a tensor by name; NULL without error when optional and absent. */
static const struct gguf_tensor *get_tensor(struct loader *L, const char *name, bool optional, bool *ok)
{
	const struct gguf_tensor *t = gguf_find_tensor(L->g, name);
	*ok = true;
	if (!t && !optional)
		*ok = lfail(L, "tensor %s: missing", name);
	return t;
}

static bool check_shape(struct loader *L, const char *name, const struct gguf_tensor *t, uint64_t ne0,
			uint64_t ne1)
{
	char got[96];
	bool ok = t->ne[0] == ne0 && t->ne[2] == 1 && t->ne[3] == 1 &&
		  (ne1 == 0 ? t->n_dims == 1 || t->ne[1] == 1 : t->ne[1] == ne1);
	if (!ok) {
		if (ne1 == 0)
			return lfail(L, "tensor %s: shape %s, expected [%llu]", name, shape_str(t, got, sizeof(got)),
				     (unsigned long long)ne0);
		return lfail(L, "tensor %s: shape %s, expected [%llu, %llu]", name,
			     shape_str(t, got, sizeof(got)), (unsigned long long)ne0, (unsigned long long)ne1);
	}
	return true;
}

/* An F32 vector of n elements (norm weights, biases). */
static bool bind_vec(struct loader *L, const char *name, uint64_t n, bool optional, const float **out,
		     uint64_t *bytes)
{
	bool ok;
	const struct gguf_tensor *t = get_tensor(L, name, optional, &ok);
	*out = NULL;
	if (!t)
		return ok;
	if (!check_shape(L, name, t, n, 0))
		return false;
	if (t->type != GGUF_TENSOR_F32)
		return lfail(L, "tensor %s: type %s, expected F32", name, gguf_tensor_type_name(t->type));
	if ((uintptr_t)t->data % sizeof(float))
		return lfail(L, "tensor %s: data not 4-byte aligned", name);
	*out = t->data;
	*bytes += t->nbytes;
	return true;
}

/* A matrix of `rows` rows of `cols` elements: ggml shape [cols, rows]. */
static bool bind_mat(struct loader *L, const char *name, uint64_t cols, uint64_t rows, bool optional,
		     struct mdl_weight *w, uint64_t *bytes)
{
	bool ok;
	const struct gguf_tensor *t = get_tensor(L, name, optional, &ok);
	memset(w, 0, sizeof(*w));
	if (!t)
		return ok;
	if (!check_shape(L, name, t, cols, rows))
		return false;
	size_t align;
	switch (t->type) {
	case GGUF_TENSOR_F32:
		align = 4;
		break;
	case GGUF_TENSOR_F16:
	case GGUF_TENSOR_BF16:
	case GGUF_TENSOR_Q8_0:
		align = 2;
		break;
	default:
		return lfail(L, "tensor %s: type %s not supported (F32, F16, BF16, Q8_0 are)", name,
			     gguf_tensor_type_name(t->type));
	}
	if ((uintptr_t)t->data % align)
		return lfail(L, "tensor %s: data not %zu-byte aligned", name, align);
	uint64_t rb;
	gguf_tensor_nbytes(t->type, cols, &rb); /* cannot fail: the whole tensor's size did not */
	w->data = t->data;
	w->type = t->type;
	w->rows = (uint32_t)rows;
	w->cols = (uint32_t)cols;
	w->row_bytes = (size_t)rb;
	if (bytes)
		*bytes += t->nbytes;
	return true;
}

static bool load_hparams(struct loader *L, struct mdl_hparams *hp)
{
	const float base_dflt = 10000.0f;
	char key[128];
	const char *s;
	size_t sl;

	if (!hp_u32(L, "embedding_length", &hp->n_embd, NULL, 1, MDL_MAX_DIM) ||
	    !hp_u32(L, "block_count", &hp->n_layer, NULL, 1, MDL_MAX_LAYERS) ||
	    !hp_u32(L, "feed_forward_length", &hp->n_ff, NULL, 1, 4 * MDL_MAX_DIM) ||
	    !hp_u32(L, "attention.head_count", &hp->n_head, NULL, 1, 1024) ||
	    !hp_u32(L, "attention.head_count_kv", &hp->n_head_kv, &hp->n_head, 1, hp->n_head) ||
	    !hp_u32(L, "context_length", &hp->n_ctx_train, NULL, 1, UINT32_MAX) ||
	    !hp_f32(L, "attention.layer_norm_rms_epsilon", &hp->rms_eps, NULL) ||
	    !hp_f32(L, "rope.freq_base", &hp->rope_base, &base_dflt))
		return false;
	if (hp->n_head % hp->n_head_kv)
		return lfail(L, "key %s.attention.head_count_kv: %u does not divide head_count %u", L->arch,
			     hp->n_head_kv, hp->n_head);
	if (hp->rms_eps <= 0.0f || hp->rms_eps > 1.0f)
		return lfail(L, "key %s.attention.layer_norm_rms_epsilon: %g outside (0, 1]", L->arch,
			     (double)hp->rms_eps);
	if (hp->rope_base <= 1.0f)
		return lfail(L, "key %s.rope.freq_base: %g must exceed 1", L->arch, (double)hp->rope_base);
	uint32_t hd = hp->n_embd / hp->n_head, vd;
	if (!hp_u32(L, "attention.key_length", &hp->head_dim, &hd, 2, 1024) ||
	    !hp_u32(L, "attention.value_length", &vd, &hp->head_dim, 2, 1024))
		return false;
	if (vd != hp->head_dim)
		return lfail(L, "key %s.attention.value_length: %u differs from key_length %u", L->arch, vd,
			     hp->head_dim);
	if (hp->head_dim % 2 || (uint64_t)hp->head_dim * hp->n_head > MDL_MAX_DIM)
		return lfail(L, "key %s.attention.key_length: head dim %u invalid for %u heads", L->arch,
			     hp->head_dim, hp->n_head);
	if (!hp_u32(L, "rope.dimension_count", &hp->n_rot, &hp->head_dim, 2, hp->head_dim))
		return false;
	if (hp->n_rot % 2)
		return lfail(L, "key %s.rope.dimension_count: %u is odd", L->arch, hp->n_rot);

	/* Linear RoPE scaling (positions divided by the factor), the only kind
	 * supported; llama.cpp also reads the older rope.scale_linear. */
	float factor = 0.0f, zero = 0.0f;
	hp->rope_scale = 1.0f;
	akey(L, key, sizeof(key), "rope.scaling.type");
	bool typed = gguf_get_str(L->g, key, &s, &sl);
	if (typed && !(sl == 4 && !memcmp(s, "none", 4)) && !(sl == 6 && !memcmp(s, "linear", 6)))
		return lfail(L, "key %s: scaling '%.*s' not supported (none, linear are)", key, (int)sl, s);
	if (!typed || sl == 6) {
		if (!hp_f32(L, "rope.scaling.factor", &factor, &zero))
			return false;
		if (factor == 0.0f && !hp_f32(L, "rope.scale_linear", &factor, &zero))
			return false;
		if (factor < 0.0f || (factor > 0.0f && factor < 1e-3f))
			return lfail(L, "key %s.rope.scaling.factor: %g invalid", L->arch, (double)factor);
		if (factor > 0.0f)
			hp->rope_scale = 1.0f / factor;
	}
	return true;
}

struct mdl_model *mdl_load(const struct gguf_file *g, char *err, size_t errlen)
{
	struct loader L = {.g = g, .err = err, .errlen = errlen};
	struct mdl_model *m;
	const char *arch;
	size_t al;
	uint64_t bytes = 0;
	char name[96];
	bool ok;

	if (err && errlen)
		err[0] = 0;
	if (!gguf_get_str(g, "general.architecture", &arch, &al)) {
		lfail(&L, "key general.architecture: missing or not a string");
		return NULL;
	}
	m = calloc(1, sizeof(*m));
	if (!m) {
		lfail(&L, "out of memory");
		return NULL;
	}
	struct mdl_hparams *hp = &m->hp;
	if (al == 5 && !memcmp(arch, "llama", 5)) {
		L.arch = "llama";
		hp->arch = MDL_ARCH_LLAMA;
		hp->rope_mode = MDL_ROPE_NORMAL;
	} else if (al == 5 && !memcmp(arch, "qwen2", 5)) {
		L.arch = "qwen2";
		hp->arch = MDL_ARCH_QWEN2;
		hp->rope_mode = MDL_ROPE_NEOX;
	} else {
		lfail(&L, "key general.architecture: '%.*s' not supported (llama, qwen2 are)", (int)(al > 64 ? 64 : al),
		      arch);
		goto err_free;
	}
	if (!load_hparams(&L, hp))
		goto err_free;

	const struct gguf_tensor *te = get_tensor(&L, "token_embd.weight", false, &ok);
	if (!te)
		goto err_free;
	if (te->n_dims != 2 || te->ne[1] == 0 || te->ne[1] > (1u << 24)) {
		char got[96];
		lfail(&L, "tensor token_embd.weight: shape %s, expected [%u, n_vocab <= 2^24]",
		      shape_str(te, got, sizeof(got)), hp->n_embd);
		goto err_free;
	}
	hp->n_vocab = (uint32_t)te->ne[1];
	if (!bind_mat(&L, "token_embd.weight", hp->n_embd, hp->n_vocab, false, &m->tok_embd, NULL))
		goto err_free;
	bytes += m->tok_embd.row_bytes; /* one row per token */
	if (!bind_vec(&L, "output_norm.weight", hp->n_embd, false, &m->output_norm, &bytes) ||
	    !bind_mat(&L, "output.weight", hp->n_embd, hp->n_vocab, true, &m->output, &bytes))
		goto err_free;
	if (!m->output.data) {
		hp->tied_output = true;
		m->output = m->tok_embd;
		bytes += (uint64_t)m->tok_embd.row_bytes * hp->n_vocab;
	}

	const float *freq_factors = NULL;
	uint64_t unused = 0;
	if (!bind_vec(&L, "rope_freqs.weight", hp->n_rot / 2, true, &freq_factors, &unused))
		goto err_free;
	m->inv_freq = calloc(hp->n_rot / 2, sizeof(*m->inv_freq));
	m->layers = calloc(hp->n_layer, sizeof(*m->layers));
	if (!m->inv_freq || !m->layers) {
		lfail(&L, "out of memory");
		goto err_free;
	}
	for (uint32_t i = 0; i < hp->n_rot / 2; i++) {
		double f = pow((double)hp->rope_base, -2.0 * i / hp->n_rot) * hp->rope_scale;
		if (freq_factors) {
			if (!(freq_factors[i] > 0.0f) || !isfinite(freq_factors[i])) {
				lfail(&L, "tensor rope_freqs.weight: element %u is not a positive number", i);
				goto err_free;
			}
			f /= freq_factors[i];
		}
		m->inv_freq[i] = f;
	}

	uint32_t qd = hp->n_head * hp->head_dim, kvd = hp->n_head_kv * hp->head_dim;
	bool need_bias = hp->arch == MDL_ARCH_QWEN2;
	for (uint32_t l = 0; l < hp->n_layer; l++) {
		struct mdl_layer *ly = &m->layers[l];
#define NM(s) (snprintf(name, sizeof(name), "blk.%u." s, l), name)
		if (!bind_vec(&L, NM("attn_norm.weight"), hp->n_embd, false, &ly->attn_norm, &bytes) ||
		    !bind_vec(&L, NM("ffn_norm.weight"), hp->n_embd, false, &ly->ffn_norm, &bytes) ||
		    !bind_mat(&L, NM("attn_q.weight"), hp->n_embd, qd, false, &ly->wq, &bytes) ||
		    !bind_mat(&L, NM("attn_k.weight"), hp->n_embd, kvd, false, &ly->wk, &bytes) ||
		    !bind_mat(&L, NM("attn_v.weight"), hp->n_embd, kvd, false, &ly->wv, &bytes) ||
		    !bind_mat(&L, NM("attn_output.weight"), qd, hp->n_embd, false, &ly->wo, &bytes) ||
		    !bind_mat(&L, NM("ffn_gate.weight"), hp->n_embd, hp->n_ff, false, &ly->gate, &bytes) ||
		    !bind_mat(&L, NM("ffn_up.weight"), hp->n_embd, hp->n_ff, false, &ly->up, &bytes) ||
		    !bind_mat(&L, NM("ffn_down.weight"), hp->n_ff, hp->n_embd, false, &ly->down, &bytes) ||
		    !bind_vec(&L, NM("attn_q.bias"), qd, !need_bias, &ly->bq, &bytes) ||
		    !bind_vec(&L, NM("attn_k.bias"), kvd, !need_bias, &ly->bk, &bytes) ||
		    !bind_vec(&L, NM("attn_v.bias"), kvd, !need_bias, &ly->bv, &bytes))
			goto err_free;
#undef NM
	}
	m->weight_bytes = bytes;
	return m;

err_free:
	mdl_free(m);
	return NULL;
}

void mdl_free(struct mdl_model *m)
{
	if (!m)
		return;
	free(m->layers);
	free(m->inv_freq);
	free(m);
}

const struct mdl_hparams *mdl_hparams(const struct mdl_model *m)
{
	return &m->hp;
}

uint64_t mdl_weight_bytes(const struct mdl_model *m)
{
	return m->weight_bytes;
}

int mdl_embed(const struct mdl_model *m, int32_t token, float *out)
{
	if (token < 0 || (uint32_t)token >= m->hp.n_vocab)
		return -EINVAL;
	mdl_dequant_row(&m->tok_embd, (uint32_t)token, out);
	return 0;
}

struct mdl_kv_pool *mdl_kv_create(const struct mdl_model *m, uint32_t n_slots, uint32_t max_ctx,
				  char *err, size_t errlen)
{
	const struct mdl_hparams *hp = &m->hp;
	struct mdl_kv_pool *kv;
	size_t n;
	if (n_slots == 0 || max_ctx == 0 || n_slots > 4096) {
		snprintf(err, errlen, "kv cache: %u slots of %u tokens (need 1..4096 slots, >= 1 token)",
			 n_slots, max_ctx);
		return NULL;
	}
	if (__builtin_mul_overflow((size_t)n_slots, (size_t)hp->n_layer, &n) ||
	    __builtin_mul_overflow(n, (size_t)max_ctx, &n) ||
	    __builtin_mul_overflow(n, (size_t)hp->n_head_kv * hp->head_dim * sizeof(float), &n) ||
	    n > ((size_t)1 << 40)) {
		snprintf(err, errlen, "kv cache: %u slots x %u tokens is too large", n_slots, max_ctx);
		return NULL;
	}
	kv = calloc(1, sizeof(*kv));
	if (!kv)
		goto err_nomem;
	kv->n_slots = n_slots;
	kv->max_ctx = max_ctx;
	kv->n_layer = hp->n_layer;
	kv->kv_dim = hp->n_head_kv * hp->head_dim;
	kv->k = malloc(n);
	kv->v = malloc(n);
	kv->len = calloc(n_slots, sizeof(*kv->len));
	kv->used = calloc(n_slots, sizeof(*kv->used));
	if (!kv->k || !kv->v || !kv->len || !kv->used)
		goto err_free;
	return kv;

err_free:
	mdl_kv_destroy(kv);
err_nomem:
	snprintf(err, errlen, "kv cache: out of memory (%zu bytes x 2)", n);
	return NULL;
}

void mdl_kv_destroy(struct mdl_kv_pool *kv)
{
	if (!kv)
		return;
	free(kv->k);
	free(kv->v);
	free(kv->len);
	free(kv->used);
	free(kv);
}

int mdl_kv_acquire(struct mdl_kv_pool *kv)
{
	for (uint32_t i = 0; i < kv->n_slots; i++) {
		if (!kv->used[i]) {
			kv->used[i] = true;
			kv->len[i] = 0;
			return (int)i;
		}
	}
	return -ENOSPC;
}

int mdl_kv_release(struct mdl_kv_pool *kv, uint32_t slot)
{
	if (slot >= kv->n_slots || !kv->used[slot])
		return -EINVAL;
	kv->used[slot] = false;
	kv->len[slot] = 0;
	return 0;
}

uint32_t mdl_kv_len(const struct mdl_kv_pool *kv, uint32_t slot)
{
	return slot < kv->n_slots ? kv->len[slot] : 0;
}

uint32_t mdl_kv_max_ctx(const struct mdl_kv_pool *kv)
{
	return kv->max_ctx;
}

uint32_t mdl_kv_n_slots(const struct mdl_kv_pool *kv)
{
	return kv->n_slots;
}
