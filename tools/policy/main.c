/* SPDX-License-Identifier: proprietary */
/*
 * twospeed-policy: compile, inspect, verify policy images and lint rule sets.
 *
 * Exit status: 0 ok, 1 refused (bad input, invalid image, flagged rules),
 * 2 usage error. Output never includes secrets (images hold none today; keep
 * it that way when tenant key hashes arrive: print counts, never values).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pol.h"
#include "polb.h"
#include "rules.h"

#define EXIT_OK 0
#define EXIT_REFUSED 1
#define EXIT_USAGE 2

#define MAX_PATHS 64

#ifndef TS_SOURCE_ROOT
#define TS_SOURCE_ROOT "."
#endif
#define DEFAULT_CORPUS TS_SOURCE_ROOT "/tests/data/lint-corpus"

static const char *prog = "twospeed-policy";

static void usage(FILE *out)
{
	fprintf(out,
		"usage:\n"
		"  %s compile --rules PATH... --scorer FILE [--config FILE] --version N\n"
		"                  [--name S] [--platform native|avx2|sse|auto] -o OUT\n"
		"      Build a policy image. PATH is a rule file or a directory of *.rules\n"
		"      files (several may follow --rules, and --rules may repeat). Routes come\n"
		"      from [route.local] and [route.frontier] in --config; without it, or for\n"
		"      keys it omits, the embedded defaults apply:\n"
		"        local:    model %s, upstream %s, %s USD/Mtok in, %s out\n"
		"        frontier: model %s, upstream %s, %s USD/Mtok in, %s out\n"
		"      --name defaults to \"default\"; created_unix is SOURCE_DATE_EPOCH when\n"
		"      set (reproducible builds), else now. OUT is replaced atomically.\n"
		"  %s inspect IMAGE\n"
		"      Validate and describe an image: header, checksum, sections, rule\n"
		"      databases by gate, rule counts per category and action, scorer, routes.\n"
		"  %s verify IMAGE\n"
		"      Exit 0 when the image is valid, 1 with the reason otherwise.\n"
		"  %s lint --rules PATH... [--corpus PATH] [--platform P] [--static]\n"
		"                  [--compare-targets]\n"
		"      Time every rule alone against a corpus (default %s)\n"
		"      and flag expensive ones; --static checks pattern shapes only.\n"
		"exit status: 0 ok, 1 refused or findings, 2 usage\n",
		prog, POLB_DEF_LOCAL_MODEL, POLB_DEF_LOCAL_UPSTREAM, POLB_DEF_LOCAL_USD_IN,
		POLB_DEF_LOCAL_USD_OUT, POLB_DEF_FRONTIER_MODEL, POLB_DEF_FRONTIER_UPSTREAM,
		POLB_DEF_FRONTIER_USD_IN, POLB_DEF_FRONTIER_USD_OUT, prog, prog, prog,
		DEFAULT_CORPUS);
}

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(see %s --help)\n", prog);
	return EXIT_USAGE;
}

struct opts {
	const char *rules[MAX_PATHS];
	unsigned n_rules;
	const char *scorer;
	const char *config;
	const char *version;
	const char *name;
	const char *platform;
	const char *out;
	const char *corpus;
	bool static_only;
	bool compare_targets;
};

/*
 * Parse the options of compile and lint. "--rules" takes one or more
 * following arguments up to the next one starting with '-'. Returns 0 or
 * EXIT_USAGE after printing why.
 */
static int parse_opts(int argc, char **argv, struct opts *o)
{
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		const char **slot = NULL;

		if (strcmp(a, "--rules") == 0) {
			if (i + 1 >= argc || argv[i + 1][0] == '-')
				return usage_error("%s needs at least one PATH", a);
			while (i + 1 < argc && argv[i + 1][0] != '-') {
				if (o->n_rules == MAX_PATHS)
					return usage_error("more than %d rule paths", MAX_PATHS);
				o->rules[o->n_rules++] = argv[++i];
			}
			continue;
		}
		if (strcmp(a, "--static") == 0) {
			o->static_only = true;
			continue;
		}
		if (strcmp(a, "--compare-targets") == 0) {
			o->compare_targets = true;
			continue;
		}
		if (strcmp(a, "--scorer") == 0)
			slot = &o->scorer;
		else if (strcmp(a, "--config") == 0)
			slot = &o->config;
		else if (strcmp(a, "--version") == 0)
			slot = &o->version;
		else if (strcmp(a, "--name") == 0)
			slot = &o->name;
		else if (strcmp(a, "--platform") == 0)
			slot = &o->platform;
		else if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0)
			slot = &o->out;
		else if (strcmp(a, "--corpus") == 0)
			slot = &o->corpus;
		else
			return usage_error("unknown argument \"%s\"", a);
		if (i + 1 >= argc)
			return usage_error("%s needs a value", a);
		if (*slot != NULL)
			return usage_error("%s given twice", a);
		*slot = argv[++i];
	}
	return 0;
}

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;

	if (s[0] < '0' || s[0] > '9')
		return -EINVAL;
	errno = 0;
	*v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -EINVAL;
	return 0;
}

