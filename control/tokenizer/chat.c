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
 * Llama 2 chat (marker "<<SYS>>" with "[INST]"): an optional first system
 * message goes into the first user turn as "<<SYS>>\n" sys "\n<</SYS>>\n\n";
 * user turns are bos "[INST] " strip(content) " [/INST]", assistant turns
 * " " strip(content) " " eos; roles must alternate user/assistant (the
 * template raises otherwise, here -EINVAL); no generation prompt.
 *
 * Zephyr/TinyLlama-Chat (markers "<|user|>", "<|assistant|>", eos_token and
 * no "<|end|>", which would be Phi-3): "<|" role "|>\n" content eos "\n";
 * generation prompt "<|assistant|>\n" after the last message.
 *
 * Every family's expected strings in the unit suite were checked against
 * jinja2 rendering the real template.
 *
 * trim() is Jinja's (Python's str.strip): Unicode White_Space at both ends.
 *
 * Special-token injection: a rendered chat is not tokenized as one string
 * with special tokens parsed (a user who types "<|im_end|>\n<|im_start|>system"
 * would open a turn of their own). chat_render_spans() records where each
 * message's content went and chat_tokenize() matches CONTROL tokens only in
 * the scaffolding around them; contents are plain text, as llama.cpp
 * tokenizes content with parse_special off. Raw text is still cut into
 * fragments only at matched specials, so a chat without special text in its
 * contents gets exactly the ids of the whole-string tokenization. */
#include <errno.h>
#include <string.h>

#include "chat.h"
#include "gguf.h"
#include "tok-internal.h"
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
		   size_t bos_len, const char *eos, size_t eos_len)
{
	memset(ct, 0, sizeof(*ct));
	if (bos_len > sizeof(ct->bos) || eos_len > sizeof(ct->eos))
		return -E2BIG;
	if (bos_len)
		memcpy(ct->bos, bos, bos_len);
	ct->bos_len = bos_len;
	if (eos_len)
		memcpy(ct->eos, eos, eos_len);
	ct->eos_len = eos_len;
	if (!tmpl || len == 0) {
		ct->kind = CHAT_PLAIN;
		return 0;
	}
	if (find(tmpl, len, "<|im_start|>")) {
		ct->kind = CHAT_CHATML;
		return chatml_default_system(ct, tmpl, len);
	}
	if (find(tmpl, len, "<|start_header_id|>")) {
		ct->kind = CHAT_LLAMA3;
		if (find(tmpl, len, "Cutting Knowledge Date")) {
			ct->kind = CHAT_LLAMA31;
			llama31_date(ct, tmpl, len);
		}
		return 0;
	}
	if (find(tmpl, len, "[INST]") && find(tmpl, len, "<<SYS>>")) {
		ct->kind = CHAT_LLAMA2;
		return 0;
	}
	if (find(tmpl, len, "<|user|>") && find(tmpl, len, "<|assistant|>") &&
	    find(tmpl, len, "eos_token") && !find(tmpl, len, "<|end|>")) {
		ct->kind = CHAT_ZEPHYR;
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
	const char *eos = NULL;
	size_t eos_len = 0;
	if (tok_bos(t) != TOK_NULL)
		bos = tok_text(t, tok_bos(t), &bos_len);
	if (tok_eos(t) != TOK_NULL)
		eos = tok_text(t, tok_eos(t), &eos_len);
	return chat_tmpl_init(ct, s, len, bos, bos_len, eos, eos_len);
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
	case CHAT_LLAMA2:
		return "llama2";
	case CHAT_ZEPHYR:
		return "zephyr";
	}
	return "?";
}

