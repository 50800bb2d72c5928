/* SPDX-License-Identifier: Proprietary */
/*
 * reqview-t.h - types of the request view: one bounded pass over the JSON body of an
 * OpenAI-style /v1/chat/completions or /v1/completions request (RFC 8259 JSON).
 *
 * Where slices point (struct rv_str):
 *  - message text (string content, text parts, completion prompts) is always
 *    unescaped into the context's text arena, in request order, one '\n' between
 *    segments, so rv_view.text is every prompt byte in one contiguous block that
 *    Hyperscan can scan at once; each rv_msg.text is a sub-slice of it (the parts of
 *    one message are joined with '\n');
 *  - short strings (model, name, user, function names) point into the body when they
 *    hold no escape, else they are unescaped into the top end of the same arena;
 *  - rv_span values are byte offsets into the body (raw JSON, quotes included).
 * Every slice lives until the next rv_parse() on the same context and, for those into
 * the body, as long as the body.  Slices are not NUL-terminated.
 *
 * Strings must be valid UTF-8 (RFC 3629: no overlong forms, no encoded surrogates,
 * nothing above U+10FFFF): invalid bytes give RV_ERR_BAD_UTF8 and a \u escape of an
 * unpaired surrogate gives RV_ERR_LONE_SURROGATE; nothing is replaced with U+FFFD, so
 * the body we forward is exactly the body we classified.
 */
#ifndef REQVIEW_T_H
#define REQVIEW_T_H

#include <stdbool.h>
#include <stdint.h>

/* Hard ceiling of max_depth: the skipper keeps one bit per level on the stack. */
#define RV_DEPTH_HARD_MAX 1024u
/* metadata key/value pairs kept as raw spans (OpenAI allows 16); more are counted. */
#define RV_METADATA_KEEP 16u
/* Largest body any limit may allow: offsets are 32-bit. */
#define RV_BODY_HARD_MAX (1u << 30)

/* Why a body was refused.  rv_parse() returns the negated value. */
enum rv_err {
	RV_OK = 0,
	RV_ERR_SYNTAX,		   /* not JSON (RFC 8259 grammar) */
	RV_ERR_TRUNCATED,	   /* a prefix of JSON: the body ended early */
	RV_ERR_DEPTH,		   /* nesting deeper than max_depth */
	RV_ERR_BODY_TOO_LARGE,	   /* body longer than max_body */
	RV_ERR_TOO_MANY_MESSAGES,  /* more than max_messages messages or prompts */
	RV_ERR_TEXT_TOO_LARGE,	   /* unescaped text beyond max_text */
	RV_ERR_TOO_MANY_PARTS,	   /* a message with more than max_parts content parts */
	RV_ERR_TOO_MANY_TOOLS,	   /* more than max_tools tools, or tool calls in all */
	RV_ERR_BAD_UTF8,	   /* invalid UTF-8 inside a string */
	RV_ERR_BAD_ESCAPE,	   /* unknown escape or bad \u hex digits */
	RV_ERR_LONE_SURROGATE,	   /* \uD800-\uDFFF not forming a pair */
	RV_ERR_CONTROL_CHAR,	   /* unescaped byte < 0x20 inside a string */
	RV_ERR_BAD_TYPE,	   /* a known field with the wrong JSON type or range */
	RV_ERR_MISSING,		   /* no messages (chat) / no prompt (completions) */
	RV_ERR_DUPLICATE_KEY,	   /* a known key given twice in one object */
	RV_ERR_COUNT,
};

/* Which API the body was sent to (from the HTTP path). */
enum rv_endpoint {
	RV_EP_CHAT = 0,	   /* /v1/chat/completions */
	RV_EP_COMPLETIONS, /* /v1/completions */
};

enum rv_role {
	RV_ROLE_SYSTEM = 0,
	RV_ROLE_DEVELOPER,
	RV_ROLE_USER,
	RV_ROLE_ASSISTANT,
	RV_ROLE_TOOL,
	RV_ROLE_FUNCTION,
	RV_ROLE_UNKNOWN, /* missing or not one of the above */
	RV_ROLE_PROMPT,	 /* a /v1/completions prompt string */
	RV_ROLE_COUNT,
};

/* response_format.type */
enum rv_format {
	RV_FMT_NONE = 0, /* absent or null */
	RV_FMT_TEXT,
	RV_FMT_JSON_OBJECT,
	RV_FMT_JSON_SCHEMA,
	RV_FMT_OTHER, /* any other type string */
};

