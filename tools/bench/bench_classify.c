/* SPDX-License-Identifier: proprietary */
/*
 * bench_classify: cost of the whole routing decision on one core.
 *
 *   bench_classify [--policy IMAGE] [--data FILE] [--cpu N] [--budget-ms MS]
 *                  [--bodies N]
 *
 * What is timed. One "decision" is rv_parse() of a chat body (the JSON view)
 * followed by cls_decide() (Hyperscan scan of the view's text with the rule
 * verifiers, features, scorer, top-K and overriding rules), back to back on
 * one pinned core, timed with two fenced TSC reads (lfence; rdtsc; lfence) and
 * nothing else in the window. Bodies are the decisions' only input; nothing
 * between two decisions but the loop (no syscall, no clock read except one
 * clock_gettime() per round), so caches and predictors are as warm as
 * back-to-back distinct requests leave them, warmer than in the dataplane,
 * where TCP/TLS work runs between two decisions.
 *
 * Bodies, 0.5, 2, 8, 32 and 200 KB of JSON each, two kinds per size:
 *   synthetic  generated system + user + assistant + user turns of English
 *              words with some code, numbers, math and escapes (the same
 *              generator as before, so its rows stay comparable over time);
 *   real       the same four turns (shares 10/40/20/30 %) filled with
 *              consecutive prompts ("turns" strings) of --data (default: the
 *              RouteLLM training set in ../shared/data/routing, read in place,
 *              plain or gzip), in a fixed shuffled order, JSON-escaped
 *              (\" \\ \n \t, other control bytes as \u00XX, UTF-8 as is) and
 *              cut at a character boundary; each body starts at the
 *              prompt after the previous body's last one (wrapping around
 *              the file when N x size exceeds it). Without the file only the
 *              synthetic rows are printed, after one line saying why.
 * --bodies N (default 1) distinct bodies per size and kind. With one body the
 * same bytes are classified over and over and every Hyperscan table entry they
 * touch stays in L1; use a few dozen to see the cost of distinct traffic.
 *
 * Interference filter. This VM's host takes the vCPU away ~20,000 times a
 * second for 1.5-3 us, invisibly to the guest (no steal time, no PMU), so the
 * raw p99 of a ~2 us operation is mostly the host's. The probe at start-up
 * measures it: a 0.5 s loop of bare rdtsc reads records every gap over 100 ns
 * and prints their rate, median and p90 length and the share of time lost
 * (gaps over 50 us are the guest scheduler running another thread, counted
 * apart). The decisions therefore run in rounds: round r decides bodies
 * 0..N-1 in the same order, so body b in rounds 3k, 3k+1 and 3k+2 has the
 * same cache and branch history before it, and the filtered sample of (b, k)
 * is the minimum of the three (FILTER_K). An interruption slows more than the
 * decision it lands in: the host's exit handling evicts cache lines, so the
 * next decision or two refill them (a decision's raw p99 is ~1 us above the
 * jitter loop's, whose data stays in L1). With a window of interruption plus
 * refill of ~4 us at ~20,000 interruptions/s, a sample is disturbed with
 * probability ~8 %, two of a pair ~0.6 % (at the p99 itself: measured, the
 * filtered p99 of pairs moved by ~20 % between runs), all three ~0.05 %. So
 * the filtered p99 is the code's own p99, while a body that is slow for a
 * deterministic reason (slow in every round) stays slow. The min also takes
 * away the part of the code's own spread that differs between identical runs
 * (rare in a tight loop), so read the filtered p99 as the code's tail on a
 * quiet core and the raw p99 as what this VM delivers. The argument needs rate x duration << 1:
 * from 8 KB up (10 us and more per decision) many samples, and from 32 KB
 * nearly all, contain an interruption, so there the filter only trims the
 * worst ones and the jit row of the same size shows what is left.
 * Reported per row: raw and filtered p50/p99 over all samples, the
 * context switches during the timed rounds ("csw", from getrusage around
 * them), and ns per KB of body at the filtered p50 (growth with size).
 *
 * Jitter baseline ("jit"): a fixed-work loop (a dependent floating-point chain
 * over an L1-resident 2 KB buffer: no data-dependent branches, no misses, no
 * allocation), calibrated to take about the decision's filtered p50 and timed
 * the same way, in as many rounds of N samples, with the same filter. Its raw
 * p99/p50 is what the machine adds to any operation of that length; its
 * filtered p99/p50 (printed) near 1.0 shows that the filter removes the
 * machine's share at that length (a decision's filtered p99/p50 above the
 * jit's is then the code's: bodies that cost more than others).
 *
 * Second table, stage shares: a separate pass of rounds times each stage with
 * fenced TSC reads between them (so its samples carry three more timer reads;
 * the sum of stage medians is printed beside the latency p50 to show that
 * overhead), the steps of cls_decide() one by one: view (rv_parse), stats (the
 * byte statistics of the view's text, cls_view_stats: they pick the gated rule
 * databases and feed the features), scan (cls_scan_begin + cls_scan_text_gated:
 * Hyperscan over the text, verifiers), features (cls_features_view_stats),
 * score (cls_decide_finish); each share is the stage's
 * median over the sum of the medians. Two baselines on the same bodies: one
 * memchr() pass over the body and one plain hs_scan() of the raw body with the
 * policy's ungated database (medians; the gated ones are left out).
 *
 * Each row stops at --budget-ms (default 3000, split between the stage pass,
 * the timed rounds and the jitter rounds) or at MAX_SAMPLES samples, whichever
 * comes first, and runs at least two rounds; the whole run stays under 40 s.
 * Not a test: it prints numbers and never fails on a timing.
 */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <x86intrin.h>

