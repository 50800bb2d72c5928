/* SPDX-License-Identifier: proprietary */
/* [executor] section of the appliance config (see conf.h). */
#include <errno.h>
#include <stdio.h>

#include "conf.h"
#include "engine.h"

#define F(field) TSCONF_FIELD(struct ex_conf, field)

const struct tsconf_key ex_conf_keys[] = {
	{"executor", "model", TSCONF_STRING, F(model), "", NULL, NULL,
	 "GGUF model file of the local executor (empty: no local model)"},
	{"executor", "cores", TSCONF_STRING, F(cores), "", NULL, NULL,
	 "cores, e.g. 2-3: the first runs the engine loop, the others matmul workers"},
	{"executor", "shm_name", TSCONF_STRING, F(shm_name), "/twospeed-exec", NULL, NULL,
	 "POSIX shared-memory name of the executor rings"},
	{"executor", "max_batch", TSCONF_U64, F(max_batch), "8", "1", "256",
	 "sequences decoded together (KV-cache slots)"},
	{"executor", "max_ctx", TSCONF_U64, F(max_ctx), "2048", "16", "1048576",
	 "tokens per sequence, prompt and completion"},
	{"executor", "queue_len", TSCONF_U64, F(queue_len), "64", "0", "65536",
	 "requests that may wait for a free slot; more are refused (queue full)"},
	{"executor", "prefill_chunk", TSCONF_U64, F(prefill_chunk), "256", "1", "65536",
	 "prompt tokens one sequence feeds per step"},
	{"executor", "step_tokens", TSCONF_U64, F(step_tokens), "512", "1", "1048576",
	 "tokens per forward step over the whole batch (>= max_batch)"},
	{"executor", "stall_timeout", TSCONF_DURATION, F(stall_timeout), "5s", "1ms", "3600s",
	 "a sequence whose response ring stays full this long is dropped and its slot freed"},
	{"executor", "req_ring_bytes", TSCONF_SIZE, F(req_ring_bytes), "256K", "1K", "1G",
	 "bytes of each worker's request ring (power of two)"},
	{"executor", "resp_ring_bytes", TSCONF_SIZE, F(resp_ring_bytes), "256K", "1K", "1G",
	 "bytes of each worker's response ring (power of two)"},
};

const size_t ex_conf_nkeys = sizeof(ex_conf_keys) / sizeof(ex_conf_keys[0]);

/*
 * Engine options from a loaded section: checks what the table cannot (core
 * list, powers of two, step_tokens >= max_batch). o->model_path borrows
 * c->model. Returns 0 or -EINVAL with "executor.key: reason" in err.
 */
int ex_conf_to_opts(const struct ex_conf *c, struct ex_engine_opts *o, char *err, size_t errlen)
{
	char sub[160];

	ex_engine_opts_default(o);
	o->model_path = c->model;
	o->max_batch = (uint32_t)c->max_batch;
	o->max_ctx = (uint32_t)c->max_ctx;
	o->queue_len = (uint32_t)c->queue_len;
	o->prefill_chunk = (uint32_t)c->prefill_chunk;
	o->step_tokens = (uint32_t)c->step_tokens;
	o->stall_timeout_ns = c->stall_timeout;
	if (o->step_tokens < o->max_batch) {
		snprintf(err, errlen, "executor.step_tokens: %u is below max_batch %u",
			 o->step_tokens, o->max_batch);
		return -EINVAL;
	}
	if ((c->req_ring_bytes & (c->req_ring_bytes - 1)) != 0 ||
	    (c->resp_ring_bytes & (c->resp_ring_bytes - 1)) != 0) {
		snprintf(err, errlen, "executor.req_ring_bytes/resp_ring_bytes: not a power of two");
		return -EINVAL;
	}
	if (c->cores[0] != '\0' &&
	    ex_cpu_list_parse(c->cores, o->cpus, EX_CPUS_MAX, &o->n_cpus, sub, sizeof(sub)) < 0) {
		snprintf(err, errlen, "executor.cores: %s", sub);
		return -EINVAL;
	}
	return 0;
}
