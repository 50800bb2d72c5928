/* SPDX-License-Identifier: proprietary */
/*
 * Rule sets: the parsed form of the conf/rules/ rule files (format in conf/rules/README.md).
 * Control plane only: the policy compiler turns a set into the RULES section of a
 * policy image (include/twospeed/policy-t.h) and a Hyperscan database in which
 * rule i has Hyperscan id i.
 */
#ifndef TS_RULES_T_H
#define TS_RULES_T_H

#include <stdbool.h>
#include <stdint.h>

#include <twospeed/policy-t.h>

/* Bounds: a rule file that exceeds one of them is refused with file:line. */
#define RULES_MAX_RULES 4096u          /* rules in one set, over all files */
#define RULES_MAX_LINE 4096u           /* bytes in one line, without the newline */
#define RULES_MAX_PATTERN 2048u        /* bytes between the pattern's slashes */
#define RULES_ID_MAX 64u               /* bytes of a rule id including the NUL */
#define RULES_MAX_FILES 256u           /* files (or buffers) feeding one set */
#define RULES_MAX_FILE_BYTES (8u << 20) /* bytes of one rule file */
#define RULES_MAX_OFFSET (1u << 24)    /* bytes, bound for min_len/min_off/max_off */
#define RULES_WEIGHT_MAX 100.0         /* weights are finite and in [0, this] */

/* Optional per-rule Hyperscan extended parameters (hs_expr_ext_t). */
enum rules_ext {
	RULES_EXT_MIN_LEN = 1u << 0, /* min_len=N: matches shorter than N bytes are dropped */
	RULES_EXT_MIN_OFF = 1u << 1, /* min_off=N: match must end at offset >= N */
	RULES_EXT_MAX_OFF = 1u << 2, /* max_off=N: match must end at offset <= N */
};

/* One parsed rule. Strings are owned by the set. */
struct rules_rule {
	char id[RULES_ID_MAX]; /* unique in the set, dotted: "code.fence" */
	uint32_t category;     /* enum ts_rule_cat */
	uint32_t action;       /* enum ts_rule_action */
	uint32_t verify;       /* enum ts_rule_verify */
	uint32_t gate;         /* enum ts_rule_gate: scanned only when it holds for the text */
	uint32_t hs_flags;     /* HS_FLAG_* from the /flags suffix */
	float weight;          /* per-hit contribution to the category count, [0, 100] */
	uint32_t ext;          /* enum rules_ext bits in use */
	uint64_t min_len;      /* bytes, valid with RULES_EXT_MIN_LEN */
	uint64_t min_off;      /* bytes, valid with RULES_EXT_MIN_OFF */
	uint64_t max_off;      /* bytes, valid with RULES_EXT_MAX_OFF */
	char *pattern;         /* NUL-terminated, between the slashes, never empty */
	const char *file;      /* file (or buffer) name, owned by the set */
	uint32_t line;         /* 1-based line in file */
};

/*
 * A parsed rule set. rules[i] becomes Hyperscan id i. Parsing appends; a failed
 * parse call leaves the set exactly as it was before the call.
 */
struct rules_set {
	struct rules_rule *rules; /* n used entries of cap */
	uint32_t n;
	uint32_t cap;
	char **files;             /* names of the files parsed so far */
	uint32_t n_files;
	uint32_t *idx;            /* open-addressing id hash: rule index + 1, 0 = empty */
	uint32_t idx_cap;         /* slots in idx, a power of two */
};

/*
 * Hyperscan compile targets. All are derived from the running CPU
 * (hs_populate_platform) with features masked off, so a database compiled for
 * any of them scans on this machine. AUTO is the target measured fastest for the
 * shipped rule set (tools/policy/lint-notes.md).
 */
enum rules_target {
	RULES_TARGET_AUTO = 0,   /* the measured default */
	RULES_TARGET_NATIVE = 1, /* every feature of this CPU, its tune family */
	RULES_TARGET_AVX2 = 2,   /* native without AVX-512 */
	RULES_TARGET_SSE = 3,    /* native without AVX2 and AVX-512 (SSE4.2 baseline) */
	RULES_TARGET_COUNT = 4,
};

/* Options of rules_lint(); zero-initialised means the defaults below. */
struct rules_lint_opts {
	uint32_t reps;        /* timed passes over the corpus, median taken; 0 = 9 */
	double max_ns_per_kb; /* flag a rule costing more alone; 0 = RULES_LINT_MAX_NS_PER_KB */
	double max_share;     /* flag a rule whose alone cost exceeds this fraction of the
			       * whole set's cost; 0 = RULES_LINT_MAX_SHARE */
	enum rules_target target; /* compile target for every measurement */
	bool static_only;     /* skip timing: report shape findings only (no corpus needed) */
	bool compare_targets; /* also time the whole set on every target */
	bool marginal;        /* also time the set without each rule (n + 1 compiles of the
			       * whole set): what a rule really adds, interactions included */
};

#define RULES_LINT_REPS 9u
#define RULES_LINT_MAX_NS_PER_KB 250.0 /* ~0.5 us per 2 KB prompt for one rule alone */
#define RULES_LINT_MAX_SHARE 0.30

/* Corpus bounds for rules_lint(). */
#define RULES_CORPUS_MAX_DOCS 4096u
#define RULES_CORPUS_MAX_DOC_BYTES (1u << 20)
#define RULES_CORPUS_MAX_BYTES (64u << 20)

#endif /* TS_RULES_T_H */
