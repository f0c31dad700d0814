/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Wall time of `echo N > sriov_numvfs; echo 0 > sriov_numvfs` through the
 * sysfs view, as a script or an SR-IOV operator does it: each write is
 * open + write + close of the file, and returns once the VFs are all
 * added (or all removed).
 *
 *   devlife-bench-numvfs SRIOV_NUMVFS_FILE [N [RUNS]]    (default 255, 11)
 *
 * Prints one line per run (enable, disable, total in ms) and the medians.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int store(const char *path, unsigned int n)
{
	char buf[16];
	int fd = open(path, O_WRONLY), len, r;

	if (fd < 0)
		return -1;
	len = snprintf(buf, sizeof(buf), "%u\n", n);
	r = write(fd, buf, (size_t)len) == len ? 0 : -1;
	close(fd);
	return r;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
	unsigned int n = argc > 2 ? (unsigned int)atoi(argv[2]) : 255;
	int runs = argc > 3 ? atoi(argv[3]) : 11;
	double *en, *dis, *tot;

	if (argc < 2 || runs < 1) {
		fprintf(stderr, "usage: %s SRIOV_NUMVFS_FILE [N [RUNS]]\n", argv[0]);
		return 2;
	}
	en = calloc((size_t)runs, sizeof(*en));
	dis = calloc((size_t)runs, sizeof(*dis));
	tot = calloc((size_t)runs, sizeof(*tot));
	if (!en || !dis || !tot)
		return 1;
	if (store(argv[1], 0) < 0) {
		perror(argv[1]);
		return 1;
	}
	for (int i = 0; i < runs; i++) {
		double t0 = now_ms(), t1, t2;

		if (store(argv[1], n) < 0) {
			perror("enable");
			return 1;
		}
		t1 = now_ms();
		if (store(argv[1], 0) < 0) {
			perror("disable");
			return 1;
		}
		t2 = now_ms();
		en[i] = t1 - t0;
		dis[i] = t2 - t1;
		tot[i] = t2 - t0;
		printf("run %2d: 0 -> %u %7.2f ms, %u -> 0 %7.2f ms, total %7.2f ms\n", i + 1, n,
		       en[i], n, dis[i], tot[i]);
	}
	printf("median: 0 -> %u %.2f ms, %u -> 0 %.2f ms, total %.2f ms (%d runs)\n", n,
	       median(en, runs), n, median(dis, runs), median(tot, runs), runs);
	free(en);
	free(dis);
	free(tot);
	return 0;
}
