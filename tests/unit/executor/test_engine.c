/* SPDX-License-Identifier: proprietary */
/*
 * Engine tests on stories260K (../shared/models/stories260K): batching gives
 * the same tokens as running alone, joins mid-decode, queue and context
 * limits, cancellation, stop sequences, held output, and the ring path.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "engine.h"
#include "gguf.h"
#include "model.h"
#include "ring.h"
#include "tests.h"
#include "tok.h"

#define MAXREQ 8

/* What one request received through the sink. */
struct got {
	uint64_t req_id;
	char text[8192];
	uint32_t len;
	uint32_t deltas;
	float lp[1024];   /* per-token logprobs, in completion order */
	uint32_t n_lp;
	bool lp_gap;      /* a delta's lp_first did not continue the previous one */
	bool done, error;
	struct ts_exec_final fin;
	struct ts_exec_error err;
};

struct capture {
	struct got g[MAXREQ];
	uint32_t refuse_every; /* refuse every Nth record (0: never) to test holding */
	uint32_t calls;
	uint32_t refused;
};

static struct got *got_for(struct capture *c, uint64_t id)
{
	for (int i = 0; i < MAXREQ; i++)
		if (c->g[i].req_id == id)
			return &c->g[i];
	return NULL;
}

static int sink(void *ctx, uint16_t worker, uint16_t type, const void *hdr, uint32_t hdr_len,
		const void *data, uint32_t data_len)
{
	struct capture *c = ctx;
	uint64_t id;
	struct got *g;

	(void)worker;
	c->calls++;
	if (c->refuse_every != 0 && c->calls % c->refuse_every == 0) {
		c->refused++;
		return -ENOBUFS;
	}
	memcpy(&id, hdr, sizeof(id));
	g = got_for(c, id);
	CU_ASSERT_PTR_NOT_NULL_FATAL(g);
	CU_ASSERT_FALSE(g->done); /* nothing after FINAL/ERROR */
	if (type == TS_EXEC_REC_TEXT_DELTA) {
		struct ts_exec_delta d;

		memcpy(&d, hdr, sizeof(d));
		CU_ASSERT_EQUAL(hdr_len, sizeof(d) + d.n_logprobs * sizeof(float));
		CU_ASSERT_EQUAL(d.len, data_len);
		if (d.lp_first != g->n_lp || g->n_lp + d.n_logprobs > 1024)
			g->lp_gap = true;
		else
			memcpy(g->lp + g->n_lp, (const uint8_t *)hdr + sizeof(d),
			       d.n_logprobs * sizeof(float));
		g->n_lp += d.n_logprobs;
		CU_ASSERT(g->len + data_len < sizeof(g->text));
		memcpy(g->text + g->len, data, data_len);
		g->len += data_len;
		g->deltas++;
	} else if (type == TS_EXEC_REC_FINAL) {
		memcpy(&g->fin, hdr, sizeof(g->fin));
		g->done = true;
	} else if (type == TS_EXEC_REC_ERROR) {
		memcpy(&g->err, hdr, sizeof(g->err));
		g->done = g->error = true;
	}
	return 0;
}

static struct ex_engine *engine(uint32_t max_batch, uint32_t queue_len, uint32_t max_ctx,
				uint32_t chunk)
{
	struct ex_engine_opts o;
	struct ex_engine *e;
	char err[512];

	ex_engine_opts_default(&o);
	o.model_path = EX_TEST_MODEL;
	o.max_batch = max_batch;
	o.queue_len = queue_len;
	o.max_ctx = max_ctx;
	o.prefill_chunk = chunk;
	o.step_tokens = 64;
	e = ex_engine_create(&o, err, sizeof(err));
	if (e == NULL)
		fprintf(stderr, "\nexecutor test: cannot open the test model (%s): %s\n",
			EX_TEST_MODEL, err);
	return e;
}

/* A raw-prompt request; msg must outlive the submit call only. */
static struct ex_request prompt_req(uint64_t id, struct ex_msg *msg, const char *text,
				    uint32_t max_tokens, float temp, uint64_t seed)
{
	*msg = (struct ex_msg){.role = TS_EXEC_ROLE_PROMPT, .text = text,
			       .len = (uint32_t)strlen(text)};
	return (struct ex_request){.req_id = id, .flags = TS_EXEC_F_STREAM,
				   .max_tokens = max_tokens,
				   .par = {.temperature = temp, .top_p = 0.9f, .seed = seed},
				   .msgs = msg, .n_msgs = 1};
}

static void run_until_idle(struct ex_engine *e, int max_steps)
{
	for (int i = 0; i < max_steps && !ex_engine_idle(e); i++)
		CU_ASSERT(ex_engine_step(e) >= 0);
	CU_ASSERT(ex_engine_idle(e));
}

