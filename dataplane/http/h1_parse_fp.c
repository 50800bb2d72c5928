/* SPDX-License-Identifier: proprietary */
/*
 * Incremental HTTP/1.1 request parser (RFC 9110, RFC 9112), server side.
 *
 * The head (request line and header lines) is received line by line: each piece of
 * input up to a LF is copied into the caller's head buffer and a line is parsed once
 * its LF arrives, so every byte is copied once and scanned at most twice, whatever
 * the chunking. Limits are checked on byte counts before a line's syntax, which
 * makes the outcome independent of where the input was split. Bodies are never
 * copied: BODY events point into the input; chunked framing is undone by a byte-wise
 * state machine that keeps only counters.
 *
 * Fast path: no allocation, no locks, no syscalls, no logging.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "h1.h"

#define H1_DEF_REQUEST_LINE (8u * 1024)
#define H1_DEF_HEAD (16u * 1024)
#define H1_DEF_BODY ((uint64_t)(1024 + 64) * 1024)

/* Character classes, RFC 9110 5.6.2 (tchar) and 5.5 (field-vchar / obs-text). */
#define C_TCHAR 0x01
#define C_VALUE 0x02  /* VCHAR, obs-text, SP, HTAB: allowed inside a field value */
#define C_TARGET 0x04 /* visible ASCII: allowed in a request-target */

/* clang-format off */
static const uint8_t h1_cclass[256] = {
	['\t'] = C_VALUE,
	[' '] = C_VALUE,
	['!'] = C_TCHAR | C_VALUE | C_TARGET,
	['"'] = C_VALUE | C_TARGET,
	['#'] = C_TCHAR | C_VALUE | C_TARGET,
	['$'] = C_TCHAR | C_VALUE | C_TARGET,
	['%'] = C_TCHAR | C_VALUE | C_TARGET,
	['&'] = C_TCHAR | C_VALUE | C_TARGET,
	['\''] = C_TCHAR | C_VALUE | C_TARGET,
	['('] = C_VALUE | C_TARGET,
	[')'] = C_VALUE | C_TARGET,
	['*'] = C_TCHAR | C_VALUE | C_TARGET,
	['+'] = C_TCHAR | C_VALUE | C_TARGET,
	[','] = C_VALUE | C_TARGET,
	['-'] = C_TCHAR | C_VALUE | C_TARGET,
	['.'] = C_TCHAR | C_VALUE | C_TARGET,
	['/'] = C_VALUE | C_TARGET,
	['0' ... '9'] = C_TCHAR | C_VALUE | C_TARGET,
	[':'] = C_VALUE | C_TARGET,
	[';'] = C_VALUE | C_TARGET,
	['<'] = C_VALUE | C_TARGET,
	['='] = C_VALUE | C_TARGET,
	['>'] = C_VALUE | C_TARGET,
	['?'] = C_VALUE | C_TARGET,
	['@'] = C_VALUE | C_TARGET,
	['A' ... 'Z'] = C_TCHAR | C_VALUE | C_TARGET,
	['['] = C_VALUE | C_TARGET,
	['\\'] = C_VALUE | C_TARGET,
	[']'] = C_VALUE | C_TARGET,
	['^'] = C_TCHAR | C_VALUE | C_TARGET,
	['_'] = C_TCHAR | C_VALUE | C_TARGET,
	['`'] = C_TCHAR | C_VALUE | C_TARGET,
	['a' ... 'z'] = C_TCHAR | C_VALUE | C_TARGET,
	['{'] = C_VALUE | C_TARGET,
	['|'] = C_TCHAR | C_VALUE | C_TARGET,
	['}'] = C_VALUE | C_TARGET,
	['~'] = C_TCHAR | C_VALUE | C_TARGET,
	[0x80 ... 0xff] = C_VALUE,
};
/* clang-format on */

static inline bool h1_is(uint8_t c, uint8_t cls)
{
	return (h1_cclass[c] & cls) != 0;
}

