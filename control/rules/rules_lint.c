/* SPDX-License-Identifier: proprietary */
/*
 * The rule cost linter. How a rule is written dominates Hyperscan scan cost
 * (measured here: one email regex with a leading \b cost 44 us per 2 KB prompt
 * alone, 0.2 us without it), so every rule is timed alone over a reference
 * corpus, the whole set is timed, and known-bad shapes are found statically
 * with a rewrite hint. Control plane / tools only: it allocates, reads files
 * and prints.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cls.h"
#include "rules.h"
#include "rules_priv.h"
#include "tsfile.h"

/* Static shape thresholds (see rules_shape_bad). */
#define SHAPE_MAX_REPEAT 40u  /* a bounded repeat above this many iterations is "large" */
#define SHAPE_MAX_CASELESS_ALT 10u /* alternatives in one caseless group */
#define SHAPE_MIN_LITERAL 3u  /* bytes of required literal that let the prefilter work */

/* ---- static shape analysis ---------------------------------------------- */

enum atom_kind {
	ATOM_LIT = 0,   /* one literal byte */
	ATOM_CLASS = 1, /* [...], \d \w \s ..., \p{..} */
	ATOM_DOT = 2,   /* . */
	ATOM_WORDB = 3, /* \b \B */
	ATOM_ANCHOR = 4, /* ^ $ \A \z \Z \G */
	ATOM_OPEN = 5,
	ATOM_CLOSE = 6,
	ATOM_ALT = 7,
};

#define REP_INF UINT32_MAX

struct atom {
	enum atom_kind kind;
	uint32_t min;  /* repeat bounds, 1..1 when unquantified */
	uint32_t max;  /* REP_INF for * + {n,} */
	bool negated;  /* ATOM_CLASS: [^...] */
	uint32_t alts; /* ATOM_OPEN: alternatives in this group (set at its close) */
};

#define MAX_ATOMS (RULES_MAX_PATTERN + 2)

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Parses "{n}", "{n,}", "{n,m}" at p; returns bytes consumed or 0 when p is not one. */
static size_t parse_quant_braces(const char *p, uint32_t *min, uint32_t *max)
{
	const char *s = p + 1;
	uint64_t a = 0;
	uint64_t b;

	if (!is_digit(*s))
		return 0;
	while (is_digit(*s) && a < 100000)
		a = a * 10 + (uint64_t)(*s++ - '0');
	if (*s == '}') {
		*min = *max = (uint32_t)a;
		return (size_t)(s + 1 - p);
	}
	if (*s != ',')
		return 0;
	s++;
	if (*s == '}') {
		*min = (uint32_t)a;
		*max = REP_INF;
		return (size_t)(s + 1 - p);
	}
	if (!is_digit(*s))
		return 0;
	b = 0;
	while (is_digit(*s) && b < 100000)
		b = b * 10 + (uint64_t)(*s++ - '0');
	if (*s != '}')
		return 0;
	*min = (uint32_t)a;
	*max = (uint32_t)b;
	return (size_t)(s + 1 - p);
}

/*
 * A tolerant tokenizer of PCRE syntax, enough to see shapes: it never fails
 * (Hyperscan's compiler is the judge of validity), it only has to be right
 * about the constructs it reports.
 */
