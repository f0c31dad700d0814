/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Deferred work bound to a device: runs entered, ordered queues, refusal
 * on dead devices, cancellation by removal, skipping, close and flush.
 */
#include "testutil.h"

struct item {
	struct dl_device *dev;
	int index;
	atomic_int ran;       /* body calls */
	atomic_int done;      /* done calls */
	int status;           /* done's status */
	bool entered;         /* the body found itself inside dev */
	long users;           /* active users seen by the body */
	int remove_ret;       /* dl_device_remove() from the body */
	struct gate *hold;    /* body waits here if set */
	struct dl_workqueue *wq;
	int flush_ret, close_ret;
};

static pthread_mutex_t order_lock = PTHREAD_MUTEX_INITIALIZER;
static int order[512];
static int norder;
static atomic_int running_now, max_running;

static void body(struct dl_device *dev, void *arg)
{
	struct item *it = arg;
	int now = atomic_fetch_add(&running_now, 1) + 1;
	int m = atomic_load(&max_running);

	while (now > m && !atomic_compare_exchange_weak(&max_running, &m, now))
		;
	if (dev != it->dev)
		FAIL_AT("body called for the wrong device");
	it->entered = dl__self_holds_active_in(dev, false);
	it->users = dl_device_active_users(dev);
	pthread_mutex_lock(&order_lock);
	if (norder < 512)
		order[norder] = it->index;
	norder++;
	pthread_mutex_unlock(&order_lock);
	if (it->hold)
		gate_pass(it->hold);
	atomic_fetch_add(&it->ran, 1);
	atomic_fetch_sub(&running_now, 1);
}

static void done(void *arg, int status)
{
	struct item *it = arg;

	it->status = status;
	atomic_fetch_add(&it->done, 1);
}

static void queue_ok(struct dl_workqueue *wq, struct item *it)
{
	ASSERT_EQ(dl_work_queue(wq, it->dev, body, done, it), 0);
}

static void body_remove(struct dl_device *dev, void *arg)
{
	struct item *it = arg;

	it->entered = dl__self_holds_active_in(dev, false);
	it->users = dl_device_active_users(dev);
	it->remove_ret = dl_device_remove(dev, DL_REMOVE_TRY, 0);
	atomic_fetch_add(&it->ran, 1);
}

TEST(item_runs_entered)
{
	struct dl_tree *tree = mktree();
	struct dl_device *d = mkdev(tree, NULL, "w");
	struct dl_workqueue *wq = dl_tree_workqueue(tree);
	struct item it = { .dev = d, .status = 1 };
	long refs0 = atomic_load(&d->refcount);

	ASSERT_TRUE(wq != NULL);
	pause_arm(0, "work:run", d);
	ASSERT_EQ(dl_work_queue(wq, d, body_remove, done, &it), 0);
	pause_wait(0);
	/* the item holds a lifetime reference, no active one yet */
	ASSERT_EQ(atomic_load(&d->refcount), refs0 + 1);
	ASSERT_EQ(dl_device_active_users(d), 0);
	pause_release(0);
	ASSERT_EQ(dl_workqueue_flush(wq), 0);
	ASSERT_EQ(atomic_load(&it.ran), 1);
	ASSERT_EQ(atomic_load(&it.done), 1);
	ASSERT_EQ(it.status, 0);
	ASSERT_TRUE(it.entered);
	ASSERT_EQ(it.users, 1);
	/* removing its own device gives up the worker's reference first */
	ASSERT_EQ(it.remove_ret, 0);
	ASSERT_EQ(dl_device_state(d), DL_STATE_DEAD);
	ASSERT_EQ(get_stats(tree).work_run, 1);
	dl_device_put(d);

	/* done may be NULL */
	d = mkdev(tree, NULL, "w2");
	it.dev = d;
	/* the item runs once the queuer has left d (a try counts it) */
	pause_arm(0, "work:run", d);
	ASSERT_EQ(dl_work_queue(wq, d, body_remove, NULL, &it), 0);
	pause_wait(0);
	pause_release(0);
	ASSERT_EQ(dl_workqueue_flush(wq), 0);
	ASSERT_EQ(atomic_load(&it.ran), 2);
	ASSERT_EQ(it.remove_ret, 0);
	dl_device_put(d);
	free_tree(tree);
}

