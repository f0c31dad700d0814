/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit and scenario tests of mediated devices (src/pci/mdev.c) with the
 * mdev-parent sample driver: UUIDs, types offered only while the parent
 * driver is bound, create and its errors (nothing changes on failure),
 * instances, the child's remove, and the seed 003 races with forced
 * interleavings: S8 (a child created while its parent is being removed)
 * and S9 (a user removes a child while the parent is being removed, or
 * its driver unbound).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <unistd.h>

#include <devlife/devlife.h>
#include <urcu-bp.h>

#include "core/pause.h"
#include "mdev.h"
#include "platform-test.h"
#include "pci.h"
#include "platform.h"
#include "topology.h"

static const char topo[] =
	"0000:00:00.0 vendor=0x8086 device=0x29c0 class=0x060000\n"
	"0000:00:02.0 vendor=0x8086 device=0x3e92 class=0x030000 bar0=16M,64 "
	"mdev_types=gvt-a:2,gvt-b driver=mdev-parent\n"
	"0000:00:03.0 vendor=0x8086 device=0x3e92 class=0x030000 bar0=16M,64 "
	"mdev_types=gvt-a:4\n";

#define U1 "11111111-2222-3333-4444-555555555555"
#define U2 "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
#define U3 "01234567-89ab-cdef-0123-456789abcdef"

struct fixture {
	struct dl_tree *tree;
	struct dl_pci_platform *plat;
	struct dl_device *gpu;
};

static struct fixture setup(void)
{
	struct fixture fx;

	fx.plat = test_platform(topo, &fx.tree);
	ASSERT_OK(dl_device_lookup(fx.tree, "0000:00:02.0", &fx.gpu));
	return fx;
}

static void teardown(struct fixture *fx)
{
	struct dl_pci_platform_stats st;

	ASSERT_OK(dl_pci_platform_get_stats(fx->plat, &st));
	ASSERT_EQ(st.violations, 0);
	dl_device_put(fx->gpu);
	dl_pci_platform_free(fx->plat);
	dl_tree_free(fx->tree);
	for (int i = 0; i < 8; i++)
		urcu_bp_barrier();
	leak_check();
}

static int count_children(struct dl_device *child, void *arg)
{
	if (dl_mdev_of(child))
		++*(int *)arg;
	return 0;
}

/* Mediated children of @parent linked now, whatever their state. */
static int nkids(struct dl_device *parent)
{
	int n = 0;

	ASSERT_OK(dl_device_for_each_child(parent, count_children, &n));
	return n;
}

/* The sysfs create store: enter the parent, create. */
static int create(struct dl_device *parent, const char *type, const char *uuid)
{
	int t = dl_mdev_type_lookup(parent, type), r;

	if (t < 0)
		return t;
	if (dl_device_enter_tagged(parent, "mdev create") < 0)
		return -ENODEV;
	r = dl_mdev_create(parent, (unsigned int)t, uuid, strlen(uuid), NULL);
	dl_device_exit(parent);
	return r;
}

static int avail(struct dl_device *parent, const char *type)
{
	return dl_mdev_type_available(parent, (unsigned int)dl_mdev_type_lookup(parent, type));
}

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

/* The sequence number of the first @event of @name, or 0. */
static uint64_t seq_of(struct fixture *fx, const char *name, enum dl_trace_event event)
{
	struct dl_trace_record *recs = calloc(DL_TRACE_RING, sizeof(*recs));
	uint64_t cursor = 0, seq = 0;
	size_t n;

	ASSERT_TRUE(recs);
	n = dl_trace_read(fx->tree, &cursor, recs, DL_TRACE_RING);
	for (size_t i = 0; i < n && !seq; i++)
		if (!strcmp(recs[i].name, name) && recs[i].event == event)
			seq = recs[i].seq;
	free(recs);
	return seq;
}

/* ------------------------------------------------------------------ */