static size_t tokenize(const char *p, struct atom *atoms, size_t max_atoms)
{
	size_t n = 0;
	uint32_t stack[64];
	size_t sp = 0;
	size_t open_idx[64];

	while (*p != '\0' && n + 1 < max_atoms) {
		struct atom a = {.kind = ATOM_LIT, .min = 1, .max = 1};
		char c = *p++;

		if (c == '\\') {
			char e = *p;

			if (e == '\0')
				break;
			p++;
			if (strchr("dDwWsShHvVRNX", e) != NULL) {
				a.kind = ATOM_CLASS;
				a.negated = e == 'D' || e == 'W' || e == 'S' || e == 'H' ||
					    e == 'V' || e == 'N';
			} else if (e == 'b' || e == 'B') {
				a.kind = ATOM_WORDB;
			} else if (strchr("AzZG", e) != NULL) {
				a.kind = ATOM_ANCHOR;
			} else if (e == 'p' || e == 'P') {
				a.kind = ATOM_CLASS;
				if (*p == '{') {
					while (*p != '\0' && *p != '}')
						p++;
					if (*p == '}')
						p++;
				} else if (*p != '\0') {
					p++;
				}
			} else if (e == 'x') {
				if (*p == '{') {
					while (*p != '\0' && *p != '}')
						p++;
					if (*p == '}')
						p++;
				} else {
					for (int k = 0; k < 2 && isxdigit((unsigned char)*p); k++)
						p++;
				}
			} else if (e == 'Q') {
				/* \Q...\E: literal bytes */
				while (*p != '\0' && !(p[0] == '\\' && p[1] == 'E') &&
				       n + 1 < max_atoms) {
					atoms[n++] = (struct atom){.kind = ATOM_LIT, .min = 1, .max = 1};
					p++;
				}
				if (*p == '\\')
					p += 2;
				continue;
			}
			/* anything else escaped (\. \/ \t \n \e \0..) is one literal byte */
		} else if (c == '[') {
			a.kind = ATOM_CLASS;
			if (*p == '^') {
				a.negated = true;
				p++;
			}
			if (*p == ']')
				p++;
			while (*p != '\0' && *p != ']') {
				if (*p == '\\' && p[1] != '\0') {
					p += 2;
				} else if (p[0] == '[' && p[1] == ':') {
					const char *q = strstr(p + 2, ":]");

					p = q != NULL ? q + 2 : p + 1;
				} else {
					p++;
				}
			}
			if (*p == ']')
				p++;
		} else if (c == '(') {
			if (*p == '?') {
				const char *q = p + 1;

				/* (?i) (?s-m) ... : flag setting, no group */
				while (*q != '\0' && (isalpha((unsigned char)*q) || *q == '-'))
					q++;
				if (*q == ')') {
					p = q + 1;
					continue;
				}
				if (*q == ':')
					p = q + 1;
				else if (p[1] == '=' || p[1] == '!')
					p += 2;
				else if (p[1] == '<' && (p[2] == '=' || p[2] == '!'))
					p += 3;
				else if (p[1] == '#') { /* comment */
					while (*p != '\0' && *p != ')')
						p++;
					if (*p == ')')
						p++;
					continue;
				}
			}
			a.kind = ATOM_OPEN;
			if (sp < sizeof(stack) / sizeof(stack[0])) {
				stack[sp] = 1;
				open_idx[sp] = n;
				sp++;
			}
		} else if (c == ')') {
			a.kind = ATOM_CLOSE;
			if (sp > 0) {
				sp--;
				atoms[open_idx[sp]].alts = stack[sp];
			}
		} else if (c == '|') {
			a.kind = ATOM_ALT;
			if (sp > 0)
				stack[sp - 1]++;
		} else if (c == '.') {
			a.kind = ATOM_DOT;
		} else if (c == '^' || c == '$') {
			a.kind = ATOM_ANCHOR;
		}
		atoms[n++] = a;

		/* Quantifier on the atom just stored (a group's is on its CLOSE). */
		struct atom *q = &atoms[n - 1];
		size_t used;

		if (q->kind == ATOM_OPEN || q->kind == ATOM_ALT)
			continue;
		if (*p == '*') {
			q->min = 0;
			q->max = REP_INF;
			p++;
		} else if (*p == '+') {
			q->max = REP_INF;
			p++;
		} else if (*p == '?') {
			q->min = 0;
			p++;
		} else if (*p == '{' && (used = parse_quant_braces(p, &q->min, &q->max)) > 0) {
			p += used;
		} else {
			continue;
		}
		if (*p == '?' || *p == '+') /* lazy or possessive: same shape */
			p++;
	}
	/* Top-level alternatives go into a virtual group at index n. */
	atoms[n] = (struct atom){.kind = ATOM_OPEN, .min = 1, .max = 1, .alts = 1};
	for (size_t i = 0, depth = 0; i < n; i++) {
		if (atoms[i].kind == ATOM_OPEN)
			depth++;
		else if (atoms[i].kind == ATOM_CLOSE && depth > 0)
			depth--;
		else if (atoms[i].kind == ATOM_ALT && depth == 0)
			atoms[n].alts++;
	}
	return n;
}

/* Longest run of consecutive literal bytes that every match must contain. */
static uint32_t longest_required_literal(const struct atom *a, size_t n)
{
	uint32_t best = 0;
	uint32_t run = 0;
	int depth = 0;
	bool in_alt_group = false;

	/* Only runs outside alternations and optional groups are required; the
	 * approximation stays conservative by resetting at every group edge. */
	for (size_t i = 0; i < n; i++) {
		if (a[i].kind == ATOM_OPEN) {
			depth++;
			in_alt_group = in_alt_group || a[i].alts > 1;
			run = 0;
			continue;
		}
		if (a[i].kind == ATOM_CLOSE) {
			depth--;
			if (depth <= 0)
				in_alt_group = false;
			run = 0;
			continue;
		}
		if (a[i].kind == ATOM_ALT || a[i].kind != ATOM_LIT || a[i].min == 0) {
			run = 0;
			continue;
		}
		run++;
		if (!in_alt_group && run > best)
			best = run;
		if (a[i].max != 1)
			run = 0;
	}
	/* A pure alternation of literals (foo|bar|baz) still feeds the literal
	 * matcher: take the shortest branch's longest run. */
	if (best == 0 && n > 0) {
		uint32_t shortest = UINT32_MAX;

		run = 0;
		best = 0;
		for (size_t i = 0; i <= n; i++) {
			bool end = i == n || a[i].kind == ATOM_ALT;

			if (!end && a[i].kind == ATOM_LIT && a[i].min > 0) {
				run++;
				if (run > best)
					best = run;
				continue;
			}
			if (!end && (a[i].kind == ATOM_OPEN || a[i].kind == ATOM_CLOSE))
				continue;
			if (!end) {
				run = 0;
				continue;
			}
			if (best < shortest)
				shortest = best;
			best = 0;
			run = 0;
		}
		best = shortest == UINT32_MAX ? 0 : shortest;
	}
	return best;
}