static inline uint8_t h1_lower(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c | 0x20) : c;
}

/* Case-insensitive equality of s[0..n) with a lower-case literal. */
static bool h1_ieq(const char *s, size_t n, const char *lit, size_t lit_len)
{
	size_t i;

	if (n != lit_len)
		return false;
	for (i = 0; i < n; i++)
		if (h1_lower((uint8_t)s[i]) != (uint8_t)lit[i])
			return false;
	return true;
}

#define H1_IEQ(s, n, lit) h1_ieq((s), (n), lit, sizeof(lit) - 1)

static inline bool h1_ows(uint8_t c)
{
	return c == ' ' || c == '\t';
}

void h1_limits_default(struct h1_limits *lim)
{
	lim->request_line_max = H1_DEF_REQUEST_LINE;
	lim->head_max = H1_DEF_HEAD;
	lim->headers_max = H1_HEADERS_MAX;
	lim->body_max = H1_DEF_BODY;
}

static void h1_limits_fill(struct h1_limits *out, const struct h1_limits *in)
{
	h1_limits_default(out);
	if (in == NULL)
		return;
	if (in->request_line_max != 0)
		out->request_line_max = in->request_line_max;
	if (in->head_max != 0)
		out->head_max = in->head_max;
	if (in->headers_max != 0)
		out->headers_max = in->headers_max;
	if (in->body_max != 0)
		out->body_max = in->body_max;
}

size_t h1_head_buf_size(const struct h1_limits *lim)
{
	struct h1_limits l;

	h1_limits_fill(&l, lim);
	/* the request line may carry its CRLF; the header byte limit counts its CRLFs */
	return (size_t)l.request_line_max + 2 + l.head_max;
}

int h1_parser_init(struct h1_parser *p, const struct h1_limits *lim, uint8_t *head,
		   uint32_t head_cap)
{
	struct h1_limits l;

	if (p == NULL || head == NULL)
		return -EINVAL;
	h1_limits_fill(&l, lim);
	if (l.headers_max > H1_HEADERS_MAX || head_cap < h1_head_buf_size(&l) ||
	    l.request_line_max > UINT32_MAX / 4 || l.head_max > UINT32_MAX / 4)
		return -EINVAL;
	memset(p, 0, sizeof(*p));
	p->lim = l;
	p->head = head;
	p->head_cap = head_cap;
	p->state = H1_S_START;
	return 0;
}

void h1_next(struct h1_parser *p)
{
	struct h1_limits lim = p->lim;
	uint8_t *head = p->head;
	uint32_t cap = p->head_cap;

	/* everything but req.other[], which n_other == 0 marks unused (2 KiB saved
	 * per request) */
	memset(p, 0, offsetof(struct h1_parser, req) + offsetof(struct h1_request, other));
	p->lim = lim;
	p->head = head;
	p->head_cap = cap;
	p->state = H1_S_START;
}

static int h1_fail(struct h1_parser *p, enum h1_rc rc)
{
	p->state = H1_S_ERROR;
	p->error = rc;
	return rc;
}

static const struct {
	const char *name;
	uint8_t len;
	enum h1_method m;
} h1_methods[] = {
	{"GET", 3, H1_M_GET},	  {"HEAD", 4, H1_M_HEAD},	{"POST", 4, H1_M_POST},
	{"PUT", 3, H1_M_PUT},	  {"DELETE", 6, H1_M_DELETE},	{"OPTIONS", 7, H1_M_OPTIONS},
	{"PATCH", 5, H1_M_PATCH}, {"CONNECT", 7, H1_M_CONNECT}, {"TRACE", 5, H1_M_TRACE},
};

/* request-line = method SP request-target SP HTTP-version (RFC 9112 3), single SPs. */
static enum h1_rc h1_request_line(struct h1_parser *p, const char *s, size_t n)
{
	struct h1_request *req = &p->req;
	size_t i = 0, t0, k;
	const char *v;

