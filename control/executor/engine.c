/* SPDX-License-Identifier: proprietary */
/*
 * Continuous-batching engine (control plane, the executor's pinned thread).
 *
 * Sequences live in a fixed array of max_batch + queue_len entries: QUEUED
 * ones wait (FIFO by arrival) for a KV slot, PREFILL ones feed up to
 * prefill_chunk prompt tokens per step, DECODE ones one token, and DRAIN
 * ones have finished but still hold answer records the worker's response
 * ring had no room for. Each step: read the request rings, retry held
 * output, admit waiting sequences into free slots, run ONE batched forward
 * over every sequence that has work (decode first, then prefill chunks up to
 * step_tokens), sample, detokenize, scan for stop sequences, and emit.
 * Sequences join and leave between steps; nothing an accepted request
 * produces is dropped: when a ring is full its records wait, and a sequence
 * whose unsent text fills its buffer sits out of the batch until it drains.
 * Unless it never drains: a sequence whose records the sink has refused for
 * stall_timeout_ns is dropped (slot and entry freed, counted in `stalled`,
 * nothing more sent: the worker is not reading anyway).
 *
 * Output is well-formed UTF-8 whatever the model samples (byte tokens can
 * spell anything): at the sink, each ill-formed piece becomes U+FFFD, and a
 * character left incomplete when generation ends (length limit inside a
 * multi-byte character) becomes one U+FFFD at the end of the last delta.
 */
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chat.h"
#include "engine.h"
#include "gguf.h"
#include "model.h"
#include "ring.h"
#include "sampler.h"
#include "tok.h"

#define EX_RENDER_MAX (1u << 20) /* bytes of prompt text after the chat template */
#define EX_RING_BUDGET 16u       /* request records read per ring per step */
/* Logprobs per delta at most: their bytes come out of the delta's text budget,
 * so the cap is also kept to an eighth of it (see seq_flush). */
#define EX_LP_PER_DELTA (EX_TXT_MAX / 8)

enum ex_seq_state {
	EX_SEQ_FREE = 0,
	EX_SEQ_QUEUED = 1,  /* tokenized, waiting for a KV slot */
	EX_SEQ_PREFILL = 2, /* feeding the prompt */
	EX_SEQ_DECODE = 3,  /* one token per step */
	EX_SEQ_DRAIN = 4,   /* finished; answer records still to deliver */
};

struct ex_seq {
	enum ex_seq_state state;
	uint64_t req_id;
	uint64_t arrival;   /* admission order, for the FIFO */
	uint16_t worker;
	bool stream;
	int32_t slot;       /* KV slot, -1 when none */
	int32_t *tok;       /* max_ctx ids: prompt, then completion */
	uint32_t n_prompt;  /* tokens */
	uint32_t n_tok;     /* tokens in tok[] */
	uint32_t n_fed;     /* tokens the model has seen (= KV length) */
	uint32_t max_new;   /* completion tokens allowed */
	uint32_t n_gen;     /* completion tokens sampled */
	struct ex_sampler smp;
	struct ex_stops stops;
	double lp_sum;      /* nats, over sampled tokens */
	float *lp;          /* max_ctx: logprob (nats) of completion token i */
	uint32_t n_lp_sent; /* leading lp[] values already sent in deltas */
	uint32_t txt_len;   /* bytes of unsent decoded text in txt */
	uint32_t txt_ready; /* leading bytes of txt cleared for sending */
	struct ts_exec_final fin; /* filled when the sequence finishes */
	uint64_t t_recv, t_start, t_first; /* CLOCK_MONOTONIC ns */
	uint64_t batch_step; /* st.steps + 1 of the step it was last put in */
	uint64_t blocked_since; /* CLOCK_MONOTONIC ns of the first refusal by the
				 * sink since the last record it took; 0 = not blocked */
	char txt[EX_TXT_MAX];
};

struct ex_engine {
	struct ex_engine_opts o;
	struct gguf_file *g;
	struct mdl_model *m;
	struct tok *t;
	struct chat_tmpl chat;  /* recognised template family */
	struct mdl_kv_pool *kv;
	struct mdl_pool *pool;
	struct mdl_ctx *ctx;
	uint32_t n_vocab;

	struct ex_seq *seqs; /* n_seqs = max_batch + queue_len */
	uint32_t n_seqs;
	int32_t *tok_mem;    /* n_seqs * max_ctx */
	float *lp_mem;       /* n_seqs * max_ctx */
	struct mdl_seq *batch;  /* max_batch */
	uint32_t *batch_idx;    /* seq index of batch[i] */
	uint32_t *batch_chunk;  /* tokens fed for batch[i] */
	float *logits;          /* max_batch * n_vocab */
	struct ex_cand *cand;   /* n_vocab */
	char *render;           /* EX_RENDER_MAX bytes, chat template output */
	char *delta_buf;        /* EX_TXT_MAX bytes, one delta's text made well-formed */
	uint8_t *delta_hdr;     /* struct ts_exec_delta + EX_LP_PER_DELTA floats */
	uint64_t arrivals;

	ex_sink_fn *sink;
	void *sink_ctx;
	uint32_t delta_max;     /* bytes of text per TEXT_DELTA */

	/* Rings, when attached to a segment (ex_engine_attach_seg). */
	struct ts_exec_seg_hdr *seg_hdr;
	uint32_t n_workers;
	struct ex_ring *req_rings;
	struct ex_ring *resp_rings;
	bool *ring_dead;        /* request ring broke the contract: no longer read */

	struct ex_stats st;

	pthread_t thread;
	bool started;
	atomic_bool run; /* relaxed: a stop request, no data hangs on it */
};

/* Counters: the engine thread is the only writer, so no RMW is needed;
 * relaxed, because readers want a number, not an ordering. */
static void st_add(_Atomic uint64_t *c, uint64_t v)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + v,
			      memory_order_relaxed);
}

