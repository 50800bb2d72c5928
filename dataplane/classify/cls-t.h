/* SPDX-License-Identifier: proprietary */
/*
 * Classifier types: the feature vector, the classifier's policy view, the
 * per-lcore context and the decision record.
 *
 * Who touches what:
 *   struct cls_policy  read-mostly, built off the packet path from a policy
 *                      image (or from in-memory parts for the trainer), then
 *                      immutable; swapped per worker with the image.
 *   struct cls_ctx     lcore-local: Hyperscan scratch and hit counters, set up
 *                      at init or on a policy swap, never allocated per request.
 *   struct cls_decision  caller-provided, filled per request.
 */
#ifndef TWOSPEED_CLS_T_H
#define TWOSPEED_CLS_T_H

#include <stdbool.h>
#include <stdint.h>

#include <twospeed/policy-t.h>

/*
 * The feature vector. Order and names are part of the scorer contract: a
 * scorer lists its features by name in this order and a policy whose names do
 * not match is refused. Append only; README.md documents each entry.
 */
enum cls_feat {
	CLS_F_BYTES_USER = 0,    /* log1p(bytes of user text) */
	CLS_F_BYTES_SYSTEM,      /* log1p(bytes of system/developer text) */
	CLS_F_BYTES_ASSISTANT,   /* log1p(bytes of assistant text) */
	CLS_F_BYTES_TOOL,        /* log1p(bytes of tool/function results) */
	CLS_F_BYTES_LAST_USER,   /* log1p(bytes of the last user message) */
	CLS_F_EST_TOKENS,        /* log1p(estimated prompt tokens) */
	CLS_F_TURNS,             /* log1p(user messages) */
	CLS_F_HAS_SYSTEM,        /* 0/1 */
	CLS_F_HAS_ASSISTANT,     /* 0/1: a multi-turn conversation */
	CLS_F_CODE_DENSITY,      /* code symbol bytes / text bytes */
	CLS_F_MATH_DENSITY,      /* math symbol bytes / text bytes */
	CLS_F_DIGIT_DENSITY,     /* digit bytes / text bytes */
	CLS_F_PUNCT_DENSITY,     /* ASCII punctuation bytes / text bytes */
	CLS_F_UPPER_SHARE,       /* upper-case / ASCII letters */
	CLS_F_NONASCII_SHARE,    /* bytes >= 0x80 / text bytes */
	CLS_F_CAT_CODE,          /* log1p(weighted rule hits), one per enum ts_rule_cat */
	CLS_F_CAT_MATH,
	CLS_F_CAT_REASONING,
	CLS_F_CAT_LONGDOC,
	CLS_F_CAT_PII,
	CLS_F_CAT_INJECTION,
	CLS_F_CAT_SCRIPT,
	CLS_F_CAT_GREETING,
	CLS_F_CAT_TRANSLATE,
	CLS_F_CAT_REFORMAT,
	CLS_F_CAT_EXTRACT,
	CLS_F_CAT_CLASSIFY,
	CLS_F_CAT_CREATIVE,
	CLS_F_CAT_KNOWLEDGE,
	CLS_F_MAX_TOKENS,        /* log1p(max_tokens), 0 when absent */
	CLS_F_HAS_MAX_TOKENS,    /* 0/1 */
	CLS_F_TOOLS,             /* log1p(tools declared) */
	CLS_F_TOOL_CALLS,        /* log1p(assistant tool calls + tool messages) */
	CLS_F_IMAGES,            /* log1p(image parts) */
	CLS_F_AUDIO,             /* log1p(audio parts) */
	CLS_F_JSON_FORMAT,       /* 0/1: response_format json_object/json_schema */
	CLS_F_STREAM,            /* 0/1 */
	CLS_F_TEMPERATURE,       /* temperature, 1.0 when absent */
	CLS_F_QUESTIONS,         /* log1p('?' count) */
	CLS_F_LINES,             /* log1p(newline count) */
	CLS_F_WORDS,             /* log1p(whitespace-separated words) */
	CLS_F_AVG_WORD,          /* mean word length, bytes */
	CLS_F_LONGEST_WORD,      /* log1p(longest word, bytes, capped at 255) */
	CLS_F_COMPLETIONS,       /* 0/1: a /v1/completions prompt */
	CLS_NFEAT,
};

