/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The registry: publication, lookup by name, name rules.
 */
#include <urcu-bp.h>

#include "testutil.h"

TEST(add_lookup)
{
	struct dl_tree *tree = mktree();
	struct dl_device *a = mkdev(tree, NULL, "a");
	struct dl_device *b = mkdev(tree, NULL, "b");
	struct dl_device *c = mkdev(tree, a, "a.c");
	struct dl_device *d;

	ASSERT_EQ(dl_device_lookup(tree, "a", &d), 0);
	ASSERT_PTR_EQ(d, a);
	dl_device_put(d);
	ASSERT_EQ(dl_device_lookup(tree, "b", &d), 0);
	ASSERT_PTR_EQ(d, b);
	dl_device_put(d);
	/* one flat namespace: children are found by name too */
	ASSERT_EQ(dl_device_lookup(tree, "a.c", &d), 0);
	ASSERT_PTR_EQ(d, c);
	ASSERT_PTR_EQ(dl_device_parent(d), a);
	ASSERT_PTR_EQ(dl_device_tree(d), tree);
	ASSERT_STREQ(dl_device_name(d), "a.c");
	dl_device_put(d);

	d = (struct dl_device *)0x1;
	ASSERT_EQ(dl_device_lookup(tree, "nope", &d), -ENOENT);
	ASSERT_EQ(dl_device_lookup(tree, "", &d), -ENOENT);
	ASSERT_PTR_EQ(d, (struct dl_device *)0x1); /* untouched on failure */
	ASSERT_EQ(dl_device_lookup(NULL, "a", &d), -EINVAL);
	ASSERT_EQ(dl_device_lookup(tree, NULL, &d), -EINVAL);
	ASSERT_EQ(dl_device_lookup(tree, "a", NULL), -EINVAL);

	ASSERT_NE(dl_device_id(a), dl_device_id(b));
	ASSERT_NE(dl_device_id(a), 0);
	ASSERT_EQ(get_stats(tree).devices_live, 3);
	ASSERT_EQ(get_stats(tree).adds, 3);
	dl_device_put(a);
	dl_device_put(b);
	dl_device_put(c);
	free_tree(tree);
}

TEST(duplicate_name)
{
	struct dl_tree *tree = mktree();
	struct dl_device *a = mkdev(tree, NULL, "dup");
	struct dl_device *a2, *d;

	ASSERT_EQ(dl_device_new(tree, &test_type, "dup", 0, &a2), 0);
	ASSERT_EQ(dl_device_add(a2, NULL), -EEXIST);
	ASSERT_EQ(dl_device_state(a2), DL_STATE_NEW);
	ASSERT_EQ(dl_device_enter(a2), -ENODEV);
	/* as a child too: names are tree-wide */
	ASSERT_EQ(dl_device_add(a2, a), -EEXIST);
	ASSERT_EQ(dl_device_state(a2), DL_STATE_NEW);
	ASSERT_EQ(dl_device_lookup(tree, "dup", &d), 0);
	ASSERT_PTR_EQ(d, a);
	dl_device_put(d);
	ASSERT_EQ(get_stats(tree).devices_live, 1);
	dl_device_put(a2); /* a failed add leaves it to the caller */

	/* a removed device's name can be reused */
	ASSERT_EQ(dl_device_remove(a, DL_REMOVE_WAIT, DL_NO_TIMEOUT), 0);
	ASSERT_EQ(dl_device_new(tree, &test_type, "dup", 0, &a2), 0);
	ASSERT_EQ(dl_device_add(a2, NULL), 0);
	ASSERT_EQ(dl_device_lookup(tree, "dup", &d), 0);
	ASSERT_PTR_EQ(d, a2);
	dl_device_put(d);
	/* adding twice is refused */
	ASSERT_EQ(dl_device_add(a2, NULL), -EINVAL);
	/* a DEAD device cannot come back */
	ASSERT_EQ(dl_device_add(a, NULL), -EINVAL);
	dl_device_put(a);
	dl_device_put(a2);
	free_tree(tree);
}

