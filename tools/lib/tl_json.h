/* SPDX-License-Identifier: proprietary */
/*
 * A small JSON reader for the offline tools (prefix tl_): one document (a
 * JSONL line) parsed into a node array, strings unescaped into a buffer the
 * document owns. Not for the packet path (it allocates; the dataplane uses
 * dataplane/reqview). Bounded: depth TL_JSON_MAX_DEPTH, input TL_JSON_MAX_BYTES.
 *
 * Also: growable output buffers with JSON string escaping, and a line reader
 * over plain or gzip files (zlib reads both).
 */
#ifndef TWOSPEED_TL_JSON_H
#define TWOSPEED_TL_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TL_JSON_MAX_DEPTH 64
#define TL_JSON_MAX_BYTES (64u << 20)  /* one document, bytes */

enum tl_jtype {
	TL_JNULL = 0,
	TL_JFALSE = 1,
	TL_JTRUE = 2,
	TL_JNUM = 3,
	TL_JSTR = 4,
	TL_JARR = 5,
	TL_JOBJ = 6,
};

/* Node i; children of an array/object are linked through next (0 = none; node 0 is the root). */
struct tl_jnode {
	uint32_t type;     /* enum tl_jtype */
	uint32_t next;     /* next sibling index, 0 when last */
	uint32_t child;    /* first child index (arrays/objects), 0 when empty */
	uint32_t count;    /* children (arrays/objects) */
	const char *key;   /* object member key (unescaped), NULL in arrays/root */
	uint32_t key_len;  /* bytes */
	const char *str;   /* unescaped string (TL_JSTR) */
	uint32_t str_len;  /* bytes */
	double num;        /* TL_JNUM */
	uint32_t raw_off;  /* the value's raw bytes in the input */
	uint32_t raw_len;
};

struct tl_jdoc {
	struct tl_jnode *nodes;
	uint32_t n, cap;
	char *sbuf;        /* unescaped strings */
	size_t sbuf_len, sbuf_cap;
	const char *src;   /* the input, borrowed until the next parse */
};

void tl_jdoc_init(struct tl_jdoc *d);
void tl_jdoc_fini(struct tl_jdoc *d);

/*
 * Parse s[0..len) as one JSON value (surrounding whitespace allowed). The root
 * is node 0. Returns 0, or -EINVAL (syntax, with "offset N: reason" in err),
 * -E2BIG (too deep or too large), -ENOMEM.
 */
int tl_json_parse(struct tl_jdoc *d, const char *s, size_t len, char *err, size_t errlen);

/* Member of object node obj with this key, or NULL. */
const struct tl_jnode *tl_json_get(const struct tl_jdoc *d, const struct tl_jnode *obj,
				   const char *key);
/* First child / next sibling, NULL at the end. */
const struct tl_jnode *tl_json_child(const struct tl_jdoc *d, const struct tl_jnode *n);
const struct tl_jnode *tl_json_next(const struct tl_jdoc *d, const struct tl_jnode *n);
/* Number of a TL_JNUM, or of true/false (1/0); false when neither. */
bool tl_json_number(const struct tl_jnode *n, double *v);

/* A growable byte buffer. */
struct tl_buf {
	char *p;
	size_t n, cap;
	bool oom; /* an append failed: contents are incomplete */
};

void tl_buf_reset(struct tl_buf *b);
void tl_buf_free(struct tl_buf *b);
void tl_buf_add(struct tl_buf *b, const void *p, size_t n);
void tl_buf_puts(struct tl_buf *b, const char *s);
__attribute__((format(printf, 2, 3))) void tl_buf_printf(struct tl_buf *b, const char *fmt, ...);
/* Append s[0..n) as a JSON string with quotes, escaping what RFC 8259 requires. */
void tl_buf_jstr(struct tl_buf *b, const char *s, size_t n);

/*
 * A chat body {"messages":[...]} from a "turns" array of strings, which
 * alternate user/assistant starting with user. 0, -EINVAL (not a non-empty
 * array of strings), -ENOMEM.
 */
int tl_turns_body(struct tl_buf *out, const struct tl_jdoc *d, const struct tl_jnode *turns);

/* Line reader over a plain or gzip file, or "-" for stdin. */
struct tl_lines;
struct tl_lines *tl_lines_open(const char *path, char *err, size_t errlen);
/*
 * Next line without its '\n' (and '\r'); *len set. Returns 1, 0 at the end,
 * -EIO on a read error, -E2BIG for a line over TL_JSON_MAX_BYTES.
 */
int tl_lines_next(struct tl_lines *l, const char **line, size_t *len);
void tl_lines_close(struct tl_lines *l);

#endif /* TWOSPEED_TL_JSON_H */