/*
 * The commonest driver pattern: an error handler, queued from an
 * interrupt, removes its own device. dl_device_remove() from the item
 * used to say -EDEADLK (the worker's own active reference), and
 * dl_device_remove_self() succeeded but the worker's exit afterwards
 * aborted (an exit without an enter).
 */
struct self_rm {
	struct dl_device *dev, *child;
	bool self, in_child;
	int ret;
	atomic_int ran;
};

static void body_remove_own(struct dl_device *dev, void *arg)
{
	struct self_rm *s = arg;

	(void)dev;
	if (s->self)
		s->ret = dl_device_remove_self(s->dev, DL_REMOVE_WAIT);
	else
		s->ret = dl_device_remove(s->in_child ? s->dev : dev,
					  DL_REMOVE_WAIT, DL_NO_TIMEOUT);
	atomic_fetch_add(&s->ran, 1);
}

TEST(item_removes_its_own_device)
{
	for (int mode = 0; mode < 3; mode++) {
		struct dl_tree *tree = mktree();
		struct dl_device *d = mkdev(tree, NULL, "w");
		struct dl_device *c = mkdev(tree, d, "w.c");
		struct dl_workqueue *wq = dl_tree_workqueue(tree);
		/* 0: remove(own), 1: remove_self(own), 2: remove(parent)
		 * from an item of the child */
		struct self_rm s = { .dev = d, .self = mode == 1,
				     .in_child = mode == 2, .ret = 1 };

		ASSERT_EQ(dl_work_queue(wq, mode == 2 ? c : d,
					body_remove_own, NULL, &s),
			  0);
		ASSERT_EQ(dl_workqueue_flush(wq), 0);
		ASSERT_EQ(atomic_load(&s.ran), 1);
		ASSERT_EQ(s.ret, 0);
		ASSERT_EQ(dl_device_state(d), DL_STATE_DEAD);
		ASSERT_EQ(dl_device_state(c), DL_STATE_DEAD);
		ASSERT_EQ(get_stats(tree).work_run, 1);
		dl_device_put(c);
		dl_device_put(d);
		free_tree(tree);
	}
}

TEST(bad_arguments)
{
	struct dl_tree *tree = mktree(), *other = mktree();
	struct dl_device *d = mkdev(tree, NULL, "w");
	struct dl_device *o = mkdev(other, NULL, "o");
	struct dl_workqueue *wq = (struct dl_workqueue *)0x1;
	struct item it = { .dev = d };

	ASSERT_EQ(dl_workqueue_new(tree, "zero", 0, &wq), -EINVAL);
	ASSERT_EQ(dl_workqueue_new(tree, "huge", 257, &wq), -EINVAL);
	ASSERT_EQ(dl_workqueue_new(tree, NULL, 1, &wq), -EINVAL);
	ASSERT_EQ(dl_workqueue_new(NULL, "x", 1, &wq), -EINVAL);
	ASSERT_EQ(dl_workqueue_new(tree, "x", 1, NULL), -EINVAL);
	ASSERT_PTR_EQ(wq, (struct dl_workqueue *)0x1);
	wq = dl_tree_workqueue(tree);
	ASSERT_EQ(dl_work_queue(wq, d, NULL, done, &it), -EINVAL);
	ASSERT_EQ(dl_work_queue(wq, NULL, body, done, &it), -EINVAL);
	ASSERT_EQ(dl_work_queue(NULL, d, body, done, &it), -EINVAL);
	ASSERT_EQ(dl_work_queue(wq, o, body, done, &it), -EINVAL);
	ASSERT_EQ(dl_workqueue_flush(NULL), -EINVAL);
	ASSERT_EQ(dl_workqueue_close(NULL), -EINVAL);
	ASSERT_PTR_EQ(dl_tree_workqueue(NULL), NULL);
	dl_workqueue_free(NULL);
	ASSERT_EQ(atomic_load(&it.done), 0);
	dl_device_put(d);
	dl_device_put(o);
	free_tree(tree);
	free_tree(other);
}

