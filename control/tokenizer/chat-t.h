/* Chat template types: a message list and the template family a model's
 * `tokenizer.chat_template` was recognised as. */
#ifndef TS_CHAT_T_H
#define TS_CHAT_T_H

#include <stdbool.h>
#include <stddef.h>

#define CHAT_MAX_SYSTEM 1024 /* bytes of a template's built-in default system prompt */
#define CHAT_MAX_BOS 64	     /* bytes of the BOS/EOS token text a template prints */
#define CHAT_MAX_DATE 32     /* bytes of Llama 3.1's default date_string */

enum chat_role {
	CHAT_ROLE_SYSTEM = 0,
	CHAT_ROLE_USER = 1,
	CHAT_ROLE_ASSISTANT = 2,
};

struct chat_msg {
	enum chat_role role;
	const char *content; /* UTF-8, not NUL-terminated, borrowed */
	size_t len;	     /* bytes */
};

/*
 * Where one message's content landed in a rendered chat: bytes
 * text[off, off + len). Everything outside the content spans is template
 * scaffolding. Only scaffolding may become CONTROL tokens when the text is
 * tokenized (chat_tokenize): a user who types "<|im_end|>" gets its plain
 * text ids and cannot forge a turn.
 */
struct chat_span {
	size_t off; /* bytes from the start of the rendered text */
	size_t len; /* bytes, > 0 */
};

enum chat_kind {
	CHAT_PLAIN = 0,	  /* no template (base models): contents joined by "\n" */
	CHAT_CHATML = 1,  /* <|im_start|>role\n...<|im_end|>\n (Qwen, SmolLM, ...) */
	CHAT_LLAMA3 = 2,  /* <|start_header_id|>role<|end_header_id|>\n\n...<|eot_id|> */
	CHAT_LLAMA31 = 3, /* Llama 3.1/3.2: Llama 3 plus the dated system header */
	CHAT_LLAMA2 = 4,  /* <s>[INST] <<SYS>>..<</SYS>> ... [/INST] answer </s> */
	CHAT_ZEPHYR = 5,  /* <|user|>\n...</s>\n (TinyLlama-Chat, Zephyr) */
};

/* A recognised template. Self-contained (no pointers): copy it freely. */
struct chat_tmpl {
	enum chat_kind kind;
	/* ChatML: the system prompt the template inserts when the first
	 * message is not a system message; empty when it inserts none. */
	char default_system[CHAT_MAX_SYSTEM];
	size_t default_system_len; /* bytes */
	/* bos_token and eos_token as the template prints them (Llama 2/3, Zephyr). */
	char bos[CHAT_MAX_BOS];
	size_t bos_len; /* bytes */
	char eos[CHAT_MAX_BOS];
	size_t eos_len; /* bytes */
	/* Llama 3.1: the template's default date_string ("26 Jul 2024"). */
	char date[CHAT_MAX_DATE];
	size_t date_len; /* bytes */
};

#endif
