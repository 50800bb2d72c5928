/* SPDX-License-Identifier: proprietary */
/*
 * Executor types: ring handles, the sampler, stop-sequence state and the
 * engine's options. Prototypes are in ring.h, sampler.h and engine.h.
 */
#ifndef TWOSPEED_EX_EXECUTOR_T_H
#define TWOSPEED_EX_EXECUTOR_T_H

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

#endif /* TWOSPEED_EX_EXECUTOR_T_H */
