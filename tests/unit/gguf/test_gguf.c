/* Unit suite "gguf": the validating GGUF reader. Valid files (stories260K
 * from ../shared and files built here), every truncation, and one test per
 * refusal, each checking the precise "offset N: reason" message. Inputs are
 * placed against a PROT_NONE guard page so any overread faults. */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "gbuild.h"
#include "gguf.h"
#include "tsfile.h"

#ifndef GGUF_TEST_MODEL
#error "GGUF_TEST_MODEL must name stories260K.gguf"
#endif

static char err[512];

/* A copy of buf[0..len) ending exactly at a PROT_NONE page. */
struct guarded {
	uint8_t *map;
	size_t map_len;
	uint8_t *data;
};

static struct guarded guard(const void *buf, size_t len)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	size_t body = (len + pg - 1) / pg * pg;
	struct guarded g = {0};
	g.map_len = body + pg;
	g.map = mmap(NULL, g.map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (g.map == MAP_FAILED)
		abort();
	mprotect(g.map + body, pg, PROT_NONE);
	g.data = g.map + body - len;
	memcpy(g.data, buf, len);
	return g;
}

static void unguard(struct guarded *g)
{
	munmap(g->map, g->map_len);
}

static struct gguf_file *open_guarded(const void *buf, size_t len)
{
	struct guarded g = guard(buf, len);
	struct gguf_file *f = gguf_open_mem(g.data, len, err, sizeof(err));
	/* the file borrows the buffer: keep the mapping while it lives */
	if (f) {
		gguf_close(f);
		f = gguf_open_mem(buf, len, err, sizeof(err));
	}
	unguard(&g);
	return f;
}

/* Expect failure with a message containing want. */
static void expect_err(const struct gb *b, const char *want)
{
	struct gguf_file *f = open_guarded(b->p, b->len);
	CU_ASSERT_PTR_NULL(f);
	gguf_close(f);
	if (!strstr(err, want))
		fprintf(stderr, "\n  got '%s', want '%s'\n", err, want);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, want));
}

/* Fields of the small valid file, so tests can break one of them. */
struct spec {
	uint32_t magic, version;
	uint64_t n_tensors_delta;   /* added to the real count */
	uint64_t n_kv_delta;
	int align_kv;		    /* 0 none, else general.alignment value */
	uint32_t align_type;	    /* GGUF type of general.alignment */
	uint32_t kv_type_override;  /* for key "bad.type": 0 = UINT32 ok */
	bool dup_key, dup_tensor, nested_arr, bool_two, str_len_huge, arr_len_huge;
	uint32_t t1_dims;	    /* dims of tensor "b" (2 ok) */
	uint32_t t1_type;	    /* type of tensor "b" (F32 ok) */
	uint64_t t1_ne0;	    /* ne0 of "b" (8 ok) */
	uint64_t t1_off_delta;	    /* added to b's offset */
	uint32_t q_ne0;		    /* ne0 of the Q8_0 tensor (32 ok) */
	bool drop_data;		    /* omit the data section */
};

static const struct spec ok_spec = {.magic = GGUF_MAGIC, .version = 3, .align_type = GGUF_TYPE_UINT32,
				    .t1_dims = 2, .t1_type = GGUF_TENSOR_F32, .t1_ne0 = 8, .q_ne0 = 32};