#include <hs/hs.h>

#include "cls.h"
#include "pol.h"
#include "reqview.h"
#include "tl_json.h"
#include "bench_text.h"

#ifndef TS_DEFAULT_POLICY
#define TS_DEFAULT_POLICY "conf/default.tspol"
#endif
#ifndef TS_DEFAULT_DATA
#define TS_DEFAULT_DATA "../shared/data/routing/routellm_train.jsonl.gz"
#endif

#define MAX_SAMPLES (1u << 18) /* per pass of one row */
#define NSTAGE 5 /* view, stats, scan, features, score */
#define MAX_BODIES 256u
#define MAX_BASE 2000u         /* memchr / hs_scan baseline samples */
#define PROBE_SEC 0.5
#define PROBE_GAP_NS 100.0     /* a longer gap between two TSC reads is an interruption */
#define PROBE_SWITCH_NS 50e3   /* a longer one is the guest scheduler, not the host */
#define PROBE_MAX_GAPS (1u << 17)

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static inline uint64_t tsc(void)
{
	_mm_lfence();
	uint64_t t = __rdtsc();
	_mm_lfence();
	return t;
}

/* TSC ticks per ns, measured against CLOCK_MONOTONIC over ~50 ms. */
static double tsc_per_ns(void)
{
	double t0 = now_ns();
	uint64_t c0 = tsc();

	while (now_ns() - t0 < 5e7)
		;
	return (double)(tsc() - c0) / (now_ns() - t0);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* Quantile q of sorted v[0..n), n > 0. */
static uint64_t pct(const uint64_t *v, size_t n, double q)
{
	size_t i = (size_t)(q * (double)(n - 1) + 0.5);

	return v[i];
}

/* ---- synthetic bodies (unchanged generator: keeps the rows comparable) ---- */

static const char *const roles[] = { "system", "user", "assistant", "user" };
static const double role_share[] = { 0.1, 0.4, 0.2, 0.3 }; /* of the text bytes */
static const char body_head[] = "{\"model\":\"gpt-4o\",\"max_tokens\":512,\"messages\":[";
static const char body_tail[] = "],\"temperature\":0.7}";

/* A chat body of `target` text bytes: system, user, assistant, user. */
static size_t gen_body_once(char *b, size_t target, uint64_t seed)
{
	uint64_t rng = seed;
	size_t k = 0;

	k += (size_t)sprintf(b + k, "%s", body_head);
	for (int i = 0; i < 4; i++) {
		size_t want = (size_t)((double)target * role_share[i]);

		k += (size_t)sprintf(b + k, "%s{\"role\":\"%s\",\"content\":\"", i ? "," : "",
				     roles[i]);
		k += bench_gen_text(b + k, want > 16 ? want : 16, &rng);
		k += (size_t)sprintf(b + k, "\"}");
	}
	k += (size_t)sprintf(b + k, "%s", body_tail);
	return k;
}

/* A chat body of about `size` bytes of JSON (one corrective pass). */
static char *gen_body(size_t size, uint64_t seed, size_t *len)
{
	char *b = malloc(2 * size + 4096);
	size_t k;

	if (!b)
		return NULL;
	k = gen_body_once(b, size, seed);
	k = gen_body_once(b, (size_t)((double)size * (double)size / (double)k), seed);
	*len = k;
	return b;
}

/* ---- real-text bodies ---- */

/* The prompts of the data file, unescaped, in a fixed shuffled order. */
struct corpus {
	struct tl_buf text; /* all prompts back to back */
	size_t *off;        /* prompt i is text[off[i] .. off[i + 1]); n + 1 entries */
	uint32_t *order;    /* the order bodies take prompts in: a permutation of 0..n-1 */
	size_t n;
};

static void corpus_free(struct corpus *c)
{
	tl_buf_free(&c->text);
	free(c->off);
	free(c->order);
	memset(c, 0, sizeof(*c));
}

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/*
 * Read every "turns" string of a JSONL file (plain or gzip) into c. The file
 * is grouped by source and subject, so the prompts are put in a fixed-seed
 * shuffled order: consecutive prompts then mix subjects as traffic would.
 * Returns 0; -ENOENT when the file cannot be opened (err says why), -EINVAL
 * for a line that is not an object with a "turns" array of strings or a file
 * without prompts (err names the line), -ENOMEM, -EIO, -E2BIG.
 */
static int corpus_load(struct corpus *c, const char *path, char *err, size_t errlen)
{
	struct tl_lines *l;
	struct tl_jdoc d;
	size_t cap = 0, lineno = 0, len;
	const char *line;
	char jerr[160];
	int rc;

	memset(c, 0, sizeof(*c));
	l = tl_lines_open(path, err, errlen);
	if (!l)
		return -ENOENT;
	tl_jdoc_init(&d);
	while ((rc = tl_lines_next(l, &line, &len)) == 1) {
		const struct tl_jnode *turns, *t;

		lineno++;
		if (len == 0)
			continue;
		rc = tl_json_parse(&d, line, len, jerr, sizeof(jerr));
		if (rc) {
			snprintf(err, errlen, "%s:%zu: %s", path, lineno,
				 rc == -EINVAL ? jerr : strerror(-rc));
			goto fail_parse;
		}
		turns = tl_json_get(&d, &d.nodes[0], "turns");
		if (!turns || turns->type != TL_JARR) {
			snprintf(err, errlen, "%s:%zu: no \"turns\" array", path, lineno);
			rc = -EINVAL;
			goto fail_parse;
		}
		for (t = tl_json_child(&d, turns); t; t = tl_json_next(&d, t)) {
			if (t->type != TL_JSTR) {
				snprintf(err, errlen, "%s:%zu: a turn is not a string", path, lineno);
				rc = -EINVAL;
				goto fail_parse;
			}
			if (t->str_len == 0)
				continue;
			if (c->n + 2 > cap) {
				size_t ncap = cap ? 2 * cap : 4096;
				size_t *no = realloc(c->off, ncap * sizeof(*no));

				if (!no) {
					rc = -ENOMEM;
					goto fail_oom;
				}
				c->off = no;
				cap = ncap;
			}
			c->off[c->n++] = c->text.n;
			tl_buf_add(&c->text, t->str, t->str_len);
			if (c->text.oom) {
				rc = -ENOMEM;
				goto fail_oom;
			}
		}
	}
	if (rc < 0) {
		snprintf(err, errlen, "%s:%zu: %s", path, lineno + 1,
			 rc == -E2BIG ? "line too long" : strerror(-rc));
		goto fail_parse;
	}
	if (c->n == 0) {
		snprintf(err, errlen, "%s: no prompts", path);
		rc = -EINVAL;
		goto fail_parse;
	}
	c->off[c->n] = c->text.n;
	c->order = malloc(c->n * sizeof(*c->order));
	if (!c->order) {
		rc = -ENOMEM;
		goto fail_oom;
	}
	uint64_t seed = 20260601;

	for (size_t i = 0; i < c->n; i++)
		c->order[i] = (uint32_t)i;
	for (size_t i = c->n - 1; i > 0; i--) { /* Fisher-Yates, fixed seed */
		size_t j = (size_t)(splitmix64(&seed) % (i + 1));
		uint32_t x = c->order[i];

		c->order[i] = c->order[j];
		c->order[j] = x;
	}
	tl_jdoc_fini(&d);
	tl_lines_close(l);
	return 0;

fail_oom:
	snprintf(err, errlen, "%s: out of memory", path);
fail_parse:
	tl_jdoc_fini(&d);
	tl_lines_close(l);
	corpus_free(c);
	return rc;
}

/*
 * Append s[0..n) JSON-escaped to out at *k, writing no further than out[limit):
 * \" \\ \n \t, other bytes below 0x20 as \u00XX, everything else (UTF-8) as
 * is, a multi-byte character whole or not at all. Returns the input bytes
 * consumed (< n when the limit cut the text).
 */
static size_t esc_append(char *out, size_t *k, size_t limit, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i = 0;

	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		char e[6];
		size_t el = 2, adv = 1;

		if (c == '"' || c == '\\') {
			e[0] = '\\';
			e[1] = (char)c;
		} else if (c == '\n' || c == '\t') {
			e[0] = '\\';
			e[1] = c == '\n' ? 'n' : 't';
		} else if (c < 0x20) {
			memcpy(e, "\\u00", 4);
			e[4] = hex[c >> 4];
			e[5] = hex[c & 15];
			el = 6;
		} else {
			/* a UTF-8 lead byte says how long its character is */
			adv = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
			if (adv > n - i)
				adv = n - i;
			if (*k + adv > limit)
				break;
			memcpy(out + *k, s + i, adv);
			*k += adv;
			i += adv;
			continue;
		}
		if (*k + el > limit)
			break;
		memcpy(out + *k, e, el);
		*k += el;
		i += adv;
	}
	return i;
}

