/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of the PCI platform (src/pci/platform*.c): the hardware model
 * behind rescans, host events (add, eject, surprise, relations, error) on
 * per-bus ordered queues, a bus going away with events still queued (S3),
 * error recovery with and without driver handlers, driver_override.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <unistd.h>

#include <devlife/devlife.h>
#include <urcu-bp.h>

#include "core/pause.h"
#include "platform-test.h"
#include "pci.h"
#include "platform.h"
#include "topology.h"

/* A root bus with a root port (bus 01 behind it) and functions on both. */
static const char topo[] =
	"0000:00:00.0 vendor=0x8086 device=0x29c0 class=0x060000\n"
	"0000:00:01.0 type=rootport vendor=0x8086 device=0x3420 secbus=01 subbus=01\n"
	"0000:01:00.0 vendor=0x1af4 device=0x1041 class=0x020000 bar1=4K\n"
	"0000:01:00.1 vendor=0x1af4 device=0x1042 class=0x010000 bar1=4K\n"
	"0000:01:01.0 vendor=0x8086 device=0x10d3 class=0x020000 bar0=128K "
	"driver=devlife-nic\n"
	"0000:00:03.0 vendor=0x1af4 device=0x1041 class=0x020000 bar1=4K\n"
	"0000:00:05.0 vendor=0x1b36 device=0x0005 class=0x00ff00 bar0=4K "
	"driver=test-err\n";

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

static int host(struct fixture *fx, enum dl_pci_host_event ev, const char *bdf,
		const char *const *kv, char *msg)
{
	uint32_t dom;
	uint8_t bus, devfn;

	if (dl_pci_bdf_parse(bdf, strlen(bdf), &dom, &bus, &devfn) < 0)
		FAIL_AT("bad address %s", bdf);
	msg[0] = '\0';
	return dl_pci_platform_host(fx->plat, ev, dom, bus, devfn, kv, msg, 256);
}

static int present(struct fixture *fx, const char *bdf)
{
	uint32_t dom;
	uint8_t bus, devfn;

	ASSERT_OK(dl_pci_bdf_parse(bdf, strlen(bdf), &dom, &bus, &devfn));
	return dl_pci_platform_present(fx->plat, dom, bus, devfn);
}

static char *tree_text(struct fixture *fx)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	ASSERT_TRUE(f);
	ASSERT_OK(dl_pci_platform_print_tree(fx->plat, f));
	fclose(f);
	return text;
}

/* ------------------------------------------------------------------ */

TEST(builtin_drivers_bind_by_the_rules)
{
	struct fixture fx = setup();
	struct dl_device *root = dev_must(fx.tree, "pci0000:00");
	struct dl_device *port = dev_must(fx.tree, "0000:00:01.0");
	struct dl_device *virt = dev_must(fx.tree, "0000:01:00.0");
	struct dl_device *nic = dev_must(fx.tree, "0000:01:01.0");
	struct dl_device *hostb = dev_must(fx.tree, "0000:00:00.0");
	struct dl_device *errdev = dev_must(fx.tree, "0000:00:05.0");

	ASSERT_STREQ(drv_of(root), "pci-root");
	ASSERT_STREQ(drv_of(port), "pcieport");
	ASSERT_STREQ(drv_of(virt), "virtio-pci");
	ASSERT_STREQ(drv_of(nic), "devlife-nic");
	ASSERT_STREQ(drv_of(hostb), "(none)");
	/* a driver named in the topology that is not registered: unbound */
	ASSERT_STREQ(drv_of(errdev), "(none)");
	ASSERT_TRUE(dl_driver_find(fx.tree, "pci-stub"));
	dl_device_put(root);
	dl_device_put(port);
	dl_device_put(virt);
	dl_device_put(nic);
	dl_device_put(hostb);
	dl_device_put(errdev);
	teardown(&fx);
}

/* Another thread inside a device until told to leave. */
struct user {
	struct dl_device *dev;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool inside, leave;
};

static void *use_dev(void *arg)
{
	struct user *u = arg;

	ASSERT_OK(dl_device_enter(u->dev));
	pthread_mutex_lock(&u->lock);
	u->inside = true;
	pthread_cond_broadcast(&u->cond);
	while (!u->leave)
		pthread_cond_wait(&u->cond, &u->lock);
	pthread_mutex_unlock(&u->lock);
	dl_device_exit(u->dev);
	return NULL;
}

