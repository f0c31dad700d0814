/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The seed scenarios S1-S11 of DESIGN.md at the core level, each forcing
 * its dangerous interleaving with the core's test-only pause points (or a
 * gate inside a test driver) and asserting the safe outcome.
 *
 * S1-S5 are expressed on a generic bus: a "bus" device with children,
 * an ordered event queue standing for the host channel, a slow config
 * read standing for lspci, a PF-like driver that adds VF-like children.
 */
#include <urcu-bp.h>

#include "pause.h"

/* ------------------------------------------------------------------ */
/* A generic bus device model                                          */

struct gate {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int entered;   /* threads that reached the gate */
	bool open;
};

#define GATE_INIT { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, false }

static void gate_pass(struct gate *g)
{
	pthread_mutex_lock(&g->lock);
	g->entered++;
	pthread_cond_broadcast(&g->cond);
	while (!g->open)
		pthread_cond_wait(&g->cond, &g->lock);
	pthread_mutex_unlock(&g->lock);
}

static void gate_wait_entered(struct gate *g, int n)
{
	uint64_t end = test_now_ns() + 10000000000ull;

	pthread_mutex_lock(&g->lock);
	while (g->entered < n) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 10000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&g->cond, &g->lock, &ts);
		if (test_now_ns() > end) {
			pthread_mutex_unlock(&g->lock);
			FAIL_AT("only %d of %d threads reached the gate",
				g->entered, n);
		}
	}
	pthread_mutex_unlock(&g->lock);
}

static void gate_open(struct gate *g)
{
	pthread_mutex_lock(&g->lock);
	g->open = true;
	pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->lock);
}

/* Config space of a fake function: 256 bytes with a known pattern. */
struct fn_priv {
	unsigned char config[256];
	struct gate *slow;      /* config reads wait here if set */
};

static atomic_int released;

static void fn_release(struct dl_device *dev)
{
	struct fn_priv *p = dl_device_priv(dev);

	/* Poison: a reader that still used this would see garbage and,
	 * under ASan, the free right after is caught. */
	memset(p->config, 0xdd, sizeof(p->config));
	atomic_fetch_add(&released, 1);
}

static const struct dl_device_type fn_type = { .name = "fn",
					       .release = fn_release };

static struct dl_device *mkfn(struct dl_tree *tree, struct dl_device *parent,
			      const char *name)
{
	struct dl_device *dev;
	struct fn_priv *p;

	ASSERT_EQ(dl_device_new(tree, &fn_type, name, sizeof(*p), &dev), 0);
	p = dl_device_priv(dev);
	for (int i = 0; i < 256; i++)
		p->config[i] = (unsigned char)i;
	ASSERT_EQ(dl_device_add(dev, parent), 0);
	return dev;
}

/* What lspci does to a config file: enter, (slowly) copy, exit. */
static int config_read(struct dl_device *dev, unsigned char *buf)
{
	struct fn_priv *p = dl_device_priv(dev);

	if (dl_device_enter_tagged(dev, "config-read") < 0)
		return -ENODEV;
	if (dl_device_is_gone(dev)) {
		dl_device_exit(dev);
		return -ENODEV;
	}
	for (int i = 0; i < 256; i++) {
		if (i == 128 && p->slow)
			gate_pass(p->slow);
		buf[i] = p->config[i];
	}
	dl_device_exit(dev);
	return 256;
}

struct reader {
	struct dl_device *dev;
	int ret;
	unsigned char buf[256];
};

static void *reader_thread(void *arg)
{
	struct reader *r = arg;

	r->ret = config_read(r->dev, r->buf);
	return NULL;
}

static void assert_full_data(const unsigned char *buf)
{
	for (int i = 0; i < 256; i++)
		ASSERT_EQ(buf[i], i);
}

struct removal {
	struct dl_device *dev;
	unsigned int flags;
	int64_t timeout;
	int ret;
	enum dl_device_state state_after;
};

static void *remover_thread(void *arg)
{
	struct removal *r = arg;

	r->ret = dl_device_remove(r->dev, r->flags, r->timeout);
	r->state_after = dl_device_state(r->dev);
	return NULL;
}

static struct removal *remover(struct dl_device *dev, unsigned int flags)
{
	struct removal *r = calloc(1, sizeof(*r));

	r->dev = dev;
	r->flags = flags;
	r->timeout = DL_NO_TIMEOUT;
	return r;
}

/* ------------------------------------------------------------------ */
/* S1: a config read is in flight when the host ejects the device       */

TEST(s1_eject_waits_for_inflight_config_read)
{
	struct dl_tree *tree = mktree();
	struct dl_device *bus = mkdev(tree, NULL, "bus0");
	struct dl_device *fn = mkfn(tree, bus, "0000:00:01.0");
	struct fn_priv *p = dl_device_priv(fn);
	struct gate slow = GATE_INIT;
	struct reader rd = { .dev = fn };
	struct removal *ej = remover(fn, DL_REMOVE_WAIT);
	struct dl_device *found;
	unsigned char buf[256];
	pthread_t tr, te;

	atomic_store(&released, 0);
	p->slow = &slow;
	tr = spawn(reader_thread, &rd);
	gate_wait_entered(&slow, 1);       /* the read is half done */

	/* The host ejects; the eject waits for the read. */
	te = spawn_until_draining(0, fn, remover_thread, ej);
	ASSERT_TRUE(still_running(te, 0));
	ASSERT_EQ(dl_device_state(fn), DL_STATE_REMOVING);
	ASSERT_EQ(dl_device_lookup(tree, "0000:00:01.0", &found), -ENOENT);
	p->slow = NULL;
	ASSERT_EQ(config_read(fn, buf), -ENODEV); /* later reads fail */
	ASSERT_EQ(atomic_load(&released), 0);     /* nothing freed early */

	gate_open(&slow);
	join(tr);
	ASSERT_EQ(rd.ret, 256);
	assert_full_data(rd.buf);          /* the read got full data */
	join(te);
	ASSERT_EQ(ej->ret, 0);
	ASSERT_EQ(ej->state_after, DL_STATE_DEAD);
	ASSERT_EQ(config_read(fn, buf), -ENODEV);

	ASSERT_EQ(atomic_load(&released), 0); /* we still hold fn */
	dl_device_put(fn);
	urcu_bp_barrier();
	ASSERT_EQ(atomic_load(&released), 1);
	dl_device_put(bus);
	dl_tree_free(tree);
	free(ej);
}

