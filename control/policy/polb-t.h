/* SPDX-License-Identifier: proprietary */
/*
 * Types of the policy compiler (control/policy, prefix polb_): the scorer read
 * from its text file, the route table read from the appliance config, and the
 * inputs of one image build. Control plane only.
 */
#ifndef TWOSPEED_POLB_T_H
#define TWOSPEED_POLB_T_H

#include <stdint.h>

#include <twospeed/policy-t.h>

#include "pol-t.h"

/* Scorer text file bounds. */
#define POLB_SCORER_FILE_MAX (1u << 20) /* bytes */
#define POLB_SCORER_LINE_MAX 1024u	/* bytes per line, without the newline */
#define POLB_FEATURE_NAME_MAX 64u	/* bytes of a feature name including the NUL */

struct polb_feature {
	char name[POLB_FEATURE_NAME_MAX]; /* [A-Za-z0-9_.-]+, unique in the scorer */
	float mean;			  /* subtracted before scaling, finite */
	float scale;			  /* divides (x - mean), finite and > 0 */
	float weight;			  /* logistic coefficient, finite */
};

/* A parsed scorer file (format in control/policy/README.md). */
struct polb_scorer {
	uint32_t kind;	     /* enum ts_scorer_kind */
	uint32_t n_features; /* 1..POL_SCORER_MAX_FEATURES, entries of feat[] in use */
	float threshold;     /* route FRONTIER when p_frontier >= threshold, [0, 1] */
	float bias;	     /* finite */
	struct polb_feature feat[POL_SCORER_MAX_FEATURES]; /* in feature vector order */
};

/* Route table bounds. */
#define POLB_MODEL_MAX 128u   /* bytes of a model name including the NUL */
#define POLB_UPSTREAM_MAX 64u /* bytes of an upstream name including the NUL */

struct polb_route {
	char model[POLB_MODEL_MAX];	  /* model name sent upstream, "" for none */
	char upstream[POLB_UPSTREAM_MAX]; /* upstream name, "" for none */
	double usd_per_mtok_in;		  /* USD per 1e6 prompt tokens, >= 0 */
	double usd_per_mtok_out;	  /* USD per 1e6 completion tokens, >= 0 */
};

/* Indexed by enum ts_route. CACHE and BLOCK carry no model. */
struct polb_routes {
	struct polb_route r[TS_ROUTE_COUNT];
};

/*
 * Embedded route defaults, used when the config file has no [route.*] section
 * (documented in control/policy/README.md).
 */
#define POLB_DEF_LOCAL_MODEL "qwen2.5-0.5b-instruct"
#define POLB_DEF_LOCAL_UPSTREAM "executor"
#define POLB_DEF_LOCAL_USD_IN "0.10"
#define POLB_DEF_LOCAL_USD_OUT "0.10"
#define POLB_DEF_FRONTIER_MODEL "gpt-4o"
#define POLB_DEF_FRONTIER_UPSTREAM "openai"
#define POLB_DEF_FRONTIER_USD_IN "2.50"
#define POLB_DEF_FRONTIER_USD_OUT "10.00"

#endif /* TWOSPEED_POLB_T_H */
