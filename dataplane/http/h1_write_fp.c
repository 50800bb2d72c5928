/* SPDX-License-Identifier: proprietary */
/*
 * HTTP/1.1 response writer: status line, headers, Content-Length or chunked bodies,
 * Server-Sent Events, 100 Continue, plain and OpenAI-style JSON error responses.
 *
 * Every function writes into a caller buffer and never past its capacity: a byte
 * cursor counts the full length even after the buffer is full, and the caller gets
 * -ENOSPC instead of a truncated response. Arguments are validated before anything is
 * written, so header injection (CR/LF in caller strings) is -EINVAL whatever the
 * capacity.
 *
 * Fast path: no allocation, no locks, no syscalls, no logging, no stdio formatting.
 */
#include <errno.h>
#include <string.h>

#include "h1.h"

/* Output cursor: len keeps counting past cap so a dry run measures a response. */
struct h1_wb {
	uint8_t *p;
	size_t cap; /* bytes at p */
	size_t len; /* bytes produced, may exceed cap */
};

static inline void h1_wb_put(struct h1_wb *w, const void *s, size_t n)
{
	/* n == 0 may come with a NULL buffer (dry runs) or NULL data: no memcpy then */
	if (n != 0 && w->len <= w->cap && n <= w->cap - w->len)
		memcpy(w->p + w->len, s, n);
	w->len += n;
}

static inline void h1_wb_str(struct h1_wb *w, const char *s)
{
	h1_wb_put(w, s, strlen(s));
}

#define H1_WB_LIT(w, lit) h1_wb_put((w), lit, sizeof(lit) - 1)

static void h1_wb_u64(struct h1_wb *w, uint64_t v)
{
	char tmp[20];
	size_t i = sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	h1_wb_put(w, tmp + i, sizeof(tmp) - i);
}

static void h1_wb_hex(struct h1_wb *w, uint64_t v)
{
	static const char digits[] = "0123456789abcdef";
	char tmp[16];
	size_t i = sizeof(tmp);

	do {
		tmp[--i] = digits[v & 15];
		v >>= 4;
	} while (v != 0);
	h1_wb_put(w, tmp + i, sizeof(tmp) - i);
}

static ssize_t h1_wb_done(const struct h1_wb *w)
{
	return w->len <= w->cap ? (ssize_t)w->len : -ENOSPC;
}

/* clang-format off */
const char *h1_reason(uint16_t status)
{
	switch (status) {
	case 100: return "Continue";
	case 101: return "Switching Protocols";
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 206: return "Partial Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 304: return "Not Modified";
	case 307: return "Temporary Redirect";
	case 308: return "Permanent Redirect";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 417: return "Expectation Failed";
	case 422: return "Unprocessable Content";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 505: return "HTTP Version Not Supported";
	default: return "";
	}
}
/* clang-format on */

void h1_format_date(char out[H1_DATE_LEN + 1], uint64_t unix_s)
{
	static const char wday[7][4] = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};
	static const char mon[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
					"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	/* 9999-12-31T23:59:59Z: IMF-fixdate has a 4-digit year */
	const uint64_t max_s = UINT64_C(253402300799);
	uint64_t days, sod, era, doe, yoe, doy, mp, d, m, y;
	char *o = out;

	if (unix_s > max_s)
		unix_s = max_s;
	days = unix_s / 86400;
	sod = unix_s % 86400;
	/* civil_from_days (H. Hinnant), eras of 400 years starting on March 1st */
	era = (days + 719468) / 146097;
	doe = days + 719468 - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	y = yoe + era * 400 + (m <= 2 ? 1 : 0);

	memcpy(o, wday[days % 7], 3);
	o += 3;
	*o++ = ',';
	*o++ = ' ';
	*o++ = (char)('0' + d / 10);
	*o++ = (char)('0' + d % 10);
	*o++ = ' ';
	memcpy(o, mon[m - 1], 3);
	o += 3;
	*o++ = ' ';
	*o++ = (char)('0' + y / 1000);
	*o++ = (char)('0' + y / 100 % 10);
	*o++ = (char)('0' + y / 10 % 10);
	*o++ = (char)('0' + y % 10);
	*o++ = ' ';
	*o++ = (char)('0' + sod / 36000);
	*o++ = (char)('0' + sod / 3600 % 10);
	*o++ = ':';
	*o++ = (char)('0' + sod % 3600 / 600);
	*o++ = (char)('0' + sod % 3600 / 60 % 10);
	*o++ = ':';
	*o++ = (char)('0' + sod % 60 / 10);
	*o++ = (char)('0' + sod % 10);
	memcpy(o, " GMT", 5); /* with the NUL */
}

/* A header value or reason phrase: no CR, LF or NUL (RFC 9110 5.5), so no injection. */
static bool h1_safe_text(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s == '\r' || *s == '\n')
			return false;
	return true;
}

