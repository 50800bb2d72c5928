/* SPDX-License-Identifier: proprietary */
/*
 * Policy image format: the contract between the policy compiler (control/policy,
 * tools/policy) and every reader (dataplane/policy, the offline tools).
 *
 * An image is one self-contained, position-independent byte string:
 *
 *   struct ts_policy_hdr                      (fixed size, offset 0)
 *   section payloads, each 64-byte aligned    (located by hdr.sec[])
 *
 * Everything is little-endian (x86-64 only) and holds no pointers: a section is
 * found by (offset, length) from the start of the image, strings by offsets
 * into the STRINGS section. The checksum is XXH3_64bits over bytes
 * [sizeof(struct ts_policy_hdr), hdr.length). That leaves the header itself
 * (policy version, name, section table) uncovered, so from ABI 1.1 the
 * HDRSUM section carries XXH3_64bits of the header as written with its
 * checksum field zero; being payload, it is covered by the checksum in turn.
 * Writers compute HDRSUM first, then the checksum; every 2.x image has one.
 * A reader refuses an image whose magic, ABI major, length, checksums, section
 * bounds, section alignment or section contents do not validate; a refused
 * image never replaces a good one.
 *
 * ABI rules: ts_policy_hdr.abi_major changes when a reader of the old major
 * cannot read the new layout; abi_minor grows when sections or trailing fields
 * are added that old readers may ignore.
 *
 * ABI 2.0 (from 1.1): gated rule databases. Rules with a gate (enum
 * ts_rule_gate) are compiled into one HSDB_GATED section per gate instead of
 * the HSDB section. A 1.x reader would skip the unknown sections and silently
 * never match those rules (personal data such as e-mail addresses), which is
 * not "ignoring" safely, hence a new major: a 1.x reader refuses a 2.x image.
 */
#ifndef TWOSPEED_POLICY_T_H
#define TWOSPEED_POLICY_T_H

#include <stdint.h>

#define TS_POLICY_MAGIC 0x4c505354u /* "TSPL" read as a little-endian u32 */
#define TS_POLICY_ABI_MAJOR 2 /* 2: HSDB_GATED sections (1.1 added HDRSUM) */
#define TS_POLICY_ABI_MINOR 0
#define TS_POLICY_ALIGN 64u /* every section offset is a multiple of this */
#define TS_POLICY_SEC_MAX 16
#define TS_POLICY_NAME_MAX 64

/* Section types. Unknown types are skipped by readers (abi_minor growth). */
enum ts_policy_sec_type {
	TS_POLSEC_NONE = 0,
	TS_POLSEC_STRINGS = 1, /* NUL-terminated strings, referenced by offset */
	TS_POLSEC_HSDB = 2,    /* hs_serialize_database() output, block mode: the ungated rules */
	TS_POLSEC_RULES = 3,   /* struct ts_policy_rule[n], index = hyperscan id */
	TS_POLSEC_SCORER = 4,  /* struct ts_policy_scorer + arrays */
	TS_POLSEC_ROUTES = 5,  /* struct ts_policy_route[TS_ROUTE_COUNT] */
	TS_POLSEC_TENANTS = 6, /* reserved: tenant key hashes */
	TS_POLSEC_HDRSUM = 7,  /* ABI 1.1: uint64_t XXH3_64bits of the header, checksum = 0 */
	TS_POLSEC_HSDB_GATED = 8, /* ABI 2.0: like HSDB, the rules of one gate; count = the
				   * enum ts_rule_gate (never NONE), at most one per gate */
};

/*
 * Rule gates. A gated rule is scanned only when its gate holds for the text
 * (the classifier reads the gates off the byte statistics it computes
 * anyway); the rule's author asserts the rule cannot match otherwise, and the
 * rule linter checks that on its corpus. A rule that costs scan time on every
 * text but can only match texts with a rare byte ('@' for e-mail addresses)
 * costs it behind a gate only on texts that hold that byte.
 * An image holds the ungated rules in HSDB and each gate's rules in one
 * HSDB_GATED section; the Hyperscan id of a rule is its RULES index in every
 * database. The HSDB section may be absent when every rule is gated.
 */
enum ts_rule_gate {
	TS_GATE_NONE = 0,     /* always scanned */
	TS_GATE_NONASCII = 1, /* the text has a byte >= 0x80 */
	TS_GATE_AT = 2,       /* the text has an '@' */
	TS_GATE_DIGITS = 3,   /* the text has a run of >= TS_GATE_DIGIT_RUN ASCII digits */
	TS_GATE_COUNT = 4,
};

#define TS_GATE_DIGIT_RUN 4 /* bytes: '0'..'9' in a row that open TS_GATE_DIGITS */

struct ts_policy_sec {
	uint32_t type;   /* enum ts_policy_sec_type */
	uint32_t count;  /* number of entries, meaning per type */
	uint64_t offset; /* bytes from image start, TS_POLICY_ALIGN aligned */
	uint64_t length; /* bytes */
};

