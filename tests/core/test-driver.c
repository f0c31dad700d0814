/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Drivers: registration, matching, autoprobe, bind/unbind, children added
 * by probe and removed by remove, unregistration, online/offline.
 */
#include "testutil.h"

static const struct dl_device_type type_a = { .name = "type-a" };
static const struct dl_device_type type_b = { .name = "type-b" };
static const struct dl_device_type pf_type = { .name = "pf" };
static const struct dl_device_type vf_type = { .name = "vf" };

struct drvstate {
	atomic_int probes, removes, onlines, offlines;
	int probe_ret, online_ret;
	int nchildren;             /* probe adds this many children */
	atomic_int child_add_fail; /* child adds that failed */
};

#define MAXCHILD 8

struct children {
	int n;
	struct dl_device *c[MAXCHILD];
};

static int st_probe(struct dl_driver *drv, struct dl_device *dev)
{
	struct drvstate *s = dl_driver_data(drv);

	if (!dl_device_lock_held(dev))
		FAIL_AT("probe without the device lock");
	atomic_fetch_add(&s->probes, 1);
	if (s->probe_ret)
		return s->probe_ret;
	if (s->nchildren) {
		struct children *ch = calloc(1, sizeof(*ch));

		for (int i = 0; i < s->nchildren; i++) {
			char name[64];
			struct dl_device *c;

			snprintf(name, sizeof(name), "%s.vf%d",
				 dl_device_name(dev), i);
			if (dl_device_new(dl_device_tree(dev), &vf_type, name,
					  0, &c) != 0)
				FAIL_AT("dl_device_new");
			if (dl_device_add(c, dev) != 0) {
				atomic_fetch_add(&s->child_add_fail, 1);
				dl_device_put(c);
				continue;
			}
			ch->c[ch->n++] = c;
		}
		dl_device_set_drvdata(dev, ch);
	}
	return 0;
}

static void st_remove(struct dl_driver *drv, struct dl_device *dev)
{
	struct drvstate *s = dl_driver_data(drv);
	struct children *ch = dl_device_get_drvdata(dev);

	if (!dl_device_lock_held(dev))
		FAIL_AT("remove without the device lock");
	atomic_fetch_add(&s->removes, 1);
	if (ch) {
		for (int i = 0; i < ch->n; i++) {
			int r = dl_device_remove(ch->c[i], DL_REMOVE_WAIT,
						 DL_NO_TIMEOUT);

			if (r != 0)
				FAIL_AT("removing a child from remove: %d", r);
			if (dl_device_state(ch->c[i]) != DL_STATE_DEAD)
				FAIL_AT("child not DEAD after its removal");
			dl_device_put(ch->c[i]);
		}
		free(ch);
	}
}

static int st_online(struct dl_driver *drv, struct dl_device *dev)
{
	struct drvstate *s = dl_driver_data(drv);

	if (!dl_device_lock_held(dev))
		FAIL_AT("online without the device lock");
	if (dl_device_state(dev) != DL_STATE_LIVE)
		FAIL_AT("online of a device that is not LIVE");
	atomic_fetch_add(&s->onlines, 1);
	return s->online_ret;
}

static int st_offline(struct dl_driver *drv, struct dl_device *dev)
{
	struct drvstate *s = dl_driver_data(drv);

	if (!dl_device_lock_held(dev))
		FAIL_AT("offline without the device lock");
	atomic_fetch_add(&s->offlines, 1);
	return 0;
}

static bool match_m(struct dl_driver *drv, struct dl_device *dev)
{
	(void)drv;
	return strncmp(dl_device_name(dev), "m-", 2) == 0;
}

static const struct dl_driver_ops plain_ops = {
	.name = "plain", .probe = st_probe, .remove = st_remove,
};
static const struct dl_driver_ops typed_ops = {
	.name = "typed", .type = &type_a, .probe = st_probe,
	.remove = st_remove,
};
static const struct dl_driver_ops matcher_ops = {
	.name = "matcher", .match = match_m, .probe = st_probe,
	.remove = st_remove,
};
static const struct dl_driver_ops pf_ops = {
	.name = "pf-driver", .type = &pf_type, .probe = st_probe,
	.remove = st_remove,
};
static const struct dl_driver_ops onl_ops = {
	.name = "onl", .probe = st_probe, .remove = st_remove,
	.online = st_online, .offline = st_offline,
};

