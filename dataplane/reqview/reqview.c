/* SPDX-License-Identifier: Proprietary */
/*
 * reqview.c - init-time half of the request view: context memory, the [request]
 * config table, error strings.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "reqview.h"

/*
 * Bounds of every limit.  They must match the min/max text of rv_conf_keys (a unit
 * test checks that every default and bound is accepted by rv_ctx_init()).
 * max_depth >= 8: the known structure alone goes 6 deep (body, tools, tool,
 * function, parameters, properties).  Counts stored in 16 bits cap parts and tools.
 */
#define LIM_BODY_MIN (1ull << 10)
#define LIM_DEPTH_MIN 8ull
#define LIM_MESSAGES_MAX (1ull << 20)
#define LIM_TEXT_MIN (1ull << 10)
#define LIM_PARTS_MAX 65535ull
#define LIM_TOOLS_MAX 65535ull

#define RV_FIELD(f) TSCONF_FIELD(struct rv_limits, f)

const struct tsconf_key rv_conf_keys[] = {
	{ "request", "max_body", TSCONF_SIZE, RV_FIELD(max_body), "1M", "1K", "1G",
	  "largest JSON body accepted, in bytes (larger: 400 body too large)" },
	{ "request", "max_depth", TSCONF_U64, RV_FIELD(max_depth), "32", "8", "1024",
	  "deepest nesting of JSON objects and arrays, the body itself is level 1" },
	{ "request", "max_messages", TSCONF_U64, RV_FIELD(max_messages), "1024", "1", "1048576",
	  "most chat messages (or completion prompt strings) in one request" },
	{ "request", "max_text", TSCONF_SIZE, RV_FIELD(max_text), "1M", "1K", "1G",
	  "most bytes of unescaped prompt text per request, all messages together" },
	{ "request", "max_parts", TSCONF_U64, RV_FIELD(max_parts), "64", "1", "65535",
	  "most content parts (text, image, audio, file) in one message" },
	{ "request", "max_tools", TSCONF_U64, RV_FIELD(max_tools), "128", "1", "65535",
	  "most tools in a request, and most assistant tool calls over all messages" },
};
const size_t rv_conf_nkeys = sizeof(rv_conf_keys) / sizeof(rv_conf_keys[0]);

int rv_conf_register(struct tsconf *c, struct rv_limits *lim, char *err, size_t errlen)
{
	return tsconf_register(c, "reqview", rv_conf_keys, rv_conf_nkeys, lim, err, errlen);
}

static bool limits_ok(const struct rv_limits *l)
{
	return l->max_body >= LIM_BODY_MIN && l->max_body <= RV_BODY_HARD_MAX &&
	       l->max_depth >= LIM_DEPTH_MIN && l->max_depth <= RV_DEPTH_HARD_MAX &&
	       l->max_messages >= 1 && l->max_messages <= LIM_MESSAGES_MAX &&
	       l->max_text >= LIM_TEXT_MIN && l->max_text <= RV_BODY_HARD_MAX &&
	       l->max_parts >= 1 && l->max_parts <= LIM_PARTS_MAX && l->max_tools >= 1 &&
	       l->max_tools <= LIM_TOOLS_MAX;
}

int rv_ctx_init(struct rv_ctx *ctx, const struct rv_limits *lim)
{
	memset(ctx, 0, sizeof(*ctx));
	if (!limits_ok(lim))
		return -EINVAL;
	ctx->lim = *lim;
	ctx->msgs = calloc(lim->max_messages, sizeof(*ctx->msgs));
	if (ctx->msgs == NULL)
		goto fail_msgs;
	ctx->arena = malloc(lim->max_text);
	if (ctx->arena == NULL)
		goto fail_arena;
	ctx->tool_names = calloc(lim->max_tools, sizeof(*ctx->tool_names));
	if (ctx->tool_names == NULL)
		goto fail_tools;
	ctx->call_names = calloc(lim->max_tools, sizeof(*ctx->call_names));
	if (ctx->call_names == NULL)
		goto fail_calls;
	return 0;

fail_calls:
	free(ctx->tool_names);
	ctx->tool_names = NULL;
fail_tools:
	free(ctx->arena);
	ctx->arena = NULL;
fail_arena:
	free(ctx->msgs);
	ctx->msgs = NULL;
fail_msgs:
	return -ENOMEM;
}

