/* SPDX-License-Identifier: proprietary */
/*
 * Executor rings: the contract between dataplane workers and the local model
 * executor (control/executor) in one shared-memory segment.
 *
 * Segment layout (every offset a multiple of TS_EXEC_ALIGN, no pointers):
 *
 *   struct ts_exec_seg_hdr                          offset 0
 *   for w in [0, n_workers):
 *     struct ts_exec_ring + req_ring_bytes of data  worker w -> executor
 *     struct ts_exec_ring + resp_ring_bytes of data executor -> worker w
 *
 * ts_exec_req_ring_off() / ts_exec_resp_ring_off() compute each ring's offset
 * from the header alone; an attacher recomputes them and refuses a segment
 * whose size, magic, ABI version or ring headers disagree.
 *
 * Every ring is single-producer single-consumer. Positions are free-running
 * u64 byte counters (never wrap in practice: 2^64 bytes); the index into the
 * data area is pos & (size - 1). The producer owns `head`, the consumer owns
 * `tail`; each sits on its own cache line so the two sides never share a line
 * they write. Producer: load tail (acquire: the consumer is done reading the
 * bytes it freed), write the record, store head (release: publishes the bytes).
 * Consumer: load head (acquire), read the record, store tail (release).
 *
 * A record is struct ts_exec_rec followed by `len` payload bytes, padded to
 * TS_EXEC_REC_ALIGN. A record never straddles the end of the data area: when
 * it does not fit in the bytes left before the end, the producer writes a PAD
 * record that covers them and starts the record at index 0. A record's padded
 * size is at most half the ring (TS_EXEC_REC_MAX_FRAC) so that it always fits
 * into an empty ring whatever the wasted tail; larger records are refused with
 * -EMSGSIZE at the producer and as corruption at the consumer.
 *
 * A full ring is a normal outcome: the producer gets -ENOBUFS, counts it and
 * tries again later. Everything is little-endian (x86-64).
 *
 * ABI: TS_EXEC_ABI_VERSION changes whenever any struct below changes.
 *
 * Why a segment of its own: only because twospeed-control, which will own
 * the appliance's single shared segment (DESIGN.md), does not exist yet, and
 * the executor must run and be tested without it. The region above is
 * pointer-free and self-describing (sizes, counts and version in its header,
 * every ring at an offset from that header, never from the mapping's start),
 * so it moves into the main segment unchanged: the main header gets
 * exec_off (a multiple of TS_EXEC_ALIGN) and exec_bytes (ts_exec_seg_bytes()),
 * control lays the region out at base + exec_off as ex_seg_create does today,
 * and both sides check exec_off + exec_bytes against the segment size, then
 * validate the region with ex_seg_validate(base + exec_off, exec_bytes).
 */
#ifndef TWOSPEED_EXEC_T_H
#define TWOSPEED_EXEC_T_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>

#define TS_EXEC_MAGIC 0x58455354u /* "TSEX" read as a little-endian u32 */
#define TS_EXEC_ABI_VERSION 2u /* 2: TEXT_DELTA carries per-token logprobs */
#define TS_EXEC_ALIGN 64u          /* cache line; offsets and ring sizes align to it */
#define TS_EXEC_REC_ALIGN 8u       /* records start on 8-byte boundaries */
#define TS_EXEC_RING_MIN 1024u     /* bytes, smallest data area */
#define TS_EXEC_RING_MAX (1u << 30) /* bytes, largest data area */
#define TS_EXEC_WORKERS_MAX 256u

/* Request limits, checked by the executor when it parses a request. */
#define TS_EXEC_STOP_MAX 4u        /* stop sequences per request */
#define TS_EXEC_STOP_LEN_MAX 64u   /* bytes per stop sequence */
#define TS_EXEC_MSGS_MAX 64u       /* chat messages per request */
#define TS_EXEC_ERRMSG_MAX 200u    /* bytes of an ERROR record's message */

enum ts_exec_rec_type {
	TS_EXEC_REC_PAD = 0,        /* filler up to the end of the data area; skip */
	TS_EXEC_REC_REQUEST = 1,    /* worker -> executor: struct ts_exec_req + body */
	TS_EXEC_REC_CANCEL = 2,     /* worker -> executor: struct ts_exec_cancel */
	TS_EXEC_REC_TEXT_DELTA = 3, /* executor -> worker: struct ts_exec_delta + bytes */
	TS_EXEC_REC_FINAL = 4,      /* executor -> worker: struct ts_exec_final */
	TS_EXEC_REC_ERROR = 5,      /* executor -> worker: struct ts_exec_error + message */
};

/* Every record starts with this; `len` excludes the header and the padding. */
struct ts_exec_rec {
	uint32_t len;  /* bytes of payload after this header */
	uint16_t type; /* enum ts_exec_rec_type */
	uint16_t rsvd; /* 0 */
};