/*
 * A chat body of at most `size` bytes of JSON, same envelope and turn shares
 * as the synthetic one, each turn filled with consecutive prompts of c from
 * *cursor on (separated by a blank line; the last one cut to fit), *cursor
 * advanced past them (wrapping). Returns the body (malloc) or NULL.
 */
static char *real_body(const struct corpus *c, size_t size, size_t *cursor, size_t *len)
{
	static const char sep[] = "\\n\\n";
	size_t over = strlen(body_head) + strlen(body_tail), text, k = 0;
	char *b;

	for (int i = 0; i < 4; i++)
		over += (size_t)snprintf(NULL, 0, "%s{\"role\":\"%s\",\"content\":\"\"}",
					 i ? "," : "", roles[i]);
	text = size > over + 64 ? size - over : 64;
	b = malloc(over + text + 4 * 16 + 1);
	if (!b)
		return NULL;
	k += (size_t)sprintf(b + k, "%s", body_head);
	for (int i = 0; i < 4; i++) {
		size_t want = (size_t)((double)text * role_share[i]);
		size_t limit;
		bool first = true;

		k += (size_t)sprintf(b + k, "%s{\"role\":\"%s\",\"content\":\"", i ? "," : "",
				     roles[i]);
		limit = k + (want > 16 ? want : 16);
		while (k < limit) {
			uint32_t p = c->order[*cursor % c->n];
			size_t plen = c->off[p + 1] - c->off[p];

			if (!first) {
				if (k + sizeof(sep) - 1 + 1 > limit)
					break;
				memcpy(b + k, sep, sizeof(sep) - 1);
				k += sizeof(sep) - 1;
			}
			first = false;
			size_t used = esc_append(b, &k, limit, c->text.p + c->off[p], plen);

			*cursor += 1;
			if (used < plen)
				break;
		}
		k += (size_t)sprintf(b + k, "\"}");
	}
	k += (size_t)sprintf(b + k, "%s", body_tail);
	*len = k;
	return b;
}