static bool h1_token(const char *s)
{
	static const char extra[] = "!#$%&'*+-.^_`|~";

	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		char c = *s;

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      memchr(extra, c, sizeof(extra) - 1) != NULL))
			return false;
	}
	return true;
}

static int h1_check_response(const struct h1_response *r)
{
	uint32_t i;

	if (r == NULL || r->status < 100 || r->status > 999 ||
	    (r->reason != NULL && !h1_safe_text(r->reason)) ||
	    (r->content_type != NULL && !h1_safe_text(r->content_type)) ||
	    (r->n_extra != 0 && r->extra == NULL) || r->framing > H1_FRAME_NONE ||
	    r->connection > H1_CONN_KEEP_ALIVE)
		return -EINVAL;
	for (i = 0; i < r->n_extra; i++)
		if (r->extra[i].name == NULL || r->extra[i].value == NULL ||
		    !h1_token(r->extra[i].name) || !h1_safe_text(r->extra[i].value))
			return -EINVAL;
	return 0;
}

static void h1_wb_head(struct h1_wb *w, const struct h1_response *r)
{
	uint32_t i;
	char code[3] = {
		(char)('0' + r->status / 100),
		(char)('0' + r->status / 10 % 10),
		(char)('0' + r->status % 10),
	};

	/* RFC 9110 2.5: a server sends its highest conformant version, 1.1, to 1.0
	 * clients too */
	H1_WB_LIT(w, "HTTP/1.1 ");
	h1_wb_put(w, code, 3);
	H1_WB_LIT(w, " ");
	h1_wb_str(w, r->reason != NULL ? r->reason : h1_reason(r->status));
	H1_WB_LIT(w, "\r\n");
	if (r->content_type != NULL) {
		H1_WB_LIT(w, "Content-Type: ");
		h1_wb_str(w, r->content_type);
		H1_WB_LIT(w, "\r\n");
	}
	switch (r->framing) {
	case H1_FRAME_LENGTH:
		H1_WB_LIT(w, "Content-Length: ");
		h1_wb_u64(w, r->content_length);
		H1_WB_LIT(w, "\r\n");
		break;
	case H1_FRAME_CHUNKED:
		H1_WB_LIT(w, "Transfer-Encoding: chunked\r\n");
		break;
	default:
		break;
	}
	for (i = 0; i < r->n_extra; i++) {
		h1_wb_str(w, r->extra[i].name);
		H1_WB_LIT(w, ": ");
		h1_wb_str(w, r->extra[i].value);
		H1_WB_LIT(w, "\r\n");
	}
	/* a close-delimited body only ends by closing: say so (RFC 9112 6.3 rule 8) */
	if (r->connection == H1_CONN_CLOSE || r->framing == H1_FRAME_CLOSE)
		H1_WB_LIT(w, "Connection: close\r\n");
	else if (r->connection == H1_CONN_KEEP_ALIVE)
		H1_WB_LIT(w, "Connection: keep-alive\r\n");
	H1_WB_LIT(w, "\r\n");
}

ssize_t h1_write_head(uint8_t *buf, size_t cap, const struct h1_response *r)
{
	struct h1_wb w = {buf, buf != NULL ? cap : 0, 0};
	int rc = h1_check_response(r);

	if (rc != 0)
		return rc;
	h1_wb_head(&w, r);
	return h1_wb_done(&w);
}

ssize_t h1_write_response(uint8_t *buf, size_t cap, const struct h1_response *r, const void *body,
			  size_t body_len)
{
	struct h1_wb w = {buf, buf != NULL ? cap : 0, 0};
	struct h1_response fixed;
	int rc = h1_check_response(r);

	if (rc != 0)
		return rc;
	if (body == NULL && body_len != 0)
		return -EINVAL;
	fixed = *r;
	fixed.framing = H1_FRAME_LENGTH;
	fixed.content_length = body_len;
	h1_wb_head(&w, &fixed);
	if (body_len != 0)
		h1_wb_put(&w, body, body_len);
	return h1_wb_done(&w);
}

int h1_response_iov(uint8_t *buf, size_t cap, const struct h1_response *r, const void *body,
		    size_t body_len, struct iovec iov[2])
{
	struct h1_response fixed;
	ssize_t n;

	if (r == NULL || (body == NULL && body_len != 0))
		return -EINVAL;
	fixed = *r;
	fixed.framing = H1_FRAME_LENGTH;
	fixed.content_length = body_len;
	n = h1_write_head(buf, cap, &fixed);
	if (n < 0)
		return (int)n;
	iov[0].iov_base = buf;
	iov[0].iov_len = (size_t)n;
	if (body_len == 0)
		return 1;
	iov[1].iov_base = (void *)(uintptr_t)body; /* iovec has no const; not written */
	iov[1].iov_len = body_len;
	return 2;
}

