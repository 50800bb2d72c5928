/* SPDX-License-Identifier: proprietary */
/*
 * Policy image builder and atomic writer (control/policy). Control plane and
 * tools only: allocates, calls Hyperscan, does file I/O.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pol.h"
#include "polb.h"
#include "rules.h"

__attribute__((format(printf, 4, 5))) static int bld_err(char *err, size_t errlen, int rc,
							 const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return rc;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return rc;
}

static size_t align_up(size_t v)
{
	return (v + TS_POLICY_ALIGN - 1) / TS_POLICY_ALIGN * TS_POLICY_ALIGN;
}

static bool printable_str(const char *s, size_t cap, bool nonempty)
{
	const char *nul = memchr(s, '\0', cap);

	if (nul == NULL || (nonempty && nul == s))
		return false;
	for (; s < nul; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return false;
	return true;
}

/*
 * Check the inputs before any allocation, with messages that name the
 * offending rule, feature or route: the reader's self-check at the end is a
 * safety net, not the place where users learn what they got wrong.
 */
static int check_input(const struct polb_input *in, char *err, size_t errlen)
{
	const struct polb_scorer *sc = in->scorer;
	const struct rules_set *set = in->rules;

	uint32_t per_gate[TS_GATE_COUNT] = {0};

	if (set == NULL || sc == NULL || in->routes == NULL)
		return bld_err(err, errlen, -EINVAL,
			       "build: rules, database, scorer and routes "
			       "are all required");
	if (set->n == 0)
		return bld_err(err, errlen, -EINVAL, "build: the rule set is empty");
	for (uint32_t i = 0; i < set->n; i++) {
		if (set->rules[i].gate >= TS_GATE_COUNT)
			return bld_err(err, errlen, -EINVAL, "build: rule %u (%s): gate %u out of range",
				       i, set->rules[i].id, set->rules[i].gate);
		per_gate[set->rules[i].gate]++;
	}
	for (uint32_t g = 0; g < TS_GATE_COUNT; g++) {
		if (per_gate[g] != 0 && in->dbs[g] == NULL)
			return bld_err(err, errlen, -EINVAL,
				       "build: %u rule(s) with gate %s but no database for it "
				       "(rules, database, scorer and routes are all required)",
				       per_gate[g], rules_gate_name(g));
		if (per_gate[g] == 0 && in->dbs[g] != NULL)
			return bld_err(err, errlen, -EINVAL,
				       "build: a database for gate %s, which no rule has",
				       rules_gate_name(g));
	}
	if (in->name == NULL || strlen(in->name) >= TS_POLICY_NAME_MAX ||
	    !printable_str(in->name, TS_POLICY_NAME_MAX, true))
		return bld_err(err, errlen, -EINVAL,
			       "build: name must be 1..%d printable ASCII bytes",
			       TS_POLICY_NAME_MAX - 1);
	for (uint32_t i = 0; i < set->n; i++) {
		const struct rules_rule *r = &set->rules[i];

		if (!printable_str(r->id, sizeof(r->id), true))
			return bld_err(err, errlen, -EINVAL,
				       "build: rule %u: id empty or not printable ASCII", i);
		if (r->category >= TS_CAT_COUNT || r->action >= TS_ACT_COUNT ||
		    r->verify >= TS_VERIFY_COUNT || !isfinite(r->weight))
			return bld_err(err, errlen, -EINVAL,
				       "build: rule %u (%s): category/action/verify/weight out of "
				       "range",
				       i, r->id);
	}
	if (sc->kind >= TS_SCORER_COUNT)
		return bld_err(err, errlen, -EINVAL, "build: unknown scorer kind %u", sc->kind);
	if (sc->n_features == 0 || sc->n_features > POL_SCORER_MAX_FEATURES)
		return bld_err(err, errlen, -EINVAL, "build: scorer has %u features (1..%u)",
			       sc->n_features, POL_SCORER_MAX_FEATURES);
	for (uint32_t i = 0; i < sc->n_features; i++)
		if (!printable_str(sc->feat[i].name, sizeof(sc->feat[i].name), true))
			return bld_err(err, errlen, -EINVAL,
				       "build: scorer feature %u: name empty or not printable", i);
	for (uint32_t i = 0; i < TS_ROUTE_COUNT; i++) {
		const struct polb_route *r = &in->routes->r[i];

		if (!printable_str(r->model, sizeof(r->model), false) ||
		    !printable_str(r->upstream, sizeof(r->upstream), false))
			return bld_err(err, errlen, -EINVAL,
				       "build: route %u: model/upstream not printable ASCII", i);
	}
	if (in->routes->r[TS_ROUTE_LOCAL].model[0] == '\0' ||
	    in->routes->r[TS_ROUTE_FRONTIER].model[0] == '\0')
		return bld_err(err, errlen, -EINVAL,
			       "build: the local and frontier routes both need a model");
	return 0;
}

/* STRINGS under construction: offset 0 is the empty string. */
struct strtab {
	char *buf;
	size_t len; /* bytes used */
	size_t cap; /* bytes allocated, computed up front */
};

