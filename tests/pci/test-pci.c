/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of PCI functions in a tree (src/pci/pci.c, instantiate.c):
 * sysfs attributes, instantiation all-or-nothing, SR-IOV VFs across bus
 * numbers, config access inside the active section (slow and surprise-
 * removed devices), VF memory, and the tree-level round trip
 * dump -> model -> dump.
 */
#include <linux/pci_regs.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <unistd.h>

#include <devlife/devlife.h>
#include <urcu-bp.h>

#include "config.h"
#include "pci-test.h"
#include "pci.h"
#include "topology.h"

#ifndef DL_PCI_TEST_DATA
#define DL_PCI_TEST_DATA "tests/pci/data"
#endif

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define UNDER_SANITIZER 1
#else
#define UNDER_SANITIZER 0
#endif

static struct dl_tree *tree_with(const char *topology, uint32_t slow_us)
{
	struct dl_pci_error err = { 0, "" };
	struct dl_pci_desc *d;
	struct dl_tree *tree;

	if (dl_tree_new(&tree) < 0)
		FAIL_AT("dl_tree_new");
	if (topology) {
		if (dl_pci_desc_parse_topology(topology, strlen(topology), "t", &err, &d) < 0)
			FAIL_AT("%s", err.msg);
	} else {
		ASSERT_OK(dl_pci_desc_default(slow_us, &d));
	}
	if (dl_pci_desc_instantiate(d, tree, &err) < 0)
		FAIL_AT("instantiate: %s", err.msg);
	dl_pci_desc_free(d);
	return tree;
}

/*
 * Free the tree, let the deferred (RCU) frees of released devices run,
 * and check that nothing leaked: a child's free drops its parent's last
 * reference and queues another free, so repeat the barrier.
 */
static void tree_done(struct dl_tree *tree)
{
	dl_tree_free(tree);
	for (int i = 0; i < 8; i++)
		urcu_bp_barrier();
	leak_check();
}

static struct dl_device *lookup(struct dl_tree *tree, const char *name)
{
	struct dl_device *dev = NULL;
	int r = dl_device_lookup(tree, name, &dev);

	if (r < 0)
		FAIL_AT("lookup %s: %s", name, strerror(-r));
	return dev;
}

static char *show(struct dl_device *dev, const char *attr)
{
	static char buf[4096];
	int a = dl_pci_attr_lookup(attr);

	if (a < 0 || dl_pci_attr_show(dev, (enum dl_pci_attr)a, buf, sizeof(buf)) < 0)
		return NULL;
	return buf;
}

static uint32_t cfg32(struct dl_device *dev, unsigned int off)
{
	uint32_t v = 0xdeadbeef;

	if (dl_pci_config_read(dev, off, &v, 4) != 4)
		return 0xdeadbeef;
	return v; /* little-endian host */
}

static uint64_t live(struct dl_tree *tree)
{
	struct dl_tree_stats st;

	dl_tree_get_stats(tree, &st);
	return st.devices_live;
}

