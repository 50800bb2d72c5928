/* SPDX-License-Identifier: proprietary */
/* libFuzzer target: the scorer text parser (control/policy) on arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "polb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct polb_scorer sc;
	char err[256];

	/* exact-size heap copy: ASan catches any read past the end */
	char *buf = malloc(size > 0 ? size : 1);

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	if (polb_scorer_parse("fuzz", buf, size, &sc, err, sizeof(err)) == 0 &&
	    (sc.n_features == 0 || sc.n_features > POL_SCORER_MAX_FEATURES ||
	     !(sc.threshold >= 0.0f && sc.threshold <= 1.0f)))
		abort(); /* the parser accepted what it promises to refuse */
	free(buf);
	return 0;
}
