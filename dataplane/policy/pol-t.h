/* SPDX-License-Identifier: proprietary */
/*
 * Types of the policy image reader (dataplane/policy, prefix pol_).
 *
 * A struct pol_image is a validated, immutable view of one policy image
 * (include/twospeed/policy-t.h). Every pointer below points into memory the
 * image owns and stays valid until pol_image_close(); nothing in it is ever
 * written after pol_image_load() returned, so any number of workers may read
 * one image concurrently without synchronisation.
 */
#ifndef TWOSPEED_POL_T_H
#define TWOSPEED_POL_T_H

#include <stdint.h>

#include <twospeed/policy-t.h>

/* Opaque: built only by pol_image_load() and friends. */
struct pol_image;

/*
 * Why an image was refused. Stable: tests and counters key on it. The error
 * text says which field, offset or section, the code says which class.
 */
enum pol_err {
	POL_OK = 0,
	POL_E_NOMEM = 1,     /* allocation failed while loading */
	POL_E_IO = 2,	     /* open/read/stat of the file failed */
	POL_E_TRUNCATED = 3, /* shorter than the header or than hdr.length */
	POL_E_MAGIC = 4,     /* hdr.magic != TS_POLICY_MAGIC */
	POL_E_ABI = 5,	     /* hdr.abi_major not supported by this reader */
	POL_E_LENGTH = 6,    /* hdr.length != bytes given, or absurd */
	POL_E_CHECKSUM = 7,  /* XXH3 of the payload != hdr.checksum */
	POL_E_HEADER = 8,    /* n_sec, flags or name malformed */
	POL_E_SECTION = 9,   /* section out of bounds, misaligned, overlapping,
				duplicated or missing */
	POL_E_STRING = 10,   /* string offset out of bounds or unterminated */
	POL_E_RULE = 11,     /* rule category/action/verify out of range */
	POL_E_SCORER = 12,   /* scorer kind, count or values invalid */
	POL_E_ROUTE = 13,    /* route table incomplete or invalid */
	POL_E_HSDB = 14,     /* Hyperscan refused the serialized database */
	POL_E_FEATURES = 15, /* scorer features != the extractor's list */
	POL_E_COUNT = 16,
};

/* One rule; index i in the table is Hyperscan match id i. */
struct pol_rule {
	const char *id;	   /* NUL-terminated rule id, e.g. "code.fence" */
	uint32_t category; /* enum ts_rule_cat, < TS_CAT_COUNT */
	uint32_t action;   /* enum ts_rule_action, < TS_ACT_COUNT */
	uint32_t verify;   /* enum ts_rule_verify, < TS_VERIFY_COUNT */
	uint32_t hs_flags; /* HS_FLAG_* the expression was compiled with */
	float weight;	   /* per-hit contribution to its category count, finite */
};

/*
 * The scorer, decoded. Arrays hold n_features entries each, in feature
 * vector order; the float arrays are 4-byte aligned (they live in the image).
 */
struct pol_scorer {
	uint32_t kind;		  /* enum ts_scorer_kind, < TS_SCORER_COUNT */
	uint32_t n_features;	  /* 1..POL_SCORER_MAX_FEATURES */
	float bias;		  /* finite */
	float threshold;	  /* finite, in [0, 1] */
	const float *mean;	  /* [n_features], finite */
	const float *scale;	  /* [n_features], finite and > 0 */
	const float *weight;	  /* [n_features], finite */
	const char *const *names; /* [n_features], unique, non-empty */
};

#define POL_SCORER_MAX_FEATURES 256u

/* One route, decoded; pol_image_route(img, r)->route == r. */
struct pol_route {
	uint32_t route;		 /* enum ts_route */
	const char *model;	 /* model name sent upstream, "" for none */
	const char *upstream;	 /* upstream name, "" for none */
	double usd_per_mtok_in;	 /* USD per 1e6 prompt tokens, finite, >= 0 */
	double usd_per_mtok_out; /* USD per 1e6 completion tokens, finite, >= 0 */
};

#endif /* TWOSPEED_POL_T_H */
