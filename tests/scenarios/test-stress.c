/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * S12: a random concurrent mix of everything, for a bounded time, with
 * invariants checked while it runs and after:
 *  - nobody is ever inside a device whose driver has been torn down
 *    (every user is drained before remove);
 *  - no work body runs on a device whose teardown has begun;
 *  - a successful removal returns with the device DEAD;
 *  - a child is never linked under a DEAD parent (no orphans);
 *  - online/offline/remove never overlap on a device;
 *  - every device ever built is released (no reference leaks);
 *  - each device's trace events come in a legal order.
 *
 * DL_STRESS_SECONDS sets the duration (default: the build's
 * stress_seconds); DL_STRESS_SEED the random seed.
 */
#include <urcu-bp.h>

#include "pause.h"

#ifndef STRESS_SECONDS
#define STRESS_SECONDS 3
#endif

#define NTHREADS 6
#define MAXNAME 64

struct priv {
	atomic_int torn;       /* driver remove ran */
	atomic_int in_cb;      /* in online/offline/remove */
	atomic_int depth;
};

static atomic_long built, released_count;
static atomic_long violations;
static atomic_long ops_enter, ops_remove_ok, ops_busy, ops_add, ops_work,
	ops_claim;
static atomic_bool stop;
static struct dl_tree *tree;

#define VIOLATION(...)                                                         \
	do {                                                                   \
		fprintf(stderr, "invariant violated: " __VA_ARGS__);           \
		fputc('\n', stderr);                                           \
		atomic_fetch_add(&violations, 1);                              \
	} while (0)

static void release(struct dl_device *dev);
static const struct dl_device_type stype = { .name = "stress",
					     .release = release };

/* The removal's point of no return (after the drain, before the
 * driver's remove): from here on nobody may be inside. */
static void observe(const char *point, struct dl_device *dev)
{
	if (strcmp(point, "remove:driver-remove") == 0 &&
	    dl_device_type(dev) == &stype)
		atomic_store(&((struct priv *)dl_device_priv(dev))->torn, 1);
}

static void release(struct dl_device *dev)
{
	atomic_fetch_add(&released_count, 1);
}


static void cb_enter(struct dl_device *dev)
{
	struct priv *p = dl_device_priv(dev);

	if (atomic_fetch_add(&p->in_cb, 1) != 0)
		VIOLATION("callbacks overlap on %s", dl_device_name(dev));
}

static void cb_leave(struct dl_device *dev)
{
	struct priv *p = dl_device_priv(dev);

	atomic_fetch_sub(&p->in_cb, 1);
}

static int add_child(struct dl_device *parent, unsigned int *seed);

static int drv_probe(struct dl_driver *drv, struct dl_device *dev)
{
	struct priv *p = dl_device_priv(dev);
	unsigned int seed = (unsigned int)dl_device_id(dev);

	/* Like an SR-IOV PF: add children from probe, sometimes. */
	if (atomic_load(&p->depth) < 2 && rand_r(&seed) % 3 == 0)
		add_child(dev, &seed);
	return rand_r(&seed) % 17 == 0 ? -EIO : 0;
}

static int remove_child_cb(struct dl_device *child, void *arg)
{
	int r = dl_device_remove(child, DL_REMOVE_WAIT, DL_NO_TIMEOUT);

	if (r != 0)
		VIOLATION("child removal from driver remove: %d", r);
	return 0;
}

static void drv_remove(struct dl_driver *drv, struct dl_device *dev)
{
	struct priv *p = dl_device_priv(dev);

	cb_enter(dev);
	/* Like a PF disabling its VFs: remove children from remove. */
	dl_device_for_each_child(dev, remove_child_cb, NULL);
	(void)p;
	cb_leave(dev);
}

static int drv_online(struct dl_driver *drv, struct dl_device *dev)
{
	struct priv *p = dl_device_priv(dev);

	cb_enter(dev);
	if (atomic_load(&p->torn))
		VIOLATION("online on torn-down %s", dl_device_name(dev));
	cb_leave(dev);
	return 0;
}

static int drv_offline(struct dl_driver *drv, struct dl_device *dev)
{
	cb_enter(dev);
	cb_leave(dev);
	return 0;
}