/* ------------------------------------------------------------------ */
/* S2: bus relations without the device while readers are in flight     */

struct relations {
	const char *present[8];   /* names the host says are present */
	int done;
};

static int eject_missing(struct dl_device *child, void *arg)
{
	struct relations *rel = arg;

	for (int i = 0; i < 8 && rel->present[i]; i++)
		if (strcmp(rel->present[i], dl_device_name(child)) == 0)
			return 0;
	ASSERT_EQ(dl_device_remove(child, DL_REMOVE_WAIT, DL_NO_TIMEOUT), 0);
	return 0;
}

static void relations_work(struct dl_device *bus, void *arg)
{
	struct relations *rel = arg;

	ASSERT_EQ(dl_device_for_each_child(bus, eject_missing, rel), 0);
	rel->done = 1;
}

TEST(s2_relations_without_device_while_readers_in_flight)
{
	struct dl_tree *tree = mktree();
	struct dl_device *bus = mkdev(tree, NULL, "bus0");
	struct dl_device *a = mkfn(tree, bus, "0000:00:01.0");
	struct dl_device *b = mkfn(tree, bus, "0000:00:02.0");
	struct gate slow = GATE_INIT;
	struct reader rd[3];
	struct relations rel = { .present = { "0000:00:02.0" } };
	struct dl_workqueue *events;
	pthread_t tr[3];

	atomic_store(&released, 0);
	ASSERT_EQ(dl_workqueue_new(tree, "bus0-events", 1, &events), 0);
	((struct fn_priv *)dl_device_priv(a))->slow = &slow;
	for (int i = 0; i < 3; i++) {
		rd[i] = (struct reader){ .dev = a };
		tr[i] = spawn(reader_thread, &rd[i]);
	}
	gate_wait_entered(&slow, 3);

	/* The host announces relations without "a"; no eject message. The
	 * scan's removal of "a" waits for the readers. */
	pause_arm(0, "drain:wait", a);
	ASSERT_EQ(dl_work_queue(events, bus, relations_work, NULL, &rel), 0);
	pause_wait(0);
	pause_release(0);
	ASSERT_EQ(rel.done, 0);                 /* the scan waits */
	ASSERT_EQ(dl_device_state(a), DL_STATE_REMOVING);
	ASSERT_EQ(atomic_load(&released), 0);

	gate_open(&slow);
	for (int i = 0; i < 3; i++) {
		join(tr[i]);
		ASSERT_EQ(rd[i].ret, 256);
		assert_full_data(rd[i].buf);
	}
	ASSERT_EQ(dl_workqueue_flush(events), 0);
	ASSERT_EQ(rel.done, 1);
	ASSERT_EQ(dl_device_state(a), DL_STATE_DEAD);
	ASSERT_EQ(dl_device_state(b), DL_STATE_LIVE);
	/* Freed only after every reader and the scan are done, and our
	 * own reference is gone. */
	ASSERT_EQ(atomic_load(&released), 0);
	dl_device_put(a);
	urcu_bp_barrier();
	ASSERT_EQ(atomic_load(&released), 1);
	dl_workqueue_free(events);
	dl_device_put(b);
	dl_device_put(bus);
	dl_tree_free(tree);
}

/* ------------------------------------------------------------------ */
/* S3: the bus is removed while relations/eject events are queued       */

struct bus_drv_state {
	struct dl_workqueue *events;
	atomic_int ran, ran_after_dead, cancelled, skipped;
	struct gate first;
	struct dl_device *bus;
	atomic_bool bus_removed;   /* set by the bus driver's remove */
};

static struct bus_drv_state bst;

static void event_work(struct dl_device *bus, void *arg)
{
	long n = (long)arg;

	if (n == 0)
		gate_pass(&bst.first);
	/* In flight when removal starts, a handler may see REMOVING; it
	 * must never see the bus torn down. */
	if (atomic_load(&bst.bus_removed) ||
	    dl_device_state(bus) == DL_STATE_DEAD)
		atomic_fetch_add(&bst.ran_after_dead, 1);
	atomic_fetch_add(&bst.ran, 1);
}

static void event_done(void *arg, int status)
{
	(void)arg;
	if (status == -ECANCELED)
		atomic_fetch_add(&bst.cancelled, 1);
	else if (status == -ENODEV)
		atomic_fetch_add(&bst.skipped, 1);
}

static void bus_remove(struct dl_driver *drv, struct dl_device *dev)
{
	/* Close the event source, drain, then tear down. */
	dl_workqueue_free(bst.events);
	bst.events = NULL;
	atomic_store(&bst.bus_removed, true);
}

static const struct dl_driver_ops bus_ops = { .name = "bus",
					      .type = &test_type,
					      .remove = bus_remove };

TEST(s3_bus_removed_with_events_queued)
{
	struct dl_tree *tree = mktree();
	struct dl_device *bus, *child;
	struct removal *rm;
	pthread_t t;

	memset(&bst, 0, sizeof(bst));
	bst.first = (struct gate)GATE_INIT;
	ASSERT_EQ(dl_driver_register(tree, &bus_ops, NULL, NULL), 0);
	ASSERT_EQ(dl_workqueue_new(tree, "bus-events", 1, &bst.events), 0);
	bus = mkdev(tree, NULL, "bus0");
	ASSERT_PTR_EQ(dl_device_driver(bus), dl_driver_find(tree, "bus"));
	child = mkfn(tree, bus, "0000:00:01.0");

	for (long i = 0; i < 5; i++)
		ASSERT_EQ(dl_work_queue(bst.events, bus, event_work, event_done,
					(void *)i),
			  0);
	gate_wait_entered(&bst.first, 1); /* event 0 is being handled */

	rm = remover(bus, DL_REMOVE_WAIT);
	t = spawn_until_draining(0, bus, remover_thread, rm);
	ASSERT_TRUE(still_running(t, 0)); /* waits for the handler */
	/* The event source is closed: the host can queue nothing more. */
	ASSERT_EQ(dl_work_queue(bst.events, bus, event_work, event_done,
				(void *)9L),
		  -ENODEV);

	gate_open(&bst.first);
	join(t);
	ASSERT_EQ(rm->ret, 0);
	ASSERT_EQ(dl_device_state(bus), DL_STATE_DEAD);
	ASSERT_EQ(dl_device_state(child), DL_STATE_DEAD);
	ASSERT_EQ(atomic_load(&bst.ran), 1);         /* only the first */
	/* The rest never ran: cancelled while queued, or skipped because
	 * the worker had already taken the next one when the bus closed. */
	ASSERT_EQ(atomic_load(&bst.cancelled) + atomic_load(&bst.skipped), 4);
	ASSERT_EQ(atomic_load(&bst.ran_after_dead), 0);
	ASSERT_TRUE(atomic_load(&bst.bus_removed));
	dl_device_put(child);
	dl_device_put(bus);
	dl_tree_free(tree);
	free(rm);
}

