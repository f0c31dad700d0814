/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "common.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void bench_die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("bench: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

void bench_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

void bench_parse_args(int argc, char **argv, struct bench_opts *o,
		      const char *usage_extra)
{
	memset(o, 0, sizeof(*o));
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--quick")) {
			o->quick = true;
		} else if (!strcmp(a, "--json") && i + 1 < argc) {
			o->json_path = argv[++i];
		} else if (!strcmp(a, "--sweep") && i + 1 < argc) {
			o->sweep_path = argv[++i];
		} else if (!strcmp(a, "--threads") && i + 1 < argc) {
			o->threads = atoi(argv[++i]);
		} else {
			fprintf(stderr,
				"usage: %s [--quick] [--json FILE] [--threads N]%s\n"
				"  --quick      short run (CI smoke check)\n"
				"  --json FILE  write the JSON fragment to FILE (default stdout)\n"
				"  --threads N  N for the tN figures (default: online CPUs)\n",
				argv[0], usage_extra ? usage_extra : "");
			exit(strcmp(a, "--help") ? 2 : 0);
		}
	}
	if (o->threads <= 0)
		o->threads = bench_ncpus();
}

double bench_min_cpu_share = 1.0;

void bench_note_cpu_share(double share)
{
	if (share < bench_min_cpu_share)
		bench_min_cpu_share = share;
}

static uint64_t process_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

double bench_settle(double max_s)
{
	uint64_t t0 = bench_now_ns(), deadline = t0 + (uint64_t)(max_s * 1e9);

	for (;;) {
		uint64_t c0 = process_cpu_ns(), c1;

		bench_sleep_ns(200000000ull);
		c1 = process_cpu_ns();
		if (c1 - c0 < 10000000ull || bench_now_ns() >= deadline)
			break;
	}
	return (double)(bench_now_ns() - t0) / 1e9;
}

void bench_sleep_ns(uint64_t ns)
{
	struct timespec ts = { .tv_sec = (time_t)(ns / 1000000000u),
			       .tv_nsec = (long)(ns % 1000000000u) };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

int bench_ncpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? (int)n : 1;
}

long bench_rss_bytes(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	long size = 0, rss = 0;

	if (!f)
		return -1;
	if (fscanf(f, "%ld %ld", &size, &rss) != 2)
		rss = -1;
	fclose(f);
	return rss < 0 ? -1 : rss * sysconf(_SC_PAGESIZE);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double bench_percentile(const double *v, size_t n, double p)
{
	double *c, r;
	size_t k;

	if (!n)
		return 0;
	c = malloc(n * sizeof(*c));
	if (!c)
		bench_die("out of memory");
	memcpy(c, v, n * sizeof(*c));
	qsort(c, n, sizeof(*c), cmp_double);
	/* nearest rank */
	k = (size_t)(p / 100.0 * (double)n + 0.999999);
	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	r = c[k - 1];
	free(c);
	return r;
}

double bench_median(const double *v, size_t n)
{
	double *c, r;

	if (!n)
		return 0;
	c = malloc(n * sizeof(*c));
	if (!c)
		bench_die("out of memory");
	memcpy(c, v, n * sizeof(*c));
	qsort(c, n, sizeof(*c), cmp_double);
	r = n % 2 ? c[n / 2] : (c[n / 2 - 1] + c[n / 2]) / 2;
	free(c);
	return r;
}

void bench_run_threads(int n, void *(*fn)(void *), void *args, size_t stride)
{
	pthread_t *t = calloc((size_t)n, sizeof(*t));

	if (!t)
		bench_die("out of memory");
	for (int i = 0; i < n; i++) {
		int e = pthread_create(&t[i], NULL, fn,
				       (char *)args + (size_t)i * stride);
		if (e)
			bench_die("pthread_create: %s", strerror(e));
	}
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	free(t);
}

/* ------------------------------------------------------------------ */
/* JSON fragments                                                      */

struct bench_json {
	FILE *f;
	bool first;
	char notes[16][256];
	int nnotes;
};

struct bench_json *bench_json_open(const struct bench_opts *o)
{
	struct bench_json *j = calloc(1, sizeof(*j));

	if (!j)
		bench_die("out of memory");
	j->f = o->json_path ? fopen(o->json_path, "w") : stdout;
	if (!j->f)
		bench_die("cannot write %s: %s", o->json_path, strerror(errno));
	j->first = true;
	fputs("{", j->f);
	return j;
}

static void json_key(struct bench_json *j, const char *key)
{
	fprintf(j->f, "%s\n  \"%s\": ", j->first ? "" : ",", key);
	j->first = false;
}

static void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

void bench_json_num(struct bench_json *j, const char *key, double v)
{
	json_key(j, key);
	fprintf(j->f, "%.6g", v);
}

void bench_json_str(struct bench_json *j, const char *key, const char *v)
{
	json_key(j, key);
	json_string(j->f, v);
}

void bench_json_note(struct bench_json *j, const char *fmt, ...)
{
	va_list ap;

	if (j->nnotes >= 16)
		return;
	va_start(ap, fmt);
	vsnprintf(j->notes[j->nnotes++], sizeof(j->notes[0]), fmt, ap);
	va_end(ap);
}

void bench_json_close(struct bench_json *j)
{
	if (bench_min_cpu_share < 0.9)
		bench_json_note(j, "the runs behind some figure got only %.0f%% of "
				   "a CPU per thread (median): another load was "
				   "running, figures are pessimistic", bench_min_cpu_share * 100);
	json_key(j, "notes");
	fputs("[", j->f);
	for (int i = 0; i < j->nnotes; i++) {
		if (i)
			fputs(", ", j->f);
		json_string(j->f, j->notes[i]);
	}
	fputs("],\n  \"compiler\": ", j->f);
#ifdef __clang__
	json_string(j->f, "clang " __clang_version__);
#elif defined(__GNUC__)
	json_string(j->f, "gcc " __VERSION__);
#else
	json_string(j->f, "unknown");
#endif
	fputs("\n}\n", j->f);
	if (j->f != stdout)
		fclose(j->f);
	else
		fflush(stdout);
	free(j);
}

double bench_measure(double (*run)(void *ctx, int rep, double *share),
		     void *ctx, int reps, int attempts, double expect,
		     const char *what)
{
	double r[16], sh[16], best = 0, best_share = -1;

	if (reps > 16)
		reps = 16;
	for (int attempt = 0; attempt < attempts; attempt++) {
		double share;

		for (int i = 0; i < reps; i++)
			r[i] = run(ctx, i, &sh[i]);
		share = expect > 0 ? bench_median(sh, (size_t)reps) / expect
				   : 1.0;
		if (share > best_share) {
			best_share = share;
			best = bench_median(r, (size_t)reps);
		}
		if (share >= 0.9 || attempt + 1 == attempts)
			break;
		bench_log("  %s: threads got %.0f%% of their CPUs, measuring again",
			  what, share * 100);
	}
	bench_note_cpu_share(best_share);
	return best;
}