static void append(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void append(char *buf, size_t len, const char *fmt, ...)
{
	size_t used;
	va_list ap;

	if (buf == NULL || len == 0)
		return;
	used = strnlen(buf, len);
	if (used + 1 >= len)
		return;
	if (used > 0) {
		snprintf(buf + used, len - used, "; ");
		used = strnlen(buf, len);
	}
	va_start(ap, fmt);
	vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
}

/*
 * True when the group opened at atoms[open] (or the top level, open == n) holds
 * only literal bytes, nested groups and alternations: a plain word list. Such a
 * list is cheap even when long and caseless; measured here, one rule of 120
 * caseless words cost 153 ns/KB, the same words as 15 rules of 8 cost 238 and as
 * 120 rules 247 (tools/policy/lint-notes.md).
 */
static bool group_is_literal(const struct atom *a, size_t n, size_t open)
{
	size_t depth = 0;

	for (size_t i = open == n ? 0 : open + 1; i < n; i++) {
		if (a[i].kind == ATOM_OPEN) {
			depth++;
		} else if (a[i].kind == ATOM_CLOSE) {
			if (depth == 0)
				return true; /* the group's own close */
			depth--;
		} else if (a[i].kind != ATOM_ALT &&
			   (a[i].kind != ATOM_LIT || a[i].min != 1 || a[i].max != 1)) {
			return false;
		}
	}
	return true;
}

/*
 * Whether the pattern text shows what its gate promises (a textual check, no
 * parse: the corpus check in rules_lint() is the one that sees matches):
 *   nonascii  a byte >= 0x80 or a \x escape of one (\x80..\xff, \x{...});
 *   at        an '@';
 *   digits    a digit class repeated TS_GATE_DIGIT_RUN+ times ([0-9]{4}, \d{4,6}),
 *             or that many literal digits in a row.
 * It cannot tell a required atom from an optional one: it catches a gate put
 * on the wrong rule, not every way a pattern can match without its byte.
 */
static bool gate_evident(const struct rules_rule *rule)
{
	const char *p = rule->pattern;
	uint32_t lit_digits = 0;

	switch (rule->gate) {
	case TS_GATE_NONE:
		return true;
	case TS_GATE_AT:
		return strchr(p, '@') != NULL;
	case TS_GATE_NONASCII:
		for (; *p != '\0'; p++) {
			if ((unsigned char)*p >= 0x80)
				return true;
			if (p[0] == '\\' && p[1] == 'x' &&
			    (p[2] == '{' || (p[2] != '\0' && strchr("89abcdefABCDEF", p[2]) != NULL)))
				return true;
		}
		return false;
	case TS_GATE_DIGITS:
		for (; *p != '\0'; p++) {
			const char *q = NULL;
			uint32_t min, max;

			if (strncmp(p, "[0-9]{", 6) == 0)
				q = p + 5;
			else if (strncmp(p, "\\d{", 3) == 0)
				q = p + 2;
			if (q != NULL && parse_quant_braces(q, &min, &max) > 0 &&
			    min >= TS_GATE_DIGIT_RUN)
				return true;
			lit_digits = is_digit(*p) && (p == rule->pattern || p[-1] != '{') ? lit_digits + 1
											  : 0;
			if (lit_digits >= TS_GATE_DIGIT_RUN)
				return true;
		}
		return false;
	default:
		return false;
	}
}

bool rules_shape_bad(const struct rules_rule *rule, char *hint, size_t hintlen)
{
	static _Thread_local struct atom atoms[MAX_ATOMS + 1];
	bool bad = false;
	size_t n;
	size_t first = 0;
	size_t last;

	if (hint != NULL && hintlen > 0)
		hint[0] = '\0';
	n = tokenize(rule->pattern, atoms, MAX_ATOMS);

	/* The first and last atoms that consume bytes. */
	while (first < n && (atoms[first].kind == ATOM_OPEN || atoms[first].kind == ATOM_ANCHOR))
		first++;
	last = n;
	while (last > 0 && (atoms[last - 1].kind == ATOM_CLOSE ||
			    atoms[last - 1].kind == ATOM_ANCHOR || atoms[last - 1].kind == ATOM_WORDB))
		last--;

	if (first < n && atoms[first].kind == ATOM_WORDB) {
		size_t k = first + 1;

		while (k < n && atoms[k].kind == ATOM_OPEN)
			k++;
		if (k < n && (atoms[k].kind == ATOM_CLASS || atoms[k].kind == ATOM_DOT)) {
			bad = true;
			append(hint, hintlen,
			       "leading \\b before a class: checked at every word boundary; "
			       "drop the \\b or start with a literal");
		}
	}
	if (first < n && atoms[first].kind == ATOM_CLASS) {
		for (size_t k = first + 1; k < n; k++) {
			if (atoms[k].kind == ATOM_LIT && atoms[k].min > 0) {
				bad = true;
				append(hint, hintlen,
				       "starts with a class before its first literal: every literal "
				       "hit runs a separate engine back over the class; start the "
				       "pattern at the literal");
				break;
			}
		}
	}
	for (size_t i = first + 1; i + 1 < last; i++) {
		if (atoms[i].max != REP_INF)
			continue;
		if (atoms[i].kind == ATOM_DOT || (atoms[i].kind == ATOM_CLASS && atoms[i].negated)) {
			bad = true;
			append(hint, hintlen,
			       "unbounded %s in the middle: keeps state across the whole text; "
			       "use a bounded gap like .{0,40} or split into two rules",
			       atoms[i].kind == ATOM_DOT ? ".*" : "negated class repeat");
			break;
		}
	}
	for (size_t i = 0; i < n; i++) {
		uint32_t big = atoms[i].max == REP_INF ? atoms[i].min : atoms[i].max;

		if (big > SHAPE_MAX_REPEAT) {
			bad = true;
			append(hint, hintlen,
			       "large bounded repeat (%u): unrolled into a big automaton; keep "
			       "bounds <= %u or anchor the rule on a literal",
			       big, SHAPE_MAX_REPEAT);
			break;
		}
	}
	if (rule->hs_flags & HS_FLAG_CASELESS) {
		for (size_t i = 0; i <= n; i++) {
			if (atoms[i].kind == ATOM_OPEN && atoms[i].alts > SHAPE_MAX_CASELESS_ALT &&
			    !group_is_literal(atoms, n, i)) {
				bad = true;
				append(hint, hintlen,
				       "caseless alternation of %u branches with classes or repeats: "
				       "make the branches plain words, or split the rule",
				       atoms[i].alts);
				break;
			}
		}
	}
	if (rule->hs_flags & HS_FLAG_SOM_LEFTMOST) {
		bad = true;
		append(hint, hintlen,
		       "L (start of match) costs stream state and slows the scan; drop it "
		       "unless match starts are used");
	}
	if (!gate_evident(rule)) {
		bad = true;
		append(hint, hintlen,
		       "gate=%s but the pattern shows no %s: texts without it would hide its "
		       "matches; require it in the pattern or drop the gate",
		       rules_gate_name(rule->gate),
		       rule->gate == TS_GATE_AT	      ? "'@'"
		       : rule->gate == TS_GATE_DIGITS ? "run of 4+ digits"
						      : "non-ASCII byte");
	}
	return bad;
}

/* Hint added when a rule is flagged for its measured cost. */
static void cost_hint(const struct rules_rule *rule, char *hint, size_t hintlen)
{
	static _Thread_local struct atom atoms[MAX_ATOMS + 1];
	size_t n = tokenize(rule->pattern, atoms, MAX_ATOMS);

	if (longest_required_literal(atoms, n) < SHAPE_MIN_LITERAL)
		append(hint, hintlen,
		       "no required literal of %u+ bytes: every position is a candidate; "
		       "anchor the rule on a literal",
		       SHAPE_MIN_LITERAL);
	if (!(rule->hs_flags & HS_FLAG_SINGLEMATCH) && rule->action != TS_ACT_SCORE)
		append(hint, hintlen, "overriding rule: H (single match) is enough");
}

/* ---- corpus --------------------------------------------------------------- */

struct corpus {
	char **docs;   /* n texts */
	size_t *lens;  /* bytes of each */
	char **names;  /* file of each, for messages */
	size_t n;
	size_t bytes;  /* total */
};

static void corpus_free(struct corpus *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->docs[i]);
		free(c->names[i]);
	}
	free(c->docs);
	free(c->lens);
	free(c->names);
	memset(c, 0, sizeof(*c));
}