TEST(duplicate_while_removing)
{
	struct dl_tree *tree = mktree();
	struct dl_device *a = mkdev(tree, NULL, "busy-name");
	struct dl_device *a2, *d;
	struct remover rm = REMOVER(a, DL_REMOVE_WAIT);
	pthread_t t;

	pause_arm(0, "remove:drained", a);
	t = spawn(remove_thread, &rm);
	pause_wait(0);
	ASSERT_EQ(dl_device_state(a), DL_STATE_REMOVING);
	ASSERT_EQ(dl_device_lookup(tree, "busy-name", &d), -ENOENT);
	ASSERT_EQ(dl_device_new(tree, &test_type, "busy-name", 0, &a2), 0);
	ASSERT_EQ(dl_device_add(a2, NULL), -EEXIST);
	ASSERT_EQ(dl_device_state(a2), DL_STATE_NEW);
	pause_release(0);
	join(t);
	ASSERT_EQ(rm.ret, 0);
	ASSERT_EQ(dl_device_state(a), DL_STATE_DEAD);
	/* now the name is free */
	ASSERT_EQ(dl_device_add(a2, NULL), 0);
	ASSERT_EQ(dl_device_lookup(tree, "busy-name", &d), 0);
	ASSERT_PTR_EQ(d, a2);
	dl_device_put(d);
	dl_device_put(a);
	dl_device_put(a2);
	free_tree(tree);
}

struct lookup_arg {
	struct dl_tree *tree;
	int ret;
	struct dl_device *dev;
};

static void *lookup_thread(void *arg)
{
	struct lookup_arg *la = arg;
	struct dl_device *d = NULL;

	la->ret = dl_device_lookup(la->tree, "removing", &d);
	if (la->ret == 0) {
		la->dev = d;
		dl_device_put(d);
	}
	return NULL;
}

TEST(lookup_only_live)
{
	struct dl_tree *tree = mktree();
	struct dl_device *n, *r = mkdev(tree, NULL, "removing");
	struct dl_device *d;
	struct remover rm = REMOVER(r, DL_REMOVE_WAIT);
	pthread_t t;

	/* NEW */
	ASSERT_EQ(dl_device_new(tree, &test_type, "new", 0, &n), 0);
	ASSERT_EQ(dl_device_lookup(tree, "new", &d), -ENOENT);

	/* REMOVING, at each stage of the removal */
	static const char *const stages[] = {
		"remove:won", "remove:unpublished", "remove:deactivated",
		"remove:drained", "remove:children-gone",
		"remove:driver-remove",
	};
	for (size_t i = 0; i < sizeof(stages) / sizeof(stages[0]); i++) {
		struct dl_device *x;
		char name[32];

		snprintf(name, sizeof(name), "stage%zu", i);
		x = mkdev(tree, NULL, name);
		rm = REMOVER(x, DL_REMOVE_WAIT);
		pause_arm(0, stages[i], x);
		t = spawn(remove_thread, &rm);
		pause_wait(0);
		ASSERT_EQ(dl_device_state(x), DL_STATE_REMOVING);
		if (i > 0) /* "won" is before unpublishing */
			ASSERT_EQ(dl_device_lookup(tree, name, &d), -ENOENT);
		pause_release(0);
		join(t);
		ASSERT_EQ(rm.ret, 0);
		/* DEAD */
		ASSERT_EQ(dl_device_lookup(tree, name, &d), -ENOENT);
		dl_device_put(x);
	}

	/* a lookup that found the node before removal started must not
	 * return it once removal has unpublished it */
	rm = REMOVER(r, DL_REMOVE_WAIT);
	pause_arm(1, "lookup:found", r);
	struct lookup_arg la = { tree, 1, NULL };
	pthread_t lt = spawn(lookup_thread, &la);

	pause_wait(1);
	t = spawn(remove_thread, &rm);
	join(t);
	ASSERT_EQ(rm.ret, 0);
	pause_release(1);
	join(lt);
	ASSERT_EQ(la.ret, -ENOENT);
	ASSERT_PTR_EQ(la.dev, NULL);
	dl_device_put(r);
	dl_device_put(n);
	free_tree(tree);
}