/* One request alone in its own engine: the text it produces. */
static void alone(const char *prompt, uint32_t n, float temp, uint64_t seed, struct got *out)
{
	static struct capture c;
	struct ex_engine *e = engine(1, 0, 256, 16);
	struct ex_request r;
	struct ex_msg m;

	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	memset(&c, 0, sizeof(c));
	c.g[0].req_id = 1;
	ex_engine_set_sink(e, sink, &c);
	r = prompt_req(1, &m, prompt, n, temp, seed);
	CU_ASSERT_EQUAL(ex_engine_submit(e, &r, ex_now_ns()), 0);
	run_until_idle(e, 1000);
	*out = c.g[0];
	ex_engine_destroy(e);
}

/*
 * Independent greedy run on the model API: argmax token ids and the log-
 * softmax (double) of each chosen token, n new tokens after prompt.
 */
static uint32_t independent_greedy(const char *prompt, uint32_t n, double *lp)
{
	char err[256];
	struct gguf_file *g = gguf_open(EX_TEST_MODEL, err, sizeof(err));
	struct mdl_model *m = g != NULL ? mdl_load(g, err, sizeof(err)) : NULL;
	struct tok *t = g != NULL ? tok_from_gguf(g, err, sizeof(err)) : NULL;
	struct mdl_kv_pool *kv = m != NULL ? mdl_kv_create(m, 1, 256, err, sizeof(err)) : NULL;
	struct mdl_ctx *c = kv != NULL ? mdl_ctx_create(m, kv, 64, 1, NULL, err, sizeof(err)) : NULL;
	int32_t ids[256];
	float *lg = NULL;
	uint32_t got = 0, nv;
	int64_t np;
	struct mdl_seq q;

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	nv = mdl_hparams(m)->n_vocab;
	lg = malloc(nv * sizeof(float));
	CU_ASSERT_PTR_NOT_NULL_FATAL(lg);
	np = tok_encode(t, prompt, strlen(prompt), TOK_ENC_ADD_SPECIAL, ids, 64);
	CU_ASSERT_FATAL(np > 0);
	q = (struct mdl_seq){.slot = (uint32_t)mdl_kv_acquire(kv), .pos = 0, .tokens = ids,
			     .n_tokens = (uint32_t)np, .logits = lg};
	while (got < n && mdl_forward(c, kv, &q, 1) == 0) {
		double mx = lg[0], z = 0.0;
		int32_t best = 0;

		for (uint32_t i = 1; i < nv; i++)
			if (lg[i] > lg[best])
				best = (int32_t)i;
		mx = lg[best];
		for (uint32_t i = 0; i < nv; i++)
			z += exp((double)lg[i] - mx);
		lp[got++] = (double)lg[best] - mx - log(z);
		if (best == tok_bos(t) || tok_is_eog(t, best))
			break; /* the engine counts the stop token too */
		ids[np] = best;
		q.pos = (uint32_t)np;
		q.tokens = &ids[np++];
		q.n_tokens = 1;
	}
	free(lg);
	mdl_ctx_destroy(c);
	mdl_kv_destroy(kv);
	tok_free(t);
	mdl_free(m);
	gguf_close(g);
	return got;
}

/*
 * Per-token logprobs through the engine: one per completion token, in order,
 * each equal to an independent log-softmax of the model's logits for the
 * greedy choice, and averaging to FINAL's mean_logprob. Stream and non-stream
 * (one big delta at the end) carry the same values.
 */
static void test_engine_logprobs(void)
{
	static struct got g;
	static double ref[256];
	uint32_t n_ref = independent_greedy("Once upon a time", 60, ref);
	static struct capture c;
	struct ex_engine *e;
	struct ex_request r;
	struct ex_msg m;
	double sum = 0.0;

	alone("Once upon a time", 60, 0.0f, 0, &g);
	CU_ASSERT_TRUE(g.done);
	CU_ASSERT_FALSE(g.lp_gap);
	CU_ASSERT_EQUAL(n_ref, 60);
	CU_ASSERT_EQUAL(g.n_lp, g.fin.completion_tokens);
	CU_ASSERT_EQUAL(g.n_lp, n_ref);
	for (uint32_t i = 0; i < g.n_lp && i < n_ref; i++) {
		CU_ASSERT(g.lp[i] <= 0.0f);
		CU_ASSERT_DOUBLE_EQUAL(g.lp[i], ref[i], 1e-4);
		sum += g.lp[i];
	}
	CU_ASSERT(g.n_lp > 0);
	CU_ASSERT_DOUBLE_EQUAL(sum / g.n_lp, g.fin.mean_logprob, 1e-5);

	/* A longer, non-stream run from the BOS-only prompt, sampled at T = 1. */
	e = engine(1, 0, 512, 16);
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	memset(&c, 0, sizeof(c));
	c.g[0].req_id = 2;
	ex_engine_set_sink(e, sink, &c);
	r = prompt_req(2, &m, "", 300, 1.0f, 7);
	r.flags = 0; /* non-stream: values wait for the final deltas */
	CU_ASSERT_EQUAL(ex_engine_submit(e, &r, ex_now_ns()), 0);
	run_until_idle(e, 2000);
	ex_engine_destroy(e);
	CU_ASSERT_TRUE(c.g[0].done);
	CU_ASSERT_FALSE(c.g[0].lp_gap);
	CU_ASSERT(c.g[0].fin.finish == TS_EXEC_FINISH_STOP ||
		  c.g[0].fin.finish == TS_EXEC_FINISH_LENGTH);
	CU_ASSERT(c.g[0].fin.completion_tokens > 60); /* a backlog sent at the end */
	CU_ASSERT_EQUAL(c.g[0].n_lp, c.g[0].fin.completion_tokens);
	sum = 0.0;
	for (uint32_t i = 0; i < c.g[0].n_lp && i < 1024; i++)
		sum += c.g[0].lp[i];
	CU_ASSERT(c.g[0].n_lp > 0);
	CU_ASSERT_DOUBLE_EQUAL(sum / c.g[0].n_lp, c.g[0].fin.mean_logprob, 1e-5);
}