TEST(print_tree_shows_state_driver_users)
{
	struct fixture fx = setup();
	struct dl_device *dev = dev_must(fx.tree, "0000:01:00.1");
	struct user u = { dev, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER,
			  false, false };
	pthread_t t = spawn(use_dev, &u);
	char *text;

	pthread_mutex_lock(&u.lock);
	while (!u.inside)
		pthread_cond_wait(&u.cond, &u.lock);
	pthread_mutex_unlock(&u.lock);
	text = tree_text(&fx);
	pthread_mutex_lock(&u.lock);
	u.leave = true;
	pthread_cond_broadcast(&u.cond);
	pthread_mutex_unlock(&u.lock);
	join(t);
	ASSERT_CONTAINS(text, "pci0000:00 LIVE drv=pci-root users=0\n");
	ASSERT_CONTAINS(text, "\n  0000:00:01.0 [8086:3420] LIVE drv=pcieport users=0\n");
	ASSERT_CONTAINS(text, "\n    0000:01:00.1 [1af4:1042] LIVE drv=virtio-pci users=1\n");
	ASSERT_CONTAINS(text, "\n  0000:00:05.0 [1b36:0005] LIVE drv=- users=0\n");
	/* sorted: 00:00.0 before 00:01.0 before its children before 00:03.0 */
	ASSERT_LT(strstr(text, "0000:00:00.0"), strstr(text, "0000:00:01.0"));
	ASSERT_LT(strstr(text, "0000:01:01.0"), strstr(text, "0000:00:03.0"));
	free(text);
	dl_device_put(dev);
	teardown(&fx);
}

TEST(rescan_brings_back_removed_functions)
{
	struct fixture fx = setup();
	struct dl_device *dev = dev_must(fx.tree, "0000:01:00.1");
	struct dl_device *port, *ep;

	ASSERT_OK(dl_device_remove(dev, DL_REMOVE_WAIT, DL_NO_TIMEOUT));
	dl_device_put(dev);
	ASSERT_FALSE(dev_exists(fx.tree, "0000:01:00.1"));
	ASSERT_EQ(present(&fx, "0000:01:00.1"), 1); /* still in the machine */
	ASSERT_EQ(dl_pci_platform_rescan(fx.plat, NULL), 1);
	dev = dev_must(fx.tree, "0000:01:00.1");
	ASSERT_STREQ(drv_of(dev), "virtio-pci");
	dl_device_put(dev);
	ASSERT_EQ(dl_pci_platform_rescan(fx.plat, NULL), 0);

	/* a bridge comes back with everything behind it */
	port = dev_must(fx.tree, "0000:00:01.0");
	ASSERT_OK(dl_device_remove(port, DL_REMOVE_WAIT, DL_NO_TIMEOUT));
	dl_device_put(port);
	ASSERT_FALSE(dev_exists(fx.tree, "0000:01:00.0"));
	dev = dev_must(fx.tree, "pci0000:00");
	ASSERT_EQ(dl_pci_platform_rescan(fx.plat, dev), 4);
	dl_device_put(dev);
	ASSERT_TRUE(dev_exists(fx.tree, "0000:01:01.0"));
	dev = dev_must(fx.tree, "0000:01:01.0");
	ASSERT_STREQ(drv_of(dev), "devlife-nic"); /* driver= is honoured again */
	dl_device_put(dev);

	/* scoped: an endpoint's rescan covers its own bus only */
	dev = dev_must(fx.tree, "0000:01:00.1");
	ASSERT_OK(dl_device_remove(dev, DL_REMOVE_WAIT, DL_NO_TIMEOUT));
	dl_device_put(dev);
	dev = dev_must(fx.tree, "0000:00:03.0");
	ASSERT_OK(dl_device_remove(dev, DL_REMOVE_WAIT, DL_NO_TIMEOUT));
	dl_device_put(dev);
	ep = dev_must(fx.tree, "0000:01:00.0");
	ASSERT_EQ(dl_pci_platform_rescan(fx.plat, ep), 1);
	dl_device_put(ep);
	ASSERT_TRUE(dev_exists(fx.tree, "0000:01:00.1"));
	ASSERT_FALSE(dev_exists(fx.tree, "0000:00:03.0"));
	ASSERT_EQ(dl_pci_platform_rescan(fx.plat, NULL), 1);
	ASSERT_TRUE(dev_exists(fx.tree, "0000:00:03.0"));
	teardown(&fx);
}

TEST(eject_takes_the_hardware_away)
{
	struct fixture fx = setup();
	char msg[256];

	ASSERT_EQ(host(&fx, DL_PCI_HOST_EJECT, "0000:01:00.0", NULL, msg), 0);
	ASSERT_CONTAINS(msg, "ejected 0000:01:00.0");
	ASSERT_FALSE(dev_exists(fx.tree, "0000:01:00.0"));
	ASSERT_EQ(present(&fx, "0000:01:00.0"), 0);
	ASSERT_EQ(dl_pci_platform_rescan(fx.plat, NULL), 0);
	ASSERT_FALSE(dev_exists(fx.tree, "0000:01:00.0"));
	/* twice: it is not there any more */
	ASSERT_EQ(host(&fx, DL_PCI_HOST_EJECT, "0000:01:00.0", NULL, msg), -ENODEV);
	ASSERT_CONTAINS(msg, "not present");
	/* no such function, no such bus */
	ASSERT_EQ(host(&fx, DL_PCI_HOST_EJECT, "0000:00:1f.0", NULL, msg), -ENODEV);
	ASSERT_CONTAINS(msg, "no function");
	ASSERT_EQ(host(&fx, DL_PCI_HOST_EJECT, "0000:07:00.0", NULL, msg), -ENODEV);
	ASSERT_CONTAINS(msg, "no bus 0000:07");

	/* surprise: gone at once, not rescanned either */
	ASSERT_EQ(host(&fx, DL_PCI_HOST_SURPRISE, "0000:00:03.0", NULL, msg), 0);
	ASSERT_CONTAINS(msg, "surprise-removed");
	ASSERT_FALSE(dev_exists(fx.tree, "0000:00:03.0"));
	ASSERT_EQ(present(&fx, "0000:00:03.0"), 0);

	/* a bridge takes what is behind it out of the machine */
	ASSERT_EQ(host(&fx, DL_PCI_HOST_EJECT, "0000:00:01.0", NULL, msg), 0);
	ASSERT_FALSE(dev_exists(fx.tree, "0000:01:00.1"));
	ASSERT_EQ(present(&fx, "0000:01:00.1"), 0);
	ASSERT_EQ(dl_pci_platform_rescan(fx.plat, NULL), 0);
	ASSERT_EQ(host(&fx, DL_PCI_HOST_EJECT, "0000:01:00.1", NULL, msg), -ENODEV);
	ASSERT_CONTAINS(msg, "bus 0000:01 is gone");
	teardown(&fx);
}

