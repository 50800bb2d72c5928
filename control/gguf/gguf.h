/* GGUF reader: maps a file (or borrows a buffer), validates all of it up front
 * and answers metadata and tensor lookups. Control-plane, init time only.
 *
 * Validation at open: magic, version 2 or 3, counts bounded by the file size,
 * every string and array length bounded, value types valid, tensor names
 * unique, dims/types valid, data offsets aligned to general.alignment and
 * inside the file, tensors not overlapping, byte sizes computed with overflow
 * checks. A malformed file gives NULL and "offset N: reason" in err. After a
 * successful open every accessor is bounds-safe without further checks. */
#ifndef TS_GGUF_H
#define TS_GGUF_H

#include "gguf-t.h"

/* mmap path read-only and validate. NULL + err on failure. */
struct gguf_file *gguf_open(const char *path, char *err, size_t errlen);
/* Validate buf[0..len) in place; borrows buf, which must outlive the file. */
struct gguf_file *gguf_open_mem(const void *buf, size_t len, char *err, size_t errlen);
void gguf_close(struct gguf_file *f);

uint32_t gguf_version(const struct gguf_file *f);
uint32_t gguf_alignment(const struct gguf_file *f); /* bytes */

/* Metadata. Keys are compared as exact byte strings. */
int64_t gguf_n_kv(const struct gguf_file *f);
int64_t gguf_find_key(const struct gguf_file *f, const char *key); /* index or -1 */
/* Key name of entry i (0 <= i < gguf_n_kv), not NUL-terminated. */
const char *gguf_key_name(const struct gguf_file *f, int64_t i, size_t *len);
enum gguf_type gguf_key_type(const struct gguf_file *f, int64_t i);
/* Any integer type whose value fits in a u32; false when absent or not. */
bool gguf_get_u32(const struct gguf_file *f, const char *key, uint32_t *out);
bool gguf_get_i64(const struct gguf_file *f, const char *key, int64_t *out);
/* FLOAT32 or FLOAT64 (narrowed). */
bool gguf_get_f32(const struct gguf_file *f, const char *key, float *out);
bool gguf_get_bool(const struct gguf_file *f, const char *key, bool *out);
bool gguf_get_str(const struct gguf_file *f, const char *key, const char **s, size_t *len); /* not NUL-terminated */
/* Element type and count of an array key; false when absent or not an array. */
bool gguf_get_arr(const struct gguf_file *f, const char *key, enum gguf_type *elem, uint64_t *n);
/* Element i of an array of strings, O(1) (offsets are indexed at open). */
bool gguf_arr_str(const struct gguf_file *f, const char *key, uint64_t i, const char **s, size_t *len);
/* Raw little-endian elements of an array of numbers (not strings, not nested
 * arrays); NULL otherwise. May be unaligned for its element type: read with
 * memcpy. */
const void *gguf_arr_data(const struct gguf_file *f, const char *key);

/* Tensors. */
int64_t gguf_n_tensors(const struct gguf_file *f);
const struct gguf_tensor *gguf_tensor_at(const struct gguf_file *f, int64_t i);
const struct gguf_tensor *gguf_find_tensor(const struct gguf_file *f, const char *name);

/* Name of a tensor type ("F32", "Q8_0", ...) or "?" */
const char *gguf_tensor_type_name(enum gguf_tensor_type t);
/* Bytes of n elements of type t (n must be a multiple of the block size);
 * false on unknown type, partial block or overflow. */
bool gguf_tensor_nbytes(enum gguf_tensor_type t, uint64_t n, uint64_t *out);

#endif