/* ---- bodies of one row ---- */

struct body_set {
	char *b[MAX_BODIES];
	size_t len[MAX_BODIES]; /* bytes */
	unsigned n;
	size_t mean_len;        /* bytes */
};

static void body_set_free(struct body_set *bs)
{
	for (unsigned j = 0; j < bs->n; j++) {
		free(bs->b[j]);
		bs->b[j] = NULL;
	}
	bs->n = 0;
}

/* n bodies of about `size` bytes: synthetic when c is NULL, else real text. */
static int body_set_make(struct body_set *bs, size_t size, unsigned n, const struct corpus *c)
{
	size_t cursor = 0, total = 0;

	bs->n = 0;
	for (unsigned j = 0; j < n; j++) {
		bs->b[j] = c ? real_body(c, size, &cursor, &bs->len[j])
			     : gen_body(size, 12345 + 7919ull * j, &bs->len[j]);
		if (!bs->b[j]) {
			body_set_free(bs);
			return -ENOMEM;
		}
		bs->n++;
		total += bs->len[j];
	}
	bs->mean_len = total / n;
	return 0;
}

/* ---- the host interruption probe ---- */

struct probe {
	double rate;       /* interruptions per s (gaps PROBE_GAP_NS..PROBE_SWITCH_NS) */
	double med_ns;     /* their median length */
	double p90_ns;
	double lost_pct;   /* their total length over the probe's, % */
	size_t switches;   /* gaps over PROBE_SWITCH_NS: the thread was switched out */
};

/*
 * Bare rdtsc reads in a tight loop for PROBE_SEC: a read follows the previous
 * one by ~10 ns unless something took the CPU in between. Gaps over
 * PROBE_GAP_NS are the host (or a guest interrupt, which this loop cannot
 * tell apart); gaps over PROBE_SWITCH_NS are other guest threads. Returns 0 or
 * -ENOMEM.
 */
static int probe_host(double tpn, struct probe *pr)
{
	uint64_t *gaps = malloc(PROBE_MAX_GAPS * sizeof(*gaps));
	uint64_t thr = (uint64_t)(PROBE_GAP_NS * tpn), sw = (uint64_t)(PROBE_SWITCH_NS * tpn);
	uint64_t start, prev, end, lost = 0;
	size_t n = 0;

	memset(pr, 0, sizeof(*pr));
	if (!gaps)
		return -ENOMEM;
	start = prev = __rdtsc();
	end = start + (uint64_t)(PROBE_SEC * 1e9 * tpn);
	for (;;) {
		uint64_t t = __rdtsc(), g = t - prev;

		prev = t;
		if (g > thr) {
			if (g > sw) {
				pr->switches++;
			} else {
				lost += g;
				if (n < PROBE_MAX_GAPS)
					gaps[n++] = g;
			}
		}
		if (t >= end)
			break;
	}
	double secs = (double)(prev - start) / tpn / 1e9;

	pr->rate = (double)n / secs;
	pr->lost_pct = 100.0 * (double)lost / (double)(prev - start);
	if (n) {
		qsort(gaps, n, sizeof(*gaps), cmp_u64);
		pr->med_ns = (double)pct(gaps, n, 0.5) / tpn;
		pr->p90_ns = (double)pct(gaps, n, 0.9) / tpn;
	}
	free(gaps);
	return 0;
}

/* ---- timing ---- */

/* Fixed work for the jitter baseline: `units` passes of a dependent FP chain over
 * a 2 KB buffer that stays in L1. Latency-bound and data-independent, so every
 * call does exactly the same work and its time spread is the machine's. */
static unsigned char jit_buf[2048];

static double jit_work(unsigned units)
{
	double acc = 1.0;

	for (unsigned u = 0; u < units; u++)
		for (size_t i = 0; i < sizeof(jit_buf); i += 32)
			acc = acc * 0.9999 + (double)jit_buf[i];
	return acc;
}

/* Units of jit_work() that take about target_ns: the fastest of several timed
 * batches, so an interrupted batch does not skew the calibration. */
static unsigned jit_calibrate(double target_ns, double tpn)
{
	enum { BATCH = 200, TRIES = 5 };
	uint64_t best = UINT64_MAX;
	volatile double sink = 0;

	for (int t = 0; t < TRIES; t++) {
		uint64_t t0 = tsc();

		sink += jit_work(BATCH);
		uint64_t dt = tsc() - t0;

		if (dt < best)
			best = dt;
	}
	(void)sink;
	double unit_ns = (double)best / tpn / BATCH;
	double u = target_ns / unit_ns + 0.5;

	return u < 1 ? 1 : (unsigned)u;
}