struct reader {
	struct dl_device *dev;
	uint8_t buf[64];
	int r;
};

static void *slow_read(void *arg)
{
	struct reader *rd = arg;

	rd->r = dl_pci_config_read(rd->dev, 0, rd->buf, sizeof(rd->buf));
	return NULL;
}

/* S1 through the platform: the eject waits for the slow read in flight,
 * which returns full data; afterwards reads fail cleanly. */
TEST(eject_waits_for_a_read_in_flight)
{
	struct fixture fx = setup();
	struct reader rd = { .dev = dev_must(fx.tree, "0000:00:05.0") };
	uint64_t t0;
	pthread_t t;
	char msg[256];

	ASSERT_OK(dl_pci_func_set_delay(rd.dev, 300000));
	t0 = test_now_ns();
	t = spawn(slow_read, &rd);
	while (dl_device_active_users(rd.dev) < 1) {
		if (test_now_ns() - t0 > 10000000000ull)
			FAIL_AT("the reader never entered");
		test_sleep_ms(1);
	}
	ASSERT_EQ(host(&fx, DL_PCI_HOST_EJECT, "0000:00:05.0", NULL, msg), 0);
	/* the read entered after t0 and holds the device for 300 ms: the
	 * eject cannot have returned before that */
	ASSERT_GE(test_now_ns() - t0, 300000000ull);
	join(t);
	ASSERT_EQ(rd.r, 64);
	ASSERT_EQ(rd.buf[0] | rd.buf[1] << 8, 0x1b36);
	ASSERT_EQ(dl_device_state(rd.dev), DL_STATE_DEAD);
	ASSERT_EQ(dl_pci_config_read(rd.dev, 0, rd.buf, 4), -ENODEV);
	dl_device_put(rd.dev);
	teardown(&fx);
}

