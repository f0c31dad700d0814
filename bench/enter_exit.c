/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Area 1: the cost of an active reference, enter + exit, in ns per pair,
 * with 1 thread and with N threads all on the same device.
 *
 * Variants: devlife (the fast path of <devlife/inline.h>, inlined as
 * urcu_memb is), atomic_bias, rwlock, limit (baselines.h) and urcu_memb
 * (liburcu's read lock/unlock, inlined); extras: devlife_call
 * (dl_device_enter/dl_device_exit called through the shared library's
 * PLT) and call_floor (two empty functions called the same way).
 *
 * Method: T threads wait on a pthread barrier, then each runs its loop in
 * chunks of CHUNK pairs until the main thread raises a stop flag after a
 * fixed duration. Each thread times itself with CLOCK_MONOTONIC;
 * ns per pair = sum of the threads' times / sum of their pairs (the cost
 * one thread sees per pair while T threads run). Each figure is the median
 * of REPS such runs.
 *
 * --sweep FILE writes the figures for T = 1 .. 2N into FILE (gnuplot
 * data) instead of the JSON fragment.
 */
#define _LGPL_SOURCE
#include <urcu/urcu-memb.h>

#include <devlife/devlife.h>
#include <devlife/inline.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "baselines.h"
#include "common.h"
#include "floor.h"

/* The first NV_MAIN variants are the enter_exit_ns keys. */
enum variant { V_DEVLIFE, V_ATOMIC_BIAS, V_RWLOCK, V_URCU_MEMB, V_LIMIT,
	       NV_MAIN, V_DEVLIFE_CALL = NV_MAIN, V_CALL_FLOOR, NV };
static const char *const vname[NV] = { "devlife", "atomic_bias", "rwlock",
				       "urcu_memb", "limit", "devlife_call",
				       "call_floor" };

#define CHUNK 1024

static struct {
	_Alignas(64) atomic_int stop;
	_Alignas(64) pthread_barrier_t start;
	struct dl_device *dl_dev;
	struct ab_dev ab;
	struct rw_tree rwt;
	struct rw_dev rw;
} S;

struct worker {
	_Alignas(64) int variant;
	uint64_t pairs;
	uint64_t ns;
	uint64_t cpu_ns;
	struct limit_ctr ctr;    /* this thread's counter for "limit" */
};

static inline bool stopped(void)
{
	return atomic_load_explicit(&S.stop, memory_order_relaxed);
}

/*
 * One loop per variant, each kept out of line so that the disassembly
 * shows exactly what is measured (objdump -d: bench_loop_devlife_call
 * must call dl_device_enter and dl_device_exit, bench_loop_devlife must
 * not call anything in its loop).
 */
__attribute__((noinline)) static uint64_t bench_loop_devlife(struct dl_device *dev)
{
	uint64_t n = 0;

	while (!stopped()) {
		for (int i = 0; i < CHUNK; i++) {
			if (__builtin_expect(dl_device_enter_inline(dev), 0))
				bench_die("dl_device_enter_inline failed");
			bench_barrier();
			dl_device_exit_inline(dev);
			bench_barrier();
		}
		n += CHUNK;
	}
	return n;
}

__attribute__((noinline)) static uint64_t bench_loop_devlife_call(struct dl_device *dev)
{
	uint64_t n = 0;

	while (!stopped()) {
		for (int i = 0; i < CHUNK; i++) {
			if (__builtin_expect(dl_device_enter(dev), 0))
				bench_die("dl_device_enter failed");
			bench_barrier();
			dl_device_exit(dev);
			bench_barrier();
		}
		n += CHUNK;
	}
	return n;
}

__attribute__((noinline)) static uint64_t bench_loop_atomic_bias(struct ab_dev *d)
{
	uint64_t n = 0;

	while (!stopped()) {
		for (int i = 0; i < CHUNK; i++) {
			if (__builtin_expect(!ab_enter(d), 0))
				bench_die("ab_enter failed");
			bench_barrier();
			ab_exit(d);
			bench_barrier();
		}
		n += CHUNK;
	}
	return n;
}

__attribute__((noinline)) static uint64_t bench_loop_rwlock(struct rw_dev *d)
{
	uint64_t n = 0;

	while (!stopped()) {
		for (int i = 0; i < CHUNK; i++) {
			if (__builtin_expect(!rw_enter(d), 0))
				bench_die("rw_enter failed");
			bench_barrier();
			rw_exit(d);
			bench_barrier();
		}
		n += CHUNK;
	}
	return n;
}

