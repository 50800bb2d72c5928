/* SPDX-License-Identifier: proprietary */
/*
 * libFuzzer target for the rule file parser: parses the input as one rule
 * buffer, then runs the static shape checker (a second, hand-written pattern
 * tokenizer) over every parsed rule. Compiling is left out on purpose:
 * Hyperscan's compile time on adversarial patterns is unbounded in practice
 * and it is Hyperscan's parser, not ours.
 *
 * Checks: no crash, no leak, a failed parse leaves the set empty and gives a
 * "name:line: reason" error, every parsed rule satisfies the set's invariants.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rules_set *set = rules_set_new();
	char err[256];
	char hint[512];
	int rc;

	if (set == NULL)
		return 0;
	rc = rules_parse_buf(set, "fuzz.rules", (const char *)data, size, err, sizeof(err));
	if (rc < 0) {
		if (set->n != 0 || strncmp(err, "fuzz.rules", 10) != 0)
			abort();
	} else {
		for (uint32_t i = 0; i < set->n; i++) {
			const struct rules_rule *r = &set->rules[i];

			if (r->category >= TS_CAT_COUNT || r->action >= TS_ACT_COUNT ||
			    r->verify >= TS_VERIFY_COUNT || r->pattern == NULL ||
			    r->pattern[0] == '\0' || strlen(r->pattern) > RULES_MAX_PATTERN ||
			    !(r->weight >= 0.0f && r->weight <= RULES_WEIGHT_MAX) || r->line == 0)
				abort();
			(void)rules_shape_bad(r, hint, sizeof(hint));
		}
	}
	rules_set_free(set);
	return 0;
}
