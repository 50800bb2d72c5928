/* SPDX-License-Identifier: proprietary */
/*
 * Micro-benchmark (thread CPU time, so a loaded machine inflates it less) of the HTTP/1.1 parser
 * and writer (not a test: never fails on a timing). Prints ns per request beside a baseline
 * measured in the same run: copying the same bytes and finding their line ends (memcpy + memchr),
 * the least any parser that keeps the head has to do.
 *
 *   build-x/tests/unit/http/bench_h1 [iterations]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "h1.h"

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static char g_req[4096];
static size_t g_len;
static size_t g_head_len; /* bytes up to and including the empty line */
static uint8_t g_head[32 * 1024];
static volatile size_t g_sink;

/* A chat-completions request as the OpenAI Python SDK sends it, 1 KiB JSON body. */
static void build_request(void)
{
	static char body[1024 + 1];
	size_t i;
	int n;

	n = snprintf(body, sizeof(body),
		     "{\"model\":\"gpt-4o-mini\",\"stream\":true,\"messages\":[{\"role\":\"user\","
		     "\"content\":\"");
	for (i = (size_t)n; i < sizeof(body) - 4; i++)
		body[i] = (char)('a' + i % 26);
	memcpy(body + sizeof(body) - 4, "\"}]}", 4);
	body[sizeof(body) - 1] = '\0';
	g_len = (size_t)snprintf(
		g_req, sizeof(g_req),
		"POST /v1/chat/completions HTTP/1.1\r\n"
		"Host: api.twospeed.local\r\n"
		"Accept-Encoding: gzip, deflate\r\n"
		"Connection: keep-alive\r\n"
		"Accept: application/json\r\n"
		"Content-Type: application/json\r\n"
		"User-Agent: OpenAI/Python 1.54.3\r\n"
		"X-Stainless-Lang: python\r\n"
		"X-Stainless-Package-Version: 1.54.3\r\n"
		"X-Stainless-OS: Linux\r\n"
		"X-Stainless-Arch: x64\r\n"
		"X-Stainless-Runtime: CPython\r\n"
		"X-Stainless-Runtime-Version: 3.11.2\r\n"
		"Authorization: Bearer sk-proj-0123456789abcdefghijklmnopqrstuvwxyz0123456789\r\n"
		"X-Stainless-Async: false\r\n"
		"x-stainless-retry-count: 0\r\n"
		"Content-Length: %zu\r\n"
		"\r\n%s",
		strlen(body), body);
	g_head_len = (size_t)(strstr(g_req, "\r\n\r\n") + 4 - g_req);
}

/* Parse the request fed in segments of seg bytes; returns body bytes seen. */
static size_t parse_once(struct h1_parser *p, size_t seg)
{
	size_t off = 0, body = 0;

	h1_next(p);
	while (off < g_len) {
		const uint8_t *b = (const uint8_t *)g_req + off;
		size_t len = g_len - off < seg ? g_len - off : seg;

		off += len;
		for (;;) {
			struct h1_event ev;
			int rc = h1_parse(p, b, len, &ev);

			if (rc == H1_AGAIN)
				break;
			if (rc < 0) {
				fprintf(stderr, "parse error %s\n", h1_rc_name(rc));
				exit(1);
			}
			b += rc;
			len -= (size_t)rc;
			if (ev.type == H1_EV_BODY)
				body += ev.len;
			if (ev.type == H1_EV_DONE)
				return body;
		}
	}
	return body;
}

static void bench_parse(const char *name, size_t seg, long iters)
{
	struct h1_parser p;
	double t0, t1, b0, b1;
	static char copy[4096];

	if (h1_parser_init(&p, NULL, g_head, sizeof(g_head)) != 0)
		exit(1);
	t0 = now_ns();
	for (long i = 0; i < iters; i++)
		g_sink += parse_once(&p, seg);
	t1 = now_ns();
	/* baseline: copy the head, count its lines, skip the body */
	b0 = now_ns();
	for (long i = 0; i < iters; i++) {
		const char *s = g_req, *end = g_req + g_len, *lf;
		size_t lines = 0;

		memcpy(copy, g_req, g_len);
		while ((lf = memchr(s, '\n', (size_t)(end - s))) != NULL && lf - s > 1) {
			lines++;
			s = lf + 1;
		}
		g_sink += lines + (size_t)copy[i % g_len];
	}
	b1 = now_ns();
	/* the body is handed out as one slice, not scanned: ns/req is the number to
	 * read, GB/s counts every byte of the request */
	printf("parse %-16s %zu B (head %zu B): %7.1f ns/req %5.2f GB/s | baseline "
	       "memcpy+memchr %6.1f ns/req\n",
	       name, g_len, g_head_len, (t1 - t0) / (double)iters,
	       (double)g_len * (double)iters / (t1 - t0), (b1 - b0) / (double)iters);
}

static void bench_write(long iters)
{
	static uint8_t out[4096];
	static const char delta[] =
		"{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1,"
		"\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\" world\"},"
		"\"finish_reason\":null}]}";
	struct h1_response r = {.status = 200,
				.content_type = "application/json",
				.framing = H1_FRAME_LENGTH,
				.content_length = 1234};
	double t0, t1;

	t0 = now_ns();
	for (long i = 0; i < iters; i++)
		g_sink += (size_t)h1_write_sse_chunk(out, sizeof(out), NULL, delta,
						     sizeof(delta) - 1);
	t1 = now_ns();
	printf("write sse chunk (%zu B data):     %8.1f ns/event\n", sizeof(delta) - 1,
	       (t1 - t0) / (double)iters);
	t0 = now_ns();
	for (long i = 0; i < iters; i++)
		g_sink += (size_t)h1_write_head(out, sizeof(out), &r);
	t1 = now_ns();
	printf("write response head:              %8.1f ns/head\n", (t1 - t0) / (double)iters);
}

int main(int argc, char **argv)
{
	long iters = argc > 1 ? atol(argv[1]) : 200000;

	if (iters <= 0)
		iters = 200000;
	build_request();
	bench_parse("whole", g_len, iters);
	bench_parse("1448 B segments", 1448, iters);
	bench_parse("64 B segments", 64, iters);
	bench_parse("byte by byte", 1, iters / 20 + 1);
	bench_write(iters);
	return g_sink == 0 ? 1 : 0;
}
