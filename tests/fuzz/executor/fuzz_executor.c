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
 *      second and third bytes, then the payload; a TEXT_DELTA's logprobs and
 *      text must tile the payload after the header exactly, the logprob
 *      range stay within n_tokens, and every value be readable in place;
 *   3  chat messages as a request carries them (worker-controlled text) into
 *      the engine's prompt path: template family in the second byte, then
 *      messages separated by NUL bytes (role = first byte % 3). The text of
 *      chat_render_spans() must equal chat_render()'s, its spans be sorted
 *      and inside the text, and chat_tokenize() over a byte-level BPE
 *      vocabulary with ChatML and Llama 3 control tokens must decode back to
 *      the text with every CONTROL token lying outside the contents (no
 *      injected turn).
 * Any violated invariant aborts. Seeds in corpus/ (valid records of each
 * mode, written by mkseeds.py).
 */
#include <errno.h>
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "chat.h"
#include "ring.h"
#include "tok.h"

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
	if (a.type == TS_EXEC_REC_TEXT_DELTA) {
		const uint8_t *lp = a.logprobs;
		float sum = 0.0f;

		CHECK(lp == p + 2 + sizeof(struct ts_exec_delta));
		CHECK((uint64_t)a.n_logprobs * sizeof(float) + a.text_len ==
		      size - 2 - sizeof(struct ts_exec_delta));
		CHECK((const uint8_t *)a.text == lp + (size_t)a.n_logprobs * sizeof(float));
		CHECK((uint64_t)a.lp_first + a.n_logprobs <= a.n_tokens);
		for (uint32_t i = 0; i < a.n_logprobs; i++)
			sum += ex_resp_logprob(&a, i); /* ASan: every value inside the input */
		(void)sum;
	}
	if (a.type == TS_EXEC_REC_ERROR)
		CHECK(a.err_code >= TS_EXEC_ERR_QUEUE_FULL && a.err_code <= TS_EXEC_ERR_INTERNAL &&
		      a.text_len <= TS_EXEC_ERRMSG_MAX);
}