/* Tensors: "a" F32 [4] at 0, "b" F32 [8, 2] at align, "q" Q8_0 [32] after. */
static void build(struct gb *b, const struct spec *s)
{
	uint32_t align = s->align_kv ? (uint32_t)s->align_kv : GGUF_DEFAULT_ALIGNMENT;
	uint64_t n_kv = 6 + (s->align_kv ? 1 : 0) + (s->dup_key ? 1 : 0);
	uint64_t n_t = 3 + (s->dup_tensor ? 1 : 0);
	memset(b, 0, sizeof(*b));
	gb_u32(b, s->magic);
	gb_u32(b, s->version);
	gb_u64(b, n_t + s->n_tensors_delta);
	gb_u64(b, n_kv + s->n_kv_delta);

	gb_str(b, "general.architecture");
	gb_u32(b, GGUF_TYPE_STRING);
	if (s->str_len_huge) {
		gb_u64(b, 1ull << 40);
		gb_put(b, "llama", 5);
	} else {
		gb_str(b, "llama");
	}
	gb_str(b, "bad.type");
	gb_u32(b, s->kv_type_override ? s->kv_type_override : GGUF_TYPE_UINT32);
	gb_u32(b, 7);
	gb_str(b, "test.i8");
	gb_u32(b, GGUF_TYPE_INT8);
	gb_u8(b, 0xfe); /* -2 */
	gb_str(b, "test.flag");
	gb_u32(b, GGUF_TYPE_BOOL);
	gb_u8(b, s->bool_two ? 2 : 1);
	gb_str(b, "test.words");
	gb_u32(b, GGUF_TYPE_ARRAY);
	if (s->nested_arr) {
		gb_u32(b, GGUF_TYPE_ARRAY);
		gb_u64(b, 0);
	} else {
		gb_u32(b, GGUF_TYPE_STRING);
		gb_u64(b, s->arr_len_huge ? (1ull << 62) : 3);
		gb_str(b, "zero");
		gb_str(b, "");
		gb_str(b, "two");
	}
	gb_str(b, "test.f64s");
	gb_u32(b, GGUF_TYPE_ARRAY);
	gb_u32(b, GGUF_TYPE_FLOAT64);
	gb_u64(b, 2);
	double d[2] = {0.5, -2.0};
	gb_put(b, d, sizeof(d));
	if (s->align_kv) {
		gb_str(b, "general.alignment");
		gb_u32(b, s->align_type);
		if (s->align_type == GGUF_TYPE_UINT64)
			gb_u64(b, (uint64_t)s->align_kv);
		else
			gb_u32(b, (uint32_t)s->align_kv);
	}
	if (s->dup_key) {
		gb_str(b, "test.i8");
		gb_u32(b, GGUF_TYPE_UINT8);
		gb_u8(b, 1);
	}

	uint64_t off_b = align, off_q = align + ((8 * 2 * 4 + align - 1) / align) * align;
	gb_str(b, "a");
	gb_u32(b, 1);
	gb_u64(b, 4);
	gb_u32(b, GGUF_TENSOR_F32);
	gb_u64(b, 0);
	gb_str(b, "b");
	gb_u32(b, s->t1_dims);
	for (uint32_t i = 0; i < s->t1_dims && i < 8; i++)
		gb_u64(b, i == 0 ? s->t1_ne0 : 2);
	gb_u32(b, s->t1_type);
	gb_u64(b, off_b + s->t1_off_delta);
	gb_str(b, s->dup_tensor ? "a" : "q");
	gb_u32(b, 1);
	gb_u64(b, s->q_ne0);
	gb_u32(b, GGUF_TENSOR_Q8_0);
	gb_u64(b, off_q);
	if (s->dup_tensor) {
		gb_str(b, "q");
		gb_u32(b, 1);
		gb_u64(b, 1);
		gb_u32(b, GGUF_TENSOR_F32);
		gb_u64(b, off_q + align);
	}
	if (s->drop_data)
		return;
	gb_pad(b, align);
	size_t data = b->len;
	float a[4] = {1, 2, 3, 4};
	gb_put(b, a, sizeof(a));
	while (b->len < data + off_b)
		gb_u8(b, 0);
	for (int i = 0; i < 16; i++)
		gb_f32(b, (float)i * 0.25f);
	while (b->len < data + off_q)
		gb_u8(b, 0);
	/* Q8_0 block: d = 0.5 (f16 0x3800), qs = -16..15 */
	uint16_t h = 0x3800;
	gb_put(b, &h, 2);
	for (int i = 0; i < 32; i++)
		gb_u8(b, (uint8_t)(int8_t)(i - 16));
	gb_pad(b, align);
	for (int i = 0; i < (int)align; i++)
		gb_u8(b, 0); /* room for the dup_tensor extra */
}