TEST(function_attributes)
{
	struct dl_tree *tree = tree_with(
		"00:03.0 vendor=0x8086 device=0x10fb class=0x020000 rev=0x01 "
		"subvendor=0x8086 subdevice=0x000c bar0=1M,64 bar2=32,io bar3=16K,64,pref "
		"rom=64K irq=11 numa=0\n",
		0);
	struct dl_device *dev = lookup(tree, "0000:00:03.0"), *root;
	struct dl_pci_func *f = dl_pci_func_of(dev);
	char buf[8], *res, *line;
	uint8_t sec, sub;
	int n;

	ASSERT_TRUE(f);
	ASSERT_STREQ(dl_device_type(dev)->name, "pci");
	root = dl_device_parent(dev);
	ASSERT_STREQ(dl_device_name(root), "pci0000:00");
	ASSERT_TRUE(dl_pci_root_of(root) && !dl_pci_func_of(root));
	ASSERT_OK(dl_pci_bus_range(root, &sec, &sub));
	ASSERT_EQ(sec, 0);
	ASSERT_EQ(sub, 0xff);
	ASSERT_EQ(dl_pci_bus_range(dev, &sec, &sub), -ENOTDIR);

	ASSERT_STREQ(show(dev, "vendor"), "0x8086\n");
	ASSERT_STREQ(show(dev, "device"), "0x10fb\n");
	ASSERT_STREQ(show(dev, "class"), "0x020000\n");
	ASSERT_STREQ(show(dev, "revision"), "0x01\n");
	ASSERT_STREQ(show(dev, "subsystem_vendor"), "0x8086\n");
	ASSERT_STREQ(show(dev, "subsystem_device"), "0x000c\n");
	ASSERT_STREQ(show(dev, "irq"), "11\n");
	ASSERT_STREQ(show(dev, "numa_node"), "0\n");
	ASSERT_STREQ(show(dev, "modalias"),
		     "pci:v00008086d000010FBsv00008086sd0000000Cbc02sc00i00\n");
	ASSERT_TRUE(!show(dev, "sriov_numvfs"));
	ASSERT_TRUE(!dl_pci_attr_visible(dev, DL_PCI_ATTR_SRIOV_TOTALVFS));
	ASSERT_EQ(dl_pci_attr_lookup("nope"), -ENOENT);
	ASSERT_STREQ(dl_pci_attr_name(DL_PCI_ATTR_MODALIAS), "modalias");
	ASSERT_EQ(dl_pci_attr_show(dev, DL_PCI_ATTR_MODALIAS, buf, sizeof(buf)), -ENOSPC);

	/* resource: 13 lines, BARs as programmed, flags as Linux's */
	res = show(dev, "resource");
	ASSERT_TRUE(res);
	n = 0;
	for (char *p = res; *p; p++)
		n += *p == '\n';
	ASSERT_EQ(n, 13);
	line = strtok(res, "\n");
	ASSERT_STREQ(line, "0x00000000c0000000 0x00000000c00fffff 0x0000000000140204");
	ASSERT_STREQ(strtok(NULL, "\n"),
		     "0x0000000000000000 0x0000000000000000 0x0000000000000000");
	ASSERT_STREQ(strtok(NULL, "\n"),
		     "0x0000000000001000 0x000000000000101f 0x0000000000040101");
	ASSERT_STREQ(strtok(NULL, "\n"),
		     "0x0000004000000000 0x0000004000003fff 0x000000000014220c");
	strtok(NULL, "\n");
	strtok(NULL, "\n");
	ASSERT_STREQ(strtok(NULL, "\n"),
		     "0x00000000c0100000 0x00000000c010ffff 0x0000000000046200");

	/* config through the device: sizing a BAR, RO vendor */
	ASSERT_EQ(dl_pci_config_size(dev), 256);
	ASSERT_EQ(cfg32(dev, 0), 0x10fb8086);
	{
		uint32_t ones = 0xffffffff;

		ASSERT_EQ(dl_pci_config_write(dev, PCI_BASE_ADDRESS_0, &ones, 4), 4);
		ASSERT_EQ(cfg32(dev, PCI_BASE_ADDRESS_0), 0xfff00004);
		ASSERT_EQ(dl_pci_config_write(dev, 0, &ones, 4), 4);
		ASSERT_EQ(cfg32(dev, 0), 0x10fb8086);
	}
	/* reads are clamped at the config size, like pread() */
	{
		uint8_t big[4096];

		ASSERT_EQ(dl_pci_config_read(dev, 0, big, sizeof(big)), 256);
		ASSERT_EQ(dl_pci_config_read(dev, 250, big, 100), 6);
		ASSERT_EQ(dl_pci_config_read(dev, 256, big, 4), 0);
	}
	dl_device_put(dev);
	tree_done(tree);
}

