/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The wait-for checks of builds with debug checks (src/core/waits.c):
 * deadlocks through the library's waits (a flush, a removal's drain, a
 * device lock, an unclaim, another removal) abort with a report of both sides, each
 * forced with pause points and gates; a removal that would wait for the
 * removal its own thread runs fails with -EDEADLK. Each scenario runs in
 * a forked child with an alarm: without the check it hangs, and the
 * alarm ends it.
 *
 * Linked with -rdynamic (tests/core/meson.build) so that the report can
 * name this file's functions: they are not static for that.
 */
#include "testutil.h"

struct pair {
	struct dl_device *in;  /* the device the thread is inside */
	struct dl_device *rm;  /* the device it removes, or locks */
	struct dl_workqueue *wq;
	struct gate *gate;
	int ret;
};

static struct gate item_gate;

void waits_item_removes_device(struct dl_device *dev, void *arg);
void *waits_flusher_main(void *arg);
void *waits_lock_user_main(void *arg);
void *waits_remover_main(void *arg);
void waits_remove_parent_watcher(struct dl_device *dev,
				 const struct dl_trace_record *rec,
				 void *arg);
void waits_release_flushes(struct dl_device *dev, void *arg);
void waits_item_unclaims(struct dl_device *dev, void *arg);

/* (a) A work item removes its device C ... */
void waits_item_removes_device(struct dl_device *dev, void *arg)
{
	(void)arg;
	gate_pass(&item_gate);
	fprintf(stderr, "item: remove says %d\n",
		dl_device_remove(dev, DL_REMOVE_WAIT, DL_NO_TIMEOUT));
}

/* ... while a thread inside C flushes the item's queue. */
void *waits_flusher_main(void *arg)
{
	struct pair *a = arg;

	if (dl_device_enter(a->in) != 0)
		_exit(3);
	fprintf(stderr, "flusher: flush says %d\n",
		dl_workqueue_flush(a->wq));
	dl_device_exit(a->in);
	return NULL;
}

static void flush_vs_item_removal(void *arg)
{
	struct dl_tree *tree = mktree();
	struct pair a = { 0 };

	(void)arg;
	alarm(10);
	a.in = mkdev(tree, NULL, "wa-c");
	if (dl_workqueue_new(tree, "wa-q", 1, &a.wq) != 0)
		_exit(3);
	gate_init(&item_gate);
	if (dl_work_queue(a.wq, a.in, waits_item_removes_device, NULL,
			  NULL) != 0)
		_exit(3);
	gate_wait_entered(&item_gate, 1); /* the item runs */
	pause_arm(0, "wait:blocking", NULL);
	spawn(waits_flusher_main, &a);
	pause_wait(0); /* the flusher waits for the running item */
	pause_release(0);
	gate_open(&item_gate); /* the item's removal drains the flusher */
	pause(); /* the alarm ends a hang */
}

TEST(flush_vs_work_item_removing_its_device)
{
	char out[16384];

	expect_abort(flush_vs_item_removal, NULL, out, sizeof(out));
	ASSERT_CONTAINS(out, "devlife: deadlock: 2 threads wait for each");
	/* the flusher's side: its wait, its call site, what it holds */
	ASSERT_CONTAINS(out, "in dl_workqueue_flush() called at "
			     "waits_flusher_main+0x");
	ASSERT_CONTAINS(out, "waits for the items of work queue \"wa-q\"");
	ASSERT_CONTAINS(out, "active(wa-c)x1 entered at waits_flusher_main+0x");
	/* the worker's side */
	ASSERT_CONTAINS(out, "in dl_device_remove() called at "
			     "waits_item_removes_device+0x");
	ASSERT_CONTAINS(out, "waits for the active users of wa-c to leave");
	ASSERT_CONTAINS(out, "an item of work queue \"wa-q\" it runs");
	ASSERT_CONTAINS(out, "devlife: fatal: deadlock through waits");
}