uint64_t ex_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void ex_engine_opts_default(struct ex_engine_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->max_batch = 8;
	o->max_ctx = 2048;
	o->queue_len = 64;
	o->prefill_chunk = 256;
	o->step_tokens = 512;
	o->stall_timeout_ns = 5000000000ull;
}

static bool cpu_allowed(int cpu, const cpu_set_t *set)
{
	return cpu >= 0 && cpu < CPU_SETSIZE && CPU_ISSET(cpu, set);
}

/*
 * Parse a core list ("2", "0,2-3") into cpus[0..*n), checking that every core
 * exists and this process may run on it (sched_getaffinity). Duplicates are
 * refused: two threads pinned to one core would fight. Returns 0 or -EINVAL
 * (err says which core or which character).
 */
int ex_cpu_list_parse(const char *s, int *cpus, uint32_t cap, uint32_t *n, char *err,
		      size_t errlen)
{
	cpu_set_t set;
	const char *p = s;

	*n = 0;
	if (sched_getaffinity(0, sizeof(set), &set) < 0) {
		snprintf(err, errlen, "sched_getaffinity: %s", strerror(errno));
		return -errno;
	}
	while (*p != '\0') {
		char *end;
		long a = strtol(p, &end, 10), b;

		if (end == p || a < 0)
			goto bad;
		b = a;
		if (*end == '-') {
			p = end + 1;
			b = strtol(p, &end, 10);
			if (end == p || b < a)
				goto bad;
		}
		for (long c = a; c <= b; c++) {
			if (!cpu_allowed((int)c, &set) || c > CPU_SETSIZE) {
				snprintf(err, errlen, "core %ld does not exist or is not allowed", c);
				return -EINVAL;
			}
			for (uint32_t i = 0; i < *n; i++) {
				if (cpus[i] == c) {
					snprintf(err, errlen, "core %ld listed twice", c);
					return -EINVAL;
				}
			}
			if (*n >= cap) {
				snprintf(err, errlen, "more than %u cores", cap);
				return -EINVAL;
			}
			cpus[(*n)++] = (int)c;
		}
		p = end;
		if (*p == ',')
			p++;
		else if (*p != '\0')
			goto bad;
	}
	if (*n == 0) {
		snprintf(err, errlen, "empty core list");
		return -EINVAL;
	}
	return 0;
bad:
	snprintf(err, errlen, "bad core list '%s' at offset %zu", s, (size_t)(p - s));
	return -EINVAL;
}

static int opts_check(const struct ex_engine_opts *o, char *err, size_t errlen)
{
	cpu_set_t set;

	if (o->model_path == NULL || o->model_path[0] == '\0') {
		snprintf(err, errlen, "no model path");
		return -EINVAL;
	}
	if (o->max_batch == 0 || o->max_batch > 256 || o->max_ctx < 2 || o->max_ctx > (1u << 20) ||
	    o->queue_len > 65536 || o->prefill_chunk == 0 || o->step_tokens < o->max_batch ||
	    o->stall_timeout_ns == 0) {
		snprintf(err, errlen,
			 "bad sizes: max_batch %u (1..256), max_ctx %u (2..1M), queue_len %u "
			 "(..65536), prefill_chunk %u (>0), step_tokens %u (>= max_batch), "
			 "stall_timeout_ns %llu (>0)",
			 o->max_batch, o->max_ctx, o->queue_len, o->prefill_chunk, o->step_tokens,
			 (unsigned long long)o->stall_timeout_ns);
		return -EINVAL;
	}
	if (o->n_cpus > EX_CPUS_MAX) {
		snprintf(err, errlen, "%u cores, at most %u", o->n_cpus, EX_CPUS_MAX);
		return -EINVAL;
	}
	if (sched_getaffinity(0, sizeof(set), &set) < 0) {
		snprintf(err, errlen, "sched_getaffinity: %s", strerror(errno));
		return -errno;
	}
	for (uint32_t i = 0; i < o->n_cpus; i++) {
		if (!cpu_allowed(o->cpus[i], &set)) {
			snprintf(err, errlen, "core %d does not exist or is not allowed",
				 o->cpus[i]);
			return -EINVAL;
		}
	}
	return 0;
}

/*
 * Load the model, tokenizer and chat template from o->model_path and size
 * everything: KV slots (max_batch x max_ctx), sequences, logits, scratch.
 * Returns the engine or NULL with the precise reason in err.
 */
struct ex_engine *ex_engine_create(const struct ex_engine_opts *o, char *err, size_t errlen)
{
	struct ex_engine *e;
	char sub[256];
	int rc;

