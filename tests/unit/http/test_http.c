/* SPDX-License-Identifier: proprietary */
/*
 * CUnit suite for the HTTP/1.1 parser and response writer (dataplane/http).
 *
 * Every parser input is fed whole, byte by byte and split at every offset; each part
 * is copied so that it ends against a PROT_NONE page (an overread faults) and the
 * previous part is poisoned before the next one is fed (the parser must not keep
 * pointers into consumed input). The outcome of a feed is rendered to a string
 * (requests, bodies, final state) so every split can be compared with the whole feed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "h1.h"

/* ---- guard pages ---- */

struct guard {
	uint8_t *base;
	size_t size; /* usable bytes before the PROT_NONE page */
};

static struct guard g_in, g_head, g_out;

static int guard_init(struct guard *g, size_t size)
{
	long pg = sysconf(_SC_PAGESIZE);
	size_t usable = (size + (size_t)pg - 1) / (size_t)pg * (size_t)pg;
	uint8_t *m = mmap(NULL, usable + (size_t)pg, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (m == MAP_FAILED)
		return -1;
	if (mprotect(m + usable, (size_t)pg, PROT_NONE) != 0)
		return -1;
	g->base = m;
	g->size = usable;
	return 0;
}

/* Pointer to n bytes ending exactly at the guard page. */
static uint8_t *guard_end(const struct guard *g, size_t n)
{
	return g->base + g->size - n;
}

static uint8_t *guard_copy(const struct guard *g, const void *src, size_t n)
{
	uint8_t *p = guard_end(g, n);

	memset(g->base, 0xa5, g->size); /* poison what an earlier part left */
	if (n != 0)
		memcpy(p, src, n);
	return p;
}

/* ---- rendering a feed's outcome ---- */

struct out {
	char s[1 << 21];
	size_t len;
};

static struct out g_o1, g_o2;

static void o_put(struct out *o, const char *s, size_t n)
{
	for (size_t i = 0; i < n && o->len + 5 < sizeof(o->s); i++) {
		uint8_t c = (uint8_t)s[i];

		if (c >= 0x20 && c < 0x7f && c != '\\') {
			o->s[o->len++] = (char)c;
		} else {
			o->len +=
				(size_t)snprintf(o->s + o->len, sizeof(o->s) - o->len, "\\%02x", c);
		}
	}
	o->s[o->len] = '\0';
}

static void o_str(struct out *o, const char *s)
{
	size_t n = strlen(s);

	if (o->len + n + 1 < sizeof(o->s)) {
		memcpy(o->s + o->len, s, n);
		o->len += n;
		o->s[o->len] = '\0';
	}
}

static void o_fmt(struct out *o, const char *fmt, unsigned long long v)
{
	char tmp[64];

	snprintf(tmp, sizeof(tmp), fmt, v);
	o_str(o, tmp);
}

static void o_slice(struct out *o, const char *tag, struct h1_str s)
{
	if (s.p == NULL)
		return;
	o_str(o, tag);
	o_put(o, s.p, s.len);
}

static void o_head(struct out *o, const struct h1_request *r)
{
	o_str(o, "REQ ");
	o_put(o, r->method_str.p, r->method_str.len);
	o_fmt(o, "(%llu) ", r->method);
	o_put(o, r->target.p, r->target.len);
	o_fmt(o, " 1.%llu", r->version_minor);
	o_fmt(o, " ka=%llu", r->keep_alive);
	o_fmt(o, " ex=%llu", r->expect_continue);
	o_fmt(o, " bk=%llu", r->body_kind);
	if (r->body_kind == H1_BODY_LENGTH)
		o_fmt(o, " cl=%llu", r->content_length);
	o_slice(o, " host=", r->host);
	o_slice(o, " ct=", r->content_type);
	o_slice(o, " auth=", r->authorization);
	o_slice(o, " conn=", r->connection);
	o_slice(o, " te=", r->transfer_encoding);
	o_slice(o, " expect=", r->expect);
	o_slice(o, " clh=", r->content_length_str);
	o_fmt(o, " nh=%llu", r->n_headers);
	for (uint16_t i = 0; i < r->n_other; i++) {
		o_str(o, " [");
		o_put(o, r->other[i].name.p, r->other[i].name.len);
		o_str(o, "=");
		o_put(o, r->other[i].value.p, r->other[i].value.len);
		o_str(o, "]");
	}
}

/* ---- feeding ---- */

static struct h1_parser g_p;
static struct h1_limits g_lim;

static void p_init(const struct h1_limits *lim)
{
	size_t hs = h1_head_buf_size(lim);

	CU_ASSERT_FATAL(hs <= g_head.size);
	CU_ASSERT_EQUAL_FATAL(h1_parser_init(&g_p, lim, guard_end(&g_head, hs), (uint32_t)hs), 0);
}

/*
 * Feed one part. Renders events into o; returns false once the parser failed.
 * Bodies are rendered with their bytes and a "|" between BODY events is not kept, so
 * different splits compare equal.
 */
static bool feed_part(struct out *o, const uint8_t *p, size_t n, bool *in_body)
{
	for (;;) {
		struct h1_event ev;
		int rc = h1_parse(&g_p, p, n, &ev);

		if (rc == H1_AGAIN)
			return true;
		if (rc < 0) {
			o_str(o, *in_body ? "\n" : "");
			o_fmt(o, "ERR %llu ", h1_rc_status(rc));
			o_str(o, h1_rc_name(rc));
			return false;
		}
		CU_ASSERT((size_t)rc <= n);
		p += rc;
		n -= (size_t)rc;
		switch (ev.type) {
		case H1_EV_HEAD:
			o_head(o, h1_parser_request(&g_p));
			o_str(o, "\n  body=");
			*in_body = true;
			break;
		case H1_EV_BODY:
			CU_ASSERT(ev.len > 0);
			CU_ASSERT(ev.data >= p - rc && ev.data + ev.len <= p);
			o_put(o, (const char *)ev.data, ev.len);
			break;
		case H1_EV_DONE:
			o_str(o, "\n");
			*in_body = false;
			CU_ASSERT_TRUE(h1_parser_started(&g_p));
			h1_next(&g_p);
			break;
		default:
			CU_FAIL("event without type");
			return false;
		}
	}
}

/* Feed `in` cut at the given offsets (ascending); render into o. */
static void feed(struct out *o, const char *in, size_t len, const size_t *cuts, size_t ncuts)
{
	size_t prev = 0;
	bool in_body = false, ok = true;

	o->len = 0;
	o->s[0] = '\0';
	p_init(&g_lim);
	for (size_t k = 0; k <= ncuts && ok; k++) {
		size_t end = k < ncuts ? cuts[k] : len;
		uint8_t *p = guard_copy(&g_in, in + prev, end - prev);

		ok = feed_part(o, p, end - prev, &in_body);
		prev = end;
	}
	if (ok && (h1_parser_started(&g_p) || in_body))
		o_str(o, in_body ? "\nPENDING" : "PENDING");
}

static void feed_whole(struct out *o, const char *in, size_t len)
{
	feed(o, in, len, NULL, 0);
}

/*
 * The whole feed must render as `expect`; byte by byte and every two-part split
 * must render identically.
 */
static void check_all_splits(const char *in, size_t len, const char *expect)
{
	static size_t cuts[1 << 16];

	feed_whole(&g_o1, in, len);
	if (strcmp(g_o1.s, expect) != 0)
		fprintf(stderr, "\nwhole feed of [%.*s]:\n got: %s\nwant: %s\n",
			(int)(len > 200 ? 200 : len), in, g_o1.s, expect);
	CU_ASSERT_STRING_EQUAL(g_o1.s, expect);
	CU_ASSERT_FATAL(len < sizeof(cuts) / sizeof(cuts[0]));
	for (size_t i = 0; i + 1 < len; i++)
		cuts[i] = i + 1;
	feed(&g_o2, in, len, cuts, len > 0 ? len - 1 : 0);
	if (strcmp(g_o2.s, g_o1.s) != 0)
		fprintf(stderr, "\nbyte by byte:\n got: %s\nwant: %s\n", g_o2.s, g_o1.s);
	CU_ASSERT_STRING_EQUAL(g_o2.s, g_o1.s);
	for (size_t k = 0; k <= len; k++) {
		cuts[0] = k;
		feed(&g_o2, in, len, cuts, 1);
		if (strcmp(g_o2.s, g_o1.s) != 0) {
			fprintf(stderr, "\nsplit at %zu:\n got: %s\nwant: %s\n", k, g_o2.s, g_o1.s);
			CU_FAIL("split result differs");
			break;
		}
	}
	/* three parts, at offsets from a fixed-seed generator */
	for (uint32_t k = 0, x = 2463534242u; k < 64; k++) {
		size_t a, b;

		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		a = x % (len + 1);
		b = (x >> 8) % (len + 1);
		cuts[0] = a < b ? a : b;
		cuts[1] = a < b ? b : a;
		feed(&g_o2, in, len, cuts, 2);
		if (strcmp(g_o2.s, g_o1.s) != 0) {
			fprintf(stderr, "\nsplit at %zu,%zu:\n got: %s\nwant: %s\n", cuts[0],
				cuts[1], g_o2.s, g_o1.s);
			CU_FAIL("three-part split result differs");
			break;
		}
	}
}

#define CHECK(in, expect) check_all_splits((in), sizeof(in) - 1, (expect))

static void lim_default(void)
{
	h1_limits_default(&g_lim);
}

/* ---- parser: valid shapes ---- */

static void test_simple_get(void)
{
	lim_default();
	CHECK("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n",
	      "REQ GET(1) / 1.1 ka=1 ex=0 bk=0 host=example.com nh=1\n  body=\n");
	/* a request not yet complete stays pending */
	CHECK("GET / HTTP/1.1\r\nHost: example.com\r\n", "PENDING");
}

static void test_headers_ows_and_other(void)
{
	lim_default();
	CHECK("GET /healthz?x=1&y=%20 HTTP/1.1\r\n"
	      "host:h:8080\r\n"
	      "X-Empty:\r\n"
	      "X-Trim: \t a  b \t \r\n"
	      "User-Agent: curl/8.0\r\n"
	      "X-Obs: caf\xc3\xa9\r\n"
	      "ACCEPT: */*\r\n"
	      "\r\n",
	      "REQ GET(1) /healthz?x=1&y=%20 1.1 ka=1 ex=0 bk=0 host=h:8080 nh=6"
	      " [X-Empty=] [X-Trim=a  b] [User-Agent=curl/8.0] [X-Obs=caf\\c3\\a9]"
	      " [ACCEPT=*/*]\n  body=\n");
}

static void test_find_header(void)
{
	static const char in[] = "GET / HTTP/1.1\r\nHost: a\r\nX-Request-Id: 42\r\n\r\n";
	uint8_t head[64 * 1024];
	struct h1_parser p;
	struct h1_event ev;
	const struct h1_header *h;

	CU_ASSERT_EQUAL_FATAL(h1_parser_init(&p, NULL, head, sizeof(head)), 0);
	CU_ASSERT_EQUAL(h1_parse(&p, (const uint8_t *)in, sizeof(in) - 1, &ev),
			(int)(sizeof(in) - 1));
	CU_ASSERT_EQUAL(ev.type, H1_EV_HEAD);
	h = h1_find_header(&p.req, "x-request-id", 12);
	CU_ASSERT_PTR_NOT_NULL_FATAL(h);
	CU_ASSERT_EQUAL(h->value.len, 2);
	CU_ASSERT_NSTRING_EQUAL(h->value.p, "42", 2);
	CU_ASSERT_PTR_NULL(h1_find_header(&p.req, "x-request", 9));
	CU_ASSERT_PTR_NULL(h1_find_header(&p.req, "host", 4)); /* selected, not "other" */
	/* head fed in one call: the DONE event follows with 0 bytes consumed */
	CU_ASSERT_EQUAL(h1_parse(&p, NULL, 0, &ev), 0);
	CU_ASSERT_EQUAL(ev.type, H1_EV_DONE);
	/* fed again before h1_next(): refused, not sticky */
	CU_ASSERT_EQUAL(h1_parse(&p, (const uint8_t *)in, 1, &ev), H1_E_STATE);
	h1_next(&p);
	CU_ASSERT_EQUAL(h1_parse(&p, (const uint8_t *)in, 1, &ev), H1_AGAIN);
}

static void test_keep_alive_rules(void)
{
	lim_default();
	CHECK("GET / HTTP/1.0\r\n\r\n", "REQ GET(1) / 1.0 ka=0 ex=0 bk=0 nh=0\n  body=\n");
	CHECK("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
	      "REQ GET(1) / 1.0 ka=1 ex=0 bk=0 conn=keep-alive nh=1\n  body=\n");
	CHECK("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\nConnection: close\r\n\r\n",
	      "REQ GET(1) / 1.0 ka=0 ex=0 bk=0 conn=close nh=2\n  body=\n");
	CHECK("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
	      "REQ GET(1) / 1.1 ka=0 ex=0 bk=0 host=a conn=close nh=2\n  body=\n");
	CHECK("GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, CLOSE\r\n\r\n",
	      "REQ GET(1) / 1.1 ka=0 ex=0 bk=0 host=a conn=Upgrade, CLOSE nh=2\n  body=\n");
	CHECK("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, close\r\n\r\n",
	      "REQ GET(1) / 1.1 ka=0 ex=0 bk=0 host=a conn=keep-alive, close nh=2\n  body=\n");
	CHECK("GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\n\r\n",
	      "REQ GET(1) / 1.1 ka=1 ex=0 bk=0 host=a conn=upgrade nh=2\n  body=\n");
}

static void test_request_line_forms(void)
{
	lim_default();
	/* absolute-form, asterisk-form, authority-form, extension method, 1.2 -> 1.1 */
	CHECK("GET http://h/p?q HTTP/1.1\r\nHost: h\r\n\r\n",
	      "REQ GET(1) http://h/p?q 1.1 ka=1 ex=0 bk=0 host=h nh=1\n  body=\n");
	CHECK("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n",
	      "REQ OPTIONS(6) * 1.1 ka=1 ex=0 bk=0 host=h nh=1\n  body=\n");
	CHECK("CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n",
	      "REQ CONNECT(8) h:443 1.1 ka=1 ex=0 bk=0 host=h:443 nh=1\n  body=\n");
	CHECK("PROPFIND /d HTTP/1.2\r\nHost: h\r\n\r\n",
	      "REQ PROPFIND(0) /d 1.1 ka=1 ex=0 bk=0 host=h nh=1\n  body=\n");
	/* empty Host is allowed (RFC 9112 3.2) */
	CHECK("GET / HTTP/1.1\r\nHost:\r\n\r\n",
	      "REQ GET(1) / 1.1 ka=1 ex=0 bk=0 host= nh=1\n  body=\n");
	/* bare LF line ends and leading empty lines (RFC 9112 2.2) */
	CHECK("\r\n\nHEAD /x HTTP/1.1\nHost: h\n\n",
	      "REQ HEAD(2) /x 1.1 ka=1 ex=0 bk=0 host=h nh=1\n  body=\n");
}

static void test_post_content_length(void)
{
	lim_default();
	CHECK("POST /v1/chat/completions HTTP/1.1\r\n"
	      "Host: api.local\r\n"
	      "Authorization: Bearer sk-test\r\n"
	      "Content-Type: application/json\r\n"
	      "Content-Length: 27\r\n"
	      "\r\n"
	      "{\"model\":\"m\",\"stream\":true}",
	      "REQ POST(3) /v1/chat/completions 1.1 ka=1 ex=0 bk=1 cl=27 host=api.local"
	      " ct=application/json auth=Bearer sk-test clh=27 nh=4\n"
	      "  body={\"model\":\"m\",\"stream\":true}\n");
	/* identical list values are one length (RFC 9110 8.6); CL 0 means no body */
	CHECK("POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 3, 3\r\n"
	      "Content-Length: 3\r\n\r\nabc",
	      "REQ POST(3) /echo 1.1 ka=1 ex=0 bk=1 cl=3 host=h clh=3 nh=3\n  body=abc\n");
	CHECK("POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n",
	      "REQ POST(3) /echo 1.1 ka=1 ex=0 bk=0 host=h clh=0 nh=2\n  body=\n");
	/* body still arriving */
	CHECK("POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc",
	      "REQ POST(3) /echo 1.1 ka=1 ex=0 bk=1 cl=10 host=h clh=10 nh=2\n  body=abc\nPENDING");
}

static void test_expect_continue(void)
{
	lim_default();
	CHECK("POST /echo HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\n"
	      "Content-Length: 2\r\n\r\nhi",
	      "REQ POST(3) /echo 1.1 ka=1 ex=1 bk=1 cl=2 host=h expect=100-Continue clh=2"
	      " nh=3\n  body=hi\n");
	/* RFC 9110 10.1.1: ignored in HTTP/1.0 */
	CHECK("POST /echo HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi",
	      "REQ POST(3) /echo 1.0 ka=0 ex=0 bk=1 cl=2 expect=100-continue clh=2 nh=2\n"
	      "  body=hi\n");
}

static void test_chunked(void)
{
	lim_default();
	/* extensions (with BWS and quoted values), upper-case hex, leading zeros,
	 * trailers, and the last chunk with an extension too */
	CHECK("POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: Chunked\r\n\r\n"
	      "5;name=val\r\nhello\r\n"
	      "0A ; a=\"x;y\" ;b\r\n, world!!!\r\n"
	      "001\r\n\n\r\n"
	      "0;last\r\n"
	      "X-Trailer: t\r\n"
	      "X-Checksum:abc \r\n"
	      "\r\n",
	      "REQ POST(3) /echo 1.1 ka=1 ex=0 bk=2 host=h te=Chunked nh=2\n"
	      "  body=hello, world!!!\\0a\n");
	/* no trailers, bare LF everywhere */
	CHECK("POST /echo HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\n\n3\nabc\n0\n\n",
	      "REQ POST(3) /echo 1.1 ka=1 ex=0 bk=2 host=h te=chunked nh=2\n  body=abc\n");
	/* empty list elements around chunked are fine (RFC 9110 5.6.1) */
	CHECK("POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: , chunked ,\r\n\r\n"
	      "0\r\n\r\n",
	      "REQ POST(3) /echo 1.1 ka=1 ex=0 bk=2 host=h te=, chunked , nh=2\n  body=\n");
	/* still inside the trailers */
	CHECK("POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
	      "2\r\nab\r\n0\r\nX: y\r\n",
	      "REQ POST(3) /echo 1.1 ka=1 ex=0 bk=2 host=h te=chunked nh=2\n  body=ab\nPENDING");
}

static void test_pipelined(void)
{
	lim_default();
	CHECK("GET /a HTTP/1.1\r\nHost: h\r\n\r\n"
	      "POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nping"
	      "POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
	      "2\r\nok\r\n0\r\n\r\n"
	      "\r\n" /* a stray CRLF after a body is tolerated (RFC 9112 2.2) */
	      "GET /b HTTP/1.0\r\n\r\n"
	      "GET /c HTTP/1.1\r\nHost",
	      "REQ GET(1) /a 1.1 ka=1 ex=0 bk=0 host=h nh=1\n  body=\n"
	      "REQ POST(3) /echo 1.1 ka=1 ex=0 bk=1 cl=4 host=h clh=4 nh=2\n  body=ping\n"
	      "REQ POST(3) /echo 1.1 ka=1 ex=0 bk=2 host=h te=chunked nh=2\n  body=ok\n"
	      "REQ GET(1) /b 1.0 ka=0 ex=0 bk=0 nh=0\n  body=\n"
	      "PENDING");
	/* an error in the second request leaves the first one intact */
	CHECK("GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\n\r\n",
	      "REQ GET(1) /a 1.1 ka=1 ex=0 bk=0 host=h nh=1\n  body=\nERR 400 host");
}

static void test_methods_and_10_keep_alive(void)
{
	lim_default();
	/* each method the front door may see, back to back on one 1.0 keep-alive
	 * connection, bodies on PUT and PATCH */
	CHECK("PUT /v1/files/1 HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nab"
	      "PATCH /x HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\nc"
	      "DELETE /v1/files/1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
	      "TRACE / HTTP/1.0\r\n\r\n",
	      "REQ PUT(4) /v1/files/1 1.0 ka=1 ex=0 bk=1 cl=2 conn=keep-alive clh=2 nh=2\n"
	      "  body=ab\n"
	      "REQ PATCH(7) /x 1.0 ka=1 ex=0 bk=1 cl=1 conn=keep-alive clh=1 nh=2\n  body=c\n"
	      "REQ DELETE(5) /v1/files/1 1.0 ka=1 ex=0 bk=0 conn=keep-alive nh=1\n  body=\n"
	      "REQ TRACE(9) / 1.0 ka=0 ex=0 bk=0 nh=0\n  body=\n");
	/* methods are case-sensitive (RFC 9110 9.1): "get" is an extension method */
	CHECK("get / HTTP/1.1\r\nHost: h\r\n\r\n",
	      "REQ get(0) / 1.1 ka=1 ex=0 bk=0 host=h nh=1\n  body=\n");
}

/* ---- parser: errors ---- */

static void test_errors_syntax(void)
{
	lim_default();
	CHECK("GET  / HTTP/1.1\r\nHost: h\r\n\r\n", "ERR 400 syntax");
	CHECK("GET /\r\n\r\n", "ERR 400 syntax");
	CHECK(" GET / HTTP/1.1\r\n", "ERR 400 syntax");
	CHECK("GET / HTTP/1.1 \r\n", "ERR 400 syntax");
	CHECK("GET / HTTX/1.1\r\n", "ERR 400 syntax");
	CHECK("GET / HTTP/1.10\r\n", "ERR 400 syntax");
	CHECK("G@T / HTTP/1.1\r\n", "ERR 400 syntax");
	CHECK("GET /a\x7f HTTP/1.1\r\n", "ERR 400 syntax");
	CHECK("GET /\xc3\xa9 HTTP/1.1\r\n", "ERR 400 syntax");
	CHECK("GET / HTTP/1.1\r\nHost : h\r\n\r\n", "ERR 400 syntax");
	CHECK("GET / HTTP/1.1\r\n: h\r\n\r\n", "ERR 400 syntax");
	CHECK("GET / HTTP/1.1\r\nHost h\r\n\r\n", "ERR 400 syntax");
	CHECK("GET / HTTP/1.1\r\nHost: h\r\nX: a\x01"
	      "b\r\n\r\n",
	      "ERR 400 syntax");
	static const char nul[] = "GET / HTTP/1.1\r\nHost: h\r\nX: a\0b\r\n\r\n";
	check_all_splits(nul, sizeof(nul) - 1, "ERR 400 syntax");
	CHECK("GET / HTTP/1.1\r\nHost: h\r\nContent-Type: a\r\nContent-Type: b\r\n\r\n",
	      "ERR 400 syntax");
	CHECK("GET / HTTP/1.1\r\nHost: h\r\nAuthorization: a\r\nauthorization: a\r\n\r\n",
	      "ERR 400 syntax");
}

static void test_errors_cr_fold_host(void)
{
	lim_default();
	CHECK("GET / HTTP/1.1\rHost: h\r\n\r\n", "ERR 400 bare_cr");
	CHECK("GET / HTTP/1.1\r\nHost: h\rX: y\r\n\r\n", "ERR 400 bare_cr");
	CHECK("\rGET / HTTP/1.1\r\n", "ERR 400 bare_cr");
	CHECK("GET / HTTP/1.1\r\nHost: h\r\n\r\r\n", "ERR 400 bare_cr");
	CHECK("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n  b\r\n\r\n", "ERR 400 obs_fold");
	CHECK("GET / HTTP/1.1\r\n\tHost: h\r\n\r\n", "ERR 400 obs_fold");
	CHECK("GET / HTTP/1.1\r\n\r\n", "ERR 400 host");
	CHECK("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", "ERR 400 host");
	CHECK("GET / HTTP/1.1\r\nHost: a b\r\n\r\n", "ERR 400 host");
	CHECK("\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n", "ERR 400 too_many_crlf");
}

static void test_errors_framing(void)
{
	lim_default();
	/* RFC 9112 6.3: both framings is a smuggling attempt */
	CHECK("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n"
	      "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
	      "ERR 400 cl_and_te");
	CHECK("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
	      "Content-Length: 3\r\n\r\n",
	      "ERR 400 cl_and_te");
	CHECK("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n",
	      "ERR 400 content_length");
	CHECK("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3, 4\r\n\r\n",
	      "ERR 400 content_length");
	CHECK("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n", "ERR 400 content_length");
	CHECK("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1 2\r\n\r\n",
	      "ERR 400 content_length");
	CHECK("POST / HTTP/1.1\r\nHost: h\r\nContent-Length:\r\n\r\n", "ERR 400 content_length");
	CHECK("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0x10\r\n\r\n",
	      "ERR 400 content_length");
	/* 2^64 overflows; 2^64-1 parses and is then too large */
	CHECK("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 18446744073709551616\r\n\r\n",
	      "ERR 400 content_length");
	CHECK("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 18446744073709551615\r\n\r\n",
	      "ERR 413 body_too_large");
	CHECK("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n",
	      "ERR 501 te_unknown");
	CHECK("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
	      "ERR 501 te_unknown");
	CHECK("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
	      "Transfer-Encoding: identity\r\n\r\n",
	      "ERR 501 te_unknown");
	CHECK("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
	      "ERR 400 te_bad");
	CHECK("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: ,\r\n\r\n", "ERR 400 te_bad");
	CHECK("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "ERR 400 te_bad");
	CHECK("GET / HTTP/2.0\r\nHost: h\r\n\r\n", "ERR 505 version");
	CHECK("GET / HTTP/0.9\r\n", "ERR 505 version");
	CHECK("POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue, x\r\n\r\n", "ERR 417 expect");
}

#define CH_HEAD "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
#define CH_REQ "REQ POST(3) / 1.1 ka=1 ex=0 bk=2 host=h te=chunked nh=2\n  body="

static void test_errors_chunked(void)
{
	lim_default();
	CHECK(CH_HEAD "zz\r\n", CH_REQ "\nERR 400 chunk");
	CHECK(CH_HEAD "\r\n", CH_REQ "\nERR 400 chunk");
	CHECK(CH_HEAD ";x\r\n", CH_REQ "\nERR 400 chunk");
	CHECK(CH_HEAD "3 4\r\n", CH_REQ "\nERR 400 chunk");
	CHECK(CH_HEAD "3\r\nabcX\r\n", CH_REQ "abc\nERR 400 chunk");
	CHECK(CH_HEAD "3\r\nabc\rX", CH_REQ "abc\nERR 400 bare_cr");
	CHECK(CH_HEAD "3\rX", CH_REQ "\nERR 400 bare_cr");
	CHECK(CH_HEAD "3;a=\x01\r\n", CH_REQ "\nERR 400 chunk");
	CHECK(CH_HEAD "0\r\n X: y\r\n\r\n", CH_REQ "\nERR 400 obs_fold");
	CHECK(CH_HEAD "0\r\nX y\r\n\r\n", CH_REQ "\nERR 400 chunk");
	CHECK(CH_HEAD "0\r\nX: \x01\r\n\r\n", CH_REQ "\nERR 400 chunk");
	CHECK(CH_HEAD "0\r\nX: y\rz", CH_REQ "\nERR 400 bare_cr");
	/* sizes that overflow 64 bits, or only the body budget */
	CHECK(CH_HEAD "fffffffffffffffffff\r\n", CH_REQ "\nERR 413 body_too_large");
	CHECK(CH_HEAD "110001\r\n", CH_REQ "\nERR 413 body_too_large");
}

/* Request line limit: exactly at it is fine, one byte over is 414. */
static void test_limit_request_line(void)
{
	static char in[512], want[1024];
	size_t n;

	h1_limits_default(&g_lim);
	g_lim.request_line_max = 40;
	/* "GET /" + 'a' * k + " HTTP/1.0" is 14 + k bytes */
	n = (size_t)snprintf(in, sizeof(in), "GET /%s HTTP/1.0\r\n\r\n",
			     "aaaaaaaaaaaaaaaaaaaaaaaaaa");
	snprintf(want, sizeof(want), "REQ GET(1) /%s 1.0 ka=0 ex=0 bk=0 nh=0\n  body=\n",
		 "aaaaaaaaaaaaaaaaaaaaaaaaaa");
	CU_ASSERT_EQUAL(n - 4, 40);
	check_all_splits(in, n, want);
	n = (size_t)snprintf(in, sizeof(in), "GET /%s HTTP/1.0\r\n\r\n",
			     "aaaaaaaaaaaaaaaaaaaaaaaaaaa");
	check_all_splits(in, n, "ERR 414 uri_too_long");
	/* over the limit before any LF arrives: refused without waiting for it */
	check_all_splits(in, 42, "ERR 414 uri_too_long");
	check_all_splits(in, 41, "ERR 414 uri_too_long");
	check_all_splits(in, 40, "PENDING");
	/* bare LF: the limit counts the same content bytes */
	n = (size_t)snprintf(in, sizeof(in), "GET /%s HTTP/1.0\n\n", "aaaaaaaaaaaaaaaaaaaaaaaaaa");
	check_all_splits(in, n, want);
}

/* Header section limit (bytes incl. CRLFs and the final empty line). */
static void test_limit_head_bytes(void)
{
	static char in[512];
	char want[512];
	size_t n;

	h1_limits_default(&g_lim);
	g_lim.head_max = 64;
	/* "Host: h\r\n" (9) + "X: " + v + "\r\n" (5 + k) + "\r\n" (2) = 16 + k */
	n = (size_t)snprintf(in, sizeof(in), "GET / HTTP/1.1\r\nHost: h\r\nX: %.*s\r\n\r\n", 48,
			     "vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv");
	snprintf(want, sizeof(want),
		 "REQ GET(1) / 1.1 ka=1 ex=0 bk=0 host=h nh=2 [X=%.*s]\n  body=\n", 48,
		 "vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv");
	CU_ASSERT_EQUAL(n - 16, 64);
	check_all_splits(in, n, want);
	n = (size_t)snprintf(in, sizeof(in), "GET / HTTP/1.1\r\nHost: h\r\nX: %.*s\r\n\r\n", 49,
			     "vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv");
	check_all_splits(in, n, "ERR 431 head_too_large");
	/* trailers get the same byte limit */
	g_lim.head_max = 40; /* the head below takes 39 */
	CHECK(CH_HEAD "0\r\nX: 0123456789abcdef0123456789abcdef0\r\n\r\n", CH_REQ "\n");
	CHECK(CH_HEAD "0\r\nX: 0123456789abcdef0123456789abcdef01\r\n\r\n",
	      CH_REQ "\nERR 431 head_too_large");
}

static void test_limit_header_count(void)
{
	h1_limits_default(&g_lim);
	g_lim.headers_max = 3;
	CHECK("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\n\r\n",
	      "REQ GET(1) / 1.1 ka=1 ex=0 bk=0 host=h nh=3 [A=1] [B=2]\n  body=\n");
	CHECK("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n",
	      "ERR 431 too_many_headers");
}

static void test_limit_body(void)
{
	h1_limits_default(&g_lim);
	g_lim.body_max = 10;
	CHECK("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n0123456789",
	      "REQ POST(3) / 1.1 ka=1 ex=0 bk=1 cl=10 host=h clh=10 nh=2\n  body=0123456789\n");
	CHECK("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n", "ERR 413 body_too_large");
	/* chunked: the sum of chunks counts, refused at the size line that breaks it */
	CHECK(CH_HEAD "6\r\n012345\r\n4\r\n6789\r\n0\r\n\r\n", CH_REQ "0123456789\n");
	CHECK(CH_HEAD "6\r\n012345\r\n5\r\n", CH_REQ "012345\nERR 413 body_too_large");
}

static void test_init_args(void)
{
	uint8_t buf[16];
	struct h1_limits l;

	h1_limits_default(&l);
	CU_ASSERT_EQUAL(h1_parser_init(&g_p, &l, buf, sizeof(buf)), -EINVAL);
	CU_ASSERT_EQUAL(h1_parser_init(&g_p, &l, NULL, 0), -EINVAL);
	l.headers_max = H1_HEADERS_MAX + 1;
	CU_ASSERT_EQUAL(
		h1_parser_init(&g_p, &l, guard_end(&g_head, g_head.size), (uint32_t)g_head.size),
		-EINVAL);
	CU_ASSERT_EQUAL(h1_head_buf_size(NULL), 8u * 1024 + 2 + 16u * 1024);
	CU_ASSERT_EQUAL(h1_rc_status(H1_E_URI_TOO_LONG), 414);
	CU_ASSERT_EQUAL(h1_rc_status(H1_E_TOO_MANY_HEADERS), 431);
	CU_ASSERT_STRING_EQUAL(h1_rc_name(H1_E_CL_AND_TE), "cl_and_te");
}

/* A 1 MiB JSON-ish body, whole and in uneven chunks; errors are sticky afterwards. */
static void test_large_body(void)
{
	static char in[(1 << 20) + 256];
	static size_t cuts[4096];
	size_t hl, n, i, nc = 0;

	h1_limits_default(&g_lim);
	hl = (size_t)snprintf(in, sizeof(in),
			      "POST /v1/chat/completions HTTP/1.1\r\nHost: h\r\n"
			      "Content-Length: %u\r\n\r\n",
			      1u << 20);
	for (i = 0; i < (1u << 20); i++)
		in[hl + i] = (char)('a' + i % 26);
	n = hl + (1u << 20);
	feed_whole(&g_o1, in, n);
	for (i = 1; i < n && nc < 4096; i += 1 + (i * 7919) % 1500)
		cuts[nc++] = i;
	feed(&g_o2, in, n, cuts, nc);
	CU_ASSERT_EQUAL(g_o1.len, g_o2.len);
	CU_ASSERT(memcmp(g_o1.s, g_o2.s, g_o1.len) == 0);
	CU_ASSERT(g_o1.len > (1u << 20));
	CU_ASSERT_NSTRING_EQUAL(g_o1.s + g_o1.len - 3, "uv\n", 3);
}

static void test_error_sticky(void)
{
	static const char bad[] = "GET / HTTP/9.9\r\n";
	uint8_t head[64 * 1024];
	struct h1_parser p;
	struct h1_event ev;

	CU_ASSERT_EQUAL_FATAL(h1_parser_init(&p, NULL, head, sizeof(head)), 0);
	CU_ASSERT_FALSE(h1_parser_started(&p));
	/* empty lines between requests are not a request yet (no 408 for them) */
	CU_ASSERT_EQUAL(h1_parse(&p, (const uint8_t *)"\r\n\r\n", 4, &ev), H1_AGAIN);
	CU_ASSERT_FALSE(h1_parser_started(&p));
	CU_ASSERT_EQUAL(h1_parse(&p, (const uint8_t *)bad, 3, &ev), H1_AGAIN);
	CU_ASSERT_TRUE(h1_parser_started(&p));
	CU_ASSERT_EQUAL(h1_parse(&p, (const uint8_t *)bad + 3, sizeof(bad) - 4, &ev), H1_E_VERSION);
	CU_ASSERT_EQUAL(h1_parse(&p, (const uint8_t *)"x", 1, &ev), H1_E_VERSION);
	CU_ASSERT_EQUAL(h1_parse(&p, NULL, 0, &ev), H1_E_VERSION);
}

/* ---- writer ---- */

/*
 * Expect fn(buf, cap) to produce exactly `want`: at the exact capacity and above, and
 * -ENOSPC at every smaller capacity, with the buffer ending against a guard page.
 */
typedef ssize_t(write_fn)(uint8_t *buf, size_t cap, const void *arg);

static void check_write(write_fn *fn, const void *arg, const char *want, size_t want_len)
{
	ssize_t n;

	n = fn(guard_end(&g_out, want_len), want_len, arg);
	CU_ASSERT_EQUAL(n, (ssize_t)want_len);
	if (n == (ssize_t)want_len) {
		if (memcmp(guard_end(&g_out, want_len), want, want_len) != 0)
			fprintf(stderr, "\nwriter got: %.*s\nwant: %s\n", (int)want_len,
				(const char *)guard_end(&g_out, want_len), want);
		CU_ASSERT(memcmp(guard_end(&g_out, want_len), want, want_len) == 0);
	} else {
		fprintf(stderr, "\nwriter returned %zd, want %zu (%s)\n", n, want_len, want);
	}
	n = fn(guard_end(&g_out, want_len + 7), want_len + 7, arg);
	CU_ASSERT_EQUAL(n, (ssize_t)want_len);
	for (size_t cap = 0; cap < want_len; cap++)
		if (fn(guard_end(&g_out, cap), cap, arg) != -ENOSPC) {
			fprintf(stderr, "\ncap %zu not ENOSPC for %s\n", cap, want);
			CU_FAIL("short capacity accepted");
			break;
		}
}

#define CHECK_WRITE(fn, arg, want) check_write((fn), (arg), (want), sizeof(want) - 1)

static ssize_t w_head(uint8_t *b, size_t c, const void *a)
{
	return h1_write_head(b, c, a);
}

static ssize_t w_resp(uint8_t *b, size_t c, const void *a)
{
	return h1_write_response(b, c, a, "hello\n", 6);
}

static ssize_t w_continue(uint8_t *b, size_t c, const void *a)
{
	(void)a;
	return h1_write_continue(b, c);
}

static ssize_t w_chunk(uint8_t *b, size_t c, const void *a)
{
	return h1_write_chunk(b, c, a, strlen(a));
}

static ssize_t w_last(uint8_t *b, size_t c, const void *a)
{
	(void)a;
	return h1_write_last_chunk(b, c);
}

static ssize_t w_sse_head11(uint8_t *b, size_t c, const void *a)
{
	(void)a;
	return h1_write_sse_head(b, c, false);
}

static ssize_t w_sse_head10(uint8_t *b, size_t c, const void *a)
{
	(void)a;
	return h1_write_sse_head(b, c, true);
}

static ssize_t w_sse(uint8_t *b, size_t c, const void *a)
{
	return h1_write_sse_event(b, c, NULL, a, strlen(a));
}

static ssize_t w_sse_named(uint8_t *b, size_t c, const void *a)
{
	return h1_write_sse_event(b, c, "delta", a, strlen(a));
}

static ssize_t w_sse_chunk(uint8_t *b, size_t c, const void *a)
{
	return h1_write_sse_chunk(b, c, NULL, a, strlen(a));
}

static uint16_t g_status;
static bool g_close;

static ssize_t w_error(uint8_t *b, size_t c, const void *a)
{
	(void)a;
	return h1_write_error(b, c, g_status, g_close);
}

static ssize_t w_json(uint8_t *b, size_t c, const void *a)
{
	const char *const *s = a;

	return h1_write_json_error(b, c, g_status, s[0], s[1], s[2], g_close);
}

static void test_write_head(void)
{
	static const struct h1_wheader extra[] = {{"Date", "Sun, 06 Nov 1994 08:49:37 GMT"},
						  {"X-Route", "local"}};
	struct h1_response r = {.status = 200,
				.content_type = "application/json",
				.framing = H1_FRAME_LENGTH,
				.content_length = 1234567,
				.extra = extra,
				.n_extra = 2};

	CHECK_WRITE(w_head, &r,
		    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
		    "Content-Length: 1234567\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
		    "X-Route: local\r\n\r\n");
	r = (struct h1_response){
		.status = 204, .framing = H1_FRAME_NONE, .connection = H1_CONN_KEEP_ALIVE};
	CHECK_WRITE(w_head, &r, "HTTP/1.1 204 No Content\r\nConnection: keep-alive\r\n\r\n");
	r = (struct h1_response){.status = 200,
				 .framing = H1_FRAME_CHUNKED,
				 .connection = H1_CONN_CLOSE,
				 .reason = "Fine"};
	CHECK_WRITE(w_head, &r,
		    "HTTP/1.1 200 Fine\r\nTransfer-Encoding: chunked\r\n"
		    "Connection: close\r\n\r\n");
	/* until-close framing always says Connection: close */
	r = (struct h1_response){.status = 599, .framing = H1_FRAME_CLOSE};
	CHECK_WRITE(w_head, &r, "HTTP/1.1 599 \r\nConnection: close\r\n\r\n");
	r = (struct h1_response){.status = 200, .content_type = "text/plain"};
	CHECK_WRITE(w_resp, &r,
		    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
		    "Content-Length: 6\r\n\r\nhello\n");
}

static void test_write_invalid(void)
{
	uint8_t buf[512];
	static const struct h1_wheader inj[] = {{"X", "a\r\nSet-Cookie: x"}};
	static const struct h1_wheader badname[] = {{"X Y", "a"}};
	static const struct h1_wheader empty[] = {{"", "a"}};
	struct h1_response r = {.status = 200, .extra = inj, .n_extra = 1};

	CU_ASSERT_EQUAL(h1_write_head(buf, sizeof(buf), &r), -EINVAL);
	r.extra = badname;
	CU_ASSERT_EQUAL(h1_write_head(buf, sizeof(buf), &r), -EINVAL);
	r.extra = empty;
	CU_ASSERT_EQUAL(h1_write_head(buf, sizeof(buf), &r), -EINVAL);
	r = (struct h1_response){.status = 99};
	CU_ASSERT_EQUAL(h1_write_head(buf, sizeof(buf), &r), -EINVAL);
	r = (struct h1_response){.status = 200, .content_type = "a\nb"};
	CU_ASSERT_EQUAL(h1_write_head(buf, 0, &r), -EINVAL); /* -EINVAL wins over ENOSPC */
	r = (struct h1_response){.status = 200, .reason = "x\r"};
	CU_ASSERT_EQUAL(h1_write_head(buf, sizeof(buf), &r), -EINVAL);
	CU_ASSERT_EQUAL(h1_write_chunk(buf, sizeof(buf), "x", 0), -EINVAL);
	CU_ASSERT_EQUAL(h1_write_sse_event(buf, sizeof(buf), "a\nb", "x", 1), -EINVAL);
	CU_ASSERT_EQUAL(h1_write_error(buf, sizeof(buf), 1000, true), -EINVAL);
	CU_ASSERT_EQUAL(h1_write_error(buf, sizeof(buf), 200, true), -EINVAL);
	CU_ASSERT_EQUAL(h1_write_json_error(buf, sizeof(buf), 302, "m", "t", NULL, true), -EINVAL);
	CU_ASSERT_EQUAL(h1_write_json_error(buf, sizeof(buf), 400, NULL, "t", NULL, true), -EINVAL);
}

static void test_write_iov(void)
{
	uint8_t buf[256], hdr[H1_CHUNK_HDR_MAX];
	struct iovec iov[3];
	struct h1_response r = {.status = 200, .framing = H1_FRAME_CHUNKED};
	static const char body[] = "{\"ok\":true}";
	static const char want_head[] = "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n";

	CU_ASSERT_EQUAL(h1_response_iov(buf, sizeof(buf), &r, body, 11, iov), 2);
	CU_ASSERT_EQUAL(iov[0].iov_len, sizeof(want_head) - 1);
	CU_ASSERT(memcmp(iov[0].iov_base, want_head, sizeof(want_head) - 1) == 0);
	CU_ASSERT_PTR_EQUAL(iov[1].iov_base, body);
	CU_ASSERT_EQUAL(iov[1].iov_len, 11);
	CU_ASSERT_EQUAL(h1_response_iov(buf, 10, &r, body, 11, iov), -ENOSPC);
	CU_ASSERT_EQUAL(h1_response_iov(buf, sizeof(buf), &r, NULL, 0, iov), 1);
	/* 16 hex digits: the largest size line fits H1_CHUNK_HDR_MAX */
	CU_ASSERT_EQUAL(h1_chunk_iov(hdr, body, SIZE_MAX, iov), 3);
	CU_ASSERT_EQUAL(iov[0].iov_len, H1_CHUNK_HDR_MAX);
	CU_ASSERT(memcmp(hdr, "ffffffffffffffff\r\n", H1_CHUNK_HDR_MAX) == 0);
	CU_ASSERT_EQUAL(h1_chunk_iov(hdr, body, 11, iov), 3);
	CU_ASSERT_EQUAL(iov[0].iov_len, 3);
	CU_ASSERT(memcmp(hdr, "b\r\n", 3) == 0);
	CU_ASSERT_PTR_EQUAL(iov[1].iov_base, body);
	CU_ASSERT_EQUAL(iov[2].iov_len, 2);
	CU_ASSERT(memcmp(iov[2].iov_base, "\r\n", 2) == 0);
	CU_ASSERT_EQUAL(h1_chunk_iov(hdr, body, 0, iov), -EINVAL);
}

static void test_write_chunks_continue(void)
{
	CHECK_WRITE(w_continue, NULL, "HTTP/1.1 100 Continue\r\n\r\n");
	CHECK_WRITE(w_chunk, "hello world, 26 bytes long", "1a\r\nhello world, 26 bytes long\r\n");
	CHECK_WRITE(w_chunk, "x", "1\r\nx\r\n");
	CHECK_WRITE(w_last, NULL, "0\r\n\r\n");
}

static void test_write_sse(void)
{
	CHECK_WRITE(w_sse_head11, NULL,
		    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
		    "Transfer-Encoding: chunked\r\nCache-Control: no-cache\r\n\r\n");
	CHECK_WRITE(w_sse_head10, NULL,
		    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
		    "Cache-Control: no-cache\r\nConnection: close\r\n\r\n");
	CHECK_WRITE(w_sse, "{\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}",
		    "data: {\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}\n\n");
	CHECK_WRITE(w_sse, "[DONE]", "data: [DONE]\n\n");
	/* CR, LF and CRLF each start a new data line; a trailing newline adds none */
	CHECK_WRITE(w_sse, "a\nb\r\nc\rd\n", "data: a\ndata: b\ndata: c\ndata: d\n\n");
	CHECK_WRITE(w_sse, "a\n\nb", "data: a\ndata: \ndata: b\n\n");
	CHECK_WRITE(w_sse, "", "data: \n\n");
	CHECK_WRITE(w_sse_named, "x", "event: delta\ndata: x\n\n");
	CHECK_WRITE(w_sse_chunk, "[DONE]", "e\r\ndata: [DONE]\n\n\r\n");
	CU_ASSERT_EQUAL(h1_sse_event_len("delta", "x", 1), 22);
	/* no data at all: one empty data line, through the dry run as well */
	CU_ASSERT_EQUAL(h1_sse_event_len(NULL, NULL, 0), 8);
	CU_ASSERT_EQUAL(h1_write_sse_chunk(guard_end(&g_out, 13), 13, NULL, NULL, 0), 13);
	CU_ASSERT(memcmp(guard_end(&g_out, 13), "8\r\ndata: \n\n\r\n", 13) == 0);
	CU_ASSERT_EQUAL(h1_sse_event_len(NULL, "a\nb", 3), 17);
}

static void test_write_errors(void)
{
	static const uint16_t statuses[] = {400, 408, 413, 414, 417, 431, 500, 501, 503, 505};
	char want[512], body[128];

	for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
		int bl = snprintf(body, sizeof(body), "%u %s\n", statuses[i],
				  h1_reason(statuses[i]));
		int n = snprintf(want, sizeof(want),
				 "HTTP/1.1 %u %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
				 "Content-Length: %d\r\n%s\r\n%s",
				 statuses[i], h1_reason(statuses[i]), bl,
				 i % 2 == 0 ? "Connection: close\r\n" : "", body);

		g_status = statuses[i];
		g_close = i % 2 == 0;
		CU_ASSERT(strlen(h1_reason(statuses[i])) > 0);
		check_write(w_error, NULL, want, (size_t)n);
	}
	/* one literal vector, so a change in the format cannot pass unnoticed */
	g_status = 413;
	g_close = true;
	CHECK_WRITE(w_error, NULL,
		    "HTTP/1.1 413 Content Too Large\r\nContent-Type: text/plain; charset=utf-8\r\n"
		    "Content-Length: 22\r\nConnection: close\r\n\r\n413 Content Too Large\n");
}

static void test_write_json_error(void)
{
	static const char *const a1[] = {"Invalid \"model\"\n\tpath\\x\x01",
					 "invalid_request_error", "model_not_found"};
	static const char *const a2[] = {"Rate limit", "rate_limit_exceeded", NULL};

	g_status = 404;
	g_close = false;
	CHECK_WRITE(
		w_json, a1,
		"HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n"
		"Content-Length: 127\r\n\r\n"
		"{\"error\":{\"message\":\"Invalid \\\"model\\\"\\n\\tpath\\\\x\\u0001\","
		"\"type\":\"invalid_request_error\",\"param\":null,\"code\":\"model_not_found\"}}");
	g_status = 429;
	g_close = true;
	CHECK_WRITE(w_json, a2,
		    "HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\n"
		    "Content-Length: 88\r\nConnection: close\r\n\r\n"
		    "{\"error\":{\"message\":\"Rate limit\",\"type\":\"rate_limit_exceeded\","
		    "\"param\":null,\"code\":null}}");
}

static void test_format_date(void)
{
	char d[H1_DATE_LEN + 1];

	/* the RFC 9110 5.6.7 example */
	h1_format_date(d, 784111777);
	CU_ASSERT_STRING_EQUAL(d, "Sun, 06 Nov 1994 08:49:37 GMT");
	h1_format_date(d, 0);
	CU_ASSERT_STRING_EQUAL(d, "Thu, 01 Jan 1970 00:00:00 GMT");
	/* leap day of a year divisible by 400, and the last second before it ends */
	h1_format_date(d, 951868799);
	CU_ASSERT_STRING_EQUAL(d, "Tue, 29 Feb 2000 23:59:59 GMT");
	/* 2100 is not a leap year: Feb 28th is followed by Mar 1st */
	h1_format_date(d, 4107542400);
	CU_ASSERT_STRING_EQUAL(d, "Mon, 01 Mar 2100 00:00:00 GMT");
	h1_format_date(d, 1795737600);
	CU_ASSERT_STRING_EQUAL(d, "Fri, 27 Nov 2026 00:00:00 GMT");
	h1_format_date(d, UINT64_MAX);
	CU_ASSERT_STRING_EQUAL(d, "Fri, 31 Dec 9999 23:59:59 GMT");
	CU_ASSERT_EQUAL(strlen(d), H1_DATE_LEN);
}

/* Parser and writer together: an error status from the parser becomes a response
 * the parser itself would frame correctly (Content-Length matches the body). */
static void test_error_roundtrip(void)
{
	static const int rcs[] = {H1_E_SYNTAX,	       H1_E_URI_TOO_LONG, H1_E_HEAD_TOO_LARGE,
				  H1_E_BODY_TOO_LARGE, H1_E_TE_UNKNOWN,	  H1_E_VERSION};
	uint8_t buf[512];

	for (size_t i = 0; i < sizeof(rcs) / sizeof(rcs[0]); i++) {
		ssize_t n = h1_write_error(buf, sizeof(buf), h1_rc_status(rcs[i]), true);
		const char *end;

		CU_ASSERT_FATAL(n > 0);
		end = memmem(buf, (size_t)n, "\r\n\r\n", 4);
		CU_ASSERT_PTR_NOT_NULL_FATAL(end);
		CU_ASSERT(strstr((const char *)buf, "Content-Length: ") != NULL);
		CU_ASSERT_EQUAL((size_t)n - (size_t)(end + 4 - (const char *)buf),
				(size_t)strtoul(strstr((const char *)buf, "Content-Length: ") + 16,
						NULL, 10));
	}
}

int main(void)
{
	CU_pSuite s;
	unsigned int fails;

	if (guard_init(&g_in, (1 << 20) + 4096) != 0 || guard_init(&g_head, 64 * 1024) != 0 ||
	    guard_init(&g_out, 8192) != 0)
		return 2;
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	s = CU_add_suite("http", NULL, NULL);
	if (s == NULL || !CU_add_test(s, "simple_get", test_simple_get) ||
	    !CU_add_test(s, "headers_ows_and_other", test_headers_ows_and_other) ||
	    !CU_add_test(s, "find_header", test_find_header) ||
	    !CU_add_test(s, "keep_alive_rules", test_keep_alive_rules) ||
	    !CU_add_test(s, "request_line_forms", test_request_line_forms) ||
	    !CU_add_test(s, "post_content_length", test_post_content_length) ||
	    !CU_add_test(s, "expect_continue", test_expect_continue) ||
	    !CU_add_test(s, "chunked", test_chunked) ||
	    !CU_add_test(s, "pipelined", test_pipelined) ||
	    !CU_add_test(s, "methods_and_10_keep_alive", test_methods_and_10_keep_alive) ||
	    !CU_add_test(s, "errors_syntax", test_errors_syntax) ||
	    !CU_add_test(s, "errors_cr_fold_host", test_errors_cr_fold_host) ||
	    !CU_add_test(s, "errors_framing", test_errors_framing) ||
	    !CU_add_test(s, "errors_chunked", test_errors_chunked) ||
	    !CU_add_test(s, "limit_request_line", test_limit_request_line) ||
	    !CU_add_test(s, "limit_head_bytes", test_limit_head_bytes) ||
	    !CU_add_test(s, "limit_header_count", test_limit_header_count) ||
	    !CU_add_test(s, "limit_body", test_limit_body) ||
	    !CU_add_test(s, "init_args", test_init_args) ||
	    !CU_add_test(s, "large_body", test_large_body) ||
	    !CU_add_test(s, "error_sticky", test_error_sticky) ||
	    !CU_add_test(s, "write_head", test_write_head) ||
	    !CU_add_test(s, "write_invalid", test_write_invalid) ||
	    !CU_add_test(s, "write_iov", test_write_iov) ||
	    !CU_add_test(s, "write_chunks_continue", test_write_chunks_continue) ||
	    !CU_add_test(s, "write_sse", test_write_sse) ||
	    !CU_add_test(s, "write_errors", test_write_errors) ||
	    !CU_add_test(s, "write_json_error", test_write_json_error) ||
	    !CU_add_test(s, "format_date", test_format_date) ||
	    !CU_add_test(s, "error_roundtrip", test_error_roundtrip)) {
		CU_cleanup_registry();
		return 2;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	fails = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return fails != 0 ? 1 : 0;
}
