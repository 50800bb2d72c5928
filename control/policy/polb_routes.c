/* SPDX-License-Identifier: proprietary */
/*
 * The route table of a policy image, from the appliance config
 * ([route.local] and [route.frontier], parsed by dataplane/config's tsconf
 * with the key table below). Control plane only.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "polb.h"
#include "tsconf.h"
#include "tsfile.h"

/* Prices above this are certainly a typo (USD per 1e6 tokens). */
#define POLB_USD_MAX "100000"

/* clang-format off */
static const struct tsconf_key route_keys[] = {
	{.section = "route.local", .key = "model", .type = TSCONF_STRING,
	 TSCONF_FIELD(struct polb_routes, r[TS_ROUTE_LOCAL].model),
	 .def = POLB_DEF_LOCAL_MODEL,
	 .doc = "model name sent upstream for this route"},
	{.section = "route.local", .key = "upstream", .type = TSCONF_STRING,
	 TSCONF_FIELD(struct polb_routes, r[TS_ROUTE_LOCAL].upstream),
	 .def = POLB_DEF_LOCAL_UPSTREAM,
	 .doc = "upstream that serves this route"},
	{.section = "route.local", .key = "usd_per_mtok_in", .type = TSCONF_DOUBLE,
	 TSCONF_FIELD(struct polb_routes, r[TS_ROUTE_LOCAL].usd_per_mtok_in),
	 .def = POLB_DEF_LOCAL_USD_IN, .min = "0", .max = POLB_USD_MAX,
	 .doc = "price of 1e6 prompt tokens, USD"},
	{.section = "route.local", .key = "usd_per_mtok_out", .type = TSCONF_DOUBLE,
	 TSCONF_FIELD(struct polb_routes, r[TS_ROUTE_LOCAL].usd_per_mtok_out),
	 .def = POLB_DEF_LOCAL_USD_OUT, .min = "0", .max = POLB_USD_MAX,
	 .doc = "price of 1e6 completion tokens, USD"},
	{.section = "route.frontier", .key = "model", .type = TSCONF_STRING,
	 TSCONF_FIELD(struct polb_routes, r[TS_ROUTE_FRONTIER].model),
	 .def = POLB_DEF_FRONTIER_MODEL,
	 .doc = "model name sent upstream for this route"},
	{.section = "route.frontier", .key = "upstream", .type = TSCONF_STRING,
	 TSCONF_FIELD(struct polb_routes, r[TS_ROUTE_FRONTIER].upstream),
	 .def = POLB_DEF_FRONTIER_UPSTREAM,
	 .doc = "upstream that serves this route"},
	{.section = "route.frontier", .key = "usd_per_mtok_in", .type = TSCONF_DOUBLE,
	 TSCONF_FIELD(struct polb_routes, r[TS_ROUTE_FRONTIER].usd_per_mtok_in),
	 .def = POLB_DEF_FRONTIER_USD_IN, .min = "0", .max = POLB_USD_MAX,
	 .doc = "price of 1e6 prompt tokens, USD"},
	{.section = "route.frontier", .key = "usd_per_mtok_out", .type = TSCONF_DOUBLE,
	 TSCONF_FIELD(struct polb_routes, r[TS_ROUTE_FRONTIER].usd_per_mtok_out),
	 .def = POLB_DEF_FRONTIER_USD_OUT, .min = "0", .max = POLB_USD_MAX,
	 .doc = "price of 1e6 completion tokens, USD"},
};
/* clang-format on */

const struct tsconf_key *polb_routes_conf_keys(size_t *n)
{
	*n = sizeof(route_keys) / sizeof(route_keys[0]);
	return route_keys;
}

/* Register the table against a fresh tsconf; writes the defaults into rt. */
static struct tsconf *routes_conf(struct polb_routes *rt, char *err, size_t errlen, int *rc)
{
	struct tsconf *c = tsconf_create();

