/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Allocation failure at every allocation site (libuv's replaced
 * allocator, sqlite's anomaly tests): for k = 1, 2, ... the kth
 * allocation of an operation fails; the operation must fail cleanly with
 * -ENOMEM and leave everything as it was (then succeed once failures are
 * off), until k exceeds the number of allocations it makes. Under ASan
 * nothing may leak on any path.
 */
#include <urcu-bp.h>

#include "testutil.h"

/* Run op with the kth allocation failing; returns op's result. */
#define WITH_FAILURE(k, expr)                                                  \
	({                                                                     \
		int r__;                                                       \
		dl__test_fail_alloc_after(k);                                  \
		r__ = (expr);                                                  \
		dl__test_fail_alloc_after(0);                                  \
		r__;                                                           \
	})

/* How many allocations expr makes (run once, failures off). */
#define COUNT_ALLOCS(expr, ret)                                                \
	({                                                                     \
		long c0__ = dl__test_alloc_count();                            \
		*(ret) = (expr);                                               \
		dl__test_alloc_count() - c0__;                                 \
	})

/* A TAP diagnostic line: how many sites an operation has. */
#define DIAG(...)                                                              \
	do {                                                                   \
		printf("# " __VA_ARGS__);                                      \
		putchar('\n');                                                 \
	} while (0)

static int count_wqs(struct dl_tree *tree)
{
	struct cds_list_head *pos;
	int n = 0;

	pthread_mutex_lock(&tree->wq_lock);
	cds_list_for_each(pos, &tree->workqueues)
		n++;
	pthread_mutex_unlock(&tree->wq_lock);
	return n;
}

TEST(tree_new)
{
	struct dl_tree *tree;
	long n;
	int r;

	n = COUNT_ALLOCS(dl_tree_new(&tree), &r);
	ASSERT_EQ(r, 0);
	ASSERT_GE(n, 2);
	DIAG("dl_tree_new: %ld allocations", n);
	free_tree(tree);
	for (long k = 1; k <= n + 1; k++) {
		tree = (struct dl_tree *)0x1;
		r = WITH_FAILURE(k, dl_tree_new(&tree));
		if (k <= n) {
			ASSERT_EQ(r, -ENOMEM);
			ASSERT_PTR_EQ(tree, (struct dl_tree *)0x1);
		} else {
			ASSERT_EQ(r, 0);
			/* fully working */
			struct dl_device *d = mkdev(tree, NULL, "x");

			ASSERT_TRUE(findable(tree, d));
			dl_device_put(d);
			free_tree(tree);
		}
		leak_check();
	}
}

TEST(device_new)
{
	struct dl_tree *tree = mktree();
	struct dl_device *d;
	long n;
	int r;

	n = COUNT_ALLOCS(dl_device_new(tree, &test_type, "x", 64, &d), &r);
	ASSERT_EQ(r, 0);
	ASSERT_GE(n, 1);
	DIAG("dl_device_new: %ld allocations", n);
	dl_device_put(d);
	urcu_bp_barrier();
	for (long k = 1; k <= n + 1; k++) {
		d = (struct dl_device *)0x1;
		r = WITH_FAILURE(k, dl_device_new(tree, &test_type, "x", 64,
						  &d));
		if (k <= n) {
			ASSERT_EQ(r, -ENOMEM);
			ASSERT_PTR_EQ(d, (struct dl_device *)0x1);
			ASSERT_EQ(get_stats(tree).devices_allocated, 0);
		} else {
			ASSERT_EQ(r, 0);
			ASSERT_EQ(dl_device_add(d, NULL), 0);
			ASSERT_TRUE(findable(tree, d));
			ASSERT_EQ(dl_device_remove(d, 0, -1), 0);
			dl_device_put(d);
		}
		urcu_bp_barrier();
		leak_check();
	}
	free_tree(tree);
}

static int count_child(struct dl_device *c, void *arg)
{
	(void)c;
	(*(int *)arg)++;
	return 0;
}

static int nchildren(struct dl_device *p)
{
	int n = 0;

	ASSERT_EQ(dl_device_for_each_child(p, count_child, &n), 0);
	return n;
}

static int noop_probe(struct dl_driver *drv, struct dl_device *dev)
{
	(void)drv;
	(void)dev;
	return 0;
}

static const struct dl_driver_ops noop_ops = { .name = "noop",
					       .probe = noop_probe };

TEST(device_add_with_parent)
{
	struct dl_tree *tree = mktree();
	struct dl_device *p = mkdev(tree, NULL, "p");
	struct dl_device *c;
	long n;
	int r;

	/* with a driver, so autoprobe's path is covered as well */
	ASSERT_EQ(dl_driver_register(tree, &noop_ops, NULL, NULL), 0);
	ASSERT_EQ(dl_device_new(tree, &test_type, "c", 0, &c), 0);
	n = COUNT_ALLOCS(dl_device_add(c, p), &r);
	ASSERT_EQ(r, 0);
	DIAG("dl_device_add: %ld allocations", n);
	ASSERT_TRUE(dl_device_driver(c) != NULL);
	ASSERT_EQ(dl_device_remove(c, 0, -1), 0);
	dl_device_put(c);
	for (long k = 1; k <= n + 1; k++) {
		ASSERT_EQ(dl_device_new(tree, &test_type, "c", 0, &c), 0);
		r = WITH_FAILURE(k, dl_device_add(c, p));
		if (k <= n) {
			ASSERT_EQ(r, -ENOMEM);
			ASSERT_EQ(dl_device_state(c), DL_STATE_NEW);
			ASSERT_FALSE(findable(tree, c));
			ASSERT_EQ(nchildren(p), 0);
			ASSERT_EQ(dl_device_add(c, p), 0);
		} else {
			ASSERT_EQ(r, 0);
		}
		ASSERT_EQ(nchildren(p), 1);
		ASSERT_TRUE(findable(tree, c));
		ASSERT_TRUE(enterable(c));
		ASSERT_EQ(dl_device_remove(c, 0, -1), 0);
		dl_device_put(c);
		leak_check();
	}
	dl_device_put(p);
	free_tree(tree);
}

TEST(driver_register)
{
	static const struct dl_driver_ops ops = { .name = "drv" };
	struct dl_tree *tree = mktree();
	struct dl_driver *drv;
	long n;
	int r;

	n = COUNT_ALLOCS(dl_driver_register(tree, &ops, NULL, &drv), &r);
	ASSERT_EQ(r, 0);
	ASSERT_GE(n, 1);
	DIAG("dl_driver_register: %ld allocations", n);
	dl_driver_unregister(drv);
	for (long k = 1; k <= n + 1; k++) {
		drv = (struct dl_driver *)0x1;
		r = WITH_FAILURE(k, dl_driver_register(tree, &ops, NULL, &drv));
		if (k <= n) {
			ASSERT_EQ(r, -ENOMEM);
			ASSERT_PTR_EQ(drv, (struct dl_driver *)0x1);
			ASSERT_PTR_EQ(dl_driver_find(tree, "drv"), NULL);
		} else {
			ASSERT_EQ(r, 0);
			ASSERT_PTR_EQ(dl_driver_find(tree, "drv"), drv);
			dl_driver_unregister(drv);
		}
		leak_check();
	}
	free_tree(tree);
}

static void wbody(struct dl_device *dev, void *arg)
{
	(void)dev;
	atomic_fetch_add((atomic_int *)arg, 1);
}

TEST(workqueue_new)
{
	struct dl_tree *tree = mktree();
	struct dl_workqueue *wq;
	long n;
	int r, wqs = count_wqs(tree);

	n = COUNT_ALLOCS(dl_workqueue_new(tree, "q", 3, &wq), &r);
	ASSERT_EQ(r, 0);
	ASSERT_GE(n, 1);
	DIAG("dl_workqueue_new: %ld allocations", n);
	dl_workqueue_free(wq);
	ASSERT_EQ(count_wqs(tree), wqs);
	for (long k = 1; k <= n + 1; k++) {
		wq = (struct dl_workqueue *)0x1;
		r = WITH_FAILURE(k, dl_workqueue_new(tree, "q", 3, &wq));
		if (k <= n) {
			ASSERT_EQ(r, -ENOMEM);
			ASSERT_PTR_EQ(wq, (struct dl_workqueue *)0x1);
			ASSERT_EQ(count_wqs(tree), wqs);
		} else {
			struct dl_device *d = mkdev(tree, NULL, "w");
			atomic_int ran = 0;

			ASSERT_EQ(r, 0);
			ASSERT_EQ(count_wqs(tree), wqs + 1);
			ASSERT_EQ(dl_work_queue(wq, d, wbody, NULL, &ran), 0);
			ASSERT_EQ(dl_workqueue_flush(wq), 0);
			ASSERT_EQ(atomic_load(&ran), 1);
			dl_workqueue_free(wq);
			ASSERT_EQ(dl_device_remove(d, 0, -1), 0);
			dl_device_put(d);
		}
		leak_check();
	}
	free_tree(tree);
}

struct witem {
	atomic_int ran, done;
	int status;
};

static void wi_body(struct dl_device *dev, void *arg)
{
	struct witem *w = arg;

	(void)dev;
	atomic_fetch_add(&w->ran, 1);
}

static void wi_done(void *arg, int status)
{
	struct witem *w = arg;

	w->status = status;
	atomic_fetch_add(&w->done, 1);
}

TEST(work_queue)
{
	struct dl_tree *tree = mktree();
	struct dl_device *d = mkdev(tree, NULL, "w");
	struct dl_workqueue *wq = dl_tree_workqueue(tree);
	struct witem w = { 0 };
	long refs0 = atomic_load(&d->refcount);
	long n;
	int r;

	n = COUNT_ALLOCS(dl_work_queue(wq, d, wi_body, wi_done, &w), &r);
	ASSERT_EQ(r, 0);
	ASSERT_GE(n, 1);
	DIAG("dl_work_queue: %ld allocations", n);
	ASSERT_EQ(dl_workqueue_flush(wq), 0);
	for (long k = 1; k <= n + 1; k++) {
		w = (struct witem){ 0 };
		r = WITH_FAILURE(k, dl_work_queue(wq, d, wi_body, wi_done, &w));
		ASSERT_EQ(dl_workqueue_flush(wq), 0);
		if (k <= n) {
			ASSERT_EQ(r, -ENOMEM);
			ASSERT_EQ(atomic_load(&w.done), 0);
			ASSERT_EQ(atomic_load(&w.ran), 0);
		} else {
			ASSERT_EQ(r, 0);
			ASSERT_EQ(atomic_load(&w.done), 1);
			ASSERT_EQ(atomic_load(&w.ran), 1);
			ASSERT_EQ(w.status, 0);
		}
		ASSERT_EQ(atomic_load(&d->pending_work), 0);
		ASSERT_EQ(atomic_load(&d->refcount), refs0);
		leak_check();
	}
	dl_device_put(d);
	free_tree(tree);
}

TEST(claim)
{
	struct dl_tree *tree = mktree();
	struct dl_device *d = mkdev(tree, NULL, "c");
	long refs0 = atomic_load(&d->refcount);
	char buf[16];
	long n;
	int r;

	n = COUNT_ALLOCS(dl_device_claim(d, "me", NULL, NULL), &r);
	ASSERT_EQ(r, 0);
	ASSERT_GE(n, 1);
	DIAG("dl_device_claim: %ld allocations", n);
	ASSERT_EQ(dl_device_unclaim(d), 0);
	for (long k = 1; k <= n + 1; k++) {
		r = WITH_FAILURE(k, dl_device_claim(d, "me", NULL, NULL));
		if (k <= n) {
			ASSERT_EQ(r, -ENOMEM);
			ASSERT_EQ(dl_device_claim_owner(d, buf, sizeof(buf)),
				  0);
			ASSERT_EQ(atomic_load(&d->refcount), refs0);
		} else {
			ASSERT_EQ(r, 0);
			ASSERT_EQ(dl_device_claim_owner(d, buf, sizeof(buf)),
				  1);
			ASSERT_EQ(dl_device_unclaim(d), 0);
		}
		leak_check();
	}
	dl_device_put(d);
	free_tree(tree);
}

/* A subtree big enough for the removal's walk to grow several times:
 * s, s.0 .. s.3, s.I.0 .. s.I.9 (45 devices). */
#define SUB_KIDS 4
#define SUB_GRAND 10
#define SUB_N (1 + SUB_KIDS + SUB_KIDS * SUB_GRAND)

static void build_subtree(struct dl_tree *tree, struct dl_device *top,
			  struct dl_device **v)
{
	int n = 0;

	v[n++] = mkdev(tree, top, "s");
	for (int i = 0; i < SUB_KIDS; i++) {
		char name[16];
		struct dl_device *k;

		snprintf(name, sizeof(name), "s.%d", i);
		k = v[n++] = mkdev(tree, v[0], name);
		for (int j = 0; j < SUB_GRAND; j++) {
			snprintf(name, sizeof(name), "s.%d.%d", i, j);
			v[n++] = mkdev(tree, k, name);
		}
	}
}

static void put_all(struct dl_device **v, int n)
{
	for (int i = 0; i < n; i++)
		dl_device_put(v[i]);
}

TEST(remove_subtree)
{
	struct dl_tree *tree = mktree();
	struct dl_device *top = mkdev(tree, NULL, "top");
	struct dl_device *v[SUB_N];
	long n;
	int r, enomem = 0;

	ASSERT_EQ(dl_driver_register(tree, &noop_ops, NULL, NULL), 0);
	build_subtree(tree, top, v);
	n = COUNT_ALLOCS(dl_device_remove(v[0], DL_REMOVE_WAIT, DL_NO_TIMEOUT),
			 &r);
	ASSERT_EQ(r, 0);
	ASSERT_GE(n, 3);
	DIAG("dl_device_remove (45-device subtree): %ld allocations", n);
	put_all(v, SUB_N);
	flush_releases(tree);
	for (long k = 1; k <= n + 1; k++) {
		struct dl_tree_stats before, after;

		build_subtree(tree, top, v);
		before = get_stats(tree);
		r = WITH_FAILURE(k, dl_device_remove(v[0], DL_REMOVE_WAIT,
						     DL_NO_TIMEOUT));
		if (r == -ENOMEM) {
			/* refused before committing: completely rolled back */
			enomem++;
			after = get_stats(tree);
			ASSERT_EQ(after.devices_live, before.devices_live);
			ASSERT_EQ(after.removes, before.removes);
			for (int i = 0; i < SUB_N; i++) {
				ASSERT_EQ(dl_device_state(v[i]),
					  DL_STATE_LIVE);
				ASSERT_TRUE(findable(tree, v[i]));
				ASSERT_TRUE(enterable(v[i]));
				ASSERT_EQ(atomic_load(&v[i]->gate.deact), 0);
				ASSERT_TRUE(dl_device_driver(v[i]) != NULL);
			}
			ASSERT_EQ(nchildren(v[0]), SUB_KIDS);
			ASSERT_EQ(dl_device_remove(v[0], DL_REMOVE_WAIT,
						   DL_NO_TIMEOUT),
				  0);
		} else {
			/* a failure after the commit is retried inside */
			ASSERT_EQ(r, 0);
		}
		for (int i = 0; i < SUB_N; i++) {
			ASSERT_EQ(dl_device_state(v[i]), DL_STATE_DEAD);
			ASSERT_FALSE(findable(tree, v[i]));
		}
		ASSERT_EQ(nchildren(top), 0);
		ASSERT_EQ(get_stats(tree).devices_live, 1);
		put_all(v, SUB_N);
		flush_releases(tree);
		ASSERT_EQ(get_stats(tree).devices_allocated, 1);
		leak_check();
	}
	ASSERT_GE(enomem, 1);
	DIAG("dl_device_remove: %d of %ld failures refused with -ENOMEM",
	     enomem, n);
	/* try mode: same rules */
	build_subtree(tree, top, v);
	ASSERT_EQ(WITH_FAILURE(1, dl_device_remove(v[0], DL_REMOVE_TRY, 0)),
		  -ENOMEM);
	ASSERT_TRUE(enterable(v[0]));
	ASSERT_EQ(dl_device_remove(v[0], DL_REMOVE_TRY, 0), 0);
	put_all(v, SUB_N);
	dl_device_put(top);
	free_tree(tree);
}

TEST(for_each_child)
{
	struct dl_tree *tree = mktree();
	struct dl_device *p = mkdev(tree, NULL, "p");
	struct dl_device *c[5];
	long n, rn;
	int r, count = 0;

	for (int i = 0; i < 5; i++) {
		char name[8];

		snprintf(name, sizeof(name), "p.%d", i);
		c[i] = mkdev(tree, p, name);
	}
	n = COUNT_ALLOCS(dl_device_for_each_child(p, count_child, &count),
			 &r);
	ASSERT_EQ(r, 0);
	ASSERT_EQ(count, 5);
	ASSERT_GE(n, 1);
	DIAG("dl_device_for_each_child: %ld allocations", n);
	for (long k = 1; k <= n + 1; k++) {
		long refs = atomic_load(&c[0]->refcount);

		count = 0;
		r = WITH_FAILURE(k, dl_device_for_each_child(p, count_child,
							     &count));
		if (k <= n) {
			ASSERT_EQ(r, -ENOMEM);
			ASSERT_EQ(count, 0);
		} else {
			ASSERT_EQ(r, 0);
			ASSERT_EQ(count, 5);
		}
		ASSERT_EQ(atomic_load(&c[0]->refcount), refs);
		leak_check();
	}
	/* the roots' iterator shares the code: check it fails cleanly */
	rn = COUNT_ALLOCS(dl_tree_for_each_root(tree, count_child, &count),
			  &r);
	ASSERT_EQ(r, 0);
	ASSERT_GE(rn, 1);
	count = 0;
	ASSERT_EQ(WITH_FAILURE(1, dl_tree_for_each_root(tree, count_child,
							&count)),
		  -ENOMEM);
	ASSERT_EQ(count, 0);
	for (int i = 0; i < 5; i++)
		dl_device_put(c[i]);
	dl_device_put(p);
	free_tree(tree);
}

/* Devices whose release is counted: what a build without LeakSanitizer
 * can see of a free. */
static atomic_int counted_released;

static void counted_release(struct dl_device *dev)
{
	atomic_fetch_add(&counted_released, 1);
}

static const struct dl_device_type counted_type = {
	.name = "counted", .release = counted_release
};

static struct dl_device *mkcounted(struct dl_tree *tree,
				   struct dl_device *parent, const char *name)
{
	struct dl_device *dev;

	ASSERT_EQ(dl_device_new(tree, &counted_type, name, 0, &dev), 0);
	ASSERT_EQ(dl_device_add(dev, parent), 0);
	return dev;
}

/* A tree of SUB_N counted devices, the caller holding no reference. */
static struct dl_tree *counted_tree(void)
{
	struct dl_tree *tree = mktree();
	struct dl_device *top = mkcounted(tree, NULL, "s");

	for (int i = 0; i < SUB_KIDS; i++) {
		char name[16];
		struct dl_device *k;

		snprintf(name, sizeof(name), "s.%d", i);
		k = mkcounted(tree, top, name);
		for (int j = 0; j < SUB_GRAND; j++) {
			snprintf(name, sizeof(name), "s.%d.%d", i, j);
			dl_device_put(mkcounted(tree, k, name));
		}
		dl_device_put(k);
	}
	dl_device_put(top);
	return tree;
}

TEST(tree_free_retries)
{
	/* dl_tree_free cannot fail: with any one of its allocations
	 * failing, it retries, and every device is still released. */
	struct dl_tree *tree = counted_tree();
	long n, c0;
	int r = 0;

	atomic_store(&counted_released, 0);
	n = COUNT_ALLOCS((dl_tree_free(tree), 0), &r);
	ASSERT_EQ(atomic_load(&counted_released), SUB_N);
	ASSERT_GE(n, 1); /* there is an allocation to fail */
	DIAG("dl_tree_free (45 devices): %ld allocations", n);
	for (long k = 1; k <= n; k++) {
		tree = counted_tree();
		atomic_store(&counted_released, 0);
		c0 = dl__test_alloc_count();
		dl__test_fail_alloc_after(k);
		dl_tree_free(tree);
		dl__test_fail_alloc_after(0);
		/* the kth allocation was made, and failed */
		ASSERT_GE(dl__test_alloc_count() - c0, k);
		ASSERT_EQ(atomic_load(&counted_released), SUB_N);
		leak_check();
	}
}

TEST_MAIN(tree_new, device_new, device_add_with_parent, driver_register,
	  workqueue_new, work_queue, claim, remove_subtree, for_each_child,
	  tree_free_retries)