TEST(uuid_parse)
{
	char out[DL_MDEV_UUID_LEN + 1];

	ASSERT_OK(dl_mdev_uuid_parse(U1, 36, out));
	ASSERT_STREQ(out, U1);
	ASSERT_OK(dl_mdev_uuid_parse("AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE\n", 37, out));
	ASSERT_STREQ(out, U2);
	/* create_store(): 36 or 37 bytes, and guid_parse()'s
	 * uuid_is_valid() looks at the first 36 only */
	ASSERT_OK(dl_mdev_uuid_parse(U1 "x", 37, out));
	ASSERT_OK(dl_mdev_uuid_parse(U1 "\0", 37, out));
	ASSERT_EQ(dl_mdev_uuid_parse(U1 "\n\n", 38, out), -EINVAL);
	ASSERT_EQ(dl_mdev_uuid_parse(U1, 35, out), -EINVAL);
	ASSERT_EQ(dl_mdev_uuid_parse("11111111-2222-3333-4444-55555555555g", 36, out), -EINVAL);
	ASSERT_EQ(dl_mdev_uuid_parse("11111111+2222-3333-4444-555555555555", 36, out), -EINVAL);
	ASSERT_EQ(dl_mdev_uuid_parse("111111112222-3333-4444-555555555555--", 36, out), -EINVAL);
	ASSERT_EQ(dl_mdev_uuid_parse("", 0, out), -EINVAL);
}

TEST(types_only_while_the_parent_driver_is_bound)
{
	struct fixture fx = setup();
	struct dl_device *plain;
	char buf[256];

	ASSERT_EQ(dl_mdev_type_count(fx.gpu), 2);
	ASSERT_STREQ(dl_mdev_type_name(fx.gpu, 0), "gvt-a");
	ASSERT_STREQ(dl_mdev_type_name(fx.gpu, 1), "gvt-b");
	ASSERT_EQ(dl_mdev_type_lookup(fx.gpu, "nope"), -ENOENT);
	ASSERT_TRUE(dl_mdev_parent_registered(fx.gpu));
	ASSERT_EQ(dl_mdev_type_attr_show(fx.gpu, 0, DL_MDEV_ATTR_AVAILABLE, buf, sizeof(buf)), 2);
	ASSERT_STREQ(buf, "2\n");
	ASSERT_GT(dl_mdev_type_attr_show(fx.gpu, 1, DL_MDEV_ATTR_AVAILABLE, buf, sizeof(buf)), 0);
	ASSERT_STREQ(buf, "1\n"); /* no count: one instance */
	ASSERT_GT(dl_mdev_type_attr_show(fx.gpu, 0, DL_MDEV_ATTR_NAME, buf, sizeof(buf)), 0);
	ASSERT_STREQ(buf, "gvt-a\n");
	ASSERT_GT(dl_mdev_type_attr_show(fx.gpu, 0, DL_MDEV_ATTR_DEVICE_API, buf, sizeof(buf)), 0);
	ASSERT_STREQ(buf, "vfio-pci\n");
	ASSERT_GT(dl_mdev_type_attr_show(fx.gpu, 0, DL_MDEV_ATTR_DESCRIPTION, buf, sizeof(buf)), 0);
	ASSERT_EQ(dl_mdev_type_attr_show(fx.gpu, 0, DL_MDEV_ATTR_CREATE, buf, sizeof(buf)), -EINVAL);

	/* a function with types but no parent driver offers none */
	ASSERT_OK(dl_device_lookup(fx.tree, "0000:00:03.0", &plain));
	ASSERT_EQ(dl_mdev_type_count(plain), 1);
	ASSERT_FALSE(dl_mdev_parent_registered(plain));
	ASSERT_EQ(create(plain, "gvt-a", U1), -ENODEV);
	ASSERT_OK(dl_pci_platform_driver_override(plain, "mdev-parent", NULL, 0));
	ASSERT_OK(dl_device_bind(plain, NULL));
	ASSERT_TRUE(dl_mdev_parent_registered(plain));
	ASSERT_OK(create(plain, "gvt-a", U1));
	/* unbinding the parent driver removes its children */
	ASSERT_OK(dl_device_unbind(plain));
	ASSERT_FALSE(dl_mdev_parent_registered(plain));
	ASSERT_FALSE(dev_exists(fx.tree, U1));
	ASSERT_EQ(nkids(plain), 0);
	dl_device_put(plain);
	teardown(&fx);
}