/* The reference: llama2.c's greedy 64 steps (5 prompt tokens + 60 new). */
static void test_engine_golden(void)
{
	static struct got g;
	static char ref[4096];
	FILE *f = fopen(EX_TEST_REF, "rb");
	size_t n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	n = fread(ref, 1, sizeof(ref) - 1, f);
	fclose(f);
	alone("Once upon a time", 60, 0.0f, 0, &g);
	CU_ASSERT_TRUE(g.done);
	CU_ASSERT_EQUAL(g.fin.prompt_tokens, 5);
	CU_ASSERT_EQUAL(g.fin.completion_tokens, 60);
	CU_ASSERT_EQUAL(g.fin.finish, TS_EXEC_FINISH_LENGTH);
	CU_ASSERT(g.fin.mean_logprob < 0.0f && g.fin.mean_logprob > -5.0f);
	/* The reference is prompt + text + "\n". */
	CU_ASSERT_EQUAL(16 + g.len + 1, n);
	CU_ASSERT_EQUAL(memcmp(ref + 16, g.text, g.len), 0);
}

/*
 * Two greedy and one seeded sequence batched together give what each gives
 * alone; the second and third join while the first is decoding.
 */
static void test_engine_batch_equals_alone(void)
{
	static struct got a1, b1, s1;
	static struct capture c;
	struct ex_engine *e = engine(3, 0, 256, 3);
	struct ex_request r;
	struct ex_msg ma, mb, ms;

	alone("Once upon a time", 50, 0.0f, 0, &a1);
	alone("Lily and Tom went to the", 40, 0.0f, 0, &b1);
	alone("The dog", 45, 0.9f, 1234, &s1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	memset(&c, 0, sizeof(c));
	c.g[0].req_id = 10;
	c.g[1].req_id = 11;
	c.g[2].req_id = 12;
	ex_engine_set_sink(e, sink, &c);
	r = prompt_req(10, &ma, "Once upon a time", 50, 0.0f, 0);
	CU_ASSERT_EQUAL(ex_engine_submit(e, &r, ex_now_ns()), 0);
	for (int i = 0; i < 8; i++)
		CU_ASSERT(ex_engine_step(e) > 0);
	/* The first is decoding now; the others join (prefill in chunks of 3). */
	CU_ASSERT(c.g[0].len > 0);
	r = prompt_req(11, &mb, "Lily and Tom went to the", 40, 0.0f, 0);
	CU_ASSERT_EQUAL(ex_engine_submit(e, &r, ex_now_ns()), 0);
	CU_ASSERT(ex_engine_step(e) > 0);
	r = prompt_req(12, &ms, "The dog", 45, 0.9f, 1234);
	CU_ASSERT_EQUAL(ex_engine_submit(e, &r, ex_now_ns()), 0);
	run_until_idle(e, 1000);
	CU_ASSERT_EQUAL(c.g[0].len, a1.len);
	CU_ASSERT_EQUAL(memcmp(c.g[0].text, a1.text, a1.len), 0);
	CU_ASSERT_EQUAL(c.g[1].len, b1.len);
	CU_ASSERT_EQUAL(memcmp(c.g[1].text, b1.text, b1.len), 0);
	CU_ASSERT_EQUAL(c.g[2].len, s1.len);
	CU_ASSERT_EQUAL(memcmp(c.g[2].text, s1.text, s1.len), 0);
	CU_ASSERT_EQUAL(c.g[1].fin.completion_tokens, b1.fin.completion_tokens);
	CU_ASSERT_DOUBLE_EQUAL(c.g[1].fin.mean_logprob, b1.fin.mean_logprob, 1e-4);
	/* Batching happened: fewer steps than tokens. */
	CU_ASSERT(ex_engine_stats(e)->steps <
		  ex_engine_stats(e)->decode_tokens + ex_engine_stats(e)->prefill_tokens);
	ex_engine_destroy(e);
}

/* Queue full, prompt too long, bad parameters. */
static void test_engine_limits(void)
{
	static struct capture c;
	struct ex_engine *e = engine(1, 1, 16, 16);
	struct ex_request r;
	struct ex_msg m;

	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	ex_engine_set_sink(e, sink, &c);
	memset(&c, 0, sizeof(c));
	c.g[0].req_id = 1;
	c.g[1].req_id = 2;
	/* 16 tokens of context: this prompt is longer. */
	r = prompt_req(9, &m, "Once upon a time there was a little girl named Lily who liked", 4,
		       0.0f, 0);
	CU_ASSERT_EQUAL(ex_engine_submit(e, &r, ex_now_ns()), -E2BIG);
	r = prompt_req(1, &m, "Once upon a time", 4, 0.0f, 0);
	CU_ASSERT_EQUAL(ex_engine_submit(e, &r, ex_now_ns()), 0);
	r = prompt_req(2, &m, "Lily", 4, 0.0f, 0);
	CU_ASSERT_EQUAL(ex_engine_submit(e, &r, ex_now_ns()), 0);
	/* A live id again: refused before the queue-full check. */
	CU_ASSERT_EQUAL(ex_engine_submit(e, &r, ex_now_ns()), -EINVAL);
	/* One slot + one queue entry taken: the third is refused. */
	r = prompt_req(3, &m, "Tom", 4, 0.0f, 0);
	CU_ASSERT_EQUAL(ex_engine_submit(e, &r, ex_now_ns()), -EBUSY);
	r = prompt_req(4, &m, "Tom", 4, 0.0f, 0);
	r.par.top_p = 0.0f;
	CU_ASSERT_EQUAL(ex_engine_submit(e, &r, ex_now_ns()), -EINVAL);
	run_until_idle(e, 200);
	CU_ASSERT_TRUE(c.g[0].done && c.g[1].done);
	CU_ASSERT_EQUAL(c.g[0].fin.completion_tokens, 4);
	/* The context caps a long generation: "Lily" = 2 tokens, 14 more at most. */
	memset(&c, 0, sizeof(c));
	c.g[0].req_id = 5;
	r = prompt_req(5, &m, "Lily", 0, 0.0f, 0);
	CU_ASSERT_EQUAL(ex_engine_submit(e, &r, ex_now_ns()), 0);
	run_until_idle(e, 200);
	CU_ASSERT_TRUE(c.g[0].fin.finish == TS_EXEC_FINISH_LENGTH ||
		       c.g[0].fin.completion_tokens < 14);
	CU_ASSERT(c.g[0].fin.completion_tokens <= 14);
	ex_engine_destroy(e);
}

/* Stop sequences end the text right before the stop; cancel ends it at once. */
static void test_engine_stop_cancel(void)
{
	static struct capture c;
	static struct got a;
	struct ex_engine *e = engine(2, 0, 256, 16);
	struct ex_request r;
	struct ex_msg m;
	const char *lily;

	alone("Once upon a time", 60, 0.0f, 0, &a);
	lily = strstr(a.text, " Lily");
	CU_ASSERT_PTR_NOT_NULL_FATAL(lily);
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	memset(&c, 0, sizeof(c));
	c.g[0].req_id = 1;
	c.g[1].req_id = 2;
	ex_engine_set_sink(e, sink, &c);
	r = prompt_req(1, &m, "Once upon a time", 60, 0.0f, 0);
	/* " Lil" spans the token boundary of " L" "ily" or "▁Lily" alike. */
	r.stops.n = 2;
	r.stops.len[0] = 4;
	memcpy(r.stops.s[0], " Lil", 4);
	r.stops.len[1] = 3;
	memcpy(r.stops.s[1], "zzz", 3);
	CU_ASSERT_EQUAL(ex_engine_submit(e, &r, ex_now_ns()), 0);
	r = prompt_req(2, &m, "Once upon a time", 60, 0.0f, 0);
	CU_ASSERT_EQUAL(ex_engine_submit(e, &r, ex_now_ns()), 0);
	for (int i = 0; i < 6; i++)
		CU_ASSERT(ex_engine_step(e) >= 0);
	CU_ASSERT_EQUAL(ex_engine_cancel(e, 0, 2), 0);
	CU_ASSERT_EQUAL(ex_engine_cancel(e, 0, 77), -ENOENT);
	run_until_idle(e, 200);
	CU_ASSERT_EQUAL(c.g[0].fin.finish, TS_EXEC_FINISH_STOP);
	CU_ASSERT_EQUAL(c.g[0].len, (uint32_t)(lily - a.text));
	CU_ASSERT_EQUAL(memcmp(c.g[0].text, a.text, c.g[0].len), 0);
	CU_ASSERT_EQUAL(c.g[1].fin.finish, TS_EXEC_FINISH_CANCELLED);
	CU_ASSERT(c.g[1].fin.completion_tokens < 10);
	CU_ASSERT_EQUAL(ex_engine_stats(e)->cancelled, 1);
	ex_engine_destroy(e);
}

/* A sink that refuses every third record: everything still arrives, in order. */
static void test_engine_held_output(void)
{
	static struct capture c;
	static struct got a;
	struct ex_engine *e = engine(1, 0, 256, 16);
	struct ex_request r;
	struct ex_msg m;

	alone("Once upon a time", 60, 0.0f, 0, &a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	memset(&c, 0, sizeof(c));
	c.g[0].req_id = 1;
	c.refuse_every = 3;
	ex_engine_set_sink(e, sink, &c);
	r = prompt_req(1, &m, "Once upon a time", 60, 0.0f, 0);
	CU_ASSERT_EQUAL(ex_engine_submit(e, &r, ex_now_ns()), 0);
	run_until_idle(e, 1000);
	CU_ASSERT(c.refused > 5);
	CU_ASSERT_EQUAL(ex_engine_stats(e)->ring_full, c.refused);
	CU_ASSERT_EQUAL(c.g[0].len, a.len);
	CU_ASSERT_EQUAL(memcmp(c.g[0].text, a.text, a.len), 0);
	CU_ASSERT_TRUE(c.g[0].done);
	ex_engine_destroy(e);
}

/* Push a request record into a request ring (what a dataplane worker does). */
static int push_req(struct ex_ring *r, uint64_t id, uint16_t worker, uint16_t flags,
		    const struct ex_msg *msgs, uint16_t n, uint32_t max_tokens)
{
	uint8_t buf[2048];
	struct ts_exec_req h = {.req_id = id, .worker = worker, .flags = flags, .n_parts = n,
				.temperature = 0.0f, .top_p = 1.0f, .max_tokens = max_tokens};
	uint32_t off = sizeof(h);

	memcpy(buf, &h, sizeof(h));
	for (uint16_t i = 0; i < n; i++) {
		struct ts_exec_part p = {.role = msgs[i].role, .len = msgs[i].len};

		memcpy(buf + off, &p, sizeof(p));
		off += sizeof(p);
	}
	for (uint16_t i = 0; i < n; i++) {
		memcpy(buf + off, msgs[i].text, msgs[i].len);
		off += msgs[i].len;
	}
	return ex_ring_push(r, TS_EXEC_REC_REQUEST, buf, off, NULL, 0);
}

/*
 * The ring path in one process: two workers, a small response ring (so the
 * engine must hold output), a bad record, a chat request.
 */
static void test_engine_rings(void)
{
	static struct got a, got[2][3];
	struct ex_engine *e = engine(2, 1, 256, 8);
	struct ex_seg seg;
	struct ex_ring wreq[2], wresp[2];
	struct ex_msg m = {.role = TS_EXEC_ROLE_PROMPT, .text = "Once upon a time", .len = 16};
	struct ex_msg chat = {.role = TS_EXEC_ROLE_USER, .text = "Hello", .len = 5};
	char err[256];
	uint32_t finals = 0, errors = 0;

	alone("Once upon a time", 60, 0.0f, 0, &a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	CU_ASSERT_EQUAL_FATAL(ex_seg_create(&seg, NULL, 2, 4096, 1024, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(ex_engine_attach_seg(e, &seg), 0);
	for (uint32_t w = 0; w < 2; w++) {
		ex_seg_req_ring(&seg, w, &wreq[w]);
		ex_seg_resp_ring(&seg, w, &wresp[w]);
	}
	memset(got, 0, sizeof(got));
	CU_ASSERT_EQUAL(push_req(&wreq[0], 100, 0, TS_EXEC_F_STREAM, &m, 1, 60), 0);
	CU_ASSERT_EQUAL(push_req(&wreq[1], 200, 1, TS_EXEC_F_CHAT, &chat, 1, 30), 0);
	/* Wrong worker field: refused as a bad request on the ring it came from. */
	CU_ASSERT_EQUAL(push_req(&wreq[1], 201, 0, 0, &m, 1, 5), 0);
	for (int step = 0; step < 2000 && finals + errors < 3; step++) {
		CU_ASSERT(ex_engine_step(e) >= 0);
		/* Workers read every 40th step only: the 1 KiB response rings fill up. */
		for (uint32_t w = 0; w < 2 && step % 40 == 0; w++) {
			const void *p;
			uint32_t len;
			uint16_t type;

			while (ex_ring_peek(&wresp[w], &type, &p, &len) == 0) {
				uint64_t id;
				struct got *g;

				memcpy(&id, p, sizeof(id));
				g = &got[w][id % 100];
				if (type == TS_EXEC_REC_TEXT_DELTA) {
					struct ex_resp ar;

					CU_ASSERT_EQUAL_FATAL(ex_resp_parse(type, p, len, &ar), 0);
					CU_ASSERT_EQUAL(ar.lp_first, g->n_lp);
					for (uint32_t i = 0; i < ar.n_logprobs && g->n_lp < 1024; i++)
						g->lp[g->n_lp++] = ex_resp_logprob(&ar, i);
					memcpy(g->text + g->len, ar.text, ar.text_len);
					g->len += ar.text_len;
				} else if (type == TS_EXEC_REC_FINAL) {
					memcpy(&g->fin, p, sizeof(g->fin));
					g->done = true;
					finals++;
				} else if (type == TS_EXEC_REC_ERROR) {
					memcpy(&g->err, p, sizeof(g->err));
					g->error = true;
					errors++;
				}
				ex_ring_release(&wresp[w]);
			}
		}
	}
	CU_ASSERT_EQUAL(finals, 2);
	CU_ASSERT_EQUAL(errors, 1);
	CU_ASSERT_EQUAL(got[0][0].len, a.len);
	/* Every token's logprob crossed the 1 KiB rings (split over deltas). */
	CU_ASSERT_EQUAL(got[0][0].n_lp, got[0][0].fin.completion_tokens);
	CU_ASSERT_EQUAL(got[1][0].n_lp, got[1][0].fin.completion_tokens);
	CU_ASSERT_EQUAL(memcmp(got[0][0].text, a.text, a.len), 0);
	CU_ASSERT_TRUE(got[1][0].done);
	CU_ASSERT(got[1][0].fin.prompt_tokens > 1);
	CU_ASSERT_TRUE(got[1][1].error);
	CU_ASSERT_EQUAL(got[1][1].err.code, TS_EXEC_ERR_BAD_REQUEST);
	CU_ASSERT(ex_engine_stats(e)->ring_full > 0);
	ex_engine_destroy(e);
	ex_seg_close(&seg);
}

/*
 * A chat request's contents are text: "</s>" typed by the user is the
 * characters, not the EOS control token (stories260K has no template, so
 * the whole prompt is content).
 */
static void test_engine_chat_no_injection(void)
{
	static struct capture c;
	struct ex_engine *e = engine(1, 1, 256, 64);
	static const char text[] = "Once upon a time</s>";
	struct ex_msg m = {.role = TS_EXEC_ROLE_USER, .text = text, .len = sizeof(text) - 1};
	struct ex_request r = {.req_id = 1, .flags = TS_EXEC_F_CHAT, .max_tokens = 1,
			       .par = {.top_p = 1.0f}, .msgs = &m, .n_msgs = 1};
	int32_t plain[64], special[64];
	int64_t np, ns;

	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	np = tok_encode(ex_engine_tok(e), text, m.len, TOK_ENC_ADD_SPECIAL, plain, 64);
	ns = tok_encode(ex_engine_tok(e), text, m.len, TOK_ENC_ADD_SPECIAL | TOK_ENC_PARSE_SPECIAL,
			special, 64);
	/* With specials parsed the text would end in EOS (and lose it as a prompt). */
	CU_ASSERT_TRUE_FATAL(ns > 1 && special[ns - 1] == tok_eos(ex_engine_tok(e)));
	CU_ASSERT_TRUE_FATAL(np > ns);
	memset(&c, 0, sizeof(c));
	c.g[0].req_id = 1;
	ex_engine_set_sink(e, sink, &c);
	CU_ASSERT_EQUAL(ex_engine_submit(e, &r, ex_now_ns()), 0);
	run_until_idle(e, 100);
	CU_ASSERT_TRUE(c.g[0].done);
	CU_ASSERT_EQUAL(c.g[0].fin.prompt_tokens, (uint32_t)np);
	ex_engine_destroy(e);
}

/* Independent check: well-formed UTF-8 (Unicode Table 3-7). */
static bool utf8_ok(const unsigned char *s, uint32_t n)
{
	uint32_t i = 0;

	while (i < n) {
		uint32_t cp, k;

		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if (s[i] >= 0xC2 && s[i] <= 0xDF)
			k = 1, cp = s[i] & 0x1F;
		else if (s[i] >= 0xE0 && s[i] <= 0xEF)
			k = 2, cp = s[i] & 0x0F;
		else if (s[i] >= 0xF0 && s[i] <= 0xF4)
			k = 3, cp = s[i] & 0x07;
		else
			return false;
		if (n - i - 1 < k)
			return false;
		for (uint32_t j = 1; j <= k; j++) {
			if ((s[i + j] & 0xC0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + j] & 0x3F);
		}
		if ((k == 2 && cp < 0x800) || (k == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
		    (cp >= 0xD800 && cp <= 0xDFFF))
			return false;
		i += k + 1;
	}
	return true;
}

/*
 * At temperature 100 stories260K samples nearly uniformly over its 512
 * tokens, half of them byte tokens: lone continuation bytes, lead bytes cut
 * off by the length limit. Every delivered text is still well-formed, with
 * U+FFFD in place of the broken pieces; stream and non-stream alike.
 */
static void test_engine_utf8(void)
{
	static struct capture c;
	struct ex_engine *e = engine(8, 0, 64, 16);
	uint32_t fffd = 0, texts = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	ex_engine_set_sink(e, sink, &c);
	for (uint32_t round = 0; round < 6; round++) {
		struct ex_msg m[MAXREQ];
		struct ex_request r;

		memset(&c, 0, sizeof(c));
		for (uint32_t i = 0; i < MAXREQ; i++) {
			c.g[i].req_id = i + 1;
			r = prompt_req(i + 1, &m[i], "Once", 1 + i % 4, 100.0f, round * 100 + i);
			r.par.top_p = 1.0f;
			r.flags = i % 2 ? TS_EXEC_F_STREAM : 0;
			CU_ASSERT_EQUAL(ex_engine_submit(e, &r, ex_now_ns()), 0);
		}
		run_until_idle(e, 100);
		for (uint32_t i = 0; i < MAXREQ; i++) {
			CU_ASSERT_TRUE(c.g[i].done);
			CU_ASSERT_TRUE(utf8_ok((const unsigned char *)c.g[i].text, c.g[i].len));
			texts += c.g[i].len > 0;
			fffd += memmem(c.g[i].text, c.g[i].len, "\xEF\xBF\xBD", 3) != NULL;
		}
	}
	CU_ASSERT(texts > 40);
	CU_ASSERT(fffd > 5); /* the replacement path ran, many times */
	ex_engine_destroy(e);
}

/*
 * A worker that stops reading its response ring: after stall_timeout_ns the
 * sequence is dropped (no FINAL), its slot and entry come back, `stalled`
 * counts it, and the next request on the same ring is served.
 */
static void test_engine_stall(void)
{
	struct ex_engine_opts o;
	struct ex_engine *e;
	struct ex_seg seg;
	struct ex_ring wreq, wresp;
	struct ex_msg m = {.role = TS_EXEC_ROLE_PROMPT, .text = "Once upon a time", .len = 16};
	char err[512];
	uint64_t t0;
	uint32_t finals = 0, deltas = 0;
	struct ts_exec_final fin = {0};
	const void *p;
	uint32_t len;
	uint16_t type;

	ex_engine_opts_default(&o);
	o.model_path = EX_TEST_MODEL;
	o.max_batch = 1;
	o.queue_len = 0;
	o.max_ctx = 256;
	o.step_tokens = 64;
	o.stall_timeout_ns = 20 * 1000 * 1000;
	e = ex_engine_create(&o, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	CU_ASSERT_EQUAL_FATAL(ex_seg_create(&seg, NULL, 1, 4096, 1024, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(ex_engine_attach_seg(e, &seg), 0);
	ex_seg_req_ring(&seg, 0, &wreq);
	ex_seg_resp_ring(&seg, 0, &wresp);
	CU_ASSERT_EQUAL(push_req(&wreq, 1, 0, TS_EXEC_F_STREAM, &m, 1, 200), 0);
	/* Nobody reads: the 1 KiB ring fills within a few dozen tokens. */
	t0 = ex_now_ns();
	while (ex_engine_stats(e)->stalled == 0 && ex_now_ns() - t0 < 2000000000ull)
		if (ex_engine_step(e) == 0)
			usleep(1000);
	CU_ASSERT_EQUAL_FATAL(ex_engine_stats(e)->stalled, 1);
	CU_ASSERT_TRUE(ex_engine_idle(e));
	CU_ASSERT(ex_engine_stats(e)->ring_full > 0);
	/* The worker is back: request 1's deltas, no FINAL (it was dropped). */
	while (ex_ring_peek(&wresp, &type, &p, &len) == 0) {
		deltas += type == TS_EXEC_REC_TEXT_DELTA;
		finals += type == TS_EXEC_REC_FINAL;
		ex_ring_release(&wresp);
	}
	CU_ASSERT(deltas > 0);
	CU_ASSERT_EQUAL(finals, 0);
	/* The only slot is free again: request 2 runs to its FINAL. */
	CU_ASSERT_EQUAL(push_req(&wreq, 2, 0, TS_EXEC_F_STREAM, &m, 1, 5), 0);
	for (int step = 0; step < 200 && finals == 0; step++) {
		CU_ASSERT(ex_engine_step(e) >= 0);
		while (ex_ring_peek(&wresp, &type, &p, &len) == 0) {
			if (type == TS_EXEC_REC_FINAL) {
				memcpy(&fin, p, sizeof(fin));
				finals++;
			}
			CU_ASSERT(type != TS_EXEC_REC_ERROR);
			ex_ring_release(&wresp);
		}
	}
	CU_ASSERT_EQUAL(finals, 1);
	CU_ASSERT_EQUAL(fin.req_id, 2);
	CU_ASSERT_EQUAL(fin.finish, TS_EXEC_FINISH_LENGTH);
	CU_ASSERT_EQUAL(ex_engine_stats(e)->stalled, 1);
	/* Outcomes partition the accepted requests: 1 stalled + 1 length. */
	CU_ASSERT_EQUAL(ex_engine_stats(e)->accepted, 2);
	CU_ASSERT_EQUAL(ex_engine_stats(e)->finish_length, 1);
	CU_ASSERT_EQUAL(ex_engine_stats(e)->finished, 1);
	ex_engine_destroy(e);
	ex_seg_close(&seg);
}

/* Each outcome has its counter, readable by field and by export name. */
static void test_engine_counters(void)
{
	static struct capture c;
	struct ex_engine *e = engine(1, 2, 16, 16);
	const struct ex_stats *st;
	struct ex_request r;
	struct ex_msg m;
	uint32_t n = 0;
	uint64_t v;

	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	st = ex_engine_stats(e);
	memset(&c, 0, sizeof(c));
	for (uint32_t i = 0; i < 4; i++)
		c.g[i].req_id = i + 1;
	ex_engine_set_sink(e, sink, &c);
	r = prompt_req(9, &m, "Once upon a time there was a little girl named Lily who liked", 4,
		       0.0f, 0);
	CU_ASSERT_EQUAL(ex_engine_submit(e, &r, ex_now_ns()), -E2BIG);
	r = prompt_req(8, &m, "Tom", 4, 0.0f, 0);
	r.par.temperature = -1.0f;
	CU_ASSERT_EQUAL(ex_engine_submit(e, &r, ex_now_ns()), -EINVAL);
	r = prompt_req(1, &m, "Once upon a time", 2, 0.0f, 0); /* length */
	CU_ASSERT_EQUAL(ex_engine_submit(e, &r, ex_now_ns()), 0);
	r = prompt_req(2, &m, "Once upon a time", 8, 0.0f, 0); /* stops at the first space */
	r.stops.n = 1;
	r.stops.len[0] = 1;
	r.stops.s[0][0] = ' ';
	CU_ASSERT_EQUAL(ex_engine_submit(e, &r, ex_now_ns()), 0);
	r = prompt_req(3, &m, "Lily", 4, 0.0f, 0); /* cancelled while queued */
	CU_ASSERT_EQUAL(ex_engine_submit(e, &r, ex_now_ns()), 0);
	r = prompt_req(4, &m, "Tom", 4, 0.0f, 0);
	CU_ASSERT_EQUAL(ex_engine_submit(e, &r, ex_now_ns()), -EBUSY);
	CU_ASSERT_EQUAL(ex_engine_cancel(e, 0, 3), 0);
	run_until_idle(e, 200);
	CU_ASSERT_EQUAL(c.g[0].fin.finish, TS_EXEC_FINISH_LENGTH);
	CU_ASSERT_EQUAL(c.g[1].fin.finish, TS_EXEC_FINISH_STOP);
	CU_ASSERT_EQUAL(c.g[2].fin.finish, TS_EXEC_FINISH_CANCELLED);
	CU_ASSERT_EQUAL(st->accepted, 3);
	CU_ASSERT_EQUAL(st->refused_long, 1);
	CU_ASSERT_EQUAL(st->refused_bad, 1);
	CU_ASSERT_EQUAL(st->refused_full, 1);
	CU_ASSERT_EQUAL(st->refused_internal, 0);
	CU_ASSERT_EQUAL(st->finish_length, 1);
	CU_ASSERT_EQUAL(st->finish_stop, 1);
	CU_ASSERT_EQUAL(st->finish_error, 0);
	CU_ASSERT_EQUAL(st->cancelled, 1);
	CU_ASSERT_EQUAL(st->stalled, 0);
	CU_ASSERT_EQUAL(st->finished, 3);
	/* By name: every counter once, the same values. */
	for (const char *name; (name = ex_engine_counter_name(n)) != NULL; n++) {
		CU_ASSERT_TRUE(ex_engine_counter(e, n, &v));
		for (uint32_t j = 0; j < n; j++)
			CU_ASSERT(strcmp(name, ex_engine_counter_name(j)) != 0);
		if (strcmp(name, "refused_full") == 0)
			CU_ASSERT_EQUAL(v, 1);
		if (strcmp(name, "finished") == 0)
			CU_ASSERT_EQUAL(v, 3);
		if (strcmp(name, "steps") == 0)
			CU_ASSERT_EQUAL(v, st->steps);
	}
	CU_ASSERT_EQUAL(n, sizeof(struct ex_stats) / sizeof(uint64_t));
	CU_ASSERT_FALSE(ex_engine_counter(e, n, &v));
	ex_engine_destroy(e);
}

int test_engine_register(void)
{
	CU_pSuite s = CU_add_suite("executor_engine", NULL, NULL);

	if (s == NULL)
		return -1;
	if (!CU_add_test(s, "golden greedy", test_engine_golden) ||
	    !CU_add_test(s, "per-token logprobs", test_engine_logprobs) ||
	    !CU_add_test(s, "batch equals alone, join mid-decode",
			 test_engine_batch_equals_alone) ||
	    !CU_add_test(s, "queue full, too long", test_engine_limits) ||
	    !CU_add_test(s, "stop sequence, cancel", test_engine_stop_cancel) ||
	    !CU_add_test(s, "held output", test_engine_held_output) ||
	    !CU_add_test(s, "rings", test_engine_rings) ||
	    !CU_add_test(s, "chat contents are text", test_engine_chat_no_injection) ||
	    !CU_add_test(s, "well-formed UTF-8 out", test_engine_utf8) ||
	    !CU_add_test(s, "stalled response ring", test_engine_stall) ||
	    !CU_add_test(s, "counters", test_engine_counters))
		return -1;
	return 0;
}