TEST(add_good_and_bad)
{
	static const char *const good[] = { "vendor=0x1af4", "device=0x1041",
					    "class=0x020000", "bar1=4K", NULL };
	static const char *const unknown_key[] = { "vendor=0x1af4", "device=0x1041",
						   "class=0x020000", "bogus=1", NULL };
	static const char *const no_vendor[] = { "device=0x1041", "class=0x020000",
						 NULL };
	static const char *const blank[] = { "vendor=0x1af4 device=1", NULL };
	static const char *const bad_bridge[] = { "type=bridge", "vendor=0x8086",
						  "device=0x1234", "secbus=01", NULL };
	struct fixture fx = setup();
	struct dl_tree_stats before, after;
	char msg[256], res[4096], *t0, *t1;
	struct dl_device *dev, *old;

	t0 = tree_text(&fx);
	ASSERT_OK(dl_tree_get_stats(fx.tree, &before));
	ASSERT_EQ(host(&fx, DL_PCI_HOST_ADD, "0000:00:06.0", unknown_key, msg), -EINVAL);
	ASSERT_CONTAINS(msg, "bogus");
	ASSERT_EQ(host(&fx, DL_PCI_HOST_ADD, "0000:00:06.0", no_vendor, msg), -EINVAL);
	ASSERT_CONTAINS(msg, "vendor");
	ASSERT_EQ(host(&fx, DL_PCI_HOST_ADD, "0000:00:06.0", blank, msg), -EINVAL);
	ASSERT_CONTAINS(msg, "bad byte");
	ASSERT_EQ(host(&fx, DL_PCI_HOST_ADD, "0000:00:03.0", good, msg), -EEXIST);
	ASSERT_EQ(host(&fx, DL_PCI_HOST_ADD, "0000:02:00.0", good, msg), -ENODEV);
	ASSERT_EQ(host(&fx, DL_PCI_HOST_ADD, "0000:00:07.0", bad_bridge, msg), -EINVAL);
	ASSERT_CONTAINS(msg, "already the secondary bus");
	/* nothing changed */
	ASSERT_OK(dl_tree_get_stats(fx.tree, &after));
	ASSERT_EQ(after.adds, before.adds);
	ASSERT_EQ(present(&fx, "0000:00:06.0"), -ENOENT);
	t1 = tree_text(&fx);
	ASSERT_STREQ(t0, t1);
	free(t0);
	free(t1);

	ASSERT_EQ(host(&fx, DL_PCI_HOST_ADD, "0000:00:06.0", good, msg), 0);
	ASSERT_CONTAINS(msg, "added 0000:00:06.0");
	dev = dev_must(fx.tree, "0000:00:06.0");
	ASSERT_STREQ(drv_of(dev), "virtio-pci");
	ASSERT_EQ(present(&fx, "0000:00:06.0"), 1);
	/* its BAR does not land on an existing function's */
	old = dev_must(fx.tree, "0000:00:03.0");
	ASSERT_GT(dl_pci_attr_show(dev, DL_PCI_ATTR_RESOURCE, res, sizeof(res)), 0);
	{
		char res_old[4096];
		unsigned long long s1, s2;

		ASSERT_GT(dl_pci_attr_show(old, DL_PCI_ATTR_RESOURCE, res_old,
					   sizeof(res_old)), 0);
		/* line 2 is BAR 1 */
		ASSERT_EQ(sscanf(strchr(res, '\n') + 1, "0x%llx", &s1), 1);
		ASSERT_EQ(sscanf(strchr(res_old, '\n') + 1, "0x%llx", &s2), 1);
		ASSERT_NE(s1, 0);
		ASSERT_NE(s1, s2);
	}
	dl_device_put(old);
	dl_device_put(dev);
	/* behind the bridge, and at an ejected function's address */
	ASSERT_EQ(host(&fx, DL_PCI_HOST_ADD, "0000:01:02.0", good, msg), 0);
	ASSERT_EQ(host(&fx, DL_PCI_HOST_EJECT, "0000:01:00.1", NULL, msg), 0);
	ASSERT_EQ(host(&fx, DL_PCI_HOST_ADD, "0000:01:00.1", good, msg), 0);
	dev = dev_must(fx.tree, "0000:01:00.1");
	ASSERT_EQ(dl_pci_func_of(dev)->device, 0x1041);
	dl_device_put(dev);
	/* removed through sysfs, the added function comes back on rescan */
	dev = dev_must(fx.tree, "0000:00:06.0");
	ASSERT_OK(dl_device_remove(dev, DL_REMOVE_WAIT, DL_NO_TIMEOUT));
	dl_device_put(dev);
	ASSERT_EQ(dl_pci_platform_rescan(fx.plat, NULL), 1);
	ASSERT_TRUE(dev_exists(fx.tree, "0000:00:06.0"));
	/* a new bridge gets a queue of its own */
	{
		static const char *const br[] = { "type=bridge", "vendor=0x8086",
						  "device=0x1234", "secbus=05", NULL };

		ASSERT_EQ(host(&fx, DL_PCI_HOST_ADD, "0000:00:08.0", br, msg), 0);
		dev = dev_must(fx.tree, "0000:00:08.0");
		ASSERT_STREQ(drv_of(dev), "pcieport");
		dl_device_put(dev);
		ASSERT_EQ(host(&fx, DL_PCI_HOST_ADD, "0000:05:00.0", good, msg), 0);
		ASSERT_TRUE(dev_exists(fx.tree, "0000:05:00.0"));
	}
	teardown(&fx);
}

TEST(relations_eject_the_missing_only)
{
	static const char *const keep[] = { "0000:01:00.0", NULL };
	static const char *const wrong_bus[] = { "0000:00:03.0", NULL };
	struct fixture fx = setup();
	struct dl_device *kept = dev_must(fx.tree, "0000:01:00.0");
	char msg[256];

	ASSERT_EQ(host(&fx, DL_PCI_HOST_RELATIONS, "0000:01:00.0", wrong_bus, msg),
		  -EINVAL);
	ASSERT_TRUE(dev_exists(fx.tree, "0000:01:00.1"));
	ASSERT_EQ(host(&fx, DL_PCI_HOST_RELATIONS, "0000:01:00.0", keep, msg), 0);
	ASSERT_CONTAINS(msg, "ejected 0000:01:00.1 0000:01:01.0");
	ASSERT_FALSE(dev_exists(fx.tree, "0000:01:00.1"));
	ASSERT_FALSE(dev_exists(fx.tree, "0000:01:01.0"));
	ASSERT_EQ(dl_device_state(kept), DL_STATE_LIVE);
	ASSERT_TRUE(dev_exists(fx.tree, "0000:00:03.0"));
	ASSERT_EQ(present(&fx, "0000:01:00.1"), 0);
	ASSERT_EQ(present(&fx, "0000:01:00.0"), 1);
	ASSERT_EQ(dl_pci_platform_rescan(fx.plat, NULL), 0);
	/* the same again: nothing to do */
	ASSERT_EQ(host(&fx, DL_PCI_HOST_RELATIONS, "0000:01:00.0", keep, msg), 0);
	ASSERT_CONTAINS(msg, "nothing to eject");
	dl_device_put(kept);
	teardown(&fx);
}

/* A driver that records the order of its probes and checks that two never
 * overlap. */
static pthread_mutex_t order_lock = PTHREAD_MUTEX_INITIALIZER;
static char order_seen[16][24];
static int order_n;
static atomic_int order_inside;