static struct dl_device *mkdev_t(struct dl_tree *tree,
				 const struct dl_device_type *type,
				 struct dl_device *parent, const char *name,
				 bool autoprobe)
{
	struct dl_device *dev;

	ASSERT_EQ(dl_device_new(tree, type, name, 0, &dev), 0);
	dl_device_set_autoprobe(dev, autoprobe);
	ASSERT_EQ(dl_device_add(dev, parent), 0);
	return dev;
}

TEST(register_find)
{
	struct dl_tree *tree = mktree();
	struct drvstate s = { 0 };
	struct dl_driver *drv = NULL, *drv2 = (struct dl_driver *)0x1;
	static const struct dl_driver_ops noname = { .name = "" };
	static const struct dl_driver_ops nullname = { .name = NULL };

	ASSERT_EQ(dl_driver_register(tree, &plain_ops, &s, &drv), 0);
	ASSERT_TRUE(drv != NULL);
	ASSERT_EQ(dl_driver_register(tree, &plain_ops, &s, &drv2), -EEXIST);
	ASSERT_PTR_EQ(drv2, (struct dl_driver *)0x1);
	ASSERT_EQ(dl_driver_register(tree, &noname, NULL, &drv2), -EINVAL);
	ASSERT_EQ(dl_driver_register(tree, &nullname, NULL, &drv2), -EINVAL);
	ASSERT_EQ(dl_driver_register(tree, NULL, NULL, &drv2), -EINVAL);
	ASSERT_EQ(dl_driver_register(NULL, &typed_ops, NULL, &drv2), -EINVAL);
	ASSERT_EQ(dl_driver_register(tree, &typed_ops, NULL, NULL), 0);
	ASSERT_PTR_EQ(dl_driver_find(tree, "plain"), drv);
	ASSERT_TRUE(dl_driver_find(tree, "typed") != NULL);
	ASSERT_PTR_EQ(dl_driver_find(tree, "nope"), NULL);
	ASSERT_STREQ(dl_driver_name(drv), "plain");
	ASSERT_PTR_EQ(dl_driver_data(drv), &s);
	dl_driver_unregister(drv);
	ASSERT_PTR_EQ(dl_driver_find(tree, "plain"), NULL);
	/* the name is free again */
	ASSERT_EQ(dl_driver_register(tree, &plain_ops, &s, &drv), 0);
	dl_driver_unregister(NULL);
	free_tree(tree); /* frees the drivers still registered */
}

TEST(match_by_type_and_fn)
{
	struct dl_tree *tree = mktree();
	struct drvstate st = { 0 }, sm = { 0 };
	struct dl_driver *typed, *matcher;
	struct dl_device *x, *y, *mz, *ma;

	ASSERT_EQ(dl_driver_register(tree, &typed_ops, &st, &typed), 0);
	ASSERT_EQ(dl_driver_register(tree, &matcher_ops, &sm, &matcher), 0);
	x = mkdev_t(tree, &type_b, NULL, "x", true);   /* nobody */
	y = mkdev_t(tree, &type_a, NULL, "y", true);   /* typed */
	mz = mkdev_t(tree, &type_b, NULL, "m-z", true); /* matcher */
	ma = mkdev_t(tree, &type_a, NULL, "m-a", true); /* first: typed */
	ASSERT_PTR_EQ(dl_device_driver(x), NULL);
	ASSERT_PTR_EQ(dl_device_driver(y), typed);
	ASSERT_PTR_EQ(dl_device_driver(mz), matcher);
	ASSERT_PTR_EQ(dl_device_driver(ma), typed);
	ASSERT_EQ(atomic_load(&st.probes), 2);
	ASSERT_EQ(atomic_load(&sm.probes), 1);
	/* explicit binds still have to match */
	ASSERT_EQ(dl_device_bind(x, typed), -ENXIO);
	ASSERT_EQ(dl_device_bind(x, matcher), -ENXIO);
	ASSERT_EQ(dl_device_bind(x, NULL), -ENXIO);
	ASSERT_EQ(dl_device_unbind(ma), 0);
	ASSERT_EQ(dl_device_bind(ma, matcher), 0);
	ASSERT_PTR_EQ(dl_device_driver(ma), matcher);
	dl_device_put(x);
	dl_device_put(y);
	dl_device_put(mz);
	dl_device_put(ma);
	free_tree(tree);
	ASSERT_EQ(atomic_load(&st.removes), atomic_load(&st.probes));
	ASSERT_EQ(atomic_load(&sm.removes), atomic_load(&sm.probes));
}