struct ts_policy_hdr {
	uint32_t magic;          /* TS_POLICY_MAGIC */
	uint16_t abi_major;      /* TS_POLICY_ABI_MAJOR */
	uint16_t abi_minor;      /* TS_POLICY_ABI_MINOR */
	uint64_t length;         /* bytes, whole image including this header */
	uint64_t checksum;       /* XXH3_64bits of [sizeof(hdr), length) */
	uint64_t policy_version; /* monotonic, chosen by the compiler's caller */
	uint64_t created_unix;   /* seconds since the epoch, informational */
	uint32_t n_sec;          /* used entries of sec[] */
	uint32_t flags;          /* reserved, 0 */
	char name[TS_POLICY_NAME_MAX]; /* NUL-terminated label, e.g. "default" */
	struct ts_policy_sec sec[TS_POLICY_SEC_MAX];
};

/*
 * Rule categories. The feature extractor counts hits per category, so this
 * list is part of the feature vector: append only, and bump abi_major if an
 * existing value changes meaning. Rule files name them in lower case
 * ("code", "math", ...).
 */
enum ts_rule_cat {
	TS_CAT_CODE = 0,       /* source code, stack traces, shell, SQL */
	TS_CAT_MATH = 1,       /* arithmetic, algebra, LaTeX, proofs */
	TS_CAT_REASONING = 2,  /* multi-step reasoning, planning, comparison */
	TS_CAT_LONGDOC = 3,    /* long-document analysis, summarise this report */
	TS_CAT_PII = 4,        /* emails, phones, card numbers, national ids */
	TS_CAT_INJECTION = 5,  /* prompt injection and jailbreak phrases */
	TS_CAT_SCRIPT = 6,     /* non-Latin scripts */
	TS_CAT_GREETING = 7,   /* hello, thanks, small talk */
	TS_CAT_TRANSLATE = 8,  /* short translation requests */
	TS_CAT_REFORMAT = 9,   /* rewrite, reformat, fix grammar, convert format */
	TS_CAT_EXTRACT = 10,   /* extract fields, list the names in */
	TS_CAT_CLASSIFY = 11,  /* sentiment, label, categorise */
	TS_CAT_CREATIVE = 12,  /* write a story/poem/joke */
	TS_CAT_KNOWLEDGE = 13, /* expert-domain knowledge cues (law, medicine, ...) */
	TS_CAT_COUNT = 14,
};

/* What a rule does when it matches. */
enum ts_rule_action {
	TS_ACT_SCORE = 0,          /* counts toward its category feature only */
	TS_ACT_FORCE_LOCAL = 1,    /* route LOCAL whatever the score */
	TS_ACT_FORCE_FRONTIER = 2, /* route FRONTIER whatever the score */
	TS_ACT_BLOCK = 3,          /* refuse the request */
	TS_ACT_COUNT = 4,
};

/*
 * A post-match check for what a regular expression cannot express. The
 * scanner runs it on the bytes ending at the match's end offset and drops the
 * match when it fails.
 */
enum ts_rule_verify {
	TS_VERIFY_NONE = 0,
	TS_VERIFY_LUHN = 1, /* the 13-19 digits (spaces/dashes allowed) ending here pass Luhn */
	TS_VERIFY_SSN = 2,  /* the NNN-NN-NNNN ending here is a possible US SSN (ABI 2.0) */
	TS_VERIFY_COUNT = 3,
};

/* Precedence when several overriding rules match: BLOCK > FORCE_FRONTIER >
 * FORCE_LOCAL > score. */

/* One rule; entry i has hyperscan id i. */
struct ts_policy_rule {
	uint32_t id_off;   /* STRINGS offset of the rule id, e.g. "code.fence" */
	uint32_t category; /* enum ts_rule_cat */
	uint32_t action;   /* enum ts_rule_action */
	uint32_t hs_flags; /* HS_FLAG_* it was compiled with */
	float weight;      /* per-hit contribution to its category count */
	uint32_t verify;   /* enum ts_rule_verify: check run on each match */
};

/* Routes a decision can take. */
enum ts_route {
	TS_ROUTE_LOCAL = 0,
	TS_ROUTE_FRONTIER = 1,
	TS_ROUTE_CACHE = 2,
	TS_ROUTE_BLOCK = 3,
	TS_ROUTE_COUNT = 4,
};

struct ts_policy_route {
	uint32_t route;          /* enum ts_route, equal to its index */
	uint32_t model_off;      /* STRINGS offset: model name sent upstream */
	uint32_t upstream_off;   /* STRINGS offset: upstream name, "" if none */
	uint32_t reserved;       /* 0 */
	double usd_per_mtok_in;  /* price of 1e6 prompt tokens, USD */
	double usd_per_mtok_out; /* price of 1e6 completion tokens, USD */
};

/* Scorer kinds. */
enum ts_scorer_kind {
	TS_SCORER_LOGISTIC = 0, /* p = sigmoid(bias + sum w_i * (x_i - mean_i) / scale_i) */
	TS_SCORER_COUNT = 1,
};

/*
 * SCORER section: this header, then n_features of each array in this order:
 *   uint32_t name_off[n]  STRINGS offsets of feature names
 *   float    mean[n]
 *   float    scale[n]     (> 0)
 *   float    weight[n]
 * A reader checks n_features and every name against its own feature
 * extractor's list and refuses a mismatch (so a scorer trained on another
 * feature set can never be applied silently).
 */
struct ts_policy_scorer {
	uint32_t kind;       /* enum ts_scorer_kind */
	uint32_t n_features; /* entries in each array that follows */
	float bias;
	float threshold;     /* route FRONTIER when p_frontier >= threshold */
};

#endif /* TWOSPEED_POLICY_T_H */
