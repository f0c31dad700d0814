/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fault injection (docs/reliability.md):
 *
 *  - allocation failure at every allocation site of the PCI layer's add,
 *    remove and probe paths: a counting allocator hook (this program is
 *    linked with -Wl,--wrap=malloc,... so every allocation of the core
 *    and the PCI layer, in any thread, goes through __wrap_malloc()
 *    below), which fails the kth one for k = 1, 2, ... until the
 *    operation makes no more. Each operation must return 0 or a clean
 *    error, leave every device either gone or LIVE and usable, break no
 *    invariant of the sample drivers, leak nothing, and succeed once
 *    allocations work again;
 *  - driver callbacks failing at each step (a probe that adds children
 *    and fails after the kth, online and offline failing);
 *  - a claimant that never releases: the deadline gives -ETIMEDOUT at
 *    every depth, in wait and surprise mode, with users and pending
 *    work, and the rollback leaves the whole subtree usable.
 *
 * The daemon killed with SIGKILL and restarted is tests/fs/test-restart.sh.
 */
#include <stdatomic.h>

#include <urcu-bp.h>

#include "core.h"
#include "core/testutil.h"
#include "mdev.h"
#include "pci.h"
#include "platform.h"
#include "topology.h"

/* ------------------------------------------------------------------ */
/* The counting allocator hook                                         */

void *__real_malloc(size_t size);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t size);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t size);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);

static atomic_long fail_after;  /* 0: never; n: the nth call fails */
static atomic_long alloc_calls; /* allocations attempted while counting */
static atomic_long alloc_failed;

static bool should_fail(void)
{
	long n;

	atomic_fetch_add(&alloc_calls, 1);
	n = atomic_load(&fail_after);
	while (n > 0) {
		if (atomic_compare_exchange_weak(&fail_after, &n, n - 1)) {
			if (n == 1)
				atomic_fetch_add(&alloc_failed, 1);
			return n == 1;
		}
	}
	return false;
}

void *__wrap_malloc(size_t size)
{
	return should_fail() ? NULL : __real_malloc(size);
}

void *__wrap_calloc(size_t n, size_t size)
{
	return should_fail() ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t size)
{
	return should_fail() ? NULL : __real_realloc(p, size);
}

char *__wrap_strdup(const char *s)
{
	return should_fail() ? NULL : __real_strdup(s);
}

char *__wrap_strndup(const char *s, size_t n)
{
	return should_fail() ? NULL : __real_strndup(s, n);
}

static void fail_alloc_after(long k)
{
	atomic_store(&fail_after, k);
}

#define DIAG(...)                                                              \
	do {                                                                   \
		printf("# " __VA_ARGS__);                                      \
		putchar('\n');                                                 \
	} while (0)

/* ------------------------------------------------------------------ */
/* A platform with each kind of path                                   */

/*
 * A root port with an SR-IOV PF whose driver enables 4 VFs in probe
 * (children added from probe, removed from remove), an mdev parent, a
 * virtio function, and a device whose probe fails.
 */
static const char topo[] =
	"0000:00:00.0 vendor=0x8086 device=0x29c0 class=0x060000\n"
	"0000:00:01.0 type=rootport vendor=0x8086 device=0x3420 secbus=01 "
	"subbus=01\n"
	"0000:01:00.0 vendor=0x8086 device=0x10fb class=0x020000 bar0=512K,64 "
	"sriov=8,offset=0x80,stride=2,vfdev=0x10ed vfbar0=16K,64,pref "
	"driver=sriov-pf probe_vfs=4\n"
	"0000:00:02.0 vendor=0x8086 device=0x3e92 class=0x030000 bar0=16M "
	"driver=mdev-parent mdev_types=vgpu:4\n"
	"0000:00:03.0 vendor=0x1af4 device=0x1041 class=0x020000 bar1=4K\n"
	"0000:00:06.0 vendor=0x1b36 device=0x0005 class=0x00ff00 bar0=4K "
	"driver=faulty probe_errno=5\n";

struct fixture {
	struct dl_tree *tree;
	struct dl_pci_platform *plat;
};

static struct fixture setup(void)
{
	struct dl_pci_error err = { 0, "" };
	struct dl_pci_desc *d;
	struct fixture fx;

