/* replay.c: runs a fuzz target's inputs once each, without libFuzzer.
 *
 * Linked with a target's fuzz_<name>.c (and whatever it tests) into replay_<name>,
 * which every build registers as the unit test fuzz-replay-<name> with the target's
 * seed corpus as argument. So a regression on a seed fails the ordinary gcc run
 * (and, in the sanitizer build, under ASan/UBSan), not only the clang fuzz stage.
 *
 * Usage: replay_<name> PATH...   Each PATH is a file, or a directory whose regular
 * files are run in name order (one level; sub-directories and dot files are
 * skipped, as libFuzzer's corpus reader reads only files). Each input is read into
 * a heap buffer of exactly its size, so ASan catches a target reading past it.
 * Exit status: 0 when every input ran and returned 0 or -1; 1 on a target error, an
 * unreadable path, or no inputs at all (an empty corpus is a broken test, not a
 * pass). A crash in the target is the test's failure as it is.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

/* Targets that need no set-up do not define it; a weak reference is then NULL. */
#pragma weak LLVMFuzzerInitialize

/* Largest input read (bytes): the seeds are small, so anything bigger is a
 * mistake in the corpus, refused rather than read into memory. */
#define REPLAY_MAX_INPUT (64u << 20)

struct replay_stats {
	unsigned int ran;      /* inputs passed to the target */
	unsigned int rejected; /* of those, returned -1 (libFuzzer: keep out of corpus) */
};

/* Reads path whole into a malloc'ed buffer of exactly its size (a 1-byte one for
 * an empty file, so the pointer is never NULL). Returns 0 or -errno; *buf is the
 * caller's to free. */
static int replay_read(const char *path, uint8_t **buf, size_t *size)
{
	struct stat st;
	uint8_t *p = NULL;
	size_t n;
	FILE *f;
	int rc = 0;

	f = fopen(path, "rb");
	if (f == NULL)
		return -errno;
	if (fstat(fileno(f), &st) != 0) {
		rc = -errno;
		goto close_file;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = -EINVAL;
		goto close_file;
	}
	if ((unsigned long long)st.st_size > REPLAY_MAX_INPUT) {
		rc = -EFBIG;
		goto close_file;
	}
	n = (size_t)st.st_size;
	p = malloc(n > 0 ? n : 1);
	if (p == NULL) {
		rc = -ENOMEM;
		goto close_file;
	}
	if (n > 0 && fread(p, 1, n, f) != n) {
		rc = ferror(f) ? -EIO : -ENODATA; /* short: the file shrank under us */
		goto free_buf;
	}
	*buf = p;
	*size = n;
	fclose(f);
	return 0;

free_buf:
	free(p);
close_file:
	fclose(f);
	return rc;
}

/* Runs one file through the target. Returns 0, or -errno when it cannot be read
 * or the target returned something other than 0 / -1 (both reported on stderr). */
static int replay_file(const char *path, struct replay_stats *st)
{
	uint8_t *buf = NULL;
	size_t size = 0;
	int rc, ret;

	rc = replay_read(path, &buf, &size);
	if (rc != 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(-rc));
		return rc;
	}
	ret = LLVMFuzzerTestOneInput(buf, size);
	free(buf);
	st->ran++;
	if (ret == -1) {
		st->rejected++;
	} else if (ret != 0) {
		fprintf(stderr, "replay: %s: target returned %d\n", path, ret);
		return -EPROTO;
	}
	return 0;
}

static int replay_cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs the regular, non-dot files directly in dir, in name order (so a failure
 * reproduces in the same sequence: targets may keep state between inputs, as
 * under libFuzzer). Returns 0 or the first error; all files are tried. */
static int replay_dir(const char *dir, struct replay_stats *st)
{
	char **names = NULL, **grown;
	size_t n = 0, cap = 0;
	struct dirent *de;
	char *path;
	struct stat sb;
	int rc = 0, one;
	DIR *d;

	d = opendir(dir);
	if (d == NULL) {
		rc = -errno;
		fprintf(stderr, "replay: %s: %s\n", dir, strerror(-rc));
		return rc;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			grown = realloc(names, cap * sizeof(*names));
			if (grown == NULL) {
				rc = -ENOMEM;
				goto free_names;
			}
			names = grown;
		}
		if (asprintf(&path, "%s/%s", dir, de->d_name) < 0) {
			rc = -ENOMEM;
			goto free_names;
		}
		if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) {
			free(path);
			continue;
		}
		names[n++] = path;
	}
	if (n > 0)
		qsort(names, n, sizeof(*names), replay_cmp_names);
	for (size_t i = 0; i < n; i++) {
		one = replay_file(names[i], st);
		if (one != 0 && rc == 0)
			rc = one;
	}

free_names:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return rc;
}

int main(int argc, char **argv)
{
	struct replay_stats st = {0};
	const char *prog = argc > 0 ? argv[0] : "replay";
	struct stat sb;
	int failed = 0, rc;
	int init_argc = argc; /* copies: libFuzzer lets the target rewrite them */
	char **init_argv = argv;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", prog);
		return 2;
	}
	if (LLVMFuzzerInitialize != NULL && LLVMFuzzerInitialize(&init_argc, &init_argv) != 0) {
		fprintf(stderr, "replay: LLVMFuzzerInitialize failed\n");
		return 1;
	}
	for (int i = 1; i < argc; i++) {
		if (stat(argv[i], &sb) != 0) {
			fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
			failed = 1;
			continue;
		}
		if (S_ISDIR(sb.st_mode))
			rc = replay_dir(argv[i], &st);
		else
			rc = replay_file(argv[i], &st);
		if (rc != 0)
			failed = 1;
	}
	printf("replay: %u inputs ran (%u rejected by the target)\n", st.ran, st.rejected);
	if (st.ran == 0) {
		fprintf(stderr, "replay: no inputs found\n");
		failed = 1;
	}
	return failed ? 1 : 0;
}