void rv_ctx_fini(struct rv_ctx *ctx)
{
	free(ctx->call_names);
	ctx->call_names = NULL;
	free(ctx->tool_names);
	ctx->tool_names = NULL;
	free(ctx->arena);
	ctx->arena = NULL;
	free(ctx->msgs);
	ctx->msgs = NULL;
}

const char *rv_strerror(enum rv_err e)
{
	static const char *const msg[RV_ERR_COUNT] = {
		[RV_OK] = "ok",
		[RV_ERR_SYNTAX] = "request body is not valid JSON",
		[RV_ERR_TRUNCATED] = "request body ends in the middle of a JSON value",
		[RV_ERR_DEPTH] = "request body nests JSON values too deeply",
		[RV_ERR_BODY_TOO_LARGE] = "request body is too large",
		[RV_ERR_TOO_MANY_MESSAGES] = "too many messages",
		[RV_ERR_TEXT_TOO_LARGE] = "too much text in the request",
		[RV_ERR_TOO_MANY_PARTS] = "too many content parts in one message",
		[RV_ERR_TOO_MANY_TOOLS] = "too many tools or tool calls",
		[RV_ERR_BAD_UTF8] = "request body contains invalid UTF-8 in a string",
		[RV_ERR_BAD_ESCAPE] = "invalid escape sequence in a JSON string",
		[RV_ERR_LONE_SURROGATE] = "unpaired UTF-16 surrogate in a \\u escape",
		[RV_ERR_CONTROL_CHAR] = "unescaped control character in a JSON string",
		[RV_ERR_BAD_TYPE] = "a request field has the wrong type",
		[RV_ERR_MISSING] = "request has no messages (or no prompt)",
		[RV_ERR_DUPLICATE_KEY] = "a request field appears twice",
	};

	if ((unsigned)e >= RV_ERR_COUNT)
		return "unknown request error";
	return msg[e];
}

const char *rv_err_name(enum rv_err e)
{
	/* Stable short names for counters, logs and machine-readable errors. */
	static const char *const name[RV_ERR_COUNT] = {
		[RV_OK] = "ok",
		[RV_ERR_SYNTAX] = "syntax",
		[RV_ERR_TRUNCATED] = "truncated",
		[RV_ERR_DEPTH] = "depth",
		[RV_ERR_BODY_TOO_LARGE] = "body_too_large",
		[RV_ERR_TOO_MANY_MESSAGES] = "too_many_messages",
		[RV_ERR_TEXT_TOO_LARGE] = "text_too_large",
		[RV_ERR_TOO_MANY_PARTS] = "too_many_parts",
		[RV_ERR_TOO_MANY_TOOLS] = "too_many_tools",
		[RV_ERR_BAD_UTF8] = "bad_utf8",
		[RV_ERR_BAD_ESCAPE] = "bad_escape",
		[RV_ERR_LONE_SURROGATE] = "lone_surrogate",
		[RV_ERR_CONTROL_CHAR] = "control_char",
		[RV_ERR_BAD_TYPE] = "bad_type",
		[RV_ERR_MISSING] = "missing",
		[RV_ERR_DUPLICATE_KEY] = "duplicate_key",
	};

	if ((unsigned)e >= RV_ERR_COUNT)
		return "unknown";
	return name[e];
}

const char *rv_role_name(enum rv_role r)
{
	static const char *const names[RV_ROLE_COUNT] = {
		[RV_ROLE_SYSTEM] = "system",	 [RV_ROLE_DEVELOPER] = "developer",
		[RV_ROLE_USER] = "user",	 [RV_ROLE_ASSISTANT] = "assistant",
		[RV_ROLE_TOOL] = "tool",	 [RV_ROLE_FUNCTION] = "function",
		[RV_ROLE_UNKNOWN] = "unknown", [RV_ROLE_PROMPT] = "prompt",
	};

	if ((unsigned)r >= RV_ROLE_COUNT)
		return "unknown";
	return names[r];
}