__attribute__((noinline)) static uint64_t bench_loop_urcu_memb(void)
{
	uint64_t n = 0;

	while (!stopped()) {
		for (int i = 0; i < CHUNK; i++) {
			urcu_memb_read_lock();
			bench_barrier();
			urcu_memb_read_unlock();
			bench_barrier();
		}
		n += CHUNK;
	}
	return n;
}

__attribute__((noinline)) static uint64_t bench_loop_limit(struct limit_ctr *c)
{
	uint64_t n = 0;

	/* launder the pointer so the counter is reached through it */
	bench_use(c);
	while (!stopped()) {
		for (int i = 0; i < CHUNK; i++) {
			limit_enter(c);
			bench_barrier();
			limit_exit(c);
			bench_barrier();
		}
		n += CHUNK;
	}
	return n;
}

__attribute__((noinline)) static uint64_t bench_loop_call_floor(void *dev)
{
	uint64_t n = 0;

	while (!stopped()) {
		for (int i = 0; i < CHUNK; i++) {
			if (__builtin_expect(bench_floor_enter(dev), 0))
				bench_die("bench_floor_enter failed");
			bench_barrier();
			bench_floor_exit(dev);
			bench_barrier();
		}
		n += CHUNK;
	}
	return n;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	uint64_t t0, t1, c0, n = 0;

	if (w->variant == V_URCU_MEMB)
		urcu_memb_register_thread();
	/* warm the thread's state up (devlife's per-thread slots) */
	if (w->variant == V_DEVLIFE || w->variant == V_DEVLIFE_CALL) {
		if (dl_device_enter(S.dl_dev))
			bench_die("dl_device_enter failed");
		dl_device_exit(S.dl_dev);
	}
	pthread_barrier_wait(&S.start);
	t0 = bench_now_ns();
	c0 = bench_thread_cpu_ns();
	switch (w->variant) {
	case V_DEVLIFE:
		n = bench_loop_devlife(S.dl_dev);
		break;
	case V_DEVLIFE_CALL:
		n = bench_loop_devlife_call(S.dl_dev);
		break;
	case V_ATOMIC_BIAS:
		n = bench_loop_atomic_bias(&S.ab);
		break;
	case V_RWLOCK:
		n = bench_loop_rwlock(&S.rw);
		break;
	case V_URCU_MEMB:
		n = bench_loop_urcu_memb();
		break;
	case V_LIMIT:
		n = bench_loop_limit(&w->ctr);
		break;
	case V_CALL_FLOOR:
		n = bench_loop_call_floor(S.dl_dev);
		break;
	}
	t1 = bench_now_ns();
	w->cpu_ns = bench_thread_cpu_ns() - c0;
	w->pairs = n;
	w->ns = t1 - t0;
	if (w->variant == V_URCU_MEMB)
		urcu_memb_unregister_thread();
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

/* One run: ns per pair for @variant with @t threads. */
static double run_once(int variant, int t, uint64_t dur_ns, double *share)
{
	struct worker *w = aligned_alloc(64, sizeof(*w) * (size_t)t);
	pthread_t timer;
	uint64_t pairs = 0, ns = 0, cpu = 0;

	if (!w)
		bench_die("out of memory");
	memset(w, 0, sizeof(*w) * (size_t)t);
	for (int i = 0; i < t; i++)
		w[i].variant = variant;
	atomic_store(&S.stop, 0);
	pthread_barrier_init(&S.start, NULL, (unsigned)t + 1);
	pthread_create(&timer, NULL, timer_main, &dur_ns);
	bench_run_threads(t, worker_main, w, sizeof(*w));
	pthread_join(timer, NULL);
	pthread_barrier_destroy(&S.start);
	for (int i = 0; i < t; i++) {
		pairs += w[i].pairs;
		ns += w[i].ns;
		cpu += w[i].cpu_ns;
		if (w[i].ctr.count != 0)
			bench_die("limit counter unbalanced");
	}
	*share = ns ? (double)cpu / (double)ns : 1.0;
	free(w);
	if (!pairs)
		bench_die("no pair measured");
	return (double)ns / (double)pairs;
}

/*
 * Median of @reps runs. When the threads got less of their CPUs than they
 * should (another load on the machine), the figure is measured again, up
 * to 3 times, and the least disturbed attempt is kept.
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

	(void)rep;
	return run_once(p->variant, p->t, p->dur_ns, share);
}

static double measure(int variant, int t, int reps, uint64_t dur_ns)
{
	int ncpu = bench_ncpus();
	struct point p = { variant, t, dur_ns };
	char what[64];

	snprintf(what, sizeof(what), "%s t=%d", vname[variant], t);
	/* beyond the CPU count, threads share CPUs by design */
	return bench_measure(run_point, &p, reps, max_attempts,
			     t <= ncpu ? 1.0 : (double)ncpu / t, what);
}