/* (b) A user of D wants the device lock of U ... */
void *waits_lock_user_main(void *arg)
{
	struct pair *a = arg;

	if (dl_device_enter(a->in) != 0)
		_exit(3);
	dl_device_lock(a->rm);
	dl_device_unlock(a->rm);
	dl_device_exit(a->in);
	return NULL;
}

/* ... held by the thread that drains D. */
static void drain_under_unrelated_lock(void *arg)
{
	struct dl_tree *tree = mktree();
	struct pair a = { 0 };

	(void)arg;
	alarm(10);
	a.in = mkdev(tree, NULL, "wb-d");
	a.rm = mkdev(tree, NULL, "wb-u");
	dl_device_lock(a.rm);
	pause_arm(0, "wait:blocking", a.rm);
	spawn(waits_lock_user_main, &a);
	pause_wait(0); /* the user, inside wb-d, waits for wb-u's lock */
	pause_release(0);
	fprintf(stderr, "remove says %d\n",
		dl_device_remove(a.in, DL_REMOVE_WAIT, DL_NO_TIMEOUT));
}

TEST(drain_under_a_lock_its_user_wants)
{
	char out[16384];

	expect_abort(drain_under_unrelated_lock, NULL, out, sizeof(out));
	ASSERT_CONTAINS(out, "devlife: deadlock: 2 threads wait for each");
	ASSERT_CONTAINS(out, "in dl_device_remove() called at ");
	ASSERT_CONTAINS(out, "waits for the active users of wb-d to leave");
	ASSERT_CONTAINS(out, "holds: device_lock(wb-u);");
	ASSERT_CONTAINS(out, "in dl_device_lock() called at "
			     "waits_lock_user_main+0x");
	ASSERT_CONTAINS(out, "waits for device_lock(wb-u)");
	ASSERT_CONTAINS(out, "active(wb-d)x1 entered at waits_lock_user_main+0x");
}

/* (c) Two users, each inside one device, each removing the other's. */
void *waits_remover_main(void *arg)
{
	struct pair *a = arg;

	if (dl_device_enter(a->in) != 0)
		_exit(3);
	gate_pass(a->gate);
	a->ret = dl_device_remove(a->rm, DL_REMOVE_WAIT, DL_NO_TIMEOUT);
	dl_device_exit(a->in);
	return NULL;
}

static void abba_through_active_references(void *arg)
{
	struct dl_tree *tree = mktree();
	struct dl_device *x = mkdev(tree, NULL, "wc-a");
	struct dl_device *y = mkdev(tree, NULL, "wc-b");
	struct gate g1, g2;
	struct pair p1 = { .in = x, .rm = y, .gate = &g1 };
	struct pair p2 = { .in = y, .rm = x, .gate = &g2 };

	(void)arg;
	alarm(10);
	gate_init(&g1);
	gate_init(&g2);
	spawn(waits_remover_main, &p1);
	spawn(waits_remover_main, &p2);
	gate_wait_entered(&g1, 1); /* both are inside */
	gate_wait_entered(&g2, 1);
	pause_arm(0, "wait:blocking", y);
	gate_open(&g1);
	pause_wait(0); /* the first drains wc-b, waiting for the second */
	pause_release(0);
	gate_open(&g2); /* the second's drain of wc-a closes the cycle */
	pause();
}

TEST(two_users_removing_each_others_device)
{
	char out[16384];

	expect_abort(abba_through_active_references, NULL, out, sizeof(out));
	ASSERT_CONTAINS(out, "devlife: deadlock: 2 threads wait for each");
	ASSERT_CONTAINS(out, "waits for the active users of wc-a to leave");
	ASSERT_CONTAINS(out, "waits for the active users of wc-b to leave");
	ASSERT_CONTAINS(out, "active(wc-a)x1 entered at waits_remover_main+0x");
	ASSERT_CONTAINS(out, "active(wc-b)x1 entered at waits_remover_main+0x");
	ASSERT_CONTAINS(out, "in dl_device_remove() called at "
			     "waits_remover_main+0x");
}