struct dummy_ctx {
	unsigned matches;
};

static int count_match(unsigned id, unsigned long long from, unsigned long long to,
		       unsigned flags, void *arg)
{
	(void)id;
	(void)from;
	(void)to;
	(void)flags;
	((struct dummy_ctx *)arg)->matches++;
	return 0;
}

/* Context switches of the calling thread so far (voluntary + involuntary), -1 if unknown. */
static long ctx_switches(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_THREAD, &ru))
		return -1;
	return ru.ru_nvcsw + ru.ru_nivcsw;
}

struct bench {
	struct rv_ctx rv;
	struct cls_ctx ctx;
	struct cls_policy *pol;
	struct pol_image *img;
	hs_scratch_t *raw_scratch;    /* for the raw hs_scan() baseline */
	double tpn;                   /* TSC ticks per ns */
	double budget_ms;             /* per row */
	uint64_t *lat;                /* MAX_SAMPLES, TSC ticks, [round * N + body] */
	uint64_t *jit;                /* same layout, jitter loop */
	uint64_t *stg[NSTAGE];        /* MAX_SAMPLES each: view, stats, scan, features, score */
	uint64_t *tmp;                /* MAX_SAMPLES, for sorting */
	volatile size_t sink;         /* keeps results alive */
};

/*
 * Rounds per filter group: the filtered sample of a body is its minimum over
 * FILTER_K rounds with the same history (see the top comment for why 3).
 */
#define FILTER_K 3

/* Raw and filtered percentiles, ns. */
struct lat {
	double raw50, raw99, f50, f99;
};

/*
 * Summarize rounds x n samples t[r * n + b] (rounds a multiple of FILTER_K):
 * raw percentiles over all of them, filtered ones over the minimum of each
 * body over each group of FILTER_K consecutive rounds.
 */
static void lat_summary(const struct bench *bn, const uint64_t *t, size_t rounds, size_t n,
			struct lat *o)
{
	size_t all = rounds * n, m = 0;

	memcpy(bn->tmp, t, all * sizeof(*t));
	qsort(bn->tmp, all, sizeof(*t), cmp_u64);
	o->raw50 = (double)pct(bn->tmp, all, 0.5) / bn->tpn;
	o->raw99 = (double)pct(bn->tmp, all, 0.99) / bn->tpn;
	for (size_t k = 0; k + FILTER_K <= rounds; k += FILTER_K)
		for (size_t b = 0; b < n; b++) {
			uint64_t x = t[k * n + b];

			for (size_t j = 1; j < FILTER_K; j++)
				if (t[(k + j) * n + b] < x)
					x = t[(k + j) * n + b];
			bn->tmp[m++] = x;
		}
	qsort(bn->tmp, m, sizeof(*t), cmp_u64);
	o->f50 = (double)pct(bn->tmp, m, 0.5) / bn->tpn;
	o->f99 = (double)pct(bn->tmp, m, 0.99) / bn->tpn;
}

struct row {
	char label[16];
	const char *kind;
	size_t rounds, samples;
	struct lat dec, jit;
	long csw;                /* context switches during the timed rounds, -1 unknown */
	double ns_per_kb;        /* filtered p50 per KB of body */
	double share[NSTAGE];    /* % of the sum of stage medians */
	double stage_sum_ns;     /* sum of stage medians (with the extra timer reads) */
	double memchr_ns, hsraw_ns;
};

/* Stage pass: rounds of n bodies with a fenced TSC read between stages. Returns samples. */
static size_t time_stages(struct bench *bn, const struct body_set *bs, size_t max_rounds,
			  double ms)
{
	struct cls_decision d;
	struct cls_text_stats st;
	struct rv_view v;
	double t_end = now_ns() + ms * 1e6;
	size_t r;

	for (r = 0; r < max_rounds && (r < 2 || now_ns() < t_end); r++)
		for (unsigned b = 0; b < bs->n; b++) {
			size_t i = r * bs->n + b;
			uint64_t t0 = tsc();

			rv_parse(&bn->rv, RV_EP_CHAT, bs->b[b], bs->len[b], &v);
			uint64_t t1 = tsc();

			/* the same steps as cls_decide(), timed one by one */
			cls_view_stats(&v, &st);
			uint64_t t2 = tsc();

			cls_scan_begin(&bn->ctx, bn->pol);
			cls_scan_text_gated(&bn->ctx, (const uint8_t *)v.text.p, v.text.len,
					    cls_gates(&st));
			uint64_t t3 = tsc();

			cls_features_view_stats(&v, &st, &bn->ctx.res, d.x);
			uint64_t t4 = tsc();

			cls_decide_finish(bn->pol, &bn->ctx.res, d.x, &d);
			uint64_t t5 = tsc();

			bn->stg[0][i] = t1 - t0;
			bn->stg[1][i] = t2 - t1;
			bn->stg[2][i] = t3 - t2;
			bn->stg[3][i] = t4 - t3;
			bn->stg[4][i] = t5 - t4;
			bn->sink += d.route;
		}
	return r * bs->n;
}