static void test_valid_built(void)
{
	struct gb b;
	build(&b, &ok_spec);
	struct guarded g = guard(b.p, b.len);
	struct gguf_file *f = gguf_open_mem(g.data, b.len, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(gguf_version(f), 3);
	CU_ASSERT_EQUAL(gguf_alignment(f), GGUF_DEFAULT_ALIGNMENT);
	CU_ASSERT_EQUAL(gguf_n_kv(f), 6);
	CU_ASSERT_EQUAL(gguf_n_tensors(f), 3);

	const char *s;
	size_t sl;
	uint32_t u;
	int64_t i64;
	float fl;
	bool bl;
	enum gguf_type et;
	uint64_t n;
	CU_ASSERT_TRUE(gguf_get_str(f, "general.architecture", &s, &sl));
	CU_ASSERT_EQUAL(sl, 5);
	CU_ASSERT_EQUAL(memcmp(s, "llama", 5), 0);
	CU_ASSERT_TRUE(gguf_get_u32(f, "bad.type", &u));
	CU_ASSERT_EQUAL(u, 7);
	CU_ASSERT_FALSE(gguf_get_u32(f, "test.i8", &u)); /* -2 does not fit */
	CU_ASSERT_TRUE(gguf_get_i64(f, "test.i8", &i64));
	CU_ASSERT_EQUAL(i64, -2);
	CU_ASSERT_FALSE(gguf_get_f32(f, "bad.type", &fl));
	CU_ASSERT_TRUE(gguf_get_bool(f, "test.flag", &bl));
	CU_ASSERT_TRUE(bl);
	CU_ASSERT_FALSE(gguf_get_str(f, "test.flag", &s, &sl));
	CU_ASSERT_FALSE(gguf_get_u32(f, "missing", &u));
	CU_ASSERT_EQUAL(gguf_find_key(f, "missing"), -1);
	CU_ASSERT_EQUAL(gguf_find_key(f, "general.architectur"), -1);
	CU_ASSERT_TRUE(gguf_find_key(f, "test.words") >= 0);

	CU_ASSERT_TRUE(gguf_get_arr(f, "test.words", &et, &n));
	CU_ASSERT_EQUAL(et, GGUF_TYPE_STRING);
	CU_ASSERT_EQUAL(n, 3);
	CU_ASSERT_TRUE(gguf_arr_str(f, "test.words", 2, &s, &sl));
	CU_ASSERT_EQUAL(sl, 3);
	CU_ASSERT_EQUAL(memcmp(s, "two", 3), 0);
	CU_ASSERT_TRUE(gguf_arr_str(f, "test.words", 1, &s, &sl));
	CU_ASSERT_EQUAL(sl, 0);
	CU_ASSERT_FALSE(gguf_arr_str(f, "test.words", 3, &s, &sl));
	CU_ASSERT_PTR_NULL(gguf_arr_data(f, "test.words"));
	const void *dv = gguf_arr_data(f, "test.f64s");
	CU_ASSERT_PTR_NOT_NULL_FATAL(dv);
	double d1;
	memcpy(&d1, (const uint8_t *)dv + 8, 8);
	CU_ASSERT_EQUAL(d1, -2.0);
	CU_ASSERT_FALSE(gguf_arr_str(f, "test.f64s", 0, &s, &sl));

	const struct gguf_tensor *t = gguf_find_tensor(f, "b");
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_EQUAL(t->n_dims, 2);
	CU_ASSERT_EQUAL(t->ne[0], 8);
	CU_ASSERT_EQUAL(t->ne[1], 2);
	CU_ASSERT_EQUAL(t->ne[2], 1);
	CU_ASSERT_EQUAL(t->n_elem, 16);
	CU_ASSERT_EQUAL(t->nbytes, 64);
	CU_ASSERT_EQUAL(((const float *)t->data)[5], 1.25f);
	t = gguf_find_tensor(f, "q");
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_EQUAL(t->type, GGUF_TENSOR_Q8_0);
	CU_ASSERT_EQUAL(t->nbytes, 34);
	const struct gguf_block_q8_0 *q = t->data;
	CU_ASSERT_EQUAL(q->d, 0x3800);
	CU_ASSERT_EQUAL(q->qs[0], -16);
	CU_ASSERT_EQUAL((uintptr_t)t->data % GGUF_DEFAULT_ALIGNMENT, (uintptr_t)g.data % GGUF_DEFAULT_ALIGNMENT);
	CU_ASSERT_PTR_NULL(gguf_find_tensor(f, "c"));
	CU_ASSERT_STRING_EQUAL(gguf_tensor_type_name(GGUF_TENSOR_BF16), "BF16");
	gguf_close(f);
	unguard(&g);
	gb_free(&b);
}

/* GGUF v2 has v3's layout (u64 counts, little-endian): the same file with
 * version 2 opens, reports 2 and reads the same keys and tensors. */
static void test_valid_v2(void)
{
	struct spec s = ok_spec;
	struct gb b;
	const char *str;
	size_t sl;
	uint32_t u;

	s.version = 2;
	build(&b, &s);
	struct guarded g = guard(b.p, b.len);
	struct gguf_file *f = gguf_open_mem(g.data, b.len, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(gguf_version(f), 2);
	CU_ASSERT_EQUAL(gguf_n_kv(f), 6);
	CU_ASSERT_EQUAL(gguf_n_tensors(f), 3);
	CU_ASSERT_TRUE(gguf_get_str(f, "general.architecture", &str, &sl));
	CU_ASSERT_TRUE(sl == 5 && memcmp(str, "llama", 5) == 0);
	CU_ASSERT_TRUE(gguf_get_u32(f, "bad.type", &u));
	CU_ASSERT_EQUAL(u, 7);
	CU_ASSERT_TRUE(gguf_arr_str(f, "test.words", 2, &str, &sl));
	const struct gguf_tensor *t = gguf_find_tensor(f, "q");
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_EQUAL(t->type, GGUF_TENSOR_Q8_0);
	CU_ASSERT_EQUAL(t->nbytes, 34);
	gguf_close(f);
	unguard(&g);
	gb_free(&b);
}

static void test_custom_alignment(void)
{
	struct gb b;
	struct spec s = ok_spec;
	s.align_kv = 64;
	build(&b, &s);
	struct gguf_file *f = gguf_open_mem(b.p, b.len, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(gguf_alignment(f), 64);
	gguf_close(f);
	gb_free(&b);
}

/* Every prefix of a valid file is refused with an offset, never a crash. */
static void test_truncations_built(void)
{
	struct gb b;
	build(&b, &ok_spec);
	struct gguf_file *whole = gguf_open_mem(b.p, b.len, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(whole);
	const struct gguf_tensor *q = gguf_find_tensor(whole, "q");
	size_t need = (size_t)((const uint8_t *)q->data + q->nbytes - b.p); /* end of the last tensor */
	gguf_close(whole);
	whole = open_guarded(b.p, need); /* the exact end is enough */
	CU_ASSERT_PTR_NOT_NULL(whole);
	gguf_close(whole);
	for (size_t n = 0; n < need; n++) {
		struct gguf_file *f = open_guarded(b.p, n);
		CU_ASSERT_PTR_NULL(f);
		CU_ASSERT_EQUAL(strncmp(err, "offset ", 7), 0);
		gguf_close(f);
	}
	gb_free(&b);
}

static void test_stories(void)
{
	struct gguf_file *f = gguf_open(GGUF_TEST_MODEL, err, sizeof(err));
	if (!f)
		fprintf(stderr, "\n  %s (the model lives in ../shared next to the repository)\n", err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	uint32_t u;
	const char *s;
	size_t sl;
	enum gguf_type et;
	uint64_t n;
	CU_ASSERT_EQUAL(gguf_version(f), 3);
	CU_ASSERT_TRUE(gguf_get_u32(f, "llama.embedding_length", &u));
	CU_ASSERT_EQUAL(u, 64);
	CU_ASSERT_TRUE(gguf_get_arr(f, "tokenizer.ggml.tokens", &et, &n));
	CU_ASSERT_EQUAL(et, GGUF_TYPE_STRING);
	CU_ASSERT_EQUAL(n, 512);
	/* id 403 is "▁Once" (the README's prompt encoding) */
	CU_ASSERT_TRUE(gguf_arr_str(f, "tokenizer.ggml.tokens", 403, &s, &sl));
	CU_ASSERT_EQUAL(sl, 7);
	CU_ASSERT_EQUAL(memcmp(s, "\xe2\x96\x81Once", 7), 0);
	CU_ASSERT_EQUAL(gguf_n_tensors(f), 48);
	const struct gguf_tensor *t = gguf_find_tensor(f, "blk.4.ffn_down.weight");
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_EQUAL(t->ne[0], 172);
	CU_ASSERT_EQUAL(t->ne[1], 64);
	gguf_close(f);
}

/* Prefixes of the real file: every byte through the metadata and tensor
 * table, then a stride through the data. */
static void test_truncations_stories(void)
{
	size_t len = 0;
	char *raw = NULL;
	CU_ASSERT_EQUAL_FATAL(tsfile_read(GGUF_TEST_MODEL, 64u << 20, &raw, &len, err, sizeof(err)), 0);
	uint8_t *buf = (uint8_t *)raw;
	struct gguf_file *f = gguf_open_mem(buf, len, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	const struct gguf_tensor *first = gguf_tensor_at(f, 0);
	size_t data = (size_t)((const uint8_t *)first->data - buf - first->offset);
	gguf_close(f);
	struct guarded g = guard(buf, len);
	uint8_t *end = g.data + len; /* the guard page starts here */
	for (size_t n = 0; n < len; n += n < data + 64 ? 1 : 4093) {
		memcpy(end - n, buf, n);
		f = gguf_open_mem(end - n, n, err, sizeof(err));
		CU_ASSERT_PTR_NULL(f);
		gguf_close(f);
	}
	memcpy(end - (len - 1), buf, len - 1);
	f = gguf_open_mem(end - (len - 1), len - 1, err, sizeof(err));
	CU_ASSERT_PTR_NULL(f);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "tensor 'blk.4.ffn_norm.weight' data [1170944, +256) lies outside"));
	unguard(&g);
	free(buf);
}

static void refuse(const struct spec *s, const char *want)
{
	struct gb b;
	build(&b, s);
	expect_err(&b, want);
	gb_free(&b);
}

static void test_refusals(void)
{
	struct spec s;
	s = ok_spec, s.magic = 0x46554746;
	refuse(&s, "offset 0: bad magic");
	s = ok_spec, s.version = 1;
	refuse(&s, "offset 4: unsupported GGUF version 1");
	s = ok_spec, s.version = 4;
	refuse(&s, "unsupported GGUF version 4");
	s = ok_spec, s.n_tensors_delta = 1ull << 60;
	refuse(&s, "offset 8: tensor count");
	s = ok_spec, s.n_kv_delta = 1ull << 40;
	refuse(&s, "offset 16: metadata count");
	s = ok_spec, s.str_len_huge = true;
	refuse(&s, "string value length 1099511627776 exceeds");
	s = ok_spec, s.arr_len_huge = true;
	refuse(&s, "array of 4611686018427387904 strings cannot fit");
	s = ok_spec, s.kv_type_override = 13;
	refuse(&s, "invalid value type 13 for key 'bad.type'");
	s = ok_spec, s.nested_arr = true;
	refuse(&s, "nested arrays are not supported");
	s = ok_spec, s.bool_two = true;
	refuse(&s, "bool value 2 is not 0 or 1");
	s = ok_spec, s.dup_key = true;
	refuse(&s, "duplicate key 'test.i8'");
	s = ok_spec, s.dup_tensor = true;
	refuse(&s, "duplicate tensor name 'a'");
	s = ok_spec, s.t1_dims = 0;
	refuse(&s, "tensor 'b' has 0 dims");
	s = ok_spec, s.t1_dims = 5;
	refuse(&s, "tensor 'b' has 5 dims");
	s = ok_spec, s.t1_type = 99;
	refuse(&s, "tensor 'b' has unsupported type 99");
	s = ok_spec, s.t1_type = 16; /* IQ2_XXS: layout not known to the reader */
	refuse(&s, "unsupported type 16");
	s = ok_spec, s.t1_ne0 = 1ull << 63;
	refuse(&s, "tensor 'b' element count overflows");
	s = ok_spec, s.t1_ne0 = 1ull << 61;
	refuse(&s, "tensor 'b' byte size overflows");
	s = ok_spec, s.t1_off_delta = 4;
	refuse(&s, "tensor 'b' offset 36 is not aligned to 32");
	s = ok_spec, s.t1_off_delta = 1ull << 40;
	refuse(&s, "tensor 'b' data [1099511627808, +64) lies outside");
	s = ok_spec, s.t1_ne0 = 16; /* 128 bytes from 32: runs into q at 96 */
	refuse(&s, "tensor 'q' overlaps tensor 'b'");
	s = ok_spec, s.q_ne0 = 48;
	refuse(&s, "row of 48 elements is not a multiple of the Q8_0 block (32)");
	s = ok_spec, s.align_kv = 48;
	refuse(&s, "general.alignment 48 is not a power of two");
	s = ok_spec, s.align_kv = 64, s.align_type = GGUF_TYPE_UINT64;
	refuse(&s, "general.alignment must be a UINT32");
	s = ok_spec, s.drop_data = true;
	refuse(&s, "starts past the end of the file");
}

static void test_open_errors(void)
{
	CU_ASSERT_PTR_NULL(gguf_open("/nonexistent/x.gguf", err, sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "No such file"));
	CU_ASSERT_PTR_NULL(gguf_open("/dev/null", err, sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "not a non-empty regular file"));
	CU_ASSERT_PTR_NULL(gguf_open_mem(NULL, 0, err, sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "offset 0: truncated magic"));
}

static void test_type_sizes(void)
{
	uint64_t n;
	CU_ASSERT_TRUE(gguf_tensor_nbytes(GGUF_TENSOR_Q8_0, 64, &n));
	CU_ASSERT_EQUAL(n, 68);
	CU_ASSERT_TRUE(gguf_tensor_nbytes(GGUF_TENSOR_BF16, 3, &n));
	CU_ASSERT_EQUAL(n, 6);
	CU_ASSERT_TRUE(gguf_tensor_nbytes(GGUF_TENSOR_Q4_K, 256, &n));
	CU_ASSERT_EQUAL(n, 144);
	CU_ASSERT_FALSE(gguf_tensor_nbytes(GGUF_TENSOR_Q8_0, 33, &n));
	CU_ASSERT_FALSE(gguf_tensor_nbytes((enum gguf_tensor_type)17, 32, &n));
	CU_ASSERT_FALSE(gguf_tensor_nbytes(GGUF_TENSOR_F64, UINT64_MAX / 4, &n));
}

int main(void)
{
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	CU_pSuite s = CU_add_suite("gguf", NULL, NULL);
	CU_add_test(s, "valid built file and accessors", test_valid_built);
	CU_add_test(s, "valid GGUF v2 file", test_valid_v2);
	CU_add_test(s, "general.alignment 64", test_custom_alignment);
	CU_add_test(s, "every truncation of a built file", test_truncations_built);
	CU_add_test(s, "stories260K", test_stories);
	CU_add_test(s, "truncations of stories260K", test_truncations_stories);
	CU_add_test(s, "refusals with precise errors", test_refusals);
	CU_add_test(s, "open errors", test_open_errors);
	CU_add_test(s, "tensor type sizes", test_type_sizes);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned fails = CU_get_number_of_failures();
	CU_cleanup_registry();
	return fails ? 1 : 0;
}