TEST(default_topology_in_a_tree)
{
	struct dl_tree *tree = tree_with(NULL, 1000);
	struct dl_pci_error err = { 0, "" };
	struct dl_pci_desc *d;
	struct dl_device *dev;
	uint8_t sec, sub;

	ASSERT_EQ(live(tree), 9); /* 8 functions + pci0000:00 */
	dev = lookup(tree, "0000:00:01.0");
	ASSERT_OK(dl_pci_bus_range(dev, &sec, &sub));
	ASSERT_EQ(sec, 1);
	ASSERT_EQ(sub, 2);
	ASSERT_TRUE(dl_pci_func_of(dev)->flags & DL_PCI_F_BRIDGE);
	ASSERT_EQ(dl_pci_config_size(dev), 4096);
	dl_device_put(dev);
	dev = lookup(tree, "0000:01:00.1");
	ASSERT_STREQ(dl_device_name(dl_device_parent(dev)), "0000:00:01.0");
	ASSERT_STREQ(show(dev, "sriov_totalvfs"), "64\n");
	ASSERT_STREQ(show(dev, "sriov_numvfs"), "0\n");
	ASSERT_STREQ(show(dev, "sriov_offset"), "192\n");
	ASSERT_STREQ(show(dev, "sriov_stride"), "2\n");
	ASSERT_STREQ(show(dev, "sriov_vf_device"), "10ed\n");
	ASSERT_STREQ(show(dev, "irq"), "17\n");
	dl_device_put(dev);
	dev = lookup(tree, "0000:00:02.0");
	ASSERT_TRUE(dl_pci_func_of(dev)->flags & DL_PCI_F_MDEV_PARENT);
	ASSERT_STREQ(dl_pci_func_of(dev)->mdev_types, "i915-GVTg_V5_4:2,i915-GVTg_V5_8:4");
	dl_device_put(dev);
	dev = lookup(tree, "0000:00:05.0");
	ASSERT_EQ(atomic_load(&dl_pci_func_of(dev)->delay_us), 1000);
	dl_device_put(dev);
	/* the root port's resource file has the bridge windows */
	dev = lookup(tree, "0000:00:01.0");
	{
		char *res = show(dev, "resource"), *l = res;
		int n = 0;

		for (; *l; l++)
			n += *l == '\n';
		ASSERT_EQ(n, 17);
		ASSERT_TRUE(strstr(res, "0x0000000000001000 0x0000000000001fff 0x0000000000000101"));
		ASSERT_TRUE(strstr(res, " 0x0000000000102201\n")); /* 64-bit pref */
	}
	dl_device_put(dev);

	/* a second instantiation collides and changes nothing */
	ASSERT_OK(dl_pci_desc_default(0, &d));
	ASSERT_EQ(dl_pci_desc_instantiate(d, tree, &err), -EEXIST);
	ASSERT_TRUE(strstr(err.msg, "pci0000:00: it already exists"));
	dl_pci_desc_free(d);
	ASSERT_EQ(live(tree), 9);
	tree_done(tree);
}

TEST(instantiate_rolls_back)
{
	static const char text[] =
		"00:01.0 type=rootport vendor=0x8086 device=0x3420 secbus=1\n"
		"01:00.0 vendor=0x8086 device=0x1572 class=0x020000 bar0=4K\n"
		"0001:00:01.0 vendor=0x8086 device=0x1572 class=0x020000\n";
	struct dl_pci_error err = { 0, "" };
	struct dl_pci_desc *d;
	struct dl_tree *tree;
	struct dl_device *blocker;

	ASSERT_OK(dl_tree_new(&tree));
	/* somebody already owns the second root bus's name */
	ASSERT_OK(dl_pci_root_new(tree, 1, 0, &blocker));
	ASSERT_OK(dl_device_add(blocker, NULL));
	ASSERT_OK(dl_pci_desc_parse_topology(text, strlen(text), "t", &err, &d));
	ASSERT_EQ(dl_pci_desc_instantiate(d, tree, &err), -EEXIST);
	ASSERT_TRUE(strstr(err.msg, "t:3: cannot add root bus pci0001:00"));
	/* everything added before the failure is gone again */
	ASSERT_EQ(live(tree), 1);
	ASSERT_EQ(dl_device_lookup(tree, "0000:01:00.0", &(struct dl_device *){ NULL }),
		  -ENOENT);
	dl_pci_desc_free(d);
	dl_device_put(blocker);
	tree_done(tree);
}

static void enable_vfs(struct dl_device *pf, unsigned int n, int expect)
{
	int r;

	dl_device_lock(pf);
	r = dl_pci_sriov_set_numvfs(pf, n);
	dl_device_unlock(pf);
	ASSERT_EQ(r, expect);
}