TEST(create_errors_change_nothing)
{
	struct fixture fx = setup();
	struct dl_tree_stats before, after;
	struct dl_device *child;
	struct dl_mdev *m;
	char ev[256];

	ASSERT_OK(create(fx.gpu, "gvt-a", U1));
	ASSERT_OK(dl_device_lookup(fx.tree, U1, &child));
	m = dl_mdev_of(child);
	ASSERT_PTR_EQ(m->parent, fx.gpu);
	ASSERT_PTR_EQ(dl_device_parent(child), fx.gpu);
	ASSERT_EQ(m->type, 0);
	ASSERT_STREQ(dl_driver_name(dl_device_driver(child)), "vfio_mdev");
	ASSERT_EQ(avail(fx.gpu, "gvt-a"), 1);

	ASSERT_OK(dl_tree_get_stats(fx.tree, &before));
	ASSERT_EQ(create(fx.gpu, "gvt-a", "not-a-uuid"), -EINVAL);
	ASSERT_EQ(create(fx.gpu, "gvt-a", U1 "\n\n"), -EINVAL);
	ASSERT_EQ(create(fx.gpu, "gvt-a", U1), -EEXIST);
	ASSERT_EQ(create(fx.gpu, "gvt-b", "11111111-2222-3333-4444-555555555555\n"), -EEXIST);
	ASSERT_EQ(create(fx.gpu, "gvt-a", "11111111-2222-3333-4444-5555555555AA"), 0);
	ASSERT_EQ(avail(fx.gpu, "gvt-a"), 0);
	ASSERT_OK(dl_tree_get_stats(fx.tree, &before));
	ASSERT_EQ(create(fx.gpu, "gvt-a", U2), -ENOSPC);
	ASSERT_EQ(create(fx.gpu, "gvt-a", U3), -ENOSPC);
	ASSERT_OK(dl_tree_get_stats(fx.tree, &after));
	ASSERT_EQ(after.adds, before.adds);
	ASSERT_EQ(after.devices_allocated, before.devices_allocated);
	ASSERT_FALSE(dev_exists(fx.tree, U2));
	ASSERT_EQ(nkids(fx.gpu), 2);
	ASSERT_EQ(avail(fx.gpu, "gvt-a"), 0);
	ASSERT_EQ(avail(fx.gpu, "gvt-b"), 1);
	/* another type still has room */
	ASSERT_OK(create(fx.gpu, "gvt-b", U2));
	ASSERT_EQ(create(fx.gpu, "gvt-b", U3), -ENOSPC);

	/* the child's own remove gives the instance back */
	ASSERT_OK(dl_device_enter(child));
	ASSERT_OK(dl_device_remove_self(child, DL_REMOVE_WAIT));
	ASSERT_EQ(dl_device_state(child), DL_STATE_DEAD);
	ASSERT_EQ(avail(fx.gpu, "gvt-a"), 1);
	ASSERT_OK(create(fx.gpu, "gvt-a", U1)); /* the name is free again */
	events_of(&fx, U1, ev, sizeof(ev));
	ASSERT_CONTAINS(ev, "add,bind,remove-start,drained,unbind,dead,");
	dl_device_put(child);

	/* the parent's removal removes its children first */
	ASSERT_OK(dl_device_remove(fx.gpu, DL_REMOVE_WAIT, DL_NO_TIMEOUT));
	ASSERT_FALSE(dev_exists(fx.tree, U1));
	ASSERT_FALSE(dev_exists(fx.tree, U2));
	ASSERT_LT(seq_of(&fx, U2, DL_EV_DEAD), seq_of(&fx, "0000:00:02.0", DL_EV_UNBIND));
	teardown(&fx);
}

/* ------------------------------------------------------------------ */
/* S8: a child is created while its parent is being removed             */

struct creator {
	struct dl_device *parent;
	const char *uuid;
	int r;
};

static void *creator_thread(void *arg)
{
	struct creator *c = arg;

	c->r = create(c->parent, "gvt-a", c->uuid);
	return NULL;
}

struct parent_op {
	struct dl_device *dev;
	int r;
	enum dl_device_state after;
};

static void *remover_thread(void *arg)
{
	struct parent_op *rm = arg;

	rm->r = dl_device_remove(rm->dev, DL_REMOVE_WAIT, DL_NO_TIMEOUT);
	rm->after = dl_device_state(rm->dev);
	return NULL;
}

static void *unbinder_thread(void *arg)
{
	struct parent_op *rm = arg;

	rm->r = dl_device_unbind(rm->dev);
	rm->after = dl_device_state(rm->dev);
	return NULL;
}