/* ------------------------------------------------------------------ */
/* S4: a PF driver enables VFs in probe and disables them in remove     */

#define NVF 4

struct pf_data {
	struct dl_device *vf[NVF + 8];
	int nvf;
};

static atomic_int vf_probed, vf_removed, pf_removed;

static int pf_enable_vfs(struct dl_device *pf, int n)
{
	struct pf_data *d = dl_device_get_drvdata(pf);
	char name[64];

	for (int i = 0; i < n; i++) {
		struct dl_device *vf;
		int r;

		snprintf(name, sizeof(name), "%s-vf%d", dl_device_name(pf),
			 d->nvf);
		r = dl_device_new(dl_device_tree(pf), &fn_type, name,
				  sizeof(struct fn_priv), &vf);
		if (r < 0)
			return r;
		r = dl_device_add(vf, pf);
		if (r < 0) {
			dl_device_put(vf);
			return r;
		}
		d->vf[d->nvf++] = vf;
	}
	return 0;
}

static void pf_disable_vfs(struct dl_device *pf)
{
	struct dl_device_type const *t = dl_device_type(pf);
	struct pf_data *d = dl_device_get_drvdata(pf);

	(void)t;
	/* Called with device_lock(pf) held: the same on every path. */
	ASSERT_TRUE(dl_device_lock_held(pf));
	while (d->nvf > 0) {
		struct dl_device *vf = d->vf[--d->nvf];

		ASSERT_EQ(dl_device_remove(vf, DL_REMOVE_WAIT, DL_NO_TIMEOUT),
			  0);
		dl_device_put(vf);
	}
}

static int pf_probe(struct dl_driver *drv, struct dl_device *dev)
{
	struct pf_data *d = calloc(1, sizeof(*d));

	dl_device_set_drvdata(dev, d);
	return pf_enable_vfs(dev, NVF);
}

static void pf_remove(struct dl_driver *drv, struct dl_device *dev)
{
	pf_disable_vfs(dev);
	free(dl_device_get_drvdata(dev));
	atomic_fetch_add(&pf_removed, 1);
}

static bool pf_match(struct dl_driver *drv, struct dl_device *dev)
{
	return strncmp(dl_device_name(dev), "pf", 2) == 0 &&
	       !strstr(dl_device_name(dev), "-vf");
}

static int vf_probe(struct dl_driver *drv, struct dl_device *dev)
{
	atomic_fetch_add(&vf_probed, 1);
	return 0;
}

static void vf_remove(struct dl_driver *drv, struct dl_device *dev)
{
	/* The PF's driver is still bound when a VF goes. */
	ASSERT_TRUE(dl_device_driver(dl_device_parent(dev)) != NULL);
	atomic_fetch_add(&vf_removed, 1);
}

static bool vf_match(struct dl_driver *drv, struct dl_device *dev)
{
	return strstr(dl_device_name(dev), "-vf") != NULL;
}

static const struct dl_driver_ops pf_ops = {
	.name = "pf", .match = pf_match, .probe = pf_probe,
	.remove = pf_remove };
static const struct dl_driver_ops vf_ops = {
	.name = "vf", .match = vf_match, .probe = vf_probe,
	.remove = vf_remove };

static struct dl_tree *pf_setup(struct dl_device **ret_port,
				struct dl_device **ret_pf)
{
	struct dl_tree *tree = mktree();

	atomic_store(&vf_probed, 0);
	atomic_store(&vf_removed, 0);
	atomic_store(&pf_removed, 0);
	ASSERT_EQ(dl_driver_register(tree, &pf_ops, NULL, NULL), 0);
	ASSERT_EQ(dl_driver_register(tree, &vf_ops, NULL, NULL), 0);
	*ret_port = mkdev(tree, NULL, "port0");
	*ret_pf = mkdev(tree, *ret_port, "pf0");
	ASSERT_EQ(atomic_load(&vf_probed), NVF);
	return tree;
}

static int count_children(struct dl_device *dev)
{
	int n = 0;
	struct dl_device *c;
	char name[64];

	for (int i = 0; i < NVF + 8; i++) {
		snprintf(name, sizeof(name), "%s-vf%d", dl_device_name(dev), i);
		if (dl_device_lookup(dl_device_tree(dev), name, &c) == 0) {
			n++;
			dl_device_put(c);
		}
	}
	return n;
}

static void s4_check_gone(struct dl_tree *tree, struct dl_device *pf)
{
	ASSERT_EQ(count_children(pf), 0);
	ASSERT_EQ(atomic_load(&vf_removed), NVF);
	ASSERT_EQ(atomic_load(&pf_removed), 1);
}

struct s4_arg {
	struct dl_device *dev;
	int path;
	int ret;
};

static void *s4_path(void *arg)
{
	struct s4_arg *a = arg;
	struct dl_device *pf = a->dev;

	switch (a->path) {
	case 0: /* sysfs "remove": self-removal from inside the attribute */
		ASSERT_EQ(dl_device_enter(pf), 0);
		a->ret = dl_device_remove_self(pf, DL_REMOVE_WAIT);
		break;
	case 1: /* host eject */
		a->ret = dl_device_remove(pf, DL_REMOVE_WAIT, DL_NO_TIMEOUT);
		break;
	case 2: /* error recovery: surprise removal, then rescan */
		a->ret = dl_device_remove(pf, DL_REMOVE_SURPRISE,
					  DL_NO_TIMEOUT);
		break;
	case 3: /* driver unbind */
		a->ret = dl_device_unbind(pf);
		break;
	case 4: /* parent removal */
		a->ret = dl_device_remove(dl_device_parent(pf), DL_REMOVE_WAIT,
					  DL_NO_TIMEOUT);
		break;
	}
	return NULL;
}

