/* SPDX-License-Identifier: proprietary */
/* Ring and segment tests: wrap-around, full ring, record bounds, corruption. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "ring.h"
#include "tests.h"

/* A 1 KiB ring in plain memory: header + data, both sides on it. */
struct test_ring {
	struct ts_exec_ring shm;
	uint8_t data[1024];
};

static void ring_pair(struct test_ring *t, struct ex_ring *prod, struct ex_ring *cons)
{
	memset(t, 0, sizeof(*t));
	t->shm.size = sizeof(t->data);
	ex_ring_init(prod, &t->shm, t->data, sizeof(t->data));
	ex_ring_init(cons, &t->shm, t->data, sizeof(t->data));
}

static void fill_pattern(uint8_t *p, uint32_t n, uint32_t seed)
{
	for (uint32_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed * 31 + i * 7);
}

/* Records of varying sizes pushed and popped across many laps of the ring. */
static void test_ring_wrap(void)
{
	static struct test_ring t;
	struct ex_ring prod, cons;
	uint8_t buf[512], want[512];
	uint32_t pads_seen = 0;

	ring_pair(&t, &prod, &cons);
	for (uint32_t i = 0; i < 200; i++) {
		uint32_t len = 1 + (i * 37) % 300;
		uint64_t head_before = prod.head;
		const void *p;
		uint32_t got;
		uint16_t type;

		fill_pattern(buf, len, i);
		CU_ASSERT_EQUAL_FATAL(ex_ring_push(&prod, TS_EXEC_REC_TEXT_DELTA, buf, len / 2,
						   buf + len / 2, len - len / 2), 0);
		/* A PAD was inserted when the head moved by more than the record. */
		pads_seen += prod.head - head_before > ((8 + len + 7) & ~7u);
		CU_ASSERT_EQUAL_FATAL(ex_ring_peek(&cons, &type, &p, &got), 0);
		fill_pattern(want, len, i);
		CU_ASSERT_EQUAL(type, TS_EXEC_REC_TEXT_DELTA);
		CU_ASSERT_EQUAL_FATAL(got, len);
		CU_ASSERT_EQUAL(memcmp(p, want, len), 0);
		CU_ASSERT_EQUAL((uintptr_t)p % 8, 0);
		ex_ring_release(&cons);
		CU_ASSERT_EQUAL(ex_ring_peek(&cons, &type, &p, &got), -EAGAIN);
	}
	CU_ASSERT(prod.head > 20 * sizeof(t.data));
	CU_ASSERT(pads_seen > 10);
	CU_ASSERT_EQUAL(ex_ring_used(&prod), 0);
}

/* Full is a normal outcome: -ENOBUFS, nothing written, and room after a pop. */
static void test_ring_full(void)
{
	static struct test_ring t;
	struct ex_ring prod, cons;
	uint8_t buf[100] = {0};
	uint32_t n = 0, got;
	const void *p;
	uint16_t type;
	int rc;

	ring_pair(&t, &prod, &cons);
	while ((rc = ex_ring_push(&prod, TS_EXEC_REC_REQUEST, buf, sizeof(buf), NULL, 0)) == 0)
		n++;
	CU_ASSERT_EQUAL(rc, -ENOBUFS);
	/* 108 padded to 112 bytes per record: 9 fit in 1024. */
	CU_ASSERT_EQUAL(n, 9);
	CU_ASSERT_EQUAL(ex_ring_push(&prod, TS_EXEC_REC_REQUEST, buf, sizeof(buf), NULL, 0),
			-ENOBUFS);
	CU_ASSERT_EQUAL(ex_ring_peek(&cons, &type, &p, &got), 0);
	ex_ring_release(&cons);
	/* 112 bytes freed at the start + 16 left at the end: exactly a PAD + the record. */
	CU_ASSERT_EQUAL(ex_ring_push(&prod, TS_EXEC_REC_REQUEST, buf, sizeof(buf), NULL, 0), 0);
	CU_ASSERT_EQUAL(ex_ring_used(&prod), 1024);
	CU_ASSERT_EQUAL(ex_ring_push(&prod, TS_EXEC_REC_CANCEL, NULL, 0, NULL, 0), -ENOBUFS);
	for (uint32_t i = 0; i < 9; i++) {
		CU_ASSERT_EQUAL(ex_ring_peek(&cons, &type, &p, &got), 0);
		CU_ASSERT_EQUAL(got, sizeof(buf));
		ex_ring_release(&cons);
	}
	CU_ASSERT_EQUAL(ex_ring_peek(&cons, &type, &p, &got), -EAGAIN);
}