TEST(autoprobe_on_add)
{
	struct dl_tree *tree = mktree();
	struct drvstate s = { 0 };
	struct dl_driver *drv;
	struct dl_device *a, *b;

	ASSERT_EQ(dl_driver_register(tree, &plain_ops, &s, &drv), 0);
	a = mkdev_t(tree, &type_a, NULL, "auto", true);
	ASSERT_PTR_EQ(dl_device_driver(a), drv);
	ASSERT_EQ(atomic_load(&s.probes), 1);
	ASSERT_EQ(trace_count(tree, DL_EV_BIND, "auto"), 1);

	b = mkdev_t(tree, &type_a, NULL, "manual", false);
	ASSERT_PTR_EQ(dl_device_driver(b), NULL);
	ASSERT_EQ(atomic_load(&s.probes), 1);
	ASSERT_EQ(dl_device_bind(b, NULL), 0);
	ASSERT_PTR_EQ(dl_device_driver(b), drv);
	ASSERT_EQ(atomic_load(&s.probes), 2);

	ASSERT_EQ(dl_device_remove(a, DL_REMOVE_WAIT, DL_NO_TIMEOUT), 0);
	ASSERT_EQ(atomic_load(&s.removes), 1);
	ASSERT_PTR_EQ(dl_device_driver(a), NULL);
	ASSERT_EQ(trace_count(tree, DL_EV_UNBIND, "auto"), 1);
	dl_device_put(a);
	dl_device_put(b);
	free_tree(tree);
	ASSERT_EQ(atomic_load(&s.removes), 2);
}

TEST(probe_failure_leaves_unbound)
{
	struct dl_tree *tree = mktree();
	struct drvstate s = { .probe_ret = -EIO };
	struct dl_driver *drv;
	struct dl_device *a;
	struct dl_trace_record rec[64];
	uint64_t cur = 0;
	size_t n;
	bool seen = false;

	ASSERT_EQ(dl_driver_register(tree, &plain_ops, &s, &drv), 0);
	a = mkdev_t(tree, &type_a, NULL, "failing", true); /* add succeeds */
	ASSERT_EQ(dl_device_state(a), DL_STATE_LIVE);
	ASSERT_PTR_EQ(dl_device_driver(a), NULL);
	ASSERT_PTR_EQ(dl_device_get_drvdata(a), NULL);
	ASSERT_EQ(atomic_load(&s.probes), 1);
	ASSERT_TRUE(findable(tree, a));
	ASSERT_TRUE(enterable(a));
	n = dl_trace_read(tree, &cur, rec, 64);
	for (size_t i = 0; i < n; i++)
		if (rec[i].event == DL_EV_PROBE_FAIL) {
			ASSERT_EQ(rec[i].arg, -EIO);
			seen = true;
		}
	ASSERT_TRUE(seen);
	/* an explicit bind reports probe's error */
	ASSERT_EQ(dl_device_bind(a, drv), -EIO);
	ASSERT_EQ(dl_device_unbind(a), -ENOENT);
	s.probe_ret = 0;
	ASSERT_EQ(dl_device_bind(a, drv), 0);
	ASSERT_PTR_EQ(dl_device_driver(a), drv);
	dl_device_put(a);
	free_tree(tree);
	ASSERT_EQ(atomic_load(&s.removes), 1); /* only the successful one */
}