TEST(s4_pf_driver_adds_vfs_in_probe_every_removal_path)
{
	static const char *const paths[] = { "sysfs-remove", "eject",
					     "error-recovery", "unbind",
					     "parent-removal" };

	for (int path = 0; path < 5; path++) {
		struct dl_device *port, *pf;
		struct dl_tree *tree = pf_setup(&port, &pf);
		struct s4_arg a = { .dev = pf, .path = path };
		pthread_t t;

		ASSERT_EQ(count_children(pf), NVF);
		/* Each path runs on a thread of its own, as it would come
		 * from sysfs, the host channel or a recovery worker. */
		t = spawn(s4_path, &a);
		join(t);
		if (a.ret != 0)
			FAIL_AT("path %s returned %d", paths[path], a.ret);
		s4_check_gone(tree, pf);
		if (path == 3) {
			ASSERT_EQ(dl_device_state(pf), DL_STATE_LIVE);
			ASSERT_PTR_EQ(dl_device_driver(pf), NULL);
		} else {
			ASSERT_EQ(dl_device_state(pf), DL_STATE_DEAD);
		}
		if (path == 2) {
			/* rescan: the function comes back, VFs with it */
			struct dl_device *again = mkdev(tree, port, "pf0");

			ASSERT_EQ(count_children(again), NVF);
			dl_device_put(again);
		}
		dl_device_put(pf);
		dl_device_put(port);
		dl_tree_free(tree);
	}
}

/* ------------------------------------------------------------------ */
/* S5: sriov_numvfs is written while the PF is being removed            */

static struct gate numvfs_gate;

struct numvfs_arg {
	struct dl_device *pf;
	int n;
	int ret;
	bool gated;
};

/* The sriov_numvfs store: active(PF) -> device_lock(PF) -> add VFs. */
static void *numvfs_store(void *arg)
{
	struct numvfs_arg *a = arg;

	if (dl_device_enter_tagged(a->pf, "sriov_numvfs") < 0) {
		a->ret = -ENODEV;
		return NULL;
	}
	dl_device_lock(a->pf);
	if (a->gated)
		gate_pass(&numvfs_gate);  /* half-way through */
	if (a->n == 0)
		pf_disable_vfs(a->pf);
	else
		a->ret = pf_enable_vfs(a->pf, a->n);
	dl_device_unlock(a->pf);
	dl_device_exit(a->pf);
	return NULL;
}

TEST(s5_numvfs_write_while_pf_removed)
{
	/* Interleaving 1: the write holds active(PF) and device_lock(PF)
	 * when the removal starts. The removal drains holding no device
	 * lock, so it waits, then removes the new VFs too. */
	{
		struct dl_device *port, *pf;
		struct dl_tree *tree = pf_setup(&port, &pf);
		struct numvfs_arg a = { .pf = pf, .n = 3, .gated = true };
		struct removal *rm = remover(pf, DL_REMOVE_WAIT);
		pthread_t tw, tr;

		numvfs_gate = (struct gate)GATE_INIT;
		tw = spawn(numvfs_store, &a);
		gate_wait_entered(&numvfs_gate, 1);
		tr = spawn_until_draining(0, pf, remover_thread, rm);
		ASSERT_TRUE(still_running(tr, 0));
		gate_open(&numvfs_gate);
		join(tw);
		join(tr);
		/* The gate closed while the writer was inside: its VF adds
		 * are refused (a nested enter fails once deactivated, as in
		 * kernfs), and it returns; the removal then proceeds. */
		ASSERT_EQ(a.ret, -ENODEV);
		ASSERT_EQ(rm->ret, 0);
		ASSERT_EQ(count_children(pf), 0);
		ASSERT_EQ(atomic_load(&vf_removed), NVF);
		dl_device_put(pf);
		dl_device_put(port);
		dl_tree_free(tree);
		free(rm);
	}
	/* Interleaving 2: the removal has drained; the write comes late
	 * and is refused, and no VF appears. */
	{
		struct dl_device *port, *pf;
		struct dl_tree *tree = pf_setup(&port, &pf);
		struct numvfs_arg a = { .pf = pf, .n = 3 };
		struct removal *rm = remover(pf, DL_REMOVE_WAIT);
		pthread_t tr;

		pause_arm(0, "remove:drained", pf);
		tr = spawn(remover_thread, rm);
		pause_wait(0);
		join(spawn(numvfs_store, &a));
		ASSERT_EQ(a.ret, -ENODEV);
		pause_release(0);
		join(tr);
		ASSERT_EQ(rm->ret, 0);
		ASSERT_EQ(count_children(pf), 0);
		dl_device_put(pf);
		dl_device_put(port);
		dl_tree_free(tree);
		free(rm);
	}
}

/* ------------------------------------------------------------------ */
/* S6: try-mode removal with an active user, and with a claim           */

static void assert_intact(struct dl_tree *tree, struct dl_device *dev,
			  struct dl_device *child)
{
	struct dl_device *found;

	ASSERT_EQ(dl_device_state(dev), DL_STATE_LIVE);
	ASSERT_EQ(dl_device_lookup(tree, dl_device_name(dev), &found), 0);
	ASSERT_PTR_EQ(found, dev);
	dl_device_put(found);
	ASSERT_EQ(dl_device_enter(dev), 0);
	dl_device_exit(dev);
	ASSERT_EQ(dl_device_state(child), DL_STATE_LIVE);
	ASSERT_EQ(dl_device_enter(child), 0);
	dl_device_exit(child);
	ASSERT_EQ(dl_device_lookup(tree, dl_device_name(child), &found), 0);
	dl_device_put(found);
}

struct holder {
	struct dl_device *dev;
	struct gate leave;
	bool entered;
};

static void *holder_thread(void *arg)
{
	struct holder *h = arg;

	ASSERT_EQ(dl_device_enter(h->dev), 0);
	h->entered = true;
	gate_pass(&h->leave);
	dl_device_exit(h->dev);
	return NULL;
}