	if (opts_check(o, err, errlen) < 0)
		return NULL;
	e = calloc(1, sizeof(*e));
	if (e == NULL)
		goto nomem;
	e->o = *o;
	e->o.model_path = NULL; /* borrowed only for the duration of the call */
	e->g = gguf_open(o->model_path, sub, sizeof(sub));
	if (e->g == NULL) {
		/* The reader names the file in some messages, not in others. */
		if (strncmp(sub, o->model_path, strlen(o->model_path)) == 0)
			snprintf(err, errlen, "%s", sub);
		else
			snprintf(err, errlen, "%s: %s", o->model_path, sub);
		goto destroy;
	}
	e->m = mdl_load(e->g, sub, sizeof(sub));
	if (e->m == NULL) {
		snprintf(err, errlen, "%s: model: %s", o->model_path, sub);
		goto destroy;
	}
	e->n_vocab = mdl_hparams(e->m)->n_vocab;
	e->t = tok_from_gguf(e->g, sub, sizeof(sub));
	if (e->t == NULL) {
		snprintf(err, errlen, "%s: tokenizer: %s", o->model_path, sub);
		goto destroy;
	}
	if (tok_n_vocab(e->t) != e->n_vocab) {
		snprintf(err, errlen, "%s: tokenizer has %u tokens, the model %u", o->model_path,
			 tok_n_vocab(e->t), e->n_vocab);
		goto destroy;
	}
	rc = chat_tmpl_from_gguf(&e->chat, e->g, e->t);
	if (rc < 0) {
		snprintf(err, errlen, "%s: chat template: %s", o->model_path,
			 rc == -ENOTSUP ? "unknown template family" : strerror(-rc));
		goto destroy;
	}
	e->kv = mdl_kv_create(e->m, o->max_batch, o->max_ctx, sub, sizeof(sub));
	if (e->kv == NULL) {
		snprintf(err, errlen, "KV cache: %s", sub);
		goto destroy;
	}
	e->pool = mdl_pool_create(o->n_cpus > 0 ? o->n_cpus : 1, o->n_cpus > 0 ? o->cpus : NULL,
				  sub, sizeof(sub));
	if (e->pool == NULL) {
		snprintf(err, errlen, "thread pool: %s", sub);
		goto destroy;
	}
	e->ctx = mdl_ctx_create(e->m, e->kv, o->step_tokens, o->max_batch, e->pool, sub,
				sizeof(sub));
	if (e->ctx == NULL) {
		snprintf(err, errlen, "forward context: %s", sub);
		goto destroy;
	}
	e->n_seqs = o->max_batch + o->queue_len;
	e->seqs = calloc(e->n_seqs, sizeof(*e->seqs));
	e->tok_mem = calloc((size_t)e->n_seqs * o->max_ctx, sizeof(int32_t));
	e->lp_mem = calloc((size_t)e->n_seqs * o->max_ctx, sizeof(float));
	e->batch = calloc(o->max_batch, sizeof(*e->batch));
	e->batch_idx = calloc(o->max_batch, sizeof(*e->batch_idx));
	e->batch_chunk = calloc(o->max_batch, sizeof(*e->batch_chunk));
	e->logits = calloc((size_t)o->max_batch * e->n_vocab, sizeof(float));
	e->cand = calloc(e->n_vocab, sizeof(*e->cand));
	e->render = malloc(EX_RENDER_MAX);
	e->delta_buf = malloc(EX_TXT_MAX);
	e->delta_hdr = malloc(sizeof(struct ts_exec_delta) + EX_LP_PER_DELTA * sizeof(float));
	if (e->seqs == NULL || e->tok_mem == NULL || e->lp_mem == NULL || e->delta_hdr == NULL || e->batch == NULL || e->batch_idx == NULL ||
	    e->batch_chunk == NULL || e->logits == NULL || e->cand == NULL || e->render == NULL ||
	    e->delta_buf == NULL) {
		ex_engine_destroy(e);
		goto nomem;
	}
	for (uint32_t i = 0; i < e->n_seqs; i++) {
		e->seqs[i].tok = e->tok_mem + (size_t)i * o->max_ctx;
		e->seqs[i].lp = e->lp_mem + (size_t)i * o->max_ctx;
		e->seqs[i].slot = -1;
	}
	e->delta_max = EX_TXT_MAX;
	atomic_init(&e->run, false);
	return e;

nomem:
	snprintf(err, errlen, "out of memory sizing the engine");
	return NULL;
destroy:
	ex_engine_destroy(e);
	return NULL;
}

void ex_engine_destroy(struct ex_engine *e)
{
	if (e == NULL)
		return;
	ex_engine_stop(e);
	free(e->req_rings);
	free(e->resp_rings);
	free(e->ring_dead);
	free(e->delta_hdr);
	free(e->delta_buf);
	free(e->render);
	free(e->cand);
	free(e->logits);
	free(e->batch_chunk);
	free(e->batch_idx);
	free(e->batch);
	free(e->lp_mem);
	free(e->tok_mem);
	free(e->seqs);
	mdl_ctx_destroy(e->ctx);
	mdl_pool_destroy(e->pool);
	mdl_kv_destroy(e->kv);
	tok_free(e->t);
	mdl_free(e->m);
	gguf_close(e->g);
	free(e);
}

const struct tok *ex_engine_tok(const struct ex_engine *e)
{
	return e->t;
}

uint32_t ex_engine_max_ctx(const struct ex_engine *e)
{
	return e->o.max_ctx;
}

const struct ex_stats *ex_engine_stats(const struct ex_engine *e)
{
	return &e->st;
}

/* Every counter of struct ex_stats under its export name, in struct order. */
static const struct {
	const char *name;
	size_t off; /* offsetof(struct ex_stats, ...) */
} ex_counters[] = {
#define C(f) {#f, offsetof(struct ex_stats, f)}
	C(accepted), C(refused_full), C(refused_long), C(refused_bad), C(refused_internal),
	C(finish_stop), C(finish_length), C(finish_error), C(cancelled), C(stalled),
	C(finished), C(bad_records), C(ring_full), C(ring_corrupt), C(steps),
	C(prefill_tokens), C(decode_tokens), C(forward_ns), C(pin_failed),
#undef C
};
_Static_assert(sizeof(ex_counters) / sizeof(ex_counters[0]) ==
		       sizeof(struct ex_stats) / sizeof(_Atomic uint64_t),
	       "every field of struct ex_stats has an export name");

/* Name of counter i (stable, lower_snake), or NULL past the last one. */
const char *ex_engine_counter_name(uint32_t i)
{
	return i < sizeof(ex_counters) / sizeof(ex_counters[0]) ? ex_counters[i].name : NULL;
}

/*
 * Counter i of e (relaxed load: any thread, while the engine runs). Returns
 * false past the last counter.
 */
bool ex_engine_counter(const struct ex_engine *e, uint32_t i, uint64_t *val)
{
	const _Atomic uint64_t *c;

	if (ex_engine_counter_name(i) == NULL)
		return false;
	c = (const _Atomic uint64_t *)((const char *)&e->st + ex_counters[i].off);
	*val = atomic_load_explicit(c, memory_order_relaxed);
	return true;
}

