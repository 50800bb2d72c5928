/* SPDX-License-Identifier: Proprietary */
/*
 * bench_reqview - ns per rv_parse() on generated /v1/chat/completions bodies of about
 * 0.5, 2, 8, 32 and 200 KB (multi-turn, a tool, stream options) with four kinds of
 * text: "plain" English prose, "mixed" text dense in escapes and non-ASCII, "cjk"
 * Chinese/Japanese (3-byte UTF-8 characters) and "chat", the generated prompts of
 * bench_classify (words, numbers, code, an escape every ~90 bytes), beside a
 * baseline measured in the same run: memcpy of the same body (the least any pass
 * over it can cost).  Each size cycles through NBODY distinct bodies (the sentences
 * start at a different place in each), so the branch predictor cannot learn one
 * body by heart.  Every call is timed alone; prints median and p99, and bytes/ns of
 * the median.
 * With a second argument, also "files": every *.json in that folder (up to NBODY
 * bodies, e.g. real prompts packed into chat bodies; dataplane/reqview/README.md
 * shows how to make them), cycled the same way.
 * Never fails on a timing.  Usage: bench_reqview [iterations-scale [bodies-dir]]
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "reqview.h"
#include "bench_text.h"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Mixed: escapes and non-ASCII in about every other sentence (a hard case). */
static const char *const mixed[] = {
	"Please review the following function and explain why it leaks memory.",
	"The quarterly report shows a 12% increase in revenue across all regions.",
	"He said \\\"this is fine\\\" and left the room.\\nThen the build broke again.",
	"Translate to French: the weather is nice today and we should go outside.",
	"Caf\\u00e9 na\\u00efve r\\u00e9sum\\u00e9 \xe2\x80\x94 d\xc3\xa9j\xc3\xa0 vu \xf0\x9f\x98\x80.",
	"for (int i = 0; i < n; i++) { sum += a[i] * b[i]; }\\n",
	"Summarise the key points of the meeting in three bullet points.",
	"What is the integral of x^2 * sin(x) dx? Show each step.",
};

/* CJK: Chinese and Japanese prose, 3-byte UTF-8 characters, ASCII punctuation. */
static const char *const cjk[] = {
	"\xe8\xaf\xb7\xe8\xa7\xa3\xe9\x87\x8a\xe4\xb8\x80\xe4\xb8\x8b\xe8\xbf\x99\xe6\xae\xb5\xe4\xbb\xa3"
	"\xe7\xa0\x81\xe4\xb8\xba\xe4\xbb\x80\xe4\xb9\x88\xe4\xbc\x9a\xe5\x86\x85\xe5\xad\x98\xe6\xb3\x84"
	"\xe6\xbc\x8f\xef\xbc\x8c\xe5\xb9\xb6\xe7\xbb\x99\xe5\x87\xba\xe4\xbf\xae\xe5\xa4\x8d\xe6\x96\xb9"
	"\xe6\xa1\x88\xe3\x80\x82",
	"\xe4\xbb\x8a\xe6\x97\xa5\xe3\x81\xaf\xe3\x81\x84\xe3\x81\x84\xe5\xa4\xa9\xe6\xb0\x97\xe3\x81\xa7"
	"\xe3\x81\x99\xe3\x81\xad\xe3\x80\x82\xe6\x95\xa3\xe6\xad\xa9\xe3\x81\xab\xe8\xa1\x8c\xe3\x81\x8d"
	"\xe3\x81\xbe\xe3\x81\x97\xe3\x82\x87\xe3\x81\x86\xe3\x81\x8b\xef\xbc\x9f",
};

/* Plain: English prose, one escaped newline per paragraph (typical chat text). */
static const char *const plain[] = {
	"Please review the following function and explain why it leaks memory when the "
	"input list is empty, and suggest a fix that keeps the public interface unchanged.",
	"The quarterly report shows a twelve percent increase in revenue across all "
	"regions, driven mostly by the new subscription tier launched in the spring.",
	"Summarise the key points of the meeting in three bullet points and list the "
	"owners of each follow-up action with a due date.\\n",
	"What is the integral of x squared times sine of x? Show each step and explain "
	"which integration technique you used and why it applies here.",
};

/* Distinct bodies per size and kind. */
#define NBODY 64
/* Bytes of buffer per body. */
#define BODY_CAP 300000

/*
 * Appends about target bytes of message JSON to buf (cap bytes); seed picks the first
 * sentence (or seeds the "chat" generator when sentences is NULL).
 */
