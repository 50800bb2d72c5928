/* SPDX-License-Identifier: proprietary */
/*
 * Executor rings: process-local handles on the SPSC byte rings of
 * include/twospeed/exec-t.h, and the segment that holds them.
 *
 * A handle keeps its own validated copy of the ring size, so a peer that
 * scribbles over the shared header cannot make this side index out of the
 * data area. Positions read from the peer are checked against the ring size
 * before use; a peer that publishes nonsense gets -EBADMSG, never a crash.
 */
#ifndef TWOSPEED_EX_RING_H
#define TWOSPEED_EX_RING_H

#include <stddef.h>
#include <stdint.h>

#include "executor-t.h"

/* Ring handles (fast path: no allocation, no syscalls). */
void ex_ring_init(struct ex_ring *r, struct ts_exec_ring *shm, uint8_t *data, uint32_t size);
int ex_ring_reserve(struct ex_ring *r, uint16_t type, uint32_t len, void **payload);
void ex_ring_commit(struct ex_ring *r);
int ex_ring_push(struct ex_ring *r, uint16_t type, const void *a, uint32_t alen, const void *b,
		 uint32_t blen);
int ex_ring_peek(struct ex_ring *r, uint16_t *type, const void **payload, uint32_t *len);
void ex_ring_release(struct ex_ring *r);
uint32_t ex_ring_rec_max(const struct ex_ring *r);
uint64_t ex_ring_used(const struct ex_ring *r);

/* Request records (msg_fp.c): workers build them, the executor parses them. */
int ex_req_push(struct ex_ring *r, const struct ex_request *req);
int ex_cancel_push(struct ex_ring *r, uint16_t worker, uint64_t req_id);
int ex_req_parse(const void *payload, uint32_t len, struct ex_request *req, struct ex_msg *msgs,
		 uint32_t msgs_cap);
int ex_resp_parse(uint16_t type, const void *payload, uint32_t len, struct ex_resp *out);
float ex_resp_logprob(const struct ex_resp *r, uint32_t i);
bool ex_seg_exec_alive(const struct ex_seg *seg, uint64_t now_ns, uint64_t max_age_ns);

/* Segments (init path). */
int ex_seg_create(struct ex_seg *seg, const char *name, uint32_t n_workers,
		  uint32_t req_ring_bytes, uint32_t resp_ring_bytes, char *err, size_t errlen);
int ex_seg_attach(struct ex_seg *seg, const char *name, char *err, size_t errlen);
int ex_seg_attach_fd(struct ex_seg *seg, int fd, char *err, size_t errlen);
int ex_seg_validate(const void *base, size_t bytes, char *err, size_t errlen);
void ex_seg_close(struct ex_seg *seg);
int ex_seg_unlink(const char *name);
uint32_t ex_seg_workers(const struct ex_seg *seg);

/* Handles on worker w's rings; the side played follows from the calls used. */
void ex_seg_req_ring(const struct ex_seg *seg, uint32_t w, struct ex_ring *r);
void ex_seg_resp_ring(const struct ex_seg *seg, uint32_t w, struct ex_ring *r);

#endif /* TWOSPEED_EX_RING_H */