	while (i < n && h1_is((uint8_t)s[i], C_TCHAR))
		i++;
	if (i == 0 || i == n || s[i] != ' ')
		return H1_E_SYNTAX;
	req->method_str.p = s;
	req->method_str.len = (uint32_t)i;
	req->method = H1_M_OTHER;
	for (k = 0; k < sizeof(h1_methods) / sizeof(h1_methods[0]); k++)
		if (h1_methods[k].len == i && memcmp(s, h1_methods[k].name, i) == 0)
			req->method = h1_methods[k].m;
	t0 = ++i;
	while (i < n && h1_is((uint8_t)s[i], C_TARGET))
		i++;
	if (i == t0 || i == n || s[i] != ' ')
		return H1_E_SYNTAX;
	req->target.p = s + t0;
	req->target.len = (uint32_t)(i - t0);
	i++;
	/* HTTP-version = "HTTP" "/" DIGIT "." DIGIT (RFC 9112 2.3), case-sensitive */
	v = s + i;
	if (n - i != 8 || memcmp(v, "HTTP/", 5) != 0 || v[5] < '0' || v[5] > '9' || v[6] != '.' ||
	    v[7] < '0' || v[7] > '9')
		return H1_E_SYNTAX;
	if (v[5] != '1')
		return H1_E_VERSION;
	/* RFC 9110 2.5: a higher minor version is served as the highest we support */
	req->version_minor = v[7] == '0' ? 0 : 1;
	return H1_OK;
}

/* Walk a comma-separated list (RFC 9110 5.6.1), calling fn on each non-empty element
 * with OWS trimmed; empty elements are skipped as the RFC requires of recipients. */
typedef enum h1_rc(h1_elem_fn)(struct h1_parser *p, const char *e, size_t n);

static enum h1_rc h1_list(struct h1_parser *p, const char *s, size_t n, h1_elem_fn *fn)
{
	size_t i = 0;

	while (i <= n) {
		size_t a = i, b;
		enum h1_rc rc;

		while (i < n && s[i] != ',')
			i++;
		b = i;
		while (a < b && h1_ows((uint8_t)s[a]))
			a++;
		while (b > a && h1_ows((uint8_t)s[b - 1]))
			b--;
		if (b > a) {
			rc = fn(p, s + a, b - a);
			if (rc != H1_OK)
				return rc;
		}
		i++;
	}
	return H1_OK;
}

/* Content-Length = 1*DIGIT; a list of identical values is accepted (RFC 9110 8.6). */
static enum h1_rc h1_cl_elem(struct h1_parser *p, const char *e, size_t n)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned int d = (unsigned int)(uint8_t)e[i] - '0';

		if (d > 9)
			return H1_E_CONTENT_LENGTH;
		if (v > (UINT64_MAX - d) / 10)
			return H1_E_CONTENT_LENGTH;
		v = v * 10 + d;
	}
	if (p->seen_cl && v != p->req.content_length)
		return H1_E_CONTENT_LENGTH;
	p->seen_cl = true;
	p->req.content_length = v;
	return H1_OK;
}

/* Transfer-Encoding (RFC 9112 6.1): only "chunked" is understood, once, last. */
static enum h1_rc h1_te_elem(struct h1_parser *p, const char *e, size_t n)
{
	if (!H1_IEQ(e, n, "chunked"))
		return H1_E_TE_UNKNOWN; /* 501; a coding after chunked also lands here */
	if (p->req.body_kind == H1_BODY_CHUNKED)
		return H1_E_TE_BAD; /* chunked applied twice */
	p->req.body_kind = H1_BODY_CHUNKED;
	return H1_OK;
}

static enum h1_rc h1_conn_elem(struct h1_parser *p, const char *e, size_t n)
{
	if (H1_IEQ(e, n, "close"))
		p->close_token = true;
	else if (H1_IEQ(e, n, "keep-alive"))
		p->keep_alive_token = true;
	return H1_OK;
}

