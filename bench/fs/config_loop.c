/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * open + pread(4096) + close of one file in a loop, for a given time, on
 * N threads: prints operations per second. Checks every read is full.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static const char *path;
static double seconds;
static atomic_long total, short_reads;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *loop(void *arg)
{
	char buf[4096];
	double end = now() + seconds;
	long n = 0;

	(void)arg;
	while (now() < end) {
		for (int i = 0; i < 64; i++) {
			int fd = open(path, O_RDONLY);

			if (fd < 0) {
				perror(path);
				exit(1);
			}
			if (pread(fd, buf, sizeof(buf), 0) != (ssize_t)sizeof(buf))
				atomic_fetch_add(&short_reads, 1);
			close(fd);
			n++;
		}
	}
	atomic_fetch_add(&total, n);
	return NULL;
}

int main(int argc, char **argv)
{
	int threads;
	pthread_t t[64];
	double t0;

	if (argc != 4) {
		fprintf(stderr, "usage: %s FILE SECONDS THREADS\n", argv[0]);
		return 2;
	}
	path = argv[1];
	seconds = atof(argv[2]);
	threads = atoi(argv[3]);
	if (threads < 1 || threads > 64 || seconds <= 0)
		return 2;
	t0 = now();
	for (int i = 0; i < threads; i++)
		pthread_create(&t[i], NULL, loop, NULL);
	for (int i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	printf("%.0f %ld\n", (double)atomic_load(&total) / (now() - t0),
	       atomic_load(&short_reads));
	return atomic_load(&short_reads) ? 1 : 0;
}
