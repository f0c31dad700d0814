/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Removal: one remover per device; every other caller waits for DEAD.
 *
 *  1. LIVE -> REMOVING (under wait_lock); unpublish: lookups fail.
 *  2. Walk the subtree under the topology lock: close every gate (and,
 *     in surprise mode, mark every device gone); one barrier for all.
 *  3. Try mode: any user or claim in the subtree -> roll back, -EBUSY.
 *     Otherwise ask claimants to release and wait for them, then drain
 *     the active users of the subtree, holding no device lock, within the
 *     deadline (else roll back, -ETIMEDOUT). Children linked by adds that
 *     were in flight before the gate closed are found by a second walk.
 *     Nothing has changed yet except the gates: rolling back restores
 *     everything.
 *  4. Commit: remove the children, each in wait mode (deepest first, as
 *     each child's removal does the same). No child can appear: adding
 *     one needs an active reference on its parent.
 *  5. Cancel work not yet started.
 *  6. Device lock; the driver's remove; unbind.
 *  7. Unlink, unregister, DEAD, wake the waiters, drop the tree's
 *     reference.
 *
 * The topology lock is only held to walk and change lists; the device
 * lock only around the driver's remove. Every removal path (user, host
 * eject, error recovery, driver unbind removing children, parent teardown)
 * runs exactly this code and takes exactly these locks.
 */
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core.h"

static atomic_uint_fast64_t walk_tags;

struct walk {
	struct dl_device **v;
	size_t n, cap;
	size_t done;   /* entries already deactivated and drained */
	uint64_t tag;
};

static int walk_push(struct walk *w, struct dl_device *dev)
{
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 16;
		struct dl_device **v = dl__malloc(cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		if (w->n)
			memcpy(v, w->v, w->n * sizeof(*v));
		free(w->v);
		w->v = v;
		w->cap = cap;
	}
	w->v[w->n++] = dl_device_get(dev);
	return 0;
}

/*
 * Collect the part of the subtree of w->v[0] not yet tagged with w->tag,
 * breadth first, closing gates as we go. Topology lock held.
 */
static int walk_collect_locked(struct walk *w, struct dl_device *root,
			       bool surprise)
{
	size_t i = 0;
	int r;

	if (w->n == 0) {
		r = walk_push(w, root);
		if (r < 0)
			return r;
		root->walk_tag = w->tag;
		dl__deactivate_locked(root);
		if (surprise)
			atomic_store(&root->gone, true);
	}
	for (i = 0; i < w->n; i++) {
		struct dl_device *d = w->v[i], *c;

		cds_list_for_each_entry(c, &d->children, sibling) {
			if (c->walk_tag == w->tag)
				continue;
			r = walk_push(w, c);
			if (r < 0)
				return r;
			c->walk_tag = w->tag;
			dl__deactivate_locked(c);
			if (surprise)
				atomic_store(&c->gone, true);
		}
	}
	return 0;
}

static void walk_release(struct walk *w)
{
	for (size_t i = 0; i < w->n; i++)
		dl_device_put(w->v[i]);
	free(w->v);
	w->v = NULL;
	w->n = w->cap = 0;
}

/* Change state and record the event in one step, so that the trace's
 * order is the order of the transitions. */
static void set_state(struct dl_device *dev, enum dl_device_state st,
		      enum dl_trace_event ev, int32_t arg)
{
	struct dl_tree *tree = dev->tree;
	struct dl_trace_record rec;

	pthread_mutex_lock(&tree->wait_lock);
	atomic_store(&dev->state, st);
	dl__trace_record(tree, dev, ev, arg, &rec);
	pthread_cond_broadcast(&tree->wait_cond);
	pthread_mutex_unlock(&tree->wait_lock);
	dl__trace_notify(tree, dev, &rec);
}

static void rollback(struct dl_device *dev, struct walk *w, int err)
{
	struct dl_tree *tree = dev->tree;

	dl__topology_lock(tree);
	for (size_t i = 0; i < w->n; i++)
		dl__reactivate_locked(w->v[i]);
	dl__topology_unlock(tree);
	atomic_store(&dev->published, true);
	set_state(dev, DL_STATE_LIVE, DL_EV_ROLLBACK, err);
	if (err == -EBUSY)
		atomic_fetch_add(&tree->stats.remove_busy, 1);
	else if (err == -ETIMEDOUT)
		atomic_fetch_add(&tree->stats.remove_timeout, 1);
	walk_release(w);
}

static struct timespec to_realtime(uint64_t deadline_mono)
{
	struct timespec rt, ts;
	uint64_t now = dl__now_ns(), rel, abs_ns;

	rel = deadline_mono > now ? deadline_mono - now : 0;
	clock_gettime(CLOCK_REALTIME, &rt);
	abs_ns = (uint64_t)rt.tv_sec * 1000000000ull + (uint64_t)rt.tv_nsec +
		 rel;
	ts.tv_sec = (time_t)(abs_ns / 1000000000ull);
	ts.tv_nsec = (long)(abs_ns % 1000000000ull);
	return ts;
}

