/* SPDX-License-Identifier: proprietary */
/*
 * HTTP/1.1 server-side parser and response writer: types and constants.
 */
#ifndef TWOSPEED_H1_T_H
#define TWOSPEED_H1_T_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Hard caps of the fixed-size parser state; h1_limits may only lower them. */
#define H1_HEADERS_MAX 64      /* header field lines per request (all of them) */
#define H1_CHUNK_LINE_MAX 4096 /* bytes of one chunk-size line incl. extensions */
#define H1_LEADING_CRLF_MAX 8  /* empty lines tolerated before a request line */

/*
 * Parser results. h1_parse() returns consumed bytes (>= 0) with an event, H1_AGAIN,
 * or one of the negative errors below; h1_rc_status() maps an error to the status
 * to answer with. Every error is final for the connection (the framing is lost).
 */
enum h1_rc {
	H1_OK = 0,
	H1_AGAIN = -1,		     /* every byte consumed, nothing to report: feed more */
	H1_E_SYNTAX = -2,	     /* 400 malformed request line or header line */
	H1_E_BARE_CR = -3,	     /* 400 CR not followed by LF */
	H1_E_OBS_FOLD = -4,	     /* 400 line folding (RFC 9112 5.2) */
	H1_E_HOST = -5,		     /* 400 Host missing in 1.1, duplicated or invalid */
	H1_E_CONTENT_LENGTH = -6,    /* 400 invalid, overflowing or disagreeing CL */
	H1_E_CL_AND_TE = -7,	     /* 400 both framings: smuggling (RFC 9112 6.3) */
	H1_E_TE_BAD = -8,	     /* 400 chunked twice, or TE in an HTTP/1.0 request */
	H1_E_CHUNK = -9,	     /* 400 malformed chunk size line, data CRLF or trailer */
	H1_E_TOO_MANY_CRLF = -10,    /* 400 too many empty lines before a request */
	H1_E_URI_TOO_LONG = -11,     /* 414 request line over the limit */
	H1_E_HEAD_TOO_LARGE = -12,   /* 431 header section or trailer over the byte limit */
	H1_E_TOO_MANY_HEADERS = -13, /* 431 over the header count limit */
	H1_E_BODY_TOO_LARGE = -14,   /* 413 declared or accumulated body over the limit */
	H1_E_TE_UNKNOWN = -15,	     /* 501 transfer coding other than chunked */
	H1_E_VERSION = -16,	     /* 505 not HTTP/1.x */
	H1_E_EXPECT = -17,	     /* 417 expectation other than 100-continue */
	H1_E_STATE = -18,	     /* 500 fed after DONE without h1_next(), or bad args */
};

enum h1_event_type {
	H1_EV_NONE = 0,
	H1_EV_HEAD = 1, /* request head complete: h1_request filled in */
	H1_EV_BODY = 2, /* ev.data/ev.len: de-chunked body bytes, a slice of the input */
	H1_EV_DONE = 3, /* request complete; call h1_next() before feeding more */
};

struct h1_event {
	enum h1_event_type type;
	const uint8_t *data; /* H1_EV_BODY: points into the caller's input chunk */
	size_t len;	     /* bytes at data */
};

/* A byte range of the head buffer (not NUL-terminated). */
struct h1_str {
	const char *p;
	uint32_t len; /* bytes */
};

struct h1_header {
	struct h1_str name;  /* as received (case preserved) */
	struct h1_str value; /* OWS trimmed on both sides */
};

enum h1_method {
	H1_M_OTHER = 0,
	H1_M_GET = 1,
	H1_M_HEAD = 2,
	H1_M_POST = 3,
	H1_M_PUT = 4,
	H1_M_DELETE = 5,
	H1_M_OPTIONS = 6,
	H1_M_PATCH = 7,
	H1_M_CONNECT = 8,
	H1_M_TRACE = 9,
};

enum h1_body_kind {
	H1_BODY_NONE = 0,    /* no body (neither CL nor TE, or CL: 0) */
	H1_BODY_LENGTH = 1,  /* Content-Length bytes */
	H1_BODY_CHUNKED = 2, /* Transfer-Encoding: chunked */
};

/*
 * The parsed request head. Every h1_str points into the parser's head buffer, so it
 * stays valid until h1_next()/h1_parser_init() or until that buffer is released —
 * independent of the input chunks, which the caller may free once consumed.
 */
struct h1_request {
	enum h1_method method;
	struct h1_str method_str;
	struct h1_str target;
	uint8_t version_minor; /* 0 or 1 (1.2+ is served as 1.1, RFC 9110 2.5) */
	bool keep_alive;       /* after Connection and the version default */
	bool expect_continue;  /* 1.1 + Expect: 100-continue: send 100 first */
	enum h1_body_kind body_kind;
	uint64_t content_length; /* bytes, H1_BODY_LENGTH only */
	/* selected headers; len 0 and p NULL when absent */
	struct h1_str host;
	struct h1_str content_type;
	struct h1_str authorization;
	struct h1_str connection;	 /* last Connection line */
	struct h1_str transfer_encoding; /* last Transfer-Encoding line */
	struct h1_str expect;
	struct h1_str content_length_str;
	uint16_t n_other;   /* entries used in other[] */
	uint16_t n_headers; /* all header lines, selected ones included */
	/* every header line not listed above, in arrival order; last, so a reset
	 * between requests leaves it alone (n_other says what is valid) */
	struct h1_header other[H1_HEADERS_MAX];
};