TEST(bind_unbind_errors)
{
	struct dl_tree *tree = mktree();
	struct drvstate s = { 0 };
	struct dl_driver *drv;
	struct dl_device *a, *nodrv, *n;

	a = mkdev_t(tree, &type_a, NULL, "a", true);
	ASSERT_EQ(dl_device_bind(a, NULL), -ENXIO); /* no driver at all */
	ASSERT_EQ(dl_device_unbind(a), -ENOENT);
	ASSERT_EQ(dl_driver_register(tree, &typed_ops, &s, &drv), 0);
	/* registering does not probe existing devices */
	ASSERT_PTR_EQ(dl_device_driver(a), NULL);
	ASSERT_EQ(dl_device_bind(a, NULL), 0);
	ASSERT_EQ(dl_device_bind(a, NULL), -EBUSY);
	ASSERT_EQ(dl_device_bind(a, drv), -EBUSY);
	ASSERT_EQ(atomic_load(&s.probes), 1);
	ASSERT_EQ(dl_device_unbind(a), 0);
	ASSERT_EQ(atomic_load(&s.removes), 1);
	ASSERT_EQ(dl_device_unbind(a), -ENOENT);
	ASSERT_EQ(atomic_load(&s.removes), 1);

	nodrv = mkdev_t(tree, &type_b, NULL, "b", true);
	ASSERT_EQ(dl_device_bind(nodrv, NULL), -ENXIO);
	ASSERT_EQ(dl_device_bind(nodrv, drv), -ENXIO);

	/* NEW and removed devices */
	ASSERT_EQ(dl_device_new(tree, &type_a, "new", 0, &n), 0);
	ASSERT_EQ(dl_device_bind(n, NULL), -ENODEV);
	ASSERT_EQ(dl_device_unbind(n), -ENODEV);
	ASSERT_EQ(dl_device_bind(a, NULL), 0);
	ASSERT_EQ(dl_device_remove(a, DL_REMOVE_WAIT, DL_NO_TIMEOUT), 0);
	ASSERT_EQ(dl_device_bind(a, NULL), -ENODEV);
	ASSERT_EQ(dl_device_bind(a, drv), -ENODEV);
	ASSERT_EQ(dl_device_unbind(a), -ENODEV);
	ASSERT_EQ(atomic_load(&s.probes), 2);
	ASSERT_EQ(atomic_load(&s.removes), 2);

	ASSERT_EQ(dl_device_bind(NULL, NULL), -EINVAL);
	ASSERT_EQ(dl_device_unbind(NULL), -EINVAL);
	dl_device_put(a);
	dl_device_put(nodrv);
	dl_device_put(n);
	free_tree(tree);
}

static void check_children(struct dl_tree *tree, const char *pf, int n,
			   bool present)
{
	for (int i = 0; i < n; i++) {
		char name[64];
		struct dl_device *c;
		int r;

		snprintf(name, sizeof(name), "%s.vf%d", pf, i);
		r = dl_device_lookup(tree, name, &c);
		if (present) {
			ASSERT_EQ(r, 0);
			ASSERT_STREQ(dl_device_name(dl_device_parent(c)), pf);
			dl_device_put(c);
		} else {
			ASSERT_EQ(r, -ENOENT);
		}
	}
}

TEST(probe_adds_children_autoprobe)
{
	struct dl_tree *tree = mktree();
	struct drvstate s = { .nchildren = 4 };
	struct dl_device *pf;
	struct dl_tree_stats st;

	ASSERT_EQ(dl_driver_register(tree, &pf_ops, &s, NULL), 0);
	pf = mkdev_t(tree, &pf_type, NULL, "pf0", true);
	ASSERT_EQ(atomic_load(&s.probes), 1);
	ASSERT_EQ(atomic_load(&s.child_add_fail), 0);
	check_children(tree, "pf0", 4, true);
	ASSERT_EQ(get_stats(tree).devices_live, 5);

	ASSERT_EQ(dl_device_remove(pf, DL_REMOVE_WAIT, DL_NO_TIMEOUT), 0);
	ASSERT_EQ(atomic_load(&s.removes), 1);
	check_children(tree, "pf0", 4, false);
	st = get_stats(tree);
	ASSERT_EQ(st.devices_live, 0);
	ASSERT_EQ(st.removes, 5);
	dl_device_put(pf);

	/* the same through surprise removal and through dl_tree_free */
	pf = mkdev_t(tree, &pf_type, NULL, "pf1", true);
	check_children(tree, "pf1", 4, true);
	ASSERT_EQ(dl_device_remove(pf, DL_REMOVE_SURPRISE, DL_NO_TIMEOUT), 0);
	check_children(tree, "pf1", 4, false);
	dl_device_put(pf);
	pf = mkdev_t(tree, &pf_type, NULL, "pf2", true);
	dl_device_put(pf);
	free_tree(tree);
	ASSERT_EQ(atomic_load(&s.probes), 3);
	ASSERT_EQ(atomic_load(&s.removes), 3);
}

