/* SPDX-License-Identifier: Proprietary */
/* tserr.c - fill a caller's error buffer (see tserr.h). */
#include <stdarg.h>
#include <stdio.h>

#include "tserr.h"

void tserr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}