/* Which optional fields were present (and not null): bits of rv_view.has. */
enum rv_has {
	RV_HAS_MODEL = 1u << 0,
	RV_HAS_MAX_TOKENS = 1u << 1,
	RV_HAS_MAX_COMPLETION_TOKENS = 1u << 2,
	RV_HAS_STREAM = 1u << 3,
	RV_HAS_INCLUDE_USAGE = 1u << 4,
	RV_HAS_TEMPERATURE = 1u << 5,
	RV_HAS_TOP_P = 1u << 6,
	RV_HAS_N = 1u << 7,
	RV_HAS_STOP = 1u << 8,
	RV_HAS_SEED = 1u << 9,
	RV_HAS_RESPONSE_FORMAT = 1u << 10,
	RV_HAS_USER = 1u << 11,
	RV_HAS_METADATA = 1u << 12,
	RV_HAS_TOOLS = 1u << 13,
	RV_HAS_TOOL_CHOICE = 1u << 14,
	RV_HAS_MESSAGES = 1u << 15,
	RV_HAS_PROMPT = 1u << 16,
};

/* Unescaped UTF-8 text; not NUL-terminated. */
struct rv_str {
	const char *p;
	uint32_t len; /* bytes */
};

/* A raw JSON value in the body. */
struct rv_span {
	uint32_t off; /* bytes from the start of the body */
	uint32_t len; /* bytes */
};

struct rv_msg {
	enum rv_role role;
	struct rv_str name;	/* "name", empty when absent */
	struct rv_str text;	/* all text of the message (see the head comment) */
	uint32_t first_call;	/* index of its first tool call in rv_view.call_names */
	uint16_t ncalls;	/* tool_calls entries and a deprecated function_call */
	uint16_t nparts;	/* content array entries of every kind */
	uint16_t ntext_parts;	/* "text" / "input_text" parts */
	uint16_t nimages;	/* "image_url" / "input_image" parts */
	uint16_t naudio;	/* "input_audio" parts */
	uint16_t nfiles;	/* "file" parts */
	uint16_t nother;	/* parts of any other type ("refusal", unknown) */
	bool content_array;	/* content was an array of parts */
	bool has_tool_call_id;	/* a "tool" message answering a call */
};

/* Limits of one context; from the [request] config section (rv_conf_register). */
struct rv_limits {
	uint64_t max_body;     /* bytes of JSON body */
	uint64_t max_depth;    /* nesting levels, the top object is level 1 */
	uint64_t max_messages; /* messages (chat) or prompt strings (completions) */
	uint64_t max_text;     /* bytes of unescaped text and escaped short strings */
	uint64_t max_parts;    /* content parts per message */
	uint64_t max_tools;    /* tools, and tool calls over all messages */
};

/*
 * The parsed view.  Arrays point into the context; valid until the next rv_parse()
 * on it.  Numeric fields are meaningful only when their RV_HAS_ bit is set.
 */
struct rv_view {
	enum rv_endpoint ep;
	uint32_t has; /* enum rv_has bits */
	struct rv_str model;
	struct rv_span model_span; /* the model value with its quotes, for a rewrite */

	struct rv_msg *msgs; /* nmsgs entries (prompts too, role RV_ROLE_PROMPT) */
	uint32_t nmsgs;
	uint32_t nroles[RV_ROLE_COUNT]; /* messages per role */
	struct rv_str text;		/* every text segment, '\n'-separated */
	uint32_t nprompt_tokens;	/* completions: prompt given as token ids */

	uint32_t nparts, nimages, naudio, nfiles; /* sums over messages */
	struct rv_str *call_names;		  /* ncalls assistant tool call names */
	uint32_t ncalls;
	struct rv_str *tool_names; /* ntools names of tools[] and deprecated functions[] */
	uint32_t ntools;
	struct rv_span tool_choice; /* raw value */

	int64_t max_tokens;	       /* tokens */
	int64_t max_completion_tokens; /* tokens */
	bool stream;
	bool include_usage; /* stream_options.include_usage */
	double temperature;
	double top_p;
	int64_t n;
	int64_t seed;
	uint32_t nstop; /* 1 for a string, else array entries */
	struct rv_span stop;
	enum rv_format response_format;
	struct rv_str user;
	uint32_t nmetadata;				/* key/value pairs */
	struct rv_span metadata;			/* the whole object */
	struct rv_span metadata_kv[RV_METADATA_KEEP][2]; /* key, value of the first pairs */

	enum rv_err err;  /* RV_OK or the reason of the failure */
	uint32_t err_off; /* byte offset in the body where it was detected */
};

/*
 * One per lcore, set up at start-up by rv_ctx_init(): all memory rv_parse() uses.
 * Fields are lcore-local.
 */
struct rv_ctx {
	struct rv_limits lim;
	struct rv_msg *msgs;	    /* lim.max_messages entries */
	char *arena;		    /* lim.max_text bytes */
	struct rv_str *tool_names;  /* lim.max_tools entries */
	struct rv_str *call_names;  /* lim.max_tools entries */
};

#endif /* REQVIEW_T_H */