ssize_t h1_write_continue(uint8_t *buf, size_t cap)
{
	struct h1_wb w = {buf, buf != NULL ? cap : 0, 0};

	/* RFC 9110 15.2.1: interim response, no fields, then the final one follows */
	H1_WB_LIT(&w, "HTTP/1.1 100 Continue\r\n\r\n");
	return h1_wb_done(&w);
}

ssize_t h1_write_chunk(uint8_t *buf, size_t cap, const void *data, size_t len)
{
	struct h1_wb w = {buf, buf != NULL ? cap : 0, 0};

	/* a zero-size chunk would be read as the last chunk (RFC 9112 7.1) */
	if (len == 0 || data == NULL)
		return -EINVAL;
	h1_wb_hex(&w, len);
	H1_WB_LIT(&w, "\r\n");
	h1_wb_put(&w, data, len);
	H1_WB_LIT(&w, "\r\n");
	return h1_wb_done(&w);
}

int h1_chunk_iov(uint8_t hdr[H1_CHUNK_HDR_MAX], const void *data, size_t len, struct iovec iov[3])
{
	struct h1_wb w = {hdr, H1_CHUNK_HDR_MAX, 0};
	static const char crlf[2] = {'\r', '\n'};

	if (len == 0 || data == NULL)
		return -EINVAL;
	h1_wb_hex(&w, len);
	H1_WB_LIT(&w, "\r\n");
	iov[0].iov_base = hdr;
	iov[0].iov_len = w.len; /* <= 16 hex digits + CRLF: always fits */
	iov[1].iov_base = (void *)(uintptr_t)data;
	iov[1].iov_len = len;
	iov[2].iov_base = (void *)(uintptr_t)crlf;
	iov[2].iov_len = sizeof(crlf);
	return 3;
}

ssize_t h1_write_last_chunk(uint8_t *buf, size_t cap)
{
	struct h1_wb w = {buf, buf != NULL ? cap : 0, 0};

	H1_WB_LIT(&w, "0\r\n\r\n");
	return h1_wb_done(&w);
}

ssize_t h1_write_sse_head(uint8_t *buf, size_t cap, bool http10)
{
	static const struct h1_wheader nocache[] = {{"Cache-Control", "no-cache"}};
	struct h1_response r = {
		.status = 200,
		.content_type = "text/event-stream",
		/* chunked is HTTP/1.1 only (RFC 9112 7): 1.0 clients read until close */
		.framing = http10 ? H1_FRAME_CLOSE : H1_FRAME_CHUNKED,
		.connection = http10 ? H1_CONN_CLOSE : H1_CONN_DEFAULT,
		.extra = nocache,
		.n_extra = 1,
	};

	return h1_write_head(buf, cap, &r);
}

/* SSE event per the WHATWG event-stream format: each line of data becomes a
 * "data: " line; CR, LF and CRLF all end a line there. */
static void h1_wb_sse(struct h1_wb *w, const char *event, const uint8_t *d, size_t len)
{
	size_t i = 0, start = 0;
	/* next CR and LF at or after i (NULL: none left); memchr keeps the usual
	 * single-line JSON payload at two vector scans, and each byte is passed once */
	const uint8_t *cr = len != 0 ? memchr(d, '\r', len) : NULL;
	const uint8_t *lf = len != 0 ? memchr(d, '\n', len) : NULL;

	if (event != NULL) {
		H1_WB_LIT(w, "event: ");
		h1_wb_str(w, event);
		H1_WB_LIT(w, "\n");
	}
	for (;;) {
		if (cr != NULL && cr < d + i)
			cr = memchr(d + i, '\r', len - i);
		if (lf != NULL && lf < d + i)
			lf = memchr(d + i, '\n', len - i);
		i = len;
		if (cr != NULL)
			i = (size_t)(cr - d);
		if (lf != NULL && (size_t)(lf - d) < i)
			i = (size_t)(lf - d);
		H1_WB_LIT(w, "data: ");
		if (i != start)
			h1_wb_put(w, d + start, i - start);
		H1_WB_LIT(w, "\n");
		if (i == len)
			break;
		if (d[i] == '\r' && i + 1 < len && d[i + 1] == '\n')
			i++;
		start = ++i;
		if (i == len)
			break; /* a trailing newline ends the last line, adds none */
	}
	H1_WB_LIT(w, "\n");
}

static bool h1_sse_args_ok(const char *event, const void *data, size_t len)
{
	return (data != NULL || len == 0) && (event == NULL || h1_safe_text(event));
}

size_t h1_sse_event_len(const char *event, const void *data, size_t len)
{
	struct h1_wb w = {NULL, 0, 0};

	if (!h1_sse_args_ok(event, data, len))
		return 0;
	h1_wb_sse(&w, event, data, len);
	return w.len;
}

