/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Small helpers shared by the core's unit tests (tests/core/test-*.c):
 * gates to park threads at a known place, death tests, a leak check that
 * works inside the harness's forked children (they end with _exit(), so
 * LeakSanitizer's at-exit check never runs there), trace helpers.
 */
#ifndef DEVLIFE_TESTS_CORE_TESTUTIL_H
#define DEVLIFE_TESTS_CORE_TESTUTIL_H

#include <sched.h>

#include <urcu-bp.h>

#include "pause.h"

#if defined(__SANITIZE_ADDRESS__)
#define TU_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TU_ASAN 1
#endif
#endif
#ifndef TU_ASAN
#define TU_ASAN 0
#endif

#if defined(__SANITIZE_THREAD__)
#define TU_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TU_TSAN 1
#endif
#endif
#ifndef TU_TSAN
#define TU_TSAN 0
#endif

/* Scale loop counts down under the (slow) sanitizers. */
#define TU_SCALE(n) ((TU_ASAN || TU_TSAN) ? (n) / 10 : (n))

#if TU_ASAN
int __lsan_do_recoverable_leak_check(void);
#endif

/* Fail the test if anything allocated so far is unreachable. */
static inline void leak_check(void)
{
#if TU_ASAN
	if (__lsan_do_recoverable_leak_check())
		FAIL_AT("LeakSanitizer found leaks (see above)");
#endif
}

/*
 * Run the deferred frees of released devices. A child's free drops its
 * parent's last reference and queues the parent's free, so one
 * urcu_bp_barrier() is not enough: repeat while that makes progress.
 */
static inline void flush_releases(struct dl_tree *tree)
{
	uint64_t prev = UINT64_MAX, cur;

	while ((cur = atomic_load(&tree->stats.devices_allocated)) != 0 &&
	       cur != prev) {
		urcu_bp_barrier();
		prev = cur;
	}
}

/* Free the tree, flush deferred frees, check for leaks. */
static inline void free_tree(struct dl_tree *tree)
{
	dl_tree_free(tree);
	leak_check();
}

/*
 * A gate: threads call gate_pass() and stay there until gate_open();
 * gate_wait_entered() waits until n threads have arrived.
 */
struct gate {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int entered;
	bool open;
};

#define GATE_INIT                                                              \
	{ PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, false }

static inline void gate_init(struct gate *g)
{
	pthread_mutex_init(&g->lock, NULL);
	pthread_cond_init(&g->cond, NULL);
	g->entered = 0;
	g->open = false;
}

static inline void gate_pass(struct gate *g)
{
	pthread_mutex_lock(&g->lock);
	g->entered++;
	pthread_cond_broadcast(&g->cond);
	while (!g->open)
		pthread_cond_wait(&g->cond, &g->lock);
	pthread_mutex_unlock(&g->lock);
}

static inline void gate_wait_entered(struct gate *g, int n)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 20;
	pthread_mutex_lock(&g->lock);
	while (g->entered < n) {
		if (pthread_cond_timedwait(&g->cond, &g->lock, &ts) ==
		    ETIMEDOUT) {
			int e = g->entered;

			pthread_mutex_unlock(&g->lock);
			FAIL_AT("only %d of %d threads reached the gate", e, n);
		}
	}
	pthread_mutex_unlock(&g->lock);
}

static inline void gate_open(struct gate *g)
{
	pthread_mutex_lock(&g->lock);
	g->open = true;
	pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->lock);
}

/*
 * Death test: run fn in a forked child (before the test has started any
 * thread of its own) and expect it to abort with a message containing
 * needle on stderr.
 */
static inline void expect_death(void (*fn)(void *), void *arg,
				const char *needle)
{
	char out[8192];

	expect_abort(fn, arg, out, sizeof(out));
	ASSERT_CONTAINS(out, "devlife: fatal");
	ASSERT_CONTAINS(out, needle);
}

/* Spin (yielding) until *v >= n; fail after 20 s. */
static inline void wait_atomic_ge(atomic_int *v, int n)
{
	uint64_t end = test_now_ns() + 20000000000ull;

	while (atomic_load(v) < n) {
		if (test_now_ns() > end)
			FAIL_AT("waited 20 s for a counter to reach %d (is %d)",
				n, atomic_load(v));
		sched_yield();
	}
}

static inline struct dl_tree_stats get_stats(struct dl_tree *tree)
{
	struct dl_tree_stats st;

	ASSERT_EQ(dl_tree_get_stats(tree, &st), 0);
	return st;
}

/* Whether name can be looked up right now (and is the same device). */
static inline bool findable(struct dl_tree *tree, struct dl_device *dev)
{
	struct dl_device *d;

	if (dl_device_lookup(tree, dl_device_name(dev), &d) != 0)
		return false;
	dl_device_put(d);
	return d == dev;
}

/* Whether dev can be entered right now (exits again). */
static inline bool enterable(struct dl_device *dev)
{
	if (dl_device_enter(dev) != 0)
		return false;
	dl_device_exit(dev);
	return true;
}

/* Count trace events of a kind for a device name (NULL: any). */
static inline int trace_count(struct dl_tree *tree, uint32_t ev,
			      const char *name)
{
	static struct dl_trace_record buf[256];
	uint64_t cursor = 0;
	size_t n;
	int count = 0;

	while ((n = dl_trace_read(tree, &cursor, buf, 256)) > 0)
		for (size_t i = 0; i < n; i++)
			if (buf[i].event == ev &&
			    (!name || strcmp(buf[i].name, name) == 0))
				count++;
	return count;
}

#endif
