/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The lock-order checker of builds with debug checks: every forbidden
 * order aborts with a message naming the locks; the allowed orders
 * (parent before child, a PF driver removing its VFs under its own device
 * lock) do not.
 */
#include "testutil.h"

struct fam {
	struct dl_tree *tree;
	struct dl_device *p, *c, *s, *g;
};

/* p (lk-parent) -> c (lk-child) -> g (lk-grandchild); s (lk-sibling) */
static struct fam family(void)
{
	struct fam f;

	f.tree = mktree();
	f.p = mkdev(f.tree, NULL, "lk-parent");
	f.c = mkdev(f.tree, f.p, "lk-child");
	f.s = mkdev(f.tree, f.p, "lk-sibling");
	f.g = mkdev(f.tree, f.c, "lk-grandchild");
	return f;
}

TEST(debug_checks_on)
{
	ASSERT_EQ(dl_debug_checks_enabled(), 1);
}

static void child_then_parent(void *arg)
{
	struct fam f = family();

	(void)arg;
	dl_device_lock(f.c);
	dl_device_lock(f.p);
	fprintf(stderr, "survived\n");
}

TEST(child_then_parent_aborts)
{
	expect_death(child_then_parent, NULL,
		     "device_lock(lk-parent) taken while holding "
		     "device_lock(lk-child)");
}

static void grandchild_then_parent(void *arg)
{
	struct fam f = family();

	(void)arg;
	dl_device_lock(f.g);
	dl_device_lock(f.p);
	fprintf(stderr, "survived\n");
}

TEST(grandchild_then_parent_aborts)
{
	expect_death(grandchild_then_parent, NULL,
		     "device_lock(lk-parent) taken while holding "
		     "device_lock(lk-grandchild)");
}

static void two_siblings(void *arg)
{
	struct fam f = family();

	(void)arg;
	dl_device_lock(f.c);
	dl_device_lock(f.s);
	fprintf(stderr, "survived\n");
}

TEST(siblings_abort)
{
	expect_death(two_siblings, NULL,
		     "device_lock(lk-sibling) taken while holding "
		     "device_lock(lk-child), which is not its ancestor");
}

static void active_child_then_parent(void *arg)
{
	struct fam f = family();

	(void)arg;
	if (dl_device_enter(f.c) != 0)
		_exit(3);
	dl_device_lock(f.p);
	fprintf(stderr, "survived\n");
}

static void active_grandchild_then_parent(void *arg)
{
	struct fam f = family();

	(void)arg;
	if (dl_device_enter(f.g) != 0)
		_exit(3);
	dl_device_lock(f.c); /* also an ancestor of g */
	fprintf(stderr, "survived\n");
}

TEST(active_child_then_lock_parent_aborts)
{
	expect_death(active_child_then_parent, NULL,
		     "device_lock(lk-parent) taken while holding "
		     "active(lk-child)");
	expect_death(active_grandchild_then_parent, NULL,
		     "device_lock(lk-child) taken while holding "
		     "active(lk-grandchild)");
}

static void drain_under_own_lock(void *arg)
{
	struct fam f = family();

	(void)arg;
	dl_device_lock(f.c);
	dl_device_remove(f.c, DL_REMOVE_WAIT, DL_NO_TIMEOUT);
	fprintf(stderr, "survived\n");
}

static void drain_under_descendant_lock(void *arg)
{
	struct fam f = family();

	(void)arg;
	dl_device_lock(f.p);
	dl_device_lock(f.g);
	dl_device_remove(f.c, DL_REMOVE_TRY, 0);
	fprintf(stderr, "survived\n");
}

TEST(drain_under_device_lock_aborts)
{
	expect_death(drain_under_own_lock, NULL,
		     "drain of lk-child while holding device_lock(lk-child)");
	expect_death(drain_under_descendant_lock, NULL,
		     "drain of lk-child while holding "
		     "device_lock(lk-grandchild)");
}

static void recursive_lock(void *arg)
{
	struct fam f = family();

	(void)arg;
	dl_device_lock(f.s);
	dl_device_lock(f.s);
	fprintf(stderr, "survived\n");
}

TEST(recursive_lock_aborts)
{
	expect_death(recursive_lock, NULL,
		     "device lock taken twice (it is not recursive)");
	expect_death(recursive_lock, NULL, "wanted: device_lock(lk-sibling)");
}

static void *unlock_elsewhere_thread(void *arg)
{
	dl_device_unlock(arg);
	return NULL;
}

static void unlock_not_held(void *arg)
{
	struct fam f = family();

	(void)arg;
	dl_device_lock(f.c);
	join(spawn(unlock_elsewhere_thread, f.c));
	fprintf(stderr, "survived\n");
}