TEST(s6_try_remove_busy_user_and_claim)
{
	struct dl_tree *tree = mktree();
	struct dl_device *dev = mkdev(tree, NULL, "dev0");
	struct dl_device *child = mkdev(tree, dev, "dev0.child");
	struct holder h = { .dev = child, .leave = GATE_INIT };
	struct dl_tree_stats st;
	pthread_t t;

	/* A user inside the child makes the whole subtree busy. */
	t = spawn(holder_thread, &h);
	gate_wait_entered(&h.leave, 1);
	ASSERT_EQ(dl_device_remove(dev, DL_REMOVE_TRY, DL_NO_TIMEOUT), -EBUSY);
	ASSERT_EQ(dl_device_remove(child, DL_REMOVE_TRY, DL_NO_TIMEOUT),
		  -EBUSY);
	assert_intact(tree, dev, child);
	ASSERT_EQ(dl_device_active_users(child), 1);
	gate_open(&h.leave);
	join(t);
	ASSERT_EQ(dl_device_active_users(child), 0);

	/* A claim makes it busy too, and the claim is kept. */
	ASSERT_EQ(dl_device_claim(dev, "vm1", NULL, NULL), 0);
	ASSERT_EQ(dl_device_remove(dev, DL_REMOVE_TRY, DL_NO_TIMEOUT), -EBUSY);
	assert_intact(tree, dev, child);
	ASSERT_EQ(dl_device_claim(dev, "vm2", NULL, NULL), -EBUSY);
	ASSERT_EQ(dl_device_unclaim(dev), 0);
	ASSERT_EQ(dl_tree_get_stats(tree, &st), 0);
	ASSERT_EQ(st.remove_busy, 3);

	/* Idle and unclaimed: try succeeds, and success means gone. */
	ASSERT_EQ(dl_device_remove(dev, DL_REMOVE_TRY, DL_NO_TIMEOUT), 0);
	ASSERT_EQ(dl_device_state(dev), DL_STATE_DEAD);
	ASSERT_EQ(dl_device_state(child), DL_STATE_DEAD);
	ASSERT_EQ(dl_device_enter(dev), -ENODEV);
	ASSERT_EQ(dl_device_enter(child), -ENODEV);
	dl_device_put(child);
	dl_device_put(dev);
	dl_tree_free(tree);
}

struct enter_arg {
	struct dl_device *dev;
	int ret;
};

static void *enter_thread(void *arg)
{
	struct enter_arg *e = arg;

	e->ret = dl_device_enter(e->dev);
	if (e->ret == 0)
		dl_device_exit(e->dev);
	return NULL;
}

TEST(s6_try_remove_races_with_enter)
{
	/* The user enters exactly while the removal checks: the removal is
	 * paused after closing the gate; the enter waits for its decision
	 * (a try may still be refused, and then must not have been seen),
	 * the removal, seeing nobody, succeeds, and the enter fails. Or the
	 * user was first, and the removal refuses. Either way: success =>
	 * no enter succeeds. */
	struct dl_tree *tree = mktree();
	struct dl_device *dev = mkdev(tree, NULL, "dev0");
	struct removal *rm = remover(dev, DL_REMOVE_TRY);
	struct enter_arg e = { .dev = dev, .ret = 1 };
	pthread_t t, et;

	pause_arm(0, "remove:deactivated", dev);
	t = spawn(remover_thread, rm);
	pause_wait(0);
	pause_arm(1, "enter:held", dev);
	et = spawn(enter_thread, &e);
	pause_wait(1);
	pause_release(1);
	pause_release(0);
	join(t);
	join(et);
	ASSERT_EQ(rm->ret, 0);
	ASSERT_EQ(e.ret, -ENODEV);
	ASSERT_EQ(dl_device_enter(dev), -ENODEV);
	dl_device_put(dev);
	dl_tree_free(tree);
	free(rm);
}

/* ------------------------------------------------------------------ */
/* S7: lookup races with the last put                                   */

struct lookup_arg {
	struct dl_tree *tree;
	const char *name;
	int ret;
	struct dl_device *found;
};

static void *lookup_thread(void *arg)
{
	struct lookup_arg *a = arg;

	a->ret = dl_device_lookup(a->tree, a->name, &a->found);
	return NULL;
}

TEST(s7_lookup_races_with_last_put)
{
	struct dl_tree *tree = mktree();
	struct dl_device *dev = mkfn(tree, NULL, "0000:00:01.0");
	struct lookup_arg la = { .tree = tree, .name = "0000:00:01.0" };
	pthread_t t;

	atomic_store(&released, 0);
	/* The lookup has found the node in the hash table and is about to
	 * take its reference ... */
	pause_arm(0, "lookup:found", dev);
	t = spawn(lookup_thread, &la);
	pause_wait(0);
	/* ... when the device is removed and its last reference dropped. */
	ASSERT_EQ(dl_device_remove(dev, DL_REMOVE_WAIT, DL_NO_TIMEOUT), 0);
	dl_device_put(dev);
	/* The memory outlives the lookup's RCU read section. */
	ASSERT_EQ(atomic_load(&released), 0);
	pause_release(0);
	join(t);
	ASSERT_EQ(la.ret, -ENOENT);   /* never a dying device */
	urcu_bp_barrier();
	ASSERT_EQ(atomic_load(&released), 1);
	dl_tree_free(tree);
}

TEST(s7_lookup_concurrent_with_removal_never_returns_removing)
{
	struct dl_tree *tree = mktree();

	for (int round = 0; round < 200; round++) {
		struct dl_device *dev = mkdev(tree, NULL, "racy");
		struct lookup_arg la = { .tree = tree, .name = "racy" };
		pthread_t t = spawn(lookup_thread, &la);

		ASSERT_EQ(dl_device_remove(dev, DL_REMOVE_WAIT, DL_NO_TIMEOUT),
			  0);
		dl_device_put(dev);
		join(t);
		if (la.ret == 0) {
			/* Found before removal started: it must be the same
			 * device, and it may no longer be entered. */
			ASSERT_PTR_EQ(la.found, dev);
			ASSERT_EQ(dl_device_enter(la.found), -ENODEV);
			dl_device_put(la.found);
		} else {
			ASSERT_EQ(la.ret, -ENOENT);
		}
		ASSERT_EQ(dl_device_lookup(tree, "racy", &la.found), -ENOENT);
	}
	dl_tree_free(tree);
}