/* RFC 9110 10.1.1: 100-continue is the only expectation defined. */
static enum h1_rc h1_expect_elem(struct h1_parser *p, const char *e, size_t n)
{
	if (!H1_IEQ(e, n, "100-continue"))
		return H1_E_EXPECT;
	/* an HTTP/1.0 request's 100-continue MUST be ignored */
	if (p->req.version_minor >= 1)
		p->req.expect_continue = true;
	return H1_OK;
}

/* Field value bytes (RFC 9110 5.5): HTAB, SP, VCHAR, obs-text; 16 at a time where
 * SSE2 is there (Authorization and cookie values are long). Reads only s[0..n). */
static bool h1_value_ok(const char *s, size_t n)
{
	size_t i = 0;

#ifdef __SSE2__
	const __m128i c1f = _mm_set1_epi8(0x1f), tab = _mm_set1_epi8('\t'),
		      del = _mm_set1_epi8(0x7f);

	for (; i + 16 <= n; i += 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
		__m128i ctl = _mm_cmpeq_epi8(_mm_min_epu8(x, c1f), x); /* x <= 0x1f */
		__m128i bad = _mm_or_si128(_mm_andnot_si128(_mm_cmpeq_epi8(x, tab), ctl),
					   _mm_cmpeq_epi8(x, del));

		if (_mm_movemask_epi8(bad) != 0)
			return false;
	}
#endif
	for (; i < n; i++)
		if (!h1_is((uint8_t)s[i], C_VALUE))
			return false;
	return true;
}

static enum h1_rc h1_header_line(struct h1_parser *p, const char *s, size_t n)
{
	struct h1_request *req = &p->req;
	size_t i = 0, nl, a, b;
	struct h1_str name, value;
	struct h1_str *slot = NULL;

	if (++req->n_headers > p->lim.headers_max)
		return H1_E_TOO_MANY_HEADERS;
	/* RFC 9112 5.2: obs-fold is refused; whitespace before the first header line
	 * (RFC 9112 2.2) is refused the same way. */
	if (h1_ows((uint8_t)s[0]))
		return H1_E_OBS_FOLD;
	while (i < n && h1_is((uint8_t)s[i], C_TCHAR))
		i++;
	/* RFC 9112 5.1: no whitespace between field name and colon */
	if (i == 0 || i == n || s[i] != ':')
		return H1_E_SYNTAX;
	nl = i;
	a = i + 1;
	b = n;
	while (a < b && h1_ows((uint8_t)s[a]))
		a++;
	while (b > a && h1_ows((uint8_t)s[b - 1]))
		b--;
	if (!h1_value_ok(s + a, b - a))
		return H1_E_SYNTAX; /* NUL, CTL, DEL (RFC 9110 5.5) */
	name.p = s;
	name.len = (uint32_t)nl;
	value.p = s + a;
	value.len = (uint32_t)(b - a);