/* The largest record fits an empty ring at every offset; one byte more never does. */
static void test_ring_bounds(void)
{
	static struct test_ring t;
	static uint8_t big[1024];
	struct ex_ring prod, cons;
	uint32_t max;
	void *wp;
	const void *p;
	uint32_t got;
	uint16_t type;

	ring_pair(&t, &prod, &cons);
	max = ex_ring_rec_max(&prod);
	CU_ASSERT_EQUAL(max, 512 - 8);
	CU_ASSERT_EQUAL(ex_ring_push(&prod, TS_EXEC_REC_REQUEST, big, max + 1, NULL, 0),
			-EMSGSIZE);
	for (uint32_t off = 0; off < 1024; off += 8) {
		CU_ASSERT_EQUAL_FATAL(ex_ring_push(&prod, TS_EXEC_REC_REQUEST, big, max, NULL, 0),
				      0);
		CU_ASSERT_EQUAL_FATAL(ex_ring_peek(&cons, &type, &p, &got), 0);
		CU_ASSERT_EQUAL(got, max);
		ex_ring_release(&cons);
		/* Move the ring by 8 bytes: an empty record of 8 bytes. */
		CU_ASSERT_EQUAL_FATAL(ex_ring_push(&prod, TS_EXEC_REC_CANCEL, NULL, 0, NULL, 0), 0);
		CU_ASSERT_EQUAL_FATAL(ex_ring_peek(&cons, &type, &p, &got), 0);
		CU_ASSERT_EQUAL(got, 0);
		ex_ring_release(&cons);
	}
	CU_ASSERT_EQUAL(ex_ring_reserve(&prod, TS_EXEC_REC_REQUEST, UINT32_MAX, &wp),
			-EMSGSIZE);
}

/* A producer that breaks the contract gets -EBADMSG, never an out-of-bounds read. */
static void test_ring_corrupt(void)
{
	static struct test_ring t;
	struct ex_ring prod, cons;
	struct ts_exec_rec bad = {.len = 600, .type = TS_EXEC_REC_REQUEST};
	const void *p;
	uint32_t got;
	uint16_t type;

	ring_pair(&t, &prod, &cons);
	/* A record longer than half the ring. */
	memcpy(t.data, &bad, sizeof(bad));
	atomic_store(&t.shm.head, 1000);
	CU_ASSERT_EQUAL(ex_ring_peek(&cons, &type, &p, &got), -EBADMSG);
	/* A record longer than what was published. */
	ring_pair(&t, &prod, &cons);
	bad.len = 100;
	memcpy(t.data, &bad, sizeof(bad));
	atomic_store(&t.shm.head, 64);
	CU_ASSERT_EQUAL(ex_ring_peek(&cons, &type, &p, &got), -EBADMSG);
	/* A head more than a ring ahead of the tail. */
	ring_pair(&t, &prod, &cons);
	atomic_store(&t.shm.head, 4096);
	CU_ASSERT_EQUAL(ex_ring_peek(&cons, &type, &p, &got), -EBADMSG);
	/* A head more than a ring ahead, already there when the consumer attached. */
	ring_pair(&t, &prod, &cons);
	CU_ASSERT_EQUAL(ex_ring_push(&prod, TS_EXEC_REC_REQUEST, "x", 1, NULL, 0), 0);
	atomic_store(&t.shm.head, 1u << 20);
	ex_ring_init(&cons, &t.shm, t.data, sizeof(t.data));
	CU_ASSERT_EQUAL(ex_ring_peek(&cons, &type, &p, &got), -EBADMSG);
	/* A PAD that does not end at the end of the data area. */
	ring_pair(&t, &prod, &cons);
	bad = (struct ts_exec_rec){.len = 8, .type = TS_EXEC_REC_PAD};
	memcpy(t.data, &bad, sizeof(bad));
	atomic_store(&t.shm.head, 16);
	CU_ASSERT_EQUAL(ex_ring_peek(&cons, &type, &p, &got), -EBADMSG);
	/* A consumer tail that runs ahead of the head, seen by the producer when full. */
	ring_pair(&t, &prod, &cons);
	prod.tail = 0;
	prod.head = 1024;
	atomic_store(&t.shm.head, 1024);
	atomic_store(&t.shm.tail, 5000);
	CU_ASSERT_EQUAL(ex_ring_push(&prod, TS_EXEC_REC_REQUEST, "x", 1, NULL, 0), -EBADMSG);
}

