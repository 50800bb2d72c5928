/* SPDX-License-Identifier: proprietary */
/*
 * JSON reader, output buffers and line reader for the offline tools.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "tl_json.h"

void tl_jdoc_init(struct tl_jdoc *d)
{
	memset(d, 0, sizeof(*d));
}

void tl_jdoc_fini(struct tl_jdoc *d)
{
	free(d->nodes);
	free(d->sbuf);
	memset(d, 0, sizeof(*d));
}

struct jp {
	struct tl_jdoc *d;
	const char *s;
	size_t len, i;
	char *err;
	size_t errlen;
};

static int jerr(struct jp *p, int rc, const char *why)
{
	if (p->errlen)
		snprintf(p->err, p->errlen, "offset %zu: %s", p->i, why);
	return rc;
}

static void skip_ws(struct jp *p)
{
	while (p->i < p->len && (p->s[p->i] == ' ' || p->s[p->i] == '\t' ||
				 p->s[p->i] == '\n' || p->s[p->i] == '\r'))
		p->i++;
}

static int new_node(struct jp *p, uint32_t *idx)
{
	struct tl_jdoc *d = p->d;

	if (d->n == d->cap) {
		uint32_t cap = d->cap ? d->cap * 2 : 64;
		struct tl_jnode *nn = realloc(d->nodes, cap * sizeof(*nn));

		if (!nn)
			return jerr(p, -ENOMEM, "out of memory");
		d->nodes = nn;
		d->cap = cap;
	}
	*idx = d->n++;
	memset(&d->nodes[*idx], 0, sizeof(d->nodes[*idx]));
	return 0;
}

static int hex4(struct jp *p, uint32_t *v)
{
	*v = 0;
	if (p->len - p->i < 4)
		return jerr(p, -EINVAL, "truncated \\u escape");
	for (int k = 0; k < 4; k++) {
		char c = p->s[p->i++];

		*v <<= 4;
		if (c >= '0' && c <= '9')
			*v |= (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			*v |= (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			*v |= (uint32_t)(c - 'A' + 10);
		else
			return jerr(p, -EINVAL, "bad \\u escape");
	}
	return 0;
}

/*
 * Length of the well-formed UTF-8 sequence at s (RFC 3629: no overlong forms,
 * no surrogates, nothing above U+10FFFF), or 0 when it is not one.
 */