/*
 * Latency pass: whole decisions (rv_parse + cls_decide) in rounds of n bodies,
 * stopping only after a whole group of FILTER_K rounds. The clock is read
 * before every round, so all rounds of a group see the same code before each
 * body. Returns the rounds run (a multiple of FILTER_K, >= FILTER_K).
 */
static size_t time_decisions(struct bench *bn, const struct body_set *bs, size_t max_rounds,
			     double ms)
{
	struct cls_decision d;
	struct rv_view v;
	double t_end = now_ns() + ms * 1e6;

	for (size_t r = 0;; r++) {
		bool time_left = now_ns() < t_end;

		if (r % FILTER_K == 0 && (r == max_rounds || (r >= FILTER_K && !time_left)))
			return r;
		for (unsigned b = 0; b < bs->n; b++) {
			uint64_t t0 = tsc();

			rv_parse(&bn->rv, RV_EP_CHAT, bs->b[b], bs->len[b], &v);
			cls_decide(&bn->ctx, bn->pol, &v, &d);
			uint64_t t1 = tsc();

			bn->lat[r * bs->n + b] = t1 - t0;
			bn->sink += d.route;
		}
	}
}

/* One row: bodies checked, warmed up, stage pass, latency pass, jitter rounds, baselines. */
static int run_row(struct bench *bn, const struct body_set *bs, struct row *o)
{
	size_t n = bs->n, max_rounds = MAX_SAMPLES / n;
	struct cls_decision d;
	struct rv_view v;
	long cs0;

	max_rounds -= max_rounds % FILTER_K;
	for (unsigned b = 0; b < n; b++) {
		if (rv_parse(&bn->rv, RV_EP_CHAT, bs->b[b], bs->len[b], &v) < 0) {
			fprintf(stderr, "bench_classify: %s body %u refused: %s at %u\n", o->kind, b,
				rv_strerror(v.err), v.err_off);
			return -EINVAL;
		}
		if (cls_decide(&bn->ctx, bn->pol, &v, &d)) {
			fprintf(stderr, "bench_classify: %s body %u: cls_decide failed\n", o->kind, b);
			return -EINVAL;
		}
	}
	for (unsigned w = 0; w < 2 * n || w < 200; w++) { /* warm-up */
		rv_parse(&bn->rv, RV_EP_CHAT, bs->b[w % n], bs->len[w % n], &v);
		cls_decide(&bn->ctx, bn->pol, &v, &d);
	}
	snprintf(o->label, sizeof(o->label), "%.1fKB", (double)bs->mean_len / 1024.0);

	/* stage shares from per-stage medians */
	size_t ns = time_stages(bn, bs, max_rounds, bn->budget_ms * 0.25);
	double med[NSTAGE], all = 0;

	for (int k = 0; k < NSTAGE; k++) {
		qsort(bn->stg[k], ns, sizeof(uint64_t), cmp_u64);
		med[k] = (double)pct(bn->stg[k], ns, 0.5);
		all += med[k];
	}
	for (int k = 0; k < NSTAGE; k++)
		o->share[k] = 100.0 * med[k] / all;
	o->stage_sum_ns = all / bn->tpn;

	/* latency rounds */
	cs0 = ctx_switches();
	o->rounds = time_decisions(bn, bs, max_rounds, bn->budget_ms * 0.35);
	long cs1 = ctx_switches();

	o->csw = cs0 >= 0 && cs1 >= 0 ? cs1 - cs0 : -1;
	o->samples = o->rounds * n;
	lat_summary(bn, bn->lat, o->rounds, n, &o->dec);
	o->ns_per_kb = o->dec.f50 / ((double)bs->mean_len / 1024.0);

	/* jitter baseline: fixed work of about the decision's filtered p50, same rounds */
	unsigned units = jit_calibrate(o->dec.f50, bn->tpn);
	volatile double jsink = 0;

	for (size_t r = 0; r < o->rounds; r++) {
		(void)now_ns(); /* as in the latency pass */
		for (size_t b = 0; b < n; b++) {
			uint64_t t0 = tsc();

			jsink += jit_work(units);
			bn->jit[r * n + b] = tsc() - t0;
		}
	}
	(void)jsink;
	lat_summary(bn, bn->jit, o->rounds, n, &o->jit);

	/* baselines on the same bodies: medians */
	size_t nb = o->samples < MAX_BASE ? o->samples : MAX_BASE;
	uint64_t *bm = bn->tmp, *bh = bn->tmp + MAX_BASE;
	struct dummy_ctx dc = { 0 };
	const hs_database_t *db = pol_image_hsdb(bn->img);

	for (size_t i = 0; i < nb; i++) {
		const char *body = bs->b[i % n];
		size_t blen = bs->len[i % n];
		uint64_t t0 = tsc();

		bn->sink += memchr(body, '\x01', blen) != NULL;
		uint64_t t1 = tsc();

		if (db)
			hs_scan(db, body, (unsigned)blen, 0, bn->raw_scratch, count_match, &dc);
		uint64_t t2 = tsc();

		bm[i] = t1 - t0;
		bh[i] = t2 - t1;
	}
	qsort(bm, nb, sizeof(*bm), cmp_u64);
	qsort(bh, nb, sizeof(*bh), cmp_u64);
	o->memchr_ns = (double)pct(bm, nb, 0.5) / bn->tpn;
	o->hsraw_ns = (double)pct(bh, nb, 0.5) / bn->tpn;
	bn->sink += dc.matches;
	return 0;
}

