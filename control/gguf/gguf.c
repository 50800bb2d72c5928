/* GGUF reader (spec: ggml docs/gguf.md). Init-time, control plane.
 *
 * Everything is validated in gguf_open_mem() so the accessors never need to
 * re-check: afterwards every pointer handed out lies inside the buffer. Memory
 * allocated is bounded by the input size: a count is accepted only if the
 * bytes left could hold that many minimal records. */
#include "gguf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "GGUF reader assumes a little-endian host");
_Static_assert(sizeof(struct gguf_block_q8_0) == 34, "Q8_0 block must be 34 bytes");

struct gguf_kv {
	const char *key; /* into the buffer */
	size_t key_len;	 /* bytes */
	enum gguf_type type;
	const uint8_t *val;	  /* scalar value, string record, or first array element */
	enum gguf_type elem_type; /* arrays only */
	uint64_t n;		  /* arrays only: element count */
	uint64_t *str_off;	  /* string arrays only: n offsets of each record from val */
};

struct gguf_file {
	const uint8_t *base; /* whole file */
	size_t len;	     /* bytes */
	bool mapped;	     /* base came from mmap(): unmap on close */
	uint32_t version;
	uint32_t alignment; /* bytes, power of two */
	uint64_t n_kv;
	struct gguf_kv *kv;
	uint32_t *kv_sorted; /* kv indices sorted by key, for lookup */
	uint64_t n_tensors;
	struct gguf_tensor *tensors;
	uint32_t *t_sorted; /* tensor indices sorted by name */
	size_t data_off;    /* bytes: start of the data section */
};

struct rd {
	const uint8_t *p;
	size_t len;
	size_t off;
	char *err;
	size_t errlen;
};

