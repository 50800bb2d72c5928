/* SPDX-License-Identifier: proprietary */
/*
 * Policy image reader (dataplane/policy, prefix pol_).
 *
 * Lifecycle, and why it is split this way: the dataplane will receive images
 * through a shared-memory slot written by twospeed-control and swap them per
 * worker with RCU (rte_rcu_qsbr). Loading is therefore a control-side step,
 * run off the packet path on a service thread: it copies the bytes into memory
 * it owns (so a later rewrite of the slot cannot change a validated image),
 * validates every offset, string, enum and float, and deserializes the
 * Hyperscan database once. What comes out is immutable; workers only read it
 * through the accessors below, which never allocate, lock or fail. The old
 * image is closed only after every worker passed a quiescent point.
 *
 * All load functions refuse with a specific reason: the return code class
 * (enum pol_err) and a one-line message naming the field or offset.
 */
#ifndef TWOSPEED_POL_H
#define TWOSPEED_POL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hs/hs.h>

#include "pol-t.h"

/*
 * Validate an image held in memory and build a pol_image from a private,
 * 64-byte aligned copy of it. buf is only borrowed. On refusal returns NULL,
 * stores the class in *code (when code is not NULL) and the reason in err
 * (when errlen > 0). Control/init context: allocates, calls Hyperscan.
 */
struct pol_image *pol_image_load(const void *buf, size_t len, enum pol_err *code, char *err,
				 size_t errlen);

/* pol_image_load() without the code. */
struct pol_image *pol_image_from_buf(const void *buf, size_t len, char *err, size_t errlen);

/* Read a whole file (at most POL_IMAGE_MAX_BYTES) and pol_image_load() it. */
struct pol_image *pol_image_open_file(const char *path, char *err, size_t errlen);
struct pol_image *pol_image_open_file_code(const char *path, enum pol_err *code, char *err,
					   size_t errlen);

#define POL_IMAGE_MAX_BYTES (256ull << 20) /* refuse larger images, bytes */

/* Free an image and its Hyperscan database. NULL is accepted. */
void pol_image_close(struct pol_image *img);

/* Short stable name of a refusal class, e.g. "checksum". */
const char *pol_err_name(enum pol_err code);

/*
 * XXH3_64bits over [sizeof(struct ts_policy_hdr), len) of an image: the value
 * hdr.checksum must hold. len must be >= sizeof(struct ts_policy_hdr).
 */
uint64_t pol_checksum(const void *buf, size_t len);

/*
 * XXH3_64bits of a header with its checksum field taken as zero: the value the
 * HDRSUM section (ABI 1.1 on, every 2.x image) must hold.
 */
uint64_t pol_hdr_checksum(const struct ts_policy_hdr *hdr);

/*
 * Seal a writable image buffer of len bytes: store the header sum into its
 * HDRSUM section (when the table has a well-formed one), then the payload
 * checksum into hdr.checksum. The builder's last step; tests and the fuzzer
 * use it to get past both checksums. Returns 0, or -EINVAL when len is
 * smaller than the header.
 */
int pol_reseal(void *buf, size_t len);

/* ---- accessors: valid until pol_image_close(), never fail ---- */

const struct ts_policy_hdr *pol_image_hdr(const struct pol_image *img);
uint64_t pol_image_version(const struct pol_image *img);
const char *pol_image_name(const struct pol_image *img);
/* The validated image bytes (64-byte aligned), e.g. to publish into shared memory. */
const void *pol_image_bytes(const struct pol_image *img, size_t *len);

/*
 * The block-mode database of the ungated rules (HSDB), deserialized at load;
 * NULL when every rule of the image is gated. Scratch is the caller's.
 */
const hs_database_t *pol_image_hsdb(const struct pol_image *img);
/* Hyperscan's description of it, e.g. "Version: 5.4.0 Features: AVX2 Mode: BLOCK"; or NULL. */
const char *pol_image_hsdb_info(const struct pol_image *img);
/*
 * The database of the rules with gate (enum ts_rule_gate; TS_GATE_NONE is
 * pol_image_hsdb()), and its description; NULL when the image has none or the
 * gate is out of range. A rule's Hyperscan id is its index in every database.
 */
const hs_database_t *pol_image_hsdb_gate(const struct pol_image *img, uint32_t gate);
const char *pol_image_hsdb_gate_info(const struct pol_image *img, uint32_t gate);
/* "none", "nonascii", "at", "digits"; NULL when out of range. */
const char *pol_gate_name(uint32_t gate);
/* A section type's name ("HSDB", "HSDB_GATED", ...); "unknown" for other values. */
const char *pol_sec_name(uint32_t type);

uint32_t pol_image_rule_count(const struct pol_image *img);
/* The rule table, pol_image_rule_count() entries, index = Hyperscan id. */
const struct pol_rule *pol_image_rules(const struct pol_image *img);

const struct pol_scorer *pol_image_scorer(const struct pol_image *img);

/* route < TS_ROUTE_COUNT; returns NULL otherwise. */
const struct pol_route *pol_image_route(const struct pol_image *img, uint32_t route);

/*
 * Compare the scorer's features with the feature extractor's list: same
 * count, same names in the same order. Returns 0, or -EINVAL with the first
 * difference in err. Control context (call it once at load, before the swap).
 */
int pol_image_check_features(const struct pol_image *img, const char *const *names, uint32_t n,
			     char *err, size_t errlen);

#endif /* TWOSPEED_POL_H */