/* Parse every rule path into a new set. NULL after printing the error. */
static struct rules_set *load_rules(const struct opts *o)
{
	struct rules_set *set = rules_set_new();
	char err[512];

	if (set == NULL) {
		fprintf(stderr, "%s: out of memory\n", prog);
		return NULL;
	}
	for (unsigned i = 0; i < o->n_rules; i++)
		if (rules_parse_path(set, o->rules[i], err, sizeof(err)) < 0) {
			fprintf(stderr, "%s: %s\n", prog, err);
			rules_set_free(set);
			return NULL;
		}
	return set;
}

static int cmd_compile(int argc, char **argv)
{
	struct opts o = {0};
	struct polb_scorer *sc = NULL;
	struct polb_routes rt;
	struct rules_set *set = NULL;
	hs_platform_info_t plat;
	enum rules_target target = RULES_TARGET_AUTO;
	hs_database_t *dbs[TS_GATE_COUNT] = {NULL};
	struct polb_input in;
	uint32_t n_gated = 0;
	uint64_t version, created;
	const char *sde;
	void *image = NULL;
	size_t len = 0;
	char err[512];
	int rc = EXIT_REFUSED;

	if (parse_opts(argc, argv, &o) != 0)
		return EXIT_USAGE;
	if (o.n_rules == 0 || o.scorer == NULL || o.version == NULL || o.out == NULL)
		return usage_error("%s needs --rules, --scorer, --version and -o", "compile");
	if (o.corpus != NULL || o.static_only || o.compare_targets)
		return usage_error("%s takes no lint options", "compile");
	if (parse_u64(o.version, &version) != 0)
		return usage_error("--version \"%s\" is not an unsigned integer", o.version);
	if (o.platform != NULL && rules_target_from_name(o.platform, &target) != 0)
		return usage_error("unknown --platform \"%s\" (native, avx2, sse, auto)",
				   o.platform);
	created = (uint64_t)time(NULL);
	sde = getenv("SOURCE_DATE_EPOCH");
	if (sde != NULL && parse_u64(sde, &created) != 0)
		return usage_error("SOURCE_DATE_EPOCH \"%s\" is not an integer", sde);

	sc = malloc(sizeof(*sc));
	if (sc == NULL) {
		fprintf(stderr, "%s: out of memory\n", prog);
		return EXIT_REFUSED;
	}
	if (polb_scorer_load_file(o.scorer, sc, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: %s\n", prog, err);
		goto free_sc;
	}
	if (o.config != NULL) {
		if (polb_routes_from_config_file(o.config, &rt, err, sizeof(err)) < 0) {
			fprintf(stderr, "%s: %s\n", prog, err);
			goto free_sc;
		}
	} else {
		polb_routes_default(&rt);
	}
	set = load_rules(&o);
	if (set == NULL)
		goto free_sc;
	if (rules_platform(target, &plat) < 0) {
		fprintf(stderr, "%s: Hyperscan cannot target %s on this CPU\n", prog,
			rules_target_name(target));
		goto free_set;
	}
	/* one database per gate in use, plus the ungated one (policy-t.h) */
	if (rules_compile_gated(set, &plat, dbs, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: %s\n", prog, err);
		goto free_set;
	}
	for (uint32_t i = 0; i < set->n; i++)
		n_gated += set->rules[i].gate != TS_GATE_NONE;
	in = (struct polb_input){
		.rules = set,
		.scorer = sc,
		.routes = &rt,
		.policy_version = version,
		.name = o.name != NULL ? o.name : "default",
		.created_unix = created,
	};
	memcpy(in.dbs, dbs, sizeof(in.dbs)); /* one database per gate (policy-t.h) */

	if (polb_build(&in, &image, &len, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: %s\n", prog, err);
		goto free_db;
	}
	if (polb_write_file(o.out, image, len, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: %s\n", prog, err);
		goto free_image;
	}
	printf("%s: %u rules (%u gated), %u features, version %" PRIu64 ", %zu bytes, target %s\n",
	       o.out, set->n, n_gated, sc->n_features, version, len, rules_target_name(target));
	rc = EXIT_OK;
free_image:
	free(image);
free_db:
	for (uint32_t g = 0; g < TS_GATE_COUNT; g++)
		hs_free_database(dbs[g]);
free_set:
	rules_set_free(set);
free_sc:
	free(sc);
	return rc;
}

static const char *route_name(uint32_t r)
{
	static const char *const names[TS_ROUTE_COUNT] = {"local", "frontier", "cache", "block"};

	return r < TS_ROUTE_COUNT ? names[r] : "?";
}

static struct pol_image *open_image(const char *path)
{
	char err[512];
	struct pol_image *img = pol_image_open_file(path, err, sizeof(err));

	if (img == NULL)
		fprintf(stderr, "%s: refused: %s\n", prog, err);
	return img;
}

static int cmd_inspect(int argc, char **argv)
{
	const struct ts_policy_hdr *h;
	const struct pol_rule *rules;
	const struct pol_scorer *sc;
	struct pol_image *img;
	uint32_t by_cat[TS_CAT_COUNT] = {0}, by_act[TS_ACT_COUNT] = {0};
	uint32_t by_verify[TS_VERIFY_COUNT] = {0};
	time_t created;
	struct tm tm;
	char when[32];

	if (argc != 1 || argv[0][0] == '-')
		return usage_error("%s needs exactly one IMAGE", "inspect");
	img = open_image(argv[0]);
	if (img == NULL)
		return EXIT_REFUSED;
	h = pol_image_hdr(img);
	created = (time_t)h->created_unix;
	if (gmtime_r(&created, &tm) == NULL ||
	    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(when, sizeof(when), "?");
	printf("image      %s\n", argv[0]);
	printf("name       %s\n", h->name);
	printf("version    %" PRIu64 "\n", h->policy_version);
	printf("abi        %u.%u\n", h->abi_major, h->abi_minor);
	printf("length     %" PRIu64 " bytes\n", h->length);
	printf("checksum   0x%016" PRIx64 " (xxh3-64 of the payload, ok)\n", h->checksum);
	printf("header sum 0x%016" PRIx64 " (xxh3-64 of the header, ok)\n", pol_hdr_checksum(h));
	printf("created    %" PRIu64 " (%s)\n", h->created_unix, when);
	printf("sections   %u\n", h->n_sec);
	for (uint32_t i = 0; i < h->n_sec; i++) {
		printf("  %-10s offset %8" PRIu64 "  length %8" PRIu64 "  count %u",
		       pol_sec_name(h->sec[i].type), h->sec[i].offset, h->sec[i].length,
		       h->sec[i].count);
		if (h->sec[i].type == TS_POLSEC_HSDB_GATED)
			printf(" (gate %s)", pol_gate_name(h->sec[i].count));
		printf("\n");
	}
	/* the databases by gate: which texts each one is scanned on */
	for (uint32_t g = 0; g < TS_GATE_COUNT; g++) {
		const char *info = pol_image_hsdb_gate_info(img, g);

		if (info == NULL)
			continue;
		printf("hyperscan  %-8s %s\n", g == TS_GATE_NONE ? "ungated" : pol_gate_name(g), info);
	}

	rules = pol_image_rules(img);
	for (uint32_t i = 0; i < pol_image_rule_count(img); i++) {
		by_cat[rules[i].category]++;
		by_act[rules[i].action]++;
		by_verify[rules[i].verify]++;
	}
	printf("rules      %u\n", pol_image_rule_count(img));
	printf("  by category:");
	for (uint32_t c = 0; c < TS_CAT_COUNT; c++)
		if (by_cat[c] != 0)
			printf(" %s=%u", rules_cat_name(c), by_cat[c]);
	printf("\n  by action:");
	for (uint32_t a = 0; a < TS_ACT_COUNT; a++)
		if (by_act[a] != 0)
			printf(" %s=%u", rules_act_name(a), by_act[a]);
	printf("\n  verified:");
	for (uint32_t v = 1; v < TS_VERIFY_COUNT; v++)
		printf(" %s=%u", rules_verify_name(v), by_verify[v]);
	printf("\n");

	sc = pol_image_scorer(img);
	printf("scorer     %s, %u features, threshold %.6g, bias %.6g\n",
	       sc->kind == TS_SCORER_LOGISTIC ? "logistic" : "?", sc->n_features,
	       (double)sc->threshold, (double)sc->bias);
	printf("  %-32s %12s %12s %12s\n", "feature", "mean", "scale", "weight");
	for (uint32_t i = 0; i < sc->n_features; i++)
		printf("  %-32s %12.6g %12.6g %12.6g\n", sc->names[i], (double)sc->mean[i],
		       (double)sc->scale[i], (double)sc->weight[i]);

	printf("routes\n");
	for (uint32_t r = 0; r < TS_ROUTE_COUNT; r++) {
		const struct pol_route *rt = pol_image_route(img, r);

		printf("  %-8s model %-28s upstream %-12s usd/Mtok in %.4f out %.4f\n",
		       route_name(r), rt->model[0] != '\0' ? rt->model : "-",
		       rt->upstream[0] != '\0' ? rt->upstream : "-", rt->usd_per_mtok_in,
		       rt->usd_per_mtok_out);
	}
	pol_image_close(img);
	return EXIT_OK;
}

static int cmd_verify(int argc, char **argv)
{
	struct pol_image *img;

	if (argc != 1 || argv[0][0] == '-')
		return usage_error("%s needs exactly one IMAGE", "verify");
	img = open_image(argv[0]);
	if (img == NULL)
		return EXIT_REFUSED;
	printf("%s: ok: %s version %" PRIu64 ", %u rules, %u features\n", argv[0],
	       pol_image_name(img), pol_image_version(img), pol_image_rule_count(img),
	       pol_image_scorer(img)->n_features);
	pol_image_close(img);
	return EXIT_OK;
}

static int cmd_lint(int argc, char **argv)
{
	struct rules_lint_opts lo = {0};
	struct opts o = {0};
	struct rules_set *set;
	int n;

	if (parse_opts(argc, argv, &o) != 0)
		return EXIT_USAGE;
	if (o.n_rules == 0)
		return usage_error("%s needs --rules PATH...", "lint");
	if (o.scorer != NULL || o.config != NULL || o.version != NULL || o.name != NULL ||
	    o.out != NULL)
		return usage_error("%s takes only --rules, --corpus, --platform, --static, "
				   "--compare-targets",
				   "lint");
	if (o.platform != NULL && rules_target_from_name(o.platform, &lo.target) != 0)
		return usage_error("unknown --platform \"%s\" (native, avx2, sse, auto)",
				   o.platform);
	lo.static_only = o.static_only;
	lo.compare_targets = o.compare_targets;
	set = load_rules(&o);
	if (set == NULL)
		return EXIT_REFUSED;
	n = rules_lint(set,
		       o.static_only && o.corpus == NULL ? NULL
		       : o.corpus != NULL		 ? o.corpus
							 : DEFAULT_CORPUS,
		       &lo, stdout);
	rules_set_free(set);
	if (n < 0) {
		fprintf(stderr, "%s: lint failed: %s\n", prog, strerror(-n));
		return EXIT_REFUSED;
	}
	if (n > 0) {
		fprintf(stderr, "%s: %d rule(s) flagged\n", prog, n);
		return EXIT_REFUSED;
	}
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	const char *cmd;

	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	cmd = argv[1];
	if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
		usage(stdout);
		return EXIT_OK;
	}
	if (strcmp(cmd, "compile") == 0)
		return cmd_compile(argc - 2, argv + 2);
	if (strcmp(cmd, "inspect") == 0)
		return cmd_inspect(argc - 2, argv + 2);
	if (strcmp(cmd, "verify") == 0)
		return cmd_verify(argc - 2, argv + 2);
	if (strcmp(cmd, "lint") == 0)
		return cmd_lint(argc - 2, argv + 2);
	return usage_error("unknown command \"%s\" (compile, inspect, verify, lint)", cmd);
}