TEST(ordered_queue_runs_in_order)
{
	enum { N = 300, DEVS = 4 };
	struct dl_tree *tree = mktree();
	struct dl_device *d[DEVS];
	struct dl_workqueue *wq;
	static struct item it[N];

	for (int i = 0; i < DEVS; i++) {
		char name[8];

		snprintf(name, sizeof(name), "o%d", i);
		d[i] = mkdev(tree, NULL, name);
	}
	ASSERT_EQ(dl_workqueue_new(tree, "ordered", 1, &wq), 0);
	for (int i = 0; i < N; i++) {
		it[i] = (struct item){ .dev = d[i % DEVS], .index = i };
		queue_ok(wq, &it[i]);
	}
	ASSERT_EQ(dl_workqueue_flush(wq), 0);
	ASSERT_EQ(norder, N);
	for (int i = 0; i < N; i++) {
		ASSERT_EQ(order[i], i);
		ASSERT_EQ(it[i].status, 0);
		ASSERT_EQ(atomic_load(&it[i].done), 1);
	}
	ASSERT_EQ(atomic_load(&max_running), 1);
	dl_workqueue_free(wq);
	for (int i = 0; i < DEVS; i++)
		dl_device_put(d[i]);
	free_tree(tree);
}

TEST(queue_refused_unless_live)
{
	static const char *const stages[] = { "remove:won",
					      "remove:unpublished",
					      "remove:drained",
					      "remove:driver-remove" };
	struct dl_tree *tree = mktree();
	struct dl_workqueue *wq = dl_tree_workqueue(tree);
	struct dl_device *n;
	struct item it = { .status = 1 };

	ASSERT_EQ(dl_device_new(tree, &test_type, "new", 0, &n), 0);
	it.dev = n;
	ASSERT_EQ(dl_work_queue(wq, n, body, done, &it), -ENODEV);
	for (size_t i = 0; i < sizeof(stages) / sizeof(stages[0]); i++) {
		struct dl_device *d = mkdev(tree, NULL, "rm");
		struct remover rm = REMOVER(d, DL_REMOVE_WAIT);
		long refs;
		pthread_t t;

		it.dev = d;
		pause_arm(0, stages[i], d);
		t = spawn(remove_thread, &rm);
		pause_wait(0);
		refs = atomic_load(&d->refcount);
		ASSERT_EQ(dl_work_queue(wq, d, body, done, &it), -ENODEV);
		ASSERT_EQ(atomic_load(&d->refcount), refs);
		pause_release(0);
		join(t);
		ASSERT_EQ(rm.ret, 0);
		ASSERT_EQ(dl_work_queue(wq, d, body, done, &it), -ENODEV);
		dl_device_put(d);
	}
	ASSERT_EQ(dl_workqueue_flush(wq), 0);
	ASSERT_EQ(atomic_load(&it.ran), 0);
	ASSERT_EQ(atomic_load(&it.done), 0);
	dl_device_put(n);
	free_tree(tree);
}

