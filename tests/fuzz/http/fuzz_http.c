/* SPDX-License-Identifier: proprietary */
/*
 * libFuzzer target for the HTTP/1.1 parser (dataplane/http).
 *
 * Input: byte 0-1 pick a split offset, byte 2 picks a limits profile, the rest is the
 * stream. The stream is fed whole and then in two parts cut at the chosen offset, each
 * part in its own exactly-sized heap copy (ASan catches any overread) that is freed
 * before the next part is fed. Both feeds are reduced to a digest of everything the
 * parser reported (request fields, body bytes, DONE, the error); the digests must be
 * equal, and every event must respect the API contract. Parsed requests also drive the
 * response writer with a too-small and a big enough buffer.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "h1.h"

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c))                                                                          \
			__builtin_trap();                                                          \
	} while (0)

struct digest {
	uint64_t h;
	uint64_t body_len; /* bytes of the current request's body */
};

static void mix(struct digest *d, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++) {
		d->h ^= b[i];
		d->h *= UINT64_C(0x100000001b3);
	}
}

static void mix_str(struct digest *d, struct h1_str s)
{
	uint32_t n = s.p != NULL ? s.len : UINT32_MAX;

	mix(d, &n, sizeof(n));
	if (s.p != NULL)
		mix(d, s.p, s.len);
}

static void on_head(struct digest *d, const struct h1_request *r)
{
	uint8_t out[512];
	uint8_t flags[4] = {(uint8_t)r->method, r->version_minor, r->keep_alive,
			    r->expect_continue};

	mix(d, flags, sizeof(flags));
	mix(d, &r->body_kind, sizeof(r->body_kind));
	mix(d, &r->content_length, sizeof(r->content_length));
	mix_str(d, r->method_str);
	mix_str(d, r->target);
	mix_str(d, r->host);
	mix_str(d, r->content_type);
	mix_str(d, r->authorization);
	mix_str(d, r->connection);
	mix_str(d, r->transfer_encoding);
	mix_str(d, r->expect);
	CHECK(r->n_other <= H1_HEADERS_MAX && r->n_other <= r->n_headers);
	CHECK(r->method_str.len > 0 && r->target.len > 0);
	CHECK(r->version_minor <= 1);
	CHECK(r->version_minor == 1 || !r->expect_continue);
	CHECK(r->version_minor == 0 || r->host.p != NULL);
	for (uint16_t i = 0; i < r->n_other; i++) {
		mix_str(d, r->other[i].name);
		mix_str(d, r->other[i].value);
		CHECK(r->other[i].name.len > 0);
	}
	d->body_len = 0;
	/* the writer must neither overflow nor accept a too-small buffer */
	char msg[64];
	size_t ml = r->target.len < sizeof(msg) - 1 ? r->target.len : sizeof(msg) - 1;

	memcpy(msg, r->target.p, ml);
	msg[ml] = '\0';
	ssize_t n = h1_write_json_error(out, sizeof(out), 400, msg, "invalid_request_error", NULL,
					!r->keep_alive);
	CHECK(n > 0 && (size_t)n <= sizeof(out));
	CHECK(h1_write_json_error(out, (size_t)n - 1, 400, msg, "invalid_request_error", NULL,
				  !r->keep_alive) == -ENOSPC);
}

/*
 * Body bytes as an SSE event: the exact size is predicted, one byte less is -ENOSPC,
 * and reading the event back (data lines joined with LF) gives the data with CRLF
 * and CR turned into LF and one trailing line end dropped.
 */
