/* SPDX-License-Identifier: proprietary */
/*
 * Executor types: ring handles, the sampler, stop-sequence state and the
 * engine's options. Prototypes are in ring.h, sampler.h and engine.h.
 */
#ifndef TWOSPEED_EX_EXECUTOR_T_H
#define TWOSPEED_EX_EXECUTOR_T_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <twospeed/exec-t.h>

/* One side of one ring. Owned by exactly one thread of one process. */
struct ex_ring {
	struct ts_exec_ring *shm; /* shared header, inside the segment */
	uint8_t *data;            /* shared data area, size bytes */
	uint32_t size;            /* bytes, power of two, validated copy */
	uint64_t head;            /* producer: own head; consumer: last head seen */
	uint64_t tail;            /* consumer: own tail; producer: last tail seen */
	uint32_t pending;         /* bytes reserved (producer) or peeked (consumer) */
};

/* A mapped segment, creator or attacher. */
struct ex_seg {
	struct ts_exec_seg_hdr *hdr; /* mapping base */
	size_t bytes;                /* mapping length */
	int fd;                      /* shm/memfd descriptor, -1 once closed */
	bool creator;
	uint32_t n_workers;          /* validated copies of the header's layout */
	uint32_t req_ring_bytes;
	uint32_t resp_ring_bytes;
	char name[64];               /* shm_open name, "" for memfd */
};

/* Sampling parameters of one sequence (validated by ex_sample_params_check). */
struct ex_sample_params {
	float temperature; /* 0 = greedy (argmax) */
	uint32_t top_k;    /* 0 = off; 1 = greedy */
	float top_p;       /* (0, 1]; 1 = off */
	uint64_t seed;     /* PRNG seed; equal seeds give equal samples */
};

/* Per-sequence sampler state: parameters and a xorshift64* generator. */
struct ex_sampler {
	struct ex_sample_params par;
	uint64_t rng; /* xorshift64* state, never 0 (seeded through splitmix64) */
};

/* Candidate token during top-k/top-p selection (shared scratch, n_vocab long). */
struct ex_cand {
	float v;    /* logit, then probability */
	int32_t id; /* token id */
};

/* A request's stop sequences, copied out of the request record. */
struct ex_stops {
	uint32_t n;                      /* used entries */
	uint32_t len[TS_EXEC_STOP_MAX];  /* bytes, 1..TS_EXEC_STOP_LEN_MAX */
	char s[TS_EXEC_STOP_MAX][TS_EXEC_STOP_LEN_MAX];
};

#define EX_CPUS_MAX 64      /* cores in one executor's list */
#define EX_TXT_MAX 4096     /* bytes of decoded text a sequence may hold unsent */

/* Engine configuration (the [executor] section of the appliance config). */
struct ex_engine_opts {
	const char *model_path;  /* GGUF file */
	uint32_t max_batch;      /* sequences decoded together = KV slots, >= 1 */
	uint32_t max_ctx;        /* tokens per sequence, prompt + completion */
	uint32_t queue_len;      /* requests that may wait for a slot */
	uint32_t prefill_chunk;  /* prompt tokens of one sequence per step */
	uint32_t step_tokens;    /* tokens per forward step over the batch, >= max_batch */
	uint64_t stall_timeout_ns; /* a sequence whose answer the sink refuses this long
				    * (ring never drained) is dropped, > 0 */
	uint32_t n_cpus;         /* entries of cpus; 0 = one unpinned thread */
	int cpus[EX_CPUS_MAX];   /* cpus[0]: engine loop; others: matmul workers */
};

#define EX_CONF_PATH_MAX 256
#define EX_CONF_CORES_MAX 128
#define EX_CONF_SHM_MAX 64

/*
 * The [executor] section of the appliance config (tsconf table in conf.c);
 * ex_conf_to_opts() turns it into engine options.
 */
struct ex_conf {
	char model[EX_CONF_PATH_MAX];  /* GGUF path; "" = no local model */
	char cores[EX_CONF_CORES_MAX]; /* core list, "" = unpinned */
	char shm_name[EX_CONF_SHM_MAX]; /* segment name, "/NAME" */
	uint64_t max_batch;       /* sequences per step */
	uint64_t max_ctx;         /* tokens per sequence */
	uint64_t queue_len;       /* waiting requests */
	uint64_t prefill_chunk;   /* prompt tokens per sequence per step */
	uint64_t step_tokens;     /* tokens per forward step */
	uint64_t req_ring_bytes;  /* bytes per request ring */
	uint64_t resp_ring_bytes; /* bytes per response ring */
	uint64_t stall_timeout;   /* ns a blocked response ring may hold a sequence */
};