TEST(unlock_by_other_thread_aborts)
{
	expect_death(unlock_not_held, NULL,
		     "unlocks device_lock(lk-child) it does not hold");
}

/* --- allowed orders ---------------------------------------------- */

TEST(parent_then_child_ok)
{
	struct fam f = family();

	dl_device_lock(f.p);
	ASSERT_EQ(dl_device_lock_held(f.p), 1);
	ASSERT_EQ(dl_device_lock_held(f.c), 0);
	dl_device_lock(f.c);
	dl_device_lock(f.g);
	ASSERT_EQ(dl_device_lock_held(f.g), 1);
	dl_device_unlock(f.g);
	dl_device_unlock(f.c);
	/* siblings one after the other, under the parent */
	dl_device_lock(f.s);
	dl_device_unlock(f.s);
	dl_device_unlock(f.p);
	ASSERT_EQ(dl_device_lock_held(f.p), 0);

	/* active(D) before device_lock(D) before a child's lock */
	ASSERT_EQ(dl_device_enter(f.c), 0);
	dl_device_lock(f.c);
	dl_device_lock(f.g);
	dl_device_unlock(f.g);
	dl_device_unlock(f.c);
	/* active on a descendant, lock of an unrelated device */
	dl_device_lock(f.s);
	dl_device_unlock(f.s);
	dl_device_exit(f.c);

	/* active(parent) then the child's lock */
	ASSERT_EQ(dl_device_enter(f.p), 0);
	dl_device_lock(f.g);
	dl_device_unlock(f.g);
	dl_device_exit(f.p);

	/* unlocking out of order is fine */
	dl_device_lock(f.p);
	dl_device_lock(f.c);
	dl_device_unlock(f.p);
	dl_device_unlock(f.c);
	dl_device_lock(NULL);
	dl_device_unlock(NULL);
	ASSERT_EQ(dl_device_lock_held(NULL), 0);

	dl_device_put(f.p);
	dl_device_put(f.c);
	dl_device_put(f.s);
	dl_device_put(f.g);
	free_tree(f.tree);
}

TEST(remove_child_under_parent_lock_ok)
{
	struct fam f = family();

	/* the PF driver pattern: remove VFs while holding the PF's lock */
	dl_device_lock(f.p);
	ASSERT_EQ(dl_device_remove(f.c, DL_REMOVE_WAIT, DL_NO_TIMEOUT), 0);
	ASSERT_EQ(dl_device_state(f.c), DL_STATE_DEAD);
	ASSERT_EQ(dl_device_state(f.g), DL_STATE_DEAD);
	ASSERT_EQ(dl_device_remove(f.s, DL_REMOVE_TRY, 0), 0);
	dl_device_unlock(f.p);
	ASSERT_EQ(dl_device_state(f.p), DL_STATE_LIVE);

	/* and with an active reference on the parent as well (unbind) */
	struct dl_device *c2 = mkdev(f.tree, f.p, "lk-child2");

	ASSERT_EQ(dl_device_enter(f.p), 0);
	dl_device_lock(f.p);
	ASSERT_EQ(dl_device_remove(c2, DL_REMOVE_SURPRISE, DL_NO_TIMEOUT), 0);
	dl_device_unlock(f.p);
	dl_device_exit(f.p);
	ASSERT_EQ(dl_device_state(c2), DL_STATE_DEAD);

	dl_device_put(c2);
	dl_device_put(f.p);
	dl_device_put(f.c);
	dl_device_put(f.s);
	dl_device_put(f.g);
	free_tree(f.tree);
}

/* The same lock taken by two threads in turn is not a violation. */
static void *lock_unlock_thread(void *arg)
{
	for (int i = 0; i < 1000; i++) {
		dl_device_lock(arg);
		dl_device_unlock(arg);
	}
	return NULL;
}

TEST(contended_lock_ok)
{
	struct fam f = family();
	pthread_t t[3];

	for (int i = 0; i < 3; i++)
		t[i] = spawn(lock_unlock_thread, f.c);
	for (int i = 0; i < 3; i++)
		join(t[i]);
	dl_device_put(f.p);
	dl_device_put(f.c);
	dl_device_put(f.s);
	dl_device_put(f.g);
	free_tree(f.tree);
}

TEST_MAIN(debug_checks_on, child_then_parent_aborts,
	  grandchild_then_parent_aborts, siblings_abort,
	  active_child_then_lock_parent_aborts, drain_under_device_lock_aborts,
	  recursive_lock_aborts, unlock_by_other_thread_aborts,
	  parent_then_child_ok, remove_child_under_parent_lock_ok,
	  contended_lock_ok)