static const struct dl_device_type bench_type = { .name = "bench" };

int main(int argc, char **argv)
{
	struct bench_opts o;
	struct dl_tree *tree;
	int e, n, reps;
	uint64_t dur;

	bench_parse_args(argc, argv, &o, " [--sweep FILE]");
	n = o.threads;
	reps = o.quick ? 3 : 5;
	max_attempts = o.quick ? 1 : 3;
	dur = o.quick ? 40000000ull : 200000000ull;

	e = dl_tree_new(&tree);
	if (e)
		bench_die("dl_tree_new: %s", strerror(-e));
	e = dl_device_new(tree, &bench_type, "bench0", 0, &S.dl_dev);
	if (!e)
		e = dl_device_add(S.dl_dev, NULL);
	if (e)
		bench_die("cannot add a device: %s", strerror(-e));
	ab_init(&S.ab);
	ab_activate(&S.ab);
	pthread_rwlock_init(&S.rwt.lock, NULL);
	S.rw.tree = &S.rwt;
	S.rw.alive = 1;

	if (o.sweep_path) {
		FILE *f = fopen(o.sweep_path, "w");

		/* 2N thread counts x 7 variants: keep the sweep under a minute */
		reps = 3;
		if (!f)
			bench_die("cannot write %s: %s", o.sweep_path,
				  strerror(errno));
		fprintf(f, "# enter+exit, ns per pair (median of %d runs of %.0f ms); "
			   "%d CPUs; debug_checks=%d\n# threads",
			reps, (double)dur / 1e6, bench_ncpus(),
			dl_debug_checks_enabled());
		for (int v = 0; v < NV; v++)
			fprintf(f, " %s", vname[v]);
		fputc('\n', f);
		for (int t = 1; t <= 2 * n; t++) {
			fprintf(f, "%d", t);
			for (int v = 0; v < NV; v++) {
				double x = measure(v, t, reps, dur);

				fprintf(f, " %.4f", x);
				bench_log("sweep %-12s t=%d %8.3f ns/pair",
					  vname[v], t, x);
			}
			fputc('\n', f);
		}
		fclose(f);
	} else {
		struct bench_json *j = bench_json_open(&o);
		char key[96];

		for (int v = 0; v < NV; v++) {
			int ts[2] = { 1, n };

			for (int k = 0; k < 2; k++) {
				double x = measure(v, ts[k], reps, dur);

				if (v < NV_MAIN)
					snprintf(key, sizeof(key), "enter_exit_ns.%s.%s",
						 vname[v], k ? "tN" : "t1");
				else
					snprintf(key, sizeof(key), "%s_ns.%s",
						 vname[v], k ? "tN" : "t1");
				bench_json_num(j, key, x);
				bench_log("enter_exit %-12s t=%d %8.3f ns/pair",
					  vname[v], ts[k], x);
			}
		}
		bench_json_num(j, "threads_N", n);
		bench_json_num(j, "devlife_debug_checks",
			       dl_debug_checks_enabled());
		bench_json_note(j, "enter_exit_ns.devlife: <devlife/inline.h>; "
				   "devlife_call_ns: dl_device_enter/exit called "
				   "through the shared library");
		bench_json_note(j, "call_floor_ns: two empty functions called "
				   "through a shared library's PLT, the floor of "
				   "any out-of-line enter/exit");
		bench_json_note(j, "enter_exit_ns: sum of per-thread time / pairs "
				   "(cost per pair as one thread sees it), median "
				   "of %d runs of %.0f ms", reps, (double)dur / 1e6);
		bench_json_close(j);
	}

	dl_device_put(S.dl_dev);
	dl_tree_free(tree);
	pthread_rwlock_destroy(&S.rwt.lock);
	return 0;
}