	ASSERT_EQ(dl_tree_new(&fx.tree), 0);
	if (dl_pci_desc_parse_topology(topo, strlen(topo), "t", &err, &d) < 0)
		FAIL_AT("%s", err.msg);
	if (dl_pci_platform_new(fx.tree, d, &err, &fx.plat) < 0)
		FAIL_AT("platform: %s", err.msg);
	return fx;
}

static void check_violations(struct fixture *fx)
{
	struct dl_pci_platform_stats st;

	ASSERT_EQ(dl_pci_platform_get_stats(fx->plat, &st), 0);
	ASSERT_EQ(st.violations, 0);
}

static void teardown(struct fixture *fx)
{
	check_violations(fx);
	dl_pci_platform_free(fx->plat);
	dl_tree_free(fx->tree);
	for (int i = 0; i < 8; i++)
		urcu_bp_barrier();
	leak_check();
}

static struct dl_device *find(struct dl_tree *tree, const char *name)
{
	struct dl_device *dev = NULL;

	return dl_device_lookup(tree, name, &dev) == 0 ? dev : NULL;
}

static bool exists(struct dl_tree *tree, const char *name)
{
	struct dl_device *dev = find(tree, name);

	dl_device_put(dev);
	return dev != NULL;
}

/* The device is LIVE, findable and answers a config read. */
static void assert_usable(struct dl_tree *tree, const char *name)
{
	struct dl_device *dev = find(tree, name);
	uint8_t id[4];

	if (!dev)
		FAIL_AT("%s is not in the tree", name);
	ASSERT_EQ(dl_device_state(dev), DL_STATE_LIVE);
	ASSERT_EQ(dl_pci_config_read(dev, 0, id, sizeof(id)), 4);
	dl_device_put(dev);
}

static int count_vfs(struct dl_tree *tree)
{
	char name[16];
	int n = 0;

	for (int i = 0; i < 8; i++) {
		int rid = 0x0100 + 0x80 + 2 * i;

		snprintf(name, sizeof(name), "0000:%02x:%02x.%x", rid >> 8,
			 (rid >> 3) & 0x1f, rid & 7);
		n += exists(tree, name);
	}
	return n;
}

static int host(struct fixture *fx, enum dl_pci_host_event ev, const char *bdf,
		const char *const *kv)
{
	char msg[256];
	uint32_t dom;
	uint8_t bus, devfn;

	if (dl_pci_bdf_parse(bdf, strlen(bdf), &dom, &bus, &devfn) < 0)
		FAIL_AT("bad address %s", bdf);
	return dl_pci_platform_host(fx->plat, ev, dom, bus, devfn, kv, msg,
				    sizeof(msg));
}

static int present(struct fixture *fx, const char *bdf)
{
	uint32_t dom;
	uint8_t bus, devfn;

	ASSERT_EQ(dl_pci_bdf_parse(bdf, strlen(bdf), &dom, &bus, &devfn), 0);
	return dl_pci_platform_present(fx->plat, dom, bus, devfn);
}

/*
 * Run op with the kth allocation failing, for every k the successful op
 * makes; check() judges each outcome, reset() restores the starting
 * point. Returns how many runs failed cleanly.
 */
struct alloc_walk {
	const char *what;
	int (*op)(struct fixture *fx);
	/* r is op's result; k the failing allocation (0: none failed) */
	void (*check)(struct fixture *fx, int r, long k);
	void (*reset)(struct fixture *fx);
};

static void walk_allocs(struct fixture *fx, const struct alloc_walk *w)
{
	long c0, n, refused = 0;
	int r;

	/* Once without failures: how many allocations it makes. */
	c0 = atomic_load(&alloc_calls);
	r = w->op(fx);
	n = atomic_load(&alloc_calls) - c0;
	ASSERT_EQ(r, 0);
	w->check(fx, r, 0);
	w->reset(fx);
	ASSERT_GT(n, 0);
	for (long k = 1; k <= n + 1; k++) {
		long failed0 = atomic_load(&alloc_failed);

		fail_alloc_after(k);
		r = w->op(fx);
		fail_alloc_after(0);
		if (atomic_load(&alloc_failed) == failed0) {
			/* this run made fewer allocations: nothing failed */
			ASSERT_EQ(r, 0);
		} else if (r != 0) {
			refused++;
		}
		w->check(fx, r, k);
		check_violations(fx);
		w->reset(fx);
	}
	DIAG("%s: %ld allocations, each failed once: %ld refused, the others "
	     "absorbed (retried or not needed)",
	     w->what, n, refused);
}

