/* SPDX-License-Identifier: proprietary */
/*
 * libFuzzer target of the executor's request surface: what dataplane
 * workers (other processes) write into the request rings. The first input
 * byte picks the mode:
 *   0  a REQUEST payload for ex_req_parse(); a parsed request must describe
 *      the payload exactly (message views inside it, lengths summing to it,
 *      limits kept) and ex_req_push() of it must write the same bytes back
 *      (stop_len entries past n_stop are ignored by the parser, zeroed here);
 *   1  a hostile request ring: 16 bytes of head/tail positions, then the
 *      bytes of a 4 KiB data area; the executor's record walk (ex_ring_peek /
 *      ex_ring_release, REQUEST records through ex_req_parse, CANCEL size
 *      check, as engine.c's poll_ring does) must stop at -EAGAIN or -EBADMSG
 *      without reading outside the data area;
 *   2  an answer record for ex_resp_parse() (the worker's side): type in the
 *      second and third bytes, then the payload.
 * Any violated invariant aborts. Seeds in corpus/ (valid records of each
 * mode, written by mkseeds.py).
 */
#include <errno.h>
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ring.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                         \
	do {                                                                             \
		if (!(c)) {                                                              \
			fprintf(stderr, "fuzz_executor: %s:%d: %s\n", __FILE__, __LINE__, #c); \
			abort();                                                         \
		}                                                                        \
	} while (0)

#define WALK_RING 4096u             /* bytes of the hostile ring's data area */
#define PUSH_RING (1u << 18)        /* bytes of the round-trip ring */
#define REQ_MAX (PUSH_RING / 2 - 8) /* largest payload the round trip can hold */

static struct {
	struct ts_exec_ring hdr;
	alignas(TS_EXEC_ALIGN) uint8_t data[WALK_RING];
} walk_ring;

static struct {
	struct ts_exec_ring hdr;
	alignas(TS_EXEC_ALIGN) uint8_t data[PUSH_RING];
} push_ring;

static struct ex_msg msgs[TS_EXEC_MSGS_MAX];

/* A successful parse, checked against the payload it came from. */
static void check_req(const uint8_t *p, uint32_t len, const struct ex_request *req)
{
	uint64_t sum = sizeof(struct ts_exec_req) +
		       (uint64_t)req->n_msgs * sizeof(struct ts_exec_part);

	CHECK(req->n_msgs >= 1 && req->n_msgs <= TS_EXEC_MSGS_MAX && req->msgs == msgs);
	CHECK(req->stops.n <= TS_EXEC_STOP_MAX);
	CHECK((req->flags & ~(TS_EXEC_F_CHAT | TS_EXEC_F_STREAM)) == 0);
	for (uint32_t i = 0; i < req->stops.n; i++) {
		CHECK(req->stops.len[i] >= 1 && req->stops.len[i] <= TS_EXEC_STOP_LEN_MAX);
		sum += req->stops.len[i];
	}
	for (uint32_t i = 0; i < req->n_msgs; i++) {
		const uint8_t *t = (const uint8_t *)req->msgs[i].text;

		CHECK(t >= p && t + req->msgs[i].len <= p + len);
		CHECK((req->flags & TS_EXEC_F_CHAT) ? req->msgs[i].role <= TS_EXEC_ROLE_ASSISTANT
						    : req->msgs[i].role == TS_EXEC_ROLE_PROMPT &&
							      req->n_msgs == 1);
		sum += req->msgs[i].len;
	}
	CHECK(sum == len);
}

static void mode_parse(const uint8_t *p, uint32_t len)
{
	struct ex_request req;
	struct ex_ring r;
	struct ts_exec_req h;
	const void *out;
	uint32_t olen;
	uint16_t type;

	if (ex_req_parse(p, len, &req, msgs, TS_EXEC_MSGS_MAX) < 0 || len > REQ_MAX)
		return;
	check_req(p, len, &req);
	/* Round trip: the worker's writer gives the same bytes. */
	memset(&push_ring.hdr, 0, sizeof(push_ring.hdr));
	push_ring.hdr.size = PUSH_RING;
	ex_ring_init(&r, &push_ring.hdr, push_ring.data, PUSH_RING);
	CHECK(ex_req_push(&r, &req) == 0);
	CHECK(ex_ring_peek(&r, &type, &out, &olen) == 0);
	CHECK(type == TS_EXEC_REC_REQUEST && olen == len);
	memcpy(&h, p, sizeof(h));
	for (uint32_t i = h.n_stop; i < TS_EXEC_STOP_MAX; i++)
		h.stop_len[i] = 0;
	CHECK(memcmp(out, &h, sizeof(h)) == 0);
	CHECK(memcmp((const uint8_t *)out + sizeof(h), p + sizeof(h), len - sizeof(h)) == 0);
}

static void mode_walk(const uint8_t *p, size_t size)
{
	uint64_t head, tail;
	struct ex_ring r;

	if (size < 16)
		return;
	memcpy(&head, p, 8);
	memcpy(&tail, p + 8, 8);
	p += 16;
	size -= 16;
	memset(&walk_ring.hdr, 0, sizeof(walk_ring.hdr));
	walk_ring.hdr.size = WALK_RING;
	memset(walk_ring.data, 0, WALK_RING);
	memcpy(walk_ring.data, p, size < WALK_RING ? size : WALK_RING);
	atomic_store_explicit(&walk_ring.hdr.head, head, memory_order_relaxed);
	atomic_store_explicit(&walk_ring.hdr.tail, tail, memory_order_relaxed);
	ex_ring_init(&r, &walk_ring.hdr, walk_ring.data, WALK_RING);
	/* Each record takes at least 8 bytes: the walk ends within a ring's worth. */
	for (uint32_t n = 0; n <= WALK_RING / TS_EXEC_REC_ALIGN; n++) {
		const void *payload;
		struct ex_request req;
		uint32_t len;
		uint16_t type;
		int rc = ex_ring_peek(&r, &type, &payload, &len);

		if (rc == -EAGAIN || rc == -EBADMSG)
			return;
		CHECK(rc == 0);
		CHECK((const uint8_t *)payload >= walk_ring.data &&
		      (const uint8_t *)payload + len <= walk_ring.data + WALK_RING);
		CHECK(len <= ex_ring_rec_max(&r));
		if (type == TS_EXEC_REC_REQUEST &&
		    ex_req_parse(payload, len, &req, msgs, TS_EXEC_MSGS_MAX) == 0)
			check_req(payload, len, &req);
		ex_ring_release(&r);
	}
	CHECK(!"record walk did not end");
}

static void mode_resp(const uint8_t *p, size_t size)
{
	struct ex_resp a;
	uint16_t type;

	if (size < 2 || size - 2 > UINT32_MAX)
		return;
	memcpy(&type, p, 2);
	if (ex_resp_parse(type, p + 2, (uint32_t)(size - 2), &a) < 0)
		return;
	CHECK(a.type == TS_EXEC_REC_TEXT_DELTA || a.type == TS_EXEC_REC_FINAL ||
	      a.type == TS_EXEC_REC_ERROR);
	if (a.text_len > 0)
		CHECK((const uint8_t *)a.text >= p + 2 &&
		      (const uint8_t *)a.text + a.text_len <= p + size);
	if (a.type == TS_EXEC_REC_ERROR)
		CHECK(a.err_code >= TS_EXEC_ERR_QUEUE_FULL && a.err_code <= TS_EXEC_ERR_INTERNAL &&
		      a.text_len <= TS_EXEC_ERRMSG_MAX);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > (1u << 20))
		return 0;
	switch (data[0] % 3) {
	case 0:
		/* a copy of exactly the payload: an overread runs into the redzone */
		if (size - 1 <= REQ_MAX) {
			uint8_t *p = malloc(size - 1 ? size - 1 : 1);

			CHECK(p != NULL);
			memcpy(p, data + 1, size - 1);
			mode_parse(p, (uint32_t)(size - 1));
			free(p);
		}
		break;
	case 1:
		mode_walk(data + 1, size - 1);
		break;
	default:
		mode_resp(data + 1, size - 1);
		break;
	}
	return 0;
}
