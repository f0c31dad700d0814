/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Watchers (dl_tree_watch, dl_tree_unwatch): the limit of 8 and bad
 * arguments, every event delivered, and the unwatch promise: when
 * dl_tree_unwatch() returns, the watcher is not running and is never
 * called again, even while an event's call of it is in progress.
 */
#include "testutil.h"

#define MAX_WATCHERS 8

struct watcher {
	atomic_int calls;
	atomic_int inside;         /* calls in progress */
	atomic_int adds;
	struct gate *hold;         /* calls wait here if set */
};

static void watch_fn(struct dl_device *dev, const struct dl_trace_record *rec,
		     void *arg)
{
	struct watcher *w = arg;

	atomic_fetch_add(&w->inside, 1);
	atomic_fetch_add(&w->calls, 1);
	if (rec->event == DL_EV_ADD)
		atomic_fetch_add(&w->adds, 1);
	if (w->hold)
		gate_pass(w->hold);
	atomic_fetch_sub(&w->inside, 1);
}

static void other_fn(struct dl_device *dev, const struct dl_trace_record *rec,
		     void *arg)
{
}

TEST(watch_limits_and_bad_arguments)
{
	struct dl_tree *tree = mktree();
	struct watcher w[MAX_WATCHERS + 1];

	memset(w, 0, sizeof(w));
	ASSERT_EQ(dl_tree_watch(NULL, watch_fn, &w[0]), -EINVAL);
	ASSERT_EQ(dl_tree_watch(tree, NULL, &w[0]), -EINVAL);
	ASSERT_EQ(dl_tree_unwatch(tree, watch_fn, &w[0]), -ENOENT);
	for (int i = 0; i < MAX_WATCHERS; i++)
		ASSERT_EQ(dl_tree_watch(tree, watch_fn, &w[i]), 0);
	/* the ninth, whatever its function or argument */
	ASSERT_EQ(dl_tree_watch(tree, watch_fn, &w[MAX_WATCHERS]), -ENOSPC);
	ASSERT_EQ(dl_tree_watch(tree, other_fn, NULL), -ENOSPC);
	/* a watcher is (fn, arg): the wrong pair is not found */
	ASSERT_EQ(dl_tree_unwatch(tree, other_fn, &w[0]), -ENOENT);
	ASSERT_EQ(dl_tree_unwatch(tree, watch_fn, &w[MAX_WATCHERS]), -ENOENT);
	/* one out, one in again */
	ASSERT_EQ(dl_tree_unwatch(tree, watch_fn, &w[3]), 0);
	ASSERT_EQ(dl_tree_unwatch(tree, watch_fn, &w[3]), -ENOENT);
	ASSERT_EQ(dl_tree_watch(tree, watch_fn, &w[MAX_WATCHERS]), 0);
	ASSERT_EQ(dl_tree_watch(tree, other_fn, NULL), -ENOSPC);

	/* each registered watcher sees the add; the removed one does not */
	dl_device_put(mkdev(tree, NULL, "d"));
	for (int i = 0; i <= MAX_WATCHERS; i++)
		ASSERT_EQ(atomic_load(&w[i].adds), i == 3 ? 0 : 1);
	for (int i = 0; i <= MAX_WATCHERS; i++)
		if (i != 3)
			ASSERT_EQ(dl_tree_unwatch(tree, watch_fn, &w[i]), 0);
	free_tree(tree);
}

struct add_arg {
	struct dl_tree *tree;
	struct dl_device *dev;
};

static void *add_thread(void *arg)
{
	struct add_arg *a = arg;

	a->dev = mkdev(a->tree, NULL, "held");
	return NULL;
}

struct unwatch_arg {
	struct dl_tree *tree;
	struct watcher *w;
	atomic_int started, returned;
	int ret;
	int inside_at_return;
};

