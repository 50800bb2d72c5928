/* SPDX-License-Identifier: proprietary */
/*
 * twospeed-train: fit the logistic scorer on labeled prompts.
 *
 *   twospeed-train --data FILE.jsonl[.gz] --rules PATH... -o OUT.scorer
 *                  [--holdout 0.2] [--seed N] [--l2 X|auto] [--target auto|need_strong|gain]
 *                  [--target-pgr 0.8] [--folds 4] [--select] [--select-min 0.002]
 *                  [--random-seeds 200]
 *
 * Method (README.md in dataplane/classify has the long form):
 *  - Every prompt goes through the dataplane's own code: a chat body is built
 *    from "turns", parsed by rv_parse(), scanned with the compiled rules and
 *    turned into the feature vector by the classifier library.
 *  - Split: a prompt is held out when XXH64(id, seed) / 2^64 < holdout. The
 *    held-out part is used only for the final report, never for fitting,
 *    target or feature selection or the threshold.
 *  - Target: APGR is maximised by ranking prompts by E[strong - weak | x].
 *    "gain" fits the logistic model to the soft label (1 + strong - weak) / 2,
 *    whose conditional mean is an increasing function of that expectation;
 *    "need_strong" fits label_need_strong (weak wrong and strong right),
 *    which ignores prompts where the strong model loses. "auto" (default)
 *    keeps the one with the better cross-validated APGR on the training part.
 *  - Features: standardized with the training part's mean and standard
 *    deviation; features constant on the training part (on the RouteLLM
 *    data: everything about conversations, tools, images, API options) get
 *    weight 0. With --select, greedy backward elimination also drops a
 *    feature while cross-validated APGR (3 x 4-fold) improves by at least
 *    --select-min without it. It is off by default because it does not
 *    generalise here: on splits with seeds 1-5 it dropped 2-10 features for
 *    CV gains of 0.002-0.01 and lowered held-out APGR every time (by
 *    0.001-0.010 at --select-min 0.0005, by up to 0.009 at 0.002): the
 *    elimination fits CV noise. L2 shrinkage handles weak features instead.
 *    Dropped features keep their slot with weight 0 (the vector is fixed).
 *  - Fit: L2-regularised logistic regression by Newton's method (the
 *    intercept is not penalised). --l2 auto (default) picks the strength
 *    from {0.01, 0.1, 1, 10, 100} by cross-validated APGR, jointly with the
 *    target when that is "auto" too.
 *  - Threshold: the smallest frontier share whose PGR on the training part
 *    reaches --target-pgr (default 0.8, i.e. the CPT(80%) operating point).
 *  - Report on the held-out part: APGR, CPT(50%), CPT(80%) for the trained
 *    scorer (evaluated with cls_score(), the dataplane's float math), a
 *    random router averaged over --random-seeds seeds, and a length-only
 *    router (score = prompt bytes), all through the same metric code.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xxhash.h>

#include "tl_metrics.h"
#include "tl_pipe.h"

#define D (CLS_NFEAT + 1) /* intercept + features */
#define CV_REPS 3         /* repeated cross-validation: independent fold assignments */

enum target {
	TGT_AUTO = 0,
	TGT_NEED_STRONG = 1,
	TGT_GAIN = 2,
};

static const char *const target_names[] = { "auto", "need_strong", "gain" };

struct opts {
	const char *data;
	const char *out;
	const char **rules;
	size_t n_rules;
	double holdout;
	uint64_t seed;
	double l2;
	enum target target;
	double target_pgr;
	uint32_t folds;
	bool select;
	uint32_t random_seeds;
	double select_min; /* CV APGR gain required to drop a feature */
};

struct sample {
	double x[CLS_NFEAT];
	double strong, weak, need;
	double bytes;
	uint32_t fold[CV_REPS]; /* training rows: CV fold per repetition */
	bool held;
};

struct data {
	struct sample *s;
	size_t n, cap;
	size_t n_train, n_held;
	double mean[CLS_NFEAT], sd[CLS_NFEAT]; /* training part */
	bool constant[CLS_NFEAT];
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: twospeed-train --data FILE.jsonl[.gz] --rules PATH [--rules PATH...]\n"
		"                      -o OUT.scorer [--holdout 0.2] [--seed N] [--l2 X|auto]\n"
		"                      [--target auto|need_strong|gain] [--target-pgr 0.8]\n"
		"                      [--folds 4] [--select] [--select-min 0.002]\n"
		"                      [--random-seeds 200]\n");
}