static const struct dl_driver_ops drv_ops = {
	.name = "stress", .type = &stype, .probe = drv_probe,
	.remove = drv_remove, .online = drv_online, .offline = drv_offline };

static atomic_long next_name;

static int add_child(struct dl_device *parent, unsigned int *seed)
{
	struct dl_device *dev;
	struct priv *p;
	char name[MAXNAME];
	int r;

	snprintf(name, sizeof(name), "d%ld",
		 atomic_fetch_add(&next_name, 1) % 400);
	r = dl_device_new(tree, &stype, name, sizeof(struct priv), &dev);
	if (r < 0)
		return r;
	atomic_fetch_add(&built, 1);
	p = dl_device_priv(dev);
	if (parent)
		atomic_store(&p->depth,
			     atomic_load(&((struct priv *)dl_device_priv(
						   parent))->depth) + 1);
	r = dl_device_add(dev, parent);
	if (r == 0) {
		atomic_fetch_add(&ops_add, 1);
		if (parent && dl_device_state(parent) == DL_STATE_DEAD &&
		    dl_device_state(dev) == DL_STATE_LIVE)
			VIOLATION("child %s live under dead parent", name);
	} else if (r != -EEXIST && r != -ENODEV) {
		VIOLATION("add returned %d", r);
	}
	dl_device_put(dev);
	return r;
}

static void work_fn(struct dl_device *dev, void *arg)
{
	struct priv *p = dl_device_priv(dev);

	if (atomic_load(&p->torn))
		VIOLATION("work ran on torn-down %s", dl_device_name(dev));
	if ((long)arg & 1)
		(void)dl_device_online(dev);
	atomic_fetch_add(&ops_work, 1);
}

static void claim_release(struct dl_device *dev, void *arg)
{
	dl_device_unclaim(dev);
}

static struct dl_device *random_device(unsigned int *seed)
{
	struct dl_device *dev;
	char name[MAXNAME];

	snprintf(name, sizeof(name), "d%u", rand_r(seed) % 400);
	if (dl_device_lookup(tree, name, &dev) < 0)
		return NULL;
	return dev;
}

static void *worker(void *arg)
{
	unsigned int seed = (unsigned int)(uintptr_t)arg;
	struct dl_workqueue *wq = dl_tree_workqueue(tree);

	while (!atomic_load(&stop)) {
		struct dl_device *dev = random_device(&seed);
		unsigned int op = rand_r(&seed) % 100;
		int r;

		if (!dev) {
			if (op < 50)
				add_child(NULL, &seed);
			continue;
		}
		if (op < 45) {
			/* a user: enter, check, maybe nest into a child */
			if (dl_device_enter(dev) == 0) {
				struct priv *p = dl_device_priv(dev);

				atomic_fetch_add(&ops_enter, 1);
				if (atomic_load(&p->torn))
					VIOLATION("inside torn-down %s",
						  dl_device_name(dev));
				if (op < 5)
					sched_yield();
				if (atomic_load(&p->torn))
					VIOLATION("inside torn-down %s",
						  dl_device_name(dev));
				dl_device_exit(dev);
			}
		} else if (op < 58) {
			if (atomic_load(&((struct priv *)dl_device_priv(dev))
						 ->depth) < 3)
				add_child(dev, &seed);
		} else if (op < 68) {
			unsigned int mode = rand_r(&seed) % 3;
			int64_t to = rand_r(&seed) % 2 ? DL_NO_TIMEOUT
						       : 2000000;

			r = dl_device_remove(dev, mode, to);
			if (r == 0) {
				atomic_fetch_add(&ops_remove_ok, 1);
				if (dl_device_state(dev) != DL_STATE_DEAD)
					VIOLATION("remove returned before DEAD");
				if (dl_device_driver(dev))
					VIOLATION("driver still bound");
			} else if (r == -EBUSY || r == -ETIMEDOUT) {
				atomic_fetch_add(&ops_busy, 1);
			} else {
				VIOLATION("remove returned %d", r);
			}
		} else if (op < 76) {
			r = dl_work_queue(wq, dev, work_fn, NULL,
					  (void *)(long)op);
			if (r != 0 && r != -ENODEV)
				VIOLATION("queue returned %d", r);
		} else if (op < 82) {
			r = op & 1 ? dl_device_online(dev)
				   : dl_device_offline(dev);
			if (r != 0 && r != -ENODEV && r != -EOPNOTSUPP)
				VIOLATION("online/offline returned %d", r);
		} else if (op < 88) {
			if (dl_device_claim(dev, "stress", claim_release,
					    NULL) == 0) {
				atomic_fetch_add(&ops_claim, 1);
				if (op & 1)
					dl_device_unclaim(dev);
			}
		} else if (op < 94) {
			r = op & 1 ? dl_device_unbind(dev)
				   : dl_device_bind(dev, NULL);
			(void)r;
		} else {
			/* the sysfs "remove" attribute */
			if (dl_device_enter(dev) == 0) {
				r = dl_device_remove_self(dev, DL_REMOVE_WAIT);
				if (r != 0)
					VIOLATION("remove_self returned %d", r);
			}
		}
		dl_device_put(dev);
	}
	return NULL;
}