TEST(probe_adds_children_bind_unbind)
{
	struct dl_tree *tree = mktree();
	struct drvstate s = { .nchildren = 3 };
	struct dl_device *pf;

	ASSERT_EQ(dl_driver_register(tree, &pf_ops, &s, NULL), 0);
	pf = mkdev_t(tree, &pf_type, NULL, "pf", false);
	check_children(tree, "pf", 3, false);
	for (int round = 0; round < 3; round++) {
		ASSERT_EQ(dl_device_bind(pf, NULL), 0);
		check_children(tree, "pf", 3, true);
		ASSERT_EQ(get_stats(tree).devices_live, 4);
		/* unbind: the driver removes its children under pf's lock */
		ASSERT_EQ(dl_device_unbind(pf), 0);
		check_children(tree, "pf", 3, false);
		ASSERT_EQ(dl_device_state(pf), DL_STATE_LIVE);
		ASSERT_EQ(get_stats(tree).devices_live, 1);
	}
	ASSERT_EQ(dl_device_bind(pf, NULL), 0);
	ASSERT_EQ(dl_device_remove(pf, DL_REMOVE_TRY, 0), 0);
	check_children(tree, "pf", 3, false);
	ASSERT_EQ(atomic_load(&s.probes), 4);
	ASSERT_EQ(atomic_load(&s.removes), 4);
	dl_device_put(pf);
	free_tree(tree);
}

/* dl_driver_unregister while another thread binds and unbinds. */
#define UDEVS 16

struct binder {
	struct dl_device *devs[UDEVS];
	atomic_bool stop;
	atomic_int bad, rounds;
};

static void *binder_thread(void *arg)
{
	struct binder *b = arg;

	while (!atomic_load(&b->stop)) {
		for (int i = 0; i < UDEVS / 2; i++) {
			int r = dl_device_bind(b->devs[i], NULL);

			if (r != 0 && r != -EBUSY && r != -ENXIO)
				atomic_fetch_add(&b->bad, 1);
			r = dl_device_unbind(b->devs[i]);
			if (r != 0 && r != -ENOENT)
				atomic_fetch_add(&b->bad, 1);
			r = dl_device_bind(b->devs[i], NULL);
			if (r != 0 && r != -EBUSY && r != -ENXIO)
				atomic_fetch_add(&b->bad, 1);
		}
		atomic_fetch_add(&b->rounds, 1);
	}
	return NULL;
}

TEST(unregister_unbinds_all)
{
	struct dl_tree *tree = mktree();
	struct drvstate s = { 0 };
	struct dl_driver *drv;
	struct binder b = { .bad = 0 };
	pthread_t t;

	ASSERT_EQ(dl_driver_register(tree, &plain_ops, &s, &drv), 0);
	for (int i = 0; i < UDEVS; i++) {
		char name[16];

		snprintf(name, sizeof(name), "u%d", i);
		b.devs[i] = mkdev_t(tree, &type_a, NULL, name, true);
		ASSERT_PTR_EQ(dl_device_driver(b.devs[i]), drv);
	}
	t = spawn(binder_thread, &b);
	wait_atomic_ge(&b.rounds, 3);
	dl_driver_unregister(drv);
	/* every device is unbound, none got the driver back */
	for (int i = 0; i < UDEVS; i++)
		ASSERT_PTR_EQ(dl_device_driver(b.devs[i]), NULL);
	ASSERT_EQ(atomic_load(&s.probes), atomic_load(&s.removes));
	ASSERT_PTR_EQ(dl_driver_find(tree, "plain"), NULL);
	int r0 = atomic_load(&b.rounds);

	wait_atomic_ge(&b.rounds, r0 + 2); /* binding goes on: -ENXIO */
	atomic_store(&b.stop, true);
	join(t);
	ASSERT_EQ(atomic_load(&b.bad), 0);
	for (int i = 0; i < UDEVS; i++) {
		ASSERT_PTR_EQ(dl_device_driver(b.devs[i]), NULL);
		ASSERT_EQ(dl_device_bind(b.devs[i], NULL), -ENXIO);
		dl_device_put(b.devs[i]);
	}
	ASSERT_EQ(atomic_load(&s.probes), atomic_load(&s.removes));
	free_tree(tree);
}