	switch (h1_lower((uint8_t)s[0])) {
	case 'a':
		if (H1_IEQ(s, nl, "authorization")) {
			if (req->authorization.p != NULL)
				return H1_E_SYNTAX; /* singleton field repeated */
			slot = &req->authorization;
		}
		break;
	case 'c':
		if (H1_IEQ(s, nl, "content-length")) {
			enum h1_rc rc = h1_list(p, value.p, value.len, h1_cl_elem);

			if (rc != H1_OK)
				return rc;
			if (!p->seen_cl)
				return H1_E_CONTENT_LENGTH; /* empty value */
			slot = &req->content_length_str;
		} else if (H1_IEQ(s, nl, "content-type")) {
			if (req->content_type.p != NULL)
				return H1_E_SYNTAX;
			slot = &req->content_type;
		} else if (H1_IEQ(s, nl, "connection")) {
			(void)h1_list(p, value.p, value.len, h1_conn_elem);
			slot = &req->connection;
		}
		break;
	case 'e':
		if (H1_IEQ(s, nl, "expect")) {
			enum h1_rc rc = h1_list(p, value.p, value.len, h1_expect_elem);

			if (rc != H1_OK)
				return rc;
			slot = &req->expect;
		}
		break;
	case 'h':
		if (H1_IEQ(s, nl, "host")) {
			/* RFC 9112 3.2: more than one Host, or an invalid one, is a 400 */
			if (req->host.p != NULL)
				return H1_E_HOST;
			for (i = 0; i < value.len; i++)
				if (!h1_is((uint8_t)value.p[i], C_TARGET))
					return H1_E_HOST;
			slot = &req->host;
		}
		break;
	case 't':
		if (H1_IEQ(s, nl, "transfer-encoding")) {
			enum h1_rc rc;

			p->seen_te = true;
			rc = h1_list(p, value.p, value.len, h1_te_elem);
			if (rc != H1_OK)
				return rc;
			slot = &req->transfer_encoding;
		}
		break;
	default:
		break;
	}
	if (slot != NULL) {
		/* value.p is never NULL, so an empty Host still reads as present
		 * (RFC 9112 3.2 allows an empty one) */
		*slot = value;
		return H1_OK;
	}
	req->other[req->n_other].name = name;
	req->other[req->n_other].value = value;
	req->n_other++;
	return H1_OK;
}

/* The empty line ended the head: decide the message framing (RFC 9112 6.3). */
static enum h1_rc h1_head_done(struct h1_parser *p)
{
	struct h1_request *req = &p->req;

	if (req->version_minor >= 1 && req->host.p == NULL)
		return H1_E_HOST; /* RFC 9112 3.2 */
	if (p->seen_te && p->seen_cl)
		return H1_E_CL_AND_TE; /* RFC 9112 6.3 rule 3: refuse, never guess */
	if (p->seen_te) {
		/* RFC 9112 6.1: TE in 1.0 means faulty framing; an empty list is no
		 * chunked-last coding at all */
		if (req->version_minor == 0 || req->body_kind != H1_BODY_CHUNKED)
			return H1_E_TE_BAD;
		p->state = H1_S_CHUNK_SIZE;
	} else if (p->seen_cl && req->content_length != 0) {
		if (req->content_length > p->lim.body_max)
			return H1_E_BODY_TOO_LARGE;
		req->body_kind = H1_BODY_LENGTH;
		p->remaining = req->content_length;
		p->state = H1_S_BODY_LEN;
	} else {
		req->body_kind = H1_BODY_NONE;
		p->state = H1_S_BODY_END;
	}
	/* RFC 9112 9.3: 1.1 persists unless "close"; 1.0 only with "keep-alive" */
	if (p->close_token)
		req->keep_alive = false;
	else
		req->keep_alive = req->version_minor >= 1 || p->keep_alive_token;
	return H1_OK;
}

/*
 * RFC 9112 2.2: a CR anywhere but before the LF is refused. No valid line holds a
 * CR (every class excludes it), so the scan only runs once a line already failed,
 * to name the error precisely.
 */
static enum h1_rc h1_line_error(const char *line, size_t n, enum h1_rc rc)
{
	return memchr(line, '\r', n) != NULL ? H1_E_BARE_CR : rc;
}

