/* GGUF file types: value types, tensor types and the parsed tensor record.
 *
 * GGUF is the file format of ggml/llama.cpp (spec: ggml docs/gguf.md). All
 * integers in the file are little-endian; this reader assumes a little-endian
 * host (x86-64, the only target) and says so with a static assert in gguf.c. */
#ifndef TS_GGUF_T_H
#define TS_GGUF_T_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Metadata value types, numbered as in the GGUF spec. */
enum gguf_type {
	GGUF_TYPE_UINT8 = 0,
	GGUF_TYPE_INT8 = 1,
	GGUF_TYPE_UINT16 = 2,
	GGUF_TYPE_INT16 = 3,
	GGUF_TYPE_UINT32 = 4,
	GGUF_TYPE_INT32 = 5,
	GGUF_TYPE_FLOAT32 = 6,
	GGUF_TYPE_BOOL = 7,
	GGUF_TYPE_STRING = 8,
	GGUF_TYPE_ARRAY = 9,
	GGUF_TYPE_UINT64 = 10,
	GGUF_TYPE_INT64 = 11,
	GGUF_TYPE_FLOAT64 = 12,
	GGUF_TYPE_COUNT = 13,
};

/* Tensor element types, numbered as ggml's enum ggml_type. The reader accepts
 * every type whose block layout it knows (so it can bound the tensor's bytes);
 * the model decides which ones it can compute with. */
enum gguf_tensor_type {
	GGUF_TENSOR_F32 = 0,
	GGUF_TENSOR_F16 = 1,
	GGUF_TENSOR_Q4_0 = 2,
	GGUF_TENSOR_Q4_1 = 3,
	GGUF_TENSOR_Q5_0 = 6,
	GGUF_TENSOR_Q5_1 = 7,
	GGUF_TENSOR_Q8_0 = 8,
	GGUF_TENSOR_Q8_1 = 9,
	GGUF_TENSOR_Q2_K = 10,
	GGUF_TENSOR_Q3_K = 11,
	GGUF_TENSOR_Q4_K = 12,
	GGUF_TENSOR_Q5_K = 13,
	GGUF_TENSOR_Q6_K = 14,
	GGUF_TENSOR_Q8_K = 15,
	GGUF_TENSOR_I8 = 24,
	GGUF_TENSOR_I16 = 25,
	GGUF_TENSOR_I32 = 26,
	GGUF_TENSOR_I64 = 27,
	GGUF_TENSOR_F64 = 28,
	GGUF_TENSOR_BF16 = 30,
	GGUF_TENSOR_TYPE_COUNT = 31,
};

#define GGUF_MAGIC 0x46554747u /* "GGUF" read as a little-endian u32 */
#define GGUF_MAX_DIMS 4
#define GGUF_DEFAULT_ALIGNMENT 32 /* bytes, when general.alignment is absent */
#define GGUF_QK8_0 32		  /* elements per Q8_0 block */

/* Q8_0 block exactly as ggml stores it: 34 bytes, no padding. */
struct gguf_block_q8_0 {
	uint16_t d;	   /* scale, IEEE half */
	int8_t qs[GGUF_QK8_0]; /* value = d * qs[i] */
};

/* One tensor of the file. ne[0] is the fastest-varying (row length) dimension,
 * as in ggml; unused dimensions are 1. */
struct gguf_tensor {
	const char *name;	    /* points into the mapping, not NUL-terminated */
	size_t name_len;	    /* bytes */
	uint32_t n_dims;	    /* 1..GGUF_MAX_DIMS */
	uint64_t ne[GGUF_MAX_DIMS]; /* elements per dimension */
	enum gguf_tensor_type type;
	uint64_t n_elem;	    /* product of ne[] */
	uint64_t offset;	    /* bytes from the start of the data section */
	uint64_t nbytes;	    /* bytes of data */
	const void *data;	    /* points into the mapping, aligned as the file says */
};

struct gguf_file;

#endif
