/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Area 3: removal.
 *
 *  bytes_per_device   RSS delta (/proc/self/statm) / count over building a
 *                     tree of 65,536 devices (256 parents x 255 children,
 *                     names of 2 to 6 bytes, priv_size 0), measured first,
 *                     in a fresh process. The heap delta (mallinfo2) is
 *                     reported too, as heap_bytes_per_device.
 *  teardown_64k_s     time to remove that tree by removing its 256 parents
 *                     (wait mode, one thread); teardown_64k_tree_free_s:
 *                     the same tree freed with dl_tree_free(). Median of
 *                     REPS builds.
 *  remove_idle_us     latency of dl_device_remove() of an idle device
 *                     (p50, p99 over M removals, one after the other)
 *                     while max(1, N-1) threads keep entering and exiting
 *                     64 other devices.
 */
#include <devlife/devlife.h>
#include <errno.h>
#include <malloc.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

#define PARENTS 256
#define CHILDREN 255
#define TREE_DEVICES (PARENTS * (CHILDREN + 1))
#define HOT 64

static const struct dl_device_type bench_type = { .name = "bench" };

static struct dl_device *add_dev(struct dl_tree *t, const char *name,
				 struct dl_device *parent)
{
	struct dl_device *dev;
	int e = dl_device_new(t, &bench_type, name, 0, &dev);

	if (!e)
		e = dl_device_add(dev, parent);
	if (e)
		bench_die("adding %s: %s", name, strerror(-e));
	return dev;
}

static struct dl_tree *new_tree(void)
{
	struct dl_tree *t;
	int e = dl_tree_new(&t);

	if (e)
		bench_die("dl_tree_new: %s", strerror(-e));
	return t;
}

/* 256 parents "p<i>", each with 255 children "c<j>"; keeps the parents. */
static double build_64k(struct dl_tree *t, struct dl_device **parents)
{
	uint64_t t0 = bench_now_ns();
	char name[16];

	for (unsigned p = 0; p < PARENTS; p++) {
		snprintf(name, sizeof(name), "p%u", p);
		parents[p] = add_dev(t, name, NULL);
		for (unsigned c = 0; c < CHILDREN; c++) {
			snprintf(name, sizeof(name), "c%u", p * CHILDREN + c);
			dl_device_put(add_dev(t, name, parents[p]));
		}
	}
	return (double)(bench_now_ns() - t0) / 1e9;
}

static double remove_parents(struct dl_device **parents)
{
	uint64_t t0 = bench_now_ns();

	for (unsigned p = 0; p < PARENTS; p++) {
		int e = dl_device_remove(parents[p], DL_REMOVE_WAIT,
					 DL_NO_TIMEOUT);
		if (e)
			bench_die("dl_device_remove: %s", strerror(-e));
	}
	return (double)(bench_now_ns() - t0) / 1e9;
}

static void put_all(struct dl_device **devs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dl_device_put(devs[i]);
}

/* ------------------------------------------------------------------ */

static struct {
	_Alignas(64) atomic_int stop;
	_Alignas(64) pthread_barrier_t start;
	struct dl_device *hot[HOT];
} S;

struct bg {
	_Alignas(64) uint64_t seed;
	uint64_t pairs;
};

static void *bg_main(void *arg)
{
	struct bg *b = arg;
	uint64_t n = 0;

	pthread_barrier_wait(&S.start);
	while (!atomic_load_explicit(&S.stop, memory_order_relaxed)) {
		for (int i = 0; i < 256; i++) {
			struct dl_device *d = S.hot[bench_rand_below(&b->seed, HOT)];

			if (dl_device_enter(d))
				bench_die("dl_device_enter of a hot device failed");
			bench_barrier();
			dl_device_exit(d);
		}
		n += 256;
	}
	b->pairs = n;
	return NULL;
}