static double label(const struct sample *s, enum target t)
{
	if (t == TGT_NEED_STRONG)
		return s->need;
	double y = 0.5 * (1.0 + s->strong - s->weak);

	return y < 0 ? 0 : y > 1 ? 1 : y;
}

static int load(const struct opts *o, struct data *dt)
{
	struct tl_pipe p;
	struct tl_lines *lines;
	const char *line;
	size_t len, lineno = 0, bad = 0;
	char err[512];
	int rc;

	rc = tl_pipe_open_rules(&p, o->rules, o->n_rules, NULL, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "twospeed-train: %s\n", err);
		tl_pipe_close(&p);
		return rc;
	}
	lines = tl_lines_open(o->data, err, sizeof(err));
	if (!lines) {
		fprintf(stderr, "twospeed-train: %s\n", err);
		tl_pipe_close(&p);
		return -EIO;
	}
	while ((rc = tl_lines_next(lines, &line, &len)) > 0) {
		struct tl_pipe_res r;
		const struct tl_jnode *sn, *wn, *nn;
		struct sample *s;
		double sv, wv, nv;

		lineno++;
		if (len == 0)
			continue;
		if (tl_pipe_line(&p, line, len, &r)) {
			fprintf(stderr, "%s:%zu: %s: %s\n", o->data, lineno, r.code, r.msg);
			bad++;
			continue;
		}
		sn = tl_json_get(&p.doc, r.root, "strong_score");
		wn = tl_json_get(&p.doc, r.root, "weak_score");
		nn = tl_json_get(&p.doc, r.root, "label_need_strong");
		if (!r.id || r.id->type != TL_JSTR || !tl_json_number(sn, &sv) ||
		    !tl_json_number(wn, &wv)) {
			fprintf(stderr, "%s:%zu: needs a string id, strong_score and weak_score\n",
				o->data, lineno);
			bad++;
			continue;
		}
		if (!tl_json_number(nn, &nv))
			nv = (wv <= 0 && sv > 0) ? 1 : 0;
		if (dt->n == dt->cap) {
			size_t cap = dt->cap ? dt->cap * 2 : 4096;
			struct sample *ns = realloc(dt->s, cap * sizeof(*ns));

			if (!ns) {
				rc = -ENOMEM;
				break;
			}
			dt->s = ns;
			dt->cap = cap;
		}
		s = &dt->s[dt->n++];
		for (uint32_t j = 0; j < CLS_NFEAT; j++)
			s->x[j] = r.d.x[j];
		s->strong = sv;
		s->weak = wv;
		s->need = nv;
		s->bytes = (double)r.text_bytes;
		s->held = tl_split_holdout(r.id->str, r.id->str_len, o->seed, o->holdout);
		for (uint32_t k = 0; k < CV_REPS; k++)
			s->fold[k] = (uint32_t)(XXH64(r.id->str, r.id->str_len,
						      o->seed ^ (0x9e3779b97f4a7c15ull * (k + 1))) %
						o->folds);
	}
	tl_lines_close(lines);
	tl_pipe_close(&p);
	if (rc < 0) {
		fprintf(stderr, "twospeed-train: %s: read error: %s\n", o->data, strerror(-rc));
		return rc;
	}
	if (bad)
		fprintf(stderr, "twospeed-train: %zu malformed lines skipped\n", bad);
	return 0;
}