/* Request line and header section; returns like h1_parse(). */
static int h1_parse_head(struct h1_parser *p, const uint8_t *buf, size_t len, struct h1_event *ev)
{
	size_t i = 0;

	while (i < len) {
		const uint8_t *lf;
		size_t n, line_len;
		char *line;
		enum h1_rc rc;

		if (p->state == H1_S_START) {
			uint8_t c = buf[i];

			/* RFC 9112 2.2: ignore empty lines before the request line */
			if (c == '\n') {
				p->cr_pending = false;
				if (++p->crlf_seen > H1_LEADING_CRLF_MAX)
					return h1_fail(p, H1_E_TOO_MANY_CRLF);
				i++;
				continue;
			}
			if (p->cr_pending)
				return h1_fail(p, H1_E_BARE_CR);
			if (c == '\r') {
				p->cr_pending = true;
				i++;
				continue;
			}
			p->state = H1_S_REQ_LINE;
			p->started = true;
			p->head_len = p->line_start = 0;
		}
		lf = memchr(buf + i, '\n', len - i);
		n = lf != NULL ? (size_t)(lf - (buf + i)) + 1 : len - i;
		line_len = p->head_len - p->line_start + n; /* bytes so far, LF included */
		if (p->state == H1_S_REQ_LINE) {
			/* Content bytes so far: without the LF and without a CR that ends
			 * what we have (it may be the CR of CRLF). Exact for any split. */
			size_t have = p->head_len - p->line_start;
			size_t content = lf != NULL ? line_len - 1 : line_len;

			if (content > 0) {
				size_t k = content - 1;
				uint8_t last =
					k < have ? p->head[p->line_start + k] : buf[i + k - have];

				if (last == '\r')
					content--;
			}
			if (content > p->lim.request_line_max)
				return h1_fail(p, H1_E_URI_TOO_LONG);
		} else {
			if ((uint64_t)p->hdr_bytes + n > p->lim.head_max)
				return h1_fail(p, H1_E_HEAD_TOO_LARGE);
			p->hdr_bytes += (uint32_t)n;
		}
		/* The checks above and h1_parser_init()'s capacity check already bound
		 * n; this one keeps the copy safe even if those ever disagree. */
		if (n > (size_t)(p->head_cap - p->head_len))
			return h1_fail(p, H1_E_HEAD_TOO_LARGE);
		memcpy(p->head + p->head_len, buf + i, n);
		p->head_len += (uint32_t)n;
		i += n;
		if (lf == NULL)
			break;
		line = (char *)p->head + p->line_start;
		line_len = p->head_len - p->line_start - 1;
		if (line_len > 0 && line[line_len - 1] == '\r')
			line_len--;
		p->line_start = p->head_len;
		if (p->state == H1_S_REQ_LINE) {
			rc = h1_request_line(p, line, line_len);
			if (rc != H1_OK)
				return h1_fail(p, h1_line_error(line, line_len, rc));
			p->state = H1_S_HEADER;
			continue;
		}
		if (line_len == 0) {
			rc = h1_head_done(p);
			if (rc != H1_OK)
				return h1_fail(p, rc);
			ev->type = H1_EV_HEAD;
			return (int)i;
		}
		rc = h1_header_line(p, line, line_len);
		if (rc != H1_OK)
			return h1_fail(p, h1_line_error(line, line_len, rc));
	}
	return H1_AGAIN;
}

static inline int h1_hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = h1_lower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Chunked body (RFC 9112 7.1), byte-wise; returns like h1_parse(). */
static int h1_parse_chunked(struct h1_parser *p, const uint8_t *buf, size_t len,
			    struct h1_event *ev)
{
	size_t i = 0;