_Static_assert(CLS_F_CAT_KNOWLEDGE - CLS_F_CAT_CODE + 1 == TS_CAT_COUNT,
	       "one category feature per enum ts_rule_cat");

#define CLS_TOP_K 5             /* feature contributions kept in a decision */
#define CLS_MAX_RULES_HIT 16    /* distinct rule ids kept in a decision */
#define CLS_LONGEST_WORD_CAP 255 /* bytes */

/* Byte statistics of a text, computed in one pass (SIMD where available). */
struct cls_text_stats {
	uint64_t bytes;    /* bytes examined */
	uint64_t digits;   /* '0'..'9' */
	uint64_t upper;    /* 'A'..'Z' */
	uint64_t lower;    /* 'a'..'z' */
	uint64_t punct;    /* printable ASCII, not alphanumeric, not space */
	uint64_t code;     /* one of {}[];=<>_|`#~& */
	uint64_t math;     /* one of +*^=<>%$\/() */
	uint64_t nonascii; /* bytes >= 0x80 */
	uint64_t newlines; /* '\n' */
	uint64_t questions; /* '?' */
	uint64_t wbytes;   /* bytes > 0x20 (inside words) */
	uint64_t words;    /* maximal runs of bytes > 0x20 */
	uint32_t longest;  /* longest such run, bytes, capped at CLS_LONGEST_WORD_CAP */
	/* what the rule gates need (enum ts_rule_gate; cls_gates()) */
	uint64_t at;         /* '@' */
	uint32_t digit_run4; /* 1 when some run of '0'..'9' is >= TS_GATE_DIGIT_RUN bytes, else 0 */
};

/* Message roles as the feature extractor groups them. */
enum cls_role {
	CLS_ROLE_USER = 0,
	CLS_ROLE_SYSTEM = 1,    /* system and developer */
	CLS_ROLE_ASSISTANT = 2,
	CLS_ROLE_TOOL = 3,      /* tool and function results */
	CLS_ROLE_OTHER = 4,     /* unknown roles: counted in totals only */
	CLS_ROLE_COUNT = 5,
};

/* Feature accumulator over the texts of one request (lcore-local, on the stack). */
struct cls_feat_acc {
	uint64_t role_bytes[CLS_ROLE_COUNT]; /* bytes of text per role */
	uint32_t role_msgs[CLS_ROLE_COUNT];  /* messages per role */
	uint32_t messages;                   /* all messages (a prompt counts as one) */
	uint32_t cur_role;                   /* enum cls_role of the open message */
	uint64_t last_user_bytes;            /* bytes of the latest user message */
	struct cls_text_stats sum;           /* totals; longest = max over texts */
};

/* Request-level fields the features use, taken from the request view. */
struct cls_req_meta {
	uint64_t max_tokens;   /* max_tokens / max_completion_tokens */
	bool has_max_tokens;
	uint32_t tools;        /* tools declared */
	uint32_t tool_calls;   /* assistant tool calls + tool result messages */
	uint32_t images;       /* image parts, all messages */
	uint32_t audio;        /* audio parts, all messages */
	bool json_format;      /* response_format json_object or json_schema */
	bool stream;
	bool has_temperature;
	float temperature;
	bool completions;      /* a /v1/completions prompt rather than messages */
};

/* A rule as the classifier needs it; index == Hyperscan id. */
struct cls_rule {
	const char *id;    /* e.g. "code.fence"; borrowed from the image or caller */
	uint32_t category; /* enum ts_rule_cat */
	uint32_t action;   /* enum ts_rule_action */
	uint32_t verify;   /* enum ts_rule_verify */
	float weight;      /* per-hit contribution to its category count */
};

/*
 * Logistic scorer: p = sigmoid(bias + sum_i weight_i * (x_i - mean_i) / scale_i).
 * coef/offset are derived at build time so that the fast path computes
 * contribution_i = coef_i * x_i - offset_i with one multiply-subtract.
 */