static void print_lat_header(void)
{
	printf("\nlatency, ns per decision (rv_parse + cls_decide); filt = min of the same body "
	       "over %d rounds with the same history\n", FILTER_K);
	printf("%7s %-9s %7s | %8s %8s | %8s %8s %7s | %8s %8s %8s %8s %7s | %5s %7s\n", "body",
	       "kind", "samples", "raw p50", "raw p99", "filt p50", "filt p99", "f99/f50",
	       "jit p50", "jit p99", "jit fp50", "jit fp99", "f99/f50", "csw", "ns/KB");
}

static void print_lat_row(const struct row *o)
{
	char csw[24] = "-";

	if (o->csw >= 0)
		snprintf(csw, sizeof(csw), "%ld", o->csw);
	printf("%7s %-9s %7zu | %8.0f %8.0f | %8.0f %8.0f %7.2f | %8.0f %8.0f %8.0f %8.0f %7.2f | "
	       "%5s %7.0f\n",
	       o->label, o->kind, o->samples, o->dec.raw50, o->dec.raw99, o->dec.f50, o->dec.f99,
	       o->dec.f99 / o->dec.f50, o->jit.raw50, o->jit.raw99, o->jit.f50, o->jit.f99,
	       o->jit.f99 / o->jit.f50, csw, o->ns_per_kb);
	fflush(stdout);
}

/*
 * The goal, read off the 2 KB rows: a decision under 2 us p99 on one
 * core. The filtered p99 is the code's; the raw p99 is what this VM delivers,
 * printed beside the jitter loop's raw p99 at the same p50 (what the VM adds
 * to any operation of that length).
 */
static void print_goal(const struct row *rows, size_t n)
{
	printf("\ngoal: 2 KB decision under 2000 ns p99 on one core\n");
	for (size_t i = 0; i < n; i++) {
		const struct row *o = &rows[i];

		if (o->dec.f50 <= 0 || strcmp(o->label, "2.0KB") != 0)
			continue;
		printf("  2 KB %-9s filtered p99 %6.0f ns (%s)   raw p99 %6.0f ns, jitter loop of "
		       "the same p50: raw p99 %6.0f ns\n",
		       o->kind, o->dec.f99, o->dec.f99 < 2000.0 ? "under" : "OVER", o->dec.raw99,
		       o->jit.raw99);
	}
}

static void print_stage_table(const struct row *rows, size_t n)
{
	printf("\nstage shares (median per stage over the sum of medians; the stage pass reads "
	       "the TSC between stages)\n");
	printf("%7s %-9s | %6s %6s %6s %6s %6s | %10s %9s | %10s %10s\n", "body", "kind",
	       "view%", "stats%", "scan%", "feat%", "score%", "stages ns", "filt p50", "memchr p50",
	       "hs_raw p50");
	for (size_t i = 0; i < n; i++) {
		const struct row *o = &rows[i];

		printf("%7s %-9s | %6.1f %6.1f %6.1f %6.1f %6.1f | %10.0f %9.0f | %10.0f %10.0f\n",
		       o->label, o->kind, o->share[0], o->share[1], o->share[2], o->share[3],
		       o->share[4], o->stage_sum_ns, o->dec.f50, o->memchr_ns, o->hsraw_ns);
	}
}