	while (i < len) {
		uint8_t c = buf[i];
		int d;

		switch (p->state) {
		case H1_S_CHUNK_SIZE:
		case H1_S_CHUNK_SIZE_WS:
		case H1_S_CHUNK_EXT:
		case H1_S_CHUNK_SIZE_LF:
			if (++p->chunk_line > H1_CHUNK_LINE_MAX)
				return h1_fail(p, H1_E_CHUNK);
			if (p->state == H1_S_CHUNK_SIZE && (d = h1_hexval(c)) >= 0) {
				uint64_t budget = p->lim.body_max - p->body_total;

				/* the declared size alone may already break the body limit */
				if ((uint64_t)d > budget ||
				    p->remaining > (budget - (uint64_t)d) / 16)
					return h1_fail(p, H1_E_BODY_TOO_LARGE);
				p->remaining = p->remaining * 16 + (uint64_t)d;
				p->chunk_digits = 1;
				i++;
				continue;
			}
			if (p->state == H1_S_CHUNK_SIZE && p->chunk_digits == 0)
				return h1_fail(p, H1_E_CHUNK);
			if (p->state == H1_S_CHUNK_SIZE_LF && c != '\n')
				return h1_fail(p, H1_E_BARE_CR);
			if (c == '\n') {
				i++;
				p->chunk_line = 0;
				p->chunk_digits = 0;
				if (p->remaining == 0) {
					/* last-chunk: the trailer section follows */
					p->hdr_bytes = 0;
					p->state = H1_S_TRAILER;
				} else {
					p->state = H1_S_CHUNK_DATA;
				}
				continue;
			}
			if (c == '\r') {
				p->state = H1_S_CHUNK_SIZE_LF;
			} else if (p->state == H1_S_CHUNK_EXT) {
				/* chunk-ext is skipped; only control bytes are refused */
				if (c != '\t' && (c < 0x20 || c == 0x7f))
					return h1_fail(p, H1_E_CHUNK);
			} else if (c == ';') {
				p->state = H1_S_CHUNK_EXT;
			} else if (h1_ows(c)) {
				p->state = H1_S_CHUNK_SIZE_WS; /* BWS before ';' */
			} else {
				return h1_fail(p, H1_E_CHUNK);
			}
			i++;
			break;
		case H1_S_CHUNK_DATA: {
			size_t n = len - i;

			if (n > p->remaining)
				n = (size_t)p->remaining;
			p->remaining -= n;
			p->body_total += n;
			if (p->remaining == 0)
				p->state = H1_S_CHUNK_DATA_CR;
			ev->type = H1_EV_BODY;
			ev->data = buf + i;
			ev->len = n;
			return (int)(i + n);
		}
		case H1_S_CHUNK_DATA_CR:
			if (c == '\r')
				p->state = H1_S_CHUNK_DATA_LF;
			else if (c == '\n')
				p->state = H1_S_CHUNK_SIZE;
			else
				return h1_fail(p, H1_E_CHUNK);
			i++;
			break;
		case H1_S_CHUNK_DATA_LF:
			if (c != '\n')
				return h1_fail(p, H1_E_BARE_CR);
			p->state = H1_S_CHUNK_SIZE;
			i++;
			break;
		default:
			/* trailer section: field lines, validated and discarded (RFC 9110
			 * 6.5.1 lets a recipient drop them), bounded like the head */
			if (++p->hdr_bytes > p->lim.head_max)
				return h1_fail(p, H1_E_HEAD_TOO_LARGE);
			i++;
			switch (p->state) {
			case H1_S_TRAILER:
				if (c == '\n') {
					p->state = H1_S_DONE;
					ev->type = H1_EV_DONE;
					return (int)i;
				}
				if (c == '\r')
					p->state = H1_S_TRAILER_END_LF;
				else if (h1_ows(c))
					return h1_fail(p, H1_E_OBS_FOLD);
				else if (h1_is(c, C_TCHAR))
					p->state = H1_S_TRAILER_NAME;
				else
					return h1_fail(p, H1_E_CHUNK);
				break;
			case H1_S_TRAILER_NAME:
				if (c == ':')
					p->state = H1_S_TRAILER_VALUE;
				else if (!h1_is(c, C_TCHAR))
					return h1_fail(p, H1_E_CHUNK);
				break;
			case H1_S_TRAILER_VALUE:
				if (c == '\r')
					p->state = H1_S_TRAILER_LF;
				else if (c == '\n')
					p->state = H1_S_TRAILER;
				else if (!h1_is(c, C_VALUE))
					return h1_fail(p, H1_E_CHUNK);
				break;
			case H1_S_TRAILER_LF:
				if (c != '\n')
					return h1_fail(p, H1_E_BARE_CR);
				p->state = H1_S_TRAILER;
				break;
			case H1_S_TRAILER_END_LF:
				if (c != '\n')
					return h1_fail(p, H1_E_BARE_CR);
				p->state = H1_S_DONE;
				ev->type = H1_EV_DONE;
				return (int)i;
			default:
				return h1_fail(p, H1_E_STATE);
			}
			break;
		}
	}
	return H1_AGAIN;
}