/* Appends one text to the corpus; what is not a regular file is not a text and is skipped. */
static int corpus_add_file(struct corpus *c, const char *path, FILE *out)
{
	size_t room = RULES_CORPUS_MAX_BYTES - c->bytes;
	char why[128];
	char **docs;
	size_t *lens;
	char **names;
	char *name;
	size_t len;
	char *buf;
	int rc;

	rc = tsfile_read(path, room < RULES_CORPUS_MAX_DOC_BYTES ? room : RULES_CORPUS_MAX_DOC_BYTES,
			 &buf, &len, why, sizeof(why));
	if (rc == -EINVAL)
		return 0; /* sockets, fifos, subdirectories: not texts */
	if (rc == -EFBIG || (rc == 0 && c->n >= RULES_CORPUS_MAX_DOCS)) {
		rc = -E2BIG;
		fprintf(out, "# error: %s: corpus over its bounds (%u texts, %u bytes each, %u total)\n",
			path, RULES_CORPUS_MAX_DOCS, RULES_CORPUS_MAX_DOC_BYTES,
			RULES_CORPUS_MAX_BYTES);
		goto free_buf;
	}
	if (rc < 0) {
		fprintf(out, "# error: %s: %s\n", path, why);
		return rc;
	}
	docs = realloc(c->docs, (c->n + 1) * sizeof(*docs));
	if (docs != NULL)
		c->docs = docs;
	lens = realloc(c->lens, (c->n + 1) * sizeof(*lens));
	if (lens != NULL)
		c->lens = lens;
	names = realloc(c->names, (c->n + 1) * sizeof(*names));
	if (names != NULL)
		c->names = names;
	name = strdup(path);
	if (docs == NULL || lens == NULL || names == NULL || name == NULL) {
		free(name);
		rc = -ENOMEM;
		fprintf(out, "# error: %s: out of memory\n", path);
		goto free_buf;
	}
	c->docs[c->n] = buf;
	c->lens[c->n] = len;
	c->names[c->n] = name;
	c->n++;
	c->bytes += len;
	return 0;

free_buf:
	free(buf);
	return rc;
}

static int corpus_load(struct corpus *c, const char *path, FILE *out)
{
	struct stat st;
	char **names;
	size_t n_names;
	char why[256];
	int rc;

	memset(c, 0, sizeof(*c));
	if (stat(path, &st) < 0) {
		rc = -errno;
		fprintf(out, "# error: %s: %s\n", path, strerror(errno));
		return rc;
	}
	if (!S_ISDIR(st.st_mode)) {
		rc = corpus_add_file(c, path, out);
		goto check;
	}
	/* Sorted so that runs are comparable (the scan order changes cache state). */
	rc = rules_list_dir(path, "", RULES_CORPUS_MAX_DOCS, "texts", &names, &n_names, why,
			    sizeof(why));
	if (rc < 0) {
		fprintf(out, "# error: %s\n", why);
		return rc;
	}
	for (size_t i = 0; i < n_names && rc == 0; i++)
		rc = corpus_add_file(c, names[i], out);
	rules_names_free(names, n_names);
check:
	if (rc == 0 && c->bytes == 0) {
		rc = -ENOENT;
		fprintf(out, "# error: %s: empty corpus\n", path);
	}
	if (rc < 0)
		corpus_free(c);
	return rc;
}

/* ---- timing --------------------------------------------------------------- */

