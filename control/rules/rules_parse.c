/* SPDX-License-Identifier: proprietary */
/*
 * Rule file parser: text -> struct rules_set. Control plane only.
 *
 * Line grammar (conf/rules/README.md has the user-facing version):
 *   line    = ws* ( comment | rule )? ws*
 *   comment = '#' any*
 *   rule    = id ws+ category ws+ action ws+ weight (ws+ option)* ws+ '/' pattern '/' flags
 *   option  = key '=' value          (no spaces, never starts with '/')
 * The pattern runs from the first '/' after the weight and options to the LAST
 * '/' on the line, so it may hold spaces and slashes without escaping; flags are
 * the letters after that last slash. A '#' after the pattern is part of the
 * flags (and so an error): comments are whole lines only, because '#' is a
 * legal pattern byte.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <hs/hs.h>

#include "cls.h"
#include "pol.h"
#include "rules.h"
#include "rules_priv.h"
#include "tserr.h"
#include "tsfile.h"

static const char *const cat_names[TS_CAT_COUNT] = {
	[TS_CAT_CODE] = "code",
	[TS_CAT_MATH] = "math",
	[TS_CAT_REASONING] = "reasoning",
	[TS_CAT_LONGDOC] = "longdoc",
	[TS_CAT_PII] = "pii",
	[TS_CAT_INJECTION] = "injection",
	[TS_CAT_SCRIPT] = "script",
	[TS_CAT_GREETING] = "greeting",
	[TS_CAT_TRANSLATE] = "translate",
	[TS_CAT_REFORMAT] = "reformat",
	[TS_CAT_EXTRACT] = "extract",
	[TS_CAT_CLASSIFY] = "classify",
	[TS_CAT_CREATIVE] = "creative",
	[TS_CAT_KNOWLEDGE] = "knowledge",
};

static const char *const act_names[TS_ACT_COUNT] = {
	[TS_ACT_SCORE] = "score",
	[TS_ACT_FORCE_LOCAL] = "force_local",
	[TS_ACT_FORCE_FRONTIER] = "force_frontier",
	[TS_ACT_BLOCK] = "block",
};

static const char *const verify_names[TS_VERIFY_COUNT] = {
	[TS_VERIFY_NONE] = "none",
	[TS_VERIFY_LUHN] = "luhn",
	[TS_VERIFY_SSN] = "ssn",
};

/*
 * Flag letters, as in Hyperscan's own tools (hscheck, hsbench) where they
 * exist. 'u' is accepted as a synonym of '8' because the rest of the world
 * spells "UTF-8 mode" that way. HS_FLAG_ALLOWEMPTY, PREFILTER, COMBINATION and
 * QUIET are refused on purpose: an empty match fires at every offset, a
 * prefilter match is not a match, and combinations need ids we do not assign.
 */
static const struct {
	char letter;
	uint32_t flag;
} flag_letters[] = {
	{'i', HS_FLAG_CASELESS}, {'s', HS_FLAG_DOTALL},     {'m', HS_FLAG_MULTILINE},
	{'H', HS_FLAG_SINGLEMATCH}, {'8', HS_FLAG_UTF8},    {'u', HS_FLAG_UTF8},
	{'W', HS_FLAG_UCP},      {'L', HS_FLAG_SOM_LEFTMOST},
};

const char *rules_cat_name(uint32_t cat)
{
	return cat < TS_CAT_COUNT ? cat_names[cat] : NULL;
}

const char *rules_act_name(uint32_t act)
{
	return act < TS_ACT_COUNT ? act_names[act] : NULL;
}

const char *rules_verify_name(uint32_t verify)
{
	return verify < TS_VERIFY_COUNT ? verify_names[verify] : NULL;
}

const char *rules_gate_name(uint32_t gate)
{
	return pol_gate_name(gate);
}

/*
 * The gate predicates exactly as the classifier evaluates them (its byte
 * statistics and cls_gates()), so that what the linter checks is what the
 * dataplane does.
 */