TEST(removal_cancels_pending)
{
	enum { N = 5 };
	struct dl_tree *tree = mktree();
	struct dl_device *a = mkdev(tree, NULL, "a");
	struct dl_device *b = mkdev(tree, NULL, "b");
	struct dl_workqueue *wq;
	struct item blocker = { .dev = b, .status = 1 };
	struct item it[N];
	long refs0 = atomic_load(&a->refcount);
	struct dl_trace_record rec[64];
	uint64_t cur = 0;
	size_t n;
	int cancel_events = 0;

	ASSERT_EQ(dl_workqueue_new(tree, "one", 1, &wq), 0);
	/* park the only worker on b's item */
	pause_arm(0, "work:run", b);
	queue_ok(wq, &blocker);
	pause_wait(0);
	for (int i = 0; i < N; i++) {
		it[i] = (struct item){ .dev = a, .index = i, .status = 1 };
		queue_ok(wq, &it[i]);
	}
	ASSERT_EQ(atomic_load(&a->pending_work), N);
	ASSERT_EQ(atomic_load(&a->refcount), refs0 + N);
	ASSERT_EQ(dl_device_remove(a, DL_REMOVE_WAIT, DL_NO_TIMEOUT), 0);
	for (int i = 0; i < N; i++) {
		ASSERT_EQ(atomic_load(&it[i].done), 1);
		ASSERT_EQ(it[i].status, -ECANCELED);
		ASSERT_EQ(atomic_load(&it[i].ran), 0);
	}
	ASSERT_EQ(atomic_load(&a->pending_work), 0);
	ASSERT_EQ(atomic_load(&a->refcount), refs0 - 1); /* tree's ref gone */
	ASSERT_EQ(get_stats(tree).work_cancelled, N);
	n = dl_trace_read(tree, &cur, rec, 64);
	for (size_t i = 0; i < n; i++)
		if (rec[i].event == DL_EV_WORK_CANCEL) {
			ASSERT_STREQ(rec[i].name, "a");
			ASSERT_EQ(rec[i].arg, N);
			cancel_events++;
		}
	ASSERT_EQ(cancel_events, 1);
	pause_release(0);
	ASSERT_EQ(dl_workqueue_flush(wq), 0);
	ASSERT_EQ(atomic_load(&blocker.ran), 1);
	ASSERT_EQ(blocker.status, 0);
	for (int i = 0; i < N; i++)
		ASSERT_EQ(atomic_load(&it[i].ran), 0);

	/* pending work is cancelled by dl_tree_free too */
	struct item late = { .dev = b, .status = 1 };
	struct gate hold = GATE_INIT;
	struct item holder = { .dev = b, .status = 1, .hold = &hold };

	queue_ok(wq, &holder);
	gate_wait_entered(&hold, 1); /* the worker is busy inside b */
	queue_ok(wq, &late);
	gate_open(&hold);
	dl_device_put(a);
	dl_device_put(b);
	free_tree(tree); /* frees wq as well */
	ASSERT_EQ(atomic_load(&late.done), 1);
	ASSERT_TRUE(late.status == 0 || late.status == -ECANCELED ||
		    late.status == -ENODEV);
	ASSERT_EQ(atomic_load(&holder.ran), 1);
}

TEST(dequeued_item_skipped)
{
	struct dl_tree *tree = mktree();
	struct dl_device *a = mkdev(tree, NULL, "a");
	struct dl_workqueue *wq = dl_tree_workqueue(tree);
	struct item it = { .dev = a, .status = 1 };

	pause_arm(0, "work:run", a);
	queue_ok(wq, &it);
	pause_wait(0); /* dequeued, not started */
	ASSERT_EQ(atomic_load(&a->pending_work), 0);
	/* the removal does not wait for it: it holds no active ref */
	ASSERT_EQ(dl_device_remove(a, DL_REMOVE_WAIT, DL_NO_TIMEOUT), 0);
	ASSERT_EQ(atomic_load(&it.done), 0);
	pause_release(0);
	ASSERT_EQ(dl_workqueue_flush(wq), 0);
	ASSERT_EQ(atomic_load(&it.done), 1);
	ASSERT_EQ(it.status, -ENODEV);
	ASSERT_EQ(atomic_load(&it.ran), 0);
	ASSERT_EQ(get_stats(tree).work_cancelled, 1);
	ASSERT_EQ(get_stats(tree).work_run, 0);
	dl_device_put(a);
	free_tree(tree);
}

/*
 * An ordered queue: B waits behind A, both for d. d's removal drains A;
 * the worker then used to take B before the removal's cancel did, and B
 * finished "skipped" (-ENODEV) although it was still queued when the
 * removal closed d: it is cancelled (-ECANCELED), as work.h says.
 */
TEST(ordered_queue_item_behind_running_one_is_cancelled)
{
	struct dl_tree *tree = mktree();
	struct dl_device *d = mkdev(tree, NULL, "d");
	struct dl_workqueue *wq;
	struct gate hold = GATE_INIT;
	struct item a = { .dev = d, .status = 1, .hold = &hold };
	struct item b = { .dev = d, .status = 1 };
	struct remover rm = REMOVER(d, DL_REMOVE_WAIT);
	pthread_t rt;

	ASSERT_EQ(dl_workqueue_new(tree, "ordered", 1, &wq), 0);
	queue_ok(wq, &a);
	gate_wait_entered(&hold, 1);
	queue_ok(wq, &b);
	pause_arm(0, "remove:drained", d);
	pause_arm(1, "drain:wait", d);
	rt = spawn(remove_thread, &rm);
	pause_wait(1); /* d is closed; the drain waits for A */
	pause_release(1);
	gate_open(&hold); /* A ends, the drain ends, B's turn comes */
	pause_wait(0);    /* drained, not yet at its final cancel */
	wait_atomic_ge(&b.done, 1);
	ASSERT_EQ(b.status, -ECANCELED);
	ASSERT_EQ(atomic_load(&b.ran), 0);
	pause_release(0);
	join(rt);
	ASSERT_EQ(rm.ret, 0);
	wait_atomic_ge(&a.done, 1); /* after A's exit, which ended the drain */
	ASSERT_EQ(a.status, 0);
	dl_workqueue_free(wq);
	dl_device_put(d);
	free_tree(tree);
}

