/* SPDX-License-Identifier: proprietary */
/*
 * twospeed-classify: the dataplane's routing decision, offline.
 *
 *   twospeed-classify [--policy IMAGE] [--config FILE] [--features] [FILE|-]
 *
 * Each input line is one of
 *   an OpenAI /v1/chat/completions body       {"messages":[...], ...}
 *   an OpenAI /v1/completions body            {"prompt": "..." | [...], ...}
 *   a list of turns                           {"id":..., "turns":["user", "assistant", ...]}
 * optionally with an "id" member (echoed; else the line number is used).
 * Each line is parsed by rv_parse() and decided by cls_decide() exactly as
 * on the dataplane. Output: one JSON object per input line,
 *   {"id":..,"route":..,"reason":..,"p_frontier":..,"threshold":..,
 *    "policy_version":..,"forced_by":..,"rules_hit":[..],"rules_hit_total":..,
 *    "top":[{"feature":..,"value":..,"contribution":..}]}
 * plus "strong_score"/"weak_score" copied from the input when present (so
 * the output feeds twospeed-eval directly) and, with --features, the whole
 * feature vector. A line that cannot be classified gives
 *   {"id":..,"error":{"code":"json|shape|request|classify","message":".."}}
 * and processing goes on. Exit status: 0 when every line was classified,
 * 1 when at least one line failed, 2 on usage or setup errors (policy,
 * config, input file).
 *
 * Default policy: <builddir>/conf/default.tspol, looked up next to the
 * executable (../../conf/default.tspol from tools/classify/) and then at the
 * path compiled in by meson.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tl_pipe.h"

#ifndef TS_DEFAULT_POLICY
#define TS_DEFAULT_POLICY "conf/default.tspol"
#endif

static void usage(FILE *f)
{
	fprintf(f, "usage: twospeed-classify [--policy IMAGE] [--config FILE] [--features] "
		   "[FILE|-]\n");
}

/* The image next to the executable, else the compiled-in build path. */
static const char *default_policy(char *buf, size_t len)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n > 0) {
		char *slash;

		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			if (snprintf(buf, len, "%s/../../conf/default.tspol", exe) < (int)len &&
			    access(buf, R_OK) == 0)
				return buf;
		}
	}
	return TS_DEFAULT_POLICY;
}

static void put_id(struct tl_buf *o, const char *line, const struct tl_pipe_res *r,
		   size_t lineno)
{
	tl_buf_puts(o, "{\"id\":");
	if (r->id && (r->id->type == TL_JSTR || r->id->type == TL_JNUM))
		tl_buf_add(o, line + r->id->raw_off, r->id->raw_len);
	else
		tl_buf_printf(o, "%zu", lineno);
}

static void put_labels(struct tl_buf *o, const char *line, const struct tl_pipe *p,
		       const struct tl_pipe_res *r)
{
	static const char *const keys[] = { "strong_score", "weak_score" };

	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		const struct tl_jnode *n = tl_json_get(&p->doc, r->root, keys[k]);

		if (n && (n->type == TL_JNUM || n->type == TL_JTRUE || n->type == TL_JFALSE)) {
			tl_buf_printf(o, ",\"%s\":", keys[k]);
			tl_buf_add(o, line + n->raw_off, n->raw_len);
		}
	}
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "policy", required_argument, NULL, 'p' },
		{ "config", required_argument, NULL, 'c' },
		{ "features", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *policy = NULL, *config = NULL, *path = "-";
	char pbuf[PATH_MAX + 32], err[512], expl[8192];
	bool features = false;
	struct tl_pipe p;
	struct tl_lines *in;
	struct tl_buf o = { 0 };
	const char *line;
	size_t len, lineno = 0, failed = 0;
	int opt, rc, status = 2;

	while ((opt = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (opt) {
		case 'p': policy = optarg; break;
		case 'c': config = optarg; break;
		case 'f': features = true; break;
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
	if (!policy)
		policy = default_policy(pbuf, sizeof(pbuf));
	if (tl_pipe_open_image(&p, policy, config, err, sizeof(err))) {
		fprintf(stderr, "twospeed-classify: %s\n", err);
		tl_pipe_close(&p);
		return 2;
	}
	in = tl_lines_open(path, err, sizeof(err));
	if (!in) {
		fprintf(stderr, "twospeed-classify: %s\n", err);
		tl_pipe_close(&p);
		return 2;
	}
	while ((rc = tl_lines_next(in, &line, &len)) > 0) {
		struct tl_pipe_res r;

		lineno++;
		if (len == 0)
			continue;
		tl_buf_reset(&o);
		if (tl_pipe_line(&p, line, len, &r)) {
			failed++;
			put_id(&o, line, &r, lineno);
			tl_buf_puts(&o, ",\"error\":{\"code\":");
			tl_buf_jstr(&o, r.code, strlen(r.code));
			tl_buf_puts(&o, ",\"message\":");
			tl_buf_jstr(&o, r.msg, strlen(r.msg));
			tl_buf_puts(&o, "}}\n");
		} else {
			int k = cls_explain_json(&r.d, p.pol, expl, sizeof(expl));

			put_id(&o, line, &r, lineno);
			if (k < 0) {
				/* cannot happen with CLS_MAX_RULES_HIT/CLS_TOP_K bounds; say so */
				failed++;
				tl_buf_puts(&o, ",\"error\":{\"code\":\"classify\",\"message\":"
						"\"explanation too large\"}}\n");
			} else {
				tl_buf_puts(&o, ",");
				tl_buf_add(&o, expl + 1, (size_t)k - 2); /* members only */
				put_labels(&o, line, &p, &r);
				if (features) {
					tl_buf_puts(&o, ",\"features\":{");
					for (uint32_t j = 0; j < CLS_NFEAT; j++)
						tl_buf_printf(&o, "%s\"%s\":%.6g", j ? "," : "",
							      cls_feat_names[j], (double)r.d.x[j]);
					tl_buf_puts(&o, "}");
				}
				tl_buf_puts(&o, "}\n");
			}
		}
		if (o.oom) {
			fprintf(stderr, "twospeed-classify: out of memory\n");
			goto out;
		}
		fwrite(o.p, 1, o.n, stdout);
	}
	if (rc < 0) {
		fprintf(stderr, "twospeed-classify: %s: read error: %s\n", path, strerror(-rc));
		goto out;
	}
	if (fflush(stdout)) {
		fprintf(stderr, "twospeed-classify: write error: %s\n", strerror(errno));
		goto out;
	}
	if (failed)
		fprintf(stderr, "twospeed-classify: %zu of %zu lines failed\n", failed, lineno);
	status = failed ? 1 : 0;
out:
	tl_lines_close(in);
	tl_buf_free(&o);
	tl_pipe_close(&p);
	return status;
}
