/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Trees. The registry is liburcu's lock-free hash table (cds_lfht) tied to
 * the "bulletproof" flavor, urcu-bp: FUSE, applications and the callers of
 * this library create threads that the library never sees being born, and
 * urcu-bp is the flavor that registers a reader thread on its first read
 * lock instead of requiring rcu_register_thread() (urcu-qsbr would also
 * require every thread to announce quiescent states).
 */
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "core.h"

/* The registry's initial (and smallest) bucket count. */
#define REG_MIN_BUCKETS 64

/*
 * Registry sizing. liburcu's count-based resize (CDS_LFHT_ACCOUNTING)
 * grows the table only when its node count, at a power of two, reaches
 * 8 times the bucket count: loads up to 16 were measured (30,000 nodes:
 * lookups 6 times slower than with a bucket per node). Growing on chain
 * length alone (no accounting) is worse: a burst of adds that outruns
 * the lazy resize meets long chains and asks for growth by their length
 * (1M devices grew the bucket array to some 4 GB).
 *
 * So the table keeps liburcu's accounting (it shrinks the table as
 * devices go) and a helper thread, started when a tree first outgrows
 * its initial buckets, asks for twice the device count whenever the
 * count passes the bucket count. cds_lfht_resize() waits for grace
 * periods: neither an adder (maybe in a probe, under a device lock) nor
 * the topology lock may wait for that, a thread of its own may.
 */
static void *resizer_main(void *arg)
{
	struct dl_tree *tree = arg;

	pthread_setname_np(pthread_self(), "devlife-resize");
	pthread_mutex_lock(&tree->resize_lock);
	for (;;) {
		unsigned long target;

		while (!tree->resizer_stop &&
		       tree->resize_want <= atomic_load(&tree->reg_buckets))
			pthread_cond_wait(&tree->resize_cond, &tree->resize_lock);
		if (tree->resizer_stop)
			break;
		target = REG_MIN_BUCKETS;
		while (target < 2 * tree->resize_want &&
		       target < (1ul << 40))
			target <<= 1;
		pthread_mutex_unlock(&tree->resize_lock);
		cds_lfht_resize(tree->registry, target);
		pthread_mutex_lock(&tree->resize_lock);
		atomic_store(&tree->reg_buckets, target);
	}
	pthread_mutex_unlock(&tree->resize_lock);
	return NULL;
}