static atomic_int releases;

static void count_release(struct dl_device *dev)
{
	(void)dev;
	atomic_fetch_add(&releases, 1);
}

static const struct dl_device_type rel_type = { .name = "rel",
						.release = count_release };

static struct dl_tree *last_put_tree;

static void *lookup_last(void *arg)
{
	struct dl_device *d = NULL;
	int *ret = arg;

	*ret = dl_device_lookup(last_put_tree, "last", &d);
	if (*ret == 0)
		dl_device_put(d);
	return NULL;
}

TEST(lookup_races_last_put)
{
	struct dl_tree *tree = mktree();
	struct dl_device *dev;
	pthread_t lt;
	int ret = 1;

	last_put_tree = tree;
	ASSERT_EQ(dl_device_new(tree, &rel_type, "last", 0, &dev), 0);
	ASSERT_EQ(dl_device_add(dev, NULL), 0);
	pause_arm(0, "lookup:found", dev);
	lt = spawn(lookup_last, &ret);
	pause_wait(0);
	/* the lookup holds the node (inside RCU) but no reference yet */
	ASSERT_EQ(dl_device_remove(dev, DL_REMOVE_WAIT, DL_NO_TIMEOUT), 0);
	dl_device_put(dev); /* the last reference */
	ASSERT_EQ(atomic_load(&dev->refcount), 0);
	pause_release(0);
	join(lt);
	ASSERT_EQ(ret, -ENOENT); /* never resurrected */
	urcu_bp_barrier();
	ASSERT_EQ(atomic_load(&releases), 1);
	free_tree(tree);
}

/* Threads the library never saw being born. */
#define FOREIGN_DEVS 100

static struct dl_tree *foreign_tree;
static atomic_int foreign_ok;

static void *foreign_lookups(void *arg)
{
	unsigned int seed = (unsigned int)(uintptr_t)arg;
	int n = TU_SCALE(20000);

	for (int i = 0; i < n; i++) {
		char name[16];
		struct dl_device *d;
		int k = (int)(rand_r(&seed) % FOREIGN_DEVS);

		snprintf(name, sizeof(name), "f%d", k);
		if (dl_device_lookup(foreign_tree, name, &d) != 0)
			FAIL_AT("lookup of %s failed", name);
		if (strcmp(dl_device_name(d), name) != 0)
			FAIL_AT("lookup of %s found %s", name,
				dl_device_name(d));
		dl_device_put(d);
		if (dl_device_lookup(foreign_tree, "absent", &d) != -ENOENT)
			FAIL_AT("found a device never added");
	}
	atomic_fetch_add(&foreign_ok, 1);
	return NULL;
}

TEST(lookup_from_foreign_threads)
{
	struct dl_tree *tree = mktree();
	struct dl_device *devs[FOREIGN_DEVS];
	pthread_t t[6];

	foreign_tree = tree;
	for (int i = 0; i < FOREIGN_DEVS; i++) {
		char name[16];

		snprintf(name, sizeof(name), "f%d", i);
		devs[i] = mkdev(tree, NULL, name);
	}
	for (int i = 0; i < 6; i++)
		t[i] = spawn(foreign_lookups, (void *)(uintptr_t)(i + 1));
	for (int i = 0; i < 6; i++)
		join(t[i]);
	ASSERT_EQ(atomic_load(&foreign_ok), 6);
	for (int i = 0; i < FOREIGN_DEVS; i++) {
		ASSERT_EQ(atomic_load(&devs[i]->refcount), 2);
		dl_device_put(devs[i]);
	}
	free_tree(tree);
}