bool rules_gate_holds(uint32_t gate, const char *text, size_t len)
{
	struct cls_text_stats st;

	if (gate >= TS_GATE_COUNT)
		return false;
	cls_text_stats((const uint8_t *)text, len, &st);
	return (cls_gates(&st) >> gate) & 1u;
}

int rules_flags_str(uint32_t hs_flags, char *buf, size_t len)
{
	size_t n = 0;

	if (len == 0)
		return -ENOSPC;
	for (size_t i = 0; i < sizeof(flag_letters) / sizeof(flag_letters[0]); i++) {
		if (flag_letters[i].letter == 'u' || !(hs_flags & flag_letters[i].flag))
			continue;
		if (n + 1 >= len) {
			buf[0] = '\0';
			return -ENOSPC;
		}
		buf[n++] = flag_letters[i].letter;
	}
	buf[n] = '\0';
	return 0;
}

struct rules_set *rules_set_new(void)
{
	return calloc(1, sizeof(struct rules_set));
}

void rules_set_free(struct rules_set *set)
{
	if (set == NULL)
		return;
	for (uint32_t i = 0; i < set->n; i++)
		free(set->rules[i].pattern);
	for (uint32_t i = 0; i < set->n_files; i++)
		free(set->files[i]);
	free(set->rules);
	free(set->files);
	free(set->idx);
	free(set);
}

/* FNV-1a: parse-time only, ids are short and chosen by the operator. */
static uint32_t id_hash(const char *id)
{
	uint32_t h = 2166136261u;

	for (; *id != '\0'; id++)
		h = (h ^ (uint8_t)*id) * 16777619u;
	return h;
}

/* Index of the rule named id, or -1. */
static int64_t idx_find(const struct rules_set *set, const char *id)
{
	if (set->idx_cap == 0)
		return -1;
	for (uint32_t h = id_hash(id) & (set->idx_cap - 1);; h = (h + 1) & (set->idx_cap - 1)) {
		uint32_t v = set->idx[h];

		if (v == 0)
			return -1;
		if (strcmp(set->rules[v - 1].id, id) == 0)
			return v - 1;
	}
}

static void idx_put(struct rules_set *set, uint32_t i)
{
	uint32_t h = id_hash(set->rules[i].id) & (set->idx_cap - 1);

	while (set->idx[h] != 0)
		h = (h + 1) & (set->idx_cap - 1);
	set->idx[h] = i + 1;
}

/* Removes rules [n, set->n) and rebuilds the id index: the rollback of a failed parse. */
static void set_truncate(struct rules_set *set, uint32_t n)
{
	for (uint32_t i = n; i < set->n; i++) {
		free(set->rules[i].pattern);
		set->rules[i].pattern = NULL;
	}
	set->n = n;
	if (set->idx_cap == 0)
		return;
	memset(set->idx, 0, set->idx_cap * sizeof(set->idx[0]));
	for (uint32_t i = 0; i < n; i++)
		idx_put(set, i);
}

/* Room for one more rule; the index stays at most half full. */
static int set_reserve(struct rules_set *set)
{
	if (set->n == set->cap) {
		uint32_t cap = set->cap ? set->cap * 2 : 64;
		struct rules_rule *r;

		if (cap > RULES_MAX_RULES)
			cap = RULES_MAX_RULES;
		r = realloc(set->rules, cap * sizeof(*r));
		if (r == NULL)
			return -ENOMEM;
		set->rules = r;
		set->cap = cap;
	}
	if ((set->n + 1) * 2 > set->idx_cap) {
		uint32_t cap = set->idx_cap ? set->idx_cap * 2 : 128;
		uint32_t *idx = calloc(cap, sizeof(*idx));

		if (idx == NULL)
			return -ENOMEM;
		free(set->idx);
		set->idx = idx;
		set->idx_cap = cap;
		for (uint32_t i = 0; i < set->n; i++)
			idx_put(set, i);
	}
	return 0;
}

/* One line being parsed: [p, end) with the position for errors. */
struct line_ctx {
	const char *file;
	uint32_t line;
	char *err;
	size_t errlen;
};