void ex_engine_set_sink(struct ex_engine *e, ex_sink_fn *fn, void *ctx)
{
	e->sink = fn;
	e->sink_ctx = ctx;
	e->delta_max = EX_TXT_MAX;
}

static int ring_sink(void *ctx, uint16_t worker, uint16_t type, const void *hdr, uint32_t hdr_len,
		     const void *data, uint32_t data_len)
{
	struct ex_engine *e = ctx;

	return ex_ring_push(&e->resp_rings[worker], type, hdr, hdr_len, data, data_len);
}

/*
 * Serve the rings of seg: this process consumes every request ring and
 * produces every response ring (the executor side). The segment must outlive
 * the engine's use of it. Returns 0 or -ENOMEM / -EINVAL (rings too small for
 * an ERROR record).
 */
int ex_engine_attach_seg(struct ex_engine *e, const struct ex_seg *seg)
{
	uint32_t n = ex_seg_workers(seg);
	uint32_t rec_max;

	e->req_rings = calloc(n, sizeof(*e->req_rings));
	e->resp_rings = calloc(n, sizeof(*e->resp_rings));
	e->ring_dead = calloc(n, sizeof(*e->ring_dead));
	if (e->req_rings == NULL || e->resp_rings == NULL || e->ring_dead == NULL)
		return -ENOMEM;
	for (uint32_t w = 0; w < n; w++) {
		ex_seg_req_ring(seg, w, &e->req_rings[w]);
		ex_seg_resp_ring(seg, w, &e->resp_rings[w]);
	}
	rec_max = ex_ring_rec_max(&e->resp_rings[0]);
	if (rec_max < sizeof(struct ts_exec_error) + TS_EXEC_ERRMSG_MAX)
		return -EINVAL;
	e->n_workers = n;
	e->seg_hdr = seg->hdr;
	e->sink = ring_sink;
	e->sink_ctx = e;
	e->delta_max = rec_max - (uint32_t)sizeof(struct ts_exec_delta);
	if (e->delta_max < 64)
		return -EINVAL; /* cannot happen above TS_EXEC_RING_MIN; keeps seq_flush sane */
	if (e->delta_max > EX_TXT_MAX)
		e->delta_max = EX_TXT_MAX;
	return 0;
}

/*
 * Render the request into e->render: chat template or the raw prompt, with
 * spans[0..*n_spans) marking the messages' contents (TS_EXEC_MSGS_MAX
 * entries; a raw prompt has none: it is tokenized as plain text anyway).
 * Bytes or -errno.
 */
static int64_t render_prompt(struct ex_engine *e, const struct ex_request *r,
			     struct chat_span *spans, size_t *n_spans)
{
	struct chat_msg cm[TS_EXEC_MSGS_MAX];

	*n_spans = 0;
	if (!(r->flags & TS_EXEC_F_CHAT)) {
		if (r->n_msgs != 1 || r->msgs[0].role != TS_EXEC_ROLE_PROMPT)
			return -EINVAL;
		if (r->msgs[0].len > EX_RENDER_MAX)
			return -E2BIG;
		memcpy(e->render, r->msgs[0].text, r->msgs[0].len);
		return r->msgs[0].len;
	}
	if (r->n_msgs == 0 || r->n_msgs > TS_EXEC_MSGS_MAX)
		return -EINVAL;
	for (uint32_t i = 0; i < r->n_msgs; i++) {
		switch (r->msgs[i].role) {
		case TS_EXEC_ROLE_SYSTEM:
			cm[i].role = CHAT_ROLE_SYSTEM;
			break;
		case TS_EXEC_ROLE_USER:
			cm[i].role = CHAT_ROLE_USER;
			break;
		case TS_EXEC_ROLE_ASSISTANT:
			cm[i].role = CHAT_ROLE_ASSISTANT;
			break;
		default:
			return -EINVAL;
		}
		cm[i].content = r->msgs[i].text;
		cm[i].len = r->msgs[i].len;
	}
	return chat_render_spans(&e->chat, cm, r->n_msgs, true, e->render, EX_RENDER_MAX, spans,
				 TS_EXEC_MSGS_MAX, n_spans);
}

static struct ex_seq *seq_free_entry(struct ex_engine *e)
{
	for (uint32_t i = 0; i < e->n_seqs; i++)
		if (e->seqs[i].state == EX_SEQ_FREE)
			return &e->seqs[i];
	return NULL;
}

/* ex_engine_submit() without counting a refusal (the ring path counts
 * once the ERROR record is out: a request may be offered several times). */
