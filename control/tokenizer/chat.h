/* Chat templates: recognise a model's `tokenizer.chat_template` by the
 * markers of its family and render message lists exactly as that Jinja
 * template would (for the features used here: system/user/assistant text
 * messages, no tools). The result is tokenized with TOK_ENC_PARSE_SPECIAL so
 * the markers become their special tokens. Control plane. */
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

const char *chat_kind_name(enum chat_kind k);

#endif
