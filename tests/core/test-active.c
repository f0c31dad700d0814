/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Active references: enter/exit, exact counting (slots and the fallback
 * path), drains, -EDEADLK, the drain report.
 */
#include "testutil.h"

/* A thread that enters a device and stays inside until released. */
struct holder {
	struct dl_device *dev;
	const char *tag;
	const char *name;
	struct gate *in;     /* passed once entered */
	struct gate out;     /* opened by the test to let it exit */
	atomic_bool exited;
	pid_t tid;
	int ret;
};

static void *holder_thread(void *arg)
{
	struct holder *h = arg;

	if (h->name)
		pthread_setname_np(pthread_self(), h->name);
	h->tid = gettid();
	h->ret = h->tag ? dl_device_enter_tagged(h->dev, h->tag)
			: dl_device_enter(h->dev);
	gate_pass(h->in);
	if (h->ret == 0)
		gate_pass(&h->out);
	if (h->ret == 0)
		dl_device_exit(h->dev);
	atomic_store(&h->exited, true);
	return NULL;
}

static pthread_t start_holder(struct holder *h, struct dl_device *dev,
			      struct gate *in)
{
	h->dev = dev;
	h->in = in;
	gate_init(&h->out);
	atomic_init(&h->exited, false);
	return spawn(holder_thread, h);
}

TEST(enter_exit_nesting)
{
	struct dl_tree *tree = mktree();
	struct dl_device *d = mkdev(tree, NULL, "nest");

	ASSERT_EQ(dl_device_active_users(d), 0);
	ASSERT_EQ(dl_device_enter(d), 0);
	ASSERT_EQ(dl_device_active_users(d), 1);
	ASSERT_EQ(dl_device_enter(d), 0);
	ASSERT_EQ(dl_device_enter_tagged(d, "third"), 0);
	ASSERT_EQ(dl_device_active_users(d), 3);
	dl_device_exit(d);
	ASSERT_EQ(dl_device_active_users(d), 2);
	dl_device_exit(d);
	dl_device_exit(d);
	ASSERT_EQ(dl_device_active_users(d), 0);
	/* balanced: a try removal sees nobody */
	ASSERT_EQ(dl_device_remove(d, DL_REMOVE_TRY, 0), 0);
	ASSERT_EQ(dl_device_active_users(NULL), -EINVAL);
	ASSERT_EQ(dl_device_enter(NULL), -EINVAL);
	dl_device_exit(NULL); /* harmless */
	dl_device_put(d);
	free_tree(tree);
}

TEST(enter_new_and_dead)
{
	struct dl_tree *tree = mktree();
	struct dl_device *n, *d = mkdev(tree, NULL, "dead");
	struct dl_device *c = mkdev(tree, d, "dead.child");

	ASSERT_EQ(dl_device_new(tree, &test_type, "new", 0, &n), 0);
	ASSERT_EQ(dl_device_enter(n), -ENODEV);
	ASSERT_EQ(dl_device_enter_tagged(n, "x"), -ENODEV);
	ASSERT_EQ(dl_device_active_users(n), 0);
	ASSERT_EQ(dl_device_remove(d, DL_REMOVE_WAIT, DL_NO_TIMEOUT), 0);
	ASSERT_EQ(dl_device_enter(d), -ENODEV);
	ASSERT_EQ(dl_device_enter(c), -ENODEV);
	ASSERT_EQ(dl_device_active_users(d), 0);
	/* a NEW device opens only when added */
	ASSERT_EQ(dl_device_add(n, NULL), 0);
	ASSERT_EQ(dl_device_enter(n), 0);
	dl_device_exit(n);
	dl_device_put(n);
	dl_device_put(c);
	dl_device_put(d);
	free_tree(tree);
}

/* More devices than a thread has slots: the fallback path must count. */
#define MANY 40

struct many {
	struct dl_device *devs[MANY];
	long expect[MANY];
	atomic_int bad;
};

static void *count_from_other_thread(void *arg)
{
	struct many *m = arg;

	for (int i = 0; i < MANY; i++)
		if (dl_device_active_users(m->devs[i]) != m->expect[i])
			atomic_fetch_add(&m->bad, 1);
	return NULL;
}

static void *try_remove_each(void *arg)
{
	struct many *m = arg;

	for (int i = 0; i < MANY; i++)
		if (dl_device_remove(m->devs[i], DL_REMOVE_TRY, 0) != -EBUSY)
			atomic_fetch_add(&m->bad, 1);
	return NULL;
}

