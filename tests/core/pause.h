/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Forcing interleavings with the core's test-only pause points.
 *
 *   pause_arm(0, "remove:drained", dev);   // next thread there stops
 *   ... start the thread ...
 *   pause_wait(0);                          // it is there now
 *   ... do the racing thing ...
 *   pause_release(0);                       // let it go on
 *
 * A point armed for dev == NULL matches any device. Each armed slot stops
 * exactly one thread once.
 */
#ifndef DEVLIFE_TESTS_PAUSE_H
#define DEVLIFE_TESTS_PAUSE_H

#include "core.h"
#include "harness.h"

#define PAUSE_SLOTS 8

struct pause_slot {
	const char *point;
	struct dl_device *dev;
	bool armed, reached, released;
};

static pthread_mutex_t pause_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pause_cond = PTHREAD_COND_INITIALIZER;
static struct pause_slot pause_slots[PAUSE_SLOTS];
/* Optional extra hook, e.g. to count how often a point is passed. */
static void (*pause_observer)(const char *point, struct dl_device *dev);

static void pause_hook(const char *point, struct dl_device *dev)
{
	if (pause_observer)
		pause_observer(point, dev);
	pthread_mutex_lock(&pause_lock);
	for (int i = 0; i < PAUSE_SLOTS; i++) {
		struct pause_slot *s = &pause_slots[i];

		if (!s->armed || strcmp(s->point, point) != 0 ||
		    (s->dev && s->dev != dev))
			continue;
		s->armed = false;
		s->reached = true;
		pthread_cond_broadcast(&pause_cond);
		while (!s->released)
			pthread_cond_wait(&pause_cond, &pause_lock);
		break;
	}
	pthread_mutex_unlock(&pause_lock);
}

static inline void pause_arm(int i, const char *point, struct dl_device *dev)
{
	dl__test_set_hook(pause_hook);
	pthread_mutex_lock(&pause_lock);
	pause_slots[i] = (struct pause_slot){ .point = point, .dev = dev,
					      .armed = true };
	pthread_mutex_unlock(&pause_lock);
}

/* Wait until a thread stopped at slot i; fail the test after 10 s. */
static inline void pause_wait(int i)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 10;
	pthread_mutex_lock(&pause_lock);
	while (!pause_slots[i].reached) {
		if (pthread_cond_timedwait(&pause_cond, &pause_lock, &ts) ==
		    ETIMEDOUT) {
			pthread_mutex_unlock(&pause_lock);
			FAIL_AT("nobody reached pause point %s",
				pause_slots[i].point);
		}
	}
	pthread_mutex_unlock(&pause_lock);
}

static inline bool pause_reached(int i)
{
	bool r;

	pthread_mutex_lock(&pause_lock);
	r = pause_slots[i].reached;
	pthread_mutex_unlock(&pause_lock);
	return r;
}

static inline void pause_release(int i)
{
	pthread_mutex_lock(&pause_lock);
	pause_slots[i].released = true;
	pause_slots[i].armed = false;
	pthread_cond_broadcast(&pause_cond);
	pthread_mutex_unlock(&pause_lock);
}

/* Run fn(arg) on a new thread. */
static inline pthread_t spawn(void *(*fn)(void *), void *arg)
{
	pthread_t t;

	if (pthread_create(&t, NULL, fn, arg) != 0)
		FAIL_AT("pthread_create failed");
	return t;
}

static inline void *join(pthread_t t)
{
	void *r;

	pthread_join(t, &r);
	return r;
}

/*
 * A removal on a thread of its own: `struct remover rm = REMOVER(d,
 * DL_REMOVE_WAIT); t = spawn(remove_thread, &rm);` rm.ret stays 1 until
 * dl_device_remove() returned (set .timeout for a deadline).
 */
struct remover {
	struct dl_device *dev;
	unsigned int flags;
	int64_t timeout;
	int ret;
};

#define REMOVER(d, fl) ((struct remover){ (d), (fl), DL_NO_TIMEOUT, 1 })

static inline void *remove_thread(void *arg)
{
	struct remover *r = arg;

	r->ret = dl_device_remove(r->dev, r->flags, r->timeout);
	return NULL;
}

/*
 * Start fn(arg), a removal of dev, on a thread of its own and return once
 * that removal waits for dev's active users to leave: it has reached the
 * pause point "drain:wait" (pause slot i), so dev is unpublished and
 * deactivated, and the removal cannot return before its users leave.
 * Fails the test if the removal never waits (it found nobody inside, or
 * it never started).
 */
static inline pthread_t spawn_until_draining(int i, struct dl_device *dev,
					     void *(*fn)(void *), void *arg)
{
	pthread_t t;

	pause_arm(i, "drain:wait", dev);
	t = spawn(fn, arg);
	pause_wait(i);
	pause_release(i);
	return t;
}

/* Whether a thread is still blocked after ms milliseconds. */
static inline bool still_running(pthread_t t, unsigned int ms)
{
	test_sleep_ms(ms);
	return pthread_tryjoin_np(t, NULL) == EBUSY;
}

static const struct dl_device_type test_type = { .name = "test" };

static inline struct dl_device *mkdev(struct dl_tree *tree,
				      struct dl_device *parent,
				      const char *name)
{
	struct dl_device *dev;

	ASSERT_EQ(dl_device_new(tree, &test_type, name, 0, &dev), 0);
	ASSERT_EQ(dl_device_add(dev, parent), 0);
	return dev;
}

static inline struct dl_tree *mktree(void)
{
	struct dl_tree *tree;

	ASSERT_EQ(dl_tree_new(&tree), 0);
	return tree;
}

#endif
