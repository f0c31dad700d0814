/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The for_each functions: dl_tree_for_each_root(),
 * dl_device_for_each_child() and dl_tree_for_each_driver() visit every
 * element when the callback returns 0, stop at the first non-zero value
 * and return it, and refuse bad arguments.
 */
#include "testutil.h"

#define N 4

struct visit {
	int calls;
	int stop_at;    /* return `ret` on this call (1-based); 0: never */
	int ret;
};

static int visit_one(struct visit *v)
{
	v->calls++;
	return v->calls == v->stop_at ? v->ret : 0;
}

static int visit_dev(struct dl_device *dev, void *arg)
{
	ASSERT_TRUE(dev != NULL);
	return visit_one(arg);
}

static int visit_drv(struct dl_driver *drv, void *arg)
{
	ASSERT_TRUE(dl_driver_name(drv) != NULL);
	return visit_one(arg);
}

/* Each of the three, as one function of (what, visit). */
enum what { ROOTS, CHILDREN, DRIVERS };

static const struct dl_driver_ops drv_ops[N] = {
	{ .name = "d0" }, { .name = "d1" }, { .name = "d2" }, { .name = "d3" },
};

struct fixture {
	struct dl_tree *tree;
	struct dl_device *parent;
	struct dl_device *dev[2 * N];
	int ndev;
};

static struct fixture setup(void)
{
	struct fixture fx = { .tree = mktree() };
	char name[16];

	fx.parent = mkdev(fx.tree, NULL, "parent");
	for (int i = 0; i < N - 1; i++) {
		snprintf(name, sizeof(name), "root%d", i);
		fx.dev[fx.ndev++] = mkdev(fx.tree, NULL, name);
	}
	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "child%d", i);
		fx.dev[fx.ndev++] = mkdev(fx.tree, fx.parent, name);
	}
	for (int i = 0; i < N; i++)
		ASSERT_EQ(dl_driver_register(fx.tree, &drv_ops[i], NULL, NULL),
			  0);
	return fx;
}

static void teardown(struct fixture *fx)
{
	for (int i = 0; i < fx->ndev; i++)
		dl_device_put(fx->dev[i]);
	dl_device_put(fx->parent);
	free_tree(fx->tree);
}

static int iterate(struct fixture *fx, enum what w, struct visit *v)
{
	switch (w) {
	case ROOTS:
		return dl_tree_for_each_root(fx->tree, visit_dev, v);
	case CHILDREN:
		return dl_device_for_each_child(fx->parent, visit_dev, v);
	default:
		return dl_tree_for_each_driver(fx->tree, visit_drv, v);
	}
}

static void check_all(enum what w)
{
	struct fixture fx = setup();
	struct visit v = { 0 };

	/* N elements each: N - 1 roots plus the parent, N children, N
	 * drivers. */
	ASSERT_EQ(iterate(&fx, w, &v), 0);
	ASSERT_EQ(v.calls, N);
	/* stopped by a positive value on the second call */
	v = (struct visit){ .stop_at = 2, .ret = 7 };
	ASSERT_EQ(iterate(&fx, w, &v), 7);
	ASSERT_EQ(v.calls, 2);
	/* stopped by a negative value on the first call */
	v = (struct visit){ .stop_at = 1, .ret = -EIO };
	ASSERT_EQ(iterate(&fx, w, &v), -EIO);
	ASSERT_EQ(v.calls, 1);
	/* a value on the last call is still returned */
	v = (struct visit){ .stop_at = N, .ret = 3 };
	ASSERT_EQ(iterate(&fx, w, &v), 3);
	ASSERT_EQ(v.calls, N);
	teardown(&fx);
}

TEST(for_each_root_stops_on_non_zero)
{
	check_all(ROOTS);
}

TEST(for_each_child_stops_on_non_zero)
{
	check_all(CHILDREN);
}

TEST(for_each_driver_stops_on_non_zero)
{
	check_all(DRIVERS);
}

TEST(for_each_refuses_bad_arguments)
{
	struct fixture fx = setup();
	struct visit v = { 0 };

	ASSERT_EQ(dl_tree_for_each_root(NULL, visit_dev, &v), -EINVAL);
	ASSERT_EQ(dl_tree_for_each_root(fx.tree, NULL, &v), -EINVAL);
	ASSERT_EQ(dl_device_for_each_child(NULL, visit_dev, &v), -EINVAL);
	ASSERT_EQ(dl_device_for_each_child(fx.parent, NULL, &v), -EINVAL);
	ASSERT_EQ(dl_tree_for_each_driver(NULL, visit_drv, &v), -EINVAL);
	ASSERT_EQ(dl_tree_for_each_driver(fx.tree, NULL, &v), -EINVAL);
	ASSERT_EQ(v.calls, 0);
	teardown(&fx);
}

TEST_MAIN(for_each_root_stops_on_non_zero, for_each_child_stops_on_non_zero,
	  for_each_driver_stops_on_non_zero, for_each_refuses_bad_arguments)
