/* Chat template families, recognised by their distinctive markers and
 * rendered by hand-written code that reproduces the reference Jinja output:
 *
 * ChatML (Qwen2/2.5, SmolLM, ...): for each message
 *   "<|im_start|>" role "\n" content "<|im_end|>\n"
 * preceded, when the first message is not a system message, by the default
 * system prompt that the template itself contains (Qwen2.5: "You are Qwen,
 * created by Alibaba Cloud. You are a helpful assistant."), found as the
 * literal between "<|im_start|>system\n" and "<|im_end|>" in the template.
 * Generation prompt "<|im_start|>assistant\n".
 *
 * Llama 3 (Meta-Llama-3-*-Instruct): bos_token before the first message, then
 *   "<|start_header_id|>" role "<|end_header_id|>\n\n" trim(content) "<|eot_id|>"
 * Generation prompt "<|start_header_id|>assistant<|end_header_id|>\n\n".
 *
 * Llama 3.1/3.2 (marker "Cutting Knowledge Date"): bos_token, then always a
 * system header "Cutting Knowledge Date: December 2023\nToday Date: <date>\n\n"
 * followed by the trimmed first system message, then the other messages as
 * Llama 3. <date> is the template's default date_string literal (the
 * strftime_now() of Llama 3.2 is deliberately not used: output stays
 * deterministic).
 *
 * trim() is Jinja's (Python's str.strip): Unicode White_Space at both ends. */
#include <errno.h>
#include <string.h>

#include "chat.h"
#include "gguf.h"
#include "tok.h"

static const char *find(const char *s, size_t len, const char *pat)
{
	return memmem(s, len, pat, strlen(pat));
}

/* Unescape a Jinja string literal's body (\n, \t, \', \", \\) into out. */
static int unescape(const char *s, size_t len, char *out, size_t cap, size_t *olen)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c == '\\' && i + 1 < len) {
			char e = s[++i];
			c = e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e;
		}
		if (n == cap)
			return -E2BIG;
		out[n++] = c;
	}
	*olen = n;
	return 0;
}

/* ChatML: the literal default system prompt, if the template has one. */
static int chatml_default_system(struct chat_tmpl *ct, const char *s, size_t len)
{
	static const char mark[] = "<|im_start|>system";
	const char *end = s + len;
	for (const char *p = find(s, len, mark); p; p = find(p + 1, (size_t)(end - p - 1), mark)) {
		const char *q = p + sizeof(mark) - 1;
		if (end - q >= 2 && q[0] == '\\' && q[1] == 'n')
			q += 2;
		else if (end - q >= 1 && q[0] == '\n')
			q += 1;
		else
			continue;
		const char *e = find(q, (size_t)(end - q), "<|im_end|>");
		if (!e || e == q || memchr(q, '\'', (size_t)(e - q)) || memchr(q, '"', (size_t)(e - q)))
			continue; /* not one literal: an expression sits in between */
		return unescape(q, (size_t)(e - q), ct->default_system, sizeof(ct->default_system),
				&ct->default_system_len);
	}
	return 0;
}

/* Llama 3.1: set date_string = "..." */
static void llama31_date(struct chat_tmpl *ct, const char *s, size_t len)
{
	static const char dflt[] = "26 Jul 2024";
	const char *p = find(s, len, "set date_string = \"");
	memcpy(ct->date, dflt, sizeof(dflt) - 1);
	ct->date_len = sizeof(dflt) - 1;
	if (!p)
		return;
	p += strlen("set date_string = \"");
	const char *q = memchr(p, '"', (size_t)(s + len - p));
	if (q && (size_t)(q - p) < sizeof(ct->date)) {
		memcpy(ct->date, p, (size_t)(q - p));
		ct->date_len = (size_t)(q - p);
	}
}

int chat_tmpl_init(struct chat_tmpl *ct, const char *tmpl, size_t len, const char *bos,
		   size_t bos_len)
{
	memset(ct, 0, sizeof(*ct));
	if (!tmpl || len == 0) {
		ct->kind = CHAT_PLAIN;
		return 0;
	}
	if (find(tmpl, len, "<|im_start|>")) {
		ct->kind = CHAT_CHATML;
		return chatml_default_system(ct, tmpl, len);
	}
	if (find(tmpl, len, "<|start_header_id|>")) {
		if (bos_len > sizeof(ct->bos))
			return -E2BIG;
		if (bos_len)
			memcpy(ct->bos, bos, bos_len);
		ct->bos_len = bos_len;
		ct->kind = CHAT_LLAMA3;
		if (find(tmpl, len, "Cutting Knowledge Date")) {
			ct->kind = CHAT_LLAMA31;
			llama31_date(ct, tmpl, len);
		}
		return 0;
	}
	return -ENOTSUP;
}

int chat_tmpl_from_gguf(struct chat_tmpl *ct, const struct gguf_file *f, const struct tok *t)
{
	const char *s = NULL, *bos = NULL;
	size_t len = 0, bos_len = 0;
	if (!gguf_get_str(f, "tokenizer.chat_template", &s, &len))
		len = 0;
	if (tok_bos(t) != TOK_NULL)
		bos = tok_text(t, tok_bos(t), &bos_len);
	return chat_tmpl_init(ct, s, len, bos, bos_len);
}

const char *chat_kind_name(enum chat_kind k)
{
	switch (k) {
	case CHAT_PLAIN:
		return "plain";
	case CHAT_CHATML:
		return "chatml";
	case CHAT_LLAMA3:
		return "llama3";
	case CHAT_LLAMA31:
		return "llama3.1";
	}
	return "?";
}

struct sink {
	char *out;
	size_t n, cap;
	int err;
};