TEST(many_devices)
{
	enum { N = 10000 };
	struct dl_tree *tree = mktree();
	struct dl_device **devs = calloc(N, sizeof(*devs));
	struct dl_tree_stats st;

	ASSERT_TRUE(devs);
	for (int i = 0; i < N; i++) {
		char name[16];

		snprintf(name, sizeof(name), "d%05d", i);
		devs[i] = mkdev(tree, NULL, name);
	}
	st = get_stats(tree);
	ASSERT_EQ(st.devices_live, N);
	ASSERT_EQ(st.adds, N);
	ASSERT_EQ(st.devices_allocated, N);
	for (int i = N - 1; i >= 0; i--) {
		char name[16];
		struct dl_device *d;

		snprintf(name, sizeof(name), "d%05d", i);
		ASSERT_EQ(dl_device_lookup(tree, name, &d), 0);
		ASSERT_PTR_EQ(d, devs[i]);
		dl_device_put(d);
	}
	/* remove every other one, check both halves */
	for (int i = 0; i < N; i += 2)
		ASSERT_EQ(dl_device_remove(devs[i], DL_REMOVE_WAIT,
					   DL_NO_TIMEOUT),
			  0);
	for (int i = 0; i < N; i++) {
		char name[16];
		struct dl_device *d;

		snprintf(name, sizeof(name), "d%05d", i);
		if (i % 2 == 0) {
			ASSERT_EQ(dl_device_lookup(tree, name, &d), -ENOENT);
		} else {
			ASSERT_EQ(dl_device_lookup(tree, name, &d), 0);
			ASSERT_PTR_EQ(d, devs[i]);
			dl_device_put(d);
		}
	}
	for (int i = 1; i < N; i += 2)
		ASSERT_EQ(dl_device_remove(devs[i], DL_REMOVE_TRY, 0), 0);
	st = get_stats(tree);
	ASSERT_EQ(st.devices_live, 0);
	ASSERT_EQ(st.removes, N);
	for (int i = 0; i < N; i++)
		dl_device_put(devs[i]);
	urcu_bp_barrier();
	ASSERT_EQ(get_stats(tree).devices_allocated, 0);
	free(devs);
	free_tree(tree);
}

TEST(invalid_names)
{
	struct dl_tree *tree = mktree();
	struct dl_device *d = (struct dl_device *)0x1;
	char long_name[DL_NAME_MAX + 2];
	static const char *const bad[] = {
		"", "a/b", "/", "a b", " ", "tab\there", "nl\n", "\x7f",
		"caf\xc3\xa9",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (dl_device_new(tree, &test_type, bad[i], 0, &d) != -EINVAL)
			FAIL_AT("name \"%s\" was accepted", bad[i]);
	}
	memset(long_name, 'x', DL_NAME_MAX + 1);
	long_name[DL_NAME_MAX + 1] = '\0';
	ASSERT_EQ(dl_device_new(tree, &test_type, long_name, 0, &d), -EINVAL);
	ASSERT_EQ(dl_device_new(tree, &test_type, NULL, 0, &d), -EINVAL);
	ASSERT_EQ(dl_device_new(NULL, &test_type, "x", 0, &d), -EINVAL);
	ASSERT_EQ(dl_device_new(tree, NULL, "x", 0, &d), -EINVAL);
	ASSERT_EQ(dl_device_new(tree, &test_type, "x", 0, NULL), -EINVAL);
	ASSERT_PTR_EQ(d, (struct dl_device *)0x1);
	ASSERT_EQ(get_stats(tree).devices_allocated, 0);

	/* the longest valid name */
	long_name[DL_NAME_MAX] = '\0';
	ASSERT_EQ(dl_device_new(tree, &test_type, long_name, 0, &d), 0);
	ASSERT_EQ(dl_device_add(d, NULL), 0);
	ASSERT_STREQ(dl_device_name(d), long_name);
	ASSERT_TRUE(findable(tree, d));
	dl_device_put(d);
	/* punctuation that sysfs names use */
	d = mkdev(tree, NULL, "0000:00:1f.3-mdev_9b1a:x@y");
	dl_device_put(d);
	free_tree(tree);
}

