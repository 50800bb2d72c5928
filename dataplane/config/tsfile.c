/* SPDX-License-Identifier: Proprietary */
/* tsfile.c - read a whole file with a size bound (see tsfile.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tsfile.h"
#include "tserr.h"

int tsfile_read(const char *path, size_t max, char **out, size_t *len, char *why,
		size_t whylen)
{
	struct stat st;
	char *buf;
	size_t got = 0;
	int fd, rc;

	*out = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		rc = -errno;
		tserr(why, whylen, "%s", strerror(-rc));
		return rc;
	}
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		tserr(why, whylen, "fstat: %s", strerror(-rc));
		goto close_fd;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = -EINVAL;
		tserr(why, whylen, "not a regular file");
		goto close_fd;
	}
	if ((unsigned long long)st.st_size > max) {
		rc = -EFBIG;
		tserr(why, whylen, "larger than %zu bytes (%lld)", max, (long long)st.st_size);
		goto close_fd;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		rc = -ENOMEM;
		tserr(why, whylen, "out of memory");
		goto close_fd;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			tserr(why, whylen, "read: %s", strerror(-rc));
			goto free_buf;
		}
		if (n == 0)
			break; /* shrank after fstat: the parser judges what is there */
		got += (size_t)n;
	}
	buf[got] = '\0';
	close(fd);
	*out = buf;
	*len = got;
	return 0;

free_buf:
	free(buf);
close_fd:
	close(fd);
	return rc;
}