TEST(sriov_vfs_across_buses)
{
	struct dl_tree *tree = tree_with(NULL, 0);
	struct dl_device *pf = lookup(tree, "0000:01:00.0");
	struct dl_device *pf1 = lookup(tree, "0000:01:00.1");
	struct dl_device *vf;
	struct dl_pci_func *f;
	unsigned int cap;
	uint64_t vfbar;

	enable_vfs(pf, 64, 0);
	enable_vfs(pf1, 64, 0);
	ASSERT_EQ(live(tree), 9 + 128);
	/* RID = 0x0100 + 0xc0 + 2n: VF 0 on bus 01, VF 32 first on bus 02 */
	vf = lookup(tree, "0000:01:18.0");
	f = dl_pci_func_of(vf);
	ASSERT_TRUE(f->flags & DL_PCI_F_VF);
	ASSERT_EQ(f->vf_index, 0);
	ASSERT_TRUE(f->physfn == pf);
	ASSERT_TRUE(dl_device_parent(vf) == pf);
	dl_device_put(vf);
	dl_device_put(lookup(tree, "0000:01:1f.6")); /* VF 31 */
	vf = lookup(tree, "0000:02:00.0");           /* VF 32 */
	ASSERT_EQ(dl_pci_func_of(vf)->vf_index, 32);
	/* the OS view: PF vendor, VF device ID; config says 0xffff */
	ASSERT_STREQ(show(vf, "vendor"), "0x8086\n");
	ASSERT_STREQ(show(vf, "device"), "0x10ed\n");
	ASSERT_STREQ(show(vf, "class"), "0x020000\n");
	ASSERT_STREQ(show(vf, "modalias"),
		     "pci:v00008086d000010EDsv00008086sd0000000Cbc02sc00i00\n");
	ASSERT_TRUE(!show(vf, "sriov_numvfs"));
	ASSERT_EQ(cfg32(vf, PCI_VENDOR_ID), 0xffffffff);
	ASSERT_EQ(cfg32(vf, PCI_BASE_ADDRESS_0), 0);
	/* VF BAR0 is a 16K slice of the PF's VF BAR0 */
	cap = dl_pci_func_of(pf)->sriov->cap;
	vfbar = (cfg32(pf, cap + PCI_SRIOV_BAR) & ~0xfu) |
		(uint64_t)cfg32(pf, cap + PCI_SRIOV_BAR + 4) << 32;
	{
		char want[80];

		snprintf(want, sizeof(want), "0x%016llx 0x%016llx 0x000000000014220c\n",
			 (unsigned long long)(vfbar + 32 * 16384),
			 (unsigned long long)(vfbar + 33 * 16384 - 1));
		ASSERT_TRUE(!strncmp(show(vf, "resource"), want, strlen(want)));
	}
	dl_device_put(vf);
	dl_device_put(lookup(tree, "0000:02:07.6")); /* VF 63 of PF 0 */
	dl_device_put(lookup(tree, "0000:02:07.7")); /* VF 63 of PF 1 */
	ASSERT_OK(dl_pci_sriov_get_vf(pf, 63, &vf));
	ASSERT_STREQ(dl_device_name(vf), "0000:02:07.6");
	dl_device_put(vf);
	ASSERT_EQ(dl_pci_sriov_get_vf(pf, 64, &vf), -ENOENT);

	/* the capability reflects it */
	ASSERT_STREQ(show(pf, "sriov_numvfs"), "64\n");
	ASSERT_EQ(cfg32(pf, cap + PCI_SRIOV_NUM_VF) & 0xffff, 64);
	ASSERT_EQ(cfg32(pf, cap + PCI_SRIOV_CTRL) & 0xffff,
		  PCI_SRIOV_CTRL_VFE | PCI_SRIOV_CTRL_MSE);

	enable_vfs(pf, 3, -EBUSY);
	enable_vfs(pf, 65, -ERANGE);
	enable_vfs(pf, 64, 0);
	if (dl_debug_checks_enabled())
		ASSERT_EQ(dl_pci_sriov_set_numvfs(pf, 0), -EINVAL); /* lock not held */

	enable_vfs(pf, 0, 0);
	ASSERT_EQ(live(tree), 9 + 64);
	ASSERT_EQ(dl_device_lookup(tree, "0000:01:18.0", &vf), -ENOENT);
	ASSERT_EQ(dl_device_lookup(tree, "0000:02:07.6", &vf), -ENOENT);
	ASSERT_STREQ(show(pf, "sriov_numvfs"), "0\n");
	ASSERT_EQ(cfg32(pf, cap + PCI_SRIOV_NUM_VF) & 0xffff, 0);
	ASSERT_EQ(cfg32(pf, cap + PCI_SRIOV_CTRL) & PCI_SRIOV_CTRL_VFE, 0);
	/* and again */
	enable_vfs(pf, 2, 0);
	dl_device_put(lookup(tree, "0000:01:18.2"));
	dl_device_put(pf);
	dl_device_put(pf1);
	tree_done(tree);
}