/* --- host add: new hardware, added and probed --- */

static const char *const add_kv[] = { "vendor=0x1af4", "device=0x1042",
				      "class=0x010000", "bar1=4K", NULL };

static int op_add(struct fixture *fx)
{
	return host(fx, DL_PCI_HOST_ADD, "0000:00:04.0", add_kv);
}

static void check_add(struct fixture *fx, int r, long k)
{
	if (r == 0) {
		assert_usable(fx->tree, "0000:00:04.0");
		return;
	}
	if (r != -ENOMEM)
		FAIL_AT("host add with allocation %ld failing: %d", k, r);
	ASSERT_FALSE(exists(fx->tree, "0000:00:04.0"));
	if (present(fx, "0000:00:04.0") == 1) {
		/* the hardware went in, the OS could not add it (as
		 * documented: "in the hardware but cannot be added"); a
		 * rescan finds it, as on Linux */
		ASSERT_EQ(op_add(fx), -EEXIST);
		ASSERT_EQ(dl_pci_platform_rescan(fx->plat, NULL), 1);
	} else {
		/* refused before the hardware changed: try again */
		ASSERT_EQ(op_add(fx), 0);
	}
	assert_usable(fx->tree, "0000:00:04.0");
}

static void reset_add(struct fixture *fx)
{
	ASSERT_EQ(host(fx, DL_PCI_HOST_EJECT, "0000:00:04.0", NULL), 0);
	ASSERT_FALSE(exists(fx->tree, "0000:00:04.0"));
}

TEST(alloc_failure_host_add)
{
	struct fixture fx = setup();
	static const struct alloc_walk w = { "host add", op_add, check_add,
					     reset_add };

	walk_allocs(&fx, &w);
	teardown(&fx);
}

/* --- host eject of a PF whose driver removes 4 VFs from remove --- */

static int op_eject(struct fixture *fx)
{
	return host(fx, DL_PCI_HOST_EJECT, "0000:01:00.0", NULL);
}

static void check_eject(struct fixture *fx, int r, long k)
{
	if (r == 0) {
		ASSERT_FALSE(exists(fx->tree, "0000:01:00.0"));
		ASSERT_EQ(count_vfs(fx->tree), 0);
		return;
	}
	if (r != -ENOMEM)
		FAIL_AT("host eject with allocation %ld failing: %d", k, r);
	/* refused before it committed: the PF and its VFs are intact */
	assert_usable(fx->tree, "0000:01:00.0");
	ASSERT_EQ(count_vfs(fx->tree), 4);
	ASSERT_EQ(op_eject(fx), 0);
	ASSERT_FALSE(exists(fx->tree, "0000:01:00.0"));
}

static const char *const pf_kv[] = {
	"vendor=0x8086", "device=0x10fb", "class=0x020000", "bar0=512K,64",
	"sriov=8,offset=0x80,stride=2,vfdev=0x10ed", "vfbar0=16K,64,pref",
	"driver=sriov-pf", "probe_vfs=4", NULL
};

static void reset_eject(struct fixture *fx)
{
	/* the hardware comes back */
	ASSERT_EQ(host(fx, DL_PCI_HOST_ADD, "0000:01:00.0", pf_kv), 0);
	assert_usable(fx->tree, "0000:01:00.0");
	ASSERT_EQ(count_vfs(fx->tree), 4);
}

TEST(alloc_failure_host_eject)
{
	struct fixture fx = setup();
	static const struct alloc_walk w = { "host eject (PF, 4 VFs)",
					     op_eject, check_eject,
					     reset_eject };

	ASSERT_EQ(count_vfs(fx.tree), 4);
	walk_allocs(&fx, &w);
	teardown(&fx);
}

/* --- a PF added by a rescan: add, probe, 4 VFs added from probe --- */

static int op_rescan(struct fixture *fx)
{
	int r = dl_pci_platform_rescan(fx->plat, NULL);

	return r > 0 ? 0 : r;
}

