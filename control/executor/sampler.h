/* SPDX-License-Identifier: proprietary */
/*
 * Sampler: greedy, temperature, top-k, top-p with a seeded per-sequence PRNG,
 * per-token log-probabilities; and stop-sequence / UTF-8 hold-back scanning of
 * the decoded text. Runs on the executor thread; no allocation.
 */
#ifndef TWOSPEED_EX_SAMPLER_H
#define TWOSPEED_EX_SAMPLER_H

#include "executor-t.h"

int ex_sample_params_check(const struct ex_sample_params *p);
void ex_sampler_init(struct ex_sampler *s, const struct ex_sample_params *p);
uint64_t ex_rng_next(uint64_t *state);
float ex_logprob(const float *logits, uint32_t n, int32_t id);
int32_t ex_argmax(const float *logits, uint32_t n);
int32_t ex_sample(struct ex_sampler *s, const float *logits, uint32_t n, struct ex_cand *scratch,
		  float *logprob);

uint32_t ex_utf8_hold(const char *buf, uint32_t len);
uint32_t ex_utf8_valid_len(const unsigned char *s, uint32_t avail, uint32_t *prefix);
uint32_t ex_utf8_sanitize(const char *in, uint32_t in_len, bool final, char *out,
			  uint32_t out_cap, uint32_t *consumed);
uint32_t ex_stop_scan(const struct ex_stops *st, const char *buf, uint32_t len, bool final,
		      bool *hit);

#endif /* TWOSPEED_EX_SAMPLER_H */