static void standardize(struct data *dt)
{
	double sum[CLS_NFEAT] = { 0 }, sq[CLS_NFEAT] = { 0 };
	size_t n = 0;

	for (size_t i = 0; i < dt->n; i++) {
		if (dt->s[i].held)
			continue;
		n++;
		for (uint32_t j = 0; j < CLS_NFEAT; j++)
			sum[j] += dt->s[i].x[j];
	}
	for (uint32_t j = 0; j < CLS_NFEAT; j++)
		dt->mean[j] = n ? sum[j] / (double)n : 0;
	for (size_t i = 0; i < dt->n; i++) {
		if (dt->s[i].held)
			continue;
		for (uint32_t j = 0; j < CLS_NFEAT; j++) {
			double d = dt->s[i].x[j] - dt->mean[j];

			sq[j] += d * d;
		}
	}
	for (uint32_t j = 0; j < CLS_NFEAT; j++) {
		dt->sd[j] = n > 1 ? sqrt(sq[j] / (double)(n - 1)) : 0;
		dt->constant[j] = !(dt->sd[j] > 1e-9);
		if (dt->constant[j])
			dt->sd[j] = 1.0;
	}
	dt->n_train = n;
	dt->n_held = dt->n - n;
}

/* Cholesky solve of the k x k system A x = b in place (A symmetric positive definite). */
static int chol_solve(double *a, double *b, int k)
{
	for (int j = 0; j < k; j++) {
		double s = a[j * k + j];

		for (int m = 0; m < j; m++)
			s -= a[j * k + m] * a[j * k + m];
		if (!(s > 0))
			return -EDOM;
		a[j * k + j] = sqrt(s);
		for (int i = j + 1; i < k; i++) {
			double t = a[i * k + j];

			for (int m = 0; m < j; m++)
				t -= a[i * k + m] * a[j * k + m];
			a[i * k + j] = t / a[j * k + j];
		}
	}
	for (int i = 0; i < k; i++) {
		double t = b[i];

		for (int m = 0; m < i; m++)
			t -= a[i * k + m] * b[m];
		b[i] = t / a[i * k + i];
	}
	for (int i = k - 1; i >= 0; i--) {
		double t = b[i];

		for (int m = i + 1; m < k; m++)
			t -= a[m * k + i] * b[m];
		b[i] = t / a[i * k + i];
	}
	return 0;
}

/*
 * Fit w (w[0] intercept, w[1 + j] feature j, standardized space) on training
 * rows whose fold != skip_fold (UINT32_MAX: all), using features in act[].
 * Newton iterations from the given w (warm start); inactive weights are 0.
 */
static int fit(const struct data *dt, enum target t, const bool *act, uint32_t rep,
	       uint32_t skip_fold, double l2, double *w)
{
	int idx[D], k = 0;
	double z[D];

	idx[k++] = 0;
	for (uint32_t j = 0; j < CLS_NFEAT; j++)
		if (act[j])
			idx[k++] = (int)(j + 1);
		else
			w[j + 1] = 0;
	for (int it = 0; it < 50; it++) {
		double h[D * D] = { 0 }, g[D] = { 0 }, step = 0;

		for (size_t i = 0; i < dt->n; i++) {
			const struct sample *s = &dt->s[i];
			double e = 0, p, y, r;

			if (s->held || s->fold[rep] == skip_fold)
				continue;
			z[0] = 1.0;
			for (int a = 1; a < k; a++) {
				int j = idx[a] - 1;

				z[a] = (s->x[j] - dt->mean[j]) / dt->sd[j];
			}
			for (int a = 0; a < k; a++)
				e += w[idx[a]] * z[a];
			p = 1.0 / (1.0 + exp(-e));
			y = label(s, t);
			r = p * (1 - p);
			for (int a = 0; a < k; a++) {
				g[a] += (p - y) * z[a];
				for (int b = 0; b <= a; b++)
					h[a * k + b] += r * z[a] * z[b];
			}
		}
		for (int a = 1; a < k; a++) {
			g[a] += l2 * w[idx[a]];
			h[a * k + a] += l2;
		}
		h[0] += 1e-9;
		for (int a = 0; a < k; a++)
			for (int b = a + 1; b < k; b++)
				h[a * k + b] = h[b * k + a];
		if (chol_solve(h, g, k))
			return -EDOM;
		for (int a = 0; a < k; a++) {
			w[idx[a]] -= g[a];
			step = fmax(step, fabs(g[a]));
		}
		if (step < 1e-8)
			break;
	}
	return 0;
}

static double predict(const struct data *dt, const double *w, const struct sample *s)
{
	double e = w[0];

	for (uint32_t j = 0; j < CLS_NFEAT; j++)
		if (w[j + 1] != 0)
			e += w[j + 1] * (s->x[j] - dt->mean[j]) / dt->sd[j];
	return e; /* the logit ranks like the probability */
}