void dl__registry_added_locked(struct dl_tree *tree)
{
	sigset_t all, old;

	dl__assert_topology_held(tree);
	if (++tree->nregistered <= atomic_load(&tree->reg_buckets))
		return;
	pthread_mutex_lock(&tree->resize_lock);
	if (tree->nregistered > tree->resize_want)
		tree->resize_want = tree->nregistered;
	if (!tree->resizer_started && !tree->resizer_failed) {
		/* signals go to the application's threads, not to this one */
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		if (pthread_create(&tree->resizer, NULL, resizer_main, tree) == 0)
			tree->resizer_started = true;
		else
			tree->resizer_failed = true; /* liburcu's resize only */
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	pthread_cond_signal(&tree->resize_cond);
	pthread_mutex_unlock(&tree->resize_lock);
}

void dl__registry_deleted_locked(struct dl_tree *tree)
{
	unsigned long b = atomic_load(&tree->reg_buckets);

	dl__assert_topology_held(tree);
	dl__assert(tree->nregistered > 0);
	tree->nregistered--;
	/* liburcu shrinks the table as the count falls: forget the size
	 * asked for once it is far above the count, so that growing
	 * again asks again */
	if (b > REG_MIN_BUCKETS && tree->nregistered < b / 8)
		atomic_store(&tree->reg_buckets,
			     tree->nregistered > REG_MIN_BUCKETS
				     ? tree->nregistered
				     : REG_MIN_BUCKETS);
}

static void resizer_stop(struct dl_tree *tree)
{
	bool started;

	pthread_mutex_lock(&tree->resize_lock);
	tree->resizer_stop = true;
	started = tree->resizer_started;
	pthread_cond_signal(&tree->resize_cond);
	pthread_mutex_unlock(&tree->resize_lock);
	if (started)
		pthread_join(tree->resizer, NULL);
}

static void tree_destroy(struct dl_tree *tree)
{
	pthread_mutex_destroy(&tree->resize_lock);
	pthread_cond_destroy(&tree->resize_cond);
	pthread_mutex_destroy(&tree->topology_lock);
	pthread_mutex_destroy(&tree->wait_lock);
	pthread_cond_destroy(&tree->wait_cond);
	pthread_mutex_destroy(&tree->drivers_lock);
	pthread_cond_destroy(&tree->drivers_cond);
	pthread_mutex_destroy(&tree->wq_lock);
	pthread_mutex_destroy(&tree->trace_lock);
	pthread_rwlock_destroy(&tree->watch_lock);
	free(tree->ring);
	free(tree);
}

void dl__tree_put(struct dl_tree *tree)
{
	if (atomic_fetch_sub(&tree->refs, 1) == 1)
		tree_destroy(tree);
}

DL_EXPORT int dl_tree_new(struct dl_tree **ret)
{
	struct dl_tree *tree;
	long ncpu;
	int r;

	assert_return(ret, -EINVAL);
	dl__active_init();
	tree = dl__calloc(1, sizeof(*tree));
	if (!tree)
		return -ENOMEM;
	pthread_mutex_init(&tree->topology_lock, NULL);
	pthread_mutex_init(&tree->wait_lock, NULL);
	dl__cond_init(&tree->wait_cond);
	pthread_mutex_init(&tree->drivers_lock, NULL);
	pthread_cond_init(&tree->drivers_cond, NULL);
	pthread_mutex_init(&tree->wq_lock, NULL);
	pthread_mutex_init(&tree->trace_lock, NULL);
	pthread_rwlock_init(&tree->watch_lock, NULL);
	pthread_mutex_init(&tree->resize_lock, NULL);
	pthread_cond_init(&tree->resize_cond, NULL);
	atomic_init(&tree->reg_buckets, REG_MIN_BUCKETS);
	CDS_INIT_LIST_HEAD(&tree->roots);
	CDS_INIT_LIST_HEAD(&tree->drivers);
	CDS_INIT_LIST_HEAD(&tree->workqueues);
	atomic_init(&tree->refs, 1);
	atomic_init(&tree->autoprobe, true);
	tree->ring = dl__calloc(DL_TRACE_RING, sizeof(*tree->ring));
	if (!tree->ring) {
		tree_destroy(tree);
		return -ENOMEM;
	}
	/* Sized by its node count and by the resizer above. */
	tree->registry = cds_lfht_new_flavor(
		REG_MIN_BUCKETS, REG_MIN_BUCKETS, 0,
		CDS_LFHT_AUTO_RESIZE | CDS_LFHT_ACCOUNTING,
		&urcu_bp_flavor, NULL);
	if (!tree->registry) {
		tree_destroy(tree);
		return -ENOMEM;
	}
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	if (ncpu < 2)
		ncpu = 2;
	if (ncpu > 64)
		ncpu = 64;
	r = dl_workqueue_new(tree, "system", (unsigned int)ncpu,
			     &tree->system_wq);
	if (r < 0) {
		cds_lfht_destroy(tree->registry, NULL);
		tree_destroy(tree);
		return r;
	}
	*ret = tree;
	return 0;
}

static int remove_root(struct dl_device *dev, void *arg)
{
	(void)arg;
	dl_device_remove(dev, DL_REMOVE_WAIT, DL_NO_TIMEOUT);
	return 0;
}

DL_EXPORT void dl_tree_free(struct dl_tree *tree)
{
	bool empty;

	if (!tree)
		return;
	dl__topology_lock(tree);
	atomic_store(&tree->freeing, true);
	dl__topology_unlock(tree);
	for (;;) {
		while (dl__for_each_in(tree, &tree->roots, remove_root, NULL) ==
		       -ENOMEM)
			usleep(1000);
		dl__topology_lock(tree);
		empty = cds_list_empty(&tree->roots);
		dl__topology_unlock(tree);
		if (empty)
			break;
	}
	dl__workqueues_free_all(tree);
	dl__drivers_free_all(tree);
	resizer_stop(tree);
	cds_lfht_destroy(tree->registry, NULL);
	tree->registry = NULL;
	/*
	 * Let the released devices' deferred frees run now rather than at
	 * some later grace period. A child's free drops its parent's last
	 * reference and queues the parent's free, so repeat while that
	 * makes progress; devices the caller still holds stop it.
	 */
	for (uint_fast64_t prev = UINT64_MAX, cur;
	     (cur = atomic_load(&tree->stats.devices_allocated)) != 0 &&
	     cur != prev;
	     prev = cur)
		urcu_bp_barrier();
	dl__tree_put(tree);
	urcu_bp_barrier();
}

DL_EXPORT int dl_tree_get_stats(struct dl_tree *tree,
				struct dl_tree_stats *ret)
{
	assert_return(tree && ret, -EINVAL);
	ret->devices_live = atomic_load(&tree->stats.devices_live);
	ret->devices_allocated = atomic_load(&tree->stats.devices_allocated);
	ret->adds = atomic_load(&tree->stats.adds);
	ret->removes = atomic_load(&tree->stats.removes);
	ret->remove_busy = atomic_load(&tree->stats.remove_busy);
	ret->remove_timeout = atomic_load(&tree->stats.remove_timeout);
	ret->work_run = atomic_load(&tree->stats.work_run);
	ret->work_cancelled = atomic_load(&tree->stats.work_cancelled);
	return 0;
}

DL_EXPORT int dl_tree_set_drain_report(struct dl_tree *tree,
				       uint64_t threshold_ns, dl_report_fn fn,
				       void *arg)
{
	assert_return(tree, -EINVAL);
	pthread_mutex_lock(&tree->wait_lock);
	tree->report_threshold_ns = threshold_ns;
	tree->report_fn = fn;
	tree->report_arg = arg;
	pthread_mutex_unlock(&tree->wait_lock);
	return 0;
}

DL_EXPORT int dl_tree_for_each_root(struct dl_tree *tree,
				    int (*fn)(struct dl_device *, void *),
				    void *arg)
{
	assert_return(tree && fn, -EINVAL);
	return dl__for_each_in(tree, &tree->roots, fn, arg);
}

DL_EXPORT int dl_debug_checks_enabled(void)
{
	return DL_DEBUG;
}