TEST(running_item_holds_off_removal)
{
	struct dl_tree *tree = mktree();
	struct dl_device *a = mkdev(tree, NULL, "a");
	struct dl_workqueue *wq = dl_tree_workqueue(tree);
	struct gate hold = GATE_INIT;
	struct item it = { .dev = a, .status = 1, .hold = &hold };
	struct remover rm = REMOVER(a, DL_REMOVE_WAIT);
	pthread_t t;

	queue_ok(wq, &it);
	gate_wait_entered(&hold, 1); /* the body is running */
	t = spawn(remove_thread, &rm);
	ASSERT_TRUE(still_running(t, 50));
	ASSERT_EQ(dl_device_state(a), DL_STATE_REMOVING);
	gate_open(&hold);
	join(t);
	ASSERT_EQ(rm.ret, 0);
	ASSERT_EQ(dl_workqueue_flush(wq), 0);
	ASSERT_EQ(it.status, 0);
	ASSERT_EQ(atomic_load(&it.ran), 1);
	dl_device_put(a);
	free_tree(tree);
}

struct closer {
	struct dl_workqueue *wq;
	int ret;
};

static void *close_thread(void *arg)
{
	struct closer *c = arg;

	c->ret = dl_workqueue_close(c->wq);
	return NULL;
}

TEST(close_refuses_and_drains)
{
	struct dl_tree *tree = mktree();
	struct dl_device *a = mkdev(tree, NULL, "a");
	struct dl_workqueue *wq;
	struct item first = { .dev = a, .status = 1 };
	static struct item more[10000];
	struct item refused = { .dev = a, .status = 1 };
	struct closer c;
	pthread_t t;
	int nmore = 0, r;

	ASSERT_EQ(dl_workqueue_new(tree, "events", 1, &wq), 0);
	c = (struct closer){ wq, 1 };
	pause_arm(0, "work:run", a);
	queue_ok(wq, &first);
	pause_wait(0); /* the worker holds the first item */
	t = spawn(close_thread, &c);
	/* items queued until the close takes effect are accepted (and
	 * will run); from then on every queuing fails */
	for (uint64_t end = test_now_ns() + 20000000000ull;;) {
		ASSERT_LT(nmore, 10000);
		ASSERT_LT(test_now_ns(), end);
		more[nmore] = (struct item){ .dev = a, .status = 1 };
		r = dl_work_queue(wq, a, body, done, &more[nmore]);
		if (r == -ESHUTDOWN)
			break;
		ASSERT_EQ(r, 0);
		nmore++;
		/* poll: the closer may not have run yet */
		if (nmore > 100)
			test_sleep_ms(1);
		else
			sched_yield();
	}
	ASSERT_EQ(dl_work_queue(wq, a, body, done, &refused), -ESHUTDOWN);
	ASSERT_TRUE(still_running(t, 50)); /* waiting for the queue */
	ASSERT_EQ(atomic_load(&first.done), 0);
	pause_release(0);
	join(t);
	ASSERT_EQ(c.ret, 0);
	/* everything queued before the close ran before it returned */
	ASSERT_EQ(atomic_load(&first.ran), 1);
	ASSERT_EQ(first.status, 0);
	for (int i = 0; i < nmore; i++) {
		ASSERT_EQ(atomic_load(&more[i].done), 1);
		ASSERT_EQ(more[i].status, 0);
	}
	ASSERT_EQ(atomic_load(&refused.done), 0);
	ASSERT_EQ(atomic_load(&refused.ran), 0);
	/* still closed; closing again is fine */
	ASSERT_EQ(dl_work_queue(wq, a, body, done, &refused), -ESHUTDOWN);
	ASSERT_EQ(dl_workqueue_close(wq), 0);
	ASSERT_EQ(dl_workqueue_flush(wq), 0);
	dl_workqueue_free(wq);
	dl_device_put(a);
	free_tree(tree);
}