#define STRESS_N 200000u

static void *stress_producer(void *arg)
{
	struct ex_ring *prod = arg;
	uint8_t buf[300];

	for (uint32_t i = 0; i < STRESS_N; i++) {
		uint32_t len = 4 + (i * 7919u) % 250;

		memcpy(buf, &i, sizeof(i));
		fill_pattern(buf + 4, len - 4, i);
		while (ex_ring_push(prod, TS_EXEC_REC_TEXT_DELTA, buf, len, NULL, 0) == -ENOBUFS)
			sched_yield();
	}
	return NULL;
}

/*
 * Two threads, one ring, 200000 records of varying sizes: every record
 * arrives once, in order, intact (acquire/release on head and tail).
 */
static void test_ring_threads(void)
{
	static struct test_ring t;
	struct ex_ring prod, cons;
	uint8_t want[300];
	uint32_t next = 0, bad = 0;
	pthread_t th;

	ring_pair(&t, &prod, &cons);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&th, NULL, stress_producer, &prod), 0);
	while (next < STRESS_N) {
		const void *p;
		uint32_t len, seq;
		uint16_t type;
		int rc = ex_ring_peek(&cons, &type, &p, &len);

		if (rc == -EAGAIN) {
			sched_yield();
			continue;
		}
		if (rc < 0) {
			bad++;
			break;
		}
		memcpy(&seq, p, sizeof(seq));
		fill_pattern(want, len - 4, seq);
		bad += seq != next || len != 4 + (seq * 7919u) % 250 ||
		       memcmp((const uint8_t *)p + 4, want, len - 4) != 0;
		ex_ring_release(&cons);
		next++;
	}
	pthread_join(th, NULL);
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(next, STRESS_N);
	CU_ASSERT_EQUAL(ex_ring_used(&cons), 0);
}