/* Cost of the timer itself: median of an empty fenced window, ns. */
static double timer_overhead(double tpn)
{
	uint64_t v[1001];

	for (size_t i = 0; i < 1001; i++) {
		uint64_t t0 = tsc();

		v[i] = tsc() - t0;
	}
	qsort(v, 1001, sizeof(v[0]), cmp_u64);
	return (double)v[500] / tpn;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "policy", required_argument, NULL, 'p' },
		{ "data", required_argument, NULL, 'd' },
		{ "cpu", required_argument, NULL, 'c' },
		{ "budget-ms", required_argument, NULL, 'b' },
		{ "bodies", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	static const size_t sizes[] = { 512, 2048, 8192, 32768, 204800 };
	static struct body_set bs;
	struct row rows[2 * sizeof(sizes) / sizeof(sizes[0])];
	struct rv_limits lim = { .max_body = 1 << 20, .max_depth = 32, .max_messages = 1024,
				 .max_text = 1 << 20, .max_parts = 64, .max_tools = 128 };
	const char *policy = TS_DEFAULT_POLICY, *data = TS_DEFAULT_DATA;
	struct bench bn = { .budget_ms = 3000 };
	struct corpus corpus;
	bool have_corpus = false;
	struct probe pr;
	size_t nrows = 0;
	unsigned nbodies = 1;
	int cpu = -1, opt, rc = 1;
	char err[512];

	while ((opt = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (opt) {
		case 'p': policy = optarg; break;
		case 'd': data = optarg; break;
		case 'c': cpu = atoi(optarg); break;
		case 'b': bn.budget_ms = atof(optarg); break;
		case 'n': nbodies = (unsigned)atoi(optarg); break;
		default:
			nbodies = 0;
			break;
		}
	}
	if (nbodies < 1 || nbodies > MAX_BODIES || optind != argc || !(bn.budget_ms > 0)) {
		fprintf(stderr, "usage: bench_classify [--policy IMAGE] [--data FILE] [--cpu N] "
				"[--budget-ms MS] [--bodies 1..%u]\n", MAX_BODIES);
		return 2;
	}
	if (cpu < 0)
		cpu = sched_getcpu();
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		fprintf(stderr, "bench_classify: cannot pin to cpu %d: %s\n", cpu, strerror(errno));
	bn.img = pol_image_open_file(policy, err, sizeof(err));
	if (!bn.img) {
		fprintf(stderr, "bench_classify: %s: %s\n", policy, err);
		goto out;
	}
	bn.pol = cls_policy_from_image(bn.img, err, sizeof(err));
	if (!bn.pol) {
		fprintf(stderr, "bench_classify: %s: %s\n", policy, err);
		goto out_img;
	}
	if (rv_ctx_init(&bn.rv, &lim)) {
		fprintf(stderr, "bench_classify: request view context: out of memory\n");
		goto out_pol;
	}
	if (cls_ctx_init(&bn.ctx) || cls_ctx_attach(&bn.ctx, bn.pol)) {
		fprintf(stderr, "bench_classify: classifier context refused the policy\n");
		goto out_ctx;
	}
	if (pol_image_hsdb(bn.img) &&
	    hs_alloc_scratch(pol_image_hsdb(bn.img), &bn.raw_scratch) != HS_SUCCESS) {
		fprintf(stderr, "bench_classify: hs_alloc_scratch failed\n");
		goto out_ctx;
	}
	bn.lat = malloc(MAX_SAMPLES * sizeof(uint64_t));
	bn.jit = malloc(MAX_SAMPLES * sizeof(uint64_t));
	bn.tmp = malloc(MAX_SAMPLES * sizeof(uint64_t));
	bool stg_ok = true;

	for (int k = 0; k < NSTAGE; k++) {
		bn.stg[k] = malloc(MAX_SAMPLES * sizeof(uint64_t));
		stg_ok = stg_ok && bn.stg[k];
	}
	if (!bn.lat || !bn.jit || !bn.tmp || !stg_ok) {
		fprintf(stderr, "bench_classify: out of memory\n");
		goto out_arrays;
	}
	for (size_t i = 0; i < sizeof(jit_buf); i++)
		jit_buf[i] = (unsigned char)(i * 131u + 7u); /* not foldable by the compiler */

	int lrc = corpus_load(&corpus, data, err, sizeof(err));

	if (lrc == -ENOENT) {
		printf("bench_classify: no real-text rows: %s\n", err);
	} else if (lrc) {
		fprintf(stderr, "bench_classify: %s\n", err);
		goto out_arrays;
	} else {
		have_corpus = true;
	}
	bn.tpn = tsc_per_ns();
	if (probe_host(bn.tpn, &pr)) {
		fprintf(stderr, "bench_classify: out of memory\n");
		goto out_corpus;
	}
	printf("bench_classify: policy %s (%u rules, version %llu), cpu %d, TSC %.3f GHz, "
	       "%u distinct bodies per size and kind\n",
	       policy, bn.pol->n_rules, (unsigned long long)bn.pol->version, cpu, bn.tpn, nbodies);
	if (have_corpus)
		printf("real text: %s, %zu prompts, %.1f MB\n", data, corpus.n,
		       (double)corpus.text.n / 1e6);
	printf("host probe (%.1f s rdtsc loop): %.0f interruptions/s over %.0f ns, median %.0f ns, "
	       "p90 %.0f ns, %.1f %% of time; %zu switches to other threads (> %.0f us)\n",
	       PROBE_SEC, pr.rate, PROBE_GAP_NS, pr.med_ns, pr.p90_ns, pr.lost_pct, pr.switches,
	       PROBE_SWITCH_NS / 1e3);
	printf("timer: %.0f ns per empty fenced TSC window (included in every sample)\n",
	       timer_overhead(bn.tpn));
	print_lat_header();
	for (size_t si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++)
		for (int kind = 0; kind < (have_corpus ? 2 : 1); kind++) {
			struct row *o = &rows[nrows];

			memset(o, 0, sizeof(*o));
			o->kind = kind ? "real" : "synthetic";
			if (body_set_make(&bs, sizes[si], nbodies, kind ? &corpus : NULL)) {
				fprintf(stderr, "bench_classify: out of memory\n");
				goto out_corpus;
			}
			int rrc = run_row(&bn, &bs, o);

			body_set_free(&bs);
			if (rrc)
				goto out_corpus;
			print_lat_row(o);
			nrows++;
		}
	print_stage_table(rows, nrows);
	print_goal(rows, nrows);
	rc = 0;

out_corpus:
	if (have_corpus)
		corpus_free(&corpus);
out_arrays:
	for (int k = 0; k < NSTAGE; k++)
		free(bn.stg[k]);
	free(bn.tmp);
	free(bn.jit);
	free(bn.lat);
	hs_free_scratch(bn.raw_scratch);
out_ctx:
	cls_ctx_fini(&bn.ctx);
	rv_ctx_fini(&bn.rv);
out_pol:
	cls_policy_free(bn.pol);
out_img:
	pol_image_close(bn.img);
out:
	return rc;
}
