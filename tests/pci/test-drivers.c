/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit and scenario tests of SR-IOV through the platform and of the
 * sample drivers (src/pci/drivers): sriov_numvfs with Linux's rules, VF
 * identity, sriov_drivers_autoprobe, and the seed races with forced
 * interleavings (the core's test-only pause points): S4 (sriov-pf adds
 * VFs in probe, every removal path), S5 (sriov_numvfs against the PF's
 * removal), S10 (auto-online's asynchronous online against removal),
 * plus the slow and faulty drivers.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <unistd.h>

#include <devlife/devlife.h>
#include <linux/pci_regs.h>
#include <urcu-bp.h>

#include "core/pause.h"
#include "platform-test.h"
#include "pci.h"
#include "platform.h"
#include "topology.h"

static const char topo[] =
	"0000:00:00.0 vendor=0x8086 device=0x29c0 class=0x060000\n"
	"0000:00:01.0 type=rootport vendor=0x8086 device=0x3420 secbus=01 subbus=02\n"
	/* VF n is 01:00.0 + 0xc0 + 2n: 01:18.0 ... 02:07.6, crossing to bus 02 */
	"0000:01:00.0 vendor=0x8086 device=0x10fb class=0x020000 bar0=512K,64 "
	"sriov=64,offset=0xc0,stride=2,vfdev=0x10ed vfbar0=16K,64,pref "
	"driver=devlife-nic\n"
	/* the seed 001 driver: 4 VFs in probe (01:18.1, 01:18.3, ...) */
	"0000:01:00.1 vendor=0x8086 device=0x10fb class=0x020000 bar0=512K,64 "
	"sriov=8,offset=0xc0,stride=2,vfdev=0x10ed vfbar0=16K,64,pref "
	"driver=sriov-pf probe_vfs=4\n"
	"0000:00:03.0 vendor=0x1af4 device=0x1041 class=0x020000 bar1=4K "
	"driver=auto-online\n"
	"0000:00:04.0 vendor=0x1b36 device=0x0005 class=0x00ff00 bar0=4K driver=slow "
	"probe_delay_us=1000 remove_delay_us=150000 op_delay_us=1000\n"
	"0000:00:05.0 vendor=0x1b36 device=0x0006 class=0x00ff00 bar0=4K driver=faulty "
	"probe_errno=EIO\n"
	"0000:00:06.0 vendor=0x1b36 device=0x0007 class=0x00ff00 bar0=4K driver=faulty "
	"remove_delay_us=200000\n"
	"0000:00:07.0 vendor=0x8086 device=0x10fb class=0x020000 bar0=512K,64 "
	"sriov=2,offset=0x8,stride=1,vfdev=0x10ed vfbar0=16K,64,pref\n";

struct fixture {
	struct dl_tree *tree;
	struct dl_pci_platform *plat;
};

static struct fixture setup(void)
{
	struct fixture fx;

	fx.plat = test_platform(topo, &fx.tree);
	return fx;
}

static uint64_t violations(struct fixture *fx)
{
	struct dl_pci_platform_stats st;

	ASSERT_OK(dl_pci_platform_get_stats(fx->plat, &st));
	return st.violations;
}

static void teardown(struct fixture *fx)
{
	ASSERT_EQ(violations(fx), 0);
	dl_pci_platform_free(fx->plat);
	dl_tree_free(fx->tree);
	for (int i = 0; i < 8; i++)
		urcu_bp_barrier();
	leak_check();
}

static int count_vfs_cb(struct dl_device *child, void *arg)
{
	struct dl_pci_func *f = dl_pci_func_of(child);

	if (f && (f->flags & DL_PCI_F_VF) && dl_device_state(child) == DL_STATE_LIVE)
		++*(int *)arg;
	return 0;
}

static int nvfs(struct dl_device *pf)
{
	int n = 0;

	ASSERT_OK(dl_device_for_each_child(pf, count_vfs_cb, &n));
	return n;
}

struct vf_count {
	struct dl_device *pf;
	int n;
};

static int count_vfs_tree(struct dl_device *dev, void *arg)
{
	struct dl_pci_func *f = dl_pci_func_of(dev);
	struct vf_count *c = arg;

	if (f && (f->flags & DL_PCI_F_VF) && (!c->pf || f->physfn == c->pf))
		c->n++;
	return dl_device_for_each_child(dev, count_vfs_tree, arg);
}

/* VFs of @pf (NULL: of any PF) anywhere in the tree, whatever their
 * state: none may be left behind, wherever it would hang. */
static int vfs_of(struct fixture *fx, struct dl_device *pf)
{
	struct vf_count c = { pf, 0 };

	ASSERT_OK(dl_tree_for_each_root(fx->tree, count_vfs_tree, &c));
	return c.n;
}

static uint32_t cfg16(struct dl_device *dev, unsigned int off)
{
	uint8_t b[2];

	ASSERT_EQ(dl_pci_config_read(dev, off, b, 2), 2);
	return (uint32_t)(b[0] | b[1] << 8);
}

/* What the sysfs sriov_numvfs store does: enter, then the platform. */
static int sysfs_numvfs(struct fixture *fx, struct dl_device *pf, unsigned int n)
{
	int r;

	if (dl_device_enter_tagged(pf, "sriov_numvfs") < 0)
		return -ENODEV;
	r = dl_pci_platform_sriov_numvfs(fx->plat, pf, n);
	dl_device_exit(pf);
	return r;
}

/* Events of @name in the trace, as "ev,ev,..." */
static void events_of(struct fixture *fx, const char *name, char *out, size_t len)
{
	struct dl_trace_record *recs = calloc(DL_TRACE_RING, sizeof(*recs));
	uint64_t cursor = 0;
	size_t n, used = 0;

	ASSERT_TRUE(recs);
	n = dl_trace_read(fx->tree, &cursor, recs, DL_TRACE_RING);
	out[0] = '\0';
	for (size_t i = 0; i < n; i++)
		if (!strcmp(recs[i].name, name) && used < len)
			used += (size_t)snprintf(out + used, len - used, "%s,",
						 dl_trace_event_name(recs[i].event));
	free(recs);
}

/* The last record of event ev for device name; false if there is none. */
static bool last_event(struct fixture *fx, const char *name, uint32_t ev,
		       struct dl_trace_record *ret)
{
	struct dl_trace_record *recs = calloc(DL_TRACE_RING, sizeof(*recs));
	uint64_t cursor = 0;
	size_t n;
	bool found = false;

	ASSERT_TRUE(recs);
	n = dl_trace_read(fx->tree, &cursor, recs, DL_TRACE_RING);
	for (size_t i = 0; i < n; i++)
		if (recs[i].event == ev && !strcmp(recs[i].name, name)) {
			*ret = recs[i];
			found = true;
		}
	free(recs);
	return found;
}

/* Whether dev's online or offline callback is running now. */
static bool onlining(struct dl_device *dev)
{
	bool r;

	pthread_mutex_lock(&dev->tree->wait_lock);
	r = dev->onlining_tid != 0;
	pthread_mutex_unlock(&dev->tree->wait_lock);
	return r;
}

/* The part of an events_of() string after the last "add," (the device's
 * latest life). */
static const char *last_life(const char *ev)
{
	const char *p = ev, *q;

	while ((q = strstr(p, "add,")))
		p = q + 4;
	return p;
}

/* ------------------------------------------------------------------ */
/* SR-IOV through the platform                                          */

TEST(numvfs_follows_linux)
{
	struct fixture fx = setup();
	struct dl_device *pf = dev_must(fx.tree, "0000:01:00.0");
	struct dl_device *bare = dev_must(fx.tree, "0000:00:07.0");
	struct dl_device *vf, *last;
	struct dl_pci_func *f = dl_pci_func_of(pf), *vff;
	unsigned int cap = f->sriov->cap;

	ASSERT_STREQ(drv_of(pf), "devlife-nic");
	ASSERT_EQ(sysfs_numvfs(&fx, pf, 65), -ERANGE);
	ASSERT_EQ(sysfs_numvfs(&fx, pf, 0), 0); /* already 0: nothing to do */
	ASSERT_EQ(sysfs_numvfs(&fx, pf, 4), 0);
	ASSERT_EQ(nvfs(pf), 4);
	ASSERT_EQ(sysfs_numvfs(&fx, pf, 4), 0);
	ASSERT_EQ(sysfs_numvfs(&fx, pf, 5), -EBUSY); /* n -> m goes through 0 */
	ASSERT_EQ(nvfs(pf), 4);
	/* the capability follows: NumVFs and VF Enable */
	ASSERT_EQ(cfg16(pf, cap + PCI_SRIOV_NUM_VF), 4);
	ASSERT_TRUE(cfg16(pf, cap + PCI_SRIOV_CTRL) & PCI_SRIOV_CTRL_VFE);
	/* identity: PF + offset + n * stride; the PF's vendor, VF Device ID */
	vf = dev_must(fx.tree, "0000:01:18.6");
	vff = dl_pci_func_of(vf);
	ASSERT_TRUE(vff->flags & DL_PCI_F_VF);
	ASSERT_PTR_EQ(vff->physfn, pf);
	ASSERT_PTR_EQ(dl_device_parent(vf), pf);
	ASSERT_EQ(vff->vf_index, 3);
	ASSERT_EQ(vff->vendor, 0x8086);
	ASSERT_EQ(vff->device, 0x10ed);
	/* config reads 0xffff for the IDs, as the spec says */
	ASSERT_EQ(cfg16(vf, PCI_VENDOR_ID), 0xffff);
	ASSERT_EQ(sysfs_numvfs(&fx, pf, 0), 0);
	ASSERT_EQ(nvfs(pf), 0);
	ASSERT_EQ(dl_device_state(vf), DL_STATE_DEAD);
	ASSERT_EQ(cfg16(pf, cap + PCI_SRIOV_NUM_VF), 0);
	ASSERT_FALSE(cfg16(pf, cap + PCI_SRIOV_CTRL) & PCI_SRIOV_CTRL_VFE);
	dl_device_put(vf);
	/* all 64: the routing IDs cross to bus 02 */
	ASSERT_EQ(sysfs_numvfs(&fx, pf, 64), 0);
	last = dev_must(fx.tree, "0000:02:07.6"); /* 0x0100 + 0xc0 + 126 = 0x023e */
	ASSERT_EQ(dl_pci_func_of(last)->vf_index, 63);
	ASSERT_EQ(dl_pci_func_of(last)->bus, 2);
	dl_device_put(last);
	ASSERT_EQ(sysfs_numvfs(&fx, pf, 0), 0);

	/* without a driver, or with one that cannot configure SR-IOV */
	ASSERT_STREQ(drv_of(bare), "(none)");
	ASSERT_EQ(sysfs_numvfs(&fx, bare, 2), -ENOENT);
	ASSERT_EQ(sysfs_numvfs(&fx, bare, 0), 0);
	ASSERT_OK(dl_pci_platform_driver_override(bare, "pci-stub", NULL, 0));
	ASSERT_OK(dl_device_bind(bare, NULL));
	ASSERT_EQ(sysfs_numvfs(&fx, bare, 2), -ENOENT);
	ASSERT_EQ(nvfs(bare), 0);
	/* not a PF */
	last = dev_must(fx.tree, "0000:00:01.0");
	ASSERT_EQ(dl_pci_platform_sriov_numvfs(fx.plat, last, 1), -EINVAL);
	dl_device_put(last);
	dl_device_put(bare);
	dl_device_put(pf);
	teardown(&fx);
}

TEST(vfs_share_one_readonly_template)
{
	struct fixture fx = setup();
	struct dl_device *pf = dev_must(fx.tree, "0000:01:00.0");
	struct dl_device *v0, *v1;
	uint8_t cmd = PCI_COMMAND_MASTER, got[2];

	ASSERT_EQ(sysfs_numvfs(&fx, pf, 3), 0);
	v0 = dev_must(fx.tree, "0000:01:18.0");
	v1 = dev_must(fx.tree, "0000:01:18.2");
	ASSERT_PTR_EQ(dl_pci_cfg_tmpl(dl_pci_func_of(v0)->cfg),
		      dl_pci_cfg_tmpl(dl_pci_func_of(v1)->cfg));
	/* per VF: only what is writable, and a few bytes of it */
	ASSERT_LT(dl_pci_cfg_footprint(dl_pci_func_of(v0)->cfg), 512);
	/* a writable register is per VF */
	ASSERT_EQ(dl_pci_config_write(v0, PCI_COMMAND, &cmd, 1), 1);
	ASSERT_EQ(dl_pci_config_read(v0, PCI_COMMAND, got, 1), 1);
	ASSERT_TRUE(got[0] & PCI_COMMAND_MASTER);
	ASSERT_EQ(dl_pci_config_read(v1, PCI_COMMAND, got, 1), 1);
	ASSERT_FALSE(got[0] & PCI_COMMAND_MASTER);
	/* a read-only one is not writable */
	{
		uint8_t id[2] = { 0x12, 0x34 };

		ASSERT_EQ(dl_pci_config_write(v0, PCI_DEVICE_ID, id, 2), 2);
		ASSERT_EQ(cfg16(v0, PCI_DEVICE_ID), 0xffff);
	}
	dl_device_put(v0);
	dl_device_put(v1);
	dl_device_put(pf);
	teardown(&fx);
}

/* A driver for the VFs, to see whether they are probed. */
static atomic_int vf_probes;

static int vfdrv_probe(struct dl_device *dev, void *data)
{
	atomic_fetch_add(&vf_probes, 1);
	return 0;
}

static bool vfdrv_match(struct dl_device *dev, void *data)
{
	struct dl_pci_func *f = dl_pci_func_of(dev);

	return f && (f->flags & DL_PCI_F_VF);
}

static const struct dl_pci_driver vf_driver = {
	.name = "test-vf",
	.match = vfdrv_match,
	.probe = vfdrv_probe,
};

TEST(drivers_autoprobe)
{
	struct fixture fx = setup();
	struct dl_device *pf = dev_must(fx.tree, "0000:01:00.0"), *vf;
	char buf[16];

	/* registered late, it probes the VFs already there: 01:00.1's 4 */
	ASSERT_OK(dl_pci_platform_register_driver(fx.plat, &vf_driver, NULL, NULL));
	ASSERT_EQ(atomic_load(&vf_probes), 4);
	ASSERT_EQ(dl_pci_attr_show(pf, DL_PCI_ATTR_SRIOV_DRIVERS_AUTOPROBE, buf,
				   sizeof(buf)), 2);
	ASSERT_STREQ(buf, "1\n");
	ASSERT_EQ(sysfs_numvfs(&fx, pf, 2), 0);
	ASSERT_EQ(atomic_load(&vf_probes), 6);
	ASSERT_EQ(sysfs_numvfs(&fx, pf, 0), 0);

	ASSERT_OK(dl_pci_sriov_set_drivers_autoprobe(pf, false));
	ASSERT_EQ(dl_pci_attr_show(pf, DL_PCI_ATTR_SRIOV_DRIVERS_AUTOPROBE, buf,
				   sizeof(buf)), 2);
	ASSERT_STREQ(buf, "0\n");
	ASSERT_EQ(sysfs_numvfs(&fx, pf, 2), 0);
	ASSERT_EQ(atomic_load(&vf_probes), 6); /* not probed */
	vf = dev_must(fx.tree, "0000:01:18.0");
	ASSERT_STREQ(drv_of(vf), "(none)");
	/* an explicit bind needs driver_override, as in Linux */
	ASSERT_EQ(dl_device_bind(vf, dl_driver_find(fx.tree, "test-vf")), -ENXIO);
	ASSERT_OK(dl_pci_platform_driver_override(vf, "test-vf", NULL, 0));
	ASSERT_OK(dl_device_bind(vf, NULL));
	ASSERT_STREQ(drv_of(vf), "test-vf");
	ASSERT_EQ(dl_pci_sriov_set_drivers_autoprobe(vf, true), -EINVAL);
	dl_device_put(vf);
	dl_device_put(pf);
	teardown(&fx);
}

/*
 * A driver registered after the functions exist probes those it matches
 * (driver_register() -> bus_add_driver() -> driver_attach()), unless the
 * bus's drivers_autoprobe is off; off, no add probes either (VFs
 * included, whatever their PF's sriov_drivers_autoprobe says).
 */
static atomic_int late_probes;

static int late_probe(struct dl_device *dev, void *data)
{
	atomic_fetch_add(&late_probes, 1);
	return 0;
}

static bool late_match(struct dl_device *dev, void *data)
{
	struct dl_pci_func *f = dl_pci_func_of(dev);

	return f && f->vendor == 0x8086 && f->device == 0x10fb && !f->driver_name;
}

static const struct dl_pci_driver late_driver = {
	.name = "test-late", .match = late_match, .probe = late_probe,
};
static const struct dl_pci_driver late_driver2 = {
	.name = "test-late2", .match = late_match, .probe = late_probe,
};

TEST(driver_registered_late)
{
	struct fixture fx = setup();
	struct dl_device *f7 = dev_must(fx.tree, "0000:00:07.0");
	struct dl_device *pf = dev_must(fx.tree, "0000:01:00.0");
	struct dl_driver *late;

	ASSERT_STREQ(drv_of(f7), "(none)");
	ASSERT_OK(dl_pci_platform_register_driver(fx.plat, &late_driver, NULL, &late));
	ASSERT_EQ(atomic_load(&late_probes), 1);
	ASSERT_STREQ(drv_of(f7), "test-late");
	ASSERT_STREQ(drv_of(pf), "devlife-nic"); /* a bound one stays */
	ASSERT_OK(dl_device_unbind(f7));
	ASSERT_TRUE(dl_tree_autoprobe(fx.tree));
	dl_tree_set_autoprobe(fx.tree, false);
	ASSERT_OK(dl_pci_platform_unregister_driver(fx.plat, late));
	ASSERT_OK(dl_pci_platform_register_driver(fx.plat, &late_driver2, NULL, NULL));
	ASSERT_EQ(atomic_load(&late_probes), 1);
	ASSERT_STREQ(drv_of(f7), "(none)");
	/* off: VFs are added unprobed, their PF's autoprobe notwithstanding */
	ASSERT_OK(dl_pci_platform_register_driver(fx.plat, &vf_driver, NULL, NULL));
	atomic_store(&vf_probes, 0);
	ASSERT_EQ(sysfs_numvfs(&fx, pf, 2), 0);
	ASSERT_EQ(atomic_load(&vf_probes), 0);
	ASSERT_EQ(sysfs_numvfs(&fx, pf, 0), 0);
	dl_tree_set_autoprobe(fx.tree, true);
	ASSERT_EQ(sysfs_numvfs(&fx, pf, 2), 0);
	ASSERT_EQ(atomic_load(&vf_probes), 2);
	ASSERT_EQ(sysfs_numvfs(&fx, pf, 0), 0);
	/* an explicit bind works either way */
	dl_tree_set_autoprobe(fx.tree, false);
	ASSERT_OK(dl_device_bind(f7, NULL));
	ASSERT_STREQ(drv_of(f7), "test-late2");
	dl_device_put(f7);
	dl_device_put(pf);
	teardown(&fx);
}

/* new_id and remove_id (pci-driver.c new_id_store(), remove_id_store()) */
TEST(dynamic_ids)
{
	struct fixture fx = setup();
	struct dl_device *f7 = dev_must(fx.tree, "0000:00:07.0");

	ASSERT_EQ(dl_pci_platform_new_id(fx.plat, "pci-stub", "8086"), -EINVAL);
	ASSERT_EQ(dl_pci_platform_new_id(fx.plat, "pci-stub", "zz 10fb"), -EINVAL);
	ASSERT_EQ(dl_pci_platform_new_id(fx.plat, "no-such", "8086 10fb"), -ENODEV);
	ASSERT_EQ(dl_pci_platform_new_id(fx.plat, "pci-stub",
					 "8086 10fb ffffffff ffffffff 0 0 1"), -EINVAL);
	ASSERT_EQ(dl_pci_platform_new_id(fx.plat, "virtio-pci", "1af4 1041"), -EEXIST);
	ASSERT_STREQ(drv_of(f7), "(none)");
	/* a subsystem that f7 does not have: added, nothing probed */
	ASSERT_OK(dl_pci_platform_new_id(fx.plat, "pci-stub", "8086 10fb 1234 5678"));
	ASSERT_STREQ(drv_of(f7), "(none)");
	ASSERT_OK(dl_pci_platform_new_id(fx.plat, "pci-stub", "0x8086 0x10fb"));
	ASSERT_STREQ(drv_of(f7), "pci-stub");
	ASSERT_EQ(dl_pci_platform_new_id(fx.plat, "pci-stub", "8086 10fb"), -EEXIST);
	/* all seven fields: no duplicate check */
	ASSERT_OK(dl_pci_platform_new_id(fx.plat, "pci-stub",
					 "8086 10fb ffffffff ffffffff 0 0 0"));
	ASSERT_EQ(dl_pci_platform_remove_id(fx.plat, "pci-stub", "8086"), -EINVAL);
	ASSERT_EQ(dl_pci_platform_remove_id(fx.plat, "pci-stub", "8086 10fb 1 1"), -ENODEV);
	ASSERT_OK(dl_pci_platform_remove_id(fx.plat, "pci-stub", "8086 10fb 1234 5678"));
	ASSERT_OK(dl_pci_platform_remove_id(fx.plat, "pci-stub", "8086 10fb"));
	ASSERT_OK(dl_pci_platform_remove_id(fx.plat, "pci-stub", "8086 10fb"));
	ASSERT_EQ(dl_pci_platform_remove_id(fx.plat, "pci-stub", "8086 10fb"), -ENODEV);
	ASSERT_STREQ(drv_of(f7), "pci-stub"); /* bound functions stay */
	ASSERT_OK(dl_device_unbind(f7));
	ASSERT_EQ(dl_device_bind(f7, dl_driver_find(fx.tree, "pci-stub")), -ENXIO);
	dl_device_put(f7);
	teardown(&fx);
}

/* ------------------------------------------------------------------ */
/* S4: sriov-pf enables VFs in probe; every removal path                 */

struct path_arg {
	struct fixture *fx;
	struct dl_device *pf;
	int path;
	int r;
	char msg[256];
};

static void *s4_path(void *arg)
{
	struct path_arg *a = arg;
	struct dl_device *pf = a->pf;

	switch (a->path) {
	case 0: /* sysfs remove: from inside the attribute's active section */
		ASSERT_OK(dl_device_enter(pf));
		a->r = dl_device_remove_self(pf, DL_REMOVE_WAIT);
		break;
	case 1: /* host eject */
		a->r = dl_pci_platform_host(a->fx->plat, DL_PCI_HOST_EJECT, 0, 1, 0x01,
					    NULL, a->msg, sizeof(a->msg));
		break;
	case 2: /* error recovery: no handlers, removed and rescanned */
		a->r = dl_pci_platform_host(a->fx->plat, DL_PCI_HOST_ERROR, 0, 1, 0x01,
					    NULL, a->msg, sizeof(a->msg));
		break;
	case 3: /* driver unbind */
		a->r = dl_device_unbind(pf);
		break;
	case 4: /* the parent's removal */
		a->r = dl_device_remove(dl_device_parent(pf), DL_REMOVE_WAIT,
					DL_NO_TIMEOUT);
		break;
	}
	return NULL;
}

TEST(s4_sriov_pf_every_removal_path)
{
	static const char *const paths[] = { "sysfs-remove", "eject", "error-recovery",
					     "unbind", "parent-removal" };

	for (int path = 0; path < 5; path++) {
		struct fixture fx = setup();
		struct dl_device *pf = dev_must(fx.tree, "0000:01:00.1"), *again;
		struct path_arg a = { &fx, pf, path, -1, "" };
		char ev[4096];

		ASSERT_STREQ(drv_of(pf), "sriov-pf");
		ASSERT_EQ(nvfs(pf), 4);
		ASSERT_EQ(vfs_of(&fx, pf), 4);
		/* each path on a thread of its own, as from sysfs, the host
		 * channel or a recovery worker; the test variant's lock-order
		 * checks abort on a wrong lock anywhere on the way */
		join(spawn(s4_path, &a));
		if (a.r != 0)
			FAIL_AT("path %s: %d %s", paths[path], a.r, a.msg);
		if (path == 3) {
			/* unbound: the driver's remove disabled its VFs */
			ASSERT_EQ(dl_device_state(pf), DL_STATE_LIVE);
			ASSERT_EQ(vfs_of(&fx, pf), 0);
			ASSERT_EQ(cfg16(pf, dl_pci_func_of(pf)->sriov->cap + PCI_SRIOV_NUM_VF),
				  0);
			/* bound again: probe enables them again */
			ASSERT_OK(dl_device_bind(pf, NULL));
			ASSERT_EQ(nvfs(pf), 4);
		} else {
			ASSERT_EQ(dl_device_state(pf), DL_STATE_DEAD);
			if (path == 2) {
				/* rescanned: a new PF whose probe enabled 4 VFs */
				again = dev_must(fx.tree, "0000:01:00.1");
				ASSERT_NE(dl_device_id(again), dl_device_id(pf));
				ASSERT_EQ(nvfs(again), 4);
				ASSERT_EQ(vfs_of(&fx, again), 4);
				ASSERT_EQ(vfs_of(&fx, pf), 0);
				dl_device_put(again);
			} else {
				ASSERT_EQ(vfs_of(&fx, pf), 0);
				ASSERT_FALSE(dev_exists(fx.tree, "0000:01:18.1"));
			}
		}
		/* each VF was dead before its PF's driver let go */
		events_of(&fx, "0000:01:18.3", ev, sizeof(ev));
		ASSERT_CONTAINS(ev, "dead,");
		dl_device_put(pf);
		teardown(&fx);
	}
}

/* ------------------------------------------------------------------ */
/* S5: sriov_numvfs is written while the PF is being removed             */

struct writer {
	struct fixture *fx;
	struct dl_device *pf;
	unsigned int n;
	int r;
};

static void *numvfs_writer(void *arg)
{
	struct writer *w = arg;

	w->r = sysfs_numvfs(w->fx, w->pf, w->n);
	return NULL;
}

TEST(s5_numvfs_while_pf_removed)
{
	/* a) The write is adding its first VF (inside the PF, under the PF's
	 *    device lock) when the removal starts: the removal waits for it
	 *    without holding any device lock, the add is refused, the write
	 *    fails with -ENODEV and takes back what it added. */
	{
		struct fixture fx = setup();
		struct dl_device *pf = dev_must(fx.tree, "0000:01:00.0");
		struct writer w = { &fx, pf, 8, 1 };
		struct remover rm = REMOVER(pf, DL_REMOVE_WAIT);
		pthread_t tw, tr;

		pause_arm(0, "add:parent-entered", NULL);
		tw = spawn(numvfs_writer, &w);
		pause_wait(0);
		tr = spawn_until_draining(1, pf, remove_thread, &rm);
		ASSERT_TRUE(still_running(tr, 0)); /* drains the writer */
		pause_release(0);
		join(tw);
		join(tr);
		ASSERT_EQ(w.r, -ENODEV);
		ASSERT_EQ(rm.ret, 0);
		ASSERT_EQ(dl_device_state(pf), DL_STATE_DEAD);
		ASSERT_EQ(vfs_of(&fx, pf), 0);
		ASSERT_FALSE(dev_exists(fx.tree, "0000:01:18.0"));
		dl_device_put(pf);
		teardown(&fx);
	}
	/* b) The write has added three VFs and is adding the fourth: the
	 *    removal waits, removes the three, the fourth is refused. */
	{
		struct fixture fx = setup();
		struct dl_device *pf = dev_must(fx.tree, "0000:01:00.0"), *vf2;
		struct writer w = { &fx, pf, 8, 1 };
		struct remover rm = REMOVER(pf, DL_REMOVE_WAIT);
		pthread_t tw, tr;

		/* each slot stops one add: VF 0, VF 1, then VF 2 is held */
		for (int i = 0; i < 3; i++)
			pause_arm(i, "add:published", NULL);
		tw = spawn(numvfs_writer, &w);
		pause_wait(0);
		pause_release(0);
		pause_wait(1);
		pause_release(1);
		pause_wait(2);
		vf2 = dev_must(fx.tree, "0000:01:18.4");
		tr = spawn_until_draining(3, pf, remove_thread, &rm);
		ASSERT_TRUE(still_running(tr, 0));
		pause_release(2);
		join(tw);
		join(tr);
		ASSERT_EQ(w.r, -ENODEV);
		ASSERT_EQ(rm.ret, 0);
		ASSERT_EQ(dl_device_state(vf2), DL_STATE_DEAD);
		ASSERT_EQ(vfs_of(&fx, pf), 0);
		dl_device_put(vf2);
		dl_device_put(pf);
		teardown(&fx);
	}
	/* c) The removal has drained: the write cannot enter the PF, no VF
	 *    appears. */
	{
		struct fixture fx = setup();
		struct dl_device *pf = dev_must(fx.tree, "0000:01:00.0");
		struct writer w = { &fx, pf, 8, 1 };
		struct remover rm = REMOVER(pf, DL_REMOVE_WAIT);
		pthread_t tr;

		pause_arm(0, "remove:drained", pf);
		tr = spawn(remove_thread, &rm);
		pause_wait(0);
		join(spawn(numvfs_writer, &w));
		ASSERT_EQ(w.r, -ENODEV);
		pause_release(0);
		join(tr);
		ASSERT_EQ(rm.ret, 0);
		ASSERT_EQ(vfs_of(&fx, pf), 0);
		dl_device_put(pf);
		teardown(&fx);
	}
	/* d) The same against the unconventional driver, whose remove
	 *    disables the VFs from inside the PF's driver callback while
	 *    the write waits for the PF's device lock. */
	{
		struct fixture fx = setup();
		struct dl_device *pf = dev_must(fx.tree, "0000:01:00.1");
		struct writer w = { &fx, pf, 0, 1 };
		struct remover rm = REMOVER(pf, DL_REMOVE_WAIT);
		pthread_t tw, tr;

		ASSERT_OK(dl_device_unbind(pf)); /* VFs off, then on by hand */
		ASSERT_OK(dl_pci_platform_driver_override(pf, "sriov-pf", NULL, 0));
		ASSERT_OK(dl_device_bind(pf, NULL));
		ASSERT_EQ(nvfs(pf), 4);
		pause_arm(0, "remove:driver-remove", pf);
		tr = spawn(remove_thread, &rm);
		pause_wait(0); /* holds the PF's device lock, VFs already gone */
		ASSERT_EQ(nvfs(pf), 0);
		tw = spawn(numvfs_writer, &w);
		join(tw); /* cannot enter the PF: refused at once */
		ASSERT_EQ(w.r, -ENODEV);
		pause_release(0);
		join(tr);
		ASSERT_EQ(rm.ret, 0);
		ASSERT_EQ(vfs_of(&fx, pf), 0);
		dl_device_put(pf);
		teardown(&fx);
	}
}

/* ------------------------------------------------------------------ */
/* S10: auto-online queues an online in probe; removal comes first        */

static const char *const ao_kv[] = { "vendor=0x1af4", "device=0x1041",
				     "class=0x020000", "driver=auto-online",
				     "op_delay_us=300000", NULL };

/* Take a function out (it is still present: a rescan brings it back),
 * once its first life has settled. */
static void remove_again(struct fixture *fx, const char *name)
{
	struct dl_device *dev = dev_must(fx->tree, name);

	for (int i = 0; i < 400 && !dl_device_is_online(dev); i++)
		test_sleep_ms(5);
	ASSERT_OK(dl_device_remove(dev, DL_REMOVE_WAIT, DL_NO_TIMEOUT));
	dl_device_put(dev);
}

static int host_add(struct fixture *fx, uint8_t devfn, const char *const *kv)
{
	char msg[256];
	int r = dl_pci_platform_host(fx->plat, DL_PCI_HOST_ADD, 0, 0, devfn, kv, msg,
				     sizeof(msg));

	if (r < 0)
		FAIL_AT("add: %s", msg);
	return r;
}

TEST(s10_auto_online_vs_remove)
{
	/* a) The worker has the online item and is about to run it when the
	 *    device is removed: the body is skipped; no online ever runs. */
	{
		struct fixture fx = setup();
		struct dl_device *dev;
		char ev[1024] = "";

		remove_again(&fx, "0000:00:03.0");
		pause_arm(0, "work:run", NULL);
		ASSERT_EQ(dl_pci_platform_rescan(fx.plat, NULL), 1); /* probe queues */
		pause_wait(0);
		dev = dev_must(fx.tree, "0000:00:03.0");
		ASSERT_OK(dl_device_remove(dev, DL_REMOVE_WAIT, DL_NO_TIMEOUT));
		pause_release(0);
		/* the worker's turn: it cannot enter, the body is skipped; the
		 * item's reference goes, then the device's memory */
		dl_device_put(dev);
		for (int i = 0; i < 400 && !strstr(last_life(ev), "release"); i++) {
			test_sleep_ms(5);
			urcu_bp_barrier();
			events_of(&fx, "0000:00:03.0", ev, sizeof(ev));
		}
		ASSERT_CONTAINS(last_life(ev), "release");
		ASSERT_FALSE(strstr(last_life(ev), "online"));
		teardown(&fx);
	}
	/* b) The online is queued behind another device's slow online on the
	 *    driver's ordered queue: removal cancels it. */
	{
		struct fixture fx = setup();
		struct dl_device *slowdev, *dev;
		struct dl_tree_stats before, after;
		char ev[1024];

		host_add(&fx, 0x10 << 3, ao_kv); /* its online takes 300 ms */
		slowdev = dev_must(fx.tree, "0000:00:10.0");
		ASSERT_OK(dl_tree_get_stats(fx.tree, &before));
		host_add(&fx, 0x11 << 3, ao_kv);
		dev = dev_must(fx.tree, "0000:00:11.0");
		ASSERT_OK(dl_device_remove(dev, DL_REMOVE_WAIT, DL_NO_TIMEOUT));
		ASSERT_OK(dl_tree_get_stats(fx.tree, &after));
		ASSERT_EQ(after.work_cancelled, before.work_cancelled + 1);
		events_of(&fx, "0000:00:11.0", ev, sizeof(ev));
		ASSERT_CONTAINS(ev, "work-cancel");
		ASSERT_FALSE(strstr(ev, "online"));
		ASSERT_FALSE(dl_device_is_online(dev));
		dl_device_put(dev);
		dl_device_put(slowdev);
		teardown(&fx);
	}
	/* c) The online has entered the device (not yet its lock) when the
	 *    removal starts: the removal waits for it, and the online,
	 *    seeing the device no longer LIVE, is refused. */
	{
		struct fixture fx = setup();
		struct dl_device *dev;
		struct remover rm;
		pthread_t tr;
		char ev[1024];

		remove_again(&fx, "0000:00:03.0");
		pause_arm(0, "online:entered", NULL);
		ASSERT_EQ(dl_pci_platform_rescan(fx.plat, NULL), 1);
		pause_wait(0);
		dev = dev_must(fx.tree, "0000:00:03.0");
		rm = REMOVER(dev, DL_REMOVE_WAIT);
		tr = spawn_until_draining(1, dev, remove_thread, &rm);
		ASSERT_TRUE(still_running(tr, 0));
		pause_release(0);
		join(tr);
		ASSERT_EQ(rm.ret, 0);
		ASSERT_FALSE(dl_device_is_online(dev));
		/* the second life of 00:03.0 never went online */
		events_of(&fx, "0000:00:03.0", ev, sizeof(ev));
		ASSERT_CONTAINS(last_life(ev), "remove-start,");
		ASSERT_FALSE(strstr(last_life(ev), "online"));
		dl_device_put(dev);
		teardown(&fx);
	}
	/* d) The online runs (300 ms in the driver) when the removal starts:
	 *    the removal waits; online and remove never overlap. */
	{
		struct fixture fx = setup();
		struct dl_device *dev;
		uint64_t t0, t1, end = test_now_ns() + 20000000000ull;
		struct dl_trace_record on, start, dead;

		host_add(&fx, 0x10 << 3, ao_kv);
		dev = dev_must(fx.tree, "0000:00:10.0");
		/* the worker's online is in the driver's callback (marked
		 * under wait_lock once it has decided to run it) */
		while (!onlining(dev)) {
			if (test_now_ns() > end)
				FAIL_AT("the queued online never started");
			test_sleep_ms(1);
		}
		t0 = test_now_ns();
		ASSERT_OK(dl_device_remove(dev, DL_REMOVE_WAIT, DL_NO_TIMEOUT));
		t1 = test_now_ns();
		/* The online ran: it finished after t0, when it was running;
		 * the removal started only after it and returned after it. */
		ASSERT_TRUE(last_event(&fx, "0000:00:10.0", DL_EV_ONLINE, &on));
		ASSERT_TRUE(last_event(&fx, "0000:00:10.0", DL_EV_REMOVE_START,
				       &start));
		ASSERT_TRUE(last_event(&fx, "0000:00:10.0", DL_EV_DEAD, &dead));
		ASSERT_GE(on.ts_ns, t0);
		ASSERT_LT(on.seq, start.seq);
		ASSERT_LT(start.seq, dead.seq);
		ASSERT_LE(on.ts_ns, t1);
		dl_device_put(dev);
		teardown(&fx);
	}
}

TEST(online_offline_through_drivers)
{
	struct fixture fx = setup();
	struct dl_device *slowdev = dev_must(fx.tree, "0000:00:04.0");
	struct dl_device *nic = dev_must(fx.tree, "0000:01:00.0");
	struct dl_device *ao = dev_must(fx.tree, "0000:00:03.0");

	ASSERT_TRUE(dl_pci_platform_supports_online(fx.plat, slowdev));
	ASSERT_TRUE(dl_pci_platform_supports_online(fx.plat, ao));
	ASSERT_FALSE(dl_pci_platform_supports_online(fx.plat, nic));
	ASSERT_OK(dl_device_online(slowdev));
	ASSERT_TRUE(dl_device_is_online(slowdev));
	ASSERT_OK(dl_device_offline(slowdev));
	ASSERT_FALSE(dl_device_is_online(slowdev));
	ASSERT_EQ(dl_device_online(nic), -EOPNOTSUPP);
	/* auto-online's own online came from its probe */
	for (int i = 0; i < 200 && !dl_device_is_online(ao); i++)
		test_sleep_ms(5);
	ASSERT_TRUE(dl_device_is_online(ao));
	ASSERT_OK(dl_device_offline(ao));
	ASSERT_OK(dl_device_online(ao));
	dl_device_put(ao);
	dl_device_put(nic);
	dl_device_put(slowdev);
	teardown(&fx);
}

/* Online refused with -ENODEV once the removal has begun (held open by
 * the slow driver's 150 ms remove). */
TEST(online_refused_once_removal_began)
{
	struct fixture fx = setup();
	struct dl_device *dev = dev_must(fx.tree, "0000:00:04.0");
	struct remover rm = REMOVER(dev, DL_REMOVE_WAIT);
	pthread_t tr;

	ASSERT_OK(dl_device_online(dev));
	pause_arm(0, "remove:driver-remove", dev);
	tr = spawn(remove_thread, &rm);
	pause_wait(0);
	ASSERT_EQ(dl_device_offline(dev), -ENODEV);
	ASSERT_EQ(dl_device_online(dev), -ENODEV);
	pause_release(0);
	join(tr);
	ASSERT_EQ(rm.ret, 0);
	ASSERT_EQ(dl_device_offline(dev), -ENODEV);
	dl_device_put(dev);
	teardown(&fx);
}

/* ------------------------------------------------------------------ */
/* slow and faulty                                                      */

TEST(slow_and_faulty)
{
	struct fixture fx = setup();
	struct dl_device *slowdev = dev_must(fx.tree, "0000:00:04.0");
	struct dl_device *bad = dev_must(fx.tree, "0000:00:05.0");
	struct dl_device *stall = dev_must(fx.tree, "0000:00:06.0"), *again;
	uint64_t t0;
	char ev[1024], msg[256];

	/* faulty: probe fails with EIO, the function stays unbound */
	ASSERT_STREQ(drv_of(bad), "(none)");
	events_of(&fx, "0000:00:05.0", ev, sizeof(ev));
	ASSERT_CONTAINS(ev, "probe-fail");
	ASSERT_EQ(dl_device_bind(bad, dl_driver_find(fx.tree, "faulty")), -EIO);
	/* faulty: remove stalls 200 ms, and removal waits for it */
	ASSERT_STREQ(drv_of(stall), "faulty");
	t0 = test_now_ns();
	ASSERT_OK(dl_device_unbind(stall));
	ASSERT_GE(test_now_ns() - t0, 200000000ull);
	/* faulty: error recovery gives up: removed and rescanned */
	ASSERT_OK(dl_device_bind(stall, NULL));
	ASSERT_EQ(dl_pci_platform_host(fx.plat, DL_PCI_HOST_ERROR, 0, 0, 0x06 << 3, NULL,
				       msg, sizeof(msg)),
		  0);
	ASSERT_CONTAINS(msg, "gave up");
	again = dev_must(fx.tree, "0000:00:06.0");
	ASSERT_NE(dl_device_id(again), dl_device_id(stall));
	ASSERT_STREQ(drv_of(again), "faulty");
	dl_device_put(again);
	/* slow: the removal takes its remove's 150 ms */
	ASSERT_STREQ(drv_of(slowdev), "slow");
	t0 = test_now_ns();
	ASSERT_OK(dl_device_remove(slowdev, DL_REMOVE_WAIT, DL_NO_TIMEOUT));
	ASSERT_GE(test_now_ns() - t0, 150000000ull);
	dl_device_put(stall);
	dl_device_put(bad);
	dl_device_put(slowdev);
	teardown(&fx);
}

TEST(driver_keys_are_checked)
{
	static const char *const bad[] = {
		"0000:00:01.0 vendor=1 device=1 class=0 probe_errno=EWHAT\n",
		"0000:00:01.0 vendor=1 device=1 class=0 probe_errno=5000\n",
		"0000:00:01.0 vendor=1 device=1 class=0 probe_vfs=2\n",
		"0000:00:01.0 vendor=1 device=1 class=0 sriov=2 probe_vfs=3\n",
		"0000:00:01.0 vendor=1 device=1 class=0 probe_delay_us=60000001\n",
		"0000:00:01.0 vendor=1 device=1 class=0 remove_delay_us=x\n",
	};
	struct dl_pci_error err = { 0, "" };
	struct dl_pci_desc *d;
	int seen04 = 0, seen05 = 0;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ASSERT_EQ(dl_pci_desc_parse_topology(bad[i], strlen(bad[i]), "t", &err, &d),
			  -EINVAL);
		ASSERT_CONTAINS(err.msg, "t:1: ");
	}
	ASSERT_OK(dl_pci_desc_parse_topology(topo, strlen(topo), "t", &err, &d));
	for (size_t i = 0; i < d->n; i++) {
		if (d->specs[i].devfn == (0x04 << 3) && d->specs[i].bus == 0) {
			ASSERT_EQ(d->specs[i].params.remove_delay_us, 150000);
			ASSERT_EQ(d->specs[i].params.op_delay_us, 1000);
			seen04++;
		}
		if (d->specs[i].devfn == (0x05 << 3) && d->specs[i].bus == 0) {
			ASSERT_EQ(d->specs[i].params.probe_errno, EIO);
			seen05++;
		}
	}
	/* the topology has exactly one of each: the checks above ran */
	ASSERT_EQ(seen04, 1);
	ASSERT_EQ(seen05, 1);
	dl_pci_desc_free(d);
	leak_check();
}

TEST_MAIN(numvfs_follows_linux, vfs_share_one_readonly_template, drivers_autoprobe,
	  driver_registered_late, dynamic_ids,
	  s4_sriov_pf_every_removal_path, s5_numvfs_while_pf_removed,
	  s10_auto_online_vs_remove, online_offline_through_drivers,
	  online_refused_once_removal_began, slow_and_faulty, driver_keys_are_checked)