TEST(pf_removal_takes_its_vfs)
{
	struct dl_tree *tree = tree_with(NULL, 0);
	struct dl_device *pf = lookup(tree, "0000:01:00.0"), *vf;

	enable_vfs(pf, 8, 0);
	ASSERT_EQ(live(tree), 17);
	ASSERT_OK(dl_device_remove(pf, DL_REMOVE_WAIT, DL_NO_TIMEOUT));
	ASSERT_EQ(live(tree), 8);
	ASSERT_EQ(dl_device_lookup(tree, "0000:01:18.0", &vf), -ENOENT);
	/* a removed PF's config cannot be read */
	ASSERT_EQ(dl_pci_config_read(pf, 0, &(uint32_t){ 0 }, 4), -ENODEV);
	/* and no VF can be added under it any more */
	enable_vfs(pf, 0, 0);
	dl_device_put(pf);
	tree_done(tree);
}

TEST(vfs_from_topology_and_bus_limits)
{
	struct dl_tree *tree = tree_with(
		"00:01.0 type=rootport vendor=0x8086 device=0x3420 secbus=1\n"
		"01:00.0 vendor=0x8086 device=0x1572 class=0x020000 "
		"sriov=16,offset=0x10,stride=1,vfdev=0x154c,numvfs=3 vfbar0=64K,64,pref\n",
		0);
	struct dl_device *rp = lookup(tree, "0000:00:01.0"), *pf;
	uint8_t sec, sub;
	uint32_t sub_reg;

	ASSERT_EQ(live(tree), 6);
	dl_device_put(lookup(tree, "0000:01:02.0"));
	dl_device_put(lookup(tree, "0000:01:02.2"));
	ASSERT_OK(dl_pci_bus_range(rp, &sec, &sub));
	ASSERT_EQ(sub, 1);
	/* software narrows nothing, but if the subordinate bus no longer
	 * covers the VFs, enabling them fails */
	pf = lookup(tree, "0000:01:00.0");
	enable_vfs(pf, 0, 0);
	sub_reg = 0;
	ASSERT_EQ(dl_pci_config_write(rp, PCI_SUBORDINATE_BUS, &sub_reg, 1), 1);
	enable_vfs(pf, 16, -ENOSPC);
	ASSERT_EQ(live(tree), 3);
	dl_device_put(pf);
	dl_device_put(rp);
	tree_done(tree);
}

struct reader {
	struct dl_device *dev;
	int ret;
	uint8_t buf[256];
	uint64_t start_ns, end_ns;
	atomic_int started;
};

static void *read_thread(void *arg)
{
	struct reader *rd = arg;

	rd->start_ns = test_now_ns();
	atomic_store(&rd->started, 1);
	rd->ret = dl_pci_config_read(rd->dev, 0, rd->buf, sizeof(rd->buf));
	rd->end_ns = test_now_ns();
	return NULL;
}

TEST(slow_read_holds_off_eject)
{
	/* S1: the host ejects a device while a slow config read is in
	 * flight: the eject waits, the read returns full data, later reads
	 * fail cleanly. */
	struct dl_tree *tree = tree_with(NULL, 300000);
	struct reader rd = { .dev = lookup(tree, "0000:00:05.0") };
	uint64_t t0, t1;
	pthread_t th;

	ASSERT_EQ(pthread_create(&th, NULL, read_thread, &rd), 0);
	while (!atomic_load(&rd.started))
		test_sleep_ms(1);
	test_sleep_ms(50);
	t0 = test_now_ns();
	ASSERT_OK(dl_device_remove(rd.dev, DL_REMOVE_WAIT, DL_NO_TIMEOUT));
	t1 = test_now_ns();
	pthread_join(th, NULL);
	ASSERT_EQ(rd.ret, 256);
	ASSERT_EQ(get_le32_test(rd.buf), 0x00051b36);
	/* the removal waited for the reader */
	ASSERT_GE(t1, rd.start_ns + 290 * 1000000ull);
	ASSERT_GE(t1 - t0, 200 * 1000000ull);
	ASSERT_EQ(dl_device_state(rd.dev), DL_STATE_DEAD);
	ASSERT_EQ(dl_pci_config_read(rd.dev, 0, rd.buf, 4), -ENODEV);
	ASSERT_EQ(dl_pci_config_write(rd.dev, 4, rd.buf, 2), -ENODEV);
	dl_device_put(rd.dev);
	tree_done(tree);
}