int h1_parse(struct h1_parser *p, const uint8_t *buf, size_t len, struct h1_event *ev)
{
	ev->type = H1_EV_NONE;
	ev->data = NULL;
	ev->len = 0;
	if (buf == NULL && len != 0)
		return H1_E_STATE;
	/* returns are ints: keep one call's consumption representable */
	if (len > (size_t)INT32_MAX)
		len = (size_t)INT32_MAX;
	switch (p->state) {
	case H1_S_START:
	case H1_S_REQ_LINE:
	case H1_S_HEADER:
		return h1_parse_head(p, buf, len, ev);
	case H1_S_BODY_LEN: {
		size_t n = len;

		if (n == 0)
			return H1_AGAIN;
		if (n > p->remaining)
			n = (size_t)p->remaining;
		p->remaining -= n;
		p->body_total += n;
		if (p->remaining == 0)
			p->state = H1_S_BODY_END;
		ev->type = H1_EV_BODY;
		ev->data = buf;
		ev->len = n;
		return (int)n;
	}
	case H1_S_BODY_END:
		p->state = H1_S_DONE;
		ev->type = H1_EV_DONE;
		return 0;
	case H1_S_DONE:
		return H1_E_STATE; /* not sticky: h1_next() recovers */
	case H1_S_ERROR:
		return p->error;
	default:
		return h1_parse_chunked(p, buf, len, ev);
	}
}

uint16_t h1_rc_status(int rc)
{
	switch (rc) {
	case H1_E_URI_TOO_LONG:
		return 414;
	case H1_E_HEAD_TOO_LARGE:
	case H1_E_TOO_MANY_HEADERS:
		return 431;
	case H1_E_BODY_TOO_LARGE:
		return 413;
	case H1_E_TE_UNKNOWN:
		return 501;
	case H1_E_VERSION:
		return 505;
	case H1_E_EXPECT:
		return 417;
	case H1_E_STATE:
		return 500;
	default:
		return 400;
	}
}

/* clang-format off */
const char *h1_rc_name(int rc)
{
	switch (rc) {
	case H1_OK: return "ok";
	case H1_AGAIN: return "again";
	case H1_E_SYNTAX: return "syntax";
	case H1_E_BARE_CR: return "bare_cr";
	case H1_E_OBS_FOLD: return "obs_fold";
	case H1_E_HOST: return "host";
	case H1_E_CONTENT_LENGTH: return "content_length";
	case H1_E_CL_AND_TE: return "cl_and_te";
	case H1_E_TE_BAD: return "te_bad";
	case H1_E_CHUNK: return "chunk";
	case H1_E_TOO_MANY_CRLF: return "too_many_crlf";
	case H1_E_URI_TOO_LONG: return "uri_too_long";
	case H1_E_HEAD_TOO_LARGE: return "head_too_large";
	case H1_E_TOO_MANY_HEADERS: return "too_many_headers";
	case H1_E_BODY_TOO_LARGE: return "body_too_large";
	case H1_E_TE_UNKNOWN: return "te_unknown";
	case H1_E_VERSION: return "version";
	case H1_E_EXPECT: return "expect";
	case H1_E_STATE: return "state";
	default: return "unknown";
	}
}
/* clang-format on */

const struct h1_header *h1_find_header(const struct h1_request *req, const char *name,
				       size_t name_len)
{
	uint16_t i;

	for (i = 0; i < req->n_other; i++) {
		const struct h1_str *n = &req->other[i].name;
		size_t k;

		if (n->len != name_len)
			continue;
		for (k = 0; k < name_len; k++)
			if (h1_lower((uint8_t)n->p[k]) != h1_lower((uint8_t)name[k]))
				break;
		if (k == name_len)
			return &req->other[i];
	}
	return NULL;
}