static void body_flush(struct dl_device *dev, void *arg)
{
	struct item *it = arg;

	(void)dev;
	it->flush_ret = dl_workqueue_flush(it->wq);
	it->close_ret = dl_workqueue_close(it->wq);
	atomic_fetch_add(&it->ran, 1);
}

TEST(flush_from_worker_deadlk)
{
	struct dl_tree *tree = mktree();
	struct dl_device *a = mkdev(tree, NULL, "a");
	struct dl_workqueue *own;
	struct item it = { .dev = a, .status = 1 };
	struct item it2 = { .dev = a, .status = 1 };

	ASSERT_EQ(dl_workqueue_new(tree, "own", 2, &own), 0);
	it.wq = own;
	ASSERT_EQ(dl_work_queue(own, a, body_flush, done, &it), 0);
	ASSERT_EQ(dl_workqueue_flush(own), 0);
	ASSERT_EQ(atomic_load(&it.ran), 1);
	ASSERT_EQ(it.flush_ret, -EDEADLK);
	ASSERT_EQ(it.close_ret, -EDEADLK);
	/* the queue is still open */
	ASSERT_EQ(dl_work_queue(own, a, body, done, &it2), 0);
	/* a worker of another queue may flush this one */
	it.wq = own;
	ASSERT_EQ(dl_work_queue(dl_tree_workqueue(tree), a, body_flush, done,
				&it),
		  0);
	ASSERT_EQ(dl_workqueue_flush(dl_tree_workqueue(tree)), 0);
	ASSERT_EQ(atomic_load(&it.ran), 2);
	ASSERT_EQ(it.flush_ret, 0);
	ASSERT_EQ(it.close_ret, 0);
	ASSERT_EQ(atomic_load(&it2.done), 1);
	dl_workqueue_free(own);
	dl_device_put(a);
	free_tree(tree);
}

struct flusher {
	struct dl_workqueue *wq;
	int ret;
};

static void *flush_thread(void *arg)
{
	struct flusher *f = arg;

	f->ret = dl_workqueue_flush(f->wq);
	return NULL;
}

TEST(flush_waits_for_earlier_items)
{
	struct dl_tree *tree = mktree();
	struct dl_device *a = mkdev(tree, NULL, "a");
	struct dl_device *b = mkdev(tree, NULL, "b");
	struct dl_workqueue *wq = dl_tree_workqueue(tree);
	struct item first = { .dev = a, .status = 1 };
	struct item second = { .dev = b, .status = 1 };
	struct flusher f = { wq, 1 };
	pthread_t t;

	/* with several workers: one parked before running, one done */
	pause_arm(0, "work:run", a);
	queue_ok(wq, &first);
	pause_wait(0);
	queue_ok(wq, &second);
	t = spawn(flush_thread, &f);
	ASSERT_TRUE(still_running(t, 50));
	ASSERT_EQ(atomic_load(&first.done), 0);
	pause_release(0);
	join(t);
	ASSERT_EQ(f.ret, 0);
	ASSERT_EQ(atomic_load(&first.done), 1);
	ASSERT_EQ(atomic_load(&second.done), 1);
	ASSERT_EQ(first.status, 0);
	/* nothing queued: returns at once */
	ASSERT_EQ(dl_workqueue_flush(wq), 0);
	dl_device_put(a);
	dl_device_put(b);
	free_tree(tree);
}

/* Work may queue work (the async online of a probe does). */
static struct item chained;

static void body_chain(struct dl_device *dev, void *arg)
{
	struct item *it = arg;

	it->remove_ret = dl_work_queue(it->wq, dev, body, done, &chained);
	atomic_fetch_add(&it->ran, 1);
}

