/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Lifetime references: get/put, release after the last put and only after
 * an RCU grace period, misuse aborts.
 */
#include <urcu-bp.h>

#include "testutil.h"

static atomic_int released;
static char released_name[64]; /* the last one released */

static void count_release(struct dl_device *dev)
{
	snprintf(released_name, sizeof(released_name), "%s",
		 dl_device_name(dev));
	atomic_fetch_add(&released, 1);
}

static const struct dl_device_type rel_type = { .name = "rel",
						.release = count_release };

static long refs(struct dl_device *dev)
{
	return atomic_load(&dev->refcount);
}

TEST(get_put_counts)
{
	struct dl_tree *tree = mktree();
	struct dl_device *dev, *found;

	ASSERT_EQ(dl_device_new(tree, &rel_type, "a", 0, &dev), 0);
	ASSERT_EQ(refs(dev), 1);
	ASSERT_PTR_EQ(dl_device_get(dev), dev);
	ASSERT_EQ(refs(dev), 2);
	ASSERT_PTR_EQ(dl_device_get(dev), dev);
	ASSERT_EQ(refs(dev), 3);
	ASSERT_PTR_EQ(dl_device_put(dev), NULL);
	ASSERT_PTR_EQ(dl_device_put(dev), NULL);
	ASSERT_EQ(refs(dev), 1);

	/* add: the tree takes its own reference */
	ASSERT_EQ(dl_device_add(dev, NULL), 0);
	ASSERT_EQ(refs(dev), 2);
	ASSERT_EQ(dl_device_lookup(tree, "a", &found), 0);
	ASSERT_PTR_EQ(found, dev);
	ASSERT_EQ(refs(dev), 3);
	dl_device_put(found);
	ASSERT_EQ(refs(dev), 2);

	/* a child pins its parent */
	struct dl_device *child;

	ASSERT_EQ(dl_device_new(tree, &rel_type, "a.child", 0, &child), 0);
	ASSERT_EQ(dl_device_add(child, dev), 0);
	ASSERT_EQ(refs(dev), 3); /* + the child's pin */
	ASSERT_EQ(refs(child), 2);

	/* removal drops the tree's references, not the caller's */
	ASSERT_EQ(dl_device_remove(dev, DL_REMOVE_WAIT, DL_NO_TIMEOUT), 0);
	ASSERT_EQ(dl_device_state(dev), DL_STATE_DEAD);
	ASSERT_EQ(dl_device_state(child), DL_STATE_DEAD);
	ASSERT_EQ(refs(child), 1);
	ASSERT_EQ(refs(dev), 2); /* caller + child's pin */
	urcu_bp_barrier();
	ASSERT_EQ(atomic_load(&released), 0);

	/* the parent's pin goes with the child's memory */
	dl_device_put(dev);
	urcu_bp_barrier();
	ASSERT_EQ(atomic_load(&released), 0);
	ASSERT_EQ(refs(dev), 1);
	dl_device_put(child);
	urcu_bp_barrier(); /* child released, then puts the parent */
	urcu_bp_barrier(); /* parent released */
	ASSERT_EQ(atomic_load(&released), 2);
	ASSERT_STREQ(released_name, "a");
	ASSERT_EQ(get_stats(tree).devices_allocated, 0);
	free_tree(tree);
	ASSERT_EQ(atomic_load(&released), 2);
}

TEST(put_null)
{
	ASSERT_PTR_EQ(dl_device_put(NULL), NULL);
	ASSERT_PTR_EQ(dl_device_get(NULL), NULL);
}

TEST(release_once_on_last_put)
{
	struct dl_tree *tree = mktree();
	struct dl_device *dev;

	ASSERT_EQ(dl_device_new(tree, &rel_type, "n", 0, &dev), 0);
	dl_device_get(dev);
	dl_device_put(dev);
	urcu_bp_barrier();
	ASSERT_EQ(atomic_load(&released), 0);
	dl_device_put(dev); /* last: a NEW device may be dropped */
	urcu_bp_barrier();
	ASSERT_EQ(atomic_load(&released), 1);
	urcu_bp_barrier();
	ASSERT_EQ(atomic_load(&released), 1);
	ASSERT_EQ(trace_count(tree, DL_EV_RELEASE, "n"), 1);
	free_tree(tree);
	ASSERT_EQ(atomic_load(&released), 1);
}