/*
 * (d) A claim's release callback, on the removing thread, flushes a queue
 * whose running item unclaims the device: the unclaim waits for the
 * callback to return, the callback for the item.
 */
static struct dl_device *claimed_dev;

void waits_release_flushes(struct dl_device *dev, void *arg)
{
	fprintf(stderr, "release: flush says %d\n",
		dl_workqueue_flush(arg));
}

void waits_item_unclaims(struct dl_device *dev, void *arg)
{
	(void)arg;
	gate_pass(&item_gate);
	fprintf(stderr, "item: unclaim says %d\n",
		dl_device_unclaim(claimed_dev));
}

static void release_flush_vs_unclaim(void *arg)
{
	struct dl_tree *tree = mktree();
	struct dl_device *other = mkdev(tree, NULL, "we-x");
	struct dl_workqueue *wq;
	struct remover rm;

	(void)arg;
	alarm(10);
	claimed_dev = mkdev(tree, NULL, "we-d");
	if (dl_workqueue_new(tree, "we-q", 1, &wq) != 0 ||
	    dl_device_claim(claimed_dev, "vm", waits_release_flushes, wq) != 0)
		_exit(3);
	gate_init(&item_gate);
	if (dl_work_queue(wq, other, waits_item_unclaims, NULL, NULL) != 0)
		_exit(3);
	gate_wait_entered(&item_gate, 1); /* the item runs */
	rm = REMOVER(claimed_dev, DL_REMOVE_WAIT);
	pause_arm(0, "wait:blocking", NULL);
	spawn(remove_thread, &rm);
	pause_wait(0); /* the release callback waits for the item */
	pause_release(0);
	gate_open(&item_gate); /* the item's unclaim waits for the callback */
	pause();
}

TEST(release_callback_flush_vs_unclaim)
{
	char out[16384];

	expect_abort(release_flush_vs_unclaim, NULL, out, sizeof(out));
	ASSERT_CONTAINS(out, "devlife: deadlock: 2 threads wait for each");
	ASSERT_CONTAINS(out, "in dl_device_unclaim() called at "
			     "waits_item_unclaims+0x");
	ASSERT_CONTAINS(out, "waits for the release callback of the claim on "
			     "we-d to return");
	ASSERT_CONTAINS(out, "in dl_workqueue_flush() called at "
			     "waits_release_flushes+0x");
	ASSERT_CONTAINS(out, "a claim release callback it runs;");
	ASSERT_CONTAINS(out, "an item of work queue \"we-q\" it runs;");
}

/*
 * A callback of a committed removal (here a watcher told that the child
 * is DEAD, on the thread removing the parent) removes the parent: it
 * would wait for the removal its own thread runs. -EDEADLK, with a
 * report in builds with debug checks; the outer removal completes.
 */
void waits_remove_parent_watcher(struct dl_device *dev,
				 const struct dl_trace_record *rec,
				 void *arg)
{
	(void)arg;
	if (rec->event != DL_EV_DEAD || strcmp(dl_device_name(dev), "wd-c"))
		return;
	fprintf(stderr, "inner remove says %d\n",
		dl_device_remove(dl_device_parent(dev), DL_REMOVE_WAIT,
				 DL_NO_TIMEOUT));
}

static void callback_removes_parent(void *arg)
{
	struct dl_tree *tree = mktree();
	struct dl_device *p = mkdev(tree, NULL, "wd-p");
	int r;

	(void)arg;
	alarm(10);
	(void)mkdev(tree, p, "wd-c");
	if (dl_tree_watch(tree, waits_remove_parent_watcher, NULL) != 0)
		_exit(3);
	r = dl_device_remove(p, DL_REMOVE_WAIT, 1000000000);
	fprintf(stderr, "outer remove says %d, state %d\n", r,
		(int)dl_device_state(p));
}

