/* SPDX-License-Identifier: Proprietary */
/*
 * tsfile.h - read a whole file with a size bound, for loaders that parse from memory
 * (config, rule files, scorer files, policy images).  Init/control path only: it
 * allocates and does I/O.  It lives in the config module, the lowest one, so that
 * dataplane/ and control/ loaders can all link it.
 */
#ifndef TSFILE_H
#define TSFILE_H

#include <stddef.h>

/*
 * Reads the regular file at path into a malloc'ed buffer with a NUL after the last
 * byte (not counted in *len).  Refuses what is not a regular file (-EINVAL; opened
 * non-blocking first, so a FIFO cannot hang the caller) and a file over max bytes
 * (-EFBIG) before allocating.  It reads the size fstat() reported: a file that
 * shrinks meanwhile gives the shorter contents for the parser to judge, one that
 * grows gives its first st_size bytes, so memory stays bounded by max.
 * Returns 0 with *out (the caller frees it) and *len set, or a negative errno with
 * *out NULL and the reason, without the path, in why (which may be NULL): each
 * caller prefixes it in its own error format.
 */
int tsfile_read(const char *path, size_t max, char **out, size_t *len, char *why,
		size_t whylen);

#endif /* TSFILE_H */