static uint32_t strtab_add(struct strtab *st, const char *s)
{
	size_t n = strlen(s) + 1;
	uint32_t off;

	if (n == 1)
		return 0;
	/* cap was sized from the same strings: this cannot overflow */
	off = (uint32_t)st->len;
	memcpy(st->buf + st->len, s, n);
	st->len += n;
	return off;
}

int polb_build(const struct polb_input *in, void **image, size_t *len, char *err, size_t errlen)
{
	const struct rules_set *set;
	const struct polb_scorer *sc;
	struct ts_policy_hdr hdr;
	struct strtab st = {0};
	struct pol_image *check;
	char *hs_bytes[TS_GATE_COUNT] = {NULL};
	size_t hs_len[TS_GATE_COUNT] = {0};
	size_t off_hs[TS_GATE_COUNT] = {0};
	size_t off_str, off_rules, off_sc, off_routes, off_hsum, total;
	uint32_t n_sec;
	size_t rules_len, sc_len, routes_len;
	unsigned char *img = NULL;
	enum pol_err code;
	char why[256];
	int rc;

	rc = check_input(in, err, errlen);
	if (rc < 0)
		return rc;
	set = in->rules;
	sc = in->scorer;
	for (uint32_t g = 0; g < TS_GATE_COUNT; g++) {
		if (in->dbs[g] == NULL)
			continue;
		if (hs_serialize_database(in->dbs[g], &hs_bytes[g], &hs_len[g]) != HS_SUCCESS) {
			hs_bytes[g] = NULL;
			rc = bld_err(err, errlen, -EINVAL,
				     "build: hs_serialize_database failed (gate %s)",
				     rules_gate_name(g));
			goto free_hs;
		}
	}

	/* Size everything first: one allocation, no growth. */
	st.cap = 1;
	for (uint32_t i = 0; i < set->n; i++)
		st.cap += strlen(set->rules[i].id) + 1;
	for (uint32_t i = 0; i < sc->n_features; i++)
		st.cap += strlen(sc->feat[i].name) + 1;
	for (uint32_t i = 0; i < TS_ROUTE_COUNT; i++)
		st.cap +=
			strlen(in->routes->r[i].model) + 1 + strlen(in->routes->r[i].upstream) + 1;
	rules_len = (size_t)set->n * sizeof(struct ts_policy_rule);
	sc_len = sizeof(struct ts_policy_scorer) + (size_t)sc->n_features * 16u;
	routes_len = TS_ROUTE_COUNT * sizeof(struct ts_policy_route);
	off_str = align_up(sizeof(struct ts_policy_hdr));
	off_rules = align_up(off_str + st.cap);
	off_sc = align_up(off_rules + rules_len);
	off_routes = align_up(off_sc + sc_len);
	off_hsum = align_up(off_routes + routes_len);
	total = align_up(off_hsum + sizeof(uint64_t));
	for (uint32_t g = 0; g < TS_GATE_COUNT; g++) {
		if (hs_bytes[g] == NULL)
			continue;
		off_hs[g] = align_up(total);
		total = off_hs[g] + hs_len[g];
	}
	if (total > POL_IMAGE_MAX_BYTES) {
		rc = bld_err(err, errlen, -EINVAL, "build: image of %zu bytes exceeds %llu", total,
			     POL_IMAGE_MAX_BYTES);
		goto free_hs;
	}
	/* calloc: padding between sections is zero, so images are reproducible. */
	img = calloc(1, total);
	if (img == NULL) {
		rc = bld_err(err, errlen, -ENOMEM, "build: out of memory (%zu bytes)", total);
		goto free_hs;
	}
	st.buf = (char *)img + off_str;
	st.buf[0] = '\0';
	st.len = 1;

	for (uint32_t i = 0; i < set->n; i++) {
		const struct rules_rule *r = &set->rules[i];
		struct ts_policy_rule pr = {
			.id_off = strtab_add(&st, r->id),
			.category = r->category,
			.action = r->action,
			.hs_flags = r->hs_flags,
			.weight = r->weight,
			.verify = r->verify,
		};

		memcpy(img + off_rules + i * sizeof(pr), &pr, sizeof(pr));
	}
	{
		struct ts_policy_scorer sh = {
			.kind = sc->kind,
			.n_features = sc->n_features,
			.bias = sc->bias,
			.threshold = sc->threshold,
		};
		unsigned char *p = img + off_sc;
		uint32_t n = sc->n_features;

		memcpy(p, &sh, sizeof(sh));
		p += sizeof(sh);
		for (uint32_t i = 0; i < n; i++) {
			uint32_t name_off = strtab_add(&st, sc->feat[i].name);

			memcpy(p + 4u * i, &name_off, 4);
			memcpy(p + 4u * (n + i), &sc->feat[i].mean, 4);
			memcpy(p + 4u * (2 * n + i), &sc->feat[i].scale, 4);
			memcpy(p + 4u * (3 * n + i), &sc->feat[i].weight, 4);
		}
	}
	for (uint32_t i = 0; i < TS_ROUTE_COUNT; i++) {
		const struct polb_route *r = &in->routes->r[i];
		struct ts_policy_route pr = {
			.route = i,
			.model_off = strtab_add(&st, r->model),
			.upstream_off = strtab_add(&st, r->upstream),
			.reserved = 0,
			.usd_per_mtok_in = r->usd_per_mtok_in,
			.usd_per_mtok_out = r->usd_per_mtok_out,
		};

		memcpy(img + off_routes + i * sizeof(pr), &pr, sizeof(pr));
	}
	for (uint32_t g = 0; g < TS_GATE_COUNT; g++)
		if (hs_bytes[g] != NULL)
			memcpy(img + off_hs[g], hs_bytes[g], hs_len[g]);

	memset(&hdr, 0, sizeof(hdr));
	hdr.magic = TS_POLICY_MAGIC;
	hdr.abi_major = TS_POLICY_ABI_MAJOR;
	hdr.abi_minor = TS_POLICY_ABI_MINOR;
	hdr.length = total;
	hdr.policy_version = in->policy_version;
	hdr.created_unix = in->created_unix;
	memcpy(hdr.name, in->name, strlen(in->name) + 1);
	hdr.sec[0] = (struct ts_policy_sec){TS_POLSEC_STRINGS, 0, off_str, st.len};
	hdr.sec[1] = (struct ts_policy_sec){TS_POLSEC_RULES, set->n, off_rules, rules_len};
	hdr.sec[2] = (struct ts_policy_sec){TS_POLSEC_SCORER, sc->n_features, off_sc, sc_len};
	hdr.sec[3] =
		(struct ts_policy_sec){TS_POLSEC_ROUTES, TS_ROUTE_COUNT, off_routes, routes_len};
	hdr.sec[4] = (struct ts_policy_sec){TS_POLSEC_HDRSUM, 0, off_hsum, sizeof(uint64_t)};
	n_sec = 5;
	for (uint32_t g = 0; g < TS_GATE_COUNT; g++) {
		if (hs_bytes[g] == NULL)
			continue;
		/* the gate goes in count: HSDB_GATED sections are told apart by it */
		hdr.sec[n_sec++] = g == TS_GATE_NONE
					   ? (struct ts_policy_sec){TS_POLSEC_HSDB, 0, off_hs[g],
								    hs_len[g]}
					   : (struct ts_policy_sec){TS_POLSEC_HSDB_GATED, g,
								    off_hs[g], hs_len[g]};
	}
	hdr.n_sec = n_sec;
	memcpy(img, &hdr, sizeof(hdr));
	/* HDRSUM over the header, then the checksum over the payload holding it */
	pol_reseal(img, total);

	/* Never hand out an image the reader would refuse. */
	check = pol_image_load(img, total, &code, why, sizeof(why));
	if (check == NULL) {
		rc = bld_err(err, errlen, code == POL_E_NOMEM ? -ENOMEM : -EINVAL,
			     "build: the reader refused the built image: %s", why);
		goto free_img;
	}
	pol_image_close(check);
	*image = img;
	*len = total;
	rc = 0;
	goto free_hs;

free_img:
	free(img);
free_hs:
	for (uint32_t g = 0; g < TS_GATE_COUNT; g++)
		free(hs_bytes[g]);
	return rc;
}