/*
 * Cross-validated APGR on the training part: out-of-fold logits pooled over
 * the folds of one assignment, APGR averaged over CV_REPS assignments (one
 * split is too noisy to choose features with).
 */
static double cv_apgr(const struct data *dt, const struct opts *o, enum target t,
		      const bool *act, double *base_w)
{
	double *sc = malloc(dt->n_train * sizeof(double));
	double *st = malloc(dt->n_train * sizeof(double));
	double *wk = malloc(dt->n_train * sizeof(double));
	struct tl_route_metrics m = { 0 };
	double res = -1;

	if (!sc || !st || !wk)
		goto out;
	for (size_t i = 0, k = 0; i < dt->n; i++) {
		if (dt->s[i].held)
			continue;
		st[k] = dt->s[i].strong;
		wk[k] = dt->s[i].weak;
		k++;
	}
	res = 0;
	for (uint32_t rep = 0; rep < CV_REPS; rep++) {
		for (uint32_t f = 0; f < o->folds; f++) {
			double w[D];
			size_t k = 0;

			memcpy(w, base_w, sizeof(w));
			if (fit(dt, t, act, rep, f, o->l2, w)) {
				res = -1;
				goto out;
			}
			for (size_t i = 0; i < dt->n; i++) {
				const struct sample *s = &dt->s[i];

				if (s->held)
					continue;
				if (s->fold[rep] == f)
					sc[k] = predict(dt, w, s);
				k++;
			}
		}
		if (tl_route_eval(sc, st, wk, dt->n_train, &m)) {
			res = -1;
			goto out;
		}
		res += m.apgr / CV_REPS;
	}
out:
	free(sc);
	free(st);
	free(wk);
	return res;
}

struct report {
	struct tl_route_metrics m;
	double share_at_threshold; /* frontier share on the held-out part */
};

static int eval_held(const struct data *dt, const double *score, struct tl_route_metrics *m)
{
	double *st = malloc(dt->n_held * sizeof(double));
	double *wk = malloc(dt->n_held * sizeof(double));
	int rc = -ENOMEM;

	if (st && wk) {
		for (size_t i = 0, k = 0; i < dt->n; i++) {
			if (!dt->s[i].held)
				continue;
			st[k] = dt->s[i].strong;
			wk[k] = dt->s[i].weak;
			k++;
		}
		rc = tl_route_eval(score, st, wk, dt->n_held, m);
	}
	free(st);
	free(wk);
	return rc;
}

