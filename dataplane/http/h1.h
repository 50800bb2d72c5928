/* SPDX-License-Identifier: proprietary */
/*
 * HTTP/1.1 server-side parser and response writer (fast path). See README.md.
 */
#ifndef TWOSPEED_H1_H
#define TWOSPEED_H1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "h1-t.h"

/* ---- parser ---- */

/* Defaults: 8 KiB request line, 16 KiB header section, 64 headers, 1 MiB + 64 KiB
 * body (the OpenAI front door's JSON bodies). */
void h1_limits_default(struct h1_limits *lim);

/* Head buffer bytes a parser needs for lim: request line + CRLF + header section. */
size_t h1_head_buf_size(const struct h1_limits *lim);

/*
 * Prepare p for the first request of a connection. head/head_cap is the caller's
 * head buffer; it must hold h1_head_buf_size(lim) bytes and outlive the use of the
 * request view. lim NULL selects the defaults; zero fields take the default too.
 * Returns 0, or -EINVAL (buffer too small, headers_max above H1_HEADERS_MAX).
 */
int h1_parser_init(struct h1_parser *p, const struct h1_limits *lim, uint8_t *head,
		   uint32_t head_cap);

/*
 * Start the next request on the same connection (pipelining/keep-alive) once the
 * caller is done with the previous request's view: the head buffer is reused.
 */
void h1_next(struct h1_parser *p);

/*
 * Feed len bytes at buf (any split of the stream: byte by byte works). Returns:
 *   n >= 0    n bytes consumed and *ev holds one event (HEAD, BODY or DONE); call again
 *             with the rest, even when it is empty, until H1_AGAIN or DONE;
 *   H1_AGAIN  all len bytes consumed, no event: wait for more input;
 *   < 0       an enum h1_rc error; answer h1_rc_status(rc) and close. Sticky.
 * After DONE, bytes of a pipelined next request stay unconsumed until h1_next().
 * Request-head bytes are copied to the head buffer; body events point into buf.
 * The caller's timer supplies 408 (see h1_parser_started()). p and ev must be valid;
 * buf may be NULL only with len 0; at most INT32_MAX bytes are taken per call.
 * Borrows buf (nothing is kept after return but BODY slices the caller consumes
 * before freeing buf). Fast path.
 */
int h1_parse(struct h1_parser *p, const uint8_t *buf, size_t len, struct h1_event *ev);

/* True once a byte of the current request arrived (an idle timeout is then 408, not a
 * silent close). */
static inline bool h1_parser_started(const struct h1_parser *p)
{
	return p->started;
}

static inline const struct h1_request *h1_parser_request(const struct h1_parser *p)
{
	return &p->req;
}

/* HTTP status for a parser error (400 for anything unknown). */
uint16_t h1_rc_status(int rc);

/* Short stable name of a parser result, for counters and debug ("uri_too_long"). */
const char *h1_rc_name(int rc);

/* Case-insensitive search of the request's other headers; NULL when absent. */
const struct h1_header *h1_find_header(const struct h1_request *req, const char *name,
				       size_t name_len);

/* ---- response writer ----
 * Every writer returns the number of bytes written into buf[0..cap), -ENOSPC when cap
 * is too small (nothing past cap is touched; buf's content is then unspecified), or
 * -EINVAL for unusable arguments (CR/LF in a header, bad status). Fast path.
 */

/* Standard reason phrase for status, "" when unknown. */
const char *h1_reason(uint16_t status);

/*
 * IMF-fixdate of unix_s seconds since the epoch, NUL-terminated, for the Date header
 * an origin server with a clock must send (RFC 9110 6.6.1). Pure arithmetic: the
 * worker formats it once per second from its own clock and passes it as an extra
 * header. Years past 9999 are clamped to 9999-12-31 23:59:59.
 */
void h1_format_date(char out[H1_DATE_LEN + 1], uint64_t unix_s);

/* Status line + headers + empty line. */
ssize_t h1_write_head(uint8_t *buf, size_t cap, const struct h1_response *r);

/* Head with Content-Length: body_len followed by the body. */
ssize_t h1_write_response(uint8_t *buf, size_t cap, const struct h1_response *r, const void *body,
			  size_t body_len);

/*
 * Zero-copy variant: writes the head into buf and fills iov[0] with it and iov[1]
 * with the body (not copied). Returns the number of iov entries used (1 or 2).
 */
int h1_response_iov(uint8_t *buf, size_t cap, const struct h1_response *r, const void *body,
		    size_t body_len, struct iovec iov[2]);

/* "HTTP/1.1 100 Continue" interim response. */
ssize_t h1_write_continue(uint8_t *buf, size_t cap);

/* One chunk: hex size line, data, CRLF. len 0 is -EINVAL (use h1_write_last_chunk). */
ssize_t h1_write_chunk(uint8_t *buf, size_t cap, const void *data, size_t len);

/*
 * Zero-copy chunk: hdr (H1_CHUNK_HDR_MAX bytes) receives the size line; iov[0..2] are
 * the size line, the data and the closing CRLF. Returns 3, or -EINVAL for len 0.
 */
int h1_chunk_iov(uint8_t hdr[H1_CHUNK_HDR_MAX], const void *data, size_t len, struct iovec iov[3]);

/* "0\r\n\r\n": the last chunk with no trailers. */
ssize_t h1_write_last_chunk(uint8_t *buf, size_t cap);

/*
 * 200 head for a Server-Sent Events stream: text/event-stream, no-cache, chunked
 * framing (or until-close framing with Connection: close for HTTP/1.0 clients).
 */
ssize_t h1_write_sse_head(uint8_t *buf, size_t cap, bool http10);

/*
 * One SSE event: an optional "event: NAME" line, then the data with every line
 * prefixed by "data: " (CR, LF and CRLF in data start new data lines), then an empty
 * line. Returns bytes written. h1_sse_event_len() gives the exact size beforehand.
 */
ssize_t h1_write_sse_event(uint8_t *buf, size_t cap, const char *event, const void *data,
			   size_t len);
size_t h1_sse_event_len(const char *event, const void *data, size_t len);

/* One SSE event wrapped in one chunk (the usual streaming step). */
ssize_t h1_write_sse_chunk(uint8_t *buf, size_t cap, const char *event, const void *data,
			   size_t len);

/*
 * Complete error response (status 400..999, else -EINVAL): status line, text/plain
 * body "<code> <reason>\n", Content-Length, and Connection: close when close is true.
 */
ssize_t h1_write_error(uint8_t *buf, size_t cap, uint16_t status, bool close);

/*
 * Complete OpenAI-style JSON error response:
 *   {"error":{"message":"...","type":"...","param":null,"code":"..."}}
 * message/type are JSON-escaped; code NULL gives null. Connection: close if close.
 */
ssize_t h1_write_json_error(uint8_t *buf, size_t cap, uint16_t status, const char *message,
			    const char *type, const char *code, bool close);

#endif /* TWOSPEED_H1_H */