static void check_rescan(struct fixture *fx, int r, long k)
{
	struct dl_device *pf;

	if (r != 0 && r != -ENOMEM)
		FAIL_AT("rescan with allocation %ld failing: %d", k, r);
	pf = find(fx->tree, "0000:01:00.0");
	if (pf) {
		/* added: whatever its probe did, it is usable, and its VFs
		 * are there exactly when its driver is bound */
		assert_usable(fx->tree, "0000:01:00.0");
		ASSERT_EQ(count_vfs(fx->tree),
			  dl_device_driver(pf) ? 4 : 0);
		dl_device_put(pf);
	}
	/* then a rescan that works brings everything */
	ASSERT_GE(dl_pci_platform_rescan(fx->plat, NULL), 0);
	assert_usable(fx->tree, "0000:01:00.0");
	pf = find(fx->tree, "0000:01:00.0");
	if (!dl_device_driver(pf))
		ASSERT_EQ(dl_device_bind(pf, NULL), 0);
	dl_device_put(pf);
	ASSERT_EQ(count_vfs(fx->tree), 4);
}

static void reset_rescan(struct fixture *fx)
{
	/* as sysfs `remove`: out of the tree, the hardware stays */
	struct dl_device *pf = find(fx->tree, "0000:01:00.0");

	ASSERT_TRUE(pf);
	ASSERT_EQ(dl_device_remove(pf, DL_REMOVE_WAIT, DL_NO_TIMEOUT), 0);
	dl_device_put(pf);
	ASSERT_EQ(count_vfs(fx->tree), 0);
}

TEST(alloc_failure_rescan_probe_adds_vfs)
{
	struct fixture fx = setup();
	static const struct alloc_walk w = { "rescan (PF probe adds 4 VFs)",
					     op_rescan, check_rescan,
					     reset_rescan };

	reset_rescan(&fx);
	walk_allocs(&fx, &w);
	teardown(&fx);
}

/* --- sriov_numvfs: VFs added and probed under the PF's device lock --- */

static int op_numvfs(struct fixture *fx)
{
	struct dl_device *pf = find(fx->tree, "0000:01:00.0");
	int r;

	ASSERT_TRUE(pf);
	ASSERT_EQ(dl_device_enter(pf), 0); /* as the sysfs handler */
	r = dl_pci_platform_sriov_numvfs(fx->plat, pf, 8);
	dl_device_exit(pf);
	dl_device_put(pf);
	return r;
}

static void check_numvfs(struct fixture *fx, int r, long k)
{
	if (r == 0) {
		ASSERT_EQ(count_vfs(fx->tree), 8);
		return;
	}
	if (r != -ENOMEM)
		FAIL_AT("sriov_numvfs with allocation %ld failing: %d", k, r);
	/* all or nothing: no VF half-enabled, the PF usable */
	ASSERT_EQ(count_vfs(fx->tree), 0);
	assert_usable(fx->tree, "0000:01:00.0");
	ASSERT_EQ(op_numvfs(fx), 0);
	ASSERT_EQ(count_vfs(fx->tree), 8);
}

static void reset_numvfs(struct fixture *fx)
{
	struct dl_device *pf = find(fx->tree, "0000:01:00.0");

	ASSERT_EQ(dl_device_enter(pf), 0);
	ASSERT_EQ(dl_pci_platform_sriov_numvfs(fx->plat, pf, 0), 0);
	dl_device_exit(pf);
	dl_device_put(pf);
	ASSERT_EQ(count_vfs(fx->tree), 0);
}

TEST(alloc_failure_sriov_numvfs)
{
	struct fixture fx = setup();
	static const struct alloc_walk w = { "sriov_numvfs 0 -> 8",
					     op_numvfs, check_numvfs,
					     reset_numvfs };

	reset_numvfs(&fx);
	walk_allocs(&fx, &w);
	teardown(&fx);
}

/* --- mdev create: a child added under its parent --- */

#define UUID "c0ffee00-1234-5678-9abc-def012345678"

static int op_mdev(struct fixture *fx)
{
	struct dl_device *gpu = find(fx->tree, "0000:00:02.0");
	int r;

	ASSERT_TRUE(gpu);
	ASSERT_EQ(dl_device_enter(gpu), 0);
	r = dl_mdev_create(gpu, 0, UUID, strlen(UUID), NULL);
	dl_device_exit(gpu);
	dl_device_put(gpu);
	return r;
}

