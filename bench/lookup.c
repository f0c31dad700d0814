/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Area 2: lookup by name + put, ns per operation, with 1 and N threads,
 * in trees of 1k and 1M devices (--quick: 100k instead of 1M, reported
 * under the n1m key with a note).
 *
 * devlife: dl_device_lookup() + dl_device_put() on root devices named
 * "d<i>". mutex_hash: the same names in a chained hash table under one
 * pthread mutex (baselines.h), lookup taking a reference under the mutex,
 * put dropping it atomically.
 *
 * Every thread picks names uniformly at random (xorshift, its own seed)
 * from a prebuilt array; both variants pay the same for that. Method as
 * in enter_exit.c: barrier start, fixed duration, per-thread
 * CLOCK_MONOTONIC, ns per op = sum of thread times / sum of ops, median
 * of REPS runs.
 */
#include <devlife/devlife.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "baselines.h"
#include "common.h"

#define CHUNK 256
#define NAME_LEN 16

enum variant { V_DEVLIFE, V_MUTEX_HASH, NV };
static const char *const vname[NV] = { "devlife", "mutex_hash" };

static struct {
	_Alignas(64) atomic_int stop;
	_Alignas(64) pthread_barrier_t start;
	char (*names)[NAME_LEN];
	size_t n;
	struct dl_tree *tree;
	struct mh_table mh;
} S;

struct worker {
	_Alignas(64) int variant;
	uint64_t seed;
	uint64_t ops;
	uint64_t ns;
	uint64_t cpu_ns;
};

static inline bool stopped(void)
{
	return atomic_load_explicit(&S.stop, memory_order_relaxed);
}

__attribute__((noinline)) static uint64_t bench_loop_devlife(uint64_t *seed)
{
	uint64_t n = 0;

	while (!stopped()) {
		for (int i = 0; i < CHUNK; i++) {
			const char *name = S.names[bench_rand_below(seed, S.n)];
			struct dl_device *dev;

			if (__builtin_expect(dl_device_lookup(S.tree, name, &dev), 0))
				bench_die("dl_device_lookup(%s) failed", name);
			bench_barrier();
			dl_device_put(dev);
		}
		n += CHUNK;
	}
	return n;
}

__attribute__((noinline)) static uint64_t bench_loop_mutex_hash(uint64_t *seed)
{
	uint64_t n = 0;

	while (!stopped()) {
		for (int i = 0; i < CHUNK; i++) {
			const char *name = S.names[bench_rand_below(seed, S.n)];
			struct mh_dev *d = mh_lookup(&S.mh, name);

			if (__builtin_expect(!d, 0))
				bench_die("mh_lookup(%s) failed", name);
			bench_barrier();
			mh_put(d);
		}
		n += CHUNK;
	}
	return n;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	uint64_t t0, c0, n;

	pthread_barrier_wait(&S.start);
	t0 = bench_now_ns();
	c0 = bench_thread_cpu_ns();
	if (w->variant == V_DEVLIFE)
		n = bench_loop_devlife(&w->seed);
	else
		n = bench_loop_mutex_hash(&w->seed);
	w->ns = bench_now_ns() - t0;
	w->cpu_ns = bench_thread_cpu_ns() - c0;
	w->ops = n;
	return NULL;
}

static void *timer_main(void *arg)
{
	uint64_t dur = *(uint64_t *)arg;

	pthread_barrier_wait(&S.start);
	bench_sleep_ns(dur);
	atomic_store(&S.stop, 1);
	return NULL;
}

static double run_once(int variant, int t, uint64_t dur_ns, int rep,
		       double *share)
{
	struct worker *w = aligned_alloc(64, sizeof(*w) * (size_t)t);
	uint64_t ops = 0, ns = 0, cpu = 0;
	pthread_t timer;

	if (!w)
		bench_die("out of memory");
	memset(w, 0, sizeof(*w) * (size_t)t);
	for (int i = 0; i < t; i++) {
		w[i].variant = variant;
		w[i].seed = 0x9E3779B97F4A7C15ULL * (uint64_t)(i + 1) +
			    (uint64_t)rep * 7919u;
	}
	atomic_store(&S.stop, 0);
	pthread_barrier_init(&S.start, NULL, (unsigned)t + 1);
	pthread_create(&timer, NULL, timer_main, &dur_ns);
	bench_run_threads(t, worker_main, w, sizeof(*w));
	pthread_join(timer, NULL);
	pthread_barrier_destroy(&S.start);
	for (int i = 0; i < t; i++) {
		ops += w[i].ops;
		ns += w[i].ns;
		cpu += w[i].cpu_ns;
	}
	*share = ns ? (double)cpu / (double)ns : 1.0;
	free(w);
	if (!ops)
		bench_die("no operation measured");
	return (double)ns / (double)ops;
}