static int on_match(unsigned int id, unsigned long long from, unsigned long long to,
		    unsigned int flags, void *ctx)
{
	(void)id;
	(void)from;
	(void)to;
	(void)flags;
	(*(uint64_t *)ctx)++;
	return 0;
}

/*
 * Thread CPU time, not wall time: the linter runs on shared build machines
 * where preemption would land in whichever pass it hits; CPU time counts only
 * the scan's own cycles (cache effects from neighbours remain, hence the median).
 */
static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a;
	uint64_t y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Median ns/KB of scanning every corpus text once with db, over reps passes
 * after one warm-up pass. *scratch is grown for db. Hits of the last pass go
 * to *hits.
 */
static int time_db(const hs_database_t *db, hs_scratch_t **scratch, const struct corpus *c,
		   uint32_t reps, double *ns_per_kb, uint64_t *hits)
{
	uint64_t samples[64];
	uint64_t count = 0;

	if (reps > sizeof(samples) / sizeof(samples[0]))
		reps = sizeof(samples) / sizeof(samples[0]);
	if (hs_alloc_scratch(db, scratch) != HS_SUCCESS)
		return -ENOMEM;
	for (uint32_t r = 0; r <= reps; r++) {
		uint64_t t0 = now_ns();

		count = 0;
		for (size_t i = 0; i < c->n; i++) {
			if (hs_scan(db, c->docs[i], (unsigned int)c->lens[i], 0, *scratch, on_match,
				    &count) != HS_SUCCESS)
				return -EIO;
		}
		if (r > 0) /* pass 0 warms caches and branch predictors */
			samples[r - 1] = now_ns() - t0;
	}
	qsort(samples, reps, sizeof(samples[0]), cmp_u64);
	*ns_per_kb = (double)samples[reps / 2] * 1024.0 / (double)c->bytes;
	if (hits != NULL)
		*hits = count;
	return 0;
}

/* ---- gates ----------------------------------------------------------------- */

/* The gates that hold for each corpus text: bit g for enum ts_rule_gate g (bit 0 always). */
static uint32_t doc_gates(const char *doc, size_t len)
{
	struct cls_text_stats st;

	cls_text_stats((const uint8_t *)doc, len, &st);
	return cls_gates(&st);
}

/*
 * A copy of doc with gate g forced off, for texts on which it holds: bytes
 * >= 0x80 become spaces (nonascii), '@' becomes a space (at), every
 * TS_GATE_DIGIT_RUN-th digit of a run becomes a space (digits). A rule that
 * matches the copy matched without its gate. Returns NULL when out of memory.
 */
static char *gate_off_copy(uint32_t g, const char *doc, size_t len)
{
	char *c = malloc(len > 0 ? len : 1);
	uint32_t run = 0;

	if (c == NULL)
		return NULL;
	memcpy(c, doc, len);
	for (size_t i = 0; i < len; i++) {
		unsigned char b = (unsigned char)c[i];

		if (g == TS_GATE_NONASCII && b >= 0x80)
			c[i] = ' ';
		else if (g == TS_GATE_AT && b == '@')
			c[i] = ' ';
		if (g != TS_GATE_DIGITS)
			continue;
		run = b >= '0' && b <= '9' ? run + 1 : 0;
		if (run == TS_GATE_DIGIT_RUN) {
			c[i] = ' ';
			run = 0;
		}
	}
	return c;
}

struct gate_hit {
	const struct rules_set *set;
	uint8_t *seen; /* per rule: 1 once reported */
	uint32_t bad;  /* rules reported */
	const char *doc_name;
	bool variant;  /* scanning a gate-off copy, not the text itself */
	FILE *out;
};

static int on_gate_violation(unsigned int id, unsigned long long from, unsigned long long to,
			     unsigned int flags, void *arg)
{
	struct gate_hit *h = arg;
	const struct rules_rule *r;

	(void)from;
	(void)flags;
	if (id >= h->set->n || h->seen[id])
		return 0;
	r = &h->set->rules[id];
	h->seen[id] = 1;
	h->bad++;
	fprintf(h->out,
		"%s:%u: %s: error: gate=%s but it matches (ending at byte %llu) %s%s, where the "
		"gate does not hold: its matches would be lost; fix the pattern or drop the "
		"gate\n",
		r->file, r->line, r->id, rules_gate_name(r->gate), to,
		h->variant ? "a gate-off copy of " : "", h->doc_name);
	return 0;
}

/*
 * The gate promise, checked on the corpus: for every gate in use, its rules
 * are scanned over each text on which the gate is off, and over a gate-off
 * copy of each text on which it is on (gate_off_copy). Every rule that
 * matches is reported once as "file:line: id: error: ...". Returns the number
 * of such rules, or -errno.
 */
static int gate_check(const struct rules_set *set, const struct corpus *c,
		      const hs_platform_info_t *plat, hs_scratch_t **scratch, FILE *out)
{
	hs_database_t *dbs[TS_GATE_COUNT] = {NULL};
	struct gate_hit h = {.set = set, .out = out};
	char err[512];
	int rc;

	rc = rules_compile_gated(set, plat, dbs, err, sizeof(err));
	if (rc < 0) {
		fprintf(out, "# error: %s\n", err);
		return rc;
	}
	h.seen = calloc(set->n, 1);
	if (h.seen == NULL) {
		rc = -ENOMEM;
		goto free_dbs;
	}
	for (uint32_t g = 1; g < TS_GATE_COUNT && rc == 0; g++) {
		if (dbs[g] == NULL)
			continue;
		if (hs_alloc_scratch(dbs[g], scratch) != HS_SUCCESS) {
			rc = -ENOMEM;
			break;
		}
		for (size_t i = 0; i < c->n && rc == 0; i++) {
			const char *doc = c->docs[i];
			char *copy = NULL;

			h.doc_name = c->names[i];
			h.variant = rules_gate_holds(g, doc, c->lens[i]);
			if (h.variant) {
				copy = gate_off_copy(g, doc, c->lens[i]);
				if (copy == NULL) {
					rc = -ENOMEM;
					break;
				}
				doc = copy;
			}
			if (hs_scan(dbs[g], doc, (unsigned int)c->lens[i], 0, *scratch,
				    on_gate_violation, &h) != HS_SUCCESS)
				rc = -EIO;
			free(copy);
		}
	}
	if (rc == 0)
		rc = (int)h.bad;
	else
		fprintf(out, "# error: gate check: %s\n", strerror(-rc));
	free(h.seen);
free_dbs:
	for (uint32_t g = 0; g < TS_GATE_COUNT; g++)
		hs_free_database(dbs[g]);
	return rc;
}