ssize_t h1_write_sse_event(uint8_t *buf, size_t cap, const char *event, const void *data,
			   size_t len)
{
	struct h1_wb w = {buf, buf != NULL ? cap : 0, 0};

	if (!h1_sse_args_ok(event, data, len))
		return -EINVAL;
	h1_wb_sse(&w, event, data, len);
	return h1_wb_done(&w);
}

ssize_t h1_write_sse_chunk(uint8_t *buf, size_t cap, const char *event, const void *data,
			   size_t len)
{
	struct h1_wb w = {buf, buf != NULL ? cap : 0, 0};
	size_t ev_len;

	if (!h1_sse_args_ok(event, data, len))
		return -EINVAL;
	ev_len = h1_sse_event_len(event, data, len);
	h1_wb_hex(&w, ev_len);
	H1_WB_LIT(&w, "\r\n");
	h1_wb_sse(&w, event, data, len);
	H1_WB_LIT(&w, "\r\n");
	return h1_wb_done(&w);
}

ssize_t h1_write_error(uint8_t *buf, size_t cap, uint16_t status, bool close)
{
	struct h1_wb w = {buf, buf != NULL ? cap : 0, 0};
	struct h1_wb body = {NULL, 0, 0};
	const char *reason = h1_reason(status);
	struct h1_response r = {
		.status = status,
		.content_type = "text/plain; charset=utf-8",
		.framing = H1_FRAME_LENGTH,
		.connection = close ? H1_CONN_CLOSE : H1_CONN_DEFAULT,
	};
	int rc = h1_check_response(&r);

	if (rc != 0 || status < 400)
		return -EINVAL; /* only 4xx/5xx carry an error body */
	/* body "<code> <reason>\n": measured with a dry run, then written for real */
	h1_wb_u64(&body, status);
	H1_WB_LIT(&body, " ");
	h1_wb_str(&body, reason);
	H1_WB_LIT(&body, "\n");
	r.content_length = body.len;
	h1_wb_head(&w, &r);
	h1_wb_u64(&w, status);
	H1_WB_LIT(&w, " ");
	h1_wb_str(&w, reason);
	H1_WB_LIT(&w, "\n");
	return h1_wb_done(&w);
}

/* JSON string body without the quotes (RFC 8259 7); UTF-8 bytes pass through. */
static void h1_wb_json_str(struct h1_wb *w, const char *s)
{
	static const char hex[] = "0123456789abcdef";

	for (; *s != '\0'; s++) {
		uint8_t c = (uint8_t)*s;
		char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};

		switch (c) {
		case '"':
			H1_WB_LIT(w, "\\\"");
			break;
		case '\\':
			H1_WB_LIT(w, "\\\\");
			break;
		case '\n':
			H1_WB_LIT(w, "\\n");
			break;
		case '\r':
			H1_WB_LIT(w, "\\r");
			break;
		case '\t':
			H1_WB_LIT(w, "\\t");
			break;
		case '\b':
			H1_WB_LIT(w, "\\b");
			break;
		case '\f':
			H1_WB_LIT(w, "\\f");
			break;
		default:
			if (c < 0x20)
				h1_wb_put(w, esc, sizeof(esc));
			else
				h1_wb_put(w, &c, 1);
			break;
		}
	}
}

static void h1_wb_json_error(struct h1_wb *w, const char *message, const char *type,
			     const char *code)
{
	H1_WB_LIT(w, "{\"error\":{\"message\":\"");
	h1_wb_json_str(w, message);
	H1_WB_LIT(w, "\",\"type\":\"");
	h1_wb_json_str(w, type);
	H1_WB_LIT(w, "\",\"param\":null,\"code\":");
	if (code != NULL) {
		H1_WB_LIT(w, "\"");
		h1_wb_json_str(w, code);
		H1_WB_LIT(w, "\"");
	} else {
		H1_WB_LIT(w, "null");
	}
	H1_WB_LIT(w, "}}");
}

ssize_t h1_write_json_error(uint8_t *buf, size_t cap, uint16_t status, const char *message,
			    const char *type, const char *code, bool close)
{
	struct h1_wb w = {buf, buf != NULL ? cap : 0, 0};
	struct h1_wb body = {NULL, 0, 0};
	struct h1_response r = {
		.status = status,
		.content_type = "application/json",
		.framing = H1_FRAME_LENGTH,
		.connection = close ? H1_CONN_CLOSE : H1_CONN_DEFAULT,
	};
	int rc = h1_check_response(&r);

	if (rc != 0 || status < 400 || message == NULL || type == NULL)
		return -EINVAL;
	h1_wb_json_error(&body, message, type, code);
	r.content_length = body.len;
	h1_wb_head(&w, &r);
	h1_wb_json_error(&w, message, type, code);
	return h1_wb_done(&w);
}