static void check_mdev(struct fixture *fx, int r, long k)
{
	if (r == 0) {
		ASSERT_TRUE(exists(fx->tree, UUID));
		return;
	}
	if (r != -ENOMEM)
		FAIL_AT("mdev create with allocation %ld failing: %d", k, r);
	ASSERT_FALSE(exists(fx->tree, UUID));
	ASSERT_EQ(op_mdev(fx), 0);
}

static void reset_mdev(struct fixture *fx)
{
	struct dl_device *m = find(fx->tree, UUID);

	ASSERT_TRUE(m);
	ASSERT_EQ(dl_device_remove(m, DL_REMOVE_WAIT, DL_NO_TIMEOUT), 0);
	dl_device_put(m);
}

TEST(alloc_failure_mdev_create)
{
	struct fixture fx = setup();
	static const struct alloc_walk w = { "mdev create", op_mdev,
					     check_mdev, reset_mdev };

	walk_allocs(&fx, &w);
	teardown(&fx);
}

/* --- the whole machine: parse, add every function, probe --- */

TEST(alloc_failure_platform_new)
{
	struct dl_pci_error err = { 0, "" };
	struct dl_pci_platform *plat;
	struct dl_pci_desc *d;
	struct dl_tree *tree;
	struct dl_tree_stats st;
	long c0, n, refused = 0;
	int r;

	ASSERT_EQ(dl_tree_new(&tree), 0);
	ASSERT_EQ(dl_pci_desc_parse_topology(topo, strlen(topo), "t", &err,
					     &d), 0);
	c0 = atomic_load(&alloc_calls);
	ASSERT_EQ(dl_pci_platform_new(tree, d, &err, &plat), 0);
	n = atomic_load(&alloc_calls) - c0;
	dl_pci_platform_free(plat);
	for (long k = 1; k <= n + 1; k++) {
		ASSERT_EQ(dl_pci_desc_parse_topology(topo, strlen(topo), "t",
						     &err, &d), 0);
		fail_alloc_after(k);
		r = dl_pci_platform_new(tree, d, &err, &plat);
		fail_alloc_after(0);
		if (r == 0) {
			ASSERT_TRUE(exists(tree, "0000:01:00.0"));
			dl_pci_platform_free(plat);
		} else {
			if (r != -ENOMEM)
				FAIL_AT("platform with allocation %ld failing: "
					"%d (%s)", k, r, err.msg);
			refused++;
			dl_pci_desc_free(d);
		}
		/* either way nothing is left in the tree */
		ASSERT_EQ(dl_tree_get_stats(tree, &st), 0);
		ASSERT_EQ(st.devices_live, 0);
		ASSERT_PTR_EQ(dl_driver_find(tree, "sriov-pf"), NULL);
	}
	DIAG("platform new (parse excluded): %ld allocations, %ld refused", n,
	     refused);
	ASSERT_GT(refused, 0);
	dl_tree_free(tree);
	for (int i = 0; i < 8; i++)
		urcu_bp_barrier();
	leak_check();
}

/* ------------------------------------------------------------------ */
/* Driver callbacks failing at each step                               */

#define KIDS 4

struct stepper {
	atomic_int fail_at;      /* probe: fail after adding this many */
	atomic_int online_err;   /* online/offline fail with this */
	atomic_int probes, removes;
};

static struct stepper stp;
static const struct dl_device_type parent_type = { .name = "parent" };
static const struct dl_device_type kid_type = { .name = "kid" };

static int remove_kid(struct dl_device *kid, void *arg)
{
	ASSERT_EQ(dl_device_remove(kid, DL_REMOVE_WAIT, DL_NO_TIMEOUT), 0);
	return 0;
}

/* Adds KIDS children, one per step; fails after fail_at of them (if
 * fail_at <= KIDS), removing what it added, as a good driver does. */
static int step_probe(struct dl_driver *drv, struct dl_device *dev)
{
	int fail_at = atomic_load(&stp.fail_at);

	atomic_fetch_add(&stp.probes, 1);
	for (int i = 0; i < KIDS; i++) {
		struct dl_device *k;
		char name[32];

		if (i == fail_at)
			goto fail;
		snprintf(name, sizeof(name), "%s.%d", dl_device_name(dev), i);
		ASSERT_EQ(dl_device_new(dl_device_tree(dev), &kid_type, name,
					0, &k), 0);
		ASSERT_EQ(dl_device_add(k, dev), 0);
		dl_device_put(k);
	}
	if (fail_at == KIDS)
		goto fail;
	return 0;
fail:
	/* From probe, under the device lock: must not deadlock. */
	ASSERT_EQ(dl_device_for_each_child(dev, remove_kid, NULL), 0);
	return -EIO;
}