#define LERR(lc, ...)                                                                           \
	do {                                                                                    \
		char msg_[256];                                                                 \
		snprintf(msg_, sizeof(msg_), __VA_ARGS__);                                      \
		tserr((lc)->err, (lc)->errlen, "%s:%u: %s", (lc)->file, (lc)->line, msg_);       \
	} while (0)

static bool is_ws(char c)
{
	return c == ' ' || c == '\t';
}

/* Next whitespace-separated token in [*p, end): returns its length, 0 at end. */
static size_t next_token(const char **p, const char *end, const char **tok)
{
	const char *s = *p;
	const char *e;

	while (s < end && is_ws(*s))
		s++;
	e = s;
	while (e < end && !is_ws(*e))
		e++;
	*tok = s;
	*p = e;
	return (size_t)(e - s);
}

/* Quotes a token for an error message, cut to a readable length. */
static const char *show(const char *tok, size_t n, char *buf, size_t len)
{
	size_t k = n < len - 1 ? n : len - 1;

	for (size_t i = 0; i < k; i++)
		buf[i] = isprint((unsigned char)tok[i]) ? tok[i] : '?';
	buf[k] = '\0';
	return buf;
}

static bool tok_eq(const char *tok, size_t n, const char *s)
{
	return strlen(s) == n && memcmp(tok, s, n) == 0;
}

/* Ids: lower-case segments of [a-z0-9_-] joined by single dots. */
static bool id_valid(const char *tok, size_t n)
{
	bool seg_empty = true;

	if (n == 0 || n >= RULES_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = tok[i];

		if (c == '.') {
			if (seg_empty)
				return false;
			seg_empty = true;
		} else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-') {
			seg_empty = false;
		} else {
			return false;
		}
	}
	return !seg_empty;
}

/* Decimal u64 in [0, RULES_MAX_OFFSET]; false on anything else. */
static bool parse_offset(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;

	if (n == 0 || n > 9)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > RULES_MAX_OFFSET)
		return false;
	*out = v;
	return true;
}

static int parse_option(struct line_ctx *lc, struct rules_rule *r, const char *tok, size_t n)
{
	const char *eq = memchr(tok, '=', n);
	char buf[64];
	size_t klen;
	const char *val;
	size_t vlen;

	if (eq == NULL) {
		LERR(lc, "expected key=value option or /pattern/, got '%s'", show(tok, n, buf, 40));
		return -EINVAL;
	}
	klen = (size_t)(eq - tok);
	val = eq + 1;
	vlen = n - klen - 1;
	if (tok_eq(tok, klen, "verify")) {
		if (r->verify != TS_VERIFY_NONE) {
			LERR(lc, "duplicate option 'verify'");
			return -EINVAL;
		}
		for (uint32_t v = 1; v < TS_VERIFY_COUNT; v++)
			if (tok_eq(val, vlen, verify_names[v]))
				r->verify = v;
		if (r->verify == TS_VERIFY_NONE) {
			LERR(lc, "unknown verifier '%s'", show(val, vlen, buf, 40));
			return -EINVAL;
		}
		return 0;
	}
	if (tok_eq(tok, klen, "gate")) {
		if (r->gate != TS_GATE_NONE) {
			LERR(lc, "duplicate option 'gate'");
			return -EINVAL;
		}
		/* "none" is not accepted: an ungated rule simply has no gate= option */
		for (uint32_t g = 1; g < TS_GATE_COUNT; g++)
			if (tok_eq(val, vlen, pol_gate_name(g)))
				r->gate = g;
		if (r->gate == TS_GATE_NONE) {
			LERR(lc, "unknown gate '%s' (nonascii, at, digits)", show(val, vlen, buf, 40));
			return -EINVAL;
		}
		return 0;
	}

	uint32_t bit;
	uint64_t *dst;

	if (tok_eq(tok, klen, "min_len")) {
		bit = RULES_EXT_MIN_LEN;
		dst = &r->min_len;
	} else if (tok_eq(tok, klen, "min_off")) {
		bit = RULES_EXT_MIN_OFF;
		dst = &r->min_off;
	} else if (tok_eq(tok, klen, "max_off")) {
		bit = RULES_EXT_MAX_OFF;
		dst = &r->max_off;
	} else {
		LERR(lc, "unknown option '%s'", show(tok, klen, buf, 40));
		return -EINVAL;
	}
	if (r->ext & bit) {
		LERR(lc, "duplicate option '%s'", show(tok, klen, buf, 40));
		return -EINVAL;
	}
	if (!parse_offset(val, vlen, dst)) {
		LERR(lc, "bad value for '%s': want an integer in [0, %u]", show(tok, klen, buf, 40),
		     RULES_MAX_OFFSET);
		return -EINVAL;
	}
	r->ext |= bit;
	return 0;
}