/* ------------------------------------------------------------------ */
/* S8: a child is created while its parent is being removed             */

struct adder {
	struct dl_device *child;
	struct dl_device *parent;
	int ret;
};

static void *adder_thread(void *arg)
{
	struct adder *a = arg;

	a->ret = dl_device_add(a->child, a->parent);
	return NULL;
}

TEST(s8_child_added_during_parent_removal)
{
	/* Interleaving 1 (mdev issue-1): create_store has linked the child
	 * and is still inside the parent when the parent's unregistration
	 * starts. The removal waits for the add, then removes the new
	 * child: never left behind. */
	{
		struct dl_tree *tree = mktree();
		struct dl_device *parent = mkdev(tree, NULL, "parent");
		struct dl_device *child, *found;
		struct adder ad;
		struct removal *rm = remover(parent, DL_REMOVE_WAIT);
		pthread_t ta, tr;

		ASSERT_EQ(dl_device_new(tree, &test_type, "mdev-1", 0, &child),
			  0);
		ad = (struct adder){ .child = child, .parent = parent };
		pause_arm(0, "add:published", child);
		ta = spawn(adder_thread, &ad);
		pause_wait(0);
		tr = spawn_until_draining(1, parent, remover_thread, rm);
		ASSERT_TRUE(still_running(tr, 0)); /* waits for the add */
		pause_release(0);
		join(ta);
		join(tr);
		ASSERT_EQ(ad.ret, 0);
		ASSERT_EQ(rm->ret, 0);
		ASSERT_EQ(dl_device_state(child), DL_STATE_DEAD);
		ASSERT_EQ(dl_device_lookup(tree, "mdev-1", &found), -ENOENT);
		dl_device_put(child);
		dl_device_put(parent);
		dl_tree_free(tree);
		free(rm);
	}
	/* Interleaving 1b: create_store has entered the parent but not yet
	 * linked the child when the removal starts: the removal waits for
	 * it, and the add, seeing its parent going, refuses with -ENODEV. */
	{
		struct dl_tree *tree = mktree();
		struct dl_device *parent = mkdev(tree, NULL, "parent");
		struct dl_device *child, *found;
		struct adder ad;
		struct removal *rm = remover(parent, DL_REMOVE_WAIT);
		pthread_t ta, tr;

		ASSERT_EQ(dl_device_new(tree, &test_type, "mdev-1", 0, &child),
			  0);
		ad = (struct adder){ .child = child, .parent = parent };
		pause_arm(0, "add:parent-entered", child);
		ta = spawn(adder_thread, &ad);
		pause_wait(0);
		tr = spawn_until_draining(1, parent, remover_thread, rm);
		ASSERT_TRUE(still_running(tr, 0)); /* waits for the add */
		pause_release(0);
		join(ta);
		join(tr);
		ASSERT_EQ(ad.ret, -ENODEV);
		ASSERT_EQ(rm->ret, 0);
		ASSERT_EQ(dl_device_state(child), DL_STATE_NEW);
		ASSERT_EQ(dl_device_lookup(tree, "mdev-1", &found), -ENOENT);
		dl_device_put(child);
		dl_device_put(parent);
		dl_tree_free(tree);
		free(rm);
	}
	/* Interleaving 2: the removal has closed the parent first; the
	 * create fails with -ENODEV and nothing is linked. */
	{
		struct dl_tree *tree = mktree();
		struct dl_device *parent = mkdev(tree, NULL, "parent");
		struct dl_device *child, *found;
		struct removal *rm = remover(parent, DL_REMOVE_WAIT);
		pthread_t tr;

		ASSERT_EQ(dl_device_new(tree, &test_type, "mdev-1", 0, &child),
			  0);
		pause_arm(0, "remove:deactivated", parent);
		tr = spawn(remover_thread, rm);
		pause_wait(0);
		ASSERT_EQ(dl_device_add(child, parent), -ENODEV);
		ASSERT_EQ(dl_device_state(child), DL_STATE_NEW);
		ASSERT_EQ(dl_device_lookup(tree, "mdev-1", &found), -ENOENT);
		pause_release(0);
		join(tr);
		ASSERT_EQ(rm->ret, 0);
		dl_device_put(child); /* never added: freed here */
		dl_device_put(parent);
		dl_tree_free(tree);
		free(rm);
	}
}

/* ------------------------------------------------------------------ */
/* S9: a user removes a child while the parent is being removed         */

static atomic_int child_remove_calls;
static atomic_bool parent_bound_during_child_remove;
static atomic_bool parent_driver_removed;

static void mparent_remove(struct dl_driver *drv, struct dl_device *dev)
{
	atomic_store(&parent_driver_removed, true);
}

static void mchild_remove(struct dl_driver *drv, struct dl_device *dev)
{
	atomic_fetch_add(&child_remove_calls, 1);
	atomic_store(&parent_bound_during_child_remove,
		     dl_device_driver(dl_device_parent(dev)) != NULL &&
			     !atomic_load(&parent_driver_removed));
}

static bool is_parent(struct dl_driver *drv, struct dl_device *dev)
{
	return dl_device_parent(dev) == NULL;
}

static bool is_child(struct dl_driver *drv, struct dl_device *dev)
{
	return dl_device_parent(dev) != NULL;
}

static const struct dl_driver_ops mparent_ops = {
	.name = "mdev-parent", .match = is_parent, .remove = mparent_remove };
static const struct dl_driver_ops mchild_ops = {
	.name = "mdev-child", .match = is_child, .remove = mchild_remove };