TEST(many_devices_fallback)
{
	struct dl_tree *tree = mktree();
	struct many m = { .bad = 0 };
	long fallback = 0;

	for (int i = 0; i < MANY; i++) {
		char name[16];

		snprintf(name, sizeof(name), "m%d", i);
		m.devs[i] = mkdev(tree, NULL, name);
	}
	/* hold all of them at once, some several times */
	for (int i = 0; i < MANY; i++) {
		m.expect[i] = 1 + i % 3;
		for (long k = 0; k < m.expect[i]; k++)
			ASSERT_EQ(dl_device_enter(m.devs[i]), 0);
	}
	for (int i = 0; i < MANY; i++) {
		ASSERT_EQ(dl_device_active_users(m.devs[i]), m.expect[i]);
		fallback += atomic_load(&m.devs[i]->fallback_active);
	}
	/* at most DL_SLOTS devices fit in the slots */
	ASSERT_GT(fallback, 0);
	/* with every slot busy, a closed device is refused on the
	 * fallback path too */
	{
		struct dl_device *n, *dead = mkdev(tree, NULL, "dead");

		ASSERT_EQ(dl_device_new(tree, &test_type, "new", 0, &n), 0);
		ASSERT_EQ(dl_device_remove(dead, DL_REMOVE_WAIT, -1), 0);
		ASSERT_EQ(dl_device_enter(n), -ENODEV);
		ASSERT_EQ(dl_device_enter(dead), -ENODEV);
		ASSERT_EQ(atomic_load(&n->fallback_active), 0);
		ASSERT_EQ(atomic_load(&dead->fallback_active), 0);
		dl_device_put(n);
		dl_device_put(dead);
	}
	join(spawn(count_from_other_thread, &m));
	ASSERT_EQ(atomic_load(&m.bad), 0);
	/* a removal sees every holder, slot or fallback */
	join(spawn(try_remove_each, &m));
	ASSERT_EQ(atomic_load(&m.bad), 0);
	for (int i = 0; i < MANY; i++) {
		ASSERT_EQ(dl_device_state(m.devs[i]), DL_STATE_LIVE);
		ASSERT_TRUE(findable(tree, m.devs[i]));
	}
	ASSERT_EQ(get_stats(tree).remove_busy, MANY);

	/* exit in a different order than entered */
	for (int i = MANY - 1; i >= 0; i--) {
		dl_device_exit(m.devs[i]);
		m.expect[i]--;
	}
	for (int i = 0; i < MANY; i++)
		ASSERT_EQ(dl_device_active_users(m.devs[i]), m.expect[i]);
	for (int i = 0; i < MANY; i++)
		while (m.expect[i]-- > 0)
			dl_device_exit(m.devs[i]);
	for (int i = 0; i < MANY; i++) {
		ASSERT_EQ(dl_device_active_users(m.devs[i]), 0);
		ASSERT_EQ(atomic_load(&m.devs[i]->fallback_active), 0);
		ASSERT_EQ(dl_device_remove(m.devs[i], DL_REMOVE_TRY, 0), 0);
		dl_device_put(m.devs[i]);
	}
	free_tree(tree);
}

/* Many threads entering and exiting while the count is read. */
#define CHURNERS 4

struct churn {
	struct dl_device *dev;
	atomic_int ready, finished;
	atomic_bool release;
};

static void *churn_thread(void *arg)
{
	struct churn *c = arg;
	int n = TU_SCALE(100000);

	if (dl_device_enter(c->dev) != 0) /* the steady one */
		FAIL_AT("enter failed");
	atomic_fetch_add(&c->ready, 1);
	for (int i = 0; i < n; i++) {
		if (dl_device_enter(c->dev) != 0)
			FAIL_AT("enter failed");
		dl_device_exit(c->dev);
	}
	atomic_fetch_add(&c->finished, 1);
	while (!atomic_load(&c->release))
		sched_yield();
	dl_device_exit(c->dev);
	return NULL;
}