static int submit(struct ex_engine *e, const struct ex_request *r, uint64_t now_ns)
{
	struct chat_span spans[TS_EXEC_MSGS_MAX];
	size_t n_spans;
	struct ex_seq *s;
	int64_t len, n;

	if (ex_sample_params_check(&r->par) < 0 || r->stops.n > TS_EXEC_STOP_MAX)
		return -EINVAL;
	for (uint32_t i = 0; i < r->stops.n; i++)
		if (r->stops.len[i] == 0 || r->stops.len[i] > TS_EXEC_STOP_LEN_MAX)
			return -EINVAL;
	/* Answers are matched by (worker, id): a live duplicate would interleave. */
	for (uint32_t i = 0; i < e->n_seqs; i++)
		if (e->seqs[i].state != EX_SEQ_FREE && e->seqs[i].req_id == r->req_id &&
		    e->seqs[i].worker == r->worker)
			return -EINVAL;
	s = seq_free_entry(e);
	if (s == NULL)
		return -EBUSY;
	len = render_prompt(e, r, spans, &n_spans);
	if (len == -ENOSPC)
		return -E2BIG;
	if (len < 0)
		return (int)len;
	/*
	 * Chat templates put control tokens in the text, the messages must not:
	 * only the template's scaffolding may become control tokens. A raw
	 * prompt is all text.
	 */
	if (r->flags & TS_EXEC_F_CHAT)
		n = chat_tokenize(e->t, e->render, (size_t)len, spans, n_spans, TOK_ENC_ADD_SPECIAL,
				  s->tok, e->o.max_ctx);
	else
		n = tok_encode(e->t, e->render, (size_t)len, TOK_ENC_ADD_SPECIAL, s->tok,
			       e->o.max_ctx);
	if (n == -ENOSPC || n >= (int64_t)e->o.max_ctx)
		return -E2BIG;
	if (n < 0)
		return (int)n;
	/*
	 * A prompt to continue never ends in EOS (vocabularies with
	 * add_eos_token); a lone BOS that doubles as EOS stays.
	 */
	if (n >= 2 && s->tok[n - 1] == tok_eos(e->t) && tok_eos(e->t) != TOK_NULL)
		n--;
	if (n == 0)
		return -EINVAL; /* nothing to condition on: no BOS and no text */
	s->req_id = r->req_id;
	s->worker = r->worker;
	s->stream = (r->flags & TS_EXEC_F_STREAM) != 0;
	s->arrival = e->arrivals++;
	s->slot = -1;
	s->n_prompt = (uint32_t)n;
	s->n_tok = (uint32_t)n;
	s->n_fed = 0;
	s->max_new = e->o.max_ctx - (uint32_t)n;
	if (r->max_tokens > 0 && r->max_tokens < s->max_new)
		s->max_new = r->max_tokens;
	s->n_gen = 0;
	ex_sampler_init(&s->smp, &r->par);
	s->stops = r->stops;
	s->lp_sum = 0.0;
	s->n_lp_sent = 0;
	s->txt_len = 0;
	s->txt_ready = 0;
	memset(&s->fin, 0, sizeof(s->fin));
	s->t_recv = now_ns;
	s->t_start = 0;
	s->t_first = 0;
	s->blocked_since = 0;
	s->state = EX_SEQ_QUEUED;
	st_add(&e->st.accepted, 1);
	return 0;
}

/* The ERROR code a refusal by submit() gets on the ring. */
static uint32_t refusal_code(int rc)
{
	if (rc == -EBUSY)
		return TS_EXEC_ERR_QUEUE_FULL;
	if (rc == -E2BIG)
		return TS_EXEC_ERR_PROMPT_TOO_LONG;
	if (rc == -EINVAL || rc == -EILSEQ)
		return TS_EXEC_ERR_BAD_REQUEST;
	return TS_EXEC_ERR_INTERNAL;
}

static void count_refusal(struct ex_engine *e, uint32_t code)
{
	if (code == TS_EXEC_ERR_QUEUE_FULL)
		st_add(&e->st.refused_full, 1);
	else if (code == TS_EXEC_ERR_PROMPT_TOO_LONG)
		st_add(&e->st.refused_long, 1);
	else if (code == TS_EXEC_ERR_BAD_REQUEST)
		st_add(&e->st.refused_bad, 1);
	else
		st_add(&e->st.refused_internal, 1);
}

/*
 * Admit a request: validate, render, tokenize and queue it. The request's
 * memory is only borrowed for the call. Returns 0; -EBUSY when every
 * sequence entry is taken (queue full); -E2BIG when the prompt leaves no room
 * for one new token in max_ctx; -EINVAL for bad parameters or messages, or an
 * id that is still live for this worker; -EILSEQ/-ENOMEM from the tokenizer.
 * A refusal is counted under its ERROR code's refused_* counter.
 */
int ex_engine_submit(struct ex_engine *e, const struct ex_request *r, uint64_t now_ns)
{
	int rc = submit(e, r, now_ns);

	if (rc < 0)
		count_refusal(e, refusal_code(rc));
	return rc;
}

/* End a sequence: free its KV slot now, deliver what it holds later. */
static void seq_finish(struct ex_engine *e, struct ex_seq *s, enum ts_exec_finish why)
{
	uint64_t now = ex_now_ns();
	bool hit;

	if (s->slot >= 0)
		mdl_kv_release(e->kv, (uint32_t)s->slot);
	s->slot = -1;
	if (why == TS_EXEC_FINISH_STOP || why == TS_EXEC_FINISH_LENGTH) {
		/* No more text: release the held bytes, still cutting at a stop. */
		s->txt_len = ex_stop_scan(&s->stops, s->txt, s->txt_len, true, &hit);
		s->txt_ready = s->txt_len;
	} else if (why == TS_EXEC_FINISH_CANCELLED) {
		s->txt_len = 0; /* nobody is listening */
		s->txt_ready = 0;
		s->n_lp_sent = s->n_gen;
	} else {
		s->txt_len = s->txt_ready;
	}
	s->fin.req_id = s->req_id;
	s->fin.finish = why;
	s->fin.prompt_tokens = s->n_prompt;
	s->fin.completion_tokens = s->n_gen;
	s->fin.mean_logprob = s->n_gen > 0 ? (float)(s->lp_sum / s->n_gen) : 0.0f;
	s->fin.queue_ns = s->t_start > s->t_recv ? s->t_start - s->t_recv : 0;
	s->fin.prefill_ns = s->t_first > s->t_start ? s->t_first - s->t_start : 0;
	s->fin.decode_ns = s->t_first > 0 && now > s->t_first ? now - s->t_first : 0;
	s->state = EX_SEQ_DRAIN;
}

/*
 * Cancel a request the worker gave up on. Returns 0, or -ENOENT when no live
 * sequence has that id (already finished: its FINAL is on its way).
 */
int ex_engine_cancel(struct ex_engine *e, uint16_t worker, uint64_t req_id)
{
	for (uint32_t i = 0; i < e->n_seqs; i++) {
		struct ex_seq *s = &e->seqs[i];

		if (s->state != EX_SEQ_FREE && s->state != EX_SEQ_DRAIN && s->req_id == req_id &&
		    s->worker == worker) {
			seq_finish(e, s, TS_EXEC_FINISH_CANCELLED);
			return 0;
		}
	}
	return -ENOENT;
}