static int parse_flags(struct line_ctx *lc, struct rules_rule *r, const char *s, const char *end)
{
	for (; s < end; s++) {
		uint32_t f = 0;

		for (size_t i = 0; i < sizeof(flag_letters) / sizeof(flag_letters[0]); i++)
			if (flag_letters[i].letter == *s)
				f = flag_letters[i].flag;
		if (f == 0) {
			if (isprint((unsigned char)*s))
				LERR(lc, "bad flag '%c'", *s);
			else
				LERR(lc, "bad flag byte 0x%02x", (unsigned char)*s);
			return -EINVAL;
		}
		if (r->hs_flags & f) {
			LERR(lc, "duplicate flag '%c'", *s);
			return -EINVAL;
		}
		r->hs_flags |= f;
	}
	return 0;
}

/*
 * Parses one non-empty, non-comment line [p, end) (trailing blanks already
 * removed) into set->rules[set->n] and commits it.
 */
static int parse_rule(struct rules_set *set, struct line_ctx *lc, const char *p, const char *end)
{
	struct rules_rule r;
	const char *tok;
	size_t n;
	char buf[64];
	int rc;

	memset(&r, 0, sizeof(r));
	r.file = set->files[set->n_files - 1];
	r.line = lc->line;

	n = next_token(&p, end, &tok);
	if (!id_valid(tok, n)) {
		LERR(lc, "bad rule id '%s': want dotted lower-case [a-z0-9_-] segments, < %u bytes",
		     show(tok, n, buf, 40), RULES_ID_MAX);
		return -EINVAL;
	}
	memcpy(r.id, tok, n);
	r.id[n] = '\0';

	n = next_token(&p, end, &tok);
	if (n == 0) {
		LERR(lc, "missing category");
		return -EINVAL;
	}
	r.category = TS_CAT_COUNT;
	for (uint32_t c = 0; c < TS_CAT_COUNT; c++)
		if (tok_eq(tok, n, cat_names[c]))
			r.category = c;
	if (r.category == TS_CAT_COUNT) {
		LERR(lc, "unknown category '%s'", show(tok, n, buf, 40));
		return -EINVAL;
	}

	n = next_token(&p, end, &tok);
	if (n == 0) {
		LERR(lc, "missing action");
		return -EINVAL;
	}
	r.action = TS_ACT_COUNT;
	for (uint32_t a = 0; a < TS_ACT_COUNT; a++)
		if (tok_eq(tok, n, act_names[a]))
			r.action = a;
	if (r.action == TS_ACT_COUNT) {
		LERR(lc, "unknown action '%s'", show(tok, n, buf, 40));
		return -EINVAL;
	}

	n = next_token(&p, end, &tok);
	if (n == 0 || *tok == '/') {
		LERR(lc, "missing weight");
		return -EINVAL;
	}
	{
		char num[32];
		char *e;
		double w;

		if (n >= sizeof(num)) {
			LERR(lc, "bad weight '%s'", show(tok, n, buf, 40));
			return -EINVAL;
		}
		memcpy(num, tok, n);
		num[n] = '\0';
		errno = 0;
		w = strtod(num, &e);
		/* Plain decimal only: strtod also takes "inf", "nan" and hex floats. */
		if (e != num + n || errno != 0 || !isfinite(w) || w < 0.0 ||
		    w > RULES_WEIGHT_MAX || strpbrk(num, "xXnNiI") != NULL) {
			LERR(lc, "bad weight '%s': want a decimal number in [0, %g]",
			     show(tok, n, buf, 40), RULES_WEIGHT_MAX);
			return -EINVAL;
		}
		r.weight = (float)w;
	}

	/* Options until the pattern's opening slash. */
	for (;;) {
		while (p < end && is_ws(*p))
			p++;
		if (p == end) {
			LERR(lc, "missing pattern");
			return -EINVAL;
		}
		if (*p == '/')
			break;
		n = next_token(&p, end, &tok);
		rc = parse_option(lc, &r, tok, n);
		if (rc < 0)
			return rc;
	}

	const char *open = p;
	const char *close = end - 1;

	while (close > open && *close != '/')
		close--;
	if (close == open) {
		LERR(lc, "unterminated pattern: no closing '/'");
		return -EINVAL;
	}
	if (close == open + 1) {
		LERR(lc, "empty pattern");
		return -EINVAL;
	}
	if ((size_t)(close - open - 1) > RULES_MAX_PATTERN) {
		LERR(lc, "pattern too long (%zu bytes, max %u)", (size_t)(close - open - 1),
		     RULES_MAX_PATTERN);
		return -E2BIG;
	}
	rc = parse_flags(lc, &r, close + 1, end);
	if (rc < 0)
		return rc;
	if (r.verify != TS_VERIFY_NONE && (r.hs_flags & HS_FLAG_SINGLEMATCH)) {
		/* The verifier drops failing matches; with H a failing first match
		 * would hide a valid later one. */
		LERR(lc, "verify=%s needs every match: drop the H flag", verify_names[r.verify]);
		return -EINVAL;
	}
	if ((r.ext & RULES_EXT_MIN_OFF) && (r.ext & RULES_EXT_MAX_OFF) && r.min_off > r.max_off) {
		LERR(lc, "min_off %llu is above max_off %llu", (unsigned long long)r.min_off,
		     (unsigned long long)r.max_off);
		return -EINVAL;
	}

	if (idx_find(set, r.id) >= 0) {
		const struct rules_rule *o = &set->rules[idx_find(set, r.id)];

		LERR(lc, "duplicate rule id '%s' (first at %s:%u)", r.id, o->file, o->line);
		return -EINVAL;
	}
	if (set->n >= RULES_MAX_RULES) {
		LERR(lc, "too many rules (max %u)", RULES_MAX_RULES);
		return -E2BIG;
	}
	rc = set_reserve(set);
	if (rc < 0) {
		LERR(lc, "out of memory");
		return rc;
	}
	r.pattern = strndup(open + 1, (size_t)(close - open - 1));
	if (r.pattern == NULL) {
		LERR(lc, "out of memory");
		return -ENOMEM;
	}
	set->rules[set->n] = r;
	idx_put(set, set->n);
	set->n++;
	return 0;
}