/* Request flags. */
#define TS_EXEC_F_CHAT 0x1u   /* messages go through the model's chat template */
#define TS_EXEC_F_STREAM 0x2u /* the client streams: send deltas as they come */

enum ts_exec_role {
	TS_EXEC_ROLE_SYSTEM = 0,
	TS_EXEC_ROLE_USER = 1,
	TS_EXEC_ROLE_ASSISTANT = 2,
	TS_EXEC_ROLE_PROMPT = 3, /* raw prompt: the only part of a non-chat request */
};

struct ts_exec_part {
	uint32_t role; /* enum ts_exec_role */
	uint32_t len;  /* bytes of text */
};

/*
 * REQUEST payload:
 *   struct ts_exec_req
 *   struct ts_exec_part parts[n_parts]
 *   stop sequence bytes, stop_len[0] .. stop_len[n_stop - 1], concatenated
 *   part texts, parts[0].len .. parts[n_parts - 1].len, concatenated (UTF-8)
 * The payload length must equal the sum exactly. A chat request (TS_EXEC_F_CHAT)
 * has 1..TS_EXEC_MSGS_MAX parts with roles SYSTEM/USER/ASSISTANT; a raw request
 * has exactly one part with role PROMPT.
 */
struct ts_exec_req {
	uint64_t req_id;     /* chosen by the worker, echoed in every answer */
	uint16_t worker;     /* index of the response ring that gets the answer */
	uint16_t flags;      /* TS_EXEC_F_* */
	uint16_t n_parts;    /* entries of parts[] */
	uint16_t n_stop;     /* <= TS_EXEC_STOP_MAX */
	float temperature;   /* 0 = greedy; must be finite, 0..100 */
	float top_p;         /* (0, 1]; 1 disables nucleus sampling */
	uint32_t top_k;      /* 0 disables top-k */
	uint32_t max_tokens; /* new tokens; 0 = up to the context */
	uint64_t seed;       /* per-request PRNG seed */
	uint32_t stop_len[TS_EXEC_STOP_MAX]; /* bytes, 1..TS_EXEC_STOP_LEN_MAX each used one */
};

/* CANCEL payload: the worker gave up on a request (client went away). */
struct ts_exec_cancel {
	uint64_t req_id;
	uint16_t worker;
	uint16_t rsvd[3];
};

/*
 * TEXT_DELTA payload:
 *   struct ts_exec_delta
 *   float logprobs[n_logprobs]  (nats, little-endian f32, 4-byte aligned)
 *   len bytes of text
 * The text is well-formed UTF-8 (ill-formed or unfinished pieces of the
 * model's output become U+FFFD). A delta never ends inside a multi-byte
 * character and never holds text past a stop sequence. Non-stream requests
 * get fewer, larger deltas.
 *
 * Per-token log-probabilities follow token boundaries, not text: logprobs[i]
 * is log p(token) under the distribution the token was sampled from (log-
 * softmax of the raw logits: before temperature, top-k, top-p), of completion
 * token number lp_first + i (0-based). Every sampled token's value travels
 * in exactly one delta, in order (lp_first of a delta = lp_first + n_logprobs
 * of the previous one), and no later than the first delta carrying any byte
 * of its text. Since deltas hold back bytes (a possible stop sequence, an
 * unfinished UTF-8 character), a delta may carry values of tokens whose text
 * comes in a later delta, or never (cut by a stop sequence, or a stop token
 * with no text); a delta may then have no text at all (len = 0). Before FINAL
 * every token's value has been sent, except for a cancelled request (nobody
 * listens) or one that failed mid-way; so the values of a STOP or LENGTH
 * request number FINAL.completion_tokens and average to FINAL.mean_logprob.
 * The record holds the values in the bytes after the header, so a delta is
 * at most half the ring like any record: a long backlog spans several deltas.
 */
struct ts_exec_delta {
	uint64_t req_id;
	uint32_t len;        /* bytes of text following the logprobs */
	uint32_t n_tokens;   /* completion tokens sampled so far */
	uint32_t lp_first;   /* completion index of logprobs[0] */
	uint32_t n_logprobs; /* f32 values following this header */
};

enum ts_exec_finish {
	TS_EXEC_FINISH_STOP = 0,      /* end-of-generation token or a stop sequence */
	TS_EXEC_FINISH_LENGTH = 1,    /* max_tokens or the context ran out */
	TS_EXEC_FINISH_ERROR = 2,     /* failed after text was already sent */
	TS_EXEC_FINISH_CANCELLED = 3, /* the worker cancelled */
};