/*
 * Offer a sequence's cleared text and, once finished, its FINAL record to the
 * sink. Stream requests send whatever is cleared; others send in large
 * pieces and at the end. A refusal (full ring) keeps everything for the next
 * step. Returns the number of records delivered.
 */
static uint32_t seq_flush(struct ex_engine *e, struct ex_seq *s, uint64_t now)
{
	uint32_t sent = 0;

	for (;;) {
		struct ts_exec_delta d;
		uint32_t used = 0, n = 0, n_lp = s->n_gen - s->n_lp_sent;

		if (!(s->stream || s->state == EX_SEQ_DRAIN || s->txt_ready >= EX_TXT_MAX / 2) ||
		    (s->txt_ready == 0 && n_lp == 0))
			break;
		/* Logprobs take their bytes from the text budget: at most an eighth. */
		if (n_lp > e->delta_max / 8)
			n_lp = e->delta_max / 8;
		/*
		 * Whole, well-formed characters only: never split one between two
		 * deltas, U+FFFD for ill-formed bytes, and (finished) for a
		 * character the last token left incomplete.
		 */
		if (s->txt_ready > 0)
			n = ex_utf8_sanitize(s->txt, s->txt_ready, s->state == EX_SEQ_DRAIN,
					     e->delta_buf,
					     e->delta_max - n_lp * (uint32_t)sizeof(float), &used);
		if (used == 0 && n_lp == 0)
			break; /* an incomplete character the next token completes */
		d = (struct ts_exec_delta){.req_id = s->req_id, .len = n, .n_tokens = s->n_gen,
					   .lp_first = s->n_lp_sent, .n_logprobs = n_lp};
		memcpy(e->delta_hdr, &d, sizeof(d));
		memcpy(e->delta_hdr + sizeof(d), s->lp + s->n_lp_sent, n_lp * sizeof(float));
		if (e->sink(e->sink_ctx, s->worker, TS_EXEC_REC_TEXT_DELTA, e->delta_hdr,
			    (uint32_t)(sizeof(d) + n_lp * sizeof(float)), e->delta_buf, n) < 0)
			goto refused;
		s->blocked_since = 0;
		memmove(s->txt, s->txt + used, s->txt_len - used);
		s->txt_len -= used;
		s->txt_ready -= used;
		s->n_lp_sent += n_lp;
		sent++;
	}
	if (s->state == EX_SEQ_DRAIN && s->txt_len == 0 && s->n_lp_sent == s->n_gen) {
		if (e->sink(e->sink_ctx, s->worker, TS_EXEC_REC_FINAL, &s->fin, sizeof(s->fin), NULL,
			    0) < 0)
			goto refused;
		s->state = EX_SEQ_FREE;
		/* Outcomes count at delivery: a sequence dropped before its FINAL
		 * went out is `stalled`, not both. */
		if (s->fin.finish == TS_EXEC_FINISH_STOP)
			st_add(&e->st.finish_stop, 1);
		else if (s->fin.finish == TS_EXEC_FINISH_LENGTH)
			st_add(&e->st.finish_length, 1);
		else if (s->fin.finish == TS_EXEC_FINISH_ERROR)
			st_add(&e->st.finish_error, 1);
		else
			st_add(&e->st.cancelled, 1);
		st_add(&e->st.finished, 1);
		sent++;
	}
	return sent;
refused:
	st_add(&e->st.ring_full, 1);
	if (s->blocked_since == 0)
		s->blocked_since = now;
	return sent;
}

/*
 * Drop sequences whose records the sink has refused for stall_timeout_ns:
 * the worker stopped reading its response ring, and the sequence would hold
 * its KV slot (a full text buffer sits out of the batch) or its entry
 * forever. Nothing more is sent for it. Returns the sequences dropped.
 */
static uint32_t drop_stalled(struct ex_engine *e, uint64_t now)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < e->n_seqs; i++) {
		struct ex_seq *s = &e->seqs[i];

		if (s->state == EX_SEQ_FREE || s->blocked_since == 0 || now < s->blocked_since ||
		    now - s->blocked_since < e->o.stall_timeout_ns)
			continue;
		if (s->slot >= 0)
			mdl_kv_release(e->kv, (uint32_t)s->slot);
		s->slot = -1;
		s->txt_len = 0;
		s->txt_ready = 0;
		s->blocked_since = 0;
		s->state = EX_SEQ_FREE;
		st_add(&e->st.stalled, 1);
		n++;
	}
	return n;
}

/* Handle a sampled token: stop checks, detokenize, hold-back scan. */
static void seq_accept(struct ex_engine *e, struct ex_seq *s, int32_t id, float lp)
{
	int32_t prev = s->tok[s->n_tok - 1];
	bool hit;
	int n;

	s->lp[s->n_gen++] = lp; /* n_gen < max_ctx: the prompt holds >= 1 token */
	s->lp_sum += lp;
	if (tok_is_eog(e->t, id) || id == tok_bos(e->t)) {
		/* llama2.c and llama.cpp end at EOS/EOT; stories260K ends at BOS. */
		seq_finish(e, s, TS_EXEC_FINISH_STOP);
		return;
	}
	s->tok[s->n_tok++] = id;
	n = tok_piece(e->t, prev, id, TOK_DEC_NONE, s->txt + s->txt_len,
		      EX_TXT_MAX - s->txt_len);
	if (n < 0) {
		seq_finish(e, s, TS_EXEC_FINISH_ERROR);
		return;
	}
	s->txt_len += (uint32_t)n;
	s->txt_ready += ex_stop_scan(&s->stops, s->txt + s->txt_ready, s->txt_len - s->txt_ready,
				     false, &hit);
	if (hit) {
		s->txt_len = s->txt_ready; /* nothing at or past the stop is ever sent */
		seq_finish(e, s, TS_EXEC_FINISH_STOP);
		return;
	}
	if (s->n_gen >= s->max_new || s->n_tok >= e->o.max_ctx)
		seq_finish(e, s, TS_EXEC_FINISH_LENGTH);
}

