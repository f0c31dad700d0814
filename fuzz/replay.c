/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Replays a fuzz target's corpus as an ordinary test: every file of each
 * directory (or each file) given on the command line is fed to the
 * target's LLVMFuzzerTestOneInput(), in one process as libFuzzer does
 * (each file's name goes to stderr first, so a crash names its input;
 * LeakSanitizer checks at exit). Speaks TAP: one test case per
 * directory.
 * Built by gcc in every build (no libFuzzer needed), so `make check`
 * keeps the checked-in corpora as regression tests.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

/* Read a whole file; NULL on error (errno set). */
static uint8_t *slurp(const char *path, size_t *ret_len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (!f)
		return NULL;
	for (;;) {
		if (len == cap) {
			uint8_t *nb;

			cap = cap ? cap * 2 : 4096;
			nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				fclose(f);
				errno = ENOMEM;
				return NULL;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	fclose(f);
	*ret_len = len;
	return buf;
}

/* Run one input; returns only if it passed (a failed check aborts). */
static int run_one(const char *path)
{
	size_t len = 0;
	uint8_t *data = slurp(path, &len);

	if (!data) {
		fprintf(stderr, "# %s: %s\n", path, strerror(errno));
		return -1;
	}
	fprintf(stderr, "running %s (%zu bytes)\n", path, len);
	/* exactly len bytes, so ASan sees an overread */
	LLVMFuzzerTestOneInput(data, len);
	free(data);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Replay one corpus directory (or file); returns failures, counts in *n. */
static int replay(const char *path, int *n)
{
	struct stat st;
	DIR *d;
	struct dirent *e;
	char **names = NULL;
	size_t nn = 0, cap = 0;
	int failed = 0;

	if (stat(path, &st) < 0) {
		fprintf(stderr, "# %s: %s\n", path, strerror(errno));
		return 1;
	}
	if (!S_ISDIR(st.st_mode)) {
		(*n)++;
		return run_one(path) != 0;
	}
	d = opendir(path);
	if (!d) {
		fprintf(stderr, "# %s: %s\n", path, strerror(errno));
		return 1;
	}
	while ((e = readdir(d))) {
		char *full;

		if (e->d_name[0] == '.')
			continue;
		if (nn == cap) {
			cap = cap ? cap * 2 : 256;
			names = realloc(names, cap * sizeof(*names));
			if (!names)
				abort();
		}
		if (asprintf(&full, "%s/%s", path, e->d_name) < 0)
			abort();
		names[nn++] = full;
	}
	closedir(d);
	qsort(names, nn, sizeof(*names), cmp_str);
	for (size_t i = 0; i < nn; i++) {
		(*n)++;
		failed += run_one(names[i]) != 0;
		free(names[i]);
	}
	free(names);
	return failed;
}

int main(int argc, char **argv)
{
	int failed_total = 0;

	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("1..%d\n", argc - 1);
	for (int i = 1; i < argc; i++) {
		int n = 0, failed = replay(argv[i], &n);

		if (failed == 0 && n > 0)
			printf("ok %d - %d inputs of %s\n", i, n, argv[i]);
		else
			printf("not ok %d - %s: %d of %d inputs failed\n", i,
			       argv[i], failed, n);
		failed_total += failed || n == 0;
	}
	return failed_total ? 1 : 0;
}