struct cls_scorer {
	float bias;
	float threshold;          /* route FRONTIER when p_frontier >= threshold */
	float mean[CLS_NFEAT];
	float scale[CLS_NFEAT];   /* > 0 */
	float weight[CLS_NFEAT];
	float coef[CLS_NFEAT];    /* weight / scale */
	float offset[CLS_NFEAT];  /* weight * mean / scale */
};

struct cls_route {
	char model[TS_POLICY_NAME_MAX];    /* model name sent upstream, "" if none */
	char upstream[TS_POLICY_NAME_MAX]; /* upstream name, "" if none */
};

struct hs_database;

/* The classifier's immutable view of one policy. */
struct cls_policy {
	/*
	 * Block-mode databases by enum ts_rule_gate: [TS_GATE_NONE] the ungated
	 * rules, scanned on every text; [g] gate g's rules, scanned only on texts
	 * where the gate holds. NULL where there are none; borrowed (image) or owned.
	 */
	const struct hs_database *dbs[TS_GATE_COUNT];
	struct cls_rule *rules;       /* n_rules entries, owned */
	uint32_t n_rules;
	struct cls_scorer scorer;
	bool has_scorer;              /* false: neutral scorer (p = 0.5) */
	struct cls_route routes[TS_ROUTE_COUNT];
	uint64_t version;             /* policy version recorded in decisions */
	char name[TS_POLICY_NAME_MAX];
	bool owns_db;                 /* free dbs[] with the policy */
};

/* Per-rule hit bookkeeping of one scan; reset after each request. */
struct cls_scan_result {
	float cat[TS_CAT_COUNT];       /* weighted hits per category */
	uint32_t n_hit;                /* distinct rules hit (may exceed the list) */
	uint32_t hit_ids[CLS_MAX_RULES_HIT]; /* first distinct rules hit, in order */
	uint32_t hit_counts[CLS_MAX_RULES_HIT]; /* verified matches of hit_ids[i] */
	uint32_t matches;              /* verified matches, all rules */
	uint32_t dropped;              /* matches refused by a verifier */
	uint32_t action;               /* strongest overriding enum ts_rule_action */
	uint32_t action_rule;          /* rule index that set action, UINT32_MAX if none */
};

struct hs_scratch;

/* Per-lcore classifier context. Single writer: its lcore. */
struct cls_ctx {
	/* lcore-local, sized at init / policy swap */
	struct hs_scratch *scratch;  /* grown for every database attached */
	uint16_t *slot;              /* per rule: 1 + index into res.hit_ids, 0 = not hit */
	uint32_t n_slot;             /* entries in slot[] */
	/* lcore-local, per request */
	const struct cls_policy *pol; /* policy of the scan in progress */
	const uint8_t *text;          /* text being scanned (for verifiers) */
	uint32_t text_len;            /* bytes */
	uint32_t *overflow;           /* n_slot entries: rules hit beyond hit_ids[] */
	uint32_t n_overflow;          /* used entries of overflow[] */
	struct cls_scan_result res;
};

struct cls_contrib {
	uint32_t feat;      /* enum cls_feat */
	float value;        /* raw feature value x_i */
	float contrib;      /* weight_i * (x_i - mean_i) / scale_i */
};

enum cls_reason {
	CLS_REASON_SCORE = 0,          /* p_frontier against the threshold */
	CLS_REASON_FORCE_LOCAL = 1,    /* a force_local rule matched */
	CLS_REASON_FORCE_FRONTIER = 2, /* a force_frontier rule matched */
	CLS_REASON_BLOCK = 3,          /* a block rule matched */
};

/* One routing decision, with what is needed to explain it. */
struct cls_decision {
	uint32_t route;         /* enum ts_route */
	uint32_t reason;        /* enum cls_reason */
	uint32_t forced_by;     /* rule index behind a forced route, UINT32_MAX if none */
	float p_frontier;       /* always computed, also when a rule forced the route */
	float threshold;
	float logit;            /* bias + sum of contributions */
	uint64_t policy_version;
	struct cls_scan_result scan;
	uint32_t n_top;
	struct cls_contrib top[CLS_TOP_K]; /* by decreasing |contrib| */
	float x[CLS_NFEAT];     /* the feature vector */
};

#endif /* TWOSPEED_CLS_T_H */