	/* CACHE and BLOCK stay zero: no model, no upstream, no price. */
	memset(rt, 0, sizeof(*rt));
	if (c == NULL) {
		*rc = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	*rc = tsconf_register(c, "policy", route_keys, sizeof(route_keys) / sizeof(route_keys[0]),
			      rt, err, errlen);
	if (*rc < 0) {
		tsconf_destroy(c);
		return NULL;
	}
	return c;
}

void polb_routes_default(struct polb_routes *rt)
{
	struct tsconf *c;
	char err[TSCONF_ERR_MAX];
	int rc;

	/* The key table is the single source of the defaults. */
	c = routes_conf(rt, err, sizeof(err), &rc);
	if (c == NULL) {
		/* Only on ENOMEM or a broken table (a unit test catches the latter). */
		snprintf(rt->r[TS_ROUTE_LOCAL].model, POLB_MODEL_MAX, "%s", POLB_DEF_LOCAL_MODEL);
		snprintf(rt->r[TS_ROUTE_LOCAL].upstream, POLB_UPSTREAM_MAX, "%s",
			 POLB_DEF_LOCAL_UPSTREAM);
		rt->r[TS_ROUTE_LOCAL].usd_per_mtok_in = strtod(POLB_DEF_LOCAL_USD_IN, NULL);
		rt->r[TS_ROUTE_LOCAL].usd_per_mtok_out = strtod(POLB_DEF_LOCAL_USD_OUT, NULL);
		snprintf(rt->r[TS_ROUTE_FRONTIER].model, POLB_MODEL_MAX, "%s",
			 POLB_DEF_FRONTIER_MODEL);
		snprintf(rt->r[TS_ROUTE_FRONTIER].upstream, POLB_UPSTREAM_MAX, "%s",
			 POLB_DEF_FRONTIER_UPSTREAM);
		rt->r[TS_ROUTE_FRONTIER].usd_per_mtok_in = strtod(POLB_DEF_FRONTIER_USD_IN, NULL);
		rt->r[TS_ROUTE_FRONTIER].usd_per_mtok_out = strtod(POLB_DEF_FRONTIER_USD_OUT, NULL);
		return;
	}
	tsconf_destroy(c);
}

/*
 * The appliance config holds sections of many modules and tsconf refuses a
 * section nobody registered. The compiler only knows the route sections, so
 * it empties every line of other sections (keeping the newlines, so line
 * numbers in errors stay those of the file) and lets tsconf check the rest
 * strictly. Returns a malloc'd copy of *out_len <= len bytes, or NULL.
 */
static char *keep_route_sections(const char *buf, size_t len, size_t *out_len)
{
	char *out = malloc(len > 0 ? len : 1);
	bool keep = true; /* lines before any header are kept: tsconf reports them */
	size_t pos = 0, o = 0;

	if (out == NULL)
		return NULL;
	while (pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t ll = nl != NULL ? (size_t)(nl - (buf + pos)) + 1 : len - pos;
		size_t i = 0;

		while (i < ll && (buf[pos + i] == ' ' || buf[pos + i] == '\t'))
			i++;
		if (i < ll && buf[pos + i] == '[') {
			const char *name = buf + pos + i + 1;
			size_t rest = ll - i - 1;

			keep = rest >= 6 && memcmp(name, "route.", 6) == 0;
		}
		if (keep) {
			memcpy(out + o, buf + pos, ll);
			o += ll;
		} else if (nl != NULL) {
			out[o++] = '\n';
		}
		pos += ll;
	}
	*out_len = o;
	return out;
}

int polb_routes_from_config_buf(const char *name, const char *buf, size_t len,
				struct polb_routes *rt, char *err, size_t errlen)
{
	struct polb_routes tmp;
	struct tsconf *c;
	size_t mine_len = 0;
	char *mine;
	int rc;

	if (len > TSCONF_FILE_MAX) {
		snprintf(err, errlen, "%s:0: file of %zu bytes exceeds %u", name, len,
			 TSCONF_FILE_MAX);
		return -EFBIG;
	}
	c = routes_conf(&tmp, err, errlen, &rc);
	if (c == NULL)
		return rc;
	mine = keep_route_sections(buf, len, &mine_len);
	if (mine == NULL) {
		rc = -ENOMEM;
		snprintf(err, errlen, "%s: out of memory", name);
		goto destroy;
	}
	rc = tsconf_load_buf(c, name, mine, mine_len, err, errlen);
	if (rc == 0)
		*rt = tmp;
	free(mine);
destroy:
	tsconf_destroy(c);
	return rc;
}

int polb_routes_from_config_file(const char *path, struct polb_routes *rt, char *err, size_t errlen)
{
	char why[128];
	size_t len;
	char *buf;
	int rc;

	rc = tsfile_read(path, TSCONF_FILE_MAX, &buf, &len, why, sizeof(why));
	if (rc < 0) {
		snprintf(err, errlen, "%s:0: %s", path, why);
		return rc;
	}
	rc = polb_routes_from_config_buf(path, buf, len, rt, err, errlen);
	free(buf);
	return rc;
}