/* GPT-2's byte-to-unicode character of byte b, as UTF-8 into o. */
static size_t byte_char(int b, char *o)
{
	int n = 0, cp = b;

	if (!((b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE)) {
		for (int i = 0; i < b; i++)
			n += !((i >= 0x21 && i <= 0x7E) || (i >= 0xA1 && i <= 0xAC) || i >= 0xAE);
		cp = 256 + n;
	}
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	o[0] = (char)(0xC0 | cp >> 6);
	o[1] = (char)(0x80 | (cp & 0x3F));
	return 2;
}

static const char *const specials[] = { "<|im_start|>", "<|im_end|>", "<|begin_of_text|>",
					"<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>",
					"</s>", "<x>" };
#define N_SPECIALS (sizeof(specials) / sizeof(specials[0]))

/* 256 byte tokens, a few merges, the chat control tokens, one USER_DEFINED. */
static struct tok *make_chat_tok(void)
{
	static char store[256][3];
	static const char *const merges[] = { "u s", "us e", "use r", "< |", "i m", "\xc4\x8a \xc4\x8a" };
	const char *texts[256 + 6 + N_SPECIALS];
	size_t lens[256 + 6 + N_SPECIALS], mlens[6];
	int32_t types[256 + 6 + N_SPECIALS];
	static const char *const merged[] = { "us", "use", "user", "<|", "im", "\xc4\x8a\xc4\x8a" };
	uint32_t n = 0;
	char err[128];
	struct tok *t;

	for (int b = 0; b < 256; b++, n++) {
		lens[n] = byte_char(b, store[b]);
		texts[n] = store[b];
		types[n] = 1;
	}
	for (int i = 0; i < 6; i++, n++) {
		texts[n] = merged[i];
		lens[n] = strlen(merged[i]);
		types[n] = 1;
		mlens[i] = strlen(merges[i]);
	}
	for (size_t i = 0; i < N_SPECIALS; i++, n++) {
		texts[n] = specials[i];
		lens[n] = strlen(specials[i]);
		types[n] = i + 1 == N_SPECIALS ? 4 : 3; /* USER_DEFINED : CONTROL */
	}
	struct tok_vocab_desc d = {
		.kind = TOK_KIND_BPE, .pre = TOK_PRE_QWEN2, .n_tokens = n, .texts = texts,
		.lens = lens, .types = types, .n_merges = 6, .merges = merges, .merge_lens = mlens,
		.bos = 256 + 6 + 2, .eos = 256 + 6 + 6, .unk = TOK_NULL, .pad = TOK_NULL,
		.eot = 256 + 6 + 5, .eom = TOK_NULL,
	};
	t = tok_new(&d, err, sizeof(err));
	CHECK(t != NULL);
	return t;
}

static void mode_chat(const uint8_t *p, size_t size)
{
	static const char *const tmpls[] = {
		"", "{{'<|im_start|>' + m.role}}", "<|start_header_id|>",
		"<|start_header_id|> Cutting Knowledge Date {% set date_string = \"1 Jan 2025\" %}",
		"[INST] <<SYS>>", "<|user|> <|assistant|> eos_token",
	};
	static struct tok *t;
	static char a[1 << 16], b[1 << 16], piece[64];
	static int32_t ids[1 << 17];
	struct chat_msg cm[TS_EXEC_MSGS_MAX];
	struct chat_span spans[TS_EXEC_MSGS_MAX];
	struct chat_tmpl ct;
	size_t n = 0, nsp = 0, off = 1, pos = 0;
	int64_t ra, rb, ni;

	if (t == NULL)
		t = make_chat_tok();
	if (size < 1 || size > 8192)
		return;
	CHECK(chat_tmpl_init(&ct, tmpls[p[0] % 6], strlen(tmpls[p[0] % 6]), "<|begin_of_text|>", 17,
			     "</s>", 4) == 0);
	while (off < size && n < TS_EXEC_MSGS_MAX) {
		const uint8_t *z = memchr(p + off, 0, size - off);
		size_t end = z ? (size_t)(z - p) : size;

		cm[n].role = (enum chat_role)(p[off] % 3);
		cm[n].content = (const char *)p + off + 1;
		cm[n].len = end > off ? end - off - 1 : 0;
		n++;
		off = end + 1;
	}
	ra = chat_render(&ct, cm, n, p[0] & 0x80, a, sizeof(a));
	rb = chat_render_spans(&ct, cm, n, p[0] & 0x80, b, sizeof(b), spans, n, &nsp);
	CHECK(ra == rb);
	if (ra < 0)
		return;
	CHECK(memcmp(a, b, (size_t)ra) == 0);
	CHECK(nsp <= n);
	for (size_t i = 0; i < nsp; i++)
		CHECK(spans[i].len > 0 && spans[i].off + spans[i].len <= (size_t)rb &&
		      (i == 0 || spans[i].off >= spans[i - 1].off + spans[i - 1].len));
	ni = chat_tokenize(t, b, (size_t)rb, spans, nsp, TOK_ENC_ADD_SPECIAL, ids,
			   sizeof(ids) / sizeof(ids[0]));
	CHECK(ni >= 0);
	for (int64_t i = 0; i < ni; i++) {
		int k = tok_piece(t, i ? ids[i - 1] : TOK_NULL, ids[i], TOK_DEC_SPECIAL, piece,
				  sizeof(piece));

		CHECK(k >= 0 && pos + (size_t)k <= (size_t)rb);
		CHECK(memcmp(piece, b + pos, (size_t)k) == 0);
		if (tok_type(t, ids[i]) == TOK_TYPE_CONTROL)
			for (size_t j = 0; j < nsp; j++)
				CHECK(pos + (size_t)k <= spans[j].off ||
				      pos >= spans[j].off + spans[j].len);
		pos += (size_t)k;
	}
	CHECK(pos == (size_t)rb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > (1u << 20))
		return 0;
	switch (data[0] % 4) {
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
	case 2:
		mode_resp(data + 1, size - 1);
		break;
	default:
		mode_chat(data + 1, size - 1);
		break;
	}
	return 0;
}