TEST(surprise_removal_fails_reads_fast)
{
	struct dl_tree *tree = tree_with(NULL, 5000000);
	struct reader rd = { .dev = lookup(tree, "0000:00:05.0") };
	uint64_t t0;
	pthread_t th;

	ASSERT_EQ(pthread_create(&th, NULL, read_thread, &rd), 0);
	while (!atomic_load(&rd.started))
		test_sleep_ms(1);
	test_sleep_ms(50);
	t0 = test_now_ns();
	ASSERT_OK(dl_device_remove(rd.dev, DL_REMOVE_SURPRISE, DL_NO_TIMEOUT));
	pthread_join(th, NULL);
	ASSERT_EQ(rd.ret, -ENODEV);
	/* far sooner than the 5 s delay */
	ASSERT_LT(rd.end_ns - t0, 1000 * 1000000ull);
	ASSERT_TRUE(dl_device_is_gone(rd.dev));
	dl_device_put(rd.dev);
	tree_done(tree);
}

TEST(delay_can_change_at_any_time)
{
	struct dl_tree *tree = tree_with(NULL, 0);
	struct dl_device *dev = lookup(tree, "0000:00:03.0");
	uint64_t t0 = test_now_ns();
	uint32_t v;

	ASSERT_OK(dl_pci_func_set_delay(dev, 20000));
	ASSERT_EQ(dl_pci_config_read(dev, 0, &v, 4), 4);
	ASSERT_GE(test_now_ns() - t0, 19 * 1000000ull);
	ASSERT_OK(dl_pci_func_set_delay(dev, 0));
	ASSERT_EQ(dl_pci_func_set_delay(NULL, 0), -EINVAL);
	dl_device_put(dev);
	tree_done(tree);
}

/* Dump every function of the tree as lspci -xxxx would. */
struct dump_ctx {
	FILE *f;
	int err;
};

static int dump_one(struct dl_device *dev, void *arg)
{
	struct dump_ctx *c = arg;

	if (dl_pci_func_of(dev)) {
		int r = dl_pci_dump(dev, 4096, c->f);

		if (r < 0)
			c->err = r;
	}
	return dl_device_for_each_child(dev, dump_one, arg);
}

TEST(tree_round_trip_through_dump)
{
	struct dl_pci_error err = { 0, "" };
	struct dl_pci_desc *src, *back;
	struct dl_tree *tree;
	struct dump_ctx c = { NULL, 0 };
	char *text = NULL;
	size_t len = 0;

	/* the sample: a real VM's functions and an SR-IOV NIC with 4 VFs */
	if (dl_pci_desc_load_lspci(DL_PCI_TEST_DATA "/lspci-vvv-xxxx.txt", &err, &src) < 0)
		FAIL_AT("%s", err.msg);
	ASSERT_OK(dl_tree_new(&tree));
	if (dl_pci_desc_instantiate(src, tree, &err) < 0)
		FAIL_AT("%s", err.msg);
	ASSERT_EQ(live(tree), 9 + 4 + 1);
	{
		/* the VFs were re-created from VF 0's config */
		struct dl_device *vf = lookup(tree, "0000:03:11.4");

		ASSERT_EQ(cfg32(vf, 0), 0xffffffff);
		ASSERT_STREQ(show(vf, "device"), "0x1520\n");
		dl_device_put(vf);
	}
	c.f = open_memstream(&text, &len);
	ASSERT_OK(dl_tree_for_each_root(tree, dump_one, &c));
	fclose(c.f);
	ASSERT_OK(c.err);
	if (dl_pci_desc_parse_lspci(text, len, "regenerated", &err, &back) < 0)
		FAIL_AT("%s\n%s", err.msg, text);
	ASSERT_EQ(back->n, src->n);
	for (size_t i = 0; i < src->n; i++) {
		const struct dl_pci_spec *a = &src->specs[i], *b = NULL;

		for (size_t k = 0; k < back->n; k++)
			if (back->specs[k].bus == a->bus && back->specs[k].devfn == a->devfn)
				b = &back->specs[k];
		ASSERT_TRUE(b);
		if (a->config_len >= 256) {
			/* the regenerated dump has the same bytes */
			ASSERT_EQ(b->config_len, a->config_len);
			ASSERT_MEMEQ(b->config, a->config, a->config_len);
		}
		if (a->vf_config)
			ASSERT_MEMEQ(b->vf_config, a->vf_config, a->vf_config_len);
	}
	dl_pci_desc_free(back);
	dl_pci_desc_free(src);
	free(text);
	tree_done(tree);
}

