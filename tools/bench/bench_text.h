/* SPDX-License-Identifier: proprietary */
/*
 * The synthetic chat text of bench_classify and bench_reqview: English words
 * from a small list with some code, numbers, escapes and math, JSON-escaped.
 * One generator for both, so their "synthetic"/"chat" rows time the same text
 * and stay comparable over time (do not change it without saying so in both
 * READMEs' tables).
 */
#ifndef TWOSPEED_BENCH_TEXT_H
#define TWOSPEED_BENCH_TEXT_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static const char *const bench_words[] = {
	"the", "system", "request", "latency", "model", "should", "compare", "why", "data",
	"because", "answer", "question", "memory", "design", "and", "of", "to", "in", "is",
	"for", "with", "on", "that", "this", "review", "function", "value", "error", "results",
	"please", "explain", "summary", "report", "customer", "order", "shipping", "within",
};

/*
 * Appends about n bytes (at most n + 64) of generated JSON-escaped text to out;
 * returns the bytes written. *rng is the generator's state (an LCG).
 */
static inline size_t bench_gen_text(char *out, size_t n, uint64_t *rng)
{
	size_t k = 0;

	while (k < n) {
		const char *w;
		char tmp[64];
		size_t l;
		uint32_t r;

		*rng = *rng * 6364136223846793005ull + 1442695040888963407ull;
		r = (uint32_t)(*rng >> 33);
		switch (r % 41) {
		case 0: w = "\\n"; break;
		case 1: w = "x = f(y) + 2;"; break;
		case 2: snprintf(tmp, sizeof(tmp), "%u", r % 100000); w = tmp; break;
		case 3: w = "\\\"quoted\\\""; break;
		case 4: w = "$\\\\frac{a}{b}$"; break;
		default: w = bench_words[r % (sizeof(bench_words) / sizeof(bench_words[0]))]; break;
		}
		l = strlen(w);
		memcpy(out + k, w, l);
		k += l;
		out[k++] = (r & 15) == 0 ? '.' : ' ';
	}
	return k;
}

#endif /* TWOSPEED_BENCH_TEXT_H */