static void step_remove(struct dl_driver *drv, struct dl_device *dev)
{
	atomic_fetch_add(&stp.removes, 1);
	ASSERT_EQ(dl_device_for_each_child(dev, remove_kid, NULL), 0);
}

static int step_online(struct dl_driver *drv, struct dl_device *dev)
{
	return -atomic_load(&stp.online_err);
}

static const struct dl_driver_ops step_ops = {
	.name = "stepper", .type = &parent_type, .probe = step_probe,
	.remove = step_remove, .online = step_online, .offline = step_online };

static int count_kid(struct dl_device *c, void *arg)
{
	(*(int *)arg)++;
	return 0;
}

static int nkids(struct dl_device *p)
{
	int n = 0;

	ASSERT_EQ(dl_device_for_each_child(p, count_kid, &n), 0);
	return n;
}

TEST(probe_fails_at_each_step)
{
	struct dl_tree *tree = mktree();

	ASSERT_EQ(dl_driver_register(tree, &step_ops, NULL, NULL), 0);
	for (int k = 0; k <= KIDS; k++) {
		struct dl_device *p;
		struct dl_tree_stats st;

		atomic_store(&stp.fail_at, k);
		ASSERT_EQ(dl_device_new(tree, &parent_type, "p", 0, &p), 0);
		/* the add succeeds; its probe fails after k children */
		ASSERT_EQ(dl_device_add(p, NULL), 0);
		ASSERT_PTR_EQ(dl_device_driver(p), NULL);
		ASSERT_EQ(dl_device_state(p), DL_STATE_LIVE);
		ASSERT_EQ(nkids(p), 0);
		ASSERT_TRUE(enterable(p));
		/* and it can be bound again once probing works */
		atomic_store(&stp.fail_at, KIDS + 1);
		ASSERT_EQ(dl_device_bind(p, NULL), 0);
		ASSERT_EQ(nkids(p), KIDS);
		/* online failing leaves it as it was */
		atomic_store(&stp.online_err, EIO);
		ASSERT_EQ(dl_device_online(p), -EIO);
		ASSERT_FALSE(dl_device_is_online(p));
		atomic_store(&stp.online_err, 0);
		ASSERT_EQ(dl_device_online(p), 0);
		atomic_store(&stp.online_err, EBUSY);
		ASSERT_EQ(dl_device_offline(p), -EBUSY);
		ASSERT_TRUE(dl_device_is_online(p));
		atomic_store(&stp.online_err, 0);
		ASSERT_EQ(dl_device_remove(p, DL_REMOVE_WAIT, DL_NO_TIMEOUT),
			  0);
		dl_device_put(p);
		flush_releases(tree);
		ASSERT_EQ(dl_tree_get_stats(tree, &st), 0);
		ASSERT_EQ(st.devices_live, 0);
		ASSERT_EQ(st.devices_allocated, 0);
	}
	ASSERT_EQ(atomic_load(&stp.probes), 2 * (KIDS + 1));
	ASSERT_EQ(atomic_load(&stp.removes), KIDS + 1);
	free_tree(tree);
}

/* ------------------------------------------------------------------ */
/* A claimant that never releases                                      */

struct stubborn {
	atomic_int requests;
};

static void stubborn_release(struct dl_device *dev, void *arg)
{
	atomic_fetch_add(&((struct stubborn *)arg)->requests, 1);
	/* and never calls dl_device_unclaim() */
}

struct holder {
	struct dl_device *dev;
	struct gate *g;
};

static void *enter_and_hold(void *arg)
{
	struct holder *h = arg;

	ASSERT_EQ(dl_device_enter(h->dev), 0);
	gate_pass(h->g);
	dl_device_exit(h->dev);
	return NULL;
}

static void wbody(struct dl_device *dev, void *arg)
{
	atomic_fetch_add((atomic_int *)arg, 1);
}

