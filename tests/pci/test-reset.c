/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of function reset (src/pci/reset.c) and runtime PM
 * (src/pci/pm.c): which methods a function has, what `reset_method`
 * takes, the driver's reset_prepare/reset_done around the reset under
 * the device lock, what the reset restores and what it clears, a reset
 * against a removal (forced with the pause point drain:wait and a gate
 * in the driver's callback), and runtime PM's control and status across
 * bind and unbind.
 */
#include <pthread.h>
#include <stdint.h>
#include <unistd.h>

#include <linux/pci_regs.h>

#include <devlife/devlife.h>
#include <urcu-bp.h>

#include "core/pause.h"
#include "platform-test.h"
#include "pci.h"
#include "platform.h"
#include "topology.h"

/* A port with two PCIe functions behind it; PCIe and conventional
 * functions on the root bus. */
static const char topo[] =
	"0000:00:00.0 vendor=0x8086 device=0x29c0 class=0x060000\n"
	"0000:00:01.0 type=rootport vendor=0x8086 device=0x3420 secbus=01 subbus=02\n"
	"0000:01:00.0 vendor=0x8086 device=0x10d3 class=0x020000 pcie=yes msi=1 "
	"bar0=128K driver=test-reset\n"
	"0000:01:00.1 vendor=0x8086 device=0x10d3 class=0x020000 pcie=yes bar0=128K\n"
	"0000:00:03.0 vendor=0x1af4 device=0x1041 class=0x020000 bar1=4K\n"
	"0000:00:04.0 vendor=0x1b36 device=0x0005 class=0x00ff00 pcie=yes bar0=4K\n";

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

static void teardown(struct fixture *fx)
{
	dl_pci_platform_free(fx->plat);
	dl_tree_free(fx->tree);
	for (int i = 0; i < 8; i++)
		urcu_bp_barrier();
	leak_check();
}

static const char *methods(struct dl_device *dev)
{
	static char buf[128];

	ASSERT_GE(dl_pci_reset_method_show(dev, buf, sizeof(buf)), 0);
	return buf;
}

static uint32_t cfg(struct dl_device *dev, unsigned int off, unsigned int len)
{
	uint8_t b[4] = { 0 };
	uint32_t v = 0;

	ASSERT_EQ(dl_pci_config_read(dev, off, b, len), (int)len);
	for (unsigned int i = 0; i < len; i++)
		v |= (uint32_t)b[i] << (8 * i);
	return v;
}

static void cfg_set(struct dl_device *dev, unsigned int off, unsigned int len,
		    uint32_t v)
{
	uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16),
			 (uint8_t)(v >> 24) };

	ASSERT_EQ(dl_pci_config_write(dev, off, b, len), (int)len);
}

static unsigned int find_cap(struct dl_device *dev, unsigned int id)
{
	unsigned int pos = cfg(dev, PCI_CAPABILITY_LIST, 1) & ~3u;

	for (int ttl = 48; pos >= 0x40 && ttl--; pos = cfg(dev, pos + 1, 1) & ~3u)
		if (cfg(dev, pos, 1) == id)
			return pos;
	FAIL_AT("no capability 0x%x", id);
}

/* The test driver: records its reset callbacks; reset_prepare can be
 * held at a gate (the race with a removal). */
static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
static bool hold_prepare, in_prepare, gate_open_;
static char calls[256];

static void note(struct dl_device *dev, const char *what)
{
	/* both run under the function's device lock */
	if (!dl_device_lock_held(dev))
		FAIL_AT("%s without the device lock", what);
	pthread_mutex_lock(&gate_lock);
	strcat(calls, what);
	strcat(calls, ",");
	pthread_mutex_unlock(&gate_lock);
}

static void drv_prepare(struct dl_device *dev, void *data)
{
	(void)data;
	note(dev, "prepare");
	pthread_mutex_lock(&gate_lock);
	in_prepare = true;
	pthread_cond_broadcast(&gate_cond);
	while (hold_prepare && !gate_open_)
		pthread_cond_wait(&gate_cond, &gate_lock);
	pthread_mutex_unlock(&gate_lock);
}

