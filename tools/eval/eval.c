/* SPDX-License-Identifier: proprietary */
/*
 * twospeed-eval: routing quality of scored prompts.
 *
 *   twospeed-eval [--score-field NAME] [FILE|-]
 *
 * Input: JSONL, one prompt per line, with a score ("score", or "p_frontier"
 * as written by twospeed-classify, or --score-field), "strong_score" and
 * "weak_score" (numbers or booleans). Output: APGR, CPT(50%) and CPT(80%)
 * as defined in shared/data/routing/README.md, computed by tools/lib
 * (tl_metrics.h: ties are spread evenly, so the result does not depend on
 * line order). Lines without the fields are reported on stderr and
 * skipped; the exit status is 1 when any line was skipped or the metrics
 * are undefined (strong and weak tie), 2 on usage errors, else 0.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tl_json.h"
#include "tl_metrics.h"

struct cols {
	double *score, *strong, *weak;
	size_t n, cap;
};

static int push(struct cols *c, double s, double st, double wk)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 1024;
		double *a = realloc(c->score, cap * sizeof(double));

		if (!a)
			return -ENOMEM;
		c->score = a;
		a = realloc(c->strong, cap * sizeof(double));
		if (!a)
			return -ENOMEM;
		c->strong = a;
		a = realloc(c->weak, cap * sizeof(double));
		if (!a)
			return -ENOMEM;
		c->weak = a;
		c->cap = cap;
	}
	c->score[c->n] = s;
	c->strong[c->n] = st;
	c->weak[c->n] = wk;
	c->n++;
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: twospeed-eval [--score-field NAME] [FILE|-]\n"
		   "  each line: {\"score\" or \"p_frontier\": x, \"strong_score\": s, "
		   "\"weak_score\": w}\n");
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "score-field", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *field = NULL, *path = "-";
	struct cols c = { 0 };
	struct tl_jdoc doc;
	struct tl_lines *in;
	struct tl_route_metrics m;
	const char *line;
	size_t len, lineno = 0, bad = 0;
	char err[256];
	int opt, rc, status = 1;

	while ((opt = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (opt) {
		case 'f': field = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (argc - optind > 1) {
		usage(stderr);
		return 2;
	}
	if (optind < argc)
		path = argv[optind];
	in = tl_lines_open(path, err, sizeof(err));
	if (!in) {
		fprintf(stderr, "twospeed-eval: %s\n", err);
		return 1;
	}
	tl_jdoc_init(&doc);
	while ((rc = tl_lines_next(in, &line, &len)) > 0) {
		const struct tl_jnode *root, *sn;
		double s, st, wk;

		lineno++;
		if (len == 0)
			continue;
		if (tl_json_parse(&doc, line, len, err, sizeof(err))) {
			fprintf(stderr, "%s:%zu: bad JSON: %s\n", path, lineno, err);
			bad++;
			continue;
		}
		root = &doc.nodes[0];
		sn = field ? tl_json_get(&doc, root, field) : tl_json_get(&doc, root, "score");
		if (!sn && !field)
			sn = tl_json_get(&doc, root, "p_frontier");
		if (!tl_json_number(sn, &s) ||
		    !tl_json_number(tl_json_get(&doc, root, "strong_score"), &st) ||
		    !tl_json_number(tl_json_get(&doc, root, "weak_score"), &wk)) {
			fprintf(stderr, "%s:%zu: needs %s, strong_score and weak_score numbers\n",
				path, lineno, field ? field : "score (or p_frontier)");
			bad++;
			continue;
		}
		if (push(&c, s, st, wk)) {
			fprintf(stderr, "twospeed-eval: out of memory\n");
			goto out;
		}
	}
	if (rc < 0) {
		fprintf(stderr, "%s: read error: %s\n", path, strerror(-rc));
		goto out;
	}
	rc = tl_route_eval(c.score, c.strong, c.weak, c.n, &m);
	if (rc) {
		fprintf(stderr, "twospeed-eval: %s\n",
			rc == -EINVAL ? "metrics undefined: no prompts, a non-finite value, or "
					"strong and weak have the same mean score"
				      : strerror(-rc));
		goto out;
	}
	printf("prompts %zu  quality weak %.4f strong %.4f\n", m.n, m.q_weak, m.q_strong);
	printf("APGR %.4f  CPT(50%%) %.4f  CPT(80%%) %.4f\n", m.apgr, m.cpt50, m.cpt80);
	if (bad)
		fprintf(stderr, "twospeed-eval: %zu lines skipped\n", bad);
	status = bad ? 1 : 0;
out:
	tl_lines_close(in);
	tl_jdoc_fini(&doc);
	free(c.score);
	free(c.strong);
	free(c.weak);
	return status;
}