TEST(s8_create_during_parent_removal)
{
	/* a) The create has entered the parent and is adding the child when
	 *    the removal starts: the removal waits, the add is refused. */
	{
		struct fixture fx = setup();
		struct creator c = { fx.gpu, U1, 1 };
		struct parent_op rm = { fx.gpu, 1, 0 };
		pthread_t tc, tr;

		pause_arm(0, "add:parent-entered", NULL);
		tc = spawn(creator_thread, &c);
		pause_wait(0);
		tr = spawn_until_draining(1, fx.gpu, remover_thread, &rm);
		ASSERT_TRUE(still_running(tr, 0));
		pause_release(0);
		join(tc);
		join(tr);
		ASSERT_EQ(c.r, -ENODEV);
		ASSERT_EQ(rm.r, 0);
		ASSERT_FALSE(dev_exists(fx.tree, U1));
		ASSERT_EQ(nkids(fx.gpu), 0);
		teardown(&fx);
	}
	/* b) The child is linked and published, the create not yet back,
	 *    when the removal starts: the removal waits for the create, then
	 *    removes the child. Never left behind. */
	{
		struct fixture fx = setup();
		struct creator c = { fx.gpu, U1, 1 };
		struct parent_op rm = { fx.gpu, 1, 0 };
		struct dl_device *child;
		pthread_t tc, tr;

		pause_arm(0, "add:published", NULL);
		tc = spawn(creator_thread, &c);
		pause_wait(0);
		ASSERT_OK(dl_device_lookup(fx.tree, U1, &child));
		tr = spawn_until_draining(1, fx.gpu, remover_thread, &rm);
		ASSERT_TRUE(still_running(tr, 0));
		pause_release(0);
		join(tc);
		join(tr);
		ASSERT_EQ(c.r, 0);
		ASSERT_EQ(rm.r, 0);
		ASSERT_EQ(dl_device_state(child), DL_STATE_DEAD);
		ASSERT_FALSE(dev_exists(fx.tree, U1));
		dl_device_put(child);
		teardown(&fx);
	}
	/* c) The removal has closed the parent: the create is refused at
	 *    once and nothing is linked. */
	{
		struct fixture fx = setup();
		struct creator c = { fx.gpu, U1, 1 };
		struct parent_op rm = { fx.gpu, 1, 0 };
		pthread_t tr;

		pause_arm(0, "remove:deactivated", fx.gpu);
		tr = spawn(remover_thread, &rm);
		pause_wait(0);
		join(spawn(creator_thread, &c));
		ASSERT_EQ(c.r, -ENODEV);
		/* also without the sysfs handler's own enter: the add enters */
		ASSERT_EQ(dl_mdev_create(fx.gpu, 0, U2, strlen(U2), NULL), -ENODEV);
		pause_release(0);
		join(tr);
		ASSERT_EQ(rm.r, 0);
		ASSERT_FALSE(dev_exists(fx.tree, U1));
		ASSERT_FALSE(dev_exists(fx.tree, U2));
		teardown(&fx);
	}
	/* d) The parent driver is being unbound (its remove waits for the
	 *    create in flight, then removes the child). */
	{
		struct fixture fx = setup();
		struct creator c = { fx.gpu, U1, 1 };
		struct parent_op rm = { fx.gpu, 1, 0 };
		pthread_t tc, tu;

		pause_arm(0, "add:published", NULL);
		tc = spawn(creator_thread, &c);
		pause_wait(0);
		tu = spawn(unbinder_thread, &rm);
		ASSERT_TRUE(still_running(tu, 200));
		pause_release(0);
		join(tc);
		join(tu);
		ASSERT_EQ(c.r, 0);
		ASSERT_EQ(rm.r, 0);
		ASSERT_FALSE(dev_exists(fx.tree, U1));
		ASSERT_EQ(nkids(fx.gpu), 0);
		ASSERT_FALSE(dl_mdev_parent_registered(fx.gpu));
		teardown(&fx);
	}
}

/* ------------------------------------------------------------------ */
/* S9: a user removes a child while the parent is being removed         */