/* FINAL payload: the last record of every request that was accepted. */
struct ts_exec_final {
	uint64_t req_id;
	uint32_t finish;            /* enum ts_exec_finish */
	uint32_t prompt_tokens;     /* tokens after the chat template, incl. BOS */
	uint32_t completion_tokens; /* sampled tokens, incl. a final stop token */
	float mean_logprob;         /* nats, mean over completion tokens; 0 when none */
	uint64_t queue_ns;          /* from receipt to the first forward step */
	uint64_t prefill_ns;        /* first forward step to the first sampled token */
	uint64_t decode_ns;         /* first sampled token to the end */
};

enum ts_exec_err {
	TS_EXEC_ERR_NONE = 0,
	TS_EXEC_ERR_QUEUE_FULL = 1,      /* no slot and the wait queue is full */
	TS_EXEC_ERR_PROMPT_TOO_LONG = 2, /* prompt tokens + 1 > the executor's context */
	TS_EXEC_ERR_BAD_REQUEST = 3,     /* malformed record or parameters */
	TS_EXEC_ERR_INTERNAL = 4,        /* model or tokenizer failure */
};

/* ERROR payload: struct ts_exec_error then msg_len bytes (no NUL). No FINAL follows. */
struct ts_exec_error {
	uint64_t req_id;
	uint32_t code;    /* enum ts_exec_err */
	uint32_t msg_len; /* <= TS_EXEC_ERRMSG_MAX */
};

/*
 * One ring's shared header, followed directly by the data area. `size` and
 * `mask` are written by the segment creator before the magic is published
 * and never change; each side keeps its own validated copy.
 */
struct ts_exec_ring {
	alignas(TS_EXEC_ALIGN) uint32_t size; /* bytes of data area, power of two */
	uint32_t rsvd0;
	uint64_t rsvd1;
	alignas(TS_EXEC_ALIGN) _Atomic uint64_t head; /* bytes ever written; producer only */
	alignas(TS_EXEC_ALIGN) _Atomic uint64_t tail; /* bytes ever consumed; consumer only */
};

/*
 * The segment header. The creator fills it and stores `magic` last with
 * release order, so an attacher that loads the magic with acquire order sees
 * the rest.
 */
struct ts_exec_seg_hdr {
	alignas(TS_EXEC_ALIGN) _Atomic uint32_t magic; /* TS_EXEC_MAGIC once ready */
	uint32_t abi_version;    /* TS_EXEC_ABI_VERSION */
	uint64_t seg_bytes;      /* whole segment, header included */
	uint32_t hdr_bytes;      /* sizeof(struct ts_exec_seg_hdr) */
	uint32_t ring_hdr_bytes; /* sizeof(struct ts_exec_ring) */
	uint32_t n_workers;      /* request/response ring pairs */
	uint32_t req_ring_bytes; /* data bytes of each request ring */
	uint32_t resp_ring_bytes; /* data bytes of each response ring */
	uint32_t rsvd;
	uint64_t generation;     /* differs for every created segment */
	/* Written by the executor only. */
	alignas(TS_EXEC_ALIGN) _Atomic uint64_t exec_heartbeat_ns; /* CLOCK_MONOTONIC */
	_Atomic uint32_t exec_ready; /* 1 while the executor serves requests */
};

_Static_assert(sizeof(struct ts_exec_rec) == TS_EXEC_REC_ALIGN, "record header is one unit");
_Static_assert(sizeof(struct ts_exec_delta) % sizeof(float) == 0, "delta logprobs stay aligned");
_Static_assert(sizeof(struct ts_exec_ring) == 3 * TS_EXEC_ALIGN, "ring header layout");
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "u64 atomics must be lock-free to work across processes");

static inline uint64_t ts_exec_align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) / a * a;
}

/* Bytes one worker's pair of rings takes in the segment. */
static inline uint64_t ts_exec_pair_bytes(uint32_t req_ring_bytes, uint32_t resp_ring_bytes)
{
	return 2 * sizeof(struct ts_exec_ring) + (uint64_t)req_ring_bytes + resp_ring_bytes;
}

static inline uint64_t ts_exec_req_ring_off(uint32_t worker, uint32_t req_ring_bytes,
					    uint32_t resp_ring_bytes)
{
	return ts_exec_align_up(sizeof(struct ts_exec_seg_hdr), TS_EXEC_ALIGN) +
	       (uint64_t)worker * ts_exec_pair_bytes(req_ring_bytes, resp_ring_bytes);
}

static inline uint64_t ts_exec_resp_ring_off(uint32_t worker, uint32_t req_ring_bytes,
					     uint32_t resp_ring_bytes)
{
	return ts_exec_req_ring_off(worker, req_ring_bytes, resp_ring_bytes) +
	       sizeof(struct ts_exec_ring) + req_ring_bytes;
}

static inline uint64_t ts_exec_seg_bytes(uint32_t n_workers, uint32_t req_ring_bytes,
					 uint32_t resp_ring_bytes)
{
	return ts_exec_req_ring_off(n_workers, req_ring_bytes, resp_ring_bytes);
}

#endif /* TWOSPEED_EXEC_T_H */