static int order_probe(struct dl_device *dev, void *data)
{
	ASSERT_EQ(atomic_fetch_add(&order_inside, 1), 0);
	test_sleep_ms(2);
	pthread_mutex_lock(&order_lock);
	snprintf(order_seen[order_n++], sizeof(order_seen[0]), "%s",
		 dl_device_name(dev));
	pthread_mutex_unlock(&order_lock);
	atomic_fetch_sub(&order_inside, 1);
	return 0;
}

static const struct dl_pci_driver order_driver = {
	.name = "order-test",
	.probe = order_probe,
};

struct submitter {
	struct fixture *fx;
	uint8_t devfn;
	struct dl_pci_host_ticket *ticket;
	int r, result;
	char msg[256];
};

static void *submit_add(void *arg)
{
	static const char *const kv[] = { "vendor=0xabcd", "device=0x0001",
					  "class=0xff0000", "driver=order-test", NULL };
	struct submitter *s = arg;

	s->r = dl_pci_platform_host_submit(s->fx->plat, DL_PCI_HOST_ADD, 0, 0, s->devfn,
					   kv, s->msg, sizeof(s->msg), &s->ticket);
	return NULL;
}

TEST(events_of_a_bus_run_in_order)
{
	struct fixture fx = setup();
	struct dl_device *root = dev_must(fx.tree, "pci0000:00");
	struct submitter sub[8];
	pthread_t t;

	ASSERT_OK(dl_pci_platform_register_driver(fx.plat, &order_driver, NULL, NULL));
	/* hold the bus's worker before its first event, so that all of them
	 * queue up behind it */
	pause_arm(0, "work:run", root);
	for (int i = 0; i < 8; i++) {
		sub[i] = (struct submitter){ .fx = &fx, .devfn = (uint8_t)((0x10 + i) << 3) };
		/* each from its own thread, one after the other */
		t = spawn(submit_add, &sub[i]);
		join(t);
		ASSERT_OK(sub[i].r);
		if (i == 0)
			pause_wait(0);
	}
	pause_release(0);
	for (int i = 0; i < 8; i++) {
		sub[i].result = dl_pci_platform_host_wait(sub[i].ticket, sub[i].msg,
							  sizeof(sub[i].msg));
		ASSERT_OK(sub[i].result);
	}
	ASSERT_EQ(order_n, 8);
	for (int i = 0; i < 8; i++) {
		char want[24];

		snprintf(want, sizeof(want), "0000:00:%02x.0", 0x10 + i);
		ASSERT_STREQ(order_seen[i], want);
	}
	dl_device_put(root);
	teardown(&fx);
}

/* Events of different buses do not wait for each other. */
static void *eject_slow(void *arg)
{
	struct fixture *fx = arg;
	char msg[256];

	return (void *)(intptr_t)host(fx, DL_PCI_HOST_EJECT, "0000:00:05.0", NULL, msg);
}

TEST(buses_do_not_wait_for_each_other)
{
	struct fixture fx = setup();
	struct reader rd = { .dev = dev_must(fx.tree, "0000:00:05.0") };
	pthread_t reader, ejector;
	char msg[256];

	/* an eject on bus 00 that waits for a long read ... */
	ASSERT_OK(dl_pci_func_set_delay(rd.dev, 2000000));
	reader = spawn(slow_read, &rd);
	while (dl_device_active_users(rd.dev) < 1)
		test_sleep_ms(1);
	ejector = spawn(eject_slow, &fx);
	while (dl_device_state(rd.dev) != DL_STATE_REMOVING)
		test_sleep_ms(1);
	/* ... does not hold up bus 01 */
	ASSERT_EQ(host(&fx, DL_PCI_HOST_EJECT, "0000:01:00.1", NULL, msg), 0);
	ASSERT_TRUE(still_running(ejector, 0));
	ASSERT_EQ((intptr_t)join(ejector), 0);
	join(reader);
	ASSERT_EQ(rd.r, 64);
	dl_device_put(rd.dev);
	teardown(&fx);
}

static atomic_int handler_calls;

static enum dl_pci_ers_result count_detected(struct dl_device *dev, void *data)
{
	atomic_fetch_add(&handler_calls, 1);
	return DL_PCI_ERS_RECOVERED;
}

static const struct dl_pci_error_handlers count_handlers = {
	.error_detected = count_detected,
};

static const struct dl_pci_driver count_driver = {
	.name = "count-err",
	.err_handler = &count_handlers,
};

/* S3: a bus is removed while events for it are queued. Its event source
 * closes first, the queue drains (what had not started is cancelled), and
 * no handler runs against the removed bus. */