/* Text buffer room a decode step needs: one token's longest piece. */
static bool seq_has_room(const struct ex_seq *s)
{
	return EX_TXT_MAX - s->txt_len >= TOK_MAX_TOKEN_LEN + 8;
}

static int send_error(struct ex_engine *e, uint16_t worker, uint64_t req_id, uint32_t code,
		      const char *msg)
{
	struct ts_exec_error er = {.req_id = req_id, .code = code,
				   .msg_len = (uint32_t)strlen(msg)};

	if (er.msg_len > TS_EXEC_ERRMSG_MAX)
		er.msg_len = TS_EXEC_ERRMSG_MAX;
	return e->sink(e->sink_ctx, worker, TS_EXEC_REC_ERROR, &er, sizeof(er), msg, er.msg_len);
}

/*
 * Read up to EX_RING_BUDGET records from worker w's request ring. A record
 * whose ERROR answer does not fit the response ring stays in the request ring
 * for the next step (never dropped). Returns records handled.
 */
static uint32_t poll_ring(struct ex_engine *e, uint32_t w, uint64_t now)
{
	struct ex_msg msgs[TS_EXEC_MSGS_MAX];
	struct ex_ring *r = &e->req_rings[w];
	uint32_t done = 0;

	while (done < EX_RING_BUDGET) {
		struct ex_request req;
		const void *p;
		uint32_t len;
		uint16_t type;
		int rc = ex_ring_peek(r, &type, &p, &len);

		if (rc == -EAGAIN)
			break;
		if (rc < 0) {
			e->ring_dead[w] = true;
			st_add(&e->st.ring_corrupt, 1);
			break;
		}
		if (type == TS_EXEC_REC_CANCEL && len == sizeof(struct ts_exec_cancel)) {
			struct ts_exec_cancel c;

			memcpy(&c, p, sizeof(c));
			ex_engine_cancel(e, (uint16_t)w, c.req_id);
		} else if (type == TS_EXEC_REC_REQUEST) {
			const char *msg = NULL;
			uint32_t code = TS_EXEC_ERR_NONE;
			uint64_t id = 0;

			if (len >= sizeof(uint64_t))
				memcpy(&id, p, sizeof(id));
			rc = ex_req_parse(p, len, &req, msgs, TS_EXEC_MSGS_MAX);
			if (rc == 0 && req.worker != w)
				rc = -EINVAL;
			if (rc == 0)
				rc = submit(e, &req, now);
			if (rc < 0)
				code = refusal_code(rc);
			if (code == TS_EXEC_ERR_QUEUE_FULL)
				msg = "executor queue full";
			else if (code == TS_EXEC_ERR_PROMPT_TOO_LONG)
				msg = "prompt longer than the executor's context";
			else if (code == TS_EXEC_ERR_BAD_REQUEST)
				msg = "malformed request or parameters out of range";
			else
				msg = "executor failed to prepare the request";
			if (code != TS_EXEC_ERR_NONE) {
				if (send_error(e, (uint16_t)w, id, code, msg) < 0) {
					/* Keep the request; the answer waits for room. */
					st_add(&e->st.ring_full, 1);
					break;
				}
				count_refusal(e, code);
			}
		} else {
			st_add(&e->st.bad_records, 1); /* unknown type or size: skip it */
		}
		ex_ring_release(r);
		done++;
	}
	return done;
}

/* Oldest queued sequence, or NULL. */
static struct ex_seq *oldest_queued(struct ex_engine *e)
{
	struct ex_seq *best = NULL;

	for (uint32_t i = 0; i < e->n_seqs; i++) {
		struct ex_seq *s = &e->seqs[i];

		if (s->state == EX_SEQ_QUEUED && (best == NULL || s->arrival < best->arrival))
			best = s;
	}
	return best;
}

static void batch_add(struct ex_engine *e, uint32_t *nb, uint32_t i, uint32_t chunk)
{
	struct ex_seq *s = &e->seqs[i];

	e->batch[*nb] = (struct mdl_seq){.slot = (uint32_t)s->slot, .pos = s->n_fed,
					 .tokens = s->tok + s->n_fed, .n_tokens = chunk,
					 .logits = e->logits + (size_t)*nb * e->n_vocab};
	e->batch_idx[*nb] = i;
	e->batch_chunk[*nb] = chunk;
	(*nb)++;
}

/*
 * One engine step (see the file comment). Returns the amount of work done
 * (records handled + sequences stepped; 0 when idle), or a negative errno
 * when the forward pass failed (the sequences in that step are finished
 * with finish reason ERROR and the engine stays usable).
 */