static bool any_claimed_locked(struct walk *w, size_t from)
{
	for (size_t i = from; i < w->n; i++)
		if (w->v[i]->claim)
			return true;
	return false;
}

/*
 * Ask each claimant in w->v[from..] to release, then wait until none is
 * claimed. Returns 0 or -ETIMEDOUT.
 */
static int negotiate_claims(struct dl_tree *tree, struct walk *w,
			    size_t from, uint64_t deadline)
{
	int r = 0;

	for (size_t i = from; i < w->n; i++) {
		struct dl_device *d = w->v[i];
		struct dl_claim *c;
		dl_claim_release_fn fn = NULL;
		void *arg = NULL;

		/*
		 * The claim stays allocated while its callback runs (calls),
		 * and dl_device_unclaim() waits for running callbacks unless
		 * it is called from one: so the claimant may free the
		 * callback's argument as soon as its unclaim returns.
		 */
		struct dl_trace_record rec;

		/*
		 * Recorded under wait_lock, the lock unclaim records under,
		 * so the request is ordered before the claim's end (and so
		 * before the device's drain); a claim already over is not
		 * asked. Notified before the claim is taken for the call,
		 * so a watcher that unclaims on it is simply not called.
		 */
		pthread_mutex_lock(&tree->wait_lock);
		c = d->claim;
		if (c)
			dl__trace_record(tree, d, DL_EV_CLAIM_REQUEST, 0, &rec);
		pthread_mutex_unlock(&tree->wait_lock);
		if (!c)
			continue;
		DL_TEST_POINT("remove:claim-seen", d);
		dl__trace_notify(tree, d, &rec);
		pthread_mutex_lock(&tree->wait_lock);
		c = d->claim;
		if (c) {
			c->calls++;
			fn = c->release;
			arg = c->arg;
		}
		pthread_mutex_unlock(&tree->wait_lock);
		if (!c)
			continue;
		if (fn) {
			dl__claim_callback_enter(c);
			fn(d, arg);
			dl__claim_callback_exit();
		}
		pthread_mutex_lock(&tree->wait_lock);
		if (--c->calls == 0 && c->remover_frees) {
			pthread_cond_broadcast(&tree->wait_cond);
			pthread_mutex_unlock(&tree->wait_lock);
			free(c);
			continue;
		}
		pthread_cond_broadcast(&tree->wait_cond);
		pthread_mutex_unlock(&tree->wait_lock);
	}
	pthread_mutex_lock(&tree->wait_lock);
	while (any_claimed_locked(w, from)) {
		if (deadline) {
			struct timespec ts = to_realtime(deadline);

			if (dl__now_ns() >= deadline) {
				r = -ETIMEDOUT;
				break;
			}
			pthread_cond_timedwait(&tree->wait_cond,
					       &tree->wait_lock, &ts);
		} else {
			pthread_cond_wait(&tree->wait_cond, &tree->wait_lock);
		}
	}
	pthread_mutex_unlock(&tree->wait_lock);
	return r;
}

static long sum_from(struct walk *w, size_t from)
{
	long s = 0;

	for (size_t i = from; i < w->n; i++)
		s += dl__active_sum(w->v[i]);
	return s;
}

static int remove_internal(struct dl_device *dev, unsigned int flags,
			   uint64_t deadline);

static int remove_children(struct dl_device *dev)
{
	struct dl_device **v;
	size_t n;
	int r;

	for (;;) {
		r = dl__snapshot_list(dev->tree, &dev->children, &v, &n);
		if (r == 0)
			break;
		/* Committed: we cannot fail. Memory will come back. */
		usleep(1000);
	}
	for (size_t i = 0; i < n; i++) {
		while (remove_internal(v[i], DL_REMOVE_WAIT, 0) == -ENOMEM)
			usleep(1000);
		dl_device_put(v[i]);
	}
	free(v);
	return 0;
}

