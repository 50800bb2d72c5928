/* A tiny GGUF writer for tests: little-endian records appended to a growable
 * buffer, so a test can build a valid file and then break one field. */
#ifndef TS_TEST_GBUILD_H
#define TS_TEST_GBUILD_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct gb {
	uint8_t *p;
	size_t len; /* bytes */
	size_t cap; /* bytes */
};

static inline void gb_put(struct gb *b, const void *v, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n)
			cap *= 2;
		uint8_t *np = realloc(b->p, cap);
		if (!np)
			abort();
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, v, n);
	b->len += n;
}

static inline void gb_u8(struct gb *b, uint8_t v) { gb_put(b, &v, 1); }
static inline void gb_u32(struct gb *b, uint32_t v) { gb_put(b, &v, 4); }
static inline void gb_u64(struct gb *b, uint64_t v) { gb_put(b, &v, 8); }
static inline void gb_f32(struct gb *b, float v) { gb_put(b, &v, 4); }

static inline void gb_str(struct gb *b, const char *s)
{
	gb_u64(b, strlen(s));
	gb_put(b, s, strlen(s));
}

static inline void gb_pad(struct gb *b, size_t align)
{
	while (b->len % align)
		gb_u8(b, 0);
}

static inline void gb_free(struct gb *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

#endif
