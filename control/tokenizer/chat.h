/* Chat templates: recognise a model's `tokenizer.chat_template` by the
 * markers of its family and render message lists exactly as that Jinja
 * template would (for the features used here: system/user/assistant text
 * messages, no tools). The result is tokenized with chat_tokenize(): the
 * template's markers become their special tokens, the messages' contents
 * never do. Control plane. */
#ifndef TS_CHAT_H
#define TS_CHAT_H

#include <stdint.h>

#include "chat-t.h"
#include "gguf-t.h"
#include "tok-t.h"

/* Recognise template text tmpl[0..len) (len 0: no template → CHAT_PLAIN).
 * bos/eos are the texts of the model's BOS and EOS tokens (some templates
 * print them; NULL/0 when the model has none). Returns 0, -ENOTSUP for a
 * template of an unknown family, -E2BIG when a default system prompt or a
 * token text exceeds the fixed buffers. */
int chat_tmpl_init(struct chat_tmpl *ct, const char *tmpl, size_t len, const char *bos,
		   size_t bos_len, const char *eos, size_t eos_len);
/* The same from a model: `tokenizer.chat_template` and tok's BOS/EOS texts. */
int chat_tmpl_from_gguf(struct chat_tmpl *ct, const struct gguf_file *f, const struct tok *t);

/* Render msgs[0..n) and, when add_generation_prompt, the opening of the
 * assistant's turn, into out[0..cap) (not NUL-terminated). Returns the bytes
 * written, -ENOSPC when cap is too small, -EINVAL for an unknown role or a
 * conversation the template refuses (Llama 2: roles must alternate user,
 * assistant, ... after an optional first system message). */
int64_t chat_render(const struct chat_tmpl *ct, const struct chat_msg *msgs, size_t n,
		    bool add_generation_prompt, char *out, size_t cap);

/* chat_render() that also records where each message's content went:
 * spans[0..*n_spans) in increasing order, at most one per message (empty
 * contents give none), so spans_cap >= n always suffices. The rendered text
 * is byte for byte chat_render()'s. Same returns; -ENOSPC also when
 * spans_cap is too small. */
int64_t chat_render_spans(const struct chat_tmpl *ct, const struct chat_msg *msgs, size_t n,
			  bool add_generation_prompt, char *out, size_t cap,
			  struct chat_span *spans, size_t spans_cap, size_t *n_spans);

/* Tokenize a rendered chat text[0..len) whose content bytes are
 * spans[0..n_spans) (sorted, disjoint, inside text): as tok_encode() with
 * TOK_ENC_PARSE_SPECIAL, except that a CONTROL/UNKNOWN token text is matched
 * only when it lies entirely in scaffolding; inside or across content it is
 * plain text (USER_DEFINED tokens match everywhere, as in tok_encode). The
 * raw fragments between matched specials are encoded exactly as tok_encode
 * encodes them, so a chat whose contents hold no special text gets the ids
 * tok_encode(..., flags | TOK_ENC_PARSE_SPECIAL) gives. flags: TOK_ENC_*
 * (PARSE_SPECIAL is implied). Returns tok_encode()'s results, or -EINVAL for
 * spans out of order or out of bounds. */
int64_t chat_tokenize(const struct tok *t, const char *text, size_t len,
		      const struct chat_span *spans, size_t n_spans, unsigned flags, int32_t *out,
		      size_t cap);

const char *chat_kind_name(enum chat_kind k);

#endif
