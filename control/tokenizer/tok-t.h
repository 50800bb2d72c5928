/* Tokenizer types: vocabulary kinds, pre-tokenizer kinds, token types and the
 * flags of encode/decode. The tokenizer itself (struct tok) is opaque.
 *
 * Numbering of enum tok_type follows llama.cpp's GGUF `tokenizer.ggml.token_type`
 * values, so metadata arrays can be used as they are. */
#ifndef TS_TOK_T_H
#define TS_TOK_T_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TOK_NULL (-1) /* "no token": absent special id, failed lookup */

/* Hard bounds on what a vocabulary may declare; larger files are refused. */
#define TOK_MAX_VOCAB (1u << 22)     /* tokens */
#define TOK_MAX_MERGES (1u << 23)    /* BPE merge rules */
#define TOK_MAX_TOKEN_LEN 1024u      /* bytes of one token's text */
#define TOK_MAX_EOG 8                /* end-of-generation ids remembered */
#define TOK_MAX_INPUT (64u << 20)    /* bytes tok_encode accepts in one call */

/* `tokenizer.ggml.model`. */
enum tok_kind {
	TOK_KIND_SPM = 0, /* "llama": SentencePiece BPE, merges by score, ▁ for space */
	TOK_KIND_BPE = 1, /* "gpt2": byte-level BPE, merges by rank */
};

/* `tokenizer.ggml.pre`: how byte-level BPE text is split into words before
 * merging. SPM vocabularies use TOK_PRE_NONE. */
enum tok_pre {
	TOK_PRE_NONE = 0,
	TOK_PRE_DEFAULT = 1, /* "default" or absent: llama.cpp's 4-pass default */
	TOK_PRE_GPT2 = 2,    /* "gpt-2", "gpt2", "phi-2", "mpt", "olmo", "jais" */
	TOK_PRE_LLAMA3 = 3,  /* "llama3", "llama-v3", "llama-bpe", "dbrx", "smaug-bpe" */
	TOK_PRE_QWEN2 = 4,   /* "qwen2", "deepseek-r1-qwen", "stablelm2" */
	TOK_PRE_SMOLLM = 5,  /* "smollm", "starcoder", "refact", "command-r", "codeshell" */
};

/* Per-token type, values as in GGUF `tokenizer.ggml.token_type`. */
enum tok_type {
	TOK_TYPE_UNDEFINED = 0,
	TOK_TYPE_NORMAL = 1,
	TOK_TYPE_UNKNOWN = 2,
	TOK_TYPE_CONTROL = 3,
	TOK_TYPE_USER_DEFINED = 4,
	TOK_TYPE_UNUSED = 5,
	TOK_TYPE_BYTE = 6,
};

/* tok_encode() flags. */
enum tok_enc_flag {
	TOK_ENC_NONE = 0,
	TOK_ENC_ADD_SPECIAL = 1u << 0,   /* BOS/EOS as the vocabulary's add_bos/add_eos say */
	TOK_ENC_PARSE_SPECIAL = 1u << 1, /* match CONTROL/UNKNOWN token texts in the input */
};

/* tok_piece()/tok_decode() flags. */
enum tok_dec_flag {
	TOK_DEC_NONE = 0,
	TOK_DEC_SPECIAL = 1u << 0, /* render CONTROL/UNKNOWN tokens as their text */
};

/* An in-memory vocabulary description for tok_new(); tok_from_gguf() builds
 * one from metadata. All arrays are borrowed for the duration of the call only
 * (tok_new copies what it keeps). */
struct tok_vocab_desc {
	enum tok_kind kind;
	enum tok_pre pre;		/* TOK_PRE_NONE for SPM */
	uint32_t n_tokens;
	const char *const *texts;	/* n_tokens token texts, UTF-8, not NUL-terminated */
	const size_t *lens;		/* n_tokens lengths, bytes */
	const float *scores;		/* n_tokens merge scores (SPM), or NULL (all 0) */
	const int32_t *types;		/* n_tokens enum tok_type values, or NULL (inferred) */
	uint32_t n_merges;		/* BPE: merge rules, rank = index */
	const char *const *merges;	/* "left right", split at the first space after byte 0 */
	const size_t *merge_lens;	/* bytes */
	int32_t bos, eos, unk, pad, eot, eom; /* ids or TOK_NULL */
	bool add_bos, add_eos;
	bool add_space_prefix;		/* SPM: prepend one space to text after a special */
	bool ignore_merges;		/* BPE: a word that is a whole token skips merging */
};

struct tok;

/* Receives one pre-token (word) of tok_pretokenize(); 0 to continue, negative
 * to stop with that error. */
typedef int (*tok_word_fn)(void *arg, const char *word, size_t len);

#endif