TEST(work_queues_work)
{
	struct dl_tree *tree = mktree();
	struct dl_device *a = mkdev(tree, NULL, "a");
	struct dl_workqueue *wq;
	struct item it = { .dev = a, .status = 1 };

	ASSERT_EQ(dl_workqueue_new(tree, "chain", 1, &wq), 0);
	it.wq = wq;
	chained = (struct item){ .dev = a, .status = 1 };
	ASSERT_EQ(dl_work_queue(wq, a, body_chain, done, &it), 0);
	/* a flush covers what was queued before it, and the chained item
	 * was queued before the first item finished */
	ASSERT_EQ(dl_workqueue_flush(wq), 0);
	ASSERT_EQ(it.remove_ret, 0);
	ASSERT_EQ(dl_workqueue_flush(wq), 0);
	ASSERT_EQ(atomic_load(&chained.ran), 1);
	ASSERT_EQ(chained.status, 0);
	dl_device_put(a);
	free_tree(tree);
}

/*
 * A flush waits for the done callbacks of what it waits for, whether the
 * item ran or a removal cancelled it: until they return the item is not
 * done (its caller may still be filling in the result).
 */
static struct gate done_in = GATE_INIT, done_out;
static atomic_int slow_done_calls;
static int slow_done_status;

static void slow_done(void *arg, int status)
{
	struct dl_workqueue *wq = arg;

	gate_pass(&done_in);
	gate_pass(&done_out);
	slow_done_status = status;
	/* flushing its own queue from here would wait for itself */
	ASSERT_EQ(dl_workqueue_flush(wq), -EDEADLK);
	atomic_fetch_add(&slow_done_calls, 1);
}

static void nop_body(struct dl_device *dev, void *arg)
{
	(void)dev;
	(void)arg;
}

TEST(flush_waits_for_done_callbacks)
{
	struct dl_tree *tree = mktree();
	struct dl_device *d = mkdev(tree, NULL, "fd");
	struct dl_device *e = mkdev(tree, NULL, "fe");
	struct dl_workqueue *wq;
	struct flusher f;
	struct gate hold = GATE_INIT;
	struct item blocker = { .dev = e, .hold = &hold };
	struct remover rm = REMOVER(d, DL_REMOVE_WAIT);
	pthread_t ft, rt;

	ASSERT_EQ(dl_workqueue_new(tree, "fdq", 1, &wq), 0);
	f = (struct flusher){ wq, 1 };

	/* an item that ran: its done callback holds the flush */
	gate_init(&done_out);
	ASSERT_EQ(dl_work_queue(wq, d, nop_body, slow_done, wq), 0);
	gate_wait_entered(&done_in, 1);
	gate_open(&done_in);
	ft = spawn(flush_thread, &f);
	ASSERT_TRUE(still_running(ft, 100));
	gate_open(&done_out);
	join(ft);
	ASSERT_EQ(f.ret, 0);
	ASSERT_EQ(atomic_load(&slow_done_calls), 1);
	ASSERT_EQ(slow_done_status, 0);

	/* an item a removal cancelled: the same */
	gate_init(&done_in);
	gate_init(&done_out);
	ASSERT_EQ(dl_work_queue(wq, e, body, done, &blocker), 0);
	gate_wait_entered(&hold, 1); /* the queue's one worker is busy */
	ASSERT_EQ(dl_work_queue(wq, d, nop_body, slow_done, wq), 0);
	rt = spawn(remove_thread, &rm); /* cancels d's pending item */
	gate_wait_entered(&done_in, 1);
	gate_open(&done_in);
	gate_open(&hold);
	ft = spawn(flush_thread, &f);
	ASSERT_TRUE(still_running(ft, 100));
	gate_open(&done_out);
	join(ft);
	join(rt);
	ASSERT_EQ(rm.ret, 0);
	ASSERT_EQ(atomic_load(&slow_done_calls), 2);
	ASSERT_EQ(slow_done_status, -ECANCELED);
	dl_workqueue_free(wq);
	dl_device_put(d);
	dl_device_put(e);
	free_tree(tree);
}

TEST_MAIN(item_runs_entered, item_removes_its_own_device,
	  ordered_queue_item_behind_running_one_is_cancelled, bad_arguments, ordered_queue_runs_in_order,
	  queue_refused_unless_live, removal_cancels_pending,
	  dequeued_item_skipped, running_item_holds_off_removal,
	  close_refuses_and_drains, flush_from_worker_deadlk,
	  flush_waits_for_earlier_items, work_queues_work,
	  flush_waits_for_done_callbacks)