/* Per-listener limits; 0 in a field means "use the default" in h1_limits_default(). */
struct h1_limits {
	uint32_t request_line_max; /* bytes of the request line without CRLF -> 414 */
	uint32_t head_max;	   /* bytes of the header section incl. CRLFs -> 431;
				      trailers of a chunked body get the same limit */
	uint16_t headers_max;	   /* header lines, <= H1_HEADERS_MAX -> 431 */
	uint64_t body_max;	   /* bytes of body after de-chunking -> 413 */
};

/* Internal parser states. */
enum h1_state {
	H1_S_START = 0, /* before the request line (empty lines skipped) */
	H1_S_REQ_LINE = 1,
	H1_S_HEADER = 2, /* at or inside a header line */
	H1_S_BODY_LEN = 3,
	H1_S_CHUNK_SIZE = 4,
	H1_S_CHUNK_EXT = 5,
	H1_S_CHUNK_SIZE_WS = 6,
	H1_S_CHUNK_SIZE_LF = 7,
	H1_S_CHUNK_DATA = 8,
	H1_S_CHUNK_DATA_CR = 9,
	H1_S_CHUNK_DATA_LF = 10,
	H1_S_TRAILER = 11, /* at the start of a trailer line */
	H1_S_TRAILER_NAME = 12,
	H1_S_TRAILER_VALUE = 13,
	H1_S_TRAILER_LF = 14,	  /* CR seen at the end of a trailer line */
	H1_S_TRAILER_END_LF = 15, /* CR seen on the empty line ending the trailers */
	H1_S_BODY_END = 16,	  /* DONE event pending */
	H1_S_DONE = 17,
	H1_S_ERROR = 18,
};

/*
 * Per-connection parser state, fixed size. The head buffer belongs to the caller
 * (a per-core pool): the request line and header lines are copied into it as they
 * arrive, so input chunks can be freed right after h1_parse() returns; body bytes are
 * never copied.
 */
struct h1_parser {
	struct h1_limits lim;
	uint8_t *head;	     /* caller's buffer */
	uint32_t head_cap;   /* bytes at head */
	uint32_t head_len;   /* bytes of head copied so far */
	uint32_t line_start; /* offset in head of the line being received */
	uint32_t hdr_bytes;  /* bytes of header section (or trailers) so far */
	enum h1_state state;
	enum h1_rc error;  /* sticky, when state == H1_S_ERROR */
	uint8_t crlf_seen; /* empty lines skipped before the request line */
	bool cr_pending;   /* last byte stored/seen was CR (chunk/trailer lines) */
	bool started;	   /* some byte of the current request was received */
	bool seen_cl;
	bool seen_te;
	bool close_token;      /* Connection: close seen */
	bool keep_alive_token; /* Connection: keep-alive seen */
	uint32_t chunk_line;   /* bytes of the current chunk-size line */
	uint8_t chunk_digits;  /* hex digits of the current chunk size */
	uint64_t remaining;    /* body bytes left in the CL body or current chunk */
	uint64_t body_total;   /* body bytes delivered so far */
	struct h1_request req; /* last: h1_next() clears up to req.other */
};

/* ---- response writer ---- */

enum h1_framing {
	H1_FRAME_LENGTH = 0,  /* Content-Length: content_length */
	H1_FRAME_CHUNKED = 1, /* Transfer-Encoding: chunked (HTTP/1.1 clients only) */
	H1_FRAME_CLOSE = 2,   /* body runs until the connection closes (1.0 streaming) */
	H1_FRAME_NONE = 3,    /* no body and no length header (1xx, 204, 304) */
};

enum h1_conn_hdr {
	H1_CONN_DEFAULT = 0,	/* no Connection header */
	H1_CONN_CLOSE = 1,	/* "Connection: close": we close after this response */
	H1_CONN_KEEP_ALIVE = 2, /* "Connection: keep-alive": for HTTP/1.0 clients */
};

/* One extra header line for the writer; the writer refuses CR/LF in either part. */
struct h1_wheader {
	const char *name;
	const char *value;
};

struct h1_response {
	uint16_t status;	  /* 100..999 */
	const char *reason;	  /* NULL: the standard phrase for status */
	const char *content_type; /* NULL: no Content-Type */
	enum h1_framing framing;
	uint64_t content_length; /* bytes, H1_FRAME_LENGTH */
	enum h1_conn_hdr connection;
	const struct h1_wheader *extra; /* extra header lines, written in order */
	uint32_t n_extra;
};

/* IMF-fixdate length, "Sun, 06 Nov 1994 08:49:37 GMT" (RFC 9110 5.6.7). */
#define H1_DATE_LEN 29

/* Longest chunk-size line the writer emits: 16 hex digits + CRLF. */
#define H1_CHUNK_HDR_MAX 18

#endif /* TWOSPEED_H1_T_H */