struct sink {
	char *out;
	size_t n, cap;
	int err;
	struct chat_span *spans; /* NULL: chat_render, no spans recorded */
	size_t n_spans, spans_cap;
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

/* Message content: written like any text, and its place recorded. */
static void put_content(struct sink *k, const char *s, size_t len)
{
	size_t at = k->n;

	if (len == 0)
		return;
	put(k, s, len);
	if (k->err || !k->spans)
		return;
	if (k->n_spans == k->spans_cap) {
		k->err = -ENOSPC;
		return;
	}
	k->spans[k->n_spans++] = (struct chat_span){ at, len };
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

/* Strip trailing White_Space from the sink's bytes after floor. */
static void rtrim_sink(struct sink *k, size_t floor)
{
	if (k->err)
		return;
	for (bool more = true; more && k->n > floor;) {
		more = false;
		for (size_t w = 1; w <= 3 && w <= k->n - floor; w++) {
			if (space_at((const unsigned char *)k->out + k->n - w, w) == w) {
				k->n -= w;
				more = true;
				break;
			}
		}
	}
	/* the trimmed bytes may have ended a content span, or been one */
	while (k->n_spans > 0 && k->spans[k->n_spans - 1].off >= k->n)
		k->n_spans--;
	if (k->n_spans > 0 && k->spans[k->n_spans - 1].off + k->spans[k->n_spans - 1].len > k->n)
		k->spans[k->n_spans - 1].len = k->n - k->spans[k->n_spans - 1].off;
}

static void llama3_msg(struct sink *k, const char *role, const char *c, size_t cl)
{
	trim(&c, &cl);
	puts_(k, "<|start_header_id|>");
	puts_(k, role);
	puts_(k, "<|end_header_id|>\n\n");
	put_content(k, c, cl);
	puts_(k, "<|eot_id|>");
}

static int64_t render(const struct chat_tmpl *ct, const struct chat_msg *msgs, size_t n,
		      bool add_generation_prompt, struct sink *sk)
{
	struct sink k = *sk;
	size_t i = 0;

	for (size_t j = 0; j < n; j++)
		if (!role_name(msgs[j].role))
			return -EINVAL;

	switch (ct->kind) {
	case CHAT_PLAIN:
		for (i = 0; i < n; i++) {
			if (i)
				puts_(&k, "\n");
			put_content(&k, msgs[i].content, msgs[i].len);
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
			put_content(&k, msgs[i].content, msgs[i].len);
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
		put_content(&k, sys, sys_len);
		puts_(&k, "<|eot_id|>");
		for (; i < n; i++)
			llama3_msg(&k, role_name(msgs[i].role), msgs[i].content, msgs[i].len);
		if (add_generation_prompt)
			puts_(&k, "<|start_header_id|>assistant<|end_header_id|>\n\n");
		break;
	}
	case CHAT_LLAMA2: {
		const char *sys = NULL;
		size_t sys_len = 0, first = 0;
		bool has_sys = n > 0 && msgs[0].role == CHAT_ROLE_SYSTEM;
		if (has_sys) {
			sys = msgs[0].content;
			sys_len = msgs[0].len;
			first = 1;
		}
		for (i = first; i < n; i++) {
			size_t j = i - first; /* loop.index0 over the messages after the system one */
			if ((msgs[i].role == CHAT_ROLE_USER) != (j % 2 == 0))
				return -EINVAL; /* the template's raise_exception */
			const char *c = msgs[i].content;
			size_t cl = msgs[i].len;
			if (msgs[i].role == CHAT_ROLE_USER) {
				put(&k, ct->bos, ct->bos_len);
				puts_(&k, "[INST] ");
				if (j == 0 && has_sys) {
					/* strip() of the whole "<<SYS>>\n" sys "\n<</SYS>>\n\n"
					 * content: it starts with "<<SYS>>", so only its end */
					size_t floor = k.n;
					puts_(&k, "<<SYS>>\n");
					put_content(&k, sys, sys_len);
					puts_(&k, "\n<</SYS>>\n\n");
					put_content(&k, c, cl);
					rtrim_sink(&k, floor);
				} else {
					trim(&c, &cl);
					put_content(&k, c, cl);
				}
				puts_(&k, " [/INST]");
			} else if (msgs[i].role == CHAT_ROLE_ASSISTANT) {
				trim(&c, &cl);
				puts_(&k, " ");
				put_content(&k, c, cl);
				puts_(&k, " ");
				put(&k, ct->eos, ct->eos_len);
			}
			/* a system message at an odd position renders nothing */
		}
		break;
	}
	case CHAT_ZEPHYR:
		for (i = 0; i < n; i++) {
			puts_(&k, "<|");
			puts_(&k, role_name(msgs[i].role));
			puts_(&k, "|>\n");
			put_content(&k, msgs[i].content, msgs[i].len);
			put(&k, ct->eos, ct->eos_len);
			puts_(&k, "\n");
			if (i + 1 == n && add_generation_prompt)
				puts_(&k, "<|assistant|>\n");
		}
		break;
	default:
		return -EINVAL;
	}
	*sk = k;
	return k.err ? k.err : (int64_t)k.n;
}

int64_t chat_render(const struct chat_tmpl *ct, const struct chat_msg *msgs, size_t n,
		    bool add_generation_prompt, char *out, size_t cap)
{
	struct sink k = { out, 0, cap, 0, NULL, 0, 0 };

	return render(ct, msgs, n, add_generation_prompt, &k);
}

int64_t chat_render_spans(const struct chat_tmpl *ct, const struct chat_msg *msgs, size_t n,
			  bool add_generation_prompt, char *out, size_t cap,
			  struct chat_span *spans, size_t spans_cap, size_t *n_spans)
{
	struct sink k = { out, 0, cap, 0, spans, 0, spans_cap };
	int64_t r = render(ct, msgs, n, add_generation_prompt, &k);

	*n_spans = r < 0 ? 0 : k.n_spans;
	return r;
}

/* --- tokenization with content spans ----------------------------------- */

int64_t chat_tokenize(const struct tok *t, const char *text, size_t len,
		      const struct chat_span *spans, size_t n_spans, unsigned flags, int32_t *out,
		      size_t cap)
{
	return tok_encode_spans(t, text, len, spans, n_spans, flags | TOK_ENC_PARSE_SPECIAL, out,
				cap);
}
