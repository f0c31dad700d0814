/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Area 4: churn. One thread runs add + remove cycles (dl_device_new,
 * dl_device_add, dl_device_remove in wait mode, dl_device_put) on fresh
 * root devices while max(1, N-1) threads enter and exit random devices of
 * a pool of 1024 others. churn_per_s = cycles / elapsed time, median of
 * REPS runs of a fixed duration.
 */
#include <devlife/devlife.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

#define POOL 1024

static const struct dl_device_type bench_type = { .name = "bench" };

static struct {
	_Alignas(64) atomic_int stop;
	_Alignas(64) pthread_barrier_t start;
	struct dl_device *pool[POOL];
} S;

struct user {
	_Alignas(64) uint64_t seed;
	uint64_t pairs;
};

static void *user_main(void *arg)
{
	struct user *u = arg;
	uint64_t n = 0;

	pthread_barrier_wait(&S.start);
	while (!atomic_load_explicit(&S.stop, memory_order_relaxed)) {
		for (int i = 0; i < 256; i++) {
			struct dl_device *d = S.pool[bench_rand_below(&u->seed, POOL)];

			if (dl_device_enter(d))
				bench_die("dl_device_enter of a pool device failed");
			bench_barrier();
			dl_device_exit(d);
		}
		n += 256;
	}
	u->pairs = n;
	return NULL;
}

static struct dl_device *add_dev(struct dl_tree *t, const char *name)
{
	struct dl_device *dev;
	int e = dl_device_new(t, &bench_type, name, 0, &dev);

	if (!e)
		e = dl_device_add(dev, NULL);
	if (e)
		bench_die("adding %s: %s", name, strerror(-e));
	return dev;
}

static double run_once(struct dl_tree *t, int nusers, uint64_t dur_ns,
		       unsigned *serial, double *user_rate)
{
	struct user *u = aligned_alloc(64, sizeof(*u) * (size_t)nusers);
	pthread_t *th = calloc((size_t)nusers, sizeof(*th));
	uint64_t t0, t1, cycles = 0, pairs = 0;
	char name[24];

	if (!u || !th)
		bench_die("out of memory");
	memset(u, 0, sizeof(*u) * (size_t)nusers);
	atomic_store(&S.stop, 0);
	pthread_barrier_init(&S.start, NULL, (unsigned)nusers + 1);
	for (int i = 0; i < nusers; i++) {
		u[i].seed = 0x9E3779B97F4A7C15ULL * (uint64_t)(i + 1) + *serial;
		pthread_create(&th[i], NULL, user_main, &u[i]);
	}
	pthread_barrier_wait(&S.start);
	t0 = bench_now_ns();
	do {
		for (int i = 0; i < 16; i++) {
			struct dl_device *d;
			int e;

			snprintf(name, sizeof(name), "churn%u", (*serial)++);
			d = add_dev(t, name);
			e = dl_device_remove(d, DL_REMOVE_WAIT, DL_NO_TIMEOUT);
			if (e)
				bench_die("dl_device_remove: %s", strerror(-e));
			dl_device_put(d);
		}
		cycles += 16;
		t1 = bench_now_ns();
	} while (t1 - t0 < dur_ns);
	atomic_store(&S.stop, 1);
	for (int i = 0; i < nusers; i++) {
		pthread_join(th[i], NULL);
		pairs += u[i].pairs;
	}
	pthread_barrier_destroy(&S.start);
	*user_rate = (double)pairs / ((double)(bench_now_ns() - t0) / 1e9);
	free(u);
	free(th);
	return (double)cycles / ((double)(t1 - t0) / 1e9);
}

int main(int argc, char **argv)
{
	struct bench_opts o;
	struct bench_json *j;
	struct dl_tree *t;
	double r[8], ur[8];
	int reps, nusers, e;
	unsigned serial = 0;
	uint64_t dur;
	char name[16];

	bench_parse_args(argc, argv, &o, NULL);
	reps = o.quick ? 3 : 5;
	dur = o.quick ? 200000000ull : 1000000000ull;
	nusers = o.threads > 1 ? o.threads - 1 : 1;

	e = dl_tree_new(&t);
	if (e)
		bench_die("dl_tree_new: %s", strerror(-e));
	for (unsigned i = 0; i < POOL; i++) {
		snprintf(name, sizeof(name), "u%u", i);
		S.pool[i] = add_dev(t, name);
	}
	j = bench_json_open(&o);
	for (int i = 0; i < reps; i++) {
		r[i] = run_once(t, nusers, dur, &serial, &ur[i]);
		bench_log("churn: %.0f add+remove cycles/s; %d user thread(s) "
			  "did %.1f M enter/exit per s", r[i], nusers, ur[i] / 1e6);
	}
	bench_json_num(j, "churn_per_s", bench_median(r, (size_t)reps));
	bench_json_note(j, "churn_per_s: median of %d runs of %.1f s, %d "
			   "thread(s) entering %d other devices", reps,
			(double)dur / 1e9, nusers, POOL);
	bench_json_close(j);
	for (unsigned i = 0; i < POOL; i++)
		dl_device_put(S.pool[i]);
	dl_tree_free(t);
	return 0;
}