static void drv_done(struct dl_device *dev, void *data)
{
	(void)data;
	note(dev, "done");
}

static void drv_remove(struct dl_device *dev, void *data)
{
	(void)data;
	note(dev, "remove");
}

static enum dl_pci_ers_result drv_detected(struct dl_device *dev, void *data)
{
	(void)dev, (void)data;
	return DL_PCI_ERS_RECOVERED;
}

static const struct dl_pci_error_handlers handlers = {
	.error_detected = drv_detected,
	.reset_prepare = drv_prepare,
	.reset_done = drv_done,
};

static const struct dl_pci_driver reset_driver = {
	.name = "test-reset",
	.remove = drv_remove,
	.err_handler = &handlers,
};

/* ------------------------------------------------------------------ */

TEST(methods_as_probed_when_added)
{
	struct fixture fx = setup();
	struct dl_device *a = dev_must(fx.tree, "0000:01:00.0");
	struct dl_device *b = dev_must(fx.tree, "0000:01:00.1");
	struct dl_device *legacy = dev_must(fx.tree, "0000:00:03.0");
	struct dl_device *rc = dev_must(fx.tree, "0000:00:04.0");
	struct dl_device *port = dev_must(fx.tree, "0000:00:01.0");

	/* function 0 was alone on bus 01 when added: FLR and a bus reset
	 * (pci_parent_bus_reset()); function 1 found it there */
	ASSERT_STREQ(methods(a), "flr bus\n");
	ASSERT_STREQ(methods(b), "flr\n");
	/* on a root bus: no bus reset */
	ASSERT_STREQ(methods(rc), "flr\n");
	ASSERT_TRUE(dl_pci_reset_files(a) && dl_pci_reset_files(rc));
	/* conventional, PM with No_Soft_Reset: nothing, and no files */
	ASSERT_STREQ(methods(legacy), "");
	ASSERT_FALSE(dl_pci_reset_files(legacy));
	ASSERT_EQ(dl_pci_platform_reset_function(fx.plat, legacy), -ENOTTY);
	/* a port: no FLR, a bridge is never bus-reset alone */
	ASSERT_FALSE(dl_pci_reset_files(port));
	dl_device_put(a);
	dl_device_put(b);
	dl_device_put(legacy);
	dl_device_put(rc);
	dl_device_put(port);
	teardown(&fx);
}

TEST(reset_method_store_forms)
{
	struct fixture fx = setup();
	struct dl_device *a = dev_must(fx.tree, "0000:01:00.0");
	struct dl_device *par = dl_device_parent(a);
	static const char *const bad[] = {
		"bogus", "flr bogus", "bus", "pm", "device_specific", "acpi",
		"cxl_bus", "FLR", "flr,bus", "flr\tbus", "default x",
		"flr flr flr flr flr flr flr flr", "\n", " default", "flr \n",
		"default\n",
	};

	ASSERT_OK(dl_pci_reset_method_store(a, par, "flr"));
	ASSERT_STREQ(methods(a), "flr\n");
	/* each refusal leaves the list as it was */
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (dl_pci_reset_method_store(a, par, bad[i]) != -EINVAL)
			FAIL_AT("\"%s\" was not refused", bad[i]);
		ASSERT_STREQ(methods(a), "flr\n");
	}
	/* spaces around and between names; repeats are kept (as the
	 * kernel's reset_method_store()); seven at most */
	ASSERT_OK(dl_pci_reset_method_store(a, par, "  flr \n flr "));
	ASSERT_STREQ(methods(a), "flr flr\n");
	ASSERT_OK(dl_pci_reset_method_store(a, par, "flr flr flr flr flr flr flr"));
	ASSERT_STREQ(methods(a), "flr flr flr flr flr flr flr\n");
	/* empty: none (the files stay; a reset is refused) */
	ASSERT_OK(dl_pci_reset_method_store(a, par, ""));
	ASSERT_STREQ(methods(a), "");
	ASSERT_TRUE(dl_pci_reset_files(a));
	ASSERT_EQ(dl_pci_platform_reset_function(fx.plat, a), -ENOTTY);
	/* default probes again, now: 01:00.1 is on the bus, no "bus" */
	ASSERT_OK(dl_pci_reset_method_store(a, par, "default"));
	ASSERT_STREQ(methods(a), "flr\n");
	dl_device_put(a);
	teardown(&fx);
}