static int write_scorer(const struct opts *o, const struct data *dt, const struct cls_scorer *sc,
			enum target t, const struct tl_route_metrics *held, double cv,
			double train_share)
{
	char tmp[4096];
	FILE *f;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", o->out, (int)getpid()) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	f = fopen(tmp, "w");
	if (!f) {
		fprintf(stderr, "twospeed-train: %s: %s\n", tmp, strerror(errno));
		return -errno;
	}
	fprintf(f, "# written by twospeed-train; do not edit by hand, retrain instead\n");
	fprintf(f, "# data: %s (%zu prompts, %zu held out: XXH64(id, seed=%llu) < %.3f)\n",
		o->data, dt->n, dt->n_held, (unsigned long long)o->seed, o->holdout);
	fprintf(f, "# target: %s, l2 %.4g, %ux%u-fold CV APGR on the training part %.4f\n",
		target_names[t], o->l2, CV_REPS, o->folds, cv);
	fprintf(f, "# threshold: PGR %.0f%% on the training part at frontier share %.3f\n",
		o->target_pgr * 100, train_share);
	fprintf(f, "# held out: APGR %.4f, CPT(50%%) %.3f, CPT(80%%) %.3f\n", held->apgr,
		held->cpt50, held->cpt80);
	fprintf(f, "twospeed-scorer 1\nkind logistic\nthreshold %.9g\nbias %.9g\n",
		(double)sc->threshold, (double)sc->bias);
	for (uint32_t j = 0; j < CLS_NFEAT; j++)
		fprintf(f, "feature %s %.9g %.9g %.9g\n", cls_feat_names[j], (double)sc->mean[j],
			(double)sc->scale[j], (double)sc->weight[j]);
	if (fflush(f) || fsync(fileno(f)) || ferror(f)) {
		fclose(f);
		unlink(tmp);
		return -EIO;
	}
	fclose(f);
	if (rename(tmp, o->out)) {
		int e = errno;

		unlink(tmp);
		fprintf(stderr, "twospeed-train: %s: %s\n", o->out, strerror(e));
		return -e;
	}
	return 0;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "data", required_argument, NULL, 'd' },
		{ "rules", required_argument, NULL, 'r' },
		{ "output", required_argument, NULL, 'o' },
		{ "holdout", required_argument, NULL, 'H' },
		{ "seed", required_argument, NULL, 's' },
		{ "l2", required_argument, NULL, 'l' },
		{ "target", required_argument, NULL, 't' },
		{ "target-pgr", required_argument, NULL, 'p' },
		{ "folds", required_argument, NULL, 'f' },
		{ "select", no_argument, NULL, 'S' },
		{ "no-select", no_argument, NULL, 'N' },
		{ "select-min", required_argument, NULL, 'M' },
		{ "random-seeds", required_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct opts){ .holdout = 0.2, .seed = 1, .l2 = -1, .target = TGT_AUTO,
			    .target_pgr = 0.8, .folds = 4, .select = false, .random_seeds = 200,
			    .select_min = 0.002 };
	o->rules = calloc((size_t)argc + 1, sizeof(*o->rules));
	if (!o->rules)
		return -ENOMEM;
	while ((c = getopt_long(argc, argv, "o:h", lo, NULL)) != -1) {
		char *end = NULL;

		switch (c) {
		case 'd': o->data = optarg; break;
		case 'r': o->rules[o->n_rules++] = optarg; break;
		case 'o': o->out = optarg; break;
		case 'H':
			o->holdout = strtod(optarg, &end);
			if (*end || !(o->holdout > 0 && o->holdout < 1))
				return -EINVAL;
			break;
		case 's':
			o->seed = strtoull(optarg, &end, 0);
			if (*end)
				return -EINVAL;
			break;
		case 'l':
			if (!strcmp(optarg, "auto")) {
				o->l2 = -1;
				break;
			}
			o->l2 = strtod(optarg, &end);
			if (*end || !(o->l2 > 0) || !isfinite(o->l2))
				return -EINVAL;
			break;
		case 't':
			if (!strcmp(optarg, "auto"))
				o->target = TGT_AUTO;
			else if (!strcmp(optarg, "need_strong"))
				o->target = TGT_NEED_STRONG;
			else if (!strcmp(optarg, "gain"))
				o->target = TGT_GAIN;
			else
				return -EINVAL;
			break;
		case 'p':
			o->target_pgr = strtod(optarg, &end);
			if (*end || !(o->target_pgr > 0 && o->target_pgr <= 1))
				return -EINVAL;
			break;
		case 'f': {
			unsigned long v = strtoul(optarg, &end, 10);

			if (*end || v < 2 || v > 20)
				return -EINVAL;
			o->folds = (uint32_t)v;
			break;
		}
		case 'S': o->select = true; break;
		case 'N': o->select = false; break;
		case 'M':
			o->select_min = strtod(optarg, &end);
			if (*end || !(o->select_min >= 0 && o->select_min < 1))
				return -EINVAL;
			break;
		case 'R': {
			unsigned long v = strtoul(optarg, &end, 10);

			if (*end || v < 1 || v > 100000)
				return -EINVAL;
			o->random_seeds = (uint32_t)v;
			break;
		}
		case 'h': usage(stdout); exit(0);
		default: return -EINVAL;
		}
	}
	/* "--rules a.rules b.rules": further operands are rule paths too */
	while (optind < argc)
		o->rules[o->n_rules++] = argv[optind++];
	if (!o->data || !o->out || o->n_rules == 0)
		return -EINVAL;
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o;
	struct data dt = { 0 };
	bool act[CLS_NFEAT];
	double w[D] = { 0 }, cv;
	enum target t;
	struct cls_scorer sc;
	float mean[CLS_NFEAT], scale[CLS_NFEAT], weight[CLS_NFEAT];
	double *tr_score = NULL, *tr_st = NULL, *tr_wk = NULL, *hs = NULL;
	double share = 0, thr_logit = 0;
	struct tl_route_metrics mt, mr = { 0 }, ml;
	int rc = 1;

	if (parse_args(argc, argv, &o)) {
		usage(stderr);
		free(o.rules);
		return 2;
	}
	if (load(&o, &dt))
		goto out;
	standardize(&dt);
	if (dt.n_train < 50 || dt.n_held < 10) {
		fprintf(stderr, "twospeed-train: too few prompts (%zu training, %zu held out)\n",
			dt.n_train, dt.n_held);
		goto out;
	}
	for (uint32_t j = 0; j < CLS_NFEAT; j++)
		act[j] = !dt.constant[j];

	/* target: cross-validated on the training part only */
	t = o.target;
	if (t == TGT_AUTO || o.l2 < 0) {
		/* joint grid over target and L2 strength, by cross-validated APGR */
		static const double l2_grid[] = { 0.01, 0.1, 1, 10, 100 };
		double best = -2, best_l2 = o.l2;
		enum target best_t = t;

		for (int ti = TGT_NEED_STRONG; ti <= TGT_GAIN; ti++) {
			if (t != TGT_AUTO && (enum target)ti != t)
				continue;
			for (size_t li = 0; li < sizeof(l2_grid) / sizeof(l2_grid[0]); li++) {
				struct opts oo = o;
				double c;

				if (o.l2 >= 0 && l2_grid[li] != 1)
					continue; /* fixed L2: one column */
				oo.l2 = o.l2 >= 0 ? o.l2 : l2_grid[li];
				c = cv_apgr(&dt, &oo, (enum target)ti, act, w);
				printf("cv: target %-11s l2 %-6g APGR %.4f\n", target_names[ti], oo.l2,
				       c);
				if (c > best) {
					best = c;
					best_t = (enum target)ti;
					best_l2 = oo.l2;
				}
			}
		}
		t = best_t;
		o.l2 = best_l2;
		printf("chosen: target %s, l2 %g\n", target_names[t], o.l2);
	}
	if (fit(&dt, t, act, 0, UINT32_MAX, o.l2, w)) {
		fprintf(stderr, "twospeed-train: fit did not converge\n");
		goto out;
	}
	cv = cv_apgr(&dt, &o, t, act, w);

	/* greedy backward elimination while CV APGR does not drop */
	while (o.select) {
		double need = cv + o.select_min, best_c = -1;
		int best = -1;

		for (uint32_t j = 0; j < CLS_NFEAT; j++) {
			double c;

			if (!act[j])
				continue;
			act[j] = false;
			c = cv_apgr(&dt, &o, t, act, w);
			act[j] = true;
			if (c >= need && c > best_c) {
				best_c = c;
				best = (int)j;
			}
		}
		if (best < 0)
			break;
		act[best] = false;
		printf("select: drop %-16s CV APGR %.4f -> %.4f\n", cls_feat_names[best], cv,
		       best_c);
		cv = best_c;
		w[best + 1] = 0;
	}
	if (fit(&dt, t, act, 0, UINT32_MAX, o.l2, w)) {
		fprintf(stderr, "twospeed-train: fit did not converge\n");
		goto out;
	}

	/* back to raw units: weight/scale/mean per feature as the scorer format wants */
	for (uint32_t j = 0; j < CLS_NFEAT; j++) {
		mean[j] = (float)dt.mean[j];
		scale[j] = (float)dt.sd[j];
		weight[j] = act[j] ? (float)w[j + 1] : 0.0f;
	}
	if (cls_scorer_init(&sc, (float)w[0], 0.5f, mean, scale, weight)) {
		fprintf(stderr, "twospeed-train: fitted values out of range\n");
		goto out;
	}

	/* threshold on the training part, scores through the dataplane's scorer */
	tr_score = malloc(dt.n_train * sizeof(double));
	tr_st = malloc(dt.n_train * sizeof(double));
	tr_wk = malloc(dt.n_train * sizeof(double));
	hs = malloc(dt.n_held * sizeof(double));
	if (!tr_score || !tr_st || !tr_wk || !hs)
		goto out;
	for (size_t i = 0, k = 0, h = 0; i < dt.n; i++) {
		float x[CLS_NFEAT];

		for (uint32_t j = 0; j < CLS_NFEAT; j++)
			x[j] = (float)dt.s[i].x[j];
		float p = cls_score(&sc, x, NULL, NULL);

		if (dt.s[i].held) {
			hs[h++] = p;
		} else {
			tr_score[k] = p;
			tr_st[k] = dt.s[i].strong;
			tr_wk[k] = dt.s[i].weak;
			k++;
		}
	}
	if (tl_route_threshold_for_pgr(tr_score, tr_st, tr_wk, dt.n_train, o.target_pgr, &share,
				       &thr_logit)) {
		fprintf(stderr, "twospeed-train: no threshold (strong and weak tie on the data)\n");
		goto out;
	}
	if (thr_logit > 1)
		thr_logit = 1;
	sc.threshold = (float)thr_logit;

	/* held-out report */
	if (eval_held(&dt, hs, &mt))
		goto out;
	size_t held_front = 0;

	for (size_t h = 0; h < dt.n_held; h++)
		held_front += hs[h] >= sc.threshold;
	for (uint32_t r = 0; r < o.random_seeds; r++) {
		uint64_t st = o.seed * 1000003ull + r;
		struct tl_route_metrics m1;

		for (size_t h = 0; h < dt.n_held; h++)
			hs[h] = tl_rand01(&st);
		if (eval_held(&dt, hs, &m1))
			goto out;
		mr.apgr += m1.apgr / o.random_seeds;
		mr.cpt50 += m1.cpt50 / o.random_seeds;
		mr.cpt80 += m1.cpt80 / o.random_seeds;
	}
	for (size_t i = 0, h = 0; i < dt.n; i++)
		if (dt.s[i].held)
			hs[h++] = dt.s[i].bytes;
	if (eval_held(&dt, hs, &ml))
		goto out;

	int used = 0;

	for (uint32_t j = 0; j < CLS_NFEAT; j++)
		used += act[j];
	printf("data: %zu prompts, %zu training, %zu held out (seed %llu)\n", dt.n, dt.n_train,
	       dt.n_held, (unsigned long long)o.seed);
	printf("target: %s; features used: %d of %d; %ux%u-fold CV APGR %.4f\n",
	       target_names[t], used, CLS_NFEAT, CV_REPS, o.folds, cv);
	printf("threshold: %.6f (PGR %.0f%% on the training part at frontier share %.3f; "
	       "held-out frontier share %.3f)\n",
	       (double)sc.threshold, o.target_pgr * 100, share,
	       (double)held_front / (double)dt.n_held);
	printf("held out (n=%zu, quality weak %.4f strong %.4f):\n", mt.n, mt.q_weak, mt.q_strong);
	printf("  %-22s %8s %9s %9s\n", "router", "APGR", "CPT(50%)", "CPT(80%)");
	printf("  %-22s %8.4f %9.4f %9.4f\n", "trained scorer", mt.apgr, mt.cpt50, mt.cpt80);
	char rlabel[32];

	snprintf(rlabel, sizeof(rlabel), "random (%u seeds)", o.random_seeds);
	printf("  %-22s %8.4f %9.4f %9.4f\n", rlabel, mr.apgr, mr.cpt50, mr.cpt80);
	printf("  %-22s %8.4f %9.4f %9.4f\n", "length (prompt bytes)", ml.apgr, ml.cpt50,
	       ml.cpt80);
	printf("weights (standardized units, non-zero):\n");
	for (uint32_t j = 0; j < CLS_NFEAT; j++)
		if (weight[j] != 0)
			printf("  %-18s %+.4f\n", cls_feat_names[j], (double)weight[j]);

	if (write_scorer(&o, &dt, &sc, t, &mt, cv, share))
		goto out;
	printf("wrote %s\n", o.out);
	rc = 0;
out:
	free(tr_score);
	free(tr_st);
	free(tr_wk);
	free(hs);
	free(dt.s);
	free(o.rules);
	return rc;
}