TEST(concurrent_enter_exit_counts)
{
	struct dl_tree *tree = mktree();
	struct churn c = { .dev = mkdev(tree, NULL, "churn") };
	pthread_t t[CHURNERS];
	long reads = 0;

	for (int i = 0; i < CHURNERS; i++)
		t[i] = spawn(churn_thread, &c);
	wait_atomic_ge(&c.ready, CHURNERS);
	do {
		long v = dl_device_active_users(c.dev);

		ASSERT_GE(v, CHURNERS);
		ASSERT_LE(v, 2 * CHURNERS);
		reads++;
	} while (atomic_load(&c.finished) < CHURNERS);
	ASSERT_EQ(dl_device_active_users(c.dev), CHURNERS);
	atomic_store(&c.release, true);
	for (int i = 0; i < CHURNERS; i++)
		join(t[i]);
	ASSERT_EQ(dl_device_active_users(c.dev), 0);
	ASSERT_GT(reads, 0);
	ASSERT_EQ(dl_device_remove(c.dev, DL_REMOVE_TRY, 0), 0);
	dl_device_put(c.dev);
	free_tree(tree);
}

static void exit_unentered(void *arg)
{
	struct dl_tree *tree = mktree();
	struct dl_device *d = mkdev(tree, NULL, "never-entered");

	(void)arg;
	dl_device_exit(d);
	fprintf(stderr, "survived an exit without enter\n");
}

static void exit_twice(void *arg)
{
	struct dl_tree *tree = mktree();
	struct dl_device *d = mkdev(tree, NULL, "once");

	(void)arg;
	if (dl_device_enter(d) != 0)
		_exit(3);
	dl_device_exit(d);
	dl_device_exit(d);
	fprintf(stderr, "survived an exit twice\n");
}

TEST(exit_without_enter_aborts)
{
	expect_death(exit_unentered, NULL,
		     "dl_device_exit(never-entered) without a matching "
		     "dl_device_enter");
	expect_death(exit_twice, NULL, "dl_device_exit(once) without");
}

TEST(drain_waits_for_last_exit)
{
	struct dl_tree *tree = mktree();
	struct dl_device *d = mkdev(tree, NULL, "drain");
	struct dl_device *c = mkdev(tree, d, "drain.c");
	struct gate in = GATE_INIT;
	struct holder h[3] = { { 0 } };
	pthread_t ht[3], rt;
	struct remover rm = REMOVER(d, DL_REMOVE_WAIT);

	/* two users on the device, one on its child */
	ht[0] = start_holder(&h[0], d, &in);
	ht[1] = start_holder(&h[1], d, &in);
	ht[2] = start_holder(&h[2], c, &in);
	gate_wait_entered(&in, 3);
	for (int i = 0; i < 3; i++)
		ASSERT_EQ(h[i].ret, 0);
	gate_open(&in);

	pause_arm(0, "drain:wait", d);
	rt = spawn(remove_thread, &rm);
	pause_wait(0); /* the remover found users and is about to wait */
	ASSERT_EQ(dl_device_enter(d), -ENODEV); /* closed */
	ASSERT_EQ(dl_device_enter(c), -ENODEV);
	pause_release(0);
	for (int i = 0; i < 3; i++) {
		ASSERT_TRUE(still_running(rt, 50));
		ASSERT_EQ(dl_device_state(d), DL_STATE_REMOVING);
		gate_open(&h[i].out);
		join(ht[i]);
	}
	join(rt);
	ASSERT_EQ(rm.ret, 0);
	ASSERT_EQ(dl_device_state(d), DL_STATE_DEAD);
	ASSERT_EQ(dl_device_state(c), DL_STATE_DEAD);
	dl_device_put(d);
	dl_device_put(c);
	free_tree(tree);
}

TEST(remove_while_entered_edeadlk)
{
	struct dl_tree *tree = mktree();
	struct dl_device *p = mkdev(tree, NULL, "p");
	struct dl_device *c = mkdev(tree, p, "p.c");
	struct dl_device *g = mkdev(tree, c, "p.c.g");
	struct dl_device *other = mkdev(tree, NULL, "other");

	ASSERT_EQ(dl_device_enter(p), 0);
	for (unsigned int f = 0; f <= DL_REMOVE_SURPRISE; f++)
		ASSERT_EQ(dl_device_remove(p, f, DL_NO_TIMEOUT), -EDEADLK);
	dl_device_exit(p);

	ASSERT_EQ(dl_device_enter(g), 0);
	for (unsigned int f = 0; f <= DL_REMOVE_SURPRISE; f++) {
		ASSERT_EQ(dl_device_remove(p, f, DL_NO_TIMEOUT), -EDEADLK);
		ASSERT_EQ(dl_device_remove(c, f, 1000000), -EDEADLK);
		ASSERT_EQ(dl_device_remove(g, f, 0), -EDEADLK);
	}
	/* nothing happened */
	ASSERT_EQ(dl_device_state(p), DL_STATE_LIVE);
	ASSERT_FALSE(dl_device_is_gone(g));
	ASSERT_TRUE(findable(tree, p));
	ASSERT_TRUE(enterable(c));
	/* an unrelated device is fine */
	ASSERT_EQ(dl_device_remove(other, DL_REMOVE_WAIT, DL_NO_TIMEOUT), 0);
	dl_device_exit(g);
	ASSERT_EQ(dl_device_remove(p, DL_REMOVE_TRY, 0), 0);
	dl_device_put(p);
	dl_device_put(c);
	dl_device_put(g);
	dl_device_put(other);
	free_tree(tree);
}

