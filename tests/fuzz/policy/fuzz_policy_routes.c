/* SPDX-License-Identifier: proprietary */
/*
 * libFuzzer target: the route table read from an appliance config
 * (control/policy polb_routes_from_config_buf: the filter that keeps only
 * [route.*] sections, then tsconf with the route key table).
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "polb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct polb_routes rt;
	char err[512];
	char *buf = malloc(size > 0 ? size : 1); /* exact size: overreads fault */

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	if (polb_routes_from_config_buf("fuzz", buf, size, &rt, err, sizeof(err)) == 0)
		for (uint32_t i = 0; i < TS_ROUTE_COUNT; i++)
			if (memchr(rt.r[i].model, '\0', sizeof(rt.r[i].model)) == NULL ||
			    memchr(rt.r[i].upstream, '\0', sizeof(rt.r[i].upstream)) == NULL ||
			    !(rt.r[i].usd_per_mtok_in >= 0.0) ||
			    !isfinite(rt.r[i].usd_per_mtok_out))
				abort(); /* accepted what the key table forbids */
	free(buf);
	return 0;
}