TEST(claimant_never_releases_at_each_depth)
{
	static const char *const names[] = { "a", "a.b", "a.b.c" };
	const unsigned int modes[] = { DL_REMOVE_WAIT, DL_REMOVE_SURPRISE };

	for (size_t m = 0; m < 2; m++) {
		for (int depth = 0; depth < 3; depth++) {
			struct dl_tree *tree = mktree();
			struct dl_device *d[3], *x;
			struct stubborn cl = { 0 };
			struct gate g = GATE_INIT;
			struct holder h;
			pthread_t t;
			atomic_int ran = 0;
			uint64_t t0;
			char owner[16];

			d[0] = mkdev(tree, NULL, names[0]);
			d[1] = mkdev(tree, d[0], names[1]);
			d[2] = mkdev(tree, d[1], names[2]);
			ASSERT_EQ(dl_device_claim(d[depth], "vm", stubborn_release,
						  &cl), 0);
			/* a user inside the leaf, who leaves at once when
			 * asked: the claim alone must make it time out */
			h = (struct holder){ d[2], &g };
			t = spawn(enter_and_hold, &h);
			gate_wait_entered(&g, 1);
			gate_open(&g);
			join(t);
			t0 = test_now_ns();
			ASSERT_EQ(dl_device_remove(d[0], modes[m], 50000000),
				  -ETIMEDOUT);
			ASSERT_GE(test_now_ns() - t0, 50000000);
			ASSERT_EQ(atomic_load(&cl.requests), 1);
			/* rolled back: everything usable */
			for (int i = 0; i < 3; i++) {
				ASSERT_EQ(dl_device_state(d[i]), DL_STATE_LIVE);
				ASSERT_TRUE(findable(tree, d[i]));
				ASSERT_TRUE(enterable(d[i]));
				ASSERT_EQ(dl_work_queue(dl_tree_workqueue(tree),
							d[i], wbody, NULL, &ran),
					  0);
			}
			ASSERT_EQ(dl_workqueue_flush(dl_tree_workqueue(tree)),
				  0);
			ASSERT_EQ(atomic_load(&ran), 3);
			x = mkdev(tree, d[2], "a.b.c.new");
			ASSERT_EQ(dl_device_claim_owner(d[depth], owner,
							sizeof(owner)),
				  1);
			ASSERT_STREQ(owner, "vm");
			/* a refused surprise takes its gone marks back: as
			 * if it never happened */
			ASSERT_FALSE(dl_device_is_gone(d[2]));
			/* the claimant lets go: now it goes */
			ASSERT_EQ(dl_device_unclaim(d[depth]), 0);
			ASSERT_EQ(dl_device_remove(d[0], modes[m],
						   DL_NO_TIMEOUT),
				  0);
			for (int i = 0; i < 3; i++) {
				ASSERT_EQ(dl_device_state(d[i]), DL_STATE_DEAD);
				dl_device_put(d[i]);
			}
			ASSERT_EQ(dl_device_state(x), DL_STATE_DEAD);
			dl_device_put(x);
			free_tree(tree);
		}
	}
}

/* ------------------------------------------------------------------ */
/* Regression (fixed in 9794001): a release callback for a claim that   */
/* was over                                                             */

struct claimant {
	atomic_int released;  /* unclaimed: its context may be freed */
	atomic_int late_calls;
};

static void careful_release(struct dl_device *dev, void *arg)
{
	struct claimant *c = arg;

	if (atomic_load(&c->released))
		atomic_fetch_add(&c->late_calls, 1);
}

/* The claimant lets go on its own exactly when the removal is about to
 * ask it (the removal has read the claim and dropped wait_lock). */
static void unclaim_on_request(struct dl_device *dev,
			       const struct dl_trace_record *rec, void *arg)
{
	struct claimant *c = arg;

	if (rec->event != DL_EV_CLAIM_REQUEST)
		return;
	ASSERT_EQ(dl_device_unclaim(dev), 0);
	atomic_store(&c->released, 1); /* a real claimant frees c now */
}