static size_t utf8_len(const char *s, size_t avail)
{
	const unsigned char *u = (const unsigned char *)s;
	uint32_t cp;
	size_t n;

	if (u[0] < 0x80)
		return 1;
	if (u[0] >= 0xc2 && u[0] <= 0xdf)
		n = 2;
	else if (u[0] >= 0xe0 && u[0] <= 0xef)
		n = 3;
	else if (u[0] >= 0xf0 && u[0] <= 0xf4)
		n = 4;
	else
		return 0;
	if (avail < n)
		return 0;
	cp = u[0] & (0x7f >> n);
	for (size_t i = 1; i < n; i++) {
		if ((u[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (u[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* Unescape the string at p->i (after the opening quote) into sbuf. */
static int parse_str(struct jp *p, const char **out, uint32_t *out_len)
{
	struct tl_jdoc *d = p->d;
	char *o = d->sbuf + d->sbuf_len;
	char *o0 = o;
	int rc;

	for (;;) {
		unsigned char c;

		if (p->i >= p->len)
			return jerr(p, -EINVAL, "unterminated string");
		c = (unsigned char)p->s[p->i++];
		if (c == '"')
			break;
		if (c < 0x20)
			return jerr(p, -EINVAL, "control character in string");
		if (c >= 0x80) {
			size_t k = utf8_len(p->s + p->i - 1, p->len - (p->i - 1));

			if (k == 0)
				return jerr(p, -EINVAL, "invalid UTF-8 in string");
			memcpy(o, p->s + p->i - 1, k);
			o += k;
			p->i += k - 1;
			continue;
		}
		if (c != '\\') {
			*o++ = (char)c;
			continue;
		}
		if (p->i >= p->len)
			return jerr(p, -EINVAL, "unterminated escape");
		c = (unsigned char)p->s[p->i++];
		switch (c) {
		case '"': *o++ = '"'; break;
		case '\\': *o++ = '\\'; break;
		case '/': *o++ = '/'; break;
		case 'b': *o++ = '\b'; break;
		case 'f': *o++ = '\f'; break;
		case 'n': *o++ = '\n'; break;
		case 'r': *o++ = '\r'; break;
		case 't': *o++ = '\t'; break;
		case 'u': {
			uint32_t cp, lo;

			rc = hex4(p, &cp);
			if (rc)
				return rc;
			if (cp >= 0xdc00 && cp <= 0xdfff)
				return jerr(p, -EINVAL, "lone low surrogate");
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (p->len - p->i < 2 || p->s[p->i] != '\\' || p->s[p->i + 1] != 'u')
					return jerr(p, -EINVAL, "lone high surrogate");
				p->i += 2;
				rc = hex4(p, &lo);
				if (rc)
					return rc;
				if (lo < 0xdc00 || lo > 0xdfff)
					return jerr(p, -EINVAL, "lone high surrogate");
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			}
			/* 6 escaped bytes give at most 3 UTF-8 bytes, 12 give 4 */
			if (cp < 0x80) {
				*o++ = (char)cp;
			} else if (cp < 0x800) {
				*o++ = (char)(0xc0 | (cp >> 6));
				*o++ = (char)(0x80 | (cp & 0x3f));
			} else if (cp < 0x10000) {
				*o++ = (char)(0xe0 | (cp >> 12));
				*o++ = (char)(0x80 | ((cp >> 6) & 0x3f));
				*o++ = (char)(0x80 | (cp & 0x3f));
			} else {
				*o++ = (char)(0xf0 | (cp >> 18));
				*o++ = (char)(0x80 | ((cp >> 12) & 0x3f));
				*o++ = (char)(0x80 | ((cp >> 6) & 0x3f));
				*o++ = (char)(0x80 | (cp & 0x3f));
			}
			break;
		}
		default:
			return jerr(p, -EINVAL, "bad escape");
		}
	}
	*o = '\0';
	*out = o0;
	*out_len = (uint32_t)(o - o0);
	d->sbuf_len += (size_t)(o - o0) + 1;
	return 0;
}

static int parse_value(struct jp *p, uint32_t *idx, uint32_t depth);

static int parse_container(struct jp *p, uint32_t self, bool obj, uint32_t depth)
{
	uint32_t last = 0;
	char close = obj ? '}' : ']';

	skip_ws(p);
	if (p->i < p->len && p->s[p->i] == close) {
		p->i++;
		return 0;
	}
	for (;;) {
		const char *key = NULL;
		uint32_t key_len = 0, child;
		int rc;

		skip_ws(p);
		if (obj) {
			if (p->i >= p->len || p->s[p->i] != '"')
				return jerr(p, -EINVAL, "expected a key");
			p->i++;
			rc = parse_str(p, &key, &key_len);
			if (rc)
				return rc;
			skip_ws(p);
			if (p->i >= p->len || p->s[p->i] != ':')
				return jerr(p, -EINVAL, "expected ':'");
			p->i++;
		}
		rc = parse_value(p, &child, depth + 1);
		if (rc)
			return rc;
		p->d->nodes[child].key = key;
		p->d->nodes[child].key_len = key_len;
		if (last)
			p->d->nodes[last].next = child;
		else
			p->d->nodes[self].child = child;
		last = child;
		p->d->nodes[self].count++;
		skip_ws(p);
		if (p->i >= p->len)
			return jerr(p, -EINVAL, "unterminated container");
		if (p->s[p->i] == ',') {
			p->i++;
			continue;
		}
		if (p->s[p->i] == close) {
			p->i++;
			return 0;
		}
		return jerr(p, -EINVAL, obj ? "expected ',' or '}'" : "expected ',' or ']'");
	}
}

static bool lit(struct jp *p, const char *w)
{
	size_t n = strlen(w);

	if (p->len - p->i < n || memcmp(p->s + p->i, w, n) != 0)
		return false;
	p->i += n;
	return true;
}

static int parse_number(struct jp *p, double *v)
{
	size_t st = p->i;
	char tmp[64];
	char *end;

	if (p->i < p->len && p->s[p->i] == '-')
		p->i++;
	if (p->i >= p->len || p->s[p->i] < '0' || p->s[p->i] > '9')
		return jerr(p, -EINVAL, "bad number");
	if (p->s[p->i] == '0')
		p->i++;
	else
		while (p->i < p->len && p->s[p->i] >= '0' && p->s[p->i] <= '9')
			p->i++;
	if (p->i < p->len && p->s[p->i] == '.') {
		p->i++;
		if (p->i >= p->len || p->s[p->i] < '0' || p->s[p->i] > '9')
			return jerr(p, -EINVAL, "bad number");
		while (p->i < p->len && p->s[p->i] >= '0' && p->s[p->i] <= '9')
			p->i++;
	}
	if (p->i < p->len && (p->s[p->i] == 'e' || p->s[p->i] == 'E')) {
		p->i++;
		if (p->i < p->len && (p->s[p->i] == '+' || p->s[p->i] == '-'))
			p->i++;
		if (p->i >= p->len || p->s[p->i] < '0' || p->s[p->i] > '9')
			return jerr(p, -EINVAL, "bad number");
		while (p->i < p->len && p->s[p->i] >= '0' && p->s[p->i] <= '9')
			p->i++;
	}
	if (p->i - st >= sizeof(tmp))
		return jerr(p, -EINVAL, "number too long");
	memcpy(tmp, p->s + st, p->i - st);
	tmp[p->i - st] = '\0';
	*v = strtod(tmp, &end);
	return 0;
}

static int parse_value(struct jp *p, uint32_t *idx, uint32_t depth)
{
	struct tl_jnode *n;
	uint32_t self;
	size_t st;
	int rc;

	if (depth > TL_JSON_MAX_DEPTH)
		return jerr(p, -E2BIG, "nesting too deep");
	skip_ws(p);
	if (p->i >= p->len)
		return jerr(p, -EINVAL, "expected a value");
	rc = new_node(p, &self);
	if (rc)
		return rc;
	st = p->i;
	switch (p->s[p->i]) {
	case '{':
	case '[': {
		bool obj = p->s[p->i] == '{';

		p->d->nodes[self].type = obj ? TL_JOBJ : TL_JARR;
		p->i++;
		rc = parse_container(p, self, obj, depth);
		break;
	}
	case '"': {
		const char *s;
		uint32_t sl;

		p->i++;
		rc = parse_str(p, &s, &sl);
		if (!rc) {
			p->d->nodes[self].type = TL_JSTR;
			p->d->nodes[self].str = s;
			p->d->nodes[self].str_len = sl;
		}
		break;
	}
	case 't':
		rc = lit(p, "true") ? 0 : jerr(p, -EINVAL, "bad literal");
		p->d->nodes[self].type = TL_JTRUE;
		break;
	case 'f':
		rc = lit(p, "false") ? 0 : jerr(p, -EINVAL, "bad literal");
		p->d->nodes[self].type = TL_JFALSE;
		break;
	case 'n':
		rc = lit(p, "null") ? 0 : jerr(p, -EINVAL, "bad literal");
		p->d->nodes[self].type = TL_JNULL;
		break;
	default: {
		double v = 0;

		rc = parse_number(p, &v);
		p->d->nodes[self].type = TL_JNUM;
		p->d->nodes[self].num = v;
		break;
	}
	}
	if (rc)
		return rc;
	n = &p->d->nodes[self];
	n->raw_off = (uint32_t)st;
	n->raw_len = (uint32_t)(p->i - st);
	*idx = self;
	return 0;
}

int tl_json_parse(struct tl_jdoc *d, const char *s, size_t len, char *err, size_t errlen)
{
	struct jp p = { .d = d, .s = s, .len = len, .err = err, .errlen = errlen };
	uint32_t root;
	int rc;

	if (errlen)
		err[0] = '\0';
	if (len > TL_JSON_MAX_BYTES)
		return jerr(&p, -E2BIG, "document too large");
	/* unescaping never grows a string, so sbuf never moves while parsing */
	if (d->sbuf_cap < len + 1) {
		char *nb = realloc(d->sbuf, len + 1);

		if (!nb)
			return jerr(&p, -ENOMEM, "out of memory");
		d->sbuf = nb;
		d->sbuf_cap = len + 1;
	}
	d->sbuf_len = 0;
	d->n = 0;
	d->src = s;
	rc = parse_value(&p, &root, 1);
	if (rc)
		return rc;
	skip_ws(&p);
	if (p.i != len)
		return jerr(&p, -EINVAL, "trailing bytes after the value");
	return 0;
}

const struct tl_jnode *tl_json_get(const struct tl_jdoc *d, const struct tl_jnode *obj,
				   const char *key)
{
	size_t kl = strlen(key);

	if (!obj || obj->type != TL_JOBJ)
		return NULL;
	for (uint32_t c = obj->child; c; c = d->nodes[c].next) {
		const struct tl_jnode *n = &d->nodes[c];

		if (n->key_len == kl && memcmp(n->key, key, kl) == 0)
			return n;
	}
	return NULL;
}

const struct tl_jnode *tl_json_child(const struct tl_jdoc *d, const struct tl_jnode *n)
{
	if (!n || (n->type != TL_JOBJ && n->type != TL_JARR) || !n->child)
		return NULL;
	return &d->nodes[n->child];
}

const struct tl_jnode *tl_json_next(const struct tl_jdoc *d, const struct tl_jnode *n)
{
	return n && n->next ? &d->nodes[n->next] : NULL;
}

bool tl_json_number(const struct tl_jnode *n, double *v)
{
	if (!n)
		return false;
	switch (n->type) {
	case TL_JNUM:
		*v = n->num;
		return true;
	case TL_JTRUE:
		*v = 1;
		return true;
	case TL_JFALSE:
		*v = 0;
		return true;
	default:
		return false;
	}
}

/* ---- output buffers ---- */

void tl_buf_reset(struct tl_buf *b)
{
	b->n = 0;
	b->oom = false;
	if (b->p)
		b->p[0] = '\0';
}

void tl_buf_free(struct tl_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

static bool grow(struct tl_buf *b, size_t extra)
{
	size_t need = b->n + extra + 1, cap;
	char *np;

	if (b->oom)
		return false;
	if (need <= b->cap)
		return true;
	cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap *= 2;
	np = realloc(b->p, cap);
	if (!np) {
		b->oom = true;
		return false;
	}
	b->p = np;
	b->cap = cap;
	return true;
}

void tl_buf_add(struct tl_buf *b, const void *p, size_t n)
{
	if (!grow(b, n))
		return;
	memcpy(b->p + b->n, p, n);
	b->n += n;
	b->p[b->n] = '\0';
}

void tl_buf_puts(struct tl_buf *b, const char *s)
{
	tl_buf_add(b, s, strlen(s));
}

void tl_buf_printf(struct tl_buf *b, const char *fmt, ...)
{
	va_list ap;
	int k;

	va_start(ap, fmt);
	k = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (k < 0 || !grow(b, (size_t)k))
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->n, (size_t)k + 1, fmt, ap);
	va_end(ap);
	b->n += (size_t)k;
}

void tl_buf_jstr(struct tl_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t run = 0;

	tl_buf_add(b, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[6];

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		tl_buf_add(b, s + run, i - run);
		run = i + 1;
		switch (c) {
		case '"': tl_buf_add(b, "\\\"", 2); break;
		case '\\': tl_buf_add(b, "\\\\", 2); break;
		case '\n': tl_buf_add(b, "\\n", 2); break;
		case '\r': tl_buf_add(b, "\\r", 2); break;
		case '\t': tl_buf_add(b, "\\t", 2); break;
		default:
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			tl_buf_add(b, esc, 6);
			break;
		}
	}
	tl_buf_add(b, s + run, n - run);
	tl_buf_add(b, "\"", 1);
}

/* ---- line reader ---- */

struct tl_lines {
	gzFile gz;
	char *buf;
	size_t cap, start, end; /* valid bytes [start, end) */
	bool eof;
};

struct tl_lines *tl_lines_open(const char *path, char *err, size_t errlen)
{
	struct tl_lines *l = calloc(1, sizeof(*l));

	if (!l) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	l->gz = strcmp(path, "-") == 0 ? gzdopen(0, "rb") : gzopen(path, "rb");
	if (!l->gz) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno ? errno : EIO));
		free(l);
		return NULL;
	}
	gzbuffer(l->gz, 1u << 17);
	l->cap = 1u << 16;
	l->buf = malloc(l->cap);
	if (!l->buf) {
		gzclose(l->gz);
		free(l);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	return l;
}

int tl_lines_next(struct tl_lines *l, const char **line, size_t *len)
{
	size_t scan = l->start;

	for (;;) {
		char *nl = memchr(l->buf + scan, '\n', l->end - scan);

		if (nl || (l->eof && l->end > l->start)) {
			size_t e = nl ? (size_t)(nl - l->buf) : l->end;

			*line = l->buf + l->start;
			*len = e - l->start;
			l->start = nl ? e + 1 : e;
			if (*len && (*line)[*len - 1] == '\r')
				(*len)--;
			return 1;
		}
		if (l->eof)
			return 0;
		scan = l->end;
		/* compact, then grow within bounds */
		if (l->start) {
			memmove(l->buf, l->buf + l->start, l->end - l->start);
			scan -= l->start;
			l->end -= l->start;
			l->start = 0;
		}
		if (l->end == l->cap) {
			char *nb;

			if (l->cap >= TL_JSON_MAX_BYTES)
				return -E2BIG;
			nb = realloc(l->buf, l->cap * 2);
			if (!nb)
				return -ENOMEM;
			l->buf = nb;
			l->cap *= 2;
		}
		int k = gzread(l->gz, l->buf + l->end, (unsigned)(l->cap - l->end));

		if (k < 0)
			return -EIO;
		if (k == 0)
			l->eof = true;
		l->end += (size_t)k;
	}
}

void tl_lines_close(struct tl_lines *l)
{
	if (!l)
		return;
	gzclose(l->gz);
	free(l->buf);
	free(l);
}

int tl_turns_body(struct tl_buf *out, const struct tl_jdoc *d, const struct tl_jnode *turns)
{
	const struct tl_jnode *t;
	uint32_t k = 0;

	if (!turns || turns->type != TL_JARR || turns->count == 0)
		return -EINVAL;
	tl_buf_reset(out);
	tl_buf_puts(out, "{\"messages\":[");
	for (t = tl_json_child(d, turns); t; t = tl_json_next(d, t), k++) {
		if (t->type != TL_JSTR)
			return -EINVAL;
		tl_buf_puts(out, k ? ",{\"role\":" : "{\"role\":");
		tl_buf_puts(out, k % 2 ? "\"assistant\"" : "\"user\"");
		tl_buf_puts(out, ",\"content\":");
		tl_buf_jstr(out, t->str, t->str_len);
		tl_buf_puts(out, "}");
	}
	tl_buf_puts(out, "]}");
	return out->oom ? -ENOMEM : 0;
}