static size_t make_body(char *buf, size_t cap, size_t target, const char *const *sentences,
			size_t nsent, uint64_t seed)
{
	size_t n = 0, s = (size_t)seed;
	uint64_t rng = seed * 0x9E3779B97F4A7C15ull + 1;
	int turn = 0;

	n += (size_t)snprintf(buf + n, cap - n,
			      "{\"model\":\"gpt-4o-mini\",\"temperature\":0.7,\"max_tokens\":512,"
			      "\"stream\":true,\"stream_options\":{\"include_usage\":true},"
			      "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\","
			      "\"parameters\":{\"type\":\"object\",\"properties\":{\"city\":"
			      "{\"type\":\"string\"}}}}}],"
			      "\"messages\":[{\"role\":\"system\",\"content\":\"You are a helpful "
			      "assistant.\"}");
	while (n + 120 < target && n + 600 < cap) {
		n += (size_t)snprintf(buf + n, cap - n, ",{\"role\":\"%s\",\"content\":\"",
				      turn++ % 2 ? "assistant" : "user");
		if (sentences == NULL) {
			size_t want = target - n - 120 < 700 ? target - n - 120 : 700;

			n += bench_gen_text(buf + n, want > 16 ? want : 16, &rng);
		} else {
			do {
				n += (size_t)snprintf(buf + n, cap - n, "%s ",
						      sentences[s++ % nsent]);
			} while (n + 120 < target && (s % 5) != 0);
		}
		n += (size_t)snprintf(buf + n, cap - n, "\"}");
	}
	n += (size_t)snprintf(buf + n, cap - n, "]}");
	return n;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Median of back-to-back clock reads: subtracted from every sample. */
static uint64_t clock_overhead(void)
{
	uint64_t t[1001];
	int i;

	for (i = 0; i < 1001; i++) {
		uint64_t t0 = now_ns();

		t[i] = now_ns() - t0;
	}
	qsort(t, 1001, sizeof(t[0]), cmp_u64);
	return t[500];
}

/*
 * Median and p99 of `runs` single calls, each timed on its own (so a preemption
 * spoils one sample, not a batch), for rv_parse() and for a memcpy of the body; call
 * i parses body i % NBODY.
 */
static void measure(struct rv_ctx *ctx, char *const *bodies, const size_t *lens, char *copy,
		    int runs, uint64_t ovh, double out[4])
{
	uint64_t *t = malloc(sizeof(uint64_t) * (size_t)runs);
	uint64_t *c = malloc(sizeof(uint64_t) * (size_t)runs);
	struct rv_view v;
	int i;

	if (t == NULL || c == NULL) {
		free(t);
		free(c);
		return;
	}
	for (i = 0; i < runs; i++) {
		const char *body = bodies[i % NBODY];
		size_t len = lens[i % NBODY];
		uint64_t t0 = now_ns(), d;

		if (rv_parse(ctx, RV_EP_CHAT, body, len, &v) < 0)
			fprintf(stderr, "parse failed: %s\n", rv_strerror(v.err));
		d = now_ns() - t0;
		t[i] = d > ovh ? d - ovh : 0;
		t0 = now_ns();
		memcpy(copy, body, len);
		__asm__ volatile("" : : "r"(copy) : "memory");
		d = now_ns() - t0;
		c[i] = d > ovh ? d - ovh : 0;
	}
	qsort(t, (size_t)runs, sizeof(*t), cmp_u64);
	qsort(c, (size_t)runs, sizeof(*c), cmp_u64);
	out[0] = (double)t[runs / 2];
	out[1] = (double)t[runs * 99 / 100];
	out[2] = (double)c[runs / 2];
	out[3] = (double)c[runs * 99 / 100];
	free(t);
	free(c);
}

/*
 * Reads up to NBODY *.json files of dir into bufs (BODY_CAP bytes each); returns how
 * many, their lengths in lens.
 */
static size_t load_bodies(const char *dir, char *const *bufs, size_t *lens)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t nb = 0;

	if (d == NULL) {
		fprintf(stderr, "cannot open %s\n", dir);
		return 0;
	}
	while (nb < NBODY && (e = readdir(d)) != NULL) {
		size_t l = strlen(e->d_name);
		char path[4096];
		FILE *f;

		if (l < 5 || strcmp(e->d_name + l - 5, ".json") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		f = fopen(path, "rb");
		if (f == NULL)
			continue;
		lens[nb] = fread(bufs[nb], 1, BODY_CAP, f);
		fclose(f);
		if (lens[nb] > 0 && lens[nb] < BODY_CAP)
			nb++;
	}
	closedir(d);
	return nb;
}

int main(int argc, char **argv)
{
	static const size_t sizes[] = { 512, 2048, 8192, 32768, 204800 };
	struct rv_limits lim = { .max_body = 1u << 20, .max_depth = 32, .max_messages = 1024,
				 .max_text = 1u << 20, .max_parts = 64, .max_tools = 128 };
	int scale = argc > 1 ? atoi(argv[1]) : 1;
	/* the text kinds: sentences to draw from, or NULL for the generated chat text */
	static const struct {
		const char *name;
		const char *const *sentences;
		size_t n;
	} kinds[] = {
		{ "plain", plain, sizeof(plain) / sizeof(plain[0]) },
		{ "mixed", mixed, sizeof(mixed) / sizeof(mixed[0]) },
		{ "cjk", cjk, sizeof(cjk) / sizeof(cjk[0]) },
		{ "chat", NULL, 0 },
	};
	struct rv_ctx ctx;
	char *bufs[NBODY], *copy, *all;
	size_t lens[NBODY];
	uint64_t ovh;
	size_t i, k, b;

	if (scale < 1)
		scale = 1;
	if (rv_ctx_init(&ctx, &lim) < 0) {
		fprintf(stderr, "rv_ctx_init failed\n");
		return 1;
	}
	copy = malloc(BODY_CAP);
	all = malloc((size_t)NBODY * BODY_CAP);
	if (copy == NULL || all == NULL) {
		fprintf(stderr, "out of memory\n");
		free(all);
		free(copy);
		rv_ctx_fini(&ctx);
		return 1;
	}
	for (b = 0; b < NBODY; b++)
		bufs[b] = all + b * BODY_CAP;
	ovh = clock_overhead();
	printf("clock read overhead %llu ns (subtracted)\n", (unsigned long long)ovh);
	printf("%-6s %-8s %8s %6s %12s %12s %8s %12s %12s\n", "text", "target", "bytes", "msgs",
	       "parse_med_ns", "parse_p99_ns", "B/ns", "memcpy_med", "memcpy_p99");
	for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			int runs = (sizes[i] >= 32768 ? 2000 : 20000) * scale;
			double r[4] = { 0 }, avg = 0, msgs = 0;
			struct rv_view v;

			for (b = 0; b < NBODY; b++) {
				lens[b] = make_body(bufs[b], BODY_CAP, sizes[i], kinds[k].sentences,
						    kinds[k].n, b);
				avg += (double)lens[b] / NBODY;
				if (rv_parse(&ctx, RV_EP_CHAT, bufs[b], lens[b], &v) < 0) {
					fprintf(stderr, "generated body refused: %s at %u\n",
						rv_strerror(v.err), v.err_off);
					break;
				}
				msgs += (double)v.nmsgs / NBODY;
			}
			if (b < NBODY)
				break;
			measure(&ctx, bufs, lens, copy, runs, ovh, r);
			printf("%-6s %-8zu %8.0f %6.0f %12.0f %12.0f %8.2f %12.0f %12.0f\n",
			       kinds[k].name, sizes[i], avg, msgs, r[0], r[1],
			       r[0] > 0 ? avg / r[0] : 0.0, r[2], r[3]);
		}
	}
	if (argc > 2) {
		size_t nb = load_bodies(argv[2], bufs, lens), ok = 0;
		double r[4] = { 0 }, avg = 0;
		struct rv_view v;

		/* Fewer than NBODY files: cycle through them again. */
		for (b = nb; nb > 0 && b < NBODY; b++) {
			memcpy(bufs[b], bufs[b % nb], lens[b % nb]);
			lens[b] = lens[b % nb];
		}
		for (b = 0; nb > 0 && b < NBODY; b++) {
			avg += (double)lens[b] / NBODY;
			ok += rv_parse(&ctx, RV_EP_CHAT, bufs[b], lens[b], &v) >= 0;
		}
		if (nb == 0 || ok < NBODY) {
			fprintf(stderr, "files: %zu bodies read, %zu of %d parsed\n", nb, ok, NBODY);
		} else {
			measure(&ctx, bufs, lens, copy, 20000 * scale, ovh, r);
			printf("%-6s %-8zu %8.0f %6u %12.0f %12.0f %8.2f %12.0f %12.0f\n", "files", nb,
			       avg, v.nmsgs, r[0], r[1], r[0] > 0 ? avg / r[0] : 0.0, r[2], r[3]);
		}
	}
	free(copy);
	free(all);
	rv_ctx_fini(&ctx);
	return 0;
}