static void put(struct sink *k, const char *s, size_t len)
{
	if (k->err)
		return;
	if (len > k->cap - k->n) {
		k->err = -ENOSPC;
		return;
	}
	memcpy(k->out + k->n, s, len);
	k->n += len;
}

static void puts_(struct sink *k, const char *s)
{
	put(k, s, strlen(s));
}

static const char *role_name(enum chat_role r)
{
	switch (r) {
	case CHAT_ROLE_SYSTEM:
		return "system";
	case CHAT_ROLE_USER:
		return "user";
	case CHAT_ROLE_ASSISTANT:
		return "assistant";
	}
	return NULL;
}

/* Bytes of the White_Space character starting at s[0..len), 0 if none. */
static size_t space_at(const unsigned char *s, size_t len)
{
	if (len == 0)
		return 0;
	if ((s[0] >= 0x09 && s[0] <= 0x0D) || s[0] == ' ' || (s[0] >= 0x1C && s[0] <= 0x1F))
		return 1;
	if (len >= 2 && s[0] == 0xC2 && (s[1] == 0x85 || s[1] == 0xA0))
		return 2;
	if (len >= 3 && s[0] == 0xE1 && s[1] == 0x9A && s[2] == 0x80)
		return 3; /* U+1680 */
	if (len >= 3 && s[0] == 0xE2 && s[1] == 0x80 &&
	    (s[2] <= 0x8A || s[2] == 0xA8 || s[2] == 0xA9 || s[2] == 0xAF))
		return 3; /* U+2000..200A, 2028, 2029, 202F */
	if (len >= 3 && s[0] == 0xE2 && s[1] == 0x81 && s[2] == 0x9F)
		return 3; /* U+205F */
	if (len >= 3 && s[0] == 0xE3 && s[1] == 0x80 && s[2] == 0x80)
		return 3; /* U+3000 */
	return 0;
}

/* Jinja's |trim. */
static void trim(const char **s, size_t *len)
{
	const unsigned char *p = (const unsigned char *)*s;
	size_t n = *len, k;
	while ((k = space_at(p, n)) > 0) {
		p += k;
		n -= k;
	}
	for (bool more = true; more && n > 0;) {
		more = false;
		/* a whitespace character of 1..3 bytes ending at the end */
		for (size_t w = 1; w <= 3 && w <= n; w++) {
			if (space_at(p + n - w, w) == w) {
				n -= w;
				more = true;
				break;
			}
		}
	}
	*s = (const char *)p;
	*len = n;
}

static void llama3_msg(struct sink *k, const char *role, const char *c, size_t cl)
{
	trim(&c, &cl);
	puts_(k, "<|start_header_id|>");
	puts_(k, role);
	puts_(k, "<|end_header_id|>\n\n");
	put(k, c, cl);
	puts_(k, "<|eot_id|>");
}

int64_t chat_render(const struct chat_tmpl *ct, const struct chat_msg *msgs, size_t n,
		    bool add_generation_prompt, char *out, size_t cap)
{
	struct sink k = { out, 0, cap, 0 };
	size_t i = 0;

	for (size_t j = 0; j < n; j++)
		if (!role_name(msgs[j].role))
			return -EINVAL;

	switch (ct->kind) {
	case CHAT_PLAIN:
		for (i = 0; i < n; i++) {
			if (i)
				puts_(&k, "\n");
			put(&k, msgs[i].content, msgs[i].len);
		}
		break;
	case CHAT_CHATML:
		if (ct->default_system_len && (n == 0 || msgs[0].role != CHAT_ROLE_SYSTEM)) {
			puts_(&k, "<|im_start|>system\n");
			put(&k, ct->default_system, ct->default_system_len);
			puts_(&k, "<|im_end|>\n");
		}
		for (i = 0; i < n; i++) {
			puts_(&k, "<|im_start|>");
			puts_(&k, role_name(msgs[i].role));
			puts_(&k, "\n");
			put(&k, msgs[i].content, msgs[i].len);
			puts_(&k, "<|im_end|>\n");
		}
		if (add_generation_prompt)
			puts_(&k, "<|im_start|>assistant\n");
		break;
	case CHAT_LLAMA3:
		for (i = 0; i < n; i++) {
			if (i == 0)
				put(&k, ct->bos, ct->bos_len);
			llama3_msg(&k, role_name(msgs[i].role), msgs[i].content, msgs[i].len);
		}
		if (add_generation_prompt)
			puts_(&k, "<|start_header_id|>assistant<|end_header_id|>\n\n");
		break;
	case CHAT_LLAMA31: {
		const char *sys = "";
		size_t sys_len = 0;
		put(&k, ct->bos, ct->bos_len);
		if (n > 0 && msgs[0].role == CHAT_ROLE_SYSTEM) {
			sys = msgs[0].content;
			sys_len = msgs[0].len;
			trim(&sys, &sys_len);
			i = 1;
		}
		puts_(&k, "<|start_header_id|>system<|end_header_id|>\n\n");
		puts_(&k, "Cutting Knowledge Date: December 2023\n");
		puts_(&k, "Today Date: ");
		put(&k, ct->date, ct->date_len);
		puts_(&k, "\n\n");
		put(&k, sys, sys_len);
		puts_(&k, "<|eot_id|>");
		for (; i < n; i++)
			llama3_msg(&k, role_name(msgs[i].role), msgs[i].content, msgs[i].len);
		if (add_generation_prompt)
			puts_(&k, "<|start_header_id|>assistant<|end_header_id|>\n\n");
		break;
	}
	default:
		return -EINVAL;
	}
	return k.err ? k.err : (int64_t)k.n;
}