int ex_engine_step(struct ex_engine *e)
{
	uint64_t now = ex_now_ns(), t0, step_mark;
	uint32_t work = 0, nb = 0, budget = e->o.step_tokens;
	struct ex_seq *q;
	int rc;

	for (uint32_t w = 0; w < e->n_workers; w++)
		if (!e->ring_dead[w])
			work += poll_ring(e, w, now);
	for (uint32_t i = 0; i < e->n_seqs; i++)
		if (e->seqs[i].state != EX_SEQ_FREE && e->seqs[i].state != EX_SEQ_QUEUED)
			work += seq_flush(e, &e->seqs[i], now);
	work += drop_stalled(e, now);
	/* Join: waiting sequences take free KV slots, oldest first. */
	while ((q = oldest_queued(e)) != NULL) {
		int slot = mdl_kv_acquire(e->kv);

		if (slot < 0)
			break;
		q->slot = slot;
		q->state = EX_SEQ_PREFILL;
	}
	/* Decode first (one token each keeps latency flat), then prefill chunks. */
	for (uint32_t i = 0; i < e->n_seqs && nb < e->o.max_batch; i++) {
		struct ex_seq *s = &e->seqs[i];

		if (s->state == EX_SEQ_DECODE && seq_has_room(s) && budget > 0) {
			batch_add(e, &nb, i, 1);
			budget--;
		}
	}
	/* Prefill in arrival order, so an early long prompt is not overtaken forever. */
	/* This step's mark (a single writer's own counter: relaxed). */
	step_mark = atomic_load_explicit(&e->st.steps, memory_order_relaxed) + 1;
	while (nb < e->o.max_batch && budget > 0) {
		struct ex_seq *s = NULL;
		uint32_t chunk, pick = 0;

		for (uint32_t i = 0; i < e->n_seqs; i++) {
			struct ex_seq *c = &e->seqs[i];

			if (c->state == EX_SEQ_PREFILL && c->batch_step != step_mark &&
			    (s == NULL || c->arrival < s->arrival)) {
				s = c;
				pick = i;
			}
		}
		if (s == NULL)
			break;
		chunk = s->n_prompt - s->n_fed;
		if (chunk > e->o.prefill_chunk)
			chunk = e->o.prefill_chunk;
		if (chunk > budget)
			chunk = budget;
		batch_add(e, &nb, pick, chunk);
		s->batch_step = step_mark;
		budget -= chunk;
		if (s->t_start == 0)
			s->t_start = now;
	}
	if (nb == 0)
		return (int)work;
	t0 = ex_now_ns();
	rc = mdl_forward(e->ctx, e->kv, e->batch, nb);
	st_add(&e->st.forward_ns, ex_now_ns() - t0);
	st_add(&e->st.steps, 1);
	for (uint32_t b = 0; b < nb; b++) {
		struct ex_seq *s = &e->seqs[e->batch_idx[b]];
		float lp;
		int32_t id;

		if (rc < 0) {
			seq_finish(e, s, TS_EXEC_FINISH_ERROR);
			continue;
		}
		s->n_fed += e->batch_chunk[b];
		if (s->state == EX_SEQ_PREFILL) {
			st_add(&e->st.prefill_tokens, e->batch_chunk[b]);
			if (s->n_fed < s->n_prompt)
				continue; /* more prompt to feed: these logits are not needed */
			s->state = EX_SEQ_DECODE;
			s->t_first = ex_now_ns();
		} else {
			st_add(&e->st.decode_tokens, 1);
		}
		id = ex_sample(&s->smp, e->batch[b].logits, e->n_vocab, e->cand, &lp);
		seq_accept(e, s, id, lp);
	}
	now = ex_now_ns();
	for (uint32_t b = 0; b < nb; b++)
		seq_flush(e, &e->seqs[e->batch_idx[b]], now);
	return rc < 0 ? rc : (int)(work + nb);
}

/* True when no request is queued, running or holding output. */
bool ex_engine_idle(const struct ex_engine *e)
{
	for (uint32_t i = 0; i < e->n_seqs; i++)
		if (e->seqs[i].state != EX_SEQ_FREE)
			return false;
	return true;
}

/*
 * Pin the calling thread to the engine's first core (pthread_setaffinity_np);
 * the matmul workers were pinned to the others at creation. 0 when no cores
 * are configured; otherwise 0 or -errno.
 */
int ex_engine_pin_caller(struct ex_engine *e)
{
	return e->o.n_cpus > 0 ? mdl_pin_self(e->o.cpus[0]) : 0;
}

static void *engine_main(void *arg)
{
	struct ex_engine *e = arg;
	uint64_t idle_ns = 0;

	if (ex_engine_pin_caller(e) < 0)
		st_add(&e->st.pin_failed, 1); /* runs unpinned; the operator sees the counter */
	if (e->seg_hdr != NULL)
		atomic_store_explicit(&e->seg_hdr->exec_ready, 1, memory_order_release);
	while (atomic_load_explicit(&e->run, memory_order_relaxed)) {
		int n = ex_engine_step(e);

		if (e->seg_hdr != NULL)
			/* relaxed: a liveness hint, orders nothing */
			atomic_store_explicit(&e->seg_hdr->exec_heartbeat_ns, ex_now_ns(),
					      memory_order_relaxed);
		if (n != 0) {
			idle_ns = 0;
			continue;
		}
		/*
		 * Idle: back off from 20 us to 1 ms. The executor shares its
		 * cores with the control plane; spinning would starve it.
		 */
		idle_ns = idle_ns == 0 ? 20000 : (idle_ns * 2 > 1000000 ? 1000000 : idle_ns * 2);
		nanosleep(&(struct timespec){.tv_nsec = (long)idle_ns}, NULL);
	}
	if (e->seg_hdr != NULL)
		atomic_store_explicit(&e->seg_hdr->exec_ready, 0, memory_order_release);
	return NULL;
}

/* Run the step loop on its own thread, pinned to cpus[0]. Returns 0 or -errno. */
int ex_engine_start(struct ex_engine *e)
{
	int rc;

	if (e->started)
		return -EALREADY;
	if (e->sink == NULL)
		return -EINVAL;
	atomic_store_explicit(&e->run, true, memory_order_relaxed);
	rc = pthread_create(&e->thread, NULL, engine_main, e);
	if (rc != 0) {
		atomic_store_explicit(&e->run, false, memory_order_relaxed);
		return -rc;
	}
	e->started = true;
	return 0;
}

/* Stop and join the loop thread (no-op when not started). */
void ex_engine_stop(struct ex_engine *e)
{
	if (!e->started)
		return;
	atomic_store_explicit(&e->run, false, memory_order_relaxed);
	pthread_join(e->thread, NULL);
	e->started = false;
}