/*
 * Median ns/KB of the set as the classifier scans it: the ungated database
 * over every text, and each gate's database over the texts where that gate
 * holds (the gates are computed outside the timed loop: the classifier reads
 * them off byte statistics it computes anyway). *texts_on[g] counts the texts
 * on which gate g holds.
 */
static int time_gated(const struct rules_set *set, const struct corpus *c, uint32_t reps,
		      const hs_platform_info_t *plat, hs_scratch_t **scratch, double *ns_per_kb,
		      uint32_t texts_on[TS_GATE_COUNT], FILE *out)
{
	hs_database_t *dbs[TS_GATE_COUNT] = {NULL};
	uint64_t samples[64];
	uint32_t *gates;
	uint64_t count = 0;
	char err[512];
	int rc;

	if (reps > sizeof(samples) / sizeof(samples[0]))
		reps = sizeof(samples) / sizeof(samples[0]);
	rc = rules_compile_gated(set, plat, dbs, err, sizeof(err));
	if (rc < 0) {
		fprintf(out, "# error: %s\n", err);
		return rc;
	}
	gates = calloc(c->n, sizeof(*gates));
	if (gates == NULL) {
		rc = -ENOMEM;
		goto free_dbs;
	}
	memset(texts_on, 0, TS_GATE_COUNT * sizeof(texts_on[0]));
	for (size_t i = 0; i < c->n; i++) {
		gates[i] = doc_gates(c->docs[i], c->lens[i]);
		for (uint32_t g = 0; g < TS_GATE_COUNT; g++)
			texts_on[g] += (gates[i] >> g) & 1u;
	}
	for (uint32_t g = 0; g < TS_GATE_COUNT; g++) {
		if (dbs[g] != NULL && hs_alloc_scratch(dbs[g], scratch) != HS_SUCCESS) {
			rc = -ENOMEM;
			goto free_gates;
		}
	}
	for (uint32_t r = 0; r <= reps; r++) {
		uint64_t t0 = now_ns();

		for (size_t i = 0; i < c->n; i++) {
			for (uint32_t g = 0; g < TS_GATE_COUNT; g++) {
				if (dbs[g] == NULL || !((gates[i] >> g) & 1u))
					continue;
				if (hs_scan(dbs[g], c->docs[i], (unsigned int)c->lens[i], 0,
					    *scratch, on_match, &count) != HS_SUCCESS) {
					rc = -EIO;
					goto free_gates;
				}
			}
		}
		if (r > 0)
			samples[r - 1] = now_ns() - t0;
	}
	qsort(samples, reps, sizeof(samples[0]), cmp_u64);
	*ns_per_kb = (double)samples[reps / 2] * 1024.0 / (double)c->bytes;
free_gates:
	free(gates);
free_dbs:
	for (uint32_t g = 0; g < TS_GATE_COUNT; g++)
		hs_free_database(dbs[g]);
	return rc;
}

/*
 * Times the whole set compiled for every rules_variants[] target. Passes are
 * interleaved (one pass of each target per round, 3 * reps rounds) so that a
 * change in machine load hits every target alike; the median per target is
 * printed.
 */
static int compare_targets(const struct rules_set *set, const struct corpus *c, uint32_t reps,
			   hs_scratch_t **scratch, FILE *out)
{
	enum { MAX_VARIANTS = 16, MAX_ROUNDS = 96 };
	hs_database_t *dbs[MAX_VARIANTS] = {0};
	hs_platform_info_t plats[MAX_VARIANTS];
	static uint64_t samples[MAX_VARIANTS][MAX_ROUNDS];
	uint32_t rounds = 3 * reps;
	size_t nv = rules_n_variants < MAX_VARIANTS ? rules_n_variants : MAX_VARIANTS;
	char err[512];
	uint64_t count = 0;
	int rc = 0;

	if (rounds > MAX_ROUNDS)
		rounds = MAX_ROUNDS;
	for (size_t v = 0; v < nv; v++) {
		rc = rules_variant_platform(v, &plats[v]);
		if (rc == 0)
			rc = rules_compile(set, &plats[v], &dbs[v], err, sizeof(err));
		if (rc == 0 && hs_alloc_scratch(dbs[v], scratch) != HS_SUCCESS)
			rc = -ENOMEM;
		if (rc < 0) {
			fprintf(out, "# error: target %s: %s\n", rules_variants[v].name,
				rc == -ENOMEM ? "out of memory" : err);
			goto free_dbs;
		}
	}
	for (uint32_t r = 0; r <= rounds; r++) {
		for (size_t v = 0; v < nv; v++) {
			uint64_t t0 = now_ns();

			for (size_t i = 0; i < c->n; i++) {
				if (hs_scan(dbs[v], c->docs[i], (unsigned int)c->lens[i], 0, *scratch,
					    on_match, &count) != HS_SUCCESS) {
					rc = -EIO;
					fprintf(out, "# error: target %s: scan failed\n",
						rules_variants[v].name);
					goto free_dbs;
				}
			}
			if (r > 0) /* round 0 warms up */
				samples[v][r - 1] = now_ns() - t0;
		}
	}
	for (size_t v = 0; v < nv; v++) {
		double cost;

		qsort(samples[v], rounds, sizeof(samples[v][0]), cmp_u64);
		cost = (double)samples[v][rounds / 2] * 1024.0 / (double)c->bytes;
		fprintf(out,
			"# target %-15s tune %2u features 0x%02llx: %.1f ns/KB = %.0f ns per 2 KB "
			"(median of %u interleaved passes)\n",
			rules_variants[v].name, plats[v].tune, (unsigned long long)plats[v].cpu_features,
			cost, cost * 2.0, rounds);
	}
free_dbs:
	for (size_t v = 0; v < nv; v++)
		hs_free_database(dbs[v]);
	return rc;
}