static int do_remove(struct dl_device *dev, unsigned int flags,
		     uint64_t deadline)
{
	struct dl_tree *tree = dev->tree;
	bool surprise = flags == DL_REMOVE_SURPRISE;
	struct walk w = { .tag = atomic_fetch_add(&walk_tags, 1) + 1 };
	size_t from = 0;
	int r;

	atomic_store(&dev->published, false);
	DL_TEST_POINT("remove:unpublished", dev);

	for (;;) {
		dl__topology_lock(tree);
		r = walk_collect_locked(&w, dev, surprise);
		dl__topology_unlock(tree);
		if (r < 0) {
			rollback(dev, &w, r);
			return r;
		}
		if (from == w.n)
			break; /* nothing new since the last pass */
		if (surprise && from == 0)
			dl__trace(tree, dev, DL_EV_SURPRISE, 0);
		DL_TEST_POINT("remove:deactivated", dev);

		if (flags == DL_REMOVE_TRY) {
			bool claimed;

			/* One barrier for the whole batch, then exact. */
			dl__active_barrier_for(w.v[from]);
			for (size_t i = from + 1; i < w.n; i++)
				dl__active_barrier_for(w.v[i]);
			pthread_mutex_lock(&tree->wait_lock);
			claimed = any_claimed_locked(&w, from);
			pthread_mutex_unlock(&tree->wait_lock);
			if (claimed || sum_from(&w, from) > 0) {
				rollback(dev, &w, -EBUSY);
				return -EBUSY;
			}
		} else {
			r = negotiate_claims(tree, &w, from, deadline);
			if (r == 0) {
				DL_TEST_POINT("remove:draining", dev);
				r = dl__active_drain(tree, w.v + from,
						     w.n - from, deadline);
			}
			if (r < 0) {
				rollback(dev, &w, r);
				return r;
			}
		}
		from = w.n;
	}
	dl__trace(tree, dev, DL_EV_DRAINED, (int32_t)w.n);
	DL_TEST_POINT("remove:drained", dev);

	/* Committed. */
	remove_children(dev);
	DL_TEST_POINT("remove:children-gone", dev);

	dl__work_cancel_device(dev);

	dl_device_lock(dev);
	DL_TEST_POINT("remove:driver-remove", dev);
	dl__driver_detach_locked(dev);
	dl_device_unlock(dev);

	dl__topology_lock(tree);
	cds_list_del_init(&dev->sibling);
	rcu_read_lock();
	cds_lfht_del(tree->registry, &dev->node);
	rcu_read_unlock();
	dl__registry_deleted_locked(tree);
	dev->linked = false;
	dl__topology_unlock(tree);

	set_state(dev, DL_STATE_DEAD, DL_EV_DEAD, 0);
	atomic_fetch_sub(&tree->stats.devices_live, 1);
	atomic_fetch_add(&tree->stats.removes, 1);
	walk_release(&w);
	dl_device_put(dev); /* the tree's reference */
	return 0;
}

/* Win the removal or wait for the winner. */
static int remove_internal(struct dl_device *dev, unsigned int flags,
			   uint64_t deadline)
{
	struct dl_tree *tree = dev->tree;
	struct dl_trace_record rec;

	pthread_mutex_lock(&tree->wait_lock);
	for (;;) {
		int st = atomic_load(&dev->state);

		if (st == DL_STATE_NEW) {
			pthread_mutex_unlock(&tree->wait_lock);
			return -EINVAL;
		}
		if (st == DL_STATE_DEAD) {
			pthread_mutex_unlock(&tree->wait_lock);
			return 0;
		}
		/* A LIVE device's online/offline callback finishes before its
		 * removal starts (driver.c), unless this is its own thread. */
		if (st == DL_STATE_LIVE &&
		    (!dev->onlining_tid || dev->onlining_tid == gettid())) {
			atomic_store(&dev->state, DL_STATE_REMOVING);
			dl__trace_record(tree, dev, DL_EV_REMOVE_START,
					 (int32_t)flags, &rec);
			break;
		}
		/* REMOVING: somebody else owns it; or LIVE with a callback
		 * running: wait for it as for the owner. */
		if (deadline) {
			struct timespec ts = to_realtime(deadline);

			if (dl__now_ns() >= deadline) {
				pthread_mutex_unlock(&tree->wait_lock);
				return -ETIMEDOUT;
			}
			pthread_cond_timedwait(&tree->wait_cond,
					       &tree->wait_lock, &ts);
		} else {
			pthread_cond_wait(&tree->wait_cond, &tree->wait_lock);
		}
	}
	pthread_mutex_unlock(&tree->wait_lock);
	dl__trace_notify(tree, dev, &rec);
	DL_TEST_POINT("remove:won", dev);
	return do_remove(dev, flags, deadline);
}

DL_EXPORT int dl_device_remove(struct dl_device *dev, unsigned int flags,
			       int64_t timeout_ns)
{
	uint64_t deadline = 0;

	assert_return(dev, -EINVAL);
	assert_return(flags <= DL_REMOVE_SURPRISE, -EINVAL);
	assert_return(timeout_ns >= 0 || timeout_ns == DL_NO_TIMEOUT, -EINVAL);
	if (dl__self_holds_active_in(dev, true))
		return -EDEADLK;
	if (DL_DEBUG)
		dl__lockdep_check_drain(dev);
	if (timeout_ns >= 0) {
		deadline = dl__now_ns() + (uint64_t)timeout_ns;
		if (deadline == 0)
			deadline = 1;
	}
	return remove_internal(dev, flags, deadline);
}

DL_EXPORT int dl_device_remove_self(struct dl_device *dev,
				    unsigned int flags)
{
	assert_return(dev, -EINVAL);
	assert_return(flags <= DL_REMOVE_SURPRISE, -EINVAL);
	if (!dl__self_holds_active_in(dev, false))
		return -EINVAL;
	/* Drop our own protection first, or our drain would wait for us
	 * (kernfs_remove_self()). The caller's lifetime reference keeps
	 * the memory. */
	dl_device_exit(dev);
	return dl_device_remove(dev, flags, DL_NO_TIMEOUT);
}
