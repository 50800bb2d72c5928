/* SPDX-License-Identifier: proprietary */
/*
 * EAL for the net unit suites: no hugepages, no PCI, one lcore, a file prefix of
 * the suite's own so suites run in parallel. Returns 0 or -1 (message printed).
 */
#ifndef TWOSPEED_UT_EAL_H
#define TWOSPEED_UT_EAL_H

#include <stdio.h>

#include <rte_eal.h>

static inline int ut_eal_init(const char *prog, const char *mem_mb, const char *prefix)
{
	/* rte_eal_init wants writable strings: copy every argument */
	static char args[][32] = {"", "--no-huge", "--no-pci", "-m", "", "--file-prefix", "",
				  "-l", "0", "--log-level", "lib.eal:error"};
	enum { N = sizeof(args) / sizeof(args[0]) };
	char *argv[N + 1];

	snprintf(args[0], sizeof(args[0]), "%s", prog);
	snprintf(args[4], sizeof(args[4]), "%s", mem_mb);
	snprintf(args[6], sizeof(args[6]), "%s", prefix);
	for (int i = 0; i < N; i++)
		argv[i] = args[i];
	argv[N] = NULL;
	if (rte_eal_init(N, argv) < 0) {
		fprintf(stderr, "%s: EAL init failed\n", prog);
		return -1;
	}
	return 0;
}

#endif /* TWOSPEED_UT_EAL_H */
