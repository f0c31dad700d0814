/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Removal: one remover per device; every other caller waits for DEAD.
 *
 *  1. LIVE -> REMOVING (under wait_lock). A removal that cannot be
 *     refused (wait or surprise mode without a deadline) unpublishes the
 *     device now: lookups fail. One that may be refused (try mode, or a
 *     deadline) keeps it published until it commits (step 4), and the
 *     enters its closed gates meet wait for its decision instead of
 *     failing (active.c): refused, it was invisible to other threads.
 *  2. Walk the subtree under the topology lock: close every gate (and,
 *     in surprise mode, mark every device gone); one barrier for all.
 *  3. Try mode: any user or claim in the subtree -> roll back, -EBUSY.
 *     Otherwise ask claimants to release and wait for them, then drain
 *     the active users of the subtree, holding no device lock, within the
 *     deadline (else roll back, -ETIMEDOUT). Children linked by adds that
 *     were in flight before the gate closed are found by a second walk.
 *     Nothing has changed yet except the gates: rolling back restores
 *     everything.
 *  4. Commit: unpublish; the held enters now fail. Remove the children
 *     (deepest first, as each child's removal does the same); they are
 *     closed and drained already, so their removals allocate nothing and
 *     cannot fail. No child can appear: adding one needs an active
 *     reference on its parent.
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
#include <unistd.h>

#include "core.h"

static atomic_uint_fast64_t walk_tags;

struct walk {
	struct dl_device **v;
	size_t n, cap;
	uint64_t tag;
	bool close;    /* close each gate (a removal's walk) */
	bool final;    /* its closes cannot be refused (any more) */
	bool surprise; /* each device got one gone mark from this walk */
};

static struct walk walk_init(bool close, bool final, bool surprise)
{
	return (struct walk){ .tag = atomic_fetch_add(&walk_tags, 1) + 1,
			      .close = close, .final = final,
			      .surprise = surprise };
}

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
static int walk_take_locked(struct walk *w, struct dl_device *d)
{
	int r;

	dl__assert_topology_held(d->tree);
	r = walk_push(w, d);

	if (r < 0)
		return r;
	d->walk_tag = w->tag;
	if (w->close)
		dl__deactivate_locked(d, w->final);
	if (w->surprise)
		atomic_fetch_add(&d->gone, 1);
	return 0;
}

static int walk_collect_locked(struct walk *w, struct dl_device *root)
{
	int r;

	dl__assert_topology_held(root->tree);
	if (w->n == 0) {
		r = walk_take_locked(w, root);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < w->n; i++) {
		struct dl_device *d = w->v[i], *c;

		cds_list_for_each_entry(c, &d->children, sibling) {
			if (c->walk_tag == w->tag)
				continue;
			r = walk_take_locked(w, c);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

/* Take back what the walk did to each device, then release it. */
static void walk_undo(struct dl_tree *tree, struct walk *w)
{
	dl__topology_lock(tree);
	for (size_t i = 0; i < w->n; i++) {
		if (w->close)
			dl__reactivate_locked(w->v[i], w->final);
		if (w->surprise)
			atomic_fetch_sub(&w->v[i]->gone, 1);
	}
	dl__topology_unlock(tree);
	if (w->close)
		dl__gate_changed();
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
	/* only the owner of a removal changes the state, from REMOVING */
	dl__assert(atomic_load(&dev->state) == DL_STATE_REMOVING);
	atomic_store(&dev->state, st);
	atomic_store(&dev->remover_tid, 0);
	dl__trace_record(tree, dev, ev, arg, &rec);
	pthread_cond_broadcast(&tree->wait_cond);
	pthread_mutex_unlock(&tree->wait_lock);
	dl__trace_notify(tree, dev, &rec);
}

static void rollback(struct dl_device *dev, struct walk *w, int err)
{
	struct dl_tree *tree = dev->tree;

	walk_undo(tree, w);
	atomic_store(&dev->published, true);
	set_state(dev, DL_STATE_LIVE, DL_EV_ROLLBACK, err);
	if (err == -EBUSY)
		atomic_fetch_add(&tree->stats.remove_busy, 1);
	else if (err == -ETIMEDOUT)
		atomic_fetch_add(&tree->stats.remove_timeout, 1);
	walk_release(w);
}

static bool any_claimed_locked(struct walk *w, size_t from)
{
	if (w->n)
		dl__assert_mutex_held(&w->v[0]->tree->wait_lock, "wait_lock");
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
			dl__claim_callback_enter(c, d);
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
		if (dl__cond_wait_until(&tree->wait_cond, &tree->wait_lock,
					deadline) == ETIMEDOUT) {
			r = -ETIMEDOUT;
			break;
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
			   uint64_t deadline, bool committed);
static int remove_self(struct dl_device *dev, unsigned int flags);

/*
 * Committed: remove the children one at a time, first child first. Each
 * is closed and drained already (our walk), so its removal needs no
 * memory and cannot fail: nothing to retry. deadline is the committed
 * removal's: past it, a child's removal that still waits says so once
 * (hang_report()) and goes on waiting.
 */
static void remove_children(struct dl_device *dev, uint64_t deadline)
{
	struct dl_tree *tree = dev->tree;

	for (;;) {
		struct dl_device *c = NULL;

		dl__topology_lock(tree);
		if (!cds_list_empty(&dev->children))
			c = dl_device_get(cds_list_first_entry(
				&dev->children, struct dl_device, sibling));
		dl__topology_unlock(tree);
		if (!c)
			break;
		if (remove_internal(c, DL_REMOVE_WAIT, deadline, true) != 0)
			dl__die("removal of %s, child of the committed removal "
				"of %s, failed",
				c->name, dev->name);
		dl_device_put(c);
	}
}

/*
 * Steps 2 and 3: close and drain the subtree. Returns 0, or a refusal
 * (-EBUSY, -ETIMEDOUT, -ENOMEM) after rolling everything back.
 */
static int close_and_drain(struct dl_device *dev, struct walk *w,
			   unsigned int flags, uint64_t deadline)
{
	struct dl_tree *tree = dev->tree;
	size_t from = 0;
	int r;

	for (;;) {
		dl__topology_lock(tree);
		r = walk_collect_locked(w, dev);
		dl__topology_unlock(tree);
		if (r < 0)
			goto refused;
		if (from == w->n)
			return 0; /* nothing new since the last pass */
		if (w->surprise && from == 0)
			dl__trace(tree, dev, DL_EV_SURPRISE, 0);
		DL_TEST_POINT("remove:deactivated", dev);

		if (flags == DL_REMOVE_TRY) {
			bool claimed;

			/* One barrier for the whole batch, then exact. */
			for (size_t i = from; i < w->n; i++)
				dl__active_barrier_for(w->v[i]);
			pthread_mutex_lock(&tree->wait_lock);
			claimed = any_claimed_locked(w, from);
			pthread_mutex_unlock(&tree->wait_lock);
			if (claimed || sum_from(w, from) > 0) {
				r = -EBUSY;
				goto refused;
			}
		} else {
			r = negotiate_claims(tree, w, from, deadline);
			if (r == 0) {
				DL_TEST_POINT("remove:draining", dev);
				r = dl__active_drain(tree, w->v + from,
						     w->n - from, deadline);
			}
			if (r < 0)
				goto refused;
		}
		from = w->n;
	}
refused:
	DL_TEST_POINT("remove:refused", dev);
	rollback(dev, w, r);
	return r;
}

/* Step 4's first half: from here on the removal cannot be refused. */
static void commit(struct dl_device *dev, struct walk *w)
{
	struct dl_tree *tree = dev->tree;

	if (!w->final) {
		dl__topology_lock(tree);
		for (size_t i = 0; i < w->n; i++)
			dl__gate_final_locked(w->v[i]);
		w->final = true;
		dl__topology_unlock(tree);
		dl__gate_changed();
	}
	atomic_store(&dev->published, false);
}

static int do_remove(struct dl_device *dev, unsigned int flags,
		     uint64_t deadline, bool committed)
{
	struct dl_tree *tree = dev->tree;
	bool surprise = flags == DL_REMOVE_SURPRISE;
	bool final = committed || (flags != DL_REMOVE_TRY && !deadline);
	struct walk w = walk_init(true, final, surprise && !committed);
	int r;

	if (final)
		atomic_store(&dev->published, false);
	DL_TEST_POINT("remove:unpublished", dev);

	if (committed) {
		/* Our parent's removal closed and drained us and can no
		 * longer be refused: close for ourselves, allocate nothing. */
		dl__topology_lock(tree);
		dl__assert(atomic_load(&dev->gate.deact) > 0);
		dl__deactivate_locked(dev, true);
		dl__topology_unlock(tree);
	} else {
		r = close_and_drain(dev, &w, flags, deadline);
		if (r < 0)
			return r;
	}
	dl__trace(tree, dev, DL_EV_DRAINED, (int32_t)(committed ? 1 : w.n));
	DL_TEST_POINT("remove:drained", dev);

	/* Committed. Drained: nobody is inside, and nobody can enter.
	 * The gate is what can be checked: the counts cannot, since an
	 * enter that is failing counts itself for an instant before it
	 * sees the closed gate and backs out (active.c, enter_once()),
	 * so a sum taken now may see it although nobody got in. */
	dl__assert(atomic_load(&dev->gate.deact) > 0);
	commit(dev, &w);
	remove_children(dev, deadline);
	DL_TEST_POINT("remove:children-gone", dev);

	dl__work_cancel_device(dev);

	dl_device_lock(dev);
	DL_TEST_POINT("remove:driver-remove", dev);
	dl__driver_detach_locked(dev);
	dl_device_unlock(dev);

	dl__topology_lock(tree);
	/* no child can appear: adding one needs to enter dev */
	dl__assert(cds_list_empty(&dev->children));
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

/*
 * A surprise removal that finds another removal under way marks the
 * subtree gone at once (in-flight I/O must fail fast, whoever removes
 * it), before it waits. Its marks stay if the device dies, and are taken
 * back if this call returns without that (a deadline).
 */
static void surprise_mark(struct dl_device *dev, struct walk *g)
{
	if (g->v)
		return;
	*g = walk_init(false, false, true);
	dl__topology_lock(dev->tree);
	if (walk_collect_locked(g, dev) < 0) {
		/* Out of memory: mark the device alone, keep no list. */
		dl__topology_unlock(dev->tree);
		walk_undo(dev->tree, g);
		walk_release(g);
		return;
	}
	dl__topology_unlock(dev->tree);
	DL_TEST_POINT("remove:surprise-marked", dev);
}

/*
 * A committed removal (of dev's parent, removing dev) has passed its
 * caller's deadline waiting for dev's removal by thread owner (or for
 * dev's online callback): it can no longer give up, so it says so, once,
 * through the tree's report function (else on stderr), and keeps
 * waiting. Called and returns with wait_lock held.
 */
static void hang_report(struct dl_device *dev, pid_t owner, bool online)
{
	struct dl_tree *tree = dev->tree;
	dl_report_fn fn = tree->report_fn;
	void *arg = tree->report_arg;
	char text[512];

	snprintf(text, sizeof(text),
		 "removal of %s passed its deadline after it committed: it "
		 "waits for %s of %s, run by thread %d, and cannot give up "
		 "any more; it keeps waiting\n",
		 dev->parent ? dev->parent->name : dev->name,
		 online ? "the online/offline callback" : "the removal",
		 dev->name, (int)owner);
	pthread_mutex_unlock(&tree->wait_lock);
	if (fn)
		fn(tree, text, arg);
	else
		fprintf(stderr, "devlife: %s", text);
	pthread_mutex_lock(&tree->wait_lock);
}

/* Win the removal or wait for the winner. */
static int remove_internal(struct dl_device *dev, unsigned int flags,
			   uint64_t deadline, bool committed)
{
	struct dl_tree *tree = dev->tree;
	struct dl_trace_record rec;
	struct walk marks = { 0 };
#ifdef DL_TEST_HOOKS
	bool announced = false;
#endif
	int r;

	pthread_mutex_lock(&tree->wait_lock);
	for (;;) {
		int st = atomic_load(&dev->state);
		pid_t owner;

		if (st == DL_STATE_NEW) {
			r = -EINVAL;
			goto out_unlock;
		}
		if (st == DL_STATE_DEAD) {
			r = 0;
			goto out_unlock;
		}
		/* A LIVE device's online/offline callback finishes before its
		 * removal starts (driver.c), unless this is its own thread. */
		if (st == DL_STATE_LIVE &&
		    (!dev->onlining_tid || dev->onlining_tid == gettid())) {
			atomic_store(&dev->state, DL_STATE_REMOVING);
			atomic_store(&dev->remover_tid, gettid());
			dl__trace_record(tree, dev, DL_EV_REMOVE_START,
					 (int32_t)flags, &rec);
			break;
		}
		/* REMOVING: somebody else owns it; or LIVE with a callback
		 * running: wait for it as for the owner. */
		if (flags == DL_REMOVE_SURPRISE && !marks.v) {
			pthread_mutex_unlock(&tree->wait_lock);
			surprise_mark(dev, &marks);
			pthread_mutex_lock(&tree->wait_lock);
			continue;
		}
		/* The owner of the removal is this very thread: a callback
		 * of that removal (a child's driver remove, watcher or work
		 * done callback) removes its device or an ancestor. Waiting
		 * would be for ever, whatever the deadlines. */
		owner = st == DL_STATE_LIVE ? dev->onlining_tid
					    : atomic_load(&dev->remover_tid);
#ifdef DL_TEST_HOOKS
		if (st == DL_STATE_LIVE && !announced) {
			/* a test stops here: this removal waits for a
			 * running online/offline callback (not under
			 * wait_lock, which that callback's end takes) */
			announced = true;
			pthread_mutex_unlock(&tree->wait_lock);
			DL_TEST_POINT("remove:wait-callback", dev);
			pthread_mutex_lock(&tree->wait_lock);
			continue;
		}
#endif
		if (owner == gettid()) {
			dl__wait_self_report(dev);
			r = -EDEADLK;
			goto out_unlock;
		}
		if (DL_DEBUG)
			dl__wait_begin(&(struct dl__wait){
				.kind = DL_WAIT_REMOVAL, .dev = dev,
				.owner = owner,
				.online = st == DL_STATE_LIVE });
		r = dl__cond_wait_until(&tree->wait_cond, &tree->wait_lock,
					deadline);
		if (DL_DEBUG)
			dl__wait_end();
		if (r == ETIMEDOUT && committed) {
			hang_report(dev, owner, st == DL_STATE_LIVE);
			deadline = 0;
			continue;
		}
		if (r == ETIMEDOUT) {
			r = -ETIMEDOUT;
			goto out_unlock;
		}
	}
	pthread_mutex_unlock(&tree->wait_lock);
	dl__trace_notify(tree, dev, &rec);
	DL_TEST_POINT("remove:won", dev);
	dl__removing_begin();
	r = do_remove(dev, flags, deadline, committed);
	dl__removing_end();
	goto out;

out_unlock:
	pthread_mutex_unlock(&tree->wait_lock);
out:
	if (marks.v) {
		if (r != 0)
			walk_undo(tree, &marks);
		walk_release(&marks);
	}
	return r;
}

static int remove_checked(struct dl_device *dev, unsigned int flags,
			  int64_t timeout_ns)
{
	uint64_t deadline = 0;
	struct dl_device *cb;

	/*
	 * A claim's release callback runs inside a removal of its device:
	 * removing that device or an ancestor from it would wait for that
	 * removal, which waits for the callback (for ever: no deadline
	 * counts while a callback runs).
	 */
	cb = dl__claim_callback_dev();
	if (cb && (cb == dev || dl__is_ancestor(dev, cb))) {
		if (DL_DEBUG)
			dl__die("dl_device_remove(%s) from the claim release "
				"callback of %s: the removal that called the "
				"callback would wait for itself",
				dev->name, cb->name);
		return -EDEADLK;
	}
	/* A work item removing its own device (or an ancestor) first gives
	 * up the active reference its worker took for it. */
	dl__work_drop_active(dev, true);
	if (dl__self_holds_active_in(dev, true))
		return -EDEADLK;
	if (DL_DEBUG)
		dl__lockdep_check_drain(dev);
	if (timeout_ns >= 0) {
		deadline = dl__now_ns() + (uint64_t)timeout_ns;
		if (deadline == 0)
			deadline = 1;
	}
	return remove_internal(dev, flags, deadline, false);
}

DL_EXPORT int dl_device_remove(struct dl_device *dev, unsigned int flags,
			       int64_t timeout_ns)
{
	struct dl__api_call api;
	int r;

	assert_return(dev, -EINVAL);
	assert_return(flags <= DL_REMOVE_SURPRISE, -EINVAL);
	assert_return(timeout_ns >= 0 || timeout_ns == DL_NO_TIMEOUT, -EINVAL);
	api = DL_API_BEGIN("dl_device_remove");
	r = remove_checked(dev, flags, timeout_ns);
	DL_API_END(api);
	return r;
}

DL_EXPORT int dl_device_remove_self(struct dl_device *dev,
				    unsigned int flags)
{
	struct dl__api_call api;
	int r;

	assert_return(dev, -EINVAL);
	assert_return(flags <= DL_REMOVE_SURPRISE, -EINVAL);
	api = DL_API_BEGIN("dl_device_remove_self");
	r = remove_self(dev, flags);
	DL_API_END(api);
	return r;
}

static int remove_self(struct dl_device *dev, unsigned int flags)
{
	/* Drop our own protection first, or our drain would wait for us
	 * (kernfs_remove_self()): the reference a work item's worker took
	 * for it, if dev is its device, and the caller's own. The caller's
	 * lifetime reference keeps the memory. */
	if (dl__work_drop_active(dev, false)) {
		if (dl__self_holds_active_in(dev, false))
			dl_device_exit(dev);
	} else if (dl__self_holds_active_in(dev, false)) {
		dl_device_exit(dev);
	} else {
		return -EINVAL;
	}
	return remove_checked(dev, flags, DL_NO_TIMEOUT);
}