static void *unwatch_thread(void *arg)
{
	struct unwatch_arg *u = arg;

	atomic_store(&u->started, 1);
	u->ret = dl_tree_unwatch(u->tree, watch_fn, u->w);
	u->inside_at_return = atomic_load(&u->w->inside);
	atomic_store(&u->returned, 1);
	return NULL;
}

TEST(unwatch_waits_for_a_running_call)
{
	struct dl_tree *tree = mktree();
	struct gate hold = GATE_INIT;
	struct watcher w = { .hold = &hold };
	struct add_arg ad = { .tree = tree };
	struct unwatch_arg un = { .tree = tree, .w = &w };
	pthread_t ta, tu;
	int calls;

	ASSERT_EQ(dl_tree_watch(tree, watch_fn, &w), 0);
	/* An add's event calls the watcher, which stays inside. */
	ta = spawn(add_thread, &ad);
	gate_wait_entered(&hold, 1);
	ASSERT_EQ(atomic_load(&w.inside), 1);

	tu = spawn(unwatch_thread, &un);
	wait_atomic_ge(&un.started, 1);
	/* The unwatch must stay blocked while the call is inside (a sleep
	 * only to let a broken unwatch return: the check below is what
	 * fails, whenever the gate opens). */
	ASSERT_TRUE(still_running(tu, 200));
	ASSERT_EQ(atomic_load(&un.returned), 0);
	gate_open(&hold);
	join(tu);
	join(ta);
	ASSERT_EQ(un.ret, 0);
	/* When it returned, the watcher was not running... */
	ASSERT_EQ(un.inside_at_return, 0);
	/* ... and it is never called again. */
	calls = atomic_load(&w.calls);
	ASSERT_EQ(dl_device_remove(ad.dev, DL_REMOVE_WAIT, DL_NO_TIMEOUT), 0);
	dl_device_put(mkdev(tree, NULL, "later"));
	ASSERT_EQ(atomic_load(&w.calls), calls);
	ASSERT_EQ(dl_tree_unwatch(tree, watch_fn, &w), -ENOENT);
	dl_device_put(ad.dev);
	free_tree(tree);
}

struct churn {
	struct dl_tree *tree;
	int id;
	atomic_int *stop;
};

/* Add and remove devices (each add and removal an event) until told. */
static void *churn_thread(void *arg)
{
	struct churn *ch = arg;
	char name[16];

	for (int r = 0; r < 200 && !atomic_load(ch->stop); r++) {
		struct dl_device *d;

		snprintf(name, sizeof(name), "c%d.%d", ch->id, r);
		d = mkdev(ch->tree, NULL, name);
		ASSERT_EQ(dl_device_remove(d, DL_REMOVE_WAIT, DL_NO_TIMEOUT),
			  0);
		dl_device_put(d);
	}
	return NULL;
}

TEST(unwatch_is_final_under_concurrent_events)
{
	/* Events on other threads while unwatching: once unwatch has
	 * returned, nothing is inside and the count never moves again. */
	enum { THREADS = 3 };
	struct dl_tree *tree = mktree();
	struct watcher w = { 0 };
	struct unwatch_arg un = { .tree = tree, .w = &w };
	atomic_int stop = 0;
	struct churn c[THREADS];
	pthread_t t[THREADS];
	int after;

	ASSERT_EQ(dl_tree_watch(tree, watch_fn, &w), 0);
	for (int i = 0; i < THREADS; i++) {
		c[i] = (struct churn){ tree, i, &stop };
		t[i] = spawn(churn_thread, &c[i]);
	}
	wait_atomic_ge(&w.calls, 10);
	unwatch_thread(&un);
	ASSERT_EQ(un.ret, 0);
	ASSERT_EQ(un.inside_at_return, 0);
	after = atomic_load(&w.calls);
	for (int i = 0; i < THREADS; i++)
		join(t[i]);
	ASSERT_EQ(atomic_load(&w.calls), after);
	free_tree(tree);
}

TEST_MAIN(watch_limits_and_bad_arguments, unwatch_waits_for_a_running_call,
	  unwatch_is_final_under_concurrent_events)
