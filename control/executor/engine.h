/* SPDX-License-Identifier: proprietary */
/*
 * The executor engine: continuous batching of up to max_batch sequences over
 * one model, fed from request rings (or ex_engine_submit), answering through
 * response rings (or a sink). Everything is sized at ex_engine_create(); the
 * step loop does not allocate except inside the tokenizer at admission.
 *
 * Threads: an engine belongs to one thread at a time. Either the caller
 * drives it (ex_engine_submit/cancel/step: tools, tests) or ex_engine_start()
 * runs the step loop on its own pinned thread, and then other processes and
 * threads reach it only through the segment's rings until ex_engine_stop().
 */
#ifndef TWOSPEED_EX_ENGINE_H
#define TWOSPEED_EX_ENGINE_H

#include "executor-t.h"

struct gguf_file;
struct tok;

void ex_engine_opts_default(struct ex_engine_opts *o);
int ex_cpu_list_parse(const char *s, int *cpus, uint32_t cap, uint32_t *n, char *err,
		      size_t errlen);

struct ex_engine *ex_engine_create(const struct ex_engine_opts *o, char *err, size_t errlen);
void ex_engine_destroy(struct ex_engine *e);
const struct tok *ex_engine_tok(const struct ex_engine *e);
uint32_t ex_engine_max_ctx(const struct ex_engine *e);

void ex_engine_set_sink(struct ex_engine *e, ex_sink_fn *fn, void *ctx);
int ex_engine_attach_seg(struct ex_engine *e, const struct ex_seg *seg);

int ex_engine_submit(struct ex_engine *e, const struct ex_request *req, uint64_t now_ns);
int ex_engine_cancel(struct ex_engine *e, uint16_t worker, uint64_t req_id);
int ex_engine_step(struct ex_engine *e);
bool ex_engine_idle(const struct ex_engine *e);
const struct ex_stats *ex_engine_stats(const struct ex_engine *e);
const char *ex_engine_counter_name(uint32_t i);
bool ex_engine_counter(const struct ex_engine *e, uint32_t i, uint64_t *val);

int ex_engine_pin_caller(struct ex_engine *e);
int ex_engine_start(struct ex_engine *e);
void ex_engine_stop(struct ex_engine *e);


uint64_t ex_now_ns(void);

#endif /* TWOSPEED_EX_ENGINE_H */