struct binder1 {
	struct dl_device *dev;
	int ret;
};

static void *bind_thread(void *arg)
{
	struct binder1 *b = arg;

	b->ret = dl_device_bind(b->dev, NULL);
	return NULL;
}

static void *unregister_thread(void *arg)
{
	dl_driver_unregister(arg);
	return NULL;
}

TEST(unregister_waits_for_probe_in_flight)
{
	struct dl_tree *tree = mktree();
	struct drvstate s = { 0 };
	struct dl_driver *drv;
	struct dl_device *x = mkdev_t(tree, &type_a, NULL, "x", false);
	struct dl_device *y = mkdev_t(tree, &type_a, NULL, "y", false);
	struct binder1 b = { x, 1 };
	pthread_t bt, ut;

	ASSERT_EQ(dl_driver_register(tree, &plain_ops, &s, &drv), 0);
	pause_arm(0, "bind:probe", x);
	bt = spawn(bind_thread, &b);
	pause_wait(0); /* drv picked for x, probe not yet called */
	ut = spawn(unregister_thread, drv);
	/* the driver is dying as soon as find no longer returns it */
	{
		uint64_t end = test_now_ns() + 20000000000ull;

		while (dl_driver_find(tree, "plain") != NULL) {
			ASSERT_LT(test_now_ns(), end);
			sched_yield();
		}
	}
	ASSERT_TRUE(still_running(ut, 50)); /* waits for x's device lock */
	/* no new bind picks a dying driver */
	ASSERT_EQ(dl_device_bind(y, NULL), -ENXIO);
	pause_release(0);
	join(bt);
	join(ut);
	ASSERT_EQ(b.ret, 0); /* the probe in flight completed ... */
	ASSERT_EQ(atomic_load(&s.probes), 1);
	ASSERT_EQ(atomic_load(&s.removes), 1); /* ... and was undone */
	ASSERT_PTR_EQ(dl_device_driver(x), NULL);
	dl_device_put(x);
	dl_device_put(y);
	free_tree(tree);
}

TEST(online_offline)
{
	struct dl_tree *tree = mktree();
	struct drvstate so = { 0 }, sp = { 0 };
	struct dl_driver *onl, *plain;
	struct dl_device *a, *b, *c;

	a = mkdev_t(tree, &type_a, NULL, "a", false);
	/* no driver */
	ASSERT_EQ(dl_device_online(a), -EOPNOTSUPP);
	ASSERT_EQ(dl_device_offline(a), -EOPNOTSUPP);
	/* a driver without the ops */
	ASSERT_EQ(dl_driver_register(tree, &plain_ops, &sp, &plain), 0);
	ASSERT_EQ(dl_driver_register(tree, &onl_ops, &so, &onl), 0);
	ASSERT_EQ(dl_device_bind(a, plain), 0);
	ASSERT_EQ(dl_device_online(a), -EOPNOTSUPP);
	ASSERT_EQ(dl_device_offline(a), -EOPNOTSUPP);
	ASSERT_FALSE(dl_device_is_online(a));

	b = mkdev_t(tree, &type_a, NULL, "b", false);
	ASSERT_EQ(dl_device_bind(b, onl), 0);
	ASSERT_FALSE(dl_device_is_online(b));
	ASSERT_EQ(dl_device_offline(b), 0); /* already offline: no call */
	ASSERT_EQ(atomic_load(&so.offlines), 0);
	ASSERT_EQ(dl_device_online(b), 0);
	ASSERT_TRUE(dl_device_is_online(b));
	ASSERT_EQ(dl_device_online(b), 0); /* idempotent */
	ASSERT_EQ(atomic_load(&so.onlines), 1);
	ASSERT_EQ(dl_device_offline(b), 0);
	ASSERT_EQ(dl_device_offline(b), 0);
	ASSERT_FALSE(dl_device_is_online(b));
	ASSERT_EQ(atomic_load(&so.offlines), 1);
	ASSERT_EQ(trace_count(tree, DL_EV_ONLINE, "b"), 1);
	ASSERT_EQ(trace_count(tree, DL_EV_OFFLINE, "b"), 1);

	/* the driver's error, state unchanged */
	so.online_ret = -EAGAIN;
	ASSERT_EQ(dl_device_online(b), -EAGAIN);
	ASSERT_FALSE(dl_device_is_online(b));
	so.online_ret = 0;
	ASSERT_EQ(dl_device_online(b), 0);
	/* unbinding takes it offline */
	ASSERT_EQ(dl_device_unbind(b), 0);
	ASSERT_FALSE(dl_device_is_online(b));
	ASSERT_EQ(dl_device_online(b), -EOPNOTSUPP);

	/* removed */
	c = mkdev_t(tree, &type_a, NULL, "c", false);
	ASSERT_EQ(dl_device_bind(c, onl), 0);
	ASSERT_EQ(dl_device_remove(c, DL_REMOVE_WAIT, DL_NO_TIMEOUT), 0);
	ASSERT_EQ(dl_device_online(c), -ENODEV);
	ASSERT_EQ(dl_device_offline(c), -ENODEV);
	ASSERT_EQ(dl_device_online(NULL), -EINVAL);
	dl_device_put(a);
	dl_device_put(b);
	dl_device_put(c);
	free_tree(tree);
}