TEST(s9_child_removed_by_user_during_parent_removal)
{
	struct dl_tree *tree = mktree();
	struct dl_device *parent, *child;
	struct removal *rp, *rc;
	pthread_t tp, tc;
	uint64_t cursor = 0;
	struct dl_trace_record rec[256];
	size_t n;
	int dead_events = 0;

	atomic_store(&child_remove_calls, 0);
	atomic_store(&parent_driver_removed, false);
	ASSERT_EQ(dl_driver_register(tree, &mparent_ops, NULL, NULL), 0);
	ASSERT_EQ(dl_driver_register(tree, &mchild_ops, NULL, NULL), 0);
	parent = mkdev(tree, NULL, "parent");
	child = mkdev(tree, parent, "mdev-1");
	rp = remover(parent, DL_REMOVE_WAIT);
	rc = remover(child, DL_REMOVE_WAIT);

	/* The parent's removal has drained and is about to remove its
	 * children; the user's remove of the child wins the child and is
	 * stopped inside the child's driver remove. */
	pause_arm(0, "remove:drained", parent);
	tp = spawn(remover_thread, rp);
	pause_wait(0);
	pause_arm(1, "remove:driver-remove", child);
	tc = spawn(remover_thread, rc);
	pause_wait(1);
	pause_release(0);
	/* The parent's removal waits for the child: it must not finish. */
	ASSERT_TRUE(still_running(tp, 200));
	ASSERT_FALSE(atomic_load(&parent_driver_removed));
	pause_release(1);
	join(tc);
	join(tp);
	ASSERT_EQ(rc->ret, 0);
	ASSERT_EQ(rp->ret, 0);
	/* Both callers returned only after the child was gone. */
	ASSERT_EQ(rc->state_after, DL_STATE_DEAD);
	ASSERT_EQ(rp->state_after, DL_STATE_DEAD);
	ASSERT_EQ(dl_device_state(child), DL_STATE_DEAD);
	/* Exactly one removal, while the parent's driver was bound. */
	ASSERT_EQ(atomic_load(&child_remove_calls), 1);
	ASSERT_TRUE(atomic_load(&parent_bound_during_child_remove));
	n = dl_trace_read(tree, &cursor, rec, 256);
	for (size_t i = 0; i < n; i++)
		if (rec[i].event == DL_EV_DEAD &&
		    rec[i].dev_id == dl_device_id(child))
			dead_events++;
	ASSERT_EQ(dead_events, 1);
	dl_device_put(child);
	dl_device_put(parent);
	dl_tree_free(tree);
	free(rp);
	free(rc);
}

/* ------------------------------------------------------------------ */
/* S10: probe queues an asynchronous online; removal comes first        */

static atomic_int in_callback;     /* online/offline/remove overlap */
static atomic_int overlaps, onlined, online_on_dead;
static struct gate online_gate;
static bool online_gated;

static void enter_cb(void)
{
	if (atomic_fetch_add(&in_callback, 1) != 0)
		atomic_fetch_add(&overlaps, 1);
}

static void leave_cb(void)
{
	atomic_fetch_sub(&in_callback, 1);
}

static int ao_online(struct dl_driver *drv, struct dl_device *dev)
{
	enter_cb();
	if (dl_device_state(dev) != DL_STATE_LIVE)
		atomic_fetch_add(&online_on_dead, 1);
	if (online_gated)
		gate_pass(&online_gate);
	atomic_fetch_add(&onlined, 1);
	leave_cb();
	return 0;
}

static int ao_offline(struct dl_driver *drv, struct dl_device *dev)
{
	enter_cb();
	leave_cb();
	return 0;
}

static atomic_int bodies_after_removal;

static void online_work(struct dl_device *dev, void *arg)
{
	int r;

	/* The body itself must never run once removal has begun. */
	if (dl_device_state(dev) != DL_STATE_LIVE)
		atomic_fetch_add(&bodies_after_removal, 1);
	r = dl_device_online(dev);

	ASSERT_TRUE(r == 0 || r == -ENODEV);
}

static struct dl_workqueue *ao_wq;

static void blocker_work(struct dl_device *dev, void *arg)
{
	gate_pass(&online_gate);
}

static int ao_probe(struct dl_driver *drv, struct dl_device *dev)
{
	/* virtio-ccw: probe schedules the online and returns. */
	return dl_work_queue(ao_wq ? ao_wq : dl_tree_workqueue(dl_device_tree(dev)),
			     dev, online_work, NULL, NULL);
}

static void ao_remove(struct dl_driver *drv, struct dl_device *dev)
{
	enter_cb();
	leave_cb();
}

static const struct dl_driver_ops ao_ops = {
	.name = "auto-online", .probe = ao_probe, .remove = ao_remove,
	.online = ao_online, .offline = ao_offline };

static void s10_reset(void)
{
	atomic_store(&in_callback, 0);
	atomic_store(&overlaps, 0);
	atomic_store(&onlined, 0);
	atomic_store(&online_on_dead, 0);
	atomic_store(&bodies_after_removal, 0);
	online_gated = false;
	online_gate = (struct gate)GATE_INIT;
}