/* Segments: create, attach through the fd, and refuse corrupt headers. */
static void test_seg_attach(void)
{
	struct ex_seg seg, att;
	struct ex_ring a, b;
	char err[256];
	const void *p;
	uint32_t got;
	uint16_t type;
	int fd;

	CU_ASSERT_EQUAL_FATAL(ex_seg_create(&seg, NULL, 3, 4096, 8192, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(seg.bytes, ts_exec_seg_bytes(3, 4096, 8192));
	fd = dup(seg.fd);
	CU_ASSERT_EQUAL_FATAL(ex_seg_attach_fd(&att, fd, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(ex_seg_workers(&att), 3);
	/* Worker 2's response ring: executor writes, the attacher reads. */
	ex_seg_resp_ring(&seg, 2, &a);
	ex_seg_resp_ring(&att, 2, &b);
	CU_ASSERT_EQUAL(ex_ring_push(&a, TS_EXEC_REC_FINAL, "hello", 5, NULL, 0), 0);
	CU_ASSERT_EQUAL_FATAL(ex_ring_peek(&b, &type, &p, &got), 0);
	CU_ASSERT_EQUAL(type, TS_EXEC_REC_FINAL);
	CU_ASSERT_EQUAL(got, 5);
	CU_ASSERT_EQUAL(memcmp(p, "hello", 5), 0);
	ex_ring_release(&b);
	ex_seg_close(&att);

	/* Bad magic. */
	atomic_store(&seg.hdr->magic, 0x12345678u);
	CU_ASSERT_EQUAL(ex_seg_attach_fd(&att, seg.fd, err, sizeof(err)), -EPROTO);
	CU_ASSERT(strstr(err, "magic") != NULL);
	atomic_store(&seg.hdr->magic, TS_EXEC_MAGIC);
	/* Other ABI version. */
	seg.hdr->abi_version = TS_EXEC_ABI_VERSION + 1;
	CU_ASSERT_EQUAL(ex_seg_attach_fd(&att, seg.fd, err, sizeof(err)), -EPROTO);
	CU_ASSERT(strstr(err, "ABI") != NULL);
	seg.hdr->abi_version = TS_EXEC_ABI_VERSION;
	/* A ring size that is not a power of two. */
	seg.hdr->req_ring_bytes = 5000;
	CU_ASSERT_EQUAL(ex_seg_attach_fd(&att, seg.fd, err, sizeof(err)), -EINVAL);
	seg.hdr->req_ring_bytes = 4096;
	/* A ring header that disagrees with the segment header. */
	((struct ts_exec_ring *)((uint8_t *)seg.hdr + ts_exec_resp_ring_off(1, 4096, 8192)))->size =
		4096;
	CU_ASSERT_EQUAL(ex_seg_attach_fd(&att, seg.fd, err, sizeof(err)), -EPROTO);
	CU_ASSERT(strstr(err, "worker 1 response") != NULL);
	((struct ts_exec_ring *)((uint8_t *)seg.hdr + ts_exec_resp_ring_off(1, 4096, 8192)))->size =
		8192;
	/* A worker count the size does not match. */
	seg.hdr->n_workers = 4;
	CU_ASSERT_EQUAL(ex_seg_attach_fd(&att, seg.fd, err, sizeof(err)), -EINVAL);
	seg.hdr->n_workers = 3;
	/* Truncated file. */
	CU_ASSERT_EQUAL(ftruncate(seg.fd, 100), 0);
	CU_ASSERT_EQUAL(ex_seg_attach_fd(&att, seg.fd, err, sizeof(err)), -EINVAL);
	ex_seg_close(&seg);
	CU_ASSERT_EQUAL(seg.hdr, NULL);
}

/* Named segments: create, attach by name, unlink on close, refuse twice. */
static void test_seg_named(void)
{
	struct ex_seg seg, att, again;
	char name[64], err[256];

	snprintf(name, sizeof(name), "/ts-ex-unit-%d", (int)getpid());
	ex_seg_unlink(name);
	CU_ASSERT_EQUAL_FATAL(ex_seg_create(&seg, name, 1, 1024, 1024, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(ex_seg_create(&again, name, 1, 1024, 1024, err, sizeof(err)), -EEXIST);
	CU_ASSERT_EQUAL_FATAL(ex_seg_attach(&att, name, err, sizeof(err)), 0);
	ex_seg_close(&att);
	ex_seg_close(&seg);
	CU_ASSERT_EQUAL(ex_seg_attach(&att, name, err, sizeof(err)), -ENOENT);
	CU_ASSERT_EQUAL(ex_seg_create(&seg, "no-slash", 1, 1024, 1024, err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(ex_seg_create(&seg, NULL, 0, 1024, 1024, err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(ex_seg_create(&seg, NULL, 1, 1000, 1024, err, sizeof(err)), -EINVAL);
}

/* A request with two messages and two stops, as a worker would push it. */
static void test_req_roundtrip(void)
{
	static struct test_ring t;
	static uint8_t copy[1024];
	struct ex_ring prod, cons;
	struct ex_msg in[2] = {{.role = TS_EXEC_ROLE_SYSTEM, .text = "Be brief.", .len = 9},
			       {.role = TS_EXEC_ROLE_USER, .text = "Hi there", .len = 8}};
	struct ex_request req = {.req_id = 0x1122334455667788ull, .worker = 3,
				 .flags = TS_EXEC_F_CHAT | TS_EXEC_F_STREAM, .max_tokens = 77,
				 .par = {.temperature = 0.5f, .top_k = 9, .top_p = 0.9f, .seed = 5},
				 .msgs = in, .n_msgs = 2};
	struct ex_request out;
	struct ex_msg msgs[TS_EXEC_MSGS_MAX];
	const void *p;
	uint32_t len;
	uint16_t type;

	ring_pair(&t, &prod, &cons);
	req.stops.n = 2;
	req.stops.len[0] = 3;
	memcpy(req.stops.s[0], "END", 3);
	req.stops.len[1] = 1;
	memcpy(req.stops.s[1], "\n", 1);
	CU_ASSERT_EQUAL_FATAL(ex_req_push(&prod, &req), 0);
	CU_ASSERT_EQUAL(ex_cancel_push(&prod, 3, 42), 0);
	CU_ASSERT_EQUAL_FATAL(ex_ring_peek(&cons, &type, &p, &len), 0);
	CU_ASSERT_EQUAL(type, TS_EXEC_REC_REQUEST);
	CU_ASSERT_EQUAL_FATAL(ex_req_parse(p, len, &out, msgs, TS_EXEC_MSGS_MAX), 0);
	CU_ASSERT_EQUAL(out.req_id, req.req_id);
	CU_ASSERT_EQUAL(out.worker, 3);
	CU_ASSERT_EQUAL(out.flags, req.flags);
	CU_ASSERT_EQUAL(out.max_tokens, 77);
	CU_ASSERT_EQUAL(out.par.top_k, 9);
	CU_ASSERT_EQUAL(out.par.seed, 5);
	CU_ASSERT_EQUAL(out.stops.n, 2);
	CU_ASSERT_EQUAL(memcmp(out.stops.s[0], "END", 3), 0);
	CU_ASSERT_EQUAL(out.n_msgs, 2);
	CU_ASSERT_EQUAL(out.msgs[1].role, TS_EXEC_ROLE_USER);
	CU_ASSERT_EQUAL(out.msgs[1].len, 8);
	CU_ASSERT_EQUAL(memcmp(out.msgs[1].text, "Hi there", 8), 0);
	/* Every truncation, and one byte too many, is refused. */
	CU_ASSERT_FATAL(len < sizeof(copy));
	memcpy(copy, p, len);
	for (uint32_t cut = 0; cut < len; cut++)
		CU_ASSERT_EQUAL(ex_req_parse(copy, cut, &out, msgs, TS_EXEC_MSGS_MAX), -EINVAL);
	CU_ASSERT_EQUAL(ex_req_parse(copy, len + 1, &out, msgs, TS_EXEC_MSGS_MAX), -EINVAL);
	/* Fewer message slots than parts. */
	CU_ASSERT_EQUAL(ex_req_parse(copy, len, &out, msgs, 1), -EINVAL);
	/* Unknown flag bits. */
	copy[10] |= 0x80;
	CU_ASSERT_EQUAL(ex_req_parse(copy, len, &out, msgs, TS_EXEC_MSGS_MAX), -EINVAL);
	copy[10] &= 0x7f;
	/* A raw prompt request must have one PROMPT part: this one has chat roles. */
	copy[10] &= (uint8_t)~TS_EXEC_F_CHAT;
	CU_ASSERT_EQUAL(ex_req_parse(copy, len, &out, msgs, TS_EXEC_MSGS_MAX), -EINVAL);
	copy[10] |= TS_EXEC_F_CHAT;
	/* Five stop sequences. */
	copy[14] = 5;
	CU_ASSERT_EQUAL(ex_req_parse(copy, len, &out, msgs, TS_EXEC_MSGS_MAX), -EINVAL);
	copy[14] = 2;
	CU_ASSERT_EQUAL(ex_req_parse(copy, len, &out, msgs, TS_EXEC_MSGS_MAX), 0);
	ex_ring_release(&cons);
	CU_ASSERT_EQUAL_FATAL(ex_ring_peek(&cons, &type, &p, &len), 0);
	CU_ASSERT_EQUAL(type, TS_EXEC_REC_CANCEL);
	CU_ASSERT_EQUAL(len, sizeof(struct ts_exec_cancel));
	ex_ring_release(&cons);
	/* More parts than the contract allows. */
	req.n_msgs = TS_EXEC_MSGS_MAX + 1;
	CU_ASSERT_EQUAL(ex_req_push(&prod, &req), -EINVAL);
}

/* Answer records as a worker decodes them, and refusals of malformed ones. */
static void test_resp_parse(void)
{
	uint8_t buf[512];
	struct ts_exec_delta d = {.req_id = 7, .len = 5, .n_tokens = 2};
	struct ts_exec_final f = {.req_id = 8, .finish = TS_EXEC_FINISH_LENGTH,
				  .prompt_tokens = 3, .completion_tokens = 4};
	struct ts_exec_error er = {.req_id = 9, .code = TS_EXEC_ERR_QUEUE_FULL, .msg_len = 4};
	struct ex_resp r;

	memcpy(buf, &d, sizeof(d));
	memcpy(buf + sizeof(d), "hello", 5);
	CU_ASSERT_EQUAL(ex_resp_parse(TS_EXEC_REC_TEXT_DELTA, buf, sizeof(d) + 5, &r), 0);
	CU_ASSERT_EQUAL(r.req_id, 7);
	CU_ASSERT_EQUAL(r.text_len, 5);
	CU_ASSERT_EQUAL(memcmp(r.text, "hello", 5), 0);
	CU_ASSERT_EQUAL(ex_resp_parse(TS_EXEC_REC_TEXT_DELTA, buf, sizeof(d) + 4, &r), -EBADMSG);
	CU_ASSERT_EQUAL(ex_resp_parse(TS_EXEC_REC_TEXT_DELTA, buf, 7, &r), -EBADMSG);
	memcpy(buf, &f, sizeof(f));
	CU_ASSERT_EQUAL(ex_resp_parse(TS_EXEC_REC_FINAL, buf, sizeof(f), &r), 0);
	CU_ASSERT_EQUAL(r.fin.completion_tokens, 4);
	CU_ASSERT_EQUAL(r.req_id, 8);
	CU_ASSERT_EQUAL(ex_resp_parse(TS_EXEC_REC_FINAL, buf, sizeof(f) - 1, &r), -EBADMSG);
	f.finish = 9;
	memcpy(buf, &f, sizeof(f));
	CU_ASSERT_EQUAL(ex_resp_parse(TS_EXEC_REC_FINAL, buf, sizeof(f), &r), -EBADMSG);
	memcpy(buf, &er, sizeof(er));
	memcpy(buf + sizeof(er), "full", 4);
	CU_ASSERT_EQUAL(ex_resp_parse(TS_EXEC_REC_ERROR, buf, sizeof(er) + 4, &r), 0);
	CU_ASSERT_EQUAL(r.err_code, TS_EXEC_ERR_QUEUE_FULL);
	CU_ASSERT_EQUAL(r.text_len, 4);
	er.code = TS_EXEC_ERR_NONE;
	memcpy(buf, &er, sizeof(er));
	CU_ASSERT_EQUAL(ex_resp_parse(TS_EXEC_REC_ERROR, buf, sizeof(er) + 4, &r), -EBADMSG);
	CU_ASSERT_EQUAL(ex_resp_parse(TS_EXEC_REC_REQUEST, buf, 16, &r), -EBADMSG);
}

/* Liveness as a worker sees it: ready flag and a fresh heartbeat. */
static void test_exec_alive(void)
{
	struct ex_seg seg;
	char err[256];

	CU_ASSERT_EQUAL_FATAL(ex_seg_create(&seg, NULL, 1, 1024, 1024, err, sizeof(err)), 0);
	CU_ASSERT_FALSE(ex_seg_exec_alive(&seg, 1000, 100));
	atomic_store(&seg.hdr->exec_ready, 1);
	CU_ASSERT_FALSE(ex_seg_exec_alive(&seg, 1000, 100)); /* no heartbeat yet */
	atomic_store(&seg.hdr->exec_heartbeat_ns, 950);
	CU_ASSERT_TRUE(ex_seg_exec_alive(&seg, 1000, 100));
	CU_ASSERT_FALSE(ex_seg_exec_alive(&seg, 1051, 100));
	atomic_store(&seg.hdr->exec_ready, 0);
	CU_ASSERT_FALSE(ex_seg_exec_alive(&seg, 1000, 100));
	ex_seg_close(&seg);
}

int test_ring_register(void)
{
	CU_pSuite s = CU_add_suite("executor_ring", NULL, NULL);

	if (s == NULL)
		return -1;
	if (!CU_add_test(s, "wrap-around", test_ring_wrap) ||
	    !CU_add_test(s, "full ring", test_ring_full) ||
	    !CU_add_test(s, "record bounds", test_ring_bounds) ||
	    !CU_add_test(s, "corrupt ring", test_ring_corrupt) ||
	    !CU_add_test(s, "two threads", test_ring_threads) ||
	    !CU_add_test(s, "segment attach", test_seg_attach) ||
	    !CU_add_test(s, "named segment", test_seg_named) ||
	    !CU_add_test(s, "request records", test_req_roundtrip) ||
	    !CU_add_test(s, "answer records", test_resp_parse) ||
	    !CU_add_test(s, "executor liveness", test_exec_alive))
		return -1;
	return 0;
}