static bool fail(struct rd *r, size_t off, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static bool fail(struct rd *r, size_t off, const char *fmt, ...)
{
	if (r->err && r->errlen) {
		int n = snprintf(r->err, r->errlen, "offset %zu: ", off);
		if (n >= 0 && (size_t)n < r->errlen) {
			va_list ap;
			va_start(ap, fmt);
			vsnprintf(r->err + n, r->errlen - (size_t)n, fmt, ap);
			va_end(ap);
		}
	}
	return false;
}

static size_t left(const struct rd *r)
{
	return r->len - r->off;
}

static bool rd_bytes(struct rd *r, size_t n, const uint8_t **out, const char *what)
{
	if (n > left(r))
		return fail(r, r->off, "truncated %s (need %zu bytes, %zu left)", what, n, left(r));
	*out = r->p + r->off;
	r->off += n;
	return true;
}

static bool rd_u32(struct rd *r, uint32_t *v, const char *what)
{
	const uint8_t *b = NULL;
	if (!rd_bytes(r, 4, &b, what))
		return false;
	memcpy(v, b, 4);
	return true;
}

static bool rd_u64(struct rd *r, uint64_t *v, const char *what)
{
	const uint8_t *b = NULL;
	if (!rd_bytes(r, 8, &b, what))
		return false;
	memcpy(v, b, 8);
	return true;
}

/* A GGUF string: u64 length + bytes (no NUL). */
static bool rd_str(struct rd *r, const char **s, size_t *len, const char *what)
{
	size_t at = r->off;
	uint64_t n;
	const uint8_t *b = NULL;
	if (!rd_u64(r, &n, what))
		return false;
	if (n > left(r))
		return fail(r, at, "%s length %llu exceeds the %zu bytes left", what,
			    (unsigned long long)n, left(r));
	rd_bytes(r, (size_t)n, &b, what);
	*s = (const char *)b;
	*len = (size_t)n;
	return true;
}

static size_t scalar_size(enum gguf_type t)
{
	switch (t) {
	case GGUF_TYPE_UINT8:
	case GGUF_TYPE_INT8:
	case GGUF_TYPE_BOOL:
		return 1;
	case GGUF_TYPE_UINT16:
	case GGUF_TYPE_INT16:
		return 2;
	case GGUF_TYPE_UINT32:
	case GGUF_TYPE_INT32:
	case GGUF_TYPE_FLOAT32:
		return 4;
	case GGUF_TYPE_UINT64:
	case GGUF_TYPE_INT64:
	case GGUF_TYPE_FLOAT64:
		return 8;
	default:
		return 0;
	}
}

struct type_traits {
	uint32_t blck; /* elements per block */
	uint32_t size; /* bytes per block */
	const char *name;
};

static const struct type_traits ttraits[GGUF_TENSOR_TYPE_COUNT] = {
	[GGUF_TENSOR_F32] = {1, 4, "F32"},	   [GGUF_TENSOR_F16] = {1, 2, "F16"},
	[GGUF_TENSOR_Q4_0] = {32, 18, "Q4_0"},	   [GGUF_TENSOR_Q4_1] = {32, 20, "Q4_1"},
	[GGUF_TENSOR_Q5_0] = {32, 22, "Q5_0"},	   [GGUF_TENSOR_Q5_1] = {32, 24, "Q5_1"},
	[GGUF_TENSOR_Q8_0] = {32, 34, "Q8_0"},	   [GGUF_TENSOR_Q8_1] = {32, 36, "Q8_1"},
	[GGUF_TENSOR_Q2_K] = {256, 84, "Q2_K"},	   [GGUF_TENSOR_Q3_K] = {256, 110, "Q3_K"},
	[GGUF_TENSOR_Q4_K] = {256, 144, "Q4_K"},   [GGUF_TENSOR_Q5_K] = {256, 176, "Q5_K"},
	[GGUF_TENSOR_Q6_K] = {256, 210, "Q6_K"},   [GGUF_TENSOR_Q8_K] = {256, 292, "Q8_K"},
	[GGUF_TENSOR_I8] = {1, 1, "I8"},	   [GGUF_TENSOR_I16] = {1, 2, "I16"},
	[GGUF_TENSOR_I32] = {1, 4, "I32"},	   [GGUF_TENSOR_I64] = {1, 8, "I64"},
	[GGUF_TENSOR_F64] = {1, 8, "F64"},	   [GGUF_TENSOR_BF16] = {1, 2, "BF16"},
};

static const struct type_traits *tt(uint32_t t)
{
	if (t >= GGUF_TENSOR_TYPE_COUNT || ttraits[t].blck == 0)
		return NULL;
	return &ttraits[t];
}

const char *gguf_tensor_type_name(enum gguf_tensor_type t)
{
	const struct type_traits *x = tt((uint32_t)t);
	return x ? x->name : "?";
}

bool gguf_tensor_nbytes(enum gguf_tensor_type t, uint64_t n, uint64_t *out)
{
	const struct type_traits *x = tt((uint32_t)t);
	if (!x || n % x->blck)
		return false;
	return !__builtin_mul_overflow(n / x->blck, (uint64_t)x->size, out);
}

/* Parse one metadata value of type t at the cursor into kv. */
static bool rd_value(struct rd *r, struct gguf_kv *kv)
{
	size_t at = r->off;
	const uint8_t *b = NULL;
	if (kv->type == GGUF_TYPE_STRING) {
		const char *s;
		size_t n;
		kv->val = r->p + r->off;
		return rd_str(r, &s, &n, "string value");
	}
	if (kv->type != GGUF_TYPE_ARRAY) {
		size_t sz = scalar_size(kv->type);
		if (!rd_bytes(r, sz, &b, "value"))
			return false;
		if (kv->type == GGUF_TYPE_BOOL && *b > 1)
			return fail(r, at, "bool value %u is not 0 or 1", *b);
		kv->val = b;
		return true;
	}
	uint32_t et;
	if (!rd_u32(r, &et, "array element type"))
		return false;
	if (et >= GGUF_TYPE_COUNT)
		return fail(r, at, "invalid array element type %u", et);
	if (et == GGUF_TYPE_ARRAY)
		return fail(r, at, "nested arrays are not supported");
	kv->elem_type = (enum gguf_type)et;
	if (!rd_u64(r, &kv->n, "array length"))
		return false;
	kv->val = r->p + r->off;
	if (et == GGUF_TYPE_STRING) {
		/* each element takes at least its 8-byte length */
		if (kv->n > left(r) / 8)
			return fail(r, at + 4, "array of %llu strings cannot fit in %zu bytes",
				    (unsigned long long)kv->n, left(r));
		kv->str_off = malloc((size_t)(kv->n ? kv->n : 1) * sizeof(*kv->str_off));
		if (!kv->str_off)
			return fail(r, at, "out of memory for %llu strings", (unsigned long long)kv->n);
		for (uint64_t i = 0; i < kv->n; i++) {
			const char *s;
			size_t n;
			kv->str_off[i] = (uint64_t)(r->p + r->off - kv->val);
			if (!rd_str(r, &s, &n, "array string"))
				return false;
		}
		return true;
	}
	size_t es = scalar_size(kv->elem_type);
	if (kv->n > left(r) / es)
		return fail(r, at + 4, "array of %llu elements (%zu bytes each) exceeds the %zu bytes left",
			    (unsigned long long)kv->n, es, left(r));
	if (kv->elem_type == GGUF_TYPE_BOOL) {
		for (uint64_t i = 0; i < kv->n; i++)
			if (kv->val[i] > 1)
				return fail(r, r->off + i, "bool array element is not 0 or 1");
	}
	r->off += (size_t)kv->n * es;
	return true;
}

static int cmp_bytes(const char *a, size_t al, const char *b, size_t bl)
{
	int c = memcmp(a, b, al < bl ? al : bl);
	if (c)
		return c;
	return al < bl ? -1 : al > bl;
}

/* qsort has no context argument in C11 and a file-scope pointer would not be
 * reentrant, so index sorting is a small merge sort with explicit context. */
struct sort_ctx {
	const struct gguf_file *f;
	bool tensors;
};

static int cmp_idx(const struct sort_ctx *c, uint32_t a, uint32_t b)
{
	if (c->tensors)
		return cmp_bytes(c->f->tensors[a].name, c->f->tensors[a].name_len, c->f->tensors[b].name,
				 c->f->tensors[b].name_len);
	return cmp_bytes(c->f->kv[a].key, c->f->kv[a].key_len, c->f->kv[b].key, c->f->kv[b].key_len);
}

static void msort(const struct sort_ctx *c, uint32_t *v, uint32_t *tmp, size_t n)
{
	if (n < 2)
		return;
	size_t h = n / 2;
	msort(c, v, tmp, h);
	msort(c, v + h, tmp, n - h);
	size_t i = 0, j = h, k = 0;
	while (i < h && j < n)
		tmp[k++] = cmp_idx(c, v[i], v[j]) <= 0 ? v[i++] : v[j++];
	while (i < h)
		tmp[k++] = v[i++];
	while (j < n)
		tmp[k++] = v[j++];
	memcpy(v, tmp, n * sizeof(*v));
}

static uint32_t *sorted_index(const struct gguf_file *f, bool tensors, size_t n)
{
	uint32_t *v = malloc((n ? n : 1) * sizeof(*v));
	uint32_t *tmp = malloc((n ? n : 1) * sizeof(*v));
	struct sort_ctx c = {f, tensors};
	if (!v || !tmp) {
		free(v);
		free(tmp);
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		v[i] = (uint32_t)i;
	msort(&c, v, tmp, n);
	free(tmp);
	return v;
}

static int cmp_off(const void *a, const void *b)
{
	const struct gguf_tensor *x = *(const struct gguf_tensor *const *)a;
	const struct gguf_tensor *y = *(const struct gguf_tensor *const *)b;
	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static bool parse_kvs(struct gguf_file *f, struct rd *r)
{
	for (uint64_t i = 0; i < f->n_kv; i++) {
		struct gguf_kv *kv = &f->kv[i];
		uint32_t t;
		size_t at = r->off;
		if (!rd_str(r, &kv->key, &kv->key_len, "key"))
			return false;
		if (kv->key_len == 0)
			return fail(r, at, "empty key");
		at = r->off;
		if (!rd_u32(r, &t, "value type"))
			return false;
		if (t >= GGUF_TYPE_COUNT)
			return fail(r, at, "invalid value type %u for key '%.*s'", t, (int)kv->key_len,
				    kv->key);
		kv->type = (enum gguf_type)t;
		if (!rd_value(r, kv))
			return false;
	}
	f->kv_sorted = sorted_index(f, false, (size_t)f->n_kv);
	if (!f->kv_sorted)
		return fail(r, r->off, "out of memory");
	for (uint64_t i = 1; i < f->n_kv; i++) {
		const struct gguf_kv *a = &f->kv[f->kv_sorted[i - 1]], *b = &f->kv[f->kv_sorted[i]];
		if (!cmp_bytes(a->key, a->key_len, b->key, b->key_len))
			return fail(r, (size_t)((const uint8_t *)b->key - f->base), "duplicate key '%.*s'",
				    (int)b->key_len, b->key);
	}
	int64_t ai = gguf_find_key(f, "general.alignment");
	f->alignment = GGUF_DEFAULT_ALIGNMENT;
	if (ai >= 0) {
		const struct gguf_kv *kv = &f->kv[ai];
		size_t at = (size_t)(kv->val - f->base);
		uint32_t a;
		if (kv->type != GGUF_TYPE_UINT32)
			return fail(r, at, "general.alignment must be a UINT32");
		memcpy(&a, kv->val, 4);
		if (a == 0 || (a & (a - 1)))
			return fail(r, at, "general.alignment %u is not a power of two", a);
		f->alignment = a;
	}
	return true;
}

static bool parse_tensor_infos(struct gguf_file *f, struct rd *r)
{
	for (uint64_t i = 0; i < f->n_tensors; i++) {
		struct gguf_tensor *t = &f->tensors[i];
		size_t at = r->off;
		uint32_t type;
		if (!rd_str(r, &t->name, &t->name_len, "tensor name"))
			return false;
		if (t->name_len == 0)
			return fail(r, at, "empty tensor name");
		at = r->off;
		if (!rd_u32(r, &t->n_dims, "tensor dims"))
			return false;
		if (t->n_dims == 0 || t->n_dims > GGUF_MAX_DIMS)
			return fail(r, at, "tensor '%.*s' has %u dims (1..%d allowed)", (int)t->name_len,
				    t->name, t->n_dims, GGUF_MAX_DIMS);
		t->n_elem = 1;
		for (uint32_t d = 0; d < GGUF_MAX_DIMS; d++)
			t->ne[d] = 1;
		for (uint32_t d = 0; d < t->n_dims; d++) {
			at = r->off;
			if (!rd_u64(r, &t->ne[d], "tensor dimension"))
				return false;
			/* ggml keeps ne in int64_t */
			if (t->ne[d] > (uint64_t)INT64_MAX ||
			    __builtin_mul_overflow(t->n_elem, t->ne[d], &t->n_elem) ||
			    t->n_elem > (uint64_t)INT64_MAX)
				return fail(r, at, "tensor '%.*s' element count overflows", (int)t->name_len,
					    t->name);
		}
		at = r->off;
		if (!rd_u32(r, &type, "tensor type"))
			return false;
		const struct type_traits *x = tt(type);
		if (!x)
			return fail(r, at, "tensor '%.*s' has unsupported type %u", (int)t->name_len,
				    t->name, type);
		t->type = (enum gguf_tensor_type)type;
		if (t->ne[0] % x->blck)
			return fail(r, at, "tensor '%.*s': row of %llu elements is not a multiple of the %s block (%u)",
				    (int)t->name_len, t->name, (unsigned long long)t->ne[0], x->name, x->blck);
		if (!gguf_tensor_nbytes(t->type, t->n_elem, &t->nbytes))
			return fail(r, at, "tensor '%.*s' byte size overflows", (int)t->name_len, t->name);
		at = r->off;
		if (!rd_u64(r, &t->offset, "tensor offset"))
			return false;
		if (t->offset % f->alignment)
			return fail(r, at, "tensor '%.*s' offset %llu is not aligned to %u", (int)t->name_len,
				    t->name, (unsigned long long)t->offset, f->alignment);
	}
	f->t_sorted = sorted_index(f, true, (size_t)f->n_tensors);
	if (!f->t_sorted)
		return fail(r, r->off, "out of memory");
	for (uint64_t i = 1; i < f->n_tensors; i++) {
		const struct gguf_tensor *a = &f->tensors[f->t_sorted[i - 1]];
		const struct gguf_tensor *b = &f->tensors[f->t_sorted[i]];
		if (!cmp_bytes(a->name, a->name_len, b->name, b->name_len))
			return fail(r, (size_t)((const uint8_t *)b->name - f->base),
				    "duplicate tensor name '%.*s'", (int)b->name_len, b->name);
	}
	return true;
}

static bool place_tensors(struct gguf_file *f, struct rd *r)
{
	size_t info_end = r->off;
	uint64_t data = ((uint64_t)info_end + f->alignment - 1) & ~((uint64_t)f->alignment - 1);
	f->data_off = (size_t)data;
	if (f->n_tensors == 0)
		return true;
	if (data > r->len)
		return fail(r, info_end, "data section at %llu starts past the end of the file (%zu bytes)",
			    (unsigned long long)data, r->len);
	uint64_t room = r->len - data;
	for (uint64_t i = 0; i < f->n_tensors; i++) {
		struct gguf_tensor *t = &f->tensors[i];
		if (t->offset > room || t->nbytes > room - t->offset)
			return fail(r, (size_t)((const uint8_t *)t->name - f->base),
				    "tensor '%.*s' data [%llu, +%llu) lies outside the %llu-byte data section",
				    (int)t->name_len, t->name, (unsigned long long)t->offset,
				    (unsigned long long)t->nbytes, (unsigned long long)room);
		t->data = f->base + data + t->offset;
	}
	const struct gguf_tensor **by_off = malloc((size_t)f->n_tensors * sizeof(*by_off));
	if (!by_off)
		return fail(r, info_end, "out of memory");
	for (uint64_t i = 0; i < f->n_tensors; i++)
		by_off[i] = &f->tensors[i];
	qsort(by_off, (size_t)f->n_tensors, sizeof(*by_off), cmp_off);
	for (uint64_t i = 1; i < f->n_tensors; i++) {
		const struct gguf_tensor *a = by_off[i - 1], *b = by_off[i];
		if (a->offset + a->nbytes > b->offset) {
			fail(r, (size_t)((const uint8_t *)b->name - f->base),
			     "tensor '%.*s' overlaps tensor '%.*s'", (int)b->name_len, b->name,
			     (int)a->name_len, a->name);
			free(by_off);
			return false;
		}
	}
	free(by_off);
	return true;
}

struct gguf_file *gguf_open_mem(const void *buf, size_t len, char *err, size_t errlen)
{
	struct rd r = {.p = buf, .len = len, .err = err, .errlen = errlen};
	struct gguf_file *f = calloc(1, sizeof(*f));
	uint32_t magic;
	size_t at;
	if (err && errlen)
		err[0] = 0;
	if (!f) {
		fail(&r, 0, "out of memory");
		return NULL;
	}
	f->base = buf;
	f->len = len;
	if (!buf && len) {
		fail(&r, 0, "NULL buffer");
		goto err_free;
	}
	if (!rd_u32(&r, &magic, "magic"))
		goto err_free;
	if (magic != GGUF_MAGIC) {
		fail(&r, 0, "bad magic 0x%08x (not a GGUF file)", magic);
		goto err_free;
	}
	at = r.off;
	if (!rd_u32(&r, &f->version, "version"))
		goto err_free;
	if (f->version != 2 && f->version != 3) {
		fail(&r, at, "unsupported GGUF version %u (2 and 3 are)", f->version);
		goto err_free;
	}
	at = r.off;
	if (!rd_u64(&r, &f->n_tensors, "tensor count") || !rd_u64(&r, &f->n_kv, "metadata count"))
		goto err_free;
	/* minimal tensor info: name length 8 + 1 byte, n_dims 4, one dim 8, type 4, offset 8 */
	if (f->n_tensors > left(&r) / 33 || f->n_tensors > UINT32_MAX) {
		fail(&r, at, "tensor count %llu cannot fit in %zu bytes", (unsigned long long)f->n_tensors,
		     left(&r));
		goto err_free;
	}
	/* minimal KV: key length 8 + 1 byte, type 4, value 1 */
	if (f->n_kv > left(&r) / 14 || f->n_kv > UINT32_MAX) {
		fail(&r, at + 8, "metadata count %llu cannot fit in %zu bytes", (unsigned long long)f->n_kv,
		     left(&r));
		goto err_free;
	}
	f->kv = calloc((size_t)(f->n_kv ? f->n_kv : 1), sizeof(*f->kv));
	f->tensors = calloc((size_t)(f->n_tensors ? f->n_tensors : 1), sizeof(*f->tensors));
	if (!f->kv || !f->tensors) {
		fail(&r, at, "out of memory");
		goto err_free;
	}
	if (!parse_kvs(f, &r) || !parse_tensor_infos(f, &r) || !place_tensors(f, &r))
		goto err_free;
	return f;

err_free:
	gguf_close(f);
	return NULL;
}

struct gguf_file *gguf_open(const char *path, char *err, size_t errlen)
{
	struct gguf_file *f = NULL;
	struct stat st;
	void *map;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) < 0) {
		snprintf(err, errlen, "%s: fstat: %s", path, strerror(errno));
		goto out_close;
	}
	if (!S_ISREG(st.st_mode) || st.st_size <= 0) {
		snprintf(err, errlen, "%s: not a non-empty regular file", path);
		goto out_close;
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED) {
		snprintf(err, errlen, "%s: mmap: %s", path, strerror(errno));
		goto out_close;
	}
	f = gguf_open_mem(map, (size_t)st.st_size, err, errlen);
	if (!f) {
		munmap(map, (size_t)st.st_size);
		goto out_close;
	}
	f->mapped = true;
out_close:
	close(fd);
	return f;
}

void gguf_close(struct gguf_file *f)
{
	if (!f)
		return;
	if (f->kv)
		for (uint64_t i = 0; i < f->n_kv; i++)
			free(f->kv[i].str_off);
	free(f->kv);
	free(f->kv_sorted);
	free(f->tensors);
	free(f->t_sorted);
	if (f->mapped)
		munmap((void *)(uintptr_t)f->base, f->len);
	free(f);
}

uint32_t gguf_version(const struct gguf_file *f)
{
	return f->version;
}

uint32_t gguf_alignment(const struct gguf_file *f)
{
	return f->alignment;
}

int64_t gguf_n_kv(const struct gguf_file *f)
{
	return (int64_t)f->n_kv;
}

int64_t gguf_find_key(const struct gguf_file *f, const char *key)
{
	size_t kl = strlen(key), lo = 0, hi = (size_t)f->n_kv;
	if (!f->kv_sorted)
		return -1; /* still parsing */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct gguf_kv *kv = &f->kv[f->kv_sorted[mid]];
		int c = cmp_bytes(kv->key, kv->key_len, key, kl);
		if (c == 0)
			return f->kv_sorted[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

const char *gguf_key_name(const struct gguf_file *f, int64_t i, size_t *len)
{
	if (i < 0 || (uint64_t)i >= f->n_kv)
		return NULL;
	*len = f->kv[i].key_len;
	return f->kv[i].key;
}

enum gguf_type gguf_key_type(const struct gguf_file *f, int64_t i)
{
	if (i < 0 || (uint64_t)i >= f->n_kv)
		return GGUF_TYPE_COUNT;
	return f->kv[i].type;
}

static const struct gguf_kv *find(const struct gguf_file *f, const char *key)
{
	int64_t i = gguf_find_key(f, key);
	return i < 0 ? NULL : &f->kv[i];
}

bool gguf_get_i64(const struct gguf_file *f, const char *key, int64_t *out)
{
	const struct gguf_kv *kv = find(f, key);
	if (!kv)
		return false;
	const uint8_t *v = kv->val;
	switch (kv->type) {
	case GGUF_TYPE_UINT8: *out = *v; return true;
	case GGUF_TYPE_INT8: *out = (int8_t)*v; return true;
	case GGUF_TYPE_UINT16: { uint16_t x; memcpy(&x, v, 2); *out = x; return true; }
	case GGUF_TYPE_INT16: { int16_t x; memcpy(&x, v, 2); *out = x; return true; }
	case GGUF_TYPE_UINT32: { uint32_t x; memcpy(&x, v, 4); *out = x; return true; }
	case GGUF_TYPE_INT32: { int32_t x; memcpy(&x, v, 4); *out = x; return true; }
	case GGUF_TYPE_INT64: { int64_t x; memcpy(&x, v, 8); *out = x; return true; }
	case GGUF_TYPE_UINT64: {
		uint64_t x;
		memcpy(&x, v, 8);
		if (x > (uint64_t)INT64_MAX)
			return false;
		*out = (int64_t)x;
		return true;
	}
	default:
		return false;
	}
}

bool gguf_get_u32(const struct gguf_file *f, const char *key, uint32_t *out)
{
	int64_t v;
	if (!gguf_get_i64(f, key, &v) || v < 0 || v > (int64_t)UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

bool gguf_get_f32(const struct gguf_file *f, const char *key, float *out)
{
	const struct gguf_kv *kv = find(f, key);
	if (!kv)
		return false;
	if (kv->type == GGUF_TYPE_FLOAT32) {
		memcpy(out, kv->val, 4);
		return true;
	}
	if (kv->type == GGUF_TYPE_FLOAT64) {
		double d;
		memcpy(&d, kv->val, 8);
		*out = (float)d;
		return true;
	}
	return false;
}

bool gguf_get_bool(const struct gguf_file *f, const char *key, bool *out)
{
	const struct gguf_kv *kv = find(f, key);
	if (!kv || kv->type != GGUF_TYPE_BOOL)
		return false;
	*out = *kv->val != 0;
	return true;
}

/* A validated string record at p: u64 length then bytes. */
static void str_at(const uint8_t *p, const char **s, size_t *len)
{
	uint64_t n;
	memcpy(&n, p, 8);
	*s = (const char *)p + 8;
	*len = (size_t)n;
}

bool gguf_get_str(const struct gguf_file *f, const char *key, const char **s, size_t *len)
{
	const struct gguf_kv *kv = find(f, key);
	if (!kv || kv->type != GGUF_TYPE_STRING)
		return false;
	str_at(kv->val, s, len);
	return true;
}

bool gguf_get_arr(const struct gguf_file *f, const char *key, enum gguf_type *elem, uint64_t *n)
{
	const struct gguf_kv *kv = find(f, key);
	if (!kv || kv->type != GGUF_TYPE_ARRAY)
		return false;
	*elem = kv->elem_type;
	*n = kv->n;
	return true;
}

bool gguf_arr_str(const struct gguf_file *f, const char *key, uint64_t i, const char **s, size_t *len)
{
	const struct gguf_kv *kv = find(f, key);
	if (!kv || kv->type != GGUF_TYPE_ARRAY || kv->elem_type != GGUF_TYPE_STRING || i >= kv->n)
		return false;
	str_at(kv->val + kv->str_off[i], s, len);
	return true;
}

const void *gguf_arr_data(const struct gguf_file *f, const char *key)
{
	const struct gguf_kv *kv = find(f, key);
	if (!kv || kv->type != GGUF_TYPE_ARRAY || kv->elem_type == GGUF_TYPE_STRING)
		return NULL;
	return kv->val;
}

int64_t gguf_n_tensors(const struct gguf_file *f)
{
	return (int64_t)f->n_tensors;
}

const struct gguf_tensor *gguf_tensor_at(const struct gguf_file *f, int64_t i)
{
	if (i < 0 || (uint64_t)i >= f->n_tensors)
		return NULL;
	return &f->tensors[i];
}

const struct gguf_tensor *gguf_find_tensor(const struct gguf_file *f, const char *name)
{
	size_t nl = strlen(name), lo = 0, hi = (size_t)f->n_tensors;
	if (!f->t_sorted)
		return NULL;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct gguf_tensor *t = &f->tensors[f->t_sorted[mid]];
		int c = cmp_bytes(t->name, t->name_len, name, nl);
		if (c == 0)
			return t;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}