/* ---- the linter ------------------------------------------------------------ */

struct lint_row {
	uint32_t rule;     /* index in the set */
	double ns_per_kb;  /* alone, < 0 when not measured */
	double marginal;   /* set cost minus set-without-this-rule cost; valid with opts.marginal */
	uint64_t hits;     /* matches over the corpus, one pass */
	bool flagged;
	char why[512];
};

static int cmp_row(const void *a, const void *b)
{
	const struct lint_row *x = a;
	const struct lint_row *y = b;

	double cx = x->ns_per_kb > x->marginal ? x->ns_per_kb : x->marginal;
	double cy = y->ns_per_kb > y->marginal ? y->ns_per_kb : y->marginal;

	if (cx != cy)
		return cx < cy ? 1 : -1;
	return x->rule < y->rule ? -1 : x->rule > y->rule;
}

int rules_lint(const struct rules_set *set, const char *corpus_path,
	       const struct rules_lint_opts *opts, FILE *out)
{
	struct rules_lint_opts o = {0};
	struct corpus corpus = {0};
	struct lint_row *rows = NULL;
	hs_scratch_t *scratch = NULL;
	hs_database_t *db = NULL;
	hs_platform_info_t plat;
	hs_compile_error_t *cerr = NULL;
	char err[512];
	double set_cost = 0.0;
	double sum_alone = 0.0;
	uint64_t set_hits = 0;
	double gated_cost = 0.0;
	uint32_t texts_on[TS_GATE_COUNT] = {0};
	uint32_t per_gate[TS_GATE_COUNT] = {0};
	uint32_t n_gated = 0;
	int flagged = 0;
	int rc;

	if (opts != NULL)
		o = *opts;
	if (o.reps == 0)
		o.reps = RULES_LINT_REPS;
	if (o.reps > 64) /* time_db's sample buffer; more passes add nothing to a median */
		o.reps = 64;
	if (o.max_ns_per_kb <= 0.0)
		o.max_ns_per_kb = RULES_LINT_MAX_NS_PER_KB;
	if (o.max_share <= 0.0)
		o.max_share = RULES_LINT_MAX_SHARE;
	if (set == NULL || set->n == 0) {
		fprintf(out, "# error: empty rule set\n");
		return -EINVAL;
	}
	rc = rules_platform(o.target, &plat);
	if (rc < 0) {
		fprintf(out, "# error: no hyperscan platform for target %d\n", (int)o.target);
		return rc;
	}
	for (uint32_t i = 0; i < set->n; i++) {
		if (set->rules[i].gate >= TS_GATE_COUNT) {
			fprintf(out, "# error: rule %u: gate %u out of range\n", i,
				set->rules[i].gate);
			return -EINVAL;
		}
		per_gate[set->rules[i].gate]++;
		n_gated += set->rules[i].gate != TS_GATE_NONE;
	}
	rows = calloc(set->n, sizeof(*rows));
	if (rows == NULL) {
		fprintf(out, "# error: out of memory\n");
		return -ENOMEM;
	}
	if (!o.static_only) {
		if (corpus_path == NULL) {
			fprintf(out, "# error: no corpus given\n");
			rc = -EINVAL;
			goto free_rows;
		}
		rc = corpus_load(&corpus, corpus_path, out);
		if (rc < 0)
			goto free_rows;
	}

	for (uint32_t i = 0; i < set->n; i++) {
		struct lint_row *row = &rows[i];
		const struct rules_rule *r = &set->rules[i];

		row->rule = i;
		row->ns_per_kb = -1.0;
		row->flagged = rules_shape_bad(r, row->why, sizeof(row->why));
		if (o.static_only)
			continue;
		rc = rules_compile_range(set, i, 1, &plat, &db, err, sizeof(err));
		if (rc < 0) {
			fprintf(out, "# error: %s\n", err);
			goto free_scratch;
		}
		rc = time_db(db, &scratch, &corpus, o.reps, &row->ns_per_kb, &row->hits);
		hs_free_database(db);
		db = NULL;
		if (rc < 0) {
			fprintf(out, "# error: %s:%u: scan failed\n", r->file, r->line);
			goto free_scratch;
		}
		sum_alone += row->ns_per_kb;
	}

	if (!o.static_only) {
		rc = rules_compile(set, &plat, &db, err, sizeof(err));
		if (rc < 0) {
			fprintf(out, "# error: %s\n", err);
			goto free_scratch;
		}
		rc = time_db(db, &scratch, &corpus, o.reps, &set_cost, &set_hits);
		hs_free_database(db);
		db = NULL;
		if (rc < 0) {
			fprintf(out, "# error: whole-set scan failed\n");
			goto free_scratch;
		}
		if (n_gated > 0) {
			rc = time_gated(set, &corpus, o.reps, &plat, &scratch, &gated_cost, texts_on,
					out);
			if (rc < 0)
				goto free_scratch;
		}
		for (uint32_t i = 0; o.marginal && set->n > 1 && i < set->n; i++) {
			double without;

			rc = rules_compile_skip(set, i, &plat, &db, err, sizeof(err));
			if (rc < 0) {
				fprintf(out, "# error: %s\n", err);
				goto free_scratch;
			}
			rc = time_db(db, &scratch, &corpus, o.reps, &without, NULL);
			hs_free_database(db);
			db = NULL;
			if (rc < 0) {
				fprintf(out, "# error: scan without rule %u failed\n", i);
				goto free_scratch;
			}
			rows[i].marginal = set_cost - without;
		}
		for (uint32_t i = 0; i < set->n; i++) {
			struct lint_row *row = &rows[i];
			double cost = row->ns_per_kb > row->marginal ? row->ns_per_kb : row->marginal;
			bool over_abs = cost > o.max_ns_per_kb;
			bool over_share = set->n > 1 && cost > o.max_share * set_cost;
			const char *how = row->marginal > row->ns_per_kb ? "in the set" : "alone";

			if (over_abs)
				append(row->why, sizeof(row->why), "costs %.0f ns/KB %s (limit %.0f)",
				       cost, how, o.max_ns_per_kb);
			else if (over_share)
				append(row->why, sizeof(row->why),
				       "costs %.0f%% of the whole set %s (limit %.0f%%)",
				       100.0 * cost / set_cost, how, 100.0 * o.max_share);
			if (over_abs || over_share) {
				row->flagged = true;
				cost_hint(&set->rules[i], row->why, sizeof(row->why));
			}
		}
		qsort(rows, set->n, sizeof(*rows), cmp_row);
	}

	for (uint32_t k = 0; k < set->n; k++) {
		const struct lint_row *row = &rows[k];
		const struct rules_rule *r = &set->rules[row->rule];

		fprintf(out, "%s:%u: %s: cost ", r->file, r->line, r->id);
		if (row->ns_per_kb >= 0.0)
			fprintf(out, "%.1f ns/KB", row->ns_per_kb);
		else
			fprintf(out, "- ns/KB");
		if (o.marginal && !o.static_only)
			fprintf(out, ", marginal %.1f ns/KB", row->marginal);
		if (row->flagged)
			fprintf(out, " [flag: %s]", row->why);
		fprintf(out, "\n");
		flagged += row->flagged;
	}

	if (!o.static_only && n_gated > 0) {
		rc = gate_check(set, &corpus, &plat, &scratch, out);
		if (rc < 0)
			goto free_scratch;
		flagged += rc;
	}
	fprintf(out, "# rules: %u, flagged: %d, target: %s (tune %u, features 0x%llx)\n", set->n,
		flagged, rules_target_name(o.target), plat.tune,
		(unsigned long long)plat.cpu_features);
	if (n_gated > 0) {
		fprintf(out, "# gated rules: %u", n_gated);
		for (uint32_t g = 1; g < TS_GATE_COUNT; g++)
			fprintf(out, " %s=%u", rules_gate_name(g), per_gate[g]);
		fprintf(out, "\n");
	}
	if (!o.static_only) {
		double base = -1.0;

		/* Baseline from the same run (STYLE.md, benchmarks): one plain literal
		 * that never matches, i.e. the per-scan floor of this machine right now. */
		if (hs_compile("\\x01twospeed lint baseline\\x01", 0, HS_MODE_BLOCK, &plat, &db,
			       &cerr) == HS_SUCCESS) {
			if (time_db(db, &scratch, &corpus, o.reps, &base, NULL) < 0)
				base = -1.0;
			hs_free_database(db);
			db = NULL;
		} else {
			hs_free_compile_error(cerr);
			cerr = NULL;
		}
		fprintf(out, "# corpus: %zu texts, %zu bytes, %u passes (median)\n", corpus.n,
			corpus.bytes, o.reps);
		fprintf(out, "# baseline: one plain literal, same run: %.1f ns/KB\n", base);
		fprintf(out,
			"# set cost: %.1f ns/KB = %.0f ns per 2 KB prompt, %llu hits per pass; "
			"sum of alone costs %.1f ns/KB\n",
			set_cost, set_cost * 2.0, (unsigned long long)set_hits, sum_alone);
		if (n_gated > 0) {
			fprintf(out,
				"# gated set cost: %.1f ns/KB = %.0f ns per 2 KB prompt (ungated "
				"database on every text, each gate's where it holds:",
				gated_cost, gated_cost * 2.0);
			for (uint32_t g = 1; g < TS_GATE_COUNT; g++)
				if (per_gate[g] > 0)
					fprintf(out, " %s %u/%zu", rules_gate_name(g), texts_on[g],
						corpus.n);
			fprintf(out, " texts)\n");
		}
	}
	if (!o.static_only && o.compare_targets) {
		rc = compare_targets(set, &corpus, o.reps, &scratch, out);
		if (rc < 0)
			goto free_scratch;
	}
	rc = flagged;

free_scratch:
	hs_free_scratch(scratch);
	corpus_free(&corpus);
free_rows:
	free(rows);
	return rc;
}