struct report {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int count;
	char text[4096];
	struct dl_tree *tree;
};

static void report_cb(struct dl_tree *tree, const char *text, void *arg)
{
	struct report *r = arg;

	pthread_mutex_lock(&r->lock);
	r->tree = tree;
	r->count++;
	snprintf(r->text, sizeof(r->text), "%s", text);
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
}

TEST(drain_report_names_holder)
{
	struct dl_tree *tree = mktree();
	struct dl_device *d = mkdev(tree, NULL, "slowdev");
	struct dl_device *c = mkdev(tree, d, "slowdev.vf0");
	struct report rep = { PTHREAD_MUTEX_INITIALIZER,
			      PTHREAD_COND_INITIALIZER, 0, "", NULL };
	struct gate in = GATE_INIT;
	struct holder h = { .tag = "cfg-read", .name = "holder-x" };
	struct remover rm = REMOVER(d, DL_REMOVE_WAIT);
	pthread_t ht, rt;
	char needle[64];
	struct timespec ts;

	ASSERT_EQ(dl_tree_set_drain_report(NULL, 1, NULL, NULL), -EINVAL);
	ASSERT_EQ(dl_tree_set_drain_report(tree, 2000000, report_cb, &rep),
		  0);
	ht = start_holder(&h, c, &in);
	gate_wait_entered(&in, 1);
	ASSERT_EQ(h.ret, 0);
	gate_open(&in);
	rt = spawn(remove_thread, &rm);

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 20;
	pthread_mutex_lock(&rep.lock);
	while (rep.count == 0)
		if (pthread_cond_timedwait(&rep.cond, &rep.lock, &ts) ==
		    ETIMEDOUT)
			FAIL_AT("no drain report");
	pthread_mutex_unlock(&rep.lock);

	ASSERT_PTR_EQ(rep.tree, tree);
	ASSERT_CONTAINS(rep.text, "removal of slowdev");
	snprintf(needle, sizeof(needle), "thread %d (holder-x)", (int)h.tid);
	ASSERT_CONTAINS(rep.text, needle);
	ASSERT_CONTAINS(rep.text, "slowdev.vf0: thread");
	ASSERT_CONTAINS(rep.text, "holds 1");
	ASSERT_CONTAINS(rep.text, "tag cfg-read");
	ASSERT_CONTAINS(rep.text, "entered at ");
	if (strstr(rep.text, "entered at ?"))
		FAIL_AT("no call site in the report:\n%s", rep.text);
	/* a symbol, or a file and an offset for addr2line: never a bare
	 * address, which means nothing once the process is gone */
	if (strstr(rep.text, "entered at 0x"))
		FAIL_AT("a raw address as the call site:\n%s", rep.text);
	/* still waiting: the report does not end the drain */
	ASSERT_TRUE(still_running(rt, 20));
	gate_open(&h.out);
	join(ht);
	join(rt);
	ASSERT_EQ(rm.ret, 0);
	ASSERT_EQ(rep.count, 1); /* once per wait */
	ASSERT_EQ(trace_count(tree, DL_EV_DRAIN_SLOW, "slowdev"), 1);
	dl_device_put(d);
	dl_device_put(c);
	free_tree(tree);
}

TEST_MAIN(enter_exit_nesting, enter_new_and_dead, many_devices_fallback,
	  concurrent_enter_exit_counts, exit_without_enter_aborts,
	  drain_waits_for_last_exit, remove_while_entered_edeadlk,
	  drain_report_names_holder)