/*
 * Median of @reps runs, measured again (up to 3 times) when another load
 * took the threads' CPUs; the least disturbed attempt is kept.
 * mutex_hash threads with t > 1 sleep on the mutex: their CPU share is
 * below 1 by design, not a sign of another load, and is not checked.
 */
/* 3 in full runs; 1 in --quick, which must stay short */
static int max_attempts = 3;

struct point {
	int variant, t;
	uint64_t dur_ns;
};

static double run_point(void *ctx, int rep, double *share)
{
	struct point *p = ctx;

	return run_once(p->variant, p->t, p->dur_ns, rep, share);
}

static double measure(int variant, int t, int reps, uint64_t dur_ns)
{
	struct point p = { variant, t, dur_ns };
	char what[64];

	snprintf(what, sizeof(what), "%s t=%d", vname[variant], t);
	return bench_measure(run_point, &p, reps, max_attempts,
			     variant != V_MUTEX_HASH || t == 1 ? 1.0 : 0, what);
}

static const struct dl_device_type bench_type = { .name = "bench" };

static void build(size_t n)
{
	uint64_t t0 = bench_now_ns(), t1;
	int e;

	S.n = n;
	S.names = malloc(n * NAME_LEN);
	if (!S.names)
		bench_die("out of memory");
	e = dl_tree_new(&S.tree);
	if (e)
		bench_die("dl_tree_new: %s", strerror(-e));
	if (mh_init(&S.mh, n))
		bench_die("out of memory");
	for (size_t i = 0; i < n; i++) {
		struct dl_device *dev;

		snprintf(S.names[i], NAME_LEN, "d%u", (unsigned)i);
		e = dl_device_new(S.tree, &bench_type, S.names[i], 0, &dev);
		if (!e)
			e = dl_device_add(dev, NULL);
		if (e)
			bench_die("adding %s: %s", S.names[i], strerror(-e));
		dl_device_put(dev);
	}
	t1 = bench_now_ns();
	for (size_t i = 0; i < n; i++)
		if (mh_add(&S.mh, S.names[i]))
			bench_die("mh_add failed");
	bench_log("lookup: built %zu devices: devlife %.3f s, mutex_hash %.3f s",
		  n, (double)(t1 - t0) / 1e9, (double)(bench_now_ns() - t1) / 1e9);
}

static void teardown(void)
{
	uint64_t t0 = bench_now_ns();

	dl_tree_free(S.tree);
	bench_log("lookup: dl_tree_free of %zu devices: %.3f s", S.n,
		  (double)(bench_now_ns() - t0) / 1e9);
	mh_destroy(&S.mh);
	free(S.names);
	memset(&S.mh, 0, sizeof(S.mh));
	S.tree = NULL;
	S.names = NULL;
}

int main(int argc, char **argv)
{
	struct bench_opts o;
	struct bench_json *j;
	size_t sizes[2];
	const char *skey[2] = { "n1k", "n1m" };
	int reps;
	uint64_t dur;
	char key[96];
	double settle_s[2];

	bench_parse_args(argc, argv, &o, NULL);
	reps = o.quick ? 3 : 5;
	max_attempts = o.quick ? 1 : 3;
	dur = o.quick ? 40000000ull : 200000000ull;
	sizes[0] = 1000;
	sizes[1] = o.quick ? 100000 : 1000000;

	j = bench_json_open(&o);
	for (int s = 0; s < 2; s++) {
		build(sizes[s]);
		settle_s[s] = bench_settle(60);
		bench_log("lookup: %zu devices: background work done %.1f s "
			  "after the build", sizes[s], settle_s[s]);
		for (int v = 0; v < NV; v++) {
			int ts[2] = { 1, o.threads };

			for (int k = 0; k < 2; k++) {
				double x = measure(v, ts[k], reps, dur);

				snprintf(key, sizeof(key), "lookup_ns.%s.%s.%s",
					 vname[v], skey[s], k ? "tN" : "t1");
				bench_json_num(j, key, x);
				bench_log("lookup %-10s n=%-7zu t=%d %8.2f ns/op",
					  vname[v], sizes[s], ts[k], x);
			}
		}
		teardown();
	}
	bench_json_num(j, "lookup_devices_n1m", (double)sizes[1]);
	if (o.quick)
		bench_json_note(j, "quick mode: lookup_ns.*.n1m measured with "
				   "%zu devices, not 1M", sizes[1]);
	bench_json_num(j, "lookup_settle_s_n1m", settle_s[1]);
	bench_json_note(j, "lookup_ns: measured once the process is quiet "
			   "(the registry's lazy resize after the build took "
			   "%.1f s with %zu devices)", settle_s[1], sizes[1]);
	bench_json_note(j, "lookup_ns: random names, sum of per-thread time / "
			   "ops, median of %d runs of %.0f ms", reps,
			(double)dur / 1e6);
	bench_json_close(j);
	return 0;
}
