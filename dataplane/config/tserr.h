/* SPDX-License-Identifier: Proprietary */
/*
 * tserr.h - the error-message convention of the loaders: a function that can refuse
 * its input takes (char *err, size_t errlen) and fills it with one line, usually
 * "file:line: reason".  Init/control path only.  In the config module, the lowest
 * one, so that dataplane/ and control/ loaders share it.
 */
#ifndef TSERR_H
#define TSERR_H

#include <stddef.h>

/* printf into err; err NULL or errlen 0 means the caller wants no message. */
void tserr(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif /* TSERR_H */
