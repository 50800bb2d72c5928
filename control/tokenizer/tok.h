/* Tokenizers of llama.cpp-style GGUF models: SentencePiece BPE ("llama") and
 * byte-level BPE ("gpt2") with the pre-tokenizers llama.cpp names in
 * `tokenizer.ggml.pre`, special/added token matching, decode.
 *
 * A struct tok is built once at model load (control plane, init time) and is
 * immutable afterwards: any number of threads may encode/decode with one tok
 * at the same time. Encoding allocates a scratch area per call sized by the
 * longest word (SPM: chunk) of the input, freed before returning; it never
 * runs on the dataplane fast path. */
#ifndef TS_TOK_H
#define TS_TOK_H

#include "tok-t.h"
#include "gguf-t.h"

/* Build from GGUF metadata (`tokenizer.ggml.*`). The tokenizer copies what it
 * needs: f may be closed afterwards. NULL and a reason in err on bad or
 * unsupported metadata. */
struct tok *tok_from_gguf(const struct gguf_file *f, char *err, size_t errlen);
/* Build from an in-memory description (tests, fuzzing, tools). */
struct tok *tok_new(const struct tok_vocab_desc *d, char *err, size_t errlen);
void tok_free(struct tok *t);

enum tok_kind tok_kind(const struct tok *t);
enum tok_pre tok_pre(const struct tok *t);
uint32_t tok_n_vocab(const struct tok *t);
int32_t tok_bos(const struct tok *t); /* TOK_NULL when the vocabulary has none */
int32_t tok_eos(const struct tok *t);
int32_t tok_unk(const struct tok *t);
bool tok_add_bos(const struct tok *t);
/* End of generation: EOS, EOT, EOM and the CONTROL tokens that end a turn in
 * known chat formats (<|im_end|>, <|eot_id|>, <|endoftext|>, ...). */
bool tok_is_eog(const struct tok *t, int32_t id);
/* Type of id; TOK_TYPE_UNDEFINED when id is out of range. */
enum tok_type tok_type(const struct tok *t, int32_t id);
/* Raw vocabulary text of id (NUL-terminated, also *len), NULL if out of range. */
const char *tok_text(const struct tok *t, int32_t id, size_t *len);
/* Exact vocabulary lookup of a token text; TOK_NULL when absent. */
int32_t tok_find(const struct tok *t, const char *s, size_t len);

/* Upper bound of tok_encode()'s output for len bytes of input: every input
 * byte gives at most one token, plus the dummy space prefixes, BOS and EOS. */
size_t tok_encode_bound(size_t len);
/* Encode text[0..len) (any bytes; invalid UTF-8 is carried by byte tokens)
 * into out[0..cap). With TOK_ENC_ADD_SPECIAL and TOK_ENC_PARSE_SPECIAL, a text
 * that starts with the BOS token's own text (Llama 3 chat templates print it)
 * gets no second BOS. Returns the number of ids, -ENOSPC when cap is too small
 * (out then holds a prefix), -E2BIG when len > TOK_MAX_INPUT, -ENOMEM, or
 * -EILSEQ when a byte has neither a byte token nor an UNK to stand for it. */
int64_t tok_encode(const struct tok *t, const char *text, size_t len, unsigned flags,
		   int32_t *out, size_t cap);

/* The bytes of one token as it appears in text, following prev (TOK_NULL at
 * the start of a stream). SPM drops the dummy-prefix space of the token that
 * follows BOS (llama2.c). CONTROL/UNKNOWN tokens give their text only with
 * TOK_DEC_SPECIAL, otherwise nothing. Returns bytes written (not
 * NUL-terminated), -ENOSPC, or -EINVAL for an id out of range. */
int tok_piece(const struct tok *t, int32_t prev, int32_t id, unsigned flags, char *out,
	      size_t cap);
/* tok_piece over ids[0..n): bytes written to out[0..cap), -ENOSPC, -EINVAL. */
int64_t tok_decode(const struct tok *t, const int32_t *ids, size_t n, unsigned flags, char *out,
		   size_t cap);

/* Split text into the pre-tokens (words) that byte-level BPE merges
 * independently, calling fn for each in order (exposed for tests and tools).
 * Returns 0, or the first negative value fn returned. */
int tok_pretokenize(enum tok_pre pre, const char *text, size_t len, tok_word_fn fn, void *arg);
/* `tokenizer.ggml.pre` name → kind; false when the name is not supported. */
bool tok_pre_from_name(const char *name, size_t len, enum tok_pre *out);

#endif