/* An RCU reader that stays inside until told to leave. */
static struct gate reader_in = GATE_INIT;
static atomic_bool reader_go;

static void *rcu_reader(void *arg)
{
	(void)arg;
	rcu_read_lock();
	pthread_mutex_lock(&reader_in.lock);
	reader_in.entered++;
	pthread_cond_broadcast(&reader_in.cond);
	pthread_mutex_unlock(&reader_in.lock);
	while (!atomic_load(&reader_go))
		sched_yield();
	rcu_read_unlock();
	return NULL;
}

static void *run_barrier(void *arg)
{
	(void)arg;
	urcu_bp_barrier();
	return NULL;
}

TEST(release_waits_for_grace_period)
{
	struct dl_tree *tree = mktree();
	struct dl_device *dev = mkdev(tree, NULL, "g");
	struct dl_device *d2;
	pthread_t reader, barrier;

	/* use the counting type for this one */
	ASSERT_EQ(dl_device_new(tree, &rel_type, "g2", 0, &d2), 0);
	ASSERT_EQ(dl_device_add(d2, dev), 0);

	reader = spawn(rcu_reader, NULL);
	gate_wait_entered(&reader_in, 1);
	/* a reader that may still see the pointer is inside */
	ASSERT_EQ(dl_device_remove(dev, DL_REMOVE_WAIT, DL_NO_TIMEOUT), 0);
	dl_device_put(d2); /* the last reference */
	barrier = spawn(run_barrier, NULL);
	ASSERT_TRUE(still_running(barrier, 100));
	ASSERT_EQ(atomic_load(&released), 0);
	atomic_store(&reader_go, true);
	join(reader);
	join(barrier);
	ASSERT_EQ(atomic_load(&released), 1);
	dl_device_put(dev);
	free_tree(tree);
	ASSERT_EQ(atomic_load(&released), 1);
}

/* --- death tests ------------------------------------------------- */

static void double_put_live(void *arg)
{
	struct dl_tree *tree = mktree();
	struct dl_device *dev = mkdev(tree, NULL, "twice");

	(void)arg;
	dl_device_put(dev); /* the caller's reference: fine */
	dl_device_put(dev); /* the tree's reference: unbalanced */
	fprintf(stderr, "survived a double put\n");
}

TEST(double_put_aborts)
{
	expect_death(double_put_live, NULL, "twice");
	expect_death(double_put_live, NULL, "unbalanced put");
}

static void put_at_zero(void *arg)
{
	struct dl_tree *tree = mktree();
	struct dl_device *dev;

	(void)arg;
	ASSERT_EQ(dl_device_new(tree, &rel_type, "zero", 0, &dev), 0);
	/* Keep the memory valid across the misuse (no grace period can
	 * end while we are inside). */
	rcu_read_lock();
	dl_device_put(dev); /* count 1 -> 0: released after a grace period */
	dl_device_put(dev); /* count already 0 */
	rcu_read_unlock();
	fprintf(stderr, "survived a put at zero\n");
}

TEST(put_at_zero_aborts)
{
	expect_death(put_at_zero, NULL, "dl_device_put(zero)");
	expect_death(put_at_zero, NULL, "reference count was 0");
}

static void get_at_zero(void *arg)
{
	struct dl_tree *tree = mktree();
	struct dl_device *dev;

	(void)arg;
	ASSERT_EQ(dl_device_new(tree, &rel_type, "resurrect", 0, &dev), 0);
	rcu_read_lock();
	dl_device_put(dev);
	dl_device_get(dev);
	rcu_read_unlock();
	fprintf(stderr, "survived a get at zero\n");
}

TEST(get_at_zero_aborts)
{
	expect_death(get_at_zero, NULL, "dl_device_get(resurrect) on a released");
}

TEST_MAIN(get_put_counts, put_null, release_once_on_last_put,
	  release_waits_for_grace_period, double_put_aborts,
	  put_at_zero_aborts, get_at_zero_aborts)
