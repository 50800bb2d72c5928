/* SPDX-License-Identifier: proprietary */
/*
 * ts-rules-lint: developer front end of rules_lint().
 *   ts-rules-lint [--corpus PATH] [--reps N] [--target auto|native|avx2|sse]
 *                 [--max-ns N] [--max-share F] [--static] [--targets] [--marginal] RULES_PATH...
 * Exit: 0 nothing flagged, 1 rules flagged, 2 usage or error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"

static void usage(void)
{
	fprintf(stderr,
		"usage: ts-rules-lint [--corpus PATH] [--reps N] [--target auto|native|avx2|sse]\n"
		"                     [--max-ns NS_PER_KB] [--max-share FRACTION] [--static]\n"
		"                     [--targets] [--marginal] RULES_PATH...\n");
}

int main(int argc, char **argv)
{
	struct rules_lint_opts opts = {0};
	const char *corpus = NULL;
	struct rules_set *set;
	char err[512];
	int n_paths = 0;
	int rc;

	set = rules_set_new();
	if (set == NULL)
		return 2;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--static") == 0) {
			opts.static_only = true;
		} else if (strcmp(a, "--marginal") == 0) {
			opts.marginal = true;
		} else if (strcmp(a, "--targets") == 0) {
			opts.compare_targets = true;
		} else if (v != NULL && strcmp(a, "--corpus") == 0) {
			corpus = v;
			i++;
		} else if (v != NULL && strcmp(a, "--reps") == 0) {
			opts.reps = (uint32_t)strtoul(v, NULL, 10);
			i++;
		} else if (v != NULL && strcmp(a, "--max-ns") == 0) {
			opts.max_ns_per_kb = strtod(v, NULL);
			i++;
		} else if (v != NULL && strcmp(a, "--max-share") == 0) {
			opts.max_share = strtod(v, NULL);
			i++;
		} else if (v != NULL && strcmp(a, "--target") == 0) {
			if (rules_target_from_name(v, &opts.target) < 0) {
				usage();
				rules_set_free(set);
				return 2;
			}
			i++;
		} else if (a[0] == '-') {
			usage();
			rules_set_free(set);
			return 2;
		} else {
			rc = rules_parse_path(set, a, err, sizeof(err));
			if (rc < 0) {
				fprintf(stderr, "%s\n", err);
				rules_set_free(set);
				return 2;
			}
			n_paths++;
		}
	}
	if (n_paths == 0 || (corpus == NULL && !opts.static_only)) {
		usage();
		rules_set_free(set);
		return 2;
	}
	rc = rules_lint(set, corpus, &opts, stdout);
	rules_set_free(set);
	if (rc < 0)
		return 2;
	return rc > 0 ? 1 : 0;
}
