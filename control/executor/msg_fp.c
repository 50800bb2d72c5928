/* SPDX-License-Identifier: proprietary */
/*
 * REQUEST and CANCEL records (layout in include/twospeed/exec-t.h): built by
 * dataplane workers in their poll loop, parsed by the executor. No
 * allocation, no syscalls; the parser trusts nothing in the payload.
 */
#include <errno.h>
#include <string.h>

#include "ring.h"

/*
 * Producer: write req as one REQUEST record straight into the ring. Returns
 * 0, -ENOBUFS when the ring is full (count and retry or fail over), -EMSGSIZE
 * when the request can never fit this ring, -EINVAL for more parts or stops
 * than the contract allows.
 */
int ex_req_push(struct ex_ring *r, const struct ex_request *req)
{
	struct ts_exec_req h;
	uint64_t len = sizeof(h) + (uint64_t)req->n_msgs * sizeof(struct ts_exec_part);
	uint8_t *p;
	void *dst;
	int rc;

	if (req->n_msgs == 0 || req->n_msgs > TS_EXEC_MSGS_MAX || req->stops.n > TS_EXEC_STOP_MAX)
		return -EINVAL;
	for (uint32_t i = 0; i < req->stops.n; i++)
		len += req->stops.len[i];
	for (uint32_t i = 0; i < req->n_msgs; i++)
		len += req->msgs[i].len;
	if (len > UINT32_MAX)
		return -EMSGSIZE;
	rc = ex_ring_reserve(r, TS_EXEC_REC_REQUEST, (uint32_t)len, &dst);
	if (rc < 0)
		return rc;
	h = (struct ts_exec_req){.req_id = req->req_id, .worker = req->worker,
				 .flags = req->flags, .n_parts = (uint16_t)req->n_msgs,
				 .n_stop = (uint16_t)req->stops.n,
				 .temperature = req->par.temperature, .top_p = req->par.top_p,
				 .top_k = req->par.top_k, .max_tokens = req->max_tokens,
				 .seed = req->par.seed};
	for (uint32_t i = 0; i < req->stops.n; i++)
		h.stop_len[i] = req->stops.len[i];
	p = dst;
	memcpy(p, &h, sizeof(h));
	p += sizeof(h);
	for (uint32_t i = 0; i < req->n_msgs; i++) {
		struct ts_exec_part part = {.role = req->msgs[i].role, .len = req->msgs[i].len};

		memcpy(p, &part, sizeof(part));
		p += sizeof(part);
	}
	for (uint32_t i = 0; i < req->stops.n; i++) {
		memcpy(p, req->stops.s[i], req->stops.len[i]);
		p += req->stops.len[i];
	}
	for (uint32_t i = 0; i < req->n_msgs; i++) {
		memcpy(p, req->msgs[i].text, req->msgs[i].len);
		p += req->msgs[i].len;
	}
	ex_ring_commit(r);
	return 0;
}

/* Producer: a CANCEL record. Returns what ex_ring_push() returns. */
int ex_cancel_push(struct ex_ring *r, uint16_t worker, uint64_t req_id)
{
	struct ts_exec_cancel c = {.req_id = req_id, .worker = worker};

	return ex_ring_push(r, TS_EXEC_REC_CANCEL, &c, sizeof(c), NULL, 0);
}

/*
 * Parse a REQUEST payload (layout in exec-t.h) into req, with message views
 * into the payload itself (valid while the record is). Returns 0 or -EINVAL.
 */
int ex_req_parse(const void *payload, uint32_t len, struct ex_request *req, struct ex_msg *msgs,
		 uint32_t msgs_cap)
{
	const uint8_t *p = payload;
	struct ts_exec_req h;
	uint64_t need;
	uint32_t off;

	if (len < sizeof(h))
		return -EINVAL;
	memcpy(&h, p, sizeof(h)); /* a copy: the producer cannot change it under us */
	if (h.n_stop > TS_EXEC_STOP_MAX || h.n_parts == 0 || h.n_parts > TS_EXEC_MSGS_MAX ||
	    h.n_parts > msgs_cap || (h.flags & ~(TS_EXEC_F_CHAT | TS_EXEC_F_STREAM)) != 0)
		return -EINVAL;
	need = sizeof(h) + (uint64_t)h.n_parts * sizeof(struct ts_exec_part);
	if (need > len)
		return -EINVAL;
	memset(req, 0, sizeof(*req));
	req->req_id = h.req_id;
	req->worker = h.worker;
	req->flags = h.flags;
	req->max_tokens = h.max_tokens;
	req->par = (struct ex_sample_params){.temperature = h.temperature, .top_k = h.top_k,
					     .top_p = h.top_p, .seed = h.seed};
	off = (uint32_t)need;
	for (uint32_t i = 0; i < h.n_stop; i++) {
		if (h.stop_len[i] == 0 || h.stop_len[i] > TS_EXEC_STOP_LEN_MAX ||
		    h.stop_len[i] > len - off)
			return -EINVAL;
		memcpy(req->stops.s[i], p + off, h.stop_len[i]);
		req->stops.len[i] = h.stop_len[i];
		off += h.stop_len[i];
	}
	req->stops.n = h.n_stop;
	for (uint32_t i = 0; i < h.n_parts; i++) {
		struct ts_exec_part part;

		memcpy(&part, p + sizeof(h) + i * sizeof(part), sizeof(part));
		if (part.len > len - off)
			return -EINVAL;
		if ((h.flags & TS_EXEC_F_CHAT) ? part.role > TS_EXEC_ROLE_ASSISTANT
					       : (part.role != TS_EXEC_ROLE_PROMPT || h.n_parts != 1))
			return -EINVAL;
		msgs[i] = (struct ex_msg){.role = part.role, .text = (const char *)p + off,
					  .len = part.len};
		off += part.len;
	}
	if (off != len)
		return -EINVAL;
	req->msgs = msgs;
	req->n_msgs = h.n_parts;
	return 0;
}