static void check_sse(const uint8_t *data, size_t len)
{
	size_t n = h1_sse_event_len(NULL, data, len), j = 0, k = 0;
	uint8_t *out = malloc(n), *norm = malloc(len + 1), *back = malloc(n);

	CHECK(out != NULL && norm != NULL && back != NULL);
	CHECK(h1_write_sse_event(out, n, NULL, data, len) == (ssize_t)n);
	CHECK(h1_write_sse_event(out, n - 1, NULL, data, len) == -ENOSPC);
	for (size_t i = 0; i < len; i++) {
		if (data[i] == '\r' && i + 1 < len && data[i + 1] == '\n')
			continue; /* the LF that follows ends the line */
		norm[k++] = data[i] == '\r' ? '\n' : data[i];
	}
	if (k > 0 && norm[k - 1] == '\n')
		k--;
	/* out = ("data: " line "\n")+ "\n" */
	for (size_t i = 0; i + 1 < n;) {
		CHECK(n - i >= 7 && memcmp(out + i, "data: ", 6) == 0);
		i += 6;
		if (i > 6) /* not the first line: lines are joined with LF */
			back[j++] = '\n';
		while (out[i] != '\n')
			back[j++] = out[i++];
		i++;
	}
	CHECK(out[n - 1] == '\n' && out[n - 2] == '\n');
	CHECK(j == k && memcmp(back, norm, k) == 0);
	free(out);
	free(norm);
	free(back);
}

/* Feed one part; returns false once the parser failed (its error is in the digest). */
static bool feed_part(struct h1_parser *p, struct digest *d, const uint8_t *buf, size_t len)
{
	for (;;) {
		struct h1_event ev;
		int rc = h1_parse(p, buf, len, &ev);

		if (rc == H1_AGAIN)
			return true;
		if (rc < 0) {
			uint16_t st = h1_rc_status(rc);

			CHECK(rc != H1_E_STATE);
			CHECK(st >= 400 && st <= 505);
			mix(d, &rc, sizeof(rc));
			return false;
		}
		CHECK((size_t)rc <= len);
		switch (ev.type) {
		case H1_EV_HEAD:
			on_head(d, h1_parser_request(p));
			break;
		case H1_EV_BODY:
			CHECK(ev.len > 0 && ev.data >= buf && ev.data + ev.len <= buf + rc);
			mix(d, ev.data, ev.len);
			d->body_len += ev.len;
			check_sse(ev.data, ev.len);
			CHECK(d->body_len <= p->lim.body_max);
			break;
		case H1_EV_DONE: {
			const struct h1_request *r = h1_parser_request(p);

			CHECK(r->body_kind != H1_BODY_LENGTH || d->body_len == r->content_length);
			mix(d, "DONE", 4);
			h1_next(p);
			break;
		}
		default:
			CHECK(0);
		}
		buf += rc;
		len -= (size_t)rc;
	}
}

static uint64_t run(const struct h1_limits *lim, const uint8_t *data, size_t len, size_t cut)
{
	static uint8_t head[64 * 1024];
	struct h1_parser p;
	struct digest d = {UINT64_C(0xcbf29ce484222325), 0};
	size_t off[3] = {0, cut, len};

	CHECK(h1_head_buf_size(lim) <= sizeof(head));
	CHECK(h1_parser_init(&p, lim, head, (uint32_t)h1_head_buf_size(lim)) == 0);
	for (int k = 0; k < 2; k++) {
		size_t n = off[k + 1] - off[k];
		uint8_t *part = malloc(n != 0 ? n : 1);
		bool ok;

		CHECK(part != NULL);
		memcpy(part, data + off[k], n);
		ok = feed_part(&p, &d, part, n);
		memset(part, 0xa5, n); /* a parser keeping pointers into it would notice */
		free(part);
		if (!ok)
			break;
	}
	mix(&d, &p.state, sizeof(p.state));
	return d.h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct h1_limits lim;
	size_t cut;

	if (size < 3)
		return 0;
	h1_limits_default(&lim);
	switch (data[2] % 4) {
	case 1: /* tight limits, so the fuzzer reaches them */
		lim.request_line_max = 64;
		lim.head_max = 128;
		lim.headers_max = 4;
		lim.body_max = 64;
		break;
	case 2:
		lim.request_line_max = 16;
		lim.head_max = 32;
		lim.headers_max = 1;
		lim.body_max = 1;
		break;
	default:
		break;
	}
	cut = ((size_t)data[0] | (size_t)data[1] << 8) % (size - 3 + 1);
	data += 3;
	size -= 3;
	CHECK(run(&lim, data, size, size) == run(&lim, data, size, cut));
	return 0;
}