TEST(online_refused_once_removal_started)
{
	static const char *const stages[] = { "remove:unpublished",
					      "remove:drained",
					      "remove:children-gone",
					      "remove:driver-remove" };
	struct dl_tree *tree = mktree();
	struct drvstate so = { 0 };
	struct dl_driver *onl;

	ASSERT_EQ(dl_driver_register(tree, &onl_ops, &so, &onl), 0);
	for (size_t i = 0; i < sizeof(stages) / sizeof(stages[0]); i++) {
		char name[16];
		struct dl_device *d;
		struct remover rm;
		pthread_t t;

		snprintf(name, sizeof(name), "o%zu", i);
		d = mkdev_t(tree, &type_a, NULL, name, true);
		ASSERT_PTR_EQ(dl_device_driver(d), onl);
		ASSERT_EQ(dl_device_online(d), 0);
		rm = REMOVER(d, DL_REMOVE_WAIT);
		pause_arm(0, stages[i], d);
		t = spawn(remove_thread, &rm);
		pause_wait(0);
		ASSERT_EQ(dl_device_offline(d), -ENODEV);
		ASSERT_EQ(dl_device_online(d), -ENODEV);
		ASSERT_EQ(dl_device_unbind(d), -ENODEV);
		ASSERT_PTR_EQ(dl_device_driver(d), onl);
		pause_release(0);
		join(t);
		ASSERT_EQ(rm.ret, 0);
		ASSERT_EQ(dl_device_online(d), -ENODEV);
		ASSERT_FALSE(dl_device_is_online(d));
		dl_device_put(d);
	}
	ASSERT_EQ(atomic_load(&so.onlines), 4);
	ASSERT_EQ(atomic_load(&so.offlines), 0);
	free_tree(tree);
}

struct onliner {
	struct dl_device *dev;
	int ret;
};

static void *online_thread(void *arg)
{
	struct onliner *o = arg;

	o->ret = dl_device_online(o->dev);
	return NULL;
}

TEST(online_in_flight_when_removal_starts)
{
	struct dl_tree *tree = mktree();
	struct drvstate so = { 0 };
	struct dl_device *d;
	struct onliner o;
	struct remover rm;
	pthread_t ot, rt;

	ASSERT_EQ(dl_driver_register(tree, &onl_ops, &so, NULL), 0);
	d = mkdev_t(tree, &type_a, NULL, "racer", true);
	o = (struct onliner){ d, 1 };
	rm = REMOVER(d, DL_REMOVE_WAIT);
	pause_arm(0, "online:entered", d);
	pause_arm(1, "drain:wait", d);
	ot = spawn(online_thread, &o);
	pause_wait(0); /* online holds an active reference */
	rt = spawn(remove_thread, &rm);
	pause_wait(1); /* removal started and waits for the online */
	pause_release(1);
	ASSERT_TRUE(still_running(rt, 20));
	pause_release(0);
	join(ot);
	join(rt);
	ASSERT_EQ(o.ret, -ENODEV); /* it saw the removal: never onlined */
	ASSERT_EQ(rm.ret, 0);
	ASSERT_EQ(atomic_load(&so.onlines), 0);
	ASSERT_EQ(atomic_load(&so.removes), 1);
	dl_device_put(d);
	free_tree(tree);
}