TEST(removing_a_bridge_cancels_its_queued_events)
{
	static const char *const none[] = { NULL };
	struct fixture fx = setup();
	struct dl_device *port = dev_must(fx.tree, "0000:00:01.0");
	struct dl_device *ep = dev_must(fx.tree, "0000:01:00.1");
	struct dl_pci_host_ticket *e1, *e2, *e3;
	struct dl_driver *cnt;
	struct remover rm = REMOVER(port, DL_REMOVE_WAIT);
	char msg[256];
	pthread_t t;

	/* 01:00.1 gets a driver with error handlers: they must not run */
	ASSERT_OK(dl_pci_platform_register_driver(fx.plat, &count_driver, NULL, &cnt));
	ASSERT_OK(dl_device_unbind(ep));
	ASSERT_OK(dl_pci_platform_driver_override(ep, "count-err", NULL, 0));
	ASSERT_OK(dl_device_bind(ep, NULL));
	ASSERT_STREQ(drv_of(ep), "count-err");

	pause_arm(0, "work:run", port);
	ASSERT_OK(dl_pci_platform_host_submit(fx.plat, DL_PCI_HOST_EJECT, 0, 1, 0x00,
					      NULL, msg, sizeof(msg), &e1));
	pause_wait(0); /* the worker holds e1, not yet inside the bridge */
	ASSERT_OK(dl_pci_platform_host_submit(fx.plat, DL_PCI_HOST_RELATIONS, 0, 1, 0,
					      none, msg, sizeof(msg), &e2));
	ASSERT_OK(dl_pci_platform_host_submit(fx.plat, DL_PCI_HOST_ERROR, 0, 1, 0x01,
					      NULL, msg, sizeof(msg), &e3));
	t = spawn(remove_thread, &rm);
	/* the removal cancels what had not started ... */
	ASSERT_EQ(dl_pci_platform_host_wait(e2, msg, sizeof(msg)), -ENODEV);
	ASSERT_CONTAINS(msg, "cancelled");
	ASSERT_EQ(dl_pci_platform_host_wait(e3, msg, sizeof(msg)), -ENODEV);
	/* ... and its queue's drain waits for the one the worker holds */
	ASSERT_TRUE(still_running(t, 50));
	/* new events find the bus closed */
	ASSERT_EQ(host(&fx, DL_PCI_HOST_EJECT, "0000:01:00.0", NULL, msg), -ENODEV);
	pause_release(0);
	ASSERT_EQ(dl_pci_platform_host_wait(e1, msg, sizeof(msg)), -ENODEV);
	ASSERT_CONTAINS(msg, "skipped");
	join(t);
	ASSERT_EQ(rm.ret, 0);
	/* no handler ran: nothing was marked absent, no error handler */
	ASSERT_EQ(atomic_load(&handler_calls), 0);
	ASSERT_EQ(present(&fx, "0000:01:00.0"), 1);
	ASSERT_EQ(present(&fx, "0000:01:00.1"), 1);
	ASSERT_EQ(present(&fx, "0000:01:01.0"), 1);
	ASSERT_EQ(host(&fx, DL_PCI_HOST_EJECT, "0000:01:00.0", NULL, msg), -ENODEV);
	/* the bridge comes back with a new queue */
	ASSERT_EQ(dl_pci_platform_rescan(fx.plat, NULL), 4);
	ASSERT_EQ(host(&fx, DL_PCI_HOST_EJECT, "0000:01:00.0", NULL, msg), 0);
	dl_device_put(ep);
	dl_device_put(port);
	teardown(&fx);
}

static void *free_platform(void *arg)
{
	dl_pci_platform_free(arg);
	return NULL;
}

/* The same when the whole platform goes away with events queued. */
TEST(platform_free_with_queued_events)
{
	struct fixture fx = setup();
	struct dl_device *root = dev_must(fx.tree, "pci0000:00");
	struct dl_pci_host_ticket *e1, *e2;
	char msg[256];
	pthread_t t;

	pause_arm(0, "work:run", root);
	ASSERT_OK(dl_pci_platform_host_submit(fx.plat, DL_PCI_HOST_EJECT, 0, 0, 0x18,
					      NULL, msg, sizeof(msg), &e1));
	pause_wait(0);
	ASSERT_OK(dl_pci_platform_host_submit(fx.plat, DL_PCI_HOST_SURPRISE, 0, 0, 0x28,
					      NULL, msg, sizeof(msg), &e2));
	dl_device_put(root);
	t = spawn(free_platform, fx.plat);
	ASSERT_EQ(dl_pci_platform_host_wait(e2, NULL, 0), -ENODEV);
	ASSERT_TRUE(still_running(t, 50));
	pause_release(0);
	ASSERT_EQ(dl_pci_platform_host_wait(e1, NULL, 0), -ENODEV);
	join(t);
	fx.plat = NULL;
	teardown(&fx);
}

/* A driver with error handlers; its mode says what error_detected does. */
static enum dl_pci_ers_result err_mode;
static char err_calls[128];

static void err_note(struct dl_device *dev, const char *what)
{
	ASSERT_TRUE(dl_device_lock_held(dev));
	strcat(err_calls, what);
	strcat(err_calls, ",");
}

static enum dl_pci_ers_result err_detected(struct dl_device *dev, void *data)
{
	err_note(dev, "detected");
	return err_mode;
}

static enum dl_pci_ers_result err_reset(struct dl_device *dev, void *data)
{
	err_note(dev, "reset");
	return DL_PCI_ERS_RECOVERED;
}

static void err_resume(struct dl_device *dev, void *data)
{
	err_note(dev, "resume");
}

static const struct dl_pci_error_handlers err_handlers = {
	.error_detected = err_detected,
	.slot_reset = err_reset,
	.resume = err_resume,
};