int rules_parse_buf(struct rules_set *set, const char *name, const char *buf, size_t len,
		    char *err, size_t errlen)
{
	struct line_ctx lc = {.file = name, .line = 0, .err = err, .errlen = errlen};
	uint32_t n0 = set->n;
	const char *p = buf;
	const char *end = buf + len;
	char *fname;
	char **files;
	int rc = 0;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (name == NULL)
		name = lc.file = "<buffer>";
	if (set->n_files >= RULES_MAX_FILES) {
		tserr(err, errlen, "%s: too many rule files (max %u)", name, RULES_MAX_FILES);
		return -E2BIG;
	}
	files = realloc(set->files, (set->n_files + 1) * sizeof(*files));
	if (files == NULL)
		goto err_nomem;
	set->files = files;
	fname = strdup(name);
	if (fname == NULL)
		goto err_nomem;
	set->files[set->n_files++] = fname;
	lc.file = fname;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl != NULL ? nl : end;
		const char *s = p;
		const char *e = le;

		lc.line++;
		p = nl != NULL ? nl + 1 : end;
		if ((size_t)(le - s) > RULES_MAX_LINE) {
			LERR(&lc, "line too long (%zu bytes, max %u)", (size_t)(le - s), RULES_MAX_LINE);
			rc = -E2BIG;
			goto err_rollback;
		}
		if (memchr(s, '\0', (size_t)(le - s)) != NULL) {
			LERR(&lc, "NUL byte in line");
			rc = -EINVAL;
			goto err_rollback;
		}
		/* CRLF files are fine; a lone CR inside a line is a pattern byte. */
		while (e > s && (is_ws(e[-1]) || e[-1] == '\r'))
			e--;
		while (s < e && is_ws(*s))
			s++;
		if (s == e || *s == '#')
			continue;
		rc = parse_rule(set, &lc, s, e);
		if (rc < 0)
			goto err_rollback;
	}
	return 0;