static void check_trace(void)
{
	/* Per device: ADD first; nothing but RELEASE after DEAD; at most
	 * one DEAD. Only over the window the ring still holds. */
	static struct dl_trace_record rec[DL_TRACE_RING];
	uint64_t cursor = 0;
	size_t n = dl_trace_read(tree, &cursor, rec, DL_TRACE_RING);

	for (size_t i = 0; i < n; i++) {
		if (rec[i].event != DL_EV_DEAD)
			continue;
		for (size_t j = i + 1; j < n; j++) {
			if (rec[j].dev_id != rec[i].dev_id)
				continue;
			if (rec[j].event != DL_EV_RELEASE)
				VIOLATION("%s: %s after dead", rec[j].name,
					  dl_trace_event_name(rec[j].event));
		}
	}
}

TEST(s12_random_concurrent_mix)
{
	pthread_t t[NTHREADS];
	const char *env = getenv("DL_STRESS_SECONDS");
	const char *senv = getenv("DL_STRESS_SEED");
	long seconds = env ? atol(env) : STRESS_SECONDS;
	unsigned int seed0 = senv ? (unsigned int)atol(senv)
				  : (unsigned int)time(NULL);
	struct dl_tree_stats st;

	fprintf(stderr, "s12: %ld s, seed %u (DL_STRESS_SEED to replay)\n",
		seconds, seed0);
	pause_observer = observe;
	dl__test_set_hook(pause_hook);
	tree = mktree();
	ASSERT_EQ(dl_driver_register(tree, &drv_ops, NULL, NULL), 0);
	for (int i = 0; i < NTHREADS; i++)
		t[i] = spawn(worker, (void *)(uintptr_t)(seed0 + (unsigned)i));
	for (long ms = 0; ms < seconds * 1000; ms += 100) {
		test_sleep_ms(100);
		ASSERT_EQ(atomic_load(&violations), 0);
	}
	atomic_store(&stop, true);
	for (int i = 0; i < NTHREADS; i++)
		join(t[i]);
	ASSERT_EQ(dl_workqueue_flush(dl_tree_workqueue(tree)), 0);
	check_trace();
	ASSERT_EQ(dl_tree_get_stats(tree, &st), 0);
	fprintf(stderr,
		"s12: enters %ld, adds %ld, removes %ld, busy/timeout %ld, "
		"work %ld, claims %ld\n",
		atomic_load(&ops_enter), atomic_load(&ops_add),
		atomic_load(&ops_remove_ok), atomic_load(&ops_busy),
		atomic_load(&ops_work), atomic_load(&ops_claim));
	ASSERT_GT(atomic_load(&ops_enter), 0);
	ASSERT_GT(atomic_load(&ops_remove_ok), 0);
	dl_tree_free(tree);
	ASSERT_EQ(atomic_load(&violations), 0);
	/* Every device built was released: no reference leaked. */
	urcu_bp_barrier();
	ASSERT_EQ(atomic_load(&released_count), atomic_load(&built));
}

TEST_MAIN(s12_random_concurrent_mix)