TEST(s10_async_online_vs_remove)
{
	/* a) The worker has taken the item and is about to run it when the
	 *    device is removed: the online is skipped. */
	{
		struct dl_tree *tree = mktree();
		struct dl_device *dev;

		s10_reset();
		ASSERT_EQ(dl_driver_register(tree, &ao_ops, NULL, NULL), 0);
		pause_arm(0, "work:run", NULL);
		dev = mkdev(tree, NULL, "ccw0");
		pause_wait(0);
		ASSERT_EQ(dl_device_remove(dev, DL_REMOVE_WAIT, DL_NO_TIMEOUT),
			  0);
		pause_release(0);
		ASSERT_EQ(dl_workqueue_flush(dl_tree_workqueue(tree)), 0);
		ASSERT_EQ(atomic_load(&onlined), 0);
		ASSERT_EQ(atomic_load(&bodies_after_removal), 0);
		ASSERT_FALSE(dl_device_is_online(dev));
		dl_device_put(dev);
		dl_tree_free(tree);
	}
	/* b) The item is still queued behind another one: removal cancels
	 *    it, the body never runs. */
	{
		struct dl_tree *tree = mktree();
		struct dl_device *dev, *busy;
		struct dl_tree_stats st;

		s10_reset();
		ASSERT_EQ(dl_workqueue_new(tree, "ccw", 1, &ao_wq), 0);
		busy = mkdev(tree, NULL, "busy"); /* no driver yet */
		ASSERT_EQ(dl_work_queue(ao_wq, busy, blocker_work, NULL, NULL),
			  0);
		gate_wait_entered(&online_gate, 1);
		ASSERT_EQ(dl_driver_register(tree, &ao_ops, NULL, NULL), 0);
		dev = mkdev(tree, NULL, "ccw0");  /* probe queues online */
		ASSERT_EQ(dl_device_remove(dev, DL_REMOVE_WAIT, DL_NO_TIMEOUT),
			  0);
		ASSERT_EQ(dl_tree_get_stats(tree, &st), 0);
		ASSERT_EQ(st.work_cancelled, 1);
		gate_open(&online_gate);
		ASSERT_EQ(dl_workqueue_flush(ao_wq), 0);
		ASSERT_EQ(atomic_load(&onlined), 0);
		ASSERT_EQ(atomic_load(&bodies_after_removal), 0);
		ASSERT_FALSE(dl_device_is_online(dev));
		dl_workqueue_free(ao_wq);
		ao_wq = NULL;
		dl_device_put(dev);
		dl_device_put(busy);
		dl_tree_free(tree);
	}
	/* c) The online is running when removal starts: removal waits;
	 *    online and remove never overlap. */
	{
		struct dl_tree *tree = mktree();
		struct dl_device *dev;
		struct removal *rm;
		pthread_t t;

		s10_reset();
		online_gated = true;
		ASSERT_EQ(dl_driver_register(tree, &ao_ops, NULL, NULL), 0);
		dev = mkdev(tree, NULL, "ccw0");
		gate_wait_entered(&online_gate, 1);
		rm = remover(dev, DL_REMOVE_WAIT);
		/* forced: the removal stops where it found the online
		 * running and has started nothing (the device is LIVE);
		 * it then waits for the callback to return */
		pause_arm(1, "remove:wait-callback", dev);
		t = spawn(remover_thread, rm);
		pause_wait(1);
		ASSERT_EQ(dl_device_state(dev), DL_STATE_LIVE);
		pause_release(1);
		ASSERT_TRUE(still_running(t, 50));
		ASSERT_EQ(dl_device_state(dev), DL_STATE_LIVE);
		gate_open(&online_gate);
		join(t);
		ASSERT_EQ(rm->ret, 0);
		ASSERT_EQ(atomic_load(&onlined), 1);
		/* A later online (a stale work item) is refused. */
		ASSERT_EQ(dl_device_online(dev), -ENODEV);
		free(rm);
		dl_device_put(dev);
		dl_tree_free(tree);
	}
	ASSERT_EQ(atomic_load(&overlaps), 0);
	ASSERT_EQ(atomic_load(&online_on_dead), 0);
}

/* ------------------------------------------------------------------ */
/* S11: echo 1 > remove while readers are in flight; two writers        */

static atomic_int s11_driver_removes;

static void s11_remove(struct dl_driver *drv, struct dl_device *dev)
{
	atomic_fetch_add(&s11_driver_removes, 1);
}

static const struct dl_driver_ops s11_ops = { .name = "s11",
					      .remove = s11_remove };

struct writer {
	struct dl_device *dev;
	int ret;
	enum dl_device_state after;
	pthread_barrier_t *both_inside;
};

/* The "remove" attribute's store: it runs inside an active section of
 * its own device, as every sysfs operation does. */
static void *remove_store(void *arg)
{
	struct writer *w = arg;

	if (dl_device_enter_tagged(w->dev, "remove-store") < 0) {
		w->ret = -ENODEV;
		w->after = dl_device_state(w->dev);
		return NULL;
	}
	if (w->both_inside)
		pthread_barrier_wait(w->both_inside);
	w->ret = dl_device_remove_self(w->dev, DL_REMOVE_WAIT);
	w->after = dl_device_state(w->dev);
	return NULL;
}

TEST(s11_remove_attribute_with_readers_and_two_writers)
{
	struct dl_tree *tree = mktree();
	struct dl_device *dev;
	struct gate slow = GATE_INIT;
	struct reader rd[2];
	struct writer w[2];
	pthread_t tr[2], tw[2];
	pthread_barrier_t both_inside;

	atomic_store(&s11_driver_removes, 0);
	ASSERT_EQ(dl_driver_register(tree, &s11_ops, NULL, NULL), 0);
	dev = mkfn(tree, NULL, "0000:00:03.0");
	((struct fn_priv *)dl_device_priv(dev))->slow = &slow;
	for (int i = 0; i < 2; i++) {
		rd[i] = (struct reader){ .dev = dev };
		tr[i] = spawn(reader_thread, &rd[i]);
	}
	gate_wait_entered(&slow, 2);
	/* Two writers inside their own active sections at once. */
	pause_arm(0, "remove:won", dev);
	pause_arm(1, "drain:wait", dev);
	pthread_barrier_init(&both_inside, NULL, 2);
	for (int i = 0; i < 2; i++) {
		w[i] = (struct writer){ .dev = dev,
					.both_inside = &both_inside };
		tw[i] = spawn(remove_store, &w[i]);
	}
	pause_wait(0);
	pause_release(0);
	/* The winner waits for the readers, the other writer for it. */
	pause_wait(1);
	pause_release(1);
	ASSERT_TRUE(still_running(tw[0], 0)); /* readers still inside */
	ASSERT_TRUE(still_running(tw[1], 0));
	gate_open(&slow);
	for (int i = 0; i < 2; i++) {
		join(tr[i]);
		ASSERT_EQ(rd[i].ret, 256);
		join(tw[i]);
		/* Both were inside before the removal won; both return
		 * success, and only after the device is gone. */
		ASSERT_EQ(w[i].ret, 0);
		ASSERT_EQ(w[i].after, DL_STATE_DEAD);
	}
	ASSERT_EQ(atomic_load(&s11_driver_removes), 1);
	dl_device_put(dev);
	dl_tree_free(tree);
}

TEST_MAIN(s1_eject_waits_for_inflight_config_read,
	  s2_relations_without_device_while_readers_in_flight,
	  s3_bus_removed_with_events_queued,
	  s4_pf_driver_adds_vfs_in_probe_every_removal_path,
	  s5_numvfs_write_while_pf_removed,
	  s6_try_remove_busy_user_and_claim,
	  s6_try_remove_races_with_enter,
	  s7_lookup_races_with_last_put,
	  s7_lookup_concurrent_with_removal_never_returns_removing,
	  s8_child_added_during_parent_removal,
	  s9_child_removed_by_user_during_parent_removal,
	  s10_async_online_vs_remove,
	  s11_remove_attribute_with_readers_and_two_writers)