static void s9(bool unbind)
{
	struct fixture fx = setup();
	struct dl_device *child;
	struct parent_op rp = { fx.gpu, 1, 0 }, rc;
	pthread_t tp, tc;
	char ev[512];

	ASSERT_OK(create(fx.gpu, "gvt-a", U1));
	ASSERT_OK(dl_device_lookup(fx.tree, U1, &child));
	rc = (struct parent_op){ child, 1, 0 };
	/* The user's removal of the child wins the child and is stopped
	 * just before the child's driver remove (the parent driver's hook). */
	pause_arm(0, "remove:driver-remove", child);
	tc = spawn(remover_thread, &rc);
	pause_wait(0);
	/* The parent goes: its removal (or its driver's unregistration)
	 * must wait for the child to be DEAD before the parent driver's
	 * remove runs. */
	tp = spawn(unbind ? unbinder_thread : remover_thread, &rp);
	ASSERT_TRUE(still_running(tp, 200));
	ASSERT_TRUE(dl_device_driver(fx.gpu) != NULL);
	pause_release(0);
	join(tc);
	join(tp);
	ASSERT_EQ(rc.r, 0);
	ASSERT_EQ(rp.r, 0);
	/* both returned only after the child was gone */
	ASSERT_EQ(rc.after, DL_STATE_DEAD);
	ASSERT_EQ(dl_device_state(child), DL_STATE_DEAD);
	ASSERT_EQ(rp.after, unbind ? DL_STATE_LIVE : DL_STATE_DEAD);
	/* exactly one removal, its driver remove before the parent's */
	events_of(&fx, U1, ev, sizeof(ev));
	ASSERT_STREQ(ev, "add,bind,remove-start,drained,unbind,dead,");
	ASSERT_LT(seq_of(&fx, U1, DL_EV_UNBIND), seq_of(&fx, "0000:00:02.0", DL_EV_UNBIND));
	dl_device_put(child);
	teardown(&fx); /* the parent driver's hook saw it bound: no violation */
}

TEST(s9_child_removed_during_parent_removal)
{
	s9(false);
}

TEST(s9_child_removed_during_parent_unbind)
{
	s9(true);
}

TEST(many_creates_and_removes_in_parallel)
{
	struct fixture fx = setup();
	struct dl_device *plain;
	pthread_t t[4];
	struct creator c[4];
	static const char *const uu[4] = {
		"00000000-0000-0000-0000-000000000001", "00000000-0000-0000-0000-000000000002",
		"00000000-0000-0000-0000-000000000003", "00000000-0000-0000-0000-000000000004",
	};
	int ok = 0;

	ASSERT_OK(dl_device_lookup(fx.tree, "0000:00:03.0", &plain));
	ASSERT_OK(dl_pci_platform_driver_override(plain, "mdev-parent", NULL, 0));
	ASSERT_OK(dl_device_bind(plain, NULL));
	/* three threads race for the two instances of gvt-a on 00:02.0, a
	 * fourth creates on 00:03.0: exactly the instances are made, the
	 * loser gets -ENOSPC and leaves nothing behind */
	for (int round = 0; round < 20; round++) {
		ok = 0;
		for (int i = 0; i < 4; i++) {
			c[i] = (struct creator){ i == 3 ? plain : fx.gpu, uu[i], 1 };
			t[i] = spawn(creator_thread, &c[i]);
		}
		for (int i = 0; i < 4; i++) {
			join(t[i]);
			ok += c[i].r == 0;
			ASSERT_TRUE(c[i].r == 0 || (i < 3 && c[i].r == -ENOSPC));
		}
		ASSERT_EQ(ok, 3);
		ASSERT_EQ(nkids(fx.gpu), 2);
		ASSERT_EQ(avail(fx.gpu, "gvt-a"), 0);
		ASSERT_EQ(avail(plain, "gvt-a"), 3);
		ASSERT_EQ(create(fx.gpu, "gvt-a", U3), -ENOSPC);
		for (int i = 0; i < 4; i++) {
			struct dl_device *ch;

			if (c[i].r < 0) {
				ASSERT_FALSE(dev_exists(fx.tree, uu[i]));
				continue;
			}
			ASSERT_OK(dl_device_lookup(fx.tree, uu[i], &ch));
			ASSERT_OK(dl_device_remove(ch, DL_REMOVE_WAIT, DL_NO_TIMEOUT));
			dl_device_put(ch);
		}
		ASSERT_EQ(avail(fx.gpu, "gvt-a"), 2);
	}
	dl_device_put(plain);
	teardown(&fx);
}

TEST(parent_types_are_parsed)
{
	struct dl_mdev_parent *mp;

	ASSERT_OK(dl_mdev__parent_new("a:3,b,c:65535", &mp));
	dl_mdev__parent_free(mp);
	ASSERT_EQ(dl_mdev__parent_new(":3", &mp), -EINVAL);
	ASSERT_EQ(dl_mdev__parent_new("", &mp), -EINVAL);
	leak_check();
}

TEST_MAIN(uuid_parse, types_only_while_the_parent_driver_is_bound,
	  create_errors_change_nothing, s8_create_during_parent_removal,
	  s9_child_removed_during_parent_removal, s9_child_removed_during_parent_unbind,
	  many_creates_and_removes_in_parallel, parent_types_are_parsed)