/* One message (or the raw prompt) of a request, borrowed. */
struct ex_msg {
	uint32_t role;    /* enum ts_exec_role */
	const char *text; /* UTF-8, not NUL-terminated */
	uint32_t len;     /* bytes */
};

/* A request in engine terms (parsed from a REQUEST record or built by a tool). */
struct ex_request {
	uint64_t req_id;
	uint16_t worker;   /* response ring / sink tag */
	uint16_t flags;    /* TS_EXEC_F_* */
	uint32_t max_tokens; /* new tokens; 0 = up to the context */
	struct ex_sample_params par;
	struct ex_stops stops;
	const struct ex_msg *msgs; /* borrowed for the call */
	uint32_t n_msgs;
};

/* An answer record as a worker sees it after ex_resp_parse(). */
struct ex_resp {
	uint16_t type;         /* TEXT_DELTA, FINAL or ERROR */
	uint64_t req_id;
	const char *text;      /* delta text or error message, inside the ring record */
	uint32_t text_len;     /* bytes */
	uint32_t n_tokens;     /* TEXT_DELTA: completion tokens so far */
	const void *logprobs;  /* TEXT_DELTA: n_logprobs f32 nats inside the record;
				* read them with ex_resp_logprob() */
	uint32_t lp_first;     /* TEXT_DELTA: completion index of the first value */
	uint32_t n_logprobs;   /* TEXT_DELTA */
	struct ts_exec_final fin;  /* FINAL */
	uint32_t err_code;     /* ERROR: enum ts_exec_err */
};

/*
 * Engine counters. Single writer (the engine's thread, relaxed load + store);
 * any thread may read them with relaxed loads, one by one, through
 * ex_engine_stats() or by name with ex_engine_counter(). Every request ends
 * in exactly one of: refused_* (an ERROR record; ex_engine_submit's callers
 * get the code instead), or, once accepted, a delivered FINAL counted under
 * its finish reason (finish_stop, finish_length, finish_error, cancelled),
 * or stalled (dropped before its FINAL went out). So accepted = finish_* +
 * cancelled + stalled + the requests still in flight.
 */
struct ex_stats {
	_Atomic uint64_t accepted;         /* requests admitted */
	_Atomic uint64_t refused_full;     /* refused: queue full (ERR_QUEUE_FULL) */
	_Atomic uint64_t refused_long;     /* refused: prompt too long (ERR_PROMPT_TOO_LONG) */
	_Atomic uint64_t refused_bad;      /* refused: bad request (ERR_BAD_REQUEST) */
	_Atomic uint64_t refused_internal; /* refused: tokenizer/alloc failure (ERR_INTERNAL) */
	_Atomic uint64_t finish_stop;      /* FINAL stop: end-of-generation token or stop sequence */
	_Atomic uint64_t finish_length;    /* FINAL length: max_tokens or the context */
	_Atomic uint64_t finish_error;     /* FINAL error: forward or detokenizer failure */
	_Atomic uint64_t cancelled;        /* FINAL cancelled: the worker sent CANCEL */
	_Atomic uint64_t stalled;          /* dropped: the sink refused for stall_timeout_ns */
	_Atomic uint64_t finished;         /* FINAL records delivered */
	_Atomic uint64_t bad_records;      /* request-ring records of unknown type or size */
	_Atomic uint64_t ring_full;        /* records deferred because the sink refused */
	_Atomic uint64_t ring_corrupt;     /* request rings abandoned after -EBADMSG */
	_Atomic uint64_t steps;            /* forward steps */
	_Atomic uint64_t prefill_tokens;
	_Atomic uint64_t decode_tokens;
	_Atomic uint64_t forward_ns;       /* time inside mdl_forward */
	_Atomic uint64_t pin_failed;       /* the loop thread could not be pinned */
};

/*
 * Where the engine sends answer records: type is TEXT_DELTA, FINAL or ERROR,
 * the payload is hdr then data. Returns 0, or -ENOBUFS to have the engine
 * hold the record and offer it again next step.
 */
typedef int ex_sink_fn(void *ctx, uint16_t worker, uint16_t type, const void *hdr,
		       uint32_t hdr_len, const void *data, uint32_t data_len);

struct ex_engine;

#endif /* TWOSPEED_EX_EXECUTOR_T_H */
