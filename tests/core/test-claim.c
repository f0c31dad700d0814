/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Claims: exclusive consumers, negotiated by removal.
 */
#include "testutil.h"

/* A claimant: counts requests, optionally unclaims from the callback. */
struct claimant {
	bool unclaim_in_cb;
	atomic_int requests;
	struct dl_device *seen;
	int unclaim_ret;
	struct gate asked; /* passed (without waiting) on each request */
};

static void release_cb(struct dl_device *dev, void *arg)
{
	struct claimant *c = arg;

	if (dl_device_lock_held(dev))
		FAIL_AT("release callback under the device lock");
	c->seen = dev;
	atomic_fetch_add(&c->requests, 1);
	if (c->unclaim_in_cb)
		c->unclaim_ret = dl_device_unclaim(dev);
	pthread_mutex_lock(&c->asked.lock);
	c->asked.entered++;
	pthread_cond_broadcast(&c->asked.cond);
	pthread_mutex_unlock(&c->asked.lock);
}

static void claimant_init(struct claimant *c, bool unclaim_in_cb)
{
	memset(c, 0, sizeof(*c));
	c->unclaim_in_cb = unclaim_in_cb;
	c->unclaim_ret = 1;
	gate_init(&c->asked);
}

TEST(claim_unclaim)
{
	struct dl_tree *tree = mktree();
	struct dl_device *d = mkdev(tree, NULL, "vfio0");
	char buf[64], small[3], longname[100];
	long refs0 = atomic_load(&d->refcount);

	ASSERT_EQ(dl_device_claim_owner(d, buf, sizeof(buf)), 0);
	ASSERT_EQ(dl_device_claim(d, "vm-1", NULL, NULL), 0);
	ASSERT_EQ(atomic_load(&d->refcount), refs0 + 1);
	ASSERT_EQ(dl_device_claim_owner(d, buf, sizeof(buf)), 1);
	ASSERT_STREQ(buf, "vm-1");
	ASSERT_EQ(dl_device_claim_owner(d, small, sizeof(small)), 1);
	ASSERT_STREQ(small, "vm");
	ASSERT_EQ(dl_device_claim(d, "vm-2", NULL, NULL), -EBUSY);
	ASSERT_EQ(dl_device_claim(d, "vm-1", NULL, NULL), -EBUSY);
	ASSERT_EQ(dl_device_claim_owner(d, buf, sizeof(buf)), 1);
	ASSERT_STREQ(buf, "vm-1");
	/* a claim does not stop users */
	ASSERT_TRUE(enterable(d));
	ASSERT_EQ(dl_device_unclaim(d), 0);
	ASSERT_EQ(atomic_load(&d->refcount), refs0);
	ASSERT_EQ(dl_device_unclaim(d), -EINVAL);
	ASSERT_EQ(dl_device_claim_owner(d, buf, sizeof(buf)), 0);
	ASSERT_EQ(trace_count(tree, DL_EV_CLAIM, "vfio0"), 1);
	ASSERT_EQ(trace_count(tree, DL_EV_UNCLAIM, "vfio0"), 1);

	/* the owner is copied and truncated */
	memset(longname, 'o', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	ASSERT_EQ(dl_device_claim(d, longname, NULL, NULL), 0);
	memset(longname, 'x', 10); /* the caller's buffer is not kept */
	ASSERT_EQ(dl_device_claim_owner(d, buf, sizeof(buf)), 1);
	ASSERT_EQ(strlen(buf), 63);
	ASSERT_EQ(buf[0], 'o');
	ASSERT_EQ(dl_device_unclaim(d), 0);

	ASSERT_EQ(dl_device_claim(NULL, "x", NULL, NULL), -EINVAL);
	ASSERT_EQ(dl_device_claim(d, NULL, NULL, NULL), -EINVAL);
	ASSERT_EQ(dl_device_unclaim(NULL), -EINVAL);
	ASSERT_EQ(dl_device_claim_owner(d, NULL, 10), -EINVAL);
	ASSERT_EQ(dl_device_claim_owner(d, buf, 0), -EINVAL);
	ASSERT_EQ(dl_device_claim_owner(NULL, buf, 10), -EINVAL);
	dl_device_put(d);
	free_tree(tree);
}

TEST(try_removal_of_claimed_is_busy)
{
	struct dl_tree *tree = mktree();
	struct dl_device *p = mkdev(tree, NULL, "bus");
	struct dl_device *c = mkdev(tree, p, "bus.fn");
	struct claimant cl;
	char buf[16];

	claimant_init(&cl, true);
	ASSERT_EQ(dl_device_claim(c, "dataplane", release_cb, &cl), 0);
	ASSERT_EQ(dl_device_remove(c, DL_REMOVE_TRY, 0), -EBUSY);
	ASSERT_EQ(dl_device_remove(p, DL_REMOVE_TRY, 0), -EBUSY);
	/* try mode does not ask the claimant */
	ASSERT_EQ(atomic_load(&cl.requests), 0);
	ASSERT_EQ(dl_device_claim_owner(c, buf, sizeof(buf)), 1);
	ASSERT_EQ(get_stats(tree).remove_busy, 2);
	ASSERT_EQ(dl_device_state(p), DL_STATE_LIVE);
	ASSERT_EQ(dl_device_state(c), DL_STATE_LIVE);
	ASSERT_TRUE(findable(tree, p));
	ASSERT_TRUE(findable(tree, c));
	ASSERT_TRUE(enterable(p));
	ASSERT_TRUE(enterable(c));
	ASSERT_EQ(dl_device_unclaim(c), 0);
	ASSERT_EQ(dl_device_remove(p, DL_REMOVE_TRY, 0), 0);
	ASSERT_EQ(dl_device_state(c), DL_STATE_DEAD);
	dl_device_put(p);
	dl_device_put(c);
	free_tree(tree);
}

TEST(wait_removal_released_from_callback)
{
	static const unsigned int modes[] = { DL_REMOVE_WAIT,
					      DL_REMOVE_SURPRISE };

	for (int m = 0; m < 2; m++) {
		struct dl_tree *tree = mktree();
		struct dl_device *p = mkdev(tree, NULL, "bus");
		struct dl_device *c = mkdev(tree, p, "bus.fn");
		struct claimant cl;
		long refs0 = atomic_load(&c->refcount);

		claimant_init(&cl, true);
		ASSERT_EQ(dl_device_claim(c, "vm", release_cb, &cl), 0);
		ASSERT_EQ(dl_device_remove(p, modes[m], DL_NO_TIMEOUT), 0);
		ASSERT_EQ(atomic_load(&cl.requests), 1);
		ASSERT_PTR_EQ(cl.seen, c);
		ASSERT_EQ(cl.unclaim_ret, 0);
		ASSERT_EQ(dl_device_state(c), DL_STATE_DEAD);
		ASSERT_EQ(trace_count(tree, DL_EV_CLAIM_REQUEST, "bus.fn"), 1);
		/* the claim's reference is gone with the claim */
		ASSERT_EQ(atomic_load(&c->refcount), refs0 - 1);
		dl_device_put(p);
		dl_device_put(c);
		free_tree(tree);
	}
}

TEST(wait_removal_released_later)
{
	struct dl_tree *tree = mktree();
	struct dl_device *d = mkdev(tree, NULL, "gpu");
	struct claimant cl;
	struct remover rm = REMOVER(d, DL_REMOVE_WAIT);
	pthread_t t;

	claimant_init(&cl, false);
	ASSERT_EQ(dl_device_claim(d, "vm-7", release_cb, &cl), 0);
	t = spawn(remove_thread, &rm);
	gate_wait_entered(&cl.asked, 1);
	ASSERT_TRUE(still_running(t, 50));
	ASSERT_EQ(dl_device_state(d), DL_STATE_REMOVING);
	ASSERT_FALSE(findable(tree, d));
	ASSERT_EQ(atomic_load(&cl.requests), 1);
	ASSERT_EQ(dl_device_unclaim(d), 0); /* from another thread */
	join(t);
	ASSERT_EQ(rm.ret, 0);
	ASSERT_EQ(dl_device_state(d), DL_STATE_DEAD);
	dl_device_put(d);
	free_tree(tree);
}

TEST(wait_removal_without_callback)
{
	struct dl_tree *tree = mktree();
	struct dl_device *d = mkdev(tree, NULL, "nocb");
	struct remover rm = REMOVER(d, DL_REMOVE_WAIT);
	pthread_t t;

	ASSERT_EQ(dl_device_claim(d, "silent", NULL, NULL), 0);
	pause_arm(0, "remove:deactivated", d);
	t = spawn(remove_thread, &rm);
	pause_wait(0);
	pause_release(0);
	ASSERT_TRUE(still_running(t, 50)); /* waits for the unclaim */
	ASSERT_EQ(dl_device_unclaim(d), 0);
	join(t);
	ASSERT_EQ(rm.ret, 0);
	dl_device_put(d);
	free_tree(tree);
}

TEST(claimant_never_releases)
{
	struct dl_tree *tree = mktree();
	struct dl_device *p = mkdev(tree, NULL, "host");
	struct dl_device *d = mkdev(tree, p, "host.nic");
	struct claimant cl;
	char buf[16];
	uint64_t t0 = test_now_ns();

	claimant_init(&cl, false);
	ASSERT_EQ(dl_device_claim(d, "stubborn", release_cb, &cl), 0);
	ASSERT_EQ(dl_device_remove(p, DL_REMOVE_WAIT, 30000000), -ETIMEDOUT);
	ASSERT_GE(test_now_ns() - t0, 30000000);
	ASSERT_EQ(atomic_load(&cl.requests), 1);
	ASSERT_EQ(get_stats(tree).remove_timeout, 1);
	/* usable afterwards, still claimed */
	ASSERT_EQ(dl_device_state(p), DL_STATE_LIVE);
	ASSERT_EQ(dl_device_state(d), DL_STATE_LIVE);
	ASSERT_TRUE(findable(tree, p));
	ASSERT_TRUE(findable(tree, d));
	ASSERT_TRUE(enterable(d));
	ASSERT_TRUE(enterable(p));
	ASSERT_EQ(dl_device_claim_owner(d, buf, sizeof(buf)), 1);
	ASSERT_STREQ(buf, "stubborn");
	ASSERT_EQ(dl_device_claim(d, "other", NULL, NULL), -EBUSY);
	/* the device itself, surprise mode, zero timeout */
	ASSERT_EQ(dl_device_remove(d, DL_REMOVE_WAIT, 0), -ETIMEDOUT);
	ASSERT_EQ(dl_device_state(d), DL_STATE_LIVE);
	ASSERT_EQ(dl_device_unclaim(d), 0);
	ASSERT_EQ(dl_device_remove(p, DL_REMOVE_WAIT, 1000000000), 0);
	dl_device_put(p);
	dl_device_put(d);
	free_tree(tree);
}

TEST(claim_on_removing_device)
{
	static const char *const stages[] = { "remove:won",
					      "remove:unpublished",
					      "remove:deactivated",
					      "remove:drained",
					      "remove:driver-remove" };
	struct dl_tree *tree = mktree();
	struct dl_device *n;

	for (size_t i = 0; i < sizeof(stages) / sizeof(stages[0]); i++) {
		struct dl_device *d = mkdev(tree, NULL, "claimme");
		struct remover rm = REMOVER(d, DL_REMOVE_WAIT);
		pthread_t t;
		char buf[8];

		pause_arm(0, stages[i], d);
		t = spawn(remove_thread, &rm);
		pause_wait(0);
		ASSERT_EQ(dl_device_claim(d, "late", NULL, NULL), -ENODEV);
		ASSERT_EQ(dl_device_claim_owner(d, buf, sizeof(buf)), 0);
		pause_release(0);
		join(t);
		ASSERT_EQ(rm.ret, 0);
		ASSERT_EQ(dl_device_claim(d, "dead", NULL, NULL), -ENODEV);
		dl_device_put(d);
	}
	ASSERT_EQ(dl_device_new(tree, &test_type, "new", 0, &n), 0);
	ASSERT_EQ(dl_device_claim(n, "new", NULL, NULL), -ENODEV);
	dl_device_put(n);
	free_tree(tree);
}

TEST(claim_after_rollback)
{
	struct dl_tree *tree = mktree();
	struct dl_device *d = mkdev(tree, NULL, "rb");

	ASSERT_EQ(dl_device_claim(d, "a", NULL, NULL), 0);
	ASSERT_EQ(dl_device_remove(d, DL_REMOVE_TRY, 0), -EBUSY);
	ASSERT_EQ(dl_device_unclaim(d), 0);
	/* the gate was reopened: a new claim works */
	ASSERT_EQ(dl_device_claim(d, "b", NULL, NULL), 0);
	ASSERT_EQ(dl_device_unclaim(d), 0);
	dl_device_put(d);
	free_tree(tree);
}

struct claimer {
	struct dl_device *dev;
	struct claimant *cl;
	int ret;
};

static void *claim_thread(void *arg)
{
	struct claimer *c = arg;

	c->ret = dl_device_claim(c->dev, "racer", release_cb, c->cl);
	return NULL;
}

/*
 * A removal sees a claim as soon as it is published and may make the
 * claimant release it at once: the claim's reference must already be
 * held then, or the release drops a reference nobody took.
 */
TEST(claim_released_as_soon_as_published)
{
	struct dl_tree *tree = mktree();
	struct dl_device *d = mkdev(tree, NULL, "quick");
	struct claimant cl;
	struct claimer c = { d, &cl, 1 };
	pthread_t t;

	claimant_init(&cl, true);
	pause_arm(0, "claim:claimed", d);
	t = spawn(claim_thread, &c);
	pause_wait(0); /* claimed, claim() has not returned yet */
	ASSERT_EQ(dl_device_remove(d, DL_REMOVE_WAIT, DL_NO_TIMEOUT), 0);
	ASSERT_EQ(atomic_load(&cl.requests), 1);
	ASSERT_EQ(cl.unclaim_ret, 0);
	ASSERT_EQ(dl_device_state(d), DL_STATE_DEAD);
	ASSERT_EQ(atomic_load(&d->refcount), 1); /* ours */
	pause_release(0);
	join(t);
	ASSERT_EQ(c.ret, 0);
	ASSERT_EQ(atomic_load(&d->refcount), 1);
	dl_device_put(d);
	free_tree(tree);
}

/*
 * A release callback that removes its device's parent (or the device)
 * would wait for the removal that is calling it: that used to hang for
 * ever, whatever the outer deadline. Builds with debug checks abort.
 */
static void remove_parent_from_release(struct dl_device *dev, void *arg)
{
	(void)arg;
	fprintf(stderr, "remove says %d\n",
		dl_device_remove(dl_device_parent(dev), DL_REMOVE_WAIT,
				 DL_NO_TIMEOUT));
}

static void release_removes_parent(void *arg)
{
	struct dl_tree *tree = mktree();
	struct dl_device *p = mkdev(tree, NULL, "p");
	struct dl_device *c = mkdev(tree, p, "p.c");

	(void)arg;
	alarm(10);
	if (dl_device_claim(c, "vm", remove_parent_from_release, NULL) != 0)
		_exit(3);
	fprintf(stderr, "outer remove says %d\n",
		dl_device_remove(p, DL_REMOVE_WAIT, 1000000000));
}

TEST(release_callback_removing_parent_aborts)
{
	expect_death(release_removes_parent, NULL,
		     "dl_device_remove(p) from the claim release callback of "
		     "p.c");
}

TEST_MAIN(claim_unclaim, try_removal_of_claimed_is_busy,
	  wait_removal_released_from_callback, wait_removal_released_later,
	  wait_removal_without_callback, claimant_never_releases,
	  claim_on_removing_device, claim_after_rollback,
	  claim_released_as_soon_as_published,
	  release_callback_removing_parent_aborts)