TEST(lspci_reads_our_dump)
{
	struct dl_tree *tree = tree_with(NULL, 0);
	struct dl_device *pf = lookup(tree, "0000:01:00.0");
	char path[] = "/tmp/dl-pci-dump-XXXXXX", cmd[128], out[8192];
	struct dump_ctx c = { NULL, 0 };
	int fd = mkstemp(path);
	size_t n;
	int status;
	FILE *p;

	enable_vfs(pf, 2, 0);
	ASSERT_TRUE(fd >= 0);
	c.f = fdopen(fd, "w");
	ASSERT_OK(dl_tree_for_each_root(tree, dump_one, &c));
	fclose(c.f);
	ASSERT_OK(c.err);
	if (system("command -v lspci >/dev/null") != 0) {
		unlink(path);
		dl_device_put(pf);
		dl_tree_free(tree);
		if (getenv("DL_REQUIRE_ALL") && strcmp(getenv("DL_REQUIRE_ALL"), "1") == 0)
			FAIL_AT("lspci (Debian: pciutils) is not installed, and "
				"DL_REQUIRE_ALL=1 requires it");
		SKIP_TEST("lspci (Debian: pciutils) is not installed");
	}
	/* Installed: whatever it does with our dump is the test's result. */
	snprintf(cmd, sizeof(cmd), "lspci -F %s -vvv -s 01:00.0 2>&1", path);
	p = popen(cmd, "r");
	ASSERT_TRUE(p != NULL);
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	status = pclose(p);
	unlink(path);
	if (status != 0 || n == 0)
		FAIL_AT("%s: exit status %d, %zu bytes:\n%s", cmd, status, n, out);
	ASSERT_CONTAINS(out, "Express (v2) Endpoint");
	ASSERT_CONTAINS(out, "Single Root I/O Virtualization (SR-IOV)");
	ASSERT_CONTAINS(out, "Initial VFs: 64, Total VFs: 64, Number of VFs: 2");
	ASSERT_CONTAINS(out, "VF offset: 192, stride: 2, Device ID: 10ed");
	ASSERT_CONTAINS(out, "IOVCtl:\tEnable+");
	ASSERT_CONTAINS(out, "MSI-X: Enable- Count=64");
	dl_device_put(pf);
	tree_done(tree);
}

TEST(vf_memory_is_small)
{
	enum { NVF = 1024 };
	struct dl_tree *tree = tree_with(
		"00:01.0 type=rootport vendor=0x8086 device=0x3420 secbus=1\n"
		"01:00.0 vendor=0x8086 device=0x1572 class=0x020000 msix=8 bar0=64K,64 "
		"sriov=1024,offset=1,stride=1,vfdev=0x154c vfbar0=64K,64,pref\n",
		0);
	struct dl_device *pf = lookup(tree, "0000:01:00.0");
	struct mallinfo2 before, after;
	size_t per_vf;

	before = mallinfo2();
	enable_vfs(pf, NVF, 0);
	after = mallinfo2();
	ASSERT_EQ(live(tree), 3 + NVF);
	dl_device_put(lookup(tree, "0000:05:00.0")); /* VF 1023: 0x0101 + 1023 */
	if (!UNDER_SANITIZER) {
		per_vf = (after.uordblks - before.uordblks) / NVF;
		printf("# %zu bytes of heap per VF (limit 2048)\n", per_vf);
		ASSERT_LE(per_vf, 2048);
	}
	enable_vfs(pf, 0, 0);
	ASSERT_EQ(live(tree), 3);
	dl_device_put(pf);
	tree_done(tree);
}

TEST_MAIN(function_attributes, default_topology_in_a_tree, instantiate_rolls_back,
	  sriov_vfs_across_buses, pf_removal_takes_its_vfs,
	  vfs_from_topology_and_bus_limits, slow_read_holds_off_eject,
	  surprise_removal_fails_reads_fast, delay_can_change_at_any_time,
	  tree_round_trip_through_dump, lspci_reads_our_dump, vf_memory_is_small)