static const struct dl_pci_driver err_driver = {
	.name = "test-err",
	.err_handler = &err_handlers,
};

TEST(error_recovery_with_handlers)
{
	struct fixture fx = setup();
	struct dl_driver *drv;
	struct dl_device *dev = dev_must(fx.tree, "0000:00:05.0"), *again;
	uint64_t id = dl_device_id(dev);
	char msg[256];

	ASSERT_OK(dl_pci_platform_register_driver(fx.plat, &err_driver, NULL, &drv));
	/* driver=test-err in the topology: registering it probed the
	 * function (driver_register() -> driver_attach()) */
	ASSERT_STREQ(drv_of(dev), "test-err");
	ASSERT_EQ(dl_device_bind(dev, NULL), -EBUSY);

	err_mode = DL_PCI_ERS_NEED_RESET;
	ASSERT_EQ(host(&fx, DL_PCI_HOST_ERROR, "0000:00:05.0", NULL, msg), 0);
	ASSERT_CONTAINS(msg, "recovered by test-err");
	ASSERT_STREQ(err_calls, "detected,reset,resume,");
	ASSERT_EQ(dl_device_state(dev), DL_STATE_LIVE);
	err_calls[0] = '\0';
	err_mode = DL_PCI_ERS_CAN_RECOVER;
	ASSERT_EQ(host(&fx, DL_PCI_HOST_ERROR, "0000:00:05.0", NULL, msg), 0);
	ASSERT_STREQ(err_calls, "detected,resume,");
	again = dev_must(fx.tree, "0000:00:05.0");
	ASSERT_EQ(dl_device_id(again), id); /* the same device */
	dl_device_put(again);

	/* the driver gives up: removed and rescanned, bound again */
	err_calls[0] = '\0';
	err_mode = DL_PCI_ERS_DISCONNECT;
	ASSERT_EQ(host(&fx, DL_PCI_HOST_ERROR, "0000:00:05.0", NULL, msg), 0);
	ASSERT_CONTAINS(msg, "gave up");
	ASSERT_STREQ(err_calls, "detected,");
	ASSERT_EQ(dl_device_state(dev), DL_STATE_DEAD);
	again = dev_must(fx.tree, "0000:00:05.0");
	ASSERT_NE(dl_device_id(again), id);
	ASSERT_STREQ(drv_of(again), "test-err");
	dl_device_put(again);
	dl_device_put(dev);
	ASSERT_OK(dl_pci_platform_unregister_driver(fx.plat, drv));
	ASSERT_EQ(dl_pci_platform_unregister_driver(fx.plat, drv), -ENOENT);
	teardown(&fx);
}

TEST(error_recovery_without_handlers)
{
	struct fixture fx = setup();
	struct dl_device *dev = dev_must(fx.tree, "0000:00:03.0"), *again;
	struct dl_trace_record recs[DL_TRACE_RING];
	uint64_t cursor = 0, id = dl_device_id(dev);
	int dead = -1, add = -1;
	size_t n;
	char msg[256];

	ASSERT_EQ(host(&fx, DL_PCI_HOST_ERROR, "0000:00:03.0", NULL, msg), 0);
	ASSERT_CONTAINS(msg, "no error handlers; removed and rescanned");
	ASSERT_EQ(dl_device_state(dev), DL_STATE_DEAD);
	again = dev_must(fx.tree, "0000:00:03.0");
	ASSERT_NE(dl_device_id(again), id);
	ASSERT_STREQ(drv_of(again), "virtio-pci");
	n = dl_trace_read(fx.tree, &cursor, recs, DL_TRACE_RING);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(recs[i].name, "0000:00:03.0"))
			continue;
		if (recs[i].event == DL_EV_DEAD)
			dead = (int)i;
		if (recs[i].event == DL_EV_ADD && dead >= 0)
			add = (int)i;
	}
	ASSERT_GE(dead, 0);
	ASSERT_GT(add, dead);
	/* an error on a function that is not there */
	ASSERT_EQ(host(&fx, DL_PCI_HOST_ERROR, "0000:00:1e.0", NULL, msg), -ENODEV);
	dl_device_put(again);
	dl_device_put(dev);
	teardown(&fx);
}

