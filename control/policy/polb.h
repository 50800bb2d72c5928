/* SPDX-License-Identifier: proprietary */
/*
 * Policy compiler (control/policy, prefix polb_): scorer file parser, route
 * table from the appliance config, image builder and atomic image writer.
 * Control plane and tools only: allocates, does I/O, calls Hyperscan.
 *
 * Errors: functions return 0 or -errno and write one line into err (when err
 * is not NULL and errlen > 0): "file:line: reason" for text inputs.
 */
#ifndef TWOSPEED_POLB_H
#define TWOSPEED_POLB_H

#include <stddef.h>
#include <stdint.h>

#include <hs/hs.h>

#include "polb-t.h"
#include "rules-t.h"
#include "tsconf-t.h"

/*
 * Parse a scorer text file held in buf[0..len) (need not be NUL-terminated;
 * never read past len). name stands for the file in errors. Refuses unknown
 * directives, a missing or repeated header/kind/threshold/bias, non-finite
 * numbers or numbers out of float range, scale <= 0, a threshold outside
 * [0, 1], bad or duplicate feature names, more than POL_SCORER_MAX_FEATURES
 * features or none, over-long lines and NUL bytes. *out is written on success
 * only. Returns 0, -EINVAL, -E2BIG (file or line too long).
 */
int polb_scorer_parse(const char *name, const char *buf, size_t len, struct polb_scorer *out,
		      char *err, size_t errlen);

/* Read a scorer file (at most POLB_SCORER_FILE_MAX bytes) and parse it. */
int polb_scorer_load_file(const char *path, struct polb_scorer *out, char *err, size_t errlen);

/* Fill rt with the embedded defaults (POLB_DEF_* in polb-t.h). */
void polb_routes_default(struct polb_routes *rt);

/*
 * Route table from an appliance config buffer: sections [route.local] and
 * [route.frontier], keys model, upstream, usd_per_mtok_in, usd_per_mtok_out,
 * parsed with the tsconf key table below; a missing key keeps its default.
 * Sections that belong to other modules are ignored here (their owners check
 * them); line numbers in errors are those of the file. Returns 0 or -errno.
 */
int polb_routes_from_config_buf(const char *name, const char *buf, size_t len,
				struct polb_routes *rt, char *err, size_t errlen);
int polb_routes_from_config_file(const char *path, struct polb_routes *rt, char *err,
				 size_t errlen);

/* The tsconf key table of the route sections (for --help-config and docs). */
const struct tsconf_key *polb_routes_conf_keys(size_t *n);

/* Everything one image is built from. */
struct polb_input {
	const struct rules_set *rules; /* rule i becomes RULES entry i */
	/*
	 * Block-mode databases from rules_compile_gated(): dbs[g] holds exactly
	 * the rules whose gate is g, rule i compiled as id i; NULL when no rule
	 * has gate g. dbs[TS_GATE_NONE] (the HSDB section) is the ungated one.
	 */
	const hs_database_t *dbs[TS_GATE_COUNT];
	const struct polb_scorer *scorer;
	const struct polb_routes *routes;
	uint64_t policy_version; /* chosen by the caller, monotonic */
	const char *name;	 /* printable ASCII, < TS_POLICY_NAME_MAX bytes */
	uint64_t created_unix;	 /* seconds since the epoch, informational */
};

/*
 * Build one image laid out per include/twospeed/policy-t.h (ABI 2.0): header,
 * then STRINGS, RULES, SCORER, ROUTES, HDRSUM (XXH3 of the header), HSDB
 * (hs_serialize_database output of dbs[TS_GATE_NONE], when there is one) and
 * one HSDB_GATED section per gated database, in gate order, each 64-byte
 * aligned, checksum XXH3_64bits over everything after the header. Refuses a
 * gate with rules but no database and a database for a gate without rules.
 * The
 * result is loaded back with pol_image_load() before it is returned, so an
 * image the reader would refuse is never handed out. On success *image (free
 * with free()) and *len are set. Returns 0, -EINVAL (bad input, err says
 * which), -ENOMEM.
 */
int polb_build(const struct polb_input *in, void **image, size_t *len, char *err, size_t errlen);

/*
 * Atomically replace path with the image: write a temporary file in the same
 * directory, fsync it, rename it over path, fsync the directory. A reader
 * sees either the old file or the new one, never a mix. Returns 0 or -errno.
 */
int polb_write_file(const char *path, const void *image, size_t len, char *err, size_t errlen);

#endif /* TWOSPEED_POLB_H */
