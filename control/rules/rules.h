/* SPDX-License-Identifier: proprietary */
/*
 * Rule files -> struct rules_set -> block-mode Hyperscan database, and the rule
 * cost linter. Control plane only (init, policy compile, tools); nothing here runs
 * on the packet path.
 *
 * Errors: every function that can fail returns 0 or -errno and writes one line
 * into err (when err != NULL and errlen > 0), in the form "file:line: reason"
 * when a rule is at fault (parse and Hyperscan compile errors alike).
 */
#ifndef TS_RULES_H
#define TS_RULES_H

#include <stddef.h>
#include <stdio.h>

#include <hs/hs.h>

#include "rules-t.h"

/* An empty set, or NULL when out of memory. */
struct rules_set *rules_set_new(void);
/* Frees the set and every string it owns; NULL is a no-op. */
void rules_set_free(struct rules_set *set);

/*
 * Parses rule text buf[0..len) (need not be NUL-terminated) and appends its
 * rules to set; name is used in errors and in rule->file. On error nothing is
 * appended. Returns 0, -EINVAL (bad rule text, err says where), -E2BIG (a bound
 * in rules-t.h exceeded), -ENOMEM.
 */
int rules_parse_buf(struct rules_set *set, const char *name, const char *buf, size_t len,
		    char *err, size_t errlen);
/* Reads one rule file (at most RULES_MAX_FILE_BYTES, else -EFBIG) and parses it as above. */
int rules_parse_file(struct rules_set *set, const char *path, char *err, size_t errlen);
/*
 * path is a rule file or a directory: for a directory, every regular file whose
 * name ends in ".rules" is parsed, in byte order of the names (so rule ids, and
 * Hyperscan ids, are stable). A directory without rule files is -ENOENT.
 */
int rules_parse_path(struct rules_set *set, const char *path, char *err, size_t errlen);

/* Lower-case names used in rule files; NULL when out of range. */
const char *rules_cat_name(uint32_t cat);
const char *rules_act_name(uint32_t act);
const char *rules_verify_name(uint32_t verify);
/* "none", "nonascii", "at", "digits" (enum ts_rule_gate); NULL when out of range. */
const char *rules_gate_name(uint32_t gate);
/* Whether gate holds for text[0..len) (TS_GATE_NONE always; unknown gates never). */
bool rules_gate_holds(uint32_t gate, const char *text, size_t len);
/* Writes the rule's flag letters (e.g. "iH") into buf; returns 0 or -ENOSPC. */
int rules_flags_str(uint32_t hs_flags, char *buf, size_t len);

/* Target names: "auto", "native", "avx2", "sse". */
const char *rules_target_name(enum rules_target t);
/* 0, or -EINVAL for an unknown name. */
int rules_target_from_name(const char *name, enum rules_target *t);
/* Fills plat for target t on this CPU. 0, -EINVAL, or -ENOTSUP (no Hyperscan
 * support for this CPU). */
int rules_platform(enum rules_target t, hs_platform_info_t *plat);

/*
 * Compiles every rule of set into one block-mode database, rule i as Hyperscan
 * id i, for plat (NULL: the RULES_TARGET_AUTO platform). *db is set only on
 * success; free it with hs_free_database(). Returns 0, -EINVAL (empty set, or a
 * pattern Hyperscan refuses: "file:line: hyperscan: message"), -ENOMEM.
 */
int rules_compile(const struct rules_set *set, const hs_platform_info_t *plat,
		  hs_database_t **db, char *err, size_t errlen);
/*
 * The databases of a gated policy: dbs[g] holds the rules whose gate is g
 * (dbs[TS_GATE_NONE] the ungated ones), each rule under its set index as
 * Hyperscan id; dbs[g] is NULL when no rule has gate g. Every entry is
 * written on success only; free each with hs_free_database(). Returns 0,
 * -EINVAL (empty set, a pattern Hyperscan refuses), -ENOMEM.
 */
int rules_compile_gated(const struct rules_set *set, const hs_platform_info_t *plat,
			hs_database_t *dbs[TS_GATE_COUNT], char *err, size_t errlen);
/* The same for rules [first, first + n) only: id k is rule first + k. */
int rules_compile_range(const struct rules_set *set, uint32_t first, uint32_t n,
			const hs_platform_info_t *plat, hs_database_t **db, char *err,
			size_t errlen);

/*
 * Shape check of one rule, no timing: true when the pattern has a shape known to
 * be expensive in Hyperscan; hint (if non-NULL) receives "reason; rewrite hint".
 */
bool rules_shape_bad(const struct rules_rule *rule, char *hint, size_t hintlen);

/*
 * The rule cost linter. Loads the corpus (a file = one text, a directory = one
 * text per regular file, dot files skipped), compiles each rule alone and scans
 * the corpus opts->reps times (median), then the whole set; prints to out
 *   file:line: id: cost N ns/KB [flag: reason; hint]
 * one line per rule, most expensive first (", marginal N ns/KB" added with
 * opts->marginal), followed by "# " summary lines (target, corpus, a baseline
 * literal timed in the same run, set cost in ns/KB and ns per 2 KB prompt, and
 * per-target costs with opts->compare_targets). A rule is flagged when its
 * cost (alone, or marginal when larger) exceeds opts->max_ns_per_kb or
 * opts->max_share of the set's cost, or its shape is known to be bad. opts may
 * be NULL (defaults). corpus_path may be NULL with opts->static_only. Timing is
 * thread CPU time; the call takes about reps * (n + 1) corpus scans plus n + 1
 * compiles (n more of each with marginal).
 * With gated rules (rule->gate) it also checks the gate promise on the corpus:
 * each gate's rules are scanned over every text where the gate is off and over
 * a gate-off copy of the others; a rule that matches gets one
 *   file:line: id: error: gate=G but it matches ...
 * line and counts as flagged; and it prints "# gated set cost" (the ungated
 * database on every text, each gate's database where the gate holds).
 * Errors are also printed to out as one "# error: reason" line.
 * Returns the number of flagged rules (>= 0), or -errno (-EINVAL for an empty set
 * or a rule that does not compile, -ENOENT/-EIO for the corpus, -E2BIG for a
 * corpus over RULES_CORPUS_* bounds, -ENOMEM).
 */
int rules_lint(const struct rules_set *set, const char *corpus_path,
	       const struct rules_lint_opts *opts, FILE *out);

#endif /* TS_RULES_H */