TEST(reset_calls_the_driver_and_restores_the_state)
{
	struct fixture fx = setup();
	struct dl_device *a = dev_must(fx.tree, "0000:01:00.0");
	struct dl_driver *drv;
	unsigned int exp, msi;
	uint32_t cmd, devctl;
	uint64_t t0;

	ASSERT_OK(dl_pci_platform_register_driver(fx.plat, &reset_driver, NULL, &drv));
	ASSERT_STREQ(drv_of(a), "test-reset");
	exp = find_cap(a, PCI_CAP_ID_EXP);
	msi = find_cap(a, PCI_CAP_ID_MSI);
	/* what a driver programs: memory decode and bus master, a
	 * payload size, MSI enabled (no MSI model restores it) */
	cfg_set(a, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	cfg_set(a, exp + PCI_EXP_DEVCTL, 2,
		cfg(a, exp + PCI_EXP_DEVCTL, 2) | PCI_EXP_DEVCTL_RELAX_EN);
	cfg_set(a, msi + PCI_MSI_FLAGS, 2, PCI_MSI_FLAGS_ENABLE);
	ASSERT_EQ(cfg(a, msi + PCI_MSI_FLAGS, 2) & PCI_MSI_FLAGS_ENABLE,
		  PCI_MSI_FLAGS_ENABLE);
	cmd = cfg(a, PCI_COMMAND, 2);
	devctl = cfg(a, exp + PCI_EXP_DEVCTL, 2);

	t0 = test_now_ns();
	ASSERT_OK(dl_pci_platform_reset_function(fx.plat, a));
	/* pcie_flr()'s msleep(100) */
	ASSERT_GE(test_now_ns() - t0, 100000000ull);
	ASSERT_STREQ(calls, "prepare,done,");
	ASSERT_EQ(cfg(a, PCI_COMMAND, 2), cmd);
	ASSERT_EQ(cfg(a, exp + PCI_EXP_DEVCTL, 2), devctl);
	ASSERT_EQ(cfg(a, msi + PCI_MSI_FLAGS, 2) & PCI_MSI_FLAGS_ENABLE, 0);
	ASSERT_EQ(dl_device_state(a), DL_STATE_LIVE);
	ASSERT_STREQ(drv_of(a), "test-reset");

	dl_device_put(a);
	ASSERT_OK(dl_pci_platform_unregister_driver(fx.plat, drv));
	teardown(&fx);
}

struct resetter {
	struct dl_pci_platform *plat;
	struct dl_device *dev;
	int ret;
};

static void *reset_thread(void *arg)
{
	struct resetter *r = arg;

	r->ret = dl_pci_platform_reset_function(r->plat, r->dev);
	return NULL;
}

/*
 * A removal that begins while a reset runs waits for it: the reset is
 * inside the function's active section (held in reset_prepare here), so
 * the removal reaches drain:wait and stays there; the driver sees
 * prepare, done, then remove.
 */
TEST(removal_waits_for_a_reset)
{
	struct fixture fx = setup();
	struct resetter rs = { fx.plat, dev_must(fx.tree, "0000:01:00.0"), 1 };
	struct remover rm = REMOVER(rs.dev, DL_REMOVE_WAIT);
	struct dl_driver *drv;
	pthread_t tr, tm;

	ASSERT_OK(dl_pci_platform_register_driver(fx.plat, &reset_driver, NULL, &drv));
	hold_prepare = true;
	tr = spawn(reset_thread, &rs);
	pthread_mutex_lock(&gate_lock);
	while (!in_prepare)
		pthread_cond_wait(&gate_cond, &gate_lock);
	pthread_mutex_unlock(&gate_lock);

	pause_arm(0, "drain:wait", rs.dev);
	tm = spawn(remove_thread, &rm);
	pause_wait(0); /* the removal found the reset inside */
	pause_release(0);
	ASSERT_TRUE(still_running(tm, 100));
	ASSERT_EQ(dl_device_state(rs.dev), DL_STATE_REMOVING);
	pthread_mutex_lock(&gate_lock);
	ASSERT_STREQ(calls, "prepare,");
	gate_open_ = true;
	pthread_cond_broadcast(&gate_cond);
	pthread_mutex_unlock(&gate_lock);
	join(tr);
	join(tm);
	ASSERT_EQ(rs.ret, 0);
	ASSERT_EQ(rm.ret, 0);
	ASSERT_STREQ(calls, "prepare,done,remove,");
	ASSERT_EQ(dl_device_state(rs.dev), DL_STATE_DEAD);
	dl_device_put(rs.dev);
	ASSERT_OK(dl_pci_platform_unregister_driver(fx.plat, drv));
	teardown(&fx);
}

struct holder {
	struct dl_device *dev;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool in, out;
};

static void *hold_thread(void *arg)
{
	struct holder *h = arg;

	ASSERT_OK(dl_device_enter(h->dev));
	pthread_mutex_lock(&h->lock);
	h->in = true;
	pthread_cond_broadcast(&h->cond);
	while (!h->out)
		pthread_cond_wait(&h->cond, &h->lock);
	pthread_mutex_unlock(&h->lock);
	dl_device_exit(h->dev);
	return NULL;
}

/* A reset asked for once the removal has begun is refused, and the
 * driver sees no callback: it may be letting go of the function. */
TEST(reset_refused_once_removal_began)
{
	struct fixture fx = setup();
	struct holder h = { dev_must(fx.tree, "0000:01:00.0"),
			    PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER,
			    false, false };
	struct remover rm = REMOVER(h.dev, DL_REMOVE_WAIT);
	struct dl_driver *drv;
	pthread_t th, tm;

	ASSERT_OK(dl_pci_platform_register_driver(fx.plat, &reset_driver, NULL, &drv));
	th = spawn(hold_thread, &h);
	pthread_mutex_lock(&h.lock);
	while (!h.in)
		pthread_cond_wait(&h.cond, &h.lock);
	pthread_mutex_unlock(&h.lock);
	pause_arm(0, "drain:wait", h.dev);
	tm = spawn(remove_thread, &rm);
	pause_wait(0); /* removal begun, waiting for the holder */
	ASSERT_EQ(dl_pci_platform_reset_function(fx.plat, h.dev), -ENODEV);
	ASSERT_STREQ(calls, "");
	pause_release(0);
	pthread_mutex_lock(&h.lock);
	h.out = true;
	pthread_cond_broadcast(&h.cond);
	pthread_mutex_unlock(&h.lock);
	join(th);
	join(tm);
	ASSERT_EQ(rm.ret, 0);
	ASSERT_STREQ(calls, "remove,");
	dl_device_put(h.dev);
	ASSERT_OK(dl_pci_platform_unregister_driver(fx.plat, drv));
	teardown(&fx);
}

static const char *pm_text(struct dl_device *dev, int what)
{
	static char buf[64];

	if (what == 0)
		ASSERT_GE(dl_pci_pm_control_show(dev, buf, sizeof(buf)), 0);
	else
		ASSERT_GE(dl_pci_pm_status_show(dev, buf, sizeof(buf)), 0);
	return buf;
}

/* pci_pm_init() forbids: "on", active; "auto" lets an unbound function
 * suspend, a bound one stays active (its probe holds a reference) until
 * unbound; "on" resumes it. */
TEST(runtime_pm_control_and_status)
{
	struct fixture fx = setup();
	struct dl_device *a = dev_must(fx.tree, "0000:01:00.0");
	struct dl_driver *drv;
	char t[64];

	ASSERT_STREQ(pm_text(a, 0), "on\n");
	ASSERT_STREQ(pm_text(a, 1), "active\n");
	ASSERT_EQ(dl_pci_pm_control_store(a, "bogus"), -EINVAL);
	ASSERT_EQ(dl_pci_pm_control_store(a, "auto\n"), -EINVAL);
	ASSERT_EQ(dl_pci_pm_control_store(a, ""), -EINVAL);
	ASSERT_OK(dl_pci_pm_control_store(a, "auto"));
	ASSERT_STREQ(pm_text(a, 0), "auto\n");
	ASSERT_STREQ(pm_text(a, 1), "suspended\n");
	ASSERT_OK(dl_pci_platform_register_driver(fx.plat, &reset_driver, NULL, &drv));
	ASSERT_STREQ(drv_of(a), "test-reset");
	ASSERT_STREQ(pm_text(a, 1), "active\n");
	/* a reset keeps it active, and it is still after */
	ASSERT_OK(dl_pci_platform_reset_function(fx.plat, a));
	ASSERT_STREQ(pm_text(a, 1), "active\n");
	ASSERT_OK(dl_device_unbind(a));
	ASSERT_STREQ(pm_text(a, 1), "suspended\n");
	test_sleep_ms(20);
	ASSERT_GE(dl_pci_pm_time_show(a, true, t, sizeof(t)), 0);
	ASSERT_GE(atoi(t), 20);
	ASSERT_OK(dl_pci_pm_control_store(a, "on"));
	ASSERT_STREQ(pm_text(a, 1), "active\n");
	ASSERT_OK(dl_pci_pm_control_store(a, "on"));
	ASSERT_STREQ(pm_text(a, 0), "on\n");
	/* wakeup: a PM capability with PME */
	ASSERT_TRUE(dl_pci_pm_can_wakeup(a));
	ASSERT_GE(dl_pci_pm_wakeup_show(a, "wakeup_count", t, sizeof(t)), 0);
	ASSERT_STREQ(t, "\n");
	ASSERT_EQ(dl_pci_pm_wakeup_store(a, "on"), -EINVAL);
	ASSERT_OK(dl_pci_pm_wakeup_store(a, "enabled"));
	ASSERT_GE(dl_pci_pm_wakeup_show(a, "wakeup", t, sizeof(t)), 0);
	ASSERT_STREQ(t, "enabled\n");
	ASSERT_GE(dl_pci_pm_wakeup_show(a, "wakeup_count", t, sizeof(t)), 0);
	ASSERT_STREQ(t, "0\n");
	dl_device_put(a);
	ASSERT_OK(dl_pci_platform_unregister_driver(fx.plat, drv));
	teardown(&fx);
}

/* A bridge suspends only once every function below is suspended; a
 * function that resumes resumes the bridge first (rpm_resume()). */
TEST(runtime_pm_parent_and_children)
{
	struct fixture fx = setup();
	struct dl_device *port = dev_must(fx.tree, "0000:00:01.0");
	struct dl_device *a = dev_must(fx.tree, "0000:01:00.0");
	struct dl_device *b = dev_must(fx.tree, "0000:01:00.1");

	ASSERT_STREQ(drv_of(port), "pcieport");
	ASSERT_OK(dl_pci_pm_control_store(port, "auto"));
	ASSERT_STREQ(pm_text(port, 1), "active\n"); /* pcieport holds it */
	ASSERT_OK(dl_device_unbind(port));
	ASSERT_STREQ(pm_text(port, 1), "active\n"); /* its children are */
	ASSERT_OK(dl_pci_pm_control_store(a, "auto"));
	ASSERT_STREQ(pm_text(a, 1), "suspended\n");
	ASSERT_STREQ(pm_text(port, 1), "active\n"); /* b still is */
	ASSERT_OK(dl_pci_pm_control_store(b, "auto"));
	ASSERT_STREQ(pm_text(b, 1), "suspended\n");
	ASSERT_STREQ(pm_text(port, 1), "suspended\n");
	ASSERT_OK(dl_pci_pm_control_store(a, "on"));
	ASSERT_STREQ(pm_text(a, 1), "active\n");
	ASSERT_STREQ(pm_text(port, 1), "active\n");
	dl_device_put(port);
	dl_device_put(a);
	dl_device_put(b);
	teardown(&fx);
}

TEST_MAIN(methods_as_probed_when_added, reset_method_store_forms,
	  reset_calls_the_driver_and_restores_the_state, removal_waits_for_a_reset,
	  reset_refused_once_removal_began, runtime_pm_control_and_status,
	  runtime_pm_parent_and_children)