TEST(claim_request_after_unclaim)
{
	struct dl_tree *tree;
	struct dl_device *d;
	struct claimant c = { 0 };

	tree = mktree();
	d = mkdev(tree, NULL, "d");
	ASSERT_EQ(dl_device_claim(d, "vm", careful_release, &c), 0);
	ASSERT_EQ(dl_tree_watch(tree, unclaim_on_request, &c), 0);
	ASSERT_EQ(dl_device_remove(d, DL_REMOVE_WAIT, DL_NO_TIMEOUT), 0);
	/* the callback must not run for a claim that has ended */
	ASSERT_EQ(atomic_load(&c.late_calls), 0);
	dl_device_put(d);
	free_tree(tree);
}

/*
 * The claimant lets go in the window between the removal seeing its
 * claim and telling it (the pause point "remove:claim-seen"). The trace
 * must still order the request before the unclaim, and so before the
 * device's drain: watchers and `devlifectl trace` rely on that order
 * (S12's grammar found it broken about once per 200 s).
 */
static struct dl_device *seen_dev;

static void unclaim_when_seen(const char *point, struct dl_device *dev)
{
	if (strcmp(point, "remove:claim-seen") == 0 && dev == seen_dev)
		ASSERT_EQ(dl_device_unclaim(dev), 0);
}

TEST(claim_request_traced_before_unclaim)
{
	struct dl_tree *tree;
	struct dl_device *d;
	struct dl_trace_record rec[64];
	uint64_t cursor = 0, req = 0, unclaim = 0, drained = 0;
	size_t n;

	tree = mktree();
	d = mkdev(tree, NULL, "d");
	ASSERT_EQ(dl_device_claim(d, "vm", NULL, NULL), 0);
	seen_dev = d;
	dl__test_set_hook(unclaim_when_seen);
	ASSERT_EQ(dl_device_remove(d, DL_REMOVE_WAIT, DL_NO_TIMEOUT), 0);
	dl__test_set_hook(NULL);
	n = dl_trace_read(tree, &cursor, rec, 64);
	for (size_t i = 0; i < n; i++) {
		if (rec[i].dev_id != dl_device_id(d))
			continue;
		if (rec[i].event == DL_EV_CLAIM_REQUEST)
			req = rec[i].seq;
		else if (rec[i].event == DL_EV_UNCLAIM)
			unclaim = rec[i].seq;
		else if (rec[i].event == DL_EV_DRAINED)
			drained = rec[i].seq;
	}
	ASSERT_TRUE(req && unclaim && drained);
	ASSERT_LT(req, unclaim);
	ASSERT_LT(unclaim, drained);
	dl_device_put(d);
	free_tree(tree);
}

/* ------------------------------------------------------------------ */
/* Regression (fixed in 9794001): dl_device_driver() was a plain read   */
/* of a field written under the device lock (TSan reports it)           */

static atomic_bool race_stop;

static void *bind_unbind_loop(void *arg)
{
	struct dl_device *d = arg;

	while (!atomic_load(&race_stop)) {
		(void)dl_device_unbind(d);
		(void)dl_device_bind(d, NULL);
	}
	return NULL;
}

TEST(driver_snapshot_is_atomic)
{
	struct dl_tree *tree;
	struct dl_device *d;
	pthread_t t;
	long seen = 0;

	tree = mktree();
	ASSERT_EQ(dl_driver_register(tree, &step_ops, NULL, NULL), 0);
	atomic_store(&stp.fail_at, KIDS + 1);
	ASSERT_EQ(dl_device_new(tree, &parent_type, "p", 0, &d), 0);
	ASSERT_EQ(dl_device_add(d, NULL), 0);
	t = spawn(bind_unbind_loop, d);
	for (uint64_t end = test_now_ns() + 200000000; test_now_ns() < end;)
		seen += dl_device_driver(d) != NULL; /* the sysfs view does */
	atomic_store(&race_stop, true);
	join(t);
	(void)seen;
	ASSERT_EQ(dl_device_remove(d, DL_REMOVE_WAIT, DL_NO_TIMEOUT), 0);
	dl_device_put(d);
	free_tree(tree);
}

TEST_MAIN(alloc_failure_host_add, alloc_failure_host_eject,
	  alloc_failure_rescan_probe_adds_vfs, alloc_failure_sriov_numvfs,
	  alloc_failure_mdev_create, alloc_failure_platform_new,
	  probe_fails_at_each_step, claimant_never_releases_at_each_depth,
	  claim_request_after_unclaim, claim_request_traced_before_unclaim,
	  driver_snapshot_is_atomic)