static int write_all(int fd, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int polb_write_file(const char *path, const void *image, size_t len, char *err, size_t errlen)
{
	char *tmp, *dircopy;
	int fd, dfd, rc;

	if (asprintf(&tmp, "%s.tmp.XXXXXX", path) < 0)
		return bld_err(err, errlen, -ENOMEM, "%s: out of memory", path);
	dircopy = strdup(path);
	if (dircopy == NULL) {
		rc = bld_err(err, errlen, -ENOMEM, "%s: out of memory", path);
		goto free_tmp;
	}
	/* The temporary lives beside the target: rename() is atomic only within one fs. */
	fd = mkstemp(tmp);
	if (fd < 0) {
		rc = -errno;
		bld_err(err, errlen, rc, "%s: %s", tmp, strerror(-rc));
		goto free_dir;
	}
	/* mkstemp makes 0600; an image is not secret and readers may run as others. */
	rc = fchmod(fd, 0644) < 0 ? -errno : 0;
	if (rc == 0)
		rc = write_all(fd, image, len);
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	if (rc < 0) {
		bld_err(err, errlen, rc, "%s: %s", tmp, strerror(-rc));
		close(fd);
		goto unlink_tmp;
	}
	if (close(fd) < 0) {
		rc = -errno;
		bld_err(err, errlen, rc, "%s: close: %s", tmp, strerror(-rc));
		goto unlink_tmp;
	}
	if (rename(tmp, path) < 0) {
		rc = -errno;
		bld_err(err, errlen, rc, "rename %s -> %s: %s", tmp, path, strerror(-rc));
		goto unlink_tmp;
	}
	/* Make the rename itself durable. */
	dfd = open(dirname(dircopy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	rc = 0;
	goto free_dir;

unlink_tmp:
	unlink(tmp);
free_dir:
	free(dircopy);
free_tmp:
	free(tmp);
	return rc;
}
