/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The device lock and the topology lock, with the lock-order checks of
 * builds with debug checks.
 *
 * Order: active(D) -> device_lock(D) -> device_lock(child of D) ->
 * topology lock. Never drain D while holding device_lock(D) or the lock of
 * one of D's descendants; never take device_lock(ancestor of X) while
 * holding active(X). Enter never blocks, so it adds no edge of its own;
 * what can deadlock is a drain waiting on an active holder who waits for
 * a device lock the drainer holds. The checks below reject every
 * acquisition that could close such a cycle, at the point of acquisition,
 * with a report that names both locks and both threads, instead of
 * hanging.
 */
#include <string.h>
#include <unistd.h>

#include "core.h"

static __thread pid_t cached_tid;
__thread int dl__locks_held;

static pid_t my_tid(void)
{
	if (!cached_tid)
		cached_tid = gettid();
	return cached_tid;
}

static void report_held(FILE *f, struct dl__thread *t)
{
	fprintf(f, "  thread %d (%s) holds:", (int)t->tid, t->name);
	for (int i = 0; i < t->nheld; i++)
		fprintf(f, " device_lock(%s)", t->held[i]->name);
	for (int i = 0; i < DL_SLOTS; i++)
		if (atomic_load(&t->abi.slots[i].count) > 0)
			fprintf(f, " active(%s)x%ld",
				atomic_load(&t->abi.slots[i].dev)->name,
				atomic_load(&t->abi.slots[i].count));
	for (int i = 0; i < DL_OVERFLOW; i++)
		if (atomic_load(&t->over[i].count) > 0)
			fprintf(f, " active(%s)x%ld",
				atomic_load(&t->over[i].dev)->name,
				atomic_load(&t->over[i].count));
	if (t->topology_held)
		fprintf(f, " topology_lock");
	fputc('\n', f);
}

static _Noreturn void violation(struct dl__thread *t, const char *what,
				struct dl_device *want, struct dl_device *held)
{
	pid_t owner = want ? atomic_load(&want->lock_owner) : 0;

	flockfile(stderr);
	fprintf(stderr, "devlife: lock order violation: %s\n", what);
	if (want)
		fprintf(stderr, "  wanted: device_lock(%s)%s", want->name,
			owner ? "" : "\n");
	if (want && owner)
		fprintf(stderr, ", currently held by thread %d\n", (int)owner);
	if (held)
		fprintf(stderr, "  conflicting: %s\n", held->name);
	report_held(stderr, t);
	funlockfile(stderr);
	dl__die("lock order violation in thread %d (%s)", (int)t->tid,
		t->name);
}

static void check_lock(struct dl__thread *t, struct dl_device *x)
{
	char what[256];

	if (t->topology_held)
		violation(t, "device lock taken while holding the topology "
			     "lock",
			  x, NULL);
	for (int i = 0; i < t->nheld; i++) {
		struct dl_device *y = t->held[i];

		if (y == x)
			violation(t, "device lock taken twice (it is not "
				     "recursive)",
				  x, y);
		if (!dl__is_ancestor(y, x)) {
			snprintf(what, sizeof(what),
				 "device_lock(%s) taken while holding "
				 "device_lock(%s), which is not its ancestor",
				 x->name, y->name);
			violation(t, what, x, y);
		}
	}
	for (int i = 0; i < DL_SLOTS + DL_OVERFLOW; i++) {
		struct dl_device *a;
		long c = i < DL_SLOTS
				 ? atomic_load(&t->abi.slots[i].count)
				 : atomic_load(&t->over[i - DL_SLOTS].count);

		if (c <= 0)
			continue;
		a = i < DL_SLOTS ? atomic_load(&t->abi.slots[i].dev)
				 : atomic_load(&t->over[i - DL_SLOTS].dev);
		if (a != x && dl__is_ancestor(x, a)) {
			snprintf(what, sizeof(what),
				 "device_lock(%s) taken while holding "
				 "active(%s), a descendant: a removal of %s "
				 "from %s's driver would wait for this thread",
				 x->name, a->name, a->name, x->name);
			violation(t, what, x, a);
		}
	}
}