/*
 * Worker: decode an answer record peeked from a response ring. The text
 * points into the record (valid until ex_ring_release). Returns 0, or
 * -EBADMSG for a record that does not match its type's layout (lengths,
 * finish reason, error code); the caller counts it and fails the request.
 */
int ex_resp_parse(uint16_t type, const void *payload, uint32_t len, struct ex_resp *out)
{
	const uint8_t *p = payload;

	memset(out, 0, sizeof(*out));
	out->type = type;
	if (type == TS_EXEC_REC_TEXT_DELTA) {
		struct ts_exec_delta d;

		if (len < sizeof(d))
			return -EBADMSG;
		memcpy(&d, p, sizeof(d));
		/* u64 sums: no u32 product or sum wraps around a hostile count. */
		if ((uint64_t)d.n_logprobs * sizeof(float) + d.len != len - sizeof(d) ||
		    (uint64_t)d.lp_first + d.n_logprobs > d.n_tokens)
			return -EBADMSG;
		out->req_id = d.req_id;
		out->logprobs = p + sizeof(d);
		out->lp_first = d.lp_first;
		out->n_logprobs = d.n_logprobs;
		out->text = (const char *)p + sizeof(d) + (size_t)d.n_logprobs * sizeof(float);
		out->text_len = d.len;
		out->n_tokens = d.n_tokens;
		return 0;
	}
	if (type == TS_EXEC_REC_FINAL) {
		if (len != sizeof(out->fin))
			return -EBADMSG;
		memcpy(&out->fin, p, sizeof(out->fin));
		if (out->fin.finish > TS_EXEC_FINISH_CANCELLED)
			return -EBADMSG;
		out->req_id = out->fin.req_id;
		return 0;
	}
	if (type == TS_EXEC_REC_ERROR) {
		struct ts_exec_error er;

		if (len < sizeof(er))
			return -EBADMSG;
		memcpy(&er, p, sizeof(er));
		if (er.msg_len != len - sizeof(er) || er.msg_len > TS_EXEC_ERRMSG_MAX ||
		    er.code == TS_EXEC_ERR_NONE || er.code > TS_EXEC_ERR_INTERNAL)
			return -EBADMSG;
		out->req_id = er.req_id;
		out->err_code = er.code;
		out->text = (const char *)p + sizeof(er);
		out->text_len = er.msg_len;
		return 0;
	}
	return -EBADMSG;
}

/*
 * Value i (< r->n_logprobs) of a parsed TEXT_DELTA: log-probability in nats
 * of completion token r->lp_first + i. A copy, so no alignment is assumed.
 */
float ex_resp_logprob(const struct ex_resp *r, uint32_t i)
{
	float v;

	memcpy(&v, (const uint8_t *)r->logprobs + (size_t)i * sizeof(v), sizeof(v));
	return v;
}

/*
 * Worker: is the executor serving? Ready flag set and a heartbeat younger
 * than max_age_ns (CLOCK_MONOTONIC, same clock as the executor's; the caller
 * passes its own reading so this stays syscall-free). When false, LOCAL
 * traffic fails over. Loads are acquire/relaxed: a hint, ordering nothing.
 */
bool ex_seg_exec_alive(const struct ex_seg *seg, uint64_t now_ns, uint64_t max_age_ns)
{
	uint64_t hb;

	if (atomic_load_explicit(&seg->hdr->exec_ready, memory_order_acquire) != 1)
		return false;
	hb = atomic_load_explicit(&seg->hdr->exec_heartbeat_ns, memory_order_relaxed);
	return hb != 0 && (now_ns < hb || now_ns - hb <= max_age_ns);
}