/*
 * An online callback already running when a removal is asked for: the
 * removal does not start (the device stays LIVE, as the callback sees it
 * to its end) until the callback returns; then it proceeds.
 */
static struct gate slow_in = GATE_INIT, slow_out;

static int slow_online(struct dl_driver *drv, struct dl_device *dev)
{
	(void)drv;
	gate_pass(&slow_in);
	gate_pass(&slow_out);
	if (dl_device_state(dev) != DL_STATE_LIVE)
		FAIL_AT("online callback saw its device being removed");
	return 0;
}

static const struct dl_driver_ops slow_onl_ops = {
	.name = "slow-onl", .probe = st_probe, .remove = st_remove,
	.online = slow_online, .offline = st_offline,
};

TEST(removal_waits_for_running_online_callback)
{
	struct dl_tree *tree = mktree();
	struct drvstate so = { 0 };
	struct dl_device *d;
	struct onliner o;
	struct remover rm;
	pthread_t ot, rt;

	gate_init(&slow_out);
	ASSERT_EQ(dl_driver_register(tree, &slow_onl_ops, &so, NULL), 0);
	d = mkdev_t(tree, &type_a, NULL, "slow", true);
	o = (struct onliner){ d, 1 };
	rm = REMOVER(d, DL_REMOVE_WAIT);
	ot = spawn(online_thread, &o);
	gate_wait_entered(&slow_in, 1); /* inside the callback */
	gate_open(&slow_in);
	rt = spawn(remove_thread, &rm);
	ASSERT_TRUE(still_running(rt, 100));
	ASSERT_EQ(dl_device_state(d), DL_STATE_LIVE);
	gate_open(&slow_out);
	join(ot);
	join(rt);
	ASSERT_EQ(o.ret, 0);
	ASSERT_EQ(rm.ret, 0);
	ASSERT_EQ(dl_device_state(d), DL_STATE_DEAD);
	ASSERT_EQ(atomic_load(&so.removes), 1);
	dl_device_put(d);
	free_tree(tree);
}

/*
 * A driver's match may look other drivers up: it runs under the device
 * lock only (it used to run under the drivers lock too, and
 * dl_driver_find() from it deadlocked).
 */
static atomic_int finder_calls;

static bool finder_match(struct dl_driver *drv, struct dl_device *dev)
{
	(void)drv;
	atomic_fetch_add(&finder_calls, 1);
	/* bind only where no driver called "preferred" exists */
	return dl_driver_find(dl_device_tree(dev), "preferred") == NULL;
}

static const struct dl_driver_ops finder_ops = {
	.name = "finder", .match = finder_match,
};

TEST(match_may_find_drivers)
{
	struct dl_tree *tree = mktree();
	struct dl_driver *drv;
	struct dl_device *d;

	ASSERT_EQ(dl_driver_register(tree, &finder_ops, NULL, &drv), 0);
	d = mkdev(tree, NULL, "d");
	ASSERT_GE(atomic_load(&finder_calls), 1);
	ASSERT_EQ(dl_device_lock_held(d), 0);
	ASSERT_PTR_EQ(dl_device_driver(d), drv);
	dl_device_put(d);
	free_tree(tree);
}

TEST_MAIN(register_find, match_by_type_and_fn, autoprobe_on_add,
	  probe_failure_leaves_unbound, bind_unbind_errors,
	  probe_adds_children_autoprobe, probe_adds_children_bind_unbind,
	  unregister_unbinds_all, unregister_waits_for_probe_in_flight,
	  online_offline, online_refused_once_removal_started,
	  online_in_flight_when_removal_starts,
	  removal_waits_for_running_online_callback, match_may_find_drivers)