TEST(callback_of_committed_removal_removing_the_parent)
{
	char out[16384], want[64];
	int status = run_captured(callback_removes_parent, NULL, out,
				  sizeof(out));

	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		FAIL_AT("expected the child to finish, got %s %d; it "
			"printed:\n%s",
			WIFSIGNALED(status) ? "signal" : "exit status",
			WIFSIGNALED(status) ? WTERMSIG(status)
					    : WEXITSTATUS(status),
			out);
	snprintf(want, sizeof(want), "inner remove says %d", -EDEADLK);
	ASSERT_CONTAINS(out, want);
	snprintf(want, sizeof(want), "outer remove says 0, state %d",
		 (int)DL_STATE_DEAD);
	ASSERT_CONTAINS(out, want);
	ASSERT_CONTAINS(out, "devlife: deadlock avoided: thread ");
	ASSERT_CONTAINS(out, "in dl_device_remove() called at "
			     "waits_remove_parent_watcher+0x");
	ASSERT_CONTAINS(out, "would wait for the removal of wd-p, which this "
			     "same thread is running");
}

/*
 * Once a removal commits it cannot give up: a child whose removal another
 * thread runs (here stopped before the child's driver remove) keeps it
 * waiting past its caller's deadline. It says so once, through the tree's
 * report function, and completes when the child's removal does.
 */
struct hang_report {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int count;
	char text[1024];
};

static void hang_report_cb(struct dl_tree *tree, const char *text, void *arg)
{
	struct hang_report *r = arg;

	(void)tree;
	pthread_mutex_lock(&r->lock);
	r->count++;
	snprintf(r->text, sizeof(r->text), "%s", text);
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
}

TEST(committed_removal_reports_waiting_past_its_deadline)
{
	struct dl_tree *tree = mktree();
	struct dl_device *p = mkdev(tree, NULL, "wf-p");
	struct dl_device *c = mkdev(tree, p, "wf-c");
	struct hang_report rep = { PTHREAD_MUTEX_INITIALIZER,
				   PTHREAD_COND_INITIALIZER, 0, "" };
	struct remover rc = REMOVER(c, DL_REMOVE_WAIT);
	struct remover rp = REMOVER(p, DL_REMOVE_WAIT);
	struct timespec ts;
	pthread_t tc, tp;
	char want[128];

	/* drain reports off (an hour), the report function set */
	ASSERT_EQ(dl_tree_set_drain_report(tree, 3600 * 1000000000ull,
					   hang_report_cb, &rep),
		  0);
	pause_arm(0, "remove:driver-remove", c);
	tc = spawn(remove_thread, &rc);
	pause_wait(0); /* wf-c's removal is under way, and stays so */
	rp.timeout = 100 * 1000000; /* 100 ms */
	tp = spawn(remove_thread, &rp);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 10;
	pthread_mutex_lock(&rep.lock);
	while (rep.count == 0 &&
	       pthread_cond_timedwait(&rep.cond, &rep.lock, &ts) == 0)
		;
	pthread_mutex_unlock(&rep.lock);
	if (rep.count != 1)
		FAIL_AT("no report from the committed removal of wf-p, "
			"waiting past its deadline (%d reports)",
			rep.count);
	ASSERT_CONTAINS(rep.text, "removal of wf-p passed its deadline after "
				  "it committed: it waits for the removal of "
				  "wf-c, run by thread ");
	ASSERT_EQ(dl_device_state(p), DL_STATE_REMOVING);
	pause_release(0);
	join(tc);
	join(tp);
	ASSERT_EQ(rc.ret, 0);
	ASSERT_EQ(rp.ret, 0); /* committed: it completed */
	ASSERT_EQ(dl_device_state(p), DL_STATE_DEAD);
	ASSERT_EQ(rep.count, 1);
	snprintf(want, sizeof(want), "%s", "keeps waiting");
	ASSERT_CONTAINS(rep.text, want);
	dl_device_put(c);
	dl_device_put(p);
	free_tree(tree);
}

TEST_MAIN(flush_vs_work_item_removing_its_device,
	  drain_under_a_lock_its_user_wants,
	  two_users_removing_each_others_device,
	  release_callback_flush_vs_unclaim,
	  callback_of_committed_removal_removing_the_parent,
	  committed_removal_reports_waiting_past_its_deadline)