TEST(priv_area)
{
	struct dl_tree *tree = mktree();
	struct dl_device *d, *e;
	unsigned char *p;

	ASSERT_EQ(dl_device_new(tree, &test_type, "p", 100, &d), 0);
	p = dl_device_priv(d);
	ASSERT_TRUE(p != NULL);
	ASSERT_EQ(((uintptr_t)p) % 16, 0);
	for (int i = 0; i < 100; i++)
		ASSERT_EQ(p[i], 0);
	memset(p, 0xab, 100); /* ASan checks the bounds */
	ASSERT_EQ(dl_device_new(tree, &test_type, "q", 0, &e), 0);
	ASSERT_PTR_EQ(dl_device_priv(e), NULL);
	ASSERT_PTR_EQ(dl_device_type(d), &test_type);
	dl_device_put(d);
	dl_device_put(e);
	free_tree(tree);
}

/*
 * The registry keeps a bucket per device or more (tree.c's resizer),
 * while lookups of what is already there keep finding it; removing the
 * devices lets the size asked for fall again; dl_tree_free() stops the
 * helper thread.
 */
static atomic_int added;
static atomic_bool adding_done;
static atomic_long lookups_done;

static void *lookup_added(void *arg)
{
	struct dl_tree *tree = arg;
	unsigned int seed = 1;

	while (!atomic_load(&adding_done)) {
		int n = atomic_load(&added);
		char name[16];
		struct dl_device *d;

		if (n == 0)
			continue;
		snprintf(name, sizeof(name), "r%06d", rand_r(&seed) % n);
		ASSERT_EQ(dl_device_lookup(tree, name, &d), 0);
		dl_device_put(d);
		atomic_fetch_add(&lookups_done, 1);
	}
	return NULL;
}

TEST(registry_grows_under_lookups)
{
	int n = TU_SCALE(40000);
	struct dl_tree *tree = mktree();
	struct dl_device **devs = calloc((size_t)n, sizeof(*devs));
	pthread_t t;
	int waited = 0;

	ASSERT_TRUE(devs);
	ASSERT_EQ(atomic_load(&tree->reg_buckets), 64);
	t = spawn(lookup_added, tree);
	for (int i = 0; i < n; i++) {
		char name[16];

		snprintf(name, sizeof(name), "r%06d", i);
		devs[i] = mkdev(tree, NULL, name);
		atomic_store(&added, i + 1);
	}
	/* the resizer catches up with the count, asking for twice it */
	while (atomic_load(&tree->reg_buckets) < (unsigned long)n &&
	       waited++ < 1000)
		usleep(10000);
	ASSERT_GE(atomic_load(&tree->reg_buckets), (unsigned long)n);
	ASSERT_TRUE(tree->resizer_started);
	atomic_store(&adding_done, true);
	join(t);
	ASSERT_GT(atomic_load(&lookups_done), 0);
	for (int i = 0; i < n; i++) {
		ASSERT_EQ(dl_device_remove(devs[i], DL_REMOVE_TRY, 0), 0);
		dl_device_put(devs[i]);
	}
	ASSERT_EQ(tree->nregistered, 0);
	ASSERT_EQ(atomic_load(&tree->reg_buckets), 64);
	free(devs);
	free_tree(tree);
}

TEST_MAIN(add_lookup, duplicate_name, duplicate_while_removing,
	  lookup_only_live, lookup_races_last_put, lookup_from_foreign_threads,
	  many_devices, invalid_names, priv_area,
	  registry_grows_under_lookups)
