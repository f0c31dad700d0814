/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Shared helpers of the devlife benchmarks: command line, timing, threads,
 * JSON fragments. Benchmarks are never run as tests; bench/run.sh runs
 * them and merges their JSON fragments into BUILD/bench/results.json.
 */
#ifndef DEVLIFE_BENCH_COMMON_H
#define DEVLIFE_BENCH_COMMON_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

/* Keep the compiler from merging, hoisting or deleting memory accesses. */
#define bench_barrier() __asm__ __volatile__("" ::: "memory")
/* Make the compiler believe @v is used (and may be changed). */
#define bench_use(v) __asm__ __volatile__("" : "+r"(v) : : "memory")

#define BENCH_CACHELINE 64

struct bench_opts {
	bool quick;
	const char *json_path;   /* NULL: stdout */
	const char *sweep_path;  /* enter_exit only */
	int threads;             /* N: 0 = number of online CPUs */
};

/* Parse --quick, --json FILE, --sweep FILE, --threads N, --help. */
void bench_parse_args(int argc, char **argv, struct bench_opts *o,
		      const char *usage_extra);

static inline uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* CPU time of the calling thread: with bench_now_ns(), tells whether the
 * thread had its CPU to itself (another load on the machine shows as a
 * CPU share below 1). */
static inline uint64_t bench_thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * Record the CPU share (thread CPU time / wall time, 1.0 = undisturbed)
 * behind one reported figure, the median over its runs. bench_json_close()
 * adds a note when the lowest one fell below 0.9.
 */
extern double bench_min_cpu_share;
void bench_note_cpu_share(double share);

void bench_sleep_ns(uint64_t ns);
/*
 * Wait until the process's other threads are quiet (less than 5% of a
 * CPU over 200 ms; at most @max_s seconds): background work started by
 * what was just built (liburcu's lazy hash-table resize, deferred frees)
 * must not run during the measurement. Returns the seconds waited.
 */
double bench_settle(double max_s);
int bench_ncpus(void);

/* RSS of this process in bytes (from /proc/self/statm). */
long bench_rss_bytes(void);

/* Sorting helpers: median and percentile of a copy of v[0..n). */
double bench_median(const double *v, size_t n);

/*
 * One reported figure: the median of @reps calls of @run (at most 16),
 * each returning its figure and its threads' CPU share (CPU time / wall
 * time). When the median share, divided by @expect (the share the
 * threads can have: 1, or CPUs / threads beyond the CPU count; 0 to not
 * check, for threads that sleep by design), is below 0.9 (another load
 * took the CPUs), the figure is measured again, up to @attempts times,
 * and the least disturbed attempt is kept. @what names the figure in
 * the log.
 */
double bench_measure(double (*run)(void *ctx, int rep, double *share),
		     void *ctx, int reps, int attempts, double expect,
		     const char *what);
double bench_percentile(const double *v, size_t n, double p);

/* Run fn(arg_i) on n threads; arg_i = (char *)args + i * stride. */
void bench_run_threads(int n, void *(*fn)(void *), void *args, size_t stride);

/* xorshift64*: per-thread pseudo random numbers. */
static inline uint64_t bench_rand(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1DULL;
}

/* Uniform in [0, n) for n < 2^32 (multiply-shift, no division). */
static inline size_t bench_rand_below(uint64_t *s, size_t n)
{
	return (size_t)(((bench_rand(s) >> 32) * (uint64_t)n) >> 32);
}

/* die with a message */
_Noreturn void bench_die(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

/*
 * A JSON fragment: a flat list of "dotted.key": value pairs that run.sh
 * expands into nested objects. Numbers are written with enough digits;
 * notes are strings appended to the "notes" list.
 */
struct bench_json;
struct bench_json *bench_json_open(const struct bench_opts *o);
void bench_json_num(struct bench_json *j, const char *key, double v);
void bench_json_str(struct bench_json *j, const char *key, const char *v);
void bench_json_note(struct bench_json *j, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void bench_json_close(struct bench_json *j);

/* Progress messages go to stderr so that stdout stays JSON. */
void bench_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