err_rollback:
	set_truncate(set, n0);
	/* The file name stays listed: rules that survive never point at it, and
	 * keeping it avoids moving names that earlier rules point at. */
	return rc;
err_nomem:
	tserr(err, errlen, "%s: out of memory", name);
	return -ENOMEM;
}

int rules_parse_file(struct rules_set *set, const char *path, char *err, size_t errlen)
{
	char why[128];
	size_t len;
	char *buf;
	int rc;

	rc = tsfile_read(path, RULES_MAX_FILE_BYTES, &buf, &len, why, sizeof(why));
	if (rc < 0) {
		tserr(err, errlen, "%s: %s", path, why);
		return rc;
	}
	rc = rules_parse_buf(set, path, buf, len, err, errlen);
	free(buf);
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool has_suffix(const char *s, const char *suf)
{
	size_t n = strlen(s);
	size_t k = strlen(suf);

	return n > k && strcmp(s + n - k, suf) == 0;
}

void rules_names_free(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

int rules_list_dir(const char *path, const char *suffix, size_t max, const char *what,
		   char ***out, size_t *n_out, char *err, size_t errlen)
{
	char **names = NULL;
	struct dirent *de;
	size_t n = 0;
	DIR *d;
	int rc;

	*out = NULL;
	*n_out = 0;
	d = opendir(path);
	if (d == NULL) {
		rc = -errno;
		tserr(err, errlen, "%s: %s", path, strerror(-rc));
		return rc;
	}
	while ((de = readdir(d)) != NULL) {
		char **nn;
		char *full;

		if (de->d_name[0] == '.' || !has_suffix(de->d_name, suffix))
			continue;
		if (n >= max) {
			rc = -E2BIG;
			tserr(err, errlen, "%s: more than %zu %s", path, max, what);
			goto free_names;
		}
		if (asprintf(&full, "%s/%s", path, de->d_name) < 0)
			goto nomem;
		nn = realloc(names, (n + 1) * sizeof(*nn));
		if (nn == NULL) {
			free(full);
			goto nomem;
		}
		names = nn;
		names[n++] = full;
	}
	closedir(d);
	/* Sorted: what is loaded first, and so rule order, must not depend on the file system. */
	if (n > 1)
		qsort(names, n, sizeof(*names), cmp_str);
	*out = names;
	*n_out = n;
	return 0;

nomem:
	rc = -ENOMEM;
	tserr(err, errlen, "%s: out of memory", path);
free_names:
	rules_names_free(names, n);
	closedir(d);
	return rc;
}

int rules_parse_path(struct rules_set *set, const char *path, char *err, size_t errlen)
{
	uint32_t n0 = set->n;
	struct stat st;
	char **names;
	size_t n_names;
	int rc;

	if (stat(path, &st) < 0) {
		rc = -errno;
		tserr(err, errlen, "%s: %s", path, strerror(errno));
		return rc;
	}
	if (!S_ISDIR(st.st_mode))
		return rules_parse_file(set, path, err, errlen);
	rc = rules_list_dir(path, ".rules", RULES_MAX_FILES, "rule files", &names, &n_names, err,
			    errlen);
	if (rc < 0)
		return rc;
	if (n_names == 0) {
		rc = -ENOENT;
		tserr(err, errlen, "%s: no *.rules files", path);
	}
	for (size_t i = 0; i < n_names && rc == 0; i++)
		rc = rules_parse_file(set, names[i], err, errlen);
	if (rc < 0)
		set_truncate(set, n0); /* all or nothing across the directory */
	rules_names_free(names, n_names);
	return rc;
}