void dl__lockdep_check_drain(struct dl_device *dev)
{
	struct dl__thread *t = dl__thread_self_maybe();
	char what[256];

	if (!t)
		return;
	if (t->topology_held)
		violation(t, "drain while holding the topology lock", NULL,
			  dev);
	for (int i = 0; i < t->nheld; i++) {
		struct dl_device *y = t->held[i];

		if (y == dev || dl__is_ancestor(dev, y)) {
			snprintf(what, sizeof(what),
				 "drain of %s while holding device_lock(%s): "
				 "a user of %s may be waiting for that lock",
				 dev->name, y->name, dev->name);
			violation(t, what, NULL, y);
		}
	}
}

DL_EXPORT void dl_device_lock(struct dl_device *dev)
{
	struct dl__thread *t = NULL;

	if (!dev)
		return;
	if (DL_DEBUG) {
		t = dl__thread_self();
		check_lock(t, dev);
	}
	if (DL_DEBUG && pthread_mutex_trylock(&dev->lock) != 0) {
		/* It will block: a wait the wait-for checks follow. */
		struct dl__api_call api = DL_API_BEGIN("dl_device_lock");

		dl__wait_begin(&(struct dl__wait){ .kind = DL_WAIT_LOCK,
						   .dev = dev });
		DL_TEST_POINT("wait:blocking", dev);
		pthread_mutex_lock(&dev->lock);
		dl__wait_end();
		DL_API_END(api);
	} else if (!DL_DEBUG) {
		pthread_mutex_lock(&dev->lock);
	}
	atomic_store_explicit(&dev->lock_owner, my_tid(),
			      memory_order_relaxed);
	dl__locks_held++;
	if (DL_DEBUG) {
		/* the tid lock_owner names this thread by: a fork()ed
		 * child's thread keeps its parent thread's (waits.c) */
		atomic_store_explicit(&t->lock_tid, my_tid(),
				      memory_order_relaxed);
		if (t->nheld == DL_HELD_LOCKS)
			dl__die("thread %d holds more than %d device locks",
				(int)t->tid, DL_HELD_LOCKS);
		t->held[t->nheld++] = dev;
	}
}

DL_EXPORT void dl_device_unlock(struct dl_device *dev)
{
	if (!dev)
		return;
	if (DL_DEBUG) {
		struct dl__thread *t = dl__thread_self();
		int i;

		if (atomic_load(&dev->lock_owner) != my_tid())
			dl__die("thread %d unlocks device_lock(%s) it does "
				"not hold",
				(int)my_tid(), dev->name);
		for (i = t->nheld - 1; i >= 0; i--)
			if (t->held[i] == dev)
				break;
		if (i >= 0) {
			memmove(&t->held[i], &t->held[i + 1],
				(size_t)(t->nheld - i - 1) * sizeof(t->held[0]));
			t->nheld--;
		}
	}
	atomic_store_explicit(&dev->lock_owner, 0, memory_order_relaxed);
	dl__locks_held--;
	pthread_mutex_unlock(&dev->lock);
}

DL_EXPORT int dl_device_lock_held(struct dl_device *dev)
{
	assert_return(dev, 0);
	return atomic_load_explicit(&dev->lock_owner, memory_order_relaxed) ==
	       my_tid();
}

void dl__topology_lock(struct dl_tree *tree)
{
	if (DL_DEBUG) {
		struct dl__thread *t = dl__thread_self();

		if (t->topology_held)
			violation(t, "topology lock taken twice", NULL, NULL);
		pthread_mutex_lock(&tree->topology_lock);
		t->topology_held = 1;
		t->topology_tree = tree;
		return;
	}
	pthread_mutex_lock(&tree->topology_lock);
}

void dl__topology_unlock(struct dl_tree *tree)
{
	if (DL_DEBUG) {
		struct dl__thread *t = dl__thread_self();

		if (t->topology_tree != tree)
			dl__die("thread %d unlocks a topology lock it does not "
				"hold",
				(int)t->tid);
		t->topology_held = 0;
		t->topology_tree = NULL;
	}
	pthread_mutex_unlock(&tree->topology_lock);
}

void dl__check_topology_held(struct dl_tree *tree, const char *fn)
{
	struct dl__thread *t = dl__thread_self();

	if (!t->topology_held || t->topology_tree != tree)
		dl__die("%s() called without the topology lock of its tree "
			"(thread %d)",
			fn, (int)t->tid);
}

void dl__check_mutex_held(pthread_mutex_t *m, const char *what,
			  const char *fn)
{
	if (pthread_mutex_trylock(m) == 0) {
		pthread_mutex_unlock(m);
		dl__die("%s() called without %s held", fn, what);
	}
}
