/* SPDX-License-Identifier: proprietary */
/*
 * libFuzzer target: the policy image reader on arbitrary bytes. Each input is
 * loaded twice: as given (framing and checksum refusals), then with the
 * header's length set to the input size and the checksum recomputed, so the
 * fuzzer reaches the section, string, enum, scorer, route and Hyperscan
 * checks behind the checksum (seeds: an ungated image, one with a database
 * per gate, and one whose two gated sections claim the same gate). An accepted image is walked through every
 * accessor so an unchecked offset would fault under ASan.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "pol.h"

static size_t walk(const struct pol_image *img)
{
	static const char *const names[] = {"a", "b"};
	const struct pol_scorer *sc = pol_image_scorer(img);
	const struct pol_rule *r = pol_image_rules(img);
	size_t sum = strlen(pol_image_name(img));
	char err[128];

	for (uint32_t i = 0; i < pol_image_rule_count(img); i++)
		sum += strlen(r[i].id) + r[i].category + r[i].action + r[i].verify;
	for (uint32_t i = 0; i < sc->n_features; i++)
		sum += strlen(sc->names[i]) + (sc->mean[i] + sc->scale[i] + sc->weight[i] > 0.0f);
	for (uint32_t i = 0; i < TS_ROUTE_COUNT; i++)
		sum += strlen(pol_image_route(img, i)->model) +
		       strlen(pol_image_route(img, i)->upstream);
	sum += (size_t)pol_image_check_features(img, names, 2, err, sizeof(err));
	/* every rule database, gated ones included (ABI 2.0), and its description */
	for (uint32_t g = 0; g <= TS_GATE_COUNT; g++) {
		const char *info = pol_image_hsdb_gate_info(img, g);

		sum += (pol_image_hsdb_gate(img, g) != NULL) + (info != NULL ? strlen(info) : 0);
	}
	return sum + (pol_image_hsdb(img) != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pol_image *img;
	uint64_t len = size;
	unsigned char *copy;
	char err[256];

	img = pol_image_from_buf(data, size, err, sizeof(err));
	if (img != NULL)
		walk(img);
	pol_image_close(img);

	if (size < sizeof(struct ts_policy_hdr))
		return 0;
	copy = malloc(size);
	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	memcpy(copy + offsetof(struct ts_policy_hdr, length), &len, sizeof(len));
	pol_reseal(copy, size);
	img = pol_image_from_buf(copy, size, err, sizeof(err));
	if (img != NULL)
		walk(img);
	pol_image_close(img);
	free(copy);
	return 0;
}