static void remove_idle(struct bench_json *j, int nthreads, size_t m)
{
	struct dl_tree *t = new_tree();
	struct dl_device **idle = malloc(m * sizeof(*idle));
	double *us = malloc(m * sizeof(*us));
	int nbg = nthreads > 1 ? nthreads - 1 : 1;
	struct bg *b = aligned_alloc(64, sizeof(*b) * (size_t)nbg);
	pthread_t *th = calloc((size_t)nbg, sizeof(*th));
	uint64_t tb, t0, t1, pairs = 0;
	char name[16];

	if (!idle || !us || !b || !th)
		bench_die("out of memory");
	for (unsigned i = 0; i < HOT; i++) {
		snprintf(name, sizeof(name), "h%u", i);
		S.hot[i] = add_dev(t, name, NULL);
	}
	for (size_t i = 0; i < m; i++) {
		snprintf(name, sizeof(name), "i%u", (unsigned)i);
		idle[i] = add_dev(t, name, NULL);
	}
	memset(b, 0, sizeof(*b) * (size_t)nbg);
	atomic_store(&S.stop, 0);
	pthread_barrier_init(&S.start, NULL, (unsigned)nbg + 1);
	for (int i = 0; i < nbg; i++) {
		b[i].seed = 0x9E3779B97F4A7C15ULL * (uint64_t)(i + 1);
		pthread_create(&th[i], NULL, bg_main, &b[i]);
	}
	pthread_barrier_wait(&S.start);
	tb = bench_now_ns();
	bench_sleep_ns(10000000);        /* let the users get going */
	t0 = bench_now_ns();
	for (size_t i = 0; i < m; i++) {
		uint64_t a = bench_now_ns();
		int e = dl_device_remove(idle[i], DL_REMOVE_WAIT, DL_NO_TIMEOUT);

		us[i] = (double)(bench_now_ns() - a) / 1e3;
		if (e)
			bench_die("dl_device_remove: %s", strerror(-e));
	}
	bench_log("remove_idle: %zu removals took %.3f s", m,
		  (double)(bench_now_ns() - t0) / 1e9);
	atomic_store(&S.stop, 1);
	for (int i = 0; i < nbg; i++) {
		pthread_join(th[i], NULL);
		pairs += b[i].pairs;
	}
	t1 = bench_now_ns();
	pthread_barrier_destroy(&S.start);

	bench_json_num(j, "remove_idle_us.p50", bench_percentile(us, m, 50));
	bench_json_num(j, "remove_idle_us.p99", bench_percentile(us, m, 99));
	bench_json_num(j, "remove_idle_us.max", bench_percentile(us, m, 100));
	bench_log("remove_idle: %zu removals, p50 %.2f us, p99 %.2f us, max %.2f us; "
		  "%d users did %.1f M enter/exit per s meanwhile",
		  m, bench_percentile(us, m, 50), bench_percentile(us, m, 99),
		  bench_percentile(us, m, 100), nbg,
		  (double)pairs / ((double)(t1 - tb) / 1e9) / 1e6);
	bench_json_note(j, "remove_idle_us: %zu removals one after another "
			   "(nearest-rank percentiles) while %d thread(s) entered "
			   "%d other devices", m, nbg, HOT);
	put_all(idle, m);
	put_all(S.hot, HOT);
	dl_tree_free(t);
	free(idle);
	free(us);
	free(b);
	free(th);
}

int main(int argc, char **argv)
{
	struct bench_opts o;
	struct bench_json *j;
	struct dl_device *parents[PARENTS];
	double td[8], tf[8], bt[8];
	int reps;
	size_t m;

	bench_parse_args(argc, argv, &o, NULL);
	reps = o.quick ? 1 : 3;
	m = o.quick ? 300 : 2000;
	j = bench_json_open(&o);

	/* memory, in this fresh process, and the first teardown */
	{
		struct dl_tree *t = new_tree();
		long rss0, rss1;
		size_t heap0, heap1;

		/* warm up: the library's per-thread and RCU state */
		dl_device_put(add_dev(t, "warm", NULL));
		bench_sleep_ns(20000000);
		rss0 = bench_rss_bytes();
		heap0 = mallinfo2().uordblks;
		bt[0] = build_64k(t, parents);
		bench_sleep_ns(20000000);  /* let deferred hash resizes settle */
		rss1 = bench_rss_bytes();
		heap1 = mallinfo2().uordblks;
		bench_json_num(j, "bytes_per_device",
			       (double)(rss1 - rss0) / TREE_DEVICES);
		bench_json_num(j, "heap_bytes_per_device",
			       ((double)heap1 - (double)heap0) / TREE_DEVICES);
		bench_log("memory: RSS %+.1f MiB, heap %+.1f MiB for %d devices: "
			  "%.0f B (RSS) / %.0f B (heap) per device",
			  (double)(rss1 - rss0) / 1048576.0,
			  ((double)heap1 - (double)heap0) / 1048576.0,
			  TREE_DEVICES, (double)(rss1 - rss0) / TREE_DEVICES,
			  ((double)heap1 - (double)heap0) / TREE_DEVICES);
		td[0] = remove_parents(parents);
		put_all(parents, PARENTS);
		dl_tree_free(t);
	}
	for (int r = 0; r < reps; r++) {
		struct dl_tree *t;
		uint64_t t0;

		if (r > 0) {
			t = new_tree();
			bt[r] = build_64k(t, parents);
			td[r] = remove_parents(parents);
			put_all(parents, PARENTS);
			dl_tree_free(t);
		}
		t = new_tree();
		build_64k(t, parents);
		put_all(parents, PARENTS);
		t0 = bench_now_ns();
		dl_tree_free(t);
		tf[r] = (double)(bench_now_ns() - t0) / 1e9;
		bench_log("teardown 64k: build %.3f s, remove 256 parents %.3f s, "
			  "dl_tree_free %.3f s", bt[r], td[r], tf[r]);
	}
	bench_json_num(j, "teardown_64k_s", bench_median(td, (size_t)reps));
	bench_json_num(j, "teardown_64k_tree_free_s", bench_median(tf, (size_t)reps));
	bench_json_num(j, "teardown_64k_first_s", td[0]);
	bench_json_num(j, "build_64k_s", bench_median(bt, (size_t)reps));
	bench_json_note(j, "teardown_64k_s: removing the 256 parents of a "
			   "256x255 tree, median of %d (teardown_64k_first_s: the "
			   "first, in a fresh process); bytes_per_device: RSS "
			   "delta over building it", reps);

	remove_idle(j, o.threads, m);
	bench_json_close(j);
	return 0;
}