TEST(driver_override_and_bind)
{
	struct fixture fx = setup();
	struct dl_device *dev = dev_must(fx.tree, "0000:00:03.0");
	struct dl_device *nic = dev_must(fx.tree, "0000:01:01.0");
	char buf[64], tiny[4];
	char longname[80];

	ASSERT_OK(dl_pci_platform_driver_override(dev, NULL, buf, sizeof(buf)));
	ASSERT_STREQ(buf, "(null)");
	ASSERT_OK(dl_pci_platform_driver_override(dev, "pci-stub\n", NULL, 0));
	ASSERT_OK(dl_pci_platform_driver_override(dev, NULL, buf, sizeof(buf)));
	ASSERT_STREQ(buf, "pci-stub");
	ASSERT_EQ(dl_pci_platform_driver_override(dev, NULL, tiny, sizeof(tiny)), -ENOSPC);
	/* the override does not rebind by itself */
	ASSERT_STREQ(drv_of(dev), "virtio-pci");
	ASSERT_OK(dl_device_unbind(dev));
	ASSERT_OK(dl_device_bind(dev, NULL));
	ASSERT_STREQ(drv_of(dev), "pci-stub");
	/* only the named driver may bind, even when asked for another */
	ASSERT_OK(dl_device_unbind(dev));
	ASSERT_EQ(dl_device_bind(dev, dl_driver_find(fx.tree, "virtio-pci")), -ENXIO);
	ASSERT_OK(dl_pci_platform_driver_override(dev, "nosuch", NULL, 0));
	ASSERT_EQ(dl_device_bind(dev, NULL), -ENXIO);
	/* cleared: the default rule again */
	ASSERT_OK(dl_pci_platform_driver_override(dev, "\n", NULL, 0));
	ASSERT_OK(dl_device_bind(dev, NULL));
	ASSERT_STREQ(drv_of(dev), "virtio-pci");
	/* bad names change nothing */
	memset(longname, 'a', 70);
	longname[70] = '\0';
	ASSERT_EQ(dl_pci_platform_driver_override(dev, longname, NULL, 0), -EINVAL);
	ASSERT_EQ(dl_pci_platform_driver_override(dev, "a b", NULL, 0), -EINVAL);
	ASSERT_EQ(dl_pci_platform_driver_override(dev, "a\x01", NULL, 0), -EINVAL);
	ASSERT_OK(dl_pci_platform_driver_override(dev, NULL, buf, sizeof(buf)));
	ASSERT_STREQ(buf, "(null)");
	/* the override beats the topology's driver= */
	ASSERT_OK(dl_pci_platform_driver_override(nic, "pci-stub", NULL, 0));
	ASSERT_OK(dl_device_unbind(nic));
	ASSERT_OK(dl_device_bind(nic, NULL));
	ASSERT_STREQ(drv_of(nic), "pci-stub");
	/* not a PCI function */
	{
		struct dl_device *root = dev_must(fx.tree, "pci0000:00");

		ASSERT_EQ(dl_pci_platform_driver_override(root, NULL, buf, sizeof(buf)),
			  -EINVAL);
		dl_device_put(root);
	}
	dl_device_put(nic);
	dl_device_put(dev);
	teardown(&fx);
}

/* Without pcieport bound a bridge handles no host events; bound again,
 * its bus has a queue again. */
TEST(unbound_port_handles_no_events)
{
	struct fixture fx = setup();
	struct dl_device *port = dev_must(fx.tree, "0000:00:01.0");
	char msg[256];

	ASSERT_EQ(host(&fx, DL_PCI_HOST_EJECT, "0000:01:00.1", NULL, msg), 0);
	ASSERT_OK(dl_device_unbind(port));
	ASSERT_EQ(host(&fx, DL_PCI_HOST_EJECT, "0000:01:00.0", NULL, msg), -ENODEV);
	ASSERT_CONTAINS(msg, "no port driver");
	ASSERT_OK(dl_device_bind(port, NULL));
	ASSERT_EQ(host(&fx, DL_PCI_HOST_EJECT, "0000:01:00.0", NULL, msg), 0);
	dl_device_put(port);
	teardown(&fx);
}

/* Construction fails cleanly at every core allocation: the tree is left
 * as it was (no device, no driver). */
TEST(new_under_allocation_failure)
{
	struct dl_pci_error err = { 0, "" };
	struct dl_pci_platform *plat;
	struct dl_pci_desc *d;
	struct dl_tree *tree;
	int r, failures = 0;

	ASSERT_OK(dl_tree_new(&tree));
	for (long n = 1;; n++) {
		ASSERT_OK(dl_pci_desc_parse_topology(topo, strlen(topo), "t", &err, &d));
		dl__test_fail_alloc_after(n);
		r = dl_pci_platform_new(tree, d, &err, &plat);
		dl__test_fail_alloc_after(0);
		if (r == 0)
			break;
		failures++;
		ASSERT_EQ(r, -ENOMEM);
		dl_pci_desc_free(d);
		ASSERT_FALSE(dev_exists(tree, "pci0000:00"));
		ASSERT_PTR_EQ(dl_driver_find(tree, "pcieport"), NULL);
		ASSERT_PTR_EQ(dl_driver_find(tree, "pci-root"), NULL);
		ASSERT_LT(n, 10000);
	}
	ASSERT_GT(failures, 5);
	dl_pci_platform_free(plat);
	dl_tree_free(tree);
	for (int i = 0; i < 8; i++)
		urcu_bp_barrier();
	leak_check();
}

TEST_MAIN(builtin_drivers_bind_by_the_rules, print_tree_shows_state_driver_users,
	  rescan_brings_back_removed_functions, eject_takes_the_hardware_away,
	  eject_waits_for_a_read_in_flight, add_good_and_bad,
	  relations_eject_the_missing_only, events_of_a_bus_run_in_order,
	  buses_do_not_wait_for_each_other, removing_a_bridge_cancels_its_queued_events,
	  platform_free_with_queued_events, error_recovery_with_handlers,
	  error_recovery_without_handlers, driver_override_and_bind,
	  unbound_port_handles_no_events, new_under_allocation_failure)
