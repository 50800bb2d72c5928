/* SPDX-License-Identifier: proprietary */
/* Module-private declarations of control/rules, shared by its .c files. */
#ifndef TS_RULES_PRIV_H
#define TS_RULES_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include <hs/hs.h>

/* A compile target: this CPU's platform with features dropped and maybe another tune. */
struct rules_variant {
	const char *name;
	uint64_t drop; /* HS_CPU_FEATURES_* bits removed from hs_populate_platform() */
	int tune;      /* HS_TUNE_FAMILY_*, or -1 to keep the detected family */
};

extern const struct rules_variant rules_variants[];
extern const size_t rules_n_variants;

/* The rules_variants index behind RULES_TARGET_AUTO (measured: lint-notes.md). */
#define RULES_AUTO_VARIANT 1

/* Fills plat for rules_variants[v]: 0, -EINVAL, -ENOTSUP. */
int rules_variant_platform(size_t v, hs_platform_info_t *plat);

/* Compiles every rule but rule skip (ids stay rule indexes): for marginal costs. */
struct rules_set;
int rules_compile_skip(const struct rules_set *set, uint32_t skip, const hs_platform_info_t *plat,
		       hs_database_t **db, char *err, size_t errlen);

/*
 * The entries of directory path whose names do not start with '.' and end with
 * suffix ("" for any), as malloc'ed "path/name" strings in strcmp order.  More than
 * max of them is -E2BIG ("path: more than max what").  Returns 0 with *names (free
 * with rules_names_free) and *n set, or -errno with "path: reason" in err.
 */
int rules_list_dir(const char *path, const char *suffix, size_t max, const char *what,
		   char ***names, size_t *n, char *err, size_t errlen);
void rules_names_free(char **names, size_t n);

#endif /* TS_RULES_PRIV_H */
